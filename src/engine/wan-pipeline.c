/* wan-pipeline.c: from a prompt to frames.
 *
 * A run plans first (every size checked, the peak memory estimated against
 * what the machine has), then tokenizes and encodes the prompt and the
 * negative prompt, frees the text encoder, draws the seed's Philox noise,
 * denoises with classifier-free guidance (switching A14B experts at the
 * boundary timestep) and decodes the latents frame by frame with the VAE,
 * or in spatial tiles when whole frames would not fit or tiles are asked for.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "takes-engine-private.h"
#include "wan-noise.h"
#include "wan-pipeline.h"
#include "wan-sampler.h"
#include "wan-vae.h"

/* Per-axis positions the DiT's RoPE tables cover (§2.6). */
#define MAX_GRID 1024
#define DEFAULT_BOUNDARY 0.875

/* Shares of a whole run's progress; the text stage is short next to the
 * diffusion model, and the frame-by-frame decode next to the sampling. */
#define TEXT_SHARE 0.02
#define DECODE_SHARE 0.08

struct _WanPipeline
{
  WanModelSet *set;
  int n_threads;
  WanArch arch;
  WanDit *dit;      /* single, or the low-noise expert */
  WanDit *dit_high; /* or NULL */
  WanVae *vae;
  int channels;
  int factor;
  int patch[3];
  char *default_negative; /* loaded on first use */
};

/* Engine data */

static const char *
defaults_key (WanArch arch)
{
  switch (arch)
    {
      case WAN_ARCH_WAN22_TI2V_5B:
        return "wan2.2-ti2v-5b";
      case WAN_ARCH_WAN22_T2V_A14B:
        return "wan2.2-t2v-a14b";
      case WAN_ARCH_WAN21_T2V_1_3B:
      case WAN_ARCH_WAN21_T2V_14B:
      case WAN_ARCH_CUSTOM:
      case WAN_ARCH_UNKNOWN:
      case WAN_ARCH_TINY:
      default:
        /* The Wan2.1 settings are also the official ones of 2.1-14B. */
        return "wan2.1-t2v-1.3b";
    }
}

gboolean
wan_request_init_defaults (WanRequest *request, WanArch arch, GError **error)
{
  g_autofree char *dir = wan_engine_data_dir ();
  WanModelDefaults d;

  g_return_val_if_fail (request != NULL, FALSE);

  if (!wan_model_defaults_load (dir, defaults_key (arch), &d, error))
    return FALSE;
  memset (request, 0, sizeof *request);
  request->width = d.width;
  request->height = d.height;
  request->frames = d.frames;
  request->steps = d.steps;
  request->guidance = d.guidance;
  request->guidance_high = d.guidance_high;
  request->shift = d.shift;
  request->solver = wan_solver_get_name (d.solver);
  request->boundary = d.boundary;
  if (arch == WAN_ARCH_TINY)
    {
      /* A whole run of the tiny model takes a second or two at this size. */
      request->width = 96;
      request->height = 64;
      request->frames = 9;
      request->steps = 8;
    }
  return TRUE;
}

/* Memory */

static guint64
available_memory (void)
{
  const char *limit = g_getenv ("TAKES_ENGINE_MEMORY_LIMIT");
  g_autofree char *text = NULL;
  const char *line;

  if (limit != NULL && *limit != '\0')
    {
      guint64 value = 0;

      if (g_ascii_string_to_unsigned (limit, 10, 0, G_MAXUINT64, &value, NULL))
        return value;
    }
  if (!g_file_get_contents ("/proc/meminfo", &text, NULL, NULL))
    return G_MAXUINT64;
  line = strstr (text, "MemAvailable:");
  if (line != NULL)
    {
      unsigned long long kib = 0;

      if (sscanf (line, "MemAvailable: %llu kB", &kib) == 1)
        return (guint64)kib * 1024;
    }
  return G_MAXUINT64;
}

/* The text encoder's buffers for a full 512-token run (umt5_encoder_new). */
static guint64
text_stage_bytes (const WanWeights *t5)
{
  const Umt5Config *c = wan_weights_get_t5_config (t5);
  guint64 rows = UMT5_TEXT_LEN;
  guint64 scratch = 4 * rows * (2 * (guint64)c->dim + 4 * (guint64)c->dim_attn + 2 * (guint64)c->dim_ffn);

  return wan_weights_get_n_bytes (t5) + scratch;
}

/* Life cycle */

void
wan_pipeline_free (WanPipeline *pipeline)
{
  if (pipeline == NULL)
    return;
  g_clear_pointer (&pipeline->vae, wan_vae_free);
  g_clear_pointer (&pipeline->dit_high, wan_dit_free);
  g_clear_pointer (&pipeline->dit, wan_dit_free);
  g_free (pipeline->default_negative);
  g_free (pipeline);
}

