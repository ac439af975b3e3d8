/* test-ledger.c: spending reports, budgets, and the schema version that
 * added them. */
#include "config.h"

#include <math.h>
#include <string.h>

#include "takes-ledger.h"
#include "takes-store-private.h"
#include "test-store-util.h"

typedef struct
{
  char *dir;
  TakesStore *store;
  TakesLedger *ledger;
  gint64 project;
  gint64 other;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesProject) other = NULL;

  f->dir = g_dir_make_tmp ("takes-ledger-XXXXXX", &error);
  g_assert_no_error (error);
  f->store = takes_store_open (f->dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  f->ledger = takes_ledger_new (f->store);
  f->project = takes_store_get_default_project (f->store);
  other = takes_store_create_project (f->store, "Storyboard", &error);
  g_assert_no_error (error);
  f->other = other->id;
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_assert_finalize_object (f->ledger);
  g_assert_finalize_object (f->store);
  store_test_rm_rf (f->dir);
  g_free (f->dir);
}

static void
record (Fixture *f, gint64 project, const char *backend, double seconds, double cost, const char *currency)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (takes_ledger_record (f->ledger, 0, project, backend, seconds, cost, currency, &error));
  g_assert_no_error (error);
}

static const TakesLedgerRow *
find_row (GPtrArray *rows, const char *key, const char *currency)
{
  for (guint i = 0; i < rows->len; i++)
    {
      const TakesLedgerRow *row = g_ptr_array_index (rows, i);

      if (g_strcmp0 (row->key, key) == 0 && g_strcmp0 (row->currency, currency) == 0)
        return row;
    }
  return NULL;
}

static void
test_ledger_groups (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) by_backend = NULL;
  g_autoptr (GPtrArray) by_project = NULL;
  g_autoptr (GPtrArray) total = NULL;
  g_autoptr (GPtrArray) one_project = NULL;
  g_autoptr (GPtrArray) by_day = NULL;
  const TakesLedgerRow *row;

  record (f, f->project, "dashscope", 90, 0.5, "USD");
  record (f, f->project, "dashscope", 60, 0.25, "USD");
  record (f, f->other, "dashscope", 30, 1.4, "CNY");
  record (f, f->other, "local", 600, 0, NULL);

  by_backend = takes_ledger_query (f->ledger, 0, NULL, NULL, NULL, TAKES_LEDGER_GROUP_BACKEND, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (by_backend->len, ==, 3);
  row = find_row (by_backend, "dashscope", "USD");
  g_assert_nonnull (row);
  g_assert_cmpuint (row->n_jobs, ==, 2);
  g_assert_cmpfloat_with_epsilon (row->seconds, 150, 1e-9);
  g_assert_cmpfloat_with_epsilon (row->cost, 0.75, 1e-9);
  row = find_row (by_backend, "local", NULL);
  g_assert_nonnull (row);
  g_assert_cmpfloat_with_epsilon (row->seconds, 600, 1e-9);

  by_project = takes_ledger_query (f->ledger, 0, NULL, NULL, NULL, TAKES_LEDGER_GROUP_PROJECT, &error);
  row = find_row (by_project, "Storyboard", "CNY");
  g_assert_nonnull (row);
  g_assert_cmpint (row->project_id, ==, f->other);
  g_assert_cmpfloat_with_epsilon (row->cost, 1.4, 1e-9);

  one_project
      = takes_ledger_query (f->ledger, f->project, "dashscope", NULL, NULL, TAKES_LEDGER_GROUP_NONE, &error);
  g_assert_cmpuint (one_project->len, ==, 1);
  row = g_ptr_array_index (one_project, 0);
  g_assert_null (row->key);
  g_assert_cmpuint (row->n_jobs, ==, 2);

  /* Totals never add two currencies together. */
  total = takes_ledger_query (f->ledger, 0, NULL, NULL, NULL, TAKES_LEDGER_GROUP_NONE, &error);
  g_assert_cmpuint (total->len, ==, 3);

  by_day = takes_ledger_query (f->ledger, 0, NULL, NULL, NULL, TAKES_LEDGER_GROUP_DAY, &error);
  g_assert_cmpuint (by_day->len, ==, 3);
  g_assert_cmpuint (strlen (((TakesLedgerRow *)g_ptr_array_index (by_day, 0))->key), ==, 10);
}

