/* takes-backend-local.c: takes made on this computer by the built-in Wan engine.
 *
 * Each backend owns one worker thread and the engine runs one generation per
 * process at a time, so a second take waits (queued) while the first runs.
 * The worker reports through a run shared with the main context: progress is
 * coalesced (the latest value wins, one pending update at most), so a fast
 * engine cannot flood the main loop. The last loaded model set and its
 * pipeline are kept between takes, since loading is the slow part of small
 * runs. Nothing the worker writes survives a failure or a cancel: the encoder
 * removes its temporary file itself.
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "takes-backend-local.h"
#include "takes-engine.h"
#include "takes-media.h"
#include "takes-paths.h"

#define TINY_FOLDER "tiny-model"
#define TINY_SEED 20250801
#define DEFAULT_FPS 16
#define MAX_FRAMES TAKES_RECIPE_MAX_FRAMES
#define PROGRESS_INTERVAL_US (G_USEC_PER_SEC / 10)

/* One generation per process, whatever the number of backends. */
static GMutex engine_lock;
/* Making the tiny model, which several backends may want at once. */
static GMutex tiny_lock;

/* A model set the recipe can name. */
typedef struct
{
  char *id;
  char *display_name;
  char *dir; /* NULL for the tiny model until it is made */
  WanArch arch;
  guint size_step;
  guint fps;
} LocalModel;

struct _TakesBackendLocal
{
  GObject parent_instance;

  GStrv model_folders;
  char *cache_dir;
  char *output_dir;
  guint n_threads;
  gboolean tiny_enabled;

  GMutex lock;         /* guards models and runs, which the worker reads */
  GPtrArray *models;   /* LocalModel, NULL until scanned */
  GPtrArray *problems; /* sentences about incomplete sets found by the scan */
  GPtrArray *runs;     /* LocalRun not yet finished */

  GThreadPool *worker;

  /* Worker-only: the last model set used. */
  WanModelSet *set;
  WanPipeline *pipeline;
  char *pipeline_dir;
  guint pipeline_threads;
};

static void takes_backend_local_backend_init (TakesBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TakesBackendLocal,
                               takes_backend_local,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TAKES_TYPE_BACKEND, takes_backend_local_backend_init))

enum
{
  PROP_0,
  PROP_MODEL_FOLDERS,
  PROP_CACHE_DIR,
  PROP_OUTPUT_DIR,
  PROP_N_THREADS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
local_model_free (gpointer data)
{
  LocalModel *model = data;

  g_free (model->id);
  g_free (model->display_name);
  g_free (model->dir);
  g_free (model);
}

gboolean
takes_backend_local_model_is_tiny (const char *model_id)
{
  return g_strcmp0 (model_id, TAKES_BACKEND_LOCAL_TINY_MODEL) == 0;
}

/* Models ---------------------------------------------------------------------- */

/* The id a recipe uses for an architecture; NULL for one without a name of
 * its own (a custom size), which is then named after its folder. */
static const char *
arch_model_id (WanArch arch)
{
  switch (arch)
    {
      case WAN_ARCH_TINY:
        return TAKES_BACKEND_LOCAL_TINY_MODEL;
      case WAN_ARCH_WAN21_T2V_1_3B:
        return "wan2.1-t2v-1.3b";
      case WAN_ARCH_WAN21_T2V_14B:
        return "wan2.1-t2v-14b";
      case WAN_ARCH_WAN22_TI2V_5B:
        return "wan2.2-ti2v-5b";
      case WAN_ARCH_WAN22_T2V_A14B:
        return "wan2.2-t2v-a14b";
      case WAN_ARCH_CUSTOM:
      case WAN_ARCH_UNKNOWN:
      default:
        return NULL;
    }
}

/* The frame rate of the model's defaults table; Wan2.1 and A14B make 16 fps,
 * TI2V-5B 24. */
static guint
model_fps (const char *model_id)
{
  g_autofree char *path = takes_paths_datafile ("engine/model-defaults.json");
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;
  JsonObject *entry;

  if (model_id == NULL || !json_parser_load_from_file (parser, path, NULL))
    return DEFAULT_FPS;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)
      || !json_object_has_member (json_node_get_object (root), model_id))
    return DEFAULT_FPS;
  entry = json_object_get_object_member (json_node_get_object (root), model_id);
  if (entry == NULL)
    return DEFAULT_FPS;
  return (guint)CLAMP (json_object_get_int_member_with_default (entry, "fps", DEFAULT_FPS), 1,
                       TAKES_RECIPE_MAX_FPS);
}

static LocalModel *
model_from_set (const WanModelSet *set)
{
  WanWeights *dit = wan_model_set_get_dit (set, WAN_EXPERT_SINGLE);
  WanWeights *vae = wan_model_set_get_vae (set);
  const WanDitConfig *dit_config;
  const WanVaeConfig *vae_config;
  const char *id = arch_model_id (wan_model_set_get_arch (set));
  LocalModel *model;

  if (dit == NULL)
    dit = wan_model_set_get_dit (set, WAN_EXPERT_HIGH_NOISE);
  if (dit == NULL || vae == NULL)
    return NULL;
  dit_config = wan_weights_get_dit_config (dit);
  vae_config = wan_weights_get_vae_config (vae);
  model = g_new0 (LocalModel, 1);
  model->dir = g_strdup (wan_model_set_get_dir (set));
  model->arch = wan_model_set_get_arch (set);
  model->id = id != NULL ? g_strdup (id) : g_path_get_basename (model->dir);
  model->display_name = g_strdup (wan_arch_get_name (model->arch));
  /* The VAE shrinks 8× (2.1) or 16× (2.2), then the DiT patches 2×2. */
  model->size_step = (vae_config->version == 22 ? 16u : 8u) * (guint)MAX (dit_config->patch_size[1], 1);
  model->fps = model_fps (model->id);
  return model;
}

