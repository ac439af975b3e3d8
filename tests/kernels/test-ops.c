/* Tests of the norms, activations, softmax and element-wise kernels against
 * plain double-precision loops, for every instruction set the CPU has, with
 * and without a pool, over odd and prime widths and the models' real widths
 * (rows scaled down).
 *
 * Tolerances: norms 2e-5·max(1, |want|) (inputs carry a large common offset,
 * so a naive one-pass variance would fail); GELU/SiLU/softmax 2e-6 relative
 * plus 1e-30 absolute (the vector exp is within 2 ulp); element-wise ops and
 * modulation are compared bit for bit with the same F32 expression, because
 * the kernels promise the official evaluation order. */
#include "tk-convert.h"
#include "tk-ops.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk-test.h"

static uint64_t rng_state = 0x5DEECE66Dull;

static float
rng_uniform (void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (float)((rng_state * 0x2545F4914F6CDD1Dull) >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
}

static float *
random_floats (size_t n, float scale, float offset)
{
  float *p = malloc ((n > 0 ? n : 1) * sizeof (float));

  for (size_t i = 0; i < n; i++)
    p[i] = offset + scale * rng_uniform ();
  return p;
}

static float *
copy_floats (const float *src, size_t n)
{
  float *p = malloc ((n > 0 ? n : 1) * sizeof (float));

  memcpy (p, src, n * sizeof (float));
  return p;
}

/* Counts elements outside |got − want| <= rel·max(floor, |want|) + abs. */
static int
count_bad (
    const char *what, const float *got, const double *want, size_t n, double rel, double floor_, double abs_)
{
  int bad = 0;

  for (size_t i = 0; i < n; i++)
    {
      double tol = rel * fmax (floor_, fabs (want[i])) + abs_;

      if (!(fabs ((double)got[i] - want[i]) <= tol))
        {
          if (bad < 5)
            fprintf (stderr, "# %s: [%zu] got %.9g want %.9g\n", what, i, (double)got[i], want[i]);
          bad++;
        }
    }
  return bad;
}

/* Counts elements outside |got − want| <= tol[i]. */
static int
count_bad_tol (const char *what, const float *got, const double *want, const double *tol, size_t n)
{
  int bad = 0;

  for (size_t i = 0; i < n; i++)
    if (!(fabs ((double)got[i] - want[i]) <= tol[i]))
      {
        if (bad < 5)
          fprintf (stderr, "# %s: [%zu] got %.9g want %.9g (tol %.3g)\n", what, i, (double)got[i], want[i],
                   tol[i]);
        bad++;
      }
  return bad;
}

static int
count_unequal (const char *what, const float *got, const float *want, size_t n)
{
  int bad = 0;

  for (size_t i = 0; i < n; i++)
    if (memcmp (&got[i], &want[i], sizeof (float)) != 0)
      {
        if (bad < 5)
          fprintf (stderr, "# %s: [%zu] got %a want %a\n", what, i, (double)got[i], (double)want[i]);
        bad++;
      }
  return bad;
}

static const int64_t odd_widths[] = { 1, 2, 3, 15, 16, 17, 31, 33, 97, 1021 };
static const int64_t odd_rows[] = { 1, 7, 33 };
/* DiT widths (1.3B, 5B, 14B), umT5's, the VAE's channels, text tokens. */
static const int64_t model_widths[] = { 1536, 3072, 5120, 4096, 96, 384, 512 };

static tk_pool *pool3;

/* Every instruction set the CPU has, each without and with a pool. */
typedef struct
{
  tk_isa isa;
  int pooled;
  char name[32];
} path;

static path paths[2 * (TK_ISA_AVX512 + 1)];
static int n_paths;

static void
init_paths (void)
{
  for (tk_isa isa = TK_ISA_PORTABLE; isa <= tk_isa_detect (); isa++)
    for (int pooled = 0; pooled < 2; pooled++)
      {
        path *p = &paths[n_paths++];

        p->isa = isa;
        p->pooled = pooled;
        snprintf (p->name, sizeof p->name, "%s/%s", tk_isa_name (isa), pooled ? "pool" : "inline");
      }
}

/* Switches to path i and returns its pool. */
static tk_pool *
use_path (int i)
{
  tk_isa_force (paths[i].isa);
  return paths[i].pooled ? pool3 : NULL;
}

/* ---- norms ---- */

/* Also fills tol: besides a few F32 roundings of the output, the F32 mean
 * carries an error of half an ulp of the row's largest value, which the
 * normalisation magnifies by max|x| / std (inherent to F32 input). */
static void
ref_layer_norm (const float *x,
                double *y,
                double *tol,
                int64_t rows,
                int64_t w,
                const float *g,
                const float *b,
                double eps)
{
  for (int64_t r = 0; r < rows; r++)
    {
      double mean = 0, var = 0, maxabs = 0, cond;

      for (int64_t i = 0; i < w; i++)
        maxabs = fmax (maxabs, fabs (x[r * w + i]));
      for (int64_t i = 0; i < w; i++)
        mean += x[r * w + i];
      mean /= (double)w;
      for (int64_t i = 0; i < w; i++)
        var += (x[r * w + i] - mean) * (x[r * w + i] - mean);
      var /= (double)w;
      cond = maxabs / sqrt (var + eps);
      for (int64_t i = 0; i < w; i++)
        {
          double v = (x[r * w + i] - mean) / sqrt (var + eps);
          double gi = g != NULL ? g[i] : 1.0;

          y[r * w + i] = v * gi + (b != NULL ? b[i] : 0.0);
          tol[r * w + i] = 2e-5 * fmax (1.0, fabs (y[r * w + i])) + 4.0 * 0x1p-24 * cond * fabs (gi);
        }
    }
}

static void
check_layer_norm (int64_t rows, int64_t w)
{
  float *x = random_floats ((size_t)(rows * w), 2.0f, 30.0f);
  float *g = random_floats ((size_t)w, 1.0f, 1.0f);
  float *b = random_floats ((size_t)w, 0.5f, 0.0f);
  float *y = malloc ((size_t)(rows * w) * sizeof (float));
  double *want = malloc ((size_t)(rows * w) * sizeof (double));
  double *want_plain = malloc ((size_t)(rows * w) * sizeof (double));
  double *tol = malloc ((size_t)(rows * w) * sizeof (double));
  double *tol_plain = malloc ((size_t)(rows * w) * sizeof (double));

  /* A constant row has zero variance: eps keeps it finite. */
  for (int64_t i = 0; i < w; i++)
    x[i] = 4.25f;
  ref_layer_norm (x, want, tol, rows, w, g, b, 1e-6);
  ref_layer_norm (x, want_plain, tol_plain, rows, w, NULL, NULL, 1e-6);
  for (int p_ = 0; p_ < n_paths; p_++)
    {
      tk_pool *pool = use_path (p_);
      const char *what = paths[p_].name;

      CHECK (tk_layer_norm (pool, x, y, rows, w, g, b, 1e-6f) == TK_OK, "status");
      CHECK (count_bad_tol ("layer norm affine", y, want, tol, (size_t)(rows * w)) == 0,
             "%s rows=%lld w=%lld", what, (long long)rows, (long long)w);
      tk_layer_norm (pool, x, y, rows, w, NULL, NULL, 1e-6f);
      CHECK (count_bad_tol ("layer norm plain", y, want_plain, tol_plain, (size_t)(rows * w)) == 0,
             "%s rows=%lld w=%lld", what, (long long)rows, (long long)w);
      /* In place gives the same. */
      {
        float *z = copy_floats (x, (size_t)(rows * w));

        tk_layer_norm (pool, z, z, rows, w, NULL, NULL, 1e-6f);
        CHECK (count_unequal ("layer norm in place", z, y, (size_t)(rows * w)) == 0, "%s", what);
        free (z);
      }
    }
  free (x);
  free (g);
  free (b);
  free (y);
  free (want);
  free (want_plain);
  free (tol);
  free (tol_plain);
}

static void
test_layer_norm (void)
{
  int before = failures;

  for (size_t r = 0; r < 3; r++)
    for (size_t w = 0; w < sizeof odd_widths / sizeof odd_widths[0]; w++)
      check_layer_norm (odd_rows[r], odd_widths[w]);
  for (size_t w = 0; w < sizeof model_widths / sizeof model_widths[0]; w++)
    check_layer_norm (9, model_widths[w]);
  report ("/ops/layer-norm/with-and-without-affine", before);
}

static void
ref_rms (const float *x, double *y, int64_t rows, int64_t w, const float *g, double eps)
{
  for (int64_t r = 0; r < rows; r++)
    {
      double ms = 0;

      for (int64_t i = 0; i < w; i++)
        ms += (double)x[r * w + i] * x[r * w + i];
      ms /= (double)w;
      for (int64_t i = 0; i < w; i++)
        y[r * w + i] = x[r * w + i] / sqrt (ms + eps) * (g != NULL ? g[i] : 1.0);
    }
}

static void
check_rms (int64_t rows, int64_t w)
{
  float *x = random_floats ((size_t)(rows * w), 3.0f, 0.5f);
  float *g = random_floats ((size_t)w, 1.0f, 0.2f);
  float *y = malloc ((size_t)(rows * w) * sizeof (float));
  double *want = malloc ((size_t)(rows * w) * sizeof (double));
  double *want_plain = malloc ((size_t)(rows * w) * sizeof (double));

  ref_rms (x, want, rows, w, g, 1e-6);
  ref_rms (x, want_plain, rows, w, NULL, 1e-6);
  for (int p_ = 0; p_ < n_paths; p_++)
    {
      tk_pool *pool = use_path (p_);
      const char *what = paths[p_].name;

      CHECK (tk_rms_norm (pool, x, y, rows, w, g, 1e-6f) == TK_OK, "status");
      CHECK (count_bad ("rms", y, want, (size_t)(rows * w), 2e-5, 1.0, 0) == 0, "%s w=%lld", what,
             (long long)w);
      tk_rms_norm (pool, x, y, rows, w, NULL, 1e-6f);
      CHECK (count_bad ("rms plain", y, want_plain, (size_t)(rows * w), 2e-5, 1.0, 0) == 0, "%s w=%lld", what,
             (long long)w);
      /* T5's form with an F32 weight is the same function. */
      tk_t5_rms_norm (pool, x, y, rows, w, g, TK_DTYPE_F32, 1e-6f);
      CHECK (count_bad ("t5 rms f32", y, want, (size_t)(rows * w), 2e-5, 1.0, 0) == 0, "%s w=%lld", what,
             (long long)w);
    }
  free (x);
  free (g);
  free (y);
  free (want);
  free (want_plain);
}

static void
test_rms_norm (void)
{
  int before = failures;

  for (size_t r = 0; r < 3; r++)
    for (size_t w = 0; w < sizeof odd_widths / sizeof odd_widths[0]; w++)
      check_rms (odd_rows[r], odd_widths[w]);
  for (size_t w = 0; w < sizeof model_widths / sizeof model_widths[0]; w++)
    check_rms (5, model_widths[w]);
  report ("/ops/rms-norm/full-width", before);
}

static void
test_t5_rms_half_weights (void)
{
  int before = failures;
  const int64_t rows = 6, w = 4096;
  float *x = random_floats ((size_t)(rows * w), 4.0f, 0.0f);
  float *gf = random_floats ((size_t)w, 1.0f, 0.3f);
  uint16_t *g16 = malloc ((size_t)w * sizeof (uint16_t));
  float *y = malloc ((size_t)(rows * w) * sizeof (float));
  double *want = malloc ((size_t)(rows * w) * sizeof (double));
  float *gq = malloc ((size_t)w * sizeof (float));

  for (int half = 0; half < 2; half++)
    {
      tk_dtype dt = half ? TK_DTYPE_F16 : TK_DTYPE_BF16;
      /* One ulp of the half type, relative; F16 subnormals add up to two
       * half-steps of 2^-25 absolute. */
      double ulp = half ? 0x1p-10 : 0x1p-7;

      tk_convert_from_f32 (dt, gf, g16, (size_t)w, 1.0f);
      tk_convert_to_f32 (dt, g16, gq, (size_t)w, 1.0f);
      ref_rms (x, want, rows, w, gq, 1e-6);
      for (int p_ = 0; p_ < n_paths; p_++)
        {
          tk_pool *pool = use_path (p_);
          const char *what = paths[p_].name;

          int not_half = 0;

          CHECK (tk_t5_rms_norm (pool, x, y, rows, w, g16, dt, 1e-6f) == TK_OK, "status");
          /* Two roundings to the half type: within two of its ulps... */
          CHECK (
              count_bad ("t5 rms half", y, want, (size_t)(rows * w), 2.01 * ulp, 0.0, half ? 0x1p-24 : 1e-30)
                  == 0,
              "%s %s", what, tk_dtype_name (dt));
          /* ...and every output is a value of the half type. */
          for (int64_t i = 0; i < rows * w; i++)
            {
              float back
                  = half ? tk_f16_to_f32 (tk_f32_to_f16 (y[i])) : tk_bf16_to_f32 (tk_f32_to_bf16 (y[i]));
              not_half += back != y[i];
            }
          CHECK (not_half == 0, "%s: %d outputs are not %s values", what, not_half, tk_dtype_name (dt));
        }
    }
  CHECK (tk_t5_rms_norm (NULL, x, y, 1, w, g16, TK_DTYPE_F8_E4M3, 1e-6f) == TK_ERR_INVALID,
         "F8 weight refused");
  free (x);
  free (gf);
  free (g16);
  free (y);
  free (want);
  free (gq);
  report ("/ops/t5-rms-norm/rounds-to-half-weight-dtype", before);
}

static void
ref_l2 (const float *x, double *y, int64_t c, int64_t s, const float *g, double eps, int channels_first)
{
  for (int64_t p = 0; p < s; p++)
    {
      double ss = 0;

      for (int64_t ch = 0; ch < c; ch++)
        {
          double v = channels_first ? x[ch * s + p] : x[p * c + ch];
          ss += v * v;
        }
      ss = fmax (sqrt (ss), eps);
      for (int64_t ch = 0; ch < c; ch++)
        {
          int64_t at = channels_first ? ch * s + p : p * c + ch;
          y[at] = x[at] / ss * sqrt ((double)c) * (g != NULL ? g[ch] : 1.0);
        }
    }
}

static void
check_l2 (int64_t c, int64_t s)
{
  float *x = random_floats ((size_t)(c * s), 1.5f, 0.1f);
  float *g = random_floats ((size_t)c, 1.0f, 0.5f);
  float *y = malloc ((size_t)(c * s) * sizeof (float));
  double *want = malloc ((size_t)(c * s) * sizeof (double));

  /* One all-zero position: the eps clamp keeps it zero, not NaN. */
  for (int64_t ch = 0; ch < c; ch++)
    x[ch * s + (s - 1)] = 0.0f;
  for (int cf = 0; cf < 2; cf++)
    {
      if (!cf)
        for (int64_t ch = 0; ch < c; ch++)
          x[(s - 1) * c + ch] = 0.0f;
      ref_l2 (x, want, c, s, g, 1e-12, cf);
      for (int p_ = 0; p_ < n_paths; p_++)
        {
          tk_pool *pool = use_path (p_);
          const char *what = paths[p_].name;

          tk_status st = cf ? tk_l2_norm_channels (pool, x, y, c, s, g, 1e-12f)
                            : tk_l2_norm_rows (pool, x, y, s, c, g, 1e-12f);

          CHECK (st == TK_OK, "status");
          CHECK (count_bad ("l2", y, want, (size_t)(c * s), 2e-5, 1.0, 0) == 0, "%s %s c=%lld s=%lld", what,
                 cf ? "channels-first" : "rows", (long long)c, (long long)s);
        }
    }
  free (x);
  free (g);
  free (y);
  free (want);
}

static void
test_l2_norm (void)
{
  int before = failures;

  check_l2 (1, 1);
  check_l2 (3, 7);
  check_l2 (17, 257);
  check_l2 (96, 13 * 17);
  check_l2 (384, 2 * 11 * 13);
  check_l2 (16, 1021);
  report ("/ops/l2-norm/vae-rms-norm-both-layouts", before);
}

/* ---- activations and softmax ---- */

static double
gelu_u (double x)
{
  return sqrt (2.0 / M_PI) * (x + 0.044715 * x * x * x);
}

/* 0.5·x·(1 + tanh u) = x / (1 + e^(−2u)); the second form keeps its
 * accuracy for negative x, where 1 + tanh u cancels (checked against the
 * first where that is still accurate). */
static double
ref_gelu (double x)
{
  return x / (1.0 + exp (-2.0 * gelu_u (x)));
}

static double
ref_silu (double x)
{
  return x / (1.0 + exp (-x));
}

static void
test_activations (void)
{
  int before = failures;
  const size_t n = 4099;
  float *x = random_floats (n, 12.0f, 0.0f);
  float *y = malloc (n * sizeof (float));
  double *wg = malloc (n * sizeof (double)), *ws = malloc (n * sizeof (double));
  double *tg = malloc (n * sizeof (double)), *ts = malloc (n * sizeof (double));
  static const float edges[]
      = { 0.0f, -0.0f, 1e-30f, -1e-30f, 100.0f, -100.0f, 1e4f, -1e4f, 88.0f, -88.0f, 44.5f, -44.5f };

  memcpy (x, edges, sizeof edges);
  for (size_t i = 0; i < n; i++)
    {
      wg[i] = ref_gelu (x[i]);
      ws[i] = ref_silu (x[i]);
      /* A few F32 roundings, and u's own rounding magnified by |2u| in the
       * exponential; below 1e-36 the vector exp flushes. */
      tg[i] = fabs (wg[i]) * (1e-6 + 3e-7 * fabs (2.0 * gelu_u (x[i]))) + 1e-36;
      ts[i] = fabs (ws[i]) * 1e-6 + 1e-36;
      if (x[i] > -2.0f)
        CHECK (fabs (wg[i] - 0.5 * x[i] * (1.0 + tanh (gelu_u (x[i])))) <= 1e-12 * fabs (wg[i]) + 1e-300,
               "the two GELU forms agree at %g", (double)x[i]);
    }
  for (int p_ = 0; p_ < n_paths; p_++)
    {
      tk_pool *pool = use_path (p_);
      const char *what = paths[p_].name;

      static const size_t lens[] = { 1, 5, 16, 17, 33, 4099 };

      for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++)
        {
          CHECK (tk_gelu_tanh (pool, x, y, (int64_t)lens[li]) == TK_OK, "status");
          CHECK (count_bad_tol ("gelu", y, wg, tg, lens[li]) == 0, "%s n=%zu", what, lens[li]);
          CHECK (tk_silu (pool, x, y, (int64_t)lens[li]) == TK_OK, "status");
          CHECK (count_bad_tol ("silu", y, ws, ts, lens[li]) == 0, "%s n=%zu", what, lens[li]);
        }
      {
        float *z = copy_floats (x, n);

        tk_gelu_tanh (pool, z, z, (int64_t)n);
        CHECK (count_bad_tol ("gelu in place", z, wg, tg, n) == 0, "%s", what);
        free (z);
      }
    }
  {
    float nan_in = NAN, out;

    tk_silu (NULL, &nan_in, &out, 1);
    CHECK (isnan (out), "NaN stays NaN");
  }
  free (x);
  free (y);
  free (wg);
  free (ws);
  free (tg);
  free (ts);
  report ("/ops/activations/gelu-tanh-and-silu", before);
}

