/* takes-media-demux.c: opening a file down to its elementary streams.
 *
 * decodebin and parsebin in GStreamer 1.22 drop an error that a demuxer posts
 * while they are still changing its state, which a damaged file does at once
 * (qtdemux on a truncated MP4). The pipeline then waits forever for a preroll
 * that never comes. Here the demuxer is plugged into the pipeline itself, so its
 * errors always reach the bus; decodebin and parsebin only see elementary
 * streams, whose parsers and decoders post errors from data, not state changes.
 */
#include "config.h"

#define G_LOG_DOMAIN "takes-media"

#include <glib/gi18n.h>

#include "takes-media-private.h"

typedef struct
{
  GstElement *pipeline; /* not owned: the context belongs to the pipeline */
  TakesMediaStreamFunc stream_func;
  TakesMediaStreamsDoneFunc done_func;
  gpointer user_data;
  GMutex lock;
  guint pending_demuxers; /* plugged, and still to announce all their pads */
  gboolean done;
  /* Held while a streaming thread plugs elements and syncs their state, so
   * takes_media_stop_pipeline never sets the pipeline to NULL in between:
   * that would deadlock the sync against the pad deactivation. Recursive,
   * because plugging a demuxer handles its existing pads in the same call. */
  GRecMutex plug_lock;
  gboolean closing;
} Plug;

static void
plug_free (gpointer data)
{
  Plug *plug = data;

  g_rec_mutex_clear (&plug->plug_lock);
  g_mutex_clear (&plug->lock);
  g_free (plug);
}

static GstElementFactory *
find_demuxer (GstCaps *caps)
{
  GList *all = gst_element_factory_list_get_elements (GST_ELEMENT_FACTORY_TYPE_DEMUXER, GST_RANK_MARGINAL);
  GList *fitting = gst_element_factory_list_filter (all, caps, GST_PAD_SINK, FALSE);
  GstElementFactory *factory = NULL;

  fitting = g_list_sort (fitting, gst_plugin_feature_rank_compare_func);
  if (fitting != NULL)
    factory = g_object_ref (fitting->data);
  gst_plugin_feature_list_free (fitting);
  gst_plugin_feature_list_free (all);
  return factory;
}

/* Tells the caller once, when no demuxer has pads still to come. */
static void
maybe_done (Plug *plug)
{
  gboolean done;

  g_mutex_lock (&plug->lock);
  done = !plug->done && plug->pending_demuxers == 0;
  if (done)
    plug->done = TRUE;
  g_mutex_unlock (&plug->lock);
  if (done && plug->done_func != NULL)
    plug->done_func (plug->user_data);
}

static gboolean
has_sometimes_src_pads (GstElementFactory *factory)
{
  for (const GList *l = gst_element_factory_get_static_pad_templates (factory); l != NULL; l = l->next)
    {
      const GstStaticPadTemplate *templ = l->data;

      if (templ->direction == GST_PAD_SRC && templ->presence == GST_PAD_SOMETIMES)
        return TRUE;
    }
  return FALSE;
}

static void handle_pad (Plug *plug, GstPad *pad, GstCaps *caps);

static void
demux_pad_added_cb (GstElement *demuxer, GstPad *pad, gpointer user_data)
{
  Plug *plug = user_data;
  g_autoptr (GstCaps) caps = gst_pad_get_current_caps (pad);

  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  handle_pad (plug, pad, caps);
}

static void
demux_no_more_pads_cb (GstElement *demuxer, gpointer user_data)
{
  Plug *plug = user_data;

  g_mutex_lock (&plug->lock);
  if (plug->pending_demuxers > 0)
    plug->pending_demuxers--;
  g_mutex_unlock (&plug->lock);
  maybe_done (plug);
}

/* A demuxer with only always pads (wavparse) has them all now and never
 * announces more; one with sometimes pads adds them as it reads. */
