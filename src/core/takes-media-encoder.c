/* takes-media-encoder.c: RGB frames from memory to an H.264 MP4.
 *
 * appsrc → videoconvert → I420 → x264enc (or openh264enc → h264parse) → mp4mux →
 * filesink on a temporary name next to the target, renamed into place once the
 * muxer has written the index. The recipe rides in the comment tag.
 */
#include "config.h"

#define G_LOG_DOMAIN "takes-media"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <unistd.h>

#include "takes-media-private.h"

/* Frames allowed to wait in appsrc before push blocks; the encoder's own
 * look-ahead is bounded by x264, so memory stays a few frames deep. */
#define MAX_QUEUED_FRAMES 2

/* The comment tag of a recipe larger than this would only be a mistake. */
#define MAX_RECIPE_BYTES (1024 * 1024)

/* x264's constant-quality factor: 18 is visually lossless for the detailed,
 * grainy frames the diffusion models make, and short clips stay small. */
#define X264_QUALITY 18

#define TITLE_MAX_CHARS 120

struct _TakesMediaEncoder
{
  char *path;
  char *tmp_path;
  int tmp_fd;
  int width;
  int height;
  int fps_n;
  int fps_d;
  GstVideoInfo video_info;

  GstElement *pipeline;
  GstElement *src;

  GMutex lock;
  GCond cond;
  GError *error; /* the first failure; every later call reports it */
  gboolean eos;
  guint64 n_pushed;
  guint64 n_consumed;

  gboolean finished;
  gboolean renamed;
};

typedef struct
{
  const char *encoder;
  const char *parser; /* needed between encoder and mp4mux, or NULL */
} EncoderChoice;

static gboolean
have_element (const char *name)
{
  g_autoptr (GstElementFactory) factory = gst_element_factory_find (name);

  return factory != NULL;
}

static gboolean
choose_encoder (EncoderChoice *choice, GError **error)
{
  if (!takes_media_ensure_init (error))
    return FALSE;
  if (!have_element ("appsrc") || !have_element ("videoconvert") || !have_element ("filesink"))
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NO_ENCODER,
                   _ ("The GStreamer elements appsrc, videoconvert and filesink are missing. Install "
                      "gstreamer1.0-plugins-base."));
      return FALSE;
    }
  if (!have_element ("mp4mux"))
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NO_ENCODER,
                   _ ("The MP4 writer (mp4mux) is not installed. Install gstreamer1.0-plugins-good."));
      return FALSE;
    }
  if (have_element ("x264enc"))
    {
      choice->encoder = "x264enc";
      choice->parser = NULL;
      return TRUE;
    }
  /* openh264enc writes Annex B; h264parse turns it into what MP4 stores. */
  if (have_element ("openh264enc") && have_element ("h264parse"))
    {
      choice->encoder = "openh264enc";
      choice->parser = "h264parse";
      return TRUE;
    }
  g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NO_ENCODER,
               _ ("No H.264 encoder is installed. Install gstreamer1.0-plugins-ugly (x264enc) or "
                  "gstreamer1.0-plugins-bad (openh264enc)."));
  return FALSE;
}

gboolean
takes_media_can_encode (GError **error)
{
  EncoderChoice choice;

  return choose_encoder (&choice, error);
}

static void
record_error (TakesMediaEncoder *enc, GError *error)
{
  g_mutex_lock (&enc->lock);
  if (enc->error == NULL)
    enc->error = error;
  else
    g_error_free (error);
  g_cond_broadcast (&enc->cond);
  g_mutex_unlock (&enc->lock);
}

/* Runs in whichever thread posts, so an error reaches a push that is waiting
 * for room at once; no message is queued, so the bus never grows. */
static GstBusSyncReply
bus_sync_cb (GstBus *bus, GstMessage *message, gpointer user_data)
{
  TakesMediaEncoder *enc = user_data;
  GError *error = NULL;

  switch (GST_MESSAGE_TYPE (message))
    {
      case GST_MESSAGE_ERROR:
        takes_media_set_error_from_message (&error, message, enc->path);
        record_error (enc, error);
        break;
      case GST_MESSAGE_EOS:
        g_mutex_lock (&enc->lock);
        enc->eos = TRUE;
        g_cond_broadcast (&enc->cond);
        g_mutex_unlock (&enc->lock);
        break;
      default:
        break;
    }
  /* A handler that drops a message owns it. */
  gst_message_unref (message);
  return GST_BUS_DROP;
}

