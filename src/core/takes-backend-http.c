/* takes-backend-http.c: HTTP plumbing shared by the remote backends. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "takes-backend-http.h"
#include "takes-backend.h"
#include "takes-secrets.h"

#define READ_CHUNK (64 * 1024)

SoupSession *
takes_backend_http_session_new (void)
{
  g_autofree char *user_agent = g_strdup_printf ("Takes/%s ", PACKAGE_VERSION);

  /* A stalled server must not hold a job forever: 60 s without any byte is a
   * network failure. Downloads set their own, longer limits per read. */
  return soup_session_new_with_options ("user-agent", user_agent, "timeout", 60, "idle-timeout", 60, NULL);
}

static char *
host_of_uri (GUri *uri)
{
  const char *host = uri != NULL ? g_uri_get_host (uri) : NULL;
  int port = uri != NULL ? g_uri_get_port (uri) : -1;

  if (host == NULL)
    return g_strdup (_ ("the server"));
  if (port > 0)
    return g_strdup_printf ("%s:%d", host, port);
  return g_strdup (host);
}

/* "host:port" for messages: never the path or query, which for signed result
 * URLs hold a signature. */
char *
takes_backend_http_describe_host (SoupMessage *message)
{
  return host_of_uri (message != NULL ? soup_message_get_uri (message) : NULL);
}

/* NULL with a clear error when @uri is not a usable http(s) address (it comes
 * from settings a person typed). */
SoupMessage *
takes_backend_http_message_new (const char *method, const char *uri, const char *service, GError **error)
{
  g_autoptr (GUri) parsed = NULL;
  const char *scheme;

  parsed = uri != NULL ? g_uri_parse (uri, SOUP_HTTP_URI_FLAGS, NULL) : NULL;
  scheme = parsed != NULL ? g_uri_get_scheme (parsed) : NULL;
  if (parsed == NULL || scheme == NULL
      || (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
      || g_uri_get_host (parsed) == NULL || *g_uri_get_host (parsed) == '\0')
    {
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                   _ ("The address of %s is not a valid http or https URL. Correct it in Preferences."),
                   service);
      return NULL;
    }
  return soup_message_new_from_uri (method, parsed);
}

void
takes_backend_http_set_json_body (SoupMessage *message, JsonNode *body)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (GBytes) bytes = NULL;
  gsize length = 0;
  char *text;

  json_generator_set_root (generator, body);
  text = json_generator_to_data (generator, &length);
  bytes = g_bytes_new_take (text, length);
  soup_message_set_request_body_from_bytes (message, "application/json", bytes);
}

GError *
takes_backend_http_transport_error (const GError *error, SoupMessage *message, const char *service)
{
  g_autofree char *host = takes_backend_http_describe_host (message);
  g_autofree char *detail = takes_secrets_redact (error->message);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return g_error_copy (error);
  if (error->domain == TAKES_BACKEND_ERROR)
    return g_error_copy (error);
  if (error->domain == G_RESOLVER_ERROR)
    return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NETWORK,
                        _ ("Could not find %s (%s): %s. Check the address and your network connection."),
                        service, host, detail);
  if (error->domain == G_TLS_ERROR)
    return g_error_new (
        TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NETWORK,
        _ ("Could not make a secure connection to %s (%s): %s. The server's certificate is not "
           "trusted or the address is wrong."),
        service, host, detail);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED)
      || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE))
    return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NETWORK,
                        _ ("The connection to %s (%s) was cut: %s. Try again."), service, host, detail);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NETWORK,
                        _ ("%s (%s) stopped answering. Check your network connection and try again."),
                        service, host);
  return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NETWORK,
                      _ ("Could not connect to %s (%s): %s. Check that the server is running and reachable."),
                      service, host, detail);
}

/* Bounded reads -------------------------------------------------------------- */

typedef struct
{
  SoupMessage *message;
  GInputStream *stream;
  GByteArray *body;
  gsize max_bytes;
  char *service;
} FetchData;

