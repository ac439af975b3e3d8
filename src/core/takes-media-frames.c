/* takes-media-frames.c: decoding to RGB, thumbnails and poster strips.
 *
 * One reader pipeline serves all three: filesrc → decodebin → videoconvert →
 * RGB appsink at the file's own size. Frames are scaled afterwards with
 * GstVideoConverter, which also places the tiles of a poster strip, and PNGs are
 * made by pngenc through gst_video_convert_sample and written through a
 * temporary name and a rename.
 */
#include "config.h"

#define G_LOG_DOMAIN "takes-media"

#include <glib/gi18n.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>
#include <math.h>

#include "takes-media-private.h"

/* How long one pull waits before the bus is checked for an error. */
#define PULL_SLICE_NS (100 * GST_MSECOND)

#define MAX_STRIP_FRAMES 256
#define MAX_STRIP_HEIGHT 2160
#define MAX_PNG_SIDE 32768

/* Up to this many frames, decoding from the start is cheaper than seeking to
 * each wanted frame (every seek decodes from the keyframe before it). */
#define MAX_FRAMES_DECODED_IN_ORDER 150

#define NO_VIDEO_MESSAGE "takes-no-video"

typedef struct
{
  char *path;
  GstElement *pipeline;
  GstElement *convert; /* head of the video branch, owned by the pipeline */
  GstElement *sink;    /* owned by the pipeline */
  GstBus *bus;
  GMutex lock;
  gboolean have_stream; /* the first video stream went to decodebin */
  gboolean have_video;  /* decodebin's raw video is linked to convert */
  /* Serialises plugging a decoder from the streaming thread against the
   * shutdown: a streaming thread that syncs an element's state while the
   * pipeline goes to NULL would deadlock with the pad deactivation. */
  GMutex plug_lock;
  gboolean closing;
} FrameReader;

static void
frame_reader_free (FrameReader *reader)
{
  if (reader == NULL)
    return;
  g_mutex_lock (&reader->plug_lock);
  reader->closing = TRUE;
  g_mutex_unlock (&reader->plug_lock);
  if (reader->pipeline != NULL)
    takes_media_stop_pipeline (reader->pipeline);
  gst_clear_object (&reader->bus);
  gst_clear_object (&reader->pipeline);
  g_mutex_clear (&reader->plug_lock);
  g_mutex_clear (&reader->lock);
  g_free (reader->path);
  g_free (reader);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FrameReader, frame_reader_free)

static void
drop_element (GstElement **element)
{
  if (*element != NULL)
    {
      gst_object_ref_sink (*element);
      gst_clear_object (element);
    }
}

static gboolean
claim (FrameReader *reader, gboolean *flag)
{
  gboolean claimed;

  g_mutex_lock (&reader->lock);
  claimed = !*flag;
  *flag = TRUE;
  g_mutex_unlock (&reader->lock);
  return claimed;
}

/* Without a video stream the appsink would wait for a first frame forever;
 * this message ends the wait with a clear error. */
static void
post_no_video (FrameReader *reader)
{
  gst_element_post_message (reader->pipeline,
                            gst_message_new_application (GST_OBJECT (reader->pipeline),
                                                         gst_structure_new_empty (NO_VIDEO_MESSAGE)));
}

static void
decoded_pad_added_cb (GstElement *decodebin, GstPad *pad, gpointer user_data)
{
  FrameReader *reader = user_data;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&reader->plug_lock);
  g_autoptr (GstCaps) caps = NULL;
  g_autoptr (GstPad) sink_pad = NULL;

  if (reader->closing)
    return;
  caps = gst_pad_get_current_caps (pad);
  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (caps != NULL && !gst_caps_is_empty (caps) && !gst_caps_is_any (caps)
      && gst_structure_has_name (gst_caps_get_structure (caps, 0), "video/x-raw")
      && claim (reader, &reader->have_video))
    {
      sink_pad = gst_element_get_static_pad (reader->convert, "sink");
      if (gst_pad_link (pad, sink_pad) != GST_PAD_LINK_OK)
        GST_ELEMENT_ERROR (reader->pipeline, CORE, NEGOTIATION,
                           (_ ("The decoded video could not be converted to RGB.")), (NULL));
      return;
    }
  takes_media_add_fakesink (reader->pipeline, pad);
}

