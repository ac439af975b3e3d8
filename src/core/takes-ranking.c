/* takes-ranking.c: Bradley–Terry by minorisation–maximisation (Hunter 2004),
 * with the Fisher information for confidence and next-pair selection. */
#include "config.h"

#define G_LOG_DOMAIN "takes-ranking"

#include <math.h>
#include <string.h>

#include "takes-ranking.h"

/* The prior: this many virtual wins and as many losses against an item of
 * strength 1 (θ = 0). It keeps unbeaten items finite and the information
 * matrix invertible, and pulls items seen once towards the middle. */
#define PRIOR_GAMES 1.0

#define MAX_ITERATIONS 500
#define TOLERANCE 1e-9

struct _TakesRanking
{
  guint n;
  double *games; /* n×n: verdicts between i and j, ties included */
  double *wins;  /* n: wins, ties counting one half */
  guint *counts; /* n: verdicts involving i */
  guint n_verdicts;

  gboolean fitted;
  double *theta; /* n */
  double *cov;   /* n×n: inverse of the Fisher information */
};

const char *
takes_verdict_to_string (TakesVerdict verdict)
{
  switch (verdict)
    {
      case TAKES_VERDICT_A_WINS:
        return "a";
      case TAKES_VERDICT_B_WINS:
        return "b";
      case TAKES_VERDICT_TIE:
      default:
        return "tie";
    }
}

gboolean
takes_verdict_from_string (const char *text, TakesVerdict *verdict)
{
  if (text == NULL)
    return FALSE;
  if (g_ascii_strcasecmp (text, "a") == 0)
    *verdict = TAKES_VERDICT_A_WINS;
  else if (g_ascii_strcasecmp (text, "b") == 0)
    *verdict = TAKES_VERDICT_B_WINS;
  else if (g_ascii_strcasecmp (text, "tie") == 0)
    *verdict = TAKES_VERDICT_TIE;
  else
    return FALSE;
  return TRUE;
}

TakesRanking *
takes_ranking_new (guint n_items)
{
  TakesRanking *ranking;

  g_return_val_if_fail (n_items <= TAKES_RANKING_MAX_ITEMS, NULL);

  ranking = g_new0 (TakesRanking, 1);
  ranking->n = n_items;
  ranking->games = g_new0 (double, (gsize)n_items *n_items + 1);
  ranking->wins = g_new0 (double, n_items + 1);
  ranking->counts = g_new0 (guint, n_items + 1);
  ranking->theta = g_new0 (double, n_items + 1);
  ranking->cov = g_new0 (double, (gsize)n_items *n_items + 1);
  return ranking;
}

void
takes_ranking_free (TakesRanking *ranking)
{
  if (ranking == NULL)
    return;
  g_free (ranking->games);
  g_free (ranking->wins);
  g_free (ranking->counts);
  g_free (ranking->theta);
  g_free (ranking->cov);
  g_free (ranking);
}

guint
takes_ranking_get_n_items (TakesRanking *ranking)
{
  return ranking->n;
}

guint
takes_ranking_get_n_verdicts (TakesRanking *ranking)
{
  return ranking->n_verdicts;
}

gboolean
takes_ranking_add_verdict (TakesRanking *ranking, guint a, guint b, TakesVerdict verdict)
{
  g_return_val_if_fail (ranking != NULL, FALSE);

  if (a >= ranking->n || b >= ranking->n || a == b)
    return FALSE;
  ranking->games[(gsize)a * ranking->n + b] += 1.0;
  ranking->games[(gsize)b * ranking->n + a] += 1.0;
  switch (verdict)
    {
      case TAKES_VERDICT_A_WINS:
        ranking->wins[a] += 1.0;
        break;
      case TAKES_VERDICT_B_WINS:
        ranking->wins[b] += 1.0;
        break;
      case TAKES_VERDICT_TIE:
      default:
        ranking->wins[a] += 0.5;
        ranking->wins[b] += 0.5;
        break;
    }
  ranking->counts[a]++;
  ranking->counts[b]++;
  ranking->n_verdicts++;
  ranking->fitted = FALSE;
  return TRUE;
}

