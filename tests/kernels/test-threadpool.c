/* Tests of the thread pool: every index visited once, for any size and grain. */
#include "tk-threadpool.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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
        visit_ctx ctx = { calloc ((size_t)n + 1, sizeof (atomic_int)), 0 };

        /* Repeat so a worker that misses a generation shows up. */
        for (int rep = 0; rep < 5; rep++)
          tk_pool_parallel_for (pool, n, grains[g], visit, &ctx);
        for (int64_t i = 0; i < n; i++)
          CHECK (atomic_load (&ctx.hits[i]) == 5, "n=%lld grain=%lld index %lld hit %d times", (long long)n,
                 (long long)grains[g], (long long)i, atomic_load (&ctx.hits[i]));
        CHECK (atomic_load (&ctx.max_thread) < n_threads, "thread index out of range");
        free (ctx.hits);
      }
  tk_pool_free (pool);
  snprintf (name, sizeof name, "/threadpool/every-index-once/%d-threads", n_threads);
  report (name, before);
}

typedef struct
{
  atomic_int *hits;
  int64_t n, piece;
  atomic_int bad_ranges;
  atomic_int max_thread;
} piece_ctx;

static void
visit_piece (void *data, int64_t start, int64_t end, int thread_index)
{
  piece_ctx *ctx = data;

  if (start % ctx->piece != 0 || end != (start + ctx->piece < ctx->n ? start + ctx->piece : ctx->n))
    atomic_fetch_add (&ctx->bad_ranges, 1);
  for (int64_t i = start; i < end; i++)
    atomic_fetch_add (&ctx->hits[i], 1);
  int seen = atomic_load (&ctx->max_thread);
  while (thread_index > seen && !atomic_compare_exchange_weak (&ctx->max_thread, &seen, thread_index))
    ;
}

static void
test_dynamic_every_index_once (int n_threads)
{
  static const int64_t sizes[] = { 0, 1, 2, 3, 7, 31, 97, 1000, 65537 };
  static const int64_t pieces[] = { 0, 1, 2, 5, 64, 100000 };
  int before = failures;
  tk_pool *pool = tk_pool_new (n_threads);
  char name[96];

  CHECK (pool != NULL, "pool of %d threads", n_threads);
  for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
    for (size_t g = 0; g < sizeof pieces / sizeof pieces[0]; g++)
      {
        int64_t n = sizes[s];
        int64_t piece = pieces[g] < 1 ? 1 : pieces[g];
        /* A one-thread pool runs the whole range in one call. */
        piece_ctx ctx
            = { calloc ((size_t)n + 1, sizeof (atomic_int)), n, n_threads == 1 && n > 0 ? n : piece, 0, 0 };

        /* Interleaved with static loops, so the two kinds of generation
         * follow each other on the same workers. */
        for (int rep = 0; rep < 5; rep++)
          {
            visit_ctx other = { calloc (8, sizeof (atomic_int)), 0 };

            tk_pool_parallel_for_dynamic (pool, n, pieces[g], visit_piece, &ctx);
            tk_pool_parallel_for (pool, 8, 1, visit, &other);
            for (int i = 0; i < 8; i++)
              CHECK (atomic_load (&other.hits[i]) == 1, "static loop after a dynamic one, index %d", i);
            free (other.hits);
          }
        for (int64_t i = 0; i < n; i++)
          CHECK (atomic_load (&ctx.hits[i]) == 5, "n=%lld piece=%lld index %lld hit %d times", (long long)n,
                 (long long)pieces[g], (long long)i, atomic_load (&ctx.hits[i]));
        CHECK (atomic_load (&ctx.bad_ranges) == 0, "n=%lld piece=%lld: %d calls not on piece boundaries",
               (long long)n, (long long)pieces[g], atomic_load (&ctx.bad_ranges));
        CHECK (atomic_load (&ctx.max_thread) < n_threads, "thread index out of range");
        free (ctx.hits);
      }
  tk_pool_free (pool);
  snprintf (name, sizeof name, "/threadpool/dynamic/every-index-once/%d-threads", n_threads);
  report (name, before);
}

#define STALL_PIECES 64

typedef struct
{
  atomic_int done_by_others;
  atomic_int pieces_by_stalled;
  atomic_int timed_out;
} stall_ctx;

/* Thread 1 holds on to its first piece until every other piece is done (or
 * 20 s pass): with a static split its share would never be finished by
 * anyone else, with the dynamic loop the other threads take it over. */
static void
stall_piece (void *data, int64_t start, int64_t end, int thread_index)
{
  stall_ctx *ctx = data;

  (void)start;
  (void)end;
  if (thread_index != 1)
    {
      atomic_fetch_add (&ctx->done_by_others, 1);
      return;
    }
  if (atomic_fetch_add (&ctx->pieces_by_stalled, 1) > 0)
    return;
  for (int ms = 0; atomic_load (&ctx->done_by_others) < STALL_PIECES - 1; ms++)
    {
      struct timespec pause = { 0, 1000 * 1000 };

      if (ms >= 20000)
        {
          atomic_store (&ctx->timed_out, 1);
          break;
        }
      nanosleep (&pause, NULL);
    }
}

static void
test_dynamic_slow_thread_does_less (void)
{
  int before = failures;
  tk_pool *pool = tk_pool_new (3);
  stall_ctx ctx = { 0, 0, 0 };

  tk_pool_parallel_for_dynamic (pool, STALL_PIECES, 1, stall_piece, &ctx);
  CHECK (!atomic_load (&ctx.timed_out), "the other threads did not take over the stalled thread's share");
  CHECK (atomic_load (&ctx.pieces_by_stalled) <= 1, "the stalled thread ran %d pieces",
         atomic_load (&ctx.pieces_by_stalled));
  CHECK (atomic_load (&ctx.done_by_others) + atomic_load (&ctx.pieces_by_stalled) == STALL_PIECES,
         "%d + %d pieces of %d", atomic_load (&ctx.done_by_others), atomic_load (&ctx.pieces_by_stalled),
         STALL_PIECES);
  tk_pool_free (pool);
  report ("/threadpool/dynamic/slow-thread-does-less", before);
}

static void
test_null_pool_runs_inline (void)
{
  int before = failures;
  visit_ctx ctx = { calloc (10, sizeof (atomic_int)), 0 };

  tk_pool_parallel_for (NULL, 10, 1, visit, &ctx);
  tk_pool_parallel_for_dynamic (NULL, 10, 3, visit, &ctx);
  for (int i = 0; i < 10; i++)
    CHECK (atomic_load (&ctx.hits[i]) == 2, "index %d", i);
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
  test_dynamic_every_index_once (1);
  test_dynamic_every_index_once (2);
  test_dynamic_every_index_once (5);
  test_dynamic_slow_thread_does_less ();
  test_null_pool_runs_inline ();
  test_default_size_is_cpu_count ();
  printf ("1..%d\n", n_test);
  return failures == 0 ? 0 : 1;
}
