/* fake-comfyui.c: ComfyUI's routes, queue, history and WebSocket on loopback. */
#include "fake-comfyui.h"

#include <string.h>

#include "fake-oss.h"

#define STEP_MS 4
#define PROGRESS_STEPS 3
#define OUTPUT_NAME "Takes_00001_.mp4"

static const char *known_classes[] = {
  "UNETLoader",
  "CLIPLoader",
  "VAELoader",
  "ModelSamplingSD3",
  "CLIPTextEncode",
  "Wan22ImageToVideoLatent",
  "EmptyHunyuanLatentVideo",
  "KSampler",
  "KSamplerAdvanced",
  "VAEDecode",
  "CreateVideo",
  "SaveVideo",
  "SaveAnimatedWEBP",
};

typedef enum
{
  ACTION_START,
  ACTION_EXECUTING,
  ACTION_PROGRESS,
  ACTION_FINISH,
} ActionKind;

typedef struct
{
  ActionKind kind;
  char *node;
  guint value;
} Action;

typedef struct
{
  struct _FakeComfyui *fake;
  char *prompt_id;
  char *client_id;
  JsonObject *graph;
  guint number;
  GArray *actions; /* Action */
  guint next;
  guint timer;
  JsonBuilder *messages;
  char *output_node;
} FakeJob;

struct _FakeComfyui
{
  SoupServer *server;
  char *url;
  guint faults;
  char *token;
  GHashTable *removed_nodes;
  GHashTable *models;  /* folder → GPtrArray of names */
  GHashTable *sockets; /* client id → SoupWebsocketConnection */
  GQueue pending;      /* FakeJob */
  FakeJob *running;
  GHashTable *history; /* prompt id → JsonNode */
  GBytes *video;
  guint number;
  guint next_idle;
  guint history_requests;
  guint glitches_left;
  char *reject_node;
  char *reject_class;
  char *reject_type;
  char *reject_details;
  guint n_prompts;
  guint n_interrupts;
  guint n_deletes;
  guint n_previews;
  JsonObject *last_graph;
  char *last_client_id;
};

static void start_next (FakeComfyui *self);

static void
action_clear (gpointer data)
{
  Action *action = data;

  g_free (action->node);
}

static void
fake_job_free (FakeJob *job)
{
  g_clear_handle_id (&job->timer, g_source_remove);
  g_free (job->prompt_id);
  g_free (job->client_id);
  json_object_unref (job->graph);
  g_array_unref (job->actions);
  g_object_unref (job->messages);
  g_free (job->output_node);
  g_free (job);
}

static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

/* Replies -------------------------------------------------------------------- */

static void
set_json_node (SoupServerMessage *msg, guint status, JsonNode *root)
{
  g_autofree char *text = json_to_string (root, FALSE);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_COPY, text, strlen (text));
}

static void
set_json (SoupServerMessage *msg, guint status, JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);

  set_json_node (msg, status, root);
}

static void
set_prompt_error (SoupServerMessage *msg,
                  const char *type,
                  const char *message,
                  const char *node_id,
                  const char *class_type,
                  const char *error_type,
                  const char *details)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_set_member_name (builder, "details");
  json_builder_add_string_value (builder, "");
  json_builder_set_member_name (builder, "extra_info");
  json_builder_begin_object (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "node_errors");
  json_builder_begin_object (builder);
  if (node_id != NULL)
    {
      json_builder_set_member_name (builder, node_id);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "errors");
      json_builder_begin_array (builder);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, error_type);
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, "Value not in list");
      json_builder_set_member_name (builder, "details");
      json_builder_add_string_value (builder, details);
      json_builder_end_object (builder);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "dependent_outputs");
      json_builder_begin_array (builder);
      json_builder_add_string_value (builder, "11");
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "class_type");
      json_builder_add_string_value (builder, class_type);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  set_json (msg, 400, builder);
}

/* The WebSocket side ------------------------------------------------------------ */

static SoupWebsocketConnection *
socket_for (FakeComfyui *self, const char *client_id)
{
  SoupWebsocketConnection *ws = g_hash_table_lookup (self->sockets, client_id);

  if (ws == NULL || soup_websocket_connection_get_state (ws) != SOUP_WEBSOCKET_STATE_OPEN)
    return NULL;
  return ws;
}

