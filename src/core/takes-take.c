/* takes-take.c: a snapshot of one take row, with read-only properties the
 * gallery binds to. */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "takes-store-private.h"
#include "takes-take.h"

struct _TakesTake
{
  GObject parent_instance;

  gint64 id;
  gint64 project_id;
  gint64 shot_id;
  gint64 batch_id;
  gint64 parent_id;

  char *recipe_json;
  TakesRecipe *recipe; /* parsed on first use */
  gboolean recipe_unreadable;
  char *cache_key;
  char *backend;
  char *model;

  TakesTakeStatus status;
  char *media_path;
  guint width;
  guint height;
  guint frames;
  double fps;
  gint64 duration;
  double seconds_spent;
  double cost;
  guint rating;
  TakesDecision decision;
  char *notes;
  char *prompt;
  char *optimized_prompt;
  char *negative_prompt;
  JsonObject *variables;
  gboolean is_tiny;
  gint64 created;
  gint64 updated;
  GStrv tags;
};

G_DEFINE_FINAL_TYPE (TakesTake, takes_take, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_ID,
  PROP_PROJECT_ID,
  PROP_SHOT_ID,
  PROP_BATCH_ID,
  PROP_PARENT_ID,
  PROP_CACHE_KEY,
  PROP_BACKEND,
  PROP_MODEL,
  PROP_STATUS,
  PROP_MEDIA_PATH,
  PROP_WIDTH,
  PROP_HEIGHT,
  PROP_FRAMES,
  PROP_FPS,
  PROP_DURATION,
  PROP_SECONDS_SPENT,
  PROP_COST,
  PROP_RATING,
  PROP_DECISION,
  PROP_NOTES,
  PROP_PROMPT,
  PROP_OPTIMIZED_PROMPT,
  PROP_IS_TINY,
  PROP_CREATED,
  PROP_UPDATED,
  PROP_TAGS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Enums ------------------------------------------------------------------ */

G_DEFINE_ENUM_TYPE (TakesTakeStatus,
                    takes_take_status,
                    G_DEFINE_ENUM_VALUE (TAKES_TAKE_STATUS_QUEUED, "queued"),
                    G_DEFINE_ENUM_VALUE (TAKES_TAKE_STATUS_RUNNING, "running"),
                    G_DEFINE_ENUM_VALUE (TAKES_TAKE_STATUS_DONE, "done"),
                    G_DEFINE_ENUM_VALUE (TAKES_TAKE_STATUS_FAILED, "failed"),
                    G_DEFINE_ENUM_VALUE (TAKES_TAKE_STATUS_CANCELLED, "cancelled"))

G_DEFINE_ENUM_TYPE (TakesDecision,
                    takes_decision,
                    G_DEFINE_ENUM_VALUE (TAKES_DECISION_NONE, "none"),
                    G_DEFINE_ENUM_VALUE (TAKES_DECISION_APPROVED, "approved"),
                    G_DEFINE_ENUM_VALUE (TAKES_DECISION_REJECTED, "rejected"))

G_DEFINE_ENUM_TYPE (TakesTakeSort,
                    takes_take_sort,
                    G_DEFINE_ENUM_VALUE (TAKES_TAKE_SORT_CREATED, "created"),
                    G_DEFINE_ENUM_VALUE (TAKES_TAKE_SORT_UPDATED, "updated"),
                    G_DEFINE_ENUM_VALUE (TAKES_TAKE_SORT_RATING, "rating"),
                    G_DEFINE_ENUM_VALUE (TAKES_TAKE_SORT_DURATION, "duration"))

static const char *
enum_to_string (GType type, int value)
{
  GEnumClass *klass = g_type_class_ref (type);
  GEnumValue *v = g_enum_get_value (klass, value);
  const char *nick = v != NULL ? v->value_nick : NULL;

  /* Enum classes stay alive once referenced, so the nick outlives this ref. */
  g_type_class_unref (klass);
  return nick;
}

static gboolean
enum_from_string (GType type, const char *name, int *value)
{
  GEnumClass *klass;
  GEnumValue *v;

  if (name == NULL)
    return FALSE;
  klass = g_type_class_ref (type);
  v = g_enum_get_value_by_nick (klass, name);
  if (v != NULL)
    *value = v->value;
  g_type_class_unref (klass);
  return v != NULL;
}

const char *
takes_take_status_to_string (TakesTakeStatus status)
{
  return enum_to_string (TAKES_TYPE_TAKE_STATUS, status);
}

gboolean
takes_take_status_from_string (const char *name, TakesTakeStatus *status)
{
  int value;

  if (!enum_from_string (TAKES_TYPE_TAKE_STATUS, name, &value))
    return FALSE;
  *status = value;
  return TRUE;
}

const char *
takes_take_status_get_label (TakesTakeStatus status)
{
  switch (status)
    {
      case TAKES_TAKE_STATUS_QUEUED:
        return _ ("Queued");
      case TAKES_TAKE_STATUS_RUNNING:
        return _ ("Running");
      case TAKES_TAKE_STATUS_DONE:
        return _ ("Done");
      case TAKES_TAKE_STATUS_FAILED:
        return _ ("Failed");
      case TAKES_TAKE_STATUS_CANCELLED:
        return _ ("Cancelled");
      default:
        g_return_val_if_reached (NULL);
    }
}

const char *
takes_decision_to_string (TakesDecision decision)
{
  return enum_to_string (TAKES_TYPE_DECISION, decision);
}

gboolean
takes_decision_from_string (const char *name, TakesDecision *decision)
{
  int value;

  if (!enum_from_string (TAKES_TYPE_DECISION, name, &value))
    return FALSE;
  *decision = value;
  return TRUE;
}

const char *
takes_decision_get_label (TakesDecision decision)
{
  switch (decision)
    {
      case TAKES_DECISION_NONE:
        return _ ("Undecided");
      case TAKES_DECISION_APPROVED:
        return _ ("Approved");
      case TAKES_DECISION_REJECTED:
        return _ ("Rejected");
      default:
        g_return_val_if_reached (NULL);
    }
}

const char *
takes_take_sort_to_string (TakesTakeSort sort)
{
  return enum_to_string (TAKES_TYPE_TAKE_SORT, sort);
}

gboolean
takes_take_sort_from_string (const char *name, TakesTakeSort *sort)
{
  int value;

  if (!enum_from_string (TAKES_TYPE_TAKE_SORT, name, &value))
    return FALSE;
  *sort = value;
  return TRUE;
}

void
takes_take_query_init (TakesTakeQuery *query)
{
  g_return_if_fail (query != NULL);
  memset (query, 0, sizeof *query);
  query->sort = TAKES_TAKE_SORT_CREATED;
}

/* Object ----------------------------------------------------------------- */

static void
takes_take_finalize (GObject *object)
{
  TakesTake *self = TAKES_TAKE (object);

  g_clear_pointer (&self->recipe_json, g_free);
  g_clear_object (&self->recipe);
  g_clear_pointer (&self->cache_key, g_free);
  g_clear_pointer (&self->backend, g_free);
  g_clear_pointer (&self->model, g_free);
  g_clear_pointer (&self->media_path, g_free);
  g_clear_pointer (&self->notes, g_free);
  g_clear_pointer (&self->prompt, g_free);
  g_clear_pointer (&self->optimized_prompt, g_free);
  g_clear_pointer (&self->negative_prompt, g_free);
  g_clear_pointer (&self->variables, json_object_unref);
  g_clear_pointer (&self->tags, g_strfreev);

  G_OBJECT_CLASS (takes_take_parent_class)->finalize (object);
}

static void
takes_take_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesTake *self = TAKES_TAKE (object);

  switch (prop_id)
    {
      case PROP_ID:
        g_value_set_int64 (value, self->id);
        break;
      case PROP_PROJECT_ID:
        g_value_set_int64 (value, self->project_id);
        break;
      case PROP_SHOT_ID:
        g_value_set_int64 (value, self->shot_id);
        break;
      case PROP_BATCH_ID:
        g_value_set_int64 (value, self->batch_id);
        break;
      case PROP_PARENT_ID:
        g_value_set_int64 (value, self->parent_id);
        break;
      case PROP_CACHE_KEY:
        g_value_set_string (value, self->cache_key);
        break;
      case PROP_BACKEND:
        g_value_set_string (value, self->backend);
        break;
      case PROP_MODEL:
        g_value_set_string (value, self->model);
        break;
      case PROP_STATUS:
        g_value_set_enum (value, self->status);
        break;
      case PROP_MEDIA_PATH:
        g_value_set_string (value, self->media_path);
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
        g_value_set_double (value, self->fps);
        break;
      case PROP_DURATION:
        g_value_set_int64 (value, self->duration);
        break;
      case PROP_SECONDS_SPENT:
        g_value_set_double (value, self->seconds_spent);
        break;
      case PROP_COST:
        g_value_set_double (value, self->cost);
        break;
      case PROP_RATING:
        g_value_set_uint (value, self->rating);
        break;
      case PROP_DECISION:
        g_value_set_enum (value, self->decision);
        break;
      case PROP_NOTES:
        g_value_set_string (value, self->notes);
        break;
      case PROP_PROMPT:
        g_value_set_string (value, self->prompt);
        break;
      case PROP_OPTIMIZED_PROMPT:
        g_value_set_string (value, self->optimized_prompt);
        break;
      case PROP_IS_TINY:
        g_value_set_boolean (value, self->is_tiny);
        break;
      case PROP_CREATED:
        g_value_set_int64 (value, self->created);
        break;
      case PROP_UPDATED:
        g_value_set_int64 (value, self->updated);
        break;
      case PROP_TAGS:
        g_value_set_boxed (value, self->tags);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_take_class_init (TakesTakeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  const GParamFlags flags = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->finalize = takes_take_finalize;
  object_class->get_property = takes_take_get_property;

  properties[PROP_ID] = g_param_spec_int64 ("id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_PROJECT_ID] = g_param_spec_int64 ("project-id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_SHOT_ID] = g_param_spec_int64 ("shot-id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_BATCH_ID] = g_param_spec_int64 ("batch-id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_PARENT_ID] = g_param_spec_int64 ("parent-id", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_CACHE_KEY] = g_param_spec_string ("cache-key", NULL, NULL, NULL, flags);
  properties[PROP_BACKEND] = g_param_spec_string ("backend", NULL, NULL, NULL, flags);
  properties[PROP_MODEL] = g_param_spec_string ("model", NULL, NULL, NULL, flags);
  properties[PROP_STATUS]
      = g_param_spec_enum ("status", NULL, NULL, TAKES_TYPE_TAKE_STATUS, TAKES_TAKE_STATUS_QUEUED, flags);
  properties[PROP_MEDIA_PATH] = g_param_spec_string ("media-path", NULL, NULL, NULL, flags);
  properties[PROP_WIDTH] = g_param_spec_uint ("width", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_HEIGHT] = g_param_spec_uint ("height", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_FRAMES] = g_param_spec_uint ("frames", NULL, NULL, 0, G_MAXUINT, 0, flags);
  properties[PROP_FPS] = g_param_spec_double ("fps", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, flags);
  properties[PROP_DURATION] = g_param_spec_int64 ("duration", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_SECONDS_SPENT]
      = g_param_spec_double ("seconds-spent", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, flags);
  properties[PROP_COST] = g_param_spec_double ("cost", NULL, NULL, 0.0, G_MAXDOUBLE, 0.0, flags);
  properties[PROP_RATING] = g_param_spec_uint ("rating", NULL, NULL, 0, TAKES_MAX_RATING, 0, flags);
  properties[PROP_DECISION]
      = g_param_spec_enum ("decision", NULL, NULL, TAKES_TYPE_DECISION, TAKES_DECISION_NONE, flags);
  properties[PROP_NOTES] = g_param_spec_string ("notes", NULL, NULL, "", flags);
  properties[PROP_PROMPT] = g_param_spec_string ("prompt", NULL, NULL, "", flags);
  properties[PROP_OPTIMIZED_PROMPT] = g_param_spec_string ("optimized-prompt", NULL, NULL, NULL, flags);
  properties[PROP_IS_TINY] = g_param_spec_boolean ("is-tiny", NULL, NULL, FALSE, flags);
  properties[PROP_CREATED] = g_param_spec_int64 ("created", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_UPDATED] = g_param_spec_int64 ("updated", NULL, NULL, 0, G_MAXINT64, 0, flags);
  properties[PROP_TAGS] = g_param_spec_boxed ("tags", NULL, NULL, G_TYPE_STRV, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
takes_take_init (TakesTake *self)
{
  self->status = TAKES_TAKE_STATUS_QUEUED;
  self->decision = TAKES_DECISION_NONE;
  self->notes = g_strdup ("");
  self->prompt = g_strdup ("");
  self->negative_prompt = g_strdup ("");
  self->backend = g_strdup ("");
  self->model = g_strdup ("");
  self->recipe_json = g_strdup ("{}");
  self->cache_key = g_strdup ("");
  self->tags = g_new0 (char *, 1);
}

TakesTake *
takes_take_new (TakesRecipe *recipe)
{
  TakesTake *self;

  g_return_val_if_fail (TAKES_IS_RECIPE (recipe), NULL);

  self = g_object_new (TAKES_TYPE_TAKE, NULL);
  takes_take_set_recipe (self, recipe);
  g_free (self->prompt);
  self->prompt = g_strdup (takes_recipe_get_prompt (recipe));
  self->width = takes_recipe_get_width (recipe);
  self->height = takes_recipe_get_height (recipe);
  self->frames = takes_recipe_get_frames (recipe);
  self->fps = takes_recipe_get_fps (recipe);
  if (self->fps > 0)
    self->duration = (gint64)(self->frames * (double)G_USEC_PER_SEC / self->fps);
  return self;
}

static JsonObject *
parse_object (const char *json)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;

  if (json == NULL || !json_parser_load_from_data (parser, json, -1, NULL))
    return NULL;
  root = json_parser_get_root (parser);
  return root != NULL && JSON_NODE_HOLDS_OBJECT (root) ? json_node_dup_object (root) : NULL;
}

static int
compare_tags (const void *a, const void *b)
{
  return g_strcmp0 (*(char *const *)a, *(char *const *)b);
}

TakesTake *
takes_take_new_from_row (const TakesTakeRow *row)
{
  TakesTake *self = g_object_new (TAKES_TYPE_TAKE, NULL);

  self->id = row->id;
  self->project_id = row->project_id;
  self->shot_id = row->shot_id;
  self->batch_id = row->batch_id;
  self->parent_id = row->parent_id;
  g_free (self->recipe_json);
  self->recipe_json = g_strdup (row->recipe_json ? row->recipe_json : "{}");
  g_free (self->cache_key);
  self->cache_key = g_strdup (row->cache_key ? row->cache_key : "");
  g_free (self->backend);
  self->backend = g_strdup (row->backend ? row->backend : "");
  g_free (self->model);
  self->model = g_strdup (row->model ? row->model : "");
  self->status = row->status;
  self->media_path = g_strdup (row->media_path);
  self->width = row->width;
  self->height = row->height;
  self->frames = row->frames;
  self->fps = row->fps;
  self->duration = row->duration;
  self->seconds_spent = row->seconds_spent;
  self->cost = row->cost;
  self->rating = row->rating;
  self->decision = row->decision;
  g_free (self->notes);
  self->notes = g_strdup (row->notes ? row->notes : "");
  g_free (self->prompt);
  self->prompt = g_strdup (row->prompt ? row->prompt : "");
  self->optimized_prompt = g_strdup (row->optimized_prompt);
  g_free (self->negative_prompt);
  self->negative_prompt = g_strdup (row->negative_prompt ? row->negative_prompt : "");
  self->variables = parse_object (row->variables_json);
  self->is_tiny = row->is_tiny;
  self->created = row->created;
  self->updated = row->updated;
  if (row->tags != NULL && row->tags[0] != '\0')
    {
      g_strfreev (self->tags);
      self->tags = g_strsplit (row->tags, TAKES_TAG_SEPARATOR, -1);
      qsort (self->tags, g_strv_length (self->tags), sizeof (char *), compare_tags);
    }
  return self;
}

void
takes_take_set_stored (
    TakesTake *self, gint64 id, gint64 project_id, const char *media_path, gint64 created, gint64 updated)
{
  g_return_if_fail (TAKES_IS_TAKE (self));

  g_object_freeze_notify (G_OBJECT (self));
  if (self->id != id)
    {
      self->id = id;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ID]);
    }
  if (self->project_id != project_id)
    {
      self->project_id = project_id;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROJECT_ID]);
    }
  if (g_strcmp0 (self->media_path, media_path) != 0)
    {
      g_free (self->media_path);
      self->media_path = g_strdup (media_path);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MEDIA_PATH]);
    }
  if (self->created != created)
    {
      self->created = created;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CREATED]);
    }
  if (self->updated != updated)
    {
      self->updated = updated;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UPDATED]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

