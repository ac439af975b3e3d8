/* takes-cli-models.c: the model tools of takes-cli.
 *
 *   models scan DIR [--json]   list the weight files in DIR, what model set
 *                              they make and what is missing; exit 0 when
 *                              the set is complete, 1 when something is wrong
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "takes-cli.h"

#if TAKES_HAVE_ENGINE

#include "takes-engine.h"

static char *
format_count (guint64 n)
{
  if (n >= 1000000000u)
    return g_strdup_printf ("%.2f B", n / 1e9);
  if (n >= 1000000u)
    return g_strdup_printf ("%.1f M", n / 1e6);
  if (n >= 1000u)
    return g_strdup_printf ("%.1f K", n / 1e3);
  return g_strdup_printf ("%" PRIu64, n);
}

static const char *
role_label (WanFileRole role)
{
  switch (role)
    {
      case WAN_FILE_ROLE_DIT:
        return _ ("diffusion model");
      case WAN_FILE_ROLE_DIT_HIGH_NOISE:
        return _ ("high-noise expert");
      case WAN_FILE_ROLE_DIT_LOW_NOISE:
        return _ ("low-noise expert");
      case WAN_FILE_ROLE_T5:
        return _ ("text encoder");
      case WAN_FILE_ROLE_VAE:
        return _ ("VAE");
      case WAN_FILE_ROLE_TOKENIZER:
        return _ ("tokenizer");
      case WAN_FILE_ROLE_NONE:
      default:
        return _ ("not used");
    }
}

static const char *
role_id (WanFileRole role)
{
  switch (role)
    {
      case WAN_FILE_ROLE_DIT:
        return "dit";
      case WAN_FILE_ROLE_DIT_HIGH_NOISE:
        return "dit-high-noise";
      case WAN_FILE_ROLE_DIT_LOW_NOISE:
        return "dit-low-noise";
      case WAN_FILE_ROLE_T5:
        return "text-encoder";
      case WAN_FILE_ROLE_VAE:
        return "vae";
      case WAN_FILE_ROLE_TOKENIZER:
        return "tokenizer";
      case WAN_FILE_ROLE_NONE:
      default:
        return "none";
    }
}

static const char *
kind_id (WanWeightsKind kind)
{
  switch (kind)
    {
      case WAN_WEIGHTS_DIT:
        return "dit";
      case WAN_WEIGHTS_T5:
        return "text-encoder";
      case WAN_WEIGHTS_VAE:
      default:
        return "vae";
    }
}

static char *
relative_path (const WanModelSet *set, const char *path)
{
  const char *dir = wan_model_set_get_dir (set);
  gsize n = strlen (dir);

  if (strncmp (path, dir, n) == 0 && path[n] == G_DIR_SEPARATOR)
    return g_strdup (path + n + 1);
  return g_strdup (path);
}

/* "Wan2.1-T2V-1.3B · dim 1536, 30 layers, …" */
static char *
describe_weights (const WanWeights *w)
{
  g_autofree char *params = format_count (wan_weights_get_n_params (w));
  g_autofree char *size = g_format_size (wan_weights_get_n_bytes (w));
  g_autofree char *what = NULL;

  switch (wan_weights_get_kind (w))
    {
      case WAN_WEIGHTS_DIT:
        {
          const WanDitConfig *c = wan_weights_get_dit_config (w);
          what = g_strdup_printf (_ ("%s · dim %d, %d layers, %d heads, ffn %d, in/out %d/%d, text %d"),
                                  wan_arch_get_name (wan_weights_get_arch (w)), c->dim, c->num_layers,
                                  c->num_heads, c->ffn_dim, c->in_dim, c->out_dim, c->text_dim);
          break;
        }
      case WAN_WEIGHTS_T5:
        {
          const Umt5Config *c = wan_weights_get_t5_config (w);
          what = g_strdup_printf (_ ("umT5 · vocab %d, dim %d, %d layers, %d heads, ffn %d"), c->vocab,
                                  c->dim, c->num_layers, c->num_heads, c->dim_ffn);
          break;
        }
      case WAN_WEIGHTS_VAE:
      default:
        {
          const WanVaeConfig *c = wan_weights_get_vae_config (w);
          what = g_strdup_printf (_ ("Wan%s VAE · z %d, widths %d/%d%s"), c->version == 22 ? "2.2" : "2.1",
                                  c->z_dim, c->dim, c->dec_dim, c->has_encoder ? "" : _ (", decoder only"));
          break;
        }
    }
  return g_strdup_printf (_ ("%s · %s parameters · %s · %s"), what, params, wan_weights_get_dtype_summary (w),
                          size);
}

