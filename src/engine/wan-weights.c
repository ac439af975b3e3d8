/* wan-weights.c: classifying a weight file, inferring its configuration and
 * checking every tensor the architecture needs. */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

#include "takes-engine-private.h"
#include "wan-weights.h"

struct _WanWeights
{
  WanWeightsKind kind;
  char *path;
  Safetensors *st;
  GHashTable *official; /* official name → tensor, when the file used other names */
  WanDitConfig dit;
  Umt5Config t5;
  WanVaeConfig vae;
  guint64 n_params;
  char *dtype_summary;
  gboolean renamed;
  const SafetensorsTensor *spiece;
};

void
wan_weights_free (WanWeights *weights)
{
  if (weights == NULL)
    return;
  g_free (weights->path);
  g_clear_pointer (&weights->official, g_hash_table_unref);
  g_clear_pointer (&weights->st, safetensors_free);
  g_free (weights->dtype_summary);
  g_free (weights);
}

WanWeightsKind
wan_weights_get_kind (const WanWeights *weights)
{
  return weights->kind;
}

const char *
wan_weights_get_path (const WanWeights *weights)
{
  return weights->path;
}

const WanDitConfig *
wan_weights_get_dit_config (const WanWeights *weights)
{
  return weights->kind == WAN_WEIGHTS_DIT ? &weights->dit : NULL;
}

const Umt5Config *
wan_weights_get_t5_config (const WanWeights *weights)
{
  return weights->kind == WAN_WEIGHTS_T5 ? &weights->t5 : NULL;
}

const WanVaeConfig *
wan_weights_get_vae_config (const WanWeights *weights)
{
  return weights->kind == WAN_WEIGHTS_VAE ? &weights->vae : NULL;
}

WanArch
wan_weights_get_arch (const WanWeights *weights)
{
  return weights->kind == WAN_WEIGHTS_DIT ? wan_dit_config_get_arch (&weights->dit) : WAN_ARCH_UNKNOWN;
}

guint64
wan_weights_get_n_params (const WanWeights *weights)
{
  return weights->n_params;
}

guint64
wan_weights_get_n_bytes (const WanWeights *weights)
{
  return safetensors_get_n_bytes (weights->st);
}

const char *
wan_weights_get_dtype_summary (const WanWeights *weights)
{
  return weights->dtype_summary;
}

gboolean
wan_weights_get_renamed (const WanWeights *weights)
{
  return weights->renamed;
}

const Safetensors *
wan_weights_get_safetensors (const WanWeights *weights)
{
  return weights->st;
}

const SafetensorsTensor *
wan_weights_get_spiece_model (const WanWeights *weights)
{
  return weights->spiece;
}

const SafetensorsTensor *
wan_weights_lookup (const WanWeights *weights, const char *name)
{
  if (weights->official != NULL)
    return g_hash_table_lookup (weights->official, name);
  return safetensors_lookup (weights->st, name);
}

const SafetensorsTensor *
wan_weights_lookupf (const WanWeights *weights, const char *format, ...)
{
  g_autofree char *name = NULL;
  va_list args;

  va_start (args, format);
  name = g_strdup_vprintf (format, args);
  va_end (args);
  return wan_weights_lookup (weights, name);
}

WanArch
wan_dit_config_get_arch (const WanDitConfig *c)
{
  if (c->dim == 1536 && c->num_layers == 30 && c->in_dim == 16)
    return WAN_ARCH_WAN21_T2V_1_3B;
  if (c->dim == 3072 && c->num_layers == 30 && c->in_dim == 48)
    return WAN_ARCH_WAN22_TI2V_5B;
  if (c->dim == 5120 && c->num_layers == 40 && c->in_dim == 16)
    return WAN_ARCH_WAN21_T2V_14B;
  if (c->dim <= 512)
    return WAN_ARCH_TINY;
  return WAN_ARCH_CUSTOM;
}

/* Expected tensors */

void
wan_tensor_spec_free (WanTensorSpec *spec)
{
  g_free (spec->name);
  g_free (spec);
}

static void G_GNUC_PRINTF (3, 4) spec_add (GPtrArray *specs, const gint64 *shape, const char *format, ...)
{
  WanTensorSpec *spec = g_new0 (WanTensorSpec, 1);
  va_list args;

  va_start (args, format);
  spec->name = g_strdup_vprintf (format, args);
  va_end (args);
  for (guint i = 0; i < 5 && shape[i] > 0; i++)
    spec->shape[spec->n_dims++] = shape[i];
  g_ptr_array_add (specs, spec);
}

#define SHAPE(...) ((const gint64[6]){ __VA_ARGS__, 0 })

static GPtrArray *
spec_list_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify)wan_tensor_spec_free);
}

static void
add_linear (GPtrArray *specs, const char *prefix, gint64 out, gint64 in, gboolean bias)
{
  spec_add (specs, SHAPE (out, in), "%s.weight", prefix);
  if (bias)
    spec_add (specs, SHAPE (out), "%s.bias", prefix);
}

