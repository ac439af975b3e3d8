/* takes-compare.c: the compare bin, its rendering to MP4, and recipe diffs.
 *
 * compositor (every source fitted into its cell, at the common rate) →
 * capsfilter (I420, the canvas size and rate) → videoconvert → [capsfilter
 * (opaque BGRA) → mix] → src. Scaling and blending the decoders' I420 as it
 * is costs about half of doing it in BGRA, and one conversion of the canvas,
 * to whatever format downstream asks for, is cheaper than one per take.
 * Side by side
 * shows the canvas itself, the cells in a 2×1 or 2×2 grid; the other modes
 * put the cells in one row and the mix element, a small GstBaseTransform
 * defined here, makes one cell-sized picture of them: a wipe, the amplified
 * difference, or one chosen cell.
 */
#include "config.h"

#define G_LOG_DOMAIN "takes-compare"

#include <glib/gi18n.h>
#include <gst/app/gstappsink.h>
#include <gst/base/gstbasetransform.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <math.h>

#include "takes-compare.h"
#include "takes-media-private.h"

#define PULL_SLICE_NS (100 * GST_MSECOND)
#define MIX_NAME "takes-compare-mix"
#define COMPOSITOR_NAME "takes-compare-compositor"
#define FILTER_NAME "takes-compare-canvas"
#define GEOMETRY_KEY "takes-compare-geometry"

G_DEFINE_QUARK (takes - compare - error - quark, takes_compare_error)

const char *
takes_compare_mode_to_string (TakesCompareMode mode)
{
  switch (mode)
    {
      case TAKES_COMPARE_WIPE:
        return "wipe";
      case TAKES_COMPARE_DIFFERENCE:
        return "diff";
      case TAKES_COMPARE_TOGGLE:
        return "toggle";
      case TAKES_COMPARE_SIDE_BY_SIDE:
      default:
        return "sbs";
    }
}

gboolean
takes_compare_mode_from_string (const char *text, TakesCompareMode *mode)
{
  static const TakesCompareMode modes[]
      = { TAKES_COMPARE_SIDE_BY_SIDE, TAKES_COMPARE_WIPE, TAKES_COMPARE_DIFFERENCE, TAKES_COMPARE_TOGGLE };

  for (guint i = 0; text != NULL && i < G_N_ELEMENTS (modes); i++)
    if (g_ascii_strcasecmp (text, takes_compare_mode_to_string (modes[i])) == 0)
      {
        *mode = modes[i];
        return TRUE;
      }
  return FALSE;
}

void
takes_compare_options_init (TakesCompareOptions *options)
{
  *options = (TakesCompareOptions){
    .mode = TAKES_COMPARE_SIDE_BY_SIDE,
    .wipe = TAKES_COMPARE_WIPE_VERTICAL,
    .split = 0.5,
    .gain = 4.0,
    .shown = 0,
    .toggle_period = 1.0,
    .max_width = 1920,
    .max_height = 1080,
  };
}

void
takes_compare_layout_free (TakesCompareLayout *layout)
{
  if (layout == NULL)
    return;
  g_free (layout->note);
  g_free (layout);
}

/* The mix element ---------------------------------------------------------- */

#define TAKES_TYPE_COMPARE_MIX (takes_compare_mix_get_type ())
G_DECLARE_FINAL_TYPE (TakesCompareMix, takes_compare_mix, TAKES, COMPARE_MIX, GstBaseTransform)

struct _TakesCompareMix
{
  GstBaseTransform parent_instance;

  /* Set at construction. */
  TakesCompareMode mode;
  TakesCompareWipe wipe;
  guint n_tiles;

  /* Of one cell, the output; from the negotiated caps, so the canvas can
   * be resized while playing. */
  int width, height;

  /* Changed live, read under the object lock. */
  double split;
  double gain;
  guint shown;
  double toggle_period;
};

enum
{
  MIX_PROP_0,
  MIX_PROP_SPLIT,
  MIX_PROP_GAIN,
  MIX_PROP_SHOWN,
  MIX_N_PROPS
};

static GParamSpec *mix_props[MIX_N_PROPS];

G_DEFINE_FINAL_TYPE (TakesCompareMix, takes_compare_mix, GST_TYPE_BASE_TRANSFORM)

/* Four bytes a pixel with alpha (or padding) last: the mix treats the
 * colour bytes alike and keeps the fourth opaque. */
#define MIX_FORMATS "{ BGRA, RGBA, BGRx, RGBx }"
#define CANVAS_FORMAT "I420"
#define OUTPUT_FORMAT "BGRA"

static GstStaticPadTemplate mix_sink_template = GST_STATIC_PAD_TEMPLATE (
    "sink", GST_PAD_SINK, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (MIX_FORMATS)));
static GstStaticPadTemplate mix_src_template = GST_STATIC_PAD_TEMPLATE (
    "src", GST_PAD_SRC, GST_PAD_ALWAYS, GST_STATIC_CAPS (GST_VIDEO_CAPS_MAKE (MIX_FORMATS)));

