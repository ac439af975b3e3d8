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
G_DEFINE_AUTOPTR_CLEANUP_FUNC (sqlite3_stmt, sqlite3_finalize)

/* Each of these sets a TAKES_STORE_ERROR naming @what on failure. */
sqlite3_stmt *takes_store_prepare (TakesStore *self, const char *sql, const char *what, GError **error);
gboolean takes_store_exec (TakesStore *self, const char *sql, const char *what, GError **error);
/* Runs a statement that returns no rows; SQLITE_ROW counts as success. */
gboolean takes_store_step_done (TakesStore *self, sqlite3_stmt *stmt, const char *what, GError **error);
/* Returns 1 when a row with @id exists in @table, 0 when not, -1 on error. */
int takes_store_row_exists (TakesStore *self, const char *table, gint64 id, GError **error);

/* A write transaction that rolls back when it goes out of scope
 * uncommitted, so every early return leaves the library unchanged:
 * `g_auto (TakesStoreTransaction) txn = { 0 };` */
typedef struct
{
  sqlite3 *db;
  gboolean active;
} TakesStoreTransaction;

void takes_store_transaction_clear (TakesStoreTransaction *txn);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (TakesStoreTransaction, takes_store_transaction_clear)
gboolean takes_store_transaction_begin (TakesStore *self, TakesStoreTransaction *txn, GError **error);
gboolean takes_store_transaction_commit (TakesStoreTransaction *txn, GError **error);

/* Inserts a take without video, its tags and links checked, inside a
 * transaction the caller holds; fills in its id, project and timestamps. */
gboolean takes_store_insert_take_in_transaction (TakesStore *self, TakesTake *take, GError **error);

G_END_DECLS
