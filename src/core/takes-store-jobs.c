/* takes-store-jobs.c: the jobs, ledger and budgets tables.
 *
 * A store extension: it uses the store's connection (takes-store-private.h)
 * so that a job row is written with its take, and a finished job's take,
 * job and ledger entry change in one transaction.
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <math.h>
#include <sqlite3.h>

#include "takes-store-jobs.h"
#include "takes-store-private.h"

/* Helpers ---------------------------------------------------------------- */

static void
bind_text_or_null (sqlite3_stmt *stmt, int index, const char *text)
{
  if (text != NULL && *text != '\0')
    sqlite3_bind_text (stmt, index, text, -1, SQLITE_TRANSIENT);
  else
    sqlite3_bind_null (stmt, index);
}

static TakesTakeStatus
take_status_for (TakesJobState state)
{
  switch (state)
    {
      case TAKES_JOB_STATE_RUNNING:
        return TAKES_TAKE_STATUS_RUNNING;
      case TAKES_JOB_STATE_DONE:
        return TAKES_TAKE_STATUS_DONE;
      case TAKES_JOB_STATE_FAILED:
        return TAKES_TAKE_STATUS_FAILED;
      case TAKES_JOB_STATE_CANCELLED:
        return TAKES_TAKE_STATUS_CANCELLED;
      case TAKES_JOB_STATE_QUEUED:
      case TAKES_JOB_STATE_PAUSED:
      default:
        return TAKES_TAKE_STATUS_QUEUED;
    }
}

/* Job rows --------------------------------------------------------------- */

TakesJobRow *
takes_job_row_copy (const TakesJobRow *row)
{
  TakesJobRow *copy = g_memdup2 (row, sizeof *row);

  copy->backend = g_strdup (row->backend);
  copy->last_error = g_strdup (row->last_error);
  copy->remote_task_id = g_strdup (row->remote_task_id);
  copy->currency = g_strdup (row->currency);
  copy->recipe_json = g_strdup (row->recipe_json);
  return copy;
}

void
takes_job_row_free (TakesJobRow *row)
{
  if (row == NULL)
    return;
  g_free (row->backend);
  g_free (row->last_error);
  g_free (row->remote_task_id);
  g_free (row->currency);
  g_free (row->recipe_json);
  g_free (row);
}

#define JOB_COLUMNS                                                                                          \
  "j.id, j.take_id, t.project_id, j.backend, j.state, j.priority, j.position, j.attempts, "                  \
  "j.next_attempt_at, j.last_error, j.remote_task_id, j.estimated_cost, j.currency, t.recipe, "              \
  "t.media_path IS NOT NULL, j.created_at, j.updated_at"

static TakesJobRow *
job_from_stmt (sqlite3_stmt *stmt)
{
  TakesJobRow *row = g_new0 (TakesJobRow, 1);
  const char *currency;
  int c = 0;

  row->id = sqlite3_column_int64 (stmt, c++);
  row->take_id = sqlite3_column_int64 (stmt, c++);
  row->project_id = sqlite3_column_int64 (stmt, c++);
  row->backend = g_strdup ((const char *)sqlite3_column_text (stmt, c++));
  if (!takes_job_state_from_string ((const char *)sqlite3_column_text (stmt, c++), &row->state))
    row->state = TAKES_JOB_STATE_FAILED;
  row->priority = sqlite3_column_int (stmt, c++);
  row->position = sqlite3_column_double (stmt, c++);
  row->attempts = (guint)MAX (0, sqlite3_column_int (stmt, c));
  c++;
  row->next_attempt_at = sqlite3_column_int64 (stmt, c++);
  row->last_error = g_strdup ((const char *)sqlite3_column_text (stmt, c++));
  row->remote_task_id = g_strdup ((const char *)sqlite3_column_text (stmt, c++));
  row->estimated_cost = sqlite3_column_double (stmt, c++);
  currency = (const char *)sqlite3_column_text (stmt, c++);
  row->currency = currency != NULL && *currency != '\0' ? g_strdup (currency) : NULL;
  row->recipe_json = g_strdup ((const char *)sqlite3_column_text (stmt, c++));
  row->take_has_media = sqlite3_column_int (stmt, c++) != 0;
  row->created = sqlite3_column_int64 (stmt, c++);
  row->updated = sqlite3_column_int64 (stmt, c++);
  return row;
}

