/* takes-store-batches.c: batches with their plan, their takes, and the grid
 * the gallery lays them out on.
 *
 * A batch's takes are inserted through the store's own take insertion, in
 * the transaction that inserts the batch, so a batch never exists without
 * all its takes and no take points at a batch that was rolled back.
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <sqlite3.h>
#include <string.h>

#include "takes-store-batches.h"
#include "takes-store-private.h"

/* The store's own limits on batch names and templates (takes-store.c). */
#define MAX_NAME_CHARS 200
#define MAX_TEMPLATE_CHARS 20000
#define N_STATUSES 5

/* Boxed types ------------------------------------------------------------ */

TakesBatchInfo *
takes_batch_info_copy (const TakesBatchInfo *info)
{
  TakesBatchInfo *copy;

  g_return_val_if_fail (info != NULL, NULL);

  copy = g_memdup2 (info, sizeof *info);
  copy->name = g_strdup (info->name);
  copy->template_text = g_strdup (info->template_text);
  copy->negative_text = g_strdup (info->negative_text);
  copy->axes = g_strdupv (info->axes);
  copy->variables = info->variables != NULL ? json_object_ref (info->variables) : NULL;
  copy->seed = info->seed != NULL ? json_object_ref (info->seed) : NULL;
  copy->params = info->params != NULL ? json_object_ref (info->params) : NULL;
  return copy;
}

void
takes_batch_info_free (TakesBatchInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->name);
  g_free (info->template_text);
  g_free (info->negative_text);
  g_strfreev (info->axes);
  g_clear_pointer (&info->variables, json_object_unref);
  g_clear_pointer (&info->seed, json_object_unref);
  g_clear_pointer (&info->params, json_object_unref);
  g_free (info);
}

G_DEFINE_BOXED_TYPE (TakesBatchInfo, takes_batch_info, takes_batch_info_copy, takes_batch_info_free)

static TakesBatchCell *
cell_copy (const TakesBatchCell *cell)
{
  TakesBatchCell *copy = g_new0 (TakesBatchCell, 1);

  copy->n_takes = cell->n_takes;
  copy->take_ids = g_memdup2 (cell->take_ids, sizeof (gint64) * cell->n_takes);
  return copy;
}

static void
cell_free (TakesBatchCell *cell)
{
  if (cell == NULL)
    return;
  g_free (cell->take_ids);
  g_free (cell);
}

TakesBatchGrid *
takes_batch_grid_copy (const TakesBatchGrid *grid)
{
  TakesBatchGrid *copy;
  gsize n_cells;

  g_return_val_if_fail (grid != NULL, NULL);

  n_cells = (gsize)grid->n_rows * grid->n_columns;
  copy = g_memdup2 (grid, sizeof *grid);
  copy->row_axis = g_strdup (grid->row_axis);
  copy->column_axis = g_strdup (grid->column_axis);
  copy->row_values = g_strdupv (grid->row_values);
  copy->column_values = g_strdupv (grid->column_values);
  copy->cells = g_new0 (TakesBatchCell *, MAX (n_cells, 1));
  for (gsize i = 0; i < n_cells; i++)
    if (grid->cells[i] != NULL)
      copy->cells[i] = cell_copy (grid->cells[i]);
  return copy;
}

void
takes_batch_grid_free (TakesBatchGrid *grid)
{
  if (grid == NULL)
    return;
  if (grid->cells != NULL)
    for (gsize i = 0; i < (gsize)grid->n_rows * grid->n_columns; i++)
      cell_free (grid->cells[i]);
  g_free (grid->cells);
  g_free (grid->row_axis);
  g_free (grid->column_axis);
  g_strfreev (grid->row_values);
  g_strfreev (grid->column_values);
  g_free (grid);
}

G_DEFINE_BOXED_TYPE (TakesBatchGrid, takes_batch_grid, takes_batch_grid_copy, takes_batch_grid_free)

const TakesBatchCell *
takes_batch_grid_get_cell (const TakesBatchGrid *grid, guint row, guint column)
{
  g_return_val_if_fail (grid != NULL, NULL);
  g_return_val_if_fail (row < grid->n_rows && column < grid->n_columns, NULL);

  return grid->cells[(gsize)row * grid->n_columns + column];
}

gint64
takes_batch_grid_get_take (const TakesBatchGrid *grid, guint row, guint column)
{
  const TakesBatchCell *cell = takes_batch_grid_get_cell (grid, row, column);

  return cell != NULL && cell->n_takes > 0 ? cell->take_ids[0] : 0;
}

