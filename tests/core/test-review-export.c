/* test-review-export.c: contact sheets (PNG read back with cairo, PDF pages
 * counted) and campaign packages (videos copied, CSV parsed back by an
 * RFC 4180 reader, JSON parsed, folders refused). */
#include "config.h"

#include <cairo.h>
#include <pango/pangocairo.h>
#include <stdlib.h>
#include <string.h>

#include "review-test-util.h"
#include "takes-review-export.h"
#include "takes-store-batches.h"
#include "takes-store-review.h"

#define CHINESE_PROMPT "一只红色的狐狸在雪地里奔跑，电影感，黄昏的光"

typedef struct
{
  char *dir;
  char *clip;     /* 64×48, 16 frames numbered 0–15 */
  char *portrait; /* 48×64, 16 frames */
  TakesStore *store;
  gint64 fox;     /* approved, 4 stars, beat the Chinese take, tied with the missing one */
  gint64 chinese; /* portrait video */
  gint64 missing; /* its video deleted */
} Fixture;

/* A take with its video, its video info as the queue records it. */
static gint64
add_take (Fixture *f, const char *prompt, const char *media, gint64 seed)
{
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (GError) error = NULL;

  takes_recipe_set_prompt (recipe, prompt);
  takes_recipe_set_seed (recipe, seed);
  take = takes_take_new (recipe);
  if (g_str_equal (media, f->portrait))
    takes_take_set_video_info (take, 48, 64, 16, 8.0, 2 * G_USEC_PER_SEC);
  else
    takes_take_set_video_info (take, 64, 48, 16, 8.0, 2 * G_USEC_PER_SEC);
  takes_store_add_take (f->store, take, media, TAKES_MEDIA_COPY, &error);
  g_assert_no_error (error);
  return takes_take_get_id (take);
}

static void
remove_media (Fixture *f, gint64 id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTake) take = takes_store_get_take (f->store, id, &error);
  g_autofree char *media = NULL;

  g_assert_no_error (error);
  media = takes_store_get_media_file (f->store, take);
  g_assert_cmpint (g_unlink (media), ==, 0);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *library = NULL;
  g_autoptr (TakesComparison) c1 = NULL;
  g_autoptr (TakesComparison) c2 = NULL;

  f->dir = g_dir_make_tmp ("takes-review-export-XXXXXX", &error);
  g_assert_no_error (error);
  f->clip = g_build_filename (f->dir, "clip.mp4", NULL);
  f->portrait = g_build_filename (f->dir, "portrait.mp4", NULL);
  review_test_make_clip (f->clip, 64, 48, 8, 16, 1);
  review_test_make_clip (f->portrait, 48, 64, 8, 16, 1);
  library = g_build_filename (f->dir, "library", NULL);
  f->store = takes_store_open (library, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);

  f->fox = add_take (f, "a red fox running through deep snow at dusk, cinematic, long lens", f->clip, 42);
  f->chinese = add_take (f, CHINESE_PROMPT, f->portrait, 7);
  f->missing = add_take (f, "a fox that lost its file", f->clip, 9);
  remove_media (f, f->missing);
  takes_store_set_rating (f->store, f->fox, 4, &error);
  g_assert_no_error (error);
  takes_store_set_decision (f->store, f->fox, TAKES_DECISION_APPROVED, &error);
  g_assert_no_error (error);
  c1 = takes_store_add_comparison (f->store, f->fox, f->chinese, TAKES_VERDICT_A_WINS, NULL, &error);
  g_assert_no_error (error);
  c2 = takes_store_add_comparison (f->store, f->missing, f->fox, TAKES_VERDICT_TIE, NULL, &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_assert_finalize_object (f->store);
  review_test_rm_rf (f->dir);
  g_free (f->clip);
  g_free (f->portrait);
  g_free (f->dir);
}

/* Contact sheets ------------------------------------------------------------ */

typedef struct
{
  guint8 r, g, b;
} Pixel;

static Pixel
pixel_at (cairo_surface_t *surface, int x, int y)
{
  const guint8 *data = cairo_image_surface_get_data (surface);
  guint32 v = *(const guint32 *)(data + (gsize)y * cairo_image_surface_get_stride (surface) + (gsize)x * 4);

  return (Pixel){ (guint8)(v >> 16), (guint8)(v >> 8), (guint8)v };
}

