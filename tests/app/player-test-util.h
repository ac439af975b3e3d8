/* player-test-util.h: clips whose frames carry their own number, for the
 * player and compare view tests.
 *
 * Each frame shows its index as a barcode of BARCODE_BITS wide bars across the
 * picture (white is 1, most significant bit left), large enough to survive
 * H.264, so a test can read back exactly which frame is on screen.
 */
#pragma once

#include <glib/gstdio.h>
#include <gtk/gtk.h>

#include "takes-media.h"
#include "takes-store.h"

#define BARCODE_BITS 8

static inline gboolean
player_test_make_clip (const char *path, int width, int height, int fps_n, guint n_frames, GError **error)
{
  g_autoptr (TakesMediaEncoder) enc = takes_media_encoder_new (path, width, height, fps_n, 1, NULL, error);
  gsize stride = (gsize)width * 3;
  g_autofree guint8 *rgb = g_malloc (stride * (gsize)height);

  if (enc == NULL)
    return FALSE;
  for (guint f = 0; f < n_frames; f++)
    {
      for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
          {
            int bit = x * BARCODE_BITS / width;
            gboolean on = (f >> (BARCODE_BITS - 1 - bit)) & 1;
            guint8 *p = rgb + (gsize)y * stride + (gsize)x * 3;

            p[0] = p[1] = p[2] = on ? 235 : 16;
          }
      if (!takes_media_encoder_push_rgb (enc, rgb, stride, error))
        return FALSE;
    }
  return takes_media_encoder_finish (enc, error);
}

/* Reads the frame number in the rectangle of a BGRA texture; -1 when a bar
 * is neither clearly dark nor clearly bright. */
static inline int
player_test_read_barcode (GdkTexture *texture, int x0, int y0, int w, int h)
{
  int width = gdk_texture_get_width (texture);
  int height = gdk_texture_get_height (texture);
  gsize stride = (gsize)width * 4;
  g_autofree guint8 *data = g_malloc (stride * (gsize)height);
  int value = 0;

  gdk_texture_download (texture, data, stride);
  for (int bit = 0; bit < BARCODE_BITS; bit++)
    {
      int x = x0 + (2 * bit + 1) * w / (2 * BARCODE_BITS);
      int y = y0 + h / 2;
      const guint8 *p = data + (gsize)y * stride + (gsize)x * 4;
      int luma = (p[0] + p[1] + p[2]) / 3;

      if (luma > 64 && luma < 192)
        return -1;
      value = (value << 1) | (luma >= 192 ? 1 : 0);
    }
  return value;
}

/* Iterates the main context until cond returns TRUE or timeout_s passes. */
static inline gboolean
player_test_wait (gboolean (*cond) (gpointer), gpointer data, double timeout_s)
{
  gint64 end = g_get_monotonic_time () + (gint64)(timeout_s * G_USEC_PER_SEC);

  while (!cond (data))
    {
      if (g_get_monotonic_time () > end)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

/* Renders a widget as it is on screen into a PNG in the build folder. */
static inline void
player_test_screenshot (GtkWidget *widget, const char *name)
{
  GtkNative *native = gtk_widget_get_native (widget);
  GskRenderer *renderer = native != NULL ? gtk_native_get_renderer (native) : NULL;
  g_autoptr (GdkPaintable) paintable = gtk_widget_paintable_new (widget);
  g_autoptr (GtkSnapshot) snapshot = gtk_snapshot_new ();
  g_autoptr (GskRenderNode) node = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  g_autofree char *path = NULL;
  int w, h;

  /* Let a pending layout and frame finish first. */
  for (int i = 0; i < 50; i++)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (2000);
    }
  w = gtk_widget_get_width (widget);
  h = gtk_widget_get_height (widget);
  if (renderer == NULL || w <= 0 || h <= 0)
    return;
  gdk_paintable_snapshot (paintable, snapshot, w, h);
  node = gtk_snapshot_free_to_node (g_steal_pointer (&snapshot));
  if (node == NULL)
    return;
  texture = gsk_renderer_render_texture (renderer, node, &GRAPHENE_RECT_INIT (0, 0, w, h));
  path = g_test_build_filename (G_TEST_BUILT, name, NULL);
  g_assert_true (gdk_texture_save_to_png (texture, path));
  g_test_message ("screenshot: %s", path);
}

/* A finished 160×120 take of 12 numbered frames, its video made under
 * @root/clips and moved into @store's default project. */
static inline gint64
player_test_add_take (TakesStore *store, const char *root, const char *prompt, gint64 batch_id)
{
  g_autofree char *dir = g_build_filename (root, "clips", NULL);
  g_autofree char *name = g_strdup_printf ("%s.mp4", prompt);
  g_autofree char *path = NULL;
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_mkdir_with_parents (dir, 0755), ==, 0);
  path = g_build_filename (dir, name, NULL);
  g_assert_true (player_test_make_clip (path, 160, 120, 24, 12, &error));
  g_assert_no_error (error);
  takes_recipe_set_prompt (recipe, prompt);
  takes_recipe_set_width (recipe, 160);
  takes_recipe_set_height (recipe, 120);
  take = takes_take_new (recipe);
  takes_take_set_status (take, TAKES_TAKE_STATUS_DONE);
  takes_take_set_batch_id (take, batch_id);
  g_assert_true (takes_store_add_take (store, take, path, TAKES_MEDIA_MOVE, &error));
  g_assert_no_error (error);
  return takes_take_get_id (take);
}

/* Deletes a test's scratch folder and everything in it. */
static inline void
player_test_remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        player_test_remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}
