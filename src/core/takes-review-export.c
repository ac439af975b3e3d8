/* takes-review-export.c: the contact sheet (cairo, text by pangocairo so
 * every script the fonts cover renders) and the campaign package.
 *
 * Middle frames come from takes_media_write_thumbnail() as small PNGs in a
 * scratch folder, so GStreamer stays in the media files and only one frame
 * is held at a time. Outputs are built in memory and written with
 * g_file_set_contents_full(), which writes a temporary file, syncs it and
 * renames it into place.
 */
#include "config.h"

#define G_LOG_DOMAIN "takes-review-export"

#include <cairo-pdf.h>
#include <cairo.h>
#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <math.h>
#include <pango/pangocairo.h>
#include <string.h>

#include "takes-media.h"
#include "takes-review-export.h"
#include "takes-store-batches.h"
#include "takes-store-review.h"

G_DEFINE_QUARK (takes - review - export - error - quark, takes_review_export_error)

#define MAX_ROWS_PER_PAGE 20
#define SLUG_MAX_CHARS 48

/* The sides of A4, in PDF points. */
#define PAGE_LONG 842.0
#define PAGE_SHORT 595.0

static gboolean
set_write_error (GError **error, const char *path, const char *reason)
{
  g_autofree char *name = g_filename_display_name (path);

  g_set_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_WRITE,
               _ ("Could not write “%s”: %s. Check that the disk has free space and that the folder is "
                  "writable."),
               name, reason);
  return FALSE;
}

static gboolean
write_file (const char *path, const char *data, gsize length, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (!g_file_set_contents_full (path, data, (gssize)length, G_FILE_SET_CONTENTS_CONSISTENT, 0666,
                                 &local_error))
    return set_write_error (error, path, local_error->message);
  return TRUE;
}

/* Contact sheets ------------------------------------------------------------ */

void
takes_contact_sheet_options_init (TakesContactSheetOptions *options)
{
  *options = (TakesContactSheetOptions){ .columns = 4, .rows_per_page = 3, .cell_width = 320 };
}

/* Every length of the sheet follows from the cell width, so a wider cell is
 * the same sheet at a larger scale. */
typedef struct
{
  int cell_w, cell_h;
  int margin, gap, pad;
  int image_h;
  int line_h;
  int title_h;
  double font, title_font;
} SheetLayout;

/* One line for the number, rating and decision, three for the prompt, one
 * for seed and model, one for the verdicts. */
#define TEXT_LINES 6
#define PROMPT_LINES 3

static void
sheet_layout_init (SheetLayout *l, int cell_width)
{
  l->cell_w = cell_width;
  l->margin = cell_width / 10;
  l->gap = cell_width / 20;
  l->pad = cell_width / 32;
  l->image_h = (int)lround (cell_width * 9.0 / 16.0);
  l->font = cell_width / 26.0;
  l->line_h = (int)ceil (l->font * 1.5);
  l->title_font = cell_width / 16.0;
  l->title_h = (int)ceil (l->title_font * 1.6) + l->margin / 2;
  l->cell_h = l->image_h + 2 * l->pad + TEXT_LINES * l->line_h;
}

static void
sheet_layout_size (const SheetLayout *l, guint columns, guint rows, int *width, int *height)
{
  *width = 2 * l->margin + (int)columns * l->cell_w + ((int)columns - 1) * l->gap;
  *height = 2 * l->margin + l->title_h + (int)rows * l->cell_h + ((int)rows - 1) * l->gap;
}

/* The top left corner of cell i (0-based) of a grid below the title. */
static void
cell_origin (const SheetLayout *l, guint i, guint columns, int *x, int *y)
{
  *x = l->margin + (int)(i % columns) * (l->cell_w + l->gap);
  *y = l->margin + l->title_h + (int)(i / columns) * (l->cell_h + l->gap);
}

static gboolean
check_options (const TakesContactSheetOptions *options, GError **error)
{
  if (options->columns < 1 || options->columns > TAKES_CONTACT_SHEET_MAX_COLUMNS)
    {
      g_set_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_INVALID,
                   _ ("A contact sheet of %u columns cannot be made. Choose 1 to %d columns."),
                   options->columns, TAKES_CONTACT_SHEET_MAX_COLUMNS);
      return FALSE;
    }
  if (options->rows_per_page < 1 || options->rows_per_page > MAX_ROWS_PER_PAGE)
    {
      g_set_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_INVALID,
                   _ ("A contact sheet page of %u rows cannot be made. Choose 1 to %d rows."),
                   options->rows_per_page, MAX_ROWS_PER_PAGE);
      return FALSE;
    }
  if (options->cell_width < TAKES_CONTACT_SHEET_MIN_CELL_WIDTH
      || options->cell_width > TAKES_CONTACT_SHEET_MAX_CELL_WIDTH)
    {
      g_set_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_INVALID,
                   _ ("Contact sheet cells of %d pixels cannot be made. Choose a width from %d to %d."),
                   options->cell_width, TAKES_CONTACT_SHEET_MIN_CELL_WIDTH,
                   TAKES_CONTACT_SHEET_MAX_CELL_WIDTH);
      return FALSE;
    }
  return TRUE;
}

gboolean
takes_contact_sheet_get_size (
    const TakesContactSheetOptions *options, guint n_takes, int *width, int *height, GError **error)
{
  SheetLayout l;
  guint columns;

  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail (width != NULL && height != NULL, FALSE);

  if (!check_options (options, error))
    return FALSE;
  if (n_takes == 0)
    {
      g_set_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_INVALID,
                   _ ("A contact sheet needs at least one take. Choose the takes to show."));
      return FALSE;
    }
  sheet_layout_init (&l, options->cell_width);
  columns = MIN (options->columns, n_takes);
  sheet_layout_size (&l, columns, (n_takes + columns - 1) / columns, width, height);
  return TRUE;
}

