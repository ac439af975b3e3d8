/* test-compare.c: the compare bin and its rendering, with clips whose frames
 * carry their number as a barcode. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include "review-test-util.h"
#include "takes-compare.h"

typedef struct
{
  char *dir;
  char *a; /* 64×48 at 8 fps, 16 frames numbered 0–15 */
  char *b; /* 96×72 at 16 fps, 32 frames, each number shown twice */
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("takes-compare-XXXXXX", &error);
  g_assert_no_error (error);
  f->a = g_build_filename (f->dir, "a.mp4", NULL);
  f->b = g_build_filename (f->dir, "b.mp4", NULL);
  review_test_make_clip (f->a, 64, 48, 8, 16, 1);
  review_test_make_clip (f->b, 96, 72, 16, 32, 2);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  review_test_rm_rf (f->dir);
  g_free (f->a);
  g_free (f->b);
  g_free (f->dir);
}

typedef struct
{
  GArray *left;  /* int per frame */
  GArray *right; /* int per frame; unused for single-picture modes */
  GArray *luma;  /* double: mean brightness per frame */
  int width, height;
  gboolean halves;
} Readout;

static gboolean
read_frame_cb (
    const guint8 *rgb, int width, int height, gsize stride, guint index, guint64 pts, gpointer user_data)
{
  Readout *r = user_data;
  double sum = 0.0;
  int left, right;

  r->width = width;
  r->height = height;
  if (r->halves)
    {
      left = review_test_read (rgb, stride, 0, width / 2, height);
      right = review_test_read (rgb, stride, width / 2, width / 2, height);
    }
  else
    {
      left = review_test_read (rgb, stride, 0, width, height);
      right = -1;
    }
  g_array_append_val (r->left, left);
  g_array_append_val (r->right, right);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width * 3; x++)
      sum += rgb[(gsize)y * stride + x];
  sum /= (double)width * height * 3;
  g_array_append_val (r->luma, sum);
  return TRUE;
}

static void
readout_init (Readout *r, gboolean halves)
{
  r->left = g_array_new (FALSE, FALSE, sizeof (int));
  r->right = g_array_new (FALSE, FALSE, sizeof (int));
  r->luma = g_array_new (FALSE, FALSE, sizeof (double));
  r->halves = halves;
}

static void
readout_clear (Readout *r)
{
  g_array_unref (r->left);
  g_array_unref (r->right);
  g_array_unref (r->luma);
}

static void
render (Fixture *f, const TakesCompareOptions *options, const char *out, TakesCompareLayout **layout)
{
  const char *paths[] = { f->a, f->b };
  g_autoptr (GError) error = NULL;

  takes_compare_render (paths, 2, options, out, layout, &error);
  g_assert_no_error (error);
  review_test_discover (out);
}

/* The heart of the compare: at every output frame both halves show the same
 * number, though the takes differ in size and rate. */
static void
test_side_by_side_in_step (Fixture *f, gconstpointer data)
{
  g_autofree char *out = g_build_filename (f->dir, "sbs.mp4", NULL);
  g_autoptr (TakesCompareLayout) layout = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  TakesCompareOptions options;
  Readout r;
  int ffprobe_frames;

  takes_compare_options_init (&options);
  render (f, &options, out, &layout);
  g_assert_true (layout->rescaled);
  g_assert_true (layout->retimed);
  g_assert_nonnull (layout->note);
  g_assert_nonnull (strstr (layout->note, "64×48"));
  g_assert_cmpint (layout->width, ==, 192);
  g_assert_cmpint (layout->height, ==, 72);
  g_assert_cmpint (layout->fps_n * 1, ==, 16 * layout->fps_d);

  info = takes_media_probe (out, &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->width, ==, 192);
  g_assert_cmpint (info->height, ==, 72);
  g_assert_cmpuint (info->n_frames, ==, 32);
  ffprobe_frames = review_test_ffprobe_frames (out);
  if (ffprobe_frames >= 0)
    g_assert_cmpint (ffprobe_frames, ==, 32);

  readout_init (&r, TRUE);
  takes_media_decode_rgb (out, read_frame_cb, &r, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r.left->len, ==, 32);
  for (guint i = 0; i < r.left->len; i++)
    {
      int left = g_array_index (r.left, int, i), right = g_array_index (r.right, int, i);

      g_test_message ("frame %u: %d | %d", i, left, right);
      g_assert_cmpint (left, >=, 0);
      g_assert_cmpint (left, ==, right);
      /* Sample and hold: output frame i at i/16 s shows A's frame i/2. */
      g_assert_cmpint (left, ==, (int)i / 2);
    }
  readout_clear (&r);
}

