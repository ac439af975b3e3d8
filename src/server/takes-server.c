/* takes-server.c: a backend served over the DashScope task protocol.
 *
 * A task id is valid for the task lifetime after the task ends, like
 * DashScope's 24 hours, across restarts: every change of a task is written
 * to a journal (tasks.json in the data folder, replaced atomically), and a
 * server started on the same folder serves the finished tasks again and runs
 * the unfinished ones anew under the same ids, so a client that keeps polling
 * through a restart or a crash still gets its take. A create is answered at
 * once with PENDING; the backend job then runs on this main context and the
 * queries read its state. The request body limit is checked on the headers,
 * so an oversized body is refused and never kept in memory.
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <math.h>
#include <string.h>

#include "takes-backend-http.h"
#include "takes-server.h"

#define API_PREFIX "/api/v1"
#define CREATE_PATH API_PREFIX "/services/aigc/video-generation/video-synthesis"
#define TASKS_PREFIX API_PREFIX "/tasks/"
#define RESULTS_PREFIX "/results/"
#define RESULTS_DIR "results"
#define JOURNAL_FILE "tasks.json"
#define JOURNAL_VERSION 1
#define SWEEP_INTERVAL_S 60
#define RETRY_AFTER_S 10
#define MAX_TOKEN_FILE_BYTES 4096

G_DEFINE_QUARK (takes - server - error - quark, takes_server_error)

typedef enum
{
  TASK_PENDING,
  TASK_RUNNING,
  TASK_SUCCEEDED,
  TASK_FAILED,
  TASK_CANCELED,
} TaskStatus;

static const char *const status_names[] = { "PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED" };

typedef struct
{
  TakesServer *server; /* not owned; cleared when the server goes */
  char *id;
  char *secret; /* in the video URL: downloads carry no bearer token */
  TaskStatus status;
  TakesRecipe *recipe;
  GCancellable *cancellable; /* for the submit, before a job exists */
  TakesBackendJob *job;
  gulong changed_handler;
  GDateTime *submit_time;
  GDateTime *scheduled_time;
  GDateTime *end_time;
  gint64 ended_monotonic;
  char *video_path;
  char *code;
  char *message;
  guint duration;
} ServerTask;

struct _TakesServer
{
  GObject parent_instance;

  TakesBackend *backend;
  char *data_dir;
  char *results_dir;
  char *token;
  guint max_concurrent;
  gsize max_body_size;
  guint task_lifetime;
  TakesRecipe *defaults;

  SoupServer *soup;
  char *origin;
  guint port;
  GHashTable *tasks; /* id → ServerTask */
  guint sweep_source;
  char *journal_path;
  /* Set while shutting down: tasks cancelled then stay unfinished in the
   * journal, so the next start runs them again. */
  gboolean closing;
};

G_DEFINE_FINAL_TYPE (TakesServer, takes_server, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_BACKEND,
  PROP_DATA_DIR,
  PROP_MAX_CONCURRENT,
  PROP_MAX_BODY_SIZE,
  PROP_TASK_LIFETIME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* Tasks --------------------------------------------------------------------- */

static void
server_task_clear (ServerTask *task)
{
  if (task->job != NULL && task->changed_handler != 0)
    g_signal_handler_disconnect (task->job, task->changed_handler);
  g_clear_object (&task->job);
  g_clear_object (&task->recipe);
  g_clear_object (&task->cancellable);
  g_clear_pointer (&task->submit_time, g_date_time_unref);
  g_clear_pointer (&task->scheduled_time, g_date_time_unref);
  g_clear_pointer (&task->end_time, g_date_time_unref);
  g_free (task->id);
  g_free (task->secret);
  g_free (task->video_path);
  g_free (task->code);
  g_free (task->message);
}

static ServerTask *
server_task_ref (ServerTask *task)
{
  return g_rc_box_acquire (task);
}

static void
server_task_unref (ServerTask *task)
{
  g_rc_box_release_full (task, (GDestroyNotify)server_task_clear);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ServerTask, server_task_unref)

static gboolean
task_is_active (ServerTask *task)
{
  return task->status == TASK_PENDING || task->status == TASK_RUNNING;
}

static char *
random_hex (guint n_bytes)
{
  g_autoptr (GString) out = g_string_sized_new (n_bytes * 2);

  for (guint i = 0; i < n_bytes; i += 4)
    g_string_append_printf (out, "%08x", g_random_int ());
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void journal_save (TakesServer *self);
static void forget_task (gpointer data);

/* Ends a task once; a later report from its job changes nothing. */
static void
task_end (ServerTask *task, TaskStatus status, const char *code, const char *message)
{
  if (!task_is_active (task))
    return;
  task->status = status;
  task->end_time = g_date_time_new_now_utc ();
  task->ended_monotonic = g_get_monotonic_time ();
  g_free (task->code);
  task->code = g_strdup (code);
  g_free (task->message);
  task->message = g_strdup (message);
  if (task->server != NULL)
    journal_save (task->server);
}

/* The DashScope code a client maps back to the same kind of error. */
static const char *
code_for_error (const GError *error)
{
  if (error->domain != TAKES_BACKEND_ERROR)
    return "InternalError";
  switch ((TakesBackendError)error->code)
    {
      case TAKES_BACKEND_ERROR_BAD_PARAMETERS:
      case TAKES_BACKEND_ERROR_TOO_LARGE:
        return "InvalidParameter";
      case TAKES_BACKEND_ERROR_MISSING_MODEL:
        return "ModelNotFound";
      case TAKES_BACKEND_ERROR_SAFETY_REJECTED:
        return "DataInspectionFailed";
      case TAKES_BACKEND_ERROR_RATE_LIMITED:
        return "Throttling.AllocationQuota";
      case TAKES_BACKEND_ERROR_OUT_OF_MEMORY:
        return "InsufficientMemory";
      case TAKES_BACKEND_ERROR_UNAUTHORIZED:
      case TAKES_BACKEND_ERROR_QUOTA:
      case TAKES_BACKEND_ERROR_NETWORK:
      case TAKES_BACKEND_ERROR_SERVER:
      case TAKES_BACKEND_ERROR_NOT_FOUND:
      case TAKES_BACKEND_ERROR_EXPIRED:
      case TAKES_BACKEND_ERROR_CANCELLED:
      case TAKES_BACKEND_ERROR_MISSING_NODE:
      default:
        return "InternalError";
    }
}

static char *
result_path_for (TakesServer *self, ServerTask *task)
{
  g_autofree char *name = g_strdup_printf ("%s.mp4", task->id);

  return g_build_filename (self->results_dir, name, NULL);
}

/* Moves the backend's result into the results folder under the task id. */
static gboolean
adopt_result (TakesServer *self, ServerTask *task, const char *source, GError **error)
{
  g_autofree char *dest = result_path_for (self, task);
  g_autoptr (GFile) from = NULL;
  g_autoptr (GFile) to = NULL;

  if (g_rename (source, dest) == 0)
    {
      task->video_path = g_steal_pointer (&dest);
      return TRUE;
    }
  /* Another file system: copy, then drop the original. */
  from = g_file_new_for_path (source);
  to = g_file_new_for_path (dest);
  if (!g_file_copy (from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, error))
    {
      g_unlink (dest);
      return FALSE;
    }
  g_unlink (source);
  task->video_path = g_steal_pointer (&dest);
  return TRUE;
}

static void
job_changed_cb (TakesBackendJob *job, gpointer user_data)
{
  ServerTask *task = user_data;
  TakesServer *self = task->server;
  TakesBackendJobState state = takes_backend_job_get_state (job);

  if (self == NULL)
    return;
  if (state == TAKES_BACKEND_JOB_STATE_RUNNING && task->status == TASK_PENDING)
    {
      task->status = TASK_RUNNING;
      task->scheduled_time = g_date_time_new_now_utc ();
      journal_save (self);
    }
  else if (state == TAKES_BACKEND_JOB_STATE_SUCCEEDED)
    {
      g_autoptr (GError) error = NULL;
      const char *path = takes_backend_job_get_result_path (job);

      if (!task_is_active (task))
        {
          /* Cancelled here after the backend had finished: nobody will
           * fetch the file. */
          g_unlink (path);
          return;
        }
      if (!adopt_result (self, task, path, &error))
        {
          g_unlink (path);
          task_end (task, TASK_FAILED, "InternalError", error->message);
          return;
        }
      if (task->scheduled_time == NULL)
        task->scheduled_time = g_date_time_new_now_utc ();
      task_end (task, TASK_SUCCEEDED, NULL, NULL);
    }
  else if (state == TAKES_BACKEND_JOB_STATE_FAILED)
    {
      const GError *error = takes_backend_job_get_error (job);

      task_end (task, TASK_FAILED, code_for_error (error), error->message);
    }
  else if (state == TAKES_BACKEND_JOB_STATE_CANCELLED)
    task_end (task, TASK_CANCELED, NULL, NULL);
}

static void
submit_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (ServerTask) task = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendJob) job = takes_backend_submit_finish (TAKES_BACKEND (source), result, &error);

  if (job == NULL)
    {
      if (g_error_matches (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_CANCELLED)
          || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        task_end (task, TASK_CANCELED, NULL, NULL);
      else
        task_end (task, TASK_FAILED, code_for_error (error), error->message);
      return;
    }
  if (task->server == NULL || !task_is_active (task))
    {
      takes_backend_job_cancel (job);
      return;
    }
  task->job = g_steal_pointer (&job);
  task->changed_handler = g_signal_connect (task->job, "changed", G_CALLBACK (job_changed_cb), task);
  job_changed_cb (task->job, task);
}

static void
task_cancel (ServerTask *task)
{
  g_cancellable_cancel (task->cancellable);
  if (task->job != NULL)
    takes_backend_job_cancel (task->job);
}

/* Journal ------------------------------------------------------------------- */

static void
add_journal_time (JsonBuilder *builder, const char *name, GDateTime *when)
{
  g_autofree char *text = when != NULL ? g_date_time_format_iso8601 (when) : NULL;

  if (text == NULL)
    return;
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, text);
}

