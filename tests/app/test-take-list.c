/* test-take-list.c: the gallery's paged model and its thumbnail cache. */
#include "config.h"

#include "app-test-util.h"
#include "takes-media.h"
#include "takes-take-list.h"
#include "takes-thumbnail-cache.h"

typedef struct
{
  guint calls;
  guint refreshes;
  guint last_position;
  guint last_removed;
  guint last_added;
} Changes;

static void
items_changed_cb (GListModel *model, guint position, guint removed, guint added, Changes *changes)
{
  changes->calls++;
  if (takes_take_list_is_refreshing (TAKES_TAKE_LIST (model)))
    {
      g_assert_cmpuint (removed, ==, added);
      changes->refreshes++;
    }
  changes->last_position = position;
  changes->last_removed = removed;
  changes->last_added = added;
}

/* Until every page read and edit has come back to the main context. */
static void
wait_idle (TakesTakeList *list)
{
  while (takes_take_list_get_busy (list))
    g_main_context_iteration (NULL, TRUE);
}

static void
test_take_list_pages_off_the_main_thread (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("lazy");
  g_autoptr (TakesTakeList) list = NULL;
  g_autoptr (TakesTake) waiting = NULL;
  g_autoptr (TakesTake) first = NULL;
  g_autoptr (TakesTake) again = NULL;
  g_autoptr (TakesTake) last = NULL;
  Changes changes = { 0 };

  app_test_fill_store (store, 1000);
  list = takes_take_list_new (store);
  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), &changes);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 1000);
  g_assert_true (g_list_model_get_item_type (G_LIST_MODEL (list)) == TAKES_TYPE_TAKE);
  /* The first page was sent for at once, and is read on the worker: until
   * the main loop runs, the view gets a placeholder. */
  g_assert_cmpuint (takes_take_list_get_n_page_reads (list), ==, 1);
  g_assert_true (takes_take_list_get_busy (list));
  waiting = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_true (takes_take_list_is_placeholder (waiting));
  g_assert_cmpint (takes_take_list_find_cached (list, 1), ==, -1);

  wait_idle (list);
  /* The placeholder handed out was replaced where it was, n-items unchanged. */
  g_assert_cmpuint (changes.refreshes, ==, 1);
  g_assert_cmpuint (changes.last_position, ==, 0);
  g_assert_cmpuint (changes.last_added, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 1000);

  first = g_list_model_get_item (G_LIST_MODEL (list), 0);
  again = g_list_model_get_item (G_LIST_MODEL (list), 5);
  g_assert_false (takes_take_list_is_placeholder (first));
  /* Newest first: the last take added comes first. */
  g_assert_true (g_str_has_suffix (takes_take_get_prompt (first), "take 999"));
  g_assert_cmpint (takes_take_get_id (first), >, takes_take_get_id (again));
  /* Reading a page sends for the next one ahead of the view. */
  g_assert_cmpuint (takes_take_list_get_n_page_reads (list), ==, 2);
  wait_idle (list);
  g_assert_cmpint (takes_take_list_find_cached (list, takes_take_get_id (first)), ==, 0);
  g_assert_cmpint (takes_take_list_find_cached (list, takes_take_get_id (first) - TAKES_TAKE_LIST_PAGE_SIZE),
                   ==, TAKES_TAKE_LIST_PAGE_SIZE);
  /* Nobody held a placeholder of the page fetched ahead: nothing to replace. */
  g_assert_cmpuint (changes.refreshes, ==, 1);

  last = g_list_model_get_item (G_LIST_MODEL (list), 999);
  g_assert_true (takes_take_list_is_placeholder (last));
  wait_idle (list);
  g_clear_object (&last);
  last = g_list_model_get_item (G_LIST_MODEL (list), 999);
  g_assert_true (g_str_has_suffix (takes_take_get_prompt (last), "take 0"));
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (list), 1000));
  g_assert_cmpint (takes_take_list_find_cached (list, takes_take_get_id (last)), ==, 999);
  wait_idle (list);
}

/* Reads every page in order, as a view scrolling down does, checking each
 * take against the store's own OFFSET paging; the pages resume after the
 * page before (keyset), so this also checks that the two agree. */