GPtrArray *
takes_store_list_jobs (TakesStore *self, gboolean include_finished, GError **error)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_job_row_free);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  stmt = takes_store_prepare (
      self,
      include_finished ? "SELECT " JOB_COLUMNS " FROM jobs AS j JOIN takes AS t ON t.id = j.take_id "
                         "ORDER BY j.priority DESC, j.position, j.id"
                       : "SELECT " JOB_COLUMNS " FROM jobs AS j JOIN takes AS t ON t.id = j.take_id "
                         "WHERE j.state IN ('queued', 'running', 'paused') "
                         "ORDER BY j.priority DESC, j.position, j.id",
      _ ("read the queue"), error);
  if (stmt == NULL)
    return NULL;
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (rows, job_from_stmt (stmt));
  if (rc != SQLITE_DONE)
    {
      takes_store_set_sqlite_error (error, takes_store_get_db (self), rc, _ ("read the queue"));
      return NULL;
    }
  return g_steal_pointer (&rows);
}

TakesJobRow *
takes_store_get_job (TakesStore *self, gint64 job_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  stmt = takes_store_prepare (
      self, "SELECT " JOB_COLUMNS " FROM jobs AS j JOIN takes AS t ON t.id = j.take_id WHERE j.id = ?",
      _ ("read the queue"), error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, job_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return job_from_stmt (stmt);
  if (rc == SQLITE_DONE)
    g_set_error (
        error, TAKES_QUEUE_ERROR, TAKES_QUEUE_ERROR_NOT_FOUND,
        _ ("There is no job %" PRId64 " in the queue; check the number with “takes-cli queue list”."),
        job_id);
  else
    takes_store_set_sqlite_error (error, takes_store_get_db (self), rc, _ ("read the queue"));
  return NULL;
}

gboolean
takes_store_enqueue_takes (TakesStore *self,
                           GPtrArray *takes,
                           int priority,
                           const double *estimates,
                           const char *const *currencies,
                           GArray *job_ids,
                           GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autoptr (sqlite3_stmt) last = NULL;
  g_autoptr (sqlite3_stmt) insert = NULL;
  g_autoptr (GArray) ids = NULL;
  double position = 0;
  gint64 now = g_get_real_time ();
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);
  g_return_val_if_fail (takes != NULL, FALSE);

  ids = g_array_sized_new (FALSE, FALSE, sizeof (gint64), takes->len);
  if (!takes_store_transaction_begin (self, &txn, error))
    return FALSE;
  last = takes_store_prepare (self, "SELECT max(position) FROM jobs WHERE priority = ?",
                              _ ("add to the queue"), error);
  if (last == NULL)
    return FALSE;
  sqlite3_bind_int (last, 1, priority);
  rc = sqlite3_step (last);
  if (rc != SQLITE_ROW)
    {
      takes_store_set_sqlite_error (error, txn.db, rc, _ ("add to the queue"));
      return FALSE;
    }
  position = sqlite3_column_type (last, 0) == SQLITE_NULL ? 0 : floor (sqlite3_column_double (last, 0));

  insert = takes_store_prepare (
      self,
      "INSERT INTO jobs (take_id, backend, state, priority, position, estimated_cost, currency, "
      "created_at, updated_at) VALUES (?1, ?2, 'queued', ?3, ?4, ?5, ?6, ?7, ?7)",
      _ ("add to the queue"), error);
  if (insert == NULL)
    return FALSE;
  for (guint i = 0; i < takes->len; i++)
    {
      TakesTake *take = g_ptr_array_index (takes, i);
      gint64 id;

      takes_take_set_status (take, TAKES_TAKE_STATUS_QUEUED);
      if (!takes_store_insert_take_in_transaction (self, take, error))
        {
          for (guint j = 0; j <= i; j++)
            takes_take_set_stored (g_ptr_array_index (takes, j), 0, 0, NULL, 0, 0);
          return FALSE;
        }
      sqlite3_reset (insert);
      sqlite3_clear_bindings (insert);
      sqlite3_bind_int64 (insert, 1, takes_take_get_id (take));
      sqlite3_bind_text (insert, 2, takes_take_get_backend (take), -1, SQLITE_STATIC);
      sqlite3_bind_int (insert, 3, priority);
      sqlite3_bind_double (insert, 4, position + 1 + i);
      sqlite3_bind_double (insert, 5, estimates != NULL ? estimates[i] : 0);
      sqlite3_bind_text (insert, 6, currencies != NULL && currencies[i] != NULL ? currencies[i] : "", -1,
                         SQLITE_STATIC);
      sqlite3_bind_int64 (insert, 7, now);
      if (!takes_store_step_done (self, insert, _ ("add to the queue"), error))
        {
          for (guint j = 0; j <= i; j++)
            takes_take_set_stored (g_ptr_array_index (takes, j), 0, 0, NULL, 0, 0);
          return FALSE;
        }
      id = sqlite3_last_insert_rowid (txn.db);
      g_array_append_val (ids, id);
    }
  if (!takes_store_transaction_commit (&txn, error))
    {
      for (guint j = 0; j < takes->len; j++)
        takes_take_set_stored (g_ptr_array_index (takes, j), 0, 0, NULL, 0, 0);
      return FALSE;
    }
  if (job_ids != NULL)
    g_array_append_vals (job_ids, ids->data, ids->len);
  return TRUE;
}

