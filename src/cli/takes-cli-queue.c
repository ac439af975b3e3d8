/* takes-cli-queue.c: making takes from a terminal.
 *
 *   generate [--backend B] [--model M] PROMPT [recipe options] [--priority N] [--no-wait]
 *   queue list [--json] | run | pause [ID] | resume [ID] | cancel ID | retry ID
 *         | move ID (--priority N | --before ID)
 *   backends list | check [ID]
 *   ledger [--project P] [--by backend|project|day] [--budget AMOUNT CURRENCY]
 *
 * Backend endpoints can be overridden with TAKES_DASHSCOPE_BASE_URL,
 * TAKES_COMFYUI_URL and TAKES_SERVER_URL (see takes-backend-registry.h).
 */
#include "config.h"

#include <inttypes.h>

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "takes-backend-registry.h"
#include "takes-cli.h"
#if TAKES_HAVE_ENGINE
#include "takes-backend-local.h"
#include "takes-engine.h"
#endif
#include "takes-ledger.h"
#include "takes-queue.h"
#include "takes-store.h"

#define BAR_WIDTH 24
/* A run stopped by Ctrl-C exits as shells report a process ended by SIGINT. */
#define EXIT_CANCELLED 130

/* Helpers ------------------------------------------------------------------ */

static gboolean
parse_id (const char *text, gint64 *id, int *exit_code)
{
  guint64 value = 0;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64, &value, NULL))
    {
      *exit_code = takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                                   _ ("“%s” is not a job number; job numbers are whole numbers such as 12 "
                                      "(see “takes-cli queue list”)"),
                                   text != NULL ? text : "");
      return FALSE;
    }
  *id = (gint64)value;
  return TRUE;
}

/* The queue with the backend of every unfinished job that can be made. */
static TakesQueue *
open_queue (TakesStore *store, const char *only_backend, int *exit_code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesQueue) queue = takes_queue_new (store, &error);
  g_autoptr (GSettings) settings = takes_backend_registry_get_settings ();
  g_autoptr (GHashTable) wanted = g_hash_table_new (g_str_hash, g_str_equal);
  GListModel *jobs;

  if (queue == NULL)
    {
      *exit_code = takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      return NULL;
    }
  jobs = takes_queue_get_jobs (queue);
  if (only_backend != NULL)
    g_hash_table_add (wanted, (gpointer)only_backend);
  for (guint i = 0; i < g_list_model_get_n_items (jobs); i++)
    {
      g_autoptr (TakesJob) job = g_list_model_get_item (jobs, i);

      if (!takes_job_state_is_finished (takes_job_get_state (job)))
        g_hash_table_add (wanted, (gpointer)takes_job_get_backend (job));
    }
  {
    GHashTableIter iter;
    gpointer key;

    g_hash_table_iter_init (&iter, wanted);
    while (g_hash_table_iter_next (&iter, &key, NULL))
      {
        g_autoptr (GError) backend_error = NULL;
        g_autoptr (TakesBackend) backend = takes_backend_registry_create (key, settings, &backend_error);

        if (backend != NULL)
          takes_queue_add_backend (queue, backend);
        else if (only_backend != NULL && g_str_equal (key, only_backend))
          {
            *exit_code = takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, backend_error);
            return NULL;
          }
      }
  }
  return g_steal_pointer (&queue);
}

static char *
format_eta (double seconds)
{
  guint s;

  if (seconds < 0)
    return g_strdup ("--:--");
  s = (guint)ceil (seconds);
  if (s >= 3600)
    return g_strdup_printf ("%u:%02u:%02u", s / 3600, (s / 60) % 60, s % 60);
  return g_strdup_printf ("%u:%02u", s / 60, s % 60);
}

/* Running in the foreground ------------------------------------------------- */

typedef enum
{
  PROGRESS_AUTO, /* a bar on a terminal, nothing otherwise */
  PROGRESS_BAR,
  PROGRESS_LINES, /* one line per change, for logs and other programs */
  PROGRESS_NONE,
} ProgressStyle;

typedef struct
{
  TakesQueue *queue;
  GMainLoop *loop;
  gint64 job_id; /* 0: until the queue is empty */
  ProgressStyle style;
  gboolean show_bar;
  gboolean interrupted;
  char *last_line;
  guint n_finished;
  guint n_failed;
} Foreground;

static gboolean
progress_style_from_string (const char *text, ProgressStyle *style)
{
  if (text == NULL || g_str_equal (text, "auto"))
    *style = PROGRESS_AUTO;
  else if (g_str_equal (text, "bar"))
    *style = PROGRESS_BAR;
  else if (g_str_equal (text, "lines"))
    *style = PROGRESS_LINES;
  else if (g_str_equal (text, "none"))
    *style = PROGRESS_NONE;
  else
    return FALSE;
  return TRUE;
}