static GstPadProbeReturn
consumed_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  TakesMediaEncoder *enc = user_data;

  g_mutex_lock (&enc->lock);
  enc->n_consumed++;
  g_cond_broadcast (&enc->cond);
  g_mutex_unlock (&enc->lock);
  return GST_PAD_PROBE_OK;
}

static gboolean
validate_recipe (const char *recipe_json, char **title, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;
  JsonObject *object;
  const char *prompt;

  *title = NULL;
  if (strlen (recipe_json) > MAX_RECIPE_BYTES)
    {
      g_set_error (
          error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID,
          _ ("The recipe is larger than %d KiB and cannot be stored in the video. Shorten the prompt or "
             "the notes."),
          MAX_RECIPE_BYTES / 1024);
      return FALSE;
    }
  if (!json_parser_load_from_data (parser, recipe_json, -1, &local_error))
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID,
                   _ ("The recipe is not valid JSON (%s), so it cannot be stored in the video."),
                   local_error->message);
      return FALSE;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID,
                   _ ("The recipe must be a JSON object, so it cannot be stored in the video."));
      return FALSE;
    }
  /* Players show the title; the prompt is what a person recognises a take by. */
  object = json_node_get_object (root);
  if (json_object_has_member (object, "prompt")
      && JSON_NODE_HOLDS_VALUE (json_object_get_member (object, "prompt"))
      && json_node_get_value_type (json_object_get_member (object, "prompt")) == G_TYPE_STRING)
    {
      prompt = json_object_get_string_member (object, "prompt");
      if (g_utf8_strlen (prompt, -1) > TITLE_MAX_CHARS)
        {
          g_autofree char *cut = g_utf8_substring (prompt, 0, TITLE_MAX_CHARS - 1);

          *title = g_strconcat (cut, "…", NULL);
        }
      else if (*prompt != '\0')
        *title = g_strdup (prompt);
    }
  return TRUE;
}

static gboolean
validate_size (int width, int height, int fps_n, int fps_d, GError **error)
{
  if (width <= 0 || height <= 0 || width > TAKES_MEDIA_MAX_SIZE || height > TAKES_MEDIA_MAX_SIZE)
    {
      g_set_error (
          error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID,
          _ ("A video of %d×%d pixels cannot be written. Width and height must be between 2 and %d."), width,
          height, TAKES_MEDIA_MAX_SIZE);
      return FALSE;
    }
  if (width % 2 != 0 || height % 2 != 0)
    {
      g_set_error (
          error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID,
          _ ("H.264 video needs an even width and height, and %d×%d has an odd side. Crop or pad the frames "
             "by one pixel."),
          width, height);
      return FALSE;
    }
  if (fps_n <= 0 || fps_d <= 0 || fps_n / fps_d > 240)
    {
      g_set_error (
          error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID,
          _ ("A frame rate of %d/%d cannot be written. Use a rate between 1 and 240 frames a second."), fps_n,
          fps_d);
      return FALSE;
    }
  return TRUE;
}

