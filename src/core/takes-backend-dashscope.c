/* takes-backend-dashscope.c: Wan text-to-video on DashScope.
 *
 * One run per job: create the asynchronous task, poll it with a growing
 * interval (the service has no progress figure and a 20 QPS query limit per
 * account), then download the result while its signed URL is valid. Transient
 * trouble while polling (429, 5xx, a dropped connection, a garbled reply) is
 * absorbed by backing off; the job fails only when it keeps happening, and it
 * keeps its remote task id so the queue can resume it within 24 hours.
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "takes-backend-dashscope.h"
#include "takes-backend-http.h"
#include "takes-download.h"
#include "takes-paths.h"
#include "takes-secrets.h"

#define SERVICE_NAME "DashScope"
#define DEFAULT_FIRST_POLL 5.0
#define DEFAULT_MAX_POLL 15.0
#define DEFAULT_POLL_TIMEOUT (30.0 * 60.0)
#define MAX_POLL_FAILURES 6
#define MAX_TASK_ID_LENGTH 128
#define MAX_MODELS_FILE_BYTES (1024 * 1024)
#define DEFAULT_MAX_DOWNLOAD (G_GUINT64_CONSTANT (2) * 1024 * 1024 * 1024)

typedef struct
{
  char *id;
  char **aliases;
  char *display_name;
  char **tiers;
  char *default_size;
  GArray *durations; /* guint */
  double fps;
  guint max_prompt_chars;
  guint max_negative_prompt_chars;
  JsonObject *prices; /* region → tier → price */
} DashscopeModel;

struct _TakesBackendDashscope
{
  GObject parent_instance;

  char *id;
  char *display_name;
  char *models_file;
  char *region;
  char *base_url;
  char *api_key;
  /* A takes-server on loopback needs no key: go on without one; a server
   * that wants one says so with a 401. */
  gboolean key_optional;
  char *download_dir;
  double first_poll;
  double max_poll;
  double poll_timeout;
  guint64 max_download_size;

  JsonNode *data;         /* the parsed models file */
  GPtrArray *models;      /* DashscopeModel */
  GHashTable *size_tiers; /* "W*H" → tier name */
  GStrv region_ids;
  guint max_concurrent;
  SoupSession *session;
};

static void takes_backend_dashscope_backend_init (TakesBackendInterface *iface);
static void takes_backend_dashscope_initable_init (GInitableIface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TakesBackendDashscope,
                               takes_backend_dashscope,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TAKES_TYPE_BACKEND,
                                                      takes_backend_dashscope_backend_init)
                                   G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE,
                                                          takes_backend_dashscope_initable_init))

enum
{
  PROP_0,
  PROP_ID,
  PROP_DISPLAY_NAME,
  PROP_MODELS_FILE,
  PROP_REGION,
  PROP_BASE_URL,
  PROP_API_KEY,
  PROP_DOWNLOAD_DIR,
  PROP_MAX_DOWNLOAD_SIZE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
dashscope_model_free (gpointer data)
{
  DashscopeModel *model = data;

  g_free (model->id);
  g_strfreev (model->aliases);
  g_free (model->display_name);
  g_strfreev (model->tiers);
  g_free (model->default_size);
  g_array_unref (model->durations);
  g_clear_pointer (&model->prices, json_object_unref);
  g_free (model);
}

/* The models file ----------------------------------------------------------- */

static GStrv
string_array (JsonObject *object, const char *member)
{
  JsonNode *node = json_object_get_member (object, member);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return g_strv_builder_end (builder);
  array = json_node_get_array (node);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonNode *element = json_array_get_element (array, i);

      if (JSON_NODE_HOLDS_VALUE (element) && json_node_get_value_type (element) == G_TYPE_STRING)
        g_strv_builder_add (builder, json_node_get_string (element));
    }
  return g_strv_builder_end (builder);
}

static gboolean
models_file_error (GError **error, const char *path, const char *problem)
{
  g_autofree char *display = g_filename_display_name (path);

  g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
               _ ("The DashScope model list %s is damaged (%s). Reinstall Takes."), display, problem);
  return FALSE;
}

static gboolean
load_models (TakesBackendDashscope *self, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GStrvBuilder) regions = g_strv_builder_new ();
  JsonObject *root, *tiers, *models, *region_table;
  JsonObjectIter iter;
  const char *name;
  JsonNode *node;
  double number = 0;

  if (!g_file_get_contents (self->models_file, &contents, &length, &local_error))
    return models_file_error (error, self->models_file, local_error->message);
  if (length > MAX_MODELS_FILE_BYTES)
    return models_file_error (error, self->models_file, _ ("the file is far too large"));
  if (!json_parser_load_from_data (parser, contents, (gssize)length, &local_error))
    return models_file_error (error, self->models_file, local_error->message);
  node = json_parser_get_root (parser);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return models_file_error (error, self->models_file, _ ("it is not a JSON object"));
  self->data = json_node_ref (node);
  root = json_node_get_object (node);
  region_table = takes_backend_json_get_object (root, "regions");
  tiers = takes_backend_json_get_object (root, "tiers");
  models = takes_backend_json_get_object (root, "models");
  if (region_table == NULL || tiers == NULL || models == NULL)
    return models_file_error (error, self->models_file, _ ("“regions”, “tiers” or “models” is missing"));
  if (takes_backend_json_get_number (root, "max_concurrent_tasks", &number) && number >= 1 && number <= 64)
    self->max_concurrent = (guint)number;

  json_object_iter_init (&iter, region_table);
  while (json_object_iter_next (&iter, &name, &node))
    {
      if (!JSON_NODE_HOLDS_OBJECT (node)
          || takes_backend_json_get_string (json_node_get_object (node), "base_url") == NULL)
        return models_file_error (error, self->models_file, _ ("a region has no base URL"));
      g_strv_builder_add (regions, name);
    }
  self->region_ids = g_strv_builder_end (regions);

  json_object_iter_init (&iter, tiers);
  while (json_object_iter_next (&iter, &name, &node))
    {
      g_auto (GStrv) sizes = NULL;

      if (!JSON_NODE_HOLDS_ARRAY (node))
        return models_file_error (error, self->models_file, _ ("a size tier is not a list"));
      sizes = string_array (tiers, name);
      for (guint i = 0; sizes[i] != NULL; i++)
        {
          guint w, h;

          if (!takes_backend_dashscope_parse_size (sizes[i], &w, &h))
            return models_file_error (error, self->models_file, _ ("a size is not written as W*H"));
          g_hash_table_insert (self->size_tiers, g_strdup (sizes[i]), g_strdup (name));
        }
    }

  json_object_iter_init (&iter, models);
  while (json_object_iter_next (&iter, &name, &node))
    {
      DashscopeModel *model;
      JsonObject *object;
      JsonNode *durations;
      JsonObject *prices;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        return models_file_error (error, self->models_file, _ ("a model entry is not an object"));
      object = json_node_get_object (node);
      model = g_new0 (DashscopeModel, 1);
      g_ptr_array_add (self->models, model);
      model->id = g_strdup (name);
      model->aliases = string_array (object, "aliases");
      model->display_name = g_strdup (takes_backend_json_get_string (object, "display_name"));
      if (model->display_name == NULL)
        model->display_name = g_strdup (name);
      model->tiers = string_array (object, "tiers");
      model->default_size = g_strdup (takes_backend_json_get_string (object, "default_size"));
      model->durations = g_array_new (FALSE, FALSE, sizeof (guint));
      durations = json_object_get_member (object, "durations");
      if (durations != NULL && JSON_NODE_HOLDS_ARRAY (durations))
        {
          JsonArray *array = json_node_get_array (durations);

          for (guint i = 0; i < json_array_get_length (array); i++)
            {
              JsonNode *element = json_array_get_element (array, i);
              guint seconds;

              if (!JSON_NODE_HOLDS_VALUE (element) || json_node_get_value_type (element) != G_TYPE_INT64
                  || json_node_get_int (element) < 1 || json_node_get_int (element) > 600)
                return models_file_error (error, self->models_file,
                                          _ ("a duration is not a whole number of seconds"));
              seconds = (guint)json_node_get_int (element);
              g_array_append_val (model->durations, seconds);
            }
        }
      if (model->durations->len == 0)
        return models_file_error (error, self->models_file, _ ("a model has no durations"));
      if (!takes_backend_json_get_number (object, "fps", &model->fps) || model->fps <= 0)
        return models_file_error (error, self->models_file, _ ("a model has no frame rate"));
      if (takes_backend_json_get_number (object, "max_prompt_chars", &number) && number > 0)
        model->max_prompt_chars = (guint)number;
      if (takes_backend_json_get_number (object, "max_negative_prompt_chars", &number) && number > 0)
        model->max_negative_prompt_chars = (guint)number;
      prices = takes_backend_json_get_object (object, "prices");
      model->prices = prices != NULL ? json_object_ref (prices) : json_object_new ();
      for (guint i = 0; model->tiers[i] != NULL; i++)
        if (!json_object_has_member (tiers, model->tiers[i]))
          return models_file_error (error, self->models_file, _ ("a model names an unknown size tier"));
    }
  if (self->models->len == 0)
    return models_file_error (error, self->models_file, _ ("it lists no models"));
  return TRUE;
}

