/* The offline optimizer on a table of real prompts, its rules, and the
 * prompt diff the studio shows next to a rewrite. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "takes-optimizer.h"
#include "takes-prompt-diff.h"
#include "takes-term-matcher.h"

static TakesOptimizer *
shipped (void)
{
  g_autoptr (GError) error = NULL;
  TakesOptimizer *optimizer = takes_optimizer_new_default (&error);

  g_assert_no_error (error);
  return optimizer;
}

static JsonArray *
load_table (JsonParser *parser)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "core", "data", "optimizer-prompts.json", NULL);
  g_autoptr (GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "prompts");
}

static gboolean
has_suggestion (TakesPromptAnalysis *analysis, TakesPromptFact kind)
{
  GPtrArray *s = takes_prompt_analysis_get_suggestions (analysis);

  for (guint i = 0; i < s->len; i++)
    if (((TakesPromptSuggestion *)g_ptr_array_index (s, i))->kind == kind)
      return TRUE;
  return FALSE;
}

static TakesPromptFact
fact_from (const char *id)
{
  TakesPromptFact fact = TAKES_PROMPT_N_FACTS;

  g_assert_true (takes_prompt_fact_from_string (id, &fact));
  return fact;
}

static int
compare_strings_cb (gconstpointer a, gconstpointer b)
{
  return strcmp (*(char *const *)a, *(char *const *)b);
}

/* The subjects of @analysis as folded text, sorted, one string. */
static char *
subjects_of (TakesPromptAnalysis *analysis)
{
  GPtrArray *facts = takes_prompt_analysis_get_facts (analysis);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GString) out = g_string_new (NULL);

  for (guint i = 0; i < facts->len; i++)
    {
      const TakesPromptFactMatch *f = g_ptr_array_index (facts, i);

      if (f->kind == TAKES_PROMPT_FACT_SUBJECT)
        g_ptr_array_add (names, takes_fold_term (f->text, NULL, FALSE));
    }
  g_ptr_array_sort (names, compare_strings_cb);
  for (guint i = 0; i < names->len; i++)
    g_string_append_printf (out, "%s|", (char *)g_ptr_array_index (names, i));
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static char *
analysis_json (TakesPromptAnalysis *analysis)
{
  g_autoptr (JsonNode) node = takes_prompt_analysis_to_json (analysis);

  return json_to_string (node, FALSE);
}

static gboolean
has_cjk (const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    if (takes_fold_is_cjk (g_utf8_get_char (p)))
      return TRUE;
  return FALSE;
}

static void
test_optimizer_table (void)
{
  g_autoptr (TakesOptimizer) optimizer = shipped ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *table = load_table (parser);
  guint n_en = 0;
  guint n_zh = 0;

  g_assert_cmpuint (json_array_get_length (table), >=, 40);
  for (guint i = 0; i < json_array_get_length (table); i++)
    {
      JsonObject *row = json_array_get_object_element (table, i);
      const char *prompt = json_object_get_string_member (row, "prompt");
      const char *language = json_object_get_string_member (row, "language");
      JsonArray *facts = json_object_get_array_member (row, "facts");
      JsonArray *suggests = json_object_get_array_member (row, "suggests");
      JsonArray *never = json_object_get_array_member (row, "never");
      g_autoptr (TakesPromptAnalysis) analysis = takes_optimizer_analyze (optimizer, prompt, 0);
      GPtrArray *suggestions = takes_prompt_analysis_get_suggestions (analysis);

      g_test_message ("%u: %s", i, prompt);
      g_assert_cmpstr (takes_prompt_analysis_get_language (analysis), ==, language);
      n_en += g_str_equal (language, "en");
      n_zh += g_str_equal (language, "zh");
      for (guint k = 0; k < json_array_get_length (facts); k++)
        {
          const char *id = json_array_get_string_element (facts, k);

          if (!takes_prompt_analysis_has_fact (analysis, fact_from (id)))
            g_error ("“%s”: the %s was not found", prompt, id);
        }
      for (guint k = 0; k < json_array_get_length (suggests); k++)
        {
          const char *id = json_array_get_string_element (suggests, k);

          if (!has_suggestion (analysis, fact_from (id)))
            g_error ("“%s”: no %s was suggested", prompt, id);
        }
      for (guint k = 0; k < json_array_get_length (never); k++)
        {
          const char *id = json_array_get_string_element (never, k);

          if (has_suggestion (analysis, fact_from (id)))
            g_error ("“%s”: a %s was suggested", prompt, id);
        }
      /* Every suggestion fills a gap, follows the prompt's language and says why. */
      for (guint k = 0; k < suggestions->len; k++)
        {
          const TakesPromptSuggestion *s = g_ptr_array_index (suggestions, k);

          g_assert_cmpstr (s->explanation, !=, "");
          g_assert_cmpint (has_cjk (s->text), ==, g_str_equal (language, "zh"));
          if (s->edit == TAKES_PROMPT_EDIT_INSERT && s->kind != TAKES_PROMPT_FACT_SKY)
            g_assert_false (takes_prompt_analysis_has_fact (analysis, s->kind));
          g_assert_cmpint (s->kind, !=, TAKES_PROMPT_FACT_SUBJECT);
        }
    }
  g_assert_cmpuint (n_en, >=, 20);
  g_assert_cmpuint (n_zh, >=, 20);
}

