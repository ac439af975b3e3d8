/* takes-take-list.c: the store's takes as a lazily paged GListModel. */
#include "config.h"

#include "takes-take-list.h"

/* Enough pages for a screenful scrolled back and forth a few times; a page
 * of TakesTake objects is small, re-reading one takes about a millisecond. */
#define MAX_CACHED_PAGES 24

/* Workers ---------------------------------------------------------------- */

/* A thread with its own connection to the library, running jobs one after
 * the other. A TakesStore belongs to one thread, so the jobs cannot go to
 * GTask's shared pool, whose threads come and go. */
typedef struct
{
  GAsyncQueue *jobs;
  GThread *thread;
  char *name;
  char *data_dir;
  TakesStoreOpenFlags flags;
  GMainContext *context;
} Worker;

typedef gpointer (*WorkFunc) (TakesStore *store, gpointer data, GError **error);

typedef struct
{
  GTask *task; /* NULL for the job that stops the thread */
  WorkFunc func;
  GDestroyNotify result_free;
  gpointer result;
  GError *error;
} Job;

/* Runs in the main context, so that every reference to the task, and so to
 * the list it holds, is dropped there and never on the worker. */
static gboolean
deliver_job (gpointer data)
{
  Job *job = data;

  if (job->error != NULL)
    g_task_return_error (job->task, g_steal_pointer (&job->error));
  else
    g_task_return_pointer (job->task, g_steal_pointer (&job->result), job->result_free);
  g_object_unref (job->task);
  g_free (job);
  return G_SOURCE_REMOVE;
}

static gpointer
worker_main (gpointer data)
{
  Worker *worker = data;
  g_autoptr (TakesStore) store = NULL;

  for (;;)
    {
      Job *job = g_async_queue_pop (worker->jobs);

      if (job->task == NULL)
        {
          g_free (job);
          break;
        }
      if (!g_cancellable_set_error_if_cancelled (g_task_get_cancellable (job->task), &job->error))
        {
          /* Opened on first use, and again after a failure: the library
           * may have been out of reach only for a moment. */
          if (store == NULL)
            store = takes_store_open (worker->data_dir, worker->flags, &job->error);
          if (store != NULL)
            job->result = job->func (store, g_task_get_task_data (job->task), &job->error);
        }
      g_main_context_invoke (worker->context, deliver_job, job);
    }
  return NULL;
}

static Worker *
worker_new (const char *name, const char *data_dir, TakesStoreOpenFlags flags)
{
  Worker *worker = g_new0 (Worker, 1);

  worker->jobs = g_async_queue_new ();
  worker->name = g_strdup (name);
  worker->data_dir = g_strdup (data_dir);
  worker->flags = flags;
  worker->context = g_main_context_ref_thread_default ();
  return worker;
}

/* Takes @task; its result is @func's return value, freed with @result_free. */
static void
worker_push (Worker *worker, GTask *task, WorkFunc func, GDestroyNotify result_free)
{
  Job *job = g_new0 (Job, 1);

  job->task = task;
  job->func = func;
  job->result_free = result_free;
  if (worker->thread == NULL)
    worker->thread = g_thread_new (worker->name, worker_main, worker);
  g_async_queue_push (worker->jobs, job);
}

/* Every job holds a reference to the list, so by the time the list goes
 * the queue is empty and the thread only waits for the stop job. */
static void
worker_free (Worker *worker)
{
  if (worker->thread != NULL)
    {
      g_async_queue_push_front (worker->jobs, g_new0 (Job, 1));
      g_thread_join (worker->thread);
    }
  g_async_queue_unref (worker->jobs);
  g_main_context_unref (worker->context);
  g_free (worker->name);
  g_free (worker->data_dir);
  g_free (worker);
}

/* The list ---------------------------------------------------------------- */

typedef struct
{
  gboolean known;
  TakesTakeCursor cursor;
} PageStart;

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
  guint generation;          /* bumped by each reload; older reads are dropped */
  GCancellable *cancellable; /* the current generation's reads */
  GHashTable *pages;         /* page index → GPtrArray of TakesTake */
  GQueue lru;                /* page indices, most recently used first */
  GHashTable *in_flight;     /* page indices being read */
  GHashTable *failed;        /* page indices whose read failed, not retried until a reload */
  GHashTable *placeholders;  /* position → TakesTake handed out before its page came */
  GArray *starts;            /* PageStart for each page: where keyset paging resumes */
  TakesRecipe *empty_recipe;
  Worker *reader;
  Worker *writer;
  guint n_pending; /* reads and edits not delivered yet, of every generation */
  gboolean refreshing;
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
  PROP_BUSY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
