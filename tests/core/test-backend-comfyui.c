/* test-backend-comfyui.c: the ComfyUI backend against a loopback server that
 * runs prompts like ComfyUI does, faults included. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "fake-comfyui.h"
#include "fake-loop.h"
#include "fake-oss.h"
#include "takes-backend-comfyui.h"

#define TEST_TOKEN "comfy-token-5e6f7a8b9c0d"

typedef struct
{
  FakeComfyui *fake;
  TakesBackendComfyui *backend;
  char *dir;
  GPtrArray *progress;
  guint previews;
  GPtrArray *states;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fixture->fake = fake_comfyui_new ();
  fixture->dir = g_dir_make_tmp ("takes-comfyui-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->backend = takes_backend_comfyui_new (fake_comfyui_get_url (fixture->fake), &error);
  g_assert_no_error (error);
  takes_backend_comfyui_set_download_dir (fixture->backend, fixture->dir);
  takes_backend_comfyui_set_poll_interval (fixture->backend, 0.02);
  fixture->progress = g_ptr_array_new_with_free_func (g_free);
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
  fake_comfyui_free (fixture->fake);
  g_ptr_array_unref (fixture->progress);
  g_ptr_array_unref (fixture->states);
  fake_loop_drain ();
}

static TakesRecipe *
make_recipe (const char *model)
{
  TakesRecipe *recipe = takes_recipe_new ();

  takes_recipe_set_backend (recipe, "comfyui");
  takes_recipe_set_model (recipe, model);
  takes_recipe_set_prompt (recipe, "A paper boat drifting down a rain-filled gutter, macro shot");
  takes_recipe_set_width (recipe, 1280);
  takes_recipe_set_height (recipe, 704);
  takes_recipe_set_frames (recipe, 121);
  takes_recipe_set_fps (recipe, 24);
  takes_recipe_set_steps (recipe, 20);
  takes_recipe_set_guidance (recipe, 5.0);
  takes_recipe_set_shift (recipe, 8.0);
  takes_recipe_set_seed (recipe, 1234);
  return recipe;
}

static void
progress_cb (TakesBackendJob *job, GParamSpec *pspec, gpointer user_data)
{
  Fixture *fixture = user_data;
  double *value = g_new (double, 1);

  *value = takes_backend_job_get_progress (job);
  g_ptr_array_add (fixture->progress, value);
}

static void
state_cb (TakesBackendJob *job, GParamSpec *pspec, gpointer user_data)
{
  Fixture *fixture = user_data;

  g_ptr_array_add (fixture->states,
                   (gpointer)takes_backend_job_state_to_string (takes_backend_job_get_state (job)));
}

static void
preview_cb (TakesBackendJob *job, TakesBackendPreview *preview, gpointer user_data)
{
  Fixture *fixture = user_data;
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (takes_backend_preview_get_data (preview), &size);

  g_assert_cmpint (takes_backend_preview_get_format (preview), ==, TAKES_BACKEND_PREVIEW_PNG);
  g_assert_cmpuint (size, >=, 8);
  g_assert_true (memcmp (data, "\x89PNG", 4) == 0);
  fixture->previews++;
}

static TakesBackendJob *
submit_with (Fixture *fixture, TakesBackendComfyui *backend, TakesRecipe *recipe, GError **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  TakesBackendJob *job;

  takes_backend_submit_async (TAKES_BACKEND (backend), recipe, NULL, fake_loop_result_cb, &slot);
  result = fake_loop_wait_result (&slot);
  job = takes_backend_submit_finish (TAKES_BACKEND (backend), result, error);
  if (job != NULL)
    {
      g_signal_connect (job, "notify::progress", G_CALLBACK (progress_cb), fixture);
      g_signal_connect (job, "notify::state", G_CALLBACK (state_cb), fixture);
      g_signal_connect (job, "preview", G_CALLBACK (preview_cb), fixture);
    }
  return job;
}

static TakesBackendJob *
submit (Fixture *fixture, TakesRecipe *recipe, GError **error)
{
  return submit_with (fixture, fixture->backend, recipe, error);
}

static JsonObject *
graph_inputs (JsonObject *graph, const char *node)
{
  return json_object_get_object_member (json_object_get_object_member (graph, node), "inputs");
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

/* Graphs ------------------------------------------------------------------------------ */

