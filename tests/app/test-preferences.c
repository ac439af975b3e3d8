/* test-preferences.c: the preferences window keeps keys in the keyring and
 * never in GSettings, and binds its rows to the settings.
 *
 * meson runs this program under dbus-run-session; it starts its own unlocked
 * gnome-keyring-daemon on that private bus, with its files in the test's
 * temporary data folder, so the person's keyring is never touched.
 */
#include "config.h"

#include <errno.h>
#include <sys/wait.h>
#include <unistd.h>

#include "app-test-util.h"
#include "takes-preferences-window.h"
#include "takes-secrets.h"

#define TEST_KEY "sk-prefs-test-0123456789abcdef"

static char *skip_reason;

static void
start_keyring (void)
{
  g_autofree char *daemon = g_find_program_in_path ("gnome-keyring-daemon");
  const char *argv[] = { NULL, "--unlock", "--components=secrets", "--daemonize", NULL };
  g_auto (GStrv) envp = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  int stdin_fd = -1;
  GPid pid;
  int status = 0;
  g_autoptr (GDBusConnection) bus = NULL;

  if (daemon == NULL || g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL)
    {
      skip_reason
          = g_strdup ("No gnome-keyring-daemon or no private session bus, so no keyring can be started");
      return;
    }
  argv[0] = daemon;
  /* The daemon is not under test: fatal warnings must not stop it. */
  envp = g_environ_unsetenv (g_get_environ (), "G_DEBUG");
  if (!g_spawn_async_with_pipes (NULL, (char **)argv, envp,
                                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                                     | G_SPAWN_STDERR_TO_DEV_NULL,
                                 NULL, NULL, &pid, &stdin_fd, NULL, NULL, &error))
    {
      skip_reason = g_strdup_printf ("gnome-keyring-daemon could not be started: %s", error->message);
      return;
    }
  /* --unlock reads the new login keyring's password from stdin. */
  g_assert_cmpint (write (stdin_fd, "takes-test", 10), ==, 10);
  close (stdin_fd);
  /* With --daemonize the first process exits once the daemon is up. */
  while (waitpid (pid, &status, 0) < 0 && errno == EINTR)
    ;
  g_spawn_close_pid (pid);

  bus = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  for (guint i = 0; bus != NULL && i < 100; i++)
    {
      g_autoptr (GVariant) owner = g_dbus_connection_call_sync (
          bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "NameHasOwner",
          g_variant_new ("(s)", "org.freedesktop.secrets"), G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE,
          -1, NULL, NULL);
      gboolean has_owner = FALSE;

      if (owner != NULL)
        g_variant_get (owner, "(b)", &has_owner);
      if (has_owner)
        return;
      g_usleep (50000);
    }
  skip_reason = g_strdup ("gnome-keyring-daemon started but did not offer the Secret Service");
}

static void
async_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static gboolean
settings_contain (GSettings *settings, const char *text)
{
  g_autoptr (GSettingsSchema) schema = NULL;
  g_auto (GStrv) keys = NULL;

  g_object_get (settings, "settings-schema", &schema, NULL);
  keys = g_settings_schema_list_keys (schema);
  for (guint i = 0; keys[i] != NULL; i++)
    {
      g_autoptr (GVariant) value = g_settings_get_value (settings, keys[i]);
      g_autofree char *printed = g_variant_print (value, FALSE);

      if (strstr (printed, text) != NULL)
        return TRUE;
    }
  return FALSE;
}

static void
test_preferences_key_goes_to_keyring_not_settings (void)
{
  g_autoptr (GSettings) settings = g_settings_new ("io.github.takes.Takes");
  TakesPreferencesWindow *window;
  g_autoptr (GAsyncResult) stored = NULL;
  g_autoptr (GAsyncResult) looked_up = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *endpoint = NULL;
  g_autofree char *key = NULL;

  if (skip_reason != NULL)
    {
      g_test_skip (skip_reason);
      return;
    }

  window = g_object_ref (TAKES_PREFERENCES_WINDOW (takes_preferences_window_new (NULL)));
  gtk_window_present (GTK_WINDOW (window));
  app_test_wait_frames (GTK_WIDGET (window), 2);

  endpoint = takes_preferences_window_get_key_endpoint (window, "dashscope");
  g_assert_nonnull (endpoint);
  g_assert_true (g_str_has_prefix (endpoint, "https://"));

  takes_preferences_window_store_key_async (window, "dashscope", TEST_KEY, NULL, async_done_cb, &stored);
  g_assert_true (takes_preferences_window_store_key_finish (window, wait_result (&stored), &error));
  g_assert_no_error (error);

  takes_secrets_lookup_async ("dashscope", endpoint, NULL, async_done_cb, &looked_up);
  key = takes_secrets_lookup_finish (wait_result (&looked_up), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (key, ==, TEST_KEY);
  g_assert_false (settings_contain (settings, TEST_KEY));

  g_free (app_test_screenshot (GTK_WIDGET (window), "preferences"));
  /* The finished task keeps its source object, the window, alive. */
  g_clear_object (&stored);
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_wait (50);
  g_assert_finalize_object (window);
}

static void
test_preferences_endpoint_without_address_is_refused (void)
{
  g_autoptr (GSettings) settings = g_settings_new ("io.github.takes.Takes");
  TakesPreferencesWindow *window
      = g_object_ref_sink (TAKES_PREFERENCES_WINDOW (takes_preferences_window_new (NULL)));
  g_autoptr (GAsyncResult) stored = NULL;
  g_autoptr (GError) error = NULL;

  /* takes-server has no address until one is set: a key has nowhere to go. */
  g_settings_set_string (settings, "takes-server-url", "");
  takes_preferences_window_store_key_async (window, "takes-server", TEST_KEY, NULL, async_done_cb, &stored);
  g_assert_false (takes_preferences_window_store_key_finish (window, wait_result (&stored), &error));
  g_assert_nonnull (error);
  g_assert_false (settings_contain (settings, TEST_KEY));

  g_clear_object (&stored);
  gtk_window_destroy (GTK_WINDOW (window));
  app_test_wait (50);
  g_assert_finalize_object (window);
}

static void
test_preferences_rows_follow_settings (void)
{
  g_autoptr (GSettings) settings = g_settings_new ("io.github.takes.Takes");
  TakesPreferencesWindow *window
      = g_object_ref_sink (TAKES_PREFERENCES_WINDOW (takes_preferences_window_new (NULL)));
  g_autofree char *endpoint = NULL;

  g_settings_set_string (settings, "comfyui-url", "http://127.0.0.1:8199");
  endpoint = takes_preferences_window_get_key_endpoint (window, "comfyui");
  g_assert_nonnull (endpoint);
  g_assert_nonnull (strstr (endpoint, "127.0.0.1:8199"));

  gtk_window_destroy (GTK_WINDOW (window));
  app_test_wait (50);
  g_assert_finalize_object (window);
}

int
main (int argc, char **argv)
{
  int status;

  app_test_setup_env ();
  gtk_test_init (&argc, &argv, NULL);
  adw_init ();
  start_keyring ();

  g_test_add_func ("/preferences/keys/saved-in-keyring-not-settings",
                   test_preferences_key_goes_to_keyring_not_settings);
  g_test_add_func ("/preferences/keys/endpoint-without-address-refused",
                   test_preferences_endpoint_without_address_is_refused);
  g_test_add_func ("/preferences/settings/rows-follow-settings", test_preferences_rows_follow_settings);

  status = g_test_run ();
  g_free (skip_reason);
  app_test_cleanup_root ();
  return status;
}
