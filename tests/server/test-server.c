/* test-server.c: takes-server driven by the DashScope backend, as another
 * Takes would drive it, and by raw requests for what that client never sends.
 *
 * Most cases serve a scripted in-test backend, so the protocol is checked in
 * milliseconds; with the engine built, one case serves the tiny model end to
 * end through the local backend.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "fake-loop.h"
#include "fake-oss.h"
#include "takes-backend-dashscope.h"
#include "takes-server.h"
#if TAKES_HAVE_ENGINE
#include "takes-backend-local.h"
#include "takes-media.h"
#include "test-store-util.h"
#endif

#define TEST_TOKEN "tk-test-0123456789abcdef"
#define CREATE_PATH "/services/aigc/video-generation/video-synthesis"

/* A scripted backend ------------------------------------------------------- */

#define TEST_TYPE_BACKEND (test_backend_get_type ())
G_DECLARE_FINAL_TYPE (TestBackend, test_backend, TEST, BACKEND, GObject)

struct _TestBackend
{
  GObject parent_instance;
  char *dir;
  guint run_ms; /* how long a take "runs" */
  GBytes *video;
  TakesRecipe *last_recipe;
  guint n_submits;
  guint n_started;
  guint n_cancelled;
};

static void test_backend_iface_init (TakesBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestBackend,
                               test_backend,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TAKES_TYPE_BACKEND, test_backend_iface_init))

typedef struct
{
  TestBackend *self;
  TakesBackendJob *job;
  guint source;
  gulong handler;
} TestRun;

static void
test_run_free (TestRun *run)
{
  g_clear_handle_id (&run->source, g_source_remove);
  g_cancellable_disconnect (takes_backend_job_get_cancellable (run->job), run->handler);
  g_object_unref (run->job);
  g_object_unref (run->self);
  g_free (run);
}

static gboolean
test_run_done_cb (gpointer user_data)
{
  TestRun *run = user_data;
  g_autofree char *name = g_strdup_printf ("take-%u.mp4", run->self->n_submits);
  g_autofree char *path = g_build_filename (run->self->dir, name, NULL);

  run->source = 0;
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (run->self->video, NULL),
                                      g_bytes_get_size (run->self->video), NULL));
  takes_backend_job_succeed (run->job, path);
  test_run_free (run);
  return G_SOURCE_REMOVE;
}

static gboolean
test_run_start_cb (gpointer user_data)
{
  TestRun *run = user_data;

  takes_backend_job_set_state (run->job, TAKES_BACKEND_JOB_STATE_RUNNING);
  run->self->n_started++;
  run->source = g_timeout_add (run->self->run_ms, test_run_done_cb, run);
  return G_SOURCE_REMOVE;
}

static gboolean
test_run_cancel_idle_cb (gpointer user_data)
{
  TestRun *run = user_data;

  run->self->n_cancelled++;
  takes_backend_job_fail (run->job, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                                         "The take was cancelled."));
  run->source = 0;
  test_run_free (run);
  return G_SOURCE_REMOVE;
}

static void
test_run_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  TestRun *run = user_data;

  g_clear_handle_id (&run->source, g_source_remove);
  run->source = g_idle_add (test_run_cancel_idle_cb, run);
}

static TakesBackendCapabilities *
test_backend_get_capabilities (TakesBackend *backend)
{
  TakesBackendCapabilities *caps = takes_backend_capabilities_new ();
  TakesBackendModelCaps *model = takes_backend_capabilities_add_model (caps, "test-model", "Test model");

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

static gboolean
test_backend_validate (TakesBackend *backend, TakesRecipe *recipe, GError **error)
{
  g_autoptr (TakesBackendCapabilities) caps = test_backend_get_capabilities (backend);
  TakesBackendModelCaps *model
      = takes_backend_capabilities_lookup_model (caps, takes_recipe_get_model (recipe));

  if (model == NULL)
    {
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL, "No model “%s”.",
                   takes_recipe_get_model (recipe));
      return FALSE;
    }
  return takes_backend_model_caps_check_size (model, takes_recipe_get_width (recipe),
                                              takes_recipe_get_height (recipe), error)
         && takes_backend_model_caps_check_frames (model, takes_recipe_get_frames (recipe), error);
}

static void
test_backend_submit_async (TakesBackend *backend,
                           TakesRecipe *recipe,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  TestBackend *self = TEST_BACKEND (backend);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  TestRun *run = g_new0 (TestRun, 1);

  self->n_submits++;
  g_clear_object (&self->last_recipe);
  self->last_recipe = takes_recipe_copy (recipe);
  run->self = g_object_ref (self);
  run->job = takes_backend_job_new ("test", recipe);
  run->handler = g_cancellable_connect (takes_backend_job_get_cancellable (run->job),
                                        G_CALLBACK (test_run_cancelled_cb), run, NULL);
  run->source = g_idle_add (test_run_start_cb, run);
  g_task_return_pointer (task, g_object_ref (run->job), g_object_unref);
}

