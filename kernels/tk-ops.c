/* tk-ops.c: norms, activations, softmax and element-wise kernels.
 *
 * Each public function splits its rows over the pool and calls row
 * primitives through a table chosen by tk_isa_active (): AVX-512, AVX2+FMA
 * or portable C. The primitives are the only ISA-specific code.
 */
#include "tk-ops.h"

#include <math.h>
#include <string.h>

#include "tk-convert.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TK_X86 1
#else
#define TK_X86 0
#endif

#define AVX2_TARGET __attribute__ ((target ("avx2,fma,f16c")))
#define AVX512_TARGET __attribute__ ((target ("avx512f,avx512bw,avx512dq,avx512vl,fma,f16c")))

/* Roughly this many floats per parallel piece, so small inputs stay on one
 * thread and large ones split evenly. */
#define PIECE_FLOATS 16384
/* Element-wise loops are split in blocks of this many floats. */
#define ELEM_BLOCK 64
/* Positions per block in the channels-first L2 norm (a stack buffer). */
#define L2_BLOCK 256

typedef struct
{
  float (*sum) (const float *x, int64_t n);
  float (*sumsq_centered) (const float *x, int64_t n, float mean);
  float (*sumsq) (const float *x, int64_t n);
  float (*max) (const float *x, int64_t n);
  /* y = exp(x − sub); returns the sum of y. */
  float (*exp_sub_sum) (const float *x, float *y, int64_t n, float sub);
  /* y = (x − mean)·rstd, then × gamma, + beta when non-NULL. */
  void (*norm_affine) (
      const float *x, float *y, int64_t n, float mean, float rstd, const float *gamma, const float *beta);
  /* y = ((x − mean)·rstd)·(1 + scale) + shift. */
  void (*norm_modulate) (
      const float *x, float *y, int64_t n, float mean, float rstd, const float *shift, const float *scale);
  /* y = (x·r)·(wscale·w), or (x·r)·wscale for a NULL w. */
  void (*mul_apply) (const float *x, float *y, int64_t n, float r, const float *w, float wscale);
  /* acc += x·x */
  void (*sq_acc) (float *acc, const float *x, int64_t n);
  /* y = (x·v)·s */
  void (*mul_vec_scalar) (const float *x, const float *v, float *y, int64_t n, float s);
  void (*silu) (const float *x, float *y, int64_t n);
  void (*gelu) (const float *x, float *y, int64_t n);
  void (*add) (const float *a, const float *b, float *y, int64_t n);
  void (*mul) (const float *a, const float *b, float *y, int64_t n);
  /* y = x·(1 + scale) + shift */
  void (*modulate) (const float *x, float *y, int64_t n, const float *shift, const float *scale);
  /* x += y·gate */
  void (*gated) (float *x, const float *y, const float *gate, int64_t n);
} ops_table;

/* ---- portable primitives ---- */

static float
p_sum (const float *x, int64_t n)
{
  float acc[8] = { 0 };
  int64_t i = 0;
  float s = 0.0f;

  /* Eight partial sums keep the error close to the vector paths'. */
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      acc[j] += x[i + j];
  for (; i < n; i++)
    s += x[i];
  for (int j = 0; j < 8; j++)
    s += acc[j];
  return s;
}

static float
p_sumsq_centered (const float *x, int64_t n, float mean)
{
  float acc[8] = { 0 };
  int64_t i = 0;
  float s = 0.0f;

  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      {
        float d = x[i + j] - mean;
        acc[j] += d * d;
      }
  for (; i < n; i++)
    s += (x[i] - mean) * (x[i] - mean);
  for (int j = 0; j < 8; j++)
    s += acc[j];
  return s;
}

static float
p_sumsq (const float *x, int64_t n)
{
  return p_sumsq_centered (x, n, 0.0f);
}

static float
p_max (const float *x, int64_t n)
{
  float m = -INFINITY;

  for (int64_t i = 0; i < n; i++)
    if (x[i] > m)
      m = x[i];
  return m;
}

static float
p_exp_sub_sum (const float *x, float *y, int64_t n, float sub)
{
  float acc[8] = { 0 };
  int64_t i = 0;
  float s = 0.0f;

  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++)
      {
        y[i + j] = expf (x[i + j] - sub);
        acc[j] += y[i + j];
      }
  for (; i < n; i++)
    {
      y[i] = expf (x[i] - sub);
      s += y[i];
    }
  for (int j = 0; j < 8; j++)
    s += acc[j];
  return s;
}

static void
p_norm_affine (
    const float *x, float *y, int64_t n, float mean, float rstd, const float *gamma, const float *beta)
{
  for (int64_t i = 0; i < n; i++)
    {
      float v = (x[i] - mean) * rstd;

      if (gamma != NULL)
        v = v * gamma[i];
      if (beta != NULL)
        v = v + beta[i];
      y[i] = v;
    }
}

static void
p_norm_modulate (
    const float *x, float *y, int64_t n, float mean, float rstd, const float *shift, const float *scale)
{
  for (int64_t i = 0; i < n; i++)
    y[i] = ((x[i] - mean) * rstd) * (1.0f + scale[i]) + shift[i];
}

static void
p_mul_apply (const float *x, float *y, int64_t n, float r, const float *w, float wscale)
{
  if (w == NULL)
    for (int64_t i = 0; i < n; i++)
      y[i] = (x[i] * r) * wscale;
  else
    for (int64_t i = 0; i < n; i++)
      y[i] = (x[i] * r) * (wscale * w[i]);
}

static void
p_sq_acc (float *acc, const float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    acc[i] += x[i] * x[i];
}

static void
p_mul_vec_scalar (const float *x, const float *v, float *y, int64_t n, float s)
{
  for (int64_t i = 0; i < n; i++)
    y[i] = (x[i] * v[i]) * s;
}

static void
p_silu (const float *x, float *y, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    y[i] = x[i] / (1.0f + expf (-x[i]));
}

#define GELU_K0 0.7978845608028654f /* sqrt(2/π) */
#define GELU_K1 0.044715f

static void
p_gelu (const float *x, float *y, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    {
      float v = x[i];
      float u = GELU_K0 * (v + GELU_K1 * v * v * v);

      y[i] = v / (1.0f + expf (-2.0f * u));
    }
}

static void
p_add (const float *a, const float *b, float *y, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    y[i] = a[i] + b[i];
}

static void
p_mul (const float *a, const float *b, float *y, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    y[i] = a[i] * b[i];
}

