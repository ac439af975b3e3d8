/* test-storyboard-page.c: shots, choosing takes, per-shot problems, the
 * animatic play-through and an export, under Xvfb. */
#include "config.h"

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "player-test-util.h"
#include "takes-store-review.h"
#include "takes-storyboard-page.h"

#define N_FRAMES 24
#define TIMEOUT_S 30.0

typedef struct
{
  char *dir;
  TakesStore *store;
  gint64 project_id;
  gint64 shot_ids[3];
  gint64 take_ids[3];
  GtkWidget *window;
  TakesStoryboardPage *page;
} Fixture;

static gint64
add_take (Fixture *fixture, const char *name, gint64 shot_id)
{
  g_autofree char *path = g_build_filename (fixture->dir, name, NULL);
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (player_test_make_clip (path, 160, 120, 24, N_FRAMES, &error));
  g_assert_no_error (error);
  takes_recipe_set_prompt (recipe, name);
  take = takes_take_new (recipe);
  takes_take_set_status (take, TAKES_TAKE_STATUS_DONE);
  takes_take_set_project_id (take, fixture->project_id);
  takes_take_set_shot_id (take, shot_id);
  g_assert_true (takes_store_add_take (fixture->store, take, path, TAKES_MEDIA_MOVE, &error));
  g_assert_no_error (error);
  return takes_take_get_id (take);
}

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesProject) project = NULL;
  static const char *const titles[] = { "Wide", "Close-up", "Reveal" };

  fixture->dir = g_dir_make_tmp ("takes-test-storyboard-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->store = takes_store_open (fixture->dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  project = takes_store_create_project (fixture->store, "Lighthouse", &error);
  g_assert_no_error (error);
  fixture->project_id = project->id;
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (TakesShot) shot = takes_store_create_shot (fixture->store, fixture->project_id, titles[i],
                                                            "the sea at dusk", &error);

      g_assert_no_error (error);
      fixture->shot_ids[i] = shot->id;
      g_assert_true (takes_store_update_shot (fixture->store, shot->id, NULL, NULL, "slow push in",
                                              G_USEC_PER_SEC, &error));
      g_assert_no_error (error);
    }
  fixture->take_ids[0] = add_take (fixture, "one.mp4", fixture->shot_ids[0]);
  fixture->take_ids[1] = add_take (fixture, "two.mp4", fixture->shot_ids[1]);
  fixture->take_ids[2] = add_take (fixture, "three.mp4", fixture->shot_ids[2]);
  g_assert_true (
      takes_store_pick_shot_take (fixture->store, fixture->shot_ids[0], fixture->take_ids[0], &error));
  g_assert_true (
      takes_store_pick_shot_take (fixture->store, fixture->shot_ids[2], fixture->take_ids[2], &error));
  g_assert_no_error (error);

  fixture->window = gtk_window_new ();
  fixture->page = TAKES_STORYBOARD_PAGE (takes_storyboard_page_new ());
  g_object_ref (fixture->page);
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 900, 600);
  gtk_window_set_child (GTK_WINDOW (fixture->window), GTK_WIDGET (fixture->page));
  gtk_window_present (GTK_WINDOW (fixture->window));
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  gtk_window_destroy (GTK_WINDOW (fixture->window));
  g_assert_finalize_object (fixture->page);
  g_assert_finalize_object (fixture->store);
  player_test_remove_tree (fixture->dir);
  g_free (fixture->dir);
}

static void
iterate (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64)ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
show_project (Fixture *fixture)
{
  takes_storyboard_page_set_store (fixture->page, fixture->store);
  takes_storyboard_page_set_project (fixture->page, fixture->project_id);
  g_assert_cmpuint (takes_storyboard_page_get_n_shots (fixture->page), ==, 3);
}

