/* takes-recipe.c: the recipe of a take, its canonical JSON and cache key.
 *
 * The canonical form is what makes the cache key stable: two recipes that
 * mean the same thing (keys in another order, 5 written as 5.0) hash the same.
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "takes-recipe.h"

struct _TakesRecipe
{
  GObject parent_instance;

  char *prompt;
  char *negative_prompt;
  char *model;
  char *backend;
  guint width;
  guint height;
  guint frames;
  guint fps;
  guint steps;
  double guidance;
  double shift;
  char *sampler;
  gint64 seed;

  gboolean has_guidance_pair;
  double guidance_high;
  double guidance_low;

  JsonObject *options;
  JsonObject *unknown;
  gint64 format_version;
};

G_DEFINE_FINAL_TYPE (TakesRecipe, takes_recipe, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_PROMPT,
  PROP_NEGATIVE_PROMPT,
  PROP_MODEL,
  PROP_BACKEND,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_FRAMES,
  PROP_FPS,
  PROP_STEPS,
  PROP_GUIDANCE,
  PROP_SHIFT,
  PROP_SAMPLER,
  PROP_SEED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_QUARK (takes - recipe - error - quark, takes_recipe_error)

#define DEFAULT_MODEL "wan2.1-t2v-1.3b"
#define DEFAULT_BACKEND "local"
#define DEFAULT_SAMPLER "unipc"
#define DEFAULT_WIDTH 832
#define DEFAULT_HEIGHT 480
#define DEFAULT_FRAMES 81
#define DEFAULT_FPS 16
#define DEFAULT_STEPS 50
#define DEFAULT_GUIDANCE 5.0
#define DEFAULT_SHIFT 5.0

static void
takes_recipe_finalize (GObject *object)
{
  TakesRecipe *self = TAKES_RECIPE (object);

  g_clear_pointer (&self->prompt, g_free);
  g_clear_pointer (&self->negative_prompt, g_free);
  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->backend, g_free);
  g_clear_pointer (&self->sampler, g_free);
  g_clear_pointer (&self->options, json_object_unref);
  g_clear_pointer (&self->unknown, json_object_unref);

  G_OBJECT_CLASS (takes_recipe_parent_class)->finalize (object);
}

static void
takes_recipe_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesRecipe *self = TAKES_RECIPE (object);

  switch (prop_id)
    {
      case PROP_PROMPT:
        g_value_set_string (value, self->prompt);
        break;
      case PROP_NEGATIVE_PROMPT:
        g_value_set_string (value, self->negative_prompt);
        break;
      case PROP_MODEL:
        g_value_set_string (value, self->model);
        break;
      case PROP_BACKEND:
        g_value_set_string (value, self->backend);
        break;
      case PROP_WIDTH:
        g_value_set_uint (value, self->width);
        break;
      case PROP_HEIGHT:
        g_value_set_uint (value, self->height);
        break;
      case PROP_FRAMES:
        g_value_set_uint (value, self->frames);
        break;
      case PROP_FPS:
        g_value_set_uint (value, self->fps);
        break;
      case PROP_STEPS:
        g_value_set_uint (value, self->steps);
        break;
      case PROP_GUIDANCE:
        g_value_set_double (value, self->guidance);
        break;
      case PROP_SHIFT:
        g_value_set_double (value, self->shift);
        break;
      case PROP_SAMPLER:
        g_value_set_string (value, self->sampler);
        break;
      case PROP_SEED:
        g_value_set_int64 (value, self->seed);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_recipe_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TakesRecipe *self = TAKES_RECIPE (object);

  switch (prop_id)
    {
      case PROP_PROMPT:
        takes_recipe_set_prompt (self, g_value_get_string (value));
        break;
      case PROP_NEGATIVE_PROMPT:
        takes_recipe_set_negative_prompt (self, g_value_get_string (value));
        break;
      case PROP_MODEL:
        takes_recipe_set_model (self, g_value_get_string (value));
        break;
      case PROP_BACKEND:
        takes_recipe_set_backend (self, g_value_get_string (value));
        break;
      case PROP_WIDTH:
        takes_recipe_set_width (self, g_value_get_uint (value));
        break;
      case PROP_HEIGHT:
        takes_recipe_set_height (self, g_value_get_uint (value));
        break;
      case PROP_FRAMES:
        takes_recipe_set_frames (self, g_value_get_uint (value));
        break;
      case PROP_FPS:
        takes_recipe_set_fps (self, g_value_get_uint (value));
        break;
      case PROP_STEPS:
        takes_recipe_set_steps (self, g_value_get_uint (value));
        break;
      case PROP_GUIDANCE:
        takes_recipe_set_guidance (self, g_value_get_double (value));
        break;
      case PROP_SHIFT:
        takes_recipe_set_shift (self, g_value_get_double (value));
        break;
      case PROP_SAMPLER:
        takes_recipe_set_sampler (self, g_value_get_string (value));
        break;
      case PROP_SEED:
        takes_recipe_set_seed (self, g_value_get_int64 (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_recipe_class_init (TakesRecipeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = takes_recipe_finalize;
  object_class->get_property = takes_recipe_get_property;
  object_class->set_property = takes_recipe_set_property;

  /* The property ranges are wide on purpose: any value can be held, and
   * takes_recipe_validate() explains what is wrong with it. */
  properties[PROP_PROMPT] = g_param_spec_string ("prompt", NULL, NULL, "", flags);
  properties[PROP_NEGATIVE_PROMPT] = g_param_spec_string ("negative-prompt", NULL, NULL, "", flags);
  properties[PROP_MODEL] = g_param_spec_string ("model", NULL, NULL, DEFAULT_MODEL, flags);
  properties[PROP_BACKEND] = g_param_spec_string ("backend", NULL, NULL, DEFAULT_BACKEND, flags);
  properties[PROP_WIDTH] = g_param_spec_uint ("width", NULL, NULL, 0, G_MAXUINT, DEFAULT_WIDTH, flags);
  properties[PROP_HEIGHT] = g_param_spec_uint ("height", NULL, NULL, 0, G_MAXUINT, DEFAULT_HEIGHT, flags);
  properties[PROP_FRAMES] = g_param_spec_uint ("frames", NULL, NULL, 0, G_MAXUINT, DEFAULT_FRAMES, flags);
  properties[PROP_FPS] = g_param_spec_uint ("fps", NULL, NULL, 0, G_MAXUINT, DEFAULT_FPS, flags);
  properties[PROP_STEPS] = g_param_spec_uint ("steps", NULL, NULL, 0, G_MAXUINT, DEFAULT_STEPS, flags);
  properties[PROP_GUIDANCE]
      = g_param_spec_double ("guidance", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, DEFAULT_GUIDANCE, flags);
  properties[PROP_SHIFT]
      = g_param_spec_double ("shift", NULL, NULL, -G_MAXDOUBLE, G_MAXDOUBLE, DEFAULT_SHIFT, flags);
  properties[PROP_SAMPLER] = g_param_spec_string ("sampler", NULL, NULL, DEFAULT_SAMPLER, flags);
  properties[PROP_SEED] = g_param_spec_int64 ("seed", NULL, NULL, G_MININT64, G_MAXINT64, 0, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
takes_recipe_init (TakesRecipe *self)
{
  self->prompt = g_strdup ("");
  self->negative_prompt = g_strdup ("");
  self->model = g_strdup (DEFAULT_MODEL);
  self->backend = g_strdup (DEFAULT_BACKEND);
  self->sampler = g_strdup (DEFAULT_SAMPLER);
  self->width = DEFAULT_WIDTH;
  self->height = DEFAULT_HEIGHT;
  self->frames = DEFAULT_FRAMES;
  self->fps = DEFAULT_FPS;
  self->steps = DEFAULT_STEPS;
  self->guidance = DEFAULT_GUIDANCE;
  self->shift = DEFAULT_SHIFT;
  self->seed = 0;
  self->options = json_object_new ();
  self->unknown = json_object_new ();
  self->format_version = TAKES_RECIPE_FORMAT_VERSION;
}

TakesRecipe *
takes_recipe_new (void)
{
  return g_object_new (TAKES_TYPE_RECIPE, NULL);
}

/* json_node_copy() shares the objects and arrays inside; a recipe owns its
 * options outright, so copies go all the way down. */
static JsonNode *
deep_copy_node (JsonNode *node)
{
  switch (json_node_get_node_type (node))
    {
      case JSON_NODE_OBJECT:
        {
          JsonObject *source = json_node_get_object (node);
          g_autoptr (JsonObject) object = json_object_new ();
          g_autoptr (GList) members = json_object_get_members (source);

          for (GList *l = members; l != NULL; l = l->next)
            json_object_set_member (object, l->data,
                                    deep_copy_node (json_object_get_member (source, l->data)));
          return json_node_init_object (json_node_alloc (), object);
        }
      case JSON_NODE_ARRAY:
        {
          JsonArray *source = json_node_get_array (node);
          g_autoptr (JsonArray) array = json_array_sized_new (json_array_get_length (source));

          for (guint i = 0; i < json_array_get_length (source); i++)
            json_array_add_element (array, deep_copy_node (json_array_get_element (source, i)));
          return json_node_init_array (json_node_alloc (), array);
        }
      case JSON_NODE_VALUE:
      case JSON_NODE_NULL:
      default:
        return json_node_copy (node);
    }
}

static JsonObject *
copy_object (JsonObject *object)
{
  g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), object);
  g_autoptr (JsonNode) copy = deep_copy_node (node);

  return json_node_dup_object (copy);
}

