/* wan-sampler.c: flow-matching schedules and the UniPC, DPM++ and Euler steps.
 *
 * The step arithmetic mirrors the official Wan2.2 solvers
 * (wan/utils/fm_solvers_unipc.py and fm_solvers.py): scalar coefficients in
 * double from the float32 σ table, element updates in float32.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "takes-engine.h"
#include "wan-sampler.h"

struct _WanSampler
{
  WanSolver solver;
  int n_steps;
  gsize n;
  float *sigmas;
  gint64 *timesteps;
  int step;
  int lower_order_nums;
  int last_order; /* the order the previous UniPC predictor used */
  gboolean have_last_sample;
  /* x₀ predictions: m[0] is the newest, m[1] the one before, m[2] scratch. */
  float *m[3];
  float *last_sample;
};

const char *
wan_solver_get_name (WanSolver solver)
{
  switch (solver)
    {
      case WAN_SOLVER_UNIPC:
        return "unipc";
      case WAN_SOLVER_DPMPP:
        return "dpm++";
      case WAN_SOLVER_EULER:
        return "euler";
      default:
        return "unknown";
    }
}

gboolean
wan_solver_from_name (const char *name, WanSolver *solver)
{
  if (g_strcmp0 (name, "unipc") == 0)
    *solver = WAN_SOLVER_UNIPC;
  else if (g_strcmp0 (name, "dpm++") == 0 || g_strcmp0 (name, "dpm") == 0)
    *solver = WAN_SOLVER_DPMPP;
  else if (g_strcmp0 (name, "euler") == 0)
    *solver = WAN_SOLVER_EULER;
  else
    return FALSE;
  return TRUE;
}

gboolean
wan_schedule_compute (
    WanSolver solver, int n_steps, double shift, float *sigmas, gint64 *timesteps, GError **error)
{
  double start, step;

  if (n_steps < 1 || n_steps > WAN_SAMPLER_MAX_STEPS)
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
          _ ("The number of sampling steps must be between 1 and %d, not %d. Choose another step count."),
          WAN_SAMPLER_MAX_STEPS, n_steps);
      return FALSE;
    }
  if (!isfinite (shift) || shift <= 0.0)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("The schedule shift must be a positive number, not %g. Choose another shift."), shift);
      return FALSE;
    }

  /* The official UniPC scheduler takes its σ_max from a float32 table of
   * the shift-1 training grid, so the start is 0.999 rounded to float. */
  start = solver == WAN_SOLVER_DPMPP ? 1.0 : (double)(float)0.999;
  step = (0.0 - start) / n_steps;
  for (int i = 0; i < n_steps; i++)
    {
      /* numpy.linspace: i·step + start. */
      double s = (double)i * step + start;
      double sigma = shift * s / (1.0 + (shift - 1.0) * s);

      sigmas[i] = (float)sigma;
      timesteps[i] = (gint64)(sigma * 1000.0);
    }
  sigmas[n_steps] = 0.0f;
  return TRUE;
}

WanSampler *
wan_sampler_new (WanSolver solver, int n_steps, double shift, gsize n_elements, GError **error)
{
  g_autofree float *sigmas = NULL;
  g_autofree gint64 *timesteps = NULL;
  WanSampler *sampler;
  int n_buffers;

  if (n_elements == 0 || n_elements > G_MAXSIZE / sizeof (float) / 4)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("A latent of %zu values cannot be sampled. Choose another video size."),
                   n_elements);
      return NULL;
    }
  if ((int)solver < WAN_SOLVER_UNIPC || solver > WAN_SOLVER_EULER)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("The sampler %d is not one the engine knows. Choose UniPC, DPM++ or Euler."),
                   (int)solver);
      return NULL;
    }
  /* The schedule is checked before its tables are sized from it. */
  sigmas = g_new (float, CLAMP (n_steps, 1, WAN_SAMPLER_MAX_STEPS) + 1);
  timesteps = g_new (gint64, CLAMP (n_steps, 1, WAN_SAMPLER_MAX_STEPS));
  if (!wan_schedule_compute (solver, n_steps, shift, sigmas, timesteps, error))
    return NULL;

  sampler = g_new0 (WanSampler, 1);
  sampler->solver = solver;
  sampler->n_steps = n_steps;
  sampler->n = n_elements;
  sampler->sigmas = g_steal_pointer (&sigmas);
  sampler->timesteps = g_steal_pointer (&timesteps);
  n_buffers = solver == WAN_SOLVER_UNIPC ? 3 : solver == WAN_SOLVER_DPMPP ? 2 : 0;
  for (int i = 0; i < n_buffers; i++)
    {
      sampler->m[i] = g_try_new (float, n_elements);
      if (sampler->m[i] == NULL)
        goto no_memory;
    }
  if (solver == WAN_SOLVER_UNIPC)
    {
      sampler->last_sample = g_try_new (float, n_elements);
      if (sampler->last_sample == NULL)
        goto no_memory;
    }
  return sampler;

