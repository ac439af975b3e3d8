/* test-backend-dashscope.c: the DashScope backend against a loopback server
 * that follows the documented protocol, faults included. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "fake-dashscope.h"
#include "fake-loop.h"
#include "takes-backend-dashscope.h"

#define TEST_KEY "sk-fake-0c1d2e3f4a5b6c7d8e9f"

typedef struct
{
  FakeDashscope *fake;
  TakesBackendDashscope *backend;
  char *dir;
  GPtrArray *states;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  const char *region = data != NULL ? data : "singapore";

  fixture->fake = fake_dashscope_new (TEST_KEY);
  fixture->dir = g_dir_make_tmp ("takes-dashscope-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->backend = takes_backend_dashscope_new (region, &error);
  g_assert_no_error (error);
  takes_backend_dashscope_set_base_url (fixture->backend, fake_dashscope_get_base_url (fixture->fake));
  takes_backend_dashscope_set_api_key (fixture->backend, TEST_KEY);
  takes_backend_dashscope_set_download_dir (fixture->backend, fixture->dir);
  takes_backend_dashscope_set_poll_interval (fixture->backend, 0.01, 0.04);
  fixture->states = g_ptr_array_new ();
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GDir) dir = g_dir_open (fixture->dir, 0, NULL);
  const char *name;

  fake_loop_drain ();
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (fixture->dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (fixture->dir);
  g_free (fixture->dir);
  g_assert_finalize_object (fixture->backend);
  fake_dashscope_free (fixture->fake);
  g_ptr_array_unref (fixture->states);
  fake_loop_drain ();
}

static TakesRecipe *
make_recipe (const char *model, guint width, guint height)
{
  TakesRecipe *recipe = takes_recipe_new ();

  takes_recipe_set_backend (recipe, "dashscope");
  takes_recipe_set_model (recipe, model);
  takes_recipe_set_prompt (recipe, "A red fox trotting across fresh snow at dawn, low tracking shot");
  takes_recipe_set_negative_prompt (recipe, "blurry, low quality, text, watermark");
  takes_recipe_set_width (recipe, width);
  takes_recipe_set_height (recipe, height);
  takes_recipe_set_frames (recipe, 81);
  takes_recipe_set_fps (recipe, 16);
  takes_recipe_set_seed (recipe, 42);
  return recipe;
}

static void
state_cb (TakesBackendJob *job, GParamSpec *pspec, gpointer user_data)
{
  Fixture *fixture = user_data;

  g_ptr_array_add (fixture->states,
                   (gpointer)takes_backend_job_state_to_string (takes_backend_job_get_state (job)));
}

static TakesBackendJob *
submit (Fixture *fixture, TakesRecipe *recipe, GError **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  TakesBackendJob *job;

  takes_backend_submit_async (TAKES_BACKEND (fixture->backend), recipe, NULL, fake_loop_result_cb, &slot);
  result = fake_loop_wait_result (&slot);
  job = takes_backend_submit_finish (TAKES_BACKEND (fixture->backend), result, error);
  if (job != NULL)
    g_signal_connect (job, "notify::state", G_CALLBACK (state_cb), fixture);
  return job;
}

static char *
joined_states (Fixture *fixture)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < fixture->states->len; i++)
    g_string_append_printf (out, "%s%s", i > 0 ? "," : "", (char *)g_ptr_array_index (fixture->states, i));
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static guint
count_files (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* Submission ------------------------------------------------------------------ */

static void
test_dashscope_succeeds (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.2-t2v-plus", 832, 480);
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) video = fake_oss_make_content (200 * 1024, 11);
  g_autofree char *contents = NULL;
  g_autofree char *states = NULL;
  JsonObject *request, *input, *parameters;
  gsize length = 0;

  fake_dashscope_set_video (fixture->fake, video, FAKE_OSS_OK);
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  /* Returned as soon as the task exists, with its id ready to be stored. */
  g_assert_cmpstr (takes_backend_job_get_remote_task_id (job), ==,
                   fake_dashscope_get_last_task_id (fixture->fake));
  g_assert_cmpint (takes_backend_job_get_state (job), ==, TAKES_BACKEND_JOB_STATE_SUBMITTED);
  g_assert_false (takes_backend_job_get_has_progress (job));

  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);
  states = joined_states (fixture);
  g_assert_cmpstr (states, ==, "running,downloading,succeeded");
  g_assert_true (g_file_get_contents (takes_backend_job_get_result_path (job), &contents, &length, NULL));
  g_assert_cmpuint (length, ==, g_bytes_get_size (video));
  g_assert_true (memcmp (contents, g_bytes_get_data (video, NULL), length) == 0);
  g_assert_true (g_str_has_prefix (takes_backend_job_get_result_path (job), fixture->dir));
  g_assert_cmpuint (count_files (fixture->dir), ==, 1);
  /* Beijing list price of 480P: ¥0.14 per second, five seconds. */
  g_assert_cmpfloat_with_epsilon (takes_backend_job_get_cost (job), 0.70, 1e-9);
  g_assert_cmpstr (takes_backend_job_get_currency (job), ==, "CNY");
  /* From the server's submit and end times. */
  g_assert_cmpfloat_with_epsilon (takes_backend_job_get_seconds_spent (job), 91.76, 1e-3);
  g_assert_cmpfloat (takes_backend_job_get_progress (job), ==, 1.0);

  request = fake_dashscope_get_last_create (fixture->fake);
  g_assert_cmpstr (json_object_get_string_member (request, "model"), ==, "wan2.2-t2v-plus");
  input = json_object_get_object_member (request, "input");
  g_assert_cmpstr (json_object_get_string_member (input, "prompt"), ==, takes_recipe_get_prompt (recipe));
  g_assert_cmpstr (json_object_get_string_member (input, "negative_prompt"), ==,
                   takes_recipe_get_negative_prompt (recipe));
  parameters = json_object_get_object_member (request, "parameters");
  g_assert_cmpstr (json_object_get_string_member (parameters, "size"), ==, "832*480");
  g_assert_cmpint (json_object_get_int_member (parameters, "duration"), ==, 5);
  g_assert_cmpint (json_object_get_int_member (parameters, "seed"), ==, 42);
  g_assert_false (json_object_get_boolean_member (parameters, "prompt_extend"));
  /* The signed result URL is fetched without the DashScope key. */
  g_assert_false (fake_oss_saw_authorization (fake_dashscope_get_oss (fixture->fake)));
}