/* SQLite helpers --------------------------------------------------------- */

static char *
node_to_json (JsonNode *node)
{
  GString *out = g_string_new (NULL);

  takes_json_write_canonical (out, node);
  return g_string_free (out, FALSE);
}

static char *
object_to_json (JsonObject *object)
{
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), object);

  return node_to_json (node);
}

static JsonNode *
parse_json (JsonParser *parser, const char *json)
{
  if (json == NULL || !json_parser_load_from_data (parser, json, -1, NULL))
    return NULL;
  return json_parser_get_root (parser);
}

static JsonObject *
object_from_json (const char *json)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root = parse_json (parser, json);

  return root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_dup_object (root) : json_object_new ();
}

static GStrv
strv_from_json (const char *json)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GStrvBuilder) names = g_strv_builder_new ();
  JsonNode *root = parse_json (parser, json);

  if (root != NULL && JSON_NODE_HOLDS_ARRAY (root))
    {
      JsonArray *array = json_node_get_array (root);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);

          if (JSON_NODE_HOLDS_VALUE (element) && json_node_get_value_type (element) == G_TYPE_STRING)
            g_strv_builder_add (names, json_node_get_string (element));
        }
    }
  return g_strv_builder_end (names);
}

/* Storing a batch --------------------------------------------------------- */

/* A tag may not hold control characters nor pass TAKES_BATCH_TAG_MAX_CHARS;
 * the tag only has to find the take, the variables keep the exact value. */
static char *
variable_tag (const char *name, const char *value)
{
  g_autoptr (GString) tag = g_string_new (NULL);
  glong n_chars = 0;
  glong limit = TAKES_BATCH_TAG_MAX_CHARS;

  g_string_append_printf (tag, "%s=%s", name, value);
  for (char *p = tag->str; *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_iscntrl (g_utf8_get_char (p)))
      *p = ' ';
  g_strstrip (tag->str);
  g_string_set_size (tag, strlen (tag->str));
  n_chars = g_utf8_strlen (tag->str, -1);
  if (n_chars > limit)
    {
      const char *cut = g_utf8_offset_to_pointer (tag->str, limit - 1);

      g_string_truncate (tag, cut - tag->str);
      g_string_append (tag, "…");
    }
  return g_string_free (g_steal_pointer (&tag), FALSE);
}

static gboolean
check_batch_text (TakesBatchPlan *plan, GError **error)
{
  const char *name = takes_batch_plan_get_name (plan);
  const char *text = takes_template_get_text (takes_batch_plan_get_template (plan));
  TakesTemplate *negative = takes_batch_plan_get_negative (plan);

  if (name != NULL && g_utf8_strlen (name, -1) > MAX_NAME_CHARS)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("A batch name must be at most %d characters; shorten it."), MAX_NAME_CHARS);
      return FALSE;
    }
  if (g_utf8_strlen (text, -1) > MAX_TEMPLATE_CHARS
      || (negative != NULL && g_utf8_strlen (takes_template_get_text (negative), -1) > MAX_TEMPLATE_CHARS))
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("A batch template may have at most %d characters; shorten it."), MAX_TEMPLATE_CHARS);
      return FALSE;
    }
  return TRUE;
}

/* The plan's seed settings without the variants: "mode", and "seed",
 * "base" or "seeds". */
static JsonObject *
plan_seed (TakesBatchPlan *plan)
{
  g_autoptr (JsonNode) whole = takes_batch_plan_to_json (plan);
  JsonObject *root = json_node_get_object (whole);

  if (json_object_has_member (root, "seed") && JSON_NODE_HOLDS_OBJECT (json_object_get_member (root, "seed")))
    return json_object_ref (json_object_get_object_member (root, "seed"));
  return json_object_new ();
}

static JsonObject *
plan_variables (TakesBatchPlan *plan)
{
  const char *const *names = takes_batch_plan_get_variable_names (plan);
  JsonObject *variables = json_object_new ();

  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *const *values = takes_batch_plan_get_values (plan, names[i]);
      JsonArray *array = json_array_new ();

      for (guint k = 0; values != NULL && values[k] != NULL; k++)
        json_array_add_string_element (array, values[k]);
      json_object_set_array_member (variables, names[i], array);
    }
  return variables;
}