char *
takes_take_dup_variables_json (TakesTake *self)
{
  g_autoptr (JsonNode) node = NULL;
  GString *out;

  if (self->variables == NULL)
    return NULL;
  node = json_node_init_object (json_node_alloc (), self->variables);
  out = g_string_new (NULL);
  takes_json_write_canonical (out, node);
  return g_string_free (out, FALSE);
}

/* Accessors -------------------------------------------------------------- */

static void
set_id_field (TakesTake *self, gint64 *field, gint64 value, int prop)
{
  if (*field == value)
    return;
  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

gint64
takes_take_get_id (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), 0);
  return self->id;
}

gint64
takes_take_get_project_id (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), 0);
  return self->project_id;
}

void
takes_take_set_project_id (TakesTake *self, gint64 project_id)
{
  g_return_if_fail (TAKES_IS_TAKE (self));
  set_id_field (self, &self->project_id, MAX (project_id, 0), PROP_PROJECT_ID);
}

gint64
takes_take_get_shot_id (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), 0);
  return self->shot_id;
}

void
takes_take_set_shot_id (TakesTake *self, gint64 shot_id)
{
  g_return_if_fail (TAKES_IS_TAKE (self));
  set_id_field (self, &self->shot_id, MAX (shot_id, 0), PROP_SHOT_ID);
}