static void
test_shots_and_problems (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesTake) take = NULL;
  g_autofree char *media = NULL;
  g_autoptr (GError) error = NULL;

  show_project (fixture);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (takes_storyboard_page_get_shot_id (fixture->page, i), ==, fixture->shot_ids[i]);
  g_assert_null (takes_storyboard_page_get_shot_problem (fixture->page, 0));
  g_assert_nonnull (strstr (takes_storyboard_page_get_shot_problem (fixture->page, 1), "Shot 2"));
  g_assert_null (takes_storyboard_page_get_shot_problem (fixture->page, 2));

  /* A missing file is named on its shot. */
  take = takes_store_get_take (fixture->store, fixture->take_ids[2], &error);
  g_assert_no_error (error);
  media = takes_store_get_media_file (fixture->store, take);
  g_assert_cmpint (g_unlink (media), ==, 0);
  g_assert_true (takes_storyboard_page_reload (fixture->page, &error));
  g_assert_no_error (error);
  g_assert_nonnull (strstr (takes_storyboard_page_get_shot_problem (fixture->page, 2), "missing"));
  player_test_screenshot (fixture->window, "storyboard-page.png");
}

static void
test_damaged_file (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesTake) take = NULL;
  g_autofree char *media = NULL;
  g_autoptr (GError) error = NULL;

  take = takes_store_get_take (fixture->store, fixture->take_ids[0], &error);
  g_assert_no_error (error);
  media = takes_store_get_media_file (fixture->store, take);
  g_assert_true (g_file_set_contents (media, "not a video", -1, &error));
  show_project (fixture);
  /* The probe runs in a worker thread. */
  for (int i = 0; i < 300 && takes_storyboard_page_get_shot_problem (fixture->page, 0) == NULL; i++)
    iterate (10);
  g_assert_nonnull (strstr (takes_storyboard_page_get_shot_problem (fixture->page, 0), "Shot 1 cannot play"));
}

static void
test_drop_chooses_take (Fixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  show_project (fixture);
  g_assert_cmpint (takes_storyboard_page_get_chosen_take (fixture->page, 1), ==, 0);
  g_assert_true (
      takes_storyboard_page_choose_take (fixture->page, fixture->shot_ids[1], fixture->take_ids[1], &error));
  g_assert_no_error (error);
  g_assert_cmpint (takes_storyboard_page_get_chosen_take (fixture->page, 1), ==, fixture->take_ids[1]);
  g_assert_null (takes_storyboard_page_get_shot_problem (fixture->page, 1));

  g_assert_false (takes_storyboard_page_choose_take (fixture->page, fixture->shot_ids[1], 424242, &error));
  g_assert_nonnull (error);
}

