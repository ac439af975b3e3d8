/* End-to-end tests of `takes-cli models scan` on the golden folder, on
 * complete tiny model sets and on broken folders. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <unistd.h>

#include "cli-test-util.h"

static char *
data_path (const char *sub, const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", sub, name, NULL);
}

static void
link_into (const char *dir, const char *rel, const char *sub, const char *name)
{
  g_autofree char *target = data_path (sub, name);
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_assert_cmpint (symlink (target, path), ==, 0);
}

static char *
tmp_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("takes-cli-models-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static JsonObject *
parse_object (JsonParser *parser, const char *text)
{
  g_autoptr (GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
  return json_node_get_object (json_parser_get_root (parser));
}

static void
test_scan_golden (void)
{
  g_autofree char *dir = data_path ("wan-tiny-public", "");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = cli_run (NULL, &out, &err, "models", "scan", dir, NULL);

  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, "dit16_f32.safetensors"));
  g_assert_nonnull (strstr (out, "tiny · dim 256, 2 layers, 2 heads, ffn 320, in/out 16/16, text 64"));
  g_assert_nonnull (strstr (out, "umT5 · vocab 256, dim 64, 2 layers, 2 heads, ffn 160"));
  g_assert_nonnull (strstr (out, "Wan2.2 VAE · z 48"));
  g_assert_nonnull (strstr (out, "BF16"));
  g_assert_nonnull (strstr (out, "not a Wan model file"));
  g_assert_nonnull (strstr (out, "Several diffusion models"));
  g_assert_nonnull (strstr (out, "google/umt5-xxl"));
  g_assert_nonnull (strstr (out, "Status: incomplete"));
}

static void
test_scan_golden_json (void)
{
  g_autofree char *dir = data_path ("wan-tiny-public", "");
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  int status = cli_run (NULL, &out, &err, "models", "scan", "--json", dir, NULL);
  JsonObject *root;
  JsonArray *files;
  guint n_dit = 0;

  g_assert_cmpint (status, ==, 1);
  root = parse_object (parser, out);
  g_assert_false (json_object_get_boolean_member (root, "complete"));
  g_assert_true (json_object_get_null_member (root, "tokenizer"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "problems")), ==, 4);
  files = json_object_get_array_member (root, "files");
  g_assert_cmpuint (json_array_get_length (files), ==, 17);
  for (guint i = 0; i < json_array_get_length (files); i++)
    {
      JsonObject *f = json_array_get_object_element (files, i);

      if (json_object_has_member (f, "kind")
          && g_str_equal (json_object_get_string_member (f, "kind"), "dit"))
        {
          JsonObject *config = json_object_get_object_member (f, "config");

          n_dit++;
          g_assert_cmpstr (json_object_get_string_member (f, "architecture"), ==, "tiny");
          g_assert_cmpint (json_object_get_int_member (config, "dim"), ==, 256);
          g_assert_cmpint (json_object_get_int_member (config, "num_heads"), ==, 2);
        }
      if (g_str_equal (json_object_get_string_member (f, "path"), "t5_hf_f16.safetensors"))
        {
          g_assert_cmpint (json_object_get_int_member (f, "parameters"), ==, 143808);
          g_assert_cmpstr (json_object_get_string_member (f, "dtype"), ==, "F16");
        }
    }
  g_assert_cmpuint (n_dit, ==, 5);
}

static void
test_scan_complete_sets (void)
{
  g_autofree char *comfy = tmp_dir ();
  g_autofree char *official = tmp_dir ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root;
  int status;

  link_into (comfy, "diffusion_models/dit48_bf16.safetensors", "wan-tiny-public", "dit48_bf16.safetensors");
  link_into (comfy, "text_encoders/umt5_xxl_fp16.safetensors", "wan-tiny-public", "t5_hf_f16.safetensors");
  link_into (comfy, "vae/wan2.2_vae.safetensors", "wan-tiny-public", "vae22_f32.safetensors");
  link_into (comfy, "google/umt5-xxl/tokenizer.json", "tokenizer", "tokenizer.json");
  status = cli_run (NULL, &out, &err, "models", "scan", comfy, NULL);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "Status: complete"));
  g_assert_nonnull (strstr (out, "Architecture: tiny"));
  g_assert_nonnull (strstr (out, "its videos are noise"));
  g_assert_nonnull (strstr (out, "256 pieces"));
  g_assert_null (strstr (out, "Problems:"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  link_into (official, "high_noise_model/diffusion_pytorch_model.safetensors", "wan-tiny-public",
             "dit16_f32.safetensors");
  link_into (official, "low_noise_model/diffusion_pytorch_model.safetensors", "wan-tiny-public",
             "dit16_low_bf16.safetensors");
  link_into (official, "models_t5_umt5-xxl-enc-bf16.pth", "torch", "t5_bf16.pth");
  link_into (official, "Wan2.1_VAE.safetensors", "wan-tiny-public", "vae21_f32.safetensors");
  link_into (official, "google/umt5-xxl/spiece.model", "tokenizer", "spiece.model");
  status = cli_run (NULL, &out, &err, "models", "scan", "--json", official, NULL);
  g_assert_cmpint (status, ==, 0);
  root = parse_object (parser, out);
  g_assert_true (json_object_get_boolean_member (root, "complete"));
  g_assert_cmpint (json_object_get_int_member (root, "parameters"), ==, 2 * 2030016 + 143808 + 243583);
  g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (root, "tokenizer"), "pieces"),
                   ==, 256);
  {
    JsonArray *files = json_object_get_array_member (root, "files");
    const char *roles[] = { "vae", "tokenizer", "dit-high-noise", "dit-low-noise", "text-encoder" };

    g_assert_cmpuint (json_array_get_length (files), ==, G_N_ELEMENTS (roles));
    for (guint i = 0; i < G_N_ELEMENTS (roles); i++)
      g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (files, i), "role"), ==,
                       roles[i]);
  }
  store_test_rm_rf (comfy);
  store_test_rm_rf (official);
}

static void
test_scan_broken_folder (void)
{
  g_autofree char *dir = tmp_dir ();
  g_autofree char *golden = data_path ("wan-tiny-public", "dit16_bf16.safetensors");
  g_autofree char *cut = g_build_filename (dir, "wan2.1_t2v_1.3B_bf16.safetensors", NULL);
  g_autofree char *junk = g_build_filename (dir, "notes.safetensors", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  gsize length = 0;
  int status;

  g_assert_true (g_file_get_contents (golden, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (cut, contents, (gssize)(length / 3), NULL));
  g_assert_true (g_file_set_contents (junk, "these are not weights", -1, NULL));
  link_into (dir, "text_encoders/t5_f32.safetensors", "wan-tiny-public", "t5_f32.safetensors");
  status = cli_run (NULL, &out, &err, "models", "scan", dir, NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, "truncated"));
  g_assert_nonnull (strstr (out, "notes.safetensors"));
  g_assert_nonnull (strstr (out, "No diffusion model was found"));
  g_assert_nonnull (strstr (out, "No VAE was found"));
  g_assert_nonnull (strstr (out, "put tokenizer.json from google/umt5-xxl into"));
  g_assert_cmpstr (err, ==, "");
  store_test_rm_rf (dir);
}

static void
test_scan_usage_and_missing (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  status = cli_run (NULL, &out, &err, "models", "scan", NULL);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "needs one folder"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = cli_run (NULL, &out, &err, "models", NULL);
  g_assert_cmpint (status, ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = cli_run (NULL, &out, &err, "models", "frob", NULL);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "scan"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = cli_run (NULL, &out, &err, "models", "scan", "/nonexistent/takes-models", NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (err, "does not exist"));
  g_assert_cmpstr (out, ==, "");
}

static void
test_without_engine (void)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = cli_run (NULL, &out, &err, "models", "scan", ".", NULL);

  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (err, "-Dengine=true"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  if (!TAKES_HAVE_ENGINE)
    {
      g_test_add_func ("/cli/models/without-engine", test_without_engine);
      return g_test_run ();
    }
  g_test_add_func ("/cli/models/scan-golden-folder", test_scan_golden);
  g_test_add_func ("/cli/models/scan-golden-folder-json", test_scan_golden_json);
  g_test_add_func ("/cli/models/scan-complete-sets", test_scan_complete_sets);
  g_test_add_func ("/cli/models/scan-broken-folder", test_scan_broken_folder);
  g_test_add_func ("/cli/models/usage-and-missing-folder", test_scan_usage_and_missing);
  return g_test_run ();
}