WanPipeline *
wan_pipeline_new (WanModelSet *set, int n_threads, GError **error)
{
  g_autoptr (WanPipeline) p = NULL;
  WanWeights *high, *single;
  const WanDitConfig *cfg;

  g_return_val_if_fail (set != NULL, NULL);

  if (!wan_model_set_check (set, error))
    return NULL;
  p = g_new0 (WanPipeline, 1);
  p->set = set;
  p->n_threads = n_threads;
  p->arch = wan_model_set_get_arch (set);
  high = wan_model_set_get_dit (set, WAN_EXPERT_HIGH_NOISE);
  single = high != NULL ? wan_model_set_get_dit (set, WAN_EXPERT_LOW_NOISE)
                        : wan_model_set_get_dit (set, WAN_EXPERT_SINGLE);
  p->dit = wan_dit_new (single, n_threads, error);
  if (p->dit == NULL)
    return NULL;
  if (high != NULL && (p->dit_high = wan_dit_new (high, n_threads, error)) == NULL)
    return NULL;
  p->vae = wan_vae_new (wan_model_set_get_vae (set), n_threads, error);
  if (p->vae == NULL)
    return NULL;
  cfg = wan_dit_get_config (p->dit);
  p->channels = cfg->in_dim;
  p->factor = wan_vae_get_spatial_factor (p->vae);
  memcpy (p->patch, cfg->patch_size, sizeof p->patch);
  if (wan_vae_get_z_dim (p->vae) != p->channels || p->patch[0] != 1 || p->patch[1] <= 0 || p->patch[2] <= 0)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_MISMATCH,
                   _ ("The diffusion model in “%s” works on %d latent channels with a %d×%d×%d patch, which "
                      "its VAE (%d channels) cannot decode. Use the VAE that belongs to the model."),
                   wan_model_set_get_dir (set), p->channels, p->patch[0], p->patch[1], p->patch[2],
                   wan_vae_get_z_dim (p->vae));
      return NULL;
    }
  return g_steal_pointer (&p);
}

WanModelSet *
wan_pipeline_get_model_set (const WanPipeline *pipeline)
{
  return pipeline->set;
}

int
wan_pipeline_get_latent_channels (const WanPipeline *pipeline)
{
  return pipeline->channels;
}

int
wan_pipeline_get_spatial_factor (const WanPipeline *pipeline)
{
  return pipeline->factor;
}

int
wan_pipeline_get_size_multiple (const WanPipeline *pipeline)
{
  return pipeline->factor * MAX (pipeline->patch[1], pipeline->patch[2]);
}

/* Planning */

/* A request with every default filled in and its latent shape. */
typedef struct
{
  WanRequest r;
  WanSolver solver;
  int shape[4]; /* latent [C, T, h, w] */
  /* Set by the plan: the decode in whole-video tiles rather than frame by
   * frame. */
  gboolean tiled;
  WanVaeTiling tiling;
} Resolved;

static gboolean invalid (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *format, ...)
{
  va_list args;
  g_autofree char *message = NULL;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT, message);
  return FALSE;
}

