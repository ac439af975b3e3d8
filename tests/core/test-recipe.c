#include "config.h"

#include <string.h>

#include "takes-recipe.h"

static TakesRecipe *
parse_ok (const char *json)
{
  g_autoptr (GError) error = NULL;
  TakesRecipe *recipe = takes_recipe_new_from_json (json, -1, &error);

  g_assert_no_error (error);
  g_assert_nonnull (recipe);
  return recipe;
}

static void
assert_invalid (TakesRecipe *recipe, const char *expected_fragment)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (takes_recipe_validate (recipe, &error));
  g_assert_nonnull (error);
  g_assert_true (error->domain == TAKES_RECIPE_ERROR);
  if (strstr (error->message, expected_fragment) == NULL)
    g_error ("“%s” does not mention “%s”", error->message, expected_fragment);
}

static void
test_recipe_defaults (void)
{
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (takes_recipe_get_width (recipe), ==, 832);
  g_assert_cmpuint (takes_recipe_get_height (recipe), ==, 480);
  g_assert_cmpuint (takes_recipe_get_frames (recipe), ==, 81);
  g_assert_cmpuint (takes_recipe_get_fps (recipe), ==, 16);
  g_assert_cmpuint (takes_recipe_get_steps (recipe), ==, 50);
  g_assert_cmpfloat (takes_recipe_get_guidance (recipe), ==, 5.0);
  g_assert_cmpfloat (takes_recipe_get_shift (recipe), ==, 5.0);
  g_assert_cmpstr (takes_recipe_get_sampler (recipe), ==, "unipc");
  g_assert_cmpstr (takes_recipe_get_backend (recipe), ==, "local");
  g_assert_false (takes_recipe_has_guidance_pair (recipe));

  /* Everything but the prompt has a usable default. */
  assert_invalid (recipe, "prompt is empty");
  takes_recipe_set_prompt (recipe, "a red fox running through snow");
  g_assert_true (takes_recipe_validate (recipe, &error));
  g_assert_no_error (error);
  g_assert_finalize_object (g_steal_pointer (&recipe));
}

static void
test_recipe_json_round_trip (void)
{
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  g_autoptr (TakesRecipe) back = NULL;
  g_autoptr (JsonNode) option = json_node_new (JSON_NODE_VALUE);
  g_autofree char *json = NULL;
  g_autofree char *json_back = NULL;

  takes_recipe_set_prompt (recipe, "一只橘猫在雪地里奔跑, \"slow motion\"\n\ttab");
  takes_recipe_set_negative_prompt (recipe, "blurry, 模糊");
  takes_recipe_set_model (recipe, "wan2.2-t2v-a14b");
  takes_recipe_set_backend (recipe, "comfyui");
  takes_recipe_set_width (recipe, 1280);
  takes_recipe_set_height (recipe, 720);
  takes_recipe_set_frames (recipe, 33);
  takes_recipe_set_fps (recipe, 24);
  takes_recipe_set_steps (recipe, 40);
  takes_recipe_set_guidance (recipe, 3.5);
  takes_recipe_set_guidance_pair (recipe, 4.0, 3.0);
  takes_recipe_set_shift (recipe, 12.0);
  takes_recipe_set_sampler (recipe, "dpm++");
  takes_recipe_set_seed (recipe, 2147483647);
  json_node_set_string (option, "simple");
  takes_recipe_set_option (recipe, "scheduler", option);

  json = takes_recipe_to_json (recipe);
  back = parse_ok (json);
  json_back = takes_recipe_to_json (back);
  g_assert_cmpstr (json, ==, json_back);
  g_assert_true (takes_recipe_equal (recipe, back));
  g_assert_cmpstr (takes_recipe_get_prompt (back), ==, takes_recipe_get_prompt (recipe));
  g_assert_cmpfloat (takes_recipe_get_guidance_high (back), ==, 4.0);
  g_assert_cmpfloat (takes_recipe_get_guidance_low (back), ==, 3.0);
  g_assert_cmpint (takes_recipe_get_seed (back), ==, 2147483647);
  g_assert_cmpstr (json_object_get_string_member (takes_recipe_get_options (back), "scheduler"), ==,
                   "simple");
}

/* The canonical text: keys in byte order, no spaces, whole numbers without
 * a fraction, escapes only where JSON needs them. */
