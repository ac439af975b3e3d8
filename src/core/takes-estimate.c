/* takes-estimate.c: the pricing table and the estimates made from it.
 *
 * The whole table is checked when it is loaded, so an estimate never meets a
 * malformed entry; a model the table does not know is simply not estimated.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "takes-estimate.h"
#include "takes-paths.h"

struct _TakesPricing
{
  GObject parent_instance;

  JsonNode *root;
  JsonObject *backends;
};

G_DEFINE_FINAL_TYPE (TakesPricing, takes_pricing, G_TYPE_OBJECT)

GQuark
takes_estimate_error_quark (void)
{
  return g_quark_from_static_string ("takes-estimate-error-quark");
}

static const char *const tiers[] = { "480P", "720P", "1080P", NULL };

static void
takes_pricing_finalize (GObject *object)
{
  TakesPricing *self = TAKES_PRICING (object);

  g_clear_pointer (&self->root, json_node_unref);

  G_OBJECT_CLASS (takes_pricing_parent_class)->finalize (object);
}

static void
takes_pricing_class_init (TakesPricingClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = takes_pricing_finalize;
}

static void
takes_pricing_init (TakesPricing *self)
{
}

void
takes_estimate_free (TakesEstimate *estimate)
{
  if (estimate == NULL)
    return;
  g_free (estimate->backend);
  g_free (estimate->model);
  g_free (estimate->tier);
  g_free (estimate->currency);
  g_free (estimate->price_source);
  g_free (estimate);
}

const char *
takes_estimate_tier_for_size (guint width, guint height)
{
  guint64 pixels = (guint64)width * height;

  /* The tiers' sizes (832×480 and 624×624; 1280×720, 960×960 and 1088×832;
   * 1920×1080 and 1440×1440) fall well inside these bounds. */
  if (pixels <= 500000)
    return "480P";
  if (pixels <= 1200000)
    return "720P";
  return "1080P";
}

/* ------------------------------------------------------------------ loading */

static gboolean
bad_data (GError **error, const char *where, const char *what)
{
  g_set_error (error, TAKES_ESTIMATE_ERROR, TAKES_ESTIMATE_ERROR_INVALID_DATA,
               _ ("The pricing table is damaged at “%s”: %s Reinstall Takes or fix the file."), where, what);
  return FALSE;
}