static void
add_journal_string (JsonBuilder *builder, const char *name, const char *value)
{
  if (value == NULL)
    return;
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, value);
}

/* Writes every task to the journal. The file is replaced in one step, so a
 * crash leaves the old journal or the new one, never half of one; a failed
 * write is logged and the tasks keep running (they are only lost if the
 * server stops before the next write succeeds). */
static void
journal_save (TakesServer *self)
{
  g_autoptr (JsonBuilder) builder = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  GHashTableIter iter;
  gpointer value;

  if (self->journal_path == NULL || self->closing)
    return;
  builder = json_builder_new_immutable ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "version");
  json_builder_add_int_value (builder, JOURNAL_VERSION);
  json_builder_set_member_name (builder, "tasks");
  json_builder_begin_array (builder);
  g_hash_table_iter_init (&iter, self->tasks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      ServerTask *task = value;
      g_autofree char *recipe = takes_recipe_to_json (task->recipe);
      g_autofree char *video = task->video_path != NULL ? g_path_get_basename (task->video_path) : NULL;

      json_builder_begin_object (builder);
      add_journal_string (builder, "id", task->id);
      add_journal_string (builder, "secret", task->secret);
      add_journal_string (builder, "status", status_names[task->status]);
      add_journal_string (builder, "recipe", recipe);
      json_builder_set_member_name (builder, "duration");
      json_builder_add_int_value (builder, task->duration);
      add_journal_time (builder, "submit_time", task->submit_time);
      add_journal_time (builder, "scheduled_time", task->scheduled_time);
      add_journal_time (builder, "end_time", task->end_time);
      add_journal_string (builder, "video", video);
      add_journal_string (builder, "code", task->code);
      add_journal_string (builder, "message", task->message);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  text = json_to_string (root, TRUE);
  /* The journal holds the result keys: readable by this user only. */
  if (!g_file_set_contents_full (self->journal_path, text, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600, &error))
    g_message ("takes-server: the task journal cannot be written: %s", error->message);
}

static GDateTime *
journal_time (JsonObject *object, const char *name)
{
  const char *text = takes_backend_json_get_string (object, name);

  return text != NULL ? g_date_time_new_from_iso8601 (text, NULL) : NULL;
}

static TaskStatus
journal_status (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (status_names); i++)
    if (g_strcmp0 (name, status_names[i]) == 0)
      return (TaskStatus)i;
  return TASK_FAILED;
}

/* One task of the journal, or NULL (and it is dropped) when it has expired
 * or its entry is unusable. */
