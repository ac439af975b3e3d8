/* Tests of weight files and model sets: configurations inferred from the
 * golden files, both key layouts, dtype conversions, checks that name the
 * file and tensor, and folder scans. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <stdlib.h>

#include "engine-test-util.h"
#include "takes-engine.h"
#include "wan-weights.h"

static JsonObject *
manifest_weights (JsonParser *parser)
{
  g_autofree char *path = test_golden_path ("manifest.json");
  g_autoptr (GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_object_get_object_member (json_node_get_object (json_parser_get_root (parser)), "weight_files");
}

static WanWeights *
open_golden (const char *name)
{
  g_autofree char *path = test_golden_path (name);
  g_autoptr (GError) error = NULL;
  WanWeights *w = wan_weights_open (path, NULL, &error);

  g_assert_no_error (error);
  return w;
}

static int
config_int (JsonObject *config, const char *name)
{
  return (int)json_object_get_int_member (config, name);
}

static void
test_golden_configs (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *weights = manifest_weights (parser);
  g_autoptr (GList) names = json_object_get_members (weights);

  for (GList *l = names; l != NULL; l = l->next)
    {
      JsonObject *info = json_object_get_object_member (weights, l->data);
      JsonObject *c = json_object_get_object_member (info, "config");
      g_autoptr (WanWeights) w = open_golden (l->data);

      g_assert_cmpuint (wan_weights_get_n_params (w), ==, json_object_get_int_member (info, "params"));
      g_assert_cmpstr (wan_weights_get_dtype_summary (w), ==,
                       json_array_get_string_element (json_object_get_array_member (info, "dtypes"), 0));
      if (g_str_has_prefix (l->data, "dit"))
        {
          const WanDitConfig *d = wan_weights_get_dit_config (w);

          g_assert_cmpint (wan_weights_get_kind (w), ==, WAN_WEIGHTS_DIT);
          g_assert_cmpint (d->dim, ==, config_int (c, "dim"));
          g_assert_cmpint (d->num_heads, ==, config_int (c, "num_heads"));
          g_assert_cmpint (d->ffn_dim, ==, config_int (c, "ffn_dim"));
          g_assert_cmpint (d->num_layers, ==, config_int (c, "num_layers"));
          g_assert_cmpint (d->in_dim, ==, config_int (c, "in_dim"));
          g_assert_cmpint (d->out_dim, ==, config_int (c, "out_dim"));
          g_assert_cmpint (d->text_dim, ==, config_int (c, "text_dim"));
          g_assert_cmpint (d->text_len, ==, config_int (c, "text_len"));
          g_assert_cmpint (d->freq_dim, ==, 256);
          g_assert_cmpint (d->patch_size[0], ==, 1);
          g_assert_cmpint (d->patch_size[1], ==, 2);
          g_assert_cmpint (d->patch_size[2], ==, 2);
          g_assert_cmpint (wan_weights_get_arch (w), ==, WAN_ARCH_TINY);
          g_assert_null (wan_weights_get_t5_config (w));
        }
      else if (g_str_has_prefix (l->data, "t5"))
        {
          const Umt5Config *t = wan_weights_get_t5_config (w);

          g_assert_cmpint (wan_weights_get_kind (w), ==, WAN_WEIGHTS_T5);
          g_assert_cmpint (t->vocab, ==, config_int (c, "vocab"));
          g_assert_cmpint (t->dim, ==, config_int (c, "dim"));
          g_assert_cmpint (t->dim_attn, ==, config_int (c, "dim_attn"));
          g_assert_cmpint (t->dim_ffn, ==, config_int (c, "dim_ffn"));
          g_assert_cmpint (t->num_heads, ==, config_int (c, "num_heads"));
          g_assert_cmpint (t->num_layers, ==, config_int (c, "num_layers"));
          g_assert_cmpint (t->num_buckets, ==, config_int (c, "num_buckets"));
          g_assert_cmpint (t->shared_pos, ==, json_object_get_boolean_member (c, "shared_pos"));
        }
      else
        {
          const WanVaeConfig *v = wan_weights_get_vae_config (w);
          JsonArray *mult = json_object_get_array_member (c, "dim_mult");
          g_autoptr (GPtrArray) specs = wan_vae_expected_tensors (v);

          g_assert_cmpint (wan_weights_get_kind (w), ==, WAN_WEIGHTS_VAE);
          g_assert_cmpint (v->version, ==, g_str_has_prefix (l->data, "vae22") ? 22 : 21);
          g_assert_cmpint (v->dim, ==, config_int (c, "dim"));
          g_assert_cmpint (v->dec_dim, ==,
                           json_object_has_member (c, "dec_dim") ? config_int (c, "dec_dim")
                                                                 : config_int (c, "dim"));
          g_assert_cmpint (v->z_dim, ==, config_int (c, "z_dim"));
          g_assert_cmpint (v->num_res_blocks, ==, config_int (c, "num_res_blocks"));
          for (guint i = 0; i < 4; i++)
            g_assert_cmpint (v->dim_mult[i], ==, json_array_get_int_element (mult, i));
          g_assert_true (v->has_encoder);
          /* The expected list is the whole file: nothing missing, nothing extra. */
          g_assert_cmpuint (specs->len, ==, json_object_get_int_member (info, "tensors"));
        }
    }
}

