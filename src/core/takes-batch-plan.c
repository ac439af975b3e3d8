/* takes-batch-plan.c: reading batch files and expanding them into variants.
 *
 * Everything is checked before anything is expanded: the templates, the
 * variables against the templates, the lists against the mode, the count
 * against the cap and the size of all the text against a memory budget. A
 * plan that exists is therefore complete and small enough to queue.
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <string.h>

#include "takes-batch-plan.h"

typedef struct
{
  char *name;
  GPtrArray *values; /* char *, NULL-terminated */
} Variable;

struct _TakesBatchPlan
{
  GObject parent_instance;

  char *name;
  TakesTemplate *template;
  TakesTemplate *negative;
  TakesBatchMode mode;
  TakesBatchSeedMode seed_mode;
  gint64 seed_base;
  gboolean seed_base_given;
  GArray *seed_list; /* gint64 */
  guint max_variants;
  GArray *variables;         /* Variable */
  GPtrArray *variable_names; /* borrowed from variables, NULL-terminated */
  JsonObject *params;
  GArray *variants; /* TakesBatchVariant */
};

G_DEFINE_FINAL_TYPE (TakesBatchPlan, takes_batch_plan, G_TYPE_OBJECT)

GQuark
takes_batch_plan_error_quark (void)
{
  return g_quark_from_static_string ("takes-batch-plan-error-quark");
}

static const char *const recipe_keys[] = {
  "backend", "model", "size",     "width", "height",  "duration",      "frames",
  "fps",     "steps", "guidance", "shift", "sampler", "prompt_extend", NULL,
};

static const char *const plan_keys[] = {
  "name", "template", "negative", "variables", "mode", "seed", "seed_base", "max_variants", "comment", NULL,
};

static void
variable_clear (gpointer data)
{
  Variable *v = data;

  g_clear_pointer (&v->name, g_free);
  g_clear_pointer (&v->values, g_ptr_array_unref);
}

static void
variant_clear (gpointer data)
{
  TakesBatchVariant *v = data;

  g_clear_pointer (&v->prompt, g_free);
  g_clear_pointer (&v->negative, g_free);
  g_clear_pointer (&v->values, g_free);
}

static void
takes_batch_plan_finalize (GObject *object)
{
  TakesBatchPlan *self = TAKES_BATCH_PLAN (object);

  g_clear_pointer (&self->name, g_free);
  g_clear_object (&self->template);
  g_clear_object (&self->negative);
  g_clear_pointer (&self->seed_list, g_array_unref);
  g_clear_pointer (&self->variable_names, g_ptr_array_unref);
  g_clear_pointer (&self->variables, g_array_unref);
  g_clear_pointer (&self->params, json_object_unref);
  g_clear_pointer (&self->variants, g_array_unref);

  G_OBJECT_CLASS (takes_batch_plan_parent_class)->finalize (object);
}

static void
takes_batch_plan_class_init (TakesBatchPlanClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = takes_batch_plan_finalize;
}

static void
takes_batch_plan_init (TakesBatchPlan *self)
{
  self->variables = g_array_new (FALSE, TRUE, sizeof (Variable));
  g_array_set_clear_func (self->variables, variable_clear);
  self->variable_names = g_ptr_array_new ();
  self->seed_list = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->variants = g_array_new (FALSE, TRUE, sizeof (TakesBatchVariant));
  g_array_set_clear_func (self->variants, variant_clear);
  self->params = json_object_new ();
}

/* ------------------------------------------------------------------ helpers */

/* Edits between two names, a swap of neighbours counting as one, since
 * "ctiy" is a typo of "city". */
static guint
edit_distance (const char *a, const char *b)
{
  glong la = 0;
  glong lb = 0;
  g_autofree gunichar *ua = g_utf8_to_ucs4_fast (a, -1, &la);
  g_autofree gunichar *ub = g_utf8_to_ucs4_fast (b, -1, &lb);
  g_autofree guint *d = g_new (guint, (la + 1) * (lb + 1));

#define D(i, j) d[(i) * (lb + 1) + (j)]
  for (glong i = 0; i <= la; i++)
    D (i, 0) = i;
  for (glong j = 0; j <= lb; j++)
    D (0, j) = j;
  for (glong i = 1; i <= la; i++)
    for (glong j = 1; j <= lb; j++)
      {
        guint cost = g_unichar_tolower (ua[i - 1]) == g_unichar_tolower (ub[j - 1]) ? 0 : 1;
        guint best = MIN (D (i - 1, j) + 1, D (i, j - 1) + 1);

        best = MIN (best, D (i - 1, j - 1) + cost);
        if (i > 1 && j > 1 && ua[i - 1] == ub[j - 2] && ua[i - 2] == ub[j - 1])
          best = MIN (best, D (i - 2, j - 2) + 1);
        D (i, j) = best;
      }
  return D (la, lb);
#undef D
}

/* The closest of @candidates to @word when it is close enough to be a typo. */
static const char *
closest_name (const char *word, const char *const *candidates)
{
  const char *best = NULL;
  guint best_distance = G_MAXUINT;
  guint limit = MAX (1, g_utf8_strlen (word, -1) / 3);

  for (guint i = 0; candidates != NULL && candidates[i] != NULL; i++)
    {
      guint d = edit_distance (word, candidates[i]);

      if (d < best_distance)
        {
          best_distance = d;
          best = candidates[i];
        }
    }
  return best_distance <= limit ? best : NULL;
}

