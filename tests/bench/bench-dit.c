/* bench-dit: one forward pass of the Wan2.1-T2V-1.3B diffusion transformer
 * at its real size (dim 1536, FFN 8960, 12 heads, 30 layers) with random
 * BF16 weights under the official tensor names, on the latent of 17 frames at
 * 832×480 (16×5×60×104, L = 7,800 tokens) with a 512-row context of which 60
 * rows are real text.
 *
 * Printed, each against a peer measured in the same run:
 *   - seconds and achieved GFLOP/s (matrix products counted analytically),
 *     against OpenBLAS cblas_sgemm on the DiT's own linear shapes with
 *     OpenBLAS's threads on the same cores, timed before and after the
 *     forward, the faster kept (target: at least 0.6×);
 *   - the peak resident memory of the forward's process (getrusage) against
 *     the bytes of the weight file (target: at most 1.25×);
 *   - the same forward in PyTorch (tests/bench/bench_dit_torch.py, run by
 *     /usr/bin/python3) on the same file and inputs: its time over ours
 *     (target: above 1) and the relative L2 distance of the two outputs.
 *
 * The engine and PyTorch each run in a process of their own, so each peak
 * RSS is that side's alone. The weights (about 2.8 GB) are streamed to a
 * temporary file with a fixed seed, or to the --weights path, which is kept
 * and reused by later runs with the same layer count.
 *
 * Usage: bench-dit [--weights PATH] [--layers N] [--frames N] [--size WxH]
 *                  [--threads N] [--ctx-rows N] [--no-torch]
 * --layers below 30 writes a shallower model (fewer weights) for quick
 * checks and also prints its figures carried over to 30 layers.
 * TAKES_BENCH_DIT_SCRIPT overrides the path of the PyTorch script.
 */
#include "config.h"

#include <cblas.h>
#include <dlfcn.h>
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "safetensors.h"
#include "takes-engine.h"
#include "takes-kernels.h"
#include "wan-weights.h"

#define BENCH_SEED G_GUINT64_CONSTANT (20250801)
#define BENCH_TIMESTEP 900
#define TEXT_DIM 4096
#define TEXT_LEN 512
/* The outputs of two F32 computations on the same BF16 weights differ only
 * by rounding (summation order; RoPE and the sinusoid in double there):
 * about 4e-7 at 1 to 6 layers. A wrong step (a RoPE axis, a missed
 * modulation chunk) moves the output by 1e-2 or more. */
#define AGREE_REL_L2 1e-5

static double
now (void)
{
  return (double)g_get_monotonic_time () / 1e6;
}

/* Writing safetensors files */

/* splitmix64: fast, and one seed per tensor keeps every tensor's values
 * independent of the others' sizes. */