static TakesBackendJob *
test_backend_submit_finish (TakesBackend *backend, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static const char *
test_backend_get_id (TakesBackend *backend)
{
  return "test";
}

static void
test_backend_iface_init (TakesBackendInterface *iface)
{
  iface->get_id = test_backend_get_id;
  iface->get_display_name = test_backend_get_id;
  iface->get_capabilities = test_backend_get_capabilities;
  iface->validate = test_backend_validate;
  iface->submit_async = test_backend_submit_async;
  iface->submit_finish = test_backend_submit_finish;
}

static void
test_backend_finalize (GObject *object)
{
  TestBackend *self = TEST_BACKEND (object);

  g_free (self->dir);
  g_bytes_unref (self->video);
  g_clear_object (&self->last_recipe);
  G_OBJECT_CLASS (test_backend_parent_class)->finalize (object);
}

static void
test_backend_class_init (TestBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_backend_finalize;
}

static void
test_backend_init (TestBackend *self)
{
  self->run_ms = 20;
}

/* Fixture ------------------------------------------------------------------- */

typedef struct
{
  char *dir;
  char *models_file;
  TestBackend *backend;
  TakesServer *server;
  TakesBackendDashscope *client;
  SoupSession *session;
} Fixture;

static void
write_models_file (Fixture *fixture)
{
  static const char models[]
      = "{\"version\": 1, \"default_region\": \"local\", \"max_concurrent_tasks\": 4,"
        " \"regions\": {\"local\": {\"name\": \"Test\", \"base_url\": \"http://127.0.0.1:9/api/v1\","
        " \"currency\": \"USD\"}},"
        " \"tiers\": {\"small\": [\"64*64\", \"32*32\", \"48*32\"], \"odd\": [\"50*50\"]},"
        " \"models\": {"
        "  \"test-model\": {\"tiers\": [\"small\", \"odd\"], \"durations\": [1, 5], \"fps\": 16},"
        "  \"no-such-model\": {\"tiers\": [\"small\"], \"durations\": [1], \"fps\": 16},"
        "  \"tiny\": {\"tiers\": [\"small\"], \"durations\": [1], \"fps\": 16}}}";

  fixture->models_file = g_build_filename (fixture->dir, "models.json", NULL);
  g_assert_true (g_file_set_contents (fixture->models_file, models, -1, NULL));
}

static TakesBackendDashscope *
make_client (Fixture *fixture, const char *key)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *base_url = takes_server_get_base_url (fixture->server);
  g_autofree char *downloads = g_build_filename (fixture->dir, "downloads", NULL);
  TakesBackendDashscope *client = takes_backend_dashscope_new_from_file (fixture->models_file, NULL, &error);

  g_assert_no_error (error);
  takes_backend_dashscope_set_base_url (client, base_url);
  takes_backend_dashscope_set_api_key (client, key);
  takes_backend_dashscope_set_download_dir (client, downloads);
  takes_backend_dashscope_set_poll_interval (client, 0.01, 0.05);
  return client;
}

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *server_dir = NULL;
  g_autofree char *backend_dir = NULL;

  fixture->dir = g_dir_make_tmp ("takes-server-XXXXXX", &error);
  g_assert_no_error (error);
  write_models_file (fixture);
  backend_dir = g_build_filename (fixture->dir, "backend", NULL);
  g_assert_cmpint (g_mkdir (backend_dir, 0700), ==, 0);
  fixture->backend = g_object_new (TEST_TYPE_BACKEND, NULL);
  fixture->backend->dir = g_steal_pointer (&backend_dir);
  fixture->backend->video = fake_oss_make_content (48 * 1024, 5);
  server_dir = g_build_filename (fixture->dir, "server", NULL);
  fixture->server = takes_server_new (TAKES_BACKEND (fixture->backend), server_dir);
  if (data != NULL)
    takes_server_set_token (fixture->server, data);
  g_assert_true (takes_server_listen (fixture->server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (takes_server_get_port (fixture->server), >, 0);
  fixture->client = make_client (fixture, data != NULL ? data : "unused-key");
  fixture->session = soup_session_new ();
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  fake_loop_drain ();
  g_assert_finalize_object (fixture->client);
  g_assert_finalize_object (fixture->server);
  /* Tasks the server cancelled end in the backend's next iterations. */
  while (g_main_context_iteration (NULL, FALSE) || G_OBJECT (fixture->backend)->ref_count > 1)
    ;
  g_assert_finalize_object (fixture->backend);
  g_object_unref (fixture->session);
  fake_loop_drain ();
  store_test_rm_rf (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->models_file);
}

static TakesRecipe *
make_recipe (const char *model)
{
  TakesRecipe *recipe = takes_recipe_new ();

  takes_recipe_set_backend (recipe, "takes-server");
  takes_recipe_set_model (recipe, model);
  takes_recipe_set_prompt (recipe, "A paper boat drifting down a rain gutter, macro shot");
  takes_recipe_set_negative_prompt (recipe, "blurry");
  takes_recipe_set_width (recipe, 64);
  takes_recipe_set_height (recipe, 64);
  takes_recipe_set_frames (recipe, 17);
  takes_recipe_set_fps (recipe, 16);
  takes_recipe_set_seed (recipe, 7);
  return recipe;
}

static TakesBackendJob *
submit (TakesBackendDashscope *client, TakesRecipe *recipe, GError **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  takes_backend_submit_async (TAKES_BACKEND (client), recipe, NULL, fake_loop_result_cb, &slot);
  result = fake_loop_wait_result (&slot);
  return takes_backend_submit_finish (TAKES_BACKEND (client), result, error);
}

/* A raw request; returns the status and the parsed JSON reply in @reply. */
static guint
request (Fixture *fixture,
         const char *method,
         const char *path,
         const char *token,
         const char *body,
         gsize body_length,
         JsonObject **reply)
{
  g_autofree char *base_url = takes_server_get_base_url (fixture->server);
  g_autofree char *uri
      = g_str_has_prefix (path, "http") ? g_strdup (path) : g_strconcat (base_url, path, NULL);
  g_autoptr (SoupMessage) message = soup_message_new (method, uri);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  GAsyncResult *slot = NULL;

  g_assert_nonnull (message);
  if (token != NULL)
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", token);

      soup_message_headers_replace (soup_message_get_request_headers (message), "Authorization", auth);
    }
  soup_message_headers_replace (soup_message_get_request_headers (message), "X-DashScope-Async", "enable");
  if (body != NULL)
    {
      g_autoptr (GBytes) payload = g_bytes_new (body, body_length);

      soup_message_set_request_body_from_bytes (message, "application/json", payload);
    }
  soup_session_send_and_read_async (fixture->session, message, G_PRIORITY_DEFAULT, NULL, fake_loop_result_cb,
                                    &slot);
  result = fake_loop_wait_result (&slot);
  bytes = soup_session_send_and_read_finish (fixture->session, result, &error);
  g_assert_no_error (error);
  if (reply != NULL)
    {
      g_autoptr (JsonParser) parser = json_parser_new ();

      *reply = NULL;
      if (g_bytes_get_size (bytes) > 0
          && json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                         NULL)
          && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        *reply = json_object_ref (json_node_get_object (json_parser_get_root (parser)));
    }
  return soup_message_get_status (message);
}