gboolean
takes_contact_sheet_get_frame_box (const TakesContactSheetOptions *options,
                                   guint n_takes,
                                   guint index,
                                   int *x,
                                   int *y,
                                   int *width,
                                   int *height,
                                   GError **error)
{
  SheetLayout l;
  int sheet_w, sheet_h;
  guint columns;

  g_return_val_if_fail (x != NULL && y != NULL && width != NULL && height != NULL, FALSE);

  if (!takes_contact_sheet_get_size (options, n_takes, &sheet_w, &sheet_h, error))
    return FALSE;
  if (index >= n_takes)
    {
      g_set_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_INVALID,
                   _ ("A contact sheet of %u takes has no take %u."), n_takes, index + 1);
      return FALSE;
    }
  sheet_layout_init (&l, options->cell_width);
  columns = MIN (options->columns, n_takes);
  cell_origin (&l, index, columns, x, y);
  *width = l.cell_w;
  *height = l.image_h;
  return TRUE;
}

typedef struct
{
  TakesTake *take;
  char *media; /* absolute path, or NULL when the take has none */
  guint wins, losses, ties;
} SheetCell;

static void
sheet_cell_clear (SheetCell *cell)
{
  g_clear_object (&cell->take);
  g_clear_pointer (&cell->media, g_free);
}

typedef struct
{
  SheetLayout layout;
  GArray *cells; /* SheetCell */
  char *title;
  char *scratch_dir; /* for the middle frames */
  int frame_size;    /* the longest side asked of a middle frame */
} Sheet;

static void
sheet_clear (Sheet *sheet)
{
  g_clear_pointer (&sheet->cells, g_array_unref);
  g_clear_pointer (&sheet->title, g_free);
  if (sheet->scratch_dir != NULL)
    {
      g_autofree char *frame = g_build_filename (sheet->scratch_dir, "frame.png", NULL);

      g_unlink (frame);
      g_rmdir (sheet->scratch_dir);
      g_clear_pointer (&sheet->scratch_dir, g_free);
    }
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Sheet, sheet_clear)

static char *
project_names (TakesStore *store, GArray *cells, GError **error)
{
  g_autoptr (GPtrArray) projects = takes_store_list_projects (store, error);
  g_autoptr (GString) names = g_string_new (NULL);

  if (projects == NULL)
    return NULL;
  /* Named in the order of the projects list, each once. */
  for (guint p = 0; p < projects->len; p++)
    {
      const TakesProject *project = g_ptr_array_index (projects, p);

      for (guint i = 0; i < cells->len; i++)
        if (takes_take_get_project_id (g_array_index (cells, SheetCell, i).take) == project->id)
          {
            if (names->len > 0)
              g_string_append (names, ", ");
            g_string_append (names, project->name);
            break;
          }
    }
  return g_string_free (g_steal_pointer (&names), FALSE);
}

static gboolean
sheet_load (Sheet *sheet,
            TakesStore *store,
            const gint64 *take_ids,
            guint n_takes,
            const TakesContactSheetOptions *options,
            GError **error)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *date = g_date_time_format (now, "%Y-%m-%d");
  g_autofree char *count = g_strdup_printf (ngettext ("%u take", "%u takes", n_takes), n_takes);
  g_autofree char *names = NULL;

  sheet->cells = g_array_sized_new (FALSE, TRUE, sizeof (SheetCell), n_takes);
  g_array_set_clear_func (sheet->cells, (GDestroyNotify)sheet_cell_clear);
  for (guint i = 0; i < n_takes; i++)
    {
      SheetCell cell = { 0 };
      g_autoptr (GPtrArray) comparisons = NULL;

      cell.take = takes_store_get_take (store, take_ids[i], error);
      if (cell.take == NULL)
        return FALSE;
      cell.media = takes_store_get_media_file (store, cell.take);
      g_array_append_val (sheet->cells, cell);
      comparisons = takes_store_list_comparisons (store, take_ids[i], error);
      if (comparisons == NULL)
        return FALSE;
      for (guint c = 0; c < comparisons->len; c++)
        {
          const TakesComparison *comparison = g_ptr_array_index (comparisons, c);
          SheetCell *stored = &g_array_index (sheet->cells, SheetCell, i);

          if (comparison->winner_id == 0)
            stored->ties++;
          else if (comparison->winner_id == take_ids[i])
            stored->wins++;
          else
            stored->losses++;
        }
    }
  if (options->title != NULL)
    names = g_strdup (options->title);
  else if ((names = project_names (store, sheet->cells, error)) == NULL)
    return FALSE;
  /* TRANSLATORS: the title line of a contact sheet: project names, date, "12 takes" */
  sheet->title = g_strdup_printf (_ ("%s · %s · %s"), names, date, count);
  return TRUE;
}

static PangoLayout *
text_layout (cairo_t *cr, const char *text, double size, gboolean bold, int width)
{
  PangoLayout *layout = pango_cairo_create_layout (cr);
  g_autoptr (PangoFontDescription) font = pango_font_description_from_string ("Sans");

  pango_font_description_set_absolute_size (font, size * PANGO_SCALE);
  if (bold)
    pango_font_description_set_weight (font, PANGO_WEIGHT_BOLD);
  pango_layout_set_font_description (layout, font);
  pango_layout_set_width (layout, width * PANGO_SCALE);
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  /* One line unless the caller allows more. */
  pango_layout_set_height (layout, -1);
  pango_layout_set_text (layout, text, -1);
  return layout;
}

static void
show_text (cairo_t *cr, PangoLayout *layout, double x, double y)
{
  cairo_move_to (cr, x, y);
  pango_cairo_show_layout (cr, layout);
}

static void
set_rgb (cairo_t *cr, guint32 rgb)
{
  cairo_set_source_rgb (cr, ((rgb >> 16) & 0xff) / 255.0, ((rgb >> 8) & 0xff) / 255.0, (rgb & 0xff) / 255.0);
}

#define COLOR_PAGE 0xffffff
#define COLOR_CARD 0xf2f2f2
#define COLOR_LETTERBOX 0x1e1e1e
#define COLOR_MISSING 0x9a9a9a
#define COLOR_TEXT 0x1e1e1e
#define COLOR_DIM 0x5e5e5e
#define COLOR_APPROVED 0x26802f
#define COLOR_REJECTED 0xb3261e
#define COLOR_STARS 0xb07800

