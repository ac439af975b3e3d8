/* wan-pipeline.h: engine-internal parts of the pipeline. The public API
 * (WanRequest, WanPipeline) is in takes-engine.h; this header adds the step
 * loop that wan_pipeline_denoise() and the golden checker share, so both run
 * exactly the same arithmetic. */
#pragma once

#include "takes-engine.h"
#include "wan-sampler.h"

G_BEGIN_DECLS

/* What one denoising run needs besides its sampler and latent. */
typedef struct
{
  WanDit *dit;      /* the single model, or the low-noise expert of a pair */
  WanDit *dit_high; /* the high-noise expert, or NULL for a single model */
  WanDitState *state;
  const float *context_pos; /* [n_pos, text_dim] */
  int n_pos;
  const float *context_neg; /* [n_neg, text_dim] */
  int n_neg;
  double guidance;      /* the single model's, or the low-noise expert's */
  double guidance_high; /* the high-noise expert's */
  double boundary;      /* fraction of 1000; only with dit_high */
  int shape[4];         /* latent [C, T, h, w] */
} WanDenoiseSetup;

/* One step's outcome, handed to a WanStepFunc after the sampler update. */
typedef struct
{
  int step; /* 0-based */
  int n_steps;
  gint64 timestep;
  WanExpert expert;
  double guidance;
  const float *x;  /* the sample after the step (the next step's model input) */
  const float *x0; /* this step's clean estimate: model input − σ·v */
} WanStepInfo;

typedef gboolean (*WanStepFunc) (const WanStepInfo *info, gpointer user_data, GError **error);

/* Runs every remaining step of @sampler on @x [C, T, h, w] in place: for each
 * step the conditional and the negative DiT passes (of the expert the
 * timestep selects), classifier-free guidance and the sampler update.
 * Buffers are allocated once before the first step. @cancel is asked between
 * blocks and between steps; @progress counts DiT blocks over the whole run
 * (2 passes × layers × steps); @on_step (may be NULL) hears of each step and
 * may fail the run. */
gboolean wan_denoise_loop (const WanDenoiseSetup *setup,
                           WanSampler *sampler,
                           float *x,
                           WanCancelFunc cancel,
                           WanProgressFunc progress,
                           WanStepFunc on_step,
                           gpointer user_data,
                           GError **error);

/* The official output mapping: clamp to [-1, 1], (v + 1)/2·255, truncated. */
guint8 wan_pixel_from_float (float v);

G_END_DECLS