static void
test_optimizer_no_subject_added (void)
{
  g_autoptr (TakesOptimizer) optimizer = shipped ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *table = load_table (parser);

  for (guint i = 0; i < json_array_get_length (table); i++)
    {
      const char *prompt = json_object_get_string_member (json_array_get_object_element (table, i), "prompt");

      for (guint64 seed = 0; seed < 4; seed++)
        {
          g_autoptr (TakesPromptAnalysis) before = takes_optimizer_analyze (optimizer, prompt, seed * 7919);
          g_autofree char *result = takes_prompt_analysis_apply_all (before);
          g_autoptr (TakesPromptAnalysis) after = takes_optimizer_analyze (optimizer, result, 0);
          g_autofree char *subjects_before = subjects_of (before);
          g_autofree char *subjects_after = subjects_of (after);

          g_test_message ("%s → %s", prompt, result);
          g_assert_cmpstr (subjects_after, ==, subjects_before);
          /* The prompt itself is all still there. */
          g_assert_true (strlen (result) >= strlen (prompt));
        }
    }
}

static void
test_optimizer_deterministic (void)
{
  g_autoptr (TakesOptimizer) optimizer = shipped ();
  g_autoptr (TakesOptimizer) second = shipped ();
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *table = load_table (parser);
  guint differing = 0;

  for (guint i = 0; i < json_array_get_length (table); i++)
    {
      const char *prompt = json_object_get_string_member (json_array_get_object_element (table, i), "prompt");
      g_autoptr (TakesPromptAnalysis) a = takes_optimizer_analyze (optimizer, prompt, 0);
      g_autoptr (TakesPromptAnalysis) b = takes_optimizer_analyze (second, prompt, 0);
      g_autoptr (TakesPromptAnalysis) c = takes_optimizer_analyze (optimizer, prompt, 424242);
      g_autoptr (TakesPromptAnalysis) d = takes_optimizer_analyze (second, prompt, 424242);
      g_autofree char *ja = analysis_json (a);
      g_autofree char *jb = analysis_json (b);
      g_autofree char *jc = analysis_json (c);
      g_autofree char *jd = analysis_json (d);

      g_assert_cmpstr (ja, ==, jb);
      g_assert_cmpstr (jc, ==, jd);
      differing += g_strcmp0 (ja, jc) != 0;
    }
  /* Seeds pick among equal candidates, so some prompts read differently. */
  g_assert_cmpuint (differing, >, 0);
}

static void
count_notify_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  (*(guint *)user_data)++;
}