static gboolean invalid (GError **error, const char *format, ...) G_GNUC_PRINTF (2, 3);

static gboolean
invalid (GError **error, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_propagate_error (
      error, g_error_new_valist (TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_INVALID, format, args));
  va_end (args);
  return FALSE;
}

/* @key names the field in messages. */
static gboolean
read_integer_node (JsonNode *node, const char *key, gint64 min, gint64 max, gint64 *out, GError **error)
{
  double value;

  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_INT64)
    value = (double)json_node_get_int (node);
  else if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_DOUBLE)
    value = json_node_get_double (node);
  else
    return invalid (error, _ ("“%s” must be a whole number."), key);
  if (value != (double)(gint64)value)
    return invalid (error, _ ("“%s” must be a whole number, not %g."), key, value);
  if (value < (double)min || value > (double)max)
    return invalid (error,
                    _ ("“%s” is %.0f; it must be between %" PRId64 " and %" PRId64 "."),
                    key, value, min, max);
  *out = (gint64)value;
  return TRUE;
}

static gboolean
read_integer (JsonObject *object, const char *key, gint64 min, gint64 max, gint64 *out, GError **error)
{
  return read_integer_node (json_object_get_member (object, key), key, min, max, out, error);
}

static gboolean
read_number (JsonObject *object, const char *key, double min, double max, double *out, GError **error)
{
  JsonNode *node = json_object_get_member (object, key);
  GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

  if (type != G_TYPE_INT64 && type != G_TYPE_DOUBLE)
    return invalid (error, _ ("“%s” must be a number."), key);
  *out = json_node_get_double (node);
  if (!(*out >= min && *out <= max))
    return invalid (error, _ ("“%s” is %g; it must be between %g and %g."), key, *out, min, max);
  return TRUE;
}

static gboolean
read_string (JsonObject *object, const char *key, gboolean allow_empty, const char **out, GError **error)
{
  JsonNode *node = json_object_get_member (object, key);

  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return invalid (error, _ ("“%s” must be text in quotes."), key);
  *out = json_node_get_string (node);
  if (!allow_empty && **out == '\0')
    return invalid (error, _ ("“%s” is empty; give it a value or leave it out."), key);
  return TRUE;
}

static gboolean
parse_size (const char *text, gint64 *width, gint64 *height)
{
  char *end = NULL;

  *width = g_ascii_strtoll (text, &end, 10);
  if (end == text || (*end != '*' && *end != 'x' && *end != 'X'))
    return FALSE;
  text = end + 1;
  *height = g_ascii_strtoll (text, &end, 10);
  return end != text && *end == '\0';
}

static gboolean
is_valid_name (const char *name)
{
  if (*name == '\0')
    return FALSE;
  for (const char *p = name; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c != '_' && c != '-' && !g_unichar_isalnum (c))
        return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------ reading */

static gboolean
check_keys (JsonObject *object, GError **error)
{
  g_autoptr (GList) members = json_object_get_members (object);
  g_autoptr (GPtrArray) known = g_ptr_array_new ();

  for (guint i = 0; plan_keys[i] != NULL; i++)
    g_ptr_array_add (known, (gpointer)plan_keys[i]);
  for (guint i = 0; recipe_keys[i] != NULL; i++)
    g_ptr_array_add (known, (gpointer)recipe_keys[i]);
  g_ptr_array_add (known, NULL);

  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      const char *guess;

      if (g_strv_contains ((const char *const *)known->pdata, key))
        continue;
      guess = closest_name (key, (const char *const *)known->pdata);
      if (guess != NULL)
        return invalid (error, _ ("The batch file has an unknown field “%s”; did you mean “%s”?"), key,
                        guess);
      return invalid (error, _ ("The batch file has an unknown field “%s”; remove it or check its spelling."),
                      key);
    }
  return TRUE;
}

