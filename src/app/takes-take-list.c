/* takes-take-list.c: the store's takes as a lazily paged GListModel. */
#include "config.h"

#include "takes-take-list.h"

/* Enough pages for a screenful scrolled back and forth a few times; a page
 * of TakesTake objects is small, re-reading one takes about a millisecond. */
#define MAX_CACHED_PAGES 24

struct _TakesTakeList
{
  GObject parent_instance;

  TakesStore *store;
  gint64 project_id;
  gint64 shot_id;
  char *tag;
  char *backend;
  guint min_rating;
  guint decision_mask;
  char *text;
  TakesTakeSort sort;
  gboolean ascending;

  guint n_items;
  GHashTable *pages; /* page index → GPtrArray of TakesTake */
  GQueue lru;        /* page indices, most recently used first */
  GError *error;
  guint n_page_reads;
};

static void takes_take_list_model_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TakesTakeList,
                               takes_take_list,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, takes_take_list_model_init))

enum
{
  PROP_0,
  PROP_N_ITEMS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
fill_query (TakesTakeList *self, TakesTakeQuery *query)
{
  takes_take_query_init (query);
  query->project_id = self->project_id;
  query->shot_id = self->shot_id;
  query->tag = self->tag;
  query->backend = self->backend;
  query->min_rating = self->min_rating;
  query->decision_mask = self->decision_mask;
  query->text = self->text;
  query->sort = self->sort;
  query->ascending = self->ascending;
}

static GPtrArray *
lookup_page (TakesTakeList *self, guint page)
{
  GPtrArray *takes = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (page));
  TakesTakeQuery query;
  g_autoptr (GError) error = NULL;

  if (takes != NULL)
    {
      GList *link = g_queue_find (&self->lru, GUINT_TO_POINTER (page));
      g_queue_unlink (&self->lru, link);
      g_queue_push_head_link (&self->lru, link);
      return takes;
    }

  fill_query (self, &query);
  query.limit = TAKES_TAKE_LIST_PAGE_SIZE;
  query.offset = page * TAKES_TAKE_LIST_PAGE_SIZE;
  takes = takes_store_query_takes (self->store, &query, &error);
  self->n_page_reads++;
  if (takes == NULL)
    {
      g_clear_error (&self->error);
      self->error = g_steal_pointer (&error);
      return NULL;
    }

  while (g_queue_get_length (&self->lru) >= MAX_CACHED_PAGES)
    {
      gpointer oldest = g_queue_pop_tail (&self->lru);
      g_hash_table_remove (self->pages, oldest);
    }
  g_hash_table_insert (self->pages, GUINT_TO_POINTER (page), takes);
  g_queue_push_head (&self->lru, GUINT_TO_POINTER (page));
  return takes;
}

static GType
takes_take_list_get_item_type (GListModel *model)
{
  return TAKES_TYPE_TAKE;
}

static guint
takes_take_list_get_n_items (GListModel *model)
{
  return TAKES_TAKE_LIST (model)->n_items;
}

static gpointer
takes_take_list_get_item (GListModel *model, guint position)
{
  TakesTakeList *self = TAKES_TAKE_LIST (model);
  GPtrArray *takes;
  guint in_page = position % TAKES_TAKE_LIST_PAGE_SIZE;

  if (position >= self->n_items)
    return NULL;
  takes = lookup_page (self, position / TAKES_TAKE_LIST_PAGE_SIZE);
  /* A page can come back short when takes were deleted since the count;
   * the view then gets NULL until the next reload, which it handles. */
  if (takes == NULL || in_page >= takes->len)
    return NULL;
  return g_object_ref (g_ptr_array_index (takes, in_page));
}

static void
takes_take_list_model_init (GListModelInterface *iface)
{
  iface->get_item_type = takes_take_list_get_item_type;
  iface->get_n_items = takes_take_list_get_n_items;
  iface->get_item = takes_take_list_get_item;
}

static void
takes_take_list_finalize (GObject *object)
{
  TakesTakeList *self = TAKES_TAKE_LIST (object);

  g_clear_object (&self->store);
  g_clear_pointer (&self->tag, g_free);
  g_clear_pointer (&self->backend, g_free);
  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->pages, g_hash_table_unref);
  g_queue_clear (&self->lru);
  g_clear_error (&self->error);

  G_OBJECT_CLASS (takes_take_list_parent_class)->finalize (object);
}

