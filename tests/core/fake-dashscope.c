/* fake-dashscope.c: the DashScope task protocol on loopback, faults included. */
#include "fake-dashscope.h"

#include <string.h>

#define CREATE_PATH "/api/v1/services/aigc/video-generation/video-synthesis"
#define TASKS_PATH "/api/v1/tasks/"
#define HELD_PREFIX "/held"
#define HELD_TRICKLE 64
#define HELD_TRICKLE_MS 50

typedef struct
{
  char *id;
  guint queries;
  char *forced_status; /* set by a cancel */
  char *model;
  char *size;
  gint64 duration;
} FakeTask;

struct _FakeDashscope
{
  SoupServer *server;
  char *origin;
  char *base_url;
  char *api_key;
  FakeOss *oss;
  GQueue create_replies;
  GQueue query_replies;
  guint retry_after;
  guint create_error_status;
  char *create_error_code;
  char *create_error_message;
  GStrv statuses;
  char *failure_code;
  char *failure_message;
  GBytes *video;
  FakeOssMode video_mode;
  gsize hold_bytes;
  guint n_held;
  GPtrArray *held; /* Held, open until the fake is freed */
  guint held_source;
  GHashTable *tasks; /* id → FakeTask */
  guint next_task;
  guint n_creates;
  guint n_queries;
  guint n_cancels;
  JsonObject *last_create;
  char *last_task_id;
  GString *request_log;
};

static void
fake_task_free (gpointer data)
{
  FakeTask *task = data;

  g_free (task->id);
  g_free (task->forced_status);
  g_free (task->model);
  g_free (task->size);
  g_free (task);
}

static void
set_json (SoupServerMessage *msg, guint status, JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = json_to_string (root, FALSE);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, text, strlen (text));
}

static void
set_error (SoupServerMessage *msg, guint status, const char *code, const char *message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "request_id");
  json_builder_add_string_value (builder, "fake-request");
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  set_json (msg, status, builder);
}

/* Applies a scripted fault; FALSE when the request should be served normally. */
static gboolean
apply_fault (FakeDashscope *self, SoupServerMessage *msg, GQueue *replies)
{
  FakeDashscopeReply reply = GPOINTER_TO_UINT (g_queue_pop_head (replies));

  switch (reply)
    {
      case FAKE_DASHSCOPE_REPLY_OK:
        return FALSE;
      case FAKE_DASHSCOPE_REPLY_429_RETRY_AFTER:
        {
          g_autofree char *seconds = g_strdup_printf ("%u", self->retry_after);

          soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After",
                                        seconds);
        }
        set_error (msg, 429, "Throttling.RateQuota", "Requests rate limit exceeded, please try again later.");
        return TRUE;
      case FAKE_DASHSCOPE_REPLY_429:
        set_error (msg, 429, "Throttling.RateQuota", "Request rate increased too quickly.");
        return TRUE;
      case FAKE_DASHSCOPE_REPLY_500:
        set_error (msg, 500, "InternalError", "An internal error has occured, please try again later.");
        return TRUE;
      case FAKE_DASHSCOPE_REPLY_MALFORMED:
        {
          static const char html[] = "<html><body><h1>502 Bad Gateway</h1></body></html>";

          soup_server_message_set_status (msg, 200, NULL);
          soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC, html, strlen (html));
        }
        return TRUE;
      case FAKE_DASHSCOPE_REPLY_TRUNCATED:
        {
          static const char cut[] = "{\"request_id\": \"r\", \"output\": {\"task_id\": \"task-";

          soup_server_message_set_status (msg, 200, NULL);
          soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, cut, strlen (cut));
        }
        return TRUE;
      case FAKE_DASHSCOPE_REPLY_HUGE:
        fake_oss_stream_filler (msg, G_GUINT64_CONSTANT (1) << 30, FALSE);
        return TRUE;
      case FAKE_DASHSCOPE_REPLY_DROP:
        {
          g_autoptr (GIOStream) stream = soup_server_message_steal_connection (msg);

          g_io_stream_close (stream, NULL, NULL);
        }
        return TRUE;
      default:
        g_assert_not_reached ();
    }
}

