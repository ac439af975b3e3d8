/* The safety filter: shipped lists, evasions, whole words, list files. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "takes-safety.h"

static TakesSafety *
shipped (void)
{
  g_autoptr (GError) error = NULL;
  TakesSafety *safety;

  /* No user list from the machine running the tests. */
  g_setenv ("TAKES_DATA_DIR", "/nonexistent/takes-test-data", TRUE);
  safety = takes_safety_new_default (&error);
  g_assert_no_error (error);
  return safety;
}

/* The first match, or NULL; checks that its offsets point at its text. */
static TakesSafetyMatch *
first_match (TakesSafety *safety, const char *prompt)
{
  g_autoptr (GPtrArray) matches = takes_safety_check (safety, prompt);
  TakesSafetyMatch *m;

  if (matches->len == 0)
    return NULL;
  m = g_ptr_array_steal_index (matches, 0);
  g_assert_cmpuint (m->end, <=, strlen (prompt));
  g_assert_cmpint (strncmp (prompt + m->start, m->matched, m->end - m->start), ==, 0);
  return m;
}

static void
assert_blocked (TakesSafety *safety, const char *prompt, const char *term, gboolean evasion)
{
  g_autoptr (TakesSafetyMatch) m = first_match (safety, prompt);

  g_test_message ("prompt: %s", prompt);
  g_assert_nonnull (m);
  g_assert_cmpstr (m->term, ==, term);
  g_assert_cmpint (m->evasion, ==, evasion);
}

static void
assert_clean (TakesSafety *safety, const char *prompt)
{
  g_autoptr (TakesSafetyMatch) m = first_match (safety, prompt);

  if (m != NULL)
    g_test_message ("“%s” matched “%s”", prompt, m->term);
  g_assert_null (m);
}

static void
test_safety_shipped_lists_load (void)
{
  g_autoptr (TakesSafety) safety = shipped ();

  g_assert_cmpuint (takes_safety_get_n_terms (safety), >=, 100);
  g_assert_finalize_object (g_steal_pointer (&safety));
}

static void
test_safety_plain_terms (void)
{
  g_autoptr (TakesSafety) safety = shipped ();
  g_autoptr (TakesSafetyMatch) m = first_match (safety, "A woman, naked, on a beach");

  g_assert_nonnull (m);
  g_assert_cmpstr (m->term, ==, "naked");
  g_assert_cmpstr (m->category, ==, "sexual");
  g_assert_cmpstr (m->matched, ==, "naked");
  g_assert_cmpuint (m->start, ==, 9);
  g_assert_false (m->evasion);
  g_assert_true (g_str_has_suffix (m->source, "safety-en.txt"));
  g_assert_cmpuint (m->line, >, 0);
  assert_blocked (safety, "a BEHEADING scene", "beheading", FALSE);
  assert_blocked (safety, "nudes on the wall", "nude", FALSE);
  assert_blocked (safety, "一部色情电影", "色情", FALSE);
}

static void
test_safety_inserted_spaces (void)
{
  g_autoptr (TakesSafety) safety = shipped ();

  assert_blocked (safety, "a n a k e d model", "naked", TRUE);
  assert_blocked (safety, "n.a.k.e.d", "naked", TRUE);
  assert_blocked (safety, "n-a-k-e-d woman", "naked", TRUE);
  assert_blocked (safety, "show the n_a_k_e_d truth", "naked", TRUE);
  assert_blocked (safety, "p*o*r*n", "porn", TRUE);
  assert_blocked (safety, "de.capi.tation", "decapitation", TRUE);
  assert_blocked (safety, "裸 体", "裸体", TRUE);
  assert_blocked (safety, "裸·体女人", "裸体", TRUE);
  assert_blocked (safety, "裸　体", "裸体", TRUE);
  assert_blocked (safety, "血 . 腥", "血腥", TRUE);
}

static void
test_safety_full_width_and_case (void)
{
  g_autoptr (TakesSafety) safety = shipped ();

  assert_blocked (safety, "ＮＡＫＥＤ", "naked", FALSE);
  assert_blocked (safety, "a ｎａｋｅｄ man", "naked", FALSE);
  assert_blocked (safety, "NaKeD", "naked", FALSE);
  assert_blocked (safety, "Ｐ Ｏ Ｒ Ｎ", "porn", TRUE);
}

