/* test-media.c: the media pipeline against real GStreamer elements. */
#include "config.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "takes-media.h"
#include "test-store-util.h"

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("takes-media-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  store_test_rm_rf (f->dir);
  g_free (f->dir);
}

static char *
fixture_path (Fixture *f, const char *name)
{
  return g_build_filename (f->dir, name, NULL);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *)a, *(char *const *)b);
}

/* The sorted names in the folder, joined with spaces. */
static char *
list_dir (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **)names->pdata);
}

/* Frames */

/* A solid colour per frame index, far enough apart that compression cannot
 * turn one frame's colour into a neighbour's. */
static void
frame_colour (guint index, guint8 rgb[3])
{
  rgb[0] = (guint8)(20 + (index * 14) % 224);
  rgb[1] = (guint8)(230 - (index * 13) % 208);
  rgb[2] = (guint8)(60 + (index * 37) % 160);
}

typedef enum
{
  PATTERN_SOLID,    /* frame_colour (index) everywhere */
  PATTERN_GRADIENT, /* red across, green down, blue from the index */
  PATTERN_NOISE,    /* incompressible, to make big files */
} Pattern;

static void
fill_frame (guint8 *rgb, int width, int height, gsize stride, guint index, Pattern pattern, GRand *rand)
{
  guint8 colour[3];

  frame_colour (index, colour);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width; x++)
      {
        guint8 *p = rgb + (gsize)y * stride + (gsize)x * 3;

        switch (pattern)
          {
            case PATTERN_SOLID:
              memcpy (p, colour, 3);
              break;
            case PATTERN_GRADIENT:
              p[0] = (guint8)(x * 255 / MAX (1, width - 1));
              p[1] = (guint8)(y * 255 / MAX (1, height - 1));
              p[2] = colour[2];
              break;
            case PATTERN_NOISE:
            default:
              p[0] = (guint8)g_rand_int (rand);
              p[1] = (guint8)g_rand_int (rand);
              p[2] = (guint8)g_rand_int (rand);
              break;
          }
      }
}

static gboolean
encode_clip (const char *path,
             int width,
             int height,
             int fps_n,
             int fps_d,
             guint n_frames,
             const char *recipe,
             Pattern pattern,
             GError **error)
{
  g_autoptr (TakesMediaEncoder) enc = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  /* A stride wider than the row checks that padding is skipped. */
  gsize stride = (gsize)width * 3 + 5;
  g_autofree guint8 *rgb = g_malloc0 (stride * height);

  enc = takes_media_encoder_new (path, width, height, fps_n, fps_d, recipe, error);
  if (enc == NULL)
    return FALSE;
  for (guint i = 0; i < n_frames; i++)
    {
      fill_frame (rgb, width, height, stride, i, pattern, rand);
      if (!takes_media_encoder_push_rgb (enc, rgb, stride, error))
        return FALSE;
    }
  return takes_media_encoder_finish (enc, error);
}

typedef struct
{
  guint n_frames;
  int width;
  int height;
  guint64 last_pts;
  gboolean pts_in_order;
  double error_sum;
  guint64 error_count;
  int fps_n;
  int fps_d;
  Pattern pattern;
  guint stop_after; /* 0: never */
} DecodeCheck;

static gboolean
check_frame_cb (
    const guint8 *rgb, int width, int height, gsize stride, guint index, guint64 pts_ns, gpointer user_data)
{
  DecodeCheck *check = user_data;
  g_autofree guint8 *expected = g_malloc ((gsize)width * 3 * height);
  guint64 want_pts = gst_util_uint64_scale (index, (guint64)GST_SECOND * check->fps_d, check->fps_n);

  g_assert_cmpuint (index, ==, check->n_frames);
  check->n_frames++;
  check->width = width;
  check->height = height;
  /* Container timestamps are rounded to the track's time scale. */
  if (pts_ns + GST_MSECOND < want_pts || pts_ns > want_pts + GST_MSECOND)
    check->pts_in_order = FALSE;
  check->last_pts = pts_ns;

  fill_frame (expected, width, height, (gsize)width * 3, index, check->pattern, NULL);
  for (int y = 0; y < height; y++)
    for (int x = 0; x < width * 3; x++)
      {
        check->error_sum += ABS ((int)rgb[(gsize)y * stride + x] - (int)expected[(gsize)y * width * 3 + x]);
        check->error_count++;
      }
  return check->stop_after == 0 || check->n_frames < check->stop_after;
}

typedef struct
{
  int width;
  int height;
  gsize stride;
  guint8 *rgb;
  guint n_frames;
} Picture;

static void
picture_clear (Picture *picture)
{
  g_clear_pointer (&picture->rgb, g_free);
  picture->n_frames = 0;
}

static gboolean
keep_picture_cb (
    const guint8 *rgb, int width, int height, gsize stride, guint index, guint64 pts_ns, gpointer user_data)
{
  Picture *picture = user_data;

  picture->n_frames++;
  picture->width = width;
  picture->height = height;
  picture->stride = stride;
  g_free (picture->rgb);
  picture->rgb = g_memdup2 (rgb, stride * height);
  return TRUE;
}

static void
read_png (const char *path, Picture *picture)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (len, >, 8);
  g_assert_cmpmem (data, 8, "\x89PNG\r\n\x1a\n", 8);
  g_assert_true (takes_media_decode_rgb (path, keep_picture_cb, picture, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (picture->n_frames, ==, 1);
}

static void
assert_colour_near (const guint8 *p, guint frame_index)
{
  guint8 want[3];

  frame_colour (frame_index, want);
  for (int c = 0; c < 3; c++)
    if (ABS ((int)p[c] - (int)want[c]) > 6)
      g_error ("pixel (%d, %d, %d) is not the colour of frame %u (%d, %d, %d)", p[0], p[1], p[2], frame_index,
               want[0], want[1], want[2]);
}

/* Foreign files, made with GStreamer elements the way other tools would. */
static void
run_launch (const char *description)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GstElement) pipeline = gst_parse_launch (description, &error);
  g_autoptr (GstBus) bus = NULL;
  g_autoptr (GstMessage) message = NULL;

  g_assert_no_error (error);
  gst_object_ref_sink (pipeline);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  message = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (message);
  g_assert_cmpint (GST_MESSAGE_TYPE (message), ==, GST_MESSAGE_EOS);
  gst_element_set_state (pipeline, GST_STATE_NULL);
}

