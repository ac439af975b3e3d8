/* End-to-end tests of `takes-cli model make-tiny`: the folder it writes is a
 * complete tiny model set, and a seed always gives the same bytes. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "cli-test-util.h"

static const char *const tiny_files[] = {
  "config.json",
  "diffusion_pytorch_model.safetensors",
  "high_noise_model/config.json",
  "high_noise_model/diffusion_pytorch_model.safetensors",
  "low_noise_model/config.json",
  "low_noise_model/diffusion_pytorch_model.safetensors",
  "models_t5_umt5-xxl-enc-bf16.safetensors",
  "Wan2.1_VAE.safetensors",
  "Wan2.2_VAE.safetensors",
  "google/umt5-xxl/tokenizer.json",
};

static char *
make_tiny (const char *like, const char *seed)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL, *err = NULL;
  char *dir = g_dir_make_tmp ("takes-cli-model-XXXXXX", &error);
  int status;

  g_assert_no_error (error);
  status = cli_run (NULL, &out, &err, "model", "make-tiny", dir, "--like", like, "--seed", seed, NULL);
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "tiny model set"));
  return dir;
}

static void
test_make_tiny_scans_complete (void)
{
  const char *likes[] = { "1.3b", "5b", "a14b" };

  for (guint i = 0; i < G_N_ELEMENTS (likes); i++)
    {
      g_autofree char *dir = make_tiny (likes[i], "3");
      g_autofree char *out = NULL, *err = NULL;
      int status = cli_run (NULL, &out, &err, "models", "scan", dir, "--json", NULL);

      g_assert_cmpint (status, ==, 0);
      g_assert_nonnull (strstr (out, "\"tiny\""));
      store_test_rm_rf (dir);
    }
}

static gboolean
same_files (const char *a, const char *b, gboolean *any_found)
{
  gboolean same = TRUE;

  *any_found = FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (tiny_files); i++)
    {
      g_autofree char *pa = g_build_filename (a, tiny_files[i], NULL);
      g_autofree char *pb = g_build_filename (b, tiny_files[i], NULL);
      g_autofree char *ca = NULL, *cb = NULL;
      gsize la = 0, lb = 0;
      gboolean ha = g_file_get_contents (pa, &ca, &la, NULL);
      gboolean hb = g_file_get_contents (pb, &cb, &lb, NULL);

      g_assert_cmpint (ha, ==, hb);
      if (!ha)
        continue;
      *any_found = TRUE;
      if (la != lb || memcmp (ca, cb, la) != 0)
        same = FALSE;
    }
  return same;
}

static void
test_make_tiny_same_seed_same_bytes (void)
{
  g_autofree char *a = make_tiny ("a14b", "17");
  g_autofree char *b = make_tiny ("a14b", "17");
  g_autofree char *c = make_tiny ("a14b", "18");
  gboolean found;

  g_assert_true (same_files (a, b, &found));
  g_assert_true (found);
  g_assert_false (same_files (a, c, &found));
  store_test_rm_rf (a);
  store_test_rm_rf (b);
  store_test_rm_rf (c);
}

static void
test_make_tiny_bad_arguments (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("takes-cli-model-XXXXXX", &error);
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *out2 = NULL, *err2 = NULL;
  g_autofree char *out3 = NULL, *err3 = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (cli_run (NULL, &out, &err, "model", "make-tiny", dir, "--like", "7b", NULL), !=, 0);
  g_assert_nonnull (strstr (err, "7b"));
  g_assert_cmpint (cli_run (NULL, &out2, &err2, "model", "make-tiny", dir, "--seed", "-4", NULL), !=, 0);
  g_assert_nonnull (strstr (err2, "-4"));
  g_assert_cmpint (cli_run (NULL, &out3, &err3, "model", "make-tiny", NULL), !=, 0);
  store_test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli/model/make-tiny/scans-complete", test_make_tiny_scans_complete);
  g_test_add_func ("/cli/model/make-tiny/same-seed-same-bytes", test_make_tiny_same_seed_same_bytes);
  g_test_add_func ("/cli/model/make-tiny/bad-arguments", test_make_tiny_bad_arguments);
  return g_test_run ();
}
