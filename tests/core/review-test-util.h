/* review-test-util.h: clips whose frames carry their number as a barcode,
 * for the compare, storyboard and CLI tests and the compare benchmark.
 *
 * The number is drawn as BARCODE_BITS vertical stripes across the whole
 * frame, the lowest bit on the left, white for 1 and black for 0; it
 * survives scaling and H.264 and reads back without OCR. */
#pragma once

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "takes-media.h"
#include "test-store-util.h"

#define BARCODE_BITS 6

static inline void
review_test_paint (guint8 *rgb, int width, int height, guint value)
{
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint bit = (guint)(x * BARCODE_BITS / width);
        guint8 v = (value >> bit) & 1 ? 255 : 0;
        guint8 *p = rgb + ((gsize)y * width + x) * 3;

        p[0] = v;
        p[1] = v;
        p[2] = v;
      }
}

/* Reads the barcode from the region (x0, 0, width, height) of a frame;
 * returns -1 when a stripe is neither clearly black nor clearly white. */
static inline int
review_test_read (const guint8 *rgb, gsize stride, int x0, int width, int height)
{
  int value = 0;

  for (int bit = 0; bit < BARCODE_BITS; bit++)
    {
      int x = x0 + (2 * bit + 1) * width / (2 * BARCODE_BITS);
      const guint8 *p = rgb + (gsize)(height / 2) * stride + (gsize)x * 3;
      int luma = (p[0] + p[1] + p[2]) / 3;

      if (luma > 170)
        value |= 1 << bit;
      else if (luma > 85)
        return -1;
    }
  return value;
}

/* Writes a clip of n_frames at fps; frame i shows i / repeat. */
static inline void
review_test_make_clip (const char *path, int width, int height, int fps, guint n_frames, guint repeat)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaEncoder) enc = takes_media_encoder_new (path, width, height, fps, 1, NULL, &error);
  g_autofree guint8 *rgb = g_malloc ((gsize)width * height * 3);

  g_assert_no_error (error);
  for (guint i = 0; i < n_frames; i++)
    {
      review_test_paint (rgb, width, height, i / repeat);
      takes_media_encoder_push_rgb (enc, rgb, (gsize)width * 3, &error);
      g_assert_no_error (error);
    }
  takes_media_encoder_finish (enc, &error);
  g_assert_no_error (error);
}

static inline gboolean
review_test_collect_frame_cb (
    const guint8 *rgb, int width, int height, gsize stride, guint index, guint64 pts_ns, gpointer user_data)
{
  GByteArray *frames = user_data;

  for (int y = 0; y < height; y++)
    g_byte_array_append (frames, rgb + (gsize)y * stride, (guint)width * 3);
  return TRUE;
}

/* Every decoded frame of the video at @path as packed RGB, one after the
 * other. */
static inline GByteArray *
review_test_decode (const char *path)
{
  g_autoptr (GError) error = NULL;
  GByteArray *frames = g_byte_array_new ();

  g_assert_true (takes_media_decode_rgb (path, review_test_collect_frame_cb, frames, &error));
  g_assert_no_error (error);
  return frames;
}

/* The store tests' clean-up, under the name the review tests use. */
static inline void
review_test_rm_rf (const char *path)
{
  store_test_rm_rf (path);
}

/* Runs a checker (gst-discoverer-1.0, ffprobe) on the file when it is
 * installed; returns its output, or NULL when the tool is absent. */
static inline char *
review_test_run_tool (const char *tool, const char *const *args)
{
  g_autofree char *found = g_find_program_in_path (tool);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (found == NULL)
    return NULL;
  g_ptr_array_add (argv, found);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", tool, err);
  return g_steal_pointer (&out);
}

/* The number of video frames ffprobe counts, or -1 without ffprobe. */
static inline int
review_test_ffprobe_frames (const char *path)
{
  const char *args[] = { "-v",
                         "error",
                         "-count_frames",
                         "-select_streams",
                         "v:0",
                         "-show_entries",
                         "stream=nb_read_frames,codec_name",
                         "-of",
                         "default=nw=1",
                         path,
                         NULL };
  g_autofree char *out = review_test_run_tool ("ffprobe", args);
  const char *line;

  if (out == NULL)
    return -1;
  g_assert_nonnull (strstr (out, "codec_name=h264"));
  line = strstr (out, "nb_read_frames=");
  g_assert_nonnull (line);
  return atoi (line + strlen ("nb_read_frames="));
}

/* gst-discoverer-1.0 must see an H.264 video in an MP4. */
static inline void
review_test_discover (const char *path)
{
  const char *args[] = { path, NULL };
  g_autofree char *out = review_test_run_tool ("gst-discoverer-1.0", args);

  if (out == NULL)
    return;
  g_assert_nonnull (strstr (out, "H.264"));
  g_assert_nonnull (strstr (out, "Quicktime"));
}
