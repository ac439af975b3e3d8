/* takes-media.c: GStreamer set-up, errors, probing and importing of videos.
 *
 * All GStreamer use of the core lives in the takes-media-*.c files (DESIGN.md);
 * the encoder is in takes-media-encoder.c, decoding and thumbnails in
 * takes-media-frames.c.
 */
#include "config.h"

#define G_LOG_DOMAIN "takes-media"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <gst/pbutils/pbutils.h>
#include <json-glib/json-glib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "takes-media-private.h"

/* GstDiscoverer's limit for one file to preroll. */
#define DISCOVER_TIMEOUT_NS (30 * GST_SECOND)

G_DEFINE_QUARK (takes - media - error - quark, takes_media_error)

gboolean
takes_media_ensure_init (GError **error)
{
  static gsize initialised = 0;
  static GError *init_error = NULL;

  if (g_once_init_enter (&initialised))
    {
      GError *local_error = NULL;

      if (gst_init_check (NULL, NULL, &local_error))
        gst_pb_utils_init ();
      else
        init_error = local_error;
      g_once_init_leave (&initialised, 1);
    }
  if (init_error != NULL)
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                   _ ("GStreamer could not start: %s. Check the GStreamer installation."),
                   init_error->message);
      return FALSE;
    }
  return TRUE;
}

/* GStreamer's messages are full sentences; the trailing period is dropped so
 * they read well inside ours. */
static char *
clean_message (const char *message)
{
  char *text = g_strstrip (g_strdup (message != NULL && *message != '\0' ? message : _ ("unknown error")));
  gsize len = strlen (text);

  while (len > 0 && text[len - 1] == '.')
    text[--len] = '\0';
  return text;
}

TakesMediaError
takes_media_code_for_gst_error (const GError *gst_error)
{
  if (gst_error->domain == GST_RESOURCE_ERROR)
    {
      switch (gst_error->code)
        {
          case GST_RESOURCE_ERROR_NOT_FOUND:
          case GST_RESOURCE_ERROR_OPEN_READ:
          case GST_RESOURCE_ERROR_READ:
          case GST_RESOURCE_ERROR_NOT_AUTHORIZED:
            return TAKES_MEDIA_ERROR_UNREADABLE;
          case GST_RESOURCE_ERROR_OPEN_WRITE:
          case GST_RESOURCE_ERROR_OPEN_READ_WRITE:
          case GST_RESOURCE_ERROR_WRITE:
          case GST_RESOURCE_ERROR_NO_SPACE_LEFT:
          case GST_RESOURCE_ERROR_CLOSE:
          case GST_RESOURCE_ERROR_SYNC:
            return TAKES_MEDIA_ERROR_WRITE;
          default:
            return TAKES_MEDIA_ERROR_FAILED;
        }
    }
  if (gst_error->domain == GST_STREAM_ERROR)
    {
      switch (gst_error->code)
        {
          case GST_STREAM_ERROR_TYPE_NOT_FOUND:
          case GST_STREAM_ERROR_WRONG_TYPE:
          case GST_STREAM_ERROR_DEMUX:
          case GST_STREAM_ERROR_DECODE:
          case GST_STREAM_ERROR_FORMAT:
            return TAKES_MEDIA_ERROR_NOT_VIDEO;
          case GST_STREAM_ERROR_CODEC_NOT_FOUND:
            return TAKES_MEDIA_ERROR_MISSING_PLUGIN;
          default:
            return TAKES_MEDIA_ERROR_FAILED;
        }
    }
  if (gst_error->domain == GST_CORE_ERROR && gst_error->code == GST_CORE_ERROR_MISSING_PLUGIN)
    return TAKES_MEDIA_ERROR_MISSING_PLUGIN;
  return TAKES_MEDIA_ERROR_FAILED;
}