static char *
axes_json (TakesBatchPlan *plan)
{
  const char *const *names = takes_batch_plan_get_variable_names (plan);
  g_autoptr (JsonArray) array = json_array_new ();
  g_autoptr (JsonNode) node = NULL;

  for (guint i = 0; names[i] != NULL; i++)
    json_array_add_string_element (array, names[i]);
  node = json_node_init_array (json_node_alloc (), array);
  return node_to_json (node);
}

/* Builds and checks the take of variant @index, before anything is stored,
 * so a bad parameter names its variant and stores nothing. */
static TakesTake *
variant_take (TakesBatchPlan *plan, guint index, const char *backend, const char *model, GError **error)
{
  const char *const *names = takes_batch_plan_get_variable_names (plan);
  const TakesBatchVariant *variant = takes_batch_plan_get_variant (plan, index);
  g_autoptr (JsonObject) object = takes_batch_plan_get_variant_recipe (plan, index);
  g_autoptr (JsonObject) variables = takes_batch_plan_get_variant_tags (plan, index);
  g_autoptr (TakesRecipe) recipe = NULL;
  g_autoptr (GStrvBuilder) tags = g_strv_builder_new ();
  g_auto (GStrv) tag_list = NULL;
  g_autoptr (GError) local_error = NULL;
  TakesTake *take;

  recipe = takes_recipe_new_from_object (object, &local_error);
  if (recipe != NULL)
    {
      if (backend != NULL)
        takes_recipe_set_backend (recipe, backend);
      if (model != NULL)
        takes_recipe_set_model (recipe, model);
      takes_recipe_validate (recipe, &local_error);
    }
  if (local_error != NULL)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("Variant %u of the batch cannot be queued: %s"), variant->index + 1,
                   local_error->message);
      return NULL;
    }

  take = takes_take_new (recipe);
  takes_take_set_variables (take, variables);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *tag = variable_tag (names[i], variant->values[i]);

      g_strv_builder_add (tags, tag);
    }
  tag_list = g_strv_builder_end (tags);
  takes_take_set_tags (take, (const char *const *)tag_list);
  return take;
}

GPtrArray *
takes_batch_plan_make_takes (
    TakesBatchPlan *plan, gint64 project_id, const char *backend, const char *model, GError **error)
{
  g_autoptr (GPtrArray) made = NULL;
  guint n_variants;

  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (plan), NULL);

  n_variants = takes_batch_plan_get_n_variants (plan);
  made = g_ptr_array_new_full (n_variants, g_object_unref);
  for (guint i = 0; i < n_variants; i++)
    {
      TakesTake *take = variant_take (plan, i, backend, model, error);

      if (take == NULL)
        return NULL;
      takes_take_set_project_id (take, project_id);
      g_ptr_array_add (made, take);
    }
  return g_steal_pointer (&made);
}

/* Inserts the batch row inside the caller's transaction; 0 on error. */
static gint64
insert_batch (TakesStore *self, gint64 project_id, TakesBatchPlan *plan, GError **error)
{
  g_autoptr (sqlite3_stmt) insert = NULL;
  g_autoptr (JsonObject) variables = plan_variables (plan);
  g_autoptr (JsonObject) seed = plan_seed (plan);
  g_autofree char *variables_json = object_to_json (variables);
  g_autofree char *seed_json = object_to_json (seed);
  g_autofree char *params_json = object_to_json (takes_batch_plan_get_params (plan));
  g_autofree char *axes = axes_json (plan);
  TakesTemplate *negative = takes_batch_plan_get_negative (plan);
  const char *name = takes_batch_plan_get_name (plan);
  sqlite3 *db = takes_store_get_db (self);

  insert = takes_store_prepare (
      self,
      "INSERT INTO batches (project_id, name, template, variables, created_at, negative, mode, "
      "seed_mode, seed, axes, params) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
      _ ("store the batch"), error);
  if (insert == NULL)
    return 0;
  sqlite3_bind_int64 (insert, 1, project_id);
  sqlite3_bind_text (insert, 2, name != NULL ? name : "", -1, SQLITE_STATIC);
  sqlite3_bind_text (insert, 3, takes_template_get_text (takes_batch_plan_get_template (plan)), -1,
                     SQLITE_STATIC);
  sqlite3_bind_text (insert, 4, variables_json, -1, SQLITE_STATIC);
  sqlite3_bind_int64 (insert, 5, g_get_real_time ());
  sqlite3_bind_text (insert, 6, negative != NULL ? takes_template_get_text (negative) : "", -1,
                     SQLITE_STATIC);
  sqlite3_bind_text (insert, 7, takes_batch_mode_to_string (takes_batch_plan_get_mode (plan)), -1,
                     SQLITE_STATIC);
  sqlite3_bind_text (insert, 8, takes_batch_seed_mode_to_string (takes_batch_plan_get_seed_mode (plan)), -1,
                     SQLITE_STATIC);
  sqlite3_bind_text (insert, 9, seed_json, -1, SQLITE_STATIC);
  sqlite3_bind_text (insert, 10, axes, -1, SQLITE_STATIC);
  sqlite3_bind_text (insert, 11, params_json, -1, SQLITE_STATIC);
  if (sqlite3_step (insert) != SQLITE_DONE)
    {
      int rc = sqlite3_extended_errcode (db);

      /* A missing project is a foreign key failure; say which project. */
      if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
        g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND,
                     _ ("There is no project %" PRId64 "; list the projects and pick one."),
                     project_id);
      else
        takes_store_set_sqlite_error (error, db, rc, _ ("store the batch"));
      return 0;
    }
  return sqlite3_last_insert_rowid (db);
}

