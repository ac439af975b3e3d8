/* takes-backend-job.c: one take being made by a backend.
 *
 * The job is the only thing the queue and the UI watch, whatever the backend.
 * ::changed is emitted once per batch of property notifications (GObject
 * dispatches a frozen batch in one call), so a backend that updates state,
 * stage and progress together wakes its listeners once.
 */
#include "config.h"

#include <glib/gi18n.h>

#include "takes-backend.h"
#include "takes-backend-job.h"

struct _TakesBackendPreview
{
  gatomicrefcount ref_count;
  TakesBackendPreviewFormat format;
  GBytes *data;
  guint width;
  guint height;
};

struct _TakesBackendJob
{
  GObject parent_instance;

  char *backend_id;
  TakesRecipe *recipe;
  TakesBackendJobState state;
  double progress;
  gboolean has_progress;
  char *stage;
  char *remote_task_id;
  char *result_path;
  double seconds_spent;
  double cost;
  char *currency;
  GError *error;
  GCancellable *cancellable;
  GPtrArray *waiters; /* GTask */
};

G_DEFINE_FINAL_TYPE (TakesBackendJob, takes_backend_job, G_TYPE_OBJECT)

G_DEFINE_ENUM_TYPE (TakesBackendJobState,
                    takes_backend_job_state,
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_JOB_STATE_QUEUED, "queued"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_JOB_STATE_SUBMITTED, "submitted"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_JOB_STATE_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_JOB_STATE_DOWNLOADING, "downloading"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_JOB_STATE_SUCCEEDED, "succeeded"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_JOB_STATE_FAILED, "failed"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_JOB_STATE_CANCELLED, "cancelled"))

G_DEFINE_BOXED_TYPE (TakesBackendPreview,
                     takes_backend_preview,
                     takes_backend_preview_ref,
                     takes_backend_preview_unref)

enum
{
  PROP_0,
  PROP_BACKEND_ID,
  PROP_RECIPE,
  PROP_STATE,
  PROP_PROGRESS,
  PROP_HAS_PROGRESS,
  PROP_STAGE,
  PROP_REMOTE_TASK_ID,
  PROP_RESULT_PATH,
  PROP_SECONDS_SPENT,
  PROP_COST,
  PROP_CURRENCY,
  N_PROPS
};