static void
print_progress_line (Foreground *fg, TakesJob *job)
{
  const char *stage = takes_job_get_stage (job);
  double progress = takes_job_get_has_progress (job) ? takes_job_get_progress (job) : 0;
  g_autofree char *line = NULL;

  /* TRANSLATORS: job number, percent done, what the job is doing */
  line = g_strdup_printf (_ ("job %" PRId64 ": %3.0f%% %s"), takes_job_get_id (job), progress * 100,
                          stage != NULL ? stage : takes_job_state_get_label (takes_job_get_state (job)));
  if (g_strcmp0 (line, fg->last_line) == 0)
    return;
  g_free (fg->last_line);
  fg->last_line = g_steal_pointer (&line);
  fprintf (stderr, "%s\n", fg->last_line);
  fflush (stderr);
}

static void
draw_bar (Foreground *fg, TakesJob *job)
{
  g_autofree char *eta = NULL;
  const char *stage = takes_job_get_stage (job);
  double progress = takes_job_get_has_progress (job) ? takes_job_get_progress (job) : 0;
  guint filled = (guint)(progress * BAR_WIDTH);
  char bar[BAR_WIDTH + 1];

  if (fg->style == PROGRESS_LINES)
    {
      print_progress_line (fg, job);
      return;
    }
  if (!fg->show_bar)
    return;
  for (guint i = 0; i < BAR_WIDTH; i++)
    bar[i] = i < filled ? '#' : '.';
  bar[BAR_WIDTH] = '\0';
  eta = format_eta (takes_job_get_eta (job));
  /* TRANSLATORS: job number, progress bar, percent, stage, time left */
  fprintf (stderr, "\r\033[K%s", "");
  fprintf (stderr, _ ("job %" PRId64 " [%s] %3.0f%% %s  ETA %s"), takes_job_get_id (job), bar, progress * 100,
           stage != NULL ? stage : takes_job_state_get_label (takes_job_get_state (job)), eta);
  fflush (stderr);
}

static void
job_changed_cb (TakesQueue *queue, TakesJob *job, gpointer user_data)
{
  Foreground *fg = user_data;

  if (fg->job_id == 0 || takes_job_get_id (job) == fg->job_id)
    draw_bar (fg, job);
}

static void
job_finished_cb (TakesQueue *queue, TakesJob *job, gpointer user_data)
{
  Foreground *fg = user_data;

  if (fg->job_id != 0 && takes_job_get_id (job) != fg->job_id)
    return;
  fg->n_finished++;
  if (takes_job_get_state (job) != TAKES_JOB_STATE_DONE)
    fg->n_failed++;
  if (fg->show_bar)
    fprintf (stderr, "\r\033[K");
  if (fg->job_id == 0)
    g_print (_ ("job %" PRId64 ": %s\n"), takes_job_get_id (job),
             takes_job_state_get_label (takes_job_get_state (job)));
  if (fg->job_id != 0 || takes_queue_get_n_active (queue) == 0)
    g_main_loop_quit (fg->loop);
}

static gboolean
interrupt_cb (gpointer user_data)
{
  Foreground *fg = user_data;

  if (fg->interrupted)
    {
      g_main_loop_quit (fg->loop);
      return G_SOURCE_CONTINUE;
    }
  fg->interrupted = TRUE;
  g_printerr ("\n%s\n", _ ("Cancelling… (press Ctrl-C again to leave the job running)"));
  if (fg->job_id != 0)
    takes_queue_cancel_job (fg->queue, fg->job_id, NULL);
  else
    {
      takes_queue_stop (fg->queue);
      g_main_loop_quit (fg->loop);
    }
  return G_SOURCE_CONTINUE;
}

static void
run_foreground (Foreground *fg)
{
  gulong changed, finished;
  guint sigint;

  fg->loop = g_main_loop_new (NULL, FALSE);
  fg->show_bar = fg->style == PROGRESS_BAR || (fg->style == PROGRESS_AUTO && isatty (STDERR_FILENO));
  changed = g_signal_connect (fg->queue, "job-changed", G_CALLBACK (job_changed_cb), fg);
  finished = g_signal_connect (fg->queue, "job-finished", G_CALLBACK (job_finished_cb), fg);
  sigint = g_unix_signal_add (SIGINT, interrupt_cb, fg);
  takes_queue_start (fg->queue);
  if (fg->job_id != 0 || takes_queue_get_n_active (fg->queue) > 0)
    g_main_loop_run (fg->loop);
  g_source_remove (sigint);
  g_signal_handler_disconnect (fg->queue, changed);
  g_signal_handler_disconnect (fg->queue, finished);
  takes_queue_stop (fg->queue);
  g_clear_pointer (&fg->loop, g_main_loop_unref);
  g_clear_pointer (&fg->last_line, g_free);
}

/* generate ------------------------------------------------------------------- */

/* What the command line set; negative numbers and NULL strings were not given. */
typedef struct
{
  char *model;
  char *negative;
  guint width, height;
  int frames, fps, steps;
  gint64 seed;
  double guidance, shift;
  char *sampler;
  int vae_tile; /* latent cells, 0 for automatic tiling; -1: not given */
} GenerateOptions;

