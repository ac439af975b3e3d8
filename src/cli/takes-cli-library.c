/* takes-cli-library.c: the library commands of takes-cli.
 *
 *   init                                 create (or check) the library
 *   import FILE [--prompt TEXT] [--recipe JSON] …   add a video file as a take
 *   list [filters] [--json]              takes, newest first
 *   show ID [--json]                     one take with its recipe and lineage
 *   tag ID TAG… [--remove]               add or remove tags
 *   rate ID 0-5                          stars
 *   decide ID approve|reject|undecided   the verdict on a take
 *   note ID TEXT [--append]              free-form notes
 *   delete ID…                           rows go, videos go to the trash
 *   export (ID…|--project P) --to DIR    video plus a JSON sidecar per take
 *   db check [--json]                    integrity and file report
 */
#include "config.h"

#include <inttypes.h>

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "takes-cli.h"
#include "takes-media.h"
#include "takes-paths.h"
#include "takes-store.h"

#define DEFAULT_LIST_LIMIT 50
#define PROMPT_COLUMN 48

/* Helpers ---------------------------------------------------------------- */

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

static void
print_json_object (JsonObject *object)
{
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), object);

  print_json (node);
}

/* Opens the library; unless @create, one that does not exist yet is an
 * error telling how to make it. Problems found on opening are mentioned in
 * one line, since the command asked for something else. */
static TakesStore *
open_library (gboolean create, gboolean mention_problems, int *exit_code)
{
  g_autoptr (GError) error = NULL;
  TakesStore *store;

  store = takes_store_open (NULL, create ? TAKES_STORE_OPEN_DEFAULT : TAKES_STORE_OPEN_EXISTING, &error);
  if (store == NULL)
    {
      *exit_code = takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      return NULL;
    }
  if (mention_problems && takes_store_get_open_issues (store)->len > 0)
    g_printerr (
        g_dngettext (GETTEXT_PACKAGE,
                     "takes-cli: note: the library has %u problem; “takes-cli db check” lists it\n",
                     "takes-cli: note: the library has %u problems; “takes-cli db check” lists them\n",
                     takes_store_get_open_issues (store)->len),
        takes_store_get_open_issues (store)->len);
  return store;
}

static gboolean
parse_take_id (const char *text, gint64 *id, int *exit_code)
{
  guint64 value = 0;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 1, G_MAXINT64, &value, NULL))
    {
      *exit_code = takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                                   _ ("“%s” is not a take number; take numbers are whole numbers "
                                      "such as 12 (see “takes-cli list”)"),
                                   text != NULL ? text : "");
      return FALSE;
    }
  *id = (gint64)value;
  return TRUE;
}

static gboolean
parse_rating (const char *text, guint *rating, int *exit_code)
{
  guint64 value = 0;

  if (text == NULL || !g_ascii_string_to_unsigned (text, 10, 0, TAKES_MAX_RATING, &value, NULL))
    {
      *exit_code = takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("“%s” is not a rating; give 0 to %d stars"),
                                   text != NULL ? text : "", TAKES_MAX_RATING);
      return FALSE;
    }
  *rating = (guint)value;
  return TRUE;
}

static char *
format_local_time (gint64 usec)
{
  g_autoptr (GDateTime) utc = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);
  g_autoptr (GDateTime) local = utc != NULL ? g_date_time_to_local (utc) : NULL;

  return local != NULL ? g_date_time_format (local, "%Y-%m-%d %H:%M") : g_strdup ("");
}

static char *
format_seconds (gint64 usec)
{
  return g_strdup_printf (_ ("%.1f s"), (double)usec / G_USEC_PER_SEC);
}

static char *
format_stars (guint rating)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < TAKES_MAX_RATING; i++)
    g_string_append (out, i < rating ? "★" : "☆");
  return g_string_free (out, FALSE);
}

/* Columns are counted in terminal cells: Chinese characters take two. */
static guint
cell_width (gunichar c)
{
  return g_unichar_iswide (c) ? 2 : g_unichar_iszerowidth (c) ? 0 : 1;
}

static guint
text_width (const char *text)
{
  guint width = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    width += cell_width (g_utf8_get_char (p));
  return width;
}

/* @text on one line, cut to @max cells with an ellipsis. */
static char *
fit_text (const char *text, guint max)
{
  GString *out = g_string_new (NULL);
  guint width = 0;

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);
      const char *next = g_utf8_next_char (p);
      guint w;

      if (g_unichar_isspace (c) || g_unichar_iscntrl (c))
        c = ' ';
      w = cell_width (c);
      if (width + w > max - 1 && *next != '\0')
        {
          g_string_append (out, "…");
          break;
        }
      g_string_append_unichar (out, c);
      width += w;
    }
  return g_string_free (out, FALSE);
}

static void
print_padded (const char *text, guint width)
{
  guint have = text_width (text);

  g_print ("%s", text);
  for (guint i = have; i < width; i++)
    g_print (" ");
}

static char *
join_tags (TakesTake *take)
{
  return g_strjoinv (", ", (GStrv)takes_take_get_tags (take));
}

static gboolean
parse_mask (const char *text, gboolean is_status, guint *mask, int *exit_code)
{
  g_auto (GStrv) words = g_strsplit (text, ",", -1);

  *mask = 0;
  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *word = g_strstrip (words[i]);
      TakesTakeStatus status;
      TakesDecision decision;

      if (is_status && takes_take_status_from_string (word, &status))
        *mask |= 1u << status;
      else if (!is_status && takes_decision_from_string (word, &decision))
        *mask |= 1u << decision;
      else
        {
          *exit_code
              = takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                                is_status ? _ ("“%s” is not a status; use queued, running, done, failed or "
                                               "cancelled")
                                          : _ ("“%s” is not a decision; use approved, rejected or none"),
                                word);
          return FALSE;
        }
    }
  return TRUE;
}