gint64
takes_take_get_batch_id (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), 0);
  return self->batch_id;
}

void
takes_take_set_batch_id (TakesTake *self, gint64 batch_id)
{
  g_return_if_fail (TAKES_IS_TAKE (self));
  set_id_field (self, &self->batch_id, MAX (batch_id, 0), PROP_BATCH_ID);
}

gint64
takes_take_get_parent_id (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), 0);
  return self->parent_id;
}

void
takes_take_set_parent_id (TakesTake *self, gint64 parent_id)
{
  g_return_if_fail (TAKES_IS_TAKE (self));
  set_id_field (self, &self->parent_id, MAX (parent_id, 0), PROP_PARENT_ID);
}

TakesRecipe *
takes_take_get_recipe (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), NULL);

  if (self->recipe == NULL && !self->recipe_unreadable)
    {
      self->recipe = takes_recipe_new_from_json (self->recipe_json, -1, NULL);
      self->recipe_unreadable = self->recipe == NULL;
    }
  return self->recipe;
}

void
takes_take_set_recipe (TakesTake *self, TakesRecipe *recipe)
{
  g_autofree char *json = NULL;
  g_autofree char *key = NULL;

  g_return_if_fail (TAKES_IS_TAKE (self));
  g_return_if_fail (TAKES_IS_RECIPE (recipe));

  json = takes_recipe_to_json (recipe);
  key = g_compute_checksum_for_string (G_CHECKSUM_SHA256, json, -1);

  g_object_freeze_notify (G_OBJECT (self));
  g_clear_object (&self->recipe);
  self->recipe = takes_recipe_copy (recipe);
  self->recipe_unreadable = FALSE;
  g_free (self->recipe_json);
  self->recipe_json = g_steal_pointer (&json);
  if (g_strcmp0 (self->cache_key, key) != 0)
    {
      g_free (self->cache_key);
      self->cache_key = g_steal_pointer (&key);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CACHE_KEY]);
    }
  if (g_strcmp0 (self->backend, takes_recipe_get_backend (recipe)) != 0)
    {
      g_free (self->backend);
      self->backend = g_strdup (takes_recipe_get_backend (recipe));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BACKEND]);
    }
  if (g_strcmp0 (self->model, takes_recipe_get_model (recipe)) != 0)
    {
      g_free (self->model);
      self->model = g_strdup (takes_recipe_get_model (recipe));
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MODEL]);
    }
  g_free (self->negative_prompt);
  self->negative_prompt = g_strdup (takes_recipe_get_negative_prompt (recipe));
  g_object_thaw_notify (G_OBJECT (self));
}

