/* takes-media-private.h: helpers shared by the takes-media-*.c files. */
#pragma once

#include <gst/gst.h>

#include "takes-media.h"

G_BEGIN_DECLS

/* A bound on any single wait for GStreamer, so a stuck pipeline becomes an error
 * instead of a hung worker thread. Generous: sanitizer builds are slow. */
#define TAKES_MEDIA_TIMEOUT_NS (120 * GST_SECOND)

gboolean takes_media_ensure_init (GError **error);

/* Fails with UNREADABLE (missing, no permission) or NOT_VIDEO (a folder, an empty
 * file) before any pipeline is built, so the common mistakes get plain messages. */
gboolean takes_media_check_readable (const char *path, GError **error);

/* Maps a GStreamer error to a TakesMediaError code a user can act on. */
TakesMediaError takes_media_code_for_gst_error (const GError *gst_error);

/* Sets error from a bus ERROR message, naming the file. */
void takes_media_set_error_from_message (GError **error, GstMessage *message, const char *path);

/* Sets error from a GStreamer GError, naming the file. */
void takes_media_set_error_from_gst (GError **error, const GError *gst_error, const char *path);

/* Called from a streaming thread for each elementary stream of the file (the
 * demuxers' outputs, or the file itself when it is a bare stream). The callee
 * links pad; caps may be NULL when the type is unknown. */
typedef void (*TakesMediaStreamFunc) (GstPad *pad, GstCaps *caps, gpointer user_data);
/* Called once every stream has been announced. */
typedef void (*TakesMediaStreamsDoneFunc) (gpointer user_data);

/* Sets a pipeline holding file sources made with takes_media_add_file_source
 * (in it or in bins inside it) to NULL without racing a streaming thread that
 * is still plugging elements. */
void takes_media_stop_pipeline (GstElement *pipeline);

/* Adds filesrc → typefind → demuxers to pipeline (a pipeline or a bin inside
 * one; several files may share it), the demuxers chosen by rank and plugged
 * directly so their errors always reach the bus. */
gboolean takes_media_add_file_source (GstElement *pipeline,
                                      const char *path,
                                      TakesMediaStreamFunc stream_func,
                                      TakesMediaStreamsDoneFunc done_func,
                                      gpointer user_data,
                                      GError **error);

/* Links pad to a new fakesink, for streams that are read and dropped. */
void takes_media_add_fakesink (GstElement *pipeline, GstPad *pad);

/* Plugging an element from a streaming thread: takes_media_plug_add() adds
 * it to the pipeline with its state locked, so a state change running on
 * another thread skips it instead of activating its pads against the stream
 * lock the plugging thread holds; after linking, takes_media_plug_sync()
 * brings it to the pipeline's target state from the plugging thread and
 * unlocks it. */
void takes_media_plug_add (GstElement *pipeline, GstElement *element);
void takes_media_plug_sync (GstElement *pipeline, GstElement *element);

/* Whether the caps are a video or image stream (encoded or raw). */
gboolean takes_media_caps_are_video (const GstCaps *caps);

G_END_DECLS
