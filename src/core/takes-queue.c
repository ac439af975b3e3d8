/* takes-queue.c: the persistent job queue.
 *
 * The database is the truth: every state change of a job is written before
 * it is shown, so a crash at any moment leaves rows the next start can act
 * on. A job that reached a backend keeps its remote task id; while it has
 * one, every later attempt (after a crash, a stop or a transient failure)
 * resumes that task instead of submitting the recipe again, so one take is
 * never paid for twice. Only an explicit retry of a failed or cancelled job
 * forgets the remote task and submits anew.
 */
#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <unistd.h>

#include "takes-download.h"
#include "takes-queue.h"
#include "takes-store-jobs.h"
#include "takes-store-safety.h"

#define DEFAULT_MAX_ATTEMPTS 5
#define DEFAULT_BASE_DELAY 10.0
#define DEFAULT_MAX_DELAY 600.0
#define JITTER 0.25

G_DEFINE_QUARK (takes - queue - error - quark, takes_queue_error)

G_DEFINE_ENUM_TYPE (TakesJobState,
                    takes_job_state,
                    G_DEFINE_ENUM_VALUE (TAKES_JOB_STATE_QUEUED, "queued"),
                    G_DEFINE_ENUM_VALUE (TAKES_JOB_STATE_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (TAKES_JOB_STATE_PAUSED, "paused"),
                    G_DEFINE_ENUM_VALUE (TAKES_JOB_STATE_DONE, "done"),
                    G_DEFINE_ENUM_VALUE (TAKES_JOB_STATE_FAILED, "failed"),
                    G_DEFINE_ENUM_VALUE (TAKES_JOB_STATE_CANCELLED, "cancelled"))

static const char *const state_names[] = { "queued", "running", "paused", "done", "failed", "cancelled" };

const char *
takes_job_state_to_string (TakesJobState state)
{
  g_return_val_if_fail ((guint)state < G_N_ELEMENTS (state_names), NULL);

  return state_names[state];
}

gboolean
takes_job_state_from_string (const char *name, TakesJobState *state)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (state_names); i++)
    if (g_str_equal (name, state_names[i]))
      {
        *state = (TakesJobState)i;
        return TRUE;
      }
  return FALSE;
}

const char *
takes_job_state_get_label (TakesJobState state)
{
  switch (state)
    {
      case TAKES_JOB_STATE_QUEUED:
        return _ ("Queued");
      case TAKES_JOB_STATE_RUNNING:
        return _ ("Running");
      case TAKES_JOB_STATE_PAUSED:
        return _ ("Paused");
      case TAKES_JOB_STATE_DONE:
        return _ ("Done");
      case TAKES_JOB_STATE_FAILED:
        return _ ("Failed");
      case TAKES_JOB_STATE_CANCELLED:
        return _ ("Cancelled");
      default:
        g_return_val_if_reached (NULL);
    }
}

gboolean
takes_job_state_is_finished (TakesJobState state)
{
  return state == TAKES_JOB_STATE_DONE || state == TAKES_JOB_STATE_FAILED
         || state == TAKES_JOB_STATE_CANCELLED;
}

/* TakesJob ------------------------------------------------------------------ */

struct _TakesJob
{
  GObject parent_instance;

  TakesJobRow *row;
  TakesRecipe *recipe;
  double progress;
  gboolean has_progress;
  char *stage;
  double eta;
  TakesBackendPreview *preview;

  /* While a backend works on the job. */
  TakesQueue *queue; /* not owned */
  TakesBackendJob *backend_job;
  GCancellable *cancellable;
  gulong changed_id;
  gulong preview_id;
  gint64 started_us;
  gboolean holds_slot;
  gboolean resuming;
  gboolean cancel_requested;
};

enum
{
  JOB_PROP_0,
  JOB_PROP_ID,
  JOB_PROP_TAKE_ID,
  JOB_PROP_PROJECT_ID,
  JOB_PROP_BACKEND,
  JOB_PROP_RECIPE,
  JOB_PROP_STATE,
  JOB_PROP_PRIORITY,
  JOB_PROP_ATTEMPTS,
  JOB_PROP_PROGRESS,
  JOB_PROP_HAS_PROGRESS,
  JOB_PROP_STAGE,
  JOB_PROP_ETA,
  JOB_PROP_LAST_ERROR,
  JOB_PROP_PREVIEW,
  JOB_PROP_REMOTE_TASK_ID,
  JOB_PROP_NEXT_ATTEMPT,
  JOB_PROP_ESTIMATED_COST,
  JOB_PROP_CURRENCY,
  JOB_N_PROPS
};

static GParamSpec *job_properties[JOB_N_PROPS];

G_DEFINE_FINAL_TYPE (TakesJob, takes_job, G_TYPE_OBJECT)

static void
takes_job_finalize (GObject *object)
{
  TakesJob *self = TAKES_JOB (object);

  g_clear_pointer (&self->row, takes_job_row_free);
  g_clear_object (&self->recipe);
  g_clear_pointer (&self->stage, g_free);
  g_clear_pointer (&self->preview, takes_backend_preview_unref);
  g_clear_object (&self->backend_job);
  g_clear_object (&self->cancellable);
  G_OBJECT_CLASS (takes_job_parent_class)->finalize (object);
}

static void
takes_job_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesJob *self = TAKES_JOB (object);

  switch (prop_id)
    {
      case JOB_PROP_ID:
        g_value_set_int64 (value, self->row->id);
        break;
      case JOB_PROP_TAKE_ID:
        g_value_set_int64 (value, self->row->take_id);
        break;
      case JOB_PROP_PROJECT_ID:
        g_value_set_int64 (value, self->row->project_id);
        break;
      case JOB_PROP_BACKEND:
        g_value_set_string (value, self->row->backend);
        break;
      case JOB_PROP_RECIPE:
        g_value_set_object (value, self->recipe);
        break;
      case JOB_PROP_STATE:
        g_value_set_enum (value, self->row->state);
        break;
      case JOB_PROP_PRIORITY:
        g_value_set_int (value, self->row->priority);
        break;
      case JOB_PROP_ATTEMPTS:
        g_value_set_uint (value, self->row->attempts);
        break;
      case JOB_PROP_PROGRESS:
        g_value_set_double (value, self->progress);
        break;
      case JOB_PROP_HAS_PROGRESS:
        g_value_set_boolean (value, self->has_progress);
        break;
      case JOB_PROP_STAGE:
        g_value_set_string (value, self->stage);
        break;
      case JOB_PROP_ETA:
        g_value_set_double (value, self->eta);
        break;
      case JOB_PROP_LAST_ERROR:
        g_value_set_string (value, self->row->last_error);
        break;
      case JOB_PROP_PREVIEW:
        g_value_set_boxed (value, self->preview);
        break;
      case JOB_PROP_REMOTE_TASK_ID:
        g_value_set_string (value, self->row->remote_task_id);
        break;
      case JOB_PROP_NEXT_ATTEMPT:
        g_value_set_int64 (value, self->row->next_attempt_at);
        break;
      case JOB_PROP_ESTIMATED_COST:
        g_value_set_double (value, self->row->estimated_cost);
        break;
      case JOB_PROP_CURRENCY:
        g_value_set_string (value, self->row->currency);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_job_class_init (TakesJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->finalize = takes_job_finalize;
  object_class->get_property = takes_job_get_property;

  job_properties[JOB_PROP_ID] = g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  job_properties[JOB_PROP_TAKE_ID] = g_param_spec_int64 ("take-id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  job_properties[JOB_PROP_PROJECT_ID]
      = g_param_spec_int64 ("project-id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  job_properties[JOB_PROP_BACKEND] = g_param_spec_string ("backend", NULL, NULL, NULL, flags);
  job_properties[JOB_PROP_RECIPE] = g_param_spec_object ("recipe", NULL, NULL, TAKES_TYPE_RECIPE, flags);
  job_properties[JOB_PROP_STATE]
      = g_param_spec_enum ("state", NULL, NULL, TAKES_TYPE_JOB_STATE, TAKES_JOB_STATE_QUEUED, flags);
  job_properties[JOB_PROP_PRIORITY] = g_param_spec_int ("priority", NULL, NULL, G_MININT, G_MAXINT, 0, flags);
  job_properties[JOB_PROP_ATTEMPTS] = g_param_spec_uint ("attempts", NULL, NULL, 0, G_MAXUINT, 0, flags);
  job_properties[JOB_PROP_PROGRESS] = g_param_spec_double ("progress", NULL, NULL, 0, 1, 0, flags);
  job_properties[JOB_PROP_HAS_PROGRESS] = g_param_spec_boolean ("has-progress", NULL, NULL, FALSE, flags);
  job_properties[JOB_PROP_STAGE] = g_param_spec_string ("stage", NULL, NULL, NULL, flags);
  job_properties[JOB_PROP_ETA] = g_param_spec_double ("eta", NULL, NULL, -1, G_MAXDOUBLE, -1, flags);
  job_properties[JOB_PROP_LAST_ERROR] = g_param_spec_string ("last-error", NULL, NULL, NULL, flags);
  job_properties[JOB_PROP_PREVIEW]
      = g_param_spec_boxed ("preview", NULL, NULL, TAKES_TYPE_BACKEND_PREVIEW, flags);
  job_properties[JOB_PROP_REMOTE_TASK_ID] = g_param_spec_string ("remote-task-id", NULL, NULL, NULL, flags);
  job_properties[JOB_PROP_NEXT_ATTEMPT]
      = g_param_spec_int64 ("next-attempt", NULL, NULL, 0, G_MAXINT64, 0, flags);
  job_properties[JOB_PROP_ESTIMATED_COST]
      = g_param_spec_double ("estimated-cost", NULL, NULL, 0, G_MAXDOUBLE, 0, flags);
  job_properties[JOB_PROP_CURRENCY] = g_param_spec_string ("currency", NULL, NULL, NULL, flags);
  g_object_class_install_properties (object_class, JOB_N_PROPS, job_properties);
}

static void
takes_job_init (TakesJob *self)
{
  self->eta = -1;
}

static TakesJob *
takes_job_new (TakesJobRow *row, GError **error)
{
  g_autoptr (TakesJob) self = NULL;
  g_autoptr (TakesRecipe) recipe = NULL;

  recipe = takes_recipe_new_from_json (row->recipe_json != NULL ? row->recipe_json : "", -1, error);
  if (recipe == NULL)
    {
      takes_job_row_free (row);
      return NULL;
    }
  self = g_object_new (TAKES_TYPE_JOB, NULL);
  self->row = row;
  self->recipe = g_steal_pointer (&recipe);
  return g_steal_pointer (&self);
}

gint64
takes_job_get_id (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), 0);
  return self->row->id;
}

gint64
takes_job_get_take_id (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), 0);
  return self->row->take_id;
}

