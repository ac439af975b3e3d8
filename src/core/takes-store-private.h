/* takes-store-private.h: what the store may do to a take and nobody else. */
#pragma once

#include <sqlite3.h>

#include "takes-take.h"
#include "takes-store.h"

G_BEGIN_DECLS

/* The fields a row has that a caller cannot set through the public API. */
typedef struct
{
  gint64 id;
  gint64 project_id;
  gint64 shot_id;
  gint64 batch_id;
  gint64 parent_id;
  const char *recipe_json;
  const char *cache_key;
  const char *backend;
  const char *model;
  TakesTakeStatus status;
  const char *media_path;
  guint width;
  guint height;
  guint frames;
  double fps;
  gint64 duration;
  double seconds_spent;
  double cost;
  guint rating;
  TakesDecision decision;
  const char *notes;
  const char *prompt;
  const char *optimized_prompt;
  const char *negative_prompt;
  const char *variables_json;
  gboolean is_tiny;
  gint64 created;
  gint64 updated;
  const char *tags; /* joined by TAKES_TAG_SEPARATOR, or NULL */
} TakesTakeRow;

/* Tags are joined with a control character no tag may contain. */
#define TAKES_TAG_SEPARATOR "\x1f"

TakesTake *takes_take_new_from_row (const TakesTakeRow *row);
void takes_take_set_stored (
    TakesTake *self, gint64 id, gint64 project_id, const char *media_path, gint64 created, gint64 updated);
char *takes_take_dup_variables_json (TakesTake *self);

/* Makes a library at an older schema @version (0: an empty database), so
 * the tests can check every migration from it. */
gboolean takes_store_create_at_version (const char *db_path, guint version, GError **error);

/* For the store's extensions (takes-store-*.c), which keep their SQL next to
 * the feature they serve but share the one connection, so their changes can
 * join a take's insertion in the same transaction. */
sqlite3 *takes_store_get_db (TakesStore *self);
/* Maps an SQLite result code to a TAKES_STORE_ERROR, @what being what could
 * not be done ("read the queue"). */
void takes_store_set_sqlite_error (GError **error, sqlite3 *db, int rc, const char *what);
/* Inserts a take without video, its tags and links checked, inside a
 * transaction the caller holds; fills in its id, project and timestamps. */
gboolean takes_store_insert_take_in_transaction (TakesStore *self, TakesTake *take, GError **error);

G_END_DECLS
