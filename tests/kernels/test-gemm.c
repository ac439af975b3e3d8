/* Tests of tk_gemm_f32 and tk_linear against a double-precision reference
 * loop: every transpose combination, odd and prime sizes, padded leading
 * dimensions, every weight dtype (with F8 scales), blocks beyond the
 * workspace's block size, the per-slot serial path from pool workers, the
 * BF16 GEMM hook, the few-rows and blocked paths (1 to 2,100 rows, k
 * off the blocking), NaN weights, and argument checks.
 *
 * Tolerance: |got − want| <= 4·k·2^-24·Σ|a||b| + 1e-6 per element, i.e. a
 * few rounding errors per accumulated product; the reference uses the
 * weights exactly as dequantised, so conversion must be exact to pass. */
#include "tk-convert.h"
#include "tk-gemm.h"

#include <dlfcn.h>
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
static int n_test;

#define CHECK(cond, ...)                                                                                     \
  do                                                                                                         \
    {                                                                                                        \
      if (!(cond))                                                                                           \
        {                                                                                                    \
          fprintf (stderr, "# %s:%d: ", __FILE__, __LINE__);                                                 \
          fprintf (stderr, __VA_ARGS__);                                                                     \
          fprintf (stderr, "\n");                                                                            \
          failures++;                                                                                        \
        }                                                                                                    \
    }                                                                                                        \
  while (0)

/* The threading mode under test, appended to the names of the tests that
 * run in both. */
static const char *mode_suffix = "";

static void
report (const char *name, int before)
{
  n_test++;
  printf ("%s %d - %s%s\n", failures == before ? "ok" : "not ok", n_test, name, mode_suffix);
  fflush (stdout);
}

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static float
rng_uniform (void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (float)((rng_state * 0x2545F4914F6CDD1Dull) >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
}

static float *
random_floats (size_t n)
{
  float *p = malloc ((n > 0 ? n : 1) * sizeof (float));

  for (size_t i = 0; i < n; i++)
    p[i] = rng_uniform ();
  return p;
}

/* Compares c [m, n] (row stride ldc) with the reference; returns the number
 * of bad elements and prints the first few. */
static int
compare (const char *what,
         const float *c,
         int64_t ldc,
         const double *want,
         const double *mag,
         int64_t m,
         int64_t n,
         int64_t k)
{
  int bad = 0;

  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++)
      {
        double got = c[i * ldc + j], w = want[i * n + j];
        double tol = 4.0 * (double)(k + 1) * 0x1p-24 * mag[i * n + j] + 1e-6;

        if (!(fabs (got - w) <= tol))
          {
            if (bad < 5)
              fprintf (stderr, "# %s: [%lld, %lld] got %.9g want %.9g (tol %.3g)\n", what, (long long)i,
                       (long long)j, got, w, tol);
            bad++;
          }
      }
  return bad;
}

/* ---- tk_gemm_f32 ---- */

static void
gemm_reference (int ta,
                int tb,
                int64_t m,
                int64_t n,
                int64_t k,
                float alpha,
                const float *a,
                int64_t lda,
                const float *b,
                int64_t ldb,
                float beta,
                const float *c0,
                int64_t ldc,
                double *want,
                double *mag)
{
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++)
      {
        double s = 0.0, g = 0.0;

        for (int64_t p = 0; p < k; p++)
          {
            double av = ta ? a[p * lda + i] : a[i * lda + p];
            double bv = tb ? b[j * ldb + p] : b[p * ldb + j];
            s += av * bv;
            g += fabs (av * bv);
          }
        want[i * n + j] = alpha * s + (beta != 0.0f ? beta * (double)c0[i * ldc + j] : 0.0);
        mag[i * n + j] = fabs (alpha) * g + fabs (beta * c0[i * ldc + j]);
      }
}