/* init --------------------------------------------------------------------- */

int
takes_cli_cmd_init (int argc, char **argv)
{
  gboolean as_json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &as_json, N_ ("Print the result as JSON"), NULL },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) projects = NULL;
  g_autofree char *db_path = takes_paths_library_db ();
  g_autofree char *data_dir = takes_paths_data_dir ();
  TakesTakeQuery all;
  guint64 n_takes = 0;
  gboolean existed;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("init", NULL, _ ("Create the library, or check that it opens."), entries, &argc,
                        &argv, &code))
    return code;
  if (argc > 1)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("init takes no arguments; the library goes in $TAKES_DATA_DIR "
                              "or the data folder"));

  existed = g_file_test (db_path, G_FILE_TEST_EXISTS);
  store = open_library (TRUE, TRUE, &code);
  if (store == NULL)
    return code;
  takes_take_query_init (&all);
  projects = takes_store_list_projects (store, &error);
  if (projects == NULL || !takes_store_count_takes (store, &all, &n_takes, &error))
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);

  if (as_json)
    {
      g_autoptr (JsonObject) object = json_object_new ();

      json_object_set_string_member (object, "data_dir", takes_store_get_data_dir (store));
      json_object_set_string_member (object, "database", takes_store_get_database_path (store));
      json_object_set_boolean_member (object, "created", !existed);
      json_object_set_int_member (object, "schema_version", takes_store_get_schema_version (store));
      json_object_set_int_member (object, "takes", (gint64)n_takes);
      json_object_set_int_member (object, "projects", projects->len);
      print_json_object (object);
    }
  else if (existed)
    g_print (g_dngettext (GETTEXT_PACKAGE, "The library in %s is ready: %" PRIu64 " take.\n",
                          "The library in %s is ready: %" PRIu64 " takes.\n", n_takes),
             data_dir, n_takes);
  else
    g_print (_ ("Created a new library in %s.\n"), data_dir);
  return TAKES_CLI_EXIT_OK;
}

/* import -------------------------------------------------------------------- */

static TakesRecipe *
read_recipe_file (const char *path, int *exit_code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRecipe) recipe = NULL;
  g_autofree char *contents = NULL;
  GStatBuf st;
  gsize length = 0;

  /* A huge file is refused before it is read into memory. */
  if (g_stat (path, &st) == 0 && st.st_size > TAKES_RECIPE_MAX_JSON_BYTES)
    {
      *exit_code
          = takes_cli_fail (TAKES_CLI_EXIT_FAIL, _ ("“%s” is too large to be a recipe (more than %d bytes)"),
                            path, TAKES_RECIPE_MAX_JSON_BYTES);
      return NULL;
    }
  if (!g_file_get_contents (path, &contents, &length, &error))
    {
      *exit_code = takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      return NULL;
    }
  recipe = takes_recipe_new_from_json (contents, (gssize)length, &error);
  if (recipe == NULL || !takes_recipe_validate (recipe, &error))
    {
      *exit_code = takes_cli_fail (TAKES_CLI_EXIT_FAIL, _ ("The recipe in “%s” cannot be used: %s"), path,
                                   error->message);
      return NULL;
    }
  return g_steal_pointer (&recipe);
}

static TakesRecipe *
recipe_for_import (
    const char *file, const TakesMediaInfo *info, const char *prompt, const char *recipe_file, int *exit_code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRecipe) recipe = NULL;

  if (recipe_file != NULL)
    return read_recipe_file (recipe_file, exit_code);
  if (info->recipe_json != NULL)
    {
      recipe = takes_recipe_new_from_json (info->recipe_json, -1, &error);
      if (recipe == NULL || !takes_recipe_validate (recipe, &error))
        {
          *exit_code = takes_cli_fail (TAKES_CLI_EXIT_FAIL, _ ("“%s” carries a damaged recipe: %s"), file,
                                       error->message);
          return NULL;
        }
      return g_steal_pointer (&recipe);
    }

  if (prompt == NULL)
    {
      *exit_code = takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                                   _ ("“%s” carries no recipe; give the prompt it was made "
                                      "with: takes-cli import FILE --prompt TEXT"),
                                   file);
      return NULL;
    }
  /* What is known of a video made elsewhere: its prompt and its shape. */
  recipe = takes_recipe_new ();
  takes_recipe_set_prompt (recipe, prompt);
  takes_recipe_set_backend (recipe, "imported");
  takes_recipe_set_model (recipe, "unknown");
  takes_recipe_set_width (recipe, (guint)MAX (info->width, 0));
  takes_recipe_set_height (recipe, (guint)MAX (info->height, 0));
  takes_recipe_set_frames (recipe, info->n_frames);
  if (info->fps_d > 0)
    takes_recipe_set_fps (recipe, (guint)((info->fps_n + info->fps_d / 2) / info->fps_d));
  return g_steal_pointer (&recipe);
}

