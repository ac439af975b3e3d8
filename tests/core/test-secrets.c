/* test-secrets.c: API keys in a real keyring, environment overrides, redaction.
 *
 * The keyring tests start their own private session bus and a
 * gnome-keyring-daemon unlocked in a temporary HOME, so they never touch the
 * keyring of the person running the tests. The bus is a dbus-daemon started
 * here rather than GTestDBus: libsecret keeps a reference to the bus
 * connection after secret_service_disconnect(), and GTestDBus would wait 30 s
 * for it to be released and then abort.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <libsecret/secret.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fake-loop.h"
#include "takes-secrets.h"
#include "test-store-util.h"

#define TEST_KEY "sk-test-0123456789abcdef"
#define OTHER_ENDPOINT "https://dashscope.aliyuncs.com/api/v1"
#define INTL_ENDPOINT "https://dashscope-intl.aliyuncs.com/api/v1"

static GPid bus_pid;
static gboolean keyring_started;
static GPid keyring_pid;
static char *keyring_home;
static char *skip_reason;

/* Environment --------------------------------------------------------------- */

static void
test_secrets_env_order (void)
{
  const char *const *names = takes_secrets_env_names ("dashscope");

  g_assert_cmpstr (names[0], ==, "TAKES_DASHSCOPE_API_KEY");
  g_assert_cmpstr (names[1], ==, "DASHSCOPE_API_KEY");

  g_unsetenv ("TAKES_DASHSCOPE_API_KEY");
  g_unsetenv ("DASHSCOPE_API_KEY");
  g_assert_null (takes_secrets_env_override ("dashscope"));
  g_setenv ("DASHSCOPE_API_KEY", "sk-from-generic-variable", TRUE);
  g_assert_cmpstr (takes_secrets_env_override ("dashscope"), ==, "sk-from-generic-variable");
  g_setenv ("TAKES_DASHSCOPE_API_KEY", "sk-from-takes-variable", TRUE);
  g_assert_cmpstr (takes_secrets_env_override ("dashscope"), ==, "sk-from-takes-variable");
  /* An empty variable does not hide the next one. */
  g_setenv ("TAKES_DASHSCOPE_API_KEY", "", TRUE);
  g_assert_cmpstr (takes_secrets_env_override ("dashscope"), ==, "sk-from-generic-variable");
  g_unsetenv ("TAKES_DASHSCOPE_API_KEY");
  g_unsetenv ("DASHSCOPE_API_KEY");

  g_assert_cmpstr (takes_secrets_env_names ("comfyui")[0], ==, "TAKES_COMFYUI_TOKEN");
  g_assert_cmpstr (takes_secrets_env_names ("my-fal.ai")[0], ==, "TAKES_MY_FAL_AI_API_KEY");
}

static void
test_secrets_normalize_endpoint (void)
{
  g_autofree char *a = takes_secrets_normalize_endpoint ("https://DashScope-Intl.aliyuncs.com/api/v1/ ");
  g_autofree char *b = takes_secrets_normalize_endpoint (INTL_ENDPOINT);
  g_autofree char *c = takes_secrets_normalize_endpoint (NULL);

  g_assert_cmpstr (a, ==, b);
  g_assert_cmpstr (c, ==, "");
}

static void
test_secrets_check_key (void)
{
  const char *bad[] = { "", "sk-with space", "sk-with\nnewline", "sk-with\ttab" };
  g_autofree char *long_key = g_strnfill (5000, 'a');
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_false (takes_secrets_check_key (bad[i], &error));
      g_assert_error (error, TAKES_SECRETS_ERROR, TAKES_SECRETS_ERROR_INVALID);
      g_clear_error (&error);
    }
  g_assert_false (takes_secrets_check_key (long_key, &error));
  g_assert_error (error, TAKES_SECRETS_ERROR, TAKES_SECRETS_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_true (takes_secrets_check_key (TEST_KEY, &error));
  g_assert_no_error (error);
}