static void
p_modulate (const float *x, float *y, int64_t n, const float *shift, const float *scale)
{
  for (int64_t i = 0; i < n; i++)
    y[i] = x[i] * (1.0f + scale[i]) + shift[i];
}

static void
p_gated (float *x, const float *y, const float *gate, int64_t n)
{
  for (int64_t i = 0; i < n; i++)
    x[i] = x[i] + y[i] * gate[i];
}

static const ops_table portable_table = {
  p_sum,    p_sumsq_centered, p_sumsq, p_max,  p_exp_sub_sum, p_norm_affine, p_norm_modulate, p_mul_apply,
  p_sq_acc, p_mul_vec_scalar, p_silu,  p_gelu, p_add,         p_mul,         p_modulate,      p_gated,
};

#if TK_X86

/* exp after Cephes' expf: n = round(x·log2 e), r = x − n·ln 2 in two parts,
 * a degree-5 polynomial for e^r, and 2^n put into the exponent. Inputs are
 * clamped to ±88.376 so 2^n stays representable: below, e^x is flushed to
 * 0; above, the result is +infinity, so x / (1 + e^−x) is −0 for very
 * negative x as it should be. */
#define EXP_HI 88.3762626647949f
#define EXP_LO -88.3762626647949f
#define EXP_LOG2E 1.44269504088896341f
#define EXP_C1 0.693359375f
#define EXP_C2 -2.12194440e-4f
#define EXP_P0 1.9875691500E-4f
#define EXP_P1 1.3981999507E-3f
#define EXP_P2 8.3334519073E-3f
#define EXP_P3 4.1665795894E-2f
#define EXP_P4 1.6666665459E-1f
#define EXP_P5 5.0000001201E-1f

/* ---- AVX2 + FMA primitives ---- */

AVX2_TARGET static inline float
hsum256 (__m256 v)
{
  __m128 s = _mm_add_ps (_mm256_castps256_ps128 (v), _mm256_extractf128_ps (v, 1));

  s = _mm_add_ps (s, _mm_movehl_ps (s, s));
  s = _mm_add_ss (s, _mm_movehdup_ps (s));
  return _mm_cvtss_f32 (s);
}

AVX2_TARGET static inline __m256
exp256 (__m256 x)
{
  /* min/max return their second operand for a NaN, so NaN passes through. */
  __m256 c = _mm256_max_ps (_mm256_set1_ps (EXP_LO), _mm256_min_ps (_mm256_set1_ps (EXP_HI), x));
  __m256 fx = _mm256_round_ps (_mm256_mul_ps (c, _mm256_set1_ps (EXP_LOG2E)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps (fx, _mm256_set1_ps (EXP_C1), c);
  __m256 p, r2;
  __m256i n;

  r = _mm256_fnmadd_ps (fx, _mm256_set1_ps (EXP_C2), r);
  r2 = _mm256_mul_ps (r, r);
  p = _mm256_fmadd_ps (_mm256_set1_ps (EXP_P0), r, _mm256_set1_ps (EXP_P1));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (EXP_P2));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (EXP_P3));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (EXP_P4));
  p = _mm256_fmadd_ps (p, r, _mm256_set1_ps (EXP_P5));
  p = _mm256_fmadd_ps (p, r2, _mm256_add_ps (r, _mm256_set1_ps (1.0f)));
  n = _mm256_slli_epi32 (_mm256_add_epi32 (_mm256_cvtps_epi32 (fx), _mm256_set1_epi32 (127)), 23);
  return _mm256_blendv_ps (_mm256_mul_ps (p, _mm256_castsi256_ps (n)), _mm256_set1_ps (INFINITY),
                           _mm256_cmp_ps (x, _mm256_set1_ps (EXP_HI), _CMP_GT_OQ));
}

AVX2_TARGET static float
a2_sum (const float *x, int64_t n)
{
  __m256 a0 = _mm256_setzero_ps (), a1 = _mm256_setzero_ps (), a2 = _mm256_setzero_ps (),
         a3 = _mm256_setzero_ps ();
  int64_t i = 0;
  float s;

  for (; i + 32 <= n; i += 32)
    {
      a0 = _mm256_add_ps (a0, _mm256_loadu_ps (x + i));
      a1 = _mm256_add_ps (a1, _mm256_loadu_ps (x + i + 8));
      a2 = _mm256_add_ps (a2, _mm256_loadu_ps (x + i + 16));
      a3 = _mm256_add_ps (a3, _mm256_loadu_ps (x + i + 24));
    }
  for (; i + 8 <= n; i += 8)
    a0 = _mm256_add_ps (a0, _mm256_loadu_ps (x + i));
  s = hsum256 (_mm256_add_ps (_mm256_add_ps (a0, a1), _mm256_add_ps (a2, a3)));
  for (; i < n; i++)
    s += x[i];
  return s;
}

AVX2_TARGET static float
a2_sumsq_centered (const float *x, int64_t n, float mean)
{
  __m256 m = _mm256_set1_ps (mean);
  __m256 a0 = _mm256_setzero_ps (), a1 = _mm256_setzero_ps (), a2 = _mm256_setzero_ps (),
         a3 = _mm256_setzero_ps ();
  int64_t i = 0;
  float s;

  for (; i + 32 <= n; i += 32)
    {
      __m256 d0 = _mm256_sub_ps (_mm256_loadu_ps (x + i), m);
      __m256 d1 = _mm256_sub_ps (_mm256_loadu_ps (x + i + 8), m);
      __m256 d2 = _mm256_sub_ps (_mm256_loadu_ps (x + i + 16), m);
      __m256 d3 = _mm256_sub_ps (_mm256_loadu_ps (x + i + 24), m);

      a0 = _mm256_fmadd_ps (d0, d0, a0);
      a1 = _mm256_fmadd_ps (d1, d1, a1);
      a2 = _mm256_fmadd_ps (d2, d2, a2);
      a3 = _mm256_fmadd_ps (d3, d3, a3);
    }
  for (; i + 8 <= n; i += 8)
    {
      __m256 d = _mm256_sub_ps (_mm256_loadu_ps (x + i), m);
      a0 = _mm256_fmadd_ps (d, d, a0);
    }
  s = hsum256 (_mm256_add_ps (_mm256_add_ps (a0, a1), _mm256_add_ps (a2, a3)));
  for (; i < n; i++)
    s += (x[i] - mean) * (x[i] - mean);
  return s;
}

AVX2_TARGET static float
a2_sumsq (const float *x, int64_t n)
{
  return a2_sumsq_centered (x, n, 0.0f);
}

