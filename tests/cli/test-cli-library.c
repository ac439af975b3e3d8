/* test-cli-library.c: the library commands of takes-cli, end to end, on a
 * throwaway data directory per test. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <sys/resource.h>

#include "cli-test-util.h"
#include "takes-media.h"
#include "takes-store.h"

typedef struct
{
  char *dir;  /* the data directory */
  char *work; /* where the test keeps its own files */
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autofree char *root = g_dir_make_tmp ("takes-cli-XXXXXX", NULL);

  /* The isolated XDG folders keep the desktop trash of these tests away
   * from the real one; they start missing. */
  g_assert_cmpint (g_mkdir_with_parents (g_get_home_dir (), 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_data_dir (), 0700), ==, 0);
  /* GLib isolates only this process; takes-cli inherits the environment. */
  g_setenv ("HOME", g_get_home_dir (), TRUE);
  g_setenv ("XDG_DATA_HOME", g_get_user_data_dir (), TRUE);
  g_assert_nonnull (root);
  f->dir = g_build_filename (root, "library", NULL);
  f->work = g_steal_pointer (&root);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  store_test_rm_rf (f->work);
  g_free (f->dir);
  g_free (f->work);
}

/* A launcher for takes-cli on the fixture's library. LeakSanitizer's
 * summary of matched suppressions would add lines to stderr, whose single
 * line is part of what these tests check. */
static GSubprocessLauncher *
cli_launcher (Fixture *f, GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);
  const char *lsan = g_getenv ("LSAN_OPTIONS");
  g_autofree char *lsan_quiet = g_strdup_printf ("%s%sprint_suppressions=0", lsan != NULL ? lsan : "",
                                                 lsan != NULL && lsan[0] != '\0' ? ":" : "");

  g_subprocess_launcher_setenv (launcher, "TAKES_DATA_DIR", f->dir, TRUE);
  g_subprocess_launcher_setenv (launcher, "LSAN_OPTIONS", lsan_quiet, TRUE);
  return launcher;
}

/* A run that must succeed; returns its stdout. */
static char *
run_ok (Fixture *f, const char *first, ...)
{
  g_autoptr (GPtrArray) args = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  char *out = NULL;
  va_list ap;

  va_start (ap, first);
  args = cli_argv_va (first, ap);
  va_end (ap);

  launcher = cli_launcher (f, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)args->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  if (!g_subprocess_get_if_exited (proc) || g_subprocess_get_exit_status (proc) != 0)
    g_error ("takes-cli %s failed: %s", first, err);
  return out;
}

/* A run that must fail with @status and exactly one line on stderr that
 * contains @fragment; nothing may reach stdout. */
static void
assert_fails (Fixture *f, int status, const char *fragment, const char *first, ...)
{
  g_autoptr (GPtrArray) args = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  va_list ap;

  va_start (ap, first);
  args = cli_argv_va (first, ap);
  va_end (ap);

  launcher = cli_launcher (f, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)args->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  if (g_subprocess_get_exit_status (proc) != status || strstr (err, fragment) == NULL)
    g_error ("takes-cli %s: expected status %d and “%s”, got %d and “%s”", first, status, fragment,
             g_subprocess_get_exit_status (proc), err);
  if (!g_str_has_prefix (err, "takes-cli: ") || strchr (err, '\n') - err != (int)strlen (err) - 1)
    g_error ("takes-cli %s: expected one line on stderr, got “%s”", first, err);
  g_assert_cmpstr (out, ==, "");
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static gint64
count_takes (Fixture *f)
{
  g_autofree char *out = run_ok (f, "list", "--limit", "0", "--json", NULL);
  g_autoptr (JsonNode) root = parse_json (out);

  return json_array_get_length (json_node_get_array (root));
}

static guint
count_media_files (Fixture *f)
{
  g_autofree char *media = g_build_filename (f->dir, "media", NULL);
  g_autoptr (GDir) projects = g_dir_open (media, 0, NULL);
  const char *project;
  guint n = 0;

  while (projects != NULL && (project = g_dir_read_name (projects)) != NULL)
    {
      g_autofree char *path = g_build_filename (media, project, NULL);
      g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);

      while (dir != NULL && g_dir_read_name (dir) != NULL)
        n++;
    }
  return n;
}

