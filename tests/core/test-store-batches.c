#include "config.h"

#include "takes-store-batches.h"
#include "takes-store-private.h"
#include "test-store-util.h"

typedef StoreTestFixture Fixture;

static gint64
count (Fixture *f, const char *sql)
{
  return store_test_query_int (f->dir, sql);
}

static TakesBatchPlan *
plan_new (const char *json)
{
  g_autoptr (GError) error = NULL;
  TakesBatchPlan *plan = takes_batch_plan_new_from_data (json, -1, 0, &error);

  g_assert_no_error (error);
  g_assert_nonnull (plan);
  return plan;
}

/* city changes slowest: Paris tea, Paris coffee, Paris juice, Tokyo tea… */
static const char cross_plan[] = "{\"name\": \"tea ad\", \"template\": \"A {drink} ad in {city}\","
                                 " \"negative\": \"blurry {city}\","
                                 " \"variables\": {\"city\": [\"Paris\", \"Tokyo\"],"
                                 " \"drink\": [\"tea\", \"coffee\", \"juice\"]},"
                                 " \"seed\": \"vary\", \"seed_base\": 42, \"backend\": \"dashscope\","
                                 " \"model\": \"wan2.2-t2v-plus\", \"size\": \"832*480\"}";

static TakesBatchInfo *
add_plan (Fixture *f, const char *json, GPtrArray **takes)
{
  g_autoptr (TakesBatchPlan) plan = plan_new (json);
  g_autoptr (GError) error = NULL;
  TakesBatchInfo *info = takes_store_add_batch (f->store, 0, plan, NULL, NULL, NULL, NULL, takes, &error);

  g_assert_no_error (error);
  g_assert_nonnull (info);
  return info;
}

static void
test_add_stores_plan_and_takes (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (TakesBatchInfo) info = add_plan (f, cross_plan, &takes);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTake) stored = NULL;
  const char *const axes[] = { "city", "drink", NULL };
  JsonObject *variables;

  g_assert_cmpint (info->id, >, 0);
  g_assert_cmpint (info->project_id, ==, takes_store_get_default_project (f->store));
  g_assert_cmpstr (info->name, ==, "tea ad");
  g_assert_cmpstr (info->template_text, ==, "A {drink} ad in {city}");
  g_assert_cmpstr (info->negative_text, ==, "blurry {city}");
  g_assert_cmpint (info->mode, ==, TAKES_BATCH_MODE_CROSS);
  g_assert_cmpint (info->seed_mode, ==, TAKES_BATCH_SEED_VARY);
  g_assert_cmpint (json_object_get_int_member (info->seed, "base"), ==, 42);
  g_assert_true (g_strv_equal ((const char *const *)info->axes, axes));
  g_assert_cmpint (json_array_get_length (json_object_get_array_member (info->variables, "drink")), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (info->params, "backend"), ==, "dashscope");
  g_assert_cmpuint (info->n_takes, ==, 6);
  g_assert_cmpuint (info->status_counts[TAKES_TAKE_STATUS_QUEUED], ==, 6);
  g_assert_cmpuint (takes->len, ==, 6);

  stored = takes_store_get_take (f->store, takes_take_get_id (g_ptr_array_index (takes, 4)), &error);
  g_assert_no_error (error);
  g_assert_cmpint (takes_take_get_batch_id (stored), ==, info->id);
  g_assert_cmpint (takes_take_get_status (stored), ==, TAKES_TAKE_STATUS_QUEUED);
  g_assert_cmpstr (takes_take_get_prompt (stored), ==, "A coffee ad in Tokyo");
  g_assert_cmpstr (takes_take_get_negative_prompt (stored), ==, "blurry Tokyo");
  g_assert_cmpstr (takes_take_get_backend (stored), ==, "dashscope");
  g_assert_cmpuint (takes_take_get_width (stored), ==, 832);
  variables = takes_take_get_variables (stored);
  g_assert_cmpstr (json_object_get_string_member (variables, "city"), ==, "Tokyo");
  g_assert_cmpstr (json_object_get_string_member (variables, "drink"), ==, "coffee");
  g_assert_true (takes_take_has_tag (stored, "city=Tokyo"));
  g_assert_true (takes_take_has_tag (stored, "drink=coffee"));
  g_assert_cmpint (count (f, "SELECT count(*) FROM tags WHERE name = 'city=Paris'"), ==, 3);
}

