#include "config.h"

#include <signal.h>
#include <unistd.h>
#include <sys/resource.h>

#include "takes-store-private.h"
#include "takes-store.h"
#include "test-store-util.h"

typedef StoreTestFixture Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  /* The isolated XDG folders start missing; the desktop trash needs one. */
  g_assert_cmpint (g_mkdir_with_parents (g_get_home_dir (), 0700), ==, 0);
  g_assert_cmpint (g_mkdir_with_parents (g_get_user_data_dir (), 0700), ==, 0);
  store_test_fixture_set_up (f, data);
}

static void
reopen (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  g_assert_finalize_object (g_steal_pointer (&f->store));
  f->store = takes_store_open (f->dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
}

static gint64
add_take (Fixture *f, const char *prompt)
{
  g_autoptr (TakesTake) take = store_test_take (prompt);
  g_autoptr (GError) error = NULL;

  g_assert_true (takes_store_add_take (f->store, take, NULL, TAKES_MEDIA_COPY, &error));
  g_assert_no_error (error);
  return takes_take_get_id (take);
}

static gint64
add_take_with_file (Fixture *f, const char *prompt, gsize size)
{
  g_autoptr (TakesTake) take = store_test_take (prompt);
  g_autoptr (GError) error = NULL;
  g_autofree char *source = g_build_filename (f->dir, "source.mp4", NULL);

  store_test_write_file (source, size);
  takes_take_set_status (take, TAKES_TAKE_STATUS_DONE);
  g_assert_true (takes_store_add_take (f->store, take, source, TAKES_MEDIA_MOVE, &error));
  g_assert_no_error (error);
  return takes_take_get_id (take);
}

static gint64
count (Fixture *f, const char *sql)
{
  return store_test_query_int (f->dir, sql);
}

/* Schema and migrations ---------------------------------------------------- */

static void
test_store_schema_create (Fixture *f, gconstpointer data)
{
  static const char *const tables[] = { "projects", "shots",   "takes",      "tags",   "comparisons",
                                        "jobs",     "batches", "safety_log", "ledger", "takes_fts" };
  g_autoptr (GPtrArray) projects = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (takes_store_get_schema_version (f->store), ==, TAKES_STORE_SCHEMA_VERSION);
  g_assert_cmpint (count (f, "PRAGMA user_version"), ==, TAKES_STORE_SCHEMA_VERSION);
  g_assert_cmpint (count (f, "PRAGMA application_id"), ==, 0x54414b45);
  g_assert_cmpint (count (f, "SELECT count(*) FROM pragma_journal_mode WHERE journal_mode = 'wal'"), ==, 1);
  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autofree char *sql
          = g_strdup_printf ("SELECT count(*) FROM sqlite_master WHERE name = '%s'", tables[i]);

      g_assert_cmpint (count (f, sql), ==, 1);
    }
  g_assert_cmpint (count (f, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'"), ==, 3);

  projects = takes_store_list_projects (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (projects->len, ==, 1);
  g_assert_cmpint (((TakesProject *)projects->pdata[0])->id, ==, takes_store_get_default_project (f->store));
  g_assert_cmpstr (((TakesProject *)projects->pdata[0])->slug, ==, "default");
  g_assert_cmpuint (takes_store_get_open_issues (f->store)->len, ==, 0);
}

static void
test_store_migrate_from_every_version (void)
{
  for (guint version = 0; version < TAKES_STORE_SCHEMA_VERSION; version++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesStore) store = NULL;
      g_autofree char *dir = g_dir_make_tmp ("takes-migrate-XXXXXX", NULL);
      g_autofree char *db = g_build_filename (dir, "library.db", NULL);

      g_assert_true (takes_store_create_at_version (db, version, &error));
      g_assert_no_error (error);
      g_assert_cmpint (store_test_query_int (dir, "PRAGMA user_version"), ==, version);

      store = takes_store_open (dir, TAKES_STORE_OPEN_EXISTING, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (takes_store_get_schema_version (store), ==, TAKES_STORE_SCHEMA_VERSION);
      g_assert_cmpint (store_test_query_int (dir, "SELECT count(*) FROM projects WHERE slug = 'default'"), ==,
                       1);
      g_assert_finalize_object (g_steal_pointer (&store));
      store_test_rm_rf (dir);
    }
}

static void
test_store_migrate_from_empty (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-migrate-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "library.db", NULL);

  /* A zero-length file is what SQLite itself calls an empty database. */
  g_assert_true (g_file_set_contents (db, "", 0, NULL));
  store = takes_store_open (dir, TAKES_STORE_OPEN_EXISTING, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (takes_store_get_schema_version (store), ==, TAKES_STORE_SCHEMA_VERSION);
  g_assert_finalize_object (g_steal_pointer (&store));
  store_test_rm_rf (dir);
}

static char *
file_checksum (const char *path)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *)contents, length);
}

static void
test_store_migrate_refuses_newer (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = NULL;
  g_autofree char *db = g_build_filename (f->dir, "library.db", NULL);
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;

  g_assert_finalize_object (g_steal_pointer (&f->store));
  store_test_exec (f->dir, "PRAGMA journal_mode = DELETE; PRAGMA user_version = 99;");
  before = file_checksum (db);

  store = takes_store_open (f->dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_null (store);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_TOO_NEW);
  g_assert_nonnull (strstr (error->message, "newer version"));
  g_assert_nonnull (strstr (error->message, "99"));

  after = file_checksum (db);
  g_assert_cmpstr (before, ==, after);
  g_assert_cmpint (count (f, "PRAGMA user_version"), ==, 99);
}

static void
test_store_open_not_a_database (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-open-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "library.db", NULL);
  g_autofree char *contents = NULL;
  const char *text = "These are my notes, not a database. They must survive being opened.\n";

  g_assert_true (g_file_set_contents (db, text, -1, NULL));
  store = takes_store_open (dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_null (store);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "not a Takes library"));
  g_assert_true (g_file_get_contents (db, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, text);
  store_test_rm_rf (dir);
}

static void
test_store_open_foreign_database (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-open-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "library.db", NULL);
  sqlite3 *raw = NULL;

  g_assert_cmpint (sqlite3_open (db, &raw), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (raw, "CREATE TABLE recipes (id INTEGER); INSERT INTO recipes VALUES (1);",
                                 NULL, NULL, NULL),
                   ==, SQLITE_OK);
  sqlite3_close (raw);

  store = takes_store_open (dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_null (store);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_CORRUPT);
  g_assert_cmpint (store_test_query_int (dir, "SELECT count(*) FROM sqlite_master"), ==, 1);
  g_assert_cmpint (store_test_query_int (dir, "SELECT count(*) FROM recipes"), ==, 1);
  store_test_rm_rf (dir);
}

static void
test_store_open_existing_only (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesStore) store = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-open-XXXXXX", NULL);
  g_autofree char *db = g_build_filename (dir, "library.db", NULL);

  store = takes_store_open (dir, TAKES_STORE_OPEN_EXISTING, &error);
  g_assert_null (store);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NO_LIBRARY);
  g_assert_nonnull (strstr (error->message, "takes-cli init"));
  g_assert_false (g_file_test (db, G_FILE_TEST_EXISTS));
  store_test_rm_rf (dir);
}

/* Adding and reading takes ---------------------------------------------------- */

