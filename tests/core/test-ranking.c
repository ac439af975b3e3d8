/* test-ranking.c: Bradley–Terry rankings from verdicts, next-pair selection,
 * and the comparisons kept in the library (schema version 3). */
#include "config.h"

#include <math.h>
#include <sqlite3.h>
#include <string.h>

#include "review-test-util.h"
#include "takes-store-private.h"
#include "takes-store-review.h"

/* A verdict drawn from the Bradley–Terry model with the true strengths. */
static TakesVerdict
noisy_verdict (GRand *rand, const double *theta, guint a, guint b)
{
  double p = 1.0 / (1.0 + exp (theta[b] - theta[a]));

  return g_rand_double (rand) < p ? TAKES_VERDICT_A_WINS : TAKES_VERDICT_B_WINS;
}

/* Items placed out of their true order (item i has true rank i). */
static guint
inversions (TakesRanking *ranking)
{
  g_autoptr (GArray) entries = takes_ranking_get_entries (ranking);
  guint count = 0;

  for (guint i = 0; i < entries->len; i++)
    for (guint j = i + 1; j < entries->len; j++)
      if (g_array_index (entries, TakesRankingEntry, i).item
          > g_array_index (entries, TakesRankingEntry, j).item)
        count++;
  return count;
}

static void
test_known_order (void)
{
  g_autoptr (TakesRanking) ranking = takes_ranking_new (6);
  g_autoptr (GArray) entries = NULL;

  /* Every pair, the better always winning, twice. */
  for (guint round = 0; round < 2; round++)
    for (guint i = 0; i < 6; i++)
      for (guint j = i + 1; j < 6; j++)
        g_assert_true (takes_ranking_add_verdict (ranking, j, i, TAKES_VERDICT_B_WINS));
  g_assert_false (takes_ranking_add_verdict (ranking, 1, 1, TAKES_VERDICT_TIE));
  g_assert_false (takes_ranking_add_verdict (ranking, 1, 6, TAKES_VERDICT_TIE));
  g_assert_cmpuint (takes_ranking_get_n_verdicts (ranking), ==, 30);

  entries = takes_ranking_get_entries (ranking);
  for (guint r = 0; r < 6; r++)
    {
      const TakesRankingEntry *e = &g_array_index (entries, TakesRankingEntry, r);

      g_assert_cmpuint (e->item, ==, r);
      g_assert_cmpuint (e->rank, ==, r + 1);
      g_assert_cmpuint (e->n_comparisons, ==, 10);
      g_assert_true (isfinite (e->score));
      g_assert_cmpfloat (e->std_error, >, 0.0);
      g_assert_cmpfloat (e->confidence, >, 0.5);
    }
  g_assert_cmpfloat (g_array_index (entries, TakesRankingEntry, 0).wins, ==, 10.0);
  g_assert_cmpfloat (takes_ranking_win_probability (ranking, 0, 5), >, 0.9);
  g_assert_cmpfloat (fabs (takes_ranking_win_probability (ranking, 0, 5)
                           + takes_ranking_win_probability (ranking, 5, 0) - 1.0),
                     <, 1e-12);
}

static void
test_ties_and_prior (void)
{
  g_autoptr (TakesRanking) ranking = takes_ranking_new (3);
  g_autoptr (GArray) entries = NULL;
  guint a = 99, b = 99;

  /* Without verdicts all are equal and unsure. */
  entries = takes_ranking_get_entries (ranking);
  g_assert_cmpfloat (fabs (g_array_index (entries, TakesRankingEntry, 0).score), <, 1e-9);
  g_assert_cmpfloat (g_array_index (entries, TakesRankingEntry, 0).confidence, <, 0.51);
  g_assert_true (takes_ranking_next_pair (ranking, 0.9, &a, &b));
  g_assert_cmpuint (a, <, 3);
  g_assert_cmpuint (b, <, 3);
  g_assert_cmpuint (a, !=, b);
  g_clear_pointer (&entries, g_array_unref);

  /* One win is not certainty; ties keep two items level. */
  takes_ranking_add_verdict (ranking, 0, 1, TAKES_VERDICT_TIE);
  takes_ranking_add_verdict (ranking, 0, 1, TAKES_VERDICT_TIE);
  takes_ranking_add_verdict (ranking, 2, 0, TAKES_VERDICT_A_WINS);
  entries = takes_ranking_get_entries (ranking);
  g_assert_cmpuint (g_array_index (entries, TakesRankingEntry, 0).item, ==, 2);
  g_assert_cmpfloat (g_array_index (entries, TakesRankingEntry, 0).confidence, <, 0.95);
  g_assert_cmpfloat (fabs (takes_ranking_win_probability (ranking, 0, 1) - 0.5), <, 0.05);
}