AVX2_TARGET static float
a2_max (const float *x, int64_t n)
{
  __m256 m = _mm256_set1_ps (-INFINITY);
  int64_t i = 0;
  float r;
  __m128 h;

  for (; i + 8 <= n; i += 8)
    m = _mm256_max_ps (m, _mm256_loadu_ps (x + i));
  h = _mm_max_ps (_mm256_castps256_ps128 (m), _mm256_extractf128_ps (m, 1));
  h = _mm_max_ps (h, _mm_movehl_ps (h, h));
  h = _mm_max_ss (h, _mm_movehdup_ps (h));
  r = _mm_cvtss_f32 (h);
  for (; i < n; i++)
    if (x[i] > r)
      r = x[i];
  return r;
}

AVX2_TARGET static float
a2_exp_sub_sum (const float *x, float *y, int64_t n, float sub)
{
  __m256 vs = _mm256_set1_ps (sub);
  __m256 a0 = _mm256_setzero_ps (), a1 = _mm256_setzero_ps ();
  int64_t i = 0;
  float s;

  for (; i + 16 <= n; i += 16)
    {
      __m256 e0 = exp256 (_mm256_sub_ps (_mm256_loadu_ps (x + i), vs));
      __m256 e1 = exp256 (_mm256_sub_ps (_mm256_loadu_ps (x + i + 8), vs));

      _mm256_storeu_ps (y + i, e0);
      _mm256_storeu_ps (y + i + 8, e1);
      a0 = _mm256_add_ps (a0, e0);
      a1 = _mm256_add_ps (a1, e1);
    }
  for (; i + 8 <= n; i += 8)
    {
      __m256 e = exp256 (_mm256_sub_ps (_mm256_loadu_ps (x + i), vs));
      _mm256_storeu_ps (y + i, e);
      a0 = _mm256_add_ps (a0, e);
    }
  s = hsum256 (_mm256_add_ps (a0, a1));
  for (; i < n; i++)
    {
      y[i] = expf (x[i] - sub);
      s += y[i];
    }
  return s;
}

AVX2_TARGET static void
a2_norm_affine (
    const float *x, float *y, int64_t n, float mean, float rstd, const float *gamma, const float *beta)
{
  __m256 m = _mm256_set1_ps (mean), r = _mm256_set1_ps (rstd);
  int64_t i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m256 v = _mm256_mul_ps (_mm256_sub_ps (_mm256_loadu_ps (x + i), m), r);

      if (gamma != NULL)
        v = _mm256_mul_ps (v, _mm256_loadu_ps (gamma + i));
      if (beta != NULL)
        v = _mm256_add_ps (v, _mm256_loadu_ps (beta + i));
      _mm256_storeu_ps (y + i, v);
    }
  p_norm_affine (x + i, y + i, n - i, mean, rstd, gamma != NULL ? gamma + i : NULL,
                 beta != NULL ? beta + i : NULL);
}

AVX2_TARGET static void
a2_norm_modulate (
    const float *x, float *y, int64_t n, float mean, float rstd, const float *shift, const float *scale)
{
  __m256 m = _mm256_set1_ps (mean), r = _mm256_set1_ps (rstd), one = _mm256_set1_ps (1.0f);
  int64_t i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m256 v = _mm256_mul_ps (_mm256_sub_ps (_mm256_loadu_ps (x + i), m), r);

      v = _mm256_mul_ps (v, _mm256_add_ps (one, _mm256_loadu_ps (scale + i)));
      _mm256_storeu_ps (y + i, _mm256_add_ps (v, _mm256_loadu_ps (shift + i)));
    }
  p_norm_modulate (x + i, y + i, n - i, mean, rstd, shift + i, scale + i);
}

AVX2_TARGET static void
a2_mul_apply (const float *x, float *y, int64_t n, float r, const float *w, float wscale)
{
  __m256 vr = _mm256_set1_ps (r), vw = _mm256_set1_ps (wscale);
  int64_t i = 0;

  if (w == NULL)
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps (y + i, _mm256_mul_ps (_mm256_mul_ps (_mm256_loadu_ps (x + i), vr), vw));
  else
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps (y + i, _mm256_mul_ps (_mm256_mul_ps (_mm256_loadu_ps (x + i), vr),
                                              _mm256_mul_ps (vw, _mm256_loadu_ps (w + i))));
  p_mul_apply (x + i, y + i, n - i, r, w != NULL ? w + i : NULL, wscale);
}

AVX2_TARGET static void
a2_sq_acc (float *acc, const float *x, int64_t n)
{
  int64_t i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m256 v = _mm256_loadu_ps (x + i);
      _mm256_storeu_ps (acc + i, _mm256_fmadd_ps (v, v, _mm256_loadu_ps (acc + i)));
    }
  p_sq_acc (acc + i, x + i, n - i);
}

AVX2_TARGET static void
a2_mul_vec_scalar (const float *x, const float *v, float *y, int64_t n, float s)
{
  __m256 vs = _mm256_set1_ps (s);
  int64_t i = 0;

  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (y + i,
                      _mm256_mul_ps (_mm256_mul_ps (_mm256_loadu_ps (x + i), _mm256_loadu_ps (v + i)), vs));
  p_mul_vec_scalar (x + i, v + i, y + i, n - i, s);
}

AVX2_TARGET static void
a2_silu (const float *x, float *y, int64_t n)
{
  __m256 one = _mm256_set1_ps (1.0f), zero = _mm256_setzero_ps ();
  int64_t i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m256 v = _mm256_loadu_ps (x + i);
      _mm256_storeu_ps (y + i, _mm256_div_ps (v, _mm256_add_ps (one, exp256 (_mm256_sub_ps (zero, v)))));
    }
  p_silu (x + i, y + i, n - i);
}

AVX2_TARGET static void
a2_gelu (const float *x, float *y, int64_t n)
{
  __m256 one = _mm256_set1_ps (1.0f), k0 = _mm256_set1_ps (GELU_K0), k1 = _mm256_set1_ps (GELU_K1);
  __m256 m2 = _mm256_set1_ps (-2.0f);
  int64_t i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m256 v = _mm256_loadu_ps (x + i);
      __m256 v3 = _mm256_mul_ps (_mm256_mul_ps (v, v), v);
      __m256 u = _mm256_mul_ps (k0, _mm256_add_ps (v, _mm256_mul_ps (k1, v3)));

      _mm256_storeu_ps (y + i, _mm256_div_ps (v, _mm256_add_ps (one, exp256 (_mm256_mul_ps (m2, u)))));
    }
  p_gelu (x + i, y + i, n - i);
}

