/* test-backend-local.c: the local backend on the tiny model, end to end. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "fake-loop.h"
#include "review-test-util.h"
#include "takes-backend-local.h"
#include "takes-engine.h"
#include "takes-media.h"
#include "test-store-util.h"

typedef struct
{
  char *dir;
  char *output;
  TakesBackendLocal *backend;
  guint n_previews;
  gboolean saw_running;
  gboolean saw_progress;
  char *cancel_at; /* cancel the job when its stage starts with this */
} Fixture;

static guint
count_files (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* One tiny model for the whole program: making it is the slow part. */
static char *shared_cache;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("takes-local-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->output = g_build_filename (fixture->dir, "downloads", NULL);
  fixture->backend = takes_backend_local_new ();
  takes_backend_local_set_cache_dir (fixture->backend, shared_cache);
  takes_backend_local_set_output_dir (fixture->backend, fixture->output);
  takes_backend_local_set_n_threads (fixture->backend, 2);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  g_assert_finalize_object (fixture->backend);
  fake_loop_drain ();
  store_test_rm_rf (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->output);
  g_free (fixture->cancel_at);
}

static TakesRecipe *
make_recipe (guint64 seed)
{
  TakesRecipe *recipe = takes_recipe_new ();

  takes_recipe_set_backend (recipe, "local");
  takes_recipe_set_model (recipe, TAKES_BACKEND_LOCAL_TINY_MODEL);
  takes_recipe_set_prompt (recipe, "A kite over a windy beach, wide shot");
  takes_recipe_set_width (recipe, 64);
  takes_recipe_set_height (recipe, 48);
  takes_recipe_set_frames (recipe, 9);
  takes_recipe_set_fps (recipe, 12);
  takes_recipe_set_steps (recipe, 2);
  takes_recipe_set_seed (recipe, (gint64)seed);
  return recipe;
}

static void
changed_cb (TakesBackendJob *job, gpointer user_data)
{
  Fixture *fixture = user_data;
  const char *stage = takes_backend_job_get_stage (job);

  if (takes_backend_job_get_state (job) == TAKES_BACKEND_JOB_STATE_RUNNING)
    fixture->saw_running = TRUE;
  if (takes_backend_job_get_has_progress (job) && takes_backend_job_get_progress (job) > 0
      && !takes_backend_job_is_finished (job))
    fixture->saw_progress = TRUE;
  if (fixture->cancel_at != NULL && stage != NULL && g_str_has_prefix (stage, fixture->cancel_at))
    takes_backend_job_cancel (job);
}

static void
preview_cb (TakesBackendJob *job, TakesBackendPreview *preview, gpointer user_data)
{
  Fixture *fixture = user_data;
  gsize size = 0;

  g_assert_cmpint (takes_backend_preview_get_format (preview), ==, TAKES_BACKEND_PREVIEW_RGB);
  g_bytes_get_data (takes_backend_preview_get_data (preview), &size);
  g_assert_cmpuint (
      size, ==, takes_backend_preview_get_width (preview) * takes_backend_preview_get_height (preview) * 3);
  g_assert_cmpuint (takes_backend_preview_get_width (preview), <=, WAN_PREVIEW_MAX_SIZE);
  fixture->n_previews++;
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
    {
      g_signal_connect (job, "changed", G_CALLBACK (changed_cb), fixture);
      g_signal_connect (job, "preview", G_CALLBACK (preview_cb), fixture);
    }
  return job;
}

/* Takes ------------------------------------------------------------------------ */

static void
test_take_end_to_end (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe (11);
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRecipe) tagged = NULL;
  const char *path;

  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (takes_backend_job_get_backend_id (job), ==, "local");
  g_assert_false (takes_backend_job_is_finished (job));
  g_assert_true (fake_loop_wait_job (job, &error));
  g_assert_no_error (error);
  g_assert_true (fixture->saw_running);
  g_assert_true (fixture->saw_progress);
  g_assert_cmpuint (fixture->n_previews, >=, 1);
  g_assert_cmpfloat (takes_backend_job_get_cost (job), ==, 0.0);
  g_assert_cmpfloat (takes_backend_job_get_seconds_spent (job), >, 0.0);

  /* The result lies in the output folder, alone: no temporary file left. */
  path = takes_backend_job_get_result_path (job);
  g_assert_true (g_str_has_prefix (path, fixture->output));
  g_assert_true (g_str_has_suffix (path, ".mp4"));
  g_assert_cmpuint (count_files (fixture->output), ==, 1);
  info = takes_media_probe (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->width, ==, 64);
  g_assert_cmpint (info->height, ==, 48);
  g_assert_cmpuint (info->n_frames, ==, 9);
  g_assert_cmpint (info->fps_n, ==, 12 * info->fps_d);
  g_assert_nonnull (info->recipe_json);
  tagged = takes_recipe_new_from_json (info->recipe_json, -1, &error);
  g_assert_no_error (error);
  g_assert_true (takes_recipe_equal (tagged, recipe));
  g_assert_true (takes_backend_local_model_is_tiny (takes_recipe_get_model (tagged)));
}