TakesRecipe *
takes_recipe_copy (TakesRecipe *self)
{
  TakesRecipe *copy;

  g_return_val_if_fail (TAKES_IS_RECIPE (self), NULL);

  copy = takes_recipe_new ();
  g_free (copy->prompt);
  copy->prompt = g_strdup (self->prompt);
  g_free (copy->negative_prompt);
  copy->negative_prompt = g_strdup (self->negative_prompt);
  g_free (copy->model);
  copy->model = g_strdup (self->model);
  g_free (copy->backend);
  copy->backend = g_strdup (self->backend);
  g_free (copy->sampler);
  copy->sampler = g_strdup (self->sampler);
  copy->width = self->width;
  copy->height = self->height;
  copy->frames = self->frames;
  copy->fps = self->fps;
  copy->steps = self->steps;
  copy->guidance = self->guidance;
  copy->shift = self->shift;
  copy->seed = self->seed;
  copy->has_guidance_pair = self->has_guidance_pair;
  copy->guidance_high = self->guidance_high;
  copy->guidance_low = self->guidance_low;
  copy->format_version = self->format_version;
  g_clear_pointer (&copy->options, json_object_unref);
  copy->options = copy_object (self->options);
  g_clear_pointer (&copy->unknown, json_object_unref);
  copy->unknown = copy_object (self->unknown);
  return copy;
}

