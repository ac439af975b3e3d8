/* takes-player.h: a video player widget for takes.
 *
 * The only GStreamer code in src/app. Frames come from an appsink driven by the
 * pipeline clock and are shown as GdkMemoryTextures; every state change is
 * posted back to the main thread. Frame numbers count from 0 at the start of
 * the take.
 */
#pragma once

#include <gtk/gtk.h>

#include "takes-player-paintable.h"

G_BEGIN_DECLS

typedef enum
{
  TAKES_PLAYER_STATE_EMPTY,   /* no file */
  TAKES_PLAYER_STATE_LOADING, /* opening the file, no frame yet */
  TAKES_PLAYER_STATE_PAUSED,  /* a frame is shown and time stands still */
  TAKES_PLAYER_STATE_PLAYING,
  TAKES_PLAYER_STATE_ERROR, /* see takes_player_get_error () */
} TakesPlayerState;

GType takes_player_state_get_type (void);
#define TAKES_TYPE_PLAYER_STATE (takes_player_state_get_type ())

/* The slowest and fastest playback speeds, as multiples of normal speed. */
#define TAKES_PLAYER_MIN_RATE 0.25
#define TAKES_PLAYER_MAX_RATE 2.0

#define TAKES_TYPE_PLAYER (takes_player_get_type ())
G_DECLARE_FINAL_TYPE (TakesPlayer, takes_player, TAKES, PLAYER, GtkWidget)

GtkWidget *takes_player_new (void);

/* The most takes one player composites. */
#define TAKES_PLAYER_MAX_SOURCES 4

/* Opens a take, paused on its first frame; NULL empties the player. */
void takes_player_set_path (TakesPlayer *self, const char *path);
/* The first take's path, or NULL. */
const char *takes_player_get_path (TakesPlayer *self);
/* Opens 1–TAKES_PLAYER_MAX_SOURCES takes in one pipeline, composited by the
 * core's compare bin (takes_compare_bin_new) into a grid (2×1 for two, 2×2
 * for three or four) planned by takes_compare_plan: cells as large as the
 * largest take, every take scaled into its cell keeping its aspect ratio and
 * retimed to the fastest frame rate, and a shorter one's cell black after
 * its end. Frame numbers count at that rate over the first take's length.
 * Plays forwards and backwards; forwards, a loop goes round without a gap. */
void takes_player_set_paths (TakesPlayer *self, const char *const *paths);
/* Plays the takes one after another without a gap (an animatic), each scaled
 * to the size of the first. Frame numbers count through the whole sequence. */
void takes_player_set_sequence (TakesPlayer *self, const char *const *paths);
guint takes_player_get_n_sources (TakesPlayer *self);
/* Size, rate and frame count of one take, known once the player has left the
 * loading state. */
gboolean takes_player_get_source_info (
    TakesPlayer *self, guint index, int *width, int *height, int *fps_n, int *fps_d, guint *n_frames);
/* In a sequence, the take on screen now. */
guint takes_player_get_sequence_index (TakesPlayer *self);

/* How a composited frame is shown; see TakesPlayerView. */
void takes_player_set_view (TakesPlayer *self, TakesPlayerView view);
TakesPlayerView takes_player_get_view (TakesPlayer *self);
/* The take shown by TAKES_PLAYER_VIEW_SINGLE. */
void takes_player_set_view_source (TakesPlayer *self, guint index);
guint takes_player_get_view_source (TakesPlayer *self);
void takes_player_set_wipe (TakesPlayer *self, double position, GtkOrientation orientation);

TakesPlayerState takes_player_get_state (TakesPlayer *self);
/* Why the player is in the error state: a TakesMediaError. */
const GError *takes_player_get_error (TakesPlayer *self);

void takes_player_play (TakesPlayer *self);
void takes_player_pause (TakesPlayer *self);
void takes_player_toggle_play (TakesPlayer *self);

/* Frame count and rate of the open take (0 until it has loaded). */
guint takes_player_get_n_frames (TakesPlayer *self);
void takes_player_get_framerate (TakesPlayer *self, int *fps_n, int *fps_d);
/* The frame on screen now. */
guint takes_player_get_frame (TakesPlayer *self);
/* Whether the player is loading or a seek is still under way. */
gboolean takes_player_is_busy (TakesPlayer *self);
/* Shows the given frame exactly, keeping play or pause. */
void takes_player_seek_frame (TakesPlayer *self, guint frame);
/* Pauses and moves by delta frames, clamped to the take (or the loop range). */
void takes_player_step (TakesPlayer *self, int delta);

/* Positive speeds from TAKES_PLAYER_MIN_RATE to TAKES_PLAYER_MAX_RATE, or
 * the same range negated to play backwards. */
void takes_player_set_rate (TakesPlayer *self, double rate);
double takes_player_get_rate (TakesPlayer *self);
/* J/K/L: each J (direction -1) or L (+1) press doubles the speed in its
 * direction up to the maximum, or starts from 1× when the direction changes;
 * K (0) pauses and resets the speed to 1×. */
void takes_player_shuttle (TakesPlayer *self, int direction);

/* Looping repeats the whole take, or the range from in_frame to out_frame
 * (both shown) when one is set. */
void takes_player_set_loop (TakesPlayer *self, gboolean loop);
gboolean takes_player_get_loop (TakesPlayer *self);
void takes_player_set_loop_range (TakesPlayer *self, guint in_frame, guint out_frame);
void takes_player_clear_loop_range (TakesPlayer *self);
gboolean takes_player_get_loop_range (TakesPlayer *self, guint *in_frame, guint *out_frame);

/* Fit scales the picture to the widget; otherwise one video pixel is one
 * screen pixel and the picture scrolls. */
void takes_player_set_zoom_fit (TakesPlayer *self, gboolean fit);
gboolean takes_player_get_zoom_fit (TakesPlayer *self);

/* Where a point of the widget (x, y) falls on the picture, as fractions of
 * its width and height (0–1 inside it); FALSE when nothing is shown. */
gboolean takes_player_get_picture_fraction (TakesPlayer *self, double x, double y, double *fx, double *fy);

/* The current frame as a paintable, for thumbnails and screenshots. */
GdkPaintable *takes_player_get_paintable (TakesPlayer *self);
/* "HH:MM:SS:FF" for a frame at the given rate. */
char *takes_player_format_timecode (guint frame, int fps_n, int fps_d);

/* Frames that reached the sink but were replaced before they were drawn. */
guint64 takes_player_get_dropped_frames (TakesPlayer *self);
guint64 takes_player_get_rendered_frames (TakesPlayer *self);
/* A frame that reaches the sink this long after its time on the pipeline
 * clock is late: a quarter of a frame at 24 fps. */
#define TAKES_PLAYER_LATE_NS (10 * G_GUINT64_CONSTANT (1000000))
/* Frames shown while playing that were late. The "frame-shown" signal
 * (guint frame, gint64 due_us, gint64 late_us) gives every frame put on
 * screen while playing: its number, its running time on the pipeline clock
 * and how many microseconds after that it reached the sink. */
guint64 takes_player_get_late_frames (TakesPlayer *self);

G_END_DECLS
