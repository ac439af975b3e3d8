/* queue-test-backend.h: a scripted backend for the queue's tests and its
 * benchmark. It makes no network traffic: each submission becomes a job
 * that succeeds on the next idle (or when the test says so) with a small
 * file, or fails with the error the test queued for it. */
#pragma once

#include <glib/gstdio.h>

#include "takes-backend.h"

G_BEGIN_DECLS

#define TEST_TYPE_BACKEND (test_backend_get_type ())
G_DECLARE_FINAL_TYPE (TestBackend, test_backend, TEST, BACKEND, GObject)

struct _TestBackend
{
  GObject parent_instance;

  char *id;
  char *dir;
  guint max_concurrent;
  double price_per_second;
  char *currency;
  gboolean auto_complete;
  GQueue failures;    /* GError *, for the next submissions */
  GPtrArray *jobs;    /* TakesBackendJob, every one submitted or resumed */
  GPtrArray *prompts; /* char *, the prompts in submission order */
  guint n_submits;
  guint n_resumes;
  guint n_cancels;
  guint counter;
};

static void test_backend_iface_init (TakesBackendInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TestBackend,
                               test_backend,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TAKES_TYPE_BACKEND, test_backend_iface_init))

static void
test_backend_finalize (GObject *object)
{
  TestBackend *self = TEST_BACKEND (object);
  GError *error;

  while ((error = g_queue_pop_head (&self->failures)) != NULL)
    g_error_free (error);
  g_ptr_array_unref (self->jobs);
  g_ptr_array_unref (self->prompts);
  g_free (self->id);
  g_free (self->dir);
  g_free (self->currency);
  G_OBJECT_CLASS (test_backend_parent_class)->finalize (object);
}

static void
test_backend_class_init (TestBackendClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = test_backend_finalize;
}

static void
test_backend_init (TestBackend *self)
{
  g_queue_init (&self->failures);
  self->jobs = g_ptr_array_new_with_free_func (g_object_unref);
  self->prompts = g_ptr_array_new_with_free_func (g_free);
  self->max_concurrent = 1;
  self->auto_complete = TRUE;
}

static inline TestBackend *
test_backend_new (const char *id, const char *dir, guint max_concurrent)
{
  TestBackend *self = g_object_new (TEST_TYPE_BACKEND, NULL);

  self->id = g_strdup (id);
  self->dir = g_strdup (dir);
  self->max_concurrent = max_concurrent;
  return self;
}

static inline void
test_backend_fail_next (TestBackend *self, GError *error)
{
  g_queue_push_tail (&self->failures, error);
}

/* Ends @job with a small file, priced like the capabilities say. */
static inline void
test_backend_complete (TestBackend *self, TakesBackendJob *job)
{
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  g_autofree char *content = NULL;
  TakesRecipe *recipe = takes_backend_job_get_recipe (job);
  double seconds = takes_recipe_get_frames (recipe) / (double)MAX (takes_recipe_get_fps (recipe), 1);

  if (takes_backend_job_is_finished (job))
    return;
  name = g_strdup_printf ("%s-%u.mp4", self->id, ++self->counter);
  path = g_build_filename (self->dir, name, NULL);
  content = g_strdup_printf ("video of “%s”", takes_recipe_get_prompt (recipe));
  g_assert_true (g_file_set_contents (path, content, -1, NULL));
  g_object_freeze_notify (G_OBJECT (job));
  takes_backend_job_set_seconds_spent (job, 1.5);
  if (self->currency != NULL)
    takes_backend_job_set_cost (job, self->price_per_second * seconds, self->currency);
  else
    takes_backend_job_set_cost (job, 0, NULL);
  g_object_thaw_notify (G_OBJECT (job));
  takes_backend_job_succeed (job, path);
}