static void
send_event (FakeComfyui *self, FakeJob *job, const char *type, JsonBuilder *data)
{
  SoupWebsocketConnection *ws = socket_for (self, job->client_id);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) payload = json_builder_get_root (data);
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;

  /* History keeps the events that matter for a finished prompt. */
  if (g_str_equal (type, "execution_start") || g_str_equal (type, "execution_success")
      || g_str_equal (type, "execution_error") || g_str_equal (type, "execution_interrupted"))
    {
      json_builder_begin_array (job->messages);
      json_builder_add_string_value (job->messages, type);
      json_builder_add_value (job->messages, json_node_copy (payload));
      json_builder_end_array (job->messages);
    }
  if (ws == NULL)
    return;
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "type");
  json_builder_add_string_value (builder, type);
  json_builder_set_member_name (builder, "data");
  json_builder_add_value (builder, json_node_ref (payload));
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  text = json_to_string (root, FALSE);
  soup_websocket_connection_send_text (ws, text);
}

static JsonBuilder *
event_data (FakeJob *job, const char *node)
{
  JsonBuilder *builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "prompt_id");
  json_builder_add_string_value (builder, job->prompt_id);
  if (node != NULL)
    {
      json_builder_set_member_name (builder, "node");
      json_builder_add_string_value (builder, node);
    }
  return builder;
}

static void
send_simple (FakeComfyui *self, FakeJob *job, const char *type, gboolean with_timestamp)
{
  g_autoptr (JsonBuilder) data = event_data (job, NULL);

  if (with_timestamp)
    {
      json_builder_set_member_name (data, "timestamp");
      json_builder_add_int_value (data, now_ms ());
    }
  json_builder_end_object (data);
  send_event (self, job, type, data);
}

static void
send_preview (FakeComfyui *self, FakeJob *job)
{
  static const guint8 frame[] = {
    0,    0,   0,   1, /* PREVIEW_IMAGE */
    0,    0,   0,   2, /* PNG */
    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 0x0d, 'I', 'H', 'D', 'R',
  };
  SoupWebsocketConnection *ws = socket_for (self, job->client_id);

  if (ws == NULL)
    return;
  soup_websocket_connection_send_binary (ws, frame, sizeof frame);
  self->n_previews++;
}

static void
store_history (FakeComfyui *self, FakeJob *job, const char *status_str, gboolean with_output)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) messages = NULL;

  json_builder_end_array (job->messages);
  messages = json_builder_get_root (job->messages);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "prompt");
  json_builder_begin_array (builder);
  json_builder_add_int_value (builder, job->number);
  json_builder_add_string_value (builder, job->prompt_id);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "outputs");
  json_builder_begin_object (builder);
  if (with_output)
    {
      json_builder_set_member_name (builder, job->output_node);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "images");
      json_builder_begin_array (builder);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "filename");
      json_builder_add_string_value (builder, OUTPUT_NAME);
      json_builder_set_member_name (builder, "subfolder");
      json_builder_add_string_value (builder, "video");
      json_builder_set_member_name (builder, "type");
      json_builder_add_string_value (builder, "output");
      json_builder_end_object (builder);
      json_builder_end_array (builder);
      json_builder_set_member_name (builder, "animated");
      json_builder_begin_array (builder);
      json_builder_add_boolean_value (builder, TRUE);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "status");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "status_str");
  json_builder_add_string_value (builder, status_str);
  json_builder_set_member_name (builder, "completed");
  json_builder_add_boolean_value (builder, g_str_equal (status_str, "success"));
  json_builder_set_member_name (builder, "messages");
  json_builder_add_value (builder, g_steal_pointer (&messages));
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  g_hash_table_replace (self->history, g_strdup (job->prompt_id), json_builder_get_root (builder));
}