void
takes_media_set_error_from_gst (GError **error, const GError *gst_error, const char *path)
{
  TakesMediaError code = takes_media_code_for_gst_error (gst_error);
  g_autofree char *detail = clean_message (gst_error->message);
  g_autofree char *name = g_filename_display_name (path);

  switch (code)
    {
      case TAKES_MEDIA_ERROR_NOT_VIDEO:
        g_set_error (error, TAKES_MEDIA_ERROR, code,
                     _ ("“%s” is not a video that can be read (%s). Choose an MP4 or WebM video file."), name,
                     detail);
        break;
      case TAKES_MEDIA_ERROR_UNREADABLE:
        g_set_error (error, TAKES_MEDIA_ERROR, code,
                     _ ("Could not read “%s”: %s. Check that the file exists and that you may read it."),
                     name, detail);
        break;
      case TAKES_MEDIA_ERROR_WRITE:
        g_set_error (error, TAKES_MEDIA_ERROR, code,
                     _ ("Could not write “%s”: %s. Check that the disk has free space and that the folder is "
                        "writable."),
                     name, detail);
        break;
      case TAKES_MEDIA_ERROR_MISSING_PLUGIN:
        g_set_error (error, TAKES_MEDIA_ERROR, code,
                     _ ("Reading “%s” needs a GStreamer plugin that is not installed (%s). Install "
                        "gstreamer1.0-libav or the GStreamer plugin packages for this format."),
                     name, detail);
        break;
      case TAKES_MEDIA_ERROR_NO_ENCODER:
      case TAKES_MEDIA_ERROR_INVALID:
      case TAKES_MEDIA_ERROR_FAILED:
      default:
        g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED, _ ("GStreamer failed on “%s”: %s."),
                     name, detail);
        break;
    }
}

void
takes_media_set_error_from_message (GError **error, GstMessage *message, const char *path)
{
  g_autoptr (GError) gst_error = NULL;
  g_autofree char *debug = NULL;

  gst_message_parse_error (message, &gst_error, &debug);
  if (debug != NULL)
    g_debug ("%s: %s", GST_OBJECT_NAME (GST_MESSAGE_SRC (message)), debug);
  takes_media_set_error_from_gst (error, gst_error, path);
}

gboolean
takes_media_check_readable (const char *path, GError **error)
{
  g_autofree char *name = g_filename_display_name (path);
  struct stat st;
  int fd;
  int saved_errno;

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_UNREADABLE,
                   _ ("Could not open “%s”: %s. Check that the file exists and that you may read it."), name,
                   g_strerror (saved_errno));
      return FALSE;
    }
  if (fstat (fd, &st) != 0)
    {
      saved_errno = errno;
      close (fd);
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_UNREADABLE,
                   _ ("Could not read “%s”: %s. Check that the file exists and that you may read it."), name,
                   g_strerror (saved_errno));
      return FALSE;
    }
  close (fd);
  if (S_ISDIR (st.st_mode))
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO,
                   _ ("“%s” is a folder, not a video file. Choose an MP4 or WebM video file."), name);
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO,
                   _ ("“%s” is not a regular file. Choose an MP4 or WebM video file."), name);
      return FALSE;
    }
  if (st.st_size == 0)
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO,
                   _ ("“%s” is empty, not a video. Choose an MP4 or WebM video file."), name);
      return FALSE;
    }
  return TRUE;
}

void
takes_media_info_free (TakesMediaInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->video_codec);
  g_free (info->container);
  g_free (info->recipe_json);
  g_free (info->extension);
  g_free (info);
}

/* Probing */

/* The recipe is the text after TAKES_MEDIA_RECIPE_PREFIX in a comment, and only
 * when it parses as a JSON object: a damaged recipe is no recipe. */
static char *
recipe_from_string (const char *value)
{
  g_autoptr (JsonParser) parser = NULL;
  const char *json;
  JsonNode *root;

  if (value == NULL || !g_str_has_prefix (value, TAKES_MEDIA_RECIPE_PREFIX))
    return NULL;
  json = value + strlen (TAKES_MEDIA_RECIPE_PREFIX);
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, json, -1, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return g_strdup (json);
}

static char *
recipe_from_tags (const GstTagList *tags)
{
  static const char *const tag_names[] = { GST_TAG_COMMENT, GST_TAG_EXTENDED_COMMENT, GST_TAG_DESCRIPTION };

  if (tags == NULL)
    return NULL;
  for (gsize t = 0; t < G_N_ELEMENTS (tag_names); t++)
    {
      guint n = gst_tag_list_get_tag_size (tags, tag_names[t]);

      for (guint i = 0; i < n; i++)
        {
          const char *value = NULL;
          char *recipe;

          if (!gst_tag_list_peek_string_index (tags, tag_names[t], i, &value))
            continue;
          recipe = recipe_from_string (value);
          if (recipe != NULL)
            return recipe;
        }
    }
  return NULL;
}

