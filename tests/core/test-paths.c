#include "takes-paths.h"

static void
test_paths_data_dir_override (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *db = NULL;
  g_autofree char *media = NULL;
  g_autofree char *cache = NULL;

  g_setenv ("TAKES_DATA_DIR", "/tmp/takes-paths-test", TRUE);
  g_unsetenv ("TAKES_CACHE_DIR");
  dir = takes_paths_data_dir ();
  db = takes_paths_library_db ();
  media = takes_paths_media_dir ();
  cache = takes_paths_cache_dir ();
  g_assert_cmpstr (dir, ==, "/tmp/takes-paths-test");
  g_assert_cmpstr (db, ==, "/tmp/takes-paths-test/library.db");
  g_assert_cmpstr (media, ==, "/tmp/takes-paths-test/media");
  g_assert_cmpstr (cache, ==, "/tmp/takes-paths-test/cache");
}

static void
test_paths_data_dir_xdg (void)
{
  g_autofree char *dir = NULL;
  g_autofree char *expected = g_build_filename (g_get_user_data_dir (), "takes", NULL);

  g_unsetenv ("TAKES_DATA_DIR");
  dir = takes_paths_data_dir ();
  g_assert_cmpstr (dir, ==, expected);
}

static void
test_paths_datafile_source (void)
{
  g_autofree char *path = NULL;

  g_setenv ("TAKES_SOURCE_DATA", "/src/takes/data", TRUE);
  path = takes_paths_datafile ("prompt/safety-en.txt");
  g_assert_cmpstr (path, ==, "/src/takes/data/prompt/safety-en.txt");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/paths/data-dir/override", test_paths_data_dir_override);
  g_test_add_func ("/paths/data-dir/xdg", test_paths_data_dir_xdg);
  g_test_add_func ("/paths/datafile/source", test_paths_datafile_source);
  return g_test_run ();
}