static ServerTask *
journal_task (TakesServer *self, JsonObject *object, GDateTime *now)
{
  g_autoptr (ServerTask) task = g_rc_box_new0 (ServerTask);
  const char *id = takes_backend_json_get_string (object, "id");
  const char *secret = takes_backend_json_get_string (object, "secret");
  const char *recipe = takes_backend_json_get_string (object, "recipe");
  const char *video = takes_backend_json_get_string (object, "video");
  double duration = 0;

  if (id == NULL || !g_uuid_string_is_valid (id) || secret == NULL || recipe == NULL)
    return NULL;
  task->id = g_strdup (id);
  task->secret = g_strdup (secret);
  task->recipe = takes_recipe_new_from_json (recipe, -1, NULL);
  task->status = journal_status (takes_backend_json_get_string (object, "status"));
  task->submit_time = journal_time (object, "submit_time");
  task->scheduled_time = journal_time (object, "scheduled_time");
  task->end_time = journal_time (object, "end_time");
  task->code = g_strdup (takes_backend_json_get_string (object, "code"));
  task->message = g_strdup (takes_backend_json_get_string (object, "message"));
  takes_backend_json_get_number (object, "duration", &duration);
  task->duration = (guint)CLAMP (duration, 0, 3600);
  if (task->recipe == NULL || task->submit_time == NULL)
    return NULL;
  if (!task_is_active (task))
    {
      GTimeSpan age;

      if (task->end_time == NULL)
        task->end_time = g_date_time_ref (now);
      age = MAX (g_date_time_difference (now, task->end_time), 0);
      /* Its result file goes with the other results no task keeps. */
      if (age >= (GTimeSpan)self->task_lifetime * G_USEC_PER_SEC)
        return NULL;
      task->ended_monotonic = g_get_monotonic_time () - age;
    }
  if (task->status == TASK_SUCCEEDED)
    {
      task->video_path = result_path_for (self, task);
      if (video == NULL || !g_file_test (task->video_path, G_FILE_TEST_IS_REGULAR))
        {
          g_clear_pointer (&task->video_path, g_free);
          task->status = TASK_FAILED;
          task->code = g_strdup ("InternalError");
          task->message = g_strdup ("The result of this task was lost on the server (its file is missing). "
                                    "Submit the take again.");
        }
    }
  else if (task_is_active (task))
    {
      /* Cut off by a restart or a crash: it runs again from the start. */
      task->status = TASK_PENDING;
      g_clear_pointer (&task->scheduled_time, g_date_time_unref);
    }
  task->server = self;
  return g_steal_pointer (&task);
}

/* Reads the journal of an earlier run. A journal that cannot be read is set
 * aside under another name, never overwritten, and the server starts
 * without its tasks. */
static void
journal_load (TakesServer *self)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  JsonNode *root, *tasks_node;
  JsonObject *object;
  JsonArray *tasks;
  double version = 0;

  if (!g_file_test (self->journal_path, G_FILE_TEST_EXISTS))
    return;
  if (json_parser_load_from_mapped_file (parser, self->journal_path, &error)
      && (root = json_parser_get_root (parser)) != NULL && JSON_NODE_HOLDS_OBJECT (root)
      && (object = json_node_get_object (root)) != NULL
      && takes_backend_json_get_number (object, "version", &version) && version == JOURNAL_VERSION
      && (tasks_node = json_object_get_member (object, "tasks")) != NULL && JSON_NODE_HOLDS_ARRAY (tasks_node)
      && (tasks = json_node_get_array (tasks_node)) != NULL)
    {
      for (guint i = 0; i < json_array_get_length (tasks); i++)
        {
          JsonNode *node = json_array_get_element (tasks, i);
          ServerTask *task
              = JSON_NODE_HOLDS_OBJECT (node) ? journal_task (self, json_node_get_object (node), now) : NULL;

          if (task != NULL && !g_hash_table_contains (self->tasks, task->id))
            g_hash_table_insert (self->tasks, task->id, task);
          else if (task != NULL)
            forget_task (task);
        }
      return;
    }
  {
    g_autofree char *stamp = g_date_time_format (now, "%Y%m%d-%H%M%S");
    g_autofree char *aside = g_strdup_printf ("%s.damaged-%s", self->journal_path, stamp);

    g_rename (self->journal_path, aside);
    g_message ("takes-server: the task journal %s cannot be read (%s); it was set aside as %s and the "
               "server starts without the tasks of its earlier run.",
               self->journal_path, error != NULL ? error->message : "not a task journal", aside);
  }
}

/* Hands the tasks that a restart cut off to the backend again. */
static void
start_task (TakesServer *self, ServerTask *task)
{
  if (task->cancellable == NULL)
    task->cancellable = g_cancellable_new ();
  takes_backend_submit_async (self->backend, task->recipe, task->cancellable, submit_cb,
                              server_task_ref (task));
}

static void
resume_tasks (TakesServer *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->tasks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (task_is_active (value))
      {
        g_debug ("takes-server: task %s runs again after a restart", ((ServerTask *)value)->id);
        start_task (self, value);
      }
}

/* Replies ------------------------------------------------------------------- */

/* Messages on the wire stay in English, like DashScope's own: the client
 * quotes them inside its own translated sentence. */

static char *
format_time (GDateTime *when)
{
  g_autofree char *base = g_date_time_format (when, "%Y-%m-%d %H:%M:%S");

  return g_strdup_printf ("%s.%03d", base, g_date_time_get_microsecond (when) / 1000);
}

static void
reply_json (SoupServerMessage *msg, guint status, JsonBuilder *builder)
{
  g_autoptr (JsonNode) root = json_builder_get_root (builder);
  g_autofree char *text = json_to_string (root, FALSE);
  gsize length = strlen (text);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, g_steal_pointer (&text),
                                    length);
}

static JsonBuilder *
begin_reply (void)
{
  JsonBuilder *builder = json_builder_new_immutable ();
  g_autofree char *request_id = g_uuid_string_random ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "request_id");
  json_builder_add_string_value (builder, request_id);
  return builder;
}

static void
reply_error (SoupServerMessage *msg, guint status, const char *code, const char *message)
{
  g_autoptr (JsonBuilder) builder = begin_reply ();

  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  reply_json (msg, status, builder);
}

static void
add_time (JsonBuilder *builder, const char *name, GDateTime *when)
{
  g_autofree char *text = NULL;

  if (when == NULL)
    return;
  text = format_time (when);
  json_builder_set_member_name (builder, name);
  json_builder_add_string_value (builder, text);
}

/* The scheme, host and port the client used: on a wildcard address only
 * the client knows which of them reaches this machine. */
static char *
request_origin (TakesServer *self, SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const char *host = uri != NULL ? g_uri_get_host (uri) : NULL;

  if (host == NULL || *host == '\0')
    return g_strdup (self->origin);
  return g_strdup_printf (strchr (host, ':') != NULL ? "http://[%s]:%d" : "http://%s:%d", host,
                          g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : (int)self->port);
}