gint64
takes_job_get_project_id (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), 0);
  return self->row->project_id;
}

const char *
takes_job_get_backend (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), NULL);
  return self->row->backend;
}

TakesRecipe *
takes_job_get_recipe (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), NULL);
  return self->recipe;
}

TakesJobState
takes_job_get_state (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), TAKES_JOB_STATE_FAILED);
  return self->row->state;
}

int
takes_job_get_priority (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), 0);
  return self->row->priority;
}

guint
takes_job_get_attempts (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), 0);
  return self->row->attempts;
}

double
takes_job_get_progress (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), 0);
  return self->progress;
}

gboolean
takes_job_get_has_progress (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), FALSE);
  return self->has_progress;
}

const char *
takes_job_get_stage (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), NULL);
  return self->stage;
}

double
takes_job_get_eta (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), -1);
  return self->eta;
}

const char *
takes_job_get_last_error (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), NULL);
  return self->row->last_error;
}

TakesBackendPreview *
takes_job_get_preview (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), NULL);
  return self->preview;
}

const char *
takes_job_get_remote_task_id (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), NULL);
  return self->row->remote_task_id;
}

gint64
takes_job_get_next_attempt (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), 0);
  return self->row->next_attempt_at;
}

double
takes_job_get_estimated_cost (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), 0);
  return self->row->estimated_cost;
}

const char *
takes_job_get_currency (TakesJob *self)
{
  g_return_val_if_fail (TAKES_IS_JOB (self), NULL);
  return self->row->currency;
}

/* Sets a string field and says whether it changed. */
static gboolean
replace_string (char **field, const char *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

static void
job_notify (TakesJob *self, guint prop)
{
  g_object_notify_by_pspec (G_OBJECT (self), job_properties[prop]);
}

static void
job_set_stage (TakesJob *self, const char *stage)
{
  if (replace_string (&self->stage, stage))
    job_notify (self, JOB_PROP_STAGE);
}

static void
job_set_progress (TakesJob *self, gboolean has_progress, double progress, double eta)
{
  progress = CLAMP (progress, 0.0, 1.0);
  if (self->has_progress != has_progress)
    {
      self->has_progress = has_progress;
      job_notify (self, JOB_PROP_HAS_PROGRESS);
    }
  if (self->progress != progress)
    {
      self->progress = progress;
      job_notify (self, JOB_PROP_PROGRESS);
    }
  if (self->eta != eta)
    {
      self->eta = eta;
      job_notify (self, JOB_PROP_ETA);
    }
}

/* Notifies every persistent field; a state change touches several. */
static void
job_notify_row (TakesJob *self)
{
  static const guint props[]
      = { JOB_PROP_STATE,          JOB_PROP_PRIORITY,     JOB_PROP_ATTEMPTS,       JOB_PROP_LAST_ERROR,
          JOB_PROP_REMOTE_TASK_ID, JOB_PROP_NEXT_ATTEMPT, JOB_PROP_ESTIMATED_COST, JOB_PROP_CURRENCY };

  for (guint i = 0; i < G_N_ELEMENTS (props); i++)
    job_notify (self, props[i]);
}

/* TakesQueue ----------------------------------------------------------------- */

typedef struct
{
  TakesBackend *backend;
  guint limit;
  gboolean limit_set;
  guint running;
} BackendEntry;

static void
backend_entry_free (BackendEntry *entry)
{
  g_object_unref (entry->backend);
  g_free (entry);
}

struct _TakesQueue
{
  GObject parent_instance;

  TakesStore *store;
  TakesLedger *ledger;
  TakesSafety *safety;
  TakesPricing *pricing;
  GHashTable *backends; /* id → BackendEntry */
  GListStore *jobs;
  GHashTable *by_id; /* gint64 * → TakesJob (the list's reference) */
  GRand *rand;

  GMainContext *context;
  GSource *dispatch_source;
  GSource *timer_source;
  gboolean started;
  gboolean paused;
  guint max_attempts;
  double base_delay;
  double max_delay;
};

enum
{
  PROP_0,
  PROP_STORE,
  PROP_PAUSED,
  PROP_STARTED,
  PROP_N_ACTIVE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_JOB_CHANGED,
  SIGNAL_JOB_FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (TakesQueue, takes_queue, G_TYPE_OBJECT)

static void schedule_dispatch (TakesQueue *self);
static void detach_backend_job (TakesJob *job);

static void
takes_queue_dispose (GObject *object)
{
  TakesQueue *self = TAKES_QUEUE (object);

  takes_queue_stop (self);
  if (self->jobs != NULL)
    for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->jobs)); i++)
      {
        g_autoptr (TakesJob) job = g_list_model_get_item (G_LIST_MODEL (self->jobs), i);

        job->queue = NULL;
      }
  g_clear_pointer (&self->by_id, g_hash_table_unref);
  g_clear_object (&self->jobs);
  g_clear_pointer (&self->backends, g_hash_table_unref);
  G_OBJECT_CLASS (takes_queue_parent_class)->dispose (object);
}

static void
takes_queue_finalize (GObject *object)
{
  TakesQueue *self = TAKES_QUEUE (object);

  g_clear_object (&self->ledger);
  g_clear_object (&self->store);
  g_clear_object (&self->safety);
  g_clear_object (&self->pricing);
  g_clear_pointer (&self->rand, g_rand_free);
  g_clear_pointer (&self->context, g_main_context_unref);
  G_OBJECT_CLASS (takes_queue_parent_class)->finalize (object);
}

