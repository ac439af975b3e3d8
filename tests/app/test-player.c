/* test-player.c: the player widget on real H.264 clips whose frames carry
 * their own numbers, under Xvfb. */
#include "config.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>
#include <math.h>

#include "player-test-util.h"
#include "takes-player.h"

#define N_FRAMES 48
#define WIDTH 320
#define HEIGHT 240
#define TIMEOUT_S 30.0

static char *tmp_dir;
static char *clip_path;

typedef struct
{
  GtkWidget *window;
  TakesPlayer *player;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  fixture->window = gtk_window_new ();
  fixture->player = TAKES_PLAYER (takes_player_new ());
  g_object_ref (fixture->player);
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 480, 400);
  gtk_window_set_child (GTK_WINDOW (fixture->window), GTK_WIDGET (fixture->player));
  gtk_window_present (GTK_WINDOW (fixture->window));
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  g_assert_finalize_object (fixture->player);
}

static gboolean
settled (gpointer data)
{
  TakesPlayer *player = data;
  TakesPlayerState state = takes_player_get_state (player);

  return state == TAKES_PLAYER_STATE_ERROR
         || ((state == TAKES_PLAYER_STATE_PAUSED || state == TAKES_PLAYER_STATE_PLAYING)
             && !takes_player_is_busy (player));
}

static void
wait_settled (TakesPlayer *player)
{
  g_assert_true (player_test_wait (settled, player, TIMEOUT_S));
  /* A prerolled frame's hand-over may follow the bus message. */
  for (int i = 0; i < 20; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static int
shown_frame (TakesPlayer *player)
{
  g_autoptr (GdkTexture) texture
      = takes_player_paintable_render (TAKES_PLAYER_PAINTABLE (takes_player_get_paintable (player)));

  g_assert_nonnull (texture);
  return player_test_read_barcode (texture, 0, 0, gdk_texture_get_width (texture),
                                   gdk_texture_get_height (texture));
}

static void
assert_on_frame (TakesPlayer *player, guint frame)
{
  g_assert_cmpuint (takes_player_get_frame (player), ==, frame);
  g_assert_cmpint (shown_frame (player), ==, (int)frame);
}

static void
open_clip (Fixture *fixture)
{
  takes_player_set_path (fixture->player, clip_path);
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_LOADING);
  wait_settled (fixture->player);
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_PAUSED);
  g_assert_cmpuint (takes_player_get_n_frames (fixture->player), ==, N_FRAMES);
}

static void
test_open_first_frame (Fixture *fixture, gconstpointer data)
{
  int fps_n = 0, fps_d = 0;

  open_clip (fixture);
  takes_player_get_framerate (fixture->player, &fps_n, &fps_d);
  g_assert_cmpint (fps_n, ==, 24);
  g_assert_cmpint (fps_d, ==, 1);
  assert_on_frame (fixture->player, 0);
  g_assert_cmpstr (takes_player_get_path (fixture->player), ==, clip_path);
  g_assert_null (takes_player_get_error (fixture->player));
}

static void
test_seek_exact (Fixture *fixture, gconstpointer data)
{
  static const guint targets[] = { 17, 0, 47, 23, 1, 46 };

  open_clip (fixture);
  for (gsize i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      takes_player_seek_frame (fixture->player, targets[i]);
      wait_settled (fixture->player);
      assert_on_frame (fixture->player, targets[i]);
    }
  /* Past the end lands on the last frame. */
  takes_player_seek_frame (fixture->player, 500);
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, N_FRAMES - 1);
}

static void
test_step (Fixture *fixture, gconstpointer data)
{
  open_clip (fixture);
  takes_player_seek_frame (fixture->player, 20);
  wait_settled (fixture->player);
  takes_player_step (fixture->player, 1);
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, 21);
  takes_player_step (fixture->player, -1);
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, 20);

  /* Steps given faster than seeks finish all count. */
  takes_player_step (fixture->player, -1);
  takes_player_step (fixture->player, -1);
  takes_player_step (fixture->player, -1);
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, 17);

  /* The keys: '.' forward, ',' back. */
  gtk_widget_activate_action (GTK_WIDGET (fixture->player), "player.step-forward", NULL);
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, 18);
  gtk_widget_activate_action (GTK_WIDGET (fixture->player), "player.step-back", NULL);
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, 17);

  /* Clamped at both ends. */
  takes_player_seek_frame (fixture->player, 0);
  wait_settled (fixture->player);
  takes_player_step (fixture->player, -1);
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, 0);
  takes_player_seek_frame (fixture->player, N_FRAMES - 1);
  wait_settled (fixture->player);
  takes_player_step (fixture->player, 1);
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, N_FRAMES - 1);
}