static const char *
output_status (JsonObject *reply)
{
  JsonObject *output = json_object_get_object_member (reply, "output");

  return output != NULL ? json_object_get_string_member_with_default (output, "task_status", NULL) : NULL;
}

static const char *
create_body (void)
{
  return "{\"model\": \"test-model\", \"input\": {\"prompt\": \"a lighthouse at dusk\"},"
         " \"parameters\": {\"size\": \"64*64\", \"duration\": 1, \"seed\": 3}}";
}

/* Takes ----------------------------------------------------------------------- */

static void
test_take_end_to_end (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("test-model");
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  job = submit (fixture->client, recipe, &error);
  g_assert_no_error (error);
  g_assert_true (g_uuid_string_is_valid (takes_backend_job_get_remote_task_id (job)));
  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (takes_backend_job_get_result_path (job), &contents, &length, NULL));
  g_assert_cmpmem (contents, length, g_bytes_get_data (fixture->backend->video, NULL),
                   g_bytes_get_size (fixture->backend->video));
  /* The protocol's fields reached the backend; the duration became the
   * model's own frame count at its frame rate. */
  g_assert_cmpstr (takes_recipe_get_prompt (fixture->backend->last_recipe), ==,
                   takes_recipe_get_prompt (recipe));
  g_assert_cmpstr (takes_recipe_get_negative_prompt (fixture->backend->last_recipe), ==, "blurry");
  g_assert_cmpuint (takes_recipe_get_width (fixture->backend->last_recipe), ==, 64);
  g_assert_cmpuint (takes_recipe_get_height (fixture->backend->last_recipe), ==, 64);
  g_assert_cmpuint (takes_recipe_get_frames (fixture->backend->last_recipe), ==, 17);
  g_assert_cmpint (takes_recipe_get_seed (fixture->backend->last_recipe), ==, 7);
  g_assert_cmpuint (takes_server_get_n_active (fixture->server), ==, 0);
}