static gboolean
update_job_and_take (TakesStore *self, const TakesJobRow *row, GError **error)
{
  g_autoptr (sqlite3_stmt) job = NULL;
  g_autoptr (sqlite3_stmt) take = NULL;
  gint64 now = g_get_real_time ();

  job = takes_store_prepare (
      self,
      "UPDATE jobs SET state = ?1, priority = ?2, position = ?3, attempts = ?4, next_attempt_at = ?5, "
      "last_error = ?6, remote_task_id = ?7, estimated_cost = ?8, currency = ?9, updated_at = ?10 "
      "WHERE id = ?11",
      _ ("update the queue"), error);
  if (job == NULL)
    return FALSE;
  sqlite3_bind_text (job, 1, takes_job_state_to_string (row->state), -1, SQLITE_STATIC);
  sqlite3_bind_int (job, 2, row->priority);
  sqlite3_bind_double (job, 3, row->position);
  sqlite3_bind_int (job, 4, (int)row->attempts);
  sqlite3_bind_int64 (job, 5, row->next_attempt_at);
  bind_text_or_null (job, 6, row->last_error);
  bind_text_or_null (job, 7, row->remote_task_id);
  sqlite3_bind_double (job, 8, row->estimated_cost);
  sqlite3_bind_text (job, 9, row->currency != NULL ? row->currency : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64 (job, 10, now);
  sqlite3_bind_int64 (job, 11, row->id);
  if (!takes_store_step_done (self, job, _ ("update the queue"), error))
    return FALSE;
  if (sqlite3_changes (takes_store_get_db (self)) == 0)
    {
      g_set_error (error, TAKES_QUEUE_ERROR, TAKES_QUEUE_ERROR_NOT_FOUND,
                   _ ("Job %" PRId64 " is no longer in the library; it was removed by another program."),
                   row->id);
      return FALSE;
    }
  take = takes_store_prepare (self,
                              "UPDATE takes SET status = ?1, updated_at = ?2 WHERE id = ?3 AND status <> ?1",
                              _ ("update the queue"), error);
  if (take == NULL)
    return FALSE;
  sqlite3_bind_text (take, 1, takes_take_status_to_string (take_status_for (row->state)), -1, SQLITE_STATIC);
  sqlite3_bind_int64 (take, 2, now);
  sqlite3_bind_int64 (take, 3, row->take_id);
  return takes_store_step_done (self, take, _ ("update the queue"), error);
}

gboolean
takes_store_save_job (TakesStore *self, const TakesJobRow *row, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);
  g_return_val_if_fail (row != NULL, FALSE);

  return takes_store_transaction_begin (self, &txn, error) && update_job_and_take (self, row, error)
         && takes_store_transaction_commit (&txn, error);
}

