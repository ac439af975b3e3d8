/* Tests of tk_attention against a plain softmax (QKᵀ) V computed in double,
 * on every instruction set the CPU has.
 *
 * Tolerance (F32 in and out, values of order one): 2e-5 absolute on the
 * outputs, 5e-5 where a bias adds to the logits, 1e-3 for logits in the
 * hundreds (their float rounding alone is about 1e-5 relative). */
#include "tk-attention.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk-test.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static float
uniform (void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return (float)((double)(rng_state >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
}

static float *
random_floats (int64_t n, float amplitude)
{
  float *x = malloc ((size_t)(n > 0 ? n : 1) * sizeof (float));

  for (int64_t i = 0; i < n; i++)
    x[i] = amplitude * uniform ();
  return x;
}

/* A dense bias [heads][lq][lk] handed out through the callback. */
typedef struct
{
  const float *bias;
  int64_t lq, lk;
  int calls_out_of_range;
} dense_bias;

static void
dense_bias_cb (void *user_data,
               int head,
               int64_t q0,
               int64_t nq,
               const int64_t *keys,
               int64_t nk,
               float *bias,
               int64_t ld)
{
  dense_bias *db = user_data;

  for (int64_t i = 0; i < nq; i++)
    for (int64_t j = 0; j < nk; j++)
      {
        if (q0 + i >= db->lq || keys[j] >= db->lk || keys[j] < 0)
          {
            db->calls_out_of_range++;
            continue;
          }
        bias[i * ld + j] = db->bias[((int64_t)head * db->lq + q0 + i) * db->lk + keys[j]];
      }
}

/* The plain definition, in double. */
static void
reference (const tk_attention_args *a, const float *dense, double *out)
{
  int64_t d = a->head_dim;
  double scale = a->scale != 0.0f ? a->scale : 1.0 / sqrt ((double)d);
  double *s = malloc ((size_t)(a->lk > 0 ? a->lk : 1) * sizeof (double));

  for (int h = 0; h < a->heads; h++)
    for (int64_t i = 0; i < a->lq; i++)
      {
        const float *q = a->q + i * a->ldq + h * d;
        double mx = -INFINITY, sum = 0.0;
        double *o = out + (i * a->heads + h) * d;

        for (int64_t j = 0; j < a->lk; j++)
          {
            const float *k = a->k + j * a->ldk + h * d;
            double dot = 0.0;

            if (a->key_mask != NULL && a->key_mask[j] == 0)
              continue;
            for (int64_t c = 0; c < d; c++)
              dot += (double)q[c] * k[c];
            s[j] = dot * scale;
            if (a->rel_table != NULL)
              s[j] += a->rel_table[a->rel_buckets[j - i + a->lq - 1] * a->rel_bucket_stride
                                   + h * a->rel_head_stride];
            if (dense != NULL)
              s[j] += dense[((int64_t)h * a->lq + i) * a->lk + j];
            mx = s[j] > mx ? s[j] : mx;
          }
        for (int64_t c = 0; c < d; c++)
          o[c] = 0.0;
        for (int64_t j = 0; j < a->lk; j++)
          {
            const float *v = a->v + j * a->ldv + h * d;
            double p;

            if (a->key_mask != NULL && a->key_mask[j] == 0)
              continue;
            p = exp (s[j] - mx);
            sum += p;
            for (int64_t c = 0; c < d; c++)
              o[c] += p * v[c];
          }
        for (int64_t c = 0; c < d; c++)
          o[c] = sum > 0.0 ? o[c] / sum : 0.0;
      }
  free (s);
}

/* Largest |out - ref| over the output. */
static double
max_error (const tk_attention_args *a, const double *ref)
{
  double worst = 0.0;
  int64_t d = a->head_dim;

  for (int64_t i = 0; i < a->lq; i++)
    for (int h = 0; h < a->heads; h++)
      for (int64_t c = 0; c < d; c++)
        {
          double e = fabs ((double)a->out[i * a->ldo + h * d + c] - ref[(i * a->heads + h) * d + c]);

          if (!(e <= worst))
            worst = isnan (e) ? INFINITY : e;
        }
  return worst;
}

typedef struct
{
  int64_t lq, lk;
  int heads, head_dim;
  float amplitude; /* of q and k */
  int mask;        /* 0 none, 1 random, 2 prefix of valid keys, 3 none valid */
  int dense_bias;
  int t5_bias;
  float scale;
  int64_t pad; /* extra floats per row of every operand */
} attn_case;

static const tk_isa isas[] = { TK_ISA_PORTABLE, TK_ISA_AVX2, TK_ISA_AVX512 };

/* Runs one case with 1 and 2 threads on every instruction set the CPU has
 * (all_isas) or with 2 threads on the active one; returns the largest error
 * seen. */
static double
run_case (const attn_case *tc, int all_isas, tk_pool *pool2)
{
  int64_t width = (int64_t)tc->heads * tc->head_dim;
  int64_t ld = width + tc->pad;
  float *q = random_floats (tc->lq * ld, tc->amplitude);
  float *k = random_floats (tc->lk * ld, tc->amplitude);
  float *v = random_floats (tc->lk * ld, 1.0f);
  float *out = malloc ((size_t)(tc->lq * ld) * sizeof (float));
  double *ref = malloc ((size_t)(tc->lq * width) * sizeof (double));
  uint8_t *mask = NULL;
  float *dense = NULL, *table = NULL;
  int32_t *buckets = NULL;
  dense_bias db = { 0 };
  tk_attention_args a;
  tk_attention_ws *ws = tk_attention_ws_new (2, tc->lq, tc->lk, tc->heads, tc->head_dim);
  double worst = 0.0;
  tk_isa active = tk_isa_active ();

  tk_attention_args_init (&a);
  a.lq = tc->lq;
  a.lk = tc->lk;
  a.heads = tc->heads;
  a.head_dim = tc->head_dim;
  a.q = q;
  a.k = k;
  a.v = v;
  a.out = out;
  a.ldq = a.ldk = a.ldv = a.ldo = ld;
  a.scale = tc->scale;
  if (tc->mask != 0)
    {
      int64_t n_valid = tc->lk / 3 + 1;

      mask = malloc ((size_t)tc->lk);
      for (int64_t j = 0; j < tc->lk; j++)
        {
          if (tc->mask == 1)
            mask[j] = uniform () > 0.0f;
          else
            mask[j] = tc->mask == 2 && j < n_valid;
        }
      a.key_mask = mask;
    }
  if (tc->dense_bias)
    {
      dense = random_floats ((int64_t)tc->heads * tc->lq * tc->lk, 2.0f);
      db.bias = dense;
      db.lq = tc->lq;
      db.lk = tc->lk;
      a.bias_fn = dense_bias_cb;
      a.bias_data = &db;
    }
  if (tc->t5_bias)
    {
      table = random_floats (32 * (int64_t)tc->heads, 3.0f);
      buckets = malloc ((size_t)(tc->lq + tc->lk - 1) * sizeof (int32_t));
      CHECK (tk_attention_t5_buckets (tc->lq, tc->lk, 32, 128, buckets) == TK_OK, "buckets");
      a.rel_table = table;
      a.rel_buckets = buckets;
      a.rel_n_buckets = 32;
      a.rel_bucket_stride = tc->heads;
      a.rel_head_stride = 1;
    }
  CHECK (ws != NULL, "workspace");
  reference (&a, dense, ref);

  for (size_t s = 0; s < sizeof isas / sizeof isas[0] && ws != NULL; s++)
    {
      if (all_isas ? isas[s] > active : isas[s] != active)
        continue;
      tk_isa_force (isas[s]);
      for (int threads = all_isas ? 1 : 2; threads <= 2; threads++)
        {
          double e;

          for (int64_t x = 0; x < tc->lq * ld; x++)
            out[x] = NAN;
          CHECK (tk_attention_forward (ws, threads == 1 ? NULL : pool2, &a) == TK_OK, "forward");
          e = max_error (&a, ref);
          if (e > worst)
            worst = e;
          /* The padding after each output row is left alone. */
          for (int64_t i = 0; i < tc->lq && tc->pad > 0; i++)
            CHECK (isnan (out[i * ld + width]), "wrote past the row at query %lld", (long long)i);
        }
    }
  tk_isa_force (active);
  CHECK (db.calls_out_of_range == 0, "callback asked for %d positions out of range", db.calls_out_of_range);
  tk_attention_ws_free (ws);
  free (q);
  free (k);
  free (v);
  free (out);
  free (ref);
  free (mask);
  free (dense);
  free (table);
  free (buckets);
  return worst;
}

static void
check_cases (
    const char *name, const attn_case *cases, size_t n, double tolerance, int all_isas, tk_pool *pool2)
{
  int before = failures;

  for (size_t i = 0; i < n; i++)
    {
      double e = run_case (&cases[i], all_isas, pool2);

      CHECK (e <= tolerance, "lq %lld lk %lld heads %d d %d: max error %g > %g", (long long)cases[i].lq,
             (long long)cases[i].lk, cases[i].heads, cases[i].head_dim, e, tolerance);
    }
  report (name, before);
}

static void
test_odd_sizes (tk_pool *pool2)
{
  static const attn_case cases[] = {
    { 1, 1, 1, 1, 1.0f, 0, 0, 0, 0.0f, 0 },      { 1, 7, 2, 3, 1.0f, 0, 0, 0, 0.0f, 0 },
    { 7, 13, 3, 5, 1.0f, 0, 0, 0, 0.0f, 0 },     { 97, 101, 2, 17, 1.0f, 0, 0, 0, 0.0f, 0 },
    { 95, 255, 1, 8, 1.0f, 0, 0, 0, 0.0f, 0 },   { 97, 257, 1, 9, 1.0f, 0, 0, 0, 0.0f, 0 },
    { 193, 300, 2, 31, 1.0f, 0, 0, 0, 0.0f, 0 }, { 50, 513, 1, 47, 1.0f, 0, 0, 0, 0.0f, 3 },
  };

  check_cases ("/attention/matches-reference/odd-and-prime-sizes", cases, sizeof cases / sizeof cases[0],
               2e-5, 1, pool2);
}

static void
test_real_head_dims (tk_pool *pool2)
{
  /* DiT heads (128) over one latent frame of a 240×416 clip (15 × 26
   * tokens), and umT5 heads (64) over 160 tokens, on the active instruction
   * set (the odd sizes cover every set). */
  static const attn_case cases[] = {
    { 390, 390, 2, 128, 1.0f, 0, 0, 0, 0.0f, 0 },
    { 160, 160, 4, 64, 1.0f, 0, 0, 0, 0.0f, 0 },
  };

  check_cases ("/attention/matches-reference/real-head-dims", cases, sizeof cases / sizeof cases[0], 2e-5, 0,
               pool2);
}

static void
test_cross_attention (tk_pool *pool2)
{
  /* Video queries against the 512 text tokens, and the reverse shape. */
  static const attn_case cases[] = {
    { 300, 512, 2, 128, 1.0f, 0, 0, 0, 0.0f, 5 },
    { 3, 1001, 2, 128, 1.0f, 0, 0, 0, 0.0f, 0 },
  };

  check_cases ("/attention/cross-attention", cases, sizeof cases / sizeof cases[0], 2e-5, 0, pool2);
}

static void
test_key_mask (tk_pool *pool2)
{
  static const attn_case cases[] = {
    { 101, 299, 2, 32, 1.0f, 1, 0, 0, 0.0f, 0 },
    { 97, 512, 2, 64, 1.0f, 2, 0, 0, 0.0f, 0 },
    { 20, 30, 2, 16, 1.0f, 3, 0, 0, 0.0f, 2 },
  };

  check_cases ("/attention/key-mask", cases, sizeof cases / sizeof cases[0], 2e-5, 1, pool2);
}

static void
test_umt5_bias_no_scale (tk_pool *pool2)
{
  /* umT5: scale 1, relative bias per head, the padding masked; q and k kept
   * small as in the trained model so the unscaled logits stay moderate. */
  static const attn_case cases[] = {
    { 200, 200, 4, 64, 0.3f, 2, 0, 1, 1.0f, 0 },
    { 37, 37, 3, 64, 0.3f, 0, 0, 1, 1.0f, 0 },
    { 131, 260, 2, 64, 0.3f, 1, 0, 1, 1.0f, 0 },
  };

  check_cases ("/attention/umt5-relative-bias-no-scale", cases, sizeof cases / sizeof cases[0], 5e-5, 1,
               pool2);
}

static void
test_bias_callback (tk_pool *pool2)
{
  static const attn_case cases[] = {
    { 150, 270, 2, 24, 1.0f, 0, 1, 0, 0.0f, 0 },
    { 99, 300, 3, 16, 1.0f, 1, 1, 1, 0.5f, 0 },
  };

  check_cases ("/attention/bias-callback", cases, sizeof cases / sizeof cases[0], 5e-5, 1, pool2);
}

static void
test_large_logits (tk_pool *pool2)
{
  /* Logits in the hundreds: the running maximum must keep exp in range. */
  static const attn_case cases[] = {
    { 120, 600, 1, 64, 6.0f, 0, 0, 0, 1.0f, 0 },
  };
  int before = failures;
  double e = run_case (&cases[0], 1, pool2);

  CHECK (e <= 1e-3, "max error %g", e);
  report ("/attention/large-logits-stay-finite", before);
}

static void
test_t5_buckets (void)
{
  /* Where the bucket changes, for 32 buckets and max distance 128, as
   * computed by the reference implementation (PyTorch, float32 logs). */
  static const int starts[][2] = {
    { -600, 15 }, { -90, 14 }, { -63, 13 }, { -45, 12 }, { -31, 11 }, { -22, 10 }, { -15, 9 }, { -11, 8 },
    { -7, 7 },    { -6, 6 },   { -5, 5 },   { -4, 4 },   { -3, 3 },   { -2, 2 },   { -1, 1 },  { 0, 0 },
    { 1, 17 },    { 2, 18 },   { 3, 19 },   { 4, 20 },   { 5, 21 },   { 6, 22 },   { 7, 23 },  { 8, 24 },
    { 12, 25 },   { 16, 26 },  { 23, 27 },  { 32, 28 },  { 46, 29 },  { 64, 30 },  { 91, 31 },
  };
  int before = failures;
  int32_t *b = malloc (1201 * sizeof (int32_t));
  size_t seg = 0;

  CHECK (tk_attention_t5_buckets (601, 601, 32, 128, b) == TK_OK, "buckets");
  for (int rel = -600; rel <= 600; rel++)
    {
      while (seg + 1 < sizeof starts / sizeof starts[0] && rel >= starts[seg + 1][0])
        seg++;
      CHECK (b[rel + 600] == starts[seg][1], "rel %d: bucket %d, wanted %d", rel, b[rel + 600],
             starts[seg][1]);
    }
  CHECK (tk_attention_t5_buckets (0, 5, 32, 128, b) == TK_ERR_INVALID, "lq 0");
  CHECK (tk_attention_t5_buckets (5, 5, 2, 128, b) == TK_ERR_INVALID, "2 buckets");
  free (b);
  report ("/attention/t5-buckets-match-reference", before);
}

static void
test_fused_qkv_layout (tk_pool *pool2)
{
  /* q, k and v as slices of one [L, 3·D] projection, as a fused QKV layer
   * would leave them, and an output with its own stride. */
  int before = failures;
  int64_t l = 130, heads = 3, d = 40, width = heads * d;
  float *qkv = random_floats (l * 3 * width, 1.0f);
  float *out = malloc ((size_t)(l * (width + 7)) * sizeof (float));
  double *ref = malloc ((size_t)(l * width) * sizeof (double));
  tk_attention_ws *ws = tk_attention_ws_new (2, l, l, (int)heads, (int)d);
  tk_attention_args a;

  tk_attention_args_init (&a);
  a.lq = a.lk = l;
  a.heads = (int)heads;
  a.head_dim = (int)d;
  a.q = qkv;
  a.k = qkv + width;
  a.v = qkv + 2 * width;
  a.ldq = a.ldk = a.ldv = 3 * width;
  a.out = out;
  a.ldo = width + 7;
  reference (&a, NULL, ref);
  CHECK (tk_attention_forward (ws, pool2, &a) == TK_OK, "forward");
  CHECK (max_error (&a, ref) <= 2e-5, "max error %g", max_error (&a, ref));
  tk_attention_ws_free (ws);
  free (qkv);
  free (out);
  free (ref);
  report ("/attention/fused-qkv-strides", before);
}

static void
test_thread_counts_agree (void)
{
  /* Each query tile is computed the same way whoever runs it, so any
   * thread count gives the same bits. */
  int before = failures;
  int64_t lq = 333, lk = 444, heads = 5, d = 32, width = heads * d;
  float *q = random_floats (lq * width, 1.0f), *k = random_floats (lk * width, 1.0f);
  float *v = random_floats (lk * width, 1.0f);
  float *out1 = malloc ((size_t)(lq * width) * sizeof (float));
  float *out3 = malloc ((size_t)(lq * width) * sizeof (float));
  tk_pool *pool3 = tk_pool_new (3);
  tk_attention_ws *ws = tk_attention_ws_new (3, lq, lk, (int)heads, (int)d);
  tk_attention_args a;

  tk_attention_args_init (&a);
  a.lq = lq;
  a.lk = lk;
  a.heads = (int)heads;
  a.head_dim = (int)d;
  a.q = q;
  a.k = k;
  a.v = v;
  a.ldq = a.ldk = a.ldv = a.ldo = width;
  a.out = out1;
  CHECK (tk_attention_forward (ws, NULL, &a) == TK_OK, "one thread");
  a.out = out3;
  CHECK (tk_attention_forward (ws, pool3, &a) == TK_OK, "three threads");
  CHECK (memcmp (out1, out3, (size_t)(lq * width) * sizeof (float)) == 0, "results differ");
  tk_attention_ws_free (ws);
  tk_pool_free (pool3);
  free (q);
  free (k);
  free (v);
  free (out1);
  free (out3);
  report ("/attention/thread-counts-give-same-bits", before);
}

static void
test_rejects_bad_arguments (tk_pool *pool2)
{
  int before = failures;
  float q[64] = { 0 }, k[64] = { 0 }, v[64] = { 0 }, out[64] = { 0 };
  int32_t buckets[7] = { 0, 1, 2, 3, 4, 5, 40 };
  float table[64] = { 0 };
  tk_attention_ws *ws = tk_attention_ws_new (1, 4, 4, 2, 8);
  tk_attention_args a;

  CHECK (tk_attention_ws_new (0, 4, 4, 2, 8) == NULL, "zero threads");
  CHECK (tk_attention_ws_new (1, 4, 4, 0, 8) == NULL, "zero heads");
  CHECK (tk_attention_ws_new (1, 4, -1, 2, 8) == NULL, "negative length");
  tk_attention_args_init (&a);
  a.lq = a.lk = 4;
  a.heads = 2;
  a.head_dim = 8;
  a.q = q;
  a.k = k;
  a.v = v;
  a.out = out;
  a.ldq = a.ldk = a.ldv = a.ldo = 16;
  CHECK (tk_attention_forward (ws, NULL, &a) == TK_OK, "valid call");
  CHECK (tk_attention_forward (ws, pool2, &a) == TK_ERR_INVALID, "pool larger than the workspace");
  a.lq = 5;
  CHECK (tk_attention_forward (ws, NULL, &a) == TK_ERR_INVALID, "lq beyond the workspace");
  a.lq = 4;
  a.ldk = 15;
  CHECK (tk_attention_forward (ws, NULL, &a) == TK_ERR_INVALID, "row stride too small");
  a.ldk = 16;
  a.v = NULL;
  CHECK (tk_attention_forward (ws, NULL, &a) == TK_ERR_INVALID, "no values");
  a.v = v;
  a.head_dim = 4;
  CHECK (tk_attention_forward (ws, NULL, &a) == TK_ERR_INVALID, "head_dim differs from the workspace");
  a.head_dim = 8;
  a.scale = NAN;
  CHECK (tk_attention_forward (ws, NULL, &a) == TK_ERR_INVALID, "NaN scale");
  a.scale = 0.0f;
  a.rel_table = table;
  a.rel_buckets = buckets;
  a.rel_n_buckets = 32;
  a.rel_bucket_stride = 2;
  a.rel_head_stride = 1;
  CHECK (tk_attention_forward (ws, NULL, &a) == TK_ERR_INVALID, "bucket out of range");
  buckets[6] = 31;
  CHECK (tk_attention_forward (ws, NULL, &a) == TK_OK, "buckets in range");
  CHECK (tk_attention_forward (NULL, NULL, &a) == TK_ERR_INVALID, "no workspace");
  tk_attention_ws_free (ws);
  report ("/attention/rejects-bad-arguments", before);
}

int
main (void)
{
  tk_pool *pool2 = tk_pool_new (2);

  printf ("TAP version 13\n");
  test_odd_sizes (pool2);
  test_real_head_dims (pool2);
  test_cross_attention (pool2);
  test_key_mask (pool2);
  test_umt5_bias_no_scale (pool2);
  test_bias_callback (pool2);
  test_large_logits (pool2);
  test_t5_buckets ();
  test_fused_qkv_layout (pool2);
  test_thread_counts_agree ();
  test_rejects_bad_arguments (pool2);
  tk_pool_free (pool2);
  printf ("1..%d\n", n_test);
  return failures == 0 ? 0 : 1;
}
