/* takes-cli-review.c: comparing takes, verdicts, rankings and the storyboard.
 *
 *   compare A B [--mode sbs|wipe|diff|toggle] [--render OUT.mp4]
 *                                        recipe differences; renders the comparison
 *   vote A B a|b|tie [--note TEXT]       records a verdict
 *   rank BATCH [--next]                  the batch's takes ranked, with confidence
 *   storyboard list [--project P]
 *   storyboard add-shot TITLE [--prompt TEXT] [--duration SECONDS] [--project P]
 *   storyboard pick SHOT TAKE [--in SECONDS] [--out SECONDS]
 *   storyboard export [--mp4 OUT] [--edl OUT] [--fcpxml OUT] [--no-slate] [--project P]
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "takes-cli.h"
#include "takes-compare.h"
#include "takes-store-review.h"
#include "takes-storyboard.h"

/* The confidence `rank --next` aims for between neighbours. */
#define NEXT_PAIR_CONFIDENCE 0.9

typedef enum
{
  ID_TAKE,
  ID_SHOT,
  ID_BATCH,
} IdKind;

static gboolean
parse_id (const char *text, IdKind kind, gint64 *id, int *exit_code)
{
  guint64 value = 0;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64, &value, NULL))
    {
      const char *shown = text != NULL ? text : "";

      /* One whole message per kind, so each can be translated as a sentence. */
      switch (kind)
        {
          case ID_TAKE:
            *exit_code = takes_cli_fail (
                TAKES_CLI_EXIT_USAGE, _ ("“%s” is not a take number; give a whole number such as 12"), shown);
            break;
          case ID_SHOT:
            *exit_code = takes_cli_fail (
                TAKES_CLI_EXIT_USAGE, _ ("“%s” is not a shot number; give a whole number such as 12"), shown);
            break;
          case ID_BATCH:
          default:
            *exit_code
                = takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                                  _ ("“%s” is not a batch number; give a whole number such as 12"), shown);
            break;
        }
      return FALSE;
    }
  *id = (gint64)value;
  return TRUE;
}

static gboolean
parse_seconds (const char *text, gint64 *us, int *exit_code)
{
  char *end = NULL;
  double seconds;

  if (text == NULL)
    return TRUE;
  seconds = g_ascii_strtod (text, &end);
  if (end == text || *end != '\0' || !isfinite (seconds) || seconds < 0 || seconds > 24 * 3600)
    {
      *exit_code
          = takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("“%s” is not a time; give seconds such as 1.5"), text);
      return FALSE;
    }
  *us = (gint64)llround (seconds * G_USEC_PER_SEC);
  return TRUE;
}

static gint64
find_project (TakesStore *store, const char *name, int *exit_code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesProject) project = NULL;

  if (name == NULL)
    return takes_store_get_default_project (store);
  project = takes_store_find_project (store, name, &error);
  if (project == NULL)
    {
      *exit_code = takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      return 0;
    }
  return project->id;
}

/* compare ------------------------------------------------------------------ */

