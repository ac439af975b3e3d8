/* test-queue.c: the persistent queue against a scripted backend and the
 * DashScope fake on loopback. */
#include "config.h"

#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "fake-dashscope.h"
#include "fake-loop.h"
#include "queue-test-backend.h"
#include "takes-backend-dashscope.h"
#include "takes-ledger.h"
#include "takes-queue.h"
#include "takes-store-safety.h"
#include "test-store-util.h"

#define TEST_KEY "sk-queue-7f6e5d4c3b2a19080706"

typedef struct
{
  char *dir;
  char *downloads;
  TakesStore *store;
  TakesQueue *queue;
  TestBackend *backend;
  guint n_finished;
} Fixture;

static void
finished_cb (TakesQueue *queue, TakesJob *job, gpointer user_data)
{
  ((Fixture *)user_data)->n_finished++;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesSafety) safety = takes_safety_new ();

  f->dir = g_dir_make_tmp ("takes-queue-XXXXXX", &error);
  g_assert_no_error (error);
  f->downloads = g_build_filename (f->dir, "downloads", NULL);
  g_mkdir_with_parents (f->downloads, 0700);
  f->store = takes_store_open (f->dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  f->queue = takes_queue_new (f->store, &error);
  g_assert_no_error (error);
  g_assert_true (takes_safety_load_data (safety, "forbiddenword | word | test\n", -1, "test list", &error));
  g_assert_no_error (error);
  takes_queue_set_safety (f->queue, safety);
  takes_queue_set_retry_policy (f->queue, 3, 0.01, 0.05);
  f->backend = test_backend_new ("test", f->downloads, 1);
  takes_queue_add_backend (f->queue, TAKES_BACKEND (f->backend));
  g_signal_connect (f->queue, "job-finished", G_CALLBACK (finished_cb), f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  takes_queue_stop (f->queue);
  fake_loop_drain ();
  g_assert_finalize_object (f->queue);
  g_assert_finalize_object (f->store);
  g_object_unref (f->backend);
  store_test_rm_rf (f->dir);
  g_free (f->downloads);
  g_free (f->dir);
}

static TakesRecipe *
make_recipe (const char *backend, const char *prompt)
{
  TakesRecipe *recipe = takes_recipe_new ();

  takes_recipe_set_backend (recipe, backend);
  takes_recipe_set_model (recipe, "test-model");
  takes_recipe_set_prompt (recipe, prompt);
  takes_recipe_set_seed (recipe, 7);
  return recipe;
}

static gint64
enqueue (Fixture *f, const char *prompt, int priority)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("test", prompt);
  g_autoptr (GError) error = NULL;
  gint64 id = takes_queue_enqueue (f->queue, recipe, 0, priority, &error);

  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);
  return id;
}

static void
run_until_finished (Fixture *f, guint n)
{
  guint guard = g_timeout_add_seconds (FAKE_LOOP_TIMEOUT_S, fake_loop_timeout_cb, NULL);

  while (f->n_finished < n)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (guard);
}

static TakesJobState
job_state (Fixture *f, gint64 id)
{
  return takes_job_get_state (takes_queue_lookup_job (f->queue, id));
}

static char *
joined_prompts (TestBackend *backend)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < backend->prompts->len; i++)
    g_string_append_printf (out, "%s%s", i > 0 ? "," : "", (char *)g_ptr_array_index (backend->prompts, i));
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Order, pause, cancel ------------------------------------------------------------ */

static void
test_queue_priority_order (Fixture *f, gconstpointer data)
{
  g_autofree char *order = NULL;

  enqueue (f, "a", 0);
  enqueue (f, "b", 5);
  enqueue (f, "c", 0);
  enqueue (f, "d", 5);
  enqueue (f, "e", -1);
  takes_queue_start (f->queue);
  run_until_finished (f, 5);
  order = joined_prompts (f->backend);
  g_assert_cmpstr (order, ==, "b,d,a,c,e");
  g_assert_cmpuint (takes_queue_get_n_active (f->queue), ==, 0);
  g_assert_cmpint (store_test_query_int (f->dir, "SELECT count(*) FROM takes WHERE status = 'done' AND "
                                                 "media_path IS NOT NULL"),
                   ==, 5);
}