static JsonObject *
region_object (TakesBackendDashscope *self, const char *region)
{
  JsonObject *regions = takes_backend_json_get_object (json_node_get_object (self->data), "regions");

  return takes_backend_json_get_object (regions, region);
}

static DashscopeModel *
lookup_model (TakesBackendDashscope *self, const char *id)
{
  for (guint i = 0; id != NULL && i < self->models->len; i++)
    {
      DashscopeModel *model = g_ptr_array_index (self->models, i);

      if (g_strcmp0 (model->id, id) == 0 || g_strv_contains ((const char *const *)model->aliases, id))
        return model;
    }
  return NULL;
}

static double
model_price (TakesBackendDashscope *self, DashscopeModel *model, const char *tier)
{
  JsonObject *by_tier = takes_backend_json_get_object (model->prices, self->region);
  double price = -1.0;

  if (tier == NULL || !takes_backend_json_get_number (by_tier, tier, &price) || price < 0)
    return -1.0;
  return price;
}

static const char *
region_currency (TakesBackendDashscope *self)
{
  return takes_backend_json_get_string (region_object (self, self->region), "currency");
}

/* GObject ------------------------------------------------------------------- */

static gboolean
takes_backend_dashscope_initable_init_impl (GInitable *initable, GCancellable *cancellable, GError **error)
{
  TakesBackendDashscope *self = TAKES_BACKEND_DASHSCOPE (initable);
  const char *default_region;

  if (self->models_file == NULL)
    self->models_file = takes_paths_datafile ("backends/dashscope-models.json");
  if (!load_models (self, error))
    return FALSE;
  if (self->region == NULL)
    {
      default_region = takes_backend_json_get_string (json_node_get_object (self->data), "default_region");
      self->region = g_strdup (default_region != NULL ? default_region : self->region_ids[0]);
    }
  if (region_object (self, self->region) == NULL)
    {
      g_autofree char *known = g_strjoinv (", ", self->region_ids);

      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                   _ ("“%s” is not a DashScope region. Choose one of: %s."), self->region, known);
      return FALSE;
    }
  return TRUE;
}

static void
takes_backend_dashscope_initable_init (GInitableIface *iface)
{
  iface->init = takes_backend_dashscope_initable_init_impl;
}

static void
takes_backend_dashscope_dispose (GObject *object)
{
  TakesBackendDashscope *self = TAKES_BACKEND_DASHSCOPE (object);

  g_clear_object (&self->session);

  G_OBJECT_CLASS (takes_backend_dashscope_parent_class)->dispose (object);
}

static void
takes_backend_dashscope_finalize (GObject *object)
{
  TakesBackendDashscope *self = TAKES_BACKEND_DASHSCOPE (object);

  g_free (self->id);
  g_free (self->display_name);
  g_free (self->models_file);
  g_free (self->region);
  g_free (self->base_url);
  takes_secrets_free (self->api_key);
  g_free (self->download_dir);
  g_clear_pointer (&self->data, json_node_unref);
  g_ptr_array_unref (self->models);
  g_hash_table_unref (self->size_tiers);
  g_strfreev (self->region_ids);

  G_OBJECT_CLASS (takes_backend_dashscope_parent_class)->finalize (object);
}