/* 1920×1080 is not a multiple of 16, yet it is DashScope's default 1080p size:
 * the recipe accepts it and the model's own size list decides. */
static void
test_dashscope_submits_1080p (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.2-t2v-plus", 1920, 1080);
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) video = fake_oss_make_content (64 * 1024, 3);
  JsonObject *parameters;

  g_assert_true (takes_recipe_validate (recipe, &error));
  g_assert_no_error (error);
  fake_dashscope_set_video (fixture->fake, video, FAKE_OSS_OK);
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);
  parameters = json_object_get_object_member (fake_dashscope_get_last_create (fixture->fake), "parameters");
  g_assert_cmpstr (json_object_get_string_member (parameters, "size"), ==, "1920*1080");
  /* Beijing list price of 1080P: ¥0.70 per second, five seconds. */
  g_assert_cmpfloat_with_epsilon (takes_backend_job_get_cost (job), 3.50, 1e-9);
}

static void
test_dashscope_capabilities (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesBackendCapabilities) caps
      = takes_backend_get_capabilities (TAKES_BACKEND (fixture->backend));
  TakesBackendModelCaps *turbo = takes_backend_capabilities_lookup_model (caps, "wan2.1-t2v-turbo");
  TakesBackendModelCaps *wan26 = takes_backend_capabilities_lookup_model (caps, "wan2.6-t2v");
  double price = 0;
  const char *currency = NULL;

  g_assert_cmpstr (takes_backend_get_id (TAKES_BACKEND (fixture->backend)), ==, "dashscope");
  g_assert_cmpuint (caps->max_concurrent_jobs, ==, 2);
  g_assert_true (caps->negative_prompt && caps->seed);
  g_assert_nonnull (turbo);
  g_assert_true (takes_backend_model_caps_has_size (turbo, 832, 480));
  g_assert_true (takes_backend_model_caps_has_size (turbo, 1280, 720));
  g_assert_false (takes_backend_model_caps_has_size (turbo, 1920, 1080));
  g_assert_cmpfloat_with_epsilon (turbo->price_per_second, 0.036, 1e-9);
  g_assert_cmpstr (turbo->currency, ==, "USD");
  g_assert_cmpfloat (turbo->fps, ==, 30);
  g_assert_cmpuint (wan26->durations->len, ==, 14);
  g_assert_cmpfloat (wan26->price_per_second, <, 0);
  g_assert_true (takes_backend_dashscope_get_price (fixture->backend, "wanx2.1-t2v-turbo", 1280, 720, &price,
                                                    &currency));
  g_assert_cmpfloat_with_epsilon (price, 0.036, 1e-9);
  g_assert_false (
      takes_backend_dashscope_get_price (fixture->backend, "wan2.6-t2v", 1280, 720, &price, NULL));
  g_assert_cmpstr (takes_backend_dashscope_get_base_url (fixture->backend), ==,
                   fake_dashscope_get_base_url (fixture->fake));
}

static void
test_dashscope_region_urls (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendDashscope) beijing = takes_backend_dashscope_new ("beijing", &error);
  g_autoptr (TakesBackendDashscope) standard = takes_backend_dashscope_new (NULL, &error);
  TakesBackendDashscope *nowhere;

  g_assert_no_error (error);
  g_assert_cmpstr (takes_backend_dashscope_get_base_url (beijing), ==,
                   "https://dashscope.aliyuncs.com/api/v1");
  g_assert_cmpstr (takes_backend_dashscope_get_region (standard), ==, "singapore");
  g_assert_cmpstr (takes_backend_dashscope_get_base_url (standard), ==,
                   "https://dashscope-intl.aliyuncs.com/api/v1");
  g_assert_cmpuint (g_strv_length ((char **)takes_backend_dashscope_list_regions (standard)), ==, 3);
  nowhere = takes_backend_dashscope_new ("atlantis", &error);
  g_assert_null (nowhere);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS);
}

static void
test_dashscope_damaged_models_file (void)
{
  const char *bodies[] = {
    "",
    "{\"regions\": {}, \"tiers\": {}, \"models\": {",
    "[1, 2, 3]",
    "{\"regions\": {\"x\": {\"base_url\": \"http://h\"}}, \"tiers\": {\"480P\": [\"832x480\"]}, \"models\": "
    "{}}",
    "{\"regions\": {\"x\": {\"base_url\": \"http://h\"}}, \"tiers\": {\"480P\": [\"832*480\"]}, "
    "\"models\": {\"m\": {\"tiers\": [\"9000P\"], \"durations\": [5], \"fps\": 30}}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *path = NULL;
      int fd = g_file_open_tmp ("takes-models-XXXXXX.json", &path, &error);
      TakesBackendDashscope *backend;

      g_assert_no_error (error);
      close (fd);
      g_assert_true (g_file_set_contents (path, bodies[i], -1, NULL));
      backend = takes_backend_dashscope_new_from_file (path, "x", &error);
      g_assert_null (backend);
      g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS);
      g_assert_nonnull (strstr (error->message, "damaged"));
      g_unlink (path);
    }
}

