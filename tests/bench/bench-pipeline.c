/* bench-pipeline: the whole text-to-MP4 run of the local engine on the tiny
 * model (made in a temporary folder, like Wan2.1 1.3B), split by stage: the
 * text encoder (prompt and negative prompt), the DiT's setup, each denoising
 * step, the VAE decode and the H.264 encode through takes-media, with each
 * stage's share of a take's wall time.
 *
 * The peer, measured in the same run: one DiT forward pass alone on the same
 * latent shape. A guided step runs two (conditional and unconditional), so
 * "step / 2 forwards" shows what the sampler and guidance add around the
 * model; near 1.0 is the goal.
 *
 * Usage: bench-pipeline [--size WxH] [--frames N] [--steps N] [--repeat N] [--threads N]
 *   defaults: 96x64, 17 frames, 8 steps, the fastest of 3 runs after one warm-up, one thread per CPU.
 *   A larger run: bench-pipeline --size 320x192 --frames 33 --steps 10
 */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "takes-engine.h"
#include "takes-media.h"

#define PROMPT "a red fox running through fresh snow at dawn, cinematic"

/* Microsecond marks of one run, from the pipeline's progress reports. */
typedef struct
{
  gint64 start;
  gint64 text_start;  /* after the text encoder was built */
  gint64 text_end;    /* both prompts encoded */
  gint64 denoise;     /* DiT state allocated, noise drawn */
  gint64 step_start;  /* the step under way began */
  gint64 decode;      /* the last step done */
  gint64 frames_done; /* wan_pipeline_generate returned */
  gint64 encoded;     /* the MP4 is in place */
  gboolean seen_text, seen_denoise, seen_decode;
  int last_step;
  double best_step; /* the fastest single step, which load on a shared machine disturbs least */
} Marks;

typedef struct
{
  double load, text, setup, denoise, decode, encode, total;
  double best_step;
} Split;

static void
progress_cb (const WanProgress *progress, gpointer user_data)
{
  Marks *m = user_data;
  gint64 now = g_get_monotonic_time ();

  switch (progress->stage)
    {
      case WAN_STAGE_LOAD:
        break;
      case WAN_STAGE_TEXT:
        if (!m->seen_text)
          m->text_start = now;
        m->seen_text = TRUE;
        if (progress->step == progress->n_steps)
          m->text_end = now;
        break;
      case WAN_STAGE_DENOISE:
        if (!m->seen_denoise)
          {
            m->denoise = now;
            m->step_start = now;
          }
        m->seen_denoise = TRUE;
        if (progress->step > m->last_step)
          {
            m->best_step = MIN (m->best_step, (now - m->step_start) / 1e6);
            m->step_start = now;
            m->last_step = progress->step;
          }
        break;
      case WAN_STAGE_DECODE:
      default:
        if (!m->seen_decode)
          m->decode = now;
        m->seen_decode = TRUE;
        break;
    }
}

static gboolean
encode_mp4 (const char *path, const guint8 *frames, int n_frames, int width, int height, GError **error)
{
  g_autoptr (TakesMediaEncoder) encoder = takes_media_encoder_new (path, width, height, 16, 1, NULL, error);
  gsize frame_size = (gsize)width * (gsize)height * 3;

  if (encoder == NULL)
    return FALSE;
  for (int i = 0; i < n_frames; i++)
    if (!takes_media_encoder_push_rgb (encoder, frames + (gsize)i * frame_size, (gsize)width * 3, error))
      return FALSE;
  return takes_media_encoder_finish (encoder, error);
}

static gboolean
run_once (WanPipeline *pipeline, const WanRequest *request, const char *mp4, Split *split, GError **error)
{
  Marks m = { .best_step = G_MAXDOUBLE };
  g_autofree guint8 *frames = NULL;
  int n_frames = 0;

  m.start = g_get_monotonic_time ();
  frames = wan_pipeline_generate (pipeline, request, &n_frames, NULL, progress_cb, NULL, &m, error);
  if (frames == NULL)
    return FALSE;
  m.frames_done = g_get_monotonic_time ();
  if (!encode_mp4 (mp4, frames, n_frames, request->width, request->height, error))
    return FALSE;
  m.encoded = g_get_monotonic_time ();
  if (!m.seen_text || !m.seen_denoise || !m.seen_decode)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the pipeline skipped a stage report");
      return FALSE;
    }
  split->load += (m.text_start - m.start) / 1e6;
  split->text += (m.text_end - m.text_start) / 1e6;
  split->setup += (m.denoise - m.text_end) / 1e6;
  split->denoise += (m.decode - m.denoise) / 1e6;
  split->decode += (m.frames_done - m.decode) / 1e6;
  split->encode += (m.encoded - m.frames_done) / 1e6;
  split->total += (m.encoded - m.start) / 1e6;
  split->best_step = m.best_step;
  return TRUE;
}