static gboolean
read_templates (TakesBatchPlan *self, JsonObject *object, GError **error)
{
  const char *text = NULL;
  g_autoptr (GError) local_error = NULL;

  if (!json_object_has_member (object, "template"))
    return invalid (error, _ ("The batch file has no “template”; add the prompt with its {variables}."));
  if (!read_string (object, "template", FALSE, &text, error))
    return FALSE;
  self->template = takes_template_new (text, NULL, &local_error);
  if (self->template == NULL)
    {
      g_set_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_SYNTAX, _ ("In “template”: %s"),
                   local_error->message);
      return FALSE;
    }
  if (json_object_has_member (object, "negative"))
    {
      if (!read_string (object, "negative", TRUE, &text, error))
        return FALSE;
      self->negative = takes_template_new (text, NULL, &local_error);
      if (self->negative == NULL)
        {
          g_set_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_SYNTAX, _ ("In “negative”: %s"),
                       local_error->message);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
read_value_list (Variable *variable, JsonNode *node, GError **error)
{
  JsonArray *array;
  guint n;

  if (!JSON_NODE_HOLDS_ARRAY (node))
    return invalid (error, _ ("The values of “%s” must be a list, like [\"one\", \"two\"]."), variable->name);
  array = json_node_get_array (node);
  n = json_array_get_length (array);
  if (n == 0)
    return invalid (error, _ ("The variable “%s” has no values; add at least one or remove it."),
                    variable->name);
  if (n > TAKES_BATCH_PLAN_HARD_MAX_VARIANTS)
    return invalid (error, _ ("The variable “%s” has %u values, more than the %u a batch can hold."),
                    variable->name, n, (guint)TAKES_BATCH_PLAN_HARD_MAX_VARIANTS);

  variable->values = g_ptr_array_new_full (n + 1, g_free);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *element = json_array_get_element (array, i);
      GType type = JSON_NODE_HOLDS_VALUE (element) ? json_node_get_value_type (element) : G_TYPE_INVALID;
      char *value;

      if (type == G_TYPE_STRING)
        value = g_strdup (json_node_get_string (element));
      else if (type == G_TYPE_INT64)
        value = g_strdup_printf ("%" PRId64, json_node_get_int (element));
      else
        return invalid (error, _ ("Value %u of “%s” must be text or a whole number."), i + 1, variable->name);

      for (guint j = 0; j < variable->values->len; j++)
        if (g_str_equal (g_ptr_array_index (variable->values, j), value))
          {
            invalid (error,
                     _ ("The value “%s” appears twice in “%s”; each value makes its own variants, so "
                        "list it once."),
                     value, variable->name);
            g_free (value);
            return FALSE;
          }
      g_ptr_array_add (variable->values, value);
    }
  g_ptr_array_add (variable->values, NULL);
  return TRUE;
}

static gboolean
read_variables (TakesBatchPlan *self, JsonObject *object, GError **error)
{
  JsonNode *node = json_object_get_member (object, "variables");
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  if (node != NULL && !JSON_NODE_HOLDS_NULL (node))
    {
      if (!JSON_NODE_HOLDS_OBJECT (node))
        return invalid (
            error, _ ("“variables” must be an object of lists, like {\"city\": [\"Paris\", \"Tokyo\"]}."));
      json_object_iter_init_ordered (&iter, json_node_get_object (node));
      while (json_object_iter_next_ordered (&iter, &name, &value))
        {
          Variable variable = { g_strdup (name), NULL };

          g_array_append_val (self->variables, variable);
          if (!is_valid_name (name))
            return invalid (
                error, _ ("“%s” cannot be a variable name; names use letters, digits, “_” and “-”."), name);
          if (!read_value_list (&g_array_index (self->variables, Variable, self->variables->len - 1), value,
                                error))
            return FALSE;
        }
    }
  for (guint i = 0; i < self->variables->len; i++)
    g_ptr_array_add (self->variable_names, g_array_index (self->variables, Variable, i).name);
  g_ptr_array_add (self->variable_names, NULL);
  return TRUE;
}