GPtrArray *
wan_dit_expected_tensors (const WanDitConfig *c)
{
  GPtrArray *specs = spec_list_new ();
  gint64 d = c->dim, f = c->ffn_dim;
  gint64 patch = (gint64)c->patch_size[0] * c->patch_size[1] * c->patch_size[2];

  spec_add (specs, SHAPE (d, c->in_dim, c->patch_size[0], c->patch_size[1], c->patch_size[2]),
            "patch_embedding.weight");
  spec_add (specs, SHAPE (d), "patch_embedding.bias");
  add_linear (specs, "text_embedding.0", d, c->text_dim, TRUE);
  add_linear (specs, "text_embedding.2", d, d, TRUE);
  add_linear (specs, "time_embedding.0", d, c->freq_dim, TRUE);
  add_linear (specs, "time_embedding.2", d, d, TRUE);
  add_linear (specs, "time_projection.1", 6 * d, d, TRUE);
  for (int n = 0; n < c->num_layers; n++)
    {
      const char *attn[] = { "self_attn", "cross_attn" };

      spec_add (specs, SHAPE (1, 6, d), "blocks.%d.modulation", n);
      for (guint a = 0; a < G_N_ELEMENTS (attn); a++)
        {
          const char *proj[] = { "q", "k", "v", "o" };

          for (guint p = 0; p < G_N_ELEMENTS (proj); p++)
            {
              g_autofree char *prefix = g_strdup_printf ("blocks.%d.%s.%s", n, attn[a], proj[p]);
              add_linear (specs, prefix, d, d, TRUE);
            }
          spec_add (specs, SHAPE (d), "blocks.%d.%s.norm_q.weight", n, attn[a]);
          spec_add (specs, SHAPE (d), "blocks.%d.%s.norm_k.weight", n, attn[a]);
        }
      spec_add (specs, SHAPE (d), "blocks.%d.norm3.weight", n);
      spec_add (specs, SHAPE (d), "blocks.%d.norm3.bias", n);
      {
        g_autofree char *ffn0 = g_strdup_printf ("blocks.%d.ffn.0", n);
        g_autofree char *ffn2 = g_strdup_printf ("blocks.%d.ffn.2", n);
        add_linear (specs, ffn0, f, d, TRUE);
        add_linear (specs, ffn2, d, f, TRUE);
      }
    }
  spec_add (specs, SHAPE (1, 2, d), "head.modulation");
  add_linear (specs, "head.head", patch * c->out_dim, d, TRUE);
  return specs;
}

GPtrArray *
umt5_expected_tensors (const Umt5Config *c)
{
  GPtrArray *specs = spec_list_new ();

  spec_add (specs, SHAPE (c->vocab, c->dim), "token_embedding.weight");
  if (c->shared_pos)
    spec_add (specs, SHAPE (c->num_buckets, c->num_heads), "pos_embedding.embedding.weight");
  for (int n = 0; n < c->num_layers; n++)
    {
      spec_add (specs, SHAPE (c->dim), "blocks.%d.norm1.weight", n);
      spec_add (specs, SHAPE (c->dim_attn, c->dim), "blocks.%d.attn.q.weight", n);
      spec_add (specs, SHAPE (c->dim_attn, c->dim), "blocks.%d.attn.k.weight", n);
      spec_add (specs, SHAPE (c->dim_attn, c->dim), "blocks.%d.attn.v.weight", n);
      spec_add (specs, SHAPE (c->dim, c->dim_attn), "blocks.%d.attn.o.weight", n);
      spec_add (specs, SHAPE (c->dim), "blocks.%d.norm2.weight", n);
      spec_add (specs, SHAPE (c->dim_ffn, c->dim), "blocks.%d.ffn.gate.0.weight", n);
      spec_add (specs, SHAPE (c->dim_ffn, c->dim), "blocks.%d.ffn.fc1.weight", n);
      spec_add (specs, SHAPE (c->dim, c->dim_ffn), "blocks.%d.ffn.fc2.weight", n);
      if (!c->shared_pos)
        spec_add (specs, SHAPE (c->num_buckets, c->num_heads), "blocks.%d.pos_embedding.embedding.weight", n);
    }
  spec_add (specs, SHAPE (c->dim), "norm.weight");
  return specs;
}

static void
vae_conv3d (GPtrArray *specs, const char *prefix, gint64 out, gint64 in, gint64 kt, gint64 k)
{
  spec_add (specs, SHAPE (out, in, kt, k, k), "%s.weight", prefix);
  spec_add (specs, SHAPE (out), "%s.bias", prefix);
}

static void
vae_residual (GPtrArray *specs, const char *prefix, gint64 in, gint64 out)
{
  g_autofree char *conv1 = g_strdup_printf ("%s.residual.2", prefix);
  g_autofree char *conv2 = g_strdup_printf ("%s.residual.6", prefix);
  g_autofree char *shortcut = g_strdup_printf ("%s.shortcut", prefix);

  spec_add (specs, SHAPE (in, 1, 1, 1), "%s.residual.0.gamma", prefix);
  vae_conv3d (specs, conv1, out, in, 3, 3);
  spec_add (specs, SHAPE (out, 1, 1, 1), "%s.residual.3.gamma", prefix);
  vae_conv3d (specs, conv2, out, out, 3, 3);
  if (in != out)
    vae_conv3d (specs, shortcut, out, in, 1, 1);
}