TakesBatchInfo *
takes_store_create_batch_from_plan (TakesStore *self, gint64 project_id, TakesBatchPlan *plan, GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  gint64 batch_id;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (plan), NULL);

  if (project_id <= 0)
    project_id = takes_store_get_default_project (self);
  if (!check_batch_text (plan, error) || !takes_store_transaction_begin (self, &txn, error))
    return NULL;
  batch_id = insert_batch (self, project_id, plan, error);
  if (batch_id == 0 || !takes_store_transaction_commit (&txn, error))
    return NULL;
  return takes_store_get_batch_info (self, batch_id, error);
}

gboolean
takes_store_delete_empty_batch (TakesStore *self, gint64 batch_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  sqlite3 *db;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), FALSE);

  stmt = takes_store_prepare (
      self, "DELETE FROM batches WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM takes WHERE batch_id = ?1)",
      _ ("delete the batch"), error);
  if (stmt == NULL)
    return FALSE;
  db = takes_store_get_db (self);
  sqlite3_bind_int64 (stmt, 1, batch_id);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      takes_store_set_sqlite_error (error, db, rc, _ ("delete the batch"));
      return FALSE;
    }
  if (sqlite3_changes (db) == 0)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("Batch %" PRId64 " does not exist or still has takes; it was kept."),
                   batch_id);
      return FALSE;
    }
  return TRUE;
}

TakesBatchInfo *
takes_store_add_batch (TakesStore *self,
                       gint64 project_id,
                       TakesBatchPlan *plan,
                       const char *backend,
                       const char *model,
                       TakesStoreBatchTakeFunc take_func,
                       gpointer user_data,
                       GPtrArray **takes,
                       GError **error)
{
  g_auto (TakesStoreTransaction) txn = { 0 };
  g_autoptr (GPtrArray) made = NULL;
  gint64 batch_id;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (plan), NULL);

  if (project_id <= 0)
    project_id = takes_store_get_default_project (self);
  if (!check_batch_text (plan, error))
    return NULL;
  made = takes_batch_plan_make_takes (plan, project_id, backend, model, error);
  if (made == NULL || !takes_store_transaction_begin (self, &txn, error))
    return NULL;
  batch_id = insert_batch (self, project_id, plan, error);
  if (batch_id == 0)
    return NULL;
  for (guint i = 0; i < made->len; i++)
    {
      TakesTake *take = g_ptr_array_index (made, i);

      takes_take_set_batch_id (take, batch_id);
      if (!takes_store_insert_take_in_transaction (self, take, error))
        return NULL;
      if (take_func != NULL
          && !take_func (self, take, takes_batch_plan_get_variant (plan, i), user_data, error))
        return NULL;
    }
  if (!takes_store_transaction_commit (&txn, error))
    return NULL;

  if (takes != NULL)
    *takes = g_steal_pointer (&made);
  return takes_store_get_batch_info (self, batch_id, error);
}

/* Reading batches --------------------------------------------------------- */

#define BATCH_COLUMNS                                                                                        \
  "b.id, b.project_id, b.name, b.template, b.variables, b.created_at, b.negative, b.mode, b.seed_mode, "     \
  "b.seed, b.axes, b.params"

