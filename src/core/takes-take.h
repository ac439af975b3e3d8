/* takes-take.h: one take as the store holds it, and the query over takes.
 *
 * A TakesTake is a snapshot of a row. Changing it changes nothing on disk
 * until it goes back through takes_store_add_take() or
 * takes_store_update_take(); rating, decision, notes and tags have their own
 * store calls so a single change never rewrites a whole row.
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

#include "takes-recipe.h"

G_BEGIN_DECLS

typedef enum
{
  TAKES_TAKE_STATUS_QUEUED,
  TAKES_TAKE_STATUS_RUNNING,
  TAKES_TAKE_STATUS_DONE,
  TAKES_TAKE_STATUS_FAILED,
  TAKES_TAKE_STATUS_CANCELLED,
} TakesTakeStatus;

typedef enum
{
  TAKES_DECISION_NONE,
  TAKES_DECISION_APPROVED,
  TAKES_DECISION_REJECTED,
} TakesDecision;

/* CREATED is insertion order: ids only grow, so the newest take has the
 * highest id and a search can stop after one page. The other orders break
 * ties newest first. */
typedef enum
{
  TAKES_TAKE_SORT_CREATED,
  TAKES_TAKE_SORT_UPDATED,
  TAKES_TAKE_SORT_RATING,
  TAKES_TAKE_SORT_DURATION,
} TakesTakeSort;

#define TAKES_MAX_RATING 5

#define TAKES_TYPE_TAKE_STATUS (takes_take_status_get_type ())
GType takes_take_status_get_type (void);
#define TAKES_TYPE_DECISION (takes_decision_get_type ())
GType takes_decision_get_type (void);
#define TAKES_TYPE_TAKE_SORT (takes_take_sort_get_type ())
GType takes_take_sort_get_type (void);

/* Stable names used in the database, the JSON output and the command line
 * ("queued", "approved", "created"…). from_string returns FALSE for an
 * unknown name. */
const char *takes_take_status_to_string (TakesTakeStatus status);
gboolean takes_take_status_from_string (const char *name, TakesTakeStatus *status);
const char *takes_take_status_get_label (TakesTakeStatus status);
const char *takes_decision_to_string (TakesDecision decision);
gboolean takes_decision_from_string (const char *name, TakesDecision *decision);
const char *takes_decision_get_label (TakesDecision decision);
const char *takes_take_sort_to_string (TakesTakeSort sort);
gboolean takes_take_sort_from_string (const char *name, TakesTakeSort *sort);

#define TAKES_TYPE_TAKE (takes_take_get_type ())
G_DECLARE_FINAL_TYPE (TakesTake, takes_take, TAKES, TAKE, GObject)

/* A queued take for @recipe (copied): prompt, backend, model, size, frames
 * and fps come from the recipe. */
TakesTake *takes_take_new (TakesRecipe *recipe);

/* 0 until the store has inserted the take. */
gint64 takes_take_get_id (TakesTake *self);
/* 0 means the default project when adding, and "none" for the others. */
gint64 takes_take_get_project_id (TakesTake *self);
void takes_take_set_project_id (TakesTake *self, gint64 project_id);
gint64 takes_take_get_shot_id (TakesTake *self);
void takes_take_set_shot_id (TakesTake *self, gint64 shot_id);
gint64 takes_take_get_batch_id (TakesTake *self);
void takes_take_set_batch_id (TakesTake *self, gint64 batch_id);
gint64 takes_take_get_parent_id (TakesTake *self);
void takes_take_set_parent_id (TakesTake *self, gint64 parent_id);

/* The recipe, parsed from the stored JSON on first use; NULL when that JSON
 * cannot be read as a recipe (takes_store_check() reports such rows). */
TakesRecipe *takes_take_get_recipe (TakesTake *self);
/* Replaces the recipe (copied), its JSON, cache key, backend and model. */
void takes_take_set_recipe (TakesTake *self, TakesRecipe *recipe);
const char *takes_take_get_recipe_json (TakesTake *self);
const char *takes_take_get_cache_key (TakesTake *self);
const char *takes_take_get_backend (TakesTake *self);
const char *takes_take_get_model (TakesTake *self);