static void
takes_compare_mix_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TakesCompareMix *self = TAKES_COMPARE_MIX (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id)
    {
      case MIX_PROP_SPLIT:
        self->split = g_value_get_double (value);
        break;
      case MIX_PROP_GAIN:
        self->gain = g_value_get_double (value);
        break;
      case MIX_PROP_SHOWN:
        self->shown = g_value_get_uint (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
  GST_OBJECT_UNLOCK (self);
}

static void
takes_compare_mix_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesCompareMix *self = TAKES_COMPARE_MIX (object);

  GST_OBJECT_LOCK (self);
  switch (prop_id)
    {
      case MIX_PROP_SPLIT:
        g_value_set_double (value, self->split);
        break;
      case MIX_PROP_GAIN:
        g_value_set_double (value, self->gain);
        break;
      case MIX_PROP_SHOWN:
        g_value_set_uint (value, self->shown);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
  GST_OBJECT_UNLOCK (self);
}

/* The canvas holds n_tiles cells in a row; the output is one cell. */
static GstCaps *
takes_compare_mix_transform_caps (GstBaseTransform *trans,
                                  GstPadDirection direction,
                                  GstCaps *caps,
                                  GstCaps *filter)
{
  TakesCompareMix *self = TAKES_COMPARE_MIX (trans);
  GstCaps *other = gst_caps_copy (caps);
  int n = (int)self->n_tiles;

  for (guint i = 0; i < gst_caps_get_size (other); i++)
    {
      GstStructure *structure = gst_caps_get_structure (other, i);
      int width;

      if (gst_structure_get_int (structure, "width", &width))
        gst_structure_set (structure, "width", G_TYPE_INT, direction == GST_PAD_SINK ? width / n : width * n,
                           NULL);
      else
        gst_structure_set (structure, "width", GST_TYPE_INT_RANGE, 1, G_MAXINT, NULL);
    }
  if (filter != NULL)
    {
      GstCaps *both = gst_caps_intersect_full (filter, other, GST_CAPS_INTERSECT_FIRST);

      gst_caps_unref (other);
      other = both;
    }
  return other;
}

static gboolean
takes_compare_mix_set_caps (GstBaseTransform *trans, GstCaps *incaps, GstCaps *outcaps)
{
  TakesCompareMix *self = TAKES_COMPARE_MIX (trans);
  GstVideoInfo in, out;

  if (!gst_video_info_from_caps (&in, incaps) || !gst_video_info_from_caps (&out, outcaps)
      || GST_VIDEO_INFO_WIDTH (&in) != GST_VIDEO_INFO_WIDTH (&out) * (int)self->n_tiles
      || GST_VIDEO_INFO_HEIGHT (&in) != GST_VIDEO_INFO_HEIGHT (&out))
    return FALSE;
  GST_OBJECT_LOCK (self);
  self->width = GST_VIDEO_INFO_WIDTH (&out);
  self->height = GST_VIDEO_INFO_HEIGHT (&out);
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static guint
shown_tile (TakesCompareMix *self, GstBuffer *buffer, guint shown, double period)
{
  if (period > 0.0 && GST_BUFFER_PTS_IS_VALID (buffer))
    return (guint)((double)GST_BUFFER_PTS (buffer) / (period * GST_SECOND)) % self->n_tiles;
  return MIN (shown, self->n_tiles - 1);
}

static GstFlowReturn
takes_compare_mix_transform (GstBaseTransform *trans, GstBuffer *inbuf, GstBuffer *outbuf)
{
  TakesCompareMix *self = TAKES_COMPARE_MIX (trans);
  GstMapInfo in, out;
  gsize in_stride, out_stride, cell;
  double split, gain, period;
  guint shown;
  int line, width, height;

  GST_OBJECT_LOCK (self);
  split = CLAMP (self->split, 0.0, 1.0);
  gain = self->gain;
  shown = self->shown;
  period = self->toggle_period;
  width = self->width;
  height = self->height;
  GST_OBJECT_UNLOCK (self);
  in_stride = (gsize)width * self->n_tiles * 4;
  out_stride = (gsize)width * 4;
  cell = out_stride;

  if (!gst_buffer_map (inbuf, &in, GST_MAP_READ))
    return GST_FLOW_ERROR;
  if (!gst_buffer_map (outbuf, &out, GST_MAP_WRITE))
    {
      gst_buffer_unmap (inbuf, &in);
      return GST_FLOW_ERROR;
    }
  if (in.size < in_stride * height || out.size < out_stride * height)
    {
      gst_buffer_unmap (outbuf, &out);
      gst_buffer_unmap (inbuf, &in);
      GST_ELEMENT_ERROR (self, STREAM, FORMAT, (_ ("A compared frame had an unexpected size.")), (NULL));
      return GST_FLOW_ERROR;
    }

  switch (self->mode)
    {
      case TAKES_COMPARE_WIPE:
        line = (int)lround (split * (self->wipe == TAKES_COMPARE_WIPE_VERTICAL ? width : height));
        for (int y = 0; y < height; y++)
          {
            const guint8 *row = in.data + (gsize)y * in_stride;
            guint8 *dest = out.data + (gsize)y * out_stride;

            if (self->wipe == TAKES_COMPARE_WIPE_VERTICAL)
              {
                memcpy (dest, row, (gsize)line * 4);
                memcpy (dest + (gsize)line * 4, row + cell + (gsize)line * 4, (gsize)(width - line) * 4);
                /* A thin line shows where one take ends and the other begins. */
                if (line > 0 && line < width)
                  memset (dest + (gsize)(line - 1) * 4, 0xff, 4);
              }
            else if (y == line - 1)
              memset (dest, 0xff, out_stride);
            else
              memcpy (dest, row + (y < line ? 0 : cell), out_stride);
          }
        break;
      case TAKES_COMPARE_DIFFERENCE:
        for (int y = 0; y < height; y++)
          {
            const guint8 *a = in.data + (gsize)y * in_stride;
            const guint8 *b = a + cell;
            guint8 *dest = out.data + (gsize)y * out_stride;

            for (gsize x = 0; x < out_stride; x++)
              {
                double d = fabs ((double)a[x] - (double)b[x]) * gain;

                dest[x] = x % 4 == 3 ? 0xff : (guint8)MIN (d, 255.0);
              }
          }
        break;
      case TAKES_COMPARE_TOGGLE:
      case TAKES_COMPARE_SIDE_BY_SIDE:
      default:
        {
          gsize offset = cell * shown_tile (self, inbuf, shown, period);

          for (int y = 0; y < height; y++)
            memcpy (out.data + (gsize)y * out_stride, in.data + (gsize)y * in_stride + offset, out_stride);
        }
        break;
    }
  gst_buffer_unmap (outbuf, &out);
  gst_buffer_unmap (inbuf, &in);
  return GST_FLOW_OK;
}

static void
takes_compare_mix_class_init (TakesCompareMixClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseTransformClass *trans_class = GST_BASE_TRANSFORM_CLASS (klass);

  object_class->set_property = takes_compare_mix_set_property;
  object_class->get_property = takes_compare_mix_get_property;
  mix_props[MIX_PROP_SPLIT]
      = g_param_spec_double ("split", NULL, NULL, 0.0, 1.0, 0.5, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  mix_props[MIX_PROP_GAIN]
      = g_param_spec_double ("gain", NULL, NULL, 0.0, 255.0, 4.0, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  mix_props[MIX_PROP_SHOWN] = g_param_spec_uint ("shown", NULL, NULL, 0, TAKES_COMPARE_MAX_SOURCES - 1, 0,
                                                 G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, MIX_N_PROPS, mix_props);

  gst_element_class_set_static_metadata (element_class, "Takes compare mix", "Filter/Effect/Video",
                                         "Wipe, difference or toggle between takes laid side by side",
                                         "Takes");
  gst_element_class_add_static_pad_template (element_class, &mix_sink_template);
  gst_element_class_add_static_pad_template (element_class, &mix_src_template);
  trans_class->transform_caps = takes_compare_mix_transform_caps;
  trans_class->set_caps = takes_compare_mix_set_caps;
  trans_class->transform = takes_compare_mix_transform;
}

static void
takes_compare_mix_init (TakesCompareMix *self)
{
  self->split = 0.5;
  self->gain = 4.0;
  self->n_tiles = 1;
}

/* Planning ------------------------------------------------------------------ */

static gboolean
same_rate (int n1, int d1, int n2, int d2)
{
  return (gint64)n1 * d2 == (gint64)n2 * d1;
}

static int
even_down (double value)
{
  int v = (int)floor (value);

  return MAX (2, v - v % 2);
}

TakesCompareLayout *
takes_compare_plan (const TakesCompareSource *sources,
                    guint n_sources,
                    const TakesCompareOptions *options,
                    GError **error)
{
  g_autoptr (TakesCompareLayout) layout = NULL;
  g_autoptr (GString) note = g_string_new (NULL);
  int cols, rows, cell_w = 0, cell_h = 0, max_w, max_h;
  double scale;

  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (n_sources == 0 || sources != NULL, NULL);

  if (n_sources < 2 || n_sources > TAKES_COMPARE_MAX_SOURCES)
    {
      g_set_error (error, TAKES_COMPARE_ERROR, TAKES_COMPARE_ERROR_INVALID,
                   _ ("A comparison shows 2 to %d takes, and %u were given. Choose between 2 and %d."),
                   TAKES_COMPARE_MAX_SOURCES, n_sources, TAKES_COMPARE_MAX_SOURCES);
      return NULL;
    }
  if ((options->mode == TAKES_COMPARE_WIPE || options->mode == TAKES_COMPARE_DIFFERENCE) && n_sources != 2)
    {
      g_set_error (error, TAKES_COMPARE_ERROR, TAKES_COMPARE_ERROR_INVALID,
                   _ ("A wipe or a difference compares exactly two takes, and %u were given. Use side by "
                      "side or toggle for more."),
                   n_sources);
      return NULL;
    }
  if (!(options->split >= 0.0 && options->split <= 1.0) || !(options->gain >= 0.0 && options->gain <= 255.0))
    {
      g_set_error (
          error, TAKES_COMPARE_ERROR, TAKES_COMPARE_ERROR_INVALID,
          _ ("The wipe position must be between 0 and 1 and the difference gain between 0 and 255."));
      return NULL;
    }

  layout = g_new0 (TakesCompareLayout, 1);
  layout->n_sources = n_sources;
  layout->fps_n = 0;
  layout->fps_d = 1;
  for (guint i = 0; i < n_sources; i++)
    {
      const TakesCompareSource *s = &sources[i];

      if (s->width <= 0 || s->height <= 0)
        {
          g_set_error (error, TAKES_COMPARE_ERROR, TAKES_COMPARE_ERROR_INVALID,
                       _ ("Take %u has no picture size. Check that it is a video."), i + 1);
          return NULL;
        }
      cell_w = MAX (cell_w, s->width);
      cell_h = MAX (cell_h, s->height);
      if (s->fps_n > 0 && s->fps_d > 0
          && (layout->fps_n == 0 || (gint64)s->fps_n * layout->fps_d > (gint64)layout->fps_n * s->fps_d))
        {
          layout->fps_n = s->fps_n;
          layout->fps_d = s->fps_d;
        }
    }
  if (layout->fps_n == 0)
    {
      layout->fps_n = 25;
      layout->fps_d = 1;
    }

  if (options->mode == TAKES_COMPARE_SIDE_BY_SIDE)
    {
      cols = 2;
      rows = n_sources > 2 ? 2 : 1;
    }
  else
    {
      cols = 1;
      rows = 1;
    }
  max_w = options->max_width > 0 ? options->max_width : 1920;
  max_h = options->max_height > 0 ? options->max_height : 1080;
  max_w = MIN (max_w, TAKES_MEDIA_MAX_SIZE);
  max_h = MIN (max_h, TAKES_MEDIA_MAX_SIZE);
  scale = MIN (1.0, MIN ((double)max_w / (cell_w * cols), (double)max_h / (cell_h * rows)));
  layout->cell_width = even_down (cell_w * scale);
  layout->cell_height = even_down (cell_h * scale);
  layout->width = layout->cell_width * cols;
  layout->height = layout->cell_height * rows;

  for (guint i = 0; i < n_sources; i++)
    {
      const TakesCompareSource *s = &sources[i];

      if (s->width != layout->cell_width || s->height != layout->cell_height)
        {
          layout->rescaled = TRUE;
          if (note->len > 0)
            g_string_append_c (note, ' ');
          g_string_append_printf (note, _ ("Take %u was scaled from %d×%d to fit %d×%d."), i + 1, s->width,
                                  s->height, layout->cell_width, layout->cell_height);
        }
      if (s->fps_n <= 0 || s->fps_d <= 0 || !same_rate (s->fps_n, s->fps_d, layout->fps_n, layout->fps_d))
        {
          layout->retimed = TRUE;
          if (note->len > 0)
            g_string_append_c (note, ' ');
          g_string_append_printf (note, _ ("Take %u was retimed from %.3g to %.3g frames a second."), i + 1,
                                  s->fps_d > 0 ? (double)s->fps_n / s->fps_d : 0.0,
                                  (double)layout->fps_n / layout->fps_d);
        }
    }
  if (note->len > 0)
    layout->note = g_string_free (g_steal_pointer (&note), FALSE);
  return g_steal_pointer (&layout);
}

/* The bin ------------------------------------------------------------------- */

static void
drop_element (GstElement **element)
{
  if (*element != NULL)
    {
      gst_object_ref_sink (*element);
      gst_clear_object (element);
    }
}

/* What takes_compare_bin_set_size needs to lay the cells out again. */
typedef struct
{
  int cols, rows; /* of the canvas */
  guint n_sources;
  int fps_n, fps_d;
} Geometry;

static GstCaps *
canvas_caps (const Geometry *geometry, int cell_width, int cell_height)
{
  return gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, CANVAS_FORMAT, "width", G_TYPE_INT,
                              cell_width * geometry->cols, "height", G_TYPE_INT, cell_height * geometry->rows,
                              "framerate", GST_TYPE_FRACTION, geometry->fps_n, geometry->fps_d,
                              "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
}

static void
place_pad (GstPad *pad, int col, int row, int cell_width, int cell_height)
{
  g_object_set (pad, "xpos", col * cell_width, "ypos", row * cell_height, "width", cell_width, "height",
                cell_height, NULL);
}

GstElement *
takes_compare_bin_new (const TakesCompareLayout *layout, const TakesCompareOptions *options, GError **error)
{
  g_autoptr (GstElement) bin = NULL;
  g_autoptr (GstCaps) caps = NULL;
  g_autoptr (GstPad) src = NULL;
  g_autoptr (GstStructure) config = NULL;
  g_autoptr (GstCaps) output = NULL;
  GstElement *compositor, *filter, *convert, *format, *mix = NULL, *last;
  Geometry *geometry;
  gboolean grid;

  g_return_val_if_fail (layout != NULL, NULL);
  g_return_val_if_fail (options != NULL, NULL);

  if (!takes_media_ensure_init (error))
    return NULL;
  compositor = gst_element_factory_make ("compositor", COMPOSITOR_NAME);
  filter = gst_element_factory_make ("capsfilter", FILTER_NAME);
  convert = gst_element_factory_make ("videoconvert", NULL);
  format = gst_element_factory_make ("capsfilter", NULL);
  if (compositor == NULL || filter == NULL || convert == NULL || format == NULL)
    {
      drop_element (&compositor);
      drop_element (&filter);
      drop_element (&convert);
      drop_element (&format);
      g_set_error (error, TAKES_COMPARE_ERROR, TAKES_COMPARE_ERROR_MISSING_PLUGIN,
                   _ ("The GStreamer element compositor or videoconvert is missing. Install "
                      "gstreamer1.0-plugins-base."));
      return NULL;
    }

  grid = options->mode == TAKES_COMPARE_SIDE_BY_SIDE;
  bin = gst_object_ref_sink (gst_bin_new (NULL));
  /* Black, not the default checker board, where a take leaves room. */
  gst_util_set_object_arg (G_OBJECT (compositor), "background", "black");
  geometry = g_new0 (Geometry, 1);
  geometry->cols = grid ? 2 : (int)layout->n_sources;
  geometry->rows = grid && layout->n_sources > 2 ? 2 : 1;
  geometry->n_sources = layout->n_sources;
  geometry->fps_n = layout->fps_n;
  geometry->fps_d = layout->fps_d;
  g_object_set_data_full (G_OBJECT (bin), GEOMETRY_KEY, geometry, g_free);
  caps = canvas_caps (geometry, layout->cell_width, layout->cell_height);
  g_object_set (filter, "caps", caps, NULL);
  output = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, OUTPUT_FORMAT, NULL);
  g_object_set (format, "caps", output, NULL);
  g_object_set (convert, "n-threads", 2, NULL);

  gst_bin_add_many (GST_BIN (bin), compositor, filter, convert, NULL);
  last = convert;
  if (!grid)
    {
      TakesCompareMix *m = g_object_new (TAKES_TYPE_COMPARE_MIX, "name", MIX_NAME, NULL);

      m->mode = options->mode;
      m->wipe = options->wipe;
      m->n_tiles = layout->n_sources;
      m->split = options->split;
      m->gain = options->gain;
      m->shown = MIN (options->shown, layout->n_sources - 1);
      m->toggle_period = options->mode == TAKES_COMPARE_TOGGLE ? MAX (options->toggle_period, 0.0) : 0.0;
      mix = GST_ELEMENT (m);
      gst_bin_add_many (GST_BIN (bin), format, mix, NULL);
      last = mix;
    }
  else
    drop_element (&format);
  if (!gst_element_link_many (compositor, filter, convert, NULL)
      || (mix != NULL && !gst_element_link_many (convert, format, mix, NULL)))
    {
      g_set_error (error, TAKES_COMPARE_ERROR, TAKES_COMPARE_ERROR_FAILED,
                   _ ("The compare elements could not be connected. Check the GStreamer installation."));
      return NULL;
    }

  /* Compositor scales its inputs in parallel; a second thread for each
   * keeps one large take from holding up the rest. Linear resampling is a
   * third cheaper than the default cubic and looks the same at preview
   * sizes. */
  config
      = gst_structure_new ("GstVideoConverter", GST_VIDEO_CONVERTER_OPT_THREADS, G_TYPE_UINT, 2,
                           GST_VIDEO_CONVERTER_OPT_RESAMPLER_METHOD, GST_TYPE_VIDEO_RESAMPLER_METHOD,
                           GST_VIDEO_RESAMPLER_METHOD_LINEAR, GST_VIDEO_CONVERTER_OPT_CHROMA_RESAMPLER_METHOD,
                           GST_TYPE_VIDEO_RESAMPLER_METHOD, GST_VIDEO_RESAMPLER_METHOD_LINEAR, NULL);
  for (guint i = 0; i < layout->n_sources; i++)
    {
      g_autoptr (GstPad) pad = gst_element_request_pad_simple (compositor, "sink_%u");
      g_autofree char *name = g_strdup_printf ("sink_%u", i);
      int col = grid ? (int)(i % 2) : (int)i;
      int row = grid ? (int)(i / 2) : 0;
      GstPad *ghost;

      if (pad == NULL)
        {
          g_set_error (error, TAKES_COMPARE_ERROR, TAKES_COMPARE_ERROR_FAILED,
                       _ ("The compositor gave no input for take %u. Check the GStreamer installation."),
                       i + 1);
          return NULL;
        }
      place_pad (pad, col, row, layout->cell_width, layout->cell_height);
      gst_util_set_object_arg (G_OBJECT (pad), "sizing-policy", "keep-aspect-ratio");
      g_object_set (pad, "converter-config", config, NULL);
      ghost = gst_ghost_pad_new (name, pad);
      gst_pad_set_active (ghost, TRUE);
      gst_element_add_pad (bin, ghost);
    }
  src = gst_element_get_static_pad (last, "src");
  gst_element_add_pad (bin, gst_ghost_pad_new ("src", src));
  return g_steal_pointer (&bin);
}

static GstElement *
find_mix (GstElement *bin)
{
  return GST_IS_BIN (bin) ? gst_bin_get_by_name (GST_BIN (bin), MIX_NAME) : NULL;
}

void
takes_compare_bin_set_split (GstElement *bin, double split)
{
  g_autoptr (GstElement) mix = find_mix (bin);

  if (mix != NULL)
    g_object_set (mix, "split", CLAMP (split, 0.0, 1.0), NULL);
}

void
takes_compare_bin_set_shown (GstElement *bin, guint shown)
{
  g_autoptr (GstElement) mix = find_mix (bin);

  if (mix != NULL)
    {
      TakesCompareMix *m = TAKES_COMPARE_MIX (mix);

      /* Choosing a take by hand stops the automatic alternation. */
      GST_OBJECT_LOCK (m);
      m->toggle_period = 0.0;
      m->shown = MIN (shown, m->n_tiles - 1);
      GST_OBJECT_UNLOCK (m);
    }
}

void
takes_compare_bin_set_gain (GstElement *bin, double gain)
{
  g_autoptr (GstElement) mix = find_mix (bin);

  if (mix != NULL)
    g_object_set (mix, "gain", CLAMP (gain, 0.0, 255.0), NULL);
}

gboolean
takes_compare_bin_set_cell_size (GstElement *bin, int cell_width, int cell_height)
{
  Geometry *geometry = GST_IS_BIN (bin) ? g_object_get_data (G_OBJECT (bin), GEOMETRY_KEY) : NULL;
  g_autoptr (GstElement) compositor = NULL;
  g_autoptr (GstElement) filter = NULL;
  g_autoptr (GstCaps) caps = NULL;
  g_autoptr (GstCaps) old = NULL;

  g_return_val_if_fail (geometry != NULL, FALSE);
  cell_width = CLAMP (cell_width - cell_width % 2, 2, TAKES_MEDIA_MAX_SIZE);
  cell_height = CLAMP (cell_height - cell_height % 2, 2, TAKES_MEDIA_MAX_SIZE);
  compositor = gst_bin_get_by_name (GST_BIN (bin), COMPOSITOR_NAME);
  filter = gst_bin_get_by_name (GST_BIN (bin), FILTER_NAME);
  g_return_val_if_fail (compositor != NULL && filter != NULL, FALSE);

  caps = canvas_caps (geometry, cell_width, cell_height);
  g_object_get (filter, "caps", &old, NULL);
  if (old != NULL && gst_caps_is_equal (old, caps))
    return FALSE;
  for (guint i = 0; i < geometry->n_sources; i++)
    {
      g_autofree char *name = g_strdup_printf ("sink_%u", i);
      g_autoptr (GstPad) ghost = gst_element_get_static_pad (bin, name);
      g_autoptr (GstPad) pad = ghost != NULL ? gst_ghost_pad_get_target (GST_GHOST_PAD (ghost)) : NULL;

      if (pad != NULL)
        place_pad (pad, (int)i % geometry->cols, (int)i / geometry->cols, cell_width, cell_height);
    }
  /* The capsfilter asks upstream to renegotiate; compositor does so before
   * its next output frame. */
  g_object_set (filter, "caps", caps, NULL);
  return TRUE;
}

/* Rendering ----------------------------------------------------------------- */

typedef struct
{
  GstElement *pipeline;
  GstElement *bin; /* owned by the pipeline */
  GMutex lock;
  gboolean closing;
  gboolean have_stream[TAKES_COMPARE_MAX_SOURCES];
  gboolean linked[TAKES_COMPARE_MAX_SOURCES];
} Render;

/* Each file is read in a bin of its own: the demuxing helpers keep their
 * state on the element they are given, one file per element. */
typedef struct
{
  Render *render;
  guint index;
  GstElement *bin; /* owned by the pipeline */
} RenderInput;

static void
decoded_pad_added_cb (GstElement *decodebin, GstPad *pad, gpointer user_data)
{
  RenderInput *input = user_data;
  Render *render = input->render;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&render->lock);
  g_autoptr (GstCaps) caps = NULL;
  gboolean video;

  if (render->closing)
    return;
  caps = gst_pad_get_current_caps (pad);
  if (caps == NULL)
    caps = gst_pad_query_caps (pad, NULL);
  video = caps != NULL && !gst_caps_is_empty (caps) && !gst_caps_is_any (caps)
          && gst_structure_has_name (gst_caps_get_structure (caps, 0), "video/x-raw");
  if (video && !render->linked[input->index])
    {
      g_autofree char *name = g_strdup_printf ("sink_%u", input->index);
      g_autoptr (GstPad) sink = gst_element_get_static_pad (render->bin, name);

      GstPad *ghost = gst_ghost_pad_new (NULL, pad);

      render->linked[input->index] = TRUE;
      gst_pad_set_active (ghost, TRUE);
      gst_element_add_pad (input->bin, ghost);
      if (sink == NULL || gst_pad_link (ghost, sink) != GST_PAD_LINK_OK)
        GST_ELEMENT_ERROR (render->pipeline, CORE, NEGOTIATION,
                           (_ ("Take %u could not be connected to the comparison."), input->index + 1),
                           (NULL));
      return;
    }
  takes_media_add_fakesink (input->bin, pad);
}

static void
render_stream_cb (GstPad *pad, GstCaps *caps, gpointer user_data)
{
  RenderInput *input = user_data;
  Render *render = input->render;
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&render->lock);
  g_autoptr (GstPad) sink = NULL;
  GstElement *decodebin;

  if (render->closing)
    return;
  if (!takes_media_caps_are_video (caps) || render->have_stream[input->index])
    {
      takes_media_add_fakesink (input->bin, pad);
      return;
    }
  render->have_stream[input->index] = TRUE;
  decodebin = gst_element_factory_make ("decodebin", NULL);
  if (decodebin == NULL)
    {
      GST_ELEMENT_ERROR (
          render->pipeline, CORE, MISSING_PLUGIN,
          (_ ("The GStreamer element decodebin is missing. Install gstreamer1.0-plugins-base.")), (NULL));
      return;
    }
  g_signal_connect (decodebin, "pad-added", G_CALLBACK (decoded_pad_added_cb), input);
  gst_bin_add (GST_BIN (input->bin), decodebin);
  sink = gst_element_get_static_pad (decodebin, "sink");
  gst_pad_link (pad, sink);
  gst_element_sync_state_with_parent (decodebin);
}

static void
render_stop (Render *render, RenderInput *inputs, guint n_inputs)
{
  g_mutex_lock (&render->lock);
  render->closing = TRUE;
  g_mutex_unlock (&render->lock);
  for (guint i = 0; i < n_inputs; i++)
    if (inputs[i].bin != NULL)
      takes_media_stop_pipeline (inputs[i].bin);
  if (render->pipeline != NULL)
    gst_element_set_state (render->pipeline, GST_STATE_NULL);
}

static gboolean
check_bus (GstBus *bus, const char *out_path, GError **error)
{
  g_autoptr (GstMessage) message = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);

  if (message == NULL)
    return TRUE;
  takes_media_set_error_from_message (error, message, out_path);
  return FALSE;
}

