/* takes-ledger.c: spending reports and project budgets.
 *
 * The rows live in the store (takes-store-jobs.c); this class checks what
 * people ask for and words the refusals.
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "takes-ledger.h"
#include "takes-store-jobs.h"

/* Money is compared in hundredths of a cent, so that sums of floating-point
 * prices that should reach a budget exactly do not miss it by rounding. */
#define MONEY_EPSILON 1e-6

struct _TakesLedger
{
  GObject parent_instance;

  TakesStore *store;
};

G_DEFINE_FINAL_TYPE (TakesLedger, takes_ledger, G_TYPE_OBJECT)

G_DEFINE_QUARK (takes - ledger - error - quark, takes_ledger_error)

/* Boxed types ---------------------------------------------------------------- */

TakesLedgerRow *
takes_ledger_row_copy (const TakesLedgerRow *row)
{
  TakesLedgerRow *copy = g_memdup2 (row, sizeof *row);

  copy->key = g_strdup (row->key);
  copy->currency = g_strdup (row->currency);
  return copy;
}

void
takes_ledger_row_free (TakesLedgerRow *row)
{
  if (row == NULL)
    return;
  g_free (row->key);
  g_free (row->currency);
  g_free (row);
}

G_DEFINE_BOXED_TYPE (TakesLedgerRow, takes_ledger_row, takes_ledger_row_copy, takes_ledger_row_free)

TakesBudget *
takes_budget_copy (const TakesBudget *budget)
{
  TakesBudget *copy = g_memdup2 (budget, sizeof *budget);

  copy->currency = g_strdup (budget->currency);
  return copy;
}

void
takes_budget_free (TakesBudget *budget)
{
  if (budget == NULL)
    return;
  g_free (budget->currency);
  g_free (budget);
}

G_DEFINE_BOXED_TYPE (TakesBudget, takes_budget, takes_budget_copy, takes_budget_free)

double
takes_budget_get_remaining (const TakesBudget *budget)
{
  g_return_val_if_fail (budget != NULL, 0);

  return budget->amount - budget->spent - budget->pending;
}

static const char *const group_names[] = { "none", "backend", "project", "day" };

const char *
takes_ledger_group_to_string (TakesLedgerGroup group)
{
  g_return_val_if_fail ((guint)group < G_N_ELEMENTS (group_names), NULL);

  return group_names[group];
}

gboolean
takes_ledger_group_from_string (const char *name, TakesLedgerGroup *group)
{
  for (guint i = 0; name != NULL && i < G_N_ELEMENTS (group_names); i++)
    if (g_str_equal (name, group_names[i]))
      {
        *group = (TakesLedgerGroup)i;
        return TRUE;
      }
  return FALSE;
}

char *
takes_ledger_format_money (double amount, const char *currency)
{
  if (currency == NULL || *currency == '\0')
    return g_strdup (_ ("free"));
  if (g_str_equal (currency, "USD"))
    return g_strdup_printf ("US$%.2f", amount);
  if (g_str_equal (currency, "CNY"))
    return g_strdup_printf ("¥%.2f", amount);
  return g_strdup_printf ("%.2f %s", amount, currency);
}

/* Object ------------------------------------------------------------------- */

static void
takes_ledger_finalize (GObject *object)
{
  TakesLedger *self = TAKES_LEDGER (object);

  g_clear_object (&self->store);
  G_OBJECT_CLASS (takes_ledger_parent_class)->finalize (object);
}

static void
takes_ledger_class_init (TakesLedgerClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = takes_ledger_finalize;
}

static void
takes_ledger_init (TakesLedger *self)
{
}

TakesLedger *
takes_ledger_new (TakesStore *store)
{
  TakesLedger *self;

  g_return_val_if_fail (TAKES_IS_STORE (store), NULL);

  self = g_object_new (TAKES_TYPE_LEDGER, NULL);
  self->store = g_object_ref (store);
  return self;
}

static gboolean
check_currency (const char *currency, GError **error)
{
  if (currency == NULL || strlen (currency) != 3 || !g_ascii_isupper (currency[0])
      || !g_ascii_isupper (currency[1]) || !g_ascii_isupper (currency[2]))
    {
      g_set_error (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_INVALID,
                   _ ("“%s” is not a currency code; use three capital letters such as USD or CNY."),
                   currency != NULL ? currency : "");
      return FALSE;
    }
  return TRUE;
}