static void
add_task_output (TakesServer *self, SoupServerMessage *msg, JsonBuilder *builder, ServerTask *task)
{
  json_builder_set_member_name (builder, "output");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "task_id");
  json_builder_add_string_value (builder, task->id);
  json_builder_set_member_name (builder, "task_status");
  json_builder_add_string_value (builder, status_names[task->status]);
  add_time (builder, "submit_time", task->submit_time);
  add_time (builder, "scheduled_time", task->scheduled_time);
  add_time (builder, "end_time", task->end_time);
  if (task->status == TASK_SUCCEEDED)
    {
      g_autofree char *origin = request_origin (self, msg);
      g_autofree char *url
          = g_strdup_printf ("%s" RESULTS_PREFIX "%s.mp4?key=%s", origin, task->id, task->secret);

      json_builder_set_member_name (builder, "video_url");
      json_builder_add_string_value (builder, url);
    }
  if (task->status == TASK_FAILED)
    {
      json_builder_set_member_name (builder, "code");
      json_builder_add_string_value (builder, task->code);
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, task->message);
    }
  json_builder_end_object (builder);
  if (task->status == TASK_SUCCEEDED)
    {
      json_builder_set_member_name (builder, "usage");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "video_count");
      json_builder_add_int_value (builder, 1);
      json_builder_set_member_name (builder, "video_duration");
      json_builder_add_int_value (builder, task->duration);
      json_builder_set_member_name (builder, "video_ratio");
      {
        g_autofree char *ratio = g_strdup_printf ("%u*%u", takes_recipe_get_width (task->recipe),
                                                  takes_recipe_get_height (task->recipe));

        json_builder_add_string_value (builder, ratio);
      }
      json_builder_end_object (builder);
    }
}

/* Authorisation ------------------------------------------------------------- */

/* Compares in time that depends only on the lengths, so the token cannot be
 * guessed byte by byte from response times. */
static gboolean
secret_equal (const char *a, const char *b)
{
  gsize la, lb;
  guint8 diff;

  if (a == NULL || b == NULL)
    return FALSE;
  la = strlen (a);
  lb = strlen (b);
  diff = la != lb;
  for (gsize i = 0; i < lb; i++)
    diff |= (guint8)a[i % MAX (la, 1)] ^ (guint8)b[i];
  return diff == 0;
}

static gboolean
check_authorized (TakesServer *self, SoupServerMessage *msg)
{
  const char *header;

  if (self->token == NULL)
    return TRUE;
  header = soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization");
  if (header != NULL && g_ascii_strncasecmp (header, "Bearer ", 7) == 0
      && secret_equal (header + 7, self->token))
    return TRUE;
  reply_error (msg, SOUP_STATUS_UNAUTHORIZED, "InvalidApiKey",
               header == NULL
                   ? "No API key was sent. Send the server's token as “Authorization: Bearer TOKEN”."
                   : "The API key is not this server's token. Ask its administrator for the token.");
  return FALSE;
}

/* Create -------------------------------------------------------------------- */

static JsonNode *
get_member (JsonObject *object, const char *name, GType type)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, name) : NULL;

  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return NULL;
  if (!JSON_NODE_HOLDS_VALUE (node) || json_node_get_value_type (node) != type)
    return (JsonNode *)-1;
  return node;
}

#define BAD_MEMBER ((JsonNode *)-1)

/* The protocol gives a duration in seconds; the engine wants a frame count
 * of its own form (4n+1 for Wan) at the model's frame rate. */
static guint
frames_for_duration (TakesBackendModelCaps *model, guint fps, guint seconds)
{
  guint step = model != NULL && model->frame_step > 0 ? model->frame_step : 1;
  guint frames = step * (guint)MAX (1.0, round ((double)seconds * fps / step)) + (step > 1 ? 1 : 0);

  if (model != NULL && model->max_frames > 0 && frames > model->max_frames)
    frames = model->max_frames;
  return frames;
}

/* A recipe from a create body; FALSE (with the reply set) when it is bad. */
static TakesRecipe *
recipe_from_request (TakesServer *self, SoupServerMessage *msg, guint *duration_out)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (TakesRecipe) recipe = NULL;
  g_autoptr (TakesBackendCapabilities) caps = NULL;
  TakesBackendModelCaps *model_caps;
  JsonObject *request, *input, *parameters;
  JsonNode *model, *prompt, *negative, *size, *duration, *seed;
  guint width = 0, height = 0, fps, seconds = 5;

  if (!g_utf8_validate (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL)
      || !json_parser_load_from_data (parser, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL)
      || json_parser_get_root (parser) == NULL || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "InvalidParameter",
                   "The request body is not a JSON object.");
      return NULL;
    }
  request = json_node_get_object (json_parser_get_root (parser));
  input = takes_backend_json_get_object (request, "input");
  parameters = takes_backend_json_get_object (request, "parameters");
  model = get_member (request, "model", G_TYPE_STRING);
  prompt = get_member (input, "prompt", G_TYPE_STRING);
  negative = get_member (input, "negative_prompt", G_TYPE_STRING);
  size = get_member (parameters, "size", G_TYPE_STRING);
  duration = get_member (parameters, "duration", G_TYPE_INT64);
  seed = get_member (parameters, "seed", G_TYPE_INT64);
  if (model == NULL || model == BAD_MEMBER || prompt == NULL || prompt == BAD_MEMBER)
    {
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "InvalidParameter",
                   "“model” and “input.prompt” are required and must be strings.");
      return NULL;
    }
  if (negative == BAD_MEMBER || size == BAD_MEMBER || duration == BAD_MEMBER || seed == BAD_MEMBER)
    {
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "InvalidParameter",
                   "“input.negative_prompt” and “parameters.size” must be strings, “parameters.duration” "
                   "and “parameters.seed” whole numbers.");
      return NULL;
    }
  if (size != NULL && !takes_backend_dashscope_parse_size (json_node_get_string (size), &width, &height))
    {
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "InvalidParameter",
                   "“parameters.size” must be written as WIDTH*HEIGHT, for example “832*480”.");
      return NULL;
    }
  if (duration != NULL && (json_node_get_int (duration) < 1 || json_node_get_int (duration) > 60))
    {
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "InvalidParameter",
                   "“parameters.duration” must be between 1 and 60 seconds.");
      return NULL;
    }
  if (seed != NULL && (json_node_get_int (seed) < 0 || json_node_get_int (seed) > TAKES_RECIPE_MAX_SEED))
    {
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "InvalidParameter",
                   "“parameters.seed” must be between 0 and 2147483647.");
      return NULL;
    }

  recipe = self->defaults != NULL ? takes_recipe_copy (self->defaults) : takes_recipe_new ();
  takes_recipe_set_backend (recipe, takes_backend_get_id (self->backend));
  takes_recipe_set_model (recipe, json_node_get_string (model));
  takes_recipe_set_prompt (recipe, json_node_get_string (prompt));
  takes_recipe_set_negative_prompt (recipe, negative != NULL ? json_node_get_string (negative) : NULL);
  if (size != NULL)
    {
      takes_recipe_set_width (recipe, width);
      takes_recipe_set_height (recipe, height);
    }
  if (seed != NULL)
    takes_recipe_set_seed (recipe, json_node_get_int (seed));
  else
    takes_recipe_randomize_seed (recipe);
  if (duration != NULL)
    seconds = (guint)json_node_get_int (duration);

  caps = takes_backend_get_capabilities (self->backend);
  model_caps = takes_backend_capabilities_lookup_model (caps, json_node_get_string (model));
  fps = model_caps != NULL && model_caps->fps > 0 ? (guint)round (model_caps->fps)
                                                  : takes_recipe_get_fps (recipe);
  takes_recipe_set_fps (recipe, fps);
  takes_recipe_set_frames (recipe, frames_for_duration (model_caps, fps, seconds));
  *duration_out = seconds;
  return g_steal_pointer (&recipe);
}

