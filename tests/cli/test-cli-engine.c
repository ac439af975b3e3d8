/* End-to-end tests of `takes-cli engine check-golden`: on the public golden
 * set (every case, with --require-all), on copies with one output
 * perturbed, with the weight files left to the naming convention or swapped,
 * and with a text-encoder case in another naming and layout, on a synthetic
 * set with other shapes, step counts and shifts whose expected values come
 * from a double-precision reference here, and on bad input. */
#include "config.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "../engine/engine-test-util.h"
#include "cli-test-util.h"

static char *
public_set (void)
{
  return g_test_build_filename (G_TEST_DIST, "data", "wan-tiny-public", NULL);
}

/* The output line of @tensor in the table, or NULL. */
static char *
table_line (const char *out, const char *tensor)
{
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) words = g_strsplit_set (lines[i], " ", -1);
      guint n_words = 0;

      for (guint k = 0; words[k] != NULL; k++)
        if (*words[k] != '\0' && ++n_words == 2 && g_str_equal (words[k], tensor))
          return g_strdup (lines[i]);
    }
  return NULL;
}

/* The outputs of the t5 and dit cases; the first word of a table line is the
 * case, so "out" stands for the first "out" row, which is dit16's. */
static const char *const model_outputs[]
    = { "out_0", "out_0_f16w", "out_1", "out_1_f16w", "out", "out_f16w", "out_bf16w", "out_pertoken" };

/* The VAE and whole-pipeline outputs (names shared by several cases). */
static const char *const decoder_outputs[] = { "video", "enc_out", "latents", "experts", "timesteps" };

static void
test_public_set_passes (void)
{
  g_autofree char *golden = public_set ();
  g_autofree char *tmp = test_tmp_dir ();
  g_autofree char *out_dir = g_build_filename (tmp, "out", NULL);
  g_autofree char *result_path = g_build_filename (out_dir, "sched_case.safetensors", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *line = NULL;
  g_autoptr (Safetensors) st = NULL;
  g_autoptr (GError) error = NULL;
  const SafetensorsTensor *t;
  float timesteps[6];
  int status;

  status
      = cli_run (NULL, &out, &err, "engine", "check-golden", golden, "--out", out_dir, "--require-all", NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 0);
  line = table_line (out, "unipc_traj");
  g_assert_nonnull (line);
  g_assert_true (g_str_has_suffix (line, " ok"));
  for (guint i = 0; i < G_N_ELEMENTS (model_outputs); i++)
    {
      g_autofree char *model_line = table_line (out, model_outputs[i]);

      g_assert_nonnull (model_line);
      g_assert_true (g_str_has_suffix (model_line, " ok"));
    }
  for (guint i = 0; i < G_N_ELEMENTS (decoder_outputs); i++)
    {
      g_autofree char *decoder_line = table_line (out, decoder_outputs[i]);

      g_assert_nonnull (decoder_line);
      g_assert_true (g_str_has_suffix (decoder_line, " ok"));
    }
  g_assert_nonnull (strstr (out, "0 failed, 0 cases skipped"));

  /* The result file holds F32 tensors named and shaped as in the golden set. */
  st = safetensors_open (result_path, &error);
  g_assert_no_error (error);
  t = safetensors_lookup (st, "unipc_traj");
  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, SAFETENSORS_DTYPE_F32);
  g_assert_cmpuint (t->n_dims, ==, 5);
  g_assert_cmpint (t->shape[0], ==, 7);
  g_assert_cmpint (t->shape[4], ==, 7);
  t = safetensors_lookup (st, "dpm_timesteps");
  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, SAFETENSORS_DTYPE_F32);
  safetensors_tensor_read_f32 (t, timesteps, 6, &error);
  g_assert_no_error (error);
  g_assert_cmpfloat (timesteps[0], ==, 1000.0f);
  g_assert_nonnull (safetensors_lookup (st, "sched_unipc_40_s12_timesteps"));
  g_clear_pointer (&st, safetensors_free);

  g_clear_pointer (&result_path, g_free);
  result_path = g_build_filename (out_dir, "dit16_case.safetensors", NULL);
  st = safetensors_open (result_path, &error);
  g_assert_no_error (error);
  t = safetensors_lookup (st, "out_f16w");
  g_assert_nonnull (t);
  g_assert_cmpint (t->dtype, ==, SAFETENSORS_DTYPE_F32);
  g_assert_cmpuint (t->n_dims, ==, 4);
  g_assert_cmpint (t->shape[0], ==, 16);
  g_assert_cmpint (t->shape[3], ==, 12);
  test_rm_rf (tmp);
}