static void
decoded_no_more_pads_cb (GstElement *decodebin, gpointer user_data)
{
  FrameReader *reader = user_data;
  gboolean have_video;

  g_mutex_lock (&reader->lock);
  have_video = reader->have_video;
  g_mutex_unlock (&reader->lock);
  if (!have_video)
    post_no_video (reader);
}

/* The first video stream is decoded; sound and further video streams are read
 * and dropped, so the demuxer never stalls on an unlinked pad. */
static void
reader_stream_cb (GstPad *pad, GstCaps *caps, gpointer user_data)
{
  FrameReader *reader = user_data;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&reader->plug_lock);
  g_autoptr (GstPad) sink_pad = NULL;
  GstElement *decodebin;

  if (reader->closing)
    return;
  if (!takes_media_caps_are_video (caps) || !claim (reader, &reader->have_stream))
    {
      takes_media_add_fakesink (reader->pipeline, pad);
      return;
    }
  decodebin = gst_element_factory_make ("decodebin", NULL);
  if (decodebin == NULL)
    {
      GST_ELEMENT_ERROR (
          reader->pipeline, CORE, MISSING_PLUGIN,
          (_ ("The GStreamer element decodebin is missing. Install gstreamer1.0-plugins-base.")), (NULL));
      return;
    }
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (decoded_pad_added_cb), reader);
  g_signal_connect (decodebin, "no-more-pads", G_CALLBACK (decoded_no_more_pads_cb), reader);
  takes_media_plug_add (reader->pipeline, decodebin);
  sink_pad = gst_element_get_static_pad (decodebin, "sink");
  gst_pad_link (pad, sink_pad);
  takes_media_plug_sync (reader->pipeline, decodebin);
}

static void
reader_streams_done_cb (gpointer user_data)
{
  FrameReader *reader = user_data;
  gboolean have_stream;

  g_mutex_lock (&reader->lock);
  have_stream = reader->have_stream;
  g_mutex_unlock (&reader->lock);
  if (!have_stream)
    post_no_video (reader);
}

static FrameReader *
frame_reader_new (const char *path, GError **error)
{
  g_autoptr (FrameReader) reader = NULL;
  g_autoptr (GstCaps) caps = NULL;
  GstElement *convert, *sink;

  if (!takes_media_ensure_init (error) || !takes_media_check_readable (path, error))
    return NULL;

  convert = gst_element_factory_make ("videoconvert", NULL);
  sink = gst_element_factory_make ("appsink", NULL);
  if (convert == NULL || sink == NULL)
    {
      drop_element (&convert);
      drop_element (&sink);
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_MISSING_PLUGIN,
                   _ ("The GStreamer elements for reading video (videoconvert, appsink) are missing. Install "
                      "gstreamer1.0-plugins-base."));
      return NULL;
    }

  reader = g_new0 (FrameReader, 1);
  g_mutex_init (&reader->lock);
  g_mutex_init (&reader->plug_lock);
  reader->path = g_strdup (path);
  reader->pipeline = gst_object_ref_sink (gst_pipeline_new ("takes-reader"));
  reader->bus = gst_element_get_bus (reader->pipeline);
  reader->convert = convert;
  reader->sink = sink;

  caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "RGB", NULL);
  /* A small queue makes a slow consumer slow the decoder down instead of
   * filling memory with decoded frames. */
  g_object_set (sink, "caps", caps, "sync", FALSE, "max-buffers", 2, "drop", FALSE, "enable-last-sample",
                FALSE, NULL);
  gst_bin_add_many (GST_BIN (reader->pipeline), convert, sink, NULL);
  if (!gst_element_link (convert, sink))
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                   _ ("The GStreamer elements for reading video could not be connected. Check the GStreamer "
                      "installation."));
      return NULL;
    }
  if (!takes_media_add_file_source (reader->pipeline, path, reader_stream_cb, reader_streams_done_cb, reader,
                                    error))
    return NULL;
  return g_steal_pointer (&reader);
}

