/* Tests of the thread pool: every index visited once, for any size and grain. */
#include "tk-threadpool.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "tk-test.h"

typedef struct
{
  atomic_int *hits;
  atomic_int max_thread;
} visit_ctx;

static void
visit (void *data, int64_t start, int64_t end, int thread_index)
{
  visit_ctx *ctx = data;

  for (int64_t i = start; i < end; i++)
    atomic_fetch_add (&ctx->hits[i], 1);
  int seen = atomic_load (&ctx->max_thread);
  while (thread_index > seen && !atomic_compare_exchange_weak (&ctx->max_thread, &seen, thread_index))
    ;
}

static void
test_every_index_once (int n_threads)
{
  static const int64_t sizes[] = { 0, 1, 2, 3, 7, 31, 97, 1000, 65537 };
  static const int64_t grains[] = { 1, 2, 5, 64, 100000 };
  int before = failures;
  tk_pool *pool = tk_pool_new (n_threads);
  char name[96];

  CHECK (pool != NULL, "pool of %d threads", n_threads);
  CHECK (tk_pool_size (pool) == n_threads, "size %d, wanted %d", tk_pool_size (pool), n_threads);
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (size_t g = 0; g < sizeof grains / sizeof grains[0]; g++)
      {
        int64_t n = sizes[s];
        visit_ctx ctx = { calloc ((size_t) n + 1, sizeof (atomic_int)), 0 };

        /* Repeat so a worker that misses a generation shows up. */
        for (int rep = 0; rep < 5; rep++)
          tk_pool_parallel_for (pool, n, grains[g], visit, &ctx);
        for (int64_t i = 0; i < n; i++)
          CHECK (atomic_load (&ctx.hits[i]) == 5, "n=%lld grain=%lld index %lld hit %d times", (long long) n,
                 (long long) grains[g], (long long) i, atomic_load (&ctx.hits[i]));
        CHECK (atomic_load (&ctx.max_thread) < n_threads, "thread index out of range");
        free (ctx.hits);
      }
  tk_pool_free (pool);
  snprintf (name, sizeof name, "/threadpool/every-index-once/%d-threads", n_threads);
  report (name, before);
}

static void
test_null_pool_runs_inline (void)
{
  int before = failures;
  visit_ctx ctx = { calloc (10, sizeof (atomic_int)), 0 };

  tk_pool_parallel_for (NULL, 10, 1, visit, &ctx);
  for (int i = 0; i < 10; i++)
    CHECK (atomic_load (&ctx.hits[i]) == 1, "index %d", i);
  CHECK (tk_pool_size (NULL) == 1, "null pool size");
  free (ctx.hits);
  report ("/threadpool/null-pool-runs-inline", before);
}

static void
test_default_size_is_cpu_count (void)
{
  int before = failures;
  tk_pool *pool = tk_pool_new (0);

  CHECK (tk_pool_size (pool) == tk_cpu_count (), "size %d vs %d cpus", tk_pool_size (pool), tk_cpu_count ());
  tk_pool_free (pool);
  report ("/threadpool/default-size-is-cpu-count", before);
}

int
main (void)
{
  printf ("TAP version 13\n");
  test_every_index_once (1);
  test_every_index_once (2);
  test_every_index_once (5);
  test_null_pool_runs_inline ();
  test_default_size_is_cpu_count ();
  printf ("1..%d\n", n_test);
  return failures == 0 ? 0 : 1;
}
