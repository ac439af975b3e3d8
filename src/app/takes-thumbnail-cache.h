/* takes-thumbnail-cache.h: gallery thumbnails, made off the main thread.
 *
 * A thumbnail is the middle frame of a take's video as a PNG under the cache
 * folder (thumbnails/<size>/<take-id>.png), made once by a worker thread and
 * kept in memory for the most recently shown takes.
 */
#pragma once

#include <gdk/gdk.h>
#include <gio/gio.h>

G_BEGIN_DECLS

#define TAKES_TYPE_THUMBNAIL_CACHE (takes_thumbnail_cache_get_type ())
G_DECLARE_FINAL_TYPE (TakesThumbnailCache, takes_thumbnail_cache, TAKES, THUMBNAIL_CACHE, GObject)

/* @cache_dir: NULL for takes_paths_cache_dir(). @size: the longest side in pixels. */
TakesThumbnailCache *takes_thumbnail_cache_new (const char *cache_dir, int size);
int takes_thumbnail_cache_get_size (TakesThumbnailCache *self);
/* The PNG path a take's thumbnail has, made or not. */
char *takes_thumbnail_cache_get_path (TakesThumbnailCache *self, gint64 take_id);
/* A thumbnail already in memory, or NULL. */
GdkTexture *takes_thumbnail_cache_lookup (TakesThumbnailCache *self, gint64 take_id);

/* Reads the cached PNG, or makes it from @media_file first. */
void takes_thumbnail_cache_load_async (TakesThumbnailCache *self,
                                       gint64 take_id,
                                       const char *media_file,
                                       GCancellable *cancellable,
                                       GAsyncReadyCallback callback,
                                       gpointer user_data);
GdkTexture *
takes_thumbnail_cache_load_finish (TakesThumbnailCache *self, GAsyncResult *result, GError **error);

G_END_DECLS
