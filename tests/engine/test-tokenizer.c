/* Tests of the umT5 tokenizer: exact ids against SentencePiece, a hand-made
 * vocabulary for the segmentation rules, the text cleaning, the official
 * padding and truncation, broken files and long prompts. */
#include "config.h"

#include <json-glib/json-glib.h>

#include "engine-test-util.h"
#include "takes-engine.h"

/* A vocabulary small enough to work out every segmentation by hand.
 * Lowest score -4, so an unknown character costs -14. */
static const char hand_vocab[] = "[[\"<pad>\",0],[\"</s>\",0],[\"<s>\",0],[\"<unk>\",0],"
                                 "[\"\xe2\x96\x81\",-2.0],[\"\xe2\x96\x81"
                                 "a\",-1.0],[\"b\",-2.0],[\"c\",-2.0],"
                                 "[\"bc\",-2.5],[\"\xe2\x96\x81"
                                 "ab\",-3.0],[\"a\",-3.0],[\"\xc3\x9f\",-1.0],"
                                 "[\"\xe2\x96\x81\xc3\x9f\",-4.0],[\"<0x78>\",-4.0],[\"<0x79>\",-4.0]]";

static char *
hand_json (gboolean byte_fallback, const char *pre_tokenizer)
{
  return g_strdup_printf (
      "{\"version\":\"1.0\",\"added_tokens\":[{\"id\":1,\"content\":\"</s>\",\"special\":true},"
      "{\"id\":3,\"content\":\"<unk>\",\"special\":true}],"
      "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFKC\"},"
      "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\" {2,}\"},\"content\":\" \"}]},"
      "\"pre_tokenizer\":%s,"
      "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"Sequence\":{\"id\":\"A\",\"type_"
      "id\":0}},"
      "{\"SpecialToken\":{\"id\":\"</s>\",\"type_id\":0}}],\"special_tokens\":{\"</s>\":{\"id\":\"</s>\","
      "\"ids\":[1],\"tokens\":[\"</s>\"]}}},"
      "\"model\":{\"type\":\"Unigram\",\"unk_id\":3,\"byte_fallback\":%s,\"vocab\":%s}}",
      pre_tokenizer != NULL
          ? pre_tokenizer
          : "{\"type\":\"Metaspace\",\"replacement\":\"\xe2\x96\x81\",\"prepend_scheme\":\"always\","
            "\"split\":true}",
      byte_fallback ? "true" : "false", hand_vocab);
}

static Umt5Tokenizer *
hand_tokenizer (gboolean byte_fallback, const char *pre_tokenizer)
{
  g_autofree char *json = hand_json (byte_fallback, pre_tokenizer);
  g_autoptr (GError) error = NULL;
  Umt5Tokenizer *tok = umt5_tokenizer_new_from_json (json, strlen (json), &error);

  g_assert_no_error (error);
  return tok;
}

static void
assert_ids (const Umt5Tokenizer *tok, const char *text, const gint32 *want, guint n_want)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) ids = umt5_tokenizer_tokenize (tok, text, &error);
  gboolean same;

  g_assert_no_error (error);
  same = ids->len == n_want && (n_want == 0 || memcmp (ids->data, want, n_want * sizeof (gint32)) == 0);
  if (!same)
    {
      GString *got = g_string_new (NULL);
      for (guint i = 0; i < ids->len; i++)
        g_string_append_printf (got, " %d", g_array_index (ids, gint32, i));
      g_error ("“%s” gave%s", text, got->str);
    }
}

#define ASSERT_IDS(tok, text, ...)                                                                           \
  G_STMT_START                                                                                               \
  {                                                                                                          \
    const gint32 want_[] = { __VA_ARGS__ };                                                                  \
    assert_ids (tok, text, want_, G_N_ELEMENTS (want_));                                                     \
  }                                                                                                          \
  G_STMT_END

