/* tk-rope.c: 3-D RoPE tables and their application.
 *
 * Each band's table holds, per position, the multipliers already laid out
 * channel by channel: cos in both channels of a pair, and −sin / +sin, so
 * out[i] = x[i]·C[i] + x[i ^ 1]·S[i] is the complex product for either
 * channel. A token then needs only three pointers into the tables.
 */
#include "tk-rope.h"

#include <math.h>
#include <stdlib.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TK_X86 1
#else
#define TK_X86 0
#endif

#define AVX2_TARGET __attribute__ ((target ("avx2,fma,f16c")))
#define AVX512_TARGET __attribute__ ((target ("avx512f,avx512bw,avx512dq,avx512vl,fma,f16c")))

struct tk_rope
{
  int head_dim;
  int max_pos;
  int dims[3];
  /* Per band: max_pos × dims[b] doubles each. */
  double *cos_tab[3];
  double *sin_tab[3];
};

tk_rope *
tk_rope_new (int head_dim, int max_pos, double theta)
{
  tk_rope *rope;

  if (head_dim < 6 || head_dim % 2 != 0 || max_pos < 1 || !(theta > 0.0) || !isfinite (theta))
    return NULL;
  rope = calloc (1, sizeof *rope);
  if (rope == NULL)
    return NULL;
  rope->head_dim = head_dim;
  rope->max_pos = max_pos;
  rope->dims[0] = head_dim - 4 * (head_dim / 6);
  rope->dims[1] = 2 * (head_dim / 6);
  rope->dims[2] = 2 * (head_dim / 6);
  for (int b = 0; b < 3; b++)
    {
      int d = rope->dims[b];

      rope->cos_tab[b] = tk_aligned_calloc ((size_t)max_pos * (size_t)d, sizeof (double));
      rope->sin_tab[b] = tk_aligned_calloc ((size_t)max_pos * (size_t)d, sizeof (double));
      if (rope->cos_tab[b] == NULL || rope->sin_tab[b] == NULL)
        {
          tk_rope_free (rope);
          return NULL;
        }
      for (int j = 0; j < d / 2; j++)
        {
          /* As the official rope_params: 1 / θ^(2j / d), then pos × that. */
          double omega = 1.0 / pow (theta, (double)(2 * j) / (double)d);

          for (int p = 0; p < max_pos; p++)
            {
              double angle = (double)p * omega;
              double c = cos (angle), s = sin (angle);
              size_t at = (size_t)p * (size_t)d + (size_t)(2 * j);

              rope->cos_tab[b][at] = c;
              rope->cos_tab[b][at + 1] = c;
              rope->sin_tab[b][at] = -s;
              rope->sin_tab[b][at + 1] = s;
            }
        }
    }
  return rope;
}

void
tk_rope_free (tk_rope *rope)
{
  if (rope == NULL)
    return;
  for (int b = 0; b < 3; b++)
    {
      tk_aligned_free (rope->cos_tab[b]);
      tk_aligned_free (rope->sin_tab[b]);
    }
  free (rope);
}

int
tk_rope_head_dim (const tk_rope *rope)
{
  return rope->head_dim;
}

int
tk_rope_max_pos (const tk_rope *rope)
{
  return rope->max_pos;
}

void
tk_rope_band_dims (const tk_rope *rope, int dims[3])
{
  for (int b = 0; b < 3; b++)
    dims[b] = rope->dims[b];
}

/* Rotates n channels (n even) of x with the multipliers c, s. */
static void
rotate_portable (float *x, const double *c, const double *s, int n)
{
  for (int i = 0; i < n; i += 2)
    {
      double x0 = x[i], x1 = x[i + 1];

      x[i] = (float)(x0 * c[i] + x1 * s[i]);
      x[i + 1] = (float)(x1 * c[i + 1] + x0 * s[i + 1]);
    }
}

#if TK_X86

AVX2_TARGET static void
rotate_avx2 (float *x, const double *c, const double *s, int n)
{
  int i = 0;

  for (; i + 4 <= n; i += 4)
    {
      __m256d v = _mm256_cvtps_pd (_mm_loadu_ps (x + i));
      __m256d sw = _mm256_permute_pd (v, 0x5);
      __m256d r = _mm256_add_pd (_mm256_mul_pd (v, _mm256_loadu_pd (c + i)),
                                 _mm256_mul_pd (sw, _mm256_loadu_pd (s + i)));

      _mm_storeu_ps (x + i, _mm256_cvtpd_ps (r));
    }
  rotate_portable (x + i, c + i, s + i, n - i);
}