#if TAKES_HAVE_ENGINE

/* What takes_recipe_validate() accepts in a model id. */
#define ID_CHARS "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:+-/@"

/* A --model that names a folder rather than a model id: one with a slash in
 * it, or a folder here whose name is not the tiny model's id. */
static gboolean
model_is_folder (const char *model)
{
  return strchr (model, G_DIR_SEPARATOR) != NULL
         || (!takes_backend_local_model_is_tiny (model) && g_file_test (model, G_FILE_TEST_IS_DIR));
}

/* The model set's own defaults (the spec's table, or the tiny model's small
 * run) for everything the command line leaves out, so a take of a 5B model is
 * not made at the 1.3B size and the tiny model runs in seconds. The recipe
 * then records every value the take was made with. Sets @is_tiny for sets
 * whose videos are noise. */
static gboolean
apply_local_model (
    TakesRecipe *recipe, TakesBackend *backend, const GenerateOptions *opt, gboolean *is_tiny, GError **error)
{
  TakesBackendLocal *local = TAKES_BACKEND_LOCAL (backend);
  g_autofree char *model_id = NULL;
  g_autofree char *dir = NULL;
  g_autoptr (WanModelSet) set = NULL;
  g_autoptr (TakesBackendCapabilities) caps = NULL;
  TakesBackendModelCaps *entry;
  WanRequest defaults;
  WanArch arch;

  if (opt->model != NULL && model_is_folder (opt->model))
    {
      model_id = g_canonicalize_filename (opt->model, NULL);
      /* The recipe keeps the folder as its model id, which takes the
       * characters of an id only. */
      if (strlen (model_id) > 128 || strspn (model_id, ID_CHARS) != strlen (model_id))
        {
          g_autofree char *display = g_filename_display_name (model_id);

          g_set_error (
              error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
              _ ("The model folder %s cannot be named in a recipe: its path must be at most 128 "
                 "characters of letters, digits and . _ : + - / @. Move or link the folder to a "
                 "simpler path, or add its parent folder to the model folders and use the model id."),
              display);
          return FALSE;
        }
    }
  else
    model_id = g_strdup (opt->model != NULL ? opt->model : takes_recipe_get_model (recipe));
  takes_recipe_set_model (recipe, model_id);

  dir = takes_backend_local_find_model (local, model_id, error);
  if (dir == NULL)
    return FALSE;
  set = wan_model_set_load (dir, error);
  if (set == NULL)
    return FALSE;
  arch = wan_model_set_get_arch (set);
  *is_tiny = arch == WAN_ARCH_TINY;
  if (!wan_request_init_defaults (&defaults, arch, error))
    return FALSE;
  takes_recipe_set_width (recipe, (guint)defaults.width);
  takes_recipe_set_height (recipe, (guint)defaults.height);
  takes_recipe_set_frames (recipe, (guint)defaults.frames);
  takes_recipe_set_steps (recipe, (guint)defaults.steps);
  takes_recipe_set_shift (recipe, defaults.shift);
  takes_recipe_set_sampler (recipe, defaults.solver);
  takes_recipe_set_guidance (recipe, defaults.guidance);
  /* Only a two-expert set has a guidance of its own for the high-noise expert. */
  if (wan_model_set_get_dit (set, WAN_EXPERT_HIGH_NOISE) != NULL && defaults.guidance_high > 0
      && opt->guidance < 0)
    takes_recipe_set_guidance_pair (recipe, defaults.guidance_high, defaults.guidance);
  caps = takes_backend_get_capabilities (backend);
  entry = takes_backend_capabilities_lookup_model (caps, model_id);
  if (entry != NULL && entry->fps > 0)
    takes_recipe_set_fps (recipe, (guint)entry->fps);
  return TRUE;
}

#endif

static TakesRecipe *
build_recipe (const char *backend_id,
              TakesBackend *backend,
              const char *prompt,
              const GenerateOptions *opt,
              gboolean *is_tiny,
              GError **error)
{
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();

  takes_recipe_set_backend (recipe, backend_id);
  takes_recipe_set_prompt (recipe, prompt);
  *is_tiny = FALSE;
#if TAKES_HAVE_ENGINE
  if (backend != NULL && TAKES_IS_BACKEND_LOCAL (backend))
    {
      if (!apply_local_model (recipe, backend, opt, is_tiny, error))
        return NULL;
      /* Automatic tiling is the default and stays out of the recipe, so its
       * cache key is that of a recipe made without the option. */
      if (opt->vae_tile > 0)
        {
          g_autoptr (JsonNode) tile = json_node_init_int (json_node_alloc (), opt->vae_tile);

          takes_recipe_set_option (recipe, "vae_tile", tile);
        }
    }
  else
    {
      if (opt->vae_tile >= 0)
        {
          g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                       _ ("--vae-tile applies to the local backend only; leave it out for “%s”."),
                       backend_id);
          return NULL;
        }
      if (opt->model != NULL)
        takes_recipe_set_model (recipe, opt->model);
    }
