/* bench-prompt: the prompt tools at batch scale, each against a naive peer
 * measured in the same run.
 *
 *   batch expansion   a 2,000-variant cross batch, against expanding by
 *                     string replacement per variable
 *   batch storing     the same batch stored with its variables and tags in a
 *                     library on disk, against storing the same takes bare
 *   optimizer         10,000 prompts, against scanning with strstr() for
 *                     every lexicon term (target >= 1,000 prompts/s)
 *   safety filter     100,000 prompts against a 10,000-term list, against
 *                     strstr() for every term (target >= 10,000 prompts/s)
 *
 * Exits 1 when a target is missed.
 */
#include "config.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "../core/test-store-util.h"
#include "takes-batch-plan.h"
#include "takes-store-batches.h"
#include "takes-optimizer.h"
#include "takes-paths.h"
#include "takes-safety.h"

#define BATCH_ROUNDS 10
#define STORE_ROUNDS 3
#define OPTIMIZER_N 10000
#define OPTIMIZER_PEER_N 500
#define SAFETY_N 100000
#define SAFETY_TERMS 10000
#define SAFETY_PEER_N 500

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

/* ------------------------------------------------------------------ batch */

static char *
batch_json (void)
{
  GString *json
      = g_string_new ("{\"template\": \"A {product} commercial in {city} during {season}, "
                      "{{brand}} logo\", \"negative\": \"blurry, {city} text\", \"max_variants\": 2000,"
                      " \"seed\": \"vary\", \"seed_base\": 1, \"variables\": {\"product\": [");

  for (guint i = 0; i < 20; i++)
    g_string_append_printf (json, "%s\"product %u\"", i > 0 ? "," : "", i);
  g_string_append (json, "], \"city\": [");
  for (guint i = 0; i < 10; i++)
    g_string_append_printf (json, "%s\"city %u\"", i > 0 ? "," : "", i);
  g_string_append (json, "], \"season\": [");
  for (guint i = 0; i < 10; i++)
    g_string_append_printf (json, "%s\"season %u\"", i > 0 ? "," : "", i);
  g_string_append (json, "]}}");
  return g_string_free (json, FALSE);
}

/* The obvious way: copy the template and replace each "{name}" in turn. */
static guint
naive_expand_all (void)
{
  guint total = 0;

  for (guint p = 0; p < 20; p++)
    for (guint c = 0; c < 10; c++)
      for (guint s = 0; s < 10; s++)
        {
          g_autoptr (GString) prompt
              = g_string_new ("A {product} commercial in {city} during {season}, {brand} logo");
          g_autoptr (GString) negative = g_string_new ("blurry, {city} text");
          g_autofree char *product = g_strdup_printf ("product %u", p);
          g_autofree char *city = g_strdup_printf ("city %u", c);
          g_autofree char *season = g_strdup_printf ("season %u", s);

          g_string_replace (prompt, "{product}", product, 0);
          g_string_replace (prompt, "{city}", city, 0);
          g_string_replace (prompt, "{season}", season, 0);
          g_string_replace (negative, "{city}", city, 0);
          total += prompt->len + negative->len;
        }
  return total;
}