static void
add_model (GPtrArray *models, LocalModel *model)
{
  for (guint i = 0; i < models->len; i++)
    if (g_str_equal (((LocalModel *)g_ptr_array_index (models, i))->id, model->id))
      {
        /* The first folder wins, as the folder order promises. */
        local_model_free (model);
        return;
      }
  g_ptr_array_add (models, model);
}

/* What is wrong with a folder that holds part of a model set, so a recipe
 * that cannot find its model can say why: the engine's sentences name the
 * missing or mismatched file. */
static void
note_problems (GPtrArray *problems, const WanModelSet *set)
{
  const char *const *list = wan_model_set_get_problems (set);
  guint n_files = 0;
  g_autofree char *display = g_filename_display_name (wan_model_set_get_dir (set));
  g_autofree char *joined = NULL;

  /* A folder without any model file is not a model set at all. */
  wan_model_set_get_files (set, &n_files);
  if (n_files == 0 || list == NULL || list[0] == NULL)
    return;
  joined = g_strjoinv (" ", (char **)list);
  g_ptr_array_add (problems, g_strdup_printf (_ ("In %s: %s"), display, joined));
}

static void
scan_folder (GPtrArray *models, GPtrArray *problems, const char *dir, gboolean descend)
{
  g_autoptr (WanModelSet) set = wan_model_set_scan (dir, NULL);
  g_autoptr (GDir) listing = NULL;
  const char *name;

  if (set != NULL && !wan_model_set_is_complete (set))
    note_problems (problems, set);
  if (set != NULL && wan_model_set_is_complete (set))
    {
      LocalModel *model = model_from_set (set);

      if (model != NULL && model->arch != WAN_ARCH_TINY)
        {
          add_model (models, model);
          return;
        }
      g_clear_pointer (&model, local_model_free);
    }
  if (!descend)
    return;
  listing = g_dir_open (dir, 0, NULL);
  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *child = g_build_filename (dir, name, NULL);

      if (name[0] != '.' && g_file_test (child, G_FILE_TEST_IS_DIR))
        scan_folder (models, problems, child, FALSE);
    }
}

static LocalModel *
tiny_model (void)
{
  LocalModel *model = g_new0 (LocalModel, 1);

  model->id = g_strdup (TAKES_BACKEND_LOCAL_TINY_MODEL);
  model->display_name = g_strdup (_ ("Tiny test model (makes noise)"));
  model->arch = WAN_ARCH_TINY;
  /* Made like Wan2.1 1.3B: the 2.1 VAE and a 2×2 patch. */
  model->size_step = 16;
  model->fps = DEFAULT_FPS;
  return model;
}

/* The models on offer, scanned once per folder list. Reads only the headers
 * of the weight files. Call with the lock held. */
static GPtrArray *
ensure_models (TakesBackendLocal *self)
{
  if (self->models != NULL)
    return self->models;
  self->models = g_ptr_array_new_with_free_func (local_model_free);
  g_clear_pointer (&self->problems, g_ptr_array_unref);
  self->problems = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; self->model_folders != NULL && self->model_folders[i] != NULL; i++)
    scan_folder (self->models, self->problems, self->model_folders[i], TRUE);
  if (self->tiny_enabled)
    g_ptr_array_add (self->models, tiny_model ());
  return self->models;
}

static LocalModel *
lookup_model (GPtrArray *models, const char *id)
{
  for (guint i = 0; id != NULL && i < models->len; i++)
    {
      LocalModel *model = g_ptr_array_index (models, i);

      if (g_str_equal (model->id, id))
        return model;
    }
  return NULL;
}

/* A recipe may name a model set by its absolute folder instead of an id, so
 * a set outside the model folders (a tiny set made for a test, a download
 * not yet added in Preferences) can be used and the recipe still says which
 * files made the take. The set is read once and kept with the scanned
 * models. Call with the lock held. */
static LocalModel *
lookup_folder_model (TakesBackendLocal *self, const char *path, GError **error)
{
  g_autoptr (WanModelSet) set = NULL;
  g_autoptr (GError) scan_error = NULL;
  g_autofree char *display = g_filename_display_name (path);
  LocalModel *model = lookup_model (ensure_models (self), path);

  if (model != NULL)
    return model;
  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL,
                   _ ("The model folder %s does not exist. Check the path, or use a model id such as “%s”."),
                   display, TAKES_BACKEND_LOCAL_TINY_MODEL);
      return NULL;
    }
  set = wan_model_set_scan (path, &scan_error);
  if (set == NULL)
    {
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL,
                   _ ("The model folder %s cannot be read: %s"), display, scan_error->message);
      return NULL;
    }
  if (!wan_model_set_is_complete (set))
    {
      g_autofree char *joined = g_strjoinv (" ", (char **)wan_model_set_get_problems (set));

      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL,
                   _ ("The model folder %s cannot be used. %s"), display, joined);
      return NULL;
    }
  model = model_from_set (set);
  if (model == NULL)
    {
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL,
                   _ ("The model folder %s holds no diffusion model and VAE that can make a video. Check "
                      "its files with “takes-cli models scan”."),
                   display);
      return NULL;
    }
  g_free (model->id);
  model->id = g_strdup (path);
  if (model->arch == WAN_ARCH_TINY)
    {
      g_free (model->display_name);
      model->display_name = g_strdup (_ ("Tiny test model (makes noise)"));
    }
  g_ptr_array_add (self->models, model);
  return model;
}

static void
fill_caps (TakesBackendCapabilities *caps, const LocalModel *model)
{
  TakesBackendModelCaps *entry = takes_backend_capabilities_add_model (caps, model->id, model->display_name);

  entry->size_step = model->size_step;
  entry->min_side = model->size_step;
  entry->max_side = TAKES_RECIPE_MAX_SIZE;
  entry->min_frames = 1;
  entry->max_frames = MAX_FRAMES;
  entry->frame_step = 4;
  entry->fps = model->fps;
  entry->max_prompt_chars = TAKES_RECIPE_MAX_PROMPT;
  entry->max_negative_prompt_chars = TAKES_RECIPE_MAX_PROMPT;
  /* Made here: no bill. */
  entry->price_per_second = 0.0;
}

