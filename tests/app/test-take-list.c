/* test-take-list.c: the gallery's paged model and its thumbnail cache. */
#include "config.h"

#include "app-test-util.h"
#include "takes-media.h"
#include "takes-take-list.h"
#include "takes-thumbnail-cache.h"

static void
items_changed_cb (GListModel *model, guint position, guint removed, guint added, guint *calls)
{
  (*calls)++;
}

static void
test_take_list_pages_lazily (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("lazy");
  g_autoptr (TakesTakeList) list = NULL;
  g_autoptr (TakesTake) first = NULL;
  g_autoptr (TakesTake) again = NULL;
  g_autoptr (TakesTake) last = NULL;

  app_test_fill_store (store, 1000);
  list = takes_take_list_new (store);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 1000);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (list)) == TAKES_TYPE_TAKE);
  /* Counting reads no rows. */
  g_assert_cmpuint (takes_take_list_get_n_page_reads (list), ==, 0);

  first = g_list_model_get_item (G_LIST_MODEL (list), 0);
  again = g_list_model_get_item (G_LIST_MODEL (list), 5);
  g_assert_cmpuint (takes_take_list_get_n_page_reads (list), ==, 1);
  /* Newest first: the last take added comes first. */
  g_assert_true (g_str_has_suffix (takes_take_get_prompt (first), "take 999"));
  g_assert_cmpint (takes_take_get_id (first), >, takes_take_get_id (again));

  last = g_list_model_get_item (G_LIST_MODEL (list), 999);
  g_assert_true (g_str_has_suffix (takes_take_get_prompt (last), "take 0"));
  g_assert_cmpuint (takes_take_list_get_n_page_reads (list), ==, 2);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (list), 1000));
  g_assert_cmpint (takes_take_list_find_cached (list, takes_take_get_id (last)), ==, 999);
}

static void
test_take_list_keeps_few_pages (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("few-pages");
  g_autoptr (TakesTakeList) list = NULL;
  guint n_pages;
  guint reads;

  app_test_fill_store (store, 4000);
  list = takes_take_list_new (store);
  n_pages = (4000 + TAKES_TAKE_LIST_PAGE_SIZE - 1) / TAKES_TAKE_LIST_PAGE_SIZE;
  for (guint i = 0; i < 4000; i += TAKES_TAKE_LIST_PAGE_SIZE)
    g_object_unref (g_list_model_get_item (G_LIST_MODEL (list), i));
  g_assert_cmpuint (takes_take_list_get_n_page_reads (list), ==, n_pages);

  /* The first page was dropped to make room; reading it again goes to the store. */
  reads = takes_take_list_get_n_page_reads (list);
  g_object_unref (g_list_model_get_item (G_LIST_MODEL (list), 0));
  g_assert_cmpuint (takes_take_list_get_n_page_reads (list), ==, reads + 1);
  /* The most recent pages are still there. */
  g_object_unref (g_list_model_get_item (G_LIST_MODEL (list), 3999));
  g_assert_cmpuint (takes_take_list_get_n_page_reads (list), ==, reads + 1);
}

static void
test_take_list_reload_follows_the_store (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("reload");
  g_autoptr (TakesTakeList) list = NULL;
  g_autoptr (TakesTake) first = NULL;
  guint calls = 0;
  gint64 id;

  app_test_fill_store (store, 10);
  list = takes_take_list_new (store);
  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), &calls);
  first = g_list_model_get_item (G_LIST_MODEL (list), 0);
  id = takes_take_get_id (first);
  g_assert_true (takes_store_delete_takes (store, &id, 1, NULL));

  takes_take_list_reload (list);
  g_assert_cmpuint (calls, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 9);
  g_assert_cmpint (takes_take_list_find_cached (list, id), ==, -1);

  /* Setting a filter to what it already is reads nothing again. */
  takes_take_list_set_text (list, "  ");
  g_assert_cmpuint (calls, ==, 1);
  takes_take_list_set_text (list, "fox");
  g_assert_cmpuint (calls, ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), <, 9);
}