static void
test_optimizer_settings_cap (void)
{
  g_autoptr (TakesOptimizer) optimizer = shipped ();
  const char *bare = "a man walks his dog";
  g_autoptr (TakesPromptAnalysis) capped = takes_optimizer_analyze (optimizer, bare, 0);
  g_autoptr (TakesPromptAnalysis) all = NULL;
  guint n_capped = 0;
  guint n_all = 0;
  guint notified = 0;

  for (guint i = 0; i < takes_prompt_analysis_get_suggestions (capped)->len; i++)
    {
      TakesPromptFact kind
          = ((TakesPromptSuggestion *)g_ptr_array_index (takes_prompt_analysis_get_suggestions (capped), i))
                ->kind;

      n_capped += kind >= TAKES_PROMPT_FACT_TIME_OF_DAY && kind <= TAKES_PROMPT_FACT_COMPOSITION;
    }
  g_assert_cmpuint (takes_optimizer_get_max_settings (optimizer), ==, 4);
  g_assert_cmpuint (n_capped, ==, 4);

  g_signal_connect (optimizer, "notify::max-settings", G_CALLBACK (count_notify_cb), &notified);
  takes_optimizer_set_max_settings (optimizer, 0);
  takes_optimizer_set_max_settings (optimizer, 0);
  g_assert_cmpuint (notified, ==, 1);
  all = takes_optimizer_analyze (optimizer, bare, 0);
  for (guint i = 0; i < takes_prompt_analysis_get_suggestions (all)->len; i++)
    {
      TakesPromptFact kind
          = ((TakesPromptSuggestion *)g_ptr_array_index (takes_prompt_analysis_get_suggestions (all), i))
                ->kind;

      n_all += kind >= TAKES_PROMPT_FACT_TIME_OF_DAY && kind <= TAKES_PROMPT_FACT_COMPOSITION;
    }
  g_assert_cmpuint (n_all, >, 4);
}

static void
test_optimizer_camera_move_skips_angle (void)
{
  g_autoptr (TakesOptimizer) optimizer = shipped ();
  g_autoptr (TakesPromptAnalysis) a = NULL;

  takes_optimizer_set_max_settings (optimizer, 0);
  a = takes_optimizer_analyze (optimizer, "a woman walks through a market, handheld tracking shot", 0);
  g_assert_true (takes_prompt_analysis_has_fact (a, TAKES_PROMPT_FACT_CAMERA_MOVEMENT));
  g_assert_false (has_suggestion (a, TAKES_PROMPT_FACT_CAMERA_ANGLE));
  g_assert_true (has_suggestion (a, TAKES_PROMPT_FACT_SHOT_SIZE));
}

static void
test_optimizer_style_to_front (void)
{
  g_autoptr (TakesOptimizer) optimizer = shipped ();
  g_autoptr (TakesPromptAnalysis) en
      = takes_optimizer_analyze (optimizer, "A fox in the snow, oil painting.", 0);
  g_autoptr (TakesPromptAnalysis) zh = takes_optimizer_analyze (optimizer, "一只狐狸在雪地里，油画风格。", 0);
  g_autoptr (TakesPromptAnalysis) none = takes_optimizer_analyze (optimizer, "A fox in the snow", 0);
  g_autoptr (TakesPromptAnalysis) front
      = takes_optimizer_analyze (optimizer, "Watercolor fox in the snow", 0);
  GPtrArray *s = takes_prompt_analysis_get_suggestions (en);
  const TakesPromptSuggestion *move = g_ptr_array_index (s, 0);
  guint only = 0;
  g_autofree char *moved = takes_prompt_analysis_apply (en, &only, 1);
  g_autofree char *moved_zh = takes_prompt_analysis_apply (zh, &only, 1);

  g_assert_cmpint (move->kind, ==, TAKES_PROMPT_FACT_STYLE);
  g_assert_cmpint (move->edit, ==, TAKES_PROMPT_EDIT_MOVE);
  g_assert_cmpstr (move->text, ==, "oil painting");
  g_assert_cmpstr (moved, ==, "Oil painting, a fox in the snow.");
  g_assert_cmpstr (moved_zh, ==, "油画风格，一只狐狸在雪地里。");
  /* No style is ever invented, and one already in front stays put. */
  g_assert_false (has_suggestion (none, TAKES_PROMPT_FACT_STYLE));
  g_assert_false (has_suggestion (front, TAKES_PROMPT_FACT_STYLE));
}