static void
invalidate_models (TakesBackendLocal *self)
{
  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->models, g_ptr_array_unref);
  g_mutex_unlock (&self->lock);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) listing = g_dir_open (path, 0, NULL);
  const char *name;

  while (listing != NULL && (name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

/* Writes the tiny model once. A half-written model is never used: it is
 * made in a temporary folder and renamed into place. */
static char *
ensure_tiny_model (TakesBackendLocal *self, GError **error)
{
  g_autofree char *dir = g_build_filename (self->cache_dir, TINY_FOLDER, NULL);
  g_autofree char *temp = NULL;
  g_autoptr (WanModelSet) existing = NULL;
  g_autoptr (GError) local_error = NULL;

  g_mutex_lock (&tiny_lock);
  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      existing = wan_model_set_load (dir, NULL);
      if (existing != NULL && wan_model_set_get_arch (existing) == WAN_ARCH_TINY)
        {
          g_mutex_unlock (&tiny_lock);
          return g_steal_pointer (&dir);
        }
    }
  temp = g_build_filename (self->cache_dir, TINY_FOLDER ".XXXXXX", NULL);
  if (g_mkdir_with_parents (self->cache_dir, 0700) != 0 || g_mkdtemp (temp) == NULL)
    {
      int saved = errno;
      g_autofree char *display = g_filename_display_name (self->cache_dir);

      g_mutex_unlock (&tiny_lock);
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL,
                   _ ("The tiny test model cannot be made in %s (%s). Check that the folder is writable."),
                   display, g_strerror (saved));
      return NULL;
    }
  if (!wan_tiny_model_write (temp, WAN_ARCH_WAN21_T2V_1_3B, TINY_SEED, &local_error))
    {
      remove_tree (temp);
      g_mutex_unlock (&tiny_lock);
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL,
                   _ ("The tiny test model could not be made: %s"), local_error->message);
      return NULL;
    }
  /* A stale or broken copy is replaced as a whole. */
  if (g_file_test (dir, G_FILE_TEST_IS_DIR))
    remove_tree (dir);
  if (g_rename (temp, dir) != 0)
    {
      int saved = errno;

      remove_tree (temp);
      g_mutex_unlock (&tiny_lock);
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL,
                   _ ("The tiny test model could not be moved into place (%s). Check the cache folder."),
                   g_strerror (saved));
      return NULL;
    }
  g_mutex_unlock (&tiny_lock);
  return g_steal_pointer (&dir);
}

static GError *
unknown_model_error (GPtrArray *models, GPtrArray *problems, const char *model_id)
{
  g_autoptr (GString) known = g_string_new (NULL);
  g_autoptr (GString) message = g_string_new (NULL);

  for (guint i = 0; i < models->len; i++)
    g_string_append_printf (known, "%s%s", i > 0 ? ", " : "",
                            ((LocalModel *)g_ptr_array_index (models, i))->id);
  if (known->len == 0)
    g_string_printf (message,
                     _ ("No local model “%s” was found, and no model folder is set up. Add the folder of the "
                        "model's files in Preferences."),
                     model_id != NULL ? model_id : "");
  else
    g_string_printf (message,
                     _ ("No local model “%s” was found in the model folders. Choose one of: %s, or add the "
                        "model's folder in Preferences."),
                     model_id != NULL ? model_id : "", known->str);
  for (guint i = 0; problems != NULL && i < problems->len; i++)
    g_string_append_printf (message, " %s", (char *)g_ptr_array_index (problems, i));
  return g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL, message->str);
}

/* The model a recipe names, by id or by folder. Call with the lock held. */
static LocalModel *
find_recipe_model (TakesBackendLocal *self, const char *model_id, GError **error)
{
  LocalModel *model;

  /* A takes-server turns the tiny model off, and with it folders named by
   * its clients: they must not open folders of the server's disk. */
  if (model_id != NULL && g_path_is_absolute (model_id) && self->tiny_enabled)
    return lookup_folder_model (self, model_id, error);
  model = lookup_model (ensure_models (self), model_id);
  if (model == NULL)
    g_propagate_error (error, unknown_model_error (self->models, self->problems, model_id));
  return model;
}

char *
takes_backend_local_find_model (TakesBackendLocal *self, const char *model_id, GError **error)
{
  LocalModel *model;
  char *dir;

  g_return_val_if_fail (TAKES_IS_BACKEND_LOCAL (self), NULL);

  g_mutex_lock (&self->lock);
  model = find_recipe_model (self, model_id, error);
  if (model == NULL)
    {
      g_mutex_unlock (&self->lock);
      return NULL;
    }
  dir = g_strdup (model->dir);
  g_mutex_unlock (&self->lock);
  if (dir == NULL && takes_backend_local_model_is_tiny (model_id))
    dir = ensure_tiny_model (self, error);
  return dir;
}

/* Runs -------------------------------------------------------------------------- */

typedef struct
{
  TakesBackendJob *job;
  TakesRecipe *recipe;
  GCancellable *cancellable;
  GMainContext *context;
  char *output_path;

  GMutex lock; /* guards the fields below, written by the worker */
  gboolean update_pending;
  gboolean started;
  WanProgress progress;
  gboolean has_progress;
  gint64 last_post;
} LocalRun;

static void
local_run_clear (LocalRun *run)
{
  g_clear_object (&run->job);
  g_clear_object (&run->recipe);
  g_clear_object (&run->cancellable);
  g_clear_pointer (&run->context, g_main_context_unref);
  g_free (run->output_path);
  g_mutex_clear (&run->lock);
}