static gboolean
resolve (WanPipeline *p, const WanRequest *request, Resolved *out, GError **error)
{
  WanRequest d;
  WanRequest *r = &out->r;
  int multiple = wan_pipeline_get_size_multiple (p);
  const char *s;

  if (!wan_request_init_defaults (&d, p->arch, error))
    return FALSE;
  *r = *request;
  if (r->width <= 0)
    r->width = d.width;
  if (r->height <= 0)
    r->height = d.height;
  if (r->frames <= 0)
    r->frames = d.frames;
  if (r->steps <= 0)
    r->steps = d.steps;
  if (r->guidance <= 0.0)
    r->guidance = d.guidance;
  /* An unset high-noise guidance follows an explicit guidance, and
   * otherwise takes the model's own. */
  if (r->guidance_high <= 0.0)
    r->guidance_high = request->guidance <= 0.0 ? d.guidance_high : r->guidance;
  if (r->shift <= 0.0)
    r->shift = d.shift;
  if (r->boundary <= 0.0)
    r->boundary = d.boundary > 0.0 ? d.boundary : DEFAULT_BOUNDARY;
  if (r->solver == NULL)
    r->solver = d.solver;

  if (r->prompt == NULL)
    return invalid (error, _ ("The prompt is empty. Describe the video to make."));
  for (s = r->prompt; *s != '\0' && g_ascii_isspace (*s); s++)
    ;
  if (*s == '\0')
    return invalid (error, _ ("The prompt is empty. Describe the video to make."));
  if (!g_utf8_validate (r->prompt, -1, NULL)
      || (r->negative_prompt != NULL && !g_utf8_validate (r->negative_prompt, -1, NULL)))
    return invalid (error, _ ("The prompt is not valid UTF-8 text. Retype it or paste it as plain text."));
  if ((r->frames - 1) % 4 != 0 || r->frames > 1 + 4 * (MAX_GRID - 1))
    return invalid (error,
                    _ ("%d frames cannot be made: the frame count must be 4n+1 (such as 17, 33, 49 or 81) "
                       "and at most %d."),
                    r->frames, 1 + 4 * (MAX_GRID - 1));
  if (r->width % multiple != 0 || r->height % multiple != 0)
    return invalid (error,
                    _ ("%d×%d cannot be made with this model: width and height must be multiples of %d "
                       "(such as %d×%d)."),
                    r->width, r->height, multiple, MAX (multiple, r->width / multiple * multiple),
                    MAX (multiple, r->height / multiple * multiple));
  if (r->width / p->factor / p->patch[2] > MAX_GRID || r->height / p->factor / p->patch[1] > MAX_GRID)
    return invalid (error, _ ("%d×%d is larger than the model can take; use at most %d pixels a side."),
                    r->width, r->height, MAX_GRID * multiple);
  if (r->steps > WAN_SAMPLER_MAX_STEPS)
    return invalid (error, _ ("%d steps are too many; use at most %d."), r->steps, WAN_SAMPLER_MAX_STEPS);
  if (!isfinite (r->guidance) || !isfinite (r->guidance_high) || r->guidance > 100.0
      || r->guidance_high > 100.0)
    return invalid (error, _ ("The guidance scale must be a number from 0 to 100; 5 is usual."));
  if (!isfinite (r->shift) || r->shift > 1000.0)
    return invalid (error, _ ("The shift must be a positive number up to 1000; 5 is usual."));
  if (!(r->boundary <= 1.0))
    return invalid (error, _ ("The expert boundary must be a fraction from 0 to 1; 0.875 is usual."));
  if (r->preview_every < 0)
    return invalid (error, _ ("The preview interval must be 0 (no previews) or a number of steps."));
  if (r->vae_tile < 0 || (r->vae_tile > 0 && r->vae_tile < WAN_VAE_TILE_MIN))
    return invalid (error,
                    _ ("VAE tiles of %d latent cells cannot be used: give at least %d cells a side, or 0 to "
                       "tile only when the video would not fit in memory."),
                    r->vae_tile, WAN_VAE_TILE_MIN);
  if (!wan_solver_from_name (r->solver, &out->solver))
    return invalid (error, _ ("The solver “%s” is unknown; use “unipc”, “dpm++” or “euler”."), r->solver);

  out->shape[0] = p->channels;
  out->shape[1] = (r->frames - 1) / 4 + 1;
  out->shape[2] = r->height / p->factor;
  out->shape[3] = r->width / p->factor;
  out->tiled = FALSE;
  memset (&out->tiling, 0, sizeof out->tiling);
  return TRUE;
}