AVX2_TARGET static void
a2_add (const float *a, const float *b, float *y, int64_t n)
{
  int64_t i = 0;

  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (y + i, _mm256_add_ps (_mm256_loadu_ps (a + i), _mm256_loadu_ps (b + i)));
  p_add (a + i, b + i, y + i, n - i);
}

AVX2_TARGET static void
a2_mul (const float *a, const float *b, float *y, int64_t n)
{
  int64_t i = 0;

  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps (y + i, _mm256_mul_ps (_mm256_loadu_ps (a + i), _mm256_loadu_ps (b + i)));
  p_mul (a + i, b + i, y + i, n - i);
}

AVX2_TARGET static void
a2_modulate (const float *x, float *y, int64_t n, const float *shift, const float *scale)
{
  __m256 one = _mm256_set1_ps (1.0f);
  int64_t i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m256 v = _mm256_mul_ps (_mm256_loadu_ps (x + i), _mm256_add_ps (one, _mm256_loadu_ps (scale + i)));
      _mm256_storeu_ps (y + i, _mm256_add_ps (v, _mm256_loadu_ps (shift + i)));
    }
  p_modulate (x + i, y + i, n - i, shift + i, scale + i);
}

AVX2_TARGET static void
a2_gated (float *x, const float *y, const float *gate, int64_t n)
{
  int64_t i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m256 v = _mm256_mul_ps (_mm256_loadu_ps (y + i), _mm256_loadu_ps (gate + i));
      _mm256_storeu_ps (x + i, _mm256_add_ps (_mm256_loadu_ps (x + i), v));
    }
  p_gated (x + i, y + i, gate + i, n - i);
}

static const ops_table avx2_table = {
  a2_sum,         a2_sumsq_centered, a2_sumsq,     a2_max,    a2_exp_sub_sum,
  a2_norm_affine, a2_norm_modulate,  a2_mul_apply, a2_sq_acc, a2_mul_vec_scalar,
  a2_silu,        a2_gelu,           a2_add,       a2_mul,    a2_modulate,
  a2_gated,
};

/* ---- AVX-512 primitives: 16 lanes, masked tails ---- */

AVX512_TARGET static inline __mmask16
tail_mask (int64_t left)
{
  return left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1u);
}

AVX512_TARGET static inline __m512
exp512 (__m512 x)
{
  __m512 c = _mm512_max_ps (_mm512_set1_ps (EXP_LO), _mm512_min_ps (_mm512_set1_ps (EXP_HI), x));
  __m512 fx = _mm512_roundscale_ps (_mm512_mul_ps (c, _mm512_set1_ps (EXP_LOG2E)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps (fx, _mm512_set1_ps (EXP_C1), c);
  __m512 p, r2;
  __m512i n;

  r = _mm512_fnmadd_ps (fx, _mm512_set1_ps (EXP_C2), r);
  r2 = _mm512_mul_ps (r, r);
  p = _mm512_fmadd_ps (_mm512_set1_ps (EXP_P0), r, _mm512_set1_ps (EXP_P1));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (EXP_P2));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (EXP_P3));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (EXP_P4));
  p = _mm512_fmadd_ps (p, r, _mm512_set1_ps (EXP_P5));
  p = _mm512_fmadd_ps (p, r2, _mm512_add_ps (r, _mm512_set1_ps (1.0f)));
  n = _mm512_slli_epi32 (_mm512_add_epi32 (_mm512_cvtps_epi32 (fx), _mm512_set1_epi32 (127)), 23);
  return _mm512_mask_mov_ps (_mm512_mul_ps (p, _mm512_castsi512_ps (n)),
                             _mm512_cmp_ps_mask (x, _mm512_set1_ps (EXP_HI), _CMP_GT_OQ),
                             _mm512_set1_ps (INFINITY));
}

AVX512_TARGET static float
a5_sum (const float *x, int64_t n)
{
  __m512 a0 = _mm512_setzero_ps (), a1 = _mm512_setzero_ps (), a2 = _mm512_setzero_ps (),
         a3 = _mm512_setzero_ps ();
  int64_t i = 0;

  for (; i + 64 <= n; i += 64)
    {
      a0 = _mm512_add_ps (a0, _mm512_loadu_ps (x + i));
      a1 = _mm512_add_ps (a1, _mm512_loadu_ps (x + i + 16));
      a2 = _mm512_add_ps (a2, _mm512_loadu_ps (x + i + 32));
      a3 = _mm512_add_ps (a3, _mm512_loadu_ps (x + i + 48));
    }
  for (; i < n; i += 16)
    a0 = _mm512_add_ps (a0, _mm512_maskz_loadu_ps (tail_mask (n - i), x + i));
  return _mm512_reduce_add_ps (_mm512_add_ps (_mm512_add_ps (a0, a1), _mm512_add_ps (a2, a3)));
}

AVX512_TARGET static float
a5_sumsq_centered (const float *x, int64_t n, float mean)
{
  __m512 m = _mm512_set1_ps (mean);
  __m512 a0 = _mm512_setzero_ps (), a1 = _mm512_setzero_ps (), a2 = _mm512_setzero_ps (),
         a3 = _mm512_setzero_ps ();
  int64_t i = 0;

  for (; i + 64 <= n; i += 64)
    {
      __m512 d0 = _mm512_sub_ps (_mm512_loadu_ps (x + i), m);
      __m512 d1 = _mm512_sub_ps (_mm512_loadu_ps (x + i + 16), m);
      __m512 d2 = _mm512_sub_ps (_mm512_loadu_ps (x + i + 32), m);
      __m512 d3 = _mm512_sub_ps (_mm512_loadu_ps (x + i + 48), m);

      a0 = _mm512_fmadd_ps (d0, d0, a0);
      a1 = _mm512_fmadd_ps (d1, d1, a1);
      a2 = _mm512_fmadd_ps (d2, d2, a2);
      a3 = _mm512_fmadd_ps (d3, d3, a3);
    }
  for (; i < n; i += 16)
    {
      __mmask16 k = tail_mask (n - i);
      __m512 d = _mm512_maskz_sub_ps (k, _mm512_maskz_loadu_ps (k, x + i), m);
      a0 = _mm512_fmadd_ps (d, d, a0);
    }
  return _mm512_reduce_add_ps (_mm512_add_ps (_mm512_add_ps (a0, a1), _mm512_add_ps (a2, a3)));
}