static gboolean
check_template_variables (TakesBatchPlan *self, TakesTemplate *template, const char *field, GError **error)
{
  const char *const *used = takes_template_get_variables (template);
  const char *const *defined = (const char *const *)self->variable_names->pdata;

  for (guint i = 0; used[i] != NULL; i++)
    {
      TakesTemplateLocation loc;
      const char *guess;

      if (g_strv_contains (defined, used[i]))
        continue;
      takes_template_get_variable_location (template, used[i], &loc);
      guess = closest_name (used[i], defined);
      if (guess != NULL)
        g_set_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_VARIABLES,
                     _ ("In “%s”: Line %u, column %u: the variable “%s” has no values; did you mean “%s”?"),
                     field, loc.line, loc.column, used[i], guess);
      else
        g_set_error (
            error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_VARIABLES,
            _ ("In “%s”: Line %u, column %u: the variable “%s” has no values; add it to “variables”."), field,
            loc.line, loc.column, used[i]);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_variables_used (TakesBatchPlan *self, GError **error)
{
  if (!check_template_variables (self, self->template, "template", error))
    return FALSE;
  if (self->negative != NULL && !check_template_variables (self, self->negative, "negative", error))
    return FALSE;
  for (guint i = 0; i < self->variables->len; i++)
    {
      const char *name = g_array_index (self->variables, Variable, i).name;

      if (takes_template_find_variable (self->template, name) < 0
          && (self->negative == NULL || takes_template_find_variable (self->negative, name) < 0))
        {
          g_set_error (
              error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_VARIABLES,
              _ ("The variable “%s” is not used in the template or the negative prompt, so its values "
                 "would only repeat the same prompt; write {%s} where it belongs or remove it."),
              name, name);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
read_mode (TakesBatchPlan *self, JsonObject *object, GError **error)
{
  const char *mode = "cross";

  if (json_object_has_member (object, "mode") && !read_string (object, "mode", FALSE, &mode, error))
    return FALSE;
  if (g_str_equal (mode, "cross"))
    self->mode = TAKES_BATCH_MODE_CROSS;
  else if (g_str_equal (mode, "zip"))
    self->mode = TAKES_BATCH_MODE_ZIP;
  else
    return invalid (
        error, _ ("“mode” is “%s”; use “cross” for every combination or “zip” to pair the lists."), mode);
  return TRUE;
}

static gboolean
read_seed (TakesBatchPlan *self, JsonObject *object, GError **error)
{
  JsonNode *node = json_object_get_member (object, "seed");
  gboolean has_base = json_object_has_member (object, "seed_base");

  self->seed_mode = TAKES_BATCH_SEED_VARY;
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);
      guint n = json_array_get_length (array);

      if (n == 0)
        return invalid (error, _ ("“seed” is an empty list; list at least one seed or write \"vary\"."));
      if (n > TAKES_BATCH_PLAN_HARD_MAX_VARIANTS)
        return invalid (error, _ ("“seed” lists %u seeds, more than a batch can hold."), n);
      self->seed_mode = TAKES_BATCH_SEED_LIST;
      for (guint i = 0; i < n; i++)
        {
          gint64 seed;

          if (!read_integer_node (json_array_get_element (array, i), "seed", 0, TAKES_BATCH_PLAN_MAX_SEED,
                                  &seed, error))
            return FALSE;
          for (guint j = 0; j < self->seed_list->len; j++)
            if (g_array_index (self->seed_list, gint64, j) == seed)
              return invalid (
                  error, _ ("The seed %" PRId64 " is listed twice in “seed”; list it once."), seed);
          g_array_append_val (self->seed_list, seed);
        }
    }
  else if (node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      if (!g_str_equal (json_node_get_string (node), "vary"))
        return invalid (error, _ ("“seed” is “%s”; use a number, a list of numbers, or \"vary\"."),
                        json_node_get_string (node));
    }
  else if (node != NULL)
    {
      self->seed_mode = TAKES_BATCH_SEED_FIXED;
      if (!read_integer (object, "seed", 0, TAKES_BATCH_PLAN_MAX_SEED, &self->seed_base, error))
        return FALSE;
    }

  if (has_base && self->seed_mode != TAKES_BATCH_SEED_VARY)
    return invalid (error, _ ("“seed_base” only applies when “seed” is \"vary\"; remove one of them."));
  if (self->seed_mode == TAKES_BATCH_SEED_VARY)
    {
      self->seed_base_given = has_base;
      if (has_base)
        return read_integer (object, "seed_base", 0, TAKES_BATCH_PLAN_MAX_SEED, &self->seed_base, error);
      /* Chosen once per plan and shown in the dry run, so it can be pinned. */
      self->seed_base = g_random_int_range (0, G_MAXINT32);
    }
  return TRUE;
}

static gboolean
read_params (TakesBatchPlan *self, JsonObject *object, GError **error)
{
  gint64 i;
  double d;
  const char *s;

  for (guint k = 0; recipe_keys[k] != NULL; k++)
    {
      const char *key = recipe_keys[k];

      if (!json_object_has_member (object, key))
        continue;
      if (g_str_equal (key, "backend") || g_str_equal (key, "model") || g_str_equal (key, "sampler"))
        {
          if (!read_string (object, key, FALSE, &s, error))
            return FALSE;
          json_object_set_string_member (self->params, key, s);
        }
      else if (g_str_equal (key, "size"))
        {
          gint64 w = 0;
          gint64 h = 0;

          if (!read_string (object, key, FALSE, &s, error))
            return FALSE;
          if (json_object_has_member (object, "width") || json_object_has_member (object, "height"))
            return invalid (error, _ ("Give either “size” or “width” and “height”, not both."));
          if (!parse_size (s, &w, &h) || w < 16 || h < 16 || w > 8192 || h > 8192)
            return invalid (error,
                            _ ("“size” is “%s”; write it as width*height in pixels, like \"832*480\"."), s);
          json_object_set_int_member (self->params, "width", w);
          json_object_set_int_member (self->params, "height", h);
        }
      else if (g_str_equal (key, "width") || g_str_equal (key, "height"))
        {
          if (!read_integer (object, key, 16, 8192, &i, error))
            return FALSE;
          json_object_set_int_member (self->params, key, i);
        }
      else if (g_str_equal (key, "frames"))
        {
          if (!read_integer (object, key, 1, 10000, &i, error))
            return FALSE;
          json_object_set_int_member (self->params, key, i);
        }
      else if (g_str_equal (key, "fps"))
        {
          if (!read_integer (object, key, 1, 240, &i, error))
            return FALSE;
          json_object_set_int_member (self->params, key, i);
        }
      else if (g_str_equal (key, "steps"))
        {
          if (!read_integer (object, key, 1, 1000, &i, error))
            return FALSE;
          json_object_set_int_member (self->params, key, i);
        }
      else if (g_str_equal (key, "duration"))
        {
          if (!read_number (object, key, 0.1, 600.0, &d, error))
            return FALSE;
          json_object_set_double_member (self->params, key, d);
        }
      else if (g_str_equal (key, "guidance"))
        {
          if (!read_number (object, key, 0.0, 100.0, &d, error))
            return FALSE;
          json_object_set_double_member (self->params, key, d);
        }
      else if (g_str_equal (key, "shift"))
        {
          if (!read_number (object, key, 0.0, 1000.0, &d, error))
            return FALSE;
          json_object_set_double_member (self->params, key, d);
        }
      else if (g_str_equal (key, "prompt_extend"))
        {
          JsonNode *node = json_object_get_member (object, key);

          if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_BOOLEAN)
            return invalid (error, _ ("“%s” must be true or false."), key);
          json_object_set_boolean_member (self->params, key, json_node_get_boolean (node));
        }
    }
  if (json_object_has_member (self->params, "width") != json_object_has_member (self->params, "height"))
    return invalid (error, _ ("Give both “width” and “height”, or “size”."));
  return TRUE;
}

/* ------------------------------------------------------------------ counting */

static guint64
count_combinations (TakesBatchPlan *self, GError **error)
{
  guint64 total = 1;

  if (self->mode == TAKES_BATCH_MODE_ZIP)
    {
      guint length = 1;
      const char *longest = NULL;

      for (guint i = 0; i < self->variables->len; i++)
        {
          const Variable *v = &g_array_index (self->variables, Variable, i);
          guint n = v->values->len - 1;

          if (n == 1)
            continue;
          if (length != 1 && n != length)
            {
              g_set_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_MISMATCHED_LISTS,
                           _ ("In zip mode every list needs the same length (or one value), but “%s” has %u "
                              "values and “%s” has %u; make them equal or use \"mode\": \"cross\"."),
                           longest, length, v->name, n);
              return 0;
            }
          length = n;
          longest = v->name;
        }
      return length;
    }
  for (guint i = 0; i < self->variables->len; i++)
    {
      const Variable *v = &g_array_index (self->variables, Variable, i);

      if (!g_uint64_checked_mul (&total, total, v->values->len - 1))
        return G_MAXUINT64;
    }
  return total;
}

