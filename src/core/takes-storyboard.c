/* takes-storyboard.c: the animatic (frames decoded, fitted, retimed and
 * encoded again through takes-media's encoder) and the EDL and FCP7 XML.
 *
 * Every export first resolves the shots the same way: which take is usable,
 * where each shot starts and how many frames it lasts at the sequence rate,
 * so the three outputs always agree on the cut.
 */
#include "config.h"

#define G_LOG_DOMAIN "takes-storyboard"

#include <cairo.h>
#include <glib/gi18n.h>
#include <gst/video/video.h>
#include <inttypes.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "takes-media-private.h"
#include "takes-store-review.h"
#include "takes-storyboard.h"

#define FALLBACK_WIDTH 640
#define FALLBACK_HEIGHT 360
#define FALLBACK_FPS 24

G_DEFINE_QUARK (takes - storyboard - error - quark, takes_storyboard_error)

TakesStoryboardShot *
takes_storyboard_shot_new (guint number, const char *title, const char *media_path)
{
  TakesStoryboardShot *shot = g_new0 (TakesStoryboardShot, 1);

  shot->number = number;
  shot->title = g_strdup (title != NULL ? title : "");
  shot->media_path = g_strdup (media_path);
  return shot;
}

void
takes_storyboard_shot_free (TakesStoryboardShot *shot)
{
  if (shot == NULL)
    return;
  g_free (shot->title);
  g_free (shot->media_path);
  g_free (shot);
}

void
takes_storyboard_options_init (TakesStoryboardOptions *options)
{
  *options = (TakesStoryboardOptions){ .slate = TRUE };
}

GPtrArray *
takes_storyboard_load (TakesStore *store, gint64 project_id, GError **error)
{
  g_autoptr (GPtrArray) shots = takes_store_list_shots (store, project_id, error);
  g_autoptr (GPtrArray) result = NULL;

  if (shots == NULL)
    return NULL;
  result = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_storyboard_shot_free);
  for (guint i = 0; i < shots->len; i++)
    {
      const TakesShot *shot = g_ptr_array_index (shots, i);
      TakesStoryboardShot *s = takes_storyboard_shot_new (i + 1, shot->title, NULL);
      TakesShotTrim trim = { 0 };

      g_ptr_array_add (result, s);
      s->shot_id = shot->id;
      s->duration = shot->duration;
      if (!takes_store_get_shot_trim (store, shot->id, &trim, error))
        return NULL;
      if (shot->chosen_take_id > 0)
        {
          g_autoptr (TakesTake) take = takes_store_get_take (store, shot->chosen_take_id, error);

          if (take == NULL)
            return NULL;
          s->take_id = shot->chosen_take_id;
          s->media_path = takes_store_get_media_file (store, take);
          s->in_point = trim.in_point;
          s->out_point = trim.out_point;
        }
    }
  return g_steal_pointer (&result);
}

/* Resolving the cut ----------------------------------------------------- */

typedef struct
{
  const TakesStoryboardShot *shot;
  TakesMediaInfo *info; /* NULL: the shot is filler */
  guint64 start_frame;  /* on the sequence */
  guint64 n_frames;
  gint64 in_point; /* µs into the take, clamped */
} Cut;

typedef struct
{
  GArray *cuts; /* Cut */
  int width, height, fps_n, fps_d;
  guint64 total_frames;
} Sequence;