enum
{
  SIGNAL_CHANGED,
  SIGNAL_PREVIEW,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* g_set_str() arrived in GLib 2.76. */
static gboolean
replace_str (char **slot, const char *value)
{
  if (g_strcmp0 (*slot, value) == 0)
    return FALSE;
  g_free (*slot);
  *slot = g_strdup (value);
  return TRUE;
}

const char *
takes_backend_job_state_to_string (TakesBackendJobState state)
{
  g_autoptr (GEnumClass) klass = g_type_class_ref (TAKES_TYPE_BACKEND_JOB_STATE);
  GEnumValue *value = g_enum_get_value (klass, state);

  return value != NULL ? value->value_nick : "unknown";
}

/* Previews ---------------------------------------------------------------- */

TakesBackendPreview *
takes_backend_preview_new (TakesBackendPreviewFormat format, GBytes *data, guint width, guint height)
{
  TakesBackendPreview *self;

  g_return_val_if_fail (data != NULL, NULL);
  g_return_val_if_fail (
      format != TAKES_BACKEND_PREVIEW_RGB || (gsize)width * height * 3 == g_bytes_get_size (data), NULL);

  self = g_new0 (TakesBackendPreview, 1);
  g_atomic_ref_count_init (&self->ref_count);
  self->format = format;
  self->data = g_bytes_ref (data);
  self->width = width;
  self->height = height;
  return self;
}

TakesBackendPreview *
takes_backend_preview_ref (TakesBackendPreview *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
takes_backend_preview_unref (TakesBackendPreview *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_bytes_unref (self->data);
      g_free (self);
    }
}

TakesBackendPreviewFormat
takes_backend_preview_get_format (const TakesBackendPreview *self)
{
  return self->format;
}

GBytes *
takes_backend_preview_get_data (const TakesBackendPreview *self)
{
  return self->data;
}

guint
takes_backend_preview_get_width (const TakesBackendPreview *self)
{
  return self->width;
}

guint
takes_backend_preview_get_height (const TakesBackendPreview *self)
{
  return self->height;
}

/* The job ----------------------------------------------------------------- */

static void
takes_backend_job_dispatch_properties_changed (GObject *object, guint n_pspecs, GParamSpec **pspecs)
{
  G_OBJECT_CLASS (takes_backend_job_parent_class)->dispatch_properties_changed (object, n_pspecs, pspecs);
  g_signal_emit (object, signals[SIGNAL_CHANGED], 0);
}

static void
takes_backend_job_dispose (GObject *object)
{
  TakesBackendJob *self = TAKES_BACKEND_JOB (object);

  g_clear_object (&self->recipe);
  g_clear_object (&self->cancellable);
  if (self->waiters != NULL)
    g_ptr_array_set_size (self->waiters, 0);

  G_OBJECT_CLASS (takes_backend_job_parent_class)->dispose (object);
}

static void
takes_backend_job_finalize (GObject *object)
{
  TakesBackendJob *self = TAKES_BACKEND_JOB (object);

  g_free (self->backend_id);
  g_free (self->stage);
  g_free (self->remote_task_id);
  g_free (self->result_path);
  g_free (self->currency);
  g_clear_error (&self->error);
  g_clear_pointer (&self->waiters, g_ptr_array_unref);

  G_OBJECT_CLASS (takes_backend_job_parent_class)->finalize (object);
}

static void
takes_backend_job_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesBackendJob *self = TAKES_BACKEND_JOB (object);