static void
test_gemm_f32 (void)
{
  /* The last two are long enough along m, then n, to be cut into more
   * pieces than threads. */
  static const int64_t sizes[][3]
      = { { 1, 1, 1 },    { 3, 5, 7 },    { 17, 31, 13 }, { 97, 61, 89 },  { 128, 67, 250 },
          { 2, 300, 19 }, { 263, 5, 41 }, { 64, 64, 0 },  { 6200, 5, 67 }, { 5, 8300, 49 } };
  int before = failures;
  tk_pool *pools[3] = { NULL, tk_pool_new (2), tk_pool_new (3) };

  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++)
        for (int pi = 0; pi < 3; pi++)
          {
            int64_t m = sizes[s][0], n = sizes[s][1], k = sizes[s][2];
            int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 1, ldc = n + 5;
            float *a = random_floats ((size_t)((ta ? k : m) * lda));
            float *b = random_floats ((size_t)((tb ? n : k) * ldb));
            float *c = random_floats ((size_t)(m * ldc));
            float *c0 = malloc ((size_t)(m * ldc) * sizeof (float));
            double *want = malloc ((size_t)(m * n) * sizeof (double));
            double *mag = malloc ((size_t)(m * n) * sizeof (double));
            float alpha = 0.75f, beta = (pi == 1) ? 0.0f : -0.5f;
            char what[128];

            memcpy (c0, c, (size_t)(m * ldc) * sizeof (float));
            gemm_reference (ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c0, ldc, want, mag);
            CHECK (tk_gemm_f32 (pools[pi], ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc) == TK_OK,
                   "status");
            snprintf (what, sizeof what, "gemm %lldx%lldx%lld ta=%d tb=%d threads=%d", (long long)m,
                      (long long)n, (long long)k, ta, tb, tk_pool_size (pools[pi]));
            CHECK (compare (what, c, ldc, want, mag, m, n, k) == 0, "%s", what);
            /* Padding columns of C are never written. */
            for (int64_t i = 0; i < m; i++)
              for (int64_t j = n; j < ldc; j++)
                CHECK (c[i * ldc + j] == c0[i * ldc + j], "%s: padding [%lld, %lld] changed", what,
                       (long long)i, (long long)j);
            free (a);
            free (b);
            free (c);
            free (c0);
            free (want);
            free (mag);
          }
  tk_pool_free (pools[1]);
  tk_pool_free (pools[2]);
  report ("/gemm/f32/matches-reference-all-transposes", before);
}

static void
test_gemm_bad_arguments (void)
{
  int before = failures;
  float a[16] = { 0 }, b[16] = { 0 }, c[16];

  CHECK (tk_gemm_f32 (NULL, 0, 0, 2, 2, 4, 1, a, 3, b, 2, 0, c, 2) == TK_ERR_INVALID, "lda < k");
  CHECK (tk_gemm_f32 (NULL, 1, 0, 4, 2, 2, 1, a, 3, b, 2, 0, c, 2) == TK_ERR_INVALID, "lda < m transposed");
  CHECK (tk_gemm_f32 (NULL, 0, 1, 2, 2, 4, 1, a, 4, b, 3, 0, c, 2) == TK_ERR_INVALID, "ldb < k transposed");
  CHECK (tk_gemm_f32 (NULL, 0, 0, 2, 3, 2, 1, a, 2, b, 3, 0, c, 2) == TK_ERR_INVALID, "ldc < n");
  CHECK (tk_gemm_f32 (NULL, 0, 0, -1, 2, 2, 1, a, 2, b, 2, 0, c, 2) == TK_ERR_INVALID, "negative m");
  CHECK (tk_gemm_f32 (NULL, 0, 0, 2, 2, 2, 1, a, (int64_t)1 << 40, b, 2, 0, c, 2) == TK_ERR_INVALID,
         "lda beyond int");
  CHECK (tk_gemm_f32 (NULL, 0, 0, 2, 2, 2, 1, NULL, 2, b, 2, 0, c, 2) == TK_ERR_INVALID, "NULL a");
  CHECK (tk_gemm_f32 (NULL, 0, 0, 0, 2, 2, 1, NULL, 2, NULL, 2, 0, NULL, 2) == TK_OK, "empty product");
  for (int i = 0; i < 4; i++)
    c[i] = 2.0f;
  CHECK (tk_gemm_f32 (NULL, 0, 0, 2, 2, 0, 1, a, 1, b, 2, 0.5f, c, 2) == TK_OK, "k = 0");
  CHECK (c[0] == 1.0f && c[3] == 1.0f, "k = 0 scales C by beta");
  CHECK (tk_gemm_f32 (NULL, 0, 0, 2, 2, 0, 1, a, 1, b, 2, 0.0f, c, 2) == TK_OK && c[1] == 0.0f,
         "beta 0 clears C");
  report ("/gemm/f32/rejects-bad-arguments", before);
}

/* ---- tk_linear ---- */

typedef struct
{
  tk_dtype dtype;
  float scale;
  const char *name;
} wtype;

static const wtype wtypes[] = {
  { TK_DTYPE_F32, 1.0f, "f32" },           { TK_DTYPE_F16, 1.0f, "f16" },
  { TK_DTYPE_BF16, 1.0f, "bf16" },         { TK_DTYPE_F8_E4M3, 0.0037f, "f8-e4m3" },
  { TK_DTYPE_F8_E5M2, 0.021f, "f8-e5m2" },
};