static void
test_hand_segmentation (void)
{
  g_autoptr (Umt5Tokenizer) tok = hand_tokenizer (FALSE, NULL);

  g_assert_cmpuint (umt5_tokenizer_get_vocab_size (tok), ==, 15);
  g_assert_cmpint (umt5_tokenizer_get_eos_id (tok), ==, 1);
  g_assert_cmpint (umt5_tokenizer_get_pad_id (tok), ==, 0);
  g_assert_cmpint (umt5_tokenizer_get_unk_id (tok), ==, 3);
  g_assert_cmpstr (umt5_tokenizer_get_piece (tok, 8), ==, "bc");
  g_assert_null (umt5_tokenizer_get_piece (tok, 15));
  /* ▁a + bc (-3.5) beats ▁a b c (-5), ▁ab c (-5) and ▁ a bc (-7.5). */
  ASSERT_IDS (tok, "abc", 5, 8);
  /* ▁ab and ▁a b tie at -3: the first path found, the longer piece from the start, wins. */
  ASSERT_IDS (tok, "ab c", 9, 4, 7);
  /* Unknown characters in a row become one unknown token. */
  ASSERT_IDS (tok, "xyz", 4, 3);
  ASSERT_IDS (tok, "a\xc3\x9fq", 5, 11, 3);
  ASSERT_IDS (tok, "q a w", 4, 3, 5, 4, 3);
  /* Added tokens are split off before normalization and never segmented. */
  ASSERT_IDS (tok, "a</s>b", 5, 1, 4, 6);
  ASSERT_IDS (tok, "</s></s>", 1, 1);
  /* NFKC turns full-width forms into ASCII; Replace collapses the spaces. */
  ASSERT_IDS (tok, "\xef\xbd\x81\xef\xbd\x82\xef\xbd\x83", 5, 8);
  ASSERT_IDS (tok, "a   b", 5, 4, 6);
  assert_ids (tok, "", NULL, 0);
}

static void
test_hand_byte_fallback (void)
{
  g_autoptr (Umt5Tokenizer) tok = hand_tokenizer (TRUE, NULL);

  /* "xy" fuses into one unknown whose bytes all have pieces. */
  ASSERT_IDS (tok, "xy", 4, 13, 14);
  /* "xq" has no piece for q: the whole run stays unknown. */
  ASSERT_IDS (tok, "xq", 4, 3);
}

static void
test_hand_pre_tokenizers (void)
{
  g_autoptr (Umt5Tokenizer) never
      = hand_tokenizer (FALSE, "{\"type\":\"Metaspace\",\"replacement\":\"\xe2\x96\x81\",\"prepend_scheme\":"
                               "\"never\",\"split\":true}");
  g_autoptr (Umt5Tokenizer) legacy = hand_tokenizer (
      FALSE, "{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"WhitespaceSplit\"},"
             "{\"type\":\"Metaspace\",\"replacement\":\"\xe2\x96\x81\",\"add_prefix_space\":true}]}");
  g_autoptr (Umt5Tokenizer) first
      = hand_tokenizer (FALSE, "{\"type\":\"Metaspace\",\"replacement\":\"\xe2\x96\x81\",\"prepend_scheme\":"
                               "\"first\",\"split\":true}");

  ASSERT_IDS (never, "abc", 10, 8);
  ASSERT_IDS (never, "bc a", 8, 5);
  ASSERT_IDS (legacy, "ab  c", 9, 4, 7);
  ASSERT_IDS (first, "a</s>a", 5, 1, 10);
}

static void
test_encode_eos_without_template (void)
{
  const char *json
      = "{\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"Sequence\":{\"id\":\"A\"}}]},"
        "\"pre_tokenizer\":null,\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"<pad>\",0],[\"</s>\",0],"
        "[\"<unk>\",0],[\"a\",-1]]}}";
  g_autoptr (GError) error = NULL;
  g_autoptr (Umt5Tokenizer) tok = umt5_tokenizer_new_from_json (json, strlen (json), &error);
  gint32 ids[4], mask[4];
  guint n = 0;

  g_assert_no_error (error);
  g_assert_true (umt5_tokenizer_encode (tok, "", 4, ids, mask, &n, &error));
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (ids[0], ==, 1);
  g_assert_true (umt5_tokenizer_encode (tok, "aa", 4, ids, mask, &n, &error));
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpint (ids[0], ==, 3);
  g_assert_cmpint (ids[1], ==, 3);
  g_assert_cmpint (ids[2], ==, 1);
  g_assert_cmpint (ids[3], ==, 0);
  g_assert_cmpint (mask[3], ==, 0);
}