static gboolean
insert_ledger (TakesStore *self,
               gint64 take_id,
               gint64 project_id,
               const char *backend,
               double seconds,
               double cost,
               const char *currency,
               GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  stmt = takes_store_prepare (
      self,
      "INSERT INTO ledger (take_id, project_id, backend, seconds, cost, currency, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)",
      _ ("record the cost"), error);
  if (stmt == NULL)
    return FALSE;
  if (take_id > 0)
    sqlite3_bind_int64 (stmt, 1, take_id);
  else
    sqlite3_bind_null (stmt, 1);
  if (project_id > 0)
    sqlite3_bind_int64 (stmt, 2, project_id);
  else
    sqlite3_bind_null (stmt, 2);
  sqlite3_bind_text (stmt, 3, backend, -1, SQLITE_STATIC);
  sqlite3_bind_double (stmt, 4, MAX (seconds, 0));
  sqlite3_bind_double (stmt, 5, MAX (cost, 0));
  sqlite3_bind_text (stmt, 6, currency != NULL ? currency : "", -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 7, g_get_real_time ());
  return takes_store_step_done (self, stmt, _ ("record the cost"), error);
}

gboolean
takes_store_finish_job (TakesStore *self,
                        const TakesJobRow *row,
                        double seconds,
                        double cost,
                        const char *currency,
                        GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autoptr (sqlite3_stmt) take = NULL;
  g_autoptr (TakesJobRow) done = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);
  g_return_val_if_fail (row != NULL, FALSE);

  done = takes_job_row_copy (row);
  done->state = TAKES_JOB_STATE_DONE;
  g_clear_pointer (&done->last_error, g_free);
  if (!takes_store_transaction_begin (self, &txn, error) || !update_job_and_take (self, done, error))
    return FALSE;
  take = takes_store_prepare (self, "UPDATE takes SET seconds_spent = ?, cost = ? WHERE id = ?",
                              _ ("record the cost"), error);
  if (take == NULL)
    return FALSE;
  sqlite3_bind_double (take, 1, MAX (seconds, 0));
  sqlite3_bind_double (take, 2, MAX (cost, 0));
  sqlite3_bind_int64 (take, 3, row->take_id);
  if (!takes_store_step_done (self, take, _ ("record the cost"), error)
      || !insert_ledger (self, row->take_id, row->project_id, row->backend, seconds, cost, currency, error))
    return FALSE;
  return takes_store_transaction_commit (&txn, error);
}

gboolean
takes_store_delete_finished_jobs (TakesStore *self, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);

  stmt = takes_store_prepare (self, "DELETE FROM jobs WHERE state IN ('done', 'failed', 'cancelled')",
                              _ ("clear the finished jobs"), error);
  return stmt != NULL && takes_store_step_done (self, stmt, _ ("clear the finished jobs"), error);
}

/* Ledger ------------------------------------------------------------------- */

gboolean
takes_store_add_ledger_entry (TakesStore *self,
                              gint64 take_id,
                              gint64 project_id,
                              const char *backend,
                              double seconds,
                              double cost,
                              const char *currency,
                              GError **error)
{
  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);
  g_return_val_if_fail (backend != NULL, FALSE);

  return insert_ledger (self, take_id, project_id, backend, seconds, cost, currency, error);
}

GPtrArray *
takes_store_query_ledger (TakesStore *self,
                          gint64 project_id,
                          const char *backend,
                          gint64 from,
                          gint64 to,
                          TakesLedgerGroup group,
                          GError **error)
{
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_ledger_row_free);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autofree char *sql = NULL;
  const char *key;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  switch (group)
    {
      case TAKES_LEDGER_GROUP_BACKEND:
        key = "l.backend, 0";
        break;
      case TAKES_LEDGER_GROUP_PROJECT:
        key = "coalesce(p.name, ''), coalesce(l.project_id, 0)";
        break;
      case TAKES_LEDGER_GROUP_DAY:
        key = "date(l.created_at / 1000000, 'unixepoch', 'localtime'), 0";
        break;
      case TAKES_LEDGER_GROUP_NONE:
      default:
        key = "NULL, 0";
        break;
    }
  /* Parameters that do not filter compare with themselves (?n IS NULL), so
   * one statement serves every combination. */
  sql = g_strdup_printf ("SELECT %s, l.currency, count(*), total(l.seconds), total(l.cost) "
                         "FROM ledger AS l LEFT JOIN projects AS p ON p.id = l.project_id "
                         "WHERE (?1 IS NULL OR l.project_id = ?1) AND (?2 IS NULL OR l.backend = ?2) "
                         "AND (?3 IS NULL OR l.created_at >= ?3) AND (?4 IS NULL OR l.created_at < ?4) "
                         "GROUP BY 1, 2, 3 ORDER BY 1, 3",
                         key);
  stmt = takes_store_prepare (self, sql, _ ("read the ledger"), error);
  if (stmt == NULL)
    return NULL;
  if (project_id > 0)
    sqlite3_bind_int64 (stmt, 1, project_id);
  bind_text_or_null (stmt, 2, backend);
  if (from > 0)
    sqlite3_bind_int64 (stmt, 3, from);
  if (to > 0)
    sqlite3_bind_int64 (stmt, 4, to);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      TakesLedgerRow *row = g_new0 (TakesLedgerRow, 1);
      const char *currency = (const char *)sqlite3_column_text (stmt, 2);

      row->key = g_strdup ((const char *)sqlite3_column_text (stmt, 0));
      row->project_id = sqlite3_column_int64 (stmt, 1);
      row->currency = currency != NULL && *currency != '\0' ? g_strdup (currency) : NULL;
      row->n_jobs = (guint)sqlite3_column_int64 (stmt, 3);
      row->seconds = sqlite3_column_double (stmt, 4);
      row->cost = sqlite3_column_double (stmt, 5);
      g_ptr_array_add (rows, row);
    }
  if (rc != SQLITE_DONE)
    {
      takes_store_set_sqlite_error (error, takes_store_get_db (self), rc, _ ("read the ledger"));
      return NULL;
    }
  return g_steal_pointer (&rows);
}