static LocalRun *
local_run_ref (LocalRun *run)
{
  return g_atomic_rc_box_acquire (run);
}

static void
local_run_unref (LocalRun *run)
{
  g_atomic_rc_box_release_full (run, (GDestroyNotify)local_run_clear);
}

static char *
format_eta (double seconds)
{
  if (seconds < 0)
    return NULL;
  if (seconds < 60)
    return g_strdup_printf (_ ("about %.0f s left"), MAX (1.0, ceil (seconds)));
  if (seconds < 3600)
    return g_strdup_printf (_ ("about %.0f min left"), ceil (seconds / 60.0));
  return g_strdup_printf (_ ("about %.1f h left"), seconds / 3600.0);
}

static char *
describe_progress (const WanProgress *progress)
{
  g_autofree char *what = NULL;
  g_autofree char *eta = format_eta (progress->eta_seconds);

  switch (progress->stage)
    {
      case WAN_STAGE_LOAD:
        what = g_strdup (_ ("Loading the model"));
        break;
      case WAN_STAGE_TEXT:
        what = g_strdup (_ ("Reading the prompt"));
        break;
      case WAN_STAGE_DENOISE:
        what = g_strdup_printf (_ ("Denoising, step %d of %d"), MIN (progress->step + 1, progress->n_steps),
                                progress->n_steps);
        break;
      case WAN_STAGE_DECODE:
      default:
        what = g_strdup_printf (_ ("Decoding frames, %d of %d"), progress->step, progress->n_steps);
        break;
    }
  if (eta == NULL)
    return g_steal_pointer (&what);
  return g_strdup_printf ("%s · %s", what, eta);
}

/* Main context: applies the latest progress the worker left. */
static gboolean
apply_progress_cb (gpointer user_data)
{
  LocalRun *run = user_data;
  WanProgress progress;
  gboolean has_progress, started;
  g_autofree char *stage = NULL;

  g_mutex_lock (&run->lock);
  run->update_pending = FALSE;
  progress = run->progress;
  has_progress = run->has_progress;
  started = run->started;
  g_mutex_unlock (&run->lock);

  if (takes_backend_job_is_finished (run->job) || !started)
    return G_SOURCE_REMOVE;
  g_object_freeze_notify (G_OBJECT (run->job));
  takes_backend_job_set_state (run->job, TAKES_BACKEND_JOB_STATE_RUNNING);
  if (has_progress)
    {
      stage = describe_progress (&progress);
      takes_backend_job_set_has_progress (run->job, TRUE);
      takes_backend_job_set_progress (run->job, progress.fraction);
      takes_backend_job_set_stage (run->job, stage);
    }
  else
    takes_backend_job_set_stage (run->job, _ ("Loading the model"));
  g_object_thaw_notify (G_OBJECT (run->job));
  return G_SOURCE_REMOVE;
}

static void
post_progress (LocalRun *run, gboolean force)
{
  gint64 now = g_get_monotonic_time ();
  gboolean post;

  g_mutex_lock (&run->lock);
  post = !run->update_pending && (force || now - run->last_post >= PROGRESS_INTERVAL_US);
  if (post)
    {
      run->update_pending = TRUE;
      run->last_post = now;
    }
  g_mutex_unlock (&run->lock);
  if (post)
    g_main_context_invoke_full (run->context, G_PRIORITY_DEFAULT, apply_progress_cb, local_run_ref (run),
                                (GDestroyNotify)local_run_unref);
}

static void
engine_progress_cb (const WanProgress *progress, gpointer user_data)
{
  LocalRun *run = user_data;
  gboolean stage_changed;

  g_mutex_lock (&run->lock);
  stage_changed = !run->has_progress || run->progress.stage != progress->stage;
  run->progress = *progress;
  run->has_progress = TRUE;
  g_mutex_unlock (&run->lock);
  post_progress (run, stage_changed);
}

static gboolean
engine_cancel_cb (gpointer user_data)
{
  LocalRun *run = user_data;

  return g_cancellable_is_cancelled (run->cancellable);
}

typedef struct
{
  LocalRun *run;
  TakesBackendPreview *preview;
} PreviewPost;

static gboolean
emit_preview_cb (gpointer user_data)
{
  PreviewPost *post = user_data;

  if (!takes_backend_job_is_finished (post->run->job))
    takes_backend_job_emit_preview (post->run->job, post->preview);
  return G_SOURCE_REMOVE;
}

static void
preview_post_free (gpointer data)
{
  PreviewPost *post = data;

  local_run_unref (post->run);
  takes_backend_preview_unref (post->preview);
  g_free (post);
}

static void
engine_preview_cb (const guint8 *rgb, int width, int height, int frames, int step, gpointer user_data)
{
  LocalRun *run = user_data;
  PreviewPost *post;
  g_autoptr (GBytes) data = NULL;

  if (width <= 0 || height <= 0 || frames <= 0)
    return;
  /* The first frame only: the preview shows what the take will look like. */
  data = g_bytes_new (rgb, (gsize)width * (gsize)height * 3);
  post = g_new0 (PreviewPost, 1);
  post->run = local_run_ref (run);
  post->preview = takes_backend_preview_new (TAKES_BACKEND_PREVIEW_RGB, data, (guint)width, (guint)height);
  g_main_context_invoke_full (run->context, G_PRIORITY_DEFAULT, emit_preview_cb, post, preview_post_free);
}

typedef struct
{
  LocalRun *run;
  GError *error;
  double seconds;
} Completion;

static gboolean
complete_cb (gpointer user_data)
{
  Completion *completion = user_data;
  TakesBackendJob *job = completion->run->job;

  if (completion->error != NULL)
    {
      takes_backend_job_fail (job, g_steal_pointer (&completion->error));
      return G_SOURCE_REMOVE;
    }
  g_object_freeze_notify (G_OBJECT (job));
  takes_backend_job_set_seconds_spent (job, completion->seconds);
  takes_backend_job_set_cost (job, 0.0, NULL);
  g_object_thaw_notify (G_OBJECT (job));
  takes_backend_job_succeed (job, completion->run->output_path);
  return G_SOURCE_REMOVE;
}