/* A weight [n, k] of the dtype from random values, and its exact F32 value. */
static tk_tensor *
make_weight (const wtype *wt, int64_t n, int64_t k, float **exact)
{
  int64_t shape[2] = { n, k };
  tk_tensor *w = tk_tensor_new (wt->dtype, 2, shape);
  float *src = random_floats ((size_t)(n * k));

  w->scale = wt->dtype == TK_DTYPE_F8_E4M3 || wt->dtype == TK_DTYPE_F8_E5M2 ? wt->scale : 1.0f;
  /* Spread F8 values over most of their range, as a scaled checkpoint does. */
  if (w->scale != 1.0f)
    for (int64_t i = 0; i < n * k; i++)
      src[i] *= w->scale * (wt->dtype == TK_DTYPE_F8_E4M3 ? 400.0f : 50000.0f);
  tk_convert_from_f32 (wt->dtype, src, w->data, (size_t)(n * k), w->scale);
  *exact = malloc ((size_t)(n * k) * sizeof (float));
  tk_tensor_to_f32 (w, *exact);
  free (src);
  return w;
}

static void
linear_reference (int64_t m,
                  const float *x,
                  int64_t ldx,
                  const float *w,
                  int64_t n,
                  int64_t k,
                  const float *bias,
                  float beta,
                  const float *y0,
                  int64_t ldy,
                  double *want,
                  double *mag)
{
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++)
      {
        double s = bias != NULL ? bias[j] : 0.0, g = bias != NULL ? fabs (bias[j]) : 0.0;

        for (int64_t p = 0; p < k; p++)
          {
            s += (double)x[i * ldx + p] * w[j * k + p];
            g += fabs ((double)x[i * ldx + p] * w[j * k + p]);
          }
        if (beta != 0.0f)
          {
            s += beta * (double)y0[i * ldy + j];
            g += fabs (beta * y0[i * ldy + j]);
          }
        want[i * n + j] = s;
        mag[i * n + j] = g;
      }
}

typedef enum
{
  RUN_POOL,
  RUN_SERIAL
} run_mode;

static int
check_linear_case (tk_gemm_ws *ws,
                   tk_pool *pool,
                   run_mode mode,
                   const wtype *wt,
                   int64_t m,
                   int64_t n,
                   int64_t k,
                   int with_bias,
                   float beta,
                   int64_t pad)
{
  int64_t ldx = k + pad, ldy = n + pad;
  float *exact;
  tk_tensor *w = make_weight (wt, n, k, &exact);
  float *x = random_floats ((size_t)(m * ldx));
  float *bias = with_bias ? random_floats ((size_t)n) : NULL;
  float *y = random_floats ((size_t)(m * ldy));
  float *y0 = malloc ((size_t)(m * ldy + 1) * sizeof (float));
  double *want = malloc ((size_t)(m * n + 1) * sizeof (double));
  double *mag = malloc ((size_t)(m * n + 1) * sizeof (double));
  char what[160];
  tk_status st;
  int bad;

  memcpy (y0, y, (size_t)(m * ldy) * sizeof (float));
  linear_reference (m, x, ldx, exact, n, k, bias, beta, y0, ldy, want, mag);
  if (mode == RUN_POOL)
    st = tk_linear (ws, pool, m, x, ldx, w, bias, beta, y, ldy);
  else
    st = tk_linear_serial (ws, tk_gemm_ws_n_slots (ws) - 1, m, x, ldx, w, bias, beta, y, ldy);
  snprintf (what, sizeof what, "linear %s m=%lld n=%lld k=%lld bias=%d beta=%g %s threads=%d", wt->name,
            (long long)m, (long long)n, (long long)k, with_bias, (double)beta,
            mode == RUN_POOL ? "pool" : "serial", tk_pool_size (pool));
  CHECK (st == TK_OK, "%s: status %d", what, st);
  bad = compare (what, y, ldy, want, mag, m, n, k);
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = n; j < ldy; j++)
      bad += y[i * ldy + j] != y0[i * ldy + j];
  CHECK (bad == 0, "%s: %d bad elements", what, bad);
  tk_tensor_free (w);
  free (exact);
  free (x);
  free (bias);
  free (y);
  free (y0);
  free (want);
  free (mag);
  return bad;
}