static TakesBatchInfo *
info_from_stmt (sqlite3_stmt *stmt)
{
  TakesBatchInfo *info = g_new0 (TakesBatchInfo, 1);
  const char *mode = (const char *)sqlite3_column_text (stmt, 7);
  const char *seed_mode = (const char *)sqlite3_column_text (stmt, 8);

  info->id = sqlite3_column_int64 (stmt, 0);
  info->project_id = sqlite3_column_int64 (stmt, 1);
  info->name = g_strdup ((const char *)sqlite3_column_text (stmt, 2));
  info->template_text = g_strdup ((const char *)sqlite3_column_text (stmt, 3));
  info->variables = object_from_json ((const char *)sqlite3_column_text (stmt, 4));
  info->created = sqlite3_column_int64 (stmt, 5);
  info->negative_text = g_strdup ((const char *)sqlite3_column_text (stmt, 6));
  info->mode = g_strcmp0 (mode, "zip") == 0 ? TAKES_BATCH_MODE_ZIP : TAKES_BATCH_MODE_CROSS;
  if (g_strcmp0 (seed_mode, "fixed") == 0)
    info->seed_mode = TAKES_BATCH_SEED_FIXED;
  else if (g_strcmp0 (seed_mode, "list") == 0)
    info->seed_mode = TAKES_BATCH_SEED_LIST;
  else
    info->seed_mode = TAKES_BATCH_SEED_VARY;
  info->seed = object_from_json ((const char *)sqlite3_column_text (stmt, 9));
  info->axes = strv_from_json ((const char *)sqlite3_column_text (stmt, 10));
  info->params = object_from_json ((const char *)sqlite3_column_text (stmt, 11));
  return info;
}

/* Fills in the take counts of @infos (keyed by batch id) in one query. */
static gboolean
count_takes (TakesStore *self, GHashTable *infos, gint64 batch_id, gint64 project_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  if (batch_id > 0)
    stmt = takes_store_prepare (
        self, "SELECT batch_id, status, count(*) FROM takes WHERE batch_id = ?1 GROUP BY status",
        _ ("count the takes of the batch"), error);
  else if (project_id > 0)
    stmt = takes_store_prepare (self,
                                "SELECT t.batch_id, t.status, count(*) FROM takes AS t JOIN batches AS b "
                                "ON b.id = t.batch_id WHERE b.project_id = ?1 GROUP BY t.batch_id, t.status",
                                _ ("count the takes of the batches"), error);
  else
    stmt = takes_store_prepare (self,
                                "SELECT batch_id, status, count(*) FROM takes WHERE batch_id IS NOT NULL "
                                "GROUP BY batch_id, status",
                                _ ("count the takes of the batches"), error);
  if (stmt == NULL)
    return FALSE;
  sqlite3_bind_int64 (stmt, 1, batch_id > 0 ? batch_id : project_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 id = sqlite3_column_int64 (stmt, 0);
      TakesBatchInfo *info = g_hash_table_lookup (infos, &id);
      TakesTakeStatus status;
      guint n = (guint)sqlite3_column_int64 (stmt, 2);

      if (info == NULL)
        continue;
      info->n_takes += n;
      if (takes_take_status_from_string ((const char *)sqlite3_column_text (stmt, 1), &status)
          && status < N_STATUSES)
        info->status_counts[status] += n;
    }
  if (rc != SQLITE_DONE)
    {
      takes_store_set_sqlite_error (error, takes_store_get_db (self), rc,
                                    _ ("count the takes of the batches"));
      return FALSE;
    }
  return TRUE;
}

TakesBatchInfo *
takes_store_get_batch_info (TakesStore *self, gint64 batch_id, GError **error)
{
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (TakesBatchInfo) info = NULL;
  g_autoptr (GHashTable) by_id = NULL;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  stmt = takes_store_prepare (self, "SELECT " BATCH_COLUMNS " FROM batches AS b WHERE b.id = ?1",
                              _ ("read the batch"), error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, batch_id);
  rc = sqlite3_step (stmt);
  if (rc == SQLITE_DONE)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND,
                   _ ("There is no batch %" PRId64 "; list the batches to see their numbers."),
                   batch_id);
      return NULL;
    }
  if (rc != SQLITE_ROW)
    {
      takes_store_set_sqlite_error (error, takes_store_get_db (self), rc, _ ("read the batch"));
      return NULL;
    }
  info = info_from_stmt (stmt);
  by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_hash_table_insert (by_id, &info->id, info);
  if (!count_takes (self, by_id, batch_id, 0, error))
    return NULL;
  return g_steal_pointer (&info);
}