static void
vae_middle (GPtrArray *specs, const char *prefix, gint64 c)
{
  g_autofree char *res0 = g_strdup_printf ("%s.middle.0", prefix);
  g_autofree char *res2 = g_strdup_printf ("%s.middle.2", prefix);

  vae_residual (specs, res0, c, c);
  spec_add (specs, SHAPE (c, 1, 1), "%s.middle.1.norm.gamma", prefix);
  spec_add (specs, SHAPE (3 * c, c, 1, 1), "%s.middle.1.to_qkv.weight", prefix);
  spec_add (specs, SHAPE (3 * c), "%s.middle.1.to_qkv.bias", prefix);
  spec_add (specs, SHAPE (c, c, 1, 1), "%s.middle.1.proj.weight", prefix);
  spec_add (specs, SHAPE (c), "%s.middle.1.proj.bias", prefix);
  vae_residual (specs, res2, c, c);
}

typedef enum
{
  RESAMPLE_DOWN2D,
  RESAMPLE_DOWN3D,
  RESAMPLE_UP2D,
  RESAMPLE_UP3D,
} Resample;

/* The 2.1 upsampler halves the channels in its convolution; 2.2 keeps them. */
static void
vae_resample (GPtrArray *specs, const char *prefix, gint64 c, Resample mode, int version)
{
  gint64 out = (mode == RESAMPLE_UP2D || mode == RESAMPLE_UP3D) && version == 21 ? c / 2 : c;

  spec_add (specs, SHAPE (out, c, 3, 3), "%s.resample.1.weight", prefix);
  spec_add (specs, SHAPE (out), "%s.resample.1.bias", prefix);
  if (mode == RESAMPLE_DOWN3D)
    {
      spec_add (specs, SHAPE (c, c, 3, 1, 1), "%s.time_conv.weight", prefix);
      spec_add (specs, SHAPE (c), "%s.time_conv.bias", prefix);
    }
  else if (mode == RESAMPLE_UP3D)
    {
      spec_add (specs, SHAPE (2 * c, c, 3, 1, 1), "%s.time_conv.weight", prefix);
      spec_add (specs, SHAPE (2 * c), "%s.time_conv.bias", prefix);
    }
}

GPtrArray *
wan_vae_expected_tensors (const WanVaeConfig *c)
{
  GPtrArray *specs = spec_list_new ();
  const gboolean t_down[3] = { FALSE, TRUE, TRUE };
  const gboolean t_up[3] = { TRUE, TRUE, FALSE };
  gint64 enc[5], dec[5];
  gint64 z = c->z_dim;
  gint64 rgb = c->version == 22 ? 12 : 3;

  enc[0] = c->dim;
  for (int i = 0; i < 4; i++)
    enc[i + 1] = (gint64)c->dim * c->dim_mult[i];
  dec[0] = (gint64)c->dec_dim * c->dim_mult[3];
  for (int i = 0; i < 4; i++)
    dec[i + 1] = (gint64)c->dec_dim * c->dim_mult[3 - i];

  if (c->has_encoder)
    {
      int flat = 0;

      vae_conv3d (specs, "encoder.conv1", enc[0], rgb, 3, 3);
      for (int i = 0; i < 4; i++)
        {
          gint64 in = enc[i], out = enc[i + 1];
          int j = 0;

          for (int r = 0; r < c->num_res_blocks; r++)
            {
              g_autofree char *prefix
                  = c->version == 22 ? g_strdup_printf ("encoder.downsamples.%d.downsamples.%d", i, j++)
                                     : g_strdup_printf ("encoder.downsamples.%d", flat++);
              vae_residual (specs, prefix, in, out);
              in = out;
            }
          if (i != 3)
            {
              g_autofree char *prefix
                  = c->version == 22 ? g_strdup_printf ("encoder.downsamples.%d.downsamples.%d", i, j++)
                                     : g_strdup_printf ("encoder.downsamples.%d", flat++);
              vae_resample (specs, prefix, out, t_down[i] ? RESAMPLE_DOWN3D : RESAMPLE_DOWN2D, c->version);
            }
        }
      vae_middle (specs, "encoder", enc[4]);
      spec_add (specs, SHAPE (enc[4], 1, 1, 1), "encoder.head.0.gamma");
      vae_conv3d (specs, "encoder.head.2", 2 * z, enc[4], 3, 3);
      vae_conv3d (specs, "conv1", 2 * z, 2 * z, 1, 1);
    }

  vae_conv3d (specs, "conv2", z, z, 1, 1);
  vae_conv3d (specs, "decoder.conv1", dec[0], z, 3, 3);
  vae_middle (specs, "decoder", dec[0]);
  {
    int flat = 0;

    for (int i = 0; i < 4; i++)
      {
        gint64 in = dec[i], out = dec[i + 1];
        int j = 0;

        if (c->version == 21 && i > 0)
          in /= 2;
        for (int r = 0; r < c->num_res_blocks + 1; r++)
          {
            g_autofree char *prefix = c->version == 22
                                          ? g_strdup_printf ("decoder.upsamples.%d.upsamples.%d", i, j++)
                                          : g_strdup_printf ("decoder.upsamples.%d", flat++);
            vae_residual (specs, prefix, in, out);
            in = out;
          }
        if (i != 3)
          {
            g_autofree char *prefix = c->version == 22
                                          ? g_strdup_printf ("decoder.upsamples.%d.upsamples.%d", i, j++)
                                          : g_strdup_printf ("decoder.upsamples.%d", flat++);
            vae_resample (specs, prefix, out, t_up[i] ? RESAMPLE_UP3D : RESAMPLE_UP2D, c->version);
          }
      }
  }
  spec_add (specs, SHAPE (dec[4], 1, 1, 1), "decoder.head.0.gamma");
  vae_conv3d (specs, "decoder.head.2", rgb, dec[4], 3, 3);
  return specs;
}