static void
assert_same_layout (WanWeights *a, WanWeights *b)
{
  const Safetensors *sb = wan_weights_get_safetensors (b);

  for (guint i = 0; i < safetensors_get_n_tensors (sb); i++)
    {
      const SafetensorsTensor *tb = safetensors_get_tensor (sb, i);
      const SafetensorsTensor *ta = wan_weights_lookup (a, tb->name);

      g_assert_nonnull (ta);
      g_assert_cmpuint (ta->n_dims, ==, tb->n_dims);
      g_assert_cmpmem (ta->shape, ta->n_dims * sizeof (gint64), tb->shape, tb->n_dims * sizeof (gint64));
    }
}

/* Every value of @low converted to F32 is @ref rounded to a format with
 * @mantissa_bits bits after the point. */
static void
assert_rounded (WanWeights *low, WanWeights *ref, int mantissa_bits)
{
  const Safetensors *sr = wan_weights_get_safetensors (ref);
  double half_ulp = ldexp (1.0, -mantissa_bits - 1);
  guint64 n_checked = 0;

  for (guint i = 0; i < safetensors_get_n_tensors (sr); i++)
    {
      const SafetensorsTensor *tr = safetensors_get_tensor (sr, i);
      const SafetensorsTensor *tl = wan_weights_lookup (low, tr->name);
      g_autofree float *a = g_new (float, tr->n_elements);
      g_autofree float *b = g_new (float, tr->n_elements);
      g_autoptr (GError) error = NULL;

      g_assert_true (safetensors_tensor_read_f32 (tr, a, tr->n_elements, &error));
      g_assert_true (safetensors_tensor_read_f32 (tl, b, tl->n_elements, &error));
      g_assert_no_error (error);
      for (gint64 k = 0; k < tr->n_elements; k++)
        {
          double x = a[k], y = b[k];
          double tol = fabs (x) * half_ulp * 1.0000001 + ldexp (1.0, -24);

          if (fabs (x - y) > tol)
            g_error ("%s[%" G_GINT64_FORMAT "]: %g vs %g", tr->name, k, x, y);
          n_checked++;
        }
    }
  g_assert_cmpuint (n_checked, ==, wan_weights_get_n_params (ref));
}

static void
test_dit_layouts_same_tensors (void)
{
  g_autoptr (WanWeights) f32 = open_golden ("dit16_f32.safetensors");
  g_autoptr (WanWeights) comfy = open_golden ("dit16_comfy_f16.safetensors");
  g_autoptr (WanWeights) bf16 = open_golden ("dit16_bf16.safetensors");

  g_assert_true (wan_weights_get_renamed (comfy));
  g_assert_false (wan_weights_get_renamed (f32));
  g_assert_cmpmem (wan_weights_get_dit_config (comfy), sizeof (WanDitConfig),
                   wan_weights_get_dit_config (f32), sizeof (WanDitConfig));
  assert_same_layout (comfy, f32);
  assert_same_layout (bf16, f32);
  assert_rounded (comfy, f32, 10);
  assert_rounded (bf16, f32, 7);
}

static void
test_t5_names_same_tensors (void)
{
  g_autoptr (WanWeights) f32 = open_golden ("t5_f32.safetensors");
  g_autoptr (WanWeights) hf = open_golden ("t5_hf_f16.safetensors");

  g_assert_true (wan_weights_get_renamed (hf));
  g_assert_cmpmem (wan_weights_get_t5_config (hf), sizeof (Umt5Config), wan_weights_get_t5_config (f32),
                   sizeof (Umt5Config));
  assert_same_layout (hf, f32);
  assert_rounded (hf, f32, 10);
  g_assert_null (wan_weights_lookup (hf, "shared.weight"));
  g_assert_nonnull (wan_weights_lookupf (hf, "blocks.%d.ffn.gate.0.weight", 1));
}

static void
test_t5_name_table (void)
{
  const char *pairs[][2] = {
    { "shared.weight", "token_embedding.weight" },
    { "encoder.final_layer_norm.weight", "norm.weight" },
    { "encoder.block.23.layer.0.layer_norm.weight", "blocks.23.norm1.weight" },
    { "encoder.block.0.layer.0.SelfAttention.o.weight", "blocks.0.attn.o.weight" },
    { "encoder.block.7.layer.0.SelfAttention.relative_attention_bias.weight",
      "blocks.7.pos_embedding.embedding.weight" },
    { "encoder.block.3.layer.1.layer_norm.weight", "blocks.3.norm2.weight" },
    { "encoder.block.3.layer.1.DenseReluDense.wi_0.weight", "blocks.3.ffn.gate.0.weight" },
    { "encoder.block.3.layer.1.DenseReluDense.wi_1.weight", "blocks.3.ffn.fc1.weight" },
    { "encoder.block.3.layer.1.DenseReluDense.wo.weight", "blocks.3.ffn.fc2.weight" },
  };
  const char *unmapped[] = { "spiece_model", "encoder.block.x.layer.0.layer_norm.weight", "encoder.block.1",
                             "decoder.block.0.layer.0.layer_norm.weight",
                             "encoder.block.0.layer.0.SelfAttention.q.scale_weight" };

  for (guint i = 0; i < G_N_ELEMENTS (pairs); i++)
    {
      g_autofree char *official = umt5_official_name (pairs[i][0]);
      g_assert_cmpstr (official, ==, pairs[i][1]);
    }
  for (guint i = 0; i < G_N_ELEMENTS (unmapped); i++)
    {
      g_autofree char *official = umt5_official_name (unmapped[i]);
      g_assert_null (official);
    }
}

