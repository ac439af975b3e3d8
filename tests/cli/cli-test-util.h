#pragma once

#include <gio/gio.h>
#include <string.h>

/* For store_test_rm_rf(), which clears the temporary folders. */
#include "../core/test-store-util.h"

/* $TAKES_CLI and the NULL-terminated arguments, as a NULL-terminated
 * array for g_subprocess_launcher_spawnv(). */
static inline GPtrArray *
cli_argv_va (const char *first, va_list ap)
{
  GPtrArray *args = g_ptr_array_new ();

  g_ptr_array_add (args, (gpointer)g_getenv ("TAKES_CLI"));
  for (const char *arg = first; arg != NULL; arg = va_arg (ap, const char *))
    g_ptr_array_add (args, (gpointer)arg);
  g_ptr_array_add (args, NULL);
  return args;
}

/* Runs $TAKES_CLI with the NULL-terminated arguments, in @data_dir when given
 * (as TAKES_DATA_DIR) and with the variable @name set to @value when @name is
 * given, capturing stdout and stderr; returns the exit status, or 128 + the
 * signal that ended it. */
static inline int
cli_run_va (const char *data_dir,
            const char *name,
            const char *value,
            char **out,
            char **err,
            const char *first,
            va_list ap)
{
  g_autoptr (GPtrArray) args = cli_argv_va (first, ap);
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) proc = NULL;
  g_autoptr (GError) error = NULL;

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  if (data_dir != NULL)
    g_subprocess_launcher_setenv (launcher, "TAKES_DATA_DIR", data_dir, TRUE);
  if (name != NULL)
    g_subprocess_launcher_setenv (launcher, name, value, TRUE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char *const *)args->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, out, err, &error);
  g_assert_no_error (error);
  return g_subprocess_get_if_exited (proc) ? g_subprocess_get_exit_status (proc)
                                           : 128 + g_subprocess_get_term_sig (proc);
}

static inline int
cli_run (const char *data_dir, char **out, char **err, const char *first, ...)
{
  va_list ap;
  int status;

  va_start (ap, first);
  status = cli_run_va (data_dir, NULL, NULL, out, err, first, ap);
  va_end (ap);
  return status;
}

static inline int
cli_run_env (
    const char *data_dir, const char *name, const char *value, char **out, char **err, const char *first, ...)
{
  va_list ap;
  int status;

  va_start (ap, first);
  status = cli_run_va (data_dir, name, value, out, err, first, ap);
  va_end (ap);
  return status;
}