static void
test_take_list_pages_match_the_store (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("few-pages");
  g_autoptr (TakesTakeList) list = NULL;
  const TakesTakeSort sorts[] = { TAKES_TAKE_SORT_CREATED, TAKES_TAKE_SORT_RATING, TAKES_TAKE_SORT_UPDATED };
  guint n_pages = (4000 + TAKES_TAKE_LIST_PAGE_SIZE - 1) / TAKES_TAKE_LIST_PAGE_SIZE;
  guint reads;

  app_test_fill_store (store, 4000);
  list = takes_take_list_new (store);
  for (guint s = 0; s < G_N_ELEMENTS (sorts); s++)
    {
      g_autoptr (GPtrArray) expected = NULL;
      g_autoptr (GError) error = NULL;
      TakesTakeQuery query;

      takes_take_list_set_sort (list, sorts[s], s == 2);
      takes_take_query_init (&query);
      query.sort = sorts[s];
      query.ascending = s == 2;
      expected = takes_store_query_takes (store, &query, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (expected->len, ==, 4000);
      wait_idle (list);
      for (guint i = 0; i < 4000; i++)
        {
          g_autoptr (TakesTake) take = g_list_model_get_item (G_LIST_MODEL (list), i);

          if (takes_take_list_is_placeholder (take))
            {
              wait_idle (list);
              g_clear_object (&take);
              take = g_list_model_get_item (G_LIST_MODEL (list), i);
            }
          g_assert_cmpint (takes_take_get_id (take), ==, takes_take_get_id (expected->pdata[i]));
        }
      wait_idle (list);
    }
  g_assert_cmpuint (takes_take_list_get_n_page_reads (list), <=, 3 * n_pages + 3);

  /* Only the most recent pages are kept: the first was dropped to make
   * room, and reading it again goes to the store. */
  reads = takes_take_list_get_n_page_reads (list);
  {
    g_autoptr (TakesTake) take = g_list_model_get_item (G_LIST_MODEL (list), 3999);

    g_assert_false (takes_take_list_is_placeholder (take));
    g_assert_cmpuint (takes_take_list_get_n_page_reads (list), ==, reads);
  }
  {
    g_autoptr (TakesTake) take = g_list_model_get_item (G_LIST_MODEL (list), 0);

    g_assert_true (takes_take_list_is_placeholder (take));
    g_assert_cmpuint (takes_take_list_get_n_page_reads (list), ==, reads + 1);
  }
  wait_idle (list);
}

static void
test_take_list_reload_follows_the_store (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("reload");
  g_autoptr (TakesTakeList) list = NULL;
  g_autoptr (TakesTake) first = NULL;
  g_autoptr (TakesTake) stale = NULL;
  Changes changes = { 0 };
  gint64 id;

  app_test_fill_store (store, 10);
  list = takes_take_list_new (store);
  wait_idle (list);
  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), &changes);
  first = g_list_model_get_item (G_LIST_MODEL (list), 0);
  id = takes_take_get_id (first);
  g_assert_true (takes_store_delete_takes (store, &id, 1, NULL));

  takes_take_list_reload (list);
  g_assert_cmpuint (changes.calls, ==, 1);
  g_assert_cmpuint (changes.refreshes, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 9);
  g_assert_cmpint (takes_take_list_find_cached (list, id), ==, -1);

  /* A reload while a read is out drops the read's rows when they come. */
  stale = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_true (takes_take_list_is_placeholder (stale));
  takes_take_list_set_text (list, "fox");
  g_assert_cmpuint (changes.calls, ==, 2);
  wait_idle (list);
  g_assert_cmpuint (changes.refreshes, ==, 0);

  /* Setting a filter to what it already is reads nothing again. */
  takes_take_list_set_text (list, "  fox ");
  g_assert_cmpuint (changes.calls, ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), <, 9);
  wait_idle (list);
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
  wait_idle (list);
  g_assert_null (takes_take_list_get_error (list));
}

static void
edited_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GError **error = user_data;

  g_assert_null (*error);
  if (takes_take_list_edit_finish (TAKES_TAKE_LIST (source), result, error))
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "succeeded");
}