typedef struct
{
  WanDit *dit;
  WanDitState *state;
  float *x, *out, *context;
  int ctx_rows;
} Peer;

static void
peer_clear (Peer *peer)
{
  g_clear_pointer (&peer->state, wan_dit_state_free);
  g_clear_pointer (&peer->dit, wan_dit_free);
  g_clear_pointer (&peer->x, g_free);
  g_clear_pointer (&peer->out, g_free);
  g_clear_pointer (&peer->context, g_free);
}

/* One DiT forward on the run's latent shape, without the sampler around it. */
static gboolean
peer_init (Peer *peer, WanModelSet *set, const WanRequest *request, int n_threads, GError **error)
{
  const WanDitConfig *cfg;
  int T = 1 + (request->frames - 1) / 4, h = request->height / 8, w = request->width / 8;
  gsize n;

  /* The longest context a prompt can give; the pipeline's are shorter. */
  peer->ctx_rows = UMT5_TEXT_LEN;
  peer->dit = wan_dit_new (wan_model_set_get_dit (set, WAN_EXPERT_SINGLE), n_threads, error);
  if (peer->dit == NULL)
    return FALSE;
  cfg = wan_dit_get_config (peer->dit);
  peer->state = wan_dit_state_new (peer->dit, cfg->in_dim, T, h, w, peer->ctx_rows, error);
  if (peer->state == NULL)
    return FALSE;
  n = (gsize)cfg->in_dim * T * h * w;
  peer->x = g_new (float, n);
  peer->out = g_new (float, (gsize)cfg->out_dim *T *h *w);
  peer->context = g_new0 (float, (gsize)peer->ctx_rows * cfg->text_dim);
  for (gsize i = 0; i < n; i++)
    peer->x[i] = (float)((i * 2654435761u) % 2001) / 1000.0f - 1.0f;
  return TRUE;
}

static double
peer_forward (Peer *peer, GError **error)
{
  gint64 t0 = g_get_monotonic_time ();

  if (!wan_dit_forward (peer->dit, peer->state, peer->x, NULL, 500, peer->context, peer->ctx_rows, peer->out,
                        NULL, NULL, NULL, error))
    return -1;
  return (g_get_monotonic_time () - t0) / 1e6;
}

