/* takes-secrets.h: API keys and tokens of the remote backends.
 *
 * Keys live in the desktop keyring (the Secret Service, through libsecret),
 * one per backend and endpoint; an environment variable overrides the keyring
 * for headless use. Keys are never written to the library, logs, errors or
 * exports: every text that may contain one goes through takes_secrets_redact().
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TAKES_SECRETS_ERROR (takes_secrets_error_quark ())

typedef enum
{
  /* No keyring could be reached (no session bus, no Secret Service). */
  TAKES_SECRETS_ERROR_UNAVAILABLE,
  /* The keyring refused (locked and not unlocked, or the request failed). */
  TAKES_SECRETS_ERROR_FAILED,
  /* The key itself cannot be used: empty, too long, or with control characters. */
  TAKES_SECRETS_ERROR_INVALID,
} TakesSecretsError;

/* A key in memory; freed with takes_secrets_free(), which wipes it first. */
typedef char *TakesSecret;

/* The libsecret schema name; items carry the attributes "backend" and "endpoint". */
#define TAKES_SECRETS_SCHEMA_NAME "io.github.takes.Takes.ApiKey"

GQuark takes_secrets_error_quark (void);

const char *const *takes_secrets_env_names (const char *backend_id);
const char *takes_secrets_env_override (const char *backend_id);
char *takes_secrets_normalize_endpoint (const char *endpoint);
gboolean takes_secrets_check_key (const char *key, GError **error);

void takes_secrets_lookup_async (const char *backend_id,
                                 const char *endpoint,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
char *takes_secrets_lookup_finish (GAsyncResult *result, GError **error);
void takes_secrets_store_async (const char *backend_id,
                                const char *endpoint,
                                const char *key,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean takes_secrets_store_finish (GAsyncResult *result, GError **error);
void takes_secrets_clear_async (const char *backend_id,
                                const char *endpoint,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data);
gboolean takes_secrets_clear_finish (GAsyncResult *result, GError **error);

void takes_secrets_remember (const char *key);
char *takes_secrets_redact (const char *text);
void takes_secrets_free (char *key);

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (TakesSecret, takes_secrets_free, NULL)

G_END_DECLS
