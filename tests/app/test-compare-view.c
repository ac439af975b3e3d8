/* test-compare-view.c: two takes composited in one pipeline stay on the same
 * frame through seeks, steps and play; the views, the recipe table and the
 * verdict keys, under Xvfb. */
#include "config.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "player-test-util.h"
#include "takes-compare-view.h"

#define N_FRAMES 48
#define TIMEOUT_S 30.0

typedef struct
{
  char *dir;
  TakesStore *store;
  gint64 take_ids[3];
  gint64 batch_id;
  GtkWidget *window;
  TakesCompareView *view;
  TakesPlayer *player;
} Fixture;

static gint64
add_take (
    Fixture *fixture, const char *name, int width, int height, int fps, gint64 seed, const char *sampler)
{
  g_autofree char *path = g_build_filename (fixture->dir, name, NULL);
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (player_test_make_clip (path, width, height, fps, N_FRAMES, &error));
  g_assert_no_error (error);
  takes_recipe_set_prompt (recipe, "a lighthouse at dusk, slow dolly in");
  takes_recipe_set_width (recipe, (guint)width);
  takes_recipe_set_height (recipe, (guint)height);
  takes_recipe_set_fps (recipe, (guint)fps);
  takes_recipe_set_seed (recipe, seed);
  takes_recipe_set_sampler (recipe, sampler);
  take = takes_take_new (recipe);
  takes_take_set_status (take, TAKES_TAKE_STATUS_DONE);
  takes_take_set_batch_id (take, fixture->batch_id);
  g_assert_true (takes_store_add_take (fixture->store, take, path, TAKES_MEDIA_MOVE, &error));
  g_assert_no_error (error);
  return takes_take_get_id (take);
}

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatch) batch = NULL;

  fixture->dir = g_dir_make_tmp ("takes-test-compare-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->store = takes_store_open (fixture->dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  batch = takes_store_create_batch (fixture->store, takes_store_get_default_project (fixture->store), "ab",
                                    "a lighthouse", NULL, &error);
  g_assert_no_error (error);
  fixture->batch_id = batch->id;
  /* B is a quarter of A's size; it is scaled up into its cell. */
  fixture->take_ids[0] = add_take (fixture, "a.mp4", 320, 240, 24, 7, "unipc");
  fixture->take_ids[1] = add_take (fixture, "b.mp4", 160, 120, 24, 8, "unipc");
  fixture->take_ids[2] = add_take (fixture, "c.mp4", 320, 240, 24, 9, "euler");

  fixture->window = gtk_window_new ();
  fixture->view = TAKES_COMPARE_VIEW (takes_compare_view_new ());
  g_object_ref (fixture->view);
  fixture->player = takes_compare_view_get_player (fixture->view);
  takes_compare_view_set_store (fixture->view, fixture->store);
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 900, 500);
  gtk_window_set_child (GTK_WINDOW (fixture->window), GTK_WIDGET (fixture->view));
  gtk_window_present (GTK_WINDOW (fixture->window));
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  g_assert_finalize_object (fixture->view);
  g_assert_finalize_object (fixture->store);
  player_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
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
  for (int i = 0; i < 20; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
show_pair (Fixture *fixture)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (takes_compare_view_set_takes (fixture->view, fixture->take_ids, 2, &error));
  g_assert_no_error (error);
  wait_settled (fixture->player);
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_PAUSED);
}

/* Reads the frame number in every cell of the composited frame. */
static void
assert_cells_on_frame (Fixture *fixture, guint n_cells, guint frame)
{
  GdkTexture *texture = takes_player_paintable_get_texture (
      TAKES_PLAYER_PAINTABLE (takes_player_get_paintable (fixture->player)));
  int cw, ch;

  g_assert_nonnull (texture);
  cw = gdk_texture_get_width (texture) / 2;
  ch = gdk_texture_get_height (texture) / (n_cells > 2 ? 2 : 1);
  g_assert_cmpuint (takes_player_get_frame (fixture->player), ==, frame);
  for (guint i = 0; i < n_cells; i++)
    g_assert_cmpint (player_test_read_barcode (texture, (int)(i % 2) * cw, (int)(i / 2) * ch, cw, ch), ==,
                     (int)frame);
}