int
takes_cli_cmd_import (int argc, char **argv)
{
  g_autofree char *prompt = NULL;
  g_autofree char *recipe_file = NULL;
  g_autofree char *project_name = NULL;
  g_auto (GStrv) tags = NULL;
  gint64 shot = 0;
  gint64 parent = 0;
  gboolean move = FALSE;
  gboolean as_json = FALSE;
  GOptionEntry entries[] = {
    { "prompt", 'p', 0, G_OPTION_ARG_STRING, &prompt, N_ ("The prompt the video was made with"),
      N_ ("TEXT") },
    { "recipe", 0, 0, G_OPTION_ARG_FILENAME, &recipe_file,
      N_ ("Use the recipe in this JSON file instead of the video’s"), N_ ("FILE") },
    { "project", 0, 0, G_OPTION_ARG_STRING, &project_name, N_ ("Put the take in this project"),
      N_ ("PROJECT") },
    { "shot", 0, 0, G_OPTION_ARG_INT64, &shot, N_ ("Attach the take to this shot"), N_ ("ID") },
    { "parent", 0, 0, G_OPTION_ARG_INT64, &parent, N_ ("The take this one was made from"), N_ ("ID") },
    { "tag", 't', 0, G_OPTION_ARG_STRING_ARRAY, &tags, N_ ("Tag the take (repeatable)"), N_ ("TAG") },
    { "move", 0, 0, G_OPTION_ARG_NONE, &move, N_ ("Move the file into the library instead of copying it"),
      NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &as_json, N_ ("Print the new take as JSON"), NULL },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autoptr (TakesRecipe) recipe = NULL;
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (GError) error = NULL;
  const char *file;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("import", _ ("FILE"), _ ("Add a video file to the library as a take."), entries,
                        &argc, &argv, &code))
    return code;
  if (argc != 2)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("import needs exactly one video file: takes-cli import FILE"));
  file = argv[1];
  if (shot < 0 || parent < 0)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("shot and parent numbers are whole numbers such as 12"));

  /* Everything is checked before the library changes. */
  info = takes_media_probe (file, &error);
  if (info == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  recipe = recipe_for_import (file, info, prompt, recipe_file, &code);
  if (recipe == NULL)
    return code;
  store = open_library (FALSE, TRUE, &code);
  if (store == NULL)
    return code;

  take = takes_take_new (recipe);
  if (prompt != NULL && (info->recipe_json != NULL || recipe_file != NULL)
      && g_strcmp0 (prompt, takes_recipe_get_prompt (recipe)) != 0)
    {
      /* The recipe holds the prompt sent to the model; what the person wrote
       * may have been rewritten by the optimizer. */
      takes_take_set_prompt (take, prompt);
      takes_take_set_optimized_prompt (take, takes_recipe_get_prompt (recipe));
    }
  takes_take_set_status (take, TAKES_TAKE_STATUS_DONE);
  takes_take_set_video_info (take, (guint)MAX (info->width, 0), (guint)MAX (info->height, 0), info->n_frames,
                             info->fps_d > 0 ? (double)info->fps_n / info->fps_d : 0.0,
                             (gint64)(info->duration_ns / 1000));
  takes_take_set_is_tiny (take, strstr (takes_recipe_get_model (recipe), "tiny") != NULL);
  takes_take_set_shot_id (take, shot);
  takes_take_set_parent_id (take, parent);
  takes_take_set_tags (take, (const char *const *)tags);
  if (project_name != NULL)
    {
      g_autoptr (TakesProject) project = takes_store_find_project (store, project_name, &error);

      if (project == NULL)
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      takes_take_set_project_id (take, project->id);
    }
  if (!takes_store_add_take (store, take, file, move ? TAKES_MEDIA_MOVE : TAKES_MEDIA_COPY, &error))
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);

  if (as_json)
    {
      g_autoptr (JsonObject) object = takes_take_to_json (take);

      print_json_object (object);
    }
  else
    {
      g_autofree char *length = format_seconds (takes_take_get_duration (take));

      g_print (_ ("Imported take %" PRId64 " (%u×%u, %u frames, %s) from %s.\n"),
               takes_take_get_id (take), takes_take_get_width (take), takes_take_get_height (take),
               takes_take_get_frames (take), length, file);
    }
  return TAKES_CLI_EXIT_OK;
}

/* list ------------------------------------------------------------------------ */

static void
print_take_table (GPtrArray *takes)
{
  const char *headers[] = { _ ("ID"),   _ ("CREATED"), _ ("STATUS"), _ ("DECISION"), _ ("RATING"),
                            _ ("SIZE"), _ ("LENGTH"),  _ ("TAGS"),   _ ("PROMPT") };
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);
  guint widths[G_N_ELEMENTS (headers)];
  const guint n_columns = G_N_ELEMENTS (headers);

  for (guint c = 0; c < n_columns; c++)
    widths[c] = text_width (headers[c]);
  for (guint i = 0; i < takes->len; i++)
    {
      TakesTake *take = takes->pdata[i];
      char **row = g_new0 (char *, n_columns + 1);
      g_autofree char *tags = join_tags (take);

      row[0] = g_strdup_printf ("%" PRId64, takes_take_get_id (take));
      row[1] = format_local_time (takes_take_get_created (take));
      row[2] = g_strdup (takes_take_status_get_label (takes_take_get_status (take)));
      row[3] = g_strdup (takes_decision_get_label (takes_take_get_decision (take)));
      row[4] = format_stars (takes_take_get_rating (take));
      row[5] = g_strdup_printf ("%u×%u", takes_take_get_width (take), takes_take_get_height (take));
      row[6] = format_seconds (takes_take_get_duration (take));
      row[7] = fit_text (tags, 20);
      row[8] = fit_text (takes_take_get_prompt (take), PROMPT_COLUMN);
      if (takes_take_get_is_tiny (take))
        {
          char *marked = g_strdup_printf (_ ("[test noise] %s"), row[8]);

          g_free (row[8]);
          row[8] = marked;
        }
      for (guint c = 0; c < n_columns; c++)
        widths[c] = MAX (widths[c], text_width (row[c]));
      g_ptr_array_add (rows, row);
    }

  for (guint c = 0; c < n_columns; c++)
    {
      if (c + 1 < n_columns)
        {
          print_padded (headers[c], widths[c]);
          g_print ("  ");
        }
      else
        g_print ("%s\n", headers[c]);
    }
  for (guint i = 0; i < rows->len; i++)
    {
      char **row = rows->pdata[i];

      for (guint c = 0; c < n_columns; c++)
        {
          if (c + 1 < n_columns)
            {
              print_padded (row[c], widths[c]);
              g_print ("  ");
            }
          else
            g_print ("%s\n", row[c]);
        }
    }
}