/* Encodes a small video; @noise makes it hard to compress, hence large. */
static char *
make_video (Fixture *f,
            const char *name,
            int width,
            int height,
            guint frames,
            const char *recipe_json,
            gboolean noise)
{
  g_autofree char *path = g_build_filename (f->work, name, NULL);
  g_autoptr (TakesMediaEncoder) enc = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  g_autofree guint8 *rgb = g_malloc ((gsize)width * height * 3);

  enc = takes_media_encoder_new (path, width, height, 8, 1, recipe_json, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < frames; i++)
    {
      for (gsize p = 0; p < (gsize)width * height * 3; p++)
        rgb[p] = noise ? (guint8)g_rand_int (rand) : (guint8)(p * 3 + i * 40);
      g_assert_true (takes_media_encoder_push_rgb (enc, rgb, (gsize)width * 3, &error));
      g_assert_no_error (error);
    }
  g_assert_true (takes_media_encoder_finish (enc, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&path);
}

static const char recipe_json[] = "{\"prompt\":\"a red fox running through "
                                  "snow\",\"negative_prompt\":\"blurry\",\"width\":64,\"height\":48,"
                                  "\"frames\":9,\"fps\":8,\"steps\":20,\"seed\":4242,\"model\":\"wan2.1-t2v-"
                                  "1.3b\",\"backend\":\"local\"}";

static gint64
import_plain (Fixture *f, const char *prompt)
{
  g_autofree char *video = make_video (f, "plain.mp4", 64, 48, 9, NULL, FALSE);
  g_autofree char *out = run_ok (f, "import", video, "--prompt", prompt, "--json", NULL);
  g_autoptr (JsonNode) root = parse_json (out);

  return json_object_get_int_member (json_node_get_object (root), "id");
}

/* init ------------------------------------------------------------------------ */

static void
test_cli_library_init (Fixture *f, gconstpointer data)
{
  g_autofree char *first = run_ok (f, "init", NULL);
  g_autofree char *second = run_ok (f, "init", "--json", NULL);
  g_autofree char *db = g_build_filename (f->dir, "library.db", NULL);
  g_autoptr (JsonNode) root = parse_json (second);
  JsonObject *object = json_node_get_object (root);

  g_assert_nonnull (strstr (first, "Created a new library"));
  g_assert_true (g_file_test (db, G_FILE_TEST_IS_REGULAR));
  g_assert_false (json_object_get_boolean_member (object, "created"));
  g_assert_cmpint (json_object_get_int_member (object, "takes"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (object, "projects"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (object, "schema_version"), ==, TAKES_STORE_SCHEMA_VERSION);
  assert_fails (f, 2, "no arguments", "init", "extra", NULL);
}

static void
test_cli_library_needs_init (Fixture *f, gconstpointer data)
{
  g_autofree char *db = g_build_filename (f->dir, "library.db", NULL);

  assert_fails (f, 1, "takes-cli init", "list", NULL);
  assert_fails (f, 1, "takes-cli init", "show", "1", NULL);
  assert_fails (f, 1, "takes-cli init", "db", "check", NULL);
  g_assert_false (g_file_test (db, G_FILE_TEST_EXISTS));
}

/* import ---------------------------------------------------------------------- */

static void
test_cli_library_import_recipe_from_tags (Fixture *f, gconstpointer data)
{
  g_autofree char *video = make_video (f, "fox.mp4", 64, 48, 9, recipe_json, FALSE);
  g_autofree char *init = run_ok (f, "init", NULL);
  g_autofree char *out
      = run_ok (f, "import", video, "--prompt", "fox in snow", "--tag", "hero", "--json", NULL);
  g_autoptr (JsonNode) root = parse_json (out);
  JsonObject *take = json_node_get_object (root);
  JsonObject *recipe = json_object_get_object_member (take, "recipe");
  g_autoptr (TakesRecipe) expected = takes_recipe_new_from_json (recipe_json, -1, NULL);
  g_autofree char *key = takes_recipe_get_cache_key (expected);
  g_autofree char *text = NULL;

  g_assert_cmpint (json_object_get_int_member (recipe, "seed"), ==, 4242);
  g_assert_cmpint (json_object_get_int_member (recipe, "steps"), ==, 20);
  g_assert_cmpstr (json_object_get_string_member (take, "cache_key"), ==, key);
  g_assert_cmpstr (json_object_get_string_member (take, "prompt"), ==, "fox in snow");
  g_assert_cmpstr (json_object_get_string_member (take, "optimized_prompt"), ==,
                   "a red fox running through snow");
  g_assert_cmpstr (json_object_get_string_member (take, "status"), ==, "done");
  g_assert_cmpint (json_object_get_int_member (take, "frames"), ==, 9);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (take, "tags"), 0), ==,
                   "hero");
  g_assert_true (g_file_test (video, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_media_files (f), ==, 1);

  text = run_ok (f, "show", "1", NULL);
  g_assert_nonnull (strstr (text, "Take 1"));
  g_assert_nonnull (strstr (text, "4242"));
}

static void
test_cli_library_import_plain (Fixture *f, gconstpointer data)
{
  g_autofree char *video = make_video (f, "clip.mp4", 96, 64, 5, NULL, FALSE);
  g_autofree char *init = run_ok (f, "init", NULL);
  g_autofree char *out = NULL;
  g_autofree char *moved = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *take;

  assert_fails (f, 2, "--prompt", "import", video, NULL);
  g_assert_cmpint (count_takes (f), ==, 0);

  out = run_ok (f, "import", video, "--prompt", "宇航员在太空中漂浮", "--move", "--json", NULL);
  root = parse_json (out);
  take = json_node_get_object (root);
  g_assert_cmpint (json_object_get_int_member (take, "width"), ==, 96);
  g_assert_cmpint (json_object_get_int_member (take, "height"), ==, 64);
  g_assert_cmpstr (json_object_get_string_member (take, "backend"), ==, "imported");
  g_assert_false (g_file_test (video, G_FILE_TEST_EXISTS));
  moved = g_build_filename (f->dir, json_object_get_string_member (take, "media_path"), NULL);
  g_assert_true (g_file_test (moved, G_FILE_TEST_IS_REGULAR));
}

static void
test_cli_library_import_bad_input (Fixture *f, gconstpointer data)
{
  g_autofree char *init = run_ok (f, "init", NULL);
  g_autofree char *text = g_build_filename (f->work, "notes.mp4", NULL);
  g_autofree char *missing = g_build_filename (f->work, "missing.mp4", NULL);
  g_autofree char *damaged
      = make_video (f, "damaged.mp4", 64, 48, 9, "{\"prompt\":\"x\",\"frames\":\"many\"}", FALSE);
  g_autofree char *odd = make_video (f, "odd.mp4", 64, 48, 9, "{\"prompt\":\"x\",\"frames\":8}", FALSE);
  g_autofree char *plain = make_video (f, "plain.mp4", 64, 48, 9, NULL, FALSE);
  g_autofree char *bad_json = g_build_filename (f->work, "bad.json", NULL);

  g_assert_true (g_file_set_contents (text, "not a video at all\n", -1, NULL));
  g_assert_true (g_file_set_contents (bad_json, "{\"prompt\": \"fox\", ", -1, NULL));

  assert_fails (f, 1, "not a video", "import", text, "--prompt", "x", NULL);
  assert_fails (f, 1, "missing.mp4", "import", missing, "--prompt", "x", NULL);
  assert_fails (f, 1, "", "import", f->work, "--prompt", "x", NULL);
  assert_fails (f, 1, "damaged recipe", "import", damaged, NULL);
  assert_fails (f, 1, "4n+1", "import", odd, NULL);
  assert_fails (f, 1, "not valid JSON", "import", plain, "--recipe", bad_json, NULL);
  assert_fails (f, 1, "There is no project", "import", plain, "--prompt", "x", "--project", "nope", NULL);
  assert_fails (f, 1, "There is no take 99", "import", plain, "--prompt", "x", "--parent", "99", NULL);
  assert_fails (f, 1, "tag is empty", "import", plain, "--prompt", "x", "--tag", " ", NULL);
  assert_fails (f, 2, "exactly one", "import", NULL);

  g_assert_cmpint (count_takes (f), ==, 0);
  g_assert_cmpuint (count_media_files (f), ==, 0);
}

static void
limit_file_size_cb (gpointer user_data)
{
  struct rlimit limit;

  limit.rlim_cur = limit.rlim_max = GPOINTER_TO_SIZE (user_data);
  signal (SIGXFSZ, SIG_IGN);
  setrlimit (RLIMIT_FSIZE, &limit);
}

static void
test_cli_library_import_file_size_limit (Fixture *f, gconstpointer data)
{
  g_autofree char *init = run_ok (f, "init", NULL);
  g_autofree char *video = make_video (f, "noise.mp4", 320, 240, 40, NULL, TRUE);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  GStatBuf st;
  gsize limit;

  g_assert_cmpint (g_stat (video, &st), ==, 0);
  limit = (gsize)st.st_size / 2;
  /* The limit must leave room for the database's own small writes. */
  g_assert_cmpuint (limit, >=, 512 * 1024);

  launcher = cli_launcher (f, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, limit_file_size_cb, GSIZE_TO_POINTER (limit), NULL);
  proc = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("TAKES_CLI"), "import", video, "--prompt",
                                      "noise", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 1);
  g_assert_nonnull (strstr (err, "larger than this system lets a program write"));

  g_assert_cmpint (count_takes (f), ==, 0);
  g_assert_cmpuint (count_media_files (f), ==, 0);
}

/* list and show ------------------------------------------------------------------ */

static GArray *
listed_ids (Fixture *f, const char *first, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autoptr (JsonNode) root = NULL;
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  JsonArray *array;
  va_list ap;

  g_ptr_array_add (args, (gpointer)g_getenv ("TAKES_CLI"));
  g_ptr_array_add (args, "list");
  g_ptr_array_add (args, "--json");
  va_start (ap, first);
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer)arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  launcher = cli_launcher (f, G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)args->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);
  root = parse_json (out);
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      gint64 id = json_object_get_int_member (json_array_get_object_element (array, i), "id");

      g_array_append_val (ids, id);
    }
  return ids;
}