static void
test_add_overrides_backend_and_model (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesBatchPlan) plan = plan_new (cross_plan);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (TakesBatchInfo) info
      = takes_store_add_batch (f->store, 0, plan, "comfyui", "wan2.1-t2v-1.3b", NULL, NULL, &takes, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < takes->len; i++)
    {
      g_assert_cmpstr (takes_take_get_backend (g_ptr_array_index (takes, i)), ==, "comfyui");
      g_assert_cmpstr (takes_take_get_model (g_ptr_array_index (takes, i)), ==, "wan2.1-t2v-1.3b");
    }
}

static gboolean
fail_third_cb (
    TakesStore *store, TakesTake *take, const TakesBatchVariant *variant, gpointer data, GError **error)
{
  guint *calls = data;

  g_assert_cmpint (takes_take_get_id (take), >, 0);
  g_assert_cmpuint (variant->index, ==, *calls);
  if (++*calls == 3)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "the job could not be added");
      return FALSE;
    }
  return TRUE;
}

static void
test_add_rolls_back_when_a_take_fails (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesBatchPlan) plan = plan_new (cross_plan);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (TakesBatchInfo) info = NULL;
  guint calls = 0;

  info = takes_store_add_batch (f->store, 0, plan, NULL, NULL, fail_third_cb, &calls, &takes, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_null (info);
  g_assert_null (takes);
  g_assert_cmpuint (calls, ==, 3);
  g_assert_cmpint (count (f, "SELECT count(*) FROM batches"), ==, 0);
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes"), ==, 0);
  g_assert_cmpint (count (f, "SELECT count(*) FROM tags"), ==, 0);
}

static void
test_add_invalid_recipe_stores_nothing (Fixture *f, gconstpointer data)
{
  /* The plan accepts any size; the recipe wants multiples of 8. */
  g_autoptr (TakesBatchPlan) plan = plan_new (
      "{\"template\": \"a {x}\", \"variables\": {\"x\": [\"cat\", \"dog\"]}, \"size\": \"100*100\"}");
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchInfo) info
      = takes_store_add_batch (f->store, 0, plan, NULL, NULL, NULL, NULL, NULL, &error);

  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "Variant 1"));
  g_assert_null (info);
  g_assert_cmpint (count (f, "SELECT count(*) FROM batches"), ==, 0);
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes"), ==, 0);
}

static void
test_add_unknown_project (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesBatchPlan) plan = plan_new (cross_plan);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchInfo) info
      = takes_store_add_batch (f->store, 999, plan, NULL, NULL, NULL, NULL, NULL, &error);

  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_assert_null (info);
  g_assert_cmpint (count (f, "SELECT count(*) FROM batches"), ==, 0);
}

static void
test_add_long_value_shortens_tag (Fixture *f, gconstpointer data)
{
  g_autofree char *value = g_strnfill (100, 'w');
  g_autofree char *json = g_strdup_printf (
      "{\"template\": \"a {scene}\", \"variables\": {\"scene\": [\"%s\", \"line\\nbreak\"]}}", value);
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (TakesBatchInfo) info = add_plan (f, json, &takes);
  TakesTake *first = g_ptr_array_index (takes, 0);
  TakesTake *second = g_ptr_array_index (takes, 1);
  const char *tag = takes_take_get_tags (first)[0];

  g_assert_cmpint (g_utf8_strlen (tag, -1), ==, TAKES_BATCH_TAG_MAX_CHARS);
  g_assert_true (g_str_has_prefix (tag, "scene=www"));
  g_assert_true (g_str_has_suffix (tag, "…"));
  g_assert_cmpstr (json_object_get_string_member (takes_take_get_variables (first), "scene"), ==, value);
  g_assert_true (takes_take_has_tag (second, "scene=line break"));
}

