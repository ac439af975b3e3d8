/* bench-attention-conv: tk attention and conv3d at the models' real shapes,
 * against the matrix-product rate they are built to approach and against
 * PyTorch on the CPU, all measured in the same run.
 *
 *   - Attention at N = 4,096, 16,384 and 32,760 tokens (head dim 128; a few
 *     heads, or one at 32,760, to keep the run short), the DiT's
 *     cross-attention and umT5's: GFLOP/s (4·Lq·Lk·d per head) against
 *     cblas_sgemm 2048³ with OpenBLAS's own threads on the same cores,
 *     measured in the same rounds. Target: at least 0.5×.
 *   - Conv3d at the Wan VAE decoders' layer shapes (one output frame at
 *     480×832, or 704×1280 for Wan2.2, with a full causal cache): GFLOP/s
 *     against the im2col + sgemm bound, i.e. the product of the weights with
 *     an already built im2col matrix (a slab of it for large frames), the
 *     faster of raw OpenBLAS and tk_gemm_f32. Target: at least 0.6×. Every
 *     conv3d rate counts the direct product's 2·Cout·K multiply-adds per
 *     output pixel; tk runs 3×3 kernels as Winograd F(2×2, 3×3), which
 *     needs 2.25× fewer, so its rate can pass the bound.
 *   - PyTorch (torch.nn.functional scaled dot-product attention and conv3d)
 *     on the same shapes and thread count, run by /usr/bin/python3 as a
 *     separate process that takes its turn in every round, so both meet
 *     the same load.
 *
 * Each figure is the median of at least seven rounds that run every
 * variant once (so load from other processes falls on all alike), after a
 * warm-up; each ratio is the median of the ratios within each round.
 * Usage: bench-attention-conv [--quick] [--threads N] [--min-seconds S]
 *                             [--shape NAME]…
 * --shape (repeatable) runs only the named shapes of either section, so a
 * full run can be taken in pieces.
 * TAKES_BENCH_ATTENTION_CONV_SCRIPT overrides the path of the PyTorch script.
 */
#include "config.h"

#include "bench-peer.h"
#include "tk-attention.h"
#include "tk-conv.h"
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
  int64_t lq, lk;
  int heads, dim;
  int t5;     /* no scale, relative bias, half the keys masked */
  int target; /* one of the shapes the 0.5× target is set for */
  int quick;
} attn_shape;

static const attn_shape attn_shapes[] = {
  { "self-4096", 4096, 4096, 4, 128, 0, 1, 1 },    { "self-16384", 16384, 16384, 2, 128, 0, 1, 1 },
  { "self-32760", 32760, 32760, 1, 128, 0, 1, 0 }, { "cross-32760x512", 32760, 512, 12, 128, 0, 0, 0 },
  { "umt5-512", 512, 512, 64, 64, 1, 0, 1 },
};

typedef struct
{
  const char *name;
  int cin, cout, kt, kh, kw;
  int64_t h, w;
  int quick;
} conv_shape;

static const conv_shape conv_shapes[] = {
  { "dec-conv1", 16, 384, 3, 3, 3, 60, 104, 1 },      { "dec-l0-res", 384, 384, 3, 3, 3, 60, 104, 1 },
  { "dec-up3d-time", 384, 768, 3, 1, 1, 60, 104, 1 }, { "dec-up0-conv", 384, 192, 1, 3, 3, 120, 208, 0 },
  { "dec-l1-res", 384, 384, 3, 3, 3, 120, 208, 0 },   { "dec-l2-res", 192, 192, 3, 3, 3, 240, 416, 0 },
  { "dec-l3-res", 96, 96, 3, 3, 3, 480, 832, 0 },     { "dec-head", 96, 3, 3, 3, 3, 480, 832, 0 },
  { "dec22-l0-res", 1024, 1024, 3, 3, 3, 44, 80, 0 },
};

#define N_ATTN (sizeof attn_shapes / sizeof attn_shapes[0])
#define N_CONV (sizeof conv_shapes / sizeof conv_shapes[0])
/* Columns of the im2col slab whose product stands for a whole frame. */
#define SLAB_COLUMNS 4096
#define SGEMM_SIZE 2048