static void
assert_listed (GArray *ids, const gint64 *expected, guint n)
{
  g_assert_cmpuint (ids->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpint (g_array_index (ids, gint64, i), ==, expected[i]);
  g_array_unref (ids);
}

static void
test_cli_library_list_filters (Fixture *f, gconstpointer data)
{
  g_autofree char *init = run_ok (f, "init", NULL);
  gint64 fox = import_plain (f, "a red fox running through snow");
  gint64 cat = import_plain (f, "一只橘猫在雪地里奔跑");
  gint64 boat = import_plain (f, "a paper boat at golden hour");
  g_autofree char *r1 = run_ok (f, "rate", "1", "5", NULL);
  g_autofree char *r2 = run_ok (f, "rate", "2", "3", NULL);
  g_autofree char *d1 = run_ok (f, "decide", "2", "approve", NULL);
  g_autofree char *d2 = run_ok (f, "decide", "reject", "3", NULL);
  g_autofree char *t1 = run_ok (f, "tag", "1", "hero", "client", NULL);
  g_autofree char *table = run_ok (f, "list", NULL);
  g_autofree char *empty = run_ok (f, "list", "--search", "unicorn", NULL);
  g_autofree char *paged = run_ok (f, "list", "--limit", "1", NULL);

  assert_listed (listed_ids (f, NULL), (gint64[]){ boat, cat, fox }, 3);
  assert_listed (listed_ids (f, "--rating", "3", NULL), (gint64[]){ cat, fox }, 2);
  assert_listed (listed_ids (f, "--decision", "approved,rejected", NULL), (gint64[]){ boat, cat }, 2);
  assert_listed (listed_ids (f, "--decision", "none", NULL), (gint64[]){ fox }, 1);
  assert_listed (listed_ids (f, "--tag", "HERO", NULL), (gint64[]){ fox }, 1);
  assert_listed (listed_ids (f, "--status", "done", NULL), (gint64[]){ boat, cat, fox }, 3);
  assert_listed (listed_ids (f, "--status", "queued,failed", NULL), NULL, 0);
  assert_listed (listed_ids (f, "--search", "snow", NULL), (gint64[]){ fox }, 1);
  assert_listed (listed_ids (f, "--search", "橘猫", NULL), (gint64[]){ cat }, 1);
  assert_listed (listed_ids (f, "--search", "雪地里", NULL), (gint64[]){ cat }, 1);
  assert_listed (listed_ids (f, "--project", "default", NULL), (gint64[]){ boat, cat, fox }, 3);
  assert_listed (listed_ids (f, "--sort", "rating", NULL), (gint64[]){ fox, cat, boat }, 3);
  assert_listed (listed_ids (f, "--ascending", "--limit", "2", NULL), (gint64[]){ fox, cat }, 2);
  assert_listed (listed_ids (f, "--offset", "2", NULL), (gint64[]){ fox }, 1);

  g_assert_nonnull (strstr (table, "PROMPT"));
  g_assert_nonnull (strstr (table, "一只橘猫在雪地里奔跑"));
  g_assert_nonnull (strstr (table, "★★★★★"));
  g_assert_nonnull (strstr (empty, "No takes match."));
  g_assert_nonnull (strstr (paged, "--offset 1"));

  assert_fails (f, 2, "not a rating", "list", "--rating", "9", NULL);
  assert_fails (f, 2, "not a status", "list", "--status", "finished", NULL);
  assert_fails (f, 2, "not a decision", "list", "--decision", "maybe", NULL);
  assert_fails (f, 2, "not a sort order", "list", "--sort", "colour", NULL);
  assert_fails (f, 2, "whole numbers", "list", "--limit", "-3", NULL);
  assert_fails (f, 2, "list", "list", "--limit", "many", NULL);
  assert_fails (f, 1, "no project", "list", "--project", "autumn", NULL);
}

static void
test_cli_library_show (Fixture *f, gconstpointer data)
{
  g_autofree char *init = run_ok (f, "init", NULL);
  gint64 id = import_plain (f, "a lighthouse keeper at dawn");
  g_autofree char *child_video = make_video (f, "child.mp4", 64, 48, 9, NULL, FALSE);
  g_autofree char *child = run_ok (f, "import", child_video, "--prompt", "closer", "--parent", "1", NULL);
  g_autofree char *text = run_ok (f, "show", "1", NULL);
  g_autofree char *json = run_ok (f, "show", "2", "--json", NULL);
  g_autoptr (JsonNode) root = parse_json (json);
  JsonObject *object = json_node_get_object (root);

  g_assert_cmpint (id, ==, 1);
  g_assert_nonnull (strstr (text, "a lighthouse keeper at dawn"));
  g_assert_nonnull (strstr (text, "Children    2"));
  g_assert_cmpint (json_array_get_int_element (json_object_get_array_member (object, "ancestors"), 0), ==, 1);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "children")), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (object, "project"), "slug"),
                   ==, "default");
  g_assert_true (g_file_test (json_object_get_string_member (object, "media_file"), G_FILE_TEST_IS_REGULAR));

  assert_fails (f, 1, "There is no take 7", "show", "7", NULL);
  assert_fails (f, 2, "not a take number", "show", "seven", NULL);
  assert_fails (f, 2, "not a take number", "show", "0", NULL);
  assert_fails (f, 2, "one take number", "show", NULL);
}

