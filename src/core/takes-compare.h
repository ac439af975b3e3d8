/* takes-compare.h: showing two to four takes together, and the recipe
 * fields in which they differ.
 *
 * One GStreamer bin does the work for the player and for rendering: a
 * compositor scales and converts every source to a common cell and retimes
 * it to a common frame rate (each output frame shows, for every source, the
 * frame on screen at that time), then a small mixing element turns the
 * canvas into the chosen view: side by side (2×1, or 2×2 for three or four
 * takes), a wipe with a movable split, the amplified per-pixel difference,
 * or a toggle between the takes. Moving the split or toggling changes a
 * property; nothing is renegotiated.
 *
 * takes_compare_render() is synchronous and slow: call it from a worker thread.
 */
#pragma once

#include <gst/gst.h>

#include "takes-recipe.h"

G_BEGIN_DECLS

#define TAKES_COMPARE_ERROR (takes_compare_error_quark ())

typedef enum
{
  TAKES_COMPARE_ERROR_INVALID,        /* wrong number of takes for the mode, a split outside 0–1 */
  TAKES_COMPARE_ERROR_MISSING_PLUGIN, /* compositor or videoconvert absent */
  TAKES_COMPARE_ERROR_FAILED,         /* GStreamer could not build or run the pipeline */
} TakesCompareError;

GQuark takes_compare_error_quark (void);

#define TAKES_COMPARE_MAX_SOURCES 4

typedef enum
{
  TAKES_COMPARE_SIDE_BY_SIDE,
  TAKES_COMPARE_WIPE,
  TAKES_COMPARE_DIFFERENCE,
  TAKES_COMPARE_TOGGLE,
} TakesCompareMode;

/* "sbs", "wipe", "diff", "toggle". */
const char *takes_compare_mode_to_string (TakesCompareMode mode);
gboolean takes_compare_mode_from_string (const char *text, TakesCompareMode *mode);

typedef enum
{
  TAKES_COMPARE_WIPE_VERTICAL,   /* a vertical line: the first take left, the second right */
  TAKES_COMPARE_WIPE_HORIZONTAL, /* a horizontal line: the first take above, the second below */
} TakesCompareWipe;

typedef struct
{
  TakesCompareMode mode;
  TakesCompareWipe wipe;
  double split;         /* wipe: where the line is, 0–1 of the width or height (0.5) */
  double gain;          /* difference: the factor |a − b| is multiplied by (4) */
  guint shown;          /* toggle: which take is shown (0) */
  double toggle_period; /* toggle: seconds each take stays when rendering; 0 keeps `shown` (1) */
  int max_width;        /* the output is scaled down to fit this width (1920) */
  int max_height;       /* and this height (1080) */
} TakesCompareOptions;

void takes_compare_options_init (TakesCompareOptions *options);

/* What each source is, as probed. */
typedef struct
{
  int width, height;
  int fps_n, fps_d;
} TakesCompareSource;

typedef struct
{
  guint n_sources;
  int cell_width, cell_height; /* every take is fitted into a cell this size, keeping its shape */
  int width, height;           /* the output, both even */
  int fps_n, fps_d;            /* the common rate: the fastest source's */
  gboolean rescaled;           /* some take was scaled to fit its cell */
  gboolean retimed;            /* some take runs at another rate than the output */
  char *note;                  /* what was scaled or retimed, in sentences for people; NULL when nothing */
} TakesCompareLayout;

void takes_compare_layout_free (TakesCompareLayout *layout);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesCompareLayout, takes_compare_layout_free)

/* Plans the common grid; fails with INVALID when the number of sources does
 * not suit the mode (wipe and difference take exactly two; side by side and
 * toggle two to four). */
TakesCompareLayout *takes_compare_plan (const TakesCompareSource *sources,
                                        guint n_sources,
                                        const TakesCompareOptions *options,
                                        GError **error);

/* A bin with request-free sink pads "sink_0" … "sink_<n−1>" that accept raw
 * video of any size, format and rate, and one src pad giving video at the
 * layout's size and rate: side by side in the raw format downstream asks for
 * (a player asks for BGRA, what GdkMemoryTexture shows as B8G8R8A8), the
 * other modes in opaque BGRA. */
GstElement *
takes_compare_bin_new (const TakesCompareLayout *layout, const TakesCompareOptions *options, GError **error);
/* Live changes, safe while the pipeline plays. */
void takes_compare_bin_set_split (GstElement *bin, double split);
void takes_compare_bin_set_shown (GstElement *bin, guint shown);
void takes_compare_bin_set_gain (GstElement *bin, double gain);
/* Fits every take into cells of this size (rounded down to even numbers)
 * instead of the layout's, e.g. the size a widget shows them at, so no
 * pixel is converted that would be scaled away later. The output grows or
 * shrinks with them from the next frame on. Returns FALSE when the size is
 * the one in use. */
gboolean takes_compare_bin_set_cell_size (GstElement *bin, int cell_width, int cell_height);

/* Renders the takes (video files) through the bin to an H.264 MP4, as long as
 * the longest take; a take that ends early leaves its cell black. layout_out,
 * when given, receives the plan used. */
gboolean takes_compare_render (const char *const *paths,
                               guint n_paths,
                               const TakesCompareOptions *options,
                               const char *out_path,
                               TakesCompareLayout **layout_out,
                               GError **error);

/* One recipe field whose values differ. */
typedef struct
{
  char *field;   /* the recipe's JSON member name, e.g. "seed" */
  char *value_a; /* as JSON text; NULL when the first recipe lacks the field */
  char *value_b;
} TakesRecipeChange;

void takes_recipe_change_free (TakesRecipeChange *change);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesRecipeChange, takes_recipe_change_free)

/* TakesRecipeChange for only the fields that differ, sorted by field name;
 * empty when the recipes are the same. */
GPtrArray *takes_recipe_diff (TakesRecipe *a, TakesRecipe *b);

G_END_DECLS
