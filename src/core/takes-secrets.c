/* takes-secrets.c: API keys in the keyring, overrides from the environment,
 * and redaction of keys from any text before it is shown or logged.
 *
 * Every key this process has seen (from the keyring, the environment or a
 * caller) is remembered in a process-wide list, so a server that echoes the key
 * back in an error message cannot leak it into a GError or the log.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <libsecret/secret.h>
#include <string.h>

#include "takes-secrets.h"

#define MAX_KEY_BYTES 4096

G_DEFINE_QUARK (takes - secrets - error - quark, takes_secrets_error)

static const SecretSchema *
takes_secrets_schema (void)
{
  static const SecretSchema schema = {
    TAKES_SECRETS_SCHEMA_NAME,
    SECRET_SCHEMA_NONE,
    {
        { "backend", SECRET_SCHEMA_ATTRIBUTE_STRING },
        { "endpoint", SECRET_SCHEMA_ATTRIBUTE_STRING },
        { NULL, 0 },
    },
  };

  return &schema;
}

/* Environment ------------------------------------------------------------- */

typedef struct
{
  const char *backend_id;
  const char *names[3];
} EnvNames;

static const EnvNames env_table[] = {
  { "dashscope", { "TAKES_DASHSCOPE_API_KEY", "DASHSCOPE_API_KEY", NULL } },
  { "comfyui", { "TAKES_COMFYUI_TOKEN", NULL } },
  { "takes-server", { "TAKES_SERVER_TOKEN", NULL } },
};

static GMutex env_lock;
static GHashTable *env_generic; /* backend id → GStrv, kept for the process */

/* The variables read for @backend_id, most specific first. Unknown backends
 * get TAKES_<ID>_API_KEY. */
const char *const *
takes_secrets_env_names (const char *backend_id)
{
  g_autoptr (GMutexLocker) locker = NULL;
  GStrv names;

  g_return_val_if_fail (backend_id != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (env_table); i++)
    if (g_strcmp0 (env_table[i].backend_id, backend_id) == 0)
      return env_table[i].names;

  locker = g_mutex_locker_new (&env_lock);
  if (env_generic == NULL)
    env_generic = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_strfreev);
  names = g_hash_table_lookup (env_generic, backend_id);
  if (names == NULL)
    {
      g_autofree char *upper = g_ascii_strup (backend_id, -1);

      g_strcanon (upper, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", '_');
      names = g_new0 (char *, 2);
      names[0] = g_strdup_printf ("TAKES_%s_API_KEY", upper);
      g_hash_table_insert (env_generic, g_strdup (backend_id), names);
    }
  return (const char *const *)names;
}

/* The key from the environment, if one of the backend's variables is set and
 * not empty. It wins over the keyring. */
const char *
takes_secrets_env_override (const char *backend_id)
{
  const char *const *names = takes_secrets_env_names (backend_id);

  for (guint i = 0; names != NULL && names[i] != NULL; i++)
    {
      const char *value = g_getenv (names[i]);

      if (value != NULL && *value != '\0')
        {
          takes_secrets_remember (value);
          return value;
        }
    }
  return NULL;
}

/* The same endpoint written two ways ("…/api/v1/" and "…/api/v1") must find
 * the same key. */
char *
takes_secrets_normalize_endpoint (const char *endpoint)
{
  g_autofree char *copy = g_strstrip (g_strdup (endpoint != NULL ? endpoint : ""));
  gsize len = strlen (copy);

  while (len > 0 && copy[len - 1] == '/')
    copy[--len] = '\0';
  return g_ascii_strdown (copy, -1);
}

gboolean
takes_secrets_check_key (const char *key, GError **error)
{
  if (key == NULL || *key == '\0')
    {
      g_set_error_literal (error, TAKES_SECRETS_ERROR, TAKES_SECRETS_ERROR_INVALID,
                           _ ("The API key is empty. Paste the whole key."));
      return FALSE;
    }
  if (strlen (key) > MAX_KEY_BYTES || !g_utf8_validate (key, -1, NULL))
    {
      g_set_error_literal (error, TAKES_SECRETS_ERROR, TAKES_SECRETS_ERROR_INVALID,
                           _ ("The API key is not valid text or is far too long. Paste only the key."));
      return FALSE;
    }
  for (const char *p = key; *p != '\0'; p++)
    if (g_ascii_iscntrl (*p) || *p == ' ')
      {
        g_set_error_literal (error, TAKES_SECRETS_ERROR, TAKES_SECRETS_ERROR_INVALID,
                             _ ("The API key contains spaces or line breaks. Paste only the key itself."));
        return FALSE;
      }
  return TRUE;
}

/* Keyring ----------------------------------------------------------------- */

static GError *
wrap_keyring_error (const GError *error, const char *doing)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);
  if (error->domain == SECRET_ERROR)
    return g_error_new (TAKES_SECRETS_ERROR, TAKES_SECRETS_ERROR_FAILED,
                        _ ("The keyring refused to %s: %s. Unlock the keyring and try again."), doing,
                        error->message);
  return g_error_new (TAKES_SECRETS_ERROR, TAKES_SECRETS_ERROR_UNAVAILABLE,
                      _ ("No keyring is available to %s: %s. Start a keyring service (such as GNOME Keyring) "
                         "or give the key in the environment variable instead."),
                      doing, error->message);
}

