#pragma once

#include <glib.h>

#include "takes-store.h"

G_BEGIN_DECLS

/* Exit codes: 0 done, 1 the request failed (bad input, unknown id, a check
 * that found problems), 2 the command line itself was wrong. */
#define TAKES_CLI_EXIT_OK    0
#define TAKES_CLI_EXIT_FAIL  1
#define TAKES_CLI_EXIT_USAGE 2

typedef int (*TakesCliRunFunc) (int argc, char **argv);

typedef struct
{
  const char      *name;
  const char      *summary;
  TakesCliRunFunc  run;
} TakesCliCommand;

int  takes_cli_main         (int argc, char **argv);
const TakesCliCommand *takes_cli_commands (guint *n_commands);

/* One clear line on stderr, prefixed with the program name; returns @code. */
int  takes_cli_fail         (int code, const char *format, ...) G_GNUC_PRINTF (2, 3);
int  takes_cli_fail_error   (int code, const GError *error);
/* Opens the library with @flags; on failure prints why, sets @exit_code
 * and returns NULL. */
TakesStore *takes_cli_open_store (TakesStoreOpenFlags flags, int *exit_code);

/* Parses @entries for a sub-command; on failure prints one line and returns FALSE. */
gboolean takes_cli_parse    (const char   *command,
                             const char   *parameter_string,
                             const char   *summary,
                             GOptionEntry *entries,
                             int          *argc,
                             char       ***argv,
                             int          *exit_code);

/* Sub-command groups; each lives in its own src/cli/takes-cli-<group>.c. */
int takes_cli_cmd_version (int argc, char **argv);
int takes_cli_cmd_batch    (int argc, char **argv);
/* `batch run`, in takes-cli-batch.c; `batch` dispatches to it. */
int takes_cli_batch_run    (int argc, char **argv);
int takes_cli_cmd_optimize (int argc, char **argv);
int takes_cli_cmd_safety   (int argc, char **argv);
int takes_cli_cmd_models   (int argc, char **argv);
int takes_cli_cmd_model    (int argc, char **argv);
int takes_cli_cmd_init    (int argc, char **argv);
int takes_cli_cmd_import  (int argc, char **argv);
int takes_cli_cmd_list    (int argc, char **argv);
int takes_cli_cmd_show    (int argc, char **argv);
int takes_cli_cmd_tag     (int argc, char **argv);
int takes_cli_cmd_rate    (int argc, char **argv);
int takes_cli_cmd_decide  (int argc, char **argv);
int takes_cli_cmd_note    (int argc, char **argv);
int takes_cli_cmd_delete  (int argc, char **argv);
int takes_cli_cmd_export  (int argc, char **argv);
int takes_cli_cmd_db      (int argc, char **argv);
int takes_cli_cmd_engine  (int argc, char **argv);
int takes_cli_cmd_generate (int argc, char **argv);
int takes_cli_cmd_queue    (int argc, char **argv);
int takes_cli_cmd_backends (int argc, char **argv);
int takes_cli_cmd_ledger   (int argc, char **argv);

int takes_cli_cmd_compare    (int argc, char **argv);
int takes_cli_cmd_vote       (int argc, char **argv);
int takes_cli_cmd_rank       (int argc, char **argv);
int takes_cli_cmd_storyboard (int argc, char **argv);
/* In takes-cli-export-review.c. */
int takes_cli_cmd_contact_sheet (int argc, char **argv);
int takes_cli_cmd_package       (int argc, char **argv);

G_END_DECLS