static gboolean
next_job_cb (gpointer user_data)
{
  FakeComfyui *self = user_data;

  self->next_idle = 0;
  start_next (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_next (FakeComfyui *self)
{
  if (self->next_idle == 0)
    self->next_idle = g_idle_add (next_job_cb, self);
}

static void
end_running (FakeComfyui *self)
{
  FakeJob *job = g_steal_pointer (&self->running);
  g_autoptr (JsonBuilder) data = event_data (job, NULL);

  /* Like ComfyUI: the history is stored, then "executing" with no node. */
  json_builder_set_member_name (data, "node");
  json_builder_add_null_value (data);
  json_builder_end_object (data);
  send_event (self, job, "executing", data);
  fake_job_free (job);
  schedule_next (self);
}

static void
fail_running (
    FakeComfyui *self, FakeJob *job, const char *node, const char *exception_type, const char *message)
{
  g_autoptr (JsonBuilder) data = event_data (job, NULL);

  json_builder_set_member_name (data, "node_id");
  json_builder_add_string_value (data, node);
  json_builder_set_member_name (data, "node_type");
  json_builder_add_string_value (data, "KSampler");
  json_builder_set_member_name (data, "executed");
  json_builder_begin_array (data);
  json_builder_end_array (data);
  json_builder_set_member_name (data, "exception_message");
  json_builder_add_string_value (data, message);
  json_builder_set_member_name (data, "exception_type");
  json_builder_add_string_value (data, exception_type);
  json_builder_set_member_name (data, "traceback");
  json_builder_begin_array (data);
  json_builder_add_string_value (data, "  File \"execution.py\", line 327, in execute\n");
  json_builder_end_array (data);
  json_builder_set_member_name (data, "timestamp");
  json_builder_add_int_value (data, now_ms ());
  json_builder_end_object (data);
  send_event (self, job, "execution_error", data);
  store_history (self, job, "error", FALSE);
  end_running (self);
}

static gboolean
step_cb (gpointer user_data)
{
  FakeComfyui *self = user_data;
  FakeJob *job = self->running;
  Action *action = &g_array_index (job->actions, Action, job->next++);

  switch (action->kind)
    {
      case ACTION_START:
        send_simple (self, job, "execution_start", TRUE);
        {
          g_autoptr (JsonBuilder) data = event_data (job, NULL);

          json_builder_set_member_name (data, "nodes");
          json_builder_begin_array (data);
          json_builder_end_array (data);
          json_builder_end_object (data);
          send_event (self, job, "execution_cached", data);
        }
        break;
      case ACTION_EXECUTING:
        {
          g_autoptr (JsonBuilder) data = event_data (job, action->node);

          json_builder_set_member_name (data, "display_node");
          json_builder_add_string_value (data, action->node);
          json_builder_end_object (data);
          send_event (self, job, "executing", data);
        }
        break;
      case ACTION_PROGRESS:
        {
          g_autoptr (JsonBuilder) data = event_data (job, action->node);

          json_builder_set_member_name (data, "value");
          json_builder_add_int_value (data, action->value);
          json_builder_set_member_name (data, "max");
          json_builder_add_int_value (data, PROGRESS_STEPS);
          json_builder_end_object (data);
          send_event (self, job, "progress", data);
          send_preview (self, job);
          if (action->value == 1 && (self->faults & FAKE_COMFYUI_FAULT_OOM))
            {
              job->timer = 0;
              fail_running (
                  self, job, action->node, "torch.OutOfMemoryError",
                  "CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.64 GiB");
              return G_SOURCE_REMOVE;
            }
          if (action->value == 1 && (self->faults & FAKE_COMFYUI_FAULT_EXEC_ERROR))
            {
              job->timer = 0;
              fail_running (self, job, action->node, "RuntimeError",
                            "Expected all tensors to be on the same device, but found at least two devices");
              return G_SOURCE_REMOVE;
            }
          if (action->value == 1 && (self->faults & FAKE_COMFYUI_FAULT_WS_DROP))
            {
              SoupWebsocketConnection *ws = socket_for (self, job->client_id);

              /* Cut the TCP connection under the socket: no close frame. */
              if (ws != NULL)
                g_io_stream_close (soup_websocket_connection_get_io_stream (ws), NULL, NULL);
            }
          if (action->value == 1 && (self->faults & FAKE_COMFYUI_FAULT_HANG))
            {
              job->timer = 0;
              return G_SOURCE_REMOVE;
            }
        }
        break;
      case ACTION_FINISH:
        {
          g_autoptr (JsonBuilder) data = event_data (job, job->output_node);

          json_builder_set_member_name (data, "display_node");
          json_builder_add_string_value (data, job->output_node);
          json_builder_set_member_name (data, "output");
          json_builder_begin_object (data);
          json_builder_set_member_name (data, "images");
          json_builder_begin_array (data);
          json_builder_begin_object (data);
          json_builder_set_member_name (data, "filename");
          json_builder_add_string_value (data, OUTPUT_NAME);
          json_builder_set_member_name (data, "subfolder");
          json_builder_add_string_value (data, "video");
          json_builder_set_member_name (data, "type");
          json_builder_add_string_value (data, "output");
          json_builder_end_object (data);
          json_builder_end_array (data);
          json_builder_end_object (data);
          json_builder_end_object (data);
          send_event (self, job, "executed", data);
        }
        send_simple (self, job, "execution_success", TRUE);
        store_history (self, job, "success", TRUE);
        job->timer = 0;
        end_running (self);
        return G_SOURCE_REMOVE;
      default:
        g_assert_not_reached ();
    }
  return G_SOURCE_CONTINUE;
}

static void
add_action (FakeJob *job, ActionKind kind, const char *node, guint value)
{
  Action action = { kind, g_strdup (node), value };

  g_array_append_val (job->actions, action);
}

static void
plan_actions (FakeJob *job)
{
  g_autoptr (GList) members = json_object_get_members (job->graph);

  add_action (job, ACTION_START, NULL, 0);
  members = g_list_sort (members, (GCompareFunc)g_strcmp0);
  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonObject *node = json_object_get_object_member (job->graph, l->data);
      const char *class_type = json_object_get_string_member (node, "class_type");

      add_action (job, ACTION_EXECUTING, l->data, 0);
      if (g_str_has_prefix (class_type, "KSampler"))
        for (guint v = 1; v <= PROGRESS_STEPS; v++)
          add_action (job, ACTION_PROGRESS, l->data, v);
      if (g_str_has_prefix (class_type, "Save"))
        {
          g_free (job->output_node);
          job->output_node = g_strdup (l->data);
        }
    }
  add_action (job, ACTION_FINISH, NULL, 0);
}

static void
start_next (FakeComfyui *self)
{
  FakeJob *job;

  if (self->running != NULL || (self->faults & FAKE_COMFYUI_FAULT_BUSY))
    return;
  job = g_queue_pop_head (&self->pending);
  if (job == NULL)
    return;
  self->running = job;
  job->timer = g_timeout_add (STEP_MS, step_cb, self);
}

static void
socket_closed_cb (SoupWebsocketConnection *ws, gpointer user_data)
{
  FakeComfyui *self = user_data;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->sockets);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (value == ws)
      g_hash_table_iter_remove (&iter);
}