static void
test_recipe_json_canonical_form (void)
{
  g_autoptr (TakesRecipe) recipe
      = parse_ok ("{ \"prompt\" : \"fox\\u00e9\", \"shift\": 3.50, \"guidance\": 6.0,"
                  "  \"seed\": 7, \"Zed\": 0.1, \"aa\": {\"b\": 1e2, \"a\": [true, null]} }");
  g_autofree char *json = takes_recipe_to_json (recipe);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GList) members = NULL;
  const char *previous = "";

  g_assert_nonnull (strstr (json, "\"guidance\":6,"));
  g_assert_nonnull (strstr (json, "\"shift\":3.5,"));
  g_assert_nonnull (strstr (json, "\"Zed\":0.1,"));
  g_assert_nonnull (strstr (json, "\"aa\":{\"a\":[true,null],\"b\":100}"));
  g_assert_nonnull (strstr (json, "\"prompt\":\"fox\xc3\xa9\""));
  g_assert_null (strchr (json, ' '));
  g_assert_null (strchr (json, '\n'));

  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  members = json_object_get_members (json_node_get_object (json_parser_get_root (parser)));
  for (GList *l = members; l != NULL; l = l->next)
    {
      g_assert_cmpint (strcmp (previous, l->data), <, 0);
      previous = l->data;
    }
}

static void
test_recipe_json_same_meaning_same_key (void)
{
  g_autoptr (TakesRecipe) a = parse_ok ("{\"prompt\":\"fox\",\"frames\":81,\"guidance\":5,\"seed\":3}");
  g_autoptr (TakesRecipe) b = parse_ok ("{\"seed\":3.0,\"guidance\":5.0,\"frames\":81.0,\"prompt\":\"fox\"}");
  g_autoptr (TakesRecipe) c = parse_ok ("{\"seed\":4,\"guidance\":5.0,\"frames\":81.0,\"prompt\":\"fox\"}");
  g_autofree char *key_a = takes_recipe_get_cache_key (a);
  g_autofree char *key_b = takes_recipe_get_cache_key (b);
  g_autofree char *key_c = takes_recipe_get_cache_key (c);

  g_assert_cmpstr (key_a, ==, key_b);
  g_assert_cmpstr (key_a, !=, key_c);
}

static void
test_recipe_cache_key_is_sha256 (void)
{
  g_autoptr (TakesRecipe) recipe = parse_ok ("{\"prompt\":\"a paper boat drifting on a river\"}");
  g_autofree char *json = takes_recipe_to_json (recipe);
  g_autofree char *expected = g_compute_checksum_for_string (G_CHECKSUM_SHA256, json, -1);
  g_autofree char *key = takes_recipe_get_cache_key (recipe);

  g_assert_cmpuint (strlen (key), ==, 64);
  g_assert_cmpstr (key, ==, expected);
  for (const char *p = key; *p != '\0'; p++)
    g_assert_true (g_ascii_isxdigit (*p) && !g_ascii_isupper (*p));
}

static void
test_recipe_json_unknown_fields_kept (void)
{
  g_autoptr (TakesRecipe) plain = parse_ok ("{\"prompt\":\"fox\"}");
  g_autoptr (TakesRecipe) extra
      = parse_ok ("{\"prompt\":\"fox\",\"lora\":{\"name\":\"film-grain\",\"weight\":0.75},\"future\":[1,2]}");
  g_autofree char *json = takes_recipe_to_json (extra);
  g_autofree char *key_plain = takes_recipe_get_cache_key (plain);
  g_autofree char *key_extra = takes_recipe_get_cache_key (extra);
  g_autoptr (TakesRecipe) again = parse_ok (json);
  g_autoptr (TakesRecipe) copy = takes_recipe_copy (extra);

  g_assert_nonnull (strstr (json, "\"lora\":{\"name\":\"film-grain\",\"weight\":0.75}"));
  g_assert_nonnull (strstr (json, "\"future\":[1,2]"));
  g_assert_true (json_object_has_member (takes_recipe_get_unknown_fields (extra), "lora"));
  g_assert_cmpstr (key_plain, !=, key_extra);
  g_assert_true (takes_recipe_equal (extra, again));
  g_assert_true (takes_recipe_equal (extra, copy));
}

static void
assert_parse_fails (const char *json, gssize length, int code, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRecipe) recipe = takes_recipe_new_from_json (json, length, &error);

  g_assert_null (recipe);
  g_assert_error (error, TAKES_RECIPE_ERROR, code);
  if (strstr (error->message, fragment) == NULL)
    g_error ("“%s” does not mention “%s”", error->message, fragment);
}