static void
test_dashscope_validates_before_sending (Fixture *fixture, gconstpointer data)
{
  struct
  {
    const char *model;
    guint width, height, frames;
    gsize prompt_length;
    int code;
  } cases[] = {
    { "wan2.1-t2v-plus", 832, 480, 81, 20, TAKES_BACKEND_ERROR_BAD_PARAMETERS },    /* 480P not offered */
    { "wan2.1-t2v-turbo", 1000, 1000, 81, 20, TAKES_BACKEND_ERROR_BAD_PARAMETERS }, /* not a DashScope size */
    { "wan2.1-t2v-turbo", 832, 480, 161, 20, TAKES_BACKEND_ERROR_BAD_PARAMETERS },  /* 10 s, only 5 allowed */
    { "wan2.1-t2v-turbo", 832, 480, 81, 801, TAKES_BACKEND_ERROR_BAD_PARAMETERS },  /* prompt too long */
    { "wan2.1-t2v-turbo", 832, 480, 81, 0, TAKES_BACKEND_ERROR_BAD_PARAMETERS },    /* empty prompt */
    { "wan9-imaginary", 832, 480, 81, 20, TAKES_BACKEND_ERROR_MISSING_MODEL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (TakesRecipe) recipe = make_recipe (cases[i].model, cases[i].width, cases[i].height);
      g_autofree char *prompt = g_strnfill (cases[i].prompt_length, 'a');
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesBackendJob) job = NULL;

      takes_recipe_set_frames (recipe, cases[i].frames);
      takes_recipe_set_prompt (recipe, prompt);
      g_assert_false (takes_backend_validate (TAKES_BACKEND (fixture->backend), recipe, &error));
      g_assert_error (error, TAKES_BACKEND_ERROR, cases[i].code);
      g_clear_error (&error);
      job = submit (fixture, recipe, &error);
      g_assert_null (job);
      g_assert_error (error, TAKES_BACKEND_ERROR, cases[i].code);
      g_assert_false (takes_backend_error_is_retryable (error));
    }
  /* Nothing reached the server. */
  g_assert_cmpuint (fake_dashscope_get_n_creates (fixture->fake), ==, 0);

  {
    g_autoptr (TakesRecipe) recipe = make_recipe ("wanx2.1-t2v-turbo", 1280, 720);
    g_autoptr (GError) error = NULL;

    /* 121 frames at 24 fps is five seconds; the alias of the model is known. */
    takes_recipe_set_frames (recipe, 121);
    takes_recipe_set_fps (recipe, 24);
    g_assert_true (takes_backend_validate (TAKES_BACKEND (fixture->backend), recipe, &error));
    g_assert_no_error (error);
  }
}

static void
test_dashscope_create_errors (Fixture *fixture, gconstpointer data)
{
  struct
  {
    FakeDashscopeReply reply;
    guint status;
    const char *code;
    int expected;
    gboolean retryable;
    int retry_after;
  } cases[] = {
    { FAKE_DASHSCOPE_REPLY_429_RETRY_AFTER, 0, NULL, TAKES_BACKEND_ERROR_RATE_LIMITED, TRUE, 7 },
    { FAKE_DASHSCOPE_REPLY_429, 0, NULL, TAKES_BACKEND_ERROR_RATE_LIMITED, TRUE, -1 },
    { FAKE_DASHSCOPE_REPLY_500, 0, NULL, TAKES_BACKEND_ERROR_SERVER, TRUE, -1 },
    { FAKE_DASHSCOPE_REPLY_MALFORMED, 0, NULL, TAKES_BACKEND_ERROR_SERVER, TRUE, -1 },
    { FAKE_DASHSCOPE_REPLY_TRUNCATED, 0, NULL, TAKES_BACKEND_ERROR_SERVER, TRUE, -1 },
    { FAKE_DASHSCOPE_REPLY_DROP, 0, NULL, TAKES_BACKEND_ERROR_NETWORK, TRUE, -1 },
    { FAKE_DASHSCOPE_REPLY_HUGE, 0, NULL, TAKES_BACKEND_ERROR_TOO_LARGE, FALSE, -1 },
    { FAKE_DASHSCOPE_REPLY_OK, 400, "DataInspectionFailed", TAKES_BACKEND_ERROR_SAFETY_REJECTED, FALSE, -1 },
    { FAKE_DASHSCOPE_REPLY_OK, 400, "InvalidParameter", TAKES_BACKEND_ERROR_BAD_PARAMETERS, FALSE, -1 },
    { FAKE_DASHSCOPE_REPLY_OK, 403, "Arrearage", TAKES_BACKEND_ERROR_QUOTA, FALSE, -1 },
    { FAKE_DASHSCOPE_REPLY_OK, 404, "ModelNotFound", TAKES_BACKEND_ERROR_MISSING_MODEL, FALSE, -1 },
    { FAKE_DASHSCOPE_REPLY_OK, 500, "InsufficientMemory", TAKES_BACKEND_ERROR_OUT_OF_MEMORY, FALSE, -1 },
    { FAKE_DASHSCOPE_REPLY_OK, 429, "Throttling.AllocationQuota", TAKES_BACKEND_ERROR_RATE_LIMITED, TRUE,
      -1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesBackendJob) job = NULL;

      if (cases[i].status != 0)
        fake_dashscope_set_create_error (fixture->fake, cases[i].status, cases[i].code,
                                         "The server says no.");
      else
        fake_dashscope_push_create_reply (fixture->fake, cases[i].reply);
      job = submit (fixture, recipe, &error);
      g_assert_null (job);
      g_assert_error (error, TAKES_BACKEND_ERROR, cases[i].expected);
      g_assert_cmpint (takes_backend_error_is_retryable (error), ==, cases[i].retryable);
      g_assert_cmpint (takes_backend_error_get_retry_after (error), ==, cases[i].retry_after);
      /* The retry-after survives a copy, as the queue keeps errors around. */
      {
        g_autoptr (GError) copy = g_error_copy (error);

        g_assert_cmpint (takes_backend_error_get_retry_after (copy), ==, cases[i].retry_after);
      }
    }
  g_assert_cmpuint (count_files (fixture->dir), ==, 0);
}

