/* takes-backend-registry.c: the backends as the settings describe them. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "takes-backend-comfyui.h"
#include "takes-backend-dashscope.h"
#include "takes-backend-registry.h"
#include "takes-paths.h"

#if TAKES_HAVE_ENGINE && defined(__has_include)
#if __has_include("takes-backend-local.h")
#include "takes-backend-local.h"
#define HAVE_LOCAL_BACKEND 1
#endif
#endif
#ifndef HAVE_LOCAL_BACKEND
#define HAVE_LOCAL_BACKEND 0
#endif

#define SCHEMA_ID "io.github.takes.Takes"
#define DEFAULT_COMFYUI_URL "http://127.0.0.1:8188"

G_DEFINE_QUARK (takes - backend - registry - error - quark, takes_backend_registry_error)

static const char *const all_ids[] = {
#if HAVE_LOCAL_BACKEND
  "local",
#endif
  "dashscope", "comfyui", "takes-server", NULL,
};

const char *const *
takes_backend_registry_list_ids (void)
{
  return all_ids;
}

GSettings *
takes_backend_registry_get_settings (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr (GSettingsSchema) schema
      = source != NULL ? g_settings_schema_source_lookup (source, SCHEMA_ID, TRUE) : NULL;

  if (schema == NULL)
    return NULL;
  return g_settings_new_full (schema, NULL, NULL);
}

/* The environment, then the settings, then @fallback. */
static char *
setting_string (GSettings *settings, const char *env, const char *key, const char *fallback)
{
  const char *value = env != NULL ? g_getenv (env) : NULL;

  if (value != NULL && *value != '\0')
    return g_strdup (value);
  if (settings != NULL && key != NULL)
    {
      g_autofree char *stored = g_settings_get_string (settings, key);

      if (stored != NULL && *stored != '\0')
        return g_steal_pointer (&stored);
    }
  return g_strdup (fallback);
}

char *
takes_backend_registry_get_default_id (GSettings *settings)
{
  const char *env = g_getenv ("TAKES_DEFAULT_BACKEND");

  if (env != NULL && g_strv_contains (all_ids, env))
    return g_strdup (env);
  if (settings != NULL)
    {
      g_autofree char *id = g_settings_get_string (settings, "default-backend");

      if (g_strv_contains (all_ids, id))
        return g_steal_pointer (&id);
    }
  return g_strdup (all_ids[0]);
}

static TakesBackend *
create_dashscope (GSettings *settings, GError **error)
{
  g_autofree char *region = setting_string (settings, NULL, "dashscope-region", "singapore");
  g_autofree char *base_url = setting_string (settings, "TAKES_DASHSCOPE_BASE_URL", NULL, NULL);
  TakesBackendDashscope *backend = takes_backend_dashscope_new (region, error);

  if (backend != NULL && base_url != NULL)
    takes_backend_dashscope_set_base_url (backend, base_url);
  return TAKES_BACKEND (backend);
}

static TakesBackend *
create_takes_server (GSettings *settings, GError **error)
{
  g_autofree char *url = setting_string (settings, "TAKES_SERVER_URL", "takes-server-url", NULL);
  g_autofree char *base_url = NULL;
  g_autofree char *models_file = NULL;
  TakesBackendDashscope *backend;

  if (url == NULL)
    {
      g_set_error_literal (error, TAKES_BACKEND_REGISTRY_ERROR, TAKES_BACKEND_REGISTRY_ERROR_NOT_CONFIGURED,
                           _ ("No takes-server address is set. Enter it in Preferences, or set "
                              "TAKES_SERVER_URL for headless use."));
      return NULL;
    }
  /* People give the server's address; the protocol lives under /api/v1. */
  g_strstrip (url);
  while (g_str_has_suffix (url, "/"))
    url[strlen (url) - 1] = '\0';
  base_url = g_str_has_suffix (url, "/api/v1") ? g_strdup (url) : g_strconcat (url, "/api/v1", NULL);
  /* A takes-server serves the local engine's models, not DashScope's. */
  models_file = takes_paths_datafile ("backends/takes-server-models.json");
  backend = g_initable_new (TAKES_TYPE_BACKEND_DASHSCOPE, NULL, error, "id", "takes-server", "display-name",
                            _ ("takes-server"), "models-file", models_file, "region", "local", "base-url",
                            base_url, NULL);
  /* A server on loopback takes requests without a token. */
  if (backend != NULL)
    takes_backend_dashscope_set_key_optional (backend, TRUE);
  return backend != NULL ? TAKES_BACKEND (backend) : NULL;
}

static TakesBackend *
create_local (GSettings *settings, GError **error)
{
#if HAVE_LOCAL_BACKEND
  TakesBackendLocal *backend = takes_backend_local_new ();

  if (settings != NULL)
    takes_backend_local_bind_settings (backend, settings);
  return TAKES_BACKEND (backend);
#else
  g_set_error_literal (error, TAKES_BACKEND_REGISTRY_ERROR, TAKES_BACKEND_REGISTRY_ERROR_UNAVAILABLE,
                       _ ("This build of Takes has no local engine; choose a remote backend."));
  return NULL;
#endif
}

TakesBackend *
takes_backend_registry_create (const char *id, GSettings *settings, GError **error)
{
  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  if (g_str_equal (id, "local"))
    return create_local (settings, error);
  if (g_str_equal (id, "dashscope"))
    return create_dashscope (settings, error);
  if (g_str_equal (id, "comfyui"))
    {
      g_autofree char *url
          = setting_string (settings, "TAKES_COMFYUI_URL", "comfyui-url", DEFAULT_COMFYUI_URL);

      return TAKES_BACKEND (takes_backend_comfyui_new (url, error));
    }
  if (g_str_equal (id, "takes-server"))
    return create_takes_server (settings, error);
  {
    g_autofree char *known = g_strjoinv (", ", (char **)all_ids);

    g_set_error (error, TAKES_BACKEND_REGISTRY_ERROR, TAKES_BACKEND_REGISTRY_ERROR_UNKNOWN,
                 _ ("There is no backend called “%s”; choose one of: %s."), id, known);
  }
  return NULL;
}

GPtrArray *
takes_backend_registry_create_all (GSettings *settings, GPtrArray *problems)
{
  g_autoptr (GPtrArray) backends = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; all_ids[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;
      TakesBackend *backend = takes_backend_registry_create (all_ids[i], settings, &error);

      if (backend != NULL)
        g_ptr_array_add (backends, backend);
      else if (!g_error_matches (error, TAKES_BACKEND_REGISTRY_ERROR,
                                 TAKES_BACKEND_REGISTRY_ERROR_NOT_CONFIGURED)
               && problems != NULL)
        g_ptr_array_add (problems, g_strdup (error->message));
    }
  return g_steal_pointer (&backends);
}