static gboolean
authorized (FakeDashscope *self, SoupServerMessage *msg)
{
  const char *header
      = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");
  g_autofree char *expected = g_strdup_printf ("Bearer %s", self->api_key);
  g_autofree char *message = NULL;

  if (g_strcmp0 (header, expected) == 0)
    return TRUE;
  /* Like some real services, echo what was sent: the client must redact it. */
  message
      = g_strdup_printf ("Invalid API-key provided: %s", header != NULL ? header + strlen ("Bearer ") : "");
  set_error (msg, 401, "InvalidApiKey", message);
  return FALSE;
}

static const char *
task_status (FakeDashscope *self, FakeTask *task)
{
  guint n = g_strv_length (self->statuses);

  if (task->forced_status != NULL)
    return task->forced_status;
  return self->statuses[MIN (MAX (task->queries, 1u), n) - 1];
}

static void
add_task_output (FakeDashscope *self, JsonBuilder *builder, FakeTask *task, const char *status)
{
  json_builder_set_member_name (builder, "output");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "task_id");
  json_builder_add_string_value (builder, task->id);
  json_builder_set_member_name (builder, "task_status");
  json_builder_add_string_value (builder, status);
  json_builder_set_member_name (builder, "submit_time");
  json_builder_add_string_value (builder, "2025-08-01 10:00:01.120");
  if (g_str_equal (status, "SUCCEEDED") || g_str_equal (status, "FAILED"))
    {
      json_builder_set_member_name (builder, "scheduled_time");
      json_builder_add_string_value (builder, "2025-08-01 10:00:05.400");
      json_builder_set_member_name (builder, "end_time");
      json_builder_add_string_value (builder, "2025-08-01 10:01:32.880");
    }
  if (g_str_equal (status, "SUCCEEDED"))
    {
      g_autofree char *url
          = g_strdup_printf ("%s%s/%s.mp4?Expires=1754100000&OSSAccessKeyId=fake&Signature=x%%2By",
                             self->origin, self->hold_bytes > 0 ? HELD_PREFIX : "/oss", task->id);

      json_builder_set_member_name (builder, "video_url");
      json_builder_add_string_value (builder, url);
    }
  if (g_str_equal (status, "FAILED"))
    {
      json_builder_set_member_name (builder, "code");
      json_builder_add_string_value (builder, self->failure_code);
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, self->failure_message);
    }
  json_builder_end_object (builder);
  if (g_str_equal (status, "SUCCEEDED"))
    {
      json_builder_set_member_name (builder, "usage");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "video_count");
      json_builder_add_int_value (builder, 1);
      json_builder_set_member_name (builder, "video_duration");
      json_builder_add_int_value (builder, task->duration);
      json_builder_set_member_name (builder, "video_ratio");
      json_builder_add_string_value (builder, task->size);
      json_builder_end_object (builder);
    }
}