static const char *RECIPE
    = "{\"prompt\":\"a red fox runs through snow, golden hour\",\"seed\":42,\"steps\":30,"
      "\"model\":\"wan2.1-t2v-1.3b\",\"size\":[96,64],\"frames\":17}";

/* Encoding */

static void
check_round_trip (Fixture *f, int width, int height, int fps_n, int fps_d, guint n_frames)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree char *path = fixture_path (f, "take.mp4");
  g_autofree char *listing = NULL;
  DecodeCheck check = { 0 };

  g_assert_true (encode_clip (path, width, height, fps_n, fps_d, n_frames, RECIPE, PATTERN_GRADIENT, &error));
  g_assert_no_error (error);
  listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "take.mp4");

  info = takes_media_probe (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (info);
  g_assert_cmpuint (info->n_frames, ==, n_frames);
  g_assert_cmpint (info->width, ==, width);
  g_assert_cmpint (info->height, ==, height);
  g_assert_cmpint (info->fps_n * fps_d, ==, fps_n * info->fps_d);
  g_assert_cmpuint (info->duration_ns, ==,
                    gst_util_uint64_scale (n_frames, (guint64)GST_SECOND * fps_d, fps_n));
  g_assert_nonnull (strstr (info->video_codec, "H.264"));
  g_assert_cmpstr (info->container, ==, "ISO MP4/M4A");
  g_assert_cmpstr (info->extension, ==, "mp4");
  g_assert_cmpstr (info->recipe_json, ==, RECIPE);
  g_assert_false (info->has_audio);

  check.pts_in_order = TRUE;
  check.fps_n = fps_n;
  check.fps_d = fps_d;
  check.pattern = PATTERN_GRADIENT;
  g_assert_true (takes_media_decode_rgb (path, check_frame_cb, &check, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (check.n_frames, ==, n_frames);
  g_assert_cmpint (check.width, ==, width);
  g_assert_cmpint (check.height, ==, height);
  g_assert_true (check.pts_in_order);
  /* Quality 18 on smooth gradients: a few levels of error on average. A channel
   * swap or a stride mistake gives tens. */
  g_assert_cmpfloat (check.error_sum / check.error_count, <, 4.0);
}

static void
test_encode_round_trip_9 (Fixture *f, gconstpointer data)
{
  check_round_trip (f, 96, 64, 16, 1, 9);
}

static void
test_encode_round_trip_17_ntsc (Fixture *f, gconstpointer data)
{
  check_round_trip (f, 82, 46, 30000, 1001, 17);
}

static void
test_encode_round_trip_81 (Fixture *f, gconstpointer data)
{
  check_round_trip (f, 64, 48, 24, 1, 81);
}

/* ffprobe is an independent reader: when it is installed it must count the
 * same frames and see the yuv420p H.264 every player opens. */
static void
test_encode_ffprobe_agrees (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *ffprobe = g_find_program_in_path ("ffprobe");
  g_autofree char *path = fixture_path (f, "take.mp4");
  g_autofree char *out = NULL;
  int status = 0;

  if (ffprobe == NULL)
    {
      g_test_skip ("ffprobe is not installed");
      return;
    }
  g_assert_true (encode_clip (path, 96, 64, 16, 1, 17, RECIPE, PATTERN_GRADIENT, &error));
  g_assert_no_error (error);
  {
    const char *argv[]
        = { ffprobe,
            "-v",
            "error",
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=codec_name,pix_fmt,width,height,r_frame_rate,nb_read_frames:format_tags=comment",
            "-of",
            "default=noprint_wrappers=1",
            path,
            NULL };

    g_assert_true (
        g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, &error));
  }
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (out, "codec_name=h264\n"));
  g_assert_nonnull (strstr (out, "pix_fmt=yuv420p\n"));
  g_assert_nonnull (strstr (out, "width=96\n"));
  g_assert_nonnull (strstr (out, "height=64\n"));
  g_assert_nonnull (strstr (out, "r_frame_rate=16/1\n"));
  g_assert_nonnull (strstr (out, "nb_read_frames=17\n"));
  g_assert_nonnull (strstr (out, "TAG:comment=" TAKES_MEDIA_RECIPE_PREFIX "{\"prompt\""));
}

static void
test_encode_long_recipe (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autoptr (GString) recipe = g_string_new ("{\"prompt\":\"");
  g_autofree char *path = fixture_path (f, "long.mp4");

  /* Long and multilingual, with characters JSON must escape. */
  for (int i = 0; i < 800; i++)
    g_string_append_printf (recipe, "镜头 %d: 狐狸 \\\"runs\\\" ", i);
  g_string_append (recipe, "\",\"notes\":\"tab\\tand newline\\n\",\"seed\":1}");
  g_assert_cmpuint (recipe->len, >, 16000);

  g_assert_true (encode_clip (path, 32, 32, 16, 1, 5, recipe->str, PATTERN_SOLID, &error));
  g_assert_no_error (error);
  info = takes_media_probe (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->recipe_json, ==, recipe->str);
}

static void
test_encode_without_recipe (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree char *path = fixture_path (f, "plain.mp4");

  g_assert_true (encode_clip (path, 32, 32, 16, 1, 5, NULL, PATTERN_SOLID, &error));
  g_assert_no_error (error);
  info = takes_media_probe (path, &error);
  g_assert_no_error (error);
  g_assert_null (info->recipe_json);
  g_assert_cmpuint (info->n_frames, ==, 5);
}

