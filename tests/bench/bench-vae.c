/* bench-vae: the Wan2.1 VAE decoder at its real width (dim 96, z 16) with
 * random weights, decoding 21 latent frames at 480×832 (latent 60×104, 81
 * video frames), against the same decode in PyTorch on the same weights and
 * latent, run by /usr/bin/python3 (tests/bench/bench_vae_torch.py) with the
 * same thread count.
 *
 * Each side runs in its own process, so its peak resident memory (weights
 * included) is its own. The engine decodes untiled through the streaming
 * decoder (frames go to a file as they come, as in the pipeline) and, with
 * --tile, once more in tiles. Printed: wall and CPU seconds (CPU time is the
 * fairer figure on a machine others are using), peak RSS, the engine's
 * memory plan plus its weights, the ratios (targets: faster than PyTorch,
 * under half its peak memory) and the largest differences between the
 * videos. Untiled, the engine's plan is printed part by part (caches per
 * level, frame buffers, bands, …), with what the peak holds beyond it.
 *
 * The full 21 frames take hours on a small machine; the peak is reached once
 * every cache holds two frames, so --frames 2 or 3 measures it.
 *
 * Usage: bench-vae [--small] [--frames T] [--size HxW] [--threads N]
 *                  [--tile CELLS [--overlap CELLS]] [--no-torch] [--input-caches]
 *   --small: 3 latent frames at 96×160, for a quick check.
 *   --tile: also decode in square tiles of CELLS latent cells (default
 *   overlap 8).
 *   --input-caches: the engine with every causal convolution keeping its
 *   input frames (WAN_VAE_CONVS_INPUT_CACHES), for its memory and time
 *   against the default.
 * TAKES_BENCH_VAE_SCRIPT overrides the path of the PyTorch script.
 */
#include "config.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "takes-engine.h"
#include "takes-kernels.h"
#include "wan-vae.h"
#include "wan-weights.h"

/* Writes a decoder-only Wan2.1 VAE of base width @dim with random weights:
 * convolutions uniform in ±1/√fan_in (PyTorch's default scale), norm gains
 * near 1. Streams tensor by tensor. */
