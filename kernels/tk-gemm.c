/* tk-gemm.c: F32 GEMM on the pool's share of the cores, and the linear
 * layer with weights converted block by block.
 *
 * A parallel product is cut along the longer of m and n, in multiples of 16
 * so neighbouring threads do not share cache lines of C, and each piece is
 * one single-threaded call on a pool thread; cutting the longer side means
 * the operand each thread packs in full is the smaller one. A long enough
 * side is cut into a few pieces per thread, claimed as threads come free
 * (DYNAMIC_PIECE_MIN), so other load on one core does not stall the rest. At the models'
 * shapes this runs within noise of OpenBLAS's own threading (bench-gemm,
 * "split" against "raw") and, unlike lending OpenBLAS the cores, leaves no
 * OpenBLAS worker spinning while the pool does the work between products.
 * TK_GEMM_THREADS_BLAS keeps the one-call way for callers that want it.
 *
 * A weight in a narrow dtype is multiplied in blocks of rows: the pool
 * converts a block into the workspace's shared buffer, then multiplies it
 * with all of x. A shared block (rather than one block per thread) means x
 * is streamed once per block for all threads together, so the larger the
 * block the closer the product gets to the F32 rate.
 *
 * With AVX-512 two more products take over from the split cblas calls: few
 * rows of x (the weight streamed once, see use_gemv) and more rows (tk's
 * blocked product, see use_own), which converts a narrow weight one packed
 * panel at a time.
 */
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define TK_X86 1
#define AVX2_TARGET __attribute__ ((target ("avx2,fma")))
#define AVX512_TARGET __attribute__ ((target ("avx512f,avx512bw,avx512dq,avx512vl,fma,f16c")))
#else
#define TK_X86 0
#endif
#include "tk-gemm.h"

#include <cblas.h>
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "tk-conv.h"
#include "tk-convert.h"

/* Rows of W converted per block by a parallel tk_linear, and by a serial one. */
#define SHARED_BLOCK_ROWS 1024
#define SLOT_BLOCK_ROWS 64
/* Up to this many rows of x, a parallel product with a narrow weight is
 * split over the weight's rows, each thread converting its own. */
#define FEW_ROWS 16
/* Products below this many flops run in the calling thread. */
#define PARALLEL_FLOPS (4.0 * 1024 * 1024)
/* Rows of C per piece when the pool writes the bias. */
#define PREFILL_ROWS_GRAIN 64
/* Pieces of a split product are multiples of this many rows or columns. */
#define SPLIT_ALIGN 16
/* A product whose split side holds several times this many rows or columns
 * is cut into more pieces than threads, handed out as threads come free.
 * Every piece packs the whole other operand again, which at this length
 * costs under 1% of the piece's arithmetic; in return a thread that shares
 * its core with other work no longer holds up the whole product. */
#define DYNAMIC_PIECE_MIN 2048
/* At most this many pieces per thread. */
#define DYNAMIC_PIECES_PER_THREAD 4
/* Columns of x and W per packed block of the blocked product, and rows of W
 * per task (a multiple of TK_PANEL_NR). */
#define OWN_KC 256
#define OWN_NC (8 * TK_PANEL_NR)
/* Groups of W rows per piece of the few-rows product. */
#define GEMV_PIECE 16

enum
{
  ROW_MAJOR = 101,
  NO_TRANS = 111,
  TRANS = 112
};

struct tk_gemm_ws
{
  int n_slots;
  int64_t max_k;
  float *shared; /* SHARED_BLOCK_ROWS × max_k floats */
  float **slot;  /* per slot: SLOT_BLOCK_ROWS × max_k floats */
  float **pack;  /* per slot: OWN_NC × OWN_KC floats */
};

/* ---- OpenBLAS threads and the optional BF16 GEMM ---- */

typedef void (*set_threads_fn) (int);
typedef int (*get_threads_fn) (void);

static pthread_once_t blas_once = PTHREAD_ONCE_INIT;
static set_threads_fn blas_set_threads;
static get_threads_fn blas_get_threads;
static _Atomic (tk_sbgemm_fn) sbgemm_impl;
static void (*blas_shutdown_threads) (void);
static _Atomic (tk_gemm_threading) threading = TK_GEMM_THREADS_POOL;

#if defined(__x86_64__) || defined(__i386__)
/* AVX512_BF16 is CPUID leaf 7, sub-leaf 1, EAX bit 5; read directly because
 * not every compiler's __builtin_cpu_supports knows the name. */
static int
cpu_has_avx512bf16 (void)
{
  unsigned int a, b, c, d;

  __builtin_cpu_init ();
  if (!__builtin_cpu_supports ("avx512f"))
    return 0;
  if (!__get_cpuid_count (7, 1, &a, &b, &c, &d))
    return 0;
  return (a & (1u << 5)) != 0;
}
#endif

static void
blas_resolve (void)
{
  void *sym;

  /* Looked up rather than linked, so another CBLAS still builds and runs
   * (then its own threading is the user's to set, e.g. by environment). */
  sym = dlsym (RTLD_DEFAULT, "openblas_set_num_threads");
  memcpy (&blas_set_threads, &sym, sizeof sym);
  sym = dlsym (RTLD_DEFAULT, "openblas_get_num_threads");
  memcpy (&blas_get_threads, &sym, sizeof sym);
  /* OpenBLAS's pthread server (0.3.x) joins its workers here and starts them
   * again on its next threaded call; it is the only way to stop them
   * spinning in sched_yield for OPENBLAS_THREAD_TIMEOUT (2^28 cycles by
   * default, read once at load) after a threaded call. */
  sym = dlsym (RTLD_DEFAULT, "blas_thread_shutdown_");
  memcpy (&blas_shutdown_threads, &sym, sizeof sym);

  sym = dlsym (RTLD_DEFAULT, "cblas_sbgemm");
#if defined(__x86_64__) || defined(__i386__)
  /* Without AVX512_BF16, OpenBLAS's BF16 kernels are slower than converting. */
  if (!cpu_has_avx512bf16 ())
    sym = NULL;
#else
  sym = NULL;
#endif
  {
    tk_sbgemm_fn fn;

    memcpy (&fn, &sym, sizeof fn);
    atomic_store (&sbgemm_impl, fn);
  }
}

void
tk_blas_single_threaded (void)
{
  pthread_once (&blas_once, blas_resolve);
  if (blas_set_threads != NULL && (blas_get_threads == NULL || blas_get_threads () != 1))
    blas_set_threads (1);
}