static void
test_real_sizes (void)
{
  const WanDitConfig sizes[] = {
    { 1536, 8960, 12, 30, 16, 16, 4096, 512, 256, { 1, 2, 2 }, 1e-6 },
    { 3072, 14336, 24, 30, 48, 48, 4096, 512, 256, { 1, 2, 2 }, 1e-6 },
    { 5120, 13824, 40, 40, 16, 16, 4096, 512, 256, { 1, 2, 2 }, 1e-6 },
  };
  /* Parameter counts derived in the engine spec, §1. */
  const guint64 params[] = { 1418996800u, 4999787712u, 14288491584u };
  const WanArch arch[] = { WAN_ARCH_WAN21_T2V_1_3B, WAN_ARCH_WAN22_TI2V_5B, WAN_ARCH_WAN21_T2V_14B };
  const Umt5Config t5 = { 256384, 4096, 4096, 10240, 64, 24, 32, FALSE };
  const WanVaeConfig vae21 = { 21, 96, 96, 16, { 1, 2, 4, 4 }, 2, TRUE };
  g_autoptr (GPtrArray) t5_specs = umt5_expected_tensors (&t5);
  g_autoptr (GPtrArray) vae_specs = wan_vae_expected_tensors (&vae21);
  guint64 n;

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++)
    {
      g_autoptr (GPtrArray) specs = wan_dit_expected_tensors (&sizes[i]);

      n = 0;
      for (guint k = 0; k < specs->len; k++)
        {
          const WanTensorSpec *s = g_ptr_array_index (specs, k);
          guint64 e = 1;
          for (guint d = 0; d < s->n_dims; d++)
            e *= (guint64)s->shape[d];
          n += e;
        }
      g_assert_cmpuint (n, ==, params[i]);
      g_assert_cmpint (wan_dit_config_get_arch (&sizes[i]), ==, arch[i]);
    }
  n = 0;
  for (guint k = 0; k < t5_specs->len; k++)
    {
      const WanTensorSpec *s = g_ptr_array_index (t5_specs, k);
      n += (guint64)s->shape[0] * (s->n_dims > 1 ? (guint64)s->shape[1] : 1);
    }
  /* 5.681 B in the spec, §3. */
  g_assert_cmpuint (n / 1000000, ==, 5680);
  n = 0;
  for (guint k = 0; k < vae_specs->len; k++)
    {
      const WanTensorSpec *s = g_ptr_array_index (vae_specs, k);
      guint64 e = 1;
      for (guint d = 0; d < s->n_dims; d++)
        e *= (guint64)s->shape[d];
      n += e;
    }
  /* 126.9 M in the spec, §4.1. */
  g_assert_cmpuint (n / 100000, ==, 1268);
}

/* A copy of a golden file with one change, written to @dir. */
static char *
write_variant (const char *dir,
               const char *golden,
               const char *out_name,
               void (*edit) (GPtrArray *list, gpointer data),
               gpointer data)
{
  g_autofree char *path = test_golden_path (golden);
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = safetensors_open (path, &error);
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GBytes) bytes = NULL;
  char *out = g_build_filename (dir, out_name, NULL);

  g_assert_no_error (error);
  list = test_tensors_from (st);
  edit (list, data);
  bytes = test_safetensors_build (list, NULL);
  test_write_bytes (out, bytes);
  return out;
}

static void
edit_remove (GPtrArray *list, gpointer name)
{
  test_tensor_remove (list, name);
}

static void
edit_reshape (GPtrArray *list, gpointer name)
{
  TestTensor *t = test_tensor_get (list, name);

  g_assert_cmpuint (t->n_dims, ==, 2);
  t->shape[0] /= 2;
  t->shape[1] *= 2;
}

static void
edit_retype (GPtrArray *list, gpointer name)
{
  TestTensor *t = test_tensor_get (list, name);

  g_free (t->dtype);
  t->dtype = g_strdup ("I32");
}

static void
expect_open_error (const char *path, const char *config, int code, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) w = wan_weights_open (path, config, &error);

  g_assert_null (w);
  g_assert_error (error, TAKES_ENGINE_ERROR, code);
  if (!strstr (error->message, path) && (config == NULL || !strstr (error->message, config)))
    g_error ("the file is not named in “%s”", error->message);
  if (fragment != NULL && strstr (error->message, fragment) == NULL)
    g_error ("“%s” is not in “%s”", fragment, error->message);
}

