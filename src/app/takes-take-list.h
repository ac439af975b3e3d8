/* takes-take-list.h: the store's takes as a GListModel that pages lazily.
 *
 * Only the number of matching takes is counted up front; rows are read a
 * page at a time on a worker thread with its own read-only connection, and
 * only a few pages are kept, so a library of 100,000 takes costs no more to
 * show than one of 100 and scrolling never waits for the disk.
 *
 * An item whose page has not arrived yet is a placeholder (see
 * takes_take_list_is_placeholder()). When the page arrives its placeholders
 * are replaced in place: items-changed with as many items removed as added,
 * n-items unchanged, and takes_take_list_is_refreshing() TRUE meanwhile so
 * that a view can keep its selection. The page after (and before) the one
 * a view reads is fetched ahead.
 *
 * Edits (rating, decision, notes, tags) run on a second worker thread with
 * its own connection; the edited takes are then read again and replaced in
 * place the same way, whether the edit succeeded or not. Deletes run on the
 * same thread, after the edits queued before them, and the list is then
 * reloaded.
 */
#pragma once

#include <gio/gio.h>

#include "takes-store.h"

G_BEGIN_DECLS

#define TAKES_TAKE_LIST_PAGE_SIZE 120

#define TAKES_TYPE_TAKE_LIST (takes_take_list_get_type ())
G_DECLARE_FINAL_TYPE (TakesTakeList, takes_take_list, TAKES, TAKE_LIST, GObject)

typedef enum
{
  TAKES_TAKE_EDIT_RATING,     /* value: stars, 0 to TAKES_MAX_RATING */
  TAKES_TAKE_EDIT_DECISION,   /* value: a TakesDecision */
  TAKES_TAKE_EDIT_NOTES,      /* text: the notes, NULL to clear them */
  TAKES_TAKE_EDIT_ADD_TAG,    /* text: the tag */
  TAKES_TAKE_EDIT_REMOVE_TAG, /* text: the tag */
} TakesTakeEditKind;

/* @store is used from the calling (main) thread only, to count; the workers
 * open their own connections to the same library. */
TakesTakeList *takes_take_list_new (TakesStore *store);
TakesStore *takes_take_list_get_store (TakesTakeList *self);

/* Filters; each setter reloads the list when the value changed. */
void takes_take_list_set_project_id (TakesTakeList *self, gint64 project_id);
gint64 takes_take_list_get_project_id (TakesTakeList *self);
void takes_take_list_set_shot_id (TakesTakeList *self, gint64 shot_id);
void takes_take_list_set_tag (TakesTakeList *self, const char *tag);
/* A backend id ("local", "dashscope"…); NULL shows takes of every backend. */
void takes_take_list_set_backend (TakesTakeList *self, const char *backend);
void takes_take_list_set_min_rating (TakesTakeList *self, guint min_rating);
/* 1 << TakesDecision bits; 0 shows every decision. */
void takes_take_list_set_decision_mask (TakesTakeList *self, guint decision_mask);
void takes_take_list_set_text (TakesTakeList *self, const char *text);
void takes_take_list_set_sort (TakesTakeList *self, TakesTakeSort sort, gboolean ascending);

/* Counts again and forgets every cached page, for after the store changed;
 * the first page is requested at once. */
void takes_take_list_reload (TakesTakeList *self);

/* Whether @take is an item whose page has not been read yet (id 0). */
gboolean takes_take_list_is_placeholder (TakesTake *take);
/* TRUE while a page read or an edit is under way; notifies "busy". */
gboolean takes_take_list_get_busy (TakesTakeList *self);
/* TRUE while items-changed replaces items in place. */
gboolean takes_take_list_is_refreshing (TakesTakeList *self);

/* The last error of a count, a page read or an edit, or NULL. */
const GError *takes_take_list_get_error (TakesTakeList *self);
/* How many pages have been requested from the store since it was made. */
guint takes_take_list_get_n_page_reads (TakesTakeList *self);
/* The position of the take with @take_id among the cached pages, or -1. */
int takes_take_list_find_cached (TakesTakeList *self, gint64 take_id);

/* Changes the takes @take_ids one after the other, stopping at the first
 * that fails, then reads them all again and replaces them in the list. */
void takes_take_list_edit_async (TakesTakeList *self,
                                 TakesTakeEditKind kind,
                                 const gint64 *take_ids,
                                 guint n_take_ids,
                                 guint value,
                                 const char *text,
                                 GCancellable *cancellable,
                                 GAsyncReadyCallback callback,
                                 gpointer user_data);
gboolean takes_take_list_edit_finish (TakesTakeList *self, GAsyncResult *result, GError **error);

/* Deletes the takes @take_ids, all or none, moving their videos to the
 * trash (see takes_store_delete_takes()), then reloads the list either way.
 * The list stays alive until the delete is done; @cancellable only stops
 * the caller hearing of it, never the delete. */
void takes_take_list_delete_async (TakesTakeList *self,
                                   const gint64 *take_ids,
                                   guint n_take_ids,
                                   GCancellable *cancellable,
                                   GAsyncReadyCallback callback,
                                   gpointer user_data);
gboolean takes_take_list_delete_finish (TakesTakeList *self, GAsyncResult *result, GError **error);

G_END_DECLS
