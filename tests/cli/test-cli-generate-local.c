/* test-cli-generate-local.c: `takes-cli generate --backend local` end to end
 * on tiny model sets: the MP4 as three probes see it, the take row and its
 * recipe, reproducible seeds, Ctrl-C in the middle of each stage, broken model
 * folders and a run that does not fit in memory. */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "../core/review-test-util.h"
#include "cli-test-util.h"
#include "takes-media.h"

/* The exit status of a generate stopped by Ctrl-C. */
#define EXIT_CANCELLED 130

/* Tiny sets made once for the whole program: like Wan2.1 1.3B and like
 * Wan2.2 TI2V-5B. */
static char *root;
static char *model_13b;
static char *model_5b;

typedef struct
{
  char *dir; /* TAKES_DATA_DIR */
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("takes-cli-genlocal-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  store_test_rm_rf (f->dir);
  g_free (f->dir);
}

static char *
make_tiny (const char *like)
{
  g_autofree char *dir = g_build_filename (root, like, NULL);
  g_autofree char *out = NULL, *err = NULL;
  int status = cli_run (NULL, &out, &err, "model", "make-tiny", dir, "--like", like, NULL);

  if (status != 0)
    g_printerr ("%s", err);
  g_assert_cmpint (status, ==, 0);
  return g_steal_pointer (&dir);
}

/* A copy of the files of @from (one level of folders below it) in a new
 * folder under the test root. */
static char *
copy_model (const char *from, const char *name)
{
  g_autofree char *to = g_build_filename (root, name, NULL);
  g_autoptr (GDir) dir = g_dir_open (from, 0, NULL);
  const char *entry;

  g_assert_nonnull (dir);
  store_test_rm_rf (to);
  g_assert_cmpint (g_mkdir_with_parents (to, 0700), ==, 0);
  while ((entry = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *src = g_build_filename (from, entry, NULL);
      g_autofree char *dest = g_build_filename (to, entry, NULL);
      g_autoptr (GFile) src_file = g_file_new_for_path (src);
      g_autoptr (GFile) dest_file = g_file_new_for_path (dest);
      g_autoptr (GError) error = NULL;

      if (g_file_test (src, G_FILE_TEST_IS_DIR))
        {
          /* The tokenizer sits two levels down (google/umt5-xxl/). */
          g_autofree char *name_sub = g_build_filename (name, entry, NULL);

          g_free (copy_model (src, name_sub));
          continue;
        }
      g_file_copy (src_file, dest_file, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
    }
  return g_steal_pointer (&to);
}

/* The take id and file from generate's "Take N: FILE" line. */
static gint64
parse_take_line (const char *out, char **file)
{
  const char *line = strstr (out, "Take ");
  char *end = NULL;
  gint64 id;

  g_assert_nonnull (line);
  id = g_ascii_strtoll (line + 5, &end, 10);
  g_assert_cmpint (id, >, 0);
  g_assert_true (g_str_has_prefix (end, ": "));
  *file = g_strndup (end + 2, strcspn (end + 2, "\n"));
  return id;
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static JsonNode *
show_take (const char *data_dir, gint64 id)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *id_text = g_strdup_printf ("%" G_GINT64_FORMAT, id);

  g_assert_cmpint (cli_run (data_dir, &out, &err, "show", id_text, "--json", NULL), ==, 0);
  return parse_json (out);
}

/* Frames, size and frame rate as gst-discoverer-1.0 and ffprobe report them,
 * each checked only where the tool is installed. */
static void
assert_tools_agree (const char *file, int width, int height, int fps, guint frames)
{
  g_autofree char *discoverer = g_find_program_in_path ("gst-discoverer-1.0");
  g_autofree char *ffprobe = g_find_program_in_path ("ffprobe");

  if (discoverer != NULL)
    {
      const char *argv[] = { discoverer, file, NULL };
      g_autofree char *out = NULL;
      g_autofree char *want_w = g_strdup_printf ("Width: %d\n", width);
      g_autofree char *want_h = g_strdup_printf ("Height: %d\n", height);
      g_autofree char *want_fps = g_strdup_printf ("Frame rate: %d/1\n", fps);
      g_autofree char *want_duration = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GSubprocess) proc = g_subprocess_newv (
          argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);
      guint64 ns = (guint64)frames * G_GUINT64_CONSTANT (1000000000) / (guint64)fps;

      g_assert_no_error (error);
      g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_get_successful (proc));
      g_assert_nonnull (strstr (out, "H.264"));
      g_assert_nonnull (strstr (out, want_w));
      g_assert_nonnull (strstr (out, want_h));
      g_assert_nonnull (strstr (out, want_fps));
      /* The discoverer has no frame count; the duration is frames / fps. */
      want_duration = g_strdup_printf ("Duration: %u:%02u:%02u.%09u", (guint)(ns / 3600000000000ull),
                                       (guint)(ns / 60000000000ull % 60), (guint)(ns / 1000000000ull % 60),
                                       (guint)(ns % 1000000000ull));
      g_assert_nonnull (strstr (out, want_duration));
    }
  else
    g_test_message ("gst-discoverer-1.0 is not installed; its check was skipped");

  if (ffprobe != NULL)
    {
      const char *argv[] = { ffprobe,
                             "-v",
                             "error",
                             "-select_streams",
                             "v:0",
                             "-count_frames",
                             "-show_entries",
                             "stream=codec_name,width,height,r_frame_rate,nb_read_frames",
                             "-of",
                             "default=noprint_wrappers=1",
                             file,
                             NULL };
      g_autofree char *out = NULL;
      g_autofree char *want = g_strdup_printf ("codec_name=h264\nwidth=%d\nheight=%d\nr_frame_rate=%d/1\n"
                                               "nb_read_frames=%u\n",
                                               width, height, fps, frames);
      g_autoptr (GError) error = NULL;
      g_autoptr (GSubprocess) proc = g_subprocess_newv (
          argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error);

      g_assert_no_error (error);
      g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_subprocess_get_successful (proc));
      g_assert_cmpstr (out, ==, want);
    }
  else
    g_test_message ("ffprobe is not installed; its check was skipped");
}