/* Canonical JSON ------------------------------------------------------- */

static void
write_string (GString *out, const char *s)
{
  g_string_append_c (out, '"');
  for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++)
    {
      switch (*p)
        {
          case '"':
            g_string_append (out, "\\\"");
            break;
          case '\\':
            g_string_append (out, "\\\\");
            break;
          case '\b':
            g_string_append (out, "\\b");
            break;
          case '\f':
            g_string_append (out, "\\f");
            break;
          case '\n':
            g_string_append (out, "\\n");
            break;
          case '\r':
            g_string_append (out, "\\r");
            break;
          case '\t':
            g_string_append (out, "\\t");
            break;
          default:
            if (*p < 0x20)
              g_string_append_printf (out, "\\u%04x", *p);
            else
              g_string_append_c (out, (char)*p);
        }
    }
  g_string_append_c (out, '"');
}

/* 2^53: above it not every whole number is a double, so integers are only
 * folded below it. */
#define EXACT_INTEGER_LIMIT 9007199254740992.0

static void
write_double (GString *out, double d)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (d == 0.0 || !isfinite (d))
    {
      /* -0 and 0 mean the same; JSON has no NaN or infinity, and the parser
       * never produces them. */
      g_string_append_c (out, '0');
      return;
    }
  if (d == floor (d) && fabs (d) < EXACT_INTEGER_LIMIT)
    {
      g_string_append_printf (out, "%" PRId64, (gint64)d);
      return;
    }
  /* The shortest decimal that reads back as the same double. */
  for (int precision = 15; precision <= 17; precision++)
    {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%dg", precision);
      g_ascii_formatd (buf, sizeof buf, format, d);
      if (g_ascii_strtod (buf, NULL) == d)
        break;
    }
  g_string_append (out, buf);
}