static void
test_public_set_json (void)
{
  g_autofree char *golden = public_set ();
  g_autofree char *tmp = test_tmp_dir ();
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *root;
  JsonArray *results;
  guint n_sched = 0, n_t5 = 0, n_dit16 = 0, n_dit48 = 0, n_vae = 0, n_pipe = 0;
  int status;

  status = cli_run (NULL, &out, &err, "engine", "check-golden", golden, "--out", tmp, "--json", NULL);
  g_assert_cmpint (status, ==, 0);
  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_get_boolean_member (root, "passed"));
  g_assert_cmpint (json_object_get_int_member (root, "failed"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (root, "skipped"), ==, 0);
  results = json_object_get_array_member (root, "results");
  for (guint i = 0; i < json_array_get_length (results); i++)
    {
      JsonObject *r = json_array_get_object_element (results, i);
      const char *case_name = json_object_get_string_member (r, "case");
      const char *status_text = json_object_get_string_member (r, "status");

      g_assert_cmpstr (status_text, ==, "ok");
      if (g_str_has_prefix (case_name, "vae"))
        n_vae++;
      else if (g_str_has_prefix (case_name, "pipe"))
        n_pipe++;
      else if (g_str_equal (case_name, "sched_case"))
        n_sched++;
      else if (g_str_equal (case_name, "t5_case"))
        n_t5++;
      else if (g_str_equal (case_name, "dit16_case"))
        n_dit16++;
      else if (g_str_equal (case_name, "dit48_case"))
        n_dit48++;
    }
  g_assert_cmpuint (n_sched, ==, 15);
  g_assert_cmpuint (n_t5, ==, 4);
  g_assert_cmpuint (n_dit16, ==, 3);
  g_assert_cmpuint (n_dit48, ==, 2);
  g_assert_cmpuint (n_vae, ==, 4);
  g_assert_cmpuint (n_pipe, ==, 7);
  test_rm_rf (tmp);
}

static void
copy_file (const char *from_dir, const char *to_dir, const char *name, char **contents, gsize *len)
{
  g_autofree char *from = g_build_filename (from_dir, name, NULL);
  g_autofree char *to = g_build_filename (to_dir, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_get_contents (from, contents, len, &error);
  g_assert_no_error (error);
  g_file_set_contents (to, *contents, (gssize)*len, &error);
  g_assert_no_error (error);
}

/* Adds @delta to element @index of the F32 tensor @tensor in the safetensors
 * bytes @bytes. */
static void
perturb_tensor (char *bytes, const char *tensor, gsize index, float delta)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  gsize header_len = 0, start;
  JsonArray *offsets;
  float value;

  for (int i = 0; i < 8; i++)
    header_len |= (gsize)(guint8)bytes[i] << (8 * i);
  json_parser_load_from_data (parser, bytes + 8, (gssize)header_len, &error);
  g_assert_no_error (error);
  offsets = json_object_get_array_member (
      json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), tensor),
      "data_offsets");
  start = 8 + header_len + (gsize)json_array_get_int_element (offsets, 0) + index * 4;
  memcpy (&value, bytes + start, 4);
  value += delta;
  memcpy (bytes + start, &value, 4);
}

static void
test_perturbed_output_fails (void)
{
  g_autofree char *golden = public_set ();
  g_autofree char *tmp = test_tmp_dir ();
  g_autofree char *out_dir = g_build_filename (tmp, "out", NULL);
  g_autofree char *case_path = g_build_filename (tmp, "sched_case.safetensors", NULL);
  g_autofree char *manifest = NULL, *bytes = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *line = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;
  int status;

  copy_file (golden, tmp, "manifest.json", &manifest, &len);
  copy_file (golden, tmp, "sched_case.safetensors", &bytes, &len);
  /* Element 200 of the trajectory moves by 1e-3, far beyond 1.5e-5. */
  perturb_tensor (bytes, "dpm_traj", 200, 1e-3f);
  g_file_set_contents (case_path, bytes, (gssize)len, &error);
  g_assert_no_error (error);

  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 1);
  line = table_line (out, "dpm_traj");
  g_assert_nonnull (line);
  g_assert_nonnull (strstr (line, "FAIL"));
  g_clear_pointer (&line, g_free);
  line = table_line (out, "unipc_traj");
  g_assert_true (g_str_has_suffix (line, " ok"));
  g_assert_nonnull (strstr (err, "beyond their tolerance"));
  test_rm_rf (tmp);
}

/* Copies of the public set: links to its files, and a manifest the test may
 * change. */

static JsonNode *
public_manifest (JsonParser *parser)
{
  g_autofree char *path
      = g_test_build_filename (G_TEST_DIST, "data", "wan-tiny-public", "manifest.json", NULL);
  g_autoptr (GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_parser_get_root (parser);
}

static JsonObject *
manifest_cases (JsonNode *root)
{
  return json_object_get_object_member (json_node_get_object (root), "cases");
}

/* Drops every case of @root but the NULL-terminated @keep. */
static void
keep_cases (JsonNode *root, const char *first, ...)
{
  JsonObject *cases = manifest_cases (root);
  g_autoptr (GList) names = json_object_get_members (cases);
  g_autoptr (GPtrArray) keep = g_ptr_array_new ();
  const char *name;
  va_list ap;

  va_start (ap, first);
  for (name = first; name != NULL; name = va_arg (ap, const char *))
    g_ptr_array_add (keep, (gpointer)name);
  va_end (ap);
  for (GList *l = names; l != NULL; l = l->next)
    if (!g_ptr_array_find_with_equal_func (keep, l->data, g_str_equal, NULL))
      json_object_remove_member (cases, l->data);
}

static void
write_manifest (const char *dir, JsonNode *root)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autofree char *path = g_build_filename (dir, "manifest.json", NULL);
  g_autofree char *text = NULL;

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
}