static void
sequence_clear (Sequence *seq)
{
  if (seq->cuts != NULL)
    for (guint i = 0; i < seq->cuts->len; i++)
      g_clear_pointer (&g_array_index (seq->cuts, Cut, i).info, takes_media_info_free);
  g_clear_pointer (&seq->cuts, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Sequence, sequence_clear)

static void
add_warning (GPtrArray *warnings, const TakesStoryboardShot *shot, int code, const char *reason)
{
  if (warnings == NULL)
    return;
  g_ptr_array_add (warnings,
                   g_error_new (TAKES_STORYBOARD_ERROR, code,
                                _ ("Shot %u “%s”: %s It is exported as black with its slate for its planned "
                                   "length."),
                                shot->number, shot->title, reason));
}

static guint64
us_to_frames (gint64 us, int fps_n, int fps_d)
{
  return (guint64)llround ((double)MAX (us, 0) * fps_n / ((double)fps_d * G_USEC_PER_SEC));
}

static gboolean
resolve (GPtrArray *shots,
         const TakesStoryboardOptions *options,
         Sequence *seq,
         GPtrArray *warnings,
         GError **error)
{
  if (shots == NULL || shots->len == 0)
    {
      g_set_error (error, TAKES_STORYBOARD_ERROR, TAKES_STORYBOARD_ERROR_EMPTY,
                   _ ("The storyboard has no shots to export. Add a shot first."));
      return FALSE;
    }
  if (options->width < 0 || options->height < 0 || options->width % 2 != 0 || options->height % 2 != 0
      || options->width > TAKES_MEDIA_MAX_SIZE || options->height > TAKES_MEDIA_MAX_SIZE || options->fps_n < 0
      || options->fps_d < 0 || (options->fps_n > 0 && options->fps_d == 0))
    {
      g_set_error (error, TAKES_STORYBOARD_ERROR, TAKES_STORYBOARD_ERROR_INVALID,
                   _ ("The animatic size must be even and at most %d pixels a side, and its rate a positive "
                      "fraction."),
                   TAKES_MEDIA_MAX_SIZE);
      return FALSE;
    }
  seq->cuts = g_array_new (FALSE, TRUE, sizeof (Cut));
  for (guint i = 0; i < shots->len; i++)
    {
      Cut cut = { .shot = g_ptr_array_index (shots, i) };
      g_autoptr (GError) local_error = NULL;

      if (cut.shot->media_path == NULL)
        add_warning (warnings, cut.shot, TAKES_STORYBOARD_ERROR_NO_TAKE, _ ("No take is chosen."));
      else if ((cut.info = takes_media_probe (cut.shot->media_path, &local_error)) == NULL)
        add_warning (warnings, cut.shot,
                     g_error_matches (local_error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_UNREADABLE)
                         ? TAKES_STORYBOARD_ERROR_MISSING_TAKE
                         : TAKES_STORYBOARD_ERROR_BAD_TAKE,
                     local_error->message);
      else if (cut.info->fps_n <= 0 || cut.info->n_frames == 0)
        {
          add_warning (warnings, cut.shot, TAKES_STORYBOARD_ERROR_BAD_TAKE,
                       _ ("The take’s video has no frames."));
          g_clear_pointer (&cut.info, takes_media_info_free);
        }
      if (cut.info != NULL && seq->width == 0)
        {
          seq->width = cut.info->width + cut.info->width % 2;
          seq->height = cut.info->height + cut.info->height % 2;
          seq->fps_n = cut.info->fps_n;
          seq->fps_d = cut.info->fps_d;
        }
      g_array_append_val (seq->cuts, cut);
    }
  if (options->width > 0 && options->height > 0)
    {
      seq->width = options->width;
      seq->height = options->height;
    }
  if (options->fps_n > 0)
    {
      seq->fps_n = options->fps_n;
      seq->fps_d = options->fps_d;
    }
  if (seq->width == 0)
    {
      seq->width = FALLBACK_WIDTH;
      seq->height = FALLBACK_HEIGHT;
    }
  if (seq->fps_n == 0)
    {
      seq->fps_n = FALLBACK_FPS;
      seq->fps_d = 1;
    }

  for (guint i = 0; i < seq->cuts->len; i++)
    {
      Cut *cut = &g_array_index (seq->cuts, Cut, i);
      gint64 length;

      if (cut->info != NULL)
        {
          gint64 take_us = (gint64)(cut->info->duration_ns / 1000);
          gint64 out = cut->shot->out_point > 0 ? MIN (cut->shot->out_point, take_us) : take_us;

          cut->in_point = CLAMP (cut->shot->in_point, 0, take_us);
          length = out - cut->in_point;
        }
      else
        length = cut->shot->duration > 0 ? cut->shot->duration : TAKES_STORYBOARD_DEFAULT_SHOT_US;
      cut->n_frames = MAX (1, us_to_frames (length, seq->fps_n, seq->fps_d));
      cut->start_frame = seq->total_frames;
      seq->total_frames += cut->n_frames;
    }
  return TRUE;
}

/* The animatic ------------------------------------------------------------ */

typedef struct
{
  TakesMediaEncoder *encoder;
  const Sequence *seq;
  const TakesStoryboardOptions *options;
  const Cut *cut;
  /* The working frame: cairo's RGB24 (BGRx in memory on little-endian
   * machines, xRGB on big-endian ones), the slate drawn on it. */
  cairo_surface_t *surface;
  GstVideoInfo frame_info;
  guint8 *rgb;     /* packed RGB for the encoder */
  guint64 emitted; /* frames of the current cut */
  gboolean have_frame;
  GstVideoConverter *converter;
  int source_width, source_height;
} Animatic;

static void
draw_slate (Animatic *a, gboolean filler)
{
  cairo_t *cr = cairo_create (a->surface);
  double h = a->seq->height, w = a->seq->width;
  double size = MAX (10.0, h / 14.0);
  g_autofree char *label = NULL;
  g_autoptr (PangoLayout) layout = NULL;
  g_autoptr (PangoFontDescription) font = NULL;
  int text_height;

  if (filler)
    {
      cairo_set_source_rgb (cr, 0, 0, 0);
      cairo_paint (cr);
    }
  label = g_strdup_printf ("%u  %s", a->cut->shot->number, a->cut->shot->title);
  /* Pango rather than cairo's toy text: it falls back to fonts that cover
   * the title's script (Chinese, Japanese…) and shapes it properly. */
  layout = pango_cairo_create_layout (cr);
  font = pango_font_description_from_string ("Sans Bold");
  pango_font_description_set_absolute_size (font, size * PANGO_SCALE);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_width (layout, (int)((w - size) * PANGO_SCALE));
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_set_single_paragraph_mode (layout, TRUE);
  pango_layout_set_text (layout, label, -1);
  pango_layout_get_pixel_size (layout, NULL, &text_height);
  cairo_set_source_rgba (cr, 0, 0, 0, 0.6);
  cairo_rectangle (cr, 0, h - size * 1.8, w, size * 1.8);
  cairo_fill (cr);
  cairo_set_source_rgb (cr, 1, 1, 1);
  cairo_move_to (cr, size * 0.5, h - size * 0.9 - text_height / 2.0);
  pango_cairo_show_layout (cr, layout);
  cairo_destroy (cr);
  cairo_surface_flush (a->surface);
}

static gboolean
emit_frame (Animatic *a, gboolean filler, GError **error)
{
  const guint8 *data;
  int stride;

  if (filler)
    {
      cairo_t *cr = cairo_create (a->surface);

      cairo_set_source_rgb (cr, 0, 0, 0);
      cairo_paint (cr);
      cairo_destroy (cr);
    }
  if (a->options->slate || filler)
    draw_slate (a, filler);
  data = cairo_image_surface_get_data (a->surface);
  stride = cairo_image_surface_get_stride (a->surface);
  for (int y = 0; y < a->seq->height; y++)
    {
      const guint32 *row = (const guint32 *)(data + (gsize)y * stride);
      guint8 *out = a->rgb + (gsize)y * a->seq->width * 3;

      for (int x = 0; x < a->seq->width; x++)
        {
          out[3 * x] = (guint8)(row[x] >> 16);
          out[3 * x + 1] = (guint8)(row[x] >> 8);
          out[3 * x + 2] = (guint8)row[x];
        }
    }
  a->emitted++;
  return takes_media_encoder_push_rgb (a->encoder, a->rgb, (gsize)a->seq->width * 3, error);
}

/* Fits the decoded frame into the working frame, keeping its shape, with
 * black bars where the shapes differ. */
static void
load_frame (Animatic *a, const guint8 *rgb, int width, int height, gsize stride)
{
  GstVideoInfo in_info;
  GstVideoFrame in_frame, out_frame;
  g_autoptr (GstBuffer) in_buf = NULL;
  g_autoptr (GstBuffer) out_buf = NULL;
  double scale = MIN ((double)a->seq->width / width, (double)a->seq->height / height);
  int dest_w = MAX (1, (int)lround (width * scale)), dest_h = MAX (1, (int)lround (height * scale));

  if (a->converter == NULL || a->source_width != width || a->source_height != height)
    {
      GstVideoInfo conv_in;

      g_clear_pointer (&a->converter, gst_video_converter_free);
      gst_video_info_set_format (&conv_in, GST_VIDEO_FORMAT_RGB, (guint)width, (guint)height);
      a->converter = gst_video_converter_new (
          &conv_in, &a->frame_info,
          gst_structure_new ("GstVideoConverter", GST_VIDEO_CONVERTER_OPT_DEST_X, G_TYPE_INT,
                             (a->seq->width - dest_w) / 2, GST_VIDEO_CONVERTER_OPT_DEST_Y, G_TYPE_INT,
                             (a->seq->height - dest_h) / 2, GST_VIDEO_CONVERTER_OPT_DEST_WIDTH, G_TYPE_INT,
                             dest_w, GST_VIDEO_CONVERTER_OPT_DEST_HEIGHT, G_TYPE_INT, dest_h,
                             GST_VIDEO_CONVERTER_OPT_FILL_BORDER, G_TYPE_BOOLEAN, TRUE, NULL));
      a->source_width = width;
      a->source_height = height;
    }
  gst_video_info_set_format (&in_info, GST_VIDEO_FORMAT_RGB, (guint)width, (guint)height);
  in_info.stride[0] = (int)stride;
  in_info.size = stride * height;
  in_buf = gst_buffer_new_wrapped_full (GST_MEMORY_FLAG_READONLY, (gpointer)rgb, stride * height, 0,
                                        stride * height, NULL, NULL);
  cairo_surface_flush (a->surface);
  out_buf = gst_buffer_new_wrapped_full (0, cairo_image_surface_get_data (a->surface),
                                         GST_VIDEO_INFO_SIZE (&a->frame_info), 0,
                                         GST_VIDEO_INFO_SIZE (&a->frame_info), NULL, NULL);
  if (a->converter != NULL && gst_video_frame_map (&in_frame, &in_info, in_buf, GST_MAP_READ))
    {
      if (gst_video_frame_map (&out_frame, &a->frame_info, out_buf, GST_MAP_WRITE))
        {
          gst_video_converter_frame (a->converter, &in_frame, &out_frame);
          gst_video_frame_unmap (&out_frame);
        }
      gst_video_frame_unmap (&in_frame);
    }
  cairo_surface_mark_dirty (a->surface);
  a->have_frame = TRUE;
}

typedef struct
{
  Animatic *a;
  GError *error;
} DecodeState;

/* Sample and hold: the output frame at time t shows the last source frame
 * that starts at or before t. */
static gboolean
cut_frame_cb (
    const guint8 *rgb, int width, int height, gsize stride, guint index, guint64 pts_ns, gpointer user_data)
{
  DecodeState *state = user_data;
  Animatic *a = state->a;
  gint64 pts_us = (gint64)(pts_ns / 1000);

  while (a->have_frame && a->emitted < a->cut->n_frames)
    {
      gint64 next_us = a->cut->in_point
                       + (gint64)gst_util_uint64_scale (a->emitted, (guint64)G_USEC_PER_SEC * a->seq->fps_d,
                                                        a->seq->fps_n);

      if (next_us >= pts_us)
        break;
      if (!emit_frame (a, FALSE, &state->error))
        return FALSE;
    }
  if (a->emitted >= a->cut->n_frames)
    return FALSE;
  /* Frames before the in point only matter as the one held at it. */
  load_frame (a, rgb, width, height, stride);
  return TRUE;
}

static gboolean
export_cut (Animatic *a, GPtrArray *warnings, GError **error)
{
  a->emitted = 0;
  a->have_frame = FALSE;
  if (a->cut->info != NULL)
    {
      DecodeState state = { a, NULL };
      g_autoptr (GError) decode_error = NULL;

      if (!takes_media_decode_rgb (a->cut->shot->media_path, cut_frame_cb, &state, &decode_error)
          && state.error == NULL)
        add_warning (warnings, a->cut->shot, TAKES_STORYBOARD_ERROR_BAD_TAKE, decode_error->message);
      if (state.error != NULL)
        {
          g_propagate_error (error, state.error);
          return FALSE;
        }
    }
  /* The last frame holds to the out point; a take that could not be read
   * leaves black. */
  while (a->emitted < a->cut->n_frames)
    if (!emit_frame (a, !a->have_frame, error))
      return FALSE;
  return TRUE;
}

static gboolean
map_media_error (GError **error, GError *media_error)
{
  g_set_error (error, TAKES_STORYBOARD_ERROR, TAKES_STORYBOARD_ERROR_WRITE, "%s", media_error->message);
  g_error_free (media_error);
  return FALSE;
}

gboolean
takes_storyboard_export_mp4 (GPtrArray *shots,
                             const TakesStoryboardOptions *options,
                             const char *path,
                             GPtrArray *warnings,
                             GError **error)
{
  g_auto (Sequence) seq = { 0 };
  g_autoptr (TakesMediaEncoder) encoder = NULL;
  g_autofree guint8 *rgb = NULL;
  GError *media_error = NULL;
  Animatic a = { 0 };
  gboolean ok = TRUE;

  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!resolve (shots, options, &seq, warnings, error))
    return FALSE;
  encoder = takes_media_encoder_new (path, seq.width, seq.height, seq.fps_n, seq.fps_d, NULL, &media_error);
  if (encoder == NULL)
    return map_media_error (error, media_error);
  rgb = g_malloc ((gsize)seq.width * seq.height * 3);
  a.encoder = encoder;
  a.seq = &seq;
  a.options = options;
  a.rgb = rgb;
  a.surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, seq.width, seq.height);
  gst_video_info_set_format (&a.frame_info,
                             G_BYTE_ORDER == G_LITTLE_ENDIAN ? GST_VIDEO_FORMAT_BGRx : GST_VIDEO_FORMAT_xRGB,
                             (guint)seq.width, (guint)seq.height);
  a.frame_info.stride[0] = cairo_image_surface_get_stride (a.surface);
  a.frame_info.size = (gsize)a.frame_info.stride[0] * seq.height;

  for (guint i = 0; ok && i < seq.cuts->len; i++)
    {
      a.cut = &g_array_index (seq.cuts, Cut, i);
      ok = export_cut (&a, warnings, &media_error);
    }
  g_clear_pointer (&a.converter, gst_video_converter_free);
  cairo_surface_destroy (a.surface);
  if (!ok || !takes_media_encoder_finish (encoder, &media_error))
    return map_media_error (error, media_error);
  return TRUE;
}