int
takes_cli_cmd_list (int argc, char **argv)
{
  g_autofree char *project_name = NULL;
  g_autofree char *tag = NULL;
  g_autofree char *rating_text = NULL;
  g_autofree char *decision_text = NULL;
  g_autofree char *status_text = NULL;
  g_autofree char *search = NULL;
  g_autofree char *sort_text = NULL;
  gint64 shot = 0;
  gint64 batch = 0;
  int limit = DEFAULT_LIST_LIMIT;
  int offset = 0;
  gboolean ascending = FALSE;
  gboolean as_json = FALSE;
  GOptionEntry entries[] = {
    { "project", 0, 0, G_OPTION_ARG_STRING, &project_name, N_ ("Only takes of this project"),
      N_ ("PROJECT") },
    { "shot", 0, 0, G_OPTION_ARG_INT64, &shot, N_ ("Only takes of this shot"), N_ ("ID") },
    { "batch", 0, 0, G_OPTION_ARG_INT64, &batch, N_ ("Only takes of this batch"), N_ ("ID") },
    { "tag", 0, 0, G_OPTION_ARG_STRING, &tag, N_ ("Only takes with this tag"), N_ ("TAG") },
    { "rating", 0, 0, G_OPTION_ARG_STRING, &rating_text, N_ ("Only takes rated at least this"), N_ ("0-5") },
    { "decision", 0, 0, G_OPTION_ARG_STRING, &decision_text,
      N_ ("approved, rejected or none (comma-separated)"), N_ ("DECISION") },
    { "status", 0, 0, G_OPTION_ARG_STRING, &status_text,
      N_ ("queued, running, done, failed or cancelled (comma-separated)"), N_ ("STATUS") },
    { "search", 's', 0, G_OPTION_ARG_STRING, &search, N_ ("Words in the prompts or notes"), N_ ("TEXT") },
    { "sort", 0, 0, G_OPTION_ARG_STRING, &sort_text, N_ ("created (default), updated, rating or duration"),
      N_ ("KEY") },
    { "ascending", 0, 0, G_OPTION_ARG_NONE, &ascending, N_ ("Oldest or lowest first"), NULL },
    { "limit", 'n', 0, G_OPTION_ARG_INT, &limit, N_ ("Show at most N takes (0: all; default 50)"), N_ ("N") },
    { "offset", 0, 0, G_OPTION_ARG_INT, &offset, N_ ("Skip the first N takes"), N_ ("N") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &as_json, N_ ("Print the takes as JSON"), NULL },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (GError) error = NULL;
  TakesTakeQuery query;
  guint64 total = 0;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("list", NULL, _ ("List takes, newest first."), entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("list takes no arguments; did you mean --search “%s”?"),
                           argv[1]);

  takes_take_query_init (&query);
  if (limit < 0 || offset < 0 || shot < 0 || batch < 0)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("--limit, --offset, --shot and --batch take whole numbers of 0 "
                              "or more"));
  query.limit = (guint)limit;
  query.offset = (guint)offset;
  query.shot_id = shot;
  query.batch_id = batch;
  query.tag = tag;
  query.text = search;
  query.ascending = ascending;
  if (rating_text != NULL && !parse_rating (rating_text, &query.min_rating, &code))
    return code;
  if (status_text != NULL && !parse_mask (status_text, TRUE, &query.status_mask, &code))
    return code;
  if (decision_text != NULL && !parse_mask (decision_text, FALSE, &query.decision_mask, &code))
    return code;
  if (sort_text != NULL && !takes_take_sort_from_string (sort_text, &query.sort))
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("“%s” is not a sort order; use created, updated, rating or "
                              "duration"),
                           sort_text);

  store = open_library (FALSE, TRUE, &code);
  if (store == NULL)
    return code;
  if (project_name != NULL)
    {
      g_autoptr (TakesProject) project = takes_store_find_project (store, project_name, &error);

      if (project == NULL)
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      query.project_id = project->id;
    }

  takes = takes_store_query_takes (store, &query, &error);
  if (takes == NULL || !takes_store_count_takes (store, &query, &total, &error))
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);

  if (as_json)
    {
      g_autoptr (JsonArray) array = json_array_new ();
      g_autoptr (JsonNode) node = NULL;

      for (guint i = 0; i < takes->len; i++)
        json_array_add_object_element (array, takes_take_to_json (takes->pdata[i]));
      node = json_node_init_array (json_node_alloc (), array);
      print_json (node);
      return TAKES_CLI_EXIT_OK;
    }
  if (takes->len == 0)
    {
      g_print ("%s\n",
               total == 0 && query.offset == 0 ? _ ("No takes match.") : _ ("No takes on this page."));
      return TAKES_CLI_EXIT_OK;
    }
  print_take_table (takes);
  if (query.offset + takes->len < total)
    g_print (_ ("Showing %u–%u of %" PRIu64 "; see more with --offset %u.\n"), query.offset + 1,
             query.offset + takes->len, total, query.offset + takes->len);
  return TAKES_CLI_EXIT_OK;
}

/* show ---------------------------------------------------------------------- */

static JsonArray *
ids_array (GPtrArray *takes)
{
  JsonArray *array = json_array_new ();

  for (guint i = 0; i < takes->len; i++)
    json_array_add_int_element (array, takes_take_get_id (takes->pdata[i]));
  return array;
}

static char *
ids_text (GPtrArray *takes, const char *separator)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < takes->len; i++)
    g_string_append_printf (out, "%s%" PRId64, i > 0 ? separator : "",
                            takes_take_get_id (takes->pdata[i]));
  return g_string_free (out, FALSE);
}

static void
print_field (const char *label, const char *value)
{
  g_print ("  ");
  print_padded (label, 12);
  g_print ("%s\n", value);
}

static TakesProject *
project_of (TakesStore *store, gint64 project_id, GError **error)
{
  g_autofree char *id_text = g_strdup_printf ("%" PRId64, project_id);

  return takes_store_find_project (store, id_text, error);
}

