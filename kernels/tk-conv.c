/* tk-conv.c: implicit-GEMM convolutions, the panel product, resampling and
 * (un)patchify.
 *
 * A convolution output frame is a [out_channels, pixels] matrix: the product
 * of the weights [out_channels, K] (K = in_channels · kt · kh · kw, packed at
 * creation in panels of TK_PANEL_MR rows) with the input patches [K, pixels].
 * Each work item takes CONV_NB output pixels of one frame and walks K in
 * blocks of CONV_KC: it gathers that block of patches into a panel that stays
 * in L2, then runs the panel product over every group of TK_PANEL_MR output
 * channels. The weights are read once per item, the patches once per
 * channel group from cache, and the whole im2col matrix never exists.
 * The bias is one more column of the packed weights, met by a row of ones
 * in the last block, so the output is written by the products alone; the
 * first block stores rather than accumulates. Items are handed out to the
 * threads one at a time (tk_pool_parallel_for_dynamic), so a core that
 * other processes share simply takes fewer of them.
 *
 * With AVX2 or AVX-512, a 3×3 kernel with stride and padding 1 (the VAE's)
 * runs as Winograd F(2×2, 3×3) instead, on the same panel product with
 * 2.25× fewer multiply-adds (see the section below).
 *
 * With four output channels or fewer (the decoder's RGB head) a gathered
 * value would feed only a few multiply-adds, so with AVX-512 such a
 * convolution skips the panel: direct_run streams each input row through
 * all horizontal taps into per-pixel accumulators.
 */
#include "tk-conv.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TK_X86 1
#define AVX2_TARGET __attribute__ ((target ("avx2,fma")))
#define AVX512_TARGET __attribute__ ((target ("avx512f,avx512bw,avx512dq,avx512vl,fma")))
#else
#define TK_X86 0
#endif

#define MR TK_PANEL_MR
#define NR TK_PANEL_NR

/* K rows and output pixels of one gathered panel: 256 × 192 floats, 192 KiB
 * (plus the row of ones that applies the bias in a convolution's last block). */
#define CONV_KC 256
#define CONV_NB (4 * NR)
/* Largest patch-vector length of the patch embedding: its per-item panels
 * (PE_PANELS of them) must fit in one workspace panel. */
#define PE_PANELS 8
#define PE_MAX_K 768

/* ---- the panel product ---- */

/* The portable product works on 4 × 16 sub-tiles held in 16 four-lane
 * vectors (GCC and Clang vector extensions: SSE2 or NEON registers where the
 * target has them, scalar code elsewhere), six passes per tile. */
typedef float v4f __attribute__ ((vector_size (16)));

static inline v4f
load4 (const float *p)
{
  v4f v;

  memcpy (&v, p, sizeof v);
  return v;
}

static void
panel_portable_4x16 (int64_t k, const float *a, const float *b, int64_t ldb, float acc[4][16])
{
  v4f c[4][4];

  memset (c, 0, sizeof c);
  for (int64_t p = 0; p < k; p++)
    {
      v4f b0 = load4 (b), b1 = load4 (b + 4), b2 = load4 (b + 8), b3 = load4 (b + 12);

      for (int r = 0; r < 4; r++)
        {
          v4f ar = { a[r], a[r], a[r], a[r] };

          c[r][0] += ar * b0;
          c[r][1] += ar * b1;
          c[r][2] += ar * b2;
          c[r][3] += ar * b3;
        }
      a += MR;
      b += ldb;
    }
  memcpy (acc, c, sizeof c);
}

static void
panel_portable (int64_t k,
                const float *a,
                const float *b,
                int64_t ldb,
                float *c,
                int64_t ldc,
                int m,
                int n,
                const float *col_scale,
                int accumulate)
{
  for (int r0 = 0; r0 < m; r0 += 4)
    for (int j0 = 0; j0 < n; j0 += 16)
      {
        float acc[4][16];

        panel_portable_4x16 (k, a + r0, b + j0, ldb, acc);
        for (int r = 0; r < 4 && r0 + r < m; r++)
          {
            float *cr = c + (r0 + r) * ldc;

            for (int j = j0; j < j0 + 16 && j < n; j++)
              {
                float old = 0.0f;

                if (accumulate)
                  old = col_scale != NULL ? cr[j] * col_scale[j] : cr[j];
                cr[j] = old + acc[r][j - j0];
              }
          }
      }
}

#if TK_X86

/* Four rows by 24 columns at a time: 12 accumulators, three B vectors and a
 * broadcast fill the 16 registers. The 8 × 48 tile takes four passes. */
AVX2_TARGET static void
panel_avx2_4x24 (int64_t k,
                 const float *a,
                 const float *b,
                 int64_t ldb,
                 float *c,
                 int64_t ldc,
                 int m,
                 int n,
                 const float *col_scale,
                 int accumulate)
{
  __m256 c00 = _mm256_setzero_ps (), c01 = c00, c02 = c00;
  __m256 c10 = c00, c11 = c00, c12 = c00;
  __m256 c20 = c00, c21 = c00, c22 = c00;
  __m256 c30 = c00, c31 = c00, c32 = c00;

  for (int64_t p = 0; p < k; p++)
    {
      __m256 b0 = _mm256_loadu_ps (b);
      __m256 b1 = _mm256_loadu_ps (b + 8);
      __m256 b2 = _mm256_loadu_ps (b + 16);
      __m256 ar;

      ar = _mm256_broadcast_ss (a + 0);
      c00 = _mm256_fmadd_ps (ar, b0, c00);
      c01 = _mm256_fmadd_ps (ar, b1, c01);
      c02 = _mm256_fmadd_ps (ar, b2, c02);
      ar = _mm256_broadcast_ss (a + 1);
      c10 = _mm256_fmadd_ps (ar, b0, c10);
      c11 = _mm256_fmadd_ps (ar, b1, c11);
      c12 = _mm256_fmadd_ps (ar, b2, c12);
      ar = _mm256_broadcast_ss (a + 2);
      c20 = _mm256_fmadd_ps (ar, b0, c20);
      c21 = _mm256_fmadd_ps (ar, b1, c21);
      c22 = _mm256_fmadd_ps (ar, b2, c22);
      ar = _mm256_broadcast_ss (a + 3);
      c30 = _mm256_fmadd_ps (ar, b0, c30);
      c31 = _mm256_fmadd_ps (ar, b1, c31);
      c32 = _mm256_fmadd_ps (ar, b2, c32);
      a += MR;
      b += ldb;
    }

  {
    __m256 acc[4][3] = { { c00, c01, c02 }, { c10, c11, c12 }, { c20, c21, c22 }, { c30, c31, c32 } };
    __m256i lanes = _mm256_setr_epi32 (0, 1, 2, 3, 4, 5, 6, 7);
    __m256i mask[3];
    __m256 scale[3];

    for (int v = 0; v < 3; v++)
      {
        mask[v] = _mm256_cmpgt_epi32 (_mm256_set1_epi32 (n - 8 * v), lanes);
        scale[v]
            = col_scale != NULL ? _mm256_maskload_ps (col_scale + 8 * v, mask[v]) : _mm256_set1_ps (1.0f);
      }
    for (int r = 0; r < m && r < 4; r++)
      for (int v = 0; v < 3; v++)
        {
          float *cp = c + r * ldc + 8 * v;
          __m256 x = acc[r][v];

          if (accumulate)
            x = _mm256_fmadd_ps (_mm256_maskload_ps (cp, mask[v]), scale[v], x);
          _mm256_maskstore_ps (cp, mask[v], x);
        }
  }
}

AVX2_TARGET static void
panel_avx2 (int64_t k,
            const float *a,
            const float *b,
            int64_t ldb,
            float *c,
            int64_t ldc,
            int m,
            int n,
            const float *col_scale,
            int accumulate)
{
  for (int half = 0; half < 2; half++)
    {
      int rows = m - 4 * half;

      if (rows <= 0)
        break;
      for (int cb = 0; cb < 2; cb++)
        {
          int cols = n - 24 * cb;

          if (cols <= 0)
            break;
          panel_avx2_4x24 (k, a + 4 * half, b + 24 * cb, ldb, c + 4 * half * ldc + 24 * cb, ldc, rows, cols,
                           col_scale != NULL ? col_scale + 24 * cb : NULL, accumulate);
        }
    }
}

static inline __mmask16
lane_mask (int n, int offset)
{
  int left = n - offset;

  if (left >= 16)
    return 0xFFFF;
  if (left <= 0)
    return 0;
  return (__mmask16)((1u << left) - 1);
}

#define PANEL_ROW(r)                                                                                         \
  do                                                                                                         \
    {                                                                                                        \
      __m512 ar = _mm512_set1_ps (a[r]);                                                                     \
      c##r##0 = _mm512_fmadd_ps (ar, b0, c##r##0);                                                           \
      c##r##1 = _mm512_fmadd_ps (ar, b1, c##r##1);                                                           \
      c##r##2 = _mm512_fmadd_ps (ar, b2, c##r##2);                                                           \
    }                                                                                                        \
  while (0)

