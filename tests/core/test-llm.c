/* The LLM rewrite client against a SoupServer on 127.0.0.1 that streams
 * server-sent events with delays, and misbehaves on request. */
#include "config.h"

#include <libsoup/soup.h>
#include <string.h>

#include "takes-llm.h"

#define API_KEY "sk-test-0123456789"

typedef enum
{
  SERVE_STREAM,         /* a well-formed stream ending with [DONE] */
  SERVE_STREAM_NO_DONE, /* ends after finish_reason without [DONE] */
  SERVE_DROP,           /* closes the connection half way */
  SERVE_TRUNCATED,      /* ends the body cleanly, but before any finish */
  SERVE_MALFORMED,      /* a chunk that is not JSON */
  SERVE_STALL,          /* a first chunk, then silence */
  SERVE_NO_ANSWER,      /* never even sends headers */
  SERVE_STATUS,         /* an HTTP error with an OpenAI error body */
  SERVE_JSON,           /* a non-streamed completion */
  SERVE_THINKING,       /* a reasoning model's answer with a preamble */
  SERVE_FILTERED,       /* finish_reason content_filter */
  SERVE_EMPTY,          /* a stream with no text */
  SERVE_ERROR_EVENT,    /* an error object in the middle of the stream */
} ServeMode;

typedef struct
{
  SoupServer *server;
  char *base_url;
  ServeMode mode;
  guint status;
  guint delay_ms;
  GPtrArray *paused;  /* SoupServerMessage held without an answer */
  GPtrArray *streams; /* Stream, freed at teardown */
  GPtrArray *sources; /* pending timeouts, removed at teardown */
  char *last_body;
  char *last_auth;
  guint requests;
} Fixture;

typedef struct
{
  Fixture *fixture;
  SoupServerMessage *msg;
  GPtrArray *lines; /* what is left to send */
  gboolean finish;
  gboolean drop;
  gboolean held; /* paused with the body not complete */
  gboolean gone; /* finished, or the client went away */
} Stream;

static const char *stream_text[]
    = { "Daytime, ", "wide shot, ", "a red fox ", "trots across fresh snow", NULL };

static char *
chunk_json (const char *content, const char *finish)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, "chatcmpl-1");
  json_builder_set_member_name (b, "object");
  json_builder_add_string_value (b, "chat.completion.chunk");
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, "qwen-test");
  json_builder_set_member_name (b, "choices");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "index");
  json_builder_add_int_value (b, 0);
  json_builder_set_member_name (b, "delta");
  json_builder_begin_object (b);
  if (content != NULL)
    {
      json_builder_set_member_name (b, "content");
      json_builder_add_string_value (b, content);
    }
  json_builder_end_object (b);
  json_builder_set_member_name (b, "finish_reason");
  if (finish != NULL)
    json_builder_add_string_value (b, finish);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  return json_to_string (root, FALSE);
}

static void
add_event (GPtrArray *lines, char *json)
{
  g_ptr_array_add (lines, g_strdup_printf ("data: %s\n\n", json));
  g_free (json);
}

static void
stream_free (Stream *s)
{
  g_ptr_array_unref (s->lines);
  g_object_unref (s->msg);
  g_free (s);
}

static gboolean
steal_cb (gpointer user_data)
{
  Stream *s = user_data;
  g_autoptr (GIOStream) connection = NULL;

  if (s->gone)
    return G_SOURCE_REMOVE;
  connection = soup_server_message_steal_connection (s->msg);
  s->held = FALSE;
  s->gone = TRUE;
  if (connection != NULL)
    g_io_stream_close (connection, NULL, NULL);
  return G_SOURCE_REMOVE;
}

/* Drops the connection once everything queued has gone out. */
static void
wrote_chunk_cb (SoupServerMessage *msg, gpointer user_data)
{
  Stream *s = user_data;

  if (s->drop && s->lines->len == 0)
    {
      g_signal_handlers_disconnect_by_func (msg, wrote_chunk_cb, s);
      g_idle_add (steal_cb, s);
    }
}