static void
test_secrets_redact (void)
{
  g_autofree char *remembered = NULL;
  g_autofree char *bearer = NULL;
  g_autofree char *sk = NULL;
  g_autofree char *plain = NULL;
  g_autofree char *short_key = NULL;

  takes_secrets_remember ("token-only-this-process-knows");
  remembered = takes_secrets_redact ("Invalid API-key provided: token-only-this-process-knows.");
  g_assert_cmpstr (remembered, ==, "Invalid API-key provided: [redacted].");
  bearer = takes_secrets_redact ("headers: Authorization: Bearer abc.def-ghi, Host: x");
  g_assert_cmpstr (bearer, ==, "headers: Authorization: Bearer [redacted], Host: x");
  sk = takes_secrets_redact ("key sk-9f8e7d6c5b4a was refused");
  g_assert_cmpstr (sk, ==, "key [redacted] was refused");
  plain = takes_secrets_redact ("nothing secret here, skill-based");
  g_assert_cmpstr (plain, ==, "nothing secret here, skill-based");
  /* Too short to be a key: replacing it would garble ordinary words. */
  takes_secrets_remember ("ab");
  short_key = takes_secrets_redact ("about a cab");
  g_assert_cmpstr (short_key, ==, "about a cab");
  g_assert_null (takes_secrets_redact (NULL));
}

/* Keyring ------------------------------------------------------------------- */

static void start_keyring (void);

/* The keyring starts with the first test that needs it, after the test that
 * checks the behaviour without any bus. */
static gboolean
keyring_ready (void)
{
  if (!keyring_started)
    {
      keyring_started = TRUE;
      start_keyring ();
    }
  if (skip_reason != NULL)
    {
      g_test_skip (skip_reason);
      return FALSE;
    }
  return TRUE;
}

static char *
lookup (const char *backend, const char *endpoint, GError **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  takes_secrets_lookup_async (backend, endpoint, NULL, fake_loop_result_cb, &slot);
  result = fake_loop_wait_result (&slot);
  return takes_secrets_lookup_finish (result, error);
}

static gboolean
store (const char *backend, const char *endpoint, const char *key, GError **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  takes_secrets_store_async (backend, endpoint, key, NULL, fake_loop_result_cb, &slot);
  result = fake_loop_wait_result (&slot);
  return takes_secrets_store_finish (result, error);
}

static gboolean
clear (const char *backend, const char *endpoint, GError **error)
{
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) result = NULL;

  takes_secrets_clear_async (backend, endpoint, NULL, fake_loop_result_cb, &slot);
  result = fake_loop_wait_result (&slot);
  return takes_secrets_clear_finish (result, error);
}

