/* takes-llm.c: the streamed chat-completions client.
 *
 * One request is a GTask holding a RewriteState. The response is read line by
 * line with a GDataInputStream; server-sent events are "data: <json>" lines
 * ending with "data: [DONE]". Two timers guard it, each cancelling an
 * internal GCancellable: one until the response headers arrive, one reset by
 * every line. The caller's GCancellable is chained to the internal one, so
 * the reason for a cancellation (timer or caller) is always known.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <string.h>

#include "takes-llm.h"
#include "takes-optimizer.h"
#include "takes-paths.h"

#define MAX_TOKENS 512

struct _TakesLlmClient
{
  GObject parent_instance;

  SoupSession *session;
  char *endpoint;
  char *model;
  char *api_key;
  char *system_en;
  char *system_zh;
  guint first_byte_ms;
  guint stall_ms;
};

G_DEFINE_FINAL_TYPE (TakesLlmClient, takes_llm_client, G_TYPE_OBJECT)

GQuark
takes_llm_error_quark (void)
{
  return g_quark_from_static_string ("takes-llm-error-quark");
}

static void
takes_llm_client_finalize (GObject *object)
{
  TakesLlmClient *self = TAKES_LLM_CLIENT (object);

  g_clear_object (&self->session);
  g_clear_pointer (&self->endpoint, g_free);
  g_clear_pointer (&self->model, g_free);
  if (self->api_key != NULL)
    memset (self->api_key, 0, strlen (self->api_key));
  g_clear_pointer (&self->api_key, g_free);
  g_clear_pointer (&self->system_en, g_free);
  g_clear_pointer (&self->system_zh, g_free);

  G_OBJECT_CLASS (takes_llm_client_parent_class)->finalize (object);
}

static void
takes_llm_client_class_init (TakesLlmClientClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = takes_llm_client_finalize;
}

static void
takes_llm_client_init (TakesLlmClient *self)
{
  g_autofree char *agent = g_strdup_printf ("Takes/%s", PACKAGE_VERSION);

  /* The session's own timeout would cut a slow model off mid-answer; the
   * request keeps its own first-byte and stall timers instead. */
  self->session = soup_session_new_with_options ("user-agent", agent, "timeout", 0, NULL);
  self->first_byte_ms = TAKES_LLM_DEFAULT_FIRST_BYTE_TIMEOUT_MS;
  self->stall_ms = TAKES_LLM_DEFAULT_STALL_TIMEOUT_MS;
}

void
takes_rewrite_free (TakesRewrite *rewrite)
{
  if (rewrite == NULL)
    return;
  g_free (rewrite->original);
  g_free (rewrite->rewrite);
  g_clear_error (&rewrite->error);
  g_free (rewrite->language);
  g_free (rewrite->model);
  g_free (rewrite->finish_reason);
  g_free (rewrite);
}

JsonNode *
takes_rewrite_to_json (const TakesRewrite *rewrite)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "original");
  json_builder_add_string_value (b, rewrite->original);
  json_builder_set_member_name (b, "rewrite");
  json_builder_add_string_value (b, rewrite->rewrite);
  json_builder_set_member_name (b, "fell_back");
  json_builder_add_boolean_value (b, rewrite->fell_back);
  json_builder_set_member_name (b, "error");
  if (rewrite->error != NULL)
    json_builder_add_string_value (b, rewrite->error->message);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "language");
  json_builder_add_string_value (b, rewrite->language);
  json_builder_set_member_name (b, "model");
  if (rewrite->model != NULL)
    json_builder_add_string_value (b, rewrite->model);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "finish_reason");
  if (rewrite->finish_reason != NULL)
    json_builder_add_string_value (b, rewrite->finish_reason);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static char *
read_system_prompt (const char *language, GError **error)
{
  g_autofree char *name = g_strdup_printf ("prompt/rewrite-system-%s.txt", language);
  g_autofree char *path = takes_paths_datafile (name);
  g_autofree char *contents = NULL;
  g_autoptr (GError) local_error = NULL;

  if (!g_file_get_contents (path, &contents, NULL, &local_error))
    {
      g_set_error (error, TAKES_LLM_ERROR, TAKES_LLM_ERROR_BAD_RESPONSE,
                   _ ("Could not read the rewrite instructions: %s Reinstall Takes."), local_error->message);
      return NULL;
    }
  return g_strstrip (g_steal_pointer (&contents));
}