static void
set_no_video_error (GError **error, const char *path)
{
  g_autofree char *name = g_filename_display_name (path);

  g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO,
               _ ("“%s” has no video to show. Choose an MP4 or WebM video file."), name);
}

/* Handles a bus message that ends a wait; returns FALSE with error set when the
 * message is a failure. */
static gboolean
handle_message (FrameReader *reader, GstMessage *message, GError **error)
{
  switch (GST_MESSAGE_TYPE (message))
    {
      case GST_MESSAGE_ERROR:
        takes_media_set_error_from_message (error, message, reader->path);
        return FALSE;
      case GST_MESSAGE_APPLICATION:
        if (gst_message_has_name (message, NO_VIDEO_MESSAGE))
          {
            set_no_video_error (error, reader->path);
            return FALSE;
          }
        return TRUE;
      default:
        return TRUE;
    }
}

/* Waits until the pipeline has prerolled after a state change or a seek. */
static gboolean
frame_reader_wait_async_done (FrameReader *reader, GError **error)
{
  const GstMessageType types
      = GST_MESSAGE_ASYNC_DONE | GST_MESSAGE_ERROR | GST_MESSAGE_EOS | GST_MESSAGE_APPLICATION;

  for (;;)
    {
      g_autoptr (GstMessage) message
          = gst_bus_timed_pop_filtered (reader->bus, TAKES_MEDIA_TIMEOUT_NS, types);
      g_autofree char *name = NULL;

      if (message == NULL)
        {
          name = g_filename_display_name (reader->path);
          g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                       _ ("Reading “%s” took too long. The file may be damaged."), name);
          return FALSE;
        }
      if (!handle_message (reader, message, error))
        return FALSE;
      if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_EOS)
        {
          set_no_video_error (error, reader->path);
          return FALSE;
        }
      if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ASYNC_DONE)
        return TRUE;
    }
}

static gboolean
frame_reader_preroll (FrameReader *reader, GError **error)
{
  switch (gst_element_set_state (reader->pipeline, GST_STATE_PAUSED))
    {
      case GST_STATE_CHANGE_SUCCESS:
      case GST_STATE_CHANGE_NO_PREROLL:
        return TRUE;
      case GST_STATE_CHANGE_ASYNC:
      case GST_STATE_CHANGE_FAILURE:
      default:
        /* A failure has posted its error; the wait returns it. */
        return frame_reader_wait_async_done (reader, error);
    }
}

static gboolean
frame_reader_check_bus (FrameReader *reader, GError **error)
{
  g_autoptr (GstMessage) message
      = gst_bus_pop_filtered (reader->bus, GST_MESSAGE_ERROR | GST_MESSAGE_APPLICATION);

  return message == NULL || handle_message (reader, message, error);
}

typedef gboolean (*SampleFunc) (GstSample *sample, guint index, gpointer user_data, GError **error);

/* Plays the file to the end (or until func returns FALSE without an error),
 * handing each decoded frame to func in order. */
static gboolean
frame_reader_run (FrameReader *reader, SampleFunc func, gpointer user_data, guint *n_seen, GError **error)
{
  gint64 stall_deadline;
  guint index = 0;

  if (!frame_reader_preroll (reader, error))
    return FALSE;
  gst_element_set_state (reader->pipeline, GST_STATE_PLAYING);
  stall_deadline = g_get_monotonic_time () + TAKES_MEDIA_TIMEOUT_NS / 1000;
  for (;;)
    {
      g_autoptr (GstSample) sample
          = gst_app_sink_try_pull_sample (GST_APP_SINK (reader->sink), PULL_SLICE_NS);
      g_autoptr (GError) func_error = NULL;

      if (!frame_reader_check_bus (reader, error))
        return FALSE;
      if (sample == NULL)
        {
          if (gst_app_sink_is_eos (GST_APP_SINK (reader->sink)))
            break;
          if (g_get_monotonic_time () > stall_deadline)
            {
              g_autofree char *name = g_filename_display_name (reader->path);

              g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                           _ ("Decoding “%s” stopped making progress. The file may be damaged."), name);
              return FALSE;
            }
          continue;
        }
      stall_deadline = g_get_monotonic_time () + TAKES_MEDIA_TIMEOUT_NS / 1000;
      if (!func (sample, index++, user_data, &func_error))
        {
          if (func_error != NULL)
            {
              g_propagate_error (error, g_steal_pointer (&func_error));
              return FALSE;
            }
          break;
        }
    }
  if (n_seen != NULL)
    *n_seen = index;
  return TRUE;
}

