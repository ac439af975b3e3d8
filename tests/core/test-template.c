/* Templates, batch plans and their estimates. */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "takes-batch-plan.h"
#include "takes-estimate.h"
#include "takes-recipe.h"
#include "takes-template.h"

/* ------------------------------------------------------------------ templates */

static void
test_template_variables_in_order (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTemplate) t = takes_template_new ("{b} and {a}, then {b} again in {城市}", NULL, &error);
  const char *const *vars;

  g_assert_no_error (error);
  vars = takes_template_get_variables (t);
  g_assert_cmpuint (takes_template_get_n_variables (t), ==, 3);
  g_assert_cmpstr (vars[0], ==, "b");
  g_assert_cmpstr (vars[1], ==, "a");
  g_assert_cmpstr (vars[2], ==, "城市");
  g_assert_null (vars[3]);
  g_assert_cmpint (takes_template_find_variable (t, "a"), ==, 1);
  g_assert_cmpint (takes_template_find_variable (t, "c"), ==, -1);
  g_assert_finalize_object (g_steal_pointer (&t));
}

static void
test_template_escaped_braces (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTemplate) t = takes_template_new ("{{logo}} on {{{item}}}, }} and {{", NULL, &error);
  g_autoptr (GHashTable) values = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *out = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (takes_template_get_n_variables (t), ==, 1);
  g_hash_table_insert (values, (gpointer) "item", (gpointer) "a {cup}");
  out = takes_template_expand (t, values, &error);
  g_assert_no_error (error);
  /* Values are inserted as they are, braces and all. */
  g_assert_cmpstr (out, ==, "{logo} on {a {cup}}, } and {");
}

static void
test_template_spaces_inside_braces (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTemplate) t = takes_template_new ("in { city }!", NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (takes_template_get_variables (t)[0], ==, "city");
}

static void
test_template_escape_round_trip (void)
{
  const char *literal = "JSON like {\"a\": {\"b\": 1}} stays }{";
  g_autofree char *escaped = takes_template_escape (literal);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTemplate) t = takes_template_new (escaped, NULL, &error);
  g_autofree char *out = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (takes_template_get_n_variables (t), ==, 0);
  out = takes_template_expand (t, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (out, ==, literal);
}

typedef struct
{
  const char *text;
  guint line;
  guint column;
  const char *message_part;
} SyntaxCase;

static void
test_template_syntax_errors_have_positions (void)
{
  static const SyntaxCase cases[] = {
    { "A {city", 1, 3, "never closed" },
    { "A city}", 1, 7, "closes no brace" },
    { "A {} here", 1, 3, "no variable name" },
    { "A {ci.ty}", 1, 6, "cannot be part of a variable name" },
    { "A {big city}", 1, 7, "cannot contain spaces" },
    { "line one\nline two\n  {oops", 3, 3, "never closed" },
    { "一二三{城市", 1, 4, "never closed" },
    { "{a{b}}", 1, 1, "never closed" },
    { "{open\nnext}", 1, 1, "never closed" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      TakesTemplateLocation loc = { 0, 0, 0 };
      g_autoptr (TakesTemplate) t = takes_template_new (cases[i].text, &loc, &error);
      g_autofree char *prefix = g_strdup_printf ("Line %u, column %u: ", cases[i].line, cases[i].column);

      g_test_message ("template %u: %s", i, cases[i].text);
      g_assert_null (t);
      g_assert_error (error, TAKES_TEMPLATE_ERROR, TAKES_TEMPLATE_ERROR_SYNTAX);
      g_assert_cmpuint (loc.line, ==, cases[i].line);
      g_assert_cmpuint (loc.column, ==, cases[i].column);
      g_assert_true (g_str_has_prefix (error->message, prefix));
      g_assert_nonnull (strstr (error->message, cases[i].message_part));
    }
}

static void
test_template_expand_missing_value (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesTemplate) t = takes_template_new ("x\n  {a} {b}", NULL, &error);
  g_autoptr (GHashTable) values = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *out = NULL;

  g_hash_table_insert (values, (gpointer) "a", (gpointer) "1");
  out = takes_template_expand (t, values, &error);
  g_assert_null (out);
  g_assert_error (error, TAKES_TEMPLATE_ERROR, TAKES_TEMPLATE_ERROR_UNKNOWN_VARIABLE);
  g_assert_true (g_str_has_prefix (error->message, "Line 2, column 7:"));
  g_assert_nonnull (strstr (error->message, "“b”"));
}