static void
stream_finished_cb (SoupServerMessage *msg, gpointer user_data)
{
  Stream *s = user_data;

  s->gone = TRUE;
  s->held = FALSE;
}

static gboolean
send_next_cb (gpointer user_data)
{
  Stream *s = user_data;
  SoupMessageBody *body = soup_server_message_get_response_body (s->msg);

  if (s->gone)
    return G_SOURCE_REMOVE;
  if (s->lines->len > 0)
    {
      char *line = g_ptr_array_steal_index (s->lines, 0);

      soup_message_body_append (body, SOUP_MEMORY_TAKE, line, strlen (line));
      soup_server_message_unpause (s->msg);
      if (s->lines->len > 0 || s->finish)
        return G_SOURCE_CONTINUE;
      /* A stall or a drop: the message stays held. */
      return G_SOURCE_REMOVE;
    }
  s->held = FALSE;
  soup_message_body_complete (body);
  soup_server_message_unpause (s->msg);
  return G_SOURCE_REMOVE;
}

static void
start_stream (Fixture *f, SoupServerMessage *msg, GPtrArray *lines, gboolean finish, gboolean drop)
{
  Stream *s = g_new0 (Stream, 1);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  GSource *source;

  s->fixture = f;
  s->msg = g_object_ref (msg);
  s->lines = lines;
  s->finish = finish;
  s->drop = drop;
  s->held = TRUE;
  g_ptr_array_add (f->streams, s);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (headers, "text/event-stream", NULL);
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (wrote_chunk_cb), s);
  g_signal_connect (msg, "finished", G_CALLBACK (stream_finished_cb), s);
  soup_server_message_pause (msg);

  source = g_timeout_source_new (f->delay_ms);
  g_source_set_callback (source, send_next_cb, s, NULL);
  g_source_attach (source, NULL);
  g_ptr_array_add (f->sources, source);
}

static void
held_finished_cb (SoupServerMessage *msg, gpointer user_data)
{
  Fixture *f = user_data;

  g_ptr_array_remove (f->paused, msg);
}