static void
test_errors_name_file_and_tensor (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *missing = write_variant (dir, "dit16_f32.safetensors", "missing.safetensors", edit_remove,
                                            "blocks.1.cross_attn.norm_k.weight");
  g_autofree char *shape = write_variant (dir, "dit16_f32.safetensors", "shape.safetensors", edit_reshape,
                                          "blocks.1.ffn.2.weight");
  g_autofree char *dtype = write_variant (dir, "dit16_f32.safetensors", "dtype.safetensors", edit_retype,
                                          "blocks.0.self_attn.q.bias");
  g_autofree char *t5 = write_variant (dir, "t5_hf_f16.safetensors", "t5.safetensors", edit_remove,
                                       "encoder.block.1.layer.1.DenseReluDense.wo.weight");
  g_autofree char *vae = write_variant (dir, "vae22_f32.safetensors", "vae.safetensors", edit_remove,
                                        "decoder.upsamples.2.upsamples.0.shortcut.bias");
  g_autofree char *key
      = write_variant (dir, "dit16_f32.safetensors", "key.safetensors", edit_remove, "blocks.0.ffn.0.weight");
  g_autofree char *case_file = test_golden_path ("sched_case.safetensors");

  expect_open_error (missing, NULL, TAKES_ENGINE_ERROR_MISSING_TENSOR, "blocks.1.cross_attn.norm_k.weight");
  expect_open_error (shape, NULL, TAKES_ENGINE_ERROR_SHAPE, "blocks.1.ffn.2.weight");
  expect_open_error (shape, NULL, TAKES_ENGINE_ERROR_SHAPE, "[256, 320]");
  expect_open_error (dtype, NULL, TAKES_ENGINE_ERROR_UNSUPPORTED, "blocks.0.self_attn.q.bias");
  expect_open_error (t5, NULL, TAKES_ENGINE_ERROR_MISSING_TENSOR, "blocks.1.ffn.fc2.weight");
  expect_open_error (vae, NULL, TAKES_ENGINE_ERROR_MISSING_TENSOR,
                     "decoder.upsamples.2.upsamples.0.shortcut.bias");
  expect_open_error (key, NULL, TAKES_ENGINE_ERROR_MISSING_TENSOR, "blocks.0.ffn.0.weight");
  expect_open_error (case_file, NULL, TAKES_ENGINE_ERROR_NOT_A_MODEL, NULL);
  test_rm_rf (dir);
}

static char *
write_config (const char *dir, const char *text)
{
  char *path = g_build_filename (dir, "config.json", NULL);

  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  return path;
}

static void
test_config_json (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *dit = test_golden_path ("dit16_f32.safetensors");
  g_autoptr (GError) error = NULL;

  {
    g_autofree char *config = write_config (
        dir,
        "{\"_class_name\": \"WanModel\", \"dim\": 256, \"eps\": 1e-05, \"ffn_dim\": 320, \"freq_dim\": 256, "
        "\"in_dim\": 16, \"model_type\": \"t2v\", \"num_heads\": 4, \"num_layers\": 2, \"out_dim\": 16, "
        "\"text_len\": 512}");
    g_autoptr (WanWeights) w = wan_weights_open (dit, config, &error);

    g_assert_no_error (error);
    g_assert_cmpint (wan_weights_get_dit_config (w)->num_heads, ==, 4);
    g_assert_cmpfloat (wan_weights_get_dit_config (w)->eps, ==, 1e-5);
  }
  {
    g_autofree char *config = write_config (dir, "{\"dim\": 1536, \"model_type\": \"t2v\"}");
    expect_open_error (dit, config, TAKES_ENGINE_ERROR_MISMATCH, "dim");
  }
  {
    g_autofree char *config = write_config (dir, "{\"dim\": 256, \"model_type\": \"i2v\"}");
    expect_open_error (dit, config, TAKES_ENGINE_ERROR_UNSUPPORTED, "i2v");
  }
  {
    g_autofree char *config = write_config (dir, "{\"dim\": 256, \"num_heads\": 3}");
    expect_open_error (dit, config, TAKES_ENGINE_ERROR_SHAPE, "3 heads");
  }
  {
    g_autofree char *config = write_config (dir, "{\"dim\": \"wide\"}");
    expect_open_error (dit, config, TAKES_ENGINE_ERROR_CORRUPT, "dim");
  }
  {
    g_autofree char *config = write_config (dir, "{\"dim\": 256,");
    expect_open_error (dit, config, TAKES_ENGINE_ERROR_CORRUPT, "JSON");
  }
  test_rm_rf (dir);
}

/* fp8 scaled versions of the tiny DiT, both ComfyUI forms. */
typedef struct
{
  gboolean legacy;
} Fp8Options;

/* Nearest e4m3 value by search over a sorted table of all finite codes, kept
 * apart from the reader's own decoding. */
typedef struct
{
  float value;
  guint8 code;
} E4m3Code;

static int
compare_e4m3 (const void *a, const void *b)
{
  float x = ((const E4m3Code *)a)->value, y = ((const E4m3Code *)b)->value;

  return x < y ? -1 : x > y;
}