static void
takes_take_list_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesTakeList *self = TAKES_TAKE_LIST (object);

  switch (prop_id)
    {
      case PROP_N_ITEMS:
        g_value_set_uint (value, self->n_items);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_take_list_class_init (TakesTakeListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = takes_take_list_finalize;
  object_class->get_property = takes_take_list_get_property;

  properties[PROP_N_ITEMS]
      = g_param_spec_uint ("n-items", NULL, NULL, 0, G_MAXUINT, 0,
                           G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
takes_take_list_init (TakesTakeList *self)
{
  self->pages = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify)g_ptr_array_unref);
  g_queue_init (&self->lru);
}

TakesTakeList *
takes_take_list_new (TakesStore *store)
{
  TakesTakeList *self;

  g_return_val_if_fail (TAKES_IS_STORE (store), NULL);

  self = g_object_new (TAKES_TYPE_TAKE_LIST, NULL);
  self->store = g_object_ref (store);
  takes_take_list_reload (self);
  return self;
}

TakesStore *
takes_take_list_get_store (TakesTakeList *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE_LIST (self), NULL);
  return self->store;
}

void
takes_take_list_reload (TakesTakeList *self)
{
  TakesTakeQuery query;
  guint64 count = 0;
  guint old_n_items;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (TAKES_IS_TAKE_LIST (self));

  old_n_items = self->n_items;
  g_hash_table_remove_all (self->pages);
  g_queue_clear (&self->lru);
  g_clear_error (&self->error);

  fill_query (self, &query);
  if (!takes_store_count_takes (self->store, &query, &count, &error))
    {
      self->error = g_steal_pointer (&error);
      count = 0;
    }
  self->n_items = (guint)MIN (count, (guint64)G_MAXUINT);

  if (old_n_items != 0 || self->n_items != 0)
    g_list_model_items_changed (G_LIST_MODEL (self), 0, old_n_items, self->n_items);
  if (old_n_items != self->n_items)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
}

void
takes_take_list_set_project_id (TakesTakeList *self, gint64 project_id)
{
  g_return_if_fail (TAKES_IS_TAKE_LIST (self));
  if (self->project_id == project_id)
    return;
  self->project_id = project_id;
  takes_take_list_reload (self);
}

gint64
takes_take_list_get_project_id (TakesTakeList *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE_LIST (self), 0);
  return self->project_id;
}

void
takes_take_list_set_shot_id (TakesTakeList *self, gint64 shot_id)
{
  g_return_if_fail (TAKES_IS_TAKE_LIST (self));
  if (self->shot_id == shot_id)
    return;
  self->shot_id = shot_id;
  takes_take_list_reload (self);
}

static gboolean
set_string (char **field, const char *value)
{
  if (value != NULL && *value == '\0')
    value = NULL;
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;
  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

void
takes_take_list_set_tag (TakesTakeList *self, const char *tag)
{
  g_return_if_fail (TAKES_IS_TAKE_LIST (self));
  if (set_string (&self->tag, tag))
    takes_take_list_reload (self);
}

void
takes_take_list_set_backend (TakesTakeList *self, const char *backend)
{
  g_return_if_fail (TAKES_IS_TAKE_LIST (self));
  if (set_string (&self->backend, backend))
    takes_take_list_reload (self);
}

void
takes_take_list_set_min_rating (TakesTakeList *self, guint min_rating)
{
  g_return_if_fail (TAKES_IS_TAKE_LIST (self));
  if (self->min_rating == min_rating)
    return;
  self->min_rating = min_rating;
  takes_take_list_reload (self);
}

void
takes_take_list_set_decision_mask (TakesTakeList *self, guint decision_mask)
{
  g_return_if_fail (TAKES_IS_TAKE_LIST (self));
  if (self->decision_mask == decision_mask)
    return;
  self->decision_mask = decision_mask;
  takes_take_list_reload (self);
}

void
takes_take_list_set_text (TakesTakeList *self, const char *text)
{
  g_autofree char *stripped = g_strstrip (g_strdup (text != NULL ? text : ""));

  g_return_if_fail (TAKES_IS_TAKE_LIST (self));
  if (set_string (&self->text, stripped))
    takes_take_list_reload (self);
}

void
takes_take_list_set_sort (TakesTakeList *self, TakesTakeSort sort, gboolean ascending)
{
  g_return_if_fail (TAKES_IS_TAKE_LIST (self));
  if (self->sort == sort && self->ascending == ascending)
    return;
  self->sort = sort;
  self->ascending = ascending;
  takes_take_list_reload (self);
}

const GError *
takes_take_list_get_error (TakesTakeList *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE_LIST (self), NULL);
  return self->error;
}

guint
takes_take_list_get_n_page_reads (TakesTakeList *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE_LIST (self), 0);
  return self->n_page_reads;
}

int
takes_take_list_find_cached (TakesTakeList *self, gint64 take_id)
{
  GHashTableIter iter;
  gpointer key, value;

  g_return_val_if_fail (TAKES_IS_TAKE_LIST (self), -1);

  g_hash_table_iter_init (&iter, self->pages);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GPtrArray *takes = value;

      for (guint i = 0; i < takes->len; i++)
        if (takes_take_get_id (g_ptr_array_index (takes, i)) == take_id)
          return (int)(GPOINTER_TO_UINT (key) * TAKES_TAKE_LIST_PAGE_SIZE + i);
    }
  return -1;
}