static void
test_list_counts_per_status (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (TakesBatchInfo) first = add_plan (f, cross_plan, &takes);
  g_autoptr (TakesBatchInfo) second
      = add_plan (f, "{\"template\": \"a {x}\", \"variables\": {\"x\": [\"cat\"]}, \"mode\": \"zip\"}", NULL);
  g_autoptr (TakesProject) other = NULL;
  g_autoptr (GPtrArray) infos = NULL;
  g_autoptr (GError) error = NULL;
  TakesBatchInfo *listed;

  takes_take_set_status (g_ptr_array_index (takes, 0), TAKES_TAKE_STATUS_DONE);
  g_assert_true (takes_store_update_take (f->store, g_ptr_array_index (takes, 0), &error));
  takes_take_set_status (g_ptr_array_index (takes, 1), TAKES_TAKE_STATUS_FAILED);
  g_assert_true (takes_store_update_take (f->store, g_ptr_array_index (takes, 1), &error));
  g_assert_no_error (error);

  infos = takes_store_list_batch_infos (f->store, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (infos->len, ==, 2);
  /* Newest first. */
  listed = g_ptr_array_index (infos, 0);
  g_assert_cmpint (listed->id, ==, second->id);
  g_assert_cmpint (listed->mode, ==, TAKES_BATCH_MODE_ZIP);
  g_assert_cmpuint (listed->n_takes, ==, 1);
  listed = g_ptr_array_index (infos, 1);
  g_assert_cmpint (listed->id, ==, first->id);
  g_assert_cmpuint (listed->n_takes, ==, 6);
  g_assert_cmpuint (listed->status_counts[TAKES_TAKE_STATUS_QUEUED], ==, 4);
  g_assert_cmpuint (listed->status_counts[TAKES_TAKE_STATUS_DONE], ==, 1);
  g_assert_cmpuint (listed->status_counts[TAKES_TAKE_STATUS_FAILED], ==, 1);

  /* The older listing sees the same batch. */
  g_clear_pointer (&infos, g_ptr_array_unref);
  infos = takes_store_list_batches (f->store, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (infos->len, ==, 2);

  other = takes_store_create_project (f->store, "Other", &error);
  g_assert_no_error (error);
  g_clear_pointer (&infos, g_ptr_array_unref);
  infos = takes_store_list_batch_infos (f->store, other->id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (infos->len, ==, 0);
}

static void
test_get_unknown_batch (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchInfo) info = takes_store_get_batch_info (f->store, 77, &error);

  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_assert_null (info);
}

static void
test_grid_cross (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (TakesBatchInfo) info = add_plan (f, cross_plan, &takes);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchGrid) grid
      = takes_store_get_batch_grid (f->store, info->id, "drink", "city", NULL, &error);
  g_autoptr (TakesBatchGrid) copy = NULL;
  const char *const drinks[] = { "tea", "coffee", "juice", NULL };
  const char *const cities[] = { "Paris", "Tokyo", NULL };

  g_assert_no_error (error);
  g_assert_cmpstr (grid->row_axis, ==, "drink");
  g_assert_cmpstr (grid->column_axis, ==, "city");
  g_assert_cmpuint (grid->n_rows, ==, 3);
  g_assert_cmpuint (grid->n_columns, ==, 2);
  g_assert_true (g_strv_equal ((const char *const *)grid->row_values, drinks));
  g_assert_true (g_strv_equal ((const char *const *)grid->column_values, cities));
  for (guint row = 0; row < 3; row++)
    for (guint column = 0; column < 2; column++)
      {
        const TakesBatchCell *cell = takes_batch_grid_get_cell (grid, row, column);
        TakesTake *expected = g_ptr_array_index (takes, column * 3 + row);

        g_assert_nonnull (cell);
        g_assert_cmpuint (cell->n_takes, ==, 1);
        g_assert_cmpint (takes_batch_grid_get_take (grid, row, column), ==, takes_take_get_id (expected));
      }

  copy = takes_batch_grid_copy (grid);
  g_assert_cmpint (takes_batch_grid_get_take (copy, 2, 1), ==, takes_batch_grid_get_take (grid, 2, 1));
}

static void
test_grid_zip_leaves_cells_empty (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesBatchInfo) info
      = add_plan (f,
                  "{\"template\": \"{a} {b}\", \"mode\": \"zip\", \"variables\":"
                  " {\"a\": [\"1\", \"2\", \"3\"], \"b\": [\"x\", \"y\", \"z\"]}}",
                  NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchGrid) grid = takes_store_get_batch_grid (f->store, info->id, "a", "b", NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (grid->n_rows, ==, 3);
  g_assert_cmpuint (grid->n_columns, ==, 3);
  for (guint row = 0; row < 3; row++)
    for (guint column = 0; column < 3; column++)
      if (row == column)
        g_assert_cmpint (takes_batch_grid_get_take (grid, row, column), >, 0);
      else
        g_assert_null (takes_batch_grid_get_cell (grid, row, column));
}

static void
test_grid_seed_list_shares_cells (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (TakesBatchInfo) info = add_plan (
      f, "{\"template\": \"a {x}\", \"variables\": {\"x\": [\"cat\", \"dog\"]}, \"seed\": [1, 2, 3]}",
      &takes);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchGrid) grid = takes_store_get_batch_grid (f->store, info->id, NULL, "x", NULL, &error);
  const TakesBatchCell *cell;

  g_assert_no_error (error);
  g_assert_cmpint (info->seed_mode, ==, TAKES_BATCH_SEED_LIST);
  g_assert_null (grid->row_axis);
  g_assert_cmpuint (grid->n_rows, ==, 1);
  g_assert_cmpstr (grid->row_values[0], ==, "");
  g_assert_cmpuint (grid->n_columns, ==, 2);
  cell = takes_batch_grid_get_cell (grid, 0, 1);
  g_assert_cmpuint (cell->n_takes, ==, 3);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr (TakesTake) take = takes_store_get_take (f->store, cell->take_ids[i], &error);

      g_assert_no_error (error);
      g_assert_cmpstr (json_object_get_string_member (takes_take_get_variables (take), "x"), ==, "dog");
    }
  for (guint i = 1; i < 3; i++)
    g_assert_cmpint (cell->take_ids[i], >, cell->take_ids[i - 1]);
}