int
tk_gemm_have_sbgemm (void)
{
  pthread_once (&blas_once, blas_resolve);
  return atomic_load (&sbgemm_impl) != NULL;
}

tk_sbgemm_fn
tk_gemm_set_sbgemm (tk_sbgemm_fn fn)
{
  pthread_once (&blas_once, blas_resolve);
  return atomic_exchange (&sbgemm_impl, fn);
}

tk_gemm_threading
tk_gemm_set_threading (tk_gemm_threading mode)
{
  return atomic_exchange (&threading, mode);
}

tk_gemm_threading
tk_gemm_get_threading (void)
{
  pthread_once (&blas_once, blas_resolve);
  if (atomic_load (&threading) == TK_GEMM_THREADS_BLAS && blas_set_threads != NULL)
    return TK_GEMM_THREADS_BLAS;
  return TK_GEMM_THREADS_POOL;
}

/* ---- the split product ---- */

typedef struct
{
  int trans_a, trans_b;
  int64_t m, n, k;
  float alpha;
  const float *a;
  int64_t lda;
  const float *b; /* F32 operand, or NULL when b16 is used */
  const uint16_t *a16, *b16;
  int64_t ldb;
  float beta;
  float *c;
  int64_t ldc;
  const float *bias; /* [n] added to every row of C, or NULL */
  int split_n;
  tk_sbgemm_fn sbgemm;
} gemm_job;

/* C[m, n] = beta·C + bias on a sub-block, so the product can then accumulate. */
static void
prefill (float *c, int64_t ldc, int64_t m, int64_t n, const float *bias, float beta)
{
  for (int64_t i = 0; i < m; i++)
    {
      float *row = c + i * ldc;

      if (beta == 0.0f)
        memcpy (row, bias, (size_t)n * sizeof (float));
      else
        for (int64_t j = 0; j < n; j++)
          row[j] = beta * row[j] + bias[j];
    }
}

static void
scale_c (float *c, int64_t ldc, int64_t m, int64_t n, float beta)
{
  for (int64_t i = 0; i < m; i++)
    {
      float *row = c + i * ldc;

      if (beta == 0.0f)
        memset (row, 0, (size_t)n * sizeof (float));
      else if (beta != 1.0f)
        for (int64_t j = 0; j < n; j++)
          row[j] *= beta;
    }
}

/* One single-threaded product on the sub-block rows [m0, m1) × cols [n0, n1). */
static void
gemm_block (const gemm_job *job, int64_t m0, int64_t m1, int64_t n0, int64_t n1)
{
  int64_t m = m1 - m0, n = n1 - n0;
  float *c = job->c + m0 * job->ldc + n0;
  float beta = job->beta;

  if (m <= 0 || n <= 0)
    return;
  if (job->bias != NULL)
    {
      prefill (c, job->ldc, m, n, job->bias + n0, beta);
      beta = 1.0f;
    }
  if (job->k == 0 || job->alpha == 0.0f)
    {
      if (job->bias == NULL)
        scale_c (c, job->ldc, m, n, beta);
      return;
    }
  if (job->sbgemm != NULL)
    {
      const uint16_t *a = job->a16 + (job->trans_a ? m0 : m0 * job->lda);
      const uint16_t *b = job->b16 + (job->trans_b ? n0 * job->ldb : n0);

      job->sbgemm (ROW_MAJOR, job->trans_a ? TRANS : NO_TRANS, job->trans_b ? TRANS : NO_TRANS, (int)m,
                   (int)n, (int)job->k, job->alpha, a, (int)job->lda, b, (int)job->ldb, beta, c,
                   (int)job->ldc);
    }
  else
    {
      const float *a = job->a + (job->trans_a ? m0 : m0 * job->lda);
      const float *b = job->b + (job->trans_b ? n0 * job->ldb : n0);

      cblas_sgemm (CblasRowMajor, job->trans_a ? CblasTrans : CblasNoTrans,
                   job->trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)job->k, job->alpha, a,
                   (int)job->lda, b, (int)job->ldb, beta, c, (int)job->ldc);
    }
}

static void
gemm_part_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const gemm_job *job = data;
  int64_t lo = start * SPLIT_ALIGN, hi = end * SPLIT_ALIGN;
  int64_t limit = job->split_n ? job->n : job->m;
  /* Pieces stay within the BLAS's int even for a huge split dimension. */
  const int64_t step = (INT_MAX / SPLIT_ALIGN) * SPLIT_ALIGN;

  if (hi > limit)
    hi = limit;
  for (int64_t s = lo; s < hi; s += step)
    {
      int64_t e = hi - s > step ? s + step : hi;

      if (job->split_n)
        gemm_block (job, 0, job->m, s, e);
      else
        gemm_block (job, s, e, 0, job->n);
    }
}

typedef struct
{
  const gemm_job *job;
} prefill_job;

static void
prefill_rows_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const gemm_job *job = ((const prefill_job *)data)->job;

  prefill (job->c + start * job->ldc, job->ldc, end - start, job->n, job->bias, job->beta);
}

/* Runs the job with the pool's threads (or inline for a NULL pool). */
static void
gemm_run (tk_pool *pool, gemm_job *job)
{
  int n_threads = tk_pool_size (pool);
  int64_t len, blocks;

  if (job->m == 0 || job->n == 0)
    return;
  tk_blas_single_threaded ();
  job->split_n = job->n > job->m;
  len = job->split_n ? job->n : job->m;
  blocks = (len + SPLIT_ALIGN - 1) / SPLIT_ALIGN;
  /* Small products are not worth waking threads for. */
  if (n_threads <= 1 || 2.0 * (double)job->m * (double)job->n * (double)(job->k + 1) < PARALLEL_FLOPS)
    {
      gemm_part_cb (job, 0, blocks, 0);
      return;
    }
  if (atomic_load (&threading) == TK_GEMM_THREADS_BLAS && blas_set_threads != NULL)
    {
      gemm_job one = *job;

      /* The bias goes in first, on the pool; then OpenBLAS gets the cores
       * for one call while the pool's workers sleep. */
      if (job->bias != NULL)
        {
          prefill_job pre = { job };

          tk_pool_parallel_for (pool, job->m, PREFILL_ROWS_GRAIN, prefill_rows_cb, &pre);
          one.bias = NULL;
          one.beta = 1.0f;
        }
      blas_set_threads (n_threads);
      gemm_part_cb (&one, 0, blocks, 0);
      blas_set_threads (1);
      if (blas_shutdown_threads != NULL)
        blas_shutdown_threads ();
      return;
    }
  {
    int64_t n_pieces = len / DYNAMIC_PIECE_MIN;

    if (n_pieces > (int64_t)DYNAMIC_PIECES_PER_THREAD * n_threads)
      n_pieces = (int64_t)DYNAMIC_PIECES_PER_THREAD * n_threads;
    if (n_pieces > n_threads)
      {
        tk_pool_parallel_for_dynamic (pool, blocks, (blocks + n_pieces - 1) / n_pieces, gemm_part_cb, job);
        return;
      }
  }
  tk_pool_parallel_for (pool, blocks, 4, gemm_part_cb, job);
}