#else
  if (opt->model != NULL)
    takes_recipe_set_model (recipe, opt->model);
#endif
  if (opt->negative != NULL)
    takes_recipe_set_negative_prompt (recipe, opt->negative);
  if (opt->width > 0)
    {
      takes_recipe_set_width (recipe, opt->width);
      takes_recipe_set_height (recipe, opt->height);
    }
  if (opt->frames >= 0)
    takes_recipe_set_frames (recipe, (guint)opt->frames);
  if (opt->fps >= 0)
    takes_recipe_set_fps (recipe, (guint)opt->fps);
  if (opt->steps >= 0)
    takes_recipe_set_steps (recipe, (guint)opt->steps);
  if (opt->guidance >= 0)
    {
      takes_recipe_set_guidance (recipe, opt->guidance);
      takes_recipe_clear_guidance_pair (recipe);
    }
  if (opt->shift >= 0)
    takes_recipe_set_shift (recipe, opt->shift);
  if (opt->sampler != NULL)
    takes_recipe_set_sampler (recipe, opt->sampler);
  if (opt->seed >= 0)
    takes_recipe_set_seed (recipe, opt->seed);
  else
    takes_recipe_randomize_seed (recipe);
  return g_steal_pointer (&recipe);
}

int
takes_cli_cmd_generate (int argc, char **argv)
{
  g_autofree char *backend_id = NULL;
  g_autofree char *model = NULL;
  g_autofree char *negative = NULL;
  g_autofree char *size = NULL;
  g_autofree char *sampler = NULL;
  g_autofree char *project_name = NULL;
  g_autofree char *progress = NULL;
  int frames = -1, fps = -1, steps = -1, priority = 0;
  gint64 seed = -1;
  double guidance = -1, shift = -1;
  gboolean no_wait = FALSE;
#if TAKES_HAVE_ENGINE
  g_autofree char *vae_tile = NULL;
#endif
  GOptionEntry entries[] = {
    { "backend", 'b', 0, G_OPTION_ARG_STRING, &backend_id, N_ ("Where to make the take"),
      "local|dashscope|comfyui|takes-server" },
    { "model", 'm', 0, G_OPTION_ARG_STRING, &model,
      N_ ("The model id, or for the local backend a model folder"), "M|DIR" },
    { "negative", 'n', 0, G_OPTION_ARG_STRING, &negative, N_ ("What the video must not show"), "TEXT" },
    { "size", 0, 0, G_OPTION_ARG_STRING, &size, N_ ("Width and height (default: the model’s)"), "WxH" },
    { "frames", 0, 0, G_OPTION_ARG_INT, &frames, N_ ("Frame count (4n+1; default: the model’s)"), "N" },
    { "fps", 0, 0, G_OPTION_ARG_INT, &fps, N_ ("Frames per second (default: the model’s)"), "N" },
    { "steps", 0, 0, G_OPTION_ARG_INT, &steps, N_ ("Sampling steps (default: the model’s)"), "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed, N_ ("Seed (random when not given)"), "N" },
    { "guidance", 0, 0, G_OPTION_ARG_DOUBLE, &guidance, N_ ("Guidance scale"), "G" },
    { "shift", 0, 0, G_OPTION_ARG_DOUBLE, &shift, N_ ("Sampling shift"), "S" },
    { "sampler", 0, 0, G_OPTION_ARG_STRING, &sampler, N_ ("Sampler"), "unipc|dpm++|euler" },
#if TAKES_HAVE_ENGINE
    { "vae-tile", 0, 0, G_OPTION_ARG_STRING, &vae_tile,
      N_ ("Local backend: decode the video in tiles of N×N latent cells, to save memory (0: only when it "
          "would not fit)"),
      "N" },
#endif
    { "project", 'p', 0, G_OPTION_ARG_STRING, &project_name, N_ ("Project (id, slug or name)"), "P" },
    { "priority", 0, 0, G_OPTION_ARG_INT, &priority, N_ ("Higher runs first"), "N" },
    { "no-wait", 0, 0, G_OPTION_ARG_NONE, &no_wait, N_ ("Queue the take and return"), NULL },
    { "progress", 0, 0, G_OPTION_ARG_STRING, &progress,
      N_ ("How to show progress: a bar on a terminal (auto), bar, one line per change, or none"),
      "auto|bar|lines|none" },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesQueue) queue = NULL;
  g_autoptr (TakesRecipe) recipe = NULL;
  g_autoptr (TakesTake) new_take = NULL;
  g_autoptr (GSettings) settings = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTake) take = NULL;
  g_autofree char *prompt = NULL;
  GenerateOptions opt = { 0 };
  Foreground fg = { 0 };
  gint64 project_id = 0;
  gint64 job_id;
  gboolean is_tiny = FALSE;
  TakesJob *job;
  int exit_code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("generate", _ ("PROMPT"), _ ("Queue a take and, unless --no-wait, make it now."),
                        entries, &argc, &argv, &exit_code))
    return exit_code;
  if (argc < 2)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("generate: give the prompt, in quotes"));
  if (!progress_style_from_string (progress, &fg.style))
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("generate: “--progress %s” is unknown; use auto, bar, lines or none"),
                           progress);
  prompt = g_strjoinv (" ", argv + 1);

  opt.model = model;
  opt.negative = negative;
  opt.frames = frames;
  opt.fps = fps;
  opt.steps = steps;
  opt.seed = seed;
  opt.guidance = guidance;
  opt.shift = shift;
  opt.sampler = sampler;
  opt.vae_tile = -1;
