/* bench-gemm: the linear layer at the models' real widths, against raw
 * cblas_sgemm (OpenBLAS using its own threads on all cores) and against
 * PyTorch's F.linear on the CPU, measured in the same rounds: the PyTorch
 * peer (bench_gemm_torch.py) runs as a separate process that takes its turn
 * in every round.
 *
 * Rows are a slice of the tokens (2,048 of the 32,760 of a 480p clip, or
 * all 32,760 with --full); the weights have the real shapes. Each figure is
 * the median of repeated interleaved runs. Usage:
 *   bench-gemm [--full] [--quick] [--threads N] [--min-seconds S] [--shape NAME]…
 * --shape (repeatable) runs only the named shapes, so a long run can be
 * taken in pieces.
 * TAKES_BENCH_TORCH_SCRIPT overrides the path of the PyTorch peer script.
 */
#include "config.h"

#include "bench-peer.h"
#include "tk-convert.h"
#include "tk-gemm.h"
#include "tk-tensor.h"
#include "tk-threadpool.h"

#include <cblas.h>
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct
{
  const char *name;
  int64_t m, n, k;
  /* Token rows scale with --full; text and time rows do not. */
  int token_rows;
} shape;

static const shape shapes[] = {
  { "dit-1.3b-qkvo", 2048, 1536, 1536, 1 }, { "dit-1.3b-ffn0", 2048, 8960, 1536, 1 },
  { "dit-1.3b-ffn2", 2048, 1536, 8960, 1 }, { "dit-14b-qkvo", 2048, 5120, 5120, 1 },
  { "dit-14b-ffn0", 2048, 13824, 5120, 1 }, { "umt5-fc1", 512, 10240, 4096, 0 },
  { "text-embed0", 512, 1536, 4096, 0 },    { "time-proj", 1, 9216, 1536, 0 },
};

#define N_SHAPES (sizeof shapes / sizeof shapes[0])
#define QUICK_SHAPES 3

/* The shapes this run measures. */
static int selected[N_SHAPES];

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct
{
  int64_t m, n, k;
  const float *x, *bias;
  float *y;
  const float *w32;
  const tk_tensor *w;
  tk_gemm_ws *ws;
  tk_pool *pool;
} bench_ctx;

static void
run_raw_sgemm (void *data)
{
  bench_ctx *c = data;

  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int)c->m, (int)c->n, (int)c->k, 1.0f, c->x,
               (int)c->k, c->w32, (int)c->k, 0.0f, c->y, (int)c->n);
}

static void
run_tk_linear (void *data)
{
  bench_ctx *c = data;

  if (tk_linear (c->ws, c->pool, c->m, c->x, c->k, c->w, c->bias, 0.0f, c->y, c->n) != TK_OK)
    abort ();
}

static void (*blas_set_threads) (int);
static int blas_threads_now = -1;

static void
set_blas_threads (int n)
{
  if (n == blas_threads_now)
    return;
  blas_threads_now = n;
  if (blas_set_threads != NULL)
    blas_set_threads (n);
  /* OpenBLAS's workers spin for a while after their last job; let them park
   * before the pool's threads need the cores. */
  usleep (200 * 1000);
}

typedef struct
{
  double raw, f32, f32_lent, bf16, f16, f8;
  double torch_f32, torch_bf16;
  /* Medians over the rounds of one variant's time over another's in the
   * same round: raw / f32, raw / lent, f32 / bf16, torch / tk. */
  double f32_vs_raw, lent_vs_raw, bf16_vs_f32, f32_vs_torch, bf16_vs_torch;
} result;

enum
{
  V_RAW,
  V_F32,
  V_F32_BLAS,
  V_BF16,
  V_F16,
  V_F8,
  V_TORCH_F32,
  V_TORCH_BF16,
  N_VARIANTS
};

/* The PyTorch peer, or NULL; peer_ready when it has the current shape. */
static bench_peer *peer;
static int peer_ready;

/* Median time of each variant over rounds that run every variant once, so
 * load from other processes falls on all of them alike: at least MIN_ROUNDS
 * rounds, and at least min_seconds per variant, after WARM_ROUNDS rounds
 * not counted (the first runs on new buffers pay for their pages). The
 * median, not the best: on a shared machine a lucky round can run at twice
 * the usual speed, so the best of a few rounds says more about luck than
 * about the code. */
#define MIN_ROUNDS 7
#define MAX_ROUNDS 256
#define WARM_ROUNDS 2

/* Each variant's time in each round of the last measure (). */
static double times[N_VARIANTS][MAX_ROUNDS];
static int n_rounds;

/* The median over the rounds of variant a's time over variant b's in the
 * same round, or of a's time alone for b < 0. A ratio taken within each
 * round compares runs that met the same conditions, so it holds still when
 * the machine's speed changes between rounds. */