TakesLlmClient *
takes_llm_client_new (const char *base_url, const char *model, GError **error)
{
  g_autoptr (TakesLlmClient) self = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autofree char *trimmed = NULL;
  const char *scheme;

  g_return_val_if_fail (base_url != NULL, NULL);

  trimmed = g_strstrip (g_strdup (base_url));
  uri = g_uri_parse (trimmed, G_URI_FLAGS_NONE, NULL);
  scheme = uri != NULL ? g_uri_get_scheme (uri) : NULL;
  if (uri == NULL || scheme == NULL
      || (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0)
      || g_uri_get_host (uri) == NULL || *g_uri_get_host (uri) == '\0')
    {
      g_set_error (
          error, TAKES_LLM_ERROR, TAKES_LLM_ERROR_INVALID_URL,
          _ ("“%s” is not an http or https address; give the API base, like http://127.0.0.1:8080/v1."),
          base_url);
      return NULL;
    }

  self = g_object_new (TAKES_TYPE_LLM_CLIENT, NULL);
  while (g_str_has_suffix (trimmed, "/"))
    trimmed[strlen (trimmed) - 1] = '\0';
  if (g_str_has_suffix (trimmed, "/chat/completions"))
    self->endpoint = g_strdup (trimmed);
  else
    self->endpoint = g_strconcat (trimmed, "/chat/completions", NULL);
  self->model = g_strdup (model != NULL ? model : "");
  self->system_en = read_system_prompt ("en", error);
  if (self->system_en == NULL)
    return NULL;
  self->system_zh = read_system_prompt ("zh", error);
  if (self->system_zh == NULL)
    return NULL;
  return g_steal_pointer (&self);
}

const char *
takes_llm_client_get_endpoint (TakesLlmClient *self)
{
  g_return_val_if_fail (TAKES_IS_LLM_CLIENT (self), NULL);
  return self->endpoint;
}

const char *
takes_llm_client_get_model (TakesLlmClient *self)
{
  g_return_val_if_fail (TAKES_IS_LLM_CLIENT (self), NULL);
  return self->model;
}

void
takes_llm_client_set_api_key (TakesLlmClient *self, const char *api_key)
{
  g_return_if_fail (TAKES_IS_LLM_CLIENT (self));
  if (self->api_key != NULL)
    memset (self->api_key, 0, strlen (self->api_key));
  g_clear_pointer (&self->api_key, g_free);
  if (api_key != NULL && *api_key != '\0')
    self->api_key = g_strdup (api_key);
}

void
takes_llm_client_set_timeouts (TakesLlmClient *self, guint first_byte_ms, guint stall_ms)
{
  g_return_if_fail (TAKES_IS_LLM_CLIENT (self));
  self->first_byte_ms = first_byte_ms > 0 ? first_byte_ms : TAKES_LLM_DEFAULT_FIRST_BYTE_TIMEOUT_MS;
  self->stall_ms = stall_ms > 0 ? stall_ms : TAKES_LLM_DEFAULT_STALL_TIMEOUT_MS;
}

void
takes_llm_client_set_system_prompt (TakesLlmClient *self, const char *language, const char *text)
{
  g_return_if_fail (TAKES_IS_LLM_CLIENT (self));
  g_return_if_fail (text != NULL);
  if (g_strcmp0 (language, "zh") == 0)
    {
      g_free (self->system_zh);
      self->system_zh = g_strdup (text);
    }
  else
    {
      g_free (self->system_en);
      self->system_en = g_strdup (text);
    }
}

/* ------------------------------------------------------------------ cleaning */