#if TAKES_HAVE_ENGINE
  if (vae_tile != NULL)
    {
      gint64 cells = 0;

      /* Beyond the VAE's largest latent side a tile is the whole frame. */
      if (!g_ascii_string_to_signed (vae_tile, 10, 0, 8192, &cells, NULL)
          || (cells != 0 && cells < WAN_VAE_TILE_MIN))
        return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                               _ ("generate: “--vae-tile %s” is not a tile size; give a number of latent "
                                  "cells from %d to 8192, or 0 to tile only when the video would not fit in "
                                  "memory"),
                               vae_tile, WAN_VAE_TILE_MIN);
      opt.vae_tile = (int)cells;
    }
#endif
  if (size != NULL)
    {
      guint64 w = 0, h = 0;
      g_auto (GStrv) parts = g_strsplit_set (size, "x×*", 2);

      if (g_strv_length (parts) != 2 || !g_ascii_string_to_unsigned (parts[0], 10, 1, 65535, &w, NULL)
          || !g_ascii_string_to_unsigned (parts[1], 10, 1, 65535, &h, NULL))
        return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("generate: “%s” is not a size; write it as 832x480"),
                               size);
      opt.width = (guint)w;
      opt.height = (guint)h;
    }

  settings = takes_backend_registry_get_settings ();
  if (backend_id == NULL)
    backend_id = takes_backend_registry_get_default_id (settings);
  if ((store = takes_cli_open_store (TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, &exit_code)) == NULL)
    return exit_code;
  if (project_name != NULL)
    {
      g_autoptr (TakesProject) project = takes_store_find_project (store, project_name, &error);

      if (project == NULL)
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      project_id = project->id;
    }
  if ((queue = open_queue (store, backend_id, &exit_code)) == NULL)
    return exit_code;
  recipe = build_recipe (backend_id, takes_queue_lookup_backend (queue, backend_id), prompt, &opt, &is_tiny,
                         &error);
  if (recipe == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  new_take = takes_take_new (recipe);
  takes_take_set_project_id (new_take, project_id);
  takes_take_set_is_tiny (new_take, is_tiny);
  job_id = takes_queue_enqueue_take (queue, new_take, priority, &error);
  if (job_id == 0)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  job = takes_queue_lookup_job (queue, job_id);
  if (no_wait)
    {
      g_print (_ ("Queued job %" PRId64 " (take %" PRId64 ")\n"), job_id, takes_job_get_take_id (job));
      return TAKES_CLI_EXIT_OK;
    }
  if (is_tiny)
    g_printerr ("%s\n", _ ("This is the tiny test model: the take runs the whole pipeline, but its video is "
                           "noise."));

  fg.queue = queue;
  fg.job_id = job_id;
  run_foreground (&fg);
  if (takes_job_get_state (job) == TAKES_JOB_STATE_DONE)
    {
      g_autofree char *file = NULL;

      take = takes_store_get_take (store, takes_job_get_take_id (job), &error);
      if (take == NULL)
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      file = takes_store_get_media_file (store, take);
      g_print (_ ("Take %" PRId64 ": %s\n"), takes_take_get_id (take), file != NULL ? file : "");
      return TAKES_CLI_EXIT_OK;
    }
  if (takes_job_get_state (job) == TAKES_JOB_STATE_CANCELLED)
    return takes_cli_fail (fg.interrupted ? EXIT_CANCELLED : TAKES_CLI_EXIT_FAIL,
                           _ ("job %" PRId64
                              " was cancelled; no video was kept (“takes-cli queue retry %" PRId64
                              "” makes it again)"),
                           job_id, job_id);
  if (takes_job_get_state (job) == TAKES_JOB_STATE_FAILED)
    return takes_cli_fail (TAKES_CLI_EXIT_FAIL, "%s", takes_job_get_last_error (job));
  /* Left running on a second Ctrl-C, or waiting to be retried. */
  g_printerr (_ ("takes-cli: job %" PRId64 " is still queued; “takes-cli queue run” goes on with it\n"),
              job_id);
  return fg.interrupted ? EXIT_CANCELLED : TAKES_CLI_EXIT_FAIL;
}

