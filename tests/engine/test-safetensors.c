/* Tests of the safetensors reader: the golden files, every kind of damaged
 * header, shards, fp8 scales and PyTorch zip archives. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>

#include "engine-test-util.h"
#include "safetensors.h"
#include "takes-engine.h"

static JsonObject *
load_manifest (JsonParser *parser)
{
  g_autofree char *path = test_golden_path ("manifest.json");
  g_autoptr (GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

static Safetensors *
open_bytes (GBytes *bytes, GError **error)
{
  return safetensors_new_from_bytes (bytes, "test.safetensors", error);
}

/* Opens a hand-written header and expects @code, with @fragment in the message. */
static void
expect_header_error (const char *header, gsize data_len, int code, const char *fragment)
{
  g_autoptr (GBytes) bytes = test_safetensors_raw (header, data_len);
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = open_bytes (bytes, &error);

  g_assert_null (st);
  g_assert_error (error, TAKES_ENGINE_ERROR, code);
  g_assert_nonnull (strstr (error->message, "test.safetensors"));
  if (fragment != NULL && strstr (error->message, fragment) == NULL)
    g_error ("“%s” is not in “%s”", fragment, error->message);
}

static void
test_golden_all_open (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *weights = json_object_get_object_member (load_manifest (parser), "weight_files");
  g_autoptr (GList) names = json_object_get_members (weights);
  g_autofree char *dir_path = test_golden_path ("");
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  guint n_files = 0;

  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonObject *info = json_object_get_object_member (weights, l->data);
      g_autofree char *path = test_golden_path (l->data);
      g_autoptr (GError) error = NULL;
      g_autoptr (Safetensors) st = safetensors_open (path, &error);
      const char *dtype = json_array_get_string_element (json_object_get_array_member (info, "dtypes"), 0);

      g_assert_no_error (error);
      g_assert_cmpuint (safetensors_get_n_tensors (st), ==, json_object_get_int_member (info, "tensors"));
      g_assert_cmpstr (safetensors_get_metadata (st, "format"), ==,
                       json_object_get_string_member (info, "format"));
      for (guint i = 0; i < safetensors_get_n_tensors (st); i++)
        g_assert_cmpstr (safetensors_dtype_get_name (safetensors_get_tensor (st, i)->dtype), ==, dtype);
    }
  /* The case files hold I64 tensors and JSON metadata: they open too. */
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, name, NULL);
      g_autoptr (GError) error = NULL;
      g_autoptr (Safetensors) st = NULL;

      if (!g_str_has_suffix (name, ".safetensors"))
        continue;
      st = safetensors_open (path, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (safetensors_get_n_bytes (st), >, 0);
      n_files++;
    }
  g_assert_cmpuint (n_files, ==, 17);
}

static void
test_golden_case_metadata (void)
{
  g_autofree char *path = test_golden_path ("t5_case.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = safetensors_open (path, &error);
  g_autoptr (GPtrArray) keys = NULL;
  const SafetensorsTensor *ids;
  gint64 first;

  g_assert_no_error (error);
  keys = safetensors_get_metadata_keys (st);
  g_assert_cmpuint (keys->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (keys, 0), ==, "params");
  g_assert_cmpstr (g_ptr_array_index (keys, 1), ==, "roles");
  g_assert_nonnull (strstr (safetensors_get_metadata (st, "params"), "\"eos_id\": 1"));
  ids = safetensors_lookup (st, "ids_0");
  g_assert_nonnull (ids);
  g_assert_cmpint (ids->dtype, ==, SAFETENSORS_DTYPE_I64);
  g_assert_cmpuint (ids->n_dims, ==, 1);
  g_assert_cmpint (ids->shape[0], ==, 512);
  memcpy (&first, ids->data + 6 * 8, 8);
  g_assert_cmpint (first, ==, 1);
}

static void
test_roundtrip_written_file (void)
{
  g_autoptr (GPtrArray) list = test_tensor_list_new ();
  const float values[6] = { 1, -2, 3.5f, 0, 1e-3f, 42 };
  const gint64 shape[2] = { 2, 3 };
  const gint64 empty_shape[1] = { 0 };
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = NULL;
  const SafetensorsTensor *t;
  float back[6];

  test_tensor_add (list, "w", "F32", 2, shape, values, sizeof values);
  test_tensor_add (list, "empty", "BF16", 1, empty_shape, "", 0);
  test_tensor_add (list, "scalar", "F32", 0, NULL, values, 4);
  bytes = test_safetensors_build (list, "{\"note\":\"a \\\"quoted\\\" \\u00e9 value\"}");
  st = open_bytes (bytes, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (safetensors_get_metadata (st, "note"), ==, "a \"quoted\" \xc3\xa9 value");
  t = safetensors_lookup (st, "w");
  g_assert_nonnull (t);
  g_assert_true (safetensors_tensor_read_f32 (t, back, 6, &error));
  g_assert_cmpmem (back, sizeof back, values, sizeof values);
  g_assert_cmpint (safetensors_lookup (st, "empty")->n_elements, ==, 0);
  g_assert_cmpint (safetensors_lookup (st, "scalar")->n_dims, ==, 0);
  g_assert_cmpint (safetensors_lookup (st, "scalar")->n_elements, ==, 1);
}

static void
test_malformed_too_short (void)
{
  for (gsize n = 0; n < 8; n++)
    {
      g_autoptr (GBytes) bytes = g_bytes_new ("\x10\0\0\0\0\0\0", n);
      g_autoptr (GError) error = NULL;
      g_autoptr (Safetensors) st = open_bytes (bytes, &error);

      g_assert_null (st);
      g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT);
      g_assert_nonnull (strstr (error->message, "too short"));
    }
}

static GBytes *
bytes_with_length (guint64 header_len, const char *rest)
{
  GByteArray *out = g_byte_array_new ();
  guint8 len_bytes[8];

  for (int i = 0; i < 8; i++)
    len_bytes[i] = (guint8)(header_len >> (8 * i));
  g_byte_array_append (out, len_bytes, 8);
  g_byte_array_append (out, (const guint8 *)rest, (guint)strlen (rest));
  return g_byte_array_free_to_bytes (out);
}

static void
test_malformed_header_length (void)
{
  const guint64 lengths[] = { 100, 2147483648u, 100000001, G_MAXUINT64, G_MAXUINT64 - 7 };

  for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      g_autoptr (GBytes) bytes = bytes_with_length (lengths[i], "{\"a\":{\"dtype\":\"F32\"}}");
      g_autoptr (GError) error = NULL;
      g_autoptr (Safetensors) st = open_bytes (bytes, &error);

      g_assert_null (st);
      g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT);
      g_assert_true (strstr (error->message, "past the end") != NULL
                     || strstr (error->message, "100 MB") != NULL);
    }
}