/* The middle frame as a cairo surface, or NULL with the reason the cell
 * shows instead. */
static cairo_surface_t *
load_middle_frame (Sheet *sheet, const SheetCell *cell, char **reason)
{
  g_autofree char *png = NULL;
  g_autoptr (GError) local_error = NULL;
  cairo_surface_t *surface;

  if (cell->media == NULL)
    {
      *reason = g_strdup (_ ("This take has no video yet."));
      return NULL;
    }
  if (!g_file_test (cell->media, G_FILE_TEST_IS_REGULAR))
    {
      *reason = g_strdup (_ ("The video file is missing."));
      return NULL;
    }
  png = g_build_filename (sheet->scratch_dir, "frame.png", NULL);
  if (!takes_media_write_thumbnail (cell->media, png, sheet->frame_size, &local_error))
    {
      g_debug ("No middle frame of %s: %s", cell->media, local_error->message);
      *reason = g_strdup (_ ("The video could not be read."));
      return NULL;
    }
  surface = cairo_image_surface_create_from_png (png);
  g_unlink (png);
  if (cairo_surface_status (surface) != CAIRO_STATUS_SUCCESS)
    {
      cairo_surface_destroy (surface);
      *reason = g_strdup (_ ("The video could not be read."));
      return NULL;
    }
  return surface;
}

static void
draw_frame (cairo_t *cr, const SheetLayout *l, cairo_surface_t *frame)
{
  int fw = cairo_image_surface_get_width (frame), fh = cairo_image_surface_get_height (frame);
  double scale = MIN ((double)l->cell_w / fw, (double)l->image_h / fh);

  set_rgb (cr, COLOR_LETTERBOX);
  cairo_rectangle (cr, 0, 0, l->cell_w, l->image_h);
  cairo_fill (cr);
  cairo_save (cr);
  cairo_translate (cr, (l->cell_w - fw * scale) / 2, (l->image_h - fh * scale) / 2);
  cairo_scale (cr, scale, scale);
  cairo_rectangle (cr, 0, 0, fw, fh);
  cairo_clip (cr);
  cairo_set_source_surface (cr, frame, 0, 0);
  /* Padding keeps the filter from blending the frame's edges with the bars. */
  cairo_pattern_set_extend (cairo_get_source (cr), CAIRO_EXTEND_PAD);
  cairo_pattern_set_filter (cairo_get_source (cr), CAIRO_FILTER_GOOD);
  cairo_paint (cr);
  cairo_restore (cr);
}

static void
draw_missing (cairo_t *cr, const SheetLayout *l, const char *reason)
{
  g_autoptr (PangoLayout) layout = NULL;
  int text_w, text_h;

  set_rgb (cr, COLOR_MISSING);
  cairo_rectangle (cr, 0, 0, l->cell_w, l->image_h);
  cairo_fill (cr);
  layout = text_layout (cr, reason, l->font * 1.1, TRUE, l->cell_w - 4 * l->pad);
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  pango_layout_set_height (layout, -3);
  pango_layout_get_pixel_size (layout, &text_w, &text_h);
  set_rgb (cr, COLOR_TEXT);
  show_text (cr, layout, 2 * l->pad, (l->image_h - text_h) / 2.0);
}

static char *
rating_text (guint rating)
{
  GString *stars = g_string_new (NULL);

  if (rating == 0)
    return g_strdup (_ ("Not rated"));
  for (guint i = 0; i < TAKES_MAX_RATING; i++)
    g_string_append (stars, i < rating ? "★" : "☆");
  return g_string_free (stars, FALSE);
}

static char *
verdict_text (const SheetCell *cell)
{
  g_autofree char *wins = NULL;
  g_autofree char *losses = NULL;
  g_autofree char *ties = NULL;

  if (cell->wins + cell->losses + cell->ties == 0)
    return g_strdup (_ ("No verdicts yet"));
  wins = g_strdup_printf (ngettext ("%u win", "%u wins", cell->wins), cell->wins);
  losses = g_strdup_printf (ngettext ("%u loss", "%u losses", cell->losses), cell->losses);
  ties = g_strdup_printf (ngettext ("%u tie", "%u ties", cell->ties), cell->ties);
  /* TRANSLATORS: a take's record in A/B verdicts: "2 wins · 1 loss · 0 ties" */
  return g_strdup_printf (_ ("%s · %s · %s"), wins, losses, ties);
}

