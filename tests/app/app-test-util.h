/* app-test-util.h: shared set-up of the studio tests.
 *
 * Each test program gets its own data, cache and config folders in a
 * temporary directory, so nothing touches the person's library, and renders
 * with the cairo renderer so screenshots do not depend on the GL driver.
 */
#pragma once

#include <adwaita.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <locale.h>

#include "takes-store.h"

G_GNUC_UNUSED static char *app_test_root;

G_GNUC_UNUSED static void
app_test_cleanup_root (void)
{
  g_autofree char *quoted = NULL;
  g_autofree char *command = NULL;

  if (app_test_root == NULL)
    return;
  quoted = g_shell_quote (app_test_root);
  command = g_strdup_printf ("rm -rf %s", quoted);
  g_assert_true (g_spawn_command_line_sync (command, NULL, NULL, NULL, NULL));
  g_clear_pointer (&app_test_root, g_free);
}

/* Call before gtk_test_init(). */
G_GNUC_UNUSED static void
app_test_setup_env (void)
{
  g_autofree char *data = NULL;
  g_autofree char *cache = NULL;
  g_autofree char *config = NULL;
  const char *localedir = g_getenv ("TAKES_TEST_LOCALEDIR");

  app_test_root = g_dir_make_tmp ("takes-app-test-XXXXXX", NULL);
  g_assert_nonnull (app_test_root);
  data = g_build_filename (app_test_root, "data", NULL);
  cache = g_build_filename (app_test_root, "cache", NULL);
  config = g_build_filename (app_test_root, "config", NULL);
  g_setenv ("XDG_DATA_HOME", data, TRUE);
  g_setenv ("XDG_CACHE_HOME", cache, TRUE);
  g_setenv ("XDG_CONFIG_HOME", config, TRUE);
  g_setenv ("GSK_RENDERER", "cairo", TRUE);
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("NO_AT_BRIDGE", "1", TRUE);
  g_setenv ("GDK_BACKEND", "x11", TRUE);

  setlocale (LC_ALL, "");
  if (localedir != NULL)
    bindtextdomain (GETTEXT_PACKAGE, localedir);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

/* A library in its own folder under the test root. */
G_GNUC_UNUSED static TakesStore *
app_test_open_store (const char *name)
{
  g_autofree char *dir = g_build_filename (app_test_root, name, NULL);
  g_autoptr (GError) error = NULL;
  TakesStore *store = takes_store_open (dir, TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, &error);

  g_assert_no_error (error);
  return store;
}

G_GNUC_UNUSED static const char *const app_test_subjects[] = {
  "a red fox runs through snow",
  "a blue whale dives under a boat",
  "a paper lantern floats over a river",
  "一只熊猫在竹林里吃竹子",
};

/* Adds @n finished takes without video, in batches of one transaction each.
 * Take i has subject i % 4, rating i % 6, every 10th is approved and every
 * 7th tagged "hero". */
G_GNUC_UNUSED static void
app_test_fill_store (TakesStore *store, guint n)
{
  const guint batch = 2000;

  for (guint start = 0; start < n; start += batch)
    {
      g_autoptr (GPtrArray) takes = g_ptr_array_new_with_free_func (g_object_unref);
      g_autoptr (GError) error = NULL;

      for (guint i = start; i < MIN (n, start + batch); i++)
        {
          g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
          g_autofree char *prompt = g_strdup_printf ("%s, take %u", app_test_subjects[i % 4], i);
          TakesTake *take;

          takes_recipe_set_prompt (recipe, prompt);
          takes_recipe_set_seed (recipe, i);
          take = takes_take_new (recipe);
          takes_take_set_status (take, i % 13 == 5 ? TAKES_TAKE_STATUS_FAILED : TAKES_TAKE_STATUS_DONE);
          if (i % 7 == 0)
            {
              const char *tags[] = { "hero", NULL };
              takes_take_set_tags (take, tags);
            }
          g_ptr_array_add (takes, take);
        }
      g_assert_true (takes_store_add_takes (store, takes, &error));
      g_assert_no_error (error);
      for (guint k = 0; k < takes->len; k++)
        {
          TakesTake *take = g_ptr_array_index (takes, k);
          guint i = start + k;

          if (i % 6 != 0 && i < 200)
            g_assert_true (takes_store_set_rating (store, takes_take_get_id (take), i % 6, NULL));
          if (i % 10 == 0 && i < 200)
            g_assert_true (
                takes_store_set_decision (store, takes_take_get_id (take), TAKES_DECISION_APPROVED, NULL));
        }
    }
}

G_GNUC_UNUSED static gboolean
app_test_timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Runs the main loop for @ms milliseconds. */
G_GNUC_UNUSED static void
app_test_wait (guint ms)
{
  gboolean done = FALSE;
  guint id = g_timeout_add (ms, app_test_timeout_cb, &done);

  while (!done)
    g_main_context_iteration (NULL, TRUE);
  (void)id;
}

G_GNUC_UNUSED static gboolean
app_test_tick_cb (GtkWidget *widget, GdkFrameClock *clock, gpointer user_data)
{
  guint *frames = user_data;

  (*frames)++;
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until @widget's window has drawn @n frames. */
G_GNUC_UNUSED static void
app_test_wait_frames (GtkWidget *widget, guint n)
{
  guint frames = 0;
  gboolean timed_out = FALSE;
  guint tick = gtk_widget_add_tick_callback (widget, app_test_tick_cb, &frames, NULL);
  guint timeout = g_timeout_add_seconds (10, app_test_timeout_cb, &timed_out);

  while (frames < n && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  gtk_widget_remove_tick_callback (widget, tick);
  if (!timed_out)
    g_source_remove (timeout);
  g_assert_false (timed_out);
}

/* Renders @widget as it is on screen into the PNG file @path; FALSE when it
 * has nothing to draw or the file cannot be written. */
G_GNUC_UNUSED static gboolean
app_test_render_png (GtkWidget *widget, const char *path)
{
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  GskRenderer *renderer = gtk_native_get_renderer (gtk_widget_get_native (widget));
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  GtkSnapshot *snapshot;

  if (width <= 0 || height <= 0)
    return FALSE;
  snapshot = gtk_snapshot_new ();
  gdk_paintable_snapshot (paintable, snapshot, width, height);
  node = gtk_snapshot_free_to_node (snapshot);
  if (node == NULL)
    return FALSE;
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, width, height));
  return gdk_texture_save_to_png (texture, path);
}

/* Renders @widget as it is on screen into G_TEST_BUILDDIR/screenshots/@name.png. */
G_GNUC_UNUSED static char *
app_test_screenshot (GtkWidget *widget, const char *name)
{
  g_autofree char *dir = g_build_filename (
      g_getenv ("G_TEST_BUILDDIR") != NULL ? g_getenv ("G_TEST_BUILDDIR") : ".", "screenshots", NULL);
  g_autofree char *file = g_strconcat (name, ".png", NULL);
  char *path = g_build_filename (dir, file, NULL);

  g_assert_cmpint (gtk_widget_get_width (widget), >, 0);
  g_assert_cmpint (gtk_widget_get_height (widget), >, 0);
  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  g_assert_true (app_test_render_png (widget, path));
  return path;
}