static void
test_same_frame_after_seek_and_step (Fixture *fixture, gconstpointer data)
{
  static const guint targets[] = { 17, 3, 47, 30 };

  show_pair (fixture);
  assert_cells_on_frame (fixture, 2, 0);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (takes_player_get_paintable (fixture->player)), ==, 640);
  for (gsize i = 0; i < G_N_ELEMENTS (targets); i++)
    {
      takes_player_seek_frame (fixture->player, targets[i]);
      wait_settled (fixture->player);
      assert_cells_on_frame (fixture, 2, targets[i]);
    }
  takes_player_step (fixture->player, -1);
  wait_settled (fixture->player);
  assert_cells_on_frame (fixture, 2, 29);
  takes_player_step (fixture->player, 1);
  takes_player_step (fixture->player, 1);
  wait_settled (fixture->player);
  assert_cells_on_frame (fixture, 2, 31);

  /* And after playing for a while. */
  takes_player_seek_frame (fixture->player, 0);
  wait_settled (fixture->player);
  takes_player_play (fixture->player);
  g_usleep (400 * 1000);
  for (int i = 0; i < 100; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  takes_player_pause (fixture->player);
  wait_settled (fixture->player);
  g_assert_cmpuint (takes_player_get_frame (fixture->player), >, 0);
  assert_cells_on_frame (fixture, 2, takes_player_get_frame (fixture->player));
  player_test_screenshot (fixture->window, "compare-view.png");
}

static gboolean
wrapped_twice (gpointer data)
{
  guint *state = data; /* last frame, wraps */

  return state[1] >= 2;
}

static void
loop_frame_cb (GObject *object, GParamSpec *pspec, guint *state)
{
  guint frame = takes_player_get_frame (TAKES_PLAYER (object));

  if (frame < state[0])
    state[1]++;
  state[0] = frame;
}

static void
test_loop_keeps_playing (Fixture *fixture, gconstpointer data)
{
  guint state[2] = { 0, 0 };
  gulong handler;

  show_pair (fixture);
  takes_player_set_loop (fixture->player, TRUE);
  takes_player_seek_frame (fixture->player, 40);
  wait_settled (fixture->player);
  state[0] = takes_player_get_frame (fixture->player);
  handler = g_signal_connect (fixture->player, "notify::frame", G_CALLBACK (loop_frame_cb), state);
  takes_player_play (fixture->player);
  g_assert_true (player_test_wait (wrapped_twice, state, TIMEOUT_S));
  g_signal_handler_disconnect (fixture->player, handler);
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_PLAYING);
  takes_player_pause (fixture->player);
  wait_settled (fixture->player);
  assert_cells_on_frame (fixture, 2, takes_player_get_frame (fixture->player));
}

/* What every frame shown while playing carried, read from its cells as it
 * arrived. */
typedef struct
{
  Fixture *fixture;
  guint n_cells;
  guint n_frames;   /* frames seen */
  guint n_unequal;  /* frames whose cells showed different numbers */
  guint n_mismatch; /* frames whose number was not the player's frame */
  guint n_outside;  /* frames outside [lowest_allowed, highest_allowed] */
  guint n_rises;    /* frames with a higher number than the one before */
  guint wraps;      /* frames with a lower number than the one before */
  int last;
  guint lowest_allowed, highest_allowed;
  guint lowest, highest;
} Watch;

static void
watch_init (Watch *watch, Fixture *fixture, guint n_cells, guint lowest_allowed, guint highest_allowed)
{
  *watch = (Watch){ fixture, n_cells, 0, 0, 0, 0, 0, 0, -1, lowest_allowed, highest_allowed, G_MAXUINT, 0 };
}