static guint
count_active (TakesServer *self)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->tasks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (task_is_active (value))
      n++;
  return n;
}

static void
handle_create (TakesServer *self, SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  g_autoptr (TakesRecipe) recipe = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) builder = NULL;
  ServerTask *task;
  guint duration = 0;

  if (g_strcmp0 (soup_message_headers_get_one (headers, "X-DashScope-Async"), "enable") != 0)
    {
      reply_error (msg, SOUP_STATUS_FORBIDDEN, "AccessDenied",
                   "current user api does not support synchronous calls");
      return;
    }
  if (count_active (self) >= self->max_concurrent)
    {
      g_autofree char *message = g_strdup_printf (
          "This takes-server already has %u unfinished tasks, its limit. Try again when one finishes.",
          self->max_concurrent);

      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Retry-After",
                                    G_STRINGIFY (RETRY_AFTER_S));
      reply_error (msg, 429, "Throttling.AllocationQuota", message);
      return;
    }
  recipe = recipe_from_request (self, msg, &duration);
  if (recipe == NULL)
    return;
  if (!takes_backend_validate (self->backend, recipe, &error))
    {
      gboolean missing = g_error_matches (error, TAKES_BACKEND_ERROR, TAKES_BACKEND_ERROR_MISSING_MODEL);

      reply_error (msg, missing ? SOUP_STATUS_NOT_FOUND : SOUP_STATUS_BAD_REQUEST,
                   missing ? "ModelNotFound" : "InvalidParameter", error->message);
      return;
    }

  task = g_rc_box_new0 (ServerTask);
  task->server = self;
  task->id = g_uuid_string_random ();
  task->secret = random_hex (16);
  task->status = TASK_PENDING;
  task->recipe = g_steal_pointer (&recipe);
  task->cancellable = g_cancellable_new ();
  task->submit_time = g_date_time_new_now_utc ();
  task->duration = duration;
  g_hash_table_insert (self->tasks, task->id, task);
  g_debug ("takes-server: task %s created", task->id);
  journal_save (self);

  builder = begin_reply ();
  json_builder_set_member_name (builder, "output");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "task_id");
  json_builder_add_string_value (builder, task->id);
  json_builder_set_member_name (builder, "task_status");
  json_builder_add_string_value (builder, "PENDING");
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  reply_json (msg, SOUP_STATUS_OK, builder);
  start_task (self, task);
}

/* Query and cancel ---------------------------------------------------------- */

static void
handle_query (TakesServer *self, SoupServerMessage *msg, const char *task_id)
{
  ServerTask *task = g_hash_table_lookup (self->tasks, task_id);
  g_autoptr (JsonBuilder) builder = begin_reply ();

  if (task == NULL)
    {
      /* Unknown or expired ids answer 200 with UNKNOWN, as DashScope does. */
      json_builder_set_member_name (builder, "output");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "task_id");
      json_builder_add_string_value (builder, task_id);
      json_builder_set_member_name (builder, "task_status");
      json_builder_add_string_value (builder, "UNKNOWN");
      json_builder_end_object (builder);
    }
  else
    add_task_output (self, msg, builder, task);
  json_builder_end_object (builder);
  reply_json (msg, SOUP_STATUS_OK, builder);
}

/* Unlike DashScope, which cancels only PENDING tasks, a running local
 * generation can be stopped too: the engine checks between steps. */
static void
handle_cancel (TakesServer *self, SoupServerMessage *msg, const char *task_id)
{
  ServerTask *task = g_hash_table_lookup (self->tasks, task_id);
  g_autoptr (JsonBuilder) builder = NULL;

  if (task == NULL)
    {
      reply_error (msg, SOUP_STATUS_NOT_FOUND, "UnsupportedOperation",
                   "There is no task with this id; it may have expired.");
      return;
    }
  if (!task_is_active (task))
    {
      reply_error (msg, SOUP_STATUS_BAD_REQUEST, "UnsupportedOperation",
                   "Failed to cancel the task: it has already finished.");
      return;
    }
  task_end (task, TASK_CANCELED, NULL, NULL);
  task_cancel (task);
  builder = begin_reply ();
  add_task_output (self, msg, builder, task);
  json_builder_end_object (builder);
  reply_json (msg, SOUP_STATUS_OK, builder);
}

/* Results ------------------------------------------------------------------- */

static void
handle_result (TakesServer *self, SoupServerMessage *msg, const char *name, GHashTable *query)
{
  g_autofree char *task_id = g_str_has_suffix (name, ".mp4") ? g_strndup (name, strlen (name) - 4) : NULL;
  ServerTask *task = task_id != NULL ? g_hash_table_lookup (self->tasks, task_id) : NULL;
  const char *key = query != NULL ? g_hash_table_lookup (query, "key") : NULL;
  g_autoptr (GMappedFile) mapped = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  const char *method = soup_server_message_get_method (msg);

  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD"))
    {
      reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "InvalidParameter", "Results can only be fetched.");
      return;
    }
  /* A wrong key looks like an unknown result, so ids cannot be probed. */
  if (task == NULL || task->status != TASK_SUCCEEDED || !secret_equal (key, task->secret))
    {
      reply_error (msg, SOUP_STATUS_NOT_FOUND, "NotFound", "There is no such result; it may have expired.");
      return;
    }
  mapped = g_mapped_file_new (task->video_path, FALSE, &error);
  if (mapped == NULL)
    {
      g_warning ("takes-server: cannot read the result of task %s: %s", task->id, error->message);
      reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "InternalError",
                   "The result file of this task cannot be read on the server.");
      return;
    }
  bytes = g_mapped_file_get_bytes (mapped);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_set_content_type (soup_server_message_get_response_headers (msg), "video/mp4", NULL);
  soup_message_body_append_bytes (soup_server_message_get_response_body (msg), bytes);
}

