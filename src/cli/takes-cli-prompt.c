/* takes-cli-prompt.c: the prompt tools of takes-cli.
 *
 *   batch plan FILE [--json]   expand a batch file without queuing anything
 *   optimize "PROMPT"          offline suggestions, or an LLM rewrite with --llm
 *   safety check "PROMPT"      exit 0 when clean, 1 naming the matched term
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <stdio.h>
#include <unistd.h>

#include "takes-batch-plan.h"
#include "takes-cli.h"
#include "takes-estimate.h"
#include "takes-llm.h"
#include "takes-optimizer.h"
#include "takes-prompt-diff.h"
#include "takes-safety.h"

static void
print_json (JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
}

/* GOption names the program after argv[0], which is the sub-command here;
 * "takes-cli" makes the usage line read as the user types it. */
static void
name_program (void)
{
  if (g_strcmp0 (g_get_prgname (), "takes-cli") != 0)
    g_set_prgname ("takes-cli");
}

static int
unknown_subcommand (const char *group, const char *word, const char *known)
{
  if (word == NULL)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("“%s” needs a sub-command: %s"), group, known);
  return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("“%s %s” is not a command; “%s” knows: %s"), group, word,
                         group, known);
}

/* ------------------------------------------------------------------ batch */

static char *
describe_counts (TakesBatchPlan *plan)
{
  const char *const *names = takes_batch_plan_get_variable_names (plan);
  g_autoptr (GString) out = g_string_new (takes_batch_mode_to_string (takes_batch_plan_get_mode (plan)));

  for (guint i = 0; names[i] != NULL; i++)
    g_string_append_printf (out, "%s%s %u", i == 0 ? ": " : " × ", names[i],
                            g_strv_length ((char **)takes_batch_plan_get_values (plan, names[i])));
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static char *
describe_seeds (TakesBatchPlan *plan)
{
  switch (takes_batch_plan_get_seed_mode (plan))
    {
      case TAKES_BATCH_SEED_FIXED:
        return g_strdup_printf (_ ("every variant with seed %" PRId64),
                                takes_batch_plan_get_seed_base (plan));
      case TAKES_BATCH_SEED_LIST:
        return g_strdup (_ ("each combination with every listed seed"));
      case TAKES_BATCH_SEED_VARY:
      default:
        if (takes_batch_plan_get_seed_base_given (plan))
          return g_strdup_printf (_ ("a seed per variant from base %" PRId64),
                                  takes_batch_plan_get_seed_base (plan));
        return g_strdup_printf (_ ("a seed per variant from base %" PRId64
                                   " (add \"seed_base\": %" PRId64 " to repeat them)"),
                                takes_batch_plan_get_seed_base (plan), takes_batch_plan_get_seed_base (plan));
    }
}

static TakesEstimate *
estimate_plan (TakesBatchPlan *plan, const char *backend, const char *model, GError **error)
{
  g_autoptr (TakesPricing) pricing = takes_pricing_new_default (error);
  guint width = 0;
  guint height = 0;

  if (pricing == NULL)
    return NULL;
  takes_batch_plan_get_size (plan, &width, &height);
  return takes_pricing_estimate (pricing, backend, model, width, height, takes_batch_plan_get_duration (plan),
                                 takes_batch_plan_get_n_variants (plan));
}

static void
print_plan (TakesBatchPlan *plan, const TakesEstimate *est)
{
  const char *const *names = takes_batch_plan_get_variable_names (plan);
  g_autofree char *counts = describe_counts (plan);
  g_autofree char *seeds = describe_seeds (plan);
  g_autofree char *cost = takes_estimate_format_cost (est);
  g_autofree char *time = takes_estimate_format_time (est);
  guint n = takes_batch_plan_get_n_variants (plan);

  if (takes_batch_plan_get_name (plan) != NULL)
    g_print (_ ("Batch “%s”: %u variants (%s)\n"), takes_batch_plan_get_name (plan), n, counts);
  else
    g_print (_ ("Batch: %u variants (%s)\n"), n, counts);
  g_print (_ ("Seeds: %s\n"), seeds);
  g_print (_ ("Backend: %s, model %s, %s, %.1f s of video per take\n"), est->backend,
           est->model != NULL ? est->model : _ ("(default)"), est->tier, est->video_seconds);
  if (est->cost_known && est->currency != NULL)
    g_print (
        _ ("Estimated cost: %s (%u × %.1f s at %.3f %s/s; %s — check current prices before a large run)\n"),
        cost, est->n_takes, est->video_seconds, est->price_per_second, est->currency,
        est->price_source != NULL ? est->price_source : _ ("list price"));
  else if (est->cost_known)
    g_print (_ ("Estimated cost: %s (runs on your own hardware)\n"), cost);
  else
    g_print (_ ("Estimated cost: unknown (no price for this backend and model)\n"));
  if (est->time_known)
    g_print (_ ("Estimated time: %s (a rough estimate, %u at a time)\n"), time, est->concurrency);
  else
    g_print (_ ("Estimated time: unknown (no figures for this backend and model)\n"));
  g_print ("\n");

  for (guint i = 0; i < n; i++)
    {
      const TakesBatchVariant *v = takes_batch_plan_get_variant (plan, i);

      g_print ("#%u  %s %" PRId64, v->index + 1, _ ("seed"), v->seed);
      for (guint k = 0; names[k] != NULL; k++)
        g_print ("  %s=%s", names[k], v->values[k]);
      g_print ("\n    %s\n", v->prompt);
      if (*v->negative != '\0')
        g_print ("    %s %s\n", _ ("negative:"), v->negative);
    }
  g_print ("\n%s\n", _ ("Nothing was queued: this was a dry run."));
}

static int
batch_plan (int argc, char **argv)
{
  gboolean json = FALSE;
  int max = 0;
  g_autofree char *backend = NULL;
  g_autofree char *model = NULL;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the plan and the estimate as JSON"), NULL },
    { "max", 0, 0, G_OPTION_ARG_INT, &max, N_ ("Refuse batches with more variants than N"), N_ ("N") },
    { "backend", 0, 0, G_OPTION_ARG_STRING, &backend, N_ ("Estimate for this backend instead of the file’s"),
      N_ ("ID") },
    { "model", 0, 0, G_OPTION_ARG_STRING, &model, N_ ("Estimate for this model instead of the file’s"),
      N_ ("ID") },
    { NULL },
  };
  int code = TAKES_CLI_EXIT_OK;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBatchPlan) plan = NULL;
  g_autoptr (TakesEstimate) est = NULL;
  const char *use_backend;
  const char *use_model;

  if (!takes_cli_parse (
          "batch plan", _ ("FILE"),
          _ ("Expand a batch file into its prompts and show the count, estimated time and cost, "
             "without queuing anything."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("batch plan: give one batch file"));
  if (max < 0 || max > TAKES_BATCH_PLAN_HARD_MAX_VARIANTS)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("batch plan: --max must be between 1 and %u"),
                           (guint)TAKES_BATCH_PLAN_HARD_MAX_VARIANTS);

  plan = takes_batch_plan_new_from_file (argv[1], (guint)max, &error);
  if (plan == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);

  use_backend = backend != NULL ? backend : takes_batch_plan_get_backend (plan);
  use_model = model != NULL ? model : takes_batch_plan_get_model (plan);
  /* A recipe without a backend runs on the local engine. */
  est = estimate_plan (plan, use_backend != NULL ? use_backend : "local", use_model, &error);
  if (est == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);

  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "plan");
      json_builder_add_value (b, takes_batch_plan_to_json (plan));
      json_builder_set_member_name (b, "estimate");
      json_builder_add_value (b, takes_estimate_to_json (est));
      json_builder_set_member_name (b, "queued");
      json_builder_add_boolean_value (b, FALSE);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      print_json (root);
    }
  else
    print_plan (plan, est);
  return TAKES_CLI_EXIT_OK;
}