static int
compare_keys (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

void
takes_json_write_canonical (GString *out, JsonNode *node)
{
  switch (json_node_get_node_type (node))
    {
      case JSON_NODE_NULL:
        g_string_append (out, "null");
        break;
      case JSON_NODE_VALUE:
        {
          GType type = json_node_get_value_type (node);

          if (type == G_TYPE_STRING)
            write_string (out, json_node_get_string (node));
          else if (type == G_TYPE_BOOLEAN)
            g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
          else if (type == G_TYPE_INT64)
            g_string_append_printf (out, "%" PRId64, json_node_get_int (node));
          else
            write_double (out, json_node_get_double (node));
        }
        break;
      case JSON_NODE_ARRAY:
        {
          JsonArray *array = json_node_get_array (node);
          guint n = json_array_get_length (array);

          g_string_append_c (out, '[');
          for (guint i = 0; i < n; i++)
            {
              if (i > 0)
                g_string_append_c (out, ',');
              takes_json_write_canonical (out, json_array_get_element (array, i));
            }
          g_string_append_c (out, ']');
        }
        break;
      case JSON_NODE_OBJECT:
        {
          JsonObject *object = json_node_get_object (node);
          g_autoptr (GList) members = json_object_get_members (object);
          g_autoptr (GPtrArray) keys = g_ptr_array_new ();

          for (GList *l = members; l != NULL; l = l->next)
            g_ptr_array_add (keys, l->data);
          g_ptr_array_sort (keys, compare_keys);

          g_string_append_c (out, '{');
          for (guint i = 0; i < keys->len; i++)
            {
              const char *key = g_ptr_array_index (keys, i);

              if (i > 0)
                g_string_append_c (out, ',');
              write_string (out, key);
              g_string_append_c (out, ':');
              takes_json_write_canonical (out, json_object_get_member (object, key));
            }
          g_string_append_c (out, '}');
        }
        break;
      default:
        g_assert_not_reached ();
    }
}

JsonObject *
takes_recipe_to_object (TakesRecipe *self)
{
  JsonObject *object;
  g_autoptr (GList) unknown_members = NULL;

  g_return_val_if_fail (TAKES_IS_RECIPE (self), NULL);

  object = json_object_new ();
  unknown_members = json_object_get_members (self->unknown);
  for (GList *l = unknown_members; l != NULL; l = l->next)
    json_object_set_member (object, l->data,
                            deep_copy_node (json_object_get_member (self->unknown, l->data)));

  json_object_set_string_member (object, "backend", self->backend);
  json_object_set_int_member (object, "fps", self->fps);
  json_object_set_int_member (object, "frames", self->frames);
  json_object_set_double_member (object, "guidance", self->guidance);
  if (self->has_guidance_pair)
    {
      json_object_set_double_member (object, "guidance_high", self->guidance_high);
      json_object_set_double_member (object, "guidance_low", self->guidance_low);
    }
  json_object_set_int_member (object, "height", self->height);
  json_object_set_string_member (object, "model", self->model);
  json_object_set_string_member (object, "negative_prompt", self->negative_prompt);
  json_object_set_object_member (object, "options", copy_object (self->options));
  json_object_set_string_member (object, "prompt", self->prompt);
  json_object_set_string_member (object, "sampler", self->sampler);
  json_object_set_int_member (object, "seed", self->seed);
  json_object_set_double_member (object, "shift", self->shift);
  json_object_set_int_member (object, "steps", self->steps);
  json_object_set_int_member (object, "version", MAX (self->format_version, TAKES_RECIPE_FORMAT_VERSION));
  json_object_set_int_member (object, "width", self->width);
  return object;
}

char *
takes_recipe_to_json (TakesRecipe *self)
{
  g_autoptr (JsonObject) object = NULL;
  g_autoptr (JsonNode) node = NULL;
  GString *out = g_string_new (NULL);

  g_return_val_if_fail (TAKES_IS_RECIPE (self), NULL);

  object = takes_recipe_to_object (self);
  node = json_node_init_object (json_node_alloc (), object);
  takes_json_write_canonical (out, node);
  return g_string_free (out, FALSE);
}

char *
takes_recipe_get_cache_key (TakesRecipe *self)
{
  g_autofree char *json = NULL;

  g_return_val_if_fail (TAKES_IS_RECIPE (self), NULL);

  json = takes_recipe_to_json (self);
  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, json, -1);
}

gboolean
takes_recipe_equal (TakesRecipe *a, TakesRecipe *b)
{
  g_autofree char *ja = NULL;
  g_autofree char *jb = NULL;

  g_return_val_if_fail (TAKES_IS_RECIPE (a), FALSE);
  g_return_val_if_fail (TAKES_IS_RECIPE (b), FALSE);

  ja = takes_recipe_to_json (a);
  jb = takes_recipe_to_json (b);
  return g_str_equal (ja, jb);
}

/* Reading --------------------------------------------------------------- */

static gboolean
read_string (JsonNode *node, const char *key, char **out, GError **error)
{
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_WRONG_TYPE,
                   _ ("The recipe field “%s” must be text; fix it in the recipe and try again."), key);
      return FALSE;
    }
  g_free (*out);
  *out = g_strdup (json_node_get_string (node));
  return TRUE;
}