const char *
takes_take_get_recipe_json (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), NULL);
  return self->recipe_json;
}

const char *
takes_take_get_cache_key (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), NULL);
  return self->cache_key;
}

const char *
takes_take_get_backend (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), NULL);
  return self->backend;
}

const char *
takes_take_get_model (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), NULL);
  return self->model;
}

TakesTakeStatus
takes_take_get_status (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), TAKES_TAKE_STATUS_QUEUED);
  return self->status;
}

void
takes_take_set_status (TakesTake *self, TakesTakeStatus status)
{
  g_return_if_fail (TAKES_IS_TAKE (self));
  g_return_if_fail (status <= TAKES_TAKE_STATUS_CANCELLED);
  if (self->status == status)
    return;
  self->status = status;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS]);
}

const char *
takes_take_get_media_path (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), NULL);
  return self->media_path;
}

guint
takes_take_get_width (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), 0);
  return self->width;
}

guint
takes_take_get_height (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), 0);
  return self->height;
}

guint
takes_take_get_frames (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), 0);
  return self->frames;
}

double
takes_take_get_fps (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), 0.0);
  return self->fps;
}

gint64
takes_take_get_duration (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), 0);
  return self->duration;
}

void
takes_take_set_video_info (
    TakesTake *self, guint width, guint height, guint frames, double fps, gint64 duration)
{
  g_return_if_fail (TAKES_IS_TAKE (self));

  g_object_freeze_notify (G_OBJECT (self));
  if (self->width != width)
    {
      self->width = width;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_WIDTH]);
    }
  if (self->height != height)
    {
      self->height = height;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HEIGHT]);
    }
  if (self->frames != frames)
    {
      self->frames = frames;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FRAMES]);
    }
  if (self->fps != fps)
    {
      self->fps = MAX (fps, 0.0);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FPS]);
    }
  if (self->duration != duration)
    {
      self->duration = MAX (duration, 0);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DURATION]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