static gboolean
write_weights (const char *path, int dim, GError **error)
{
  WanVaeConfig cfg = { .version = 21,
                       .dim = dim,
                       .dec_dim = dim,
                       .z_dim = 16,
                       .dim_mult = { 1, 2, 4, 4 },
                       .num_res_blocks = 2,
                       .has_encoder = FALSE };
  g_autoptr (GPtrArray) specs = wan_vae_expected_tensors (&cfg);
  g_autoptr (GString) header = g_string_new ("{");
  g_autoptr (GRand) rand = g_rand_new_with_seed (1234);
  FILE *f;
  guint64 offset = 0, len;
  guint8 len_bytes[8];

  for (guint i = 0; i < specs->len; i++)
    {
      const WanTensorSpec *s = g_ptr_array_index (specs, i);
      guint64 n = 1;

      for (guint d = 0; d < s->n_dims; d++)
        n *= (guint64)s->shape[d];
      g_string_append_printf (header, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[", i ? "," : "", s->name);
      for (guint d = 0; d < s->n_dims; d++)
        g_string_append_printf (header, "%s%" G_GINT64_FORMAT, d ? "," : "", s->shape[d]);
      g_string_append_printf (header, "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}",
                              offset, offset + 4 * n);
      offset += 4 * n;
    }
  g_string_append_c (header, '}');
  while (header->len % 8 != 0)
    g_string_append_c (header, ' ');
  f = fopen (path, "wb");
  if (f == NULL)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot write %s", path);
      return FALSE;
    }
  len = header->len;
  for (int i = 0; i < 8; i++)
    len_bytes[i] = (guint8)(len >> (8 * i));
  fwrite (len_bytes, 1, 8, f);
  fwrite (header->str, 1, header->len, f);
  for (guint i = 0; i < specs->len; i++)
    {
      const WanTensorSpec *s = g_ptr_array_index (specs, i);
      gboolean gamma = g_str_has_suffix (s->name, ".gamma");
      gboolean bias = g_str_has_suffix (s->name, ".bias");
      guint64 n = 1, fan_in = 1;
      g_autofree float *data = NULL;

      for (guint d = 0; d < s->n_dims; d++)
        n *= (guint64)s->shape[d];
      for (guint d = 1; d < s->n_dims; d++)
        fan_in *= (guint64)s->shape[d];
      data = g_new (float, n);
      for (guint64 k = 0; k < n; k++)
        {
          double u = g_rand_double_range (rand, -1.0, 1.0);

          data[k] = gamma  ? (float)(1.0 + 0.1 * u)
                    : bias ? (float)(0.01 * u)
                           : (float)(u / sqrt ((double)fan_in));
        }
      fwrite (data, sizeof (float), n, f);
    }
  if (fclose (f) != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot write %s", path);
      return FALSE;
    }
  return TRUE;
}

static WanVaeConvs engine_convs = WAN_VAE_CONVS_LEAST_MEMORY;

static double
now (void)
{
  return (double)g_get_monotonic_time () / 1e6;
}

static void
progress_cb (int done, int total, gpointer data)
{
  double *start = data;

  fprintf (stderr, "  engine: latent frame %d/%d, %.1f s\n", done, total, now () - *start);
}

static double
cpu_seconds (void)
{
  struct rusage u;

  getrusage (RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* The engine's side, in a child process: prints "seconds S cpu C estimate
 * B weights W". Untiled, the frames go to the file as the decoder hands them
 * out, so no whole video is ever in memory; tiled, the video is blended in
 * one buffer. */
static int
run_engine (const char *weights_path,
            const float *z,
            int T,
            int h,
            int w,
            int threads,
            const WanVaeTiling *tiling,
            const char *out_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) weights = wan_weights_open (weights_path, NULL, &error);
  g_autoptr (WanVae) vae = NULL;
  g_autoptr (WanVaeDecoder) dec = NULL;
  g_autofree float *video = NULL, *frames = NULL, *zf = NULL;
  gsize plane = (gsize)h * 8 * w * 8, F = (gsize)(1 + 4 * (T - 1));
  guint64 estimate;
  double start, cpu;
  FILE *out;
  int done = 0;

  if (weights == NULL
      || (vae = wan_vae_new_with_convs (weights, threads, NULL, engine_convs, &error)) == NULL)
    {
      fprintf (stderr, "engine: %s\n", error->message);
      return 1;
    }
  out = fopen (out_path, "wb");
  if (out == NULL)
    return 1;
  estimate = tiling != NULL ? wan_vae_estimate_decode_tiled_bytes (vae, T, h, w, tiling)
                            : wan_vae_estimate_decoder_bytes (vae, h, w);
  cpu = cpu_seconds ();
  start = now ();
  if (tiling != NULL)
    {
      video = g_new (float, 3 * F * plane);
      if (!wan_vae_decode_tiled (vae, z, T, h, w, tiling, video, NULL, progress_cb, &start, &error))
        {
          fprintf (stderr, "engine: %s\n", error->message);
          return 1;
        }
      fwrite (video, sizeof (float), 3 * F * plane, out);
    }
  else
    {
      dec = wan_vae_decoder_new (vae, h, w, &error);
      frames = g_new (float, 3 * 4 * plane);
      zf = g_new (float, (gsize)16 * h * w);
      for (int t = 0; dec != NULL && t < T; t++)
        {
          int n = 0;

          for (int c = 0; c < 16; c++)
            memcpy (zf + (gsize)c * h * w, z + ((gsize)c * T + t) * h * w, sizeof (float) * h * w);
          if (!wan_vae_decoder_push (dec, zf, frames, &n, NULL, NULL, &error))
            break;
          for (int c = 0; c < 3; c++)
            {
              fseek (out, (long)(((gsize)c * F + done) * plane * sizeof (float)), SEEK_SET);
              fwrite (frames + (gsize)c * n * plane, sizeof (float), n * plane, out);
            }
          done += n;
          progress_cb (t + 1, T, &start);
        }
      if (error != NULL)
        {
          fprintf (stderr, "engine: %s\n", error->message);
          return 1;
        }
    }
  printf ("seconds %.3f cpu %.3f estimate %" G_GUINT64_FORMAT " weights %" G_GUINT64_FORMAT "\n",
          now () - start, cpu_seconds () - cpu, estimate, wan_vae_get_weight_bytes (vae));
  if (tiling == NULL)
    {
      WanVaeDecoderMemory mem;

      if (wan_vae_decoder_memory (vae, h, w, &mem))
        printf ("memory %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT "\n",
                mem.caches_middle, mem.caches_level[0], mem.caches_level[1], mem.caches_level[2],
                mem.caches_level[3], mem.caches_head, mem.frames, mem.largest_frame, mem.third_frame,
                mem.pending, mem.bands, mem.latent, mem.workspace, wan_vae_get_weight_bytes (vae));
    }
  fflush (stdout);
  return fclose (out) == 0 ? 0 : 1;
}

/* The engine's memory plan, in bytes (see WanVaeDecoderMemory). */
enum
{
  MEM_MIDDLE,
  MEM_LEVEL0,
  MEM_LEVEL1,
  MEM_LEVEL2,
  MEM_LEVEL3,
  MEM_HEAD,
  MEM_FRAMES,
  MEM_FRAME,
  MEM_FRAME3,
  MEM_PENDING,
  MEM_BANDS,
  MEM_LATENT,
  MEM_WORKSPACE,
  MEM_WEIGHTS,
  MEM_N
};

typedef struct
{
  double seconds;
  double cpu; /* CPU seconds of the decode, all threads: fairer than wall time on a busy machine */
  double peak_mib;
  double estimate_mib; /* the plan's peak with the weights */
  guint64 mem[MEM_N];  /* untiled engine only; all 0 otherwise */
  gboolean ok;
} Side;

static Side
engine_side (const char *weights_path,
             const float *z,
             int T,
             int h,
             int w,
             int threads,
             const WanVaeTiling *tiling,
             const char *out_path)
{
  Side side = { 0 };
  int fds[2];
  pid_t pid;
  int status = 0;
  struct rusage usage;
  char buf[1024] = { 0 };
  gsize filled = 0;
  const char *line;
  guint64 estimate = 0, weight_bytes = 0;

  if (pipe (fds) != 0)
    return side;
  fflush (stdout);
  pid = fork ();
  if (pid == 0)
    {
      close (fds[0]);
      dup2 (fds[1], STDOUT_FILENO);
      _exit (run_engine (weights_path, z, T, h, w, threads, tiling, out_path));
    }
  close (fds[1]);
  if (pid < 0)
    {
      close (fds[0]);
      return side;
    }
  for (;;)
    {
      ssize_t got = read (fds[0], buf + filled, sizeof buf - 1 - filled);

      if (got <= 0)
        break;
      filled += (gsize)got;
    }
  close (fds[0]);
  if (wait4 (pid, &status, 0, &usage) != pid || !WIFEXITED (status) || WEXITSTATUS (status) != 0)
    return side;
  if (sscanf (buf, "seconds %lf cpu %lf estimate %" G_GUINT64_FORMAT " weights %" G_GUINT64_FORMAT,
              &side.seconds, &side.cpu, &estimate, &weight_bytes)
      != 4)
    return side;
  line = strstr (buf, "\nmemory ");
  if (line != NULL)
    {
      const char *p = line + strlen ("\nmemory ");

      for (int i = 0; i < MEM_N; i++)
        {
          char *end = NULL;

          side.mem[i] = g_ascii_strtoull (p, &end, 10);
          p = end;
        }
    }
  side.peak_mib = usage.ru_maxrss / 1024.0;
  side.estimate_mib = (estimate + weight_bytes) / 1048576.0;
  side.ok = TRUE;
  return side;
}

static char *
script_path (void)
{
  const char *env = g_getenv ("TAKES_BENCH_VAE_SCRIPT");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_build_filename (SOURCE_DATADIR, "..", "tests", "bench", "bench_vae_torch.py", NULL);
}

static Side
torch_side (
    const char *weights_path, const char *z_path, int T, int h, int w, int threads, const char *out_path)
{
  Side side = { 0 };
  g_autofree char *script = script_path ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *t_s = g_strdup_printf ("%d", T), *h_s = g_strdup_printf ("%d", h);
  g_autofree char *w_s = g_strdup_printf ("%d", w), *n_s = g_strdup_printf ("%d", threads);
  const char *argv[]
      = { "/usr/bin/python3", script, weights_path, z_path, t_s, h_s, w_s, n_s, out_path, NULL };
  int status = 0;
  long peak_kib = 0;

  if (access (argv[0], X_OK) != 0 || access (script, R_OK) != 0)
    {
      printf ("PyTorch peer unavailable: /usr/bin/python3 or %s is missing\n", script);
      return side;
    }
  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error)
      || !g_spawn_check_wait_status (status, NULL))
    {
      printf ("PyTorch peer failed: %s\n", error != NULL ? error->message : err);
      return side;
    }
  if (sscanf (out, "seconds %lf cpu %lf peak_rss_kib %ld", &side.seconds, &side.cpu, &peak_kib) != 3)
    {
      printf ("PyTorch peer printed no result: %s\n", out);
      return side;
    }
  side.peak_mib = peak_kib / 1024.0;
  side.ok = TRUE;
  return side;
}