static int
fits_int (int64_t v)
{
  return v >= 0 && v <= INT_MAX;
}

tk_status
tk_gemm_f32 (tk_pool *pool,
             int trans_a,
             int trans_b,
             int64_t m,
             int64_t n,
             int64_t k,
             float alpha,
             const float *a,
             int64_t lda,
             const float *b,
             int64_t ldb,
             float beta,
             float *c,
             int64_t ldc)
{
  gemm_job job = { 0 };
  int64_t min_lda = trans_a ? m : k, min_ldb = trans_b ? k : n;

  if (m < 0 || n < 0 || !fits_int (k))
    return TK_ERR_INVALID;
  if (!fits_int (lda) || !fits_int (ldb) || !fits_int (ldc))
    return TK_ERR_INVALID;
  if (lda < (min_lda > 1 ? min_lda : 1) || ldb < (min_ldb > 1 ? min_ldb : 1) || ldc < (n > 1 ? n : 1))
    return TK_ERR_INVALID;
  if (m == 0 || n == 0)
    return TK_OK;
  if (c == NULL || (k > 0 && (a == NULL || b == NULL)))
    return TK_ERR_INVALID;
  job = (gemm_job){ .trans_a = trans_a != 0,
                    .trans_b = trans_b != 0,
                    .m = m,
                    .n = n,
                    .k = k,
                    .alpha = alpha,
                    .a = a,
                    .lda = lda,
                    .b = b,
                    .ldb = ldb,
                    .beta = beta,
                    .c = c,
                    .ldc = ldc };
  gemm_run (pool, &job);
  return TK_OK;
}

/* ---- workspace ---- */

tk_gemm_ws *
tk_gemm_ws_new (int n_slots, int64_t max_k)
{
  tk_gemm_ws *ws;

  if (n_slots < 1 || max_k < 1 || max_k > INT_MAX
      || (uint64_t)max_k > SIZE_MAX / sizeof (float) / SHARED_BLOCK_ROWS)
    return NULL;
  tk_blas_single_threaded ();
  ws = calloc (1, sizeof *ws);
  if (ws == NULL)
    return NULL;
  ws->n_slots = n_slots;
  ws->max_k = max_k;
  ws->shared = tk_aligned_alloc ((size_t)SHARED_BLOCK_ROWS * (size_t)max_k * sizeof (float));
  ws->slot = calloc ((size_t)n_slots, sizeof *ws->slot);
  ws->pack = calloc ((size_t)n_slots, sizeof *ws->pack);
  if (ws->shared == NULL || ws->slot == NULL || ws->pack == NULL)
    {
      tk_gemm_ws_free (ws);
      return NULL;
    }
  for (int i = 0; i < n_slots; i++)
    {
      ws->slot[i] = tk_aligned_alloc ((size_t)SLOT_BLOCK_ROWS * (size_t)max_k * sizeof (float));
      ws->pack[i] = tk_aligned_alloc ((size_t)OWN_NC * OWN_KC * sizeof (float));
      if (ws->slot[i] == NULL || ws->pack[i] == NULL)
        {
          tk_gemm_ws_free (ws);
          return NULL;
        }
    }
  return ws;
}

void
tk_gemm_ws_free (tk_gemm_ws *ws)
{
  if (ws == NULL)
    return;
  for (int i = 0; i < ws->n_slots; i++)
    {
      if (ws->slot != NULL)
        tk_aligned_free (ws->slot[i]);
      if (ws->pack != NULL)
        tk_aligned_free (ws->pack[i]);
    }
  free (ws->slot);
  free (ws->pack);
  tk_aligned_free (ws->shared);
  free (ws);
}

int
tk_gemm_ws_n_slots (const tk_gemm_ws *ws)
{
  return ws->n_slots;
}

int64_t
tk_gemm_ws_max_k (const tk_gemm_ws *ws)
{
  return ws->max_k;
}

/* ---- the linear layer ---- */

typedef struct
{
  int64_t n, k;
  tk_dtype dtype;
  float scale;
  const uint8_t *data;
} weight_info;

static tk_status
check_linear (const tk_gemm_ws *ws,
              int64_t m,
              const float *x,
              int64_t ldx,
              const tk_tensor *w,
              float *y,
              int64_t ldy,
              weight_info *info)
{
  int64_t numel;

  if (ws == NULL || w == NULL || w->ndim < 2 || !tk_tensor_is_contiguous (w) || m < 0)
    return TK_ERR_INVALID;
  if (w->dtype != TK_DTYPE_F32 && w->dtype != TK_DTYPE_F16 && w->dtype != TK_DTYPE_BF16
      && w->dtype != TK_DTYPE_F8_E4M3 && w->dtype != TK_DTYPE_F8_E5M2)
    return TK_ERR_INVALID;
  numel = tk_tensor_numel (w);
  info->n = w->shape[0];
  info->k = info->n > 0 ? numel / info->n : 0;
  info->dtype = w->dtype;
  info->scale = w->scale;
  info->data = w->data;
  if (info->n < 1 || info->k < 1 || info->k > ws->max_k || info->n > INT_MAX)
    return TK_ERR_INVALID;
  if (!fits_int (ldx) || !fits_int (ldy) || ldx < info->k || ldy < info->n)
    return TK_ERR_INVALID;
  if (m > 0 && (x == NULL || y == NULL || w->data == NULL))
    return TK_ERR_INVALID;
  return TK_OK;
}

typedef struct
{
  const weight_info *w;
  int64_t row0;
  float *dst;
} convert_job;