static void
test_linear_dtypes (void)
{
  static const int64_t sizes[][3]
      = { { 1, 1, 1 }, { 37, 71, 53 }, { 5, 1100, 33 }, { 131, 3, 17 }, { 3, 131, 250 }, { 67, 1100, 40 } };
  tk_pool *pool = tk_pool_new (3);
  tk_gemm_ws *ws = tk_gemm_ws_new (3, 256);

  for (size_t d = 0; d < sizeof wtypes / sizeof wtypes[0]; d++)
    {
      int before = failures;
      char name[96];

      for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int variant = 0; variant < 4; variant++)
          {
            tk_pool *p = variant == 3 ? NULL : pool;
            run_mode mode = variant == 2 ? RUN_SERIAL : RUN_POOL;

            check_linear_case (ws, p, mode, &wtypes[d], sizes[s][0], sizes[s][1], sizes[s][2], variant != 1,
                               variant == 1 ? 0.5f : 0.0f, variant == 0 ? 0 : 3);
          }
      snprintf (name, sizeof name, "/linear/%s/matches-reference-odd-sizes", wtypes[d].name);
      report (name, before);
    }
  tk_gemm_ws_free (ws);
  tk_pool_free (pool);
}

static void
test_linear_model_shapes (void)
{
  /* Wan2.1-1.3B projections (D = 1536, F = 8960) and umT5's (4096, 10240)
   * with few tokens, so the reference loop stays quick. */
  static const struct
  {
    const char *what;
    int64_t m, n, k;
    tk_dtype dtype;
  } shapes[] = {
    { "patch-embedding", 24, 1536, 64, TK_DTYPE_F32 },
    { "self-attn-q", 9, 1536, 1536, TK_DTYPE_BF16 },
    { "ffn-0", 5, 8960, 1536, TK_DTYPE_BF16 },
    { "ffn-2", 3, 1536, 8960, TK_DTYPE_F16 },
    { "time-projection", 1, 9216, 1536, TK_DTYPE_F32 },
    { "text-embedding-0", 7, 1536, 4096, TK_DTYPE_F8_E4M3 },
    { "umt5-ffn-fc1", 2, 10240, 4096, TK_DTYPE_BF16 },
    { "head", 40, 64, 1536, TK_DTYPE_BF16 },
  };
  int before = failures;
  tk_pool *pool = tk_pool_new (2);
  tk_gemm_ws *ws = tk_gemm_ws_new (2, 10240);

  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    {
      wtype wt = { shapes[i].dtype, 0.0021f, shapes[i].what };

      check_linear_case (ws, pool, RUN_POOL, &wt, shapes[i].m, shapes[i].n, shapes[i].k, 1, 0.0f, 0);
    }
  check_linear_case (ws, pool, RUN_SERIAL, &(wtype){ TK_DTYPE_BF16, 1.0f, "serial-ffn-0" }, 2, 8960, 1536, 1,
                     1.0f, 0);
  tk_gemm_ws_free (ws);
  tk_pool_free (pool);
  report ("/linear/model-shapes/wan-1.3b-and-umt5", before);
}

/* Several pool workers each run tk_linear_serial on their own rows with
 * their own slot, as the engine does inside parallel loops. */
typedef struct
{
  tk_gemm_ws *ws;
  const tk_tensor *w;
  const float *x, *bias;
  float *y;
  int64_t k, n;
  atomic_int errors;
} serial_ctx;

static void
serial_rows_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  serial_ctx *ctx = data;

  if (tk_linear_serial (ctx->ws, thread_index, end - start, ctx->x + start * ctx->k, ctx->k, ctx->w,
                        ctx->bias, 0.0f, ctx->y + start * ctx->n, ctx->n)
      != TK_OK)
    atomic_fetch_add (&ctx->errors, 1);
}

static void
test_linear_serial_from_workers (void)
{
  int before = failures;
  int64_t m = 97, n = 203, k = 71;
  tk_pool *pool = tk_pool_new (3);
  tk_gemm_ws *ws = tk_gemm_ws_new (3, k);
  float *exact;
  tk_tensor *w = make_weight (&wtypes[2], n, k, &exact);
  float *x = random_floats ((size_t)(m * k));
  float *bias = random_floats ((size_t)n);
  float *y = malloc ((size_t)(m * n) * sizeof (float));
  double *want = malloc ((size_t)(m * n) * sizeof (double));
  double *mag = malloc ((size_t)(m * n) * sizeof (double));
  serial_ctx ctx = { ws, w, x, bias, y, k, n, 0 };

  linear_reference (m, x, k, exact, n, k, bias, 0.0f, NULL, n, want, mag);
  tk_pool_parallel_for (pool, m, 1, serial_rows_cb, &ctx);
  CHECK (atomic_load (&ctx.errors) == 0, "serial calls failed");
  CHECK (compare ("serial from workers", y, n, want, mag, m, n, k) == 0, "values");
  CHECK (tk_linear_serial (ws, 3, m, x, k, w, bias, 0.0f, y, n) == TK_ERR_INVALID, "slot out of range");
  CHECK (tk_linear_serial (ws, -1, m, x, k, w, bias, 0.0f, y, n) == TK_ERR_INVALID, "negative slot");
  tk_tensor_free (w);
  free (exact);
  free (x);
  free (bias);
  free (y);
  free (want);
  free (mag);
  tk_gemm_ws_free (ws);
  tk_pool_free (pool);
  report ("/linear/serial/one-slot-per-worker", before);
}