static double
max_diff (const char *a_path, const char *b_path)
{
  g_autofree char *a = NULL, *b = NULL;
  gsize na = 0, nb = 0;
  double m = 0;

  if (!g_file_get_contents (a_path, &a, &na, NULL) || !g_file_get_contents (b_path, &b, &nb, NULL)
      || na != nb)
    return NAN;
  for (gsize i = 0; i < na / sizeof (float); i++)
    {
      float x, y;

      memcpy (&x, a + i * sizeof (float), sizeof x);
      memcpy (&y, b + i * sizeof (float), sizeof y);
      m = MAX (m, fabs ((double)x - y));
    }
  return m;
}

static double
mib (guint64 bytes)
{
  return (double)bytes / 1048576.0;
}

/* The parts of the untiled engine's peak. */
static void
print_memory (const Side *side)
{
  static const char *const level_names[]
      = { "level 0 (latent size)", "level 1 (2× latent)", "level 2 (4× latent)", "level 3 (video size)" };
  const guint64 *m = side->mem;
  guint64 caches = m[MEM_MIDDLE] + m[MEM_HEAD];
  double planned;

  if (m[MEM_WEIGHTS] == 0)
    return;
  for (int i = 0; i < 4; i++)
    caches += m[MEM_LEVEL0 + i];
  planned = mib (caches + m[MEM_FRAMES] + m[MEM_PENDING] + m[MEM_BANDS] + m[MEM_LATENT] + m[MEM_WORKSPACE]
                 + m[MEM_WEIGHTS]);
  printf ("engine peak, part by part (MiB):\n");
  printf ("  caches and partial outputs %10.0f\n", mib (caches));
  printf ("    middle (latent size)     %10.0f\n", mib (m[MEM_MIDDLE]));
  for (int i = 0; i < 4; i++)
    printf ("    %-24s %10.0f\n", level_names[i], mib (m[MEM_LEVEL0 + i]));
  printf ("    head                     %10.0f\n", mib (m[MEM_HEAD]));
  printf ("  frame buffers              %10.0f  (2 × %.0f + %.0f)\n", mib (m[MEM_FRAMES]), mib (m[MEM_FRAME]),
          mib (m[MEM_FRAME3]));
  printf ("  upsample3d frames apart    %10.0f\n", mib (m[MEM_PENDING]));
  printf ("  row bands                  %10.0f\n", mib (m[MEM_BANDS]));
  printf ("  latent, attention          %10.0f\n", mib (m[MEM_LATENT]));
  printf ("  convolution workspace      %10.0f\n", mib (m[MEM_WORKSPACE]));
  printf ("  weights (packed)           %10.0f\n", mib (m[MEM_WEIGHTS]));
  printf ("  planned in all             %10.0f\n", planned);
  printf ("  the rest (process, allocator) %.0f = %.1f %% of the peak\n", side->peak_mib - planned,
          100.0 * (side->peak_mib - planned) / side->peak_mib);
}