static void
test_malformed_truncated_data (void)
{
  g_autofree char *path = test_golden_path ("dit16_f32.safetensors");
  g_autofree char *contents = NULL;
  gsize length = 0;
  guint64 header_len = 0;
  gsize cuts[] = { 9, 100, 1000, 0, 0, 0, 0 };

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  for (int i = 7; i >= 0; i--)
    header_len = (header_len << 8) | (guint8)contents[i];
  cuts[3] = 8 + header_len - 1;
  cuts[4] = 8 + header_len;
  cuts[5] = 8 + header_len + 1000;
  cuts[6] = length - 1;
  for (guint i = 0; i < G_N_ELEMENTS (cuts); i++)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (contents, cuts[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (Safetensors) st = open_bytes (bytes, &error);

      g_assert_null (st);
      g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT);
    }
}

/* Every prefix of a real header, and every single-byte change of the first
 * bytes after the length, fails cleanly or parses. */
static void
test_malformed_every_prefix (void)
{
  g_autofree char *path = test_golden_path ("t5_f32.safetensors");
  g_autofree char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  for (gsize n = 0; n < 2100; n++)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (contents, n);
      g_autoptr (GError) error = NULL;
      g_autoptr (Safetensors) st = open_bytes (bytes, &error);

      g_assert_null (st);
      g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT);
    }
  for (gsize pos = 8; pos < 400; pos++)
    for (int v = 0; v < 256; v += 37)
      {
        g_autofree char *copy = g_memdup2 (contents, length);
        g_autoptr (GBytes) bytes = NULL;
        g_autoptr (GError) error = NULL;
        g_autoptr (Safetensors) st = NULL;

        copy[pos] = (char)v;
        bytes = g_bytes_new_take (g_steal_pointer (&copy), length);
        st = open_bytes (bytes, &error);
        g_assert_true ((st == NULL) == (error != NULL));
      }
}

static void
test_malformed_overlap (void)
{
  expect_header_error ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                       "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                       16, TAKES_ENGINE_ERROR_CORRUPT, "overlap");
  expect_header_error ("{\"a\":{\"dtype\":\"U8\",\"shape\":[8],\"data_offsets\":[0,8]},"
                       "\"b\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[2,4]}}",
                       16, TAKES_ENGINE_ERROR_CORRUPT, "overlap");
}

static void
test_malformed_unknown_dtype (void)
{
  expect_header_error ("{\"a\":{\"dtype\":\"F4\",\"shape\":[2],\"data_offsets\":[0,1]}}", 8,
                       TAKES_ENGINE_ERROR_UNSUPPORTED, "F4");
  expect_header_error ("{\"a\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,1]}}", 8,
                       TAKES_ENGINE_ERROR_CORRUPT, NULL);
}

static void
test_malformed_shape_mismatch (void)
{
  expect_header_error ("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", 8,
                       TAKES_ENGINE_ERROR_CORRUPT, "need 12");
  expect_header_error ("{\"a\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[0,6]}}", 8,
                       TAKES_ENGINE_ERROR_CORRUPT, "need 8");
}

static void
test_malformed_absurd_shapes (void)
{
  expect_header_error (
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[1099511627776,1099511627776],\"data_offsets\":[0,8]}}", 8,
      TAKES_ENGINE_ERROR_CORRUPT, "impossibly large");
  expect_header_error ("{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904],\"data_offsets\":[0,8]}}",
                       8, TAKES_ENGINE_ERROR_CORRUPT, "impossibly large");
  expect_header_error ("{\"a\":{\"dtype\":\"F32\",\"shape\":[99999999999999999999],\"data_offsets\":[0,8]}}",
                       8, TAKES_ENGINE_ERROR_CORRUPT, "too large");
  expect_header_error ("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8,
                       TAKES_ENGINE_ERROR_CORRUPT, NULL);
  expect_header_error ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2.0],\"data_offsets\":[0,8]}}", 8,
                       TAKES_ENGINE_ERROR_CORRUPT, NULL);
  expect_header_error ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2e0],\"data_offsets\":[0,8]}}", 8,
                       TAKES_ENGINE_ERROR_CORRUPT, NULL);
  expect_header_error ("{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", 8,
                       TAKES_ENGINE_ERROR_CORRUPT, NULL);
  expect_header_error ("{\"a\":{\"dtype\":\"U8\",\"shape\":[1,1,1,1,1,1,1,1,1],\"data_offsets\":[0,1]}}", 8,
                       TAKES_ENGINE_ERROR_UNSUPPORTED, "dimensions");
}