static gboolean
is_number (JsonNode *node)
{
  GType type;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  type = json_node_get_value_type (node);
  return type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

static gboolean
check_tier_table (JsonObject *entry, const char *key, const char *where, GError **error)
{
  JsonNode *node = json_object_get_member (entry, key);
  JsonObjectIter iter;
  const char *tier;
  JsonNode *value;

  if (node == NULL)
    return TRUE;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return bad_data (error, where, _ ("a tier table must be an object."));
  json_object_iter_init (&iter, json_node_get_object (node));
  while (json_object_iter_next (&iter, &tier, &value))
    {
      if (!g_strv_contains (tiers, tier))
        return bad_data (error, where, _ ("tiers are 480P, 720P and 1080P."));
      if (!is_number (value) || json_node_get_double (value) < 0)
        return bad_data (error, where, _ ("figures must be numbers of zero or more."));
    }
  return TRUE;
}

static gboolean
check_model (JsonNode *node, const char *where, GError **error)
{
  JsonObject *entry;
  JsonNode *member;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    return bad_data (error, where, _ ("a model entry must be an object."));
  entry = json_node_get_object (node);
  if (!check_tier_table (entry, "price_per_second", where, error)
      || !check_tier_table (entry, "per_output_second_s", where, error))
    return FALSE;
  if (json_object_has_member (entry, "price_per_second"))
    {
      member = json_object_get_member (entry, "currency");
      if (member == NULL || !JSON_NODE_HOLDS_VALUE (member)
          || json_node_get_value_type (member) != G_TYPE_STRING
          || strlen (json_node_get_string (member)) != 3)
        return bad_data (error, where, _ ("a price needs a three-letter “currency”."));
    }
  member = json_object_get_member (entry, "default_tier");
  if (member != NULL
      && (!JSON_NODE_HOLDS_VALUE (member) || json_node_get_value_type (member) != G_TYPE_STRING
          || !g_strv_contains (tiers, json_node_get_string (member))))
    return bad_data (error, where, _ ("“default_tier” must be 480P, 720P or 1080P."));
  for (guint i = 0; i < 2; i++)
    {
      const char *key = i == 0 ? "default_duration" : "overhead_s";

      member = json_object_get_member (entry, key);
      if (member != NULL && (!is_number (member) || json_node_get_double (member) < 0))
        return bad_data (error, where, _ ("durations must be numbers of zero or more."));
    }
  member = json_object_get_member (entry, "aliases");
  if (member != NULL && !JSON_NODE_HOLDS_ARRAY (member))
    return bad_data (error, where, _ ("“aliases” must be a list of names."));
  return TRUE;
}

static gboolean
check_table (JsonNode *root, GError **error)
{
  JsonObject *top;
  JsonNode *backends;
  JsonObjectIter iter;
  const char *name;
  JsonNode *backend;

  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return bad_data (error, "/", _ ("the file must hold one JSON object."));
  top = json_node_get_object (root);
  backends = json_object_get_member (top, "backends");
  if (backends == NULL || !JSON_NODE_HOLDS_OBJECT (backends))
    return bad_data (error, "/backends", _ ("“backends” must be an object."));

  json_object_iter_init (&iter, json_node_get_object (backends));
  while (json_object_iter_next (&iter, &name, &backend))
    {
      g_autofree char *where = g_strdup_printf ("/backends/%s", name);
      JsonObject *b;
      JsonNode *models;
      JsonNode *member;
      JsonObjectIter model_iter;
      const char *model_name;
      JsonNode *model;

      if (!JSON_NODE_HOLDS_OBJECT (backend))
        return bad_data (error, where, _ ("a backend entry must be an object."));
      b = json_node_get_object (backend);
      member = json_object_get_member (b, "concurrency");
      if (member != NULL && (!is_number (member) || json_node_get_double (member) < 1))
        return bad_data (error, where, _ ("“concurrency” must be 1 or more."));
      models = json_object_get_member (b, "models");
      if (models == NULL || !JSON_NODE_HOLDS_OBJECT (models))
        return bad_data (error, where, _ ("“models” must be an object."));
      json_object_iter_init (&model_iter, json_node_get_object (models));
      while (json_object_iter_next (&model_iter, &model_name, &model))
        {
          g_autofree char *model_where = g_strdup_printf ("%s/models/%s", where, model_name);

          if (!check_model (model, model_where, error))
            return FALSE;
        }
      member = json_object_get_member (b, "default");
      if (member != NULL && !check_model (member, where, error))
        return FALSE;
    }
  return TRUE;
}

TakesPricing *
takes_pricing_new_from_data (const char *data, gssize length, GError **error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) local_error = NULL;
  g_autoptr (TakesPricing) self = NULL;

  if (!json_parser_load_from_data (parser, data, length, &local_error))
    {
      g_set_error (error, TAKES_ESTIMATE_ERROR, TAKES_ESTIMATE_ERROR_INVALID_DATA,
                   _ ("The pricing table is not valid JSON (%s); reinstall Takes or fix the file."),
                   local_error->message);
      return NULL;
    }
  if (!check_table (json_parser_get_root (parser), error))
    return NULL;
  self = g_object_new (TAKES_TYPE_PRICING, NULL);
  self->root = json_node_ref (json_parser_get_root (parser));
  self->backends = json_object_get_object_member (json_node_get_object (self->root), "backends");
  return g_steal_pointer (&self);
}

TakesPricing *
takes_pricing_new_from_file (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr (GError) local_error = NULL;

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, TAKES_ESTIMATE_ERROR, TAKES_ESTIMATE_ERROR_INVALID_DATA,
                   _ ("Could not read the pricing table: %s"), local_error->message);
      return NULL;
    }
  return takes_pricing_new_from_data (contents, length, error);
}