static void
test_encode_odd_size_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = fixture_path (f, "odd.mp4");
  g_autofree char *listing = NULL;
  TakesMediaEncoder *enc;

  enc = takes_media_encoder_new (path, 97, 64, 16, 1, NULL, &error);
  g_assert_null (enc);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "97×64"));
  g_assert_nonnull (strstr (error->message, "even"));
  g_clear_error (&error);

  enc = takes_media_encoder_new (path, 96, 63, 16, 1, NULL, &error);
  g_assert_null (enc);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID);
  g_clear_error (&error);

  enc = takes_media_encoder_new (path, 0, 64, 16, 1, NULL, &error);
  g_assert_null (enc);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID);
  g_clear_error (&error);

  enc = takes_media_encoder_new (path, TAKES_MEDIA_MAX_SIZE + 2, 64, 16, 1, NULL, &error);
  g_assert_null (enc);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID);
  g_clear_error (&error);

  enc = takes_media_encoder_new (path, 96, 64, 0, 1, NULL, &error);
  g_assert_null (enc);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID);

  listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "");
}

static void
test_encode_invalid_recipe_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = fixture_path (f, "take.mp4");
  g_autofree char *listing = NULL;
  g_autofree char *huge = NULL;
  TakesMediaEncoder *enc;

  enc = takes_media_encoder_new (path, 32, 32, 16, 1, "{\"prompt\": \"unterminated", &error);
  g_assert_null (enc);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID);
  g_clear_error (&error);

  enc = takes_media_encoder_new (path, 32, 32, 16, 1, "[1, 2, 3]", &error);
  g_assert_null (enc);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID);
  g_clear_error (&error);

  huge = g_strnfill (2 * 1024 * 1024, ' ');
  huge[0] = '{';
  huge[2 * 1024 * 1024 - 1] = '}';
  enc = takes_media_encoder_new (path, 32, 32, 16, 1, huge, &error);
  g_assert_null (enc);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID);

  listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "");
}

static void
test_encode_zero_frames_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaEncoder) enc = NULL;
  g_autofree char *path = fixture_path (f, "empty.mp4");
  g_autofree char *listing = NULL;
  guint8 rgb[32 * 32 * 3] = { 0 };

  enc = takes_media_encoder_new (path, 32, 32, 16, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (takes_media_encoder_finish (enc, &error));
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID);
  g_clear_error (&error);

  /* Finished is final, whatever the outcome. */
  g_assert_false (takes_media_encoder_push_rgb (enc, rgb, 32 * 3, &error));
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID);

  listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "");
}

static void
test_encode_short_stride_refused (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaEncoder) enc = NULL;
  g_autofree char *path = fixture_path (f, "take.mp4");
  guint8 rgb[32 * 32 * 3] = { 0 };

  enc = takes_media_encoder_new (path, 32, 32, 16, 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (takes_media_encoder_push_rgb (enc, rgb, 32 * 3 - 1, &error));
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID);
  g_clear_error (&error);
  /* A refused frame does not spoil the clip. */
  g_assert_true (takes_media_encoder_push_rgb (enc, rgb, 32 * 3, &error));
  g_assert_no_error (error);
  g_assert_true (takes_media_encoder_finish (enc, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
}

static void
test_encode_abandoned_leaves_nothing (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = fixture_path (f, "take.mp4");
  g_autofree char *listing = NULL;
  g_autofree guint8 *rgb = g_malloc0 (64 * 64 * 3);
  TakesMediaEncoder *enc;

  enc = takes_media_encoder_new (path, 64, 64, 16, 1, RECIPE, &error);
  g_assert_no_error (error);
  listing = list_dir (f->dir);
  g_assert_true (g_str_has_prefix (listing, ".take.mp4."));
  g_assert_true (g_str_has_suffix (listing, ".part"));
  g_clear_pointer (&listing, g_free);

  for (guint i = 0; i < 6; i++)
    {
      fill_frame (rgb, 64, 64, 64 * 3, i, PATTERN_GRADIENT, NULL);
      g_assert_true (takes_media_encoder_push_rgb (enc, rgb, 64 * 3, &error));
      g_assert_no_error (error);
    }
  takes_media_encoder_free (enc);
  listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "");
}

static void
test_encode_missing_folder (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "no-such-folder", "take.mp4", NULL);
  TakesMediaEncoder *enc;

  enc = takes_media_encoder_new (path, 32, 32, 16, 1, NULL, &error);
  g_assert_null (enc);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_WRITE);
  g_assert_nonnull (strstr (error->message, "take.mp4"));
}

static void
test_encode_replaces_target (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree char *path = fixture_path (f, "take.mp4");
  g_autofree char *listing = NULL;

  g_assert_true (g_file_set_contents (path, "an older take", -1, &error));
  g_assert_true (encode_clip (path, 32, 32, 16, 1, 9, NULL, PATTERN_SOLID, &error));
  g_assert_no_error (error);
  info = takes_media_probe (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->n_frames, ==, 9);
  listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "take.mp4");
}

typedef struct
{
  char *path;
  guint n_frames;
  int size;
} ParallelJob;

static gpointer
parallel_encode_thread (gpointer user_data)
{
  ParallelJob *job = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;

  g_assert_true (
      encode_clip (job->path, job->size, job->size, 16, 1, job->n_frames, RECIPE, PATTERN_GRADIENT, &error));
  g_assert_no_error (error);
  info = takes_media_probe (job->path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->n_frames, ==, job->n_frames);
  g_assert_cmpint (info->width, ==, job->size);
  return NULL;
}

static void
test_encode_parallel (Fixture *f, gconstpointer data)
{
  ParallelJob jobs[3] = {
    { fixture_path (f, "a.mp4"), 9, 32 },
    { fixture_path (f, "b.mp4"), 13, 48 },
    { fixture_path (f, "c.mp4"), 17, 64 },
  };
  GThread *threads[G_N_ELEMENTS (jobs)];
  g_autofree char *listing = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (jobs); i++)
    threads[i] = g_thread_new ("encode", parallel_encode_thread, &jobs[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (jobs); i++)
    {
      g_thread_join (threads[i]);
      g_free (jobs[i].path);
    }
  listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "a.mp4 b.mp4 c.mp4");
}

