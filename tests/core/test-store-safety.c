#include "config.h"

#include "takes-store-private.h"
#include "takes-store-safety.h"
#include "test-store-util.h"

typedef StoreTestFixture Fixture;

/* Every byte of the database file, for checking what never reaches it. */
static char *
database_bytes (Fixture *f, gsize *length)
{
  g_autofree char *path = g_build_filename (f->dir, "library.db", NULL);
  g_autofree char *wal = g_build_filename (f->dir, "library.db-wal", NULL);
  g_autofree char *main_bytes = NULL;
  g_autofree char *wal_bytes = NULL;
  gsize main_len = 0, wal_len = 0;
  char *all;

  g_assert_true (g_file_get_contents (path, &main_bytes, &main_len, NULL));
  if (!g_file_get_contents (wal, &wal_bytes, &wal_len, NULL))
    wal_len = 0;
  all = g_malloc (main_len + wal_len + 1);
  memcpy (all, main_bytes, main_len);
  if (wal_len > 0)
    memcpy (all + main_len, wal_bytes, wal_len);
  all[main_len + wal_len] = '\0';
  *length = main_len + wal_len;
  return all;
}

static gboolean
bytes_contain (const char *haystack, gsize length, const char *needle)
{
  return memmem (haystack, length, needle, strlen (needle)) != NULL;
}