/* How many pixels of the rectangle are darker than 80 and brighter than
 * 200 (all three channels). */
static void
count_tones (cairo_surface_t *surface, int x0, int y0, int width, int height, guint *dark, guint *bright)
{
  *dark = *bright = 0;
  for (int y = y0; y < y0 + height; y++)
    for (int x = x0; x < x0 + width; x++)
      {
        Pixel p = pixel_at (surface, x, y);

        if (p.r < 80 && p.g < 80 && p.b < 80)
          (*dark)++;
        else if (p.r > 200 && p.g > 200 && p.b > 200)
          (*bright)++;
      }
}

/* The middle frame (8 of 0–15) fitted into the box with its shape kept:
 * bars of the box's dark colour beside it, and of its six stripes only the
 * fourth (bit 3) white. */
static void
assert_barcode_8 (cairo_surface_t *sheet, int x, int y, int w, int h, double aspect)
{
  double fitted = h * aspect;
  double left = x + (w - fitted) / 2;
  Pixel bar = pixel_at (sheet, x + 1, y + h / 2);

  g_assert_cmpfloat (fitted, <, w - 4);
  g_assert_cmpuint (bar.r, ==, 0x1e);
  for (int bit = 0; bit < BARCODE_BITS; bit++)
    {
      Pixel p = pixel_at (sheet, (int)(left + (2 * bit + 1) * fitted / (2 * BARCODE_BITS)), y + h / 2);

      if (bit == 3)
        g_assert_cmpuint (p.g, >, 200);
      else
        g_assert_cmpuint (p.g, <, 60);
    }
}

static cairo_surface_t *
load_png (const char *path)
{
  cairo_surface_t *surface = cairo_image_surface_create_from_png (path);

  g_assert_cmpint (cairo_surface_status (surface), ==, CAIRO_STATUS_SUCCESS);
  cairo_surface_flush (surface);
  return surface;
}

static void
test_sheet_png (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "sheet.png", NULL);
  const gint64 ids[] = { f->fox, f->chinese, f->missing };
  g_autoptr (GError) error = NULL;
  TakesContactSheetOptions options;
  cairo_surface_t *sheet;
  int width, height, x, y, w, h;
  guint dark, bright;
  Pixel grey;

  takes_contact_sheet_options_init (&options);
  options.columns = 2;
  options.cell_width = 240;
  takes_contact_sheet_write (f->store, ids, G_N_ELEMENTS (ids), path, &options, NULL, &error);
  g_assert_no_error (error);

  /* Two columns of cells, two rows, margins around. */
  takes_contact_sheet_get_size (&options, 3, &width, &height, &error);
  g_assert_no_error (error);
  g_assert_cmpint (width, >, 2 * 240);
  g_assert_cmpint (width, <, 3 * 240);
  g_assert_cmpint (height, >, 2 * 240 * 9 / 16);
  sheet = load_png (path);
  g_assert_cmpint (cairo_image_surface_get_width (sheet), ==, width);
  g_assert_cmpint (cairo_image_surface_get_height (sheet), ==, height);

  /* The fox's middle frame is the barcode of 8: a white stripe among black
   * ones, fitted across the whole 16:9 box with bars at the sides. */
  takes_contact_sheet_get_frame_box (&options, 3, 0, &x, &y, &w, &h, &error);
  g_assert_no_error (error);
  count_tones (sheet, x, y, w, h, &dark, &bright);
  g_assert_cmpuint (bright, >, (guint)(w * h) / 20);
  g_assert_cmpuint (dark, >, (guint)(w * h) / 2);
  assert_barcode_8 (sheet, x, y, w, h, 64.0 / 48.0);
  /* Its text below the frame: dark letters on the light card. */
  count_tones (sheet, x, y + h, w, h / 2, &dark, &bright);
  g_assert_cmpuint (dark, >, 50);

  /* The Chinese prompt under the portrait frame renders as glyphs. */
  takes_contact_sheet_get_frame_box (&options, 3, 1, &x, &y, &w, &h, &error);
  g_assert_no_error (error);
  assert_barcode_8 (sheet, x, y, w, h, 48.0 / 64.0);
  count_tones (sheet, x, y + h, w, h / 2, &dark, &bright);
  g_assert_cmpuint (dark, >, 50);

  /* The missing video is a grey cell, not a failure. */
  takes_contact_sheet_get_frame_box (&options, 3, 2, &x, &y, &w, &h, &error);
  g_assert_no_error (error);
  grey = pixel_at (sheet, x + 2, y + 2);
  g_assert_cmpuint (grey.r, ==, 0x9a);
  g_assert_cmpuint (grey.g, ==, 0x9a);
  g_assert_cmpuint (grey.b, ==, 0x9a);
  count_tones (sheet, x, y, w, h, &dark, &bright);
  g_assert_cmpuint (dark, >, 20); /* the words saying so */
  cairo_surface_destroy (sheet);
}