static double
now (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint64_t rng = 0x853C49E6748FEA9Bull;

static float *
random_floats (int64_t n, float amplitude)
{
  float *x = tk_aligned_alloc ((size_t)n * sizeof (float));

  if (x == NULL)
    {
      fprintf (stderr, "out of memory\n");
      exit (1);
    }
  for (int64_t i = 0; i < n; i++)
    {
      rng = rng * 6364136223846793005ull + 1442695040888963407ull;
      x[i] = amplitude * ((float)(rng >> 40) / (float)(1 << 24) * 2.0f - 1.0f);
    }
  return x;
}

/* ---- OpenBLAS's own threads ---- */

static void (*blas_set_threads) (int);

static void
use_blas_threads (int n)
{
  if (blas_set_threads != NULL)
    blas_set_threads (n);
}

/* ---- interleaved timing ---- */

typedef void (*run_fn) (void *ctx);

typedef struct
{
  run_fn fn; /* NULL: the PyTorch peer's turn */
  void *ctx;
  int blas_threads; /* OpenBLAS's threads for this variant; 0: runs on the pool */
} variant;

#define MAX_VARIANTS 4

/* The PyTorch peer, or NULL; peer_ready while it has the current shape. */
static bench_peer *peer;
static int peer_ready;

static double
time_one (const variant *v)
{
  double t0;

  if (v->fn == NULL)
    {
      if (!peer_ready)
        return 0.0;
      t0 = bench_peer_run (peer, "run");
      if (t0 < 0.0)
        peer_ready = 0;
      return t0 < 0.0 ? 0.0 : t0;
    }
  if (v->blas_threads > 0)
    use_blas_threads (v->blas_threads);
  t0 = now ();
  v->fn (v->ctx);
  t0 = now () - t0;
  if (v->blas_threads > 1)
    {
      /* OpenBLAS's workers spin for a while after their last job; let them
       * park before the pool's threads need the cores. */
      use_blas_threads (1);
      usleep (200 * 1000);
    }
  return t0;
}

/* The median, not the best: on a shared machine a lucky round can run at
 * twice the usual speed, so the best of a few rounds says more about luck
 * than about the code. */
#define MIN_ROUNDS 7
#define MAX_ROUNDS 256

/* Each variant's time in each round of the last measure (). */
static double times[MAX_VARIANTS][MAX_ROUNDS];
static int n_rounds;

/* The median over the last rounds of the smaller of variant a's and b's
 * time (b < 0: a's alone) over variant c's in the same round. A ratio taken
 * within each round compares runs that met the same conditions, so it holds
 * still when the machine's speed changes between rounds. */
static double
median_ratio (int a, int b, int c)
{
  double r[MAX_ROUNDS];

  for (int i = 0; i < n_rounds; i++)
    r[i] = (b >= 0 && times[b][i] < times[a][i] ? times[b][i] : times[a][i]) / times[c][i];
  return bench_median (r, n_rounds);
}

static void
measure (const variant *v, int n, double min_seconds, double *median)
{
  double spent[MAX_VARIANTS] = { 0 }, start;
  int rounds = 0, done;

  /* The peer warmed up when it set the shape up. */
  for (int i = 0; i < n; i++)
    if (v[i].fn != NULL)
      time_one (&v[i]);
  start = now ();
  do
    {
      done = 1;
      for (int i = 0; i < n; i++)
        {
          double t = time_one (&v[i]);

          times[i][rounds] = t;
          spent[i] += t;
          if (spent[i] < min_seconds && (v[i].fn != NULL || peer_ready))
            done = 0;
        }
      rounds++;
    }
  /* Short runs spend more time in the pauses between turns than in the
   * runs, so the rounds also stop after a while of wall-clock time. */
  while (rounds < MAX_ROUNDS && (rounds < MIN_ROUNDS || (!done && now () - start < 4.0 * min_seconds * n)));
  n_rounds = rounds;
  for (int i = 0; i < n; i++)
    {
      double copy[MAX_ROUNDS];

      memcpy (copy, times[i], (size_t)rounds * sizeof (double));
      median[i] = bench_median (copy, rounds);
    }
}

/* ---- peers ---- */

typedef struct
{
  int m, n, k;
  const float *a, *b;
  float *c;
  tk_pool *pool;
} gemm_ctx;

static void
run_raw_sgemm (void *data)
{
  gemm_ctx *g = data;

  cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasNoTrans, g->m, g->n, g->k, 1.0f, g->a, g->k, g->b, g->n,
               0.0f, g->c, g->n);
}

static void
run_tk_gemm (void *data)
{
  gemm_ctx *g = data;

  if (tk_gemm_f32 (g->pool, 0, 0, g->m, g->n, g->k, 1.0f, g->a, g->k, g->b, g->n, 0.0f, g->c, g->n) != TK_OK)
    abort ();
}

