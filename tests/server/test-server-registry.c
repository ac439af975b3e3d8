/* test-server-registry.c: a takes-server used the way the studio and
 * takes-cli use one: the "takes-server" backend made by the registry from
 * TAKES_SERVER_URL, with the shipped models file, driven by the queue. The
 * server runs in this process and serves the tiny model of the local engine.
 *
 * Also checks that the shipped models file offers only what the server's
 * engine accepts: every size and duration of the tiny model, and the frame
 * rates of the official models.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "fake-loop.h"
#include "takes-backend-dashscope.h"
#include "takes-backend-local.h"
#include "takes-backend-registry.h"
#include "takes-media.h"
#include "takes-paths.h"
#include "takes-queue.h"
#include "takes-server.h"
#include "test-store-util.h"

#define TEST_TOKEN "tk-registry-0123456789abcdef"

typedef struct
{
  char *dir;
  char *library;
  TakesBackendLocal *local;
  TakesServer *server;
  TakesBackend *client;
} Fixture;

/* One server for every case, set up before any thread starts: the
 * environment the registry reads is written only then. */
static void
fixture_set_up (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRecipe) defaults = takes_recipe_new ();
  g_autofree char *cache = NULL;
  g_autofree char *server_dir = NULL;

  f->dir = g_dir_make_tmp ("takes-server-registry-XXXXXX", &error);
  g_assert_no_error (error);
  f->library = g_build_filename (f->dir, "library", NULL);
  cache = g_build_filename (f->dir, "cache", NULL);
  server_dir = g_build_filename (f->dir, "server", NULL);
  /* The registry's backend downloads into the library, as in the studio. */
  g_setenv ("TAKES_DATA_DIR", f->library, TRUE);

  f->local = takes_backend_local_new ();
  takes_backend_local_set_cache_dir (f->local, cache);
  takes_backend_local_set_output_dir (f->local, server_dir);
  takes_backend_local_set_n_threads (f->local, 2);
  f->server = takes_server_new (TAKES_BACKEND (f->local), server_dir);
  takes_server_set_token (f->server, TEST_TOKEN);
  /* Two sampling steps: the tiny model makes noise either way. */
  takes_recipe_set_steps (defaults, 2);
  takes_server_set_recipe_defaults (f->server, defaults);
  g_assert_true (takes_server_listen (f->server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);

  /* What a person types in Preferences: the address, no /api/v1. */
  g_setenv ("TAKES_SERVER_URL", takes_server_get_origin (f->server), TRUE);
  g_setenv ("TAKES_SERVER_TOKEN", TEST_TOKEN, TRUE);
  f->client = takes_backend_registry_create ("takes-server", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->client);
  /* The default first poll waits 5 s, longer than the tiny model takes. */
  takes_backend_dashscope_set_poll_interval (TAKES_BACKEND_DASHSCOPE (f->client), 0.02, 0.1);
}

static void
fixture_tear_down (Fixture *f)
{
  fake_loop_drain ();
  g_assert_finalize_object (f->client);
  g_assert_finalize_object (f->server);
  fake_loop_drain ();
  g_assert_finalize_object (f->local);
  store_test_rm_rf (f->dir);
  g_free (f->library);
  g_free (f->dir);
}

static TakesRecipe *
make_recipe (guint width, guint height, guint frames)
{
  TakesRecipe *recipe = takes_recipe_new ();

  takes_recipe_set_backend (recipe, "takes-server");
  takes_recipe_set_model (recipe, TAKES_BACKEND_LOCAL_TINY_MODEL);
  takes_recipe_set_prompt (recipe, "A paper boat drifting down a rain gutter, macro shot");
  takes_recipe_set_width (recipe, width);
  takes_recipe_set_height (recipe, height);
  takes_recipe_set_frames (recipe, frames);
  takes_recipe_set_fps (recipe, 16);
  takes_recipe_set_seed (recipe, 7);
  return recipe;
}

static void
finished_cb (TakesQueue *queue, TakesJob *job, gpointer user_data)
{
  *(TakesJob **)user_data = job;
}

/* A take queued for the registry's takes-server ends done, with the
 * server's MP4 in the library. */