/* The fonts the sheet asks for cover Chinese, so the prompt is real glyphs
 * rather than boxes of hex digits. */
static void
test_sheet_chinese_glyphs (Fixture *f, gconstpointer data)
{
  cairo_surface_t *surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, 8, 8);
  cairo_t *cr = cairo_create (surface);
  g_autoptr (PangoLayout) layout = pango_cairo_create_layout (cr);
  g_autoptr (PangoFontDescription) font = pango_font_description_from_string ("Sans 12");
  g_autofree char *path = g_build_filename (f->dir, "chinese.png", NULL);
  g_autoptr (GError) error = NULL;

  pango_layout_set_font_description (layout, font);
  pango_layout_set_text (layout, CHINESE_PROMPT, -1);
  g_assert_cmpint (pango_layout_get_unknown_glyphs_count (layout), ==, 0);
  cairo_destroy (cr);
  cairo_surface_destroy (surface);

  takes_contact_sheet_write (f->store, &f->chinese, 1, path, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_test (path, G_FILE_TEST_IS_REGULAR));
}

/* PDF files hold binary streams, so the search does not stop at a NUL. */
static guint
count_pdf_pages (const char *text, gsize length)
{
  static const char key[] = "/Type /Page";
  gsize key_len = strlen (key);
  guint pages = 0;

  for (gsize i = 0; i + key_len < length; i++)
    if (memcmp (text + i, key, key_len) == 0 && text[i + key_len] != 's')
      pages++;
  return pages;
}

static void
test_sheet_pdf_pages (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "sheet.PDF", NULL);
  const gint64 ids[] = { f->fox, f->chinese, f->missing, f->fox, f->chinese };
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  gsize length = 0;
  TakesContactSheetOptions options;

  /* Two takes a page: five takes make three pages. */
  takes_contact_sheet_options_init (&options);
  options.columns = 2;
  options.rows_per_page = 1;
  takes_contact_sheet_write (f->store, ids, G_N_ELEMENTS (ids), path, &options, NULL, &error);
  g_assert_no_error (error);
  g_file_get_contents (path, &text, &length, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (text, "%PDF-"));
  g_assert_cmpuint (count_pdf_pages (text, length), ==, 3);
  g_clear_pointer (&text, g_free);

  options.rows_per_page = 3;
  takes_contact_sheet_write (f->store, ids, G_N_ELEMENTS (ids), path, &options, NULL, &error);
  g_assert_no_error (error);
  g_file_get_contents (path, &text, &length, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (count_pdf_pages (text, length), ==, 1);
}

static void
assert_nothing_written (Fixture *f, const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  /* No temporary file left either. */
  while ((name = g_dir_read_name (dir)) != NULL)
    g_assert_true (g_str_equal (name, "clip.mp4") || g_str_equal (name, "portrait.mp4")
                   || g_str_equal (name, "library"));
}

