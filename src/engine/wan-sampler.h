/* wan-sampler.h: flow-matching schedules and samplers, guidance and the
 * per-model defaults.
 *
 * The schedules follow the official Wan code: UniPC uses the grid
 * linspace(0.999, 0) and DPM++ the grid linspace(1, 0), both mapped through
 * σ' = s·σ / (1 + (s − 1)·σ) in double precision, stored as float32 with a
 * terminal 0, and the model timesteps are the integer truncation of the
 * double σ·1000. A WanSampler holds every buffer a run needs, so stepping
 * allocates nothing.
 */
#pragma once

#include <glib.h>

#include "takes-engine.h"

G_BEGIN_DECLS

typedef enum
{
  WAN_SOLVER_UNIPC, /* UniPC bh2, order 2, with the corrector (the default) */
  WAN_SOLVER_DPMPP, /* DPM-Solver++ 2M, midpoint */
  WAN_SOLVER_EULER, /* plain flow Euler on the UniPC schedule */
} WanSolver;

/* "unipc", "dpm++" and "euler"; not translated. */
const char *wan_solver_get_name (WanSolver solver);
/* Accepts the names above, and "dpm" for DPM++. */
gboolean wan_solver_from_name (const char *name, WanSolver *solver);

/* Most steps a schedule may have. */
#define WAN_SAMPLER_MAX_STEPS 10000

/* Fills @sigmas (n_steps + 1 values, the last one 0) and @timesteps
 * (n_steps values). Fails with TAKES_ENGINE_ERROR_INVALID_INPUT for a step
 * count outside 1 … WAN_SAMPLER_MAX_STEPS or a shift that is not a positive
 * finite number. */
gboolean wan_schedule_compute (
    WanSolver solver, int n_steps, double shift, float *sigmas, gint64 *timesteps, GError **error);

typedef struct _WanSampler WanSampler;

/* A sampler for latents of @n_elements floats. */
WanSampler *wan_sampler_new (WanSolver solver, int n_steps, double shift, gsize n_elements, GError **error);
void wan_sampler_free (WanSampler *sampler);

WanSolver wan_sampler_get_solver (const WanSampler *sampler);
int wan_sampler_get_n_steps (const WanSampler *sampler);
gsize wan_sampler_get_n_elements (const WanSampler *sampler);
/* n_steps + 1 values, ending with 0. */
const float *wan_sampler_get_sigmas (const WanSampler *sampler);
const gint64 *wan_sampler_get_timesteps (const WanSampler *sampler);
/* The index of the next step, from 0 to n_steps (done). */
int wan_sampler_get_step_index (const WanSampler *sampler);
/* The integer timestep the model must see for the next step, or -1 when done. */
gint64 wan_sampler_get_timestep (const WanSampler *sampler);
/* Forgets the history so the sampler can run a new trajectory. */
void wan_sampler_reset (WanSampler *sampler);

/* Advances @x in place by one step, given the model's velocity @v at @x and
 * the current timestep. Fails with TAKES_ENGINE_ERROR_INVALID_INPUT when
 * every step has been taken. */
gboolean wan_sampler_step (WanSampler *sampler, float *x, const float *v, GError **error);

/* Classifier-free guidance: out = uncond + guidance·(cond − uncond), in
 * float32 as the official code computes it. @out may alias either input. */
void wan_cfg_combine (float *out, const float *uncond, const float *cond, float guidance, gsize n);

/* The A14B rule: the high-noise expert (with @guidance_high) runs while the
 * integer timestep is at least boundary·1000, the low-noise one otherwise.
 * @guidance, if not NULL, receives the guidance for the chosen expert. */
WanExpert wan_expert_select (
    gint64 timestep, double boundary, double guidance_low, double guidance_high, double *guidance);

/* The defaults of one model family, from data/engine/model-defaults.json. */
typedef struct
{
  int steps;
  double shift;
  double guidance;      /* for a single model; the low-noise guidance for A14B */
  double guidance_high; /* for A14B; equal to guidance otherwise */
  double boundary;      /* for A14B; 0 otherwise */
  int frames;
  int fps;
  int width;
  int height;
  WanSolver solver;
} WanModelDefaults;

/* Reads the defaults of @model ("wan2.1-t2v-1.3b", "wan2.2-ti2v-5b",
 * "wan2.2-t2v-a14b", …) from @engine_data_dir/model-defaults.json. */
gboolean wan_model_defaults_load (const char *engine_data_dir,
                                  const char *model,
                                  WanModelDefaults *defaults,
                                  GError **error);
/* The official default negative prompt, from
 * @engine_data_dir/negative-prompt-zh.txt, without a trailing newline. */
char *wan_default_negative_prompt_load (const char *engine_data_dir, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (WanSampler, wan_sampler_free)

G_END_DECLS