static void
plug_demuxer (Plug *plug, GstPad *pad, GstElementFactory *factory)
{
  GstElement *demuxer = gst_element_factory_create (factory, NULL);
  g_autoptr (GstPad) sink_pad = NULL;
  gboolean dynamic = has_sometimes_src_pads (factory);

  if (demuxer == NULL)
    {
      GST_ELEMENT_ERROR (plug->pipeline, CORE, MISSING_PLUGIN,
                         (_ ("The demuxer %s could not be created."), GST_OBJECT_NAME (factory)), (NULL));
      return;
    }
  if (dynamic)
    {
      g_signal_connect (demuxer, "pad-added", G_CALLBACK (demux_pad_added_cb), plug);
      g_signal_connect (demuxer, "no-more-pads", G_CALLBACK (demux_no_more_pads_cb), plug);
      g_mutex_lock (&plug->lock);
      plug->pending_demuxers++;
      g_mutex_unlock (&plug->lock);
    }

  takes_media_plug_add (plug->pipeline, demuxer);
  sink_pad = gst_element_get_static_pad (demuxer, "sink");
  if (sink_pad == NULL || gst_pad_link (pad, sink_pad) != GST_PAD_LINK_OK)
    {
      GST_ELEMENT_ERROR (plug->pipeline, CORE, NEGOTIATION,
                         (_ ("The demuxer %s could not be connected."), GST_OBJECT_NAME (factory)), (NULL));
      takes_media_plug_sync (plug->pipeline, demuxer);
      return;
    }
  if (!dynamic)
    {
      g_autoptr (GstIterator) pads = gst_element_iterate_src_pads (demuxer);
      GValue item = G_VALUE_INIT;

      while (gst_iterator_next (pads, &item) == GST_ITERATOR_OK)
        {
          demux_pad_added_cb (demuxer, g_value_get_object (&item), plug);
          g_value_reset (&item);
        }
      g_value_unset (&item);
    }
  takes_media_plug_sync (plug->pipeline, demuxer);
}

/* Containers get a demuxer (tag demuxers such as id3demux can nest); anything
 * else is an elementary stream for the caller. A pad without fixed caps yet
 * (wavparse adds its pad first) only offers its template, which is no type. */
static void
handle_pad (Plug *plug, GstPad *pad, GstCaps *caps)
{
  g_autoptr (GstElementFactory) factory = NULL;

  g_rec_mutex_lock (&plug->plug_lock);
  if (!plug->closing)
    {
      if (caps != NULL && gst_caps_is_fixed (caps))
        factory = find_demuxer (caps);
      if (factory != NULL)
        plug_demuxer (plug, pad, factory);
      else
        plug->stream_func (pad, caps, plug->user_data);
    }
  g_rec_mutex_unlock (&plug->plug_lock);
}

static void
have_type_cb (GstElement *typefind, guint probability, GstCaps *caps, gpointer user_data)
{
  Plug *plug = user_data;
  g_autoptr (GstPad) pad = gst_element_get_static_pad (typefind, "src");

  handle_pad (plug, pad, caps);
  maybe_done (plug);
}