static void
configure_encoder (
    GstElement *encoder, const EncoderChoice *choice, int width, int height, int fps_n, int fps_d)
{
  /* About a second between keyframes: stepping and scrubbing in the A/B view
   * stay quick, and short clips barely grow. */
  guint key_interval = (guint)CLAMP ((fps_n + fps_d / 2) / fps_d, 1, 60);

  if (g_str_equal (choice->encoder, "x264enc"))
    {
      gst_util_set_object_arg (G_OBJECT (encoder), "pass", "qual");
      g_object_set (encoder, "quantizer", (guint)X264_QUALITY, "key-int-max", key_interval, NULL);
    }
  else
    {
      /* openh264 has no constant-quality mode that keeps every frame, so the
       * bitrate follows the pixel rate: 0.15 bits a pixel, a usual figure for
       * good-looking H.264. Frame skipping would break the frame count. */
      guint64 bitrate = (guint64)width * height * fps_n / fps_d * 15 / 100;

      g_object_set (encoder, "bitrate", (guint)CLAMP (bitrate, 64000, G_MAXINT), "gop-size", key_interval,
                    "enable-frame-skip", FALSE, NULL);
    }
}

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
build_pipeline (TakesMediaEncoder *enc,
                const EncoderChoice *choice,
                const char *recipe_json,
                const char *title,
                GError **error)
{
  g_autoptr (GstCaps) raw_caps = NULL;
  g_autoptr (GstCaps) i420_caps = NULL;
  g_autoptr (GstTagList) tags = NULL;
  g_autofree char *comment = NULL;
  g_autofree char *encoder_name = NULL;
  GstElement *convert, *filter, *encoder, *parser = NULL, *mux, *sink;
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstPad) src_pad = NULL;
  gboolean linked;

  enc->pipeline = gst_object_ref_sink (gst_pipeline_new ("takes-encoder"));
  enc->src = gst_element_factory_make ("appsrc", NULL);
  convert = gst_element_factory_make ("videoconvert", NULL);
  filter = gst_element_factory_make ("capsfilter", NULL);
  encoder = gst_element_factory_make (choice->encoder, NULL);
  if (choice->parser != NULL)
    parser = gst_element_factory_make (choice->parser, NULL);
  mux = gst_element_factory_make ("mp4mux", NULL);
  sink = gst_element_factory_make ("filesink", NULL);
  if (enc->src == NULL || convert == NULL || filter == NULL || encoder == NULL
      || (choice->parser != NULL && parser == NULL) || mux == NULL || sink == NULL)
    {
      drop_element (&enc->src);
      drop_element (&convert);
      drop_element (&filter);
      drop_element (&encoder);
      drop_element (&parser);
      drop_element (&mux);
      drop_element (&sink);
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NO_ENCODER,
                   _ ("A GStreamer element for writing MP4 video could not be created. Reinstall "
                      "gstreamer1.0-plugins-good and gstreamer1.0-plugins-ugly."));
      return FALSE;
    }

  raw_caps = gst_video_info_to_caps (&enc->video_info);
  g_object_set (enc->src, "caps", raw_caps, "format", GST_FORMAT_TIME, "is-live", FALSE, "block", FALSE,
                NULL);
  /* I420 is the 4:2:0 layout every player and browser decodes. */
  i420_caps = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420", NULL);
  g_object_set (filter, "caps", i420_caps, NULL);
  configure_encoder (encoder, choice, enc->width, enc->height, enc->fps_n, enc->fps_d);
  g_object_set (sink, "location", enc->tmp_path, "sync", FALSE, NULL);

  tags = gst_tag_list_new_empty ();
  encoder_name = g_strdup_printf ("Takes %s", PACKAGE_VERSION);
  gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, GST_TAG_ENCODER, encoder_name, GST_TAG_TITLE,
                    title != NULL ? title : _ ("Takes video"), NULL);
  if (recipe_json != NULL)
    {
      comment = g_strconcat (TAKES_MEDIA_RECIPE_PREFIX, recipe_json, NULL);
      gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, GST_TAG_COMMENT, comment, NULL);
    }
  gst_tag_setter_merge_tags (GST_TAG_SETTER (mux), tags, GST_TAG_MERGE_REPLACE);
  /* The encoder element announces itself in a tag too; ours wins. */
  gst_tag_setter_set_tag_merge_mode (GST_TAG_SETTER (mux), GST_TAG_MERGE_KEEP);

  gst_bin_add_many (GST_BIN (enc->pipeline), enc->src, convert, filter, encoder, mux, sink, NULL);
  if (parser != NULL)
    {
      gst_bin_add (GST_BIN (enc->pipeline), parser);
      linked = gst_element_link_many (enc->src, convert, filter, encoder, parser, mux, sink, NULL);
    }
  else
    linked = gst_element_link_many (enc->src, convert, filter, encoder, mux, sink, NULL);
  if (!linked)
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                   _ ("The GStreamer elements for writing MP4 video could not be connected (%s). Check the "
                      "GStreamer installation."),
                   choice->encoder);
      return FALSE;
    }

  src_pad = gst_element_get_static_pad (enc->src, "src");
  gst_pad_add_probe (src_pad, GST_PAD_PROBE_TYPE_BUFFER, consumed_cb, enc, NULL);
  bus = gst_element_get_bus (enc->pipeline);
  gst_bus_set_sync_handler (bus, bus_sync_cb, enc, NULL);
  return TRUE;
}

