/* test-dit.c: the Wan DiT forward pass against the golden tensors of
 * dit16_case and dit48_case, block by block. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "engine-test-util.h"
#include "umt5-encoder.h"
#include "wan-dit.h"

/* Bounds for the intermediates, which the manifest gives none for: the same
 * float32-level agreement the outputs are held to. */
#define INTER_REL_L2 2e-5
#define INTER_MAX_ABS 2e-4

typedef struct
{
  float *x;
  gint64 shape[4];
  gint64 t;
  float *context;
  int ctx_rows;
  float *t_pertoken;
  gsize n_out;
} Case;

static void
case_clear (Case *c)
{
  g_free (c->x);
  g_free (c->context);
  g_free (c->t_pertoken);
}

static Safetensors *
open_case (const char *name, Case *c)
{
  g_autofree char *path = test_golden_path (name);
  g_autoptr (GError) error = NULL;
  Safetensors *st = safetensors_open (path, &error);
  const SafetensorsTensor *x, *t, *ctx, *out;

  g_assert_no_error (error);
  memset (c, 0, sizeof *c);
  x = safetensors_lookup (st, "x");
  t = safetensors_lookup (st, "t");
  ctx = safetensors_lookup (st, "context");
  out = safetensors_lookup (st, "out");
  g_assert_nonnull (x);
  g_assert_nonnull (t);
  g_assert_nonnull (ctx);
  g_assert_nonnull (out);
  g_assert_cmpuint (x->n_dims, ==, 4);
  memcpy (c->shape, x->shape, sizeof c->shape);
  c->x = test_read_f32 (st, "x", NULL, NULL);
  g_assert_cmpint (t->dtype, ==, SAFETENSORS_DTYPE_I64);
  memcpy (&c->t, t->data, 8);
  c->context = test_read_f32 (st, "context", NULL, NULL);
  c->ctx_rows = (int)ctx->shape[0];
  if (safetensors_lookup (st, "t_pertoken") != NULL)
    c->t_pertoken = test_read_f32 (st, "t_pertoken", NULL, NULL);
  c->n_out = (gsize)out->n_elements;
  return st;
}

/* Intermediates, captured by name. */

static void
tap_cb (const char *name, const float *data, gint64 rows, gint64 cols, gpointer user_data)
{
  GHashTable *taps = user_data;
  GArray *copy = g_array_sized_new (FALSE, FALSE, sizeof (float), (guint)(rows * cols));

  g_array_append_vals (copy, data, (guint)(rows * cols));
  g_hash_table_replace (taps, g_strdup (name), copy);
}

static GHashTable *
taps_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_array_unref);
}

static float *
run_forward_full (const char *wpath, Case *c, gboolean per_token, int n_threads, GHashTable *taps)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) weights = wan_weights_open (wpath, NULL, &error);
  g_autoptr (WanDit) dit = NULL;
  g_autoptr (WanDitState) state = NULL;
  float *out = g_new0 (float, c->n_out);

  g_assert_no_error (error);
  dit = wan_dit_new (weights, n_threads, &error);
  g_assert_no_error (error);
  if (taps != NULL)
    wan_dit_set_tap (dit, tap_cb, taps);
  state = wan_dit_state_new (dit, (int)c->shape[0], (int)c->shape[1], (int)c->shape[2], (int)c->shape[3],
                             c->ctx_rows, &error);
  g_assert_no_error (error);
  wan_dit_forward (dit, state, c->x, per_token ? c->t_pertoken : NULL, c->t, c->context, c->ctx_rows, out,
                   NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  return out;
}

static float *
run_forward (const char *weights_file, Case *c, gboolean per_token, int n_threads, GHashTable *taps)
{
  g_autofree char *wpath = test_golden_path (weights_file);

  return run_forward_full (wpath, c, per_token, n_threads, taps);
}

static float *
run_forward_path (const char *path, Case *c, int n_threads)
{
  return run_forward_full (path, c, FALSE, n_threads, NULL);
}

static void
check_intermediates (const Safetensors *golden, GHashTable *taps)
{
  const char *names[] = { "patch_embed", "e", "e0", "context", "head" };

  for (guint i = 0; i < G_N_ELEMENTS (names) + 64; i++)
    {
      g_autofree char *tap_name = i < G_N_ELEMENTS (names)
                                      ? g_strdup (names[i])
                                      : g_strdup_printf ("block%u", (guint)(i - G_N_ELEMENTS (names)));
      g_autofree char *golden_name = g_strdup_printf ("inter_%s", tap_name);
      GArray *got;
      gsize n;
      g_autofree float *want = NULL;

      if (safetensors_lookup (golden, golden_name) == NULL)
        {
          g_assert_cmpuint (i, >=, G_N_ELEMENTS (names));
          g_assert_null (g_hash_table_lookup (taps, tap_name));
          break;
        }
      want = test_read_f32 (golden, golden_name, &n, NULL);
      got = g_hash_table_lookup (taps, tap_name);
      g_assert_nonnull (got);
      g_assert_cmpuint (got->len, ==, n);
      test_compare_f32 ((const float *)got->data, want, n, INTER_MAX_ABS, INTER_REL_L2, golden_name);
    }
}