static void
takes_backend_dashscope_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesBackendDashscope *self = TAKES_BACKEND_DASHSCOPE (object);

  switch (prop_id)
    {
      case PROP_ID:
        g_value_set_string (value, self->id);
        break;
      case PROP_DISPLAY_NAME:
        g_value_set_string (value, self->display_name);
        break;
      case PROP_MODELS_FILE:
        g_value_set_string (value, self->models_file);
        break;
      case PROP_REGION:
        g_value_set_string (value, self->region);
        break;
      case PROP_BASE_URL:
        g_value_set_string (value, takes_backend_dashscope_get_base_url (self));
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
takes_backend_dashscope_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TakesBackendDashscope *self = TAKES_BACKEND_DASHSCOPE (object);

  switch (prop_id)
    {
      case PROP_ID:
        g_free (self->id);
        self->id = g_value_dup_string (value);
        if (self->id == NULL)
          self->id = g_strdup ("dashscope");
        break;
      case PROP_DISPLAY_NAME:
        g_free (self->display_name);
        self->display_name = g_value_dup_string (value);
        break;
      case PROP_MODELS_FILE:
        g_free (self->models_file);
        self->models_file = g_value_dup_string (value);
        break;
      case PROP_REGION:
        g_free (self->region);
        self->region = g_value_dup_string (value);
        break;
      case PROP_BASE_URL:
        takes_backend_dashscope_set_base_url (self, g_value_get_string (value));
        break;
      case PROP_API_KEY:
        takes_backend_dashscope_set_api_key (self, g_value_get_string (value));
        break;
      case PROP_DOWNLOAD_DIR:
        takes_backend_dashscope_set_download_dir (self, g_value_get_string (value));
        break;
      case PROP_MAX_DOWNLOAD_SIZE:
        takes_backend_dashscope_set_max_download_size (self, g_value_get_uint64 (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_backend_dashscope_class_init (TakesBackendDashscopeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = takes_backend_dashscope_dispose;
  object_class->finalize = takes_backend_dashscope_finalize;
  object_class->get_property = takes_backend_dashscope_get_property;
  object_class->set_property = takes_backend_dashscope_set_property;

  /* takes-server speaks the same protocol: the same class serves it under its
   * own id and name. */
  properties[PROP_ID] = g_param_spec_string (
      "id", NULL, NULL, "dashscope", G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DISPLAY_NAME] = g_param_spec_string (
      "display-name", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MODELS_FILE] = g_param_spec_string (
      "models-file", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_REGION] = g_param_spec_string (
      "region", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_BASE_URL] = g_param_spec_string (
      "base-url", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  /* Write-only: a key must not be readable through property dumps. */
  properties[PROP_API_KEY]
      = g_param_spec_string ("api-key", NULL, NULL, NULL, G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_DOWNLOAD_DIR] = g_param_spec_string (
      "download-dir", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_DOWNLOAD_SIZE]
      = g_param_spec_uint64 ("max-download-size", NULL, NULL, 0, G_MAXUINT64, DEFAULT_MAX_DOWNLOAD,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
takes_backend_dashscope_init (TakesBackendDashscope *self)
{
  g_autofree char *data_dir = takes_paths_data_dir ();

  self->id = g_strdup ("dashscope");
  self->first_poll = DEFAULT_FIRST_POLL;
  self->max_poll = DEFAULT_MAX_POLL;
  self->poll_timeout = DEFAULT_POLL_TIMEOUT;
  self->max_download_size = DEFAULT_MAX_DOWNLOAD;
  self->max_concurrent = 2;
  /* Inside the library folder, so the queue can rename a result into media/
   * without copying it across file systems. */
  self->download_dir = g_build_filename (data_dir, "downloads", NULL);
  self->models = g_ptr_array_new_with_free_func (dashscope_model_free);
  self->size_tiers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->session = takes_backend_http_session_new ();
}

TakesBackendDashscope *
takes_backend_dashscope_new (const char *region, GError **error)
{
  return g_initable_new (TAKES_TYPE_BACKEND_DASHSCOPE, NULL, error, "region", region, NULL);
}

TakesBackendDashscope *
takes_backend_dashscope_new_from_file (const char *models_file, const char *region, GError **error)
{
  return g_initable_new (TAKES_TYPE_BACKEND_DASHSCOPE, NULL, error, "models-file", models_file, "region",
                         region, NULL);
}

const char *
takes_backend_dashscope_get_region (TakesBackendDashscope *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_DASHSCOPE (self), NULL);
  return self->region;
}

/* The explicit base URL, else the region's. */
const char *
takes_backend_dashscope_get_base_url (TakesBackendDashscope *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_DASHSCOPE (self), NULL);

  if (self->base_url != NULL)
    return self->base_url;
  if (self->data == NULL)
    return NULL;
  return takes_backend_json_get_string (region_object (self, self->region), "base_url");
}

void
takes_backend_dashscope_set_base_url (TakesBackendDashscope *self, const char *base_url)
{
  g_autofree char *trimmed = NULL;

  g_return_if_fail (TAKES_IS_BACKEND_DASHSCOPE (self));

  if (base_url != NULL && *base_url != '\0')
    {
      gsize len;

      trimmed = g_strstrip (g_strdup (base_url));
      len = strlen (trimmed);
      while (len > 0 && trimmed[len - 1] == '/')
        trimmed[--len] = '\0';
    }
  if (g_strcmp0 (self->base_url, trimmed) == 0)
    return;
  g_free (self->base_url);
  self->base_url = g_steal_pointer (&trimmed);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BASE_URL]);
}

/* A key set here wins over the environment and the keyring; NULL goes back
 * to them. */
void
takes_backend_dashscope_set_api_key (TakesBackendDashscope *self, const char *api_key)
{
  g_return_if_fail (TAKES_IS_BACKEND_DASHSCOPE (self));

  takes_secrets_free (self->api_key);
  self->api_key = api_key != NULL && *api_key != '\0' ? g_strdup (api_key) : NULL;
  takes_secrets_remember (self->api_key);
}

void
takes_backend_dashscope_set_key_optional (TakesBackendDashscope *self, gboolean optional)
{
  g_return_if_fail (TAKES_IS_BACKEND_DASHSCOPE (self));

  self->key_optional = optional;
}

void
takes_backend_dashscope_set_download_dir (TakesBackendDashscope *self, const char *download_dir)
{
  g_return_if_fail (TAKES_IS_BACKEND_DASHSCOPE (self));
  g_return_if_fail (download_dir != NULL);

  if (g_strcmp0 (self->download_dir, download_dir) == 0)
    return;
  g_free (self->download_dir);
  self->download_dir = g_strdup (download_dir);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DOWNLOAD_DIR]);
}

/* The first query waits @first_seconds; each later wait grows by half up to
 * @max_seconds. The defaults (5 s, 15 s) follow the documented cadence. */
void
takes_backend_dashscope_set_poll_interval (TakesBackendDashscope *self,
                                           double first_seconds,
                                           double max_seconds)
{
  g_return_if_fail (TAKES_IS_BACKEND_DASHSCOPE (self));
  g_return_if_fail (first_seconds >= 0 && max_seconds >= first_seconds);

  self->first_poll = first_seconds;
  self->max_poll = max_seconds;
}

/* How long to poll before giving up (the task itself stays resumable). */
void
takes_backend_dashscope_set_poll_timeout (TakesBackendDashscope *self, double seconds)
{
  g_return_if_fail (TAKES_IS_BACKEND_DASHSCOPE (self));
  g_return_if_fail (seconds > 0);

  self->poll_timeout = seconds;
}

void
takes_backend_dashscope_set_max_download_size (TakesBackendDashscope *self, guint64 max_bytes)
{
  g_return_if_fail (TAKES_IS_BACKEND_DASHSCOPE (self));

  if (self->max_download_size == max_bytes)
    return;
  self->max_download_size = max_bytes;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_DOWNLOAD_SIZE]);
}

const char *const *
takes_backend_dashscope_list_regions (TakesBackendDashscope *self)
{
  g_return_val_if_fail (TAKES_IS_BACKEND_DASHSCOPE (self), NULL);
  return (const char *const *)self->region_ids;
}

/* Price per output second in the configured region for a model at a size;
 * FALSE when the price is not known. */
gboolean
takes_backend_dashscope_get_price (TakesBackendDashscope *self,
                                   const char *model_id,
                                   guint width,
                                   guint height,
                                   double *price_per_second,
                                   const char **currency)
{
  g_autofree char *size = g_strdup_printf ("%u*%u", width, height);
  DashscopeModel *model;
  double price;

  g_return_val_if_fail (TAKES_IS_BACKEND_DASHSCOPE (self), FALSE);

  model = lookup_model (self, model_id);
  if (model == NULL)
    return FALSE;
  price = model_price (self, model, g_hash_table_lookup (self->size_tiers, size));
  if (price < 0)
    return FALSE;
  if (price_per_second != NULL)
    *price_per_second = price;
  if (currency != NULL)
    *currency = region_currency (self);
  return TRUE;
}

/* Validation ---------------------------------------------------------------- */

static gboolean
model_allows_size (TakesBackendDashscope *self, DashscopeModel *model, const char *size)
{
  const char *tier = g_hash_table_lookup (self->size_tiers, size);

  return tier != NULL && g_strv_contains ((const char *const *)model->tiers, tier);
}