static void
test_sheet_refuses_bad_requests (Fixture *f, gconstpointer data)
{
  g_autofree char *jpg = g_build_filename (f->dir, "sheet.jpg", NULL);
  g_autofree char *png = g_build_filename (f->dir, "sheet.png", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gint64 *many = g_new (gint64, 40);
  const gint64 unknown[] = { f->fox, 999 };
  TakesContactSheetOptions options;

  takes_contact_sheet_write (f->store, &f->fox, 1, jpg, NULL, NULL, &error);
  g_assert_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "sheet.jpg"));
  g_clear_error (&error);

  takes_contact_sheet_write (f->store, unknown, 2, png, NULL, NULL, &error);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  takes_contact_sheet_write (f->store, NULL, 0, png, NULL, NULL, &error);
  g_assert_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_INVALID);
  g_clear_error (&error);

  takes_contact_sheet_options_init (&options);
  options.columns = TAKES_CONTACT_SHEET_MAX_COLUMNS + 1;
  takes_contact_sheet_write (f->store, &f->fox, 1, png, &options, NULL, &error);
  g_assert_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_INVALID);
  g_clear_error (&error);

  /* Forty wide cells in one column are taller than a PNG may be. */
  for (guint i = 0; i < 40; i++)
    many[i] = f->missing;
  takes_contact_sheet_options_init (&options);
  options.columns = 1;
  options.cell_width = TAKES_CONTACT_SHEET_MAX_CELL_WIDTH;
  takes_contact_sheet_write (f->store, many, 40, png, &options, NULL, &error);
  g_assert_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "PDF"));
  g_clear_error (&error);

  g_cancellable_cancel (cancellable);
  takes_contact_sheet_write (f->store, &f->fox, 1, png, NULL, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  assert_nothing_written (f, jpg);
  assert_nothing_written (f, png);
}

static void
test_sheet_unwritable (Fixture *f, gconstpointer data)
{
  g_autofree char *path = g_build_filename (f->dir, "no-such-folder", "sheet.png", NULL);
  g_autoptr (GError) error = NULL;

  takes_contact_sheet_write (f->store, &f->fox, 1, path, NULL, NULL, &error);
  g_assert_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_WRITE);
  g_assert_nonnull (strstr (error->message, "sheet.png"));
}

/* Campaign packages --------------------------------------------------------- */

/* An RFC 4180 reader: rows of fields, quoted fields with doubled quotes and
 * line breaks, CRLF between records. */
static GPtrArray *
parse_csv (const char *text)
{
  GPtrArray *rows = g_ptr_array_new_with_free_func ((GDestroyNotify)g_ptr_array_unref);
  GPtrArray *row = g_ptr_array_new_with_free_func (g_free);
  GString *field = g_string_new (NULL);
  const char *p = text;

  while (*p != '\0')
    {
      if (*p == '"')
        {
          for (p++;; p++)
            {
              g_assert_cmpint (*p, !=, '\0');
              if (*p == '"' && p[1] == '"')
                {
                  g_string_append_c (field, '"');
                  p++;
                }
              else if (*p == '"')
                {
                  p++;
                  break;
                }
              else
                g_string_append_c (field, *p);
            }
        }
      else
        while (*p != ',' && *p != '\r' && *p != '\0')
          {
            g_assert_cmpint (*p, !=, '"');
            g_assert_cmpint (*p, !=, '\n');
            g_string_append_c (field, *p++);
          }
      g_ptr_array_add (row, g_strdup (field->str));
      g_string_truncate (field, 0);
      if (*p == ',')
        p++;
      else
        {
          g_assert_true (g_str_has_prefix (p, "\r\n"));
          p += 2;
          g_ptr_array_add (rows, row);
          row = g_ptr_array_new_with_free_func (g_free);
        }
    }
  g_assert_cmpuint (row->len, ==, 0);
  g_ptr_array_unref (row);
  g_string_free (field, TRUE);
  return rows;
}

static const char *
csv_get (GPtrArray *rows, guint row, const char *column)
{
  GPtrArray *head = g_ptr_array_index (rows, 0);
  GPtrArray *values = g_ptr_array_index (rows, row);

  g_assert_cmpuint (values->len, ==, head->len);
  for (guint i = 0; i < head->len; i++)
    if (g_str_equal (g_ptr_array_index (head, i), column))
      return g_ptr_array_index (values, i);
  g_error ("no column %s", column);
}