static void
test_recipe_json_malformed (void)
{
  g_autofree char *huge = NULL;
  GString *big = g_string_new ("{\"prompt\":\"");

  assert_parse_fails ("{\"prompt\": \"fox\"", -1, TAKES_RECIPE_ERROR_MALFORMED, "not valid JSON");
  assert_parse_fails ("", -1, TAKES_RECIPE_ERROR_MALFORMED, "JSON");
  assert_parse_fails ("[1, 2]", -1, TAKES_RECIPE_ERROR_MALFORMED, "JSON object");
  assert_parse_fails ("\"fox\"", -1, TAKES_RECIPE_ERROR_MALFORMED, "JSON object");
  assert_parse_fails ("{\"prompt\": \"\xff\xfe\"}", -1, TAKES_RECIPE_ERROR_MALFORMED, "UTF-8");

  while (big->len <= TAKES_RECIPE_MAX_JSON_BYTES)
    g_string_append (big, "fox fox fox fox fox fox fox fox ");
  g_string_append (big, "\"}");
  huge = g_string_free (big, FALSE);
  assert_parse_fails (huge, -1, TAKES_RECIPE_ERROR_MALFORMED, "bytes");
}

static void
test_recipe_json_wrong_types (void)
{
  assert_parse_fails ("{\"frames\": \"81\"}", -1, TAKES_RECIPE_ERROR_WRONG_TYPE, "“frames”");
  assert_parse_fails ("{\"frames\": 81.5}", -1, TAKES_RECIPE_ERROR_WRONG_TYPE, "whole number");
  assert_parse_fails ("{\"prompt\": 12}", -1, TAKES_RECIPE_ERROR_WRONG_TYPE, "“prompt”");
  assert_parse_fails ("{\"guidance\": \"high\"}", -1, TAKES_RECIPE_ERROR_WRONG_TYPE, "number");
  assert_parse_fails ("{\"options\": [1]}", -1, TAKES_RECIPE_ERROR_WRONG_TYPE, "“options”");
  assert_parse_fails ("{\"width\": -16}", -1, TAKES_RECIPE_ERROR_INVALID_VALUE, "out of range");
  assert_parse_fails ("{\"seed\": 2147483648}", -1, TAKES_RECIPE_ERROR_INVALID_VALUE, "2147483647");
  assert_parse_fails ("{\"guidance_high\": 4}", -1, TAKES_RECIPE_ERROR_MISSING, "guidance_low");
}

static TakesRecipe *
valid_recipe (void)
{
  TakesRecipe *recipe = takes_recipe_new ();

  takes_recipe_set_prompt (recipe, "a lighthouse keeper at dawn");
  return recipe;
}

static void
test_recipe_validate_frames (void)
{
  g_autoptr (TakesRecipe) recipe = valid_recipe ();

  takes_recipe_set_frames (recipe, 80);
  assert_invalid (recipe, "use 77 or 81");
  takes_recipe_set_frames (recipe, 50);
  assert_invalid (recipe, "4n+1");
  takes_recipe_set_frames (recipe, 0);
  assert_invalid (recipe, "out of range");
  takes_recipe_set_frames (recipe, 1005);
  assert_invalid (recipe, "out of range");
  for (guint frames = 1; frames <= 121; frames += 4)
    {
      takes_recipe_set_frames (recipe, frames);
      g_assert_true (takes_recipe_validate (recipe, NULL));
    }
}

static void
test_recipe_validate_sizes (void)
{
  g_autoptr (TakesRecipe) recipe = valid_recipe ();

  takes_recipe_set_width (recipe, 500);
  assert_invalid (recipe, "use 496 or 504");
  takes_recipe_set_width (recipe, 832);
  takes_recipe_set_height (recipe, 1084);
  assert_invalid (recipe, "use 1080 or 1088");
  /* DashScope's 1080p size. */
  takes_recipe_set_width (recipe, 1920);
  takes_recipe_set_height (recipe, 1080);
  g_assert_true (takes_recipe_validate (recipe, NULL));
  takes_recipe_set_height (recipe, 0);
  assert_invalid (recipe, "out of range");
  takes_recipe_set_height (recipe, 8192);
  assert_invalid (recipe, "out of range");
  takes_recipe_set_height (recipe, 16);
  g_assert_true (takes_recipe_validate (recipe, NULL));
}

