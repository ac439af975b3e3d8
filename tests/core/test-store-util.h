/* test-store-util.h: throwaway libraries for the store tests. */
#pragma once

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sqlite3.h>
#include <string.h>

#include "takes-store.h"

static inline void
store_test_rm_rf (const char *path)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (g_file_test (path, G_FILE_TEST_IS_SYMLINK) || !g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_unlink (path);
      return;
    }
  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      store_test_rm_rf (child);
    }
  g_rmdir (path);
}

/* A library of its own in a fresh temporary folder, for g_test_add(). */
typedef struct
{
  char *dir;
  TakesStore *store;
} StoreTestFixture;

static inline void
store_test_fixture_set_up (StoreTestFixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("takes-store-test-XXXXXX", &error);
  g_assert_no_error (error);
  f->store = takes_store_open (f->dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
}

/* The store, when a test has not taken it, must be its last reference. */
static inline void
store_test_fixture_tear_down (StoreTestFixture *f, gconstpointer data)
{
  if (f->store != NULL)
    g_assert_finalize_object (g_steal_pointer (&f->store));
  store_test_rm_rf (f->dir);
  g_free (f->dir);
}

static inline TakesTake *
store_test_take (const char *prompt)
{
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();

  takes_recipe_set_prompt (recipe, prompt);
  return takes_take_new (recipe);
}

/* Writes @size bytes of a repeating pattern to @path. */
static inline void
store_test_write_file (const char *path, gsize size)
{
  g_autofree char *data = g_malloc (size);
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < size; i++)
    data[i] = (char)(i * 31 + 7);
  g_file_set_contents (path, data, (gssize)size, &error);
  g_assert_no_error (error);
}

/* Runs a query returning one integer on its own connection, so the test
 * sees what is committed on disk. */
static inline gint64
store_test_query_int (const char *data_dir, const char *sql)
{
  g_autofree char *path = g_build_filename (data_dir, "library.db", NULL);
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  gint64 value = -1;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_prepare_v2 (db, sql, -1, &stmt, NULL), ==, SQLITE_OK);
  if (sqlite3_step (stmt) == SQLITE_ROW)
    value = sqlite3_column_int64 (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);
  return value;
}

static inline void
store_test_exec (const char *data_dir, const char *sql)
{
  g_autofree char *path = g_build_filename (data_dir, "library.db", NULL);
  sqlite3 *db = NULL;

  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, sql, NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);
}

/* Every regular file under @dir, relative to it, sorted. */
static inline void
store_test_list_files_into (const char *root, const char *relative, GPtrArray *out)
{
  g_autofree char *path = relative != NULL ? g_build_filename (root, relative, NULL) : g_strdup (root);
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child_rel
          = relative != NULL ? g_build_filename (relative, name, NULL) : g_strdup (name);
      g_autofree char *child = g_build_filename (root, child_rel, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        store_test_list_files_into (root, child_rel, out);
      else
        g_ptr_array_add (out, g_steal_pointer (&child_rel));
    }
}

static inline int
store_test_compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

static inline GPtrArray *
store_test_list_files (const char *dir)
{
  GPtrArray *files = g_ptr_array_new_with_free_func (g_free);

  store_test_list_files_into (dir, NULL, files);
  g_ptr_array_sort (files, store_test_compare_strings);
  return files;
}