static void
assert_same_file (const char *a, const char *b)
{
  g_autofree char *da = NULL;
  g_autofree char *db = NULL;
  gsize la = 0, lb = 0;
  g_autoptr (GError) error = NULL;

  g_file_get_contents (a, &da, &la, &error);
  g_assert_no_error (error);
  g_file_get_contents (b, &db, &lb, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (da, la, db, lb);
}

static const char batch_plan[] = "{\"name\": \"spring\", \"template\": \"A {product} ad in {city}\","
                                 " \"variables\": {\"product\": [\"tea, green\", \"coffee \\\"dark\\\"\"],"
                                 " \"city\": [\"Paris\"]}, \"seed\": 5}";

/* Two batch takes (variables with a comma and quotes), a prompt with a line
 * break; approved ones copied, a rejected one and one without video left
 * out, the missing file listed as skipped. */
static void
test_package_writes_videos_csv_json (Fixture *f, gconstpointer data)
{
  g_autofree char *out = g_build_filename (f->dir, "campaign", "spring", NULL);
  g_autoptr (TakesBatchPlan) plan = takes_batch_plan_new_from_data (batch_plan, -1, 0, NULL);
  g_autoptr (GPtrArray) batch_takes = NULL;
  g_autoptr (TakesBatchInfo) info = NULL;
  g_autoptr (TakesCampaignPackage) package = NULL;
  g_autoptr (GPtrArray) rows = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *csv = NULL;
  g_autofree char *json_path = g_build_filename (out, "takes.json", NULL);
  g_autofree char *csv_path = g_build_filename (out, "takes.csv", NULL);
  const char *quoted = "line one\nshe said \"hi\", then left";
  gint64 quote_take, rejected, batch_a, batch_b;
  JsonObject *root;
  JsonArray *takes, *skipped;

  g_assert_nonnull (plan);
  info = takes_store_add_batch (f->store, 0, plan, NULL, NULL, NULL, NULL, &batch_takes, &error);
  g_assert_no_error (error);
  batch_a = takes_take_get_id (g_ptr_array_index (batch_takes, 0));
  batch_b = takes_take_get_id (g_ptr_array_index (batch_takes, 1));
  takes_store_attach_media (f->store, batch_a, f->clip, TAKES_MEDIA_COPY, &error);
  g_assert_no_error (error);
  takes_store_attach_media (f->store, batch_b, f->portrait, TAKES_MEDIA_COPY, &error);
  g_assert_no_error (error);
  quote_take = add_take (f, quoted, f->clip, 11);
  rejected = add_take (f, "not this one", f->clip, 12);
  takes_store_set_decision (f->store, rejected, TAKES_DECISION_REJECTED, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 4; i++)
    {
      const gint64 approve[] = { batch_a, batch_b, quote_take, f->missing };

      takes_store_set_decision (f->store, approve[i], TAKES_DECISION_APPROVED, &error);
      g_assert_no_error (error);
    }

  package = takes_campaign_package_write (f->store, 0, out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (package);
  /* fox, missing, batch a, batch b, quoted: oldest first, missing skipped. */
  g_assert_cmpuint (package->n_videos, ==, 4);
  g_assert_cmpuint (package->files->len, ==, 6);
  g_assert_cmpuint (package->skipped->len, ==, 1);
  g_assert_cmpint (((TakesCampaignSkip *)g_ptr_array_index (package->skipped, 0))->take_id, ==, f->missing);
  g_assert_nonnull (
      strstr (((TakesCampaignSkip *)g_ptr_array_index (package->skipped, 0))->reason, "missing"));

  g_file_get_contents (csv_path, &csv, NULL, &error);
  g_assert_no_error (error);
  rows = parse_csv (csv);
  g_assert_cmpuint (rows->len, ==, 5);
  {
    GPtrArray *head = g_ptr_array_index (rows, 0);
    const char *const expected[] = { "id",   "file",   "prompt", "negative", "model", "backend", "seed",
                                     "size", "frames", "fps",    "rating",   "batch", "product", "city" };

    g_assert_cmpuint (head->len, ==, G_N_ELEMENTS (expected));
    for (guint i = 0; i < G_N_ELEMENTS (expected); i++)
      g_assert_cmpstr (g_ptr_array_index (head, i), ==, expected[i]);
  }
  for (guint r = 1; r < rows->len; r++)
    {
      g_autofree char *video = g_build_filename (out, csv_get (rows, r, "file"), NULL);
      gint64 id = g_ascii_strtoll (csv_get (rows, r, "id"), NULL, 10);
      g_autoptr (TakesTake) take = takes_store_get_take (f->store, id, &error);
      g_autofree char *media = NULL;
      g_autofree char *expected_name = NULL;

      g_assert_no_error (error);
      media = takes_store_get_media_file (f->store, take);
      expected_name = takes_campaign_package_file_name (
          id, takes_recipe_get_prompt (takes_take_get_recipe (take)), "mp4");
      g_assert_cmpstr (csv_get (rows, r, "file"), ==, expected_name);
      assert_same_file (video, media);
      g_assert_cmpstr (csv_get (rows, r, "prompt"), ==,
                       takes_recipe_get_prompt (takes_take_get_recipe (take)));
    }
  g_assert_cmpstr (csv_get (rows, 1, "id"), ==, "1");
  g_assert_cmpstr (csv_get (rows, 1, "size"), ==, "64x48");
  g_assert_cmpstr (csv_get (rows, 1, "frames"), ==, "16");
  g_assert_cmpstr (csv_get (rows, 1, "fps"), ==, "8");
  g_assert_cmpstr (csv_get (rows, 1, "seed"), ==, "42");
  g_assert_cmpstr (csv_get (rows, 1, "rating"), ==, "4");
  g_assert_cmpstr (csv_get (rows, 1, "batch"), ==, "");
  g_assert_cmpstr (csv_get (rows, 1, "product"), ==, "");
  g_assert_cmpstr (csv_get (rows, 2, "product"), ==, "tea, green");
  g_assert_cmpstr (csv_get (rows, 2, "prompt"), ==, "A tea, green ad in Paris");
  g_assert_cmpstr (csv_get (rows, 3, "product"), ==, "coffee \"dark\"");
  g_assert_cmpstr (csv_get (rows, 3, "city"), ==, "Paris");
  /* No video info recorded: the recipe's size. */
  g_assert_cmpstr (csv_get (rows, 3, "size"), ==, "832x480");
  g_assert_cmpstr (csv_get (rows, 4, "prompt"), ==, quoted);
  g_assert_nonnull (strstr (csv, "\"line one\nshe said \"\"hi\"\", then left\""));
  {
    g_autofree char *batch = g_strdup_printf ("%" G_GINT64_FORMAT, info->id);

    g_assert_cmpstr (csv_get (rows, 2, "batch"), ==, batch);
  }

  json_parser_load_from_file (parser, json_path, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (root, "format"), ==, "takes-campaign-package");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (root, "project"), "id"), ==,
                   takes_store_get_default_project (f->store));
  takes = json_object_get_array_member (root, "takes");
  g_assert_cmpuint (json_array_get_length (takes), ==, 4);
  for (guint i = 0; i < 4; i++)
    {
      JsonObject *take = json_array_get_object_element (takes, i);
      JsonObject *recipe = json_object_get_object_member (take, "recipe");
      GPtrArray *row = g_ptr_array_index (rows, i + 1);

      g_assert_cmpstr (json_object_get_string_member (take, "file"), ==, g_ptr_array_index (row, 1));
      g_assert_cmpstr (json_object_get_string_member (recipe, "prompt"), ==, g_ptr_array_index (row, 2));
      g_assert_true (json_object_has_member (recipe, "seed"));
    }
  {
    JsonObject *batch_take = json_array_get_object_element (takes, 2);

    g_assert_cmpstr (
        json_object_get_string_member (json_object_get_object_member (batch_take, "variables"), "product"),
        ==, "coffee \"dark\"");
    g_assert_cmpstr (json_object_get_string_member (batch_take, "batch_name"), ==, "spring");
  }
  skipped = json_object_get_array_member (root, "skipped");
  g_assert_cmpuint (json_array_get_length (skipped), ==, 1);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (skipped, 0), "id"), ==,
                   f->missing);
}