static void
watch_frame_cb (GObject *object, GParamSpec *pspec, Watch *watch)
{
  GdkTexture *texture = takes_player_paintable_get_texture (
      TAKES_PLAYER_PAINTABLE (takes_player_get_paintable (watch->fixture->player)));
  guint frame = takes_player_get_frame (watch->fixture->player);
  int cw, ch, first;

  if (texture == NULL)
    return;
  cw = gdk_texture_get_width (texture) / 2;
  ch = gdk_texture_get_height (texture) / (watch->n_cells > 2 ? 2 : 1);
  first = player_test_read_barcode (texture, 0, 0, cw, ch);
  for (guint i = 1; i < watch->n_cells; i++)
    if (player_test_read_barcode (texture, (int)(i % 2) * cw, (int)(i / 2) * ch, cw, ch) != first)
      watch->n_unequal++;
  if (first != (int)frame)
    watch->n_mismatch++;
  if (frame < watch->lowest_allowed || frame > watch->highest_allowed)
    watch->n_outside++;
  if (watch->last >= 0 && (int)frame > watch->last)
    watch->n_rises++;
  if (watch->last >= 0 && (int)frame < watch->last)
    watch->wraps++;
  watch->last = (int)frame;
  watch->lowest = MIN (watch->lowest, frame);
  watch->highest = MAX (watch->highest, frame);
  watch->n_frames++;
}

static gboolean
watched_to_frame_12 (gpointer data)
{
  Watch *watch = data;

  return watch->n_frames > 0 && watch->last <= 12;
}

static void
test_reverse_keeps_sides_equal (Fixture *fixture, gconstpointer data)
{
  Watch watch;
  gulong handler;

  show_pair (fixture);
  takes_player_seek_frame (fixture->player, 40);
  wait_settled (fixture->player);
  watch_init (&watch, fixture, 2, 0, N_FRAMES - 1);
  handler = g_signal_connect (fixture->player, "notify::frame", G_CALLBACK (watch_frame_cb), &watch);

  /* J plays the pair backwards: every frame shown is lower than the one
   * before, and both takes show it. */
  gtk_widget_activate_action (GTK_WIDGET (fixture->player), "player.shuttle-back", NULL);
  g_assert_cmpfloat (takes_player_get_rate (fixture->player), ==, -1.0);
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_PLAYING);
  g_assert_true (player_test_wait (watched_to_frame_12, &watch, TIMEOUT_S));
  g_signal_handler_disconnect (fixture->player, handler);
  g_test_message ("reverse: %u frames from 40 down to %d", watch.n_frames, watch.last);
  g_assert_cmpuint (watch.n_frames, >=, 5);
  g_assert_cmpuint (watch.n_rises, ==, 0);
  g_assert_cmpuint (watch.n_unequal, ==, 0);
  g_assert_cmpuint (watch.n_mismatch, ==, 0);
  g_assert_cmpuint (watch.highest, <=, 40);

  /* K stops on a frame both sides show. */
  gtk_widget_activate_action (GTK_WIDGET (fixture->player), "player.shuttle-stop", NULL);
  g_assert_cmpfloat (takes_player_get_rate (fixture->player), ==, 1.0);
  wait_settled (fixture->player);
  assert_cells_on_frame (fixture, 2, takes_player_get_frame (fixture->player));
}

static gboolean
watched_two_wraps (gpointer data)
{
  Watch *watch = data;

  return watch->wraps >= 2;
}

static void
test_loop_range_in_step (Fixture *fixture, gconstpointer data)
{
  Watch watch;
  gulong handler;

  show_pair (fixture);
  takes_player_set_loop_range (fixture->player, 10, 20);
  takes_player_set_loop (fixture->player, TRUE);
  wait_settled (fixture->player);
  assert_cells_on_frame (fixture, 2, 10);
  watch_init (&watch, fixture, 2, 10, 20);
  handler = g_signal_connect (fixture->player, "notify::frame", G_CALLBACK (watch_frame_cb), &watch);
  takes_player_play (fixture->player);
  g_assert_true (player_test_wait (watched_two_wraps, &watch, TIMEOUT_S));
  g_signal_handler_disconnect (fixture->player, handler);
  g_test_message ("loop: %u frames, %u wraps", watch.n_frames, watch.wraps);
  /* Never a frame outside the range, and the sides never apart. */
  g_assert_cmpuint (watch.n_outside, ==, 0);
  g_assert_cmpuint (watch.n_unequal, ==, 0);
  g_assert_cmpuint (watch.n_mismatch, ==, 0);
  g_assert_cmpuint (watch.highest, ==, 20);
  g_assert_cmpint (takes_player_get_state (fixture->player), ==, TAKES_PLAYER_STATE_PLAYING);

  /* Backwards, the range loops from its end. */
  watch_init (&watch, fixture, 2, 10, 20);
  handler = g_signal_connect (fixture->player, "notify::frame", G_CALLBACK (watch_frame_cb), &watch);
  takes_player_set_rate (fixture->player, -1.0);
  g_assert_true (player_test_wait (watched_two_wraps, &watch, TIMEOUT_S));
  g_signal_handler_disconnect (fixture->player, handler);
  g_assert_cmpuint (watch.n_outside, ==, 0);
  g_assert_cmpuint (watch.n_unequal, ==, 0);
  g_assert_cmpuint (watch.n_mismatch, ==, 0);
  takes_player_pause (fixture->player);
  wait_settled (fixture->player);
}

