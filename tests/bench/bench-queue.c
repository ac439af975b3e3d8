/* bench-queue.c: the job queue at 1,000 jobs.
 *
 * Three runs of the same number of jobs, each into a fresh library on disk:
 *   queue          TakesQueue with an instant backend defined here (no
 *                  network): what the queue itself costs per job, the safety
 *                  check, store writes and the move into media/ included.
 *   takes-server   TakesQueue with the registry's "takes-server" backend (the
 *                  DashScope client and the shipped models file) against a
 *                  takes-server on loopback that serves the instant backend,
 *                  polled without delay.
 *   fake DashScope TakesQueue with the DashScope backend against the fake
 *                  DashScope server of the tests, polled without delay.
 * The peer of each run, measured just before it, submits the same jobs
 * straight to the same backend with the same concurrency, with no queue and
 * no library: the difference is the queue's overhead per job. The servers
 * run in this process, so their work is in both figures.
 *
 * Each run prints milliseconds per job and jobs per second for both, the
 * peak RSS (getrusage) after it, and how much the resident memory grew per
 * 1,000 jobs while the queue still held them.
 *
 * TAKES_BENCH_JOBS overrides the number of jobs (default 1000).
 */
#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../core/fake-dashscope.h"
#include "takes-backend-dashscope.h"
#include "takes-backend-registry.h"
#include "takes-media.h"
#include "takes-queue.h"
#include "takes-server.h"

#define DEFAULT_JOBS 1000
#define INSTANT_CONCURRENCY 4
#define BENCH_KEY "sk-bench-queue-0a1b2c3d4e5f"
#define BENCH_TOKEN "tk-bench-queue-0a1b2c3d4e5f"
/* Longer than any run needs: reaching it means a hang. */
#define RUN_TIMEOUT_S 600

/* An instant backend ---------------------------------------------------------- */

/* Makes every take at once: a copy of one small MP4, written to its own
 * file as a real backend's result would be. */
#define BENCH_TYPE_INSTANT (bench_instant_get_type ())
G_DECLARE_FINAL_TYPE (BenchInstant, bench_instant, BENCH, INSTANT, GObject)

struct _BenchInstant
{
  GObject parent_instance;
  char *dir;
  GBytes *video;
  guint counter;
};

static void bench_instant_iface_init (TakesBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (BenchInstant,
                               bench_instant,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TAKES_TYPE_BACKEND, bench_instant_iface_init))

static void
bench_instant_finalize (GObject *object)
{
  BenchInstant *self = BENCH_INSTANT (object);

  g_free (self->dir);
  g_bytes_unref (self->video);
  G_OBJECT_CLASS (bench_instant_parent_class)->finalize (object);
}

static void
bench_instant_class_init (BenchInstantClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bench_instant_finalize;
}

static void
bench_instant_init (BenchInstant *self)
{
}

static BenchInstant *
bench_instant_new (const char *dir, GBytes *video)
{
  BenchInstant *self = g_object_new (BENCH_TYPE_INSTANT, NULL);

  self->dir = g_strdup (dir);
  self->video = g_bytes_ref (video);
  return self;
}

static const char *
bench_instant_get_id (TakesBackend *backend)
{
  return "instant";
}

static TakesBackendCapabilities *
bench_instant_get_capabilities (TakesBackend *backend)
{
  TakesBackendCapabilities *caps = takes_backend_capabilities_new ();
  TakesBackendModelCaps *model = takes_backend_capabilities_add_model (caps, "tiny", "Instant");

  caps->max_concurrent_jobs = INSTANT_CONCURRENCY;
  caps->negative_prompt = TRUE;
  caps->seed = TRUE;
  model->size_step = 16;
  model->min_side = 16;
  model->max_side = 1024;
  model->min_frames = 1;
  model->max_frames = 201;
  model->frame_step = 4;
  model->fps = 16;
  model->price_per_second = 0;
  return caps;
}

static void
bench_instant_check_available_async (TakesBackend *backend,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (backend, cancellable, callback, user_data);

  g_task_return_boolean (task, TRUE);
}

