#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *takes_paths_data_dir  (void);
char *takes_paths_cache_dir (void);
char *takes_paths_library_db (void);
char *takes_paths_media_dir (void);
char *takes_paths_datafile  (const char *relative);

G_END_DECLS