AVX512_TARGET static float
a5_sumsq (const float *x, int64_t n)
{
  return a5_sumsq_centered (x, n, 0.0f);
}

AVX512_TARGET static float
a5_max (const float *x, int64_t n)
{
  __m512 m = _mm512_set1_ps (-INFINITY);

  for (int64_t i = 0; i < n; i += 16)
    m = _mm512_mask_max_ps (m, tail_mask (n - i), m, _mm512_maskz_loadu_ps (tail_mask (n - i), x + i));
  return _mm512_reduce_max_ps (m);
}

AVX512_TARGET static float
a5_exp_sub_sum (const float *x, float *y, int64_t n, float sub)
{
  __m512 vs = _mm512_set1_ps (sub);
  __m512 a0 = _mm512_setzero_ps (), a1 = _mm512_setzero_ps ();
  int64_t i = 0;

  for (; i + 32 <= n; i += 32)
    {
      __m512 e0 = exp512 (_mm512_sub_ps (_mm512_loadu_ps (x + i), vs));
      __m512 e1 = exp512 (_mm512_sub_ps (_mm512_loadu_ps (x + i + 16), vs));

      _mm512_storeu_ps (y + i, e0);
      _mm512_storeu_ps (y + i + 16, e1);
      a0 = _mm512_add_ps (a0, e0);
      a1 = _mm512_add_ps (a1, e1);
    }
  for (; i < n; i += 16)
    {
      __mmask16 k = tail_mask (n - i);
      __m512 e = _mm512_maskz_mov_ps (k, exp512 (_mm512_sub_ps (_mm512_maskz_loadu_ps (k, x + i), vs)));

      _mm512_mask_storeu_ps (y + i, k, e);
      a0 = _mm512_add_ps (a0, e);
    }
  return _mm512_reduce_add_ps (_mm512_add_ps (a0, a1));
}

AVX512_TARGET static void
a5_norm_affine (
    const float *x, float *y, int64_t n, float mean, float rstd, const float *gamma, const float *beta)
{
  __m512 m = _mm512_set1_ps (mean), r = _mm512_set1_ps (rstd);

  for (int64_t i = 0; i < n; i += 16)
    {
      __mmask16 k = tail_mask (n - i);
      __m512 v = _mm512_mul_ps (_mm512_sub_ps (_mm512_maskz_loadu_ps (k, x + i), m), r);

      if (gamma != NULL)
        v = _mm512_mul_ps (v, _mm512_maskz_loadu_ps (k, gamma + i));
      if (beta != NULL)
        v = _mm512_add_ps (v, _mm512_maskz_loadu_ps (k, beta + i));
      _mm512_mask_storeu_ps (y + i, k, v);
    }
}

AVX512_TARGET static void
a5_norm_modulate (
    const float *x, float *y, int64_t n, float mean, float rstd, const float *shift, const float *scale)
{
  __m512 m = _mm512_set1_ps (mean), r = _mm512_set1_ps (rstd), one = _mm512_set1_ps (1.0f);

  for (int64_t i = 0; i < n; i += 16)
    {
      __mmask16 k = tail_mask (n - i);
      __m512 v = _mm512_mul_ps (_mm512_sub_ps (_mm512_maskz_loadu_ps (k, x + i), m), r);

      v = _mm512_mul_ps (v, _mm512_add_ps (one, _mm512_maskz_loadu_ps (k, scale + i)));
      _mm512_mask_storeu_ps (y + i, k, _mm512_add_ps (v, _mm512_maskz_loadu_ps (k, shift + i)));
    }
}

AVX512_TARGET static void
a5_mul_apply (const float *x, float *y, int64_t n, float r, const float *w, float wscale)
{
  __m512 vr = _mm512_set1_ps (r), vw = _mm512_set1_ps (wscale);

  for (int64_t i = 0; i < n; i += 16)
    {
      __mmask16 k = tail_mask (n - i);
      __m512 v = _mm512_mul_ps (_mm512_maskz_loadu_ps (k, x + i), vr);

      v = _mm512_mul_ps (v, w != NULL ? _mm512_mul_ps (vw, _mm512_maskz_loadu_ps (k, w + i)) : vw);
      _mm512_mask_storeu_ps (y + i, k, v);
    }
}

AVX512_TARGET static void
a5_sq_acc (float *acc, const float *x, int64_t n)
{
  for (int64_t i = 0; i < n; i += 16)
    {
      __mmask16 k = tail_mask (n - i);
      __m512 v = _mm512_maskz_loadu_ps (k, x + i);

      _mm512_mask_storeu_ps (acc + i, k, _mm512_fmadd_ps (v, v, _mm512_maskz_loadu_ps (k, acc + i)));
    }
}

AVX512_TARGET static void
a5_mul_vec_scalar (const float *x, const float *v, float *y, int64_t n, float s)
{
  __m512 vs = _mm512_set1_ps (s);

  for (int64_t i = 0; i < n; i += 16)
    {
      __mmask16 k = tail_mask (n - i);
      __m512 p = _mm512_mul_ps (_mm512_maskz_loadu_ps (k, x + i), _mm512_maskz_loadu_ps (k, v + i));

      _mm512_mask_storeu_ps (y + i, k, _mm512_mul_ps (p, vs));
    }
}

AVX512_TARGET static void
a5_silu (const float *x, float *y, int64_t n)
{
  __m512 one = _mm512_set1_ps (1.0f), zero = _mm512_setzero_ps ();

  for (int64_t i = 0; i < n; i += 16)
    {
      __mmask16 k = tail_mask (n - i);
      __m512 v = _mm512_maskz_loadu_ps (k, x + i);

      _mm512_mask_storeu_ps (y + i, k,
                             _mm512_div_ps (v, _mm512_add_ps (one, exp512 (_mm512_sub_ps (zero, v)))));
    }
}

AVX512_TARGET static void
a5_gelu (const float *x, float *y, int64_t n)
{
  __m512 one = _mm512_set1_ps (1.0f), k0 = _mm512_set1_ps (GELU_K0), k1 = _mm512_set1_ps (GELU_K1);
  __m512 m2 = _mm512_set1_ps (-2.0f);

  for (int64_t i = 0; i < n; i += 16)
    {
      __mmask16 k = tail_mask (n - i);
      __m512 v = _mm512_maskz_loadu_ps (k, x + i);
      __m512 v3 = _mm512_mul_ps (_mm512_mul_ps (v, v), v);
      __m512 u = _mm512_mul_ps (k0, _mm512_add_ps (v, _mm512_mul_ps (k1, v3)));

      _mm512_mask_storeu_ps (y + i, k,
                             _mm512_div_ps (v, _mm512_add_ps (one, exp512 (_mm512_mul_ps (m2, u)))));
    }
}