pending_add (TakesTakeList *self)
{
  if (self->n_pending++ == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
pending_done (TakesTakeList *self)
{
  g_assert (self->n_pending > 0);
  if (--self->n_pending == 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BUSY]);
}

static void
set_error (TakesTakeList *self, GError *error)
{
  g_clear_error (&self->error);
  self->error = error;
}

/* Emits items-changed for items replaced where they are. */
static void
refresh_range (TakesTakeList *self, guint position, guint n)
{
  self->refreshing = TRUE;
  g_list_model_items_changed (G_LIST_MODEL (self), position, n, n);
  self->refreshing = FALSE;
}

/* Page reads --------------------------------------------------------------- */

typedef struct
{
  guint generation;
  guint page;
  TakesTakeQuery query;
  char *tag;
  char *backend;
  char *text;
  gboolean has_start;
  TakesTakeCursor start;
} PageRead;

static void
page_read_free (gpointer data)
{
  PageRead *read = data;

  g_free (read->tag);
  g_free (read->backend);
  g_free (read->text);
  g_free (read);
}

static gpointer
read_page (TakesStore *store, gpointer data, GError **error)
{
  PageRead *read = data;

  return takes_store_query_takes_after (store, &read->query, read->has_start ? &read->start : NULL, error);
}

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

static PageStart *
page_start (TakesTakeList *self, guint page)
{
  if (page >= self->starts->len)
    g_array_set_size (self->starts, page + 1);
  return &g_array_index (self->starts, PageStart, page);
}

static void
cache_page (TakesTakeList *self, guint page, GPtrArray *takes)
{
  while (g_queue_get_length (&self->lru) >= MAX_CACHED_PAGES)
    {
      gpointer oldest = g_queue_pop_tail (&self->lru);
      g_hash_table_remove (self->pages, oldest);
    }
  g_hash_table_insert (self->pages, GUINT_TO_POINTER (page), takes);
  g_queue_push_head (&self->lru, GUINT_TO_POINTER (page));
}

static void
page_read_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TakesTakeList *self = TAKES_TAKE_LIST (source);
  PageRead *read = g_task_get_task_data (G_TASK (result));
  g_autoptr (GPtrArray) takes = NULL;
  g_autoptr (GError) error = NULL;
  guint first = G_MAXUINT;
  guint last = 0;
  guint start;
  guint end;

  takes = g_task_propagate_pointer (G_TASK (result), &error);
  pending_done (self);
  if (read->generation != self->generation)
    return;
  g_hash_table_remove (self->in_flight, GUINT_TO_POINTER (read->page));
  if (takes == NULL)
    {
      g_hash_table_add (self->failed, GUINT_TO_POINTER (read->page));
      set_error (self, g_steal_pointer (&error));
      return;
    }

  if (takes->len == TAKES_TAKE_LIST_PAGE_SIZE)
    {
      PageStart *next = page_start (self, read->page + 1);

      next->known = TRUE;
      takes_take_cursor_set (&next->cursor, self->sort, g_ptr_array_index (takes, takes->len - 1));
    }
  cache_page (self, read->page, g_steal_pointer (&takes));

  /* Only the positions a view was given placeholders for change. */
  start = read->page * TAKES_TAKE_LIST_PAGE_SIZE;
  end = MIN (start + TAKES_TAKE_LIST_PAGE_SIZE, self->n_items);
  for (guint position = start; position < end; position++)
    if (g_hash_table_remove (self->placeholders, GUINT_TO_POINTER (position)))
      {
        first = MIN (first, position);
        last = MAX (last, position);
      }
  if (first <= last)
    refresh_range (self, first, last - first + 1);
}