TakesPricing *
takes_pricing_new_default (GError **error)
{
  g_autofree char *path = takes_paths_datafile ("backends/pricing.json");

  return takes_pricing_new_from_file (path, error);
}

char **
takes_pricing_list_backends (TakesPricing *self)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (GList) names = NULL;

  g_return_val_if_fail (TAKES_IS_PRICING (self), NULL);
  names = json_object_get_members (self->backends);
  for (GList *l = names; l != NULL; l = l->next)
    g_strv_builder_add (builder, l->data);
  return g_strv_builder_end (builder);
}

/* ------------------------------------------------------------------ estimating */

static JsonObject *
find_model (JsonObject *backend, const char *model, const char **found_name)
{
  JsonObject *models = json_object_get_object_member (backend, "models");
  g_autoptr (GList) names = NULL;

  if (model != NULL && json_object_has_member (models, model))
    {
      *found_name = model;
      return json_object_get_object_member (models, model);
    }
  names = json_object_get_members (models);
  for (GList *l = names; model != NULL && l != NULL; l = l->next)
    {
      JsonObject *entry = json_object_get_object_member (models, l->data);
      JsonArray *aliases = json_object_has_member (entry, "aliases")
                               ? json_object_get_array_member (entry, "aliases")
                               : NULL;

      for (guint i = 0; aliases != NULL && i < json_array_get_length (aliases); i++)
        {
          JsonNode *alias = json_array_get_element (aliases, i);

          if (JSON_NODE_HOLDS_VALUE (alias) && json_node_get_value_type (alias) == G_TYPE_STRING
              && g_str_equal (json_node_get_string (alias), model))
            {
              *found_name = l->data;
              return entry;
            }
        }
    }
  /* Own hardware runs whatever model it has; the default row is the guess. */
  if (json_object_has_member (backend, "default"))
    {
      *found_name = model;
      return json_object_get_object_member (backend, "default");
    }
  if (model == NULL && names != NULL)
    {
      *found_name = names->data;
      return json_object_get_object_member (models, names->data);
    }
  return NULL;
}

static gboolean
tier_figure (JsonObject *entry, const char *table, const char *tier, double *out)
{
  JsonObject *t = json_object_has_member (entry, table) ? json_object_get_object_member (entry, table) : NULL;

  if (t == NULL || !json_object_has_member (t, tier))
    return FALSE;
  *out = json_object_get_double_member (t, tier);
  return TRUE;
}

TakesEstimate *
takes_pricing_estimate (TakesPricing *self,
                        const char *backend,
                        const char *model,
                        guint width,
                        guint height,
                        double duration,
                        guint n_takes)
{
  g_autoptr (TakesEstimate) est = g_new0 (TakesEstimate, 1);
  JsonObject *b;
  JsonObject *entry;
  const char *model_name = model;
  double per_output;
  double rounds;

  g_return_val_if_fail (TAKES_IS_PRICING (self), NULL);

  est->backend = g_strdup (backend);
  est->model = g_strdup (model);
  est->n_takes = n_takes;
  est->video_seconds = duration;
  est->concurrency = 1;
  est->tier = g_strdup (width > 0 && height > 0 ? takes_estimate_tier_for_size (width, height) : "480P");

  if (backend == NULL || !json_object_has_member (self->backends, backend))
    return g_steal_pointer (&est);
  b = json_object_get_object_member (self->backends, backend);
  est->concurrency = (guint)json_object_get_double_member_with_default (b, "concurrency", 1);
  entry = find_model (b, model, &model_name);
  if (entry == NULL)
    return g_steal_pointer (&est);

  if (model == NULL && model_name != NULL)
    {
      g_free (est->model);
      est->model = g_strdup (model_name);
    }
  if ((width == 0 || height == 0) && json_object_has_member (entry, "default_tier"))
    {
      g_free (est->tier);
      est->tier = g_strdup (json_object_get_string_member (entry, "default_tier"));
    }
  if (duration <= 0)
    est->video_seconds = json_object_get_double_member_with_default (entry, "default_duration", 5.0);

  if (!json_object_has_member (entry, "price_per_second"))
    {
      est->cost_known = TRUE;
      est->cost = 0.0;
    }
  else if (tier_figure (entry, "price_per_second", est->tier, &est->price_per_second))
    {
      est->cost_known = TRUE;
      est->currency = g_strdup (json_object_get_string_member (entry, "currency"));
      est->price_source = g_strdup (json_object_get_string_member_with_default (entry, "price_source", NULL));
      est->cost = est->price_per_second * est->video_seconds * n_takes;
    }

  if (tier_figure (entry, "per_output_second_s", est->tier, &per_output))
    {
      /* Takes run in rounds of the backend's concurrency. */
      rounds = ceil ((double)n_takes / MAX (est->concurrency, 1));
      est->time_known = TRUE;
      est->wall_seconds = rounds
                          * (json_object_get_double_member_with_default (entry, "overhead_s", 0)
                             + per_output * est->video_seconds);
    }
  return g_steal_pointer (&est);
}