static void
print_text (const WanModelSet *set)
{
  guint n_files = 0;
  const WanModelFile *files = wan_model_set_get_files (set, &n_files);
  const char *const *problems = wan_model_set_get_problems (set);
  g_autofree char *params = format_count (wan_model_set_get_n_params (set));
  Umt5Tokenizer *tokenizer = wan_model_set_get_tokenizer (set);

  g_print (_ ("Model folder: %s\n"), wan_model_set_get_dir (set));
  g_print (_ ("Architecture: %s\n"), wan_arch_get_name (wan_model_set_get_arch (set)));
  if (wan_model_set_get_arch (set) == WAN_ARCH_TINY)
    g_print (_ ("  (a tiny test model: it runs the whole pipeline, but its videos are noise)\n"));
  g_print (_ ("Parameters in use: %s\n"), params);
  g_print (_ ("Status: %s\n"), wan_model_set_is_complete (set) ? _ ("complete") : _ ("incomplete"));

  g_print ("\n%s\n", _ ("Files:"));
  if (n_files == 0)
    g_print ("  %s\n", _ ("no weight or tokenizer files"));
  for (guint i = 0; i < n_files; i++)
    {
      g_autofree char *rel = relative_path (set, files[i].path);

      g_print ("  %-18s %s\n", role_label (files[i].role), rel);
      if (files[i].weights != NULL)
        {
          g_autofree char *desc = describe_weights (files[i].weights);
          g_print ("  %-18s %s\n", "", desc);
        }
      else if (files[i].role == WAN_FILE_ROLE_TOKENIZER && tokenizer != NULL)
        {
          g_autofree char *size = g_format_size (files[i].n_bytes);
          g_autofree char *pieces
              = g_strdup_printf (_ ("%u pieces · %s"), umt5_tokenizer_get_vocab_size (tokenizer), size);
          g_print ("  %-18s %s\n", "", pieces);
        }
      if (files[i].note != NULL)
        g_print ("  %-18s %s\n", "", files[i].note);
    }
  if (tokenizer != NULL && g_str_has_suffix (wan_model_set_get_tokenizer_source (set), "#spiece_model"))
    {
      g_autofree char *rel = relative_path (set, wan_model_set_get_tokenizer_source (set));
      g_print ("  %-18s %s\n", role_label (WAN_FILE_ROLE_TOKENIZER), rel);
      g_print ("  %-18s %s\n", "", _ ("embedded in the text encoder file"));
    }

  if (problems[0] != NULL)
    {
      g_print ("\n%s\n", _ ("Problems:"));
      for (guint i = 0; problems[i] != NULL; i++)
        g_print ("  - %s\n", problems[i]);
    }
}

static JsonNode *
weights_config_json (const WanWeights *w)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_object (b);
  switch (wan_weights_get_kind (w))
    {
      case WAN_WEIGHTS_DIT:
        {
          const WanDitConfig *c = wan_weights_get_dit_config (w);
          const struct
          {
            const char *name;
            int value;
          } fields[] = { { "dim", c->dim },
                         { "ffn_dim", c->ffn_dim },
                         { "num_heads", c->num_heads },
                         { "num_layers", c->num_layers },
                         { "in_dim", c->in_dim },
                         { "out_dim", c->out_dim },
                         { "text_dim", c->text_dim },
                         { "text_len", c->text_len },
                         { "freq_dim", c->freq_dim } };

          for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
            {
              json_builder_set_member_name (b, fields[i].name);
              json_builder_add_int_value (b, fields[i].value);
            }
          json_builder_set_member_name (b, "eps");
          json_builder_add_double_value (b, c->eps);
          break;
        }
      case WAN_WEIGHTS_T5:
        {
          const Umt5Config *c = wan_weights_get_t5_config (w);
          const struct
          {
            const char *name;
            int value;
          } fields[] = { { "vocab", c->vocab },
                         { "dim", c->dim },
                         { "dim_attn", c->dim_attn },
                         { "dim_ffn", c->dim_ffn },
                         { "num_heads", c->num_heads },
                         { "num_layers", c->num_layers },
                         { "num_buckets", c->num_buckets } };

          for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
            {
              json_builder_set_member_name (b, fields[i].name);
              json_builder_add_int_value (b, fields[i].value);
            }
          json_builder_set_member_name (b, "shared_pos");
          json_builder_add_boolean_value (b, c->shared_pos);
          break;
        }
      case WAN_WEIGHTS_VAE:
      default:
        {
          const WanVaeConfig *c = wan_weights_get_vae_config (w);

          json_builder_set_member_name (b, "version");
          json_builder_add_string_value (b, c->version == 22 ? "2.2" : "2.1");
          json_builder_set_member_name (b, "dim");
          json_builder_add_int_value (b, c->dim);
          json_builder_set_member_name (b, "dec_dim");
          json_builder_add_int_value (b, c->dec_dim);
          json_builder_set_member_name (b, "z_dim");
          json_builder_add_int_value (b, c->z_dim);
          json_builder_set_member_name (b, "has_encoder");
          json_builder_add_boolean_value (b, c->has_encoder);
          break;
        }
    }
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