/* queue ------------------------------------------------------------------------ */

static JsonNode *
job_to_json (TakesJob *job)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_int_value (b, takes_job_get_id (job));
  json_builder_set_member_name (b, "take_id");
  json_builder_add_int_value (b, takes_job_get_take_id (job));
  json_builder_set_member_name (b, "backend");
  json_builder_add_string_value (b, takes_job_get_backend (job));
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, takes_job_state_to_string (takes_job_get_state (job)));
  json_builder_set_member_name (b, "priority");
  json_builder_add_int_value (b, takes_job_get_priority (job));
  json_builder_set_member_name (b, "attempts");
  json_builder_add_int_value (b, takes_job_get_attempts (job));
  json_builder_set_member_name (b, "prompt");
  json_builder_add_string_value (b, takes_recipe_get_prompt (takes_job_get_recipe (job)));
  json_builder_set_member_name (b, "last_error");
  if (takes_job_get_last_error (job) != NULL)
    json_builder_add_string_value (b, takes_job_get_last_error (job));
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static int
queue_list (TakesQueue *queue, gboolean json)
{
  GListModel *jobs = takes_queue_get_jobs (queue);
  guint n = g_list_model_get_n_items (jobs);

  if (json)
    {
      g_autoptr (JsonNode) root = json_node_new (JSON_NODE_ARRAY);
      g_autoptr (JsonGenerator) gen = json_generator_new ();
      g_autofree char *text = NULL;
      JsonArray *array = json_array_new ();

      for (guint i = 0; i < n; i++)
        {
          g_autoptr (TakesJob) job = g_list_model_get_item (jobs, i);

          json_array_add_element (array, job_to_json (job));
        }
      json_node_take_array (root, array);
      json_generator_set_root (gen, root);
      json_generator_set_pretty (gen, TRUE);
      text = json_generator_to_data (gen, NULL);
      g_print ("%s\n", text);
      return TAKES_CLI_EXIT_OK;
    }
  if (n == 0)
    {
      g_print ("%s\n", _ ("The queue is empty."));
      return TAKES_CLI_EXIT_OK;
    }
  g_print ("%-6s %-10s %4s %-13s %5s  %s\n", _ ("JOB"), _ ("STATE"), _ ("PRI"), _ ("BACKEND"), _ ("TAKE"),
           _ ("PROMPT"));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (TakesJob) job = g_list_model_get_item (jobs, i);
      const char *text = takes_recipe_get_prompt (takes_job_get_recipe (job));
      g_autofree char *prompt = g_utf8_substring (text, 0, MIN (g_utf8_strlen (text, -1), 48));

      g_print ("%-6" PRId64 " %-10s %4d %-13s %5" PRId64 "  %s\n", takes_job_get_id (job),
               takes_job_state_to_string (takes_job_get_state (job)), takes_job_get_priority (job),
               takes_job_get_backend (job), takes_job_get_take_id (job), prompt);
      if (takes_job_get_last_error (job) != NULL && !takes_job_state_is_finished (takes_job_get_state (job)))
        g_print ("       %s\n", takes_job_get_last_error (job));
      else if (takes_job_get_state (job) == TAKES_JOB_STATE_FAILED)
        g_print ("       %s\n", takes_job_get_last_error (job));
    }
  return TAKES_CLI_EXIT_OK;
}

/* Pauses or resumes every waiting job, so the state holds across runs. */
static int
queue_pause_all (TakesQueue *queue, gboolean pause)
{
  GListModel *jobs = takes_queue_get_jobs (queue);
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < g_list_model_get_n_items (jobs); i++)
    {
      g_autoptr (TakesJob) job = g_list_model_get_item (jobs, i);
      gint64 id = takes_job_get_id (job);

      if (takes_job_get_state (job) == (pause ? TAKES_JOB_STATE_QUEUED : TAKES_JOB_STATE_PAUSED))
        g_array_append_val (ids, id);
    }
  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr (GError) error = NULL;
      gint64 id = g_array_index (ids, gint64, i);
      gboolean ok
          = pause ? takes_queue_pause_job (queue, id, &error) : takes_queue_resume_job (queue, id, &error);

      if (!ok)
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
    }
  g_print (pause ? g_dngettext (GETTEXT_PACKAGE, "Paused %u job\n", "Paused %u jobs\n", ids->len)
                 : g_dngettext (GETTEXT_PACKAGE, "Resumed %u job\n", "Resumed %u jobs\n", ids->len),
           ids->len);
  return TAKES_CLI_EXIT_OK;
}

