/* takes-backend.c: the backend interface, its error domain and capabilities.
 *
 * Rate-limit errors carry the server's Retry-After as private data of an
 * extended GError, so the queue can read it without parsing a message and the
 * value survives g_error_copy().
 */
#include "config.h"

#include <glib/gi18n.h>

#include "takes-backend.h"

/* Error domain ------------------------------------------------------------ */

typedef struct
{
  int retry_after;
} TakesBackendErrorPrivate;

/* The generated wrappers pass the result of a lookup that cannot fail for
 * this domain; the checks keep the compiler's null analysis satisfied. */
static void
takes_backend_error_private_init (TakesBackendErrorPrivate *priv)
{
  if (priv != NULL)
    priv->retry_after = -1;
}

static void
takes_backend_error_private_copy (const TakesBackendErrorPrivate *src, TakesBackendErrorPrivate *dest)
{
  if (src != NULL && dest != NULL)
    dest->retry_after = src->retry_after;
}

static void
takes_backend_error_private_clear (TakesBackendErrorPrivate *priv)
{
}

G_DEFINE_EXTENDED_ERROR (TakesBackendError, takes_backend_error)

G_DEFINE_ENUM_TYPE (TakesBackendError,
                    takes_backend_error,
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_ERROR_UNAUTHORIZED, "unauthorized"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_ERROR_RATE_LIMITED, "rate-limited"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_ERROR_QUOTA, "quota"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_ERROR_SAFETY_REJECTED, "safety-rejected"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_ERROR_BAD_PARAMETERS, "bad-parameters"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_ERROR_NETWORK, "network"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_ERROR_SERVER, "server"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_ERROR_NOT_FOUND, "not-found"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_ERROR_EXPIRED, "expired"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_ERROR_OUT_OF_MEMORY, "out-of-memory"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_ERROR_CANCELLED, "cancelled"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_ERROR_MISSING_MODEL, "missing-model"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_ERROR_MISSING_NODE, "missing-node"),
                    G_DEFINE_ENUM_VALUE (TAKES_BACKEND_ERROR_TOO_LARGE, "too-large"))

/* The nick is what the queue stores as a job's last error kind. */
const char *
takes_backend_error_to_string (TakesBackendError code)
{
  g_autoptr (GEnumClass) klass = g_type_class_ref (TAKES_TYPE_BACKEND_ERROR);
  GEnumValue *value = g_enum_get_value (klass, code);

  return value != NULL ? value->value_nick : NULL;
}

gboolean
takes_backend_error_from_string (const char *nick, TakesBackendError *code)
{
  g_autoptr (GEnumClass) klass = g_type_class_ref (TAKES_TYPE_BACKEND_ERROR);
  GEnumValue *value;

  g_return_val_if_fail (code != NULL, FALSE);

  value = nick != NULL ? g_enum_get_value_by_nick (klass, nick) : NULL;
  if (value == NULL)
    return FALSE;
  *code = value->value;
  return TRUE;
}

GError *
takes_backend_error_new_rate_limited (int retry_after_seconds, const char *format, ...)
{
  g_autofree char *message = NULL;
  GError *error;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  error = g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_RATE_LIMITED, message);
  takes_backend_error_set_retry_after (error, retry_after_seconds);
  return error;
}

/* Seconds the server asked us to wait, or -1 when it did not say (or the
 * error is not from this domain). */
int
takes_backend_error_get_retry_after (const GError *error)
{
  TakesBackendErrorPrivate *priv;

  if (error == NULL || error->domain != TAKES_BACKEND_ERROR)
    return -1;
  priv = takes_backend_error_get_private (error);
  return priv != NULL ? priv->retry_after : -1;
}

void
takes_backend_error_set_retry_after (GError *error, int retry_after_seconds)
{
  TakesBackendErrorPrivate *priv;

  g_return_if_fail (error != NULL);
  g_return_if_fail (error->domain == TAKES_BACKEND_ERROR);

  priv = takes_backend_error_get_private (error);
  g_return_if_fail (priv != NULL);
  priv->retry_after = retry_after_seconds < 0 ? -1 : retry_after_seconds;
}

/* Transient failures only: the same request may succeed later. Rejections
 * (safety, parameters, credentials, quota, missing models) would fail the same
 * way again and cost money or time for nothing. */