static void
test_take_recipe_defaults (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) defaults = takes_recipe_new ();
  g_autoptr (TakesRecipe) recipe = make_recipe ("test-model");
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GError) error = NULL;

  takes_recipe_set_steps (defaults, 3);
  takes_recipe_set_guidance (defaults, 2.5);
  takes_server_set_recipe_defaults (fixture->server, defaults);
  takes_recipe_set_frames (recipe, 81);
  job = submit (fixture->client, recipe, &error);
  g_assert_no_error (error);
  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_cmpuint (takes_recipe_get_steps (fixture->backend->last_recipe), ==, 3);
  g_assert_cmpfloat (takes_recipe_get_guidance (fixture->backend->last_recipe), ==, 2.5);
  /* Five seconds at 16 fps, as 4n+1. */
  g_assert_cmpuint (takes_recipe_get_frames (fixture->backend->last_recipe), ==, 81);
  g_assert_cmpstr (takes_recipe_get_backend (fixture->backend->last_recipe), ==, "test");
}

static void
test_take_bad_parameters (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("test-model");
  g_autoptr (TakesRecipe) missing = make_recipe ("no-such-model");
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GError) error = NULL;

  /* 50×50 passes the client's list but not the model's 16-pixel grid. */
  takes_recipe_set_width (recipe, 50);
  takes_recipe_set_height (recipe, 50);
  job = submit (fixture->client, recipe, &error);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS);
  g_assert_nonnull (strstr (error->message, "16"));
  g_assert_null (job);
  g_clear_error (&error);

  job = submit (fixture->client, missing, &error);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL);
  g_assert_cmpuint (fixture->backend->n_submits, ==, 0);
}

static void
test_take_cancel (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("test-model");
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) reply = NULL;
  g_autofree char *path = NULL;

  fixture->backend->run_ms = 60 * 1000;
  job = submit (fixture->client, recipe, &error);
  g_assert_no_error (error);
  takes_backend_job_cancel (job);
  g_assert_false (fake_loop_wait_job (job, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED);
  g_assert_cmpint (takes_backend_job_get_state (job), ==, TAKES_BACKEND_JOB_STATE_CANCELLED);

  path = g_strconcat ("/tasks/", takes_backend_job_get_remote_task_id (job), NULL);
  g_assert_cmpuint (request (fixture, "GET", path, NULL, NULL, 0, &reply), ==, 200);
  g_assert_cmpstr (output_status (reply), ==, "CANCELED");
  while (fixture->backend->n_cancelled == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (takes_server_get_n_active (fixture->server), ==, 0);
}

static void
test_take_cancel_finished (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("test-model");
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) reply = NULL;
  g_autofree char *path = NULL;

  job = submit (fixture->client, recipe, &error);
  g_assert_true (fake_loop_wait_job (job, &error));
  path = g_strconcat ("/tasks/", takes_backend_job_get_remote_task_id (job), "/cancel", NULL);
  g_assert_cmpuint (request (fixture, "POST", path, NULL, "{}", 2, &reply), ==, 400);
  g_assert_cmpstr (json_object_get_string_member (reply, "code"), ==, "UnsupportedOperation");
  g_assert_true (json_object_has_member (reply, "request_id"));
}

/* Restarts -------------------------------------------------------------------- */

/* Stops the fixture's server as takes-server does on SIGTERM and starts a new
 * one on the same data folder and port, serving the same backend. */
static void
restart_server (Fixture *fixture, guint task_lifetime)
{
  g_autofree char *server_dir = g_strdup (takes_server_get_data_dir (fixture->server));
  guint port = takes_server_get_port (fixture->server);
  g_autoptr (GError) error = NULL;

  takes_server_shutdown (fixture->server);
  g_assert_finalize_object (fixture->server);
  fixture->server = takes_server_new (TAKES_BACKEND (fixture->backend), server_dir);
  takes_server_set_task_lifetime (fixture->server, task_lifetime);
  g_assert_true (takes_server_listen (fixture->server, "127.0.0.1", port, &error));
  g_assert_no_error (error);
}

static guint
count_entries (const char *dir, const char *prefix)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;
  guint n = 0;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    if (g_str_has_prefix (name, prefix))
      n++;
  return n;
}

