/* takes-store-review.c: comparisons and storyboard shots in the library.
 *
 * Shares the store's connection (takes-store-private.h), so these changes
 * follow the same locking and durability as the rest of the library.
 */
#include "config.h"

#define G_LOG_DOMAIN "takes-store"

#include <glib/gi18n.h>
#include <inttypes.h>
#include <sqlite3.h>

#include "takes-store-private.h"
#include "takes-store-review.h"

#define MAX_SHOT_TITLE_CHARS 200
#define MAX_SHOT_NOTES_CHARS 20000

/* Comparisons as boxed values -------------------------------------------- */

TakesComparison *
takes_comparison_copy (const TakesComparison *comparison)
{
  TakesComparison *copy = g_new (TakesComparison, 1);

  *copy = *comparison;
  copy->note = g_strdup (comparison->note);
  return copy;
}

void
takes_comparison_free (TakesComparison *comparison)
{
  if (comparison == NULL)
    return;
  g_free (comparison->note);
  g_free (comparison);
}

G_DEFINE_BOXED_TYPE (TakesComparison, takes_comparison, takes_comparison_copy, takes_comparison_free)

TakesVerdict
takes_comparison_get_verdict (const TakesComparison *comparison)
{
  if (comparison->winner_id == 0)
    return TAKES_VERDICT_TIE;
  return comparison->winner_id == comparison->take_a ? TAKES_VERDICT_A_WINS : TAKES_VERDICT_B_WINS;
}

/* SQL helpers ------------------------------------------------------------ */

/* Appends the first column of every row of @stmt to @ids. */
static gboolean
collect_ids (TakesStore *self, sqlite3_stmt *stmt, GArray *ids, const char *what, GError **error)
{
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);

      g_array_append_val (ids, id);
    }
  if (rc != SQLITE_DONE)
    {
      takes_store_set_sqlite_error (error, takes_store_get_db (self), rc, what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
require_take (TakesStore *self, gint64 take_id, GError **error)
{
  int exists = takes_store_row_exists (self, "takes", take_id, error);

  if (exists == 0)
    g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND,
                 _ ("There is no take %" PRId64 "; see “takes-cli list” for the take numbers."), take_id);
  return exists == 1;
}

static void
set_shot_not_found (GError **error, gint64 shot_id)
{
  g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND,
               _ ("There is no shot %" PRId64 "; see “takes-cli storyboard list” for the shot numbers."),
               shot_id);
}

static gboolean
require_shot (TakesStore *self, gint64 shot_id, GError **error)
{
  int exists = takes_store_row_exists (self, "shots", shot_id, error);

  if (exists == 0)
    set_shot_not_found (error, shot_id);
  return exists == 1;
}

typedef enum
{
  TEXT_COMPARISON_NOTE,
  TEXT_SHOT_TITLE,
  TEXT_SHOT_PROMPT,
  TEXT_SHOT_NOTES,
} TextField;

static gboolean
check_text (const char *text, glong max_chars, TextField field, GError **error)
{
  if (text == NULL || (g_utf8_validate (text, -1, NULL) && g_utf8_strlen (text, -1) <= max_chars))
    return TRUE;

  /* One whole message per field, so each can be translated as a sentence. */
  switch (field)
    {
      case TEXT_COMPARISON_NOTE:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                     _ ("The note of a comparison must be UTF-8 text of at most %ld characters; shorten it."),
                     max_chars);
        break;
      case TEXT_SHOT_TITLE:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                     _ ("The shot title must be UTF-8 text of at most %ld characters; shorten it."),
                     max_chars);
        break;
      case TEXT_SHOT_PROMPT:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                     _ ("The shot prompt must be UTF-8 text of at most %ld characters; shorten it."),
                     max_chars);
        break;
      case TEXT_SHOT_NOTES:
      default:
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                     _ ("The shot notes must be UTF-8 text of at most %ld characters; shorten it."),
                     max_chars);
        break;
    }
  return FALSE;
}

/* Comparisons ------------------------------------------------------------ */

#define COMPARISON_COLUMNS "c.id, c.take_a, c.take_b, c.winner_id, c.note, c.created_at"

static TakesComparison *
comparison_from_stmt (sqlite3_stmt *stmt)
{
  TakesComparison *comparison = g_new0 (TakesComparison, 1);

  comparison->id = sqlite3_column_int64 (stmt, 0);
  comparison->take_a = sqlite3_column_int64 (stmt, 1);
  comparison->take_b = sqlite3_column_int64 (stmt, 2);
  comparison->winner_id = sqlite3_column_int64 (stmt, 3);
  comparison->note = g_strdup ((const char *)sqlite3_column_text (stmt, 4));
  comparison->created = sqlite3_column_int64 (stmt, 5);
  return comparison;
}