static void
websocket_cb (SoupServer *server,
              SoupServerMessage *msg,
              const char *path,
              SoupWebsocketConnection *connection,
              gpointer user_data)
{
  FakeComfyui *self = user_data;
  GUri *uri = soup_server_message_get_uri (msg);
  g_autoptr (GHashTable) query
      = g_uri_get_query (uri) != NULL
            ? g_uri_parse_params (g_uri_get_query (uri), -1, "&", G_URI_PARAMS_NONE, NULL)
            : NULL;
  const char *client_id = query != NULL ? g_hash_table_lookup (query, "clientId") : NULL;
  g_autofree char *sid = g_strdup (client_id != NULL && *client_id != '\0' ? client_id : "server-assigned");
  g_autofree char *status = g_strdup_printf ("{\"type\": \"status\", \"data\": {\"status\": {\"exec_info\": "
                                             "{\"queue_remaining\": %u}}, \"sid\": \"%s\"}}",
                                             g_queue_get_length (&self->pending), sid);

  g_signal_connect (connection, "closed", G_CALLBACK (socket_closed_cb), self);
  g_hash_table_replace (self->sockets, g_strdup (sid), g_object_ref (connection));
  soup_websocket_connection_send_text (connection, status);
}

/* HTTP routes ------------------------------------------------------------------- */

static gboolean
authorized (FakeComfyui *self, SoupServerMessage *msg)
{
  const char *header
      = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");
  g_autofree char *expected = NULL;

  if (self->token == NULL)
    return TRUE;
  expected = g_strdup_printf ("Bearer %s", self->token);
  if (g_strcmp0 (header, expected) == 0)
    return TRUE;
  soup_server_message_set_status (msg, SOUP_STATUS_UNAUTHORIZED, NULL);
  return FALSE;
}