char *
takes_llm_clean_rewrite (const char *text)
{
  g_autofree char *copy = g_strdup (text != NULL ? text : "");
  char *start = copy;
  char *think_end;
  static const char *const preambles[] = {
    "rewritten prompt:", "rewritten prompt：", "prompt:",  "improved prompt:", "改写后的提示词：",
    "改写后的提示词:",   "改写后：",           "提示词：", "提示词:",
  };

  /* Reasoning models put their thoughts first; the prompt is what follows. */
  think_end = strstr (start, "</think>");
  if (g_str_has_prefix (g_strchug (start), "<think>") && think_end != NULL)
    start = think_end + strlen ("</think>");
  g_strstrip (start);
  for (guint i = 0; i < G_N_ELEMENTS (preambles); i++)
    {
      gsize n = strlen (preambles[i]);

      if (g_ascii_strncasecmp (start, preambles[i], n) == 0)
        {
          start += n;
          g_strstrip (start);
          break;
        }
    }
  {
    gsize len = strlen (start);

    if (len >= 2
        && ((start[0] == '"' && start[len - 1] == '"') || (start[0] == '\'' && start[len - 1] == '\'')))
      {
        start[len - 1] = '\0';
        start++;
      }
    else if (g_str_has_prefix (start, "“") && g_str_has_suffix (start, "”") && len >= 6)
      {
        start[len - strlen ("”")] = '\0';
        start += strlen ("“");
      }
  }
  return g_strstrip (g_strdup (start));
}

/* ------------------------------------------------------------------ request */

typedef struct
{
  TakesLlmClient *client;
  SoupMessage *msg;
  GDataInputStream *data;
  GCancellable *op_cancellable;
  GCancellable *user_cancellable;
  gulong cancel_id;
  GSource *timer;
  gboolean timed_out;
  gboolean streaming; /* headers are in: the stall timer applies */
  gboolean sse;
  gboolean done;
  gboolean failed_status;
  guint status;
  gsize received;
  GString *text;
  GString *body;
  char *prompt;
  char *language;
  char *model;
  char *finish_reason;
  TakesLlmDeltaFunc delta_func;
  gpointer delta_data;
  GDestroyNotify delta_destroy;
} RewriteState;

static void
stop_timer (RewriteState *st)
{
  if (st->timer != NULL)
    {
      g_source_destroy (st->timer);
      g_clear_pointer (&st->timer, g_source_unref);
    }
}

static void
rewrite_state_free (gpointer data)
{
  RewriteState *st = data;

  stop_timer (st);
  if (st->cancel_id != 0)
    g_cancellable_disconnect (st->user_cancellable, st->cancel_id);
  g_clear_object (&st->user_cancellable);
  g_clear_object (&st->op_cancellable);
  if (st->data != NULL)
    g_input_stream_close_async (G_INPUT_STREAM (st->data), G_PRIORITY_DEFAULT, NULL, NULL, NULL);
  g_clear_object (&st->data);
  g_clear_object (&st->msg);
  g_clear_object (&st->client);
  if (st->text != NULL)
    g_string_free (st->text, TRUE);
  if (st->body != NULL)
    g_string_free (st->body, TRUE);
  g_free (st->prompt);
  g_free (st->language);
  g_free (st->model);
  g_free (st->finish_reason);
  if (st->delta_destroy != NULL)
    st->delta_destroy (st->delta_data);
  g_free (st);
}

static gboolean
timer_fired_cb (gpointer user_data)
{
  RewriteState *st = user_data;

  st->timed_out = TRUE;
  g_clear_pointer (&st->timer, g_source_unref);
  g_cancellable_cancel (st->op_cancellable);
  return G_SOURCE_REMOVE;
}

static void
start_timer (RewriteState *st, GMainContext *context, guint ms)
{
  stop_timer (st);
  st->timer = g_timeout_source_new (ms);
  g_source_set_callback (st->timer, timer_fired_cb, st, NULL);
  g_source_attach (st->timer, context);
}

static void
user_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

/* Messages from the server are shown to the user, so the key is taken out in
 * case the server echoes it. */