static void
test_restart_serves_finished (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("test-model");
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) reply = NULL;
  g_autofree char *path = NULL;
  g_autofree char *url = NULL;
  g_autofree char *results = g_build_filename (takes_server_get_data_dir (fixture->server), "results", NULL);

  job = submit (fixture->client, recipe, &error);
  g_assert_no_error (error);
  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);
  path = g_strconcat ("/tasks/", takes_backend_job_get_remote_task_id (job), NULL);
  g_assert_cmpuint (request (fixture, "GET", path, NULL, NULL, 0, &reply), ==, 200);
  url = g_strdup (
      json_object_get_string_member (json_object_get_object_member (reply, "output"), "video_url"));

  restart_server (fixture, TAKES_SERVER_DEFAULT_TASK_LIFETIME);
  g_clear_pointer (&reply, json_object_unref);
  g_assert_cmpuint (request (fixture, "GET", path, NULL, NULL, 0, &reply), ==, 200);
  g_assert_cmpstr (output_status (reply), ==, "SUCCEEDED");
  g_assert_cmpstr (
      json_object_get_string_member (json_object_get_object_member (reply, "output"), "video_url"), ==, url);
  g_assert_cmpuint (request (fixture, "GET", url, NULL, NULL, 0, NULL), ==, 200);
  g_assert_cmpuint (fixture->backend->n_submits, ==, 1);
  g_assert_cmpuint (count_entries (results, ""), ==, 1);

  /* Past its lifetime, the task and its file are gone after a restart. */
  restart_server (fixture, 0);
  g_clear_pointer (&reply, json_object_unref);
  g_assert_cmpuint (request (fixture, "GET", path, NULL, NULL, 0, &reply), ==, 200);
  g_assert_cmpstr (output_status (reply), ==, "UNKNOWN");
  g_assert_cmpuint (request (fixture, "GET", url, NULL, NULL, 0, NULL), ==, 404);
  g_assert_cmpuint (count_entries (results, ""), ==, 0);
}

/* A client that keeps polling through a restart gets its take: the server
 * runs the task again under the same id. */
static void
test_restart_runs_unfinished_again (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("test-model");
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) reply = NULL;
  g_autofree char *path = NULL;
  g_autofree char *journal
      = g_build_filename (takes_server_get_data_dir (fixture->server), "tasks.json", NULL);
  g_autofree char *contents = NULL;
  gsize length = 0;

  fixture->backend->run_ms = 60 * 1000;
  job = submit (fixture->client, recipe, &error);
  g_assert_no_error (error);
  path = g_strconcat ("/tasks/", takes_backend_job_get_remote_task_id (job), NULL);
  /* Blocking iterations, so the backend's idle start is not starved by
   * the polls' own sources. */
  while (fixture->backend->n_started == 0)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (request (fixture, "GET", path, NULL, NULL, 0, &reply), ==, 200);
  g_assert_cmpstr (output_status (reply), ==, "RUNNING");

  restart_server (fixture, TAKES_SERVER_DEFAULT_TASK_LIFETIME);
  /* Stopping cancelled the first run, but the journal kept the task. */
  g_assert_true (g_file_get_contents (journal, &contents, &length, NULL));
  g_assert_null (strstr (contents, "CANCELED"));
  g_assert_cmpuint (takes_server_get_n_active (fixture->server), ==, 1);
  fixture->backend->run_ms = 20;

  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fixture->backend->n_submits, ==, 2);
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (takes_backend_job_get_result_path (job), &contents, &length, NULL));
  g_assert_cmpmem (contents, length, g_bytes_get_data (fixture->backend->video, NULL),
                   g_bytes_get_size (fixture->backend->video));
}

/* A damaged journal is set aside, not overwritten, and the server starts. */
static void
test_restart_damaged_journal (Fixture *fixture, gconstpointer data)
{
  g_autofree char *dir = g_strdup (takes_server_get_data_dir (fixture->server));
  g_autofree char *journal = g_build_filename (dir, "tasks.json", NULL);
  g_autoptr (TakesRecipe) recipe = make_recipe ("test-model");
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_true (g_file_set_contents (journal, "{\"version\": 1, \"tasks\": [{\"id\": ", -1, NULL));
  restart_server (fixture, TAKES_SERVER_DEFAULT_TASK_LIFETIME);
  g_assert_cmpuint (count_entries (dir, "tasks.json.damaged-"), ==, 1);
  g_assert_cmpuint (takes_server_get_n_active (fixture->server), ==, 0);

  job = submit (fixture->client, recipe, &error);
  g_assert_no_error (error);
  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (journal, &contents, NULL, NULL));
  g_assert_true (json_parser_load_from_data (parser, contents, -1, NULL));
  g_assert_nonnull (strstr (contents, takes_backend_job_get_remote_task_id (job)));
}

/* Protocol ------------------------------------------------------------------ */