static void
test_template_rejects_bad_text (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *huge = g_strnfill (TAKES_TEMPLATE_MAX_LENGTH + 1, 'a');
  TakesTemplate *t;

  t = takes_template_new ("ok \xff\xfe", NULL, &error);
  g_assert_null (t);
  g_assert_error (error, TAKES_TEMPLATE_ERROR, TAKES_TEMPLATE_ERROR_INVALID_TEXT);
  g_clear_error (&error);
  t = takes_template_new (huge, NULL, &error);
  g_assert_null (t);
  g_assert_error (error, TAKES_TEMPLATE_ERROR, TAKES_TEMPLATE_ERROR_TOO_LONG);
}

/* ------------------------------------------------------------------ batch plans */

static TakesBatchPlan *
plan_from (const char *json, guint max, GError **error)
{
  return takes_batch_plan_new_from_data (json, -1, max, error);
}

static void
test_batch_cross_count_and_order (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchPlan) plan = plan_from (
      "{\"template\": \"{city} in {season} for {audience}\","
      " \"variables\": {\"city\": [\"Paris\", \"Tokyo\", \"Lima\"], \"season\": [\"spring\", \"winter\"],"
      "               \"audience\": [\"kids\", \"parents\", \"students\", \"retirees\"]},"
      " \"seed\": 7}",
      0, &error);
  const TakesBatchVariant *v;

  g_assert_no_error (error);
  g_assert_cmpuint (takes_batch_plan_get_n_variants (plan), ==, 3 * 2 * 4);
  g_assert_cmpint (takes_batch_plan_get_mode (plan), ==, TAKES_BATCH_MODE_CROSS);
  /* The first variable changes slowest, the last fastest. */
  v = takes_batch_plan_get_variant (plan, 0);
  g_assert_cmpstr (v->prompt, ==, "Paris in spring for kids");
  v = takes_batch_plan_get_variant (plan, 1);
  g_assert_cmpstr (v->prompt, ==, "Paris in spring for parents");
  v = takes_batch_plan_get_variant (plan, 4);
  g_assert_cmpstr (v->prompt, ==, "Paris in winter for kids");
  v = takes_batch_plan_get_variant (plan, 8);
  g_assert_cmpstr (v->prompt, ==, "Tokyo in spring for kids");
  v = takes_batch_plan_get_variant (plan, 23);
  g_assert_cmpstr (v->prompt, ==, "Lima in winter for retirees");
  g_assert_cmpuint (v->index, ==, 23);
  g_assert_cmpstr (v->values[0], ==, "Lima");
  g_assert_cmpstr (v->values[1], ==, "winter");
  g_assert_cmpstr (v->values[2], ==, "retirees");
  g_assert_cmpstr (v->negative, ==, "");
  for (guint i = 0; i < 24; i++)
    g_assert_cmpint (takes_batch_plan_get_variant (plan, i)->seed, ==, 7);
  g_assert_finalize_object (g_steal_pointer (&plan));
}

static void
test_batch_zip_pairs_and_broadcasts (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchPlan) plan
      = plan_from ("{\"template\": \"{shot}: {action} ({style})\", \"mode\": \"zip\", \"seed\": 1,"
                   " \"variables\": {\"shot\": [\"wide\", \"medium\", \"close\"],"
                   "               \"action\": [\"enters\", \"sits\", \"smiles\"], \"style\": [\"sketch\"]}}",
                   0, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (takes_batch_plan_get_n_variants (plan), ==, 3);
  g_assert_cmpstr (takes_batch_plan_get_variant (plan, 0)->prompt, ==, "wide: enters (sketch)");
  g_assert_cmpstr (takes_batch_plan_get_variant (plan, 2)->prompt, ==, "close: smiles (sketch)");
}

static void
test_batch_zip_mismatched (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchPlan) plan
      = plan_from ("{\"template\": \"{a} {b}\", \"mode\": \"zip\","
                   " \"variables\": {\"a\": [\"1\", \"2\", \"3\"], \"b\": [\"x\", \"y\"]}}",
                   0, &error);

  g_assert_null (plan);
  g_assert_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_MISMATCHED_LISTS);
  g_assert_nonnull (strstr (error->message, "“a” has 3"));
  g_assert_nonnull (strstr (error->message, "“b” has 2"));
}

