/* takes-media.h: encoding, probing, decoding and thumbnails of takes (GStreamer).
 *
 * Every call here is synchronous and may take a while: run it in a worker thread
 * (GTask), never on the GTK main loop. Functions are safe to call from several
 * threads at once; each call or encoder owns its own pipeline.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define TAKES_MEDIA_ERROR (takes_media_error_quark ())

typedef enum
{
  TAKES_MEDIA_ERROR_NOT_VIDEO,      /* not a video: text, image, audio only, damaged */
  TAKES_MEDIA_ERROR_UNREADABLE,     /* missing, or no permission to read */
  TAKES_MEDIA_ERROR_NO_ENCODER,     /* x264enc and openh264enc absent, or no mp4mux */
  TAKES_MEDIA_ERROR_WRITE,          /* disk full, file size limit, folder not writable */
  TAKES_MEDIA_ERROR_INVALID,        /* bad arguments: odd size, zero frames, broken recipe */
  TAKES_MEDIA_ERROR_FAILED,         /* anything else GStreamer reports */
  TAKES_MEDIA_ERROR_MISSING_PLUGIN, /* a demuxer or decoder needed to read the file is absent */
} TakesMediaError;

GQuark takes_media_error_quark (void);

/* A file's comment tag holds this prefix followed by the recipe JSON; a comment
 * without it is never taken for a recipe. */
#define TAKES_MEDIA_RECIPE_PREFIX "takes-recipe="

/* The largest frame side the encoder accepts (H.264 level 6.2 is 8192×4320). */
#define TAKES_MEDIA_MAX_SIZE 8192

typedef struct
{
  guint64 duration_ns;
  int width, height; /* coded size of the first video stream */
  int fps_n, fps_d;  /* estimated from duration and frames when the file has none */
  guint n_frames;    /* counted from the file's packets, not estimated */
  char *video_codec; /* human-readable, e.g. "H.264 (High Profile)" */
  char *container;   /* e.g. "ISO MP4/M4A", "WebM"; NULL for a bare stream */
  char *recipe_json; /* the Takes recipe from the file's tags, or NULL */
  gboolean has_audio;
  char *extension; /* the usual file name extension for the container: "mp4", "webm", "mkv", … */
} TakesMediaInfo;

TakesMediaInfo *takes_media_probe (const char *path, GError **error);
void takes_media_info_free (TakesMediaInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesMediaInfo, takes_media_info_free)

/* Whether an H.264 encoder and mp4mux are installed; the error names the package. */
gboolean takes_media_can_encode (GError **error);

typedef struct _TakesMediaEncoder TakesMediaEncoder;

/* Width and height must be even (H.264 4:2:0) and at most TAKES_MEDIA_MAX_SIZE.
 * recipe_json, when given, must be a JSON object; it is stored in the comment tag. */
TakesMediaEncoder *takes_media_encoder_new (
    const char *path, int width, int height, int fps_n, int fps_d, const char *recipe_json, GError **error);
/* Packed RGB, 3 bytes a pixel, rows stride bytes apart. Blocks while the encoder
 * is a few frames behind, so memory stays bounded. */
gboolean
takes_media_encoder_push_rgb (TakesMediaEncoder *enc, const guint8 *rgb, gsize stride, GError **error);
/* Writes a temporary file next to the target and renames it into place; on any
 * failure neither is left behind. The encoder accepts nothing after this. */
gboolean takes_media_encoder_finish (TakesMediaEncoder *enc, GError **error);
/* An unfinished encoder is aborted and its temporary file removed. */
void takes_media_encoder_free (TakesMediaEncoder *enc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesMediaEncoder, takes_media_encoder_free)

/* A PNG of the middle frame, scaled down (never up) to fit max_size × max_size. */
gboolean takes_media_write_thumbnail (const char *video, const char *png_out, int max_size, GError **error);
/* n_frames evenly spaced frames, first and last included, side by side at the
 * given height, as one PNG. A clip with fewer frames gives one tile per frame. */
gboolean takes_media_write_poster_strip (
    const char *video, const char *png_out, int n_frames, int height, GError **error);

/* Decodes every frame to packed RGB; calls func for each (return FALSE to stop).
 * pts_ns is the frame's time from the start of the stream. */
typedef gboolean (*TakesMediaFrameFunc) (
    const guint8 *rgb, int width, int height, gsize stride, guint index, guint64 pts_ns, gpointer user_data);
gboolean
takes_media_decode_rgb (const char *path, TakesMediaFrameFunc func, gpointer user_data, GError **error);

/* Copies a video (any container GStreamer reads, MP4 and WebM included) to dest
 * through a temporary name and a rename, after probing it; a file that does not
 * probe as video is refused and nothing is written. Returns the probe, with
 * info->recipe_json set when the file carries a Takes recipe, and
 * info->extension the name ending dest would best have. */
TakesMediaInfo *takes_media_import (const char *src, const char *dest, GError **error);

G_END_DECLS
