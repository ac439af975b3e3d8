/* takes-player-paintable.c: the frames of a TakesPlayer as a GdkPaintable.
 *
 * The view is made on the CPU from the composited frame (a cell is a cropped
 * copy, a wipe two half copies, a difference one pass over two cells) and kept
 * as one texture, so what is drawn and what takes_player_paintable_render
 * returns are the same pixels. Grid view draws the frame itself, uncopied.
 */
#include "config.h"

#include <string.h>

#include "takes-player-paintable.h"

struct _TakesPlayerPaintable
{
  GObject parent_instance;

  GBytes *frame;
  int width, height;
  int full_width, full_height; /* at 1:1; 0 when the frame's own */
  gsize stride;
  guint cols, rows;

  GdkTexture *texture;      /* the whole frame */
  GdkTexture *view_texture; /* the current view of it */

  TakesPlayerView view;
  guint cell;
  double wipe;
  GtkOrientation wipe_orientation;

  gboolean drawn;
  guint64 n_undrawn;
  guint64 n_drawn;
};

static void takes_player_paintable_iface_init (GdkPaintableInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TakesPlayerPaintable,
                               takes_player_paintable,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (GDK_TYPE_PAINTABLE, takes_player_paintable_iface_init))

G_DEFINE_ENUM_TYPE (TakesPlayerView,
                    takes_player_view,
                    G_DEFINE_ENUM_VALUE (TAKES_PLAYER_VIEW_GRID, "grid"),
                    G_DEFINE_ENUM_VALUE (TAKES_PLAYER_VIEW_SINGLE, "single"),
                    G_DEFINE_ENUM_VALUE (TAKES_PLAYER_VIEW_WIPE, "wipe"),
                    G_DEFINE_ENUM_VALUE (TAKES_PLAYER_VIEW_DIFFERENCE, "difference"))

static int
cell_width (TakesPlayerPaintable *self)
{
  return self->cols > 0 ? self->width / (int)self->cols : self->width;
}

static int
cell_height (TakesPlayerPaintable *self)
{
  return self->rows > 0 ? self->height / (int)self->rows : self->height;
}

static gboolean
shows_one_cell (TakesPlayerPaintable *self)
{
  return self->view != TAKES_PLAYER_VIEW_GRID && self->cols * self->rows > 1;
}

static const guint8 *
cell_pixels (TakesPlayerPaintable *self, const guint8 *data, guint cell)
{
  guint n = self->cols * self->rows;
  guint col, row;

  cell = MIN (cell, n - 1);
  col = cell % self->cols;
  row = cell / self->cols;
  return data + (gsize)row * cell_height (self) * self->stride + (gsize)col * cell_width (self) * 4;
}

static void
copy_rect (guint8 *dest, gsize dest_stride, const guint8 *src, gsize src_stride, int x, int y, int w, int h)
{
  for (int j = y; j < y + h; j++)
    memcpy (dest + (gsize)j * dest_stride + (gsize)x * 4, src + (gsize)j * src_stride + (gsize)x * 4,
            (gsize)w * 4);
}

/* Each channel's difference is multiplied so that small changes (noise, a
 * shifted edge) become visible; alpha stays opaque. */
static void
difference (guint8 *dest, gsize dest_stride, const guint8 *a, const guint8 *b, gsize src_stride, int w, int h)
{
  for (int j = 0; j < h; j++)
    {
      const guint8 *pa = a + (gsize)j * src_stride;
      const guint8 *pb = b + (gsize)j * src_stride;
      guint8 *pd = dest + (gsize)j * dest_stride;

      for (int i = 0; i < w; i++)
        {
          for (int c = 0; c < 3; c++)
            {
              int d = ABS ((int)pa[4 * i + c] - (int)pb[4 * i + c]) * TAKES_PLAYER_DIFFERENCE_GAIN;

              pd[4 * i + c] = (guint8)MIN (d, 255);
            }
          pd[4 * i + 3] = 255;
        }
    }
}