static gboolean
past_frame_30 (gpointer data)
{
  return takes_player_get_frame (data) >= 30;
}

static gboolean
before_frame_30 (gpointer data)
{
  return takes_player_get_frame (data) < 30;
}

static gboolean
stopped_at_end (gpointer data)
{
  return takes_player_get_state (data) == TAKES_PLAYER_STATE_PAUSED;
}

static void
test_play_pause (Fixture *fixture, gconstpointer data)
{
  guint frame;

  open_clip (fixture);
  takes_player_play (fixture->player);
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_PLAYING);
  g_assert_true (player_test_wait (past_frame_30, fixture->player, TIMEOUT_S));
  takes_player_pause (fixture->player);
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_PAUSED);
  wait_settled (fixture->player);
  frame = takes_player_get_frame (fixture->player);
  g_assert_cmpuint (frame, >=, 30);
  assert_on_frame (fixture->player, frame);

  /* Without a loop, playing stops on the last frame. */
  takes_player_play (fixture->player);
  g_assert_true (player_test_wait (stopped_at_end, fixture->player, TIMEOUT_S));
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, N_FRAMES - 1);
  g_assert_cmpuint (takes_player_get_rendered_frames (fixture->player), >=, N_FRAMES - 30);

  /* Play at the end starts again from the first frame. */
  gtk_widget_activate_action (GTK_WIDGET (fixture->player), "player.play-pause", NULL);
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_PLAYING);
  takes_player_pause (fixture->player);
  wait_settled (fixture->player);
  g_assert_true (player_test_wait (before_frame_30, fixture->player, TIMEOUT_S));
  assert_on_frame (fixture->player, takes_player_get_frame (fixture->player));
}

typedef struct
{
  TakesPlayer *player;
  guint last;
  guint wraps;
  guint lowest, highest;
} LoopWatch;

static void
loop_frame_cb (GObject *object, GParamSpec *pspec, LoopWatch *watch)
{
  guint frame = takes_player_get_frame (watch->player);

  if (frame < watch->last)
    watch->wraps++;
  watch->last = frame;
  watch->lowest = MIN (watch->lowest, frame);
  watch->highest = MAX (watch->highest, frame);
}

static gboolean
wrapped_twice (gpointer data)
{
  LoopWatch *watch = data;

  return watch->wraps >= 2;
}

static void
test_loop_range (Fixture *fixture, gconstpointer data)
{
  LoopWatch watch = { fixture->player, 0, 0, G_MAXUINT, 0 };
  guint in_frame = 0, out_frame = 0;
  gulong handler;

  open_clip (fixture);
  takes_player_set_loop_range (fixture->player, 10, 20);
  g_assert_true (takes_player_get_loop_range (fixture->player, &in_frame, &out_frame));
  g_assert_cmpuint (in_frame, ==, 10);
  g_assert_cmpuint (out_frame, ==, 20);
  takes_player_set_loop (fixture->player, TRUE);
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, 10);

  handler = g_signal_connect (fixture->player, "notify::frame", G_CALLBACK (loop_frame_cb), &watch);
  watch.last = takes_player_get_frame (fixture->player);
  takes_player_play (fixture->player);
  g_assert_true (player_test_wait (wrapped_twice, &watch, TIMEOUT_S));
  g_signal_handler_disconnect (fixture->player, handler);
  takes_player_pause (fixture->player);
  g_assert_cmpuint (watch.lowest, >=, 10);
  g_assert_cmpuint (watch.highest, ==, 20);

  /* Steps stay inside the range. */
  wait_settled (fixture->player);
  takes_player_seek_frame (fixture->player, 20);
  wait_settled (fixture->player);
  takes_player_step (fixture->player, 1);
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, 20);

  takes_player_clear_loop_range (fixture->player);
  g_assert_false (takes_player_get_loop_range (fixture->player, NULL, NULL));
  wait_settled (fixture->player);
  takes_player_step (fixture->player, 1);
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, 21);
}

