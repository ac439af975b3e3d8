/* bench-download.c: TakesDownload against curl on the same loopback server.
 *
 * A child process (this program with --serve) runs a SoupServer on
 * 127.0.0.1 that generates the body as it is written, so nothing is stored.
 * In the same run, curl fetches it to /dev/null and to a file, and
 * TakesDownload fetches it to a file next to curl's (tmpfs when /dev/shm
 * exists, so the disk does not decide the race). Printed: MB/s of each, the
 * ratios (target: at least 0.9 of curl writing to the same file system; curl
 * to /dev/null is shown as the ceiling of the transfer alone) and the peak resident
 * memory of this process, which must not grow with the size of the body.
 *
 *   bench-download [--size-mb 500] [--runs 2]
 */
#include "config.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "takes-download.h"

#define SERVE_CHUNK (1024 * 1024)

/* The server --------------------------------------------------------------- */

typedef struct
{
  GBytes *chunk;
  guint64 left;
} Stream;

static void
stream_free (gpointer data, GClosure *closure)
{
  Stream *stream = data;

  g_bytes_unref (stream->chunk);
  g_free (stream);
}

static void
append_next (SoupServerMessage *msg, Stream *stream)
{
  SoupMessageBody *body = soup_server_message_get_response_body (msg);
  gsize size = (gsize)MIN (stream->left, (guint64)SERVE_CHUNK);

  if (size == 0)
    return;
  if (size == SERVE_CHUNK)
    soup_message_body_append_bytes (body, stream->chunk);
  else
    {
      g_autoptr (GBytes) tail = g_bytes_new_from_bytes (stream->chunk, 0, size);

      soup_message_body_append_bytes (body, tail);
    }
  stream->left -= size;
}

static void
wrote_chunk_cb (SoupServerMessage *msg, gpointer user_data)
{
  append_next (msg, user_data);
}

static void
serve_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  guint64 size = *(guint64 *)user_data;
  Stream *stream = g_new0 (Stream, 1);
  guint8 *pattern = g_malloc (SERVE_CHUNK);

  for (gsize i = 0; i < SERVE_CHUNK; i++)
    pattern[i] = (guint8)(i * 131 + 7);
  stream->chunk = g_bytes_new_take (pattern, SERVE_CHUNK);
  stream->left = size;
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (soup_server_message_get_response_headers (msg), "video/mp4", NULL);
  soup_message_headers_set_content_length (soup_server_message_get_response_headers (msg), (goffset)size);
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
  g_signal_connect_data (msg, "wrote-chunk", G_CALLBACK (wrote_chunk_cb), stream, stream_free, 0);
  append_next (msg, stream);
}

static gboolean
parent_gone_cb (GIOChannel *channel, GIOCondition condition, gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

/* Serves until the parent closes our stdin. */
static int
serve (guint64 size)
{
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GIOChannel) input = g_io_channel_unix_new (STDIN_FILENO);
  g_autoptr (GError) error = NULL;
  GSList *uris;

  soup_server_add_handler (server, "/blob", serve_cb, &size, NULL);
  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    {
      g_printerr ("bench-download: cannot listen on loopback: %s\n", error->message);
      return 1;
    }
  uris = soup_server_get_uris (server);
  printf ("%d\n", g_uri_get_port (uris->data));
  fflush (stdout);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  g_io_add_watch (input, G_IO_IN | G_IO_HUP | G_IO_ERR, parent_gone_cb, loop);
  g_main_loop_run (loop);
  soup_server_disconnect (server);
  return 0;
}

/* The measurements -------------------------------------------------------- */