static void
takes_queue_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesQueue *self = TAKES_QUEUE (object);

  switch (prop_id)
    {
      case PROP_STORE:
        g_value_set_object (value, self->store);
        break;
      case PROP_PAUSED:
        g_value_set_boolean (value, self->paused);
        break;
      case PROP_STARTED:
        g_value_set_boolean (value, self->started);
        break;
      case PROP_N_ACTIVE:
        g_value_set_uint (value, takes_queue_get_n_active (self));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_queue_class_init (TakesQueueClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = takes_queue_dispose;
  object_class->finalize = takes_queue_finalize;
  object_class->get_property = takes_queue_get_property;

  properties[PROP_STORE] = g_param_spec_object ("store", NULL, NULL, TAKES_TYPE_STORE, flags);
  properties[PROP_PAUSED] = g_param_spec_boolean ("paused", NULL, NULL, FALSE, flags);
  properties[PROP_STARTED] = g_param_spec_boolean ("started", NULL, NULL, FALSE, flags);
  properties[PROP_N_ACTIVE] = g_param_spec_uint ("n-active", NULL, NULL, 0, G_MAXUINT, 0, flags);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_JOB_CHANGED] = g_signal_new ("job-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                                              NULL, NULL, NULL, G_TYPE_NONE, 1, TAKES_TYPE_JOB);
  signals[SIGNAL_JOB_FINISHED] = g_signal_new ("job-finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                                               0, NULL, NULL, NULL, G_TYPE_NONE, 1, TAKES_TYPE_JOB);
}

static void
takes_queue_init (TakesQueue *self)
{
  self->backends
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)backend_entry_free);
  self->jobs = g_list_store_new (TAKES_TYPE_JOB);
  self->by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  self->rand = g_rand_new ();
  self->max_attempts = DEFAULT_MAX_ATTEMPTS;
  self->base_delay = DEFAULT_BASE_DELAY;
  self->max_delay = DEFAULT_MAX_DELAY;
}

/* Running jobs first, then unfinished ones in the order they will run,
 * then finished ones in the order they were queued. */
static int
job_rank (TakesJob *job)
{
  switch (job->row->state)
    {
      case TAKES_JOB_STATE_RUNNING:
        return 0;
      case TAKES_JOB_STATE_QUEUED:
      case TAKES_JOB_STATE_PAUSED:
        return 1;
      case TAKES_JOB_STATE_DONE:
      case TAKES_JOB_STATE_FAILED:
      case TAKES_JOB_STATE_CANCELLED:
      default:
        return 2;
    }
}

static int
compare_jobs (gconstpointer a, gconstpointer b, gpointer user_data)
{
  TakesJob *x = (TakesJob *)a;
  TakesJob *y = (TakesJob *)b;
  int rx = job_rank (x), ry = job_rank (y);

  if (rx != ry)
    return rx < ry ? -1 : 1;
  if (rx < 2)
    {
      if (x->row->priority != y->row->priority)
        return x->row->priority > y->row->priority ? -1 : 1;
      if (x->row->position != y->row->position)
        return x->row->position < y->row->position ? -1 : 1;
    }
  return x->row->id < y->row->id ? -1 : x->row->id > y->row->id ? 1 : 0;
}

static void
add_job (TakesQueue *self, TakesJob *job)
{
  job->queue = self;
  g_hash_table_insert (self->by_id, &job->row->id, job);
  g_list_store_insert_sorted (self->jobs, job, compare_jobs, NULL);
}

/* Moves the job to where its state and priority now put it. */
static void
reposition (TakesQueue *self, TakesJob *job)
{
  guint position = 0;

  if (!g_list_store_find (self->jobs, job, &position))
    return;
  g_object_ref (job);
  g_list_store_remove (self->jobs, position);
  g_list_store_insert_sorted (self->jobs, job, compare_jobs, NULL);
  g_object_unref (job);
}

static void
emit_changed (TakesQueue *self, TakesJob *job)
{
  g_signal_emit (self, signals[SIGNAL_JOB_CHANGED], 0, job);
}

/* Writes the job's row (and its take's status), then shows the change. On a
 * write failure the job keeps its new state in memory and says why. */
static gboolean
save_job (TakesQueue *self, TakesJob *job, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  gboolean ok = takes_store_save_job (self->store, job->row, &local_error);

  if (!ok)
    {
      g_warning ("Could not save job %" PRId64 ": %s", job->row->id, local_error->message);
      g_propagate_error (error, g_steal_pointer (&local_error));
    }
  g_object_freeze_notify (G_OBJECT (job));
  job_notify_row (job);
  g_object_thaw_notify (G_OBJECT (job));
  reposition (self, job);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ACTIVE]);
  emit_changed (self, job);
  return ok;
}

static void
finish_job (TakesQueue *self, TakesJob *job)
{
  g_object_ref (job);
  g_signal_emit (self, signals[SIGNAL_JOB_FINISHED], 0, job);
  g_object_unref (job);
  schedule_dispatch (self);
}

TakesQueue *
takes_queue_new (TakesStore *store, GError **error)
{
  g_autoptr (TakesQueue) self = NULL;
  g_autoptr (GPtrArray) rows = NULL;

  g_return_val_if_fail (TAKES_IS_STORE (store), NULL);

  self = g_object_new (TAKES_TYPE_QUEUE, NULL);
  self->store = g_object_ref (store);
  self->ledger = takes_ledger_new (store);
  rows = takes_store_list_jobs (store, TRUE, error);
  if (rows == NULL)
    return NULL;
  for (guint i = 0; i < rows->len; i++)
    {
      TakesJobRow *row = g_ptr_array_index (rows, i);
      g_autoptr (TakesJob) job = NULL;
      g_autoptr (GError) local_error = NULL;

      /* Done jobs of earlier runs are history the gallery shows already. */
      if (row->state == TAKES_JOB_STATE_DONE)
        continue;
      g_ptr_array_index (rows, i) = NULL;
      job = takes_job_new (row, &local_error);
      if (job == NULL)
        {
          g_warning ("Skipping a queued job whose recipe cannot be read: %s", local_error->message);
          continue;
        }
      add_job (self, job);
    }
  return g_steal_pointer (&self);
}

TakesStore *
takes_queue_get_store (TakesQueue *self)
{
  g_return_val_if_fail (TAKES_IS_QUEUE (self), NULL);
  return self->store;
}

/* Backends ------------------------------------------------------------------ */

void
takes_queue_add_backend (TakesQueue *self, TakesBackend *backend)
{
  g_autoptr (TakesBackendCapabilities) caps = NULL;
  BackendEntry *entry;

  g_return_if_fail (TAKES_IS_QUEUE (self));
  g_return_if_fail (TAKES_IS_BACKEND (backend));

  caps = takes_backend_get_capabilities (backend);
  entry = g_hash_table_lookup (self->backends, takes_backend_get_id (backend));
  if (entry != NULL)
    {
      g_set_object (&entry->backend, backend);
    }
  else
    {
      entry = g_new0 (BackendEntry, 1);
      entry->backend = g_object_ref (backend);
      g_hash_table_insert (self->backends, g_strdup (takes_backend_get_id (backend)), entry);
    }
  if (!entry->limit_set)
    entry->limit = caps != NULL ? MAX (caps->max_concurrent_jobs, 1) : 1;
  schedule_dispatch (self);
}

gboolean
takes_queue_remove_backend (TakesQueue *self, const char *backend_id)
{
  g_return_val_if_fail (TAKES_IS_QUEUE (self), FALSE);

  return g_hash_table_remove (self->backends, backend_id);
}

TakesBackend *
takes_queue_lookup_backend (TakesQueue *self, const char *backend_id)
{
  BackendEntry *entry;

  g_return_val_if_fail (TAKES_IS_QUEUE (self), NULL);

  entry = backend_id != NULL ? g_hash_table_lookup (self->backends, backend_id) : NULL;
  return entry != NULL ? entry->backend : NULL;
}

void
takes_queue_set_backend_limit (TakesQueue *self, const char *backend_id, guint max_concurrent)
{
  BackendEntry *entry;

  g_return_if_fail (TAKES_IS_QUEUE (self));
  g_return_if_fail (max_concurrent >= 1);

  entry = g_hash_table_lookup (self->backends, backend_id);
  g_return_if_fail (entry != NULL);
  entry->limit = max_concurrent;
  entry->limit_set = TRUE;
  schedule_dispatch (self);
}

void
takes_queue_set_safety (TakesQueue *self, TakesSafety *safety)
{
  g_return_if_fail (TAKES_IS_QUEUE (self));
  g_set_object (&self->safety, safety);
}

void
takes_queue_set_pricing (TakesQueue *self, TakesPricing *pricing)
{
  g_return_if_fail (TAKES_IS_QUEUE (self));
  g_set_object (&self->pricing, pricing);
}