static char *
describe_count (guint64 count)
{
  if (count == G_MAXUINT64)
    return g_strdup (_ ("more than 18 quintillion"));
  return g_strdup_printf ("%'" PRIu64, count);
}

static gboolean
check_count (TakesBatchPlan *self, guint64 combinations, guint64 *total, GError **error)
{
  guint64 n_seeds = self->seed_mode == TAKES_BATCH_SEED_LIST ? self->seed_list->len : 1;
  g_autoptr (GString) factors = g_string_new (NULL);
  g_autofree char *shown = NULL;

  if (combinations == G_MAXUINT64 || !g_uint64_checked_mul (total, combinations, n_seeds))
    *total = G_MAXUINT64;
  if (*total <= self->max_variants)
    return TRUE;

  for (guint i = 0; i < self->variables->len; i++)
    {
      const Variable *v = &g_array_index (self->variables, Variable, i);

      if (self->mode == TAKES_BATCH_MODE_ZIP)
        break;
      if (factors->len > 0)
        g_string_append (factors, " × ");
      g_string_append_printf (factors, "%u", v->values->len - 1);
    }
  if (n_seeds > 1)
    g_string_append_printf (factors, "%s%" PRIu64 " %s", factors->len > 0 ? " × " : "", n_seeds,
                            _ ("seeds"));
  shown = describe_count (*total);
  if (factors->len > 0)
    g_set_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_TOO_MANY,
                 _ ("This batch would make %s variants (%s), more than the limit of %u; nothing was queued. "
                    "Remove values, use \"mode\": \"zip\", or raise \"max_variants\" (at most %u)."),
                 shown, factors->str, self->max_variants, (guint)TAKES_BATCH_PLAN_HARD_MAX_VARIANTS);
  else
    g_set_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_TOO_MANY,
                 _ ("This batch would make %s variants, more than the limit of %u; nothing was queued. "
                    "Shorten the lists or raise \"max_variants\" (at most %u)."),
                 shown, self->max_variants, (guint)TAKES_BATCH_PLAN_HARD_MAX_VARIANTS);
  return FALSE;
}

/* ------------------------------------------------------------------ expanding */