static void
test_log_and_list (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  TakesSafetyLogEntry *entry;
  gint64 before = g_get_real_time ();
  gint64 id;

  id = takes_store_log_safety_block (f->store, 0, "a red fox", "fox (animals; custom.txt:3)",
                                     TAKES_SAFETY_SOURCE_QUEUE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (id, >, 0);

  entries = takes_store_list_safety_blocks (f->store, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  entry = g_ptr_array_index (entries, 0);
  g_assert_cmpint (entry->id, ==, id);
  g_assert_cmpint (entry->project_id, ==, takes_store_get_default_project (f->store));
  g_assert_cmpstr (entry->prompt, ==, "a red fox");
  g_assert_cmpstr (entry->rule, ==, "fox (animals; custom.txt:3)");
  g_assert_cmpint (entry->source, ==, TAKES_SAFETY_SOURCE_QUEUE);
  g_assert_cmpint (entry->created, >=, before);
  g_assert_cmpint (store_test_query_int (f->dir, "SELECT count(*) FROM safety_log WHERE source = 'queue'"),
                   ==, 1);
}

static void
test_log_match_from_filter (Fixture *f, gconstpointer data)
{
  g_autoptr (TakesSafety) safety = takes_safety_new ();
  g_autoptr (GPtrArray) matches = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;
  TakesSafetyLogEntry *entry;

  g_assert_true (
      takes_safety_load_data (safety, "# test list\ngore | word | violence\n", -1, "test-list.txt", &error));
  g_assert_no_error (error);
  matches = takes_safety_check (safety, "a movie full of gore");
  g_assert_cmpuint (matches->len, ==, 1);
  g_assert_cmpint (takes_store_log_safety_match (f->store, 0, "a movie full of gore",
                                                 g_ptr_array_index (matches, 0), TAKES_SAFETY_SOURCE_CLI,
                                                 &error),
                   >, 0);
  g_assert_no_error (error);

  entries = takes_store_list_safety_blocks (f->store, NULL, &error);
  g_assert_no_error (error);
  entry = g_ptr_array_index (entries, 0);
  g_assert_true (g_str_has_prefix (entry->rule, "gore (violence; test-list.txt:2)"));
  g_assert_cmpint (entry->source, ==, TAKES_SAFETY_SOURCE_CLI);
}

static void
test_redact_credentials (void)
{
  struct
  {
    const char *in;
    const char *out;
  } cases[] = {
    { "a cat", "a cat" },
    { "from https://user:hunter2@example.com/v.mp4 now", "from https://[redacted]@example.com/v.mp4 now" },
    { "see https://oss.example.com/a.mp4?OSSAccessKeyId=AK&Signature=abc#t",
      "see https://oss.example.com/a.mp4?[redacted]" },
    { "key sk-abcdef0123456789abcd please", "key [redacted] please" },
    { "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x.y", "Authorization: Bearer [redacted]" },
    { "task-sk-like words stay", "task-sk-like words stay" },
    { "a bearer of news", "a bearer of news" },
    { "http://example.com/path", "http://example.com/path" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *redacted = takes_safety_log_redact (cases[i].in);

      g_assert_cmpstr (redacted, ==, cases[i].out);
    }
}

static void
test_secrets_never_stored (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *bytes = NULL;
  gsize length = 0;
  const char *prompt
      = "nude scene, reference https://admin:TopSecretPass@cdn.example.com/x.mp4?token=TokenValue123 "
        "with key sk-LeakedKey0123456789xyz and Bearer BearerToken987654321";

  g_assert_cmpint (takes_store_log_safety_block (f->store, 0, prompt, "nude (sexual; safety-en.txt:10)",
                                                 TAKES_SAFETY_SOURCE_STUDIO, &error),
                   >, 0);
  g_assert_no_error (error);
  g_assert_finalize_object (g_steal_pointer (&f->store));

  bytes = database_bytes (f, &length);
  g_assert_true (bytes_contain (bytes, length, "nude scene"));
  g_assert_true (bytes_contain (bytes, length, "cdn.example.com/x.mp4"));
  g_assert_false (bytes_contain (bytes, length, "TopSecretPass"));
  g_assert_false (bytes_contain (bytes, length, "TokenValue123"));
  g_assert_false (bytes_contain (bytes, length, "LeakedKey0123456789"));
  g_assert_false (bytes_contain (bytes, length, "BearerToken987654321"));
}

static void
test_long_and_invalid_prompts (Fixture *f, gconstpointer data)
{
  g_autoptr (GString) prompt = g_string_new (NULL);
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;
  TakesSafetyLogEntry *entry;

  for (guint i = 0; i < 5000; i++)
    g_string_append (prompt, "猫");
  g_string_append_c (prompt, '\xff');
  g_assert_cmpint (
      takes_store_log_safety_block (f->store, 0, prompt->str, "猫", TAKES_SAFETY_SOURCE_CLI, &error), >, 0);
  g_assert_no_error (error);

  entries = takes_store_list_safety_blocks (f->store, NULL, &error);
  g_assert_no_error (error);
  entry = g_ptr_array_index (entries, 0);
  g_assert_true (g_utf8_validate (entry->prompt, -1, NULL));
  g_assert_cmpuint (strlen (entry->prompt), <=, TAKES_SAFETY_LOG_MAX_PROMPT);
  g_assert_true (g_str_has_suffix (entry->prompt, "猫…"));
}

static void
test_refuses_empty_rule_and_unknown_project (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (takes_store_log_safety_block (f->store, 0, "x", "  ", TAKES_SAFETY_SOURCE_CLI, &error), ==,
                   0);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_cmpint (takes_store_log_safety_block (f->store, 4242, "x", "y", TAKES_SAFETY_SOURCE_CLI, &error),
                   ==, 0);
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
  g_assert_cmpint (store_test_query_int (f->dir, "SELECT count(*) FROM safety_log"), ==, 0);
}

static void
test_query_filters (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesProject) other = takes_store_create_project (f->store, "Ads", &error);
  g_autoptr (GPtrArray) entries = NULL;
  TakesSafetyLogQuery query;
  guint64 count = 0;
  gint64 middle;

  g_assert_no_error (error);
  takes_store_log_safety_block (f->store, 0, "first Fox", "fox", TAKES_SAFETY_SOURCE_CLI, &error);
  takes_store_log_safety_block (f->store, other->id, "second wolf", "wolf", TAKES_SAFETY_SOURCE_QUEUE,
                                &error);
  g_usleep (2000);
  middle = g_get_real_time ();
  takes_store_log_safety_block (f->store, other->id, "third fox", "fox", TAKES_SAFETY_SOURCE_STUDIO, &error);
  g_assert_no_error (error);

  takes_safety_log_query_init (&query);
  query.project_id = other->id;
  entries = takes_store_list_safety_blocks (f->store, &query, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 2);
  /* Newest first. */
  g_assert_cmpstr (((TakesSafetyLogEntry *)g_ptr_array_index (entries, 0))->prompt, ==, "third fox");
  g_clear_pointer (&entries, g_ptr_array_unref);

  takes_safety_log_query_init (&query);
  query.text = "FOX";
  g_assert_true (takes_store_count_safety_blocks (f->store, &query, &count, &error));
  g_assert_cmpuint (count, ==, 2);
  query.limit = 1;
  query.offset = 1;
  entries = takes_store_list_safety_blocks (f->store, &query, &error);
  g_assert_cmpuint (entries->len, ==, 1);
  g_assert_cmpstr (((TakesSafetyLogEntry *)g_ptr_array_index (entries, 0))->prompt, ==, "first Fox");
  g_clear_pointer (&entries, g_ptr_array_unref);

  takes_safety_log_query_init (&query);
  query.source = TAKES_SAFETY_SOURCE_QUEUE;
  g_assert_true (takes_store_count_safety_blocks (f->store, &query, &count, &error));
  g_assert_cmpuint (count, ==, 1);

  takes_safety_log_query_init (&query);
  query.since = middle;
  g_assert_true (takes_store_count_safety_blocks (f->store, &query, &count, &error));
  g_assert_cmpuint (count, ==, 1);
  takes_safety_log_query_init (&query);
  query.until = middle;
  g_assert_true (takes_store_count_safety_blocks (f->store, &query, &count, &error));
  g_assert_cmpuint (count, ==, 2);

  takes_safety_log_query_init (&query);
  query.source = 9;
  g_assert_false (takes_store_count_safety_blocks (f->store, &query, &count, &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_INVALID);
  g_clear_error (&error);

  g_assert_true (takes_store_prune_safety_blocks (f->store, middle, &count, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count, ==, 2);
  g_assert_true (takes_store_count_safety_blocks (f->store, NULL, &count, &error));
  g_assert_cmpuint (count, ==, 1);
}

static void
test_deleted_project_keeps_entry (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesProject) other = takes_store_create_project (f->store, "Gone", &error);
  g_autoptr (GPtrArray) entries = NULL;
  g_autofree char *sql = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (
      takes_store_log_safety_block (f->store, other->id, "p", "r", TAKES_SAFETY_SOURCE_CLI, &error), >, 0);
  g_assert_finalize_object (g_steal_pointer (&f->store));
  sql = g_strdup_printf ("PRAGMA foreign_keys = ON; DELETE FROM projects WHERE id = %" G_GINT64_FORMAT,
                         other->id);
  store_test_exec (f->dir, sql);
  f->store = takes_store_open (f->dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);

  entries = takes_store_list_safety_blocks (f->store, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
  g_assert_cmpint (((TakesSafetyLogEntry *)g_ptr_array_index (entries, 0))->project_id, ==, 0);
}

static void
test_source_names (void)
{
  TakesSafetySource source;

  for (guint i = TAKES_SAFETY_SOURCE_CLI; i <= TAKES_SAFETY_SOURCE_SERVER; i++)
    {
      g_assert_true (takes_safety_source_from_string (takes_safety_source_to_string (i), &source));
      g_assert_cmpuint (source, ==, i);
    }
  g_assert_false (takes_safety_source_from_string ("headers", &source));
  g_assert_false (takes_safety_source_from_string (NULL, &source));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

#define ADD(path, func)                                                                                      \
  g_test_add ("/store-safety/" path, Fixture, NULL, store_test_fixture_set_up, func,                         \
              store_test_fixture_tear_down)
  ADD ("log/stores-prompt-rule-and-source", test_log_and_list);
  ADD ("log/match-from-filter", test_log_match_from_filter);
  ADD ("log/secrets-never-reach-the-database", test_secrets_never_stored);
  ADD ("log/long-and-invalid-prompts", test_long_and_invalid_prompts);
  ADD ("log/refuses-empty-rule-and-unknown-project", test_refuses_empty_rule_and_unknown_project);
  ADD ("log/deleted-project-keeps-entry", test_deleted_project_keeps_entry);
  ADD ("query/filters-count-and-prune", test_query_filters);
#undef ADD
  g_test_add_func ("/store-safety/redact/credentials", test_redact_credentials);
  g_test_add_func ("/store-safety/source/names-round-trip", test_source_names);

  return g_test_run ();
}