static void
write_set_copy (const char *dir, JsonNode *root)
{
  g_autofree char *golden = public_set ();
  g_autoptr (GDir) gdir = g_dir_open (golden, 0, NULL);
  const char *name;

  g_assert_nonnull (gdir);
  while ((name = g_dir_read_name (gdir)) != NULL)
    if (g_str_has_suffix (name, ".safetensors"))
      {
        g_autofree char *target = g_build_filename (golden, name, NULL);

        test_link (dir, name, target);
      }
  write_manifest (dir, root);
}

static void
assert_line_result (const char *out, const char *tensor, const char *result)
{
  g_autofree char *line = table_line (out, tensor);
  g_autofree char *suffix = g_strconcat (" ", result, NULL);

  g_assert_nonnull (line);
  g_assert_true (g_str_has_suffix (line, suffix));
}

static void
test_perturbed_dit_output_fails (void)
{
  g_autofree char *golden = public_set ();
  g_autofree char *tmp = test_tmp_dir ();
  g_autofree char *out_dir = g_build_filename (tmp, "out", NULL);
  g_autofree char *case_path = g_build_filename (tmp, "dit48_case.safetensors", NULL);
  g_autofree char *bytes = NULL;
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonNode *root = public_manifest (parser);
  gsize len;
  int status;

  keep_cases (root, "dit48_case", NULL);
  write_set_copy (tmp, root);
  g_assert_cmpint (g_unlink (case_path), ==, 0);
  copy_file (golden, tmp, "dit48_case.safetensors", &bytes, &len);
  /* 1e-3 on one element of the velocity, ten times its max_abs bound. */
  perturb_tensor (bytes, "out", 1000, 1e-3f);
  g_file_set_contents (case_path, bytes, (gssize)len, &error);
  g_assert_no_error (error);

  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 1);
  assert_line_result (out, "out", "FAIL");
  assert_line_result (out, "out_pertoken", "ok");
  g_assert_nonnull (strstr (out, "1 failed"));
  g_assert_nonnull (strstr (err, "beyond their tolerance"));
  test_rm_rf (tmp);
}

/* Without "weights" and "weight_files" in the manifest, the weight file of
 * each output follows from the case name and the output's dtype suffix. */
static void
test_weights_by_naming_convention (void)
{
  g_autofree char *tmp = test_tmp_dir ();
  g_autofree char *out_dir = g_build_filename (tmp, "out", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root = public_manifest (parser);
  JsonObject *cases = manifest_cases (root);
  g_autoptr (GList) names = NULL;
  int status;

  keep_cases (root, "t5_case", "dit16_case", "dit48_case", NULL);
  json_object_remove_member (json_node_get_object (root), "weight_files");
  names = json_object_get_members (cases);
  for (GList *l = names; l != NULL; l = l->next)
    json_object_remove_member (json_object_get_object_member (cases, l->data), "weights");
  write_set_copy (tmp, root);

  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (model_outputs); i++)
    assert_line_result (out, model_outputs[i], "ok");
  g_assert_nonnull (strstr (out, "9 tensors within tolerance, 0 failed, 0 cases skipped"));
  test_rm_rf (tmp);
}

/* The manifest's "weights" decide which file serves which output: swapping
 * the F32 and BF16 files moves both outputs by the BF16 rounding (rel_l2
 * 3e-3), far beyond the F32 bounds, and a name outside the folder is refused. */
static void
test_weights_from_manifest_are_used (void)
{
  g_autofree char *tmp = test_tmp_dir ();
  g_autofree char *out_dir = g_build_filename (tmp, "out", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root = public_manifest (parser);
  JsonObject *weights;
  int status;

  keep_cases (root, "dit16_case", NULL);
  weights = json_object_get_object_member (
      json_object_get_object_member (manifest_cases (root), "dit16_case"), "weights");
  json_object_set_string_member (weights, "out", "dit16_bf16.safetensors");
  json_object_set_string_member (weights, "out_bf16w", "dit16_f32.safetensors");
  write_set_copy (tmp, root);

  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 1);
  assert_line_result (out, "out", "FAIL");
  assert_line_result (out, "out_bf16w", "FAIL");
  assert_line_result (out, "out_f16w", "ok");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  json_object_set_string_member (weights, "out_f16w", "../wan-tiny-public/dit16_f32.safetensors");
  write_manifest (tmp, root);
  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, "no usable weight file for its output “out_f16w”"));
  test_rm_rf (tmp);
}

static GBytes *
tensor_bytes (const Safetensors *st, const char *name)
{
  const SafetensorsTensor *t = safetensors_lookup (st, name);

  g_assert_nonnull (t);
  return g_bytes_new (t->data, t->n_bytes);
}

/* Token ids and mask of @name as I32, cut to @len entries. */
static void
add_i32_cut (GPtrArray *list, const Safetensors *st, const char *from, const char *to, gint64 len)
{
  const SafetensorsTensor *t = safetensors_lookup (st, from);
  g_autofree gint32 *v = g_new (gint32, len);

  g_assert_nonnull (t);
  for (gint64 i = 0; i < len; i++)
    {
      gint64 x;

      memcpy (&x, t->data + i * 8, 8);
      v[i] = (gint32)x;
    }
  test_tensor_add (list, to, "I32", 1, &len, v, (gsize)len * 4);
}