static gboolean
read_number (JsonNode *node, const char *key, double *out, GError **error)
{
  GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;

  if (type == G_TYPE_INT64)
    *out = (double)json_node_get_int (node);
  else if (type == G_TYPE_DOUBLE)
    *out = json_node_get_double (node);
  else
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_WRONG_TYPE,
                   _ ("The recipe field “%s” must be a number; fix it in the recipe and try again."), key);
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_integer (JsonNode *node, const char *key, gint64 min, gint64 max, gint64 *out, GError **error)
{
  GType type = JSON_NODE_HOLDS_VALUE (node) ? json_node_get_value_type (node) : G_TYPE_INVALID;
  gint64 value;

  if (type == G_TYPE_INT64)
    value = json_node_get_int (node);
  else if (type == G_TYPE_DOUBLE && json_node_get_double (node) == floor (json_node_get_double (node))
           && fabs (json_node_get_double (node)) < EXACT_INTEGER_LIMIT)
    value = (gint64)json_node_get_double (node);
  else
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_WRONG_TYPE,
                   _ ("The recipe field “%s” must be a whole number; fix it in the recipe and try again."),
                   key);
      return FALSE;
    }
  if (value < min || value > max)
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The recipe field “%s” is %" PRId64
                      ", which is out of range; use a value from "
                      "%" PRId64 " to %" PRId64 "."),
                   key, value, min, max);
      return FALSE;
    }
  *out = value;
  return TRUE;
}

static gboolean
read_uint (JsonNode *node, const char *key, guint *out, GError **error)
{
  gint64 value;

  if (!read_integer (node, key, 0, G_MAXUINT, &value, error))
    return FALSE;
  *out = (guint)value;
  return TRUE;
}

TakesRecipe *
takes_recipe_new_from_object (JsonObject *object, GError **error)
{
  g_autoptr (TakesRecipe) self = takes_recipe_new ();
  g_autoptr (GList) members = NULL;
  gboolean has_high = FALSE;
  gboolean has_low = FALSE;

  g_return_val_if_fail (object != NULL, NULL);

  members = json_object_get_members (object);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *key = l->data;
      JsonNode *node = json_object_get_member (object, key);
      gboolean ok = TRUE;

      if (g_str_equal (key, "prompt"))
        ok = read_string (node, key, &self->prompt, error);
      else if (g_str_equal (key, "negative_prompt"))
        ok = read_string (node, key, &self->negative_prompt, error);
      else if (g_str_equal (key, "model"))
        ok = read_string (node, key, &self->model, error);
      else if (g_str_equal (key, "backend"))
        ok = read_string (node, key, &self->backend, error);
      else if (g_str_equal (key, "sampler"))
        ok = read_string (node, key, &self->sampler, error);
      else if (g_str_equal (key, "width"))
        ok = read_uint (node, key, &self->width, error);
      else if (g_str_equal (key, "height"))
        ok = read_uint (node, key, &self->height, error);
      else if (g_str_equal (key, "frames"))
        ok = read_uint (node, key, &self->frames, error);
      else if (g_str_equal (key, "fps"))
        ok = read_uint (node, key, &self->fps, error);
      else if (g_str_equal (key, "steps"))
        ok = read_uint (node, key, &self->steps, error);
      else if (g_str_equal (key, "seed"))
        ok = read_integer (node, key, 0, TAKES_RECIPE_MAX_SEED, &self->seed, error);
      else if (g_str_equal (key, "version"))
        ok = read_integer (node, key, 1, G_MAXINT32, &self->format_version, error);
      else if (g_str_equal (key, "guidance"))
        ok = read_number (node, key, &self->guidance, error);
      else if (g_str_equal (key, "guidance_high"))
        ok = has_high = read_number (node, key, &self->guidance_high, error);
      else if (g_str_equal (key, "guidance_low"))
        ok = has_low = read_number (node, key, &self->guidance_low, error);
      else if (g_str_equal (key, "shift"))
        ok = read_number (node, key, &self->shift, error);
      else if (g_str_equal (key, "options"))
        {
          if (!JSON_NODE_HOLDS_OBJECT (node))
            {
              g_set_error (
                  error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_WRONG_TYPE,
                  _ ("The recipe field “options” must be an object of backend options; fix it in the "
                     "recipe and try again."));
              ok = FALSE;
            }
          else
            {
              g_clear_pointer (&self->options, json_object_unref);
              self->options = copy_object (json_node_get_object (node));
            }
        }
      else
        json_object_set_member (self->unknown, key, deep_copy_node (node));

      if (!ok)
        return NULL;
    }

  if (has_high != has_low)
    {
      g_set_error (
          error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_MISSING,
          _ ("The recipe gives only one of “guidance_high” and “guidance_low”; two-expert models need "
             "both, so add the other or remove this one."));
      return NULL;
    }
  self->has_guidance_pair = has_high;
  return g_steal_pointer (&self);
}