static void
assert_media (const char *file, int width, int height, int fps, guint frames)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesMediaInfo) info = takes_media_probe (file, &error);

  g_assert_no_error (error);
  g_assert_cmpint (info->width, ==, width);
  g_assert_cmpint (info->height, ==, height);
  g_assert_cmpuint (info->n_frames, ==, frames);
  g_assert_cmpint (info->fps_n, ==, fps * info->fps_d);
  g_assert_nonnull (info->recipe_json);
  assert_tools_agree (file, width, height, fps, frames);
}

/* The end-to-end run ---------------------------------------------------------- */

static void
test_folder_model_end_to_end (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL, *file = NULL;
  g_autoptr (JsonNode) take = NULL;
  g_autoptr (JsonParser) tag_parser = json_parser_new ();
  g_autoptr (TakesMediaInfo) info = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *object, *recipe, *tagged;
  gint64 id;
  int status;

  status = cli_run (f->dir, &out, &err, "generate", "--backend", "local", "--model", model_13b,
                    "a red fox running through snow", "--frames", "9", "--size", "64x48", "--fps", "12",
                    "--seed", "7", "--steps", "3", NULL);
  if (status != 0)
    g_printerr ("%s", err);
  g_assert_cmpint (status, ==, 0);
  /* The take says it is noise, and no progress bar is drawn on a pipe. */
  g_assert_nonnull (strstr (err, "tiny test model"));
  g_assert_null (strstr (err, "\r"));
  id = parse_take_line (out, &file);
  g_assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_str_has_prefix (file, f->dir));
  assert_media (file, 64, 48, 12, 9);

  take = show_take (f->dir, id);
  object = json_node_get_object (take);
  g_assert_cmpstr (json_object_get_string_member (object, "status"), ==, "done");
  g_assert_cmpstr (json_object_get_string_member (object, "backend"), ==, "local");
  g_assert_true (json_object_get_boolean_member (object, "tiny_model"));
  g_assert_cmpstr (json_object_get_string_member (object, "media_file"), ==, file);
  g_assert_cmpint (json_object_get_int_member (object, "width"), ==, 64);
  g_assert_cmpint (json_object_get_int_member (object, "height"), ==, 48);
  g_assert_cmpint (json_object_get_int_member (object, "frames"), ==, 9);
  recipe = json_object_get_object_member (object, "recipe");
  g_assert_cmpstr (json_object_get_string_member (recipe, "model"), ==, model_13b);
  g_assert_cmpstr (json_object_get_string_member (recipe, "prompt"), ==, "a red fox running through snow");
  g_assert_cmpint (json_object_get_int_member (recipe, "seed"), ==, 7);
  g_assert_cmpint (json_object_get_int_member (recipe, "frames"), ==, 9);
  g_assert_cmpint (json_object_get_int_member (recipe, "width"), ==, 64);
  g_assert_cmpint (json_object_get_int_member (recipe, "height"), ==, 48);
  g_assert_cmpint (json_object_get_int_member (recipe, "fps"), ==, 12);
  g_assert_cmpint (json_object_get_int_member (recipe, "steps"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (recipe, "sampler"), ==, "unipc");

  /* The file carries the same recipe in its tags. */
  info = takes_media_probe (file, &error);
  g_assert_no_error (error);
  json_parser_load_from_data (tag_parser, info->recipe_json, -1, &error);
  g_assert_no_error (error);
  tagged = json_node_get_object (json_parser_get_root (tag_parser));
  g_assert_cmpstr (json_object_get_string_member (tagged, "model"), ==, model_13b);
  g_assert_cmpint (json_object_get_int_member (tagged, "seed"), ==, 7);
}