  switch (prop_id)
    {
      case PROP_BACKEND_ID:
        g_value_set_string (value, self->backend_id);
        break;
      case PROP_RECIPE:
        g_value_set_object (value, self->recipe);
        break;
      case PROP_STATE:
        g_value_set_enum (value, self->state);
        break;
      case PROP_PROGRESS:
        g_value_set_double (value, self->progress);
        break;
      case PROP_HAS_PROGRESS:
        g_value_set_boolean (value, self->has_progress);
        break;
      case PROP_STAGE:
        g_value_set_string (value, self->stage);
        break;
      case PROP_REMOTE_TASK_ID:
        g_value_set_string (value, self->remote_task_id);
        break;
      case PROP_RESULT_PATH:
        g_value_set_string (value, self->result_path);
        break;
      case PROP_SECONDS_SPENT:
        g_value_set_double (value, self->seconds_spent);
        break;
      case PROP_COST:
        g_value_set_double (value, self->cost);
        break;
      case PROP_CURRENCY:
        g_value_set_string (value, self->currency);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_backend_job_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TakesBackendJob *self = TAKES_BACKEND_JOB (object);

  switch (prop_id)
    {
      case PROP_BACKEND_ID:
        self->backend_id = g_value_dup_string (value);
        break;
      case PROP_RECIPE:
        self->recipe = g_value_dup_object (value);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_backend_job_class_init (TakesBackendJobClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = takes_backend_job_dispose;
  object_class->finalize = takes_backend_job_finalize;
  object_class->get_property = takes_backend_job_get_property;
  object_class->set_property = takes_backend_job_set_property;
  object_class->dispatch_properties_changed = takes_backend_job_dispatch_properties_changed;

  properties[PROP_BACKEND_ID] = g_param_spec_string (
      "backend-id", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RECIPE]
      = g_param_spec_object ("recipe", NULL, NULL, TAKES_TYPE_RECIPE,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATE]
      = g_param_spec_enum ("state", NULL, NULL, TAKES_TYPE_BACKEND_JOB_STATE, TAKES_BACKEND_JOB_STATE_QUEUED,
                           G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROGRESS]
      = g_param_spec_double ("progress", NULL, NULL, 0.0, 1.0, 0.0,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* DashScope reports no progress while it generates; the UI then shows
   * activity without a fraction. */
  properties[PROP_HAS_PROGRESS] = g_param_spec_boolean (
      "has-progress", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STAGE] = g_param_spec_string (
      "stage", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REMOTE_TASK_ID]
      = g_param_spec_string ("remote-task-id", NULL, NULL, NULL,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RESULT_PATH] = g_param_spec_string (
      "result-path", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SECONDS_SPENT]
      = g_param_spec_double ("seconds-spent", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Negative while the price is unknown. */
  properties[PROP_COST]
      = g_param_spec_double ("cost", NULL, NULL, -1.0, G_MAXDOUBLE, -1.0,
                             G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CURRENCY] = g_param_spec_string (
      "currency", NULL, NULL, NULL, G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[SIGNAL_CHANGED] = g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                          NULL, NULL, G_TYPE_NONE, 0);
  signals[SIGNAL_PREVIEW]
      = g_signal_new ("preview", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                      G_TYPE_NONE, 1, TAKES_TYPE_BACKEND_PREVIEW | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
takes_backend_job_init (TakesBackendJob *self)
{
  self->state = TAKES_BACKEND_JOB_STATE_QUEUED;
  self->cost = -1.0;
  self->cancellable = g_cancellable_new ();
  self->waiters = g_ptr_array_new_with_free_func (g_object_unref);
}

TakesBackendJob *
takes_backend_job_new (const char *backend_id, TakesRecipe *recipe)
{
  g_return_val_if_fail (backend_id != NULL, NULL);
  g_return_val_if_fail (recipe == NULL || TAKES_IS_RECIPE (recipe), NULL);

  return g_object_new (TAKES_TYPE_BACKEND_JOB, "backend-id", backend_id, "recipe", recipe, NULL);
}

const char *
takes_backend_job_get_backend_id (TakesBackendJob *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_JOB (self), NULL);
  return self->backend_id;
}

TakesRecipe *
takes_backend_job_get_recipe (TakesBackendJob *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_JOB (self), NULL);
  return self->recipe;
}

TakesBackendJobState
takes_backend_job_get_state (TakesBackendJob *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_JOB (self), TAKES_BACKEND_JOB_STATE_FAILED);
  return self->state;
}

gboolean
takes_backend_job_is_finished (TakesBackendJob *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_JOB (self), TRUE);
  return self->state == TAKES_BACKEND_JOB_STATE_SUCCEEDED || self->state == TAKES_BACKEND_JOB_STATE_FAILED
         || self->state == TAKES_BACKEND_JOB_STATE_CANCELLED;
}

double
takes_backend_job_get_progress (TakesBackendJob *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_JOB (self), 0.0);
  return self->progress;
}

gboolean
takes_backend_job_get_has_progress (TakesBackendJob *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_JOB (self), FALSE);
  return self->has_progress;
}

const char *
takes_backend_job_get_stage (TakesBackendJob *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_JOB (self), NULL);
  return self->stage;
}

const char *
takes_backend_job_get_remote_task_id (TakesBackendJob *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_JOB (self), NULL);
  return self->remote_task_id;
}

const char *
takes_backend_job_get_result_path (TakesBackendJob *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_JOB (self), NULL);
  return self->result_path;
}

double
takes_backend_job_get_seconds_spent (TakesBackendJob *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_JOB (self), 0.0);
  return self->seconds_spent;
}

double
takes_backend_job_get_cost (TakesBackendJob *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_JOB (self), -1.0);
  return self->cost;
}

const char *
takes_backend_job_get_currency (TakesBackendJob *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_JOB (self), NULL);
  return self->currency;
}

const GError *
takes_backend_job_get_error (TakesBackendJob *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_JOB (self), NULL);
  return self->error;
}