static long
peak_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents ("/proc/self/status", &status, NULL, NULL));
  line = strstr (status, "VmHWM:");
  g_assert_nonnull (line);
  return atol (line + strlen ("VmHWM:"));
}

/* Pushing faster than x264 encodes must block, not queue. Once x264's own
 * look-ahead is full (its first few dozen frames), memory must stay flat while
 * 90 more frames of 720p RGB (240 MiB) go in. In a child, so the peak belongs
 * to this test alone. */
static void
test_encode_push_blocks (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaEncoder) enc = NULL;
  g_autofree char *path = fixture_path (f, "take.mp4");
  gsize stride = 1280 * 3;
  g_autofree guint8 *rgb = g_malloc (stride * 720);
  long before = 0;

#if defined(__SANITIZE_ADDRESS__)
  g_test_skip ("the sanitizer's quarantine keeps freed frames resident");
  return;
#endif
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  enc = takes_media_encoder_new (path, 1280, 720, 24, 1, NULL, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 150; i++)
    {
      if (i == 60)
        before = peak_rss_kib ();
      fill_frame (rgb, 1280, 720, stride, i, PATTERN_SOLID, NULL);
      g_assert_true (takes_media_encoder_push_rgb (enc, rgb, stride, &error));
      g_assert_no_error (error);
    }
  g_test_message ("peak memory grew by %ld KiB over the last 90 frames", peak_rss_kib () - before);
  g_assert_cmpint (peak_rss_kib () - before, <, 60 * 1024);
  g_assert_true (takes_media_encoder_finish (enc, &error));
  g_assert_no_error (error);
}

/* The write limit is per process, so it is set in a child. */
static void
test_encode_file_size_limit (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaEncoder) enc = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (3);
  g_autofree char *path = fixture_path (f, "take.mp4");
  g_autofree char *listing = NULL;
  g_autofree char *contents = NULL;
  g_autofree guint8 *rgb = g_malloc (128 * 128 * 3);
  struct rlimit limit = { 24 * 1024, 24 * 1024 };
  gboolean ok = TRUE;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  /* An older take under the same name must survive the failed write. */
  g_assert_true (g_file_set_contents (path, "an older take", -1, &error));
  g_assert_true (takes_media_can_encode (&error));
  g_assert_no_error (error);
  signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);

  enc = takes_media_encoder_new (path, 128, 128, 16, 1, RECIPE, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 40 && ok; i++)
    {
      fill_frame (rgb, 128, 128, 128 * 3, i, PATTERN_NOISE, rand);
      ok = takes_media_encoder_push_rgb (enc, rgb, 128 * 3, &error);
    }
  if (ok)
    ok = takes_media_encoder_finish (enc, &error);
  else
    {
      GError *again = NULL;

      g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_WRITE);
      /* The failure sticks: finishing reports it instead of writing a stub. */
      g_assert_false (takes_media_encoder_finish (enc, &again));
      g_assert_error (again, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_WRITE);
      g_error_free (again);
    }
  g_assert_false (ok);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_WRITE);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "take.mp4"));
  g_assert_nonnull (strstr (error->message, "free space"));
  g_clear_pointer (&enc, takes_media_encoder_free);

  listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "take.mp4");
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "an older take");
}

static void
remove_feature (const char *name)
{
  GstRegistry *registry = gst_registry_get ();
  GstPluginFeature *feature = gst_registry_lookup_feature (registry, name);

  if (feature != NULL)
    {
      gst_registry_remove_feature (registry, feature);
      gst_object_unref (feature);
    }
}

/* Removing x264enc from this process's registry (in a child, so other tests
 * keep it) leaves openh264enc, the fallback. */
static void
test_encode_openh264_fallback (Fixture *f, gconstpointer data)
{
  g_autoptr (GstElementFactory) openh264 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree char *path = fixture_path (f, "take.mp4");
  DecodeCheck check = { 0 };

  openh264 = gst_element_factory_find ("openh264enc");
  if (openh264 == NULL)
    {
      g_test_skip ("openh264enc is not installed");
      return;
    }
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  remove_feature ("x264enc");
  g_assert_true (encode_clip (path, 96, 64, 16, 1, 17, RECIPE, PATTERN_GRADIENT, &error));
  g_assert_no_error (error);
  info = takes_media_probe (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->n_frames, ==, 17);
  g_assert_nonnull (strstr (info->video_codec, "H.264"));
  g_assert_cmpstr (info->recipe_json, ==, RECIPE);

  check.pts_in_order = TRUE;
  check.fps_n = 16;
  check.fps_d = 1;
  check.pattern = PATTERN_GRADIENT;
  g_assert_true (takes_media_decode_rgb (path, check_frame_cb, &check, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (check.n_frames, ==, 17);
  g_assert_true (check.pts_in_order);
  g_assert_cmpfloat (check.error_sum / check.error_count, <, 8.0);
}

static void
test_encode_no_encoder (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = fixture_path (f, "take.mp4");
  g_autofree char *listing = NULL;
  TakesMediaEncoder *enc;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  remove_feature ("x264enc");
  remove_feature ("openh264enc");
  g_assert_false (takes_media_can_encode (&error));
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NO_ENCODER);
  g_assert_nonnull (strstr (error->message, "gstreamer1.0-plugins-ugly"));
  g_clear_error (&error);

  enc = takes_media_encoder_new (path, 32, 32, 16, 1, NULL, &error);
  g_assert_null (enc);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NO_ENCODER);
  listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "");
}

