/* tk-gemm.h: matrix products for the kernels and the engine.
 *
 * Threading policy. OpenBLAS runs single-threaded: the first call of any
 * function here (or tk_blas_single_threaded ()) sets it to one thread, and
 *   - a product given a pool of n threads (from the thread that owns the
 *     pool, never from inside one of its workers) is, by default
 *     (TK_GEMM_THREADS_POOL), cut into n pieces that the pool's threads
 *     multiply with single-threaded cblas calls. OpenBLAS's own threads are
 *     then never handed work, so they sleep and never compete with the pool
 *     or spin in sched_yield while the pool runs attention, convolutions or
 *     element-wise work between products;
 *   - in TK_GEMM_THREADS_BLAS mode the same product is one cblas call with
 *     OpenBLAS set to n threads while the pool's workers sleep; afterwards
 *     OpenBLAS's workers are joined (blas_thread_shutdown_) instead of being
 *     left to spin for OPENBLAS_THREAD_TIMEOUT, and started again by the next
 *     such call. Only worth it for a few very large products in a row, and
 *     only while no other thread of the process runs OpenBLAS;
 *   - a product with pool = NULL (for instance from inside a tk_pool worker,
 *     with the worker's thread_index as the slot for tk_linear_serial) runs
 *     single-threaded in the calling thread.
 * So OpenBLAS's threads and the pool's never run at the same time and the
 * cores are never oversubscribed. With another CBLAS (no
 * openblas_set_num_threads), set that BLAS to one thread in its
 * environment. Code that calls cblas itself must follow the same rules (call
 * tk_blas_single_threaded () first).
 *
 * tk_linear picks the product by the rows of x, with AVX-512 (on other
 * CPUs everything goes through cblas as below):
 *   - up to 16 rows (the time embedding, text for one prompt): each row of
 *     W, in any dtype, is read once and converted in registers against all
 *     rows of x, the rows of W split over the pool; bound by memory;
 *   - 17 rows or more, in pool mode with a slot per pool thread: tk's own
 *     blocked product on the panel kernel of tk-conv.h, x packed once for
 *     all threads in the workspace (1024 rows at a time), a narrow weight
 *     converted one packed panel (48 rows × 256 columns) at a time;
 *   - otherwise cblas_sgemm as described above, a narrow weight converted
 *     block by block (up to 1024 rows of W at a time) into the workspace's
 *     buffer.
 *
 * So no F32 copy of a whole F16, BF16 or F8 weight is ever made. Where
 * OpenBLAS exports cblas_sbgemm and the CPU has AVX512_BF16, BF16 weights
 * are multiplied with it instead (activations rounded to BF16, as the
 * official code does under autocast); everywhere else the result is the F32
 * product of the exactly converted weights.
 */
#ifndef TK_GEMM_H
#define TK_GEMM_H

#include <stdint.h>

#include "tk-tensor.h"
#include "tk-threadpool.h"

#ifdef __cplusplus
extern "C"
{
#endif

  /* Sets OpenBLAS (when the BLAS is OpenBLAS) to one thread. Idempotent and
   * cheap; safe to call from any thread. */
  void tk_blas_single_threaded (void);

  /* Row-major C[m, n] = alpha · op(A) · op(B) + beta · C, with op(A) [m, k] and
   * op(B) [k, n]; trans_a/trans_b non-zero means A is stored [k, m] / B [n, k].
   * Uses the pool's threads as described above. Returns TK_ERR_INVALID for
   * negative sizes or leading dimensions too small or beyond the BLAS's int. */
  tk_status tk_gemm_f32 (tk_pool *pool,
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
                         int64_t ldc);

  /* Scratch for tk_linear, allocated once: a shared conversion buffer used by
   * one tk_linear call at a time, and per slot a small buffer used by one
   * tk_linear_serial call at a time (or by tk_linear's blocked product, to
   * convert a narrow weight) plus a 384 KiB packing buffer for the blocked
   * product. About (1024 + 64 × n_slots) × max_k + 98,304 ×
   * n_slots floats. */
  typedef struct tk_gemm_ws tk_gemm_ws;

  /* n_slots: how many threads may use it at once (the pool size, or 1);
   * max_k: the largest input width (weight columns) it will be used with.
   * Returns NULL when out of memory or for n_slots < 1 or max_k < 1. */
  tk_gemm_ws *tk_gemm_ws_new (int n_slots, int64_t max_k);
  void tk_gemm_ws_free (tk_gemm_ws *ws);
  int tk_gemm_ws_n_slots (const tk_gemm_ws *ws);
  int64_t tk_gemm_ws_max_k (const tk_gemm_ws *ws);

  /* The linear layer y[m, n] = x[m, k] · Wᵀ + bias + beta · y, with W the
   * weight [n, k] (a contiguous tensor of 2 or more dimensions, read as
   * [shape[0], rest], in F32, F16, BF16, F8_E4M3 or F8_E5M2 with its scale),
   * bias [n] in F32 or NULL, and beta 0 (overwrite y) or any other value.
   * x rows are ldx floats apart, y rows ldy; y must not overlap x. Returns
   * TK_ERR_INVALID for a bad weight, a k beyond the workspace's max_k, or too
   * small leading dimensions. */
  tk_status tk_linear (tk_gemm_ws *ws,
                       tk_pool *pool,
                       int64_t m,
                       const float *x,
                       int64_t ldx,
                       const tk_tensor *w,
                       const float *bias,
                       float beta,
                       float *y,
                       int64_t ldy);

  /* tk_linear in the calling thread only, with the buffers of workspace slot
   * slot (in [0, n_slots)): for calls from inside tk_pool workers, each worker
   * passing its thread_index. */
  tk_status tk_linear_serial (tk_gemm_ws *ws,
                              int slot,
                              int64_t m,
                              const float *x,
                              int64_t ldx,
                              const tk_tensor *w,
                              const float *bias,
                              float beta,
                              float *y,
                              int64_t ldy);

  /* How a parallel product uses the cores: split over the pool as
   * single-threaded calls (the default), or one call on OpenBLAS's threads. */
  typedef enum
  {
    TK_GEMM_THREADS_POOL = 0,
    TK_GEMM_THREADS_BLAS
  } tk_gemm_threading;

  /* Sets the mode and returns the previous one. BLAS mode falls back to POOL
   * when the BLAS is not OpenBLAS. Not for use while products run. */
  tk_gemm_threading tk_gemm_set_threading (tk_gemm_threading mode);
  /* The mode in effect. */
  tk_gemm_threading tk_gemm_get_threading (void);

  /* 1 when BF16 weights go through cblas_sbgemm in this process. */
  int tk_gemm_have_sbgemm (void);

  /* The signature of OpenBLAS's cblas_sbgemm, with int as blasint and
   * uint16_t as bfloat16 (row-major only, CblasRowMajor = 101, CblasNoTrans =
   * 111, CblasTrans = 112). */
  typedef void (*tk_sbgemm_fn) (int order,
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
                                int ldc);

  /* Replaces the detected BF16 GEMM (NULL: none, so BF16 weights are
   * converted like the others) and returns the previous one. For tests and
   * benchmarks; not for use while products run. */
  tk_sbgemm_fn tk_gemm_set_sbgemm (tk_sbgemm_fn fn);

#ifdef __cplusplus
}
#endif

#endif /* TK_GEMM_H */