static GPtrArray *
collect_comparisons (TakesStore *self, sqlite3_stmt *stmt, GError **error)
{
  g_autoptr (GPtrArray) list = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_comparison_free);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (list, comparison_from_stmt (stmt));
  if (rc != SQLITE_DONE)
    {
      takes_store_set_sqlite_error (error, takes_store_get_db (self), rc, _ ("list the comparisons"));
      return NULL;
    }
  return g_steal_pointer (&list);
}

TakesComparison *
takes_store_add_comparison (
    TakesStore *self, gint64 take_a, gint64 take_b, TakesVerdict verdict, const char *note, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autoptr (sqlite3_stmt) insert = NULL;
  g_autoptr (sqlite3_stmt) read = NULL;
  gint64 winner = 0;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  if (take_a == take_b)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("A take cannot be compared with itself; choose two different takes."));
      return NULL;
    }
  if (verdict > TAKES_VERDICT_TIE)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("A verdict is A wins, B wins or a tie."));
      return NULL;
    }
  if (!check_text (note, TAKES_COMPARISON_MAX_NOTE, TEXT_COMPARISON_NOTE, error))
    return NULL;
  if (verdict == TAKES_VERDICT_A_WINS)
    winner = take_a;
  else if (verdict == TAKES_VERDICT_B_WINS)
    winner = take_b;

  if (!takes_store_transaction_begin (self, &txn, error) || !require_take (self, take_a, error)
      || !require_take (self, take_b, error))
    return NULL;
  insert = takes_store_prepare (
      self, "INSERT INTO comparisons (take_a, take_b, winner_id, note, created_at) VALUES (?, ?, ?, ?, ?)",
      _ ("record the verdict"), error);
  if (insert == NULL)
    return NULL;
  sqlite3_bind_int64 (insert, 1, take_a);
  sqlite3_bind_int64 (insert, 2, take_b);
  if (winner > 0)
    sqlite3_bind_int64 (insert, 3, winner);
  else
    sqlite3_bind_null (insert, 3);
  sqlite3_bind_text (insert, 4, note != NULL ? note : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 5, g_get_real_time ());
  if (!takes_store_step_done (self, insert, _ ("record the verdict"), error))
    return NULL;
  read = takes_store_prepare (self, "SELECT " COMPARISON_COLUMNS " FROM comparisons AS c WHERE c.id = ?",
                              _ ("record the verdict"), error);
  if (read == NULL)
    return NULL;
  sqlite3_bind_int64 (read, 1, sqlite3_last_insert_rowid (takes_store_get_db (self)));
  if (sqlite3_step (read) != SQLITE_ROW)
    {
      takes_store_set_sqlite_error (error, takes_store_get_db (self),
                                    sqlite3_errcode (takes_store_get_db (self)), _ ("record the verdict"));
      return NULL;
    }
  if (!takes_store_transaction_commit (&txn, error))
    return NULL;
  return comparison_from_stmt (read);
}

GPtrArray *
takes_store_list_comparisons (TakesStore *self, gint64 take_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  if (take_id > 0)
    {
      stmt = takes_store_prepare (self,
                                  "SELECT " COMPARISON_COLUMNS
                                  " FROM comparisons AS c WHERE c.take_a = ?1 OR c.take_b = ?1 "
                                  "ORDER BY c.created_at, c.id",
                                  _ ("list the comparisons"), error);
      if (stmt != NULL)
        sqlite3_bind_int64 (stmt, 1, take_id);
    }
  else
    stmt = takes_store_prepare (
        self, "SELECT " COMPARISON_COLUMNS " FROM comparisons AS c ORDER BY c.created_at, c.id",
        _ ("list the comparisons"), error);
  if (stmt == NULL)
    return NULL;
  return collect_comparisons (self, stmt, error);
}

GPtrArray *
takes_store_list_batch_comparisons (TakesStore *self, gint64 batch_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  stmt = takes_store_prepare (self,
                              "SELECT " COMPARISON_COLUMNS " FROM comparisons AS c "
                              "JOIN takes AS a ON a.id = c.take_a JOIN takes AS b ON b.id = c.take_b "
                              "WHERE a.batch_id = ?1 AND b.batch_id = ?1 ORDER BY c.created_at, c.id",
                              _ ("list the comparisons"), error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, batch_id);
  return collect_comparisons (self, stmt, error);
}

static guint
index_of (GArray *ids, gint64 id)
{
  for (guint i = 0; i < ids->len; i++)
    if (g_array_index (ids, gint64, i) == id)
      return i;
  return G_MAXUINT;
}