static const char *
extension_for_container (const GstCaps *caps)
{
  const GstStructure *s;
  const char *name;
  const char *variant;

  if (caps == NULL || gst_caps_is_empty (caps) || gst_caps_is_any (caps))
    return NULL;
  s = gst_caps_get_structure (caps, 0);
  name = gst_structure_get_name (s);
  if (g_str_equal (name, "video/quicktime"))
    {
      variant = gst_structure_get_string (s, "variant");
      if (variant != NULL && g_str_equal (variant, "apple"))
        return "mov";
      if (variant != NULL && g_str_equal (variant, "3gpp"))
        return "3gp";
      return "mp4";
    }
  if (g_str_equal (name, "video/webm"))
    return "webm";
  if (g_str_equal (name, "video/x-matroska"))
    return "mkv";
  if (g_str_equal (name, "video/x-msvideo"))
    return "avi";
  if (g_str_equal (name, "application/ogg") || g_str_equal (name, "video/ogg"))
    return "ogv";
  if (g_str_equal (name, "video/mpegts"))
    return "ts";
  if (g_str_equal (name, "video/mpeg"))
    return "mpg";
  if (g_str_equal (name, "video/x-flv"))
    return "flv";
  return NULL;
}

static const char *
extension_for_bare_stream (const GstCaps *caps)
{
  const char *name;

  if (caps == NULL || gst_caps_is_empty (caps) || gst_caps_is_any (caps))
    return "video";
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  if (g_str_equal (name, "video/x-h264"))
    return "h264";
  if (g_str_equal (name, "video/x-h265"))
    return "h265";
  if (g_str_equal (name, "video/x-ivf"))
    return "ivf";
  return "video";
}

/* The installer detail is "gstreamer|1.0|app|description|detail"; the
 * description is what a person can search for. */
static char *
describe_missing (const char *const *details)
{
  g_autoptr (GString) text = g_string_new (NULL);

  for (gsize i = 0; details != NULL && details[i] != NULL; i++)
    {
      g_auto (GStrv) fields = g_strsplit (details[i], "|", 5);

      if (text->len > 0)
        g_string_append (text, ", ");
      g_string_append (text, g_strv_length (fields) >= 4 ? fields[3] : details[i]);
    }
  return g_string_free (g_steal_pointer (&text), FALSE);
}

typedef struct
{
  GMutex lock;
  GstElement *pipeline;
  gboolean have_stream; /* the first video stream went to parsebin */
  gboolean have_parsed; /* parsebin's first video output is counted */
  guint n_frames;
} CountData;

/* Header packets (Theora's, for one) carry set-up data and no picture; they have
 * no timestamps. H.264 marks a frame that repeats its parameter sets as a
 * header too, but that buffer is timed and is a picture. */
static gboolean
is_picture (GstBuffer *buffer)
{
  return !GST_BUFFER_FLAG_IS_SET (buffer, GST_BUFFER_FLAG_HEADER) || GST_BUFFER_PTS_IS_VALID (buffer)
         || GST_BUFFER_DTS_IS_VALID (buffer);
}

static GstPadProbeReturn
count_buffers_cb (GstPad *pad, GstPadProbeInfo *info, gpointer user_data)
{
  CountData *data = user_data;
  guint n = 0;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
    n = is_picture (GST_PAD_PROBE_INFO_BUFFER (info)) ? 1 : 0;
  else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST)
    {
      GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);

      for (guint i = 0; i < gst_buffer_list_length (list); i++)
        if (is_picture (gst_buffer_list_get (list, i)))
          n++;
    }
  g_mutex_lock (&data->lock);
  data->n_frames += n;
  g_mutex_unlock (&data->lock);
  return GST_PAD_PROBE_OK;
}

static gboolean
claim (CountData *data, gboolean *flag)
{
  gboolean claimed;

  g_mutex_lock (&data->lock);
  claimed = !*flag;
  *flag = TRUE;
  g_mutex_unlock (&data->lock);
  return claimed;
}