/* Runs an edit to its end; FALSE with @error set when it failed. */
static gboolean
edit (TakesTakeList *list,
      TakesTakeEditKind kind,
      gint64 *ids,
      guint n_ids,
      guint value,
      const char *text,
      GError **error)
{
  GError *outcome = NULL;

  takes_take_list_edit_async (list, kind, ids, n_ids, value, text, NULL, edited_cb, &outcome);
  while (outcome == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (g_error_matches (outcome, G_IO_ERROR, G_IO_ERROR_EXISTS))
    {
      g_error_free (outcome);
      return TRUE;
    }
  g_propagate_error (error, outcome);
  return FALSE;
}

static void
test_take_list_edits_replace_takes_in_place (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("edits");
  g_autoptr (TakesTakeList) list = NULL;
  g_autoptr (TakesTake) before = NULL;
  g_autoptr (TakesTake) after = NULL;
  g_autoptr (TakesTake) stored = NULL;
  g_autoptr (GError) error = NULL;
  Changes changes = { 0 };
  gint64 ids[2];

  app_test_fill_store (store, 12);
  list = takes_take_list_new (store);
  wait_idle (list);
  before = g_list_model_get_item (G_LIST_MODEL (list), 3);
  ids[0] = takes_take_get_id (before);
  {
    g_autoptr (TakesTake) other = g_list_model_get_item (G_LIST_MODEL (list), 4);

    ids[1] = takes_take_get_id (other);
  }
  wait_idle (list);
  g_signal_connect (list, "items-changed", G_CALLBACK (items_changed_cb), &changes);

  g_assert_true (edit (list, TAKES_TAKE_EDIT_RATING, ids, 2, 4, NULL, &error));
  g_assert_no_error (error);
  stored = takes_store_get_take (store, ids[1], &error);
  g_assert_no_error (error);
  g_assert_cmpuint (takes_take_get_rating (stored), ==, 4);
  /* Each edited take was read again and put where it was. */
  g_assert_cmpuint (changes.refreshes, ==, 2);
  g_assert_cmpuint (changes.calls, ==, 2);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (list)), ==, 12);
  after = g_list_model_get_item (G_LIST_MODEL (list), 3);
  g_assert_true (after != before);
  g_assert_cmpint (takes_take_get_id (after), ==, ids[0]);
  g_assert_cmpuint (takes_take_get_rating (after), ==, 4);

  g_assert_true (edit (list, TAKES_TAKE_EDIT_DECISION, ids, 1, TAKES_DECISION_APPROVED, NULL, &error));
  g_assert_true (edit (list, TAKES_TAKE_EDIT_ADD_TAG, ids, 2, 0, "keeper", &error));
  g_assert_true (edit (list, TAKES_TAKE_EDIT_NOTES, ids, 1, 0, "warm light", &error));
  g_assert_true (edit (list, TAKES_TAKE_EDIT_REMOVE_TAG, &ids[1], 1, 0, "keeper", &error));
  g_assert_no_error (error);
  g_clear_object (&after);
  after = g_list_model_get_item (G_LIST_MODEL (list), 3);
  g_assert_cmpint (takes_take_get_decision (after), ==, TAKES_DECISION_APPROVED);
  g_assert_true (takes_take_has_tag (after, "keeper"));
  g_assert_cmpstr (takes_take_get_notes (after), ==, "warm light");
  g_clear_object (&stored);
  stored = takes_store_get_take (store, ids[1], &error);
  g_assert_false (takes_take_has_tag (stored, "keeper"));

  /* Nothing to change is done at once. */
  g_assert_true (edit (list, TAKES_TAKE_EDIT_RATING, NULL, 0, 1, NULL, &error));
  g_assert_null (takes_take_list_get_error (list));
}

static void
test_take_list_failed_edit_reports_and_restores (void)
{
  g_autoptr (TakesStore) store = app_test_open_store ("failed-edit");
  g_autoptr (TakesTakeList) list = NULL;
  g_autoptr (TakesTake) shown = NULL;
  g_autoptr (GError) error = NULL;
  gint64 ids[2];
  guint rating;

  app_test_fill_store (store, 3);
  list = takes_take_list_new (store);
  wait_idle (list);
  shown = g_list_model_get_item (G_LIST_MODEL (list), 0);
  ids[0] = takes_take_get_id (shown);
  rating = takes_take_get_rating (shown);
  g_assert_cmpuint (rating, !=, 3);
  wait_idle (list);

  /* Seven stars: the library refuses, and the list shows what it holds. */
  g_assert_false (edit (list, TAKES_TAKE_EDIT_RATING, ids, 1, 7, NULL, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_assert_nonnull (takes_take_list_get_error (list));
  g_clear_object (&shown);
  shown = g_list_model_get_item (G_LIST_MODEL (list), 0);
  g_assert_false (takes_take_list_is_placeholder (shown));
  g_assert_cmpuint (takes_take_get_rating (shown), ==, rating);
  g_clear_error (&error);

  /* A take deleted behind the list's back stops the edit there: the takes
   * after it are left as they were. */
  ids[1] = ids[0];
  ids[0] = 999999;
  g_assert_false (edit (list, TAKES_TAKE_EDIT_RATING, ids, 2, 3, NULL, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_clear_object (&shown);
  shown = takes_store_get_take (store, ids[1], NULL);
  g_assert_cmpuint (takes_take_get_rating (shown), ==, rating);
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

  g_test_add_func ("/take-list/pages/read-off-the-main-thread", test_take_list_pages_off_the_main_thread);
  g_test_add_func ("/take-list/pages/keyset-pages-match-the-store", test_take_list_pages_match_the_store);
  g_test_add_func ("/take-list/reload/follows-the-store", test_take_list_reload_follows_the_store);
  g_test_add_func ("/take-list/search/odd-syntax-finds-nothing-without-error",
                   test_take_list_bad_search_is_an_error_not_a_crash);
  g_test_add_func ("/take-list/edit/replaces-takes-in-place", test_take_list_edits_replace_takes_in_place);
  g_test_add_func ("/take-list/edit/failure-reports-and-restores",
                   test_take_list_failed_edit_reports_and_restores);
  g_test_add_func ("/thumbnails/made-once-off-the-main-thread",
                   test_thumbnails_made_once_off_the_main_thread);

  status = g_test_run ();
  app_test_cleanup_root ();
  return status;
}