static void
test_registry_queue_take (gconstpointer data)
{
  Fixture *f = (Fixture *)data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesQueue) queue = NULL;
  g_autoptr (TakesRecipe) recipe = make_recipe (64, 64, 17);
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree char *file = NULL;
  g_autofree char *downloads = g_build_filename (f->library, "downloads", NULL);
  g_autoptr (GDir) leftovers = NULL;
  TakesJob *finished = NULL;
  gint64 job_id;
  guint guard;

  g_assert_cmpstr (takes_backend_get_id (f->client), ==, "takes-server");
  store = takes_store_open (f->library, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  queue = takes_queue_new (store, &error);
  g_assert_no_error (error);
  takes_queue_add_backend (queue, f->client);
  g_signal_connect (queue, "job-finished", G_CALLBACK (finished_cb), &finished);
  job_id = takes_queue_enqueue (queue, recipe, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpint (job_id, >, 0);
  takes_queue_start (queue);
  guard = g_timeout_add_seconds (FAKE_LOOP_TIMEOUT_S, fake_loop_timeout_cb, NULL);
  while (finished == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (guard);

  g_assert_cmpint (takes_job_get_id (finished), ==, job_id);
  if (takes_job_get_state (finished) != TAKES_JOB_STATE_DONE)
    g_error ("The take failed: %s", takes_job_get_last_error (finished));
  g_assert_nonnull (takes_job_get_remote_task_id (finished));
  take = takes_store_get_take (store, takes_job_get_take_id (finished), &error);
  g_assert_no_error (error);
  g_assert_cmpint (takes_take_get_status (take), ==, TAKES_TAKE_STATUS_DONE);
  file = takes_store_get_media_file (store, take);
  g_assert_nonnull (file);
  g_assert_true (g_str_has_prefix (file, f->library));
  info = takes_media_probe (file, &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->width, ==, 64);
  g_assert_cmpint (info->height, ==, 64);
  g_assert_cmpuint (info->n_frames, ==, 17);
  g_assert_nonnull (info->recipe_json);
  g_assert_nonnull (strstr (info->recipe_json, "\"model\":\"tiny\""));
  g_assert_cmpuint (takes_server_get_n_active (f->server), ==, 0);

  /* The download was moved into the library, nothing left beside it. */
  leftovers = g_dir_open (downloads, 0, NULL);
  g_assert_true (leftovers == NULL || g_dir_read_name (leftovers) == NULL);

  takes_queue_stop (queue);
  fake_loop_drain ();
  g_assert_finalize_object (g_steal_pointer (&queue));
  g_assert_finalize_object (g_steal_pointer (&store));
}

/* The frame count takes-server asks the engine for (takes-server.c,
 * frames_for_duration): whole steps of four, plus the first frame. */
static guint
server_frames (double fps, guint seconds)
{
  return 4 * (guint)MAX (1.0, round (seconds * fps / 4)) + 1;
}

/* Every size and duration the models file offers for the tiny model is one
 * the server's engine accepts, at the frame rate the file names. */
static void
test_registry_tiny_model_matches_engine (gconstpointer data)
{
  Fixture *f = (Fixture *)data;
  g_autoptr (TakesBackendCapabilities) client_caps = takes_backend_get_capabilities (f->client);
  g_autoptr (TakesBackendCapabilities) engine_caps
      = takes_backend_get_capabilities (TAKES_BACKEND (f->local));
  const TakesBackendModelCaps *client_model
      = takes_backend_capabilities_lookup_model (client_caps, TAKES_BACKEND_LOCAL_TINY_MODEL);
  const TakesBackendModelCaps *engine_model
      = takes_backend_capabilities_lookup_model (engine_caps, TAKES_BACKEND_LOCAL_TINY_MODEL);

  g_assert_nonnull (client_model);
  g_assert_nonnull (engine_model);
  g_assert_cmpfloat (client_model->fps, ==, engine_model->fps);
  g_assert_cmpuint (client_model->sizes->len, >, 0);
  g_assert_cmpuint (client_model->durations->len, >, 0);
  for (guint i = 0; i < client_model->sizes->len; i++)
    for (guint j = 0; j < client_model->durations->len; j++)
      {
        const TakesBackendSize *size = &g_array_index (client_model->sizes, TakesBackendSize, i);
        guint seconds = g_array_index (client_model->durations, guint, j);
        g_autoptr (TakesRecipe) recipe
            = make_recipe (size->width, size->height, server_frames (client_model->fps, seconds));
        g_autoptr (GError) error = NULL;

        g_test_message ("tiny: %u×%u, %u s", size->width, size->height, seconds);
        g_assert_true (takes_backend_validate (f->client, recipe, &error));
        g_assert_no_error (error);
        g_assert_true (takes_backend_validate (TAKES_BACKEND (f->local), recipe, &error));
        g_assert_no_error (error);
      }
}

/* The official models' frame rates and sizes agree with the engine's own
 * defaults (data/engine/model-defaults.json), which a takes-server renders
 * at whatever the client asked. */
static void
test_registry_models_match_engine_defaults (gconstpointer data)
{
  Fixture *f = (Fixture *)data;
  g_autoptr (GError) error = NULL;
  g_autofree char *path = takes_paths_datafile ("engine/model-defaults.json");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (TakesBackendCapabilities) caps = takes_backend_get_capabilities (f->client);
  JsonObject *defaults;
  GList *names;
  guint n_checked = 0;

  g_assert_true (json_parser_load_from_file (parser, path, &error));
  g_assert_no_error (error);
  defaults = json_node_get_object (json_parser_get_root (parser));
  names = json_object_get_members (defaults);
  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonNode *node = json_object_get_member (defaults, l->data);
      JsonObject *entry;
      const TakesBackendModelCaps *model;
      gboolean default_size_offered = FALSE;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      entry = json_node_get_object (node);
      model = takes_backend_capabilities_lookup_model (caps, l->data);
      g_test_message ("%s", (const char *)l->data);
      g_assert_nonnull (model);
      g_assert_cmpfloat (model->fps, ==, (double)json_object_get_int_member (entry, "fps"));
      for (guint i = 0; i < model->sizes->len; i++)
        {
          const TakesBackendSize *size = &g_array_index (model->sizes, TakesBackendSize, i);

          if (size->width == json_object_get_int_member (entry, "width")
              && size->height == json_object_get_int_member (entry, "height"))
            default_size_offered = TRUE;
        }
      g_assert_true (default_size_offered);
      /* The longest duration offered fits the frames the model was made for. */
      for (guint i = 0; i < model->durations->len; i++)
        g_assert_cmpuint (server_frames (model->fps, g_array_index (model->durations, guint, i)), <=,
                          (guint)json_object_get_int_member (entry, "frames"));
      n_checked++;
    }
  g_list_free (names);
  g_assert_cmpuint (n_checked, >, 0);
}

static gboolean
check_available (TakesBackend *backend, GError **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  takes_backend_check_available_async (backend, NULL, fake_loop_result_cb, &slot);
  result = fake_loop_wait_result (&slot);
  return takes_backend_check_available_finish (backend, result, error);
}

/* takes-server lets loopback clients in without a token by default, so the
 * registry's backend goes on without a key when none is set; when the server
 * does want one, its refusal is a clear "unauthorised". */
static void
test_registry_no_token_on_loopback (gconstpointer data)
{
  Fixture *f = (Fixture *)data;
  g_autoptr (GError) error = NULL;
  g_autofree char *open_dir = g_build_filename (f->dir, "open-server", NULL);
  g_autoptr (TakesServer) open_server = takes_server_new (TAKES_BACKEND (f->local), open_dir);
  g_autoptr (TakesBackend) keyless = NULL;
  g_autoptr (TakesBackend) refused = NULL;

  g_unsetenv ("TAKES_SERVER_TOKEN");
  g_assert_true (takes_server_listen (open_server, "127.0.0.1", 0, &error));
  g_assert_no_error (error);
  g_setenv ("TAKES_SERVER_URL", takes_server_get_origin (open_server), TRUE);
  keyless = takes_backend_registry_create ("takes-server", NULL, &error);
  g_assert_no_error (error);
  g_assert_true (check_available (keyless, &error));
  g_assert_no_error (error);

  g_setenv ("TAKES_SERVER_URL", takes_server_get_origin (f->server), TRUE);
  refused = takes_backend_registry_create ("takes-server", NULL, &error);
  g_assert_no_error (error);
  g_assert_false (check_available (refused, &error));
  g_assert_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_UNAUTHORIZED);

  g_setenv ("TAKES_SERVER_TOKEN", TEST_TOKEN, TRUE);
  takes_server_shutdown (open_server);
}

int
main (int argc, char **argv)
{
  Fixture fixture = { 0 };
  int status;

  g_test_init (&argc, &argv, NULL);
  fixture_set_up (&fixture);

  g_test_add_data_func ("/server/registry/queue-take-on-tiny-model", &fixture, test_registry_queue_take);
  g_test_add_data_func ("/server/registry/tiny-model-matches-engine", &fixture,
                        test_registry_tiny_model_matches_engine);
  g_test_add_data_func ("/server/registry/models-match-engine-defaults", &fixture,
                        test_registry_models_match_engine_defaults);
  g_test_add_data_func ("/server/registry/no-token-on-loopback", &fixture, test_registry_no_token_on_loopback);
  status = g_test_run ();

  fixture_tear_down (&fixture);
  return status;
}