static void
handler_cb (
    SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Fixture *f = user_data;
  SoupMessageBody *request = soup_server_message_get_request_body (msg);
  GPtrArray *lines = g_ptr_array_new_with_free_func (g_free);

  f->requests++;
  g_free (f->last_body);
  f->last_body = g_strndup (request->data, request->length);
  g_free (f->last_auth);
  f->last_auth = g_strdup (
      soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization"));

  if (!g_str_equal (path, "/v1/chat/completions")
      || !g_str_equal (soup_server_message_get_method (msg), SOUP_METHOD_POST))
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      g_ptr_array_unref (lines);
      return;
    }

  switch (f->mode)
    {
      case SERVE_STREAM:
      case SERVE_STREAM_NO_DONE:
        add_event (lines, chunk_json ("", NULL));
        g_ptr_array_add (lines, g_strdup (": keep-alive\n\n"));
        for (guint i = 0; stream_text[i] != NULL; i++)
          add_event (lines, chunk_json (stream_text[i], NULL));
        g_ptr_array_add (lines, g_strdup ("event: message\r\ndata: \r\n\r\n"));
        add_event (lines, chunk_json (NULL, "stop"));
        g_ptr_array_add (
            lines,
            g_strdup ("data: {\"id\":\"chatcmpl-1\",\"choices\":[],\"usage\":{\"total_tokens\":9}}\n\n"));
        if (f->mode == SERVE_STREAM)
          g_ptr_array_add (lines, g_strdup ("data: [DONE]\n\n"));
        start_stream (f, msg, lines, TRUE, FALSE);
        break;
      case SERVE_DROP:
        add_event (lines, chunk_json ("Daytime, ", NULL));
        add_event (lines, chunk_json ("wide shot, ", NULL));
        start_stream (f, msg, lines, FALSE, TRUE);
        break;
      case SERVE_TRUNCATED:
        add_event (lines, chunk_json ("Daytime, ", NULL));
        start_stream (f, msg, lines, TRUE, FALSE);
        break;
      case SERVE_MALFORMED:
        add_event (lines, chunk_json ("Daytime, ", NULL));
        g_ptr_array_add (lines, g_strdup ("data: {\"choices\": [{\"delta\": {\"content\": \"oops\"\n\n"));
        add_event (lines, chunk_json (NULL, "stop"));
        start_stream (f, msg, lines, TRUE, FALSE);
        break;
      case SERVE_STALL:
        add_event (lines, chunk_json ("Daytime, ", NULL));
        start_stream (f, msg, lines, FALSE, FALSE);
        break;
      case SERVE_NO_ANSWER:
        soup_server_message_pause (msg);
        g_ptr_array_add (f->paused, g_object_ref (msg));
        g_signal_connect (msg, "finished", G_CALLBACK (held_finished_cb), f);
        g_ptr_array_unref (lines);
        break;
      case SERVE_STATUS:
        {
          g_autofree char *body
              = g_strdup_printf ("{\"error\": {\"message\": \"Incorrect API key provided: %s\","
                                 " \"type\": \"invalid_request_error\"}}",
                                 API_KEY);

          soup_server_message_set_status (msg, f->status, NULL);
          soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, body, strlen (body));
          g_ptr_array_unref (lines);
        }
        break;
      case SERVE_JSON:
        {
          const char *body = "{\"id\": \"c\", \"object\": \"chat.completion\", \"model\": \"llama\","
                             " \"choices\": [{\"index\": 0, \"message\": {\"role\": \"assistant\","
                             " \"content\": \"Daytime, a red fox trots across fresh snow\"},"
                             " \"finish_reason\": \"stop\"}]}";

          soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
          soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, body, strlen (body));
          g_ptr_array_unref (lines);
        }
        break;
      case SERVE_THINKING:
        add_event (lines, chunk_json ("<think>The user wants a fox.", NULL));
        add_event (lines, chunk_json (" Keep it short.</think>\n\n", NULL));
        add_event (lines,
                   chunk_json ("Rewritten prompt: \"Daytime, a red fox trots across fresh snow\"", "stop"));
        g_ptr_array_add (lines, g_strdup ("data: [DONE]\n\n"));
        start_stream (f, msg, lines, TRUE, FALSE);
        break;
      case SERVE_FILTERED:
        add_event (lines, chunk_json ("Day", NULL));
        add_event (lines, chunk_json (NULL, "content_filter"));
        g_ptr_array_add (lines, g_strdup ("data: [DONE]\n\n"));
        start_stream (f, msg, lines, TRUE, FALSE);
        break;
      case SERVE_EMPTY:
        add_event (lines, chunk_json ("  ", NULL));
        add_event (lines, chunk_json (NULL, "stop"));
        g_ptr_array_add (lines, g_strdup ("data: [DONE]\n\n"));
        start_stream (f, msg, lines, TRUE, FALSE);
        break;
      case SERVE_ERROR_EVENT:
        add_event (lines, chunk_json ("Daytime, ", NULL));
        g_ptr_array_add (lines, g_strdup ("data: {\"error\": {\"message\": \"model overloaded\"}}\n\n"));
        start_stream (f, msg, lines, TRUE, FALSE);
        break;
      default:
        g_assert_not_reached ();
    }
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  GSList *uris;

  f->paused = g_ptr_array_new_with_free_func (g_object_unref);
  f->streams = g_ptr_array_new_with_free_func ((GDestroyNotify)stream_free);
  f->sources = g_ptr_array_new_with_free_func ((GDestroyNotify)g_source_unref);
  f->delay_ms = 15;
  f->mode = SERVE_STREAM;
  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, NULL, handler_cb, f, NULL);
  soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (f->server);
  f->base_url = g_strdup_printf ("http://127.0.0.1:%d/v1", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < f->sources->len; i++)
    g_source_destroy (g_ptr_array_index (f->sources, i));
  /* Whatever the server still holds is finished, so it can let go. */
  while (f->paused->len > 0)
    {
      g_autoptr (SoupServerMessage) msg = g_object_ref (g_ptr_array_index (f->paused, 0));

      g_ptr_array_remove_index (f->paused, 0);
      g_signal_handlers_disconnect_by_func (msg, held_finished_cb, f);
      soup_server_message_set_status (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
      soup_server_message_unpause (msg);
    }
  for (guint i = 0; i < f->streams->len; i++)
    {
      Stream *s = g_ptr_array_index (f->streams, i);

      if (!s->held)
        continue;
      soup_message_body_complete (soup_server_message_get_response_body (s->msg));
      soup_server_message_unpause (s->msg);
    }
  while (g_main_context_iteration (NULL, FALSE))
    ;
  soup_server_disconnect (f->server);
  g_assert_finalize_object (f->server);
  g_ptr_array_unref (f->paused);
  g_ptr_array_unref (f->streams);
  g_ptr_array_unref (f->sources);
  g_free (f->base_url);
  g_free (f->last_body);
  g_free (f->last_auth);
}