typedef struct
{
  tk_attention_ws *ws;
  tk_pool *pool;
  tk_attention_args args;
} attn_ctx;

static void
run_attention (void *data)
{
  attn_ctx *a = data;

  if (tk_attention_forward (a->ws, a->pool, &a->args) != TK_OK)
    abort ();
}

typedef struct
{
  tk_conv *conv;
  tk_pool *pool;
  tk_conv_ws *ws;
  tk_conv_cache *cache;
  const float *in;
  float *out;
  int64_t h, w;
} conv_ctx;

static void
run_conv (void *data)
{
  conv_ctx *c = data;

  if (tk_conv_forward (c->conv, c->pool, c->ws, c->cache, c->in, 1, c->h, c->w, c->out) != TK_OK)
    abort ();
}

/* ---- PyTorch ---- */

static int torch_faster, torch_compared;

static char *
torch_script_path (void)
{
  const char *env = getenv ("TAKES_BENCH_ATTENTION_CONV_SCRIPT");
  char *path;

  if (env != NULL)
    return strdup (env);
  path = malloc (strlen (SOURCE_DATADIR) + 64);
  sprintf (path, "%s/../tests/bench/bench_attention_conv_torch.py", SOURCE_DATADIR);
  return path;
}

/* Hands the peer the next shape (spec as the script takes it); how gets
 * the PyTorch function it runs, or stays empty. */
static void
setup_torch (const char *spec, char *how, size_t how_size)
{
  how[0] = '\0';
  peer_ready = 0;
  if (peer == NULL)
    return;
  peer_ready = bench_peer_setup (peer, spec, how, how_size) == 0;
  if (!peer_ready)
    {
      printf ("PyTorch peer could not set up %s: %s\n", spec, how);
      how[0] = '\0';
    }
}

/* The torch columns of a row: its rate and tk's speed-up over it (the
 * median of the ratios within each round). */
static void
print_torch (double torch_seconds, double flops, double speedup)
{
  if (torch_seconds <= 0.0)
    {
      printf (" | %9s %7s\n", "-", "-");
      return;
    }
  printf (" | %9.1f %7.2fx\n", flops / torch_seconds * 1e-9, speedup);
  torch_compared++;
  torch_faster += speedup > 1.0;
}

/* ---- the two sections ---- */

static double
attn_flops (const attn_shape *s)
{
  return 4.0 * (double)s->lq * (double)s->lk * (double)s->dim * s->heads;
}

static double
conv_flops (const conv_shape *s)
{
  return 2.0 * s->cout * (double)s->cin * s->kt * s->kh * s->kw * (double)s->h * (double)s->w;
}

static int
any_selected (const int *sel, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if (sel[i])
      return 1;
  return 0;
}