static void
add_t5_entry (JsonObject *tensors,
              JsonObject *tolerances,
              JsonObject *golden_tol,
              const char *name,
              const char *role,
              const char *golden_name)
{
  JsonObject *entry = json_object_new ();

  json_object_set_string_member (entry, "role", role);
  json_object_set_object_member (tensors, name, entry);
  if (golden_name != NULL)
    json_object_set_member (tolerances, name,
                            json_node_copy (json_object_get_member (golden_tol, golden_name)));
}

/* The public T5 prompts under other names ("ids_long", plain "ids"), as I32,
 * one padded to 300 rather than 512, with weights named exactly and by
 * pattern: the encoder sees the same valid tokens, so the golden rows hold. */
static void
test_t5_case_in_other_layout (void)
{
  g_autofree char *golden = public_set ();
  g_autofree char *case_path = g_build_filename (golden, "t5_case.safetensors", NULL);
  g_autofree char *tmp = test_tmp_dir ();
  g_autofree char *out_dir = g_build_filename (tmp, "out", NULL);
  g_autofree char *new_case = g_build_filename (tmp, "t5_other_case.safetensors", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) list = test_tensor_list_new ();
  g_autoptr (Safetensors) st = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) file = NULL;
  JsonNode *root = public_manifest (parser);
  JsonObject *cases = manifest_cases (root);
  JsonObject *golden_tol
      = json_object_get_object_member (json_object_get_object_member (cases, "t5_case"), "tolerances");
  JsonObject *desc = json_object_new ();
  JsonObject *tensors = json_object_new ();
  JsonObject *tolerances = json_object_new ();
  JsonObject *weights = json_object_new ();
  static const char *const outs[][2]
      = { { "out_long", "out_1" }, { "out_long_f16w", "out_1_f16w" }, { "out", "out_0" } };
  const gint64 shape_long[2] = { 140, 64 }, shape_short[2] = { 7, 64 };
  int status;

  st = safetensors_open (case_path, &error);
  g_assert_no_error (error);
  add_i32_cut (list, st, "ids_1", "ids_long", 300);
  add_i32_cut (list, st, "mask_1", "mask_long", 300);
  {
    g_autoptr (GBytes) ids = tensor_bytes (st, "ids_0");
    g_autoptr (GBytes) mask = tensor_bytes (st, "mask_0");
    const gint64 len = 512;

    test_tensor_add (list, "ids", "I64", 1, &len, g_bytes_get_data (ids, NULL), g_bytes_get_size (ids));
    test_tensor_add (list, "mask", "I64", 1, &len, g_bytes_get_data (mask, NULL), g_bytes_get_size (mask));
  }
  for (guint i = 0; i < G_N_ELEMENTS (outs); i++)
    {
      g_autoptr (GBytes) data = tensor_bytes (st, outs[i][1]);

      test_tensor_add (list, outs[i][0], "F32", 2, i < 2 ? shape_long : shape_short,
                       g_bytes_get_data (data, NULL), g_bytes_get_size (data));
    }
  file = test_safetensors_build (list, NULL);
  test_write_bytes (new_case, file);

  add_t5_entry (tensors, tolerances, golden_tol, "ids_long", "input", NULL);
  add_t5_entry (tensors, tolerances, golden_tol, "mask_long", "input", NULL);
  add_t5_entry (tensors, tolerances, golden_tol, "ids", "input", NULL);
  add_t5_entry (tensors, tolerances, golden_tol, "mask", "input", NULL);
  for (guint i = 0; i < G_N_ELEMENTS (outs); i++)
    add_t5_entry (tensors, tolerances, golden_tol, outs[i][0], "output", outs[i][1]);
  json_object_set_string_member (weights, "out_long", "t5_f32.safetensors");
  json_object_set_string_member (weights, "out", "t5_f32.safetensors");
  json_object_set_string_member (weights, "out*_f16w", "t5_hf_f16.safetensors");
  json_object_set_string_member (desc, "file", "t5_other_case.safetensors");
  json_object_set_object_member (desc, "tensors", tensors);
  json_object_set_object_member (desc, "tolerances", tolerances);
  json_object_set_object_member (desc, "weights", weights);
  json_object_set_object_member (cases, "t5_other_case", desc);
  keep_cases (root, "t5_other_case", NULL);
  write_set_copy (tmp, root);

  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (outs); i++)
    assert_line_result (out, outs[i][0], "ok");
  test_rm_rf (tmp);
}

/* dit48_case with five zero rows appended to its context: the model pads the
 * context with zeros to 512 rows anyway, so the golden outputs still hold,
 * and the checker must take the row count from the tensor's shape. */