int
takes_cli_cmd_compare (int argc, char **argv)
{
  g_autofree char *mode_text = NULL;
  g_autofree char *render = NULL;
  double split = 0.5;
  GOptionEntry entries[] = {
    { "mode", 0, 0, G_OPTION_ARG_STRING, &mode_text, N_ ("sbs (default), wipe, diff or toggle"),
      N_ ("MODE") },
    { "split", 0, 0, G_OPTION_ARG_DOUBLE, &split, N_ ("Where a wipe divides the picture, 0 to 1"),
      N_ ("FRACTION") },
    { "render", 0, 0, G_OPTION_ARG_FILENAME, &render, N_ ("Render the comparison to this MP4"),
      N_ ("OUT.mp4") },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesTake) a = NULL;
  g_autoptr (TakesTake) b = NULL;
  g_autoptr (GPtrArray) changes = NULL;
  g_autoptr (GError) error = NULL;
  TakesCompareOptions options;
  gint64 id_a, id_b;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("compare", "A B", _ ("Show how two takes differ, or render them side by side"),
                        entries, &argc, &argv, &code))
    return code;
  if (argc != 3)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("compare needs two take numbers, A and B"));
  takes_compare_options_init (&options);
  if (mode_text != NULL && !takes_compare_mode_from_string (mode_text, &options.mode))
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("“%s” is not a compare mode; use sbs, wipe, diff or toggle"), mode_text);
  options.split = split;
  if (!parse_id (argv[1], ID_TAKE, &id_a, &code) || !parse_id (argv[2], ID_TAKE, &id_b, &code)
      || (store = takes_cli_open_store (TAKES_STORE_OPEN_EXISTING | TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, &code))
             == NULL)
    return code;
  if ((a = takes_store_get_take (store, id_a, &error)) == NULL
      || (b = takes_store_get_take (store, id_b, &error)) == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);

  changes = takes_recipe_diff (takes_take_get_recipe (a), takes_take_get_recipe (b));
  if (changes->len == 0)
    g_print ("%s\n", _ ("The recipes are the same."));
  for (guint i = 0; i < changes->len; i++)
    {
      const TakesRecipeChange *c = g_ptr_array_index (changes, i);

      g_print ("%s: %s → %s\n", c->field, c->value_a != NULL ? c->value_a : "—",
               c->value_b != NULL ? c->value_b : "—");
    }

  if (render != NULL)
    {
      g_autofree char *path_a = takes_store_get_media_file (store, a);
      g_autofree char *path_b = takes_store_get_media_file (store, b);
      const char *paths[2] = { path_a, path_b };
      g_autoptr (TakesCompareLayout) layout = NULL;

      if (path_a == NULL || path_b == NULL)
        return takes_cli_fail (TAKES_CLI_EXIT_FAIL,
                               _ ("Take %" PRId64 " has no video yet, so it cannot be rendered."),
                               path_a == NULL ? id_a : id_b);
      if (!takes_compare_render (paths, 2, &options, render, &layout, &error))
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      g_print (_ ("Wrote %s (%d×%d, %s).\n"), render, layout->width, layout->height,
               takes_compare_mode_to_string (options.mode));
      if (layout->note != NULL)
        g_print ("%s\n", layout->note);
    }
  return TAKES_CLI_EXIT_OK;
}

/* vote ------------------------------------------------------------------- */

int
takes_cli_cmd_vote (int argc, char **argv)
{
  g_autofree char *note = NULL;
  GOptionEntry entries[] = {
    { "note", 0, 0, G_OPTION_ARG_STRING, &note, N_ ("Why, in a few words"), N_ ("TEXT") },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesComparison) comparison = NULL;
  g_autoptr (GError) error = NULL;
  TakesVerdict verdict;
  gint64 a, b;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("vote", "A B a|b|tie", _ ("Record which of two takes is better"), entries, &argc,
                        &argv, &code))
    return code;
  if (argc != 4)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("vote needs two take numbers and a verdict: a, b or tie"));
  if (!takes_verdict_from_string (argv[3], &verdict))
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("“%s” is not a verdict; use a, b or tie"), argv[3]);
  if (!parse_id (argv[1], ID_TAKE, &a, &code) || !parse_id (argv[2], ID_TAKE, &b, &code)
      || (store = takes_cli_open_store (TAKES_STORE_OPEN_EXISTING | TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, &code))
             == NULL)
    return code;
  comparison = takes_store_add_comparison (store, a, b, verdict, note, &error);
  if (comparison == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  if (verdict == TAKES_VERDICT_TIE)
    g_print (_ ("Recorded a tie between takes %" PRId64 " and %" PRId64 ".\n"), a, b);
  else
    g_print (_ ("Recorded: take %" PRId64 " wins over take %" PRId64 ".\n"), comparison->winner_id,
             comparison->winner_id == a ? b : a);
  return TAKES_CLI_EXIT_OK;
}

/* rank -------------------------------------------------------------------- */