/* Routing ------------------------------------------------------------------- */

static void
handler_cb (
    SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  TakesServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);

  /* The size check on the headers already answered. */
  if (soup_server_message_get_status (msg) != SOUP_STATUS_NONE)
    return;
  if (g_str_has_prefix (path, RESULTS_PREFIX))
    {
      handle_result (self, msg, path + strlen (RESULTS_PREFIX), query);
      return;
    }
  if (!g_str_has_prefix (path, API_PREFIX "/"))
    {
      reply_error (msg, SOUP_STATUS_NOT_FOUND, "NotFound", "No such route.");
      return;
    }
  if (!check_authorized (self, msg))
    return;
  if (g_str_equal (path, CREATE_PATH) && g_str_equal (method, "POST"))
    handle_create (self, msg);
  else if (g_str_has_prefix (path, TASKS_PREFIX))
    {
      g_autofree char *rest = g_strdup (path + strlen (TASKS_PREFIX));
      char *slash = strchr (rest, '/');

      if (slash == NULL && g_str_equal (method, "GET"))
        handle_query (self, msg, rest);
      else if (slash != NULL && g_str_equal (slash, "/cancel") && g_str_equal (method, "POST"))
        {
          *slash = '\0';
          handle_cancel (self, msg, rest);
        }
      else
        reply_error (msg, SOUP_STATUS_NOT_FOUND, "NotFound", "No such route.");
    }
  else
    reply_error (msg, SOUP_STATUS_NOT_FOUND, "NotFound", "No such route.");
}

static void
got_headers_cb (SoupServerMessage *msg, gpointer user_data)
{
  TakesServer *self = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  SoupEncoding encoding = soup_message_headers_get_encoding (headers);
  g_autofree char *message = NULL;

  if (encoding == SOUP_ENCODING_CONTENT_LENGTH
      && soup_message_headers_get_content_length (headers) <= (goffset)self->max_body_size)
    return;
  if (encoding == SOUP_ENCODING_NONE)
    return;
  message = g_strdup_printf ("The request body is larger than this server accepts (%" G_GSIZE_FORMAT
                             " bytes), or its length was not given.",
                             self->max_body_size);
  reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "InvalidParameter", message);
  /* libsoup still reads the body off the socket; it is dropped chunk by
   * chunk instead of being kept, so its size costs no memory. */
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection", "close");
}

static void
request_started_cb (SoupServer *server, SoupServerMessage *msg, gpointer user_data)
{
  g_signal_connect_object (msg, "got-headers", G_CALLBACK (got_headers_cb), user_data, 0);
}

/* Expiry -------------------------------------------------------------------- */

static gboolean
task_expired (TakesServer *self, ServerTask *task, gint64 now)
{
  return !task_is_active (task)
         && now - task->ended_monotonic >= (gint64)self->task_lifetime * G_USEC_PER_SEC;
}

static void
sweep (TakesServer *self)
{
  GHashTableIter iter;
  gpointer value;
  gint64 now = g_get_monotonic_time ();
  gboolean removed = FALSE;

  g_hash_table_iter_init (&iter, self->tasks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      ServerTask *task = value;

      if (!task_expired (self, task, now))
        continue;
      if (task->video_path != NULL)
        g_unlink (task->video_path);
      g_hash_table_iter_remove (&iter);
      removed = TRUE;
    }
  if (removed)
    journal_save (self);
}

static gboolean
sweep_cb (gpointer user_data)
{
  sweep (user_data);
  return G_SOURCE_CONTINUE;
}

/* GObject ------------------------------------------------------------------- */

static void
forget_task (gpointer data)
{
  ServerTask *task = data;

  task->server = NULL;
  server_task_unref (task);
}

void
takes_server_shutdown (TakesServer *self)
{
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (TAKES_IS_SERVER (self));

  if (self->soup != NULL)
    soup_server_disconnect (self->soup);
  g_clear_object (&self->soup);
  g_clear_handle_id (&self->sweep_source, g_source_remove);
  self->closing = TRUE;
  g_hash_table_iter_init (&iter, self->tasks);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      ServerTask *task = value;

      if (task_is_active (task))
        {
          task_end (task, TASK_CANCELED, NULL, NULL);
          task_cancel (task);
        }
    }
}

static void
takes_server_dispose (GObject *object)
{
  TakesServer *self = TAKES_SERVER (object);

  /* The results stay for the next server on this folder, as its journal
   * says; expired ones are removed when it starts. */
  takes_server_shutdown (self);
  g_hash_table_remove_all (self->tasks);
  g_clear_object (&self->backend);
  g_clear_object (&self->defaults);

  G_OBJECT_CLASS (takes_server_parent_class)->dispose (object);
}

static void
takes_server_finalize (GObject *object)
{
  TakesServer *self = TAKES_SERVER (object);

  g_hash_table_unref (self->tasks);
  g_free (self->data_dir);
  g_free (self->results_dir);
  g_free (self->journal_path);
  if (self->token != NULL)
    explicit_bzero (self->token, strlen (self->token));
  g_free (self->token);
  g_free (self->origin);

  G_OBJECT_CLASS (takes_server_parent_class)->finalize (object);
}