static void
test_grid_fixed_values (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesBatchInfo) info
      = add_plan (f,
                  "{\"template\": \"{a} {b} {c}\", \"variables\": {\"a\": [\"1\", \"2\"],"
                  " \"b\": [\"x\", \"y\"], \"c\": [\"day\", \"night\"]}}",
                  NULL);
  g_autoptr (GHashTable) fixed = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchGrid) all = takes_store_get_batch_grid (f->store, info->id, "a", "b", NULL, &error);
  g_autoptr (TakesBatchGrid) night = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (takes_batch_grid_get_cell (all, 0, 0)->n_takes, ==, 2);

  g_hash_table_insert (fixed, "c", "night");
  night = takes_store_get_batch_grid (f->store, info->id, "a", "b", fixed, &error);
  g_assert_no_error (error);
  for (guint row = 0; row < 2; row++)
    for (guint column = 0; column < 2; column++)
      {
        gint64 id = takes_batch_grid_get_take (night, row, column);
        g_autoptr (TakesTake) take = takes_store_get_take (f->store, id, &error);

        g_assert_no_error (error);
        g_assert_cmpuint (takes_batch_grid_get_cell (night, row, column)->n_takes, ==, 1);
        g_assert_cmpstr (json_object_get_string_member (takes_take_get_variables (take), "c"), ==, "night");
      }
}

