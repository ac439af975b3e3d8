/* takes-inspector.h: one take in detail: playback, recipe, lineage, review.
 *
 * Signals:
 *   take-selected (gint64 take_id): a parent or child in the lineage was clicked.
 *   generate-again (TakesTake *take): "Generate Again with Changes" was clicked.
 *   take-changed (TakesTake *take): rating, decision, tags or notes were saved
 *     directly, without a take list (one that is set updates its items itself).
 */
#pragma once

#include <gtk/gtk.h>

#include "takes-player.h"
#include "takes-store.h"
#include "takes-take-list.h"

G_BEGIN_DECLS

#define TAKES_TYPE_INSPECTOR (takes_inspector_get_type ())
G_DECLARE_FINAL_TYPE (TakesInspector, takes_inspector, TAKES, INSPECTOR, GtkWidget)

GtkWidget *takes_inspector_new (void);

void takes_inspector_set_store (TakesInspector *self, TakesStore *store);
/* The gallery's list of takes: edits are then saved on its worker thread, off
 * the main loop, and the list replaces the edited take in place. */
void takes_inspector_set_take_list (TakesInspector *self, TakesTakeList *list);
/* Shows @take (re-read from the store), or the empty state for NULL. */
void takes_inspector_set_take (TakesInspector *self, TakesTake *take);
TakesTake *takes_inspector_get_take (TakesInspector *self);
/* The player of the take shown (looping; J/K/L and , . work in it). */
TakesPlayer *takes_inspector_get_player (TakesInspector *self);
void takes_inspector_pause (TakesInspector *self);

G_END_DECLS