static void
takes_server_get_property (GObject *object, guint prop_id, GValue *value, GParamSpec *pspec)
{
  TakesServer *self = TAKES_SERVER (object);

  switch (prop_id)
    {
      case PROP_BACKEND:
        g_value_set_object (value, self->backend);
        break;
      case PROP_DATA_DIR:
        g_value_set_string (value, self->data_dir);
        break;
      case PROP_MAX_CONCURRENT:
        g_value_set_uint (value, self->max_concurrent);
        break;
      case PROP_MAX_BODY_SIZE:
        g_value_set_uint64 (value, self->max_body_size);
        break;
      case PROP_TASK_LIFETIME:
        g_value_set_uint (value, self->task_lifetime);
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_server_set_property (GObject *object, guint prop_id, const GValue *value, GParamSpec *pspec)
{
  TakesServer *self = TAKES_SERVER (object);

  switch (prop_id)
    {
      case PROP_BACKEND:
        self->backend = g_value_dup_object (value);
        break;
      case PROP_DATA_DIR:
        self->data_dir = g_value_dup_string (value);
        break;
      case PROP_MAX_CONCURRENT:
        takes_server_set_max_concurrent (self, g_value_get_uint (value));
        break;
      case PROP_MAX_BODY_SIZE:
        takes_server_set_max_body_size (self, (gsize)g_value_get_uint64 (value));
        break;
      case PROP_TASK_LIFETIME:
        takes_server_set_task_lifetime (self, g_value_get_uint (value));
        break;
      default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
takes_server_constructed (GObject *object)
{
  TakesServer *self = TAKES_SERVER (object);

  G_OBJECT_CLASS (takes_server_parent_class)->constructed (object);

  if (self->data_dir == NULL)
    self->data_dir = g_build_filename (g_get_user_data_dir (), "takes-server", NULL);
  self->results_dir = g_build_filename (self->data_dir, RESULTS_DIR, NULL);
}

static void
takes_server_class_init (TakesServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = takes_server_constructed;
  object_class->dispose = takes_server_dispose;
  object_class->finalize = takes_server_finalize;
  object_class->get_property = takes_server_get_property;
  object_class->set_property = takes_server_set_property;

  properties[PROP_BACKEND]
      = g_param_spec_object ("backend", NULL, NULL, TAKES_TYPE_BACKEND,
                             G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_DATA_DIR] = g_param_spec_string (
      "data-dir", NULL, NULL, NULL, G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_CONCURRENT]
      = g_param_spec_uint ("max-concurrent", NULL, NULL, 1, 1024, TAKES_SERVER_DEFAULT_MAX_CONCURRENT,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_MAX_BODY_SIZE]
      = g_param_spec_uint64 ("max-body-size", NULL, NULL, 1, G_MAXSIZE, TAKES_SERVER_DEFAULT_MAX_BODY,
                             G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_TASK_LIFETIME]
      = g_param_spec_uint ("task-lifetime", NULL, NULL, 0, G_MAXUINT, TAKES_SERVER_DEFAULT_TASK_LIFETIME,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
takes_server_init (TakesServer *self)
{
  self->max_concurrent = TAKES_SERVER_DEFAULT_MAX_CONCURRENT;
  self->max_body_size = TAKES_SERVER_DEFAULT_MAX_BODY;
  self->task_lifetime = TAKES_SERVER_DEFAULT_TASK_LIFETIME;
  self->tasks = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, forget_task);
}

TakesServer *
takes_server_new (TakesBackend *backend, const char *data_dir)
{
  g_return_val_if_fail (TAKES_IS_BACKEND (backend), NULL);

  return g_object_new (TAKES_TYPE_SERVER, "backend", backend, "data-dir", data_dir, NULL);
}

TakesBackend *
takes_server_get_backend (TakesServer *self)
{
  g_return_val_if_fail (TAKES_IS_SERVER (self), NULL);
  return self->backend;
}

const char *
takes_server_get_data_dir (TakesServer *self)
{
  g_return_val_if_fail (TAKES_IS_SERVER (self), NULL);
  return self->data_dir;
}

void
takes_server_set_token (TakesServer *self, const char *token)
{
  g_return_if_fail (TAKES_IS_SERVER (self));
  g_return_if_fail (self->soup == NULL);

  if (self->token != NULL)
    explicit_bzero (self->token, strlen (self->token));
  g_free (self->token);
  self->token = token != NULL && *token != '\0' ? g_strdup (token) : NULL;
}

gboolean
takes_server_get_has_token (TakesServer *self)
{
  g_return_val_if_fail (TAKES_IS_SERVER (self), FALSE);
  return self->token != NULL;
}

gboolean
takes_server_load_token_file (TakesServer *self, const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  g_autofree char *display = g_filename_display_name (path);
  g_autoptr (GError) local_error = NULL;
  gsize length = 0;
  char *end;

  g_return_val_if_fail (TAKES_IS_SERVER (self), FALSE);

  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, TAKES_SERVER_ERROR, TAKES_SERVER_ERROR_CONFIG,
                   _ ("The token file %s cannot be read (%s). Check the path and its permissions."), display,
                   local_error->message);
      return FALSE;
    }
  end = strpbrk (contents, "\r\n");
  if (end != NULL)
    *end = '\0';
  g_strstrip (contents);
  if (length > MAX_TOKEN_FILE_BYTES || *contents == '\0' || !g_utf8_validate (contents, -1, NULL)
      || strlen (contents) < 16)
    {
      explicit_bzero (contents, length);
      g_set_error (error, TAKES_SERVER_ERROR, TAKES_SERVER_ERROR_CONFIG,
                   _ ("The token file %s does not start with a token of at least 16 characters. Write a "
                      "long random token on its first line."),
                   display);
      return FALSE;
    }
  takes_server_set_token (self, contents);
  explicit_bzero (contents, length);
  return TRUE;
}

guint
takes_server_get_max_concurrent (TakesServer *self)
{
  g_return_val_if_fail (TAKES_IS_SERVER (self), 0);
  return self->max_concurrent;
}

void
takes_server_set_max_concurrent (TakesServer *self, guint max_concurrent)
{
  g_return_if_fail (TAKES_IS_SERVER (self));

  max_concurrent = MAX (max_concurrent, 1u);
  if (self->max_concurrent == max_concurrent)
    return;
  self->max_concurrent = max_concurrent;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_CONCURRENT]);
}

gsize
takes_server_get_max_body_size (TakesServer *self)
{
  g_return_val_if_fail (TAKES_IS_SERVER (self), 0);
  return self->max_body_size;
}

void
takes_server_set_max_body_size (TakesServer *self, gsize max_bytes)
{
  g_return_if_fail (TAKES_IS_SERVER (self));

  max_bytes = MAX (max_bytes, 1u);
  if (self->max_body_size == max_bytes)
    return;
  self->max_body_size = max_bytes;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MAX_BODY_SIZE]);
}

guint
takes_server_get_task_lifetime (TakesServer *self)
{
  g_return_val_if_fail (TAKES_IS_SERVER (self), 0);
  return self->task_lifetime;
}

void
takes_server_set_task_lifetime (TakesServer *self, guint seconds)
{
  g_return_if_fail (TAKES_IS_SERVER (self));

  if (self->task_lifetime == seconds)
    return;
  self->task_lifetime = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TASK_LIFETIME]);
}