static void
test_whole_loop (Fixture *fixture, gconstpointer data)
{
  LoopWatch watch = { fixture->player, 0, 0, G_MAXUINT, 0 };
  gulong handler;

  open_clip (fixture);
  takes_player_set_loop (fixture->player, TRUE);
  takes_player_seek_frame (fixture->player, 40);
  wait_settled (fixture->player);
  handler = g_signal_connect (fixture->player, "notify::frame", G_CALLBACK (loop_frame_cb), &watch);
  watch.last = takes_player_get_frame (fixture->player);
  takes_player_play (fixture->player);
  g_assert_true (player_test_wait (wrapped_twice, &watch, TIMEOUT_S));
  g_signal_handler_disconnect (fixture->player, handler);
  /* The last frames reach the screen before the loop starts again (a frame
   * may be dropped on a busy machine, never the decoder's last few). */
  g_assert_cmpuint (watch.highest, >=, N_FRAMES - 2);
  g_assert_cmpuint (watch.lowest, <=, 2);
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_PLAYING);
  takes_player_pause (fixture->player);
  wait_settled (fixture->player);
}

typedef struct
{
  GArray *frames;    /* guint: every frame shown while playing, in order */
  GArray *due;       /* gint64: the running time each was due at, µs */
  GArray *lateness;  /* gint64: how late each reached the sink, µs */
  guint first, last; /* the loop */
  guint wraps;
  guint n_mismatch; /* frames whose picture carried another number */
} SeamWatch;

static void
seam_frame_cb (TakesPlayer *player, guint frame, gint64 due_us, gint64 lateness_us, SeamWatch *watch)
{
  if (watch->frames->len > 0 && frame < g_array_index (watch->frames, guint, watch->frames->len - 1))
    watch->wraps++;
  if (takes_player_paintable_get_texture (TAKES_PLAYER_PAINTABLE (takes_player_get_paintable (player)))
          == NULL
      || shown_frame (player) != (int)frame)
    watch->n_mismatch++;
  g_array_append_val (watch->frames, frame);
  g_array_append_val (watch->due, due_us);
  g_array_append_val (watch->lateness, lateness_us);
}

static gboolean
seam_wrapped_thrice (gpointer data)
{
  SeamWatch *watch = data;

  return watch->wraps >= 3;
}

/* Plays three times round the loop and checks what reached the screen: the
 * frames of the loop in order (by the number each picture carries and the
 * player reports), nothing outside it, and each due on the pipeline clock
 * one frame period per frame after the one before, across the seam too.
 * A frame may go unshown only when the player counts it dropped (the main
 * loop was held up, which a busy machine does). The first frame of each
 * pass must reach the sink before the next frame is due, unless the run
 * dropped frames: a machine too busy with other work for that makes every
 * frame late, the seam's with the rest. */
