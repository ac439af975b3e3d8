/* takes-backend-job.h: one take being made by a backend.
 *
 * A job is returned by takes_backend_submit_finish() as soon as the remote task
 * exists (its remote task id is then set, so the caller can persist it and resume
 * after a restart) and keeps running on the caller's main context until it
 * reaches a terminal state: succeeded (result-path set), failed (an error from
 * TAKES_BACKEND_ERROR or G_IO_ERROR) or cancelled.
 */
#pragma once

#include <gio/gio.h>

#include "takes-recipe.h"

G_BEGIN_DECLS

typedef enum
{
  TAKES_BACKEND_JOB_STATE_QUEUED,
  TAKES_BACKEND_JOB_STATE_SUBMITTED,
  TAKES_BACKEND_JOB_STATE_RUNNING,
  TAKES_BACKEND_JOB_STATE_DOWNLOADING,
  TAKES_BACKEND_JOB_STATE_SUCCEEDED,
  TAKES_BACKEND_JOB_STATE_FAILED,
  TAKES_BACKEND_JOB_STATE_CANCELLED,
} TakesBackendJobState;

#define TAKES_TYPE_BACKEND_JOB_STATE (takes_backend_job_state_get_type ())
GType takes_backend_job_state_get_type (void);
const char *takes_backend_job_state_to_string (TakesBackendJobState state);

typedef enum
{
  TAKES_BACKEND_PREVIEW_PNG,
  TAKES_BACKEND_PREVIEW_JPEG,
  TAKES_BACKEND_PREVIEW_RGB,
} TakesBackendPreviewFormat;

/* A preview image as the backend delivered it: an encoded PNG or JPEG (width
 * and height 0 when the backend does not say), or packed 8-bit RGB rows of
 * `width * 3` bytes. */
typedef struct _TakesBackendPreview TakesBackendPreview;

#define TAKES_TYPE_BACKEND_PREVIEW (takes_backend_preview_get_type ())
GType takes_backend_preview_get_type (void);
TakesBackendPreview *
takes_backend_preview_new (TakesBackendPreviewFormat format, GBytes *data, guint width, guint height);
TakesBackendPreview *takes_backend_preview_ref (TakesBackendPreview *self);
void takes_backend_preview_unref (TakesBackendPreview *self);
TakesBackendPreviewFormat takes_backend_preview_get_format (const TakesBackendPreview *self);
GBytes *takes_backend_preview_get_data (const TakesBackendPreview *self);
guint takes_backend_preview_get_width (const TakesBackendPreview *self);
guint takes_backend_preview_get_height (const TakesBackendPreview *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesBackendPreview, takes_backend_preview_unref)

#define TAKES_TYPE_BACKEND_JOB (takes_backend_job_get_type ())

G_DECLARE_FINAL_TYPE (TakesBackendJob, takes_backend_job, TAKES, BACKEND_JOB, GObject)

const char *takes_backend_job_get_backend_id (TakesBackendJob *self);
TakesRecipe *takes_backend_job_get_recipe (TakesBackendJob *self);
TakesBackendJobState takes_backend_job_get_state (TakesBackendJob *self);
gboolean takes_backend_job_is_finished (TakesBackendJob *self);
double takes_backend_job_get_progress (TakesBackendJob *self);
gboolean takes_backend_job_get_has_progress (TakesBackendJob *self);
const char *takes_backend_job_get_stage (TakesBackendJob *self);
const char *takes_backend_job_get_remote_task_id (TakesBackendJob *self);
const char *takes_backend_job_get_result_path (TakesBackendJob *self);
double takes_backend_job_get_seconds_spent (TakesBackendJob *self);
double takes_backend_job_get_cost (TakesBackendJob *self);
const char *takes_backend_job_get_currency (TakesBackendJob *self);
const GError *takes_backend_job_get_error (TakesBackendJob *self);

void takes_backend_job_cancel (TakesBackendJob *self);
void takes_backend_job_wait_async (TakesBackendJob *self,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean takes_backend_job_wait_finish (TakesBackendJob *self, GAsyncResult *result, GError **error);

/* For backend implementations (and fake backends in tests). Wrap several
 * setters in g_object_freeze_notify()/g_object_thaw_notify() to emit one
 * ::changed for all of them. */
TakesBackendJob *takes_backend_job_new (const char *backend_id, TakesRecipe *recipe);
GCancellable *takes_backend_job_get_cancellable (TakesBackendJob *self);
void takes_backend_job_set_state (TakesBackendJob *self, TakesBackendJobState state);
void takes_backend_job_set_progress (TakesBackendJob *self, double progress);
void takes_backend_job_set_has_progress (TakesBackendJob *self, gboolean has_progress);
void takes_backend_job_set_stage (TakesBackendJob *self, const char *stage);
void takes_backend_job_set_remote_task_id (TakesBackendJob *self, const char *remote_task_id);
void takes_backend_job_set_seconds_spent (TakesBackendJob *self, double seconds);
void takes_backend_job_set_cost (TakesBackendJob *self, double cost, const char *currency);
void takes_backend_job_emit_preview (TakesBackendJob *self, TakesBackendPreview *preview);
void takes_backend_job_succeed (TakesBackendJob *self, const char *result_path);
void takes_backend_job_fail (TakesBackendJob *self, GError *error);

G_END_DECLS