AVX512_TARGET static void
rotate_avx512 (float *x, const double *c, const double *s, int n)
{
  int i = 0;

  for (; i + 8 <= n; i += 8)
    {
      __m512d v = _mm512_cvtps_pd (_mm256_loadu_ps (x + i));
      __m512d sw = _mm512_permute_pd (v, 0x55);
      __m512d r = _mm512_add_pd (_mm512_mul_pd (v, _mm512_loadu_pd (c + i)),
                                 _mm512_mul_pd (sw, _mm512_loadu_pd (s + i)));

      _mm256_storeu_ps (x + i, _mm512_cvtpd_ps (r));
    }
  rotate_portable (x + i, c + i, s + i, n - i);
}

#endif

typedef void (*rotate_fn) (float *x, const double *c, const double *s, int n);

static rotate_fn
pick_rotate (void)
{
#if TK_X86
  switch (tk_isa_active ())
    {
      case TK_ISA_AVX512:
        return rotate_avx512;
      case TK_ISA_AVX2:
        return rotate_avx2;
      case TK_ISA_PORTABLE:
        break;
    }
#endif
  return rotate_portable;
}

static void
apply_tokens (const tk_rope *rope,
              rotate_fn rotate,
              float *x,
              int64_t ld,
              int n_heads,
              int64_t grid_h,
              int64_t grid_w,
              int64_t t0,
              int64_t t1)
{
  int d0 = rope->dims[0], d1 = rope->dims[1], d2 = rope->dims[2];

  for (int64_t t = t0; t < t1; t++)
    {
      int64_t pos[3] = { t / (grid_h * grid_w), (t / grid_w) % grid_h, t % grid_w };
      float *tok = x + t * ld;

      for (int h = 0; h < n_heads; h++)
        {
          float *head = tok + (int64_t)h * rope->head_dim;

          rotate (head, rope->cos_tab[0] + pos[0] * d0, rope->sin_tab[0] + pos[0] * d0, d0);
          rotate (head + d0, rope->cos_tab[1] + pos[1] * d1, rope->sin_tab[1] + pos[1] * d1, d1);
          rotate (head + d0 + d1, rope->cos_tab[2] + pos[2] * d2, rope->sin_tab[2] + pos[2] * d2, d2);
        }
    }
}

static int
args_ok (const tk_rope *rope, const float *x, int64_t ld, int n_heads, int64_t gf, int64_t gh, int64_t gw)
{
  if (rope == NULL || n_heads < 1 || gf < 0 || gh < 0 || gw < 0)
    return 0;
  if (gf > rope->max_pos || gh > rope->max_pos || gw > rope->max_pos)
    return 0;
  if (ld < (int64_t)n_heads * rope->head_dim)
    return 0;
  return x != NULL || gf * gh * gw == 0;
}

typedef struct
{
  const tk_rope *rope;
  rotate_fn rotate;
  float *x;
  int64_t ld;
  int n_heads;
  int64_t grid_h, grid_w;
} rope_job;

static void
rope_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const rope_job *job = data;

  apply_tokens (job->rope, job->rotate, job->x, job->ld, job->n_heads, job->grid_h, job->grid_w, start, end);
}

tk_status
tk_rope_apply (const tk_rope *rope,
               tk_pool *pool,
               float *x,
               int64_t ld,
               int n_heads,
               int64_t grid_f,
               int64_t grid_h,
               int64_t grid_w)
{
  rope_job job = { rope, pick_rotate (), x, ld, n_heads, grid_h, grid_w };
  int64_t n_tokens;

  if (!args_ok (rope, x, ld, n_heads, grid_f, grid_h, grid_w))
    return TK_ERR_INVALID;
  n_tokens = grid_f * grid_h * grid_w;
  if (n_tokens == 0)
    return TK_OK;
  tk_pool_parallel_for (pool, n_tokens, 64, rope_cb, &job);
  return TK_OK;
}

tk_status
tk_rope_apply_range (const tk_rope *rope,
                     float *x,
                     int64_t ld,
                     int n_heads,
                     int64_t grid_f,
                     int64_t grid_h,
                     int64_t grid_w,
                     int64_t token_start,
                     int64_t token_end)
{
  if (!args_ok (rope, x, ld, n_heads, grid_f, grid_h, grid_w))
    return TK_ERR_INVALID;
  if (token_start < 0 || token_end < token_start || token_end > grid_f * grid_h * grid_w)
    return TK_ERR_INVALID;
  if (token_end == token_start)
    return TK_OK;
  apply_tokens (rope, pick_rotate (), x, ld, n_heads, grid_h, grid_w, token_start, token_end);
  return TK_OK;
}