static void
test_encode_no_muxer (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = fixture_path (f, "take.mp4");
  TakesMediaEncoder *enc;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  remove_feature ("mp4mux");
  enc = takes_media_encoder_new (path, 32, 32, 16, 1, NULL, &error);
  g_assert_null (enc);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NO_ENCODER);
  g_assert_nonnull (strstr (error->message, "gstreamer1.0-plugins-good"));
}

/* Probing */

static void
make_webm (const char *path, guint n_frames, gboolean with_audio, const char *comment)
{
  g_autofree char *tags = NULL;
  g_autofree char *launch = NULL;

  if (comment != NULL)
    tags = g_strdup_printf ("! taginject tags=\"comment=\\\"%s\\\"\" ", comment);
  launch = g_strdup_printf (
      "videotestsrc num-buffers=%u ! video/x-raw,width=64,height=48,framerate=12/1 ! vp8enc "
      "%s! webmmux name=mux ! filesink location=\"%s\" %s",
      n_frames, tags != NULL ? tags : "", path,
      with_audio ? "audiotestsrc num-buffers=20 ! audioconvert ! vorbisenc ! mux." : "");
  run_launch (launch);
}

static void
test_probe_webm (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree char *path = fixture_path (f, "clip.webm");
  DecodeCheck check = { 0 };

  make_webm (path, 12, FALSE, NULL);
  info = takes_media_probe (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->n_frames, ==, 12);
  g_assert_cmpint (info->width, ==, 64);
  g_assert_cmpint (info->height, ==, 48);
  g_assert_cmpint (info->fps_n * 1, ==, 12 * info->fps_d);
  g_assert_cmpuint (info->duration_ns, ==, GST_SECOND);
  g_assert_nonnull (strstr (info->video_codec, "VP8"));
  g_assert_cmpstr (info->container, ==, "WebM");
  g_assert_cmpstr (info->extension, ==, "webm");
  g_assert_null (info->recipe_json);
  g_assert_false (info->has_audio);

  /* The frames decode too; videotestsrc's pattern is not ours, so only count. */
  check.pts_in_order = TRUE;
  check.fps_n = 12;
  check.fps_d = 1;
  check.pattern = PATTERN_SOLID;
  g_assert_true (takes_media_decode_rgb (path, check_frame_cb, &check, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (check.n_frames, ==, 12);
  g_assert_true (check.pts_in_order);
}

static void
test_probe_webm_with_audio_and_recipe (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree char *path = fixture_path (f, "clip.webm");

  make_webm (path, 24, TRUE, TAKES_MEDIA_RECIPE_PREFIX "{\\\\\\\"seed\\\\\\\":5}");
  info = takes_media_probe (path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->n_frames, ==, 24);
  g_assert_true (info->has_audio);
  g_assert_cmpstr (info->recipe_json, ==, "{\"seed\":5}");
}

static void
make_mp4_with_comment (const char *path, const char *comment)
{
  g_autofree char *launch = g_strdup_printf (
      "videotestsrc num-buffers=5 ! video/x-raw,width=32,height=32,framerate=16/1 ! x264enc ! "
      "taginject tags=\"comment=\\\"%s\\\"\" ! mp4mux ! filesink location=\"%s\"",
      comment, path);

  run_launch (launch);
}

/* Only a comment with the Takes prefix and a JSON object is a recipe. */
static void
test_probe_foreign_comment_is_not_recipe (Fixture *f, gconstpointer data)
{
  static const char *const comments[] = {
    "{\\\\\\\"prompt\\\\\\\":\\\\\\\"from another tool\\\\\\\"}",
    TAKES_MEDIA_RECIPE_PREFIX "not json at all",
    TAKES_MEDIA_RECIPE_PREFIX "[1,2]",
    "Shot on a phone",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (comments); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesMediaInfo) info = NULL;
      g_autofree char *name = g_strdup_printf ("foreign-%" G_GSIZE_FORMAT ".mp4", i);
      g_autofree char *path = fixture_path (f, name);

      make_mp4_with_comment (path, comments[i]);
      info = takes_media_probe (path, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (info->n_frames, ==, 5);
      g_assert_null (info->recipe_json);
    }
}

static void
assert_not_video (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree char *base = g_path_get_basename (path);

  info = takes_media_probe (path, &error);
  g_assert_null (info);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO);
  g_assert_nonnull (strstr (error->message, base));
  g_test_message ("%s", error->message);
}

static void
test_probe_not_video (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (11);
  g_autofree char *text = fixture_path (f, "notes.txt");
  g_autofree char *noise = fixture_path (f, "noise.mp4");
  g_autofree char *empty = fixture_path (f, "empty.mp4");
  g_autofree char *png = fixture_path (f, "still.png");
  g_autofree char *wav = fixture_path (f, "sound.wav");
  g_autofree char *launch = NULL;
  g_autofree char *bytes = g_malloc (64 * 1024);

  g_assert_true (g_file_set_contents (text, "Shot list:\n1. fox in snow\n2. fox on a hill\n", -1, &error));
  for (gsize i = 0; i < 64 * 1024; i++)
    bytes[i] = (char)g_rand_int (rand);
  g_assert_true (g_file_set_contents (noise, bytes, 64 * 1024, &error));
  g_assert_true (g_file_set_contents (empty, "", 0, &error));
  g_assert_no_error (error);
  launch = g_strdup_printf ("videotestsrc num-buffers=1 ! video/x-raw,width=32,height=32 ! pngenc ! filesink "
                            "location=\"%s\"",
                            png);
  run_launch (launch);
  g_clear_pointer (&launch, g_free);
  launch = g_strdup_printf ("audiotestsrc num-buffers=10 ! wavenc ! filesink location=\"%s\"", wav);
  run_launch (launch);

  assert_not_video (text);
  assert_not_video (noise);
  assert_not_video (empty);
  assert_not_video (png);
  assert_not_video (wav);
  assert_not_video (f->dir);
}

static void
test_probe_unreadable (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree char *missing = fixture_path (f, "missing.mp4");
  g_autofree char *locked = fixture_path (f, "locked.mp4");

  info = takes_media_probe (missing, &error);
  g_assert_null (info);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_UNREADABLE);
  g_assert_nonnull (strstr (error->message, "missing.mp4"));
  g_clear_error (&error);

  /* Permissions do not stop root, so that half only runs for other users. */
  if (geteuid () != 0)
    {
      g_assert_true (encode_clip (locked, 32, 32, 16, 1, 3, NULL, PATTERN_SOLID, &error));
      g_assert_cmpint (g_chmod (locked, 0), ==, 0);
      info = takes_media_probe (locked, &error);
      g_assert_null (info);
      g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_UNREADABLE);
      g_assert_nonnull (strstr (error->message, "locked.mp4"));
    }
}