static void
test_optimizer_two_d_drops_camera_words (void)
{
  g_autoptr (TakesOptimizer) optimizer = shipped ();
  g_autoptr (TakesPromptAnalysis) a = NULL;
  GPtrArray *s;

  takes_optimizer_set_max_settings (optimizer, 0);
  a = takes_optimizer_analyze (optimizer, "pixel art of a robot walking through a city", 0);
  s = takes_prompt_analysis_get_suggestions (a);
  g_assert_cmpuint (s->len, >, 0);
  for (guint i = 0; i < s->len; i++)
    {
      TakesPromptFact kind = ((TakesPromptSuggestion *)g_ptr_array_index (s, i))->kind;

      g_assert_true (kind != TAKES_PROMPT_FACT_LENS && kind != TAKES_PROMPT_FACT_CAMERA_ANGLE
                     && kind != TAKES_PROMPT_FACT_CAMERA_MOVEMENT && kind != TAKES_PROMPT_FACT_LIGHT_SOURCE
                     && kind != TAKES_PROMPT_FACT_SHOT_SIZE);
    }
}

static void
test_optimizer_sky (void)
{
  g_autoptr (TakesOptimizer) optimizer = shipped ();
  g_autoptr (TakesPromptAnalysis) bare = takes_optimizer_analyze (optimizer, "a kite high in the sky", 0);
  g_autoptr (TakesPromptAnalysis) blue
      = takes_optimizer_analyze (optimizer, "a kite high in the blue sky", 0);
  g_autoptr (TakesPromptAnalysis) night
      = takes_optimizer_analyze (optimizer, "the sky at night over a town", 0);

  g_assert_true (has_suggestion (bare, TAKES_PROMPT_FACT_SKY));
  g_assert_false (has_suggestion (blue, TAKES_PROMPT_FACT_SKY));
  g_assert_false (has_suggestion (night, TAKES_PROMPT_FACT_SKY));
}

static void
test_optimizer_apply_subset (void)
{
  g_autoptr (TakesOptimizer) optimizer = shipped ();
  g_autoptr (TakesPromptAnalysis) a = takes_optimizer_analyze (optimizer, "The girl drinks tea.", 0);
  GPtrArray *s = takes_prompt_analysis_get_suggestions (a);
  const guint pick[] = { 0, 99, 0 };
  guint last = s->len - 1;
  g_autofree char *none = takes_prompt_analysis_apply (a, NULL, 0);
  g_autofree char *first = takes_prompt_analysis_apply (a, pick, G_N_ELEMENTS (pick));
  g_autofree char *end = takes_prompt_analysis_apply (a, &last, 1);
  g_autofree char *expected_first = NULL;
  g_autofree char *expected_end = NULL;
  const TakesPromptSuggestion *s0 = g_ptr_array_index (s, 0);
  const TakesPromptSuggestion *sl = g_ptr_array_index (s, last);

  g_assert_cmpuint (s->len, >=, 3);
  g_assert_cmpstr (none, ==, "The girl drinks tea.");
  /* A setting goes in front (the article follows in lower case)… */
  g_assert_cmpuint (s0->position, ==, 0);
  expected_first
      = g_strdup_printf ("%c%s, the girl drinks tea.", g_ascii_toupper (s0->text[0]), s0->text + 1);
  g_assert_cmpstr (first, ==, expected_first);
  /* …detail goes at the end, before the closing full stop. */
  g_assert_cmpuint (sl->position, ==, strlen ("The girl drinks tea"));
  expected_end = g_strdup_printf ("The girl drinks tea, %s.", sl->text);
  g_assert_cmpstr (end, ==, expected_end);
}

static void
test_optimizer_odd_input (void)
{
  g_autoptr (TakesOptimizer) optimizer = shipped ();
  g_autoptr (GString) huge = g_string_new (NULL);
  const char *odd[] = { "", "   ", "。", ",,,", "\xff\xfe girl", "{city} ad" };

  for (guint i = 0; i < G_N_ELEMENTS (odd); i++)
    {
      g_autoptr (TakesPromptAnalysis) a = takes_optimizer_analyze (optimizer, odd[i], 3);
      g_autofree char *result = takes_prompt_analysis_apply_all (a);

      g_assert_true (g_utf8_validate (result, -1, NULL));
    }
  /* A pasted novel: long, and full of terms. */
  for (guint i = 0; i < 20000; i++)
    g_string_append (huge, "a girl walks, ");
  {
    gint64 start = g_get_monotonic_time ();
    g_autoptr (TakesPromptAnalysis) a = takes_optimizer_analyze (optimizer, huge->str, 0);
    g_autofree char *result = takes_prompt_analysis_apply_all (a);

    g_assert_cmpuint (takes_prompt_analysis_get_facts (a)->len, ==, 40000);
    g_assert_cmpuint (strlen (result), >, huge->len - 2);
    g_assert_cmpint (g_get_monotonic_time () - start, <, 5 * G_USEC_PER_SEC);
  }
}