/* judging ------------------------------------------------------------------------ */

static void
test_cli_library_judge (Fixture *f, gconstpointer data)
{
  g_autofree char *init = run_ok (f, "init", NULL);
  gint64 id = import_plain (f, "two cats playing with yarn");
  g_autofree char *rated = run_ok (f, "rate", "1", "4", NULL);
  g_autofree char *decided = run_ok (f, "decide", "1", "approve", NULL);
  g_autofree char *noted = run_ok (f, "note", "1", "客户喜欢这个版本", NULL);
  g_autofree char *appended = run_ok (f, "note", "1", "keep", "--append", NULL);
  g_autofree char *tagged = run_ok (f, "tag", "1", "hero", "夜景", NULL);
  g_autofree char *untagged = run_ok (f, "tag", "1", "hero", "--remove", NULL);
  g_autofree char *json = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *object;

  g_assert_cmpint (id, ==, 1);
  g_assert_nonnull (strstr (rated, "★★★★☆"));
  g_assert_nonnull (strstr (decided, "approved"));
  g_assert_nonnull (strstr (untagged, "夜景"));

  /* Bad input leaves everything as it was. */
  assert_fails (f, 2, "not a rating", "rate", "1", "6", NULL);
  assert_fails (f, 2, "not a rating", "rate", "1", "four", NULL);
  assert_fails (f, 1, "There is no take 5", "rate", "5", "3", NULL);
  assert_fails (f, 2, "not a verdict", "decide", "1", "maybe", NULL);
  assert_fails (f, 1, "There is no take 5", "decide", "5", "reject", NULL);
  assert_fails (f, 1, "has no tag", "tag", "1", "missing", "--remove", NULL);
  assert_fails (f, 1, "There is no take 5", "tag", "5", "hero", NULL);
  assert_fails (f, 2, "at least one tag", "tag", "1", NULL);
  assert_fails (f, 1, "There is no take 5", "note", "5", "hello", NULL);
  assert_fails (f, 2, "in quotes", "note", "1", NULL);

  json = run_ok (f, "show", "1", "--json", NULL);
  root = parse_json (json);
  object = json_node_get_object (root);
  g_assert_cmpint (json_object_get_int_member (object, "rating"), ==, 4);
  g_assert_cmpstr (json_object_get_string_member (object, "decision"), ==, "approved");
  g_assert_cmpstr (json_object_get_string_member (object, "notes"), ==, "客户喜欢这个版本\nkeep");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "tags")), ==, 1);
}

