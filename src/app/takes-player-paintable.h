/* takes-player-paintable.h: the frames of a TakesPlayer as a GdkPaintable.
 *
 * A frame holds one take, or 2–4 takes composited into a grid of equal cells
 * by the pipeline. The paintable shows the whole grid, one cell, a wipe
 * between the first two cells, or their amplified difference; switching views
 * and dragging the wipe need no new frame, so they work while paused.
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

typedef enum
{
  TAKES_PLAYER_VIEW_GRID,       /* every cell, side by side */
  TAKES_PLAYER_VIEW_SINGLE,     /* one cell, chosen by index (toggle) */
  TAKES_PLAYER_VIEW_WIPE,       /* the first cell before the split, the second after */
  TAKES_PLAYER_VIEW_DIFFERENCE, /* |first − second| amplified */
} TakesPlayerView;

GType takes_player_view_get_type (void);
#define TAKES_TYPE_PLAYER_VIEW (takes_player_view_get_type ())

/* How much the difference view multiplies each channel's difference. */
#define TAKES_PLAYER_DIFFERENCE_GAIN 4

#define TAKES_TYPE_PLAYER_PAINTABLE (takes_player_paintable_get_type ())
G_DECLARE_FINAL_TYPE (TakesPlayerPaintable, takes_player_paintable, TAKES, PLAYER_PAINTABLE, GObject)

TakesPlayerPaintable *takes_player_paintable_new (void);

/* bgra: premultiplied B8G8R8A8 rows, stride bytes apart, width × height; the
 * frame is cols × rows cells of equal size. NULL clears the picture. */
void takes_player_paintable_set_frame (
    TakesPlayerPaintable *self, GBytes *bgra, int width, int height, gsize stride, guint cols, guint rows);
GdkTexture *takes_player_paintable_get_texture (TakesPlayerPaintable *self);
/* The size of the whole frame at 1:1, which the paintable reports and draws
 * frames at even when they come smaller (converted to the size they are
 * shown at); 0×0 takes each frame's own size. */
void takes_player_paintable_set_size (TakesPlayerPaintable *self, int width, int height);

void takes_player_paintable_set_view (TakesPlayerPaintable *self, TakesPlayerView view);
TakesPlayerView takes_player_paintable_get_view (TakesPlayerPaintable *self);
void takes_player_paintable_set_cell (TakesPlayerPaintable *self, guint cell);
guint takes_player_paintable_get_cell (TakesPlayerPaintable *self);
/* position from 0 to 1 across (horizontal) or down (vertical) the picture. */
void
takes_player_paintable_set_wipe (TakesPlayerPaintable *self, double position, GtkOrientation orientation);
double takes_player_paintable_get_wipe (TakesPlayerPaintable *self, GtkOrientation *orientation);

/* Frames set while a previous one had not been drawn yet. */
guint64 takes_player_paintable_get_n_undrawn (TakesPlayerPaintable *self);
guint64 takes_player_paintable_get_n_drawn (TakesPlayerPaintable *self);

/* The picture as it is drawn in the current view, at its intrinsic size. */
GdkTexture *takes_player_paintable_render (TakesPlayerPaintable *self);

G_END_DECLS
