/* takes-store-jobs.h: the queue's and the ledger's tables (jobs, ledger,
 * budgets), for takes-queue.c and takes-ledger.c only.
 *
 * These calls share the store's connection and its thread: a job row is
 * written in the same transaction as its take, and a finished job's take,
 * job row and ledger entry change together.
 */
#pragma once

#include "takes-ledger.h"
#include "takes-queue.h"
#include "takes-store.h"

G_BEGIN_DECLS

/* A job row with the fields of its take the queue needs. */
typedef struct
{
  gint64 id;
  gint64 take_id;
  gint64 project_id;
  char *backend;
  TakesJobState state;
  int priority;
  double position;
  guint attempts;
  gint64 next_attempt_at; /* g_get_real_time() units, 0: now */
  char *last_error;
  char *remote_task_id;
  double estimated_cost;
  char *currency; /* NULL: free */
  char *recipe_json;
  gboolean take_has_media;
  gint64 created;
  gint64 updated;
} TakesJobRow;

TakesJobRow *takes_job_row_copy (const TakesJobRow *row);
void takes_job_row_free (TakesJobRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesJobRow, takes_job_row_free)

/* Jobs in queue order (priority, then position); finished ones too when
 * @include_finished. Array of TakesJobRow. */
GPtrArray *takes_store_list_jobs (TakesStore *self, gboolean include_finished, GError **error);
TakesJobRow *takes_store_get_job (TakesStore *self, gint64 job_id, GError **error);

/* Inserts the takes (not yet stored) as queued and a job for each, all in
 * one transaction, placed after every job of @priority. @estimates and
 * @currencies hold one entry per take. The new job ids are appended to
 * @job_ids (gint64). */
gboolean takes_store_enqueue_takes (TakesStore *self,
                                    GPtrArray *takes,
                                    int priority,
                                    const double *estimates,
                                    const char *const *currencies,
                                    GArray *job_ids,
                                    GError **error);

/* Writes the job's state, priority, position, attempts, next attempt, last
 * error, remote task id and estimate, and sets its take's status to match,
 * in one transaction. */
gboolean takes_store_save_job (TakesStore *self, const TakesJobRow *row, GError **error);

/* Ends a job that made its video (already attached to the take): the take
 * becomes done with @seconds and @cost, the job done, and a ledger entry is
 * written, in one transaction. */
gboolean takes_store_finish_job (TakesStore *self,
                                 const TakesJobRow *row,
                                 double seconds,
                                 double cost,
                                 const char *currency,
                                 GError **error);

/* Deletes the rows of finished jobs (their takes stay). */
gboolean takes_store_delete_finished_jobs (TakesStore *self, GError **error);

/* Ledger and budgets ------------------------------------------------------ */

gboolean takes_store_add_ledger_entry (TakesStore *self,
                                       gint64 take_id,
                                       gint64 project_id,
                                       const char *backend,
                                       double seconds,
                                       double cost,
                                       const char *currency,
                                       GError **error);
/* @from and @to in g_get_real_time() units; 0 for open ends. */
GPtrArray *takes_store_query_ledger (TakesStore *self,
                                     gint64 project_id,
                                     const char *backend,
                                     gint64 from,
                                     gint64 to,
                                     TakesLedgerGroup group,
                                     GError **error);
gboolean takes_store_set_budget (
    TakesStore *self, gint64 project_id, double amount, const char *currency, GError **error);
gboolean takes_store_clear_budget (TakesStore *self, gint64 project_id, GError **error);
/* NULL without an error when the project has no budget. */
TakesBudget *takes_store_get_budget (TakesStore *self, gint64 project_id, GError **error);

G_END_DECLS