static void
test_batch_cap_refuses_explosion (void)
{
  g_autoptr (GString) json = g_string_new ("{\"template\": \"");
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchPlan) plan = NULL;
  gint64 start = g_get_monotonic_time ();

  for (guint v = 0; v < 10; v++)
    g_string_append_printf (json, "{v%u} ", v);
  g_string_append (json, "\", \"variables\": {");
  for (guint v = 0; v < 10; v++)
    {
      g_string_append_printf (json, "%s\"v%u\": [", v > 0 ? "," : "", v);
      for (guint k = 0; k < 20; k++)
        g_string_append_printf (json, "%s\"value %u\"", k > 0 ? "," : "", k);
      g_string_append (json, "]");
    }
  g_string_append (json, "}}");

  plan = plan_from (json->str, 0, &error);
  g_assert_null (plan);
  g_assert_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_TOO_MANY);
  /* 20^10, said before anything is expanded, with the breakdown and the way out. */
  g_assert_nonnull (strstr (error->message, "10240000000000"));
  g_assert_nonnull (strstr (error->message, "20 × 20"));
  g_assert_nonnull (strstr (error->message, "1000"));
  g_assert_nonnull (strstr (error->message, "max_variants"));
  g_assert_cmpint (g_get_monotonic_time () - start, <, 2 * G_USEC_PER_SEC);
}

static void
test_batch_cap_overflow_is_refused (void)
{
  g_autoptr (GString) json = g_string_new ("{\"template\": \"");
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchPlan) plan = NULL;

  /* 100^12 does not fit in 64 bits. */
  for (guint v = 0; v < 12; v++)
    g_string_append_printf (json, "{v%u}", v);
  g_string_append (json, "\", \"variables\": {");
  for (guint v = 0; v < 12; v++)
    {
      g_string_append_printf (json, "%s\"v%u\": [", v > 0 ? "," : "", v);
      for (guint k = 0; k < 100; k++)
        g_string_append_printf (json, "%s%u", k > 0 ? "," : "", k);
      g_string_append (json, "]");
    }
  g_string_append (json, "}}");
  plan = plan_from (json->str, 0, &error);
  g_assert_null (plan);
  g_assert_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_TOO_MANY);
  g_assert_nonnull (strstr (error->message, "more than 18 quintillion"));
}

static void
test_batch_cap_limits (void)
{
  const char *json = "{\"template\": \"{a}{b}\", \"max_variants\": 5,"
                     " \"variables\": {\"a\": [1, 2, 3], \"b\": [4, 5]}}";
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchPlan) plan = plan_from (json, 0, &error);

  /* The file's own cap applies when the caller gives none... */
  g_assert_null (plan);
  g_assert_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_TOO_MANY);
  g_clear_error (&error);
  /* ...and the caller's overrides it. */
  plan = plan_from (json, 6, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (takes_batch_plan_get_n_variants (plan), ==, 6);
  g_assert_cmpuint (takes_batch_plan_get_max_variants (plan), ==, 6);
  g_assert_cmpstr (takes_batch_plan_get_variant (plan, 5)->prompt, ==, "35");
}

static void
test_batch_seed_vary_is_repeatable (void)
{
  const char *json = "{\"template\": \"{a}\", \"seed\": \"vary\", \"seed_base\": 99,"
                     " \"variables\": {\"a\": [\"x\", \"y\", \"z\", \"w\"]}}";
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchPlan) one = plan_from (json, 0, &error);
  g_autoptr (TakesBatchPlan) two = plan_from (json, 0, &error);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);

  g_assert_no_error (error);
  g_assert_cmpint (takes_batch_plan_get_seed_mode (one), ==, TAKES_BATCH_SEED_VARY);
  g_assert_true (takes_batch_plan_get_seed_base_given (one));
  for (guint i = 0; i < 4; i++)
    {
      const TakesBatchVariant *a = takes_batch_plan_get_variant (one, i);
      const TakesBatchVariant *b = takes_batch_plan_get_variant (two, i);

      g_assert_cmpint (a->seed, ==, b->seed);
      g_assert_cmpint (a->seed, >=, 0);
      g_assert_cmpint (a->seed, <=, TAKES_BATCH_PLAN_MAX_SEED);
      g_hash_table_add (seen, (gpointer)&a->seed);
    }
  g_assert_cmpuint (g_hash_table_size (seen), ==, 4);
}