static TakesBackendModelCaps *
add_model_caps (TakesBackendDashscope *self, TakesBackendCapabilities *caps, DashscopeModel *model)
{
  TakesBackendModelCaps *entry = takes_backend_capabilities_add_model (caps, model->id, model->display_name);
  GHashTableIter iter;
  gpointer key, value;
  const char *default_tier
      = model->default_size != NULL ? g_hash_table_lookup (self->size_tiers, model->default_size) : NULL;

  g_hash_table_iter_init (&iter, self->size_tiers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      guint w, h;

      if (g_strv_contains ((const char *const *)model->tiers, value)
          && takes_backend_dashscope_parse_size (key, &w, &h))
        takes_backend_model_caps_add_size (entry, w, h);
    }
  g_array_append_vals (entry->durations, model->durations->data, model->durations->len);
  entry->fps = model->fps;
  entry->max_prompt_chars = model->max_prompt_chars;
  entry->max_negative_prompt_chars = model->max_negative_prompt_chars;
  entry->price_per_second = model_price (self, model, default_tier != NULL ? default_tier : model->tiers[0]);
  entry->currency = g_strdup (region_currency (self));
  return entry;
}

/* The recipe's length in whole seconds: DashScope takes a duration and picks
 * its own frame rate. */
static guint
recipe_seconds (TakesRecipe *recipe, DashscopeModel *model)
{
  double fps = takes_recipe_get_fps (recipe) > 0 ? takes_recipe_get_fps (recipe) : model->fps;

  return (guint)MAX (1.0, round (takes_recipe_get_frames (recipe) / fps));
}

static gboolean
validate_recipe (TakesBackendDashscope *self, TakesRecipe *recipe, DashscopeModel **model_out, GError **error)
{
  g_autoptr (TakesBackendCapabilities) caps = takes_backend_capabilities_new ();
  g_autofree char *size
      = g_strdup_printf ("%u*%u", takes_recipe_get_width (recipe), takes_recipe_get_height (recipe));
  DashscopeModel *model = lookup_model (self, takes_recipe_get_model (recipe));
  TakesBackendModelCaps *entry;
  gint64 seed = takes_recipe_get_seed (recipe);

  if (model == NULL)
    {
      g_autoptr (GString) known = g_string_new (NULL);

      for (guint i = 0; i < self->models->len; i++)
        g_string_append_printf (known, "%s%s", i > 0 ? ", " : "",
                                ((DashscopeModel *)g_ptr_array_index (self->models, i))->id);
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL,
                   _ ("DashScope has no model “%s”. Choose one of: %s."),
                   takes_recipe_get_model (recipe) != NULL ? takes_recipe_get_model (recipe) : "",
                   known->str);
      return FALSE;
    }
  entry = add_model_caps (self, caps, model);
  if (!takes_backend_model_caps_check_prompts (entry, takes_recipe_get_prompt (recipe),
                                               takes_recipe_get_negative_prompt (recipe), error))
    return FALSE;
  if (!model_allows_size (self, model, size)
      && !takes_backend_model_caps_check_size (entry, takes_recipe_get_width (recipe),
                                               takes_recipe_get_height (recipe), error))
    return FALSE;
  if (!takes_backend_model_caps_check_duration (entry, recipe_seconds (recipe, model), error))
    return FALSE;
  if (seed < 0 || seed > G_GINT64_CONSTANT (2147483647))
    {
      g_set_error (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                   _ ("DashScope takes seeds from 0 to 2147483647; %" PRId64 " is outside that range."),
                   seed);
      return FALSE;
    }
  if (model_out != NULL)
    *model_out = model;
  return TRUE;
}

static gboolean
takes_backend_dashscope_validate (TakesBackend *backend, TakesRecipe *recipe, GError **error)
{
  return validate_recipe (TAKES_BACKEND_DASHSCOPE (backend), recipe, NULL, error);
}

static const char *
takes_backend_dashscope_get_id (TakesBackend *backend)
{
  return TAKES_BACKEND_DASHSCOPE (backend)->id;
}

static const char *
takes_backend_dashscope_get_display_name (TakesBackend *backend)
{
  TakesBackendDashscope *self = TAKES_BACKEND_DASHSCOPE (backend);

  return self->display_name != NULL ? self->display_name : _ ("DashScope (Alibaba Cloud)");
}

static TakesBackendCapabilities *
takes_backend_dashscope_get_capabilities (TakesBackend *backend)
{
  TakesBackendDashscope *self = TAKES_BACKEND_DASHSCOPE (backend);
  TakesBackendCapabilities *caps = takes_backend_capabilities_new ();

  caps->max_concurrent_jobs = self->max_concurrent;
  caps->negative_prompt = TRUE;
  caps->seed = TRUE;
  for (guint i = 0; i < self->models->len; i++)
    add_model_caps (self, caps, g_ptr_array_index (self->models, i));
  return caps;
}

/* Errors from replies --------------------------------------------------------- */

static char *
quoted_detail (const char *message)
{
  g_autofree char *redacted = takes_secrets_redact (message != NULL ? message : "");
  g_autoptr (GBytes) bytes = g_bytes_new (redacted, strlen (redacted));

  return takes_backend_http_body_excerpt (bytes);
}

/* Maps a DashScope error code (top level on HTTP errors, inside "output" for a
 * failed task) and the HTTP status to an error a person can act on. */
static GError *
error_from_code (
    TakesBackendDashscope *self, guint status, const char *code, const char *message, int retry_after)
{
  g_autofree char *detail = quoted_detail (message != NULL ? message : code);
  const char *base = takes_backend_dashscope_get_base_url (self);
  g_autofree char *host = NULL;

  {
    g_autoptr (GUri) uri = base != NULL ? g_uri_parse (base, G_URI_FLAGS_NONE, NULL) : NULL;

    host = g_strdup (uri != NULL && g_uri_get_host (uri) != NULL ? g_uri_get_host (uri) : "DashScope");
  }
  code = code != NULL ? code : "";

  if (g_str_equal (code, "InvalidApiKey") || status == SOUP_STATUS_UNAUTHORIZED)
    return g_error_new (
        TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_UNAUTHORIZED,
        _ ("DashScope did not accept the API key (“%s”). Check the key, and that it belongs to the "
           "region of the endpoint %s."),
        detail, host);
  if (g_str_equal (code, "Arrearage") || strstr (code, "FreeTierOnly") != NULL
      || strstr (code, "QuotaExhausted") != NULL)
    return g_error_new (
        TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_QUOTA,
        _ ("The DashScope account cannot pay for more takes (“%s”). Top up the account or check its "
           "free quota in the Model Studio console."),
        detail);
  /* takes-server says so when a take would not fit in its machine's memory. */
  if (g_str_equal (code, "InsufficientMemory"))
    return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_OUT_OF_MEMORY,
                        _ ("The server at %s does not have the memory for this take (“%s”). Choose fewer "
                           "frames or a smaller size."),
                        host, detail);
  if (g_str_has_prefix (code, "Throttling") || status == 429)
    return takes_backend_error_new_rate_limited (
        retry_after,
        _ ("DashScope is limiting requests (“%s”). Takes will try again "
           "later."),
        detail);
  if (strstr (code, "DataInspection") != NULL || strstr (code, "IPInfringement") != NULL)
    return g_error_new (
        TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SAFETY_REJECTED,
        _ ("DashScope's content check rejected the prompt (“%s”). Rephrase it; the same prompt will "
           "be rejected again."),
        detail);
  if (g_str_equal (code, "ModelNotFound") || status == SOUP_STATUS_NOT_FOUND)
    return g_error_new (
        TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL,
        _ ("DashScope does not offer this model in the region of %s (“%s”). Choose another model or "
           "region."),
        host, detail);
  if (g_str_equal (code, "AccessDenied") || status == SOUP_STATUS_FORBIDDEN)
    return g_error_new (
        TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_UNAUTHORIZED,
        _ ("DashScope refused access (“%s”). Check that the model is enabled for this account and "
           "key."),
        detail);
  if (g_str_has_prefix (code, "InvalidParameter") || status == SOUP_STATUS_BAD_REQUEST)
    return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_BAD_PARAMETERS,
                        _ ("DashScope rejected the settings of this take (“%s”). Change them and try again."),
                        detail);
  if (status >= 500 || g_str_equal (code, "InternalError") || *code != '\0')
    return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                        _ ("DashScope had a problem making the take (“%s”). Try again later."), detail);
  return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                      _ ("DashScope answered with HTTP %u, which Takes did not expect. Try again later."),
                      status);
}

