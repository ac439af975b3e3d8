/* tk-threadpool.c: fixed pthread pool with a generation counter.
 *
 * Each parallel loop publishes its job and bumps the generation; workers wake,
 * run their own slice and count down. The static split is computed from the
 * loop size and the pool size alone, never from timing. The dynamic loop
 * hands out pieces from a shared counter instead, so a thread that shares
 * its core with another process simply takes fewer pieces.
 */
#include "tk-threadpool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

struct tk_pool
{
  int n_threads;
  pthread_t *threads;
  int n_started;

  pthread_mutex_t lock;
  pthread_cond_t wake;
  pthread_cond_t done;
  uint64_t generation;
  int pending;
  int quit;

  /* The job of the current generation. */
  tk_pool_fn fn;
  void *ctx;
  int64_t n;
  int n_chunks;
  /* Dynamic loops: piece size (0 for a static split) and the next unclaimed item. */
  int64_t piece;
  _Atomic int64_t next;
};

typedef struct
{
  tk_pool *pool;
  int index;
} worker_arg;

int
tk_cpu_count (void)
{
  long n = sysconf (_SC_NPROCESSORS_ONLN);

  return n < 1 ? 1 : (int)n;
}

static void
chunk_range (int64_t n, int n_chunks, int chunk, int64_t *start, int64_t *end)
{
  int64_t base = n / n_chunks;
  int64_t extra = n % n_chunks;

  *start = chunk * base + (chunk < extra ? chunk : extra);
  *end = *start + base + (chunk < extra ? 1 : 0);
}

/* Claims pieces of the current dynamic loop until none are left. */
static void
run_pieces (tk_pool *pool, tk_pool_fn fn, void *ctx, int64_t n, int64_t piece, int index)
{
  for (;;)
    {
      int64_t start = atomic_fetch_add_explicit (&pool->next, piece, memory_order_relaxed);

      if (start >= n)
        break;
      fn (ctx, start, n - start > piece ? start + piece : n, index);
    }
}

static void *
worker_main (void *data)
{
  worker_arg *arg = data;
  tk_pool *pool = arg->pool;
  int index = arg->index;
  uint64_t seen = 0;

  free (arg);
  pthread_mutex_lock (&pool->lock);
  for (;;)
    {
      while (!pool->quit && pool->generation == seen)
        pthread_cond_wait (&pool->wake, &pool->lock);
      if (pool->quit)
        break;
      seen = pool->generation;
      if (index < pool->n_chunks)
        {
          tk_pool_fn fn = pool->fn;
          void *ctx = pool->ctx;
          int64_t n = pool->n, piece = pool->piece;
          int64_t start, end;

          chunk_range (n, pool->n_chunks, index, &start, &end);
          pthread_mutex_unlock (&pool->lock);
          if (piece > 0)
            run_pieces (pool, fn, ctx, n, piece, index);
          else
            fn (ctx, start, end, index);
          pthread_mutex_lock (&pool->lock);
          if (--pool->pending == 0)
            pthread_cond_signal (&pool->done);
        }
    }
  pthread_mutex_unlock (&pool->lock);
  return NULL;
}

tk_pool *
tk_pool_new (int n_threads)
{
  tk_pool *pool;

  if (n_threads <= 0)
    n_threads = tk_cpu_count ();
  pool = calloc (1, sizeof *pool);
  if (pool == NULL)
    return NULL;
  pool->n_threads = n_threads;
  pthread_mutex_init (&pool->lock, NULL);
  pthread_cond_init (&pool->wake, NULL);
  pthread_cond_init (&pool->done, NULL);
  if (n_threads > 1)
    {
      pool->threads = calloc ((size_t)n_threads - 1, sizeof *pool->threads);
      if (pool->threads == NULL)
        {
          tk_pool_free (pool);
          return NULL;
        }
    }
  for (int i = 1; i < n_threads; i++)
    {
      worker_arg *arg = malloc (sizeof *arg);

      if (arg == NULL)
        break;
      arg->pool = pool;
      arg->index = i;
      if (pthread_create (&pool->threads[i - 1], NULL, worker_main, arg) != 0)
        {
          free (arg);
          break;
        }
      pool->n_started++;
    }
  /* A pool that could start only some workers still works, with fewer threads. */
  pool->n_threads = pool->n_started + 1;
  return pool;
}

void
tk_pool_free (tk_pool *pool)
{
  if (pool == NULL)
    return;
  pthread_mutex_lock (&pool->lock);
  pool->quit = 1;
  pthread_cond_broadcast (&pool->wake);
  pthread_mutex_unlock (&pool->lock);
  for (int i = 0; i < pool->n_started; i++)
    pthread_join (pool->threads[i], NULL);
  pthread_cond_destroy (&pool->done);
  pthread_cond_destroy (&pool->wake);
  pthread_mutex_destroy (&pool->lock);
  free (pool->threads);
  free (pool);
}

int
tk_pool_size (const tk_pool *pool)
{
  return pool == NULL ? 1 : pool->n_threads;
}

/* Publishes a loop of n_chunks threads, runs the caller's share, and
 * waits for the workers. piece > 0 makes it a dynamic loop. */
static void
run_loop (tk_pool *pool, int64_t n, int n_chunks, int64_t piece, tk_pool_fn fn, void *ctx)
{
  int64_t start, end;

  pthread_mutex_lock (&pool->lock);
  pool->fn = fn;
  pool->ctx = ctx;
  pool->n = n;
  pool->n_chunks = n_chunks;
  pool->piece = piece;
  atomic_store_explicit (&pool->next, 0, memory_order_relaxed);
  pool->pending = n_chunks - 1;
  pool->generation++;
  pthread_cond_broadcast (&pool->wake);
  pthread_mutex_unlock (&pool->lock);

  if (piece > 0)
    {
      run_pieces (pool, fn, ctx, n, piece, 0);
    }
  else
    {
      chunk_range (n, n_chunks, 0, &start, &end);
      fn (ctx, start, end, 0);
    }

  pthread_mutex_lock (&pool->lock);
  while (pool->pending > 0)
    pthread_cond_wait (&pool->done, &pool->lock);
  pthread_mutex_unlock (&pool->lock);
}

void
tk_pool_parallel_for (tk_pool *pool, int64_t n, int64_t grain, tk_pool_fn fn, void *ctx)
{
  int n_chunks;

  if (n <= 0)
    return;
  if (grain < 1)
    grain = 1;
  n_chunks = (int)((n + grain - 1) / grain);
  if (pool == NULL || n_chunks <= 1 || pool->n_threads <= 1)
    {
      fn (ctx, 0, n, 0);
      return;
    }
  if (n_chunks > pool->n_threads)
    n_chunks = pool->n_threads;
  run_loop (pool, n, n_chunks, 0, fn, ctx);
}

void
tk_pool_parallel_for_dynamic (tk_pool *pool, int64_t n, int64_t piece, tk_pool_fn fn, void *ctx)
{
  int64_t n_pieces;

  if (n <= 0)
    return;
  if (piece < 1)
    piece = 1;
  n_pieces = (n + piece - 1) / piece;
  if (pool == NULL || n_pieces <= 1 || pool->n_threads <= 1)
    {
      fn (ctx, 0, n, 0);
      return;
    }
  run_loop (pool, n, n_pieces < pool->n_threads ? (int)n_pieces : pool->n_threads, piece, fn, ctx);
}