static void
test_store_takes_add_and_get (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (TakesTake) back = NULL;
  g_autoptr (JsonObject) variables = json_object_new ();
  g_autoptr (GError) error = NULL;
  gint64 before = g_get_real_time ();

  takes_recipe_set_prompt (recipe, "a neon city street in the rain");
  takes_recipe_set_negative_prompt (recipe, "blurry");
  takes_recipe_set_seed (recipe, 1234);
  take = takes_take_new (recipe);
  takes_take_set_prompt (take, "neon street");
  takes_take_set_optimized_prompt (take, "a neon city street in the rain");
  takes_take_set_seconds_spent (take, 12.5);
  takes_take_set_cost (take, 0.35);
  takes_take_set_is_tiny (take, TRUE);
  json_object_set_string_member (variables, "weather", "rain");
  takes_take_set_variables (take, variables);

  g_assert_true (takes_store_add_take (f->store, take, NULL, TAKES_MEDIA_COPY, &error));
  g_assert_no_error (error);
  g_assert_cmpint (takes_take_get_id (take), >, 0);
  g_assert_cmpint (takes_take_get_project_id (take), ==, takes_store_get_default_project (f->store));
  g_assert_cmpint (takes_take_get_created (take), >=, before);

  reopen (f);
  back = takes_store_get_take (f->store, takes_take_get_id (take), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (takes_take_get_recipe_json (back), ==, takes_take_get_recipe_json (take));
  g_assert_cmpstr (takes_take_get_cache_key (back), ==, takes_take_get_cache_key (take));
  g_assert_true (takes_recipe_equal (takes_take_get_recipe (back), recipe));
  g_assert_cmpstr (takes_take_get_prompt (back), ==, "neon street");
  g_assert_cmpstr (takes_take_get_optimized_prompt (back), ==, "a neon city street in the rain");
  g_assert_cmpstr (takes_take_get_negative_prompt (back), ==, "blurry");
  g_assert_cmpstr (takes_take_get_backend (back), ==, "local");
  g_assert_cmpint (takes_take_get_status (back), ==, TAKES_TAKE_STATUS_QUEUED);
  g_assert_null (takes_take_get_media_path (back));
  g_assert_cmpuint (takes_take_get_width (back), ==, 832);
  g_assert_cmpuint (takes_take_get_frames (back), ==, 81);
  g_assert_cmpfloat (takes_take_get_fps (back), ==, 16.0);
  g_assert_cmpfloat (takes_take_get_seconds_spent (back), ==, 12.5);
  g_assert_cmpfloat (takes_take_get_cost (back), ==, 0.35);
  g_assert_true (takes_take_get_is_tiny (back));
  g_assert_cmpstr (json_object_get_string_member (takes_take_get_variables (back), "weather"), ==, "rain");
  g_assert_cmpint (takes_take_get_created (back), ==, takes_take_get_created (take));
  g_assert_cmpuint (g_strv_length ((GStrv)takes_take_get_tags (back)), ==, 0);
}

static void
test_store_takes_media_copy (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesTake) take = store_test_take ("two cats playing with yarn");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) files = NULL;
  g_autofree char *source = g_build_filename (f->dir, "incoming.MP4", NULL);
  g_autofree char *media = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;

  store_test_write_file (source, 300000);
  g_assert_true (takes_store_add_take (f->store, take, source, TAKES_MEDIA_COPY, &error));
  g_assert_no_error (error);

  expected = g_strdup_printf ("media/default/%" G_GINT64_FORMAT ".mp4", takes_take_get_id (take));
  g_assert_cmpstr (takes_take_get_media_path (take), ==, expected);
  media = takes_store_get_media_file (f->store, take);
  a = file_checksum (source);
  b = file_checksum (media);
  g_assert_cmpstr (a, ==, b);

  /* The source stays, and no temporary file is left in the library. */
  files = store_test_list_files (f->dir);
  for (guint i = 0; i < files->len; i++)
    g_assert_false (g_str_has_suffix (files->pdata[i], ".tmp"));
  g_assert_true (g_file_test (source, G_FILE_TEST_EXISTS));
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes WHERE media_path IS NOT NULL"), ==, 1);
}

static void
test_store_takes_media_move (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *media = NULL;
  gint64 id = add_take_with_file (f, "a paper boat drifting on a river", 4096);
  g_autofree char *source = g_build_filename (f->dir, "source.mp4", NULL);

  take = takes_store_get_take (f->store, id, &error);
  g_assert_no_error (error);
  media = takes_store_get_media_file (f->store, take);
  g_assert_true (g_file_test (media, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (source, G_FILE_TEST_EXISTS));
}

static void
test_store_takes_missing_source (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesTake) take = store_test_take ("a lighthouse keeper");
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) files = NULL;
  g_autofree char *source = g_build_filename (f->dir, "nowhere.mp4", NULL);

  g_assert_false (takes_store_add_take (f->store, take, source, TAKES_MEDIA_COPY, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_MEDIA);
  g_assert_cmpint (takes_take_get_id (take), ==, 0);
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes"), ==, 0);
  files = store_test_list_files (f->dir);
  for (guint i = 0; i < files->len; i++)
    g_assert_false (g_str_has_prefix (files->pdata[i], "media"));
}

