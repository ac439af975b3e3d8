/* bench-compare.c: rendering a 10 s side-by-side comparison of two takes,
 * against the clip's own length (real time) and against decoding the two
 * takes alone, measured in the same run.
 *
 * Usage: bench-compare [WIDTH HEIGHT]   (default 480×272, 16 fps) */
#include "config.h"

#include <stdlib.h>

#include "../core/review-test-util.h"
#include "takes-compare.h"

#define SECONDS 10
#define FPS 16

static gboolean
count_cb (
    const guint8 *rgb, int width, int height, gsize stride, guint index, guint64 pts, gpointer user_data)
{
  (*(guint *)user_data)++;
  return TRUE;
}

int
main (int argc, char **argv)
{
  int width = argc > 2 ? atoi (argv[1]) : 480, height = argc > 2 ? atoi (argv[2]) : 272;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-bench-compare-XXXXXX", &error);
  g_autofree char *a = g_build_filename (dir, "a.mp4", NULL);
  g_autofree char *b = g_build_filename (dir, "b.mp4", NULL);
  g_autofree char *out = g_build_filename (dir, "sbs.mp4", NULL);
  const char *paths[] = { a, b };
  TakesCompareOptions options;
  gint64 t0, t_decode, t_render;
  guint frames = 0;

  g_assert_no_error (error);
  if (width <= 0 || height <= 0 || width % 2 || height % 2)
    {
      g_printerr ("bench-compare: width and height must be even and positive\n");
      return 2;
    }
  review_test_make_clip (a, width, height, FPS, SECONDS * FPS, 1);
  review_test_make_clip (b, width, height, FPS, SECONDS * FPS, 2);

  t0 = g_get_monotonic_time ();
  takes_media_decode_rgb (a, count_cb, &frames, &error);
  g_assert_no_error (error);
  takes_media_decode_rgb (b, count_cb, &frames, &error);
  g_assert_no_error (error);
  t_decode = g_get_monotonic_time () - t0;

  takes_compare_options_init (&options);
  t0 = g_get_monotonic_time ();
  takes_compare_render (paths, 2, &options, out, NULL, &error);
  g_assert_no_error (error);
  t_render = g_get_monotonic_time () - t0;

  g_print ("side-by-side render of two %dx%d takes, %d s at %d fps -> %dx%d MP4\n", width, height, SECONDS,
           FPS, 2 * width, height);
  g_print ("  decode both takes only: %8.2f s\n", t_decode / 1e6);
  g_print ("  render comparison:      %8.2f s\n", t_render / 1e6);
  g_print ("  real time / render:     %8.2fx (above 1 renders faster than it plays)\n",
           SECONDS / (t_render / 1e6));
  g_print ("  render / decode only:   %8.2fx\n", (double)t_render / (double)t_decode);
  review_test_rm_rf (dir);
  return 0;
}