TakesRanking *
takes_store_rank_batch (TakesStore *self, gint64 batch_id, GArray **take_ids, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GPtrArray) comparisons = NULL;
  g_autoptr (TakesRanking) ranking = NULL;
  int exists;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  exists = takes_store_row_exists (self, "batches", batch_id, error);
  if (exists < 0)
    return NULL;
  if (exists == 0)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND,
                   _ ("There is no batch %" PRId64 "; see “takes-cli batch list” for the batches."),
                   batch_id);
      return NULL;
    }
  stmt = takes_store_prepare (self, "SELECT id FROM takes WHERE batch_id = ? AND status = 'done' ORDER BY id",
                              _ ("rank the batch"), error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, batch_id);
  if (!collect_ids (self, stmt, ids, _ ("rank the batch"), error))
    return NULL;
  if (ids->len > TAKES_RANKING_MAX_ITEMS)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("The batch has %u finished takes; a ranking holds at most %d. Rank a smaller batch."),
                   ids->len, TAKES_RANKING_MAX_ITEMS);
      return NULL;
    }
  comparisons = takes_store_list_batch_comparisons (self, batch_id, error);
  if (comparisons == NULL)
    return NULL;
  ranking = takes_ranking_new (ids->len);
  for (guint i = 0; i < comparisons->len; i++)
    {
      const TakesComparison *c = g_ptr_array_index (comparisons, i);
      guint a = index_of (ids, c->take_a), b = index_of (ids, c->take_b);

      /* Verdicts on takes that are no longer finished do not count. */
      if (a != G_MAXUINT && b != G_MAXUINT)
        takes_ranking_add_verdict (ranking, a, b, takes_comparison_get_verdict (c));
    }
  if (take_ids != NULL)
    *take_ids = g_steal_pointer (&ids);
  return g_steal_pointer (&ranking);
}

/* Shots ------------------------------------------------------------------ */

TakesShot *
takes_store_get_shot (TakesStore *self, gint64 shot_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  TakesShot *shot;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  stmt = takes_store_prepare (
      self,
      "SELECT id, project_id, position, title, prompt, notes, duration_us, chosen_take_id "
      "FROM shots WHERE id = ?",
      _ ("read the shot"), error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, shot_id);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      if (rc == SQLITE_DONE)
        set_shot_not_found (error, shot_id);
      else
        takes_store_set_sqlite_error (error, takes_store_get_db (self), rc, _ ("read the shot"));
      return NULL;
    }
  shot = g_new0 (TakesShot, 1);
  shot->id = sqlite3_column_int64 (stmt, 0);
  shot->project_id = sqlite3_column_int64 (stmt, 1);
  shot->position = (guint)sqlite3_column_int64 (stmt, 2);
  shot->title = g_strdup ((const char *)sqlite3_column_text (stmt, 3));
  shot->prompt = g_strdup ((const char *)sqlite3_column_text (stmt, 4));
  shot->notes = g_strdup ((const char *)sqlite3_column_text (stmt, 5));
  shot->duration = sqlite3_column_int64 (stmt, 6);
  shot->chosen_take_id = sqlite3_column_int64 (stmt, 7);
  return shot;
}

gboolean
takes_store_update_shot (TakesStore *self,
                         gint64 shot_id,
                         const char *title,
                         const char *prompt,
                         const char *notes,
                         gint64 duration,
                         GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);

  if (!check_text (title, MAX_SHOT_TITLE_CHARS, TEXT_SHOT_TITLE, error)
      || !check_text (prompt, TAKES_RECIPE_MAX_PROMPT, TEXT_SHOT_PROMPT, error)
      || !check_text (notes, MAX_SHOT_NOTES_CHARS, TEXT_SHOT_NOTES, error))
    return FALSE;
  if (!takes_store_transaction_begin (self, &txn, error) || !require_shot (self, shot_id, error))
    return FALSE;
  stmt = takes_store_prepare (
      self,
      "UPDATE shots SET title = ifnull(?2, title), prompt = ifnull(?3, prompt), "
      "notes = ifnull(?4, notes), duration_us = CASE WHEN ?5 < 0 THEN duration_us ELSE ?5 END, "
      "updated_at = ?6 WHERE id = ?1",
      _ ("change the shot"), error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, shot_id);
  if (title != NULL)
    sqlite3_bind_text (stmt, 2, title, -1, SQLITE_STATIC);
  if (prompt != NULL)
    sqlite3_bind_text (stmt, 3, prompt, -1, SQLITE_STATIC);
  if (notes != NULL)
    sqlite3_bind_text (stmt, 4, notes, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 5, duration);
  sqlite3_bind_int64 (stmt, 6, g_get_real_time ());
  return takes_store_step_done (self, stmt, _ ("change the shot"), error)
         && takes_store_transaction_commit (&txn, error);
}