static void
test_comfyui_graph_ti2v (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.2-ti2v-5b");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonNode) custom = NULL;
  JsonObject *graph, *latent, *sampler;

  takes_recipe_set_sampler (recipe, "unipc");
  root = takes_backend_comfyui_build_graph (fixture->backend, recipe, &error);
  g_assert_no_error (error);
  graph = json_node_get_object (root);
  latent = graph_inputs (graph, "7");
  g_assert_cmpint (json_object_get_int_member (latent, "width"), ==, 1280);
  g_assert_cmpint (json_object_get_int_member (latent, "height"), ==, 704);
  g_assert_cmpint (json_object_get_int_member (latent, "length"), ==, 121);
  sampler = graph_inputs (graph, "8");
  g_assert_cmpint (json_object_get_int_member (sampler, "seed"), ==, 1234);
  g_assert_cmpint (json_object_get_int_member (sampler, "steps"), ==, 20);
  g_assert_cmpfloat (json_object_get_double_member (sampler, "cfg"), ==, 5.0);
  g_assert_cmpstr (json_object_get_string_member (sampler, "sampler_name"), ==, "uni_pc");
  g_assert_cmpstr (json_object_get_string_member (graph_inputs (graph, "5"), "text"), ==,
                   takes_recipe_get_prompt (recipe));
  /* No negative prompt in the recipe: the Wan default one. */
  g_assert_true (
      g_str_has_prefix (json_object_get_string_member (graph_inputs (graph, "6"), "text"), "色调艳丽"));
  g_assert_cmpint (json_object_get_int_member (graph_inputs (graph, "10"), "fps"), ==, 24);
  g_assert_cmpstr (json_object_get_string_member (graph_inputs (graph, "1"), "unet_name"), ==,
                   "wan2.2_ti2v_5B_fp16.safetensors");
  /* Links between nodes are untouched. */
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (sampler, "model"), 0), ==,
                   "4");

  g_assert_true (takes_backend_comfyui_set_model_file (fixture->backend, "wan2.2-ti2v-5b", "unet_name",
                                                       "wan2.2_ti2v_5B_fp8.safetensors", &error));
  custom = takes_backend_comfyui_build_graph (fixture->backend, recipe, &error);
  g_assert_cmpstr (
      json_object_get_string_member (graph_inputs (json_node_get_object (custom), "1"), "unet_name"), ==,
      "wan2.2_ti2v_5B_fp8.safetensors");
  g_assert_cmpstr (takes_backend_comfyui_get_model_file (fixture->backend, "wan2.2-ti2v-5b", "unet_name"), ==,
                   "wan2.2_ti2v_5B_fp8.safetensors");
  g_assert_false (takes_backend_comfyui_set_model_file (fixture->backend, "wan2.2-ti2v-5b", "unet_name",
                                                        "../../etc/passwd", &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS);
  g_clear_error (&error);
  g_assert_false (
      takes_backend_comfyui_set_model_file (fixture->backend, "wan2.2-ti2v-5b", "lora_name", "x", &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS);
}

static void
test_comfyui_graph_a14b (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.2-t2v-a14b");
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonNode) scheduler_node = json_node_new (JSON_NODE_VALUE);
  JsonObject *graph, *high, *low;
  const char *const *files = takes_backend_comfyui_list_model_files (fixture->backend, "wan2.2-t2v-a14b");

  g_assert_cmpuint (g_strv_length ((char **)files), ==, 4);
  takes_recipe_set_guidance_pair (recipe, 4.0, 3.0);
  takes_recipe_set_steps (recipe, 40);
  takes_recipe_set_sampler (recipe, "euler");
  takes_recipe_set_fps (recipe, 16);
  takes_recipe_set_negative_prompt (recipe, "blurry");
  json_node_set_string (scheduler_node, "beta");
  takes_recipe_set_option (recipe, "scheduler", scheduler_node);
  root = takes_backend_comfyui_build_graph (fixture->backend, recipe, &error);
  g_assert_no_error (error);
  graph = json_node_get_object (root);
  high = graph_inputs (graph, "8");
  low = graph_inputs (graph, "8b");
  g_assert_cmpfloat (json_object_get_double_member (high, "cfg"), ==, 4.0);
  g_assert_cmpfloat (json_object_get_double_member (low, "cfg"), ==, 3.0);
  g_assert_cmpint (json_object_get_int_member (high, "steps"), ==, 40);
  g_assert_cmpint (json_object_get_int_member (low, "steps"), ==, 40);
  /* The high-noise expert hands over halfway. */
  g_assert_cmpint (json_object_get_int_member (high, "end_at_step"), ==, 20);
  g_assert_cmpint (json_object_get_int_member (low, "start_at_step"), ==, 20);
  g_assert_cmpint (json_object_get_int_member (high, "noise_seed"), ==, 1234);
  g_assert_cmpstr (json_object_get_string_member (high, "scheduler"), ==, "beta");
  g_assert_cmpstr (json_object_get_string_member (low, "scheduler"), ==, "beta");
  g_assert_cmpfloat (json_object_get_double_member (graph_inputs (graph, "4b"), "shift"), ==, 8.0);
  g_assert_cmpstr (json_object_get_string_member (graph_inputs (graph, "6"), "text"), ==, "blurry");
  g_assert_cmpstr (json_object_get_string_member (graph_inputs (graph, "1b"), "unet_name"), ==,
                   "wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors");
  g_assert_cmpstr (json_object_get_string_member (graph_inputs (graph, "3"), "vae_name"), ==,
                   "wan_2.1_vae.safetensors");
  g_assert_cmpint (json_object_get_int_member (graph_inputs (graph, "10"), "fps"), ==, 16);
}