/* parsebin frames the stream (one buffer a picture) without decoding it. */
static void
count_parsed_pad_cb (GstElement *parsebin, GstPad *pad, gpointer user_data)
{
  CountData *data = user_data;
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  if (takes_media_caps_are_video (caps) && claim (data, &data->have_parsed))
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST, count_buffers_cb,
                       data, NULL);
  takes_media_add_fakesink (data->pipeline, pad);
}

static void
count_stream_cb (GstPad *pad, GstCaps *caps, gpointer user_data)
{
  CountData *data = user_data;
  g_autoptr (GstPad) sink_pad = NULL;
  GstElement *parsebin;

  if (!takes_media_caps_are_video (caps) || !claim (data, &data->have_stream))
    {
      takes_media_add_fakesink (data->pipeline, pad);
      return;
    }
  parsebin = gst_element_factory_make ("parsebin", NULL);
  if (parsebin == NULL)
    {
      GST_ELEMENT_ERROR (
          data->pipeline, CORE, MISSING_PLUGIN,
          (_ ("The GStreamer element parsebin is missing. Install gstreamer1.0-plugins-base.")), (NULL));
      return;
    }
  g_signal_connect (parsebin, "pad-added", G_CALLBACK (count_parsed_pad_cb), data);
  takes_media_plug_add (data->pipeline, parsebin);
  sink_pad = gst_element_get_static_pad (parsebin, "sink");
  gst_pad_link (pad, sink_pad);
  takes_media_plug_sync (data->pipeline, parsebin);
}

/* Counts the packets of the first video stream without decoding them, so the
 * count is exact where an estimate from the duration could be off by one. A
 * file without video counts zero; a damaged one fails here, quickly. */
static gboolean
count_frames (const char *path, guint *n_frames, GError **error)
{
  g_autoptr (GstElement) pipeline = gst_object_ref_sink (gst_pipeline_new ("takes-count"));
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  g_autoptr (GstMessage) message = NULL;
  CountData data = { 0 };
  gboolean ok = FALSE;

  g_mutex_init (&data.lock);
  data.pipeline = pipeline;
  if (takes_media_add_file_source (pipeline, path, count_stream_cb, NULL, &data, error))
    {
      gst_element_set_state (pipeline, GST_STATE_PLAYING);
      message = gst_bus_timed_pop_filtered (bus, TAKES_MEDIA_TIMEOUT_NS, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
      if (message == NULL)
        {
          g_autofree char *name = g_filename_display_name (path);

          g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                       _ ("Counting the frames of “%s” took too long. The file may be damaged."), name);
        }
      else if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR)
        takes_media_set_error_from_message (error, message, path);
      else
        ok = TRUE;
      takes_media_stop_pipeline (pipeline);
    }

  g_mutex_lock (&data.lock);
  *n_frames = data.n_frames;
  g_mutex_unlock (&data.lock);
  g_mutex_clear (&data.lock);
  return ok;
}

static void
set_not_video_error (GError **error, const char *path, GstDiscovererInfo *dinfo)
{
  g_autofree char *name = g_filename_display_name (path);
  GList *audio = gst_discoverer_info_get_audio_streams (dinfo);
  GList *video = gst_discoverer_info_get_video_streams (dinfo);
  gboolean only_images = video != NULL;

  for (GList *l = video; l != NULL; l = l->next)
    if (!gst_discoverer_video_info_is_image (l->data))
      only_images = FALSE;

  if (only_images)
    g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO,
                 _ ("“%s” is a still image, not a video. Choose an MP4 or WebM video file."), name);
  else if (audio != NULL)
    g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO,
                 _ ("“%s” has only sound, no video. Choose an MP4 or WebM video file."), name);
  else
    g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO,
                 _ ("“%s” is not a video file. Choose an MP4 or WebM video file."), name);
  gst_discoverer_stream_info_list_free (audio);
  gst_discoverer_stream_info_list_free (video);
}

static GstDiscovererVideoInfo *
first_moving_video (GstDiscovererInfo *dinfo)
{
  GList *video = gst_discoverer_info_get_video_streams (dinfo);
  GstDiscovererVideoInfo *found = NULL;

  for (GList *l = video; l != NULL && found == NULL; l = l->next)
    if (!gst_discoverer_video_info_is_image (l->data))
      found = g_object_ref (l->data);
  gst_discoverer_stream_info_list_free (video);
  return found;
}