static void
test_take_same_seed_same_frames (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe (5);
  g_autoptr (TakesRecipe) other = make_recipe (6);
  g_autoptr (TakesBackendJob) first = NULL;
  g_autoptr (TakesBackendJob) second = NULL;
  g_autoptr (TakesBackendJob) third = NULL;
  g_autoptr (GByteArray) a = NULL;
  g_autoptr (GByteArray) b = NULL;
  g_autoptr (GByteArray) c = NULL;
  g_autoptr (GError) error = NULL;

  /* Queued together: the second waits for the first. */
  first = submit (fixture, recipe, &error);
  second = submit (fixture, recipe, &error);
  third = submit (fixture, other, &error);
  g_assert_no_error (error);
  g_assert_cmpint (takes_backend_job_get_state (second), ==, TAKES_BACKEND_JOB_STATE_QUEUED);
  g_assert_true (fake_loop_wait_job (first, &error));
  g_assert_true (fake_loop_wait_job (second, &error));
  g_assert_true (fake_loop_wait_job (third, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (takes_backend_job_get_result_path (first), !=, takes_backend_job_get_result_path (second));

  a = review_test_decode (takes_backend_job_get_result_path (first));
  b = review_test_decode (takes_backend_job_get_result_path (second));
  c = review_test_decode (takes_backend_job_get_result_path (third));
  g_assert_cmpuint (a->len, ==, 64 * 48 * 3 * 9);
  g_assert_cmpmem (a->data, a->len, b->data, b->len);
  g_assert_cmpuint (c->len, ==, a->len);
  g_assert_true (memcmp (a->data, c->data, a->len) != 0);
}

/* Cancelling ------------------------------------------------------------------- */

static void
check_cancelled_without_files (Fixture *fixture, TakesBackendJob *job)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (fake_loop_wait_job (job, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED);
  g_assert_cmpint (takes_backend_job_get_state (job), ==, TAKES_BACKEND_JOB_STATE_CANCELLED);
  g_assert_null (takes_backend_job_get_result_path (job));
  g_assert_cmpuint (count_files (fixture->output), ==, 0);
}

static void
test_cancel_mid_denoise (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe (3);
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GError) error = NULL;

  /* Enough steps that the main loop hears of the first long before the
   * last. */
  takes_recipe_set_steps (recipe, TAKES_RECIPE_MAX_STEPS);
  fixture->cancel_at = g_strdup ("Denoising");
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  check_cancelled_without_files (fixture, job);
}

static void
test_cancel_mid_decode (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe (3);
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GError) error = NULL;

  /* Several latent frames, so the decode is stopped between two of them
   * (or, at the latest, before the first frame is encoded). */
  takes_recipe_set_steps (recipe, 1);
  takes_recipe_set_frames (recipe, 41);
  fixture->cancel_at = g_strdup ("Decoding");
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  check_cancelled_without_files (fixture, job);
}