/* A take cut off mid-write (a crash while copying) has no index. */
static void
test_probe_truncated (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree char *path = fixture_path (f, "take.mp4");
  g_autofree char *cut = fixture_path (f, "cut.mp4");
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (encode_clip (path, 64, 64, 16, 1, 9, NULL, PATTERN_GRADIENT, &error));
  g_assert_true (g_file_get_contents (path, &contents, &len, &error));
  g_assert_true (g_file_set_contents (cut, contents, (gssize)len / 2, &error));
  g_assert_no_error (error);
  /* Twice each: once GStreamer has loaded its plugins, decodebin in 1.22 can
   * swallow the demuxer's error and wait forever, which must not happen here. */
  for (int i = 0; i < 2; i++)
    {
      DecodeCheck check = { 0 };

      info = takes_media_probe (cut, &error);
      g_assert_null (info);
      g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO);
      g_assert_nonnull (strstr (error->message, "cut.mp4"));
      g_clear_error (&error);

      g_assert_false (takes_media_decode_rgb (cut, check_frame_cb, &check, &error));
      g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO);
      g_clear_error (&error);
    }
}

/* Decoding */

static void
test_decode_stops_when_asked (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = fixture_path (f, "take.mp4");
  DecodeCheck check = { 0 };

  g_assert_true (encode_clip (path, 32, 32, 16, 1, 17, NULL, PATTERN_GRADIENT, &error));
  check.pts_in_order = TRUE;
  check.fps_n = 16;
  check.fps_d = 1;
  check.pattern = PATTERN_GRADIENT;
  check.stop_after = 4;
  g_assert_true (takes_media_decode_rgb (path, check_frame_cb, &check, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (check.n_frames, ==, 4);
}

static void
test_decode_not_video (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *wav = fixture_path (f, "sound.wav");
  g_autofree char *text = fixture_path (f, "notes.txt");
  g_autofree char *missing = fixture_path (f, "missing.mp4");
  g_autofree char *launch
      = g_strdup_printf ("audiotestsrc num-buffers=10 ! wavenc ! filesink location=\"%s\"", wav);
  DecodeCheck check = { 0 };

  run_launch (launch);
  g_assert_false (takes_media_decode_rgb (wav, check_frame_cb, &check, &error));
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO);
  g_assert_nonnull (strstr (error->message, "sound.wav"));
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (text, "not a video", -1, &error));
  g_assert_false (takes_media_decode_rgb (text, check_frame_cb, &check, &error));
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO);
  g_clear_error (&error);

  g_assert_false (takes_media_decode_rgb (missing, check_frame_cb, &check, &error));
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_UNREADABLE);
  g_assert_cmpuint (check.n_frames, ==, 0);
}

/* Thumbnails and poster strips */

static void
test_thumbnail_middle_frame (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *video = fixture_path (f, "take.mp4");
  g_autofree char *png = fixture_path (f, "take.png");
  g_autofree char *listing = NULL;
  Picture picture = { 0 };

  g_assert_true (encode_clip (video, 96, 64, 16, 1, 17, NULL, PATTERN_SOLID, &error));
  g_assert_no_error (error);
  g_assert_true (takes_media_write_thumbnail (video, png, 32, &error));
  g_assert_no_error (error);
  listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "take.mp4 take.png");

  read_png (png, &picture);
  g_assert_cmpint (picture.width, ==, 32);
  g_assert_cmpint (picture.height, ==, 21);
  assert_colour_near (picture.rgb + (gsize)10 * picture.stride + 16 * 3, 8);
  picture_clear (&picture);

  /* Small videos are not blown up. */
  g_assert_true (takes_media_write_thumbnail (video, png, 1000, &error));
  g_assert_no_error (error);
  read_png (png, &picture);
  g_assert_cmpint (picture.width, ==, 96);
  g_assert_cmpint (picture.height, ==, 64);
  picture_clear (&picture);
}

static void
test_thumbnail_errors (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *video = fixture_path (f, "take.mp4");
  g_autofree char *text = fixture_path (f, "notes.txt");
  g_autofree char *png = fixture_path (f, "thumb.png");
  g_autofree char *bad_png = g_build_filename (f->dir, "no-such-folder", "thumb.png", NULL);
  g_autofree char *listing = NULL;

  g_assert_true (encode_clip (video, 32, 32, 16, 1, 5, NULL, PATTERN_SOLID, &error));
  g_assert_true (g_file_set_contents (text, "not a video", -1, &error));
  g_assert_no_error (error);

  g_assert_false (takes_media_write_thumbnail (video, bad_png, 32, &error));
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_WRITE);
  g_clear_error (&error);
  g_assert_false (takes_media_write_thumbnail (text, png, 32, &error));
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO);
  g_clear_error (&error);
  g_assert_false (takes_media_write_thumbnail (video, png, 0, &error));
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (takes_media_write_poster_strip (video, png, 0, 32, &error));
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (takes_media_write_poster_strip (video, png, 4, 100000, &error));
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_INVALID);

  listing = list_dir (f->dir);
  g_assert_cmpstr (listing, ==, "notes.txt take.mp4");
}