/* qtdemux and matroskademux put file-wide tags (ours among them) on the
 * container; other demuxers put them on the streams. */
static char *
find_recipe (GstDiscovererInfo *dinfo)
{
  g_autoptr (GstDiscovererStreamInfo) top = gst_discoverer_info_get_stream_info (dinfo);
  GList *streams;
  char *recipe = NULL;

  if (top != NULL && GST_IS_DISCOVERER_CONTAINER_INFO (top))
    recipe = recipe_from_tags (gst_discoverer_container_info_get_tags (GST_DISCOVERER_CONTAINER_INFO (top)));
  if (recipe == NULL && top != NULL)
    recipe = recipe_from_tags (gst_discoverer_stream_info_get_tags (top));
  streams = gst_discoverer_info_get_stream_list (dinfo);
  for (GList *l = streams; l != NULL && recipe == NULL; l = l->next)
    {
      GstDiscovererStreamInfo *sinfo = l->data;

      if (GST_IS_DISCOVERER_CONTAINER_INFO (sinfo))
        recipe = recipe_from_tags (
            gst_discoverer_container_info_get_tags (GST_DISCOVERER_CONTAINER_INFO (sinfo)));
      if (recipe == NULL)
        recipe = recipe_from_tags (gst_discoverer_stream_info_get_tags (sinfo));
    }
  gst_discoverer_stream_info_list_free (streams);
  return recipe;
}

static GstDiscovererInfo *
discover (const char *path, GError **error)
{
  g_autoptr (GstDiscoverer) discoverer = NULL;
  g_autoptr (GstDiscovererInfo) dinfo = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *name = g_filename_display_name (path);
  g_autofree char *missing = NULL;
  g_autoptr (GstDiscovererVideoInfo) video = NULL;

  discoverer = gst_discoverer_new (DISCOVER_TIMEOUT_NS, &local_error);
  if (discoverer == NULL)
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_MISSING_PLUGIN,
                   _ ("GStreamer cannot inspect videos (%s). Install gstreamer1.0-plugins-base."),
                   local_error->message);
      return NULL;
    }
  uri = gst_filename_to_uri (path, &local_error);
  if (uri == NULL)
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_UNREADABLE,
                   _ ("Could not make a location from “%s”: %s."), name, local_error->message);
      return NULL;
    }
  dinfo = gst_discoverer_discover_uri (discoverer, uri, &local_error);
  if (dinfo == NULL)
    {
      takes_media_set_error_from_gst (error, local_error, path);
      return NULL;
    }
  switch (gst_discoverer_info_get_result (dinfo))
    {
      case GST_DISCOVERER_OK:
        break;
      case GST_DISCOVERER_MISSING_PLUGINS:
        /* A missing decoder does not hide the size and rate the parsers found;
         * without a video stream the missing piece is the one that matters. */
        video = first_moving_video (dinfo);
        if (video != NULL && gst_discoverer_video_info_get_width (video) > 0)
          break;
        {
          GList *audio = gst_discoverer_info_get_audio_streams (dinfo);
          gboolean audio_only = audio != NULL;

          gst_discoverer_stream_info_list_free (audio);
          if (audio_only)
            {
              set_not_video_error (error, path, dinfo);
              return NULL;
            }
        }
        missing = describe_missing (gst_discoverer_info_get_missing_elements_installer_details (dinfo));
        if (missing == NULL || *missing == '\0' || g_str_has_prefix (missing, "text/"))
          {
            set_not_video_error (error, path, dinfo);
            return NULL;
          }
        g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_MISSING_PLUGIN,
                     _ ("Reading “%s” needs a GStreamer plugin that is not installed (%s). Install "
                        "gstreamer1.0-libav or the GStreamer plugin packages for this format."),
                     name, missing);
        return NULL;
      case GST_DISCOVERER_URI_INVALID:
        g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_UNREADABLE,
                     _ ("Could not read “%s”. Check that the file exists and that you may read it."), name);
        return NULL;
      case GST_DISCOVERER_TIMEOUT:
        g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO,
                     _ ("Inspecting “%s” took too long. The file may be damaged or not a video."), name);
        return NULL;
      case GST_DISCOVERER_BUSY:
      case GST_DISCOVERER_ERROR:
      default:
        if (local_error != NULL)
          takes_media_set_error_from_gst (error, local_error, path);
        else
          g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO,
                       _ ("“%s” is not a video that can be read. Choose an MP4 or WebM video file."), name);
        return NULL;
    }
  return g_steal_pointer (&dinfo);
}

