/* Tests of the schedules, the UniPC, DPM++ and Euler samplers, guidance,
 * the A14B expert rule and the model defaults, against the golden sched
 * case of wan-tiny-public. */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "engine-test-util.h"
#include "takes-engine.h"
#include "wan-sampler.h"

static Safetensors *
open_sched_case (void)
{
  g_autofree char *path = test_golden_path ("sched_case.safetensors");
  g_autoptr (GError) error = NULL;
  Safetensors *st = safetensors_open (path, &error);

  g_assert_no_error (error);
  return st;
}

static gint64 *
read_i64 (const Safetensors *st, const char *name, gsize *n)
{
  const SafetensorsTensor *t = safetensors_lookup (st, name);
  gint64 *data;

  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, SAFETENSORS_DTYPE_I64);
  data = g_new (gint64, t->n_elements);
  memcpy (data, t->data, t->n_elements * 8);
  *n = t->n_elements;
  return data;
}

/* suggested_max_abs and suggested_rel_l2 of @name in the sched case. */
static void
manifest_tolerance (const char *name, double *max_abs, double *rel_l2)
{
  g_autofree char *path = test_golden_path ("manifest.json");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *tol;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  tol = json_object_get_object_member (
      json_object_get_object_member (
          json_object_get_object_member (
              json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "cases"),
              "sched_case"),
          "tolerances"),
      name);
  *max_abs = json_object_get_double_member (tol, "suggested_max_abs");
  *rel_l2 = json_object_get_double_member (tol, "suggested_rel_l2");
}

static void
check_schedule (WanSolver solver, int n_steps, double shift, const char *prefix)
{
  g_autoptr (Safetensors) st = open_sched_case ();
  g_autofree char *sigmas_name = g_strdup_printf ("%s_sigmas", prefix);
  g_autofree char *timesteps_name = g_strdup_printf ("%s_timesteps", prefix);
  g_autofree float *sigmas = g_new (float, n_steps + 1);
  g_autofree gint64 *timesteps = g_new (gint64, n_steps);
  g_autofree float *want_sigmas = NULL;
  g_autofree gint64 *want_timesteps = NULL;
  g_autoptr (GError) error = NULL;
  gsize n_s, n_t;

  g_assert_true (wan_schedule_compute (solver, n_steps, shift, sigmas, timesteps, &error));
  g_assert_no_error (error);
  want_sigmas = test_read_f32 (st, sigmas_name, &n_s, NULL);
  want_timesteps = read_i64 (st, timesteps_name, &n_t);
  g_assert_cmpuint (n_s, ==, (gsize)n_steps + 1);
  g_assert_cmpuint (n_t, ==, (gsize)n_steps);
  for (int i = 0; i <= n_steps; i++)
    g_assert_cmpfloat_with_epsilon (sigmas[i], want_sigmas[i], 3e-7);
  for (int i = 0; i < n_steps; i++)
    g_assert_cmpint (timesteps[i], ==, want_timesteps[i]);
}

static void
test_schedule_unipc_50_s5 (void)
{
  check_schedule (WAN_SOLVER_UNIPC, 50, 5.0, "sched_unipc_50_s5");
}

static void
test_schedule_unipc_40_s12 (void)
{
  check_schedule (WAN_SOLVER_UNIPC, 40, 12.0, "sched_unipc_40_s12");
}

static void
test_schedule_dpm_50_s5 (void)
{
  g_autofree float *sigmas = g_new (float, 51);
  g_autofree gint64 *timesteps = g_new (gint64, 50);

  check_schedule (WAN_SOLVER_DPMPP, 50, 5.0, "sched_dpm_50_s5");
  /* σ₀ = 1, so the first timestep is 1000, and the last σ is the terminal 0. */
  g_assert_true (wan_schedule_compute (WAN_SOLVER_DPMPP, 50, 5.0, sigmas, timesteps, NULL));
  g_assert_cmpfloat (sigmas[0], ==, 1.0f);
  g_assert_cmpint (timesteps[0], ==, 1000);
  g_assert_cmpfloat (sigmas[50], ==, 0.0f);
}