int
takes_cli_cmd_batch (int argc, char **argv)
{
  name_program ();
  if (argc >= 2 && g_str_equal (argv[1], "plan"))
    return batch_plan (argc - 1, argv + 1);
  if (argc >= 2 && g_str_equal (argv[1], "run"))
    return takes_cli_batch_run (argc - 1, argv + 1);
  if (argc >= 2 && (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")))
    {
      g_print ("%s\n\n  plan FILE [--json]   %s\n  run FILE [--wait]    %s\n",
               _ ("Usage: takes-cli batch plan|run FILE"),
               _ ("Expand a batch file and show what it would make (a dry run)"),
               _ ("Queue a take per variant, after checking every prompt"));
      return TAKES_CLI_EXIT_OK;
    }
  return unknown_subcommand ("batch", argc >= 2 ? argv[1] : NULL, "plan, run");
}

/* ------------------------------------------------------------------ optimize */

typedef struct
{
  GMainLoop *loop;
  TakesRewrite *rewrite;
  GError *error;
  gboolean show_stream;
} RewriteRun;

static void
delta_cb (const char *delta, gpointer user_data)
{
  RewriteRun *run = user_data;

  if (run->show_stream)
    {
      fputs (delta, stderr);
      fflush (stderr);
    }
}

static void
rewrite_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RewriteRun *run = user_data;

  run->rewrite = takes_llm_client_rewrite_finish (TAKES_LLM_CLIENT (source), result, &run->error);
  g_main_loop_quit (run->loop);
}

static JsonNode *
diff_to_json (GPtrArray *chunks)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_array (b);
  for (guint i = 0; i < chunks->len; i++)
    {
      const TakesDiffChunk *c = g_ptr_array_index (chunks, i);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "op");
      json_builder_add_string_value (b, c->op == TAKES_DIFF_EQUAL    ? "equal"
                                        : c->op == TAKES_DIFF_DELETE ? "delete"
                                                                     : "insert");
      json_builder_set_member_name (b, "text");
      json_builder_add_string_value (b, c->text);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}