static void
play_loop_and_check (Fixture *fixture, guint first, guint last)
{
  SeamWatch watch = { g_array_new (FALSE, FALSE, sizeof (guint)),
                      g_array_new (FALSE, FALSE, sizeof (gint64)),
                      g_array_new (FALSE, FALSE, sizeof (gint64)),
                      first,
                      last,
                      0,
                      0 };
  double period_us = 1e6 / 24.0 / fabs (takes_player_get_rate (fixture->player));
  guint64 dropped = takes_player_get_dropped_frames (fixture->player);
  guint skipped = 0, worst_frame = 0;
  gulong handler;
  gint64 worst = 0, worst_seam = 0;

  handler = g_signal_connect (fixture->player, "frame-shown", G_CALLBACK (seam_frame_cb), &watch);
  takes_player_play (fixture->player);
  g_assert_true (player_test_wait (seam_wrapped_thrice, &watch, TIMEOUT_S));
  g_signal_handler_disconnect (fixture->player, handler);
  takes_player_pause (fixture->player);
  dropped = takes_player_get_dropped_frames (fixture->player) - dropped;
  wait_settled (fixture->player);

  for (guint i = 0; i < watch.frames->len; i++)
    {
      guint frame = g_array_index (watch.frames, guint, i);
      gint64 late = g_array_index (watch.lateness, gint64, i);

      g_assert_cmpuint (frame, >=, first);
      g_assert_cmpuint (frame, <=, last);
      if (i > 0)
        {
          guint previous = g_array_index (watch.frames, guint, i - 1);
          guint advance = frame > previous ? frame - previous : frame - first + last - previous + 1;
          gint64 step = g_array_index (watch.due, gint64, i) - g_array_index (watch.due, gint64, i - 1);

          if (advance != 1 || fabs ((double)step - advance * period_us) > 1000.0)
            g_test_message ("frame %u (due %.1f ms after frame %u) came %u of %u, %.1f ms late", frame,
                            step / 1000.0, previous, i, watch.frames->len, late / 1000.0);
          g_assert_cmpfloat (fabs ((double)step - advance * period_us), <=, 1000.0);
          skipped += advance - 1;
          if (frame <= previous)
            worst_seam = MAX (worst_seam, late);
        }
      if (late > worst)
        {
          worst = late;
          worst_frame = frame;
        }
    }
  g_test_message ("%u frames shown over %u loops of %u–%u, %u skipped and %" G_GUINT64_FORMAT
                  " dropped, the latest (frame %u) %.1f ms after its time, the latest after a seam %.1f ms",
                  watch.frames->len, watch.wraps, first, last, skipped, dropped, worst_frame, worst / 1000.0,
                  worst_seam / 1000.0);
  g_assert_cmpuint (skipped, <=, dropped);
  g_assert_cmpuint (watch.n_mismatch, ==, 0);
  if (dropped == 0)
    g_assert_cmpfloat ((double)worst_seam, <, period_us);
  g_array_unref (watch.frames);
  g_array_unref (watch.due);
  g_array_unref (watch.lateness);
}

static void
test_loop_seam_whole (Fixture *fixture, gconstpointer data)
{
  open_clip (fixture);
  takes_player_set_loop (fixture->player, TRUE);
  wait_settled (fixture->player);
  play_loop_and_check (fixture, 0, N_FRAMES - 1);
  assert_on_frame (fixture->player, takes_player_get_frame (fixture->player));
}

static void
test_loop_seam_range (Fixture *fixture, gconstpointer data)
{
  open_clip (fixture);
  takes_player_set_loop_range (fixture->player, 13, 29);
  takes_player_set_loop (fixture->player, TRUE);
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, 13);
  play_loop_and_check (fixture, 13, 29);

  /* Steps and seeks still land exactly, inside the range. */
  takes_player_seek_frame (fixture->player, 29);
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, 29);
  takes_player_step (fixture->player, -1);
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, 28);
  takes_player_step (fixture->player, 5);
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, 29);

  /* At double speed too. */
  takes_player_set_rate (fixture->player, 2.0);
  takes_player_seek_frame (fixture->player, 13);
  wait_settled (fixture->player);
  play_loop_and_check (fixture, 13, 29);
}

static void
test_shuttle (Fixture *fixture, gconstpointer data)
{
  open_clip (fixture);
  takes_player_seek_frame (fixture->player, 24);
  wait_settled (fixture->player);

  gtk_widget_activate_action (GTK_WIDGET (fixture->player), "player.shuttle-forward", NULL);
  g_assert_cmpfloat (takes_player_get_rate (fixture->player), ==, 1.0);
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_PLAYING);
  gtk_widget_activate_action (GTK_WIDGET (fixture->player), "player.shuttle-forward", NULL);
  g_assert_cmpfloat (takes_player_get_rate (fixture->player), ==, 2.0);
  gtk_widget_activate_action (GTK_WIDGET (fixture->player), "player.shuttle-forward", NULL);
  g_assert_cmpfloat (takes_player_get_rate (fixture->player), ==, TAKES_PLAYER_MAX_RATE);

  gtk_widget_activate_action (GTK_WIDGET (fixture->player), "player.shuttle-stop", NULL);
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_PAUSED);
  g_assert_cmpfloat (takes_player_get_rate (fixture->player), ==, 1.0);
  wait_settled (fixture->player);

  /* J plays backwards: the frame number goes down. */
  {
    guint start = takes_player_get_frame (fixture->player);

    gtk_widget_activate_action (GTK_WIDGET (fixture->player), "player.shuttle-back", NULL);
    g_assert_cmpfloat (takes_player_get_rate (fixture->player), ==, -1.0);
    g_usleep (300 * 1000);
    for (int i = 0; i < 200 && takes_player_get_frame (fixture->player) + 2 > start; i++)
      {
        g_main_context_iteration (NULL, FALSE);
        g_usleep (5000);
      }
    g_assert_cmpuint (takes_player_get_frame (fixture->player) + 2, <=, start);
    takes_player_shuttle (fixture->player, 0);
    wait_settled (fixture->player);
    assert_on_frame (fixture->player, takes_player_get_frame (fixture->player));
  }

  /* Speeds are clamped to the supported range. */
  takes_player_set_rate (fixture->player, 10.0);
  g_assert_cmpfloat (takes_player_get_rate (fixture->player), ==, TAKES_PLAYER_MAX_RATE);
  takes_player_set_rate (fixture->player, 0.01);
  g_assert_cmpfloat (takes_player_get_rate (fixture->player), ==, TAKES_PLAYER_MIN_RATE);
  wait_settled (fixture->player);
}