static double
store_once (const char *json, gboolean bare)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bench-prompt-XXXXXX", &error);
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesBatchPlan) plan = NULL;
  g_autoptr (GPtrArray) takes = NULL;
  double t0, elapsed;

  g_assert_no_error (error);
  store = takes_store_open (dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  t0 = now ();
  plan = takes_batch_plan_new_from_data (json, -1, 0, &error);
  g_assert_no_error (error);
  if (bare)
    {
      takes = takes_batch_plan_make_takes (plan, 0, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (takes_store_add_takes (store, takes, &error));
    }
  else
    {
      g_autoptr (TakesBatchInfo) info
          = takes_store_add_batch (store, 0, plan, NULL, NULL, NULL, NULL, &takes, &error);

      g_assert_nonnull (info);
    }
  g_assert_no_error (error);
  g_assert_cmpuint (takes->len, ==, 2000);
  elapsed = now () - t0;
  g_clear_object (&store);
  store_test_rm_rf (dir);
  return elapsed;
}

/* Storing is what a marketer waits for after pressing Generate on a batch:
 * one transaction for the batch row, the 2,000 takes, their variables and
 * their name=value tags. The peer stores the same takes without the batch
 * row, variables or tags, in one transaction too. */
static void
bench_batch_store (const char *json)
{
  double ours = 0, peer = 0;

  for (guint r = 0; r < STORE_ROUNDS; r++)
    {
      ours += store_once (json, FALSE);
      peer += store_once (json, TRUE);
    }
  ours /= STORE_ROUNDS;
  peer /= STORE_ROUNDS;
  g_print ("expanding and storing the batch in a library on disk, mean of %u runs\n", STORE_ROUNDS);
  g_print ("  batch with variables and tags %8.2f ms   %10.0f variants/s\n", ours * 1e3, 2000 / ours);
  g_print ("  bare takes peer               %8.2f ms   %10.0f variants/s\n", peer * 1e3, 2000 / peer);
  g_print ("  ratio ours/peer time          %8.2f\n\n", ours / peer);
}

static void
bench_batch (void)
{
  g_autofree char *json = batch_json ();
  double t0;
  double ours;
  double peer;
  guint checksum = 0;

  t0 = now ();
  for (guint r = 0; r < BATCH_ROUNDS; r++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesBatchPlan) plan = takes_batch_plan_new_from_data (json, -1, 0, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (takes_batch_plan_get_n_variants (plan), ==, 2000);
      checksum += strlen (takes_batch_plan_get_variant (plan, 1999)->prompt);
    }
  ours = (now () - t0) / BATCH_ROUNDS;

  t0 = now ();
  for (guint r = 0; r < BATCH_ROUNDS; r++)
    checksum += naive_expand_all ();
  peer = (now () - t0) / BATCH_ROUNDS;

  g_print ("batch expansion, 2,000 variants (parse, check, expand, seeds), mean of %u runs\n", BATCH_ROUNDS);
  g_print ("  takes_batch_plan           %8.2f ms   %10.0f variants/s\n", ours * 1e3, 2000 / ours);
  g_print ("  naive string replace peer  %8.2f ms   %10.0f variants/s   (expansion only)\n", peer * 1e3,
           2000 / peer);
  g_print ("  ratio ours/peer time       %8.2f\n", ours / peer);
  if (checksum == 0)
    g_print ("(checksum 0)\n");
  bench_batch_store (json);
}

/* ------------------------------------------------------------------ optimizer */

static GPtrArray *
table_prompts (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *path
      = g_build_filename (g_getenv ("G_TEST_SRCDIR") != NULL ? g_getenv ("G_TEST_SRCDIR") : ".", "core",
                          "data", "optimizer-prompts.json", NULL);
  GPtrArray *prompts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GError) error = NULL;
  JsonArray *rows;

  if (!json_parser_load_from_file (parser, path, &error))
    g_error ("cannot read %s: %s", path, error->message);
  rows = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "prompts");
  for (guint i = 0; i < json_array_get_length (rows); i++)
    g_ptr_array_add (prompts, g_strdup (json_object_get_string_member (
                                  json_array_get_object_element (rows, i), "prompt")));
  return prompts;
}

static void
collect_terms (JsonNode *node, GPtrArray *out)
{
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    g_ptr_array_add (out, g_utf8_strdown (json_node_get_string (node), -1));
  else if (JSON_NODE_HOLDS_ARRAY (node))
    for (guint i = 0; i < json_array_get_length (json_node_get_array (node)); i++)
      collect_terms (json_array_get_element (json_node_get_array (node), i), out);
  else if (JSON_NODE_HOLDS_OBJECT (node))
    {
      JsonObject *o = json_node_get_object (node);

      if (json_object_has_member (o, "term"))
        collect_terms (json_object_get_member (o, "term"), out);
      else
        {
          g_autoptr (GList) members = json_object_get_members (o);

          for (GList *l = members; l != NULL; l = l->next)
            collect_terms (json_object_get_member (o, l->data), out);
        }
    }
}

