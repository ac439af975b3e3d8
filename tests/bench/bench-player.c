/* bench-player.c: playback cost of the player widget.
 *
 * Plays, each for the same wall time: one 720p take (the peer), four 720p
 * takes composited in one pipeline (the A/B compare view's 2×2 grid), and
 * one 1080p take. Clips are a few seconds of moving bars encoded to H.264 by
 * the media core, looped by the player, so the run lasts as long as asked.
 * Prints frames shown, frames dropped (reached the sink but replaced before
 * they were drawn), frames expected from the clock, frames late (reached
 * the sink more than TAKES_PLAYER_LATE_NS after their time on the pipeline
 * clock, as the first frame of a loop does when the next pass is not ready
 * in time) with the latest one's delay, how many times of going round the
 * loop showed its first frame late or not at all ("seams late", late/all),
 * CPU load (process CPU time over wall time, per core) and CPU time per
 * frame shown (the figure least moved by other work on the machine), with
 * the 4-way cost as a ratio of the 1-way peer's.
 *
 *   xvfb-run -a ./bench-player [--seconds N]   (default 30 per run)
 *
 * Runs under Xvfb with the cairo renderer, like the tests: drawing costs
 * more there than with a GPU.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <sys/resource.h>

#include "takes-media.h"
#include "takes-player.h"

#define CLIP_SECONDS 3
#define FPS 24

typedef struct
{
  const char *name;
  guint n_sources;
  int width, height;
  guint64 shown, dropped, expected, late;
  gint64 max_late_us;
  guint seams, bad_seams; /* loops gone round; those whose first frame was late or not shown */
  int last_frame;
  double cpu_load;
  double wall_s;
} Run;

static gboolean
make_clip (const char *path, int width, int height, int phase, GError **error)
{
  g_autoptr (TakesMediaEncoder) enc = takes_media_encoder_new (path, width, height, FPS, 1, NULL, error);
  gsize stride = (gsize)width * 3;
  g_autofree guint8 *rgb = g_malloc (stride * (gsize)height);

  if (enc == NULL)
    return FALSE;
  for (int f = 0; f < CLIP_SECONDS * FPS; f++)
    {
      for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
          {
            guint8 *p = rgb + (gsize)y * stride + (gsize)x * 3;

            p[0] = (guint8)((x + f * 8 + phase * 40) & 0xff);
            p[1] = (guint8)((y * 2 + f * 3) & 0xff);
            p[2] = (guint8)(((x ^ y) + phase * 60) & 0xff);
          }
      if (!takes_media_encoder_push_rgb (enc, rgb, stride, error))
        return FALSE;
    }
  return takes_media_encoder_finish (enc, error);
}

static double
cpu_seconds (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return (double)usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec
         + usage.ru_stime.tv_usec / 1e6;
}

static gboolean
is_ready (TakesPlayer *player)
{
  TakesPlayerState state = takes_player_get_state (player);

  return state == TAKES_PLAYER_STATE_ERROR
         || (state == TAKES_PLAYER_STATE_PAUSED && !takes_player_is_busy (player));
}

static void
frame_shown_cb (TakesPlayer *player, guint frame, gint64 due_us, gint64 lateness_us, Run *run)
{
  run->max_late_us = MAX (run->max_late_us, lateness_us);
  if (run->last_frame >= 0 && (int)frame < run->last_frame)
    {
      run->seams++;
      if (frame != 0 || lateness_us > (gint64)(TAKES_PLAYER_LATE_NS / 1000))
        run->bad_seams++;
    }
  run->last_frame = (int)frame;
}