typedef struct
{
  GMainLoop *loop;
  TakesRewrite *rewrite;
  GError *error;
  GString *deltas;
} Run;

static void
delta_cb (const char *delta, gpointer user_data)
{
  g_string_append ((GString *)user_data, delta);
}

static void
done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;

  run->rewrite = takes_llm_client_rewrite_finish (TAKES_LLM_CLIENT (source), result, &run->error);
  g_main_loop_quit (run->loop);
}

static void
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

/* Runs one rewrite to the end; @cancel_ms > 0 cancels it after that long. */
static TakesRewrite *
rewrite (
    Fixture *f, TakesLlmClient *client, const char *prompt, guint cancel_ms, GString *deltas, GError **error)
{
  Run run = { g_main_loop_new (NULL, FALSE), NULL, NULL, deltas };
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();

  if (cancel_ms > 0)
    g_timeout_add_once (cancel_ms, cancel_cb, cancellable);
  takes_llm_client_rewrite_async (client, prompt, NULL, 42, deltas != NULL ? delta_cb : NULL, deltas, NULL,
                                  cancellable, done_cb, &run);
  g_main_loop_run (run.loop);
  g_main_loop_unref (run.loop);
  if (run.error != NULL)
    g_propagate_error (error, run.error);
  return run.rewrite;
}

static TakesLlmClient *
client_for (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  TakesLlmClient *client = takes_llm_client_new (f->base_url, "qwen-plus", &error);

  g_assert_no_error (error);
  takes_llm_client_set_api_key (client, API_KEY);
  takes_llm_client_set_timeouts (client, 2000, 2000);
  return client;
}

static void
assert_fell_back (TakesRewrite *r, const char *prompt, int code)
{
  g_assert_nonnull (r);
  g_assert_true (r->fell_back);
  g_assert_cmpstr (r->rewrite, ==, prompt);
  g_assert_cmpstr (r->original, ==, prompt);
  g_assert_error (r->error, TAKES_LLM_ERROR, code);
  g_assert_null (strstr (r->error->message, API_KEY));
}