static void
test_recipe_validate_ranges (void)
{
  g_autoptr (TakesRecipe) recipe = NULL;
  g_autofree char *long_prompt = g_strnfill (TAKES_RECIPE_MAX_PROMPT + 1, 'a');

  recipe = valid_recipe ();
  takes_recipe_set_steps (recipe, 0);
  assert_invalid (recipe, "step count 0");
  g_clear_object (&recipe);

  recipe = valid_recipe ();
  takes_recipe_set_fps (recipe, 500);
  assert_invalid (recipe, "frame rate 500");
  g_clear_object (&recipe);

  recipe = valid_recipe ();
  takes_recipe_set_guidance (recipe, 31);
  assert_invalid (recipe, "guidance 31");
  g_clear_object (&recipe);

  recipe = valid_recipe ();
  takes_recipe_set_guidance_pair (recipe, 4.0, -1.0);
  assert_invalid (recipe, "low-noise guidance -1");
  g_clear_object (&recipe);

  recipe = valid_recipe ();
  takes_recipe_set_shift (recipe, 0.0);
  assert_invalid (recipe, "shift 0");
  g_clear_object (&recipe);

  recipe = valid_recipe ();
  takes_recipe_set_seed (recipe, -5);
  assert_invalid (recipe, "seed -5");
  g_clear_object (&recipe);

  recipe = valid_recipe ();
  takes_recipe_set_prompt (recipe, "   \n ");
  assert_invalid (recipe, "prompt is empty");
  takes_recipe_set_prompt (recipe, long_prompt);
  assert_invalid (recipe, "shorten it");
  g_clear_object (&recipe);

  recipe = valid_recipe ();
  takes_recipe_set_model (recipe, "wan 2.1");
  assert_invalid (recipe, "“model”");
  takes_recipe_set_model (recipe, "");
  assert_invalid (recipe, "no “model”");
  g_clear_object (&recipe);

  recipe = valid_recipe ();
  takes_recipe_set_sampler (recipe, "euler;rm");
  assert_invalid (recipe, "“sampler”");
}

static void
test_recipe_copy_is_independent (void)
{
  g_autoptr (TakesRecipe) recipe = valid_recipe ();
  g_autoptr (TakesRecipe) copy = NULL;
  g_autoptr (JsonNode) value = json_node_new (JSON_NODE_VALUE);

  json_node_set_int (value, 3);
  takes_recipe_set_option (recipe, "tiles", value);
  copy = takes_recipe_copy (recipe);
  g_assert_true (takes_recipe_equal (recipe, copy));

  takes_recipe_set_seed (copy, 99);
  takes_recipe_remove_option (copy, "tiles");
  g_assert_false (takes_recipe_equal (recipe, copy));
  g_assert_cmpint (takes_recipe_get_seed (recipe), ==, 0);
  g_assert_true (json_object_has_member (takes_recipe_get_options (recipe), "tiles"));
}

static void
count_notify_cb (GObject *object, GParamSpec *pspec, gpointer user_data)
{
  (*(guint *)user_data)++;
}

static void
test_recipe_properties_notify (void)
{
  g_autoptr (TakesRecipe) recipe = takes_recipe_new ();
  guint notified = 0;
  guint frames = 0;

  g_signal_connect (recipe, "notify::frames", G_CALLBACK (count_notify_cb), &notified);
  g_object_set (recipe, "frames", 33, NULL);
  g_object_set (recipe, "frames", 33, NULL);
  takes_recipe_set_frames (recipe, 33);
  g_object_get (recipe, "frames", &frames, NULL);
  g_assert_cmpuint (frames, ==, 33);
  g_assert_cmpuint (notified, ==, 1);
}

static void
test_recipe_randomize_seed_in_range (void)
{
  g_autoptr (TakesRecipe) recipe = valid_recipe ();

  for (guint i = 0; i < 200; i++)
    {
      takes_recipe_randomize_seed (recipe);
      g_assert_cmpint (takes_recipe_get_seed (recipe), >=, 0);
      g_assert_cmpint (takes_recipe_get_seed (recipe), <=, TAKES_RECIPE_MAX_SEED);
      g_assert_true (takes_recipe_validate (recipe, NULL));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/recipe/defaults", test_recipe_defaults);
  g_test_add_func ("/recipe/json/round-trip", test_recipe_json_round_trip);
  g_test_add_func ("/recipe/json/canonical-form", test_recipe_json_canonical_form);
  g_test_add_func ("/recipe/json/same-meaning-same-key", test_recipe_json_same_meaning_same_key);
  g_test_add_func ("/recipe/json/unknown-fields-kept", test_recipe_json_unknown_fields_kept);
  g_test_add_func ("/recipe/json/malformed", test_recipe_json_malformed);
  g_test_add_func ("/recipe/json/wrong-types", test_recipe_json_wrong_types);
  g_test_add_func ("/recipe/cache-key/is-sha256-of-canonical-json", test_recipe_cache_key_is_sha256);
  g_test_add_func ("/recipe/validate/frames-4n-plus-1", test_recipe_validate_frames);
  g_test_add_func ("/recipe/validate/sizes-multiple-of-8", test_recipe_validate_sizes);
  g_test_add_func ("/recipe/validate/ranges", test_recipe_validate_ranges);
  g_test_add_func ("/recipe/copy/is-independent", test_recipe_copy_is_independent);
  g_test_add_func ("/recipe/properties/notify-once", test_recipe_properties_notify);
  g_test_add_func ("/recipe/seed/randomize-in-range", test_recipe_randomize_seed_in_range);
  return g_test_run ();
}