static GPtrArray *
lexicon_terms (void)
{
  GPtrArray *terms = g_ptr_array_new_with_free_func (g_free);
  const char *names[] = { "prompt/lexicon-en.json", "prompt/lexicon-zh.json" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = takes_paths_datafile (names[i]);
      g_autoptr (JsonParser) parser = json_parser_new ();

      g_assert_true (json_parser_load_from_file (parser, path, NULL));
      collect_terms (json_object_get_member (json_node_get_object (json_parser_get_root (parser)), "detect"),
                     terms);
    }
  return terms;
}

static gboolean
bench_optimizer (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesOptimizer) optimizer = takes_optimizer_new_default (&error);
  g_autoptr (GPtrArray) base = table_prompts ();
  g_autoptr (GPtrArray) prompts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) terms = lexicon_terms ();
  double t0;
  double ours;
  double peer;
  guint suggestions = 0;
  guint found = 0;

  g_assert_no_error (error);
  /* Table prompts, each with a distinct tail so no two are alike. */
  for (guint i = 0; i < OPTIMIZER_N; i++)
    g_ptr_array_add (prompts,
                     g_strdup_printf ("%s, take %u", (char *)g_ptr_array_index (base, i % base->len), i));

  t0 = now ();
  for (guint i = 0; i < OPTIMIZER_N; i++)
    {
      g_autoptr (TakesPromptAnalysis) a
          = takes_optimizer_analyze (optimizer, g_ptr_array_index (prompts, i), i);
      g_autofree char *result = takes_prompt_analysis_apply_all (a);

      suggestions += takes_prompt_analysis_get_suggestions (a)->len;
    }
  ours = (now () - t0) / OPTIMIZER_N;

  t0 = now ();
  for (guint i = 0; i < OPTIMIZER_PEER_N; i++)
    {
      g_autofree char *lower = g_utf8_strdown (g_ptr_array_index (prompts, i), -1);

      for (guint k = 0; k < terms->len; k++)
        found += strstr (lower, g_ptr_array_index (terms, k)) != NULL;
    }
  peer = (now () - t0) / OPTIMIZER_PEER_N;

  g_print ("offline optimizer, %u prompts (analyse + apply all), %u lexicon terms\n", OPTIMIZER_N,
           terms->len);
  g_print ("  takes_optimizer            %10.0f prompts/s   (target >= 1,000)   %.1f suggestions each\n",
           1 / ours, (double)suggestions / OPTIMIZER_N);
  g_print ("  strstr per term peer       %10.0f prompts/s   (detection only, %u prompts)\n", 1 / peer,
           OPTIMIZER_PEER_N);
  g_print ("  ratio ours/peer speed      %10.2f\n\n", peer / ours);
  if (found == 0)
    g_print ("(peer found nothing)\n");
  return 1 / ours >= 1000;
}

/* ------------------------------------------------------------------ safety */

static char *
random_word (GRand *rand, guint min, guint max)
{
  guint n = g_rand_int_range (rand, min, max + 1);
  char *w = g_malloc (n + 1);

  for (guint i = 0; i < n; i++)
    w[i] = 'a' + g_rand_int_range (rand, 0, 26);
  w[n] = '\0';
  return w;
}