static void
test_llm_stream (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesLlmClient) client = client_for (f);
  g_autoptr (GString) deltas = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRewrite) r = rewrite (f, client, "a fox in snow", 0, deltas, &error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *body;
  JsonArray *messages;
  g_autoptr (JsonNode) stored = NULL;

  g_assert_no_error (error);
  g_assert_false (r->fell_back);
  g_assert_null (r->error);
  g_assert_cmpstr (r->rewrite, ==, "Daytime, wide shot, a red fox trots across fresh snow");
  g_assert_cmpstr (r->original, ==, "a fox in snow");
  g_assert_cmpstr (r->model, ==, "qwen-test");
  g_assert_cmpstr (r->finish_reason, ==, "stop");
  g_assert_cmpstr (r->language, ==, "en");
  /* Token by token, in order. */
  g_assert_cmpstr (deltas->str, ==, "Daytime, wide shot, a red fox trots across fresh snow");

  /* The request: our English system prompt, the prompt, streaming, the seed, the key. */
  g_assert_cmpstr (f->last_auth, ==, "Bearer " API_KEY);
  g_assert_true (json_parser_load_from_data (parser, f->last_body, -1, NULL));
  body = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (body, "model"), ==, "qwen-plus");
  g_assert_true (json_object_get_boolean_member (body, "stream"));
  g_assert_cmpint (json_object_get_int_member (body, "seed"), ==, 42);
  messages = json_object_get_array_member (body, "messages");
  g_assert_cmpuint (json_array_get_length (messages), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 0), "role"), ==,
                   "system");
  g_assert_nonnull (
      strstr (json_object_get_string_member (json_array_get_object_element (messages, 0), "content"),
              "entirely in English"));
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (messages, 1), "content"), ==,
                   "a fox in snow");

  stored = takes_rewrite_to_json (r);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (stored), "original"), ==,
                   "a fox in snow");
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (stored), "rewrite"), ==, r->rewrite);
}

static void
test_llm_follows_language (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesLlmClient) client = client_for (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRewrite) r = rewrite (f, client, "雪地里的一只狐狸", 0, NULL, &error);
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *messages;

  g_assert_no_error (error);
  g_assert_cmpstr (r->language, ==, "zh");
  g_assert_true (json_parser_load_from_data (parser, f->last_body, -1, NULL));
  messages = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "messages");
  g_assert_nonnull (
      strstr (json_object_get_string_member (json_array_get_object_element (messages, 0), "content"),
              "全部使用中文"));
}

static void
test_llm_no_done_after_finish (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesLlmClient) client = client_for (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRewrite) r = NULL;

  f->mode = SERVE_STREAM_NO_DONE;
  r = rewrite (f, client, "a fox", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (r->fell_back);
  g_assert_cmpstr (r->rewrite, ==, "Daytime, wide shot, a red fox trots across fresh snow");
}

static void
test_llm_dropped_half_way (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesLlmClient) client = client_for (f);
  g_autoptr (GString) deltas = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRewrite) r = NULL;

  f->mode = SERVE_DROP;
  r = rewrite (f, client, "a fox", 0, deltas, &error);
  g_assert_no_error (error);
  assert_fell_back (r, "a fox", TAKES_LLM_ERROR_INCOMPLETE);
  /* What did arrive was streamed, but the result is the original. */
  g_assert_cmpstr (deltas->str, ==, "Daytime, wide shot, ");
}

static void
test_llm_truncated (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesLlmClient) client = client_for (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRewrite) r = NULL;

  f->mode = SERVE_TRUNCATED;
  r = rewrite (f, client, "a fox", 0, NULL, &error);
  g_assert_no_error (error);
  assert_fell_back (r, "a fox", TAKES_LLM_ERROR_INCOMPLETE);
}

static void
test_llm_malformed_chunk (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesLlmClient) client = client_for (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRewrite) r = NULL;

  f->mode = SERVE_MALFORMED;
  r = rewrite (f, client, "a fox", 0, NULL, &error);
  g_assert_no_error (error);
  assert_fell_back (r, "a fox", TAKES_LLM_ERROR_BAD_RESPONSE);
}

static void
test_llm_stall_times_out (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesLlmClient) client = client_for (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRewrite) r = NULL;
  gint64 start;

  f->mode = SERVE_STALL;
  takes_llm_client_set_timeouts (client, 2000, 300);
  start = g_get_monotonic_time ();
  r = rewrite (f, client, "a fox", 0, NULL, &error);
  g_assert_no_error (error);
  assert_fell_back (r, "a fox", TAKES_LLM_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (r->error->message, "stopped sending"));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 300 * 1000);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 1900 * 1000);
}