/* delete ------------------------------------------------------------------------- */

static void
test_cli_library_delete (Fixture *f, gconstpointer data)
{
  g_autofree char *init = run_ok (f, "init", NULL);
  gint64 a = import_plain (f, "first");
  gint64 b = import_plain (f, "second");
  g_autofree char *b_text = g_strdup_printf ("%" G_GINT64_FORMAT, b);
  g_autofree char *trashed = g_build_filename (g_get_user_data_dir (), "Trash", "files", "1.mp4", NULL);
  g_autofree char *out = NULL;

  assert_fails (f, 1, "There is no take 99", "delete", b_text, "99", NULL);
  g_assert_cmpint (count_takes (f), ==, 2);
  g_assert_cmpuint (count_media_files (f), ==, 2);
  assert_fails (f, 2, "not a take number", "delete", "one", NULL);

  out = run_ok (f, "delete", "1", NULL);
  g_assert_nonnull (strstr (out, "Deleted take 1"));
  g_assert_cmpint (a, ==, 1);
  g_assert_cmpint (count_takes (f), ==, 1);
  g_assert_cmpuint (count_media_files (f), ==, 1);
  g_assert_true (g_file_test (trashed, G_FILE_TEST_IS_REGULAR));
  assert_fails (f, 1, "There is no take 1", "show", "1", NULL);
}