static void
test_tasks_unknown (Fixture *fixture, gconstpointer data)
{
  g_autoptr (JsonObject) reply = NULL;
  g_autoptr (TakesRecipe) recipe = make_recipe ("test-model");
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  GAsyncResult *slot = NULL;

  g_assert_cmpuint (
      request (fixture, "GET", "/tasks/0b7e5d7c-2f0a-4c55-9f3e-1d2c3b4a5e6f", NULL, NULL, 0, &reply), ==,
      200);
  g_assert_cmpstr (output_status (reply), ==, "UNKNOWN");
  g_assert_true (json_object_has_member (reply, "request_id"));

  takes_backend_resume_async (TAKES_BACKEND (fixture->client), recipe, "0b7e5d7c-2f0a-4c55-9f3e-1d2c3b4a5e6f",
                              NULL, fake_loop_result_cb, &slot);
  result = fake_loop_wait_result (&slot);
  job = takes_backend_resume_finish (TAKES_BACKEND (fixture->client), result, &error);
  if (job != NULL)
    g_assert_false (fake_loop_wait_job (job, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NOT_FOUND);
}

static void
test_create_sync_refused (Fixture *fixture, gconstpointer data)
{
  g_autofree char *base_url = takes_server_get_base_url (fixture->server);
  g_autofree char *uri = g_strconcat (base_url, CREATE_PATH, NULL);
  g_autoptr (SoupMessage) message = soup_message_new ("POST", uri);
  g_autoptr (GBytes) body = g_bytes_new_static (create_body (), strlen (create_body ()));
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GBytes) reply = NULL;
  GAsyncResult *slot = NULL;

  soup_message_set_request_body_from_bytes (message, "application/json", body);
  soup_session_send_and_read_async (fixture->session, message, G_PRIORITY_DEFAULT, NULL, fake_loop_result_cb,
                                    &slot);
  result = fake_loop_wait_result (&slot);
  reply = soup_session_send_and_read_finish (fixture->session, result, NULL);
  g_assert_cmpuint (soup_message_get_status (message), ==, 403);
  g_assert_nonnull (strstr (g_bytes_get_data (reply, NULL), "AccessDenied"));
  g_assert_cmpuint (fixture->backend->n_submits, ==, 0);
}

static void
test_create_malformed (Fixture *fixture, gconstpointer data)
{
  static const char *const bodies[] = {
    "{\"model\": \"test-model\", \"input\": {\"prompt\": \"cut",
    "[1, 2, 3]",
    "{\"model\": 5, \"input\": {\"prompt\": \"x\"}}",
    "{\"model\": \"test-model\", \"input\": {}}",
    "{\"model\": \"test-model\", \"input\": {\"prompt\": \"x\"}, \"parameters\": {\"size\": \"64x64\"}}",
    "{\"model\": \"test-model\", \"input\": {\"prompt\": \"x\"}, \"parameters\": {\"duration\": \"5\"}}",
    "{\"model\": \"test-model\", \"input\": {\"prompt\": \"x\"}, \"parameters\": {\"duration\": 0}}",
    "{\"model\": \"test-model\", \"input\": {\"prompt\": \"x\"}, \"parameters\": {\"seed\": -1}}",
    "{\"model\": \"test-model\", \"input\": {\"prompt\": \"\xff\xfe\"}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr (JsonObject) reply = NULL;

      g_test_message ("body %u", i);
      g_assert_cmpuint (request (fixture, "POST", CREATE_PATH, NULL, bodies[i], strlen (bodies[i]), &reply),
                        ==, 400);
      g_assert_cmpstr (json_object_get_string_member (reply, "code"), ==, "InvalidParameter");
      g_assert_true (strlen (json_object_get_string_member (reply, "message")) > 10);
    }
  g_assert_cmpuint (fixture->backend->n_submits, ==, 0);
  g_assert_cmpuint (takes_server_get_n_active (fixture->server), ==, 0);
}

static void
test_create_oversized (Fixture *fixture, gconstpointer data)
{
  gsize size = TAKES_SERVER_DEFAULT_MAX_BODY + 1;
  g_autofree char *body = g_malloc (size);
  g_autoptr (JsonObject) reply = NULL;

  memset (body, ' ', size);
  body[0] = '{';
  body[size - 1] = '}';
  g_assert_cmpuint (request (fixture, "POST", CREATE_PATH, NULL, body, size, &reply), ==, 413);
  g_assert_cmpstr (json_object_get_string_member (reply, "code"), ==, "InvalidParameter");
  g_assert_cmpuint (fixture->backend->n_submits, ==, 0);

  /* The server still answers afterwards, and a body at the limit is read. */
  takes_server_set_max_body_size (fixture->server, strlen (create_body ()));
  g_clear_pointer (&reply, json_object_unref);
  g_assert_cmpuint (
      request (fixture, "POST", CREATE_PATH, NULL, create_body (), strlen (create_body ()), &reply), ==, 200);
  g_assert_cmpstr (output_status (reply), ==, "PENDING");
}