static gboolean
bench_instant_check_available_finish (TakesBackend *backend, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static gboolean
instant_complete_cb (gpointer user_data)
{
  TakesBackendJob *job = user_data;
  BenchInstant *self = g_object_get_data (G_OBJECT (job), "bench-instant");
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;

  if (takes_backend_job_is_finished (job))
    return G_SOURCE_REMOVE;
  name = g_strdup_printf ("instant-%u.mp4", ++self->counter);
  path = g_build_filename (self->dir, name, NULL);
  if (!g_file_set_contents (path, g_bytes_get_data (self->video, NULL),
                            (gssize)g_bytes_get_size (self->video), &error))
    {
      takes_backend_job_fail (
          job, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER, error->message));
      return G_SOURCE_REMOVE;
    }
  takes_backend_job_set_seconds_spent (job, 0.001);
  takes_backend_job_set_cost (job, 0, NULL);
  takes_backend_job_succeed (job, path);
  return G_SOURCE_REMOVE;
}

static void
bench_instant_submit_async (TakesBackend *backend,
                            TakesRecipe *recipe,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  BenchInstant *self = BENCH_INSTANT (backend);
  g_autoptr (GTask) task = g_task_new (backend, cancellable, callback, user_data);
  g_autoptr (TakesBackendJob) job = takes_backend_job_new ("instant", recipe);
  g_autofree char *remote = g_strdup_printf ("instant-task-%u", self->counter + 1);

  takes_backend_job_set_remote_task_id (job, remote);
  takes_backend_job_set_state (job, TAKES_BACKEND_JOB_STATE_RUNNING);
  g_object_set_data_full (G_OBJECT (job), "bench-instant", g_object_ref (self), g_object_unref);
  /* At the priority of network traffic: a client polling without delay
   * keeps the loop busy enough to starve idle sources. */
  g_idle_add_full (G_PRIORITY_DEFAULT, instant_complete_cb, g_object_ref (job), g_object_unref);
  g_task_return_pointer (task, g_steal_pointer (&job), g_object_unref);
}

static TakesBackendJob *
bench_instant_submit_finish (TakesBackend *backend, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Its takes end at once, so a stored task is one that never finished. */
static void
bench_instant_resume_async (TakesBackend *backend,
                            TakesRecipe *recipe,
                            const char *remote_task_id,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (backend, cancellable, callback, user_data);

  g_task_return_new_error (task, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NOT_FOUND,
                           "The instant backend has no task “%s”.", remote_task_id);
}

static void
bench_instant_iface_init (TakesBackendInterface *iface)
{
  iface->get_id = bench_instant_get_id;
  iface->get_display_name = bench_instant_get_id;
  iface->get_capabilities = bench_instant_get_capabilities;
  iface->check_available_async = bench_instant_check_available_async;
  iface->check_available_finish = bench_instant_check_available_finish;
  iface->submit_async = bench_instant_submit_async;
  iface->submit_finish = bench_instant_submit_finish;
  iface->resume_async = bench_instant_resume_async;
  iface->resume_finish = bench_instant_submit_finish;
}

/* Measuring ------------------------------------------------------------------- */

static double
ms_since (gint64 start)
{
  return (g_get_monotonic_time () - start) / 1000.0;
}

static double
rss_mib (void)
{
  g_autofree char *statm = NULL;
  unsigned long size = 0, resident = 0;

  if (!g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL)
      || sscanf (statm, "%lu %lu", &size, &resident) != 2)
    return 0;
  return resident * (double)sysconf (_SC_PAGESIZE) / (1024.0 * 1024.0);
}

