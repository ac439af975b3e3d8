/* takes-cli-export-review.c: what a review hands on to other people.
 *
 *   contact-sheet ID… --out FILE.png|FILE.pdf [--columns N] [--title TEXT]
 *                          the takes on one sheet: middle frame, prompt,
 *                          seed, model, rating, decision and verdicts
 *   package [--project P] --out DIR [--overwrite]
 *                          the approved takes' videos with takes.csv and
 *                          takes.json of their recipes and variables
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>

#include "takes-cli.h"
#include "takes-review-export.h"

/* contact-sheet ------------------------------------------------------------ */

int
takes_cli_cmd_contact_sheet (int argc, char **argv)
{
  g_autofree char *out = NULL;
  g_autofree char *title = NULL;
  int columns = 0;
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, N_ ("Write the sheet here; .png or .pdf"), N_ ("FILE") },
    { "columns", 0, 0, G_OPTION_ARG_INT, &columns, N_ ("Takes across (default 4)"), N_ ("N") },
    { "title", 0, 0, G_OPTION_ARG_STRING, &title, N_ ("The title line (default: the project names)"),
      N_ ("TEXT") },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  g_autoptr (GError) error = NULL;
  TakesContactSheetOptions options;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("contact-sheet", "ID…",
                        _ ("Lay takes out on one PNG or PDF with their frame, prompt, seed and verdicts"),
                        entries, &argc, &argv, &code))
    return code;
  if (argc < 2)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("contact-sheet needs at least one take number"));
  if (out == NULL)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("contact-sheet needs --out FILE.png or --out FILE.pdf"));
  takes_contact_sheet_options_init (&options);
  if (columns != 0)
    {
      if (columns < 1 || columns > TAKES_CONTACT_SHEET_MAX_COLUMNS)
        return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("--columns must be from 1 to %d"),
                               TAKES_CONTACT_SHEET_MAX_COLUMNS);
      options.columns = (guint)columns;
    }
  options.title = title;
  for (int i = 1; i < argc; i++)
    {
      guint64 value = 0;
      gint64 id;

      if (!g_ascii_string_to_unsigned (argv[i], 10, 1, G_MAXINT64, &value, NULL))
        return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                               _ ("“%s” is not a take number; give whole numbers such as 12"), argv[i]);
      id = (gint64)value;
      g_array_append_val (ids, id);
    }
  if ((store = takes_cli_open_store (TAKES_STORE_OPEN_EXISTING | TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, &code))
      == NULL)
    return code;
  if (!takes_contact_sheet_write (store, (const gint64 *)(gpointer)ids->data, ids->len, out, &options, NULL,
                                  &error))
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);

  /* The sheet marks these cells grey; say so here too, since nobody may
   * open the file before sending it. */
  for (guint i = 0; i < ids->len; i++)
    {
      g_autoptr (TakesTake) take = takes_store_get_take (store, g_array_index (ids, gint64, i), NULL);
      g_autofree char *media = take != NULL ? takes_store_get_media_file (store, take) : NULL;
      g_autofree char *warning = NULL;
      gint64 id = g_array_index (ids, gint64, i);

      if (media == NULL)
        warning = g_strdup_printf (_ ("Take %" PRId64 " has no video; its cell is grey."), id);
      else if (!g_file_test (media, G_FILE_TEST_IS_REGULAR))
        warning = g_strdup_printf (_ ("The video of take %" PRId64 " is missing; its cell is grey."), id);
      if (warning != NULL)
        g_printerr ("takes-cli: %s %s\n", _ ("warning:"), warning);
    }
  g_print (ngettext ("Wrote %s with %u take.\n", "Wrote %s with %u takes.\n", ids->len), out, ids->len);
  return TAKES_CLI_EXIT_OK;
}

/* package ------------------------------------------------------------------ */

int
takes_cli_cmd_package (int argc, char **argv)
{
  g_autofree char *project_name = NULL;
  g_autofree char *out = NULL;
  gboolean overwrite = FALSE;
  GOptionEntry entries[] = {
    { "project", 0, 0, G_OPTION_ARG_STRING, &project_name, N_ ("The project (default: the default project)"),
      N_ ("PROJECT") },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &out, N_ ("The package folder; new or empty"), N_ ("DIR") },
    { "overwrite", 0, 0, G_OPTION_ARG_NONE, &overwrite,
      N_ ("Use a folder that is not empty, replacing files of the same names"), NULL },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesProject) project = NULL;
  g_autoptr (TakesCampaignPackage) package = NULL;
  g_autoptr (GError) error = NULL;
  TakesCampaignPackageOptions options;
  gint64 project_id = 0;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("package", NULL,
                        _ ("Copy the approved takes' videos out with a CSV and JSON of their recipes"),
                        entries, &argc, &argv, &code))
    return code;
  if (argc != 1)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("package takes no arguments besides its options"));
  if (out == NULL)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("package needs --out DIR"));
  if ((store = takes_cli_open_store (TAKES_STORE_OPEN_EXISTING | TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, &code))
      == NULL)
    return code;
  if (project_name != NULL)
    {
      project = takes_store_find_project (store, project_name, &error);
      if (project == NULL)
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      project_id = project->id;
    }
  takes_campaign_package_options_init (&options);
  options.overwrite = overwrite;
  package = takes_campaign_package_write (store, project_id, out, &options, NULL, &error);
  if (package == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  for (guint i = 0; i < package->skipped->len; i++)
    {
      const TakesCampaignSkip *skip = g_ptr_array_index (package->skipped, i);

      g_printerr ("takes-cli: %s ", _ ("warning:"));
      g_printerr (_ ("take %" PRId64 " left out: %s"), skip->take_id, skip->reason);
      g_printerr ("\n");
    }
  for (guint i = 0; i < package->files->len; i++)
    g_print ("%s\n", (const char *)g_ptr_array_index (package->files, i));
  g_print (ngettext ("Packaged %u approved take in %s.\n", "Packaged %u approved takes in %s.\n",
                     package->n_videos),
           package->n_videos, out);
  return TAKES_CLI_EXIT_OK;
}