int
takes_cli_cmd_show (int argc, char **argv)
{
  gboolean as_json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &as_json, N_ ("Print the take as JSON"), NULL },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (TakesProject) project = NULL;
  g_autoptr (GPtrArray) children = NULL;
  g_autoptr (GPtrArray) ancestors = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *media = NULL;
  gint64 id = 0;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("show", _ ("ID"), _ ("Show one take: recipe, video, judgement and lineage."), entries,
                        &argc, &argv, &code))
    return code;
  if (argc != 2)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("show needs one take number: takes-cli show ID"));
  if (!parse_take_id (argv[1], &id, &code))
    return code;
  store = open_library (FALSE, TRUE, &code);
  if (store == NULL)
    return code;

  take = takes_store_get_take (store, id, &error);
  if (take == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  children = takes_store_get_children (store, id, &error);
  ancestors = children != NULL ? takes_store_get_ancestors (store, id, &error) : NULL;
  project = ancestors != NULL ? project_of (store, takes_take_get_project_id (take), &error) : NULL;
  if (project == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  media = takes_store_get_media_file (store, take);

  if (as_json)
    {
      g_autoptr (JsonObject) object = takes_take_to_json (take);
      JsonObject *project_object = json_object_new ();

      json_object_set_int_member (project_object, "id", project->id);
      json_object_set_string_member (project_object, "slug", project->slug);
      json_object_set_string_member (project_object, "name", project->name);
      json_object_set_object_member (object, "project", project_object);
      json_object_set_array_member (object, "children", ids_array (children));
      json_object_set_array_member (object, "ancestors", ids_array (ancestors));
      if (media != NULL)
        json_object_set_string_member (object, "media_file", media);
      else
        json_object_set_null_member (object, "media_file");
      print_json_object (object);
      return TAKES_CLI_EXIT_OK;
    }

  {
    g_autofree char *stars = format_stars (takes_take_get_rating (take));
    g_autofree char *rating = g_strdup_printf ("%s (%u)", stars, takes_take_get_rating (take));
    g_autofree char *project_text = g_strdup_printf ("%s (%s)", project->name, project->slug);
    g_autofree char *shot = takes_take_get_shot_id (take) > 0
                                ? g_strdup_printf ("%" PRId64, takes_take_get_shot_id (take))
                                : g_strdup ("–");
    g_autofree char *lineage_ids = ids_text (ancestors, " ← ");
    g_autofree char *lineage = ancestors->len > 0
                                   ? g_strdup_printf ("%" PRId64 " ← %s", id, lineage_ids)
                                   : g_strdup ("–");
    g_autofree char *children_text = children->len > 0 ? ids_text (children, ", ") : g_strdup ("–");
    g_autofree char *created = format_local_time (takes_take_get_created (take));
    g_autofree char *updated = format_local_time (takes_take_get_updated (take));
    g_autofree char *tags = join_tags (take);
    g_autofree char *length = format_seconds (takes_take_get_duration (take));
    g_autofree char *video
        = media != NULL ? g_strdup_printf (_ ("%s (%u×%u, %u frames at %.4g fps, %s)"), media,
                                           takes_take_get_width (take), takes_take_get_height (take),
                                           takes_take_get_frames (take), takes_take_get_fps (take), length)
                        : g_strdup (_ ("none yet"));
    g_autofree char *backend
        = g_strdup_printf (_ ("%s, model %s"), takes_take_get_backend (take), takes_take_get_model (take));
    g_autofree char *spent = g_strdup_printf (_ ("%.1f s, cost %.2f"), takes_take_get_seconds_spent (take),
                                              takes_take_get_cost (take));
    TakesRecipe *recipe = takes_take_get_recipe (take);

    g_print (_ ("Take %" PRId64 "\n"), id);
    if (takes_take_get_is_tiny (take))
      g_print ("  %s\n", _ ("Made by the tiny test model: its video is noise."));
    print_field (_ ("Status"), takes_take_status_get_label (takes_take_get_status (take)));
    print_field (_ ("Decision"), takes_decision_get_label (takes_take_get_decision (take)));
    print_field (_ ("Rating"), rating);
    print_field (_ ("Project"), project_text);
    print_field (_ ("Shot"), shot);
    print_field (_ ("Lineage"), lineage);
    print_field (_ ("Children"), children_text);
    print_field (_ ("Created"), created);
    print_field (_ ("Updated"), updated);
    print_field (_ ("Prompt"), takes_take_get_prompt (take));
    if (takes_take_get_optimized_prompt (take) != NULL)
      print_field (_ ("Optimized"), takes_take_get_optimized_prompt (take));
    if (takes_take_get_negative_prompt (take)[0] != '\0')
      print_field (_ ("Negative"), takes_take_get_negative_prompt (take));
    print_field (_ ("Notes"), takes_take_get_notes (take)[0] != '\0' ? takes_take_get_notes (take) : "–");
    print_field (_ ("Tags"), tags[0] != '\0' ? tags : "–");
    print_field (_ ("Video"), video);
    print_field (_ ("Backend"), backend);
    print_field (_ ("Spent"), spent);
    print_field (_ ("Cache key"), takes_take_get_cache_key (take));
    if (recipe != NULL)
      {
        g_autoptr (JsonObject) object = takes_recipe_to_object (recipe);
        g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), object);
        g_autoptr (JsonGenerator) gen = json_generator_new ();
        g_autofree char *text = NULL;

        json_generator_set_root (gen, node);
        json_generator_set_pretty (gen, TRUE);
        text = json_generator_to_data (gen, NULL);
        {
          /* Continuation lines line up under the first. */
          g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
          g_autofree char *indented = g_strjoinv ("\n              ", lines);

          print_field (_ ("Recipe"), indented);
        }
      }
    else
      print_field (_ ("Recipe"), _ ("cannot be read (see “takes-cli db check”)"));
  }
  return TAKES_CLI_EXIT_OK;
}

