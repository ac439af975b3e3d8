/* takes-take-list.h: the store's takes as a GListModel that pages lazily.
 *
 * Only the number of matching takes is counted up front; rows are read a
 * page at a time when a view asks for an item, and only a few pages are kept,
 * so a library of 100,000 takes costs no more to show than one of 100.
 */
#pragma once

#include <gio/gio.h>

#include "takes-store.h"

G_BEGIN_DECLS

#define TAKES_TAKE_LIST_PAGE_SIZE 120

#define TAKES_TYPE_TAKE_LIST (takes_take_list_get_type ())
G_DECLARE_FINAL_TYPE (TakesTakeList, takes_take_list, TAKES, TAKE_LIST, GObject)

/* @store is used from the calling (main) thread only. */
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

/* Counts again and forgets every cached page, for after the store changed. */
void takes_take_list_reload (TakesTakeList *self);

/* The last error of a count or a page read, or NULL. */
const GError *takes_take_list_get_error (TakesTakeList *self);
/* How many pages have been read from the store since it was made. */
guint takes_take_list_get_n_page_reads (TakesTakeList *self);
/* The position of the take with @take_id among the cached pages, or -1. */
int takes_take_list_find_cached (TakesTakeList *self, gint64 take_id);

G_END_DECLS