/* The difference of a take with itself is black; with another take, not. */
static void
test_difference (Fixture *f, gconstpointer data)
{
  g_autofree char *same = g_build_filename (f->dir, "same.mp4", NULL);
  g_autofree char *other = g_build_filename (f->dir, "other.mp4", NULL);
  g_autofree char *b_shifted = g_build_filename (f->dir, "shifted.mp4", NULL);
  const char *same_paths[] = { f->a, f->a };
  const char *other_paths[] = { f->a, b_shifted };
  g_autoptr (GError) error = NULL;
  TakesCompareOptions options;
  Readout r;
  double max_same = 0.0, max_other = 0.0;

  /* Same size and rate as A, but every number one higher. */
  {
    g_autoptr (TakesMediaEncoder) enc = takes_media_encoder_new (b_shifted, 64, 48, 8, 1, NULL, &error);
    g_autofree guint8 *rgb = g_malloc (64 * 48 * 3);

    g_assert_no_error (error);
    for (guint i = 0; i < 16; i++)
      {
        review_test_paint (rgb, 64, 48, i + 1);
        takes_media_encoder_push_rgb (enc, rgb, 64 * 3, &error);
        g_assert_no_error (error);
      }
    takes_media_encoder_finish (enc, &error);
    g_assert_no_error (error);
  }

  takes_compare_options_init (&options);
  options.mode = TAKES_COMPARE_DIFFERENCE;
  takes_compare_render (same_paths, 2, &options, same, NULL, &error);
  g_assert_no_error (error);
  takes_compare_render (other_paths, 2, &options, other, NULL, &error);
  g_assert_no_error (error);

  readout_init (&r, FALSE);
  takes_media_decode_rgb (same, read_frame_cb, &r, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r.width, ==, 64);
  for (guint i = 0; i < r.luma->len; i++)
    max_same = MAX (max_same, g_array_index (r.luma, double, i));
  readout_clear (&r);

  readout_init (&r, FALSE);
  takes_media_decode_rgb (other, read_frame_cb, &r, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < r.luma->len; i++)
    max_other = MAX (max_other, g_array_index (r.luma, double, i));
  readout_clear (&r);

  g_test_message ("brightest difference frame: same %.1f, other %.1f", max_same, max_other);
  g_assert_cmpfloat (max_same, <, 8.0);
  g_assert_cmpfloat (max_other, >, 60.0);
}