static void
test_store_takes_unknown_links (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesTake) take = store_test_take ("a red fox");
  g_autoptr (TakesTake) other = store_test_take ("a red fox");
  g_autoptr (TakesProject) project = NULL;
  g_autoptr (TakesShot) shot = NULL;
  g_autoptr (GError) error = NULL;

  takes_take_set_parent_id (take, 999);
  g_assert_false (takes_store_add_take (f->store, take, NULL, TAKES_MEDIA_COPY, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "999"));
  g_clear_error (&error);

  project = takes_store_create_project (f->store, "Spring campaign", &error);
  g_assert_no_error (error);
  shot = takes_store_create_shot (f->store, project->id, "Opening", "a field of tulips", &error);
  g_assert_no_error (error);
  takes_take_set_shot_id (other, shot->id);
  g_assert_false (takes_store_add_take (f->store, other, NULL, TAKES_MEDIA_COPY, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "another project"));
  g_clear_error (&error);

  takes_take_set_project_id (other, 12345);
  g_assert_false (takes_store_add_take (f->store, other, NULL, TAKES_MEDIA_COPY, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes"), ==, 0);
}

static void
test_store_takes_update (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (TakesTake) back = NULL;
  g_autoptr (TakesRecipe) recipe = NULL;
  g_autoptr (GError) error = NULL;
  gint64 a = add_take (f, "an astronaut floating in space");
  gint64 b = add_take (f, "an astronaut floating in space, closer");

  take = takes_store_get_take (f->store, a, &error);
  g_assert_no_error (error);
  recipe = takes_recipe_copy (takes_take_get_recipe (take));
  takes_recipe_set_seed (recipe, 77);
  takes_take_set_recipe (take, recipe);
  takes_take_set_status (take, TAKES_TAKE_STATUS_FAILED);
  takes_take_set_parent_id (take, b);
  takes_take_set_video_info (take, 64, 48, 9, 8.0, 1125000);
  g_assert_true (takes_store_update_take (f->store, take, &error));
  g_assert_no_error (error);

  back = takes_store_get_take (f->store, a, &error);
  g_assert_no_error (error);
  g_assert_cmpint (takes_take_get_status (back), ==, TAKES_TAKE_STATUS_FAILED);
  g_assert_cmpint (takes_take_get_parent_id (back), ==, b);
  g_assert_cmpint (takes_recipe_get_seed (takes_take_get_recipe (back)), ==, 77);
  g_assert_cmpstr (takes_take_get_cache_key (back), ==, takes_take_get_cache_key (take));
  g_assert_cmpuint (takes_take_get_width (back), ==, 64);
  g_assert_cmpint (takes_take_get_duration (back), ==, 1125000);
  g_clear_object (&back);

  /* b cannot take a as its parent: a already descends from b. */
  back = takes_store_get_take (f->store, b, &error);
  g_assert_no_error (error);
  takes_take_set_parent_id (back, a);
  g_assert_false (takes_store_update_take (f->store, back, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes WHERE parent_id IS NOT NULL"), ==, 1);
}

static void
test_store_takes_attach_media (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *source = g_build_filename (f->dir, "render.mp4", NULL);
  gint64 id = add_take (f, "golden hour over the sea");

  store_test_write_file (source, 1000);
  g_assert_true (takes_store_attach_media (f->store, id, source, TAKES_MEDIA_COPY, &error));
  g_assert_no_error (error);
  take = takes_store_get_take (f->store, id, &error);
  g_assert_no_error (error);
  g_assert_nonnull (takes_take_get_media_path (take));

  g_assert_false (takes_store_attach_media (f->store, id, source, TAKES_MEDIA_COPY, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (takes_store_attach_media (f->store, 999, source, TAKES_MEDIA_COPY, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes WHERE media_path IS NOT NULL"), ==, 1);
}

static void
test_store_takes_find_cached (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesTake) queued = store_test_take ("a fox at dawn");
  g_autoptr (TakesTake) hit = NULL;
  g_autoptr (GError) error = NULL;
  gint64 done;

  g_assert_true (takes_store_add_take (f->store, queued, NULL, TAKES_MEDIA_COPY, &error));
  hit = takes_store_find_cached (f->store, takes_take_get_cache_key (queued), &error);
  g_assert_no_error (error);
  g_assert_null (hit);

  done = add_take_with_file (f, "a fox at dawn", 100);
  hit = takes_store_find_cached (f->store, takes_take_get_cache_key (queued), &error);
  g_assert_no_error (error);
  g_assert_nonnull (hit);
  g_assert_cmpint (takes_take_get_id (hit), ==, done);
}

static void
test_store_takes_add_many_all_or_nothing (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) takes = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *prompt = g_strdup_printf ("variant %u of a coffee ad", i);

      g_ptr_array_add (takes, store_test_take (prompt));
    }
  takes_take_set_batch_id (takes->pdata[30], 4242);
  g_assert_false (takes_store_add_takes (f->store, takes, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes"), ==, 0);
  g_assert_cmpint (takes_take_get_id (takes->pdata[0]), ==, 0);
  g_clear_error (&error);

  takes_take_set_batch_id (takes->pdata[30], 0);
  g_assert_true (takes_store_add_takes (f->store, takes, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes"), ==, 50);
  for (guint i = 1; i < takes->len; i++)
    g_assert_cmpint (takes_take_get_id (takes->pdata[i]), ==, takes_take_get_id (takes->pdata[i - 1]) + 1);
}

/* Queries ----------------------------------------------------------------------- */

static GArray *
query_ids (Fixture *f, const TakesTakeQuery *query)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) takes = takes_store_query_takes (f->store, query, &error);
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint64 n = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < takes->len; i++)
    {
      gint64 id = takes_take_get_id (takes->pdata[i]);

      g_array_append_val (ids, id);
    }
  if (query->limit == 0 && query->offset == 0)
    {
      g_assert_true (takes_store_count_takes (f->store, query, &n, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (n, ==, ids->len);
    }
  return ids;
}

static void
assert_ids (GArray *ids, const gint64 *expected, guint n_expected)
{
  g_assert_cmpuint (ids->len, ==, n_expected);
  for (guint i = 0; i < n_expected; i++)
    g_assert_cmpint (g_array_index (ids, gint64, i), ==, expected[i]);
}

static void
test_store_query_filters (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesProject) project = NULL;
  g_autoptr (TakesShot) shot = NULL;
  g_autoptr (TakesBatch) batch = NULL;
  g_autoptr (TakesTake) in_project = store_test_take ("a tulip field");
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) ids = NULL;
  TakesTakeQuery q;
  gint64 t1 = add_take (f, "one");
  gint64 t2 = add_take (f, "two");
  gint64 t3 = add_take (f, "three");
  gint64 t4;

  project = takes_store_create_project (f->store, "Spring", &error);
  g_assert_no_error (error);
  shot = takes_store_create_shot (f->store, project->id, "Tulips", NULL, &error);
  g_assert_no_error (error);
  batch = takes_store_create_batch (f->store, project->id, "colours", "a {colour} tulip field", NULL, &error);
  g_assert_no_error (error);
  {
    g_autoptr (TakesRecipe) recipe = takes_recipe_copy (takes_take_get_recipe (in_project));

    takes_recipe_set_backend (recipe, "comfyui");
    takes_take_set_recipe (in_project, recipe);
  }
  takes_take_set_project_id (in_project, project->id);
  takes_take_set_shot_id (in_project, shot->id);
  takes_take_set_batch_id (in_project, batch->id);
  takes_take_set_parent_id (in_project, t1);
  g_assert_true (takes_store_add_take (f->store, in_project, NULL, TAKES_MEDIA_COPY, &error));
  g_assert_no_error (error);
  t4 = takes_take_get_id (in_project);

  g_assert_true (takes_store_set_rating (f->store, t1, 5, NULL));
  g_assert_true (takes_store_set_rating (f->store, t2, 3, NULL));
  g_assert_true (takes_store_set_decision (f->store, t2, TAKES_DECISION_APPROVED, NULL));
  g_assert_true (takes_store_set_decision (f->store, t3, TAKES_DECISION_REJECTED, NULL));
  g_assert_true (takes_store_add_tag (f->store, t3, "Hero", NULL));
  g_assert_true (takes_store_add_tag (f->store, t4, "hero", NULL));

  takes_take_query_init (&q);
  ids = query_ids (f, &q);
  assert_ids (ids, (gint64[]){ t4, t3, t2, t1 }, 4);
  g_clear_pointer (&ids, g_array_unref);

  takes_take_query_init (&q);
  q.project_id = project->id;
  ids = query_ids (f, &q);
  assert_ids (ids, (gint64[]){ t4 }, 1);
  g_clear_pointer (&ids, g_array_unref);

  takes_take_query_init (&q);
  q.shot_id = shot->id;
  q.batch_id = batch->id;
  q.parent_id = t1;
  ids = query_ids (f, &q);
  assert_ids (ids, (gint64[]){ t4 }, 1);
  g_clear_pointer (&ids, g_array_unref);

  takes_take_query_init (&q);
  q.tag = "HERO";
  ids = query_ids (f, &q);
  assert_ids (ids, (gint64[]){ t4, t3 }, 2);
  g_clear_pointer (&ids, g_array_unref);

  takes_take_query_init (&q);
  q.min_rating = 3;
  ids = query_ids (f, &q);
  assert_ids (ids, (gint64[]){ t2, t1 }, 2);
  g_clear_pointer (&ids, g_array_unref);

  takes_take_query_init (&q);
  q.backend = "comfyui";
  ids = query_ids (f, &q);
  assert_ids (ids, (gint64[]){ t4 }, 1);
  g_clear_pointer (&ids, g_array_unref);
  q.backend = "no-such-backend";
  ids = query_ids (f, &q);
  g_assert_cmpuint (ids->len, ==, 0);
  g_clear_pointer (&ids, g_array_unref);

  takes_take_query_init (&q);
  q.decision_mask = 1u << TAKES_DECISION_APPROVED | 1u << TAKES_DECISION_REJECTED;
  ids = query_ids (f, &q);
  assert_ids (ids, (gint64[]){ t3, t2 }, 2);
  g_clear_pointer (&ids, g_array_unref);

  takes_take_query_init (&q);
  q.status_mask = 1u << TAKES_TAKE_STATUS_DONE;
  ids = query_ids (f, &q);
  g_assert_cmpuint (ids->len, ==, 0);
  g_clear_pointer (&ids, g_array_unref);

  takes_take_query_init (&q);
  q.status_mask = 1u << TAKES_TAKE_STATUS_QUEUED;
  q.decision_mask = 1u << TAKES_DECISION_NONE;
  q.min_rating = 5;
  ids = query_ids (f, &q);
  assert_ids (ids, (gint64[]){ t1 }, 1);
  g_clear_pointer (&ids, g_array_unref);

  takes_take_query_init (&q);
  q.min_rating = 6;
  g_assert_null (takes_store_query_takes (f->store, &q, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
}

static void
test_store_query_sort_and_paging (Fixture *f, gconstpointer data)
{
  g_autoptr (GArray) ids = NULL;
  gint64 t[7];
  TakesTakeQuery q;

  for (guint i = 0; i < G_N_ELEMENTS (t); i++)
    {
      g_autofree char *prompt = g_strdup_printf ("shot %u", i);

      t[i] = add_take (f, prompt);
    }
  g_assert_true (takes_store_set_rating (f->store, t[2], 4, NULL));
  g_assert_true (takes_store_set_rating (f->store, t[5], 4, NULL));
  g_assert_true (takes_store_set_rating (f->store, t[0], 1, NULL));

  takes_take_query_init (&q);
  q.limit = 3;
  ids = query_ids (f, &q);
  assert_ids (ids, (gint64[]){ t[6], t[5], t[4] }, 3);
  g_clear_pointer (&ids, g_array_unref);

  q.offset = 3;
  ids = query_ids (f, &q);
  assert_ids (ids, (gint64[]){ t[3], t[2], t[1] }, 3);
  g_clear_pointer (&ids, g_array_unref);

  q.offset = 6;
  ids = query_ids (f, &q);
  assert_ids (ids, (gint64[]){ t[0] }, 1);
  g_clear_pointer (&ids, g_array_unref);

  takes_take_query_init (&q);
  q.ascending = TRUE;
  q.limit = 2;
  ids = query_ids (f, &q);
  assert_ids (ids, (gint64[]){ t[0], t[1] }, 2);
  g_clear_pointer (&ids, g_array_unref);

  takes_take_query_init (&q);
  q.sort = TAKES_TAKE_SORT_RATING;
  q.limit = 3;
  ids = query_ids (f, &q);
  assert_ids (ids, (gint64[]){ t[5], t[2], t[0] }, 3);
  g_clear_pointer (&ids, g_array_unref);

  /* The last take touched comes first when sorting by update. */
  g_usleep (2000);
  g_assert_true (takes_store_set_notes (f->store, t[3], "keep", NULL));
  takes_take_query_init (&q);
  q.sort = TAKES_TAKE_SORT_UPDATED;
  q.limit = 1;
  ids = query_ids (f, &q);
  assert_ids (ids, (gint64[]){ t[3] }, 1);
}

/* Reads every take of @query a page of @page_size at a time, each page
 * continuing after the last take of the one before, and checks each page
 * against the same page read with OFFSET. */
static GArray *
keyset_ids (Fixture *f, const TakesTakeQuery *query, guint page_size)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  TakesTakeCursor cursor = { 0 };
  gboolean started = FALSE;

  for (;;)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) page = NULL;
      g_autoptr (GArray) by_offset = NULL;
      TakesTakeQuery q = *query;

      q.limit = page_size;
      page = takes_store_query_takes_after (f->store, &q, started ? &cursor : NULL, &error);
      g_assert_no_error (error);
      q.offset = ids->len;
      by_offset = query_ids (f, &q);
      g_assert_cmpuint (page->len, ==, by_offset->len);
      for (guint i = 0; i < page->len; i++)
        {
          gint64 id = takes_take_get_id (page->pdata[i]);

          g_assert_cmpint (id, ==, g_array_index (by_offset, gint64, i));
          g_array_append_val (ids, id);
        }
      if (page->len < page_size)
        break;
      takes_take_cursor_set (&cursor, query->sort, page->pdata[page->len - 1]);
      started = TRUE;
    }
  return ids;
}

static void
test_store_query_keyset_matches_offset (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) takes = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;
  const char *texts[] = { NULL, "fox", "\"red fox\"" };
  const char *tags[] = { NULL, "hero" };
  const guint min_ratings[] = { 0, 2 };
  const guint decisions[] = { 0, 1 << TAKES_DECISION_NONE };
  guint n_queries = 0;

  /* Added in one transaction, the takes share their creation and update
   * times; durations and ratings repeat, so every sort has long runs of
   * equal keys that only the id breaks. */
  for (guint i = 0; i < 160; i++)
    {
      g_autofree char *prompt = g_strdup_printf ("%s %u", i % 4 == 0 ? "a red fox" : "a grey cat", i);
      TakesTake *take = store_test_take (prompt);

      takes_take_set_video_info (take, 64, 64, 9, 16.0, (gint64)(i % 5) * G_USEC_PER_SEC);
      if (i % 3 == 0)
        takes_take_set_tags (take, (const char *const[]){ "hero", NULL });
      g_ptr_array_add (takes, take);
    }
  g_assert_true (takes_store_add_takes (f->store, takes, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < takes->len; i += 2)
    g_assert_true (takes_store_set_rating (f->store, takes_take_get_id (takes->pdata[i]), i % 6, NULL));
  g_assert_true (takes_store_set_decision (f->store, takes_take_get_id (takes->pdata[7]),
                                           TAKES_DECISION_APPROVED, NULL));

  for (TakesTakeSort sort = TAKES_TAKE_SORT_CREATED; sort <= TAKES_TAKE_SORT_DURATION; sort++)
    for (guint asc = 0; asc < 2; asc++)
      for (guint t = 0; t < G_N_ELEMENTS (texts); t++)
        for (guint g = 0; g < G_N_ELEMENTS (tags); g++)
          for (guint r = 0; r < G_N_ELEMENTS (min_ratings); r++)
            for (guint d = 0; d < G_N_ELEMENTS (decisions); d++)
              {
                g_autoptr (GArray) all = NULL;
                g_autoptr (GArray) paged = NULL;
                TakesTakeQuery q;

                takes_take_query_init (&q);
                q.sort = sort;
                q.ascending = asc;
                q.text = texts[t];
                q.tag = tags[g];
                q.min_rating = min_ratings[r];
                q.decision_mask = decisions[d];
                all = query_ids (f, &q);
                paged = keyset_ids (f, &q, 7);
                g_assert_cmpuint (paged->len, ==, all->len);
                g_assert_cmpmem (paged->data, paged->len * sizeof (gint64), all->data,
                                 all->len * sizeof (gint64));
                if (t == 0 && g == 0 && r == 0 && d == 0)
                  g_assert_cmpuint (all->len, ==, 160);
                n_queries++;
              }
  g_assert_cmpuint (n_queries, ==, 4 * 2 * 3 * 2 * 2 * 2);
}

static void
test_store_query_keyset_with_offset (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) first = NULL;
  g_autoptr (GPtrArray) after = NULL;
  g_autoptr (GArray) by_offset = NULL;
  g_autoptr (GError) error = NULL;
  TakesTakeCursor cursor;
  TakesTakeQuery q;

  for (guint i = 0; i < 40; i++)
    {
      g_autofree char *prompt = g_strdup_printf ("shot %u", i);
      gint64 id = add_take (f, prompt);

      g_assert_true (takes_store_set_rating (f->store, id, i % 3, NULL));
    }

  /* A jump past pages never read: the last cursor known, then an offset. */
  takes_take_query_init (&q);
  q.sort = TAKES_TAKE_SORT_RATING;
  q.limit = 10;
  first = takes_store_query_takes_after (f->store, &q, NULL, &error);
  g_assert_no_error (error);
  takes_take_cursor_set (&cursor, q.sort, first->pdata[9]);
  g_assert_cmpint (cursor.key, ==, takes_take_get_rating (first->pdata[9]));
  g_assert_cmpint (cursor.id, ==, takes_take_get_id (first->pdata[9]));
  q.offset = 12;
  after = takes_store_query_takes_after (f->store, &q, &cursor, &error);
  g_assert_no_error (error);
  q.offset = 22;
  by_offset = query_ids (f, &q);
  g_assert_cmpuint (after->len, ==, 10);
  g_assert_cmpuint (by_offset->len, ==, 10);
  for (guint i = 0; i < after->len; i++)
    g_assert_cmpint (takes_take_get_id (after->pdata[i]), ==, g_array_index (by_offset, gint64, i));

  /* Past the end there is nothing, and no error. */
  takes_take_query_init (&q);
  takes_take_cursor_set (&cursor, q.sort, first->pdata[0]);
  cursor.id = 0;
  g_clear_pointer (&after, g_ptr_array_unref);
  after = takes_store_query_takes_after (f->store, &q, &cursor, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (after->len, ==, 0);
}

static void
test_store_open_read_only (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesStore) reader = NULL;
  g_autoptr (TakesStore) missing = NULL;
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *nowhere = g_build_filename (f->dir, "nowhere", NULL);
  TakesTakeQuery q;
  gint64 id;

  add_take (f, "before the reader");
  reader = takes_store_open (f->dir, TAKES_STORE_OPEN_READ_ONLY, &error);
  g_assert_no_error (error);
  g_assert_cmpint (takes_store_get_default_project (reader), ==, takes_store_get_default_project (f->store));

  /* The writer keeps writing; the reader sees each commit. */
  id = add_take (f, "after the reader");
  takes_take_query_init (&q);
  takes = takes_store_query_takes (reader, &q, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (takes->len, ==, 2);
  g_assert_cmpint (takes_take_get_id (takes->pdata[0]), ==, id);

  g_assert_false (takes_store_set_rating (reader, id, 3, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == TAKES_STORE_ERROR);
  g_clear_error (&error);
  g_assert_false (takes_store_set_notes (reader, id, "no", &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  /* A second writer shares the library without redoing what opening did. */
  {
    g_autoptr (TakesStore) writer = takes_store_open (f->dir, TAKES_STORE_OPEN_SECONDARY, &error);
    g_autoptr (TakesTake) seen = NULL;

    g_assert_no_error (error);
    g_assert_true (takes_store_set_rating (writer, id, 3, &error));
    g_assert_no_error (error);
    seen = takes_store_get_take (f->store, id, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (takes_take_get_rating (seen), ==, 3);
  }

  missing = takes_store_open (nowhere, TAKES_STORE_OPEN_READ_ONLY, &error);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NO_LIBRARY);
  g_assert_null (missing);
  g_assert_false (g_file_test (nowhere, G_FILE_TEST_EXISTS));
}

/* Full-text search ------------------------------------------------------------- */

static GArray *
search (Fixture *f, const char *text)
{
  TakesTakeQuery q;

  takes_take_query_init (&q);
  q.text = text;
  return query_ids (f, &q);
}

static void
assert_search (Fixture *f, const char *text, const gint64 *expected, guint n)
{
  g_autoptr (GArray) ids = search (f, text);

  if (ids->len != n)
    g_error ("searching “%s” found %u takes, expected %u", text, ids->len, n);
  assert_ids (ids, expected, n);
}

static void
test_store_search_english (Fixture *f, gconstpointer data)
{
  gint64 fox = add_take (f, "A red fox running through fresh snow, cinematic lighting");
  gint64 cats = add_take (f, "Two cats playing with yarn, anime style");
  gint64 boat = add_take (f, "A paper boat drifting on a river at golden hour");

  assert_search (f, "fox", (gint64[]){ fox }, 1);
  assert_search (f, "FOX", (gint64[]){ fox }, 1);
  assert_search (f, "cinematic snow", (gint64[]){ fox }, 1);
  assert_search (f, "snow yarn", NULL, 0);
  assert_search (f, "\"golden hour\"", (gint64[]){ boat }, 1);
  assert_search (f, "\"hour golden\"", NULL, 0);
  /* Words match by their beginning. */
  assert_search (f, "ya", (gint64[]){ cats }, 1);
  assert_search (f, "light", (gint64[]){ fox }, 1);
  assert_search (f, "ight", NULL, 0);
  assert_search (f, "a", (gint64[]){ boat, cats, fox }, 3);
  assert_search (f, "running", (gint64[]){ fox }, 1);
  assert_search (f, "unicorn", NULL, 0);
}

static void
test_store_search_chinese (Fixture *f, gconstpointer data)
{
  gint64 cat = add_take (f, "一只橘猫在雪地里奔跑，电影感");
  gint64 astronaut = add_take (f, "宇航员在太空中漂浮，高清，细节丰富");
  gint64 mixed = add_take (f, "老人和海 at dawn, 慢慢地转身");

  assert_search (f, "橘猫在雪地", (gint64[]){ cat }, 1);
  assert_search (f, "宇航员", (gint64[]){ astronaut }, 1);
  /* Any one or two characters are found, wherever they are in a run. */
  assert_search (f, "橘猫", (gint64[]){ cat }, 1);
  assert_search (f, "奔跑", (gint64[]){ cat }, 1);
  assert_search (f, "跑", (gint64[]){ cat }, 1);
  assert_search (f, "雪地里奔", (gint64[]){ cat }, 1);
  assert_search (f, "雪里", NULL, 0);
  assert_search (f, "猫", (gint64[]){ cat }, 1);
  assert_search (f, "海", (gint64[]){ mixed }, 1);
  assert_search (f, "老人 dawn", (gint64[]){ mixed }, 1);
  assert_search (f, "太空 高清", (gint64[]){ astronaut }, 1);
  assert_search (f, "太空 雪地", NULL, 0);
  assert_search (f, "月亮", NULL, 0);
}

static void
test_store_search_follows_changes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 a = add_take (f, "a lighthouse keeper");
  gint64 b = add_take (f, "a lighthouse at night");

  g_assert_true (takes_store_set_notes (f->store, a, "客户喜欢这个版本", &error));
  g_assert_no_error (error);
  assert_search (f, "客户喜欢", (gint64[]){ a }, 1);
  assert_search (f, "喜欢", (gint64[]){ a }, 1);

  g_assert_true (takes_store_set_notes (f->store, a, "too dark", &error));
  assert_search (f, "客户喜欢", NULL, 0);
  assert_search (f, "dark", (gint64[]){ a }, 1);

  g_assert_true (takes_store_delete_takes (f->store, &b, 1, &error));
  g_assert_no_error (error);
  assert_search (f, "lighthouse", (gint64[]){ a }, 1);
}

static void
test_store_search_odd_characters (Fixture *f, gconstpointer data)
{
  gint64 a = add_take (f, "50% off \"today\" only_now (NEAR) * OR AND -x");
  gint64 b = add_take (f, "plain prompt");
  static const char *const queries[]
      = { "50%",     "only_now", "(NEAR)", "OR", "AND", "-x", "NOT", "NEAR(a b)", "\"unfinished phrase",
          "today\"", "x:y" };

  /* None of these is taken for search syntax or a wildcard. */
  for (guint i = 0; i < G_N_ELEMENTS (queries); i++)
    {
      g_autoptr (GArray) ids = search (f, queries[i]);

      for (guint j = 0; j < ids->len; j++)
        g_assert_cmpint (g_array_index (ids, gint64, j), !=, b);
    }
  /* Quotes around nothing are no words at all, so everything matches. */
  assert_search (f, "\"\"", (gint64[]){ b, a }, 2);
  assert_search (f, "50%", (gint64[]){ a }, 1);
  assert_search (f, "only_now", (gint64[]){ a }, 1);
  /* Punctuation alone is no word, so it narrows nothing. */
  assert_search (f, "%_", (gint64[]){ b, a }, 2);
  assert_search (f, "*", (gint64[]){ b, a }, 2);
  assert_search (f, "' \\", (gint64[]){ b, a }, 2);
  assert_search (f, "(near)", (gint64[]){ a }, 1);
}

/* Lineage ------------------------------------------------------------------ */

static gint64
add_child (Fixture *f, const char *prompt, gint64 parent)
{
  g_autoptr (TakesTake) take = store_test_take (prompt);
  g_autoptr (GError) error = NULL;

  takes_take_set_parent_id (take, parent);
  g_assert_true (takes_store_add_take (f->store, take, NULL, TAKES_MEDIA_COPY, &error));
  g_assert_no_error (error);
  return takes_take_get_id (take);
}

static GArray *
ids_of (GPtrArray *takes)
{
  GArray *ids = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < takes->len; i++)
    {
      gint64 id = takes_take_get_id (takes->pdata[i]);

      g_array_append_val (ids, id);
    }
  return ids;
}

static void
test_store_lineage (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) children = NULL;
  g_autoptr (GPtrArray) ancestors = NULL;
  g_autoptr (GArray) ids = NULL;
  g_autoptr (TakesTake) grandchild = NULL;
  gint64 root = add_take (f, "root");
  gint64 child = add_child (f, "child", root);
  gint64 sibling = add_child (f, "sibling", root);
  gint64 leaf = add_child (f, "leaf", child);

  children = takes_store_get_children (f->store, root, &error);
  g_assert_no_error (error);
  ids = ids_of (children);
  assert_ids (ids, (gint64[]){ child, sibling }, 2);
  g_clear_pointer (&ids, g_array_unref);
  g_clear_pointer (&children, g_ptr_array_unref);

  ancestors = takes_store_get_ancestors (f->store, leaf, &error);
  g_assert_no_error (error);
  ids = ids_of (ancestors);
  assert_ids (ids, (gint64[]){ child, root }, 2);
  g_clear_pointer (&ids, g_array_unref);
  g_clear_pointer (&ancestors, g_ptr_array_unref);

  ancestors = takes_store_get_ancestors (f->store, root, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ancestors->len, ==, 0);
  g_clear_pointer (&ancestors, g_ptr_array_unref);

  children = takes_store_get_children (f->store, 999, &error);
  g_assert_null (children);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Deleting the middle take keeps its child, now without a parent. */
  g_assert_true (takes_store_delete_takes (f->store, &child, 1, &error));
  g_assert_no_error (error);
  grandchild = takes_store_get_take (f->store, leaf, &error);
  g_assert_no_error (error);
  g_assert_cmpint (takes_take_get_parent_id (grandchild), ==, 0);
}

/* Judging --------------------------------------------------------------------- */

static void
test_store_judge_rating_decision_notes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTake) take = NULL;
  g_autofree char *long_notes = g_strnfill (20001, 'n');
  gint64 id = add_take (f, "a fox");

  g_assert_true (takes_store_set_rating (f->store, id, 4, &error));
  g_assert_true (takes_store_set_decision (f->store, id, TAKES_DECISION_APPROVED, &error));
  g_assert_true (takes_store_set_notes (f->store, id, "客户喜欢 — keep", &error));
  g_assert_no_error (error);
  take = takes_store_get_take (f->store, id, &error);
  g_assert_cmpuint (takes_take_get_rating (take), ==, 4);
  g_assert_cmpint (takes_take_get_decision (take), ==, TAKES_DECISION_APPROVED);
  g_assert_cmpstr (takes_take_get_notes (take), ==, "客户喜欢 — keep");

  g_assert_false (takes_store_set_rating (f->store, id, 6, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (takes_store_set_rating (f->store, 999, 3, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (takes_store_set_decision (f->store, 999, TAKES_DECISION_REJECTED, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (takes_store_set_notes (f->store, id, long_notes, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (takes_store_set_notes (f->store, id, "\xc3\x28", &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);

  g_assert_cmpint (count (f, "SELECT rating FROM takes"), ==, 4);
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes WHERE notes = '客户喜欢 — keep'"), ==, 1);
}

static void
test_store_tags (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTake) take = NULL;
  g_auto (GStrv) all = NULL;
  gint64 a = add_take (f, "a");
  gint64 b = add_take (f, "b");

  g_assert_true (takes_store_add_tag (f->store, a, "  hero ", &error));
  g_assert_true (takes_store_add_tag (f->store, a, "HERO", &error));
  g_assert_true (takes_store_add_tag (f->store, a, "夜景", &error));
  g_assert_true (takes_store_add_tag (f->store, b, "client-v2", &error));
  g_assert_no_error (error);

  take = takes_store_get_take (f->store, a, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length ((GStrv)takes_take_get_tags (take)), ==, 2);
  g_assert_true (takes_take_has_tag (take, "Hero"));
  g_assert_true (takes_take_has_tag (take, "夜景"));

  all = takes_store_list_tags (f->store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (all), ==, 3);

  g_assert_true (takes_store_remove_tag (f->store, a, "hero", &error));
  g_assert_no_error (error);
  g_assert_false (takes_store_remove_tag (f->store, a, "hero", &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (takes_store_add_tag (f->store, a, "   ", &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (takes_store_add_tag (f->store, a, "bad\x1ftag", &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (takes_store_add_tag (f->store, 999, "hero", &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_assert_cmpint (count (f, "SELECT count(*) FROM tags"), ==, 2);
}

static void
test_store_tags_with_new_take_and_in_bulk (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesTake) take = store_test_take ("tagged from the start");
  g_autoptr (TakesTake) bad = store_test_take ("bad tag");
  g_autoptr (TakesTake) back = NULL;
  g_autoptr (GError) error = NULL;
  const char *tags[] = { "client-a", "夜景", NULL };
  const char *bad_tags[] = { "fine", "", NULL };
  const char *more[] = { "hero", "final", NULL };
  const char *remove[] = { "hero", "missing", NULL };

  takes_take_set_tags (take, tags);
  g_assert_true (takes_store_add_take (f->store, take, NULL, TAKES_MEDIA_COPY, &error));
  g_assert_no_error (error);
  takes_take_set_tags (bad, bad_tags);
  g_assert_false (takes_store_add_take (f->store, bad, NULL, TAKES_MEDIA_COPY, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes"), ==, 1);

  g_assert_true (takes_store_add_tags (f->store, takes_take_get_id (take), more, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count (f, "SELECT count(*) FROM tags"), ==, 4);

  /* One missing tag undoes the whole removal. */
  g_assert_false (takes_store_remove_tags (f->store, takes_take_get_id (take), remove, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  back = takes_store_get_take (f->store, takes_take_get_id (take), NULL);
  g_assert_true (takes_take_has_tag (back, "hero"));
  g_assert_cmpuint (g_strv_length ((GStrv)takes_take_get_tags (back)), ==, 4);
}

/* Deleting ---------------------------------------------------------------------- */

static gboolean
file_in_some_trash (Fixture *f, const char *basename)
{
  g_autofree char *desktop = g_build_filename (g_get_user_data_dir (), "Trash", "files", basename, NULL);
  g_autofree char *local = g_build_filename (f->dir, "trash", basename, NULL);

  return g_file_test (desktop, G_FILE_TEST_EXISTS) || g_file_test (local, G_FILE_TEST_EXISTS);
}

static void
test_store_delete_moves_media_to_trash (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTake) take = NULL;
  g_autofree char *media = NULL;
  g_autofree char *base = NULL;
  gint64 id = add_take_with_file (f, "a boat", 2048);
  gint64 other = add_take (f, "a boat, again");

  g_assert_true (takes_store_add_tag (f->store, id, "hero", NULL));
  store_test_exec (f->dir, "INSERT INTO comparisons (take_a, take_b, winner_id, created_at) "
                           "SELECT min(id), max(id), min(id), 0 FROM takes");
  take = takes_store_get_take (f->store, id, &error);
  media = takes_store_get_media_file (f->store, take);
  base = g_path_get_basename (media);

  g_assert_true (takes_store_delete_takes (f->store, &id, 1, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (media, G_FILE_TEST_EXISTS));
  g_assert_true (file_in_some_trash (f, base));
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes"), ==, 1);
  g_assert_cmpint (count (f, "SELECT count(*) FROM tags"), ==, 0);
  g_assert_cmpint (count (f, "SELECT count(*) FROM comparisons"), ==, 0);
  g_clear_object (&take);

  take = takes_store_get_take (f->store, id, &error);
  g_assert_null (take);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Ids are never reused, even for the most recent take. */
  g_assert_true (takes_store_delete_takes (f->store, &other, 1, &error));
  g_assert_cmpint (add_take (f, "new"), >, other);
}

static void
test_store_delete_without_desktop_trash (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTake) take = NULL;
  g_autofree char *blocker = g_build_filename (g_get_user_data_dir (), "Trash", NULL);
  g_autofree char *media = NULL;
  g_autofree char *base = NULL;
  g_autofree char *kept = NULL;
  gint64 id = add_take_with_file (f, "no trash here", 300);

  /* A file where the trash folder belongs makes the desktop trash fail. */
  store_test_write_file (blocker, 1);
  take = takes_store_get_take (f->store, id, &error);
  media = takes_store_get_media_file (f->store, take);
  base = g_path_get_basename (media);
  kept = g_build_filename (f->dir, "trash", base, NULL);

  g_assert_true (takes_store_delete_takes (f->store, &id, 1, &error));
  g_assert_no_error (error);
  g_assert_false (g_file_test (media, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (kept, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes"), ==, 0);
}

static void
test_store_delete_unknown_changes_nothing (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTake) take = NULL;
  g_autofree char *media = NULL;
  gint64 ids[2] = { add_take_with_file (f, "keep me", 512), 999 };

  g_assert_false (takes_store_delete_takes (f->store, ids, 2, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  take = takes_store_get_take (f->store, ids[0], NULL);
  g_assert_nonnull (take);
  media = takes_store_get_media_file (f->store, take);
  g_assert_true (g_file_test (media, G_FILE_TEST_IS_REGULAR));
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes"), ==, 1);
}

static char *
media_of (Fixture *f, gint64 id)
{
  g_autoptr (TakesTake) take = takes_store_get_take (f->store, id, NULL);

  g_assert_nonnull (take);
  return takes_store_get_media_file (f->store, take);
}

static char *
staged_path (Fixture *f, gint64 id)
{
  g_autofree char *name
      = g_strdup_printf (".pending~%" G_GINT64_FORMAT "~media~default~%" G_GINT64_FORMAT ".mp4", id, id);

  return g_build_filename (f->dir, "trash", name, NULL);
}

/* Delete links the video into trash/ before committing and unlinks the
 * original after. A crash at each point is finished or undone on open. */
static void
test_store_delete_recovers_interruption (Fixture *f, gconstpointer data)
{
  g_autofree char *trash = g_build_filename (f->dir, "trash", NULL);
  gint64 before_commit = add_take_with_file (f, "crash before the commit", 700);
  gint64 after_commit = add_take_with_file (f, "crash after the commit", 700);
  gint64 after_unlink = add_take_with_file (f, "crash after the unlink", 700);
  g_autofree char *media_before = media_of (f, before_commit);
  g_autofree char *media_after = media_of (f, after_commit);
  g_autofree char *media_unlinked = media_of (f, after_unlink);
  g_autofree char *staged_before = staged_path (f, before_commit);
  g_autofree char *staged_after = staged_path (f, after_commit);
  g_autofree char *staged_unlinked = staged_path (f, after_unlink);
  g_autofree char *sql = NULL;

  g_assert_cmpint (g_mkdir_with_parents (trash, 0700), ==, 0);
  g_assert_cmpint (link (media_before, staged_before), ==, 0);
  g_assert_cmpint (link (media_after, staged_after), ==, 0);
  g_assert_cmpint (g_rename (media_unlinked, staged_unlinked), ==, 0);
  sql = g_strdup_printf ("DELETE FROM takes WHERE id IN (%" G_GINT64_FORMAT ", %" G_GINT64_FORMAT ")",
                         after_commit, after_unlink);
  g_assert_finalize_object (g_steal_pointer (&f->store));
  store_test_exec (f->dir, sql);

  f->store = takes_store_open (f->dir, TAKES_STORE_OPEN_DEFAULT, NULL);
  g_assert_nonnull (f->store);
  g_assert_true (g_file_test (media_before, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (staged_before, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (media_after, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (staged_after, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (staged_unlinked, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (takes_store_get_open_issues (f->store)->len, ==, 0);
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes"), ==, 1);
}

/* Checks ------------------------------------------------------------------------ */

static gboolean
has_issue (GPtrArray *issues, TakesStoreIssueKind kind, gint64 take_id)
{
  for (guint i = 0; i < issues->len; i++)
    {
      TakesStoreIssue *issue = issues->pdata[i];

      if (issue->kind == kind && (take_id == 0 || issue->take_id == take_id))
        return TRUE;
    }
  return FALSE;
}

static void
test_store_check_reports_without_deleting (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (GPtrArray) issues = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *media = NULL;
  g_autofree char *orphan = g_build_filename (f->dir, "media", "default", "stray.mp4", NULL);
  g_autofree char *partial = g_build_filename (f->dir, "media", "default", ".41.mp4.tmp", NULL);
  gint64 gone = add_take_with_file (f, "will lose its file", 100);
  gint64 fine = add_take_with_file (f, "fine", 100);

  take = takes_store_get_take (f->store, gone, &error);
  media = takes_store_get_media_file (f->store, take);
  g_assert_cmpint (g_unlink (media), ==, 0);
  store_test_write_file (orphan, 10);
  store_test_write_file (partial, 10);

  reopen (f);
  issues = takes_store_get_open_issues (f->store);
  g_assert_cmpuint (issues->len, ==, 3);
  g_assert_true (has_issue (issues, TAKES_STORE_ISSUE_TAKE_WITHOUT_FILE, gone));
  g_assert_false (has_issue (issues, TAKES_STORE_ISSUE_TAKE_WITHOUT_FILE, fine));
  g_assert_true (has_issue (issues, TAKES_STORE_ISSUE_FILE_WITHOUT_TAKE, 0));
  g_assert_true (has_issue (issues, TAKES_STORE_ISSUE_TEMPORARY_FILE, 0));
  g_assert_true (g_file_test (orphan, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (partial, G_FILE_TEST_EXISTS));
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes"), ==, 2);
  issues = NULL;

  issues = takes_store_check (f->store, TAKES_STORE_CHECK_ALL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (issues->len, ==, 3);
}

static void
test_store_check_clean_library (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) issues = NULL;
  g_autoptr (GError) error = NULL;

  add_take_with_file (f, "fine", 100);
  add_take (f, "queued");
  issues = takes_store_check (f->store, TAKES_STORE_CHECK_ALL, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (issues->len, ==, 0);
}

static void
test_store_check_unreadable_recipe (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) issues = NULL;
  g_autoptr (GPtrArray) listed = NULL;
  g_autoptr (GError) error = NULL;
  TakesTakeQuery q;
  gint64 id = add_take (f, "soon damaged");

  store_test_exec (f->dir, "UPDATE takes SET recipe = '{\"frames\": \"many\"}'");
  issues = takes_store_check (f->store, TAKES_STORE_CHECK_RECIPES, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (issues->len, ==, 1);
  g_assert_true (has_issue (issues, TAKES_STORE_ISSUE_RECIPE, id));

  /* The gallery still lists the take. */
  takes_take_query_init (&q);
  listed = takes_store_query_takes (f->store, &q, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (listed->len, ==, 1);
  g_assert_null (takes_take_get_recipe (listed->pdata[0]));
}

/* Projects, shots, batches --------------------------------------------------------- */

static void
test_store_projects (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesProject) a = takes_store_create_project (f->store, "Spring Campaign!", &error);
  g_autoptr (TakesProject) b = takes_store_create_project (f->store, "spring campaign", &error);
  g_autoptr (TakesProject) c = takes_store_create_project (f->store, "春季广告", &error);
  g_autoptr (TakesProject) found = NULL;
  g_autoptr (TakesProject) missing = NULL;
  g_autoptr (GPtrArray) all = NULL;
  g_autofree char *id_text = NULL;
  gint64 take;

  g_assert_no_error (error);
  g_assert_cmpstr (a->slug, ==, "spring-campaign");
  g_assert_cmpstr (b->slug, ==, "spring-campaign-2");
  g_assert_cmpstr (c->slug, ==, "project");
  g_assert_cmpstr (c->name, ==, "春季广告");

  found = takes_store_find_project (f->store, "spring-campaign-2", &error);
  g_assert_no_error (error);
  g_assert_cmpint (found->id, ==, b->id);
  g_clear_pointer (&found, takes_project_free);
  found = takes_store_find_project (f->store, "春季广告", &error);
  g_assert_cmpint (found->id, ==, c->id);
  g_clear_pointer (&found, takes_project_free);
  id_text = g_strdup_printf ("%" G_GINT64_FORMAT, a->id);
  found = takes_store_find_project (f->store, id_text, &error);
  g_assert_cmpint (found->id, ==, a->id);
  missing = takes_store_find_project (f->store, "autumn", &error);
  g_assert_null (missing);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (takes_store_create_project (f->store, "  ", &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_clear_error (&error);

  all = takes_store_list_projects (f->store, &error);
  g_assert_cmpuint (all->len, ==, 4);

  /* A take of a project lives in that project's folder. */
  {
    g_autoptr (TakesTake) t = store_test_take ("tulips");
    g_autofree char *source = g_build_filename (f->dir, "t.mp4", NULL);

    store_test_write_file (source, 10);
    takes_take_set_project_id (t, b->id);
    g_assert_true (takes_store_add_take (f->store, t, source, TAKES_MEDIA_COPY, &error));
    g_assert_no_error (error);
    g_assert_true (g_str_has_prefix (takes_take_get_media_path (t), "media/spring-campaign-2/"));
    take = takes_take_get_id (t);
  }
  g_assert_cmpint (take, >, 0);
}

static void
test_store_shots_and_batches (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesShot) one
      = takes_store_create_shot (f->store, 0, "Opening", "wide shot of a valley", &error);
  g_autoptr (TakesShot) two = takes_store_create_shot (f->store, 0, "Close-up", NULL, &error);
  g_autoptr (GPtrArray) shots = NULL;
  g_autoptr (GPtrArray) batches = NULL;
  g_autoptr (TakesBatch) batch = NULL;
  g_autoptr (JsonObject) variables = json_object_new ();
  g_autoptr (JsonArray) colours = json_array_new ();
  TakesBatch *listed;

  g_assert_no_error (error);
  g_assert_cmpuint (one->position, ==, 1);
  g_assert_cmpuint (two->position, ==, 2);
  shots = takes_store_list_shots (f->store, 0, &error);
  g_assert_cmpuint (shots->len, ==, 2);
  g_assert_cmpstr (((TakesShot *)shots->pdata[0])->prompt, ==, "wide shot of a valley");
  g_assert_cmpstr (((TakesShot *)shots->pdata[1])->title, ==, "Close-up");

  json_array_add_string_element (colours, "red");
  json_array_add_string_element (colours, "红色");
  json_object_set_array_member (variables, "colour", json_array_ref (colours));
  batch = takes_store_create_batch (f->store, 0, "colours", "a {colour} car", variables, &error);
  g_assert_no_error (error);
  batches = takes_store_list_batches (f->store, 0, &error);
  g_assert_cmpuint (batches->len, ==, 1);
  listed = batches->pdata[0];
  g_assert_cmpstr (listed->template_text, ==, "a {colour} car");
  g_assert_cmpstr (
      json_array_get_string_element (json_object_get_array_member (listed->variables, "colour"), 1), ==,
      "红色");

  g_assert_null (takes_store_create_batch (f->store, 0, "x", "", NULL, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_null (takes_store_create_shot (f->store, 999, "x", NULL, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
}

/* File size limit ------------------------------------------------------------------- */

/* Runs in the child: a 1 MiB limit on files this process writes, and
 * SIGXFSZ ignored so write() reports EFBIG instead of killing it. */
static void
file_size_limit_child (const char *dir)
{
  g_autofree char *source = g_build_filename (dir, "big.mp4", NULL);
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesTake) take = store_test_take ("too big");
  g_autoptr (GError) error = NULL;
  struct rlimit limit = { 1024 * 1024, 1024 * 1024 };

  store = takes_store_open (dir, TAKES_STORE_OPEN_EXISTING, &error);
  g_assert_no_error (error);
  signal (SIGXFSZ, SIG_IGN);
  g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
  g_assert_false (takes_store_add_take (store, take, source, TAKES_MEDIA_COPY, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NO_SPACE);
  g_print ("%s\n", error->message);
}

static void
test_store_file_size_limit (Fixture *f, gconstpointer data)
{
  g_autofree char *source = g_build_filename (f->dir, "big.mp4", NULL);
  g_autoptr (GPtrArray) files = NULL;

  if (g_test_subprocess ())
    {
      file_size_limit_child (g_getenv ("TAKES_TEST_FSIZE_DIR"));
      return;
    }

  store_test_write_file (source, 4 * 1024 * 1024);
  g_setenv ("TAKES_TEST_FSIZE_DIR", f->dir, TRUE);
  g_test_trap_subprocess (NULL, 60 * G_USEC_PER_SEC, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("*larger than this system lets a program write*");

  reopen (f);
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes"), ==, 0);
  files = store_test_list_files (f->dir);
  for (guint i = 0; i < files->len; i++)
    g_assert_false (g_str_has_prefix (files->pdata[i], "media/"));
  g_assert_true (g_file_test (source, G_FILE_TEST_IS_REGULAR));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func)                                                                                      \
  g_test_add ("/store/" path, Fixture, NULL, fixture_set_up, func, store_test_fixture_tear_down)
  ADD ("schema/create", test_store_schema_create);
  g_test_add_func ("/store/migrate/from-every-older-version", test_store_migrate_from_every_version);
  g_test_add_func ("/store/migrate/from-empty-file", test_store_migrate_from_empty);
  ADD ("migrate/refuses-newer-version", test_store_migrate_refuses_newer);
  g_test_add_func ("/store/open/not-a-database", test_store_open_not_a_database);
  g_test_add_func ("/store/open/foreign-database", test_store_open_foreign_database);
  g_test_add_func ("/store/open/existing-only", test_store_open_existing_only);
  ADD ("takes/add-and-get", test_store_takes_add_and_get);
  ADD ("takes/media-copy", test_store_takes_media_copy);
  ADD ("takes/media-move", test_store_takes_media_move);
  ADD ("takes/missing-source-changes-nothing", test_store_takes_missing_source);
  ADD ("takes/unknown-links-refused", test_store_takes_unknown_links);
  ADD ("takes/update", test_store_takes_update);
  ADD ("takes/attach-media", test_store_takes_attach_media);
  ADD ("takes/find-cached", test_store_takes_find_cached);
  ADD ("takes/add-many-all-or-nothing", test_store_takes_add_many_all_or_nothing);
  ADD ("takes/file-size-limit", test_store_file_size_limit);
  ADD ("query/filters", test_store_query_filters);
  ADD ("query/sort-and-paging", test_store_query_sort_and_paging);
  ADD ("query/keyset-paging-matches-offset-paging", test_store_query_keyset_matches_offset);
  ADD ("query/keyset-paging-with-offset", test_store_query_keyset_with_offset);
  ADD ("open/read-only-sees-writes-and-refuses-writes", test_store_open_read_only);
  ADD ("search/english", test_store_search_english);
  ADD ("search/chinese", test_store_search_chinese);
  ADD ("search/follows-changes", test_store_search_follows_changes);
  ADD ("search/odd-characters", test_store_search_odd_characters);
  ADD ("lineage/parent-children-ancestors", test_store_lineage);
  ADD ("judge/rating-decision-notes", test_store_judge_rating_decision_notes);
  ADD ("tags/add-remove-list", test_store_tags);
  ADD ("tags/with-new-take-and-in-bulk", test_store_tags_with_new_take_and_in_bulk);
  ADD ("delete/moves-media-to-trash", test_store_delete_moves_media_to_trash);
  ADD ("delete/without-desktop-trash", test_store_delete_without_desktop_trash);
  ADD ("delete/unknown-id-changes-nothing", test_store_delete_unknown_changes_nothing);
  ADD ("delete/recovers-interruption", test_store_delete_recovers_interruption);
  ADD ("check/reports-without-deleting", test_store_check_reports_without_deleting);
  ADD ("check/clean-library", test_store_check_clean_library);
  ADD ("check/unreadable-recipe", test_store_check_unreadable_recipe);
  ADD ("projects/create-find-list", test_store_projects);
  ADD ("shots-and-batches/create-list", test_store_shots_and_batches);
#undef ADD
  return g_test_run ();
}