static double
peak_rss_mib (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

static gboolean
timeout_cb (gpointer user_data)
{
  g_error ("A run took longer than %d seconds", RUN_TIMEOUT_S);
  return G_SOURCE_REMOVE;
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

/* The recipe of job @i; every one differs, so none is served from the cache. */
typedef TakesRecipe *(*RecipeFunc) (guint i);

static TakesRecipe *
tiny_recipe (guint i)
{
  TakesRecipe *recipe = takes_recipe_new ();
  g_autofree char *prompt = g_strdup_printf ("A paper boat drifting down a rain gutter, take %u", i);

  takes_recipe_set_backend (recipe, "instant");
  takes_recipe_set_model (recipe, "tiny");
  takes_recipe_set_prompt (recipe, prompt);
  takes_recipe_set_width (recipe, 64);
  takes_recipe_set_height (recipe, 64);
  takes_recipe_set_frames (recipe, 17);
  takes_recipe_set_fps (recipe, 16);
  takes_recipe_set_seed (recipe, i);
  return recipe;
}

static TakesRecipe *
server_recipe (guint i)
{
  TakesRecipe *recipe = tiny_recipe (i);

  takes_recipe_set_backend (recipe, "takes-server");
  return recipe;
}

static TakesRecipe *
dashscope_recipe (guint i)
{
  TakesRecipe *recipe = tiny_recipe (i);

  takes_recipe_set_backend (recipe, "dashscope");
  takes_recipe_set_model (recipe, "wan2.1-t2v-turbo");
  takes_recipe_set_width (recipe, 832);
  takes_recipe_set_height (recipe, 480);
  takes_recipe_set_frames (recipe, 81);
  return recipe;
}

/* The peer: straight to the backend ------------------------------------------- */

typedef struct
{
  TakesBackend *backend;
  RecipeFunc make_recipe;
  guint n_jobs;
  guint limit;
  guint submitted;
  guint finished;
  guint failed;
  guint in_flight;
} Direct;

static void direct_fill (Direct *direct);

static void
direct_wait_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Direct *direct = user_data;
  TakesBackendJob *job = TAKES_BACKEND_JOB (source);
  g_autoptr (GError) error = NULL;

  if (takes_backend_job_wait_finish (job, result, &error))
    g_unlink (takes_backend_job_get_result_path (job));
  else
    {
      if (direct->failed++ == 0)
        g_printerr ("peer: %s\n", error->message);
    }
  g_object_unref (job);
  direct->finished++;
  direct->in_flight--;
  direct_fill (direct);
}

static void
direct_submit_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Direct *direct = user_data;
  g_autoptr (GError) error = NULL;
  TakesBackendJob *job = takes_backend_submit_finish (TAKES_BACKEND (source), result, &error);

  if (job == NULL)
    {
      if (direct->failed++ == 0)
        g_printerr ("peer: %s\n", error->message);
      direct->finished++;
      direct->in_flight--;
      direct_fill (direct);
      return;
    }
  takes_backend_job_wait_async (job, NULL, direct_wait_cb, direct);
}

static void
direct_fill (Direct *direct)
{
  while (direct->in_flight < direct->limit && direct->submitted < direct->n_jobs)
    {
      g_autoptr (TakesRecipe) recipe = direct->make_recipe (direct->submitted);

      direct->submitted++;
      direct->in_flight++;
      takes_backend_submit_async (direct->backend, recipe, NULL, direct_submit_cb, direct);
    }
}

/* Milliseconds per job, submitting @n_jobs with at most @limit at once. */
static double
run_direct (TakesBackend *backend, RecipeFunc make_recipe, guint n_jobs, guint limit)
{
  Direct direct = { backend, make_recipe, n_jobs, limit, 0, 0, 0, 0 };
  gint64 start = g_get_monotonic_time ();
  guint guard = g_timeout_add_seconds (RUN_TIMEOUT_S, timeout_cb, NULL);

  direct_fill (&direct);
  while (direct.finished < n_jobs)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (guard);
  if (direct.failed > 0)
    g_error ("%u of %u jobs failed without the queue", direct.failed, n_jobs);
  return ms_since (start) / n_jobs;
}

/* The queue -------------------------------------------------------------------- */

typedef struct
{
  double enqueue_ms; /* per job */
  double run_ms;     /* per job, from start to the last one done */
  double growth_mib; /* resident memory added per 1,000 jobs while the queue holds them */
  double peak_mib;
} QueueFigures;

static void
finished_cb (TakesQueue *queue, TakesJob *job, gpointer user_data)
{
  guint *counts = user_data;

  counts[0]++;
  if (takes_job_get_state (job) != TAKES_JOB_STATE_DONE && counts[1]++ == 0)
    g_printerr ("queue: %s\n", takes_job_get_last_error (job));
}

