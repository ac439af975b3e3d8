/* takes-backend-comfyui.c: Wan2.2 workflows on a ComfyUI server.
 *
 * One run per job, in this order: check that every node class and model file
 * the workflow needs is on the server (/object_info/<class>, /models/<folder>),
 * open the WebSocket with the job's own client id (so only this job's events
 * and previews arrive on it), queue the prompt, follow the events, then fetch
 * the video through /view. If the socket drops, or never opens, /history is
 * polled instead; the job does not depend on the socket.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "takes-backend-comfyui.h"
#include "takes-backend-http.h"
#include "takes-download.h"
#include "takes-paths.h"
#include "takes-secrets.h"

#define DEFAULT_URL "http://127.0.0.1:8188"
#define DEFAULT_POLL_INTERVAL 1.5
#define DEFAULT_TIMEOUT (3.0 * 3600.0)
#define DEFAULT_MAX_DOWNLOAD (G_GUINT64_CONSTANT (4) * 1024 * 1024 * 1024)
#define MAX_POLL_FAILURES 8
#define MAX_TEMPLATE_BYTES (1024 * 1024)
#define MAX_WS_PAYLOAD (32 * 1024 * 1024)
#define PREVIEW_IMAGE_EVENT 1
#define SAMPLING_SHARE 0.9

typedef struct
{
  char *id;
  char *display_name;
  char *path;
  JsonNode *root;
  JsonObject *graph;
  JsonObject *parameters;
  JsonObject *defaults;
  JsonObject *constraints;
  JsonObject *model_files;
  GStrv model_params;
  GStrv progress_nodes;
  char *output_node;
  GHashTable *overrides; /* parameter → file name */
} Template;

struct _TakesBackendComfyui
{
  GObject parent_instance;

  char *id;
  char *display_name;
  char *url;
  char *display_url; /* without user or query, for messages */
  char *token;
  char *templates_dir;
  char *download_dir;
  guint64 max_download_size;
  double poll_interval;
  double timeout;
  GPtrArray *templates; /* Template */
  GHashTable *known_nodes;
  SoupSession *session;
};

static void takes_backend_comfyui_backend_init (TakesBackendInterface *iface);
static void takes_backend_comfyui_initable_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TakesBackendComfyui,
                               takes_backend_comfyui,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TAKES_TYPE_BACKEND, takes_backend_comfyui_backend_init)
                                   G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                          takes_backend_comfyui_initable_init))

enum
{
  PROP_0,
  PROP_ID,
  PROP_DISPLAY_NAME,
  PROP_URL,
  PROP_TOKEN,
  PROP_TEMPLATES_DIR,
  PROP_DOWNLOAD_DIR,
  PROP_MAX_DOWNLOAD_SIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
template_free (gpointer data)
{
  Template *tmpl = data;

  g_free (tmpl->id);
  g_free (tmpl->display_name);
  g_free (tmpl->path);
  g_clear_pointer (&tmpl->root, json_node_unref);
  g_strfreev (tmpl->model_params);
  g_strfreev (tmpl->progress_nodes);
  g_free (tmpl->output_node);
  g_hash_table_unref (tmpl->overrides);
  g_free (tmpl);
}

static const char *
service_name (TakesBackendComfyui *self)
{
  return self->display_name != NULL ? self->display_name : "ComfyUI";
}

/* Templates ----------------------------------------------------------------- */

static gboolean
template_error (GError **error, const char *path, const char *problem)
{
  g_autofree char *display = g_filename_display_name (path);

  g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
               _ ("The ComfyUI workflow template %s is damaged (%s). Reinstall Takes."), display, problem);
  return FALSE;
}

static GStrv
string_list (JsonNode *node)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *element = json_array_get_element (array, i);

          if (JSON_NODE_HOLDS_VALUE (element) && json_node_get_value_type (element) == G_TYPE_STRING)
            g_strv_builder_add (builder, json_node_get_string (element));
        }
    }
  return g_strv_builder_end (builder);
}

/* Every parameter must point at inputs of nodes that exist, so a bad template
 * fails when it is loaded, not halfway through a submission. */
static gboolean
check_targets (Template *tmpl, GError **error)
{
  JsonObjectIter iter;
  const char *name;
  JsonNode *targets;

  json_object_iter_init (&iter, tmpl->parameters);
  while (json_object_iter_next (&iter, &name, &targets))
    {
      JsonArray *array;

      if (!JSON_NODE_HOLDS_ARRAY (targets))
        return template_error (error, tmpl->path, _ ("a parameter does not list its targets"));
      array = json_node_get_array (targets);
      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *target = json_array_get_element (array, i);
          JsonArray *pair;
          JsonObject *node;
          const char *node_id, *input;

          if (!JSON_NODE_HOLDS_ARRAY (target) || json_array_get_length (json_node_get_array (target)) != 2)
            return template_error (error, tmpl->path, _ ("a parameter target is not [node, input]"));
          pair = json_node_get_array (target);
          node_id = json_array_get_string_element (pair, 0);
          input = json_array_get_string_element (pair, 1);
          node = node_id != NULL ? takes_backend_json_get_object (tmpl->graph, node_id) : NULL;
          if (node == NULL || input == NULL || takes_backend_json_get_object (node, "inputs") == NULL)
            return template_error (error, tmpl->path,
                                   _ ("a parameter targets a node that is not in the graph"));
        }
    }
  return TRUE;
}

static Template *
load_template (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonObject *root;
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;
  g_autoptr (GStrvBuilder) params = g_strv_builder_new ();
  Template *tmpl;

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      template_error (error, path, local_error->message);
      return NULL;
    }
  if (length > MAX_TEMPLATE_BYTES)
    {
      template_error (error, path, _ ("the file is far too large"));
      return NULL;
    }
  if (!json_parser_load_from_data (parser, contents, (gssize)length, &local_error))
    {
      template_error (error, path, local_error->message);
      return NULL;
    }
  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    {
      template_error (error, path, _ ("it is not a JSON object"));
      return NULL;
    }
  root = json_node_get_object (node);
  tmpl = g_new0 (Template, 1);
  tmpl->path = g_strdup (path);
  tmpl->root = json_node_ref (node);
  tmpl->overrides = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  tmpl->id = g_strdup (takes_backend_json_get_string (root, "model"));
  tmpl->display_name = g_strdup (takes_backend_json_get_string (root, "display_name"));
  tmpl->graph = takes_backend_json_get_object (root, "graph");
  tmpl->parameters = takes_backend_json_get_object (root, "parameters");
  tmpl->defaults = takes_backend_json_get_object (root, "defaults");
  tmpl->constraints = takes_backend_json_get_object (root, "constraints");
  tmpl->model_files = takes_backend_json_get_object (root, "model_files");
  tmpl->progress_nodes = string_list (json_object_get_member (root, "progress_nodes"));
  tmpl->output_node = g_strdup (takes_backend_json_get_string (root, "output_node"));
  if (tmpl->id == NULL || tmpl->graph == NULL || tmpl->parameters == NULL || tmpl->defaults == NULL
      || tmpl->constraints == NULL || tmpl->model_files == NULL || tmpl->output_node == NULL)
    {
      template_error (error, path, _ ("a required section is missing"));
      template_free (tmpl);
      return NULL;
    }
  if (tmpl->display_name == NULL)
    tmpl->display_name = g_strdup (tmpl->id);
  if (takes_backend_json_get_object (tmpl->graph, tmpl->output_node) == NULL)
    {
      template_error (error, path, _ ("the output node is not in the graph"));
      template_free (tmpl);
      return NULL;
    }
  json_object_iter_init (&iter, tmpl->graph);
  while (json_object_iter_next (&iter, &name, &node))
    if (!JSON_NODE_HOLDS_OBJECT (node)
        || takes_backend_json_get_string (json_node_get_object (node), "class_type") == NULL)
      {
        template_error (error, path, _ ("a node has no class_type"));
        template_free (tmpl);
        return NULL;
      }
  json_object_iter_init (&iter, tmpl->model_files);
  while (json_object_iter_next (&iter, &name, &node))
    {
      JsonObject *entry = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;

      if (takes_backend_json_get_string (entry, "folder") == NULL
          || takes_backend_json_get_string (entry, "default") == NULL
          || !json_object_has_member (tmpl->parameters, name))
        {
          template_error (error, path, _ ("a model file entry is incomplete"));
          template_free (tmpl);
          return NULL;
        }
      g_strv_builder_add (params, name);
    }
  tmpl->model_params = g_strv_builder_end (params);
  if (!check_targets (tmpl, error))
    {
      template_free (tmpl);
      return NULL;
    }
  return tmpl;
}

static gboolean
load_templates (TakesBackendComfyui *self, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GDir) dir = g_dir_open (self->templates_dir, 0, &local_error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    return template_error (error, self->templates_dir, local_error->message);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_prefix (name, "comfyui-") && g_str_has_suffix (name, ".json"))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc)g_strcmp0);
  for (guint i = 0; i < names->len; i++)
    {
      g_autofree char *path = g_build_filename (self->templates_dir, g_ptr_array_index (names, i), NULL);
      Template *tmpl = load_template (path, error);

      if (tmpl == NULL)
        return FALSE;
      g_ptr_array_add (self->templates, tmpl);
    }
  if (self->templates->len == 0)
    return template_error (error, self->templates_dir, _ ("no comfyui-*.json workflow was found"));
  return TRUE;
}

static Template *
lookup_template (TakesBackendComfyui *self, const char *model)
{
  for (guint i = 0; model != NULL && i < self->templates->len; i++)
    {
      Template *tmpl = g_ptr_array_index (self->templates, i);

      if (g_strcmp0 (tmpl->id, model) == 0)
        return tmpl;
    }
  return NULL;
}

static const char *
template_model_file (Template *tmpl, const char *parameter)
{
  const char *override = g_hash_table_lookup (tmpl->overrides, parameter);
  JsonObject *entry = takes_backend_json_get_object (tmpl->model_files, parameter);

  return override != NULL ? override : takes_backend_json_get_string (entry, "default");
}

static guint
constraint (Template *tmpl, const char *name)
{
  double value = 0;

  return takes_backend_json_get_number (tmpl->constraints, name, &value) && value > 0 ? (guint)value : 0;
}

/* GObject --------------------------------------------------------------------- */

static gboolean
takes_backend_comfyui_initable_init_impl (GInitable *initable, GCancellable *cancellable, GError **error)
{
  TakesBackendComfyui *self = TAKES_BACKEND_COMFYUI (initable);

  if (self->templates_dir == NULL)
    self->templates_dir = takes_paths_datafile ("backends");
  return load_templates (self, error);
}

static void
takes_backend_comfyui_initable_init (GInitableIface *iface)
{
  iface->init = takes_backend_comfyui_initable_init_impl;
}

static void
takes_backend_comfyui_dispose (GObject *object)
{
  TakesBackendComfyui *self = TAKES_BACKEND_COMFYUI (object);

  g_clear_object (&self->session);

  G_OBJECT_CLASS (takes_backend_comfyui_parent_class)->dispose (object);
}