GPtrArray *
takes_store_list_batch_infos (TakesStore *self, gint64 project_id, GError **error)
{
  g_autoptr (GPtrArray) infos = g_ptr_array_new_with_free_func ((GDestroyNotify)takes_batch_info_free);
  g_autoptr (GHashTable) by_id = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autoptr (sqlite3_stmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  stmt = takes_store_prepare (self,
                              project_id > 0
                                  ? "SELECT " BATCH_COLUMNS " FROM batches AS b WHERE b.project_id = ?1 "
                                    "ORDER BY b.id DESC"
                                  : "SELECT " BATCH_COLUMNS " FROM batches AS b ORDER BY b.id DESC",
                              _ ("list the batches"), error);
  if (stmt == NULL)
    return NULL;
  if (project_id > 0)
    sqlite3_bind_int64 (stmt, 1, project_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      TakesBatchInfo *info = info_from_stmt (stmt);

      g_ptr_array_add (infos, info);
      g_hash_table_insert (by_id, &info->id, info);
    }
  if (rc != SQLITE_DONE)
    {
      takes_store_set_sqlite_error (error, takes_store_get_db (self), rc, _ ("list the batches"));
      return NULL;
    }
  if (infos->len > 0 && !count_takes (self, by_id, 0, project_id, error))
    return NULL;
  return g_steal_pointer (&infos);
}

/* The grid ---------------------------------------------------------------- */

typedef struct
{
  GPtrArray *values; /* owned strings, in order */
  GHashTable *index; /* value → position + 1 */
} Axis;

static guint axis_position (Axis *axis, const char *value);

static void
axis_init (Axis *axis, TakesBatchInfo *info, const char *name)
{
  axis->values = g_ptr_array_new_with_free_func (g_free);
  axis->index = g_hash_table_new (g_str_hash, g_str_equal);
  if (name == NULL)
    {
      axis_position (axis, "");
      return;
    }
  if (json_object_has_member (info->variables, name)
      && JSON_NODE_HOLDS_ARRAY (json_object_get_member (info->variables, name)))
    {
      JsonArray *array = json_object_get_array_member (info->variables, name);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);
          const char *value;

          if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_STRING)
            continue;
          value = json_node_get_string (element);
          if (g_hash_table_contains (axis->index, value))
            continue;
          g_ptr_array_add (axis->values, g_strdup (value));
          g_hash_table_insert (axis->index, g_ptr_array_index (axis->values, axis->values->len - 1),
                               GUINT_TO_POINTER (axis->values->len));
        }
    }
}

/* The position of @value on the axis, added at the end when only a take
 * has it. */
static guint
axis_position (Axis *axis, const char *value)
{
  gpointer found = g_hash_table_lookup (axis->index, value);

  if (found != NULL)
    return GPOINTER_TO_UINT (found) - 1;
  g_ptr_array_add (axis->values, g_strdup (value));
  g_hash_table_insert (axis->index, g_ptr_array_index (axis->values, axis->values->len - 1),
                       GUINT_TO_POINTER (axis->values->len));
  return axis->values->len - 1;
}

static GStrv
axis_steal_values (Axis *axis)
{
  GStrv values;

  g_ptr_array_add (axis->values, NULL);
  values = (GStrv)g_ptr_array_free (g_steal_pointer (&axis->values), FALSE);
  g_clear_pointer (&axis->index, g_hash_table_unref);
  return values;
}

static void
axis_clear (Axis *axis)
{
  g_clear_pointer (&axis->index, g_hash_table_unref);
  g_clear_pointer (&axis->values, g_ptr_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Axis, axis_clear)

static gboolean
batch_has_axis (TakesBatchInfo *info, const char *name)
{
  return g_strv_contains ((const char *const *)info->axes, name)
         || json_object_has_member (info->variables, name);
}

static gboolean
check_axis (TakesBatchInfo *info, const char *name, GError **error)
{
  g_autofree char *known = NULL;

  if (name == NULL || batch_has_axis (info, name))
    return TRUE;
  known = g_strjoinv (", ", info->axes);
  if (known[0] == '\0')
    g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                 _ ("Batch %" PRId64 " has no variables to lay its takes out by."), info->id);
  else
    g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                 _ ("Batch %" PRId64 " has no variable “%s”; choose one of: %s."), info->id, name,
                 known);
  return FALSE;
}