gboolean
takes_backend_error_is_retryable (const GError *error)
{
  if (error == NULL || error->domain != TAKES_BACKEND_ERROR)
    return FALSE;
  switch ((TakesBackendError)error->code)
    {
      case TAKES_BACKEND_ERROR_RATE_LIMITED:
      case TAKES_BACKEND_ERROR_NETWORK:
      case TAKES_BACKEND_ERROR_SERVER:
        return TRUE;
      case TAKES_BACKEND_ERROR_UNAUTHORIZED:
      case TAKES_BACKEND_ERROR_QUOTA:
      case TAKES_BACKEND_ERROR_SAFETY_REJECTED:
      case TAKES_BACKEND_ERROR_BAD_PARAMETERS:
      case TAKES_BACKEND_ERROR_NOT_FOUND:
      case TAKES_BACKEND_ERROR_EXPIRED:
      case TAKES_BACKEND_ERROR_OUT_OF_MEMORY:
      case TAKES_BACKEND_ERROR_CANCELLED:
      case TAKES_BACKEND_ERROR_MISSING_MODEL:
      case TAKES_BACKEND_ERROR_MISSING_NODE:
      case TAKES_BACKEND_ERROR_TOO_LARGE:
      default:
        return FALSE;
    }
}

/* Capabilities ------------------------------------------------------------ */

G_DEFINE_BOXED_TYPE (TakesBackendCapabilities,
                     takes_backend_capabilities,
                     takes_backend_capabilities_ref,
                     takes_backend_capabilities_unref)

static void
model_caps_free (gpointer data)
{
  TakesBackendModelCaps *model = data;

  g_free (model->id);
  g_free (model->display_name);
  g_array_unref (model->sizes);
  g_array_unref (model->durations);
  g_free (model->currency);
  g_free (model);
}

TakesBackendCapabilities *
takes_backend_capabilities_new (void)
{
  TakesBackendCapabilities *self = g_new0 (TakesBackendCapabilities, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->max_concurrent_jobs = 1;
  self->models = g_ptr_array_new_with_free_func (model_caps_free);
  return self;
}

TakesBackendCapabilities *
takes_backend_capabilities_ref (TakesBackendCapabilities *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
takes_backend_capabilities_unref (TakesBackendCapabilities *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_ptr_array_unref (self->models);
      g_free (self);
    }
}

TakesBackendModelCaps *
takes_backend_capabilities_add_model (TakesBackendCapabilities *self,
                                      const char *id,
                                      const char *display_name)
{
  TakesBackendModelCaps *model;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (id != NULL, NULL);

  model = g_new0 (TakesBackendModelCaps, 1);
  model->id = g_strdup (id);
  model->display_name = g_strdup (display_name != NULL ? display_name : id);
  model->sizes = g_array_new (FALSE, FALSE, sizeof (TakesBackendSize));
  model->durations = g_array_new (FALSE, FALSE, sizeof (guint));
  model->price_per_second = -1.0;
  g_ptr_array_add (self->models, model);
  return model;
}

TakesBackendModelCaps *
takes_backend_capabilities_lookup_model (TakesBackendCapabilities *self, const char *id)
{
  g_return_val_if_fail (self != NULL, NULL);

  for (guint i = 0; id != NULL && i < self->models->len; i++)
    {
      TakesBackendModelCaps *model = g_ptr_array_index (self->models, i);

      if (g_strcmp0 (model->id, id) == 0)
        return model;
    }
  return NULL;
}

void
takes_backend_model_caps_add_size (TakesBackendModelCaps *model, guint width, guint height)
{
  TakesBackendSize size = { width, height };

  g_return_if_fail (model != NULL);

  if (!takes_backend_model_caps_has_size (model, width, height))
    g_array_append_val (model->sizes, size);
}

gboolean
takes_backend_model_caps_has_size (const TakesBackendModelCaps *model, guint width, guint height)
{
  g_return_val_if_fail (model != NULL, FALSE);

  for (guint i = 0; i < model->sizes->len; i++)
    {
      const TakesBackendSize *size = &g_array_index (model->sizes, TakesBackendSize, i);

      if (size->width == width && size->height == height)
        return TRUE;
    }
  return FALSE;
}

static char *
format_sizes (const TakesBackendModelCaps *model)
{
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < model->sizes->len; i++)
    {
      const TakesBackendSize *size = &g_array_index (model->sizes, TakesBackendSize, i);

      g_string_append_printf (out, "%s%u×%u", i > 0 ? ", " : "", size->width, size->height);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

gboolean
takes_backend_model_caps_check_size (const TakesBackendModelCaps *model,
                                     guint width,
                                     guint height,
                                     GError **error)
{
  g_return_val_if_fail (model != NULL, FALSE);

  if (model->sizes->len > 0)
    {
      g_autofree char *allowed = NULL;

      if (takes_backend_model_caps_has_size (model, width, height))
        return TRUE;
      allowed = format_sizes (model);
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                   _ ("%s cannot make %u×%u videos. Choose one of these sizes: %s."), model->display_name,
                   width, height, allowed);
      return FALSE;
    }
  if ((model->min_side > 0 && (width < model->min_side || height < model->min_side))
      || (model->max_side > 0 && (width > model->max_side || height > model->max_side)))
    {
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                   _ ("%s cannot make %u×%u videos. Width and height must be between %u and %u pixels."),
                   model->display_name, width, height, model->min_side, model->max_side);
      return FALSE;
    }
  if (model->size_step > 1 && (width % model->size_step != 0 || height % model->size_step != 0))
    {
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                   _ ("%s cannot make %u×%u videos. Width and height must be multiples of %u."),
                   model->display_name, width, height, model->size_step);
      return FALSE;
    }
  return TRUE;
}