static void
test_dit_case_with_longer_context (void)
{
  g_autofree char *golden = public_set ();
  g_autofree char *case_path = g_build_filename (golden, "dit48_case.safetensors", NULL);
  g_autofree char *tmp = test_tmp_dir ();
  g_autofree char *out_dir = g_build_filename (tmp, "out", NULL);
  g_autofree char *new_case = g_build_filename (tmp, "dit48_case.safetensors", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (Safetensors) st = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GBytes) file = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree float *context = NULL;
  JsonNode *root = public_manifest (parser);
  const SafetensorsTensor *ctx;
  gint64 shape[2];
  int status;

  st = safetensors_open (case_path, &error);
  g_assert_no_error (error);
  ctx = safetensors_lookup (st, "context");
  g_assert_nonnull (ctx);
  shape[0] = ctx->shape[0] + 5;
  shape[1] = ctx->shape[1];
  context = g_new0 (float, shape[0] * shape[1]);
  memcpy (context, ctx->data, ctx->n_bytes);
  list = test_tensors_from (st);
  test_tensor_remove (list, "context");
  test_tensor_add (list, "context", "F32", 2, shape, context, (gsize)(shape[0] * shape[1]) * sizeof (float));
  keep_cases (root, "dit48_case", NULL);
  write_set_copy (tmp, root);
  g_assert_cmpint (g_unlink (new_case), ==, 0);
  file = test_safetensors_build (list, NULL);
  test_write_bytes (new_case, file);

  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 0);
  assert_line_result (out, "out", "ok");
  assert_line_result (out, "out_pertoken", "ok");
  test_rm_rf (tmp);
}

/* Writes a copy of dit48_case into @dir with tensor @name replaced by F32
 * zeros of shape @shape. */
static void
write_dit48_variant (const char *dir, const char *name, guint n_dims, const gint64 *shape)
{
  g_autofree char *golden = public_set ();
  g_autofree char *case_path = g_build_filename (golden, "dit48_case.safetensors", NULL);
  g_autofree char *new_case = g_build_filename (dir, "dit48_case.safetensors", NULL);
  g_autoptr (Safetensors) st = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GBytes) file = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree float *values = NULL;
  gsize n = 1;

  for (guint d = 0; d < n_dims; d++)
    n *= (gsize)shape[d];
  values = g_new0 (float, n);
  st = safetensors_open (case_path, &error);
  g_assert_no_error (error);
  list = test_tensors_from (st);
  test_tensor_remove (list, name);
  test_tensor_add (list, name, "F32", n_dims, shape, values, n * sizeof (float));
  g_unlink (new_case);
  file = test_safetensors_build (list, NULL);
  test_write_bytes (new_case, file);
}

/* Inputs that do not fit the model fail the case with a message naming
 * them, and nothing is read out of bounds. */
static void
test_bad_model_inputs_fail_the_case (void)
{
  g_autofree char *tmp = test_tmp_dir ();
  g_autofree char *out_dir = g_build_filename (tmp, "out", NULL);
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root = public_manifest (parser);
  const gint64 narrow_context[2] = { 22, 32 }, short_pertoken[1] = { 10 }, float_t[1] = { 1 };
  int status;

  keep_cases (root, "dit48_case", NULL);
  write_set_copy (tmp, root);

  write_dit48_variant (tmp, "context", 2, narrow_context);
  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, "the context must have 64 columns"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  write_dit48_variant (tmp, "t_pertoken", 1, short_pertoken);
  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, "has 10 values, but the latent has 36 tokens"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  write_dit48_variant (tmp, "t", 1, float_t);
  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, "no integer input tensor “t”"));
  test_rm_rf (tmp);
}

/* A double-precision reference of the three samplers, written from the
 * update formulas of spec §5 independently of the engine. */

static double
ref_lambda (double sigma)
{
  return log (1.0 - sigma) - log (sigma);
}

static void
ref_schedule (gboolean dpm, int n, double shift, double *sigmas, gint64 *timesteps)
{
  double start = dpm ? 1.0 : (double)0.999f;

  for (int i = 0; i < n; i++)
    {
      /* numpy.linspace's arithmetic, on which the integer timesteps depend. */
      double s = (double)i * ((0.0 - start) / n) + start;
      double sigma = shift * s / (1.0 + (shift - 1.0) * s);

      timesteps[i] = (gint64)(sigma * 1000.0);
      /* The samplers see σ stored as float32. */
      sigmas[i] = (float)sigma;
    }
  sigmas[n] = 0.0;
}

static void
ref_model (const double *x, const float *c, gint64 t, double *v, gsize len)
{
  for (gsize k = 0; k < len; k++)
    v[k] = 0.3 * x[k] + 0.1 * sin (x[k]) + c[k] + 0.001 * (double)t;
}

