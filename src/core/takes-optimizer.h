/* takes-optimizer.h: the offline prompt optimizer.
 *
 * A rule engine over bilingual lexicons (data/prompt/lexicon-en.json and
 * lexicon-zh.json). It finds which cinematic facts a prompt already states and
 * proposes the missing ones as separate suggestions, following the rules of
 * the official Wan prompt extension: a few camera and light settings at the
 * front (at most "max-settings"), motion when nothing moves and how it
 * unfolds, a setting for the subject, a clear blue sky instead of a bare one,
 * and a style the user gave moved to the front. It never adds a subject or a
 * style of its own, writes in the prompt's language, and gives the same
 * suggestions for the same prompt and seed.
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define TAKES_OPTIMIZER_ERROR (takes_optimizer_error_quark ())

typedef enum
{
  /* A lexicon cannot be read or does not have the documented shape, or a
   * suggestion in it would add a subject. */
  TAKES_OPTIMIZER_ERROR_INVALID_LEXICON,
} TakesOptimizerError;

typedef enum
{
  TAKES_PROMPT_FACT_SUBJECT,
  TAKES_PROMPT_FACT_ACTION,
  TAKES_PROMPT_FACT_UNFOLDING, /* how the action unfolds */
  TAKES_PROMPT_FACT_SCENE,
  TAKES_PROMPT_FACT_TIME_OF_DAY,
  TAKES_PROMPT_FACT_LIGHT_SOURCE,
  TAKES_PROMPT_FACT_LIGHT_DIRECTION,
  TAKES_PROMPT_FACT_LIGHT_HARDNESS,
  TAKES_PROMPT_FACT_COLOR_TONE,
  TAKES_PROMPT_FACT_SHOT_SIZE,
  TAKES_PROMPT_FACT_CAMERA_ANGLE,
  TAKES_PROMPT_FACT_CAMERA_MOVEMENT,
  TAKES_PROMPT_FACT_LENS,
  TAKES_PROMPT_FACT_COMPOSITION,
  TAKES_PROMPT_FACT_STYLE,
  TAKES_PROMPT_FACT_SKY, /* only as a suggestion: a bare sky made clear and blue */
  TAKES_PROMPT_N_FACTS,
} TakesPromptFact;

/* "zh" when Han characters carry the prompt, else "en". */
const char *takes_prompt_guess_language (const char *prompt);

/* Stable ids ("time_of_day") for JSON and lexicons, and translated labels. */
const char *takes_prompt_fact_to_string (TakesPromptFact fact);
gboolean takes_prompt_fact_from_string (const char *id, TakesPromptFact *fact);
const char *takes_prompt_fact_get_label (TakesPromptFact fact);

/* A fact the prompt states: the words that state it and the lexicon's tag
 * for them ("person", "night", "2d"…). */
typedef struct
{
  TakesPromptFact kind;
  char *tag;
  char *text;
  gsize start; /* byte offsets in the prompt */
  gsize end;
} TakesPromptFactMatch;

typedef enum
{
  TAKES_PROMPT_EDIT_INSERT, /* @text goes in at @position */
  TAKES_PROMPT_EDIT_MOVE,   /* [@remove_start, @remove_end) is taken out, @text goes in at @position */
} TakesPromptEdit;

typedef struct
{
  TakesPromptFact kind;
  TakesPromptEdit edit;
  char *text;        /* the words added (or moved), without separators */
  char *explanation; /* a short phrase, translated */
  gsize position;    /* byte offset in the original prompt */
  gsize remove_start;
  gsize remove_end;
} TakesPromptSuggestion;

#define TAKES_TYPE_PROMPT_ANALYSIS (takes_prompt_analysis_get_type ())
G_DECLARE_FINAL_TYPE (TakesPromptAnalysis, takes_prompt_analysis, TAKES, PROMPT_ANALYSIS, GObject)

const char *takes_prompt_analysis_get_prompt (TakesPromptAnalysis *self);
/* "en" or "zh": the language of the prompt, which the suggestions follow. */
const char *takes_prompt_analysis_get_language (TakesPromptAnalysis *self);
/* TakesPromptFactMatch, in order of position. */
GPtrArray *takes_prompt_analysis_get_facts (TakesPromptAnalysis *self);
gboolean takes_prompt_analysis_has_fact (TakesPromptAnalysis *self, TakesPromptFact kind);
/* TakesPromptSuggestion, in the order they read in the result. */
GPtrArray *takes_prompt_analysis_get_suggestions (TakesPromptAnalysis *self);
/* The prompt with the chosen suggestions (indices into the list) applied;
 * the others are left out. Indices out of range are ignored. */
char *takes_prompt_analysis_apply (TakesPromptAnalysis *self, const guint *indices, guint n_indices);
char *takes_prompt_analysis_apply_all (TakesPromptAnalysis *self);
JsonNode *takes_prompt_analysis_to_json (TakesPromptAnalysis *self);

#define TAKES_TYPE_OPTIMIZER (takes_optimizer_get_type ())
G_DECLARE_FINAL_TYPE (TakesOptimizer, takes_optimizer, TAKES, OPTIMIZER, GObject)

GQuark takes_optimizer_error_quark (void);

/* Loads the lexicons at @paths (NULL-terminated), one per language. */
TakesOptimizer *takes_optimizer_new_from_files (const char *const *paths, GError **error);
/* The shipped lexicons (prompt/lexicon-en.json, prompt/lexicon-zh.json). */
TakesOptimizer *takes_optimizer_new_default (GError **error);

/* How many camera and light settings one analysis may propose (default 4,
 * the cap of the official English rules; 0 for no cap). */
guint takes_optimizer_get_max_settings (TakesOptimizer *self);
void takes_optimizer_set_max_settings (TakesOptimizer *self, guint max_settings);

/* Analyses @prompt. @seed picks among equally good suggestions; 0 gives the
 * defaults of the official rules (daytime, medium shot, centred). Safe to call
 * from several threads. */
TakesPromptAnalysis *takes_optimizer_analyze (TakesOptimizer *self, const char *prompt, guint64 seed);

G_END_DECLS