static GError *
error_from_reply (TakesBackendDashscope *self, SoupMessage *message, GBytes *body)
{
  guint status = soup_message_get_status (message);
  g_autoptr (JsonNode) root = takes_backend_http_parse_json (body, SERVICE_NAME, NULL);
  JsonObject *object = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_get_object (root) : NULL;
  const char *code = takes_backend_json_get_string (object, "code");
  const char *text = takes_backend_json_get_string (object, "message");
  g_autofree char *excerpt = NULL;

  if (code == NULL && text == NULL)
    text = excerpt = takes_backend_http_body_excerpt (body);
  return error_from_code (self, status, code, text, takes_backend_http_retry_after (message));
}

static void
set_authorization (SoupMessage *message, const char *key)
{
  g_autofree char *auth = NULL;

  if (key == NULL)
    return;
  auth = g_strdup_printf ("Bearer %s", key);
  soup_message_headers_replace (soup_message_get_request_headers (message), "Authorization", auth);
  explicit_bzero (auth, strlen (auth));
}

static gboolean
task_id_is_safe (const char *id)
{
  gsize len = id != NULL ? strlen (id) : 0;

  if (len == 0 || len > MAX_TASK_ID_LENGTH)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (id[i]) && id[i] != '-' && id[i] != '_')
      return FALSE;
  return TRUE;
}

/* A run: one job driven from creation (or resumption) to its end -------------- */

typedef struct
{
  TakesBackendDashscope *self;
  TakesBackendJob *job;
  GTask *pending; /* submit or resume, until it completes */
  GCancellable *cancellable;
  gulong cancel_handler;
  GCancellable *caller_cancellable;
  gulong caller_handler;
  TakesSecret key;
  char *model_id;
  char *size;
  guint duration;
  gint64 started;
  double next_delay;
  guint poll_source;
  guint idle_source;
  guint failures;
  gboolean busy; /* a request or download is in flight */
  gboolean cancelling;
  TakesDownload *download;
} Run;

static void
run_free (Run *run)
{
  if (run->cancel_handler != 0)
    g_cancellable_disconnect (run->cancellable, run->cancel_handler);
  if (run->caller_handler != 0)
    g_cancellable_disconnect (run->caller_cancellable, run->caller_handler);
  g_clear_handle_id (&run->poll_source, g_source_remove);
  g_clear_handle_id (&run->idle_source, g_source_remove);
  g_clear_object (&run->caller_cancellable);
  g_clear_object (&run->cancellable);
  g_clear_object (&run->download);
  g_clear_object (&run->pending);
  g_clear_object (&run->job);
  g_clear_object (&run->self);
  takes_secrets_free (run->key);
  g_free (run->model_id);
  g_free (run->size);
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

/* Ends the run: through the submit/resume task when it has not completed yet,
 * otherwise through the job. Takes ownership of @error and frees the run. */
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
static void run_start_cancel (Run *run);

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

  if (elapsed + delay > run->self->poll_timeout)
    {
      run_finish_error (
          run, g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                            _ ("DashScope has not finished the take after %.0f minutes. It may still "
                               "finish: the task can be resumed for 24 hours."),
                            run->self->poll_timeout / 60.0));
      return;
    }
  run->poll_source
      = g_timeout_add_full (G_PRIORITY_DEFAULT, (guint)(delay * 1000.0), poll_timeout_cb, run, NULL);
}

static double
run_next_delay (Run *run)
{
  double delay = run->next_delay;

  run->next_delay = MIN (run->next_delay * 1.5, run->self->max_poll);
  return delay;
}

/* A transient problem while polling: wait longer and try again, up to a point. */
static void
run_poll_trouble (Run *run, GError *error, int retry_after)
{
  double delay;

  run->failures++;
  if (run->failures > MAX_POLL_FAILURES)
    {
      run_finish_error (run, error);
      return;
    }
  g_debug ("DashScope poll trouble (%u): %s", run->failures, error->message);
  g_error_free (error);
  delay = retry_after >= 0 ? (double)retry_after : run->self->first_poll * (1u << MIN (run->failures, 5u));
  run_schedule_poll (run, MAX (delay, run->self->first_poll));
}

static gboolean
run_check_cancelled (Run *run)
{
  if (!g_cancellable_is_cancelled (run->cancellable))
    return FALSE;
  run_start_cancel (run);
  return TRUE;
}

static double
parse_time (const char *text)
{
  int y, mo, d, h, mi;
  double s;
  g_autoptr (GDateTime) when = NULL;

  if (text == NULL || sscanf (text, "%d-%d-%d %d:%d:%lf", &y, &mo, &d, &h, &mi, &s) != 6)
    return -1;
  when = g_date_time_new_utc (y, mo, d, h, mi, s);
  return when != NULL ? g_date_time_to_unix (when) + fmod (s, 1.0) : -1;
}

static void
download_progress_cb (TakesDownload *download, guint64 received, guint64 total, gpointer user_data)
{
  Run *run = user_data;

  if (total > 0)
    {
      takes_backend_job_set_has_progress (run->job, TRUE);
      takes_backend_job_set_progress (run->job, (double)received / (double)total);
    }
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
        {
          run_start_cancel (run);
          return;
        }
      run_finish_error (run, g_steal_pointer (&error));
      return;
    }
  takes_backend_job_succeed (run->job, takes_download_get_destination (run->download));
  run_free (run);
}

static void
run_download (Run *run, const char *video_url, JsonObject *output, JsonObject *usage)
{
  g_autofree char *name = g_strdup_printf ("%s.mp4", takes_backend_job_get_remote_task_id (run->job));
  g_autofree char *path = g_build_filename (run->self->download_dir, name, NULL);
  DashscopeModel *model = lookup_model (run->self, run->model_id);
  double seconds = run->duration, submitted, ended, price = -1;

  if (takes_backend_json_get_number (usage, "video_duration", &seconds) && seconds < 0)
    seconds = run->duration;
  submitted = parse_time (takes_backend_json_get_string (output, "submit_time"));
  ended = parse_time (takes_backend_json_get_string (output, "end_time"));

  g_object_freeze_notify (G_OBJECT (run->job));
  if (submitted > 0 && ended >= submitted)
    takes_backend_job_set_seconds_spent (run->job, ended - submitted);
  else
    takes_backend_job_set_seconds_spent (run->job,
                                         (g_get_monotonic_time () - run->started) / (double)G_USEC_PER_SEC);
  if (model != NULL && run->size != NULL)
    price = model_price (run->self, model, g_hash_table_lookup (run->self->size_tiers, run->size));
  takes_backend_job_set_cost (run->job, price >= 0 ? price * seconds : -1.0, region_currency (run->self));
  takes_backend_job_set_state (run->job, TAKES_BACKEND_JOB_STATE_DOWNLOADING);
  takes_backend_job_set_has_progress (run->job, FALSE);
  takes_backend_job_set_progress (run->job, 0.0);
  takes_backend_job_set_stage (run->job, _ ("Downloading the video"));
  g_object_thaw_notify (G_OBJECT (run->job));

  run->download = takes_download_new (run->self->session, video_url, path);
  takes_download_set_service (run->download, SERVICE_NAME);
  takes_download_set_max_size (run->download, run->self->max_download_size);
  g_signal_connect (run->download, "progress", G_CALLBACK (download_progress_cb), run);
  run->busy = TRUE;
  /* The signed URL carries its own authorisation: no DashScope key is sent. */
  takes_download_run_async (run->download, run->cancellable, download_cb, run);
}