no_memory:
  wan_sampler_free (sampler);
  g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
               _ ("There is not enough memory for the sampler of a %zu-value latent. Close other programs or choose a smaller video."),
               n_elements);
  return NULL;
}

void
wan_sampler_free (WanSampler *sampler)
{
  if (sampler == NULL)
    return;
  g_free (sampler->sigmas);
  g_free (sampler->timesteps);
  for (int i = 0; i < 3; i++)
    g_free (sampler->m[i]);
  g_free (sampler->last_sample);
  g_free (sampler);
}

WanSolver
wan_sampler_get_solver (const WanSampler *sampler)
{
  return sampler->solver;
}

int
wan_sampler_get_n_steps (const WanSampler *sampler)
{
  return sampler->n_steps;
}

gsize
wan_sampler_get_n_elements (const WanSampler *sampler)
{
  return sampler->n;
}

const float *
wan_sampler_get_sigmas (const WanSampler *sampler)
{
  return sampler->sigmas;
}

const gint64 *
wan_sampler_get_timesteps (const WanSampler *sampler)
{
  return sampler->timesteps;
}

int
wan_sampler_get_step_index (const WanSampler *sampler)
{
  return sampler->step;
}

gint64
wan_sampler_get_timestep (const WanSampler *sampler)
{
  return sampler->step < sampler->n_steps ? sampler->timesteps[sampler->step] : -1;
}

void
wan_sampler_reset (WanSampler *sampler)
{
  sampler->step = 0;
  sampler->lower_order_nums = 0;
  sampler->last_order = 0;
  sampler->have_last_sample = FALSE;
}

/* λ(σ) = ln(1 − σ) − ln σ, the half log-SNR of flow matching. */
static double
lambda_of (float sigma)
{
  return log (1.0 - (double)sigma) - log ((double)sigma);
}

static void
rotate_history (WanSampler *sampler)
{
  float *scratch = sampler->m[2];

  sampler->m[2] = sampler->m[1];
  sampler->m[1] = sampler->m[0];
  sampler->m[0] = scratch;
}

/* UniC: recomputes the current sample from the pre-predictor sample with the
 * fresh x₀ prediction @m_new. */