static void
request_page (TakesTakeList *self, guint page)
{
  PageRead *read;
  GTask *task;

  if ((guint64)page * TAKES_TAKE_LIST_PAGE_SIZE >= self->n_items
      || g_hash_table_contains (self->pages, GUINT_TO_POINTER (page))
      || g_hash_table_contains (self->in_flight, GUINT_TO_POINTER (page))
      || g_hash_table_contains (self->failed, GUINT_TO_POINTER (page)))
    return;

  read = g_new0 (PageRead, 1);
  read->generation = self->generation;
  read->page = page;
  read->tag = g_strdup (self->tag);
  read->backend = g_strdup (self->backend);
  read->text = g_strdup (self->text);
  fill_query (self, &read->query);
  read->query.tag = read->tag;
  read->query.backend = read->backend;
  read->query.text = read->text;
  read->query.limit = TAKES_TAKE_LIST_PAGE_SIZE;
  read->query.offset = page * TAKES_TAKE_LIST_PAGE_SIZE;
  /* Resume after the nearest page end known before this page: reading on
   * from there costs one page, where OFFSET reads every row before. */
  for (guint k = MIN (page, self->starts->len > 0 ? self->starts->len - 1 : 0); k >= 1; k--)
    {
      PageStart *known = &g_array_index (self->starts, PageStart, k);

      if (known->known)
        {
          read->has_start = TRUE;
          read->start = known->cursor;
          read->query.offset = (page - k) * TAKES_TAKE_LIST_PAGE_SIZE;
          break;
        }
    }

  task = g_task_new (self, self->cancellable, page_read_cb, NULL);
  g_task_set_source_tag (task, request_page);
  g_task_set_task_data (task, read, page_read_free);
  g_hash_table_add (self->in_flight, GUINT_TO_POINTER (page));
  self->n_page_reads++;
  pending_add (self);
  if (self->reader == NULL)
    self->reader
        = worker_new ("takes-pages", takes_store_get_data_dir (self->store), TAKES_STORE_OPEN_READ_ONLY);
  worker_push (self->reader, task, read_page, (GDestroyNotify)g_ptr_array_unref);
}

static GPtrArray *
lookup_page (TakesTakeList *self, guint page)
{
  GPtrArray *takes = g_hash_table_lookup (self->pages, GUINT_TO_POINTER (page));
  GList *link;

  if (takes == NULL)
    return NULL;
  link = g_queue_find (&self->lru, GUINT_TO_POINTER (page));
  g_queue_unlink (&self->lru, link);
  g_queue_push_head_link (&self->lru, link);
  return takes;
}

static TakesTake *
placeholder_at (TakesTakeList *self, guint position)
{
  TakesTake *placeholder = g_hash_table_lookup (self->placeholders, GUINT_TO_POINTER (position));

  if (placeholder == NULL)
    {
      placeholder = takes_take_new (self->empty_recipe);
      g_hash_table_insert (self->placeholders, GUINT_TO_POINTER (position), placeholder);
    }
  return g_object_ref (placeholder);
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
  guint page = position / TAKES_TAKE_LIST_PAGE_SIZE;
  guint in_page = position % TAKES_TAKE_LIST_PAGE_SIZE;
  GPtrArray *takes;

  if (position >= self->n_items)
    return NULL;
  takes = lookup_page (self, page);
  if (takes == NULL)
    {
      request_page (self, page);
      return placeholder_at (self, position);
    }
  /* A view reading this page will soon want its neighbours. */
  request_page (self, page + 1);
  if (page > 0)
    request_page (self, page - 1);
  /* A page comes back short when takes were deleted since the count; the
   * rest stay placeholders until the next reload. */
  if (in_page >= takes->len)
    return placeholder_at (self, position);
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

  g_clear_pointer (&self->reader, worker_free);
  g_clear_pointer (&self->writer, worker_free);
  g_clear_object (&self->store);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->empty_recipe);
  g_clear_pointer (&self->tag, g_free);
  g_clear_pointer (&self->backend, g_free);
  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->pages, g_hash_table_unref);
  g_clear_pointer (&self->in_flight, g_hash_table_unref);
  g_clear_pointer (&self->failed, g_hash_table_unref);
  g_clear_pointer (&self->placeholders, g_hash_table_unref);
  g_clear_pointer (&self->starts, g_array_unref);
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
      case PROP_BUSY:
        g_value_set_boolean (value, self->n_pending > 0);
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
  properties[PROP_BUSY] = g_param_spec_boolean (
      "busy", NULL, NULL, FALSE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
takes_take_list_init (TakesTakeList *self)
{
  self->pages = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify)g_ptr_array_unref);
  self->in_flight = g_hash_table_new (NULL, NULL);
  self->failed = g_hash_table_new (NULL, NULL);
  self->placeholders = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  self->starts = g_array_new (FALSE, TRUE, sizeof (PageStart));
  self->empty_recipe = takes_recipe_new ();
  self->cancellable = g_cancellable_new ();
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
  self->generation++;
  g_cancellable_cancel (self->cancellable);
  g_object_unref (self->cancellable);
  self->cancellable = g_cancellable_new ();
  g_hash_table_remove_all (self->pages);
  g_hash_table_remove_all (self->in_flight);
  g_hash_table_remove_all (self->failed);
  g_hash_table_remove_all (self->placeholders);
  g_array_set_size (self->starts, 0);
  g_queue_clear (&self->lru);
  g_clear_error (&self->error);

  /* Counting walks an index (about 4 ms for 100,000 takes of one project
   * on a busy machine), and a view needs the count at once to lay itself
   * out; the rows themselves are read on the worker. */
  fill_query (self, &query);
  if (!takes_store_count_takes (self->store, &query, &count, &error))
    {
      self->error = g_steal_pointer (&error);
      count = 0;
    }
  self->n_items = (guint)MIN (count, (guint64)G_MAXUINT);

  /* The first screen is on its way before a view asks for it. */
  request_page (self, 0);
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