/* Decoding */

typedef struct
{
  TakesMediaFrameFunc func;
  gpointer user_data;
} DecodeData;

static guint64
sample_stream_time (GstSample *sample)
{
  const GstSegment *segment = gst_sample_get_segment (sample);
  guint64 pts = GST_BUFFER_PTS (gst_sample_get_buffer (sample));

  if (GST_CLOCK_TIME_IS_VALID (pts) && segment != NULL && segment->format == GST_FORMAT_TIME)
    return gst_segment_to_stream_time (segment, GST_FORMAT_TIME, pts);
  return pts;
}

static gboolean
decode_sample_cb (GstSample *sample, guint index, gpointer user_data, GError **error)
{
  DecodeData *data = user_data;
  GstBuffer *buffer = gst_sample_get_buffer (sample);
  GstVideoInfo info;
  GstVideoFrame frame;
  guint64 pts = sample_stream_time (sample);
  gboolean more;

  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample))
      || !gst_video_frame_map (&frame, &info, buffer, GST_MAP_READ))
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                   _ ("A decoded frame could not be read. Check the GStreamer installation."));
      return FALSE;
    }
  if (!GST_CLOCK_TIME_IS_VALID (pts))
    pts = info.fps_n > 0 ? gst_util_uint64_scale (index, (guint64)GST_SECOND * info.fps_d, info.fps_n) : 0;
  more = data->func (GST_VIDEO_FRAME_PLANE_DATA (&frame, 0), GST_VIDEO_FRAME_WIDTH (&frame),
                     GST_VIDEO_FRAME_HEIGHT (&frame), (gsize)GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), index,
                     pts, data->user_data);
  gst_video_frame_unmap (&frame);
  return more;
}

gboolean
takes_media_decode_rgb (const char *path, TakesMediaFrameFunc func, gpointer user_data, GError **error)
{
  g_autoptr (FrameReader) reader = NULL;
  DecodeData data = { func, user_data };
  guint n_seen = 0;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  reader = frame_reader_new (path, error);
  if (reader == NULL || !frame_reader_run (reader, decode_sample_cb, &data, &n_seen, error))
    return FALSE;
  if (n_seen == 0)
    {
      set_no_video_error (error, path);
      return FALSE;
    }
  return TRUE;
}

/* Picking frames */

/* Called with each wanted frame, in the order of the wanted indices. */
typedef gboolean (*PickFunc) (GstSample *sample, guint nth, gpointer user_data, GError **error);

typedef struct
{
  const guint *indices;
  guint n_indices;
  guint next;
  PickFunc func;
  gpointer user_data;
} PickData;

static gboolean
pick_sample_cb (GstSample *sample, guint index, gpointer user_data, GError **error)
{
  PickData *data = user_data;

  while (data->next < data->n_indices && data->indices[data->next] == index)
    if (!data->func (sample, data->next++, data->user_data, error))
      return FALSE;
  return data->next < data->n_indices;
}

static gboolean
is_seekable (FrameReader *reader)
{
  g_autoptr (GstQuery) query = gst_query_new_seeking (GST_FORMAT_TIME);
  gboolean seekable = FALSE;

  if (gst_element_query (reader->pipeline, query))
    gst_query_parse_seeking (query, NULL, &seekable, NULL, NULL);
  return seekable;
}

/* Hands func the frames at the given ascending indices. Long seekable files are
 * visited by accurate seeks to the middle of each frame's time, so they are not
 * decoded end to end; short clips and unseekable streams are decoded in order. */
