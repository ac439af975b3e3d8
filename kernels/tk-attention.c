/* tk-attention.c: tiled attention with an online softmax.
 *
 * Per head, the unmasked keys are repacked once: Kᵀ in panels of
 * TK_PANEL_MR keys ([panel][channel][MR]) and V in panels of TK_PANEL_MR
 * channels ([channel panel][key][MR]). A query tile of BQ queries is
 * transposed into Qᵀ [channel][BQ]. Then for each tile of BK keys:
 *
 *   Sᵀ [BK, BQ] = K_tile · Qᵀ          (keys are the panel rows)
 *   column-wise online softmax of Sᵀ   (queries are the vector lanes)
 *   Oᵀ [d, BQ] = Oᵀ · diag (α) + V_tileᵀ · Pᵀ
 *
 * Keeping queries in the vector lanes makes the softmax's running maximum
 * and sum plain element-wise vector operations, and both products read their
 * broadcast operand from a packed panel and their vector operand from a
 * contiguous tile, which is the form the panel product runs at full speed.
 * Scores are kept in base 2 (multiplied by log2 e) so the exponential is
 * exp2.
 */
#include "tk-attention.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tk-conv.h"

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

/* Queries per tile (a multiple of NR and of 16) and keys per tile (a
 * multiple of MR). */
#define BQ 96
#define BK 256
/* Shared packed keys and values of several heads are kept under this many
 * bytes, unless a single head needs more. */
#define PACK_BUDGET ((int64_t)64 << 20)
/* Running maximum of a query that has seen no key yet: finite, so that
 * exp2 (m_old - m_new) stays a number. */
#define NO_MAX (-1e30f)

static const float LOG2E = 1.44269504088896340736f;

typedef struct
{
  float *qt;    /* [head_dim][BQ] */
  float *st;    /* [BK][BQ]: scores, then probabilities */
  float *ot;    /* [dpad][BQ] */
  float *bt;    /* [BQ][BK]: the callback's bias */
  float *stage; /* [2 · MR][head_dim]: rows on their way in or out */
  float *stats; /* m, l and α, BQ each */
} thread_scratch;

struct tk_attention_ws
{
  int n_threads;
  int64_t max_lq, max_lk;
  int heads, head_dim;
  int64_t dpad;   /* head_dim rounded up to MR */
  int64_t lk_pad; /* max_lk rounded up to MR */
  int64_t lq_pad; /* max_lq rounded up to BQ */
  int max_group;  /* heads packed at once */
  float *kpack;   /* [max_group][lk_pad · head_dim] */
  float *vpack;   /* [max_group][dpad · lk_pad] */
  float *relb;    /* [max_group][lq_pad + max_lk - 1] */
  int64_t *keys;  /* [max_lk] */
  thread_scratch *thread;
};

static int64_t
round_up (int64_t a, int64_t b)
{
  return (a + b - 1) / b * b;
}

static int64_t
min64 (int64_t a, int64_t b)
{
  return a < b ? a : b;
}

void
tk_attention_args_init (tk_attention_args *args)
{
  if (args != NULL)
    memset (args, 0, sizeof *args);
}

/* ---- workspace ---- */

static float *
alloc_floats (int64_t n)
{
  if (n < 0 || (uint64_t)n > SIZE_MAX / sizeof (float))
    return NULL;
  return tk_aligned_alloc ((size_t)n * sizeof (float));
}