/* Reacts to one task status; returns FALSE when the run has ended. */
static gboolean
run_handle_status (Run *run, JsonObject *root)
{
  JsonObject *output = takes_backend_json_get_object (root, "output");
  const char *status = takes_backend_json_get_string (output, "task_status");
  const char *video_url = takes_backend_json_get_string (output, "video_url");

  if (status == NULL)
    {
      run_poll_trouble (
          run,
          g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                       _ ("DashScope sent a task status Takes could not read. Try again later.")),
          -1);
      return FALSE;
    }
  run->failures = 0;
  if (g_str_equal (status, "UNKNOWN"))
    {
      run_finish_error (
          run, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NOT_FOUND,
                                    _ ("DashScope no longer knows this task (task ids expire after 24 "
                                       "hours). Make the take again.")));
      return FALSE;
    }
  if (g_str_equal (status, "FAILED"))
    {
      run_finish_error (run, error_from_code (run->self, 200, takes_backend_json_get_string (output, "code"),
                                              takes_backend_json_get_string (output, "message"), -1));
      return FALSE;
    }
  if (g_str_equal (status, "CANCELED"))
    {
      run_finish_error (run, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                                  _ ("The task was cancelled on DashScope.")));
      return FALSE;
    }
  if (g_str_equal (status, "SUCCEEDED"))
    {
      if (video_url == NULL)
        {
          run_finish_error (
              run, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                                        _ ("DashScope reported the take as finished but sent no video "
                                           "address. Make the take again.")));
          return FALSE;
        }
      run_complete_pending (run);
      run_download (run, video_url, output, takes_backend_json_get_object (root, "usage"));
      return FALSE;
    }
  g_object_freeze_notify (G_OBJECT (run->job));
  if (g_str_equal (status, "RUNNING"))
    {
      takes_backend_job_set_state (run->job, TAKES_BACKEND_JOB_STATE_RUNNING);
      takes_backend_job_set_stage (run->job, _ ("Generating on DashScope"));
    }
  else
    {
      /* PENDING, and any status this version does not know: keep waiting. */
      takes_backend_job_set_state (run->job, TAKES_BACKEND_JOB_STATE_SUBMITTED);
      takes_backend_job_set_stage (run->job, _ ("Waiting in DashScope's queue"));
    }
  g_object_thaw_notify (G_OBJECT (run->job));
  run_complete_pending (run);
  return TRUE;
}

static void
poll_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SoupMessage) message = user_data;
  Run *run = g_object_get_data (G_OBJECT (message), "takes-run");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = takes_backend_http_fetch_finish (result, &error);
  g_autoptr (JsonNode) root = NULL;
  guint status;

  run->busy = FALSE;
  if (run_check_cancelled (run))
    return;
  if (body == NULL)
    {
      /* A resume must confirm the task before it returns; later, a dropped
       * connection is only a reason to wait. */
      if (run->pending != NULL)
        run_finish_error (run, g_steal_pointer (&error));
      else
        run_poll_trouble (run, g_steal_pointer (&error), -1);
      return;
    }
  status = soup_message_get_status (message);
  if (status == 429 || status >= 500)
    {
      GError *trouble = error_from_reply (run->self, message, body);

      run_poll_trouble (run, trouble, takes_backend_http_retry_after (message));
      return;
    }
  if (status != SOUP_STATUS_OK)
    {
      run_finish_error (run, error_from_reply (run->self, message, body));
      return;
    }
  root = takes_backend_http_parse_json (body, SERVICE_NAME, &error);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      if (error == NULL)
        error
            = g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                                   _ ("DashScope sent a task status Takes could not read. Try again later."));
      run_poll_trouble (run, g_steal_pointer (&error), -1);
      return;
    }
  if (run_handle_status (run, json_node_get_object (root)))
    run_schedule_poll (run, run_next_delay (run));
}

static void
run_poll (Run *run)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *uri = g_strdup_printf ("%s/tasks/%s", takes_backend_dashscope_get_base_url (run->self),
                                          takes_backend_job_get_remote_task_id (run->job));
  SoupMessage *message;

  if (run_check_cancelled (run))
    return;
  message = takes_backend_http_message_new ("GET", uri, SERVICE_NAME, &error);
  if (message == NULL)
    {
      run_finish_error (run, g_steal_pointer (&error));
      return;
    }
  set_authorization (message, run->key);
  g_object_set_data (G_OBJECT (message), "takes-run", run);
  run->busy = TRUE;
  takes_backend_http_fetch_async (run->self->session, message, TAKES_BACKEND_HTTP_MAX_REPLY, SERVICE_NAME,
                                  run->cancellable, poll_cb, message);
}

/* Cancelling ------------------------------------------------------------------ */

static void
remote_cancel_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SoupMessage) message = user_data;
  Run *run = g_object_get_data (G_OBJECT (message), "takes-run");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = takes_backend_http_fetch_finish (result, &error);

  if (body != NULL && SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (message)))
    run_finish_error (run, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                                _ ("The take was cancelled.")));
  else
    run_finish_error (
        run, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                  _ ("The take was cancelled here, but DashScope could not stop a task "
                                     "that had already started, so it may still be charged.")));
}

/* DashScope cancels only PENDING tasks; anything else is stopped on our side. */
static void
run_start_cancel (Run *run)
{
  g_autoptr (GError) error = NULL;
  const char *task_id = takes_backend_job_get_remote_task_id (run->job);
  g_autofree char *uri = NULL;
  SoupMessage *message;

  if (run->cancelling)
    return;
  run->cancelling = TRUE;
  g_clear_handle_id (&run->poll_source, g_source_remove);
  if (task_id == NULL || takes_backend_job_get_state (run->job) == TAKES_BACKEND_JOB_STATE_DOWNLOADING)
    {
      run_finish_error (run, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                                  _ ("The take was cancelled.")));
      return;
    }
  uri = g_strdup_printf ("%s/tasks/%s/cancel", takes_backend_dashscope_get_base_url (run->self), task_id);
  message = takes_backend_http_message_new ("POST", uri, SERVICE_NAME, &error);
  if (message == NULL)
    {
      run_finish_error (run, g_steal_pointer (&error));
      return;
    }
  set_authorization (message, run->key);
  g_object_set_data (G_OBJECT (message), "takes-run", run);
  /* Not cancellable: the job's own cancellable has fired already. */
  takes_backend_http_fetch_async (run->self->session, message, TAKES_BACKEND_HTTP_MAX_REPLY, SERVICE_NAME,
                                  NULL, remote_cancel_cb, message);
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