static gboolean
pick_frames (const char *path,
             const TakesMediaInfo *info,
             const guint *indices,
             guint n_indices,
             PickFunc func,
             gpointer user_data,
             GError **error)
{
  g_autoptr (FrameReader) reader = frame_reader_new (path, error);
  g_autoptr (GstSample) first = NULL;
  PickData data = { indices, n_indices, 0, func, user_data };
  guint64 first_pts;
  guint n_seen = 0;

  if (reader == NULL || !frame_reader_preroll (reader, error))
    return FALSE;
  first = gst_app_sink_try_pull_preroll (GST_APP_SINK (reader->sink), 0);
  if (first == NULL || info->n_frames <= MAX_FRAMES_DECODED_IN_ORDER || info->fps_n <= 0
      || !is_seekable (reader))
    {
      g_debug ("%s: picking %u frames by decoding in order", path, n_indices);
      g_clear_pointer (&first, gst_sample_unref);
      if (!frame_reader_run (reader, pick_sample_cb, &data, &n_seen, error))
        return FALSE;
      if (data.next < n_indices)
        {
          g_autofree char *name = g_filename_display_name (path);

          g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO,
                       _ ("“%s” ended after %u frames, before the frame wanted. The file may be damaged."),
                       name, n_seen);
          return FALSE;
        }
      return TRUE;
    }

  /* Seek positions are stream time, where an edit list puts the first frame
   * at zero whatever its timestamp in the file. */
  g_debug ("%s: picking %u frames by seeking", path, n_indices);
  first_pts = sample_stream_time (first);
  if (!GST_CLOCK_TIME_IS_VALID (first_pts))
    first_pts = 0;
  for (guint i = 0; i < n_indices; i++)
    {
      g_autoptr (GstSample) sample = NULL;
      guint64 position;

      if (indices[i] == 0)
        {
          if (!func (first, i, user_data, error))
            return FALSE;
          continue;
        }
      position = first_pts
                 + gst_util_uint64_scale (2 * (guint64)indices[i] + 1, (guint64)GST_SECOND * info->fps_d,
                                          2 * (guint64)info->fps_n);
      if (!gst_element_seek_simple (reader->pipeline, GST_FORMAT_TIME,
                                    GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, (gint64)position))
        {
          g_autofree char *name = g_filename_display_name (path);

          g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                       _ ("Could not move to frame %u of “%s”. The file may be damaged."), indices[i], name);
          return FALSE;
        }
      if (!frame_reader_wait_async_done (reader, error))
        return FALSE;
      sample = gst_app_sink_try_pull_preroll (GST_APP_SINK (reader->sink), TAKES_MEDIA_TIMEOUT_NS);
      if (sample == NULL)
        {
          g_autofree char *name = g_filename_display_name (path);

          g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO,
                       _ ("Frame %u of “%s” could not be decoded. The file may be damaged."), indices[i],
                       name);
          return FALSE;
        }
      if (!func (sample, i, user_data, error))
        return FALSE;
    }
  return TRUE;
}

/* PNG output */

static void
display_size (const GstVideoInfo *info, double *width, double *height)
{
  *width = GST_VIDEO_INFO_WIDTH (info);
  *height = GST_VIDEO_INFO_HEIGHT (info);
  if (GST_VIDEO_INFO_PAR_N (info) > 0 && GST_VIDEO_INFO_PAR_D (info) > 0)
    *width = *width * GST_VIDEO_INFO_PAR_N (info) / GST_VIDEO_INFO_PAR_D (info);
}