/* Fills @traj (n + 1 latents of @len) for "unipc", "dpm" or "euler". */
static void
ref_trajectory (
    const char *solver, int n, double shift, const float *x_init, const float *c, gsize len, float *traj)
{
  gboolean dpm = g_str_equal (solver, "dpm");
  g_autofree double *s = g_new (double, n + 1);
  g_autofree gint64 *t = g_new (gint64, n);
  g_autofree double *x = g_new (double, len);
  g_autofree double *v = g_new (double, len);
  g_autofree double *m = g_new (double, len *n); /* every x₀ prediction */
  g_autofree double *x_last = g_new (double, len);
  int prev_order = 0;

  ref_schedule (dpm, n, shift, s, t);
  for (gsize k = 0; k < len; k++)
    traj[k] = (float)(x[k] = x_init[k]);
  for (int i = 0; i < n; i++)
    {
      double *mi = m + (gsize)i * len;

      ref_model (x, c, t[i], v, len);
      for (gsize k = 0; k < len; k++)
        mi[k] = x[k] - s[i] * v[k];

      if (g_str_equal (solver, "euler"))
        {
          for (gsize k = 0; k < len; k++)
            x[k] += ((float)s[i + 1] - (float)s[i]) * v[k];
        }
      else if (dpm)
        {
          if (s[i + 1] == 0.0)
            memcpy (x, mi, len * sizeof (double));
          else
            {
              double h = ref_lambda (s[i + 1]) - ref_lambda (s[i]);
              double a = s[i + 1] / s[i], b = (1.0 - s[i + 1]) * (exp (-h) - 1.0);
              /* D1 = (m_i − m_{i−1})/r0 vanishes when σ_{i−1} = 1 (λ = −∞). */
              double inv_r0 = i > 0 && s[i - 1] < 1.0 ? h / (ref_lambda (s[i]) - ref_lambda (s[i - 1])) : 0.0;

              for (gsize k = 0; k < len; k++)
                {
                  double d1 = i > 0 ? inv_r0 * (mi[k] - mi[k - len]) : 0.0;

                  x[k] = a * x[k] - b * mi[k] - 0.5 * b * d1;
                }
            }
        }
      else
        {
          int order;

          if (i > 0)
            {
              /* Corrector with the order the previous predictor used. */
              double h = ref_lambda (s[i]) - ref_lambda (s[i - 1]);
              double phi = expm1 (-h), alpha = 1.0 - s[i];
              double rho0 = 0.0, rho1 = 0.5, rk = 1.0;
              const double *m1 = mi - len, *m2 = mi - 2 * len;

              if (prev_order == 2)
                {
                  double hphi = phi / -h - 1.0;
                  double b1 = hphi / phi;
                  double b2 = (hphi / -h - 0.5) * 2.0 / phi;

                  rk = (ref_lambda (s[i - 2]) - ref_lambda (s[i - 1])) / h;
                  rho0 = (b1 - b2) / (1.0 - rk);
                  rho1 = b1 - rho0;
                }
              for (gsize k = 0; k < len; k++)
                {
                  double dprev = prev_order == 2 ? (m2[k] - m1[k]) / rk : 0.0;

                  x[k] = s[i] / s[i - 1] * x_last[k] - alpha * phi * m1[k]
                         - alpha * phi * (rho0 * dprev + rho1 * (mi[k] - m1[k]));
                }
            }
          order = MIN (MIN (2, n - i), i + 1);
          prev_order = order;
          memcpy (x_last, x, len * sizeof (double));
          if (s[i + 1] == 0.0)
            memcpy (x, mi, len * sizeof (double));
          else
            {
              double h = ref_lambda (s[i + 1]) - ref_lambda (s[i]);
              double phi = expm1 (-h), alpha = 1.0 - s[i + 1];
              double rk = order == 2 ? (ref_lambda (s[i - 1]) - ref_lambda (s[i])) / h : 1.0;

              for (gsize k = 0; k < len; k++)
                {
                  double d = order == 2 ? (mi[k - len] - mi[k]) / rk : 0.0;

                  x[k] = s[i + 1] / s[i] * x[k] - alpha * phi * mi[k] - alpha * phi * 0.5 * d;
                }
            }
        }
      for (gsize k = 0; k < len; k++)
        traj[(gsize)(i + 1) * len + k] = (float)x[k];
    }
}

static void
add_tensor_entry (JsonBuilder *b,
                  const char *name,
                  const char *dtype,
                  const char *role,
                  JsonBuilder *tol,
                  double max_abs,
                  double rel_l2)
{
  json_builder_set_member_name (b, name);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "dtype");
  json_builder_add_string_value (b, dtype);
  json_builder_set_member_name (b, "role");
  json_builder_add_string_value (b, role);
  json_builder_end_object (b);
  if (tol != NULL)
    {
      json_builder_set_member_name (tol, name);
      json_builder_begin_object (tol);
      json_builder_set_member_name (tol, "suggested_max_abs");
      json_builder_add_double_value (tol, max_abs);
      json_builder_set_member_name (tol, "suggested_rel_l2");
      json_builder_add_double_value (tol, rel_l2);
      json_builder_end_object (tol);
    }
}

static void
add_schedule_tensors (GPtrArray *list,
                      JsonBuilder *tensors,
                      JsonBuilder *tol,
                      const char *prefix,
                      gboolean dpm,
                      int n,
                      double shift)
{
  g_autofree double *s = g_new (double, n + 1);
  g_autofree float *sf = g_new (float, n + 1);
  g_autofree gint64 *t = g_new (gint64, n);
  g_autofree char *sigmas_name = g_strdup_printf ("%s_sigmas", prefix);
  g_autofree char *timesteps_name = g_strdup_printf ("%s_timesteps", prefix);
  gint64 shape_s = n + 1, shape_t = n;

  ref_schedule (dpm, n, shift, s, t);
  for (int i = 0; i <= n; i++)
    sf[i] = (float)s[i];
  test_tensor_add (list, sigmas_name, "F32", 1, &shape_s, sf, (n + 1) * sizeof (float));
  test_tensor_add (list, timesteps_name, "I64", 1, &shape_t, t, n * sizeof (gint64));
  add_tensor_entry (tensors, sigmas_name, "F32", "output", tol, 3e-7, 1e-6);
  add_tensor_entry (tensors, timesteps_name, "I64", "output", tol, 0, 0);
}