static void
check_strip (const char *png, guint n_tiles, int tile_width, int height, const guint *frames)
{
  Picture picture = { 0 };

  read_png (png, &picture);
  g_assert_cmpint (picture.width, ==, (int)n_tiles * tile_width);
  g_assert_cmpint (picture.height, ==, height);
  for (guint i = 0; i < n_tiles; i++)
    assert_colour_near (picture.rgb + (gsize)(height / 2) * picture.stride
                            + (gsize)(i * tile_width + tile_width / 2) * 3,
                        frames[i]);
  picture_clear (&picture);
}

static void
test_poster_strip_evenly_spaced (Fixture *f, gconstpointer data)
{
  static const guint five_of_17[] = { 0, 4, 8, 12, 16 };
  static const guint one_of_17[] = { 8 };
  g_autoptr (GError) error = NULL;
  g_autofree char *video = fixture_path (f, "take.mp4");
  g_autofree char *png = fixture_path (f, "strip.png");

  g_assert_true (encode_clip (video, 96, 64, 16, 1, 17, NULL, PATTERN_SOLID, &error));
  g_assert_no_error (error);
  g_assert_true (takes_media_write_poster_strip (video, png, 5, 32, &error));
  g_assert_no_error (error);
  check_strip (png, 5, 48, 32, five_of_17);

  g_assert_true (takes_media_write_poster_strip (video, png, 1, 32, &error));
  g_assert_no_error (error);
  check_strip (png, 1, 48, 32, one_of_17);
}

static void
test_poster_strip_more_tiles_than_frames (Fixture *f, gconstpointer data)
{
  static const guint all_of_5[] = { 0, 1, 2, 3, 4 };
  g_autoptr (GError) error = NULL;
  g_autofree char *video = fixture_path (f, "take.mp4");
  g_autofree char *png = fixture_path (f, "strip.png");

  g_assert_true (encode_clip (video, 64, 64, 16, 1, 5, NULL, PATTERN_SOLID, &error));
  g_assert_no_error (error);
  g_assert_true (takes_media_write_poster_strip (video, png, 20, 16, &error));
  g_assert_no_error (error);
  check_strip (png, 5, 16, 16, all_of_5);
}

/* Frames of a long clip are found by seeking, short ones by decoding. */
static void
test_poster_strip_long_clip (Fixture *f, gconstpointer data)
{
  static const guint five_of_200[] = { 0, 50, 100, 149, 199 };
  static const guint middle_of_200[] = { 100 };
  g_autoptr (GError) error = NULL;
  g_autofree char *video = fixture_path (f, "take.mp4");
  g_autofree char *png = fixture_path (f, "strip.png");
  Picture picture = { 0 };

  g_assert_true (encode_clip (video, 32, 32, 24, 1, 200, NULL, PATTERN_SOLID, &error));
  g_assert_no_error (error);
  g_assert_true (takes_media_write_poster_strip (video, png, 5, 16, &error));
  g_assert_no_error (error);
  check_strip (png, 5, 16, 16, five_of_200);

  g_assert_true (takes_media_write_thumbnail (video, png, 16, &error));
  g_assert_no_error (error);
  read_png (png, &picture);
  g_assert_cmpint (picture.width, ==, 16);
  assert_colour_near (picture.rgb + (gsize)8 * picture.stride + 8 * 3, middle_of_200[0]);
  picture_clear (&picture);
}

/* A bare H.264 stream has no index; its frames are still found. */
static void
test_poster_strip_bare_stream (Fixture *f, gconstpointer data)
{
  static const guint three_of_9[] = { 0, 4, 8 };
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree char *mp4 = fixture_path (f, "take.mp4");
  g_autofree char *raw = fixture_path (f, "take.h264");
  g_autofree char *png = fixture_path (f, "strip.png");
  g_autofree char *launch = NULL;

  g_assert_true (encode_clip (mp4, 64, 64, 16, 1, 9, NULL, PATTERN_SOLID, &error));
  g_assert_no_error (error);
  launch = g_strdup_printf (
      "filesrc location=\"%s\" ! qtdemux ! h264parse ! video/x-h264,stream-format=byte-stream ! "
      "filesink location=\"%s\"",
      mp4, raw);
  run_launch (launch);

  info = takes_media_probe (raw, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->n_frames, ==, 9);
  g_assert_null (info->container);
  g_assert_cmpstr (info->extension, ==, "h264");

  g_assert_true (takes_media_write_poster_strip (raw, png, 3, 32, &error));
  g_assert_no_error (error);
  check_strip (png, 3, 32, 32, three_of_9);
}

/* Importing */

static void
test_import_copies_with_recipe (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree char *src = fixture_path (f, "outside.mp4");
  g_autofree char *media = fixture_path (f, "media");
  g_autofree char *dest = g_build_filename (media, "take-1.mp4", NULL);
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *listing = NULL;
  gsize a_len = 0, b_len = 0;

  g_assert_cmpint (g_mkdir (media, 0700), ==, 0);
  g_assert_true (encode_clip (src, 64, 48, 16, 1, 9, RECIPE, PATTERN_GRADIENT, &error));
  g_assert_no_error (error);
  info = takes_media_import (src, dest, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->n_frames, ==, 9);
  g_assert_cmpstr (info->recipe_json, ==, RECIPE);
  g_assert_cmpstr (info->extension, ==, "mp4");

  g_assert_true (g_file_get_contents (src, &a, &a_len, NULL));
  g_assert_true (g_file_get_contents (dest, &b, &b_len, NULL));
  g_assert_cmpmem (a, a_len, b, b_len);
  listing = list_dir (media);
  g_assert_cmpstr (listing, ==, "take-1.mp4");
}

static void
test_import_webm (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree char *src = fixture_path (f, "clip.webm");
  g_autofree char *dest = fixture_path (f, "take-2.webm");

  make_webm (src, 12, TRUE, NULL);
  info = takes_media_import (src, dest, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->n_frames, ==, 12);
  g_assert_true (info->has_audio);
  g_assert_cmpstr (info->extension, ==, "webm");
  g_assert_true (g_file_test (dest, G_FILE_TEST_IS_REGULAR));
}