typedef struct
{
  guint n_frames, wraps, n_skips;
  int last;
  gint64 last_due, worst_step_error, worst_late, worst_seam_late;
} SeamWatch;

static void
seam_frame_cb (TakesPlayer *player, guint frame, gint64 due_us, gint64 lateness_us, SeamWatch *seam)
{
  double period_us = 1e6 / 24.0;

  if (seam->last >= 0)
    {
      guint advance
          = (int)frame > seam->last ? frame - (guint)seam->last : frame + N_FRAMES - (guint)seam->last;
      gint64 error = ABS (due_us - seam->last_due - (gint64)(advance * period_us));

      if (advance != 1)
        {
          g_test_message ("frame %u followed frame %d", frame, seam->last);
          seam->n_skips += advance - 1;
        }
      if ((int)frame < seam->last)
        {
          seam->wraps++;
          seam->worst_seam_late = MAX (seam->worst_seam_late, lateness_us);
        }
      seam->worst_step_error = MAX (seam->worst_step_error, error);
    }
  seam->worst_late = MAX (seam->worst_late, lateness_us);
  seam->last = (int)frame;
  seam->last_due = due_us;
  seam->n_frames++;
}

static gboolean
seam_wrapped_thrice (gpointer data)
{
  SeamWatch *seam = data;

  return seam->wraps >= 3;
}

/* Each take of the pair loops on its own, sent back by its demuxer before
 * its last frame is shown: over three loops the frames come in order, each
 * due one frame period per frame after the one before, the seam included,
 * the first of each pass reaching the sink before the next is due (unless
 * the run dropped frames: a machine too busy with other work for that makes
 * every frame late), and both sides always equal. A frame may go unshown
 * only when the player counts it dropped (the main loop was held up). */
static void
test_loop_seam (Fixture *fixture, gconstpointer data)
{
  SeamWatch seam = { 0, 0, 0, -1, 0, 0, 0, 0 };
  Watch watch;
  gulong handler, seam_handler;
  guint64 dropped;

  show_pair (fixture);
  takes_player_set_loop (fixture->player, TRUE);
  wait_settled (fixture->player);
  dropped = takes_player_get_dropped_frames (fixture->player);
  watch_init (&watch, fixture, 2, 0, N_FRAMES - 1);
  handler = g_signal_connect (fixture->player, "notify::frame", G_CALLBACK (watch_frame_cb), &watch);
  seam_handler = g_signal_connect (fixture->player, "frame-shown", G_CALLBACK (seam_frame_cb), &seam);
  takes_player_play (fixture->player);
  g_assert_true (player_test_wait (seam_wrapped_thrice, &seam, TIMEOUT_S));
  g_signal_handler_disconnect (fixture->player, handler);
  g_signal_handler_disconnect (fixture->player, seam_handler);
  takes_player_pause (fixture->player);
  dropped = takes_player_get_dropped_frames (fixture->player) - dropped;
  wait_settled (fixture->player);
  g_test_message ("%u frames over %u loops, %u skipped and %" G_GUINT64_FORMAT
                  " dropped, due times at most %.1f ms off, the latest %.1f ms late (after a seam %.1f ms)",
                  seam.n_frames, seam.wraps, seam.n_skips, dropped, seam.worst_step_error / 1000.0,
                  seam.worst_late / 1000.0, seam.worst_seam_late / 1000.0);
  g_assert_cmpuint (seam.n_skips, <=, dropped);
  g_assert_cmpint (seam.worst_step_error, <=, 1000);
  if (dropped == 0)
    g_assert_cmpint (seam.worst_seam_late, <, (gint64)(1e6 / 24.0));
  g_assert_cmpuint (watch.n_unequal, ==, 0);
  g_assert_cmpuint (watch.n_mismatch, ==, 0);
  assert_cells_on_frame (fixture, 2, takes_player_get_frame (fixture->player));
}

