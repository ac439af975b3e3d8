/* takes-gallery.h: the grid of takes, with search, filters and bulk actions.
 *
 * Actions (group "gallery"): gallery.rate(u), gallery.approve,
 * gallery.reject, gallery.add-tag(s), gallery.tag-selected (asks for the
 * tag), gallery.delete (with an undo toast); each works on the selected
 * takes and is enabled only while some are selected. gallery.focus-search
 * moves the focus to the search entry.
 *
 * Each card is a drag source giving its take id as a G_TYPE_INT64 value, to
 * be dropped on a storyboard shot. The read-only property "n-selected"
 * counts the selected takes (the window enables Compare from it).
 */
#pragma once

#include <gtk/gtk.h>

#include "takes-queue.h"
#include "takes-store.h"
#include "takes-take-list.h"
#include "takes-thumbnail-cache.h"

G_BEGIN_DECLS

#define TAKES_TYPE_GALLERY (takes_gallery_get_type ())
G_DECLARE_FINAL_TYPE (TakesGallery, takes_gallery, TAKES, GALLERY, GtkWidget)

GtkWidget *takes_gallery_new (void);

/* Shows the takes of @store; NULL shows nothing. */
void takes_gallery_set_store (TakesGallery *self, TakesStore *store, TakesThumbnailCache *thumbnails);
/* Where the progress of queued and running takes comes from; may be NULL. */
void takes_gallery_set_queue (TakesGallery *self, TakesQueue *queue);
/* The paged model behind the grid, or NULL before a store is set. */
TakesTakeList *takes_gallery_get_list (TakesGallery *self);

void takes_gallery_set_project_id (TakesGallery *self, gint64 project_id);
/* Shows only takes made by the backend with that id; NULL shows all. */
void takes_gallery_set_backend (TakesGallery *self, const char *backend);
void takes_gallery_set_search_text (TakesGallery *self, const char *text);
/* Re-reads the store after something else changed it (a new take). */
void takes_gallery_reload (TakesGallery *self);

/* The take last selected, or NULL. */
TakesTake *takes_gallery_get_selected_take (TakesGallery *self);
/* Selects the take with @take_id when it is in the current view. */
gboolean takes_gallery_select_take (TakesGallery *self, gint64 take_id);
/* Selects every take the filters show (each is read from the store). */
void takes_gallery_select_all (TakesGallery *self);
guint takes_gallery_get_n_selected (TakesGallery *self);
/* The ids of every selected take. */
GArray *takes_gallery_get_selected_ids (TakesGallery *self);

G_END_DECLS
