/* takes-cli-engine.c: the engine tools of takes-cli.
 *
 *   engine check-golden DIR --out OUTDIR [--require-all] [--json]
 *       run every golden case the engine supports, write the results to
 *       OUTDIR and compare them with the golden outputs; exit 0 only when
 *       nothing fails (and, with --require-all, nothing is skipped)
 */
#include "config.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <stdio.h>

#include "takes-cli.h"

#if TAKES_HAVE_ENGINE

#include "wan-golden.h"

static const char *
status_label (WanGoldenStatus status)
{
  switch (status)
    {
      case WAN_GOLDEN_OK:
        return _ ("ok");
      case WAN_GOLDEN_FAILED:
        return _ ("FAIL");
      case WAN_GOLDEN_SKIPPED:
      default:
        return _ ("skipped");
    }
}

static const char *
status_id (WanGoldenStatus status)
{
  switch (status)
    {
      case WAN_GOLDEN_OK:
        return "ok";
      case WAN_GOLDEN_FAILED:
        return "failed";
      case WAN_GOLDEN_SKIPPED:
      default:
        return "skipped";
    }
}

static char *
format_number (double value)
{
  return isnan (value) ? g_strdup ("-") : g_strdup_printf ("%.3g", value);
}

static void
add_number (JsonBuilder *builder, const char *name, double value)
{
  json_builder_set_member_name (builder, name);
  if (isnan (value))
    json_builder_add_null_value (builder);
  else
    json_builder_add_double_value (builder, value);
}

static void
print_json (const WanGoldenReport *report, gboolean passed)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "passed");
  json_builder_add_boolean_value (builder, passed);
  json_builder_set_member_name (builder, "ok");
  json_builder_add_int_value (builder, report->n_ok);
  json_builder_set_member_name (builder, "failed");
  json_builder_add_int_value (builder, report->n_failed);
  json_builder_set_member_name (builder, "skipped");
  json_builder_add_int_value (builder, report->n_skipped);
  json_builder_set_member_name (builder, "results");
  json_builder_begin_array (builder);
  for (guint i = 0; i < report->results->len; i++)
    {
      const WanGoldenResult *r = g_ptr_array_index (report->results, i);

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "case");
      json_builder_add_string_value (builder, r->case_name);
      json_builder_set_member_name (builder, "tensor");
      if (r->tensor != NULL)
        json_builder_add_string_value (builder, r->tensor);
      else
        json_builder_add_null_value (builder);
      json_builder_set_member_name (builder, "status");
      json_builder_add_string_value (builder, status_id (r->status));
      json_builder_set_member_name (builder, "exact");
      json_builder_add_boolean_value (builder, r->exact);
      add_number (builder, "max_abs", r->max_abs);
      add_number (builder, "tol_max_abs", r->tol_max_abs);
      add_number (builder, "rel_l2", r->rel_l2);
      add_number (builder, "tol_rel_l2", r->tol_rel_l2);
      json_builder_set_member_name (builder, "message");
      if (r->message != NULL)
        json_builder_add_string_value (builder, r->message);
      else
        json_builder_add_null_value (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  json_generator_set_pretty (generator, TRUE);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

static void
print_table (const WanGoldenReport *report)
{
  g_print ("%-16s %-28s %10s %10s %10s %10s  %s\n", _ ("case"), _ ("tensor"), _ ("max_abs"), _ ("tol"),
           _ ("rel_l2"), _ ("tol"), _ ("result"));
  for (guint i = 0; i < report->results->len; i++)
    {
      const WanGoldenResult *r = g_ptr_array_index (report->results, i);
      g_autofree char *max_abs = format_number (r->max_abs);
      g_autofree char *tol_max_abs = format_number (r->tol_max_abs);
      g_autofree char *rel_l2 = format_number (r->rel_l2);
      g_autofree char *tol_rel_l2 = format_number (r->tol_rel_l2);

      g_print ("%-16s %-28s %10s %10s %10s %10s  %s", r->case_name, r->tensor != NULL ? r->tensor : "-",
               max_abs, r->exact ? _ ("exact") : tol_max_abs, rel_l2, r->exact ? _ ("exact") : tol_rel_l2,
               status_label (r->status));
      if (r->message != NULL)
        g_print (" (%s)", r->message);
      g_print ("\n");
    }
  g_print (_ ("%u tensors within tolerance, %u failed, %u cases skipped.\n"), report->n_ok, report->n_failed,
           report->n_skipped);
}

static int
cmd_check_golden (int argc, char **argv)
{
  g_autofree char *out_dir = NULL;
  gboolean require_all = FALSE;
  gboolean json = FALSE;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out_dir, N_ ("Write one result file per case into DIR"),
      N_ ("DIR") },
    { "require-all", 0, 0, G_OPTION_ARG_NONE, &require_all, N_ ("Fail when a case is skipped"), NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_ ("Print the results as JSON"), NULL },
    { NULL },
  };
  g_autoptr (WanGoldenReport) report = NULL;
  g_autoptr (GError) error = NULL;
  gboolean passed;
  int exit_code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse (
          "engine check-golden", "DIR",
          _ ("Run the golden cases in DIR (a folder with manifest.json) and compare the results."), entries,
          &argc, &argv, &exit_code))
    return exit_code;
  if (argc != 2)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("engine check-golden: give exactly one golden folder."));
  if (out_dir == NULL)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("engine check-golden: give a folder for the results with --out OUTDIR."));

  report = wan_golden_check (argv[1], out_dir, &error);
  if (report == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  passed = report->n_failed == 0 && (!require_all || report->n_skipped == 0);
  if (json)
    print_json (report, passed);
  else
    print_table (report);
  if (report->n_failed > 0)
    return takes_cli_fail (TAKES_CLI_EXIT_FAIL,
                           _ ("%u golden tensors are missing or beyond their tolerance."), report->n_failed);
  if (!passed)
    return takes_cli_fail (TAKES_CLI_EXIT_FAIL,
                           _ ("%u golden cases were skipped, and --require-all asks for every case to run."),
                           report->n_skipped);
  return TAKES_CLI_EXIT_OK;
}

int
takes_cli_cmd_engine (int argc, char **argv)
{
  if (argc >= 2 && g_str_equal (argv[1], "check-golden"))
    return cmd_check_golden (argc - 1, argv + 1);
  if (argc >= 2 && (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")))
    {
      g_print ("%s\n\n",
               _ ("Usage: takes-cli engine check-golden DIR --out OUTDIR [--require-all] [--json]"));
      g_print ("%s\n", _ ("Check the local engine against a golden data set."));
      return TAKES_CLI_EXIT_OK;
    }
  return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                         _ ("engine: unknown or missing sub-command; the only one is “check-golden”."));
}

#else

int
takes_cli_cmd_engine (int argc, char **argv)
{
  return takes_cli_fail (
      TAKES_CLI_EXIT_FAIL,
      _ ("This takes-cli was built without the local engine (-Dengine=false), so it cannot run "
         "engine checks. Rebuild with -Dengine=true."));
}

#endif
