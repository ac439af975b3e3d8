/* takes-recipe.h: everything needed to reproduce one take.
 *
 * A recipe is plain data: the store keeps its canonical JSON, the queue hashes
 * it into a cache key and the backends read its fields. Setters do not check
 * values; takes_recipe_validate() does, with messages meant for people.
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define TAKES_RECIPE_ERROR (takes_recipe_error_quark ())

typedef enum
{
  /* The text is not JSON, not UTF-8, too large, or not an object. */
  TAKES_RECIPE_ERROR_MALFORMED,
  /* A known field has the wrong JSON type (a string where a number belongs). */
  TAKES_RECIPE_ERROR_WRONG_TYPE,
  /* A field is missing or empty where a value is required. */
  TAKES_RECIPE_ERROR_MISSING,
  /* A value is outside what the models accept (frames not 4n+1, sizes…). */
  TAKES_RECIPE_ERROR_INVALID_VALUE,
} TakesRecipeError;

/* The version written as "version" in the JSON; older files are read. */
#define TAKES_RECIPE_FORMAT_VERSION 1

/* Limits enforced by takes_recipe_validate(). */
#define TAKES_RECIPE_MAX_JSON_BYTES (1024 * 1024)
#define TAKES_RECIPE_MAX_PROMPT 4000
#define TAKES_RECIPE_MIN_SIZE 16
#define TAKES_RECIPE_MAX_SIZE 4096
/* Every Wan VAE works in blocks of at least 8 pixels (DashScope's 1080p sizes
 * are multiples of 8, not 16); each backend checks its models' own step. */
#define TAKES_RECIPE_SIZE_STEP 8
#define TAKES_RECIPE_MAX_FRAMES 1001
#define TAKES_RECIPE_MAX_FPS 120
#define TAKES_RECIPE_MAX_STEPS 200
#define TAKES_RECIPE_MAX_GUIDANCE 30.0
#define TAKES_RECIPE_MAX_SHIFT 100.0
#define TAKES_RECIPE_MAX_SEED G_GINT64_CONSTANT (2147483647)

#define TAKES_TYPE_RECIPE (takes_recipe_get_type ())
G_DECLARE_FINAL_TYPE (TakesRecipe, takes_recipe, TAKES, RECIPE, GObject)

GQuark takes_recipe_error_quark (void);

/* Defaults of Wan2.1 T2V 1.3B on the local engine: 832×480, 81 frames at
 * 16 fps, 50 UniPC steps, guidance 5, shift 5, seed 0. */
TakesRecipe *takes_recipe_new (void);
TakesRecipe *takes_recipe_copy (TakesRecipe *self);

/* Reads JSON written by takes_recipe_to_json() or by hand. Checks syntax and
 * types; fields it does not know are kept and written back. Missing fields
 * take the defaults. Does not check ranges: call takes_recipe_validate(). */
TakesRecipe *takes_recipe_new_from_json (const char *json, gssize length, GError **error);
TakesRecipe *takes_recipe_new_from_object (JsonObject *object, GError **error);

/* Canonical JSON: keys sorted by their UTF-8 bytes, no whitespace, whole
 * numbers without a fraction, other numbers in their shortest exact form. */
char *takes_recipe_to_json (TakesRecipe *self);
/* The same content as a new JSON object (for embedding in larger documents). */
JsonObject *takes_recipe_to_object (TakesRecipe *self);
/* Lowercase hex SHA-256 of takes_recipe_to_json(). */
char *takes_recipe_get_cache_key (TakesRecipe *self);
gboolean takes_recipe_equal (TakesRecipe *a, TakesRecipe *b);

/* Checks every field; the first problem found is reported. */
gboolean takes_recipe_validate (TakesRecipe *self, GError **error);

const char *takes_recipe_get_prompt (TakesRecipe *self);
void takes_recipe_set_prompt (TakesRecipe *self, const char *prompt);
const char *takes_recipe_get_negative_prompt (TakesRecipe *self);
void takes_recipe_set_negative_prompt (TakesRecipe *self, const char *negative_prompt);
const char *takes_recipe_get_model (TakesRecipe *self);
void takes_recipe_set_model (TakesRecipe *self, const char *model);
const char *takes_recipe_get_backend (TakesRecipe *self);
void takes_recipe_set_backend (TakesRecipe *self, const char *backend);
guint takes_recipe_get_width (TakesRecipe *self);
void takes_recipe_set_width (TakesRecipe *self, guint width);
guint takes_recipe_get_height (TakesRecipe *self);
void takes_recipe_set_height (TakesRecipe *self, guint height);
guint takes_recipe_get_frames (TakesRecipe *self);
void takes_recipe_set_frames (TakesRecipe *self, guint frames);
guint takes_recipe_get_fps (TakesRecipe *self);
void takes_recipe_set_fps (TakesRecipe *self, guint fps);
guint takes_recipe_get_steps (TakesRecipe *self);
void takes_recipe_set_steps (TakesRecipe *self, guint steps);
double takes_recipe_get_guidance (TakesRecipe *self);
void takes_recipe_set_guidance (TakesRecipe *self, double guidance);
double takes_recipe_get_shift (TakesRecipe *self);
void takes_recipe_set_shift (TakesRecipe *self, double shift);
const char *takes_recipe_get_sampler (TakesRecipe *self);
void takes_recipe_set_sampler (TakesRecipe *self, const char *sampler);
gint64 takes_recipe_get_seed (TakesRecipe *self);
void takes_recipe_set_seed (TakesRecipe *self, gint64 seed);
/* Picks a seed in 0…TAKES_RECIPE_MAX_SEED from GLib's random source. */
void takes_recipe_randomize_seed (TakesRecipe *self);

/* Two-expert models (Wan2.2 A14B) use one guidance for the high-noise expert
 * and one for the low-noise expert. Without a pair both use the guidance. */
gboolean takes_recipe_has_guidance_pair (TakesRecipe *self);
void takes_recipe_set_guidance_pair (TakesRecipe *self, double high, double low);
void takes_recipe_clear_guidance_pair (TakesRecipe *self);
double takes_recipe_get_guidance_high (TakesRecipe *self);
double takes_recipe_get_guidance_low (TakesRecipe *self);

/* Free-form options for one backend ("options" in the JSON), for example a
 * ComfyUI scheduler name. The object is owned by the recipe. */
JsonObject *takes_recipe_get_options (TakesRecipe *self);
void takes_recipe_set_option (TakesRecipe *self, const char *name, JsonNode *value);
void takes_recipe_remove_option (TakesRecipe *self, const char *name);

/* Fields of the JSON this version does not know, kept for round trips. */
JsonObject *takes_recipe_get_unknown_fields (TakesRecipe *self);

/* Writes @node (any JSON value) in the canonical form described above. */
void takes_json_write_canonical (GString *out, JsonNode *node);

G_END_DECLS