static void
test_batch_seed_list_multiplies (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchPlan) plan = plan_from ("{\"template\": \"{a}\", \"seed\": [11, 22, 33],"
                                               " \"variables\": {\"a\": [\"x\", \"y\"]}}",
                                               0, &error);
  const TakesBatchVariant *v;

  g_assert_no_error (error);
  g_assert_cmpuint (takes_batch_plan_get_n_variants (plan), ==, 6);
  v = takes_batch_plan_get_variant (plan, 0);
  g_assert_cmpstr (v->prompt, ==, "x");
  g_assert_cmpint (v->seed, ==, 11);
  v = takes_batch_plan_get_variant (plan, 2);
  g_assert_cmpstr (v->prompt, ==, "x");
  g_assert_cmpint (v->seed, ==, 33);
  g_assert_cmpuint (v->combination, ==, 0);
  v = takes_batch_plan_get_variant (plan, 3);
  g_assert_cmpstr (v->prompt, ==, "y");
  g_assert_cmpint (v->seed, ==, 11);
  g_assert_cmpuint (v->combination, ==, 1);
}

typedef struct
{
  const char *json;
  int code;
  const char *message_part;
} BadPlan;

static void
test_batch_bad_files (void)
{
  static const BadPlan cases[] = {
    { "not json", TAKES_BATCH_PLAN_ERROR_MALFORMED, "not valid JSON" },
    { "[1, 2]", TAKES_BATCH_PLAN_ERROR_MALFORMED, "one JSON object" },
    { "{}", TAKES_BATCH_PLAN_ERROR_INVALID, "no “template”" },
    { "{\"template\": 3}", TAKES_BATCH_PLAN_ERROR_INVALID, "“template” must be text" },
    { "{\"template\": \"x\", \"tempalte\": \"y\"}", TAKES_BATCH_PLAN_ERROR_INVALID,
      "did you mean “template”" },
    { "{\"template\": \"a {b\", \"variables\": {\"b\": [\"1\"]}}", TAKES_BATCH_PLAN_ERROR_SYNTAX,
      "In “template”: Line 1, column 3:" },
    { "{\"template\": \"ok\", \"negative\": \"x}\"}", TAKES_BATCH_PLAN_ERROR_SYNTAX,
      "In “negative”: Line 1, column 2:" },
    { "{\"template\": \"in {ctiy}\", \"variables\": {\"city\": [\"Rome\"]}}",
      TAKES_BATCH_PLAN_ERROR_VARIABLES,
      "Line 1, column 4: the variable “ctiy” has no values; did you mean “city”?" },
    { "{\"template\": \"in {city}\", \"variables\": {\"city\": [\"Rome\"], \"season\": [\"x\"]}}",
      TAKES_BATCH_PLAN_ERROR_VARIABLES, "“season” is not used" },
    { "{\"template\": \"{a}\", \"variables\": {\"a\": []}}", TAKES_BATCH_PLAN_ERROR_INVALID,
      "has no values" },
    { "{\"template\": \"{a}\", \"variables\": {\"a\": \"x\"}}", TAKES_BATCH_PLAN_ERROR_INVALID,
      "must be a list" },
    { "{\"template\": \"{a}\", \"variables\": {\"a\": [\"x\", \"x\"]}}", TAKES_BATCH_PLAN_ERROR_INVALID,
      "appears twice" },
    { "{\"template\": \"{a}\", \"variables\": {\"a\": [true]}}", TAKES_BATCH_PLAN_ERROR_INVALID,
      "must be text or a whole number" },
    { "{\"template\": \"x\", \"mode\": \"zipper\"}", TAKES_BATCH_PLAN_ERROR_INVALID, "“mode” is “zipper”" },
    { "{\"template\": \"x\", \"seed\": -1}", TAKES_BATCH_PLAN_ERROR_INVALID, "between 0 and 2147483647" },
    { "{\"template\": \"x\", \"seed\": 1.5}", TAKES_BATCH_PLAN_ERROR_INVALID, "whole number" },
    { "{\"template\": \"x\", \"seed\": \"random\"}", TAKES_BATCH_PLAN_ERROR_INVALID, "\"vary\"" },
    { "{\"template\": \"x\", \"seed\": 5, \"seed_base\": 3}", TAKES_BATCH_PLAN_ERROR_INVALID,
      "only applies" },
    { "{\"template\": \"x\", \"size\": \"big\"}", TAKES_BATCH_PLAN_ERROR_INVALID, "width*height" },
    { "{\"template\": \"x\", \"size\": \"832*480\", \"width\": 832}", TAKES_BATCH_PLAN_ERROR_INVALID,
      "not both" },
    { "{\"template\": \"x\", \"width\": 832}", TAKES_BATCH_PLAN_ERROR_INVALID, "both “width” and “height”" },
    { "{\"template\": \"x\", \"duration\": 0}", TAKES_BATCH_PLAN_ERROR_INVALID, "“duration”" },
    { "{\"template\": \"x\", \"max_variants\": 100001}", TAKES_BATCH_PLAN_ERROR_INVALID, "“max_variants”" },
    { "{\"template\": \"x\", \"variables\": {\"bad name\": [\"1\"]}}", TAKES_BATCH_PLAN_ERROR_INVALID,
      "cannot be a variable name" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesBatchPlan) plan = plan_from (cases[i].json, 0, &error);

      g_test_message ("case %u: %s → %s", i, cases[i].json, error != NULL ? error->message : "(no error)");
      g_assert_null (plan);
      g_assert_error (error, TAKES_BATCH_PLAN_ERROR, cases[i].code);
      g_assert_nonnull (strstr (error->message, cases[i].message_part));
    }
}