static void
draw_cell (Sheet *sheet, cairo_t *cr, const SheetCell *cell)
{
  const SheetLayout *l = &sheet->layout;
  TakesTake *take = cell->take;
  TakesRecipe *recipe = takes_take_get_recipe (take);
  TakesDecision decision = takes_take_get_decision (take);
  int text_w = l->cell_w - 2 * l->pad;
  double x = l->pad, y = l->image_h + l->pad;
  g_autofree char *reason = NULL;
  g_autofree char *id = g_strdup_printf ("#%" PRId64, takes_take_get_id (take));
  g_autofree char *stars = rating_text (takes_take_get_rating (take));
  g_autofree char *seed = NULL;
  g_autofree char *seed_model = NULL;
  g_autofree char *verdicts = verdict_text (cell);
  const char *prompt = recipe != NULL ? takes_recipe_get_prompt (recipe) : takes_take_get_prompt (take);
  cairo_surface_t *frame;
  int id_w, id_h, stars_w, stars_h;

  cairo_save (cr);
  cairo_rectangle (cr, 0, 0, l->cell_w, l->cell_h);
  cairo_clip (cr);
  set_rgb (cr, COLOR_CARD);
  cairo_paint (cr);

  frame = load_middle_frame (sheet, cell, &reason);
  if (frame != NULL)
    {
      draw_frame (cr, l, frame);
      cairo_surface_destroy (frame);
    }
  else
    draw_missing (cr, l, reason);

  {
    g_autoptr (PangoLayout) id_layout = text_layout (cr, id, l->font * 1.15, TRUE, text_w / 3);
    g_autoptr (PangoLayout) stars_layout = text_layout (cr, stars, l->font, FALSE, text_w / 3);
    g_autoptr (PangoLayout) decision_layout = NULL;

    pango_layout_get_pixel_size (id_layout, &id_w, &id_h);
    pango_layout_get_pixel_size (stars_layout, &stars_w, &stars_h);
    set_rgb (cr, COLOR_TEXT);
    show_text (cr, id_layout, x, y + (l->line_h - id_h) / 2.0);
    set_rgb (cr, takes_take_get_rating (take) > 0 ? COLOR_STARS : COLOR_DIM);
    show_text (cr, stars_layout, x + id_w + l->font, y + (l->line_h - stars_h) / 2.0);

    decision_layout = text_layout (cr, takes_decision_get_label (decision), l->font, TRUE,
                                   MAX (1, text_w - id_w - stars_w - 2 * (int)l->font));
    pango_layout_set_alignment (decision_layout, PANGO_ALIGN_RIGHT);
    set_rgb (cr, decision == TAKES_DECISION_APPROVED   ? COLOR_APPROVED
                 : decision == TAKES_DECISION_REJECTED ? COLOR_REJECTED
                                                       : COLOR_DIM);
    show_text (cr, decision_layout, x + id_w + stars_w + 2 * l->font, y + (l->line_h - stars_h) / 2.0);
  }
  y += l->line_h;

  {
    g_autoptr (PangoLayout) prompt_layout
        = text_layout (cr, prompt != NULL ? prompt : "", l->font, FALSE, text_w);

    pango_layout_set_wrap (prompt_layout, PANGO_WRAP_WORD_CHAR);
    pango_layout_set_height (prompt_layout, PROMPT_LINES * l->line_h * PANGO_SCALE);
    set_rgb (cr, COLOR_TEXT);
    show_text (cr, prompt_layout, x, y);
  }
  y += PROMPT_LINES * l->line_h;

  if (recipe != NULL)
    seed = g_strdup_printf ("%" PRId64, takes_recipe_get_seed (recipe));
  /* TRANSLATORS: "Seed 42 · wan2.1-t2v-1.3b" on a contact sheet */
  seed_model = g_strdup_printf (_ ("Seed %s · %s"), seed != NULL ? seed : "—",
                                takes_take_get_model (take) != NULL ? takes_take_get_model (take) : "—");
  {
    g_autoptr (PangoLayout) seed_layout = text_layout (cr, seed_model, l->font, FALSE, text_w);
    g_autoptr (PangoLayout) verdict_layout = text_layout (cr, verdicts, l->font, FALSE, text_w);

    set_rgb (cr, COLOR_DIM);
    show_text (cr, seed_layout, x, y);
    y += l->line_h;
    show_text (cr, verdict_layout, x, y);
  }
  cairo_restore (cr);
}

static void
draw_title (Sheet *sheet, cairo_t *cr, int width, const char *page)
{
  const SheetLayout *l = &sheet->layout;
  g_autofree char *title = page != NULL ? g_strdup_printf ("%s · %s", sheet->title, page) : NULL;
  g_autoptr (PangoLayout) layout
      = text_layout (cr, title != NULL ? title : sheet->title, l->title_font, TRUE, width - 2 * l->margin);

  set_rgb (cr, COLOR_TEXT);
  show_text (cr, layout, l->margin, l->margin);
}

/* Draws cells first … first + n - 1 in columns, below the title. */
static gboolean
draw_cells (
    Sheet *sheet, cairo_t *cr, guint first, guint n, guint columns, GCancellable *cancellable, GError **error)
{
  const SheetLayout *l = &sheet->layout;

  for (guint i = 0; i < n; i++)
    {
      int x, y;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      cairo_save (cr);
      cell_origin (l, i, columns, &x, &y);
      cairo_translate (cr, x, y);
      draw_cell (sheet, cr, &g_array_index (sheet->cells, SheetCell, first + i));
      cairo_restore (cr);
    }
  return TRUE;
}

static cairo_status_t
append_bytes_cb (void *closure, const unsigned char *data, unsigned int length)
{
  g_byte_array_append (closure, data, length);
  return CAIRO_STATUS_SUCCESS;
}

static gboolean
set_cairo_error (GError **error, const char *path, cairo_status_t status)
{
  if (status == CAIRO_STATUS_NO_MEMORY)
    {
      g_autofree char *name = g_filename_display_name (path);

      g_set_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_TOO_LARGE,
                   _ ("There is not enough memory to draw “%s”. Choose fewer takes or narrower cells."),
                   name);
      return FALSE;
    }
  return set_write_error (error, path, cairo_status_to_string (status));
}