static double
median_ratio (int a, int b)
{
  double r[MAX_ROUNDS];

  for (int i = 0; i < n_rounds; i++)
    r[i] = b < 0 ? times[a][i] : times[a][i] / times[b][i];
  return bench_median (r, n_rounds);
}

static void
measure (bench_ctx *c,
         const tk_tensor *weights[N_VARIANTS],
         int threads,
         double min_seconds,
         double median[N_VARIANTS])
{
  double spent = 0.0, start = now ();
  int rounds = 0;

  /* Short products spend more time in the pauses between turns than in the
   * products, so the rounds also stop after a while of wall-clock time. */
  for (int round = -WARM_ROUNDS;
       round < MAX_ROUNDS
       && (round < MIN_ROUNDS
           || (spent < min_seconds * V_TORCH_F32 && now () - start < 4.0 * min_seconds * N_VARIANTS));
       round++)
    {
      for (int v = 0; v < N_VARIANTS; v++)
        {
          double t0, dt;

          set_blas_threads (v == V_RAW ? threads : 1);
          tk_gemm_set_threading (v == V_F32_BLAS ? TK_GEMM_THREADS_BLAS : TK_GEMM_THREADS_POOL);
          if (v >= V_TORCH_F32)
            {
              /* The peer warmed up when it set the shape up. */
              if (round < 0 || !peer_ready)
                continue;
              dt = bench_peer_run (peer, v == V_TORCH_F32 ? "f32" : "bf16");
              if (dt < 0.0)
                {
                  peer_ready = 0;
                  continue;
                }
              times[v][round] = dt;
              continue;
            }
          c->w = weights[v];
          t0 = now ();
          if (v == V_RAW)
            run_raw_sgemm (c);
          else
            run_tk_linear (c);
          dt = now () - t0;
          if (round < 0)
            continue;
          times[v][round] = dt;
          spent += dt;
        }
      rounds = round + 1;
    }
  n_rounds = rounds;
  for (int v = 0; v < N_VARIANTS; v++)
    median[v] = v >= V_TORCH_F32 && !peer_ready ? 0.0 : median_ratio (v, -1);
}

static double
gflops (const shape *s, int64_t m, double seconds)
{
  return 2.0 * (double)m * (double)s->n * (double)s->k / seconds * 1e-9;
}

static char *
torch_script_path (void)
{
  const char *env = getenv ("TAKES_BENCH_TORCH_SCRIPT");
  char *path;

  if (env != NULL)
    return strdup (env);
  path = malloc (strlen (SOURCE_DATADIR) + 64);
  sprintf (path, "%s/../tests/bench/bench_gemm_torch.py", SOURCE_DATADIR);
  return path;
}

static tk_tensor *
weight_as (const float *w32, int64_t n, int64_t k, tk_dtype dtype, float scale)
{
  int64_t shape2[2] = { n, k };
  tk_tensor *t = tk_tensor_new (dtype, 2, shape2);

  if (t == NULL)
    return NULL;
  t->scale = scale;
  tk_convert_from_f32 (dtype, w32, t->data, (size_t)(n * k), scale);
  return t;
}

static size_t
next_selected (size_t i)
{
  while (i < N_SHAPES && !selected[i])
    i++;
  return i;
}

static int
shape_index (const char *name)
{
  for (size_t i = 0; i < N_SHAPES; i++)
    if (strcmp (name, shapes[i].name) == 0)
      return (int)i;
  return -1;
}