static char *
format_size (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

/* Square tiles of @side latent cells over a latent of h x w, overlapping
 * as the VAE's own planner does. */
static void
square_tiling (int side, int h, int w, WanVaeTiling *tiling)
{
  tiling->tile_h = MIN (side, h);
  tiling->tile_w = MIN (side, w);
  tiling->overlap = MIN (WAN_VAE_TILE_OVERLAP, side / 4);
}

/* Chooses how the latent is decoded and returns the stage's bytes beyond
 * @fixed (the VAE weights, the latent and the RGB frames, which every way
 * holds). The frame-by-frame decode holds one latent frame and four video
 * frames besides its caches; a tiled one holds the whole video. When
 * nothing fits, @res keeps the smallest tiles tried and the bytes are
 * theirs. */
static guint64
plan_decode (WanPipeline *p, Resolved *res, guint64 fixed, guint64 available)
{
  const int *s = res->shape;
  const int T = s[1], h = s[2], w = s[3];
  const guint64 frame_px = (guint64)res->r.width * (guint64)res->r.height;
  guint64 budget = available > fixed ? available - fixed : 0;
  guint64 stream = wan_vae_estimate_decoder_bytes (p->vae, h, w);

  res->tiled = FALSE;
  memset (&res->tiling, 0, sizeof res->tiling);
  if (res->r.vae_tile > 0)
    {
      res->tiled = TRUE;
      square_tiling (res->r.vae_tile, h, w, &res->tiling);
      return wan_vae_estimate_decode_tiled_bytes (p->vae, T, h, w, &res->tiling);
    }
  if (stream == 0)
    return 0;
  stream += sizeof (float) * ((guint64)s[0] * (guint64)h * (guint64)w + 3 * 4 * frame_px);
  if (stream <= budget)
    return stream;
  res->tiled = TRUE;
  if (wan_vae_plan_tiling (p->vae, T, h, w, budget, &res->tiling))
    return wan_vae_estimate_decode_tiled_bytes (p->vae, T, h, w, &res->tiling);
  square_tiling (WAN_VAE_TILE_MIN, h, w, &res->tiling);
  return wan_vae_estimate_decode_tiled_bytes (p->vae, T, h, w, &res->tiling);
}

static gboolean
plan_resolved (WanPipeline *p, Resolved *res, WanMemoryPlan *plan, GError **error)
{
  WanWeights *dit_w
      = wan_model_set_get_dit (p->set, p->dit_high != NULL ? WAN_EXPERT_LOW_NOISE : WAN_EXPERT_SINGLE);
  WanWeights *high_w = wan_model_set_get_dit (p->set, WAN_EXPERT_HIGH_NOISE);
  WanWeights *t5 = wan_model_set_get_t5 (p->set);
  WanWeights *vae_w = wan_model_set_get_vae (p->set);
  const int *s = res->shape;
  guint64 latent = 4 * (guint64)s[0] * (guint64)s[1] * (guint64)s[2] * (guint64)s[3];
  guint64 frames_bytes = 3 * (guint64)res->r.frames * (guint64)res->r.width * (guint64)res->r.height;
  guint64 vae_fixed, vae_bytes;
  WanDitMemory dm;
  WanMemoryPlan m = { 0 };

  if (!wan_dit_estimate_memory (dit_w, s[0], s[1], s[2], s[3], p->n_threads, &dm, error))
    return FALSE;
  m.available = available_memory ();
  vae_fixed = wan_weights_get_n_bytes (vae_w) + latent + frames_bytes;
  vae_bytes = plan_decode (p, res, vae_fixed, m.available);
  if (vae_bytes == 0)
    return invalid (error, _ ("The VAE cannot decode %d×%d; choose another size."), res->r.width,
                    res->r.height);

  m.weights = wan_weights_get_n_bytes (dit_w) + wan_weights_get_n_bytes (t5) + wan_weights_get_n_bytes (vae_w)
              + (high_w != NULL ? wan_weights_get_n_bytes (high_w) : 0);
  m.text = text_stage_bytes (t5);
  /* The latent, the two contexts and the loop's three buffers (cond,
   * uncond, x0) come on top of the model's own state. */
  m.dit = dm.weights + dm.activations + dm.scratch + 4 * latent;
  m.vae = vae_fixed + vae_bytes;
  m.total = MAX (m.text, MAX (m.dit, m.vae));
  m.vae_tiled = res->tiled;
  m.vae_tiling = res->tiling;
  m.vae_tiles = res->tiled ? wan_vae_tiling_count (s[2], s[3], &res->tiling) : 1;
  if (plan != NULL)
    *plan = m;
  if (m.total > m.available)
    {
      g_autofree char *need = format_size (m.total);
      g_autofree char *have = format_size (m.available);
      const char *stage = m.total == m.vae   ? _ ("while decoding")
                          : m.total == m.dit ? _ ("while denoising")
                                             : _ ("while reading the prompt");

      if (!res->tiled)
        g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
                     _ ("This take needs about %s of memory at its peak (%s), but only %s is available. Make "
                        "fewer frames or a smaller size, or close other programs."),
                     need, stage, have);
      else if (res->r.vae_tile > 0)
        g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
                     _ ("This take needs about %s of memory at its peak (%s, with VAE tiles of %d×%d latent "
                        "cells), but only %s is available. Make fewer frames or a smaller size, choose "
                        "smaller VAE tiles (down to %d cells) or let the engine choose them, or close other "
                        "programs."),
                     need, stage, res->tiling.tile_w, res->tiling.tile_h, have, WAN_VAE_TILE_MIN);
      else
        /* Smaller tiles would not help: the planner's either fit or are
         * already the smallest. */
        g_set_error (
            error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
            _ ("This take needs about %s of memory at its peak (%s), but only %s is available, even "
               "with the VAE decoding in tiles of %d×%d latent cells. Make fewer frames or a smaller "
               "size, or close other programs."),
            need, stage, have, res->tiling.tile_w, res->tiling.tile_h);
      return FALSE;
    }
  return TRUE;
}

gboolean
wan_pipeline_plan (WanPipeline *pipeline, const WanRequest *request, WanMemoryPlan *plan, GError **error)
{
  Resolved res;

  g_return_val_if_fail (pipeline != NULL && request != NULL, FALSE);

  return resolve (pipeline, request, &res, error) && plan_resolved (pipeline, &res, plan, error);
}

/* The step loop */

typedef struct
{
  WanCancelFunc cancel;
  WanProgressFunc progress;
  gpointer user_data;
  int base;  /* blocks done before the current pass */
  int total; /* blocks of the whole run */
} BlockCounter;

static gboolean
block_cancel_cb (gpointer data)
{
  BlockCounter *bc = data;

  return bc->cancel != NULL && bc->cancel (bc->user_data);
}

static void
block_progress_cb (int done, int total, gpointer data)
{
  BlockCounter *bc = data;

  if (bc->progress != NULL)
    bc->progress (bc->base + done, bc->total, bc->user_data);
}

static gboolean
set_cancelled (GError **error)
{
  g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CANCELLED, _ ("The generation was cancelled."));
  return FALSE;
}