static void
test_dashscope_wrong_key (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;

  takes_backend_dashscope_set_api_key (fixture->backend, "sk-wrong-key-99887766");
  job = submit (fixture, recipe, &error);
  g_assert_null (job);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_UNAUTHORIZED);
  g_assert_false (takes_backend_error_is_retryable (error));
  /* The fake echoes the key it got; the message must not. */
  g_assert_null (strstr (error->message, "sk-wrong-key-99887766"));
  g_assert_nonnull (strstr (error->message, "region"));
}

static void
test_dashscope_key_from_environment (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (TakesBackendJob) keyless = NULL;
  g_autofree char *previous_bus = g_strdup (g_getenv ("DBUS_SESSION_BUS_ADDRESS"));

  takes_backend_dashscope_set_api_key (fixture->backend, NULL);
  g_setenv ("TAKES_DASHSCOPE_API_KEY", TEST_KEY, TRUE);
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);

  /* No key anywhere, and no keyring to ask: a clear error naming the variable. */
  g_unsetenv ("TAKES_DASHSCOPE_API_KEY");
  g_unsetenv ("DASHSCOPE_API_KEY");
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/takes-test-bus", TRUE);
  keyless = submit (fixture, recipe, &error);
  g_assert_null (keyless);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_UNAUTHORIZED);
  g_assert_nonnull (strstr (error->message, "TAKES_DASHSCOPE_API_KEY"));
  if (previous_bus != NULL)
    g_setenv ("DBUS_SESSION_BUS_ADDRESS", previous_bus, TRUE);
  else
    g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
  g_assert_cmpuint (fake_dashscope_get_n_creates (fixture->fake), ==, 1);
}

static void
test_dashscope_unreachable (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  /* Port 9 (discard) on loopback: nobody listens there in a test machine. */
  takes_backend_dashscope_set_base_url (fixture->backend, "http://127.0.0.1:9/api/v1");
  job = submit (fixture, recipe, &error);
  g_assert_null (job);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NETWORK);
  g_assert_true (takes_backend_error_is_retryable (error));
  g_clear_error (&error);

  takes_backend_check_available_async (TAKES_BACKEND (fixture->backend), NULL, fake_loop_result_cb, &slot);
  result = fake_loop_wait_result (&slot);
  g_assert_false (takes_backend_check_available_finish (TAKES_BACKEND (fixture->backend), result, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NETWORK);
  g_clear_error (&error);

  takes_backend_dashscope_set_base_url (fixture->backend, "ftp://example.com/api");
  job = submit (fixture, recipe, &error);
  g_assert_null (job);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS);
}

static void
test_dashscope_available (Fixture *fixture, gconstpointer data)
{
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GAsyncResult) result2 = NULL;
  g_autoptr (GError) error = NULL;

  takes_backend_check_available_async (TAKES_BACKEND (fixture->backend), NULL, fake_loop_result_cb, &slot);
  result = fake_loop_wait_result (&slot);
  g_assert_true (takes_backend_check_available_finish (TAKES_BACKEND (fixture->backend), result, &error));
  g_assert_no_error (error);

  takes_backend_dashscope_set_api_key (fixture->backend, "sk-another-wrong-key-1234");
  takes_backend_check_available_async (TAKES_BACKEND (fixture->backend), NULL, fake_loop_result_cb, &slot);
  result2 = fake_loop_wait_result (&slot);
  g_assert_false (takes_backend_check_available_finish (TAKES_BACKEND (fixture->backend), result2, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_UNAUTHORIZED);
}

/* Polling ------------------------------------------------------------------------ */

static void
test_dashscope_poll_absorbs_faults (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  FakeDashscopeReply faults[] = {
    FAKE_DASHSCOPE_REPLY_429,       FAKE_DASHSCOPE_REPLY_500,  FAKE_DASHSCOPE_REPLY_MALFORMED,
    FAKE_DASHSCOPE_REPLY_TRUNCATED, FAKE_DASHSCOPE_REPLY_DROP,
  };

  for (guint i = 0; i < G_N_ELEMENTS (faults); i++)
    fake_dashscope_push_query_reply (fixture->fake, faults[i]);
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fake_dashscope_get_n_queries (fixture->fake), ==, G_N_ELEMENTS (faults) + 3);
}

static void
test_dashscope_poll_honours_retry_after (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  gint64 start;

  fake_dashscope_set_retry_after (fixture->fake, 1);
  fake_dashscope_push_query_reply (fixture->fake, FAKE_DASHSCOPE_REPLY_429_RETRY_AFTER);
  start = g_get_monotonic_time ();
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC);
}

static void
test_dashscope_poll_gives_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;

  for (guint i = 0; i < 10; i++)
    fake_dashscope_push_query_reply (fixture->fake, FAKE_DASHSCOPE_REPLY_500);
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  g_assert_false (fake_loop_wait_job (job, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER);
  g_assert_true (takes_backend_error_is_retryable (error));
  g_assert_cmpint (takes_backend_job_get_state (job), ==, TAKES_BACKEND_JOB_STATE_FAILED);
  /* Kept so the queue can resume the task later. */
  g_assert_nonnull (takes_backend_job_get_remote_task_id (job));
}