/* `--model tiny` with no sizes: the tiny model's own small run, not the
 * 832×480×81, 50-step defaults of the released models. */
static void
test_tiny_id_takes_model_defaults (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL, *file = NULL;
  g_autoptr (JsonNode) take = NULL;
  JsonObject *recipe;
  gint64 id;
  int status;

  status = cli_run (f->dir, &out, &err, "generate", "--backend", "local", "--model", "tiny",
                    "a lighthouse at dusk", "--seed", "3", NULL);
  if (status != 0)
    g_printerr ("%s", err);
  g_assert_cmpint (status, ==, 0);
  id = parse_take_line (out, &file);
  assert_media (file, 96, 64, 16, 9);
  take = show_take (f->dir, id);
  g_assert_true (json_object_get_boolean_member (json_node_get_object (take), "tiny_model"));
  recipe = json_object_get_object_member (json_node_get_object (take), "recipe");
  g_assert_cmpstr (json_object_get_string_member (recipe, "model"), ==, "tiny");
  g_assert_cmpint (json_object_get_int_member (recipe, "steps"), ==, 8);
  g_assert_cmpint (json_object_get_int_member (recipe, "frames"), ==, 9);
  g_assert_cmpint (json_object_get_int_member (recipe, "width"), ==, 96);
  /* A one-expert model keeps a single guidance. */
  g_assert_false (json_object_has_member (recipe, "guidance_high"));
}

/* A folder given relative to the working folder is recorded absolute. */
static void
test_relative_folder_is_recorded_absolute (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL, *file = NULL, *cwd = g_get_current_dir ();
  g_autofree char *relative = NULL;
  g_autoptr (JsonNode) take = NULL;
  JsonObject *recipe;
  int status;

  g_assert_cmpint (g_chdir (root), ==, 0);
  relative = g_build_filename (".", "5b", NULL);
  status = cli_run (f->dir, &out, &err, "generate", "--backend", "local", "--model", relative, "waves",
                    "--seed", "2", "--frames", "5", "--size", "64x32", "--steps", "2", NULL);
  g_assert_cmpint (g_chdir (cwd), ==, 0);
  if (status != 0)
    g_printerr ("%s", err);
  g_assert_cmpint (status, ==, 0);
  take = show_take (f->dir, parse_take_line (out, &file));
  recipe = json_object_get_object_member (json_node_get_object (take), "recipe");
  g_assert_cmpstr (json_object_get_string_member (recipe, "model"), ==, model_5b);
  assert_media (file, 64, 32, 16, 5);
}