static void
test_create_concurrency (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("test-model");
  g_autoptr (TakesBackendJob) first = NULL;
  g_autoptr (TakesBackendJob) second = NULL;
  g_autoptr (TakesBackendJob) third = NULL;
  g_autoptr (GError) error = NULL;

  fixture->backend->run_ms = 60 * 1000;
  takes_server_set_max_concurrent (fixture->server, 1);
  first = submit (fixture->client, recipe, &error);
  g_assert_no_error (error);
  second = submit (fixture->client, recipe, &error);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_RATE_LIMITED);
  g_assert_cmpint (takes_backend_error_get_retry_after (error), >, 0);
  g_assert_null (second);
  g_clear_error (&error);

  /* A cancelled task frees its place. */
  takes_backend_job_cancel (first);
  g_assert_false (fake_loop_wait_job (first, NULL));
  fixture->backend->run_ms = 10;
  third = submit (fixture->client, recipe, &error);
  g_assert_no_error (error);
  g_assert_true (fake_loop_wait_job (third, &error));
}

/* Authorisation ------------------------------------------------------------- */

static void
test_auth_token_required (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("test-model");
  g_autoptr (TakesBackendDashscope) wrong = make_client (fixture, "tk-not-the-token-000000");
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonObject) reply = NULL;

  job = submit (wrong, recipe, &error);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_UNAUTHORIZED);
  g_assert_null (job);
  g_clear_error (&error);

  g_assert_cmpuint (
      request (fixture, "POST", CREATE_PATH, NULL, create_body (), strlen (create_body ()), &reply), ==, 401);
  g_assert_cmpstr (json_object_get_string_member (reply, "code"), ==, "InvalidApiKey");
  g_assert_true (json_object_has_member (reply, "request_id"));
  g_assert_true (json_object_has_member (reply, "message"));
  g_clear_pointer (&reply, json_object_unref);
  g_assert_cmpuint (request (fixture, "GET", "/tasks/x", TEST_TOKEN "x", NULL, 0, &reply), ==, 401);
  g_assert_cmpuint (fixture->backend->n_submits, ==, 0);

  /* The right token works, and the result needs no token: its URL carries
   * its own key, which a wrong one does not replace. */
  job = submit (fixture->client, recipe, &error);
  g_assert_no_error (error);
  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);
  {
    g_autofree char *path = g_strconcat ("/tasks/", takes_backend_job_get_remote_task_id (job), NULL);
    const char *url;
    g_autofree char *forged = NULL;

    g_clear_pointer (&reply, json_object_unref);
    g_assert_cmpuint (request (fixture, "GET", path, TEST_TOKEN, NULL, 0, &reply), ==, 200);
    url = json_object_get_string_member (json_object_get_object_member (reply, "output"), "video_url");
    g_assert_nonnull (strstr (url, "key="));
    forged = g_strndup (url, strstr (url, "key=") - url + 4);
    g_assert_cmpuint (request (fixture, "GET", url, NULL, NULL, 0, NULL), ==, 200);
    g_assert_cmpuint (request (fixture, "GET", forged, NULL, NULL, 0, NULL), ==, 404);
  }
}