static void
takes_backend_comfyui_finalize (GObject *object)
{
  TakesBackendComfyui *self = TAKES_BACKEND_COMFYUI (object);

  g_free (self->id);
  g_free (self->display_name);
  g_free (self->url);
  g_free (self->display_url);
  takes_secrets_free (self->token);
  g_free (self->templates_dir);
  g_free (self->download_dir);
  g_ptr_array_unref (self->templates);
  g_hash_table_unref (self->known_nodes);

  G_OBJECT_CLASS (takes_backend_comfyui_parent_class)->finalize (object);
}

static void
takes_backend_comfyui_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesBackendComfyui *self = TAKES_BACKEND_COMFYUI (object);

  switch (prop_id)
    {
      case PROP_ID:
        g_value_set_string (value, self->id);
        break;
      case PROP_DISPLAY_NAME:
        g_value_set_string (value, self->display_name);
        break;
      case PROP_URL:
        g_value_set_string (value, self->url);
        break;
      case PROP_TEMPLATES_DIR:
        g_value_set_string (value, self->templates_dir);
        break;
      case PROP_DOWNLOAD_DIR:
        g_value_set_string (value, self->download_dir);
        break;
      case PROP_MAX_DOWNLOAD_SIZE:
        g_value_set_uint64 (value, self->max_download_size);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_backend_comfyui_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TakesBackendComfyui *self = TAKES_BACKEND_COMFYUI (object);

  switch (prop_id)
    {
      case PROP_ID:
        g_free (self->id);
        self->id = g_value_dup_string (value);
        if (self->id == NULL)
          self->id = g_strdup ("comfyui");
        break;
      case PROP_DISPLAY_NAME:
        g_free (self->display_name);
        self->display_name = g_value_dup_string (value);
        break;
      case PROP_URL:
        takes_backend_comfyui_set_url (self, g_value_get_string (value));
        break;
      case PROP_TOKEN:
        takes_backend_comfyui_set_token (self, g_value_get_string (value));
        break;
      case PROP_TEMPLATES_DIR:
        g_free (self->templates_dir);
        self->templates_dir = g_value_dup_string (value);
        break;
      case PROP_DOWNLOAD_DIR:
        if (g_value_get_string (value) != NULL)
          takes_backend_comfyui_set_download_dir (self, g_value_get_string (value));
        break;
      case PROP_MAX_DOWNLOAD_SIZE:
        takes_backend_comfyui_set_max_download_size (self, g_value_get_uint64 (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_backend_comfyui_class_init (TakesBackendComfyuiClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = takes_backend_comfyui_dispose;
  object_class->finalize = takes_backend_comfyui_finalize;
  object_class->get_property = takes_backend_comfyui_get_property;
  object_class->set_property = takes_backend_comfyui_set_property;

  properties[PROP_ID] = g_param_spec_string (
      "id", NULL, NULL, "comfyui", G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DISPLAY_NAME] = g_param_spec_string (
      "display-name", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_URL] = g_param_spec_string (
      "url", NULL, NULL, DEFAULT_URL, G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Write-only: a token must not be readable through property dumps. */
  properties[PROP_TOKEN]
      = g_param_spec_string ("token", NULL, NULL, NULL, G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_TEMPLATES_DIR] = g_param_spec_string (
      "templates-dir", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DOWNLOAD_DIR] = g_param_spec_string (
      "download-dir", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_DOWNLOAD_SIZE]
      = g_param_spec_uint64 ("max-download-size", NULL, NULL, 0, G_MAXUINT64, DEFAULT_MAX_DOWNLOAD,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
takes_backend_comfyui_init (TakesBackendComfyui *self)
{
  g_autofree char *data_dir = takes_paths_data_dir ();

  self->id = g_strdup ("comfyui");
  self->url = g_strdup (DEFAULT_URL);
  self->display_url = g_strdup (DEFAULT_URL);
  self->download_dir = g_build_filename (data_dir, "downloads", NULL);
  self->max_download_size = DEFAULT_MAX_DOWNLOAD;
  self->poll_interval = DEFAULT_POLL_INTERVAL;
  self->timeout = DEFAULT_TIMEOUT;
  self->templates = g_ptr_array_new_with_free_func (template_free);
  self->known_nodes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->session = takes_backend_http_session_new ();
}

TakesBackendComfyui *
takes_backend_comfyui_new (const char *url, GError **error)
{
  return g_initable_new (TAKES_TYPE_BACKEND_COMFYUI, NULL, error, "url", url != NULL ? url : DEFAULT_URL,
                         NULL);
}

TakesBackendComfyui *
takes_backend_comfyui_new_with_templates (const char *url, const char *templates_dir, GError **error)
{
  return g_initable_new (TAKES_TYPE_BACKEND_COMFYUI, NULL, error, "url", url != NULL ? url : DEFAULT_URL,
                         "templates-dir", templates_dir, NULL);
}

const char *
takes_backend_comfyui_get_url (TakesBackendComfyui *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_COMFYUI (self), NULL);
  return self->url;
}

void
takes_backend_comfyui_set_url (TakesBackendComfyui *self, const char *url)
{
  g_autofree char *trimmed = NULL;
  gsize len;

  g_return_if_fail (TAKES_IS_BACKEND_COMFYUI (self));

  trimmed = g_strstrip (g_strdup (url != NULL && *url != '\0' ? url : DEFAULT_URL));
  len = strlen (trimmed);
  while (len > 0 && trimmed[len - 1] == '/')
    trimmed[--len] = '\0';
  if (g_strcmp0 (self->url, trimmed) == 0)
    return;
  g_free (self->url);
  self->url = g_steal_pointer (&trimmed);
  g_free (self->display_url);
  {
    g_autoptr (GUri) parsed = g_uri_parse (self->url, G_URI_FLAGS_NONE, NULL);

    /* A password in the address must not reach a message. */
    self->display_url = parsed != NULL ? g_uri_join (G_URI_FLAGS_NONE, g_uri_get_scheme (parsed), NULL,
                                                     g_uri_get_host (parsed), g_uri_get_port (parsed),
                                                     g_uri_get_path (parsed), NULL, NULL)
                                       : g_strdup (_ ("an address that is not a valid URL"));
  }
  /* Node classes are known per server. */
  g_hash_table_remove_all (self->known_nodes);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_URL]);
}

void
takes_backend_comfyui_set_token (TakesBackendComfyui *self, const char *token)
{
  g_return_if_fail (TAKES_IS_BACKEND_COMFYUI (self));

  takes_secrets_free (self->token);
  self->token = token != NULL && *token != '\0' ? g_strdup (token) : NULL;
  takes_secrets_remember (self->token);
}

void
takes_backend_comfyui_set_download_dir (TakesBackendComfyui *self, const char *download_dir)
{
  g_return_if_fail (TAKES_IS_BACKEND_COMFYUI (self));
  g_return_if_fail (download_dir != NULL);

  if (g_strcmp0 (self->download_dir, download_dir) == 0)
    return;
  g_free (self->download_dir);
  self->download_dir = g_strdup (download_dir);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOWNLOAD_DIR]);
}

void
takes_backend_comfyui_set_max_download_size (TakesBackendComfyui *self, guint64 max_bytes)
{
  g_return_if_fail (TAKES_IS_BACKEND_COMFYUI (self));

  if (self->max_download_size == max_bytes)
    return;
  self->max_download_size = max_bytes;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_DOWNLOAD_SIZE]);
}

/* How often /history is asked when the WebSocket is not there (1.5 s by
 * default, as the protocol notes suggest 1–2 s). */
void
takes_backend_comfyui_set_poll_interval (TakesBackendComfyui *self, double seconds)
{
  g_return_if_fail (TAKES_IS_BACKEND_COMFYUI (self));
  g_return_if_fail (seconds > 0);

  self->poll_interval = seconds;
}

/* The longest a job may take from queueing to its result (3 h by default). */
void
takes_backend_comfyui_set_timeout (TakesBackendComfyui *self, double seconds)
{
  g_return_if_fail (TAKES_IS_BACKEND_COMFYUI (self));
  g_return_if_fail (seconds > 0);

  self->timeout = seconds;
}

/* The model-file parameters of a workflow ("unet_name", "vae_name"…). */
const char *const *
takes_backend_comfyui_list_model_files (TakesBackendComfyui *self, const char *model)
{
  Template *tmpl;

  g_return_val_if_fail (TAKES_IS_BACKEND_COMFYUI (self), NULL);

  tmpl = lookup_template (self, model);
  return tmpl != NULL ? (const char *const *)tmpl->model_params : NULL;
}

const char *
takes_backend_comfyui_get_model_file (TakesBackendComfyui *self, const char *model, const char *parameter)
{
  Template *tmpl;

  g_return_val_if_fail (TAKES_IS_BACKEND_COMFYUI (self), NULL);

  tmpl = lookup_template (self, model);
  if (tmpl == NULL || !g_strv_contains ((const char *const *)tmpl->model_params, parameter))
    return NULL;
  return template_model_file (tmpl, parameter);
}

/* Uses @file_name (as listed in the server's models folder) instead of the
 * template's default; NULL goes back to the default. */
gboolean
takes_backend_comfyui_set_model_file (TakesBackendComfyui *self,
                                      const char *model,
                                      const char *parameter,
                                      const char *file_name,
                                      GError **error)
{
  Template *tmpl;

  g_return_val_if_fail (TAKES_IS_BACKEND_COMFYUI (self), FALSE);

  tmpl = lookup_template (self, model);
  if (tmpl == NULL || !g_strv_contains ((const char *const *)tmpl->model_params, parameter))
    {
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                   _ ("The ComfyUI workflow for “%s” has no model file setting “%s”."), model, parameter);
      return FALSE;
    }
  if (file_name == NULL || *file_name == '\0')
    {
      g_hash_table_remove (tmpl->overrides, parameter);
      return TRUE;
    }
  if (strstr (file_name, "..") != NULL || g_str_has_prefix (file_name, "/")
      || strchr (file_name, '\n') != NULL)
    {
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                   _ ("“%s” is not a model file name. Give the name as the server's models folder lists it."),
                   file_name);
      return FALSE;
    }
  g_hash_table_replace (tmpl->overrides, g_strdup (parameter), g_strdup (file_name));
  return TRUE;
}

/* Graphs ------------------------------------------------------------------------ */

static void
set_parameter (Template *tmpl, JsonObject *graph, const char *name, JsonNode *value)
{
  JsonArray *targets;

  if (!json_object_has_member (tmpl->parameters, name))
    {
      json_node_unref (value);
      return;
    }
  targets = json_object_get_array_member (tmpl->parameters, name);
  for (guint i = 0; i < json_array_get_length (targets); i++)
    {
      JsonArray *pair = json_array_get_array_element (targets, i);
      JsonObject *node = json_object_get_object_member (graph, json_array_get_string_element (pair, 0));
      JsonObject *inputs = json_object_get_object_member (node, "inputs");

      json_object_set_member (inputs, json_array_get_string_element (pair, 1), json_node_copy (value));
    }
  json_node_unref (value);
}