static guint64
mix_seed (guint64 x)
{
  /* splitmix64: neighbouring indices give unrelated seeds. */
  x += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
  x = (x ^ (x >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  x = (x ^ (x >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return x ^ (x >> 31);
}

static void
combination_indices (TakesBatchPlan *self, guint64 combination, guint *indices)
{
  for (guint i = self->variables->len; i-- > 0;)
    {
      guint n = g_array_index (self->variables, Variable, i).values->len - 1;

      if (self->mode == TAKES_BATCH_MODE_ZIP)
        indices[i] = n == 1 ? 0 : (guint)combination;
      else
        {
          indices[i] = combination % n;
          combination /= n;
        }
    }
}

/* For each variable of @template, its index in the plan's variables. */
static guint *
template_map (TakesBatchPlan *self, TakesTemplate *template)
{
  const char *const *used = takes_template_get_variables (template);
  guint n = takes_template_get_n_variables (template);
  guint *map = g_new0 (guint, MAX (n, 1));

  for (guint i = 0; i < n; i++)
    for (guint j = 0; j < self->variables->len; j++)
      if (g_str_equal (used[i], g_array_index (self->variables, Variable, j).name))
        map[i] = j;
  return map;
}

static gsize
longest_expansion (TakesBatchPlan *self, TakesTemplate *template, const guint *map)
{
  guint n = takes_template_get_n_variables (template);
  g_autofree gsize *lengths = g_new0 (gsize, MAX (n, 1));

  for (guint i = 0; i < n; i++)
    {
      const Variable *v = &g_array_index (self->variables, Variable, map[i]);

      for (guint k = 0; k + 1 < v->values->len; k++)
        lengths[i] = MAX (lengths[i], strlen (g_ptr_array_index (v->values, k)));
    }
  return takes_template_expanded_length (template, lengths);
}

static gboolean
expand (TakesBatchPlan *self, guint64 combinations, guint64 total, GError **error)
{
  guint n_vars = self->variables->len;
  guint n_seeds = self->seed_mode == TAKES_BATCH_SEED_LIST ? self->seed_list->len : 1;
  g_autofree guint *prompt_map = template_map (self, self->template);
  g_autofree guint *negative_map = self->negative != NULL ? template_map (self, self->negative) : NULL;
  g_autofree guint *indices = g_new0 (guint, MAX (n_vars, 1));
  g_autofree const char **prompt_values
      = g_new0 (const char *, takes_template_get_n_variables (self->template) + 1);
  g_autofree const char **negative_values = NULL;
  gsize per_variant = longest_expansion (self, self->template, prompt_map);

  if (self->negative != NULL)
    {
      negative_values = g_new0 (const char *, takes_template_get_n_variables (self->negative) + 1);
      per_variant += longest_expansion (self, self->negative, negative_map);
    }
  if (per_variant > 0 && total > TAKES_BATCH_PLAN_MAX_TOTAL_TEXT / per_variant)
    {
      g_set_error (
          error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_TOO_MANY,
          _ ("The prompts of this batch would need more than %u MiB of text; shorten the values or make "
             "fewer variants."),
          (guint)(TAKES_BATCH_PLAN_MAX_TOTAL_TEXT / (1024 * 1024)));
      return FALSE;
    }

  g_array_set_size (self->variants, total);
  for (guint64 c = 0; c < combinations; c++)
    {
      g_autofree char *prompt = NULL;
      g_autofree char *negative = NULL;

      combination_indices (self, c, indices);
      for (guint i = 0; i < takes_template_get_n_variables (self->template); i++)
        prompt_values[i] = g_ptr_array_index (g_array_index (self->variables, Variable, prompt_map[i]).values,
                                              indices[prompt_map[i]]);
      prompt = takes_template_expand_indexed (self->template, prompt_values);
      if (self->negative != NULL)
        {
          for (guint i = 0; i < takes_template_get_n_variables (self->negative); i++)
            negative_values[i] = g_ptr_array_index (
                g_array_index (self->variables, Variable, negative_map[i]).values, indices[negative_map[i]]);
          negative = takes_template_expand_indexed (self->negative, negative_values);
        }

      for (guint s = 0; s < n_seeds; s++)
        {
          guint index = (guint)(c * n_seeds + s);
          TakesBatchVariant *v = &g_array_index (self->variants, TakesBatchVariant, index);

          v->index = index;
          v->combination = (guint)c;
          v->prompt = g_strdup (prompt);
          v->negative = g_strdup (negative != NULL ? negative : "");
          if (self->seed_mode == TAKES_BATCH_SEED_FIXED)
            v->seed = self->seed_base;
          else if (self->seed_mode == TAKES_BATCH_SEED_LIST)
            v->seed = g_array_index (self->seed_list, gint64, s);
          else
            v->seed
                = (gint64)(mix_seed (((guint64)self->seed_base << 32) ^ index) & TAKES_BATCH_PLAN_MAX_SEED);
          v->values = g_new0 (const char *, n_vars + 1);
          for (guint i = 0; i < n_vars; i++)
            v->values[i]
                = g_ptr_array_index (g_array_index (self->variables, Variable, i).values, indices[i]);
        }
    }
  return TRUE;
}

/* ------------------------------------------------------------------ public */

TakesBatchPlan *
takes_batch_plan_new_from_object (JsonObject *object, guint max_variants, GError **error)
{
  g_autoptr (TakesBatchPlan) self = g_object_new (TAKES_TYPE_BATCH_PLAN, NULL);
  guint64 combinations;
  guint64 total = 0;
  g_autoptr (GError) count_error = NULL;

  g_return_val_if_fail (object != NULL, NULL);

  if (!check_keys (object, error))
    return NULL;
  if (json_object_has_member (object, "name"))
    {
      const char *name = NULL;

      if (!read_string (object, "name", TRUE, &name, error))
        return NULL;
      self->name = g_strdup (name);
    }
  if (!read_templates (self, object, error) || !read_variables (self, object, error)
      || !check_variables_used (self, error) || !read_mode (self, object, error)
      || !read_seed (self, object, error) || !read_params (self, object, error))
    return NULL;

  self->max_variants = max_variants;
  if (self->max_variants == 0 && json_object_has_member (object, "max_variants"))
    {
      gint64 max = 0;

      if (!read_integer (object, "max_variants", 1, TAKES_BATCH_PLAN_HARD_MAX_VARIANTS, &max, error))
        return NULL;
      self->max_variants = (guint)max;
    }
  if (self->max_variants == 0)
    self->max_variants = TAKES_BATCH_PLAN_DEFAULT_MAX_VARIANTS;
  self->max_variants = MIN (self->max_variants, TAKES_BATCH_PLAN_HARD_MAX_VARIANTS);

  combinations = count_combinations (self, &count_error);
  if (count_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&count_error));
      return NULL;
    }
  if (!check_count (self, combinations, &total, error) || !expand (self, combinations, total, error))
    return NULL;
  return g_steal_pointer (&self);
}

TakesBatchPlan *
takes_batch_plan_new_from_data (const char *data, gssize length, guint max_variants, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;

  if (length < 0)
    length = strlen (data);
  if ((gsize)length > TAKES_BATCH_PLAN_MAX_FILE_BYTES)
    {
      g_set_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_MALFORMED,
                   _ ("The batch file is larger than %u MiB; split it into smaller batches."),
                   (guint)(TAKES_BATCH_PLAN_MAX_FILE_BYTES / (1024 * 1024)));
      return NULL;
    }
  if (!g_utf8_validate (data, length, NULL))
    {
      g_set_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_MALFORMED,
                   _ ("The batch file is not UTF-8 text; save it as UTF-8 JSON."));
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, length, &local_error))
    {
      g_set_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_MALFORMED,
                   _ ("The batch file is not valid JSON: %s"), local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_MALFORMED,
                   _ ("The batch file must hold one JSON object with a “template”."));
      return NULL;
    }
  return takes_batch_plan_new_from_object (json_node_get_object (root), max_variants, error);
}

