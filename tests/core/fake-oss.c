/* fake-oss.c: a loopback file host with the faults a download must survive.
 *
 * Cut connections are written by hand on the stolen socket, so the client sees
 * a real HTTP reply that announces more than it delivers. Huge bodies are
 * appended chunk by chunk as the previous one is written, so the test process
 * never holds more than one chunk.
 */
#include "fake-oss.h"

#include <string.h>

#define STREAM_CHUNK (64 * 1024)
#define HUGE_SIZE (G_GUINT64_CONSTANT (1) << 30)

typedef struct
{
  GBytes *content;
  FakeOssMode mode;
  guint requests;
} FakeFile;

struct _FakeOss
{
  SoupServer *server;
  char *prefix;
  GHashTable *files; /* name → FakeFile */
  guint total_requests;
  char *last_range;
  gboolean saw_authorization;
};

static void
fake_file_free (gpointer data)
{
  FakeFile *file = data;

  g_bytes_unref (file->content);
  g_free (file);
}

SoupServer *
fake_http_server_new (char **origin)
{
  g_autoptr (SoupServer) server = soup_server_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  GSList *uris;
  GUri *uri;

  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    g_error ("Could not listen on loopback: %s", error->message);
  uris = soup_server_get_uris (server);
  uri = uris->data;
  *origin = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uri));
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  return g_steal_pointer (&server);
}

/* Deterministic bytes, so a test can compare what arrived with what was sent. */
GBytes *
fake_oss_make_content (gsize size, guint seed)
{
  guint8 *data = g_malloc (size);
  guint32 state = seed * 2654435761u + 1;

  for (gsize i = 0; i < size; i++)
    {
      state = state * 1664525u + 1013904223u;
      data[i] = (guint8)(state >> 24);
    }
  return g_bytes_new_take (data, size);
}

/* Streaming --------------------------------------------------------------- */

typedef struct
{
  SoupServerMessage *msg;
  GBytes *content; /* NULL: generated filler */
  GBytes *filler;
  guint64 offset;
  guint64 total;
  gboolean chunked;
  guint delay_ms;
  guint timeout;
  gboolean done;
} Streamer;

static void
streamer_free (gpointer data, GClosure *closure)
{
  Streamer *streamer = data;

  g_clear_handle_id (&streamer->timeout, g_source_remove);
  g_clear_pointer (&streamer->content, g_bytes_unref);
  g_clear_pointer (&streamer->filler, g_bytes_unref);
  g_free (streamer);
}

static void
streamer_append (Streamer *streamer)
{
  SoupMessageBody *body = soup_server_message_get_response_body (streamer->msg);
  guint64 left = streamer->total - streamer->offset;
  gsize size = (gsize)MIN (left, (guint64)(streamer->delay_ms > 0 ? 4096 : STREAM_CHUNK));

  if (left == 0)
    {
      if (streamer->chunked)
        soup_message_body_complete (body);
      streamer->done = TRUE;
      return;
    }
  if (streamer->content != NULL)
    {
      g_autoptr (GBytes) slice = g_bytes_new_from_bytes (streamer->content, streamer->offset, size);

      soup_message_body_append_bytes (body, slice);
    }
  else if (size == STREAM_CHUNK)
    soup_message_body_append_bytes (body, streamer->filler);
  else
    {
      g_autoptr (GBytes) slice = g_bytes_new_from_bytes (streamer->filler, 0, size);

      soup_message_body_append_bytes (body, slice);
    }
  streamer->offset += size;
}

static gboolean
streamer_timeout_cb (gpointer user_data)
{
  Streamer *streamer = user_data;

  streamer->timeout = 0;
  streamer_append (streamer);
  soup_server_message_unpause (streamer->msg);
  return G_SOURCE_REMOVE;
}

static void
wrote_chunk_cb (SoupServerMessage *msg, gpointer user_data)
{
  Streamer *streamer = user_data;

  if (streamer->done)
    return;
  if (streamer->delay_ms > 0)
    {
      soup_server_message_pause (msg);
      streamer->timeout = g_timeout_add (streamer->delay_ms, streamer_timeout_cb, streamer);
      return;
    }
  streamer_append (streamer);
}

static void
finished_cb (SoupServerMessage *msg, gpointer user_data)
{
  Streamer *streamer = user_data;

  /* The client went away or the body is complete: no more appends. */
  streamer->done = TRUE;
  g_clear_handle_id (&streamer->timeout, g_source_remove);
}