static void
lookup_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  char *secret = secret_password_lookup_finish (result, &error);

  if (error != NULL)
    {
      g_task_return_error (task, wrap_keyring_error (error, _ ("look up the API key")));
      return;
    }
  if (secret != NULL)
    {
      char *copy = g_strdup (secret);

      secret_password_free (secret);
      takes_secrets_remember (copy);
      g_task_return_pointer (task, copy, (GDestroyNotify)takes_secrets_free);
      return;
    }
  g_task_return_pointer (task, NULL, NULL);
}

/* Finishes with the key, or with NULL and no error when none is stored. The
 * environment override is not consulted here: see takes_secrets_env_override(). */
void
takes_secrets_lookup_async (const char *backend_id,
                            const char *endpoint,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *normalized = takes_secrets_normalize_endpoint (endpoint);

  g_return_if_fail (backend_id != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, takes_secrets_lookup_async);
  secret_password_lookup (takes_secrets_schema (), cancellable, lookup_cb, g_steal_pointer (&task), "backend",
                          backend_id, "endpoint", normalized, NULL);
}

char *
takes_secrets_lookup_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
store_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  if (!secret_password_store_finish (result, &error))
    g_task_return_error (task, wrap_keyring_error (error, _ ("save the API key")));
  else
    g_task_return_boolean (task, TRUE);
}

void
takes_secrets_store_async (const char *backend_id,
                           const char *endpoint,
                           const char *key,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *normalized = takes_secrets_normalize_endpoint (endpoint);
  g_autofree char *label = NULL;

  g_return_if_fail (backend_id != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, takes_secrets_store_async);
  if (!takes_secrets_check_key (key, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  takes_secrets_remember (key);
  /* The label is what keyring managers show; it names the service, never the key. */
  if (*normalized != '\0')
    label = g_strdup_printf (_ ("Takes API key for %s (%s)"), backend_id, normalized);
  else
    label = g_strdup_printf (_ ("Takes API key for %s"), backend_id);
  secret_password_store (takes_secrets_schema (), SECRET_COLLECTION_DEFAULT, label, key, cancellable,
                         store_cb, g_steal_pointer (&task), "backend", backend_id, "endpoint", normalized,
                         NULL);
}

gboolean
takes_secrets_store_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
clear_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  /* FALSE without an error means there was nothing to remove, which is fine. */
  secret_password_clear_finish (result, &error);
  if (error != NULL)
    g_task_return_error (task, wrap_keyring_error (error, _ ("remove the API key")));
  else
    g_task_return_boolean (task, TRUE);
}

void
takes_secrets_clear_async (const char *backend_id,
                           const char *endpoint,
                           GCancellable *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autofree char *normalized = takes_secrets_normalize_endpoint (endpoint);

  g_return_if_fail (backend_id != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, takes_secrets_clear_async);
  secret_password_clear (takes_secrets_schema (), cancellable, clear_cb, g_steal_pointer (&task), "backend",
                         backend_id, "endpoint", normalized, NULL);
}

gboolean
takes_secrets_clear_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Redaction --------------------------------------------------------------- */

static GMutex known_lock;
static GPtrArray *known_keys;

/* Keys shorter than this are not searched for: replacing every "ab" in a
 * message would garble it and such a key is not a real credential anyway. */
#define MIN_REDACT_LENGTH 6

void
takes_secrets_remember (const char *key)
{
  g_autoptr (GMutexLocker) locker = NULL;

  if (key == NULL || strlen (key) < MIN_REDACT_LENGTH)
    return;
  locker = g_mutex_locker_new (&known_lock);
  if (known_keys == NULL)
    known_keys = g_ptr_array_new ();
  for (guint i = 0; i < known_keys->len; i++)
    if (strcmp (g_ptr_array_index (known_keys, i), key) == 0)
      return;
  /* Kept for the life of the process on purpose: a key that was used once
   * may still appear in a late reply. */
  g_ptr_array_add (known_keys, g_strdup (key));
}

static GRegex *
token_regex (void)
{
  static gsize regex;

  if (g_once_init_enter (&regex))
    {
      /* Bearer tokens in echoed headers, and DashScope/OpenAI-style keys. */
      GRegex *compiled
          = g_regex_new ("(?<=[Bb]earer )[^\\s\"',;]+|\\bsk-[A-Za-z0-9_-]{6,}", G_REGEX_OPTIMIZE, 0, NULL);

      g_once_init_leave (&regex, (gsize)compiled);
    }
  return (GRegex *)regex;
}

/* A copy of @text with every remembered key and anything that looks like a
 * bearer token or an "sk-" key replaced by "[redacted]". */
char *
takes_secrets_redact (const char *text)
{
  g_autoptr (GString) out = NULL;

  if (text == NULL)
    return NULL;
  out = g_string_new (text);
  g_mutex_lock (&known_lock);
  for (guint i = 0; known_keys != NULL && i < known_keys->len; i++)
    g_string_replace (out, g_ptr_array_index (known_keys, i), "[redacted]", 0);
  g_mutex_unlock (&known_lock);
  if (g_utf8_validate (out->str, out->len, NULL))
    {
      g_autofree char *replaced
          = g_regex_replace_literal (token_regex (), out->str, out->len, 0, "[redacted]", 0, NULL);

      if (replaced != NULL)
        return g_steal_pointer (&replaced);
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Wipes the key before freeing it, so it does not linger in freed memory. */
void
takes_secrets_free (char *key)
{
  if (key == NULL)
    return;
  explicit_bzero (key, strlen (key));
  g_free (key);
}