static void
check_golden (const char *case_name,
              const char *weights_file,
              const char *out_name,
              gboolean per_token,
              gboolean intermediates)
{
  Case c;
  g_autoptr (Safetensors) golden = open_case (case_name, &c);
  g_autoptr (GHashTable) taps = intermediates ? taps_new () : NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *manifest_case = g_strndup (case_name, strlen (case_name) - strlen (".safetensors"));
  JsonObject *tol = json_object_get_object_member (test_golden_tolerances (parser, manifest_case), out_name);
  g_autofree float *want = test_read_f32 (golden, out_name, NULL, NULL);
  g_autofree float *got = NULL;

  if (per_token)
    g_assert_nonnull (c.t_pertoken);
  got = run_forward (weights_file, &c, per_token, 2, taps);
  if (intermediates)
    check_intermediates (golden, taps);
  test_compare_f32 (got, want, c.n_out, json_object_get_double_member (tol, "suggested_max_abs"),
                    json_object_get_double_member (tol, "suggested_rel_l2"), out_name);
  case_clear (&c);
}

/* FP8 weights with one scale per tensor and one per row give the result of
 * the same weights dequantised into an (unaligned) F32 file. Scales are powers of two,
 * so scaling before or after the product rounds the same. */
static void
test_fp8_scaled_weights (void)
{
  Case c;
  g_autoptr (Safetensors) golden = open_case ("dit16_case.safetensors", &c);
  g_autofree char *src_path = test_golden_path ("dit16_f32.safetensors");
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *f8_path = g_build_filename (dir, "dit-f8.safetensors", NULL);
  g_autofree char *f32_path = g_build_filename (dir, "dit-dequant.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) src = safetensors_open (src_path, &error);
  g_autoptr (GPtrArray) f8 = test_tensor_list_new ();
  g_autoptr (GPtrArray) f32 = test_tensor_list_new ();
  g_autoptr (GBytes) f8_bytes = NULL;
  g_autoptr (GBytes) f32_bytes = NULL;
  g_autofree float *want = NULL;
  g_autofree float *got = NULL;
  guint n_quantised = 0;

  g_assert_no_error (error);
  /* Three bytes up front leave every F32 tensor of the dequantised file
   * misaligned, as a hand-made file may be. */
  test_tensor_add (f32, "odd_bytes", "U8", 1, (gint64[]){ 3 }, "abc", 3);
  for (guint i = 0; i < safetensors_get_n_tensors (src); i++)
    {
      const SafetensorsTensor *t = safetensors_get_tensor (src, i);
      g_autofree float *v = g_new (float, t->n_elements);
      gint64 rows = t->shape[0], cols = t->n_elements / MAX (t->shape[0], 1);
      gboolean per_row = n_quantised % 2 == 1;

      g_assert_true (safetensors_tensor_read_f32 (t, v, (gsize)t->n_elements, NULL));
      if (t->n_dims == 2 && g_str_has_suffix (t->name, ".weight"))
        {
          g_autofree guint8 *q = g_new (guint8, t->n_elements);
          g_autofree float *scales = g_new (float, rows);
          g_autofree char *base = g_strndup (t->name, strlen (t->name) - strlen (".weight"));
          g_autofree char *scale_name = g_strdup_printf ("%s.scale_weight", base);
          float tensor_max = 0;

          for (gint64 j = 0; j < t->n_elements; j++)
            tensor_max = MAX (tensor_max, fabsf (v[j]));
          for (gint64 r = 0; r < rows; r++)
            {
              float m = tensor_max;

              if (per_row)
                {
                  m = 0;
                  for (gint64 j = 0; j < cols; j++)
                    m = MAX (m, fabsf (v[r * cols + j]));
                }
              scales[r] = exp2f (ceilf (log2f (MAX (m, 1e-30f) / 448.0f)));
              for (gint64 j = 0; j < cols; j++)
                {
                  q[r * cols + j] = tk_f32_to_f8_e4m3 (v[r * cols + j] / scales[r]);
                  v[r * cols + j] = tk_f8_e4m3_to_f32 (q[r * cols + j]) * scales[r];
                }
            }
          test_tensor_add (f8, t->name, "F8_E4M3", t->n_dims, t->shape, q, (gsize)t->n_elements);
          test_tensor_add (f8, scale_name, "F32", 1, per_row ? &rows : (gint64[]){ 1 }, scales,
                           sizeof (float) * (per_row ? (gsize)rows : 1));
          n_quantised++;
        }
      else
        test_tensor_add (f8, t->name, "F32", t->n_dims, t->shape, v, sizeof (float) * (gsize)t->n_elements);
      test_tensor_add (f32, t->name, "F32", t->n_dims, t->shape, v, sizeof (float) * (gsize)t->n_elements);
    }
  g_assert_cmpuint (n_quantised, >, 10);
  f8_bytes = test_safetensors_build (f8, NULL);
  f32_bytes = test_safetensors_build (f32, NULL);
  test_write_bytes (f8_path, f8_bytes);
  test_write_bytes (f32_path, f32_bytes);

  want = run_forward_path (f32_path, &c, 2);
  got = run_forward_path (f8_path, &c, 2);
  test_compare_f32 (got, want, c.n_out, 5e-5, 5e-6, "fp8 against dequantised");
  test_rm_rf (dir);
  case_clear (&c);
}

static void
test_dit16_f32 (void)
{
  check_golden ("dit16_case.safetensors", "dit16_f32.safetensors", "out", FALSE, TRUE);
}

static void
test_dit16_comfy_f16 (void)
{
  check_golden ("dit16_case.safetensors", "dit16_comfy_f16.safetensors", "out_f16w", FALSE, FALSE);
}

static void
test_dit16_bf16 (void)
{
  check_golden ("dit16_case.safetensors", "dit16_bf16.safetensors", "out_bf16w", FALSE, FALSE);
}

static void
test_dit48_bf16 (void)
{
  check_golden ("dit48_case.safetensors", "dit48_bf16.safetensors", "out", FALSE, TRUE);
}

static void
test_dit48_per_token (void)
{
  check_golden ("dit48_case.safetensors", "dit48_bf16.safetensors", "out_pertoken", TRUE, FALSE);
}

/* A per-token timestep equal everywhere is the plain timestep. */
static void
test_per_token_uniform_matches_scalar (void)
{
  Case c;
  g_autoptr (Safetensors) golden = open_case ("dit48_case.safetensors", &c);
  gsize L = (gsize)c.shape[1] * (c.shape[2] / 2) * (c.shape[3] / 2);
  g_autofree float *scalar = run_forward ("dit48_bf16.safetensors", &c, FALSE, 2, NULL);
  g_autofree float *uniform = NULL;

  for (gsize i = 0; i < L; i++)
    c.t_pertoken[i] = (float)c.t;
  uniform = run_forward ("dit48_bf16.safetensors", &c, TRUE, 2, NULL);
  g_assert_cmpmem (scalar, c.n_out * sizeof (float), uniform, c.n_out * sizeof (float));
  case_clear (&c);
}

static void
test_deterministic_across_threads (void)
{
  Case c;
  g_autoptr (Safetensors) golden = open_case ("dit16_case.safetensors", &c);
  g_autofree float *one = run_forward ("dit16_bf16.safetensors", &c, FALSE, 1, NULL);
  g_autofree float *two = run_forward ("dit16_bf16.safetensors", &c, FALSE, 2, NULL);
  g_autofree float *three = run_forward ("dit16_bf16.safetensors", &c, FALSE, 3, NULL);
  g_autofree float *again = run_forward ("dit16_bf16.safetensors", &c, FALSE, 2, NULL);
  gsize n = c.n_out * sizeof (float);

  g_assert_cmpmem (one, n, two, n);
  g_assert_cmpmem (two, n, three, n);
  g_assert_cmpmem (two, n, again, n);
  case_clear (&c);
}

/* The official sinusoid, cosine first, straight from its definition. */
static void
test_sinusoid_cosine_first (void)
{
  const int freq_dim = 256, half = freq_dim / 2;
  const double ts[] = { 0, 1, 401, 757, 999, 1000 };
  float out[256];

  for (guint k = 0; k < G_N_ELEMENTS (ts); k++)
    {
      wan_dit_sinusoid (ts[k], freq_dim, out);
      for (int i = 0; i < half; i++)
        {
          double w = exp (-log (10000.0) * i / half);

          g_assert_cmpfloat_with_epsilon (out[i], cos (ts[k] * w), 1e-6);
          g_assert_cmpfloat_with_epsilon (out[half + i], sin (ts[k] * w), 1e-6);
        }
    }
  wan_dit_sinusoid (0, freq_dim, out);
  g_assert_cmpfloat (out[0], ==, 1.0f);
  g_assert_cmpfloat (out[half], ==, 0.0f);
}

/* The time embedding MLP recomputed in double from the weights, against
 * the engine's e and e0. */
static double
silu (double v)
{
  return v / (1 + exp (-v));
}

static void
reference_linear (const WanWeights *w, const char *name, const double *x, double *y)
{
  g_autofree char *wname = g_strdup_printf ("%s.weight", name);
  g_autofree char *bname = g_strdup_printf ("%s.bias", name);
  const SafetensorsTensor *wt = wan_weights_lookup (w, wname);
  const SafetensorsTensor *bt = wan_weights_lookup (w, bname);
  gint64 n = wt->shape[0], k = wt->shape[1];
  g_autofree float *wf = g_new (float, n *k);
  g_autofree float *bf = g_new (float, n);

  g_assert_true (safetensors_tensor_read_f32 (wt, wf, (gsize)(n * k), NULL));
  g_assert_true (safetensors_tensor_read_f32 (bt, bf, (gsize)n, NULL));
  for (gint64 i = 0; i < n; i++)
    {
      double s = bf[i];

      for (gint64 j = 0; j < k; j++)
        s += (double)wf[i * k + j] * x[j];
      y[i] = s;
    }
}

static void
test_time_embedding_matches_reference (void)
{
  Case c;
  g_autoptr (Safetensors) golden = open_case ("dit16_case.safetensors", &c);
  g_autofree char *wpath = test_golden_path ("dit16_f32.safetensors");
  g_autoptr (WanWeights) weights = wan_weights_open (wpath, NULL, NULL);
  const WanDitConfig *cfg = wan_weights_get_dit_config (weights);
  g_autoptr (GHashTable) taps = taps_new ();
  g_autofree float *out = run_forward ("dit16_f32.safetensors", &c, FALSE, 2, taps);
  g_autofree float *sin_f = g_new (float, cfg->freq_dim);
  g_autofree double *sin_d = g_new (double, cfg->freq_dim);
  g_autofree double *h = g_new (double, cfg->dim);
  g_autofree double *e = g_new (double, cfg->dim);
  g_autofree double *e0 = g_new (double, 6 * cfg->dim);
  GArray *got_e = g_hash_table_lookup (taps, "e");
  GArray *got_e0 = g_hash_table_lookup (taps, "e0");

  wan_dit_sinusoid ((double)c.t, cfg->freq_dim, sin_f);
  for (int i = 0; i < cfg->freq_dim; i++)
    sin_d[i] = sin_f[i];
  reference_linear (weights, "time_embedding.0", sin_d, h);
  for (int i = 0; i < cfg->dim; i++)
    h[i] = silu (h[i]);
  reference_linear (weights, "time_embedding.2", h, e);
  for (int i = 0; i < cfg->dim; i++)
    h[i] = silu (e[i]);
  reference_linear (weights, "time_projection.1", h, e0);
  for (int i = 0; i < cfg->dim; i++)
    g_assert_cmpfloat_with_epsilon (g_array_index (got_e, float, i), e[i], 1e-5 * (1 + fabs (e[i])));
  for (int i = 0; i < 6 * cfg->dim; i++)
    g_assert_cmpfloat_with_epsilon (g_array_index (got_e0, float, i), e0[i], 1e-5 * (1 + fabs (e0[i])));
  case_clear (&c);
}

/* A whole block recomputed in double straight from §2.5 of the spec, from
 * the golden input of the block, against the engine's output of it. */
static double *
ref_read (const WanWeights *w, int block, const char *suffix, gint64 *n_out)
{
  g_autofree char *name = g_strdup_printf ("blocks.%d.%s", block, suffix);
  const SafetensorsTensor *t = wan_weights_lookup (w, name);
  g_autofree float *f = NULL;
  double *d;

  g_assert_nonnull (t);
  f = g_new (float, t->n_elements);
  g_assert_true (safetensors_tensor_read_f32 (t, f, (gsize)t->n_elements, NULL));
  d = g_new (double, t->n_elements);
  for (gint64 i = 0; i < t->n_elements; i++)
    d[i] = f[i];
  if (n_out != NULL)
    *n_out = t->shape[0];
  return d;
}

/* y[rows, n] = x[rows, k] · Wᵀ + b for "blocks.<block>.<name>". */
static double *
ref_linear (const WanWeights *w, int block, const char *name, const double *x, gint64 rows, gint64 k)
{
  g_autofree char *wf = g_strdup_printf ("%s.weight", name);
  g_autofree char *bf = g_strdup_printf ("%s.bias", name);
  gint64 n;
  g_autofree double *W = ref_read (w, block, wf, &n);
  g_autofree double *b = ref_read (w, block, bf, NULL);
  double *y = g_new (double, rows *n);

  for (gint64 r = 0; r < rows; r++)
    for (gint64 i = 0; i < n; i++)
      {
        double acc = b[i];

        for (gint64 j = 0; j < k; j++)
          acc += x[r * k + j] * W[i * k + j];
        y[r * n + i] = acc;
      }
  return y;
}

static void
ref_layer_norm (const double *x, double *y, gint64 rows, gint64 d, const double *g, const double *b)
{
  for (gint64 r = 0; r < rows; r++)
    {
      double mean = 0, var = 0;

      for (gint64 i = 0; i < d; i++)
        mean += x[r * d + i] / d;
      for (gint64 i = 0; i < d; i++)
        var += (x[r * d + i] - mean) * (x[r * d + i] - mean) / d;
      for (gint64 i = 0; i < d; i++)
        {
          double v = (x[r * d + i] - mean) / sqrt (var + 1e-6);
          y[r * d + i] = g != NULL ? v * g[i] + b[i] : v;
        }
    }
}

static void
ref_rms_norm (double *x, gint64 rows, gint64 d, const double *g)
{
  for (gint64 r = 0; r < rows; r++)
    {
      double ms = 0;

      for (gint64 i = 0; i < d; i++)
        ms += x[r * d + i] * x[r * d + i] / d;
      for (gint64 i = 0; i < d; i++)
        x[r * d + i] = x[r * d + i] / sqrt (ms + 1e-6) * g[i];
    }
}

static void
ref_rope (double *x, gint64 gf, gint64 gh, gint64 gw, int heads, int hd)
{
  int n_t = (hd - 4 * (hd / 6)) / 2, n_h = (hd / 6);

  for (gint64 f = 0; f < gf; f++)
    for (gint64 h = 0; h < gh; h++)
      for (gint64 w = 0; w < gw; w++)
        for (int head = 0; head < heads; head++)
          for (int p = 0; p < hd / 2; p++)
            {
              double *v = x + ((f * gh + h) * gw + w) * heads * hd + head * hd + 2 * p;
              gint64 pos = p < n_t ? f : p < n_t + n_h ? h : w;
              int j = p < n_t ? p : p < n_t + n_h ? p - n_t : p - n_t - n_h;
              int band = p < n_t ? 2 * n_t : 2 * n_h;
              double a = pos * pow (10000.0, -2.0 * j / band), re = v[0], im = v[1];

              v[0] = re * cos (a) - im * sin (a);
              v[1] = re * sin (a) + im * cos (a);
            }
}

static double *
ref_attention (const double *q, const double *k, const double *v, gint64 lq, gint64 lk, int heads, int hd)
{
  gint64 d = (gint64)heads * hd;
  double *out = g_new0 (double, lq *d);
  g_autofree double *p = g_new (double, lk);

  for (int h = 0; h < heads; h++)
    for (gint64 i = 0; i < lq; i++)
      {
        double m = -INFINITY, sum = 0;

        for (gint64 j = 0; j < lk; j++)
          {
            double s = 0;

            for (int c = 0; c < hd; c++)
              s += q[i * d + h * hd + c] * k[j * d + h * hd + c];
            p[j] = s / sqrt ((double)hd);
            m = MAX (m, p[j]);
          }
        for (gint64 j = 0; j < lk; j++)
          sum += (p[j] = exp (p[j] - m));
        for (gint64 j = 0; j < lk; j++)
          for (int c = 0; c < hd; c++)
            out[i * d + h * hd + c] += p[j] / sum * v[j * d + h * hd + c];
      }
  return out;
}

static double
ref_gelu (double x)
{
  return 0.5 * x * (1 + tanh (sqrt (2 / G_PI) * (x + 0.044715 * x * x * x)));
}

static void
test_blocks_match_direct_reference (void)
{
  Case c;
  g_autoptr (Safetensors) golden = open_case ("dit16_case.safetensors", &c);
  g_autofree char *wpath = test_golden_path ("dit16_f32.safetensors");
  g_autoptr (WanWeights) w = wan_weights_open (wpath, NULL, NULL);
  const WanDitConfig *cfg = wan_weights_get_dit_config (w);
  g_autoptr (GHashTable) taps = taps_new ();
  g_autofree float *out = run_forward ("dit16_f32.safetensors", &c, FALSE, 2, taps);
  const gint64 d = cfg->dim, gf = c.shape[1], gh = c.shape[2] / 2, gw = c.shape[3] / 2, L = gf * gh * gw;
  const gint64 lk = cfg->text_len;
  const int heads = cfg->num_heads, hd = cfg->dim / cfg->num_heads;
  g_autofree float *e0 = test_read_f32 (golden, "inter_e0", NULL, NULL);
  gsize n_ctx;
  g_autofree float *ctx_f = test_read_f32 (golden, "inter_context", &n_ctx, NULL);
  g_autofree double *ctx = g_new (double, lk *d);

  /* The valid rows, then the padded row for every other position. */
  for (gint64 r = 0; r < lk; r++)
    for (gint64 i = 0; i < d; i++)
      ctx[r * d + i] = ctx_f[MIN (r, (gint64)(n_ctx / d) - 1) * d + i];

  for (int b = 0; b < cfg->num_layers; b++)
    {
      g_autofree char *in_name
          = b == 0 ? g_strdup ("inter_patch_embed") : g_strdup_printf ("inter_block%d", b - 1);
      g_autofree char *out_name = g_strdup_printf ("block%d", b);
      g_autofree float *in_f = test_read_f32 (golden, in_name, NULL, NULL);
      g_autofree double *x = g_new (double, L *d);
      g_autofree double *n = g_new (double, L *d);
      g_autofree double *mod = ref_read (w, b, "modulation", NULL);
      g_autofree double *nq = NULL, *nk = NULL, *n3w = NULL, *n3b = NULL;
      g_autofree double *q = NULL, *k = NULL, *v = NULL, *a = NULL, *y = NULL, *h = NULL;
      g_autofree float *got = NULL;
      GArray *tapped = g_hash_table_lookup (taps, out_name);

      for (gint64 i = 0; i < L * d; i++)
        x[i] = in_f[i];
      for (gint64 i = 0; i < 6 * d; i++)
        mod[i] += e0[i];

      ref_layer_norm (x, n, L, d, NULL, NULL);
      for (gint64 i = 0; i < L * d; i++)
        n[i] = n[i] * (1 + mod[d + i % d]) + mod[i % d];
      q = ref_linear (w, b, "self_attn.q", n, L, d);
      k = ref_linear (w, b, "self_attn.k", n, L, d);
      v = ref_linear (w, b, "self_attn.v", n, L, d);
      nq = ref_read (w, b, "self_attn.norm_q.weight", NULL);
      nk = ref_read (w, b, "self_attn.norm_k.weight", NULL);
      ref_rms_norm (q, L, d, nq);
      ref_rms_norm (k, L, d, nk);
      ref_rope (q, gf, gh, gw, heads, hd);
      ref_rope (k, gf, gh, gw, heads, hd);
      a = ref_attention (q, k, v, L, L, heads, hd);
      y = ref_linear (w, b, "self_attn.o", a, L, d);
      for (gint64 i = 0; i < L * d; i++)
        x[i] += y[i] * mod[2 * d + i % d];
      g_clear_pointer (&q, g_free);
      g_clear_pointer (&k, g_free);
      g_clear_pointer (&v, g_free);
      g_clear_pointer (&a, g_free);
      g_clear_pointer (&y, g_free);
      g_clear_pointer (&nq, g_free);
      g_clear_pointer (&nk, g_free);

      n3w = ref_read (w, b, "norm3.weight", NULL);
      n3b = ref_read (w, b, "norm3.bias", NULL);
      ref_layer_norm (x, n, L, d, n3w, n3b);
      q = ref_linear (w, b, "cross_attn.q", n, L, d);
      k = ref_linear (w, b, "cross_attn.k", ctx, lk, d);
      v = ref_linear (w, b, "cross_attn.v", ctx, lk, d);
      nq = ref_read (w, b, "cross_attn.norm_q.weight", NULL);
      nk = ref_read (w, b, "cross_attn.norm_k.weight", NULL);
      ref_rms_norm (q, L, d, nq);
      ref_rms_norm (k, lk, d, nk);
      a = ref_attention (q, k, v, L, lk, heads, hd);
      y = ref_linear (w, b, "cross_attn.o", a, L, d);
      for (gint64 i = 0; i < L * d; i++)
        x[i] += y[i];
      g_clear_pointer (&y, g_free);

      ref_layer_norm (x, n, L, d, NULL, NULL);
      for (gint64 i = 0; i < L * d; i++)
        n[i] = n[i] * (1 + mod[4 * d + i % d]) + mod[3 * d + i % d];
      h = ref_linear (w, b, "ffn.0", n, L, d);
      for (gint64 i = 0; i < L * cfg->ffn_dim; i++)
        h[i] = ref_gelu (h[i]);
      y = ref_linear (w, b, "ffn.2", h, L, cfg->ffn_dim);
      got = g_new (float, L *d);
      for (gint64 i = 0; i < L * d; i++)
        got[i] = (float)(x[i] + y[i] * mod[5 * d + i % d]);

      g_assert_nonnull (tapped);
      test_compare_f32 ((const float *)tapped->data, got, (gsize)(L * d), INTER_MAX_ABS, INTER_REL_L2,
                        out_name);
    }
  case_clear (&c);
}

typedef struct
{
  int cancel_calls;
  int cancel_at;
  int progress_calls;
  int last_done;
} Watch;

static gboolean
cancel_cb (gpointer user_data)
{
  Watch *w = user_data;

  return ++w->cancel_calls >= w->cancel_at;
}

static void
progress_cb (int done, int total, gpointer user_data)
{
  Watch *w = user_data;

  g_assert_cmpint (done, <=, total);
  w->progress_calls++;
  w->last_done = done;
}

static void
test_cancel_between_blocks (void)
{
  Case c;
  g_autoptr (Safetensors) golden = open_case ("dit16_case.safetensors", &c);
  g_autofree char *wpath = test_golden_path ("dit16_bf16.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) weights = wan_weights_open (wpath, NULL, &error);
  g_autoptr (WanDit) dit = wan_dit_new (weights, 2, &error);
  g_autoptr (WanDitState) state = NULL;
  g_autofree float *out = g_new0 (float, c.n_out);
  g_autofree float *first = NULL;
  int n_layers = wan_dit_get_config (dit)->num_layers;
  Watch w = { 0, 3, 0, -1 };

  g_assert_no_error (error);
  state = wan_dit_state_new (dit, (int)c.shape[0], (int)c.shape[1], (int)c.shape[2], (int)c.shape[3],
                             c.ctx_rows, &error);
  g_assert_no_error (error);

  /* Asked before the run and before each block: the third ask is block 1. */
  g_assert_false (wan_dit_forward (dit, state, c.x, NULL, c.t, c.context, c.ctx_rows, out, cancel_cb,
                                   progress_cb, &w, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CANCELLED);
  g_clear_error (&error);
  g_assert_cmpint (w.cancel_calls, ==, 3);
  g_assert_cmpint (w.last_done, ==, 1);

  /* The state is still good for a full run afterwards. */
  w = (Watch){ 0, G_MAXINT, 0, -1 };
  g_assert_true (wan_dit_forward (dit, state, c.x, NULL, c.t, c.context, c.ctx_rows, out, cancel_cb,
                                  progress_cb, &w, &error));
  g_assert_no_error (error);
  g_assert_cmpint (w.progress_calls, ==, n_layers + 1);
  g_assert_cmpint (w.last_done, ==, n_layers);
  first = g_memdup2 (out, c.n_out * sizeof (float));
  g_assert_true (
      wan_dit_forward (dit, state, c.x, NULL, c.t, c.context, c.ctx_rows, out, NULL, NULL, NULL, &error));
  g_assert_cmpmem (first, c.n_out * sizeof (float), out, c.n_out * sizeof (float));
  case_clear (&c);
}

static void
test_rejects_bad_input (void)
{
  Case c;
  g_autoptr (Safetensors) golden = open_case ("dit48_case.safetensors", &c);
  g_autofree char *wpath = test_golden_path ("dit48_bf16.safetensors");
  g_autofree char *t5path = test_golden_path ("t5_f32.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) weights = wan_weights_open (wpath, NULL, &error);
  g_autoptr (WanWeights) t5 = wan_weights_open (t5path, NULL, &error);
  g_autoptr (WanDit) dit = wan_dit_new (weights, 1, &error);
  g_autoptr (WanDit) not_dit = NULL;
  g_autoptr (WanDitState) state = NULL;
  g_autoptr (WanDitState) bad = NULL;
  g_autofree float *out = g_new0 (float, c.n_out);
  gsize L = (gsize)c.shape[1] * (c.shape[2] / 2) * (c.shape[3] / 2);
  int C = (int)c.shape[0], T = (int)c.shape[1], H = (int)c.shape[2], W = (int)c.shape[3];

  g_assert_no_error (error);
  not_dit = wan_dit_new (t5, 1, &error);
  g_assert_null (not_dit);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_A_MODEL);
  g_clear_error (&error);

  bad = wan_dit_state_new (dit, C + 1, T, H, W, c.ctx_rows, &error);
  g_assert_null (bad);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  bad = wan_dit_state_new (dit, C, T, H + 1, W, c.ctx_rows, &error);
  g_assert_null (bad);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  bad = wan_dit_state_new (dit, C, T, H, W, 513, &error);
  g_assert_null (bad);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);

  state = wan_dit_state_new (dit, C, T, H, W, c.ctx_rows, &error);
  g_assert_no_error (error);
  g_assert_false (
      wan_dit_forward (dit, state, c.x, NULL, c.t, c.context, c.ctx_rows + 1, out, NULL, NULL, NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  g_assert_false (
      wan_dit_forward (dit, state, c.x, NULL, 1001, c.context, c.ctx_rows, out, NULL, NULL, NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);

  /* One distinct timestep per token is more than the state holds. */
  for (gsize i = 0; i < L; i++)
    c.t_pertoken[i] = (float)i;
  g_assert_false (wan_dit_forward (dit, state, c.x, c.t_pertoken, c.t, c.context, c.ctx_rows, out, NULL, NULL,
                                   NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  c.t_pertoken[0] = NAN;
  g_assert_false (wan_dit_forward (dit, state, c.x, c.t_pertoken, c.t, c.context, c.ctx_rows, out, NULL, NULL,
                                   NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  case_clear (&c);
}

/* Both A14B experts share one state; each gives its own result. */
static void
test_state_shared_between_experts (void)
{
  Case c;
  g_autoptr (Safetensors) golden = open_case ("dit16_case.safetensors", &c);
  g_autofree char *hpath = test_golden_path ("dit16_bf16.safetensors");
  g_autofree char *lpath = test_golden_path ("dit16_low_bf16.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) high_w = wan_weights_open (hpath, NULL, &error);
  g_autoptr (WanWeights) low_w = wan_weights_open (lpath, NULL, &error);
  g_autoptr (WanDit) high = wan_dit_new (high_w, 2, &error);
  g_autoptr (WanDit) low = wan_dit_new (low_w, 2, &error);
  g_autoptr (WanDitState) state = NULL;
  g_autofree float *a = g_new0 (float, c.n_out);
  g_autofree float *b = g_new0 (float, c.n_out);
  g_autofree float *golden_out = test_read_f32 (golden, "out_bf16w", NULL, NULL);

  g_assert_no_error (error);
  state = wan_dit_state_new (high, (int)c.shape[0], (int)c.shape[1], (int)c.shape[2], (int)c.shape[3],
                             c.ctx_rows, &error);
  g_assert_no_error (error);
  g_assert_true (
      wan_dit_forward (low, state, c.x, NULL, c.t, c.context, c.ctx_rows, b, NULL, NULL, NULL, &error));
  g_assert_true (
      wan_dit_forward (high, state, c.x, NULL, c.t, c.context, c.ctx_rows, a, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  test_compare_f32 (a, golden_out, c.n_out, 1.1e-4, 1.8e-5, "out_bf16w after the other expert");
  g_assert_true (memcmp (a, b, c.n_out * sizeof (float)) != 0);
  case_clear (&c);
}

static void
test_memory_estimate (void)
{
  g_autofree char *wpath = test_golden_path ("dit16_f32.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) weights = wan_weights_open (wpath, NULL, &error);
  const WanDitConfig *cfg = wan_weights_get_dit_config (weights);
  WanDitMemory small, large;
  gint64 L_small = 5 * 4 * 6, L_large = 21 * 30 * 52;

  g_assert_no_error (error);
  g_assert_true (wan_dit_estimate_memory (weights, cfg->in_dim, 5, 8, 12, 2, &small, &error));
  g_assert_true (wan_dit_estimate_memory (weights, cfg->in_dim, 21, 60, 104, 2, &large, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (small.weights, >=, wan_weights_get_n_bytes (weights));
  g_assert_cmpuint (small.weights, ==, large.weights);
  g_assert_cmpuint (small.activations, >=, (guint64)(5 * L_small * cfg->dim * 4));
  g_assert_cmpuint (large.activations, >=, (guint64)(5 * L_large * cfg->dim * 4));
  g_assert_cmpuint (large.activations, >, small.activations);
  g_assert_cmpuint (small.scratch, >, 0);
  g_assert_false (wan_dit_estimate_memory (weights, cfg->in_dim, 5, 7, 12, 2, &small, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* The golden data is the F32 computation; the BF16 GEMM would round the
   * activations. */
  tk_gemm_set_sbgemm (NULL);

  g_test_add_func ("/dit/golden/dit16-f32-with-intermediates", test_dit16_f32);
  g_test_add_func ("/dit/golden/dit16-comfy-prefix-f16", test_dit16_comfy_f16);
  g_test_add_func ("/dit/golden/dit16-bf16", test_dit16_bf16);
  g_test_add_func ("/dit/golden/dit48-bf16-with-intermediates", test_dit48_bf16);
  g_test_add_func ("/dit/golden/dit48-per-token-timesteps", test_dit48_per_token);
  g_test_add_func ("/dit/fp8/scaled-weights-match-dequantised", test_fp8_scaled_weights);
  g_test_add_func ("/dit/time/per-token-uniform-matches-scalar", test_per_token_uniform_matches_scalar);
  g_test_add_func ("/dit/time/sinusoid-cosine-first", test_sinusoid_cosine_first);
  g_test_add_func ("/dit/time/embedding-matches-reference", test_time_embedding_matches_reference);
  g_test_add_func ("/dit/blocks/match-direct-reference", test_blocks_match_direct_reference);
  g_test_add_func ("/dit/determinism/across-runs-and-thread-counts", test_deterministic_across_threads);
  g_test_add_func ("/dit/cancel/between-blocks", test_cancel_between_blocks);
  g_test_add_func ("/dit/input/rejects-bad-shapes-and-timesteps", test_rejects_bad_input);
  g_test_add_func ("/dit/state/shared-between-experts", test_state_shared_between_experts);
  g_test_add_func ("/dit/memory/estimate-grows-with-latent", test_memory_estimate);
  return g_test_run ();
}
