/* takes-storyboard-page.h: a project's storyboard: shots in order, the take
 * chosen for each, the animatic played through, and its exports.
 *
 * Each shot shows its title, prompt, notes and planned duration, the chosen
 * take and the alternatives (a click chooses one). Dropping a take on a shot
 * (a gint64 take id or a TakesTake, e.g. dragged from the gallery) chooses
 * it. A shot whose take is missing, damaged or not chosen says so in its row.
 * The animatic plays every chosen take back to back without a gap; the
 * exports (MP4, CMX3600 EDL, Final Cut Pro 7 XML) run in a worker thread.
 * Shots are added (storyboard.add-shot asks for title, prompt and
 * duration), moved up or down and deleted from the page.
 */
#pragma once

#include <gtk/gtk.h>

#include "takes-player.h"
#include "takes-store.h"
#include "takes-storyboard.h"

G_BEGIN_DECLS

typedef enum
{
  TAKES_STORYBOARD_EXPORT_MP4,
  TAKES_STORYBOARD_EXPORT_EDL,
  TAKES_STORYBOARD_EXPORT_FCPXML,
} TakesStoryboardExport;

#define TAKES_TYPE_STORYBOARD_PAGE (takes_storyboard_page_get_type ())
G_DECLARE_FINAL_TYPE (TakesStoryboardPage, takes_storyboard_page, TAKES, STORYBOARD_PAGE, GtkWidget)

GtkWidget *takes_storyboard_page_new (void);

/* The library (used from the main thread only) and the project shown. */
void takes_storyboard_page_set_store (TakesStoryboardPage *self, TakesStore *store);
TakesStore *takes_storyboard_page_get_store (TakesStoryboardPage *self);
void takes_storyboard_page_set_project (TakesStoryboardPage *self, gint64 project_id);
gint64 takes_storyboard_page_get_project (TakesStoryboardPage *self);

/* Reads the shots again; the page shows the error when this fails. */
gboolean takes_storyboard_page_reload (TakesStoryboardPage *self, GError **error);
guint takes_storyboard_page_get_n_shots (TakesStoryboardPage *self);
/* The shot at a position (from 0), or 0. */
gint64 takes_storyboard_page_get_shot_id (TakesStoryboardPage *self, guint index);
gint64 takes_storyboard_page_get_chosen_take (TakesStoryboardPage *self, guint index);
/* Why the shot cannot play (no take chosen, file missing or damaged), as a
 * sentence for people, or NULL when it can. */
const char *takes_storyboard_page_get_shot_problem (TakesStoryboardPage *self, guint index);

/* What a drop does: makes the take the shot's chosen take. */
gboolean
takes_storyboard_page_choose_take (TakesStoryboardPage *self, gint64 shot_id, gint64 take_id, GError **error);

/* Appends a shot with a title (required), a prompt and a planned duration in
 * microseconds (0 for none); returns it, or NULL with a TAKES_STORE_ERROR. */
TakesShot *takes_storyboard_page_add_shot (
    TakesStoryboardPage *self, const char *title, const char *prompt, gint64 duration, GError **error);
/* Moves the shot to a position (from 0); the others close up around it. */
gboolean
takes_storyboard_page_move_shot (TakesStoryboardPage *self, gint64 shot_id, guint index, GError **error);
/* Deletes the shot; its takes stay in the library. */
gboolean takes_storyboard_page_delete_shot (TakesStoryboardPage *self, gint64 shot_id, GError **error);

/* Plays the chosen takes of every playable shot in order. */
void takes_storyboard_page_play (TakesStoryboardPage *self);
TakesPlayer *takes_storyboard_page_get_player (TakesStoryboardPage *self);

/* Exports the storyboard to path in a worker thread. The finish call gives
 * the per-shot problems (GError in TAKES_STORYBOARD_ERROR) as warnings, which
 * the page also shows on the shots. */
void takes_storyboard_page_export_async (TakesStoryboardPage *self,
                                         TakesStoryboardExport format,
                                         const char *path,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback,
                                         gpointer user_data);
gboolean takes_storyboard_page_export_finish (TakesStoryboardPage *self,
                                              GAsyncResult *result,
                                              GPtrArray **warnings,
                                              GError **error);

G_END_DECLS