static void
convert_rows_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const convert_job *job = data;
  const weight_info *w = job->w;
  size_t esize = tk_dtype_size (w->dtype);

  tk_convert_to_f32 (w->dtype, w->data + (size_t)(job->row0 + start) * (size_t)w->k * esize,
                     job->dst + start * w->k, (size_t)((end - start) * w->k), w->scale);
}

typedef struct
{
  const float *x;
  int64_t ldx, k;
  uint16_t *dst;
} bf16_job;

static void
x_to_bf16_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const bf16_job *job = data;

  for (int64_t i = start; i < end; i++)
    tk_convert_from_f32 (TK_DTYPE_BF16, job->x + i * job->ldx, job->dst + i * job->k, (size_t)job->k, 1.0f);
}

/* The product on BF16 operands: x is rounded to BF16 in chunks of rows that
 * fit buf, then multiplied with the weight as it is stored. */
static void
linear_sbgemm (tk_pool *pool,
               tk_sbgemm_fn sbgemm,
               uint16_t *buf,
               size_t buf_elems,
               int64_t m,
               const float *x,
               int64_t ldx,
               const weight_info *w,
               const float *bias,
               float beta,
               float *y,
               int64_t ldy)
{
  int64_t chunk = (int64_t)(buf_elems / (size_t)w->k);

  for (int64_t m0 = 0; m0 < m; m0 += chunk)
    {
      int64_t mc = m - m0 < chunk ? m - m0 : chunk;
      bf16_job conv = { x + m0 * ldx, ldx, w->k, buf };
      gemm_job job = { .m = mc,
                       .n = w->n,
                       .k = w->k,
                       .alpha = 1.0f,
                       .a16 = buf,
                       .lda = w->k,
                       .b16 = (const uint16_t *)w->data,
                       .trans_b = 1,
                       .ldb = w->k,
                       .beta = beta,
                       .c = y + m0 * ldy,
                       .ldc = ldy,
                       .bias = bias,
                       .sbgemm = sbgemm };

      tk_pool_parallel_for (pool, mc, 16, x_to_bf16_cb, &conv);
      gemm_run (pool, &job);
    }
}

/* The product with W converted block_rows rows at a time into buf. */
static void
linear_blocks (tk_pool *pool,
               float *buf,
               int64_t block_rows,
               int64_t m,
               const float *x,
               int64_t ldx,
               const weight_info *w,
               const float *bias,
               float beta,
               float *y,
               int64_t ldy)
{
  for (int64_t n0 = 0; n0 < w->n; n0 += block_rows)
    {
      int64_t nb = w->n - n0 < block_rows ? w->n - n0 : block_rows;
      convert_job conv = { w, n0, buf };
      gemm_job job = { .m = m,
                       .n = nb,
                       .k = w->k,
                       .alpha = 1.0f,
                       .a = x,
                       .lda = ldx,
                       .b = buf,
                       .trans_b = 1,
                       .ldb = w->k,
                       .beta = beta,
                       .c = y + n0,
                       .ldc = ldy,
                       .bias = bias != NULL ? bias + n0 : NULL };

      /* Blocks of a few rows are converted in one go; big ones by the pool. */
      tk_pool_parallel_for (pool, nb, (4096 + w->k - 1) / w->k, convert_rows_cb, &conv);
      gemm_run (pool, &job);
    }
}

/* With few rows of x the product is a matrix-vector one, bound by reading
 * the weight: each thread converts and multiplies its own rows of W in its
 * slot's buffer, so the weight is read once and nothing waits between a
 * conversion and a product. */
typedef struct
{
  tk_gemm_ws *ws;
  int64_t m;
  const float *x;
  int64_t ldx;
  const weight_info *w;
  const float *bias;
  float beta;
  float *y;
  int64_t ldy;
} few_rows_job;

static void
few_rows_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const few_rows_job *job = data;
  weight_info sub = *job->w;
  int64_t r0 = start * SPLIT_ALIGN, r1 = end * SPLIT_ALIGN < sub.n ? end * SPLIT_ALIGN : sub.n;

  sub.data += (size_t)r0 * (size_t)sub.k * tk_dtype_size (sub.dtype);
  sub.n = r1 - r0;
  linear_blocks (NULL, job->ws->slot[thread_index], SLOT_BLOCK_ROWS, job->m, job->x, job->ldx, &sub,
                 job->bias != NULL ? job->bias + r0 : NULL, job->beta, job->y + r0, job->ldy);
}

/* ---- the blocked product on the panel kernel ---- */

/* y[m, n] = x[m, k] · Wᵀ without BLAS: x is packed once into
 * TK_PANEL_MR-row panels (in the workspace's shared buffer, up to
 * SHARED_BLOCK_ROWS rows at a time), then each task takes up to OWN_NC rows
 * of W, converts (a narrow weight) and packs them OWN_KC columns at a time
 * into its slot's buffer (384 KiB, so the block stays in the core's L2
 * while every x panel passes over it) and runs the panel product on it.
 * All threads share the one packed copy of x, where split cblas calls pack
 * all of x once per piece, and the tasks are sized so every thread gets the
 * same number of them and claimed as threads come free. */