static void
test_schedule_rejects_bad_input (void)
{
  float sigmas[4];
  gint64 timesteps[3];
  g_autoptr (GError) error = NULL;
  WanSampler *sampler;

  g_assert_false (wan_schedule_compute (WAN_SOLVER_UNIPC, 0, 5.0, sigmas, timesteps, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  g_assert_false (wan_schedule_compute (WAN_SOLVER_UNIPC, 3, -1.0, sigmas, timesteps, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  g_assert_false (wan_schedule_compute (WAN_SOLVER_DPMPP, 3, NAN, sigmas, timesteps, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  sampler = wan_sampler_new (WAN_SOLVER_UNIPC, -3, 5.0, 16, &error);
  g_assert_null (sampler);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  sampler = wan_sampler_new (WAN_SOLVER_UNIPC, 3, 5.0, 0, &error);
  g_assert_null (sampler);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
}

/* The fake model of the golden sched case. */
static void
fake_model (const float *x, const float *c, gint64 t, float *v, gsize n)
{
  for (gsize k = 0; k < n; k++)
    v[k] = 0.3f * x[k] + 0.1f * sinf (x[k]) + c[k] + 0.001f * (float)t;
}

/* Runs @solver on the golden inputs; returns the trajectory, N+1 latents. */
static float *
run_trajectory (WanSolver solver, int n_steps, double shift, gsize *n_out)
{
  g_autoptr (Safetensors) st = open_sched_case ();
  g_autofree float *x_init = NULL;
  g_autofree float *c = NULL;
  g_autofree float *v = NULL;
  g_autoptr (WanSampler) sampler = NULL;
  g_autoptr (GError) error = NULL;
  float *traj;
  gsize n;

  x_init = test_read_f32 (st, "x_init", &n, NULL);
  c = test_read_f32 (st, "c", NULL, NULL);
  v = g_new (float, n);
  traj = g_new (float, n *(n_steps + 1));
  sampler = wan_sampler_new (solver, n_steps, shift, n, &error);
  g_assert_no_error (error);
  memcpy (traj, x_init, n * sizeof (float));
  for (int i = 0; i < n_steps; i++)
    {
      float *x = traj + (i + 1) * n;

      g_assert_cmpint (wan_sampler_get_step_index (sampler), ==, i);
      memcpy (x, traj + i * n, n * sizeof (float));
      fake_model (x, c, wan_sampler_get_timestep (sampler), v, n);
      g_assert_true (wan_sampler_step (sampler, x, v, &error));
      g_assert_no_error (error);
    }
  g_assert_cmpint (wan_sampler_get_timestep (sampler), ==, -1);
  g_assert_false (wan_sampler_step (sampler, traj, v, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  *n_out = n;
  return traj;
}

static void
check_trajectory (WanSolver solver, const char *name)
{
  g_autoptr (Safetensors) st = open_sched_case ();
  g_autofree char *traj_name = g_strdup_printf ("%s_traj", name);
  g_autofree float *want = NULL;
  g_autofree float *got = NULL;
  double tol_max_abs, tol_rel_l2, max_abs = 0.0, d2 = 0.0, r2 = 0.0;
  gsize n_want, n;

  want = test_read_f32 (st, traj_name, &n_want, NULL);
  got = run_trajectory (solver, 6, 5.0, &n);
  g_assert_cmpuint (n * 7, ==, n_want);
  manifest_tolerance (traj_name, &tol_max_abs, &tol_rel_l2);
  for (gsize k = 0; k < n_want; k++)
    {
      double d = (double)got[k] - want[k];

      max_abs = MAX (max_abs, fabs (d));
      d2 += d * d;
      r2 += (double)want[k] * want[k];
    }
  g_test_message ("%s: max_abs %.3g (tol %.3g), rel_l2 %.3g (tol %.3g)", name, max_abs, tol_max_abs,
                  sqrt (d2 / r2), tol_rel_l2);
  g_assert_cmpfloat (max_abs, <=, tol_max_abs);
  g_assert_cmpfloat (sqrt (d2 / r2), <=, tol_rel_l2);
}

static void
test_unipc_trajectory (void)
{
  check_trajectory (WAN_SOLVER_UNIPC, "unipc");
}

static void
test_dpm_trajectory (void)
{
  check_trajectory (WAN_SOLVER_DPMPP, "dpm");
}

static void
test_euler_trajectory (void)
{
  check_trajectory (WAN_SOLVER_EULER, "euler");
}

static void
test_determinism (void)
{
  static const WanSolver solvers[] = { WAN_SOLVER_UNIPC, WAN_SOLVER_DPMPP, WAN_SOLVER_EULER };

  for (guint s = 0; s < G_N_ELEMENTS (solvers); s++)
    {
      gsize n1, n2;
      g_autofree float *a = run_trajectory (solvers[s], 6, 5.0, &n1);
      g_autofree float *b = run_trajectory (solvers[s], 6, 5.0, &n2);

      g_assert_cmpmem (a, n1 * 7 * sizeof (float), b, n2 * 7 * sizeof (float));
    }
}

static void
test_reset_repeats_run (void)
{
  const gsize n = 5;
  float x1[5] = { 0.5f, -1.0f, 2.0f, 0.0f, 3.0f }, x2[5];
  float v[5];
  g_autoptr (WanSampler) sampler = wan_sampler_new (WAN_SOLVER_UNIPC, 4, 3.0, n, NULL);

  memcpy (x2, x1, sizeof x1);
  for (int pass = 0; pass < 2; pass++)
    {
      float *x = pass == 0 ? x1 : x2;

      wan_sampler_reset (sampler);
      for (int i = 0; i < 4; i++)
        {
          for (gsize k = 0; k < n; k++)
            v[k] = 0.5f * x[k] + 0.25f;
          g_assert_true (wan_sampler_step (sampler, x, v, NULL));
        }
    }
  g_assert_cmpmem (x1, sizeof x1, x2, sizeof x2);
}

static void
test_single_step_lands_on_x0 (void)
{
  /* With σ_next = 0 every solver returns the x₀ prediction x − σ·v. */
  static const WanSolver solvers[] = { WAN_SOLVER_UNIPC, WAN_SOLVER_DPMPP, WAN_SOLVER_EULER };

  for (guint s = 0; s < G_N_ELEMENTS (solvers); s++)
    {
      g_autoptr (WanSampler) sampler = wan_sampler_new (solvers[s], 1, 5.0, 3, NULL);
      float x[3] = { 1.0f, -2.0f, 0.25f };
      const float v[3] = { 0.5f, 0.125f, -3.0f };
      const float sigma = wan_sampler_get_sigmas (sampler)[0];

      g_assert_true (wan_sampler_step (sampler, x, v, NULL));
      g_assert_cmpfloat_with_epsilon (x[0], 1.0f - sigma * 0.5f, 1e-6);
      g_assert_cmpfloat_with_epsilon (x[1], -2.0f - sigma * 0.125f, 1e-6);
      g_assert_cmpfloat_with_epsilon (x[2], 0.25f + sigma * 3.0f, 1e-6);
    }
}

static void
test_expert_rule (void)
{
  float sigmas[41];
  gint64 timesteps[40];
  double guidance = 0.0;

  /* With the A14B defaults, steps 0–25 (t = 999 … 877) run the high-noise
   * expert and steps 26–39 the low-noise one (spec §2.10). */
  g_assert_true (wan_schedule_compute (WAN_SOLVER_UNIPC, 40, 12.0, sigmas, timesteps, NULL));
  for (int i = 0; i < 40; i++)
    {
      WanExpert e = wan_expert_select (timesteps[i], 0.875, 3.0, 4.0, &guidance);

      g_assert_cmpint (e, ==, i <= 25 ? WAN_EXPERT_HIGH_NOISE : WAN_EXPERT_LOW_NOISE);
      g_assert_cmpfloat (guidance, ==, i <= 25 ? 4.0 : 3.0);
    }
  g_assert_cmpint (timesteps[25], ==, 877);
  g_assert_cmpint (timesteps[26], ==, 865);
  g_assert_cmpint (wan_expert_select (875, 0.875, 3.0, 4.0, NULL), ==, WAN_EXPERT_HIGH_NOISE);
  g_assert_cmpint (wan_expert_select (874, 0.875, 3.0, 4.0, NULL), ==, WAN_EXPERT_LOW_NOISE);
  g_assert_cmpint (wan_expert_select (900, 0.900, 3.5, 3.5, &guidance), ==, WAN_EXPERT_HIGH_NOISE);
  g_assert_cmpint (wan_expert_select (899, 0.900, 3.5, 3.5, NULL), ==, WAN_EXPERT_LOW_NOISE);
}

static void
test_cfg_combine (void)
{
  const float uncond[4] = { 1.0f, -2.0f, 0.5f, 0.0f };
  const float cond[4] = { 3.0f, -1.0f, 0.5f, -4.0f };
  float out[4], same[4];

  wan_cfg_combine (out, uncond, cond, 5.0f, 4);
  g_assert_cmpfloat (out[0], ==, 11.0f);
  g_assert_cmpfloat (out[1], ==, 3.0f);
  g_assert_cmpfloat (out[2], ==, 0.5f);
  g_assert_cmpfloat (out[3], ==, -20.0f);
  wan_cfg_combine (out, uncond, cond, 1.0f, 4);
  g_assert_cmpmem (out, sizeof out, cond, sizeof cond);
  memcpy (same, cond, sizeof cond);
  wan_cfg_combine (same, uncond, same, 0.0f, 4);
  g_assert_cmpmem (same, sizeof same, uncond, sizeof uncond);
}

static char *
engine_data_dir (void)
{
  const char *data = g_getenv ("TAKES_SOURCE_DATA");

  g_assert_nonnull (data);
  return g_build_filename (data, "engine", NULL);
}

static void
test_defaults_load (void)
{
  g_autofree char *dir = engine_data_dir ();
  g_autoptr (GError) error = NULL;
  WanModelDefaults d;

  g_assert_true (wan_model_defaults_load (dir, "wan2.1-t2v-1.3b", &d, &error));
  g_assert_no_error (error);
  g_assert_cmpint (d.steps, ==, 50);
  g_assert_cmpfloat (d.shift, ==, 5.0);
  g_assert_cmpfloat (d.guidance, ==, 5.0);
  g_assert_cmpint (d.frames, ==, 81);
  g_assert_cmpint (d.fps, ==, 16);
  g_assert_cmpint (d.solver, ==, WAN_SOLVER_UNIPC);

  g_assert_true (wan_model_defaults_load (dir, "wan2.2-ti2v-5b", &d, &error));
  g_assert_cmpint (d.frames, ==, 121);
  g_assert_cmpint (d.fps, ==, 24);

  g_assert_true (wan_model_defaults_load (dir, "wan2.2-t2v-a14b", &d, &error));
  g_assert_cmpint (d.steps, ==, 40);
  g_assert_cmpfloat (d.shift, ==, 12.0);
  g_assert_cmpfloat (d.guidance, ==, 3.0);
  g_assert_cmpfloat (d.guidance_high, ==, 4.0);
  g_assert_cmpfloat (d.boundary, ==, 0.875);

  g_assert_false (wan_model_defaults_load (dir, "no-such-model", &d, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_FOUND);
}

static void
test_defaults_malformed (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "model-defaults.json", NULL);
  g_autoptr (GError) error = NULL;
  WanModelDefaults d;

  g_assert_true (g_file_set_contents (path, "{\"m\": {\"steps\": ", -1, NULL));
  g_assert_false (wan_model_defaults_load (dir, "m", &d, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_true (
      g_file_set_contents (path,
                           "{\"m\": {\"steps\": -4, \"shift\": 5, \"guidance\": 5, \"frames\": 81, "
                           "\"fps\": 16, \"width\": 832, \"height\": 480}}",
                           -1, NULL));
  g_assert_false (wan_model_defaults_load (dir, "m", &d, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (path,
                                      "{\"m\": {\"steps\": 4, \"shift\": 5, \"guidance\": 5, \"frames\": 81, "
                                      "\"fps\": 16, \"width\": 832, \"height\": 480, \"solver\": \"heun\"}}",
                                      -1, NULL));
  g_assert_false (wan_model_defaults_load (dir, "m", &d, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT);
  test_rm_rf (dir);
}

static void
test_negative_prompt (void)
{
  g_autofree char *dir = engine_data_dir ();
  g_autofree char *tmp = test_tmp_dir ();
  g_autofree char *bad = g_build_filename (tmp, "negative-prompt-zh.txt", NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = wan_default_negative_prompt_load (dir, &error);
  char *missing;

  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (text, "色调艳丽，过曝，静态，细节模糊不清，字幕"));
  g_assert_true (g_str_has_suffix (text, "三条腿，背景人很多，倒着走"));
  g_assert_cmpuint (g_utf8_strlen (text, -1), ==, 137);

  g_assert_true (g_file_set_contents (bad, "\xff\xfe bad", -1, NULL));
  g_assert_null (wan_default_negative_prompt_load (tmp, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT);
  g_clear_error (&error);
  g_unlink (bad);
  missing = wan_default_negative_prompt_load (tmp, &error);
  g_assert_null (missing);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_FOUND);
  test_rm_rf (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/sampler/schedule/unipc-50-shift-5-matches-golden", test_schedule_unipc_50_s5);
  g_test_add_func ("/sampler/schedule/unipc-40-shift-12-matches-golden", test_schedule_unipc_40_s12);
  g_test_add_func ("/sampler/schedule/dpm-50-shift-5-matches-golden", test_schedule_dpm_50_s5);
  g_test_add_func ("/sampler/schedule/rejects-bad-steps-and-shift", test_schedule_rejects_bad_input);
  g_test_add_func ("/sampler/unipc/trajectory-matches-golden", test_unipc_trajectory);
  g_test_add_func ("/sampler/dpm/trajectory-matches-golden", test_dpm_trajectory);
  g_test_add_func ("/sampler/euler/trajectory-matches-golden", test_euler_trajectory);
  g_test_add_func ("/sampler/determinism/same-inputs-same-bits", test_determinism);
  g_test_add_func ("/sampler/reset/repeats-the-run", test_reset_repeats_run);
  g_test_add_func ("/sampler/final-step/lands-on-x0-prediction", test_single_step_lands_on_x0);
  g_test_add_func ("/sampler/expert/a14b-boundary-rule", test_expert_rule);
  g_test_add_func ("/sampler/cfg/uncond-plus-guidance-times-difference", test_cfg_combine);
  g_test_add_func ("/sampler/defaults/load-per-model", test_defaults_load);
  g_test_add_func ("/sampler/defaults/malformed-file-is-an-error", test_defaults_malformed);
  g_test_add_func ("/sampler/negative-prompt/official-text", test_negative_prompt);

  return g_test_run ();
}
