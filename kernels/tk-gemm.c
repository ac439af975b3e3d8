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
 */
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include "tk-gemm.h"

#include <cblas.h>
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

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
  if (ws->shared == NULL || ws->slot == NULL)
    {
      tk_gemm_ws_free (ws);
      return NULL;
    }
  for (int i = 0; i < n_slots; i++)
    {
      ws->slot[i] = tk_aligned_alloc ((size_t)SLOT_BLOCK_ROWS * (size_t)max_k * sizeof (float));
      if (ws->slot[i] == NULL)
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
  if (ws->slot != NULL)
    for (int i = 0; i < ws->n_slots; i++)
      tk_aligned_free (ws->slot[i]);
  free (ws->slot);
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
  sbgemm = atomic_load (&sbgemm_impl);
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