static void
test_package_refuses_non_empty_folder (Fixture *f, gconstpointer data)
{
  g_autofree char *out = g_build_filename (f->dir, "out", NULL);
  g_autofree char *keep = g_build_filename (out, "brief.txt", NULL);
  g_autofree char *csv = g_build_filename (out, "takes.csv", NULL);
  g_autoptr (TakesCampaignPackage) package = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *kept = NULL;
  TakesCampaignPackageOptions options;

  g_assert_cmpint (g_mkdir (out, 0700), ==, 0);
  g_file_set_contents (keep, "the client's brief", -1, &error);
  g_assert_no_error (error);

  package = takes_campaign_package_write (f->store, 0, out, NULL, NULL, &error);
  g_assert_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_NOT_EMPTY);
  g_assert_null (package);
  g_assert_false (g_file_test (csv, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  takes_campaign_package_options_init (&options);
  options.overwrite = TRUE;
  package = takes_campaign_package_write (f->store, 0, out, &options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (package->n_videos, ==, 1);
  g_assert_true (g_file_test (csv, G_FILE_TEST_IS_REGULAR));
  g_file_get_contents (keep, &kept, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kept, ==, "the client's brief");

  /* A file where the folder should be. */
  g_clear_pointer (&package, takes_campaign_package_free);
  package = takes_campaign_package_write (f->store, 0, keep, &options, NULL, &error);
  g_assert_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_NOT_EMPTY);
}

static void
test_package_nothing_approved (Fixture *f, gconstpointer data)
{
  g_autofree char *out = g_build_filename (f->dir, "out", NULL);
  g_autoptr (TakesCampaignPackage) package = NULL;
  g_autoptr (GError) error = NULL;

  takes_store_set_decision (f->store, f->fox, TAKES_DECISION_NONE, &error);
  g_assert_no_error (error);
  package = takes_campaign_package_write (f->store, 0, out, NULL, NULL, &error);
  g_assert_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_NOTHING_APPROVED);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  package = takes_campaign_package_write (f->store, 77, out, NULL, NULL, &error);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
}

