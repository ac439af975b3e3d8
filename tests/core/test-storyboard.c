/* test-storyboard.c: the animatic, the EDL and the FCP7 XML of a storyboard
 * with a trimmed take, a missing take and a take of another size and rate. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>

#include "review-test-util.h"
#include "takes-store-review.h"
#include "takes-storyboard.h"

typedef struct
{
  char *dir;
  char *a; /* 64×48 at 8 fps, 16 frames numbered 0–15 */
  char *b; /* 96×72 at 16 fps, 32 frames, each number shown twice */
  char *missing;
  GPtrArray *shots;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  TakesStoryboardShot *shot;

  f->dir = g_dir_make_tmp ("takes-storyboard-XXXXXX", &error);
  g_assert_no_error (error);
  f->a = g_build_filename (f->dir, "a.mp4", NULL);
  f->b = g_build_filename (f->dir, "b.mp4", NULL);
  f->missing = g_build_filename (f->dir, "gone.mp4", NULL);
  review_test_make_clip (f->a, 64, 48, 8, 16, 1);
  review_test_make_clip (f->b, 96, 72, 16, 32, 2);

  f->shots = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_storyboard_shot_free);
  shot = takes_storyboard_shot_new (1, "Opening & <wide>", f->a);
  shot->in_point = G_USEC_PER_SEC / 2;
  shot->out_point = 3 * G_USEC_PER_SEC / 2;
  g_ptr_array_add (f->shots, shot);
  shot = takes_storyboard_shot_new (2, "Lost shot", f->missing);
  shot->duration = G_USEC_PER_SEC;
  g_ptr_array_add (f->shots, shot);
  g_ptr_array_add (f->shots, takes_storyboard_shot_new (3, "Close-up", f->b));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  review_test_rm_rf (f->dir);
  g_ptr_array_unref (f->shots);
  g_free (f->a);
  g_free (f->b);
  g_free (f->missing);
  g_free (f->dir);
}

static void
assert_one_missing_warning (GPtrArray *warnings)
{
  const GError *warning;

  g_assert_cmpuint (warnings->len, ==, 1);
  warning = g_ptr_array_index (warnings, 0);
  g_assert_error ((GError *)warning, TAKES_STORYBOARD_ERROR, TAKES_STORYBOARD_ERROR_MISSING_TAKE);
  g_assert_nonnull (strstr (warning->message, "Shot 2"));
  g_assert_nonnull (strstr (warning->message, "Lost shot"));
}

static gboolean
collect_cb (
    const guint8 *rgb, int width, int height, gsize stride, guint index, guint64 pts, gpointer user_data)
{
  GArray *values = user_data;
  int value = review_test_read (rgb, stride, 0, width, height);

  g_array_append_val (values, value);
  return TRUE;
}