static char *
redact (TakesLlmClient *client, const char *text)
{
  g_autoptr (GString) out = g_string_new (text);

  if (client->api_key != NULL && strlen (client->api_key) >= 4)
    g_string_replace (out, client->api_key, "…", 0);
  if (out->len > 300)
    {
      g_string_truncate (out, 300);
      while (out->len > 0 && !g_utf8_validate (out->str, out->len, NULL))
        g_string_truncate (out, out->len - 1);
      g_string_append (out, "…");
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Ends the request: a rewrite, a fallback with @error, or a cancellation. */
static void
finish (GTask *task, GError *error)
{
  RewriteState *st = g_task_get_task_data (task);
  TakesRewrite *rewrite;
  g_autofree char *cleaned = NULL;

  stop_timer (st);
  if (error != NULL && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, error);
      return;
    }
  if (error == NULL)
    {
      cleaned = takes_llm_clean_rewrite (st->text->str);
      if (*cleaned == '\0')
        error = g_error_new (TAKES_LLM_ERROR, TAKES_LLM_ERROR_EMPTY,
                             _ ("The endpoint answered with no text; the original prompt is kept."));
    }

  rewrite = g_new0 (TakesRewrite, 1);
  rewrite->original = g_strdup (st->prompt);
  rewrite->language = g_strdup (st->language);
  rewrite->model = g_strdup (st->model != NULL ? st->model : st->client->model);
  rewrite->finish_reason = g_strdup (st->finish_reason);
  if (error != NULL)
    {
      rewrite->fell_back = TRUE;
      rewrite->rewrite = g_strdup (st->prompt);
      rewrite->error = error;
    }
  else
    rewrite->rewrite = g_steal_pointer (&cleaned);
  g_task_return_pointer (task, rewrite, (GDestroyNotify)takes_rewrite_free);
}

/* The error for an operation that ended with @error: the timers and the
 * caller's cancellable tell a timeout and a cancellation from a failure. */
static GError *
explain_io_error (RewriteState *st, GError *error, gboolean while_reading)
{
  if (st->user_cancellable != NULL && g_cancellable_is_cancelled (st->user_cancellable))
    return g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _ ("The rewrite was cancelled."));
  if (st->timed_out && !st->streaming)
    return g_error_new (
        TAKES_LLM_ERROR, TAKES_LLM_ERROR_TIMEOUT,
        _ ("The endpoint did not answer within %u s; the original prompt is kept. Check that the "
           "server is running and the model is loaded."),
        (st->client->first_byte_ms + 999) / 1000);
  if (st->timed_out)
    return g_error_new (
        TAKES_LLM_ERROR, TAKES_LLM_ERROR_TIMEOUT,
        _ ("The endpoint stopped sending for %u s in the middle of the rewrite; the original prompt is "
           "kept."),
        (st->client->stall_ms + 999) / 1000);
  if (while_reading)
    return g_error_new (
        TAKES_LLM_ERROR, TAKES_LLM_ERROR_INCOMPLETE,
        _ ("The connection broke off in the middle of the rewrite (%s); the original prompt is kept."),
        error->message);
  return g_error_new (
      TAKES_LLM_ERROR, TAKES_LLM_ERROR_NETWORK,
      _ ("Could not reach the endpoint %s (%s); the original prompt is kept. Check the address and "
         "that the server is running."),
      st->client->endpoint, error->message);
}