static JsonNode *
int_node (gint64 value)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);

  json_node_set_int (node, value);
  return node;
}

static JsonNode *
double_node (double value)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);

  json_node_set_double (node, value);
  return node;
}

static JsonNode *
string_node (const char *value)
{
  JsonNode *node = json_node_new (JSON_NODE_VALUE);

  json_node_set_string (node, value);
  return node;
}

static const char *
option_string (TakesRecipe *recipe, const char *name)
{
  return takes_backend_json_get_string (takes_recipe_get_options (recipe), name);
}

/* Takes's sampler ids to ComfyUI's sampler names; anything else is passed on
 * as a ComfyUI name. */
static const char *
comfy_sampler (TakesRecipe *recipe, Template *tmpl)
{
  const char *option = option_string (recipe, "sampler_name");
  const char *sampler = takes_recipe_get_sampler (recipe);

  if (option != NULL)
    return option;
  if (sampler == NULL || *sampler == '\0')
    return takes_backend_json_get_string (tmpl->defaults, "sampler");
  if (g_str_equal (sampler, "unipc"))
    return "uni_pc";
  if (g_str_equal (sampler, "dpm++") || g_str_equal (sampler, "dpmpp"))
    return "dpmpp_2m";
  return sampler;
}

static gboolean
validate_recipe (TakesBackendComfyui *self, TakesRecipe *recipe, Template **tmpl_out, GError **error)
{
  Template *tmpl = lookup_template (self, takes_recipe_get_model (recipe));
  g_autoptr (TakesBackendCapabilities) caps = takes_backend_capabilities_new ();
  TakesBackendModelCaps *entry;

  if (tmpl == NULL)
    {
      g_autoptr (GString) known = g_string_new (NULL);

      for (guint i = 0; i < self->templates->len; i++)
        g_string_append_printf (known, "%s%s", i > 0 ? ", " : "",
                                ((Template *)g_ptr_array_index (self->templates, i))->id);
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL,
                   _ ("Takes has no ComfyUI workflow for the model “%s”. Choose one of: %s."),
                   takes_recipe_get_model (recipe) != NULL ? takes_recipe_get_model (recipe) : "",
                   known->str);
      return FALSE;
    }
  entry = takes_backend_capabilities_add_model (caps, tmpl->id, tmpl->display_name);
  entry->size_step = constraint (tmpl, "size_step");
  entry->min_side = constraint (tmpl, "min_side");
  entry->max_side = constraint (tmpl, "max_side");
  entry->frame_step = constraint (tmpl, "frame_step");
  entry->min_frames = constraint (tmpl, "min_frames");
  entry->max_frames = constraint (tmpl, "max_frames");
  if (!takes_backend_model_caps_check_prompts (entry, takes_recipe_get_prompt (recipe), NULL, error)
      || !takes_backend_model_caps_check_size (entry, takes_recipe_get_width (recipe),
                                               takes_recipe_get_height (recipe), error)
      || !takes_backend_model_caps_check_frames (entry, takes_recipe_get_frames (recipe), error))
    return FALSE;
  if (takes_recipe_get_seed (recipe) < 0)
    {
      g_set_error_literal (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                           _ ("The seed is negative. Use a seed of 0 or more."));
      return FALSE;
    }
  if (tmpl_out != NULL)
    *tmpl_out = tmpl;
  return TRUE;
}

/* The API-format graph that POST /prompt receives for @recipe. */
JsonNode *
takes_backend_comfyui_build_graph (TakesBackendComfyui *self, TakesRecipe *recipe, GError **error)
{
  Template *tmpl = NULL;
  g_autoptr (JsonNode) copy = NULL;
  JsonObject *graph;
  const char *negative;
  double steps, guidance, high, low, shift, split = -1;
  const char *scheduler;

  g_return_val_if_fail (TAKES_IS_BACKEND_COMFYUI (self), NULL);
  g_return_val_if_fail (TAKES_IS_RECIPE (recipe), NULL);

  if (!validate_recipe (self, recipe, &tmpl, error))
    return NULL;
  copy = json_node_copy (json_object_get_member (json_node_get_object (tmpl->root), "graph"));
  graph = json_node_get_object (copy);

  for (guint i = 0; tmpl->model_params[i] != NULL; i++)
    set_parameter (tmpl, graph, tmpl->model_params[i],
                   string_node (template_model_file (tmpl, tmpl->model_params[i])));
  set_parameter (tmpl, graph, "prompt", string_node (takes_recipe_get_prompt (recipe)));
  negative = takes_recipe_get_negative_prompt (recipe);
  if (negative == NULL || *negative == '\0')
    negative = takes_backend_json_get_string (tmpl->defaults, "negative_prompt");
  set_parameter (tmpl, graph, "negative_prompt", string_node (negative != NULL ? negative : ""));
  set_parameter (tmpl, graph, "width", int_node (takes_recipe_get_width (recipe)));
  set_parameter (tmpl, graph, "height", int_node (takes_recipe_get_height (recipe)));
  set_parameter (tmpl, graph, "frames", int_node (takes_recipe_get_frames (recipe)));
  set_parameter (tmpl, graph, "seed", int_node (takes_recipe_get_seed (recipe)));

  steps = takes_recipe_get_steps (recipe);
  if (steps <= 0)
    takes_backend_json_get_number (tmpl->defaults, "steps", &steps);
  set_parameter (tmpl, graph, "steps", int_node ((gint64)steps));
  guidance = takes_recipe_get_guidance (recipe);
  high = takes_recipe_has_guidance_pair (recipe) ? takes_recipe_get_guidance_high (recipe) : guidance;
  low = takes_recipe_has_guidance_pair (recipe) ? takes_recipe_get_guidance_low (recipe) : guidance;
  set_parameter (tmpl, graph, "cfg", double_node (guidance));
  set_parameter (tmpl, graph, "cfg_high", double_node (high));
  set_parameter (tmpl, graph, "cfg_low", double_node (low));
  shift = takes_recipe_get_shift (recipe);
  if (shift <= 0)
    takes_backend_json_get_number (tmpl->defaults, "shift", &shift);
  set_parameter (tmpl, graph, "shift", double_node (shift));
  set_parameter (tmpl, graph, "sampler", string_node (comfy_sampler (recipe, tmpl)));
  scheduler = option_string (recipe, "scheduler");
  if (scheduler == NULL)
    scheduler = takes_backend_json_get_string (tmpl->defaults, "scheduler");
  set_parameter (tmpl, graph, "scheduler", string_node (scheduler != NULL ? scheduler : "simple"));
  /* The high-noise expert takes the first half of the steps, as in the
   * official template, unless the recipe says otherwise. */
  if (!takes_backend_json_get_number (takes_recipe_get_options (recipe), "split_step", &split))
    split = floor (steps / 2.0);
  split = CLAMP (split, 1, MAX (1, steps - 1));
  set_parameter (tmpl, graph, "split_step", int_node ((gint64)split));
  set_parameter (tmpl, graph, "fps", int_node (takes_recipe_get_fps (recipe)));
  set_parameter (tmpl, graph, "filename_prefix",
                 string_node (takes_backend_json_get_string (tmpl->defaults, "filename_prefix") != NULL
                                  ? takes_backend_json_get_string (tmpl->defaults, "filename_prefix")
                                  : "video/Takes"));
  return g_steal_pointer (&copy);
}

/* Requests ---------------------------------------------------------------------- */

typedef struct
{
  SoupMessage *message;
  GBytes *body;
} Reply;

static void
reply_free (Reply *reply)
{
  g_clear_object (&reply->message);
  g_clear_pointer (&reply->body, g_bytes_unref);
  g_free (reply);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Reply, reply_free)

static void
request_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  GBytes *body = takes_backend_http_fetch_finish (result, &error);
  Reply *reply;

  if (body == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  reply = g_new0 (Reply, 1);
  reply->message = g_object_ref (g_task_get_task_data (task));
  reply->body = body;
  g_task_return_pointer (task, reply, (GDestroyNotify)reply_free);
}

static void
comfy_request_async (TakesBackendComfyui *self,
                     const char *token,
                     const char *method,
                     const char *path,
                     JsonNode *body,
                     GCancellable *cancellable,
                     GAsyncReadyCallback callback,
                     gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr (GError) error = NULL;
  g_autofree char *uri = g_strconcat (self->url, path, NULL);
  g_autoptr (SoupMessage) message = takes_backend_http_message_new (method, uri, service_name (self), &error);

  if (message == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (token != NULL)
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", token);

      soup_message_headers_replace (soup_message_get_request_headers (message), "Authorization", auth);
      explicit_bzero (auth, strlen (auth));
    }
  if (body != NULL)
    takes_backend_http_set_json_body (message, body);
  g_task_set_task_data (task, g_object_ref (message), g_object_unref);
  takes_backend_http_fetch_async (self->session, message, TAKES_BACKEND_HTTP_MAX_REPLY, service_name (self),
                                  cancellable, request_cb, g_steal_pointer (&task));
}

static Reply *
comfy_request_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static GError *
status_error (TakesBackendComfyui *self, Reply *reply)
{
  guint status = soup_message_get_status (reply->message);
  g_autofree char *excerpt = takes_backend_http_body_excerpt (reply->body);

  if (status == SOUP_STATUS_UNAUTHORIZED || status == SOUP_STATUS_FORBIDDEN)
    return g_error_new (
        TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_UNAUTHORIZED,
        _ ("The ComfyUI server at %s refused the request (HTTP %u). Check the token, and that the "
           "server accepts connections from this computer."),
        self->display_url, status);
  if (status == 429)
    return takes_backend_error_new_rate_limited (
        takes_backend_http_retry_after (reply->message),
        _ ("The ComfyUI server at %s is limiting requests. Takes will try "
           "again later."),
        self->display_url);
  if (status == SOUP_STATUS_NOT_FOUND)
    return g_error_new (
        TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NOT_FOUND,
        _ ("The server at %s does not answer like ComfyUI (HTTP 404 for “%s”). Check the address."),
        self->display_url, g_uri_get_path (soup_message_get_uri (reply->message)));
  return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                      _ ("The ComfyUI server at %s answered with HTTP %u (“%s”). Try again later."),
                      self->display_url, status, excerpt);
}

static JsonObject *
reply_object (TakesBackendComfyui *self, Reply *reply, JsonNode **root_out, GError **error)
{
  JsonNode *root = takes_backend_http_parse_json (reply->body, service_name (self), error);

  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      json_node_unref (root);
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                   _ ("The ComfyUI server at %s sent a reply of an unexpected shape. Check the address."),
                   self->display_url);
      return NULL;
    }
  *root_out = root;
  return json_node_get_object (root);
}