static void
write_lexicon (const char *path, const char *suggest)
{
  g_autofree char *json = g_strdup_printf (
      "{\"language\": \"en\", \"separator\": \", \","
      " \"detect\": {\"subject\": {\"person\": [\"girl\"]}, \"action\": {\"motion\": [\"walk*\"]}},"
      " \"suggest\": %s}",
      suggest);

  g_assert_true (g_file_set_contents (path, json, -1, NULL));
}

static void
test_optimizer_lexicon_checks (void)
{
  g_autofree char *dir = g_dir_make_tmp ("takes-lexicon-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "lexicon.json", NULL);
  const char *paths[] = { path, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesOptimizer) optimizer = NULL;
  g_autoptr (TakesPromptAnalysis) a = NULL;
  static const char *const bad[] = {
    "{\"action\": [{\"text\": \"as a girl waves back\"}]}",
    "{\"subject\": [{\"text\": \"a girl\"}]}",
    "{\"nonsense\": []}",
    "{\"action\": [{\"when\": [\"x\"]}]}",
    "[]",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      write_lexicon (path, bad[i]);
      optimizer = takes_optimizer_new_from_files (paths, &error);
      g_test_message ("lexicon %u: %s", i, error != NULL ? error->message : "(loaded)");
      g_assert_null (optimizer);
      g_assert_error (error, TAKES_OPTIMIZER_ERROR, TAKES_OPTIMIZER_ERROR_INVALID_LEXICON);
      g_clear_error (&error);
    }
  g_assert_true (g_file_set_contents (path, "{not json", -1, NULL));
  optimizer = takes_optimizer_new_from_files (paths, &error);
  g_assert_null (optimizer);
  g_assert_error (error, TAKES_OPTIMIZER_ERROR, TAKES_OPTIMIZER_ERROR_INVALID_LEXICON);
  g_clear_error (&error);

  /* A trailing "*" matches any ending. */
  write_lexicon (path, "{\"unfolding\": [{\"text\": \"step by step\"}]}");
  optimizer = takes_optimizer_new_from_files (paths, &error);
  g_assert_no_error (error);
  a = takes_optimizer_analyze (optimizer, "the girl walked home", 0);
  g_assert_true (takes_prompt_analysis_has_fact (a, TAKES_PROMPT_FACT_ACTION));
  g_assert_true (has_suggestion (a, TAKES_PROMPT_FACT_UNFOLDING));
  g_assert_finalize_object (g_steal_pointer (&a));
  g_assert_finalize_object (g_steal_pointer (&optimizer));
  g_unlink (path);
  g_rmdir (dir);
}

/* ------------------------------------------------------------------ diff */

static char *
join (GPtrArray *chunks, TakesDiffOp skip)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < chunks->len; i++)
    {
      const TakesDiffChunk *c = g_ptr_array_index (chunks, i);

      if (c->op != skip)
        g_string_append (out, c->text);
    }
  return g_string_free (out, FALSE);
}

static void
test_diff_words (void)
{
  g_autoptr (GPtrArray) d
      = takes_prompt_diff ("A red fox runs in the snow", "A small red fox trots in the deep snow");
  g_autofree char *shown = takes_prompt_diff_format (d);

  g_assert_cmpstr (shown, ==, "A {+small +}red fox [-runs-]{+trots+} in the {+deep +}snow");
}