static void
test_ledger_period (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr (GDateTime) hour_ago = g_date_time_add_hours (now, -1);
  g_autoptr (GDateTime) day_ago = g_date_time_add_days (now, -1);
  g_autoptr (GPtrArray) recent = NULL;
  g_autoptr (GPtrArray) old = NULL;

  record (f, f->project, "dashscope", 10, 0.1, "USD");
  record (f, f->project, "dashscope", 10, 0.2, "USD");
  /* One entry from two days ago. */
  store_test_exec (f->dir, "UPDATE ledger SET created_at = created_at - 2 * 86400 * 1000000 WHERE id = 1");

  recent = takes_ledger_query (f->ledger, 0, NULL, hour_ago, NULL, TAKES_LEDGER_GROUP_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (recent->len, ==, 1);
  g_assert_cmpfloat_with_epsilon (((TakesLedgerRow *)g_ptr_array_index (recent, 0))->cost, 0.2, 1e-9);
  old = takes_ledger_query (f->ledger, 0, NULL, NULL, day_ago, TAKES_LEDGER_GROUP_NONE, &error);
  g_assert_cmpuint (old->len, ==, 1);
  g_assert_cmpfloat_with_epsilon (((TakesLedgerRow *)g_ptr_array_index (old, 0))->cost, 0.1, 1e-9);
}

static void
test_ledger_rejects_bad_entries (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (takes_ledger_record (f->ledger, 0, f->project, "dashscope", -1, 0, "USD", &error));
  g_assert_error (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (takes_ledger_record (f->ledger, 0, f->project, "dashscope", 1, NAN, "USD", &error));
  g_assert_error (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (takes_ledger_record (f->ledger, 0, f->project, "dashscope", 1, 1, "dollars", &error));
  g_assert_error (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (takes_ledger_set_budget (f->ledger, f->project, 0, "USD", &error));
  g_assert_error (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (takes_ledger_set_budget (f->ledger, f->project, 5, "usd", &error));
  g_assert_error (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_INVALID);
  g_clear_error (&error);
  g_assert_false (takes_ledger_set_budget (f->ledger, 9999, 5, "USD", &error));
  g_assert_error (error, TAKES_STORE_ERROR, TAKES_STORE_ERROR_NOT_FOUND);
}

static void
test_ledger_budget (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (TakesBudget) budget = NULL;

  /* No budget: anything goes. */
  g_assert_null (takes_ledger_get_budget (f->ledger, f->project, &error));
  g_assert_no_error (error);
  g_assert_true (takes_ledger_check_budget (f->ledger, f->project, 1e6, "USD", &error));

  g_assert_true (takes_ledger_set_budget (f->ledger, f->project, 2.0, "USD", &error));
  record (f, f->project, "dashscope", 60, 1.5, "USD");
  record (f, f->project, "dashscope", 60, 9.0, "CNY");
  record (f, f->other, "dashscope", 60, 9.0, "USD");
  budget = takes_ledger_get_budget (f->ledger, f->project, &error);
  g_assert_nonnull (budget);
  g_assert_cmpstr (budget->currency, ==, "USD");
  g_assert_cmpfloat_with_epsilon (budget->spent, 1.5, 1e-9);
  g_assert_cmpfloat_with_epsilon (takes_budget_get_remaining (budget), 0.5, 1e-9);

  g_assert_true (takes_ledger_check_budget (f->ledger, f->project, 0.5, "USD", &error));
  g_assert_true (takes_ledger_check_budget (f->ledger, f->project, 50, NULL, &error));
  g_assert_false (takes_ledger_check_budget (f->ledger, f->project, 0.51, "USD", &error));
  g_assert_error (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_OVER_BUDGET);
  g_assert_nonnull (strstr (error->message, "US$0.50"));
  g_clear_error (&error);
  g_assert_false (takes_ledger_check_budget (f->ledger, f->project, 0.1, "CNY", &error));
  g_assert_error (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_CURRENCY);
  g_clear_error (&error);

  record (f, f->project, "dashscope", 60, 0.5, "USD");
  g_assert_false (takes_ledger_check_budget (f->ledger, f->project, 0.01, "USD", &error));
  g_assert_error (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_OVER_BUDGET);
  g_assert_nonnull (strstr (error->message, "spent"));
  g_clear_error (&error);

  g_assert_true (takes_ledger_clear_budget (f->ledger, f->project, &error));
  g_assert_true (takes_ledger_check_budget (f->ledger, f->project, 5, "USD", &error));
}

static void
test_ledger_money_format (void)
{
  g_autofree char *usd = takes_ledger_format_money (1.8, "USD");
  g_autofree char *cny = takes_ledger_format_money (3.5, "CNY");
  g_autofree char *eur = takes_ledger_format_money (12, "EUR");
  g_autofree char *free = takes_ledger_format_money (0, NULL);
  TakesLedgerGroup group;

  g_assert_cmpstr (usd, ==, "US$1.80");
  g_assert_cmpstr (cny, ==, "¥3.50");
  g_assert_cmpstr (eur, ==, "12.00 EUR");
  g_assert_cmpstr (free, ==, "free");
  g_assert_true (takes_ledger_group_from_string ("day", &group));
  g_assert_cmpint (group, ==, TAKES_LEDGER_GROUP_DAY);
  g_assert_false (takes_ledger_group_from_string ("week", &group));
}

/* A library of version 1 with a job and a ledger entry gains the queue
 * order, the estimates, the ledger's project and the budgets. */
static void
test_store_migrate_v2_from_v1 (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-migrate-v2-XXXXXX", &error);
  g_autofree char *db = g_build_filename (dir, "library.db", NULL);
  g_autoptr (TakesStore) store = NULL;
  g_autoptr (TakesLedger) ledger = NULL;
  g_autoptr (GPtrArray) rows = NULL;

  g_assert_true (takes_store_create_at_version (db, 1, &error));
  g_assert_no_error (error);
  store_test_exec (
      dir, "INSERT INTO projects (id, slug, name, created_at, updated_at) VALUES (7, 'ads', 'Ads', 1, 1);"
           "INSERT INTO takes (id, project_id, recipe, cache_key, backend, model, created_at, updated_at) "
           "VALUES (3, 7, '{}', 'k', 'dashscope', 'wan2.1-t2v-turbo', 1, 1);"
           "INSERT INTO jobs (id, take_id, backend, priority, created_at, updated_at) "
           "VALUES (5, 3, 'dashscope', 2, 1, 1);"
           "INSERT INTO ledger (take_id, backend, seconds, cost, currency, created_at) "
           "VALUES (3, 'dashscope', 80, 0.18, 'USD', 1);");
  store = takes_store_open (dir, TAKES_STORE_OPEN_DEFAULT, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (takes_store_get_schema_version (store), >=, 2);
  g_assert_cmpint (store_test_query_int (dir, "SELECT position FROM jobs WHERE id = 5"), ==, 5);
  g_assert_cmpint (store_test_query_int (dir, "SELECT project_id FROM ledger"), ==, 7);
  ledger = takes_ledger_new (store);
  rows = takes_ledger_query (ledger, 7, NULL, NULL, NULL, TAKES_LEDGER_GROUP_PROJECT, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (rows->len, ==, 1);
  g_assert_cmpstr (((TakesLedgerRow *)g_ptr_array_index (rows, 0))->key, ==, "Ads");
  g_assert_true (takes_ledger_set_budget (ledger, 7, 10, "USD", &error));
  g_assert_no_error (error);
  g_clear_object (&ledger);
  g_clear_object (&store);
  store_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add ("/ledger/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("query/groups-and-currencies", test_ledger_groups);
  ADD ("query/period", test_ledger_period);
  ADD ("record/rejects-bad-entries", test_ledger_rejects_bad_entries);
  ADD ("budget/spent-pending-and-currency", test_ledger_budget);
#undef ADD
  g_test_add_func ("/ledger/format/money", test_ledger_money_format);
  g_test_add_func ("/store/migrate/v2-from-v1", test_store_migrate_v2_from_v1);

  return g_test_run ();
}