static gboolean
class_known (FakeComfyui *self, const char *class_type)
{
  if (g_hash_table_contains (self->removed_nodes, class_type))
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (known_classes); i++)
    if (g_str_equal (known_classes[i], class_type))
      return TRUE;
  return FALSE;
}

static gboolean
model_listed (FakeComfyui *self, const char *folder, const char *name)
{
  GPtrArray *names = g_hash_table_lookup (self->models, folder);

  return names != NULL && g_ptr_array_find_with_equal_func (names, name, g_str_equal, NULL);
}

/* What ComfyUI's own validation checks of a prompt, as far as Takes uses it. */
static gboolean
validate_graph (FakeComfyui *self, SoupServerMessage *msg, JsonObject *graph)
{
  g_autoptr (GList) members = json_object_get_members (graph);
  const struct
  {
    const char *input;
    const char *folder;
  } files[]
      = { { "unet_name", "diffusion_models" }, { "clip_name", "text_encoders" }, { "vae_name", "vae" } };

  for (GList *l = members; l != NULL; l = l->next)
    {
      JsonObject *node = json_object_get_object_member (graph, l->data);
      const char *class_type = json_object_get_string_member_with_default (node, "class_type", "");
      JsonObject *inputs = json_object_get_object_member (node, "inputs");

      if (!class_known (self, class_type))
        {
          g_autofree char *message
              = g_strdup_printf ("Cannot execute because node %s does not exist.", class_type);

          set_prompt_error (msg, "invalid_prompt", message, NULL, NULL, NULL, NULL);
          return FALSE;
        }
      for (guint i = 0; i < G_N_ELEMENTS (files); i++)
        {
          const char *value = json_object_get_string_member_with_default (inputs, files[i].input, NULL);

          if (value != NULL && !model_listed (self, files[i].folder, value))
            {
              g_autofree char *details = g_strdup_printf ("%s: '%s' not in []", files[i].input, value);

              set_prompt_error (msg, "prompt_outputs_failed_validation", "Prompt outputs failed validation",
                                l->data, class_type, "value_not_in_list", details);
              return FALSE;
            }
        }
    }
  return TRUE;
}

static void
handle_prompt (FakeComfyui *self, SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  JsonObject *request, *graph;
  const char *prompt_id;
  FakeJob *job;

  self->n_prompts++;
  if (!json_parser_load_from_data (parser, body->data, body->length, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))
      || json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "prompt")
             == NULL)
    {
      set_prompt_error (msg, "no_prompt", "No prompt provided", NULL, NULL, NULL, NULL);
      return;
    }
  request = json_node_get_object (json_parser_get_root (parser));
  graph = json_object_get_object_member (request, "prompt");
  if (self->reject_node != NULL)
    {
      set_prompt_error (msg, "prompt_outputs_failed_validation", "Prompt outputs failed validation",
                        self->reject_node, self->reject_class, self->reject_type, self->reject_details);
      g_clear_pointer (&self->reject_node, g_free);
      return;
    }
  if (!validate_graph (self, msg, graph))
    return;

  prompt_id = json_object_get_string_member_with_default (request, "prompt_id", NULL);
  job = g_new0 (FakeJob, 1);
  job->fake = self;
  job->prompt_id = prompt_id != NULL ? g_strdup (prompt_id) : g_uuid_string_random ();
  job->client_id = g_strdup (json_object_get_string_member_with_default (request, "client_id", ""));
  job->graph = json_object_ref (graph);
  job->number = self->number++;
  job->actions = g_array_new (FALSE, TRUE, sizeof (Action));
  g_array_set_clear_func (job->actions, action_clear);
  job->messages = json_builder_new ();
  json_builder_begin_array (job->messages);
  job->output_node = g_strdup ("11");
  plan_actions (job);
  g_clear_pointer (&self->last_graph, json_object_unref);
  self->last_graph = json_object_ref (graph);
  g_free (self->last_client_id);
  self->last_client_id = g_strdup (job->client_id);
  g_queue_push_tail (&self->pending, job);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "prompt_id");
  json_builder_add_string_value (builder, job->prompt_id);
  json_builder_set_member_name (builder, "number");
  json_builder_add_int_value (builder, job->number);
  json_builder_set_member_name (builder, "node_errors");
  json_builder_begin_object (builder);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  set_json (msg, 200, builder);
  schedule_next (self);
}