TakesBatchPlan *
takes_batch_plan_new_from_file (const char *path, guint max_variants, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInfo) info = NULL;

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, NULL, NULL);
  if (info != NULL && g_file_info_get_size (info) > TAKES_BATCH_PLAN_MAX_FILE_BYTES)
    {
      g_set_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_MALFORMED,
                   _ ("The batch file “%s” is larger than %u MiB; split it into smaller batches."), path,
                   (guint)(TAKES_BATCH_PLAN_MAX_FILE_BYTES / (1024 * 1024)));
      return NULL;
    }
  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, TAKES_BATCH_PLAN_ERROR, TAKES_BATCH_PLAN_ERROR_MALFORMED,
                   _ ("Could not read the batch file: %s"), local_error->message);
      return NULL;
    }
  return takes_batch_plan_new_from_data (contents, length, max_variants, error);
}

const char *
takes_batch_plan_get_name (TakesBatchPlan *self)
{
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), NULL);
  return self->name;
}

TakesTemplate *
takes_batch_plan_get_template (TakesBatchPlan *self)
{
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), NULL);
  return self->template;
}

TakesTemplate *
takes_batch_plan_get_negative (TakesBatchPlan *self)
{
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), NULL);
  return self->negative;
}

TakesBatchMode
takes_batch_plan_get_mode (TakesBatchPlan *self)
{
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), TAKES_BATCH_MODE_CROSS);
  return self->mode;
}

TakesBatchSeedMode
takes_batch_plan_get_seed_mode (TakesBatchPlan *self)
{
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), TAKES_BATCH_SEED_VARY);
  return self->seed_mode;
}

gint64
takes_batch_plan_get_seed_base (TakesBatchPlan *self)
{
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), 0);
  return self->seed_base;
}

gboolean
takes_batch_plan_get_seed_base_given (TakesBatchPlan *self)
{
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), FALSE);
  return self->seed_base_given;
}

guint
takes_batch_plan_get_max_variants (TakesBatchPlan *self)
{
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), 0);
  return self->max_variants;
}

const char *const *
takes_batch_plan_get_variable_names (TakesBatchPlan *self)
{
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), NULL);
  return (const char *const *)self->variable_names->pdata;
}

const char *const *
takes_batch_plan_get_values (TakesBatchPlan *self, const char *name)
{
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), NULL);
  for (guint i = 0; i < self->variables->len; i++)
    {
      const Variable *v = &g_array_index (self->variables, Variable, i);

      if (g_str_equal (v->name, name))
        return (const char *const *)v->values->pdata;
    }
  return NULL;
}

JsonObject *
takes_batch_plan_get_params (TakesBatchPlan *self)
{
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), NULL);
  return self->params;
}

const char *
takes_batch_plan_get_backend (TakesBatchPlan *self)
{
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), NULL);
  return json_object_get_string_member_with_default (self->params, "backend", NULL);
}

const char *
takes_batch_plan_get_model (TakesBatchPlan *self)
{
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), NULL);
  return json_object_get_string_member_with_default (self->params, "model", NULL);
}

void
takes_batch_plan_get_size (TakesBatchPlan *self, guint *width, guint *height)
{
  g_return_if_fail (TAKES_IS_BATCH_PLAN (self));
  if (width != NULL)
    *width = (guint)json_object_get_int_member_with_default (self->params, "width", 0);
  if (height != NULL)
    *height = (guint)json_object_get_int_member_with_default (self->params, "height", 0);
}

double
takes_batch_plan_get_duration (TakesBatchPlan *self)
{
  gint64 frames;
  gint64 fps;

  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), 0.0);
  if (json_object_has_member (self->params, "duration"))
    return json_object_get_double_member (self->params, "duration");
  frames = json_object_get_int_member_with_default (self->params, "frames", 0);
  fps = json_object_get_int_member_with_default (self->params, "fps", 0);
  if (frames > 0 && fps > 0)
    return (double)frames / (double)fps;
  return 0.0;
}

guint
takes_batch_plan_get_n_variants (TakesBatchPlan *self)
{
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), 0);
  return self->variants->len;
}

const TakesBatchVariant *
takes_batch_plan_get_variant (TakesBatchPlan *self, guint index)
{
  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), NULL);
  g_return_val_if_fail (index < self->variants->len, NULL);
  return &g_array_index (self->variants, TakesBatchVariant, index);
}