/* Same seed, same frames ------------------------------------------------------- */

static GByteArray *
decode_all (const char *file)
{
  g_autoptr (GByteArray) frames = review_test_decode (file);

  g_assert_cmpuint (frames->len, ==, 48 * 32 * 3 * 5);
  return g_steal_pointer (&frames);
}

static char *
generate_seed (const char *data_dir, const char *seed)
{
  g_autofree char *out = NULL, *err = NULL;
  char *file = NULL;
  int status = cli_run (data_dir, &out, &err, "generate", "--backend", "local", "--model", model_13b,
                        "a paper boat on a river", "--frames", "5", "--size", "48x32", "--steps", "4",
                        "--seed", seed, NULL);

  if (status != 0)
    g_printerr ("%s", err);
  g_assert_cmpint (status, ==, 0);
  parse_take_line (out, &file);
  return file;
}

static void
test_same_seed_same_frames (Fixture *f, gconstpointer data)
{
  /* Two libraries, so the second run is made again rather than taken from
   * the first one's cache. */
  g_autofree char *other = g_dir_make_tmp ("takes-cli-genlocal-XXXXXX", NULL);
  g_autofree char *a = generate_seed (f->dir, "41");
  g_autofree char *b = generate_seed (other, "41");
  g_autofree char *c = generate_seed (f->dir, "42");
  g_autoptr (GByteArray) fa = decode_all (a);
  g_autoptr (GByteArray) fb = decode_all (b);
  g_autoptr (GByteArray) fc = decode_all (c);

  g_assert_cmpstr (a, !=, b);
  g_assert_cmpmem (fa->data, fa->len, fb->data, fb->len);
  g_assert_false (fa->len == fc->len && memcmp (fa->data, fc->data, fa->len) == 0);
  store_test_rm_rf (other);
}

/* Ctrl-C ----------------------------------------------------------------------- */

static void
collect_files (const char *path, GPtrArray *files)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        collect_files (child, files);
      else
        g_ptr_array_add (files, g_steal_pointer (&child));
    }
}

/* Every file in the library but the database and the tiny model's cache. */
static GPtrArray *
library_files (const char *data_dir)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *cache = g_build_filename (data_dir, "cache", NULL);
  g_autofree char *db = g_build_filename (data_dir, "library.db", NULL);

  collect_files (data_dir, all);
  for (guint i = 0; i < all->len; i++)
    {
      const char *path = g_ptr_array_index (all, i);

      if (!g_str_has_prefix (path, cache) && !g_str_has_prefix (path, db))
        g_ptr_array_add (files, g_strdup (path));
    }
  return g_steal_pointer (&files);
}

/* Whether @line reports @stage ("Denoising, step ") at unit @min or later;
 * progress is coalesced, so not every unit gets a line. */
static gboolean
line_reaches (const char *line, const char *stage, int min)
{
  const char *at = strstr (line, stage);

  return at != NULL && (int)g_ascii_strtoll (at + strlen (stage), NULL, 10) >= min;
}

/* Starts generate with progress lines on a pipe, sends SIGINT once a line
 * reports @stage at unit @min or later, and returns the exit status; @seen
 * gets that line and @err everything generate wrote on stderr. */