int
main (int argc, char **argv)
{
  int full = 0, quick = 0;
  int threads = tk_cpu_count ();
  double min_seconds = -1.0;
  size_t n_shapes = N_SHAPES;
  int64_t rows[N_SHAPES];
  result res[N_SHAPES] = { 0 };
  int64_t max_k = 0;
  tk_pool *pool;
  tk_gemm_ws *ws;
  void *sym;
  int have_torch = 0;
  int meets = 1;
  int n_picked = 0;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--full") == 0)
        full = 1;
      else if (strcmp (argv[i], "--quick") == 0)
        quick = 1;
      else if (strcmp (argv[i], "--threads") == 0 && i + 1 < argc)
        threads = atoi (argv[++i]);
      else if (strcmp (argv[i], "--min-seconds") == 0 && i + 1 < argc)
        min_seconds = atof (argv[++i]);
      else if (strcmp (argv[i], "--shape") == 0 && i + 1 < argc && shape_index (argv[i + 1]) >= 0)
        {
          selected[shape_index (argv[++i])] = 1;
          n_picked++;
        }
      else
        {
          fprintf (stderr,
                   "usage: %s [--full] [--quick] [--threads N] [--min-seconds S] [--shape NAME]...\nshapes:",
                   argv[0]);
          for (size_t j = 0; j < N_SHAPES; j++)
            fprintf (stderr, " %s", shapes[j].name);
          fprintf (stderr, "\n");
          return 2;
        }
    }
  if (quick && n_picked == 0)
    n_shapes = QUICK_SHAPES;
  for (size_t i = 0; i < N_SHAPES; i++)
    if (n_picked == 0)
      selected[i] = i < n_shapes;
  if (min_seconds < 0.0)
    min_seconds = quick ? 0.2 : 1.0;
  if (threads < 1)
    threads = 1;
  sym = dlsym (RTLD_DEFAULT, "openblas_set_num_threads");
  memcpy (&blas_set_threads, &sym, sizeof sym);

  memset (res, 0, sizeof res);
  for (size_t i = 0; i < n_shapes; i++)
    {
      rows[i] = shapes[i].token_rows && full ? 32760 : shapes[i].m;
      if (shapes[i].k > max_k)
        max_k = shapes[i].k;
    }

  printf ("bench-gemm: y = x·Wᵀ + b, %d threads, %s, instruction set %s, cblas_sbgemm %s\n", threads,
          full ? "32,760 token rows" : "2,048 token rows (--full for 32,760)", tk_isa_name (tk_isa_active ()),
          tk_gemm_have_sbgemm () ? "used" : "absent (BF16 weights converted block by block)");
  {
    char *(*config) (void);

    sym = dlsym (RTLD_DEFAULT, "openblas_get_config");
    memcpy (&config, &sym, sizeof sym);
    if (config != NULL)
      printf ("OpenBLAS: %s\n", config ());
  }
  printf (
      "GFLOP/s, median of >= 7 interleaved rounds; ratios (/raw, /f32, tk/pt) are medians of the ratios\n"
      "within each round; raw = cblas_sgemm with OpenBLAS's own %d threads, no bias;\n"
      "tk = tk_linear with a pool of %d, bias included (the default, TK_GEMM_THREADS_POOL): with AVX-512,\n"
      "up to 16 rows stream the weight once, converted in registers, and more rows go through tk's\n"
      "blocked product, which converts a narrow weight one packed panel at a time; lent = OpenBLAS's\n"
      "threads lent for one call (TK_GEMM_THREADS_BLAS: F32 weights as one cblas_sgemm, narrow ones\n"
      "converted block by block; its workers joined afterwards)\n\n",
      threads, threads);

  pool = tk_pool_new (threads);
  ws = tk_gemm_ws_new (threads, max_k);
  if (pool == NULL || ws == NULL)
    {
      fprintf (stderr, "out of memory\n");
      return 1;
    }
  {
    char *script = torch_script_path ();

    peer = bench_peer_start (script, threads);
    free (script);
  }

  printf ("%-15s %6s %6s %6s | %7s %7s %6s | %7s %6s | %7s %6s | %7s %7s\n", "shape", "M", "N", "K", "raw",
          "tk f32", "/raw", "lent", "/raw", "tk bf16", "/f32", "tk f16", "tk f8");
  for (size_t i = next_selected (0); i < n_shapes; i = next_selected (i + 1))
    {
      const shape *s = &shapes[i];
      int64_t m = rows[i];
      float *x = tk_aligned_alloc ((size_t)(m * s->k) * sizeof (float));
      float *w32 = tk_aligned_alloc ((size_t)(s->n * s->k) * sizeof (float));
      float *bias = tk_aligned_alloc ((size_t)s->n * sizeof (float));
      float *y = tk_aligned_alloc ((size_t)(m * s->n) * sizeof (float));
      tk_tensor *wf32, *wbf16, *wf16, *wf8;
      bench_ctx c = { m, s->n, s->k, x, bias, y, w32, NULL, ws, pool };

      if (x == NULL || w32 == NULL || bias == NULL || y == NULL)
        {
          fprintf (stderr, "out of memory for %s\n", s->name);
          return 1;
        }
      srand (1);
      for (int64_t j = 0; j < m * s->k; j++)
        x[j] = (float)rand () / (float)RAND_MAX * 2.0f - 1.0f;
      for (int64_t j = 0; j < s->n * s->k; j++)
        w32[j] = ((float)rand () / (float)RAND_MAX * 2.0f - 1.0f) * 0.05f;
      for (int64_t j = 0; j < s->n; j++)
        bias[j] = (float)rand () / (float)RAND_MAX;
      wf32 = weight_as (w32, s->n, s->k, TK_DTYPE_F32, 1.0f);
      wbf16 = weight_as (w32, s->n, s->k, TK_DTYPE_BF16, 1.0f);
      wf16 = weight_as (w32, s->n, s->k, TK_DTYPE_F16, 1.0f);
      wf8 = weight_as (w32, s->n, s->k, TK_DTYPE_F8_E4M3, 0.05f / 448.0f);
      if (wf32 == NULL || wbf16 == NULL || wf16 == NULL || wf8 == NULL)
        {
          fprintf (stderr, "out of memory for %s\n", s->name);
          return 1;
        }

      peer_ready = 0;
      if (peer != NULL)
        {
          char spec[160], how[512];

          snprintf (spec, sizeof spec, "%s:%lld:%lld:%lld", s->name, (long long)m, (long long)s->n,
                    (long long)s->k);
          peer_ready = bench_peer_setup (peer, spec, how, sizeof how) == 0;
          if (!peer_ready)
            printf ("PyTorch peer could not set up %s: %s\n", s->name, how);
        }
      {
        const tk_tensor *weights[N_VARIANTS] = { NULL, wf32, wf32, wbf16, wf16, wf8, NULL, NULL };
        double med[N_VARIANTS];

        measure (&c, weights, threads, min_seconds, med);
        res[i].raw = med[V_RAW];
        res[i].f32 = med[V_F32];
        res[i].f32_lent = med[V_F32_BLAS];
        res[i].bf16 = med[V_BF16];
        res[i].f16 = med[V_F16];
        res[i].f8 = med[V_F8];
        res[i].torch_f32 = med[V_TORCH_F32];
        res[i].torch_bf16 = med[V_TORCH_BF16];
        res[i].f32_vs_raw = median_ratio (V_RAW, V_F32);
        res[i].lent_vs_raw = median_ratio (V_RAW, V_F32_BLAS);
        res[i].bf16_vs_f32 = median_ratio (V_F32, V_BF16);
        if (peer_ready)
          {
            res[i].f32_vs_torch = median_ratio (V_TORCH_F32, V_F32);
            res[i].bf16_vs_torch = median_ratio (V_TORCH_BF16, V_BF16);
          }
        have_torch |= peer_ready;
      }

      printf ("%-15s %6lld %6lld %6lld | %7.1f %7.1f %5.2fx | %7.1f %5.2fx | %7.1f %5.2fx | %7.1f %7.1f\n",
              s->name, (long long)m, (long long)s->n, (long long)s->k, gflops (s, m, res[i].raw),
              gflops (s, m, res[i].f32), res[i].f32_vs_raw, gflops (s, m, res[i].f32_lent),
              res[i].lent_vs_raw, gflops (s, m, res[i].bf16), res[i].bf16_vs_f32, gflops (s, m, res[i].f16),
              gflops (s, m, res[i].f8));
      fflush (stdout);
      /* The GEMV-shaped rows are bound by memory, not arithmetic. */
      if (m > 1 && res[i].f32_vs_raw < 0.95)
        meets = 0;

      tk_tensor_free (wf32);
      tk_tensor_free (wbf16);
      tk_tensor_free (wf16);
      tk_tensor_free (wf8);
      tk_aligned_free (x);
      tk_aligned_free (w32);
      tk_aligned_free (bias);
      tk_aligned_free (y);
    }
  printf ("\ntarget tk f32 >= 0.95x raw sgemm on the GEMM shapes: %s\n\n", meets ? "met" : "NOT met");

  bench_peer_stop (peer);
  if (have_torch)
    {
      printf (
          "against PyTorch F.linear (same shapes and rounds, torch.set_num_threads(%d); its BF16 is BF16\n"
          "in and out)\n",
          threads);
      int compared = 0, f32_faster = 0, bf16_faster = 0;

      printf ("%-15s | %9s %8s %7s | %9s %8s %7s\n", "shape", "torch f32", "tk f32", "tk/pt", "torch bf16",
              "tk bf16", "tk/pt");
      for (size_t i = 0; i < n_shapes; i++)
        {
          const shape *s = &shapes[i];

          if (res[i].torch_f32 <= 0.0)
            continue;
          printf ("%-15s | %9.1f %8.1f %6.2fx | %10.1f %8.1f %6.2fx\n", s->name,
                  gflops (s, rows[i], res[i].torch_f32), gflops (s, rows[i], res[i].f32), res[i].f32_vs_torch,
                  gflops (s, rows[i], res[i].torch_bf16), gflops (s, rows[i], res[i].bf16),
                  res[i].bf16_vs_torch);
          compared++;
          f32_faster += res[i].f32_vs_torch > 1.0;
          bf16_faster += res[i].bf16_vs_torch > 1.0;
        }
      if (compared > 0)
        {
          printf ("\ntarget tk f32 faster than PyTorch f32: %s (%d of %d shapes)\n",
                  f32_faster == compared ? "met" : "NOT met", f32_faster, compared);
          printf ("target tk bf16 faster than PyTorch bf16: %s (%d of %d shapes)\n",
                  bf16_faster == compared ? "met" : "NOT met", bf16_faster, compared);
        }
    }
  tk_gemm_ws_free (ws);
  tk_pool_free (pool);
  return 0;
}