/* export ------------------------------------------------------------------------- */

static void
test_cli_library_export (Fixture *f, gconstpointer data)
{
  g_autofree char *init = run_ok (f, "init", NULL);
  g_autofree char *fox_video = make_video (f, "fox.mp4", 64, 48, 9, recipe_json, FALSE);
  g_autofree char *imported = run_ok (f, "import", fox_video, NULL);
  gint64 second = import_plain (f, "second");
  g_autofree char *to = g_build_filename (f->work, "out", NULL);
  g_autofree char *video = g_build_filename (to, "1.mp4", NULL);
  g_autofree char *sidecar = g_build_filename (to, "1.json", NULL);
  g_autofree char *out = run_ok (f, "export", "1", "--to", to, NULL);
  g_autofree char *sidecar_text = NULL;
  g_autofree char *again = NULL;
  g_autofree char *project = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) files = NULL;
  JsonObject *object;

  g_assert_nonnull (strstr (out, "Exported take 1"));
  info = takes_media_probe (video, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->n_frames, ==, 9);
  g_assert_true (g_file_get_contents (sidecar, &sidecar_text, NULL, NULL));
  root = parse_json (sidecar_text);
  object = json_node_get_object (root);
  g_assert_cmpint (json_object_get_int_member (object, "id"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (object, "video"), ==, "1.mp4");
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (object, "recipe"), "seed"), ==,
                   4242);

  /* Nothing is replaced without --force, and nothing half-written stays. */
  g_assert_true (g_file_set_contents (sidecar, "mine", -1, NULL));
  assert_fails (f, 1, "--force", "export", "1", "--to", to, NULL);
  g_clear_pointer (&sidecar_text, g_free);
  g_assert_true (g_file_get_contents (sidecar, &sidecar_text, NULL, NULL));
  g_assert_cmpstr (sidecar_text, ==, "mine");
  again = run_ok (f, "export", "1", "--to", to, "--force", NULL);
  g_assert_nonnull (strstr (again, "Exported take 1"));

  project = run_ok (f, "export", "--project", "default", "--to", to, "--force", NULL);
  g_assert_nonnull (strstr (project, "Exported take 2"));
  g_assert_cmpint (second, ==, 2);
  {
    g_autoptr (GDir) dir = g_dir_open (to, 0, NULL);
    const char *name;
    guint n = 0;

    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_assert_false (g_str_has_suffix (name, ".tmp"));
        n++;
      }
    g_assert_cmpuint (n, ==, 4);
  }

  assert_fails (f, 1, "There is no take 9", "export", "1", "9", "--to", to, NULL);
  assert_fails (f, 2, "--to DIR", "export", "1", NULL);
  assert_fails (f, 2, "not both", "export", "1", "--project", "default", "--to", to, NULL);
  assert_fails (f, 2, "not both", "export", "--to", to, NULL);

  /* A queued take has no video yet. */
  {
    g_autoptr (TakesStore) store = takes_store_open (f->dir, TAKES_STORE_OPEN_EXISTING, &error);
    g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
    g_autoptr (TakesTake) queued = NULL;

    g_assert_no_error (error);
    takes_recipe_set_prompt (recipe, "not made yet");
    queued = takes_take_new (recipe);
    g_assert_true (takes_store_add_take (store, queued, NULL, TAKES_MEDIA_COPY, &error));
    g_assert_no_error (error);
  }
  assert_fails (f, 1, "has no video", "export", "3", "--to", to, NULL);
}

