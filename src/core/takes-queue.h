/* takes-queue.h: the persistent queue of takes waiting to be made.
 *
 * Every job is a take row (status queued) plus a job row, written in one
 * transaction, so a queued take survives a crash or a quit. The queue hands
 * jobs to the backends added to it, in priority order, never more at once
 * per backend than the backend's capabilities allow, retries transient
 * failures with exponential backoff (honouring Retry-After), and on start
 * resumes the jobs a previous run left running: those with a remote task id
 * through takes_backend_resume_async() (no second submission, no second
 * payment), the others from the start.
 *
 * The queue and its TakesJob objects live on the thread-default main context
 * of the thread that called takes_queue_start(); use them from that thread.
 * TakesJob objects are snapshots the queue keeps up to date; the studio binds
 * its queue panel to takes_queue_get_jobs().
 */
#pragma once

#include <gio/gio.h>

#include "takes-backend.h"
#include "takes-estimate.h"
#include "takes-ledger.h"
#include "takes-recipe.h"
#include "takes-safety.h"
#include "takes-store.h"
#include "takes-take.h"

G_BEGIN_DECLS

#define TAKES_QUEUE_ERROR (takes_queue_error_quark ())

typedef enum
{
  /* The recipe names a backend this queue does not have. */
  TAKES_QUEUE_ERROR_NO_BACKEND,
  /* No job with that id in the queue. */
  TAKES_QUEUE_ERROR_NOT_FOUND,
  /* The job is not in a state that allows the request (editing a running
   * job, retrying one that succeeded…). */
  TAKES_QUEUE_ERROR_WRONG_STATE,
} TakesQueueError;

GQuark takes_queue_error_quark (void);

/* The same names as the `state` column of the jobs table. */
typedef enum
{
  TAKES_JOB_STATE_QUEUED,
  TAKES_JOB_STATE_RUNNING,
  TAKES_JOB_STATE_PAUSED,
  TAKES_JOB_STATE_DONE,
  TAKES_JOB_STATE_FAILED,
  TAKES_JOB_STATE_CANCELLED,
} TakesJobState;

#define TAKES_TYPE_JOB_STATE (takes_job_state_get_type ())
GType takes_job_state_get_type (void);
const char *takes_job_state_to_string (TakesJobState state);
gboolean takes_job_state_from_string (const char *name, TakesJobState *state);
/* Translated, for people ("Queued", "Running"…). */
const char *takes_job_state_get_label (TakesJobState state);
/* Done, failed or cancelled. */
gboolean takes_job_state_is_finished (TakesJobState state);

/* One job, as the queue panel shows it. Read-only for everyone but the
 * queue; every property notifies. */
#define TAKES_TYPE_JOB (takes_job_get_type ())
G_DECLARE_FINAL_TYPE (TakesJob, takes_job, TAKES, JOB, GObject)

gint64 takes_job_get_id (TakesJob *self);
gint64 takes_job_get_take_id (TakesJob *self);
gint64 takes_job_get_project_id (TakesJob *self);
const char *takes_job_get_backend (TakesJob *self);
/* The recipe the job will make (or made). */
TakesRecipe *takes_job_get_recipe (TakesJob *self);
TakesJobState takes_job_get_state (TakesJob *self);
int takes_job_get_priority (TakesJob *self);
/* Submissions so far, the current one included. */
guint takes_job_get_attempts (TakesJob *self);
/* 0…1; meaningful only while has-progress is TRUE. */
double takes_job_get_progress (TakesJob *self);
gboolean takes_job_get_has_progress (TakesJob *self);
/* What the backend is doing ("Sampling step 12 of 50"), or NULL. */
const char *takes_job_get_stage (TakesJob *self);
/* Seconds until the job should be done, from its progress so far; -1 when
 * not known. */
double takes_job_get_eta (TakesJob *self);
/* The message of the last failure (full sentence), or NULL. */
const char *takes_job_get_last_error (TakesJob *self);
/* The latest preview image the backend sent, or NULL. */
TakesBackendPreview *takes_job_get_preview (TakesJob *self);
/* The remote task id once the backend accepted the job, or NULL. */
const char *takes_job_get_remote_task_id (TakesJob *self);
/* When a job waiting to be retried may start (g_get_real_time() units), or
 * 0 when it may start now. */
gint64 takes_job_get_next_attempt (TakesJob *self);
/* What the job was expected to cost when it was queued (0 when free or not
 * known), and in which currency (NULL when free). */
double takes_job_get_estimated_cost (TakesJob *self);
const char *takes_job_get_currency (TakesJob *self);

/* The queue ------------------------------------------------------------- */

#define TAKES_TYPE_QUEUE (takes_queue_get_type ())
G_DECLARE_FINAL_TYPE (TakesQueue, takes_queue, TAKES, QUEUE, GObject)

/* Reads the unfinished jobs of @store's library. Nothing runs until
 * takes_queue_start(). */
TakesQueue *takes_queue_new (TakesStore *store, GError **error);
TakesStore *takes_queue_get_store (TakesQueue *self);

/* Backends, by their id. The concurrency limit comes from the backend's
 * capabilities (max_concurrent_jobs) unless set with
 * takes_queue_set_backend_limit(). Removing a backend does not touch its
 * running jobs. */