/* Twenty takes, noisy verdicts: asking for the next most informative pair
 * orders them in far fewer than the 190 comparisons of every pair. */
static void
test_next_pair_is_efficient (void)
{
  const guint n = 20, budget = 95;
  double theta[20];
  g_autoptr (GRand) rand = g_rand_new_with_seed (20240611);
  g_autoptr (TakesRanking) active = takes_ranking_new (n);
  g_autoptr (TakesRanking) random = takes_ranking_new (n);
  guint active_inv, random_inv, used = 0;

  /* Item 0 best; neighbours differ by 0.8, so the better wins 69% of the time. */
  for (guint i = 0; i < n; i++)
    theta[i] = 0.8 * (n - 1 - i);
  for (; used < budget; used++)
    {
      guint a, b;

      if (!takes_ranking_next_pair (active, 0.95, &a, &b))
        break;
      takes_ranking_add_verdict (active, a, b, noisy_verdict (rand, theta, a, b));
    }
  for (guint k = 0; k < used; k++)
    {
      guint a = (guint)g_rand_int_range (rand, 0, (gint32)n);
      guint b = (guint)g_rand_int_range (rand, 0, (gint32)n - 1);

      if (b >= a)
        b++;
      takes_ranking_add_verdict (random, a, b, noisy_verdict (rand, theta, a, b));
    }
  active_inv = inversions (active);
  random_inv = inversions (random);
  g_test_message ("%u comparisons: %u pairs out of order with next-pair, %u with random pairs", used,
                  active_inv, random_inv);
  g_assert_cmpuint (used, <=, budget);
  /* Out of 190 pairs, only a few near neighbours may remain swapped. */
  g_assert_cmpuint (active_inv, <=, 8);
  g_assert_cmpuint (active_inv, <, random_inv);
}

static void
test_verdict_names (void)
{
  TakesVerdict v;

  g_assert_true (takes_verdict_from_string ("A", &v));
  g_assert_cmpint (v, ==, TAKES_VERDICT_A_WINS);
  g_assert_true (takes_verdict_from_string ("tie", &v));
  g_assert_cmpint (v, ==, TAKES_VERDICT_TIE);
  g_assert_false (takes_verdict_from_string ("c", &v));
  g_assert_cmpstr (takes_verdict_to_string (TAKES_VERDICT_B_WINS), ==, "b");
}

/* Store ------------------------------------------------------------------ */

static gint64
add_take (TakesStore *store, gint64 batch_id, const char *prompt)
{
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (GError) error = NULL;

  takes_recipe_set_prompt (recipe, prompt);
  take = takes_take_new (recipe);
  takes_take_set_batch_id (take, batch_id);
  takes_take_set_status (take, TAKES_TAKE_STATUS_DONE);
  takes_store_add_take (store, take, NULL, TAKES_MEDIA_COPY, &error);
  g_assert_no_error (error);
  return takes_take_get_id (take);
}