/* Preflight: nodes and model files ------------------------------------------------ */

typedef struct
{
  Template *tmpl;
  TakesSecret token;
  GPtrArray *classes;   /* still to check */
  GPtrArray *folders;   /* still to list */
  GHashTable *listings; /* folder → GHashTable of names */
} Preflight;

static void
preflight_free (gpointer data)
{
  Preflight *preflight = data;

  takes_secrets_free (preflight->token);
  g_ptr_array_unref (preflight->classes);
  g_ptr_array_unref (preflight->folders);
  g_hash_table_unref (preflight->listings);
  g_free (preflight);
}

static void preflight_next (GTask *task);

static void
preflight_models_done (GTask *task)
{
  TakesBackendComfyui *self = g_task_get_source_object (task);
  Preflight *preflight = g_task_get_task_data (task);

  for (guint i = 0; preflight->tmpl->model_params[i] != NULL; i++)
    {
      const char *param = preflight->tmpl->model_params[i];
      JsonObject *entry = takes_backend_json_get_object (preflight->tmpl->model_files, param);
      const char *folder = takes_backend_json_get_string (entry, "folder");
      const char *file = template_model_file (preflight->tmpl, param);
      GHashTable *names = g_hash_table_lookup (preflight->listings, folder);

      /* A server too old for /models lists nothing; it still rejects a
       * missing file when the prompt is queued. */
      if (names != NULL && !g_hash_table_contains (names, file))
        {
          g_task_return_new_error (
              task, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL,
              _ ("The ComfyUI server at %s has no model file “%s” in models/%s, which %s needs. "
                 "Download it there, or choose another file in Preferences."),
              self->display_url, file, folder, preflight->tmpl->display_name);
          return;
        }
    }
  g_task_return_boolean (task, TRUE);
}

static void
preflight_folder_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TakesBackendComfyui *self = g_task_get_source_object (task);
  Preflight *preflight = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (Reply) reply = comfy_request_finish (result, &error);
  g_autofree char *folder = g_ptr_array_steal_index (preflight->folders, 0);
  g_autoptr (JsonNode) root = NULL;
  GHashTable *names;
  guint status;

  if (reply == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  status = soup_message_get_status (reply->message);
  if (status == SOUP_STATUS_NOT_FOUND)
    {
      preflight_next (g_steal_pointer (&task));
      return;
    }
  if (status != SOUP_STATUS_OK)
    {
      g_task_return_error (task, status_error (self, reply));
      return;
    }
  root = takes_backend_http_parse_json (reply->body, service_name (self), &error);
  if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
    {
      g_task_return_error (task, error != NULL
                                     ? g_steal_pointer (&error)
                                     : g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                                                    _ ("The ComfyUI server at %s sent a model list Takes "
                                                       "could not read. Try again later."),
                                                    self->display_url));
      return;
    }
  names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < json_array_get_length (json_node_get_array (root)); i++)
    {
      JsonNode *element = json_array_get_element (json_node_get_array (root), i);

      if (JSON_NODE_HOLDS_VALUE (element) && json_node_get_value_type (element) == G_TYPE_STRING)
        g_hash_table_add (names, g_strdup (json_node_get_string (element)));
    }
  g_hash_table_insert (preflight->listings, g_steal_pointer (&folder), names);
  preflight_next (g_steal_pointer (&task));
}

static void
preflight_class_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TakesBackendComfyui *self = g_task_get_source_object (task);
  Preflight *preflight = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (Reply) reply = comfy_request_finish (result, &error);
  g_autofree char *class_type = g_ptr_array_steal_index (preflight->classes, 0);
  g_autoptr (JsonNode) root = NULL;
  JsonObject *object;

  if (reply == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (soup_message_get_status (reply->message) != SOUP_STATUS_OK)
    {
      g_task_return_error (task, status_error (self, reply));
      return;
    }
  object = reply_object (self, reply, &root, &error);
  if (object == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* The server answers {} for a class it does not have. */
  if (!json_object_has_member (object, class_type))
    {
      g_task_return_new_error (
          task, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_NODE,
          _ ("The ComfyUI server at %s has no node “%s”, which %s needs. Update ComfyUI to a "
             "version with native Wan2.2 support."),
          self->display_url, class_type, preflight->tmpl->display_name);
      return;
    }
  g_hash_table_add (self->known_nodes, g_steal_pointer (&class_type));
  preflight_next (g_steal_pointer (&task));
}

static void
preflight_next (GTask *task)
{
  TakesBackendComfyui *self = g_task_get_source_object (task);
  Preflight *preflight = g_task_get_task_data (task);
  g_autofree char *path = NULL;

  if (preflight->classes->len > 0)
    {
      g_autofree char *escaped = g_uri_escape_string (g_ptr_array_index (preflight->classes, 0), NULL, FALSE);

      path = g_strdup_printf ("/object_info/%s", escaped);
      comfy_request_async (self, preflight->token, "GET", path, NULL, g_task_get_cancellable (task),
                           preflight_class_cb, task);
      return;
    }
  if (preflight->folders->len > 0)
    {
      g_autofree char *escaped = g_uri_escape_string (g_ptr_array_index (preflight->folders, 0), NULL, FALSE);

      path = g_strdup_printf ("/models/%s", escaped);
      comfy_request_async (self, preflight->token, "GET", path, NULL, g_task_get_cancellable (task),
                           preflight_folder_cb, task);
      return;
    }
  preflight_models_done (task);
  g_object_unref (task);
}

/* Checks that the server has every node class and model file @tmpl uses.
 * Node classes found once are remembered for the server and, with
 * @use_known, not asked again (a node removed later is still caught by the
 * server's own validation of the prompt). */
static void
preflight_async (TakesBackendComfyui *self,
                 Template *tmpl,
                 const char *token,
                 gboolean use_known,
                 GCancellable *cancellable,
                 GAsyncReadyCallback callback,
                 gpointer user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Preflight *preflight = g_new0 (Preflight, 1);
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;

  preflight->tmpl = tmpl;
  preflight->token = g_strdup (token);
  preflight->classes = g_ptr_array_new_with_free_func (g_free);
  preflight->folders = g_ptr_array_new_with_free_func (g_free);
  preflight->listings
      = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_hash_table_unref);
  json_object_iter_init (&iter, tmpl->graph);
  while (json_object_iter_next (&iter, &name, &node))
    {
      const char *class_type = takes_backend_json_get_string (json_node_get_object (node), "class_type");

      if ((!use_known || !g_hash_table_contains (self->known_nodes, class_type))
          && !g_ptr_array_find_with_equal_func (preflight->classes, class_type, g_str_equal, NULL))
        g_ptr_array_add (preflight->classes, g_strdup (class_type));
    }
  for (guint i = 0; tmpl->model_params[i] != NULL; i++)
    {
      JsonObject *entry = takes_backend_json_get_object (tmpl->model_files, tmpl->model_params[i]);
      const char *folder = takes_backend_json_get_string (entry, "folder");

      if (!g_ptr_array_find_with_equal_func (preflight->folders, folder, g_str_equal, NULL))
        g_ptr_array_add (preflight->folders, g_strdup (folder));
    }
  g_task_set_task_data (task, preflight, preflight_free);
  preflight_next (task);
}

static gboolean
preflight_finish (GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* A run: one job from the checks to its result ----------------------------------- */

typedef struct
{
  TakesBackendComfyui *self;
  TakesBackendJob *job;
  GTask *pending;
  GCancellable *cancellable;
  gulong cancel_handler;
  GCancellable *caller_cancellable;
  gulong caller_handler;
  TakesSecret token;
  Template *tmpl;
  JsonNode *graph;
  char *client_id;
  SoupWebsocketConnection *ws;
  guint poll_source;
  guint idle_source;
  guint failures;
  gint64 started;
  double exec_start_ms;
  double exec_end_ms;
  gboolean busy;
  gboolean cancelling;
  gboolean fetching;
  gboolean saw_end;
  gboolean last_look;
  TakesDownload *download;
} Run;

static void
run_close_ws (Run *run)
{
  if (run->ws == NULL)
    return;
  g_signal_handlers_disconnect_by_data (run->ws, run);
  if (soup_websocket_connection_get_state (run->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (run->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (&run->ws);
}

static void
run_free (Run *run)
{
  if (run->cancel_handler != 0)
    g_cancellable_disconnect (run->cancellable, run->cancel_handler);
  if (run->caller_handler != 0)
    g_cancellable_disconnect (run->caller_cancellable, run->caller_handler);
  g_clear_handle_id (&run->poll_source, g_source_remove);
  g_clear_handle_id (&run->idle_source, g_source_remove);
  run_close_ws (run);
  g_clear_object (&run->caller_cancellable);
  g_clear_object (&run->cancellable);
  g_clear_object (&run->download);
  g_clear_object (&run->pending);
  g_clear_object (&run->job);
  g_clear_pointer (&run->graph, json_node_unref);
  g_clear_object (&run->self);
  takes_secrets_free (run->token);
  g_free (run->client_id);
  g_free (run);
}

static void
run_complete_pending (Run *run)
{
  g_autoptr (GTask) pending = g_steal_pointer (&run->pending);

  if (pending == NULL)
    return;
  if (run->caller_handler != 0)
    g_cancellable_disconnect (run->caller_cancellable, run->caller_handler);
  run->caller_handler = 0;
  g_task_return_pointer (pending, g_object_ref (run->job), g_object_unref);
}

static void
run_finish_error (Run *run, GError *error)
{
  g_autoptr (GTask) pending = g_steal_pointer (&run->pending);

  if (pending != NULL)
    {
      takes_backend_job_fail (run->job, g_error_copy (error));
      g_task_return_error (pending, error);
    }
  else
    takes_backend_job_fail (run->job, error);
  run_free (run);
}

static void run_poll (Run *run);
static void run_fetch_history (Run *run);
static void run_start_cancel (Run *run);

static gboolean
run_check_cancelled (Run *run)
{
  if (!g_cancellable_is_cancelled (run->cancellable))
    return FALSE;
  run_start_cancel (run);
  return TRUE;
}

static gboolean
poll_timeout_cb (gpointer user_data)
{
  Run *run = user_data;

  run->poll_source = 0;
  run_poll (run);
  return G_SOURCE_REMOVE;
}

static void
run_schedule_poll (Run *run, double delay)
{
  double elapsed = (g_get_monotonic_time () - run->started) / (double)G_USEC_PER_SEC;

  if (run->poll_source != 0)
    return;
  if (elapsed > run->self->timeout)
    {
      run_finish_error (
          run, g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                            _ ("The ComfyUI server at %s has not finished the take after %.0f minutes. "
                               "It may still be working; the take can be resumed."),
                            run->self->display_url, run->self->timeout / 60.0));
      return;
    }
  run->poll_source
      = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint)(delay * 1000.0), poll_timeout_cb, run, NULL);
}

static void
run_poll_trouble (Run *run, GError *error)
{
  run->failures++;
  if (run->failures > MAX_POLL_FAILURES)
    {
      run_finish_error (run, error);
      return;
    }
  g_debug ("ComfyUI poll trouble (%u): %s", run->failures, error->message);
  g_error_free (error);
  run_schedule_poll (run, run->self->poll_interval * MIN (run->failures, 4u));
}

static const char *
exception_text (JsonObject *data)
{
  const char *message = takes_backend_json_get_string (data, "exception_message");

  return message != NULL ? message : takes_backend_json_get_string (data, "exception_type");
}

/* An execution_error payload, from the socket or from the history. */
static GError *
execution_error (Run *run, JsonObject *data)
{
  const char *type = takes_backend_json_get_string (data, "exception_type");
  const char *node_type = takes_backend_json_get_string (data, "node_type");
  g_autofree char *message
      = takes_secrets_redact (exception_text (data) != NULL ? exception_text (data) : "");
  g_autofree char *lower = g_ascii_strdown (message, -1);
  g_autofree char *lower_type = g_ascii_strdown (type != NULL ? type : "", -1);

  g_strstrip (message);
  if (strstr (lower_type, "outofmemory") != NULL || strstr (lower, "out of memory") != NULL
      || strstr (lower, "allocation on device") != NULL)
    return g_error_new (
        TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_OUT_OF_MEMORY,
        _ ("The ComfyUI server ran out of GPU memory in %s (“%s”). Use a smaller size, fewer frames "
           "or a smaller model."),
        node_type != NULL ? node_type : _ ("a node"), message);
  return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                      _ ("ComfyUI failed in %s: “%s”. Check the server's console for details."),
                      node_type != NULL ? node_type : _ ("a node"), message);
}