static void
test_grid_deleted_take_leaves_hole (Fixture *f, gconstpointer data)
{
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (TakesBatchInfo) info = add_plan (f, cross_plan, &takes);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchGrid) grid = NULL;
  gint64 id = takes_take_get_id (g_ptr_array_index (takes, 1)); /* Paris, coffee */

  g_assert_true (takes_store_delete_takes (f->store, &id, 1, &error));
  g_assert_no_error (error);
  grid = takes_store_get_batch_grid (f->store, info->id, "city", "drink", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (grid->n_columns, ==, 3);
  g_assert_null (takes_batch_grid_get_cell (grid, 0, 1));
  g_assert_nonnull (takes_batch_grid_get_cell (grid, 1, 1));
}

static void
test_grid_single_cell_without_axes (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesBatchInfo) info = add_plan (f, cross_plan, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchGrid) grid = takes_store_get_batch_grid (f->store, info->id, NULL, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (grid->n_rows, ==, 1);
  g_assert_cmpuint (grid->n_columns, ==, 1);
  g_assert_cmpuint (takes_batch_grid_get_cell (grid, 0, 0)->n_takes, ==, 6);
}

static void
test_grid_refuses_bad_axes (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesBatchInfo) info = add_plan (f, cross_plan, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchGrid) grid = NULL;

  grid = takes_store_get_batch_grid (f->store, info->id, "mood", "city", NULL, &error);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "city, drink"));
  g_assert_null (grid);
  g_clear_error (&error);

  grid = takes_store_get_batch_grid (f->store, info->id, "city", "city", NULL, &error);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_assert_null (grid);
  g_clear_error (&error);

  grid = takes_store_get_batch_grid (f->store, info->id + 1, "city", NULL, NULL, &error);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_assert_null (grid);
}

static void
test_migrate_keeps_older_batches (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-store-batches-XXXXXX", &error);
  g_autofree char *db = g_build_filename (dir, "library.db", NULL);
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesBatchInfo) info = NULL;
  g_autoptr (TakesBatchGrid) grid = NULL;
  const char *const axes[] = { "city", "drink", NULL };

  g_assert_no_error (error);
  g_assert_true (takes_store_create_at_version (db, TAKES_STORE_SCHEMA_VERSION - 1, &error));
  g_assert_no_error (error);
  store_test_exec (dir, "INSERT INTO projects (id, slug, name, created_at, updated_at)"
                        " VALUES (1, 'default', 'Default', 0, 0);"
                        "INSERT INTO batches (id, project_id, name, template, variables, created_at)"
                        " VALUES (5, 1, 'old', '{drink} in {city}',"
                        " '{\"city\":[\"Rome\"],\"drink\":[\"tea\",\"wine\"]}', 0);"
                        "INSERT INTO takes (project_id, batch_id, recipe, cache_key, backend, model,"
                        " variables, created_at, updated_at) VALUES (1, 5, '{}', 'k', 'local', 'm',"
                        " '{\"city\":\"Rome\",\"drink\":\"wine\"}', 0, 0);");

  store = takes_store_open (dir, TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (takes_store_get_schema_version (store), ==, TAKES_STORE_SCHEMA_VERSION);
  info = takes_store_get_batch_info (store, 5, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (info->template_text, ==, "{drink} in {city}");
  g_assert_cmpstr (info->negative_text, ==, "");
  g_assert_cmpint (info->mode, ==, TAKES_BATCH_MODE_CROSS);
  g_assert_true (g_strv_equal ((const char *const *)info->axes, axes));
  g_assert_cmpuint (info->n_takes, ==, 1);

  grid = takes_store_get_batch_grid (store, 5, "city", "drink", NULL, &error);
  g_assert_no_error (error);
  g_assert_null (takes_batch_grid_get_cell (grid, 0, 0));
  g_assert_cmpint (takes_batch_grid_get_take (grid, 0, 1), >, 0);

  g_assert_finalize_object (g_steal_pointer (&store));
  store_test_rm_rf (dir);
}

static void
test_add_many_variants_in_one_transaction (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) json = g_string_new ("{\"template\": \"{a} {b}\", \"variables\": {\"a\": [");
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (TakesBatchInfo) info = NULL;
  g_autoptr (TakesBatchGrid) grid = NULL;
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < 40; i++)
    g_string_append_printf (json, "%s\"a%u\"", i > 0 ? ", " : "", i);
  g_string_append (json, "], \"b\": [");
  for (guint i = 0; i < 25; i++)
    g_string_append_printf (json, "%s\"b%u\"", i > 0 ? ", " : "", i);
  g_string_append (json, "]}}");
  info = add_plan (f, json->str, &takes);
  g_assert_cmpuint (info->n_takes, ==, 1000);
  grid = takes_store_get_batch_grid (f->store, info->id, "a", "b", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (takes_batch_grid_get_take (grid, 39, 24), ==,
                   takes_take_get_id (g_ptr_array_index (takes, 999)));
}