/* umT5 names */

char *
umt5_official_name (const char *hf)
{
  static const struct
  {
    const char *hf;
    const char *official;
  } layer_names[] = {
    { "layer.0.layer_norm.weight", "norm1.weight" },
    { "layer.0.SelfAttention.q.weight", "attn.q.weight" },
    { "layer.0.SelfAttention.k.weight", "attn.k.weight" },
    { "layer.0.SelfAttention.v.weight", "attn.v.weight" },
    { "layer.0.SelfAttention.o.weight", "attn.o.weight" },
    { "layer.0.SelfAttention.relative_attention_bias.weight", "pos_embedding.embedding.weight" },
    { "layer.1.layer_norm.weight", "norm2.weight" },
    { "layer.1.DenseReluDense.wi_0.weight", "ffn.gate.0.weight" },
    { "layer.1.DenseReluDense.wi_1.weight", "ffn.fc1.weight" },
    { "layer.1.DenseReluDense.wo.weight", "ffn.fc2.weight" },
  };
  const char *rest;
  char *end = NULL;
  guint64 n;

  if (g_str_equal (hf, "shared.weight") || g_str_equal (hf, "encoder.embed_tokens.weight"))
    return g_strdup ("token_embedding.weight");
  if (g_str_equal (hf, "encoder.final_layer_norm.weight"))
    return g_strdup ("norm.weight");
  if (!g_str_has_prefix (hf, "encoder.block."))
    return NULL;
  rest = hf + strlen ("encoder.block.");
  if (!g_ascii_isdigit (*rest))
    return NULL;
  n = g_ascii_strtoull (rest, &end, 10);
  if (end == NULL || *end != '.' || n > 100000)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (layer_names); i++)
    if (g_str_equal (end + 1, layer_names[i].hf))
      return g_strdup_printf ("blocks.%" PRIu64 ".%s", n, layer_names[i].official);
  return NULL;
}

/* Opening and checking */

static const char *
kind_label (WanWeightsKind kind)
{
  switch (kind)
    {
      case WAN_WEIGHTS_DIT:
        return _ ("Wan diffusion model");
      case WAN_WEIGHTS_T5:
        return _ ("umT5 text encoder");
      case WAN_WEIGHTS_VAE:
      default:
        return _ ("Wan VAE");
    }
}

static const SafetensorsTensor *
need (WanWeights *w, const char *name, guint n_dims, GError **error)
{
  const SafetensorsTensor *t = wan_weights_lookup (w, name);

  if (t == NULL)
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_MISSING_TENSOR,
          _ ("“%s” has no tensor “%s”, which a %s needs. The file is incomplete or holds another model; "
             "download it again."),
          w->path, name, kind_label (w->kind));
      return NULL;
    }
  if (t->n_dims != n_dims)
    {
      g_autofree char *shape = safetensors_tensor_format_shape (t);
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   _ ("Tensor “%s” in “%s” has shape %s, but a %s needs %u dimensions there."), name, w->path,
                   shape, kind_label (w->kind), n_dims);
      return NULL;
    }
  return t;
}

/* 1 + the largest N of the names "<prefix>N." */
static int
count_blocks (WanWeights *w, const char *prefix)
{
  gsize len = strlen (prefix);
  guint64 max = 0;
  gboolean any = FALSE;
  GHashTableIter iter;
  gpointer key;
  const Safetensors *st = w->st;

  if (w->official != NULL)
    g_hash_table_iter_init (&iter, w->official);
  for (guint i = 0;; i++)
    {
      const char *name;
      char *end = NULL;
      guint64 n;

      if (w->official != NULL)
        {
          if (!g_hash_table_iter_next (&iter, &key, NULL))
            break;
          name = key;
        }
      else
        {
          if (i >= safetensors_get_n_tensors (st))
            break;
          name = safetensors_get_tensor (st, i)->name;
        }
      if (!g_str_has_prefix (name, prefix) || !g_ascii_isdigit (name[len]))
        continue;
      n = g_ascii_strtoull (name + len, &end, 10);
      if (end == NULL || *end != '.' || n > 100000)
        continue;
      any = TRUE;
      max = MAX (max, n);
    }
  return any ? (int)max + 1 : 0;
}