/* Downloading ---------------------------------------------------------------------- */

static void
download_progress_cb (TakesDownload *download, guint64 received, guint64 total, gpointer user_data)
{
  Run *run = user_data;

  if (total > 0)
    takes_backend_job_set_progress (run->job, 0.95 + 0.05 * (double)received / (double)total);
}

static void
download_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr (GError) error = NULL;

  run->busy = FALSE;
  if (!takes_download_run_finish (TAKES_DOWNLOAD (source), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        run_start_cancel (run);
      else
        run_finish_error (run, g_steal_pointer (&error));
      return;
    }
  takes_backend_job_succeed (run->job, takes_download_get_destination (run->download));
  run_free (run);
}

static gboolean
safe_component (const char *text, gboolean allow_slash)
{
  if (text == NULL || strstr (text, "..") != NULL || g_str_has_prefix (text, "/")
      || strchr (text, '\\') != NULL)
    return FALSE;
  return allow_slash || strchr (text, '/') == NULL;
}

static void
run_download (Run *run, const char *filename, const char *subfolder, const char *type)
{
  const char *dot = strrchr (filename, '.');
  const char *extension = ".mp4";
  g_autofree char *name = NULL;
  g_autofree char *path = NULL;
  g_autofree char *uri = NULL;
  g_autofree char *e_filename = g_uri_escape_string (filename, NULL, FALSE);
  g_autofree char *e_subfolder = g_uri_escape_string (subfolder != NULL ? subfolder : "", NULL, FALSE);
  g_autofree char *e_type = g_uri_escape_string (type != NULL ? type : "output", NULL, FALSE);

  /* The local name is ours: the prompt id and a known video extension. */
  if (dot != NULL
      && (g_ascii_strcasecmp (dot, ".webm") == 0 || g_ascii_strcasecmp (dot, ".webp") == 0
          || g_ascii_strcasecmp (dot, ".gif") == 0 || g_ascii_strcasecmp (dot, ".mov") == 0))
    extension = dot;
  name = g_strdup_printf ("%s%s", takes_backend_job_get_remote_task_id (run->job), extension);
  path = g_build_filename (run->self->download_dir, name, NULL);
  uri = g_strdup_printf ("%s/view?filename=%s&subfolder=%s&type=%s", run->self->url, e_filename, e_subfolder,
                         e_type);

  g_object_freeze_notify (G_OBJECT (run->job));
  if (run->exec_start_ms > 0 && run->exec_end_ms >= run->exec_start_ms)
    takes_backend_job_set_seconds_spent (run->job, (run->exec_end_ms - run->exec_start_ms) / 1000.0);
  else
    takes_backend_job_set_seconds_spent (run->job,
                                         (g_get_monotonic_time () - run->started) / (double)G_USEC_PER_SEC);
  /* A ComfyUI server is one's own hardware: no per-take price. */
  takes_backend_job_set_cost (run->job, 0.0, NULL);
  takes_backend_job_set_state (run->job, TAKES_BACKEND_JOB_STATE_DOWNLOADING);
  takes_backend_job_set_has_progress (run->job, TRUE);
  takes_backend_job_set_progress (run->job, 0.95);
  takes_backend_job_set_stage (run->job, _ ("Downloading the video"));
  g_object_thaw_notify (G_OBJECT (run->job));

  run->download = takes_download_new (run->self->session, uri, path);
  takes_download_set_service (run->download, service_name (run->self));
  takes_download_set_max_size (run->download, run->self->max_download_size);
  if (run->token != NULL)
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", run->token);

      takes_download_set_request_header (run->download, "Authorization", auth);
      explicit_bzero (auth, strlen (auth));
    }
  g_signal_connect (run->download, "progress", G_CALLBACK (download_progress_cb), run);
  run->busy = TRUE;
  takes_download_run_async (run->download, run->cancellable, download_cb, run);
}

/* The video among a prompt's outputs: the template's output node first, then
 * any animated output (SaveVideo reports its file under "images"). */
static gboolean
find_video (Run *run, JsonObject *outputs, const char **filename, const char **subfolder, const char **type)
{
  GList *members = outputs != NULL ? json_object_get_members (outputs) : NULL;
  gboolean found = FALSE;

  members = g_list_prepend (members, (gpointer)run->tmpl->output_node);
  for (GList *l = members; l != NULL && !found; l = l->next)
    {
      JsonObject *output = takes_backend_json_get_object (outputs, l->data);
      const char *keys[] = { "images", "videos", "gifs" };

      for (guint k = 0; output != NULL && k < G_N_ELEMENTS (keys) && !found; k++)
        {
          JsonNode *list = json_object_get_member (output, keys[k]);
          JsonObject *file;

          if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list)
              || json_array_get_length (json_node_get_array (list)) == 0)
            continue;
          if (!JSON_NODE_HOLDS_OBJECT (json_array_get_element (json_node_get_array (list), 0)))
            continue;
          file = json_array_get_object_element (json_node_get_array (list), 0);
          *filename = takes_backend_json_get_string (file, "filename");
          *subfolder = takes_backend_json_get_string (file, "subfolder");
          *type = takes_backend_json_get_string (file, "type");
          found = *filename != NULL;
        }
    }
  g_list_free (members);
  return found;
}

/* A history entry: done (success or error) or still going. Returns FALSE when
 * the run has ended or moved on. */
static gboolean
run_handle_history (Run *run, JsonObject *entry)
{
  JsonObject *status = takes_backend_json_get_object (entry, "status");
  const char *status_str = takes_backend_json_get_string (status, "status_str");
  JsonNode *messages = status != NULL ? json_object_get_member (status, "messages") : NULL;
  const char *filename = NULL, *subfolder = NULL, *type = NULL;

  if (messages != NULL && JSON_NODE_HOLDS_ARRAY (messages))
    {
      JsonArray *array = json_node_get_array (messages);

      for (guint i = 0; i < json_array_get_length (array); i++)
        {
          JsonNode *item = json_array_get_element (array, i);
          JsonArray *pair;
          const char *event;
          JsonObject *data;
          double timestamp = 0;

          if (!JSON_NODE_HOLDS_ARRAY (item) || json_array_get_length (json_node_get_array (item)) != 2)
            continue;
          pair = json_node_get_array (item);
          event = json_array_get_string_element (pair, 0);
          data = JSON_NODE_HOLDS_OBJECT (json_array_get_element (pair, 1))
                     ? json_array_get_object_element (pair, 1)
                     : NULL;
          if (event == NULL)
            continue;
          if (takes_backend_json_get_number (data, "timestamp", &timestamp))
            {
              if (g_str_equal (event, "execution_start"))
                run->exec_start_ms = timestamp;
              else if (g_str_equal (event, "execution_success"))
                run->exec_end_ms = timestamp;
            }
          if (g_str_equal (event, "execution_error"))
            {
              run_finish_error (run, execution_error (run, data));
              return FALSE;
            }
          if (g_str_equal (event, "execution_interrupted"))
            {
              run_finish_error (run, g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                                  _ ("The take was interrupted on the ComfyUI server at %s."),
                                                  run->self->display_url));
              return FALSE;
            }
        }
    }
  if (g_strcmp0 (status_str, "error") == 0)
    {
      run_finish_error (
          run, g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                            _ ("ComfyUI reported an error for this take. Check the server's console for "
                               "details.")));
      return FALSE;
    }
  if (status != NULL && !json_object_get_boolean_member_with_default (status, "completed", FALSE)
      && g_strcmp0 (status_str, "success") != 0)
    return TRUE;
  if (!find_video (run, takes_backend_json_get_object (entry, "outputs"), &filename, &subfolder, &type))
    {
      run_finish_error (run,
                        g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                                     _ ("ComfyUI finished the workflow but saved no video. Check that the "
                                        "workflow ends in a SaveVideo node.")));
      return FALSE;
    }
  if (!safe_component (filename, FALSE) || (subfolder != NULL && !safe_component (subfolder, TRUE)))
    {
      run_finish_error (run, g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                                          _ ("ComfyUI reported a file name Takes will not fetch (“%s”)."),
                                          filename));
      return FALSE;
    }
  run_complete_pending (run);
  run_close_ws (run);
  run_download (run, filename, subfolder, type);
  return FALSE;
}

static void
history_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (Reply) reply = comfy_request_finish (result, &error);
  g_autoptr (JsonNode) root = NULL;
  JsonObject *object, *entry;
  guint status;

  run->busy = FALSE;
  if (run_check_cancelled (run))
    return;
  if (reply == NULL)
    {
      run_poll_trouble (run, g_steal_pointer (&error));
      return;
    }
  status = soup_message_get_status (reply->message);
  if (status != SOUP_STATUS_OK)
    {
      if (status >= 500 || status == 429)
        run_poll_trouble (run, status_error (run->self, reply));
      else
        run_finish_error (run, status_error (run->self, reply));
      return;
    }
  object = reply_object (run->self, reply, &root, &error);
  if (object == NULL)
    {
      run_poll_trouble (run, g_steal_pointer (&error));
      return;
    }
  run->failures = 0;
  entry = takes_backend_json_get_object (object, takes_backend_job_get_remote_task_id (run->job));
  if (entry == NULL || run_handle_history (run, entry))
    {
      /* Still queued or running; or finished, with the history not yet
       * written (ComfyUI reports success before it stores the entry). */
      run->fetching = FALSE;
      if (run->ws == NULL || run->saw_end)
        run_schedule_poll (run, run->self->poll_interval);
    }
}