static void
test_queue_pause_whole_queue (Fixture *f, gconstpointer data)
{
  gint64 id;

  takes_queue_pause (f->queue);
  takes_queue_start (f->queue);
  id = enqueue (f, "waits while paused", 0);
  fake_loop_drain ();
  g_assert_cmpuint (f->backend->n_submits, ==, 0);
  g_assert_cmpint (job_state (f, id), ==, TAKES_JOB_STATE_QUEUED);
  takes_queue_resume (f->queue);
  run_until_finished (f, 1);
  g_assert_cmpint (job_state (f, id), ==, TAKES_JOB_STATE_DONE);
}

static void
test_queue_pause_one_job (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 held = enqueue (f, "held", 10);
  gint64 other = enqueue (f, "other", 0);

  g_assert_true (takes_queue_pause_job (f->queue, held, &error));
  g_assert_no_error (error);
  g_assert_cmpint (store_test_query_int (f->dir, "SELECT count(*) FROM jobs WHERE state = 'paused'"), ==, 1);
  takes_queue_start (f->queue);
  run_until_finished (f, 1);
  g_assert_cmpint (job_state (f, other), ==, TAKES_JOB_STATE_DONE);
  g_assert_cmpint (job_state (f, held), ==, TAKES_JOB_STATE_PAUSED);
  g_assert_true (takes_queue_resume_job (f->queue, held, &error));
  run_until_finished (f, 2);
  g_assert_cmpint (job_state (f, held), ==, TAKES_JOB_STATE_DONE);
  /* A finished job cannot be paused. */
  g_assert_false (takes_queue_pause_job (f->queue, held, &error));
  g_assert_error (error, TAKES_QUEUE_ERROR, TAKES_QUEUE_ERROR_WRONG_STATE);
}

static void
test_queue_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTake) take = NULL;
  gint64 running, waiting;

  f->backend->auto_complete = FALSE;
  running = enqueue (f, "running", 1);
  waiting = enqueue (f, "waiting", 0);
  takes_queue_start (f->queue);
  while (f->backend->n_submits < 1)
    g_main_context_iteration (NULL, TRUE);
  fake_loop_drain ();
  g_assert_cmpint (job_state (f, running), ==, TAKES_JOB_STATE_RUNNING);
  g_assert_cmpint (job_state (f, waiting), ==, TAKES_JOB_STATE_QUEUED);

  g_assert_true (takes_queue_cancel_job (f->queue, waiting, &error));
  g_assert_no_error (error);
  g_assert_cmpint (job_state (f, waiting), ==, TAKES_JOB_STATE_CANCELLED);
  g_assert_true (takes_queue_cancel_job (f->queue, running, &error));
  run_until_finished (f, 2);
  g_assert_cmpint (job_state (f, running), ==, TAKES_JOB_STATE_CANCELLED);
  g_assert_cmpuint (f->backend->n_cancels, ==, 1);
  g_assert_cmpuint (f->backend->n_submits, ==, 1);
  take = takes_store_get_take (f->store, takes_job_get_take_id (takes_queue_lookup_job (f->queue, running)),
                               &error);
  g_assert_cmpint (takes_take_get_status (take), ==, TAKES_TAKE_STATUS_CANCELLED);
  g_assert_false (takes_queue_cancel_job (f->queue, running, &error));
  g_assert_error (error, TAKES_QUEUE_ERROR, TAKES_QUEUE_ERROR_WRONG_STATE);
  g_clear_error (&error);
  g_assert_false (takes_queue_cancel_job (f->queue, 999, &error));
  g_assert_error (error, TAKES_QUEUE_ERROR, TAKES_QUEUE_ERROR_NOT_FOUND);
}