gboolean
wan_denoise_loop (const WanDenoiseSetup *setup,
                  WanSampler *sampler,
                  float *x,
                  WanCancelFunc cancel,
                  WanProgressFunc progress,
                  WanStepFunc on_step,
                  gpointer user_data,
                  GError **error)
{
  const gsize n
      = (gsize)setup->shape[0] * (gsize)setup->shape[1] * (gsize)setup->shape[2] * (gsize)setup->shape[3];
  const int layers = wan_dit_get_config (setup->dit)->num_layers;
  const int n_steps = wan_sampler_get_n_steps (sampler);
  g_autofree float *cond = g_try_new (float, n);
  g_autofree float *uncond = g_try_new (float, n);
  g_autofree float *x0 = g_try_new (float, n);
  BlockCounter bc = { cancel, progress, user_data, 0, n_steps * 2 * layers };
  gint64 t;

  g_return_val_if_fail (wan_sampler_get_n_elements (sampler) == n, FALSE);

  if (cond == NULL || uncond == NULL || x0 == NULL)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
                   _ ("There is not enough memory for the sampling buffers. Make fewer frames or a smaller "
                      "size, or close other programs."));
      return FALSE;
    }
  while ((t = wan_sampler_get_timestep (sampler)) >= 0)
    {
      const int i = wan_sampler_get_step_index (sampler);
      const float sigma = wan_sampler_get_sigmas (sampler)[i];
      WanExpert expert = WAN_EXPERT_SINGLE;
      double guidance = setup->guidance;
      WanDit *dit = setup->dit;
      WanStepInfo info;

      if (cancel != NULL && cancel (user_data))
        return set_cancelled (error);
      if (setup->dit_high != NULL)
        {
          expert = wan_expert_select (t, setup->boundary, setup->guidance, setup->guidance_high, &guidance);
          if (expert == WAN_EXPERT_HIGH_NOISE)
            dit = setup->dit_high;
        }
      bc.base = i * 2 * layers;
      if (!wan_dit_forward (dit, setup->state, x, NULL, t, setup->context_pos, setup->n_pos, cond,
                            block_cancel_cb, block_progress_cb, &bc, error))
        return FALSE;
      bc.base += layers;
      if (!wan_dit_forward (dit, setup->state, x, NULL, t, setup->context_neg, setup->n_neg, uncond,
                            block_cancel_cb, block_progress_cb, &bc, error))
        return FALSE;
      wan_cfg_combine (cond, uncond, cond, (float)guidance, n);
      for (gsize k = 0; k < n; k++)
        x0[k] = x[k] - sigma * cond[k];
      if (!wan_sampler_step (sampler, x, cond, error))
        return FALSE;
      if (on_step != NULL)
        {
          info.step = i;
          info.n_steps = n_steps;
          info.timestep = t;
          info.expert = expert;
          info.guidance = guidance;
          info.x = x;
          info.x0 = x0;
          if (!on_step (&info, user_data, error))
            return FALSE;
        }
    }
  return TRUE;
}

guint8
wan_pixel_from_float (float v)
{
  float c = v < -1.0f ? -1.0f : v > 1.0f ? 1.0f : v;

  return (guint8)((c + 1.0f) * 0.5f * 255.0f);
}

/* One run: callbacks, timing and previews */

typedef struct
{
  WanPipeline *p;
  const Resolved *res;
  WanCancelFunc cancel;
  WanPipelineProgressFunc progress;
  WanPreviewFunc preview;
  gpointer user_data;
  gboolean with_decode;
  gint64 start_us;
  double last_fraction;
} Run;

static double
stage_start (const Run *run, WanStage stage)
{
  switch (stage)
    {
      case WAN_STAGE_LOAD:
      case WAN_STAGE_TEXT:
        return 0.0;
      case WAN_STAGE_DENOISE:
        return TEXT_SHARE;
      case WAN_STAGE_DECODE:
      default:
        return 1.0 - DECODE_SHARE;
    }
}

static double
stage_end (const Run *run, WanStage stage)
{
  switch (stage)
    {
      case WAN_STAGE_LOAD:
        return 0.0;
      case WAN_STAGE_TEXT:
        return TEXT_SHARE;
      case WAN_STAGE_DENOISE:
        return run->with_decode ? 1.0 - DECODE_SHARE : 1.0;
      case WAN_STAGE_DECODE:
      default:
        return 1.0;
    }
}

static void
report (Run *run, WanStage stage, int step, int n_steps, double within)
{
  WanProgress pr;
  double elapsed = (double)(g_get_monotonic_time () - run->start_us) / G_USEC_PER_SEC;
  double a = stage_start (run, stage), b = stage_end (run, stage);
  double fraction = a + (b - a) * CLAMP (within, 0.0, 1.0);

  if (run->progress == NULL)
    return;
  fraction = MAX (fraction, run->last_fraction);
  run->last_fraction = fraction;
  pr.stage = stage;
  pr.step = step;
  pr.n_steps = n_steps;
  pr.fraction = fraction;
  /* Time per share of the run, measured once the first DiT work is done:
   * before that, the text stage alone would predict nothing useful. */
  pr.eta_seconds = fraction > TEXT_SHARE && fraction < 1.0 ? elapsed / fraction * (1.0 - fraction)
                   : fraction >= 1.0                       ? 0.0
                                                           : -1.0;
  run->progress (&pr, run->user_data);
}