static gboolean
write_png (Sheet *sheet,
           const TakesContactSheetOptions *options,
           const char *path,
           GCancellable *cancellable,
           GError **error)
{
  guint n = sheet->cells->len, columns = MIN (options->columns, n);
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;
  int width, height;
  gboolean ok;

  sheet_layout_size (&sheet->layout, columns, (n + columns - 1) / columns, &width, &height);
  if (width > TAKES_CONTACT_SHEET_MAX_PNG_SIDE || height > TAKES_CONTACT_SHEET_MAX_PNG_SIDE)
    {
      g_set_error (
          error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_TOO_LARGE,
          _ ("A PNG contact sheet of %u takes would be %d × %d pixels, more than %d a side. Choose a "
             "PDF, more columns or narrower cells."),
          n, width, height, TAKES_CONTACT_SHEET_MAX_PNG_SIDE);
      return FALSE;
    }
  surface = cairo_image_surface_create (CAIRO_FORMAT_RGB24, width, height);
  cr = cairo_create (surface);
  set_rgb (cr, COLOR_PAGE);
  cairo_paint (cr);
  draw_title (sheet, cr, width, NULL);
  ok = draw_cells (sheet, cr, 0, n, columns, cancellable, error);
  status = cairo_status (cr);
  cairo_destroy (cr);
  if (ok && status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_write_to_png_stream (surface, append_bytes_cb, bytes);
  cairo_surface_destroy (surface);
  if (!ok)
    return FALSE;
  if (status != CAIRO_STATUS_SUCCESS)
    return set_cairo_error (error, path, status);
  return write_file (path, (const char *)bytes->data, bytes->len, error);
}

static gboolean
write_pdf (Sheet *sheet,
           const TakesContactSheetOptions *options,
           const char *path,
           GCancellable *cancellable,
           GError **error)
{
  guint n = sheet->cells->len, per_page = options->columns * options->rows_per_page;
  guint n_pages = (n + per_page - 1) / per_page;
  g_autoptr (GByteArray) bytes = g_byte_array_new ();
  cairo_surface_t *surface;
  cairo_status_t status;
  cairo_t *cr;
  int width, height;
  double scale, page_w, page_h;
  gboolean ok = TRUE;

  sheet_layout_size (&sheet->layout, options->columns, options->rows_per_page, &width, &height);
  /* A4 turned to the grid's shape, so a tall grid is not shrunk onto a wide page. */
  page_w = width >= height ? PAGE_LONG : PAGE_SHORT;
  page_h = width >= height ? PAGE_SHORT : PAGE_LONG;
  scale = MIN (page_w / width, page_h / height);
  surface = cairo_pdf_surface_create_for_stream (append_bytes_cb, bytes, page_w, page_h);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_TITLE, sheet->title);
  cairo_pdf_surface_set_metadata (surface, CAIRO_PDF_METADATA_CREATOR, "Takes " PACKAGE_VERSION);
  cr = cairo_create (surface);
  for (guint page = 0; ok && page < n_pages; page++)
    {
      g_autofree char *page_label
          = n_pages > 1 ? g_strdup_printf (_ ("page %u of %u"), page + 1, n_pages) : NULL;

      set_rgb (cr, COLOR_PAGE);
      cairo_paint (cr);
      cairo_save (cr);
      cairo_translate (cr, (page_w - width * scale) / 2, (page_h - height * scale) / 2);
      cairo_scale (cr, scale, scale);
      draw_title (sheet, cr, width, page_label);
      ok = draw_cells (sheet, cr, page * per_page, MIN (per_page, n - page * per_page), options->columns,
                       cancellable, error);
      cairo_restore (cr);
      cairo_show_page (cr);
    }
  status = cairo_status (cr);
  cairo_destroy (cr);
  cairo_surface_finish (surface);
  if (status == CAIRO_STATUS_SUCCESS)
    status = cairo_surface_status (surface);
  cairo_surface_destroy (surface);
  if (!ok)
    return FALSE;
  if (status != CAIRO_STATUS_SUCCESS)
    return set_cairo_error (error, path, status);
  return write_file (path, (const char *)bytes->data, bytes->len, error);
}

gboolean
takes_contact_sheet_write (TakesStore *store,
                           const gint64 *take_ids,
                           guint n_takes,
                           const char *path,
                           const TakesContactSheetOptions *options,
                           GCancellable *cancellable,
                           GError **error)
{
  TakesContactSheetOptions defaults;
  g_auto (Sheet) sheet = { 0 };
  g_autofree char *base = NULL;
  g_autofree char *lower = NULL;
  gboolean pdf;
  int width, height;

  g_return_val_if_fail (TAKES_IS_STORE (store), FALSE);
  g_return_val_if_fail (take_ids != NULL || n_takes == 0, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (options == NULL)
    {
      takes_contact_sheet_options_init (&defaults);
      options = &defaults;
    }
  if (!takes_contact_sheet_get_size (options, n_takes, &width, &height, error))
    return FALSE;
  base = g_path_get_basename (path);
  lower = g_utf8_strdown (base, -1);
  pdf = g_str_has_suffix (lower, ".pdf");
  if (!pdf && !g_str_has_suffix (lower, ".png"))
    {
      g_autofree char *name = g_filename_display_name (base);

      g_set_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_INVALID,
                   _ ("“%s” does not end in .png or .pdf. Name the contact sheet with one of those endings."),
                   name);
      return FALSE;
    }

  sheet_layout_init (&sheet.layout, options->cell_width);
  /* Print wants more pixels than the screen: a PDF page is read up close. */
  sheet.frame_size = pdf ? options->cell_width * 3 / 2 : options->cell_width;
  if (!sheet_load (&sheet, store, take_ids, n_takes, options, error))
    return FALSE;
  sheet.scratch_dir = g_dir_make_tmp ("takes-sheet-XXXXXX", error);
  if (sheet.scratch_dir == NULL)
    return FALSE;
  return pdf ? write_pdf (&sheet, options, path, cancellable, error)
             : write_png (&sheet, options, path, cancellable, error);
}

/* Campaign packages --------------------------------------------------------- */

void
takes_campaign_package_options_init (TakesCampaignPackageOptions *options)
{
  *options = (TakesCampaignPackageOptions){ .overwrite = FALSE };
}

static void
campaign_skip_free (TakesCampaignSkip *skip)
{
  g_free (skip->reason);
  g_free (skip);
}

void
takes_campaign_package_free (TakesCampaignPackage *package)
{
  if (package == NULL)
    return;
  g_free (package->out_dir);
  g_clear_pointer (&package->files, g_ptr_array_unref);
  g_clear_pointer (&package->skipped, g_ptr_array_unref);
  g_free (package);
}

static gboolean
is_plain_extension (const char *extension)
{
  if (extension == NULL || *extension == '\0' || strlen (extension) > 8)
    return FALSE;
  for (const char *p = extension; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p))
      return FALSE;
  return TRUE;
}