/* tag, rate, decide, note --------------------------------------------------------- */

int
takes_cli_cmd_tag (int argc, char **argv)
{
  gboolean remove = FALSE;
  GOptionEntry entries[] = {
    { "remove", 'r', 0, G_OPTION_ARG_NONE, &remove, N_ ("Remove the tags instead of adding them"), NULL },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesTake) take = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *tags = NULL;
  gint64 id = 0;
  gboolean ok;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("tag", _ ("ID TAG…"), _ ("Add tags to a take, or remove them with --remove."),
                        entries, &argc, &argv, &code))
    return code;
  if (argc < 3)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("tag needs a take number and at least one tag: takes-cli tag ID "
                              "TAG…"));
  if (!parse_take_id (argv[1], &id, &code))
    return code;
  store = open_library (FALSE, TRUE, &code);
  if (store == NULL)
    return code;

  if (remove)
    ok = takes_store_remove_tags (store, id, (const char *const *)argv + 2, &error);
  else
    ok = takes_store_add_tags (store, id, (const char *const *)argv + 2, &error);
  if (!ok)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  take = takes_store_get_take (store, id, &error);
  if (take == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  tags = join_tags (take);
  g_print (_ ("Take %" PRId64 " tags: %s\n"), id, tags[0] != '\0' ? tags : _ ("none"));
  return TAKES_CLI_EXIT_OK;
}

int
takes_cli_cmd_rate (int argc, char **argv)
{
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *stars = NULL;
  gint64 id = 0;
  guint rating = 0;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("rate", _ ("ID STARS"), _ ("Rate a take from 0 to 5 stars."), NULL, &argc, &argv,
                        &code))
    return code;
  if (argc != 3)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("rate needs a take number and 0 to 5 stars: takes-cli rate ID "
                              "STARS"));
  if (!parse_take_id (argv[1], &id, &code) || !parse_rating (argv[2], &rating, &code))
    return code;
  store = open_library (FALSE, TRUE, &code);
  if (store == NULL)
    return code;
  if (!takes_store_set_rating (store, id, rating, &error))
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  stars = format_stars (rating);
  g_print (_ ("Rated take %" PRId64 ": %s\n"), id, stars);
  return TAKES_CLI_EXIT_OK;
}

static gboolean
parse_decision_word (const char *word, TakesDecision *decision)
{
  static const struct
  {
    const char *word;
    TakesDecision decision;
  } words[] = {
    { "approve", TAKES_DECISION_APPROVED }, { "approved", TAKES_DECISION_APPROVED },
    { "reject", TAKES_DECISION_REJECTED },  { "rejected", TAKES_DECISION_REJECTED },
    { "undecided", TAKES_DECISION_NONE },   { "none", TAKES_DECISION_NONE },
    { "clear", TAKES_DECISION_NONE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (words); i++)
    if (g_ascii_strcasecmp (word, words[i].word) == 0)
      {
        *decision = words[i].decision;
        return TRUE;
      }
  return FALSE;
}

int
takes_cli_cmd_decide (int argc, char **argv)
{
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (GError) error = NULL;
  TakesDecision decision = TAKES_DECISION_NONE;
  const char *id_text;
  const char *word;
  gint64 id = 0;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("decide", _ ("ID approve|reject|undecided"), _ ("Approve or reject a take."), NULL,
                        &argc, &argv, &code))
    return code;
  if (argc != 3)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("decide needs a take number and a verdict: takes-cli decide ID "
                              "approve|reject|undecided"));
  /* Both orders read naturally: "decide 12 approve" and "decide approve 12". */
  id_text = g_ascii_isdigit (argv[1][0]) ? argv[1] : argv[2];
  word = id_text == argv[1] ? argv[2] : argv[1];
  if (!parse_decision_word (word, &decision))
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("“%s” is not a verdict; use approve, reject or undecided"), word);
  if (!parse_take_id (id_text, &id, &code))
    return code;
  store = open_library (FALSE, TRUE, &code);
  if (store == NULL)
    return code;
  if (!takes_store_set_decision (store, id, decision, &error))
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  switch (decision)
    {
      case TAKES_DECISION_APPROVED:
        g_print (_ ("Take %" PRId64 " approved.\n"), id);
        break;
      case TAKES_DECISION_REJECTED:
        g_print (_ ("Take %" PRId64 " rejected.\n"), id);
        break;
      case TAKES_DECISION_NONE:
      default:
        g_print (_ ("Take %" PRId64 " is undecided again.\n"), id);
        break;
    }
  return TAKES_CLI_EXIT_OK;
}

int
takes_cli_cmd_note (int argc, char **argv)
{
  gboolean append = FALSE;
  GOptionEntry entries[] = {
    { "append", 'a', 0, G_OPTION_ARG_NONE, &append, N_ ("Add a line to the notes instead of replacing them"),
      NULL },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *notes = NULL;
  gint64 id = 0;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("note", _ ("ID TEXT"), _ ("Write the notes of a take (\"\" clears them)."), entries,
                        &argc, &argv, &code))
    return code;
  if (argc != 3)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("note needs a take number and the text in quotes: takes-cli note "
                              "ID \"TEXT\""));
  if (!parse_take_id (argv[1], &id, &code))
    return code;
  store = open_library (FALSE, TRUE, &code);
  if (store == NULL)
    return code;
  if (append)
    {
      g_autoptr (TakesTake) take = takes_store_get_take (store, id, &error);

      if (take == NULL)
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      notes = takes_take_get_notes (take)[0] != '\0'
                  ? g_strdup_printf ("%s\n%s", takes_take_get_notes (take), argv[2])
                  : g_strdup (argv[2]);
    }
  else
    notes = g_strdup (argv[2]);
  if (!takes_store_set_notes (store, id, notes, &error))
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  if (notes[0] == '\0')
    g_print (_ ("Cleared the notes of take %" PRId64 ".\n"), id);
  else
    g_print (_ ("Saved the notes of take %" PRId64 ".\n"), id);
  return TAKES_CLI_EXIT_OK;
}

