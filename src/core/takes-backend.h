/* takes-backend.h: where a take is made.
 *
 * A backend turns a recipe into a video file: the local engine, DashScope (or a
 * takes-server speaking its protocol) or a ComfyUI server. Every backend reports
 * through the same TakesBackendJob and the same error domain, so the queue and
 * the UI never need to know where a take was made.
 */
#pragma once

#include <gio/gio.h>

#include "takes-backend-job.h"

G_BEGIN_DECLS

/* Error domain ---------------------------------------------------------- */

#define TAKES_BACKEND_ERROR (takes_backend_error_quark ())

typedef enum
{
  TAKES_BACKEND_ERROR_UNAUTHORIZED,
  TAKES_BACKEND_ERROR_RATE_LIMITED,
  TAKES_BACKEND_ERROR_QUOTA,
  TAKES_BACKEND_ERROR_SAFETY_REJECTED,
  TAKES_BACKEND_ERROR_BAD_PARAMETERS,
  TAKES_BACKEND_ERROR_NETWORK,
  TAKES_BACKEND_ERROR_SERVER,
  TAKES_BACKEND_ERROR_NOT_FOUND,
  TAKES_BACKEND_ERROR_EXPIRED,
  TAKES_BACKEND_ERROR_OUT_OF_MEMORY,
  TAKES_BACKEND_ERROR_CANCELLED,
  TAKES_BACKEND_ERROR_MISSING_MODEL,
  TAKES_BACKEND_ERROR_MISSING_NODE,
  TAKES_BACKEND_ERROR_TOO_LARGE,
} TakesBackendError;

#define TAKES_TYPE_BACKEND_ERROR (takes_backend_error_get_type ())

GQuark takes_backend_error_quark (void);
GType takes_backend_error_get_type (void);
const char *takes_backend_error_to_string (TakesBackendError code);
gboolean takes_backend_error_from_string (const char *nick, TakesBackendError *code);
GError *takes_backend_error_new_rate_limited (int retry_after_seconds, const char *format, ...)
    G_GNUC_PRINTF (2, 3);
int takes_backend_error_get_retry_after (const GError *error);
void takes_backend_error_set_retry_after (GError *error, int retry_after_seconds);
gboolean takes_backend_error_is_retryable (const GError *error);

/* Capabilities ---------------------------------------------------------- */

typedef struct
{
  guint width;
  guint height;
} TakesBackendSize;

/* What one model of a backend accepts. Sizes: either the explicit list in
 * `sizes`, or (when it is empty) any size between min and max whose sides are
 * multiples of `size_step`. Length: either whole seconds from `durations`
 * (DashScope) or frame counts from min_frames to max_frames in steps of
 * `frame_step` (4n+1 for Wan). Prices are per second of output video; a
 * negative price means unknown. */
typedef struct
{
  char *id;
  char *display_name;
  GArray *sizes; /* TakesBackendSize */
  guint size_step;
  guint min_side;
  guint max_side;
  GArray *durations; /* guint seconds */
  guint min_frames;
  guint max_frames;
  guint frame_step;
  double fps;
  guint max_prompt_chars;
  guint max_negative_prompt_chars;
  double price_per_second;
  char *currency;
} TakesBackendModelCaps;

typedef struct
{
  guint max_concurrent_jobs;
  gboolean negative_prompt;
  gboolean seed;
  GPtrArray *models; /* TakesBackendModelCaps */

  /*< private >*/
  gatomicrefcount ref_count;
} TakesBackendCapabilities;

#define TAKES_TYPE_BACKEND_CAPABILITIES (takes_backend_capabilities_get_type ())

GType takes_backend_capabilities_get_type (void);
TakesBackendCapabilities *takes_backend_capabilities_new (void);
TakesBackendCapabilities *takes_backend_capabilities_ref (TakesBackendCapabilities *self);
void takes_backend_capabilities_unref (TakesBackendCapabilities *self);
TakesBackendModelCaps *takes_backend_capabilities_add_model (TakesBackendCapabilities *self,
                                                             const char *id,
                                                             const char *display_name);
TakesBackendModelCaps *takes_backend_capabilities_lookup_model (TakesBackendCapabilities *self,
                                                                const char *id);

void takes_backend_model_caps_add_size (TakesBackendModelCaps *model, guint width, guint height);
gboolean takes_backend_model_caps_has_size (const TakesBackendModelCaps *model, guint width, guint height);
gboolean takes_backend_model_caps_check_size (const TakesBackendModelCaps *model,
                                              guint width,
                                              guint height,
                                              GError **error);
gboolean
takes_backend_model_caps_check_frames (const TakesBackendModelCaps *model, guint frames, GError **error);
gboolean
takes_backend_model_caps_check_duration (const TakesBackendModelCaps *model, guint seconds, GError **error);
gboolean takes_backend_model_caps_check_prompts (const TakesBackendModelCaps *model,
                                                 const char *prompt,
                                                 const char *negative_prompt,
                                                 GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesBackendCapabilities, takes_backend_capabilities_unref)

/* The interface --------------------------------------------------------- */

#define TAKES_TYPE_BACKEND (takes_backend_get_type ())

G_DECLARE_INTERFACE (TakesBackend, takes_backend, TAKES, BACKEND, GObject)

struct _TakesBackendInterface
{
  GTypeInterface parent_iface;

  const char *(*get_id) (TakesBackend *self);
  const char *(*get_display_name) (TakesBackend *self);
  TakesBackendCapabilities *(*get_capabilities) (TakesBackend *self);

  gboolean (*validate) (TakesBackend *self, TakesRecipe *recipe, GError **error);

  void (*check_available_async) (TakesBackend *self,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
  gboolean (*check_available_finish) (TakesBackend *self, GAsyncResult *result, GError **error);

  void (*submit_async) (TakesBackend *self,
                        TakesRecipe *recipe,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data);
  TakesBackendJob *(*submit_finish) (TakesBackend *self, GAsyncResult *result, GError **error);

  void (*resume_async) (TakesBackend *self,
                        TakesRecipe *recipe,
                        const char *remote_task_id,
                        GCancellable *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer user_data);
  TakesBackendJob *(*resume_finish) (TakesBackend *self, GAsyncResult *result, GError **error);

  void (*cancel) (TakesBackend *self, TakesBackendJob *job);
};

const char *takes_backend_get_id (TakesBackend *self);
const char *takes_backend_get_display_name (TakesBackend *self);
TakesBackendCapabilities *takes_backend_get_capabilities (TakesBackend *self);
gboolean takes_backend_validate (TakesBackend *self, TakesRecipe *recipe, GError **error);
void takes_backend_check_available_async (TakesBackend *self,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data);
gboolean takes_backend_check_available_finish (TakesBackend *self, GAsyncResult *result, GError **error);
void takes_backend_submit_async (TakesBackend *self,
                                 TakesRecipe *recipe,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
TakesBackendJob *takes_backend_submit_finish (TakesBackend *self, GAsyncResult *result, GError **error);
void takes_backend_resume_async (TakesBackend *self,
                                 TakesRecipe *recipe,
                                 const char *remote_task_id,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
TakesBackendJob *takes_backend_resume_finish (TakesBackend *self, GAsyncResult *result, GError **error);
void takes_backend_cancel (TakesBackend *self, TakesBackendJob *job);

G_END_DECLS