TakesRecipe *
takes_recipe_new_from_json (const char *json, gssize length, GError **error)
{
  g_autoptr (JsonParser) parser = NULL;
  g_autoptr (GError) local_error = NULL;
  gsize len;
  JsonNode *root;

  g_return_val_if_fail (json != NULL, NULL);

  len = length < 0 ? strlen (json) : (gsize)length;
  if (len > TAKES_RECIPE_MAX_JSON_BYTES)
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_MALFORMED,
                   _ ("The recipe is %zu bytes long, more than the %d bytes a recipe may have; "
                      "check that this is the right file."),
                   len, TAKES_RECIPE_MAX_JSON_BYTES);
      return NULL;
    }
  if (!g_utf8_validate_len (json, len, NULL))
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_MALFORMED,
                   _ ("The recipe is not valid UTF-8 text; save it as UTF-8 and try again."));
      return NULL;
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, json, (gssize)len, &local_error))
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_MALFORMED,
                   _ ("The recipe is not valid JSON (%s); fix the text and try again."),
                   local_error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_MALFORMED,
                   _ ("The recipe must be a JSON object such as {\"prompt\": \"…\"}; fix the text and try "
                      "again."));
      return NULL;
    }
  return takes_recipe_new_from_object (json_node_get_object (root), error);
}

/* Validation ------------------------------------------------------------ */

static gboolean
is_blank (const char *value)
{
  for (const char *p = value; *p != '\0'; p = g_utf8_next_char (p))
    if (!g_unichar_isspace (g_utf8_get_char (p)))
      return FALSE;
  return TRUE;
}

/* Ids of models, backends and samplers go into file names, URLs and logs,
 * so they are limited to a safe ASCII set. */
static gboolean
check_id (const char *value, const char *key, GError **error)
{
  gsize len = strlen (value);

  if (len == 0)
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_MISSING,
                   _ ("The recipe has no “%s”; choose one and try again."), key);
      return FALSE;
    }
  if (len > 128)
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The recipe’s “%s” is longer than 128 characters; use a shorter id."), key);
      return FALSE;
    }
  for (const char *p = value; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && strchr ("._:+-/@", *p) == NULL)
      {
        g_set_error (
            error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
            _ ("The recipe’s “%s” (%s) may only contain letters, digits and . _ : + - / @; fix the id."), key,
            value);
        return FALSE;
      }
  return TRUE;
}

static gboolean
in_range (double value, double min, double max)
{
  return isfinite (value) && value >= min && value <= max;
}

