/* takes-cli.c: the command table and the shared helpers of takes-cli. */
#include "config.h"

#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>

#include "takes-cli.h"

/* One line per top-level word; keep it in the order the help shows. */
static const TakesCliCommand commands[] = {
  { "init", N_("Create the library, or check that it opens"), takes_cli_cmd_init },
  { "generate", N_("Make a take from a prompt (queues it, then waits for it)"), takes_cli_cmd_generate },
  { "queue", N_("List, pause, resume, cancel, retry or reorder queued takes"), takes_cli_cmd_queue },
  { "backends", N_("List the backends and check that they can be reached"), takes_cli_cmd_backends },
  { "ledger", N_("Show what generation cost, and set a project’s budget"), takes_cli_cmd_ledger },
  { "import", N_("Add a video file to the library as a take"), takes_cli_cmd_import },
  { "list", N_("List takes with filters, newest first"), takes_cli_cmd_list },
  { "show", N_("Show one take with its recipe and lineage"), takes_cli_cmd_show },
  { "tag", N_("Add or remove tags of a take"), takes_cli_cmd_tag },
  { "rate", N_("Rate a take from 0 to 5 stars"), takes_cli_cmd_rate },
  { "decide", N_("Approve or reject a take"), takes_cli_cmd_decide },
  { "note", N_("Write the notes of a take"), takes_cli_cmd_note },
  { "delete", N_("Delete takes; their videos go to the trash"), takes_cli_cmd_delete },
  { "export", N_("Copy takes' videos out with a JSON sidecar each"), takes_cli_cmd_export },
  { "compare", N_("Show how two takes differ, or render them side by side"), takes_cli_cmd_compare },
  { "vote", N_("Record which of two takes is better (a, b or tie)"), takes_cli_cmd_vote },
  { "rank", N_("Rank a batch's takes from the verdicts, or name the next pair to judge"), takes_cli_cmd_rank },
  { "storyboard", N_("Plan shots, choose takes and export the animatic, EDL or XML"), takes_cli_cmd_storyboard },
  { "contact-sheet", N_("Lay takes out on a PNG or PDF sheet with frame, prompt and verdicts"), takes_cli_cmd_contact_sheet },
  { "package", N_("Copy the approved takes out with a CSV and JSON of their recipes"), takes_cli_cmd_package },
  { "db", N_("Check the library (db check)"), takes_cli_cmd_db },
  { "batch", N_("Plan a batch of variants from a template, or queue it (batch plan|run)"), takes_cli_cmd_batch },
  { "optimize", N_("Suggest what a prompt is missing, or rewrite it with an LLM"), takes_cli_cmd_optimize },
  { "safety", N_("Check a prompt against the safety word lists"), takes_cli_cmd_safety },
  { "models", N_("Check the model files in a folder (models scan DIR)"), takes_cli_cmd_models },
  { "model", N_("Make a tiny test model set (model make-tiny DIR)"), takes_cli_cmd_model },
  { "engine", N_("Check the local engine against a golden data set (engine check-golden DIR)"), takes_cli_cmd_engine },
  { "version", N_("Print the version"), takes_cli_cmd_version },
};

const TakesCliCommand *
takes_cli_commands (guint *n_commands)
{
  *n_commands = G_N_ELEMENTS (commands);
  return commands;
}

int
takes_cli_fail (int code, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("takes-cli: %s\n", message);
  return code;
}

int
takes_cli_fail_error (int code, const GError *error)
{
  return takes_cli_fail (code, "%s", error->message);
}

TakesStore *
takes_cli_open_store (TakesStoreOpenFlags flags, int *exit_code)
{
  g_autoptr (GError) error = NULL;
  TakesStore *store = takes_store_open (NULL, flags, &error);

  if (store == NULL)
    *exit_code = takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  return store;
}

gboolean
takes_cli_parse (const char   *command,
                 const char   *parameter_string,
                 const char   *summary,
                 GOptionEntry *entries,
                 int          *argc,
                 char       ***argv,
                 int          *exit_code)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *title = g_strdup_printf ("%s %s", command, parameter_string ? parameter_string : "");

  context = g_option_context_new (title);
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  if (summary != NULL)
    g_option_context_set_summary (context, summary);
  if (entries != NULL)
    g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *exit_code = takes_cli_fail (TAKES_CLI_EXIT_USAGE, "%s: %s", command, error->message);
      return FALSE;
    }
  return TRUE;
}

int
takes_cli_cmd_version (int argc, char **argv)
{
  g_print ("takes-cli %s\n", PACKAGE_VERSION);
  return TAKES_CLI_EXIT_OK;
}

static void
print_usage (FILE *out)
{
  guint n = 0;
  const TakesCliCommand *table = takes_cli_commands (&n);

  fprintf (out, "%s\n\n", _("Usage: takes-cli COMMAND [OPTIONS…]"));
  fprintf (out, "%s\n\n", _("Make, keep and compare short AI video takes from a terminal."));
  fprintf (out, "%s\n", _("Commands:"));
  for (guint i = 0; i < n; i++)
    fprintf (out, "  %-14s %s\n", table[i].name, _(table[i].summary));
  fprintf (out, "\n%s\n", _("Run “takes-cli COMMAND --help” for the options of one command."));
}

int
takes_cli_main (int argc, char **argv)
{
  guint n = 0;
  const TakesCliCommand *table = takes_cli_commands (&n);

  g_set_prgname ("takes-cli");
  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  if (argc < 2 || g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h") ||
      g_str_equal (argv[1], "help"))
    {
      print_usage (argc < 2 ? stderr : stdout);
      return argc < 2 ? TAKES_CLI_EXIT_USAGE : TAKES_CLI_EXIT_OK;
    }
  if (g_str_equal (argv[1], "--version"))
    return takes_cli_cmd_version (argc - 1, argv + 1);

  for (guint i = 0; i < n; i++)
    if (g_str_equal (argv[1], table[i].name))
      return table[i].run (argc - 1, argv + 1);

  return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                         _("unknown command “%s”; run “takes-cli --help” for the list"), argv[1]);
}