static gboolean
check_tensor_dtype (WanWeights *w, const SafetensorsTensor *t, GError **error)
{
  switch (t->dtype)
    {
      case SAFETENSORS_DTYPE_F32:
      case SAFETENSORS_DTYPE_F16:
      case SAFETENSORS_DTYPE_BF16:
        return TRUE;
      case SAFETENSORS_DTYPE_F8_E4M3:
        if (t->quant_format == NULL || g_str_equal (t->quant_format, "float8_e4m3fn"))
          return TRUE;
        g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
                     _ ("Tensor “%s” in “%s” uses the quantisation “%s”, which Takes cannot compute with. "
                        "Use an FP16, "
                        "BF16 or fp8_scaled (e4m3) file."),
                     t->name, w->path, t->quant_format);
        return FALSE;
      default:
        g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
                     _ ("Tensor “%s” in “%s” is stored as %s, which Takes cannot compute with. Use a file "
                        "with F32, F16, "
                        "BF16 or F8_E4M3 weights."),
                     t->name, w->path, safetensors_dtype_get_name (t->dtype));
        return FALSE;
    }
}

static gboolean
check_specs (WanWeights *w, GPtrArray *specs, GError **error)
{
  for (guint i = 0; i < specs->len; i++)
    {
      const WanTensorSpec *spec = g_ptr_array_index (specs, i);
      const SafetensorsTensor *t = wan_weights_lookup (w, spec->name);
      gboolean same;

      if (t == NULL)
        {
          g_set_error (
              error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_MISSING_TENSOR,
              _ ("“%s” has no tensor “%s”, which a %s needs. The file is incomplete or holds another model; "
                 "download it again."),
              w->path, spec->name, kind_label (w->kind));
          return FALSE;
        }
      same = t->n_dims == spec->n_dims;
      for (guint d = 0; same && d < spec->n_dims; d++)
        same = t->shape[d] == spec->shape[d];
      if (!same)
        {
          g_autofree char *have = safetensors_tensor_format_shape (t);
          GString *want = g_string_new ("[");

          for (guint d = 0; d < spec->n_dims; d++)
            g_string_append_printf (want, "%s%" PRId64, d > 0 ? ", " : "", spec->shape[d]);
          g_string_append_c (want, ']');
          g_set_error (
              error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
              _ ("Tensor “%s” in “%s” has shape %s, but this %s needs %s. The file is damaged or mixes two "
                 "models."),
              spec->name, w->path, have, kind_label (w->kind), want->str);
          g_string_free (want, TRUE);
          return FALSE;
        }
      if (!check_tensor_dtype (w, t, error))
        return FALSE;
    }
  return TRUE;
}

/* Reads an integer member of config.json, if present. */
static gboolean
config_int (
    JsonObject *obj, const char *member, const char *path, int *value, gboolean *present, GError **error)
{
  JsonNode *node = json_object_get_member (obj, member);
  gint64 v;

  *present = FALSE;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    return TRUE;
  if (json_node_get_value_type (node) != G_TYPE_INT64 || (v = json_node_get_int (node)) <= 0
      || v > G_MAXINT / 8)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("“%s” gives “%s” as something other than a positive whole number. Replace it with the "
                      "original config.json."),
                   path, member);
      return FALSE;
    }
  *value = (int)v;
  *present = TRUE;
  return TRUE;
}