static void
run_fetch_history (Run *run)
{
  g_autofree char *escaped
      = g_uri_escape_string (takes_backend_job_get_remote_task_id (run->job), NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/history/%s", escaped);

  if (run->busy)
    return;
  run->busy = TRUE;
  run->fetching = TRUE;
  comfy_request_async (run->self, run->token, "GET", path, NULL, run->cancellable, history_cb, run);
}

static void
run_poll (Run *run)
{
  if (run_check_cancelled (run))
    return;
  run_fetch_history (run);
}

/* The WebSocket ----------------------------------------------------------------------- */

static void
run_set_sampling_progress (Run *run, const char *node, double value, double max)
{
  guint n = g_strv_length (run->tmpl->progress_nodes);
  guint index = 0;

  if (max <= 0 || n == 0)
    return;
  for (guint i = 0; i < n; i++)
    if (g_strcmp0 (run->tmpl->progress_nodes[i], node) == 0)
      index = i;
  g_object_freeze_notify (G_OBJECT (run->job));
  takes_backend_job_set_has_progress (run->job, TRUE);
  takes_backend_job_set_progress (run->job, SAMPLING_SHARE * (index + CLAMP (value / max, 0.0, 1.0)) / n);
  g_object_thaw_notify (G_OBJECT (run->job));
}

static void
run_handle_event (Run *run, const char *type, JsonObject *data)
{
  const char *prompt_id = takes_backend_json_get_string (data, "prompt_id");
  const char *ours = takes_backend_job_get_remote_task_id (run->job);
  double number = 0, max = 0;

  if (ours == NULL || g_strcmp0 (prompt_id, ours) != 0)
    return;
  if (g_str_equal (type, "execution_start"))
    {
      if (takes_backend_json_get_number (data, "timestamp", &number))
        run->exec_start_ms = number;
      g_object_freeze_notify (G_OBJECT (run->job));
      takes_backend_job_set_state (run->job, TAKES_BACKEND_JOB_STATE_RUNNING);
      takes_backend_job_set_stage (run->job, _ ("Loading models"));
      g_object_thaw_notify (G_OBJECT (run->job));
    }
  else if (g_str_equal (type, "executing"))
    {
      JsonNode *node = json_object_get_member (data, "node");

      if (node != NULL && JSON_NODE_HOLDS_NULL (node))
        {
          run->saw_end = TRUE;
          run_fetch_history (run);
        }
      else if (node != NULL && JSON_NODE_HOLDS_VALUE (node))
        {
          JsonObject *graph_node = takes_backend_json_get_object (json_node_get_object (run->graph),
                                                                  json_node_get_string (node));
          const char *class_type = takes_backend_json_get_string (graph_node, "class_type");

          takes_backend_job_set_state (run->job, TAKES_BACKEND_JOB_STATE_RUNNING);
          if (class_type != NULL && (g_str_has_prefix (class_type, "KSampler")))
            takes_backend_job_set_stage (run->job, _ ("Sampling"));
          else if (g_strcmp0 (class_type, "VAEDecode") == 0)
            {
              takes_backend_job_set_stage (run->job, _ ("Decoding frames"));
              takes_backend_job_set_progress (run->job, SAMPLING_SHARE);
            }
          else if (class_type != NULL
                   && (g_str_has_prefix (class_type, "Save") || g_str_has_prefix (class_type, "Create")))
            takes_backend_job_set_stage (run->job, _ ("Saving the video"));
        }
    }
  else if (g_str_equal (type, "progress"))
    {
      if (takes_backend_json_get_number (data, "value", &number)
          && takes_backend_json_get_number (data, "max", &max))
        run_set_sampling_progress (run, takes_backend_json_get_string (data, "node"), number, max);
    }
  else if (g_str_equal (type, "execution_success"))
    {
      if (takes_backend_json_get_number (data, "timestamp", &number))
        run->exec_end_ms = number;
      run->saw_end = TRUE;
      run_fetch_history (run);
    }
  else if (g_str_equal (type, "execution_error"))
    run_finish_error (run, execution_error (run, data));
  else if (g_str_equal (type, "execution_interrupted"))
    run_finish_error (run, g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                        _ ("The take was interrupted on the ComfyUI server at %s."),
                                        run->self->display_url));
}

static void
run_handle_preview (Run *run, GBytes *message)
{
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (message, &size);
  g_autoptr (GBytes) image = NULL;
  g_autoptr (TakesBackendPreview) preview = NULL;
  guint32 event, format;

  if (size <= 8)
    return;
  event = GUINT32_FROM_BE (*(const guint32 *)(gconstpointer)data);
  format = GUINT32_FROM_BE (*(const guint32 *)(gconstpointer)(data + 4));
  /* Other binary events (text, previews with metadata) are not used here. */
  if (event != PREVIEW_IMAGE_EVENT || (format != 1 && format != 2))
    return;
  image = g_bytes_new_from_bytes (message, 8, size - 8);
  preview = takes_backend_preview_new (format == 1 ? TAKES_BACKEND_PREVIEW_JPEG : TAKES_BACKEND_PREVIEW_PNG,
                                       image, 0, 0);
  takes_backend_job_emit_preview (run->job, preview);
}

static void
ws_message_cb (SoupWebsocketConnection *ws, gint type, GBytes *message, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *object;
  const char *event;

  if (type == SOUP_WEBSOCKET_DATA_BINARY)
    {
      run_handle_preview (run, message);
      return;
    }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, g_bytes_get_data (message, NULL),
                                   (gssize)g_bytes_get_size (message), NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      g_debug ("ComfyUI sent a WebSocket message that is not JSON; ignored");
      return;
    }
  object = json_node_get_object (json_parser_get_root (parser));
  event = takes_backend_json_get_string (object, "type");
  if (event != NULL && takes_backend_json_get_object (object, "data") != NULL)
    run_handle_event (run, event, takes_backend_json_get_object (object, "data"));
}

/* The socket went away before the end: follow the job through /history. */
static void
ws_closed_cb (SoupWebsocketConnection *ws, gpointer user_data)
{
  Run *run = user_data;

  g_debug ("ComfyUI WebSocket closed; polling /history instead");
  run_close_ws (run);
  if (!run->fetching && !run->busy)
    run_schedule_poll (run, run->self->poll_interval);
}

static void
ws_error_cb (SoupWebsocketConnection *ws, GError *error, gpointer user_data)
{
  g_autofree char *detail = takes_secrets_redact (error->message);

  g_debug ("ComfyUI WebSocket error: %s", detail);
}

/* Queueing ------------------------------------------------------------------------------ */

static GError *
prompt_rejected_error (Run *run, JsonObject *object)
{
  JsonNode *error_node = json_object_get_member (object, "error");
  JsonObject *error_object
      = error_node != NULL && JSON_NODE_HOLDS_OBJECT (error_node) ? json_node_get_object (error_node) : NULL;
  const char *message = error_object != NULL ? takes_backend_json_get_string (error_object, "message")
                                             : takes_backend_json_get_string (object, "error");
  JsonObject *node_errors = takes_backend_json_get_object (object, "node_errors");
  g_autofree char *detail = NULL;
  JsonObjectIter iter;
  const char *node_id;
  JsonNode *node;

  if (node_errors != NULL)
    {
      json_object_iter_init (&iter, node_errors);
      while (json_object_iter_next (&iter, &node_id, &node))
        {
          JsonObject *entry = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
          JsonNode *errors = entry != NULL ? json_object_get_member (entry, "errors") : NULL;
          const char *class_type = takes_backend_json_get_string (entry, "class_type");
          JsonObject *first;
          const char *type, *first_message, *details;
          g_autofree char *text = NULL;

          if (errors == NULL || !JSON_NODE_HOLDS_ARRAY (errors)
              || json_array_get_length (json_node_get_array (errors)) == 0
              || !JSON_NODE_HOLDS_OBJECT (json_array_get_element (json_node_get_array (errors), 0)))
            continue;
          first = json_array_get_object_element (json_node_get_array (errors), 0);
          type = takes_backend_json_get_string (first, "type");
          first_message = takes_backend_json_get_string (first, "message");
          details = takes_backend_json_get_string (first, "details");
          text = takes_secrets_redact (details != NULL && *details != '\0' ? details : first_message);
          if (g_strcmp0 (type, "value_not_in_list") == 0 && class_type != NULL
              && (strstr (class_type, "Loader") != NULL))
            return g_error_new (
                TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL,
                _ ("The ComfyUI server at %s does not have a model file the workflow needs (%s: %s). "
                   "Download it, or choose another file in Preferences."),
                run->self->display_url, class_type, text);
          return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                              _ ("ComfyUI rejected node %s (%s): %s. Change the take's settings."), node_id,
                              class_type != NULL ? class_type : "?", text);
        }
    }
  detail = takes_secrets_redact (message != NULL ? message : "");
  if (strstr (detail, "does not exist") != NULL || strstr (detail, "not found") != NULL)
    return g_error_new (
        TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_NODE,
        _ ("The ComfyUI server at %s is missing a node the workflow needs (“%s”). Update ComfyUI or "
           "install the node."),
        run->self->display_url, detail);
  return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                      _ ("ComfyUI rejected the workflow (“%s”). Change the take's settings."), detail);
}

static void
prompt_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (Reply) reply = comfy_request_finish (result, &error);
  g_autoptr (JsonNode) root = NULL;
  JsonObject *object;
  const char *prompt_id;
  guint status;

  run->busy = FALSE;
  if (reply == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_clear_error (&error);
          error = g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                       _ ("The take was cancelled before ComfyUI received it."));
        }
      run_finish_error (run, g_steal_pointer (&error));
      return;
    }
  status = soup_message_get_status (reply->message);
  if (status == SOUP_STATUS_BAD_REQUEST)
    {
      object = reply_object (run->self, reply, &root, &error);
      run_finish_error (run, object != NULL ? prompt_rejected_error (run, object) : g_steal_pointer (&error));
      return;
    }
  if (status != SOUP_STATUS_OK)
    {
      run_finish_error (run, status_error (run->self, reply));
      return;
    }
  object = reply_object (run->self, reply, &root, &error);
  prompt_id = object != NULL ? takes_backend_json_get_string (object, "prompt_id") : NULL;
  if (prompt_id == NULL || !safe_component (prompt_id, FALSE) || strlen (prompt_id) > 128)
    {
      run_finish_error (run, error != NULL
                                 ? g_steal_pointer (&error)
                                 : g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                                                _ ("The ComfyUI server at %s queued the take but sent no "
                                                   "usable prompt id. Try again later."),
                                                run->self->display_url));
      return;
    }
  g_debug ("ComfyUI prompt %s queued", prompt_id);
  g_object_freeze_notify (G_OBJECT (run->job));
  takes_backend_job_set_remote_task_id (run->job, prompt_id);
  takes_backend_job_set_state (run->job, TAKES_BACKEND_JOB_STATE_SUBMITTED);
  takes_backend_job_set_stage (run->job, _ ("Waiting in ComfyUI's queue"));
  takes_backend_job_set_has_progress (run->job, TRUE);
  g_object_thaw_notify (G_OBJECT (run->job));
  if (g_cancellable_is_cancelled (run->cancellable))
    {
      run_start_cancel (run);
      return;
    }
  run_complete_pending (run);
  /* Without a socket the history is the only way to know the job's fate. */
  if (run->ws == NULL)
    run_schedule_poll (run, run->self->poll_interval);
}