static GdkTexture *
make_view_texture (TakesPlayerPaintable *self)
{
  int cw = cell_width (self);
  int ch = cell_height (self);
  gsize out_stride = (gsize)cw * 4;
  const guint8 *data = g_bytes_get_data (self->frame, NULL);
  g_autofree guint8 *out = g_malloc ((gsize)ch * out_stride);
  g_autoptr (GBytes) bytes = NULL;

  switch (self->view)
    {
      case TAKES_PLAYER_VIEW_WIPE:
        {
          const guint8 *a = cell_pixels (self, data, 0);
          const guint8 *b = cell_pixels (self, data, 1);

          if (self->wipe_orientation == GTK_ORIENTATION_HORIZONTAL)
            {
              int split = CLAMP ((int)(self->wipe * cw + 0.5), 0, cw);

              copy_rect (out, out_stride, a, self->stride, 0, 0, split, ch);
              copy_rect (out, out_stride, b, self->stride, split, 0, cw - split, ch);
            }
          else
            {
              int split = CLAMP ((int)(self->wipe * ch + 0.5), 0, ch);

              copy_rect (out, out_stride, a, self->stride, 0, 0, cw, split);
              copy_rect (out, out_stride, b, self->stride, 0, split, cw, ch - split);
            }
          break;
        }
      case TAKES_PLAYER_VIEW_DIFFERENCE:
        difference (out, out_stride, cell_pixels (self, data, 0), cell_pixels (self, data, 1), self->stride,
                    cw, ch);
        break;
      case TAKES_PLAYER_VIEW_SINGLE:
      case TAKES_PLAYER_VIEW_GRID:
      default:
        copy_rect (out, out_stride, cell_pixels (self, data, self->cell), self->stride, 0, 0, cw, ch);
        break;
    }
  bytes = g_bytes_new_take (g_steal_pointer (&out), (gsize)ch * out_stride);
  return gdk_memory_texture_new (cw, ch, GDK_MEMORY_B8G8R8A8_PREMULTIPLIED, bytes, out_stride);
}

static void
update_view (TakesPlayerPaintable *self)
{
  g_clear_object (&self->view_texture);
  if (self->frame != NULL && shows_one_cell (self))
    self->view_texture = make_view_texture (self);
}

static GdkTexture *
shown_texture (TakesPlayerPaintable *self)
{
  return self->view_texture != NULL ? self->view_texture : self->texture;
}

static void
takes_player_paintable_snapshot (GdkPaintable *paintable, GdkSnapshot *snapshot, double width, double height)
{
  TakesPlayerPaintable *self = TAKES_PLAYER_PAINTABLE (paintable);
  GdkTexture *texture = shown_texture (self);

  if (texture == NULL)
    return;
  gdk_paintable_snapshot (GDK_PAINTABLE (texture), snapshot, width, height);
  if (self->view == TAKES_PLAYER_VIEW_WIPE && shows_one_cell (self))
    {
      GdkRGBA line = { 1.0, 1.0, 1.0, 0.8 };
      graphene_rect_t rect;

      if (self->wipe_orientation == GTK_ORIENTATION_HORIZONTAL)
        graphene_rect_init (&rect, (float)(self->wipe * width) - 1.0f, 0.0f, 2.0f, (float)height);
      else
        graphene_rect_init (&rect, 0.0f, (float)(self->wipe * height) - 1.0f, (float)width, 2.0f);
      gtk_snapshot_append_color (GTK_SNAPSHOT (snapshot), &line, &rect);
    }
  if (!self->drawn)
    {
      self->drawn = TRUE;
      self->n_drawn++;
    }
}

static int
takes_player_paintable_get_intrinsic_width (GdkPaintable *paintable)
{
  TakesPlayerPaintable *self = TAKES_PLAYER_PAINTABLE (paintable);
  int width;

  if (self->frame == NULL)
    return 0;
  width = self->full_width > 0 ? self->full_width : self->width;
  return shows_one_cell (self) ? width / (int)self->cols : width;
}