static gboolean
push_sample (TakesMediaEncoder *encoder, GstSample *sample, GError **error)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  gboolean ok;

  if (!gst_video_info_from_caps (&info, gst_sample_get_caps (sample))
      || !gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample), GST_MAP_READ))
    {
      g_set_error (error, TAKES_COMPARE_ERROR, TAKES_COMPARE_ERROR_FAILED,
                   _ ("A compared frame could not be read. Check the GStreamer installation."));
      return FALSE;
    }
  ok = takes_media_encoder_push_rgb (encoder, GST_VIDEO_FRAME_PLANE_DATA (&frame, 0),
                                     (gsize)GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0), error);
  gst_video_frame_unmap (&frame);
  return ok;
}

static gboolean
run_render (
    Render *render, GstElement *sink, TakesMediaEncoder *encoder, const char *out_path, GError **error)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (render->pipeline);
  gint64 deadline;

  if (gst_element_set_state (render->pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    {
      if (check_bus (bus, out_path, error))
        g_set_error (error, TAKES_COMPARE_ERROR, TAKES_COMPARE_ERROR_FAILED,
                     _ ("The comparison could not start. Check the GStreamer installation."));
      return FALSE;
    }
  deadline = g_get_monotonic_time () + TAKES_MEDIA_TIMEOUT_NS / 1000;
  for (;;)
    {
      g_autoptr (GstSample) sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), PULL_SLICE_NS);

      if (!check_bus (bus, out_path, error))
        return FALSE;
      if (sample == NULL)
        {
          if (gst_app_sink_is_eos (GST_APP_SINK (sink)))
            return TRUE;
          if (g_get_monotonic_time () > deadline)
            {
              g_set_error (error, TAKES_COMPARE_ERROR, TAKES_COMPARE_ERROR_FAILED,
                           _ ("Rendering the comparison stopped making progress. A take may be damaged."));
              return FALSE;
            }
          continue;
        }
      deadline = g_get_monotonic_time () + TAKES_MEDIA_TIMEOUT_NS / 1000;
      if (!push_sample (encoder, sample, error))
        return FALSE;
    }
}