static void
unipc_correct (WanSampler *sampler, float *x, const float *m_new)
{
  const int i = sampler->step;
  const int order = sampler->last_order;
  /* Called before the history moves on: m[0] is m_{i−1}, m[1] is m_{i−2}. */
  const float *m_prev = sampler->m[0];
  const float *m_prev2 = sampler->m[1];
  const float *x_last = sampler->last_sample;
  double sigma_t = sampler->sigmas[i], sigma_s0 = sampler->sigmas[i - 1];
  double alpha_t = 1.0 - sigma_t;
  double h = lambda_of (sampler->sigmas[i]) - lambda_of (sampler->sigmas[i - 1]);
  double hh = -h;
  double h_phi_1 = expm1 (hh);
  double b_h = expm1 (hh);
  double rho_d = 0.0, rho_last = 0.5, rk = 1.0;
  float c_x, c_m, c_b, f_rho_d, f_rho_last, f_inv_rk;

  if (order == 2)
    {
      double h_phi_k = h_phi_1 / hh - 1.0;
      double b1, b2;

      rk = (lambda_of (sampler->sigmas[i - 2]) - lambda_of (sampler->sigmas[i - 1])) / h;
      b1 = h_phi_k / b_h;
      h_phi_k = h_phi_k / hh - 0.5;
      b2 = h_phi_k * 2.0 / b_h;
      /* R = [[1, 1], [rk, 1]], R·ρ = b. */
      rho_d = (b1 - b2) / (1.0 - rk);
      rho_last = b1 - rho_d;
    }
  c_x = (float)(sigma_t / sigma_s0);
  c_m = (float)(alpha_t * h_phi_1);
  c_b = (float)(alpha_t * b_h);
  f_rho_d = (float)rho_d;
  f_rho_last = (float)rho_last;
  f_inv_rk = (float)(1.0 / rk);
  for (gsize k = 0; k < sampler->n; k++)
    {
      float x_t_ = c_x * x_last[k] - c_m * m_prev[k];
      float corr = order == 2 ? f_rho_d * ((m_prev2[k] - m_prev[k]) * f_inv_rk) : 0.0f;

      x[k] = x_t_ - c_b * (corr + f_rho_last * (m_new[k] - m_prev[k]));
    }
}

/* UniP bh2: x_{i+1} from x_i, m_i (sampler->m[0]) and m_{i−1}. */
static void
unipc_predict (WanSampler *sampler, float *x, int order)
{
  const int i = sampler->step;
  const float *m0 = sampler->m[0];
  const float *m1 = sampler->m[1];
  double sigma_t = sampler->sigmas[i + 1], sigma_s0 = sampler->sigmas[i];
  double alpha_t = 1.0 - sigma_t;
  double h, hh, h_phi_1, rk = 1.0;
  float c_x, c_m, c_b, f_inv_rk;

  /* λ(0) is infinite; the limit of the update is x₀ itself. */
  if (sampler->sigmas[i + 1] == 0.0f)
    {
      memcpy (x, m0, sampler->n * sizeof (float));
      return;
    }
  h = lambda_of (sampler->sigmas[i + 1]) - lambda_of (sampler->sigmas[i]);
  hh = -h;
  h_phi_1 = expm1 (hh);
  if (order == 2)
    rk = (lambda_of (sampler->sigmas[i - 1]) - lambda_of (sampler->sigmas[i])) / h;
  c_x = (float)(sigma_t / sigma_s0);
  c_m = (float)(alpha_t * h_phi_1);
  c_b = (float)(alpha_t * h_phi_1); /* bh2: B(h) = expm1(−h) */
  f_inv_rk = (float)(1.0 / rk);
  for (gsize k = 0; k < sampler->n; k++)
    {
      float x_t_ = c_x * x[k] - c_m * m0[k];

      if (order == 2)
        x[k] = x_t_ - c_b * (0.5f * ((m1[k] - m0[k]) * f_inv_rk));
      else
        x[k] = x_t_;
    }
}

static void
unipc_step (WanSampler *sampler, float *x, const float *v)
{
  const int i = sampler->step;
  const float sigma = sampler->sigmas[i];
  float *m_new = sampler->m[2];
  int order;

  /* The x₀ prediction comes from the sample before correction. */
  for (gsize k = 0; k < sampler->n; k++)
    m_new[k] = x[k] - sigma * v[k];
  if (i > 0 && sampler->have_last_sample)
    unipc_correct (sampler, x, m_new);
  rotate_history (sampler);

  order = MIN (2, sampler->n_steps - i);
  order = MIN (order, sampler->lower_order_nums + 1);
  sampler->last_order = order;
  memcpy (sampler->last_sample, x, sampler->n * sizeof (float));
  sampler->have_last_sample = TRUE;
  unipc_predict (sampler, x, order);
  if (sampler->lower_order_nums < 2)
    sampler->lower_order_nums++;
}