/* Returns the lowest tk / sgemm ratio over the target shapes. */
static double
bench_attention (const int *sel, tk_pool *pool, int threads, double min_seconds)
{
  gemm_ctx g = { SGEMM_SIZE, SGEMM_SIZE, SGEMM_SIZE, NULL, NULL, NULL, NULL };
  double worst = INFINITY;
  char torch_attn_how[512] = "";

  if (!any_selected (sel, N_ATTN))
    return worst;
  g.a = random_floats ((int64_t)SGEMM_SIZE * SGEMM_SIZE, 1.0f);
  g.b = random_floats ((int64_t)SGEMM_SIZE * SGEMM_SIZE, 1.0f);
  g.c = random_floats ((int64_t)SGEMM_SIZE * SGEMM_SIZE, 1.0f);
  printf (
      "attention: GFLOP/s = 4·Lq·Lk·d·heads / s; sgemm = cblas_sgemm %d³ with OpenBLAS's own %d threads\n",
      SGEMM_SIZE, threads);
  printf ("%-16s %6s %6s %5s %4s | %9s %9s %8s | %9s %7s\n", "shape", "Lq", "Lk", "heads", "d", "tk", "sgemm",
          "tk/sgemm", "torch", "speedup");
  for (size_t i = 0; i < N_ATTN; i++)
    {
      const attn_shape *s = &attn_shapes[i];
      int64_t width = (int64_t)s->heads * s->dim;
      attn_ctx a;
      float *q, *k, *v, *out, *table = NULL;
      uint8_t *mask = NULL;
      int32_t *buckets = NULL;
      variant vars[3];
      double best[3];
      char spec[160], how[512];

      if (!sel[i])
        continue;
      q = random_floats (s->lq * width, 1.0f);
      k = random_floats (s->lk * width, 1.0f);
      v = random_floats (s->lk * width, 1.0f);
      out = random_floats (s->lq * width, 0.0f);
      memset (&a, 0, sizeof a);
      a.pool = pool;
      a.ws = tk_attention_ws_new (threads, s->lq, s->lk, s->heads, s->dim);
      if (a.ws == NULL)
        {
          fprintf (stderr, "out of memory\n");
          exit (1);
        }
      tk_attention_args_init (&a.args);
      a.args.lq = s->lq;
      a.args.lk = s->lk;
      a.args.heads = s->heads;
      a.args.head_dim = s->dim;
      a.args.q = q;
      a.args.k = k;
      a.args.v = v;
      a.args.out = out;
      a.args.ldq = a.args.ldk = a.args.ldv = a.args.ldo = width;
      if (s->t5)
        {
          table = random_floats (32 * (int64_t)s->heads, 1.0f);
          buckets = malloc ((size_t)(s->lq + s->lk - 1) * sizeof (int32_t));
          mask = malloc ((size_t)s->lk);
          tk_attention_t5_buckets (s->lq, s->lk, 32, 128, buckets);
          for (int64_t j = 0; j < s->lk; j++)
            mask[j] = j < s->lk / 2;
          a.args.scale = 1.0f;
          a.args.key_mask = mask;
          a.args.rel_table = table;
          a.args.rel_buckets = buckets;
          a.args.rel_n_buckets = 32;
          a.args.rel_bucket_stride = s->heads;
          a.args.rel_head_stride = 1;
        }
      vars[0] = (variant){ run_attention, &a, 0 };
      vars[1] = (variant){ run_raw_sgemm, &g, threads };
      vars[2] = (variant){ NULL, NULL, 0 };
      snprintf (spec, sizeof spec, "attn:%s:%lld:%lld:%d:%d:%s", s->name, (long long)s->lq, (long long)s->lk,
                s->heads, s->dim, s->t5 ? "t5" : "plain");
      setup_torch (spec, how, sizeof how);
      measure (vars, 3, min_seconds, best);
      if (!peer_ready)
        best[2] = 0.0;
      tk_attention_ws_free (a.ws);
      tk_aligned_free (q);
      tk_aligned_free (k);
      tk_aligned_free (v);
      tk_aligned_free (out);
      tk_aligned_free (table);
      free (buckets);
      free (mask);
      {
        /* The masked half of umT5's keys is skipped, so its work is counted
         * over the keys it attends, for tk and torch alike. */
        double flops = attn_flops (s) * (s->t5 ? 0.5 : 1.0);
        double sg_flops = 2.0 * SGEMM_SIZE * (double)SGEMM_SIZE * SGEMM_SIZE;
        double tk_rate = flops / best[0] * 1e-9;
        double sg_rate = sg_flops / best[1] * 1e-9;
        double vs_sgemm = median_ratio (1, -1, 0) * flops / sg_flops;
        double vs_torch = peer_ready ? median_ratio (2, -1, 0) : 0.0;
        printf ("%-16s %6lld %6lld %5d %4d | %9.1f %9.1f %7.2fx", s->name, (long long)s->lq, (long long)s->lk,
                s->heads, s->dim, tk_rate, sg_rate, vs_sgemm);
        print_torch (best[2], flops, vs_torch);
        if (!s->t5 && how[0] != '\0')
          snprintf (torch_attn_how, sizeof torch_attn_how, "%s", how);
        if (s->target && vs_sgemm < worst)
          worst = vs_sgemm;
      }
      fflush (stdout);
    }
  if (torch_attn_how[0] != '\0')
    printf ("torch: %s; umt5-512 runs umT5's matmul + softmax with bias and mask, and its rates count the\n"
            "attended half of the keys only\n",
            torch_attn_how);
  tk_aligned_free ((void *)g.a);
  tk_aligned_free ((void *)g.b);
  tk_aligned_free (g.c);
  return worst;
}