static void
test_queue_move (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *order = NULL;
  gint64 a, b, c, d;

  a = enqueue (f, "a", 0);
  b = enqueue (f, "b", 0);
  c = enqueue (f, "c", 0);
  d = enqueue (f, "d", 0);
  g_assert_true (takes_queue_move_job_before (f->queue, c, a, &error));
  g_assert_no_error (error);
  g_assert_true (takes_queue_move_job_before (f->queue, d, b, &error));
  g_assert_true (takes_queue_move_job (f->queue, b, 3, &error));
  /* The list model follows the order too. */
  {
    g_autoptr (TakesJob) first = g_list_model_get_item (takes_queue_get_jobs (f->queue), 0);

    g_assert_cmpint (takes_job_get_id (first), ==, b);
  }
  takes_queue_start (f->queue);
  run_until_finished (f, 4);
  order = joined_prompts (f->backend);
  g_assert_cmpstr (order, ==, "b,c,a,d");
  g_assert_false (takes_queue_move_job (f->queue, a, 1, &error));
  g_assert_error (error, TAKES_QUEUE_ERROR, TAKES_QUEUE_ERROR_WRONG_STATE);
}

static void
test_queue_move_persists (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesQueue) again = NULL;
  g_autoptr (TakesJob) first = NULL;
  gint64 a, b;

  a = enqueue (f, "a", 0);
  b = enqueue (f, "b", 0);
  g_assert_true (takes_queue_move_job_before (f->queue, b, a, &error));
  again = takes_queue_new (f->store, &error);
  g_assert_no_error (error);
  first = g_list_model_get_item (takes_queue_get_jobs (again), 0);
  g_assert_cmpint (takes_job_get_id (first), ==, b);
}

/* Retries ---------------------------------------------------------------------------- */

static void
test_queue_retry_transient (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 id;
  TakesJob *job;

  test_backend_fail_next (
      f->backend, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NETWORK, "Network down."));
  test_backend_fail_next (
      f->backend, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER, "Server error."));
  id = enqueue (f, "flaky", 0);
  takes_queue_start (f->queue);
  run_until_finished (f, 1);
  job = takes_queue_lookup_job (f->queue, id);
  g_assert_cmpint (takes_job_get_state (job), ==, TAKES_JOB_STATE_DONE);
  g_assert_cmpuint (takes_job_get_attempts (job), ==, 3);
  g_assert_cmpuint (f->backend->n_submits, ==, 3);
}

static void
test_queue_retry_gives_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 id;
  TakesJob *job;

  for (guint i = 0; i < 3; i++)
    test_backend_fail_next (
        f->backend, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NETWORK, "Network down."));
  id = enqueue (f, "never", 0);
  takes_queue_start (f->queue);
  run_until_finished (f, 1);
  job = takes_queue_lookup_job (f->queue, id);
  g_assert_cmpint (takes_job_get_state (job), ==, TAKES_JOB_STATE_FAILED);
  g_assert_cmpuint (f->backend->n_submits, ==, 3);
  g_assert_cmpstr (takes_job_get_last_error (job), ==, "Network down.");

  /* A person's retry starts over. */
  g_assert_true (takes_queue_retry_job (f->queue, id, &error));
  g_assert_no_error (error);
  run_until_finished (f, 2);
  g_assert_cmpint (takes_job_get_state (job), ==, TAKES_JOB_STATE_DONE);
  g_assert_cmpuint (takes_job_get_attempts (job), ==, 1);
}

static void
test_queue_never_retries_rejections (Fixture *f, gconstpointer data)
{
  const TakesBackendError codes[] = { TAKES_BACKEND_ERROR_SAFETY_REJECTED, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                                      TAKES_BACKEND_ERROR_UNAUTHORIZED };

  takes_queue_start (f->queue);
  for (guint i = 0; i < G_N_ELEMENTS (codes); i++)
    {
      g_autofree char *prompt = g_strdup_printf ("rejected %u", i);
      gint64 id;
      TakesJob *job;
      guint before = f->backend->n_submits;

      test_backend_fail_next (f->backend, g_error_new (TAKES_BACKEND_ERROR, codes[i], "Rejected %u.", i));
      id = enqueue (f, prompt, 0);
      run_until_finished (f, i + 1);
      job = takes_queue_lookup_job (f->queue, id);
      g_assert_cmpint (takes_job_get_state (job), ==, TAKES_JOB_STATE_FAILED);
      g_assert_cmpuint (f->backend->n_submits - before, ==, 1);
      g_assert_cmpuint (takes_job_get_attempts (job), ==, 1);
    }
}

/* Against the DashScope fake: a 429 with Retry-After delays the next
 * submission by at least that long, whatever the backoff says. */