char *
takes_campaign_package_file_name (gint64 take_id, const char *prompt, const char *extension)
{
  g_autofree char *valid = g_utf8_make_valid (prompt != NULL ? prompt : "", -1);
  g_autofree char *composed = g_utf8_normalize (valid, -1, G_NORMALIZE_DEFAULT_COMPOSE);
  g_autoptr (GString) slug = g_string_new (NULL);
  g_autofree char *ext = g_ascii_strdown (is_plain_extension (extension) ? extension : "mp4", -1);
  guint n_chars = 0;
  gboolean dash = FALSE;

  for (const char *p = composed != NULL ? composed : ""; *p != '\0' && n_chars < SLUG_MAX_CHARS;
       p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (!g_unichar_isalnum (c))
        {
          dash = slug->len > 0;
          continue;
        }
      if (dash && n_chars + 1 < SLUG_MAX_CHARS)
        {
          g_string_append_c (slug, '-');
          n_chars++;
        }
      dash = FALSE;
      g_string_append_unichar (slug, g_unichar_tolower (c));
      n_chars++;
    }
  if (slug->len == 0)
    return g_strdup_printf ("%" PRId64 ".%s", take_id, ext);
  return g_strdup_printf ("%" PRId64 "-%s.%s", take_id, slug->str, ext);
}

static void
csv_field (GString *out, const char *value, gboolean first)
{
  if (!first)
    g_string_append_c (out, ',');
  if (value == NULL)
    return;
  if (strpbrk (value, ",\"\r\n") == NULL)
    {
      g_string_append (out, value);
      return;
    }
  g_string_append_c (out, '"');
  for (const char *p = value; *p != '\0'; p++)
    {
      if (*p == '"')
        g_string_append_c (out, '"');
      g_string_append_c (out, *p);
    }
  g_string_append_c (out, '"');
}

static char *
variable_text (JsonObject *variables, const char *name)
{
  JsonNode *node;

  if (variables == NULL || (node = json_object_get_member (variables, name)) == NULL
      || JSON_NODE_HOLDS_NULL (node))
    return NULL;
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  return json_to_string (node, FALSE);
}

static int
compare_names (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *)a, *(const char *const *)b);
}

/* The variable names of the project's batches, oldest batch first and in
 * each batch's own order, then any other name a take carries, sorted. */
static GPtrArray *
collect_variable_names (
    TakesStore *store, gint64 project_id, GPtrArray *takes, GHashTable **batch_names, GError **error)
{
  g_autoptr (GPtrArray) batches = takes_store_list_batch_infos (store, project_id, error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  /* Borrowed from the takes' variables, which outlive this call. */
  g_autoptr (GPtrArray) extra = g_ptr_array_new ();

  if (batches == NULL)
    return NULL;
  *batch_names = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_free);
  for (guint b = batches->len; b-- > 0;)
    {
      const TakesBatchInfo *info = g_ptr_array_index (batches, b);

      g_hash_table_insert (*batch_names, g_memdup2 (&info->id, sizeof info->id), g_strdup (info->name));
      for (guint i = 0; info->axes != NULL && info->axes[i] != NULL; i++)
        if (!g_hash_table_contains (seen, info->axes[i]))
          {
            g_ptr_array_add (names, g_strdup (info->axes[i]));
            g_hash_table_add (seen, g_ptr_array_index (names, names->len - 1));
          }
    }
  for (guint t = 0; t < takes->len; t++)
    {
      JsonObject *variables = takes_take_get_variables (g_ptr_array_index (takes, t));
      g_autoptr (GList) members = variables != NULL ? json_object_get_members (variables) : NULL;

      for (GList *m = members; m != NULL; m = m->next)
        if (!g_hash_table_contains (seen, m->data))
          {
            g_hash_table_add (seen, m->data);
            g_ptr_array_add (extra, m->data);
          }
    }
  g_ptr_array_sort (extra, compare_names);
  for (guint i = 0; i < extra->len; i++)
    g_ptr_array_add (names, g_strdup (g_ptr_array_index (extra, i)));
  return g_steal_pointer (&names);
}

typedef struct
{
  TakesTake *take;
  char *file; /* in the package, or NULL when skipped */
} PackedTake;

static void
packed_take_clear (PackedTake *packed)
{
  g_clear_object (&packed->take);
  g_clear_pointer (&packed->file, g_free);
}

static char *
format_double (double value)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_formatd (buffer, sizeof buffer, "%g", value));
}

static char *
build_csv (GArray *packed, GPtrArray *variable_names)
{
  static const char *const heads[] = { "id",   "file", "prompt", "negative", "model",  "backend",
                                       "seed", "size", "frames", "fps",      "rating", "batch" };
  g_autoptr (GString) csv = g_string_new (NULL);

  for (guint i = 0; i < G_N_ELEMENTS (heads); i++)
    csv_field (csv, heads[i], i == 0);
  for (guint i = 0; i < variable_names->len; i++)
    csv_field (csv, g_ptr_array_index (variable_names, i), FALSE);
  g_string_append (csv, "\r\n");

  for (guint t = 0; t < packed->len; t++)
    {
      const PackedTake *p = &g_array_index (packed, PackedTake, t);
      TakesTake *take = p->take;
      TakesRecipe *recipe = takes_take_get_recipe (take);
      guint width = takes_take_get_width (take), height = takes_take_get_height (take);
      guint frames = takes_take_get_frames (take);
      double fps = takes_take_get_fps (take);
      g_autofree char *id = g_strdup_printf ("%" PRId64, takes_take_get_id (take));
      g_autofree char *seed
          = recipe != NULL ? g_strdup_printf ("%" PRId64, takes_recipe_get_seed (recipe)) : NULL;
      g_autofree char *size = NULL;
      g_autofree char *frames_text = NULL;
      g_autofree char *fps_text = NULL;
      g_autofree char *rating = g_strdup_printf ("%u", takes_take_get_rating (take));
      g_autofree char *batch = takes_take_get_batch_id (take) > 0
                                   ? g_strdup_printf ("%" PRId64, takes_take_get_batch_id (take))
                                   : NULL;

      if (p->file == NULL)
        continue;
      /* What the video really is; the recipe when the video was not probed. */
      if ((width == 0 || height == 0) && recipe != NULL)
        {
          width = takes_recipe_get_width (recipe);
          height = takes_recipe_get_height (recipe);
        }
      if (frames == 0 && recipe != NULL)
        frames = takes_recipe_get_frames (recipe);
      if (fps <= 0 && recipe != NULL)
        fps = takes_recipe_get_fps (recipe);
      size = g_strdup_printf ("%ux%u", width, height);
      frames_text = g_strdup_printf ("%u", frames);
      fps_text = format_double (fps);

      csv_field (csv, id, TRUE);
      csv_field (csv, p->file, FALSE);
      csv_field (csv, recipe != NULL ? takes_recipe_get_prompt (recipe) : takes_take_get_prompt (take),
                 FALSE);
      csv_field (csv,
                 recipe != NULL ? takes_recipe_get_negative_prompt (recipe)
                                : takes_take_get_negative_prompt (take),
                 FALSE);
      csv_field (csv, takes_take_get_model (take), FALSE);
      csv_field (csv, takes_take_get_backend (take), FALSE);
      csv_field (csv, seed, FALSE);
      csv_field (csv, size, FALSE);
      csv_field (csv, frames_text, FALSE);
      csv_field (csv, fps_text, FALSE);
      csv_field (csv, rating, FALSE);
      csv_field (csv, batch, FALSE);
      for (guint v = 0; v < variable_names->len; v++)
        {
          g_autofree char *value
              = variable_text (takes_take_get_variables (take), g_ptr_array_index (variable_names, v));

          csv_field (csv, value, FALSE);
        }
      g_string_append (csv, "\r\n");
    }
  return g_string_free (g_steal_pointer (&csv), FALSE);
}