/* A sched-only golden set: latent [2, 3, 4, 5], 9 steps at shift 3 for
 * each sampler, full schedules of 7 steps at shift 2.5 (UniPC) and 11 at
 * shift 8 (DPM++), and one case of a kind the engine cannot run. The manifest
 * names @manifest_shift for the three samplers; the data is for shift 3. */
static void
write_synthetic_set (const char *dir, double manifest_shift)
{
  static const char *const solvers[] = { "unipc", "dpm", "euler" };
  const gint64 shape[4] = { 2, 3, 4, 5 };
  const gsize len = 2 * 3 * 4 * 5;
  const int n = 9;
  float x_init[120], c[120];
  g_autoptr (GPtrArray) list = test_tensor_list_new ();
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonBuilder) tensors = json_builder_new ();
  g_autoptr (JsonBuilder) tol = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) tensors_node = NULL, tol_node = NULL, root = NULL;
  g_autoptr (GBytes) file = NULL;
  g_autofree char *manifest = NULL;
  g_autofree char *manifest_path = g_build_filename (dir, "manifest.json", NULL);
  g_autofree char *case_path = g_build_filename (dir, "sched_case.safetensors", NULL);

  for (gsize k = 0; k < len; k++)
    {
      x_init[k] = (float)(2.0 * sin (0.37 * k + 0.2));
      c[k] = (float)(0.5 * cos (0.11 * k));
    }
  test_tensor_add (list, "x_init", "F32", 4, shape, x_init, sizeof x_init);
  test_tensor_add (list, "c", "F32", 4, shape, c, sizeof c);
  json_builder_begin_object (tensors);
  json_builder_begin_object (tol);
  add_tensor_entry (tensors, "x_init", "F32", "input", NULL, 0, 0);
  add_tensor_entry (tensors, "c", "F32", "input", NULL, 0, 0);
  for (guint s = 0; s < G_N_ELEMENTS (solvers); s++)
    {
      g_autofree float *traj = g_new (float, len *(n + 1));
      g_autofree char *traj_name = g_strdup_printf ("%s_traj", solvers[s]);
      const gint64 traj_shape[5] = { n + 1, 2, 3, 4, 5 };

      ref_trajectory (solvers[s], n, 3.0, x_init, c, len, traj);
      test_tensor_add (list, traj_name, "F32", 5, traj_shape, traj, len * (n + 1) * sizeof (float));
      /* A float32 engine against this double reference. */
      add_tensor_entry (tensors, traj_name, "F32", "output", tol, 5e-5, 1e-5);
      add_schedule_tensors (list, tensors, tol, solvers[s], g_str_equal (solvers[s], "dpm"), n, 3.0);
    }
  add_schedule_tensors (list, tensors, tol, "sched_unipc_7_s2.5", FALSE, 7, 2.5);
  add_schedule_tensors (list, tensors, tol, "sched_dpm_11_s8", TRUE, 11, 8.0);
  json_builder_end_object (tensors);
  json_builder_end_object (tol);
  tensors_node = json_builder_get_root (tensors);
  tol_node = json_builder_get_root (tol);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "cases");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "i2v99_case");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "file");
  json_builder_add_string_value (b, "i2v99_case.safetensors");
  json_builder_end_object (b);
  json_builder_set_member_name (b, "sched_case");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "file");
  json_builder_add_string_value (b, "sched_case.safetensors");
  json_builder_set_member_name (b, "params");
  json_builder_begin_object (b);
  for (guint s = 0; s < G_N_ELEMENTS (solvers); s++)
    {
      json_builder_set_member_name (b, solvers[s]);
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "steps");
      json_builder_add_int_value (b, n);
      json_builder_set_member_name (b, "shift");
      json_builder_add_double_value (b, manifest_shift);
      json_builder_end_object (b);
    }
  json_builder_set_member_name (b, "full");
  json_builder_begin_array (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "solver");
  json_builder_add_string_value (b, "unipc");
  json_builder_set_member_name (b, "steps");
  json_builder_add_int_value (b, 7);
  json_builder_set_member_name (b, "shift");
  json_builder_add_double_value (b, 2.5);
  json_builder_end_object (b);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "solver");
  json_builder_add_string_value (b, "dpm");
  json_builder_set_member_name (b, "steps");
  json_builder_add_int_value (b, 11);
  json_builder_set_member_name (b, "shift");
  json_builder_add_double_value (b, 8.0);
  json_builder_end_object (b);
  json_builder_end_array (b);
  json_builder_end_object (b);
  json_builder_set_member_name (b, "tensors");
  json_builder_add_value (b, g_steal_pointer (&tensors_node));
  json_builder_set_member_name (b, "tolerances");
  json_builder_add_value (b, g_steal_pointer (&tol_node));
  json_builder_end_object (b);
  json_builder_end_object (b);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  manifest = json_generator_to_data (gen, NULL);
  g_assert_true (g_file_set_contents (manifest_path, manifest, -1, NULL));
  file = test_safetensors_build (list, NULL);
  test_write_bytes (case_path, file);
}