static void
test_queue_retry_honours_retry_after (Fixture *f, gconstpointer data)
{
  g_autoptr (FakeDashscope) fake = fake_dashscope_new (TEST_KEY);
  g_autoptr (TakesBackendDashscope) dashscope = NULL;
  g_autoptr (TakesRecipe) recipe = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) video = fake_oss_make_content (8 * 1024, 3);
  g_autofree char *db = NULL;
  g_autofree char *log = NULL;
  g_autofree char *db_path = NULL;
  gint64 id, started;
  double waited;
  TakesJob *job;

  dashscope = takes_backend_dashscope_new ("singapore", &error);
  g_assert_no_error (error);
  takes_backend_dashscope_set_base_url (dashscope, fake_dashscope_get_base_url (fake));
  takes_backend_dashscope_set_api_key (dashscope, TEST_KEY);
  takes_backend_dashscope_set_download_dir (dashscope, f->downloads);
  takes_backend_dashscope_set_poll_interval (dashscope, 0.01, 0.02);
  takes_queue_add_backend (f->queue, TAKES_BACKEND (dashscope));
  fake_dashscope_set_video (fake, video, FAKE_OSS_OK);
  fake_dashscope_set_retry_after (fake, 1);
  fake_dashscope_push_create_reply (fake, FAKE_DASHSCOPE_REPLY_429_RETRY_AFTER);

  recipe = make_recipe ("dashscope", "A paper boat drifting down a rain gutter, close-up");
  takes_recipe_set_model (recipe, "wan2.1-t2v-turbo");
  takes_recipe_set_width (recipe, 832);
  takes_recipe_set_height (recipe, 480);
  id = takes_queue_enqueue (f->queue, recipe, 0, 0, &error);
  g_assert_no_error (error);
  started = g_get_monotonic_time ();
  takes_queue_start (f->queue);
  run_until_finished (f, 1);
  waited = (g_get_monotonic_time () - started) / (double)G_USEC_PER_SEC;
  job = takes_queue_lookup_job (f->queue, id);
  g_assert_cmpint (takes_job_get_state (job), ==, TAKES_JOB_STATE_DONE);
  g_assert_cmpuint (takes_job_get_attempts (job), ==, 2);
  g_assert_cmpfloat (waited, >=, 1.0);
  g_assert_cmpuint (fake_dashscope_get_n_creates (fake), ==, 2);
  /* The cost went to the ledger, in the backend's currency. */
  g_assert_cmpint (store_test_query_int (f->dir,
                                         "SELECT count(*) FROM ledger WHERE backend = 'dashscope' AND "
                                         "currency = 'USD' AND cost > 0"),
                   ==, 1);

  /* The key is nowhere in the library. */
  takes_queue_stop (f->queue);
  db_path = g_build_filename (f->dir, "library.db", NULL);
  g_assert_true (g_file_get_contents (db_path, &db, NULL, NULL));
  g_assert_null (strstr (db, TEST_KEY));
  log = g_strdup (fake_log_captured->str);
  g_assert_null (strstr (log, TEST_KEY));
  takes_queue_remove_backend (f->queue, "dashscope");
}

/* Limits, cache, edits ----------------------------------------------------------------- */

static void
test_queue_per_backend_limit (Fixture *f, gconstpointer data)
{
  g_autoptr (TestBackend) wide = test_backend_new ("wide", f->downloads, 2);
  g_autoptr (GError) error = NULL;

  f->backend->auto_complete = FALSE;
  wide->auto_complete = FALSE;
  takes_queue_add_backend (f->queue, TAKES_BACKEND (wide));
  for (guint i = 0; i < 4; i++)
    {
      g_autofree char *prompt = g_strdup_printf ("narrow %u", i);
      g_autoptr (TakesRecipe) recipe = make_recipe ("wide", prompt);

      enqueue (f, prompt, 0);
      g_assert_cmpint (takes_queue_enqueue (f->queue, recipe, 0, 0, &error), >, 0);
    }
  takes_queue_start (f->queue);
  fake_loop_drain ();
  g_assert_cmpuint (f->backend->jobs->len, ==, 1);
  g_assert_cmpuint (wide->jobs->len, ==, 2);
  test_backend_complete (wide, g_ptr_array_index (wide->jobs, 0));
  run_until_finished (f, 1);
  fake_loop_drain ();
  g_assert_cmpuint (wide->jobs->len, ==, 3);
  g_assert_cmpuint (f->backend->jobs->len, ==, 1);
  /* A limit set by hand wins over the capabilities. */
  takes_queue_set_backend_limit (f->queue, "test", 3);
  fake_loop_drain ();
  g_assert_cmpuint (f->backend->jobs->len, ==, 3);
  takes_queue_remove_backend (f->queue, "wide");
}