static void
test_create_without_takes_and_undo (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesBatchPlan) plan = plan_new (cross_plan);
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) takes = takes_batch_plan_make_takes (plan, 0, "comfyui", NULL, &error);
  g_autoptr (TakesBatchInfo) info = NULL;
  g_autoptr (TakesBatchInfo) with_takes = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (takes->len, ==, 6);
  g_assert_cmpint (takes_take_get_id (g_ptr_array_index (takes, 0)), ==, 0);
  g_assert_cmpstr (takes_take_get_backend (g_ptr_array_index (takes, 0)), ==, "comfyui");
  g_assert_true (takes_take_has_tag (g_ptr_array_index (takes, 5), "drink=juice"));

  info = takes_store_create_batch_from_plan (f->store, 0, plan, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->n_takes, ==, 0);
  g_assert_cmpstr (info->negative_text, ==, "blurry {city}");
  g_assert_true (takes_store_delete_empty_batch (f->store, info->id, &error));
  g_assert_no_error (error);
  g_assert_cmpint (count (f, "SELECT count(*) FROM batches"), ==, 0);

  /* A batch with takes is never removed this way. */
  with_takes = add_plan (f, cross_plan, NULL);
  g_assert_false (takes_store_delete_empty_batch (f->store, with_takes->id, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_assert_cmpint (count (f, "SELECT count(*) FROM takes"), ==, 6);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func)                                                                                      \
  g_test_add ("/store-batches/" path, Fixture, NULL, store_test_fixture_set_up, func,                        \
              store_test_fixture_tear_down)
  ADD ("add/stores-plan-and-tagged-takes", test_add_stores_plan_and_takes);
  ADD ("add/overrides-backend-and-model", test_add_overrides_backend_and_model);
  ADD ("add/rolls-back-when-a-take-fails", test_add_rolls_back_when_a_take_fails);
  ADD ("add/invalid-recipe-stores-nothing", test_add_invalid_recipe_stores_nothing);
  ADD ("add/unknown-project", test_add_unknown_project);
  ADD ("add/long-value-shortens-tag", test_add_long_value_shortens_tag);
  ADD ("add/thousand-variants", test_add_many_variants_in_one_transaction);
  ADD ("add/without-takes-and-undo", test_create_without_takes_and_undo);
  ADD ("list/counts-per-status", test_list_counts_per_status);
  ADD ("get/unknown-batch", test_get_unknown_batch);
  ADD ("grid/cross-one-take-per-cell", test_grid_cross);
  ADD ("grid/zip-leaves-cells-empty", test_grid_zip_leaves_cells_empty);
  ADD ("grid/seed-list-shares-cells", test_grid_seed_list_shares_cells);
  ADD ("grid/fixed-values-filter", test_grid_fixed_values);
  ADD ("grid/deleted-take-leaves-hole", test_grid_deleted_take_leaves_hole);
  ADD ("grid/no-axes-one-cell", test_grid_single_cell_without_axes);
  ADD ("grid/refuses-bad-axes", test_grid_refuses_bad_axes);
#undef ADD
  g_test_add_func ("/store-batches/migrate/keeps-older-batches", test_migrate_keeps_older_batches);

  return g_test_run ();
}