static void
start_stream (SoupServerMessage *msg, GBytes *content, guint64 total, gboolean chunked, guint delay_ms)
{
  Streamer *streamer = g_new0 (Streamer, 1);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  streamer->msg = msg;
  streamer->content = content != NULL ? g_bytes_ref (content) : NULL;
  if (content == NULL)
    {
      guint8 *pattern = g_malloc (STREAM_CHUNK);

      memset (pattern, 0x5a, STREAM_CHUNK);
      streamer->filler = g_bytes_new_take (pattern, STREAM_CHUNK);
    }
  streamer->total = total;
  streamer->chunked = chunked;
  streamer->delay_ms = delay_ms;
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (headers, "video/mp4", NULL);
  if (chunked)
    soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  else
    soup_message_headers_set_content_length (headers, (goffset)total);
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (wrote_chunk_cb), streamer);
  g_signal_connect_data (msg, "finished", G_CALLBACK (finished_cb), streamer, streamer_free, 0);
  streamer_append (streamer);
}

void
fake_oss_stream_filler (SoupServerMessage *msg, guint64 size, gboolean chunked)
{
  start_stream (msg, NULL, size, chunked, 0);
}

/* Cut replies ------------------------------------------------------------- */

typedef struct
{
  GIOStream *stream;
  GBytes *data;
} CutWrite;

static void
cut_closed_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CutWrite *cut = user_data;

  g_io_stream_close_finish (G_IO_STREAM (source), result, NULL);
  g_object_unref (cut->stream);
  g_bytes_unref (cut->data);
  g_free (cut);
}

static void
cut_written_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CutWrite *cut = user_data;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  g_io_stream_close_async (cut->stream, G_PRIORITY_DEFAULT, NULL, cut_closed_cb, cut);
}

/* Announces @length bytes from @start of @content but sends only half. */
static void
send_cut (SoupServerMessage *msg, GBytes *content, gsize start, gboolean partial)
{
  gsize total = g_bytes_get_size (content);
  gsize length = total - start;
  g_autoptr (GString) raw = g_string_new (NULL);
  CutWrite *cut = g_new0 (CutWrite, 1);

  if (partial)
    g_string_append_printf (raw,
                            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %" G_GSIZE_FORMAT
                            "-%" G_GSIZE_FORMAT "/%" G_GSIZE_FORMAT "\r\n",
                            start, total - 1, total);
  else
    g_string_append (raw, "HTTP/1.1 200 OK\r\n");
  g_string_append_printf (raw,
                          "Content-Type: video/mp4\r\nContent-Length: %" G_GSIZE_FORMAT
                          "\r\nAccept-Ranges: bytes\r\nETag: \"fake-etag\"\r\nConnection: close\r\n\r\n",
                          length);
  g_string_append_len (raw, (const char *)g_bytes_get_data (content, NULL) + start, (gssize)(length / 2));
  cut->stream = soup_server_message_steal_connection (msg);
  cut->data = g_string_free_to_bytes (g_steal_pointer (&raw));
  g_output_stream_write_all_async (g_io_stream_get_output_stream (cut->stream),
                                   g_bytes_get_data (cut->data, NULL), g_bytes_get_size (cut->data),
                                   G_PRIORITY_DEFAULT, NULL, cut_written_cb, cut);
}

/* Handler ----------------------------------------------------------------- */

static gboolean
requested_start (SoupServerMessage *msg, gsize total, gsize *start)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupRange *ranges = NULL;
  int n = 0;

  if (!soup_message_headers_get_ranges (headers, (goffset)total, &ranges, &n) || n != 1)
    return FALSE;
  *start = (gsize)ranges[0].start;
  soup_message_headers_free_ranges (headers, ranges);
  return TRUE;
}

static void
send_whole (SoupServerMessage *msg, GBytes *content, gsize start, gboolean partial)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  gsize total = g_bytes_get_size (content);
  g_autoptr (GBytes) slice = g_bytes_new_from_bytes (content, start, total - start);

  soup_message_headers_replace (headers, "Accept-Ranges", "bytes");
  soup_message_headers_replace (headers, "ETag", "\"fake-etag\"");
  if (partial)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_PARTIAL_CONTENT, NULL);
      soup_message_headers_set_content_range (headers, (goffset)start, (goffset)total - 1, (goffset)total);
    }
  else
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "video/mp4", SOUP_MEMORY_COPY, g_bytes_get_data (slice, NULL),
                                    g_bytes_get_size (slice));
}