static void
test_malformed_offsets (void)
{
  expect_header_error ("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]}}", 3,
                       TAKES_ENGINE_ERROR_CORRUPT, "truncated");
  expect_header_error ("{\"a\":{\"dtype\":\"U8\",\"shape\":[0],\"data_offsets\":[5,4]}}", 8,
                       TAKES_ENGINE_ERROR_CORRUPT, NULL);
  expect_header_error ("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0]}}", 8,
                       TAKES_ENGINE_ERROR_CORRUPT, NULL);
  expect_header_error ("{\"a\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2,4]}}", 8,
                       TAKES_ENGINE_ERROR_CORRUPT, NULL);
  expect_header_error ("{\"a\":{\"dtype\":\"U8\",\"shape\":[2]}}", 8, TAKES_ENGINE_ERROR_CORRUPT,
                       "data_offsets");
}

static void
test_malformed_names (void)
{
  expect_header_error ("{\"\xff\xfe\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 8,
                       TAKES_ENGINE_ERROR_CORRUPT, "UTF-8");
  expect_header_error ("{\"a\\u0000b\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 8,
                       TAKES_ENGINE_ERROR_CORRUPT, "NUL");
  expect_header_error ("{\"a\\ud800\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 8,
                       TAKES_ENGINE_ERROR_CORRUPT, "surrogate");
  expect_header_error ("{\"a\\q\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}", 8,
                       TAKES_ENGINE_ERROR_CORRUPT, NULL);
  expect_header_error ("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                       "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
                       8, TAKES_ENGINE_ERROR_CORRUPT, "two tensors");
  expect_header_error ("{\"model.diffusion_model.a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},"
                       "\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}",
                       8, TAKES_ENGINE_ERROR_CORRUPT, "prefix");
}

static void
test_malformed_structure (void)
{
  const char *headers[] = {
    "[1,2,3]",
    "{\"a\":1}",
    "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}} x",
    "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}",
    "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},}",
    "{\"__metadata__\":{\"k\":1}}",
    "{\"__metadata__\":{},\"__metadata__\":{}}",
    "{\"a\":{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}",
    "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}}",
    "{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"x\":\"unterminated}}",
    "{\"a\x01\":{}}",
    "  ",
  };

  for (guint i = 0; i < G_N_ELEMENTS (headers); i++)
    expect_header_error (headers[i], 8, TAKES_ENGINE_ERROR_CORRUPT, NULL);
}

static void
test_unknown_keys_skipped (void)
{
  g_autoptr (GBytes) bytes = test_safetensors_raw ("{\"a\":{\"future\":{\"x\":[1,2,{\"y\":null}],\"z\":true},"
                                                   "\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[0,2]}}",
                                                   2);
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = open_bytes (bytes, &error);

  g_assert_no_error (error);
  g_assert_cmpint (safetensors_lookup (st, "a")->n_elements, ==, 2);
}