static gboolean
apply_dit_config_json (WanWeights *w, const char *config_json, GError **error)
{
  g_autofree char *text = NULL;
  g_autoptr (JsonNode) root = NULL;
  JsonObject *obj;
  gsize length = 0;
  const struct
  {
    const char *member;
    int *field;
  } members[] = {
    { "dim", &w->dit.dim },           { "ffn_dim", &w->dit.ffn_dim }, { "num_layers", &w->dit.num_layers },
    { "in_dim", &w->dit.in_dim },     { "out_dim", &w->dit.out_dim }, { "freq_dim", &w->dit.freq_dim },
    { "text_dim", &w->dit.text_dim },
  };

  if (!takes_engine_read_file (config_json, 1024 * 1024, &text, &length, error))
    return FALSE;
  root = takes_engine_parse_json (text, length, config_json, error);
  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("“%s” is not a model configuration. Replace it with the original config.json."),
                   config_json);
      return FALSE;
    }
  obj = json_node_get_object (root);

  if (json_object_has_member (obj, "model_type")
      && json_node_get_value_type (json_object_get_member (obj, "model_type")) == G_TYPE_STRING)
    {
      const char *type = json_object_get_string_member (obj, "model_type");

      if (!g_str_equal (type, "t2v") && !g_str_equal (type, "ti2v"))
        {
          g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
                       _ ("“%s” describes a “%s” model; Takes runs the text-to-video models (t2v, ti2v). Use "
                          "Wan2.1-T2V, Wan2.2-TI2V-5B or Wan2.2-T2V-A14B."),
                       config_json, type);
          return FALSE;
        }
    }
  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    {
      int value = 0;
      gboolean present;

      if (!config_int (obj, members[i].member, config_json, &value, &present, error))
        return FALSE;
      if (present && value != *members[i].field)
        {
          g_set_error (
              error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_MISMATCH,
              _ ("“%s” says %s is %d, but the weights in “%s” have %d. The config.json belongs to another "
                 "model; put the right one beside the weights."),
              config_json, members[i].member, value, w->path, *members[i].field);
          return FALSE;
        }
    }
  {
    int heads = 0, text_len = 0;
    gboolean present;

    if (!config_int (obj, "num_heads", config_json, &heads, &present, error))
      return FALSE;
    if (present)
      {
        if (w->dit.dim % heads != 0)
          {
            g_set_error (
                error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                _ ("“%s” gives %d heads, which do not divide the model width %d. Replace it with the "
                   "original config.json."),
                config_json, heads, w->dit.dim);
            return FALSE;
          }
        w->dit.num_heads = heads;
      }
    if (!config_int (obj, "text_len", config_json, &text_len, &present, error))
      return FALSE;
    if (present)
      w->dit.text_len = text_len;
  }
  if (json_object_has_member (obj, "eps"))
    {
      JsonNode *node = json_object_get_member (obj, "eps");
      GType type = json_node_get_value_type (node);

      if (type == G_TYPE_DOUBLE || type == G_TYPE_INT64)
        w->dit.eps = json_node_get_double (node);
      if (!(w->dit.eps > 0.0 && w->dit.eps < 1.0))
        {
          g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                       _ ("“%s” gives an eps outside (0, 1). Replace it with the original config.json."),
                       config_json);
          return FALSE;
        }
    }
  return TRUE;
}

static gboolean
infer_dit (WanWeights *w, const char *config_json, GError **error)
{
  const SafetensorsTensor *t;
  WanDitConfig *c = &w->dit;
  g_autoptr (GPtrArray) specs = NULL;

  if (wan_weights_lookup (w, "img_emb.proj.0.weight") != NULL)
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
          _ ("“%s” is an image-to-video Wan model; Takes runs the text-to-video models. Use Wan2.1-T2V, "
             "Wan2.2-TI2V-5B or Wan2.2-T2V-A14B."),
          w->path);
      return FALSE;
    }
  if ((t = need (w, "head.modulation", 3, error)) == NULL)
    return FALSE;
  c->dim = (int)t->shape[2];
  if ((t = need (w, "patch_embedding.weight", 5, error)) == NULL)
    return FALSE;
  c->in_dim = (int)t->shape[1];
  c->patch_size[0] = (int)t->shape[2];
  c->patch_size[1] = (int)t->shape[3];
  c->patch_size[2] = (int)t->shape[4];
  if ((t = need (w, "head.head.weight", 2, error)) == NULL)
    return FALSE;
  {
    gint64 patch = (gint64)c->patch_size[0] * c->patch_size[1] * c->patch_size[2];

    if (patch <= 0 || t->shape[0] % patch != 0)
      {
        g_autofree char *shape = safetensors_tensor_format_shape (t);
        g_set_error (
            error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
            _ ("Tensor “head.head.weight” in “%s” has shape %s, which does not fit the patch size %d×%d×%d. "
               "The file is damaged; download it again."),
            w->path, shape, c->patch_size[0], c->patch_size[1], c->patch_size[2]);
        return FALSE;
      }
    c->out_dim = (int)(t->shape[0] / patch);
  }
  if ((t = need (w, "blocks.0.ffn.0.weight", 2, error)) == NULL)
    return FALSE;
  c->ffn_dim = (int)t->shape[0];
  if ((t = need (w, "text_embedding.0.weight", 2, error)) == NULL)
    return FALSE;
  c->text_dim = (int)t->shape[1];
  if ((t = need (w, "time_embedding.0.weight", 2, error)) == NULL)
    return FALSE;
  c->freq_dim = (int)t->shape[1];
  c->num_layers = count_blocks (w, "blocks.");
  c->text_len = UMT5_TEXT_LEN;
  c->eps = 1e-6;
  c->num_heads = c->dim % 128 == 0 ? c->dim / 128 : 0;

  if (config_json != NULL && !apply_dit_config_json (w, config_json, error))
    return FALSE;
  if (c->num_heads == 0)
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
          _ ("The width %d of “%s” is not a multiple of 128, so its head count cannot be inferred. Put the "
             "model's config.json (with num_heads) beside it."),
          c->dim, w->path);
      return FALSE;
    }
  if (c->dim <= 0 || c->in_dim <= 0 || c->out_dim <= 0 || c->ffn_dim <= 0 || c->text_dim <= 0
      || c->freq_dim <= 0)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   _ ("“%s” has a zero-sized layer. The file is damaged; download it again."), w->path);
      return FALSE;
    }
  specs = wan_dit_expected_tensors (c);
  return check_specs (w, specs, error);
}