/* Returns the lowest tk / bound ratio. */
static double
bench_conv (const int *sel, tk_pool *pool, int threads, double min_seconds)
{
  tk_conv_ws *ws;
  double worst = INFINITY;

  if (!any_selected (sel, N_CONV))
    return worst;
  ws = tk_conv_ws_new (threads);
  printf ("\nconv3d: one output frame with a full causal cache; bound = im2col matrix × weights alone, the "
          "faster of\n"
          "raw cblas_sgemm (OpenBLAS's own %d threads) and tk_gemm_f32, on a %d-column slab of the im2col "
          "matrix\n"
          "GFLOP/s count the direct product's multiply-adds; tk runs 3×3 kernels as Winograd F(2×2, 3×3)\n",
          threads, SLAB_COLUMNS);
  printf ("%-14s %5s %5s %6s %9s | %9s %9s %8s | %9s %7s\n", "shape", "Cin", "Cout", "kernel", "H×W", "tk",
          "bound", "tk/bound", "torch", "speedup");
  for (size_t i = 0; i < N_CONV; i++)
    {
      const conv_shape *s = &conv_shapes[i];
      tk_conv_params p = tk_conv_params_causal (s->cin, s->cout, s->kt, s->kh, s->kw);
      int64_t kk = (int64_t)s->cin * s->kt * s->kh * s->kw;
      int64_t frame = (int64_t)s->cin * s->h * s->w;
      int64_t slab = s->h * s->w < SLAB_COLUMNS ? s->h * s->w : SLAB_COLUMNS;
      float *w, *bias, *in, *out, *col, *prod;
      conv_ctx c;
      gemm_ctx raw, tkg;
      variant vars[4];
      double best[4], rate, bound, vs_bound, vs_torch;
      char kernel[16], hw[24], spec[160], how[512];

      if (!sel[i])
        continue;
      w = random_floats (s->cout * kk, 1.0f / sqrtf ((float)kk));
      bias = random_floats (s->cout, 1.0f);
      in = random_floats (frame, 1.0f);
      out = random_floats ((int64_t)s->cout * s->h * s->w, 0.0f);
      col = random_floats (kk * slab, 1.0f);
      prod = random_floats (s->cout * slab, 0.0f);
      memset (&c, 0, sizeof c);
      if (tk_conv_new (&p, w, bias, &c.conv) != TK_OK)
        abort ();
      c.pool = pool;
      c.ws = ws;
      c.cache = tk_conv_cache_new (s->cin, s->kt - 1, s->h, s->w);
      c.in = in;
      c.out = out;
      c.h = s->h;
      c.w = s->w;
      /* Fill the cache as a chunk in the middle of a video would find it. */
      for (int f = 0; f < s->kt; f++)
        run_conv (&c);
      raw = (gemm_ctx){ s->cout, (int)slab, (int)kk, w, col, prod, NULL };
      tkg = raw;
      tkg.pool = pool;
      vars[0] = (variant){ run_conv, &c, 0 };
      vars[1] = (variant){ run_raw_sgemm, &raw, threads };
      vars[2] = (variant){ run_tk_gemm, &tkg, 0 };
      vars[3] = (variant){ NULL, NULL, 0 };
      snprintf (spec, sizeof spec, "conv:%s:%d:%d:%d:%d:%d:%lld:%lld", s->name, s->cin, s->cout, s->kt, s->kh,
                s->kw, (long long)s->h, (long long)s->w);
      setup_torch (spec, how, sizeof how);
      measure (vars, 4, min_seconds, best);
      if (!peer_ready)
        best[3] = 0.0;
      tk_conv_free (c.conv);
      tk_conv_cache_free (c.cache);
      tk_aligned_free (w);
      tk_aligned_free (bias);
      tk_aligned_free (in);
      tk_aligned_free (out);
      tk_aligned_free (col);
      tk_aligned_free (prod);
      rate = conv_flops (s) / best[0] * 1e-9;
      bound = 2.0 * s->cout * (double)kk * slab / (best[1] < best[2] ? best[1] : best[2]) * 1e-9;
      vs_bound = median_ratio (1, 2, 0) * conv_flops (s) / (2.0 * s->cout * (double)kk * slab);
      vs_torch = peer_ready ? median_ratio (3, -1, 0) : 0.0;
      snprintf (kernel, sizeof kernel, "%d×%d×%d", s->kt, s->kh, s->kw);
      snprintf (hw, sizeof hw, "%lld×%lld", (long long)s->h, (long long)s->w);
      printf ("%-14s %5d %5d %6s %9s | %9.1f %9.1f %7.2fx", s->name, s->cin, s->cout, kernel, hw, rate, bound,
              vs_bound);
      print_torch (best[3], conv_flops (s), vs_torch);
      fflush (stdout);
      if (vs_bound < worst)
        worst = vs_bound;
    }
  tk_conv_ws_free (ws);
  return worst;
}

