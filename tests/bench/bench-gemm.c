/* bench-gemm: the linear layer at the models' real widths, against raw
 * cblas_sgemm (OpenBLAS using its own threads on all cores) and against
 * PyTorch's F.linear on the CPU, measured in the same run.
 *
 * Rows are a slice of the tokens (2,048 of the 32,760 of a 480p clip, or
 * all 32,760 with --full); the weights have the real shapes. Each figure is
 * the best of repeated runs. Usage:
 *   bench-gemm [--full] [--quick] [--threads N] [--min-seconds S] [--shape NAME]…
 * --shape (repeatable) runs only the named shapes, so a long run can be
 * taken in pieces.
 * TAKES_BENCH_TORCH_SCRIPT overrides the path of the PyTorch peer script.
 */
#include "config.h"

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
} result;

enum
{
  V_RAW,
  V_F32,
  V_F32_BLAS,
  V_BF16,
  V_F16,
  V_F8,
  N_VARIANTS
};

/* Best time of each variant over rounds that run every variant once, so
 * load from other processes falls on all of them alike: at least three
 * rounds, and at least min_seconds per variant, after a warm-up round. */
static void
measure (bench_ctx *c,
         const tk_tensor *weights[N_VARIANTS],
         int threads,
         double min_seconds,
         double best[N_VARIANTS])
{
  double spent = 0.0;

  for (int v = 0; v < N_VARIANTS; v++)
    best[v] = INFINITY;
  for (int round = -1; round < 3 || spent < min_seconds * N_VARIANTS; round++)
    for (int v = 0; v < N_VARIANTS; v++)
      {
        double t0, dt;

        set_blas_threads (v == V_RAW ? threads : 1);
        tk_gemm_set_threading (v == V_F32_BLAS ? TK_GEMM_THREADS_BLAS : TK_GEMM_THREADS_POOL);
        c->w = weights[v];
        t0 = now ();
        if (v == V_RAW)
          run_raw_sgemm (c);
        else
          run_tk_linear (c);
        dt = now () - t0;
        if (round < 0)
          continue;
        best[v] = dt < best[v] ? dt : best[v];
        spent += dt;
      }
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

/* Runs the PyTorch peer on the shapes; returns 0 and fills the torch times,
 * or prints why it is unavailable and returns -1. */
static int
run_torch (const int64_t *rows, size_t n_shapes, int threads, double min_seconds, result *res)
{
  char *script = torch_script_path ();
  size_t cap = 4096;
  char *cmd = malloc (cap);
  char line[512];
  FILE *p;
  int found = 0, status;

  if (access ("/usr/bin/python3", X_OK) != 0 || access (script, R_OK) != 0)
    {
      printf ("PyTorch peer unavailable: /usr/bin/python3 or %s is missing\n", script);
      free (script);
      free (cmd);
      return -1;
    }
  snprintf (cmd, cap, "/usr/bin/python3 '%s' %d %.3f", script, threads, min_seconds);
  for (size_t i = 0; i < n_shapes; i++)
    {
      size_t len = strlen (cmd);

      if (!selected[i])
        continue;
      snprintf (cmd + len, cap - len, " %s:%lld:%lld:%lld", shapes[i].name, (long long)rows[i],
                (long long)shapes[i].n, (long long)shapes[i].k);
    }
  fflush (stdout);
  p = popen (cmd, "r");
  if (p == NULL)
    {
      printf ("PyTorch peer unavailable: could not start %s\n", script);
      free (script);
      free (cmd);
      return -1;
    }
  while (fgets (line, sizeof line, p) != NULL)
    {
      char name[128];
      double f32, bf16;

      if (strncmp (line, "unavailable", 11) == 0)
        {
          printf ("PyTorch peer unavailable:%s", line + 11);
          continue;
        }
      if (sscanf (line, "%127s %lf %lf", name, &f32, &bf16) != 3)
        continue;
      for (size_t i = 0; i < n_shapes; i++)
        if (strcmp (name, shapes[i].name) == 0)
          {
            res[i].torch_f32 = f32;
            res[i].torch_bf16 = bf16;
            found++;
          }
    }
  status = pclose (p);
  free (script);
  free (cmd);
  if (found == 0 && status != 0)
    printf ("PyTorch peer unavailable: the script exited with status %d\n", status);
  return found > 0 ? 0 : -1;
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
  result res[N_SHAPES];
  int64_t max_k = 0;
  tk_pool *pool;
  tk_gemm_ws *ws;
  void *sym;
  int have_torch;
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
      "GFLOP/s, best of >= 3 interleaved rounds; raw = cblas_sgemm with OpenBLAS's own %d threads, no bias;\n"
      "tk = tk_linear with a pool of %d, bias included (the default, TK_GEMM_THREADS_POOL): with AVX-512,\n"
      "up to 16 rows stream the weight once, converted in registers, and F32 weights with 17 to 512 rows\n"
      "go through tk's blocked product; otherwise the product is split over the pool as single-threaded\n"
      "cblas calls; lent = OpenBLAS's threads lent for one call (TK_GEMM_THREADS_BLAS, its workers\n"
      "joined afterwards; the few-rows path is the same in both modes)\n\n",
      threads, threads);

  pool = tk_pool_new (threads);
  ws = tk_gemm_ws_new (threads, max_k);
  if (pool == NULL || ws == NULL)
    {
      fprintf (stderr, "out of memory\n");
      return 1;
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

      {
        const tk_tensor *weights[N_VARIANTS] = { NULL, wf32, wf32, wbf16, wf16, wf8 };
        double best[N_VARIANTS];

        measure (&c, weights, threads, min_seconds, best);
        res[i].raw = best[V_RAW];
        res[i].f32 = best[V_F32];
        res[i].f32_lent = best[V_F32_BLAS];
        res[i].bf16 = best[V_BF16];
        res[i].f16 = best[V_F16];
        res[i].f8 = best[V_F8];
      }

      printf ("%-15s %6lld %6lld %6lld | %7.1f %7.1f %5.2fx | %7.1f %5.2fx | %7.1f %5.2fx | %7.1f %7.1f\n",
              s->name, (long long)m, (long long)s->n, (long long)s->k, gflops (s, m, res[i].raw),
              gflops (s, m, res[i].f32), res[i].raw / res[i].f32, gflops (s, m, res[i].f32_lent),
              res[i].raw / res[i].f32_lent, gflops (s, m, res[i].bf16), res[i].f32 / res[i].bf16,
              gflops (s, m, res[i].f16), gflops (s, m, res[i].f8));
      fflush (stdout);
      /* The GEMV-shaped rows are bound by memory, not arithmetic. */
      if (m > 1 && res[i].raw / res[i].f32 < 0.95)
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

  have_torch = run_torch (rows, n_shapes, threads, min_seconds, res) == 0;
  if (have_torch)
    {
      printf (
          "against PyTorch F.linear (same shapes, torch.set_num_threads(%d); its BF16 is BF16 in and out)\n",
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
                  gflops (s, rows[i], res[i].torch_f32), gflops (s, rows[i], res[i].f32),
                  res[i].torch_f32 / res[i].f32, gflops (s, rows[i], res[i].torch_bf16),
                  gflops (s, rows[i], res[i].bf16), res[i].torch_bf16 / res[i].bf16);
          compared++;
          f32_faster += res[i].f32 < res[i].torch_f32;
          bf16_faster += res[i].bf16 < res[i].torch_bf16;
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