static void
test_four_way_grid (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 ids[4] = { fixture->take_ids[0], fixture->take_ids[1], fixture->take_ids[2], fixture->take_ids[0] };

  g_assert_true (takes_compare_view_set_takes (fixture->view, ids, 4, &error));
  g_assert_no_error (error);
  wait_settled (fixture->player);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (takes_player_get_paintable (fixture->player)), ==, 640);
  g_assert_cmpint (gdk_paintable_get_intrinsic_height (takes_player_get_paintable (fixture->player)), ==,
                   480);
  takes_player_seek_frame (fixture->player, 11);
  wait_settled (fixture->player);
  assert_cells_on_frame (fixture, 4, 11);
}

static void
test_views (Fixture *fixture, gconstpointer data)
{
  GdkPaintable *paintable;
  g_autoptr (GdkTexture) wipe = NULL;
  g_autoptr (GdkTexture) diff = NULL;
  g_autoptr (GdkTexture) toggled = NULL;
  g_autofree guint8 *pixels = NULL;
  guint64 total = 0;

  show_pair (fixture);
  takes_player_seek_frame (fixture->player, 21);
  wait_settled (fixture->player);
  paintable = takes_player_get_paintable (fixture->player);

  gtk_widget_activate_action (GTK_WIDGET (fixture->view), "compare.mode", "i", TAKES_COMPARE_WIPE);
  g_assert_cmpint (takes_compare_view_get_mode (fixture->view), ==, TAKES_COMPARE_WIPE);
  g_assert_cmpint (gdk_paintable_get_intrinsic_width (paintable), ==, 320);
  takes_compare_view_set_wipe (fixture->view, 0.25, TAKES_COMPARE_WIPE_HORIZONTAL);
  wipe = takes_player_paintable_render (TAKES_PLAYER_PAINTABLE (paintable));
  g_assert_cmpint (player_test_read_barcode (wipe, 0, 0, 320, 240), ==, 21);
  player_test_screenshot (fixture->window, "compare-view-wipe.png");

  takes_compare_view_set_mode (fixture->view, TAKES_COMPARE_DIFFERENCE);
  diff = takes_player_paintable_render (TAKES_PLAYER_PAINTABLE (paintable));
  g_assert_cmpint (gdk_texture_get_width (diff), ==, 320);
  /* The same frame scaled from another size differs only at bar edges. */
  pixels = g_malloc (320 * 240 * 4);
  gdk_texture_download (diff, pixels, 320 * 4);
  for (gsize i = 0; i < 320 * 240; i++)
    total += pixels[4 * i + 1];
  g_assert_cmpuint (total / (320 * 240), <, 24);

  takes_compare_view_set_mode (fixture->view, TAKES_COMPARE_TOGGLE);
  gtk_widget_activate_action (GTK_WIDGET (fixture->view), "compare.toggle", NULL);
  g_assert_cmpuint (takes_player_get_view_source (fixture->player), ==, 1);
  toggled = takes_player_paintable_render (TAKES_PLAYER_PAINTABLE (paintable));
  g_assert_cmpint (player_test_read_barcode (toggled, 0, 0, 320, 240), ==, 21);
  gtk_widget_activate_action (GTK_WIDGET (fixture->view), "compare.toggle", NULL);
  g_assert_cmpuint (takes_player_get_view_source (fixture->player), ==, 0);
}