static guint64
splitmix64 (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* Uniform in [-1, 1). */
static float
uniform (guint64 *state)
{
  return (float)((double)(splitmix64 (state) >> 40) * (1.0 / 8388608.0) - 1.0);
}

static guint16
f32_to_bf16 (float f)
{
  guint32 bits;

  memcpy (&bits, &f, sizeof bits);
  return (guint16)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

typedef struct
{
  char *name;
  gboolean bf16;
  guint n_dims;
  gint64 shape[5];
  guint64 n;
  /* Random values center ± spread, or the given ones when data is set. */
  float center, spread;
  const float *data;
} OutTensor;

static void
out_tensor_free (OutTensor *t)
{
  g_free (t->name);
  g_free (t);
}

static OutTensor *
out_tensor_new (const char *name, gboolean bf16, guint n_dims, const gint64 *shape)
{
  OutTensor *t = g_new0 (OutTensor, 1);

  t->name = g_strdup (name);
  t->bf16 = bf16;
  t->n_dims = n_dims;
  t->n = 1;
  for (guint d = 0; d < n_dims; d++)
    {
      t->shape[d] = shape[d];
      t->n *= (guint64)shape[d];
    }
  return t;
}

static gboolean
write_failed (const char *path, int saved_errno, GError **error)
{
  g_set_error (
      error, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
      "Could not write “%s”: %s. Check that its folder exists and has room for it, or pass --weights "
      "with another path.",
      path, g_strerror (saved_errno));
  return FALSE;
}

/* Streams @tensors to @path through a temporary name, so an interrupted
 * run never leaves a file a later run would reuse. */
static gboolean
write_safetensors (const char *path, GPtrArray *tensors, const char *tag, guint64 seed, GError **error)
{
  g_autoptr (GString) header = g_string_new ("{\"__metadata__\":{\"format\":\"pt\",\"takes_bench\":\"");
  g_autofree char *partial = g_strdup_printf ("%s.partial", path);
  g_autofree float *values = NULL;
  g_autofree guint16 *halves = NULL;
  const guint64 chunk = 1 << 20;
  guint64 offset = 0, len;
  guint8 len_bytes[8];
  FILE *f;

  g_string_append_printf (header, "%s\"}", tag);
  for (guint i = 0; i < tensors->len; i++)
    {
      const OutTensor *t = g_ptr_array_index (tensors, i);
      guint64 bytes = t->n * (t->bf16 ? 2 : 4);

      g_string_append_printf (header, ",\"%s\":{\"dtype\":\"%s\",\"shape\":[", t->name,
                              t->bf16 ? "BF16" : "F32");
      for (guint d = 0; d < t->n_dims; d++)
        g_string_append_printf (header, "%s%" G_GINT64_FORMAT, d ? "," : "", t->shape[d]);
      g_string_append_printf (header, "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}",
                              offset, offset + bytes);
      offset += bytes;
    }
  g_string_append_c (header, '}');
  /* Eight-byte alignment of the data keeps every tensor aligned to its
   * element, so the engine maps the weights without copies. */
  while (header->len % 8 != 0)
    g_string_append_c (header, ' ');

  f = g_fopen (partial, "wb");
  if (f == NULL)
    return write_failed (partial, errno, error);
  len = header->len;
  for (int i = 0; i < 8; i++)
    len_bytes[i] = (guint8)(len >> (8 * i));
  if (fwrite (len_bytes, 1, 8, f) != 8 || fwrite (header->str, 1, header->len, f) != header->len)
    goto failed;
  values = g_new (float, chunk);
  halves = g_new (guint16, chunk);
  for (guint i = 0; i < tensors->len; i++)
    {
      const OutTensor *t = g_ptr_array_index (tensors, i);
      guint64 state = seed * G_GUINT64_CONSTANT (0x100000001B3) + i;

      for (guint64 start = 0; start < t->n; start += chunk)
        {
          guint64 n = MIN (chunk, t->n - start);
          const float *src = values;

          if (t->data != NULL)
            src = t->data + start;
          else
            for (guint64 k = 0; k < n; k++)
              values[k] = t->center + t->spread * uniform (&state);
          if (t->bf16)
            {
              for (guint64 k = 0; k < n; k++)
                halves[k] = f32_to_bf16 (src[k]);
              if (fwrite (halves, 2, n, f) != n)
                goto failed;
            }
          else if (fwrite (src, 4, n, f) != n)
            goto failed;
        }
    }
  if (fclose (f) != 0)
    {
      int saved = errno;

      g_unlink (partial);
      return write_failed (partial, saved, error);
    }
  if (g_rename (partial, path) != 0)
    {
      int saved = errno;

      g_unlink (partial);
      g_set_error (error, G_FILE_ERROR, g_file_error_from_errno (saved), "Could not rename “%s” to “%s”: %s.",
                   partial, path, g_strerror (saved));
      return FALSE;
    }
  return TRUE;

failed:
  {
    int saved = errno;

    fclose (f);
    g_unlink (partial);
    return write_failed (partial, saved, error);
  }
}

static WanDitConfig
config_1_3b (int layers)
{
  WanDitConfig c = { .dim = 1536,
                     .ffn_dim = 8960,
                     .num_heads = 12,
                     .num_layers = layers,
                     .in_dim = 16,
                     .out_dim = 16,
                     .text_dim = TEXT_DIM,
                     .text_len = TEXT_LEN,
                     .freq_dim = 256,
                     .patch_size = { 1, 2, 2 },
                     .eps = 1e-6 };

  return c;
}

static char *
weights_tag (int layers)
{
  return g_strdup_printf ("bench-dit Wan2.1-1.3B layers %d seed %" G_GUINT64_FORMAT, layers, BENCH_SEED);
}

/* Every tensor of the 1.3B with the spread of PyTorch's default init (±1/√fan_in
 * for linear weights and biases), norm gains near 1 and the official
 * modulation scale (std 1/√dim). */
static gboolean
write_weights (const char *path, int layers, GError **error)
{
  WanDitConfig c = config_1_3b (layers);
  g_autoptr (GPtrArray) specs = wan_dit_expected_tensors (&c);
  g_autoptr (GPtrArray) tensors = g_ptr_array_new_with_free_func ((GDestroyNotify)out_tensor_free);
  g_autofree char *tag = weights_tag (layers);
  float fan_in_spread = 1.0f;

  for (guint i = 0; i < specs->len; i++)
    {
      const WanTensorSpec *s = g_ptr_array_index (specs, i);
      OutTensor *t = out_tensor_new (s->name, TRUE, s->n_dims, s->shape);
      gboolean is_norm = strstr (s->name, "norm") != NULL;

      if (g_str_has_suffix (s->name, "modulation"))
        t->spread = (float)sqrt (3.0 / c.dim);
      else if (is_norm && g_str_has_suffix (s->name, ".weight"))
        {
          t->center = 1.0f;
          t->spread = 0.1f;
        }
      else if (is_norm)
        t->spread = 0.05f;
      else if (s->n_dims >= 2)
        {
          guint64 fan_in = t->n / (guint64)s->shape[0];

          fan_in_spread = (float)(1.0 / sqrt ((double)fan_in));
          t->spread = fan_in_spread;
        }
      else
        t->spread = fan_in_spread; /* a linear layer's bias follows its weight */
      g_ptr_array_add (tensors, t);
    }
  return write_safetensors (path, tensors, tag, BENCH_SEED, error);
}

static gboolean
write_inputs (
    const char *path, const float *x, const gint64 x_shape[4], const float *ctx, int ctx_rows, GError **error)
{
  g_autoptr (GPtrArray) tensors = g_ptr_array_new_with_free_func ((GDestroyNotify)out_tensor_free);
  gint64 ctx_shape[2] = { ctx_rows, TEXT_DIM };
  OutTensor *t;

  t = out_tensor_new ("x", FALSE, 4, x_shape);
  t->data = x;
  g_ptr_array_add (tensors, t);
  t = out_tensor_new ("context", FALSE, 2, ctx_shape);
  t->data = ctx;
  g_ptr_array_add (tensors, t);
  return write_safetensors (path, tensors, "bench-dit inputs", BENCH_SEED, error);
}

/* FLOPs, counted analytically: two per multiply-add of every matrix product
 * the forward runs (norms, RoPE, softmax and activations left out). */

typedef struct
{
  double self_proj, self_attn, cross_proj, cross_attn, ffn, embed, total;
} Flops;

static Flops
count_flops (const WanDitConfig *c, double L, int ctx_rows)
{
  const double d = c->dim, f = c->ffn_dim, lk = c->text_len;
  /* The engine embeds the real rows and one padded row, which stands for
   * every padded row: all are the same vector. */
  const double text_rows = MIN (ctx_rows + 1, c->text_len);
  const double layers = c->num_layers;
  Flops r;

  r.self_proj = layers * 2 * L * 4 * d * d;
  r.self_attn = layers * 2 * (2 * L * L * d);
  r.cross_proj = layers * 2 * (2 * L * d * d + 2 * lk * d * d);
  r.cross_attn = layers * 2 * (2 * L * lk * d);
  r.ffn = layers * 2 * (2 * L * d * f);
  r.embed = 2 * L * (c->in_dim * c->patch_size[1] * c->patch_size[2]) * d
            + 2 * text_rows * (c->text_dim * d + d * d) + 2 * (c->freq_dim * d + d * d + 6 * d * d)
            + 2 * L * d * (c->patch_size[1] * c->patch_size[2] * c->out_dim);
  r.total = r.self_proj + r.self_attn + r.cross_proj + r.cross_attn + r.ffn + r.embed;
  return r;
}

/* The peer: raw cblas_sgemm on the DiT's linear shapes */

static void (*blas_set_threads) (int);

typedef struct
{
  const char *name;
  gint64 m, n, k;
  int per_layer; /* how many products of this shape one layer runs */
  double seconds;
} SgemmShape;

static gboolean
time_sgemm (SgemmShape *s)
{
  float *a = tk_aligned_alloc ((size_t)(s->m * s->k) * sizeof (float));
  float *b = tk_aligned_alloc ((size_t)(s->n * s->k) * sizeof (float));
  float *y = tk_aligned_alloc ((size_t)(s->m * s->n) * sizeof (float));
  guint64 state = 7;

  if (a == NULL || b == NULL || y == NULL)
    {
      tk_aligned_free (a);
      tk_aligned_free (b);
      tk_aligned_free (y);
      return FALSE;
    }
  for (gint64 i = 0; i < s->m * s->k; i++)
    a[i] = uniform (&state);
  for (gint64 i = 0; i < s->n * s->k; i++)
    b[i] = uniform (&state) * 0.03f;
  s->seconds = INFINITY;
  /* A warm-up call, then the best of three: the machine may be shared. */
  for (int round = 0; round < 4; round++)
    {
      double t0 = now (), dt;

      cblas_sgemm (CblasRowMajor, CblasNoTrans, CblasTrans, (int)s->m, (int)s->n, (int)s->k, 1.0f, a,
                   (int)s->k, b, (int)s->k, 0.0f, y, (int)s->n);
      dt = now () - t0;
      if (round > 0)
        s->seconds = MIN (s->seconds, dt);
    }
  tk_aligned_free (a);
  tk_aligned_free (b);
  tk_aligned_free (y);
  return TRUE;
}

/* Times the three shapes with OpenBLAS's own @threads threads and returns
 * the rate of one layer's mix of them in GFLOP/s, or 0 when out of memory. */
static double
measure_sgemm (SgemmShape *shapes, int threads, const char *when)
{
  double mix_flops = 0, mix_seconds = 0, rate;

  if (blas_set_threads != NULL)
    blas_set_threads (threads);
  printf ("\nOpenBLAS cblas_sgemm %s the forward, its own %d threads, y = x·Wᵀ, best of 3 after a warm-up:\n",
          when, threads);
  for (int i = 0; i < 3; i++)
    {
      SgemmShape *s = &shapes[i];
      double f = 2.0 * (double)s->m * (double)s->n * (double)s->k;

      if (!time_sgemm (s))
        {
          fprintf (stderr, "bench-dit: out of memory for the sgemm of %s\n", s->name);
          return 0;
        }
      printf ("  %-8s %6" G_GINT64_FORMAT "×%-5" G_GINT64_FORMAT "×%-5" G_GINT64_FORMAT
              " %8.3f s %8.1f GFLOP/s\n",
              s->name, s->m, s->n, s->k, s->seconds, f / s->seconds / 1e9);
      mix_flops += s->per_layer * f;
      mix_seconds += s->per_layer * s->seconds;
    }
  rate = mix_flops / mix_seconds / 1e9;
  printf ("  one layer's mix (6 × q/k/v/o, ffn.0, ffn.2): %.1f GFLOP/s\n", rate);
  fflush (stdout);
  /* OpenBLAS's idle workers spin for a while; let them park before the
   * engine needs the cores. */
  if (blas_set_threads != NULL)
    blas_set_threads (1);
  g_usleep (200 * 1000);
  return rate;
}

/* The engine's side, run in a process of its own */

static void
block_progress_cb (int done, int total, gpointer user_data)
{
  const double *start = user_data;

  if (done > 0)
    fprintf (stderr, "  engine: %d/%d blocks, %.1f s\n", done, total, now () - *start);
}

static gboolean
read_input (Safetensors *st, const char *name, gint64 n_values, float *dst, GError **error)
{
  const SafetensorsTensor *t = safetensors_lookup (st, name);

  if (t == NULL || t->n_elements != n_values)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   "The input file “%s” has no tensor “%s” of %" G_GINT64_FORMAT " values.",
                   safetensors_get_path (st), name, n_values);
      return FALSE;
    }
  return safetensors_tensor_read_f32 (t, dst, (gsize)n_values, error);
}