/* Scales the frame in sample into the rectangle (x, 0, width, out's height) of out. */
static gboolean
scale_into (GstSample *sample, GstVideoFrame *out, int x, int width, GError **error)
{
  GstVideoInfo in_info;
  GstVideoFrame in_frame;
  GstVideoConverter *converter;

  if (!gst_video_info_from_caps (&in_info, gst_sample_get_caps (sample))
      || !gst_video_frame_map (&in_frame, &in_info, gst_sample_get_buffer (sample), GST_MAP_READ))
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                   _ ("A decoded frame could not be read. Check the GStreamer installation."));
      return FALSE;
    }
  /* The converter insists on equal rates; a still picture has none of its own. */
  out->info.fps_n = in_info.fps_n;
  out->info.fps_d = in_info.fps_d;
  out->info.interlace_mode = in_info.interlace_mode;
  converter = gst_video_converter_new (
      &in_info, &out->info,
      gst_structure_new ("GstVideoConverter", GST_VIDEO_CONVERTER_OPT_DEST_X, G_TYPE_INT, x,
                         GST_VIDEO_CONVERTER_OPT_DEST_Y, G_TYPE_INT, 0, GST_VIDEO_CONVERTER_OPT_DEST_WIDTH,
                         G_TYPE_INT, width, GST_VIDEO_CONVERTER_OPT_DEST_HEIGHT, G_TYPE_INT,
                         GST_VIDEO_FRAME_HEIGHT (out), GST_VIDEO_CONVERTER_OPT_FILL_BORDER, G_TYPE_BOOLEAN,
                         FALSE, NULL));
  if (converter == NULL)
    {
      gst_video_frame_unmap (&in_frame);
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                   _ ("A frame could not be scaled. Check the GStreamer installation."));
      return FALSE;
    }
  gst_video_converter_frame (converter, &in_frame, out);
  gst_video_converter_free (converter);
  gst_video_frame_unmap (&in_frame);
  return TRUE;
}

static gboolean
write_png (GstBuffer *rgb, const GstVideoInfo *info, const char *png_out, GError **error)
{
  g_autoptr (GstCaps) raw_caps = gst_video_info_to_caps (info);
  g_autoptr (GstCaps) png_caps = gst_caps_new_empty_simple ("image/png");
  g_autoptr (GstSample) raw = gst_sample_new (rgb, raw_caps, NULL, NULL);
  g_autoptr (GstSample) png = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *name = g_filename_display_name (png_out);
  GstMapInfo map;
  gboolean ok;

  png = gst_video_convert_sample (raw, png_caps, TAKES_MEDIA_TIMEOUT_NS, &local_error);
  if (png == NULL)
    {
      g_set_error (
          error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NO_ENCODER,
          _ ("Could not make the picture “%s”: %s. Install gstreamer1.0-plugins-good for the PNG encoder."),
          name, local_error != NULL ? local_error->message : _ ("unknown error"));
      return FALSE;
    }
  gst_buffer_map (gst_sample_get_buffer (png), &map, GST_MAP_READ);
  g_clear_error (&local_error);
  ok = g_file_set_contents_full (png_out, (const char *)map.data, (gssize)map.size,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0666, &local_error);
  gst_buffer_unmap (gst_sample_get_buffer (png), &map);
  if (!ok)
    {
      g_set_error (
          error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_WRITE,
          _ ("Could not write the picture “%s”: %s. Check that the disk has free space and that the folder "
             "is writable."),
          name, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* Thumbnail and poster strip */

typedef struct
{
  const char *video;
  int max_size; /* thumbnail: the longest side */
  int height;   /* strip: the tile height */
  guint n_tiles;
  GstVideoInfo out_info;
  GstBuffer *out;
  int tile_width;
} PictureData;

static gboolean
allocate_output (PictureData *data, int width, int height, GError **error)
{
  if (width > MAX_PNG_SIDE || height > MAX_PNG_SIDE)
    {
      g_autofree char *name = g_filename_display_name (data->video);

      g_set_error (
          error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID,
          _ ("A picture of %d×%d pixels from “%s” would be too large. Ask for fewer or smaller frames."),
          width, height, name);
      return FALSE;
    }
  gst_video_info_set_format (&data->out_info, GST_VIDEO_FORMAT_RGB, (guint)width, (guint)height);
  data->out = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&data->out_info), NULL);
  gst_buffer_memset (data->out, 0, 0, GST_VIDEO_INFO_SIZE (&data->out_info));
  return TRUE;
}

static gboolean
draw_tile (PictureData *data, GstSample *sample, int x, int width, GError **error)
{
  GstVideoFrame out_frame;
  gboolean ok;

  if (!gst_video_frame_map (&out_frame, &data->out_info, data->out, GST_MAP_WRITE))
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                   _ ("The picture could not be drawn. Check the GStreamer installation."));
      return FALSE;
    }
  ok = scale_into (sample, &out_frame, x, width, error);
  gst_video_frame_unmap (&out_frame);
  return ok;
}