static void
test_import_refuses_and_leaves_nothing (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree char *text = fixture_path (f, "notes.txt");
  g_autofree char *video = fixture_path (f, "take.mp4");
  g_autofree char *media = fixture_path (f, "media");
  g_autofree char *dest = g_build_filename (media, "take-1.mp4", NULL);
  g_autofree char *nowhere = g_build_filename (f->dir, "no-such-folder", "take-1.mp4", NULL);
  g_autofree char *listing = NULL;

  g_assert_cmpint (g_mkdir (media, 0700), ==, 0);
  g_assert_true (g_file_set_contents (text, "not a video", -1, &error));
  g_assert_true (encode_clip (video, 32, 32, 16, 1, 3, NULL, PATTERN_SOLID, &error));
  g_assert_no_error (error);

  info = takes_media_import (text, dest, &error);
  g_assert_null (info);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_NOT_VIDEO);
  g_clear_error (&error);

  info = takes_media_import (video, nowhere, &error);
  g_assert_null (info);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_WRITE);
  g_clear_error (&error);

  listing = list_dir (media);
  g_assert_cmpstr (listing, ==, "");
}

static void
test_import_file_size_limit (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autofree char *video = fixture_path (f, "take.mp4");
  g_autofree char *media = fixture_path (f, "media");
  g_autofree char *dest = g_build_filename (media, "take-1.mp4", NULL);
  g_autofree char *listing = NULL;
  struct rlimit limit = { 16 * 1024, 16 * 1024 };

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }
  g_assert_cmpint (g_mkdir (media, 0700), ==, 0);
  g_assert_true (encode_clip (video, 128, 128, 16, 1, 12, NULL, PATTERN_NOISE, &error));
  g_assert_no_error (error);

  signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
  info = takes_media_import (video, dest, &error);
  g_assert_null (info);
  g_assert_error (error, TAKES_MEDIA_ERROR, TAKES_MEDIA_ERROR_WRITE);
  g_assert_nonnull (strstr (error->message, "take-1.mp4"));
  listing = list_dir (media);
  g_assert_cmpstr (listing, ==, "");
}

int
main (int argc, char **argv)
{
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* GStreamer's leak tracer warns at gst_deinit () about every object still
   * alive, and warnings are fatal here. The sanitizer's leak check cannot do
   * this: its suppressions cover everything allocated inside GStreamer. */
  if (g_getenv ("GST_TRACERS") == NULL)
    g_setenv ("GST_TRACERS", "leaks", TRUE);
  gst_init (&argc, &argv);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/media/encode/round-trip/9-frames", test_encode_round_trip_9);
  ADD ("/media/encode/round-trip/17-frames-ntsc-rate", test_encode_round_trip_17_ntsc);
  ADD ("/media/encode/round-trip/81-frames", test_encode_round_trip_81);
  ADD ("/media/encode/ffprobe-agrees", test_encode_ffprobe_agrees);
  ADD ("/media/encode/recipe/long-and-unicode", test_encode_long_recipe);
  ADD ("/media/encode/recipe/absent", test_encode_without_recipe);
  ADD ("/media/encode/refuses/odd-or-bad-size", test_encode_odd_size_refused);
  ADD ("/media/encode/refuses/invalid-recipe", test_encode_invalid_recipe_refused);
  ADD ("/media/encode/refuses/zero-frames", test_encode_zero_frames_refused);
  ADD ("/media/encode/refuses/short-stride", test_encode_short_stride_refused);
  ADD ("/media/encode/abandoned-leaves-nothing", test_encode_abandoned_leaves_nothing);
  ADD ("/media/encode/missing-folder", test_encode_missing_folder);
  ADD ("/media/encode/replaces-target", test_encode_replaces_target);
  ADD ("/media/encode/parallel", test_encode_parallel);
  ADD ("/media/encode/push-blocks", test_encode_push_blocks);
  ADD ("/media/encode/file-size-limit", test_encode_file_size_limit);
  ADD ("/media/encode/openh264-fallback", test_encode_openh264_fallback);
  ADD ("/media/encode/no-encoder", test_encode_no_encoder);
  ADD ("/media/encode/no-muxer", test_encode_no_muxer);
  ADD ("/media/probe/webm", test_probe_webm);
  ADD ("/media/probe/webm-with-audio-and-recipe", test_probe_webm_with_audio_and_recipe);
  ADD ("/media/probe/foreign-comment-is-not-recipe", test_probe_foreign_comment_is_not_recipe);
  ADD ("/media/probe/not-video", test_probe_not_video);
  ADD ("/media/probe/unreadable", test_probe_unreadable);
  ADD ("/media/probe/truncated", test_probe_truncated);
  ADD ("/media/decode/stops-when-asked", test_decode_stops_when_asked);
  ADD ("/media/decode/not-video", test_decode_not_video);
  ADD ("/media/thumbnail/middle-frame", test_thumbnail_middle_frame);
  ADD ("/media/thumbnail/errors", test_thumbnail_errors);
  ADD ("/media/poster-strip/evenly-spaced", test_poster_strip_evenly_spaced);
  ADD ("/media/poster-strip/more-tiles-than-frames", test_poster_strip_more_tiles_than_frames);
  ADD ("/media/poster-strip/long-clip", test_poster_strip_long_clip);
  ADD ("/media/poster-strip/bare-stream", test_poster_strip_bare_stream);
  ADD ("/media/import/copies-with-recipe", test_import_copies_with_recipe);
  ADD ("/media/import/webm", test_import_webm);
  ADD ("/media/import/refuses-and-leaves-nothing", test_import_refuses_and_leaves_nothing);
  ADD ("/media/import/file-size-limit", test_import_file_size_limit);
#undef ADD
  ret = g_test_run ();
  gst_deinit ();
  return ret;
}