/* Prints "seconds S peak_rss_kib K estimate W A S" and writes the velocity
 * to @out_path as raw F32. */
static int
run_engine (const char *weights_path, const char *inputs_path, const char *out_path, int threads)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) weights = NULL;
  g_autoptr (WanDit) dit = NULL;
  g_autoptr (WanDitState) state = NULL;
  g_autoptr (Safetensors) inputs = NULL;
  g_autofree float *x = NULL, *ctx = NULL, *out = NULL;
  const SafetensorsTensor *xt, *ct;
  const WanDitConfig *c;
  WanDitMemory memory;
  struct rusage usage;
  gint64 nx;
  double start, seconds;

  weights = wan_weights_open (weights_path, NULL, &error);
  inputs = weights != NULL ? safetensors_open (inputs_path, &error) : NULL;
  if (inputs == NULL)
    goto failed;
  xt = safetensors_lookup (inputs, "x");
  ct = safetensors_lookup (inputs, "context");
  if (xt == NULL || ct == NULL || xt->n_dims != 4 || ct->n_dims != 2 || ct->shape[1] != TEXT_DIM)
    {
      fprintf (stderr, "engine: the input file %s is not one bench-dit wrote\n", inputs_path);
      return 1;
    }
  nx = xt->n_elements;
  x = g_new (float, nx);
  out = g_new (float, nx);
  ctx = g_new (float, ct->n_elements);
  if (!read_input (inputs, "x", nx, x, &error)
      || !read_input (inputs, "context", ct->n_elements, ctx, &error))
    goto failed;
  dit = wan_dit_new (weights, threads, &error);
  if (dit == NULL)
    goto failed;
  c = wan_dit_get_config (dit);
  state = wan_dit_state_new (dit, (int)xt->shape[0], (int)xt->shape[1], (int)xt->shape[2], (int)xt->shape[3],
                             c->text_len, &error);
  if (state == NULL
      || !wan_dit_estimate_memory (weights, (int)xt->shape[0], (int)xt->shape[1], (int)xt->shape[2],
                                   (int)xt->shape[3], threads, &memory, &error))
    goto failed;
  start = now ();
  if (!wan_dit_forward (dit, state, x, NULL, BENCH_TIMESTEP, ctx, (int)ct->shape[0], out, NULL,
                        block_progress_cb, &start, &error))
    goto failed;
  seconds = now () - start;
  getrusage (RUSAGE_SELF, &usage);
  printf ("seconds %.6f peak_rss_kib %ld estimate %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
          " %" G_GUINT64_FORMAT "\n",
          seconds, usage.ru_maxrss, memory.weights, memory.activations, memory.scratch);
  fflush (stdout);
  if (!g_file_set_contents (out_path, (const char *)out, (gssize)(nx * (gint64)sizeof (float)), &error))
    goto failed;
  return 0;