tk_attention_ws *
tk_attention_ws_new (int n_threads, int64_t max_lq, int64_t max_lk, int heads, int head_dim)
{
  tk_attention_ws *ws;
  int64_t per_head;

  if (n_threads < 1 || max_lq < 1 || max_lk < 1 || heads < 1 || head_dim < 1)
    return NULL;
  /* Keeps every product below comfortably inside int64_t and size_t. */
  if (max_lq > ((int64_t)1 << 40) || max_lk > ((int64_t)1 << 40) || head_dim > (1 << 20))
    return NULL;
  ws = calloc (1, sizeof *ws);
  if (ws == NULL)
    return NULL;
  ws->n_threads = n_threads;
  ws->max_lq = max_lq;
  ws->max_lk = max_lk;
  ws->heads = heads;
  ws->head_dim = head_dim;
  ws->dpad = round_up (head_dim, MR);
  ws->lk_pad = round_up (max_lk, MR);
  ws->lq_pad = round_up (max_lq, BQ);

  /* As many heads at once as the budget allows: each group of heads costs two
   * pool barriers. */
  per_head = ws->lk_pad * (head_dim + ws->dpad) * (int64_t)sizeof (float);
  ws->max_group = heads;
  if (ws->max_group > 1 && per_head * ws->max_group > PACK_BUDGET)
    ws->max_group = (int)(PACK_BUDGET / per_head > 1 ? PACK_BUDGET / per_head : 1);

  ws->kpack = alloc_floats (ws->max_group * ws->lk_pad * head_dim);
  ws->vpack = alloc_floats (ws->max_group * ws->dpad * ws->lk_pad);
  ws->relb = alloc_floats (ws->max_group * (ws->lq_pad + max_lk - 1));
  ws->keys
      = max_lk <= (int64_t)(SIZE_MAX / sizeof (int64_t)) ? malloc ((size_t)max_lk * sizeof (int64_t)) : NULL;
  ws->thread = calloc ((size_t)n_threads, sizeof *ws->thread);
  if (ws->kpack == NULL || ws->vpack == NULL || ws->relb == NULL || ws->keys == NULL || ws->thread == NULL)
    {
      tk_attention_ws_free (ws);
      return NULL;
    }
  for (int t = 0; t < n_threads; t++)
    {
      thread_scratch *s = &ws->thread[t];

      s->qt = alloc_floats ((int64_t)head_dim * BQ);
      s->st = alloc_floats ((int64_t)BK * BQ);
      s->ot = alloc_floats (ws->dpad * BQ);
      s->bt = alloc_floats ((int64_t)BQ * BK);
      s->stats = alloc_floats (3 * BQ);
      s->stage = alloc_floats (2 * MR * (int64_t)head_dim);
      if (s->qt == NULL || s->st == NULL || s->ot == NULL || s->bt == NULL || s->stats == NULL
          || s->stage == NULL)
        {
          tk_attention_ws_free (ws);
          return NULL;
        }
    }
  return ws;
}

void
tk_attention_ws_free (tk_attention_ws *ws)
{
  if (ws == NULL)
    return;
  if (ws->thread != NULL)
    for (int t = 0; t < ws->n_threads; t++)
      {
        tk_aligned_free (ws->thread[t].qt);
        tk_aligned_free (ws->thread[t].st);
        tk_aligned_free (ws->thread[t].ot);
        tk_aligned_free (ws->thread[t].bt);
        tk_aligned_free (ws->thread[t].stats);
        tk_aligned_free (ws->thread[t].stage);
      }
  free (ws->thread);
  tk_aligned_free (ws->kpack);
  tk_aligned_free (ws->vpack);
  tk_aligned_free (ws->relb);
  free (ws->keys);
  free (ws);
}

/* ---- relative-position buckets ---- */

tk_status
tk_attention_t5_buckets (int64_t lq, int64_t lk, int n_buckets, int max_distance, int32_t *out)
{
  int nb = n_buckets / 2;
  int max_exact = nb / 2;
  /* The reference divides in float by a double constant rounded to float. */
  float log_ratio;

  if (out == NULL || lq < 1 || lk < 1 || n_buckets < 4 || max_distance <= max_exact)
    return TK_ERR_INVALID;
  log_ratio = (float)log ((double)max_distance / max_exact);
  for (int64_t rel = -(lq - 1); rel <= lk - 1; rel++)
    {
      int64_t a = rel < 0 ? -rel : rel;
      int32_t bucket = rel > 0 ? nb : 0;

      if (a < max_exact)
        {
          bucket += (int32_t)a;
        }
      else
        {
          float x = logf ((float)a / (float)max_exact) / log_ratio * (float)(nb - max_exact);
          int64_t large = max_exact + (int64_t)x;

          bucket += (int32_t)(large < nb - 1 ? large : nb - 1);
        }
      out[rel + lq - 1] = bucket;
    }
  return TK_OK;
}

/* ---- the online softmax of one tile ---- */