static void
fetch_data_free (gpointer data)
{
  FetchData *fetch = data;

  g_clear_object (&fetch->message);
  g_clear_object (&fetch->stream);
  g_clear_pointer (&fetch->body, g_byte_array_unref);
  g_free (fetch->service);
  g_free (fetch);
}

static GError *
too_large_error (FetchData *fetch)
{
  g_autofree char *host = takes_backend_http_describe_host (fetch->message);
  g_autofree char *limit = g_format_size (fetch->max_bytes);

  return g_error_new (
      TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_TOO_LARGE,
      _ ("%s (%s) sent a reply larger than %s, so Takes stopped reading it. Check that the address "
         "points to the right service."),
      fetch->service, host, limit);
}

static void fetch_read_next (GTask *task);

static void
fetch_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FetchData *fetch = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) chunk = g_input_stream_read_bytes_finish (G_INPUT_STREAM (source), result, &error);

  if (chunk == NULL)
    {
      g_task_return_error (task, takes_backend_http_transport_error (error, fetch->message, fetch->service));
      return;
    }
  if (g_bytes_get_size (chunk) == 0)
    {
      g_task_return_pointer (task, g_byte_array_free_to_bytes (g_steal_pointer (&fetch->body)),
                             (GDestroyNotify)g_bytes_unref);
      return;
    }
  if (fetch->body->len + g_bytes_get_size (chunk) > fetch->max_bytes)
    {
      g_task_return_error (task, too_large_error (fetch));
      return;
    }
  g_byte_array_append (fetch->body, g_bytes_get_data (chunk, NULL), g_bytes_get_size (chunk));
  fetch_read_next (g_steal_pointer (&task));
}

static void
fetch_read_next (GTask *task)
{
  FetchData *fetch = g_task_get_task_data (task);

  g_input_stream_read_bytes_async (fetch->stream, READ_CHUNK, G_PRIORITY_DEFAULT,
                                   g_task_get_cancellable (task), fetch_read_cb, task);
}

static void
fetch_send_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  FetchData *fetch = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  SoupMessageHeaders *headers;

  fetch->stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (fetch->stream == NULL)
    {
      g_task_return_error (task, takes_backend_http_transport_error (error, fetch->message, fetch->service));
      return;
    }
  headers = soup_message_get_response_headers (fetch->message);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
      && (guint64)soup_message_headers_get_content_length (headers) > fetch->max_bytes)
    {
      g_task_return_error (task, too_large_error (fetch));
      return;
    }
  fetch_read_next (g_steal_pointer (&task));
}

/* Sends @message and reads its whole reply body, at most @max_bytes of it,
 * whatever the status: the caller reads the status from @message and the
 * error details from the body. */
void
takes_backend_http_fetch_async (SoupSession *session,
                                SoupMessage *message,
                                gsize max_bytes,
                                const char *service,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  FetchData *fetch;

  g_return_if_fail (SOUP_IS_SESSION (session));
  g_return_if_fail (SOUP_IS_MESSAGE (message));

  task = g_task_new (session, cancellable, callback, user_data);
  g_task_set_source_tag (task, takes_backend_http_fetch_async);
  fetch = g_new0 (FetchData, 1);
  fetch->message = g_object_ref (message);
  fetch->body = g_byte_array_new ();
  fetch->max_bytes = max_bytes > 0 ? max_bytes : TAKES_BACKEND_HTTP_MAX_REPLY;
  fetch->service = g_strdup (service);
  g_task_set_task_data (task, fetch, fetch_data_free);
  soup_session_send_async (session, message, G_PRIORITY_DEFAULT, cancellable, fetch_send_cb,
                           g_steal_pointer (&task));
}

GBytes *
takes_backend_http_fetch_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Replies ------------------------------------------------------------------- */

/* The start of a reply that is not what we expected, safe to show: valid
 * UTF-8, one line, short, and without keys. */