static int
optimize_llm (const char *prompt,
              const char *url,
              const char *model,
              int timeout,
              int stall,
              gint64 seed,
              gboolean json)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesLlmClient) client = takes_llm_client_new (url, model, &error);
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GPtrArray) diff = NULL;
  RewriteRun run = { NULL, NULL, NULL, FALSE };

  if (client == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_USAGE, error);
  /* The key comes from the environment: a command-line argument would show
   * in every process listing. */
  takes_llm_client_set_api_key (client, g_getenv ("TAKES_LLM_API_KEY"));
  takes_llm_client_set_timeouts (client, (guint)timeout * 1000, (guint)stall * 1000);

  loop = g_main_loop_new (NULL, FALSE);
  run.loop = loop;
  run.show_stream = !json && isatty (STDERR_FILENO);
  takes_llm_client_rewrite_async (client, prompt, NULL, seed, delta_cb, &run, NULL, NULL, rewrite_done_cb,
                                  &run);
  g_main_loop_run (loop);
  if (run.show_stream)
    fputs ("\n", stderr);

  if (run.rewrite == NULL)
    {
      int code = takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, run.error);

      g_clear_error (&run.error);
      return code;
    }
  diff = takes_prompt_diff (run.rewrite->original, run.rewrite->rewrite);
  if (json)
    {
      g_autoptr (JsonNode) root = takes_rewrite_to_json (run.rewrite);

      json_object_set_member (json_node_get_object (root), "diff", diff_to_json (diff));
      print_json (root);
    }
  else
    {
      g_autofree char *shown = takes_prompt_diff_format (diff);

      g_print ("%s\n", run.rewrite->rewrite);
      if (!run.rewrite->fell_back)
        g_print ("\n%s\n%s\n", _ ("Changes ([-removed-] {+added+}):"), shown);
    }
  if (run.rewrite->fell_back)
    takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, run.rewrite->error);
  {
    int code = run.rewrite->fell_back ? TAKES_CLI_EXIT_FAIL : TAKES_CLI_EXIT_OK;

    takes_rewrite_free (run.rewrite);
    return code;
  }
}

static gboolean
parse_accept (const char *text, guint n, GArray *out, GError **error)
{
  g_auto (GStrv) parts = NULL;

  if (g_str_equal (text, "all"))
    {
      for (guint i = 0; i < n; i++)
        g_array_append_val (out, i);
      return TRUE;
    }
  if (g_str_equal (text, "none"))
    return TRUE;
  parts = g_strsplit (text, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      guint64 number = 0;
      guint index;

      if (!g_ascii_string_to_unsigned (g_strstrip (parts[i]), 10, 1, MAX (n, 1), &number, NULL))
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                       _ ("--accept takes “all”, “none” or suggestion numbers from 1 to %u, like 1,3"), n);
          return FALSE;
        }
      index = (guint)number - 1;
      g_array_append_val (out, index);
    }
  return TRUE;
}