static char *
build_json (const TakesProject *project,
            GArray *packed,
            GPtrArray *variable_names,
            GHashTable *batch_names,
            GPtrArray *skipped)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *created = g_date_time_format_iso8601 (now);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "format");
  json_builder_add_string_value (builder, "takes-campaign-package");
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, 1);
  json_builder_set_member_name (builder, "created");
  json_builder_add_string_value (builder, created);
  json_builder_set_member_name (builder, "project");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "id");
  json_builder_add_int_value (builder, project->id);
  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, project->name);
  json_builder_set_member_name (builder, "slug");
  json_builder_add_string_value (builder, project->slug);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "variables");
  json_builder_begin_array (builder);
  for (guint i = 0; i < variable_names->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (variable_names, i));
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "takes");
  json_builder_begin_array (builder);
  for (guint t = 0; t < packed->len; t++)
    {
      const PackedTake *p = &g_array_index (packed, PackedTake, t);
      JsonObject *object;
      JsonNode *node;
      gint64 batch_id = takes_take_get_batch_id (p->take);
      const char *batch_name = batch_id > 0 ? g_hash_table_lookup (batch_names, &batch_id) : NULL;

      if (p->file == NULL)
        continue;
      object = takes_take_to_json (p->take);
      json_object_set_string_member (object, "file", p->file);
      if (batch_name != NULL)
        json_object_set_string_member (object, "batch_name", batch_name);
      else
        json_object_set_null_member (object, "batch_name");
      node = json_node_init_object (json_node_alloc (), object);
      json_object_unref (object);
      json_builder_add_value (builder, node);
    }
  json_builder_end_array (builder);

  json_builder_set_member_name (builder, "skipped");
  json_builder_begin_array (builder);
  for (guint i = 0; i < skipped->len; i++)
    {
      const TakesCampaignSkip *skip = g_ptr_array_index (skipped, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_int_value (builder, skip->take_id);
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, skip->reason);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  return json_generator_to_data (generator, NULL);
}

/* What a failed package takes back: the files it created, and the folder. */
typedef struct
{
  char *out_dir;
  gboolean made_dir;
  GPtrArray *created; /* absolute paths */
  gboolean done;
} Undo;