char *
takes_backend_http_body_excerpt (GBytes *body)
{
  gsize size = 0;
  const char *data = body != NULL ? g_bytes_get_data (body, &size) : NULL;
  g_autofree char *valid = NULL;
  g_autofree char *redacted = NULL;
  g_autoptr (GString) out = g_string_new (NULL);
  glong n = 0;

  if (data == NULL || size == 0)
    return g_strdup (_ ("an empty reply"));
  valid = g_utf8_make_valid (data, MIN (size, 600));
  redacted = takes_secrets_redact (valid);
  for (const char *p = redacted; *p != '\0' && n < 200; p = g_utf8_next_char (p), n++)
    {
      gunichar c = g_utf8_get_char (p);

      g_string_append_unichar (out, g_unichar_iscntrl (c) ? ' ' : c);
    }
  if (*redacted != '\0' && n >= 200)
    g_string_append (out, "…");
  return g_strstrip (g_string_free (g_steal_pointer (&out), FALSE));
}

JsonNode *
takes_backend_http_parse_json (GBytes *body, const char *service, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) local_error = NULL;
  gsize size = 0;
  const char *data = body != NULL ? g_bytes_get_data (body, &size) : NULL;

  if (data == NULL || size == 0)
    {
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                   _ ("%s sent an empty reply. The server may be overloaded; try again later."), service);
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, size, &local_error) || json_parser_get_root (parser) == NULL)
    {
      g_autofree char *excerpt = takes_backend_http_body_excerpt (body);

      g_set_error (
          error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
          _ ("%s sent a reply Takes could not read (it is not complete JSON: “%s”). The server may be "
             "overloaded or the address may point to another service; try again later."),
          service, excerpt);
      return NULL;
    }
  return json_parser_steal_root (parser);
}

/* Seconds from a Retry-After header (delta seconds or an HTTP date), or -1
 * when there is none or it cannot be read. */
int
takes_backend_http_retry_after (SoupMessage *message)
{
  const char *value
      = soup_message_headers_get_one (soup_message_get_response_headers (message), "Retry-After");
  g_autofree char *trimmed = NULL;
  g_autoptr (GDateTime) when = NULL;
  g_autoptr (GDateTime) now = NULL;
  guint64 seconds = 0;

  if (value == NULL)
    return -1;
  trimmed = g_strstrip (g_strdup (value));
  if (g_ascii_string_to_unsigned (trimmed, 10, 0, 24 * 3600, &seconds, NULL))
    return (int)seconds;
  when = soup_date_time_new_from_http_string (trimmed);
  if (when == NULL)
    return -1;
  now = g_date_time_new_now_utc ();
  return (int)CLAMP (g_date_time_difference (when, now) / G_TIME_SPAN_SECOND, 0, 24 * 3600);
}

const char *
takes_backend_json_get_string (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

JsonObject *
takes_backend_json_get_object (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return NULL;
  return json_node_get_object (node);
}

gboolean
takes_backend_json_get_number (JsonObject *object, const char *member, double *value)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  if (type == G_TYPE_INT64)
    *value = (double)json_node_get_int (node);
  else if (type == G_TYPE_DOUBLE)
    *value = json_node_get_double (node);
  else
    return FALSE;
  return TRUE;
}

gboolean
takes_backend_dashscope_parse_size (const char *text, guint *width, guint *height)
{
  g_auto (GStrv) parts = NULL;
  guint64 w = 0, h = 0;

  if (text == NULL)
    return FALSE;
  parts = g_strsplit (text, "*", 3);
  if (g_strv_length (parts) != 2 || !g_ascii_string_to_unsigned (parts[0], 10, 1, 16384, &w, NULL)
      || !g_ascii_string_to_unsigned (parts[1], 10, 1, 16384, &h, NULL))
    return FALSE;
  *width = (guint)w;
  *height = (guint)h;
  return TRUE;
}