static void
handle_create (FakeDashscope *self, SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  JsonObject *request, *parameters;
  FakeTask *task;

  self->n_creates++;
  if (!authorized (self, msg) || apply_fault (self, msg, &self->create_replies))
    return;
  if (g_strcmp0 (
          soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "X-DashScope-Async"),
          "enable")
      != 0)
    {
      set_error (msg, 403, "AccessDenied", "current user api does not support synchronous calls");
      return;
    }
  if (self->create_error_status != 0)
    {
      set_error (msg, self->create_error_status, self->create_error_code, self->create_error_message);
      self->create_error_status = 0;
      return;
    }
  if (!json_parser_load_from_data (parser, body->data, body->length, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      set_error (msg, 400, "InvalidParameter", "The request body is not valid JSON.");
      return;
    }
  request = json_node_get_object (json_parser_get_root (parser));
  g_clear_pointer (&self->last_create, json_object_unref);
  self->last_create = json_object_ref (request);
  parameters = json_object_get_object_member (request, "parameters");
  if (!json_object_has_member (request, "model") || !json_object_has_member (request, "input")
      || parameters == NULL)
    {
      set_error (msg, 400, "InvalidParameter", "Required parameter missing.");
      return;
    }

  task = g_new0 (FakeTask, 1);
  task->id = g_strdup_printf ("task-%04u-8c2f", ++self->next_task);
  task->model = g_strdup (json_object_get_string_member (request, "model"));
  task->size = g_strdup (json_object_get_string_member_with_default (parameters, "size", "1280*720"));
  task->duration = json_object_get_int_member_with_default (parameters, "duration", 5);
  g_hash_table_insert (self->tasks, g_strdup (task->id), task);
  g_free (self->last_task_id);
  self->last_task_id = g_strdup (task->id);
  {
    g_autofree char *name = g_strdup_printf ("%s.mp4", task->id);

    fake_oss_put (self->oss, name, self->video, self->video_mode);
  }

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "request_id");
  json_builder_add_string_value (builder, "fake-request");
  json_builder_set_member_name (builder, "output");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "task_id");
  json_builder_add_string_value (builder, task->id);
  json_builder_set_member_name (builder, "task_status");
  json_builder_add_string_value (builder, "PENDING");
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  set_json (msg, 200, builder);
}

static void
handle_query (FakeDashscope *self, SoupServerMessage *msg, const char *task_id)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  FakeTask *task;

  self->n_queries++;
  if (!authorized (self, msg) || apply_fault (self, msg, &self->query_replies))
    return;
  task = g_hash_table_lookup (self->tasks, task_id);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "request_id");
  json_builder_add_string_value (builder, "fake-request");
  if (task == NULL)
    {
      /* Unknown or expired ids answer 200 with UNKNOWN, as documented. */
      json_builder_set_member_name (builder, "output");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "task_id");
      json_builder_add_string_value (builder, task_id);
      json_builder_set_member_name (builder, "task_status");
      json_builder_add_string_value (builder, "UNKNOWN");
      json_builder_end_object (builder);
    }
  else
    {
      task->queries++;
      add_task_output (self, builder, task, task_status (self, task));
    }
  json_builder_end_object (builder);
  set_json (msg, 200, builder);
}

static void
handle_cancel (FakeDashscope *self, SoupServerMessage *msg, const char *task_id)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  FakeTask *task;

  self->n_cancels++;
  if (!authorized (self, msg))
    return;
  task = g_hash_table_lookup (self->tasks, task_id);
  if (task == NULL || !g_str_equal (task->queries > 0 ? task_status (self, task) : "PENDING", "PENDING"))
    {
      set_error (msg, 400, "UnsupportedOperation",
                 "Failed to cancel the task, please confirm if the task is in PENDING status.");
      return;
    }
  g_free (task->forced_status);
  task->forced_status = g_strdup ("CANCELED");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "request_id");
  json_builder_add_string_value (builder, "fake-request");
  json_builder_end_object (builder);
  set_json (msg, 200, builder);
}

static void
api_handler (
    SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  FakeDashscope *self = user_data;
  const char *method = soup_server_message_get_method (msg);
  SoupMessageBody *body = soup_server_message_get_request_body (msg);

  g_string_append_printf (self->request_log, "%s %s\n", method, path);
  if (body->length > 0)
    {
      g_string_append_len (self->request_log, body->data, body->length);
      g_string_append_c (self->request_log, '\n');
    }

  if (g_str_equal (path, CREATE_PATH) && g_str_equal (method, "POST"))
    handle_create (self, msg);
  else if (g_str_has_prefix (path, TASKS_PATH))
    {
      g_autofree char *rest = g_strdup (path + strlen (TASKS_PATH));
      char *slash = strchr (rest, '/');

      if (slash == NULL && g_str_equal (method, "GET"))
        handle_query (self, msg, rest);
      else if (slash != NULL && g_str_equal (slash, "/cancel") && g_str_equal (method, "POST"))
        {
          *slash = '\0';
          handle_cancel (self, msg, rest);
        }
      else
        set_error (msg, 404, "NotFound", "No such route.");
    }
  else
    set_error (msg, 404, "NotFound", "No such route.");
}