static void
test_llm_first_byte_times_out (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesLlmClient) client = client_for (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRewrite) r = NULL;

  f->mode = SERVE_NO_ANSWER;
  takes_llm_client_set_timeouts (client, 300, 5000);
  r = rewrite (f, client, "a fox", 0, NULL, &error);
  g_assert_no_error (error);
  assert_fell_back (r, "a fox", TAKES_LLM_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (r->error->message, "did not answer"));
}

static void
test_llm_http_errors (Fixture *f, gconstpointer data)
{
  static const struct
  {
    guint status;
    int code;
  } cases[] = {
    { 401, TAKES_LLM_ERROR_UNAUTHORIZED }, { 403, TAKES_LLM_ERROR_UNAUTHORIZED },
    { 404, TAKES_LLM_ERROR_NOT_FOUND },    { 429, TAKES_LLM_ERROR_RATE_LIMITED },
    { 500, TAKES_LLM_ERROR_SERVER },       { 503, TAKES_LLM_ERROR_SERVER },
  };
  g_autoptr (TakesLlmClient) client = client_for (f);

  f->mode = SERVE_STATUS;
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesRewrite) r = NULL;

      f->status = cases[i].status;
      r = rewrite (f, client, "a fox", 0, NULL, &error);
      g_assert_no_error (error);
      g_test_message ("%u: %s", cases[i].status, r->error->message);
      assert_fell_back (r, "a fox", cases[i].code);
      /* The server's message is shown, with the key it echoed taken out. */
      g_assert_nonnull (strstr (r->error->message, "Incorrect API key provided"));
    }
}

static void
test_llm_non_streamed_answer (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesLlmClient) client = client_for (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRewrite) r = NULL;

  f->mode = SERVE_JSON;
  r = rewrite (f, client, "a fox", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (r->fell_back);
  g_assert_cmpstr (r->rewrite, ==, "Daytime, a red fox trots across fresh snow");
  g_assert_cmpstr (r->model, ==, "llama");
}

static void
test_llm_cleans_reasoning (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesLlmClient) client = client_for (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRewrite) r = NULL;

  f->mode = SERVE_THINKING;
  r = rewrite (f, client, "a fox", 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (r->fell_back);
  g_assert_cmpstr (r->rewrite, ==, "Daytime, a red fox trots across fresh snow");
}

static void
test_llm_refusals_and_empty (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesLlmClient) client = client_for (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRewrite) filtered = NULL;
  g_autoptr (TakesRewrite) empty = NULL;
  g_autoptr (TakesRewrite) failed = NULL;

  f->mode = SERVE_FILTERED;
  filtered = rewrite (f, client, "a fox", 0, NULL, &error);
  assert_fell_back (filtered, "a fox", TAKES_LLM_ERROR_REFUSED);
  f->mode = SERVE_EMPTY;
  empty = rewrite (f, client, "a fox", 0, NULL, &error);
  assert_fell_back (empty, "a fox", TAKES_LLM_ERROR_EMPTY);
  f->mode = SERVE_ERROR_EVENT;
  failed = rewrite (f, client, "a fox", 0, NULL, &error);
  assert_fell_back (failed, "a fox", TAKES_LLM_ERROR_SERVER);
  g_assert_nonnull (strstr (failed->error->message, "model overloaded"));
  g_assert_no_error (error);
}