static GError *
status_error (RewriteState *st)
{
  g_autofree char *detail = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *server_message = NULL;
  guint status = st->status;

  if (json_parser_load_from_data (parser, st->body->str, st->body->len, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      JsonObject *o = json_node_get_object (json_parser_get_root (parser));
      JsonNode *e = json_object_get_member (o, "error");

      if (e != NULL && JSON_NODE_HOLDS_OBJECT (e))
        server_message = g_strdup (
            json_object_get_string_member_with_default (json_node_get_object (e), "message", NULL));
      else if (e != NULL && JSON_NODE_HOLDS_VALUE (e) && json_node_get_value_type (e) == G_TYPE_STRING)
        server_message = g_strdup (json_node_get_string (e));
      else if (json_object_has_member (o, "message"))
        server_message = g_strdup (json_object_get_string_member_with_default (o, "message", NULL));
    }
  detail = redact (st->client, server_message != NULL ? server_message : soup_status_get_phrase (status));

  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    return g_error_new (
        TAKES_LLM_ERROR, TAKES_LLM_ERROR_UNAUTHORIZED,
        _ ("The endpoint refused the request (HTTP %u: %s); the original prompt is kept. Check the API "
           "key in TAKES_LLM_API_KEY."),
        status, detail);
  if (status == SOUP_STATUS_NOT_FOUND)
    return g_error_new (
        TAKES_LLM_ERROR, TAKES_LLM_ERROR_NOT_FOUND,
        _ ("The endpoint or model was not found (HTTP 404: %s); the original prompt is kept. Check the "
           "address and the model name."),
        detail);
  if (status == 429)
    return g_error_new (
        TAKES_LLM_ERROR, TAKES_LLM_ERROR_RATE_LIMITED,
        _ ("The endpoint is busy or over its quota (HTTP 429: %s); the original prompt is kept. Try "
           "again in a minute."),
        detail);
  return g_error_new (TAKES_LLM_ERROR, TAKES_LLM_ERROR_SERVER,
                      _ ("The endpoint failed (HTTP %u: %s); the original prompt is kept."), status, detail);
}

static GError *
bad_response (RewriteState *st, const char *what)
{
  g_autofree char *shown = redact (st->client, what);

  return g_error_new (
      TAKES_LLM_ERROR, TAKES_LLM_ERROR_BAD_RESPONSE,
      _ ("The endpoint sent an answer Takes cannot read (%s); the original prompt is kept. Is it an "
         "OpenAI-compatible chat completions server?"),
      shown);
}

static void
add_text (RewriteState *st, const char *piece)
{
  if (piece == NULL || *piece == '\0')
    return;
  g_string_append (st->text, piece);
  if (st->delta_func != NULL)
    st->delta_func (piece, st->delta_data);
}

/* One JSON object of the stream (or the whole non-streamed answer). Returns
 * an error to end with, or NULL to go on. */
static GError *
handle_json (RewriteState *st, const char *json, gsize length)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o;
  JsonNode *choices;
  JsonNode *err;

  if (!json_parser_load_from_data (parser, json, length, NULL) || json_parser_get_root (parser) == NULL
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return bad_response (st, _ ("a chunk is not a JSON object"));
  o = json_node_get_object (json_parser_get_root (parser));

  err = json_object_get_member (o, "error");
  if (err != NULL && !JSON_NODE_HOLDS_NULL (err))
    {
      const char *message = NULL;
      g_autofree char *shown = NULL;

      if (JSON_NODE_HOLDS_OBJECT (err))
        message = json_object_get_string_member_with_default (json_node_get_object (err), "message", NULL);
      else if (JSON_NODE_HOLDS_VALUE (err) && json_node_get_value_type (err) == G_TYPE_STRING)
        message = json_node_get_string (err);
      shown = redact (st->client, message != NULL ? message : _ ("no message"));
      return g_error_new (
          TAKES_LLM_ERROR, TAKES_LLM_ERROR_SERVER,
          _ ("The endpoint reported an error during the rewrite (%s); the original prompt is kept."), shown);
    }

  if (st->model == NULL && json_object_has_member (o, "model"))
    {
      JsonNode *model = json_object_get_member (o, "model");

      if (JSON_NODE_HOLDS_VALUE (model) && json_node_get_value_type (model) == G_TYPE_STRING)
        st->model = g_strdup (json_node_get_string (model));
    }

  choices = json_object_get_member (o, "choices");
  if (choices == NULL || !JSON_NODE_HOLDS_ARRAY (choices))
    return bad_response (st, _ ("a chunk has no “choices”"));
  /* The last chunk with usage figures has an empty list; nothing to add. */
  for (guint i = 0; i < json_array_get_length (json_node_get_array (choices)); i++)
    {
      JsonNode *choice = json_array_get_element (json_node_get_array (choices), i);
      JsonObject *c;
      JsonNode *part;
      JsonNode *reason;

      if (!JSON_NODE_HOLDS_OBJECT (choice))
        return bad_response (st, _ ("a choice is not an object"));
      c = json_node_get_object (choice);
      if (json_object_get_int_member_with_default (c, "index", 0) != 0)
        continue;
      part = json_object_get_member (c, st->sse ? "delta" : "message");
      if (part != NULL && JSON_NODE_HOLDS_OBJECT (part))
        {
          JsonNode *content = json_object_get_member (json_node_get_object (part), "content");

          if (content != NULL && JSON_NODE_HOLDS_VALUE (content)
              && json_node_get_value_type (content) == G_TYPE_STRING)
            add_text (st, json_node_get_string (content));
          else if (content != NULL && !JSON_NODE_HOLDS_NULL (content))
            return bad_response (st, _ ("“content” is not text"));
        }
      else if (part != NULL && !JSON_NODE_HOLDS_NULL (part))
        return bad_response (st, _ ("a choice has no text"));
      reason = json_object_get_member (c, "finish_reason");
      if (reason != NULL && JSON_NODE_HOLDS_VALUE (reason)
          && json_node_get_value_type (reason) == G_TYPE_STRING)
        {
          g_free (st->finish_reason);
          st->finish_reason = g_strdup (json_node_get_string (reason));
          if (g_str_equal (st->finish_reason, "content_filter"))
            return g_error_new (
                TAKES_LLM_ERROR, TAKES_LLM_ERROR_REFUSED,
                _ ("The endpoint's content filter stopped the rewrite; the original prompt is kept."));
        }
    }
  return NULL;
}

static void read_next_line (GTask *task);

static void
line_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  RewriteState *st = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autofree char *line = NULL;
  gsize length = 0;
  GError *outcome = NULL;

  line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), result, &length, &error);
  if (error != NULL)
    {
      finish (task, explain_io_error (st, error, TRUE));
      return;
    }
  if (line == NULL)
    {
      /* The end of the body. */
      if (st->failed_status)
        outcome = status_error (st);
      else if (!st->sse)
        outcome = handle_json (st, st->body->str, st->body->len);
      else if (!st->done && st->finish_reason == NULL)
        outcome = g_error_new (
            TAKES_LLM_ERROR, TAKES_LLM_ERROR_INCOMPLETE,
            _ ("The stream ended before the rewrite was complete; the original prompt is kept."));
      finish (task, outcome);
      return;
    }

  st->received += length + 1;
  if (st->received > TAKES_LLM_MAX_RESPONSE_BYTES)
    {
      finish (task, bad_response (st, _ ("the answer is far too long")));
      return;
    }
  start_timer (st, g_task_get_context (task), st->client->stall_ms);

  if (length > 0 && line[length - 1] == '\r')
    line[--length] = '\0';
  if (!g_utf8_validate (line, length, NULL))
    {
      finish (task, bad_response (st, _ ("the answer is not UTF-8 text")));
      return;
    }

  if (st->failed_status || !st->sse)
    {
      g_string_append_len (st->body, line, length);
      g_string_append_c (st->body, '\n');
    }
  else if (g_str_has_prefix (line, "data:"))
    {
      const char *payload = line + strlen ("data:");

      while (*payload == ' ')
        payload++;
      if (g_str_equal (payload, "[DONE]"))
        {
          st->done = TRUE;
          finish (task, NULL);
          return;
        }
      if (*payload != '\0' && (outcome = handle_json (st, payload, strlen (payload))) != NULL)
        {
          finish (task, outcome);
          return;
        }
    }
  /* Anything else is an empty line between events, a ":" comment, or an
   * "event:"/"id:"/"retry:" field: none of them carries text. */
  read_next_line (task);
}