failed:
  fprintf (stderr, "engine: %s\n", error->message);
  return 1;
}

/* The two sides, as seen from the parent */

typedef struct
{
  gboolean ok;
  double seconds;
  long peak_rss_kib;
  guint64 estimate[3];
} Side;

static Side
engine_side (
    const char *self, const char *weights_path, const char *inputs_path, const char *out_path, int threads)
{
  Side side = { 0 };
  g_autofree char *threads_s = g_strdup_printf ("%d", threads);
  const char *argv[] = { self, "--run-engine", weights_path, inputs_path, out_path, threads_s, NULL };
  g_autofree char *out = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  fflush (stdout);
  /* stderr is inherited, so the per-block progress shows as it happens. */
  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    {
      printf ("the engine's forward failed: %s\n", error->message);
      return side;
    }
  if (sscanf (out,
              "seconds %lf peak_rss_kib %ld estimate %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
              " %" G_GUINT64_FORMAT,
              &side.seconds, &side.peak_rss_kib, &side.estimate[0], &side.estimate[1], &side.estimate[2])
      != 5)
    {
      printf ("the engine's forward printed no result: %s\n", out);
      return side;
    }
  side.ok = TRUE;
  return side;
}

static char *
torch_script_path (void)
{
  const char *env = g_getenv ("TAKES_BENCH_DIT_SCRIPT");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_build_filename (SOURCE_DATADIR, "..", "tests", "bench", "bench_dit_torch.py", NULL);
}

