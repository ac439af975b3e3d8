/* test-queue-crash.c: the queue killed with SIGKILL while it polls a remote
 * task and while it downloads the result. The next start resumes every job
 * from its stored task id: one create per job, no second submission, every
 * take done with its video, nothing half-written left in the library, the
 * database sound.
 *
 * The fake DashScope runs in the test process. The queue runs in a child,
 * this program re-run with --queue-child, which reports what its jobs do on
 * stdout, so the test kills it at a known moment instead of after a guessed
 * delay. The restart then happens in the test process itself, against the
 * same fake.
 */
#include "config.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "fake-dashscope.h"
#include "fake-loop.h"
#include "takes-backend-dashscope.h"
#include "takes-media.h"
#include "takes-queue.h"
#include "test-store-util.h"

#define TEST_KEY "sk-crash-5e4d3c2b1a0f9e8d7c6b"
#define CHILD_ARG "--queue-child"
#define N_JOBS 2
/* A child never outlives its test, even if the test itself hangs. */
#define CHILD_MAX_SECONDS 60
#define VIDEO_WIDTH 96
#define VIDEO_HEIGHT 64
#define VIDEO_FRAMES 16
/* What a held download delivers before the kill. */
#define HOLD_BYTES (4 * 1024)

/* Shared by the child and the test ------------------------------------------------ */

static TakesBackend *
make_backend (const char *dir, const char *base_url)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *downloads = g_build_filename (dir, "downloads", NULL);
  TakesBackendDashscope *backend = takes_backend_dashscope_new ("singapore", &error);

  g_assert_no_error (error);
  takes_backend_dashscope_set_base_url (backend, base_url);
  takes_backend_dashscope_set_api_key (backend, TEST_KEY);
  takes_backend_dashscope_set_download_dir (backend, downloads);
  takes_backend_dashscope_set_poll_interval (backend, 0.02, 0.05);
  return TAKES_BACKEND (backend);
}

static TakesQueue *
make_queue (TakesStore *store, TakesBackend *backend)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesSafety) safety = takes_safety_new ();
  TakesQueue *queue = takes_queue_new (store, &error);

  g_assert_no_error (error);
  takes_queue_set_safety (queue, safety);
  takes_queue_set_retry_policy (queue, 3, 0.05, 0.2);
  takes_queue_add_backend (queue, backend);
  return queue;
}

/* The child ------------------------------------------------------------------------ */

/* One line per change: "job ID STATE TASK-ID DOWNLOADED", where TASK-ID is
 * "-" before the backend accepted the job and DOWNLOADED is 1 once bytes of
 * the result arrived. */
static void
child_job_changed_cb (TakesQueue *queue, TakesJob *job, gpointer user_data)
{
  const char *task = takes_job_get_remote_task_id (job);
  /* DashScope has no progress figure while a task runs: progress means the
   * download has begun. */
  gboolean downloaded = takes_job_get_has_progress (job) && takes_job_get_progress (job) > 0;

  printf ("job %" PRId64 " %s %s %d\n", takes_job_get_id (job),
          takes_job_state_to_string (takes_job_get_state (job)), task != NULL ? task : "-",
          downloaded ? 1 : 0);
  fflush (stdout);
}

static gboolean
child_deadline_cb (gpointer user_data)
{
  g_printerr ("queue child: not killed after %d seconds\n", CHILD_MAX_SECONDS);
  exit (2);
  return G_SOURCE_REMOVE;
}

/* Runs the queue of the library in @dir against @base_url until killed. */
static int
run_child (const char *dir, const char *base_url)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesBackend) backend = NULL;
  g_autoptr (TakesQueue) queue = NULL;

  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () == 1)
    return 3;
  store = takes_store_open (dir, TAKES_STORE_OPEN_EXISTING, &error);
  if (store == NULL)
    {
      g_printerr ("queue child: %s\n", error->message);
      return 4;
    }
  backend = make_backend (dir, base_url);
  queue = make_queue (store, backend);
  g_signal_connect (queue, "job-changed", G_CALLBACK (child_job_changed_cb), NULL);
  g_timeout_add_seconds (CHILD_MAX_SECONDS, child_deadline_cb, NULL);
  takes_queue_start (queue);
  for (;;)
    g_main_context_iteration (NULL, TRUE);
  return 0;
}