TakesMediaInfo *
takes_media_probe (const char *path, GError **error)
{
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autoptr (GstDiscovererInfo) dinfo = NULL;
  g_autoptr (GstDiscovererVideoInfo) video = NULL;
  g_autoptr (GstDiscovererStreamInfo) top = NULL;
  g_autoptr (GstCaps) video_caps = NULL;
  GList *audio;
  guint counted = 0;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!takes_media_ensure_init (error) || !takes_media_check_readable (path, error))
    return NULL;
  /* Counting first: it reports a damaged file at once, where GstDiscoverer can
   * miss the demuxer's error and wait for its time-out. */
  if (!count_frames (path, &counted, error))
    return NULL;
  dinfo = discover (path, error);
  if (dinfo == NULL)
    return NULL;
  video = first_moving_video (dinfo);
  if (video == NULL || gst_discoverer_video_info_get_width (video) == 0)
    {
      set_not_video_error (error, path, dinfo);
      return NULL;
    }
  if (counted == 0)
    {
      g_autofree char *name = g_filename_display_name (path);

      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO,
                   _ ("“%s” has a video track without any frames. Choose another video file."), name);
      return NULL;
    }

  info = g_new0 (TakesMediaInfo, 1);
  info->duration_ns = gst_discoverer_info_get_duration (dinfo);
  if (!GST_CLOCK_TIME_IS_VALID (info->duration_ns))
    info->duration_ns = 0;
  info->width = (int)gst_discoverer_video_info_get_width (video);
  info->height = (int)gst_discoverer_video_info_get_height (video);
  info->fps_n = (int)gst_discoverer_video_info_get_framerate_num (video);
  info->fps_d = (int)gst_discoverer_video_info_get_framerate_denom (video);
  info->n_frames = counted;
  if (info->fps_n <= 0 || info->fps_d <= 0)
    {
      /* Variable-rate files carry 0/1; the mean rate is what a person expects. */
      if (info->duration_ns > 0)
        gst_util_double_to_fraction ((double)counted * GST_SECOND / (double)info->duration_ns, &info->fps_n,
                                     &info->fps_d);
      else
        {
          info->fps_n = 0;
          info->fps_d = 1;
        }
    }

  video_caps = gst_discoverer_stream_info_get_caps (GST_DISCOVERER_STREAM_INFO (video));
  info->video_codec = video_caps != NULL ? gst_pb_utils_get_codec_description (video_caps) : NULL;
  if (info->video_codec == NULL)
    info->video_codec = g_strdup (_ ("Unknown"));

  top = gst_discoverer_info_get_stream_info (dinfo);
  if (top != NULL && GST_IS_DISCOVERER_CONTAINER_INFO (top))
    {
      g_autoptr (GstCaps) container_caps = gst_discoverer_stream_info_get_caps (top);
      const char *extension = extension_for_container (container_caps);

      const GstTagList *tags = gst_discoverer_container_info_get_tags (GST_DISCOVERER_CONTAINER_INFO (top));

      /* The caps name every QuickTime variant "Quicktime"; qtdemux's own tag
       * tells MP4 ("ISO MP4/M4A") from MOV. Elsewhere the caps are the more
       * precise (matroskademux tags WebM as "Matroska"). */
      if (g_strcmp0 (extension, "mp4") != 0 || tags == NULL
          || !gst_tag_list_get_string (tags, GST_TAG_CONTAINER_FORMAT, &info->container))
        info->container = container_caps != NULL ? gst_pb_utils_get_codec_description (container_caps) : NULL;
      info->extension = g_strdup (extension != NULL ? extension : "video");
    }
  else
    info->extension = g_strdup (extension_for_bare_stream (video_caps));

  audio = gst_discoverer_info_get_audio_streams (dinfo);
  info->has_audio = audio != NULL;
  gst_discoverer_stream_info_list_free (audio);

  info->recipe_json = find_recipe (dinfo);
  return g_steal_pointer (&info);
}