static gboolean
run_cancel_cb (gpointer data)
{
  Run *run = data;

  return run->cancel != NULL && run->cancel (run->user_data);
}

static void
run_block_cb (int done, int total, gpointer data)
{
  Run *run = data;
  int per_step = total / MAX (run->res->r.steps, 1);

  report (run, WAN_STAGE_DENOISE, done / MAX (per_step, 1), run->res->r.steps, (double)done / MAX (total, 1));
}

/* Decodes the first latent frame of @x0 and scales it down by whole pixels
 * so its longer side is at most WAN_PREVIEW_MAX_SIZE. */
static gboolean
send_preview (Run *run, const float *x0, int step, GError **error)
{
  const int *s = run->res->shape;
  const gsize plane = (gsize)s[2] * (gsize)s[3];
  const int H = s[2] * run->p->factor, W = s[3] * run->p->factor;
  const int longer = MAX (H, W);
  const int div = (longer + WAN_PREVIEW_MAX_SIZE - 1) / WAN_PREVIEW_MAX_SIZE;
  const int ph = MAX (H / div, 1), pw = MAX (W / div, 1);
  g_autofree float *z = g_try_new (float, (gsize)s[0] * plane);
  g_autofree float *video = g_try_new (float, 3 * (gsize)H * (gsize)W);
  g_autofree guint8 *rgb = g_try_new (guint8, 3 * (gsize)ph * (gsize)pw);

  if (z == NULL || video == NULL || rgb == NULL)
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
          _ ("There is not enough memory for a preview. Turn previews off or close other programs."));
      return FALSE;
    }
  for (int c = 0; c < s[0]; c++)
    memcpy (z + (gsize)c * plane, x0 + (gsize)c * (gsize)s[1] * plane, plane * sizeof (float));
  /* In the run's tiles, so a preview needs no more memory than the final
   * decode was planned with. */
  if (!wan_vae_decode_tiled (run->p->vae, z, 1, s[2], s[3], run->res->tiled ? &run->res->tiling : NULL, video,
                             run_cancel_cb, NULL, run, error))
    return FALSE;
  for (int y = 0; y < ph; y++)
    for (int xx = 0; xx < pw; xx++)
      for (int c = 0; c < 3; c++)
        {
          double sum = 0.0;

          for (int dy = 0; dy < div; dy++)
            for (int dx = 0; dx < div; dx++)
              sum += video[(gsize)c * H * W + (gsize)(y * div + dy) * W + (gsize)(xx * div + dx)];
          rgb[((gsize)y * pw + xx) * 3 + c] = wan_pixel_from_float ((float)(sum / (div * div)));
        }
  run->preview (rgb, pw, ph, 1, step, run->user_data);
  return TRUE;
}

static gboolean
run_step_cb (const WanStepInfo *info, gpointer data, GError **error)
{
  Run *run = data;
  int done = info->step + 1;

  report (run, WAN_STAGE_DENOISE, done, info->n_steps, (double)done / info->n_steps);
  if (run->preview != NULL && run->res->r.preview_every > 0 && done % run->res->r.preview_every == 0)
    return send_preview (run, info->x0, done, error);
  return TRUE;
}

static float *
encode_text (WanPipeline *p, Umt5Encoder *encoder, const char *text, int *n_rows, Run *run, GError **error)
{
  Umt5Tokenizer *tok = wan_model_set_get_tokenizer (p->set);
  gint32 ids[UMT5_TEXT_LEN], mask[UMT5_TEXT_LEN];
  guint n_valid = 0;
  g_autofree float *out = NULL;
  int dim = umt5_encoder_get_dim (encoder);

  if (!umt5_tokenizer_encode (tok, text, UMT5_TEXT_LEN, ids, mask, &n_valid, error))
    return NULL;
  out = g_try_new (float, (gsize)n_valid *(gsize)dim);
  if (out == NULL)
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
          _ ("There is not enough memory to encode the prompt. Close other programs and try again."));
      return NULL;
    }
  if (!umt5_encoder_encode (encoder, ids, (int)n_valid, out, run_cancel_cb, run, error))
    return NULL;
  *n_rows = (int)n_valid;
  return g_steal_pointer (&out);
}