static void
test_secrets_keyring_round_trip (void)
{
  g_autoptr (GError) error = NULL;
  g_auto (TakesSecret) found = NULL;
  g_auto (TakesSecret) other = NULL;
  g_auto (TakesSecret) after_clear = NULL;
  g_autoptr (GHashTable) attributes = NULL;
  GList *items;

  if (!keyring_ready ())
    return;

  g_assert_true (store ("dashscope", INTL_ENDPOINT "/", TEST_KEY, &error));
  g_assert_no_error (error);
  /* The same endpoint written without the slash finds it. */
  found = lookup ("dashscope", INTL_ENDPOINT, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (found, ==, TEST_KEY);
  /* Regions have separate keys: another endpoint finds nothing. */
  other = lookup ("dashscope", OTHER_ENDPOINT, &error);
  g_assert_no_error (error);
  g_assert_null (other);

  /* Keyring managers show the label: it names the service, never the key. */
  attributes = g_hash_table_new (g_str_hash, g_str_equal);
  g_hash_table_insert (attributes, (gpointer) "backend", (gpointer) "dashscope");
  items = secret_password_searchv_sync (NULL, attributes, SECRET_SEARCH_ALL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_length (items), ==, 1);
  {
    g_autofree char *label = secret_retrievable_get_label (items->data);

    g_assert_nonnull (strstr (label, "dashscope"));
    g_assert_null (strstr (label, TEST_KEY));
  }
  g_list_free_full (items, g_object_unref);

  g_assert_true (clear ("dashscope", INTL_ENDPOINT, &error));
  g_assert_no_error (error);
  after_clear = lookup ("dashscope", INTL_ENDPOINT, &error);
  g_assert_no_error (error);
  g_assert_null (after_clear);
  /* Clearing what is not there is not an error. */
  g_assert_true (clear ("dashscope", INTL_ENDPOINT, &error));
  g_assert_no_error (error);
}

static void
test_secrets_keyring_replace (void)
{
  g_autoptr (GError) error = NULL;
  g_auto (TakesSecret) found = NULL;

  if (!keyring_ready ())
    return;

  g_assert_true (store ("comfyui", "http://10.0.0.2:8188", "first-token-value", &error));
  g_assert_true (store ("comfyui", "http://10.0.0.2:8188", "second-token-value", &error));
  g_assert_no_error (error);
  found = lookup ("comfyui", "http://10.0.0.2:8188", &error);
  g_assert_cmpstr (found, ==, "second-token-value");
  g_assert_true (clear ("comfyui", "http://10.0.0.2:8188", &error));
}

static void
test_secrets_keyring_rejects_bad_key (void)
{
  g_autoptr (GError) error = NULL;

  if (!keyring_ready ())
    return;

  g_assert_false (store ("dashscope", INTL_ENDPOINT, "two\nlines", &error));
  g_assert_error (error, TAKES_SECRETS_ERROR, TAKES_SECRETS_ERROR_INVALID);
  /* The message explains; it does not repeat the key. */
  g_assert_null (strstr (error->message, "two\nlines"));
}

static void
test_secrets_keyring_unavailable (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *key = NULL;
  g_autofree char *previous = g_strdup (g_getenv ("DBUS_SESSION_BUS_ADDRESS"));

  /* Runs before any bus is up, so nothing is cached yet. */
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/takes-test-bus", TRUE);
  key = lookup ("dashscope", INTL_ENDPOINT, &error);
  g_assert_null (key);
  g_assert_error (error, TAKES_SECRETS_ERROR, TAKES_SECRETS_ERROR_UNAVAILABLE);
  g_assert_nonnull (strstr (error->message, "environment variable"));
  if (previous != NULL)
    g_setenv ("DBUS_SESSION_BUS_ADDRESS", previous, TRUE);
  else
    g_unsetenv ("DBUS_SESSION_BUS_ADDRESS");
}

/* A private bus and keyring ----------------------------------------------------- */

static gboolean
wait_for_secret_service (void)
{
  g_autoptr (GDBusConnection) connection = NULL;
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);
  if (connection == NULL)
    return FALSE;
  while (g_get_monotonic_time () < deadline)
    {
      g_autoptr (GVariant) reply = NULL;
      gboolean has_owner = FALSE;

      reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                           "org.freedesktop.DBus", "NameHasOwner",
                                           g_variant_new ("(s)", "org.freedesktop.secrets"),
                                           G_VARIANT_TYPE ("(b)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
      if (reply != NULL)
        g_variant_get (reply, "(b)", &has_owner);
      if (has_owner)
        return TRUE;
      g_usleep (50 * 1000);
    }
  return FALSE;
}

/* A session bus without service activation: only what this test starts
 * appears on it. */
static gboolean
start_bus (const char *home)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *config = g_build_filename (home, "bus.conf", NULL);
  g_autofree char *config_arg = g_strdup_printf ("--config-file=%s", config);
  g_autofree char *contents
      = g_strdup_printf ("<busconfig><type>session</type><listen>unix:tmpdir=%s</listen>"
                         "<policy context=\"default\">"
                         "<allow send_destination=\"*\" eavesdrop=\"true\"/>"
                         "<allow eavesdrop=\"true\"/><allow own=\"*\"/>"
                         "</policy></busconfig>",
                         home);
  const char *argv[] = { "dbus-daemon", NULL, "--nofork", "--print-address=1", NULL };
  g_autoptr (GIOChannel) channel = NULL;
  g_autofree char *address = NULL;
  int stdout_fd = -1;

  argv[1] = config_arg;
  if (!g_file_set_contents (config, contents, -1, &error)
      || !g_spawn_async_with_pipes (NULL, (char **)argv, NULL,
                                    G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD
                                        | G_SPAWN_STDERR_TO_DEV_NULL,
                                    NULL, NULL, &bus_pid, NULL, &stdout_fd, NULL, &error))
    {
      g_test_message ("dbus-daemon: %s", error->message);
      return FALSE;
    }
  channel = g_io_channel_unix_new (stdout_fd);
  g_io_channel_set_close_on_unref (channel, TRUE);
  if (g_io_channel_read_line (channel, &address, NULL, NULL, &error) != G_IO_STATUS_NORMAL || address == NULL)
    return FALSE;
  g_setenv ("DBUS_SESSION_BUS_ADDRESS", g_strstrip (address), TRUE);
  return TRUE;
}