static void
test_comfyui_validates (Fixture *fixture, gconstpointer data)
{
  struct
  {
    const char *model;
    guint width, height, frames;
    int code;
  } cases[] = {
    { "wan2.2-ti2v-5b", 1280, 720, 121,
      TAKES_BACKEND_ERROR_BAD_PARAMETERS }, /* 720 is not a multiple of 32 */
    { "wan2.2-ti2v-5b", 1280, 704, 120, TAKES_BACKEND_ERROR_BAD_PARAMETERS }, /* not 4n+1 */
    { "wan2.2-t2v-a14b", 8192, 704, 121, TAKES_BACKEND_ERROR_BAD_PARAMETERS },
    { "wan9-imaginary", 1280, 704, 121, TAKES_BACKEND_ERROR_MISSING_MODEL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (TakesRecipe) recipe = make_recipe (cases[i].model);
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesBackendJob) job = NULL;

      takes_recipe_set_width (recipe, cases[i].width);
      takes_recipe_set_height (recipe, cases[i].height);
      takes_recipe_set_frames (recipe, cases[i].frames);
      g_assert_false (takes_backend_validate (TAKES_BACKEND (fixture->backend), recipe, &error));
      g_assert_error (error, TAKES_BACKEND_ERROR, cases[i].code);
      g_clear_error (&error);
      job = submit (fixture, recipe, &error);
      g_assert_null (job);
      g_assert_error (error, TAKES_BACKEND_ERROR, cases[i].code);
    }
  g_assert_cmpuint (fake_comfyui_get_n_prompts (fixture->fake), ==, 0);
}

static void
test_comfyui_damaged_template (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-templates-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "comfyui-broken.json", NULL);
  const char *bodies[] = {
    "{\"model\": \"x\", \"graph\": {",
    "{\"model\": \"x\", \"graph\": {\"1\": {\"class_type\": \"A\", \"inputs\": {}}}, \"parameters\": "
    "{\"prompt\": [[\"9\", \"text\"]]}, \"defaults\": {}, \"constraints\": {}, \"model_files\": {}, "
    "\"output_node\": \"1\"}",
  };
  TakesBackendComfyui *backend;

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (bodies); i++)
    {
      g_assert_true (g_file_set_contents (path, bodies[i], -1, NULL));
      backend = takes_backend_comfyui_new_with_templates (NULL, dir, &error);
      g_assert_null (backend);
      g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS);
      g_assert_nonnull (strstr (error->message, "damaged"));
      g_clear_error (&error);
    }
  g_unlink (path);
  backend = takes_backend_comfyui_new_with_templates (NULL, dir, &error);
  g_assert_null (backend);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS);
  g_rmdir (dir);
}

/* Running ---------------------------------------------------------------------------------- */

static void
assert_progress_rises (Fixture *fixture)
{
  double last = -1;

  g_assert_cmpuint (fixture->progress->len, >, 3);
  for (guint i = 0; i < fixture->progress->len; i++)
    {
      double value = *(double *)g_ptr_array_index (fixture->progress, i);

      g_assert_cmpfloat (value, >=, last);
      last = value;
    }
  g_assert_cmpfloat (last, ==, 1.0);
}