static void
test_batch_negative_and_params (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchPlan) plan = plan_from (
      "{\"name\": \"spot\", \"template\": \"{c}\", \"negative\": \"no {c} text\","
      " \"variables\": {\"c\": [\"red\", \"blue\"]}, \"backend\": \"dashscope\","
      " \"model\": \"wan2.1-t2v-turbo\", \"size\": \"1280x720\", \"frames\": 81, \"fps\": 16,"
      " \"steps\": 30, \"guidance\": 5.5, \"prompt_extend\": false, \"comment\": \"for the spring run\"}",
      0, &error);
  guint width = 0;
  guint height = 0;
  g_autoptr (JsonObject) tags = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (takes_batch_plan_get_name (plan), ==, "spot");
  g_assert_cmpstr (takes_batch_plan_get_variant (plan, 1)->negative, ==, "no blue text");
  g_assert_cmpstr (takes_batch_plan_get_backend (plan), ==, "dashscope");
  g_assert_cmpstr (takes_batch_plan_get_model (plan), ==, "wan2.1-t2v-turbo");
  takes_batch_plan_get_size (plan, &width, &height);
  g_assert_cmpuint (width, ==, 1280);
  g_assert_cmpuint (height, ==, 720);
  g_assert_cmpfloat_with_epsilon (takes_batch_plan_get_duration (plan), 81.0 / 16.0, 1e-9);
  g_assert_cmpint (json_object_get_int_member (takes_batch_plan_get_params (plan), "steps"), ==, 30);
  g_assert_false (json_object_get_boolean_member (takes_batch_plan_get_params (plan), "prompt_extend"));
  tags = takes_batch_plan_get_variant_tags (plan, 1);
  g_assert_cmpstr (json_object_get_string_member (tags, "c"), ==, "blue");
}

