/* takes-preferences-window.h: settings, endpoints and their keys.
 *
 * Plain settings are GSettings keys bound to rows; API keys and tokens go to
 * the keyring through takes-secrets and never into GSettings.
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define TAKES_TYPE_PREFERENCES_WINDOW (takes_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (
    TakesPreferencesWindow, takes_preferences_window, TAKES, PREFERENCES_WINDOW, AdwPreferencesWindow)

GtkWidget *takes_preferences_window_new (GtkWindow *parent);

/* The endpoint a backend's key is filed under in the keyring ("dashscope",
 * "comfyui", "takes-server" or "llm"), from the current settings; NULL when
 * the backend is not set up. */
char *takes_preferences_window_get_key_endpoint (TakesPreferencesWindow *self, const char *backend_id);

/* Saves @key for @backend_id in the keyring, as the key rows' Apply does. */
void takes_preferences_window_store_key_async (TakesPreferencesWindow *self,
                                               const char *backend_id,
                                               const char *key,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer user_data);
gboolean takes_preferences_window_store_key_finish (TakesPreferencesWindow *self,
                                                    GAsyncResult *result,
                                                    GError **error);

G_END_DECLS