static void
read_next_line (GTask *task)
{
  RewriteState *st = g_task_get_task_data (task);

  g_data_input_stream_read_line_async (st->data, G_PRIORITY_DEFAULT, st->op_cancellable, line_read_cb,
                                       g_object_ref (task));
}

static void
sent_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  RewriteState *st = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = NULL;
  const char *content_type;

  stream = soup_session_send_finish (SOUP_SESSION (source), result, &error);
  if (stream == NULL)
    {
      finish (task, explain_io_error (st, error, FALSE));
      return;
    }
  st->streaming = TRUE;
  start_timer (st, g_task_get_context (task), st->client->stall_ms);
  st->status = soup_message_get_status (st->msg);
  st->failed_status = !SOUP_STATUS_IS_SUCCESSFUL (st->status);
  content_type = soup_message_headers_get_content_type (soup_message_get_response_headers (st->msg), NULL);
  st->sse = content_type != NULL && g_ascii_strcasecmp (content_type, "text/event-stream") == 0;
  st->data = g_data_input_stream_new (stream);
  g_data_input_stream_set_newline_type (st->data, G_DATA_STREAM_NEWLINE_TYPE_ANY);
  read_next_line (task);
}

static char *
request_body (TakesLlmClient *self, const char *prompt, const char *language, gint64 seed)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  if (*self->model != '\0')
    {
      json_builder_set_member_name (b, "model");
      json_builder_add_string_value (b, self->model);
    }
  json_builder_set_member_name (b, "messages");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, "system");
  json_builder_set_member_name (b, "content");
  json_builder_add_string_value (b, g_str_equal (language, "zh") ? self->system_zh : self->system_en);
  json_builder_end_object (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, "user");
  json_builder_set_member_name (b, "content");
  json_builder_add_string_value (b, prompt);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "stream");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_set_member_name (b, "max_tokens");
  json_builder_add_int_value (b, MAX_TOKENS);
  json_builder_set_member_name (b, "temperature");
  json_builder_add_double_value (b, 0.7);
  if (seed >= 0)
    {
      json_builder_set_member_name (b, "seed");
      json_builder_add_int_value (b, seed);
    }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

