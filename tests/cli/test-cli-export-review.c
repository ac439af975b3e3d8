/* test-cli-export-review.c: takes-cli contact-sheet and package end to end. */
#include "config.h"

#include <cairo.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>

#include "../core/review-test-util.h"
#include "cli-test-util.h"

typedef struct
{
  char *dir;
  char *data;
} Fixture;

static void
run_ok (Fixture *f, const char *first, ...)
{
  g_autoptr (GPtrArray) args = NULL;
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  va_list ap;

  va_start (ap, first);
  args = cli_argv_va (first, ap);
  va_end (ap);
  g_subprocess_launcher_setenv (launcher, "TAKES_DATA_DIR", f->data, TRUE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)args->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    g_error ("%s %s failed: %s", (const char *)args->pdata[1], first, err);
}

/* Three takes: 1 approved with 4 stars, 2 in Chinese, 3 whose video is
 * then deleted; take 1 beat take 2. */
static void
fixture_set_up (Fixture *f, gconstpointer user_data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *clip = NULL;
  g_autofree char *gone = NULL;

  f->dir = g_dir_make_tmp ("takes-cli-export-review-XXXXXX", &error);
  g_assert_no_error (error);
  f->data = g_build_filename (f->dir, "data", NULL);
  clip = g_build_filename (f->dir, "clip.mp4", NULL);
  review_test_make_clip (clip, 64, 48, 8, 16, 1);
  run_ok (f, "init", NULL);
  run_ok (f, "import", clip, "--prompt", "a fox, \"running\" in snow", NULL);
  run_ok (f, "import", clip, "--prompt", "雪地里的狐狸", NULL);
  run_ok (f, "import", clip, "--prompt", "lost", NULL);
  run_ok (f, "rate", "1", "4", NULL);
  run_ok (f, "decide", "1", "approve", NULL);
  run_ok (f, "decide", "3", "approve", NULL);
  run_ok (f, "vote", "1", "2", "a", NULL);
  gone = g_build_filename (f->data, "media", "default", "3.mp4", NULL);
  g_assert_cmpint (g_unlink (gone), ==, 0);
}

static void
fixture_tear_down (Fixture *f, gconstpointer user_data)
{
  review_test_rm_rf (f->dir);
  g_free (f->data);
  g_free (f->dir);
}

static void
test_contact_sheet_png_and_pdf (Fixture *f, gconstpointer user_data)
{
  g_autofree char *png = g_build_filename (f->dir, "sheet.png", NULL);
  g_autofree char *pdf = g_build_filename (f->dir, "sheet.pdf", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  cairo_surface_t *surface;
  int width, height;

  g_assert_cmpint (
      cli_run (f->data, &out, &err, "contact-sheet", "1", "2", "3", "--out", png, "--columns", "2", NULL), ==,
      0);
  g_assert_nonnull (strstr (out, "3 takes"));
  /* The missing video is named, and the sheet is still written. */
  g_assert_nonnull (strstr (err, "take 3"));
  surface = cairo_image_surface_create_from_png (png);
  g_assert_cmpint (cairo_surface_status (surface), ==, CAIRO_STATUS_SUCCESS);
  width = cairo_image_surface_get_width (surface);
  height = cairo_image_surface_get_height (surface);
  cairo_surface_destroy (surface);
  /* Two cells of 320 across, two rows of 16:9 frames with text. */
  g_assert_cmpint (width, >, 640);
  g_assert_cmpint (width, <, 960);
  g_assert_cmpint (height, >, 2 * 180);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli_run (f->data, &out, &err, "contact-sheet", "2", "1", "-o", pdf, NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  g_file_get_contents (pdf, &text, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (text, "%PDF-"));
}

static void
test_contact_sheet_usage_errors (Fixture *f, gconstpointer user_data)
{
  g_autofree char *png = g_build_filename (f->dir, "sheet.png", NULL);
  g_autofree char *gif = g_build_filename (f->dir, "sheet.gif", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (cli_run (f->data, &out, &err, "contact-sheet", "--out", png, NULL), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "contact-sheet", "1", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "--out"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "contact-sheet", "1", "x", "--out", png, NULL), ==, 2);
  g_assert_nonnull (strstr (err, "“x”"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "contact-sheet", "1", "--out", png, "--columns", "99", NULL),
                   ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "contact-sheet", "1", "--out", gif, NULL), ==, 1);
  g_assert_nonnull (strstr (err, ".png or .pdf"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "contact-sheet", "1", "9", "--out", png, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "9"));
  g_assert_false (g_file_test (png, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (gif, G_FILE_TEST_EXISTS));
}

static void
test_package (Fixture *f, gconstpointer user_data)
{
  g_autofree char *dir = g_build_filename (f->dir, "campaign", NULL);
  g_autofree char *video = g_build_filename (dir, "1-a-fox-running-in-snow.mp4", NULL);
  g_autofree char *csv_path = g_build_filename (dir, "takes.csv", NULL);
  g_autofree char *json_path = g_build_filename (dir, "takes.json", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *csv = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (cli_run (f->data, &out, &err, "package", "--out", dir, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "1-a-fox-running-in-snow.mp4\ntakes.csv\ntakes.json\n"));
  g_assert_nonnull (strstr (out, "1 approved take"));
  /* Take 3 is approved but its video is gone. */
  g_assert_nonnull (strstr (err, "take 3"));
  g_assert_nonnull (strstr (err, "missing"));
  g_assert_true (g_file_test (video, G_FILE_TEST_IS_REGULAR));
  g_file_get_contents (csv_path, &csv, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (
      g_str_has_prefix (csv, "id,file,prompt,negative,model,backend,seed,size,frames,fps,rating,batch\r\n"
                             "1,1-a-fox-running-in-snow.mp4,\"a fox, \"\"running\"\" in snow\","));
  json_parser_load_from_file (parser, json_path, &error);
  g_assert_no_error (error);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The folder now holds the package: a second run needs --overwrite. */
  g_assert_cmpint (cli_run (f->data, &out, &err, "package", "--out", dir, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "not empty"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "package", "--out", dir, "--overwrite", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli_run (f->data, &out, &err, "package", "--project", "nowhere", "--out", dir, NULL), ==,
                   1);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->data, &out, &err, "package", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "--out"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/cli/contact-sheet/png-and-pdf", Fixture, NULL, fixture_set_up, test_contact_sheet_png_and_pdf,
              fixture_tear_down);
  g_test_add ("/cli/contact-sheet/usage-errors", Fixture, NULL, fixture_set_up,
              test_contact_sheet_usage_errors, fixture_tear_down);
  g_test_add ("/cli/package/approved-takes-csv-json-overwrite", Fixture, NULL, fixture_set_up, test_package,
              fixture_tear_down);
  return g_test_run ();
}