/* The job's cancellable fired. An operation in flight notices by itself;
 * otherwise (waiting for the next poll) start cancelling from the main loop. */
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

/* Creating -------------------------------------------------------------------- */

static void
create_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SoupMessage) message = user_data;
  Run *run = g_object_get_data (G_OBJECT (message), "takes-run");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = takes_backend_http_fetch_finish (result, &error);
  g_autoptr (JsonNode) root = NULL;
  JsonObject *output;
  const char *task_id;

  run->busy = FALSE;
  if (body == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_clear_error (&error);
          error = g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                       _ ("The take was cancelled before DashScope received it."));
        }
      run_finish_error (run, g_steal_pointer (&error));
      return;
    }
  if (soup_message_get_status (message) != SOUP_STATUS_OK)
    {
      run_finish_error (run, error_from_reply (run->self, message, body));
      return;
    }
  root = takes_backend_http_parse_json (body, SERVICE_NAME, &error);
  output = root != NULL && JSON_NODE_HOLDS_OBJECT (root)
               ? takes_backend_json_get_object (json_node_get_object (root), "output")
               : NULL;
  task_id = takes_backend_json_get_string (output, "task_id");
  if (!task_id_is_safe (task_id))
    {
      run_finish_error (run, error != NULL
                                 ? g_steal_pointer (&error)
                                 : g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_SERVER,
                                                        _ ("DashScope accepted the take but sent no usable "
                                                           "task id. Try again later.")));
      return;
    }
  g_debug ("DashScope task %s created", task_id);
  takes_backend_job_set_remote_task_id (run->job, task_id);
  if (g_cancellable_is_cancelled (run->cancellable))
    {
      run_start_cancel (run);
      return;
    }
  if (run_handle_status (run, json_node_get_object (root)))
    run_schedule_poll (run, run_next_delay (run));
}

static JsonNode *
build_request (Run *run, TakesRecipe *recipe)
{
  g_autoptr (JsonBuilder) builder = json_builder_new_immutable ();
  JsonObject *options = takes_recipe_get_options (recipe);
  const char *negative = takes_recipe_get_negative_prompt (recipe);
  JsonNode *node;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "model");
  json_builder_add_string_value (builder, run->model_id);
  json_builder_set_member_name (builder, "input");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "prompt");
  json_builder_add_string_value (builder, takes_recipe_get_prompt (recipe));
  if (negative != NULL && *negative != '\0')
    {
      json_builder_set_member_name (builder, "negative_prompt");
      json_builder_add_string_value (builder, negative);
    }
  json_builder_end_object (builder);
  json_builder_set_member_name (builder, "parameters");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "size");
  json_builder_add_string_value (builder, run->size);
  json_builder_set_member_name (builder, "duration");
  json_builder_add_int_value (builder, run->duration);
  json_builder_set_member_name (builder, "seed");
  json_builder_add_int_value (builder, takes_recipe_get_seed (recipe));
  /* A take must be reproducible from its recipe, so the server-side prompt
   * rewrite is off unless the recipe asks for it. */
  json_builder_set_member_name (builder, "prompt_extend");
  node = options != NULL ? json_object_get_member (options, "prompt_extend") : NULL;
  json_builder_add_boolean_value (builder, node != NULL && JSON_NODE_HOLDS_VALUE (node)
                                               && json_node_get_value_type (node) == G_TYPE_BOOLEAN
                                               && json_node_get_boolean (node));
  json_builder_set_member_name (builder, "watermark");
  node = options != NULL ? json_object_get_member (options, "watermark") : NULL;
  json_builder_add_boolean_value (builder, node != NULL && JSON_NODE_HOLDS_VALUE (node)
                                               && json_node_get_value_type (node) == G_TYPE_BOOLEAN
                                               && json_node_get_boolean (node));
  node = options != NULL ? json_object_get_member (options, "shot_type") : NULL;
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    {
      json_builder_set_member_name (builder, "shot_type");
      json_builder_add_string_value (builder, json_node_get_string (node));
    }
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static void
run_create (Run *run, TakesRecipe *recipe)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *uri = g_strdup_printf ("%s/services/aigc/video-generation/video-synthesis",
                                          takes_backend_dashscope_get_base_url (run->self));
  g_autoptr (JsonNode) request = build_request (run, recipe);
  SoupMessage *message = takes_backend_http_message_new ("POST", uri, SERVICE_NAME, &error);
  SoupMessageHeaders *headers;

  if (message == NULL)
    {
      run_finish_error (run, g_steal_pointer (&error));
      return;
    }
  headers = soup_message_get_request_headers (message);
  set_authorization (message, run->key);
  soup_message_headers_replace (headers, "X-DashScope-Async", "enable");
  takes_backend_http_set_json_body (message, request);
  g_object_set_data (G_OBJECT (message), "takes-run", run);
  g_object_freeze_notify (G_OBJECT (run->job));
  takes_backend_job_set_stage (run->job, _ ("Sending to DashScope"));
  takes_backend_job_set_has_progress (run->job, FALSE);
  g_object_thaw_notify (G_OBJECT (run->job));
  run->busy = TRUE;
  takes_backend_http_fetch_async (run->self->session, message, TAKES_BACKEND_HTTP_MAX_REPLY, SERVICE_NAME,
                                  run->cancellable, create_cb, message);
}

/* Keys ------------------------------------------------------------------------ */

static GError *
missing_key_error (TakesBackendDashscope *self)
{
  const char *const *names = takes_secrets_env_names (self->id);

  return g_error_new (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_UNAUTHORIZED,
                      _ ("No API key is set for %s. Add one in Preferences, or set %s for headless use."),
                      takes_backend_get_display_name (TAKES_BACKEND (self)), names[0]);
}

typedef void (*KeyReadyFunc) (Run *run, TakesRecipe *recipe);

typedef struct
{
  Run *run;
  TakesRecipe *recipe;
  KeyReadyFunc ready;
} KeyLookup;

static void
key_lookup_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KeyLookup *lookup = user_data;
  Run *run = lookup->run;
  g_autoptr (TakesRecipe) recipe = lookup->recipe;
  KeyReadyFunc ready = lookup->ready;
  g_autoptr (GError) error = NULL;

  g_free (lookup);
  run->busy = FALSE;
  run->key = takes_secrets_lookup_finish (result, &error);
  if (g_cancellable_is_cancelled (run->cancellable))
    {
      run_finish_error (run, g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED,
                                                  _ ("The take was cancelled.")));
      return;
    }
  if (run->key == NULL && run->self->key_optional)
    {
      ready (run, recipe);
      return;
    }
  if (run->key == NULL)
    {
      GError *missing = missing_key_error (run->self);

      /* The keyring's own trouble says why the key could not be read. */
      if (error != NULL)
        {
          g_autofree char *message = g_strdup_printf ("%s %s", error->message, missing->message);

          g_clear_error (&missing);
          missing = g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_UNAUTHORIZED, message);
        }
      run_finish_error (run, missing);
      return;
    }
  ready (run, recipe);
}

/* The property, then the environment, then the keyring. */
static void
run_with_key (Run *run, TakesRecipe *recipe, KeyReadyFunc ready)
{
  const char *key
      = run->self->api_key != NULL ? run->self->api_key : takes_secrets_env_override (run->self->id);
  KeyLookup *lookup;

  if (key != NULL)
    {
      run->key = g_strdup (key);
      ready (run, recipe);
      return;
    }
  lookup = g_new0 (KeyLookup, 1);
  lookup->run = run;
  lookup->recipe = recipe != NULL ? g_object_ref (recipe) : NULL;
  lookup->ready = ready;
  run->busy = TRUE;
  takes_secrets_lookup_async (run->self->id, takes_backend_dashscope_get_base_url (run->self),
                              run->cancellable, key_lookup_cb, lookup);
}