TakesTakeStatus takes_take_get_status (TakesTake *self);
void takes_take_set_status (TakesTake *self, TakesTakeStatus status);
/* Relative to the data directory, or NULL when the take has no video. */
const char *takes_take_get_media_path (TakesTake *self);

guint takes_take_get_width (TakesTake *self);
guint takes_take_get_height (TakesTake *self);
guint takes_take_get_frames (TakesTake *self);
double takes_take_get_fps (TakesTake *self);
/* Microseconds. */
gint64 takes_take_get_duration (TakesTake *self);
/* What the video file really is, which may differ from the recipe. */
void takes_take_set_video_info (
    TakesTake *self, guint width, guint height, guint frames, double fps, gint64 duration);

double takes_take_get_seconds_spent (TakesTake *self);
void takes_take_set_seconds_spent (TakesTake *self, double seconds);
double takes_take_get_cost (TakesTake *self);
void takes_take_set_cost (TakesTake *self, double cost);

guint takes_take_get_rating (TakesTake *self);
TakesDecision takes_take_get_decision (TakesTake *self);
const char *takes_take_get_notes (TakesTake *self);

/* The prompt the person wrote, and the optimizer's rewrite (NULL if none);
 * the recipe holds the prompt that was really sent. */
const char *takes_take_get_prompt (TakesTake *self);
void takes_take_set_prompt (TakesTake *self, const char *prompt);
const char *takes_take_get_optimized_prompt (TakesTake *self);
void takes_take_set_optimized_prompt (TakesTake *self, const char *optimized_prompt);
const char *takes_take_get_negative_prompt (TakesTake *self);

/* The variable values of a take made from a batch template, or NULL. */
JsonObject *takes_take_get_variables (TakesTake *self);
void takes_take_set_variables (TakesTake *self, JsonObject *variables);

/* Made by the tiny test model: its video is noise and the UI says so. */
gboolean takes_take_get_is_tiny (TakesTake *self);
void takes_take_set_is_tiny (TakesTake *self, gboolean is_tiny);

/* Microseconds since the Unix epoch (g_get_real_time()). */
gint64 takes_take_get_created (TakesTake *self);
gint64 takes_take_get_updated (TakesTake *self);
/* Sorted, never NULL. */
const char *const *takes_take_get_tags (TakesTake *self);
/* Tags to store with a take that is being added; later changes go through
 * takes_store_add_tags() and takes_store_remove_tags(). */
void takes_take_set_tags (TakesTake *self, const char *const *tags);
gboolean takes_take_has_tag (TakesTake *self, const char *tag);

/* Every field as a JSON object (the recipe embedded as an object), for
 * `takes-cli … --json` and the export sidecar. */
JsonObject *takes_take_to_json (TakesTake *self);

/* A filter over takes for takes_store_query_takes(). Start from
 * takes_take_query_init(); strings are borrowed for the call. */
typedef struct
{
  gint64 project_id;   /* 0: any project */
  gint64 shot_id;      /* 0: any shot */
  gint64 batch_id;     /* 0: any batch */
  gint64 parent_id;    /* 0: any parent */
  const char *tag;     /* NULL: any */
  const char *backend; /* NULL: any; a backend id such as "local" or "dashscope" */
  guint min_rating;    /* 0: any */
  guint status_mask;   /* 1 << TakesTakeStatus bits; 0: any */
  guint decision_mask; /* 1 << TakesDecision bits; 0: any */
  const char *text;    /* words that must all appear in the prompts or the notes:
                        * word prefixes ("fox" finds "foxes"), "quoted phrases", and
                        * any characters of Chinese, Japanese or Korean text */
  TakesTakeSort sort;
  gboolean ascending; /* default newest / highest first */
  guint limit;        /* 0: no limit */
  guint offset;
} TakesTakeQuery;

void takes_take_query_init (TakesTakeQuery *query);

G_END_DECLS