static void
test_safety_mixed_scripts (void)
{
  g_autoptr (TakesSafety) safety = shipped ();

  /* Cyrillic а and о, Greek ο, in Latin words. */
  assert_blocked (safety, "a n\u0430ked woman", "naked", FALSE);
  assert_blocked (safety, "p\u043ern", "porn", FALSE);
  assert_blocked (safety, "g\u03bfre", "gore", FALSE);
  /* Accents and zero-width characters. */
  assert_blocked (safety, "nákéd", "naked", FALSE);
  assert_blocked (safety, "na\u200bked", "naked", FALSE);
  /* Traditional characters. */
  assert_blocked (safety, "裸體", "裸体", FALSE);
  assert_blocked (safety, "強姦", "强奸", FALSE);
  assert_blocked (safety, "斬首的畫面", "斩首", FALSE);
}

static void
test_safety_whole_words (void)
{
  g_autoptr (TakesSafety) safety = shipped ();
  static const char *const clean[] = {
    "a class of students in a glass classroom",
    "an assassin's creed poster, passengers boarding",
    "cumulus clouds over Sussex",
    "spicy ramen in a documentary style",
    "the pen is on the table",
    "a therapist talks with a patient",
    "grapes, a drape and a scraper",
    "a kidney bean salad",
    "analysis of the market, a scunthorpe street",
    "a toddler laughing in a sunny park",
    "children playing football after school",
    "a teenage skateboarder doing a kickflip",
    "ethnic food market",
    "black and white photo of a chinchilla",
    "一家人在公园里野餐",
    "小孩在雪地里堆雪人",
    "日落时分的海滩，人们在散步",
  };

  for (guint i = 0; i < G_N_ELEMENTS (clean); i++)
    assert_clean (safety, clean[i]);
  assert_blocked (safety, "a big ass", "ass", FALSE);
  assert_blocked (safety, "a s s", "ass", TRUE);
}

static void
test_safety_substring_terms (void)
{
  g_autoptr (TakesSafety) safety = shipped ();

  /* "pornography" is listed without "word", so it is caught inside longer
   * words; "torture" is a whole word, so "torturer's" is not. */
  assert_blocked (safety, "trending: #pornographyaddicts", "pornography", FALSE);
  assert_clean (safety, "an underwater torturer's lair");
  assert_clean (safety, "a corps de ballet");
}

static void
test_safety_minors_need_both (void)
{
  g_autoptr (TakesSafety) safety = shipped ();
  g_autoptr (GPtrArray) matches = NULL;
  g_autoptr (GError) error = NULL;
  gboolean found_minors = FALSE;

  assert_clean (safety, "a child flying a kite on a beach");
  assert_clean (safety, "teenagers at a concert");
  matches = takes_safety_check (safety, "a teenager posing nude");
  for (guint i = 0; i < matches->len; i++)
    {
      TakesSafetyMatch *m = g_ptr_array_index (matches, i);

      if (g_str_equal (m->category, "minors"))
        {
          found_minors = TRUE;
          g_assert_cmpstr (m->term, ==, "teen + nude");
          g_assert_cmpstr (m->matched, ==, "teenager posing nude");
        }
    }
  g_assert_true (found_minors);
  g_assert_false (takes_safety_check_prompt (safety, "小孩 裸 体", &error));
  g_assert_error (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_BLOCKED);
  g_assert_nonnull (strstr (error->message, "minors"));
  /* No way around it is offered for this category. */
  g_assert_null (strstr (error->message, "allow"));
  assert_blocked (safety, "lolicon art", "lolicon", FALSE);
}

static void
test_safety_check_prompt_message (void)
{
  g_autoptr (TakesSafety) safety = shipped ();
  g_autoptr (GError) error = NULL;

  g_assert_true (takes_safety_check_prompt (safety, "A fox trotting across fresh snow at dawn", &error));
  g_assert_no_error (error);
  g_assert_false (takes_safety_check_prompt (safety, "a scene full of g o r e", &error));
  g_assert_error (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_BLOCKED);
  g_assert_nonnull (strstr (error->message, "“g o r e”"));
  g_assert_nonnull (strstr (error->message, "“gore”"));
  g_assert_nonnull (strstr (error->message, "violence"));
  g_assert_nonnull (strstr (error->message, "gore | allow"));
}