static void
test_synthetic_set (void)
{
  g_autofree char *tmp = test_tmp_dir ();
  g_autofree char *out_dir = g_build_filename (tmp, "results", NULL);
  g_autofree char *out = NULL, *err = NULL;
  static const char *const names[] = {
    "unipc_traj",
    "dpm_traj",
    "euler_traj",
    "unipc_timesteps",
    "dpm_sigmas",
    "sched_unipc_7_s2.5_timesteps",
    "sched_dpm_11_s8_sigmas",
  };
  int status;

  write_synthetic_set (tmp, 3.0);
  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *line = table_line (out, names[i]);

      g_assert_nonnull (line);
      g_assert_true (g_str_has_suffix (line, " ok"));
    }
  g_assert_nonnull (strstr (out, "i2v99_case"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, "--require-all", NULL);
  g_assert_cmpint (status, ==, 1);
  test_rm_rf (tmp);
}

static void
test_synthetic_set_wrong_reference_fails (void)
{
  g_autofree char *tmp = test_tmp_dir ();
  g_autofree char *out_dir = g_build_filename (tmp, "results", NULL);
  g_autofree char *out = NULL, *err = NULL;
  static const char *const names[]
      = { "unipc_traj", "dpm_traj", "euler_traj", "unipc_sigmas", "dpm_timesteps" };
  int status;

  /* References for shift 3 under a manifest that says 3.5: same shapes,
   * other values, and each such tensor must be named as failing. */
  write_synthetic_set (tmp, 3.5);
  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 1);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *line = table_line (out, names[i]);

      g_assert_nonnull (line);
      g_assert_true (g_str_has_suffix (line, " FAIL"));
    }
  test_rm_rf (tmp);
}

static void
test_bad_input (void)
{
  g_autofree char *tmp = test_tmp_dir ();
  g_autofree char *manifest_path = g_build_filename (tmp, "manifest.json", NULL);
  g_autofree char *out_dir = g_build_filename (tmp, "results", NULL);
  g_autofree char *golden = public_set ();
  g_autofree char *out = NULL, *err = NULL;
  int status;

  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (err, "manifest.json"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_true (g_file_set_contents (manifest_path, "{ \"cases\": { \"sched_case\": ", -1, NULL));
  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (err, "not valid JSON"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A case whose file is missing fails by name; nothing crashes. */
  g_assert_true (g_file_set_contents (
      manifest_path, "{\"cases\": {\"sched_case\": {\"file\": \"sched_case.safetensors\", \"tensors\": {}}}}",
      -1, NULL));
  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, "sched_case"));
  g_assert_nonnull (strstr (out, "FAIL"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Members of the wrong JSON type are reported, not trusted. */
  g_assert_true (
      g_file_set_contents (manifest_path,
                           "{\"cases\": {\"sched_case\": {\"kind\": {}, \"file\": 7, \"tensors\": []},"
                           " \"x\": [1], \"dit_case\": {\"kind\": 3}}}",
                           -1, NULL));
  status = cli_run (NULL, &out, &err, "engine", "check-golden", tmp, "--out", out_dir, NULL);
  g_test_message ("%s%s", out, err);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, "without a case file"));
  g_assert_nonnull (strstr (out, "skipped"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = cli_run (NULL, &out, &err, "engine", "check-golden", golden, "--out", golden, NULL);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (err, "overwrite"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = cli_run (NULL, &out, &err, "engine", "check-golden", golden, NULL);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "--out"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = cli_run (NULL, &out, &err, "engine", "frobnicate", NULL);
  g_assert_cmpint (status, ==, 2);
  test_rm_rf (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/cli/engine/check-golden/public-set-passes", test_public_set_passes);
  g_test_add_func ("/cli/engine/check-golden/json-report", test_public_set_json);
  g_test_add_func ("/cli/engine/check-golden/perturbed-output-fails-by-name", test_perturbed_output_fails);
  g_test_add_func ("/cli/engine/check-golden/perturbed-dit-output-fails-by-name",
                   test_perturbed_dit_output_fails);
  g_test_add_func ("/cli/engine/check-golden/weights-by-naming-convention",
                   test_weights_by_naming_convention);
  g_test_add_func ("/cli/engine/check-golden/weights-from-manifest-are-used",
                   test_weights_from_manifest_are_used);
  g_test_add_func ("/cli/engine/check-golden/t5-case-in-other-layout", test_t5_case_in_other_layout);
  g_test_add_func ("/cli/engine/check-golden/bad-model-inputs-fail-the-case",
                   test_bad_model_inputs_fail_the_case);
  g_test_add_func ("/cli/engine/check-golden/dit-case-with-longer-context",
                   test_dit_case_with_longer_context);
  g_test_add_func ("/cli/engine/check-golden/synthetic-set-other-shapes-steps-shifts", test_synthetic_set);
  g_test_add_func ("/cli/engine/check-golden/wrong-reference-fails",
                   test_synthetic_set_wrong_reference_fails);
  g_test_add_func ("/cli/engine/check-golden/bad-input-is-a-clear-error", test_bad_input);

  return g_test_run ();
}