static void
test_prefix_stripped (void)
{
  g_autofree char *comfy = test_golden_path ("dit16_comfy_f16.safetensors");
  g_autofree char *plain = test_golden_path ("dit16_f32.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) a = safetensors_open (comfy, &error);
  g_autoptr (Safetensors) b = safetensors_open (plain, &error);

  g_assert_no_error (error);
  g_assert_true (safetensors_get_prefix_stripped (a));
  g_assert_false (safetensors_get_prefix_stripped (b));
  g_assert_cmpuint (safetensors_get_n_tensors (a), ==, safetensors_get_n_tensors (b));
  for (guint i = 0; i < safetensors_get_n_tensors (b); i++)
    {
      const SafetensorsTensor *tb = safetensors_get_tensor (b, i);
      const SafetensorsTensor *ta = safetensors_lookup (a, tb->name);

      g_assert_nonnull (ta);
      g_assert_cmpuint (ta->n_dims, ==, tb->n_dims);
      g_assert_cmpmem (ta->shape, ta->n_dims * sizeof (gint64), tb->shape, tb->n_dims * sizeof (gint64));
    }
  g_assert_null (safetensors_lookup (a, "model.diffusion_model.head.modulation"));
}

/* fp8 */

static guint8
to_e4m3 (float f)
{
  /* Exhaustive nearest search: the test must not share code with the reader. */
  guint8 best = 0;
  float best_err = INFINITY;

  for (int b = 0; b < 256; b++)
    {
      int e = (b >> 3) & 0xF, m = b & 7;
      float v;

      if (e == 15 && m == 7)
        continue;
      v = e == 0 ? ldexpf ((float)m, -9) : ldexpf ((float)(8 + m), e - 10);
      if (b & 0x80)
        v = -v;
      if (fabsf (v - f) < best_err)
        {
          best_err = fabsf (v - f);
          best = (guint8)b;
        }
    }
  return best;
}

static GPtrArray *
fp8_layer (const char *scale_name, float scale, gboolean with_quant_json)
{
  GPtrArray *list = test_tensor_list_new ();
  const gint64 shape[2] = { 2, 4 };
  const float values[8] = { 0.5f, -1.0f, 2.0f, 0.0f, 3.5f, -0.25f, 1.5f, 6.0f };
  guint8 q[8];
  const gint64 one[1] = { 1 };

  for (int i = 0; i < 8; i++)
    q[i] = to_e4m3 (values[i] / scale);
  test_tensor_add (list, "model.diffusion_model.blocks.0.ffn.0.weight", "F8_E4M3", 2, shape, q, 8);
  test_tensor_add (list, scale_name, "F32", 1, one, &scale, 4);
  if (with_quant_json)
    {
      const char *json = "{\"format\": \"float8_e4m3fn\"}";
      const gint64 len[1] = { (gint64)strlen (json) };
      test_tensor_add (list, "model.diffusion_model.blocks.0.ffn.0.comfy_quant", "U8", 1, len, json,
                       strlen (json));
    }
  return list;
}

static void
check_fp8_values (const SafetensorsTensor *w)
{
  const float values[8] = { 0.5f, -1.0f, 2.0f, 0.0f, 3.5f, -0.25f, 1.5f, 6.0f };
  float back[8];
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (w->scale);
  g_assert_true (safetensors_tensor_read_f32 (w, back, 8, &error));
  g_assert_no_error (error);
  for (int i = 0; i < 8; i++)
    g_assert_cmpfloat_with_epsilon (back[i], values[i], fabsf (values[i]) * 0.0625f + 1e-6f);
}

static void
test_fp8_scale_weight_legacy (void)
{
  g_autoptr (GPtrArray) list = fp8_layer ("model.diffusion_model.blocks.0.ffn.0.scale_weight", 0.02f, FALSE);
  const gint64 sentinel_shape[1] = { 0 };
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = NULL;
  const SafetensorsTensor *w;

  test_tensor_add (list, "model.diffusion_model.scaled_fp8", "F8_E4M3", 1, sentinel_shape, "", 0);
  bytes = test_safetensors_build (list, NULL);
  st = open_bytes (bytes, &error);
  g_assert_no_error (error);
  g_assert_true (safetensors_get_scaled_fp8 (st));
  w = safetensors_lookup (st, "blocks.0.ffn.0.weight");
  g_assert_nonnull (w);
  g_assert_false (w->is_aux);
  g_assert_true (safetensors_lookup (st, "blocks.0.ffn.0.scale_weight")->is_aux);
  g_assert_true (safetensors_lookup (st, "scaled_fp8")->is_aux);
  g_assert_null (w->quant_format);
  check_fp8_values (w);
}

static void
test_fp8_weight_scale_comfy_quant (void)
{
  g_autoptr (GPtrArray) list = fp8_layer ("model.diffusion_model.blocks.0.ffn.0.weight_scale", 0.02f, TRUE);
  const gint64 one[1] = { 1 };
  const float input_scale = 1.0f;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = NULL;
  const SafetensorsTensor *w;

  test_tensor_add (list, "model.diffusion_model.blocks.0.ffn.0.input_scale", "F32", 1, one, &input_scale, 4);
  bytes = test_safetensors_build (list, NULL);
  st = open_bytes (bytes, &error);
  g_assert_no_error (error);
  w = safetensors_lookup (st, "blocks.0.ffn.0.weight");
  g_assert_cmpstr (w->quant_format, ==, "float8_e4m3fn");
  g_assert_nonnull (w->input_scale);
  g_assert_true (safetensors_lookup (st, "blocks.0.ffn.0.comfy_quant")->is_aux);
  check_fp8_values (w);
}

static void
test_fp8_quantization_metadata (void)
{
  g_autoptr (GPtrArray) list = fp8_layer ("blocks.0.ffn.0.weight_scale", 0.05f, FALSE);
  g_autoptr (GBytes) bytes = test_safetensors_build (
      list, "{\"_quantization_metadata\":\"{\\\"format_version\\\":\\\"1.0\\\",\\\"layers\\\":{"
            "\\\"model.diffusion_model.blocks.0.ffn.0\\\":{\\\"format\\\":\\\"float8_e4m3fn\\\"}}}\"}");
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = open_bytes (bytes, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (safetensors_lookup (st, "blocks.0.ffn.0.weight")->quant_format, ==, "float8_e4m3fn");
  check_fp8_values (safetensors_lookup (st, "blocks.0.ffn.0.weight"));
}

static void
test_fp8_bad_scale (void)
{
  g_autoptr (GPtrArray) list = fp8_layer ("blocks.0.ffn.0.weight_scale", 0.05f, FALSE);
  const gint64 three[1] = { 3 };
  const float scales[3] = { 1, 2, 3 };
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = NULL;

  test_tensor_remove (list, "blocks.0.ffn.0.weight_scale");
  test_tensor_add (list, "blocks.0.ffn.0.weight_scale", "F32", 1, three, scales, sizeof scales);
  bytes = test_safetensors_build (list, NULL);
  st = open_bytes (bytes, &error);
  g_assert_null (st);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "blocks.0.ffn.0.weight_scale"));
}