static double
cpu_seconds (int who)
{
  struct rusage usage;

  getrusage (who, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec
         + (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / (double)G_USEC_PER_SEC;
}

/* Wall seconds of one client; @cpu receives the CPU seconds it used. */
static double
run_curl (const char *url, const char *output, double *cpu)
{
  const char *argv[] = { "curl", "--silent", "--show-error", "--fail", "--output", output, url, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *err = NULL;
  int status = 0;
  gint64 start = g_get_monotonic_time ();
  double cpu_start = cpu_seconds (RUSAGE_CHILDREN);

  if (!g_spawn_sync (NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
                     NULL, &err, &status, &error)
      || !g_spawn_check_wait_status (status, NULL))
    {
      g_printerr ("bench-download: curl failed: %s\n", error != NULL ? error->message : err);
      return -1;
    }
  *cpu = cpu_seconds (RUSAGE_CHILDREN) - cpu_start;
  return (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;
}

static void
done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

static double
run_takes (SoupSession *session, const char *url, const char *output, double *cpu)
{
  g_autoptr (TakesDownload) download = takes_download_new (session, url, output);
  g_autoptr (GAsyncResult) result = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  double cpu_start = cpu_seconds (RUSAGE_SELF);

  takes_download_set_max_size (download, 0);
  takes_download_run_async (download, NULL, done_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);
  if (!takes_download_run_finish (download, result, &error))
    {
      g_printerr ("bench-download: TakesDownload failed: %s\n", error->message);
      return -1;
    }
  *cpu = cpu_seconds (RUSAGE_SELF) - cpu_start;
  return (g_get_monotonic_time () - start) / (double)G_USEC_PER_SEC;
}

static long
peak_rss_kb (void)
{
  struct rusage usage;

  getrusage (RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

typedef struct
{
  double wall;
  double cpu;
} Timing;

/* Keeps the fastest run; a failed run (negative) never counts. */
static void
keep_best (Timing *timing, double wall, double cpu)
{
  if (wall < 0)
    return;
  if (timing->wall < 0 || wall < timing->wall)
    {
      timing->wall = wall;
      timing->cpu = cpu;
    }
}

static void
print_row (const char *name, const Timing *timing, double megabytes)
{
  if (timing->wall > 0)
    printf ("  %-30s %10.2f %10.1f %10.2f\n", name, timing->wall, megabytes / timing->wall, timing->cpu);
}

int
main (int argc, char **argv)
{
  gint64 size_mb = 500, runs = 2, serve_bytes = 0;
  GOptionEntry entries[] = {
    { "size-mb", 0, 0, G_OPTION_ARG_INT64, &size_mb, "Size of the body in MB (default 500)", "MB" },
    { "runs", 0, 0, G_OPTION_ARG_INT64, &runs, "Runs of each client; the best counts (default 2)", "N" },
    { "serve", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT64, &serve_bytes, NULL, NULL },
    { NULL },
  };
  g_autoptr (GOptionContext) context = g_option_context_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *self_path = NULL;
  g_autofree char *size_arg = NULL;
  g_autofree char *port_line = NULL;
  g_autofree char *url = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *curl_file = NULL;
  g_autofree char *takes_file = NULL;
  g_autoptr (GIOChannel) child_out = NULL;
  g_autoptr (SoupSession) session = NULL;
  const char *tmp_root = g_file_test ("/dev/shm", G_FILE_TEST_IS_DIR) ? "/dev/shm" : g_get_tmp_dir ();
  const char *child_argv[] = { NULL, "--serve", NULL, NULL };
  Timing curl_null = { -1, 0 }, curl_disk = { -1, 0 }, takes = { -1, 0 };
  double megabytes, wall, cpu = 0;
  long rss_before, rss_after;
  GPid child = 0;
  int child_in = -1, child_stdout = -1;

  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("bench-download: %s\n", error->message);
      return 2;
    }
  if (serve_bytes > 0)
    return serve ((guint64)serve_bytes);
  if (size_mb < 1 || runs < 1)
    {
      g_printerr ("bench-download: --size-mb and --runs must be at least 1\n");
      return 2;
    }

  self_path = g_file_read_link ("/proc/self/exe", &error);
  if (self_path == NULL)
    {
      g_printerr ("bench-download: %s\n", error->message);
      return 1;
    }
  size_arg = g_strdup_printf ("%" G_GINT64_FORMAT, size_mb * 1000 * 1000);
  child_argv[0] = self_path;
  child_argv[2] = size_arg;
  if (!g_spawn_async_with_pipes (NULL, (char **)child_argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                                 &child, &child_in, &child_stdout, NULL, &error))
    {
      g_printerr ("bench-download: cannot start the server: %s\n", error->message);
      return 1;
    }
  child_out = g_io_channel_unix_new (child_stdout);
  g_io_channel_set_close_on_unref (child_out, TRUE);
  if (g_io_channel_read_line (child_out, &port_line, NULL, NULL, &error) != G_IO_STATUS_NORMAL
      || port_line == NULL)
    {
      g_printerr ("bench-download: the server did not start\n");
      kill (child, SIGTERM);
      waitpid (child, NULL, 0);
      return 1;
    }
  url = g_strdup_printf ("http://127.0.0.1:%d/blob", atoi (port_line));
  dir = g_build_filename (tmp_root, "takes-bench-download-XXXXXX", NULL);
  if (g_mkdtemp (dir) == NULL)
    {
      g_printerr ("bench-download: cannot create a folder in %s\n", tmp_root);
      return 1;
    }
  curl_file = g_build_filename (dir, "curl.bin", NULL);
  takes_file = g_build_filename (dir, "takes.bin", NULL);
  session = soup_session_new ();
  megabytes = (double)size_mb;

  rss_before = peak_rss_kb ();
  for (gint64 i = 0; i < runs; i++)
    {
      wall = run_curl (url, "/dev/null", &cpu);
      keep_best (&curl_null, wall, cpu);
      wall = run_curl (url, curl_file, &cpu);
      keep_best (&curl_disk, wall, cpu);
      g_unlink (curl_file);
      wall = run_takes (session, url, takes_file, &cpu);
      keep_best (&takes, wall, cpu);
      g_unlink (takes_file);
    }
  rss_after = peak_rss_kb ();

  close (child_in);
  waitpid (child, NULL, 0);
  g_spawn_close_pid (child);
  g_rmdir (dir);

  printf ("bench-download: %" G_GINT64_FORMAT " MB from a loopback SoupServer, best of %" G_GINT64_FORMAT
          " runs, files in %s\n",
          size_mb, runs, tmp_root);
  printf ("  %-30s %10s %10s %10s\n", "client", "seconds", "MB/s", "CPU s");
  print_row ("curl -o /dev/null", &curl_null, megabytes);
  print_row ("curl -o file", &curl_disk, megabytes);
  print_row ("TakesDownload (fsync+rename)", &takes, megabytes);
  if (takes.wall > 0 && curl_null.wall > 0 && curl_disk.wall > 0)
    {
      /* Like for like: both clients write the body to the same file system. */
      printf ("  ratio TakesDownload / curl -o file:      %.2f (target >= 0.90)\n", curl_disk.wall / takes.wall);
      printf ("  ratio TakesDownload / curl -o /dev/null: %.2f (curl writing nothing: an upper bound)\n",
              curl_null.wall / takes.wall);
    }
  printf ("  peak RSS: %.1f MB before the downloads, %.1f MB after (body: %" G_GINT64_FORMAT " MB)\n",
          rss_before / 1024.0, rss_after / 1024.0, size_mb);
  return takes.wall > 0 && curl_null.wall > 0 ? 0 : 1;
}