static void
completion_free (gpointer data)
{
  Completion *completion = data;

  local_run_unref (completion->run);
  g_clear_error (&completion->error);
  g_free (completion);
}

static void
post_completion (LocalRun *run, GError *error, double seconds)
{
  Completion *completion = g_new0 (Completion, 1);

  completion->run = local_run_ref (run);
  completion->error = error;
  completion->seconds = seconds;
  g_main_context_invoke_full (run->context, G_PRIORITY_DEFAULT, complete_cb, completion, completion_free);
}

/* Engine errors as backend errors a person can act on; the engine's message,
 * which names the file, is kept. */
static GError *
backend_error_from_engine (GError *error)
{
  g_autoptr (GError) owned = error;
  TakesBackendError code;

  if (error->domain == TAKES_BACKEND_ERROR)
    return g_steal_pointer (&owned);
  if (error->domain != TAKES_ENGINE_ERROR)
    return g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER, error->message);
  switch ((TakesEngineError)error->code)
    {
      case TAKES_ENGINE_ERROR_CANCELLED:
        return g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                    _ ("The take was cancelled."));
      case TAKES_ENGINE_ERROR_NO_MEMORY:
        code = TAKES_BACKEND_ERROR_OUT_OF_MEMORY;
        break;
      case TAKES_ENGINE_ERROR_INVALID_INPUT:
        code = TAKES_BACKEND_ERROR_BAD_PARAMETERS;
        break;
      case TAKES_ENGINE_ERROR_NOT_FOUND:
      case TAKES_ENGINE_ERROR_IO:
      case TAKES_ENGINE_ERROR_CORRUPT:
      case TAKES_ENGINE_ERROR_UNSUPPORTED:
      case TAKES_ENGINE_ERROR_NOT_A_MODEL:
      case TAKES_ENGINE_ERROR_MISSING_TENSOR:
      case TAKES_ENGINE_ERROR_SHAPE:
      case TAKES_ENGINE_ERROR_INCOMPLETE:
      case TAKES_ENGINE_ERROR_MISMATCH:
      default:
        code = TAKES_BACKEND_ERROR_MISSING_MODEL;
        break;
    }
  return g_error_new_literal (TAKES_BACKEND_ERROR, code, error->message);
}

/* The largest latent side the VAE takes; a larger tile is the whole frame. */
#define VAE_TILE_MAX 8192

/* The recipe option "vae_tile": the side of the VAE's square tiles in latent
 * cells, or 0 (or no option) to let the engine tile only when whole frames
 * would not fit in memory. */
static gboolean
recipe_vae_tile (TakesRecipe *recipe, int *tile, GError **error)
{
  JsonNode *node = json_object_get_member (takes_recipe_get_options (recipe), "vae_tile");
  double value = -1.0;

  *tile = 0;
  if (node == NULL)
    return TRUE;
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    value = (double)json_node_get_int (node);
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_DOUBLE)
    value = json_node_get_double (node);
  if (value != floor (value) || (value != 0.0 && (value < WAN_VAE_TILE_MIN || value > VAE_TILE_MAX)))
    {
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                   _ ("The recipe option “vae_tile” must be 0 (tiles only when the video would not fit in "
                      "memory) or a whole number of latent cells from %d to %d. Fix it in the recipe."),
                   WAN_VAE_TILE_MIN, VAE_TILE_MAX);
      return FALSE;
    }
  *tile = (int)value;
  return TRUE;
}

static gboolean
fill_request (WanRequest *request, TakesRecipe *recipe, GError **error)
{
  const char *sampler = takes_recipe_get_sampler (recipe);

  request->prompt = takes_recipe_get_prompt (recipe);
  request->negative_prompt = takes_recipe_get_negative_prompt (recipe);
  request->width = (int)takes_recipe_get_width (recipe);
  request->height = (int)takes_recipe_get_height (recipe);
  request->frames = (int)takes_recipe_get_frames (recipe);
  request->steps = (int)takes_recipe_get_steps (recipe);
  request->shift = takes_recipe_get_shift (recipe);
  request->seed = (guint64)takes_recipe_get_seed (recipe);
  if (sampler != NULL && *sampler != '\0')
    request->solver = sampler;
  if (takes_recipe_has_guidance_pair (recipe))
    {
      request->guidance = takes_recipe_get_guidance_low (recipe);
      request->guidance_high = takes_recipe_get_guidance_high (recipe);
    }
  else
    {
      request->guidance = takes_recipe_get_guidance (recipe);
      request->guidance_high = 0.0;
    }
  /* About ten previews a take, whatever the step count. */
  request->preview_every = MAX (1, request->steps / 10);
  return recipe_vae_tile (recipe, &request->vae_tile, error);
}

/* Worker: loads the model set, or keeps the one loaded last. */
static WanPipeline *
worker_pipeline (TakesBackendLocal *self, const char *dir, GError **error)
{
  g_autoptr (WanModelSet) set = NULL;
  g_autoptr (WanPipeline) pipeline = NULL;

  if (self->pipeline != NULL && g_strcmp0 (self->pipeline_dir, dir) == 0
      && self->pipeline_threads == self->n_threads)
    return self->pipeline;
  g_clear_pointer (&self->pipeline, wan_pipeline_free);
  g_clear_pointer (&self->set, wan_model_set_free);
  g_clear_pointer (&self->pipeline_dir, g_free);
  set = wan_model_set_load (dir, error);
  if (set == NULL)
    return NULL;
  pipeline = wan_pipeline_new (set, (int)self->n_threads, error);
  if (pipeline == NULL)
    return NULL;
  self->set = g_steal_pointer (&set);
  self->pipeline = g_steal_pointer (&pipeline);
  self->pipeline_dir = g_strdup (dir);
  self->pipeline_threads = self->n_threads;
  return self->pipeline;
}