static void
print_json (const WanModelSet *set)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *text = NULL;
  guint n_files = 0;
  const WanModelFile *files = wan_model_set_get_files (set, &n_files);
  const char *const *problems = wan_model_set_get_problems (set);
  Umt5Tokenizer *tokenizer = wan_model_set_get_tokenizer (set);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "folder");
  json_builder_add_string_value (b, wan_model_set_get_dir (set));
  json_builder_set_member_name (b, "architecture");
  json_builder_add_string_value (b, wan_arch_get_name (wan_model_set_get_arch (set)));
  json_builder_set_member_name (b, "complete");
  json_builder_add_boolean_value (b, wan_model_set_is_complete (set));
  json_builder_set_member_name (b, "parameters");
  json_builder_add_int_value (b, (gint64)wan_model_set_get_n_params (set));
  json_builder_set_member_name (b, "tokenizer");
  if (tokenizer != NULL)
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "source");
      json_builder_add_string_value (b, wan_model_set_get_tokenizer_source (set));
      json_builder_set_member_name (b, "pieces");
      json_builder_add_int_value (b, umt5_tokenizer_get_vocab_size (tokenizer));
      json_builder_end_object (b);
    }
  else
    json_builder_add_null_value (b);

  json_builder_set_member_name (b, "files");
  json_builder_begin_array (b);
  for (guint i = 0; i < n_files; i++)
    {
      const WanWeights *w = files[i].weights;
      g_autofree char *rel = relative_path (set, files[i].path);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "path");
      json_builder_add_string_value (b, rel);
      json_builder_set_member_name (b, "bytes");
      json_builder_add_int_value (b, (gint64)files[i].n_bytes);
      json_builder_set_member_name (b, "role");
      json_builder_add_string_value (b, role_id (files[i].role));
      if (w != NULL)
        {
          json_builder_set_member_name (b, "kind");
          json_builder_add_string_value (b, kind_id (wan_weights_get_kind (w)));
          if (wan_weights_get_kind (w) == WAN_WEIGHTS_DIT)
            {
              json_builder_set_member_name (b, "architecture");
              json_builder_add_string_value (b, wan_arch_get_name (wan_weights_get_arch (w)));
            }
          json_builder_set_member_name (b, "parameters");
          json_builder_add_int_value (b, (gint64)wan_weights_get_n_params (w));
          json_builder_set_member_name (b, "dtype");
          json_builder_add_string_value (b, wan_weights_get_dtype_summary (w));
          json_builder_set_member_name (b, "config");
          json_builder_add_value (b, weights_config_json (w));
        }
      json_builder_set_member_name (b, "problem");
      json_builder_add_boolean_value (b, files[i].is_problem);
      if (files[i].note != NULL)
        {
          json_builder_set_member_name (b, "note");
          json_builder_add_string_value (b, files[i].note);
        }
      json_builder_end_object (b);
    }
  json_builder_end_array (b);

  json_builder_set_member_name (b, "problems");
  json_builder_begin_array (b);
  for (guint i = 0; problems[i] != NULL; i++)
    json_builder_add_string_value (b, problems[i]);
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  json_generator_set_pretty (gen, TRUE);
  text = json_generator_to_data (gen, NULL);
  g_print ("%s\n", text);
}

static int
models_scan (int argc, char **argv)
{
  gboolean as_json = FALSE;
  GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &as_json, N_ ("Print the result as JSON"), NULL },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (WanModelSet) set = NULL;
  int code = TAKES_CLI_EXIT_OK;

  if (!takes_cli_parse (
          "models scan", _ ("DIR"),
          _ ("Lists the weight files in DIR (the official Wan-AI layout or ComfyUI files), the model "
             "set they make and what is missing or wrong."),
          entries, &argc, &argv, &code))
    return code;
  if (argc != 2)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE,
                           _ ("“models scan” needs one folder, e.g. takes-cli models scan "
                              "~/models/Wan2.1-T2V-1.3B"));
  set = wan_model_set_scan (argv[1], &error);
  if (set == NULL)
    return takes_cli_fail_error (TAKES_CLI_EXIT_FAIL, error);
  if (as_json)
    print_json (set);
  else
    print_text (set);
  return wan_model_set_is_complete (set) ? TAKES_CLI_EXIT_OK : TAKES_CLI_EXIT_FAIL;
}

int
takes_cli_cmd_models (int argc, char **argv)
{
  const char *known = "scan";

  if (argc < 2)
    return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("“models” needs a sub-command: %s"), known);
  if (g_str_equal (argv[1], "scan"))
    return models_scan (argc - 1, argv + 1);
  return takes_cli_fail (TAKES_CLI_EXIT_USAGE, _ ("“models %s” is not a command; “models” knows: %s"),
                         argv[1], known);
}

#else

int
takes_cli_cmd_models (int argc, char **argv)
{
  return takes_cli_fail (
      TAKES_CLI_EXIT_FAIL,
      _ ("This takes-cli was built without the local engine (-Dengine=false), so it cannot read "
         "model files. Rebuild with -Dengine=true."));
}

#endif
