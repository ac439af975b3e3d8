/* libFuzzer target for what remote servers send back: DashScope (and
 * takes-server, which speaks its protocol), ComfyUI's HTTP routes, and an
 * OpenAI-compatible chat endpoint streaming a prompt rewrite.
 *
 * The real clients run against a loopback server that answers each request
 * with the next piece of the input, so the whole path is exercised: status
 * handling, JSON and event-stream parsing, the polling state machines and
 * the downloads. The first byte picks the client. The rest is split at
 * "\n----\n" into replies; the first byte of each reply picks its HTTP
 * status and content type, the remaining bytes are the body, in which
 * "@SERVER@" stands for the server's address (so seeds can name their own
 * download URLs). Once the replies run out every request gets 404.
 *
 * Every host name resolves to 127.0.0.1, so a URL in a reply never leaves
 * this computer. Beyond "no crash, no leak, no warning", it checks that
 * every job ends with a result or an error, and that cancelling a job that
 * is still going ends it promptly.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "takes-backend-comfyui.h"
#include "takes-backend-dashscope.h"
#include "takes-llm.h"
#include "takes-recipe.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

#define SEPARATOR "\n----\n"
/* A job still going after this long is cancelled; one that then takes this
 * long again to end is a hang. */
#define RUN_LIMIT_US (2 * G_USEC_PER_SEC)

typedef struct
{
  guint status;
  const char *content_type;
  GBytes *body;
} Reply;

static const guint statuses[] = { 200, 200, 200, 200, 201, 204, 400, 401, 403, 404, 413, 429, 500, 503 };
static const char *const content_types[] = { "application/json", "text/event-stream", "text/html" };

static gboolean trace;
static SoupServer *server;
static char *server_url;
static char *download_dir;
static GQueue replies = G_QUEUE_INIT;

static void
reply_free (gpointer data)
{
  Reply *reply = data;

  g_bytes_unref (reply->body);
  g_free (reply);
}

/* Every name is this computer ------------------------------------------------ */

typedef struct
{
  GResolver parent_instance;
} LoopbackResolver;

typedef struct
{
  GResolverClass parent_class;
} LoopbackResolverClass;

GType loopback_resolver_get_type (void);
G_DEFINE_TYPE (LoopbackResolver, loopback_resolver, G_TYPE_RESOLVER)

static GList *
loopback_list (void)
{
  return g_list_append (NULL, g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4));
}

static GList *
loopback_lookup_by_name (GResolver *resolver, const char *hostname, GCancellable *cancellable, GError **error)
{
  return loopback_list ();
}

static GList *
loopback_lookup_by_name_with_flags (GResolver *resolver,
                                    const char *hostname,
                                    GResolverNameLookupFlags flags,
                                    GCancellable *cancellable,
                                    GError **error)
{
  return loopback_list ();
}

static void
loopback_lookup_by_name_async (GResolver *resolver,
                               const char *hostname,
                               GCancellable *cancellable,
                               GAsyncReadyCallback callback,
                               gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (resolver, cancellable, callback, user_data);

  g_task_return_pointer (task, loopback_list (), (GDestroyNotify)g_resolver_free_addresses);
}

static void
loopback_lookup_by_name_with_flags_async (GResolver *resolver,
                                          const char *hostname,
                                          GResolverNameLookupFlags flags,
                                          GCancellable *cancellable,
                                          GAsyncReadyCallback callback,
                                          gpointer user_data)
{
  loopback_lookup_by_name_async (resolver, hostname, cancellable, callback, user_data);
}

