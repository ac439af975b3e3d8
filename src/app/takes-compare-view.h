/* takes-compare-view.h: two to four takes played together for judging.
 *
 * The takes play in one pipeline (a TakesPlayer with several sources), shown
 * side by side, as a wipe with a draggable split, as their amplified
 * difference, or one at a time with a key to toggle. Beside the picture, a
 * table lists the recipe fields in which the takes differ. Verdict keys
 * store a comparison in the library, and "compare next pair" asks the
 * batch's ranking which pair to judge next.
 *
 * Keys: a / b / t record "A wins" / "B wins" / "tie"; n compares the next
 * pair; 1–4 choose side by side, wipe, difference, toggle; x toggles the
 * take shown; v turns the wipe; space, j/k/l and , . drive the player.
 */
#pragma once

#include <gtk/gtk.h>

#include "takes-compare.h"
#include "takes-player.h"
#include "takes-ranking.h"
#include "takes-store-review.h"
#include "takes-store.h"

G_BEGIN_DECLS

#define TAKES_TYPE_COMPARE_VIEW (takes_compare_view_get_type ())
G_DECLARE_FINAL_TYPE (TakesCompareView, takes_compare_view, TAKES, COMPARE_VIEW, GtkWidget)

GtkWidget *takes_compare_view_new (void);

/* The library the takes come from and verdicts go to; used from the main
 * thread only. */
void takes_compare_view_set_store (TakesCompareView *self, TakesStore *store);
TakesStore *takes_compare_view_get_store (TakesCompareView *self);

/* Shows 2–TAKES_PLAYER_MAX_SOURCES takes of the store, the first as A. Fails
 * with a TAKES_STORE_ERROR when a take is not in the library or has no
 * video; the view keeps what it showed. */
gboolean
takes_compare_view_set_takes (TakesCompareView *self, const gint64 *take_ids, guint n_takes, GError **error);
guint takes_compare_view_get_n_takes (TakesCompareView *self);
gint64 takes_compare_view_get_take_id (TakesCompareView *self, guint index);

/* The batch whose ranking "compare next pair" follows; 0 for none. */
void takes_compare_view_set_batch (TakesCompareView *self, gint64 batch_id);
gint64 takes_compare_view_get_batch (TakesCompareView *self);
/* Shows the pair the batch's ranking most needs judged. Returns FALSE with
 * no error when the ranking is already settled (or there is no batch). */
gboolean takes_compare_view_compare_next_pair (TakesCompareView *self, GError **error);

void takes_compare_view_set_mode (TakesCompareView *self, TakesCompareMode mode);
TakesCompareMode takes_compare_view_get_mode (TakesCompareView *self);
void takes_compare_view_set_wipe (TakesCompareView *self, double split, TakesCompareWipe wipe);
/* In toggle mode, shows the next take. */
void takes_compare_view_toggle (TakesCompareView *self);

/* Stores the verdict on the first two takes; the comparison is returned
 * (and "verdict-recorded" emitted). */
TakesComparison *
takes_compare_view_record_verdict (TakesCompareView *self, TakesVerdict verdict, GError **error);

TakesPlayer *takes_compare_view_get_player (TakesCompareView *self);
/* What was scaled or retimed to play the takes together, for people; NULL
 * when nothing was. */
const char *takes_compare_view_get_note (TakesCompareView *self);
/* Rows of the recipe-difference table. */
guint takes_compare_view_get_n_differences (TakesCompareView *self);

G_END_DECLS
