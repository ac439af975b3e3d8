/* main.c: takes-server, the local engine over the DashScope task protocol. */
#include "config.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>

#include "takes-backend-local.h"
#include "takes-server.h"

static gboolean
quit_cb (gpointer user_data)
{
  GMainLoop *loop = user_data;

  g_main_loop_quit (loop);
  return G_SOURCE_CONTINUE;
}

static int fail (const char *format, ...) G_GNUC_PRINTF (1, 2);

static int
fail (const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_printerr ("takes-server: %s\n", message);
  return 1;
}

int
main (int argc, char **argv)
{
  g_autofree char *listen = NULL;
  g_autofree char *model = NULL;
  g_autofree char *token_file = NULL;
  g_autofree char *data_dir = NULL;
  int max_concurrent = TAKES_SERVER_DEFAULT_MAX_CONCURRENT;
  int steps = 0;
  int threads = 0;
  GOptionEntry entries[] = {
    { "listen", 'l', 0, G_OPTION_ARG_STRING, &listen, N_ ("Address to listen on (default 127.0.0.1:8765)"),
      N_ ("HOST:PORT") },
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model,
      N_ ("Model folder to serve, or “tiny” for the tiny test model"), N_ ("DIR|tiny") },
    { "token-file", 't', 0, G_OPTION_ARG_FILENAME, &token_file,
      N_ ("File whose first line is the bearer token clients must send"), N_ ("FILE") },
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir,
      N_ ("Folder for the task journal, and for results until they expire"), N_ ("DIR") },
    { "max-concurrent", 'c', 0, G_OPTION_ARG_INT, &max_concurrent,
      N_ ("Unfinished tasks accepted before new ones are refused (default 4)"), N_ ("N") },
    { "steps", 's', 0, G_OPTION_ARG_INT, &steps, N_ ("Sampling steps of every take (default 50)"), N_ ("N") },
    { "threads", 'j', 0, G_OPTION_ARG_INT, &threads, N_ ("Engine threads (default: one per processor)"),
      N_ ("N") },
    { NULL },
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendLocal) backend = NULL;
  g_autoptr (TakesServer) server = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (TakesBackendCapabilities) caps = NULL;
  g_autoptr (TakesRecipe) defaults = NULL;
  g_autofree char *host = NULL;
  g_autofree char *base_url = NULL;
  g_autofree char *model_dir = NULL;
  guint port = 0;
  guint n_served = 0;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
  g_set_prgname ("takes-server");

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                _ ("Serves the local Wan engine over the DashScope task protocol, so "
                                   "other computers running Takes can make takes on this one."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return fail ("%s", error->message);
  if (model == NULL)
    return fail ("%s", _ ("Say which model to serve with --model DIR, or --model tiny for a test."));
  if (max_concurrent < 1 || max_concurrent > 1024)
    return fail ("%s", _ ("--max-concurrent must be between 1 and 1024."));
  if (steps < 0 || steps > TAKES_RECIPE_MAX_STEPS)
    return fail (_ ("--steps must be between 1 and %d."), TAKES_RECIPE_MAX_STEPS);
  if (threads < 0 || threads > 1024)
    return fail ("%s", _ ("--threads must be between 0 and 1024."));
  if (!takes_server_parse_address (listen != NULL ? listen : "127.0.0.1:8765", &host, &port, &error))
    return fail ("%s", error->message);

  backend = takes_backend_local_new ();
  takes_backend_local_set_n_threads (backend, (guint)threads);
  if (!takes_backend_local_model_is_tiny (model))
    {
      const char *folders[] = { model, NULL };

      takes_backend_local_set_model_folders (backend, folders);
      takes_backend_local_set_tiny_enabled (backend, FALSE);
    }
  /* Load what will be served now, so a missing or broken model is reported
   * before any client is told the server works. */
  caps = takes_backend_get_capabilities (TAKES_BACKEND (backend));
  for (guint i = 0; i < caps->models->len; i++)
    {
      TakesBackendModelCaps *entry = g_ptr_array_index (caps->models, i);

      model_dir = takes_backend_local_find_model (backend, entry->id, &error);
      if (model_dir == NULL)
        return fail ("%s", error->message);
      g_print (_ ("serving model %s from %s\n"), entry->id, model_dir);
      g_clear_pointer (&model_dir, g_free);
      n_served++;
    }
  if (n_served == 0)
    return fail (_ ("No complete model set was found in %s. Check it with “takes-cli models scan %s”."),
                 model, model);

  server = takes_server_new (TAKES_BACKEND (backend), data_dir);
  takes_backend_local_set_output_dir (backend, takes_server_get_data_dir (server));
  takes_server_set_max_concurrent (server, (guint)max_concurrent);
  if (steps > 0)
    {
      defaults = takes_recipe_new ();
      takes_recipe_set_steps (defaults, (guint)steps);
      takes_server_set_recipe_defaults (server, defaults);
    }
  if (token_file != NULL && !takes_server_load_token_file (server, token_file, &error))
    return fail ("%s", error->message);
  if (!takes_server_listen (server, host, port, &error))
    return fail ("%s", error->message);

  base_url = takes_server_get_base_url (server);
  /* Untranslated: scripts and tests read the port from this line. */
  printf ("listening on %s\n", takes_server_get_origin (server));
  g_print (_ ("Clients use the DashScope backend with the base URL %s\n"), base_url);
  fflush (stdout);

  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_main_loop_run (loop);

  g_print ("%s\n", _ ("Stopping. Unfinished takes will run again when takes-server starts on the same data "
                      "folder."));
  takes_server_shutdown (server);
  g_clear_object (&server);
  /* Waits for the engine to stop and remove its partial files. */
  g_clear_object (&backend);
  return 0;
}