static void
test_queue_cache_hit (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTake) first = NULL;
  g_autoptr (TakesTake) second = NULL;
  g_autofree char *first_file = NULL;
  g_autofree char *second_file = NULL;
  struct stat a, b;
  gint64 one, two;

  one = enqueue (f, "the same recipe twice", 0);
  takes_queue_start (f->queue);
  run_until_finished (f, 1);
  two = enqueue (f, "the same recipe twice", 0);
  run_until_finished (f, 2);
  g_assert_cmpuint (f->backend->n_submits, ==, 1);
  g_assert_cmpint (job_state (f, two), ==, TAKES_JOB_STATE_DONE);
  first = takes_store_get_take (f->store, takes_job_get_take_id (takes_queue_lookup_job (f->queue, one)),
                                &error);
  second = takes_store_get_take (f->store, takes_job_get_take_id (takes_queue_lookup_job (f->queue, two)),
                                 &error);
  g_assert_no_error (error);
  g_assert_cmpint (takes_take_get_id (first), !=, takes_take_get_id (second));
  g_assert_cmpint (takes_take_get_status (second), ==, TAKES_TAKE_STATUS_DONE);
  first_file = takes_store_get_media_file (f->store, first);
  second_file = takes_store_get_media_file (f->store, second);
  g_assert_cmpstr (first_file, !=, second_file);
  g_assert_cmpint (g_stat (first_file, &a), ==, 0);
  g_assert_cmpint (g_stat (second_file, &b), ==, 0);
  /* A hard link, not a copy. */
  g_assert_cmpuint (a.st_ino, ==, b.st_ino);
  /* Nothing was paid twice. */
  g_assert_cmpint (store_test_query_int (f->dir, "SELECT count(*) FROM ledger WHERE cost > 0"), ==, 0);
}

static void
test_queue_edit_before_start (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRecipe) edited = make_recipe ("test", "edited prompt");
  g_autoptr (TakesRecipe) blocked = make_recipe ("test", "a forbiddenword here");
  g_autoptr (TakesTake) take = NULL;
  gint64 id;

  f->backend->auto_complete = FALSE;
  id = enqueue (f, "first prompt", 0);
  g_assert_true (takes_queue_edit_job (f->queue, id, edited, &error));
  g_assert_no_error (error);
  g_assert_false (takes_queue_edit_job (f->queue, id, blocked, &error));
  g_assert_error (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_BLOCKED);
  g_clear_error (&error);
  take = takes_store_get_take (f->store, takes_job_get_take_id (takes_queue_lookup_job (f->queue, id)),
                               &error);
  g_assert_cmpstr (takes_recipe_get_prompt (takes_take_get_recipe (take)), ==, "edited prompt");
  takes_queue_start (f->queue);
  while (f->backend->n_submits < 1)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (g_ptr_array_index (f->backend->prompts, 0), ==, "edited prompt");
  /* Once started, the recipe is what the backend has. */
  g_assert_false (takes_queue_edit_job (f->queue, id, edited, &error));
  g_assert_error (error, TAKES_QUEUE_ERROR, TAKES_QUEUE_ERROR_WRONG_STATE);
}

/* Checks before anything is stored ----------------------------------------------------- */

static void
test_queue_safety_blocks_before_storing (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("test", "A FORBIDDENWORD in the snow");
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (takes_queue_enqueue (f->queue, recipe, 0, 0, &error), ==, 0);
  g_assert_error (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_BLOCKED);
  g_assert_nonnull (strstr (error->message, "forbiddenword"));
  g_assert_cmpint (store_test_query_int (f->dir, "SELECT count(*) FROM takes"), ==, 0);
  g_assert_cmpint (store_test_query_int (f->dir, "SELECT count(*) FROM jobs"), ==, 0);
  g_assert_cmpint (store_test_query_int (f->dir, "SELECT count(*) FROM safety_log WHERE source = 'queue'"),
                   ==, 1);
  g_assert_cmpuint (f->backend->n_submits, ==, 0);
}