int
takes_cli_cmd_rank (int argc, char **argv)
{
  gboolean next = FALSE;
  GOptionEntry entries[] = {
    { "next", 0, 0, G_OPTION_ARG_NONE, &next, N_ ("Print the pair whose verdict would teach the most"),
      NULL },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesRanking) ranking = NULL;
  g_autoptr (GArray) ids = NULL;
  g_autoptr (GArray) entries_out = NULL;
  g_autoptr (GError) error = NULL;
  gint64 batch;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("rank", "BATCH", _ ("Rank a batch's takes from the verdicts so far"), entries, &argc,
                        &argv, &code))
    return code;
  if (argc != 2)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("rank needs a batch number"));
  if (!parse_id (argv[1], ID_BATCH, &batch, &code)
      || (store = takes_cli_open_store (TAKES_STORE_OPEN_EXISTING | TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, &code))
             == NULL)
    return code;
  ranking = takes_store_rank_batch (store, batch, &ids, &error);
  if (ranking == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  if (ids->len < 2)
    return takes_cli_fail (TAKES_CLI_EXIT_FAIL,
                           _ ("Batch %" PRId64 " has fewer than two finished takes to rank."), batch);

  if (next)
    {
      guint a, b;

      if (!takes_ranking_next_pair (ranking, NEXT_PAIR_CONFIDENCE, &a, &b))
        {
          g_print ("%s\n", _ ("The order is settled; no comparison is needed."));
          return TAKES_CLI_EXIT_OK;
        }
      g_print ("%" PRId64 " %" PRId64 "\n", g_array_index (ids, gint64, a), g_array_index (ids, gint64, b));
      return TAKES_CLI_EXIT_OK;
    }

  entries_out = takes_ranking_get_entries (ranking);
  /* TRANSLATORS: column heads of the ranking table */
  g_print ("%-5s %-6s %7s %6s %6s %11s\n", _ ("Rank"), _ ("Take"), _ ("Score"), _ ("±"), _ ("Votes"),
           _ ("Above next"));
  for (guint i = 0; i < entries_out->len; i++)
    {
      const TakesRankingEntry *e = &g_array_index (entries_out, TakesRankingEntry, i);
      g_autofree char *confidence
          = i + 1 < entries_out->len ? g_strdup_printf ("%.0f%%", e->confidence * 100.0) : g_strdup ("—");

      g_print ("%-5u %-6" PRId64 " %+7.2f %6.2f %6u %11s\n", e->rank, g_array_index (ids, gint64, e->item),
               e->score, e->std_error, e->n_comparisons, confidence);
    }
  g_print (_ ("%u verdicts.\n"), takes_ranking_get_n_verdicts (ranking));
  return TAKES_CLI_EXIT_OK;
}

/* storyboard --------------------------------------------------------------- */

static int
storyboard_list (TakesStore *store, gint64 project)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) shots = takes_storyboard_load (store, project, &error);

  if (shots == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  for (guint i = 0; i < shots->len; i++)
    {
      const TakesStoryboardShot *s = g_ptr_array_index (shots, i);
      g_autofree char *take = s->take_id > 0 ? g_strdup_printf ("%" PRId64, s->take_id) : g_strdup ("—");

      g_print ("%u\t%s %" PRId64 "\t%s %s\t%.2fs\t%s\n", s->number, _ ("shot"), s->shot_id, _ ("take"), take,
               (double)s->duration / G_USEC_PER_SEC, s->title);
    }
  return TAKES_CLI_EXIT_OK;
}

static int
storyboard_export (TakesStore *store,
                   gint64 project,
                   const char *mp4,
                   const char *edl,
                   const char *fcpxml,
                   gboolean no_slate)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) shots = takes_storyboard_load (store, project, &error);
  g_autoptr (GPtrArray) warnings = g_ptr_array_new_with_free_func ((GDestroyNotify)g_error_free);
  TakesStoryboardOptions options;

  if (shots == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  if (mp4 == NULL && edl == NULL && fcpxml == NULL)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("storyboard export needs --mp4, --edl or --fcpxml"));
  takes_storyboard_options_init (&options);
  options.slate = !no_slate;
  if ((mp4 != NULL && !takes_storyboard_export_mp4 (shots, &options, mp4, warnings, &error))
      || (edl != NULL
          && !takes_storyboard_export_edl (shots, &options, edl, mp4 == NULL ? warnings : NULL, &error))
      || (fcpxml != NULL
          && !takes_storyboard_export_fcpxml (shots, &options, fcpxml,
                                              mp4 == NULL && edl == NULL ? warnings : NULL, &error)))
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  for (guint i = 0; i < warnings->len; i++)
    g_printerr ("takes-cli: %s %s\n", _ ("warning:"), ((GError *)g_ptr_array_index (warnings, i))->message);
  g_print (_ ("Exported %u shots.\n"), shots->len);
  return TAKES_CLI_EXIT_OK;
}

