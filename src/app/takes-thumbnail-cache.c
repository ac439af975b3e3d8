/* takes-thumbnail-cache.c: gallery thumbnails, made off the main thread. */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "takes-media.h"
#include "takes-paths.h"
#include "takes-thumbnail-cache.h"

/* About two screens of a large grid; a 192 px texture is ~100 KiB. */
#define MAX_IN_MEMORY 256

struct _TakesThumbnailCache
{
  GObject parent_instance;

  char *dir;
  int size;
  GHashTable *textures; /* take id (gint64 *) → GdkTexture */
  GQueue order;         /* gint64 * keys, most recent first */
};

G_DEFINE_FINAL_TYPE (TakesThumbnailCache, takes_thumbnail_cache, G_TYPE_OBJECT)

typedef struct
{
  char *png;
  char *media_file;
  int size;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_free (data->png);
  g_free (data->media_file);
  g_free (data);
}

static void
takes_thumbnail_cache_finalize (GObject *object)
{
  TakesThumbnailCache *self = TAKES_THUMBNAIL_CACHE (object);

  g_clear_pointer (&self->dir, g_free);
  g_clear_pointer (&self->textures, g_hash_table_unref);
  g_queue_clear (&self->order);

  G_OBJECT_CLASS (takes_thumbnail_cache_parent_class)->finalize (object);
}

static void
takes_thumbnail_cache_class_init (TakesThumbnailCacheClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = takes_thumbnail_cache_finalize;
}

static void
takes_thumbnail_cache_init (TakesThumbnailCache *self)
{
  self->textures = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, g_object_unref);
  g_queue_init (&self->order);
}

TakesThumbnailCache *
takes_thumbnail_cache_new (const char *cache_dir, int size)
{
  TakesThumbnailCache *self = g_object_new (TAKES_TYPE_THUMBNAIL_CACHE, NULL);
  g_autofree char *base = cache_dir != NULL ? g_strdup (cache_dir) : takes_paths_cache_dir ();
  g_autofree char *size_name = g_strdup_printf ("%d", size);

  self->size = size;
  self->dir = g_build_filename (base, "thumbnails", size_name, NULL);
  return self;
}

int
takes_thumbnail_cache_get_size (TakesThumbnailCache *self)
{
  g_return_val_if_fail (TAKES_IS_THUMBNAIL_CACHE (self), 0);
  return self->size;
}

char *
takes_thumbnail_cache_get_path (TakesThumbnailCache *self, gint64 take_id)
{
  g_autofree char *name = g_strdup_printf ("%" G_GINT64_FORMAT ".png", take_id);

  g_return_val_if_fail (TAKES_IS_THUMBNAIL_CACHE (self), NULL);
  return g_build_filename (self->dir, name, NULL);
}

GdkTexture *
takes_thumbnail_cache_lookup (TakesThumbnailCache *self, gint64 take_id)
{
  g_return_val_if_fail (TAKES_IS_THUMBNAIL_CACHE (self), NULL);
  return g_hash_table_lookup (self->textures, &take_id);
}

static void
remember (TakesThumbnailCache *self, gint64 take_id, GdkTexture *texture)
{
  gint64 *key;

  if (g_hash_table_contains (self->textures, &take_id))
    return;
  while (g_queue_get_length (&self->order) >= MAX_IN_MEMORY)
    g_hash_table_remove (self->textures, g_queue_pop_tail (&self->order));
  key = g_memdup2 (&take_id, sizeof take_id);
  g_hash_table_insert (self->textures, key, g_object_ref (texture));
  g_queue_push_head (&self->order, key);
}

static void
load_thread (GTask *task, gpointer source_object, gpointer task_data, GCancellable *cancellable)
{
  LoadData *data = task_data;
  g_autoptr (GError) error = NULL;
  GdkTexture *texture;

  if (!g_file_test (data->png, G_FILE_TEST_EXISTS))
    {
      g_autofree char *dir = g_path_get_dirname (data->png);

      if (data->media_file == NULL)
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "%s",
                                   _ ("This take has no video yet, so it has no thumbnail."));
          return;
        }
      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          int saved = errno;
          g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                   _ ("The thumbnail folder %s could not be created: %s. Check the "
                                      "permissions of the cache folder."),
                                   dir, g_strerror (saved));
          return;
        }
      if (g_task_return_error_if_cancelled (task))
        return;
      if (!takes_media_write_thumbnail (data->media_file, data->png, data->size, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
    }

  texture = gdk_texture_new_from_filename (data->png, &error);
  if (texture == NULL)
    {
      /* A damaged cache file is made again next time. */
      g_unlink (data->png);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_return_pointer (task, texture, g_object_unref);
}

void
takes_thumbnail_cache_load_async (TakesThumbnailCache *self,
                                  gint64 take_id,
                                  const char *media_file,
                                  GCancellable *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  LoadData *data;
  GdkTexture *cached;

  g_return_if_fail (TAKES_IS_THUMBNAIL_CACHE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, takes_thumbnail_cache_load_async);

  cached = takes_thumbnail_cache_lookup (self, take_id);
  if (cached != NULL)
    {
      g_task_return_pointer (task, g_object_ref (cached), g_object_unref);
      return;
    }

  data = g_new0 (LoadData, 1);
  data->png = takes_thumbnail_cache_get_path (self, take_id);
  data->media_file = g_strdup (media_file);
  data->size = self->size;
  g_task_set_task_data (task, data, (GDestroyNotify)load_data_free);
  g_object_set_data_full (G_OBJECT (task), "take-id", g_memdup2 (&take_id, sizeof take_id), g_free);
  g_task_run_in_thread (task, load_thread);
}

GdkTexture *
takes_thumbnail_cache_load_finish (TakesThumbnailCache *self, GAsyncResult *result, GError **error)
{
  GdkTexture *texture;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  texture = g_task_propagate_pointer (G_TASK (result), error);
  if (texture != NULL)
    {
      gint64 *take_id = g_object_get_data (G_OBJECT (result), "take-id");
      if (take_id != NULL)
        remember (self, *take_id, texture);
    }
  return texture;
}