static gboolean
infer_t5 (WanWeights *w, GError **error)
{
  const SafetensorsTensor *t;
  Umt5Config *c = &w->t5;
  g_autoptr (GPtrArray) specs = NULL;

  if ((t = need (w, "token_embedding.weight", 2, error)) == NULL)
    return FALSE;
  c->vocab = (int)t->shape[0];
  c->dim = (int)t->shape[1];
  if ((t = need (w, "blocks.0.attn.q.weight", 2, error)) == NULL)
    return FALSE;
  c->dim_attn = (int)t->shape[0];
  if ((t = need (w, "blocks.0.ffn.fc1.weight", 2, error)) == NULL)
    return FALSE;
  c->dim_ffn = (int)t->shape[0];
  c->num_layers = count_blocks (w, "blocks.");
  c->shared_pos = wan_weights_lookup (w, "pos_embedding.embedding.weight") != NULL;
  if ((t = need (w,
                 c->shared_pos ? "pos_embedding.embedding.weight" : "blocks.0.pos_embedding.embedding.weight",
                 2, error))
      == NULL)
    return FALSE;
  c->num_buckets = (int)t->shape[0];
  c->num_heads = (int)t->shape[1];
  if (c->num_heads <= 0 || c->dim_attn % c->num_heads != 0 || c->num_buckets < 2 || c->num_buckets % 2 != 0)
    {
      g_autofree char *shape = safetensors_tensor_format_shape (t);
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
          _ ("The relative position table “%s” in “%s” has shape %s, which does not fit an attention width "
             "of %d. The file is damaged; download it again."),
          t->name, w->path, shape, c->dim_attn);
      return FALSE;
    }
  specs = umt5_expected_tensors (c);
  return check_specs (w, specs, error);
}

static gboolean
infer_vae (WanWeights *w, GError **error)
{
  const SafetensorsTensor *t;
  WanVaeConfig *c = &w->vae;
  g_autoptr (GPtrArray) specs = NULL;

  if ((t = need (w, "decoder.head.2.weight", 5, error)) == NULL)
    return FALSE;
  if (t->shape[0] != 3 && t->shape[0] != 12)
    {
      g_autofree char *shape = safetensors_tensor_format_shape (t);
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   _ ("Tensor “decoder.head.2.weight” in “%s” has shape %s: neither the Wan2.1 VAE (3 output "
                      "channels) nor the Wan2.2 VAE (12). Use the VAE that belongs to the model."),
                   w->path, shape);
      return FALSE;
    }
  c->version = t->shape[0] == 12 ? 22 : 21;
  c->dec_dim = (int)t->shape[1];
  if ((t = need (w, "decoder.conv1.weight", 5, error)) == NULL)
    return FALSE;
  c->z_dim = (int)t->shape[1];
  c->has_encoder = wan_weights_lookup (w, "encoder.conv1.weight") != NULL;
  if (c->has_encoder)
    {
      if ((t = need (w, "encoder.conv1.weight", 5, error)) == NULL)
        return FALSE;
      c->dim = (int)t->shape[0];
    }
  else
    c->dim = c->dec_dim;
  c->dim_mult[0] = 1;
  c->dim_mult[1] = 2;
  c->dim_mult[2] = 4;
  c->dim_mult[3] = 4;
  c->num_res_blocks = 2;
  if (c->dim <= 0 || c->dec_dim <= 0 || c->z_dim <= 0 || (c->version == 21 && c->dec_dim % 2 != 0))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   _ ("“%s” has VAE layers of impossible widths. The file is damaged; download it again."),
                   w->path);
      return FALSE;
    }
  specs = wan_vae_expected_tensors (c);
  return check_specs (w, specs, error);
}

/* Builds the official-name table of an HF/ComfyUI umT5 file. */
static void
map_t5_names (WanWeights *w)
{
  const Safetensors *st = w->st;

  w->official = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < safetensors_get_n_tensors (st); i++)
    {
      const SafetensorsTensor *t = safetensors_get_tensor (st, i);
      g_autofree char *name = umt5_official_name (t->name);

      if (name == NULL || t->is_aux)
        continue;
      /* "shared.weight" wins over its copy "encoder.embed_tokens.weight". */
      if (g_hash_table_contains (w->official, name) && !g_str_equal (t->name, "shared.weight"))
        continue;
      g_hash_table_replace (w->official, g_steal_pointer (&name), (gpointer)t);
    }
  /* Plain T5 keeps one relative bias table, in block 0 only. */
  if (g_hash_table_contains (w->official, "blocks.0.pos_embedding.embedding.weight")
      && g_hash_table_contains (w->official, "blocks.1.attn.q.weight")
      && !g_hash_table_contains (w->official, "blocks.1.pos_embedding.embedding.weight"))
    {
      gpointer table = g_hash_table_lookup (w->official, "blocks.0.pos_embedding.embedding.weight");

      g_hash_table_remove (w->official, "blocks.0.pos_embedding.embedding.weight");
      g_hash_table_insert (w->official, g_strdup ("pos_embedding.embedding.weight"), table);
    }
  w->renamed = TRUE;
}