JsonObject *
takes_batch_plan_get_variant_tags (TakesBatchPlan *self, guint index)
{
  const TakesBatchVariant *v = takes_batch_plan_get_variant (self, index);
  JsonObject *tags = json_object_new ();

  for (guint i = 0; v != NULL && i < self->variables->len; i++)
    json_object_set_string_member (tags, g_array_index (self->variables, Variable, i).name, v->values[i]);
  return tags;
}

JsonObject *
takes_batch_plan_get_variant_recipe (TakesBatchPlan *self, guint index)
{
  const TakesBatchVariant *v = takes_batch_plan_get_variant (self, index);
  JsonObject *recipe;
  g_autoptr (JsonObject) options = json_object_new ();
  JsonObjectIter iter;
  const char *name;
  JsonNode *value;

  g_return_val_if_fail (v != NULL, NULL);

  recipe = json_object_new ();
  json_object_set_string_member (recipe, "prompt", v->prompt);
  json_object_set_string_member (recipe, "negative_prompt", v->negative);
  json_object_set_int_member (recipe, "seed", v->seed);
  json_object_iter_init (&iter, self->params);
  while (json_object_iter_next (&iter, &name, &value))
    {
      if (g_str_equal (name, "duration") || g_str_equal (name, "prompt_extend"))
        json_object_set_member (options, name, json_node_copy (value));
      else
        json_object_set_member (recipe, name, json_node_copy (value));
    }
  if (json_object_get_size (options) > 0)
    json_object_set_object_member (recipe, "options", g_steal_pointer (&options));
  return recipe;
}

const char *
takes_batch_mode_to_string (TakesBatchMode mode)
{
  return mode == TAKES_BATCH_MODE_ZIP ? "zip" : "cross";
}

const char *
takes_batch_seed_mode_to_string (TakesBatchSeedMode mode)
{
  switch (mode)
    {
      case TAKES_BATCH_SEED_FIXED:
        return "fixed";
      case TAKES_BATCH_SEED_LIST:
        return "list";
      case TAKES_BATCH_SEED_VARY:
      default:
        return "vary";
    }
}

JsonNode *
takes_batch_plan_to_json (TakesBatchPlan *self)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  g_return_val_if_fail (TAKES_IS_BATCH_PLAN (self), NULL);

  json_builder_begin_object (b);
  if (self->name != NULL)
    {
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, self->name);
    }
  json_builder_set_member_name (b, "template");
  json_builder_add_string_value (b, takes_template_get_text (self->template));
  if (self->negative != NULL)
    {
      json_builder_set_member_name (b, "negative");
      json_builder_add_string_value (b, takes_template_get_text (self->negative));
    }
  json_builder_set_member_name (b, "mode");
  json_builder_add_string_value (b, takes_batch_mode_to_string (self->mode));

  json_builder_set_member_name (b, "seed");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "mode");
  json_builder_add_string_value (b, takes_batch_seed_mode_to_string (self->seed_mode));
  if (self->seed_mode == TAKES_BATCH_SEED_LIST)
    {
      json_builder_set_member_name (b, "seeds");
      json_builder_begin_array (b);
      for (guint i = 0; i < self->seed_list->len; i++)
        json_builder_add_int_value (b, g_array_index (self->seed_list, gint64, i));
      json_builder_end_array (b);
    }
  else
    {
      json_builder_set_member_name (b, self->seed_mode == TAKES_BATCH_SEED_FIXED ? "seed" : "base");
      json_builder_add_int_value (b, self->seed_base);
      if (self->seed_mode == TAKES_BATCH_SEED_VARY)
        {
          json_builder_set_member_name (b, "base_given");
          json_builder_add_boolean_value (b, self->seed_base_given);
        }
    }
  json_builder_end_object (b);

  json_builder_set_member_name (b, "variables");
  json_builder_begin_object (b);
  for (guint i = 0; i < self->variables->len; i++)
    {
      const Variable *v = &g_array_index (self->variables, Variable, i);

      json_builder_set_member_name (b, v->name);
      json_builder_begin_array (b);
      for (guint k = 0; k + 1 < v->values->len; k++)
        json_builder_add_string_value (b, g_ptr_array_index (v->values, k));
      json_builder_end_array (b);
    }
  json_builder_end_object (b);

  json_builder_set_member_name (b, "params");
  json_builder_add_value (b, json_node_init_object (json_node_alloc (), self->params));

  json_builder_set_member_name (b, "count");
  json_builder_add_int_value (b, self->variants->len);

  json_builder_set_member_name (b, "variants");
  json_builder_begin_array (b);
  for (guint i = 0; i < self->variants->len; i++)
    {
      const TakesBatchVariant *v = &g_array_index (self->variants, TakesBatchVariant, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "index");
      json_builder_add_int_value (b, v->index);
      json_builder_set_member_name (b, "prompt");
      json_builder_add_string_value (b, v->prompt);
      json_builder_set_member_name (b, "negative");
      json_builder_add_string_value (b, v->negative);
      json_builder_set_member_name (b, "seed");
      json_builder_add_int_value (b, v->seed);
      json_builder_set_member_name (b, "values");
      json_builder_begin_object (b);
      for (guint k = 0; k < self->variables->len; k++)
        {
          json_builder_set_member_name (b, g_array_index (self->variables, Variable, k).name);
          json_builder_add_string_value (b, v->values[k]);
        }
      json_builder_end_object (b);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