static guint8
e4m3_nearest (float f)
{
  static E4m3Code table[254];
  static gsize n = 0;
  gsize lo = 0, hi;

  if (n == 0)
    {
      for (int b = 0; b < 256; b++)
        {
          int e = (b >> 3) & 0xF, m = b & 7;
          float v;

          if (e == 15 && m == 7)
            continue;
          v = e == 0 ? ldexpf ((float)m, -9) : ldexpf ((float)(8 + m), e - 10);
          table[n].value = (b & 0x80) ? -v : v;
          table[n].code = (guint8)b;
          n++;
        }
      qsort (table, n, sizeof (E4m3Code), compare_e4m3);
    }
  hi = n - 1;
  while (hi - lo > 1)
    {
      gsize mid = (lo + hi) / 2;

      if (table[mid].value <= f)
        lo = mid;
      else
        hi = mid;
    }
  return fabsf (table[lo].value - f) <= fabsf (table[hi].value - f) ? table[lo].code : table[hi].code;
}

static void
edit_fp8 (GPtrArray *list, gpointer data)
{
  const Fp8Options *options = data;
  guint n = list->len;

  for (guint i = 0; i < n; i++)
    {
      TestTensor *t = g_ptr_array_index (list, i);
      gsize count = g_bytes_get_size (t->data) / 4;
      const float *v = g_bytes_get_data (t->data, NULL);
      g_autofree guint8 *q = NULL;
      g_autofree char *layer = NULL;
      g_autofree char *scale_name = NULL;
      float max = 0, scale;
      const gint64 one[1] = { 1 };

      if (t->n_dims != 2 || !g_str_has_suffix (t->name, ".weight") || !g_str_has_prefix (t->name, "blocks."))
        continue;
      for (gsize k = 0; k < count; k++)
        max = MAX (max, fabsf (v[k]));
      scale = max / 448.0f;
      q = g_new (guint8, count);
      for (gsize k = 0; k < count; k++)
        q[k] = e4m3_nearest (v[k] / scale);
      layer = g_strndup (t->name, strlen (t->name) - strlen (".weight"));
      scale_name = g_strconcat (layer, options->legacy ? ".scale_weight" : ".weight_scale", NULL);
      test_tensor_add (list, scale_name, "F32", 1, one, &scale, 4);
      if (!options->legacy)
        {
          const char *json = "{\"format\":\"float8_e4m3fn\"}";
          const gint64 len[1] = { (gint64)strlen (json) };
          g_autofree char *quant = g_strconcat (layer, ".comfy_quant", NULL);
          test_tensor_add (list, quant, "U8", 1, len, json, strlen (json));
        }
      g_bytes_unref (t->data);
      t->data = g_bytes_new (q, count);
      g_free (t->dtype);
      t->dtype = g_strdup ("F8_E4M3");
    }
  if (options->legacy)
    test_tensor_add (list, "scaled_fp8", "F8_E4M3", 1, (const gint64[1]){ 0 }, "", 0);
}

static void
test_fp8_scaled_dit (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autoptr (WanWeights) ref = open_golden ("dit16_f32.safetensors");

  for (int legacy = 0; legacy < 2; legacy++)
    {
      Fp8Options options = { legacy };
      g_autofree char *path
          = write_variant (dir, "dit16_f32.safetensors", "fp8.safetensors", edit_fp8, &options);
      g_autoptr (GError) error = NULL;
      g_autoptr (WanWeights) w = wan_weights_open (path, NULL, &error);
      const SafetensorsTensor *q, *r;
      g_autofree float *a = NULL, *b = NULL;
      float scale = 0;

      g_assert_no_error (error);
      g_assert_cmpstr (wan_weights_get_dtype_summary (w), ==, "F8_E4M3 (scaled) + F32");
      g_assert_cmpuint (wan_weights_get_n_params (w), ==, wan_weights_get_n_params (ref));
      q = wan_weights_lookup (w, "blocks.1.ffn.2.weight");
      r = wan_weights_lookup (ref, "blocks.1.ffn.2.weight");
      g_assert_nonnull (q->scale);
      a = g_new (float, r->n_elements);
      b = g_new (float, r->n_elements);
      g_assert_true (safetensors_tensor_read_f32 (r, a, r->n_elements, &error));
      g_assert_true (safetensors_tensor_read_f32 (q, b, q->n_elements, &error));
      g_assert_true (safetensors_tensor_read_f32 (q->scale, &scale, 1, &error));
      /* e4m3 keeps 3 mantissa bits; below 2^-6 its steps are 2^-9 wide. */
      for (gint64 k = 0; k < r->n_elements; k++)
        g_assert_cmpfloat (fabsf (a[k] - b[k]), <=,
                           fabsf (a[k]) / 16.0f + scale * ldexpf (1.0f, -10) * 1.001f);
    }
  test_rm_rf (dir);
}

static void
test_pth_text_encoder (void)
{
  g_autofree char *pth = test_data_path ("torch", "t5_bf16.pth");
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) w = wan_weights_open (pth, NULL, &error);
  g_autoptr (WanWeights) ref = open_golden ("t5_f32.safetensors");

  g_assert_no_error (error);
  g_assert_cmpint (wan_weights_get_kind (w), ==, WAN_WEIGHTS_T5);
  g_assert_cmpstr (wan_weights_get_dtype_summary (w), ==, "BF16");
  g_assert_cmpmem (wan_weights_get_t5_config (w), sizeof (Umt5Config), wan_weights_get_t5_config (ref),
                   sizeof (Umt5Config));
  assert_rounded (w, ref, 7);
}