static void
test_comfyui_succeeds (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.2-ti2v-5b");
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GBytes) video = fake_oss_make_content (150 * 1024, 23);
  g_autofree char *contents = NULL;
  gsize length = 0;
  JsonObject *graph;

  fake_comfyui_set_video (fixture->fake, video);
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  g_assert_nonnull (takes_backend_job_get_remote_task_id (job));
  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);

  g_assert_true (g_file_get_contents (takes_backend_job_get_result_path (job), &contents, &length, NULL));
  g_assert_cmpuint (length, ==, g_bytes_get_size (video));
  g_assert_true (memcmp (contents, g_bytes_get_data (video, NULL), length) == 0);
  g_assert_true (g_str_has_suffix (takes_backend_job_get_result_path (job), ".mp4"));
  g_assert_cmpuint (count_files (fixture->dir), ==, 1);
  assert_progress_rises (fixture);
  /* One preview per sampler step, all delivered to this job. */
  g_assert_cmpuint (fixture->previews, ==, 3);
  g_assert_cmpuint (fake_comfyui_get_n_previews (fixture->fake), ==, 3);
  g_assert_cmpstr (g_ptr_array_index (fixture->states, 0), ==, "running");
  g_assert_cmpstr (g_ptr_array_index (fixture->states, fixture->states->len - 1), ==, "succeeded");
  g_assert_cmpfloat (takes_backend_job_get_cost (job), ==, 0.0);
  g_assert_cmpfloat (takes_backend_job_get_seconds_spent (job), >, 0.0);
  graph = fake_comfyui_get_last_graph (fixture->fake);
  g_assert_cmpint (json_object_get_int_member (graph_inputs (graph, "8"), "seed"), ==, 1234);
}

static void
test_comfyui_two_stage_progress (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.2-t2v-a14b");
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  gboolean past_half = FALSE;

  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);
  assert_progress_rises (fixture);
  /* The second sampler continues where the first stopped: no restart at 0. */
  for (guint i = 0; i < fixture->progress->len; i++)
    if (*(double *)g_ptr_array_index (fixture->progress, i) > 0.45)
      past_half = TRUE;
  g_assert_true (past_half);
  g_assert_cmpuint (fixture->previews, ==, 6);
}

static void
test_comfyui_missing_node (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.2-ti2v-5b");
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;

  fake_comfyui_remove_node (fixture->fake, "Wan22ImageToVideoLatent");
  job = submit (fixture, recipe, &error);
  g_assert_null (job);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_NODE);
  g_assert_nonnull (strstr (error->message, "Wan22ImageToVideoLatent"));
  g_assert_false (takes_backend_error_is_retryable (error));
  g_assert_cmpuint (fake_comfyui_get_n_prompts (fixture->fake), ==, 0);
}

static void
test_comfyui_missing_model (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.2-ti2v-5b");
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (TakesBackendJob) custom = NULL;

  fake_comfyui_remove_model (fixture->fake, "vae", "wan2.2_vae.safetensors");
  job = submit (fixture, recipe, &error);
  g_assert_null (job);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL);
  g_assert_nonnull (strstr (error->message, "wan2.2_vae.safetensors"));
  g_assert_nonnull (strstr (error->message, "models/vae"));
  g_clear_error (&error);

  /* A file name chosen in Preferences is checked the same way. */
  g_assert_true (takes_backend_comfyui_set_model_file (fixture->backend, "wan2.2-ti2v-5b", "vae_name",
                                                       "my_vae.safetensors", &error));
  custom = submit (fixture, recipe, &error);
  g_assert_null (custom);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL);
  g_assert_nonnull (strstr (error->message, "my_vae.safetensors"));
  g_assert_cmpuint (fake_comfyui_get_n_prompts (fixture->fake), ==, 0);
}

static void
test_comfyui_prompt_rejected (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.2-ti2v-5b");
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (TakesBackendJob) old_server = NULL;

  fake_comfyui_reject_next_prompt (fixture->fake, "8", "KSampler", "value_bigger_than_max",
                                   "steps: 20000 is bigger than max of 10000");
  job = submit (fixture, recipe, &error);
  g_assert_null (job);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS);
  g_assert_nonnull (strstr (error->message, "bigger than max"));
  g_clear_error (&error);

  /* A server without /models: the file is only found missing by /prompt's own
   * validation, and is still reported as a missing model. */
  fake_comfyui_set_faults (fixture->fake, FAKE_COMFYUI_FAULT_NO_MODELS_ROUTE);
  fake_comfyui_remove_model (fixture->fake, "diffusion_models", "wan2.2_ti2v_5B_fp16.safetensors");
  old_server = submit (fixture, recipe, &error);
  g_assert_null (old_server);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL);
  g_assert_nonnull (strstr (error->message, "wan2.2_ti2v_5B_fp16.safetensors"));
}

