/* takes-cli-model.c: making model sets for tests and demos.
 *
 *   model make-tiny DIR [--like 1.3b|5b|a14b] [--seed N]
 *       write a tiny model set of random weights in the official layout;
 *       the same seed gives the same files
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <string.h>

#include "takes-cli.h"

#if TAKES_HAVE_ENGINE

#include "takes-engine.h"

static gboolean
arch_from_like (const char *like, WanArch *arch)
{
  if (g_str_equal (like, "1.3b"))
    *arch = WAN_ARCH_WAN21_T2V_1_3B;
  else if (g_str_equal (like, "5b"))
    *arch = WAN_ARCH_WAN22_TI2V_5B;
  else if (g_str_equal (like, "a14b"))
    *arch = WAN_ARCH_WAN22_T2V_A14B;
  else
    return FALSE;
  return TRUE;
}

static int
model_make_tiny (int argc, char **argv)
{
  g_autofree char *like = NULL;
  g_autofree char *seed_text = NULL;
  GOptionEntry entries[] = {
    { "like", 0, 0, G_OPTION_ARG_STRING, &like,
      N_ ("The model the tiny one imitates: 1.3b (default), 5b or a14b"), N_ ("MODEL") },
    { "seed", 0, 0, G_OPTION_ARG_STRING, &seed_text, N_ ("The seed of the random weights (default 0)"),
      N_ ("N") },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (WanModelSet) set = NULL;
  WanArch arch = WAN_ARCH_WAN21_T2V_1_3B;
  guint64 seed = 0;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse (
          "model make-tiny", _ ("DIR"),
          _ ("Writes a tiny Wan model set of random weights to DIR, in the official layout and "
             "with the official tensor names. It runs the whole pipeline in seconds; its videos "
             "are noise."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return takes_cli_fail (
        TAKES_CLI_EXIT_USAGE,
        _ ("“model make-tiny” needs one folder, e.g. takes-cli model make-tiny /tmp/tiny"));
  if (like != NULL && !arch_from_like (like, &arch))
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("“--like %s” is unknown; use 1.3b, 5b or a14b."), like);
  if (seed_text != NULL && !g_ascii_string_to_unsigned (seed_text, 10, 0, G_MAXUINT64, &seed, NULL))
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("“--seed %s” is not a whole number from 0 to %" PRIu64 "."),
                           seed_text, G_MAXUINT64);
  if (!wan_tiny_model_write (argv[1], arch, seed, &error))
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  set = wan_model_set_load (argv[1], &error);
  if (set == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  g_print (_ ("Wrote a tiny model set like %s to %s (%" PRIu64
              " parameters, seed %" PRIu64 ").\n"),
           wan_arch_get_name (arch), wan_model_set_get_dir (set), wan_model_set_get_n_params (set), seed);
  return TAKES_CLI_EXIT_OK;
}

int
takes_cli_cmd_model (int argc, char **argv)
{
  const char *known = "make-tiny";

  if (argc < 2)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("“model” needs a sub-command: %s"), known);
  if (g_str_equal (argv[1], "make-tiny"))
    return model_make_tiny (argc - 1, argv + 1);
  return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("“model %s” is not a command; “model” knows: %s"), argv[1],
                         known);
}

#else

int
takes_cli_cmd_model (int argc, char **argv)
{
  return takes_cli_fail (
      TAKES_CLI_EXIT_FAIL,
      _ ("This takes-cli was built without the local engine (-Dengine=false), so it cannot "
         "write model files. Rebuild with -Dengine=true."));
}

#endif