static gboolean
run_one (Run *run, const char *const *paths, double seconds, GError **error)
{
  GtkWidget *window = gtk_window_new ();
  TakesPlayer *player = TAKES_PLAYER (takes_player_new ());
  gint64 start, end;
  double cpu_start;
  guint64 rendered_start, dropped_start, late_start;
  gulong handler;
  gboolean ok = TRUE;

  gtk_window_set_default_size (GTK_WINDOW (window), 1280, 800);
  gtk_window_set_child (GTK_WINDOW (window), GTK_WIDGET (player));
  gtk_window_present (GTK_WINDOW (window));
  takes_player_set_paths (player, paths);
  while (!is_ready (player))
    g_main_context_iteration (NULL, TRUE);
  if (takes_player_get_state (player) == TAKES_PLAYER_STATE_ERROR)
    {
      g_propagate_error (error, g_error_copy (takes_player_get_error (player)));
      ok = FALSE;
      goto out;
    }
  takes_player_set_loop (player, TRUE);
  while (!is_ready (player))
    g_main_context_iteration (NULL, TRUE);

  rendered_start = takes_player_get_rendered_frames (player);
  dropped_start = takes_player_get_dropped_frames (player);
  late_start = takes_player_get_late_frames (player);
  handler = g_signal_connect (player, "frame-shown", G_CALLBACK (frame_shown_cb), run);
  cpu_start = cpu_seconds ();
  start = g_get_monotonic_time ();
  end = start + (gint64)(seconds * G_USEC_PER_SEC);
  takes_player_play (player);
  while (g_get_monotonic_time () < end)
    g_main_context_iteration (NULL, TRUE);
  run->wall_s = (double)(g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  run->cpu_load = (cpu_seconds () - cpu_start) / run->wall_s / g_get_num_processors ();
  takes_player_pause (player);
  g_signal_handler_disconnect (player, handler);
  run->late = takes_player_get_late_frames (player) - late_start;
  run->shown = takes_player_get_rendered_frames (player) - rendered_start;
  run->dropped = takes_player_get_dropped_frames (player) - dropped_start;
  run->expected = (guint64)(run->wall_s * FPS);

out:
  gtk_window_destroy (GTK_WINDOW (window));
  return ok;
}

int
main (int argc, char **argv)
{
  double seconds = 30.0;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  char *clips_720[4] = { NULL };
  g_autofree char *clip_1080 = NULL;
  GOptionEntry entries[] = {
    { "seconds", 's', 0, G_OPTION_ARG_DOUBLE, &seconds, "Seconds each run plays (30)", "N" },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new ("- player playback benchmark");
  Run runs[] = {
    { "1 × 720p (peer)", 1, 1280, 720, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0 },
    { "4 × 720p compare grid", 4, 1280, 720, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0 },
    { "1 × 1080p", 1, 1920, 1080, 0, 0, 0, 0, 0, 0, 0, -1, 0, 0 },
  };

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (!gtk_init_check ())
    {
      g_printerr ("bench-player needs a display; run it under xvfb-run -a.\n");
      return 77;
    }
  dir = g_dir_make_tmp ("takes-bench-player-XXXXXX", &error);
  if (dir == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  g_print ("# making %d s clips at %d fps…\n", CLIP_SECONDS, FPS);
  for (int i = 0; i < 4; i++)
    {
      g_autofree char *name = g_strdup_printf ("take-%d.mp4", i);

      clips_720[i] = g_build_filename (dir, name, NULL);
      if (!make_clip (clips_720[i], 1280, 720, i, &error))
        break;
    }
  clip_1080 = g_build_filename (dir, "take-1080.mp4", NULL);
  if (error == NULL)
    make_clip (clip_1080, 1920, 1080, 0, &error);

  for (gsize r = 0; error == NULL && r < G_N_ELEMENTS (runs); r++)
    {
      const char *paths[5] = { NULL };

      for (guint i = 0; i < runs[r].n_sources; i++)
        paths[i] = runs[r].width == 1920 ? clip_1080 : clips_720[i];
      run_one (&runs[r], paths, seconds, &error);
    }
  for (int i = 0; i < 4; i++)
    {
      if (clips_720[i] != NULL)
        g_unlink (clips_720[i]);
      g_free (clips_720[i]);
    }
  g_unlink (clip_1080);
  g_rmdir (dir);
  if (error != NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }

  g_print ("%-24s %8s %8s %8s %8s %6s %12s %11s %10s %13s\n", "run", "seconds", "expected", "shown",
           "dropped", "late", "max late ms", "seams late", "cpu/core", "cpu ms/frame");
  for (gsize r = 0; r < G_N_ELEMENTS (runs); r++)
    {
      g_autofree char *seams = g_strdup_printf ("%u/%u", runs[r].bad_seams, runs[r].seams);

      g_print ("%-24s %8.1f %8" G_GUINT64_FORMAT " %8" G_GUINT64_FORMAT " %8" G_GUINT64_FORMAT
               " %6" G_GUINT64_FORMAT " %12.1f %11s %9.0f%% %13.1f\n",
               runs[r].name, runs[r].wall_s, runs[r].expected, runs[r].shown, runs[r].dropped, runs[r].late,
               runs[r].max_late_us / 1000.0, seams, 100.0 * runs[r].cpu_load,
               runs[r].shown > 0
                   ? 1000.0 * runs[r].cpu_load * runs[r].wall_s * g_get_num_processors () / runs[r].shown
                   : 0.0);
    }
  g_print ("4-way / 1-way CPU: %.2f×   1080p / 720p CPU: %.2f×   cores: %u\n",
           runs[0].cpu_load > 0 ? runs[1].cpu_load / runs[0].cpu_load : 0.0,
           runs[0].cpu_load > 0 ? runs[2].cpu_load / runs[0].cpu_load : 0.0, g_get_num_processors ());
  return 0;
}