GCancellable *
takes_backend_job_get_cancellable (TakesBackendJob *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_JOB (self), NULL);
  return self->cancellable;
}

/* The backend driving the job sees the cancellable fire, stops the remote task
 * where the protocol allows it and then ends the job as cancelled. */
void
takes_backend_job_cancel (TakesBackendJob *self)
{
  g_return_if_fail (TAKES_IS_BACKEND_JOB (self));

  if (!takes_backend_job_is_finished (self))
    g_cancellable_cancel (self->cancellable);
}

static void
complete_waiters (TakesBackendJob *self)
{
  g_autoptr (GPtrArray) waiters = g_steal_pointer (&self->waiters);

  self->waiters = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < waiters->len; i++)
    {
      GTask *task = g_ptr_array_index (waiters, i);

      if (self->state == TAKES_BACKEND_JOB_STATE_SUCCEEDED)
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, g_error_copy (self->error));
    }
}

static gboolean
waiter_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  GTask *task = user_data;
  TakesBackendJob *self = g_task_get_source_object (task);
  guint index;

  /* The job may have completed this waiter in the same iteration. */
  if (g_ptr_array_find (self->waiters, task, &index))
    {
      g_autoptr (GTask) stolen = g_ptr_array_steal_index (self->waiters, index);

      g_task_return_new_error (stolen, G_IO_ERROR, G_IO_ERROR_CANCELLED, _ ("Stopped waiting for the take."));
    }
  return G_SOURCE_REMOVE;
}

static void
destroy_source (gpointer data)
{
  GSource *source = data;

  g_source_destroy (source);
  g_source_unref (source);
}

void
takes_backend_job_wait_async (TakesBackendJob *self,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (TAKES_IS_BACKEND_JOB (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, takes_backend_job_wait_async);
  if (self->state == TAKES_BACKEND_JOB_STATE_SUCCEEDED)
    g_task_return_boolean (task, TRUE);
  else if (takes_backend_job_is_finished (self))
    g_task_return_error (task, g_error_copy (self->error));
  else if (g_task_return_error_if_cancelled (task))
    return;
  else
    {
      if (cancellable != NULL)
        {
          GSource *source = g_cancellable_source_new (cancellable);

          /* The task owns the source and destroys it when it is freed; the
           * source holds no reference, so a finished task is never touched. */
          g_source_set_callback (source, G_SOURCE_FUNC (waiter_cancelled_cb), task, NULL);
          g_source_attach (source, g_task_get_context (task));
          g_task_set_task_data (task, source, destroy_source);
        }
      g_ptr_array_add (self->waiters, g_steal_pointer (&task));
    }
}

gboolean
takes_backend_job_wait_finish (TakesBackendJob *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
takes_backend_job_set_state (TakesBackendJob *self, TakesBackendJobState state)
{
  g_return_if_fail (TAKES_IS_BACKEND_JOB (self));
  g_return_if_fail (state != TAKES_BACKEND_JOB_STATE_SUCCEEDED && state != TAKES_BACKEND_JOB_STATE_FAILED
                    && state != TAKES_BACKEND_JOB_STATE_CANCELLED);

  if (takes_backend_job_is_finished (self) || self->state == state)
    return;
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
takes_backend_job_set_progress (TakesBackendJob *self, double progress)
{
  g_return_if_fail (TAKES_IS_BACKEND_JOB (self));

  progress = CLAMP (progress, 0.0, 1.0);
  if (self->progress == progress)
    return;
  self->progress = progress;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROGRESS]);
}

void
takes_backend_job_set_has_progress (TakesBackendJob *self, gboolean has_progress)
{
  g_return_if_fail (TAKES_IS_BACKEND_JOB (self));

  has_progress = !!has_progress;
  if (self->has_progress == has_progress)
    return;
  self->has_progress = has_progress;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HAS_PROGRESS]);
}