static void
test_dashscope_poll_terminal_statuses (Fixture *fixture, gconstpointer data)
{
  struct
  {
    const char *status;
    const char *code;
    int expected;
    TakesBackendJobState state;
  } cases[] = {
    { "FAILED", "DataInspectionFailed", TAKES_BACKEND_ERROR_SAFETY_REJECTED, TAKES_BACKEND_JOB_STATE_FAILED },
    { "FAILED", "InvalidParameter.Size", TAKES_BACKEND_ERROR_BAD_PARAMETERS, TAKES_BACKEND_JOB_STATE_FAILED },
    { "FAILED", "InternalError.Timeout", TAKES_BACKEND_ERROR_SERVER, TAKES_BACKEND_JOB_STATE_FAILED },
    { "CANCELED", NULL, TAKES_BACKEND_ERROR_CANCELLED, TAKES_BACKEND_JOB_STATE_CANCELLED },
    { "UNKNOWN", NULL, TAKES_BACKEND_ERROR_NOT_FOUND, TAKES_BACKEND_JOB_STATE_FAILED },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesBackendJob) job = NULL;
      const char *statuses[] = { "RUNNING", cases[i].status, NULL };

      fake_dashscope_set_statuses (fixture->fake, statuses);
      if (cases[i].code != NULL)
        fake_dashscope_set_failure (fixture->fake, cases[i].code,
                                    "Input data may contain inappropriate content.");
      job = submit (fixture, recipe, &error);
      g_assert_no_error (error);
      g_assert_false (fake_loop_wait_job (job, &error));
      g_assert_error (error, TAKES_BACKEND_ERROR, cases[i].expected);
      g_assert_cmpint (takes_backend_job_get_state (job), ==, cases[i].state);
      g_assert_true (takes_backend_job_get_error (job)->code == cases[i].expected);
    }
  g_assert_cmpuint (count_files (fixture->dir), ==, 0);
}

static void
test_dashscope_unknown_status_keeps_polling (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  const char *statuses[] = { "PENDING", "SCHEDULING", "RUNNING", "SUCCEEDED", NULL };

  fake_dashscope_set_statuses (fixture->fake, statuses);
  job = submit (fixture, recipe, &error);
  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);
}

static void
test_dashscope_poll_timeout (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  const char *statuses[] = { "RUNNING", NULL };

  fake_dashscope_set_statuses (fixture->fake, statuses);
  takes_backend_dashscope_set_poll_timeout (fixture->backend, 0.2);
  job = submit (fixture, recipe, &error);
  g_assert_false (fake_loop_wait_job (job, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER);
  g_assert_nonnull (strstr (error->message, "resumed"));
}

/* Downloads ---------------------------------------------------------------------- */

static void
test_dashscope_download_faults (Fixture *fixture, gconstpointer data)
{
  struct
  {
    FakeOssMode mode;
    int expected; /* -1: succeeds */
  } cases[] = {
    { FAKE_OSS_CUT_ONCE, -1 },
    { FAKE_OSS_EXPIRED, TAKES_BACKEND_ERROR_EXPIRED },
    { FAKE_OSS_HUGE, TAKES_BACKEND_ERROR_TOO_LARGE },
    { FAKE_OSS_HUGE_CHUNKED, TAKES_BACKEND_ERROR_TOO_LARGE },
  };
  g_autoptr (GBytes) video = fake_oss_make_content (300 * 1024, 5);

  takes_backend_dashscope_set_max_download_size (fixture->backend, 2 * 1024 * 1024);
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesBackendJob) job = NULL;
      gboolean ok;

      fake_dashscope_set_video (fixture->fake, video, cases[i].mode);
      job = submit (fixture, recipe, &error);
      g_assert_no_error (error);
      ok = fake_loop_wait_job (job, &error);
      if (cases[i].expected < 0)
        {
          g_assert_no_error (error);
          g_assert_true (ok);
          g_assert_cmpuint (count_files (fixture->dir), ==, 1);
          g_unlink (takes_backend_job_get_result_path (job));
        }
      else
        {
          g_assert_false (ok);
          g_assert_error (error, TAKES_BACKEND_ERROR, cases[i].expected);
          g_assert_null (takes_backend_job_get_result_path (job));
        }
    }
  g_assert_cmpuint (count_files (fixture->dir), ==, 0);
}

/* Cancelling --------------------------------------------------------------------- */