static gboolean
have_torch (void)
{
  const char *argv[] = { "/usr/bin/python3", "-c", "import torch", NULL };
  int status = 0;

  if (access (argv[0], X_OK) != 0)
    return FALSE;
  return g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL,
                       NULL, NULL, NULL, NULL, &status, NULL)
         && g_spawn_check_wait_status (status, NULL);
}

static Side
torch_side (const char *weights_path, const char *inputs_path, const char *out_path, int threads)
{
  Side side = { 0 };
  g_autofree char *script = torch_script_path ();
  g_autofree char *threads_s = g_strdup_printf ("%d", threads);
  g_autofree char *t_s = g_strdup_printf ("%d", BENCH_TIMESTEP);
  const char *argv[]
      = { "/usr/bin/python3", script, weights_path, inputs_path, t_s, threads_s, out_path, NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (access (script, R_OK) != 0)
    {
      printf ("PyTorch peer unavailable: %s is missing\n", script);
      return side;
    }
  fflush (stdout);
  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    {
      printf ("PyTorch peer failed: %s\n%s", error->message, err != NULL ? err : "");
      return side;
    }
  if (sscanf (out, "seconds %lf peak_rss_kib %ld", &side.seconds, &side.peak_rss_kib) != 2)
    {
      printf ("PyTorch peer printed no result: %s\n", out);
      return side;
    }
  side.ok = TRUE;
  return side;
}

/* ‖a − b‖ / ‖b‖ over two raw F32 files of @n values; NAN when unreadable. */
static double
rel_l2 (const char *a_path, const char *b_path, gint64 n)
{
  g_autofree char *a = NULL, *b = NULL;
  gsize na = 0, nb = 0;
  double diff = 0, norm = 0;

  if (!g_file_get_contents (a_path, &a, &na, NULL) || !g_file_get_contents (b_path, &b, &nb, NULL) || na != nb
      || na != (gsize)n * sizeof (float))
    return NAN;
  for (gint64 i = 0; i < n; i++)
    {
      float x, y;

      memcpy (&x, a + i * (gint64)sizeof (float), sizeof x);
      memcpy (&y, b + i * (gint64)sizeof (float), sizeof y);
      diff += ((double)x - y) * ((double)x - y);
      norm += (double)y * y;
    }
  return sqrt (diff / norm);
}

/* Figures of a run with fewer layers carried over to all 30: time in
 * proportion to the FLOPs, resident memory plus the weight bytes the
 * missing layers would add. */
static void
print_projection (
    const WanDitConfig *c, double L, int ctx_rows, guint64 weight_bytes, const Side *eng, const Side *pt)
{
  WanDitConfig full = config_1_3b (30);
  g_autoptr (GPtrArray) specs = wan_dit_expected_tensors (&full);
  double scale = count_flops (&full, L, ctx_rows).total / count_flops (c, L, ctx_rows).total;
  double full_bytes = 0, extra, eng_rss;

  for (guint i = 0; i < specs->len; i++)
    {
      const WanTensorSpec *s = g_ptr_array_index (specs, i);
      double n = 2;

      for (guint d = 0; d < s->n_dims; d++)
        n *= (double)s->shape[d];
      full_bytes += n;
    }
  extra = full_bytes - (double)weight_bytes;
  eng_rss = eng->peak_rss_kib * 1024.0 + extra;
  printf ("\nprojected to 30 layers (time × %.2f, the FLOP ratio; RSS + %.0f MiB of further weights):\n",
          scale, extra / 1048576.0);
  printf ("  engine seconds               %10.1f\n", eng->seconds * scale);
  printf ("  engine peak RSS / weights    %10.3f×   (%.0f of %.0f MiB)\n", eng_rss / full_bytes,
          eng_rss / 1048576.0, full_bytes / 1048576.0);
  if (pt->ok)
    printf ("  torch seconds, peak RSS      %10.1f   %.0f MiB\n", pt->seconds * scale,
            (pt->peak_rss_kib * 1024.0 + extra) / 1048576.0);
}

/* Reuses @path when it holds the weights this run asks for. */
static gboolean
prepare_weights (const char *path, int layers, gboolean *written, GError **error)
{
  g_autofree char *tag = weights_tag (layers);
  double t0;

  *written = FALSE;
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_autoptr (WanWeights) w = wan_weights_open (path, NULL, error);
      const char *found;

      if (w == NULL)
        return FALSE;
      found = safetensors_get_metadata (wan_weights_get_safetensors (w), "takes_bench");
      if (g_strcmp0 (found, tag) != 0)
        {
          g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_EXIST,
                       "“%s” exists but holds other weights (%s, this run wants %s). Delete it or give "
                       "another --weights path.",
                       path, found != NULL ? found : "not written by bench-dit", tag);
          return FALSE;
        }
      printf ("weights reused from %s\n", path);
      return TRUE;
    }
  t0 = now ();
  if (!write_weights (path, layers, error))
    return FALSE;
  printf ("weights written to %s in %.1f s\n", path, now () - t0);
  *written = TRUE;
  return TRUE;
}

