/* tk-threadpool.h: a small fixed pool of pthreads for the kernels.
 *
 * The caller's thread takes part in every parallel loop, so a pool of n threads
 * starts n - 1 workers. tk_pool_parallel_for splits work into contiguous ranges
 * in a fixed way, so the same n and grain always give the same split (results
 * that depend on the split stay reproducible for a given thread count);
 * tk_pool_parallel_for_dynamic balances pieces over the threads as they run.
 */
#ifndef TK_THREADPOOL_H
#define TK_THREADPOOL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tk_pool tk_pool;

/* Runs on [start, end) of the loop; thread_index is in [0, tk_pool_size ()). */
typedef void (*tk_pool_fn) (void *ctx, int64_t start, int64_t end, int thread_index);

/* n_threads <= 0 means one per online CPU. Returns NULL when out of memory or
 * when no thread could be started. */
tk_pool *tk_pool_new (int n_threads);
void tk_pool_free (tk_pool *pool);
int tk_pool_size (const tk_pool *pool);

/* Splits [0, n) into at most tk_pool_size () ranges of at least grain items
 * (grain < 1 counts as 1) and runs fn on each; returns when all are done.
 * A NULL pool runs fn on the whole range in the calling thread. Not reentrant:
 * fn must not call tk_pool_parallel_for on the same pool. */
void tk_pool_parallel_for (tk_pool *pool, int64_t n, int64_t grain, tk_pool_fn fn, void *ctx);

/* Runs fn on consecutive pieces of piece items (piece < 1 counts as 1; the
 * last may be shorter), each thread claiming the next piece as soon as it is
 * free, so a thread slowed by other load on its core does less of the work;
 * returns when all are done. fn may be called many times per thread, and
 * which thread runs which piece varies from run to run: use it when each
 * item's result does not depend on the thread that computes it (thread_index
 * still names per-thread scratch). A NULL pool, a pool of one thread or a
 * single piece runs fn on the whole range in the calling thread. Not reentrant, as above. */
void tk_pool_parallel_for_dynamic (tk_pool *pool, int64_t n, int64_t piece, tk_pool_fn fn, void *ctx);

/* Number of online CPUs (at least 1). */
int tk_cpu_count (void);

#ifdef __cplusplus
}
#endif

#endif /* TK_THREADPOOL_H */