static void
dpmpp_step (WanSampler *sampler, float *x, const float *v)
{
  const int i = sampler->step;
  const double sigma_t = sampler->sigmas[i + 1], sigma_s0 = sampler->sigmas[i];
  const double alpha_t = 1.0 - sigma_t;
  float *m0, *m1;
  float c_x, c_d;

  /* m[0] newest, m[1] previous; reuse the older buffer for the new one. */
  m0 = sampler->m[1];
  sampler->m[1] = sampler->m[0];
  sampler->m[0] = m0;
  m1 = sampler->m[1];
  for (gsize k = 0; k < sampler->n; k++)
    m0[k] = x[k] - sampler->sigmas[i] * v[k];

  if (sampler->sigmas[i + 1] == 0.0f)
    {
      /* The final step is first order and lands on x₀. */
      memcpy (x, m0, sampler->n * sizeof (float));
    }
  else
    {
      double h = lambda_of (sampler->sigmas[i + 1]) - lambda_of (sampler->sigmas[i]);
      gboolean first_order = sampler->lower_order_nums < 1 || i == sampler->n_steps - 1;

      c_x = (float)(sigma_t / sigma_s0);
      c_d = (float)(alpha_t * (exp (-h) - 1.0));
      if (first_order)
        {
          for (gsize k = 0; k < sampler->n; k++)
            x[k] = c_x * x[k] - c_d * m0[k];
        }
      else
        {
          /* With σ_{i−1} = 1, λ_{i−1} = −∞ and r0 = ∞, so D1 vanishes. */
          double inv_r0 = 0.0;
          float f_inv_r0;

          if (sampler->sigmas[i - 1] < 1.0f)
            inv_r0 = h / (lambda_of (sampler->sigmas[i]) - lambda_of (sampler->sigmas[i - 1]));
          f_inv_r0 = (float)inv_r0;
          for (gsize k = 0; k < sampler->n; k++)
            {
              float d1 = f_inv_r0 * (m0[k] - m1[k]);

              x[k] = c_x * x[k] - c_d * m0[k] - 0.5f * c_d * d1;
            }
        }
    }
  if (sampler->lower_order_nums < 2)
    sampler->lower_order_nums++;
}

static void
euler_step (WanSampler *sampler, float *x, const float *v)
{
  const float dt = sampler->sigmas[sampler->step + 1] - sampler->sigmas[sampler->step];

  for (gsize k = 0; k < sampler->n; k++)
    x[k] = x[k] + dt * v[k];
}

gboolean
wan_sampler_step (WanSampler *sampler, float *x, const float *v, GError **error)
{
  if (sampler->step >= sampler->n_steps)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("All %d sampling steps have already been taken. Reset the sampler to start again."),
                   sampler->n_steps);
      return FALSE;
    }
  switch (sampler->solver)
    {
      case WAN_SOLVER_UNIPC:
        unipc_step (sampler, x, v);
        break;
      case WAN_SOLVER_DPMPP:
        dpmpp_step (sampler, x, v);
        break;
      case WAN_SOLVER_EULER:
      default:
        euler_step (sampler, x, v);
        break;
    }
  sampler->step++;
  return TRUE;
}

void
wan_cfg_combine (float *out, const float *uncond, const float *cond, float guidance, gsize n)
{
  for (gsize k = 0; k < n; k++)
    out[k] = uncond[k] + guidance * (cond[k] - uncond[k]);
}

WanExpert
wan_expert_select (
    gint64 timestep, double boundary, double guidance_low, double guidance_high, double *guidance)
{
  gboolean high = (double)timestep >= boundary * 1000.0;

  if (guidance != NULL)
    *guidance = high ? guidance_high : guidance_low;
  return high ? WAN_EXPERT_HIGH_NOISE : WAN_EXPERT_LOW_NOISE;
}