void
takes_server_set_recipe_defaults (TakesServer *self, TakesRecipe *defaults)
{
  g_return_if_fail (TAKES_IS_SERVER (self));
  g_return_if_fail (defaults == NULL || TAKES_IS_RECIPE (defaults));

  g_clear_object (&self->defaults);
  self->defaults = defaults != NULL ? takes_recipe_copy (defaults) : NULL;
}

gboolean
takes_server_parse_address (const char *text, char **host, guint *port, GError **error)
{
  const char *colon;
  g_autofree char *name = NULL;
  guint64 number = 0;

  g_return_val_if_fail (text != NULL, FALSE);

  colon = strrchr (text, ':');
  if (text[0] == '[')
    {
      const char *close = strchr (text, ']');

      if (close == NULL || close[1] != ':')
        colon = NULL;
      else
        {
          name = g_strndup (text + 1, close - text - 1);
          colon = close + 1;
        }
    }
  else if (colon != NULL)
    name = g_strndup (text, colon - text);
  if (colon == NULL || name == NULL || *name == '\0' || (strchr (name, ':') != NULL && text[0] != '[')
      || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &number, NULL))
    {
      g_set_error (error, TAKES_SERVER_ERROR, TAKES_SERVER_ERROR_ADDRESS,
                   _ ("“%s” is not an address to listen on. Write HOST:PORT, for example 127.0.0.1:8765 "
                      "(port 0 picks a free port)."),
                   text);
      return FALSE;
    }
  *host = g_steal_pointer (&name);
  *port = (guint)number;
  return TRUE;
}

static gboolean
ensure_results_dir (TakesServer *self, GError **error)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (g_mkdir_with_parents (self->results_dir, 0700) != 0)
    {
      int saved = errno;
      g_autofree char *display = g_filename_display_name (self->results_dir);

      g_set_error (error, TAKES_SERVER_ERROR, TAKES_SERVER_ERROR_CONFIG,
                   _ ("The folder %s cannot be made (%s). Choose another data folder with --data-dir."),
                   display, g_strerror (saved));
      return FALSE;
    }
  self->journal_path = g_build_filename (self->data_dir, JOURNAL_FILE, NULL);
  journal_load (self);
  /* Results of an earlier run whose tasks the journal does not keep. */
  dir = g_dir_open (self->results_dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *stem = g_str_has_suffix (name, ".mp4") ? g_strndup (name, strlen (name) - 4) : NULL;
      ServerTask *task = stem != NULL ? g_hash_table_lookup (self->tasks, stem) : NULL;

      if (stem != NULL && g_uuid_string_is_valid (stem) && (task == NULL || task->video_path == NULL))
        {
          g_autofree char *path = g_build_filename (self->results_dir, name, NULL);

          g_unlink (path);
        }
    }
  return TRUE;
}

gboolean
takes_server_listen (TakesServer *self, const char *host, guint port, GError **error)
{
  g_autoptr (GInetAddress) address = NULL;
  g_autoptr (GSocketAddress) socket_address = NULL;
  g_autoptr (SoupServer) soup = NULL;
  g_autoptr (GError) local_error = NULL;
  GSList *uris;

  g_return_val_if_fail (TAKES_IS_SERVER (self), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);
  g_return_val_if_fail (self->soup == NULL, FALSE);

  address = g_inet_address_new_from_string (host);
  if (address == NULL && g_str_equal (host, "localhost"))
    address = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  if (address == NULL)
    {
      g_set_error (error, TAKES_SERVER_ERROR, TAKES_SERVER_ERROR_ADDRESS,
                   _ ("“%s” is not an IP address. Give the numeric address of a network interface, such as "
                      "127.0.0.1 or 0.0.0.0."),
                   host);
      return FALSE;
    }
  if (!g_inet_address_get_is_loopback (address) && self->token == NULL)
    {
      g_set_error (error, TAKES_SERVER_ERROR, TAKES_SERVER_ERROR_INSECURE,
                   _ ("takes-server refuses to listen on %s without a token, because anyone who can reach "
                      "it could use this computer. Give a token file with --token-file, or listen on "
                      "127.0.0.1."),
                   host);
      return FALSE;
    }
  if (!ensure_results_dir (self, error))
    return FALSE;

  soup = soup_server_new ("server-header", "takes-server/" PACKAGE_VERSION " ", NULL);
  soup_server_add_handler (soup, NULL, handler_cb, self, NULL);
  g_signal_connect_object (soup, "request-started", G_CALLBACK (request_started_cb), self, 0);
  socket_address = g_inet_socket_address_new (address, port);
  if (!soup_server_listen (soup, socket_address, 0, &local_error))
    {
      g_set_error (error, TAKES_SERVER_ERROR, TAKES_SERVER_ERROR_ADDRESS,
                   _ ("takes-server cannot listen on %s port %u (%s). Choose another port, or stop the "
                      "program that uses it."),
                   host, port, local_error->message);
      return FALSE;
    }
  uris = soup_server_get_uris (soup);
  self->port = uris != NULL ? (guint)g_uri_get_port (uris->data) : port;
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);
  {
    g_autofree char *shown = g_inet_address_to_string (address);
    gboolean v6 = g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6;

    /* A wildcard address cannot be fetched from: give clients loopback. */
    if (g_inet_address_get_is_any (address))
      {
        g_free (shown);
        shown = g_strdup (v6 ? "::1" : "127.0.0.1");
      }
    self->origin = g_strdup_printf (v6 ? "http://[%s]:%u" : "http://%s:%u", shown, self->port);
  }
  self->soup = g_steal_pointer (&soup);
  self->sweep_source = g_timeout_add_seconds (SWEEP_INTERVAL_S, sweep_cb, self);
  journal_save (self);
  resume_tasks (self);
  return TRUE;
}

guint
takes_server_get_port (TakesServer *self)
{
  g_return_val_if_fail (TAKES_IS_SERVER (self), 0);
  return self->port;
}

const char *
takes_server_get_origin (TakesServer *self)
{
  g_return_val_if_fail (TAKES_IS_SERVER (self), NULL);
  return self->origin;
}

char *
takes_server_get_base_url (TakesServer *self)
{
  g_return_val_if_fail (TAKES_IS_SERVER (self), NULL);
  return self->origin != NULL ? g_strconcat (self->origin, API_PREFIX, NULL) : NULL;
}

guint
takes_server_get_n_active (TakesServer *self)
{
  g_return_val_if_fail (TAKES_IS_SERVER (self), 0);
  return count_active (self);
}