static void
run_queue_prompt (Run *run)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) body = NULL;
  g_autofree char *prompt_id = g_uuid_string_random ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "prompt");
  json_builder_add_value (builder, json_node_copy (run->graph));
  json_builder_set_member_name (builder, "client_id");
  json_builder_add_string_value (builder, run->client_id);
  json_builder_set_member_name (builder, "prompt_id");
  json_builder_add_string_value (builder, prompt_id);
  json_builder_end_object (builder);
  body = json_builder_get_root (builder);
  takes_backend_job_set_stage (run->job, _ ("Queueing on ComfyUI"));
  run->busy = TRUE;
  comfy_request_async (run->self, run->token, "POST", "/prompt", body, run->cancellable, prompt_cb, run);
}

static void
ws_connect_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr (GError) error = NULL;

  run->busy = FALSE;
  run->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &error);
  if (run_check_cancelled (run))
    return;
  if (run->ws == NULL)
    {
      g_autofree char *detail = takes_secrets_redact (error->message);

      /* Progress and previews are lost, the take is not: /history is polled. */
      g_debug ("ComfyUI WebSocket unavailable (%s); polling /history", detail);
    }
  else
    {
      soup_websocket_connection_set_max_incoming_payload_size (run->ws, MAX_WS_PAYLOAD);
      soup_websocket_connection_set_keepalive_interval (run->ws, 20);
      g_signal_connect (run->ws, "message", G_CALLBACK (ws_message_cb), run);
      g_signal_connect (run->ws, "closed", G_CALLBACK (ws_closed_cb), run);
      g_signal_connect (run->ws, "error", G_CALLBACK (ws_error_cb), run);
    }
  run_queue_prompt (run);
}

static void
run_connect_ws (Run *run)
{
  g_autofree char *escaped = g_uri_escape_string (run->client_id, NULL, FALSE);
  g_autofree char *uri = g_strdup_printf ("%s/ws?clientId=%s", run->self->url, escaped);
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupMessage) message
      = takes_backend_http_message_new ("GET", uri, service_name (run->self), &error);

  if (message == NULL)
    {
      run_finish_error (run, g_steal_pointer (&error));
      return;
    }
  if (run->token != NULL)
    {
      g_autofree char *auth = g_strdup_printf ("Bearer %s", run->token);

      soup_message_headers_replace (soup_message_get_request_headers (message), "Authorization", auth);
      explicit_bzero (auth, strlen (auth));
    }
  run->busy = TRUE;
  /* No Origin: ComfyUI refuses a loopback request whose Origin differs. */
  soup_session_websocket_connect_async (run->self->session, message, NULL, NULL, G_PRIORITY_DEFAULT,
                                        run->cancellable, ws_connect_cb, run);
}

static void
run_preflight_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr (GError) error = NULL;

  run->busy = FALSE;
  if (!preflight_finish (result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_clear_error (&error);
          error = g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                       _ ("The take was cancelled before ComfyUI received it."));
        }
      run_finish_error (run, g_steal_pointer (&error));
      return;
    }
  run_connect_ws (run);
}

/* Cancelling ------------------------------------------------------------------------------ */

static void
remote_cancel_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (Reply) reply = comfy_request_finish (result, &error);

  if (reply == NULL || !SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (reply->message)))
    run_finish_error (
        run, g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                          _ ("The take was cancelled here, but the ComfyUI server at %s could not be "
                             "told to stop it."),
                          run->self->display_url));
  else
    run_finish_error (run, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                                _ ("The take was cancelled.")));
}

static gboolean
queue_contains (JsonObject *queue, const char *member, const char *prompt_id)
{
  JsonNode *list = json_object_get_member (queue, member);

  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list))
    return FALSE;
  for (guint i = 0; i < json_array_get_length (json_node_get_array (list)); i++)
    {
      JsonNode *item = json_array_get_element (json_node_get_array (list), i);

      /* Items are [number, prompt_id, prompt, extra_data, outputs]. */
      if (JSON_NODE_HOLDS_ARRAY (item) && json_array_get_length (json_node_get_array (item)) >= 2
          && g_strcmp0 (json_array_get_string_element (json_node_get_array (item), 1), prompt_id) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Deletes a waiting prompt, or interrupts it only if it is the one running:
 * a shared server may be running someone else's job. */
static void
cancel_queue_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (Reply) reply = comfy_request_finish (result, &error);
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) body = NULL;
  const char *prompt_id = takes_backend_job_get_remote_task_id (run->job);
  JsonObject *queue = reply != NULL && soup_message_get_status (reply->message) == SOUP_STATUS_OK
                          ? reply_object (run->self, reply, &root, NULL)
                          : NULL;

  if (queue == NULL)
    {
      run_finish_error (
          run, g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                            _ ("The take was cancelled here, but the ComfyUI server at %s could not be "
                               "told to stop it."),
                            run->self->display_url));
      return;
    }
  json_builder_begin_object (builder);
  if (queue_contains (queue, "queue_pending", prompt_id))
    {
      json_builder_set_member_name (builder, "delete");
      json_builder_begin_array (builder);
      json_builder_add_string_value (builder, prompt_id);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      body = json_builder_get_root (builder);
      comfy_request_async (run->self, run->token, "POST", "/queue", body, NULL, remote_cancel_done_cb, run);
      return;
    }
  if (queue_contains (queue, "queue_running", prompt_id))
    {
      json_builder_set_member_name (builder, "prompt_id");
      json_builder_add_string_value (builder, prompt_id);
      json_builder_end_object (builder);
      body = json_builder_get_root (builder);
      comfy_request_async (run->self, run->token, "POST", "/interrupt", body, NULL, remote_cancel_done_cb,
                           run);
      return;
    }
  /* Neither waiting nor running: it has finished or never started. */
  run_finish_error (run, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                              _ ("The take was cancelled.")));
}

static void
run_start_cancel (Run *run)
{
  if (run->cancelling)
    return;
  run->cancelling = TRUE;
  g_clear_handle_id (&run->poll_source, g_source_remove);
  run_close_ws (run);
  if (takes_backend_job_get_remote_task_id (run->job) == NULL
      || takes_backend_job_get_state (run->job) == TAKES_BACKEND_JOB_STATE_DOWNLOADING)
    {
      run_finish_error (run, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                                  _ ("The take was cancelled.")));
      return;
    }
  comfy_request_async (run->self, run->token, "GET", "/queue", NULL, NULL, cancel_queue_cb, run);
}

static gboolean
cancel_idle_cb (gpointer user_data)
{
  Run *run = user_data;

  run->idle_source = 0;
  if (!run->busy)
    run_start_cancel (run);
  return G_SOURCE_REMOVE;
}

static void
job_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  Run *run = user_data;

  if (run->idle_source == 0)
    run->idle_source = g_idle_add (cancel_idle_cb, run);
}

static void
caller_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  Run *run = user_data;

  takes_backend_job_cancel (run->job);
}

/* Tokens and runs ---------------------------------------------------------------------------- */

typedef void (*TokenReadyFunc) (Run *run);

typedef struct
{
  Run *run;
  TokenReadyFunc ready;
} TokenLookup;

static void
token_lookup_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TokenLookup *lookup = user_data;
  Run *run = lookup->run;
  TokenReadyFunc ready = lookup->ready;
  g_autoptr (GError) error = NULL;

  g_free (lookup);
  run->busy = FALSE;
  run->token = takes_secrets_lookup_finish (result, &error);
  /* A token is optional for ComfyUI: without a keyring, go on without one. */
  if (error != NULL)
    g_debug ("No ComfyUI token from the keyring: %s", error->message);
  if (run_check_cancelled (run))
    return;
  ready (run);
}

static void
run_with_token (Run *run, TokenReadyFunc ready)
{
  const char *token
      = run->self->token != NULL ? run->self->token : takes_secrets_env_override (run->self->id);
  TokenLookup *lookup;

  if (token != NULL)
    {
      run->token = g_strdup (token);
      ready (run);
      return;
    }
  lookup = g_new0 (TokenLookup, 1);
  lookup->run = run;
  lookup->ready = ready;
  run->busy = TRUE;
  takes_secrets_lookup_async (run->self->id, run->self->url, run->cancellable, token_lookup_cb, lookup);
}

static Run *
run_new (TakesBackendComfyui *self,
         TakesRecipe *recipe,
         Template *tmpl,
         GTask *pending,
         GCancellable *caller_cancellable)
{
  Run *run = g_new0 (Run, 1);

  run->self = g_object_ref (self);
  run->tmpl = tmpl;
  run->job = takes_backend_job_new (self->id, recipe);
  run->pending = g_object_ref (pending);
  run->cancellable = g_object_ref (takes_backend_job_get_cancellable (run->job));
  run->started = g_get_monotonic_time ();
  run->client_id = g_uuid_string_random ();
  run->cancel_handler = g_cancellable_connect (run->cancellable, G_CALLBACK (job_cancelled_cb), run, NULL);
  if (caller_cancellable != NULL)
    {
      run->caller_cancellable = g_object_ref (caller_cancellable);
      run->caller_handler
          = g_cancellable_connect (caller_cancellable, G_CALLBACK (caller_cancelled_cb), run, NULL);
    }
  return run;
}

static void
submit_with_token (Run *run)
{
  takes_backend_job_set_stage (run->job, _ ("Checking the ComfyUI server"));
  run->busy = TRUE;
  preflight_async (run->self, run->tmpl, run->token, TRUE, run->cancellable, run_preflight_cb, run);
}

static void
takes_backend_comfyui_submit_async (TakesBackend *backend,
                                    TakesRecipe *recipe,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  TakesBackendComfyui *self = TAKES_BACKEND_COMFYUI (backend);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) graph = NULL;
  Run *run;

  g_task_set_source_tag (task, takes_backend_comfyui_submit_async);
  graph = takes_backend_comfyui_build_graph (self, recipe, &error);
  if (graph == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  run = run_new (self, recipe, lookup_template (self, takes_recipe_get_model (recipe)), task, cancellable);
  run->graph = g_steal_pointer (&graph);
  run_with_token (run, submit_with_token);
}