/* The SentencePiece fixture: a 256-piece Unigram model trained with the
 * nmt_nfkc rules, and the ids SentencePiece itself gave (tests/data/tokenizer). */
static void
check_cases (const Umt5Tokenizer *tok)
{
  g_autofree char *path = test_data_path ("tokenizer", "cases.json");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonArray *cases;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  cases = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (cases), >=, 16);
  for (guint i = 0; i < json_array_get_length (cases); i++)
    {
      JsonObject *c = json_array_get_object_element (cases, i);
      JsonArray *ids = json_object_get_array_member (c, "ids");
      guint n = json_array_get_length (ids);
      g_autofree gint32 *want = g_new0 (gint32, n + 1);

      for (guint k = 0; k < n; k++)
        want[k] = (gint32)json_array_get_int_element (ids, k);
      assert_ids (tok, json_object_get_string_member (c, "text"), want, n);
    }
}

static void
test_spiece_matches_sentencepiece (void)
{
  g_autofree char *path = test_data_path ("tokenizer", "spiece.model");
  g_autoptr (GError) error = NULL;
  g_autoptr (Umt5Tokenizer) tok = umt5_tokenizer_load (path, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (umt5_tokenizer_get_vocab_size (tok), ==, 256);
  g_assert_cmpint (umt5_tokenizer_get_eos_id (tok), ==, 1);
  g_assert_cmpint (umt5_tokenizer_get_unk_id (tok), ==, 3);
  check_cases (tok);
  ASSERT_IDS (tok, "a</s>", 7, 1);
  ASSERT_IDS (tok, "<extra_id_0>a", 4, 7);
}

static void
test_json_matches_sentencepiece (void)
{
  g_autofree char *path = test_data_path ("tokenizer", "tokenizer.json");
  g_autoptr (GError) error = NULL;
  g_autoptr (Umt5Tokenizer) tok = umt5_tokenizer_load (path, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (umt5_tokenizer_get_vocab_size (tok), ==, 256);
  check_cases (tok);
}

static Umt5Tokenizer *
fixture_tokenizer (void)
{
  g_autofree char *path = test_data_path ("tokenizer", "spiece.model");
  g_autoptr (GError) error = NULL;
  Umt5Tokenizer *tok = umt5_tokenizer_load (path, &error);

  g_assert_no_error (error);
  return tok;
}

static void
test_encode_eos_pad_mask (void)
{
  g_autoptr (Umt5Tokenizer) tok = fixture_tokenizer ();
  g_autoptr (GError) error = NULL;
  gint32 ids[UMT5_TEXT_LEN], mask[UMT5_TEXT_LEN];
  guint n = 0;

  g_assert_true (umt5_tokenizer_encode (tok, "  a   cat\n", UMT5_TEXT_LEN, ids, mask, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 4);
  g_assert_cmpint (ids[0], ==, 7);
  g_assert_cmpint (ids[1], ==, 57);
  g_assert_cmpint (ids[2], ==, 9);
  g_assert_cmpint (ids[3], ==, 1);
  for (guint i = 0; i < UMT5_TEXT_LEN; i++)
    {
      g_assert_cmpint (mask[i], ==, i < 4);
      if (i >= 4)
        g_assert_cmpint (ids[i], ==, 0);
    }
  g_assert_true (umt5_tokenizer_encode (tok, " \t ", UMT5_TEXT_LEN, ids, mask, &n, &error));
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (ids[0], ==, 1);
  g_assert_cmpint (mask[1], ==, 0);
}

static void
test_encode_truncates_keeping_eos (void)
{
  g_autoptr (Umt5Tokenizer) tok = fixture_tokenizer ();
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  gint32 ids[UMT5_TEXT_LEN], mask[UMT5_TEXT_LEN];
  guint n = 0;
  gint32 small_ids[3], small_mask[3];

  for (int i = 0; i < 400; i++)
    g_string_append (text, "a cat ");
  g_assert_true (umt5_tokenizer_encode (tok, text->str, UMT5_TEXT_LEN, ids, mask, &n, &error));
  g_assert_cmpuint (n, ==, UMT5_TEXT_LEN);
  g_assert_cmpint (ids[UMT5_TEXT_LEN - 1], ==, 1);
  g_assert_cmpint (ids[UMT5_TEXT_LEN - 2], !=, 1);
  g_assert_cmpint (mask[UMT5_TEXT_LEN - 1], ==, 1);
  g_assert_cmpint (ids[0], ==, 7);
  g_assert_cmpint (ids[3], ==, 7);

  g_assert_true (umt5_tokenizer_encode (tok, "a cat", 3, small_ids, small_mask, &n, &error));
  g_assert_cmpuint (n, ==, 3);
  g_assert_cmpint (small_ids[0], ==, 7);
  g_assert_cmpint (small_ids[1], ==, 57);
  g_assert_cmpint (small_ids[2], ==, 1);
  g_assert_false (umt5_tokenizer_encode (tok, "a cat", 1, small_ids, small_mask, &n, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
}

static void
test_encode_cleans_text (void)
{
  g_autoptr (Umt5Tokenizer) tok = fixture_tokenizer ();
  g_autoptr (GError) error = NULL;
  gint32 a[UMT5_TEXT_LEN], b[UMT5_TEXT_LEN], mask[UMT5_TEXT_LEN];
  guint na = 0, nb = 0;

  g_assert_true (umt5_tokenizer_encode (tok,
                                        "caf\xc3\x83\xc2\xa9 &amp;amp; \xe2\x80\x9c"
                                        "fox\xe2\x80\x9d\t\t",
                                        UMT5_TEXT_LEN, a, mask, &na, &error));
  g_assert_true (umt5_tokenizer_encode (tok, "caf\xc3\xa9 & \"fox\"", UMT5_TEXT_LEN, b, mask, &nb, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (na, ==, nb);
  g_assert_cmpmem (a, na * sizeof (gint32), b, nb * sizeof (gint32));
}

static void
test_clean_text (void)
{
  const char *cases[][2] = {
    { "  Hello\t\n  world  ", "Hello world" },
    { "&amp;lt;b&amp;gt;", "<b>" },
    { "&#39;&#x27;&quot", "''\"" },
    { "&notanentity; &amp", "\xc2\xac"
                            "anentity; &" },
    { "&#0;&#128;&#xD800;&#1114112;&#11;x", "\xef\xbf\xbd\xe2\x82\xac\xef\xbf\xbd\xef\xbf\xbdx" },
    { "caf\xc3\x83\xc2\xa9 na\xc3\xafve", "caf\xc3\xa9 na\xc3\xafve" },
    { "it\xc3\xa2\xe2\x82\xac\xe2\x84\xa2s", "it's" },
    { "\xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x80\x98single\xe2\x80\x99", "\"quoted\" 'single'" },
    { "\xef\xac\x81ne \xef\xbc\xa1\xef\xbc\xa2\xef\xbc\xa3\xef\xbc\x91\xef\xbc\x8c\xe3\x80\x82",
      "fine ABC1,\xe3\x80\x82" },
    { "a\xc2\xa0"
      "b\xe3\x80\x80"
      "c\xe2\x80\x8b"
      "d\x1c"
      "e",
      "a b c\xe2\x80\x8b"
      "de" },
    { "x\x1b[31mred\x1b[0m!", "xred!" },
    { "e\xcc\x81", "\xc3\xa9" },
    { "a\r\nb\rc\xe2\x80\xa8"
      "d",
      "a b c d" },
    { "bell\x07 \xef\xbb\xbf"
      "bom",
      "bell bom" },
    { "\xc2\x93"
      "c1\xc2\x94",
      "\"c1\"" },
    { "plain text stays", "plain text stays" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *clean = umt5_clean_text (cases[i][0]);
      g_assert_cmpstr (clean, ==, cases[i][1]);
    }
}

static void
test_invalid_utf8 (void)
{
  g_autoptr (Umt5Tokenizer) tok = fixture_tokenizer ();
  g_autoptr (GError) error = NULL;
  gint32 ids[8], mask[8];
  guint n = 0;

  g_assert_null (umt5_tokenizer_tokenize (tok, "ab\xff", &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  g_assert_false (umt5_tokenizer_encode (tok, "\xc3", 8, ids, mask, &n, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
}

static void
expect_json_error (const char *json, int code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (Umt5Tokenizer) tok = umt5_tokenizer_new_from_json (json, strlen (json), &error);

  g_assert_null (tok);
  g_assert_error (error, TAKES_ENGINE_ERROR, code);
}

static void
test_malformed_json (void)
{
  g_autofree char *good = hand_json (FALSE, NULL);
  g_autoptr (GString) deep = g_string_new (NULL);

  expect_json_error ("", TAKES_ENGINE_ERROR_CORRUPT);
  expect_json_error ("[]", TAKES_ENGINE_ERROR_CORRUPT);
  expect_json_error ("{}", TAKES_ENGINE_ERROR_CORRUPT);
  expect_json_error ("{\"model\":{\"type\":\"BPE\",\"vocab\":{}}}", TAKES_ENGINE_ERROR_UNSUPPORTED);
  expect_json_error ("{\"model\":{\"type\":\"Unigram\",\"vocab\":[]}}", TAKES_ENGINE_ERROR_CORRUPT);
  expect_json_error ("{\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\"]]}}", TAKES_ENGINE_ERROR_CORRUPT);
  expect_json_error ("{\"model\":{\"type\":\"Unigram\",\"vocab\":[[1,2]]}}", TAKES_ENGINE_ERROR_CORRUPT);
  expect_json_error ("{\"model\":{\"type\":\"Unigram\",\"unk_id\":9,\"vocab\":[[\"<unk>\",0],[\"</s>\",0]]}}",
                     TAKES_ENGINE_ERROR_CORRUPT);
  expect_json_error ("{\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"a\",0],[\"</s>\",0]]}}",
                     TAKES_ENGINE_ERROR_CORRUPT);
  expect_json_error ("{\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"<unk>\",0],[\"b\",0]]}}",
                     TAKES_ENGINE_ERROR_CORRUPT);
  expect_json_error (
      "{\"normalizer\":{\"type\":\"BertNormalizer\"},\"model\":{\"type\":\"Unigram\",\"vocab\":"
      "[[\"<unk>\",0],[\"</s>\",0]]}}",
      TAKES_ENGINE_ERROR_UNSUPPORTED);
  expect_json_error ("{\"normalizer\":{\"type\":\"Replace\",\"pattern\":{\"Regex\":\"(\"},\"content\":\"\"},"
                     "\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"<unk>\",0],[\"</s>\",0]]}}",
                     TAKES_ENGINE_ERROR_CORRUPT);
  expect_json_error ("{\"normalizer\":{\"type\":\"Precompiled\",\"precompiled_charsmap\":\"AAAA\"},"
                     "\"model\":{\"type\":\"Unigram\",\"vocab\":[[\"<unk>\",0],[\"</s>\",0]]}}",
                     TAKES_ENGINE_ERROR_CORRUPT);
  expect_json_error ("{\"pre_tokenizer\":{\"type\":\"ByteLevel\"},\"model\":{\"type\":\"Unigram\",\"vocab\":"
                     "[[\"<unk>\",0],[\"</s>\",0]]}}",
                     TAKES_ENGINE_ERROR_UNSUPPORTED);
  expect_json_error ("{\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":"
                     "{\"id\":\"</s>\"}}],\"special_tokens\":{}},\"model\":{\"type\":\"Unigram\",\"vocab\":"
                     "[[\"<unk>\",0],[\"</s>\",0]]}}",
                     TAKES_ENGINE_ERROR_CORRUPT);
  expect_json_error (
      "{\"added_tokens\":[{\"id\":-1,\"content\":\"x\"}],\"model\":{\"type\":\"Unigram\",\"vocab\":"
      "[[\"<unk>\",0],[\"</s>\",0]]}}",
      TAKES_ENGINE_ERROR_CORRUPT);
  for (int i = 0; i < 5000; i++)
    g_string_append_c (deep, '[');
  expect_json_error (deep->str, TAKES_ENGINE_ERROR_CORRUPT);
  /* Every prefix of a good file fails cleanly. */
  for (gsize n = 0; n < strlen (good); n += 3)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (Umt5Tokenizer) tok = umt5_tokenizer_new_from_json (good, n, &error);

      g_assert_null (tok);
      g_assert_nonnull (error);
    }
}

static void
test_malformed_spiece (void)
{
  g_autofree char *path = test_data_path ("tokenizer", "spiece.model");
  g_autofree char *contents = NULL;
  gsize length = 0;
  const guint8 junk[] = { 0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01 };

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  for (gsize n = 0; n < length; n += n < 4096 ? 7 : 4099)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (Umt5Tokenizer) tok = umt5_tokenizer_new_from_spiece ((const guint8 *)contents, n, &error);

      g_assert_true ((tok == NULL) == (error != NULL));
    }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (Umt5Tokenizer) tok = umt5_tokenizer_new_from_spiece (junk, sizeof junk, &error);

    g_assert_null (tok);
    g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT);
  }
}

static void
test_load_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *missing = g_build_filename (dir, "tokenizer.json", NULL);

  g_assert_null (umt5_tokenizer_load (missing, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (umt5_tokenizer_load (dir, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_IO);
  test_rm_rf (dir);
}

/* A 100 kB prompt, with and without spaces, tokenizes in linear time: the
 * search from each position stops at the longest piece. */
static void
test_long_prompts (void)
{
  g_autoptr (Umt5Tokenizer) tok = fixture_tokenizer ();
  const char *units[]
      = { "A red fox runs through the snowy forest at dawn. ",
          "\xe4\xb8\x80\xe5\x8f\xaa\xe5\xb0\x8f\xe7\x8c\xab\xe5\x9c\xa8\xe7\xaa\x97\xe5\x8f\xb0",
          "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz" };

  for (guint u = 0; u < G_N_ELEMENTS (units); u++)
    {
      g_autoptr (GString) text = g_string_new (NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (GArray) ids = NULL;
      gint32 out[UMT5_TEXT_LEN], mask[UMT5_TEXT_LEN];
      guint n = 0;
      gint64 start;
      double seconds;

      while (text->len < 100 * 1024)
        g_string_append (text, units[u]);
      start = g_get_monotonic_time ();
      ids = umt5_tokenizer_tokenize (tok, text->str, &error);
      g_assert_true (umt5_tokenizer_encode (tok, text->str, UMT5_TEXT_LEN, out, mask, &n, &error));
      seconds = (g_get_monotonic_time () - start) / 1e6;
      g_assert_no_error (error);
      g_assert_cmpuint (ids->len, >, 10000);
      g_assert_cmpuint (n, ==, UMT5_TEXT_LEN);
      g_test_message ("100 kB prompt %u: %u tokens in %.3f s", u, ids->len, seconds);
      g_assert_cmpfloat (seconds, <, 20.0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tokenizer/hand/segmentation", test_hand_segmentation);
  g_test_add_func ("/tokenizer/hand/byte-fallback", test_hand_byte_fallback);
  g_test_add_func ("/tokenizer/hand/pre-tokenizers", test_hand_pre_tokenizers);
  g_test_add_func ("/tokenizer/spiece/matches-sentencepiece", test_spiece_matches_sentencepiece);
  g_test_add_func ("/tokenizer/json/matches-sentencepiece", test_json_matches_sentencepiece);
  g_test_add_func ("/tokenizer/encode/eos-pad-mask", test_encode_eos_pad_mask);
  g_test_add_func ("/tokenizer/encode/truncates-keeping-eos", test_encode_truncates_keeping_eos);
  g_test_add_func ("/tokenizer/encode/cleans-text", test_encode_cleans_text);
  g_test_add_func ("/tokenizer/encode/eos-without-template", test_encode_eos_without_template);
  g_test_add_func ("/tokenizer/clean/official-steps", test_clean_text);
  g_test_add_func ("/tokenizer/input/invalid-utf8", test_invalid_utf8);
  g_test_add_func ("/tokenizer/malformed/json", test_malformed_json);
  g_test_add_func ("/tokenizer/malformed/spiece", test_malformed_spiece);
  g_test_add_func ("/tokenizer/load/errors", test_load_errors);
  g_test_add_func ("/tokenizer/long/100kb-prompts", test_long_prompts);
  return g_test_run ();
}