static float *
denoise (Run *run, GError **error)
{
  WanPipeline *p = run->p;
  const Resolved *res = run->res;
  const char *negative = res->r.negative_prompt;
  g_autoptr (Umt5Encoder) encoder = NULL;
  g_autoptr (WanDitState) state = NULL;
  g_autoptr (WanSampler) sampler = NULL;
  g_autofree float *ctx_pos = NULL, *ctx_neg = NULL, *x = NULL;
  const gsize n = (gsize)res->shape[0] * (gsize)res->shape[1] * (gsize)res->shape[2] * (gsize)res->shape[3];
  WanDenoiseSetup setup = { 0 };
  int n_pos = 0, n_neg = 0;

  if (negative == NULL || *negative == '\0')
    {
      if (p->default_negative == NULL)
        {
          g_autofree char *dir = wan_engine_data_dir ();

          p->default_negative = wan_default_negative_prompt_load (dir, error);
          if (p->default_negative == NULL)
            return NULL;
        }
      negative = p->default_negative;
    }

  report (run, WAN_STAGE_LOAD, 0, 1, 0.0);
  encoder = umt5_encoder_new (wan_model_set_get_t5 (p->set), p->n_threads, error);
  if (encoder == NULL)
    return NULL;
  report (run, WAN_STAGE_TEXT, 0, 2, 0.0);
  ctx_pos = encode_text (p, encoder, res->r.prompt, &n_pos, run, error);
  if (ctx_pos == NULL)
    return NULL;
  report (run, WAN_STAGE_TEXT, 1, 2, 0.5);
  ctx_neg = encode_text (p, encoder, negative, &n_neg, run, error);
  if (ctx_neg == NULL)
    return NULL;
  g_clear_pointer (&encoder, umt5_encoder_free);
  report (run, WAN_STAGE_TEXT, 2, 2, 1.0);

  state = wan_dit_state_new (p->dit, res->shape[0], res->shape[1], res->shape[2], res->shape[3],
                             MAX (n_pos, n_neg), error);
  if (state == NULL)
    return NULL;
  sampler = wan_sampler_new (res->solver, res->r.steps, res->r.shift, n, error);
  if (sampler == NULL)
    return NULL;
  x = g_try_new (float, n);
  if (x == NULL)
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
          _ ("There is not enough memory for the latent video. Make fewer frames or a smaller size."));
      return NULL;
    }
  wan_noise_fill_parallel (res->r.seed, x, n, p->n_threads > 0 ? p->n_threads : (int)g_get_num_processors ());

  setup.dit = p->dit;
  setup.dit_high = p->dit_high;
  setup.state = state;
  setup.context_pos = ctx_pos;
  setup.n_pos = n_pos;
  setup.context_neg = ctx_neg;
  setup.n_neg = n_neg;
  setup.guidance = res->r.guidance;
  setup.guidance_high = res->r.guidance_high;
  setup.boundary = res->r.boundary;
  memcpy (setup.shape, res->shape, sizeof setup.shape);
  report (run, WAN_STAGE_DENOISE, 0, res->r.steps, 0.0);
  if (!wan_denoise_loop (&setup, sampler, x, run_cancel_cb, run_block_cb, run_step_cb, run, error))
    return NULL;
  return g_steal_pointer (&x);
}

static void
run_init (Run *run,
          WanPipeline *p,
          const Resolved *res,
          gboolean with_decode,
          WanCancelFunc cancel,
          WanPipelineProgressFunc progress,
          WanPreviewFunc preview,
          gpointer user_data)
{
  memset (run, 0, sizeof *run);
  run->p = p;
  run->res = res;
  run->with_decode = with_decode;
  run->cancel = cancel;
  run->progress = progress;
  run->preview = preview;
  run->user_data = user_data;
  run->start_us = g_get_monotonic_time ();
}

float *
wan_pipeline_denoise (WanPipeline *pipeline,
                      const WanRequest *request,
                      int shape[4],
                      WanCancelFunc cancel,
                      WanPipelineProgressFunc progress,
                      WanPreviewFunc preview,
                      gpointer user_data,
                      GError **error)
{
  Resolved res;
  Run run;
  float *x;

  g_return_val_if_fail (pipeline != NULL && request != NULL, NULL);

  if (!resolve (pipeline, request, &res, error) || !plan_resolved (pipeline, &res, NULL, error))
    return NULL;
  run_init (&run, pipeline, &res, FALSE, cancel, progress, preview, user_data);
  x = denoise (&run, error);
  if (x != NULL && shape != NULL)
    memcpy (shape, res.shape, sizeof res.shape);
  return x;
}

static void
run_decode_cb (int done, int total, gpointer data)
{
  Run *run = data;

  report (run, WAN_STAGE_DECODE, done, total, (double)done / MAX (total, 1));
}

/* The decode of the whole video in the plan's tiles: frames come out only
 * at the end, so the RGB frames are made after it. */