static void
add_queue_item (JsonBuilder *builder, guint number, const char *prompt_id)
{
  json_builder_begin_array (builder);
  json_builder_add_int_value (builder, number);
  json_builder_add_string_value (builder, prompt_id);
  json_builder_begin_object (builder);
  json_builder_end_object (builder);
  json_builder_begin_object (builder);
  json_builder_end_object (builder);
  json_builder_begin_array (builder);
  json_builder_end_array (builder);
  json_builder_end_array (builder);
}

static void
handle_queue (FakeComfyui *self, SoupServerMessage *msg)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  if (g_str_equal (soup_server_message_get_method (msg), "POST"))
    {
      SoupMessageBody *body = soup_server_message_get_request_body (msg);
      g_autoptr (JsonParser) parser = json_parser_new ();
      JsonArray *ids;

      if (json_parser_load_from_data (parser, body->data, body->length, NULL)
          && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))
          && (ids
              = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)), "delete"))
                 != NULL)
        for (guint i = 0; i < json_array_get_length (ids); i++)
          for (GList *l = self->pending.head; l != NULL; l = l->next)
            {
              FakeJob *job = l->data;

              if (g_strcmp0 (job->prompt_id, json_array_get_string_element (ids, i)) == 0)
                {
                  g_queue_delete_link (&self->pending, l);
                  fake_job_free (job);
                  self->n_deletes++;
                  break;
                }
            }
      soup_server_message_set_status (msg, 200, NULL);
      return;
    }
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "queue_running");
  json_builder_begin_array (builder);
  if (self->faults & FAKE_COMFYUI_FAULT_BUSY)
    add_queue_item (builder, 0, "someone-elses-prompt");
  if (self->running != NULL)
    add_queue_item (builder, self->running->number, self->running->prompt_id);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "queue_pending");
  json_builder_begin_array (builder);
  for (GList *l = self->pending.head; l != NULL; l = l->next)
    add_queue_item (builder, ((FakeJob *)l->data)->number, ((FakeJob *)l->data)->prompt_id);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  set_json (msg, 200, builder);
}

static void
handle_interrupt (FakeComfyui *self, SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (JsonParser) parser = json_parser_new ();
  const char *target = NULL;
  FakeJob *job = self->running;

  self->n_interrupts++;
  if (body->length > 0 && json_parser_load_from_data (parser, body->data, body->length, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    target = json_object_get_string_member_with_default (json_node_get_object (json_parser_get_root (parser)),
                                                         "prompt_id", NULL);
  if (job != NULL && (target == NULL || g_str_equal (target, job->prompt_id)))
    {
      g_autoptr (JsonBuilder) data = event_data (job, NULL);

      g_clear_handle_id (&job->timer, g_source_remove);
      json_builder_set_member_name (data, "node_id");
      json_builder_add_string_value (data, "8");
      json_builder_set_member_name (data, "node_type");
      json_builder_add_string_value (data, "KSampler");
      json_builder_end_object (data);
      send_event (self, job, "execution_interrupted", data);
      store_history (self, job, "error", FALSE);
      end_running (self);
    }
  soup_server_message_set_status (msg, 200, NULL);
}

static void
handle_history (FakeComfyui *self, SoupServerMessage *msg, const char *prompt_id)
{
  JsonNode *entry = g_hash_table_lookup (self->history, prompt_id);
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  self->history_requests++;
  if (self->glitches_left > 0)
    {
      static const char cut[] = "{\"b7c0e1d2\": {\"outputs\": {\"11\": {\"ima";

      if (self->glitches_left-- == 2)
        {
          soup_server_message_set_status (msg, 200, NULL);
          soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, cut, strlen (cut));
        }
      else
        soup_server_message_set_status (msg, 500, NULL);
      return;
    }
  json_builder_begin_object (builder);
  if (entry != NULL)
    {
      json_builder_set_member_name (builder, prompt_id);
      json_builder_add_value (builder, json_node_copy (entry));
    }
  json_builder_end_object (builder);
  set_json (msg, 200, builder);
}

static void
handle_view (FakeComfyui *self, SoupServerMessage *msg, GHashTable *query)
{
  const char *filename = query != NULL ? g_hash_table_lookup (query, "filename") : NULL;
  const char *subfolder = query != NULL ? g_hash_table_lookup (query, "subfolder") : NULL;
  const char *type = query != NULL ? g_hash_table_lookup (query, "type") : NULL;

  if (filename == NULL || strstr (filename, "..") != NULL || filename[0] == '/')
    {
      soup_server_message_set_status (msg, 400, NULL);
      return;
    }
  if (!g_str_equal (filename, OUTPUT_NAME) || g_strcmp0 (subfolder, "video") != 0
      || g_strcmp0 (type, "output") != 0)
    {
      soup_server_message_set_status (msg, 404, NULL);
      return;
    }
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Content-Disposition",
                                "filename=\"" OUTPUT_NAME "\"");
  soup_server_message_set_status (msg, 200, NULL);
  soup_server_message_set_response (msg, "video/mp4", SOUP_MEMORY_COPY, g_bytes_get_data (self->video, NULL),
                                    g_bytes_get_size (self->video));
}

