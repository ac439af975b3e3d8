/* test-cli-batch.c: `takes-cli batch run` against a fake DashScope server
 * on loopback (TAKES_DASHSCOPE_BASE_URL), with a throwaway library. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "fake-dashscope.h"
#include "fake-loop.h"
#include "takes-store-batches.h"
#include "takes-store-safety.h"
#include "takes-store.h"
#include "test-store-util.h"

#define TEST_KEY "sk-fakeBatchKey0123456789abcdef"

typedef struct
{
  char *dir;
  FakeDashscope *fake;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("takes-cli-batch-XXXXXX", &error);
  g_assert_no_error (error);
  f->fake = fake_dashscope_new (TEST_KEY);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->fake, fake_dashscope_free);
  fake_loop_drain ();
  store_test_rm_rf (f->dir);
  g_free (f->dir);
}

static char *
write_batch (Fixture *f, const char *json)
{
  char *path = g_build_filename (f->dir, "batch.json", NULL);
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, json, -1, &error));
  g_assert_no_error (error);
  return path;
}

/* Runs takes-cli while this process's main context keeps serving the fake
 * server; returns the exit status. */
static int
run_cli (Fixture *f, char **out, char **err, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *base = g_strdup (fake_dashscope_get_base_url (f->fake));

  g_ptr_array_add (argv, (gpointer)g_getenv ("TAKES_CLI"));
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer)args[i]);
  g_ptr_array_add (argv, NULL);

  g_subprocess_launcher_setenv (launcher, "TAKES_DATA_DIR", f->dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "TAKES_DASHSCOPE_BASE_URL", base, TRUE);
  g_subprocess_launcher_setenv (launcher, "TAKES_DASHSCOPE_API_KEY", TEST_KEY, TRUE);
  /* Loopback only: no proxy (nor the desktop's proxy settings, which the
   * isolated folders do not have) may come between takes-cli and the fake. */
  g_subprocess_launcher_setenv (launcher, "GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_subprocess_launcher_unsetenv (launcher, "http_proxy");
  g_subprocess_launcher_unsetenv (launcher, "all_proxy");
  /* No keyring in tests: the key comes from the environment only. */
  g_subprocess_launcher_setenv (launcher, "DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/takes-test-bus",
                                TRUE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, fake_loop_result_cb, &result);
  result = fake_loop_wait_result (&result);
  g_subprocess_communicate_utf8_finish (proc, result, out, err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_if_exited (proc))
    g_error ("takes-cli died with signal %d; it wrote: %s", g_subprocess_get_term_sig (proc), *err);
  return g_subprocess_get_exit_status (proc);
}

static TakesStore *
open_store (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  TakesStore *store = takes_store_open (f->dir, TAKES_STORE_OPEN_EXISTING, &error);

  g_assert_no_error (error);
  return store;
}

static gboolean
file_contains (const char *path, const char *needle)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return FALSE;
  return memmem (contents, length, needle, strlen (needle)) != NULL;
}

static const char batch_json[]
    = "{\"name\": \"tea\", \"template\": \"A cup of {drink} in {city}\","
      " \"variables\": {\"city\": [\"Paris\", \"Tokyo\"], \"drink\": [\"tea\", \"coffee\"]},"
      " \"backend\": \"dashscope\", \"model\": \"wan2.2-t2v-plus\", \"size\": \"832*480\","
      " \"seed_base\": 7}";

static void
test_run_queues_every_variant (Fixture *f, gconstpointer data)
{
  g_autofree char *file = write_batch (f, batch_json);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *args[] = { "batch", "run", file, "--priority", "3", NULL };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (GPtrArray) infos = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchGrid) grid = NULL;
  TakesBatchInfo *info;

  g_assert_cmpint (run_cli (f, &out, &err, args), ==, 0);
  g_assert_nonnull (strstr (out, "Queued 4 jobs"));
  g_assert_nonnull (strstr (out, "Estimated cost"));
  g_assert_cmpuint (fake_dashscope_get_n_creates (f->fake), ==, 0);

  store = open_store (f);
  infos = takes_store_list_batch_infos (store, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (infos->len, ==, 1);
  info = g_ptr_array_index (infos, 0);
  g_assert_cmpstr (info->name, ==, "tea");
  g_assert_cmpuint (info->n_takes, ==, 4);
  g_assert_cmpuint (info->status_counts[TAKES_TAKE_STATUS_QUEUED], ==, 4);
  grid = takes_store_get_batch_grid (store, info->id, "city", "drink", NULL, &error);
  g_assert_no_error (error);
  for (guint row = 0; row < 2; row++)
    for (guint column = 0; column < 2; column++)
      {
        g_autoptr (TakesTake) take
            = takes_store_get_take (store, takes_batch_grid_get_take (grid, row, column), &error);
        g_autofree char *tag = g_strdup_printf ("city=%s", grid->row_values[row]);

        g_assert_no_error (error);
        g_assert_cmpstr (takes_take_get_backend (take), ==, "dashscope");
        g_assert_true (takes_take_has_tag (take, tag));
      }
  g_assert_finalize_object (g_steal_pointer (&store));
}