void
takes_queue_set_retry_policy (TakesQueue *self, guint max_attempts, double base_delay, double max_delay)
{
  g_return_if_fail (TAKES_IS_QUEUE (self));
  g_return_if_fail (max_attempts >= 1 && base_delay >= 0 && max_delay >= base_delay);

  self->max_attempts = max_attempts;
  self->base_delay = base_delay;
  self->max_delay = max_delay;
}

/* Enqueueing ------------------------------------------------------------------ */

/* Seconds of video, as the backends bill them: whole seconds for backends
 * that take a duration. */
static double
video_seconds (TakesRecipe *recipe, const TakesBackendModelCaps *model)
{
  double fps = takes_recipe_get_fps (recipe) > 0 ? takes_recipe_get_fps (recipe) : 16;
  double seconds = takes_recipe_get_frames (recipe) / fps;

  if (model != NULL && model->durations->len > 0)
    seconds = MAX (1.0, round (seconds));
  return seconds;
}

/* The backend's own price first (it knows its region), then the shipped
 * table. A cost that cannot be estimated counts as free: it cannot be
 * held against a budget, and the ledger records the real one. */
static void
estimate_cost (TakesQueue *self, TakesBackend *backend, TakesRecipe *recipe, double *cost, char **currency)
{
  g_autoptr (TakesBackendCapabilities) caps = takes_backend_get_capabilities (backend);
  const TakesBackendModelCaps *model
      = caps != NULL ? takes_backend_capabilities_lookup_model (caps, takes_recipe_get_model (recipe)) : NULL;
  g_autoptr (TakesEstimate) estimate = NULL;

  *cost = 0;
  *currency = NULL;
  if (model != NULL && model->price_per_second >= 0)
    {
      if (model->price_per_second > 0 && model->currency != NULL && *model->currency != '\0')
        {
          *cost = model->price_per_second * video_seconds (recipe, model);
          *currency = g_strdup (model->currency);
        }
      return;
    }
  if (self->pricing == NULL)
    {
      g_autoptr (GError) error = NULL;

      self->pricing = takes_pricing_new_default (&error);
      if (self->pricing == NULL)
        {
          g_debug ("No pricing table: %s", error->message);
          return;
        }
    }
  estimate = takes_pricing_estimate (self->pricing, takes_backend_get_id (backend),
                                     takes_recipe_get_model (recipe), takes_recipe_get_width (recipe),
                                     takes_recipe_get_height (recipe), video_seconds (recipe, model), 1);
  if (estimate->cost_known && estimate->currency != NULL && estimate->cost > 0)
    {
      *cost = estimate->cost;
      *currency = g_strdup (estimate->currency);
    }
}

static gboolean
ensure_safety (TakesQueue *self, GError **error)
{
  if (self->safety == NULL)
    self->safety = takes_safety_new_default (error);
  return self->safety != NULL;
}

/* Every check that must pass before anything is stored or sent. */
static gboolean
check_recipe (
    TakesQueue *self, TakesRecipe *recipe, gint64 project_id, TakesBackend **backend_out, GError **error)
{
  g_autoptr (GPtrArray) matches = NULL;
  TakesBackend *backend;

  if (!ensure_safety (self, error))
    return FALSE;
  matches = takes_safety_check (self->safety, takes_recipe_get_prompt (recipe));
  if (matches->len > 0)
    {
      g_autoptr (GError) log_error = NULL;

      /* The log keeps the prompt and the rule, never the request. */
      if (takes_store_log_safety_match (self->store, project_id, takes_recipe_get_prompt (recipe),
                                        g_ptr_array_index (matches, 0), TAKES_SAFETY_SOURCE_QUEUE, &log_error)
          == 0)
        g_debug ("Could not log a blocked prompt: %s", log_error->message);
      return takes_safety_check_prompt (self->safety, takes_recipe_get_prompt (recipe), error);
    }
  backend = takes_queue_lookup_backend (self, takes_recipe_get_backend (recipe));
  if (backend == NULL)
    {
      g_set_error (error, TAKES_QUEUE_ERROR, TAKES_QUEUE_ERROR_NO_BACKEND,
                   _ ("The backend “%s” is not set up; choose another backend or set it up in Preferences."),
                   takes_recipe_get_backend (recipe) != NULL ? takes_recipe_get_backend (recipe) : "");
      return FALSE;
    }
  if (!takes_recipe_validate (recipe, error) || !takes_backend_validate (backend, recipe, error))
    return FALSE;
  *backend_out = backend;
  return TRUE;
}

gboolean
takes_queue_enqueue_takes (TakesQueue *self, GPtrArray *takes, int priority, GArray *job_ids, GError **error)
{
  g_autoptr (GArray) estimates = NULL;
  g_autoptr (GPtrArray) currencies = NULL;
  g_autoptr (GHashTable) totals = NULL; /* "project\x1fcurrency" → double* */
  g_autoptr (GArray) ids = NULL;
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (TAKES_IS_QUEUE (self), FALSE);
  g_return_val_if_fail (takes != NULL, FALSE);

  estimates = g_array_sized_new (FALSE, TRUE, sizeof (double), takes->len);
  currencies = g_ptr_array_new_with_free_func (g_free);
  totals = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; i < takes->len; i++)
    {
      TakesTake *take = g_ptr_array_index (takes, i);
      TakesRecipe *recipe = takes_take_get_recipe (take);
      TakesBackend *backend = NULL;
      char *currency = NULL;
      double cost = 0;

      g_return_val_if_fail (TAKES_IS_TAKE (take) && takes_take_get_id (take) == 0, FALSE);
      if (recipe == NULL)
        {
          g_set_error_literal (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_MALFORMED,
                               _ ("The take’s recipe cannot be read; make the take again from the editor."));
          return FALSE;
        }
      if (!check_recipe (self, recipe, takes_take_get_project_id (take), &backend, error))
        return FALSE;
      estimate_cost (self, backend, recipe, &cost, &currency);
      g_array_append_val (estimates, cost);
      g_ptr_array_add (currencies, currency);
      if (currency != NULL)
        {
          gint64 project = takes_take_get_project_id (take) > 0
                               ? takes_take_get_project_id (take)
                               : takes_store_get_default_project (self->store);
          char *group = g_strdup_printf ("%" PRId64 "\x1f%s", project, currency);
          double *total = g_hash_table_lookup (totals, group);

          if (total == NULL)
            {
              total = g_new0 (double, 1);
              g_hash_table_insert (totals, group, total);
            }
          else
            g_free (group);
          *total += cost;
        }
    }
  g_hash_table_iter_init (&iter, totals);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_auto (GStrv) parts = g_strsplit (key, "\x1f", 2);

      if (!takes_ledger_check_budget (self->ledger, g_ascii_strtoll (parts[0], NULL, 10), *(double *)value,
                                      parts[1], error))
        return FALSE;
    }
  g_ptr_array_add (currencies, NULL);

  ids = g_array_sized_new (FALSE, FALSE, sizeof (gint64), takes->len);
  if (!takes_store_enqueue_takes (self->store, takes, priority, (const double *)(void *)estimates->data,
                                  (const char *const *)currencies->pdata, ids, error))
    return FALSE;
  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr (GError) local_error = NULL;
      TakesJobRow *row = takes_store_get_job (self->store, g_array_index (ids, gint64, i), &local_error);
      g_autoptr (TakesJob) job = NULL;

      if (row != NULL)
        job = takes_job_new (row, &local_error);
      if (job == NULL)
        {
          g_warning ("A job was queued but cannot be read back: %s", local_error->message);
          continue;
        }
      add_job (self, job);
      emit_changed (self, job);
    }
  if (job_ids != NULL)
    g_array_append_vals (job_ids, ids->data, ids->len);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ACTIVE]);
  schedule_dispatch (self);
  return TRUE;
}

gint64
takes_queue_enqueue_take (TakesQueue *self, TakesTake *take, int priority, GError **error)
{
  g_autoptr (GPtrArray) takes = g_ptr_array_new ();
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  g_return_val_if_fail (TAKES_IS_QUEUE (self), 0);
  g_return_val_if_fail (TAKES_IS_TAKE (take), 0);

  g_ptr_array_add (takes, take);
  if (!takes_queue_enqueue_takes (self, takes, priority, ids, error))
    return 0;
  return g_array_index (ids, gint64, 0);
}