static void
print_side (const char *name, const Side *side)
{
  printf ("%-10s %10.2f %12.2f %14.0f", name, side->seconds, side->cpu, side->peak_mib);
  if (side->estimate_mib > 0)
    printf (" %16.0f", side->estimate_mib);
  printf ("\n");
}

int
main (int argc, char **argv)
{
  gboolean small = FALSE, no_torch = FALSE;
  int T = 21, h = 60, w = 104, threads = 0, tile = 0, overlap = 8;
  g_autofree char *dir = NULL;
  g_autofree char *weights_path = NULL, *z_path = NULL, *eng_out = NULL, *tiled_out = NULL, *torch_out = NULL;
  g_autofree float *z = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  WanVaeTiling tiling = { 0 };
  gsize nz;
  Side eng, tiled = { 0 }, pt = { 0 };
  double t0;

  for (int i = 1; i < argc; i++)
    {
      if (g_str_equal (argv[i], "--small"))
        small = TRUE;
      else if (g_str_equal (argv[i], "--no-torch"))
        no_torch = TRUE;
      else if (g_str_equal (argv[i], "--input-caches"))
        engine_convs = WAN_VAE_CONVS_INPUT_CACHES;
      else if (g_str_equal (argv[i], "--threads") && i + 1 < argc)
        threads = atoi (argv[++i]);
      else if (g_str_equal (argv[i], "--frames") && i + 1 < argc)
        T = atoi (argv[++i]);
      else if (g_str_equal (argv[i], "--tile") && i + 1 < argc)
        tile = atoi (argv[++i]);
      else if (g_str_equal (argv[i], "--overlap") && i + 1 < argc)
        overlap = atoi (argv[++i]);
      else if (g_str_equal (argv[i], "--size") && i + 1 < argc)
        {
          int H = 0, W = 0;

          if (sscanf (argv[++i], "%dx%d", &H, &W) != 2 || H < 8 || W < 8 || H % 8 || W % 8)
            {
              fprintf (stderr, "--size takes HxW in pixels, multiples of 8\n");
              return 2;
            }
          h = H / 8;
          w = W / 8;
        }
      else
        {
          fprintf (stderr, "usage: bench-vae [--small] [--frames T] [--size HxW] [--threads N] [--tile CELLS "
                           "[--overlap CELLS]] [--no-torch] [--input-caches]\n");
          return 2;
        }
    }
  if (small)
    {
      T = 3;
      h = 12;
      w = 20;
    }
  if (threads <= 0)
    threads = tk_cpu_count ();
  if (T < 1)
    T = 1;
  tiling.tile_h = tiling.tile_w = tile;
  tiling.overlap = overlap;

  dir = g_dir_make_tmp ("takes-bench-vae-XXXXXX", &error);
  if (dir == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  weights_path = g_build_filename (dir, "wan21_vae_random.safetensors", NULL);
  z_path = g_build_filename (dir, "z.f32", NULL);
  eng_out = g_build_filename (dir, "video-engine.f32", NULL);
  tiled_out = g_build_filename (dir, "video-tiled.f32", NULL);
  torch_out = g_build_filename (dir, "video-torch.f32", NULL);

  printf ("Wan2.1 VAE decode, dim 96, random weights: %d latent frames of %d×%d -> %d frames of %d×%d, %d "
          "threads\n",
          T, h, w, 1 + 4 * (T - 1), h * 8, w * 8, threads);
  printf ("engine: %s\n", engine_convs == WAN_VAE_CONVS_INPUT_CACHES
                              ? "every causal convolution keeps its input frames (--input-caches)"
                              : "partial outputs where they take less memory (the default)");
  t0 = now ();
  if (!write_weights (weights_path, 96, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  nz = (gsize)16 * T * h * w;
  z = g_new (float, nz);
  for (gsize i = 0; i < nz; i++)
    z[i] = (float)g_rand_double_range (rand, -2.0, 2.0);
  if (!g_file_set_contents (z_path, (const char *)z, (gssize)(nz * sizeof (float)), &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  printf ("weights written in %.1f s\n", now () - t0);

  eng = engine_side (weights_path, z, T, h, w, threads, NULL, eng_out);
  if (!eng.ok)
    {
      fprintf (stderr, "the engine's decode failed\n");
      return 1;
    }
  printf ("%-10s %10s %12s %14s %16s\n", "", "seconds", "CPU seconds", "peak RSS MiB", "estimate MiB");
  print_side ("engine", &eng);
  fflush (stdout);
  if (tile > 0)
    {
      tiled = engine_side (weights_path, z, T, h, w, threads, &tiling, tiled_out);
      if (!tiled.ok)
        {
          fprintf (stderr, "the engine's tiled decode failed\n");
          return 1;
        }
      print_side ("tiled", &tiled);
      fflush (stdout);
    }
  if (!no_torch)
    {
      pt = torch_side (weights_path, z_path, T, h, w, threads, torch_out);
      if (pt.ok)
        print_side ("pytorch", &pt);
    }
  printf ("(estimate: the engine's memory plan plus its weights; peak RSS includes the process itself)\n");
  print_memory (&eng);
  if (tile > 0)
    {
      printf ("tiled: %d tiles of %d×%d latent cells sharing %d, peak memory vs untiled %.2f, time %.2f×\n",
              wan_vae_tiling_count (h, w, &tiling), MIN (tile, h), MIN (tile, w), overlap,
              tiled.peak_mib / eng.peak_mib, tiled.cpu / eng.cpu);
      printf ("largest |tiled - untiled| over the video: %.3g\n", max_diff (tiled_out, eng_out));
    }
  if (pt.ok)
    {
      printf ("speed-up over PyTorch: %.2f× in wall time, %.2f× in CPU time (target > 1)\n",
              pt.seconds / eng.seconds, pt.cpu / eng.cpu);
      printf ("peak memory vs PyTorch: untiled %.2f", eng.peak_mib / pt.peak_mib);
      if (tile > 0)
        printf (", tiled %.2f", tiled.peak_mib / pt.peak_mib);
      printf (" (target < 0.5)\n");
      printf ("largest |engine - pytorch| over the video: %.3g\n", max_diff (eng_out, torch_out));
    }
  g_unlink (weights_path);
  g_unlink (z_path);
  g_unlink (eng_out);
  g_unlink (tiled_out);
  g_unlink (torch_out);
  g_rmdir (dir);
  return 0;
}