static void
test_dashscope_cancel_pending (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  const char *statuses[] = { "PENDING", NULL };

  fake_dashscope_set_statuses (fixture->fake, statuses);
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  takes_backend_cancel (TAKES_BACKEND (fixture->backend), job);
  g_assert_false (fake_loop_wait_job (job, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED);
  g_assert_cmpint (takes_backend_job_get_state (job), ==, TAKES_BACKEND_JOB_STATE_CANCELLED);
  g_assert_cmpuint (fake_dashscope_get_n_cancels (fixture->fake), ==, 1);
  g_assert_null (strstr (error->message, "charged"));
}

static void
running_cb (TakesBackendJob *job, GParamSpec *pspec, gpointer user_data)
{
  if (takes_backend_job_get_state (job) == TAKES_BACKEND_JOB_STATE_RUNNING)
    takes_backend_job_cancel (job);
}

static void
test_dashscope_cancel_running (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  const char *statuses[] = { "RUNNING", NULL };

  fake_dashscope_set_statuses (fixture->fake, statuses);
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  g_signal_connect (job, "notify::state", G_CALLBACK (running_cb), NULL);
  g_assert_false (fake_loop_wait_job (job, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED);
  /* DashScope refuses to cancel a running task, and the person is told. */
  g_assert_nonnull (strstr (error->message, "charged"));
}

static void
test_dashscope_cancel_while_downloading (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GBytes) video = fake_oss_make_content (400 * 1024, 9);

  fake_dashscope_set_video (fixture->fake, video, FAKE_OSS_SLOW);
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  while (takes_backend_job_get_state (job) != TAKES_BACKEND_JOB_STATE_DOWNLOADING)
    g_main_context_iteration (NULL, TRUE);
  takes_backend_job_cancel (job);
  g_assert_false (fake_loop_wait_job (job, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED);
  g_assert_cmpuint (count_files (fixture->dir), ==, 0);
}

/* Resuming ----------------------------------------------------------------------- */

static TakesBackendJob *
resume (Fixture *fixture, TakesRecipe *recipe, const char *task_id, GError **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  takes_backend_resume_async (TAKES_BACKEND (fixture->backend), recipe, task_id, NULL, fake_loop_result_cb,
                              &slot);
  result = fake_loop_wait_result (&slot);
  return takes_backend_resume_finish (TAKES_BACKEND (fixture->backend), result, error);
}

static void
test_dashscope_resume (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) first = NULL;
  g_autoptr (TakesBackendJob) resumed = NULL;
  g_autoptr (TakesBackendJob) unknown = NULL;
  g_autoptr (TakesBackendJob) bogus = NULL;
  g_autofree char *task_id = NULL;

  /* A first process submits and finishes; a second one resumes by id, as
   * after a restart, and gets the same result. */
  first = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  task_id = g_strdup (takes_backend_job_get_remote_task_id (first));
  g_assert_true (fake_loop_wait_job (first, &error));
  g_unlink (takes_backend_job_get_result_path (first));

  resumed = resume (fixture, recipe, task_id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (takes_backend_job_get_remote_task_id (resumed), ==, task_id);
  g_assert_true (fake_loop_wait_job (resumed, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (takes_backend_job_get_result_path (resumed), G_FILE_TEST_IS_REGULAR));
  g_assert_cmpuint (fake_dashscope_get_n_creates (fixture->fake), ==, 1);

  unknown = resume (fixture, recipe, "task-9999-gone", &error);
  g_assert_null (unknown);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NOT_FOUND);
  g_clear_error (&error);

  bogus = resume (fixture, recipe, "../../etc/passwd", &error);
  g_assert_null (bogus);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NOT_FOUND);
}

/* The shared interface: errors, jobs, capabilities ------------------------------- */

static void
test_backend_error_codes (void)
{
  g_autoptr (GEnumClass) klass = g_type_class_ref (TAKES_TYPE_BACKEND_ERROR);
  const int retryable[]
      = { TAKES_BACKEND_ERROR_RATE_LIMITED, TAKES_BACKEND_ERROR_NETWORK, TAKES_BACKEND_ERROR_SERVER };
  g_autoptr (GError) other = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "x");

  for (guint code = 0; code < klass->n_values; code++)
    {
      g_autoptr (GError) error = g_error_new_literal (TAKES_BACKEND_ERROR, (int)code, "x");
      TakesBackendError back = 0;
      gboolean expected = FALSE;

      g_assert_true (takes_backend_error_from_string (takes_backend_error_to_string (code), &back));
      g_assert_cmpint (back, ==, code);
      for (guint i = 0; i < G_N_ELEMENTS (retryable); i++)
        expected |= retryable[i] == (int)code;
      g_assert_cmpint (takes_backend_error_is_retryable (error), ==, expected);
      g_assert_cmpint (takes_backend_error_get_retry_after (error), ==, -1);
    }
  {
    TakesBackendError unknown = TAKES_BACKEND_ERROR_SERVER;

    g_assert_false (takes_backend_error_from_string ("no-such-code", &unknown));
    g_assert_cmpint (unknown, ==, TAKES_BACKEND_ERROR_SERVER);
  }
  g_assert_false (takes_backend_error_is_retryable (other));
  g_assert_cmpint (takes_backend_error_get_retry_after (other), ==, -1);
}

static void
test_backend_error_retry_after (void)
{
  g_autoptr (GError) error = takes_backend_error_new_rate_limited (12, "Slow down, %s.", "please");
  g_autoptr (GError) copy = NULL;
  g_autoptr (GError) cleared = takes_backend_error_new_rate_limited (-5, "No hint.");

  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_RATE_LIMITED);
  g_assert_cmpstr (error->message, ==, "Slow down, please.");
  g_assert_cmpint (takes_backend_error_get_retry_after (error), ==, 12);
  copy = g_error_copy (error);
  g_assert_cmpint (takes_backend_error_get_retry_after (copy), ==, 12);
  takes_backend_error_set_retry_after (copy, 30);
  g_assert_cmpint (takes_backend_error_get_retry_after (copy), ==, 30);
  g_assert_cmpint (takes_backend_error_get_retry_after (error), ==, 12);
  g_assert_cmpint (takes_backend_error_get_retry_after (cleared), ==, -1);
}

static void
count_cb (gpointer instance, gpointer user_data)
{
  (*(guint *)user_data)++;
}

static void
count_preview_cb (TakesBackendJob *job, TakesBackendPreview *preview, gpointer user_data)
{
  g_assert_cmpint (takes_backend_preview_get_format (preview), ==, TAKES_BACKEND_PREVIEW_RGB);
  (*(guint *)user_data)++;
}

