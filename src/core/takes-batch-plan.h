/* takes-batch-plan.h: one prompt idea expanded into many variants.
 *
 * A batch file is a JSON object:
 *
 *   {
 *     "name": "tea ad",                       optional label
 *     "template": "A {drink} ad in {city}",   required, see takes-template.h
 *     "negative": "blurry, {city} skyline",   optional, may use the variables too
 *     "variables": {"city": ["Paris", "Tokyo"], "drink": ["tea", "coffee"]},
 *     "mode": "cross",                        "cross" (default) or "zip"
 *     "seed": "vary",                         a number (every variant the same), "vary"
 *                                             (default: one seed per variant), or a list
 *                                             of numbers (every combination with each)
 *     "seed_base": 1234,                      optional, makes "vary" repeatable
 *     "max_variants": 200,                    optional, lowers or raises the cap
 *     "backend": "dashscope", "model": "wan2.2-t2v-plus",
 *     "size": "832*480" (or "width"/"height"), "duration": 5, "frames": 81,
 *     "fps": 16, "steps": 50, "guidance": 5.0, "shift": 5.0, "sampler": "unipc",
 *     "prompt_extend": false                  recipe parameters, passed on
 *   }
 *
 * Cross mode makes every combination; the first variable in the file changes
 * slowest, the last fastest. Zip mode pairs the n-th values of every list; a
 * list of one value is used with all. The number of variants is checked
 * against the cap before anything is expanded.
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "takes-template.h"

G_BEGIN_DECLS

#define TAKES_BATCH_PLAN_ERROR (takes_batch_plan_error_quark ())

typedef enum
{
  /* The file cannot be read, is not JSON, or is not a JSON object. */
  TAKES_BATCH_PLAN_ERROR_MALFORMED,
  /* A field is missing, unknown, of the wrong type or out of range. */
  TAKES_BATCH_PLAN_ERROR_INVALID,
  /* The template or negative prompt has a syntax error (message has line and column). */
  TAKES_BATCH_PLAN_ERROR_SYNTAX,
  /* The template uses a variable without values, or a variable is never used. */
  TAKES_BATCH_PLAN_ERROR_VARIABLES,
  /* Zip mode with lists of different lengths. */
  TAKES_BATCH_PLAN_ERROR_MISMATCHED_LISTS,
  /* More variants than the cap allows. */
  TAKES_BATCH_PLAN_ERROR_TOO_MANY,
} TakesBatchPlanError;

typedef enum
{
  TAKES_BATCH_MODE_CROSS,
  TAKES_BATCH_MODE_ZIP,
} TakesBatchMode;

typedef enum
{
  TAKES_BATCH_SEED_FIXED, /* one seed for every variant */
  TAKES_BATCH_SEED_VARY,  /* a seed per variant, derived from the seed base */
  TAKES_BATCH_SEED_LIST,  /* every combination once with each listed seed */
} TakesBatchSeedMode;

/* The cap when neither the caller nor the file sets one. */
#define TAKES_BATCH_PLAN_DEFAULT_MAX_VARIANTS 1000
/* No cap may be raised past this. */
#define TAKES_BATCH_PLAN_HARD_MAX_VARIANTS 100000
/* The largest batch file read, and the most text all variants may hold. */
#define TAKES_BATCH_PLAN_MAX_FILE_BYTES (4 * 1024 * 1024)
#define TAKES_BATCH_PLAN_MAX_TOTAL_TEXT (256 * 1024 * 1024)
/* Seeds are what DashScope and the local engine accept: 0 … 2^31 − 1. */
#define TAKES_BATCH_PLAN_MAX_SEED G_GINT64_CONSTANT (2147483647)

typedef struct
{
  guint index;       /* 0-based position in the plan */
  guint combination; /* which set of variable values (several variants share one with a seed list) */
  char *prompt;
  char *negative; /* "" when the batch has none */
  gint64 seed;
  /* Aligned with takes_batch_plan_get_variable_names(); the strings belong
   * to the plan. */
  const char **values;
} TakesBatchVariant;

#define TAKES_TYPE_BATCH_PLAN (takes_batch_plan_get_type ())
G_DECLARE_FINAL_TYPE (TakesBatchPlan, takes_batch_plan, TAKES, BATCH_PLAN, GObject)

GQuark takes_batch_plan_error_quark (void);

/* @max_variants: the cap; 0 takes the file's "max_variants", else the
 * default. Either way it may not pass TAKES_BATCH_PLAN_HARD_MAX_VARIANTS. */
TakesBatchPlan *takes_batch_plan_new_from_file (const char *path, guint max_variants, GError **error);
TakesBatchPlan *
takes_batch_plan_new_from_data (const char *data, gssize length, guint max_variants, GError **error);
TakesBatchPlan *takes_batch_plan_new_from_object (JsonObject *object, guint max_variants, GError **error);

const char *takes_batch_plan_get_name (TakesBatchPlan *self);
TakesTemplate *takes_batch_plan_get_template (TakesBatchPlan *self);
/* NULL when the batch has no negative prompt. */
TakesTemplate *takes_batch_plan_get_negative (TakesBatchPlan *self);
TakesBatchMode takes_batch_plan_get_mode (TakesBatchPlan *self);
TakesBatchSeedMode takes_batch_plan_get_seed_mode (TakesBatchPlan *self);
/* The fixed seed, or the base "vary" seeds come from. */
gint64 takes_batch_plan_get_seed_base (TakesBatchPlan *self);
/* TRUE when the file gave "seed_base", so "vary" seeds repeat from run to run. */
gboolean takes_batch_plan_get_seed_base_given (TakesBatchPlan *self);
guint takes_batch_plan_get_max_variants (TakesBatchPlan *self);

/* The variable names in file order, NULL-terminated, and each one's values. */
const char *const *takes_batch_plan_get_variable_names (TakesBatchPlan *self);
const char *const *takes_batch_plan_get_values (TakesBatchPlan *self, const char *name);

/* Recipe parameters of the file (backend, model, size…), as given. */
JsonObject *takes_batch_plan_get_params (TakesBatchPlan *self);
/* Convenience readers of those; NULL or 0 when the file does not say. */
const char *takes_batch_plan_get_backend (TakesBatchPlan *self);
const char *takes_batch_plan_get_model (TakesBatchPlan *self);
void takes_batch_plan_get_size (TakesBatchPlan *self, guint *width, guint *height);
/* Seconds of video per take: "duration", else frames / fps; 0 when unknown. */
double takes_batch_plan_get_duration (TakesBatchPlan *self);

guint takes_batch_plan_get_n_variants (TakesBatchPlan *self);
const TakesBatchVariant *takes_batch_plan_get_variant (TakesBatchPlan *self, guint index);
/* Variable name → value of one variant, for tagging its take. */
JsonObject *takes_batch_plan_get_variant_tags (TakesBatchPlan *self, guint index);

/* One variant as a recipe object: "prompt", "negative_prompt", "seed" and
 * the recipe parameters, with "duration" and "prompt_extend" (backend
 * settings, not recipe fields) under "options". The shape
 * takes_recipe_new_from_object() reads. */
JsonObject *takes_batch_plan_get_variant_recipe (TakesBatchPlan *self, guint index);

/* The whole plan: name, template, negative, mode, seed, params, variables and
 * every variant. What a dry run prints with --json, and what a stored batch
 * keeps. */
JsonNode *takes_batch_plan_to_json (TakesBatchPlan *self);

const char *takes_batch_mode_to_string (TakesBatchMode mode);
const char *takes_batch_seed_mode_to_string (TakesBatchSeedMode mode);

G_END_DECLS