static gboolean
thumbnail_cb (GstSample *sample, guint nth, gpointer user_data, GError **error)
{
  PictureData *data = user_data;
  GstVideoInfo info;
  double width, height, scale;
  int out_w, out_h;

  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample)))
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                   _ ("A decoded frame could not be read. Check the GStreamer installation."));
      return FALSE;
    }
  display_size (&info, &width, &height);
  scale = MIN (1.0, data->max_size / MAX (width, height));
  out_w = MAX (1, (int)lround (width * scale));
  out_h = MAX (1, (int)lround (height * scale));
  return allocate_output (data, out_w, out_h, error) && draw_tile (data, sample, 0, out_w, error);
}

static gboolean
strip_cb (GstSample *sample, guint nth, gpointer user_data, GError **error)
{
  PictureData *data = user_data;

  if (data->out == NULL)
    {
      GstVideoInfo info;
      double width, height, tile_width;

      if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample)))
        {
          g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                       _ ("A decoded frame could not be read. Check the GStreamer installation."));
          return FALSE;
        }
      display_size (&info, &width, &height);
      tile_width = MAX (1.0, round (data->height * width / height));
      data->tile_width = (int)MIN (tile_width, (double)MAX_PNG_SIDE + 1);
      if (!allocate_output (data, (int)MIN (tile_width * data->n_tiles, (double)MAX_PNG_SIDE + 1),
                            data->height, error))
        return FALSE;
    }
  return draw_tile (data, sample, (int)nth * data->tile_width, data->tile_width, error);
}

gboolean
takes_media_write_thumbnail (const char *video, const char *png_out, int max_size, GError **error)
{
  g_autoptr (TakesMediaInfo) info = NULL;
  PictureData data = { 0 };
  guint middle;
  gboolean ok;

  g_return_val_if_fail (video != NULL, FALSE);
  g_return_val_if_fail (png_out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (max_size < 1 || max_size > MAX_PNG_SIDE)
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID,
                   _ ("A thumbnail of %d pixels cannot be made. Choose a size between 1 and %d."), max_size,
                   MAX_PNG_SIDE);
      return FALSE;
    }
  info = takes_media_probe (video, error);
  if (info == NULL)
    return FALSE;
  middle = info->n_frames / 2;
  data.video = video;
  data.max_size = max_size;
  ok = pick_frames (video, info, &middle, 1, thumbnail_cb, &data, error)
       && write_png (data.out, &data.out_info, png_out, error);
  gst_clear_buffer (&data.out);
  return ok;
}

gboolean
takes_media_write_poster_strip (
    const char *video, const char *png_out, int n_frames, int height, GError **error)
{
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree guint *indices = NULL;
  PictureData data = { 0 };
  guint n;
  gboolean ok;

  g_return_val_if_fail (video != NULL, FALSE);
  g_return_val_if_fail (png_out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (n_frames < 1 || n_frames > MAX_STRIP_FRAMES || height < 1 || height > MAX_STRIP_HEIGHT)
    {
      g_set_error (
          error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID,
          _ ("A poster strip of %d frames at %d pixels high cannot be made. Choose 1 to %d frames and a "
             "height of 1 to %d pixels."),
          n_frames, height, MAX_STRIP_FRAMES, MAX_STRIP_HEIGHT);
      return FALSE;
    }
  info = takes_media_probe (video, error);
  if (info == NULL)
    return FALSE;

  n = MIN ((guint)n_frames, info->n_frames);
  indices = g_new (guint, n);
  if (n == 1)
    indices[0] = info->n_frames / 2;
  else
    for (guint i = 0; i < n; i++)
      indices[i] = (guint)(((guint64)i * (info->n_frames - 1) + (n - 1) / 2) / (n - 1));

  data.video = video;
  data.height = height;
  data.n_tiles = n;
  ok = pick_frames (video, info, indices, n, strip_cb, &data, error)
       && write_png (data.out, &data.out_info, png_out, error);
  gst_clear_buffer (&data.out);
  return ok;
}