static void
test_backend_job_lifecycle (void)
{
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  g_autoptr (TakesBackendJob) job = takes_backend_job_new ("fake", recipe);
  g_autoptr (TakesBackendPreview) preview = NULL;
  g_autoptr (GBytes) pixels = g_bytes_new_static ("\1\2\3\4\5\6", 6);
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) early = NULL;
  g_autoptr (GAsyncResult) late = NULL;
  GAsyncResult *slot_early = NULL, *slot_late = NULL;
  guint changed = 0, previews = 0;

  g_signal_connect (job, "changed", G_CALLBACK (count_cb), &changed);
  g_signal_connect (job, "preview", G_CALLBACK (count_preview_cb), &previews);
  g_assert_cmpint (takes_backend_job_get_state (job), ==, TAKES_BACKEND_JOB_STATE_QUEUED);
  g_assert_cmpfloat (takes_backend_job_get_cost (job), <, 0);
  g_assert_true (takes_backend_job_get_recipe (job) == recipe);

  /* Several changes in one batch wake listeners once. */
  g_object_freeze_notify (G_OBJECT (job));
  takes_backend_job_set_state (job, TAKES_BACKEND_JOB_STATE_RUNNING);
  takes_backend_job_set_progress (job, 0.25);
  takes_backend_job_set_stage (job, "Sampling");
  takes_backend_job_set_remote_task_id (job, "r-1");
  g_object_thaw_notify (G_OBJECT (job));
  g_assert_cmpuint (changed, ==, 1);
  /* Setting the same value again is not a change. */
  takes_backend_job_set_progress (job, 0.25);
  takes_backend_job_set_stage (job, "Sampling");
  g_assert_cmpuint (changed, ==, 1);
  takes_backend_job_set_progress (job, 7.0);
  g_assert_cmpfloat (takes_backend_job_get_progress (job), ==, 1.0);

  preview = takes_backend_preview_new (TAKES_BACKEND_PREVIEW_RGB, pixels, 2, 1);
  takes_backend_job_emit_preview (job, preview);
  g_assert_cmpuint (previews, ==, 1);
  g_assert_cmpuint (takes_backend_preview_get_width (preview), ==, 2);

  takes_backend_job_wait_async (job, NULL, fake_loop_result_cb, &slot_early);
  takes_backend_job_set_cost (job, 1.5, "USD");
  takes_backend_job_succeed (job, "/tmp/take.mp4");
  early = fake_loop_wait_result (&slot_early);
  g_assert_true (takes_backend_job_wait_finish (job, early, &error));
  g_assert_true (takes_backend_job_is_finished (job));
  g_assert_cmpstr (takes_backend_job_get_result_path (job), ==, "/tmp/take.mp4");

  /* A finished job stays finished; waiting later returns at once. */
  takes_backend_job_fail (job, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER, "late"));
  takes_backend_job_set_state (job, TAKES_BACKEND_JOB_STATE_RUNNING);
  g_assert_cmpint (takes_backend_job_get_state (job), ==, TAKES_BACKEND_JOB_STATE_SUCCEEDED);
  g_assert_null (takes_backend_job_get_error (job));
  takes_backend_job_wait_async (job, NULL, fake_loop_result_cb, &slot_late);
  late = fake_loop_wait_result (&slot_late);
  g_assert_true (takes_backend_job_wait_finish (job, late, &error));
  g_assert_no_error (error);
}

static void
test_backend_job_wait_cancelled (void)
{
  g_autoptr (TakesBackendJob) job = takes_backend_job_new ("fake", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GAsyncResult) after = NULL;
  g_autoptr (GError) error = NULL;
  GAsyncResult *slot = NULL, *slot_after = NULL;

  /* Giving up waiting does not cancel the job, and it can finish later. */
  takes_backend_job_wait_async (job, cancellable, fake_loop_result_cb, &slot);
  g_cancellable_cancel (cancellable);
  result = fake_loop_wait_result (&slot);
  g_assert_false (takes_backend_job_wait_finish (job, result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_false (g_cancellable_is_cancelled (takes_backend_job_get_cancellable (job)));

  takes_backend_job_wait_async (job, NULL, fake_loop_result_cb, &slot_after);
  takes_backend_job_cancel (job);
  g_assert_true (g_cancellable_is_cancelled (takes_backend_job_get_cancellable (job)));
  takes_backend_job_fail (job, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, "stopped"));
  after = fake_loop_wait_result (&slot_after);
  g_assert_false (takes_backend_job_wait_finish (job, after, &error));
  /* A plain GIO cancellation ends the job as cancelled, in the backend domain. */
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED);
  g_assert_cmpint (takes_backend_job_get_state (job), ==, TAKES_BACKEND_JOB_STATE_CANCELLED);
}