static QueueFigures
run_queue (const char *dir, TakesBackend *backend, RecipeFunc make_recipe, guint n_jobs)
{
  g_autofree char *library = g_build_filename (dir, "library", NULL);
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesQueue) queue = NULL;
  g_autoptr (GError) error = NULL;
  QueueFigures figures = { 0 };
  guint counts[2] = { 0, 0 };
  double rss_before;
  gint64 start;
  guint guard;

  rss_before = rss_mib ();
  store = takes_store_open (library, TAKES_STORE_OPEN_DEFAULT, &error);
  if (store == NULL)
    g_error ("Could not make a library: %s", error->message);
  queue = takes_queue_new (store, &error);
  if (queue == NULL)
    g_error ("Could not make a queue: %s", error->message);
  takes_queue_add_backend (queue, backend);
  g_signal_connect (queue, "job-finished", G_CALLBACK (finished_cb), counts);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < n_jobs; i++)
    {
      g_autoptr (TakesRecipe) recipe = make_recipe (i);

      if (takes_queue_enqueue (queue, recipe, 0, 0, &error) == 0)
        g_error ("Could not queue job %u: %s", i, error->message);
    }
  figures.enqueue_ms = ms_since (start) / n_jobs;

  start = g_get_monotonic_time ();
  guard = g_timeout_add_seconds (RUN_TIMEOUT_S, timeout_cb, NULL);
  takes_queue_start (queue);
  while (counts[0] < n_jobs)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (guard);
  figures.run_ms = ms_since (start) / n_jobs;
  if (counts[1] > 0)
    g_error ("%u of %u jobs failed in the queue", counts[1], n_jobs);
  figures.growth_mib = (rss_mib () - rss_before) * 1000.0 / n_jobs;
  figures.peak_mib = peak_rss_mib ();

  takes_queue_stop (queue);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  return figures;
}

static void
report (const char *name, double peer_ms, QueueFigures *q)
{
  double queue_ms = q->enqueue_ms + q->run_ms;

  printf ("%s\n", name);
  printf ("  peer, no queue      %8.3f ms/job  %8.0f jobs/s\n", peer_ms, 1000.0 / peer_ms);
  printf ("  queue: enqueue      %8.3f ms/job\n", q->enqueue_ms);
  printf ("  queue: run          %8.3f ms/job  %8.0f jobs/s\n", q->run_ms, 1000.0 / q->run_ms);
  printf ("  queue: total        %8.3f ms/job  (%.2fx the peer; overhead %.3f ms/job)\n", queue_ms,
          queue_ms / peer_ms, queue_ms - peer_ms);
  printf ("  peak RSS %.1f MiB; RSS growth %.2f MiB per 1,000 jobs\n\n", q->peak_mib, q->growth_mib);
  fflush (stdout);
}

/* A real, small MP4: what the instant backend hands back. */
static GBytes *
make_video (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, "tiny.mp4", NULL);
  g_autoptr (TakesMediaEncoder) encoder = takes_media_encoder_new (path, 64, 64, 16, 1, NULL, &error);
  g_autofree guint8 *rgb = g_malloc0 (64 * 64 * 3);
  char *data = NULL;
  gsize size = 0;

  for (guint frame = 0; encoder != NULL && frame < 17; frame++)
    {
      memset (rgb, (int)(frame * 15), 64 * 64 * 3);
      if (!takes_media_encoder_push_rgb (encoder, rgb, 64 * 3, &error))
        break;
    }
  if (encoder == NULL || error != NULL || !takes_media_encoder_finish (encoder, &error)
      || !g_file_get_contents (path, &data, &size, &error))
    g_error ("Could not make the benchmark's video: %s", error->message);
  g_unlink (path);
  return g_bytes_new_take (data, size);
}

static void
bench_queue_alone (const char *root, GBytes *video, guint n_jobs)
{
  g_autofree char *dir = g_build_filename (root, "queue", NULL);
  g_autofree char *out = g_build_filename (dir, "backend", NULL);
  g_autoptr (BenchInstant) instant = NULL;
  QueueFigures figures;
  double peer;

  g_mkdir_with_parents (out, 0700);
  instant = bench_instant_new (out, video);
  peer = run_direct (TAKES_BACKEND (instant), tiny_recipe, n_jobs, INSTANT_CONCURRENCY);
  figures = run_queue (dir, TAKES_BACKEND (instant), tiny_recipe, n_jobs);
  report ("queue with an instant backend (no network)", peer, &figures);
  remove_tree (dir);
}

