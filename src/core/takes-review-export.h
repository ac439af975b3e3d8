/* takes-review-export.h: what a review leaves behind for other people.
 *
 * A contact sheet is one picture of chosen takes laid out on a grid, each
 * cell with the take's middle frame, number, prompt, seed, model, rating,
 * decision and its record in the A/B verdicts, under a title line with the
 * project, the date and the count. It is a PNG (all takes on one image) or
 * a PDF (A4 pages of columns × rows takes, turned to fit), chosen by the file's
 * extension. A take whose video is missing gets a grey cell that says so;
 * the sheet is still written.
 *
 * A campaign package is a folder with every approved take's video, named
 * "<take-id>-<prompt slug>.mp4", a takes.csv (one row a take, one column per
 * batch variable) and a takes.json (full recipes and variable values) for
 * whoever places the ads. Approved takes whose video is missing are listed
 * as skipped, in the result and in takes.json.
 *
 * Both calls are synchronous and decode video: run them in a worker thread,
 * with a store opened there. Every file is written under a temporary name
 * and renamed into place.
 */
#pragma once

#include <gio/gio.h>

#include "takes-store.h"

G_BEGIN_DECLS

#define TAKES_REVIEW_EXPORT_ERROR (takes_review_export_error_quark ())

typedef enum
{
  /* Bad arguments: no takes, an unknown file extension, columns out of range. */
  TAKES_REVIEW_EXPORT_ERROR_INVALID,
  /* The sheet would be too large for one PNG; a PDF or more columns fit. */
  TAKES_REVIEW_EXPORT_ERROR_TOO_LARGE,
  /* The project has no approved take to package. */
  TAKES_REVIEW_EXPORT_ERROR_NOTHING_APPROVED,
  /* The package folder exists and is not empty, and overwrite was not asked for. */
  TAKES_REVIEW_EXPORT_ERROR_NOT_EMPTY,
  /* A file could not be written: disk full, folder not writable. */
  TAKES_REVIEW_EXPORT_ERROR_WRITE,
} TakesReviewExportError;

GQuark takes_review_export_error_quark (void);

/* Contact sheets ------------------------------------------------------------ */

#define TAKES_CONTACT_SHEET_MAX_COLUMNS 12
#define TAKES_CONTACT_SHEET_MIN_CELL_WIDTH 160
#define TAKES_CONTACT_SHEET_MAX_CELL_WIDTH 1280
/* The longest side of a PNG sheet, in pixels; a longer one is refused with
 * TAKES_REVIEW_EXPORT_ERROR_TOO_LARGE. */
#define TAKES_CONTACT_SHEET_MAX_PNG_SIDE 16384

typedef struct
{
  guint columns;       /* cells across, 1 … TAKES_CONTACT_SHEET_MAX_COLUMNS; default 4 */
  guint rows_per_page; /* PDF only: rows on one page; default 3 */
  int cell_width;      /* of one cell, in pixels (PNG) before a PDF page scales it; default 320 */
  const char *title;   /* NULL: the names of the takes' projects */
} TakesContactSheetOptions;

void takes_contact_sheet_options_init (TakesContactSheetOptions *options);

/* The size of a PNG sheet of n_takes (pixels), or of one PDF page before it
 * is scaled onto A4 (the same units). FALSE with error for bad options. */
gboolean takes_contact_sheet_get_size (
    const TakesContactSheetOptions *options, guint n_takes, int *width, int *height, GError **error);

/* Where the middle frame of take index (0-based) goes on a PNG sheet of
 * n_takes: the box the frame is fitted into, letterboxed, in pixels. */
gboolean takes_contact_sheet_get_frame_box (const TakesContactSheetOptions *options,
                                            guint n_takes,
                                            guint index,
                                            int *x,
                                            int *y,
                                            int *width,
                                            int *height,
                                            GError **error);

/* Writes the sheet of the n_takes takes, in the given order, to path: a PDF
 * when path ends in ".pdf", a PNG when it ends in ".png" (either case).
 * options may be NULL for the defaults. Unknown take ids fail with
 * TAKES_STORE_ERROR_NOT_FOUND before anything is written. */
gboolean takes_contact_sheet_write (TakesStore *store,
                                    const gint64 *take_ids,
                                    guint n_takes,
                                    const char *path,
                                    const TakesContactSheetOptions *options,
                                    GCancellable *cancellable,
                                    GError **error);

/* Campaign packages --------------------------------------------------------- */

typedef struct
{
  /* Replace files of the same names in a folder that is not empty; other
   * files in it are left as they are. */
  gboolean overwrite;
} TakesCampaignPackageOptions;

void takes_campaign_package_options_init (TakesCampaignPackageOptions *options);

typedef struct
{
  gint64 take_id;
  char *reason; /* one sentence for people */
} TakesCampaignSkip;

typedef struct
{
  char *out_dir;
  GPtrArray *files;   /* char *: the file names written in out_dir, videos first in take order */
  guint n_videos;     /* approved takes whose video was copied */
  GPtrArray *skipped; /* TakesCampaignSkip: approved takes left out */
} TakesCampaignPackage;

void takes_campaign_package_free (TakesCampaignPackage *package);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesCampaignPackage, takes_campaign_package_free)

/* The file name a take's video gets in a package:
 * "<take-id>-<slug of the prompt>.<extension>", the slug lower case letters
 * and digits (of any script) joined by '-', at most 48 characters; just
 * "<take-id>.<extension>" when the prompt has no letters or digits. */
char *takes_campaign_package_file_name (gint64 take_id, const char *prompt, const char *extension);

/* Packages the approved takes of project_id (0: the default project), oldest
 * first, into out_dir, which is created when missing. A folder that exists
 * and is not empty is refused unless options->overwrite is set. On failure
 * the files this call wrote are removed again, and the folder when it made
 * it. options may be NULL for the defaults. */
TakesCampaignPackage *takes_campaign_package_write (TakesStore *store,
                                                    gint64 project_id,
                                                    const char *out_dir,
                                                    const TakesCampaignPackageOptions *options,
                                                    GCancellable *cancellable,
                                                    GError **error);

G_END_DECLS