/* A stand-in for cblas_sbgemm: BF16 inputs, double accumulation. */
static atomic_int fake_calls;

static void
fake_sbgemm (int order,
             int trans_a,
             int trans_b,
             int m,
             int n,
             int k,
             float alpha,
             const uint16_t *a,
             int lda,
             const uint16_t *b,
             int ldb,
             float beta,
             float *c,
             int ldc)
{
  atomic_fetch_add (&fake_calls, 1);
  if (order != 101)
    abort ();
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++)
      {
        double s = 0.0;

        for (int p = 0; p < k; p++)
          {
            float av = tk_bf16_to_f32 (trans_a == 112 ? a[p * lda + i] : a[i * lda + p]);
            float bv = tk_bf16_to_f32 (trans_b == 112 ? b[j * ldb + p] : b[p * ldb + j]);
            s += (double)av * bv;
          }
        c[i * ldc + j] = (float)(alpha * s + (beta != 0.0f ? beta * (double)c[i * ldc + j] : 0.0));
      }
}

static void
test_linear_sbgemm_hook (void)
{
  int before = failures;
  int64_t m = 101, n = 77, k = 300;
  tk_pool *pool = tk_pool_new (2);
  tk_gemm_ws *ws = tk_gemm_ws_new (2, k);
  float *exact;
  tk_tensor *w = make_weight (&wtypes[2], n, k, &exact);
  float *x = random_floats ((size_t)(m * k));
  float *xr = malloc ((size_t)(m * k) * sizeof (float));
  float *bias = random_floats ((size_t)n);
  float *y = random_floats ((size_t)(m * n));
  float *y0 = malloc ((size_t)(m * n) * sizeof (float));
  double *want = malloc ((size_t)(m * n) * sizeof (double));
  double *mag = malloc ((size_t)(m * n) * sizeof (double));
  tk_sbgemm_fn previous;

  /* With the BF16 GEMM, x is rounded to BF16 first: the reference too. */
  for (int64_t i = 0; i < m * k; i++)
    xr[i] = tk_bf16_to_f32 (tk_f32_to_bf16 (x[i]));
  memcpy (y0, y, (size_t)(m * n) * sizeof (float));
  linear_reference (m, xr, k, exact, n, k, bias, 0.25f, y0, n, want, mag);

  previous = tk_gemm_set_sbgemm (fake_sbgemm);
  CHECK (tk_gemm_have_sbgemm (), "hook installed");
  CHECK (tk_linear (ws, pool, m, x, k, w, bias, 0.25f, y, n) == TK_OK, "pool status");
  CHECK (atomic_load (&fake_calls) > 0, "BF16 GEMM used for a BF16 weight");
  CHECK (compare ("sbgemm pool", y, n, want, mag, m, n, k) == 0, "pool values");

  memcpy (y, y0, (size_t)(m * n) * sizeof (float));
  atomic_store (&fake_calls, 0);
  CHECK (tk_linear_serial (ws, 1, m, x, k, w, bias, 0.25f, y, n) == TK_OK, "serial status");
  CHECK (atomic_load (&fake_calls) > 0, "BF16 GEMM used serially");
  CHECK (compare ("sbgemm serial", y, n, want, mag, m, n, k) == 0, "serial values");

  /* Other dtypes never go through it. */
  atomic_store (&fake_calls, 0);
  tk_tensor_free (w);
  free (exact);
  w = make_weight (&wtypes[1], n, k, &exact);
  tk_linear (ws, pool, m, x, k, w, NULL, 0.0f, y, n);
  CHECK (atomic_load (&fake_calls) == 0, "F16 weight did not use the BF16 GEMM");

  CHECK (tk_gemm_set_sbgemm (previous) == fake_sbgemm, "hook returned");
  tk_tensor_free (w);
  free (exact);
  free (x);
  free (xr);
  free (bias);
  free (y);
  free (y0);
  free (want);
  free (mag);
  tk_gemm_ws_free (ws);
  tk_pool_free (pool);
  report ("/linear/bf16/uses-sbgemm-hook-with-bf16-activations", before);
}

