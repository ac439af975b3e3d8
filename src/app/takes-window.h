/* takes-window.h: the studio window: prompt editor | gallery | inspector.
 *
 * Actions (group "win"): win.generate, win.preferences, win.search,
 * win.show-queue, win.show-assistant, win.use-test-model, win.new-project,
 * win.generate-again.
 */
#pragma once

#include <adwaita.h>

#include "takes-gallery.h"
#include "takes-inspector.h"
#include "takes-prompt-editor.h"
#include "takes-queue.h"
#include "takes-store.h"

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

/* The project the window shows; 0 is the library's default project. */
gint64 takes_window_get_project_id (TakesWindow *self);
void takes_window_set_project_id (TakesWindow *self, gint64 project_id);

/* A toast that stays until dismissed, with the error's message. */
void takes_window_show_error (TakesWindow *self, const GError *error);

G_END_DECLS