gint64
takes_queue_enqueue (TakesQueue *self, TakesRecipe *recipe, gint64 project_id, int priority, GError **error)
{
  g_autoptr (TakesTake) take = NULL;

  g_return_val_if_fail (TAKES_IS_QUEUE (self), 0);
  g_return_val_if_fail (TAKES_IS_RECIPE (recipe), 0);

  take = takes_take_new (recipe);
  takes_take_set_project_id (take, project_id);
  return takes_queue_enqueue_take (self, take, priority, error);
}

/* Running jobs ----------------------------------------------------------------- */

static BackendEntry *
lookup_entry (TakesQueue *self, TakesJob *job)
{
  return g_hash_table_lookup (self->backends, job->row->backend);
}

static void
release_slot (TakesQueue *self, TakesJob *job)
{
  BackendEntry *entry;

  if (!job->holds_slot)
    return;
  job->holds_slot = FALSE;
  entry = lookup_entry (self, job);
  if (entry != NULL && entry->running > 0)
    entry->running--;
}

static double
retry_delay (TakesQueue *self, guint attempts, const GError *error)
{
  double delay = self->base_delay * pow (2.0, attempts > 0 ? attempts - 1 : 0);
  int retry_after = error != NULL && error->domain == TAKES_BACKEND_ERROR
                        ? takes_backend_error_get_retry_after (error)
                        : -1;

  delay = MIN (delay, self->max_delay);
  delay *= 1.0 + g_rand_double_range (self->rand, -JITTER, JITTER);
  if (retry_after >= 0)
    delay = MAX (delay, (double)retry_after);
  return delay;
}

/* A job whose backend run ended without a video. */
static void
job_failed (TakesQueue *self, TakesJob *job, const GError *error)
{
  g_autofree char *message = NULL;
  gboolean cancelled = job->cancel_requested
                       || g_error_matches (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED)
                       || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  release_slot (self, job);
  detach_backend_job (job);
  message
      = error != NULL ? g_strdup (error->message) : g_strdup (_ ("The take failed for an unknown reason."));
  job_set_progress (job, FALSE, 0, -1);
  replace_string (&job->row->last_error, message);
  job->row->next_attempt_at = 0;
  if (cancelled)
    {
      job->row->state = TAKES_JOB_STATE_CANCELLED;
      job_set_stage (job, NULL);
    }
  else if (takes_backend_error_is_retryable (error) && job->row->attempts < self->max_attempts)
    {
      double delay = retry_delay (self, job->row->attempts, error);

      /* A remote task that exists is resumed, not submitted again. */
      job->row->state = TAKES_JOB_STATE_QUEUED;
      job->row->next_attempt_at = g_get_real_time () + (gint64)(delay * G_USEC_PER_SEC);
      job_set_stage (job, _ ("Waiting to try again"));
    }
  else
    {
      job->row->state = TAKES_JOB_STATE_FAILED;
      job_set_stage (job, NULL);
    }
  save_job (self, job, NULL);
  if (takes_job_state_is_finished (job->row->state))
    finish_job (self, job);
  else
    schedule_dispatch (self);
}

/* Makes the take's video a link to (or a copy of) a file the library has. */
static gboolean
attach_cached (TakesQueue *self, TakesJob *job, TakesTake *cached, GError **error)
{
  g_autofree char *source = takes_store_get_media_file (self->store, cached);
  g_autofree char *dir = g_build_filename (takes_store_get_data_dir (self->store), "downloads", NULL);
  g_autofree char *link_name = g_strdup_printf (".cache-%" PRId64 ".mp4", job->row->take_id);
  g_autofree char *link_path = g_build_filename (dir, link_name, NULL);

  /* A hard link costs no space; moving it into media/ keeps it a link. */
  if (g_mkdir_with_parents (dir, 0700) == 0 && (g_unlink (link_path) == 0 || errno == ENOENT)
      && link (source, link_path) == 0)
    {
      if (takes_store_attach_media (self->store, job->row->take_id, link_path, TAKES_MEDIA_MOVE, error))
        return TRUE;
      g_unlink (link_path);
      return FALSE;
    }
  return takes_store_attach_media (self->store, job->row->take_id, source, TAKES_MEDIA_COPY, error);
}

static gboolean
try_cache (TakesQueue *self, TakesJob *job)
{
  g_autofree char *key = takes_recipe_get_cache_key (job->recipe);
  g_autoptr (TakesTake) cached = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *file = NULL;

  if (job->row->remote_task_id != NULL)
    return FALSE;
  cached = takes_store_find_cached (self->store, key, &error);
  if (cached == NULL || takes_take_get_id (cached) == job->row->take_id)
    return FALSE;
  file = takes_store_get_media_file (self->store, cached);
  if (file == NULL || !g_file_test (file, G_FILE_TEST_IS_REGULAR))
    return FALSE;
  if (!attach_cached (self, job, cached, &error))
    {
      g_debug ("Could not reuse take %" PRId64 ": %s", takes_take_get_id (cached), error->message);
      return FALSE;
    }
  job->row->state = TAKES_JOB_STATE_DONE;
  if (!takes_store_finish_job (self->store, job->row, 0, 0, NULL, &error))
    g_warning ("Could not record the reused take %" PRId64 ": %s", job->row->take_id, error->message);
  job_set_stage (job, _ ("Reused an identical take"));
  job_set_progress (job, TRUE, 1.0, 0);
  save_job (self, job, NULL);
  finish_job (self, job);
  return TRUE;
}

static void
job_succeeded (TakesQueue *self, TakesJob *job)
{
  TakesBackendJob *backend_job = job->backend_job;
  const char *result = takes_backend_job_get_result_path (backend_job);
  g_autoptr (GError) error = NULL;
  double cost = takes_backend_job_get_cost (backend_job);
  const char *currency = takes_backend_job_get_currency (backend_job);
  double seconds = takes_backend_job_get_seconds_spent (backend_job);

  if (seconds <= 0 && job->started_us > 0)
    seconds = (g_get_monotonic_time () - job->started_us) / (double)G_USEC_PER_SEC;
  /* An unknown cost is recorded as what it was expected to be. */
  if (cost < 0)
    {
      cost = job->row->estimated_cost;
      currency = job->row->currency;
    }
  if (currency != NULL && *currency == '\0')
    currency = NULL;
  if (result == NULL
      || !takes_store_attach_media (self->store, job->row->take_id, result, TAKES_MEDIA_MOVE, &error))
    {
      g_autoptr (GError) failure = NULL;

      if (error == NULL)
        failure = g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                                       _ ("The backend reported success but sent no video; try again."));
      else
        {
          g_autofree char *display = g_filename_display_name (result);

          /* The video was paid for: it stays where it is and the message says where. */
          failure = g_error_new (error->domain, error->code,
                                 /* Translators: the first %s is a whole sentence saying why the
                                  * video could not be stored; the second is the file it was kept in. */
                                 _ ("%s The video is kept at “%s”."), error->message, display);
        }
      job->row->attempts = MAX (job->row->attempts, self->max_attempts);
      job_failed (self, job, failure);
      return;
    }
  release_slot (self, job);
  detach_backend_job (job);
  job->row->state = TAKES_JOB_STATE_DONE;
  g_clear_pointer (&job->row->last_error, g_free);
  if (!takes_store_finish_job (self->store, job->row, seconds, cost, currency, &error))
    g_warning ("Could not record take %" PRId64 " as done: %s", job->row->take_id, error->message);
  job_set_progress (job, TRUE, 1.0, 0);
  job_set_stage (job, NULL);
  save_job (self, job, NULL);
  finish_job (self, job);
}

static void
backend_job_changed_cb (TakesBackendJob *backend_job, gpointer user_data)
{
  TakesJob *job = user_data;
  gboolean has_progress = takes_backend_job_get_has_progress (backend_job);
  double progress = takes_backend_job_get_progress (backend_job);
  double eta = -1;

  if (has_progress && progress > 0.01 && progress < 1.0 && job->started_us > 0)
    {
      double elapsed = (g_get_monotonic_time () - job->started_us) / (double)G_USEC_PER_SEC;

      eta = elapsed * (1.0 - progress) / progress;
    }
  g_object_freeze_notify (G_OBJECT (job));
  job_set_stage (job, takes_backend_job_get_stage (backend_job));
  job_set_progress (job, has_progress, progress, eta);
  if (replace_string (&job->row->remote_task_id, takes_backend_job_get_remote_task_id (backend_job)))
    job_notify (job, JOB_PROP_REMOTE_TASK_ID);
  g_object_thaw_notify (G_OBJECT (job));
  if (job->queue != NULL)
    emit_changed (job->queue, job);
}