static void
test_zoom (Fixture *fixture, gconstpointer data)
{
  GdkPaintable *paintable;

  open_clip (fixture);
  g_assert_true (takes_player_get_zoom_fit (fixture->player));
  takes_player_set_zoom_fit (fixture->player, FALSE);
  g_assert_false (takes_player_get_zoom_fit (fixture->player));
  paintable = takes_player_get_paintable (fixture->player);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (paintable), ==, WIDTH);
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (paintable), ==, HEIGHT);
  takes_player_set_zoom_fit (fixture->player, TRUE);
  takes_player_seek_frame (fixture->player, 12);
  wait_settled (fixture->player);
  player_test_screenshot (fixture->window, "player.png");
}

static gboolean
texture_is_full_size (gpointer data)
{
  GdkTexture *texture = takes_player_paintable_get_texture (TAKES_PLAYER_PAINTABLE (data));

  return texture != NULL && gdk_texture_get_width (texture) == WIDTH;
}

static void
test_converts_to_shown_size (Fixture *fixture, gconstpointer data)
{
  GdkPaintable *paintable = takes_player_get_paintable (fixture->player);
  GdkTexture *texture;

  /* A window much smaller than the take: frames come at about the size they
   * are drawn at, and the picture keeps the take's own size. */
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 160, 200);
  open_clip (fixture);
  takes_player_seek_frame (fixture->player, 9);
  wait_settled (fixture->player);
  texture = takes_player_paintable_get_texture (TAKES_PLAYER_PAINTABLE (paintable));
  g_assert_nonnull (texture);
  g_test_message ("picture %d×%d, frames %d×%d", gtk_widget_get_width (GTK_WIDGET (fixture->player)),
                  gtk_widget_get_height (GTK_WIDGET (fixture->player)), gdk_texture_get_width (texture),
                  gdk_texture_get_height (texture));
  g_assert_cmpint (gdk_texture_get_width (texture), <, WIDTH);
  g_assert_cmpint (gdk_texture_get_width (texture) % 64, ==, 0);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (paintable), ==, WIDTH);
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (paintable), ==, HEIGHT);
  assert_on_frame (fixture->player, 9);

  /* Actual size asks for every pixel again, on the same frame. */
  takes_player_set_zoom_fit (fixture->player, FALSE);
  g_assert_true (player_test_wait (texture_is_full_size, paintable, TIMEOUT_S));
  wait_settled (fixture->player);
  assert_on_frame (fixture->player, 9);

  /* Playing on, frames keep coming at the size in use. */
  takes_player_set_zoom_fit (fixture->player, TRUE);
  takes_player_play (fixture->player);
  g_assert_true (player_test_wait (past_frame_30, fixture->player, TIMEOUT_S));
  takes_player_pause (fixture->player);
  wait_settled (fixture->player);
  texture = takes_player_paintable_get_texture (TAKES_PLAYER_PAINTABLE (paintable));
  g_assert_cmpint (gdk_texture_get_width (texture), <, WIDTH);
  assert_on_frame (fixture->player, takes_player_get_frame (fixture->player));
}