/* tol: the F32 difference x − max is off by up to 2^-24·|x − max|, which
 * exp turns into that relative error; the F32 sum of w terms adds about
 * 2^-24·sqrt(w) relative. */
static void
ref_softmax (const float *x, double *y, double *tol, int64_t rows, int64_t w)
{
  for (int64_t r = 0; r < rows; r++)
    {
      double m = -INFINITY, s = 0;

      for (int64_t i = 0; i < w; i++)
        m = fmax (m, x[r * w + i]);
      for (int64_t i = 0; i < w; i++)
        s += exp (x[r * w + i] - m);
      for (int64_t i = 0; i < w; i++)
        {
          double d = fabs (x[r * w + i] - m);

          /* Masked keys and fully masked rows must give exact zeros. */
          if (m == -INFINITY || x[r * w + i] == -INFINITY)
            {
              y[r * w + i] = 0.0;
              tol[r * w + i] = 0.0;
              continue;
            }
          y[r * w + i] = exp (x[r * w + i] - m) / s;
          tol[r * w + i] = y[r * w + i] * (1e-6 + 0x1p-23 * d + 0x1p-23 * sqrt ((double)w)) + 1e-37;
        }
    }
}

static void
check_softmax (int64_t rows, int64_t w)
{
  float *x = random_floats ((size_t)(rows * w), 20.0f, 50.0f);
  float *y = malloc ((size_t)(rows * w) * sizeof (float));
  double *want = malloc ((size_t)(rows * w) * sizeof (double));
  double *tol = malloc ((size_t)(rows * w) * sizeof (double));

  /* Masked keys (−inf) in one row, a fully masked row, huge logits in another. */
  for (int64_t i = 0; i < w; i += 3)
    x[i] = -INFINITY;
  if (rows > 2)
    {
      for (int64_t i = 0; i < w; i++)
        x[w + i] = -INFINITY;
      x[2 * w] = 1e30f;
    }
  ref_softmax (x, want, tol, rows, w);
  for (int p_ = 0; p_ < n_paths; p_++)
    {
      tk_pool *pool = use_path (p_);
      const char *what = paths[p_].name;

      CHECK (tk_softmax (pool, x, y, rows, w) == TK_OK, "status");
      CHECK (count_bad_tol ("softmax", y, want, tol, (size_t)(rows * w)) == 0, "%s rows=%lld w=%lld", what,
             (long long)rows, (long long)w);
    }
  free (x);
  free (y);
  free (want);
  free (tol);
}