static gboolean
encode_frames (LocalRun *run, const guint8 *frames, int n_frames, GError **error)
{
  g_autofree char *recipe_json = takes_recipe_to_json (run->recipe);
  int width = (int)takes_recipe_get_width (run->recipe);
  int height = (int)takes_recipe_get_height (run->recipe);
  gsize frame_size = (gsize)width * (gsize)height * 3;
  g_autoptr (TakesMediaEncoder) encoder = NULL;
  g_autofree char *dir = g_path_get_dirname (run->output_path);

  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved = errno;
      g_autofree char *display = g_filename_display_name (dir);

      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                   _ ("The folder %s cannot be made (%s). Check the disk and its permissions."), display,
                   g_strerror (saved));
      return FALSE;
    }
  encoder = takes_media_encoder_new (run->output_path, width, height, (int)takes_recipe_get_fps (run->recipe),
                                     1, recipe_json, error);
  if (encoder == NULL)
    return FALSE;
  for (int i = 0; i < n_frames; i++)
    {
      /* Freeing the unfinished encoder removes its temporary file. */
      if (g_cancellable_is_cancelled (run->cancellable))
        {
          g_set_error_literal (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                               _ ("The take was cancelled."));
          return FALSE;
        }
      if (!takes_media_encoder_push_rgb (encoder, frames + (gsize)i * frame_size, (gsize)width * 3, error))
        return FALSE;
    }
  return takes_media_encoder_finish (encoder, error);
}

static GError *
media_error (GError *error)
{
  g_autoptr (GError) owned = error;

  if (error->domain == TAKES_BACKEND_ERROR)
    return g_steal_pointer (&owned);
  return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                      _ ("The video could not be written: %s"), error->message);
}

static void
worker_run (gpointer data, gpointer user_data)
{
  LocalRun *run = data;
  TakesBackendLocal *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree guint8 *frames = NULL;
  WanPipeline *pipeline;
  WanRequest request;
  gint64 started;
  int n_frames = 0;

  if (g_cancellable_is_cancelled (run->cancellable))
    {
      post_completion (run,
                       g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                            _ ("The take was cancelled.")),
                       0);
      goto out;
    }
  g_mutex_lock (&engine_lock);
  started = g_get_monotonic_time ();
  g_mutex_lock (&run->lock);
  run->started = TRUE;
  g_mutex_unlock (&run->lock);
  post_progress (run, TRUE);

  dir = takes_backend_local_find_model (self, takes_recipe_get_model (run->recipe), &error);
  pipeline = dir != NULL ? worker_pipeline (self, dir, &error) : NULL;
  if (pipeline != NULL
      && wan_request_init_defaults (&request, wan_model_set_get_arch (wan_pipeline_get_model_set (pipeline)),
                                    &error))
    {
      if (fill_request (&request, run->recipe, &error)
          && wan_pipeline_plan (pipeline, &request, NULL, &error))
        frames = wan_pipeline_generate (pipeline, &request, &n_frames, engine_cancel_cb, engine_progress_cb,
                                        engine_preview_cb, run, &error);
    }
  if (frames == NULL)
    {
      g_mutex_unlock (&engine_lock);
      post_completion (run, backend_error_from_engine (g_steal_pointer (&error)), 0);
      goto out;
    }
  if (!encode_frames (run, frames, n_frames, &error))
    {
      g_mutex_unlock (&engine_lock);
      post_completion (run, media_error (g_steal_pointer (&error)), 0);
      goto out;
    }
  g_mutex_unlock (&engine_lock);
  post_completion (run, NULL, (g_get_monotonic_time () - started) / (double)G_USEC_PER_SEC);

out:
  g_mutex_lock (&self->lock);
  g_ptr_array_remove (self->runs, run);
  g_mutex_unlock (&self->lock);
  local_run_unref (run);
}

/* TakesBackend ---------------------------------------------------------------- */

static const char *
takes_backend_local_get_id (TakesBackend *backend)
{
  return "local";
}

static const char *
takes_backend_local_get_display_name (TakesBackend *backend)
{
  return _ ("This computer");
}

static TakesBackendCapabilities *
takes_backend_local_get_capabilities (TakesBackend *backend)
{
  TakesBackendLocal *self = TAKES_BACKEND_LOCAL (backend);
  TakesBackendCapabilities *caps = takes_backend_capabilities_new ();
  GPtrArray *models;

  caps->max_concurrent_jobs = 1;
  caps->negative_prompt = TRUE;
  caps->seed = TRUE;
  g_mutex_lock (&self->lock);
  models = ensure_models (self);
  for (guint i = 0; i < models->len; i++)
    fill_caps (caps, g_ptr_array_index (models, i));
  g_mutex_unlock (&self->lock);
  return caps;
}

static gboolean
takes_backend_local_validate (TakesBackend *backend, TakesRecipe *recipe, GError **error)
{
  TakesBackendLocal *self = TAKES_BACKEND_LOCAL (backend);
  g_autoptr (TakesBackendCapabilities) caps = takes_backend_capabilities_new ();
  g_autoptr (GError) recipe_error = NULL;
  TakesBackendModelCaps *entry;
  LocalModel *model;
  int vae_tile;

  if (!takes_recipe_validate (recipe, &recipe_error))
    {
      g_set_error_literal (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                           recipe_error->message);
      return FALSE;
    }
  g_mutex_lock (&self->lock);
  model = find_recipe_model (self, takes_recipe_get_model (recipe), error);
  if (model == NULL)
    {
      g_mutex_unlock (&self->lock);
      return FALSE;
    }
  fill_caps (caps, model);
  g_mutex_unlock (&self->lock);
  entry = g_ptr_array_index (caps->models, 0);
  return recipe_vae_tile (recipe, &vae_tile, error)
         && takes_backend_model_caps_check_size (entry, takes_recipe_get_width (recipe),
                                                 takes_recipe_get_height (recipe), error)
         && takes_backend_model_caps_check_frames (entry, takes_recipe_get_frames (recipe), error)
         && takes_backend_model_caps_check_prompts (entry, takes_recipe_get_prompt (recipe),
                                                    takes_recipe_get_negative_prompt (recipe), error);
}