#define PANEL_STORE(r)                                                                                       \
  do                                                                                                         \
    {                                                                                                        \
      if ((r) < m)                                                                                           \
        {                                                                                                    \
          float *cr = c + (r)*ldc;                                                                           \
          if (accumulate)                                                                                    \
            {                                                                                                \
              c##r##0 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (k0, cr), s0, c##r##0);                       \
              c##r##1 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (k1, cr + 16), s1, c##r##1);                  \
              c##r##2 = _mm512_fmadd_ps (_mm512_maskz_loadu_ps (k2, cr + 32), s2, c##r##2);                  \
            }                                                                                                \
          _mm512_mask_storeu_ps (cr, k0, c##r##0);                                                           \
          _mm512_mask_storeu_ps (cr + 16, k1, c##r##1);                                                      \
          _mm512_mask_storeu_ps (cr + 32, k2, c##r##2);                                                      \
        }                                                                                                    \
    }                                                                                                        \
  while (0)

/* 8 × 48: 24 accumulators, three B vectors, broadcasts straight from memory. */
AVX512_TARGET static void
panel_avx512 (int64_t k,
              const float *a,
              const float *b,
              int64_t ldb,
              float *c,
              int64_t ldc,
              int m,
              int n,
              const float *col_scale,
              int accumulate)
{
  __m512 c00 = _mm512_setzero_ps (), c01 = c00, c02 = c00;
  __m512 c10 = c00, c11 = c00, c12 = c00;
  __m512 c20 = c00, c21 = c00, c22 = c00;
  __m512 c30 = c00, c31 = c00, c32 = c00;
  __m512 c40 = c00, c41 = c00, c42 = c00;
  __m512 c50 = c00, c51 = c00, c52 = c00;
  __m512 c60 = c00, c61 = c00, c62 = c00;
  __m512 c70 = c00, c71 = c00, c72 = c00;
  __mmask16 k0 = lane_mask (n, 0), k1 = lane_mask (n, 16), k2 = lane_mask (n, 32);
  __m512 s0, s1, s2;

#pragma GCC unroll 2
  for (int64_t p = 0; p < k; p++)
    {
      __m512 b0 = _mm512_loadu_ps (b);
      __m512 b1 = _mm512_loadu_ps (b + 16);
      __m512 b2 = _mm512_loadu_ps (b + 32);

      PANEL_ROW (0);
      PANEL_ROW (1);
      PANEL_ROW (2);
      PANEL_ROW (3);
      PANEL_ROW (4);
      PANEL_ROW (5);
      PANEL_ROW (6);
      PANEL_ROW (7);
      a += MR;
      b += ldb;
    }

  if (col_scale != NULL)
    {
      s0 = _mm512_maskz_loadu_ps (k0, col_scale);
      s1 = _mm512_maskz_loadu_ps (k1, col_scale + 16);
      s2 = _mm512_maskz_loadu_ps (k2, col_scale + 32);
    }
  else
    {
      s0 = s1 = s2 = _mm512_set1_ps (1.0f);
    }
  PANEL_STORE (0);
  PANEL_STORE (1);
  PANEL_STORE (2);
  PANEL_STORE (3);
  PANEL_STORE (4);
  PANEL_STORE (5);
  PANEL_STORE (6);
  PANEL_STORE (7);
}

#undef PANEL_ROW
#undef PANEL_STORE

#endif /* TK_X86 */

tk_panel_fn
tk_panel_kernel (tk_isa isa)
{
#if TK_X86
  if (isa >= TK_ISA_AVX512)
    return panel_avx512;
  if (isa >= TK_ISA_AVX2)
    return panel_avx2;
#else
  (void)isa;
#endif
  return panel_portable;
}

/* ---- sizes ---- */

static int
mul_ok (int64_t a, int64_t b, int64_t *out)
{
  if (a < 0 || b < 0 || (a != 0 && b > INT64_MAX / a))
    return 0;
  *out = a * b;
  return 1;
}

/* a · b · c · d fits in a size_t allocation of floats. */
static int
count_ok (int64_t a, int64_t b, int64_t c, int64_t d, int64_t *out)
{
  int64_t ab, abc, abcd;

  if (!mul_ok (a, b, &ab) || !mul_ok (ab, c, &abc) || !mul_ok (abc, d, &abcd))
    return 0;
  if ((uint64_t)abcd > SIZE_MAX / sizeof (float))
    return 0;
  *out = abcd;
  return 1;
}

static int64_t
min64 (int64_t a, int64_t b)
{
  return a < b ? a : b;
}

static int64_t
ceil_div (int64_t a, int64_t b)
{
  return (a + b - 1) / b;
}

/* ---- parameters ---- */

tk_conv_params
tk_conv_params_causal (int in_channels, int out_channels, int kt, int kh, int kw)
{
  tk_conv_params p;

  memset (&p, 0, sizeof p);
  p.in_channels = in_channels;
  p.out_channels = out_channels;
  p.kernel_t = kt;
  p.kernel_h = kh;
  p.kernel_w = kw;
  p.stride_t = p.stride_h = p.stride_w = 1;
  p.pad_front = kt - 1;
  p.pad_top = p.pad_bottom = (kh - 1) / 2;
  p.pad_left = p.pad_right = (kw - 1) / 2;
  return p;
}

tk_conv_params
tk_conv_params_2d (int in_channels, int out_channels, int kh, int kw, int stride, int pad)
{
  tk_conv_params p;

  memset (&p, 0, sizeof p);
  p.in_channels = in_channels;
  p.out_channels = out_channels;
  p.kernel_t = 1;
  p.kernel_h = kh;
  p.kernel_w = kw;
  p.stride_t = 1;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_bottom = p.pad_left = p.pad_right = pad;
  return p;
}

static int
params_valid (const tk_conv_params *p)
{
  return p != NULL && p->in_channels > 0 && p->out_channels > 0 && p->kernel_t > 0 && p->kernel_h > 0
         && p->kernel_w > 0 && p->stride_t > 0 && p->stride_h > 0 && p->stride_w > 0 && p->pad_front >= 0
         && p->pad_top >= 0 && p->pad_bottom >= 0 && p->pad_left >= 0 && p->pad_right >= 0;
}

static int
out_extent (int64_t in, int64_t pad, int kernel, int stride, int64_t *out)
{
  if (in < 0 || in > INT64_MAX / 2 || in + pad < kernel)
    return 0;
  *out = (in + pad - kernel) / stride + 1;
  return 1;
}

tk_status
tk_conv_output_shape (const tk_conv_params *params,
                      int64_t frames,
                      int64_t height,
                      int64_t width,
                      int64_t *out_frames,
                      int64_t *out_height,
                      int64_t *out_width)
{
  int64_t t, h, w;

  if (!params_valid (params))
    return TK_ERR_INVALID;
  if (!out_extent (frames, params->pad_front, params->kernel_t, params->stride_t, &t)
      || !out_extent (height, (int64_t)params->pad_top + params->pad_bottom, params->kernel_h,
                      params->stride_h, &h)
      || !out_extent (width, (int64_t)params->pad_left + params->pad_right, params->kernel_w,
                      params->stride_w, &w))
    return TK_ERR_INVALID;
  if (out_frames != NULL)
    *out_frames = t;
  if (out_height != NULL)
    *out_height = h;
  if (out_width != NULL)
    *out_width = w;
  return TK_OK;
}

/* ---- the convolution object ---- */

struct tk_conv
{
  tk_conv_params p;
  int64_t k;        /* in_channels · kt · kh · kw */
  int64_t m_panels; /* ⌈out_channels / MR⌉ */
  /* [m_panels][k + 1][MR], rows beyond out_channels zero; row k holds the
   * bias, which the panels multiply with a row of ones. */
  float *packed;
  float *bias; /* [out_channels], zero when there is none */
  uint64_t id; /* unique in the process: names it in a workspace's cache */
};

static _Atomic uint64_t next_conv_id = 1;

tk_status
tk_conv_new (const tk_conv_params *params, const float *weight, const float *bias, tk_conv **out)
{
  tk_conv *conv;
  int64_t k, n_packed;

  if (out == NULL)
    return TK_ERR_INVALID;
  *out = NULL;
  if (!params_valid (params) || weight == NULL)
    return TK_ERR_INVALID;
  if (!count_ok (params->in_channels, params->kernel_t, params->kernel_h, params->kernel_w, &k)
      || !count_ok (ceil_div (params->out_channels, MR), k + 1, MR, 1, &n_packed))
    return TK_ERR_INVALID;

  conv = calloc (1, sizeof *conv);
  if (conv == NULL)
    return TK_ERR_NOMEM;
  conv->p = *params;
  conv->id = atomic_fetch_add (&next_conv_id, 1);
  conv->k = k;
  conv->m_panels = ceil_div (params->out_channels, MR);
  conv->packed = tk_aligned_alloc ((size_t)n_packed * sizeof (float));
  conv->bias = tk_aligned_calloc ((size_t)params->out_channels, sizeof (float));
  if (conv->packed == NULL || conv->bias == NULL)
    {
      tk_conv_free (conv);
      return TK_ERR_NOMEM;
    }
  for (int64_t mp = 0; mp < conv->m_panels; mp++)
    for (int r = 0; r < MR; r++)
      {
        int64_t co = mp * MR + r;
        float *dst = conv->packed + mp * (k + 1) * MR + r;

        if (co < params->out_channels)
          {
            const float *src = weight + co * k;

            for (int64_t kk = 0; kk < k; kk++)
              dst[kk * MR] = src[kk];
            dst[k * MR] = bias != NULL ? bias[co] : 0.0f;
          }
        else
          {
            for (int64_t kk = 0; kk <= k; kk++)
              dst[kk * MR] = 0.0f;
          }
      }
  if (bias != NULL)
    memcpy (conv->bias, bias, (size_t)params->out_channels * sizeof (float));
  *out = conv;
  return TK_OK;
}

void
tk_conv_free (tk_conv *conv)
{
  if (conv == NULL)
    return;
  tk_aligned_free (conv->packed);
  tk_aligned_free (conv->bias);
  free (conv);
}

const tk_conv_params *
tk_conv_get_params (const tk_conv *conv)
{
  return conv == NULL ? NULL : &conv->p;
}

/* ---- workspace and cache ---- */

struct tk_conv_ws
{
  int n_threads;
  float **panel; /* per thread: (CONV_KC + 1) × CONV_NB floats */
  /* The Winograd path's, grown on first use: per thread V and M, and U. */
  float **wino;
  size_t wino_floats;
  float *wino_u;
  size_t wino_u_floats;
  /* The convolution whose U for all of its panels wino_u holds, or 0: a
   * convolution run on several bands in a row transforms its weights once. */
  uint64_t wino_u_conv;
};

tk_conv_ws *
tk_conv_ws_new (int n_threads)
{
  tk_conv_ws *ws;

  if (n_threads < 1)
    return NULL;
  ws = calloc (1, sizeof *ws);
  if (ws == NULL)
    return NULL;
  ws->n_threads = n_threads;
  ws->panel = calloc ((size_t)n_threads, sizeof *ws->panel);
  ws->wino = calloc ((size_t)n_threads, sizeof *ws->wino);
  if (ws->panel == NULL || ws->wino == NULL)
    {
      free (ws->panel);
      free (ws->wino);
      free (ws);
      return NULL;
    }
  for (int i = 0; i < n_threads; i++)
    {
      ws->panel[i] = tk_aligned_alloc ((size_t)(CONV_KC + 1) * CONV_NB * sizeof (float));
      if (ws->panel[i] == NULL)
        {
          tk_conv_ws_free (ws);
          return NULL;
        }
    }
  return ws;
}

void
tk_conv_ws_free (tk_conv_ws *ws)
{
  if (ws == NULL)
    return;
  for (int i = 0; i < ws->n_threads; i++)
    {
      tk_aligned_free (ws->panel[i]);
      tk_aligned_free (ws->wino[i]);
    }
  free (ws->panel);
  free (ws->wino);
  tk_aligned_free (ws->wino_u);
  free (ws);
}

struct tk_conv_cache
{
  int channels;
  int capacity; /* frames it can hold: kernel_t - 1 */
  int n_frames; /* frames it holds */
  /* The slots form a ring, so a push overwrites the oldest frames in place
   * instead of moving the others: the oldest frame is in slot first. */
  int first;
  int64_t height, width;
  int64_t frame_size; /* channels · height · width */
  float *data;        /* [capacity][channels][height][width] */
};

/* Channel 0 of the i-th oldest stored frame. */
static float *
cache_frame (const tk_conv_cache *cache, int64_t i)
{
  return cache->data + ((cache->first + i) % cache->capacity) * cache->frame_size;
}

tk_conv_cache *
tk_conv_cache_new (int channels, int frames, int64_t height, int64_t width)
{
  tk_conv_cache *cache;
  int64_t frame_size, total;

  if (channels < 1 || frames < 0 || height < 1 || width < 1)
    return NULL;
  if (!count_ok (channels, height, width, 1, &frame_size) || !count_ok (frame_size, frames, 1, 1, &total))
    return NULL;
  cache = calloc (1, sizeof *cache);
  if (cache == NULL)
    return NULL;
  cache->channels = channels;
  cache->capacity = frames;
  cache->height = height;
  cache->width = width;
  cache->frame_size = frame_size;
  cache->data = tk_aligned_alloc ((size_t)total * sizeof (float));
  if (cache->data == NULL)
    {
      free (cache);
      return NULL;
    }
  return cache;
}

void
tk_conv_cache_free (tk_conv_cache *cache)
{
  if (cache == NULL)
    return;
  tk_aligned_free (cache->data);
  free (cache);
}

void
tk_conv_cache_reset (tk_conv_cache *cache)
{
  if (cache != NULL)
    cache->n_frames = cache->first = 0;
}

int
tk_conv_cache_n_frames (const tk_conv_cache *cache)
{
  return cache == NULL ? 0 : cache->n_frames;
}

typedef struct
{
  tk_conv_cache *cache;
  const float *in;
  int64_t frames;    /* of the input */
  int64_t first_new; /* the first input frame kept */
  int64_t slot0;     /* the ring position it goes to */
} push_job;

static void
push_worker (void *data, int64_t start, int64_t end, int thread_index)
{
  const push_job *job = data;
  const tk_conv_cache *cache = job->cache;
  int64_t hw = cache->height * cache->width;

  (void)thread_index;
  for (int64_t i = start; i < end; i++)
    {
      int64_t f = i / cache->channels, c = i % cache->channels;
      float *dst = cache->data + ((job->slot0 + f) % cache->capacity) * cache->frame_size + c * hw;

      memcpy (dst, job->in + (c * job->frames + job->first_new + f) * hw, (size_t)hw * sizeof (float));
    }
}

/* Keeps the last capacity frames of [cached frames, in]: the new frames go
 * into the free slots, then over the oldest ones. */
static void
cache_push (tk_conv_cache *cache, tk_pool *pool, const float *in, int64_t frames)
{
  push_job job;
  int64_t take_new, total;

  if (cache->capacity == 0)
    return;
  take_new = min64 (frames, cache->capacity);
  job = (push_job){ cache, in, frames, frames - take_new,
                    (cache->first + cache->n_frames) % cache->capacity };
  tk_pool_parallel_for (pool, take_new * cache->channels, 16, push_worker, &job);
  total = cache->n_frames + take_new;
  if (total > cache->capacity)
    {
      cache->first = (int)((cache->first + total - cache->capacity) % cache->capacity);
      total = cache->capacity;
    }
  cache->n_frames = (int)total;
}

/* ---- forward ---- */

/* The Winograd path: where a run of output tiles goes: rows y0 (and y0 + 1 when two_rows) of
 * an output plane ow wide, from column col0, clipped at ow. */
typedef struct
{
  float *y0;
  int two_rows;
  int64_t col0, ow;
} wino_dst;

typedef struct
{
  const tk_conv *conv;
  tk_panel_fn panel;
  float **scratch;
  const float *in;
  int64_t frames, height, width;
  const tk_conv_cache *cache; /* frames before the input, or NULL */
  int n_cached;
  float *out;
  int64_t out_frames, out_height, out_width, out_pixels;
  int64_t blocks_per_frame;
  int64_t m_chunks;
  int direct; /* few output channels: direct_block instead of the panels */
  /* The Winograd path: K = in_channels · kernel_t, the tile grid, the
   * transforms, and the panels of output channels whose U is made. */
  int64_t wino_kw, wino_tiles_h, wino_tiles_w;
  void (*wino_in) (
      const float *rows[4], int64_t width, int64_t tx0, int64_t len, float *v, int64_t pos_stride);
  void (*wino_out) (const float *m, int64_t pos_stride, int64_t len, float bias, const wino_dst *d);
  int64_t wino_mp0, wino_panels;
  const float *wino_u;
} conv_job;

/* Channel 0 of virtual input frame v (negative: before the input) and the
 * distance between its channels, or NULL for a padding frame. */
static const float *
frame_at (const conv_job *job, int64_t v, int64_t *channel_stride)
{
  int64_t hw = job->height * job->width;

  if (v >= 0)
    {
      if (v >= job->frames)
        return NULL;
      *channel_stride = job->frames * hw;
      return job->in + v * hw;
    }
  if (job->cache != NULL && v >= -(int64_t)job->n_cached)
    {
      *channel_stride = hw;
      return cache_frame (job->cache, job->n_cached + v);
    }
  return NULL;
}

/* Gathers rows [k0, k0 + kc) of the patch matrix for output pixels
 * [p0, p0 + nb) of output frame t into panel (rows CONV_NB floats apart,
 * columns beyond nb zero). */
static void
gather_panel (const conv_job *job, int64_t t, int64_t p0, int64_t nb, int64_t k0, int64_t kc, float *panel)
{
  const tk_conv_params *p = &job->conv->p;
  int64_t taps = (int64_t)p->kernel_t * p->kernel_h * p->kernel_w;
  int64_t hw_taps = (int64_t)p->kernel_h * p->kernel_w;
  int64_t ow = job->out_width;
  /* The block's pixels as runs along output rows, and the patch row of k0
   * as (channel, tap) counters: found once here and then stepped, since
   * divisions per row cost as much as the copies on the 3×3×3 layers. */
  int64_t run_ho[CONV_NB], run_wo[CONV_NB], run_len[CONV_NB];
  int n_runs = 0;
  int64_t ci = k0 / taps, tap = k0 % taps;
  int64_t a = tap / hw_taps, b = (tap % hw_taps) / p->kernel_w, cw = tap % p->kernel_w;

  for (int64_t pix = p0; pix < p0 + nb; n_runs++)
    {
      run_ho[n_runs] = pix / ow;
      run_wo[n_runs] = pix % ow;
      run_len[n_runs] = min64 (ow - run_wo[n_runs], p0 + nb - pix);
      pix += run_len[n_runs];
    }

  for (int64_t kk = 0; kk < kc; kk++)
    {
      int64_t channel_stride = 0;
      const float *frame = frame_at (job, t * p->stride_t + a - p->pad_front, &channel_stride);
      float *row = panel + kk * CONV_NB;
      float *dst = row;

      if (frame == NULL)
        {
          memset (row, 0, CONV_NB * sizeof (float));
        }
      else
        {
          frame += ci * channel_stride;
          for (int r = 0; r < n_runs; r++)
            {
              int64_t run = run_len[r], wo = run_wo[r];
              int64_t hi = run_ho[r] * p->stride_h + b - p->pad_top;

              if (hi < 0 || hi >= job->height)
                {
                  memset (dst, 0, (size_t)run * sizeof (float));
                }
              else if (p->stride_w == 1)
                {
                  const float *src = frame + hi * job->width;
                  int64_t wi0 = wo + cw - p->pad_left;
                  int64_t lo = wi0 < 0 ? min64 (-wi0, run) : 0;
                  int64_t up = min64 (run, job->width - wi0);

                  if (up < lo)
                    up = lo;
                  if (lo > 0)
                    memset (dst, 0, (size_t)lo * sizeof (float));
                  if (up > lo)
                    memcpy (dst + lo, src + (wi0 + lo), (size_t)(up - lo) * sizeof (float));
                  if (run > up)
                    memset (dst + up, 0, (size_t)(run - up) * sizeof (float));
                }
              else
                {
                  const float *src = frame + hi * job->width;

                  for (int64_t x = 0; x < run; x++)
                    {
                      int64_t wi = (wo + x) * p->stride_w + cw - p->pad_left;

                      dst[x] = wi >= 0 && wi < job->width ? src[wi] : 0.0f;
                    }
                }
              dst += run;
            }
          if (nb < CONV_NB)
            memset (row + nb, 0, (size_t)(CONV_NB - nb) * sizeof (float));
        }
      /* The next patch row: width tap, then height, then time, then channel. */
      if (++cw == p->kernel_w)
        {
          cw = 0;
          if (++b == p->kernel_h)
            {
              b = 0;
              if (++a == p->kernel_t)
                {
                  a = 0;
                  ci++;
                }
            }
        }
    }
}

#if TK_X86
/* Output channels computed by the direct path, and the widest kernel it takes. */
#define DIRECT_ROWS 4
#define DIRECT_MAX_KW 7
#define DIRECT_VECS (CONV_NB / 16)

/* Lanes [lo, hi) of the 16 starting at offset, as a mask. */
static inline __mmask16
range_mask (int64_t lo, int64_t hi, int64_t offset)
{
  int64_t a = lo - offset < 0 ? 0 : lo - offset;
  int64_t b = hi - offset > 16 ? 16 : hi - offset;

  if (b <= a)
    return 0;
  return (__mmask16)(((1u << (b - a)) - 1) << a);
}

/* The 16 floats of row starting at column x0, lanes outside mask zero.
 * Every pointer formed stays inside the row: lanes left of column 0 are
 * filled by an expanding load from the row's start, and a vector with no
 * lane inside the row reads nothing. */
AVX512_TARGET static inline __m512
load_row (const float *row, int64_t x0, __mmask16 mask)
{
  if (mask == 0)
    return _mm512_setzero_ps ();
  if (x0 < 0)
    return _mm512_maskz_expandloadu_ps (mask, row);
  return _mm512_maskz_loadu_ps (mask, row + x0);
}

/* Output pixels wo0 … wo0 + len - 1 (len ≤ CONV_NB) of output row ho for
 * every output channel, straight from the input frames. With few output
 * channels each gathered patch value would be used only a few times, so
 * copying it into a panel costs as much as the product itself. Instead each
 * input row (channel, temporal tap, vertical tap) is streamed once, left to
 * right, into accumulators for all horizontal taps; lanes outside the frame
 * are masked off (masked AVX-512 loads never touch them). */
AVX512_TARGET static void
direct_run (const conv_job *job,
            int64_t t,
            int64_t ho,
            int64_t wo0,
            int64_t len,
            float *acc,
            float *dst,
            int64_t channel_stride)
{
  const tk_conv *conv = job->conv;
  const tk_conv_params *p = &conv->p;
  int64_t hw_taps = (int64_t)p->kernel_h * p->kernel_w;
  int64_t taps = p->kernel_t * hw_taps;
  int cout = p->out_channels, kw = p->kernel_w;
  int n_vecs = (int)((len + 15) / 16);
  __mmask16 mask[DIRECT_MAX_KW][DIRECT_VECS];

  for (int r = 0; r < DIRECT_ROWS; r++)
    {
      __m512 bv = _mm512_set1_ps (r < cout ? conv->bias[r] : 0.0f);

      for (int v = 0; v < n_vecs; v++)
        _mm512_store_ps (acc + r * CONV_NB + 16 * v, bv);
    }
  for (int cw = 0; cw < kw; cw++)
    {
      int64_t wi0 = wo0 + cw - p->pad_left;
      int64_t lo = wi0 < 0 ? -wi0 : 0;
      int64_t up = job->width - wi0 < len ? job->width - wi0 : len;

      for (int v = 0; v < n_vecs; v++)
        mask[cw][v] = range_mask (lo, up, 16 * v);
    }

  for (int a = 0; a < p->kernel_t; a++)
    {
      int64_t channel_stride_in = 0;
      const float *frame = frame_at (job, t * p->stride_t + a - p->pad_front, &channel_stride_in);

      if (frame == NULL)
        continue;
      for (int b = 0; b < p->kernel_h; b++)
        {
          int64_t hi = ho + b - p->pad_top;
          const float *w0 = conv->packed + ((int64_t)a * hw_taps + (int64_t)b * kw) * MR;

          if (hi < 0 || hi >= job->height)
            continue;
          for (int64_t ci = 0; ci < p->in_channels; ci++)
            {
              const float *row = frame + ci * channel_stride_in + hi * job->width;
              const float *wc = w0 + ci * taps * MR;

              for (int v = 0; v < n_vecs; v++)
                {
                  float *av = acc + 16 * v;
                  __m512 c0 = _mm512_load_ps (av);
                  __m512 c1 = _mm512_load_ps (av + CONV_NB);
                  __m512 c2 = _mm512_load_ps (av + 2 * CONV_NB);
                  __m512 c3 = _mm512_load_ps (av + 3 * CONV_NB);

                  for (int cw = 0; cw < kw; cw++)
                    {
                      const float *wt = wc + cw * MR;
                      __m512 x = load_row (row, wo0 + cw - p->pad_left + 16 * v, mask[cw][v]);

                      c0 = _mm512_fmadd_ps (_mm512_set1_ps (wt[0]), x, c0);
                      c1 = _mm512_fmadd_ps (_mm512_set1_ps (wt[1]), x, c1);
                      c2 = _mm512_fmadd_ps (_mm512_set1_ps (wt[2]), x, c2);
                      c3 = _mm512_fmadd_ps (_mm512_set1_ps (wt[3]), x, c3);
                    }
                  _mm512_store_ps (av, c0);
                  _mm512_store_ps (av + CONV_NB, c1);
                  _mm512_store_ps (av + 2 * CONV_NB, c2);
                  _mm512_store_ps (av + 3 * CONV_NB, c3);
                }
            }
        }
    }
  for (int r = 0; r < cout; r++)
    memcpy (dst + r * channel_stride, acc + r * CONV_NB, (size_t)len * sizeof (float));
}
#endif /* TK_X86 */

/* Output pixels [p0, p0 + nb) of output frame t on the direct path, with
 * the worker's panel as the accumulators. */
static void
direct_block (
    const conv_job *job, int64_t t, int64_t p0, int64_t nb, float *panel, float *base, int64_t channel_stride)
{
#if TK_X86
  int64_t ow = job->out_width;
  int64_t pix = p0;

  while (pix < p0 + nb)
    {
      int64_t ho = pix / ow, wo = pix % ow;
      int64_t run = min64 (ow - wo, p0 + nb - pix);

      direct_run (job, t, ho, wo, run, panel, base + (pix - p0), channel_stride);
      pix += run;
    }
#else
  (void)job, (void)t, (void)p0, (void)nb, (void)panel, (void)base, (void)channel_stride;
#endif
}

/* Work item → its output frame t, its block of that frame, and its output
 * channel panels [mp0, mp1) out of n_panels. */
static void
item_split (
    const conv_job *job, int64_t item, int64_t n_panels, int64_t *t, int64_t *blk, int64_t *mp0, int64_t *mp1)
{
  int64_t per_chunk = ceil_div (n_panels, job->m_chunks);
  int64_t rest = item / job->m_chunks;

  *blk = rest % job->blocks_per_frame;
  *t = rest / job->blocks_per_frame;
  *mp0 = item % job->m_chunks * per_chunk;
  *mp1 = min64 (n_panels, *mp0 + per_chunk);
}

/* ---- Winograd F(2×2, 3×3) ---- */

/* A 3×3 convolution with stride 1 and padding 1 (the VAE's spatial kernels,
 * with any number of time taps) takes 16 multiplications per 2×2 output
 * tile instead of 36: the output tile is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for the
 * 4×4 input tile d, with the transforms of Lavin and Gray's F(2, 3):
 *
 *   Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *   G  = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]
 *   Aᵀ = [1 1 1 0; 0 1 -1 -1]
 *
 * Summed over K = in_channels · kernel_t, the 16 elementwise products become
 * 16 products [out_channels × K] · [K × tiles], one per tile position, run
 * with the same panel product as the direct path. A work item takes WINO_NT
 * tiles of one frame: it transforms their input WINO_KC rows of K at a time
 * into V [16][WINO_KC][WINO_NT], accumulates M [16][channels][WINO_NT] over
 * K, and transforms M into the output. The transformed weights U
 * [panels][16][K][MR] are made at the start of a call into the workspace,
 * at most WINO_U_BYTES and WINO_MAX_PANELS panels of them at a time, so they
 * cost no memory beyond it; when they all fit, the next call of the same
 * convolution (the next band of rows) finds them there. The transforms
 * only add, subtract and halve, so the result stays within a few units in
 * the last place of the direct product's. */
#define WINO_KC 128
#define WINO_NT NR
#define WINO_U_BYTES ((size_t)32 << 20)
#define WINO_MAX_PANELS 48
#define WINO_V_FLOATS (16 * WINO_KC * WINO_NT)
/* Per thread: V, then M for up to WINO_MAX_PANELS panels. */
#define WINO_THREAD_FLOATS ((size_t)WINO_V_FLOATS + 16 * WINO_MAX_PANELS * MR * WINO_NT)

/* Four output channels or fewer take the direct path instead, as do all
 * without AVX2, whose transforms would cost more than they save. */
static int
wino_eligible (const tk_conv_params *p)
{
  return TK_X86 && tk_isa_active () >= TK_ISA_AVX2 && p->out_channels > 4 && p->kernel_h == 3
         && p->kernel_w == 3 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 1 && p->pad_bottom == 1
         && p->pad_left == 1 && p->pad_right == 1;
}

typedef struct
{
  const tk_conv *conv;
  int64_t kw; /* in_channels · kernel_t */
  int64_t mp0;
  float *u;
} wino_weights_job;

/* U = G g Gᵀ for the output-channel panels [mp0 + start, mp0 + end), eight
 * channels side by side as in the packed weights. */
static void
wino_weights_worker (void *data, int64_t start, int64_t end, int thread_index)
{
  const wino_weights_job *job = data;
  const tk_conv *conv = job->conv;
  int64_t kw = job->kw;

  (void)thread_index;
  for (int64_t i = start; i < end; i++)
    {
      const float *packed = conv->packed + (job->mp0 + i) * (conv->k + 1) * MR;
      float *u = job->u + i * 16 * kw * MR;

      for (int64_t kk = 0; kk < kw; kk++)
        {
          const float *g = packed + kk * 9 * MR;
          float t[4][3][MR];

          for (int c = 0; c < 3; c++)
            for (int r = 0; r < MR; r++)
              {
                float g0 = g[c * MR + r], g1 = g[(3 + c) * MR + r], g2 = g[(6 + c) * MR + r];

                t[0][c][r] = g0;
                t[1][c][r] = 0.5f * (g0 + g1 + g2);
                t[2][c][r] = 0.5f * (g0 - g1 + g2);
                t[3][c][r] = g2;
              }
          for (int a = 0; a < 4; a++)
            {
              float *u0 = u + ((4 * a) * kw + kk) * MR;
              float *u1 = u0 + kw * MR, *u2 = u1 + kw * MR, *u3 = u2 + kw * MR;

              for (int r = 0; r < MR; r++)
                {
                  float t0 = t[a][0][r], t1 = t[a][1][r], t2 = t[a][2][r];

                  u0[r] = t0;
                  u1[r] = 0.5f * (t0 + t1 + t2);
                  u2[r] = 0.5f * (t0 - t1 + t2);
                  u3[r] = t2;
                }
            }
        }
    }
}

/* A run of tiles along one tile row: tiles tx0 … tx0 + len - 1 of tile row
 * ty, at offset off in the work item's block. */
typedef struct
{
  int64_t ty, tx0, len, off;
} wino_run;

static int
wino_runs (int64_t tiles_w, int64_t tb0, int64_t nt, wino_run *runs)
{
  int n = 0;

  for (int64_t i = tb0; i < tb0 + nt; n++)
    {
      runs[n].ty = i / tiles_w;
      runs[n].tx0 = i % tiles_w;
      runs[n].len = min64 (tiles_w - runs[n].tx0, tb0 + nt - i);
      runs[n].off = i - tb0;
      i += runs[n].len;
    }
  return n;
}

#if TK_X86

/* V[pos][l] (positions pos_stride floats apart) = Bᵀ d B for the tiles
 * tx0 … tx0 + len - 1, whose 4×4 inputs start at column 2·tx - 1 of the
 * four input rows (NULL: a padding row); columns outside [0, width) are
 * zero. */
static void
wino_input_portable (
    const float *rows[4], int64_t width, int64_t tx0, int64_t len, float *v, int64_t pos_stride)
{
  for (int64_t l = 0; l < len; l++)
    {
      int64_t x0 = 2 * (tx0 + l) - 1;
      float u[4][4];

      for (int i = 0; i < 4; i++)
        {
          float d[4];

          for (int j = 0; j < 4; j++)
            d[j] = rows[i] != NULL && x0 + j >= 0 && x0 + j < width ? rows[i][x0 + j] : 0.0f;
          u[i][0] = d[0] - d[2];
          u[i][1] = d[1] + d[2];
          u[i][2] = d[2] - d[1];
          u[i][3] = d[1] - d[3];
        }
      for (int j = 0; j < 4; j++)
        {
          v[j * pos_stride + l] = u[0][j] - u[2][j];
          v[(4 + j) * pos_stride + l] = u[1][j] + u[2][j];
          v[(8 + j) * pos_stride + l] = u[2][j] - u[1][j];
          v[(12 + j) * pos_stride + l] = u[1][j] - u[3][j];
        }
    }
}

/* The output tiles from M[pos][l] (positions pos_stride floats apart) plus
 * bias, to d. */
static void
wino_output_portable (const float *m, int64_t pos_stride, int64_t len, float bias, const wino_dst *d)
{
  for (int64_t l = 0; l < len; l++)
    {
      float s[2][4], y[2][2];
      int64_t x = d->col0 + 2 * l;

      for (int j = 0; j < 4; j++)
        {
          float m0 = m[j * pos_stride + l], m1 = m[(4 + j) * pos_stride + l];
          float m2 = m[(8 + j) * pos_stride + l], m3 = m[(12 + j) * pos_stride + l];

          s[0][j] = m0 + m1 + m2;
          s[1][j] = m1 - m2 - m3;
        }
      for (int i = 0; i < 2; i++)
        {
          y[i][0] = s[i][0] + s[i][1] + s[i][2] + bias;
          y[i][1] = s[i][1] - s[i][2] - s[i][3] + bias;
        }
      for (int i = 0; i < 1 + d->two_rows; i++)
        {
          d->y0[i * d->ow + x] = y[i][0];
          if (x + 1 < d->ow)
            d->y0[i * d->ow + x + 1] = y[i][1];
        }
    }
}

/* Columns x0 … x0 + 15 of a row width floats long, zero outside it. */
AVX512_TARGET static inline __m512
wino_cols (const float *row, int64_t x0, int64_t width)
{
  return load_row (row, x0, range_mask (-x0, width - x0, 0));
}

AVX512_TARGET static void
wino_input_avx512 (
    const float *rows[4], int64_t width, int64_t tx0, int64_t len, float *v, int64_t pos_stride)
{
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32 (1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);

  for (int64_t l0 = 0; l0 < len; l0 += 16)
    {
      int64_t x0 = 2 * (tx0 + l0) - 1;
      __mmask16 keep = lane_mask ((int)min64 (len - l0, 16), 0);
      __m512 u[4][4];

      for (int i = 0; i < 4; i++)
        {
          __m512 a, b, a2, b2, d0, d1, d2, d3;

          if (rows[i] == NULL)
            {
              u[i][0] = u[i][1] = u[i][2] = u[i][3] = _mm512_setzero_ps ();
              continue;
            }
          a = wino_cols (rows[i], x0, width);
          b = wino_cols (rows[i], x0 + 16, width);
          a2 = wino_cols (rows[i], x0 + 2, width);
          b2 = wino_cols (rows[i], x0 + 18, width);
          d0 = _mm512_permutex2var_ps (a, even, b);
          d1 = _mm512_permutex2var_ps (a, odd, b);
          d2 = _mm512_permutex2var_ps (a2, even, b2);
          d3 = _mm512_permutex2var_ps (a2, odd, b2);
          u[i][0] = _mm512_sub_ps (d0, d2);
          u[i][1] = _mm512_add_ps (d1, d2);
          u[i][2] = _mm512_sub_ps (d2, d1);
          u[i][3] = _mm512_sub_ps (d1, d3);
        }
      for (int j = 0; j < 4; j++)
        {
          float *dst = v + l0 + j * pos_stride;

          _mm512_mask_storeu_ps (dst, keep, _mm512_sub_ps (u[0][j], u[2][j]));
          _mm512_mask_storeu_ps (dst + 4 * pos_stride, keep, _mm512_add_ps (u[1][j], u[2][j]));
          _mm512_mask_storeu_ps (dst + 8 * pos_stride, keep, _mm512_sub_ps (u[2][j], u[1][j]));
          _mm512_mask_storeu_ps (dst + 12 * pos_stride, keep, _mm512_sub_ps (u[1][j], u[3][j]));
        }
    }
}

AVX512_TARGET static void
wino_output_avx512 (const float *m, int64_t pos_stride, int64_t len, float bias, const wino_dst *d)
{
  const __m512i lo = _mm512_setr_epi32 (0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i hi = _mm512_setr_epi32 (8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  __m512 bv = _mm512_set1_ps (bias);

  for (int64_t l0 = 0; l0 < len; l0 += 16)
    {
      __mmask16 keep = lane_mask ((int)min64 (len - l0, 16), 0);
      int64_t x = d->col0 + 2 * l0;
      int cols = (int)min64 (d->ow - x, 2 * min64 (len - l0, 16));
      __m512 s[2][4];

      for (int j = 0; j < 4; j++)
        {
          const float *mj = m + l0 + j * pos_stride;
          __m512 m0 = _mm512_maskz_loadu_ps (keep, mj);
          __m512 m1 = _mm512_maskz_loadu_ps (keep, mj + 4 * pos_stride);
          __m512 m2 = _mm512_maskz_loadu_ps (keep, mj + 8 * pos_stride);
          __m512 m3 = _mm512_maskz_loadu_ps (keep, mj + 12 * pos_stride);

          s[0][j] = _mm512_add_ps (_mm512_add_ps (m0, m1), m2);
          s[1][j] = _mm512_sub_ps (_mm512_sub_ps (m1, m2), m3);
        }
      for (int i = 0; i < 1 + d->two_rows; i++)
        {
          __m512 ya = _mm512_add_ps (_mm512_add_ps (_mm512_add_ps (s[i][0], s[i][1]), s[i][2]), bv);
          __m512 yb = _mm512_add_ps (_mm512_sub_ps (_mm512_sub_ps (s[i][1], s[i][2]), s[i][3]), bv);
          float *dst = d->y0 + i * d->ow + x;

          _mm512_mask_storeu_ps (dst, lane_mask (cols, 0), _mm512_permutex2var_ps (ya, lo, yb));
          if (cols > 16)
            _mm512_mask_storeu_ps (dst + 16, lane_mask (cols, 16), _mm512_permutex2var_ps (ya, hi, yb));
        }
    }
}

/* Lanes 0, 2, 4, 6 of a then of b, and lanes 1, 3, 5, 7. */
AVX2_TARGET static inline __m256
even8 (__m256 a, __m256 b)
{
  return _mm256_castpd_ps (
      _mm256_permute4x64_pd (_mm256_castps_pd (_mm256_shuffle_ps (a, b, _MM_SHUFFLE (2, 0, 2, 0))), 0xD8));
}

AVX2_TARGET static inline __m256
odd8 (__m256 a, __m256 b)
{
  return _mm256_castpd_ps (
      _mm256_permute4x64_pd (_mm256_castps_pd (_mm256_shuffle_ps (a, b, _MM_SHUFFLE (3, 1, 3, 1))), 0xD8));
}

/* Eight tiles at a time where their 18 input columns lie inside the row;
 * the portable code takes the tiles at the edges. */
AVX2_TARGET static void
wino_input_avx2 (const float *rows[4], int64_t width, int64_t tx0, int64_t len, float *v, int64_t pos_stride)
{
  int64_t l = 0;

  if (tx0 == 0 && len > 0)
    {
      wino_input_portable (rows, width, 0, 1, v, pos_stride);
      l = 1;
    }
  for (; l + 8 <= len && 2 * (tx0 + l) + 17 <= width; l += 8)
    {
      int64_t x0 = 2 * (tx0 + l) - 1;
      __m256 u[4][4];

      for (int i = 0; i < 4; i++)
        {
          const float *row = rows[i];
          __m256 d0, d1, d2, d3;

          if (row == NULL)
            {
              u[i][0] = u[i][1] = u[i][2] = u[i][3] = _mm256_setzero_ps ();
              continue;
            }
          d0 = even8 (_mm256_loadu_ps (row + x0), _mm256_loadu_ps (row + x0 + 8));
          d1 = odd8 (_mm256_loadu_ps (row + x0), _mm256_loadu_ps (row + x0 + 8));
          d2 = even8 (_mm256_loadu_ps (row + x0 + 2), _mm256_loadu_ps (row + x0 + 10));
          d3 = odd8 (_mm256_loadu_ps (row + x0 + 2), _mm256_loadu_ps (row + x0 + 10));
          u[i][0] = _mm256_sub_ps (d0, d2);
          u[i][1] = _mm256_add_ps (d1, d2);
          u[i][2] = _mm256_sub_ps (d2, d1);
          u[i][3] = _mm256_sub_ps (d1, d3);
        }
      for (int j = 0; j < 4; j++)
        {
          float *dst = v + l + j * pos_stride;

          _mm256_storeu_ps (dst, _mm256_sub_ps (u[0][j], u[2][j]));
          _mm256_storeu_ps (dst + 4 * pos_stride, _mm256_add_ps (u[1][j], u[2][j]));
          _mm256_storeu_ps (dst + 8 * pos_stride, _mm256_sub_ps (u[2][j], u[1][j]));
          _mm256_storeu_ps (dst + 12 * pos_stride, _mm256_sub_ps (u[1][j], u[3][j]));
        }
    }
  if (l < len)
    wino_input_portable (rows, width, tx0 + l, len - l, v + l, pos_stride);
}

/* Eight tiles at a time where their 16 output columns lie inside the row. */
AVX2_TARGET static void
wino_output_avx2 (const float *m, int64_t pos_stride, int64_t len, float bias, const wino_dst *d)
{
  __m256 bv = _mm256_set1_ps (bias);
  int64_t l = 0;

  for (; l + 8 <= len && d->col0 + 2 * l + 16 <= d->ow; l += 8)
    {
      __m256 s[2][4];

      for (int j = 0; j < 4; j++)
        {
          const float *mj = m + l + j * pos_stride;
          __m256 m0 = _mm256_loadu_ps (mj), m1 = _mm256_loadu_ps (mj + 4 * pos_stride);
          __m256 m2 = _mm256_loadu_ps (mj + 8 * pos_stride), m3 = _mm256_loadu_ps (mj + 12 * pos_stride);

          s[0][j] = _mm256_add_ps (_mm256_add_ps (m0, m1), m2);
          s[1][j] = _mm256_sub_ps (_mm256_sub_ps (m1, m2), m3);
        }
      for (int i = 0; i < 1 + d->two_rows; i++)
        {
          __m256 ya = _mm256_add_ps (_mm256_add_ps (_mm256_add_ps (s[i][0], s[i][1]), s[i][2]), bv);
          __m256 yb = _mm256_add_ps (_mm256_sub_ps (_mm256_sub_ps (s[i][1], s[i][2]), s[i][3]), bv);
          __m256 lo = _mm256_unpacklo_ps (ya, yb), hi = _mm256_unpackhi_ps (ya, yb);
          float *dst = d->y0 + i * d->ow + d->col0 + 2 * l;

          _mm256_storeu_ps (dst, _mm256_permute2f128_ps (lo, hi, 0x20));
          _mm256_storeu_ps (dst + 8, _mm256_permute2f128_ps (lo, hi, 0x31));
        }
    }
  if (l < len)
    {
      wino_dst rest = *d;

      rest.col0 += 2 * l;
      wino_output_portable (m + l, pos_stride, len - l, bias, &rest);
    }
}
#endif /* TK_X86 */

/* V for tiles [tb0, tb0 + nt) of output frame t and rows [k0, k0 + kc) of K. */
static void
wino_input (
    const conv_job *job, int64_t t, const wino_run *runs, int n_runs, int64_t k0, int64_t kc, float *v)
{
  const tk_conv_params *p = &job->conv->p;

  for (int64_t kk = 0; kk < kc; kk++)
    {
      int64_t ci = (k0 + kk) / p->kernel_t, a = (k0 + kk) % p->kernel_t;
      int64_t channel_stride = 0;
      const float *frame = frame_at (job, t * p->stride_t + a - p->pad_front, &channel_stride);
      float *vk = v + kk * WINO_NT;

      for (int r = 0; r < n_runs; r++)
        {
          const float *rows[4];

          for (int i = 0; i < 4; i++)
            {
              int64_t y = 2 * runs[r].ty - 1 + i;

              rows[i] = frame != NULL && y >= 0 && y < job->height
                            ? frame + ci * channel_stride + y * job->width
                            : NULL;
            }
          job->wino_in (rows, job->width, runs[r].tx0, runs[r].len, vk + runs[r].off, WINO_KC * WINO_NT);
        }
    }
}

static void
wino_worker (void *data, int64_t start, int64_t end, int thread_index)
{
  const conv_job *job = data;
  const tk_conv *conv = job->conv;
  int64_t kw = job->wino_kw, rows = job->wino_panels * MR;
  int64_t channel_stride = job->out_frames * job->out_pixels;
  float *v = job->scratch[thread_index], *m = v + WINO_V_FLOATS;
  wino_run runs[WINO_NT];

  for (int64_t item = start; item < end; item++)
    {
      int64_t t, blk, mp0, mp1, tb0, nt, co0, co1;
      int n_runs;

      item_split (job, item, job->wino_panels, &t, &blk, &mp0, &mp1);
      if (mp0 >= mp1)
        continue;
      tb0 = blk * WINO_NT;
      nt = min64 (WINO_NT, job->wino_tiles_h * job->wino_tiles_w - tb0);
      co0 = (job->wino_mp0 + mp0) * MR;
      co1 = min64 ((job->wino_mp0 + mp1) * MR, conv->p.out_channels);
      n_runs = wino_runs (job->wino_tiles_w, tb0, nt, runs);
      for (int64_t k0 = 0; k0 < kw; k0 += WINO_KC)
        {
          int64_t kc = min64 (WINO_KC, kw - k0);

          wino_input (job, t, runs, n_runs, k0, kc, v);
          for (int64_t mp = mp0; mp < mp1; mp++)
            {
              int mr = (int)min64 (MR, conv->p.out_channels - (job->wino_mp0 + mp) * MR);

              for (int pos = 0; pos < 16; pos++)
                job->panel (kc, job->wino_u + ((mp * 16 + pos) * kw + k0) * MR, v + pos * WINO_KC * WINO_NT,
                            WINO_NT, m + (pos * rows + mp * MR) * WINO_NT, WINO_NT, mr, (int)nt, NULL,
                            k0 > 0);
            }
        }
      for (int64_t co = co0; co < co1; co++)
        {
          const float *mc_row = m + (co - job->wino_mp0 * MR) * WINO_NT;
          float *plane = job->out + co * channel_stride + t * job->out_pixels;

          for (int r = 0; r < n_runs; r++)
            {
              int64_t y = 2 * runs[r].ty;
              wino_dst d
                  = { plane + y * job->out_width, y + 1 < job->out_height, 2 * runs[r].tx0, job->out_width };

              job->wino_out (mc_row + runs[r].off, rows * WINO_NT, runs[r].len, conv->bias[co], &d);
            }
        }
    }
}

static void
conv_worker (void *data, int64_t start, int64_t end, int thread_index)
{
  const conv_job *job = data;
  const tk_conv *conv = job->conv;
  int64_t cout = conv->p.out_channels;
  int64_t channel_stride = job->out_frames * job->out_pixels;
  float *panel = job->scratch[thread_index];

  for (int64_t item = start; item < end; item++)
    {
      int64_t t, blk, mp0, mp1, p0, nb;
      float *base;

      item_split (job, item, conv->m_panels, &t, &blk, &mp0, &mp1);
      if (mp0 >= mp1)
        continue;
      p0 = blk * CONV_NB;
      nb = min64 (CONV_NB, job->out_pixels - p0);
      base = job->out + t * job->out_pixels + p0;
      if (job->direct)
        {
          direct_block (job, t, p0, nb, panel, base, channel_stride);
          continue;
        }
      for (int64_t k0 = 0; k0 < conv->k; k0 += CONV_KC)
        {
          int64_t kc = min64 (CONV_KC, conv->k - k0);

          gather_panel (job, t, p0, nb, k0, kc, panel);
          /* The last block takes one row more: ones, against the bias row of
           * the packed weights, so the bias costs no pass of its own over
           * the output. */
          if (k0 + kc == conv->k)
            {
              float *ones = panel + kc * CONV_NB;

              for (int64_t x = 0; x < CONV_NB; x++)
                ones[x] = x < nb ? 1.0f : 0.0f;
              kc++;
            }
          for (int64_t mp = mp0; mp < mp1; mp++)
            {
              const float *a = conv->packed + (mp * (conv->k + 1) + k0) * MR;
              float *c = base + mp * MR * channel_stride;
              int m = (int)min64 (MR, cout - mp * MR);

              for (int64_t s = 0; s * NR < nb; s++)
                job->panel (kc, a, panel + s * NR, CONV_NB, c + s * NR, channel_stride, m,
                            (int)min64 (NR, nb - s * NR), NULL, k0 > 0);
            }
        }
    }
}

/* Makes the workspace's Winograd buffers: per_thread floats for each thread
 * (zeroed, so the tiles past the end of the last block, which the panels
 * read, are finite) and at least u_floats for U. */
static tk_status
wino_reserve (tk_conv_ws *ws, size_t per_thread, size_t u_floats)
{
  if (ws->wino_floats < per_thread)
    {
      ws->wino_floats = 0;
      for (int i = 0; i < ws->n_threads; i++)
        {
          tk_aligned_free (ws->wino[i]);
          ws->wino[i] = tk_aligned_calloc (per_thread, sizeof (float));
          if (ws->wino[i] == NULL)
            return TK_ERR_NOMEM;
        }
      ws->wino_floats = per_thread;
    }
  if (ws->wino_u_floats < u_floats)
    {
      ws->wino_u_conv = 0;
      tk_aligned_free (ws->wino_u);
      ws->wino_u_floats = 0;
      ws->wino_u = tk_aligned_alloc (u_floats * sizeof (float));
      if (ws->wino_u == NULL)
        return TK_ERR_NOMEM;
      ws->wino_u_floats = u_floats;
    }
  return TK_OK;
}

/* K of the Winograd products: in_channels · kernel_t. */
static int64_t
wino_kw (const tk_conv *conv)
{
  return (int64_t)conv->p.in_channels * conv->p.kernel_t;
}

/* Output-channel panels whose U is made at a time. */
static int64_t
wino_chunk_panels (const tk_conv *conv)
{
  int64_t per_panel = 16 * wino_kw (conv) * MR * (int64_t)sizeof (float);
  int64_t n = (int64_t)(WINO_U_BYTES / (size_t)per_panel);

  return n < 1 ? 1 : min64 (min64 (n, WINO_MAX_PANELS), conv->m_panels);
}

/* Floats of U for one chunk of panels. */
static size_t
wino_u_floats (const tk_conv *conv)
{
  return (size_t)(wino_chunk_panels (conv) * 16 * wino_kw (conv) * MR);
}

/* Work items per block of output pixels or tiles: 1, or more where there
 * are few blocks (small frames, many channels), splitting the n_panels
 * output-channel panels so every thread gets work. */
static int64_t
m_chunks_for (int64_t n_blocks, int64_t n_panels, int n_threads)
{
  if (n_blocks >= 4 * (int64_t)n_threads)
    return 1;
  return min64 (n_panels, ceil_div (4 * (int64_t)n_threads, n_blocks));
}

size_t
tk_conv_ws_bytes (const tk_conv *conv, int n_threads)
{
  size_t bytes = (size_t)n_threads * (CONV_KC + 1) * CONV_NB * sizeof (float);

  if (conv != NULL && wino_eligible (&conv->p))
    bytes += ((size_t)n_threads * WINO_THREAD_FLOATS + wino_u_floats (conv)) * sizeof (float);
  return bytes;
}

static tk_status
wino_forward (conv_job *job, tk_pool *pool, tk_conv_ws *ws, int n_threads)
{
  const tk_conv *conv = job->conv;
  int64_t kw = wino_kw (conv);
  int64_t chunk = wino_chunk_panels (conv);
  int64_t n_blocks;
  tk_status status;

  status = wino_reserve (ws, WINO_THREAD_FLOATS, wino_u_floats (conv));
  if (status != TK_OK)
    return status;
  job->scratch = ws->wino;
  job->wino_u = ws->wino_u;
  job->wino_kw = kw;
  job->wino_tiles_h = ceil_div (job->out_height, 2);
  job->wino_tiles_w = ceil_div (job->out_width, 2);
  job->blocks_per_frame = ceil_div (job->wino_tiles_h * job->wino_tiles_w, WINO_NT);
#if TK_X86
  job->wino_in = wino_input_avx2;
  job->wino_out = wino_output_avx2;
  if (tk_isa_active () >= TK_ISA_AVX512)
    {
      job->wino_in = wino_input_avx512;
      job->wino_out = wino_output_avx512;
    }
#endif
  n_blocks = job->out_frames * job->blocks_per_frame;
  for (int64_t mp0 = 0; mp0 < conv->m_panels; mp0 += chunk)
    {
      wino_weights_job wj = { conv, kw, mp0, ws->wino_u };

      job->wino_mp0 = mp0;
      job->wino_panels = min64 (chunk, conv->m_panels - mp0);
      if (chunk < conv->m_panels || ws->wino_u_conv != conv->id)
        {
          tk_pool_parallel_for (pool, job->wino_panels, 1, wino_weights_worker, &wj);
          ws->wino_u_conv = chunk < conv->m_panels ? 0 : conv->id;
        }
      job->m_chunks = m_chunks_for (n_blocks, job->wino_panels, n_threads);
      tk_pool_parallel_for_dynamic (pool, n_blocks * job->m_chunks, 1, wino_worker, job);
    }
  return TK_OK;
}

tk_status
tk_conv_forward (const tk_conv *conv,
                 tk_pool *pool,
                 tk_conv_ws *ws,
                 tk_conv_cache *cache,
                 const float *in,
                 int64_t frames,
                 int64_t height,
                 int64_t width,
                 float *out)
{
  const tk_conv_params *p;
  conv_job job;
  tk_conv_ws *own_ws = NULL;
  int n_threads = tk_pool_size (pool);
  int64_t check;
  tk_status status;

  if (conv == NULL || in == NULL || out == NULL || frames < 0 || height < 1 || width < 1)
    return TK_ERR_INVALID;
  p = &conv->p;
  if (!count_ok (p->in_channels, frames, height, width, &check))
    return TK_ERR_INVALID;
  if (cache != NULL)
    {
      if (p->stride_t != 1 || p->pad_front != p->kernel_t - 1 || cache->capacity != p->kernel_t - 1
          || cache->channels != p->in_channels || cache->height != height || cache->width != width)
        return TK_ERR_INVALID;
      if (frames == 0)
        return TK_OK;
    }

  memset (&job, 0, sizeof job);
  status = tk_conv_output_shape (p, frames, height, width, &job.out_frames, &job.out_height, &job.out_width);
  if (status != TK_OK)
    return status;
  if (!count_ok (p->out_channels, job.out_frames, job.out_height, job.out_width, &check))
    return TK_ERR_INVALID;
  if (ws == NULL)
    {
      own_ws = tk_conv_ws_new (n_threads);
      if (own_ws == NULL)
        return TK_ERR_NOMEM;
      ws = own_ws;
    }
  else if (ws->n_threads < n_threads)
    {
      return TK_ERR_INVALID;
    }

  job.conv = conv;
  job.panel = tk_panel_kernel (tk_isa_active ());
  job.scratch = ws->panel;
  job.in = in;
  job.frames = frames;
  job.height = height;
  job.width = width;
  job.cache = cache;
  job.n_cached = cache != NULL ? cache->n_frames : 0;
  job.out = out;
  job.out_pixels = job.out_height * job.out_width;
  if (wino_eligible (p))
    {
      status = wino_forward (&job, pool, ws, n_threads);
      if (status != TK_OK)
        {
          tk_conv_ws_free (own_ws);
          return status;
        }
    }
  else
    {
      int64_t n_blocks;

      job.blocks_per_frame = ceil_div (job.out_pixels, CONV_NB);
      n_blocks = job.out_frames * job.blocks_per_frame;
      job.m_chunks = m_chunks_for (n_blocks, conv->m_panels, n_threads);
#if TK_X86
      job.direct = p->out_channels <= DIRECT_ROWS && p->kernel_w <= DIRECT_MAX_KW && p->stride_h == 1
                   && p->stride_w == 1 && tk_isa_active () >= TK_ISA_AVX512;
#endif
      /* Handed out one item at a time: a core shared with other work then
       * just takes fewer items, and each item's result is the same on any
       * thread. */
      tk_pool_parallel_for_dynamic (pool, n_blocks * job.m_chunks, 1, conv_worker, &job);
    }
  if (cache != NULL)
    cache_push (cache, pool, in, frames);
  tk_conv_ws_free (own_ws);
  return TK_OK;
}

/* ---- patch embedding ---- */

struct tk_patch_embed
{
  int channels, dim, ph, pw;
  int64_t k;       /* channels · ph · pw */
  int64_t dim_pad; /* dim rounded up to NR */
  float *wt;       /* [k][dim_pad]: the transposed weight, zero beyond dim */
  float *bias;     /* [dim] */
};

tk_status
tk_patch_embed_new (
    int channels, int dim, int ph, int pw, const float *weight, const float *bias, tk_patch_embed **out)
{
  tk_patch_embed *pe;
  int64_t k;

  if (out == NULL)
    return TK_ERR_INVALID;
  *out = NULL;
  if (channels < 1 || dim < 1 || ph < 1 || pw < 1 || weight == NULL)
    return TK_ERR_INVALID;
  k = (int64_t)channels * ph * pw;
  if (k > PE_MAX_K)
    return TK_ERR_INVALID;
  pe = calloc (1, sizeof *pe);
  if (pe == NULL)
    return TK_ERR_NOMEM;
  pe->channels = channels;
  pe->dim = dim;
  pe->ph = ph;
  pe->pw = pw;
  pe->k = k;
  pe->dim_pad = ceil_div (dim, NR) * NR;
  pe->wt = tk_aligned_calloc ((size_t)(k * pe->dim_pad), sizeof (float));
  pe->bias = tk_aligned_calloc ((size_t)dim, sizeof (float));
  if (pe->wt == NULL || pe->bias == NULL)
    {
      tk_patch_embed_free (pe);
      return TK_ERR_NOMEM;
    }
  for (int64_t d = 0; d < dim; d++)
    for (int64_t kk = 0; kk < k; kk++)
      pe->wt[kk * pe->dim_pad + d] = weight[d * k + kk];
  if (bias != NULL)
    memcpy (pe->bias, bias, (size_t)dim * sizeof (float));
  *out = pe;
  return TK_OK;
}

void
tk_patch_embed_free (tk_patch_embed *pe)
{
  if (pe == NULL)
    return;
  tk_aligned_free (pe->wt);
  tk_aligned_free (pe->bias);
  free (pe);
}

typedef struct
{
  const tk_patch_embed *pe;
  tk_panel_fn panel;
  float **scratch;
  const float *x;
  int64_t frames, height, width, hp, wp, tokens_n;
  float *tokens;
  int64_t ldt;
} patch_job;

static void
patch_worker (void *data, int64_t start, int64_t end, int thread_index)
{
  const patch_job *job = data;
  const tk_patch_embed *pe = job->pe;
  int64_t hw = job->height * job->width;
  int64_t channel_stride = job->frames * hw;
  float *panels = job->scratch[thread_index];

  for (int64_t item = start; item < end; item++)
    {
      int64_t l0 = item * PE_PANELS * MR;
      int64_t n_tok = min64 (PE_PANELS * MR, job->tokens_n - l0);
      int64_t n_panels = ceil_div (n_tok, MR);

      /* Panel q holds the patch vectors of tokens l0 + 8q … as [k][MR]. */
      for (int64_t q = 0; q < n_panels; q++)
        for (int r = 0; r < MR; r++)
          {
            int64_t l = l0 + q * MR + r;
            float *dst = panels + q * pe->k * MR + r;

            if (l >= job->tokens_n)
              {
                for (int64_t kk = 0; kk < pe->k; kk++)
                  dst[kk * MR] = 0.0f;
                continue;
              }
            {
              int64_t f = l / (job->hp * job->wp);
              int64_t h = (l / job->wp) % job->hp;
              int64_t w = l % job->wp;
              const float *src = job->x + f * hw + h * pe->ph * job->width + w * pe->pw;
              int64_t kk = 0;

              for (int c = 0; c < pe->channels; c++)
                for (int a = 0; a < pe->ph; a++)
                  for (int b = 0; b < pe->pw; b++)
                    dst[kk++ * MR] = src[c * channel_stride + a * job->width + b];
            }
          }
      for (int64_t q = 0; q < n_panels; q++)
        {
          int m = (int)min64 (MR, n_tok - q * MR);

          for (int r = 0; r < m; r++)
            memcpy (job->tokens + (l0 + q * MR + r) * job->ldt, pe->bias, (size_t)pe->dim * sizeof (float));
        }
      for (int64_t s = 0; s * NR < pe->dim; s++)
        for (int64_t q = 0; q < n_panels; q++)
          job->panel (pe->k, panels + q * pe->k * MR, pe->wt + s * NR, pe->dim_pad,
                      job->tokens + (l0 + q * MR) * job->ldt + s * NR, job->ldt,
                      (int)min64 (MR, n_tok - q * MR), (int)min64 (NR, pe->dim - s * NR), NULL, 1);
    }
}

tk_status
tk_patch_embed_forward (const tk_patch_embed *pe,
                        tk_pool *pool,
                        tk_conv_ws *ws,
                        const float *x,
                        int64_t frames,
                        int64_t height,
                        int64_t width,
                        float *tokens,
                        int64_t ldt)
{
  patch_job job;
  tk_conv_ws *own_ws = NULL;
  int64_t check;

  if (pe == NULL || x == NULL || tokens == NULL || frames < 0 || height < 0 || width < 0 || ldt < pe->dim)
    return TK_ERR_INVALID;
  if (height % pe->ph != 0 || width % pe->pw != 0 || !count_ok (pe->channels, frames, height, width, &check))
    return TK_ERR_INVALID;
  memset (&job, 0, sizeof job);
  job.pe = pe;
  job.x = x;
  job.frames = frames;
  job.height = height;
  job.width = width;
  job.hp = height / pe->ph;
  job.wp = width / pe->pw;
  job.tokens_n = frames * job.hp * job.wp;
  job.tokens = tokens;
  job.ldt = ldt;
  if (job.tokens_n == 0)
    return TK_OK;
  if (!count_ok (job.tokens_n, ldt, 1, 1, &check))
    return TK_ERR_INVALID;
  if (ws == NULL)
    {
      own_ws = tk_conv_ws_new (tk_pool_size (pool));
      if (own_ws == NULL)
        return TK_ERR_NOMEM;
      ws = own_ws;
    }
  else if (ws->n_threads < tk_pool_size (pool))
    {
      return TK_ERR_INVALID;
    }
  job.panel = tk_panel_kernel (tk_isa_active ());
  job.scratch = ws->panel;
  tk_pool_parallel_for (pool, ceil_div (job.tokens_n, PE_PANELS * MR), 1, patch_worker, &job);
  tk_conv_ws_free (own_ws);
  return TK_OK;
}

/* ---- rearrangements: one output row per work item ---- */

typedef struct rows_job rows_job;
typedef void (*rows_fn) (const rows_job *job, int64_t row);

struct rows_job
{
  rows_fn fn;
  const float *in;
  float *out;
  int64_t channels, frames, height, width; /* of the input */
  int64_t out_channels, out_frames, out_height, out_width;
  int64_t ldt;
  int ft, fs, ph, pw, drop;
  int64_t group; /* repeats of DupUp3D, group size of AvgDown3D */
};

static void
rows_worker (void *data, int64_t start, int64_t end, int thread_index)
{
  const rows_job *job = data;

  (void)thread_index;
  for (int64_t row = start; row < end; row++)
    job->fn (job, row);
}

static tk_status
run_rows (tk_pool *pool, rows_job *job)
{
  int64_t rows, check;

  if (!count_ok (job->out_channels, job->out_frames, job->out_height, job->out_width, &check))
    return TK_ERR_INVALID;
  rows = job->out_channels * job->out_frames * job->out_height;
  /* Rows are short; batches of 64 keep the split cheap. */
  tk_pool_parallel_for (pool, rows, 64, rows_worker, job);
  return TK_OK;
}

static int
extents_ok (const float *in, const float *out, int64_t c, int64_t t, int64_t h, int64_t w)
{
  int64_t check;

  return in != NULL && out != NULL && c >= 0 && t >= 0 && h >= 0 && w >= 0 && count_ok (c, t, h, w, &check);
}

static void
unpatchify_row (const rows_job *job, int64_t row)
{
  int64_t y = row % job->out_height;
  int64_t f = (row / job->out_height) % job->out_frames;
  int64_t c = row / (job->out_height * job->out_frames);
  int64_t hp = job->out_height / job->ph, wp = job->out_width / job->pw;
  int64_t h = y / job->ph, q = y % job->ph;
  const float *tok = job->in + ((f * hp + h) * wp) * job->ldt + c;
  float *dst = job->out + row * job->out_width;

  for (int64_t w = 0; w < wp; w++)
    for (int r = 0; r < job->pw; r++)
      dst[w * job->pw + r] = tok[w * job->ldt + (q * job->pw + r) * job->out_channels];
}

tk_status
tk_unpatchify (tk_pool *pool,
               const float *tokens,
               int64_t ldt,
               int channels,
               int64_t frames,
               int64_t hp,
               int64_t wp,
               int ph,
               int pw,
               float *out)
{
  rows_job job;

  if (channels < 1 || ph < 1 || pw < 1 || !extents_ok (tokens, out, channels, frames, hp, wp)
      || ldt < (int64_t)channels * ph * pw || hp > INT64_MAX / ph || wp > INT64_MAX / pw)
    return TK_ERR_INVALID;
  memset (&job, 0, sizeof job);
  job.fn = unpatchify_row;
  job.in = tokens;
  job.out = out;
  job.ldt = ldt;
  job.ph = ph;
  job.pw = pw;
  job.out_channels = channels;
  job.out_frames = frames;
  job.out_height = hp * ph;
  job.out_width = wp * pw;
  return run_rows (pool, &job);
}

static void
upsample_row (const rows_job *job, int64_t row)
{
  int64_t y = row % job->out_height;
  int64_t plane = row / job->out_height;
  const float *src = job->in + (plane * job->height + y / 2) * job->width;
  float *dst = job->out + row * job->out_width;

  for (int64_t x = 0; x < job->width; x++)
    dst[2 * x] = dst[2 * x + 1] = src[x];
}

tk_status
tk_upsample_nearest2x (tk_pool *pool,
                       const float *in,
                       int64_t channels,
                       int64_t frames,
                       int64_t height,
                       int64_t width,
                       float *out)
{
  rows_job job;

  if (!extents_ok (in, out, channels, frames, height, width) || height > INT64_MAX / 4
      || width > INT64_MAX / 4)
    return TK_ERR_INVALID;
  memset (&job, 0, sizeof job);
  job.fn = upsample_row;
  job.in = in;
  job.out = out;
  job.height = height;
  job.width = width;
  job.out_channels = channels;
  job.out_frames = frames;
  job.out_height = 2 * height;
  job.out_width = 2 * width;
  return run_rows (pool, &job);
}

static void
time2x_row (const rows_job *job, int64_t row)
{
  int64_t y = row % job->out_height;
  int64_t tt = (row / job->out_height) % job->out_frames;
  int64_t c = row / (job->out_height * job->out_frames);
  int64_t src_channel = (tt % 2) * job->out_channels + c;
  const float *src = job->in + ((src_channel * job->frames + tt / 2) * job->height + y) * job->width;

  memcpy (job->out + row * job->out_width, src, (size_t)job->width * sizeof (float));
}

tk_status
tk_upsample_time2x (tk_pool *pool,
                    const float *in,
                    int64_t channels,
                    int64_t frames,
                    int64_t height,
                    int64_t width,
                    float *out)
{
  rows_job job;

  if (!extents_ok (in, out, channels, frames, height, width) || channels > INT64_MAX / 2
      || frames > INT64_MAX / 2)
    return TK_ERR_INVALID;
  memset (&job, 0, sizeof job);
  job.fn = time2x_row;
  job.in = in;
  job.out = out;
  job.frames = frames;
  job.height = height;
  job.width = width;
  job.out_channels = channels;
  job.out_frames = 2 * frames;
  job.out_height = height;
  job.out_width = width;
  return run_rows (pool, &job);
}

static void
dup_up_row (const rows_job *job, int64_t row)
{
  int64_t y = row % job->out_height;
  int64_t tt = (row / job->out_height) % job->out_frames + job->drop;
  int64_t o = row / (job->out_height * job->out_frames);
  int64_t t = tt / job->ft, a = tt % job->ft;
  int64_t h = y / job->fs, b = y % job->fs;
  float *dst = job->out + row * job->out_width;

  for (int64_t x = 0; x < job->out_width; x++)
    {
      int64_t w = x / job->fs, cc = x % job->fs;
      int64_t e = ((o * job->ft + a) * job->fs + b) * job->fs + cc;
      int64_t ci = e / job->group;

      dst[x] = job->in[((ci * job->frames + t) * job->height + h) * job->width + w];
    }
}

tk_status
tk_dup_up3d (tk_pool *pool,
             const float *in,
             int64_t in_channels,
             int64_t frames,
             int64_t height,
             int64_t width,
             int64_t out_channels,
             int ft,
             int fs,
             int first_chunk,
             float *out)
{
  rows_job job;
  int64_t expanded, out_frames;

  if (ft < 1 || fs < 1 || in_channels < 1 || out_channels < 1
      || !extents_ok (in, out, in_channels, frames, height, width)
      || !count_ok (out_channels, ft, fs, fs, &expanded) || expanded % in_channels != 0
      || !count_ok (frames, ft, 1, 1, &out_frames) || height > INT64_MAX / fs || width > INT64_MAX / fs)
    return TK_ERR_INVALID;
  memset (&job, 0, sizeof job);
  job.drop = first_chunk ? ft - 1 : 0;
  if (out_frames < job.drop)
    return TK_ERR_INVALID;
  job.fn = dup_up_row;
  job.in = in;
  job.out = out;
  job.frames = frames;
  job.height = height;
  job.width = width;
  job.ft = ft;
  job.fs = fs;
  job.group = expanded / in_channels;
  job.out_channels = out_channels;
  job.out_frames = out_frames - job.drop;
  job.out_height = height * fs;
  job.out_width = width * fs;
  return run_rows (pool, &job);
}

static void
avg_down_row (const rows_job *job, int64_t row)
{
  int64_t h = row % job->out_height;
  int64_t t = (row / job->out_height) % job->out_frames;
  int64_t o = row / (job->out_height * job->out_frames);
  int64_t pad_t = job->out_frames * job->ft - job->frames;
  int64_t per_channel = (int64_t)job->ft * job->fs * job->fs;
  float *dst = job->out + row * job->out_width;

  for (int64_t w = 0; w < job->out_width; w++)
    {
      float sum = 0.0f;

      for (int64_t g = 0; g < job->group; g++)
        {
          int64_t e = o * job->group + g;
          int64_t c = e / per_channel;
          int64_t a = (e / ((int64_t)job->fs * job->fs)) % job->ft;
          int64_t b = (e / job->fs) % job->fs;
          int64_t cc = e % job->fs;
          int64_t ti = t * job->ft + a - pad_t;

          if (ti >= 0)
            sum += job->in[((c * job->frames + ti) * job->height + h * job->fs + b) * job->width + w * job->fs
                           + cc];
        }
      dst[w] = sum / (float)job->group;
    }
}

tk_status
tk_avg_down3d (tk_pool *pool,
               const float *in,
               int64_t in_channels,
               int64_t frames,
               int64_t height,
               int64_t width,
               int64_t out_channels,
               int ft,
               int fs,
               float *out)
{
  rows_job job;
  int64_t folded;

  if (ft < 1 || fs < 1 || in_channels < 1 || out_channels < 1
      || !extents_ok (in, out, in_channels, frames, height, width) || height % fs != 0 || width % fs != 0
      || !count_ok (in_channels, ft, fs, fs, &folded) || folded % out_channels != 0)
    return TK_ERR_INVALID;
  memset (&job, 0, sizeof job);
  job.fn = avg_down_row;
  job.in = in;
  job.out = out;
  job.frames = frames;
  job.height = height;
  job.width = width;
  job.ft = ft;
  job.fs = fs;
  job.group = folded / out_channels;
  job.out_channels = out_channels;
  job.out_frames = ceil_div (frames, ft);
  job.out_height = height / fs;
  job.out_width = width / fs;
  return run_rows (pool, &job);
}

static void
patchify_row (const rows_job *job, int64_t row)
{
  int64_t h = row % job->out_height;
  int64_t t = (row / job->out_height) % job->out_frames;
  int64_t oc = row / (job->out_height * job->out_frames);
  int p = job->ph;
  int64_t q = oc % p, r = (oc / p) % p, c = oc / ((int64_t)p * p);
  const float *src = job->in + ((c * job->frames + t) * job->height + h * p + q) * job->width + r;
  float *dst = job->out + row * job->out_width;

  for (int64_t w = 0; w < job->out_width; w++)
    dst[w] = src[w * p];
}

tk_status
tk_pixel_patchify (tk_pool *pool,
                   const float *in,
                   int64_t channels,
                   int64_t frames,
                   int64_t height,
                   int64_t width,
                   int p,
                   float *out)
{
  rows_job job;
  int64_t folded;

  if (p < 1 || !extents_ok (in, out, channels, frames, height, width) || height % p != 0 || width % p != 0
      || !count_ok (channels, p, p, 1, &folded))
    return TK_ERR_INVALID;
  memset (&job, 0, sizeof job);
  job.fn = patchify_row;
  job.in = in;
  job.out = out;
  job.frames = frames;
  job.height = height;
  job.width = width;
  job.ph = p;
  job.out_channels = folded;
  job.out_frames = frames;
  job.out_height = height / p;
  job.out_width = width / p;
  return run_rows (pool, &job);
}

static void
unpatchify_pixels_row (const rows_job *job, int64_t row)
{
  int64_t y = row % job->out_height;
  int64_t t = (row / job->out_height) % job->out_frames;
  int64_t c = row / (job->out_height * job->out_frames);
  int p = job->ph;
  int64_t h = y / p, q = y % p;
  float *dst = job->out + row * job->out_width;

  for (int r = 0; r < p; r++)
    {
      int64_t ic = (c * p + r) * p + q;
      const float *src = job->in + ((ic * job->frames + t) * job->height + h) * job->width;

      for (int64_t w = 0; w < job->width; w++)
        dst[w * p + r] = src[w];
    }
}

tk_status
tk_pixel_unpatchify (tk_pool *pool,
                     const float *in,
                     int64_t channels,
                     int64_t frames,
                     int64_t height,
                     int64_t width,
                     int p,
                     float *out)
{
  rows_job job;
  int64_t folded;

  if (p < 1 || !extents_ok (in, out, channels, frames, height, width)
      || !count_ok (channels, p, p, 1, &folded) || height > INT64_MAX / p || width > INT64_MAX / p)
    return TK_ERR_INVALID;
  memset (&job, 0, sizeof job);
  job.fn = unpatchify_pixels_row;
  job.in = in;
  job.out = out;
  job.frames = frames;
  job.height = height;
  job.width = width;
  job.ph = p;
  job.out_channels = channels;
  job.out_frames = frames;
  job.out_height = height * p;
  job.out_width = width * p;
  return run_rows (pool, &job);
}