/* Gauss–Jordan inversion with partial pivoting of the n×n matrix m (which
 * it destroys) into inv. The information matrix with the prior is symmetric
 * positive definite, so a pivot near zero only comes from rounding. */
static void
invert (double *m, double *inv, guint n)
{
  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < n; j++)
      inv[(gsize)i * n + j] = i == j ? 1.0 : 0.0;
  for (guint col = 0; col < n; col++)
    {
      guint pivot = col;
      double scale;

      for (guint r = col + 1; r < n; r++)
        if (fabs (m[(gsize)r * n + col]) > fabs (m[(gsize)pivot * n + col]))
          pivot = r;
      if (pivot != col)
        for (guint j = 0; j < n; j++)
          {
            double t = m[(gsize)col * n + j];

            m[(gsize)col * n + j] = m[(gsize)pivot * n + j];
            m[(gsize)pivot * n + j] = t;
            t = inv[(gsize)col * n + j];
            inv[(gsize)col * n + j] = inv[(gsize)pivot * n + j];
            inv[(gsize)pivot * n + j] = t;
          }
      if (fabs (m[(gsize)col * n + col]) < 1e-300)
        m[(gsize)col * n + col] = 1e-300;
      scale = 1.0 / m[(gsize)col * n + col];
      for (guint j = 0; j < n; j++)
        {
          m[(gsize)col * n + j] *= scale;
          inv[(gsize)col * n + j] *= scale;
        }
      for (guint r = 0; r < n; r++)
        {
          double f = m[(gsize)r * n + col];

          if (r == col || f == 0.0)
            continue;
          for (guint j = 0; j < n; j++)
            {
              m[(gsize)r * n + j] -= f * m[(gsize)col * n + j];
              inv[(gsize)r * n + j] -= f * inv[(gsize)col * n + j];
            }
        }
    }
}

static void
fit (TakesRanking *ranking)
{
  guint n = ranking->n;
  g_autofree double *p = g_new (double, n + 1);
  g_autofree double *next = g_new (double, n + 1);
  g_autofree double *info = NULL;
  double mean = 0.0;

  if (ranking->fitted)
    return;
  for (guint i = 0; i < n; i++)
    p[i] = 1.0;
  for (guint iter = 0; iter < MAX_ITERATIONS; iter++)
    {
      double change = 0.0;

      for (guint i = 0; i < n; i++)
        {
          /* The prior's games are against a fixed item of strength 1. */
          double denominator = 2.0 * PRIOR_GAMES / (p[i] + 1.0);

          for (guint j = 0; j < n; j++)
            {
              double games = ranking->games[(gsize)i * n + j];

              if (games > 0.0)
                denominator += games / (p[i] + p[j]);
            }
          next[i] = (ranking->wins[i] + PRIOR_GAMES) / denominator;
        }
      for (guint i = 0; i < n; i++)
        {
          change = MAX (change, fabs (log (next[i]) - log (p[i])));
          p[i] = next[i];
        }
      if (change < TOLERANCE)
        break;
    }

  for (guint i = 0; i < n; i++)
    {
      ranking->theta[i] = log (p[i]);
      mean += ranking->theta[i];
    }
  mean = n > 0 ? mean / n : 0.0;
  for (guint i = 0; i < n; i++)
    ranking->theta[i] -= mean;

  /* Fisher information of θ: the negative Hessian of the log-likelihood
   * plus the prior's curvature. */
  info = g_new0 (double, (gsize)n *n + 1);
  for (guint i = 0; i < n; i++)
    {
      double self_info = 2.0 * PRIOR_GAMES * p[i] / ((p[i] + 1.0) * (p[i] + 1.0));

      for (guint j = 0; j < n; j++)
        {
          double games = ranking->games[(gsize)i * n + j];
          double w;

          if (i == j || games == 0.0)
            continue;
          w = games * p[i] * p[j] / ((p[i] + p[j]) * (p[i] + p[j]));
          info[(gsize)i * n + j] = -w;
          self_info += w;
        }
      info[(gsize)i * n + i] = self_info;
    }
  invert (info, ranking->cov, n);
  ranking->fitted = TRUE;
}