static void
test_softmax (void)
{
  int before = failures;

  for (size_t r = 0; r < 3; r++)
    for (size_t w = 0; w < sizeof odd_widths / sizeof odd_widths[0]; w++)
      check_softmax (odd_rows[r], odd_widths[w]);
  check_softmax (4, 512);
  check_softmax (3, 32760);
  report ("/ops/softmax/stable-with-masked-rows", before);
}

/* ---- element-wise, broadcast, modulation ---- */

static void
test_elementwise (void)
{
  int before = failures;
  const int64_t rows = 37, w = 97;
  const size_t n = (size_t)(rows * w);
  float *a = random_floats (n, 3.0f, 0.0f), *b = random_floats (n, 3.0f, 0.0f),
        *row = random_floats ((size_t)w, 2.0f, 0.0f);
  float *y = malloc (n * sizeof (float)), *want = malloc (n * sizeof (float));

  for (int p_ = 0; p_ < n_paths; p_++)
    {
      tk_pool *pool = use_path (p_);
      const char *what = paths[p_].name;

      for (size_t i = 0; i < n; i++)
        want[i] = a[i] + b[i];
      tk_add (pool, a, b, y, (int64_t)n);
      CHECK (count_unequal ("add", y, want, n) == 0, "%s", what);
      for (size_t i = 0; i < n; i++)
        want[i] = a[i] * b[i];
      tk_mul (pool, a, b, y, (int64_t)n);
      CHECK (count_unequal ("mul", y, want, n) == 0, "%s", what);
      for (size_t i = 0; i < n; i++)
        want[i] = a[i] + row[i % (size_t)w];
      tk_add_row (pool, a, row, y, rows, w);
      CHECK (count_unequal ("add row", y, want, n) == 0, "%s", what);
      for (size_t i = 0; i < n; i++)
        want[i] = a[i] * row[i % (size_t)w];
      tk_mul_row (pool, a, row, y, rows, w);
      CHECK (count_unequal ("mul row", y, want, n) == 0, "%s", what);
    }
  free (a);
  free (b);
  free (row);
  free (y);
  free (want);
  report ("/ops/elementwise/add-mul-and-row-broadcast", before);
}