gboolean
takes_backend_model_caps_check_frames (const TakesBackendModelCaps *model, guint frames, GError **error)
{
  g_return_val_if_fail (model != NULL, FALSE);

  if ((model->min_frames > 0 && frames < model->min_frames)
      || (model->max_frames > 0 && frames > model->max_frames))
    {
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                   _ ("%s makes between %u and %u frames; %u frames were asked for."), model->display_name,
                   model->min_frames, model->max_frames, frames);
      return FALSE;
    }
  if (model->frame_step > 1 && (frames < 1 || (frames - 1) % model->frame_step != 0))
    {
      g_set_error (
          error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
          _ ("%s needs a frame count of the form %u×n+1 (for example %u); %u frames were asked for."),
          model->display_name, model->frame_step, model->frame_step * 20 + 1, frames);
      return FALSE;
    }
  return TRUE;
}

gboolean
takes_backend_model_caps_check_duration (const TakesBackendModelCaps *model, guint seconds, GError **error)
{
  g_autoptr (GString) allowed = NULL;

  g_return_val_if_fail (model != NULL, FALSE);

  if (model->durations->len == 0)
    return TRUE;
  allowed = g_string_new (NULL);
  for (guint i = 0; i < model->durations->len; i++)
    {
      guint d = g_array_index (model->durations, guint, i);

      if (d == seconds)
        return TRUE;
      g_string_append_printf (allowed, "%s%u", i > 0 ? ", " : "", d);
    }
  g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
               _ ("%s makes videos of %s seconds, not %u seconds. Change the frame count or the frame rate."),
               model->display_name, allowed->str, seconds);
  return FALSE;
}

gboolean
takes_backend_model_caps_check_prompts (const TakesBackendModelCaps *model,
                                        const char *prompt,
                                        const char *negative_prompt,
                                        GError **error)
{
  glong length;

  g_return_val_if_fail (model != NULL, FALSE);

  if (prompt == NULL || *prompt == '\0')
    {
      g_set_error_literal (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                           _ ("The prompt is empty. Describe the video you want."));
      return FALSE;
    }
  length = g_utf8_strlen (prompt, -1);
  if (model->max_prompt_chars > 0 && length > (glong)model->max_prompt_chars)
    {
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                   _ ("The prompt is %ld characters long; %s reads at most %u. Shorten the prompt."), length,
                   model->display_name, model->max_prompt_chars);
      return FALSE;
    }
  length = negative_prompt != NULL ? g_utf8_strlen (negative_prompt, -1) : 0;
  if (model->max_negative_prompt_chars > 0 && length > (glong)model->max_negative_prompt_chars)
    {
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                   _ ("The negative prompt is %ld characters long; %s reads at most %u. Shorten it."), length,
                   model->display_name, model->max_negative_prompt_chars);
      return FALSE;
    }
  return TRUE;
}

/* The interface ----------------------------------------------------------- */