/* A cancelled package takes back the folder it made. */
static void
test_package_cancelled_leaves_nothing (Fixture *f, gconstpointer data)
{
  g_autofree char *out = g_build_filename (f->dir, "out", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (TakesCampaignPackage) package = NULL;
  g_autoptr (GError) error = NULL;

  g_cancellable_cancel (cancellable);
  package = takes_campaign_package_write (f->store, 0, out, NULL, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

static void
test_package_file_names (void)
{
  const struct
  {
    const char *prompt, *extension, *expected;
  } cases[] = {
    { "A Fox, in the SNOW!", "mp4", "7-a-fox-in-the-snow.mp4" },
    { "  --Café crème--  ", "MP4", "7-café-crème.mp4" },
    { "一只狐狸。在雪地里", "webm", "7-一只狐狸-在雪地里.webm" },
    { "!!! ???", "mp4", "7.mp4" },
    { NULL, NULL, "7.mp4" },
    { "../../etc/passwd", "m/p4", "7-etc-passwd.mp4" },
    { "one two three four five six seven eight nine ten eleven", "mp4",
      "7-one-two-three-four-five-six-seven-eight-nine-ten.mp4" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *name = takes_campaign_package_file_name (7, cases[i].prompt, cases[i].extension);

      g_assert_cmpstr (name, ==, cases[i].expected);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/review-export/sheet/png-size-frames-text-and-grey-missing-cell", test_sheet_png);
  ADD ("/review-export/sheet/chinese-prompt-renders-glyphs", test_sheet_chinese_glyphs);
  ADD ("/review-export/sheet/pdf-one-page-per-columns-times-rows", test_sheet_pdf_pages);
  ADD ("/review-export/sheet/bad-requests-write-nothing", test_sheet_refuses_bad_requests);
  ADD ("/review-export/sheet/unwritable-folder-is-a-write-error", test_sheet_unwritable);
  ADD ("/review-export/package/videos-csv-json-and-skipped", test_package_writes_videos_csv_json);
  ADD ("/review-export/package/refuses-non-empty-folder", test_package_refuses_non_empty_folder);
  ADD ("/review-export/package/nothing-approved", test_package_nothing_approved);
  ADD ("/review-export/package/cancelled-leaves-nothing", test_package_cancelled_leaves_nothing);
#undef ADD
  g_test_add_func ("/review-export/package/file-names", test_package_file_names);
  return g_test_run ();
}