static void
test_linear_bad_arguments (void)
{
  int before = failures;
  tk_gemm_ws *ws = tk_gemm_ws_new (1, 8);
  float x[64] = { 0 }, y[64] = { 0 };
  int64_t shape[2] = { 4, 8 }, big[2] = { 4, 9 }, one[1] = { 8 }, tshape[2] = { 8, 4 }, tstr[2] = { 1, 8 };
  tk_tensor *w = tk_tensor_new (TK_DTYPE_BF16, 2, shape);
  tk_tensor *wide = tk_tensor_new (TK_DTYPE_F32, 2, big);
  tk_tensor *vec = tk_tensor_new (TK_DTYPE_F32, 1, one);
  tk_tensor *ints = tk_tensor_new (TK_DTYPE_I32, 2, shape);
  tk_tensor *trans = tk_tensor_view (TK_DTYPE_F32, x, 2, tshape, tstr);

  CHECK (tk_linear (ws, NULL, 2, x, 8, w, NULL, 0, y, 4) == TK_OK, "valid call");
  CHECK (tk_linear (ws, NULL, 2, x, 9, wide, NULL, 0, y, 4) == TK_ERR_INVALID, "k beyond max_k");
  CHECK (tk_linear (ws, NULL, 2, x, 7, w, NULL, 0, y, 4) == TK_ERR_INVALID, "ldx < k");
  CHECK (tk_linear (ws, NULL, 2, x, 8, w, NULL, 0, y, 3) == TK_ERR_INVALID, "ldy < n");
  CHECK (tk_linear (ws, NULL, 2, x, 8, vec, NULL, 0, y, 4) == TK_ERR_INVALID, "1-D weight");
  CHECK (tk_linear (ws, NULL, 2, x, 8, ints, NULL, 0, y, 4) == TK_ERR_INVALID, "integer weight");
  CHECK (tk_linear (ws, NULL, 2, x, 8, trans, NULL, 0, y, 8) == TK_ERR_INVALID, "non-contiguous weight");
  CHECK (tk_linear (NULL, NULL, 2, x, 8, w, NULL, 0, y, 4) == TK_ERR_INVALID, "no workspace");
  CHECK (tk_linear (ws, NULL, 2, NULL, 8, w, NULL, 0, y, 4) == TK_ERR_INVALID, "NULL x");
  CHECK (tk_linear (ws, NULL, 0, NULL, 8, w, NULL, 0, NULL, 4) == TK_OK, "no rows");
  CHECK (tk_gemm_ws_new (0, 8) == NULL && tk_gemm_ws_new (1, 0) == NULL, "bad workspace sizes");
  CHECK (tk_gemm_ws_max_k (ws) == 8 && tk_gemm_ws_n_slots (ws) == 1, "workspace accessors");
  tk_tensor_free (w);
  tk_tensor_free (wide);
  tk_tensor_free (vec);
  tk_tensor_free (ints);
  tk_tensor_free (trans);
  tk_gemm_ws_free (ws);
  tk_gemm_ws_free (NULL);
  report ("/linear/rejects-bad-arguments", before);
}

/* Threads of this process from /proc (Linux), or 0 where unknown. */
static int
process_threads (void)
{
  FILE *f = fopen ("/proc/self/status", "r");
  char line[256];
  int n = 0;

  if (f == NULL)
    return 0;
  while (fgets (line, sizeof line, f) != NULL)
    if (sscanf (line, "Threads: %d", &n) == 1)
      break;
  fclose (f);
  return n;
}