static void
backend_job_preview_cb (TakesBackendJob *backend_job, TakesBackendPreview *preview, gpointer user_data)
{
  TakesJob *job = user_data;

  g_clear_pointer (&job->preview, takes_backend_preview_unref);
  job->preview = preview != NULL ? takes_backend_preview_ref (preview) : NULL;
  job_notify (job, JOB_PROP_PREVIEW);
  if (job->queue != NULL)
    emit_changed (job->queue, job);
}

static void
detach_backend_job (TakesJob *job)
{
  if (job->backend_job != NULL)
    {
      g_clear_signal_handler (&job->changed_id, job->backend_job);
      g_clear_signal_handler (&job->preview_id, job->backend_job);
      g_clear_object (&job->backend_job);
    }
  g_clear_object (&job->cancellable);
}

static void
wait_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TakesJob) job = user_data;
  TakesBackendJob *backend_job = TAKES_BACKEND_JOB (source);
  g_autoptr (GError) error = NULL;
  gboolean ok = takes_backend_job_wait_finish (backend_job, result, &error);

  /* Stopped or forgotten meanwhile: the rows stay as they are for the next start. */
  if (job->queue == NULL || job->backend_job != backend_job)
    return;
  if (ok)
    job_succeeded (job->queue, job);
  else
    job_failed (job->queue, job, error);
}

/* The backend accepted the job (or a resumed task was found). */
static void
job_attached (TakesQueue *self, TakesJob *job, TakesBackendJob *backend_job)
{
  const char *remote = takes_backend_job_get_remote_task_id (backend_job);

  job->backend_job = g_object_ref (backend_job);
  job->changed_id = g_signal_connect (backend_job, "changed", G_CALLBACK (backend_job_changed_cb), job);
  job->preview_id = g_signal_connect (backend_job, "preview", G_CALLBACK (backend_job_preview_cb), job);
  /* The remote task id is on disk before anything else can happen, so a
   * crash from here on resumes the task instead of paying for another. */
  if (remote != NULL && replace_string (&job->row->remote_task_id, remote))
    save_job (self, job, NULL);
  if (job->cancel_requested)
    {
      BackendEntry *entry = lookup_entry (self, job);

      if (entry != NULL)
        takes_backend_cancel (entry->backend, backend_job);
      else
        takes_backend_job_cancel (backend_job);
    }
  backend_job_changed_cb (backend_job, job);
  takes_backend_job_wait_async (backend_job, job->cancellable, wait_cb, g_object_ref (job));
}

static void
submit_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (TakesJob) job = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) backend_job = NULL;
  if (job->resuming)
    backend_job = takes_backend_resume_finish (TAKES_BACKEND (source), result, &error);
  else
    backend_job = takes_backend_submit_finish (TAKES_BACKEND (source), result, &error);
  if (job->queue == NULL)
    {
      /* The queue stopped while the backend was answering. */
      return;
    }
  if (backend_job == NULL)
    {
      /* A remote task that no longer exists was never finished: submit anew. */
      if (job->row->remote_task_id != NULL
          && g_error_matches (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NOT_FOUND)
          && !job->cancel_requested)
        {
          release_slot (job->queue, job);
          g_clear_object (&job->cancellable);
          g_clear_pointer (&job->row->remote_task_id, g_free);
          job->row->state = TAKES_JOB_STATE_QUEUED;
          save_job (job->queue, job, NULL);
          schedule_dispatch (job->queue);
          return;
        }
      job_failed (job->queue, job, error);
      return;
    }
  job_attached (job->queue, job, backend_job);
}

/* Hands the job to its backend: resumes its remote task when it has one,
 * else submits the recipe. */
static void
start_job (TakesQueue *self, TakesJob *job, BackendEntry *entry)
{
  g_autoptr (GError) error = NULL;

  job->row->state = TAKES_JOB_STATE_RUNNING;
  job->row->next_attempt_at = 0;
  job->resuming = job->row->remote_task_id != NULL;
  if (!job->resuming)
    job->row->attempts++;
  job->cancel_requested = FALSE;
  job->holds_slot = TRUE;
  entry->running++;
  job->started_us = g_get_monotonic_time ();
  g_clear_object (&job->cancellable);
  job->cancellable = g_cancellable_new ();
  job_set_progress (job, FALSE, 0, -1);
  job_set_stage (job, job->resuming ? _ ("Resuming") : _ ("Starting"));
  if (!save_job (self, job, &error))
    {
      /* Without the row saying "running" a crash could run the job twice. */
      job->row->attempts = MAX (job->row->attempts, self->max_attempts);
      job_failed (self, job, error);
      return;
    }
  if (job->resuming)
    takes_backend_resume_async (entry->backend, job->recipe, job->row->remote_task_id, job->cancellable,
                                submit_cb, g_object_ref (job));
  else
    takes_backend_submit_async (entry->backend, job->recipe, job->cancellable, submit_cb, g_object_ref (job));
}

static gboolean
timer_cb (gpointer user_data)
{
  TakesQueue *self = user_data;

  g_clear_pointer (&self->timer_source, g_source_unref);
  schedule_dispatch (self);
  return G_SOURCE_REMOVE;
}

static void
set_timer (TakesQueue *self, gint64 when)
{
  gint64 delay_ms = MAX (0, (when - g_get_real_time ()) / 1000) + 1;

  if (self->timer_source != NULL)
    {
      g_source_destroy (self->timer_source);
      g_clear_pointer (&self->timer_source, g_source_unref);
    }
  self->timer_source = g_timeout_source_new ((guint)MIN (delay_ms, G_MAXUINT));
  g_source_set_callback (self->timer_source, timer_cb, self, NULL);
  g_source_set_static_name (self->timer_source, "[takes] queue retry timer");
  g_source_attach (self->timer_source, self->context);
}

static gboolean
dispatch_cb (gpointer user_data)
{
  TakesQueue *self = user_data;
  GListModel *model = G_LIST_MODEL (self->jobs);
  g_autoptr (GPtrArray) ready = g_ptr_array_new_with_free_func (g_object_unref);
  gint64 now = g_get_real_time ();
  gint64 next_wake = 0;

  g_clear_pointer (&self->dispatch_source, g_source_unref);
  if (!self->started)
    return G_SOURCE_REMOVE;

  /* Decide first, start after: starting a job reorders the list. */
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (TakesJob) job = g_list_model_get_item (model, i);
      BackendEntry *entry = lookup_entry (self, job);

      if (job->row->state == TAKES_JOB_STATE_RUNNING && job->backend_job == NULL && job->cancellable == NULL
          && entry != NULL)
        {
          /* Left running by an earlier run, its remote task going on: it
           * takes its slot whatever the limit, since it costs already. */
          g_ptr_array_add (ready, g_object_ref (job));
          continue;
        }
      if (job->row->state != TAKES_JOB_STATE_QUEUED || self->paused || entry == NULL)
        continue;
      if (job->row->next_attempt_at > now)
        {
          next_wake = next_wake == 0 ? job->row->next_attempt_at : MIN (next_wake, job->row->next_attempt_at);
          continue;
        }
      g_ptr_array_add (ready, g_object_ref (job));
    }
  for (guint i = 0; i < ready->len; i++)
    {
      TakesJob *job = g_ptr_array_index (ready, i);
      BackendEntry *entry = lookup_entry (self, job);

      if (entry == NULL || !self->started)
        continue;
      if (job->row->state == TAKES_JOB_STATE_RUNNING)
        {
          job->row->state = TAKES_JOB_STATE_QUEUED;
          start_job (self, job, entry);
          continue;
        }
      if (entry->running >= entry->limit || try_cache (self, job))
        continue;
      start_job (self, job, entry);
    }
  if (next_wake > 0)
    set_timer (self, next_wake);
  return G_SOURCE_REMOVE;
}

static void
schedule_dispatch (TakesQueue *self)
{
  if (!self->started || self->dispatch_source != NULL)
    return;
  self->dispatch_source = g_idle_source_new ();
  g_source_set_callback (self->dispatch_source, dispatch_cb, self, NULL);
  g_source_set_static_name (self->dispatch_source, "[takes] queue dispatch");
  g_source_attach (self->dispatch_source, self->context);
}