/* st [nk][BQ] holds raw scores of nk keys against BQ queries. Each becomes
 * s · c1 (+ rb_base[i - keys[j]] when rb_base is set, already in base 2), then
 * is exponentiated against the running maximum m, which is updated along
 * with the running sum l; alpha receives each query's rescale factor. */
typedef void (*softmax_fn) (float *st,
                            int64_t nk,
                            float c1,
                            const float *rb_base,
                            const int64_t *keys,
                            float *m,
                            float *l,
                            float *alpha);

static void
softmax_portable (float *st,
                  int64_t nk,
                  float c1,
                  const float *rb_base,
                  const int64_t *keys,
                  float *m,
                  float *l,
                  float *alpha)
{
  float mx[BQ], sum[BQ];

  memcpy (mx, m, sizeof mx);
  for (int64_t j = 0; j < nk; j++)
    {
      float *row = st + j * BQ;
      const float *rb = rb_base != NULL ? rb_base - keys[j] : NULL;

      for (int i = 0; i < BQ; i++)
        {
          float s = row[i] * c1 + (rb != NULL ? rb[i] : 0.0f);

          row[i] = s;
          mx[i] = s > mx[i] ? s : mx[i];
        }
    }
  memset (sum, 0, sizeof sum);
  for (int64_t j = 0; j < nk; j++)
    {
      float *row = st + j * BQ;

      for (int i = 0; i < BQ; i++)
        {
          float p = exp2f (row[i] - mx[i]);

          row[i] = p;
          sum[i] += p;
        }
    }
  for (int i = 0; i < BQ; i++)
    {
      alpha[i] = exp2f (m[i] - mx[i]);
      l[i] = l[i] * alpha[i] + sum[i];
      m[i] = mx[i];
    }
}

#if TK_X86

/* 2^x from 2^round(x) times a degree-7 Taylor polynomial on [-0.5, 0.5]
 * (relative error below 1e-8 before rounding). Inputs below -126 give
 * 2^-126 · 2^f, a value the sums never notice; NaN stays NaN. */