void
takes_backend_job_set_stage (TakesBackendJob *self, const char *stage)
{
  g_return_if_fail (TAKES_IS_BACKEND_JOB (self));

  if (replace_str (&self->stage, stage))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STAGE]);
}

void
takes_backend_job_set_remote_task_id (TakesBackendJob *self, const char *remote_task_id)
{
  g_return_if_fail (TAKES_IS_BACKEND_JOB (self));

  if (replace_str (&self->remote_task_id, remote_task_id))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_REMOTE_TASK_ID]);
}

void
takes_backend_job_set_seconds_spent (TakesBackendJob *self, double seconds)
{
  g_return_if_fail (TAKES_IS_BACKEND_JOB (self));

  seconds = MAX (seconds, 0.0);
  if (self->seconds_spent == seconds)
    return;
  self->seconds_spent = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SECONDS_SPENT]);
}

void
takes_backend_job_set_cost (TakesBackendJob *self, double cost, const char *currency)
{
  g_return_if_fail (TAKES_IS_BACKEND_JOB (self));

  g_object_freeze_notify (G_OBJECT (self));
  cost = cost < 0.0 ? -1.0 : cost;
  if (self->cost != cost)
    {
      self->cost = cost;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COST]);
    }
  if (replace_str (&self->currency, currency))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CURRENCY]);
  g_object_thaw_notify (G_OBJECT (self));
}

void
takes_backend_job_emit_preview (TakesBackendJob *self, TakesBackendPreview *preview)
{
  g_return_if_fail (TAKES_IS_BACKEND_JOB (self));
  g_return_if_fail (preview != NULL);

  g_signal_emit (self, signals[SIGNAL_PREVIEW], 0, preview);
}

void
takes_backend_job_succeed (TakesBackendJob *self, const char *result_path)
{
  g_autoptr (TakesBackendJob) hold = NULL;

  g_return_if_fail (TAKES_IS_BACKEND_JOB (self));
  g_return_if_fail (result_path != NULL);

  if (takes_backend_job_is_finished (self))
    return;
  hold = g_object_ref (self);
  g_object_freeze_notify (G_OBJECT (self));
  replace_str (&self->result_path, result_path);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RESULT_PATH]);
  self->state = TAKES_BACKEND_JOB_STATE_SUCCEEDED;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  takes_backend_job_set_progress (self, 1.0);
  takes_backend_job_set_has_progress (self, TRUE);
  takes_backend_job_set_stage (self, _ ("Finished"));
  g_object_thaw_notify (G_OBJECT (self));
  complete_waiters (self);
}

/* Takes ownership of @error. A G_IO_ERROR_CANCELLED (or a backend CANCELLED)
 * ends the job as cancelled rather than failed. */
void
takes_backend_job_fail (TakesBackendJob *self, GError *error)
{
  g_autoptr (TakesBackendJob) hold = NULL;
  g_autoptr (GError) owned = error;
  gboolean cancelled;

  g_return_if_fail (TAKES_IS_BACKEND_JOB (self));
  g_return_if_fail (error != NULL);

  if (takes_backend_job_is_finished (self))
    return;
  hold = g_object_ref (self);
  cancelled = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
              || g_error_matches (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED);
  if (cancelled && error->domain != TAKES_BACKEND_ERROR)
    {
      g_clear_error (&owned);
      owned = g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                   _ ("The take was cancelled."));
    }
  g_clear_error (&self->error);
  self->error = g_steal_pointer (&owned);

  g_object_freeze_notify (G_OBJECT (self));
  self->state = cancelled ? TAKES_BACKEND_JOB_STATE_CANCELLED : TAKES_BACKEND_JOB_STATE_FAILED;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
  takes_backend_job_set_stage (self, cancelled ? _ ("Cancelled") : _ ("Failed"));
  g_object_thaw_notify (G_OBJECT (self));
  complete_waiters (self);
}