static int
name_picked (const char *name, const char *const *picked, int n_picked)
{
  for (int i = 0; i < n_picked; i++)
    if (strcmp (name, picked[i]) == 0)
      return 1;
  return 0;
}

static int
shape_known (const char *name)
{
  for (size_t i = 0; i < N_ATTN; i++)
    if (strcmp (name, attn_shapes[i].name) == 0)
      return 1;
  for (size_t i = 0; i < N_CONV; i++)
    if (strcmp (name, conv_shapes[i].name) == 0)
      return 1;
  return 0;
}

int
main (int argc, char **argv)
{
  int threads = tk_cpu_count (), quick = 0;
  double min_seconds = 1.0;
  int attn_sel[N_ATTN], conv_sel[N_CONV];
  const char *picked[N_ATTN + N_CONV];
  int n_picked = 0;
  double worst_attn, worst_conv;
  tk_pool *pool;
  void *sym;

  for (int i = 1; i < argc; i++)
    {
      if (strcmp (argv[i], "--quick") == 0)
        quick = 1;
      else if (strcmp (argv[i], "--threads") == 0 && i + 1 < argc)
        threads = atoi (argv[++i]);
      else if (strcmp (argv[i], "--min-seconds") == 0 && i + 1 < argc)
        min_seconds = atof (argv[++i]);
      else if (strcmp (argv[i], "--shape") == 0 && i + 1 < argc && n_picked < (int)(N_ATTN + N_CONV)
               && shape_known (argv[i + 1]))
        picked[n_picked++] = argv[++i];
      else
        {
          fprintf (stderr, "usage: %s [--quick] [--threads N] [--min-seconds S] [--shape NAME]...\n",
                   argv[0]);
          fprintf (stderr, "shapes:");
          for (size_t j = 0; j < N_ATTN; j++)
            fprintf (stderr, " %s", attn_shapes[j].name);
          for (size_t j = 0; j < N_CONV; j++)
            fprintf (stderr, " %s", conv_shapes[j].name);
          fprintf (stderr, "\n");
          return 2;
        }
    }
  if (threads < 1)
    threads = 1;
  if (quick)
    min_seconds = min_seconds < 0.3 ? min_seconds : 0.3;
  for (size_t i = 0; i < N_ATTN; i++)
    attn_sel[i]
        = n_picked > 0 ? name_picked (attn_shapes[i].name, picked, n_picked) : !quick || attn_shapes[i].quick;
  for (size_t i = 0; i < N_CONV; i++)
    conv_sel[i]
        = n_picked > 0 ? name_picked (conv_shapes[i].name, picked, n_picked) : !quick || conv_shapes[i].quick;

  sym = dlsym (RTLD_DEFAULT, "openblas_set_num_threads");
  memcpy (&blas_set_threads, &sym, sizeof sym);
  tk_blas_single_threaded ();
  pool = tk_pool_new (threads);
  if (pool == NULL)
    return 1;
  {
    char *script = torch_script_path ();

    peer = bench_peer_start (script, threads);
    free (script);
  }
  printf (
      "bench-attention-conv: %d threads, %s kernels, median of >= 7 interleaved rounds (>= %.1f s each);\n"
      "ratios (tk/sgemm, tk/bound, speedup) are medians of the ratios within each round;\n"
      "torch = PyTorch on the CPU with %d threads, a separate process that takes its turn in every round\n\n",
      threads, tk_isa_name (tk_isa_active ()), min_seconds, threads);

  worst_attn = bench_attention (attn_sel, pool, threads, min_seconds);
  worst_conv = bench_conv (conv_sel, pool, threads, min_seconds);
  tk_pool_free (pool);
  bench_peer_stop (peer);

  printf ("\n");
  if (isfinite (worst_attn))
    printf ("target attention (self, d = 128) >= 0.5x sgemm: %s (lowest %.2fx)\n",
            worst_attn >= 0.5 ? "met" : "NOT met", worst_attn);
  if (isfinite (worst_conv))
    printf ("target conv3d >= 0.6x im2col+sgemm bound: %s (lowest %.2fx)\n",
            worst_conv >= 0.6 ? "met" : "NOT met", worst_conv);
  if (torch_compared > 0)
    printf ("target faster than PyTorch: %s (%d of %d shapes)\n",
            torch_faster == torch_compared ? "met" : "NOT met", torch_faster, torch_compared);
  return 0;
}