gboolean
takes_ledger_record (TakesLedger *self,
                     gint64 take_id,
                     gint64 project_id,
                     const char *backend,
                     double seconds,
                     double cost,
                     const char *currency,
                     GError **error)
{
  g_return_val_if_fail (TAKES_IS_LEDGER (self), FALSE);

  if (backend == NULL || *backend == '\0')
    {
      g_set_error_literal (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_INVALID,
                           _ ("A ledger entry needs the backend that did the work."));
      return FALSE;
    }
  if (!isfinite (seconds) || !isfinite (cost) || seconds < 0 || cost < 0)
    {
      g_set_error_literal (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_INVALID,
                           _ ("Seconds and costs in the ledger must be zero or more."));
      return FALSE;
    }
  if (currency != NULL && !check_currency (currency, error))
    return FALSE;
  return takes_store_add_ledger_entry (self->store, take_id, project_id, backend, seconds, cost, currency,
                                       error);
}

GPtrArray *
takes_ledger_query (TakesLedger *self,
                    gint64 project_id,
                    const char *backend,
                    GDateTime *from,
                    GDateTime *to,
                    TakesLedgerGroup group,
                    GError **error)
{
  g_return_val_if_fail (TAKES_IS_LEDGER (self), NULL);

  return takes_store_query_ledger (
      self->store, project_id, backend,
      from != NULL ? g_date_time_to_unix (from) * G_USEC_PER_SEC + g_date_time_get_microsecond (from) : 0,
      to != NULL ? g_date_time_to_unix (to) * G_USEC_PER_SEC + g_date_time_get_microsecond (to) : 0, group,
      error);
}

gboolean
takes_ledger_set_budget (
    TakesLedger *self, gint64 project_id, double amount, const char *currency, GError **error)
{
  g_return_val_if_fail (TAKES_IS_LEDGER (self), FALSE);

  if (!isfinite (amount) || amount <= 0 || amount > 1e12)
    {
      g_set_error_literal (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_INVALID,
                           _ ("A budget must be an amount above zero; remove the budget to lift the limit."));
      return FALSE;
    }
  if (!check_currency (currency, error))
    return FALSE;
  return takes_store_set_budget (self->store, project_id, amount, currency, error);
}

gboolean
takes_ledger_clear_budget (TakesLedger *self, gint64 project_id, GError **error)
{
  g_return_val_if_fail (TAKES_IS_LEDGER (self), FALSE);

  return takes_store_clear_budget (self->store, project_id, error);
}

TakesBudget *
takes_ledger_get_budget (TakesLedger *self, gint64 project_id, GError **error)
{
  g_return_val_if_fail (TAKES_IS_LEDGER (self), NULL);

  return takes_store_get_budget (self->store, project_id, error);
}

gboolean
takes_ledger_check_budget (
    TakesLedger *self, gint64 project_id, double cost, const char *currency, GError **error)
{
  g_autoptr (TakesBudget) budget = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *limit = NULL;
  g_autofree char *left = NULL;
  double remaining;

  g_return_val_if_fail (TAKES_IS_LEDGER (self), FALSE);

  if (currency == NULL || *currency == '\0')
    return TRUE;
  budget = takes_store_get_budget (self->store, project_id, &local_error);
  if (budget == NULL)
    {
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      return TRUE;
    }
  limit = takes_ledger_format_money (budget->amount, budget->currency);
  if (g_strcmp0 (budget->currency, currency) != 0)
    {
      g_set_error (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_CURRENCY,
                   _ ("The project’s budget of %s is in %s, but this backend bills in %s, which Takes "
                      "cannot count against it. Set the budget in %s or use another backend."),
                   limit, budget->currency, currency, currency);
      return FALSE;
    }
  remaining = takes_budget_get_remaining (budget);
  left = takes_ledger_format_money (MAX (remaining, 0), budget->currency);
  if (remaining <= MONEY_EPSILON)
    {
      g_set_error (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_OVER_BUDGET,
                   _ ("The project’s budget of %s is spent (queued takes included); nothing more is "
                      "queued. Raise the budget or cancel queued takes."),
                   limit);
      return FALSE;
    }
  if (cost > remaining + MONEY_EPSILON)
    {
      g_autofree char *asked = takes_ledger_format_money (cost, currency);

      g_set_error (error, TAKES_LEDGER_ERROR, TAKES_LEDGER_ERROR_OVER_BUDGET,
                   _ ("This would cost about %s, but only %s of the project’s budget of %s is left. "
                      "Make fewer or shorter takes, or raise the budget."),
                   asked, left, limit);
      return FALSE;
    }
  return TRUE;
}