static inline gboolean
test_backend_complete_cb (gpointer data)
{
  TakesBackendJob *job = data;
  TestBackend *self = g_object_get_data (G_OBJECT (job), "test-backend");

  test_backend_complete (self, job);
  return G_SOURCE_REMOVE;
}

static inline TakesBackendJob *
test_backend_start_job (TestBackend *self, TakesRecipe *recipe, const char *remote_id)
{
  TakesBackendJob *job = takes_backend_job_new (self->id, recipe);

  takes_backend_job_set_remote_task_id (job, remote_id);
  takes_backend_job_set_state (job, TAKES_BACKEND_JOB_STATE_RUNNING);
  g_object_set_data (G_OBJECT (job), "test-backend", self);
  g_ptr_array_add (self->jobs, g_object_ref (job));
  if (self->auto_complete)
    g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, test_backend_complete_cb, g_object_ref (job), g_object_unref);
  return job;
}

static const char *
test_backend_get_id (TakesBackend *backend)
{
  return TEST_BACKEND (backend)->id;
}

static TakesBackendCapabilities *
test_backend_get_capabilities (TakesBackend *backend)
{
  TestBackend *self = TEST_BACKEND (backend);
  TakesBackendCapabilities *caps = takes_backend_capabilities_new ();
  TakesBackendModelCaps *model = takes_backend_capabilities_add_model (caps, "test-model", "Test model");

  caps->max_concurrent_jobs = self->max_concurrent;
  caps->negative_prompt = TRUE;
  caps->seed = TRUE;
  model->price_per_second = self->currency != NULL ? self->price_per_second : 0;
  model->currency = g_strdup (self->currency);
  return caps;
}

static void
test_backend_check_available_async (TakesBackend *backend,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (backend, cancellable, callback, user_data);

  g_task_return_boolean (task, TRUE);
}

static gboolean
test_backend_check_available_finish (TakesBackend *backend, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
test_backend_submit_async (TakesBackend *backend,
                           TakesRecipe *recipe,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  TestBackend *self = TEST_BACKEND (backend);
  g_autoptr (GTask) task = g_task_new (backend, cancellable, callback, user_data);
  GError *failure = g_queue_pop_head (&self->failures);
  g_autofree char *remote = NULL;

  self->n_submits++;
  g_ptr_array_add (self->prompts, g_strdup (takes_recipe_get_prompt (recipe)));
  if (failure != NULL)
    {
      g_task_return_error (task, failure);
      return;
    }
  remote = g_strdup_printf ("%s-task-%u", self->id, self->n_submits);
  g_task_return_pointer (task, test_backend_start_job (self, recipe, remote), g_object_unref);
}

static TakesBackendJob *
test_backend_submit_finish (TakesBackend *backend, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_backend_resume_async (TakesBackend *backend,
                           TakesRecipe *recipe,
                           const char *remote_task_id,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  TestBackend *self = TEST_BACKEND (backend);
  g_autoptr (GTask) task = g_task_new (backend, cancellable, callback, user_data);

  self->n_resumes++;
  g_task_return_pointer (task, test_backend_start_job (self, recipe, remote_task_id), g_object_unref);
}

static void
test_backend_cancel (TakesBackend *backend, TakesBackendJob *job)
{
  TEST_BACKEND (backend)->n_cancels++;
  takes_backend_job_fail (job, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                                    "The take was cancelled."));
}

static void
test_backend_iface_init (TakesBackendInterface *iface)
{
  iface->get_id = test_backend_get_id;
  iface->get_display_name = test_backend_get_id;
  iface->get_capabilities = test_backend_get_capabilities;
  iface->check_available_async = test_backend_check_available_async;
  iface->check_available_finish = test_backend_check_available_finish;
  iface->submit_async = test_backend_submit_async;
  iface->submit_finish = test_backend_submit_finish;
  iface->resume_async = test_backend_resume_async;
  iface->resume_finish = test_backend_submit_finish;
  iface->cancel = test_backend_cancel;
}

G_END_DECLS