static void
print_row (const char *name, double seconds, double total, const char *note)
{
  printf ("  %-22s %9.3f s %6.1f %%  %s\n", name, seconds, 100.0 * seconds / total, note);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static gboolean
usage (const char *message)
{
  fprintf (stderr, "bench-pipeline: %s\n", message);
  fprintf (stderr,
           "usage: bench-pipeline [--size WxH] [--frames 4n+1] [--steps N] [--repeat N] [--threads N]\n");
  return FALSE;
}

static gboolean
parse_args (int argc, char **argv, WanRequest *request, int *repeat, int *threads)
{
  for (int i = 1; i < argc; i++)
    {
      const char *value = i + 1 < argc ? argv[i + 1] : NULL;

      if (value == NULL)
        return usage ("every option takes a value");
      if (g_str_equal (argv[i], "--size"))
        {
          if (sscanf (value, "%dx%d", &request->width, &request->height) != 2 || request->width < 16
              || request->height < 16 || request->width % 16 != 0 || request->height % 16 != 0)
            return usage ("--size takes WxH, both multiples of 16 (e.g. 320x192)");
        }
      else if (g_str_equal (argv[i], "--frames"))
        {
          request->frames = atoi (value);
          if (request->frames < 1 || (request->frames - 1) % 4 != 0)
            return usage ("--frames takes 4n+1 (5, 9, 17, 33, …)");
        }
      else if (g_str_equal (argv[i], "--steps"))
        {
          request->steps = atoi (value);
          if (request->steps < 1)
            return usage ("--steps takes a positive number");
        }
      else if (g_str_equal (argv[i], "--repeat"))
        {
          *repeat = atoi (value);
          if (*repeat < 1)
            return usage ("--repeat takes a positive number");
        }
      else if (g_str_equal (argv[i], "--threads"))
        *threads = MAX (0, atoi (value));
      else
        return usage ("unknown option");
      i++;
    }
  return TRUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WanModelSet) set = NULL;
  g_autoptr (WanPipeline) pipeline = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bench-pipeline-XXXXXX", &error);
  g_autofree char *model_dir = NULL;
  g_autofree char *mp4 = NULL;
  WanRequest request;
  WanMemoryPlan plan;
  Split split = { 0 };
  Peer peer = { 0 };
  int repeat = 3, threads = 0;
  gint64 t0;
  double load_seconds, forward = G_MAXDOUBLE, best_step = G_MAXDOUBLE, step;
  gboolean ok = FALSE;

  if (dir == NULL || !wan_request_init_defaults (&request, WAN_ARCH_TINY, &error))
    goto out;
  request.frames = 17;
  if (!parse_args (argc, argv, &request, &repeat, &threads))
    {
      g_rmdir (dir);
      return 2;
    }
  request.prompt = PROMPT;
  request.seed = 42;
  model_dir = g_build_filename (dir, "tiny", NULL);
  mp4 = g_build_filename (dir, "take.mp4", NULL);

  t0 = g_get_monotonic_time ();
  if (!wan_tiny_model_write (model_dir, WAN_ARCH_WAN21_T2V_1_3B, 1, &error))
    goto out;
  printf ("tiny model written in %.3f s\n", (g_get_monotonic_time () - t0) / 1e6);
  t0 = g_get_monotonic_time ();
  if ((set = wan_model_set_load (model_dir, &error)) == NULL
      || (pipeline = wan_pipeline_new (set, threads, &error)) == NULL)
    goto out;
  load_seconds = (g_get_monotonic_time () - t0) / 1e6;
  if (!wan_pipeline_plan (pipeline, &request, &plan, &error))
    goto out;
  printf ("model loaded in %.3f s (once per model, not in the split below)\n", load_seconds);
  printf ("run: %dx%d, %d frames, %d steps, %s, guidance %.1f, %d threads (0: one per CPU), "
          "planned peak memory %.1f MiB\n",
          request.width, request.height, request.frames, request.steps, request.solver, request.guidance,
          threads, plan.total / 1048576.0);

  /* The warm-up brings GStreamer up and the pages of the weights in. The
   * peer runs between the takes, so both see the same load on a shared
   * machine; the best of each is kept. */
  if (!peer_init (&peer, set, &request, threads, &error)
      || !run_once (pipeline, &request, mp4, &split, &error) || peer_forward (&peer, &error) < 0)
    goto out;
  split.total = G_MAXDOUBLE;
  for (int r = 0; r < repeat; r++)
    {
      Split one = { 0 };
      double f;

      if (!run_once (pipeline, &request, mp4, &one, &error) || (f = peer_forward (&peer, &error)) < 0)
        goto out;
      best_step = MIN (best_step, one.best_step);
      if (one.total < split.total)
        split = one;
      forward = MIN (forward, f);
    }
  step = split.denoise / request.steps;

  printf ("\nwall time of one take, the fastest of %d runs after a warm-up:\n", repeat);
  print_row ("text encoder setup", split.load, split.total, "");
  print_row ("text encode", split.text, split.total, "(prompt + negative prompt)");
  print_row ("DiT setup + noise", split.setup, split.total, "");
  {
    g_autofree char *note = g_strdup_printf ("(%d steps, %.3f s a step)", request.steps, step);

    print_row ("denoise", split.denoise, split.total, note);
  }
  {
    g_autofree char *note = g_strdup_printf ("(%d latent frames)", 1 + (request.frames - 1) / 4);

    print_row ("VAE decode", split.decode, split.total, note);
  }
  {
    g_autofree char *note = g_strdup_printf ("(%d frames, takes-media H.264)", request.frames);

    print_row ("MP4 encode", split.encode, split.total, note);
  }
  print_row ("total", split.total, split.total, "");
  printf ("\npeer: one DiT forward alone %.3f s (best of %d)\n", forward, repeat);
  printf ("ratio: fastest denoise step %.3f s / 2 forwards = %.2f (guided steps run the model twice)\n",
          best_step, best_step / (2 * forward));
  printf ("ratio: frames per second of wall time = %.2f\n", request.frames / split.total);
  ok = TRUE;

out:
  if (!ok)
    fprintf (stderr, "bench-pipeline: %s\n", error != NULL ? error->message : "failed");
  peer_clear (&peer);
  g_clear_pointer (&pipeline, wan_pipeline_free);
  g_clear_pointer (&set, wan_model_set_free);
  if (dir != NULL)
    remove_tree (dir);
  return ok ? 0 : 1;
}