static gboolean
bench_safety (void)
{
  static const char *const words[] = {
    "a",      "red",      "fox",    "runs", "across",  "fresh",  "snow", "at",     "dawn",  "wide",
    "shot",   "woman",    "drinks", "tea",  "in",      "cafe",   "city", "neon",   "night", "slow",
    "camera", "tracking", "close",  "up",   "product", "bottle", "on",   "marble", "table", "soft",
    "light",  "一只",     "狐狸",   "雪地", "奔跑",    "清晨",   "特写", "class",  "glass", "passenger",
  };
  g_autoptr (GRand) rand = g_rand_new_with_seed (20250101);
  g_autoptr (GString) list = g_string_new (NULL);
  g_autoptr (GPtrArray) terms = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) prompts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (TakesSafety) safety = takes_safety_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *fold = takes_paths_datafile ("prompt/safety-fold.txt");
  double t0;
  double ours;
  double peer;
  guint blocked = 0;
  guint peer_blocked = 0;

  /* 10,000 terms: short whole words, longer substrings, phrases, CJK pairs. */
  for (guint i = 0; i < SAFETY_TERMS; i++)
    {
      g_autofree char *term = NULL;
      const char *flags = "-";

      switch (i % 4)
        {
          case 0:
            term = random_word (rand, 3, 5);
            flags = "word";
            break;
          case 1:
            term = random_word (rand, 7, 12);
            break;
          case 2:
            {
              g_autofree char *a = random_word (rand, 4, 7);
              g_autofree char *b = random_word (rand, 4, 7);

              term = g_strdup_printf ("%s %s", a, b);
              flags = "word";
            }
            break;
          default:
            {
              gunichar cjk[2] = { 0x4E00 + g_rand_int_range (rand, 0, 20000),
                                  0x4E00 + g_rand_int_range (rand, 0, 20000) };

              term = g_ucs4_to_utf8 (cjk, 2, NULL, NULL, NULL);
            }
            break;
        }
      g_string_append_printf (list, "%s | %s | custom\n", term, flags);
      g_ptr_array_add (terms, g_steal_pointer (&term));
    }
  g_assert_true (takes_safety_load_fold_file (safety, fold, &error));
  t0 = now ();
  g_assert_true (takes_safety_load_data (safety, list->str, list->len, "bench", &error));
  g_assert_no_error (error);
  g_print ("safety filter, %u terms (loaded and compiled in %.0f ms)\n", takes_safety_get_n_terms (safety),
           (now () - t0) * 1e3);

  /* Prompts of 12 to 30 words; one in fifty carries a listed term, some of
   * them with the letters spread out. */
  for (guint i = 0; i < SAFETY_N; i++)
    {
      GString *p = g_string_new (NULL);
      guint n = g_rand_int_range (rand, 12, 31);

      for (guint w = 0; w < n; w++)
        g_string_append_printf (p, "%s%s", w > 0 ? " " : "",
                                words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
      if (i % 50 == 0)
        {
          const char *term = g_ptr_array_index (terms, g_rand_int_range (rand, 0, terms->len));

          if (i % 100 == 0 && term[0] >= 'a' && term[0] <= 'z' && strchr (term, ' ') == NULL)
            for (const char *t = term; *t != '\0'; t++)
              g_string_append_printf (p, "%s%c", t == term ? " " : ".", *t);
          else
            g_string_append_printf (p, ", %s", term);
        }
      g_ptr_array_add (prompts, g_string_free (p, FALSE));
    }

  t0 = now ();
  for (guint i = 0; i < SAFETY_N; i++)
    {
      g_autoptr (GPtrArray) matches = takes_safety_check (safety, g_ptr_array_index (prompts, i));

      blocked += matches->len > 0;
    }
  ours = (now () - t0) / SAFETY_N;

  t0 = now ();
  for (guint i = 0; i < SAFETY_PEER_N; i++)
    {
      g_autofree char *lower = g_utf8_strdown (g_ptr_array_index (prompts, i), -1);

      for (guint k = 0; k < terms->len; k++)
        if (strstr (lower, g_ptr_array_index (terms, k)) != NULL)
          {
            peer_blocked++;
            break;
          }
    }
  peer = (now () - t0) / SAFETY_PEER_N;

  g_print ("  %u prompts, %u blocked (%.1f %%)\n", SAFETY_N, blocked, 100.0 * blocked / SAFETY_N);
  g_print (
      "  takes_safety (folding, spread-out letters, whole words)  %10.0f prompts/s   (target >= 10,000)\n",
      1 / ours);
  g_print ("  strstr per term peer (lower case only, %u prompts)     %10.0f prompts/s\n", SAFETY_PEER_N,
           1 / peer);
  g_print ("  ratio ours/peer speed                                    %10.1f\n\n", peer / ours);
  if (peer_blocked == 0)
    g_print ("(peer blocked nothing)\n");
  return 1 / ours >= 10000;
}

int
main (int argc, char **argv)
{
  gboolean ok = TRUE;

  g_print ("bench-prompt: %u CPU threads available; figures are wall-clock on one thread\n\n",
           g_get_num_processors ());
  bench_batch ();
  ok &= bench_optimizer ();
  ok &= bench_safety ();
  g_print ("%s\n", ok ? "all targets met" : "A TARGET WAS MISSED");
  return ok ? 0 : 1;
}