static void
test_batch_variant_recipe (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchPlan) plan
      = plan_from ("{\"template\": \"a {c} car\", \"negative\": \"{c} text\", \"seed\": 77,"
                   " \"variables\": {\"c\": [\"red\", \"blue\"]}, \"backend\": \"dashscope\","
                   " \"model\": \"wan2.2-t2v-plus\", \"size\": \"832*480\", \"frames\": 81, \"fps\": 16,"
                   " \"duration\": 5, \"prompt_extend\": false}",
                   0, &error);
  g_autoptr (JsonObject) object = NULL;
  g_autoptr (TakesRecipe) recipe = NULL;

  g_assert_no_error (error);
  object = takes_batch_plan_get_variant_recipe (plan, 1);
  g_assert_false (
      json_object_get_boolean_member (json_object_get_object_member (object, "options"), "prompt_extend"));
  recipe = takes_recipe_new_from_object (object, &error);
  g_assert_no_error (error);
  g_assert_true (takes_recipe_validate (recipe, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (takes_recipe_get_prompt (recipe), ==, "a blue car");
  g_assert_cmpstr (takes_recipe_get_negative_prompt (recipe), ==, "blue text");
  g_assert_cmpstr (takes_recipe_get_backend (recipe), ==, "dashscope");
  g_assert_cmpint (takes_recipe_get_seed (recipe), ==, 77);
  g_assert_cmpuint (takes_recipe_get_width (recipe), ==, 832);
  g_assert_cmpuint (takes_recipe_get_frames (recipe), ==, 81);
}

static void
test_batch_to_json (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchPlan) plan = plan_from ("{\"template\": \"{a} {b}\", \"seed\": 3,"
                                               " \"variables\": {\"a\": [\"1\", \"2\"], \"b\": [\"x\"]}}",
                                               0, &error);
  g_autoptr (JsonNode) node = takes_batch_plan_to_json (plan);
  JsonObject *o = json_node_get_object (node);
  JsonArray *variants = json_object_get_array_member (o, "variants");
  JsonObject *second = json_array_get_object_element (variants, 1);

  g_assert_cmpint (json_object_get_int_member (o, "count"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (o, "mode"), ==, "cross");
  g_assert_cmpstr (json_object_get_string_member (second, "prompt"), ==, "2 x");
  g_assert_cmpint (json_object_get_int_member (second, "seed"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (second, "values"), "a"), ==,
                   "2");
}

static void
test_batch_text_budget (void)
{
  g_autoptr (GString) json = g_string_new ("{\"template\": \"{a}{b}\", \"max_variants\": 100000,"
                                           " \"variables\": {\"a\": [");
  g_autofree char *big = g_strnfill (60000, 'x');
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchPlan) plan = NULL;

  /* 100 × 100 variants of 60 KB each would be 600 MB of prompts. */
  for (guint i = 0; i < 100; i++)
    g_string_append_printf (json, "%s\"%s%u\"", i > 0 ? "," : "", i == 0 ? big : "", i);
  g_string_append (json, "], \"b\": [");
  for (guint i = 0; i < 100; i++)
    g_string_append_printf (json, "%s%u", i > 0 ? "," : "", i);
  g_string_append (json, "]}}");
  plan = plan_from (json->str, 0, &error);
  g_assert_null (plan);
  g_assert_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_TOO_MANY);
  g_assert_nonnull (strstr (error->message, "MiB"));
}

static void
test_batch_file_errors (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-batch-XXXXXX", NULL);
  g_autofree char *path = g_build_filename (dir, "b.json", NULL);
  g_autoptr (TakesBatchPlan) plan = takes_batch_plan_new_from_file (path, 0, &error);

  g_assert_null (plan);
  g_assert_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_MALFORMED);
  g_clear_error (&error);

  g_assert_true (
      g_file_set_contents (path, "{\"template\": \"{a}\", \"variables\": {\"a\": [\"\xff\"]}}", -1, NULL));
  plan = takes_batch_plan_new_from_file (path, 0, &error);
  g_assert_null (plan);
  g_assert_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, "UTF-8"));
  g_clear_error (&error);

  g_assert_true (
      g_file_set_contents (path, "{\"template\": \"ok {a}\", \"variables\": {\"a\": [\"1\"]}}", -1, NULL));
  plan = takes_batch_plan_new_from_file (path, 0, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (takes_batch_plan_get_variant (plan, 0)->prompt, ==, "ok 1");
  g_unlink (path);
  g_rmdir (dir);
}

/* ------------------------------------------------------------------ estimates */

