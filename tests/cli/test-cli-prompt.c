/* takes-cli batch plan, optimize and safety check, end to end. */
#include "config.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "cli-test-util.h"

typedef struct
{
  char *dir;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->dir = g_dir_make_tmp ("takes-cli-prompt-XXXXXX", NULL);
  g_assert_nonnull (f->dir);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_autoptr (GDir) dir = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);

      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

static char *
write_file (Fixture *f, const char *name, const char *contents)
{
  char *path = g_build_filename (f->dir, name, NULL);

  g_assert_true (g_file_set_contents (path, contents, -1, NULL));
  return path;
}

static const char *batch_json
    = "{\n"
      "  \"name\": \"tea ad\",\n"
      "  \"template\": \"A {drink} ad in {city}, {season}\",\n"
      "  \"negative\": \"blurry, text\",\n"
      "  \"variables\": {\"city\": [\"Paris\", \"Tokyo\", \"Lima\"],\n"
      "                \"season\": [\"spring\", \"winter\"], \"drink\": [\"tea\"]},\n"
      "  \"seed\": \"vary\", \"seed_base\": 7,\n"
      "  \"backend\": \"dashscope\", \"model\": \"wan2.2-t2v-plus\",\n"
      "  \"size\": \"832*480\", \"duration\": 5\n"
      "}\n";

static void
test_batch_plan_text (Fixture *f, gconstpointer data)
{
  g_autofree char *path = write_file (f, "tea.json", batch_json);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = cli_run (f->dir, &out, &err, "batch", "plan", path, NULL);

  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "6 variants"));
  g_assert_nonnull (strstr (out, "A tea ad in Paris, spring"));
  g_assert_nonnull (strstr (out, "A tea ad in Lima, winter"));
  g_assert_nonnull (strstr (out, "city=Tokyo"));
  g_assert_nonnull (strstr (out, "¥4.20"));
  g_assert_nonnull (strstr (out, "rough estimate"));
  g_assert_nonnull (strstr (out, "Nothing was queued"));
}

static void
test_batch_plan_json (Fixture *f, gconstpointer data)
{
  g_autofree char *path = write_file (f, "tea.json", batch_json);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *again = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root;
  JsonObject *plan;
  JsonObject *estimate;
  int status = cli_run (f->dir, &out, &err, "batch", "plan", path, "--json", NULL);

  g_assert_cmpint (status, ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  root = json_node_get_object (json_parser_get_root (parser));
  plan = json_object_get_object_member (root, "plan");
  estimate = json_object_get_object_member (root, "estimate");
  g_assert_cmpint (json_object_get_int_member (plan, "count"), ==, 6);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (plan, "variants")), ==, 6);
  g_assert_cmpfloat_with_epsilon (json_object_get_double_member (estimate, "cost"), 4.2, 1e-9);
  g_assert_cmpstr (json_object_get_string_member (estimate, "currency"), ==, "CNY");
  g_assert_true (json_object_get_boolean_member (estimate, "is_estimate"));
  g_assert_false (json_object_get_boolean_member (root, "queued"));
  /* A pinned seed base gives the same plan every time. */
  g_clear_pointer (&err, g_free);
  cli_run (f->dir, &again, &err, "batch", "plan", path, "--json", NULL);
  g_assert_cmpstr (again, ==, out);
}

static void
test_batch_plan_errors (Fixture *f, gconstpointer data)
{
  g_autofree char *syntax = write_file (
      f, "syntax.json", "{\"template\": \"ad in\\n  {city\", \"variables\": {\"city\": [\"x\"]}}");
  g_autofree char *huge
      = write_file (f, "huge.json",
                    "{\"template\": \"{a}{b}{c}\", \"variables\": {\"a\": [1,2,3,4,5,6,7,8,9,10],"
                    " \"b\": [1,2,3,4,5,6,7,8,9,10], \"c\": [1,2,3,4,5,6,7,8,9,10,11]}}");
  g_autofree char *missing = g_build_filename (f->dir, "missing.json", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (cli_run (f->dir, &out, &err, "batch", "plan", syntax, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "Line 2, column 3"));
  g_assert_cmpstr (out, ==, "");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli_run (f->dir, &out, &err, "batch", "plan", huge, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "1100 variants"));
  g_assert_nonnull (strstr (err, "nothing was queued"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The caller may allow more. */
  g_assert_cmpint (cli_run (f->dir, &out, &err, "batch", "plan", huge, "--max", "2000", "--json", NULL), ==,
                   0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli_run (f->dir, &out, &err, "batch", "plan", missing, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "Could not read"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli_run (f->dir, &out, &err, "batch", NULL), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->dir, &out, &err, "batch", "plan", NULL), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->dir, &out, &err, "batch", "frobnicate", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "plan"));
}

static void
test_optimize_offline (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (cli_run (f->dir, &out, &err, "optimize", "girl drinking tea", NULL), ==, 0);
  g_assert_nonnull (strstr (out, "Language: en"));
  g_assert_nonnull (strstr (out, "subject “girl”"));
  g_assert_nonnull (strstr (out, "1. time of day: daytime"));
  g_assert_nonnull (strstr (out, "Result:\nDaytime, "));
}

static void
test_optimize_json (Fixture *f, gconstpointer data)
{
  g_autofree char *one = NULL;
  g_autofree char *two = NULL;
  g_autofree char *none = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root;

  g_assert_cmpint (
      cli_run (f->dir, &one, &err, "optimize", "一只猫在窗台上睡觉", "--json", "--seed", "5", NULL), ==, 0);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (
      cli_run (f->dir, &two, &err, "optimize", "一只猫在窗台上睡觉", "--json", "--seed", "5", NULL), ==, 0);
  g_assert_cmpstr (one, ==, two);
  g_assert_true (json_parser_load_from_data (parser, one, -1, NULL));
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (root, "language"), ==, "zh");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "suggestions")), >, 0);

  g_clear_pointer (&err, g_free);
  g_assert_cmpint (
      cli_run (f->dir, &none, &err, "optimize", "一只猫在窗台上睡觉", "--json", "--accept", "none", NULL), ==,
      0);
  g_assert_true (json_parser_load_from_data (parser, none, -1, NULL));
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (root, "result"), ==, "一只猫在窗台上睡觉");
}