static void
test_add_move_delete_shots (Fixture *fixture, gconstpointer data)
{
  g_autoptr (TakesShot) added = NULL;
  g_autoptr (TakesShot) stored = NULL;
  g_autoptr (GError) error = NULL;

  show_project (fixture);
  added = takes_storyboard_page_add_shot (fixture->page, "  Ending ", "the lamp goes out", 2500000, &error);
  g_assert_no_error (error);
  g_assert_nonnull (added);
  g_assert_cmpuint (takes_storyboard_page_get_n_shots (fixture->page), ==, 4);
  g_assert_cmpint (takes_storyboard_page_get_shot_id (fixture->page, 3), ==, added->id);
  stored = takes_store_get_shot (fixture->store, added->id, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (stored->title, ==, "Ending");
  g_assert_cmpstr (stored->prompt, ==, "the lamp goes out");
  g_assert_cmpint (stored->duration, ==, 2500000);

  /* A shot needs a title; nothing is added without one. */
  g_assert_null (takes_storyboard_page_add_shot (fixture->page, "   ", "no title", 0, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpuint (takes_storyboard_page_get_n_shots (fixture->page), ==, 4);

  /* The new last shot moves to the front; the chosen takes move with their shots. */
  g_assert_true (takes_storyboard_page_move_shot (fixture->page, added->id, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpint (takes_storyboard_page_get_shot_id (fixture->page, 0), ==, added->id);
  g_assert_cmpint (takes_storyboard_page_get_shot_id (fixture->page, 1), ==, fixture->shot_ids[0]);
  g_assert_cmpint (takes_storyboard_page_get_chosen_take (fixture->page, 1), ==, fixture->take_ids[0]);

  /* Deleting a shot keeps its take in the library. */
  g_assert_true (takes_storyboard_page_delete_shot (fixture->page, fixture->shot_ids[0], &error));
  g_assert_no_error (error);
  g_assert_cmpuint (takes_storyboard_page_get_n_shots (fixture->page), ==, 3);
  g_assert_cmpint (takes_storyboard_page_get_shot_id (fixture->page, 1), ==, fixture->shot_ids[1]);
  {
    g_autoptr (TakesTake) kept = takes_store_get_take (fixture->store, fixture->take_ids[0], &error);
    g_assert_no_error (error);
    g_assert_nonnull (kept);
  }
  g_assert_false (takes_storyboard_page_delete_shot (fixture->page, fixture->shot_ids[0], &error));
  g_assert_nonnull (error);
}

static gboolean
sequence_done (gpointer data)
{
  TakesPlayer *player = data;

  return takes_player_get_state (player) == TAKES_PLAYER_STATE_PAUSED
         && takes_player_get_n_frames (player) > 0
         && takes_player_get_frame (player) + 1 >= takes_player_get_n_frames (player);
}

static void
test_play_through (Fixture *fixture, gconstpointer data)
{
  TakesPlayer *player = takes_storyboard_page_get_player (fixture->page);
  g_autoptr (GError) error = NULL;

  show_project (fixture);
  g_assert_true (
      takes_storyboard_page_choose_take (fixture->page, fixture->shot_ids[1], fixture->take_ids[1], &error));
  gtk_widget_activate_action (GTK_WIDGET (fixture->page), "storyboard.play", NULL);
  g_assert_true (player_test_wait (sequence_done, player, TIMEOUT_S));
  g_assert_cmpuint (takes_player_get_n_frames (player), ==, 3 * N_FRAMES);
  g_assert_cmpuint (takes_player_get_sequence_index (player), ==, 2);
  /* Every frame of all three shots reached the sink, none lost between them. */
  g_assert_cmpuint (takes_player_get_rendered_frames (player) + takes_player_get_dropped_frames (player), >=,
                    3 * N_FRAMES - 1);
}

static void
export_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static void
test_export_edl_warns_per_shot (Fixture *fixture, gconstpointer data)
{
  g_autofree char *path = g_build_filename (fixture->dir, "cut.edl", NULL);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GPtrArray) warnings = NULL;
  g_autoptr (GError) error = NULL;

  show_project (fixture);
  takes_storyboard_page_export_async (fixture->page, TAKES_STORYBOARD_EXPORT_EDL, path, NULL, export_done_cb,
                                      &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (takes_storyboard_page_export_finish (fixture->page, result, &warnings, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
  /* Shot 2 has no take. */
  g_assert_nonnull (warnings);
  g_assert_cmpuint (warnings->len, ==, 1);
  g_assert_error ((GError *)g_ptr_array_index (warnings, 0), TAKES_STORYBOARD_ERROR,
                  TAKES_STORYBOARD_ERROR_NO_TAKE);
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

  add ("/storyboard-page/shots/problems-named-per-shot", test_shots_and_problems);
  add ("/storyboard-page/shots/damaged-file-found-by-probe", test_damaged_file);
  add ("/storyboard-page/drop/chooses-take", test_drop_chooses_take);
  add ("/storyboard-page/shots/add-move-delete", test_add_move_delete_shots);
  add ("/storyboard-page/animatic/plays-through-without-gaps", test_play_through);
  add ("/storyboard-page/export/edl-with-warnings", test_export_edl_warns_per_shot);
  return g_test_run ();
}