/* The test ------------------------------------------------------------------------- */

typedef struct
{
  char *dir;
  FakeDashscope *fake;
  GBytes *video;
  gint64 job_ids[N_JOBS];

  GSubprocess *child;
  GDataInputStream *lines;
  gboolean eof;
  char *tasks[N_JOBS];         /* the task ids the child reported */
  gboolean downloaded[N_JOBS]; /* the child reported bytes of the result */
  guint n_finished;
} Fixture;

/* A real MP4 of noise, so the take's file can be probed, and large enough
 * that a held download stops well short of its end. */
static GBytes *
make_video (const char *dir)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, "source.mp4", NULL);
  g_autoptr (TakesMediaEncoder) encoder
      = takes_media_encoder_new (path, VIDEO_WIDTH, VIDEO_HEIGHT, 16, 1, NULL, &error);
  g_autofree guint8 *rgb = g_malloc (VIDEO_WIDTH * VIDEO_HEIGHT * 3);
  g_autoptr (GRand) rand = g_rand_new_with_seed (11);
  char *data = NULL;
  gsize size = 0;

  g_assert_no_error (error);
  for (guint frame = 0; frame < VIDEO_FRAMES; frame++)
    {
      for (gsize i = 0; i < VIDEO_WIDTH * VIDEO_HEIGHT * 3; i++)
        rgb[i] = (guint8)g_rand_int (rand);
      g_assert_true (takes_media_encoder_push_rgb (encoder, rgb, VIDEO_WIDTH * 3, &error));
      g_assert_no_error (error);
    }
  g_assert_true (takes_media_encoder_finish (encoder, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (path, &data, &size, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_cmpuint (size, >, 4 * HOLD_BYTES);
  return g_bytes_new_take (data, size);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesBackend) backend = NULL;
  g_autoptr (TakesQueue) queue = NULL;
  static const char *const prompts[N_JOBS] = {
    "A paper boat drifting down a rain gutter, close-up",
    "纸船顺着雨水沟漂流，特写",
  };

  f->dir = g_dir_make_tmp ("takes-queue-crash-XXXXXX", &error);
  g_assert_no_error (error);
  f->fake = fake_dashscope_new (TEST_KEY);
  f->video = make_video (f->dir);
  fake_dashscope_set_video (f->fake, f->video, FAKE_OSS_OK);

  /* Queued by one process, run by another: only the library connects them. */
  store = takes_store_open (f->dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  backend = make_backend (f->dir, fake_dashscope_get_base_url (f->fake));
  queue = make_queue (store, backend);
  for (guint i = 0; i < N_JOBS; i++)
    {
      g_autoptr (TakesRecipe) recipe = takes_recipe_new ();

      takes_recipe_set_backend (recipe, "dashscope");
      takes_recipe_set_model (recipe, "wan2.1-t2v-turbo");
      takes_recipe_set_prompt (recipe, prompts[i]);
      takes_recipe_set_width (recipe, 832);
      takes_recipe_set_height (recipe, 480);
      takes_recipe_set_seed (recipe, 40 + i);
      f->job_ids[i] = takes_queue_enqueue (queue, recipe, 0, 0, &error);
      g_assert_no_error (error);
      g_assert_cmpint (f->job_ids[i], >, 0);
    }
  g_assert_finalize_object (g_steal_pointer (&queue));
  g_assert_finalize_object (g_steal_pointer (&store));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  fake_loop_drain ();
  g_clear_object (&f->lines);
  g_clear_object (&f->child);
  for (guint i = 0; i < N_JOBS; i++)
    g_free (f->tasks[i]);
  g_clear_pointer (&f->fake, fake_dashscope_free);
  g_clear_pointer (&f->video, g_bytes_unref);
  store_test_rm_rf (f->dir);
  g_free (f->dir);
}

static int
job_index (Fixture *f, gint64 job_id)
{
  for (guint i = 0; i < N_JOBS; i++)
    if (f->job_ids[i] == job_id)
      return (int)i;
  return -1;
}

static void read_next_line (Fixture *f);

static void
line_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line
      = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, NULL, &error);
  g_auto (GStrv) fields = NULL;
  int index;

  g_assert_no_error (error);
  if (line == NULL)
    {
      f->eof = TRUE;
      return;
    }
  g_test_message ("child: %s", line);
  /* GLib writes the child's debug messages to stdout too. */
  if (!g_str_has_prefix (line, "job "))
    {
      read_next_line (f);
      return;
    }
  fields = g_strsplit (line, " ", -1);
  g_assert_cmpuint (g_strv_length (fields), ==, 5);
  index = job_index (f, g_ascii_strtoll (fields[1], NULL, 10));
  g_assert_cmpint (index, >=, 0);
  if (!g_str_equal (fields[3], "-"))
    {
      g_assert_true (f->tasks[index] == NULL || g_str_equal (f->tasks[index], fields[3]));
      g_free (f->tasks[index]);
      f->tasks[index] = g_strdup (fields[3]);
    }
  if (g_str_equal (fields[4], "1"))
    f->downloaded[index] = TRUE;
  read_next_line (f);
}