static void
oss_handler (
    SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  FakeOss *self = user_data;
  const char *name = path + strlen (self->prefix);
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  FakeFile *file;
  gsize start = 0;
  gboolean ranged;

  while (*name == '/')
    name++;
  self->total_requests++;
  g_free (self->last_range);
  self->last_range = g_strdup (soup_message_headers_get_one (request_headers, "Range"));
  if (soup_message_headers_get_one (request_headers, "Authorization") != NULL)
    self->saw_authorization = TRUE;
  file = g_hash_table_lookup (self->files, name);
  if (file == NULL || g_strcmp0 (soup_server_message_get_method (msg), "GET") != 0)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }
  file->requests++;
  ranged = requested_start (msg, g_bytes_get_size (file->content), &start);

  switch (file->mode)
    {
      case FAKE_OSS_OK:
        send_whole (msg, file->content, ranged ? start : 0, ranged);
        break;
      case FAKE_OSS_EXPIRED:
        {
          static const char xml[]
              = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
                "<Message>Request has expired.</Message></Error>";

          soup_server_message_set_status (msg, SOUP_STATUS_FORBIDDEN, NULL);
          soup_server_message_set_response (msg, "application/xml", SOUP_MEMORY_STATIC, xml, strlen (xml));
        }
        break;
      case FAKE_OSS_CUT_ONCE:
        if (file->requests == 1)
          send_cut (msg, file->content, 0, FALSE);
        else
          send_whole (msg, file->content, ranged ? start : 0, ranged);
        break;
      case FAKE_OSS_CUT_ALWAYS:
        send_cut (msg, file->content, ranged ? start : 0, ranged);
        break;
      case FAKE_OSS_CUT_IGNORE_RANGE:
        if (file->requests == 1)
          send_cut (msg, file->content, 0, FALSE);
        else
          send_whole (msg, file->content, 0, FALSE);
        break;
      case FAKE_OSS_HUGE:
        start_stream (msg, NULL, HUGE_SIZE, FALSE, 0);
        break;
      case FAKE_OSS_HUGE_CHUNKED:
        start_stream (msg, NULL, HUGE_SIZE, TRUE, 0);
        break;
      case FAKE_OSS_NOT_FOUND:
        soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
        break;
      case FAKE_OSS_SERVER_ERROR:
        soup_server_message_set_status (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, NULL);
        break;
      case FAKE_OSS_SLOW:
        start_stream (msg, file->content, g_bytes_get_size (file->content), FALSE, 20);
        break;
      default:
        g_assert_not_reached ();
    }
}

FakeOss *
fake_oss_new (SoupServer *server, const char *prefix)
{
  FakeOss *self = g_new0 (FakeOss, 1);

  self->server = g_object_ref (server);
  self->prefix = g_strdup (prefix);
  self->files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, fake_file_free);
  soup_server_add_handler (server, prefix, oss_handler, self, NULL);
  return self;
}

void
fake_oss_free (FakeOss *self)
{
  if (self == NULL)
    return;
  soup_server_remove_handler (self->server, self->prefix);
  g_object_unref (self->server);
  g_free (self->prefix);
  g_hash_table_unref (self->files);
  g_free (self->last_range);
  g_free (self);
}

void
fake_oss_put (FakeOss *self, const char *name, GBytes *content, FakeOssMode mode)
{
  FakeFile *file = g_new0 (FakeFile, 1);

  file->content = g_bytes_ref (content);
  file->mode = mode;
  g_hash_table_replace (self->files, g_strdup (name), file);
}

void
fake_oss_set_mode (FakeOss *self, const char *name, FakeOssMode mode)
{
  FakeFile *file = g_hash_table_lookup (self->files, name);

  g_assert_nonnull (file);
  file->mode = mode;
  file->requests = 0;
}

guint
fake_oss_get_requests (FakeOss *self, const char *name)
{
  FakeFile *file = g_hash_table_lookup (self->files, name);

  return file != NULL ? file->requests : 0;
}

guint
fake_oss_get_total_requests (FakeOss *self)
{
  return self->total_requests;
}

const char *
fake_oss_get_last_range (FakeOss *self)
{
  return self->last_range;
}

gboolean
fake_oss_saw_authorization (FakeOss *self)
{
  return self->saw_authorization;
}