/* What an earlier run left behind: a job running without a remote task
 * never reached a backend (or one that cannot resume), so it starts again;
 * one whose take already has its video finished but for the bookkeeping. */
static void
recover (TakesQueue *self)
{
  GListModel *model = G_LIST_MODEL (self->jobs);
  g_autoptr (GPtrArray) stale = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *downloads = g_build_filename (takes_store_get_data_dir (self->store), "downloads", NULL);

  /* A download killed with the process that ran it leaves its temporary
   * file; the job itself starts that download again from the beginning. */
  takes_download_remove_stale (downloads);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (TakesJob) job = g_list_model_get_item (model, i);

      if (job->row->state == TAKES_JOB_STATE_RUNNING && job->backend_job == NULL && job->cancellable == NULL)
        g_ptr_array_add (stale, g_object_ref (job));
    }
  for (guint i = 0; i < stale->len; i++)
    {
      TakesJob *job = g_ptr_array_index (stale, i);
      g_autoptr (GError) error = NULL;

      if (job->row->take_has_media)
        {
          job->row->state = TAKES_JOB_STATE_DONE;
          if (!takes_store_finish_job (self->store, job->row, 0, job->row->estimated_cost, job->row->currency,
                                       &error))
            g_warning ("Could not record take %" PRId64 " as done: %s", job->row->take_id, error->message);
          save_job (self, job, NULL);
          finish_job (self, job);
        }
      else if (job->row->remote_task_id == NULL)
        {
          job->row->state = TAKES_JOB_STATE_QUEUED;
          job_set_stage (job, NULL);
          save_job (self, job, NULL);
        }
      else
        job_set_stage (job, _ ("Waiting to resume"));
    }
}

void
takes_queue_start (TakesQueue *self)
{
  g_return_if_fail (TAKES_IS_QUEUE (self));

  if (self->started)
    return;
  g_clear_pointer (&self->context, g_main_context_unref);
  self->context = g_main_context_ref_thread_default ();
  self->started = TRUE;
  recover (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STARTED]);
  schedule_dispatch (self);
}

void
takes_queue_stop (TakesQueue *self)
{
  GListModel *model;

  g_return_if_fail (TAKES_IS_QUEUE (self));

  if (!self->started)
    return;
  self->started = FALSE;
  if (self->dispatch_source != NULL)
    {
      g_source_destroy (self->dispatch_source);
      g_clear_pointer (&self->dispatch_source, g_source_unref);
    }
  if (self->timer_source != NULL)
    {
      g_source_destroy (self->timer_source);
      g_clear_pointer (&self->timer_source, g_source_unref);
    }
  model = G_LIST_MODEL (self->jobs);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (TakesJob) job = g_list_model_get_item (model, i);

      if (job->row->state != TAKES_JOB_STATE_RUNNING)
        continue;
      /* Let go without cancelling: the row stays "running" with its remote
       * task id, and the next start resumes it. A submission still on its
       * way is abandoned; without a task id the job starts again. */
      if (job->backend_job == NULL && job->cancellable != NULL)
        g_cancellable_cancel (job->cancellable);
      release_slot (self, job);
      detach_backend_job (job);
      job_set_stage (job, NULL);
      job_set_progress (job, FALSE, 0, -1);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STARTED]);
}

gboolean
takes_queue_get_started (TakesQueue *self)
{
  g_return_val_if_fail (TAKES_IS_QUEUE (self), FALSE);
  return self->started;
}

void
takes_queue_pause (TakesQueue *self)
{
  g_return_if_fail (TAKES_IS_QUEUE (self));

  if (self->paused)
    return;
  self->paused = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSED]);
}

void
takes_queue_resume (TakesQueue *self)
{
  g_return_if_fail (TAKES_IS_QUEUE (self));

  if (!self->paused)
    return;
  self->paused = FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAUSED]);
  schedule_dispatch (self);
}

gboolean
takes_queue_get_paused (TakesQueue *self)
{
  g_return_val_if_fail (TAKES_IS_QUEUE (self), FALSE);
  return self->paused;
}

/* Single jobs ------------------------------------------------------------------- */

static TakesJob *
require_job (TakesQueue *self, gint64 job_id, GError **error)
{
  TakesJob *job = g_hash_table_lookup (self->by_id, &job_id);

  if (job == NULL)
    g_set_error (
        error, TAKES_QUEUE_ERROR, TAKES_QUEUE_ERROR_NOT_FOUND,
        _ ("There is no job %" PRId64 " in the queue; check the number with “takes-cli queue list”."),
        job_id);
  return job;
}

static gboolean wrong_state (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
wrong_state (GError **error, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (error,
                     g_error_new_valist (TAKES_QUEUE_ERROR, TAKES_QUEUE_ERROR_WRONG_STATE, format, args));
  va_end (args);
  return FALSE;
}

gboolean
takes_queue_pause_job (TakesQueue *self, gint64 job_id, GError **error)
{
  TakesJob *job;

  g_return_val_if_fail (TAKES_IS_QUEUE (self), FALSE);

  if ((job = require_job (self, job_id, error)) == NULL)
    return FALSE;
  if (job->row->state == TAKES_JOB_STATE_PAUSED)
    return TRUE;
  if (job->row->state != TAKES_JOB_STATE_QUEUED)
    /* TRANSLATORS: the second %s is a job state such as “Running” */
    return wrong_state (error,
                        _ ("Job %" PRId64 " cannot be paused: it is %s. Only waiting jobs can be paused; "
                           "cancel a running one instead."),
                        job->row->id, takes_job_state_get_label (job->row->state));
  job->row->state = TAKES_JOB_STATE_PAUSED;
  return save_job (self, job, error);
}

gboolean
takes_queue_resume_job (TakesQueue *self, gint64 job_id, GError **error)
{
  TakesJob *job;

  g_return_val_if_fail (TAKES_IS_QUEUE (self), FALSE);

  if ((job = require_job (self, job_id, error)) == NULL)
    return FALSE;
  if (job->row->state == TAKES_JOB_STATE_QUEUED)
    return TRUE;
  if (job->row->state != TAKES_JOB_STATE_PAUSED)
    return wrong_state (error, _ ("Job %" PRId64 " is not paused: it is %s."), job->row->id,
                        takes_job_state_get_label (job->row->state));
  job->row->state = TAKES_JOB_STATE_QUEUED;
  if (!save_job (self, job, error))
    return FALSE;
  schedule_dispatch (self);
  return TRUE;
}

gboolean
takes_queue_cancel_job (TakesQueue *self, gint64 job_id, GError **error)
{
  TakesJob *job;

  g_return_val_if_fail (TAKES_IS_QUEUE (self), FALSE);

  if ((job = require_job (self, job_id, error)) == NULL)
    return FALSE;
  if (takes_job_state_is_finished (job->row->state))
    return wrong_state (error, _ ("Job %" PRId64 " cannot be cancelled: it is %s already."), job->row->id,
                        takes_job_state_get_label (job->row->state));
  if (job->row->state == TAKES_JOB_STATE_RUNNING && (job->backend_job != NULL || job->cancellable != NULL))
    {
      BackendEntry *entry = lookup_entry (self, job);

      job->cancel_requested = TRUE;
      job_set_stage (job, _ ("Cancelling"));
      emit_changed (self, job);
      if (job->backend_job != NULL && entry != NULL)
        takes_backend_cancel (entry->backend, job->backend_job);
      else if (job->backend_job != NULL)
        takes_backend_job_cancel (job->backend_job);
      /* A submission on its way finishes first; job_attached() then cancels
       * the remote task it created. */
      return TRUE;
    }
  job->row->state = TAKES_JOB_STATE_CANCELLED;
  job->row->next_attempt_at = 0;
  job_set_stage (job, NULL);
  if (!save_job (self, job, error))
    return FALSE;
  finish_job (self, job);
  return TRUE;
}

gboolean
takes_queue_retry_job (TakesQueue *self, gint64 job_id, GError **error)
{
  TakesJob *job;

  g_return_val_if_fail (TAKES_IS_QUEUE (self), FALSE);

  if ((job = require_job (self, job_id, error)) == NULL)
    return FALSE;
  if (job->row->state != TAKES_JOB_STATE_FAILED && job->row->state != TAKES_JOB_STATE_CANCELLED)
    return wrong_state (error,
                        _ ("Job %" PRId64 " cannot be retried: it is %s. Only failed or cancelled jobs can."),
                        job->row->id, takes_job_state_get_label (job->row->state));
  if (job->row->take_has_media)
    return wrong_state (error, _ ("Job %" PRId64 " already made its video (%s)."), job->row->id,
                        takes_job_state_get_label (job->row->state));
  /* Asked for by a person: a new submission, even if that costs again. */
  job->row->state = TAKES_JOB_STATE_QUEUED;
  job->row->attempts = 0;
  job->row->next_attempt_at = 0;
  g_clear_pointer (&job->row->remote_task_id, g_free);
  g_clear_pointer (&job->row->last_error, g_free);
  job_set_stage (job, NULL);
  if (!save_job (self, job, error))
    return FALSE;
  schedule_dispatch (self);
  return TRUE;
}

static gboolean
require_unfinished (TakesJob *job, GError **error)
{
  if (takes_job_state_is_finished (job->row->state))
    return wrong_state (error, _ ("Job %" PRId64 " cannot be moved: it is %s."), job->row->id,
                        takes_job_state_get_label (job->row->state));
  return TRUE;
}

gboolean
takes_queue_move_job (TakesQueue *self, gint64 job_id, int priority, GError **error)
{
  GListModel *model;
  TakesJob *job;
  double last = 0;

  g_return_val_if_fail (TAKES_IS_QUEUE (self), FALSE);

  if ((job = require_job (self, job_id, error)) == NULL || !require_unfinished (job, error))
    return FALSE;
  model = G_LIST_MODEL (self->jobs);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (TakesJob) other = g_list_model_get_item (model, i);

      if (other != job && other->row->priority == priority
          && !takes_job_state_is_finished (other->row->state))
        last = MAX (last, other->row->position);
    }
  job->row->priority = priority;
  job->row->position = floor (last) + 1;
  if (!save_job (self, job, error))
    return FALSE;
  schedule_dispatch (self);
  return TRUE;
}