static void
start_keyring (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *daemon = g_find_program_in_path ("gnome-keyring-daemon");
  g_autofree char *dbus_daemon = g_find_program_in_path ("dbus-daemon");
  g_autofree char *runtime = NULL;
  g_autofree char *data = NULL;
  g_auto (GStrv) envp = NULL;
  const char *argv[] = { NULL, "--foreground", "--unlock", "--components=secrets", NULL };
  int stdin_fd = -1;

  if (daemon == NULL || dbus_daemon == NULL)
    {
      skip_reason
          = g_strdup ("gnome-keyring-daemon or dbus-daemon is not installed, so no Secret Service can be "
                      "started");
      return;
    }
  keyring_home = g_dir_make_tmp ("takes-keyring-XXXXXX", &error);
  g_assert_no_error (error);
  runtime = g_build_filename (keyring_home, "run", NULL);
  data = g_build_filename (keyring_home, "data", NULL);
  g_mkdir_with_parents (runtime, 0700);
  g_mkdir_with_parents (data, 0700);
  g_setenv ("HOME", keyring_home, TRUE);
  g_setenv ("XDG_RUNTIME_DIR", runtime, TRUE);
  g_setenv ("XDG_DATA_HOME", data, TRUE);

  if (!start_bus (keyring_home))
    {
      skip_reason = g_strdup ("dbus-daemon could not be started, so no Secret Service can be started");
      return;
    }

  argv[0] = daemon;
  /* The daemon is not under test: the suite's fatal warnings must not abort
   * it on its own harmless warnings. */
  envp = g_environ_unsetenv (g_get_environ (), "G_DEBUG");
  if (!g_spawn_async_with_pipes (NULL, (char **)argv, envp,
                                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                                     | G_SPAWN_STDERR_TO_DEV_NULL,
                                 NULL, NULL, &keyring_pid, &stdin_fd, NULL, NULL, &error))
    {
      skip_reason = g_strdup_printf ("gnome-keyring-daemon could not be started: %s", error->message);
      return;
    }
  /* --unlock reads the password of the new login keyring from stdin. */
  if (write (stdin_fd, "takes-test", 10) != 10)
    g_test_message ("Could not hand the password to gnome-keyring-daemon");
  close (stdin_fd);
  if (!wait_for_secret_service ())
    skip_reason = g_strdup ("gnome-keyring-daemon started but did not offer the Secret Service");
}

static void
stop_keyring (void)
{
  secret_service_disconnect ();
  /* libsecret drops its last references to the bus from idle callbacks; the
   * bus can only go down once they ran. */
  fake_loop_drain ();
  if (keyring_pid > 0)
    {
      kill (keyring_pid, SIGTERM);
      waitpid (keyring_pid, NULL, 0);
      g_spawn_close_pid (keyring_pid);
    }
  if (bus_pid > 0)
    {
      g_autoptr (GDBusConnection) connection = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, NULL);

      /* The bus goes away first; the process must not exit with it. */
      if (connection != NULL)
        g_dbus_connection_set_exit_on_close (connection, FALSE);
      kill (bus_pid, SIGTERM);
      waitpid (bus_pid, NULL, 0);
      g_spawn_close_pid (bus_pid);
    }
  if (keyring_home != NULL)
    store_test_rm_rf (keyring_home);
  g_clear_pointer (&keyring_home, g_free);
  g_clear_pointer (&skip_reason, g_free);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/secrets/env/override-order", test_secrets_env_order);
  g_test_add_func ("/secrets/endpoint/normalized", test_secrets_normalize_endpoint);
  g_test_add_func ("/secrets/key/rejects-unusable", test_secrets_check_key);
  g_test_add_func ("/secrets/redact/keys-and-tokens", test_secrets_redact);
  g_test_add_func ("/secrets/keyring/unavailable-is-clear", test_secrets_keyring_unavailable);
  g_test_add_func ("/secrets/keyring/round-trip", test_secrets_keyring_round_trip);
  g_test_add_func ("/secrets/keyring/replace", test_secrets_keyring_replace);
  g_test_add_func ("/secrets/keyring/rejects-bad-key", test_secrets_keyring_rejects_bad_key);

  status = g_test_run ();
  stop_keyring ();
  return status;
}