static void
test_comfyui_faults_fall_back_to_history (Fixture *fixture, gconstpointer data)
{
  guint faults[] = {
    FAKE_COMFYUI_FAULT_WS_DROP,
    FAKE_COMFYUI_FAULT_NO_WEBSOCKET,
    FAKE_COMFYUI_FAULT_NO_WEBSOCKET | FAKE_COMFYUI_FAULT_HISTORY_GLITCH,
  };

  for (guint i = 0; i < G_N_ELEMENTS (faults); i++)
    {
      g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.2-ti2v-5b");
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesBackendJob) job = NULL;
      guint history_before = fake_comfyui_get_n_history (fixture->fake);

      fake_comfyui_set_faults (fixture->fake, faults[i]);
      job = submit (fixture, recipe, &error);
      g_assert_no_error (error);
      g_assert_true (fake_loop_wait_job (job, &error));
      g_assert_no_error (error);
      g_assert_true (g_file_test (takes_backend_job_get_result_path (job), G_FILE_TEST_IS_REGULAR));
      g_assert_cmpuint (fake_comfyui_get_n_history (fixture->fake), >, history_before);
      g_unlink (takes_backend_job_get_result_path (job));
    }
}

static void
test_comfyui_execution_errors (Fixture *fixture, gconstpointer data)
{
  struct
  {
    guint fault;
    int code;
    const char *text;
  } cases[] = {
    { FAKE_COMFYUI_FAULT_OOM, TAKES_BACKEND_ERROR_OUT_OF_MEMORY, "CUDA out of memory" },
    { FAKE_COMFYUI_FAULT_EXEC_ERROR, TAKES_BACKEND_ERROR_SERVER, "same device" },
    { FAKE_COMFYUI_FAULT_OOM | FAKE_COMFYUI_FAULT_NO_WEBSOCKET, TAKES_BACKEND_ERROR_OUT_OF_MEMORY,
      "CUDA out of memory" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.2-ti2v-5b");
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesBackendJob) job = NULL;

      fake_comfyui_set_faults (fixture->fake, cases[i].fault);
      job = submit (fixture, recipe, &error);
      g_assert_no_error (error);
      g_assert_false (fake_loop_wait_job (job, &error));
      g_assert_error (error, TAKES_BACKEND_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].text));
      g_assert_cmpint (takes_backend_job_get_state (job), ==, TAKES_BACKEND_JOB_STATE_FAILED);
    }
  g_assert_cmpuint (count_files (fixture->dir), ==, 0);
}

