#include "config.h"

#include <gio/gio.h>

#include "cli-test-util.h"

static void
test_cli_basics_version (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = cli_run (NULL, &out, &err, "version", NULL);

  g_assert_cmpint (status, ==, 0);
  g_assert_true (g_str_has_prefix (out, "takes-cli " PACKAGE_VERSION));
}

static void
test_cli_basics_unknown_command (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = cli_run (NULL, &out, &err, "frobnicate", NULL);

  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "unknown command"));
  g_assert_cmpint (strlen (out), ==, 0);
}

static void
test_cli_basics_help_lists_commands (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = cli_run (NULL, &out, &err, "--help", NULL);

  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "version"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cli/basics/version", test_cli_basics_version);
  g_test_add_func ("/cli/basics/unknown-command", test_cli_basics_unknown_command);
  g_test_add_func ("/cli/basics/help-lists-commands", test_cli_basics_help_lists_commands);
  return g_test_run ();
}