static int
takes_player_paintable_get_intrinsic_height (GdkPaintable *paintable)
{
  TakesPlayerPaintable *self = TAKES_PLAYER_PAINTABLE (paintable);
  int height;

  if (self->frame == NULL)
    return 0;
  height = self->full_height > 0 ? self->full_height : self->height;
  return shows_one_cell (self) ? height / (int)self->rows : height;
}

static void
takes_player_paintable_iface_init (GdkPaintableInterface *iface)
{
  iface->snapshot = takes_player_paintable_snapshot;
  iface->get_intrinsic_width = takes_player_paintable_get_intrinsic_width;
  iface->get_intrinsic_height = takes_player_paintable_get_intrinsic_height;
}

static void
takes_player_paintable_finalize (GObject *object)
{
  TakesPlayerPaintable *self = TAKES_PLAYER_PAINTABLE (object);

  g_clear_pointer (&self->frame, g_bytes_unref);
  g_clear_object (&self->texture);
  g_clear_object (&self->view_texture);
  G_OBJECT_CLASS (takes_player_paintable_parent_class)->finalize (object);
}

static void
takes_player_paintable_class_init (TakesPlayerPaintableClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = takes_player_paintable_finalize;
}

static void
takes_player_paintable_init (TakesPlayerPaintable *self)
{
  self->cols = self->rows = 1;
  self->wipe = 0.5;
  self->wipe_orientation = GTK_ORIENTATION_HORIZONTAL;
}

TakesPlayerPaintable *
takes_player_paintable_new (void)
{
  return g_object_new (TAKES_TYPE_PLAYER_PAINTABLE, NULL);
}

void
takes_player_paintable_set_frame (
    TakesPlayerPaintable *self, GBytes *bgra, int width, int height, gsize stride, guint cols, guint rows)
{
  int old_width, old_height;

  g_return_if_fail (TAKES_IS_PLAYER_PAINTABLE (self));
  g_return_if_fail (bgra == NULL || (width > 0 && height > 0 && cols > 0 && rows > 0));
  g_return_if_fail (bgra == NULL
                    || g_bytes_get_size (bgra) >= (gsize)(height - 1) * stride + (gsize)width * 4);

  old_width = takes_player_paintable_get_intrinsic_width (GDK_PAINTABLE (self));
  old_height = takes_player_paintable_get_intrinsic_height (GDK_PAINTABLE (self));
  if (self->frame != NULL && !self->drawn)
    self->n_undrawn++;

  g_clear_pointer (&self->frame, g_bytes_unref);
  g_clear_object (&self->texture);
  if (bgra != NULL)
    {
      self->frame = g_bytes_ref (bgra);
      self->width = width;
      self->height = height;
      self->stride = stride;
      self->cols = cols;
      self->rows = rows;
      self->texture = gdk_memory_texture_new (width, height, GDK_MEMORY_B8G8R8A8_PREMULTIPLIED, bgra, stride);
    }
  self->drawn = FALSE;
  update_view (self);

  if (old_width != takes_player_paintable_get_intrinsic_width (GDK_PAINTABLE (self))
      || old_height != takes_player_paintable_get_intrinsic_height (GDK_PAINTABLE (self)))
    gdk_paintable_invalidate_size (GDK_PAINTABLE (self));
  gdk_paintable_invalidate_contents (GDK_PAINTABLE (self));
}

void
takes_player_paintable_set_size (TakesPlayerPaintable *self, int width, int height)
{
  int old_width, old_height;

  g_return_if_fail (TAKES_IS_PLAYER_PAINTABLE (self));
  width = MAX (width, 0);
  height = MAX (height, 0);
  if (self->full_width == width && self->full_height == height)
    return;
  old_width = takes_player_paintable_get_intrinsic_width (GDK_PAINTABLE (self));
  old_height = takes_player_paintable_get_intrinsic_height (GDK_PAINTABLE (self));
  self->full_width = width;
  self->full_height = height;
  if (old_width != takes_player_paintable_get_intrinsic_width (GDK_PAINTABLE (self))
      || old_height != takes_player_paintable_get_intrinsic_height (GDK_PAINTABLE (self)))
    gdk_paintable_invalidate_size (GDK_PAINTABLE (self));
}