AVX512_TARGET static void
a5_add (const float *a, const float *b, float *y, int64_t n)
{
  for (int64_t i = 0; i < n; i += 16)
    {
      __mmask16 k = tail_mask (n - i);
      _mm512_mask_storeu_ps (
          y + i, k, _mm512_add_ps (_mm512_maskz_loadu_ps (k, a + i), _mm512_maskz_loadu_ps (k, b + i)));
    }
}

AVX512_TARGET static void
a5_mul (const float *a, const float *b, float *y, int64_t n)
{
  for (int64_t i = 0; i < n; i += 16)
    {
      __mmask16 k = tail_mask (n - i);
      _mm512_mask_storeu_ps (
          y + i, k, _mm512_mul_ps (_mm512_maskz_loadu_ps (k, a + i), _mm512_maskz_loadu_ps (k, b + i)));
    }
}

AVX512_TARGET static void
a5_modulate (const float *x, float *y, int64_t n, const float *shift, const float *scale)
{
  __m512 one = _mm512_set1_ps (1.0f);

  for (int64_t i = 0; i < n; i += 16)
    {
      __mmask16 k = tail_mask (n - i);
      __m512 v = _mm512_mul_ps (_mm512_maskz_loadu_ps (k, x + i),
                                _mm512_add_ps (one, _mm512_maskz_loadu_ps (k, scale + i)));

      _mm512_mask_storeu_ps (y + i, k, _mm512_add_ps (v, _mm512_maskz_loadu_ps (k, shift + i)));
    }
}

AVX512_TARGET static void
a5_gated (float *x, const float *y, const float *gate, int64_t n)
{
  for (int64_t i = 0; i < n; i += 16)
    {
      __mmask16 k = tail_mask (n - i);
      __m512 v = _mm512_mul_ps (_mm512_maskz_loadu_ps (k, y + i), _mm512_maskz_loadu_ps (k, gate + i));

      _mm512_mask_storeu_ps (x + i, k, _mm512_add_ps (_mm512_maskz_loadu_ps (k, x + i), v));
    }
}

static const ops_table avx512_table = {
  a5_sum,         a5_sumsq_centered, a5_sumsq,     a5_max,    a5_exp_sub_sum,
  a5_norm_affine, a5_norm_modulate,  a5_mul_apply, a5_sq_acc, a5_mul_vec_scalar,
  a5_silu,        a5_gelu,           a5_add,       a5_mul,    a5_modulate,
  a5_gated,
};

#endif /* TK_X86 */

static const ops_table *
ops (void)
{
#if TK_X86
  switch (tk_isa_active ())
    {
      case TK_ISA_AVX512:
        return &avx512_table;
      case TK_ISA_AVX2:
        return &avx2_table;
      case TK_ISA_PORTABLE:
        break;
    }
#endif
  return &portable_table;
}

/* ---- the parallel drivers ---- */

typedef struct
{
  const ops_table *t;
  const float *x;
  float *y;
  int64_t rows, width;
  const float *a, *b; /* per-op vectors: gamma/beta, weight, shift/scale, row */
  const void *weight;
  tk_dtype weight_dtype;
  float eps;
  int64_t rows_per_vec, vec_stride;
} row_job;

static void
run_rows (tk_pool *pool, int64_t rows, int64_t width, tk_pool_fn fn, row_job *job)
{
  int64_t grain = PIECE_FLOATS / (width > 0 ? width : 1);

  tk_pool_parallel_for (pool, rows, grain > 0 ? grain : 1, fn, job);
}

static int
rows_ok (const float *x, const float *y, int64_t rows, int64_t width)
{
  if (rows < 0 || width < 0)
    return 0;
  if (rows == 0)
    return 1;
  return width >= 1 && x != NULL && y != NULL;
}

/* Vector of group g for row r, per the rows_per_vec / vec_stride layout. */
static inline const float *
group_vec (const float *base, int64_t r, int64_t rows_per_vec, int64_t vec_stride)
{
  if (rows_per_vec <= 0)
    return base;
  return base + (r / rows_per_vec) * vec_stride;
}

static void
layer_norm_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const row_job *job = data;
  int64_t w = job->width;

  for (int64_t r = start; r < end; r++)
    {
      const float *x = job->x + r * w;
      float mean = job->t->sum (x, w) / (float)w;
      float var = job->t->sumsq_centered (x, w, mean) / (float)w;
      float rstd = 1.0f / sqrtf (var + job->eps);

      job->t->norm_affine (x, job->y + r * w, w, mean, rstd, job->a, job->b);
    }
}

tk_status
tk_layer_norm (tk_pool *pool,
               const float *x,
               float *y,
               int64_t rows,
               int64_t width,
               const float *gamma,
               const float *beta,
               float eps)
{
  row_job job
      = { .t = ops (), .x = x, .y = y, .rows = rows, .width = width, .a = gamma, .b = beta, .eps = eps };

  if (!rows_ok (x, y, rows, width))
    return TK_ERR_INVALID;
  run_rows (pool, rows, width, layer_norm_cb, &job);
  return TK_OK;
}

static void
layer_norm_modulate_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const row_job *job = data;
  int64_t w = job->width;

  for (int64_t r = start; r < end; r++)
    {
      const float *x = job->x + r * w;
      float mean = job->t->sum (x, w) / (float)w;
      float var = job->t->sumsq_centered (x, w, mean) / (float)w;
      float rstd = 1.0f / sqrtf (var + job->eps);

      job->t->norm_modulate (x, job->y + r * w, w, mean, rstd,
                             group_vec (job->a, r, job->rows_per_vec, job->vec_stride),
                             group_vec (job->b, r, job->rows_per_vec, job->vec_stride));
    }
}

tk_status
tk_layer_norm_modulate (tk_pool *pool,
                        const float *x,
                        float *y,
                        int64_t rows,
                        int64_t width,
                        float eps,
                        const float *shift,
                        const float *scale,
                        int64_t rows_per_vec,
                        int64_t vec_stride)
{
  row_job job = { .t = ops (),
                  .x = x,
                  .y = y,
                  .rows = rows,
                  .width = width,
                  .a = shift,
                  .b = scale,
                  .eps = eps,
                  .rows_per_vec = rows_per_vec,
                  .vec_stride = vec_stride };

  if (!rows_ok (x, y, rows, width) || (rows > 0 && (shift == NULL || scale == NULL)))
    return TK_ERR_INVALID;
  run_rows (pool, rows, width, layer_norm_modulate_cb, &job);
  return TK_OK;
}