gboolean
takes_recipe_validate (TakesRecipe *self, GError **error)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), FALSE);

  if (is_blank (self->prompt))
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_MISSING,
                   _ ("The prompt is empty; describe the video you want."));
      return FALSE;
    }
  if (g_utf8_strlen (self->prompt, -1) > TAKES_RECIPE_MAX_PROMPT)
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The prompt has %ld characters; shorten it to at most %d."),
                   g_utf8_strlen (self->prompt, -1), TAKES_RECIPE_MAX_PROMPT);
      return FALSE;
    }
  if (g_utf8_strlen (self->negative_prompt, -1) > TAKES_RECIPE_MAX_PROMPT)
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The negative prompt has %ld characters; shorten it to at most %d."),
                   g_utf8_strlen (self->negative_prompt, -1), TAKES_RECIPE_MAX_PROMPT);
      return FALSE;
    }
  if (!check_id (self->model, "model", error) || !check_id (self->backend, "backend", error)
      || !check_id (self->sampler, "sampler", error))
    return FALSE;
  if (self->width < TAKES_RECIPE_MIN_SIZE || self->width > TAKES_RECIPE_MAX_SIZE)
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The width %u pixels is out of range; use %d to %d pixels."), self->width,
                   TAKES_RECIPE_MIN_SIZE, TAKES_RECIPE_MAX_SIZE);
      return FALSE;
    }
  if (self->width % TAKES_RECIPE_SIZE_STEP != 0)
    {
      guint below = self->width - self->width % TAKES_RECIPE_SIZE_STEP;

      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The width %u pixels is not a multiple of %d; use %u or %u."), self->width,
                   TAKES_RECIPE_SIZE_STEP, below, below + TAKES_RECIPE_SIZE_STEP);
      return FALSE;
    }
  if (self->height < TAKES_RECIPE_MIN_SIZE || self->height > TAKES_RECIPE_MAX_SIZE)
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The height %u pixels is out of range; use %d to %d pixels."), self->height,
                   TAKES_RECIPE_MIN_SIZE, TAKES_RECIPE_MAX_SIZE);
      return FALSE;
    }
  if (self->height % TAKES_RECIPE_SIZE_STEP != 0)
    {
      guint below = self->height - self->height % TAKES_RECIPE_SIZE_STEP;

      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The height %u pixels is not a multiple of %d; use %u or %u."), self->height,
                   TAKES_RECIPE_SIZE_STEP, below, below + TAKES_RECIPE_SIZE_STEP);
      return FALSE;
    }
  if (self->frames < 1 || self->frames > TAKES_RECIPE_MAX_FRAMES)
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The frame count %u is out of range; use 1 to %d frames."), self->frames,
                   TAKES_RECIPE_MAX_FRAMES);
      return FALSE;
    }
  if (self->frames % 4 != 1)
    {
      guint below = self->frames - (self->frames + 3) % 4;

      /* The video VAE turns each latent frame into four, plus the first. */
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The frame count %u is not one more than a multiple of 4 (4n+1); use %u or %u."),
                   self->frames, below, below + 4);
      return FALSE;
    }
  if (self->fps < 1 || self->fps > TAKES_RECIPE_MAX_FPS)
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The frame rate %u fps is out of range; use 1 to %d frames per second."), self->fps,
                   TAKES_RECIPE_MAX_FPS);
      return FALSE;
    }
  if (self->steps < 1 || self->steps > TAKES_RECIPE_MAX_STEPS)
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The step count %u is out of range; use 1 to %d steps."), self->steps,
                   TAKES_RECIPE_MAX_STEPS);
      return FALSE;
    }
  if (!in_range (self->guidance, 0.0, TAKES_RECIPE_MAX_GUIDANCE))
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The guidance %g is out of range; use 0 to %g."), self->guidance,
                   TAKES_RECIPE_MAX_GUIDANCE);
      return FALSE;
    }
  if (self->has_guidance_pair && !in_range (self->guidance_high, 0.0, TAKES_RECIPE_MAX_GUIDANCE))
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The high-noise guidance %g is out of range; use 0 to %g."), self->guidance_high,
                   TAKES_RECIPE_MAX_GUIDANCE);
      return FALSE;
    }
  if (self->has_guidance_pair && !in_range (self->guidance_low, 0.0, TAKES_RECIPE_MAX_GUIDANCE))
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The low-noise guidance %g is out of range; use 0 to %g."), self->guidance_low,
                   TAKES_RECIPE_MAX_GUIDANCE);
      return FALSE;
    }
  if (!in_range (self->shift, 0.0, TAKES_RECIPE_MAX_SHIFT) || self->shift == 0.0)
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The shift %g is out of range; use more than 0 and at most %g."), self->shift,
                   TAKES_RECIPE_MAX_SHIFT);
      return FALSE;
    }
  if (self->seed < 0 || self->seed > TAKES_RECIPE_MAX_SEED)
    {
      g_set_error (error, TAKES_RECIPE_ERROR, TAKES_RECIPE_ERROR_INVALID_VALUE,
                   _ ("The seed %" PRId64 " is out of range; use 0 to %" PRId64 "."),
                   self->seed, TAKES_RECIPE_MAX_SEED);
      return FALSE;
    }
  return TRUE;
}

/* Accessors ------------------------------------------------------------- */

static void
set_string (TakesRecipe *self, char **field, const char *value, int prop)
{
  if (value == NULL)
    value = "";
  if (g_strcmp0 (*field, value) == 0)
    return;
  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

static void
set_uint (TakesRecipe *self, guint *field, guint value, int prop)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

const char *
takes_recipe_get_prompt (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), NULL);
  return self->prompt;
}

void
takes_recipe_set_prompt (TakesRecipe *self, const char *prompt)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  set_string (self, &self->prompt, prompt, PROP_PROMPT);
}

const char *
takes_recipe_get_negative_prompt (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), NULL);
  return self->negative_prompt;
}