static void
print_analysis (TakesPromptAnalysis *analysis, const char *result)
{
  GPtrArray *facts = takes_prompt_analysis_get_facts (analysis);
  GPtrArray *suggestions = takes_prompt_analysis_get_suggestions (analysis);

  g_print (_ ("Language: %s\n"), takes_prompt_analysis_get_language (analysis));
  g_print ("%s", _ ("Found:"));
  if (facts->len == 0)
    g_print (" %s", _ ("nothing the lexicons know"));
  for (guint i = 0; i < facts->len; i++)
    {
      const TakesPromptFactMatch *f = g_ptr_array_index (facts, i);

      g_print ("%s %s “%s”", i == 0 ? "" : ",", takes_prompt_fact_get_label (f->kind), f->text);
    }
  g_print ("\n");
  if (suggestions->len == 0)
    g_print ("%s\n", _ ("No suggestions: the prompt already states what the rules ask for."));
  else
    g_print ("%s\n", _ ("Suggestions (choose with --accept 1,3 or all):"));
  for (guint i = 0; i < suggestions->len; i++)
    {
      const TakesPromptSuggestion *s = g_ptr_array_index (suggestions, i);

      g_print ("  %u. %s: %s — %s\n", i + 1, takes_prompt_fact_get_label (s->kind), s->text, s->explanation);
    }
  g_print ("%s\n%s\n", _ ("Result:"), result);
}

int
takes_cli_cmd_optimize (int argc, char **argv)
{
  name_program ();
  gboolean json = FALSE;
  gint64 seed = 0;
  int max_settings = -1;
  int timeout = TAKES_LLM_DEFAULT_FIRST_BYTE_TIMEOUT_MS / 1000;
  int stall = TAKES_LLM_DEFAULT_STALL_TIMEOUT_MS / 1000;
  g_autofree char *accept = NULL;
  g_autofree char *llm = NULL;
  g_autofree char *model = NULL;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the result as JSON"), NULL },
    { "seed", 0, 0, G_OPTION_ARG_INT64, &seed,
      N_ ("Pick among equal suggestions with this seed (0: the defaults)"), N_ ("N") },
    { "max-settings", 0, 0, G_OPTION_ARG_INT, &max_settings,
      N_ ("Propose at most N camera and light settings (default 4, 0 for all)"), N_ ("N") },
    { "accept", 0, 0, G_OPTION_ARG_STRING, &accept, N_ ("Apply only these suggestions: all, none, or 1,3,…"),
      N_ ("LIST") },
    { "llm", 0, 0, G_OPTION_ARG_STRING, &llm,
      N_ ("Rewrite with an OpenAI-compatible endpoint instead (API key from TAKES_LLM_API_KEY)"),
      N_ ("URL") },
    { "model", 0, 0, G_OPTION_ARG_STRING, &model, N_ ("Model for --llm"), N_ ("NAME") },
    { "timeout", 0, 0, G_OPTION_ARG_INT, &timeout, N_ ("Seconds to wait for the endpoint to answer"),
      N_ ("S") },
    { "stall-timeout", 0, 0, G_OPTION_ARG_INT, &stall, N_ ("Seconds the stream may pause"), N_ ("S") },
    { NULL },
  };
  int code = TAKES_CLI_EXIT_OK;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesOptimizer) optimizer = NULL;
  g_autoptr (TakesPromptAnalysis) analysis = NULL;
  g_autoptr (GArray) chosen = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autofree char *result = NULL;
  GPtrArray *suggestions;

  if (!takes_cli_parse (
          "optimize", _ ("“PROMPT”"),
          _ ("Show which cinematic facts a prompt states and suggest the missing ones, or rewrite it "
             "with an LLM (--llm)."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2 || *argv[1] == '\0')
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("optimize: give one prompt, in quotes"));
  if (seed < 0)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("optimize: --seed cannot be negative"));
  if (timeout <= 0 || stall <= 0)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("optimize: timeouts must be at least one second"));
  if (!g_utf8_validate (argv[1], -1, NULL))
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("optimize: the prompt is not UTF-8 text"));

  if (llm != NULL)
    return optimize_llm (argv[1], llm, model, timeout, stall, seed, json);
  if (model != NULL)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("optimize: --model needs --llm"));

  optimizer = takes_optimizer_new_default (&error);
  if (optimizer == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  if (max_settings >= 0)
    takes_optimizer_set_max_settings (optimizer, (guint)max_settings);
  analysis = takes_optimizer_analyze (optimizer, argv[1], (guint64)seed);
  suggestions = takes_prompt_analysis_get_suggestions (analysis);
  if (!parse_accept (accept != NULL ? accept : "all", suggestions->len, chosen, &error))
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, "optimize: %s", error->message);
  result = takes_prompt_analysis_apply (analysis, (const guint *)chosen->data, chosen->len);

  if (json)
    {
      g_autoptr (JsonNode) root = takes_prompt_analysis_to_json (analysis);

      json_object_set_string_member (json_node_get_object (root), "result", result);
      print_json (root);
    }
  else
    print_analysis (analysis, result);
  return TAKES_CLI_EXIT_OK;
}