static int
interrupt_at (
    const char *data_dir, const char *stage, int min, char **seen, char **err, const char *const *extra)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) launcher
      = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GDataInputStream) lines = NULL;
  g_autoptr (GString) all = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  gboolean sent = FALSE;
  char *line;

  g_ptr_array_add (args, (gpointer)g_getenv ("TAKES_CLI"));
  g_ptr_array_add (args, "generate");
  g_ptr_array_add (args, "--backend");
  g_ptr_array_add (args, "local");
  g_ptr_array_add (args, "--model");
  g_ptr_array_add (args, model_13b);
  g_ptr_array_add (args, "--progress");
  g_ptr_array_add (args, "lines");
  for (guint i = 0; extra[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer)extra[i]);
  g_ptr_array_add (args, "a storm over the sea");
  g_ptr_array_add (args, NULL);
  g_subprocess_launcher_setenv (launcher, "TAKES_DATA_DIR", data_dir, TRUE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)args->pdata, &error);
  g_assert_no_error (error);
  lines = g_data_input_stream_new (g_subprocess_get_stderr_pipe (proc));
  while ((line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error)) != NULL)
    {
      g_string_append_printf (all, "%s\n", line);
      if (!sent && line_reaches (line, stage, min))
        {
          *seen = g_strdup (line);
          g_subprocess_send_signal (proc, SIGINT);
          sent = TRUE;
        }
      g_free (line);
    }
  g_assert_no_error (error);
  g_subprocess_wait (proc, NULL, &error);
  g_assert_no_error (error);
  *err = g_string_free (g_steal_pointer (&all), FALSE);
  if (!sent)
    g_printerr ("%s", *err);
  g_assert_true (sent);
  return g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc)
                                           : 128 + g_subprocess_get_term_sig (proc);
}

static void
assert_cancel_left_nothing (const char *data_dir)
{
  g_autoptr (GPtrArray) files = library_files (data_dir);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonNode) jobs = NULL;
  g_autoptr (JsonNode) takes = NULL;
  JsonObject *job;
  gint64 started;

  for (guint i = 0; i < files->len; i++)
    g_printerr ("left behind: %s\n", (char *)g_ptr_array_index (files, i));
  g_assert_cmpuint (files->len, ==, 0);

  /* The store is not left locked: the next command answers at once. */
  started = g_get_monotonic_time ();
  g_assert_cmpint (cli_run (data_dir, &out, &err, "queue", "list", "--json", NULL), ==, 0);
  g_assert_cmpint (g_get_monotonic_time () - started, <, 3 * G_USEC_PER_SEC);
  jobs = parse_json (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (jobs)), ==, 1);
  job = json_array_get_object_element (json_node_get_array (jobs), 0);
  g_assert_cmpstr (json_object_get_string_member (job, "state"), ==, "cancelled");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The take is listed as cancelled, never as done, and has no file. */
  g_assert_cmpint (cli_run (data_dir, &out, &err, "list", "--json", NULL), ==, 0);
  takes = parse_json (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (takes)), ==, 1);
  {
    JsonObject *take = json_array_get_object_element (json_node_get_array (takes), 0);

    g_assert_cmpstr (json_object_get_string_member (take, "status"), ==, "cancelled");
    g_assert_true (json_object_get_null_member (take, "media_path"));
  }
}

static void
test_cancel_mid_denoise (Fixture *f, gconstpointer data)
{
  const char *const extra[] = { "--steps", "40", "--frames", "17", "--size", "128x96", "--seed", "5", NULL };
  g_autofree char *seen = NULL, *err = NULL;
  int status = interrupt_at (f->dir, "Denoising, step ", 2, &seen, &err, extra);

  g_assert_cmpint (status, ==, EXIT_CANCELLED);
  g_assert_nonnull (strstr (err, "was cancelled"));
  g_assert_null (strstr (err, "Decoding"));
  g_assert_null (strstr (err, "Finished"));
  assert_cancel_left_nothing (f->dir);
}

static void
test_cancel_mid_decode (Fixture *f, gconstpointer data)
{
  const char *const extra[] = { "--steps", "1", "--frames", "33", "--size", "128x96", "--seed", "5", NULL };
  g_autofree char *seen = NULL, *err = NULL;
  int status = interrupt_at (f->dir, "Decoding frames, ", 1, &seen, &err, extra);

  g_assert_cmpint (status, ==, EXIT_CANCELLED);
  g_assert_nonnull (strstr (err, "was cancelled"));
  /* Stopped inside the VAE: it never reached its last frame. */
  g_assert_null (strstr (err, "Decoding frames, 9 of 9"));
  g_assert_null (strstr (err, "Finished"));
  assert_cancel_left_nothing (f->dir);
}