static void
test_comfyui_cancel_pending (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.2-ti2v-5b");
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;

  fake_comfyui_set_faults (fixture->fake, FAKE_COMFYUI_FAULT_BUSY);
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  g_assert_cmpint (takes_backend_job_get_state (job), ==, TAKES_BACKEND_JOB_STATE_SUBMITTED);
  takes_backend_cancel (TAKES_BACKEND (fixture->backend), job);
  g_assert_false (fake_loop_wait_job (job, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED);
  g_assert_cmpuint (fake_comfyui_get_n_deletes (fixture->fake), ==, 1);
  /* Someone else's running prompt was left alone. */
  g_assert_cmpuint (fake_comfyui_get_n_interrupts (fixture->fake), ==, 0);
}

static void
cancel_when_progressing_cb (TakesBackendJob *job, GParamSpec *pspec, gpointer user_data)
{
  if (takes_backend_job_get_progress (job) > 0)
    takes_backend_job_cancel (job);
}

static void
test_comfyui_cancel_running (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.2-ti2v-5b");
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = NULL;

  fake_comfyui_set_faults (fixture->fake, FAKE_COMFYUI_FAULT_HANG);
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  g_signal_connect (job, "notify::progress", G_CALLBACK (cancel_when_progressing_cb), NULL);
  g_assert_false (fake_loop_wait_job (job, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED);
  g_assert_cmpuint (fake_comfyui_get_n_interrupts (fixture->fake), ==, 1);
  g_assert_cmpuint (fake_comfyui_get_n_deletes (fixture->fake), ==, 0);
  g_assert_cmpuint (count_files (fixture->dir), ==, 0);
}

static TakesBackendJob *
resume (TakesBackendComfyui *backend, TakesRecipe *recipe, const char *prompt_id, GError **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  takes_backend_resume_async (TAKES_BACKEND (backend), recipe, prompt_id, NULL, fake_loop_result_cb, &slot);
  result = fake_loop_wait_result (&slot);
  return takes_backend_resume_finish (TAKES_BACKEND (backend), result, error);
}

static void
test_comfyui_resume (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.2-ti2v-5b");
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) first = NULL;
  g_autoptr (TakesBackendJob) resumed = NULL;
  g_autoptr (TakesBackendJob) finished = NULL;
  g_autoptr (TakesBackendJob) unknown = NULL;
  g_autoptr (TakesBackendComfyui) restarted = NULL;
  g_autofree char *other_dir = g_build_filename (fixture->dir, "restarted", NULL);
  g_autofree char *prompt_id = NULL;

  /* A prompt waits behind someone else's; a restarted Takes picks it up. */
  fake_comfyui_set_faults (fixture->fake, FAKE_COMFYUI_FAULT_BUSY);
  first = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  prompt_id = g_strdup (takes_backend_job_get_remote_task_id (first));
  restarted = takes_backend_comfyui_new (fake_comfyui_get_url (fixture->fake), &error);
  g_assert_no_error (error);
  takes_backend_comfyui_set_download_dir (restarted, other_dir);
  takes_backend_comfyui_set_poll_interval (restarted, 0.02);
  resumed = resume (restarted, recipe, prompt_id, &error);
  g_assert_no_error (error);
  g_assert_cmpint (takes_backend_job_get_state (resumed), ==, TAKES_BACKEND_JOB_STATE_SUBMITTED);
  fake_comfyui_set_faults (fixture->fake, FAKE_COMFYUI_FAULT_NONE);
  g_assert_true (fake_loop_wait_job (resumed, &error));
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (takes_backend_job_get_result_path (resumed), other_dir));
  g_assert_true (fake_loop_wait_job (first, &error));
  g_assert_no_error (error);

  /* Resuming a prompt that already finished just fetches its video. */
  finished = resume (restarted, recipe, prompt_id, &error);
  g_assert_no_error (error);
  g_assert_true (fake_loop_wait_job (finished, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (fake_comfyui_get_n_prompts (fixture->fake), ==, 1);

  unknown = resume (restarted, recipe, "5d3c9a6e-0000-4000-8000-000000000000", &error);
  g_assert_null (unknown);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NOT_FOUND);
  g_clear_error (&error);
  unknown = resume (restarted, recipe, "../history", &error);
  g_assert_null (unknown);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NOT_FOUND);

  g_unlink (takes_backend_job_get_result_path (resumed));
  g_rmdir (other_dir);
}

static void
test_comfyui_token (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe ("wan2.2-ti2v-5b");
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) refused = NULL;
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (TakesBackendJob) from_env = NULL;

  fake_comfyui_set_token (fixture->fake, TEST_TOKEN);
  refused = submit (fixture, recipe, &error);
  g_assert_null (refused);
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_UNAUTHORIZED);
  g_clear_error (&error);

  takes_backend_comfyui_set_token (fixture->backend, TEST_TOKEN);
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);
  g_unlink (takes_backend_job_get_result_path (job));

  takes_backend_comfyui_set_token (fixture->backend, NULL);
  g_setenv ("TAKES_COMFYUI_TOKEN", TEST_TOKEN, TRUE);
  from_env = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  g_assert_true (fake_loop_wait_job (from_env, &error));
  g_unsetenv ("TAKES_COMFYUI_TOKEN");

  g_assert_null (strstr (fake_log_captured->str, TEST_TOKEN));
}