gboolean
takes_compare_render (const char *const *paths,
                      guint n_paths,
                      const TakesCompareOptions *options,
                      const char *out_path,
                      TakesCompareLayout **layout_out,
                      GError **error)
{
  TakesCompareSource sources[TAKES_COMPARE_MAX_SOURCES] = { { 0 } };
  RenderInput inputs[TAKES_COMPARE_MAX_SOURCES] = { { 0 } };
  g_autoptr (TakesCompareLayout) layout = NULL;
  g_autoptr (TakesMediaEncoder) encoder = NULL;
  g_autoptr (GstCaps) rgb = NULL;
  Render render = { 0 };
  GstElement *convert, *sink;
  gboolean ok = FALSE;

  g_return_val_if_fail (paths != NULL, FALSE);
  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail (out_path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (n_paths > TAKES_COMPARE_MAX_SOURCES)
    return takes_compare_plan (NULL, 0, options, error) != NULL;
  for (guint i = 0; i < n_paths; i++)
    {
      g_autoptr (TakesMediaInfo) info = takes_media_probe (paths[i], error);

      if (info == NULL)
        return FALSE;
      sources[i] = (TakesCompareSource){ info->width, info->height, info->fps_n, info->fps_d };
    }
  layout = takes_compare_plan (sources, n_paths, options, error);
  if (layout == NULL)
    return FALSE;
  encoder = takes_media_encoder_new (out_path, layout->width, layout->height, layout->fps_n, layout->fps_d,
                                     NULL, error);
  if (encoder == NULL)
    return FALSE;

  g_mutex_init (&render.lock);
  for (guint i = 0; i < TAKES_COMPARE_MAX_SOURCES; i++)
    inputs[i] = (RenderInput){ &render, i, NULL };
  render.pipeline = gst_object_ref_sink (gst_pipeline_new ("takes-compare"));
  render.bin = takes_compare_bin_new (layout, options, error);
  convert = gst_element_factory_make ("videoconvert", NULL);
  sink = gst_element_factory_make ("appsink", NULL);
  if (render.bin == NULL || convert == NULL || sink == NULL)
    {
      if (render.bin != NULL && (convert == NULL || sink == NULL))
        g_set_error (error, TAKES_COMPARE_ERROR, TAKES_COMPARE_ERROR_MISSING_PLUGIN,
                     _ ("The GStreamer elements videoconvert and appsink are missing. Install "
                        "gstreamer1.0-plugins-base."));
      gst_clear_object (&render.bin);
      drop_element (&convert);
      drop_element (&sink);
      goto out;
    }
  rgb = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "RGB", NULL);
  /* A short queue: the encoder sets the pace, and memory stays small. */
  g_object_set (sink, "caps", rgb, "sync", FALSE, "max-buffers", 2, "drop", FALSE, "enable-last-sample",
                FALSE, NULL);
  gst_bin_add_many (GST_BIN (render.pipeline), render.bin, convert, sink, NULL);
  /* The pipeline holds the bin now; our reference goes. */
  gst_object_unref (render.bin);
  if (!gst_element_link_many (render.bin, convert, sink, NULL))
    {
      g_set_error (error, TAKES_COMPARE_ERROR, TAKES_COMPARE_ERROR_FAILED,
                   _ ("The compare elements could not be connected. Check the GStreamer installation."));
      goto out;
    }
  for (guint i = 0; i < n_paths; i++)
    {
      inputs[i].bin = gst_bin_new (NULL);
      gst_bin_add (GST_BIN (render.pipeline), inputs[i].bin);
      if (!takes_media_add_file_source (inputs[i].bin, paths[i], render_stream_cb, NULL, &inputs[i], error))
        goto out;
    }
  if (!run_render (&render, sink, encoder, out_path, error))
    goto out;
  ok = TRUE;

out:
  render_stop (&render, inputs, n_paths);
  gst_clear_object (&render.pipeline);
  g_mutex_clear (&render.lock);
  if (!ok)
    return FALSE;
  if (!takes_media_encoder_finish (encoder, error))
    return FALSE;
  if (layout_out != NULL)
    *layout_out = g_steal_pointer (&layout);
  return TRUE;
}