static void
test_run_blocked_variant_queues_nothing (Fixture *f, gconstpointer data)
{
  g_autofree char *file = write_batch (f, "{\"template\": \"a {who} on a beach\","
                                          " \"variables\": {\"who\": [\"dog\", \"naked woman\", \"cat\"]},"
                                          " \"backend\": \"dashscope\"}");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *db = g_build_filename (f->dir, "library.db", NULL);
  g_autofree char *wal = g_build_filename (f->dir, "library.db-wal", NULL);
  const char *args[] = { "batch", "run", file, NULL };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (GPtrArray) infos = NULL;
  g_autoptr (GPtrArray) blocks = NULL;
  g_autoptr (GError) error = NULL;
  TakesSafetyLogEntry *entry;

  g_assert_cmpint (run_cli (f, &out, &err, args), ==, 1);
  g_assert_nonnull (strstr (err, "variant 2"));
  g_assert_nonnull (strstr (err, "naked"));
  g_assert_nonnull (strstr (err, "nothing was queued"));
  g_assert_cmpuint (fake_dashscope_get_n_creates (f->fake), ==, 0);

  store = open_store (f);
  infos = takes_store_list_batch_infos (store, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (infos->len, ==, 0);
  blocks = takes_store_list_safety_blocks (store, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (blocks->len, ==, 1);
  entry = g_ptr_array_index (blocks, 0);
  g_assert_cmpstr (entry->prompt, ==, "a naked woman on a beach");
  g_assert_cmpint (entry->source, ==, TAKES_SAFETY_SOURCE_CLI);
  g_assert_true (g_str_has_prefix (entry->rule, "naked"));
  g_assert_finalize_object (g_steal_pointer (&store));
  g_assert_false (file_contains (db, TEST_KEY));
  g_assert_false (file_contains (wal, TEST_KEY));
}

static void
test_run_bad_file_and_usage (Fixture *f, gconstpointer data)
{
  g_autofree char *file = write_batch (f, "{\"template\": \"a {x\"}");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *bad[] = { "batch", "run", file, NULL };
  const char *none[] = { "batch", "run", NULL };
  const char *unknown[] = { "batch", "walk", NULL };

  g_assert_cmpint (run_cli (f, &out, &err, bad), ==, 1);
  g_assert_nonnull (strstr (err, "Line 1, column 3"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (f, &out, &err, none), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (run_cli (f, &out, &err, unknown), ==, 2);
  g_assert_nonnull (strstr (err, "plan, run"));
}

static void
test_run_unknown_project_stores_nothing (Fixture *f, gconstpointer data)
{
  g_autofree char *file = write_batch (f, batch_json);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *args[] = { "batch", "run", file, "--project", "nowhere", NULL };

  g_assert_cmpint (run_cli (f, &out, &err, args), ==, 1);
  g_assert_nonnull (strstr (err, "nowhere"));
}

static void
test_run_wait_makes_every_take (Fixture *f, gconstpointer data)
{
  g_autofree char *file = write_batch (f, "{\"template\": \"a {animal} running\","
                                          " \"variables\": {\"animal\": [\"fox\", \"hare\"]},"
                                          " \"backend\": \"dashscope\", \"model\": \"wan2.2-t2v-plus\"}");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *args[] = { "batch", "run", file, "--wait", NULL };
  const char *const statuses[] = { "SUCCEEDED", NULL };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (GPtrArray) infos = NULL;
  g_autoptr (GError) error = NULL;
  TakesBatchInfo *info;

  fake_dashscope_set_statuses (f->fake, statuses);
  g_assert_cmpint (run_cli (f, &out, &err, args), ==, 0);
  g_assert_nonnull (strstr (out, "Batch finished: 2 done, 0 failed, 0 cancelled."));
  g_assert_cmpuint (fake_dashscope_get_n_creates (f->fake), ==, 2);

  store = open_store (f);
  infos = takes_store_list_batch_infos (store, 0, &error);
  g_assert_no_error (error);
  info = g_ptr_array_index (infos, 0);
  g_assert_cmpuint (info->status_counts[TAKES_TAKE_STATUS_DONE], ==, 2);
  g_assert_finalize_object (g_steal_pointer (&store));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func)                                                                                      \
  g_test_add ("/cli/batch/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("run/queues-every-variant-tagged", test_run_queues_every_variant);
  ADD ("run/blocked-variant-queues-nothing-and-is-logged", test_run_blocked_variant_queues_nothing);
  ADD ("run/bad-file-and-usage", test_run_bad_file_and_usage);
  ADD ("run/unknown-project", test_run_unknown_project_stores_nothing);
  ADD ("run/wait-makes-every-take", test_run_wait_makes_every_take);
#undef ADD

  return g_test_run ();
}
