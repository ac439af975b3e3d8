/* libFuzzer target for the template syntax and the batch files around it.
 *
 * The first byte picks the parser: even for a bare template, odd for a batch
 * file. Beyond "no crash, no leak, no warning", it checks what must always
 * hold: an escaped text parses with no variables and expands to itself, and a
 * template's expansion has the length it predicts.
 */
#include "config.h"

#include <string.h>

#include "takes-batch-plan.h"
#include "takes-template.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

static void
check_template (const char *text)
{
  g_autoptr (TakesTemplate) t = takes_template_new (text, NULL, NULL);
  g_autofree char *escaped = NULL;
  g_autoptr (TakesTemplate) literal = NULL;
  g_autofree char *round_trip = NULL;

  if (t != NULL)
    {
      guint n = takes_template_get_n_variables (t);
      g_autofree const char **values = g_new0 (const char *, n + 1);
      g_autofree gsize *lengths = g_new0 (gsize, n + 1);
      g_autofree char *expanded = NULL;

      for (guint i = 0; i < n; i++)
        {
          values[i] = i % 2 == 0 ? "{value}" : "";
          lengths[i] = strlen (values[i]);
          if (takes_template_find_variable (t, takes_template_get_variables (t)[i]) != (int)i)
            __builtin_trap ();
        }
      expanded = takes_template_expand_indexed (t, values);
      if (strlen (expanded) != takes_template_expanded_length (t, lengths))
        __builtin_trap ();
    }

  if (!g_utf8_validate (text, -1, NULL) || strlen (text) > TAKES_TEMPLATE_MAX_LENGTH / 2)
    return;
  escaped = takes_template_escape (text);
  literal = takes_template_new (escaped, NULL, NULL);
  if (literal == NULL || takes_template_get_n_variables (literal) != 0)
    __builtin_trap ();
  round_trip = takes_template_expand (literal, NULL, NULL);
  if (round_trip == NULL || strcmp (round_trip, text) != 0)
    __builtin_trap ();
}

static void
check_batch (const char *text, gsize length)
{
  g_autoptr (TakesBatchPlan) plan = takes_batch_plan_new_from_data (text, length, 200, NULL);

  if (plan == NULL)
    return;
  if (takes_batch_plan_get_n_variants (plan) == 0 || takes_batch_plan_get_n_variants (plan) > 200)
    __builtin_trap ();
  for (guint i = 0; i < takes_batch_plan_get_n_variants (plan); i++)
    {
      const TakesBatchVariant *v = takes_batch_plan_get_variant (plan, i);

      if (v->index != i || v->prompt == NULL || v->seed < 0 || v->seed > TAKES_BATCH_PLAN_MAX_SEED)
        __builtin_trap ();
    }
  json_node_unref (takes_batch_plan_to_json (plan));
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autofree char *text = NULL;

  if (size == 0)
    return 0;
  text = g_strndup ((const char *)data + 1, size - 1);
  if (data[0] % 2 == 0)
    check_template (text);
  else
    check_batch (text, strlen (text));
  return 0;
}