/* Model sets */

static void
assert_problem (WanModelSet *set, const char *fragment)
{
  const char *const *problems = wan_model_set_get_problems (set);

  for (guint i = 0; problems[i] != NULL; i++)
    if (strstr (problems[i], fragment) != NULL)
      return;
  g_error ("no problem mentions “%s”", fragment);
}

static void
link_golden (const char *dir, const char *rel, const char *golden)
{
  g_autofree char *target = test_golden_path (golden);
  test_link (dir, rel, target);
}

static void
link_data (const char *dir, const char *rel, const char *sub, const char *name)
{
  g_autofree char *target = test_data_path (sub, name);
  test_link (dir, rel, target);
}

static void
test_set_golden_folder (void)
{
  g_autofree char *dir = test_golden_path ("");
  g_autoptr (GError) error = NULL;
  g_autoptr (WanModelSet) set = wan_model_set_scan (dir, &error);
  const WanModelFile *files;
  guint n = 0, n_weights = 0;

  g_assert_no_error (error);
  g_assert_false (wan_model_set_is_complete (set));
  assert_problem (set, "Several diffusion models");
  assert_problem (set, "Several umT5 text encoders");
  assert_problem (set, "Several VAEs");
  assert_problem (set, "google/umt5-xxl");
  files = wan_model_set_get_files (set, &n);
  g_assert_cmpuint (n, ==, 17);
  for (guint i = 0; i < n; i++)
    {
      g_assert_false (files[i].is_problem);
      g_assert_cmpint (files[i].role, ==, WAN_FILE_ROLE_NONE);
      if (files[i].weights != NULL)
        n_weights++;
      else
        g_assert_cmpstr (files[i].note, ==, "not a Wan model file");
    }
  g_assert_cmpuint (n_weights, ==, 9);
  g_assert_false (wan_model_set_check (set, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INCOMPLETE);
}

static void
test_set_tiny_comfy_layout (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (WanModelSet) set = NULL;
  gint32 ids[UMT5_TEXT_LEN], mask[UMT5_TEXT_LEN];
  guint n_valid = 0;

  link_golden (dir, "diffusion_models/dit16_comfy_f16.safetensors", "dit16_comfy_f16.safetensors");
  link_golden (dir, "text_encoders/t5_hf_f16.safetensors", "t5_hf_f16.safetensors");
  link_golden (dir, "vae/vae21_f32.safetensors", "vae21_f32.safetensors");
  link_data (dir, "google/umt5-xxl/tokenizer.json", "tokenizer", "tokenizer.json");
  set = wan_model_set_load (dir, &error);
  g_assert_no_error (error);
  g_assert_true (wan_model_set_is_complete (set));
  g_assert_null (wan_model_set_get_problems (set)[0]);
  g_assert_cmpint (wan_model_set_get_arch (set), ==, WAN_ARCH_TINY);
  g_assert_nonnull (wan_model_set_get_dit (set, WAN_EXPERT_SINGLE));
  g_assert_null (wan_model_set_get_dit (set, WAN_EXPERT_HIGH_NOISE));
  g_assert_nonnull (wan_model_set_get_t5 (set));
  g_assert_nonnull (wan_model_set_get_vae (set));
  g_assert_cmpuint (wan_model_set_get_n_params (set), ==, 2030016 + 143808 + 243583);
  g_assert_true (
      g_str_has_suffix (wan_model_set_get_tokenizer_source (set), "google/umt5-xxl/tokenizer.json"));
  g_assert_true (umt5_tokenizer_encode (wan_model_set_get_tokenizer (set), "a cat", UMT5_TEXT_LEN, ids, mask,
                                        &n_valid, &error));
  g_assert_cmpuint (n_valid, ==, 4);
  test_rm_rf (dir);
}

static void
test_set_a14b_official_layout (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (WanModelSet) set = NULL;
  const char *config = "{\"_class_name\": \"WanModel\", \"dim\": 256, \"ffn_dim\": 320, \"in_dim\": 16, "
                       "\"model_type\": \"t2v\", \"num_heads\": 2, \"num_layers\": 2, \"out_dim\": 16}";
  const WanModelFile *files;
  guint n = 0;

  link_golden (dir, "high_noise_model/diffusion_pytorch_model.safetensors", "dit16_f32.safetensors");
  link_golden (dir, "low_noise_model/diffusion_pytorch_model.safetensors", "dit16_low_bf16.safetensors");
  for (int i = 0; i < 2; i++)
    {
      g_autofree char *path
          = g_build_filename (dir, i ? "low_noise_model" : "high_noise_model", "config.json", NULL);
      g_assert_true (g_file_set_contents (path, config, -1, NULL));
    }
  link_data (dir, "models_t5_umt5-xxl-enc-bf16.pth", "torch", "t5_bf16.pth");
  link_golden (dir, "Wan2.1_VAE.safetensors", "vae21_f32.safetensors");
  link_data (dir, "google/umt5-xxl/spiece.model", "tokenizer", "spiece.model");
  set = wan_model_set_load (dir, &error);
  g_assert_no_error (error);
  g_assert_null (wan_model_set_get_dit (set, WAN_EXPERT_SINGLE));
  g_assert_nonnull (wan_model_set_get_dit (set, WAN_EXPERT_HIGH_NOISE));
  g_assert_nonnull (wan_model_set_get_dit (set, WAN_EXPERT_LOW_NOISE));
  g_assert_cmpstr (wan_weights_get_dtype_summary (wan_model_set_get_dit (set, WAN_EXPERT_LOW_NOISE)), ==,
                   "BF16");
  g_assert_cmpint (wan_model_set_get_arch (set), ==, WAN_ARCH_TINY);
  g_assert_cmpuint (wan_model_set_get_n_params (set), ==, 2 * 2030016 + 143808 + 243583);
  files = wan_model_set_get_files (set, &n);
  g_assert_cmpuint (n, ==, 5);
  g_assert_cmpint (files[0].role, ==, WAN_FILE_ROLE_VAE);
  g_assert_cmpint (files[1].role, ==, WAN_FILE_ROLE_TOKENIZER);
  g_assert_cmpint (files[2].role, ==, WAN_FILE_ROLE_DIT_HIGH_NOISE);
  g_assert_cmpint (files[3].role, ==, WAN_FILE_ROLE_DIT_LOW_NOISE);
  g_assert_cmpint (files[4].role, ==, WAN_FILE_ROLE_T5);
  test_rm_rf (dir);
}

static void
test_set_sharded_listed_once (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *golden = test_golden_path ("dit16_f32.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = safetensors_open (golden, &error);
  g_autoptr (GPtrArray) all = test_tensors_from (st);
  g_autoptr (GPtrArray) one = test_tensor_list_new ();
  g_autoptr (GPtrArray) two = test_tensor_list_new ();
  g_autoptr (GString) index = g_string_new ("{\"weight_map\":{");
  g_autoptr (WanModelSet) set = NULL;
  const WanModelFile *files;
  guint n = 0;

  for (guint i = 0; i < all->len; i++)
    {
      TestTensor *t = g_ptr_array_index (all, i);
      test_tensor_add (i < 30 ? one : two, t->name, t->dtype, t->n_dims, t->shape,
                       g_bytes_get_data (t->data, NULL), g_bytes_get_size (t->data));
      g_string_append_printf (index, "%s\"%s\":\"diffusion_pytorch_model-0000%d-of-00002.safetensors\"",
                              i ? "," : "", t->name, i < 30 ? 1 : 2);
    }
  g_string_append (index, "}}");
  for (int k = 1; k <= 2; k++)
    {
      g_autofree char *name = g_strdup_printf ("diffusion_pytorch_model-0000%d-of-00002.safetensors", k);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (GBytes) bytes = test_safetensors_build (k == 1 ? one : two, NULL);
      test_write_bytes (path, bytes);
    }
  {
    g_autofree char *path = g_build_filename (dir, "diffusion_pytorch_model.safetensors.index.json", NULL);
    g_assert_true (g_file_set_contents (path, index->str, -1, NULL));
  }
  set = wan_model_set_scan (dir, &error);
  g_assert_no_error (error);
  files = wan_model_set_get_files (set, &n);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpint (files[0].role, ==, WAN_FILE_ROLE_DIT);
  g_assert_true (g_str_has_suffix (files[0].path, ".index.json"));
  g_assert_cmpuint (wan_weights_get_n_params (files[0].weights), ==, 2030016);
  assert_problem (set, "No umT5 text encoder");
  assert_problem (set, "No VAE");
  test_rm_rf (dir);
}

static void
test_set_mismatches (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autoptr (GError) error = NULL;
  g_autoptr (WanModelSet) set = NULL;

  link_golden (dir, "dit48_bf16.safetensors", "dit48_bf16.safetensors");
  link_golden (dir, "t5_f32.safetensors", "t5_f32.safetensors");
  link_golden (dir, "vae21_f32.safetensors", "vae21_f32.safetensors");
  link_data (dir, "spiece.model", "tokenizer", "spiece.model");
  set = wan_model_set_load (dir, &error);
  g_assert_null (set);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "Wan2.2_VAE.pth"));
  test_rm_rf (dir);
}