static gboolean
is_official_value (WanWeights *w, const SafetensorsTensor *t)
{
  g_autofree char *name = umt5_official_name (t->name);

  if (name == NULL)
    return FALSE;
  if (g_str_equal (name, "blocks.0.pos_embedding.embedding.weight")
      && g_hash_table_lookup (w->official, "pos_embedding.embedding.weight") == t)
    return TRUE;
  return g_hash_table_lookup (w->official, name) == t;
}

static void
summarise (WanWeights *w)
{
  guint64 per_dtype[SAFETENSORS_N_DTYPES] = { 0 };
  gboolean scaled = FALSE;
  GString *summary = g_string_new (NULL);
  const Safetensors *st = w->st;

  for (guint i = 0; i < safetensors_get_n_tensors (st); i++)
    {
      const SafetensorsTensor *t = safetensors_get_tensor (st, i);

      if (t->is_aux || (w->spiece != NULL && t == w->spiece))
        continue;
      if (w->official != NULL && !is_official_value (w, t))
        continue;
      per_dtype[t->dtype] += (guint64)t->n_elements;
      w->n_params += (guint64)t->n_elements;
      scaled |= t->scale != NULL;
    }
  for (;;)
    {
      guint best = SAFETENSORS_N_DTYPES;

      for (guint d = 0; d < SAFETENSORS_N_DTYPES; d++)
        if (per_dtype[d] > 0 && (best == SAFETENSORS_N_DTYPES || per_dtype[d] > per_dtype[best]))
          best = d;
      if (best == SAFETENSORS_N_DTYPES)
        break;
      if (summary->len > 0)
        g_string_append (summary, " + ");
      g_string_append (summary, safetensors_dtype_get_name ((SafetensorsDtype)best));
      if (best == SAFETENSORS_DTYPE_F8_E4M3 && scaled)
        g_string_append (summary, " (scaled)");
      per_dtype[best] = 0;
    }
  w->dtype_summary = g_string_free (summary, FALSE);
}

WanWeights *
wan_weights_open (const char *path, const char *config_json, GError **error)
{
  g_autoptr (WanWeights) w = g_new0 (WanWeights, 1);
  const Safetensors *st;
  gboolean ok;

  w->path = g_strdup (path);
  w->st = safetensors_open (path, error);
  if (w->st == NULL)
    return NULL;
  st = w->st;
  w->renamed = safetensors_get_prefix_stripped (st);

  if (safetensors_lookup (st, "patch_embedding.weight") != NULL
      && safetensors_lookup (st, "head.modulation") != NULL)
    w->kind = WAN_WEIGHTS_DIT;
  else if (safetensors_lookup (st, "token_embedding.weight") != NULL
           && safetensors_lookup (st, "blocks.0.attn.q.weight") != NULL)
    w->kind = WAN_WEIGHTS_T5;
  else if ((safetensors_lookup (st, "shared.weight") != NULL
            || safetensors_lookup (st, "encoder.embed_tokens.weight") != NULL)
           && safetensors_lookup (st, "encoder.block.0.layer.0.SelfAttention.q.weight") != NULL)
    {
      w->kind = WAN_WEIGHTS_T5;
      map_t5_names (w);
    }
  else if (safetensors_lookup (st, "decoder.conv1.weight") != NULL
           && safetensors_lookup (st, "conv2.weight") != NULL)
    w->kind = WAN_WEIGHTS_VAE;
  else
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_A_MODEL,
                   _ ("“%s” is not part of a Wan model: it has neither the tensors of a Wan diffusion model, "
                      "nor those "
                      "of the umT5 text encoder, nor those of a Wan VAE."),
                   path);
      return NULL;
    }

  if (w->kind == WAN_WEIGHTS_T5)
    {
      const SafetensorsTensor *sp = safetensors_lookup (st, "spiece_model");

      if (sp != NULL && sp->dtype == SAFETENSORS_DTYPE_U8 && sp->n_dims == 1)
        w->spiece = sp;
    }

  switch (w->kind)
    {
      case WAN_WEIGHTS_DIT:
        ok = infer_dit (w, config_json, error);
        break;
      case WAN_WEIGHTS_T5:
        ok = infer_t5 (w, error);
        break;
      case WAN_WEIGHTS_VAE:
      default:
        ok = infer_vae (w, error);
        break;
    }
  if (!ok)
    return NULL;
  summarise (w);
  takes_engine_log (TAKES_ENGINE_LOG_DEBUG, "%s: %s, %" PRIu64 " parameters, %s", path,
                    kind_label (w->kind), w->n_params, w->dtype_summary);
  return g_steal_pointer (&w);
}