gboolean
takes_media_add_file_source (GstElement *pipeline,
                             const char *path,
                             TakesMediaStreamFunc stream_func,
                             TakesMediaStreamsDoneFunc done_func,
                             gpointer user_data,
                             GError **error)
{
  GstElement *src = gst_element_factory_make ("filesrc", NULL);
  GstElement *typefind = gst_element_factory_make ("typefind", NULL);
  Plug *plug;

  if (src == NULL || typefind == NULL)
    {
      if (src != NULL)
        gst_object_unref (gst_object_ref_sink (src));
      if (typefind != NULL)
        gst_object_unref (gst_object_ref_sink (typefind));
      g_set_error (
          error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_MISSING_PLUGIN,
          _ ("The GStreamer elements filesrc and typefind are missing. Install the gstreamer1.0 core "
             "package and gstreamer1.0-plugins-base."));
      return FALSE;
    }
  plug = g_new0 (Plug, 1);
  g_mutex_init (&plug->lock);
  g_rec_mutex_init (&plug->plug_lock);
  plug->pipeline = pipeline;
  plug->stream_func = stream_func;
  plug->done_func = done_func;
  plug->user_data = user_data;
  /* Freed with the pipeline, after its streaming threads have stopped. A
   * pipeline may read several files, each with its own plug. */
  {
    GPtrArray *plugs = g_object_get_data (G_OBJECT (pipeline), "takes-media-plugs");

    if (plugs == NULL)
      {
        plugs = g_ptr_array_new_with_free_func (plug_free);
        g_object_set_data_full (G_OBJECT (pipeline), "takes-media-plugs", plugs,
                                (GDestroyNotify)g_ptr_array_unref);
      }
    g_ptr_array_add (plugs, plug);
  }

  g_object_set (src, "location", path, NULL);
  gst_bin_add_many (GST_BIN (pipeline), src, typefind, NULL);
  if (!gst_element_link (src, typefind))
    {
      g_set_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_FAILED,
                   _ ("The GStreamer elements for reading a file could not be connected. Check the GStreamer "
                      "installation."));
      return FALSE;
    }
  g_signal_connect (typefind, "have-type", G_CALLBACK (have_type_cb), plug);
  return TRUE;
}

void
takes_media_add_fakesink (GstElement *pipeline, GstPad *pad)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_autoptr (GstPad) sink_pad = NULL;

  if (sink == NULL)
    return;
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  takes_media_plug_add (pipeline, sink);
  sink_pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sink_pad);
  takes_media_plug_sync (pipeline, sink);
}

void
takes_media_plug_add (GstElement *pipeline, GstElement *element)
{
  gst_element_set_locked_state (element, TRUE);
  gst_bin_add (GST_BIN (pipeline), element);
}

void
takes_media_plug_sync (GstElement *pipeline, GstElement *element)
{
  GstState target;

  GST_OBJECT_LOCK (pipeline);
  target = GST_STATE_TARGET (pipeline);
  GST_OBJECT_UNLOCK (pipeline);
  /* Never below READY here: a pipeline that is shutting down does so
   * through takes_media_stop_pipeline, which waits for the plugging. */
  if (target > GST_STATE_READY)
    gst_element_set_state (element, target);
  gst_element_set_locked_state (element, FALSE);
  /* The pipeline may have moved on (PAUSED to PLAYING) while the element was
   * locked; that step activates no pads, so it cannot deadlock. */
  gst_element_sync_state_with_parent (element);
}

gboolean
takes_media_caps_are_video (const GstCaps *caps)
{
  const char *name;

  if (caps == NULL || gst_caps_is_empty (caps) || gst_caps_is_any (caps))
    return FALSE;
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  return g_str_has_prefix (name, "video/") || g_str_has_prefix (name, "image/");
}

static void close_plugs (GstElement *element);

static void
close_plugs_cb (const GValue *item, gpointer user_data)
{
  close_plugs (g_value_get_object (item));
}

/* File sources may sit in bins inside the pipeline (one per compared take);
 * every one of them must stop plugging before the pipeline goes down. */
static void
close_plugs (GstElement *element)
{
  GPtrArray *plugs = g_object_get_data (G_OBJECT (element), "takes-media-plugs");

  for (guint i = 0; plugs != NULL && i < plugs->len; i++)
    {
      Plug *plug = g_ptr_array_index (plugs, i);

      g_rec_mutex_lock (&plug->plug_lock);
      plug->closing = TRUE;
      g_rec_mutex_unlock (&plug->plug_lock);
    }
  if (GST_IS_BIN (element))
    {
      g_autoptr (GstIterator) children = gst_bin_iterate_elements (GST_BIN (element));

      gst_iterator_foreach (children, close_plugs_cb, NULL);
    }
}

void
takes_media_stop_pipeline (GstElement *pipeline)
{
  close_plugs (pipeline);
  gst_element_set_state (pipeline, GST_STATE_NULL);
}