/* Budgets ------------------------------------------------------------------ */

static gboolean
require_project (TakesStore *self, gint64 project_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt
      = takes_store_prepare (self, "SELECT 1 FROM projects WHERE id = ?", _ ("read the library"), error);
  int rc;

  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, project_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return TRUE;
  if (rc == SQLITE_DONE)
    g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND,
                 _ ("There is no project %" PRId64 " in the library; check the number."), project_id);
  else
    takes_store_set_sqlite_error (error, takes_store_get_db (self), rc, _ ("read the library"));
  return FALSE;
}

gboolean
takes_store_set_budget (
    TakesStore *self, gint64 project_id, double amount, const char *currency, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);
  g_return_val_if_fail (currency != NULL, FALSE);

  if (!require_project (self, project_id, error))
    return FALSE;
  stmt = takes_store_prepare (
      self,
      "INSERT INTO budgets (project_id, amount, currency, updated_at) VALUES (?1, ?2, ?3, ?4) "
      "ON CONFLICT (project_id) DO UPDATE SET amount = ?2, currency = ?3, updated_at = ?4",
      _ ("set the budget"), error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, project_id);
  sqlite3_bind_double (stmt, 2, amount);
  sqlite3_bind_text (stmt, 3, currency, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (stmt, 4, g_get_real_time ());
  return takes_store_step_done (self, stmt, _ ("set the budget"), error);
}

gboolean
takes_store_clear_budget (TakesStore *self, gint64 project_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);

  stmt = takes_store_prepare (self, "DELETE FROM budgets WHERE project_id = ?", _ ("remove the budget"),
                              error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, project_id);
  return takes_store_step_done (self, stmt, _ ("remove the budget"), error);
}

TakesBudget *
takes_store_get_budget (TakesStore *self, gint64 project_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (TakesBudget) budget = NULL;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  stmt = takes_store_prepare (
      self,
      "SELECT b.amount, b.currency, "
      "(SELECT total(l.cost) FROM ledger AS l WHERE l.project_id = b.project_id "
      "AND l.currency = b.currency), "
      "(SELECT total(j.estimated_cost) FROM jobs AS j JOIN takes AS t ON t.id = j.take_id "
      "WHERE t.project_id = b.project_id AND j.currency = b.currency "
      "AND j.state IN ('queued', 'running', 'paused')) "
      "FROM budgets AS b WHERE b.project_id = ?",
      _ ("read the budget"), error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, project_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    return NULL;
  if (rc != SQLITE_ROW)
    {
      takes_store_set_sqlite_error (error, takes_store_get_db (self), rc, _ ("read the budget"));
      return NULL;
    }
  budget = g_new0 (TakesBudget, 1);
  budget->project_id = project_id;
  budget->amount = sqlite3_column_double (stmt, 0);
  budget->currency = g_strdup ((const char *)sqlite3_column_text (stmt, 1));
  budget->spent = sqlite3_column_double (stmt, 2);
  budget->pending = sqlite3_column_double (stmt, 3);
  return g_steal_pointer (&budget);
}