/* delete -------------------------------------------------------------------- */

int
takes_cli_cmd_delete (int argc, char **argv)
{
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint64));
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse ("delete", _ ("ID…"), _ ("Delete takes; their videos go to the trash."), NULL, &argc,
                        &argv, &code))
    return code;
  if (argc < 2)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("delete needs at least one take number: takes-cli delete ID…"));
  for (int i = 1; i < argc; i++)
    {
      gint64 id = 0;

      if (!parse_take_id (argv[i], &id, &code))
        return code;
      g_array_append_val (ids, id);
    }
  store = open_library (FALSE, TRUE, &code);
  if (store == NULL)
    return code;
  if (!takes_store_delete_takes (store, (const gint64 *)(void *)ids->data, ids->len, &error))
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  if (ids->len == 1)
    g_print (_ ("Deleted take %" PRId64 "; its video, if any, is in the trash.\n"),
             g_array_index (ids, gint64, 0));
  else
    g_print (_ ("Deleted %u takes; their videos are in the trash.\n"), ids->len);
  return TAKES_CLI_EXIT_OK;
}

/* export -------------------------------------------------------------------- */

typedef struct
{
  TakesTake *take;
  char *source;
  char *video;
  char *sidecar;
} ExportItem;

static void
export_item_free (gpointer data)
{
  ExportItem *item = data;

  g_clear_object (&item->take);
  g_free (item->source);
  g_free (item->video);
  g_free (item->sidecar);
  g_free (item);
}

/* Copies through a hidden temporary name and renames, so DIR never holds a
 * half-written video under the final name. */
static gboolean
copy_into_place (const char *source, const char *dest, GError **error)
{
  g_autofree char *dir = g_path_get_dirname (dest);
  g_autofree char *base = g_path_get_basename (dest);
  g_autofree char *tmp_name = g_strdup_printf (".%s.tmp", base);
  g_autofree char *tmp = g_build_filename (dir, tmp_name, NULL);
  g_autoptr (GFile) from = g_file_new_for_path (source);
  g_autoptr (GFile) to = g_file_new_for_path (tmp);
  g_autoptr (GError) local_error = NULL;

  if (!g_file_copy (from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &local_error))
    {
      g_unlink (tmp);
      g_set_error (error, G_IO_ERROR, local_error->code, _ ("Could not write “%s”: %s"), dest,
                   local_error->message);
      return FALSE;
    }
  if (g_rename (tmp, dest) != 0)
    {
      int saved_errno = errno;

      g_unlink (tmp);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), _ ("Could not write “%s”: %s"),
                   dest, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_sidecar (TakesStore *store, ExportItem *item, GError **error)
{
  g_autoptr (JsonObject) object = takes_take_to_json (item->take);
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *video_name = g_path_get_basename (item->video);
  g_autofree char *text = NULL;

  json_object_set_string_member (object, "video", video_name);
  json_object_set_string_member (object, "exported_by", "takes-cli " PACKAGE_VERSION);
  node = json_node_init_object (json_node_alloc (), object);
  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  /* g_file_set_contents writes a temporary file and renames it as well. */
  return g_file_set_contents (item->sidecar, text, -1, error);
}

int
takes_cli_cmd_export (int argc, char **argv)
{
  g_autofree char *project_name = NULL;
  g_autofree char *to = NULL;
  gboolean force = FALSE;
  GOptionEntry entries[] = {
    { "project", 0, 0, G_OPTION_ARG_STRING, &project_name,
      N_ ("Export every take with a video in this project"), N_ ("PROJECT") },
    { "to", 0, 0, G_OPTION_ARG_FILENAME, &to, N_ ("The folder to write into (created if missing)"),
      N_ ("DIR") },
    { "force", 'f', 0, G_OPTION_ARG_NONE, &force, N_ ("Replace files that are already there"), NULL },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func (export_item_free);
  g_autoptr (GError) error = NULL;
  guint skipped = 0;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse (
          "export", _ ("(ID…|--project PROJECT) --to DIR"),
          _ ("Copy takes’ videos out of the library, each with a JSON sidecar holding its recipe."), entries,
          &argc, &argv, &code))
    return code;
  if (to == NULL)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("export needs a folder: --to DIR"));
  if ((argc < 2) == (project_name == NULL))
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("export needs either take numbers or --project PROJECT, not both"));

  store = open_library (FALSE, TRUE, &code);
  if (store == NULL)
    return code;
  if (project_name != NULL)
    {
      g_autoptr (TakesProject) project = takes_store_find_project (store, project_name, &error);
      TakesTakeQuery query;

      if (project == NULL)
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      takes_take_query_init (&query);
      query.project_id = project->id;
      query.ascending = TRUE;
      takes = takes_store_query_takes (store, &query, &error);
      if (takes == NULL)
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
    }
  else
    {
      takes = g_ptr_array_new_with_free_func (g_object_unref);
      for (int i = 1; i < argc; i++)
        {
          gint64 id = 0;
          TakesTake *take;

          if (!parse_take_id (argv[i], &id, &code))
            return code;
          take = takes_store_get_take (store, id, &error);
          if (take == NULL)
            return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
          g_ptr_array_add (takes, take);
        }
    }

  /* Every take and every destination is checked before anything is written. */
  for (guint i = 0; i < takes->len; i++)
    {
      TakesTake *take = takes->pdata[i];
      g_autofree char *source = takes_store_get_media_file (store, take);
      g_autofree char *ext = NULL;
      g_autofree char *video_name = NULL;
      g_autofree char *sidecar_name = NULL;
      ExportItem *item;
      const char *dot;

      if (source == NULL || !g_file_test (source, G_FILE_TEST_IS_REGULAR))
        {
          if (project_name != NULL)
            {
              skipped++;
              continue;
            }
          return takes_cli_fail (
              TAKES_CLI_EXIT_FAIL, _ ("Take %" PRId64 " has no video to export (it is %s)"),
              takes_take_get_id (take), takes_take_status_to_string (takes_take_get_status (take)));
        }
      dot = strrchr (source, '.');
      ext = g_strdup (dot != NULL && strchr (dot, G_DIR_SEPARATOR) == NULL ? dot : ".mp4");
      video_name = g_strdup_printf ("%" PRId64 "%s", takes_take_get_id (take), ext);
      sidecar_name = g_strdup_printf ("%" PRId64 ".json", takes_take_get_id (take));
      item = g_new0 (ExportItem, 1);
      item->take = g_object_ref (take);
      item->source = g_steal_pointer (&source);
      item->video = g_build_filename (to, video_name, NULL);
      item->sidecar = g_build_filename (to, sidecar_name, NULL);
      g_ptr_array_add (items, item);
      if (!force
          && (g_file_test (item->video, G_FILE_TEST_EXISTS)
              || g_file_test (item->sidecar, G_FILE_TEST_EXISTS)))
        return takes_cli_fail (TAKES_CLI_EXIT_FAIL, _ ("“%s” is already there; add --force to replace it"),
                               g_file_test (item->video, G_FILE_TEST_EXISTS) ? item->video : item->sidecar);
    }
  if (items->len == 0)
    return takes_cli_fail (TAKES_CLI_EXIT_FAIL, _ ("Project “%s” has no take with a video to export"),
                           project_name);
  if (g_mkdir_with_parents (to, 0755) != 0)
    {
      int saved_errno = errno;

      return takes_cli_fail (TAKES_CLI_EXIT_FAIL, _ ("Could not create the folder “%s”: %s"), to,
                             g_strerror (saved_errno));
    }

  for (guint i = 0; i < items->len; i++)
    {
      ExportItem *item = items->pdata[i];

      if (!copy_into_place (item->source, item->video, &error) || !write_sidecar (store, item, &error))
        return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
      g_print (_ ("Exported take %" PRId64 " to %s and %s.\n"), takes_take_get_id (item->take),
               item->video, item->sidecar);
    }
  if (skipped > 0)
    g_print (g_dngettext (GETTEXT_PACKAGE, "Skipped %u take without a video.\n",
                          "Skipped %u takes without a video.\n", skipped),
             skipped);
  return TAKES_CLI_EXIT_OK;
}