/* Broken model folders ------------------------------------------------------------ */

static void
assert_refused (const char *data_dir, const char *model, const char *const *wanted)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *queue = NULL, *queue_err = NULL;
  int status = cli_run (data_dir, &out, &err, "generate", "--backend", "local", "--model", model, "a fox",
                        "--seed", "1", NULL);

  g_assert_cmpint (status, ==, 1);
  g_assert_true (g_str_has_prefix (err, "takes-cli: "));
  for (guint i = 0; wanted[i] != NULL; i++)
    {
      if (strstr (err, wanted[i]) == NULL)
        g_printerr ("“%s” is not in: %s", wanted[i], err);
      g_assert_nonnull (strstr (err, wanted[i]));
    }
  /* Refused before anything was queued. */
  g_assert_cmpint (cli_run (data_dir, &queue, &queue_err, "queue", "list", NULL), ==, 0);
  g_assert_cmpstr (queue, ==, "The queue is empty.\n");
}

static void
test_missing_tokenizer (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = copy_model (model_13b, "no-tokenizer");
  g_autofree char *tokenizer = g_build_filename (dir, "google", "umt5-xxl", "tokenizer.json", NULL);
  const char *const wanted[] = { "tokenizer.json", "no-tokenizer", NULL };

  g_assert_cmpint (g_unlink (tokenizer), ==, 0);
  assert_refused (f->dir, dir, wanted);
}

static void
test_missing_vae (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = copy_model (model_13b, "no-vae");
  g_autofree char *vae = g_build_filename (dir, "Wan2.1_VAE.safetensors", NULL);
  const char *const wanted[] = { "No VAE", "Wan2.1_VAE.pth", "no-vae", NULL };

  g_assert_cmpint (g_unlink (vae), ==, 0);
  assert_refused (f->dir, dir, wanted);
}