static Run *
run_new (TakesBackendDashscope *self, TakesRecipe *recipe, GTask *pending, GCancellable *caller_cancellable)
{
  Run *run = g_new0 (Run, 1);

  run->self = g_object_ref (self);
  run->job = takes_backend_job_new (self->id, recipe);
  run->pending = g_object_ref (pending);
  run->cancellable = g_object_ref (takes_backend_job_get_cancellable (run->job));
  run->started = g_get_monotonic_time ();
  run->next_delay = self->first_poll;
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
takes_backend_dashscope_submit_async (TakesBackend *backend,
                                      TakesRecipe *recipe,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  TakesBackendDashscope *self = TAKES_BACKEND_DASHSCOPE (backend);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr (GError) error = NULL;
  DashscopeModel *model = NULL;
  Run *run;

  g_task_set_source_tag (task, takes_backend_dashscope_submit_async);
  if (!validate_recipe (self, recipe, &model, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  run = run_new (self, recipe, task, cancellable);
  run->model_id = g_strdup (takes_recipe_get_model (recipe));
  run->size = g_strdup_printf ("%u*%u", takes_recipe_get_width (recipe), takes_recipe_get_height (recipe));
  run->duration = recipe_seconds (recipe, model);
  run_with_key (run, recipe, run_create);
}

static TakesBackendJob *
takes_backend_dashscope_submit_finish (TakesBackend *backend, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
resume_with_key (Run *run, TakesRecipe *recipe)
{
  run_poll (run);
}

static void
takes_backend_dashscope_resume_async (TakesBackend *backend,
                                      TakesRecipe *recipe,
                                      const char *remote_task_id,
                                      GCancellable *cancellable,
                                      GAsyncReadyCallback callback,
                                      gpointer user_data)
{
  TakesBackendDashscope *self = TAKES_BACKEND_DASHSCOPE (backend);
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  DashscopeModel *model;
  Run *run;

  g_task_set_source_tag (task, takes_backend_dashscope_resume_async);
  if (!task_id_is_safe (remote_task_id))
    {
      g_task_return_new_error (
          task, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_NOT_FOUND,
          _ ("“%s” is not a DashScope task id, so the take cannot be resumed. Make it again."),
          remote_task_id);
      return;
    }
  run = run_new (self, recipe, task, cancellable);
  model = lookup_model (self, takes_recipe_get_model (recipe));
  run->model_id = g_strdup (takes_recipe_get_model (recipe));
  run->size = g_strdup_printf ("%u*%u", takes_recipe_get_width (recipe), takes_recipe_get_height (recipe));
  run->duration = model != NULL ? recipe_seconds (recipe, model) : 0;
  takes_backend_job_set_remote_task_id (run->job, remote_task_id);
  takes_backend_job_set_state (run->job, TAKES_BACKEND_JOB_STATE_SUBMITTED);
  run_with_key (run, recipe, resume_with_key);
}

static TakesBackendJob *
takes_backend_dashscope_resume_finish (TakesBackend *backend, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Availability ---------------------------------------------------------------- */

typedef struct
{
  TakesBackendDashscope *self;
  TakesSecret key;
} Probe;

static void
probe_free (gpointer data)
{
  Probe *probe = data;

  g_clear_object (&probe->self);
  takes_secrets_free (probe->key);
  g_free (probe);
}

static void
probe_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GTask) task = user_data;
  Probe *probe = g_task_get_task_data (task);
  SoupMessage *message = g_object_get_data (G_OBJECT (task), "takes-message");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = takes_backend_http_fetch_finish (result, &error);
  guint status;

  if (body == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  status = soup_message_get_status (message);
  /* Any answer about a made-up task id proves the address and the key. */
  if (status == SOUP_STATUS_OK || status == SOUP_STATUS_NOT_FOUND)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error_from_reply (probe->self, message, body));
}

static void
probe_send (GTask *task)
{
  Probe *probe = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;
  g_autofree char *uri = g_strdup_printf ("%s/tasks/00000000-0000-0000-0000-000000000000",
                                          takes_backend_dashscope_get_base_url (probe->self));
  g_autoptr (SoupMessage) message = takes_backend_http_message_new ("GET", uri, SERVICE_NAME, &error);

  if (message == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      g_object_unref (task);
      return;
    }
  set_authorization (message, probe->key);
  g_object_set_data_full (G_OBJECT (task), "takes-message", g_object_ref (message), g_object_unref);
  takes_backend_http_fetch_async (probe->self->session, message, TAKES_BACKEND_HTTP_MAX_REPLY, SERVICE_NAME,
                                  g_task_get_cancellable (task), probe_cb, task);
}

static void
probe_key_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GTask *task = user_data;
  Probe *probe = g_task_get_task_data (task);
  g_autoptr (GError) error = NULL;

  probe->key = takes_secrets_lookup_finish (result, &error);
  if (probe->key == NULL && probe->self->key_optional)
    {
      probe_send (task);
      return;
    }
  if (probe->key == NULL)
    {
      GError *missing = missing_key_error (probe->self);

      if (error != NULL)
        {
          g_autofree char *message = g_strdup_printf ("%s %s", error->message, missing->message);

          g_clear_error (&missing);
          missing = g_error_new_literal (TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_UNAUTHORIZED, message);
        }
      g_task_return_error (task, missing);
      g_object_unref (task);
      return;
    }
  probe_send (task);
}

static void
takes_backend_dashscope_check_available_async (TakesBackend *backend,
                                               GCancellable *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer user_data)
{
  TakesBackendDashscope *self = TAKES_BACKEND_DASHSCOPE (backend);
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  Probe *probe = g_new0 (Probe, 1);
  const char *key = self->api_key != NULL ? self->api_key : takes_secrets_env_override (self->id);

  g_task_set_source_tag (task, takes_backend_dashscope_check_available_async);
  probe->self = g_object_ref (self);
  g_task_set_task_data (task, probe, probe_free);
  if (key != NULL)
    {
      probe->key = g_strdup (key);
      probe_send (task);
      return;
    }
  takes_secrets_lookup_async (self->id, takes_backend_dashscope_get_base_url (self), cancellable,
                              probe_key_cb, task);
}

static gboolean
takes_backend_dashscope_check_available_finish (TakesBackend *backend, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, backend), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
takes_backend_dashscope_backend_init (TakesBackendInterface *iface)
{
  iface->get_id = takes_backend_dashscope_get_id;
  iface->get_display_name = takes_backend_dashscope_get_display_name;
  iface->get_capabilities = takes_backend_dashscope_get_capabilities;
  iface->validate = takes_backend_dashscope_validate;
  iface->check_available_async = takes_backend_dashscope_check_available_async;
  iface->check_available_finish = takes_backend_dashscope_check_available_finish;
  iface->submit_async = takes_backend_dashscope_submit_async;
  iface->submit_finish = takes_backend_dashscope_submit_finish;
  iface->resume_async = takes_backend_dashscope_resume_async;
  iface->resume_finish = takes_backend_dashscope_resume_finish;
}