/* Recipe differences -------------------------------------------------------- */

void
takes_recipe_change_free (TakesRecipeChange *change)
{
  if (change == NULL)
    return;
  g_free (change->field);
  g_free (change->value_a);
  g_free (change->value_b);
  g_free (change);
}

static char *
node_to_text (JsonNode *node)
{
  return node != NULL ? json_to_string (node, FALSE) : NULL;
}

static int
compare_changes (gconstpointer a, gconstpointer b)
{
  const TakesRecipeChange *ca = *(TakesRecipeChange *const *)a;
  const TakesRecipeChange *cb = *(TakesRecipeChange *const *)b;

  return g_strcmp0 (ca->field, cb->field);
}

GPtrArray *
takes_recipe_diff (TakesRecipe *a, TakesRecipe *b)
{
  g_autoptr (JsonObject) oa = takes_recipe_to_object (a);
  g_autoptr (JsonObject) ob = takes_recipe_to_object (b);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GPtrArray *changes = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_recipe_change_free);
  JsonObject *objects[2] = { oa, ob };

  for (guint k = 0; k < 2; k++)
    {
      g_autoptr (GList) members = json_object_get_members (objects[k]);

      for (GList *l = members; l != NULL; l = l->next)
        {
          const char *field = l->data;
          JsonNode *na, *nb;

          if (!g_hash_table_add (seen, (gpointer)field))
            continue;
          na = json_object_get_member (oa, field);
          nb = json_object_get_member (ob, field);
          if (na != NULL && nb != NULL && json_node_equal (na, nb))
            continue;
          {
            TakesRecipeChange *change = g_new0 (TakesRecipeChange, 1);

            change->field = g_strdup (field);
            change->value_a = node_to_text (na);
            change->value_b = node_to_text (nb);
            g_ptr_array_add (changes, change);
          }
        }
    }
  g_ptr_array_sort (changes, compare_changes);
  return changes;
}