static void
check_modulation (int64_t rows, int64_t w, int64_t rows_per_vec)
{
  /* Vectors laid out like e0 [groups, 6, D]: shift, scale, gate at 0, 1, 2. */
  int64_t groups = rows_per_vec > 0 ? (rows + rows_per_vec - 1) / rows_per_vec : 1;
  int64_t stride = 6 * w;
  const size_t n = (size_t)(rows * w);
  float *x = random_floats (n, 2.0f, 1.0f), *res = random_floats (n, 1.0f, 0.0f);
  float *e0 = random_floats ((size_t)(groups * stride), 0.5f, 0.0f);
  const float *shift = e0, *scale = e0 + w, *gate = e0 + 2 * w;
  float *y = malloc (n * sizeof (float)), *want = malloc (n * sizeof (float)),
        *ln = malloc (n * sizeof (float));
  float *acc = malloc (n * sizeof (float));

  for (int p_ = 0; p_ < n_paths; p_++)
    {
      tk_pool *pool = use_path (p_);
      const char *what = paths[p_].name;

      for (int64_t r = 0; r < rows; r++)
        {
          int64_t g = rows_per_vec > 0 ? r / rows_per_vec : 0;

          for (int64_t c = 0; c < w; c++)
            want[r * w + c] = x[r * w + c] * (1.0f + scale[g * stride + c]) + shift[g * stride + c];
        }
      CHECK (tk_modulate (pool, x, y, rows, w, shift, scale, rows_per_vec, stride) == TK_OK, "status");
      CHECK (count_unequal ("modulate", y, want, n) == 0, "%s rows=%lld w=%lld per=%lld", what,
             (long long)rows, (long long)w, (long long)rows_per_vec);

      /* The fused LayerNorm + modulation equals the two steps bit for bit. */
      tk_layer_norm (pool, x, ln, rows, w, NULL, NULL, 1e-6f);
      tk_modulate (pool, ln, want, rows, w, shift, scale, rows_per_vec, stride);
      CHECK (tk_layer_norm_modulate (pool, x, y, rows, w, 1e-6f, shift, scale, rows_per_vec, stride) == TK_OK,
             "status");
      CHECK (count_unequal ("layer norm modulate", y, want, n) == 0, "%s", what);

      memcpy (acc, x, n * sizeof (float));
      for (int64_t r = 0; r < rows; r++)
        {
          int64_t g = rows_per_vec > 0 ? r / rows_per_vec : 0;

          for (int64_t c = 0; c < w; c++)
            want[r * w + c] = x[r * w + c] + res[r * w + c] * gate[g * stride + c];
        }
      CHECK (tk_gated_residual (pool, acc, res, gate, rows, w, rows_per_vec, stride) == TK_OK, "status");
      CHECK (count_unequal ("gated residual", acc, want, n) == 0, "%s", what);
    }
  free (x);
  free (res);
  free (e0);
  free (y);
  free (want);
  free (ln);
  free (acc);
}