static void
usage (void)
{
  fprintf (stderr, "usage: bench-dit [--weights PATH] [--layers N] [--frames N] [--size WxH] [--threads N]\n"
                   "                 [--ctx-rows N] [--no-torch]\n"
                   "  --frames: video frames, 4n+1 (17); --size: pixels, multiples of 16 (832x480)\n");
}

static const char *
verdict (gboolean met)
{
  return met ? "met" : "NOT met";
}

int
main (int argc, char **argv)
{
  int layers = 30, frames = 17, width = 832, height = 480, threads = 0, ctx_rows = 60;
  gboolean no_torch = FALSE, written = FALSE;
  const char *weights_arg = NULL;
  g_autofree char *dir = NULL, *weights_path = NULL, *inputs_path = NULL;
  g_autofree char *engine_out = NULL, *torch_out = NULL, *self = NULL;
  g_autofree float *x = NULL, *ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) weights = NULL;
  WanDitConfig c;
  gint64 x_shape[4], L, nx;
  guint64 weight_bytes;
  Flops fl;
  SgemmShape sgemm[3];
  double sgemm_before, sgemm_after, sgemm_rate, rate;
  guint64 state = BENCH_SEED ^ 1;
  Side eng, pt = { 0 };
  void *sym;
  int rc = 0;

  if (argc == 6 && g_str_equal (argv[1], "--run-engine"))
    return run_engine (argv[2], argv[3], argv[4], atoi (argv[5]));

  for (int i = 1; i < argc; i++)
    {
      const char *next = i + 1 < argc ? argv[i + 1] : NULL;

      if (g_str_equal (argv[i], "--no-torch"))
        no_torch = TRUE;
      else if (next == NULL)
        {
          usage ();
          return 2;
        }
      else if (g_str_equal (argv[i], "--weights"))
        weights_arg = argv[++i];
      else if (g_str_equal (argv[i], "--layers"))
        layers = atoi (argv[++i]);
      else if (g_str_equal (argv[i], "--frames"))
        frames = atoi (argv[++i]);
      else if (g_str_equal (argv[i], "--threads"))
        threads = atoi (argv[++i]);
      else if (g_str_equal (argv[i], "--ctx-rows"))
        ctx_rows = atoi (argv[++i]);
      else if (g_str_equal (argv[i], "--size"))
        {
          if (sscanf (argv[++i], "%dx%d", &width, &height) != 2)
            width = 0;
        }
      else
        {
          usage ();
          return 2;
        }
    }
  if (layers < 1 || layers > 30 || frames < 1 || frames % 4 != 1 || width < 16 || height < 16
      || width % 16 != 0 || height % 16 != 0 || width > 8192 || height > 8192 || ctx_rows < 1
      || ctx_rows > TEXT_LEN)
    {
      fprintf (stderr, "bench-dit: --layers takes 1 to 30, --frames 4n+1, --size multiples of 16 up to 8192, "
                       "--ctx-rows 1 to 512\n");
      usage ();
      return 2;
    }
  if (threads <= 0)
    threads = tk_cpu_count ();
  c = config_1_3b (layers);
  x_shape[0] = c.in_dim;
  x_shape[1] = (frames - 1) / 4 + 1;
  x_shape[2] = height / 8;
  x_shape[3] = width / 8;
  nx = x_shape[0] * x_shape[1] * x_shape[2] * x_shape[3];
  L = x_shape[1] * (x_shape[2] / 2) * (x_shape[3] / 2);

  dir = g_dir_make_tmp ("takes-bench-dit-XXXXXX", &error);
  if (dir == NULL)
    {
      fprintf (stderr, "bench-dit: %s\n", error->message);
      return 1;
    }
  weights_path
      = weights_arg != NULL ? g_strdup (weights_arg) : g_build_filename (dir, "dit.safetensors", NULL);
  inputs_path = g_build_filename (dir, "inputs.safetensors", NULL);
  engine_out = g_build_filename (dir, "out-engine.f32", NULL);
  torch_out = g_build_filename (dir, "out-torch.f32", NULL);
  self = g_file_read_link ("/proc/self/exe", NULL);
  if (self == NULL)
    self = g_strdup (argv[0]);

  printf ("bench-dit: Wan2.1-T2V-1.3B DiT (dim %d, FFN %d, %d heads, %d of 30 layers), random BF16 weights\n",
          c.dim, c.ffn_dim, c.num_heads, layers);
  printf ("latent %" G_GINT64_FORMAT "×%" G_GINT64_FORMAT "×%" G_GINT64_FORMAT "×%" G_GINT64_FORMAT
          " (%d video frames at %d×%d), L = %" G_GINT64_FORMAT " tokens; context %d real of %d rows; t = %d; "
          "%d threads, %s\n",
          x_shape[0], x_shape[1], x_shape[2], x_shape[3], frames, width, height, L, ctx_rows, TEXT_LEN,
          BENCH_TIMESTEP, threads, tk_isa_name (tk_isa_active ()));
  fflush (stdout);

  if (!prepare_weights (weights_path, layers, &written, &error))
    {
      fprintf (stderr, "bench-dit: %s\n", error->message);
      rc = 1;
      goto out;
    }
  weights = wan_weights_open (weights_path, NULL, &error);
  if (weights == NULL)
    {
      fprintf (stderr, "bench-dit: %s\n", error->message);
      rc = 1;
      goto out;
    }
  weight_bytes = wan_weights_get_n_bytes (weights);
  printf ("weights: %s, %s, %.3f G parameters, %.3f GB (%s)\n", weights_path,
          wan_arch_get_name (wan_weights_get_arch (weights)), wan_weights_get_n_params (weights) / 1e9,
          weight_bytes / 1e9, wan_weights_get_dtype_summary (weights));
  g_clear_pointer (&weights, wan_weights_free);

  /* The latent is unit noise, as at the first sampling step; the context
   * rows have the spread of umT5 outputs. */
  x = g_new (float, nx);
  ctx = g_new (float, (gsize)ctx_rows *TEXT_DIM);
  for (gint64 i = 0; i < nx; i++)
    x[i] = uniform (&state) * 1.7320508f;
  for (gint64 i = 0; i < (gint64)ctx_rows * TEXT_DIM; i++)
    ctx[i] = uniform (&state) * 0.2f;
  if (!write_inputs (inputs_path, x, x_shape, ctx, ctx_rows, &error))
    {
      fprintf (stderr, "bench-dit: %s\n", error->message);
      rc = 1;
      goto out;
    }

  fl = count_flops (&c, (double)L, ctx_rows);
  printf ("\nFLOPs of one forward, matrix products only (GFLOP):\n");
  printf ("  self-attention q,k,v,o       %10.1f\n", fl.self_proj / 1e9);
  printf ("  self-attention QKᵀ and PV    %10.1f\n", fl.self_attn / 1e9);
  printf ("  cross-attention q,k,v,o      %10.1f\n", fl.cross_proj / 1e9);
  printf ("  cross-attention QKᵀ and PV   %10.1f\n", fl.cross_attn / 1e9);
  printf ("  FFN                          %10.1f\n", fl.ffn / 1e9);
  printf ("  patch, text, time, head      %10.1f\n", fl.embed / 1e9);
  printf ("  total                        %10.1f\n", fl.total / 1e9);

  sym = dlsym (RTLD_DEFAULT, "openblas_set_num_threads");
  memcpy (&blas_set_threads, &sym, sizeof sym);
  sgemm[0] = (SgemmShape){ "q/k/v/o", L, c.dim, c.dim, 6, 0 };
  sgemm[1] = (SgemmShape){ "ffn.0", L, c.ffn_dim, c.dim, 1, 0 };
  sgemm[2] = (SgemmShape){ "ffn.2", L, c.dim, c.ffn_dim, 1, 0 };
  sgemm_before = measure_sgemm (sgemm, threads, "before");
  if (sgemm_before <= 0)
    {
      rc = 1;
      goto out;
    }

  printf ("\nengine forward in its own process (progress on stderr):\n");
  eng = engine_side (self, weights_path, inputs_path, engine_out, threads);
  if (!eng.ok)
    {
      rc = 1;
      goto out;
    }
  /* The machine may be shared: the peer is measured on both sides of the
   * forward and the faster figure kept, which can only lower the ratio. */
  sgemm_after = measure_sgemm (sgemm, threads, "after");
  sgemm_rate = MAX (sgemm_before, sgemm_after);
  rate = fl.total / eng.seconds / 1e9;
  printf ("\nengine forward:\n");
  printf ("  seconds                      %10.2f\n", eng.seconds);
  printf ("  achieved                     %10.1f GFLOP/s\n", rate);
  printf ("  against the sgemm mix        %10.2f×   (of %.1f GFLOP/s; target >= 0.6: %s)\n",
          rate / sgemm_rate, sgemm_rate, verdict (rate / sgemm_rate >= 0.6));
  printf ("  peak RSS                     %10.0f MiB\n", eng.peak_rss_kib / 1024.0);
  printf ("  weight file                  %10.0f MiB\n", weight_bytes / 1048576.0);
  printf ("  peak RSS / weights           %10.3f×   (target <= 1.25: %s)\n",
          eng.peak_rss_kib * 1024.0 / (double)weight_bytes,
          verdict (eng.peak_rss_kib * 1024.0 <= 1.25 * weight_bytes));
  printf ("  engine's estimate            %10.0f MiB (weights %.0f + activations %.0f + scratch %.0f)\n",
          (eng.estimate[0] + eng.estimate[1] + eng.estimate[2]) / 1048576.0, eng.estimate[0] / 1048576.0,
          eng.estimate[1] / 1048576.0, eng.estimate[2] / 1048576.0);
  fflush (stdout);

  if (!no_torch && have_torch ())
    {
      printf ("\nPyTorch forward (own process, torch.set_num_threads(%d), F32 compute, BF16 weights upcast "
              "layer by layer):\n",
              threads);
      pt = torch_side (weights_path, inputs_path, torch_out, threads);
    }
  else if (!no_torch)
    printf ("\nPyTorch peer unavailable: /usr/bin/python3 cannot import torch\n");
  if (pt.ok)
    {
      double d = rel_l2 (engine_out, torch_out, nx);

      printf ("  seconds                      %10.2f\n", pt.seconds);
      printf ("  achieved                     %10.1f GFLOP/s\n", fl.total / pt.seconds / 1e9);
      printf ("  peak RSS                     %10.0f MiB\n", pt.peak_rss_kib / 1024.0);
      printf ("  torch time / engine time     %10.2f×   (target > 1: %s)\n", pt.seconds / eng.seconds,
              verdict (pt.seconds > eng.seconds));
      printf ("  engine RSS / torch RSS       %10.2f\n", (double)eng.peak_rss_kib / (double)pt.peak_rss_kib);
      printf ("  rel-L2 engine vs torch       %10.2e (agree below %.0e: %s)\n", d, AGREE_REL_L2,
              d < AGREE_REL_L2 ? "yes" : "NO");
      if (!(d < AGREE_REL_L2))
        rc = 1;
    }
  if (layers < 30)
    print_projection (&c, (double)L, ctx_rows, weight_bytes, &eng, &pt);

out:
  if (written && weights_arg == NULL)
    g_unlink (weights_path);
  g_unlink (inputs_path);
  g_unlink (engine_out);
  g_unlink (torch_out);
  g_rmdir (dir);
  return rc;
}