static void
test_backend_capabilities_checks (void)
{
  g_autoptr (TakesBackendCapabilities) caps = takes_backend_capabilities_new ();
  TakesBackendModelCaps *listed = takes_backend_capabilities_add_model (caps, "listed", "Listed");
  TakesBackendModelCaps *free_size = takes_backend_capabilities_add_model (caps, "free", NULL);
  g_autoptr (GError) error = NULL;
  guint five = 5;

  takes_backend_model_caps_add_size (listed, 832, 480);
  takes_backend_model_caps_add_size (listed, 832, 480);
  g_assert_cmpuint (listed->sizes->len, ==, 1);
  g_array_append_val (listed->durations, five);
  free_size->size_step = 32;
  free_size->min_side = 256;
  free_size->max_side = 2048;
  free_size->frame_step = 4;
  free_size->min_frames = 5;
  free_size->max_frames = 241;
  free_size->max_prompt_chars = 10;

  g_assert_true (takes_backend_capabilities_lookup_model (caps, "free") == free_size);
  g_assert_cmpstr (free_size->display_name, ==, "free");
  g_assert_null (takes_backend_capabilities_lookup_model (caps, "nope"));
  g_assert_true (takes_backend_model_caps_check_size (listed, 832, 480, &error));
  g_assert_false (takes_backend_model_caps_check_size (listed, 480, 832, &error));
  g_assert_nonnull (strstr (error->message, "832×480"));
  g_clear_error (&error);
  g_assert_true (takes_backend_model_caps_check_size (free_size, 1280, 704, NULL));
  g_assert_false (takes_backend_model_caps_check_size (free_size, 1280, 720, NULL));
  g_assert_false (takes_backend_model_caps_check_size (free_size, 4096, 704, NULL));
  g_assert_true (takes_backend_model_caps_check_frames (free_size, 121, NULL));
  g_assert_false (takes_backend_model_caps_check_frames (free_size, 120, NULL));
  g_assert_false (takes_backend_model_caps_check_frames (free_size, 245, NULL));
  g_assert_true (takes_backend_model_caps_check_duration (listed, 5, NULL));
  g_assert_false (takes_backend_model_caps_check_duration (listed, 10, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS);
  g_clear_error (&error);
  g_assert_true (takes_backend_model_caps_check_duration (free_size, 10, NULL));
  /* Characters, not bytes: ten Chinese characters fit in ten. */
  g_assert_true (takes_backend_model_caps_check_prompts (free_size, "一只红狐狸在雪地里跑", NULL, NULL));
  g_assert_false (takes_backend_model_caps_check_prompts (free_size, "一只红狐狸在雪地里奔跑", NULL, NULL));
  g_assert_false (takes_backend_model_caps_check_prompts (free_size, "", NULL, NULL));
}

/* Secrets -------------------------------------------------------------------------- */

static void
assert_no_key (const char *text)
{
  if (text != NULL)
    g_assert_null (strstr (text, TEST_KEY));
}

static void
test_dashscope_key_never_leaks (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.1-t2v-turbo", 832, 480);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  g_autofree char *recipe_json = NULL;
  g_autofree char *stage = NULL;

  /* One more full run with every fault the poller absorbs, so its log
   * messages are in the capture too. */
  fake_dashscope_push_query_reply (fixture->fake, FAKE_DASHSCOPE_REPLY_500);
  fake_dashscope_push_query_reply (fixture->fake, FAKE_DASHSCOPE_REPLY_MALFORMED);
  job = submit (fixture, recipe, &error);
  g_assert_true (fake_loop_wait_job (job, &error));
  g_object_get (job, "stage", &stage, NULL);
  assert_no_key (stage);
  assert_no_key (takes_backend_job_get_result_path (job));
  recipe_json = takes_recipe_to_json (recipe);
  assert_no_key (recipe_json);

  /* The key travelled only in the Authorization header. */
  g_assert_cmpuint (strlen (fake_dashscope_get_request_log (fixture->fake)), >, 0);
  assert_no_key (fake_dashscope_get_request_log (fixture->fake));
  /* Everything this test program logged, debug messages included. */
  g_assert_cmpuint (fake_log_captured->len, >, 0);
  assert_no_key (fake_log_captured->str);
  g_assert_null (strstr (fake_log_captured->str, "sk-wrong-key-99887766"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  fake_log_captured = g_string_new (NULL);
  g_log_set_writer_func (fake_log_capture_writer, NULL, NULL);
  g_log_set_debug_enabled (TRUE);
  /* The keyring of whoever runs the tests is never consulted. */
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/takes-test-bus", TRUE);
  g_unsetenv ("TAKES_DASHSCOPE_API_KEY");
  g_unsetenv ("DASHSCOPE_API_KEY");

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
#define ADD_REGION(path, region, func)                                                                       \
  g_test_add (path, Fixture, region, fixture_set_up, func, fixture_tear_down)
  ADD_REGION ("/dashscope/submit/succeeds", "beijing", test_dashscope_succeeds);
  ADD ("/dashscope/capabilities/from-data-file", test_dashscope_capabilities);
  g_test_add_func ("/dashscope/regions/base-urls", test_dashscope_region_urls);
  g_test_add_func ("/dashscope/models-file/damaged", test_dashscope_damaged_models_file);
  ADD_REGION ("/dashscope/submit/1080p-size", "beijing", test_dashscope_submits_1080p);
  ADD ("/dashscope/submit/validates-before-sending", test_dashscope_validates_before_sending);
  ADD ("/dashscope/submit/errors-map-to-codes", test_dashscope_create_errors);
  ADD ("/dashscope/submit/wrong-key", test_dashscope_wrong_key);
  ADD ("/dashscope/submit/key-from-environment", test_dashscope_key_from_environment);
  ADD ("/dashscope/submit/unreachable-host", test_dashscope_unreachable);
  ADD ("/dashscope/available/probe", test_dashscope_available);
  ADD ("/dashscope/poll/absorbs-faults", test_dashscope_poll_absorbs_faults);
  ADD ("/dashscope/poll/honours-retry-after", test_dashscope_poll_honours_retry_after);
  ADD ("/dashscope/poll/gives-up-keeping-task-id", test_dashscope_poll_gives_up);
  ADD ("/dashscope/poll/terminal-statuses", test_dashscope_poll_terminal_statuses);
  ADD ("/dashscope/poll/unknown-status-keeps-polling", test_dashscope_unknown_status_keeps_polling);
  ADD ("/dashscope/poll/timeout", test_dashscope_poll_timeout);
  ADD ("/dashscope/download/faults", test_dashscope_download_faults);
  ADD ("/dashscope/cancel/pending", test_dashscope_cancel_pending);
  ADD ("/dashscope/cancel/running-warns-of-charge", test_dashscope_cancel_running);
  ADD ("/dashscope/cancel/while-downloading", test_dashscope_cancel_while_downloading);
  ADD ("/dashscope/resume/after-restart", test_dashscope_resume);
  g_test_add_func ("/backend/error/codes-and-retryable", test_backend_error_codes);
  g_test_add_func ("/backend/error/retry-after-survives-copy", test_backend_error_retry_after);
  g_test_add_func ("/backend/job/lifecycle", test_backend_job_lifecycle);
  g_test_add_func ("/backend/job/wait-cancelled", test_backend_job_wait_cancelled);
  g_test_add_func ("/backend/capabilities/checks", test_backend_capabilities_checks);
  ADD ("/dashscope/secrets/key-never-leaks", test_dashscope_key_never_leaks);
#undef ADD
#undef ADD_REGION

  return g_test_run ();
}