static gboolean
create_temp_file (TakesMediaEncoder *enc, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (enc->path);
  g_autofree char *base = g_path_get_basename (enc->path);
  g_autofree char *name = NULL;
  int saved_errno;

  /* Hidden and next to the target, so the rename stays on one file system. */
  enc->tmp_path = g_strdup_printf ("%s%s.%s.XXXXXX.part", dir, G_DIR_SEPARATOR_S, base);
  enc->tmp_fd = g_mkstemp_full (enc->tmp_path, O_RDWR | O_CLOEXEC, 0666);
  if (enc->tmp_fd < 0)
    {
      saved_errno = errno;
      g_clear_pointer (&enc->tmp_path, g_free);
      name = g_filename_display_name (enc->path);
      g_set_error (
          error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_WRITE,
          _ ("Could not create a file next to “%s”: %s. Check that the folder exists and is writable."), name,
          g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

TakesMediaEncoder *
takes_media_encoder_new (
    const char *path, int width, int height, int fps_n, int fps_d, const char *recipe_json, GError **error)
{
  g_autoptr (TakesMediaEncoder) enc = NULL;
  g_autofree char *title = NULL;
  EncoderChoice choice;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!validate_size (width, height, fps_n, fps_d, error))
    return NULL;
  if (recipe_json != NULL && !validate_recipe (recipe_json, &title, error))
    return NULL;
  if (!choose_encoder (&choice, error))
    return NULL;

  enc = g_new0 (TakesMediaEncoder, 1);
  g_mutex_init (&enc->lock);
  g_cond_init (&enc->cond);
  enc->tmp_fd = -1;
  enc->path = g_strdup (path);
  enc->width = width;
  enc->height = height;
  enc->fps_n = fps_n;
  enc->fps_d = fps_d;
  gst_video_info_set_format (&enc->video_info, GST_VIDEO_FORMAT_RGB, (guint)width, (guint)height);
  enc->video_info.fps_n = fps_n;
  enc->video_info.fps_d = fps_d;

  if (!create_temp_file (enc, error))
    return NULL;
  if (!build_pipeline (enc, &choice, recipe_json, title, error))
    return NULL;
  if (gst_element_set_state (enc->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      g_mutex_lock (&enc->lock);
      if (enc->error != NULL)
        g_propagate_error (error, g_steal_pointer (&enc->error));
      else
        g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                     _ ("The video encoder could not start. Check the GStreamer installation."));
      g_mutex_unlock (&enc->lock);
      return NULL;
    }
  return g_steal_pointer (&enc);
}

static gboolean
take_error (TakesMediaEncoder *enc, GError **error)
{
  gboolean failed;

  g_mutex_lock (&enc->lock);
  failed = enc->error != NULL;
  if (failed)
    g_propagate_error (error, g_error_copy (enc->error));
  g_mutex_unlock (&enc->lock);
  return failed;
}

gboolean
takes_media_encoder_push_rgb (TakesMediaEncoder *enc, const guint8 *rgb, gsize stride, GError **error)
{
  GstBuffer *buffer;
  GstMapInfo map;
  GstFlowReturn ret;
  gsize row_bytes;
  guint64 index;
  gint64 deadline;

  g_return_val_if_fail (enc != NULL, FALSE);
  g_return_val_if_fail (rgb != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  row_bytes = (gsize)enc->width * 3;
  if (enc->finished)
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID,
                   _ ("The video is already finished; no more frames can be added."));
      return FALSE;
    }
  if (stride < row_bytes)
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID,
                   _ ("A row of %d RGB pixels needs %zu bytes, but the frame's rows are %zu bytes apart."),
                   enc->width, row_bytes, stride);
      return FALSE;
    }

  /* Backpressure: wait for the pipeline to take earlier frames, or to fail. */
  deadline = g_get_monotonic_time () + TAKES_MEDIA_TIMEOUT_NS / 1000;
  g_mutex_lock (&enc->lock);
  while (enc->error == NULL && !enc->eos && enc->n_pushed - enc->n_consumed >= MAX_QUEUED_FRAMES)
    if (!g_cond_wait_until (&enc->cond, &enc->lock, deadline))
      {
        if (enc->error == NULL)
          g_set_error (&enc->error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                       _ ("The video encoder stopped taking frames. Check the GStreamer installation."));
        break;
      }
  if (enc->error != NULL)
    {
      g_propagate_error (error, g_error_copy (enc->error));
      g_mutex_unlock (&enc->lock);
      return FALSE;
    }
  /* Counted before the push: the consumer may run before push returns. */
  index = enc->n_pushed++;
  g_mutex_unlock (&enc->lock);

  buffer = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&enc->video_info), NULL);
  gst_buffer_map (buffer, &map, GST_MAP_WRITE);
  for (int y = 0; y < enc->height; y++)
    memcpy (map.data + (gsize)y * GST_VIDEO_INFO_PLANE_STRIDE (&enc->video_info, 0), rgb + (gsize)y * stride,
            row_bytes);
  gst_buffer_unmap (buffer, &map);
  GST_BUFFER_PTS (buffer) = gst_util_uint64_scale (index, (guint64)GST_SECOND * enc->fps_d, enc->fps_n);
  GST_BUFFER_DURATION (buffer)
      = gst_util_uint64_scale (index + 1, (guint64)GST_SECOND * enc->fps_d, enc->fps_n)
        - GST_BUFFER_PTS (buffer);

  ret = gst_app_src_push_buffer (GST_APP_SRC (enc->src), buffer);
  if (ret != GST_FLOW_OK)
    {
      if (!take_error (enc, error))
        {
          g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                       _ ("The video encoder refused a frame (%s)."), gst_flow_get_name (ret));
          record_error (enc, g_error_copy (*error));
        }
      return FALSE;
    }
  return TRUE;
}