G_DEFINE_INTERFACE (TakesBackend, takes_backend, G_TYPE_OBJECT)

static gboolean
takes_backend_real_validate (TakesBackend *self, TakesRecipe *recipe, GError **error)
{
  return TRUE;
}

/* Without a protocol-level cancel, stopping the job's own work is all there is. */
static void
takes_backend_real_cancel (TakesBackend *self, TakesBackendJob *job)
{
  takes_backend_job_cancel (job);
}

static void
takes_backend_default_init (TakesBackendInterface *iface)
{
  iface->validate = takes_backend_real_validate;
  iface->cancel = takes_backend_real_cancel;
}

const char *
takes_backend_get_id (TakesBackend *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND (self), NULL);

  return TAKES_BACKEND_GET_IFACE (self)->get_id (self);
}

const char *
takes_backend_get_display_name (TakesBackend *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND (self), NULL);

  return TAKES_BACKEND_GET_IFACE (self)->get_display_name (self);
}

/* Returns a new reference. */
TakesBackendCapabilities *
takes_backend_get_capabilities (TakesBackend *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND (self), NULL);

  return TAKES_BACKEND_GET_IFACE (self)->get_capabilities (self);
}

/* Checks the recipe against what the backend accepts, without any network
 * traffic, so a bad recipe is refused when it is queued. */
gboolean
takes_backend_validate (TakesBackend *self, TakesRecipe *recipe, GError **error)
{
  g_return_val_if_fail (TAKES_IS_BACKEND (self), FALSE);
  g_return_val_if_fail (TAKES_IS_RECIPE (recipe), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return TAKES_BACKEND_GET_IFACE (self)->validate (self, recipe, error);
}

/* Whether the backend can take work now: reachable, a key present, the nodes
 * and model files there. Fails with the error a submission would meet. */
void
takes_backend_check_available_async (TakesBackend *self,
                                     GCancellable *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer user_data)
{
  g_return_if_fail (TAKES_IS_BACKEND (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  TAKES_BACKEND_GET_IFACE (self)->check_available_async (self, cancellable, callback, user_data);
}

gboolean
takes_backend_check_available_finish (TakesBackend *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (TAKES_IS_BACKEND (self), FALSE);

  return TAKES_BACKEND_GET_IFACE (self)->check_available_finish (self, result, error);
}

/* Completes once the remote task exists (the job's remote-task-id is then
 * set) or with the error that stopped it from being created. The job goes on
 * by itself; wait for it with takes_backend_job_wait_async(). */
void
takes_backend_submit_async (TakesBackend *self,
                            TakesRecipe *recipe,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_return_if_fail (TAKES_IS_BACKEND (self));
  g_return_if_fail (TAKES_IS_RECIPE (recipe));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  TAKES_BACKEND_GET_IFACE (self)->submit_async (self, recipe, cancellable, callback, user_data);
}

TakesBackendJob *
takes_backend_submit_finish (TakesBackend *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (TAKES_IS_BACKEND (self), NULL);

  return TAKES_BACKEND_GET_IFACE (self)->submit_finish (self, result, error);
}

/* Picks up a task that was submitted earlier (by this process or one before
 * it). Completes once the remote side confirmed the task still exists;
 * NOT_FOUND when it does not. */
void
takes_backend_resume_async (TakesBackend *self,
                            TakesRecipe *recipe,
                            const char *remote_task_id,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_return_if_fail (TAKES_IS_BACKEND (self));
  g_return_if_fail (TAKES_IS_RECIPE (recipe));
  g_return_if_fail (remote_task_id != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  TAKES_BACKEND_GET_IFACE (self)->resume_async (self, recipe, remote_task_id, cancellable, callback,
                                                user_data);
}

TakesBackendJob *
takes_backend_resume_finish (TakesBackend *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (TAKES_IS_BACKEND (self), NULL);

  return TAKES_BACKEND_GET_IFACE (self)->resume_finish (self, result, error);
}

/* Asks the remote side to stop the task where its protocol allows, then ends
 * the job as cancelled. */
void
takes_backend_cancel (TakesBackend *self, TakesBackendJob *job)
{
  g_return_if_fail (TAKES_IS_BACKEND (self));
  g_return_if_fail (TAKES_IS_BACKEND_JOB (job));

  TAKES_BACKEND_GET_IFACE (self)->cancel (self, job);
}