static GList *
loopback_lookup_by_name_finish (GResolver *resolver, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
loopback_resolver_class_init (LoopbackResolverClass *klass)
{
  GResolverClass *resolver_class = G_RESOLVER_CLASS (klass);

  resolver_class->lookup_by_name = loopback_lookup_by_name;
  resolver_class->lookup_by_name_async = loopback_lookup_by_name_async;
  resolver_class->lookup_by_name_finish = loopback_lookup_by_name_finish;
  resolver_class->lookup_by_name_with_flags = loopback_lookup_by_name_with_flags;
  resolver_class->lookup_by_name_with_flags_async = loopback_lookup_by_name_with_flags_async;
  resolver_class->lookup_by_name_with_flags_finish = loopback_lookup_by_name_finish;
}

static void
loopback_resolver_init (LoopbackResolver *self)
{
}

/* The scripted server ------------------------------------------------------------ */

static void
server_cb (SoupServer *srv, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  Reply *reply;

  if (trace)
    g_printerr ("%s %s\n", soup_server_message_get_method (msg), path);
  /* Without a socket the ComfyUI client follows the job through /history,
   * whose replies are the ones worth fuzzing. */
  if (g_str_equal (path, "/ws") || (reply = g_queue_pop_head (&replies)) == NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
      return;
    }
  soup_server_message_set_status (msg, reply->status, NULL);
  if (reply->status != 204)
    {
      gsize size = 0;
      const char *body = g_bytes_get_data (reply->body, &size);

      soup_server_message_set_response (msg, reply->content_type, SOUP_MEMORY_COPY, body, size);
    }
  reply_free (reply);
}

static GBytes *
body_for (const guint8 *data, gsize size)
{
  g_autoptr (GString) text = g_string_new_len ((const char *)data, (gssize)size);

  g_string_replace (text, "@SERVER@", server_url, 0);
  return g_string_free_to_bytes (g_steal_pointer (&text));
}

static void
script_replies (const guint8 *data, gsize size)
{
  const guint8 *end = data + size;

  while (data < end)
    {
      const guint8 *next = memmem (data, (gsize)(end - data), SEPARATOR, strlen (SEPARATOR));
      const guint8 *stop = next != NULL ? next : end;
      Reply *reply = g_new0 (Reply, 1);

      reply->status = statuses[data[0] % G_N_ELEMENTS (statuses)];
      reply->content_type = content_types[(data[0] / G_N_ELEMENTS (statuses)) % G_N_ELEMENTS (content_types)];
      reply->body = body_for (data + 1, (gsize)(stop - data - 1 > 0 ? stop - data - 1 : 0));
      g_queue_push_tail (&replies, reply);
      data = next != NULL ? next + strlen (SEPARATOR) : end;
    }
}

/* Waiting --------------------------------------------------------------------------- */

static void
result_cb (GObject *source, GAsyncResult *result, gpointer user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

static gboolean
wake_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

/* Iterates until @slot is filled or @limit_us passed; TRUE when filled. */
static gboolean
wait_for (GAsyncResult **slot, gint64 limit_us)
{
  gint64 deadline = g_get_monotonic_time () + limit_us;
  guint wake = g_timeout_add (20, wake_cb, NULL);

  while (*slot == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_remove (wake);
  return *slot != NULL;
}

static void
drain (void)
{
  for (guint i = 0; i < 200 && g_main_context_iteration (NULL, FALSE); i++)
    ;
}

static void
empty_download_dir (void)
{
  g_autoptr (GDir) dir = g_dir_open (download_dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (download_dir, name, NULL);

      g_unlink (path);
    }
}

/* Submits @recipe and follows the job to its end. */
static void
run_job (TakesBackend *backend, TakesRecipe *recipe)
{
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) submitted = NULL;
  g_autoptr (GAsyncResult) ended = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (TakesBackendJob) job = NULL;
  g_autoptr (GError) error = NULL;

  takes_backend_submit_async (backend, recipe, cancellable, result_cb, &slot);
  if (!wait_for (&slot, RUN_LIMIT_US))
    {
      g_cancellable_cancel (cancellable);
      if (!wait_for (&slot, RUN_LIMIT_US))
        g_error ("A cancelled submission did not end");
    }
  submitted = g_steal_pointer (&slot);
  job = takes_backend_submit_finish (backend, submitted, &error);
  if (job == NULL)
    {
      if (trace && error != NULL)
        g_printerr ("submission: %s\n", error->message);
      if (error == NULL)
        g_error ("A submission failed without saying why");
      return;
    }

  takes_backend_job_wait_async (job, NULL, result_cb, &slot);
  if (!wait_for (&slot, RUN_LIMIT_US))
    {
      takes_backend_cancel (backend, job);
      if (!wait_for (&slot, RUN_LIMIT_US))
        g_error ("A cancelled job did not end");
    }
  ended = g_steal_pointer (&slot);
  if (!takes_backend_job_wait_finish (job, ended, &error) && error == NULL)
    g_error ("A job failed without saying why");
  if (trace)
    g_printerr ("job: %s\n", error != NULL ? error->message : "succeeded");
}

static TakesRecipe *
make_recipe (const char *backend, const char *model, guint width, guint height, guint frames, guint fps)
{
  TakesRecipe *recipe = takes_recipe_new ();

  takes_recipe_set_backend (recipe, backend);
  takes_recipe_set_model (recipe, model);
  takes_recipe_set_prompt (recipe, "A red fox trotting across fresh snow at dawn, low tracking shot");
  takes_recipe_set_negative_prompt (recipe, "blurry, low quality");
  takes_recipe_set_width (recipe, width);
  takes_recipe_set_height (recipe, height);
  takes_recipe_set_frames (recipe, frames);
  takes_recipe_set_fps (recipe, fps);
  takes_recipe_set_seed (recipe, 42);
  return recipe;
}

static void
run_dashscope (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendDashscope) backend = takes_backend_dashscope_new ("singapore", &error);
  g_autofree char *base = g_strdup_printf ("%s/api/v1", server_url);
  g_autoptr (TakesRecipe) recipe = make_recipe ("dashscope", "wan2.2-t2v-plus", 832, 480, 81, 16);

  if (backend == NULL)
    g_error ("%s", error->message);
  takes_backend_dashscope_set_base_url (backend, base);
  takes_backend_dashscope_set_api_key (backend, "fuzz-key");
  takes_backend_dashscope_set_download_dir (backend, download_dir);
  takes_backend_dashscope_set_poll_interval (backend, 0.001, 0.004);
  takes_backend_dashscope_set_poll_timeout (backend, 0.2);
  run_job (TAKES_BACKEND (backend), recipe);
}

static void
run_comfyui (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBackendComfyui) backend = takes_backend_comfyui_new (server_url, &error);
  g_autoptr (TakesRecipe) recipe = make_recipe ("comfyui", "wan2.2-ti2v-5b", 1280, 704, 121, 24);

  if (backend == NULL)
    g_error ("%s", error->message);
  takes_backend_comfyui_set_download_dir (backend, download_dir);
  takes_backend_comfyui_set_poll_interval (backend, 0.001);
  takes_backend_comfyui_set_timeout (backend, 0.2);
  run_job (TAKES_BACKEND (backend), recipe);
}