/* 8 frames of A (its seconds 0.5–1.5), 8 of filler, 16 of B at 8 fps. */
static void
test_animatic (Fixture *f, gconstpointer data)
{
  g_autofree char *out = g_build_filename (f->dir, "animatic.mp4", NULL);
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func ((GDestroyNotify)g_error_free);
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autoptr (GArray) values = g_array_new (FALSE, FALSE, sizeof (int));
  g_autoptr (GError) error = NULL;
  TakesStoryboardOptions options;
  const guint64 frame_ns = GST_SECOND / 8;
  int ffprobe_frames;

  takes_storyboard_options_init (&options);
  takes_storyboard_export_mp4 (f->shots, &options, out, warnings, &error);
  g_assert_no_error (error);
  assert_one_missing_warning (warnings);
  review_test_discover (out);

  info = takes_media_probe (out, &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->width, ==, 64);
  g_assert_cmpint (info->height, ==, 48);
  /* The planned 1 + 1 + 2 seconds, to within a frame. */
  g_assert_cmpuint (info->duration_ns, >=, 4 * GST_SECOND - frame_ns);
  g_assert_cmpuint (info->duration_ns, <=, 4 * GST_SECOND + frame_ns);
  g_assert_cmpuint (info->n_frames, ==, 32);
  ffprobe_frames = review_test_ffprobe_frames (out);
  if (ffprobe_frames >= 0)
    g_assert_cmpint (ffprobe_frames, ==, 32);

  takes_media_decode_rgb (out, collect_cb, values, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (values->len, ==, 32);
  for (guint i = 0; i < 32; i++)
    {
      int expected = i < 8 ? (int)i + 4 : i < 16 ? 0 : (int)i - 16;

      g_assert_cmpint (g_array_index (values, int, i), ==, expected);
    }
}

static void
test_edl (Fixture *f, gconstpointer data)
{
  g_autofree char *out = g_build_filename (f->dir, "cut.edl", NULL);
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func ((GDestroyNotify)g_error_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  TakesStoryboardOptions options;
  guint events = 0, sources = 0;

  takes_storyboard_options_init (&options);
  options.title = "Spot ünïcode";
  takes_storyboard_export_edl (f->shots, &options, out, warnings, &error);
  g_assert_no_error (error);
  assert_one_missing_warning (warnings);
  g_file_get_contents (out, &text, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (text, "TITLE: Spot ??n??code\r\nFCM: NON-DROP FRAME\r\n"));
  lines = g_strsplit (text, "\r\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) fields = NULL;

      if (g_str_has_prefix (lines[i], "* SOURCE FILE: "))
        {
          g_assert_true (g_file_test (lines[i] + strlen ("* SOURCE FILE: "), G_FILE_TEST_IS_REGULAR));
          sources++;
        }
      if (!g_ascii_isdigit (lines[i][0]))
        continue;
      fields = g_strsplit_set (lines[i], " ", -1);
      {
        g_autoptr (GPtrArray) words = g_ptr_array_new ();

        for (guint k = 0; fields[k] != NULL; k++)
          if (*fields[k] != '\0')
            g_ptr_array_add (words, fields[k]);
        g_assert_cmpuint (words->len, ==, 8);
        events++;
        switch (events)
          {
            case 1:
              g_assert_cmpstr (g_ptr_array_index (words, 1), ==, "AX");
              g_assert_cmpstr (g_ptr_array_index (words, 4), ==, "00:00:00:04");
              g_assert_cmpstr (g_ptr_array_index (words, 5), ==, "00:00:01:04");
              g_assert_cmpstr (g_ptr_array_index (words, 6), ==, "00:00:00:00");
              g_assert_cmpstr (g_ptr_array_index (words, 7), ==, "00:00:01:00");
              break;
            case 2:
              g_assert_cmpstr (g_ptr_array_index (words, 1), ==, "BL");
              g_assert_cmpstr (g_ptr_array_index (words, 7), ==, "00:00:02:00");
              break;
            default:
              g_assert_cmpstr (g_ptr_array_index (words, 6), ==, "00:00:02:00");
              g_assert_cmpstr (g_ptr_array_index (words, 7), ==, "00:00:04:00");
          }
      }
    }
  g_assert_cmpuint (events, ==, 3);
  g_assert_cmpuint (sources, ==, 2);
}

typedef struct
{
  GString *text;
  GPtrArray *stack;
  GPtrArray *paths;
  guint clipitems;
  char *sequence_duration;
  char *sequence_name;
} XmlState;

static void
xml_start (GMarkupParseContext *context,
           const char *element,
           const char **names,
           const char **values,
           gpointer user_data,
           GError **error)
{
  XmlState *s = user_data;

  g_ptr_array_add (s->stack, g_strdup (element));
  g_string_truncate (s->text, 0);
  if (g_str_equal (element, "clipitem"))
    s->clipitems++;
}

static void
xml_end (GMarkupParseContext *context, const char *element, gpointer user_data, GError **error)
{
  XmlState *s = user_data;
  const char *parent = s->stack->len >= 2 ? g_ptr_array_index (s->stack, s->stack->len - 2) : "";

  if (g_str_equal (element, "pathurl"))
    g_ptr_array_add (s->paths, g_strdup (s->text->str));
  if (g_str_equal (parent, "sequence") && g_str_equal (element, "duration"))
    s->sequence_duration = g_strdup (s->text->str);
  if (g_str_equal (parent, "sequence") && g_str_equal (element, "name"))
    s->sequence_name = g_strdup (s->text->str);
  g_ptr_array_remove_index (s->stack, s->stack->len - 1);
}

static void
xml_text (GMarkupParseContext *context, const char *text, gsize len, gpointer user_data, GError **error)
{
  XmlState *s = user_data;

  g_string_append_len (s->text, text, (gssize)len);
}

static void
test_fcpxml (Fixture *f, gconstpointer data)
{
  static const GMarkupParser parser = { xml_start, xml_end, xml_text, NULL, NULL };
  g_autofree char *out = g_build_filename (f->dir, "cut.xml", NULL);
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func ((GDestroyNotify)g_error_free);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GMarkupParseContext) context = NULL;
  TakesStoryboardOptions options;
  XmlState s = { g_string_new (NULL),
                 g_ptr_array_new_with_free_func (g_free),
                 g_ptr_array_new_with_free_func (g_free),
                 0,
                 NULL,
                 NULL };

  takes_storyboard_options_init (&options);
  options.title = "Spot <A&B>";
  takes_storyboard_export_fcpxml (f->shots, &options, out, warnings, &error);
  g_assert_no_error (error);
  assert_one_missing_warning (warnings);
  g_file_get_contents (out, &text, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text, "<xmeml version=\"5\">"));
  /* GMarkup does not take a DOCTYPE; the rest must parse. */
  {
    char *doctype = strstr (text, "<!DOCTYPE xmeml>");

    g_assert_nonnull (doctype);
    memset (doctype, ' ', strlen ("<!DOCTYPE xmeml>"));
  }
  context = g_markup_parse_context_new (&parser, 0, &s, NULL);
  g_markup_parse_context_parse (context, text, -1, &error);
  g_assert_no_error (error);
  g_markup_parse_context_end_parse (context, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (s.clipitems, ==, 2);
  g_assert_cmpstr (s.sequence_duration, ==, "32");
  g_assert_cmpstr (s.sequence_name, ==, "Spot <A&B>");
  g_assert_cmpuint (s.paths->len, ==, 2);
  for (guint i = 0; i < s.paths->len; i++)
    {
      g_autofree char *path = g_filename_from_uri (g_ptr_array_index (s.paths, i), NULL, &error);

      g_assert_no_error (error);
      g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
    }
  g_string_free (s.text, TRUE);
  g_ptr_array_unref (s.stack);
  g_ptr_array_unref (s.paths);
  g_free (s.sequence_duration);
  g_free (s.sequence_name);
}

static void
test_empty (void)
{
  g_autoptr (GPtrArray) none = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  TakesStoryboardOptions options;

  takes_storyboard_options_init (&options);
  g_assert_false (takes_storyboard_export_edl (none, &options, "/nonexistent/x.edl", NULL, &error));
  g_assert_error (error, TAKES_STORYBOARD_ERROR, TAKES_STORYBOARD_ERROR_EMPTY);
}

/* The shots, choices and trims kept in a library come back in order. */
static void
test_load_from_store (Fixture *f, gconstpointer data)
{
  g_autofree char *lib = g_build_filename (f->dir, "library", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = takes_store_open (lib, TAKES_STORE_OPEN_DEFAULT, &error);
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  g_autoptr (TakesTake) take_a = NULL;
  g_autoptr (TakesTake) take_b = NULL;
  g_autoptr (TakesShot) s1 = NULL;
  g_autoptr (TakesShot) s2 = NULL;
  g_autoptr (TakesShot) s3 = NULL;
  g_autoptr (GPtrArray) shots = NULL;
  g_autoptr (GArray) alternatives = NULL;
  TakesShotTrim trim = { G_USEC_PER_SEC / 2, 3 * G_USEC_PER_SEC / 2 };
  const TakesStoryboardShot *shot;

  g_assert_no_error (error);
  takes_recipe_set_prompt (recipe, "a fox");
  take_a = takes_take_new (recipe);
  take_b = takes_take_new (recipe);
  takes_store_add_take (store, take_a, f->a, TAKES_MEDIA_COPY, &error);
  g_assert_no_error (error);
  takes_store_add_take (store, take_b, f->b, TAKES_MEDIA_COPY, &error);
  g_assert_no_error (error);
  s1 = takes_store_create_shot (store, 0, "One", "a fox", &error);
  g_assert_no_error (error);
  s2 = takes_store_create_shot (store, 0, "Two", NULL, &error);
  g_assert_no_error (error);
  s3 = takes_store_create_shot (store, 0, "Three", NULL, &error);
  g_assert_no_error (error);

  takes_store_pick_shot_take (store, s1->id, takes_take_get_id (take_b), &error);
  g_assert_no_error (error);
  takes_store_pick_shot_take (store, s1->id, takes_take_get_id (take_a), &error);
  g_assert_no_error (error);
  takes_store_set_shot_trim (store, s1->id, &trim, &error);
  g_assert_no_error (error);
  takes_store_update_shot (store, s2->id, NULL, NULL, "pick later", G_USEC_PER_SEC, &error);
  g_assert_no_error (error);
  /* Three moves to the front: Three, One, Two. */
  takes_store_move_shot (store, s3->id, 1, &error);
  g_assert_no_error (error);

  alternatives = takes_store_list_shot_alternatives (store, s1->id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (alternatives->len, ==, 2);
  g_assert_cmpint (g_array_index (alternatives, gint64, 0), ==, takes_take_get_id (take_b));
  g_assert_cmpint (g_array_index (alternatives, gint64, 1), ==, takes_take_get_id (take_a));

  shots = takes_storyboard_load (store, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (shots->len, ==, 3);
  shot = g_ptr_array_index (shots, 0);
  g_assert_cmpstr (shot->title, ==, "Three");
  g_assert_null (shot->media_path);
  shot = g_ptr_array_index (shots, 1);
  g_assert_cmpuint (shot->number, ==, 2);
  g_assert_cmpstr (shot->title, ==, "One");
  g_assert_cmpint (shot->take_id, ==, takes_take_get_id (take_a));
  g_assert_true (g_file_test (shot->media_path, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (shot->in_point, ==, trim.in_point);
  g_assert_cmpint (shot->out_point, ==, trim.out_point);
  shot = g_ptr_array_index (shots, 2);
  g_assert_cmpint (shot->duration, ==, G_USEC_PER_SEC);

  /* Choosing another take resets the trim; removing the chosen one clears it. */
  takes_store_pick_shot_take (store, s1->id, takes_take_get_id (take_b), &error);
  g_assert_no_error (error);
  takes_store_get_shot_trim (store, s1->id, &trim, &error);
  g_assert_no_error (error);
  g_assert_cmpint (trim.in_point, ==, 0);
  takes_store_remove_shot_alternative (store, s1->id, takes_take_get_id (take_b), &error);
  g_assert_no_error (error);
  g_clear_pointer (&s1, takes_shot_free);
  s1 = takes_store_get_shot (store, s2->id - 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (s1->chosen_take_id, ==, 0);

  takes_store_delete_shot (store, s3->id, &error);
  g_assert_no_error (error);
  g_clear_pointer (&shots, g_ptr_array_unref);
  shots = takes_storyboard_load (store, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (shots->len, ==, 2);
  g_assert_cmpstr (((TakesStoryboardShot *)g_ptr_array_index (shots, 0))->title, ==, "One");
  g_assert_cmpuint (((TakesStoryboardShot *)g_ptr_array_index (shots, 0))->number, ==, 1);

  g_assert_false (takes_store_get_shot (store, 999, &error) != NULL);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/storyboard/export/empty-is-an-error", test_empty);
  g_test_add ("/storyboard/export/animatic-duration-and-frames", Fixture, NULL, fixture_set_up, test_animatic,
              fixture_tear_down);
  g_test_add ("/storyboard/export/edl-points-at-files", Fixture, NULL, fixture_set_up, test_edl,
              fixture_tear_down);
  g_test_add ("/storyboard/export/fcpxml-parses-and-points-at-files", Fixture, NULL, fixture_set_up,
              test_fcpxml, fixture_tear_down);
  g_test_add ("/storyboard/store/shots-choices-and-trims", Fixture, NULL, fixture_set_up,
              test_load_from_store, fixture_tear_down);
  return g_test_run ();
}