/* A vertical wipe at the middle shows A on the left and B on the right. */
static void
test_wipe (Fixture *f, gconstpointer data)
{
  g_autofree char *out = g_build_filename (f->dir, "wipe.mp4", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  TakesCompareOptions options;
  g_autofree char *white_a = g_build_filename (f->dir, "white.mp4", NULL);
  const char *paths[] = { white_a, f->a };
  Readout r;

  review_test_make_clip (white_a, 64, 48, 8, 8, 1 << 10);
  takes_compare_options_init (&options);
  options.mode = TAKES_COMPARE_WIPE;
  options.split = 0.5;
  /* The first clip is black (number 0), the second carries numbers. */
  takes_compare_render (paths, 2, &options, out, NULL, &error);
  g_assert_no_error (error);
  info = takes_media_probe (out, &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->width, ==, 64);
  /* As long as the longer take. */
  g_assert_cmpuint (info->n_frames, ==, 16);

  readout_init (&r, FALSE);
  takes_media_decode_rgb (out, read_frame_cb, &r, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < r.left->len; i++)
    {
      /* Bits 0–2 lie in the left half (black take), bits 3–5 in the right. */
      int value = g_array_index (r.left, int, i);

      g_assert_cmpint (value, >=, 0);
      g_assert_cmpint (value & 0x7, ==, 0);
      g_assert_cmpint (value >> 3, ==, (int)i >> 3);
    }
  readout_clear (&r);
}

/* Toggle alternates between the takes every period when rendering. */
static void
test_toggle (Fixture *f, gconstpointer data)
{
  g_autofree char *out = g_build_filename (f->dir, "toggle.mp4", NULL);
  g_autofree char *black = g_build_filename (f->dir, "black.mp4", NULL);
  const char *paths[] = { black, f->a };
  g_autoptr (GError) error = NULL;
  TakesCompareOptions options;
  Readout r;

  review_test_make_clip (black, 64, 48, 8, 16, 1 << 10);
  takes_compare_options_init (&options);
  options.mode = TAKES_COMPARE_TOGGLE;
  options.toggle_period = 1.0;
  takes_compare_render (paths, 2, &options, out, NULL, &error);
  g_assert_no_error (error);

  readout_init (&r, FALSE);
  takes_media_decode_rgb (out, read_frame_cb, &r, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (r.left->len, ==, 16);
  for (guint i = 0; i < r.left->len; i++)
    g_assert_cmpint (g_array_index (r.left, int, i), ==, i < 8 ? 0 : (int)i);
  readout_clear (&r);
}

static void
test_plan (void)
{
  TakesCompareSource sources[4]
      = { { 640, 360, 16, 1 }, { 640, 360, 16, 1 }, { 1280, 720, 24, 1 }, { 320, 240, 30000, 1001 } };
  g_autoptr (TakesCompareLayout) same = NULL;
  g_autoptr (TakesCompareLayout) grid = NULL;
  g_autoptr (TakesCompareLayout) bad = NULL;
  g_autoptr (GError) error = NULL;
  TakesCompareOptions options;

  takes_compare_options_init (&options);
  same = takes_compare_plan (sources, 2, &options, &error);
  g_assert_no_error (error);
  g_assert_false (same->rescaled);
  g_assert_false (same->retimed);
  g_assert_null (same->note);
  g_assert_cmpint (same->width, ==, 1280);
  g_assert_cmpint (same->height, ==, 360);

  grid = takes_compare_plan (sources, 4, &options, &error);
  g_assert_no_error (error);
  g_assert_true (grid->rescaled);
  g_assert_true (grid->retimed);
  g_assert_cmpint (grid->fps_n, ==, 30000);
  g_assert_cmpint (grid->fps_d, ==, 1001);
  /* 2×2 cells of 1280×720 would be 2560×1440: fitted into 1920×1080. */
  g_assert_cmpint (grid->width, ==, 1920);
  g_assert_cmpint (grid->height, ==, 1080);
  g_assert_cmpint (grid->width % 2, ==, 0);

  options.mode = TAKES_COMPARE_WIPE;
  bad = takes_compare_plan (sources, 3, &options, &error);
  g_assert_error (error, TAKES_COMPARE_ERROR, TAKES_COMPARE_ERROR_INVALID);
  g_assert_null (bad);
  g_clear_error (&error);
  options.mode = TAKES_COMPARE_SIDE_BY_SIDE;
  bad = takes_compare_plan (sources, 1, &options, &error);
  g_assert_error (error, TAKES_COMPARE_ERROR, TAKES_COMPARE_ERROR_INVALID);
}

static void
test_missing_take (Fixture *f, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (f->dir, "nope.mp4", NULL);
  g_autofree char *out = g_build_filename (f->dir, "out.mp4", NULL);
  const char *paths[] = { f->a, missing };
  g_autoptr (GError) error = NULL;
  TakesCompareOptions options;

  takes_compare_options_init (&options);
  g_assert_false (takes_compare_render (paths, 2, &options, out, NULL, &error));
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_UNREADABLE);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

/* Pulls samples until one is width wide; NULL after max tries. */
static GstSample *
pull_width (GstElement *sink, int width, int tries)
{
  for (int i = 0; i < tries; i++)
    {
      g_autoptr (GstSample) sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), 10 * GST_SECOND);
      GstVideoInfo info;

      g_assert_nonnull (sample);
      g_assert_true (gst_video_info_from_caps (&info, gst_sample_get_caps (sample)));
      g_assert_cmpint (GST_VIDEO_INFO_FORMAT (&info), ==, GST_VIDEO_FORMAT_BGRA);
      if (GST_VIDEO_INFO_WIDTH (&info) == width)
        return g_steal_pointer (&sample);
    }
  return NULL;
}