static void
test_set_damaged_and_missing_tokenizer (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *golden = test_golden_path ("dit16_bf16.safetensors");
  g_autofree char *contents = NULL;
  g_autofree char *cut = g_build_filename (dir, "wan2.1_t2v_1.3B_bf16.safetensors", NULL);
  gsize length = 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (WanModelSet) set = NULL;
  const WanModelFile *files;
  guint n = 0;

  g_assert_true (g_file_get_contents (golden, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (cut, contents, (gssize)(length / 2), NULL));
  link_golden (dir, "umt5_xxl_fp16.safetensors", "t5_hf_f16.safetensors");
  link_golden (dir, "wan_2.1_vae.safetensors", "vae21_f32.safetensors");
  set = wan_model_set_scan (dir, &error);
  g_assert_no_error (error);
  files = wan_model_set_get_files (set, &n);
  g_assert_cmpuint (n, ==, 3);
  g_assert_true (files[1].is_problem);
  g_assert_null (files[1].weights);
  assert_problem (set, "truncated");
  assert_problem (set, "No diffusion model");
  assert_problem (set, "put tokenizer.json from google/umt5-xxl into");
  g_assert_false (wan_model_set_check (set, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "google/umt5-xxl"));
  test_rm_rf (dir);
}

static void
edit_add_spiece (GPtrArray *list, gpointer data)
{
  GBytes *model = data;
  const gint64 shape[1] = { (gint64)g_bytes_get_size (model) };

  test_tensor_add (list, "spiece_model", "U8", 1, shape, g_bytes_get_data (model, NULL),
                   g_bytes_get_size (model));
}

static void
test_set_embedded_spiece (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *model_path = test_data_path ("tokenizer", "spiece.model");
  g_autofree char *contents = NULL;
  gsize length = 0;
  g_autoptr (GBytes) model = NULL;
  g_autofree char *t5 = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (WanModelSet) set = NULL;

  g_assert_true (g_file_get_contents (model_path, &contents, &length, NULL));
  model = g_bytes_new (contents, length);
  t5 = write_variant (dir, "t5_hf_f16.safetensors", "umt5_xxl_fp16.safetensors", edit_add_spiece, model);
  link_golden (dir, "dit16_bf16.safetensors", "dit16_bf16.safetensors");
  link_golden (dir, "vae21_f32.safetensors", "vae21_f32.safetensors");
  set = wan_model_set_load (dir, &error);
  g_assert_no_error (error);
  g_assert_true (
      g_str_has_suffix (wan_model_set_get_tokenizer_source (set), "umt5_xxl_fp16.safetensors#spiece_model"));
  g_assert_cmpuint (wan_weights_get_n_params (wan_model_set_get_t5 (set)), ==, 143808);
  g_assert_cmpuint (umt5_tokenizer_get_vocab_size (wan_model_set_get_tokenizer (set)), ==, 256);
  test_rm_rf (dir);
}

static void
test_set_bad_folders (void)
{
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *missing = g_build_filename (dir, "nothing-here", NULL);
  g_autofree char *file = g_build_filename (dir, "file.txt", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (WanModelSet) empty = NULL;

  g_assert_null (wan_model_set_scan (missing, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_true (g_file_set_contents (file, "x", -1, NULL));
  g_assert_null (wan_model_set_scan (file, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  empty = wan_model_set_scan (dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (wan_model_set_get_arch (empty), ==, WAN_ARCH_UNKNOWN);
  assert_problem (empty, "No diffusion model");
  test_rm_rf (dir);
}

static void
log_cb (TakesEngineLogLevel level, const char *message, gpointer user_data)
{
  guint *count = user_data;

  if (strstr (message, "parameters") != NULL)
    (*count)++;
}

static void
test_log_callback (void)
{
  guint count = 0;

  takes_engine_set_log_func (log_cb, &count);
  {
    g_autoptr (WanWeights) w = open_golden ("vae21_f32.safetensors");
    g_assert_nonnull (w);
  }
  takes_engine_set_log_func (NULL, NULL);
  {
    g_autoptr (WanWeights) w = open_golden ("vae21_f32.safetensors");
    g_assert_nonnull (w);
  }
  g_assert_cmpuint (count, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/weights/golden/configs-match-manifest", test_golden_configs);
  g_test_add_func ("/weights/dit/layouts-and-dtypes-same-tensors", test_dit_layouts_same_tensors);
  g_test_add_func ("/weights/t5/hf-names-same-tensors", test_t5_names_same_tensors);
  g_test_add_func ("/weights/t5/name-table", test_t5_name_table);
  g_test_add_func ("/weights/expected/real-sizes-match-spec", test_real_sizes);
  g_test_add_func ("/weights/errors/name-file-and-tensor", test_errors_name_file_and_tensor);
  g_test_add_func ("/weights/config-json", test_config_json);
  g_test_add_func ("/weights/fp8/scaled-dit-both-forms", test_fp8_scaled_dit);
  g_test_add_func ("/weights/pth/text-encoder", test_pth_text_encoder);
  g_test_add_func ("/weights/log/callback", test_log_callback);
  g_test_add_func ("/model-set/golden-folder-lists-everything", test_set_golden_folder);
  g_test_add_func ("/model-set/tiny-comfy-layout", test_set_tiny_comfy_layout);
  g_test_add_func ("/model-set/a14b-official-layout", test_set_a14b_official_layout);
  g_test_add_func ("/model-set/sharded-listed-once", test_set_sharded_listed_once);
  g_test_add_func ("/model-set/vae-and-dit-mismatch", test_set_mismatches);
  g_test_add_func ("/model-set/damaged-file-and-no-tokenizer", test_set_damaged_and_missing_tokenizer);
  g_test_add_func ("/model-set/embedded-spiece-model", test_set_embedded_spiece);
  g_test_add_func ("/model-set/bad-folders", test_set_bad_folders);
  return g_test_run ();
}