static void
test_mismatched_vae (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = copy_model (model_13b, "wrong-vae");
  g_autofree char *vae = g_build_filename (dir, "Wan2.1_VAE.safetensors", NULL);
  g_autofree char *vae_22 = g_build_filename (model_5b, "Wan2.2_VAE.safetensors", NULL);
  g_autoptr (GFile) from = g_file_new_for_path (vae_22);
  g_autoptr (GFile) to = g_file_new_for_path (vae);
  g_autoptr (GError) error = NULL;
  const char *const wanted[] = { "Wan2.1_VAE.safetensors", "16 latent channels", NULL };

  /* The 48-channel Wan2.2 VAE under the 16-channel model's file name. */
  g_file_copy (from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  assert_refused (f->dir, dir, wanted);
}

static void
test_missing_folder (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = g_build_filename (root, "not-there", NULL);
  const char *const wanted[] = { "not-there", "does not exist", NULL };

  assert_refused (f->dir, dir, wanted);
}

/* Memory ---------------------------------------------------------------------------- */

static void
test_memory_refused_with_estimate (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *file_list = NULL;
  g_autoptr (GPtrArray) files = NULL;
  int status = cli_run_env (f->dir, "TAKES_ENGINE_MEMORY_LIMIT", "1000000", &out, &err, "generate",
                            "--backend", "local", "--model", model_13b, "a fox", "--seed", "1", NULL);

  g_assert_cmpint (status, ==, 1);
  /* The estimate, what is available, and what to change. */
  g_assert_nonnull (strstr (err, "MiB of memory"));
  /* g_format_size() puts a no-break space before the unit in UTF-8 locales. */
  g_assert_nonnull (strstr (err, "976.6"));
  g_assert_nonnull (strstr (err, "KiB is available"));
  g_assert_nonnull (strstr (err, "fewer frames or a smaller size"));
  g_assert_null (strstr (out, "Take "));
  files = library_files (f->dir);
  g_assert_cmpuint (files->len, ==, 0);
}

/* VAE tiles ------------------------------------------------------------------------ */

static void
test_vae_tile_end_to_end (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL, *file = NULL;
  g_autoptr (JsonNode) take = NULL;
  JsonObject *recipe, *options;
  int status;

  /* 160×96 pixels are 20×12 latent cells: six tiles of 8×8. */
  status
      = cli_run (f->dir, &out, &err, "generate", "--backend", "local", "--model", model_13b, "a kite at noon",
                 "--frames", "5", "--size", "160x96", "--steps", "2", "--seed", "4", "--vae-tile", "8", NULL);
  if (status != 0)
    g_printerr ("%s", err);
  g_assert_cmpint (status, ==, 0);
  take = show_take (f->dir, parse_take_line (out, &file));
  assert_media (file, 160, 96, 16, 5);
  recipe = json_object_get_object_member (json_node_get_object (take), "recipe");
  options = json_object_get_object_member (recipe, "options");
  g_assert_cmpint (json_object_get_int_member (options, "vae_tile"), ==, 8);
}

static void
test_vae_tile_bad_value (Fixture *f, gconstpointer data)
{
  const char *const bad[] = { "4", "-8", "tiles", "9000", NULL };

  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autofree char *out = NULL, *err = NULL;
      g_autofree char *quoted = g_strdup_printf ("“--vae-tile %s” is not a tile size", bad[i]);
      g_autoptr (GPtrArray) files = NULL;
      int status = cli_run (f->dir, &out, &err, "generate", "--backend", "local", "--model", model_13b,
                            "a fox", "--seed", "1", "--vae-tile", bad[i], NULL);

      g_assert_cmpint (status, ==, 2);
      if (strstr (err, quoted) == NULL)
        g_printerr ("%s", err);
      g_assert_nonnull (strstr (err, quoted));
      g_assert_nonnull (strstr (err, "from 8 to 8192, or 0"));
      files = library_files (f->dir);
      g_assert_cmpuint (files->len, ==, 0);
    }
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);

  root = g_dir_make_tmp ("takes-cli-genlocal-models-XXXXXX", NULL);
  model_13b = make_tiny ("1.3b");
  model_5b = make_tiny ("5b");

#define ADD(path, func) g_test_add ((path), Fixture, NULL, fixture_set_up, (func), fixture_tear_down)
  ADD ("/cli/generate-local/end-to-end/folder-model", test_folder_model_end_to_end);
  ADD ("/cli/generate-local/end-to-end/tiny-id-takes-model-defaults", test_tiny_id_takes_model_defaults);
  ADD ("/cli/generate-local/end-to-end/relative-folder-recorded-absolute",
       test_relative_folder_is_recorded_absolute);
  ADD ("/cli/generate-local/seed/same-seed-same-frames", test_same_seed_same_frames);
  ADD ("/cli/generate-local/cancel/mid-denoise-leaves-nothing", test_cancel_mid_denoise);
  ADD ("/cli/generate-local/cancel/mid-decode-leaves-nothing", test_cancel_mid_decode);
  ADD ("/cli/generate-local/model/missing-tokenizer-names-file", test_missing_tokenizer);
  ADD ("/cli/generate-local/model/missing-vae-names-file", test_missing_vae);
  ADD ("/cli/generate-local/model/mismatched-vae-names-file", test_mismatched_vae);
  ADD ("/cli/generate-local/model/missing-folder", test_missing_folder);
  ADD ("/cli/generate-local/memory/refused-with-estimate", test_memory_refused_with_estimate);
  ADD ("/cli/generate-local/vae-tile/end-to-end", test_vae_tile_end_to_end);
  ADD ("/cli/generate-local/vae-tile/bad-value-refused", test_vae_tile_bad_value);
#undef ADD

  status = g_test_run ();
  store_test_rm_rf (root);
  g_free (root);
  g_free (model_13b);
  g_free (model_5b);
  return status;
}