static void
test_cancel_while_queued (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe (3);
  g_autoptr (TakesBackendJob) first = NULL;
  g_autoptr (TakesBackendJob) second = NULL;
  g_autoptr (GError) error = NULL;

  first = submit (fixture, recipe, &error);
  second = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  takes_backend_job_cancel (second);
  g_assert_true (fake_loop_wait_job (first, &error));
  g_assert_no_error (error);
  g_assert_false (fake_loop_wait_job (second, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED);
  g_assert_cmpuint (count_files (fixture->output), ==, 1);
}

/* Refusals --------------------------------------------------------------------- */

static void
test_validate_bad_recipes (Fixture *fixture, gconstpointer data)
{
  struct
  {
    guint width, height, frames;
    const char *model;
    const char *prompt;
    TakesBackendError code;
  } cases[] = {
    { 72, 48, 9, TAKES_BACKEND_LOCAL_TINY_MODEL, "a cat", TAKES_BACKEND_ERROR_BAD_PARAMETERS },
    { 64, 48, 10, TAKES_BACKEND_LOCAL_TINY_MODEL, "a cat", TAKES_BACKEND_ERROR_BAD_PARAMETERS },
    { 64, 48, 9, TAKES_BACKEND_LOCAL_TINY_MODEL, "", TAKES_BACKEND_ERROR_BAD_PARAMETERS },
    { 64, 48, 9, "wan9.9-t2v-huge", "a cat", TAKES_BACKEND_ERROR_MISSING_MODEL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (TakesRecipe) recipe = make_recipe (1);
      g_autoptr (TakesBackendJob) job = NULL;
      g_autoptr (GError) error = NULL;

      takes_recipe_set_width (recipe, cases[i].width);
      takes_recipe_set_height (recipe, cases[i].height);
      takes_recipe_set_frames (recipe, cases[i].frames);
      takes_recipe_set_model (recipe, cases[i].model);
      takes_recipe_set_prompt (recipe, cases[i].prompt);
      g_assert_false (takes_backend_validate (TAKES_BACKEND (fixture->backend), recipe, &error));
      g_assert_error (error, TAKES_BACKEND_ERROR, (gint)cases[i].code);
      g_clear_error (&error);
      job = submit (fixture, recipe, &error);
      g_assert_null (job);
      g_assert_error (error, TAKES_BACKEND_ERROR, (gint)cases[i].code);
    }
  g_assert_cmpuint (count_files (fixture->output), ==, 0);
}

static void
test_refused_out_of_memory (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe (1);
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GError) error = NULL;

  g_setenv ("TAKES_ENGINE_MEMORY_LIMIT", "1000", TRUE);
  job = submit (fixture, recipe, &error);
  g_assert_no_error (error);
  g_assert_false (fake_loop_wait_job (job, &error));
  g_unsetenv ("TAKES_ENGINE_MEMORY_LIMIT");
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_OUT_OF_MEMORY);
  g_assert_false (takes_backend_error_is_retryable (error));
  g_assert_cmpuint (count_files (fixture->output), ==, 0);
}

/* Models ----------------------------------------------------------------------- */

static void
test_models_capabilities (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesBackendCapabilities) caps
      = takes_backend_get_capabilities (TAKES_BACKEND (fixture->backend));
  TakesBackendModelCaps *tiny
      = takes_backend_capabilities_lookup_model (caps, TAKES_BACKEND_LOCAL_TINY_MODEL);

  g_assert_cmpstr (takes_backend_get_id (TAKES_BACKEND (fixture->backend)), ==, "local");
  g_assert_cmpuint (caps->max_concurrent_jobs, ==, 1);
  g_assert_true (caps->negative_prompt);
  g_assert_true (caps->seed);
  g_assert_nonnull (tiny);
  g_assert_cmpuint (tiny->size_step, ==, 16);
  g_assert_cmpuint (tiny->frame_step, ==, 4);
  g_assert_cmpfloat (tiny->price_per_second, ==, 0.0);
  g_assert_cmpfloat (tiny->fps, >, 0.0);
}