int
takes_cli_cmd_queue (int argc, char **argv)
{
  gboolean json = FALSE;
  int priority = G_MININT;
  g_autofree char *before = NULL;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print JSON (list)"), NULL },
    { "priority", 0, 0, G_OPTION_ARG_INT, &priority, N_ ("New priority (move)"), "N" },
    { "before", 0, 0, G_OPTION_ARG_STRING, &before, N_ ("Put the job before this one (move)"), "ID" },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesQueue) queue = NULL;
  g_autoptr (GError) error = NULL;
  const char *action;
  int exit_code = TAKES_CLI_EXIT_OK;
  gint64 id = 0;
  gboolean ok;

  if (!takes_cli_parse ("queue", "list|run|pause [ID]|resume [ID]|cancel ID|retry ID|move ID",
                        _ ("Look at and change the queue of takes."), entries, &argc, &argv, &exit_code))
    return exit_code;
  action = argc >= 2 ? argv[1] : "list";
  if ((store = takes_cli_open_store (TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, &exit_code)) == NULL)
    return exit_code;

  if (g_str_equal (action, "list"))
    {
      if ((queue = takes_queue_new (store, &error)) == NULL)
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      return queue_list (queue, json);
    }
  if (g_str_equal (action, "run"))
    {
      Foreground fg = { 0 };

      if ((queue = open_queue (store, NULL, &exit_code)) == NULL)
        return exit_code;
      fg.queue = queue;
      run_foreground (&fg);
      return fg.n_failed > 0 ? TAKES_CLI_EXIT_FAIL : TAKES_CLI_EXIT_OK;
    }
  if ((queue = takes_queue_new (store, &error)) == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  if ((g_str_equal (action, "pause") || g_str_equal (action, "resume")) && argc < 3)
    return queue_pause_all (queue, g_str_equal (action, "pause"));
  if (argc < 3)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("queue %s: give the job number"), action);
  if (!parse_id (argv[2], &id, &exit_code))
    return exit_code;

  if (g_str_equal (action, "pause"))
    ok = takes_queue_pause_job (queue, id, &error);
  else if (g_str_equal (action, "resume"))
    ok = takes_queue_resume_job (queue, id, &error);
  else if (g_str_equal (action, "cancel"))
    ok = takes_queue_cancel_job (queue, id, &error);
  else if (g_str_equal (action, "retry"))
    ok = takes_queue_retry_job (queue, id, &error);
  else if (g_str_equal (action, "move"))
    {
      gint64 other = 0;

      if (before != NULL)
        {
          if (!parse_id (before, &other, &exit_code))
            return exit_code;
          ok = takes_queue_move_job_before (queue, id, other, &error);
        }
      else if (priority != G_MININT)
        ok = takes_queue_move_job (queue, id, priority, &error);
      else
        return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("queue move: give --priority N or --before ID"));
    }
  else
    return takes_cli_fail (
        TAKES_CLI_EXIT_USAGE,
        _ ("queue: unknown action “%s”; use list, run, pause, resume, cancel, retry or move"), action);
  if (!ok)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  g_print (_ ("Job %" PRId64 ": %s\n"), id,
           takes_job_state_get_label (takes_job_get_state (takes_queue_lookup_job (queue, id))));
  return TAKES_CLI_EXIT_OK;
}

/* backends -------------------------------------------------------------------- */

typedef struct
{
  GAsyncResult *result;
} Check;

static void
check_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  ((Check *)user_data)->result = g_object_ref (result);
}

int
takes_cli_cmd_backends (int argc, char **argv)
{
  g_autoptr (GSettings) settings = NULL;
  g_autofree char *default_id = NULL;
  const char *const *ids = takes_backend_registry_list_ids ();
  const char *only = NULL;
  const char *action;
  int exit_code = TAKES_CLI_EXIT_OK;
  gboolean any_failed = FALSE;

  if (!takes_cli_parse ("backends", "list|check [ID]",
                        _ ("List the backends and check that they can be reached."), NULL, &argc, &argv,
                        &exit_code))
    return exit_code;
  action = argc >= 2 ? argv[1] : "list";
  if (!g_str_equal (action, "list") && !g_str_equal (action, "check"))
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("backends: unknown action “%s”; use list or check"),
                           action);
  if (argc >= 3)
    {
      only = argv[2];
      if (!g_strv_contains (ids, only))
        {
          g_autofree char *known = g_strjoinv (", ", (char **)ids);

          return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                                 _ ("backends: there is no backend “%s”; choose one of: %s"), only, known);
        }
    }
  settings = takes_backend_registry_get_settings ();
  default_id = takes_backend_registry_get_default_id (settings);
  for (guint i = 0; ids[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesBackend) backend = NULL;
      g_autoptr (GAsyncResult) result = NULL;
      Check check = { 0 };
      gboolean ok;

      if (only != NULL && !g_str_equal (only, ids[i]))
        continue;
      backend = takes_backend_registry_create (ids[i], settings, &error);
      g_print ("%s %-13s ", g_str_equal (ids[i], default_id) ? "*" : " ", ids[i]);
      if (backend == NULL)
        {
          g_print ("%s\n", error->message);
          any_failed = TRUE;
          continue;
        }
      takes_backend_check_available_async (backend, NULL, check_cb, &check);
      while (check.result == NULL)
        g_main_context_iteration (NULL, TRUE);
      result = g_steal_pointer (&check.result);
      ok = takes_backend_check_available_finish (backend, result, &error);
      if (ok)
        g_print ("%s\n", _ ("ready"));
      else if (g_error_matches (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NETWORK))
        g_print (_ ("not reachable: %s\n"), error->message);
      else
        g_print (_ ("not ready: %s\n"), error->message);
      any_failed |= !ok;
    }
  return g_str_equal (action, "check") && any_failed ? TAKES_CLI_EXIT_FAIL : TAKES_CLI_EXIT_OK;
}