static void
test_blas_single_threaded (void)
{
  int before = failures;
  void *get = dlsym (RTLD_DEFAULT, "openblas_get_num_threads");
  void *set = dlsym (RTLD_DEFAULT, "openblas_set_num_threads");

  if (get == NULL || set == NULL)
    {
      n_test++;
      printf ("ok %d - /gemm/blas/single-threaded # SKIP the BLAS is not OpenBLAS\n", n_test);
      return;
    }
  {
    int (*get_fn) (void);
    void (*set_fn) (int);
    float a[4] = { 1, 2, 3, 4 }, c[4];

    memcpy (&get_fn, &get, sizeof get);
    memcpy (&set_fn, &set, sizeof set);
    set_fn (2);
    tk_blas_single_threaded ();
    CHECK (get_fn () == 1, "tk_blas_single_threaded left %d threads", get_fn ());
    set_fn (2);
    tk_gemm_f32 (NULL, 0, 0, 2, 2, 2, 1, a, 2, a, 2, 0, c, 2);
    CHECK (get_fn () == 1, "tk_gemm_f32 left %d threads", get_fn ());
    CHECK (c[0] == 7.0f && c[3] == 22.0f, "2x2 product");
    CHECK (tk_gemm_get_threading () == TK_GEMM_THREADS_POOL, "the pool splits products by default");

    /* A parallel product in BLAS mode borrows OpenBLAS's threads and gives
     * them back: OpenBLAS is single-threaded again and its workers are gone
     * (so none spins while the pool works), whatever mode runs next. */
    {
      int64_t n = 300;
      float *x = random_floats ((size_t)(n * n));
      float *y = malloc ((size_t)(n * n) * sizeof (float));
      tk_pool *pool = tk_pool_new (2);
      int threads_before = process_threads ();
      /* OpenBLAS's pthread server started blas_num_threads - 1 workers at
       * load; all of them must be gone after a BLAS-mode product. */
      const int *server_up = dlsym (RTLD_DEFAULT, "blas_server_avail");
      const int *server_threads = dlsym (RTLD_DEFAULT, "blas_num_threads");
      int blas_workers = server_up != NULL && server_threads != NULL && *server_up ? *server_threads - 1 : 0;

      for (int mode = 0; mode < 2; mode++)
        {
          tk_gemm_set_threading (mode == 0 ? TK_GEMM_THREADS_BLAS : TK_GEMM_THREADS_POOL);
          CHECK (tk_gemm_f32 (pool, 0, 1, n, n, n, 1.0f, x, n, x, n, 0.0f, y, n) == TK_OK,
                 "parallel product");
          CHECK (get_fn () == 1, "a parallel product left %d OpenBLAS threads", get_fn ());
          if (threads_before > 0)
            CHECK (process_threads () == threads_before - blas_workers,
                   "%d threads after a product in mode %d, %d before of which %d OpenBLAS's",
                   process_threads (), mode, threads_before, blas_workers);
        }
      tk_gemm_set_threading (TK_GEMM_THREADS_POOL);
      tk_pool_free (pool);
      free (x);
      free (y);
    }
  }
  report ("/gemm/blas/single-threaded", before);
}

/* The rows of x that change which product runs: the weight streamed row by
 * row for up to 16 rows of x (AVX-512), the blocked product from 17 rows
 * on (AVX-512, pool mode), x packed 1024 rows at a time. The few-rows tests try
 * each instruction set the CPU has, so the paths without AVX-512 stay
 * checked too. */
static const tk_isa isas[] = { TK_ISA_PORTABLE, TK_ISA_AVX2, TK_ISA_AVX512 };

/* On the active instruction set only: below AVX-512 these rows take the
 * split cblas path, which the odd-size tests cover. */
static void
test_linear_blocked_f32 (void)
{
  /* k around and beyond the 256-column block, n around the 48-column panel
   * and the 384-row task, m around the 8-row panel and across the 1024-row
   * blocks of packed x. */
  static const int64_t sizes[][3]
      = { { 17, 49, 257 }, { 23, 389, 300 }, { 131, 97, 7 },  { 512, 53, 131 }, { 37, 1100, 33 },
          { 61, 47, 769 }, { 8, 48, 256 },   { 513, 29, 31 }, { 512, 389, 17 }, { 19, 1, 5 },
          { 29, 773, 1 },  { 1024, 50, 40 }, { 1025, 97, 3 }, { 2100, 61, 263 } };
  tk_pool *pool2 = tk_pool_new (2), *pool3 = tk_pool_new (3);
  tk_gemm_ws *ws = tk_gemm_ws_new (3, 1024);

  /* Every dtype: narrow weights are converted a panel at a time. */
  for (size_t d = 0; d < sizeof wtypes / sizeof wtypes[0]; d++)
    {
      int before = failures;
      char name[96];

      for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int variant = 0; variant < 3; variant++)
          check_linear_case (ws, variant == 1 ? pool3 : pool2, RUN_POOL, &wtypes[d], sizes[s][0], sizes[s][1],
                             sizes[s][2], variant != 2, variant == 2 ? 0.5f : 0.0f, variant == 1 ? 5 : 0);
      snprintf (name, sizeof name, "/linear/%s/blocked-rows-17-to-2100-match-reference/%s", wtypes[d].name,
                tk_isa_name (tk_isa_active ()));
      report (name, before);
    }
  tk_gemm_ws_free (ws);
  tk_pool_free (pool2);
  tk_pool_free (pool3);
}