static void
undo_clear (Undo *undo)
{
  if (!undo->done)
    {
      for (guint i = 0; undo->created != NULL && i < undo->created->len; i++)
        g_unlink (g_ptr_array_index (undo->created, i));
      if (undo->made_dir)
        g_rmdir (undo->out_dir);
    }
  g_clear_pointer (&undo->created, g_ptr_array_unref);
  g_clear_pointer (&undo->out_dir, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Undo, undo_clear)

static void
undo_note (Undo *undo, const char *path, gboolean existed)
{
  if (!existed)
    g_ptr_array_add (undo->created, g_strdup (path));
}

static gboolean
prepare_dir (const char *out_dir, gboolean overwrite, Undo *undo, GError **error)
{
  g_autofree char *name = g_filename_display_name (out_dir);

  if (g_file_test (out_dir, G_FILE_TEST_EXISTS))
    {
      g_autoptr (GError) local_error = NULL;
      g_autoptr (GDir) dir = NULL;

      if (!g_file_test (out_dir, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_NOT_EMPTY,
                       _ ("“%s” is a file, not a folder. Choose a new or empty folder for the package."),
                       name);
          return FALSE;
        }
      dir = g_dir_open (out_dir, 0, &local_error);
      if (dir == NULL)
        return set_write_error (error, out_dir, local_error->message);
      if (g_dir_read_name (dir) != NULL && !overwrite)
        {
          g_set_error (
              error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_NOT_EMPTY,
              _ ("The folder “%s” is not empty. Choose a new or empty folder, or allow replacing the "
                 "files in it."),
              name);
          return FALSE;
        }
      return TRUE;
    }
  if (g_mkdir_with_parents (out_dir, 0777) != 0)
    return set_write_error (error, out_dir, g_strerror (errno));
  undo->made_dir = TRUE;
  return TRUE;
}

/* Copies through a temporary name in the package folder, so a half-copied
 * video never carries the final name. */
static gboolean
copy_video (const char *source, const char *dest, GCancellable *cancellable, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (dest);
  g_autofree char *base = g_path_get_basename (dest);
  g_autofree char *tmp_name = g_strdup_printf (".%s.part", base);
  g_autofree char *tmp = g_build_filename (dir, tmp_name, NULL);
  g_autoptr (GFile) src_file = g_file_new_for_path (source);
  g_autoptr (GFile) tmp_file = g_file_new_for_path (tmp);
  g_autoptr (GError) local_error = NULL;

  if (!g_file_copy (src_file, tmp_file, G_FILE_COPY_OVERWRITE | G_FILE_COPY_NOFOLLOW_SYMLINKS, cancellable,
                    NULL, NULL, &local_error))
    {
      g_unlink (tmp);
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      return set_write_error (error, dest, local_error->message);
    }
  if (g_rename (tmp, dest) != 0)
    {
      int saved = errno;

      g_unlink (tmp);
      return set_write_error (error, dest, g_strerror (saved));
    }
  return TRUE;
}

static char *
skip_reason (const char *media)
{
  g_autofree char *name = NULL;
  int fd;

  if (media == NULL)
    return g_strdup (_ ("The take has no video yet."));
  name = g_filename_display_name (media);
  if (!g_file_test (media, G_FILE_TEST_IS_REGULAR))
    return g_strdup_printf (_ ("The video file “%s” is missing."), name);
  fd = g_open (media, O_RDONLY, 0);
  if (fd < 0)
    return g_strdup_printf (_ ("The video file “%s” cannot be read: %s."), name, g_strerror (errno));
  g_close (fd, NULL);
  return NULL;
}

static char *
media_extension (const char *media)
{
  const char *dot = strrchr (media, '.');
  const char *slash = strrchr (media, G_DIR_SEPARATOR);

  if (dot == NULL || (slash != NULL && dot < slash))
    return g_strdup ("mp4");
  return g_strdup (dot + 1);
}

TakesCampaignPackage *
takes_campaign_package_write (TakesStore *store,
                              gint64 project_id,
                              const char *out_dir,
                              const TakesCampaignPackageOptions *options,
                              GCancellable *cancellable,
                              GError **error)
{
  TakesCampaignPackageOptions defaults;
  g_autofree char *project_key = NULL;
  g_autoptr (TakesProject) project = NULL;
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (GArray) packed = NULL;
  g_autoptr (GPtrArray) variable_names = NULL;
  g_autoptr (GHashTable) batch_names = NULL;
  g_autoptr (TakesCampaignPackage) package = NULL;
  g_auto (Undo) undo = { 0 };
  g_autofree char *csv = NULL;
  g_autofree char *json = NULL;
  TakesTakeQuery query;
  const char *const manifests[] = { "takes.csv", "takes.json" };

  g_return_val_if_fail (TAKES_IS_STORE (store), NULL);
  g_return_val_if_fail (out_dir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options == NULL)
    {
      takes_campaign_package_options_init (&defaults);
      options = &defaults;
    }
  if (project_id == 0)
    project_id = takes_store_get_default_project (store);
  project_key = g_strdup_printf ("%" PRId64, project_id);
  project = takes_store_find_project (store, project_key, error);
  if (project == NULL)
    return NULL;

  takes_take_query_init (&query);
  query.project_id = project->id;
  query.decision_mask = 1u << TAKES_DECISION_APPROVED;
  query.sort = TAKES_TAKE_SORT_CREATED;
  query.ascending = TRUE;
  takes = takes_store_query_takes (store, &query, error);
  if (takes == NULL)
    return NULL;
  if (takes->len == 0)
    {
      g_set_error (error, TAKES_REVIEW_EXPORT_ERROR, TAKES_REVIEW_EXPORT_ERROR_NOTHING_APPROVED,
                   _ ("Project “%s” has no approved takes. Approve the takes to deliver first."),
                   project->name);
      return NULL;
    }
  variable_names = collect_variable_names (store, project->id, takes, &batch_names, error);
  if (variable_names == NULL)
    return NULL;

  undo.out_dir = g_strdup (out_dir);
  undo.created = g_ptr_array_new_with_free_func (g_free);
  if (!prepare_dir (out_dir, options->overwrite, &undo, error))
    return NULL;

  package = g_new0 (TakesCampaignPackage, 1);
  package->out_dir = g_strdup (out_dir);
  package->files = g_ptr_array_new_with_free_func (g_free);
  package->skipped = g_ptr_array_new_with_free_func ((GDestroyNotify)campaign_skip_free);
  packed = g_array_sized_new (FALSE, TRUE, sizeof (PackedTake), takes->len);
  g_array_set_clear_func (packed, (GDestroyNotify)packed_take_clear);

  for (guint i = 0; i < takes->len; i++)
    {
      PackedTake p = { .take = g_object_ref (g_ptr_array_index (takes, i)) };
      g_autofree char *media = takes_store_get_media_file (store, p.take);
      g_autofree char *reason = NULL;

      g_array_append_val (packed, p);
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return NULL;
      reason = skip_reason (media);
      if (reason != NULL)
        {
          TakesCampaignSkip *skip = g_new0 (TakesCampaignSkip, 1);

          skip->take_id = takes_take_get_id (p.take);
          skip->reason = g_steal_pointer (&reason);
          g_ptr_array_add (package->skipped, skip);
          continue;
        }
      {
        TakesRecipe *recipe = takes_take_get_recipe (p.take);
        g_autofree char *ext = media_extension (media);
        g_autofree char *file = takes_campaign_package_file_name (
            takes_take_get_id (p.take),
            recipe != NULL ? takes_recipe_get_prompt (recipe) : takes_take_get_prompt (p.take), ext);
        g_autofree char *dest = g_build_filename (out_dir, file, NULL);
        gboolean existed = g_file_test (dest, G_FILE_TEST_EXISTS);

        if (!copy_video (media, dest, cancellable, error))
          return NULL;
        undo_note (&undo, dest, existed);
        g_array_index (packed, PackedTake, i).file = g_strdup (file);
        g_ptr_array_add (package->files, g_steal_pointer (&file));
        package->n_videos++;
      }
    }

  csv = build_csv (packed, variable_names);
  json = build_json (project, packed, variable_names, batch_names, package->skipped);
  for (guint i = 0; i < G_N_ELEMENTS (manifests); i++)
    {
      g_autofree char *dest = g_build_filename (out_dir, manifests[i], NULL);
      gboolean existed = g_file_test (dest, G_FILE_TEST_EXISTS);
      const char *text = i == 0 ? csv : json;

      if (!write_file (dest, text, strlen (text), error))
        return NULL;
      undo_note (&undo, dest, existed);
      g_ptr_array_add (package->files, g_strdup (manifests[i]));
    }
  undo.done = TRUE;
  return g_steal_pointer (&package);
}