static void
handle_object_info (FakeComfyui *self, SoupServerMessage *msg, const char *class_type)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  if (class_known (self, class_type))
    {
      json_builder_set_member_name (builder, class_type);
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, class_type);
      json_builder_set_member_name (builder, "input");
      json_builder_begin_object (builder);
      json_builder_end_object (builder);
      json_builder_end_object (builder);
    }
  json_builder_end_object (builder);
  set_json (msg, 200, builder);
}

static void
handle_models (FakeComfyui *self, SoupServerMessage *msg, const char *folder)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  GPtrArray *names = g_hash_table_lookup (self->models, folder);

  if ((self->faults & FAKE_COMFYUI_FAULT_NO_MODELS_ROUTE) || names == NULL)
    {
      soup_server_message_set_status (msg, 404, NULL);
      return;
    }
  json_builder_begin_array (builder);
  for (guint i = 0; i < names->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (names, i));
  json_builder_end_array (builder);
  set_json (msg, 200, builder);
}

static void
route_cb (SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  FakeComfyui *self = user_data;
  const char *method = soup_server_message_get_method (msg);

  if (!authorized (self, msg))
    return;
  if (g_str_has_prefix (path, "/api/"))
    path += 4;
  if (g_str_equal (path, "/prompt") && g_str_equal (method, "POST"))
    handle_prompt (self, msg);
  else if (g_str_equal (path, "/queue"))
    handle_queue (self, msg);
  else if (g_str_equal (path, "/interrupt") && g_str_equal (method, "POST"))
    handle_interrupt (self, msg);
  else if (g_str_has_prefix (path, "/history/"))
    handle_history (self, msg, path + strlen ("/history/"));
  else if (g_str_equal (path, "/view"))
    handle_view (self, msg, query);
  else if (g_str_has_prefix (path, "/object_info/"))
    handle_object_info (self, msg, path + strlen ("/object_info/"));
  else if (g_str_has_prefix (path, "/models/"))
    handle_models (self, msg, path + strlen ("/models/"));
  else if (g_str_equal (path, "/system_stats"))
    {
      static const char stats[] = "{\"system\": {\"os\": \"posix\", \"comfyui_version\": \"0.3.50\"}, "
                                  "\"devices\": [{\"name\": \"cuda:0 Fake GPU\", \"type\": \"cuda\", "
                                  "\"vram_total\": 25769803776, \"vram_free\": 20000000000}]}";

      soup_server_message_set_status (msg, 200, NULL);
      soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_STATIC, stats, strlen (stats));
    }
  else
    soup_server_message_set_status (msg, 404, NULL);
}

static void
add_model (FakeComfyui *self, const char *folder, const char *name)
{
  GPtrArray *names = g_hash_table_lookup (self->models, folder);

  if (names == NULL)
    {
      names = g_ptr_array_new_with_free_func (g_free);
      g_hash_table_insert (self->models, g_strdup (folder), names);
    }
  g_ptr_array_add (names, g_strdup (name));
}

FakeComfyui *
fake_comfyui_new (void)
{
  FakeComfyui *self = g_new0 (FakeComfyui, 1);

  self->server = fake_http_server_new (&self->url);
  self->removed_nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->models = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_ptr_array_unref);
  self->sockets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->history = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)json_node_unref);
  g_queue_init (&self->pending);
  self->video = fake_oss_make_content (96 * 1024, 17);
  add_model (self, "diffusion_models", "wan2.2_ti2v_5B_fp16.safetensors");
  add_model (self, "diffusion_models", "wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors");
  add_model (self, "diffusion_models", "wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors");
  add_model (self, "text_encoders", "umt5_xxl_fp8_e4m3fn_scaled.safetensors");
  add_model (self, "vae", "wan2.2_vae.safetensors");
  add_model (self, "vae", "wan_2.1_vae.safetensors");
  soup_server_add_handler (self->server, NULL, route_cb, self, NULL);
  soup_server_add_websocket_handler (self->server, "/ws", NULL, NULL, websocket_cb, self, NULL);
  return self;
}