static gboolean
read_member_int (
    JsonObject *obj, const char *member, int min, int max, int *out, const char *path, GError **error)
{
  JsonNode *node = json_object_get_member (obj, member);
  gint64 value;

  if (node == NULL || json_node_get_value_type (node) != G_TYPE_INT64)
    goto bad;
  value = json_node_get_int (node);
  if (value < min || value > max)
    goto bad;
  *out = (int)value;
  return TRUE;

bad:
  g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
               _ ("The model defaults file “%s” lacks a valid “%s” value. Reinstall Takes."), path, member);
  return FALSE;
}

static gboolean
read_member_double (
    JsonObject *obj, const char *member, gboolean optional, double *out, const char *path, GError **error)
{
  JsonNode *node = json_object_get_member (obj, member);
  GType type
      = node != NULL && JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

  if (node == NULL && optional)
    return TRUE;
  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("The model defaults file “%s” lacks a valid “%s” value. Reinstall Takes."), path,
                   member);
      return FALSE;
    }
  *out = json_node_get_double (node);
  return TRUE;
}

gboolean
wan_model_defaults_load (const char *engine_data_dir,
                         const char *model,
                         WanModelDefaults *defaults,
                         GError **error)
{
  g_autofree char *path = g_build_filename (engine_data_dir, "model-defaults.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;
  JsonNode *entry;
  JsonNode *node;
  JsonObject *obj;
  WanModelDefaults d = { 0 };
  const char *solver;

  if (!json_parser_load_from_file (parser, path, &local_error))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("The model defaults file “%s” could not be read: %s. Reinstall Takes."), path,
                   local_error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("The model defaults file “%s” is not a JSON object. Reinstall Takes."), path);
      return FALSE;
    }
  entry = json_object_get_member (json_node_get_object (root), model);
  if (entry == NULL || !JSON_NODE_HOLDS_OBJECT (entry))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_FOUND,
                   _ ("There are no defaults for the model “%s”. Choose one of the models listed in “%s”."),
                   model, path);
      return FALSE;
    }
  obj = json_node_get_object (entry);
  if (!read_member_int (obj, "steps", 1, WAN_SAMPLER_MAX_STEPS, &d.steps, path, error)
      || !read_member_int (obj, "frames", 1, 100000, &d.frames, path, error)
      || !read_member_int (obj, "fps", 1, 1000, &d.fps, path, error)
      || !read_member_int (obj, "width", 16, 100000, &d.width, path, error)
      || !read_member_int (obj, "height", 16, 100000, &d.height, path, error)
      || !read_member_double (obj, "shift", FALSE, &d.shift, path, error)
      || !read_member_double (obj, "guidance", FALSE, &d.guidance, path, error))
    return FALSE;
  d.guidance_high = d.guidance;
  if (!read_member_double (obj, "guidance_high", TRUE, &d.guidance_high, path, error)
      || !read_member_double (obj, "boundary", TRUE, &d.boundary, path, error))
    return FALSE;
  node = json_object_get_member (obj, "solver");
  if (node == NULL)
    solver = "unipc";
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    solver = json_node_get_string (node);
  else
    solver = "";
  if (!wan_solver_from_name (solver, &d.solver))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("The model defaults file “%s” names an unknown solver “%s”. Reinstall Takes."), path,
                   solver);
      return FALSE;
    }
  *defaults = d;
  return TRUE;
}

char *
wan_default_negative_prompt_load (const char *engine_data_dir, GError **error)
{
  g_autofree char *path = g_build_filename (engine_data_dir, "negative-prompt-zh.txt", NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) local_error = NULL;
  gsize len = 0;

  if (!g_file_get_contents (path, &text, &len, &local_error))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_FOUND,
                   _ ("The default negative prompt could not be read: %s. Reinstall Takes."),
                   local_error->message);
      return NULL;
    }
  if (!g_utf8_validate (text, (gssize)len, NULL) || strlen (text) != len)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("The default negative prompt “%s” is not UTF-8 text. Reinstall Takes."), path);
      return NULL;
    }
  while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
    text[--len] = '\0';
  return g_steal_pointer (&text);
}
