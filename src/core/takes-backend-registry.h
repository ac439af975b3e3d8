/* takes-backend-registry.h: the configured backends, made the same way for
 * the studio, takes-cli and takes-server's tests.
 *
 * Settings come from GSettings (io.github.takes.Takes: dashscope-region,
 * comfyui-url, takes-server-url, model-folders, default-backend), or from
 * the schema's defaults when the schema is not installed. Environment
 * variables override them for headless use and tests:
 *   TAKES_DASHSCOPE_BASE_URL   the DashScope endpoint (instead of the region's)
 *   TAKES_COMFYUI_URL          the ComfyUI server
 *   TAKES_SERVER_URL           the takes-server endpoint
 *   TAKES_DEFAULT_BACKEND      the default backend id
 * Keys are not read here: each backend finds its own (environment variable,
 * then keyring; see takes-secrets.h) when it needs one.
 */
#pragma once

#include <gio/gio.h>

#include "takes-backend.h"

G_BEGIN_DECLS

#define TAKES_BACKEND_REGISTRY_ERROR (takes_backend_registry_error_quark ())

typedef enum
{
  /* No backend has that id. */
  TAKES_BACKEND_REGISTRY_ERROR_UNKNOWN,
  /* The backend exists but is not set up (no takes-server address…). */
  TAKES_BACKEND_REGISTRY_ERROR_NOT_CONFIGURED,
  /* This build has no local engine. */
  TAKES_BACKEND_REGISTRY_ERROR_UNAVAILABLE,
} TakesBackendRegistryError;

GQuark takes_backend_registry_error_quark (void);

/* Every backend id this build knows, NULL-terminated, in the order the
 * settings list them: "local" (when the engine is built), "dashscope",
 * "comfyui", "takes-server". */
const char *const *takes_backend_registry_list_ids (void);

/* The settings object to read, or NULL when the schema is not installed
 * (the defaults are then used). */
GSettings *takes_backend_registry_get_settings (void);

/* The id new takes go to: TAKES_DEFAULT_BACKEND, else default-backend. */
char *takes_backend_registry_get_default_id (GSettings *settings);

/* Makes the backend @id as configured by @settings (NULL: the defaults and
 * the environment only). */
TakesBackend *takes_backend_registry_create (const char *id, GSettings *settings, GError **error);

/* Every backend that is set up (takes-server only with an address), as an
 * array of TakesBackend. Backends that cannot be made are left out and
 * their errors, one sentence each, are added to @problems when given. */
GPtrArray *takes_backend_registry_create_all (GSettings *settings, GPtrArray *problems);

G_END_DECLS
