/* takes-ledger.h: what generation cost, in seconds and money, and the
 * budgets that stop a project from spending more.
 *
 * The queue writes one entry per finished job (backend, project, seconds
 * spent, cost and currency). Money is never converted between currencies:
 * totals are per currency, and a budget only counts costs in its own
 * currency. A job that would be billed in another currency than the
 * project's budget is refused rather than let through uncounted.
 */
#pragma once

#include <glib-object.h>

#include "takes-store.h"

G_BEGIN_DECLS

#define TAKES_LEDGER_ERROR (takes_ledger_error_quark ())

typedef enum
{
  /* An amount or currency the ledger does not accept. */
  TAKES_LEDGER_ERROR_INVALID,
  /* The project's budget is spent, or the new job would go over it. */
  TAKES_LEDGER_ERROR_OVER_BUDGET,
  /* The job is billed in another currency than the project's budget. */
  TAKES_LEDGER_ERROR_CURRENCY,
} TakesLedgerError;

GQuark takes_ledger_error_quark (void);

typedef enum
{
  TAKES_LEDGER_GROUP_NONE,
  TAKES_LEDGER_GROUP_BACKEND,
  TAKES_LEDGER_GROUP_PROJECT,
  TAKES_LEDGER_GROUP_DAY, /* local time */
} TakesLedgerGroup;

const char *takes_ledger_group_to_string (TakesLedgerGroup group);
gboolean takes_ledger_group_from_string (const char *name, TakesLedgerGroup *group);

/* One line of a report: a group (backend id, project name or YYYY-MM-DD;
 * NULL with TAKES_LEDGER_GROUP_NONE) in one currency (NULL: free work). */
typedef struct
{
  char *key;
  gint64 project_id; /* with TAKES_LEDGER_GROUP_PROJECT, else 0 */
  char *currency;
  guint n_jobs;
  double seconds;
  double cost;
} TakesLedgerRow;

#define TAKES_TYPE_LEDGER_ROW (takes_ledger_row_get_type ())
GType takes_ledger_row_get_type (void);
TakesLedgerRow *takes_ledger_row_copy (const TakesLedgerRow *row);
void takes_ledger_row_free (TakesLedgerRow *row);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesLedgerRow, takes_ledger_row_free)

/* A project's budget and where it stands. */
typedef struct
{
  gint64 project_id;
  double amount;
  char *currency; /* ISO 4217, upper case */
  double spent;   /* finished jobs, in the budget's currency */
  double pending; /* estimates of queued and running jobs */
} TakesBudget;

#define TAKES_TYPE_BUDGET (takes_budget_get_type ())
GType takes_budget_get_type (void);
TakesBudget *takes_budget_copy (const TakesBudget *budget);
void takes_budget_free (TakesBudget *budget);
/* What is left after spending and pending estimates (may be negative). */
double takes_budget_get_remaining (const TakesBudget *budget);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TakesBudget, takes_budget_free)

/* "US$1.80", "¥3.50", "12.00 EUR"; "free" for a NULL currency. */
char *takes_ledger_format_money (double amount, const char *currency);

#define TAKES_TYPE_LEDGER (takes_ledger_get_type ())
G_DECLARE_FINAL_TYPE (TakesLedger, takes_ledger, TAKES, LEDGER, GObject)

TakesLedger *takes_ledger_new (TakesStore *store);

/* Adds an entry by hand (the queue writes its own in the transaction that
 * finishes a job). @take_id may be 0, @currency NULL for free work. */
gboolean takes_ledger_record (TakesLedger *self,
                              gint64 take_id,
                              gint64 project_id,
                              const char *backend,
                              double seconds,
                              double cost,
                              const char *currency,
                              GError **error);

/* Totals of entries in [@from, @to) (either NULL: open-ended), of one
 * project (0: all) and one backend (NULL: all), grouped by @group; sorted by
 * group then currency. Array of TakesLedgerRow. */
GPtrArray *takes_ledger_query (TakesLedger *self,
                               gint64 project_id,
                               const char *backend,
                               GDateTime *from,
                               GDateTime *to,
                               TakesLedgerGroup group,
                               GError **error);

/* A budget of @amount (> 0) in @currency (three letters) for the project;
 * replaces the one it had. */
gboolean takes_ledger_set_budget (
    TakesLedger *self, gint64 project_id, double amount, const char *currency, GError **error);
gboolean takes_ledger_clear_budget (TakesLedger *self, gint64 project_id, GError **error);
/* NULL without an error when the project has no budget. */
TakesBudget *takes_ledger_get_budget (TakesLedger *self, gint64 project_id, GError **error);

/* Whether a new job estimated at @cost in @currency (NULL: free; a
 * negative cost: not known) may be queued in the project: free jobs always
 * may; others fail with OVER_BUDGET once spending plus pending estimates
 * plus @cost exceeds the budget, or with CURRENCY when billed in another
 * currency. The message says how much is left and what to do. */
gboolean takes_ledger_check_budget (
    TakesLedger *self, gint64 project_id, double cost, const char *currency, GError **error);

G_END_DECLS
