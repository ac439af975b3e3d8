/* takes-cli-batch.c: `takes-cli batch run`, a batch file made into queued
 * takes.
 *
 *   batch run FILE [--backend ID] [--model ID] [--project P] [--priority N]
 *                  [--max N] [--wait]
 *
 * Order matters: every prompt is checked before anything is stored, so a
 * batch with one blocked variant queues nothing (and each block is logged);
 * then the recipes are validated, the estimate shown, the batch stored and
 * its takes queued in one transaction by the queue, which also holds the
 * project's budget against the whole batch.
 */
#include "config.h"

#include <inttypes.h>

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <signal.h>
#include <stdio.h>

#include "takes-backend-registry.h"
#include "takes-batch-plan.h"
#include "takes-cli.h"
#include "takes-estimate.h"
#include "takes-queue.h"
#include "takes-safety.h"
#include "takes-store-batches.h"
#include "takes-store-safety.h"
#include "takes-store.h"

/* How long an interrupted run waits for its backends to confirm cancels. */
#define CANCEL_WAIT_S 10

/* Checks every variant's prompt; logs and prints each block. Returns the
 * number of blocked variants, or -1 when the log could not be written. */
static int
check_prompts (TakesStore *store, TakesSafety *safety, TakesBatchPlan *plan, gint64 project_id)
{
  guint n = takes_batch_plan_get_n_variants (plan);
  int blocked = 0;

  for (guint i = 0; i < n; i++)
    {
      const TakesBatchVariant *variant = takes_batch_plan_get_variant (plan, i);
      g_autoptr (GPtrArray) matches = takes_safety_check (safety, variant->prompt);

      if (matches->len == 0)
        continue;
      blocked++;
      for (guint k = 0; k < matches->len; k++)
        {
          const TakesSafetyMatch *match = g_ptr_array_index (matches, k);
          g_autofree char *described = takes_safety_match_describe (match);
          g_autofree char *list = g_path_get_basename (match->source);
          g_autoptr (GError) error = NULL;

          g_printerr (_ ("Blocked: variant %u: %s (%s, line %u)\n"), variant->index + 1, described, list,
                      match->line);
          if (takes_store_log_safety_match (store, project_id, variant->prompt, match,
                                            TAKES_SAFETY_SOURCE_CLI, &error)
              == 0)
            {
              takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
              return -1;
            }
        }
    }
  return blocked;
}

static void
print_estimate (TakesBatchPlan *plan, TakesBatchInfo *info, const TakesEstimate *est)
{
  g_autofree char *cost = takes_estimate_format_cost (est);
  g_autofree char *time = takes_estimate_format_time (est);
  guint n = takes_batch_plan_get_n_variants (plan);

  g_print (g_dngettext (GETTEXT_PACKAGE, "Batch %" PRId64 " “%s”: %u take on %s",
                        "Batch %" PRId64 " “%s”: %u takes on %s", n),
           info->id, info->name[0] != '\0' ? info->name : _ ("unnamed"), n, est->backend);
  g_print ("\n");
  if (est->cost_known)
    g_print (_ ("Estimated cost: %s; estimated time: %s\n"), cost, time);
  else
    g_print (_ ("Estimated cost: unknown (no price for this backend and model); estimated time: %s\n"), time);
}

/* Waiting ------------------------------------------------------------------- */

typedef struct
{
  GHashTable *jobs; /* job id → NULL while unfinished */
  guint n_total;
  guint n_done;
  guint n_failed;
  guint n_cancelled;
  gboolean interrupted;
  gboolean gave_up;
  GMainLoop *loop;
} Wait;

static void
job_finished_cb (TakesQueue *queue, TakesJob *job, gpointer user_data)
{
  Wait *wait = user_data;
  gint64 id = takes_job_get_id (job);
  guint finished;

  if (!g_hash_table_remove (wait->jobs, &id))
    return;
  switch (takes_job_get_state (job))
    {
      case TAKES_JOB_STATE_DONE:
        wait->n_done++;
        break;
      case TAKES_JOB_STATE_CANCELLED:
        wait->n_cancelled++;
        break;
      default:
        wait->n_failed++;
        break;
    }
  finished = wait->n_done + wait->n_failed + wait->n_cancelled;
  if (takes_job_get_state (job) == TAKES_JOB_STATE_DONE)
    g_print (_ ("[%u/%u] take %" PRId64 " done\n"), finished, wait->n_total, takes_job_get_take_id (job));
  else
    g_print (_ ("[%u/%u] take %" PRId64 " %s: %s\n"), finished, wait->n_total, takes_job_get_take_id (job),
             takes_job_state_get_label (takes_job_get_state (job)),
             takes_job_get_last_error (job) != NULL ? takes_job_get_last_error (job) : "");
  if (g_hash_table_size (wait->jobs) == 0)
    g_main_loop_quit (wait->loop);
}