void takes_queue_add_backend (TakesQueue *self, TakesBackend *backend);
gboolean takes_queue_remove_backend (TakesQueue *self, const char *backend_id);
TakesBackend *takes_queue_lookup_backend (TakesQueue *self, const char *backend_id);
void takes_queue_set_backend_limit (TakesQueue *self, const char *backend_id, guint max_concurrent);

/* The filter every prompt passes before anything is stored or sent. The
 * default (takes_safety_new_default()) is loaded on the first enqueue. */
void takes_queue_set_safety (TakesQueue *self, TakesSafety *safety);
/* Where estimates come from when a backend's capabilities do not price a
 * model; the default is takes_pricing_new_default(). */
void takes_queue_set_pricing (TakesQueue *self, TakesPricing *pricing);
/* Retries of transient failures: at most @max_attempts submissions in all;
 * the n-th retry waits @base_delay × 2^(n-1) seconds (at most @max_delay),
 * ±25 % jitter, and never less than the server's Retry-After. Defaults: 5
 * attempts, 10 s, 600 s. */
void takes_queue_set_retry_policy (TakesQueue *self, guint max_attempts, double base_delay, double max_delay);

/* Queues a new take for @recipe in @project_id (0: the default project).
 * The prompt goes through the safety filter first (a blocked prompt fails
 * with TAKES_SAFETY_ERROR_BLOCKED naming the term, and nothing is stored or
 * sent), then the backend's own checks (TAKES_BACKEND_ERROR_BAD_PARAMETERS),
 * then the project's budget (TAKES_LEDGER_ERROR_OVER_BUDGET). Returns the job
 * id, or 0 on error. Higher @priority runs first. */
gint64
takes_queue_enqueue (TakesQueue *self, TakesRecipe *recipe, gint64 project_id, int priority, GError **error);
/* The same for a take not yet stored, made with takes_take_new(): its
 * project, shot, batch, parent, tags and variables are kept; its status is
 * set to queued and its id is filled in. */
gint64 takes_queue_enqueue_take (TakesQueue *self, TakesTake *take, int priority, GError **error);
/* Several takes (a batch) in one transaction: every prompt is checked and
 * the budget counts all of them before anything is stored; on error none is
 * queued. The job ids (gint64) are appended to @job_ids when given. */
gboolean
takes_queue_enqueue_takes (TakesQueue *self, GPtrArray *takes, int priority, GArray *job_ids, GError **error);

/* Processing runs on the thread-default main context of the caller. Start
 * first resumes what a previous run left running. Stop lets go of the
 * running jobs without cancelling them: remote tasks go on, and the next
 * start resumes them. */
void takes_queue_start (TakesQueue *self);
void takes_queue_stop (TakesQueue *self);
gboolean takes_queue_get_started (TakesQueue *self);

/* A paused queue starts no new job; running ones go on. */
void takes_queue_pause (TakesQueue *self);
void takes_queue_resume (TakesQueue *self);
gboolean takes_queue_get_paused (TakesQueue *self);

/* One job. Only a queued job can be paused (a running one can be
 * cancelled). Cancel works in any unfinished state and asks the backend to
 * stop a running job. Retry puts a failed or cancelled job back in the
 * queue with its attempts reset. */
gboolean takes_queue_pause_job (TakesQueue *self, gint64 job_id, GError **error);
gboolean takes_queue_resume_job (TakesQueue *self, gint64 job_id, GError **error);
gboolean takes_queue_cancel_job (TakesQueue *self, gint64 job_id, GError **error);
gboolean takes_queue_retry_job (TakesQueue *self, gint64 job_id, GError **error);
/* Reordering: a new priority (placed last among the jobs of that priority),
 * or just before another unfinished job (taking its priority). */
gboolean takes_queue_move_job (TakesQueue *self, gint64 job_id, int priority, GError **error);
gboolean takes_queue_move_job_before (TakesQueue *self, gint64 job_id, gint64 before_job_id, GError **error);
/* Replaces the recipe of a job that has not started (queued or paused),
 * with the same checks as enqueueing. */
gboolean takes_queue_edit_job (TakesQueue *self, gint64 job_id, TakesRecipe *recipe, GError **error);

/* A GListModel of TakesJob: unfinished jobs in the order they will run
 * (running ones first), then the jobs that finished since the queue was
 * made or reloaded, and failed or cancelled ones from earlier runs (they can
 * be retried). */
GListModel *takes_queue_get_jobs (TakesQueue *self);
TakesJob *takes_queue_lookup_job (TakesQueue *self, gint64 job_id);
/* Jobs queued or running. */
guint takes_queue_get_n_active (TakesQueue *self);
/* Forgets finished jobs: removes them from the list and deletes their job
 * rows (their takes stay, with their status). */
gboolean takes_queue_clear_finished (TakesQueue *self, GError **error);

/* Signals:
 *   job-changed (TakesJob *job): any property of the job changed.
 *   job-finished (TakesJob *job): the job reached done, failed or cancelled;
 *     for failures the job's last-error says why.
 */

G_END_DECLS