double
takes_ranking_win_probability (TakesRanking *ranking, guint a, guint b)
{
  g_return_val_if_fail (ranking != NULL, 0.5);
  g_return_val_if_fail (a < ranking->n && b < ranking->n, 0.5);

  fit (ranking);
  return 1.0 / (1.0 + exp (ranking->theta[b] - ranking->theta[a]));
}

static double
difference_variance (TakesRanking *ranking, guint a, guint b)
{
  guint n = ranking->n;
  double v = ranking->cov[(gsize)a * n + a] + ranking->cov[(gsize)b * n + b]
             - 2.0 * ranking->cov[(gsize)a * n + b];

  return MAX (v, 1e-12);
}

/* Probability that a is truly better than b, under the normal
 * approximation of the fit. */
static double
order_confidence (TakesRanking *ranking, guint a, guint b)
{
  double z = (ranking->theta[a] - ranking->theta[b]) / sqrt (difference_variance (ranking, a, b));

  return 0.5 * erfc (-z / G_SQRT2);
}

typedef struct
{
  const double *theta;
} SortData;

static int
compare_items (gconstpointer pa, gconstpointer pb, gpointer user_data)
{
  const SortData *data = user_data;
  guint a = *(const guint *)pa, b = *(const guint *)pb;

  if (data->theta[a] > data->theta[b])
    return -1;
  if (data->theta[a] < data->theta[b])
    return 1;
  return a < b ? -1 : a > b;
}

static guint *
sorted_items (TakesRanking *ranking)
{
  guint *order = g_new (guint, ranking->n + 1);
  SortData data = { ranking->theta };

  for (guint i = 0; i < ranking->n; i++)
    order[i] = i;
  g_qsort_with_data (order, (gint)ranking->n, sizeof (guint), compare_items, &data);
  return order;
}

GArray *
takes_ranking_get_entries (TakesRanking *ranking)
{
  g_autofree guint *order = NULL;
  GArray *entries;

  g_return_val_if_fail (ranking != NULL, NULL);

  fit (ranking);
  order = sorted_items (ranking);
  entries = g_array_sized_new (FALSE, TRUE, sizeof (TakesRankingEntry), ranking->n);
  for (guint r = 0; r < ranking->n; r++)
    {
      guint i = order[r];
      TakesRankingEntry entry = {
        .item = i,
        .rank = r + 1,
        .score = ranking->theta[i],
        .std_error = sqrt (MAX (ranking->cov[(gsize)i * ranking->n + i], 0.0)),
        .confidence = r + 1 < ranking->n ? order_confidence (ranking, i, order[r + 1]) : 1.0,
        .n_comparisons = ranking->counts[i],
        .wins = ranking->wins[i],
      };

      g_array_append_val (entries, entry);
    }
  return entries;
}

gboolean
takes_ranking_next_pair (TakesRanking *ranking, double min_confidence, guint *a, guint *b)
{
  g_autofree guint *order = NULL;
  gboolean settled = TRUE;
  double best = -1.0;
  guint n;

  g_return_val_if_fail (ranking != NULL, FALSE);

  n = ranking->n;
  if (n < 2)
    return FALSE;
  fit (ranking);
  order = sorted_items (ranking);
  if (min_confidence > 0.0)
    for (guint r = 0; r + 1 < n && settled; r++)
      if (order_confidence (ranking, order[r], order[r + 1]) < min_confidence)
        settled = FALSE;
  if (min_confidence > 0.0 && settled)
    return FALSE;

  for (guint i = 0; i < n; i++)
    for (guint j = i + 1; j < n; j++)
      {
        double v = difference_variance (ranking, i, j);
        double pij = 1.0 / (1.0 + exp (ranking->theta[j] - ranking->theta[i]));
        double info = pij * (1.0 - pij);
        /* A verdict adds info to the precision of θ_i − θ_j (a Laplace
         * update); what matters is how much of the variance goes, and
         * whether the order of the two is still open. */
        double reduction = v - 1.0 / (1.0 / v + info);
        double open = 1.0 - fabs (2.0 * order_confidence (ranking, i, j) - 1.0);
        double score = reduction * open;

        if (score > best)
          {
            best = score;
            *a = i;
            *b = j;
          }
      }
  return TRUE;
}