static void
test_models_incomplete_folder_explained (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRecipe) recipe = make_recipe (1);
  g_autofree char *folder = g_build_filename (fixture->dir, "models", "wan", NULL);
  g_autofree char *parent = g_path_get_dirname (folder);
  g_autofree char *tokenizer = g_build_filename (folder, "google", "umt5-xxl", "tokenizer.json", NULL);
  const char *folders[] = { parent, NULL };

  g_assert_true (wan_tiny_model_write (folder, WAN_ARCH_WAN21_T2V_1_3B, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_unlink (tokenizer), ==, 0);
  takes_backend_local_set_model_folders (fixture->backend, folders);
  g_assert_cmpstrv (takes_backend_local_get_model_folders (fixture->backend), folders);

  takes_recipe_set_model (recipe, "wan2.1-t2v-1.3b");
  g_assert_false (takes_backend_validate (TAKES_BACKEND (fixture->backend), recipe, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL);
  /* The engine's own sentence about the folder is passed on. */
  g_assert_nonnull (strstr (error->message, folder));
  g_assert_nonnull (strstr (error->message, "tokenizer"));
  store_test_rm_rf (parent);
}

static void
test_models_tiny_remade_when_damaged (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *cache = g_build_filename (fixture->dir, "cache", NULL);
  g_autofree char *dir = NULL;
  g_autofree char *again = NULL;
  g_autofree char *vae = NULL;

  takes_backend_local_set_cache_dir (fixture->backend, cache);
  dir = takes_backend_local_find_model (fixture->backend, TAKES_BACKEND_LOCAL_TINY_MODEL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (dir, cache));
  vae = g_build_filename (dir, "Wan2.1_VAE.safetensors", NULL);
  g_assert_true (g_file_set_contents (vae, "not weights", -1, NULL));

  again = takes_backend_local_find_model (fixture->backend, TAKES_BACKEND_LOCAL_TINY_MODEL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, dir);
  g_assert_cmpuint (count_files (cache), ==, 1);
  {
    g_autoptr (WanModelSet) set = wan_model_set_load (again, &error);

    g_assert_no_error (error);
    g_assert_cmpint (wan_model_set_get_arch (set), ==, WAN_ARCH_TINY);
  }
}

static void
test_resume_refused (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = make_recipe (1);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  GAsyncResult *slot = NULL;

  takes_backend_resume_async (TAKES_BACKEND (fixture->backend), recipe, "local-1", NULL, fake_loop_result_cb,
                              &slot);
  result = fake_loop_wait_result (&slot);
  g_assert_null (takes_backend_resume_finish (TAKES_BACKEND (fixture->backend), result, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NOT_FOUND);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  g_test_init (&argc, &argv, NULL);
  shared_cache = g_dir_make_tmp ("takes-local-cache-XXXXXX", &error);
  g_assert_no_error (error);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/backend-local/take/end-to-end-mp4", test_take_end_to_end);
  ADD ("/backend-local/take/same-seed-same-frames", test_take_same_seed_same_frames);
  ADD ("/backend-local/cancel/mid-denoise-leaves-no-file", test_cancel_mid_denoise);
  ADD ("/backend-local/cancel/mid-decode-leaves-no-file", test_cancel_mid_decode);
  ADD ("/backend-local/cancel/while-queued", test_cancel_while_queued);
  ADD ("/backend-local/validate/bad-recipes-rejected", test_validate_bad_recipes);
  ADD ("/backend-local/plan/out-of-memory-refused", test_refused_out_of_memory);
  ADD ("/backend-local/models/capabilities", test_models_capabilities);
  ADD ("/backend-local/models/incomplete-folder-explained", test_models_incomplete_folder_explained);
  ADD ("/backend-local/models/tiny-remade-when-damaged", test_models_tiny_remade_when_damaged);
  ADD ("/backend-local/resume/refused", test_resume_refused);
#undef ADD

  status = g_test_run ();
  store_test_rm_rf (shared_cache);
  g_free (shared_cache);
  return status;
}