static void
test_estimate_dashscope_cost (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesPricing) pricing = takes_pricing_new_default (&error);
  g_autoptr (TakesEstimate) est = NULL;
  g_autofree char *cost = NULL;

  g_assert_no_error (error);
  est = takes_pricing_estimate (pricing, "dashscope", "wan2.2-t2v-plus", 832, 480, 5, 10);
  g_assert_true (est->cost_known);
  g_assert_cmpstr (est->tier, ==, "480P");
  g_assert_cmpstr (est->currency, ==, "CNY");
  g_assert_cmpfloat_with_epsilon (est->cost, 0.14 * 5 * 10, 1e-9);
  cost = takes_estimate_format_cost (est);
  g_assert_cmpstr (cost, ==, "¥7.00");
  /* Two at a time: five rounds. */
  g_assert_true (est->time_known);
  g_assert_cmpuint (est->concurrency, ==, 2);
  g_assert_cmpfloat_with_epsilon (est->wall_seconds, 5 * (30 + 12 * 5), 1e-9);

  g_clear_pointer (&est, takes_estimate_free);
  g_clear_pointer (&cost, g_free);
  est = takes_pricing_estimate (pricing, "dashscope", "wanx2.1-t2v-turbo", 0, 0, 0, 3);
  g_assert_true (est->cost_known);
  g_assert_cmpstr (est->currency, ==, "USD");
  g_assert_cmpstr (est->tier, ==, "720P");
  cost = takes_estimate_format_cost (est);
  g_assert_cmpstr (cost, ==, "US$0.54");
}

static void
test_estimate_own_hardware_is_free (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesPricing) pricing = takes_pricing_new_default (&error);
  g_autoptr (TakesEstimate) local
      = takes_pricing_estimate (pricing, "local", "some-custom-model", 832, 480, 0, 2);
  g_autoptr (TakesEstimate) server
      = takes_pricing_estimate (pricing, "takes-server", "wan2.1-t2v-1.3b", 0, 0, 0, 1);
  g_autofree char *cost = takes_estimate_format_cost (local);
  g_autofree char *time = takes_estimate_format_time (server);

  g_assert_true (local->cost_known);
  g_assert_null (local->currency);
  g_assert_cmpstr (cost, ==, "free");
  g_assert_true (local->time_known);
  g_assert_true (server->time_known);
  g_assert_true (g_str_has_prefix (time, "about "));
}

/* The tiny test model takes seconds, not the hours of a real model. */
static void
test_estimate_tiny_model (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesPricing) pricing = takes_pricing_new_default (&error);
  g_autoptr (TakesEstimate) tiny = takes_pricing_estimate (pricing, "local", "tiny", 64, 64, 0.5625, 2);
  g_autoptr (TakesEstimate) real = takes_pricing_estimate (pricing, "local", "wan2.1-t2v-1.3b", 832, 480, 5, 2);

  g_assert_no_error (error);
  g_assert_true (tiny->time_known);
  g_assert_cmpfloat (tiny->wall_seconds, <, 60);
  g_assert_cmpfloat (real->wall_seconds, >, 100 * tiny->wall_seconds);
}

static void
test_estimate_unknown (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesPricing) pricing = takes_pricing_new_default (&error);
  g_autoptr (TakesEstimate) model
      = takes_pricing_estimate (pricing, "dashscope", "wan9-future", 832, 480, 5, 2);
  g_autoptr (TakesEstimate) tier
      = takes_pricing_estimate (pricing, "dashscope", "wan2.1-t2v-plus", 832, 480, 5, 2);
  g_autoptr (TakesEstimate) backend = takes_pricing_estimate (pricing, "nowhere", NULL, 0, 0, 0, 2);
  g_autofree char *cost = takes_estimate_format_cost (model);
  g_autofree char *time = takes_estimate_format_time (backend);

  g_assert_false (model->cost_known);
  g_assert_false (model->time_known);
  g_assert_cmpstr (cost, ==, "unknown");
  /* The plus model has no 480P price. */
  g_assert_false (tier->cost_known);
  g_assert_false (backend->cost_known);
  g_assert_cmpstr (time, ==, "unknown");
}

static void
test_estimate_tiers_and_formats (void)
{
  TakesEstimate est = { 0 };
  g_autofree char *a = NULL;
  g_autofree char *b = NULL;
  g_autofree char *c = NULL;

  g_assert_cmpstr (takes_estimate_tier_for_size (832, 480), ==, "480P");
  g_assert_cmpstr (takes_estimate_tier_for_size (624, 624), ==, "480P");
  g_assert_cmpstr (takes_estimate_tier_for_size (1280, 720), ==, "720P");
  g_assert_cmpstr (takes_estimate_tier_for_size (1088, 832), ==, "720P");
  g_assert_cmpstr (takes_estimate_tier_for_size (1920, 1080), ==, "1080P");
  g_assert_cmpstr (takes_estimate_tier_for_size (1440, 1440), ==, "1080P");

  est.time_known = TRUE;
  est.wall_seconds = 42;
  a = takes_estimate_format_time (&est);
  g_assert_cmpstr (a, ==, "about 42 s");
  est.wall_seconds = 3 * 3600 + 20 * 60;
  b = takes_estimate_format_time (&est);
  g_assert_cmpstr (b, ==, "about 3 h 20 min");
  est.wall_seconds = 5 * 86400;
  c = takes_estimate_format_time (&est);
  g_assert_cmpstr (c, ==, "about 5 days");
}