static void
test_comfyui_available (Fixture *fixture, gconstpointer data)
{
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) ok = NULL;
  g_autoptr (GAsyncResult) partial = NULL;
  g_autoptr (GAsyncResult) none = NULL;
  g_autoptr (GAsyncResult) unreachable = NULL;
  g_autoptr (GError) error = NULL;

  takes_backend_check_available_async (TAKES_BACKEND (fixture->backend), NULL, fake_loop_result_cb, &slot);
  ok = fake_loop_wait_result (&slot);
  g_assert_true (takes_backend_check_available_finish (TAKES_BACKEND (fixture->backend), ok, &error));
  g_assert_no_error (error);

  /* Without the 14B files the 5B workflow still works: available. */
  fake_comfyui_remove_model (fixture->fake, "diffusion_models",
                             "wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors");
  takes_backend_check_available_async (TAKES_BACKEND (fixture->backend), NULL, fake_loop_result_cb, &slot);
  partial = fake_loop_wait_result (&slot);
  g_assert_true (takes_backend_check_available_finish (TAKES_BACKEND (fixture->backend), partial, &error));

  fake_comfyui_remove_node (fixture->fake, "CreateVideo");
  takes_backend_check_available_async (TAKES_BACKEND (fixture->backend), NULL, fake_loop_result_cb, &slot);
  none = fake_loop_wait_result (&slot);
  g_assert_false (takes_backend_check_available_finish (TAKES_BACKEND (fixture->backend), none, &error));
  g_assert_true (g_error_matches (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_NODE)
                 || g_error_matches (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL));
  g_clear_error (&error);

  /* A password in the address never shows in a message. */
  takes_backend_comfyui_set_url (fixture->backend, "http://admin:hunter2-pw@127.0.0.1:9");
  takes_backend_check_available_async (TAKES_BACKEND (fixture->backend), NULL, fake_loop_result_cb, &slot);
  unreachable = fake_loop_wait_result (&slot);
  g_assert_false (
      takes_backend_check_available_finish (TAKES_BACKEND (fixture->backend), unreachable, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NETWORK);
  g_assert_null (strstr (error->message, "hunter2-pw"));
}

static void
test_comfyui_capabilities (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesBackendCapabilities) caps
      = takes_backend_get_capabilities (TAKES_BACKEND (fixture->backend));
  TakesBackendModelCaps *ti2v = takes_backend_capabilities_lookup_model (caps, "wan2.2-ti2v-5b");
  TakesBackendModelCaps *a14b = takes_backend_capabilities_lookup_model (caps, "wan2.2-t2v-a14b");

  g_assert_cmpstr (takes_backend_get_id (TAKES_BACKEND (fixture->backend)), ==, "comfyui");
  g_assert_cmpuint (caps->max_concurrent_jobs, ==, 1);
  g_assert_nonnull (ti2v);
  g_assert_nonnull (a14b);
  g_assert_cmpuint (ti2v->size_step, ==, 32);
  g_assert_cmpuint (a14b->size_step, ==, 16);
  g_assert_cmpuint (ti2v->frame_step, ==, 4);
  g_assert_cmpfloat (ti2v->fps, ==, 24);
  g_assert_cmpfloat (a14b->fps, ==, 16);
  g_assert_cmpfloat (ti2v->price_per_second, ==, 0.0);
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
  g_unsetenv ("TAKES_COMFYUI_TOKEN");

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/comfyui/graph/ti2v-5b", test_comfyui_graph_ti2v);
  ADD ("/comfyui/graph/t2v-a14b-two-stage", test_comfyui_graph_a14b);
  ADD ("/comfyui/capabilities/from-templates", test_comfyui_capabilities);
  ADD ("/comfyui/validate/before-sending", test_comfyui_validates);
  g_test_add_func ("/comfyui/templates/damaged", test_comfyui_damaged_template);
  ADD ("/comfyui/submit/succeeds-with-progress-and-previews", test_comfyui_succeeds);
  ADD ("/comfyui/submit/two-stage-progress", test_comfyui_two_stage_progress);
  ADD ("/comfyui/preflight/missing-node", test_comfyui_missing_node);
  ADD ("/comfyui/preflight/missing-model", test_comfyui_missing_model);
  ADD ("/comfyui/prompt/node-errors", test_comfyui_prompt_rejected);
  ADD ("/comfyui/websocket/faults-fall-back-to-history", test_comfyui_faults_fall_back_to_history);
  ADD ("/comfyui/execution/errors", test_comfyui_execution_errors);
  ADD ("/comfyui/cancel/pending-is-deleted", test_comfyui_cancel_pending);
  ADD ("/comfyui/cancel/running-is-interrupted", test_comfyui_cancel_running);
  ADD ("/comfyui/resume/after-restart", test_comfyui_resume);
  ADD ("/comfyui/token/required-and-never-logged", test_comfyui_token);
  ADD ("/comfyui/available/nodes-and-models", test_comfyui_available);
#undef ADD

  return g_test_run ();
}