gboolean
takes_take_list_is_placeholder (TakesTake *take)
{
  g_return_val_if_fail (TAKES_IS_TAKE (take), FALSE);
  return takes_take_get_id (take) == 0;
}

gboolean
takes_take_list_get_busy (TakesTakeList *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE_LIST (self), FALSE);
  return self->n_pending > 0;
}

gboolean
takes_take_list_is_refreshing (TakesTakeList *self)
{
  g_return_val_if_fail (TAKES_IS_TAKE_LIST (self), FALSE);
  return self->refreshing;
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

/* Edits -------------------------------------------------------------------- */

typedef struct
{
  TakesTakeEditKind kind;
  GArray *take_ids;
  guint value;
  char *text;
} Edit;

typedef struct
{
  GPtrArray *fresh; /* the edited takes as stored afterwards */
  GError *error;    /* why the edit stopped, or NULL */
} EditResult;

static void
edit_free (gpointer data)
{
  Edit *edit = data;

  g_array_unref (edit->take_ids);
  g_free (edit->text);
  g_free (edit);
}

static void
edit_result_free (gpointer data)
{
  EditResult *result = data;

  g_ptr_array_unref (result->fresh);
  g_clear_error (&result->error);
  g_free (result);
}

static gboolean
apply_edit (TakesStore *store, Edit *edit, gint64 take_id, GError **error)
{
  switch (edit->kind)
    {
      case TAKES_TAKE_EDIT_RATING:
        return takes_store_set_rating (store, take_id, edit->value, error);
      case TAKES_TAKE_EDIT_DECISION:
        return takes_store_set_decision (store, take_id, (TakesDecision)edit->value, error);
      case TAKES_TAKE_EDIT_NOTES:
        return takes_store_set_notes (store, take_id, edit->text, error);
      case TAKES_TAKE_EDIT_ADD_TAG:
        return takes_store_add_tag (store, take_id, edit->text, error);
      case TAKES_TAKE_EDIT_REMOVE_TAG:
        return takes_store_remove_tag (store, take_id, edit->text, error);
      default:
        g_assert_not_reached ();
    }
}

/* Always returns a result: the takes are read again after a failure too,
 * so that the list shows what the library really holds. */
static gpointer
run_edit (TakesStore *store, gpointer data, GError **error)
{
  Edit *edit = data;
  EditResult *result = g_new0 (EditResult, 1);

  result->fresh = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < edit->take_ids->len && result->error == NULL; i++)
    apply_edit (store, edit, g_array_index (edit->take_ids, gint64, i), &result->error);
  for (guint i = 0; i < edit->take_ids->len; i++)
    {
      TakesTake *take = takes_store_get_take (store, g_array_index (edit->take_ids, gint64, i), NULL);

      if (take != NULL)
        g_ptr_array_add (result->fresh, take);
    }
  return result;
}

static void
replace_take (TakesTakeList *self, TakesTake *fresh)
{
  GHashTableIter iter;
  gpointer key, value;
  gint64 id = takes_take_get_id (fresh);

  g_hash_table_iter_init (&iter, self->pages);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      GPtrArray *takes = value;

      for (guint i = 0; i < takes->len; i++)
        if (takes_take_get_id (g_ptr_array_index (takes, i)) == id)
          {
            g_object_unref (g_ptr_array_index (takes, i));
            g_ptr_array_index (takes, i) = g_object_ref (fresh);
            refresh_range (self, GPOINTER_TO_UINT (key) * TAKES_TAKE_LIST_PAGE_SIZE + i, 1);
            return;
          }
    }
}

