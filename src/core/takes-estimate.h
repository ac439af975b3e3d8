/* takes-estimate.h: rough time and cost of a batch before it is queued.
 *
 * The figures come from data/backends/pricing.json: per backend a number of
 * takes that run at once, and per model a price per second of output video
 * (by resolution tier, in the provider's currency; none on our own hardware)
 * and a wall-clock time per take (a fixed overhead plus seconds of work per
 * second of video). Both are estimates and are shown as such.
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define TAKES_ESTIMATE_ERROR (takes_estimate_error_quark ())

typedef enum
{
  /* The pricing file cannot be read or does not have the documented shape. */
  TAKES_ESTIMATE_ERROR_INVALID_DATA,
} TakesEstimateError;

typedef struct
{
  char *backend;
  char *model; /* as asked for, or the default one when none was */
  char *tier;  /* "480P", "720P" or "1080P" */
  guint n_takes;
  double video_seconds; /* of each take */

  gboolean cost_known;
  double cost; /* of all takes */
  double price_per_second;
  char *currency; /* ISO 4217 code; NULL when the backend costs nothing */
  char *price_source;

  gboolean time_known;
  double wall_seconds; /* of all takes, with the backend's concurrency */
  guint concurrency;
} TakesEstimate;

void takes_estimate_free (TakesEstimate *estimate);
/* "US$1.80", "¥3.50", "12.00 EUR", "free", or "unknown". */
char *takes_estimate_format_cost (const TakesEstimate *estimate);
/* "about 40 s", "about 12 min", "about 3 h 20 min", or "unknown". */
char *takes_estimate_format_time (const TakesEstimate *estimate);
JsonNode *takes_estimate_to_json (const TakesEstimate *estimate);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesEstimate, takes_estimate_free)

/* The resolution tier a size belongs to, by its pixel count. */
const char *takes_estimate_tier_for_size (guint width, guint height);

#define TAKES_TYPE_PRICING (takes_pricing_get_type ())
G_DECLARE_FINAL_TYPE (TakesPricing, takes_pricing, TAKES, PRICING, GObject)

GQuark takes_estimate_error_quark (void);

TakesPricing *takes_pricing_new_from_file (const char *path, GError **error);
TakesPricing *takes_pricing_new_from_data (const char *data, gssize length, GError **error);
/* The shipped table (backends/pricing.json). */
TakesPricing *takes_pricing_new_default (GError **error);

/* The backends the table knows, NULL-terminated (free with g_strfreev). */
char **takes_pricing_list_backends (TakesPricing *self);

/* Estimates @n_takes takes of @duration seconds (0: the model's default) at
 * @width × @height (0: the model's default tier). An unknown backend or model
 * gives an estimate whose cost and time are not known, not an error. */
TakesEstimate *takes_pricing_estimate (TakesPricing *self,
                                       const char *backend,
                                       const char *model,
                                       guint width,
                                       guint height,
                                       double duration,
                                       guint n_takes);

G_END_DECLS