static gboolean
interrupt_cb (gpointer user_data)
{
  Wait *wait = user_data;

  wait->interrupted = TRUE;
  g_main_loop_quit (wait->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
give_up_cb (gpointer user_data)
{
  Wait *wait = user_data;

  wait->gave_up = TRUE;
  g_main_loop_quit (wait->loop);
  return G_SOURCE_REMOVE;
}

/* Runs the queue until every job of @job_ids has finished; Ctrl-C cancels
 * the ones left. */
static int
wait_for_jobs (TakesQueue *queue, GArray *job_ids)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GHashTable) jobs = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  Wait wait = { jobs, job_ids->len, 0, 0, 0, FALSE, FALSE, loop };
  gulong handler;
  guint sigint;

  for (guint i = 0; i < job_ids->len; i++)
    g_hash_table_add (jobs, g_memdup2 (&g_array_index (job_ids, gint64, i), sizeof (gint64)));
  handler = g_signal_connect (queue, "job-finished", G_CALLBACK (job_finished_cb), &wait);
  sigint = g_unix_signal_add (SIGINT, interrupt_cb, &wait);
  takes_queue_start (queue);
  if (g_hash_table_size (jobs) > 0)
    g_main_loop_run (loop);

  if (wait.interrupted)
    {
      GHashTableIter iter;
      gpointer key;
      g_autoptr (GArray) left = g_array_new (FALSE, FALSE, sizeof (gint64));

      g_hash_table_iter_init (&iter, jobs);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        g_array_append_val (left, *(gint64 *)key);
      g_printerr ("\n%s\n", _ ("Interrupted: cancelling the takes of the batch that are not finished…"));
      for (guint i = 0; i < left->len; i++)
        {
          g_autoptr (GError) error = NULL;

          if (!takes_queue_cancel_job (queue, g_array_index (left, gint64, i), &error))
            g_printerr ("%s\n", error->message);
        }
      /* Cancelling a running job asks its backend to stop; let that finish. */
      if (g_hash_table_size (jobs) > 0)
        {
          guint guard = g_timeout_add_seconds (CANCEL_WAIT_S, give_up_cb, &wait);

          g_main_loop_run (loop);
          if (!wait.gave_up)
            g_source_remove (guard);
        }
    }
  else
    g_source_remove (sigint);
  g_signal_handler_disconnect (queue, handler);
  takes_queue_stop (queue);

  g_print (_ ("Batch finished: %u done, %u failed, %u cancelled.\n"), wait.n_done, wait.n_failed,
           wait.n_cancelled);
  return wait.n_done == wait.n_total ? TAKES_CLI_EXIT_OK : TAKES_CLI_EXIT_FAIL;
}

/* The command --------------------------------------------------------------- */