static void
test_take_list_bad_search_is_an_error_not_a_crash (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("bad-search");
  g_autoptr (TakesTakeList) list = NULL;

  app_test_fill_store (store, 5);
  list = takes_take_list_new (store);
  /* Quotes and operators the full-text syntax would choke on are words here. */
  takes_take_list_set_text (list, "\"unbalanced AND (fox OR");
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 0);
  takes_take_list_set_text (list, NULL);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 5);
  g_assert_null (takes_take_list_get_error (list));
}

static void
loaded_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  *(GAsyncResult **)user_data = g_object_ref (result);
}

static GdkTexture *
load_thumbnail (TakesThumbnailCache *cache, gint64 take_id, const char *video, GError **error)
{
  g_autoptr (GAsyncResult) result = NULL;

  takes_thumbnail_cache_load_async (cache, take_id, video, NULL, loaded_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return takes_thumbnail_cache_load_finish (cache, result, error);
}

static void
test_thumbnails_made_once_off_the_main_thread (void)
{
  g_autofree char *video = g_build_filename (app_test_root, "clip.mp4", NULL);
  g_autofree char *cache_dir = g_build_filename (app_test_root, "thumbs", NULL);
  g_autoptr (TakesThumbnailCache) cache = takes_thumbnail_cache_new (cache_dir, 96);
  g_autoptr (GError) error = NULL;
  g_autoptr (GdkTexture) texture = NULL;
  g_autoptr (GdkTexture) cached = NULL;
  g_autofree char *png = NULL;
  g_autoptr (TakesMediaEncoder) encoder = NULL;
  g_autofree guint8 *rgb = g_malloc (64 * 48 * 3);

  if (!takes_media_can_encode (&error))
    {
      g_test_skip (error->message);
      return;
    }
  encoder = takes_media_encoder_new (video, 64, 48, 16, 1, NULL, &error);
  g_assert_no_error (error);
  for (guint f = 0; f < 9; f++)
    {
      memset (rgb, 20 * f, 64 * 48 * 3);
      g_assert_true (takes_media_encoder_push_rgb (encoder, rgb, 64 * 3, &error));
    }
  g_assert_true (takes_media_encoder_finish (encoder, &error));
  g_assert_no_error (error);

  g_assert_null (takes_thumbnail_cache_lookup (cache, 7));
  texture = load_thumbnail (cache, 7, video, &error);
  g_assert_no_error (error);
  g_assert_nonnull (texture);
  g_assert_cmpint (gdk_texture_get_width (texture), <=, 96);
  png = takes_thumbnail_cache_get_path (cache, 7);
  g_assert_true (g_file_test (png, G_FILE_TEST_EXISTS));
  g_assert_true (takes_thumbnail_cache_lookup (cache, 7) == texture);

  /* The PNG on disk serves a new cache without the video. */
  {
    g_autoptr (TakesThumbnailCache) fresh = takes_thumbnail_cache_new (cache_dir, 96);

    cached = load_thumbnail (fresh, 7, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (gdk_texture_get_width (cached), ==, gdk_texture_get_width (texture));
  }

  /* A take without a video, and a file that is not one, give errors. */
  g_clear_object (&cached);
  cached = load_thumbnail (cache, 8, NULL, &error);
  g_assert_null (cached);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  {
    g_autofree char *text = g_build_filename (app_test_root, "not-a-video.mp4", NULL);

    g_assert_true (g_file_set_contents (text, "hello", -1, NULL));
    cached = load_thumbnail (cache, 9, text, &error);
    g_assert_null (cached);
    g_assert_nonnull (error);
  }
}

int
main (int argc, char **argv)
{
  int status;

  app_test_setup_env ();
  gtk_test_init (&argc, &argv, NULL);

  g_test_add_func ("/take-list/pages/read-lazily", test_take_list_pages_lazily);
  g_test_add_func ("/take-list/pages/only-a-few-kept", test_take_list_keeps_few_pages);
  g_test_add_func ("/take-list/reload/follows-the-store", test_take_list_reload_follows_the_store);
  g_test_add_func ("/take-list/search/odd-syntax-finds-nothing-without-error",
                   test_take_list_bad_search_is_an_error_not_a_crash);
  g_test_add_func ("/thumbnails/made-once-off-the-main-thread",
                   test_thumbnails_made_once_off_the_main_thread);

  status = g_test_run ();
  app_test_cleanup_root ();
  return status;
}