void
takes_llm_client_rewrite_async (TakesLlmClient *self,
                                const char *prompt,
                                const char *language,
                                gint64 seed,
                                TakesLlmDeltaFunc delta_func,
                                gpointer delta_data,
                                GDestroyNotify delta_destroy,
                                GCancellable *cancellable,
                                GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  RewriteState *st;
  g_autofree char *body = NULL;
  g_autoptr (GBytes) bytes = NULL;
  SoupMessageHeaders *headers;

  g_return_if_fail (TAKES_IS_LLM_CLIENT (self));
  g_return_if_fail (prompt != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, takes_llm_client_rewrite_async);
  /* The task checks the caller's cancellable itself; the request is cancelled
   * through op_cancellable. */
  g_task_set_check_cancellable (task, FALSE);

  st = g_new0 (RewriteState, 1);
  st->client = g_object_ref (self);
  st->prompt = g_utf8_make_valid (prompt, -1);
  st->language = g_strdup (language != NULL && g_str_equal (language, "zh") ? "zh"
                           : language != NULL                               ? "en"
                                              : takes_prompt_guess_language (st->prompt));
  st->text = g_string_new (NULL);
  st->body = g_string_new (NULL);
  st->delta_func = delta_func;
  st->delta_data = delta_data;
  st->delta_destroy = delta_destroy;
  st->op_cancellable = g_cancellable_new ();
  g_task_set_task_data (task, st, rewrite_state_free);

  if (cancellable != NULL)
    {
      st->user_cancellable = g_object_ref (cancellable);
      st->cancel_id = g_cancellable_connect (cancellable, G_CALLBACK (user_cancelled_cb),
                                             g_object_ref (st->op_cancellable), g_object_unref);
    }

  st->msg = soup_message_new (SOUP_METHOD_POST, self->endpoint);
  if (st->msg == NULL)
    {
      finish (task,
              g_error_new (TAKES_LLM_ERROR, TAKES_LLM_ERROR_INVALID_URL,
                           _ ("“%s” is not a usable address; the original prompt is kept."), self->endpoint));
      return;
    }
  body = request_body (self, st->prompt, st->language, seed);
  {
    gsize n = strlen (body);

    bytes = g_bytes_new_take (g_steal_pointer (&body), n);
  }
  soup_message_set_request_body_from_bytes (st->msg, "application/json", bytes);
  headers = soup_message_get_request_headers (st->msg);
  soup_message_headers_replace (headers, "Accept", "text/event-stream, application/json");
  if (self->api_key != NULL)
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", self->api_key);

      soup_message_headers_replace (headers, "Authorization", auth);
    }

  start_timer (st, g_task_get_context (task), self->first_byte_ms);
  soup_session_send_async (self->session, st->msg, G_PRIORITY_DEFAULT, st->op_cancellable, sent_cb,
                           g_object_ref (task));
}

TakesRewrite *
takes_llm_client_rewrite_finish (TakesLlmClient *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (TAKES_IS_LLM_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
