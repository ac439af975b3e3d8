/* takes-ranking.h: a ranking of takes from pairwise verdicts.
 *
 * A Bradley–Terry model: each item i has a strength exp(θ_i) and wins
 * against j with probability exp(θ_i) / (exp(θ_i) + exp(θ_j)). The fit is
 * by minorisation–maximisation with a prior of one virtual win and one
 * virtual loss against an average item, so an item that never lost still
 * has a finite score. A tie counts half a win for each side. Confidence
 * comes from the Fisher information (the inverse Hessian at the fit).
 *
 * Plain data and arithmetic: no store, no threads; safe to use from any
 * thread, one ranking per thread.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  TAKES_VERDICT_A_WINS,
  TAKES_VERDICT_B_WINS,
  TAKES_VERDICT_TIE,
} TakesVerdict;

/* "a", "b" and "tie", as the CLI and the comparisons table spell them. */
const char *takes_verdict_to_string (TakesVerdict verdict);
gboolean takes_verdict_from_string (const char *text, TakesVerdict *verdict);

/* The most items one ranking holds; the covariance is an n×n matrix. */
#define TAKES_RANKING_MAX_ITEMS 2000

typedef struct _TakesRanking TakesRanking;

typedef struct
{
  guint item;          /* index given to takes_ranking_add_verdict() */
  guint rank;          /* 1 is the best */
  double score;        /* θ, centred so the items average 0 */
  double std_error;    /* of θ */
  double confidence;   /* probability that this item is better than the one ranked just below it;
                        * 1 for the last item */
  guint n_comparisons; /* verdicts involving the item */
  double wins;         /* ties count one half */
} TakesRankingEntry;

TakesRanking *takes_ranking_new (guint n_items);
void takes_ranking_free (TakesRanking *ranking);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesRanking, takes_ranking_free)

guint takes_ranking_get_n_items (TakesRanking *ranking);
guint takes_ranking_get_n_verdicts (TakesRanking *ranking);

/* a and b are item indices below n_items and differ; returns FALSE otherwise. */
gboolean takes_ranking_add_verdict (TakesRanking *ranking, guint a, guint b, TakesVerdict verdict);

/* TakesRankingEntry, best first; ties in score keep the item order. */
GArray *takes_ranking_get_entries (TakesRanking *ranking);

/* The model's probability that a beats b. */
double takes_ranking_win_probability (TakesRanking *ranking, guint a, guint b);

/* The pair whose verdict is expected to teach the most about the order:
 * the largest expected drop in the variance of θ_a − θ_b, weighted by how
 * unsure the order of the two still is. Returns FALSE when there are fewer
 * than two items, or when every neighbouring pair in the ranking is
 * already ordered with at least min_confidence (0.5–1; 0 means never stop). */
gboolean takes_ranking_next_pair (TakesRanking *ranking, double min_confidence, guint *a, guint *b);

G_END_DECLS