static void
bench_takes_server (const char *root, GBytes *video, guint n_jobs)
{
  g_autofree char *dir = g_build_filename (root, "takes-server", NULL);
  g_autofree char *out = g_build_filename (dir, "backend", NULL);
  g_autofree char *server_dir = g_build_filename (dir, "server", NULL);
  g_autofree char *library = g_build_filename (dir, "library", NULL);
  g_autoptr (BenchInstant) instant = NULL;
  g_autoptr (TakesServer) server = NULL;
  g_autoptr (TakesBackend) client = NULL;
  g_autoptr (GError) error = NULL;
  QueueFigures figures;
  double peer;

  g_mkdir_with_parents (out, 0700);
  instant = bench_instant_new (out, video);
  server = takes_server_new (TAKES_BACKEND (instant), server_dir);
  takes_server_set_token (server, BENCH_TOKEN);
  if (!takes_server_listen (server, "127.0.0.1", 0, &error))
    g_error ("Could not start takes-server: %s", error->message);
  /* Made the way the studio makes it; downloads land in the run's library. */
  g_setenv ("TAKES_DATA_DIR", library, TRUE);
  g_setenv ("TAKES_SERVER_URL", takes_server_get_origin (server), TRUE);
  g_setenv ("TAKES_SERVER_TOKEN", BENCH_TOKEN, TRUE);
  client = takes_backend_registry_create ("takes-server", NULL, &error);
  if (client == NULL)
    g_error ("Could not make the takes-server backend: %s", error->message);
  takes_backend_dashscope_set_poll_interval (TAKES_BACKEND_DASHSCOPE (client), 0, 0);

  peer = run_direct (client, server_recipe, n_jobs, takes_server_get_max_concurrent (server));
  figures = run_queue (dir, client, server_recipe, n_jobs);
  report ("queue → takes-server on loopback (instant backend, no poll delay)", peer, &figures);

  g_clear_object (&client);
  takes_server_shutdown (server);
  g_clear_object (&server);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_unsetenv ("TAKES_SERVER_URL");
  g_unsetenv ("TAKES_SERVER_TOKEN");
  g_unsetenv ("TAKES_DATA_DIR");
  remove_tree (dir);
}

static void
bench_fake_dashscope (const char *root, GBytes *video, guint n_jobs)
{
  g_autofree char *dir = g_build_filename (root, "dashscope", NULL);
  g_autofree char *downloads = g_build_filename (dir, "library", "downloads", NULL);
  g_autoptr (FakeDashscope) fake = fake_dashscope_new (BENCH_KEY);
  g_autoptr (TakesBackendDashscope) dashscope = NULL;
  g_autoptr (TakesBackendCapabilities) caps = NULL;
  g_autoptr (GError) error = NULL;
  const char *succeeded[] = { "SUCCEEDED", NULL };
  QueueFigures figures;
  double peer;

  fake_dashscope_set_statuses (fake, succeeded);
  fake_dashscope_set_video (fake, video, FAKE_OSS_OK);
  dashscope = takes_backend_dashscope_new ("singapore", &error);
  if (dashscope == NULL)
    g_error ("Could not make the DashScope backend: %s", error->message);
  takes_backend_dashscope_set_base_url (dashscope, fake_dashscope_get_base_url (fake));
  takes_backend_dashscope_set_api_key (dashscope, BENCH_KEY);
  takes_backend_dashscope_set_download_dir (dashscope, downloads);
  takes_backend_dashscope_set_poll_interval (dashscope, 0, 0);
  caps = takes_backend_get_capabilities (TAKES_BACKEND (dashscope));

  peer = run_direct (TAKES_BACKEND (dashscope), dashscope_recipe, n_jobs, MAX (caps->max_concurrent_jobs, 1));
  figures = run_queue (dir, TAKES_BACKEND (dashscope), dashscope_recipe, n_jobs);
  report ("queue → fake DashScope on loopback (no poll delay)", peer, &figures);
  g_clear_object (&dashscope);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  remove_tree (dir);
}

int
main (int argc, char **argv)
{
  const char *env = g_getenv ("TAKES_BENCH_JOBS");
  guint n_jobs = env != NULL ? (guint)g_ascii_strtoull (env, NULL, 10) : DEFAULT_JOBS;
  g_autoptr (GError) error = NULL;
  g_autofree char *root = g_dir_make_tmp ("takes-bench-queue-XXXXXX", &error);
  g_autoptr (GBytes) video = NULL;

  if (root == NULL)
    g_error ("%s", error->message);
  if (n_jobs == 0)
    n_jobs = DEFAULT_JOBS;
  video = make_video (root);
  printf ("Takes queue benchmark: %u jobs per run, results of %zu bytes, libraries in %s\n\n", n_jobs,
          g_bytes_get_size (video), root);
  printf ("start: RSS %.1f MiB\n\n", rss_mib ());
  bench_queue_alone (root, video, n_jobs);
  bench_takes_server (root, video, n_jobs);
  bench_fake_dashscope (root, video, n_jobs);
  remove_tree (root);
  return 0;
}