#if TK_X86
/* dst[q·ldd + r] = src[r·lds + q] for r, q < 8. */
AVX2_TARGET static inline void
transpose8 (const float *src, int64_t lds, float *dst, int64_t ldd)
{
  __m256 r0 = _mm256_loadu_ps (src), r1 = _mm256_loadu_ps (src + lds);
  __m256 r2 = _mm256_loadu_ps (src + 2 * lds), r3 = _mm256_loadu_ps (src + 3 * lds);
  __m256 r4 = _mm256_loadu_ps (src + 4 * lds), r5 = _mm256_loadu_ps (src + 5 * lds);
  __m256 r6 = _mm256_loadu_ps (src + 6 * lds), r7 = _mm256_loadu_ps (src + 7 * lds);
  __m256 t0 = _mm256_unpacklo_ps (r0, r1), t1 = _mm256_unpackhi_ps (r0, r1);
  __m256 t2 = _mm256_unpacklo_ps (r2, r3), t3 = _mm256_unpackhi_ps (r2, r3);
  __m256 t4 = _mm256_unpacklo_ps (r4, r5), t5 = _mm256_unpackhi_ps (r4, r5);
  __m256 t6 = _mm256_unpacklo_ps (r6, r7), t7 = _mm256_unpackhi_ps (r6, r7);
  __m256 u0 = _mm256_shuffle_ps (t0, t2, 0x44), u1 = _mm256_shuffle_ps (t0, t2, 0xEE);
  __m256 u2 = _mm256_shuffle_ps (t1, t3, 0x44), u3 = _mm256_shuffle_ps (t1, t3, 0xEE);
  __m256 u4 = _mm256_shuffle_ps (t4, t6, 0x44), u5 = _mm256_shuffle_ps (t4, t6, 0xEE);
  __m256 u6 = _mm256_shuffle_ps (t5, t7, 0x44), u7 = _mm256_shuffle_ps (t5, t7, 0xEE);

  _mm256_storeu_ps (dst, _mm256_permute2f128_ps (u0, u4, 0x20));
  _mm256_storeu_ps (dst + ldd, _mm256_permute2f128_ps (u1, u5, 0x20));
  _mm256_storeu_ps (dst + 2 * ldd, _mm256_permute2f128_ps (u2, u6, 0x20));
  _mm256_storeu_ps (dst + 3 * ldd, _mm256_permute2f128_ps (u3, u7, 0x20));
  _mm256_storeu_ps (dst + 4 * ldd, _mm256_permute2f128_ps (u0, u4, 0x31));
  _mm256_storeu_ps (dst + 5 * ldd, _mm256_permute2f128_ps (u1, u5, 0x31));
  _mm256_storeu_ps (dst + 6 * ldd, _mm256_permute2f128_ps (u2, u6, 0x31));
  _mm256_storeu_ps (dst + 7 * ldd, _mm256_permute2f128_ps (u3, u7, 0x31));
}
#endif

/* Columns [0, kc) of rows [0, rows) of src (rows ≤ width) into
 * dst[p·width + r], rows from rows to width zero. */
static void
pack_rows (const float *src, int64_t lds, int64_t rows, int64_t kc, int width, float *dst, int use_avx2)
{
  int64_t r0 = 0;

#if TK_X86
  if (use_avx2)
    for (; r0 + 8 <= rows; r0 += 8)
      {
        int64_t p = 0;

        for (; p + 8 <= kc; p += 8)
          transpose8 (src + r0 * lds + p, lds, dst + p * width + r0, width);
        for (; p < kc; p++)
          for (int r = 0; r < 8; r++)
            dst[p * width + r0 + r] = src[(r0 + r) * lds + p];
      }
#else
  (void)use_avx2;
#endif
  for (int64_t p = 0; p < kc; p++)
    {
      for (int64_t r = r0; r < rows; r++)
        dst[p * width + r] = src[r * lds + p];
      for (int64_t r = rows; r < width; r++)
        dst[p * width + r] = 0.0f;
    }
}

typedef struct
{
  tk_panel_fn panel;
  int use_avx2;
  int64_t m, k, ldx, mp; /* mp: m rounded up to TK_PANEL_MR */
  const float *x;
  const weight_info *w;
  int64_t n, nc;
  const float *bias;
  float beta;
  float *y;
  int64_t ldy;
  float *xp;    /* per KC block of columns, mp × kc floats of x panels */
  float **pack; /* per slot: OWN_NC × OWN_KC floats */
  float **rows; /* per slot: room for TK_PANEL_NR × OWN_KC floats, the
                 * converted rows of a narrow weight before packing */
} own_job;

/* Item = one x panel of one KC block. */
static void
own_pack_x_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const own_job *job = data;
  int64_t panels = job->mp / TK_PANEL_MR;

  (void)thread_index;
  for (int64_t item = start; item < end; item++)
    {
      int64_t k0 = (item / panels) * OWN_KC, i0 = (item % panels) * TK_PANEL_MR;
      int64_t kc = job->k - k0 < OWN_KC ? job->k - k0 : OWN_KC;
      int64_t rows = job->m - i0 < TK_PANEL_MR ? job->m - i0 : TK_PANEL_MR;

      pack_rows (job->x + i0 * job->ldx + k0, job->ldx, rows, kc, TK_PANEL_MR,
                 job->xp + k0 * job->mp + i0 * kc, job->use_avx2);
    }
}

/* Rows [j, j + rows) of W, columns [k0, k0 + kc), packed as a panel; a
 * narrow weight is converted a row at a time into tmp first, so the whole
 * product never holds more of it in F32 than one panel. */
static void
pack_w (const own_job *job, int64_t j, int64_t rows, int64_t k0, int64_t kc, float *dst, float *tmp)
{
  const weight_info *w = job->w;

  if (w->dtype == TK_DTYPE_F32)
    {
      pack_rows ((const float *)w->data + j * w->k + k0, w->k, rows, kc, TK_PANEL_NR, dst, job->use_avx2);
      return;
    }
  {
    size_t esize = tk_dtype_size (w->dtype);

    for (int64_t r = 0; r < rows; r++)
      tk_convert_to_f32 (w->dtype, w->data + ((size_t)(j + r) * (size_t)w->k + (size_t)k0) * esize,
                         tmp + r * kc, (size_t)kc, w->scale);
    pack_rows (tmp, kc, rows, kc, TK_PANEL_NR, dst, job->use_avx2);
  }
}

/* Task = job->nc rows of W against all of x. */
static void
own_task_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const own_job *job = data;
  float *wp = job->pack[thread_index];

  for (int64_t task = start; task < end; task++)
    {
      int64_t n0 = task * job->nc;
      int64_t nb = job->n - n0 < job->nc ? job->n - n0 : job->nc;
      float *c = job->y + n0;
      int ready = 0;

      /* The bias and beta · y go in first; the products then accumulate. */
      if (job->bias != NULL)
        {
          prefill (c, job->ldy, job->m, nb, job->bias + n0, job->beta);
          ready = 1;
        }
      else if (job->beta != 0.0f)
        {
          scale_c (c, job->ldy, job->m, nb, job->beta);
          ready = 1;
        }
      for (int64_t k0 = 0; k0 < job->k; k0 += OWN_KC)
        {
          int64_t kc = job->k - k0 < OWN_KC ? job->k - k0 : OWN_KC;
          const float *xb = job->xp + k0 * job->mp;

          for (int64_t j0 = 0; j0 < nb; j0 += TK_PANEL_NR)
            pack_w (job, n0 + j0, nb - j0 < TK_PANEL_NR ? nb - j0 : TK_PANEL_NR, k0, kc, wp + j0 * kc,
                    job->rows[thread_index]);
          for (int64_t i0 = 0; i0 < job->m; i0 += TK_PANEL_MR)
            {
              int rows = (int)(job->m - i0 < TK_PANEL_MR ? job->m - i0 : TK_PANEL_MR);

              for (int64_t j0 = 0; j0 < nb; j0 += TK_PANEL_NR)
                job->panel (kc, xb + i0 * kc, wp + j0 * kc, TK_PANEL_NR, c + i0 * job->ldy + j0, job->ldy,
                            rows, (int)(nb - j0 < TK_PANEL_NR ? nb - j0 : TK_PANEL_NR), NULL,
                            ready || k0 > 0);
            }
        }
    }
}