/* Edit lists -------------------------------------------------------------- */

/* Timecodes count whole frames at the nominal rate (30 for 29.97). */
static guint
timebase (const Sequence *seq)
{
  return MAX (1, (guint)lround ((double)seq->fps_n / seq->fps_d));
}

static gboolean
is_ntsc (const Sequence *seq)
{
  return seq->fps_d == 1001;
}

static char *
timecode (guint64 frames, guint base)
{
  guint64 seconds = frames / base;

  return g_strdup_printf ("%02u:%02u:%02u:%02u", (guint)(seconds / 3600), (guint)(seconds / 60 % 60),
                          (guint)(seconds % 60), (guint)(frames % base));
}

static gboolean
write_text (const char *path, const char *text, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (!g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0666, &local_error))
    {
      g_autofree char *name = g_filename_display_name (path);

      g_set_error (error, TAKES_STORYBOARD_ERROR, TAKES_STORYBOARD_ERROR_WRITE,
                   _ ("Could not write “%s”: %s. Check that the disk has free space and that the folder is "
                      "writable."),
                   name, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* EDL lines are ASCII; anything else in a comment becomes '?'. */
static char *
edl_safe (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    g_string_append_c (out, (*p >= 0x20 && *p < 0x7f) ? *p : '?');
  return g_string_free (out, FALSE);
}

gboolean
takes_storyboard_export_edl (GPtrArray *shots,
                             const TakesStoryboardOptions *options,
                             const char *path,
                             GPtrArray *warnings,
                             GError **error)
{
  g_auto (Sequence) seq = { 0 };
  g_autoptr (GString) edl = g_string_new (NULL);
  g_autofree char *title = NULL;
  guint base;

  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!resolve (shots, options, &seq, warnings, error))
    return FALSE;
  base = timebase (&seq);
  title = edl_safe (options->title != NULL ? options->title : "Takes storyboard");
  g_string_append_printf (edl, "TITLE: %s\r\nFCM: NON-DROP FRAME\r\n\r\n", title);
  for (guint i = 0; i < seq.cuts->len; i++)
    {
      const Cut *cut = &g_array_index (seq.cuts, Cut, i);
      guint64 src_in = cut->info != NULL ? us_to_frames (cut->in_point, seq.fps_n, seq.fps_d) : 0;
      g_autofree char *si = timecode (src_in, base);
      g_autofree char *so = timecode (src_in + cut->n_frames, base);
      g_autofree char *ri = timecode (cut->start_frame, base);
      g_autofree char *ro = timecode (cut->start_frame + cut->n_frames, base);
      g_autofree char *name = edl_safe (cut->shot->title);

      /* BL is the black reel; AX an auxiliary source named by the comments. */
      g_string_append_printf (edl, "%03u  %-8s V     C        %s %s %s %s\r\n", i + 1,
                              cut->info != NULL ? "AX" : "BL", si, so, ri, ro);
      g_string_append_printf (edl, "* SHOT %u: %s\r\n", cut->shot->number, name);
      if (cut->info != NULL)
        {
          g_autofree char *base_name = g_path_get_basename (cut->shot->media_path);

          g_string_append_printf (edl, "* FROM CLIP NAME: %s\r\n* SOURCE FILE: %s\r\n", base_name,
                                  cut->shot->media_path);
        }
      g_string_append (edl, "\r\n");
    }
  return write_text (path, edl->str, error);
}

static void
append_rate (GString *xml, const Sequence *seq, const char *indent)
{
  g_string_append_printf (xml, "%s<rate><timebase>%u</timebase><ntsc>%s</ntsc></rate>\n", indent,
                          timebase (seq), is_ntsc (seq) ? "TRUE" : "FALSE");
}

gboolean
takes_storyboard_export_fcpxml (GPtrArray *shots,
                                const TakesStoryboardOptions *options,
                                const char *path,
                                GPtrArray *warnings,
                                GError **error)
{
  g_auto (Sequence) seq = { 0 };
  g_autoptr (GString) xml = g_string_new (NULL);
  g_autofree char *title = NULL;

  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!resolve (shots, options, &seq, warnings, error))
    return FALSE;
  title = g_markup_escape_text (options->title != NULL ? options->title : "Takes storyboard", -1);
  g_string_append (xml,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE xmeml>\n<xmeml version=\"5\">\n");
  g_string_append_printf (xml, "  <sequence id=\"sequence-1\">\n    <name>%s</name>\n", title);
  g_string_append_printf (xml, "    <duration>%" G_GUINT64_FORMAT "</duration>\n", seq.total_frames);
  append_rate (xml, &seq, "    ");
  g_string_append (xml, "    <media>\n      <video>\n        <format>\n          <samplecharacteristics>\n");
  g_string_append_printf (xml, "            <width>%d</width>\n            <height>%d</height>\n", seq.width,
                          seq.height);
  g_string_append (xml, "          </samplecharacteristics>\n        </format>\n        <track>\n");
  for (guint i = 0; i < seq.cuts->len; i++)
    {
      const Cut *cut = &g_array_index (seq.cuts, Cut, i);
      g_autofree char *name = NULL;
      g_autofree char *uri = NULL;
      g_autofree char *escaped_uri = NULL;
      g_autofree char *file_name = NULL;
      guint64 in, file_frames;

      /* A shot without a usable take stays a gap of its length. */
      if (cut->info == NULL)
        continue;
      name = g_markup_escape_text (cut->shot->title, -1);
      uri = g_filename_to_uri (cut->shot->media_path, NULL, NULL);
      escaped_uri = g_markup_escape_text (uri != NULL ? uri : "", -1);
      file_name = g_path_get_basename (cut->shot->media_path);
      {
        g_autofree char *escaped_file = g_markup_escape_text (file_name, -1);

        in = us_to_frames (cut->in_point, seq.fps_n, seq.fps_d);
        file_frames = us_to_frames ((gint64)(cut->info->duration_ns / 1000), seq.fps_n, seq.fps_d);
        g_string_append_printf (xml, "          <clipitem id=\"clipitem-%u\">\n            <name>%s</name>\n",
                                i + 1, name);
        g_string_append_printf (xml, "            <duration>%" G_GUINT64_FORMAT "</duration>\n", file_frames);
        append_rate (xml, &seq, "            ");
        g_string_append_printf (xml,
                                "            <start>%" G_GUINT64_FORMAT
                                "</start>\n            <end>%" G_GUINT64_FORMAT
                                "</end>\n            <in>%" G_GUINT64_FORMAT
                                "</in>\n            <out>%" G_GUINT64_FORMAT "</out>\n",
                                cut->start_frame, cut->start_frame + cut->n_frames, in, in + cut->n_frames);
        g_string_append_printf (xml,
                                "            <file id=\"file-%u\">\n              <name>%s</name>\n"
                                "              <pathurl>%s</pathurl>\n",
                                i + 1, escaped_file, escaped_uri);
        append_rate (xml, &seq, "              ");
        g_string_append_printf (
            xml,
            "              <duration>%" G_GUINT64_FORMAT "</duration>\n"
            "              <media>\n                <video>\n"
            "                  <samplecharacteristics>\n"
            "                    <width>%d</width>\n                    <height>%d</height>\n"
            "                  </samplecharacteristics>\n"
            "                </video>\n              </media>\n            </file>\n"
            "          </clipitem>\n",
            file_frames, cut->info->width, cut->info->height);
      }
    }
  g_string_append (xml, "        </track>\n      </video>\n    </media>\n  </sequence>\n</xmeml>\n");
  return write_text (path, xml->str, error);
}