gboolean
takes_queue_move_job_before (TakesQueue *self, gint64 job_id, gint64 before_job_id, GError **error)
{
  GListModel *model;
  TakesJob *job, *before;
  gboolean have_previous = FALSE;
  double previous = 0;

  g_return_val_if_fail (TAKES_IS_QUEUE (self), FALSE);

  if ((job = require_job (self, job_id, error)) == NULL || !require_unfinished (job, error)
      || (before = require_job (self, before_job_id, error)) == NULL || !require_unfinished (before, error))
    return FALSE;
  if (job == before)
    return TRUE;
  model = G_LIST_MODEL (self->jobs);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (TakesJob) other = g_list_model_get_item (model, i);

      if (other != job && other != before && other->row->priority == before->row->priority
          && !takes_job_state_is_finished (other->row->state) && other->row->position < before->row->position
          && (!have_previous || other->row->position > previous))
        {
          previous = other->row->position;
          have_previous = TRUE;
        }
    }
  job->row->priority = before->row->priority;
  job->row->position = have_previous ? (previous + before->row->position) / 2 : before->row->position - 1;
  if (!save_job (self, job, error))
    return FALSE;
  schedule_dispatch (self);
  return TRUE;
}

gboolean
takes_queue_edit_job (TakesQueue *self, gint64 job_id, TakesRecipe *recipe, GError **error)
{
  g_autoptr (TakesTake) take = NULL;
  g_autofree char *currency = NULL;
  TakesBackend *backend = NULL;
  TakesJob *job;
  double cost = 0, previous_cost;
  char *previous_currency;

  g_return_val_if_fail (TAKES_IS_QUEUE (self), FALSE);
  g_return_val_if_fail (TAKES_IS_RECIPE (recipe), FALSE);

  if ((job = require_job (self, job_id, error)) == NULL)
    return FALSE;
  if (job->row->state != TAKES_JOB_STATE_QUEUED && job->row->state != TAKES_JOB_STATE_PAUSED)
    return wrong_state (
        error, _ ("Job %" PRId64 " cannot be changed: it is %s. Only jobs that have not started can."),
        job->row->id, takes_job_state_get_label (job->row->state));
  if (job->row->remote_task_id != NULL || job->row->attempts > 0)
    return wrong_state (error, _ ("Job %" PRId64 " cannot be changed: it reached a backend already (%s)."),
                        job->row->id, takes_job_state_get_label (job->row->state));
  if (!check_recipe (self, recipe, job->row->project_id, &backend, error))
    return FALSE;
  estimate_cost (self, backend, recipe, &cost, &currency);

  /* The job's own estimate does not count against the new one. */
  previous_cost = job->row->estimated_cost;
  previous_currency = g_steal_pointer (&job->row->currency);
  job->row->estimated_cost = 0;
  takes_store_save_job (self->store, job->row, NULL);
  if (!takes_ledger_check_budget (self->ledger, job->row->project_id, cost, currency, error))
    {
      job->row->estimated_cost = previous_cost;
      job->row->currency = previous_currency;
      takes_store_save_job (self->store, job->row, NULL);
      return FALSE;
    }
  g_free (previous_currency);

  take = takes_store_get_take (self->store, job->row->take_id, error);
  if (take == NULL)
    return FALSE;
  takes_take_set_recipe (take, recipe);
  takes_take_set_prompt (take, takes_recipe_get_prompt (recipe));
  takes_take_set_status (take, TAKES_TAKE_STATUS_QUEUED);
  takes_take_set_video_info (take, takes_recipe_get_width (recipe), takes_recipe_get_height (recipe),
                             takes_recipe_get_frames (recipe), takes_recipe_get_fps (recipe),
                             takes_recipe_get_fps (recipe) > 0
                                 ? (gint64)takes_recipe_get_frames (recipe) * G_USEC_PER_SEC
                                       / takes_recipe_get_fps (recipe)
                                 : 0);
  if (!takes_store_update_take (self->store, take, error))
    return FALSE;
  g_set_object (&job->recipe, takes_take_get_recipe (take));
  replace_string (&job->row->backend, takes_recipe_get_backend (recipe));
  g_free (job->row->recipe_json);
  job->row->recipe_json = g_strdup (takes_take_get_recipe_json (take));
  job->row->estimated_cost = cost;
  job->row->currency = g_steal_pointer (&currency);
  job_notify (job, JOB_PROP_RECIPE);
  job_notify (job, JOB_PROP_BACKEND);
  if (!save_job (self, job, error))
    return FALSE;
  schedule_dispatch (self);
  return TRUE;
}

/* The list --------------------------------------------------------------------- */

GListModel *
takes_queue_get_jobs (TakesQueue *self)
{
  g_return_val_if_fail (TAKES_IS_QUEUE (self), NULL);
  return G_LIST_MODEL (self->jobs);
}

TakesJob *
takes_queue_lookup_job (TakesQueue *self, gint64 job_id)
{
  g_return_val_if_fail (TAKES_IS_QUEUE (self), NULL);
  return g_hash_table_lookup (self->by_id, &job_id);
}

guint
takes_queue_get_n_active (TakesQueue *self)
{
  GListModel *model;
  guint n = 0;

  g_return_val_if_fail (TAKES_IS_QUEUE (self), 0);

  model = G_LIST_MODEL (self->jobs);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr (TakesJob) job = g_list_model_get_item (model, i);

      /* Sorted with running and waiting jobs first. */
      if (job->row->state != TAKES_JOB_STATE_RUNNING && job->row->state != TAKES_JOB_STATE_QUEUED
          && job->row->state != TAKES_JOB_STATE_PAUSED)
        break;
      if (job->row->state != TAKES_JOB_STATE_PAUSED)
        n++;
    }
  return n;
}

gboolean
takes_queue_clear_finished (TakesQueue *self, GError **error)
{
  GListModel *model;

  g_return_val_if_fail (TAKES_IS_QUEUE (self), FALSE);

  if (!takes_store_delete_finished_jobs (self->store, error))
    return FALSE;
  model = G_LIST_MODEL (self->jobs);
  for (guint i = g_list_model_get_n_items (model); i > 0; i--)
    {
      g_autoptr (TakesJob) job = g_list_model_get_item (model, i - 1);

      if (!takes_job_state_is_finished (job->row->state))
        continue;
      g_hash_table_remove (self->by_id, &job->row->id);
      job->queue = NULL;
      g_list_store_remove (self->jobs, i - 1);
    }
  return TRUE;
}