static void
test_missing_file (Fixture *fixture, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (tmp_dir, "no-such-take.mp4", NULL);
  const GError *error;

  takes_player_set_path (fixture->player, missing);
  g_assert_true (player_test_wait (settled, fixture->player, TIMEOUT_S));
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_ERROR);
  error = takes_player_get_error (fixture->player);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_UNREADABLE);
  g_assert_nonnull (strstr (error->message, "no-such-take.mp4"));
  g_assert_null (takes_player_paintable_get_texture (
      TAKES_PLAYER_PAINTABLE (takes_player_get_paintable (fixture->player))));
  /* The controls do nothing in the error state. */
  takes_player_play (fixture->player);
  takes_player_step (fixture->player, 1);
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_ERROR);
  player_test_screenshot (fixture->window, "player-error.png");

  /* A good file afterwards plays again. */
  open_clip (fixture);
  assert_on_frame (fixture->player, 0);
}

static void
test_corrupt_file (Fixture *fixture, gconstpointer data)
{
  g_autofree char *text = g_build_filename (tmp_dir, "text.mp4", NULL);
  g_autofree char *truncated = g_build_filename (tmp_dir, "truncated.mp4", NULL);
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_set_contents (text, "this is not a video, only text\n", -1, NULL));
  takes_player_set_path (fixture->player, text);
  g_assert_true (player_test_wait (settled, fixture->player, TIMEOUT_S));
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_ERROR);
  g_assert_error (takes_player_get_error (fixture->player), TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO);

  g_assert_true (g_file_get_contents (clip_path, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (truncated, contents, (gssize)(length / 3), NULL));
  takes_player_set_path (fixture->player, truncated);
  g_assert_true (player_test_wait (settled, fixture->player, TIMEOUT_S));
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_ERROR);
  g_assert_nonnull (takes_player_get_error (fixture->player));
}

static void
test_empty (Fixture *fixture, gconstpointer data)
{
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_EMPTY);
  open_clip (fixture);
  takes_player_set_path (fixture->player, NULL);
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_EMPTY);
  g_assert_null (takes_player_get_path (fixture->player));
  g_assert_cmpuint (takes_player_get_n_frames (fixture->player), ==, 0);
}

static void
test_timecode (void)
{
  g_autofree char *a = takes_player_format_timecode (0, 24, 1);
  g_autofree char *b = takes_player_format_timecode (24 * 3661 + 5, 24, 1);
  g_autofree char *c = takes_player_format_timecode (31, 30000, 1001);

  g_assert_cmpstr (a, ==, "00:00:00:00");
  g_assert_cmpstr (b, ==, "01:01:01:05");
  g_assert_cmpstr (c, ==, "00:00:01:01");
}

static void
add (const char *path, void (*func) (Fixture *, gconstpointer))
{
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down);
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  int status;

  gtk_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("takes-test-player-XXXXXX", &error);
  g_assert_no_error (error);
  clip_path = g_build_filename (tmp_dir, "clip.mp4", NULL);
  g_assert_true (player_test_make_clip (clip_path, WIDTH, HEIGHT, 24, N_FRAMES, &error));
  g_assert_no_error (error);

  g_test_add_func ("/player/timecode/hours-minutes-seconds-frames", test_timecode);
  add ("/player/open/paused-on-first-frame", test_open_first_frame);
  add ("/player/open/empty-path-empties", test_empty);
  add ("/player/seek/lands-on-exact-frame", test_seek_exact);
  add ("/player/step/forward-and-back-exact", test_step);
  add ("/player/play/pause-and-stop-at-end", test_play_pause);
  add ("/player/loop/in-out-range", test_loop_range);
  add ("/player/loop/whole-take", test_whole_loop);
  add ("/player/loop/seam-whole-take-in-order-on-time", test_loop_seam_whole);
  add ("/player/loop/seam-in-out-range-in-order-on-time", test_loop_seam_range);
  add ("/player/shuttle/jkl", test_shuttle);
  add ("/player/zoom/fit-and-actual-size", test_zoom);
  add ("/player/zoom/converts-to-shown-size", test_converts_to_shown_size);
  add ("/player/error/missing-file", test_missing_file);
  add ("/player/error/corrupt-file", test_corrupt_file);
  status = g_test_run ();

  for (const char *const *name = (const char *const[]){ "clip.mp4", "text.mp4", "truncated.mp4", NULL };
       *name != NULL; name++)
    {
      g_autofree char *path = g_build_filename (tmp_dir, *name, NULL);

      g_unlink (path);
    }
  g_rmdir (tmp_dir);
  g_free (clip_path);
  g_free (tmp_dir);
  return status;
}
