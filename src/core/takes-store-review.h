/* takes-store-review.h: the store's review records: comparisons between
 * takes (A wins, B wins, tie), and the storyboard's shots beyond what
 * takes-store.h makes (editing, order, the chosen take, alternatives and
 * in/out points).
 *
 * Same rules as takes-store.h: one thread per store, every change in one
 * transaction, errors in the TAKES_STORE_ERROR domain.
 */
#pragma once

#include "takes-ranking.h"
#include "takes-store.h"

G_BEGIN_DECLS

typedef struct
{
  gint64 id;
  gint64 take_a;
  gint64 take_b;
  gint64 winner_id; /* take_a, take_b, or 0 for a tie */
  char *note;
  gint64 created; /* microseconds since the epoch, UTC */
} TakesComparison;

#define TAKES_TYPE_COMPARISON (takes_comparison_get_type ())
GType takes_comparison_get_type (void);
TakesComparison *takes_comparison_copy (const TakesComparison *comparison);
void takes_comparison_free (TakesComparison *comparison);
TakesVerdict takes_comparison_get_verdict (const TakesComparison *comparison);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesComparison, takes_comparison_free)

/* The longest note a verdict keeps. */
#define TAKES_COMPARISON_MAX_NOTE 2000

/* Records a verdict between two different existing takes; note may be NULL. */
TakesComparison *takes_store_add_comparison (
    TakesStore *self, gint64 take_a, gint64 take_b, TakesVerdict verdict, const char *note, GError **error);
/* TakesComparison, oldest first: all of them (take_id 0) or those involving the take. */
GPtrArray *takes_store_list_comparisons (TakesStore *self, gint64 take_id, GError **error);
/* TakesComparison between two takes of the batch, oldest first. */
GPtrArray *takes_store_list_batch_comparisons (TakesStore *self, gint64 batch_id, GError **error);

/* A ranking of the finished takes of a batch from its comparisons. take_ids
 * receives the take id of each ranking item (gint64). */
TakesRanking *takes_store_rank_batch (TakesStore *self, gint64 batch_id, GArray **take_ids, GError **error);

/* Shots ------------------------------------------------------------------ */

/* A shot's in and out points within its chosen take, in microseconds; an
 * out point of 0 means the end of the take. */
typedef struct
{
  gint64 in_point;
  gint64 out_point;
} TakesShotTrim;

TakesShot *takes_store_get_shot (TakesStore *self, gint64 shot_id, GError **error);
/* NULL strings and a negative duration leave that field as it is. */
gboolean takes_store_update_shot (TakesStore *self,
                                  gint64 shot_id,
                                  const char *title,
                                  const char *prompt,
                                  const char *notes,
                                  gint64 duration,
                                  GError **error);
/* Moves the shot to position (from 1; past the end means last); the others
 * close up around it. */
gboolean takes_store_move_shot (TakesStore *self, gint64 shot_id, guint position, GError **error);
/* Deletes the shot and renumbers the rest; its takes stay in the library. */
gboolean takes_store_delete_shot (TakesStore *self, gint64 shot_id, GError **error);

/* Makes take_id the shot's chosen take (0 clears it). The take becomes one of
 * the shot's alternatives, and a take chosen before stays one. The trim is
 * reset unless the take was already chosen. */
gboolean takes_store_pick_shot_take (TakesStore *self, gint64 shot_id, gint64 take_id, GError **error);
gboolean takes_store_add_shot_alternative (TakesStore *self, gint64 shot_id, gint64 take_id, GError **error);
/* Removing the chosen take clears the choice too. */
gboolean
takes_store_remove_shot_alternative (TakesStore *self, gint64 shot_id, gint64 take_id, GError **error);
/* The take ids (gint64), in the order they were added; takes generated for
 * the shot (their shot id is this shot) are alternatives too. */
GArray *takes_store_list_shot_alternatives (TakesStore *self, gint64 shot_id, GError **error);

/* in_point ≥ 0, out_point 0 or after in_point. */
gboolean
takes_store_set_shot_trim (TakesStore *self, gint64 shot_id, const TakesShotTrim *trim, GError **error);
gboolean takes_store_get_shot_trim (TakesStore *self, gint64 shot_id, TakesShotTrim *trim, GError **error);

G_END_DECLS