static void
run_llm (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *base = g_strdup_printf ("%s/v1", server_url);
  g_autoptr (TakesLlmClient) client = takes_llm_client_new (base, "fuzz-model", &error);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  GAsyncResult *slot = NULL;
  g_autoptr (GAsyncResult) result = NULL;
  TakesRewrite *rewrite;

  if (client == NULL)
    g_error ("%s", error->message);
  takes_llm_client_set_api_key (client, "fuzz-key");
  takes_llm_client_set_timeouts (client, 1000, 1000);
  takes_llm_client_rewrite_async (client, "a fox in the snow", "en", 42, NULL, NULL, NULL, cancellable,
                                  result_cb, &slot);
  if (!wait_for (&slot, RUN_LIMIT_US))
    {
      g_cancellable_cancel (cancellable);
      if (!wait_for (&slot, RUN_LIMIT_US))
        g_error ("A cancelled rewrite did not end");
    }
  result = g_steal_pointer (&slot);
  rewrite = takes_llm_client_rewrite_finish (client, result, &error);
  /* A failed rewrite falls back to the original prompt and says why. */
  if (rewrite == NULL && error == NULL)
    g_error ("A rewrite failed without saying why");
  if (rewrite != NULL && rewrite->fell_back
      && (rewrite->error == NULL || g_strcmp0 (rewrite->rewrite, rewrite->original) != 0))
    g_error ("A rewrite fell back without the original prompt and a reason");
  if (trace)
    g_printerr ("rewrite: %s\n", rewrite == NULL      ? error->message
                                 : rewrite->fell_back ? rewrite->error->message
                                                      : rewrite->rewrite);
  g_clear_pointer (&rewrite, takes_rewrite_free);
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GResolver) resolver = g_object_new (loopback_resolver_get_type (), NULL);
  g_autoslist (GUri) uris = NULL;

  /* TAKES_FUZZ_TRACE=1 prints each request and how each run ended, to
   * check what a seed reaches. */
  trace = g_getenv ("TAKES_FUZZ_TRACE") != NULL;
  /* No proxy lookups: every connection goes straight to loopback. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_resolver_set_default (resolver);
  download_dir = g_dir_make_tmp ("takes-fuzz-replies-XXXXXX", &error);
  if (download_dir == NULL)
    g_error ("%s", error->message);
  server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, NULL, server_cb, NULL, NULL);
  if (!soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error))
    g_error ("%s", error->message);
  uris = soup_server_get_uris (server);
  server_url = g_strdup_printf ("http://127.0.0.1:%d", g_uri_get_port (uris->data));
  return 0;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  if (size < 1)
    return 0;
  script_replies (data + 1, size - 1);
  switch (data[0] % 3)
    {
      case 0:
        run_dashscope ();
        break;
      case 1:
        run_comfyui ();
        break;
      default:
        run_llm ();
        break;
    }
  drain ();
  g_queue_clear_full (&replies, reply_free);
  empty_download_dir ();
  return 0;
}