static void
test_queue_rejects_unknown_backend (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("nowhere", "a quiet lake");
  g_autoptr (TakesRecipe) bad = make_recipe ("test", "a quiet lake");
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (takes_queue_enqueue (f->queue, recipe, 0, 0, &error), ==, 0);
  g_assert_error (error, TAKES_QUEUE_ERROR, TAKES_QUEUE_ERROR_NO_BACKEND);
  g_clear_error (&error);
  takes_recipe_set_frames (bad, 80);
  g_assert_cmpint (takes_queue_enqueue (f->queue, bad, 0, 0, &error), ==, 0);
  g_assert_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE);
  g_assert_cmpint (store_test_query_int (f->dir, "SELECT count(*) FROM takes"), ==, 0);
}

static void
test_queue_budget_blocks (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesLedger) ledger = takes_ledger_new (f->store);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBudget) budget = NULL;
  g_autoptr (GPtrArray) batch = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 project = takes_store_get_default_project (f->store);

  /* 81 frames at 16 fps is 5.0625 s: US$0.50625 a take. */
  f->backend->price_per_second = 0.1;
  f->backend->currency = g_strdup ("USD");
  g_assert_true (takes_ledger_set_budget (ledger, project, 1.2, "USD", &error));
  enqueue (f, "one", 0);
  enqueue (f, "two", 0);
  budget = takes_ledger_get_budget (ledger, project, &error);
  g_assert_cmpfloat_with_epsilon (budget->pending, 1.0125, 1e-9);

  /* The pending estimates count: a third would go over. */
  {
    g_autoptr (TakesRecipe) recipe = make_recipe ("test", "three");

    g_assert_cmpint (takes_queue_enqueue (f->queue, recipe, 0, 0, &error), ==, 0);
    g_assert_error (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_OVER_BUDGET);
    g_assert_nonnull (strstr (error->message, "US$1.20"));
    g_clear_error (&error);
  }
  takes_queue_start (f->queue);
  run_until_finished (f, 2);
  g_clear_pointer (&budget, takes_budget_free);
  budget = takes_ledger_get_budget (ledger, project, &error);
  g_assert_cmpfloat_with_epsilon (budget->spent, 1.0125, 1e-9);
  g_assert_cmpfloat_with_epsilon (budget->pending, 0, 1e-9);

  /* A batch is checked as a whole: nothing of it is queued. */
  {
    g_autoptr (TakesRecipe) recipe = make_recipe ("test", "batch 1");

    g_ptr_array_add (batch, takes_take_new (recipe));
  }
  g_assert_false (takes_queue_enqueue_takes (f->queue, batch, 0, NULL, &error));
  g_assert_error (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_OVER_BUDGET);
  g_clear_error (&error);
  g_assert_cmpint (store_test_query_int (f->dir, "SELECT count(*) FROM takes"), ==, 2);

  /* Another currency cannot be counted against the budget. */
  g_assert_true (takes_ledger_set_budget (ledger, project, 100, "CNY", &error));
  {
    g_autoptr (TakesRecipe) recipe = make_recipe ("test", "four");

    g_assert_cmpint (takes_queue_enqueue (f->queue, recipe, 0, 0, &error), ==, 0);
    g_assert_error (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_CURRENCY);
  }
}

static void
test_queue_enqueue_take_keeps_links (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRecipe) recipe = make_recipe ("test", "a tagged take");
  g_autoptr (TakesTake) take = takes_take_new (recipe);
  g_autoptr (TakesTake) stored = NULL;
  const char *tags[] = { "ad", "variant-a", NULL };
  TakesProject *project = takes_store_create_project (f->store, "Ads", &error);
  gint64 id;

  g_assert_no_error (error);
  takes_take_set_project_id (take, project->id);
  takes_take_set_tags (take, tags);
  id = takes_queue_enqueue_take (f->queue, take, 2, &error);
  g_assert_no_error (error);
  g_assert_cmpint (takes_take_get_id (take), >, 0);
  g_assert_cmpint (takes_job_get_priority (takes_queue_lookup_job (f->queue, id)), ==, 2);
  g_assert_cmpint (takes_job_get_project_id (takes_queue_lookup_job (f->queue, id)), ==, project->id);
  stored = takes_store_get_take (f->store, takes_take_get_id (take), &error);
  g_assert_true (takes_take_has_tag (stored, "variant-a"));
  g_assert_cmpint (takes_take_get_status (stored), ==, TAKES_TAKE_STATUS_QUEUED);
  takes_project_free (project);
}