double
takes_take_get_seconds_spent (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), 0.0);
  return self->seconds_spent;
}

void
takes_take_set_seconds_spent (TakesTake *self, double seconds)
{
  g_return_if_fail (TAKES_IS_TAKE (self));
  seconds = MAX (seconds, 0.0);
  if (self->seconds_spent == seconds)
    return;
  self->seconds_spent = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SECONDS_SPENT]);
}

double
takes_take_get_cost (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), 0.0);
  return self->cost;
}

void
takes_take_set_cost (TakesTake *self, double cost)
{
  g_return_if_fail (TAKES_IS_TAKE (self));
  cost = MAX (cost, 0.0);
  if (self->cost == cost)
    return;
  self->cost = cost;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_COST]);
}

guint
takes_take_get_rating (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), 0);
  return self->rating;
}

TakesDecision
takes_take_get_decision (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), TAKES_DECISION_NONE);
  return self->decision;
}

const char *
takes_take_get_notes (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), NULL);
  return self->notes;
}

const char *
takes_take_get_prompt (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), NULL);
  return self->prompt;
}

void
takes_take_set_prompt (TakesTake *self, const char *prompt)
{
  g_return_if_fail (TAKES_IS_TAKE (self));
  if (prompt == NULL)
    prompt = "";
  if (g_strcmp0 (self->prompt, prompt) == 0)
    return;
  g_free (self->prompt);
  self->prompt = g_strdup (prompt);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROMPT]);
}