int
takes_cli_cmd_storyboard (int argc, char **argv)
{
  g_autofree char *project_name = NULL;
  g_autofree char *prompt = NULL;
  g_autofree char *duration = NULL;
  g_autofree char *in_text = NULL;
  g_autofree char *out_text = NULL;
  g_autofree char *mp4 = NULL;
  g_autofree char *edl = NULL;
  g_autofree char *fcpxml = NULL;
  gboolean no_slate = FALSE;
  GOptionEntry entries[] = {
    { "project", 0, 0, G_OPTION_ARG_STRING, &project_name, N_ ("The project (default: the default project)"),
      N_ ("PROJECT") },
    { "prompt", 0, 0, G_OPTION_ARG_STRING, &prompt, N_ ("add-shot: the shot's prompt"), N_ ("TEXT") },
    { "duration", 0, 0, G_OPTION_ARG_STRING, &duration, N_ ("add-shot: the planned length"), N_ ("SECONDS") },
    { "in", 0, 0, G_OPTION_ARG_STRING, &in_text, N_ ("pick: where the shot starts in the take"),
      N_ ("SECONDS") },
    { "out", 0, 0, G_OPTION_ARG_STRING, &out_text, N_ ("pick: where the shot ends in the take"),
      N_ ("SECONDS") },
    { "mp4", 0, 0, G_OPTION_ARG_FILENAME, &mp4, N_ ("export: the animatic"), N_ ("OUT.mp4") },
    { "edl", 0, 0, G_OPTION_ARG_FILENAME, &edl, N_ ("export: a CMX3600 edit list"), N_ ("OUT.edl") },
    { "fcpxml", 0, 0, G_OPTION_ARG_FILENAME, &fcpxml, N_ ("export: Final Cut Pro 7 XML"), N_ ("OUT.xml") },
    { "no-slate", 0, 0, G_OPTION_ARG_NONE, &no_slate, N_ ("export: no shot number and title on the picture"),
      NULL },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (GError) error = NULL;
  gint64 project;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("storyboard", "list|add-shot|pick|export",
                        _ ("Plan shots, choose takes, export the animatic"), entries, &argc, &argv, &code))
    return code;
  if (argc < 2)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("storyboard needs list, add-shot, pick or export"));
  if ((store = takes_cli_open_store (TAKES_STORE_OPEN_EXISTING | TAKES_STORE_OPEN_SKIP_MEDIA_CHECK, &code))
      == NULL)
    return code;
  project = find_project (store, project_name, &code);
  if (project == 0)
    return code;

  if (g_str_equal (argv[1], "list"))
    return storyboard_list (store, project);
  if (g_str_equal (argv[1], "export"))
    return storyboard_export (store, project, mp4, edl, fcpxml, no_slate);
  if (g_str_equal (argv[1], "add-shot"))
    {
      g_autoptr (TakesShot) shot = NULL;
      gint64 us = 0;

      if (argc != 3)
        return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("storyboard add-shot needs a title"));
      if (!parse_seconds (duration, &us, &code))
        return code;
      shot = takes_store_create_shot (store, project, argv[2], prompt, &error);
      if (shot == NULL
          || (us > 0 && !takes_store_update_shot (store, shot->id, NULL, NULL, NULL, us, &error)))
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      g_print (_ ("Added shot %" PRId64 " at position %u.\n"), shot->id, shot->position);
      return TAKES_CLI_EXIT_OK;
    }
  if (g_str_equal (argv[1], "pick"))
    {
      TakesShotTrim trim = { 0, 0 };
      gint64 shot, take;

      if (argc != 4)
        return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                               _ ("storyboard pick needs a shot number and a take number"));
      if (!parse_id (argv[2], ID_SHOT, &shot, &code) || !parse_id (argv[3], ID_TAKE, &take, &code)
          || !parse_seconds (in_text, &trim.in_point, &code)
          || !parse_seconds (out_text, &trim.out_point, &code))
        return code;
      if (!takes_store_pick_shot_take (store, shot, take, &error)
          || ((in_text != NULL || out_text != NULL)
              && !takes_store_set_shot_trim (store, shot, &trim, &error)))
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      g_print (_ ("Shot %" PRId64 " now uses take %" PRId64 ".\n"), shot, take);
      return TAKES_CLI_EXIT_OK;
    }
  return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                         _ ("“%s” is not a storyboard command; use list, add-shot, pick or export"), argv[1]);
}