/* Numbers the project's shots 1, 2, … in their current order, the moved
 * shot (if any) put at target first. */
static gboolean
renumber (TakesStore *self, gint64 project_id, gint64 moved_id, guint target, GError **error)
{
  g_autoptr (sqlite3_stmt) list = NULL;
  g_autoptr (sqlite3_stmt) update = NULL;
  g_autoptr (GArray) order = g_array_new (FALSE, FALSE, sizeof (gint64));

  list = takes_store_prepare (self,
                              "SELECT id FROM shots WHERE project_id = ? AND id <> ? ORDER BY position, id",
                              _ ("reorder the shots"), error);
  if (list == NULL)
    return FALSE;
  sqlite3_bind_int64 (list, 1, project_id);
  sqlite3_bind_int64 (list, 2, moved_id);
  if (!collect_ids (self, list, order, _ ("reorder the shots"), error))
    return FALSE;
  if (moved_id > 0)
    g_array_insert_val (order, MIN (target > 0 ? target - 1 : 0, order->len), moved_id);

  update = takes_store_prepare (self, "UPDATE shots SET position = ? WHERE id = ? AND position <> ?1",
                                _ ("reorder the shots"), error);
  if (update == NULL)
    return FALSE;
  for (guint i = 0; i < order->len; i++)
    {
      sqlite3_reset (update);
      sqlite3_bind_int64 (update, 1, i + 1);
      sqlite3_bind_int64 (update, 2, g_array_index (order, gint64, i));
      if (!takes_store_step_done (self, update, _ ("reorder the shots"), error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
shot_project (TakesStore *self, gint64 shot_id, gint64 *project_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
      = takes_store_prepare (self, "SELECT project_id FROM shots WHERE id = ?", _ ("read the shot"), error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, shot_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      set_shot_not_found (error, shot_id);
      return FALSE;
    }
  *project_id = sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

gboolean
takes_store_move_shot (TakesStore *self, gint64 shot_id, guint position, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  gint64 project_id = 0;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);

  if (position == 0)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("Shot positions start at 1; give 1 to move the shot to the front."));
      return FALSE;
    }
  return takes_store_transaction_begin (self, &txn, error) && shot_project (self, shot_id, &project_id, error)
         && renumber (self, project_id, shot_id, position, error)
         && takes_store_transaction_commit (&txn, error);
}

gboolean
takes_store_delete_shot (TakesStore *self, gint64 shot_id, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autoptr (sqlite3_stmt) stmt = NULL;
  gint64 project_id = 0;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);

  if (!takes_store_transaction_begin (self, &txn, error) || !shot_project (self, shot_id, &project_id, error))
    return FALSE;
  stmt = takes_store_prepare (self, "DELETE FROM shots WHERE id = ?", _ ("delete the shot"), error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, shot_id);
  return takes_store_step_done (self, stmt, _ ("delete the shot"), error)
         && renumber (self, project_id, 0, 0, error) && takes_store_transaction_commit (&txn, error);
}

static gboolean
insert_alternative (TakesStore *self, gint64 shot_id, gint64 take_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = takes_store_prepare (
      self, "INSERT OR IGNORE INTO shot_takes (shot_id, take_id, added_at) VALUES (?, ?, ?)",
      _ ("keep the alternative"), error);

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, shot_id);
  sqlite3_bind_int64 (stmt, 2, take_id);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time ());
  return takes_store_step_done (self, stmt, _ ("keep the alternative"), error);
}

gboolean
takes_store_pick_shot_take (TakesStore *self, gint64 shot_id, gint64 take_id, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);

  if (!takes_store_transaction_begin (self, &txn, error) || !require_shot (self, shot_id, error)
      || (take_id > 0
          && (!require_take (self, take_id, error) || !insert_alternative (self, shot_id, take_id, error))))
    return FALSE;
  /* A new take starts untrimmed: the old points were times in another video. */
  stmt = takes_store_prepare (self,
                              "UPDATE shots SET chosen_take_id = ?2, "
                              "in_us = CASE WHEN chosen_take_id IS ?2 THEN in_us ELSE 0 END, "
                              "out_us = CASE WHEN chosen_take_id IS ?2 THEN out_us ELSE 0 END, "
                              "updated_at = ?3 WHERE id = ?1",
                              _ ("choose the take"), error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, shot_id);
  if (take_id > 0)
    sqlite3_bind_int64 (stmt, 2, take_id);
  else
    sqlite3_bind_null (stmt, 2);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time ());
  return takes_store_step_done (self, stmt, _ ("choose the take"), error)
         && takes_store_transaction_commit (&txn, error);
}