void
fake_comfyui_free (FakeComfyui *self)
{
  FakeJob *job;

  if (self == NULL)
    return;
  g_clear_handle_id (&self->next_idle, g_source_remove);
  while ((job = g_queue_pop_head (&self->pending)) != NULL)
    fake_job_free (job);
  g_clear_pointer (&self->running, fake_job_free);
  g_hash_table_remove_all (self->sockets);
  soup_server_disconnect (self->server);
  g_object_unref (self->server);
  g_free (self->url);
  g_free (self->token);
  g_hash_table_unref (self->removed_nodes);
  g_hash_table_unref (self->models);
  g_hash_table_unref (self->sockets);
  g_hash_table_unref (self->history);
  g_bytes_unref (self->video);
  g_free (self->reject_node);
  g_free (self->reject_class);
  g_free (self->reject_type);
  g_free (self->reject_details);
  g_clear_pointer (&self->last_graph, json_object_unref);
  g_free (self->last_client_id);
  g_free (self);
}

const char *
fake_comfyui_get_url (FakeComfyui *self)
{
  return self->url;
}

void
fake_comfyui_set_faults (FakeComfyui *self, guint faults)
{
  gboolean was_busy = (self->faults & FAKE_COMFYUI_FAULT_BUSY) != 0;

  self->faults = faults;
  self->glitches_left = (faults & FAKE_COMFYUI_FAULT_HISTORY_GLITCH) ? 2 : 0;
  if (faults & FAKE_COMFYUI_FAULT_NO_WEBSOCKET)
    soup_server_remove_handler (self->server, "/ws");
  if (was_busy && !(faults & FAKE_COMFYUI_FAULT_BUSY))
    schedule_next (self);
}

void
fake_comfyui_set_token (FakeComfyui *self, const char *token)
{
  g_free (self->token);
  self->token = g_strdup (token);
}

void
fake_comfyui_remove_node (FakeComfyui *self, const char *class_type)
{
  g_hash_table_add (self->removed_nodes, g_strdup (class_type));
}

void
fake_comfyui_remove_model (FakeComfyui *self, const char *folder, const char *name)
{
  GPtrArray *names = g_hash_table_lookup (self->models, folder);
  guint index;

  if (names != NULL && g_ptr_array_find_with_equal_func (names, name, g_str_equal, &index))
    g_ptr_array_remove_index (names, index);
}

void
fake_comfyui_reject_next_prompt (
    FakeComfyui *self, const char *node_id, const char *class_type, const char *type, const char *details)
{
  g_free (self->reject_node);
  self->reject_node = g_strdup (node_id);
  g_free (self->reject_class);
  self->reject_class = g_strdup (class_type);
  g_free (self->reject_type);
  self->reject_type = g_strdup (type);
  g_free (self->reject_details);
  self->reject_details = g_strdup (details);
}

void
fake_comfyui_set_video (FakeComfyui *self, GBytes *video)
{
  g_bytes_unref (self->video);
  self->video = g_bytes_ref (video);
}

guint
fake_comfyui_get_n_prompts (FakeComfyui *self)
{
  return self->n_prompts;
}

guint
fake_comfyui_get_n_interrupts (FakeComfyui *self)
{
  return self->n_interrupts;
}

guint
fake_comfyui_get_n_deletes (FakeComfyui *self)
{
  return self->n_deletes;
}

guint
fake_comfyui_get_n_previews (FakeComfyui *self)
{
  return self->n_previews;
}

guint
fake_comfyui_get_n_history (FakeComfyui *self)
{
  return self->history_requests;
}

JsonObject *
fake_comfyui_get_last_graph (FakeComfyui *self)
{
  return self->last_graph;
}

const char *
fake_comfyui_get_last_client_id (FakeComfyui *self)
{
  return self->last_client_id;
}