/* ledger ---------------------------------------------------------------------- */

int
takes_cli_cmd_ledger (int argc, char **argv)
{
  g_autofree char *project_name = NULL;
  g_autofree char *by = NULL;
  g_autofree char *budget_text = NULL;
  int days = 0;
  GOptionEntry entries[] = {
    { "project", 'p', 0, G_OPTION_ARG_STRING, &project_name, N_ ("Only this project (id, slug or name)"),
      "P" },
    { "by", 0, 0, G_OPTION_ARG_STRING, &by, N_ ("Group by"), "backend|project|day" },
    { "days", 0, 0, G_OPTION_ARG_INT, &days, N_ ("Only the last N days"), "N" },
    { "budget", 0, 0, G_OPTION_ARG_STRING, &budget_text, N_ ("Set the project’s budget (0 removes it)"),
      "AMOUNT" },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesLedger) ledger = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (GDateTime) since = NULL;
  g_autoptr (TakesBudget) budget = NULL;
  TakesLedgerGroup group = TAKES_LEDGER_GROUP_BACKEND;
  gint64 project_id = 0;
  int exit_code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("ledger", "[--budget AMOUNT CURRENCY]",
                        _ ("Show what generation cost, and set budgets."), entries, &argc, &argv, &exit_code))
    return exit_code;
  if (by != NULL && !takes_ledger_group_from_string (by, &group))
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("ledger: group by backend, project or day, not “%s”"),
                           by);
  if ((store = takes_cli_open_store (TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, &exit_code)) == NULL)
    return exit_code;
  ledger = takes_ledger_new (store);
  if (project_name != NULL)
    {
      g_autoptr (TakesProject) project = takes_store_find_project (store, project_name, &error);

      if (project == NULL)
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      project_id = project->id;
    }

  if (budget_text != NULL)
    {
      gint64 target = project_id > 0 ? project_id : takes_store_get_default_project (store);
      double amount = g_ascii_strtod (budget_text, NULL);

      if (amount == 0 && g_str_equal (g_strstrip (budget_text), "0"))
        {
          if (!takes_ledger_clear_budget (ledger, target, &error))
            return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
          g_print ("%s\n", _ ("Budget removed."));
        }
      else
        {
          g_autofree char *currency = argc >= 2 ? g_ascii_strup (argv[1], -1) : NULL;
          g_autofree char *money = NULL;

          if (currency == NULL)
            return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                                   _ ("ledger --budget: give the amount and the currency, "
                                      "for example --budget 20 USD"));
          if (!takes_ledger_set_budget (ledger, target, amount, currency, &error))
            return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
          money = takes_ledger_format_money (amount, currency);
          g_print (_ ("Budget set to %s.\n"), money);
        }
    }

  if (days > 0)
    {
      g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

      since = g_date_time_add_days (now, -days);
    }
  rows = takes_ledger_query (ledger, project_id, NULL, since, NULL, group, &error);
  if (rows == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  if (rows->len == 0)
    g_print ("%s\n", _ ("Nothing spent yet."));
  else
    g_print ("%-24s %6s %12s  %s\n", takes_ledger_group_to_string (group), _ ("TAKES"), _ ("SECONDS"),
             _ ("COST"));
  for (guint i = 0; i < rows->len; i++)
    {
      const TakesLedgerRow *row = g_ptr_array_index (rows, i);
      g_autofree char *money = takes_ledger_format_money (row->cost, row->currency);

      g_print ("%-24s %6u %12.1f  %s\n", row->key != NULL ? row->key : _ ("all"), row->n_jobs, row->seconds,
               money);
    }

  budget = takes_ledger_get_budget (
      ledger, project_id > 0 ? project_id : takes_store_get_default_project (store), &error);
  if (budget != NULL)
    {
      g_autofree char *amount = takes_ledger_format_money (budget->amount, budget->currency);
      g_autofree char *spent = takes_ledger_format_money (budget->spent, budget->currency);
      g_autofree char *pending = takes_ledger_format_money (budget->pending, budget->currency);
      g_autofree char *left
          = takes_ledger_format_money (MAX (takes_budget_get_remaining (budget), 0), budget->currency);

      g_print (_ ("Budget %s: %s spent, %s queued, %s left\n"), amount, spent, pending, left);
    }
  return TAKES_CLI_EXIT_OK;
}