/* ------------------------------------------------------------------ safety */

static int
safety_check (int argc, char **argv)
{
  g_auto (GStrv) lists = NULL;
  gboolean only = FALSE;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "list", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &lists, N_ ("Also use this word list (may be repeated)"),
      N_ ("FILE") },
    { "only", 0, 0, G_OPTION_ARG_NONE, &only, N_ ("Use only the lists given with --list"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the matches as JSON"), NULL },
    { NULL },
  };
  int code = TAKES_CLI_EXIT_OK;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesSafety) safety = NULL;
  g_autoptr (GPtrArray) matches = NULL;

  if (!takes_cli_parse (
          "safety check", _ ("“PROMPT”"),
          _ ("Check a prompt against the safety word lists: exit 0 when it is clean, 1 when a listed "
             "term matches."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("safety check: give one prompt, in quotes"));
  if (only && lists == NULL)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("safety check: --only needs at least one --list"));

  safety = only ? takes_safety_new () : takes_safety_new_default (&error);
  if (safety == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  for (guint i = 0; lists != NULL && lists[i] != NULL; i++)
    if (!takes_safety_load_file (safety, lists[i], &error))
      return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);

  matches = takes_safety_check (safety, argv[1]);
  if (json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "blocked");
      json_builder_add_boolean_value (b, matches->len > 0);
      json_builder_set_member_name (b, "matches");
      json_builder_begin_array (b);
      for (guint i = 0; i < matches->len; i++)
        {
          const TakesSafetyMatch *m = g_ptr_array_index (matches, i);

          json_builder_begin_object (b);
          json_builder_set_member_name (b, "term");
          json_builder_add_string_value (b, m->term);
          json_builder_set_member_name (b, "category");
          json_builder_add_string_value (b, m->category);
          json_builder_set_member_name (b, "reason");
          json_builder_add_string_value (b, m->reason);
          json_builder_set_member_name (b, "matched");
          json_builder_add_string_value (b, m->matched);
          json_builder_set_member_name (b, "start");
          json_builder_add_int_value (b, m->start);
          json_builder_set_member_name (b, "end");
          json_builder_add_int_value (b, m->end);
          json_builder_set_member_name (b, "evasion");
          json_builder_add_boolean_value (b, m->evasion);
          json_builder_set_member_name (b, "source");
          json_builder_add_string_value (b, m->source);
          json_builder_set_member_name (b, "line");
          json_builder_add_int_value (b, m->line);
          json_builder_end_object (b);
        }
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      print_json (root);
    }
  else if (matches->len == 0)
    g_print ("%s\n", _ ("Clean: no listed term matched."));
  else
    for (guint i = 0; i < matches->len; i++)
      {
        const TakesSafetyMatch *m = g_ptr_array_index (matches, i);
        g_autofree char *described = takes_safety_match_describe (m);
        g_autofree char *base = g_path_get_basename (m->source);

        g_print (_ ("Blocked: %s (%s, line %u)\n"), described, base, m->line);
      }
  return matches->len == 0 ? TAKES_CLI_EXIT_OK : TAKES_CLI_EXIT_FAIL;
}

int
takes_cli_cmd_safety (int argc, char **argv)
{
  name_program ();
  if (argc >= 2 && g_str_equal (argv[1], "check"))
    return safety_check (argc - 1, argv + 1);
  if (argc >= 2 && (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")))
    {
      g_print ("%s\n\n  check [--list FILE] \"PROMPT\"   %s\n",
               _ ("Usage: takes-cli safety check \"PROMPT\""),
               _ ("Exit 0 when the prompt is clean, 1 naming the matched term"));
      return TAKES_CLI_EXIT_OK;
    }
  return unknown_subcommand ("safety", argc >= 2 ? argv[1] : NULL, "check");
}