static void
ensure_writer (TakesTakeList *self)
{
  if (self->writer == NULL)
    self->writer = worker_new ("takes-edits", takes_store_get_data_dir (self->store),
                               TAKES_STORE_OPEN_SECONDARY | TAKES_STORE_OPEN_SKIP_MEDIA_CHECK);
}

static void
edit_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TakesTakeList *self = TAKES_TAKE_LIST (source);
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;
  EditResult *edited = g_task_propagate_pointer (G_TASK (result), &error);

  pending_done (self);
  if (edited == NULL)
    {
      set_error (self, g_error_copy (error));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  for (guint i = 0; i < edited->fresh->len; i++)
    replace_take (self, g_ptr_array_index (edited->fresh, i));
  if (edited->error != NULL)
    {
      set_error (self, g_error_copy (edited->error));
      g_task_return_error (task, g_steal_pointer (&edited->error));
    }
  else
    g_task_return_boolean (task, TRUE);
  edit_result_free (edited);
}

void
takes_take_list_edit_async (TakesTakeList *self,
                            TakesTakeEditKind kind,
                            const gint64 *take_ids,
                            guint n_take_ids,
                            guint value,
                            const char *text,
                            GCancellable *cancellable,
                            GAsyncReadyCallback callback,
                            gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GTask *job;
  Edit *edit;

  g_return_if_fail (TAKES_IS_TAKE_LIST (self));
  g_return_if_fail (take_ids != NULL || n_take_ids == 0);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, takes_take_list_edit_async);
  if (n_take_ids == 0)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  edit = g_new0 (Edit, 1);
  edit->kind = kind;
  edit->take_ids = g_array_sized_new (FALSE, FALSE, sizeof (gint64), n_take_ids);
  g_array_append_vals (edit->take_ids, take_ids, n_take_ids);
  edit->value = value;
  edit->text = g_strdup (text);

  /* The edit itself is never cancelled half way: the cancellable only
   * stops the caller hearing of it. */
  job = g_task_new (self, NULL, edit_done_cb, g_steal_pointer (&task));
  g_task_set_source_tag (job, takes_take_list_edit_async);
  g_task_set_task_data (job, edit, edit_free);
  pending_add (self);
  ensure_writer (self);
  worker_push (self->writer, job, run_edit, edit_result_free);
}

gboolean
takes_take_list_edit_finish (TakesTakeList *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (TAKES_IS_TAKE_LIST (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Deletes ------------------------------------------------------------------ */

static gpointer
run_delete (TakesStore *store, gpointer data, GError **error)
{
  GArray *ids = data;

  if (!takes_store_delete_takes (store, (const gint64 *)ids->data, ids->len, error))
    return NULL;
  return GINT_TO_POINTER (TRUE);
}

static void
delete_done_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  TakesTakeList *self = TAKES_TAKE_LIST (source);
  g_autoptr (GTask) task = user_data;
  g_autoptr (GError) error = NULL;

  g_task_propagate_pointer (G_TASK (result), &error);
  pending_done (self);
  /* After a failure too: the library is as it was, and the list shows it. */
  takes_take_list_reload (self);
  if (error != NULL)
    {
      set_error (self, g_error_copy (error));
      g_task_return_error (task, g_steal_pointer (&error));
    }
  else
    g_task_return_boolean (task, TRUE);
}

void
takes_take_list_delete_async (TakesTakeList *self,
                              const gint64 *take_ids,
                              guint n_take_ids,
                              GCancellable *cancellable,
                              GAsyncReadyCallback callback,
                              gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  GArray *ids;
  GTask *job;

  g_return_if_fail (TAKES_IS_TAKE_LIST (self));
  g_return_if_fail (take_ids != NULL || n_take_ids == 0);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, takes_take_list_delete_async);
  if (n_take_ids == 0)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  ids = g_array_sized_new (FALSE, FALSE, sizeof (gint64), n_take_ids);
  g_array_append_vals (ids, take_ids, n_take_ids);
  job = g_task_new (self, NULL, delete_done_cb, g_steal_pointer (&task));
  g_task_set_source_tag (job, takes_take_list_delete_async);
  g_task_set_task_data (job, ids, (GDestroyNotify)g_array_unref);
  pending_add (self);
  ensure_writer (self);
  worker_push (self->writer, job, run_delete, NULL);
}

gboolean
takes_take_list_delete_finish (TakesTakeList *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (TAKES_IS_TAKE_LIST (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