static void
test_linear_few_rows (void)
{
  static const int64_t rows[] = { 1, 2, 3, 5, 7, 16 };
  /* k below, at and past one 16-lane (and 32-weight BF16) step, and a long
   * odd one; n not a multiple of the 4-row tile. */
  static const int64_t shapes[][2] = { { 1, 1 }, { 3, 15 }, { 5, 16 }, { 13, 17 }, { 389, 33 }, { 7, 1537 } };
  tk_isa active = tk_isa_active ();
  tk_pool *pool = tk_pool_new (2);
  tk_gemm_ws *ws = tk_gemm_ws_new (2, 1537);

  for (size_t i = 0; i < sizeof isas / sizeof isas[0]; i++)
    {
      if (isas[i] > active)
        continue;
      tk_isa_force (isas[i]);
      for (size_t d = 0; d < sizeof wtypes / sizeof wtypes[0]; d++)
        {
          int before = failures;
          char name[128];

          for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
              {
                int variant = (int)((r + s) % 4);

                check_linear_case (ws, variant == 3 ? NULL : pool, variant == 2 ? RUN_SERIAL : RUN_POOL,
                                   &wtypes[d], rows[r], shapes[s][0], shapes[s][1], variant != 1,
                                   variant == 1 ? 0.5f : 0.0f, variant == 0 ? 0 : 3);
              }
          snprintf (name, sizeof name, "/linear/%s/rows-1-to-16-match-reference/%s", wtypes[d].name,
                    tk_isa_name (isas[i]));
          report (name, before);
        }
    }
  tk_isa_force (active);
  tk_gemm_ws_free (ws);
  tk_pool_free (pool);
}

/* A NaN weight (E4M3's 0x7F, F32's NaN) makes its output column NaN and
 * leaves the others finite, on every path. */
static void
test_linear_nan_weight (void)
{
  static const int64_t rows[] = { 1, 7, 40 };
  int before = failures;
  tk_pool *pool = tk_pool_new (2);
  tk_gemm_ws *ws = tk_gemm_ws_new (2, 70);
  int64_t n = 9, k = 70, shape[2] = { n, k };
  float x[40 * 70], y[40 * 9];

  for (int64_t i = 0; i < 40 * k; i++)
    x[i] = rng_uniform ();
  for (int d = 0; d < 2; d++)
    {
      tk_tensor *w = tk_tensor_new (d == 0 ? TK_DTYPE_F32 : TK_DTYPE_F8_E4M3, 2, shape);

      w->scale = d == 0 ? 1.0f : 0.01f;
      for (int64_t i = 0; i < n * k; i++)
        {
          if (d == 0)
            ((float *)w->data)[i] = i == 4 * k + 33 ? NAN : 0.25f;
          else
            ((uint8_t *)w->data)[i] = i == 4 * k + 33 ? 0x7F : 0x30;
        }
      for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++)
        {
          int64_t m = rows[r];

          CHECK (tk_linear (ws, pool, m, x, k, w, NULL, 0.0f, y, n) == TK_OK, "status");
          for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++)
              CHECK (j == 4 ? isnan (y[i * n + j]) : isfinite (y[i * n + j]),
                     "dtype %d m=%lld y[%lld, %lld] = %g", d, (long long)m, (long long)i, (long long)j,
                     (double)y[i * n + j]);
        }
      tk_tensor_free (w);
    }
  tk_gemm_ws_free (ws);
  tk_pool_free (pool);
  report ("/linear/nan-weight-gives-nan-column", before);
}

int
main (void)
{
  printf ("TAP version 13\n");
  test_gemm_bad_arguments ();
  test_blas_single_threaded ();
  test_linear_serial_from_workers ();
  test_linear_bad_arguments ();
  test_linear_model_shapes ();
  test_linear_blocked_f32 ();
  test_linear_few_rows ();
  test_linear_nan_weight ();
  /* Both ways of using the cores give the reference result. */
  for (int mode = 0; mode < 2; mode++)
    {
      tk_gemm_set_threading (mode == 0 ? TK_GEMM_THREADS_BLAS : TK_GEMM_THREADS_POOL);
      mode_suffix = mode == 0 ? "/blas-threads" : "/pool-split";
      test_gemm_f32 ();
      test_linear_dtypes ();
      test_linear_sbgemm_hook ();
    }
  tk_gemm_set_threading (TK_GEMM_THREADS_POOL);
  mode_suffix = "";
  printf ("1..%d\n", n_test);
  return failures == 0 ? 0 : 1;
}