static void
test_store_comparisons (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-ranking-XXXXXX", &error);
  g_autoptr (TakesStore) store = takes_store_open (dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_autoptr (JsonObject) vars = json_object_new ();
  g_autoptr (TakesBatch) batch = NULL;
  g_autoptr (TakesComparison) c = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GArray) ids = NULL;
  g_autoptr (TakesRanking) ranking = NULL;
  g_autoptr (GArray) entries = NULL;
  gint64 t[3], outsider;

  g_assert_no_error (error);
  batch = takes_store_create_batch (store, 0, "spot", "a {animal}", vars, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < 3; i++)
    t[i] = add_take (store, batch->id, "a fox");
  outsider = add_take (store, 0, "a cat");

  c = takes_store_add_comparison (store, t[1], t[0], TAKES_VERDICT_A_WINS, "sharper", &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->winner_id, ==, t[1]);
  g_assert_cmpstr (c->note, ==, "sharper");
  g_assert_cmpint (takes_comparison_get_verdict (c), ==, TAKES_VERDICT_A_WINS);
  g_clear_pointer (&c, takes_comparison_free);
  c = takes_store_add_comparison (store, t[1], t[2], TAKES_VERDICT_TIE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (c->winner_id, ==, 0);
  g_clear_pointer (&c, takes_comparison_free);
  c = takes_store_add_comparison (store, t[2], t[0], TAKES_VERDICT_A_WINS, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&c, takes_comparison_free);
  c = takes_store_add_comparison (store, t[0], outsider, TAKES_VERDICT_B_WINS, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&c, takes_comparison_free);

  c = takes_store_add_comparison (store, t[0], t[0], TAKES_VERDICT_TIE, NULL, &error);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_clear_error (&error);
  c = takes_store_add_comparison (store, t[0], 9999, TAKES_VERDICT_TIE, NULL, &error);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  list = takes_store_list_comparisons (store, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 4);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = takes_store_list_comparisons (store, outsider, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_clear_pointer (&list, g_ptr_array_unref);
  list = takes_store_list_batch_comparisons (store, batch->id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 3);

  ranking = takes_store_rank_batch (store, batch->id, &ids, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ids->len, ==, 3);
  entries = takes_ranking_get_entries (ranking);
  g_assert_cmpint (g_array_index (ids, gint64, g_array_index (entries, TakesRankingEntry, 2).item), ==, t[0]);

  g_clear_object (&store);
  review_test_rm_rf (dir);
}

/* A library made at version 2 gains in/out points and alternatives, and a
 * shot's chosen take becomes its first alternative. */
static void
test_migrate_from_v2 (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-ranking-XXXXXX", &error);
  g_autofree char *db_path = g_build_filename (dir, "library.db", NULL);
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (GArray) alternatives = NULL;
  g_autoptr (GPtrArray) shots = NULL;
  TakesShotTrim trim = { 1, 1 };
  sqlite3 *db = NULL;
  const TakesShot *shot;

  g_assert_true (takes_store_create_at_version (db_path, 2, &error));
  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_open (db_path, &db), ==, SQLITE_OK);
  g_assert_cmpint (
      sqlite3_exec (db,
                    "INSERT INTO projects (slug, name, created_at, updated_at) VALUES ('p', 'P', 0, 0);"
                    "INSERT INTO takes (project_id, recipe, cache_key, backend, model, created_at, "
                    "updated_at) VALUES (1, '{}', 'k', 'local', 'm', 0, 0);"
                    "INSERT INTO shots (project_id, position, title, chosen_take_id, created_at, "
                    "updated_at) VALUES (1, 1, 'Old shot', 1, 0, 5);",
                    NULL, NULL, NULL),
      ==, SQLITE_OK);
  sqlite3_close (db);

  store = takes_store_open (dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (takes_store_get_schema_version (store), >=, 3);
  shots = takes_store_list_shots (store, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (shots->len, ==, 1);
  shot = g_ptr_array_index (shots, 0);
  takes_store_get_shot_trim (store, shot->id, &trim, &error);
  g_assert_no_error (error);
  g_assert_cmpint (trim.in_point, ==, 0);
  g_assert_cmpint (trim.out_point, ==, 0);
  alternatives = takes_store_list_shot_alternatives (store, shot->id, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (alternatives->len, ==, 1);
  g_assert_cmpint (g_array_index (alternatives, gint64, 0), ==, 1);

  trim.in_point = 5;
  trim.out_point = 3;
  g_assert_false (takes_store_set_shot_trim (store, shot->id, &trim, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);

  g_clear_object (&store);
  review_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ranking/verdict/names", test_verdict_names);
  g_test_add_func ("/ranking/fit/recovers-known-order", test_known_order);
  g_test_add_func ("/ranking/fit/ties-and-prior", test_ties_and_prior);
  g_test_add_func ("/ranking/next-pair/far-fewer-than-all-pairs", test_next_pair_is_efficient);
  g_test_add_func ("/ranking/store/comparisons-and-batch-ranking", test_store_comparisons);
  g_test_add_func ("/ranking/store/migrate/from-v2", test_migrate_from_v2);
  return g_test_run ();
}