static void
test_safety_list_allow_and_variants (void)
{
  g_autoptr (TakesSafety) safety = shipped ();
  g_autoptr (GError) error = NULL;
  guint before = takes_safety_get_n_terms (safety);
  const char *mine = "# my own list\n"
                     "nude | allow\n"
                     "\n"
                     "competitor brand | - | brand | rival co, rivalco\n"
                     "zap | word | brand\n";
  g_autoptr (TakesSafetyMatch) m = NULL;

  g_assert_true (takes_safety_load_data (safety, mine, -1, "mine.txt", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (takes_safety_get_n_terms (safety), ==, before - 1 + 2);
  /* Taking a term back takes its variants with it; other terms stay. */
  assert_clean (safety, "a classical nude sculpture");
  assert_clean (safety, "nudity in art history");
  assert_blocked (safety, "a naked sculpture", "naked", FALSE);
  m = first_match (safety, "a can of RivalCo soda");
  g_assert_nonnull (m);
  g_assert_cmpstr (m->term, ==, "competitor brand");
  g_assert_cmpstr (m->matched, ==, "RivalCo");
  assert_clean (safety, "channel zapping");
  assert_blocked (safety, "zap!", "zap", FALSE);
}

static void
test_safety_list_format_errors (void)
{
  static const struct
  {
    const char *text;
    guint line;
    const char *part;
  } cases[] = {
    { "ok | word | sexual\nbad | wrod | sexual\n", 2, "unknown flag “wrod”" },
    { "# c\n\nterm only\n", 3, "no category" },
    { "| word | sexual\n", 1, "no term" },
    { "... | - | custom\n", 1, "no letters" },
    { "fine | - | x | , ..., \n", 1, "variant" },
    { "good | - | x\nbad \xff | - | x\n", 2, "UTF-8" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (TakesSafety) safety = takes_safety_new ();
      g_autoptr (GError) error = NULL;
      g_autofree char *prefix = g_strdup_printf ("list.txt, line %u: ", cases[i].line);

      g_assert_true (takes_safety_load_data (safety, "kept | - | custom\n", -1, "first.txt", NULL));
      g_assert_false (takes_safety_load_data (safety, cases[i].text, -1, "list.txt", &error));
      g_test_message ("case %u: %s", i, error->message);
      g_assert_error (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_INVALID_LIST);
      g_assert_true (g_str_has_prefix (error->message, prefix));
      g_assert_nonnull (strstr (error->message, cases[i].part));
      /* A list that fails adds nothing and loses nothing. */
      g_assert_cmpuint (takes_safety_get_n_terms (safety), ==, 1);
      assert_blocked (safety, "kept", "kept", FALSE);
      assert_clean (safety, "ok good fine");
    }
}

static void
test_safety_custom_category_and_files (void)
{
  g_autoptr (TakesSafety) safety = takes_safety_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-safety-XXXXXX", NULL);
  g_autofree char *list = g_build_filename (dir, "brands.txt", NULL);
  g_autofree char *fold = g_build_filename (dir, "fold.txt", NULL);
  g_autoptr (TakesSafetyMatch) m = NULL;
  g_autofree char *described = NULL;

  g_assert_false (takes_safety_load_file (safety, list, &error));
  g_assert_error (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_INVALID_LIST);
  g_clear_error (&error);

  g_assert_true (g_file_set_contents (list, "acme | word | competitor\n", -1, NULL));
  g_assert_true (g_file_set_contents (
      fold, "# Cyrillic look-alikes\n\u0430 a\n\u0441 c\n\u043c m  # em\n\u0435 e\n", -1, NULL));
  g_assert_true (takes_safety_load_file (safety, list, &error));
  g_assert_no_error (error);
  m = first_match (safety, "an ACME rocket");
  g_assert_nonnull (m);
  described = takes_safety_match_describe (m);
  g_assert_nonnull (strstr (described, "“competitor”"));
  assert_clean (safety, "an \u0430\u0441\u043c\u0435 rocket");
  g_assert_true (takes_safety_load_fold_file (safety, fold, &error));
  g_assert_no_error (error);
  assert_blocked (safety, "an \u0430\u0441\u043c\u0435 rocket", "acme", FALSE);

  g_assert_true (g_file_set_contents (fold, "\u0430\u0430 c\n", -1, NULL));
  g_assert_false (takes_safety_load_fold_file (safety, fold, &error));
  g_assert_error (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_INVALID_LIST);
  g_assert_nonnull (strstr (error->message, "line 1"));
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (fold, "# ok\n4 a\n", -1, NULL));
  g_assert_false (takes_safety_load_fold_file (safety, fold, &error));
  g_assert_error (error, TAKES_SAFETY_ERROR, TAKES_SAFETY_ERROR_INVALID_LIST);
  g_assert_nonnull (strstr (error->message, "line 2"));

  g_unlink (list);
  g_unlink (fold);
  g_rmdir (dir);
}

static void
test_safety_user_list_is_read (void)
{
  g_autofree char *dir = g_dir_make_tmp ("takes-safety-user-XXXXXX", NULL);
  g_autofree char *path = NULL;
  g_autoptr (TakesSafety) safety = NULL;
  g_autoptr (GError) error = NULL;

  g_setenv ("TAKES_DATA_DIR", dir, TRUE);
  path = takes_safety_get_user_list_path ();
  g_assert_true (g_str_has_prefix (path, dir));
  g_assert_true (g_file_set_contents (path, "gore | allow\nmascot costume | - | brand\n", -1, NULL));
  safety = takes_safety_new_default (&error);
  g_assert_no_error (error);
  assert_clean (safety, "a gore-tex jacket");
  assert_blocked (safety, "our old mascot costume", "mascot costume", FALSE);
  g_unlink (path);
  g_rmdir (dir);
}

static void
test_safety_bad_prompt_bytes (void)
{
  g_autoptr (TakesSafety) safety = shipped ();
  g_autoptr (GPtrArray) matches = takes_safety_check (safety, "\xff\xfe naked \xc3");

  g_assert_cmpuint (matches->len, ==, 1);
  g_assert_cmpstr (((TakesSafetyMatch *)g_ptr_array_index (matches, 0))->term, ==, "naked");
  g_clear_pointer (&matches, g_ptr_array_unref);
  matches = takes_safety_check (safety, "");
  g_assert_cmpuint (matches->len, ==, 0);
}

typedef struct
{
  TakesSafety *safety;
  guint blocked;
} ThreadData;

static gpointer
check_thread (gpointer user_data)
{
  ThreadData *data = user_data;
  static const char *const prompts[] = { "a n a k e d man", "a fox in the snow", "裸 体", "a class trip" };

  for (guint i = 0; i < 400; i++)
    {
      g_autoptr (GPtrArray) matches = takes_safety_check (data->safety, prompts[i % 4]);

      data->blocked += matches->len > 0 ? 1 : 0;
    }
  return NULL;
}

static void
test_safety_threads (void)
{
  g_autoptr (TakesSafety) safety = shipped ();
  ThreadData data[4];
  GThread *threads[4];

  for (guint i = 0; i < 4; i++)
    {
      data[i].safety = safety;
      data[i].blocked = 0;
      threads[i] = g_thread_new ("check", check_thread, &data[i]);
    }
  for (guint i = 0; i < 4; i++)
    {
      g_thread_join (threads[i]);
      g_assert_cmpuint (data[i].blocked, ==, 200);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/safety/shipped/lists-load", test_safety_shipped_lists_load);
  g_test_add_func ("/safety/match/plain-terms", test_safety_plain_terms);
  g_test_add_func ("/safety/evasion/inserted-spaces-and-punctuation", test_safety_inserted_spaces);
  g_test_add_func ("/safety/evasion/full-width-and-case", test_safety_full_width_and_case);
  g_test_add_func ("/safety/evasion/mixed-scripts-accents-traditional", test_safety_mixed_scripts);
  g_test_add_func ("/safety/whole-word/substrings-not-caught", test_safety_whole_words);
  g_test_add_func ("/safety/substring/terms-match-inside-words", test_safety_substring_terms);
  g_test_add_func ("/safety/minors/need-a-sexual-term", test_safety_minors_need_both);
  g_test_add_func ("/safety/check-prompt/says-what-and-why", test_safety_check_prompt_message);
  g_test_add_func ("/safety/list/allow-and-variants", test_safety_list_allow_and_variants);
  g_test_add_func ("/safety/list/format-errors-name-the-line", test_safety_list_format_errors);
  g_test_add_func ("/safety/list/custom-category-and-fold-file", test_safety_custom_category_and_files);
  g_test_add_func ("/safety/list/user-list-is-read", test_safety_user_list_is_read);
  g_test_add_func ("/safety/check/bad-bytes-and-empty", test_safety_bad_prompt_bytes);
  g_test_add_func ("/safety/check/from-several-threads", test_safety_threads);
  return g_test_run ();
}