static void
test_queue_clear_finished (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  enqueue (f, "one", 0);
  enqueue (f, "two", 0);
  takes_queue_start (f->queue);
  run_until_finished (f, 2);
  g_assert_cmpuint (g_list_model_get_n_items (takes_queue_get_jobs (f->queue)), ==, 2);
  g_assert_true (takes_queue_clear_finished (f->queue, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (takes_queue_get_jobs (f->queue)), ==, 0);
  g_assert_cmpint (store_test_query_int (f->dir, "SELECT count(*) FROM jobs"), ==, 0);
  g_assert_cmpint (store_test_query_int (f->dir, "SELECT count(*) FROM takes WHERE status = 'done'"), ==, 2);
}

/* A job left running by an earlier process with a remote task is resumed,
 * one without is submitted again. */
static void
test_queue_restart_resumes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesQueue) again = NULL;
  gint64 with_task, without_task;

  with_task = enqueue (f, "had a task", 0);
  without_task = enqueue (f, "had none", 0);
  store_test_exec (f->dir,
                   "UPDATE jobs SET state = 'running', attempts = 1, remote_task_id = 'test-task-41'");
  store_test_exec (f->dir, "UPDATE jobs SET remote_task_id = NULL WHERE id = (SELECT max(id) FROM jobs)");
  again = takes_queue_new (f->store, &error);
  g_assert_no_error (error);
  takes_queue_add_backend (again, TAKES_BACKEND (f->backend));
  g_signal_connect (again, "job-finished", G_CALLBACK (finished_cb), f);
  takes_queue_start (again);
  run_until_finished (f, 2);
  g_assert_cmpuint (f->backend->n_resumes, ==, 1);
  g_assert_cmpuint (f->backend->n_submits, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (f->backend->prompts, 0), ==, "had none");
  g_assert_cmpint (takes_job_get_state (takes_queue_lookup_job (again, with_task)), ==, TAKES_JOB_STATE_DONE);
  g_assert_cmpint (takes_job_get_state (takes_queue_lookup_job (again, without_task)), ==,
                   TAKES_JOB_STATE_DONE);
  takes_queue_stop (again);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  fake_log_captured = g_string_new (NULL);
  g_log_set_writer_func (fake_log_capture_writer, NULL, NULL);

#define ADD(path, func) g_test_add ("/queue/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("order/priority-then-position", test_queue_priority_order);
  ADD ("pause/whole-queue", test_queue_pause_whole_queue);
  ADD ("pause/one-job", test_queue_pause_one_job);
  ADD ("cancel/queued-and-running", test_queue_cancel);
  ADD ("move/before-and-priority", test_queue_move);
  ADD ("move/persists", test_queue_move_persists);
  ADD ("retry/transient-failures", test_queue_retry_transient);
  ADD ("retry/gives-up-then-manual-retry", test_queue_retry_gives_up);
  ADD ("retry/never-on-rejections", test_queue_never_retries_rejections);
  ADD ("retry/backoff-honours-retry-after", test_queue_retry_honours_retry_after);
  ADD ("limit/per-backend", test_queue_per_backend_limit);
  ADD ("cache/hit-without-backend-call", test_queue_cache_hit);
  ADD ("edit/before-start", test_queue_edit_before_start);
  ADD ("safety/blocks-before-storing", test_queue_safety_blocks_before_storing);
  ADD ("enqueue/rejects-bad-recipes", test_queue_rejects_unknown_backend);
  ADD ("enqueue/take-keeps-links", test_queue_enqueue_take_keeps_links);
  ADD ("budget/blocks-when-spent", test_queue_budget_blocks);
  ADD ("list/clear-finished", test_queue_clear_finished);
  ADD ("restart/resumes-remote-tasks", test_queue_restart_resumes);
#undef ADD

  return g_test_run ();
}
