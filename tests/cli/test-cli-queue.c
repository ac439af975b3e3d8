/* test-cli-queue.c: generate, queue, backends and ledger end to end, with
 * DashScope played by the loopback fake (TAKES_DASHSCOPE_BASE_URL). */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "cli-test-util.h"
#include "fake-dashscope.h"
#include "fake-loop.h"

#define TEST_KEY "sk-cli-queue-5a4b3c2d1e0f9a8b"

typedef struct
{
  char *dir;
  FakeDashscope *fake;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) video = fake_oss_make_content (16 * 1024, 4);

  f->dir = g_dir_make_tmp ("takes-cli-queue-XXXXXX", NULL);
  f->fake = fake_dashscope_new (TEST_KEY);
  /* The client polls every 5 s at first; finished at the first look keeps
   * each take to one poll. */
  const char *statuses[] = { "SUCCEEDED", NULL };

  fake_dashscope_set_video (f->fake, video, FAKE_OSS_OK);
  fake_dashscope_set_statuses (f->fake, statuses);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  fake_loop_drain ();
  fake_dashscope_free (f->fake);
  store_test_rm_rf (f->dir);
  g_free (f->dir);
}

/* Runs takes-cli while the fake keeps answering on this main context. */
static int
run_cli (Fixture *f, char **out, char **err, const char *first, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  const char *arg;
  va_list ap;

  g_ptr_array_add (args, (gpointer)g_getenv ("TAKES_CLI"));
  va_start (ap, first);
  for (arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer)arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "TAKES_DATA_DIR", f->dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "TAKES_DASHSCOPE_BASE_URL", fake_dashscope_get_base_url (f->fake),
                                TRUE);
  g_subprocess_launcher_setenv (launcher, "TAKES_DASHSCOPE_API_KEY", TEST_KEY, TRUE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)args->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (proc, NULL, NULL, fake_loop_result_cb, &slot);
  result = fake_loop_wait_result (&slot);
  g_subprocess_communicate_utf8_finish (proc, result, out, err, &error);
  g_assert_no_error (error);
  g_subprocess_wait (proc, NULL, NULL);
  return g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc) : 128;
}

static void
assert_no_key_in_library (Fixture *f)
{
  g_autofree char *db_path = g_build_filename (f->dir, "library.db", NULL);
  g_autofree char *db = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (db_path, &db, &length, NULL));
  g_assert_null (g_strstr_len (db, (gssize)length, TEST_KEY));
}

static void
test_cli_generate_waits (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *ledger = NULL, *ledger_err = NULL;
  int status;

  status
      = run_cli (f, &out, &err, "generate", "--backend", "dashscope", "--model", "wan2.1-t2v-turbo", "--size",
                 "832x480", "--seed", "5", "A lighthouse in a storm, waves crashing, wide shot", NULL);
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpint (status, ==, 0);
  g_assert_true (g_str_has_prefix (out, "Take 1: "));
  g_assert_nonnull (strstr (out, ".mp4"));
  g_assert_cmpuint (fake_dashscope_get_n_creates (f->fake), ==, 1);
  assert_no_key_in_library (f);
  g_assert_null (strstr (out, TEST_KEY));

  status = run_cli (f, &ledger, &ledger_err, "ledger", "--by", "backend", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (ledger, "dashscope"));
  g_assert_nonnull (strstr (ledger, "US$"));
}

static void
test_cli_queue_commands (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *list = NULL, *list_err = NULL;
  g_autofree char *moved = NULL, *moved_err = NULL;
  g_autofree char *cancelled = NULL, *cancelled_err = NULL;
  g_autofree char *json = NULL, *json_err = NULL;
  g_autofree char *bad = NULL, *bad_err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *jobs;

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *prompt = g_strdup_printf ("A red kite over the dunes, take %u", i);
      g_autofree char *o = NULL, *e = NULL;

      g_assert_cmpint (run_cli (f, &o, &e, "generate", "--backend", "dashscope", "--model",
                                "wan2.1-t2v-turbo", "--size", "832x480", "--no-wait", prompt, NULL),
                       ==, 0);
      g_assert_true (g_str_has_prefix (o, "Queued job "));
    }
  g_assert_cmpuint (fake_dashscope_get_n_creates (f->fake), ==, 0);

  g_assert_cmpint (run_cli (f, &list, &list_err, "queue", "list", NULL), ==, 0);
  g_assert_nonnull (strstr (list, "take 2"));
  g_assert_cmpint (run_cli (f, &moved, &moved_err, "queue", "move", "3", "--before", "1", NULL), ==, 0);
  g_assert_cmpint (run_cli (f, &cancelled, &cancelled_err, "queue", "cancel", "2", NULL), ==, 0);
  g_assert_nonnull (strstr (cancelled, "Cancelled"));
  g_assert_cmpint (run_cli (f, &json, &json_err, "queue", "list", "--json", NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  jobs = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (jobs), ==, 3);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (jobs, 0), "id"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (jobs, 1), "id"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (jobs, 2), "state"), ==,
                   "cancelled");

  g_assert_cmpint (run_cli (f, &bad, &bad_err, "queue", "cancel", "99", NULL), ==, 1);
  g_assert_nonnull (strstr (bad_err, "no job 99"));

  /* Running the queue makes the two that are left, in the new order. */
  g_assert_cmpint (run_cli (f, &out, &err, "queue", "run", NULL), ==, 0);
  g_assert_cmpuint (fake_dashscope_get_n_creates (f->fake), ==, 2);
  assert_no_key_in_library (f);
}

static void
test_cli_budget_blocks (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *gen = NULL, *gen_err = NULL;

  g_assert_cmpint (run_cli (f, &out, &err, "ledger", "--budget", "0.1", "USD", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Budget set to US$0.10"));
  g_assert_cmpint (run_cli (f, &gen, &gen_err, "generate", "--backend", "dashscope", "--model",
                            "wan2.1-t2v-turbo", "--size", "832x480", "--no-wait", "A quiet harbour at dawn",
                            NULL),
                   ==, 1);
  g_assert_nonnull (strstr (gen_err, "budget"));
  g_assert_cmpuint (fake_dashscope_get_n_creates (f->fake), ==, 0);
}

static void
test_cli_safety_blocks (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL;

  g_assert_cmpint (run_cli (f, &out, &err, "generate", "--backend", "dashscope", "--model",
                            "wan2.1-t2v-turbo", "--size", "832x480", "child porn", NULL),
                   ==, 1);
  g_assert_nonnull (strstr (err, "child porn"));
  g_assert_cmpuint (fake_dashscope_get_n_creates (f->fake), ==, 0);
}

static void
test_cli_backends_unreachable (void)
{
  g_autofree char *dir = g_dir_make_tmp ("takes-cli-backends-XXXXXX", NULL);
  g_autofree char *out = NULL, *err = NULL;
  int status;

  g_setenv ("TAKES_COMFYUI_URL", "http://127.0.0.1:9", TRUE);
  status = cli_run (dir, &out, &err, "backends", "check", "comfyui", NULL);
  g_unsetenv ("TAKES_COMFYUI_URL");
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, "comfyui"));
  g_assert_nonnull (strstr (out, "not reachable"));
  store_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add ("/cli/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("generate/waits-for-the-take", test_cli_generate_waits);
  ADD ("queue/list-move-cancel-run", test_cli_queue_commands);
  ADD ("generate/budget-blocks", test_cli_budget_blocks);
  ADD ("generate/safety-blocks", test_cli_safety_blocks);
#undef ADD
  g_test_add_func ("/cli/backends/not-reachable", test_cli_backends_unreachable);

  return g_test_run ();
}