/* The string value of @name in a take's variables, or NULL. */
static const char *
variable_value (JsonObject *variables, const char *name)
{
  JsonNode *node;

  if (variables == NULL || name == NULL || !json_object_has_member (variables, name))
    return NULL;
  node = json_object_get_member (variables, name);
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static gboolean
matches_fixed (JsonObject *variables, GHashTable *fixed)
{
  GHashTableIter iter;
  gpointer name, value;

  if (fixed == NULL)
    return TRUE;
  g_hash_table_iter_init (&iter, fixed);
  while (g_hash_table_iter_next (&iter, &name, &value))
    if (g_strcmp0 (variable_value (variables, name), value) != 0)
      return FALSE;
  return TRUE;
}

typedef struct
{
  guint row;
  guint column;
  gint64 take_id;
} Placed;

TakesBatchGrid *
takes_store_get_batch_grid (TakesStore *self,
                            gint64 batch_id,
                            const char *row_axis,
                            const char *column_axis,
                            GHashTable *fixed,
                            GError **error)
{
  g_autoptr (TakesBatchInfo) info = NULL;
  g_autoptr (sqlite3_stmt) stmt = NULL;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GArray) placed = g_array_new (FALSE, FALSE, sizeof (Placed));
  g_auto (Axis) rows = { 0 };
  g_auto (Axis) columns = { 0 };
  TakesBatchGrid *grid;
  gsize n_cells;
  int rc;

  g_return_val_if_fail (TAKES_IS_STORE (self), NULL);

  info = takes_store_get_batch_info (self, batch_id, error);
  if (info == NULL || !check_axis (info, row_axis, error) || !check_axis (info, column_axis, error))
    return NULL;
  if (row_axis != NULL && g_strcmp0 (row_axis, column_axis) == 0)
    {
      g_set_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID,
                   _ ("Rows and columns both show “%s”; choose two different variables."), row_axis);
      return NULL;
    }

  axis_init (&rows, info, row_axis);
  axis_init (&columns, info, column_axis);
  stmt = takes_store_prepare (self, "SELECT id, variables FROM takes WHERE batch_id = ?1 ORDER BY id",
                              _ ("read the takes of the batch"), error);
  if (stmt == NULL)
    return NULL;
  sqlite3_bind_int64 (stmt, 1, batch_id);
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      JsonNode *root = parse_json (parser, (const char *)sqlite3_column_text (stmt, 1));
      JsonObject *variables
          = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
      const char *row_value = row_axis != NULL ? variable_value (variables, row_axis) : "";
      const char *column_value = column_axis != NULL ? variable_value (variables, column_axis) : "";
      Placed p;

      /* A take that lacks a shown variable has no place on the grid. */
      if (row_value == NULL || column_value == NULL || !matches_fixed (variables, fixed))
        continue;
      p.row = axis_position (&rows, row_value);
      p.column = axis_position (&columns, column_value);
      p.take_id = sqlite3_column_int64 (stmt, 0);
      g_array_append_val (placed, p);
    }
  if (rc != SQLITE_DONE)
    {
      takes_store_set_sqlite_error (error, takes_store_get_db (self), rc, _ ("read the takes of the batch"));
      return NULL;
    }

  grid = g_new0 (TakesBatchGrid, 1);
  grid->batch_id = batch_id;
  grid->row_axis = g_strdup (row_axis);
  grid->column_axis = g_strdup (column_axis);
  grid->n_rows = rows.values->len;
  grid->n_columns = columns.values->len;
  grid->row_values = axis_steal_values (&rows);
  grid->column_values = axis_steal_values (&columns);
  n_cells = (gsize)grid->n_rows * grid->n_columns;
  grid->cells = g_new0 (TakesBatchCell *, MAX (n_cells, 1));
  for (guint i = 0; i < placed->len; i++)
    {
      const Placed *p = &g_array_index (placed, Placed, i);
      TakesBatchCell **cell = &grid->cells[(gsize)p->row * grid->n_columns + p->column];

      if (*cell == NULL)
        *cell = g_new0 (TakesBatchCell, 1);
      (*cell)->take_ids = g_renew (gint64, (*cell)->take_ids, (*cell)->n_takes + 1);
      (*cell)->take_ids[(*cell)->n_takes++] = p->take_id;
    }
  return grid;
}