static guint8 *
decode_tiled (Run *run, const float *x, GError **error)
{
  const Resolved *res = run->res;
  const int T = res->shape[1];
  const gsize frame_px = (gsize)res->r.height * (gsize)res->r.width;
  const gsize F = (gsize)res->r.frames;
  g_autofree float *video = g_try_new (float, 3 * F * frame_px);
  g_autofree guint8 *rgb = NULL;
  int n_tiles = wan_vae_tiling_count (res->shape[2], res->shape[3], &res->tiling);

  if (video == NULL)
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
          _ ("There is not enough memory to decode the video. Make fewer frames or a smaller size."));
      return NULL;
    }
  report (run, WAN_STAGE_DECODE, 0, n_tiles * T, 0.0);
  if (run_cancel_cb (run))
    {
      set_cancelled (error);
      return NULL;
    }
  if (!wan_vae_decode_tiled (run->p->vae, x, T, res->shape[2], res->shape[3], &res->tiling, video,
                             run_cancel_cb, run_decode_cb, run, error))
    return NULL;
  rgb = g_try_new (guint8, F * frame_px * 3);
  if (rgb == NULL)
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
          _ ("There is not enough memory to decode the video. Make fewer frames or a smaller size."));
      return NULL;
    }
  /* [3, F, H, W] planes to packed RGB rows. */
  for (gsize k = 0; k < F; k++)
    {
      guint8 *dst = rgb + k * frame_px * 3;

      for (gsize px = 0; px < frame_px; px++)
        for (int c = 0; c < 3; c++)
          dst[px * 3 + c] = wan_pixel_from_float (video[((gsize)c * F + k) * frame_px + px]);
    }
  report (run, WAN_STAGE_DECODE, n_tiles * T, n_tiles * T, 1.0);
  return g_steal_pointer (&rgb);
}

guint8 *
wan_pipeline_generate (WanPipeline *pipeline,
                       const WanRequest *request,
                       int *n_frames,
                       WanCancelFunc cancel,
                       WanPipelineProgressFunc progress,
                       WanPreviewFunc preview,
                       gpointer user_data,
                       GError **error)
{
  g_autoptr (WanVaeDecoder) decoder = NULL;
  g_autofree float *x = NULL, *z = NULL, *chunk = NULL;
  g_autofree guint8 *rgb = NULL;
  Resolved res;
  Run run;
  gsize plane, frame_px, done_frames = 0;
  int T, H, W;

  g_return_val_if_fail (pipeline != NULL && request != NULL && n_frames != NULL, NULL);

  if (!resolve (pipeline, request, &res, error) || !plan_resolved (pipeline, &res, NULL, error))
    return NULL;
  run_init (&run, pipeline, &res, TRUE, cancel, progress, preview, user_data);
  x = denoise (&run, error);
  if (x == NULL)
    return NULL;
  if (res.tiled)
    {
      rgb = decode_tiled (&run, x, error);
      if (rgb != NULL)
        *n_frames = res.r.frames;
      return g_steal_pointer (&rgb);
    }

  T = res.shape[1];
  H = res.r.height;
  W = res.r.width;
  plane = (gsize)res.shape[2] * (gsize)res.shape[3];
  frame_px = (gsize)H * (gsize)W;
  decoder = wan_vae_decoder_new (pipeline->vae, res.shape[2], res.shape[3], error);
  if (decoder == NULL)
    return NULL;
  z = g_try_new (float, (gsize)res.shape[0] * plane);
  chunk = g_try_new (float, 3 * 4 * frame_px);
  rgb = g_try_new (guint8, (gsize)res.r.frames * frame_px * 3);
  if (z == NULL || chunk == NULL || rgb == NULL)
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
          _ ("There is not enough memory to decode the video. Make fewer frames or a smaller size."));
      return NULL;
    }
  report (&run, WAN_STAGE_DECODE, 0, T, 0.0);
  for (int f = 0; f < T; f++)
    {
      int got = 0;

      if (cancel != NULL && cancel (user_data))
        {
          set_cancelled (error);
          return NULL;
        }
      for (int c = 0; c < res.shape[0]; c++)
        memcpy (z + (gsize)c * plane, x + ((gsize)c * (gsize)T + (gsize)f) * plane, plane * sizeof (float));
      if (!wan_vae_decoder_push (decoder, z, chunk, &got, run_cancel_cb, &run, error))
        return NULL;
      if (got < 0 || done_frames + (gsize)got > (gsize)res.r.frames)
        {
          g_set_error (
              error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
              _ ("The VAE returned more frames than requested. The VAE file does not fit the model."));
          return NULL;
        }
      /* [3, got, H, W] planes to packed RGB rows. */
      for (int k = 0; k < got; k++)
        {
          guint8 *dst = rgb + (done_frames + (gsize)k) * frame_px * 3;

          for (gsize px = 0; px < frame_px; px++)
            for (int c = 0; c < 3; c++)
              dst[px * 3 + c]
                  = wan_pixel_from_float (chunk[((gsize)c * (gsize)got + (gsize)k) * frame_px + px]);
        }
      done_frames += (gsize)got;
      report (&run, WAN_STAGE_DECODE, f + 1, T, (double)(f + 1) / T);
    }
  *n_frames = (int)done_frames;
  return g_steal_pointer (&rgb);
}