static void
test_fp8_bad_comfy_quant (void)
{
  g_autoptr (GPtrArray) list = fp8_layer ("blocks.0.ffn.0.weight_scale", 0.05f, FALSE);
  const char *json = "{\"format\": ";
  const gint64 len[1] = { (gint64)strlen (json) };
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = NULL;

  test_tensor_add (list, "blocks.0.ffn.0.comfy_quant", "U8", 1, len, json, strlen (json));
  bytes = test_safetensors_build (list, NULL);
  st = open_bytes (bytes, &error);
  g_assert_null (st);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT);
}

static void
test_per_row_scale (void)
{
  g_autoptr (GPtrArray) list = test_tensor_list_new ();
  const gint64 shape[2] = { 2, 2 };
  const gint64 rows[1] = { 2 };
  const guint8 q[4] = { 0x38, 0x40, 0x38, 0xC0 }; /* 1, 2, 1, -2 */
  const float scales[2] = { 0.5f, 4.0f };
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = NULL;
  float back[4];

  test_tensor_add (list, "l.weight", "F8_E4M3", 2, shape, q, 4);
  test_tensor_add (list, "l.weight_scale", "F32", 1, rows, scales, sizeof scales);
  bytes = test_safetensors_build (list, NULL);
  st = open_bytes (bytes, &error);
  g_assert_no_error (error);
  g_assert_true (safetensors_tensor_read_f32 (safetensors_lookup (st, "l.weight"), back, 4, &error));
  g_assert_cmpfloat (back[0], ==, 0.5f);
  g_assert_cmpfloat (back[1], ==, 1.0f);
  g_assert_cmpfloat (back[2], ==, 4.0f);
  g_assert_cmpfloat (back[3], ==, -8.0f);
}

/* Shards */