static void
rms_norm_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const row_job *job = data;
  int64_t w = job->width;

  for (int64_t r = start; r < end; r++)
    {
      const float *x = job->x + r * w;
      float ms = job->t->sumsq (x, w) / (float)w;

      job->t->mul_apply (x, job->y + r * w, w, 1.0f / sqrtf (ms + job->eps), job->a, 1.0f);
    }
}

tk_status
tk_rms_norm (
    tk_pool *pool, const float *x, float *y, int64_t rows, int64_t width, const float *weight, float eps)
{
  row_job job = { .t = ops (), .x = x, .y = y, .rows = rows, .width = width, .a = weight, .eps = eps };

  if (!rows_ok (x, y, rows, width))
    return TK_ERR_INVALID;
  run_rows (pool, rows, width, rms_norm_cb, &job);
  return TK_OK;
}

static void
t5_rms_norm_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const row_job *job = data;
  int64_t w = job->width;

  for (int64_t r = start; r < end; r++)
    {
      const float *x = job->x + r * w;
      float *y = job->y + r * w;
      float rs = 1.0f / sqrtf (job->t->sumsq (x, w) / (float)w + job->eps);
      const uint16_t *w16 = job->weight;

      switch (job->weight_dtype)
        {
          case TK_DTYPE_BF16:
            for (int64_t i = 0; i < w; i++)
              {
                float n = tk_bf16_to_f32 (tk_f32_to_bf16 (x[i] * rs));
                y[i] = tk_bf16_to_f32 (tk_f32_to_bf16 (tk_bf16_to_f32 (w16[i]) * n));
              }
            break;
          case TK_DTYPE_F16:
            for (int64_t i = 0; i < w; i++)
              {
                float n = tk_f16_to_f32 (tk_f32_to_f16 (x[i] * rs));
                y[i] = tk_f16_to_f32 (tk_f32_to_f16 (tk_f16_to_f32 (w16[i]) * n));
              }
            break;
          default:
            job->t->mul_apply (x, y, w, rs, job->weight, 1.0f);
            break;
        }
    }
}

tk_status
tk_t5_rms_norm (tk_pool *pool,
                const float *x,
                float *y,
                int64_t rows,
                int64_t width,
                const void *weight,
                tk_dtype weight_dtype,
                float eps)
{
  row_job job = { .t = ops (),
                  .x = x,
                  .y = y,
                  .rows = rows,
                  .width = width,
                  .weight = weight,
                  .weight_dtype = weight_dtype,
                  .eps = eps };

  if (!rows_ok (x, y, rows, width) || (rows > 0 && weight == NULL))
    return TK_ERR_INVALID;
  if (weight_dtype != TK_DTYPE_F32 && weight_dtype != TK_DTYPE_BF16 && weight_dtype != TK_DTYPE_F16)
    return TK_ERR_INVALID;
  run_rows (pool, rows, width, t5_rms_norm_cb, &job);
  return TK_OK;
}

/* Channels-first: rows of the job are blocks of L2_BLOCK positions; width is
 * the spatial size, rows_per_vec the channel count. */
static void
l2_channels_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const row_job *job = data;
  int64_t spatial = job->width, channels = job->rows_per_vec;
  float sqrt_c = sqrtf ((float)channels);
  float acc[L2_BLOCK];

  for (int64_t blk = start; blk < end; blk++)
    {
      int64_t s0 = blk * L2_BLOCK;
      int64_t n = spatial - s0 < L2_BLOCK ? spatial - s0 : L2_BLOCK;

      memset (acc, 0, sizeof acc);
      for (int64_t c = 0; c < channels; c++)
        job->t->sq_acc (acc, job->x + c * spatial + s0, n);
      for (int64_t j = 0; j < n; j++)
        {
          float norm = sqrtf (acc[j]);
          acc[j] = 1.0f / (norm > job->eps ? norm : job->eps);
        }
      for (int64_t c = 0; c < channels; c++)
        job->t->mul_vec_scalar (job->x + c * spatial + s0, acc, job->y + c * spatial + s0, n,
                                job->a != NULL ? sqrt_c * job->a[c] : sqrt_c);
    }
}

tk_status
tk_l2_norm_channels (
    tk_pool *pool, const float *x, float *y, int64_t channels, int64_t spatial, const float *gamma, float eps)
{
  row_job job
      = { .t = ops (), .x = x, .y = y, .width = spatial, .a = gamma, .eps = eps, .rows_per_vec = channels };
  int64_t blocks;
  int64_t grain;

  if (channels < 0 || spatial < 0)
    return TK_ERR_INVALID;
  if (channels == 0 || spatial == 0)
    return TK_OK;
  if (x == NULL || y == NULL)
    return TK_ERR_INVALID;
  blocks = (spatial + L2_BLOCK - 1) / L2_BLOCK;
  grain = PIECE_FLOATS / (channels * L2_BLOCK);
  tk_pool_parallel_for (pool, blocks, grain > 0 ? grain : 1, l2_channels_cb, &job);
  return TK_OK;
}

static void
l2_rows_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const row_job *job = data;
  int64_t w = job->width;
  float sqrt_c = sqrtf ((float)w);

  for (int64_t r = start; r < end; r++)
    {
      const float *x = job->x + r * w;
      float norm = sqrtf (job->t->sumsq (x, w));

      job->t->mul_apply (x, job->y + r * w, w, 1.0f / (norm > job->eps ? norm : job->eps), job->a, sqrt_c);
    }
}

tk_status
tk_l2_norm_rows (
    tk_pool *pool, const float *x, float *y, int64_t rows, int64_t width, const float *gamma, float eps)
{
  row_job job = { .t = ops (), .x = x, .y = y, .rows = rows, .width = width, .a = gamma, .eps = eps };

  if (!rows_ok (x, y, rows, width))
    return TK_ERR_INVALID;
  run_rows (pool, rows, width, l2_rows_cb, &job);
  return TK_OK;
}

/* Element-wise drivers: rows of the job are blocks of ELEM_BLOCK floats. */
typedef enum
{
  ELEM_GELU,
  ELEM_SILU,
  ELEM_ADD,
  ELEM_MUL
} elem_op;

typedef struct
{
  const ops_table *t;
  elem_op op;
  const float *a, *b;
  float *y;
  int64_t n;
} elem_job;