/* Holding downloads ------------------------------------------------------- */

typedef struct
{
  GIOStream *stream;
  gsize offset; /* of the video, sent so far */
  gboolean gone;
} Held;

static void
held_free (gpointer data)
{
  Held *held = data;

  g_io_stream_close (held->stream, NULL, NULL);
  g_object_unref (held->stream);
  g_free (held);
}

/* Small blocking writes: a loopback socket takes them at once, and a client
 * that went away makes them fail instead of block. */
static gboolean
held_send (Held *held, const void *data, gsize size)
{
  if (!held->gone
      && !g_output_stream_write_all (g_io_stream_get_output_stream (held->stream), data, size, NULL, NULL,
                                     NULL))
    held->gone = TRUE;
  return !held->gone;
}

/* A trickle after the first part: a client that reports its progress now
 * and then sees bytes arriving, yet the video never completes. */
static gboolean
held_trickle_cb (gpointer user_data)
{
  FakeDashscope *self = user_data;
  gsize size = g_bytes_get_size (self->video);

  for (guint i = 0; i < self->held->len; i++)
    {
      Held *held = g_ptr_array_index (self->held, i);
      gsize n = MIN (HELD_TRICKLE, size - 1 - MIN (held->offset, size - 1));

      if (n > 0 && held_send (held, (const guint8 *)g_bytes_get_data (self->video, NULL) + held->offset, n))
        held->offset += n;
    }
  return G_SOURCE_CONTINUE;
}

/* Written by hand on the stolen connection, so the first part surely leaves
 * this process while the end of the video never does. */
static void
held_handler (
    SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  FakeDashscope *self = user_data;
  const char *name = path + strlen (HELD_PREFIX);
  g_autofree char *task_id = NULL;
  gsize size = g_bytes_get_size (self->video);
  g_autofree char *head = NULL;
  Held *held;

  while (*name == '/')
    name++;
  task_id
      = g_strndup (name, g_str_has_suffix (name, ".mp4") ? strlen (name) - strlen (".mp4") : strlen (name));
  if (g_strcmp0 (soup_server_message_get_method (msg), "GET") != 0
      || g_hash_table_lookup (self->tasks, task_id) == NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }
  g_assert_cmpuint (self->hold_bytes, <, size);
  head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: video/mp4\r\nContent-Length: %" G_GSIZE_FORMAT
                          "\r\nAccept-Ranges: bytes\r\n\r\n",
                          size);
  held = g_new0 (Held, 1);
  held->stream = soup_server_message_steal_connection (msg);
  g_ptr_array_add (self->held, held);
  if (held_send (held, head, strlen (head))
      && held_send (held, g_bytes_get_data (self->video, NULL), self->hold_bytes))
    {
      held->offset = self->hold_bytes;
      self->n_held++;
    }
  if (self->held_source == 0)
    self->held_source = g_timeout_add (HELD_TRICKLE_MS, held_trickle_cb, self);
}

FakeDashscope *
fake_dashscope_new (const char *api_key)
{
  FakeDashscope *self = g_new0 (FakeDashscope, 1);
  const char *statuses[] = { "PENDING", "RUNNING", "SUCCEEDED", NULL };

  self->server = fake_http_server_new (&self->origin);
  self->base_url = g_strdup_printf ("%s/api/v1", self->origin);
  self->api_key = g_strdup (api_key);
  self->retry_after = 7;
  self->oss = fake_oss_new (self->server, "/oss");
  g_queue_init (&self->create_replies);
  g_queue_init (&self->query_replies);
  self->statuses = g_strdupv ((char **)statuses);
  self->failure_code = g_strdup ("InternalError");
  self->failure_message = g_strdup ("Task failed.");
  self->video = fake_oss_make_content (64 * 1024, 3);
  self->video_mode = FAKE_OSS_OK;
  self->tasks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, fake_task_free);
  self->request_log = g_string_new (NULL);
  soup_server_add_handler (self->server, "/api", api_handler, self, NULL);
  self->held = g_ptr_array_new_with_free_func (held_free);
  soup_server_add_handler (self->server, HELD_PREFIX, held_handler, self, NULL);
  return self;
}