/* Whether the pixel at (x, y) of a BGRA sample is opaque and, within the
 * rounding of a pass through I420, white or black. */
static gboolean
sample_pixel_is (GstSample *sample, int x, int y, gboolean white)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  const guint8 *p;
  gboolean is = TRUE;

  g_assert_true (gst_video_info_from_caps (&info, gst_sample_get_caps (sample)));
  g_assert_true (gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample), GST_MAP_READ));
  p = (const guint8 *)GST_VIDEO_FRAME_PLANE_DATA (&frame, 0)
      + (gsize)y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0) + (gsize)x * 4;
  for (int c = 0; c < 3; c++)
    is = is && (white ? p[c] >= 0xf0 : p[c] <= 0x10);
  is = is && p[3] == 0xff;
  gst_video_frame_unmap (&frame);
  return is;
}

static void
test_bin_resize (void)
{
  TakesCompareSource sources[2] = { { 64, 48, 8, 1 }, { 96, 72, 16, 1 } };
  TakesCompareOptions options;
  g_autoptr (TakesCompareLayout) layout = NULL;
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstSample) first = NULL;
  g_autoptr (GstSample) smaller = NULL;
  g_autoptr (GstCaps) bgra = NULL;
  g_autoptr (GError) error = NULL;
  GstElement *bin;
  const char *patterns[2] = { "white", "black" };

  takes_compare_options_init (&options);
  layout = takes_compare_plan (sources, 2, &options, &error);
  g_assert_no_error (error);
  bin = takes_compare_bin_new (layout, &options, &error);
  g_assert_no_error (error);
  pipeline = gst_object_ref_sink (gst_pipeline_new (NULL));
  sink = gst_element_factory_make ("appsink", NULL);
  bgra = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "BGRA", NULL);
  g_object_set (sink, "sync", FALSE, "max-buffers", 2, "caps", bgra, NULL);
  gst_bin_add_many (GST_BIN (pipeline), bin, gst_object_ref (sink), NULL);
  g_assert_true (gst_element_link (bin, sink));
  for (guint i = 0; i < 2; i++)
    {
      GstElement *src = gst_element_factory_make ("videotestsrc", NULL);
      GstElement *filter = gst_element_factory_make ("capsfilter", NULL);
      g_autoptr (GstCaps) caps = gst_caps_new_simple ("video/x-raw", "width", G_TYPE_INT, sources[i].width,
                                                      "height", G_TYPE_INT, sources[i].height, "framerate",
                                                      GST_TYPE_FRACTION, sources[i].fps_n, 1, NULL);
      g_autofree char *name = g_strdup_printf ("sink_%u", i);
      g_autoptr (GstPad) src_pad = NULL;
      g_autoptr (GstPad) sink_pad = gst_element_get_static_pad (bin, name);

      gst_util_set_object_arg (G_OBJECT (src), "pattern", patterns[i]);
      g_object_set (src, "num-buffers", 40, NULL);
      g_object_set (filter, "caps", caps, NULL);
      gst_bin_add_many (GST_BIN (pipeline), src, filter, NULL);
      g_assert_true (gst_element_link (src, filter));
      src_pad = gst_element_get_static_pad (filter, "src");
      g_assert_cmpint (gst_pad_link (src_pad, sink_pad), ==, GST_PAD_LINK_OK);
    }
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=, GST_STATE_CHANGE_FAILURE);

  /* Opaque BGRA at the layout's size: white left, black right. */
  first = pull_width (sink, layout->width, 1);
  g_assert_nonnull (first);
  g_assert_true (sample_pixel_is (first, layout->cell_width / 2, layout->cell_height / 2, TRUE));
  g_assert_true (sample_pixel_is (first, layout->cell_width * 3 / 2, layout->cell_height / 2, FALSE));

  /* Smaller cells while it plays: the output follows within a few frames. */
  g_assert_false (takes_compare_bin_set_cell_size (bin, layout->cell_width, layout->cell_height));
  g_assert_true (takes_compare_bin_set_cell_size (bin, 33, 24));
  smaller = pull_width (sink, 64, 8);
  g_assert_nonnull (smaller);
  g_assert_true (sample_pixel_is (smaller, 16, 12, TRUE));
  g_assert_true (sample_pixel_is (smaller, 48, 12, FALSE));
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