GdkTexture *
takes_player_paintable_get_texture (TakesPlayerPaintable *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER_PAINTABLE (self), NULL);
  return self->texture;
}

static void
view_changed (TakesPlayerPaintable *self, int old_width, int old_height)
{
  update_view (self);
  if (old_width != takes_player_paintable_get_intrinsic_width (GDK_PAINTABLE (self))
      || old_height != takes_player_paintable_get_intrinsic_height (GDK_PAINTABLE (self)))
    gdk_paintable_invalidate_size (GDK_PAINTABLE (self));
  gdk_paintable_invalidate_contents (GDK_PAINTABLE (self));
}

void
takes_player_paintable_set_view (TakesPlayerPaintable *self, TakesPlayerView view)
{
  int old_width, old_height;

  g_return_if_fail (TAKES_IS_PLAYER_PAINTABLE (self));
  if (self->view == view)
    return;
  old_width = takes_player_paintable_get_intrinsic_width (GDK_PAINTABLE (self));
  old_height = takes_player_paintable_get_intrinsic_height (GDK_PAINTABLE (self));
  self->view = view;
  view_changed (self, old_width, old_height);
}

TakesPlayerView
takes_player_paintable_get_view (TakesPlayerPaintable *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER_PAINTABLE (self), TAKES_PLAYER_VIEW_GRID);
  return self->view;
}

void
takes_player_paintable_set_cell (TakesPlayerPaintable *self, guint cell)
{
  int old_width, old_height;

  g_return_if_fail (TAKES_IS_PLAYER_PAINTABLE (self));
  if (self->cell == cell)
    return;
  old_width = takes_player_paintable_get_intrinsic_width (GDK_PAINTABLE (self));
  old_height = takes_player_paintable_get_intrinsic_height (GDK_PAINTABLE (self));
  self->cell = cell;
  view_changed (self, old_width, old_height);
}

guint
takes_player_paintable_get_cell (TakesPlayerPaintable *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER_PAINTABLE (self), 0);
  return self->cell;
}

void
takes_player_paintable_set_wipe (TakesPlayerPaintable *self, double position, GtkOrientation orientation)
{
  int old_width, old_height;

  g_return_if_fail (TAKES_IS_PLAYER_PAINTABLE (self));
  position = CLAMP (position, 0.0, 1.0);
  if (self->wipe == position && self->wipe_orientation == orientation)
    return;
  old_width = takes_player_paintable_get_intrinsic_width (GDK_PAINTABLE (self));
  old_height = takes_player_paintable_get_intrinsic_height (GDK_PAINTABLE (self));
  self->wipe = position;
  self->wipe_orientation = orientation;
  view_changed (self, old_width, old_height);
}

double
takes_player_paintable_get_wipe (TakesPlayerPaintable *self, GtkOrientation *orientation)
{
  g_return_val_if_fail (TAKES_IS_PLAYER_PAINTABLE (self), 0.5);
  if (orientation != NULL)
    *orientation = self->wipe_orientation;
  return self->wipe;
}

guint64
takes_player_paintable_get_n_undrawn (TakesPlayerPaintable *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER_PAINTABLE (self), 0);
  return self->n_undrawn;
}

guint64
takes_player_paintable_get_n_drawn (TakesPlayerPaintable *self)
{
  g_return_val_if_fail (TAKES_IS_PLAYER_PAINTABLE (self), 0);
  return self->n_drawn;
}

GdkTexture *
takes_player_paintable_render (TakesPlayerPaintable *self)
{
  GdkTexture *texture;

  g_return_val_if_fail (TAKES_IS_PLAYER_PAINTABLE (self), NULL);
  texture = shown_texture (self);
  return texture != NULL ? g_object_ref (texture) : NULL;
}
