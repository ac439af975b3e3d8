/* test-generate.c: generating with the tiny model through the studio's own
 * controls puts a finished take, marked as test-model noise, in the gallery.
 *
 * The queue is the real one with the registry's local backend; the tiny
 * model is made once under the test's own cache folder. */
#include "config.h"

#include "app-test-util.h"
#include "takes-backend-local.h"
#include "takes-backend-registry.h"
#include "takes-window.h"

#define GENERATE_TIMEOUT_S 60

/* The first visible widget under @root that has @css_class, depth first. */
static GtkWidget *
find_visible_with_class (GtkWidget *root, const char *css_class)
{
  if (gtk_widget_get_visible (root) && gtk_widget_has_css_class (root, css_class))
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_visible_with_class (child, css_class);

      if (found != NULL)
        return found;
    }
  return NULL;
}

typedef struct
{
  TakesStore *store;
  TakesGallery *gallery;
  gint64 take_id;
  TakesTakeStatus status;
  GtkWidget *badge;
} Progress;

static void
look (Progress *progress)
{
  TakesTakeList *list = takes_gallery_get_list (progress->gallery);
  g_autoptr (TakesTake) first = NULL;

  if (g_list_model_get_n_items (G_LIST_MODEL (list)) == 0)
    return;
  first = g_list_model_get_item (G_LIST_MODEL (list), 0);
  progress->take_id = takes_take_get_id (first);
  progress->status = takes_take_get_status (first);
  progress->badge = find_visible_with_class (GTK_WIDGET (progress->gallery), "noise");
}

static void
test_generate_tiny_puts_a_take_in_the_gallery (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("generate");
  g_autoptr (TakesQueue) queue = NULL;
  g_autoptr (TakesBackend) local = NULL;
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *media = NULL;
  TakesWindow *window;
  TakesPromptEditor *editor;
  g_autoptr (TakesRecipe) chosen = NULL;
  Progress progress = { 0 };
  gboolean timed_out = FALSE;
  guint timeout;

  queue = takes_queue_new (store, &error);
  g_assert_no_error (error);
  local = takes_backend_registry_create ("local", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (local);
  takes_queue_add_backend (queue, local);
  takes_queue_start (queue);

  window = takes_window_new (NULL, store, queue);
  g_object_ref (window);
  gtk_window_set_default_size (GTK_WINDOW (window), 1024, 640);
  gtk_window_present (GTK_WINDOW (window));
  app_test_wait_frames (GTK_WIDGET (window), 3);

  /* What a person does: type a prompt, choose the test model from the
   * menu (local backend, model "tiny"), press Generate. */
  editor = takes_window_get_editor (window);
  takes_prompt_editor_set_prompt (editor, "a paper boat on a puddle, test take");
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.use-test-model", NULL));
  chosen = takes_prompt_editor_get_recipe (editor);
  g_assert_cmpstr (takes_recipe_get_backend (chosen), ==, "local");
  g_assert_cmpstr (takes_recipe_get_model (chosen), ==, TAKES_BACKEND_LOCAL_TINY_MODEL);
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (window), "win.generate", NULL));

  progress.store = store;
  progress.gallery = takes_window_get_gallery (window);
  timeout = g_timeout_add_seconds (GENERATE_TIMEOUT_S, app_test_timeout_cb, &timed_out);
  while (!timed_out)
    {
      g_main_context_iteration (NULL, TRUE);
      look (&progress);
      if (progress.status == TAKES_TAKE_STATUS_FAILED || progress.status == TAKES_TAKE_STATUS_CANCELLED)
        break;
      if (progress.status == TAKES_TAKE_STATUS_DONE && progress.badge != NULL)
        break;
    }
  if (!timed_out)
    g_source_remove (timeout);
  g_assert_false (timed_out);
  g_assert_cmpint (progress.take_id, >, 0);
  g_assert_cmpint (progress.status, ==, TAKES_TAKE_STATUS_DONE);
  /* The card says what the take is, in words. */
  g_assert_nonnull (progress.badge);
  g_assert_cmpstr (gtk_label_get_text (GTK_LABEL (progress.badge)), ==, _ ("Test model noise"));

  take = takes_store_get_take (store, progress.take_id, &error);
  g_assert_no_error (error);
  g_assert_true (takes_take_get_is_tiny (take));
  g_assert_cmpstr (takes_take_get_backend (take), ==, "local");
  media = takes_store_get_media_file (store, take);
  g_assert_nonnull (media);
  g_assert_true (g_file_test (media, G_FILE_TEST_IS_REGULAR));

  app_test_wait_frames (GTK_WIDGET (window), 2);
  g_free (app_test_screenshot (GTK_WIDGET (window), "window-generated-tiny"));

  takes_queue_stop (queue);
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_wait (50);
  g_assert_finalize_object (window);
}

int
main (int argc, char **argv)
{
  int status;

  app_test_setup_env ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();

  g_test_add_func ("/generate/tiny-model/take-appears-in-the-gallery-as-noise",
                   test_generate_tiny_puts_a_take_in_the_gallery);

  status = g_test_run ();
  app_test_cleanup_root ();
  return status;
}