/* db ---------------------------------------------------------------------------- */

static int
db_check (int argc, char **argv)
{
  gboolean as_json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &as_json, N_ ("Print the report as JSON"), NULL },
    { NULL },
  };
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (GPtrArray) issues = NULL;
  g_autoptr (GError) error = NULL;
  TakesTakeQuery all;
  guint64 n_takes = 0;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse (
          "db check", NULL,
          _ ("Check the database’s integrity and that every take’s video is there; exits 1 when "
             "something is wrong. Nothing is changed."),
          entries, &argc, &argv, &code))
    return code;
  if (argc > 1)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("db check takes no arguments"));
  store = open_library (FALSE, FALSE, &code);
  if (store == NULL)
    return code;
  takes_take_query_init (&all);
  issues = takes_store_check (store, TAKES_STORE_CHECK_ALL, NULL, &error);
  if (issues == NULL || !takes_store_count_takes (store, &all, &n_takes, &error))
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);

  if (as_json)
    {
      g_autoptr (JsonObject) object = json_object_new ();
      JsonArray *array = json_array_new ();

      for (guint i = 0; i < issues->len; i++)
        {
          TakesStoreIssue *issue = issues->pdata[i];
          JsonObject *entry = json_object_new ();

          json_object_set_string_member (entry, "kind", takes_store_issue_kind_to_string (issue->kind));
          if (issue->take_id > 0)
            json_object_set_int_member (entry, "take_id", issue->take_id);
          else
            json_object_set_null_member (entry, "take_id");
          if (issue->path != NULL)
            json_object_set_string_member (entry, "path", issue->path);
          else
            json_object_set_null_member (entry, "path");
          json_object_set_string_member (entry, "message", issue->message);
          json_array_add_object_element (array, entry);
        }
      json_object_set_boolean_member (object, "ok", issues->len == 0);
      json_object_set_int_member (object, "takes", (gint64)n_takes);
      json_object_set_array_member (object, "issues", array);
      print_json_object (object);
    }
  else if (issues->len == 0)
    g_print (g_dngettext (GETTEXT_PACKAGE, "The library is sound: %" PRIu64 " take, no problems.\n",
                          "The library is sound: %" PRIu64 " takes, no problems.\n", n_takes),
             n_takes);
  else
    {
      g_print (g_dngettext (GETTEXT_PACKAGE, "Found %u problem (nothing was changed):\n",
                            "Found %u problems (nothing was changed):\n", issues->len),
               issues->len);
      for (guint i = 0; i < issues->len; i++)
        g_print ("  %s\n", ((TakesStoreIssue *)issues->pdata[i])->message);
    }
  return issues->len == 0 ? TAKES_CLI_EXIT_OK : TAKES_CLI_EXIT_FAIL;
}

int
takes_cli_cmd_db (int argc, char **argv)
{
  if (argc >= 2 && g_str_equal (argv[1], "check"))
    return db_check (argc - 1, argv + 1);
  if (argc >= 2 && (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")))
    {
      g_print ("%s\n\n  check    %s\n", _ ("Usage: takes-cli db check [--json]"),
               _ ("Check the database and the video files; exits 1 when something is wrong"));
      return TAKES_CLI_EXIT_OK;
    }
  if (argc < 2)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("“db” needs a sub-command: check"));
  return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("“db %s” is not a command; “db” knows: check"), argv[1]);
}
