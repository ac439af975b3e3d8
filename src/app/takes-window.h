/* takes-window.h: the studio window. An AdwViewStack switched from the
 * header bar holds three views: "library" (prompt editor | gallery |
 * inspector), "compare" (TakesCompareView) and "storyboard"
 * (TakesStoryboardPage).
 *
 * Actions (group "win"): win.generate, win.preferences, win.search,
 * win.show-queue, win.show-assistant, win.use-test-model, win.new-project,
 * win.compare (Ctrl+D; enabled while 2–4 takes are selected in the gallery),
 * win.compare-batch (the selected take's batch, pair by pair).
 */
#pragma once

#include <adwaita.h>

#include "takes-compare-view.h"
#include "takes-gallery.h"
#include "takes-inspector.h"
#include "takes-prompt-editor.h"
#include "takes-queue.h"
#include "takes-store.h"
#include "takes-storyboard-page.h"

G_BEGIN_DECLS

#define TAKES_TYPE_WINDOW (takes_window_get_type ())
G_DECLARE_FINAL_TYPE (TakesWindow, takes_window, TAKES, WINDOW, AdwApplicationWindow)

/* @app may be NULL (tests); @store and @queue may be NULL when the library
 * could not be opened, and the window then says so. */
TakesWindow *takes_window_new (GtkApplication *app, TakesStore *store, TakesQueue *queue);

TakesStore *takes_window_get_store (TakesWindow *self);
TakesGallery *takes_window_get_gallery (TakesWindow *self);
TakesPromptEditor *takes_window_get_editor (TakesWindow *self);
TakesInspector *takes_window_get_inspector (TakesWindow *self);
TakesCompareView *takes_window_get_compare_view (TakesWindow *self);
TakesStoryboardPage *takes_window_get_storyboard_page (TakesWindow *self);

/* The view on screen: "library", "compare" or "storyboard". */
const char *takes_window_get_visible_view (TakesWindow *self);
void takes_window_set_visible_view (TakesWindow *self, const char *name);

/* Opens the compare view on the pair of the batch its ranking most needs
 * judged. Returns FALSE with no error (and says so in a toast) when the
 * ranking is settled. */
gboolean takes_window_compare_batch (TakesWindow *self, gint64 batch_id, GError **error);

/* The project the window shows; 0 is the library's default project. */
gint64 takes_window_get_project_id (TakesWindow *self);
void takes_window_set_project_id (TakesWindow *self, gint64 project_id);

/* How the window sends a desktop notification (@body may be NULL): by
 * default as a GNotification through g_application_send_notification() on
 * the window's application, and not at all when it has none.
 * Process-wide; a test passes its own function to see what would be sent,
 * and NULL to restore the default. */
typedef void (*TakesWindowNotifyFunc) (TakesWindow *window,
                                       const char *id,
                                       const char *title,
                                       const char *body);
void takes_window_set_notify_func (TakesWindowNotifyFunc func);

/* A toast that stays until dismissed, with the error's message. */
void takes_window_show_error (TakesWindow *self, const GError *error);
/* A toast that goes away by itself. */
void takes_window_show_message (TakesWindow *self, const char *message);

G_END_DECLS