/* The whole product, x taken SHARED_BLOCK_ROWS rows at a time. */
static void
linear_own (tk_gemm_ws *ws,
            tk_pool *pool,
            int64_t m,
            const float *x,
            int64_t ldx,
            const weight_info *w,
            const float *bias,
            float beta,
            float *y,
            int64_t ldy)
{
  int n_threads = tk_pool_size (pool);
  int64_t n_tasks = (w->n + OWN_NC - 1) / OWN_NC;
  own_job job = { .panel = tk_panel_kernel (tk_isa_active ()),
                  .use_avx2 = tk_isa_active () >= TK_ISA_AVX2,
                  .k = w->k,
                  .ldx = ldx,
                  .w = w,
                  .n = w->n,
                  .bias = bias,
                  .beta = beta,
                  .ldy = ldy,
                  .xp = ws->shared,
                  .pack = ws->pack,
                  .rows = ws->slot };

  /* As many tasks as fit OWN_NC rows, rounded up to a multiple of the
   * threads and spread evenly, so the last round keeps every thread busy. */
  n_tasks = (n_tasks + n_threads - 1) / n_threads * n_threads;
  job.nc = (w->n + n_tasks - 1) / n_tasks;
  job.nc = (job.nc + TK_PANEL_NR - 1) / TK_PANEL_NR * TK_PANEL_NR;
  n_tasks = (w->n + job.nc - 1) / job.nc;
  for (int64_t m0 = 0; m0 < m; m0 += SHARED_BLOCK_ROWS)
    {
      job.m = m - m0 < SHARED_BLOCK_ROWS ? m - m0 : SHARED_BLOCK_ROWS;
      job.mp = (job.m + TK_PANEL_MR - 1) / TK_PANEL_MR * TK_PANEL_MR;
      job.x = x + m0 * ldx;
      job.y = y + m0 * ldy;
      tk_pool_parallel_for (pool, (job.mp / TK_PANEL_MR) * ((job.k + OWN_KC - 1) / OWN_KC), 8, own_pack_x_cb,
                            &job);
      tk_pool_parallel_for_dynamic (pool, n_tasks, 1, own_task_cb, &job);
    }
}

/* ---- few rows: the weight streamed once, converted in registers ---- */

#if TK_X86
AVX512_TARGET static inline __attribute__ ((always_inline)) __m512
load_w16 (tk_dtype dtype, const uint8_t *row, int64_t p, __mmask16 mask)
{
  switch (dtype)
    {
      case TK_DTYPE_F32:
        return _mm512_maskz_loadu_ps (mask, (const float *)row + p);
      case TK_DTYPE_BF16:
        return _mm512_castsi512_ps (_mm512_slli_epi32 (
            _mm512_cvtepu16_epi32 (_mm256_maskz_loadu_epi16 (mask, (const uint16_t *)row + p)), 16));
      case TK_DTYPE_F16:
        return _mm512_cvtph_ps (_mm256_maskz_loadu_epi16 (mask, (const uint16_t *)row + p));
      case TK_DTYPE_F8_E5M2:
        return _mm512_cvtph_ps (
            _mm256_slli_epi16 (_mm256_cvtepu8_epi16 (_mm_maskz_loadu_epi8 (mask, row + p)), 8));
      case TK_DTYPE_F8_E4M3:
        {
          /* As tk-convert does: the E4M3 bits placed in an F16, times 2^8;
           * magnitude 0x7F is NaN. */
          __m256i b = _mm256_cvtepu8_epi16 (_mm_maskz_loadu_epi8 (mask, row + p));
          __m256i mag = _mm256_and_si256 (b, _mm256_set1_epi16 (0x7F));
          __m256i h = _mm256_or_si256 (_mm256_slli_epi16 (_mm256_and_si256 (b, _mm256_set1_epi16 (0x80)), 8),
                                       _mm256_slli_epi16 (mag, 7));
          __mmask16 nan = _mm256_cmpeq_epi16_mask (mag, _mm256_set1_epi16 (0x7F));
          __m512 v = _mm512_mul_ps (_mm512_cvtph_ps (h), _mm512_set1_ps (256.0f));

          return _mm512_mask_mov_ps (v, nan, _mm512_set1_ps (__builtin_nanf ("")));
        }
      default:
        return _mm512_setzero_ps ();
    }
}

/* sums[r][i] = Σ_p w_r[p] · x_i[p] for GEMV_W rows of W and mx ≤ GEMV_X rows
 * of x, with 16 lanes of partial sums per pair. */
#define GEMV_W 4
#define GEMV_X 4

AVX512_TARGET static inline __attribute__ ((always_inline)) void
gemv_tile (tk_dtype dtype,
           int mx,
           const float *const *xr,
           const uint8_t *const *wr,
           int64_t k,
           float sums[GEMV_W][GEMV_X])
{
  __m512 acc[GEMV_W][GEMV_X];
  int64_t p = 0;

#pragma GCC unroll 4
  for (int r = 0; r < GEMV_W; r++)
#pragma GCC unroll 4
    for (int i = 0; i < mx; i++)
      acc[r][i] = _mm512_setzero_ps ();
  for (; p < k; p += 16)
    {
      __mmask16 mask = k - p >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (k - p)) - 1);
      __m512 xv[GEMV_X];

#pragma GCC unroll 4
      for (int i = 0; i < mx; i++)
        xv[i] = _mm512_maskz_loadu_ps (mask, xr[i] + p);
#pragma GCC unroll 4
      for (int r = 0; r < GEMV_W; r++)
        {
          __m512 wv = load_w16 (dtype, wr[r], p, mask);

#pragma GCC unroll 4
          for (int i = 0; i < mx; i++)
            acc[r][i] = _mm512_fmadd_ps (wv, xv[i], acc[r][i]);
        }
    }