static void
check_available_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  TakesBackendLocal *self = source;
  g_autoptr (GError) error = NULL;

  /* Rescans, so folders filled since the last look are found. */
  invalidate_models (self);
  g_mutex_lock (&self->lock);
  ensure_models (self);
  g_mutex_unlock (&self->lock);
  if (!takes_media_can_encode (&error))
    {
      g_task_return_new_error (task, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER, "%s", error->message);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
takes_backend_local_check_available_async (TakesBackend *backend,
                                           GCancellable *cancellable,
                                           GAsyncReadyCallback callback,
                                           gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (backend, cancellable, callback, user_data);

  g_task_set_source_tag (task, takes_backend_local_check_available_async);
  g_task_run_in_thread (task, check_available_thread);
}

static gboolean
takes_backend_local_check_available_finish (TakesBackend *backend, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
takes_backend_local_submit_async (TakesBackend *backend,
                                  TakesRecipe *recipe,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  TakesBackendLocal *self = TAKES_BACKEND_LOCAL (backend);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *name = NULL;
  LocalRun *run;

  g_task_set_source_tag (task, takes_backend_local_submit_async);
  if (g_task_return_error_if_cancelled (task))
    return;
  if (!takes_backend_local_validate (backend, recipe, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  run = g_atomic_rc_box_new0 (LocalRun);
  g_mutex_init (&run->lock);
  run->recipe = takes_recipe_copy (recipe);
  run->job = takes_backend_job_new ("local", run->recipe);
  run->cancellable = g_object_ref (takes_backend_job_get_cancellable (run->job));
  run->context = g_main_context_ref_thread_default ();
  id = g_uuid_string_random ();
  name = g_strdup_printf ("local-%s.mp4", id);
  run->output_path = g_build_filename (self->output_dir, name, NULL);
  g_object_freeze_notify (G_OBJECT (run->job));
  takes_backend_job_set_state (run->job, TAKES_BACKEND_JOB_STATE_QUEUED);
  takes_backend_job_set_has_progress (run->job, FALSE);
  takes_backend_job_set_stage (run->job, _ ("Waiting for the engine"));
  g_object_thaw_notify (G_OBJECT (run->job));

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->runs, run);
  g_mutex_unlock (&self->lock);
  g_task_return_pointer (task, g_object_ref (run->job), g_object_unref);
  /* The pool owns this reference until worker_run ends. */
  g_thread_pool_push (self->worker, local_run_ref (run), NULL);
  local_run_unref (run);
}

static TakesBackendJob *
takes_backend_local_submit_finish (TakesBackend *backend, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
takes_backend_local_resume_async (TakesBackend *backend,
                                  TakesRecipe *recipe,
                                  const char *remote_task_id,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (backend, cancellable, callback, user_data);

  g_task_set_source_tag (task, takes_backend_local_resume_async);
  /* The engine's state dies with the process that ran it. */
  g_task_return_new_error (
      task, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NOT_FOUND, "%s",
      _ ("A take made on this computer cannot be resumed after Takes was closed. Make it "
         "again."));
}

static TakesBackendJob *
takes_backend_local_resume_finish (TakesBackend *backend, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
takes_backend_local_cancel (TakesBackend *backend, TakesBackendJob *job)
{
  takes_backend_job_cancel (job);
}

static void
takes_backend_local_backend_init (TakesBackendInterface *iface)
{
  iface->get_id = takes_backend_local_get_id;
  iface->get_display_name = takes_backend_local_get_display_name;
  iface->get_capabilities = takes_backend_local_get_capabilities;
  iface->validate = takes_backend_local_validate;
  iface->check_available_async = takes_backend_local_check_available_async;
  iface->check_available_finish = takes_backend_local_check_available_finish;
  iface->submit_async = takes_backend_local_submit_async;
  iface->submit_finish = takes_backend_local_submit_finish;
  iface->resume_async = takes_backend_local_resume_async;
  iface->resume_finish = takes_backend_local_resume_finish;
  iface->cancel = takes_backend_local_cancel;
}

/* GObject ----------------------------------------------------------------------- */

static void
takes_backend_local_dispose (GObject *object)
{
  TakesBackendLocal *self = TAKES_BACKEND_LOCAL (object);

  if (self->worker != NULL)
    {
      g_mutex_lock (&self->lock);
      for (guint i = 0; i < self->runs->len; i++)
        g_cancellable_cancel (((LocalRun *)g_ptr_array_index (self->runs, i))->cancellable);
      g_mutex_unlock (&self->lock);
      /* Every waiting run still ends (as cancelled) and the running one
       * stops at its next check, removing its partial file. */
      g_thread_pool_free (g_steal_pointer (&self->worker), FALSE, TRUE);
    }
  g_clear_pointer (&self->pipeline, wan_pipeline_free);
  g_clear_pointer (&self->set, wan_model_set_free);
  g_clear_pointer (&self->pipeline_dir, g_free);

  G_OBJECT_CLASS (takes_backend_local_parent_class)->dispose (object);
}

static void
takes_backend_local_finalize (GObject *object)
{
  TakesBackendLocal *self = TAKES_BACKEND_LOCAL (object);

  g_strfreev (self->model_folders);
  g_free (self->cache_dir);
  g_free (self->output_dir);
  g_clear_pointer (&self->models, g_ptr_array_unref);
  g_clear_pointer (&self->problems, g_ptr_array_unref);
  g_ptr_array_unref (self->runs);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (takes_backend_local_parent_class)->finalize (object);
}

static void
takes_backend_local_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesBackendLocal *self = TAKES_BACKEND_LOCAL (object);

  switch (prop_id)
    {
      case PROP_MODEL_FOLDERS:
        g_value_set_boxed (value, self->model_folders);
        break;
      case PROP_CACHE_DIR:
        g_value_set_string (value, self->cache_dir);
        break;
      case PROP_OUTPUT_DIR:
        g_value_set_string (value, self->output_dir);
        break;
      case PROP_N_THREADS:
        g_value_set_uint (value, self->n_threads);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_backend_local_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TakesBackendLocal *self = TAKES_BACKEND_LOCAL (object);

  switch (prop_id)
    {
      case PROP_MODEL_FOLDERS:
        takes_backend_local_set_model_folders (self, g_value_get_boxed (value));
        break;
      case PROP_CACHE_DIR:
        takes_backend_local_set_cache_dir (self, g_value_get_string (value));
        break;
      case PROP_OUTPUT_DIR:
        takes_backend_local_set_output_dir (self, g_value_get_string (value));
        break;
      case PROP_N_THREADS:
        takes_backend_local_set_n_threads (self, g_value_get_uint (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_backend_local_class_init (TakesBackendLocalClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = takes_backend_local_dispose;
  object_class->finalize = takes_backend_local_finalize;
  object_class->get_property = takes_backend_local_get_property;
  object_class->set_property = takes_backend_local_set_property;

  properties[PROP_MODEL_FOLDERS]
      = g_param_spec_boxed ("model-folders", NULL, NULL, G_TYPE_STRV,
                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CACHE_DIR] = g_param_spec_string (
      "cache-dir", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_OUTPUT_DIR] = g_param_spec_string (
      "output-dir", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_N_THREADS]
      = g_param_spec_uint ("n-threads", NULL, NULL, 0, 1024, 0,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
takes_backend_local_init (TakesBackendLocal *self)
{
  g_autofree char *data_dir = takes_paths_data_dir ();

  g_mutex_init (&self->lock);
  self->model_folders = g_new0 (char *, 1);
  self->cache_dir = takes_paths_cache_dir ();
  /* Inside the library folder, so the queue can rename a result into media/. */
  self->output_dir = g_build_filename (data_dir, "downloads", NULL);
  self->tiny_enabled = TRUE;
  self->runs = g_ptr_array_new ();
  self->worker = g_thread_pool_new (worker_run, self, 1, FALSE, NULL);
}

TakesBackendLocal *
takes_backend_local_new (void)
{
  return g_object_new (TAKES_TYPE_BACKEND_LOCAL, NULL);
}

const char *const *
takes_backend_local_get_model_folders (TakesBackendLocal *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_LOCAL (self), NULL);
  return (const char *const *)self->model_folders;
}

void
takes_backend_local_set_model_folders (TakesBackendLocal *self, const char *const *folders)
{
  static const char *const none[] = { NULL };

  g_return_if_fail (TAKES_IS_BACKEND_LOCAL (self));

  if (folders == NULL)
    folders = none;
  if (g_strv_equal ((const char *const *)self->model_folders, folders))
    return;
  g_strfreev (self->model_folders);
  self->model_folders = g_strdupv ((char **)folders);
  invalidate_models (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL_FOLDERS]);
}

void
takes_backend_local_bind_settings (TakesBackendLocal *self, GSettings *settings)
{
  g_return_if_fail (TAKES_IS_BACKEND_LOCAL (self));
  g_return_if_fail (G_IS_SETTINGS (settings));

  g_settings_bind (settings, "model-folders", self, "model-folders", G_SETTINGS_BIND_GET);
}

const char *
takes_backend_local_get_cache_dir (TakesBackendLocal *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_LOCAL (self), NULL);
  return self->cache_dir;
}

void
takes_backend_local_set_cache_dir (TakesBackendLocal *self, const char *cache_dir)
{
  g_return_if_fail (TAKES_IS_BACKEND_LOCAL (self));
  g_return_if_fail (cache_dir != NULL);

  if (g_strcmp0 (self->cache_dir, cache_dir) == 0)
    return;
  g_mutex_lock (&self->lock);
  g_free (self->cache_dir);
  self->cache_dir = g_strdup (cache_dir);
  g_mutex_unlock (&self->lock);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CACHE_DIR]);
}

const char *
takes_backend_local_get_output_dir (TakesBackendLocal *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_LOCAL (self), NULL);
  return self->output_dir;
}

void
takes_backend_local_set_output_dir (TakesBackendLocal *self, const char *output_dir)
{
  g_return_if_fail (TAKES_IS_BACKEND_LOCAL (self));
  g_return_if_fail (output_dir != NULL);

  if (g_strcmp0 (self->output_dir, output_dir) == 0)
    return;
  g_free (self->output_dir);
  self->output_dir = g_strdup (output_dir);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OUTPUT_DIR]);
}

guint
takes_backend_local_get_n_threads (TakesBackendLocal *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_LOCAL (self), 0);
  return self->n_threads;
}

/* Takes effect at the next model load. */
void
takes_backend_local_set_n_threads (TakesBackendLocal *self, guint n_threads)
{
  g_return_if_fail (TAKES_IS_BACKEND_LOCAL (self));

  if (self->n_threads == n_threads)
    return;
  self->n_threads = n_threads;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_THREADS]);
}

void
takes_backend_local_set_tiny_enabled (TakesBackendLocal *self, gboolean enabled)
{
  g_return_if_fail (TAKES_IS_BACKEND_LOCAL (self));

  enabled = !!enabled;
  if (self->tiny_enabled == enabled)
    return;
  self->tiny_enabled = enabled;
  invalidate_models (self);
}