gboolean
takes_store_add_shot_alternative (TakesStore *self, gint64 shot_id, gint64 take_id, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);

  return takes_store_transaction_begin (self, &txn, error) && require_shot (self, shot_id, error)
         && require_take (self, take_id, error) && insert_alternative (self, shot_id, take_id, error)
         && takes_store_transaction_commit (&txn, error);
}

gboolean
takes_store_remove_shot_alternative (TakesStore *self, gint64 shot_id, gint64 take_id, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autoptr (sqlite3_stmt) remove = NULL;
  g_autoptr (sqlite3_stmt) unchoose = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);

  if (!takes_store_transaction_begin (self, &txn, error) || !require_shot (self, shot_id, error))
    return FALSE;
  remove = takes_store_prepare (self, "DELETE FROM shot_takes WHERE shot_id = ? AND take_id = ?",
                                _ ("remove the alternative"), error);
  if (remove == NULL)
    return FALSE;
  sqlite3_bind_int64 (remove, 1, shot_id);
  sqlite3_bind_int64 (remove, 2, take_id);
  if (!takes_store_step_done (self, remove, _ ("remove the alternative"), error))
    return FALSE;
  unchoose
      = takes_store_prepare (self,
                             "UPDATE shots SET chosen_take_id = NULL, in_us = 0, out_us = 0, updated_at = ?3 "
                             "WHERE id = ?1 AND chosen_take_id = ?2",
                             _ ("remove the alternative"), error);
  if (unchoose == NULL)
    return FALSE;
  sqlite3_bind_int64 (unchoose, 1, shot_id);
  sqlite3_bind_int64 (unchoose, 2, take_id);
  sqlite3_bind_int64 (unchoose, 3, g_get_real_time ());
  return takes_store_step_done (self, unchoose, _ ("remove the alternative"), error)
         && takes_store_transaction_commit (&txn, error);
}

GArray *
takes_store_list_shot_alternatives (TakesStore *self, gint64 shot_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  if (!require_shot (self, shot_id, error))
    return NULL;
  stmt = takes_store_prepare (self,
                              "SELECT take_id, min(added) FROM ("
                              "  SELECT take_id, added_at AS added FROM shot_takes WHERE shot_id = ?1"
                              "  UNION ALL SELECT id, created_at FROM takes WHERE shot_id = ?1"
                              ") GROUP BY take_id ORDER BY min(added), take_id",
                              _ ("list the alternatives"), error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, shot_id);
  if (!collect_ids (self, stmt, ids, _ ("list the alternatives"), error))
    return NULL;
  return g_steal_pointer (&ids);
}

gboolean
takes_store_set_shot_trim (TakesStore *self, gint64 shot_id, const TakesShotTrim *trim, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);
  g_return_val_if_fail (trim != NULL, FALSE);

  if (trim->in_point < 0 || trim->out_point < 0 || (trim->out_point > 0 && trim->out_point <= trim->in_point))
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("The out point must come after the in point, and neither may be negative."));
      return FALSE;
    }
  if (!takes_store_transaction_begin (self, &txn, error) || !require_shot (self, shot_id, error))
    return FALSE;
  stmt = takes_store_prepare (self, "UPDATE shots SET in_us = ?, out_us = ?, updated_at = ? WHERE id = ?",
                              _ ("trim the shot"), error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, trim->in_point);
  sqlite3_bind_int64 (stmt, 2, trim->out_point);
  sqlite3_bind_int64 (stmt, 3, g_get_real_time ());
  sqlite3_bind_int64 (stmt, 4, shot_id);
  return takes_store_step_done (self, stmt, _ ("trim the shot"), error)
         && takes_store_transaction_commit (&txn, error);
}

gboolean
takes_store_get_shot_trim (TakesStore *self, gint64 shot_id, TakesShotTrim *trim, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);
  g_return_val_if_fail (trim != NULL, FALSE);

  stmt = takes_store_prepare (self, "SELECT in_us, out_us FROM shots WHERE id = ?", _ ("read the shot"),
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, shot_id);
  if (sqlite3_step (stmt) != SQLITE_ROW)
    {
      set_shot_not_found (error, shot_id);
      return FALSE;
    }
  trim->in_point = sqlite3_column_int64 (stmt, 0);
  trim->out_point = sqlite3_column_int64 (stmt, 1);
  return TRUE;
}