static void
test_diff_cjk_per_character (void)
{
  g_autoptr (GPtrArray) d = takes_prompt_diff ("一只狐狸在雪地里奔跑", "清晨，一只红狐狸在雪地里慢慢奔跑");
  g_autofree char *shown = takes_prompt_diff_format (d);

  g_assert_cmpstr (shown, ==, "{+清晨，+}一只{+红+}狐狸在雪地里{+慢慢+}奔跑");
}

static void
test_diff_identical_and_empty (void)
{
  g_autoptr (GPtrArray) same = takes_prompt_diff ("same words", "same words");
  g_autoptr (GPtrArray) from_empty = takes_prompt_diff ("", "new text");
  g_autoptr (GPtrArray) to_empty = takes_prompt_diff ("old text", NULL);

  g_assert_cmpuint (same->len, ==, 1);
  g_assert_cmpint (((TakesDiffChunk *)g_ptr_array_index (same, 0))->op, ==, TAKES_DIFF_EQUAL);
  g_assert_cmpuint (from_empty->len, ==, 1);
  g_assert_cmpint (((TakesDiffChunk *)g_ptr_array_index (from_empty, 0))->op, ==, TAKES_DIFF_INSERT);
  g_assert_cmpuint (to_empty->len, ==, 1);
  g_assert_cmpint (((TakesDiffChunk *)g_ptr_array_index (to_empty, 0))->op, ==, TAKES_DIFF_DELETE);
}

static void
test_diff_reconstructs_both (void)
{
  static const char *const words[]
      = { "a", "fox", "红", "狐", "狸", " ", ", ", "snow", "。", "runs", "Ünïcode" };
  GRand *rand = g_rand_new_with_seed (1234);

  for (guint round = 0; round < 200; round++)
    {
      g_autoptr (GString) a = g_string_new (NULL);
      g_autoptr (GString) b = g_string_new (NULL);
      g_autoptr (GPtrArray) d = NULL;
      g_autofree char *before = NULL;
      g_autofree char *after = NULL;

      for (guint i = g_rand_int_range (rand, 0, 30); i > 0; i--)
        g_string_append (a, words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
      for (guint i = g_rand_int_range (rand, 0, 30); i > 0; i--)
        g_string_append (b, words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);
      d = takes_prompt_diff (a->str, b->str);
      before = join (d, TAKES_DIFF_INSERT);
      after = join (d, TAKES_DIFF_DELETE);
      g_assert_cmpstr (before, ==, a->str);
      g_assert_cmpstr (after, ==, b->str);
      for (guint i = 1; i < d->len; i++)
        g_assert_cmpint (((TakesDiffChunk *)g_ptr_array_index (d, i))->op, !=,
                         ((TakesDiffChunk *)g_ptr_array_index (d, i - 1))->op);
    }
  g_rand_free (rand);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/optimizer/table/facts-and-suggestions", test_optimizer_table);
  g_test_add_func ("/optimizer/table/no-subject-added", test_optimizer_no_subject_added);
  g_test_add_func ("/optimizer/table/same-output-twice", test_optimizer_deterministic);
  g_test_add_func ("/optimizer/rules/at-most-four-settings", test_optimizer_settings_cap);
  g_test_add_func ("/optimizer/rules/camera-move-skips-angle", test_optimizer_camera_move_skips_angle);
  g_test_add_func ("/optimizer/rules/style-moves-to-front", test_optimizer_style_to_front);
  g_test_add_func ("/optimizer/rules/2d-style-drops-camera-words", test_optimizer_two_d_drops_camera_words);
  g_test_add_func ("/optimizer/rules/bare-sky-made-clear-blue", test_optimizer_sky);
  g_test_add_func ("/optimizer/apply/chosen-subset", test_optimizer_apply_subset);
  g_test_add_func ("/optimizer/analyze/odd-input", test_optimizer_odd_input);
  g_test_add_func ("/optimizer/lexicon/checks", test_optimizer_lexicon_checks);

  g_test_add_func ("/prompt-diff/words", test_diff_words);
  g_test_add_func ("/prompt-diff/cjk-per-character", test_diff_cjk_per_character);
  g_test_add_func ("/prompt-diff/identical-and-empty", test_diff_identical_and_empty);
  g_test_add_func ("/prompt-diff/reconstructs-both-prompts", test_diff_reconstructs_both);
  return g_test_run ();
}