static void
test_note_and_differences (Fixture *fixture, gconstpointer data)
{
  gint64 ids[2] = { fixture->take_ids[0], fixture->take_ids[2] };
  g_autoptr (GError) error = NULL;

  show_pair (fixture);
  g_assert_nonnull (takes_compare_view_get_note (fixture->view));
  g_assert_nonnull (strstr (takes_compare_view_get_note (fixture->view), "160×120"));
  /* seed, width and height. */
  g_assert_cmpuint (takes_compare_view_get_n_differences (fixture->view), ==, 3);

  g_assert_true (takes_compare_view_set_takes (fixture->view, ids, 2, &error));
  g_assert_no_error (error);
  wait_settled (fixture->player);
  g_assert_null (takes_compare_view_get_note (fixture->view));
  /* seed and sampler. */
  g_assert_cmpuint (takes_compare_view_get_n_differences (fixture->view), ==, 2);
}

static void
test_verdict_keys (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GPtrArray) comparisons = NULL;
  g_autoptr (GError) error = NULL;
  TakesComparison *comparison;

  show_pair (fixture);
  gtk_widget_activate_action (GTK_WIDGET (fixture->view), "compare.b-wins", NULL);
  gtk_widget_activate_action (GTK_WIDGET (fixture->view), "compare.tie", NULL);
  comparisons = takes_store_list_comparisons (fixture->store, fixture->take_ids[0], &error);
  g_assert_no_error (error);
  g_assert_cmpuint (comparisons->len, ==, 2);
  comparison = g_ptr_array_index (comparisons, 0);
  g_assert_cmpint (comparison->take_a, ==, fixture->take_ids[0]);
  g_assert_cmpint (comparison->take_b, ==, fixture->take_ids[1]);
  g_assert_cmpint (comparison->winner_id, ==, fixture->take_ids[1]);
  comparison = g_ptr_array_index (comparisons, 1);
  g_assert_cmpint (comparison->winner_id, ==, 0);
}

static void
test_next_pair (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 a, b;

  takes_compare_view_set_batch (fixture->view, fixture->batch_id);
  g_assert_true (takes_compare_view_compare_next_pair (fixture->view, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (takes_compare_view_get_n_takes (fixture->view), ==, 2);
  a = takes_compare_view_get_take_id (fixture->view, 0);
  b = takes_compare_view_get_take_id (fixture->view, 1);
  g_assert_cmpint (a, !=, b);
  for (guint i = 0; i < 2; i++)
    {
      gint64 id = i == 0 ? a : b;

      g_assert_true (id == fixture->take_ids[0] || id == fixture->take_ids[1] || id == fixture->take_ids[2]);
    }
  wait_settled (fixture->player);
  gtk_widget_activate_action (GTK_WIDGET (fixture->view), "compare.a-wins", NULL);
  gtk_widget_activate_action (GTK_WIDGET (fixture->view), "compare.next-pair", NULL);
  wait_settled (fixture->player);
  g_assert_cmpuint (takes_compare_view_get_n_takes (fixture->view), ==, 2);
}

static void
test_missing_take (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 ids[2] = { fixture->take_ids[0], 999999 };

  show_pair (fixture);
  g_assert_false (takes_compare_view_set_takes (fixture->view, ids, 2, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  /* What was shown stays. */
  g_assert_cmpint (takes_compare_view_get_take_id (fixture->view, 1), ==, fixture->take_ids[1]);
}

static void
add (const char *path, void (*func) (Fixture *, gconstpointer))
{
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down);
}

int
main (int argc, char **argv)
{
  gtk_test_init (&argc, &argv, NULL);

  add ("/compare-view/sync/same-frame-after-seek-step-play", test_same_frame_after_seek_and_step);
  add ("/compare-view/sync/four-way-grid", test_four_way_grid);
  add ("/compare-view/sync/loop-keeps-playing", test_loop_keeps_playing);
  add ("/compare-view/sync/loop-range-stays-inside-in-step", test_loop_range_in_step);
  add ("/compare-view/sync/loop-seam-in-order-on-time", test_loop_seam);
  add ("/compare-view/shuttle/reverse-keeps-sides-equal", test_reverse_keeps_sides_equal);
  add ("/compare-view/views/wipe-difference-toggle", test_views);
  add ("/compare-view/recipe/note-and-differences", test_note_and_differences);
  add ("/compare-view/verdict/keys-store-comparisons", test_verdict_keys);
  add ("/compare-view/verdict/next-pair-from-ranking", test_next_pair);
  add ("/compare-view/error/missing-take-keeps-view", test_missing_take);
  return g_test_run ();
}