static void
test_recipe_diff (void)
{
  g_autoptr (TakesRecipe) a = takes_recipe_new ();
  g_autoptr (TakesRecipe) b = NULL;
  g_autoptr (GPtrArray) none = NULL;
  g_autoptr (GPtrArray) changes = NULL;
  const TakesRecipeChange *c;

  takes_recipe_set_prompt (a, "a fox in snow");
  takes_recipe_set_seed (a, 7);
  b = takes_recipe_copy (a);
  none = takes_recipe_diff (a, b);
  g_assert_cmpuint (none->len, ==, 0);

  takes_recipe_set_seed (b, 8);
  takes_recipe_set_prompt (b, "a fox in rain");
  changes = takes_recipe_diff (a, b);
  g_assert_cmpuint (changes->len, ==, 2);
  c = g_ptr_array_index (changes, 0);
  g_assert_cmpstr (c->field, ==, "prompt");
  g_assert_cmpstr (c->value_a, ==, "\"a fox in snow\"");
  g_assert_cmpstr (c->value_b, ==, "\"a fox in rain\"");
  c = g_ptr_array_index (changes, 1);
  g_assert_cmpstr (c->field, ==, "seed");
  g_assert_cmpstr (c->value_a, ==, "7");
  g_assert_cmpstr (c->value_b, ==, "8");
}

static void
test_modes (void)
{
  TakesCompareMode mode;

  g_assert_true (takes_compare_mode_from_string ("diff", &mode));
  g_assert_cmpint (mode, ==, TAKES_COMPARE_DIFFERENCE);
  g_assert_true (takes_compare_mode_from_string ("SBS", &mode));
  g_assert_cmpint (mode, ==, TAKES_COMPARE_SIDE_BY_SIDE);
  g_assert_false (takes_compare_mode_from_string ("blend", &mode));
  g_assert_cmpstr (takes_compare_mode_to_string (TAKES_COMPARE_WIPE), ==, "wipe");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/compare/plan/common-grid", test_plan);
  g_test_add_func ("/compare/mode/names", test_modes);
  g_test_add_func ("/compare/bin/opaque-bgra-resized-live", test_bin_resize);
  g_test_add_func ("/compare/recipe-diff/only-differing-fields", test_recipe_diff);
  g_test_add ("/compare/render/side-by-side-frames-in-step", Fixture, NULL, fixture_set_up,
              test_side_by_side_in_step, fixture_tear_down);
  g_test_add ("/compare/render/difference", Fixture, NULL, fixture_set_up, test_difference,
              fixture_tear_down);
  g_test_add ("/compare/render/wipe", Fixture, NULL, fixture_set_up, test_wipe, fixture_tear_down);
  g_test_add ("/compare/render/toggle-alternates", Fixture, NULL, fixture_set_up, test_toggle,
              fixture_tear_down);
  g_test_add ("/compare/render/missing-take", Fixture, NULL, fixture_set_up, test_missing_take,
              fixture_tear_down);
  return g_test_run ();
}