int
takes_cli_batch_run (int argc, char **argv)
{
  g_autofree char *backend_id = NULL;
  g_autofree char *model = NULL;
  g_autofree char *project_name = NULL;
  gboolean wait = FALSE;
  int priority = 0;
  int max = 0;
  GOptionEntry entries[] = {
    { "backend", 0, 0, G_OPTION_ARG_STRING, &backend_id,
      N_ ("Make the takes on this backend instead of the file’s"), N_ ("ID") },
    { "model", 0, 0, G_OPTION_ARG_STRING, &model, N_ ("Use this model instead of the file’s"), N_ ("ID") },
    { "project", 0, 0, G_OPTION_ARG_STRING, &project_name, N_ ("Add the takes to this project"),
      N_ ("PROJECT") },
    { "priority", 0, 0, G_OPTION_ARG_INT, &priority, N_ ("Queue priority; higher runs first (default 0)"),
      N_ ("N") },
    { "max", 0, 0, G_OPTION_ARG_INT, &max, N_ ("Refuse batches with more variants than N"), N_ ("N") },
    { "wait", 0, 0, G_OPTION_ARG_NONE, &wait, N_ ("Run the queue here until every take of the batch is made"),
      NULL },
    { NULL },
  };
  int code = TAKES_CLI_EXIT_OK;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchPlan) plan = NULL;
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesSafety) safety = NULL;
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (TakesPricing) pricing = NULL;
  g_autoptr (TakesEstimate) est = NULL;
  g_autoptr (GSettings) settings = NULL;
  g_autoptr (TakesBackend) backend = NULL;
  g_autoptr (TakesQueue) queue = NULL;
  g_autoptr (TakesBatchInfo) info = NULL;
  g_autoptr (GArray) job_ids = NULL;
  g_autofree char *default_id = NULL;
  const char *use_backend;
  gint64 project_id = 0;
  guint width = 0, height = 0;
  int blocked;

  if (!takes_cli_parse ("batch run", _ ("FILE"),
                        _ ("Queue one take per variant of a batch file. Every prompt is checked against the "
                           "safety lists first: if any is blocked, nothing is queued."),
                        entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("batch run: give one batch file"));
  if (max < 0 || max > TAKES_BATCH_PLAN_HARD_MAX_VARIANTS)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("batch run: --max must be between 1 and %u"),
                           (guint)TAKES_BATCH_PLAN_HARD_MAX_VARIANTS);

  plan = takes_batch_plan_new_from_file (argv[1], (guint)max, &error);
  if (plan == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  store = takes_store_open (NULL, TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, &error);
  if (store == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  if (project_name != NULL)
    {
      g_autoptr (TakesProject) project = takes_store_find_project (store, project_name, &error);

      if (project == NULL)
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      project_id = project->id;
    }

  safety = takes_safety_new_default (&error);
  if (safety == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  blocked = check_prompts (store, safety, plan, project_id);
  if (blocked < 0)
    return TAKES_CLI_EXIT_FAIL;
  if (blocked > 0)
    return takes_cli_fail (
        TAKES_CLI_EXIT_FAIL,
        g_dngettext (GETTEXT_PACKAGE,
                     "%d variant of the batch is blocked by the safety lists, so nothing was "
                     "queued. Change its prompt or the variable values and run the batch again.",
                     "%d variants of the batch are blocked by the safety lists, so nothing was "
                     "queued. Change their prompts or the variable values and run the batch "
                     "again.",
                     blocked),
        blocked);

  settings = takes_backend_registry_get_settings ();
  default_id = takes_backend_registry_get_default_id (settings);
  use_backend = backend_id != NULL ? backend_id : takes_batch_plan_get_backend (plan);
  if (use_backend == NULL)
    use_backend = default_id;
  takes = takes_batch_plan_make_takes (plan, project_id, use_backend, model, &error);
  if (takes == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  if (takes->len == 0)
    return takes_cli_fail (TAKES_CLI_EXIT_FAIL, _ ("batch run: the batch file makes no variants"));

  backend = takes_backend_registry_create (use_backend, settings, &error);
  if (backend == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  queue = takes_queue_new (store, &error);
  if (queue == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  takes_queue_add_backend (queue, backend);
  takes_queue_set_safety (queue, safety);

  pricing = takes_pricing_new_default (&error);
  if (pricing == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  takes_batch_plan_get_size (plan, &width, &height);
  est = takes_pricing_estimate (pricing, use_backend,
                                model != NULL ? model : takes_batch_plan_get_model (plan), width, height,
                                takes_batch_plan_get_duration (plan), takes_batch_plan_get_n_variants (plan));

  info = takes_store_create_batch_from_plan (store, project_id, plan, &error);
  if (info == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  for (guint i = 0; i < takes->len; i++)
    takes_take_set_batch_id (g_ptr_array_index (takes, i), info->id);
  job_ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  if (!takes_queue_enqueue_takes (queue, takes, priority, job_ids, &error))
    {
      g_autoptr (GError) undo_error = NULL;

      /* The queue stored no take; the batch would stay empty. */
      if (!takes_store_delete_empty_batch (store, info->id, &undo_error))
        g_printerr ("%s\n", undo_error->message);
      return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
    }

  print_estimate (plan, info, est);
  g_print (
      g_dngettext (GETTEXT_PACKAGE, "Queued %u job (takes %" PRId64 "–%" PRId64 ") in batch %" PRId64 ".\n",
                   "Queued %u jobs (takes %" PRId64 "–%" PRId64 ") in batch %" PRId64 ".\n", job_ids->len),
      job_ids->len, takes_take_get_id (g_ptr_array_index (takes, 0)),
      takes_take_get_id (g_ptr_array_index (takes, takes->len - 1)), info->id);
  if (!wait)
    {
      g_print ("%s\n", _ ("They run when the queue runs: in the studio, or here with --wait."));
      return TAKES_CLI_EXIT_OK;
    }
  return wait_for_jobs (queue, job_ids);
}