/* Importing */

static gboolean
write_all (int fd, const guint8 *data, gsize len)
{
  while (len > 0)
    {
      gssize n = write (fd, data, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        return FALSE;
      data += n;
      len -= (gsize)n;
    }
  return TRUE;
}

static gboolean
copy_file_contents (int in_fd, int out_fd, int *failed_errno, gboolean *read_failed)
{
  g_autofree guint8 *buffer = g_malloc (1 << 20);

  for (;;)
    {
      gssize n = read (in_fd, buffer, 1 << 20);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          *failed_errno = errno;
          *read_failed = TRUE;
          return FALSE;
        }
      if (n == 0)
        return TRUE;
      errno = 0;
      if (!write_all (out_fd, buffer, (gsize)n))
        {
          /* A short write with no errno set is a full disk by another name. */
          *failed_errno = errno != 0 ? errno : ENOSPC;
          *read_failed = FALSE;
          return FALSE;
        }
    }
}

/* Makes the rename durable too; a file system without directory fsync is not
 * an error worth failing an import for. */
static void
sync_parent_folder (const char *path)
{
  g_autofree char *dir = g_path_get_dirname (path);
  int fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }
}

TakesMediaInfo *
takes_media_import (const char *src, const char *dest, GError **error)
{
  g_autoptr (TakesMediaInfo) source_info = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *base = NULL;
  g_autofree char *tmp_path = NULL;
  g_autofree char *src_name = NULL;
  g_autofree char *dest_name = NULL;
  gboolean read_failed = FALSE;
  int failed_errno = 0;
  int in_fd;
  int out_fd;

  g_return_val_if_fail (src != NULL, NULL);
  g_return_val_if_fail (dest != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  source_info = takes_media_probe (src, error);
  if (source_info == NULL)
    return NULL;

  src_name = g_filename_display_name (src);
  dest_name = g_filename_display_name (dest);
  dir = g_path_get_dirname (dest);
  base = g_path_get_basename (dest);
  tmp_path = g_strdup_printf ("%s%s.%s.XXXXXX.part", dir, G_DIR_SEPARATOR_S, base);

  in_fd = g_open (src, O_RDONLY | O_CLOEXEC, 0);
  if (in_fd < 0)
    {
      failed_errno = errno;
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_UNREADABLE,
                   _ ("Could not open “%s”: %s. Check that the file exists and that you may read it."),
                   src_name, g_strerror (failed_errno));
      return NULL;
    }
  out_fd = g_mkstemp_full (tmp_path, O_RDWR | O_CLOEXEC, 0666);
  if (out_fd < 0)
    {
      failed_errno = errno;
      close (in_fd);
      g_set_error (
          error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_WRITE,
          _ ("Could not create a file next to “%s”: %s. Check that the folder exists and is writable."),
          dest_name, g_strerror (failed_errno));
      return NULL;
    }

  if (copy_file_contents (in_fd, out_fd, &failed_errno, &read_failed) && fsync (out_fd) != 0)
    failed_errno = errno;
  if (failed_errno != 0)
    {
      close (in_fd);
      close (out_fd);
      g_unlink (tmp_path);
      if (read_failed)
        g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_UNREADABLE,
                     _ ("Could not read “%s”: %s. Check that the file exists and that you may read it."),
                     src_name, g_strerror (failed_errno));
      else
        g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_WRITE,
                     _ ("Could not write “%s”: %s. Check that the disk has free space and that the folder is "
                        "writable."),
                     dest_name, g_strerror (failed_errno));
      return NULL;
    }
  close (in_fd);
  if (close (out_fd) != 0 || g_rename (tmp_path, dest) != 0)
    {
      failed_errno = errno;
      g_unlink (tmp_path);
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_WRITE,
                   _ ("Could not write “%s”: %s. Check that the disk has free space and that the folder is "
                      "writable."),
                   dest_name, g_strerror (failed_errno));
      return NULL;
    }
  sync_parent_folder (dest);
  /* The copy holds the same bytes, so the source's probe describes it. */
  return g_steal_pointer (&source_info);
}