static void
stop_pipeline (TakesMediaEncoder *enc)
{
  if (enc->pipeline != NULL)
    gst_element_set_state (enc->pipeline, GST_STATE_NULL);
}

static void
discard_temp_file (TakesMediaEncoder *enc)
{
  if (enc->tmp_fd >= 0)
    {
      close (enc->tmp_fd);
      enc->tmp_fd = -1;
    }
  if (enc->tmp_path != NULL && !enc->renamed)
    g_unlink (enc->tmp_path);
}

static gboolean
fail_write (TakesMediaEncoder *enc, int saved_errno, GError **error)
{
  g_autofree char *name = g_filename_display_name (enc->path);

  discard_temp_file (enc);
  g_set_error (
      error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_WRITE,
      _ ("Could not write “%s”: %s. Check that the disk has free space and that the folder is writable."),
      name, g_strerror (saved_errno));
  return FALSE;
}

gboolean
takes_media_encoder_finish (TakesMediaEncoder *enc, GError **error)
{
  gint64 deadline;
  int fd;

  g_return_val_if_fail (enc != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (enc->finished)
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID, _ ("The video is already finished."));
      return FALSE;
    }
  enc->finished = TRUE;

  g_mutex_lock (&enc->lock);
  if (enc->error == NULL && enc->n_pushed == 0)
    g_set_error (&enc->error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID,
                 _ ("A video needs at least one frame, and none was given."));
  g_mutex_unlock (&enc->lock);

  if (!take_error (enc, NULL))
    {
      gst_app_src_end_of_stream (GST_APP_SRC (enc->src));
      deadline = g_get_monotonic_time () + TAKES_MEDIA_TIMEOUT_NS / 1000;
      g_mutex_lock (&enc->lock);
      while (enc->error == NULL && !enc->eos)
        if (!g_cond_wait_until (&enc->cond, &enc->lock, deadline))
          {
            g_set_error (&enc->error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                         _ ("The video encoder did not finish in time. Check the GStreamer installation."));
            break;
          }
      g_mutex_unlock (&enc->lock);
    }
  /* Stopping closes the file; a failed final flush shows up as an error here. */
  stop_pipeline (enc);
  if (take_error (enc, error))
    {
      discard_temp_file (enc);
      return FALSE;
    }

  if (fsync (enc->tmp_fd) != 0)
    return fail_write (enc, errno, error);
  fd = enc->tmp_fd;
  enc->tmp_fd = -1;
  if (close (fd) != 0)
    return fail_write (enc, errno, error);
  if (g_rename (enc->tmp_path, enc->path) != 0)
    return fail_write (enc, errno, error);
  enc->renamed = TRUE;

  /* The rename itself must survive a crash too. */
  {
    g_autofree char *dir = g_path_get_dirname (enc->path);

    fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (fd >= 0)
      {
        fsync (fd);
        close (fd);
      }
  }
  return TRUE;
}

void
takes_media_encoder_free (TakesMediaEncoder *enc)
{
  if (enc == NULL)
    return;
  stop_pipeline (enc);
  if (enc->pipeline != NULL)
    {
      g_autoptr (GstBus) bus = gst_element_get_bus (enc->pipeline);

      gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
    }
  gst_clear_object (&enc->pipeline);
  discard_temp_file (enc);
  g_clear_error (&enc->error);
  g_free (enc->tmp_path);
  g_free (enc->path);
  g_cond_clear (&enc->cond);
  g_mutex_clear (&enc->lock);
  g_free (enc);
}