void
fake_dashscope_free (FakeDashscope *self)
{
  if (self == NULL)
    return;
  fake_oss_free (self->oss);
  soup_server_remove_handler (self->server, HELD_PREFIX);
  g_clear_handle_id (&self->held_source, g_source_remove);
  g_ptr_array_unref (self->held);
  soup_server_disconnect (self->server);
  g_object_unref (self->server);
  g_free (self->origin);
  g_free (self->base_url);
  g_free (self->api_key);
  g_queue_clear (&self->create_replies);
  g_queue_clear (&self->query_replies);
  g_free (self->create_error_code);
  g_free (self->create_error_message);
  g_strfreev (self->statuses);
  g_free (self->failure_code);
  g_free (self->failure_message);
  g_bytes_unref (self->video);
  g_hash_table_unref (self->tasks);
  g_clear_pointer (&self->last_create, json_object_unref);
  g_free (self->last_task_id);
  g_string_free (self->request_log, TRUE);
  g_free (self);
}

const char *
fake_dashscope_get_base_url (FakeDashscope *self)
{
  return self->base_url;
}

FakeOss *
fake_dashscope_get_oss (FakeDashscope *self)
{
  return self->oss;
}

void
fake_dashscope_push_create_reply (FakeDashscope *self, FakeDashscopeReply reply)
{
  g_queue_push_tail (&self->create_replies, GUINT_TO_POINTER (reply));
}

void
fake_dashscope_push_query_reply (FakeDashscope *self, FakeDashscopeReply reply)
{
  g_queue_push_tail (&self->query_replies, GUINT_TO_POINTER (reply));
}

void
fake_dashscope_set_retry_after (FakeDashscope *self, guint seconds)
{
  self->retry_after = seconds;
}

void
fake_dashscope_set_create_error (FakeDashscope *self, guint status, const char *code, const char *message)
{
  self->create_error_status = status;
  g_free (self->create_error_code);
  self->create_error_code = g_strdup (code);
  g_free (self->create_error_message);
  self->create_error_message = g_strdup (message);
}

void
fake_dashscope_set_statuses (FakeDashscope *self, const char *const *statuses)
{
  g_assert_true (statuses != NULL && statuses[0] != NULL);
  g_strfreev (self->statuses);
  self->statuses = g_strdupv ((char **)statuses);
}

void
fake_dashscope_set_failure (FakeDashscope *self, const char *code, const char *message)
{
  g_free (self->failure_code);
  self->failure_code = g_strdup (code);
  g_free (self->failure_message);
  self->failure_message = g_strdup (message);
}

void
fake_dashscope_set_video (FakeDashscope *self, GBytes *video, FakeOssMode mode)
{
  g_bytes_unref (self->video);
  self->video = g_bytes_ref (video);
  self->video_mode = mode;
}

void
fake_dashscope_set_video_hold (FakeDashscope *self, gsize bytes)
{
  self->hold_bytes = bytes;
}

guint
fake_dashscope_get_n_held (FakeDashscope *self)
{
  return self->n_held;
}

guint
fake_dashscope_get_n_creates (FakeDashscope *self)
{
  return self->n_creates;
}

guint
fake_dashscope_get_n_queries (FakeDashscope *self)
{
  return self->n_queries;
}

guint
fake_dashscope_get_n_cancels (FakeDashscope *self)
{
  return self->n_cancels;
}

guint
fake_dashscope_get_task_queries (FakeDashscope *self, const char *task_id)
{
  FakeTask *task = g_hash_table_lookup (self->tasks, task_id);

  return task != NULL ? task->queries : 0;
}

JsonObject *
fake_dashscope_get_last_create (FakeDashscope *self)
{
  return self->last_create;
}

const char *
fake_dashscope_get_last_task_id (FakeDashscope *self)
{
  return self->last_task_id;
}

const char *
fake_dashscope_get_request_log (FakeDashscope *self)
{
  return self->request_log->str;
}