static TakesBackendJob *
takes_backend_comfyui_submit_finish (TakesBackend *backend, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Resuming: the history tells whether the prompt ended; the queue whether it
 * still waits or runs. Events went to the old client id, so this job polls. */
static void resume_history_cb (GObject *source, GAsyncResult *result, gpointer user_data);

static void
resume_queue_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (Reply) reply = comfy_request_finish (result, &error);
  g_autoptr (JsonNode) root = NULL;
  JsonObject *queue;
  const char *prompt_id = takes_backend_job_get_remote_task_id (run->job);

  run->busy = FALSE;
  if (reply == NULL)
    {
      run_finish_error (run, g_steal_pointer (&error));
      return;
    }
  if (soup_message_get_status (reply->message) != SOUP_STATUS_OK)
    {
      run_finish_error (run, status_error (run->self, reply));
      return;
    }
  queue = reply_object (run->self, reply, &root, &error);
  if (queue == NULL)
    {
      run_finish_error (run, g_steal_pointer (&error));
      return;
    }
  if (queue_contains (queue, "queue_running", prompt_id))
    {
      takes_backend_job_set_state (run->job, TAKES_BACKEND_JOB_STATE_RUNNING);
      takes_backend_job_set_stage (run->job, _ ("Running on ComfyUI"));
    }
  else if (queue_contains (queue, "queue_pending", prompt_id))
    {
      takes_backend_job_set_state (run->job, TAKES_BACKEND_JOB_STATE_SUBMITTED);
      takes_backend_job_set_stage (run->job, _ ("Waiting in ComfyUI's queue"));
    }
  else
    {
      /* Neither waiting nor running: one more look at the history, as it
       * may have finished between the two questions. */
      g_autofree char *escaped = g_uri_escape_string (prompt_id, NULL, FALSE);
      g_autofree char *path = g_strdup_printf ("/history/%s", escaped);

      run->busy = TRUE;
      run->last_look = TRUE;
      comfy_request_async (run->self, run->token, "GET", path, NULL, run->cancellable, resume_history_cb,
                           run);
      return;
    }
  run_complete_pending (run);
  run_schedule_poll (run, run->self->poll_interval);
}

static void
resume_history_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (Reply) reply = comfy_request_finish (result, &error);
  g_autoptr (JsonNode) root = NULL;
  JsonObject *object, *entry;

  run->busy = FALSE;
  if (reply == NULL)
    {
      run_finish_error (run, g_steal_pointer (&error));
      return;
    }
  if (soup_message_get_status (reply->message) != SOUP_STATUS_OK)
    {
      run_finish_error (run, status_error (run->self, reply));
      return;
    }
  object = reply_object (run->self, reply, &root, &error);
  if (object == NULL)
    {
      run_finish_error (run, g_steal_pointer (&error));
      return;
    }
  entry = takes_backend_json_get_object (object, takes_backend_job_get_remote_task_id (run->job));
  if (entry != NULL)
    {
      if (run_handle_history (run, entry))
        {
          run_complete_pending (run);
          run_schedule_poll (run, run->self->poll_interval);
        }
      return;
    }
  if (run->last_look)
    {
      run_finish_error (
          run, g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NOT_FOUND,
                            _ ("The ComfyUI server at %s no longer knows this take (it may have been "
                               "restarted or its history cleared). Make the take again."),
                            run->self->display_url));
      return;
    }
  run->busy = TRUE;
  comfy_request_async (run->self, run->token, "GET", "/queue", NULL, run->cancellable, resume_queue_cb, run);
}

static void
resume_with_token (Run *run)
{
  g_autofree char *escaped
      = g_uri_escape_string (takes_backend_job_get_remote_task_id (run->job), NULL, FALSE);
  g_autofree char *path = g_strdup_printf ("/history/%s", escaped);

  run->busy = TRUE;
  comfy_request_async (run->self, run->token, "GET", path, NULL, run->cancellable, resume_history_cb, run);
}

static void
takes_backend_comfyui_resume_async (TakesBackend *backend,
                                    TakesRecipe *recipe,
                                    const char *remote_task_id,
                                    GCancellable *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  TakesBackendComfyui *self = TAKES_BACKEND_COMFYUI (backend);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  Template *tmpl = lookup_template (self, takes_recipe_get_model (recipe));
  Run *run;

  g_task_set_source_tag (task, takes_backend_comfyui_resume_async);
  if (!safe_component (remote_task_id, FALSE) || strlen (remote_task_id) > 128 || *remote_task_id == '\0')
    {
      g_task_return_new_error (
          task, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NOT_FOUND,
          _ ("“%s” is not a ComfyUI prompt id, so the take cannot be resumed. Make it again."),
          remote_task_id);
      return;
    }
  if (tmpl == NULL)
    tmpl = g_ptr_array_index (self->templates, 0);
  run = run_new (self, recipe, tmpl, task, cancellable);
  run->graph = takes_backend_comfyui_build_graph (self, recipe, NULL);
  if (run->graph == NULL)
    run->graph = json_node_copy (json_object_get_member (json_node_get_object (tmpl->root), "graph"));
  takes_backend_job_set_remote_task_id (run->job, remote_task_id);
  run_with_token (run, resume_with_token);
}

static TakesBackendJob *
takes_backend_comfyui_resume_finish (TakesBackend *backend, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Availability ---------------------------------------------------------------------------------- */

typedef struct
{
  TakesSecret token;
  guint index;
  GError *first_error;
} Probe;

static void
probe_free (gpointer data)
{
  Probe *probe = data;

  takes_secrets_free (probe->token);
  g_clear_error (&probe->first_error);
  g_free (probe);
}

static void probe_next_template (GTask *task);

static void
probe_preflight_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Probe *probe = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  if (preflight_finish (result, &error))
    {
      g_task_return_boolean (task, TRUE);
      return;
    }
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      || !(g_error_matches (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL)
           || g_error_matches (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_NODE)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (probe->first_error == NULL)
    probe->first_error = g_steal_pointer (&error);
  probe->index++;
  probe_next_template (g_steal_pointer (&task));
}

/* Available when at least one workflow has all its nodes and model files. */
static void
probe_next_template (GTask *task)
{
  TakesBackendComfyui *self = g_task_get_source_object (task);
  Probe *probe = g_task_get_task_data (task);

  if (probe->index >= self->templates->len)
    {
      g_task_return_error (task, g_steal_pointer (&probe->first_error));
      g_object_unref (task);
      return;
    }
  preflight_async (self, g_ptr_array_index (self->templates, probe->index), probe->token, FALSE,
                   g_task_get_cancellable (task), probe_preflight_cb, task);
}

static void
probe_stats_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  TakesBackendComfyui *self = g_task_get_source_object (task);
  g_autoptr (GError) error = NULL;
  g_autoptr (Reply) reply = comfy_request_finish (result, &error);

  if (reply == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (soup_message_get_status (reply->message) != SOUP_STATUS_OK)
    {
      g_task_return_error (task, status_error (self, reply));
      return;
    }
  probe_next_template (g_steal_pointer (&task));
}

static void
probe_token_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  TakesBackendComfyui *self = g_task_get_source_object (task);
  Probe *probe = g_task_get_task_data (task);

  probe->token = takes_secrets_lookup_finish (result, NULL);
  comfy_request_async (self, probe->token, "GET", "/system_stats", NULL, g_task_get_cancellable (task),
                       probe_stats_cb, task);
}

static void
takes_backend_comfyui_check_available_async (TakesBackend *backend,
                                             GCancellable *cancellable,
                                             GAsyncReadyCallback callback,
                                             gpointer user_data)
{
  TakesBackendComfyui *self = TAKES_BACKEND_COMFYUI (backend);
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Probe *probe = g_new0 (Probe, 1);
  const char *token = self->token != NULL ? self->token : takes_secrets_env_override (self->id);

  g_task_set_source_tag (task, takes_backend_comfyui_check_available_async);
  g_task_set_task_data (task, probe, probe_free);
  if (token != NULL)
    {
      probe->token = g_strdup (token);
      comfy_request_async (self, probe->token, "GET", "/system_stats", NULL, cancellable, probe_stats_cb,
                           task);
      return;
    }
  takes_secrets_lookup_async (self->id, self->url, cancellable, probe_token_cb, task);
}

static gboolean
takes_backend_comfyui_check_available_finish (TakesBackend *backend, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* The interface ------------------------------------------------------------------------------------ */

static const char *
takes_backend_comfyui_get_id (TakesBackend *backend)
{
  return TAKES_BACKEND_COMFYUI (backend)->id;
}

static const char *
takes_backend_comfyui_get_display_name (TakesBackend *backend)
{
  TakesBackendComfyui *self = TAKES_BACKEND_COMFYUI (backend);

  return self->display_name != NULL ? self->display_name : _ ("ComfyUI server");
}

static TakesBackendCapabilities *
takes_backend_comfyui_get_capabilities (TakesBackend *backend)
{
  TakesBackendComfyui *self = TAKES_BACKEND_COMFYUI (backend);
  TakesBackendCapabilities *caps = takes_backend_capabilities_new ();

  /* ComfyUI runs one prompt at a time; more would only wait in its queue. */
  caps->max_concurrent_jobs = 1;
  caps->negative_prompt = TRUE;
  caps->seed = TRUE;
  for (guint i = 0; i < self->templates->len; i++)
    {
      Template *tmpl = g_ptr_array_index (self->templates, i);
      TakesBackendModelCaps *entry
          = takes_backend_capabilities_add_model (caps, tmpl->id, tmpl->display_name);
      double fps = 0;

      entry->size_step = constraint (tmpl, "size_step");
      entry->min_side = constraint (tmpl, "min_side");
      entry->max_side = constraint (tmpl, "max_side");
      entry->frame_step = constraint (tmpl, "frame_step");
      entry->min_frames = constraint (tmpl, "min_frames");
      entry->max_frames = constraint (tmpl, "max_frames");
      if (takes_backend_json_get_number (tmpl->defaults, "fps", &fps))
        entry->fps = fps;
      entry->price_per_second = 0.0;
    }
  return caps;
}

static gboolean
takes_backend_comfyui_validate (TakesBackend *backend, TakesRecipe *recipe, GError **error)
{
  return validate_recipe (TAKES_BACKEND_COMFYUI (backend), recipe, NULL, error);
}

static void
takes_backend_comfyui_backend_init (TakesBackendInterface *iface)
{
  iface->get_id = takes_backend_comfyui_get_id;
  iface->get_display_name = takes_backend_comfyui_get_display_name;
  iface->get_capabilities = takes_backend_comfyui_get_capabilities;
  iface->validate = takes_backend_comfyui_validate;
  iface->check_available_async = takes_backend_comfyui_check_available_async;
  iface->check_available_finish = takes_backend_comfyui_check_available_finish;
  iface->submit_async = takes_backend_comfyui_submit_async;
  iface->submit_finish = takes_backend_comfyui_submit_finish;
  iface->resume_async = takes_backend_comfyui_resume_async;
  iface->resume_finish = takes_backend_comfyui_resume_finish;
}