const char *
takes_take_get_optimized_prompt (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), NULL);
  return self->optimized_prompt;
}

void
takes_take_set_optimized_prompt (TakesTake *self, const char *optimized_prompt)
{
  g_return_if_fail (TAKES_IS_TAKE (self));
  if (g_strcmp0 (self->optimized_prompt, optimized_prompt) == 0)
    return;
  g_free (self->optimized_prompt);
  self->optimized_prompt = g_strdup (optimized_prompt);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_OPTIMIZED_PROMPT]);
}

const char *
takes_take_get_negative_prompt (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), NULL);
  return self->negative_prompt;
}

JsonObject *
takes_take_get_variables (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), NULL);
  return self->variables;
}

void
takes_take_set_variables (TakesTake *self, JsonObject *variables)
{
  g_return_if_fail (TAKES_IS_TAKE (self));
  if (variables != NULL)
    json_object_ref (variables);
  g_clear_pointer (&self->variables, json_object_unref);
  self->variables = variables;
}

gboolean
takes_take_get_is_tiny (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), FALSE);
  return self->is_tiny;
}

void
takes_take_set_is_tiny (TakesTake *self, gboolean is_tiny)
{
  g_return_if_fail (TAKES_IS_TAKE (self));
  is_tiny = !!is_tiny;
  if (self->is_tiny == is_tiny)
    return;
  self->is_tiny = is_tiny;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_IS_TINY]);
}

gint64
takes_take_get_created (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), 0);
  return self->created;
}

gint64
takes_take_get_updated (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), 0);
  return self->updated;
}