char *
takes_estimate_format_cost (const TakesEstimate *estimate)
{
  if (!estimate->cost_known)
    return g_strdup (_ ("unknown"));
  if (estimate->currency == NULL)
    return g_strdup (_ ("free"));
  if (g_str_equal (estimate->currency, "USD"))
    return g_strdup_printf ("US$%.2f", estimate->cost);
  if (g_str_equal (estimate->currency, "CNY"))
    return g_strdup_printf ("¥%.2f", estimate->cost);
  return g_strdup_printf ("%.2f %s", estimate->cost, estimate->currency);
}

char *
takes_estimate_format_time (const TakesEstimate *estimate)
{
  double s;
  guint64 minutes;

  if (!estimate->time_known)
    return g_strdup (_ ("unknown"));
  s = estimate->wall_seconds;
  if (s < 60)
    return g_strdup_printf (_ ("about %u s"), (guint)ceil (s));
  minutes = (guint64)ceil (s / 60.0);
  if (minutes < 60)
    return g_strdup_printf (_ ("about %u min"), (guint)minutes);
  if (minutes < 48 * 60)
    return g_strdup_printf (_ ("about %u h %u min"), (guint)(minutes / 60), (guint)(minutes % 60));
  return g_strdup_printf (_ ("about %u days"), (guint)((minutes + 12 * 60) / (24 * 60)));
}

static void
add_string_or_null (JsonBuilder *b, const char *name, const char *value)
{
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

JsonNode *
takes_estimate_to_json (const TakesEstimate *estimate)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  add_string_or_null (b, "backend", estimate->backend);
  add_string_or_null (b, "model", estimate->model);
  add_string_or_null (b, "tier", estimate->tier);
  json_builder_set_member_name (b, "takes");
  json_builder_add_int_value (b, estimate->n_takes);
  json_builder_set_member_name (b, "video_seconds");
  json_builder_add_double_value (b, estimate->video_seconds);
  json_builder_set_member_name (b, "cost");
  if (estimate->cost_known)
    json_builder_add_double_value (b, round (estimate->cost * 10000) / 10000);
  else
    json_builder_add_null_value (b);
  add_string_or_null (b, "currency", estimate->currency);
  json_builder_set_member_name (b, "price_per_second");
  json_builder_add_double_value (b, estimate->price_per_second);
  add_string_or_null (b, "price_source", estimate->price_source);
  json_builder_set_member_name (b, "wall_seconds");
  if (estimate->time_known)
    json_builder_add_double_value (b, round (estimate->wall_seconds));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "concurrency");
  json_builder_add_int_value (b, estimate->concurrency);
  json_builder_set_member_name (b, "is_estimate");
  json_builder_add_boolean_value (b, TRUE);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}