static void
test_listen_refuses_insecure (void)
{
  g_autoptr (TestBackend) backend = g_object_new (TEST_TYPE_BACKEND, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-server-XXXXXX", NULL);
  g_autofree char *token_file = g_build_filename (dir, "token", NULL);
  g_autofree char *short_file = g_build_filename (dir, "short", NULL);
  TakesServer *server = takes_server_new (TAKES_BACKEND (backend), dir);
  g_autofree char *host = NULL;
  guint port = 1;

  backend->video = g_bytes_new_static ("", 0);
  g_assert_false (takes_server_listen (server, "0.0.0.0", 0, &error));
  g_assert_error (error, TAKES_SERVER_ERROR, TAKES_SERVER_ERROR_INSECURE);
  g_assert_nonnull (strstr (error->message, "--token-file"));
  g_clear_error (&error);
  g_assert_cmpuint (takes_server_get_port (server), ==, 0);

  g_assert_false (takes_server_listen (server, "not-an-address", 0, &error));
  g_assert_error (error, TAKES_SERVER_ERROR, TAKES_SERVER_ERROR_ADDRESS);
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (short_file, "abc\n", -1, NULL));
  g_assert_false (takes_server_load_token_file (server, short_file, &error));
  g_assert_error (error, TAKES_SERVER_ERROR, TAKES_SERVER_ERROR_CONFIG);
  g_clear_error (&error);
  g_assert_false (takes_server_get_has_token (server));

  g_assert_true (g_file_set_contents (token_file, TEST_TOKEN "\nsecond line\n", -1, NULL));
  g_assert_true (takes_server_load_token_file (server, token_file, &error));
  g_assert_no_error (error);
  g_assert_true (takes_server_get_has_token (server));
  g_assert_true (takes_server_listen (server, "0.0.0.0", 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (takes_server_get_port (server), >, 0);
  g_assert_finalize_object (server);

  g_assert_true (takes_server_parse_address ("127.0.0.1:8765", &host, &port, &error));
  g_assert_cmpstr (host, ==, "127.0.0.1");
  g_assert_cmpuint (port, ==, 8765);
  g_clear_pointer (&host, g_free);
  g_assert_true (takes_server_parse_address ("[::1]:0", &host, &port, &error));
  g_assert_cmpstr (host, ==, "::1");
  g_assert_cmpuint (port, ==, 0);
  g_clear_pointer (&host, g_free);
  g_assert_false (takes_server_parse_address ("127.0.0.1", &host, &port, &error));
  g_clear_error (&error);
  g_assert_false (takes_server_parse_address ("127.0.0.1:70000", &host, &port, &error));
  g_clear_error (&error);
  g_assert_false (takes_server_parse_address ("::1:80", &host, &port, &error));
  g_clear_error (&error);

  g_unlink (token_file);
  g_unlink (short_file);
  store_test_rm_rf (dir);
}

#if TAKES_HAVE_ENGINE

/* The local engine, end to end ---------------------------------------------- */

static void
test_take_tiny_model (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-server-XXXXXX", NULL);
  g_autofree char *cache = g_build_filename (dir, "cache", NULL);
  g_autofree char *server_dir = g_build_filename (dir, "server", NULL);
  g_autoptr (TakesBackendLocal) local = takes_backend_local_new ();
  g_autoptr (TakesRecipe) defaults = takes_recipe_new ();
  g_autoptr (TakesRecipe) recipe = make_recipe ("tiny");
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  Fixture fixture = { 0 };

  fixture.dir = g_strdup (dir);
  write_models_file (&fixture);
  takes_backend_local_set_cache_dir (local, cache);
  takes_backend_local_set_n_threads (local, 2);
  fixture.server = takes_server_new (TAKES_BACKEND (local), server_dir);
  takes_backend_local_set_output_dir (local, server_dir);
  takes_recipe_set_steps (defaults, 2);
  takes_server_set_recipe_defaults (fixture.server, defaults);
  g_assert_true (takes_server_listen (fixture.server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  fixture.client = make_client (&fixture, "unused-key");

  takes_recipe_set_width (recipe, 32);
  takes_recipe_set_height (recipe, 32);
  job = submit (fixture.client, recipe, &error);
  g_assert_no_error (error);
  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);
  info = takes_media_probe (takes_backend_job_get_result_path (job), &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->width, ==, 32);
  g_assert_cmpint (info->height, ==, 32);
  g_assert_cmpuint (info->n_frames, ==, 17);
  g_assert_nonnull (info->recipe_json);
  g_assert_nonnull (strstr (info->recipe_json, "\"model\":\"tiny\""));

  g_clear_object (&job);
  g_assert_finalize_object (fixture.client);
  g_assert_finalize_object (fixture.server);
  fake_loop_drain ();
  store_test_rm_rf (dir);
  g_free (fixture.dir);
  g_free (fixture.models_file);
}

#endif

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, data, func) g_test_add (path, Fixture, data, fixture_set_up, func, fixture_tear_down)
  ADD ("/server/take/end-to-end", NULL, test_take_end_to_end);
  ADD ("/server/take/recipe-defaults-fill-the-rest", NULL, test_take_recipe_defaults);
  ADD ("/server/take/bad-parameters-rejected", NULL, test_take_bad_parameters);
  ADD ("/server/take/cancel-gives-canceled", NULL, test_take_cancel);
  ADD ("/server/take/cancel-after-finish-refused", NULL, test_take_cancel_finished);
  ADD ("/server/tasks/unknown-id-is-unknown", NULL, test_tasks_unknown);
  ADD ("/server/restart/serves-finished-tasks", NULL, test_restart_serves_finished);
  ADD ("/server/restart/runs-unfinished-again", NULL, test_restart_runs_unfinished_again);
  ADD ("/server/restart/damaged-journal-set-aside", NULL, test_restart_damaged_journal);
  ADD ("/server/create/sync-call-refused", NULL, test_create_sync_refused);
  ADD ("/server/create/malformed-body-400", NULL, test_create_malformed);
  ADD ("/server/create/oversized-body-413", NULL, test_create_oversized);
  ADD ("/server/create/over-concurrency-429", NULL, test_create_concurrency);
  ADD ("/server/auth/wrong-or-missing-token-401", TEST_TOKEN, test_auth_token_required);
#undef ADD
  g_test_add_func ("/server/listen/non-loopback-needs-token", test_listen_refuses_insecure);
#if TAKES_HAVE_ENGINE
  g_test_add_func ("/server/take/tiny-model-end-to-end", test_take_tiny_model);
#endif
  return g_test_run ();
}
