/* test-screenshots.c: every main view of the studio (empty library, library,
 * inspector, queue, compare, storyboard, preferences) at the smallest window
 * size, in English and in Chinese, saved under the build folder for people
 * to look at. Each view is checked to have drawn; what it looks like is for
 * the eye. */
#include "config.h"

#include "app-test-util.h"
#include "player-test-util.h"
#include "takes-backend-dashscope.h"
#include "takes-preferences-window.h"
#include "takes-queue-panel.h"
#include "takes-store-review.h"
#include "takes-window.h"

static void
close_window (TakesWindow *window)
{
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_wait (50);
  g_assert_finalize_object (window);
}

static GtkWidget *
find_widget_of_type (GtkWidget *root, GType type)
{
  if (G_TYPE_CHECK_INSTANCE_TYPE (root, type))
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget_of_type (child, type);

      if (found != NULL)
        return found;
    }
  return NULL;
}

static gboolean
player_settled (gpointer data)
{
  return !takes_player_is_busy (data) && takes_player_get_state (data) != TAKES_PLAYER_STATE_LOADING;
}

static void
shoot (GtkWidget *widget, const char *view, const char *language)
{
  g_autofree char *name = g_strdup_printf ("view-%s-%s", view, language);

  app_test_wait_frames (widget, 3);
  g_free (app_test_screenshot (widget, name));
}

/* Every main view at the smallest window size, for looking at by people. */
static void
screenshot_every_view (const char *language)
{
  g_autofree char *store_name = g_strdup_printf ("views-%s", language);
  g_autofree char *empty_name = g_strdup_printf ("views-empty-%s", language);
  g_autoptr (TakesStore) store = app_test_open_store (store_name);
  g_autoptr (TakesStore) empty = app_test_open_store (empty_name);
  g_autoptr (TakesQueue) queue = NULL;
  g_autoptr (TakesBackendDashscope) dashscope = NULL;
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  g_autoptr (TakesShot) shot = NULL;
  g_autoptr (GError) error = NULL;
  GtkWindow *preferences;
  TakesWindow *window;
  GtkWidget *panel;
  gint64 ids[2];

  window = g_object_ref (takes_window_new (NULL, empty, NULL));
  gtk_window_set_default_size (GTK_WINDOW (window), 1024, 640);
  gtk_window_present (GTK_WINDOW (window));
  shoot (GTK_WIDGET (window), "library-empty", language);
  close_window (window);

  app_test_fill_store (store, 24);
  ids[0] = player_test_add_take (store, app_test_root, language[0] == 'z' ? "灯塔，黄昏" : "lighthouse, dusk",
                                 0);
  ids[1] = player_test_add_take (store, app_test_root, language[0] == 'z' ? "灯塔，黎明" : "lighthouse, dawn",
                                 0);
  shot = takes_store_create_shot (store, takes_store_get_default_project (store),
                                  language[0] == 'z' ? "开场" : "Opening", "a lighthouse", &error);
  g_assert_no_error (error);
  g_assert_true (takes_store_update_shot (store, shot->id, NULL, NULL, NULL, 3 * G_USEC_PER_SEC, &error));
  g_assert_true (takes_store_pick_shot_take (store, shot->id, ids[0], &error));
  g_assert_no_error (error);
  queue = takes_queue_new (store, &error);
  g_assert_no_error (error);
  /* Never started, so the takes wait in the queue and nothing is sent. */
  dashscope = takes_backend_dashscope_new ("singapore", &error);
  g_assert_no_error (error);
  takes_backend_dashscope_set_base_url (dashscope, "http://127.0.0.1:9/api/v1");
  takes_queue_add_backend (queue, TAKES_BACKEND (dashscope));

  window = g_object_ref (takes_window_new (NULL, store, queue));
  gtk_window_set_default_size (GTK_WINDOW (window), 1024, 640);
  gtk_window_present (GTK_WINDOW (window));
  shoot (GTK_WIDGET (window), "library", language);

  g_assert_true (takes_gallery_select_take (takes_window_get_gallery (window), ids[1]));
  g_assert_true (player_test_wait (player_settled,
                                   takes_inspector_get_player (takes_window_get_inspector (window)), 20.0));
  shoot (GTK_WIDGET (window), "inspector", language);

  takes_recipe_set_backend (recipe, "dashscope");
  takes_recipe_set_model (recipe, "wan2.2-t2v-plus");
  takes_prompt_editor_load_recipe (takes_window_get_editor (window), recipe, 0);
  takes_prompt_editor_set_prompt (takes_window_get_editor (window),
                                  language[0] == 'z' ? "一只纸船漂在水坑上" : "a paper boat on a puddle");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.generate", NULL));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.show-queue", NULL));
  panel = find_widget_of_type (GTK_WIDGET (window), TAKES_TYPE_QUEUE_PANEL);
  g_assert_nonnull (panel);
  app_test_wait_frames (panel, 3);
  shoot (gtk_widget_get_ancestor (panel, GTK_TYPE_POPOVER), "queue", language);
  gtk_popover_popdown (GTK_POPOVER (gtk_widget_get_ancestor (panel, GTK_TYPE_POPOVER)));

  g_assert_true (takes_compare_view_set_takes (takes_window_get_compare_view (window), ids, 2, &error));
  g_assert_no_error (error);
  takes_window_set_visible_view (window, "compare");
  g_assert_true (player_test_wait (
      player_settled, takes_compare_view_get_player (takes_window_get_compare_view (window)), 20.0));
  takes_player_seek_frame (takes_compare_view_get_player (takes_window_get_compare_view (window)), 9);
  g_assert_true (player_test_wait (
      player_settled, takes_compare_view_get_player (takes_window_get_compare_view (window)), 20.0));
  shoot (GTK_WIDGET (window), "compare", language);

  takes_window_set_visible_view (window, "storyboard");
  shoot (GTK_WIDGET (window), "storyboard", language);

  preferences = GTK_WINDOW (takes_preferences_window_new (GTK_WINDOW (window)));
  gtk_window_present (preferences);
  shoot (GTK_WIDGET (preferences), "preferences", language);
  gtk_window_destroy (preferences);
  takes_window_set_visible_view (window, "library");

  close_window (window);
}

static void
test_screenshots_of_every_view (void)
{
  g_autofree char *old_language = g_strdup (g_getenv ("LANGUAGE"));

  screenshot_every_view ("en");
  g_setenv ("LANGUAGE", "zh_CN", TRUE);
  setlocale (LC_ALL, "");
  screenshot_every_view ("zh_CN");
  if (old_language != NULL)
    g_setenv ("LANGUAGE", old_language, TRUE);
  else
    g_unsetenv ("LANGUAGE");
  setlocale (LC_ALL, "");
}

int
main (int argc, char **argv)
{
  int status;

  app_test_setup_env ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/screenshots/every-view/english-and-chinese", test_screenshots_of_every_view);

  status = g_test_run ();
  app_test_cleanup_root ();
  return status;
}