#pragma GCC unroll 4
  for (int r = 0; r < GEMV_W; r++)
#pragma GCC unroll 4
    for (int i = 0; i < mx; i++)
      sums[r][i] = _mm512_reduce_add_ps (acc[r][i]);
}

/* The same for BF16, 32 weights per step: a 32-bit lane holds two BF16
 * values, the even one becoming an F32 by a shift and the odd one by a
 * mask, so each weight costs half an instruction; x is split into its even
 * and odd elements to match. */
AVX512_TARGET static inline __attribute__ ((always_inline)) void
gemv_tile_bf16 (
    int mx, const float *const *xr, const uint8_t *const *wr, int64_t k, float sums[GEMV_W][GEMV_X])
{
  __m512 acc[GEMV_W][GEMV_X];
  const __m512i even = _mm512_setr_epi32 (0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odd = _mm512_setr_epi32 (1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
  const __m512i high = _mm512_set1_epi32 ((int)0xFFFF0000u);

#pragma GCC unroll 4
  for (int r = 0; r < GEMV_W; r++)
#pragma GCC unroll 4
    for (int i = 0; i < mx; i++)
      acc[r][i] = _mm512_setzero_ps ();
  for (int64_t p = 0; p < k; p += 32)
    {
      int64_t left = k - p;
      __mmask32 mask = left >= 32 ? (__mmask32)0xFFFFFFFFu : (__mmask32)((1u << left) - 1);
      __mmask16 m0 = (__mmask16)(mask & 0xFFFFu), m1 = (__mmask16)(mask >> 16);
      __m512 xe[GEMV_X], xo[GEMV_X];

#pragma GCC unroll 4
      for (int i = 0; i < mx; i++)
        {
          __m512 a = _mm512_maskz_loadu_ps (m0, xr[i] + p), b = _mm512_maskz_loadu_ps (m1, xr[i] + p + 16);

          xe[i] = _mm512_permutex2var_ps (a, even, b);
          xo[i] = _mm512_permutex2var_ps (a, odd, b);
        }
#pragma GCC unroll 4
      for (int r = 0; r < GEMV_W; r++)
        {
          __m512i wv = _mm512_maskz_loadu_epi16 (mask, (const uint16_t *)wr[r] + p);
          __m512 we = _mm512_castsi512_ps (_mm512_slli_epi32 (wv, 16));
          __m512 wo = _mm512_castsi512_ps (_mm512_and_si512 (wv, high));

#pragma GCC unroll 4
          for (int i = 0; i < mx; i++)
            acc[r][i] = _mm512_fmadd_ps (wo, xo[i], _mm512_fmadd_ps (we, xe[i], acc[r][i]));
        }
    }
#pragma GCC unroll 4
  for (int r = 0; r < GEMV_W; r++)
#pragma GCC unroll 4
    for (int i = 0; i < mx; i++)
      sums[r][i] = _mm512_reduce_add_ps (acc[r][i]);
}

#define GEMV_TILE_MX(call)                                                                                   \
  do                                                                                                         \
    {                                                                                                        \
      switch (mx)                                                                                            \
        {                                                                                                    \
          case 1:                                                                                            \
            call (1);                                                                                        \
            break;                                                                                           \
          case 2:                                                                                            \
            call (2);                                                                                        \
            break;                                                                                           \
          case 3:                                                                                            \
            call (3);                                                                                        \
            break;                                                                                           \
          default:                                                                                           \
            call (4);                                                                                        \
            break;                                                                                           \
        }                                                                                                    \
    }                                                                                                        \
  while (0)
#define GEMV_F32(n) gemv_tile (TK_DTYPE_F32, n, xr, wr, k, sums)
#define GEMV_BF16(n) gemv_tile_bf16 (n, xr, wr, k, sums)
#define GEMV_F16(n) gemv_tile (TK_DTYPE_F16, n, xr, wr, k, sums)
#define GEMV_E4M3(n) gemv_tile (TK_DTYPE_F8_E4M3, n, xr, wr, k, sums)
#define GEMV_E5M2(n) gemv_tile (TK_DTYPE_F8_E5M2, n, xr, wr, k, sums)

AVX512_TARGET static void
gemv_tile_any (tk_dtype dtype,
               int mx,
               const float *const *xr,
               const uint8_t *const *wr,
               int64_t k,
               float sums[GEMV_W][GEMV_X])
{
  switch (dtype)
    {
      case TK_DTYPE_F32:
        GEMV_TILE_MX (GEMV_F32);
        break;
      case TK_DTYPE_BF16:
        GEMV_TILE_MX (GEMV_BF16);
        break;
      case TK_DTYPE_F16:
        GEMV_TILE_MX (GEMV_F16);
        break;
      case TK_DTYPE_F8_E4M3:
        GEMV_TILE_MX (GEMV_E4M3);
        break;
      default:
        GEMV_TILE_MX (GEMV_E5M2);
        break;
    }
}

#undef GEMV_TILE_MX
#undef GEMV_F32
#undef GEMV_BF16
#undef GEMV_F16
#undef GEMV_E4M3
#undef GEMV_E5M2
#endif /* TK_X86 */

typedef struct
{
  int64_t m;
  const float *x;
  int64_t ldx;
  const weight_info *w;
  const float *bias;
  float beta;
  float *y;
  int64_t ldy;
} gemv_job;

/* Item = GEMV_W rows of W against every row of x. */
static void
gemv_cb (void *data, int64_t start, int64_t end, int thread_index)
{
#if TK_X86
  const gemv_job *job = data;
  const weight_info *w = job->w;
  size_t row_bytes = (size_t)w->k * tk_dtype_size (w->dtype);
  float scale = w->dtype == TK_DTYPE_F8_E4M3 || w->dtype == TK_DTYPE_F8_E5M2 ? w->scale : 1.0f;

  (void)thread_index;
  for (int64_t item = start; item < end; item++)
    {
      int64_t j0 = item * GEMV_W;
      int nw = (int)(w->n - j0 < GEMV_W ? w->n - j0 : GEMV_W);
      const uint8_t *wr[GEMV_W];

      /* Rows past the end repeat the last one; their sums are dropped. */
      for (int r = 0; r < GEMV_W; r++)
        wr[r] = w->data + (size_t)(j0 + (r < nw ? r : nw - 1)) * row_bytes;
      for (int64_t i0 = 0; i0 < job->m; i0 += GEMV_X)
        {
          int mx = (int)(job->m - i0 < GEMV_X ? job->m - i0 : GEMV_X);
          const float *xr[GEMV_X];
          float sums[GEMV_W][GEMV_X];

          for (int i = 0; i < GEMV_X; i++)
            xr[i] = job->x + (i0 + (i < mx ? i : mx - 1)) * job->ldx;
          gemv_tile_any (w->dtype, mx, xr, wr, w->k, sums);
          for (int i = 0; i < mx; i++)
            {
              float *yr = job->y + (i0 + i) * job->ldy + j0;

              for (int r = 0; r < nw; r++)
                {
                  float v = sums[r][i] * scale;

                  if (job->bias != NULL)
                    v += job->bias[j0 + r];
                  if (job->beta != 0.0f)
                    v += job->beta * yr[r];
                  yr[r] = v;
                }
            }
        }
    }
#else
  (void)data, (void)start, (void)end, (void)thread_index;
#endif
}

/* Up to FEW_ROWS rows of x the product is bound by reading the weight
 * (bench-gemm's time-proj): with AVX-512 each weight row is streamed once,
 * converted in registers, against every row of x. A BF16 weight that
 * cblas_sbgemm multiplies stays with it, so a BF16 model's results do not
 * depend on how many rows a call has. */
static int
use_gemv (int64_t m, const weight_info *w, tk_sbgemm_fn sbgemm)
{
#if TK_X86
  if (w->dtype == TK_DTYPE_BF16 && sbgemm != NULL)
    return 0;
  return m <= FEW_ROWS && tk_isa_active () >= TK_ISA_AVX512;
#else
  (void)m, (void)w, (void)sbgemm;
  return 0;
#endif
}

/* The blocked product replaces the split cblas calls with AVX-512, in pool
 * mode, from the pool's owner with a slot per thread. At the models' widths
 * on two cores (bench-gemm) it runs 1.1 to 1.2 times OpenBLAS's own
 * threaded rate from 512 to 2,048 rows: all threads share one packed copy
 * of x and split the weight evenly, where OpenBLAS's threads each pack
 * their own part of both operands. A narrow weight is converted as it is
 * packed, so it costs hardly more than an F32 one. */
static int
use_own (const tk_gemm_ws *ws, tk_pool *pool, const weight_info *w, tk_sbgemm_fn sbgemm)
{
  /* A BF16 weight that cblas_sbgemm multiplies stays with it (see use_gemv). */
  if (w->dtype == TK_DTYPE_BF16 && sbgemm != NULL)
    return 0;
  return pool != NULL && tk_pool_size (pool) <= ws->n_slots && tk_isa_active () >= TK_ISA_AVX512
         && atomic_load (&threading) == TK_GEMM_THREADS_POOL;
}

static tk_status
linear_run (tk_gemm_ws *ws,
            tk_pool *pool,
            float *buf,
            int64_t block_rows,
            int64_t m,
            const float *x,
            int64_t ldx,
            const tk_tensor *w,
            const float *bias,
            float beta,
            float *y,
            int64_t ldy)
{
  weight_info info;
  tk_status status = check_linear (ws, m, x, ldx, w, y, ldy, &info);
  tk_sbgemm_fn sbgemm;

  if (status != TK_OK)
    return status;
  if (m == 0)
    return TK_OK;
  tk_blas_single_threaded ();
  sbgemm = atomic_load (&sbgemm_impl);
  if (use_gemv (m, &info, sbgemm))
    {
      gemv_job job = { m, x, ldx, &info, bias, beta, y, ldy };

      tk_pool_parallel_for_dynamic (pool, (info.n + GEMV_W - 1) / GEMV_W, GEMV_PIECE, gemv_cb, &job);
      return TK_OK;
    }
  if (use_own (ws, pool, &info, sbgemm))
    {
      linear_own (ws, pool, m, x, ldx, &info, bias, beta, y, ldy);
      return TK_OK;
    }
  if (info.dtype == TK_DTYPE_F32)
    {
      gemm_job job = { .m = m,
                       .n = info.n,
                       .k = info.k,
                       .alpha = 1.0f,
                       .a = x,
                       .lda = ldx,
                       .b = (const float *)info.data,
                       .trans_b = 1,
                       .ldb = info.k,
                       .beta = beta,
                       .c = y,
                       .ldc = ldy,
                       .bias = bias };

      gemm_run (pool, &job);
      return TK_OK;
    }
  if (info.dtype == TK_DTYPE_BF16 && sbgemm != NULL)
    {
      /* The float buffer holds twice as many BF16 values. */
      linear_sbgemm (pool, sbgemm, (uint16_t *)buf, (size_t)block_rows * (size_t)ws->max_k * 2, m, x, ldx,
                     &info, bias, beta, y, ldy);
      return TK_OK;
    }
  if (pool != NULL && m <= FEW_ROWS && tk_pool_size (pool) <= ws->n_slots)
    {
      few_rows_job job = { ws, m, x, ldx, &info, bias, beta, y, ldy };

      tk_pool_parallel_for (pool, (info.n + SPLIT_ALIGN - 1) / SPLIT_ALIGN, 4, few_rows_cb, &job);
      return TK_OK;
    }
  linear_blocks (pool, buf, block_rows, m, x, ldx, &info, bias, beta, y, ldy);
  return TK_OK;
}

tk_status
tk_linear (tk_gemm_ws *ws,
           tk_pool *pool,
           int64_t m,
           const float *x,
           int64_t ldx,
           const tk_tensor *w,
           const float *bias,
           float beta,
           float *y,
           int64_t ldy)
{
  if (ws == NULL)
    return TK_ERR_INVALID;
  return linear_run (ws, pool, ws->shared, SHARED_BLOCK_ROWS, m, x, ldx, w, bias, beta, y, ldy);
}

tk_status
tk_linear_serial (tk_gemm_ws *ws,
                  int slot,
                  int64_t m,
                  const float *x,
                  int64_t ldx,
                  const tk_tensor *w,
                  const float *bias,
                  float beta,
                  float *y,
                  int64_t ldy)
{
  if (ws == NULL || slot < 0 || slot >= ws->n_slots)
    return TK_ERR_INVALID;
  return linear_run (ws, NULL, ws->slot[slot], SLOT_BLOCK_ROWS, m, x, ldx, w, bias, beta, y, ldy);
}