static void
test_estimate_bad_tables (void)
{
  static const char *const tables[] = {
    "nope",
    "[]",
    "{\"backends\": 1}",
    "{\"backends\": {\"x\": {\"models\": {\"m\": {\"price_per_second\": {\"480P\": 1}}}}}}",
    "{\"backends\": {\"x\": {\"models\": {\"m\": {\"per_output_second_s\": {\"4K\": 1}}}}}}",
    "{\"backends\": {\"x\": {\"concurrency\": 0, \"models\": {}}}}",
    "{\"backends\": {\"x\": {\"models\": {\"m\": {\"default_duration\": -5}}}}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (tables); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesPricing) pricing = takes_pricing_new_from_data (tables[i], -1, &error);

      g_test_message ("table %u", i);
      g_assert_null (pricing);
      g_assert_error (error, TAKES_ESTIMATE_ERROR, TAKES_ESTIMATE_ERROR_INVALID_DATA);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/template/parse/variables-in-order-of-first-use", test_template_variables_in_order);
  g_test_add_func ("/template/parse/escaped-braces", test_template_escaped_braces);
  g_test_add_func ("/template/parse/spaces-inside-braces", test_template_spaces_inside_braces);
  g_test_add_func ("/template/escape/round-trip", test_template_escape_round_trip);
  g_test_add_func ("/template/syntax/errors-have-positions", test_template_syntax_errors_have_positions);
  g_test_add_func ("/template/expand/missing-value-names-it", test_template_expand_missing_value);
  g_test_add_func ("/template/parse/rejects-bad-text", test_template_rejects_bad_text);

  g_test_add_func ("/batch-plan/cross/count-and-order", test_batch_cross_count_and_order);
  g_test_add_func ("/batch-plan/zip/pairs-and-broadcasts", test_batch_zip_pairs_and_broadcasts);
  g_test_add_func ("/batch-plan/zip/mismatched-lengths", test_batch_zip_mismatched);
  g_test_add_func ("/batch-plan/cap/refuses-ten-variables-of-twenty", test_batch_cap_refuses_explosion);
  g_test_add_func ("/batch-plan/cap/overflow-is-refused", test_batch_cap_overflow_is_refused);
  g_test_add_func ("/batch-plan/cap/file-and-caller-limits", test_batch_cap_limits);
  g_test_add_func ("/batch-plan/seed/vary-is-repeatable", test_batch_seed_vary_is_repeatable);
  g_test_add_func ("/batch-plan/seed/list-multiplies", test_batch_seed_list_multiplies);
  g_test_add_func ("/batch-plan/bad-files/clear-errors", test_batch_bad_files);
  g_test_add_func ("/batch-plan/params/negative-and-recipe", test_batch_negative_and_params);
  g_test_add_func ("/batch-plan/json/has-every-variant", test_batch_to_json);
  g_test_add_func ("/batch-plan/recipe/each-variant-is-a-valid-recipe", test_batch_variant_recipe);
  g_test_add_func ("/batch-plan/cap/text-budget", test_batch_text_budget);
  g_test_add_func ("/batch-plan/file/read-errors", test_batch_file_errors);

  g_test_add_func ("/estimate/dashscope/cost-and-time", test_estimate_dashscope_cost);
  g_test_add_func ("/estimate/own-hardware/is-free", test_estimate_own_hardware_is_free);
  g_test_add_func ("/estimate/own-hardware/tiny-model-takes-seconds", test_estimate_tiny_model);
  g_test_add_func ("/estimate/unknown/not-estimated", test_estimate_unknown);
  g_test_add_func ("/estimate/format/tiers-and-times", test_estimate_tiers_and_formats);
  g_test_add_func ("/estimate/table/damaged-is-refused", test_estimate_bad_tables);
  return g_test_run ();
}