static void
test_llm_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesLlmClient) client = client_for (f);
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesRewrite) r = NULL;

  f->mode = SERVE_STALL;
  r = rewrite (f, client, "a fox", 100, NULL, &error);
  g_assert_null (r);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_llm_no_server (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autofree char *url = NULL;
  g_autoptr (TakesLlmClient) client = NULL;
  g_autoptr (TakesRewrite) r = NULL;

  /* A port that was free a moment ago and has nobody listening. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  url = g_strdup_printf ("http://127.0.0.1:%u/v1",
                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_socket_close (socket, NULL);

  client = takes_llm_client_new (url, NULL, &error);
  g_assert_no_error (error);
  r = rewrite (f, client, "a fox", 0, NULL, &error);
  g_assert_no_error (error);
  assert_fell_back (r, "a fox", TAKES_LLM_ERROR_NETWORK);
}

static void
test_llm_bad_urls (void)
{
  static const char *const bad[] = { "", "localhost:8080", "ftp://example/v1", "http://", "not a url" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (TakesLlmClient) client = takes_llm_client_new (bad[i], "m", &error);

      g_assert_null (client);
      g_assert_error (error, TAKES_LLM_ERROR, TAKES_LLM_ERROR_INVALID_URL);
    }
}

static void
test_llm_endpoint_path (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesLlmClient) a = takes_llm_client_new ("http://127.0.0.1:8080/v1/", "", &error);
  g_autoptr (TakesLlmClient) b
      = takes_llm_client_new ("https://example.com/compatible-mode/v1/chat/completions", "", &error);

  g_assert_no_error (error);
  g_assert_cmpstr (takes_llm_client_get_endpoint (a), ==, "http://127.0.0.1:8080/v1/chat/completions");
  g_assert_cmpstr (takes_llm_client_get_endpoint (b), ==,
                   "https://example.com/compatible-mode/v1/chat/completions");
}

static void
test_llm_clean_rewrite (void)
{
  static const struct
  {
    const char *in;
    const char *out;
  } cases[] = {
    { "  plain  ", "plain" },
    { "\"quoted\"", "quoted" },
    { "“引号”", "引号" },
    { "<think>x</think>answer", "answer" },
    { "Rewritten prompt: a fox", "a fox" },
    { "改写后的提示词：一只狐狸", "一只狐狸" },
    { "a \"quote\" inside", "a \"quote\" inside" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *out = takes_llm_clean_rewrite (cases[i].in);

      g_assert_cmpstr (out, ==, cases[i].out);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* Loopback only: no proxy may come between the test and its server. */
  g_unsetenv ("http_proxy");
  g_unsetenv ("HTTP_PROXY");
  g_unsetenv ("https_proxy");
  g_unsetenv ("all_proxy");

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/llm/stream/token-by-token", test_llm_stream);
  ADD ("/llm/stream/follows-prompt-language", test_llm_follows_language);
  ADD ("/llm/stream/finish-without-done", test_llm_no_done_after_finish);
  ADD ("/llm/fallback/dropped-half-way", test_llm_dropped_half_way);
  ADD ("/llm/fallback/ended-before-finish", test_llm_truncated);
  ADD ("/llm/fallback/malformed-chunk", test_llm_malformed_chunk);
  ADD ("/llm/fallback/stall-times-out", test_llm_stall_times_out);
  ADD ("/llm/fallback/no-first-byte-times-out", test_llm_first_byte_times_out);
  ADD ("/llm/fallback/http-errors-keep-key-secret", test_llm_http_errors);
  ADD ("/llm/fallback/refused-empty-or-error-event", test_llm_refusals_and_empty);
  ADD ("/llm/fallback/no-server", test_llm_no_server);
  ADD ("/llm/answer/non-streamed", test_llm_non_streamed_answer);
  ADD ("/llm/answer/reasoning-and-preamble-removed", test_llm_cleans_reasoning);
  ADD ("/llm/cancel/gives-no-result", test_llm_cancel);
#undef ADD
  g_test_add_func ("/llm/url/bad-addresses", test_llm_bad_urls);
  g_test_add_func ("/llm/url/endpoint-path", test_llm_endpoint_path);
  g_test_add_func ("/llm/clean/strips-wrapping", test_llm_clean_rewrite);
  return g_test_run ();
}