static void
read_next_line (Fixture *f)
{
  g_data_input_stream_read_line_async (f->lines, G_PRIORITY_DEFAULT, NULL, line_cb, f);
}

static void
spawn_child (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *self_exe = g_file_read_link ("/proc/self/exe", &error);

  g_assert_no_error (error);
  f->child = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, self_exe, CHILD_ARG, f->dir,
                               fake_dashscope_get_base_url (f->fake), NULL);
  g_assert_no_error (error);
  f->lines = g_data_input_stream_new (g_subprocess_get_stdout_pipe (f->child));
  read_next_line (f);
}

typedef gboolean (*Condition) (Fixture *f);

/* Serves the fake and reads the child until @condition holds (both change
 * only in this loop, so it is checked after every event); a child that ends
 * on its own fails the test. */
static void
wait_for (Fixture *f, Condition condition)
{
  guint guard = g_timeout_add_seconds (FAKE_LOOP_TIMEOUT_S, fake_loop_timeout_cb, NULL);

  while (!condition (f))
    {
      if (f->eof)
        g_error ("The queue child ended before the moment the test waits for");
      g_main_context_iteration (NULL, TRUE);
    }
  g_source_remove (guard);
}

static void
kill_child (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  g_subprocess_force_exit (f->child);
  g_assert_true (g_subprocess_wait (f->child, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (g_subprocess_get_if_exited (f->child));
  g_assert_cmpint (g_subprocess_get_term_sig (f->child), ==, SIGKILL);
  /* Whatever it wrote before dying, up to the end of the pipe. */
  while (!f->eof)
    g_main_context_iteration (NULL, TRUE);
}

static char *
query_string (const char *dir, const char *sql, gint64 id)
{
  g_autofree char *path = g_build_filename (dir, "library.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  char *value = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_bind_int64 (stmt, 1, id), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW && sqlite3_column_type (stmt, 0) != SQLITE_NULL)
    value = g_strdup ((const char *)sqlite3_column_text (stmt, 0));
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static void
assert_integrity (Fixture *f)
{
  g_autofree char *path = g_build_filename (f->dir, "library.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA integrity_check", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  g_assert_cmpstr ((const char *)sqlite3_column_text (stmt, 0), ==, "ok");
  sqlite3_finalize (stmt);
  sqlite3_close (db);
}

/* What the killed child left: every job running with the task the fake
 * created for it, on disk, and no take with a video yet. */
static void
assert_left_running (Fixture *f)
{
  assert_integrity (f);
  for (guint i = 0; i < N_JOBS; i++)
    {
      g_autofree char *state = query_string (f->dir, "SELECT state FROM jobs WHERE id = ?1", f->job_ids[i]);
      g_autofree char *task
          = query_string (f->dir, "SELECT remote_task_id FROM jobs WHERE id = ?1", f->job_ids[i]);
      g_autofree char *media = query_string (
          f->dir, "SELECT media_path FROM takes WHERE id = (SELECT take_id FROM jobs WHERE id = ?1)",
          f->job_ids[i]);

      g_assert_cmpstr (state, ==, "running");
      g_assert_nonnull (f->tasks[i]);
      g_assert_cmpstr (task, ==, f->tasks[i]);
      g_assert_null (media);
    }
  g_assert_cmpuint (fake_dashscope_get_n_creates (f->fake), ==, N_JOBS);
}

static void
finished_cb (TakesQueue *queue, TakesJob *job, gpointer user_data)
{
  ((Fixture *)user_data)->n_finished++;
}

/* Starts the queue again in this process and checks that it finished what
 * the child began, from the stored task ids. */
static void
restart_and_check (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesBackend) backend = NULL;
  g_autoptr (TakesQueue) queue = NULL;
  g_autoptr (GPtrArray) media_files = NULL;
  g_autoptr (GPtrArray) downloads = NULL;
  g_autofree char *media_dir = g_build_filename (f->dir, "media", NULL);
  g_autofree char *downloads_dir = g_build_filename (f->dir, "downloads", NULL);
  guint queries[N_JOBS];
  guint guard;

  for (guint i = 0; i < N_JOBS; i++)
    queries[i] = fake_dashscope_get_task_queries (f->fake, f->tasks[i]);
  store = takes_store_open (f->dir, TAKES_STORE_OPEN_EXISTING, &error);
  g_assert_no_error (error);
  backend = make_backend (f->dir, fake_dashscope_get_base_url (f->fake));
  queue = make_queue (store, backend);
  g_signal_connect (queue, "job-finished", G_CALLBACK (finished_cb), f);
  takes_queue_start (queue);
  guard = g_timeout_add_seconds (FAKE_LOOP_TIMEOUT_S, fake_loop_timeout_cb, NULL);
  while (f->n_finished < N_JOBS)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (guard);

  /* Resumed by polling, never submitted again. */
  g_assert_cmpuint (fake_dashscope_get_n_creates (f->fake), ==, N_JOBS);
  for (guint i = 0; i < N_JOBS; i++)
    {
      TakesJob *job = takes_queue_lookup_job (queue, f->job_ids[i]);
      g_autoptr (TakesTake) take = NULL;
      g_autofree char *file = NULL;
      g_autofree char *contents = NULL;
      g_autoptr (TakesMediaInfo) info = NULL;
      g_autofree char *billed = NULL;
      gsize length = 0;

      g_assert_nonnull (job);
      g_assert_cmpint (takes_job_get_state (job), ==, TAKES_JOB_STATE_DONE);
      g_assert_cmpuint (takes_job_get_attempts (job), ==, 1);
      g_assert_cmpstr (takes_job_get_remote_task_id (job), ==, f->tasks[i]);
      g_assert_cmpuint (fake_dashscope_get_task_queries (f->fake, f->tasks[i]), >, queries[i]);

      take = takes_store_get_take (store, takes_job_get_take_id (job), &error);
      g_assert_no_error (error);
      g_assert_cmpint (takes_take_get_status (take), ==, TAKES_TAKE_STATUS_DONE);
      file = takes_store_get_media_file (store, take);
      g_assert_nonnull (file);
      g_assert_true (g_file_get_contents (file, &contents, &length, &error));
      g_assert_no_error (error);
      g_assert_cmpmem (contents, length, g_bytes_get_data (f->video, NULL), g_bytes_get_size (f->video));
      info = takes_media_probe (file, &error);
      g_assert_no_error (error);
      g_assert_cmpint (info->width, ==, VIDEO_WIDTH);
      g_assert_cmpint (info->height, ==, VIDEO_HEIGHT);
      g_assert_cmpuint (info->n_frames, ==, VIDEO_FRAMES);
      /* Billed once. */
      billed = query_string (f->dir, "SELECT count(*) FROM ledger WHERE take_id = ?1",
                             takes_job_get_take_id (job));
      g_assert_cmpstr (billed, ==, "1");
    }
  takes_queue_stop (queue);
  fake_loop_drain ();
  g_assert_finalize_object (g_steal_pointer (&queue));
  g_assert_finalize_object (g_steal_pointer (&store));

  /* One video per take in the library, nothing half-written anywhere. */
  media_files = store_test_list_files (media_dir);
  g_assert_cmpuint (media_files->len, ==, N_JOBS);
  /* Nothing half-written is left in downloads/: the restart removed the
   * temporary files of the downloads killed with their process. */
  downloads = store_test_list_files (downloads_dir);
  for (guint i = 0; i < downloads->len; i++)
    g_test_message ("left in downloads/: %s", (const char *)g_ptr_array_index (downloads, i));
  g_assert_cmpuint (downloads->len, ==, 0);
  assert_integrity (f);
}

static gboolean
polled_cond (Fixture *f)
{
  for (guint i = 0; i < N_JOBS; i++)
    if (f->tasks[i] == NULL || fake_dashscope_get_task_queries (f->fake, f->tasks[i]) < 1)
      return FALSE;
  return TRUE;
}

/* Killed while the tasks run remotely: the restart polls the same tasks. */
static void
test_queue_crash_mid_poll (Fixture *f, gconstpointer data)
{
  const char *running[] = { "RUNNING", NULL };
  const char *succeeded[] = { "SUCCEEDED", NULL };

  fake_dashscope_set_statuses (f->fake, running);
  spawn_child (f);
  wait_for (f, polled_cond);
  kill_child (f);
  assert_left_running (f);

  fake_dashscope_set_statuses (f->fake, succeeded);
  restart_and_check (f);
}

static gboolean
downloading_cond (Fixture *f)
{
  if (fake_dashscope_get_n_held (f->fake) < N_JOBS)
    return FALSE;
  for (guint i = 0; i < N_JOBS; i++)
    if (!f->downloaded[i])
      return FALSE;
  return TRUE;
}

/* Killed with part of each result on this side and the rest held by the
 * server: the restart asks for the task again and downloads it whole. */
static void
test_queue_crash_mid_download (Fixture *f, gconstpointer data)
{
  const char *succeeded[] = { "PENDING", "SUCCEEDED", NULL };

  fake_dashscope_set_statuses (f->fake, succeeded);
  fake_dashscope_set_video_hold (f->fake, HOLD_BYTES);
  spawn_child (f);
  wait_for (f, downloading_cond);
  kill_child (f);
  assert_left_running (f);

  fake_dashscope_set_video_hold (f->fake, 0);
  restart_and_check (f);
}

int
main (int argc, char **argv)
{
  if (argc == 4 && g_str_equal (argv[1], CHILD_ARG))
    return run_child (argv[2], argv[3]);

  g_test_init (&argc, &argv, NULL);

#define ADD(path, func)                                                                                      \
  g_test_add ("/queue/crash/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("sigkill-mid-poll-resumes-the-task", test_queue_crash_mid_poll);
  ADD ("sigkill-mid-download-resumes-the-task", test_queue_crash_mid_download);
#undef ADD

  return g_test_run ();
}