const char *const *
takes_take_get_tags (TakesTake *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), NULL);
  return (const char *const *)self->tags;
}

void
takes_take_set_tags (TakesTake *self, const char *const *tags)
{
  g_return_if_fail (TAKES_IS_TAKE (self));

  g_strfreev (self->tags);
  self->tags = tags != NULL ? g_strdupv ((char **)tags) : g_new0 (char *, 1);
  qsort (self->tags, g_strv_length (self->tags), sizeof (char *), compare_tags);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TAGS]);
}

gboolean
takes_take_has_tag (TakesTake *self, const char *tag)
{
  g_return_val_if_fail (TAKES_IS_TAKE (self), FALSE);
  g_return_val_if_fail (tag != NULL, FALSE);

  /* The store compares tags without regard to ASCII case. */
  for (guint i = 0; self->tags[i] != NULL; i++)
    if (g_ascii_strcasecmp (self->tags[i], tag) == 0)
      return TRUE;
  return FALSE;
}

static char *
format_time (gint64 usec)
{
  g_autoptr (GDateTime) time = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);

  return time != NULL ? g_date_time_format_iso8601 (time) : g_strdup ("");
}

JsonObject *
takes_take_to_json (TakesTake *self)
{
  JsonObject *object;
  JsonArray *tags;
  TakesRecipe *recipe;
  g_autofree char *created = NULL;
  g_autofree char *updated = NULL;

  g_return_val_if_fail (TAKES_IS_TAKE (self), NULL);

  object = json_object_new ();
  json_object_set_int_member (object, "id", self->id);
  json_object_set_int_member (object, "project_id", self->project_id);
#define SET_OPTIONAL_ID(name, value)                                                                         \
  if ((value) > 0)                                                                                           \
    json_object_set_int_member (object, name, value);                                                        \
  else                                                                                                       \
    json_object_set_null_member (object, name)
  SET_OPTIONAL_ID ("shot_id", self->shot_id);
  SET_OPTIONAL_ID ("batch_id", self->batch_id);
  SET_OPTIONAL_ID ("parent_id", self->parent_id);
#undef SET_OPTIONAL_ID
  json_object_set_string_member (object, "status", takes_take_status_to_string (self->status));
  json_object_set_string_member (object, "decision", takes_decision_to_string (self->decision));
  json_object_set_int_member (object, "rating", self->rating);
  json_object_set_string_member (object, "prompt", self->prompt);
  if (self->optimized_prompt != NULL)
    json_object_set_string_member (object, "optimized_prompt", self->optimized_prompt);
  else
    json_object_set_null_member (object, "optimized_prompt");
  json_object_set_string_member (object, "notes", self->notes);
  tags = json_array_new ();
  for (guint i = 0; self->tags[i] != NULL; i++)
    json_array_add_string_element (tags, self->tags[i]);
  json_object_set_array_member (object, "tags", tags);
  json_object_set_string_member (object, "backend", self->backend);
  json_object_set_string_member (object, "model", self->model);
  json_object_set_string_member (object, "cache_key", self->cache_key);
  if (self->media_path != NULL)
    json_object_set_string_member (object, "media_path", self->media_path);
  else
    json_object_set_null_member (object, "media_path");
  json_object_set_int_member (object, "width", self->width);
  json_object_set_int_member (object, "height", self->height);
  json_object_set_int_member (object, "frames", self->frames);
  json_object_set_double_member (object, "fps", self->fps);
  json_object_set_double_member (object, "duration", (double)self->duration / G_USEC_PER_SEC);
  json_object_set_double_member (object, "seconds_spent", self->seconds_spent);
  json_object_set_double_member (object, "cost", self->cost);
  json_object_set_boolean_member (object, "tiny_model", self->is_tiny);
  if (self->variables != NULL)
    {
      g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (), self->variables);

      json_object_set_member (object, "variables", json_node_copy (node));
    }
  else
    json_object_set_null_member (object, "variables");
  created = format_time (self->created);
  updated = format_time (self->updated);
  json_object_set_string_member (object, "created", created);
  json_object_set_string_member (object, "updated", updated);

  recipe = takes_take_get_recipe (self);
  if (recipe != NULL)
    json_object_set_object_member (object, "recipe", takes_recipe_to_object (recipe));
  else
    json_object_set_string_member (object, "recipe", self->recipe_json);
  return object;
}