static void
test_optimize_usage (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (cli_run (f->dir, &out, &err, "optimize", "a fox", "--accept", "0,99", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "--accept"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->dir, &out, &err, "optimize", NULL), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->dir, &out, &err, "optimize", "a fox", "--llm", "ftp://x", NULL), ==, 2);
  g_assert_nonnull (strstr (err, "http"));
}

static void
test_optimize_llm_unreachable (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket
      = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autofree char *url = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  url = g_strdup_printf ("http://127.0.0.1:%u/v1",
                         g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_socket_close (socket, NULL);

  g_assert_cmpint (cli_run_env (NULL, "TAKES_LLM_API_KEY", "sk-secret-cli", &out, &err, "optimize",
                                "a fox in snow", "--llm", url, "--timeout", "5", NULL),
                   ==, 1);
  /* The original prompt is the fallback; the reason goes to stderr. */
  g_assert_cmpstr (out, ==, "a fox in snow\n");
  g_assert_nonnull (strstr (err, "Could not reach"));
  g_assert_null (strstr (err, "sk-secret-cli"));
}

/* A loopback chat server on its own thread, since the test thread waits for
 * the command. */
typedef struct
{
  GMutex lock;
  GCond cond;
  GMainContext *context;
  GMainLoop *loop;
  guint port;
  char *auth;
} ChatServer;

static void
chat_handler_cb (
    SoupServer *server, SoupServerMessage *msg, const char *path, GHashTable *query, gpointer user_data)
{
  ChatServer *chat = user_data;
  const char *body
      = "data: {\"model\":\"tiny\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Daytime, \"}}]}\n\n"
        "data: {\"model\":\"tiny\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a red fox in "
        "fresh snow\"},\"finish_reason\":\"stop\"}]}\n\n"
        "data: [DONE]\n\n";

  g_mutex_lock (&chat->lock);
  g_free (chat->auth);
  chat->auth = g_strdup (
      soup_message_headers_get_one (soup_server_message_get_request_headers (msg), "Authorization"));
  g_mutex_unlock (&chat->lock);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/event-stream", SOUP_MEMORY_STATIC, body, strlen (body));
}

static gpointer
chat_thread (gpointer user_data)
{
  ChatServer *chat = user_data;
  g_autoptr (SoupServer) server = NULL;
  g_autoptr (GError) error = NULL;
  GSList *uris;

  g_main_context_push_thread_default (chat->context);
  server = soup_server_new (NULL, NULL);
  soup_server_add_handler (server, NULL, chat_handler_cb, chat, NULL);
  soup_server_listen_local (server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  g_mutex_lock (&chat->lock);
  chat->port = g_uri_get_port (uris->data);
  g_cond_signal (&chat->cond);
  g_mutex_unlock (&chat->lock);
  g_slist_free_full (uris, (GDestroyNotify)g_uri_unref);

  g_main_loop_run (chat->loop);
  soup_server_disconnect (server);
  g_main_context_pop_thread_default (chat->context);
  return NULL;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

static void
test_optimize_llm_rewrite (Fixture *f, gconstpointer data)
{
  ChatServer chat = { 0 };
  GThread *thread;
  g_autofree char *url = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *text_out = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root;

  g_mutex_init (&chat.lock);
  g_cond_init (&chat.cond);
  chat.context = g_main_context_new ();
  chat.loop = g_main_loop_new (chat.context, FALSE);
  thread = g_thread_new ("chat-server", chat_thread, &chat);
  g_mutex_lock (&chat.lock);
  while (chat.port == 0)
    g_cond_wait (&chat.cond, &chat.lock);
  g_mutex_unlock (&chat.lock);
  url = g_strdup_printf ("http://127.0.0.1:%u/v1", chat.port);

  g_assert_cmpint (cli_run_env (NULL, "TAKES_LLM_API_KEY", "sk-cli-key", &out, &err, "optimize",
                                "a fox in snow", "--llm", url, "--model", "tiny", "--json", NULL),
                   ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (root, "original"), ==, "a fox in snow");
  g_assert_cmpstr (json_object_get_string_member (root, "rewrite"), ==, "Daytime, a red fox in fresh snow");
  g_assert_false (json_object_get_boolean_member (root, "fell_back"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "diff")), >, 1);
  g_mutex_lock (&chat.lock);
  g_assert_cmpstr (chat.auth, ==, "Bearer sk-cli-key");
  g_mutex_unlock (&chat.lock);

  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run_env (NULL, "TAKES_LLM_API_KEY", "", &text_out, &err, "optimize", "a fox in snow",
                                "--llm", url, NULL),
                   ==, 0);
  g_assert_true (g_str_has_prefix (text_out, "Daytime, a red fox in fresh snow\n"));
  g_assert_nonnull (strstr (text_out, "{+Daytime, +}a {+red +}fox in {+fresh +}snow"));

  g_main_context_invoke (chat.context, quit_cb, chat.loop);
  g_thread_join (thread);
  g_main_loop_unref (chat.loop);
  g_main_context_unref (chat.context);
  g_free (chat.auth);
  g_mutex_clear (&chat.lock);
  g_cond_clear (&chat.cond);
}

static void
test_safety_check (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (cli_run (f->dir, &out, &err, "safety", "check", "A fox trotting across fresh snow", NULL),
                   ==, 0);
  g_assert_nonnull (strstr (out, "Clean"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli_run (f->dir, &out, &err, "safety", "check", "a n a k e d model", NULL), ==, 1);
  g_assert_nonnull (strstr (out, "Blocked:"));
  g_assert_nonnull (strstr (out, "“naked”"));
  g_assert_nonnull (strstr (out, "“n a k e d”"));
  g_assert_nonnull (strstr (out, "safety-en.txt, line"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli_run (f->dir, &out, &err, "safety", "check", "a class photo", NULL), ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->dir, &out, &err, "safety", NULL), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_run (f->dir, &out, &err, "safety", "check", NULL), ==, 2);
}

static void
test_safety_check_lists (Fixture *f, gconstpointer data)
{
  g_autofree char *list = write_file (f, "brands.txt", "acme | word | competitor\n");
  g_autofree char *bad = write_file (f, "bad.txt", "acme | sometimes | competitor\n");
  g_autofree char *user = write_file (f, "safety.txt", "gore | allow\n");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root;

  g_assert_cmpint (cli_run (f->dir, &out, &err, "safety", "check", "--list", list, "an ACME rocket", NULL),
                   ==, 1);
  g_assert_nonnull (strstr (out, "“acme”"));
  g_assert_nonnull (strstr (out, "competitor"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Only the given list: the shipped terms do not apply. */
  g_assert_cmpint (cli_run (f->dir, &out, &err, "safety", "check", "--only", "--list", list, "naked", NULL),
                   ==, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli_run (f->dir, &out, &err, "safety", "check", "--list", bad, "x", NULL), ==, 1);
  g_assert_nonnull (strstr (err, "line 1"));
  g_assert_nonnull (strstr (err, "“sometimes”"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The user's own list in the library folder takes "gore" back. */
  g_assert_cmpint (cli_run (f->dir, &out, &err, "safety", "check", "--json", "gore-tex jacket", NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_false (json_object_get_boolean_member (root, "blocked"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_unsetenv ("http_proxy");
  g_unsetenv ("HTTP_PROXY");
  g_unsetenv ("all_proxy");

#define ADD(path, func) g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)
  ADD ("/cli/batch/plan-shows-prompts-count-and-estimate", test_batch_plan_text);
  ADD ("/cli/batch/plan-json", test_batch_plan_json);
  ADD ("/cli/batch/plan-errors", test_batch_plan_errors);
  ADD ("/cli/optimize/offline-suggestions", test_optimize_offline);
  ADD ("/cli/optimize/json-same-twice", test_optimize_json);
  ADD ("/cli/optimize/usage-errors", test_optimize_usage);
  ADD ("/cli/optimize/llm-unreachable-falls-back", test_optimize_llm_unreachable);
  ADD ("/cli/optimize/llm-rewrite-with-diff", test_optimize_llm_rewrite);
  ADD ("/cli/safety/check-exit-codes", test_safety_check);
  ADD ("/cli/safety/check-with-lists", test_safety_check_lists);
#undef ADD
  return g_test_run ();
}