AVX2_TARGET static inline __m256
exp2_avx2 (__m256 x)
{
  __m256 xi, f, p;
  __m256i e;

  x = _mm256_max_ps (_mm256_set1_ps (-126.0f), x);
  x = _mm256_min_ps (_mm256_set1_ps (127.0f), x);
  xi = _mm256_round_ps (x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  f = _mm256_sub_ps (x, xi);
  p = _mm256_set1_ps (1.525273380405984e-05f);
  p = _mm256_fmadd_ps (p, f, _mm256_set1_ps (1.5403530393381606e-04f));
  p = _mm256_fmadd_ps (p, f, _mm256_set1_ps (1.3333558146428443e-03f));
  p = _mm256_fmadd_ps (p, f, _mm256_set1_ps (9.618129107628477e-03f));
  p = _mm256_fmadd_ps (p, f, _mm256_set1_ps (5.550410866482158e-02f));
  p = _mm256_fmadd_ps (p, f, _mm256_set1_ps (2.402265069591007e-01f));
  p = _mm256_fmadd_ps (p, f, _mm256_set1_ps (6.931471805599453e-01f));
  p = _mm256_fmadd_ps (p, f, _mm256_set1_ps (1.0f));
  e = _mm256_slli_epi32 (_mm256_add_epi32 (_mm256_cvtps_epi32 (xi), _mm256_set1_epi32 (127)), 23);
  return _mm256_mul_ps (p, _mm256_castsi256_ps (e));
}

#define V8 (BQ / 8)

AVX2_TARGET static void
softmax_avx2 (float *st,
              int64_t nk,
              float c1,
              const float *rb_base,
              const int64_t *keys,
              float *m,
              float *l,
              float *alpha)
{
  __m256 mx[V8], sum[V8];
  __m256 vc1 = _mm256_set1_ps (c1);

  for (int v = 0; v < V8; v++)
    {
      mx[v] = _mm256_loadu_ps (m + 8 * v);
      sum[v] = _mm256_setzero_ps ();
    }
  for (int64_t j = 0; j < nk; j++)
    {
      float *row = st + j * BQ;
      const float *rb = rb_base != NULL ? rb_base - keys[j] : NULL;

      for (int v = 0; v < V8; v++)
        {
          __m256 s = _mm256_loadu_ps (row + 8 * v);

          s = rb != NULL ? _mm256_fmadd_ps (s, vc1, _mm256_loadu_ps (rb + 8 * v)) : _mm256_mul_ps (s, vc1);
          _mm256_storeu_ps (row + 8 * v, s);
          mx[v] = _mm256_max_ps (mx[v], s);
        }
    }
  for (int64_t j = 0; j < nk; j++)
    {
      float *row = st + j * BQ;

      for (int v = 0; v < V8; v++)
        {
          __m256 p = exp2_avx2 (_mm256_sub_ps (_mm256_loadu_ps (row + 8 * v), mx[v]));

          _mm256_storeu_ps (row + 8 * v, p);
          sum[v] = _mm256_add_ps (sum[v], p);
        }
    }
  for (int v = 0; v < V8; v++)
    {
      __m256 a = exp2_avx2 (_mm256_sub_ps (_mm256_loadu_ps (m + 8 * v), mx[v]));

      _mm256_storeu_ps (alpha + 8 * v, a);
      _mm256_storeu_ps (l + 8 * v, _mm256_fmadd_ps (_mm256_loadu_ps (l + 8 * v), a, sum[v]));
      _mm256_storeu_ps (m + 8 * v, mx[v]);
    }
}

/* As exp2_avx2; scalef gives 0 for large negative inputs. */
AVX512_TARGET static inline __m512
exp2_avx512 (__m512 x)
{
  __m512 xi, f, p;

  x = _mm512_max_ps (_mm512_set1_ps (-150.0f), x);
  x = _mm512_min_ps (_mm512_set1_ps (128.0f), x);
  xi = _mm512_roundscale_ps (x, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  f = _mm512_sub_ps (x, xi);
  p = _mm512_set1_ps (1.525273380405984e-05f);
  p = _mm512_fmadd_ps (p, f, _mm512_set1_ps (1.5403530393381606e-04f));
  p = _mm512_fmadd_ps (p, f, _mm512_set1_ps (1.3333558146428443e-03f));
  p = _mm512_fmadd_ps (p, f, _mm512_set1_ps (9.618129107628477e-03f));
  p = _mm512_fmadd_ps (p, f, _mm512_set1_ps (5.550410866482158e-02f));
  p = _mm512_fmadd_ps (p, f, _mm512_set1_ps (2.402265069591007e-01f));
  p = _mm512_fmadd_ps (p, f, _mm512_set1_ps (6.931471805599453e-01f));
  p = _mm512_fmadd_ps (p, f, _mm512_set1_ps (1.0f));
  return _mm512_scalef_ps (p, xi);
}

#define V16 (BQ / 16)

AVX512_TARGET static void
softmax_avx512 (float *st,
                int64_t nk,
                float c1,
                const float *rb_base,
                const int64_t *keys,
                float *m,
                float *l,
                float *alpha)
{
  __m512 mx[V16], sum[V16];
  __m512 vc1 = _mm512_set1_ps (c1);

  for (int v = 0; v < V16; v++)
    {
      mx[v] = _mm512_loadu_ps (m + 16 * v);
      sum[v] = _mm512_setzero_ps ();
    }
  for (int64_t j = 0; j < nk; j++)
    {
      float *row = st + j * BQ;
      const float *rb = rb_base != NULL ? rb_base - keys[j] : NULL;

      for (int v = 0; v < V16; v++)
        {
          __m512 s = _mm512_loadu_ps (row + 16 * v);

          s = rb != NULL ? _mm512_fmadd_ps (s, vc1, _mm512_loadu_ps (rb + 16 * v)) : _mm512_mul_ps (s, vc1);
          _mm512_storeu_ps (row + 16 * v, s);
          mx[v] = _mm512_max_ps (mx[v], s);
        }
    }
  for (int64_t j = 0; j < nk; j++)
    {
      float *row = st + j * BQ;

      for (int v = 0; v < V16; v++)
        {
          __m512 p = exp2_avx512 (_mm512_sub_ps (_mm512_loadu_ps (row + 16 * v), mx[v]));

          _mm512_storeu_ps (row + 16 * v, p);
          sum[v] = _mm512_add_ps (sum[v], p);
        }
    }
  for (int v = 0; v < V16; v++)
    {
      __m512 a = exp2_avx512 (_mm512_sub_ps (_mm512_loadu_ps (m + 16 * v), mx[v]));

      _mm512_storeu_ps (alpha + 16 * v, a);
      _mm512_storeu_ps (l + 16 * v, _mm512_fmadd_ps (_mm512_loadu_ps (l + 16 * v), a, sum[v]));
      _mm512_storeu_ps (m + 16 * v, mx[v]);
    }
}

#endif /* TK_X86 */

static softmax_fn
softmax_kernel (tk_isa isa)
{
#if TK_X86
  if (isa >= TK_ISA_AVX512)
    return softmax_avx512;
  if (isa >= TK_ISA_AVX2)
    return softmax_avx2;
#else
  (void)isa;
#endif
  return softmax_portable;
}

/* ---- forward ---- */

typedef struct
{
  tk_attention_ws *ws;
  const tk_attention_args *args;
  tk_panel_fn panel;
  softmax_fn softmax;
  float scale;
  int64_t n_valid; /* unmasked keys */
  int64_t nv_pad;  /* n_valid rounded up to MR */
  int64_t n_kpanels;
  int64_t n_qtiles;
  int64_t rel_len; /* lq rounded up to BQ, + lk - 1 */
  int h0;          /* first head of the group */
} attn_job;

static void
pack_worker (void *data, int64_t start, int64_t end, int thread_index)
{
  const attn_job *job = data;
  const tk_attention_ws *ws = job->ws;
  const tk_attention_args *args = job->args;
  int64_t d = args->head_dim;
  const int64_t *keys = ws->keys;
  float *kstage = ws->thread[thread_index].stage;
  float *vstage = kstage + MR * d;

  for (int64_t item = start; item < end; item++)
    {
      int64_t gi = item / job->n_kpanels;
      int64_t kp = item % job->n_kpanels;
      int64_t h = job->h0 + gi;
      float *kdst = ws->kpack + gi * ws->lk_pad * d + kp * d * MR;
      float *vdst = ws->vpack + gi * ws->dpad * ws->lk_pad + kp * MR * MR;
      int rows = (int)min64 (MR, job->n_valid - kp * MR);

      /* The panel's key rows, copied next to each other first (see the
       * queries in tile_worker); missing rows of the last panel are zero. */
      for (int r = 0; r < MR; r++)
        {
          if (r < rows)
            {
              memcpy (kstage + r * d, args->k + keys[kp * MR + r] * args->ldk + h * d,
                      (size_t)d * sizeof (float));
              memcpy (vstage + r * d, args->v + keys[kp * MR + r] * args->ldv + h * d,
                      (size_t)d * sizeof (float));
            }
          else
            {
              memset (kstage + r * d, 0, (size_t)d * sizeof (float));
              memset (vstage + r * d, 0, (size_t)d * sizeof (float));
            }
        }
      /* Kᵀ panel [c][r]. */
      for (int64_t c = 0; c < d; c++)
        for (int r = 0; r < MR; r++)
          kdst[c * MR + r] = kstage[r * d + c];
      /* V panels [c / MR][key][c % MR]: runs of MR channels of one key. */
      for (int64_t c0 = 0; c0 < ws->dpad; c0 += MR)
        {
          float *dst = vdst + (c0 / MR) * job->nv_pad * MR;
          int64_t n = min64 (MR, d - c0);

          for (int r = 0; r < MR; r++)
            for (int e = 0; e < MR; e++)
              dst[r * MR + e] = e < n ? vstage[r * d + c0 + e] : 0.0f;
        }
    }
}

static void
tile_worker (void *data, int64_t start, int64_t end, int thread_index)
{
  const attn_job *job = data;
  const tk_attention_ws *ws = job->ws;
  const tk_attention_args *args = job->args;
  const thread_scratch *s = &ws->thread[thread_index];
  int64_t d = args->head_dim;
  float *m = s->stats, *l = s->stats + BQ, *alpha = s->stats + 2 * BQ;

  for (int64_t item = start; item < end; item++)
    {
      int64_t gi = item / job->n_qtiles;
      int64_t q0 = (item % job->n_qtiles) * BQ;
      int64_t nq = min64 (BQ, args->lq - q0);
      int h = job->h0 + (int)gi;
      const float *kpack = ws->kpack + gi * ws->lk_pad * d;
      const float *vpack = ws->vpack + gi * ws->dpad * ws->lk_pad;
      const float *rb_base = NULL;

      if (args->rel_table != NULL)
        rb_base = ws->relb + gi * job->rel_len + q0 + args->lk - 1;

      /* Qᵀ [c][i], eight queries at a time. Token rows are often a multiple of
       * 4 KiB apart, so they are first copied next to each other: read side
       * by side in place, they would all fall in one L1 set. */
      for (int64_t i0 = 0; i0 < BQ; i0 += 8)
        {
          int rows = (int)(nq - i0 < 0 ? 0 : min64 (8, nq - i0));

          for (int r = 0; r < rows; r++)
            memcpy (s->stage + r * d, args->q + (q0 + i0 + r) * args->ldq + (int64_t)h * d,
                    (size_t)d * sizeof (float));
          for (int64_t c = 0; c < d; c++)
            {
              float *dst = s->qt + c * BQ + i0;

              for (int r = 0; r < rows; r++)
                dst[r] = s->stage[r * d + c];
              for (int r = rows; r < 8; r++)
                dst[r] = 0.0f;
            }
        }
      for (int i = 0; i < BQ; i++)
        {
          m[i] = NO_MAX;
          l[i] = 0.0f;
        }
      memset (s->ot, 0, (size_t)(ws->dpad * BQ) * sizeof (float));

      for (int64_t j0 = 0; j0 < job->n_valid; j0 += BK)
        {
          int64_t nk = min64 (BK, job->n_valid - j0);
          int64_t npan = (nk + MR - 1) / MR;
          float c1 = job->scale * LOG2E;

          for (int64_t jp = 0; jp < npan; jp++)
            for (int64_t sn = 0; sn < BQ; sn += NR)
              job->panel (d, kpack + (j0 / MR + jp) * d * MR, s->qt + sn, BQ, s->st + jp * MR * BQ + sn, BQ,
                          MR, NR, NULL, 0);
          if (args->bias_fn != NULL)
            {
              args->bias_fn (args->bias_data, h, q0, nq, ws->keys + j0, nk, s->bt, BK);
              for (int64_t j = 0; j < nk; j++)
                for (int64_t i = 0; i < nq; i++)
                  s->st[j * BQ + i] = s->st[j * BQ + i] * job->scale + s->bt[i * BK + j];
              c1 = LOG2E;
            }
          job->softmax (s->st, nk, c1, rb_base, ws->keys + j0, m, l, alpha);
          for (int64_t cp = 0; cp < ws->dpad / MR; cp++)
            for (int64_t sn = 0; sn < BQ; sn += NR)
              job->panel (nk, vpack + cp * job->nv_pad * MR + j0 * MR, s->st + sn, BQ,
                          s->ot + cp * MR * BQ + sn, BQ, MR, NR, alpha + sn, 1);
        }

      for (int64_t i0 = 0; i0 < nq; i0 += 8)
        {
          float inv[8];
          int rows = (int)min64 (8, nq - i0);

          for (int r = 0; r < rows; r++)
            inv[r] = l[i0 + r] > 0.0f ? 1.0f / l[i0 + r] : 0.0f;
          for (int64_t c = 0; c < d; c++)
            {
              const float *src = s->ot + c * BQ + i0;

              for (int r = 0; r < rows; r++)
                s->stage[r * d + c] = src[r] * inv[r];
            }
          for (int r = 0; r < rows; r++)
            memcpy (args->out + (q0 + i0 + r) * args->ldo + (int64_t)h * d, s->stage + r * d,
                    (size_t)d * sizeof (float));
        }
    }
}

static void
fill_rel_bias (const attn_job *job, int gi)
{
  const tk_attention_args *args = job->args;
  float *relb = job->ws->relb + gi * job->rel_len;
  int h = job->h0 + gi;

  /* relb[x] is the bias of query i and key j with x = i - j + lk - 1, in base
   * 2; positions past the last query are never used by a real query. */
  for (int64_t x = 0; x < job->rel_len; x++)
    {
      int64_t rel = args->lk - 1 - x;

      if (rel < -(args->lq - 1))
        {
          relb[x] = 0.0f;
          continue;
        }
      relb[x] = args->rel_table[args->rel_buckets[rel + args->lq - 1] * args->rel_bucket_stride
                                + h * args->rel_head_stride]
                * LOG2E;
    }
}

static tk_status
check_args (const tk_attention_ws *ws, tk_pool *pool, const tk_attention_args *args)
{
  int64_t width;

  if (ws == NULL || args == NULL || tk_pool_size (pool) > ws->n_threads)
    return TK_ERR_INVALID;
  if (args->lq < 0 || args->lk < 0 || args->lq > ws->max_lq || args->lk > ws->max_lk
      || args->heads != ws->heads || args->head_dim != ws->head_dim)
    return TK_ERR_INVALID;
  if (args->lq == 0)
    return TK_OK;
  width = (int64_t)args->heads * args->head_dim;
  if (args->q == NULL || args->out == NULL || args->ldq < width || args->ldo < width)
    return TK_ERR_INVALID;
  if (args->lk > 0 && (args->k == NULL || args->v == NULL || args->ldk < width || args->ldv < width))
    return TK_ERR_INVALID;
  if (!isfinite (args->scale))
    return TK_ERR_INVALID;
  if (args->rel_table != NULL && args->lk > 0)
    {
      if (args->rel_buckets == NULL || args->rel_n_buckets < 1 || args->rel_bucket_stride < 0
          || args->rel_head_stride < 0)
        return TK_ERR_INVALID;
      for (int64_t x = 0; x < args->lq + args->lk - 1; x++)
        if (args->rel_buckets[x] < 0 || args->rel_buckets[x] >= args->rel_n_buckets)
          return TK_ERR_INVALID;
    }
  return TK_OK;
}

tk_status
tk_attention_forward (tk_attention_ws *ws, tk_pool *pool, const tk_attention_args *args)
{
  attn_job job;
  tk_isa isa = tk_isa_active ();
  int group;
  tk_status status;

  status = check_args (ws, pool, args);
  if (status != TK_OK || args->lq == 0)
    return status;

  memset (&job, 0, sizeof job);
  job.ws = ws;
  job.args = args;
  job.panel = tk_panel_kernel (isa);
  job.softmax = softmax_kernel (isa);
  job.scale = args->scale != 0.0f ? args->scale : 1.0f / sqrtf ((float)args->head_dim);
  for (int64_t j = 0; j < args->lk; j++)
    if (args->key_mask == NULL || args->key_mask[j] != 0)
      ws->keys[job.n_valid++] = j;

  if (job.n_valid == 0)
    {
      for (int64_t i = 0; i < args->lq; i++)
        memset (args->out + i * args->ldo, 0, (size_t)args->heads * args->head_dim * sizeof (float));
      return TK_OK;
    }

  job.nv_pad = round_up (job.n_valid, MR);
  job.n_kpanels = job.nv_pad / MR;
  job.n_qtiles = (args->lq + BQ - 1) / BQ;
  job.rel_len = round_up (args->lq, BQ) + args->lk - 1;
  group = ws->max_group;

  for (int h0 = 0; h0 < args->heads; h0 += group)
    {
      int g = (int)min64 (group, args->heads - h0);

      job.h0 = h0;
      if (args->rel_table != NULL)
        for (int gi = 0; gi < g; gi++)
          fill_rel_bias (&job, gi);
      /* Panels and tiles do not depend on the thread that computes them,
       * so they are handed out as threads come free: a core that other
       * processes share then takes fewer. */
      tk_pool_parallel_for_dynamic (pool, g * job.n_kpanels, 16, pack_worker, &job);
      tk_pool_parallel_for_dynamic (pool, g * job.n_qtiles, 1, tile_worker, &job);
    }
  return TK_OK;
}