static void
elem_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const elem_job *job = data;
  int64_t i0 = start * ELEM_BLOCK;
  int64_t i1 = end * ELEM_BLOCK < job->n ? end * ELEM_BLOCK : job->n;

  switch (job->op)
    {
      case ELEM_GELU:
        job->t->gelu (job->a + i0, job->y + i0, i1 - i0);
        break;
      case ELEM_SILU:
        job->t->silu (job->a + i0, job->y + i0, i1 - i0);
        break;
      case ELEM_ADD:
        job->t->add (job->a + i0, job->b + i0, job->y + i0, i1 - i0);
        break;
      case ELEM_MUL:
        job->t->mul (job->a + i0, job->b + i0, job->y + i0, i1 - i0);
        break;
    }
}

static tk_status
run_elem (tk_pool *pool, elem_op op, const float *a, const float *b, float *y, int64_t n)
{
  elem_job job = { ops (), op, a, b, y, n };

  if (n < 0)
    return TK_ERR_INVALID;
  if (n == 0)
    return TK_OK;
  if (a == NULL || y == NULL || ((op == ELEM_ADD || op == ELEM_MUL) && b == NULL))
    return TK_ERR_INVALID;
  tk_pool_parallel_for (pool, (n + ELEM_BLOCK - 1) / ELEM_BLOCK, PIECE_FLOATS / ELEM_BLOCK, elem_cb, &job);
  return TK_OK;
}

tk_status
tk_gelu_tanh (tk_pool *pool, const float *x, float *y, int64_t n)
{
  return run_elem (pool, ELEM_GELU, x, NULL, y, n);
}

tk_status
tk_silu (tk_pool *pool, const float *x, float *y, int64_t n)
{
  return run_elem (pool, ELEM_SILU, x, NULL, y, n);
}

tk_status
tk_add (tk_pool *pool, const float *a, const float *b, float *y, int64_t n)
{
  return run_elem (pool, ELEM_ADD, a, b, y, n);
}

tk_status
tk_mul (tk_pool *pool, const float *a, const float *b, float *y, int64_t n)
{
  return run_elem (pool, ELEM_MUL, a, b, y, n);
}

static void
softmax_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const row_job *job = data;
  int64_t w = job->width;

  for (int64_t r = start; r < end; r++)
    {
      const float *x = job->x + r * w;
      float *y = job->y + r * w;
      float m = job->t->max (x, w);
      float s;

      if (m == -INFINITY)
        {
          memset (y, 0, (size_t)w * sizeof (float));
          continue;
        }
      s = job->t->exp_sub_sum (x, y, w, m);
      job->t->mul_apply (y, y, w, 1.0f / s, NULL, 1.0f);
    }
}

tk_status
tk_softmax (tk_pool *pool, const float *x, float *y, int64_t rows, int64_t width)
{
  row_job job = { .t = ops (), .x = x, .y = y, .rows = rows, .width = width };

  if (!rows_ok (x, y, rows, width))
    return TK_ERR_INVALID;
  run_rows (pool, rows, width, softmax_cb, &job);
  return TK_OK;
}

static void
add_row_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const row_job *job = data;

  for (int64_t r = start; r < end; r++)
    job->t->add (job->x + r * job->width, job->a, job->y + r * job->width, job->width);
}

static void
mul_row_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const row_job *job = data;

  for (int64_t r = start; r < end; r++)
    job->t->mul (job->x + r * job->width, job->a, job->y + r * job->width, job->width);
}

tk_status
tk_add_row (tk_pool *pool, const float *x, const float *row, float *y, int64_t rows, int64_t width)
{
  row_job job = { .t = ops (), .x = x, .y = y, .rows = rows, .width = width, .a = row };

  if (!rows_ok (x, y, rows, width) || (rows > 0 && row == NULL))
    return TK_ERR_INVALID;
  run_rows (pool, rows, width, add_row_cb, &job);
  return TK_OK;
}

tk_status
tk_mul_row (tk_pool *pool, const float *x, const float *row, float *y, int64_t rows, int64_t width)
{
  row_job job = { .t = ops (), .x = x, .y = y, .rows = rows, .width = width, .a = row };

  if (!rows_ok (x, y, rows, width) || (rows > 0 && row == NULL))
    return TK_ERR_INVALID;
  run_rows (pool, rows, width, mul_row_cb, &job);
  return TK_OK;
}

static void
modulate_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const row_job *job = data;

  for (int64_t r = start; r < end; r++)
    job->t->modulate (job->x + r * job->width, job->y + r * job->width, job->width,
                      group_vec (job->a, r, job->rows_per_vec, job->vec_stride),
                      group_vec (job->b, r, job->rows_per_vec, job->vec_stride));
}

tk_status
tk_modulate (tk_pool *pool,
             const float *x,
             float *y,
             int64_t rows,
             int64_t width,
             const float *shift,
             const float *scale,
             int64_t rows_per_vec,
             int64_t vec_stride)
{
  row_job job = { .t = ops (),
                  .x = x,
                  .y = y,
                  .rows = rows,
                  .width = width,
                  .a = shift,
                  .b = scale,
                  .rows_per_vec = rows_per_vec,
                  .vec_stride = vec_stride };

  if (!rows_ok (x, y, rows, width) || (rows > 0 && (shift == NULL || scale == NULL)))
    return TK_ERR_INVALID;
  run_rows (pool, rows, width, modulate_cb, &job);
  return TK_OK;
}

static void
gated_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const row_job *job = data;

  for (int64_t r = start; r < end; r++)
    job->t->gated (job->y + r * job->width, job->x + r * job->width,
                   group_vec (job->a, r, job->rows_per_vec, job->vec_stride), job->width);
}

tk_status
tk_gated_residual (tk_pool *pool,
                   float *x,
                   const float *y,
                   const float *gate,
                   int64_t rows,
                   int64_t width,
                   int64_t rows_per_vec,
                   int64_t vec_stride)
{
  /* The job's x is the read-only operand y and its y the updated x. */
  row_job job = { .t = ops (),
                  .x = y,
                  .y = x,
                  .rows = rows,
                  .width = width,
                  .a = gate,
                  .rows_per_vec = rows_per_vec,
                  .vec_stride = vec_stride };

  if (!rows_ok (y, x, rows, width) || (rows > 0 && gate == NULL))
    return TK_ERR_INVALID;
  run_rows (pool, rows, width, gated_cb, &job);
  return TK_OK;
}