/* db check ------------------------------------------------------------------------ */

static void
test_cli_library_db_check (Fixture *f, gconstpointer data)
{
  g_autofree char *init = run_ok (f, "init", NULL);
  gint64 id = import_plain (f, "checked");
  g_autofree char *clean = run_ok (f, "db", "check", NULL);
  g_autofree char *media = g_build_filename (f->dir, "media", "default", "1.mp4", NULL);
  g_autofree char *stray = g_build_filename (f->dir, "media", "default", "stray.mp4", NULL);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *json = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *object;
  int status;

  g_assert_cmpint (id, ==, 1);
  g_assert_nonnull (strstr (clean, "no problems"));

  g_assert_cmpint (g_unlink (media), ==, 0);
  g_assert_true (g_file_set_contents (stray, "orphan", -1, NULL));
  status = cli_run (f->dir, &out, &err, "db", "check", NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, "2 problems"));
  g_assert_nonnull (strstr (out, "take 1"));
  g_assert_nonnull (strstr (out, "stray.mp4"));
  g_assert_true (g_file_test (stray, G_FILE_TEST_IS_REGULAR));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  launcher = cli_launcher (f, G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  proc
      = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("TAKES_CLI"), "db", "check", "--json", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, &json, NULL, &error);
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 1);
  root = parse_json (json);
  object = json_node_get_object (root);
  g_assert_false (json_object_get_boolean_member (object, "ok"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "issues")), ==, 2);

  /* Other commands still work and mention the problems in one line. */
  status = cli_run (f->dir, &out, &err, "list", NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (err, "db check"));

  assert_fails (f, 2, "needs a sub-command", "db", NULL);
  assert_fails (f, 2, "“db repair” is not a command", "db", "repair", NULL);
}