void
takes_recipe_set_negative_prompt (TakesRecipe *self, const char *negative_prompt)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  set_string (self, &self->negative_prompt, negative_prompt, PROP_NEGATIVE_PROMPT);
}

const char *
takes_recipe_get_model (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), NULL);
  return self->model;
}

void
takes_recipe_set_model (TakesRecipe *self, const char *model)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  set_string (self, &self->model, model, PROP_MODEL);
}

const char *
takes_recipe_get_backend (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), NULL);
  return self->backend;
}

void
takes_recipe_set_backend (TakesRecipe *self, const char *backend)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  set_string (self, &self->backend, backend, PROP_BACKEND);
}

guint
takes_recipe_get_width (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), 0);
  return self->width;
}

void
takes_recipe_set_width (TakesRecipe *self, guint width)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  set_uint (self, &self->width, width, PROP_WIDTH);
}

guint
takes_recipe_get_height (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), 0);
  return self->height;
}

void
takes_recipe_set_height (TakesRecipe *self, guint height)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  set_uint (self, &self->height, height, PROP_HEIGHT);
}

guint
takes_recipe_get_frames (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), 0);
  return self->frames;
}

void
takes_recipe_set_frames (TakesRecipe *self, guint frames)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  set_uint (self, &self->frames, frames, PROP_FRAMES);
}

guint
takes_recipe_get_fps (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), 0);
  return self->fps;
}

void
takes_recipe_set_fps (TakesRecipe *self, guint fps)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  set_uint (self, &self->fps, fps, PROP_FPS);
}

guint
takes_recipe_get_steps (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), 0);
  return self->steps;
}

void
takes_recipe_set_steps (TakesRecipe *self, guint steps)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  set_uint (self, &self->steps, steps, PROP_STEPS);
}

double
takes_recipe_get_guidance (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), 0.0);
  return self->guidance;
}

void
takes_recipe_set_guidance (TakesRecipe *self, double guidance)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  if (self->guidance == guidance)
    return;
  self->guidance = guidance;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GUIDANCE]);
}

double
takes_recipe_get_shift (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), 0.0);
  return self->shift;
}

void
takes_recipe_set_shift (TakesRecipe *self, double shift)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  if (self->shift == shift)
    return;
  self->shift = shift;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHIFT]);
}

const char *
takes_recipe_get_sampler (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), NULL);
  return self->sampler;
}

void
takes_recipe_set_sampler (TakesRecipe *self, const char *sampler)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  set_string (self, &self->sampler, sampler, PROP_SAMPLER);
}

gint64
takes_recipe_get_seed (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), 0);
  return self->seed;
}

void
takes_recipe_set_seed (TakesRecipe *self, gint64 seed)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  if (self->seed == seed)
    return;
  self->seed = seed;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SEED]);
}

void
takes_recipe_randomize_seed (TakesRecipe *self)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  takes_recipe_set_seed (self, (gint64)(g_random_int () & 0x7fffffffu));
}

gboolean
takes_recipe_has_guidance_pair (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), FALSE);
  return self->has_guidance_pair;
}

void
takes_recipe_set_guidance_pair (TakesRecipe *self, double high, double low)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  self->has_guidance_pair = TRUE;
  self->guidance_high = high;
  self->guidance_low = low;
}

void
takes_recipe_clear_guidance_pair (TakesRecipe *self)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  self->has_guidance_pair = FALSE;
  self->guidance_high = 0.0;
  self->guidance_low = 0.0;
}

double
takes_recipe_get_guidance_high (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), 0.0);
  return self->has_guidance_pair ? self->guidance_high : self->guidance;
}

double
takes_recipe_get_guidance_low (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), 0.0);
  return self->has_guidance_pair ? self->guidance_low : self->guidance;
}

JsonObject *
takes_recipe_get_options (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), NULL);
  return self->options;
}

void
takes_recipe_set_option (TakesRecipe *self, const char *name, JsonNode *value)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  g_return_if_fail (name != NULL);
  g_return_if_fail (value != NULL);
  json_object_set_member (self->options, name, deep_copy_node (value));
}

void
takes_recipe_remove_option (TakesRecipe *self, const char *name)
{
  g_return_if_fail (TAKES_IS_RECIPE (self));
  g_return_if_fail (name != NULL);
  if (json_object_has_member (self->options, name))
    json_object_remove_member (self->options, name);
}

JsonObject *
takes_recipe_get_unknown_fields (TakesRecipe *self)
{
  g_return_val_if_fail (TAKES_IS_RECIPE (self), NULL);
  return self->unknown;
}
