/* takes-paths.c: where Takes keeps its library, media, cache and shipped data.
 *
 * TAKES_DATA_DIR overrides the library location, so tests and scripts can use a
 * throwaway folder; TAKES_CACHE_DIR does the same for thumbnails.
 */
#include "config.h"

#include "takes-paths.h"

char *
takes_paths_data_dir (void)
{
  const char *env = g_getenv ("TAKES_DATA_DIR");

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  return g_build_filename (g_get_user_data_dir (), "takes", NULL);
}

char *
takes_paths_cache_dir (void)
{
  const char *env = g_getenv ("TAKES_CACHE_DIR");
  g_autofree char *data = NULL;

  if (env != NULL && *env != '\0')
    return g_strdup (env);
  /* A library chosen with TAKES_DATA_DIR keeps its own cache, so two libraries
   * never share thumbnails by accident. */
  if (g_getenv ("TAKES_DATA_DIR") != NULL)
    {
      data = takes_paths_data_dir ();
      return g_build_filename (data, "cache", NULL);
    }
  return g_build_filename (g_get_user_cache_dir (), "takes", NULL);
}

char *
takes_paths_library_db (void)
{
  g_autofree char *dir = takes_paths_data_dir ();

  return g_build_filename (dir, "library.db", NULL);
}

char *
takes_paths_media_dir (void)
{
  g_autofree char *dir = takes_paths_data_dir ();

  return g_build_filename (dir, "media", NULL);
}

/* Shipped data (lexicons, word lists, templates): the source tree's data/ when
 * running uninstalled (TAKES_SOURCE_DATA set by the tests and the dev script),
 * else the installed package data folder. */
char *
takes_paths_datafile (const char *relative)
{
  const char *env = g_getenv ("TAKES_SOURCE_DATA");
  g_autofree char *installed = g_build_filename (PKGDATADIR, relative, NULL);

  if (env != NULL && *env != '\0')
    return g_build_filename (env, relative, NULL);
  if (g_file_test (installed, G_FILE_TEST_EXISTS))
    return g_steal_pointer (&installed);
  return g_build_filename (SOURCE_DATADIR, relative, NULL);
}