static void
test_cli_library_help (Fixture *f, gconstpointer data)
{
  static const char *const commands[]
      = { "init", "import", "list", "show", "tag", "rate", "decide", "note", "delete", "export", "db" };
  g_autofree char *usage = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (cli_run (NULL, &usage, &err, "--help", NULL), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      g_autofree char *out = NULL;
      g_autofree char *command_err = NULL;
      g_autofree char *word = g_strdup_printf ("  %s ", commands[i]);

      g_assert_nonnull (strstr (usage, word));
      g_assert_cmpint (cli_run (f->dir, &out, &command_err, commands[i], "--help", NULL), ==, 0);
      g_assert_cmpuint (strlen (out), >, 0);
    }
}

int
main (int argc, char **argv)
{
  g_autofree char *gst_dir = g_dir_make_tmp ("takes-cli-gst-XXXXXX", NULL);
  g_autofree char *registry = g_build_filename (gst_dir, "registry.bin", NULL);
  int result;

  /* One plugin registry for the whole run: with isolated cache folders every
   * takes-cli process would otherwise scan all GStreamer plugins again. */
  g_setenv ("GST_REGISTRY", registry, TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func)                                                                                      \
  g_test_add ("/cli/library/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("init/creates-then-reopens", test_cli_library_init);
  ADD ("init/needed-before-other-commands", test_cli_library_needs_init);
  ADD ("import/recipe-from-tags", test_cli_library_import_recipe_from_tags);
  ADD ("import/plain-video-needs-prompt", test_cli_library_import_plain);
  ADD ("import/bad-input-changes-nothing", test_cli_library_import_bad_input);
  ADD ("import/file-size-limit", test_cli_library_import_file_size_limit);
  ADD ("list/filters-sort-paging", test_cli_library_list_filters);
  ADD ("show/text-json-and-lineage", test_cli_library_show);
  ADD ("judge/rate-decide-note-tag", test_cli_library_judge);
  ADD ("delete/moves-video-to-trash", test_cli_library_delete);
  ADD ("export/video-and-sidecar", test_cli_library_export);
  ADD ("db/check-reports-problems", test_cli_library_db_check);
  ADD ("help/every-command", test_cli_library_help);
#undef ADD
  result = g_test_run ();
  store_test_rm_rf (gst_dir);
  return result;
}
