/* test-cli-review.c: takes-cli compare, vote, rank and storyboard end to end. */
#include "config.h"

#include <glib/gstdio.h>
#include <stdlib.h>

#include "../core/review-test-util.h"
#include "cli-test-util.h"

typedef struct
{
  char *dir;
  char *data;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  f->dir = g_dir_make_tmp ("takes-cli-review-XXXXXX", &error);
  g_assert_no_error (error);
  f->data = g_build_filename (f->dir, "data", NULL);
  a = g_build_filename (f->dir, "a.mp4", NULL);
  b = g_build_filename (f->dir, "b.mp4", NULL);
  review_test_make_clip (a, 64, 48, 8, 16, 1);
  review_test_make_clip (b, 96, 72, 16, 32, 2);
  g_assert_cmpint (cli_run (f->data, &out, &err, "init", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "import", a, "--prompt", "a fox in snow", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "import", b, "--prompt", "a fox in rain", NULL), ==, 0);
}

static void
fixture_tear_down (Fixture *f, gconstpointer user_data)
{
  review_test_rm_rf (f->dir);
  g_free (f->data);
  g_free (f->dir);
}

static void
test_compare_render (Fixture *f, gconstpointer user_data)
{
  g_autofree char *render = g_build_filename (f->dir, "ab.mp4", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (
      cli_run (f->data, &out, &err, "compare", "1", "2", "--mode", "sbs", "--render", render, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "prompt: \"a fox in snow\" → \"a fox in rain\""));
  g_assert_nonnull (strstr (out, "retimed"));
  info = takes_media_probe (render, &error);
  g_assert_no_error (error);
  g_assert_cmpint (info->width, ==, 192);
  g_assert_cmpuint (info->n_frames, ==, 32);
  review_test_discover (render);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli_run (f->data, &out, &err, "compare", "1", "2", "--mode", "blend", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "blend"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "compare", "1", "7", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "no take 7"));
}

static void
test_vote_and_rank (Fixture *f, gconstpointer user_data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (cli_run (f->data, &out, &err, "vote", "1", "2", "b", "--note", "less noise", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "take 2 wins over take 1"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "vote", "1", "2", "maybe", NULL), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "vote", "1", "1", "a", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "itself"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "rank", "42", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "no batch 42"));
}

static void
test_storyboard (Fixture *f, gconstpointer user_data)
{
  g_autofree char *mp4 = g_build_filename (f->dir, "animatic.mp4", NULL);
  g_autofree char *edl = g_build_filename (f->dir, "cut.edl", NULL);
  g_autofree char *xml = g_build_filename (f->dir, "cut.xml", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *text = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (cli_run (f->data, &out, &err, "storyboard", "add-shot", "Opening", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "storyboard", "add-shot", "Unshot", "--duration", "1", NULL),
                   ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (
      cli_run (f->data, &out, &err, "storyboard", "pick", "1", "1", "--in", "0.5", "--out", "1.5", NULL), ==,
      0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "storyboard", "list", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Opening"));
  g_assert_nonnull (strstr (out, "Unshot"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli_run (f->data, &out, &err, "storyboard", "export", "--mp4", mp4, "--edl", edl,
                            "--fcpxml", xml, NULL),
                   ==, 0);
  /* The shot without a take is a warning; the export still succeeds. */
  g_assert_nonnull (strstr (err, "Shot 2"));
  info = takes_media_probe (mp4, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->n_frames, ==, 16);
  g_file_get_contents (edl, &text, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (text, "001  AX"));
  g_assert_nonnull (strstr (text, "002  BL"));
  g_assert_true (g_file_test (xml, G_FILE_TEST_IS_REGULAR));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "storyboard", "export", NULL), ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/cli/review/compare-render", Fixture, NULL, fixture_set_up, test_compare_render,
              fixture_tear_down);
  g_test_add ("/cli/review/vote-and-rank", Fixture, NULL, fixture_set_up, test_vote_and_rank,
              fixture_tear_down);
  g_test_add ("/cli/review/storyboard", Fixture, NULL, fixture_set_up, test_storyboard, fixture_tear_down);
  return g_test_run ();
}