static char *
write_shards (const char *dir, const char *index_json_override)
{
  g_autofree char *path = test_golden_path ("dit16_f32.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = safetensors_open (path, &error);
  g_autoptr (GPtrArray) all = NULL;
  g_autoptr (GPtrArray) one = test_tensor_list_new ();
  g_autoptr (GPtrArray) two = test_tensor_list_new ();
  g_autoptr (GString) index = g_string_new ("{\"metadata\":{\"total_size\":1},\"weight_map\":{");
  char *index_path = g_build_filename (dir, "diffusion_pytorch_model.safetensors.index.json", NULL);

  g_assert_no_error (error);
  all = test_tensors_from (st);
  for (guint i = 0; i < all->len; i++)
    {
      TestTensor *t = g_ptr_array_index (all, i);
      gboolean first = i % 2 == 0;

      test_tensor_add (first ? one : two, t->name, t->dtype, t->n_dims, t->shape,
                       g_bytes_get_data (t->data, NULL), g_bytes_get_size (t->data));
      g_string_append_printf (index, "%s\"%s\":\"diffusion_pytorch_model-0000%d-of-00002.safetensors\"",
                              i > 0 ? "," : "", t->name, first ? 1 : 2);
    }
  g_string_append (index, "}}");
  {
    g_autoptr (GBytes) b1 = test_safetensors_build (one, "{\"format\":\"pt\"}");
    g_autoptr (GBytes) b2 = test_safetensors_build (two, "{\"format\":\"pt\"}");
    g_autofree char *p1 = g_build_filename (dir, "diffusion_pytorch_model-00001-of-00002.safetensors", NULL);
    g_autofree char *p2 = g_build_filename (dir, "diffusion_pytorch_model-00002-of-00002.safetensors", NULL);

    test_write_bytes (p1, b1);
    test_write_bytes (p2, b2);
  }
  g_file_set_contents (index_path, index_json_override != NULL ? index_json_override : index->str, -1,
                       &error);
  g_assert_no_error (error);
  return index_path;
}

static void
test_shards_open (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *index = write_shards (dir, NULL);
  g_autofree char *plain_path = test_golden_path ("dit16_f32.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = safetensors_open (index, &error);
  g_autoptr (Safetensors) plain = safetensors_open (plain_path, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (safetensors_get_n_files (st), ==, 2);
  g_assert_cmpuint (safetensors_get_n_tensors (st), ==, safetensors_get_n_tensors (plain));
  g_assert_cmpstr (safetensors_get_metadata (st, "format"), ==, "pt");
  for (guint i = 0; i < safetensors_get_n_tensors (plain); i++)
    {
      const SafetensorsTensor *p = safetensors_get_tensor (plain, i);
      const SafetensorsTensor *s = safetensors_lookup (st, p->name);

      g_assert_nonnull (s);
      g_assert_cmpmem (s->data, s->n_bytes, p->data, p->n_bytes);
      g_assert_true (g_str_has_suffix (s->file, i % 2 == 0 ? "00001-of-00002.safetensors"
                                                           : "00002-of-00002.safetensors"));
    }
  test_rm_rf (dir);
}

static void
test_shards_errors (void)
{
  const struct
  {
    const char *index;
    int code;
    const char *fragment;
  } cases[] = {
    { "{\"weight_map\":{\"head.modulation\":\"missing.safetensors\"}}", TAKES_ENGINE_ERROR_NOT_FOUND,
      "missing" },
    { "{\"weight_map\":{\"no.such.tensor\":\"diffusion_pytorch_model-00001-of-00002.safetensors\"}}",
      TAKES_ENGINE_ERROR_MISSING_TENSOR, "no.such.tensor" },
    { "{\"weight_map\":{\"head.modulation\":\"../elsewhere.safetensors\"}}", TAKES_ENGINE_ERROR_CORRUPT,
      NULL },
    { "{\"weight_map\":{\"head.modulation\":7}}", TAKES_ENGINE_ERROR_CORRUPT, NULL },
    { "{\"weight_map\":{}}", TAKES_ENGINE_ERROR_CORRUPT, NULL },
    { "{\"metadata\":{}}", TAKES_ENGINE_ERROR_CORRUPT, "weight_map" },
    { "{\"weight_map\":", TAKES_ENGINE_ERROR_CORRUPT, NULL },
    { "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
      "]]]]]]]]]]]]]]]]]]]]"
      "]]]]]]]]]]]]]]]]]]]]]]]]",
      TAKES_ENGINE_ERROR_CORRUPT, "nests" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *dir = test_tmp_dir ();
      g_autofree char *index = write_shards (dir, cases[i].index);
      g_autoptr (GError) error = NULL;
      g_autoptr (Safetensors) st = safetensors_open (index, &error);

      g_assert_null (st);
      g_assert_error (error, TAKES_ENGINE_ERROR, cases[i].code);
      if (cases[i].fragment != NULL)
        g_assert_nonnull (strstr (error->message, cases[i].fragment));
      test_rm_rf (dir);
    }
}

static void
test_open_missing_and_folder (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *missing = g_build_filename (dir, "none.safetensors", NULL);
  g_autoptr (Safetensors) a = safetensors_open (missing, &error);

  g_assert_null (a);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_null (safetensors_open (dir, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_IO);
  test_rm_rf (dir);
}

/* PyTorch archives */

static void
test_pth_state_dict (void)
{
  g_autofree char *pth = test_data_path ("torch", "t5_bf16.pth");
  g_autofree char *ref = test_golden_path ("t5_f32.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = safetensors_open (pth, &error);
  g_autoptr (Safetensors) f32 = safetensors_open (ref, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (safetensors_get_n_tensors (st), ==, safetensors_get_n_tensors (f32));
  for (guint i = 0; i < safetensors_get_n_tensors (f32); i++)
    {
      const SafetensorsTensor *r = safetensors_get_tensor (f32, i);
      const SafetensorsTensor *t = safetensors_lookup (st, r->name);

      g_assert_nonnull (t);
      g_assert_cmpint (t->dtype, ==, SAFETENSORS_DTYPE_BF16);
      g_assert_cmpmem (t->shape, t->n_dims * sizeof (gint64), r->shape, r->n_dims * sizeof (gint64));
      for (gint64 k = 0; k < r->n_elements; k++)
        {
          float f;
          guint16 h;

          memcpy (&f, r->data + 4 * k, 4);
          memcpy (&h, t->data + 2 * k, 2);
          g_assert_cmpuint (h, ==, test_f32_to_bf16 (f));
        }
    }
}

static void
test_pth_views_and_wrappers (void)
{
  g_autofree char *pth = test_data_path ("torch", "mixed.pth");
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = safetensors_open (pth, &error);
  const SafetensorsTensor *t;
  float v[24];
  gint64 ints[3];

  g_assert_no_error (error);
  g_assert_cmpuint (safetensors_get_n_tensors (st), ==, 6);
  t = safetensors_lookup (st, "row");
  g_assert_cmpuint (t->n_dims, ==, 1);
  g_assert_cmpint (t->shape[0], ==, 6);
  g_assert_true (safetensors_tensor_read_f32 (t, v, 6, &error));
  for (int i = 0; i < 6; i++)
    g_assert_cmpfloat (v[i], ==, 12 + i);
  t = safetensors_lookup (st, "whole");
  g_assert_cmpint (t->shape[0], ==, 4);
  g_assert_cmpint (t->shape[1], ==, 6);
  g_assert_true (safetensors_tensor_read_f32 (t, v, 24, &error));
  g_assert_cmpfloat (v[23], ==, 23);
  t = safetensors_lookup (st, "param");
  g_assert_cmpint (t->dtype, ==, SAFETENSORS_DTYPE_F16);
  g_assert_true (safetensors_tensor_read_f32 (t, v, 5, &error));
  g_assert_cmpfloat (v[0], ==, -1.0f);
  g_assert_cmpfloat (v[2], ==, 0.0f);
  g_assert_cmpfloat (v[4], ==, 1.0f);
  t = safetensors_lookup (st, "bf16");
  g_assert_true (safetensors_tensor_read_f32 (t, v, 4, &error));
  g_assert_cmpfloat (v[1], ==, -2.25f);
  g_assert_cmpfloat (v[3], ==, 0.125f);
  t = safetensors_lookup (st, "ints");
  g_assert_cmpint (t->dtype, ==, SAFETENSORS_DTYPE_I64);
  memcpy (ints, t->data, sizeof ints);
  g_assert_cmpint (ints[1], ==, -2);
  g_assert_false (safetensors_tensor_read_f32 (t, v, 3, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED);
  g_clear_error (&error);
  t = safetensors_lookup (st, "scalar");
  g_assert_cmpuint (t->n_dims, ==, 0);
  g_assert_true (safetensors_tensor_read_f32 (t, v, 1, &error));
  g_assert_cmpfloat (v[0], ==, 7.0f);
}

static void
test_pth_refused_with_command (void)
{
  const char *files[] = { "strided.pth", "legacy.pth" };

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *pth = test_data_path ("torch", files[i]);
      g_autoptr (GError) error = NULL;
      g_autoptr (Safetensors) st = safetensors_open (pth, &error);

      g_assert_null (st);
      g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED);
      g_assert_nonnull (strstr (error->message, "python3 -c"));
      g_assert_nonnull (strstr (error->message, "save_file"));
      g_assert_nonnull (strstr (error->message, files[i]));
    }
}

static void
test_pth_truncated (void)
{
  g_autofree char *pth = test_data_path ("torch", "mixed.pth");
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *cut = g_build_filename (dir, "cut.pth", NULL);

  g_assert_true (g_file_get_contents (pth, &contents, &length, NULL));
  for (gsize n = 4; n < length; n += 37)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (Safetensors) st = NULL;

      g_assert_true (g_file_set_contents (cut, contents, (gssize)n, NULL));
      st = safetensors_open (cut, &error);
      g_assert_null (st);
      g_assert_nonnull (error);
      g_assert_cmpint (error->domain, ==, TAKES_ENGINE_ERROR);
    }
  test_rm_rf (dir);
}

/* A zip with stored entries, for hand-made pickles. */
static GBytes *
make_zip (const char *const *names, GBytes *const *contents, guint n)
{
  GByteArray *out = g_byte_array_new ();
  GByteArray *cd = g_byte_array_new ();
  guint8 h[46];
  guint32 cd_offset;

#define PUT16(p, v) ((p)[0] = (guint8)(v), (p)[1] = (guint8)((v) >> 8))
#define PUT32(p, v) (PUT16 (p, (v)&0xFFFF), PUT16 ((p) + 2, (v) >> 16))
  for (guint i = 0; i < n; i++)
    {
      gsize size = g_bytes_get_size (contents[i]);
      guint16 name_len = (guint16)strlen (names[i]);
      guint32 local = out->len;

      memset (h, 0, sizeof h);
      PUT32 (h, 0x04034b50);
      PUT32 (h + 18, (guint32)size);
      PUT32 (h + 22, (guint32)size);
      PUT16 (h + 26, name_len);
      g_byte_array_append (out, h, 30);
      g_byte_array_append (out, (const guint8 *)names[i], name_len);
      g_byte_array_append (out, g_bytes_get_data (contents[i], NULL), (guint)size);

      memset (h, 0, sizeof h);
      PUT32 (h, 0x02014b50);
      PUT32 (h + 20, (guint32)size);
      PUT32 (h + 24, (guint32)size);
      PUT16 (h + 28, name_len);
      PUT32 (h + 42, local);
      g_byte_array_append (cd, h, 46);
      g_byte_array_append (cd, (const guint8 *)names[i], name_len);
    }
  cd_offset = out->len;
  g_byte_array_append (out, cd->data, cd->len);
  memset (h, 0, sizeof h);
  PUT32 (h, 0x06054b50);
  PUT16 (h + 8, n);
  PUT16 (h + 10, n);
  PUT32 (h + 12, cd->len);
  PUT32 (h + 16, cd_offset);
  g_byte_array_append (out, h, 22);
  g_byte_array_unref (cd);
#undef PUT16
#undef PUT32
  return g_byte_array_free_to_bytes (out);
}

static void
expect_pickle_error (const char *pickle, gsize pickle_len, int code, const char *fragment)
{
  const char *names[2] = { "archive/data.pkl", "archive/data/0" };
  g_autoptr (GBytes) pkl = g_bytes_new (pickle, pickle_len);
  g_autoptr (GBytes) storage = g_bytes_new ("\0\0\0\0\0\0\0\0", 8);
  GBytes *contents[2] = { pkl, storage };
  g_autoptr (GBytes) zip = make_zip (names, contents, 2);
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "hand.pth", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = NULL;

  test_write_bytes (path, zip);
  st = safetensors_open (path, &error);
  if (code < 0)
    {
      g_assert_no_error (error);
      g_assert_nonnull (safetensors_lookup (st, "w"));
    }
  else
    {
      g_assert_null (st);
      g_assert_error (error, TAKES_ENGINE_ERROR, code);
      if (fragment != NULL && strstr (error->message, fragment) == NULL)
        g_error ("“%s” is not in “%s”", fragment, error->message);
    }
  test_rm_rf (dir);
}

/* {"w": _rebuild_tensor_v2(storage("0", FloatStorage, 2), 0, (2,), (1,), False, OrderedDict())} */
#define PICKLE_HEAD "\x80\x02}q\x00X\x01\x00\x00\x00wq\x01"
#define PICKLE_REBUILD "ctorch._utils\n_rebuild_tensor_v2\nq\x02("
#define PICKLE_STORAGE                                                                                       \
  "(X\x07\x00\x00\x00storageq\x03"                                                                           \
  "ctorch\nFloatStorage\nq\x04X\x01\x00\x00\x00"                                                             \
  "0X\x03\x00\x00\x00"                                                                                       \
  "cpuK\x02tQ"
#define PICKLE_TAIL                                                                                          \
  "K\x00K\x02\x85K\x01\x85\x89"                                                                              \
  "ccollections\nOrderedDict\n)RtRs."

static void
test_pth_restricted_unpickler (void)
{
  const char good[] = PICKLE_HEAD PICKLE_REBUILD PICKLE_STORAGE PICKLE_TAIL;
  const char evil[] = "\x80\x02"
                      "cos\nsystem\nX\x02\x00\x00\x00ls\x85R.";
  const char evil_stack[] = "\x80\x02X\x02\x00\x00\x00osX\x06\x00\x00\x00system\x93.";
  const char no_stop[] = PICKLE_HEAD PICKLE_REBUILD PICKLE_STORAGE;
  const char bad_memo[] = "\x80\x02h\x05.";
  const char unknown_op[] = "\x80\x02\xff.";
  const char not_dict[] = "\x80\x02K\x01.";
  const char too_big[] = PICKLE_HEAD PICKLE_REBUILD "(X\x07\x00\x00\x00storageq\x03"
                                                    "ctorch\nFloatStorage\nq\x04X\x01\x00\x00\x00"
                                                    "0X\x03\x00\x00\x00"
                                                    "cpuK\x09tQ" PICKLE_TAIL;
  const char past_storage[] = PICKLE_HEAD PICKLE_REBUILD PICKLE_STORAGE "K\x01K\x02\x85K\x01\x85\x89"
                                                                        "ccollections\nOrderedDict\n)RtRs.";

  expect_pickle_error (good, sizeof good - 1, -1, NULL);
  expect_pickle_error (evil, sizeof evil - 1, TAKES_ENGINE_ERROR_UNSUPPORTED, "os.system");
  expect_pickle_error (evil_stack, sizeof evil_stack - 1, TAKES_ENGINE_ERROR_UNSUPPORTED, "os.system");
  expect_pickle_error (no_stop, sizeof no_stop - 1, TAKES_ENGINE_ERROR_CORRUPT, "ends early");
  expect_pickle_error (bad_memo, sizeof bad_memo - 1, TAKES_ENGINE_ERROR_CORRUPT, NULL);
  expect_pickle_error (unknown_op, sizeof unknown_op - 1, TAKES_ENGINE_ERROR_UNSUPPORTED, "opcode");
  expect_pickle_error (not_dict, sizeof not_dict - 1, TAKES_ENGINE_ERROR_UNSUPPORTED, "state dict");
  expect_pickle_error (too_big, sizeof too_big - 1, TAKES_ENGINE_ERROR_CORRUPT, "shorter");
  expect_pickle_error (past_storage, sizeof past_storage - 1, TAKES_ENGINE_ERROR_CORRUPT, "past the end");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/safetensors/golden/all-open", test_golden_all_open);
  g_test_add_func ("/safetensors/golden/case-metadata-and-ints", test_golden_case_metadata);
  g_test_add_func ("/safetensors/roundtrip/written-file", test_roundtrip_written_file);
  g_test_add_func ("/safetensors/malformed/too-short", test_malformed_too_short);
  g_test_add_func ("/safetensors/malformed/header-length-past-eof", test_malformed_header_length);
  g_test_add_func ("/safetensors/malformed/truncated-data", test_malformed_truncated_data);
  g_test_add_func ("/safetensors/malformed/every-prefix-and-byte", test_malformed_every_prefix);
  g_test_add_func ("/safetensors/malformed/overlapping-offsets", test_malformed_overlap);
  g_test_add_func ("/safetensors/malformed/unknown-dtype", test_malformed_unknown_dtype);
  g_test_add_func ("/safetensors/malformed/shape-byte-mismatch", test_malformed_shape_mismatch);
  g_test_add_func ("/safetensors/malformed/absurd-shapes", test_malformed_absurd_shapes);
  g_test_add_func ("/safetensors/malformed/offsets", test_malformed_offsets);
  g_test_add_func ("/safetensors/malformed/names", test_malformed_names);
  g_test_add_func ("/safetensors/malformed/structure", test_malformed_structure);
  g_test_add_func ("/safetensors/header/unknown-keys-skipped", test_unknown_keys_skipped);
  g_test_add_func ("/safetensors/names/comfy-prefix-stripped", test_prefix_stripped);
  g_test_add_func ("/safetensors/fp8/scale-weight-legacy", test_fp8_scale_weight_legacy);
  g_test_add_func ("/safetensors/fp8/weight-scale-comfy-quant", test_fp8_weight_scale_comfy_quant);
  g_test_add_func ("/safetensors/fp8/quantization-metadata", test_fp8_quantization_metadata);
  g_test_add_func ("/safetensors/fp8/bad-scale-shape", test_fp8_bad_scale);
  g_test_add_func ("/safetensors/fp8/bad-comfy-quant", test_fp8_bad_comfy_quant);
  g_test_add_func ("/safetensors/fp8/per-row-scale", test_per_row_scale);
  g_test_add_func ("/safetensors/shards/open", test_shards_open);
  g_test_add_func ("/safetensors/shards/errors", test_shards_errors);
  g_test_add_func ("/safetensors/open/missing-and-folder", test_open_missing_and_folder);
  g_test_add_func ("/safetensors/pth/state-dict", test_pth_state_dict);
  g_test_add_func ("/safetensors/pth/views-and-wrappers", test_pth_views_and_wrappers);
  g_test_add_func ("/safetensors/pth/refused-with-command", test_pth_refused_with_command);
  g_test_add_func ("/safetensors/pth/truncated", test_pth_truncated);
  g_test_add_func ("/safetensors/pth/restricted-unpickler", test_pth_restricted_unpickler);
  return g_test_run ();
}