static void
test_modulation (void)
{
  int before = failures;

  check_modulation (1, 1, 0);
  check_modulation (31, 17, 0);
  check_modulation (30, 97, 7);
  check_modulation (12, 1536, 4);
  check_modulation (6, 5120, 0);
  report ("/ops/modulation/shared-and-per-frame-vectors", before);
}

static void
test_bad_arguments (void)
{
  int before = failures;
  float x[4] = { 1, 2, 3, 4 }, y[4];

  CHECK (tk_layer_norm (NULL, NULL, y, 1, 4, NULL, NULL, 1e-6f) == TK_ERR_INVALID, "NULL x");
  CHECK (tk_layer_norm (NULL, x, y, -1, 4, NULL, NULL, 1e-6f) == TK_ERR_INVALID, "negative rows");
  CHECK (tk_layer_norm (NULL, x, y, 1, 0, NULL, NULL, 1e-6f) == TK_ERR_INVALID, "zero width");
  CHECK (tk_layer_norm (NULL, NULL, NULL, 0, 4, NULL, NULL, 1e-6f) == TK_OK, "no rows");
  CHECK (tk_softmax (NULL, x, NULL, 1, 4) == TK_ERR_INVALID, "NULL y");
  CHECK (tk_add (NULL, x, NULL, y, 4) == TK_ERR_INVALID, "NULL b");
  CHECK (tk_gelu_tanh (NULL, x, y, -3) == TK_ERR_INVALID, "negative n");
  CHECK (tk_modulate (NULL, x, y, 1, 4, NULL, x, 0, 0) == TK_ERR_INVALID, "NULL shift");
  CHECK (tk_gated_residual (NULL, y, x, NULL, 1, 4, 0, 0) == TK_ERR_INVALID, "NULL gate");
  CHECK (tk_l2_norm_channels (NULL, x, y, -2, 2, NULL, 1e-12f) == TK_ERR_INVALID, "negative channels");
  CHECK (tk_l2_norm_channels (NULL, NULL, NULL, 0, 2, NULL, 1e-12f) == TK_OK, "no channels");
  CHECK (tk_t5_rms_norm (NULL, x, y, 1, 4, NULL, TK_DTYPE_F32, 1e-6f) == TK_ERR_INVALID, "NULL weight");
  report ("/ops/rejects-bad-arguments", before);
}

int
main (void)
{
  printf ("TAP version 13\n");
  pool3 = tk_pool_new (3);
  init_paths ();
  test_layer_norm ();
  test_rms_norm ();
  test_t5_rms_half_weights ();
  test_l2_norm ();
  test_activations ();
  test_softmax ();
  test_elementwise ();
  test_modulation ();
  test_bad_arguments ();
  tk_isa_force (tk_isa_detect ());
  tk_pool_free (pool3);
  printf ("1..%d\n", n_test);
  return failures == 0 ? 0 : 1;
}
