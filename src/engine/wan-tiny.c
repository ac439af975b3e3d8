/* wan-tiny.c: writing the tiny test model set.
 *
 * The files have the real Wan structure and the official tensor names, so
 * the scanner, the loaders and the whole pipeline run on them exactly as on a
 * release, only thousands of times faster. Every value comes from the
 * engine's Philox noise stream, so a seed gives the same bytes everywhere.
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "takes-engine.h"
#include "wan-noise.h"

#define TINY_DIM 256
#define TINY_HEADS 2
#define TINY_FFN 320
#define TINY_LAYERS 2
#define TINY_FREQ_DIM 256
#define TINY_TEXT_DIM 64
#define TINY_T5_HEADS 2
#define TINY_T5_HEAD_DIM 64
#define TINY_T5_FFN 160
#define TINY_T5_LAYERS 2
#define TINY_T5_BUCKETS 32
#define TINY_T5_VOCAB 640
#define TINY_VAE_DIM 4
#define TINY_VAE22_DEC_DIM 6

typedef enum
{
  TINY_F32,
  TINY_BF16,
} TinyDtype;

/* One safetensors file being built: its header entries and data. */
typedef struct
{
  GString *header;
  GByteArray *data;
  guint64 seed;
  guint64 counter; /* next element of the seed's noise stream */
  TinyDtype dtype;
  guint n_tensors;
} TinyFile;

static void
tiny_file_init (TinyFile *f, guint64 seed, TinyDtype dtype)
{
  f->header = g_string_new ("{");
  f->data = g_byte_array_new ();
  f->seed = seed;
  f->counter = 0;
  f->dtype = dtype;
  f->n_tensors = 0;
}

static void
tiny_file_clear (TinyFile *f)
{
  g_string_free (f->header, TRUE);
  g_byte_array_unref (f->data);
}

static guint16
f32_to_bf16 (float value)
{
  guint32 bits;

  memcpy (&bits, &value, 4);
  /* Round to nearest even, as PyTorch does when it casts. */
  bits += 0x7fff + ((bits >> 16) & 1);
  return (guint16)(bits >> 16);
}

/* Adds tensor @name of the given shape, drawn as @mean + @scale·N(0, 1). */
static void
tiny_tensor (TinyFile *f, const char *name, double mean, double scale, guint n_dims, const gint64 *shape)
{
  gsize n = 1;
  gsize start = f->data->len;
  gsize elem = f->dtype == TINY_F32 ? 4 : 2;
  g_autofree float *values = NULL;

  for (guint d = 0; d < n_dims; d++)
    n *= (gsize)shape[d];
  values = g_new (float, n);
  wan_noise_fill (f->seed, f->counter, values, n);
  f->counter += n;
  g_byte_array_set_size (f->data, (guint)(start + n * elem));
  for (gsize k = 0; k < n; k++)
    {
      float v = (float)(mean + scale * values[k]);

      if (f->dtype == TINY_F32)
        {
          guint32 bits;

          memcpy (&bits, &v, 4);
          bits = GUINT32_TO_LE (bits);
          memcpy (f->data->data + start + k * 4, &bits, 4);
        }
      else
        {
          guint16 bits = GUINT16_TO_LE (f32_to_bf16 (v));

          memcpy (f->data->data + start + k * 2, &bits, 2);
        }
    }
  g_string_append_printf (f->header, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[", f->n_tensors > 0 ? "," : "",
                          name, f->dtype == TINY_F32 ? "F32" : "BF16");
  for (guint d = 0; d < n_dims; d++)
    g_string_append_printf (f->header, "%s%" G_GINT64_FORMAT, d > 0 ? "," : "", shape[d]);
  g_string_append_printf (f->header, "],\"data_offsets\":[%" G_GSIZE_FORMAT ",%" G_GSIZE_FORMAT "]}", start,
                          (gsize)f->data->len);
  f->n_tensors++;
}

/* Weights scaled by 1/√fan_in keep the activations of a random network near
 * unit size, so the tiny model neither explodes nor fades to zero. */
static void
tiny_weight (TinyFile *f, const char *name, guint n_dims, const gint64 *shape)
{
  gint64 fan_in = 1;

  for (guint d = 1; d < n_dims; d++)
    fan_in *= shape[d];
  tiny_tensor (f, name, 0.0, 1.0 / sqrt ((double)fan_in), n_dims, shape);
}

static void
tiny_linear (TinyFile *f, const char *prefix, gint64 n_out, gint64 n_in, gboolean bias)
{
  g_autofree char *w = g_strconcat (prefix, ".weight", NULL);
  g_autofree char *b = g_strconcat (prefix, ".bias", NULL);
  gint64 shape[2] = { n_out, n_in };

  tiny_weight (f, w, 2, shape);
  if (bias)
    tiny_tensor (f, b, 0.0, 0.02, 1, &n_out);
}

static void
tiny_gain (TinyFile *f, const char *name, guint n_dims, const gint64 *shape)
{
  tiny_tensor (f, name, 1.0, 0.1, n_dims, shape);
}

static gboolean
tiny_file_write (TinyFile *f, const char *path, GError **error)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GError) local_error = NULL;
  guint64 header_len, le;

  g_string_append (f->header, ",\"__metadata__\":{\"format\":\"pt\"}}");
  while (f->header->len % 8 != 0)
    g_string_append_c (f->header, ' ');
  header_len = f->header->len;
  le = GUINT64_TO_LE (header_len);
  g_byte_array_append (out, (const guint8 *)&le, 8);
  g_byte_array_append (out, (const guint8 *)f->header->str, (guint)f->header->len);
  g_byte_array_append (out, f->data->data, f->data->len);
  if (!g_file_set_contents (path, (const char *)out->data, (gssize)out->len, &local_error))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_IO,
                   _ ("Could not write “%s”: %s. Check that the folder is writable and the disk has room."),
                   path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
write_text (const char *path, const char *text, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (!g_file_set_contents (path, text, -1, &local_error))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_IO,
                   _ ("Could not write “%s”: %s. Check that the folder is writable and the disk has room."),
                   path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
make_dir (const char *path, GError **error)
{
  if (g_mkdir_with_parents (path, 0755) != 0)
    {
      int saved = errno;

      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_IO,
                   _ ("Could not create the folder “%s”: %s. Check the path and its permissions."), path,
                   g_strerror (saved));
      return FALSE;
    }
  return TRUE;
}

/* The diffusion transformer (§6.2 key names) */

static gboolean
write_dit (const char *dir, int channels, guint64 seed, GError **error)
{
  g_autofree char *path = g_build_filename (dir, "diffusion_pytorch_model.safetensors", NULL);
  g_autofree char *config_path = g_build_filename (dir, "config.json", NULL);
  g_autofree char *config = NULL;
  const gint64 d = TINY_DIM;
  TinyFile f;
  gboolean ok;

  tiny_file_init (&f, seed, TINY_F32);
  {
    gint64 shape[5] = { d, channels, 1, 2, 2 };
    gint64 mod[3] = { 1, 2, d };

    tiny_weight (&f, "patch_embedding.weight", 5, shape);
    tiny_tensor (&f, "patch_embedding.bias", 0.0, 0.02, 1, &d);
    tiny_linear (&f, "text_embedding.0", d, TINY_TEXT_DIM, TRUE);
    tiny_linear (&f, "text_embedding.2", d, d, TRUE);
    tiny_linear (&f, "time_embedding.0", d, TINY_FREQ_DIM, TRUE);
    tiny_linear (&f, "time_embedding.2", d, d, TRUE);
    tiny_linear (&f, "time_projection.1", 6 * d, d, TRUE);
    tiny_tensor (&f, "head.modulation", 0.0, 0.1, 3, mod);
    tiny_linear (&f, "head.head", 4 * channels, d, TRUE);
  }
  for (int b = 0; b < TINY_LAYERS; b++)
    {
      static const char *const attns[] = { "self_attn", "cross_attn" };
      g_autofree char *name = NULL;
      gint64 mod[3] = { 1, 6, d };

      name = g_strdup_printf ("blocks.%d.modulation", b);
      tiny_tensor (&f, name, 0.0, 0.1, 3, mod);
      for (guint a = 0; a < G_N_ELEMENTS (attns); a++)
        {
          static const char *const projs[] = { "q", "k", "v", "o" };

          for (guint p = 0; p < G_N_ELEMENTS (projs); p++)
            {
              g_autofree char *prefix = g_strdup_printf ("blocks.%d.%s.%s", b, attns[a], projs[p]);
              tiny_linear (&f, prefix, d, d, TRUE);
            }
          g_free (name);
          name = g_strdup_printf ("blocks.%d.%s.norm_q.weight", b, attns[a]);
          tiny_gain (&f, name, 1, &d);
          g_free (name);
          name = g_strdup_printf ("blocks.%d.%s.norm_k.weight", b, attns[a]);
          tiny_gain (&f, name, 1, &d);
        }
      g_free (name);
      name = g_strdup_printf ("blocks.%d.norm3.weight", b);
      tiny_gain (&f, name, 1, &d);
      g_free (name);
      name = g_strdup_printf ("blocks.%d.norm3.bias", b);
      tiny_tensor (&f, name, 0.0, 0.02, 1, &d);
      g_free (name);
      name = g_strdup_printf ("blocks.%d.ffn.0", b);
      tiny_linear (&f, name, TINY_FFN, d, TRUE);
      g_free (name);
      name = g_strdup_printf ("blocks.%d.ffn.2", b);
      tiny_linear (&f, name, d, TINY_FFN, TRUE);
    }
  ok = tiny_file_write (&f, path, error);
  tiny_file_clear (&f);
  if (!ok)
    return FALSE;

  config = g_strdup_printf ("{\n  \"_class_name\": \"WanModel\",\n  \"model_type\": \"%s\",\n"
                            "  \"dim\": %d,\n  \"eps\": 1e-06,\n  \"ffn_dim\": %d,\n  \"freq_dim\": %d,\n"
                            "  \"in_dim\": %d,\n  \"num_heads\": %d,\n  \"num_layers\": %d,\n"
                            "  \"out_dim\": %d,\n  \"text_dim\": %d,\n  \"text_len\": 512,\n"
                            "  \"patch_size\": [1, 2, 2],\n  \"window_size\": [-1, -1],\n"
                            "  \"qk_norm\": true,\n  \"cross_attn_norm\": true\n}\n",
                            channels == 48 ? "ti2v" : "t2v", TINY_DIM, TINY_FFN, TINY_FREQ_DIM, channels,
                            TINY_HEADS, TINY_LAYERS, channels, TINY_TEXT_DIM);
  return write_text (config_path, config, error);
}

/* The umT5 encoder (official .pth key names, §6.3) */

static gboolean
write_t5 (const char *path, guint64 seed, GError **error)
{
  const gint64 d = TINY_TEXT_DIM;
  const gint64 inner = TINY_T5_HEADS * TINY_T5_HEAD_DIM;
  TinyFile f;
  gboolean ok;

  tiny_file_init (&f, seed, TINY_BF16);
  {
    gint64 shape[2] = { TINY_T5_VOCAB, d };
    tiny_tensor (&f, "token_embedding.weight", 0.0, 1.0, 2, shape);
  }
  for (int b = 0; b < TINY_T5_LAYERS; b++)
    {
      g_autofree char *norm1 = g_strdup_printf ("blocks.%d.norm1.weight", b);
      g_autofree char *norm2 = g_strdup_printf ("blocks.%d.norm2.weight", b);
      g_autofree char *q = g_strdup_printf ("blocks.%d.attn.q", b);
      g_autofree char *k = g_strdup_printf ("blocks.%d.attn.k", b);
      g_autofree char *v = g_strdup_printf ("blocks.%d.attn.v", b);
      g_autofree char *o = g_strdup_printf ("blocks.%d.attn.o", b);
      g_autofree char *gate = g_strdup_printf ("blocks.%d.ffn.gate.0", b);
      g_autofree char *fc1 = g_strdup_printf ("blocks.%d.ffn.fc1", b);
      g_autofree char *fc2 = g_strdup_printf ("blocks.%d.ffn.fc2", b);
      g_autofree char *pos = g_strdup_printf ("blocks.%d.pos_embedding.embedding.weight", b);
      gint64 pos_shape[2] = { TINY_T5_BUCKETS, TINY_T5_HEADS };

      tiny_gain (&f, norm1, 1, &d);
      tiny_linear (&f, q, inner, d, FALSE);
      tiny_linear (&f, k, inner, d, FALSE);
      tiny_linear (&f, v, inner, d, FALSE);
      tiny_linear (&f, o, d, inner, FALSE);
      tiny_gain (&f, norm2, 1, &d);
      tiny_linear (&f, gate, TINY_T5_FFN, d, FALSE);
      tiny_linear (&f, fc1, TINY_T5_FFN, d, FALSE);
      tiny_linear (&f, fc2, d, TINY_T5_FFN, FALSE);
      tiny_tensor (&f, pos, 0.0, 0.5, 2, pos_shape);
    }
  tiny_gain (&f, "norm.weight", 1, &d);
  ok = tiny_file_write (&f, path, error);
  tiny_file_clear (&f);
  return ok;
}

/* The VAEs (official .pth key names, §4) */

static void
vae_gamma (TinyFile *f, const char *prefix, const char *name, gint64 c, gboolean is_3d)
{
  g_autofree char *full = g_strconcat (prefix, name, NULL);
  gint64 shape[4] = { c, 1, 1, 1 };

  tiny_gain (f, full, is_3d ? 4 : 3, shape);
}

static void
vae_conv (
    TinyFile *f, const char *prefix, const char *name, gint64 out, gint64 in, gint64 kt, gint64 kh, gint64 kw)
{
  g_autofree char *w = g_strconcat (prefix, name, ".weight", NULL);
  g_autofree char *b = g_strconcat (prefix, name, ".bias", NULL);
  gint64 shape3[5] = { out, in, kt, kh, kw };
  gint64 shape2[4] = { out, in, kh, kw };

  if (kt > 0)
    tiny_weight (f, w, 5, shape3);
  else
    tiny_weight (f, w, 4, shape2);
  tiny_tensor (f, b, 0.0, 0.02, 1, &out);
}

static void
vae_residual (TinyFile *f, const char *prefix, gint64 in, gint64 out)
{
  vae_gamma (f, prefix, ".residual.0.gamma", in, TRUE);
  vae_conv (f, prefix, ".residual.2", out, in, 3, 3, 3);
  vae_gamma (f, prefix, ".residual.3.gamma", out, TRUE);
  vae_conv (f, prefix, ".residual.6", out, out, 3, 3, 3);
  if (in != out)
    vae_conv (f, prefix, ".shortcut", out, in, 1, 1, 1);
}

static void
vae_attention (TinyFile *f, const char *prefix, gint64 c)
{
  vae_gamma (f, prefix, ".norm.gamma", c, FALSE);
  vae_conv (f, prefix, ".to_qkv", 3 * c, c, 0, 1, 1);
  vae_conv (f, prefix, ".proj", c, c, 0, 1, 1);
}

static void
vae_middle (TinyFile *f, const char *part, gint64 c)
{
  g_autofree char *m0 = g_strconcat (part, ".middle.0", NULL);
  g_autofree char *m1 = g_strconcat (part, ".middle.1", NULL);
  g_autofree char *m2 = g_strconcat (part, ".middle.2", NULL);

  vae_residual (f, m0, c, c);
  vae_attention (f, m1, c);
  vae_residual (f, m2, c, c);
}

/* Wan2.1: flat lists of blocks; Wan2.2: one list per level. */
static void
write_vae_encoder (TinyFile *f, int version, gint64 dim, gint64 z_dim)
{
  const gint64 dims[5] = { dim, dim, 2 * dim, 4 * dim, 4 * dim };
  int flat = 0;

  vae_conv (f, "encoder", ".conv1", dim, version == 22 ? 12 : 3, 3, 3, 3);
  for (int level = 0; level < 4; level++)
    {
      for (int j = 0; j < 3; j++)
        {
          g_autofree char *prefix = version == 22
                                        ? g_strdup_printf ("encoder.downsamples.%d.downsamples.%d", level, j)
                                        : g_strdup_printf ("encoder.downsamples.%d", flat);

          if (j < 2)
            vae_residual (f, prefix, j == 0 ? dims[level] : dims[level + 1], dims[level + 1]);
          else if (level < 3)
            {
              vae_conv (f, prefix, ".resample.1", dims[level + 1], dims[level + 1], 0, 3, 3);
              if (level > 0)
                vae_conv (f, prefix, ".time_conv", dims[level + 1], dims[level + 1], 3, 1, 1);
            }
          else
            continue;
          flat++;
        }
    }
  vae_middle (f, "encoder", dims[4]);
  vae_gamma (f, "encoder", ".head.0.gamma", dims[4], TRUE);
  vae_conv (f, "encoder", ".head.2", 2 * z_dim, dims[4], 3, 3, 3);
  vae_conv (f, "", "conv1", 2 * z_dim, 2 * z_dim, 1, 1, 1);
}

static void
write_vae_decoder (TinyFile *f, int version, gint64 dim, gint64 z_dim)
{
  const gint64 dims[5] = { 4 * dim, 4 * dim, 4 * dim, 2 * dim, dim };
  int flat = 0;

  vae_conv (f, "", "conv2", z_dim, z_dim, 1, 1, 1);
  vae_conv (f, "decoder", ".conv1", dims[0], z_dim, 3, 3, 3);
  vae_middle (f, "decoder", dims[0]);
  for (int level = 0; level < 4; level++)
    {
      /* The Wan2.1 upsamplers halve the channels, so each level after the
       * first starts from half its predecessor's width. */
      gint64 in = version == 21 && level > 0 ? dims[level] / 2 : dims[level];
      gint64 out = dims[level + 1];

      for (int j = 0; j < 4; j++)
        {
          g_autofree char *prefix = version == 22
                                        ? g_strdup_printf ("decoder.upsamples.%d.upsamples.%d", level, j)
                                        : g_strdup_printf ("decoder.upsamples.%d", flat);

          if (j < 3)
            vae_residual (f, prefix, j == 0 ? in : out, out);
          else if (level < 3)
            {
              gint64 up = version == 21 ? out / 2 : out;

              vae_conv (f, prefix, ".resample.1", up, out, 0, 3, 3);
              if (level < 2)
                vae_conv (f, prefix, ".time_conv", 2 * out, out, 3, 1, 1);
            }
          else
            continue;
          flat++;
        }
    }
  vae_gamma (f, "decoder", ".head.0.gamma", dims[4], TRUE);
  vae_conv (f, "decoder", ".head.2", version == 22 ? 12 : 3, dims[4], 3, 3, 3);
}

static gboolean
write_vae (const char *path, int version, guint64 seed, GError **error)
{
  TinyFile f;
  gboolean ok;

  tiny_file_init (&f, seed, TINY_F32);
  write_vae_encoder (&f, version, TINY_VAE_DIM, version == 22 ? 48 : 16);
  write_vae_decoder (&f, version, version == 22 ? TINY_VAE22_DEC_DIM : TINY_VAE_DIM, version == 22 ? 48 : 16);
  ok = tiny_file_write (&f, path, error);
  tiny_file_clear (&f);
  return ok;
}

/* The tokenizer */

/* Frequent CJK characters, so Chinese prompts (the default negative prompt
 * among them) get real pieces; anything else falls back to bytes. */
static const char *const tiny_cjk[] = {
  "的", "一", "是", "不", "了", "人", "我", "在", "有", "他", "这", "中", "大", "来", "上", "个", "国",
  "到", "说", "们", "为", "子", "和", "你", "地", "出", "道", "也", "时", "年", "得", "就", "那", "要",
  "下", "以", "生", "会", "自", "着", "去", "之", "过", "家", "学", "对", "可", "她", "里", "后", "小",
  "么", "心", "多", "天", "而", "能", "好", "都", "然", "没", "日", "于", "起", "还", "发", "成", "事",
  "只", "作", "当", "想", "看", "文", "无", "开", "手", "十", "用", "主", "行", "方", "又", "如", "前",
  "所", "本", "见", "经", "头", "面", "色", "调", "艳", "丽", "过", "曝", "静", "态", "细", "节", "模",
  "糊", "清", "字", "幕", "风", "格", "作", "品", "画", "整", "体", "发", "灰", "最", "差", "质", "量",
  "低", "丑", "陋", "残", "缺", "余", "手", "指", "绘", "制", "脸", "部", "畸", "形", "毁", "容", "肢",
  "融", "合", "止", "帧", "杂", "乱", "背", "景", "三", "条", "腿", "很", "走", "倒", "猫", "狗", "山",
  "水", "花", "雨", "雪", "海", "城", "市", "夜", "光", "，", "。",
};

static const char *const tiny_words[] = {
  "▁a",      "▁the",   "▁of",   "▁and",  "▁in",    "▁on",    "▁with",   "▁at",   "▁to",
  "▁is",     "▁cat",   "▁dog",  "▁city", "▁night", "▁light", "▁sea",    "▁sky",  "▁red",
  "▁blue",   "▁green", "▁walk", "ing",   "ed",     "er",     "▁camera", "▁slow", "▁motion",
  "▁street", "▁rain",  "▁snow", "▁sun",  "▁woman", "▁man",   "▁car",    "▁shot", "▁close",
};

static char *
tokenizer_json (void)
{
  GString *vocab = g_string_new ("[[\"<pad>\",0.0],[\"</s>\",0.0],[\"<s>\",0.0],[\"<unk>\",0.0]");
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *vocab_str = NULL;

  for (int b = 0; b < 256; b++)
    g_string_append_printf (vocab, ",[\"<0x%02X>\",0.0]", b);
  g_string_append (vocab, ",[\"▁\",-2.0]");
  for (guint i = 0; i < G_N_ELEMENTS (tiny_words); i++)
    g_string_append_printf (vocab, ",[\"%s\",%.1f]", tiny_words[i], -3.0 - 0.1 * (i % 10));
  for (int c = 33; c < 127; c++)
    {
      if (c == '"' || c == '\\')
        g_string_append_printf (vocab, ",[\"\\%c\",-6.0]", c);
      else
        g_string_append_printf (vocab, ",[\"%c\",-6.0]", c);
    }
  for (guint i = 0; i < G_N_ELEMENTS (tiny_cjk); i++)
    {
      if (!g_hash_table_add (seen, (gpointer)tiny_cjk[i]))
        continue;
      g_string_append_printf (vocab, ",[\"%s\",-7.0]", tiny_cjk[i]);
    }
  g_string_append (vocab, "]");
  vocab_str = g_string_free (vocab, FALSE);
  return g_strdup_printf (
      "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
      "\"added_tokens\":[{\"id\":0,\"content\":\"<pad>\",\"special\":true},"
      "{\"id\":1,\"content\":\"</s>\",\"special\":true},{\"id\":2,\"content\":\"<s>\",\"special\":true},"
      "{\"id\":3,\"content\":\"<unk>\",\"special\":true}],"
      "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFKC\"},"
      "{\"type\":\"Replace\",\"pattern\":{\"Regex\":\" {2,}\"},\"content\":\" \"}]},"
      "\"pre_tokenizer\":{\"type\":\"Metaspace\",\"replacement\":\"▁\",\"prepend_scheme\":\"always\","
      "\"split\":true},"
      "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"Sequence\":{\"id\":\"A\","
      "\"type_id\":0}},{\"SpecialToken\":{\"id\":\"</s>\",\"type_id\":0}}],\"special_tokens\":{\"</s>\":"
      "{\"id\":\"</s>\",\"ids\":[1],\"tokens\":[\"</s>\"]}}},"
      "\"decoder\":{\"type\":\"Metaspace\",\"replacement\":\"▁\",\"prepend_scheme\":\"always\","
      "\"split\":true},"
      "\"model\":{\"type\":\"Unigram\",\"unk_id\":3,\"byte_fallback\":true,\"vocab\":%s}}\n",
      vocab_str);
}

/* The whole set */

gboolean
wan_tiny_model_write (const char *dir, WanArch like, guint64 seed, GError **error)
{
  g_autofree char *tok_dir = g_build_filename (dir, "google", "umt5-xxl", NULL);
  g_autofree char *tok_path = g_build_filename (tok_dir, "tokenizer.json", NULL);
  g_autofree char *t5_path = g_build_filename (dir, "models_t5_umt5-xxl-enc-bf16.safetensors", NULL);
  g_autofree char *tok = NULL;
  g_autofree char *vae_path = NULL;
  int channels;

  if (like != WAN_ARCH_WAN21_T2V_1_3B && like != WAN_ARCH_WAN22_TI2V_5B && like != WAN_ARCH_WAN22_T2V_A14B)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("A tiny model can be made like Wan2.1-T2V-1.3B, Wan2.2-TI2V-5B or Wan2.2-T2V-A14B, not "
                      "like “%s”. Choose one of those."),
                   wan_arch_get_name (like));
      return FALSE;
    }
  channels = like == WAN_ARCH_WAN22_TI2V_5B ? 48 : 16;
  vae_path = g_build_filename (
      dir, like == WAN_ARCH_WAN22_TI2V_5B ? "Wan2.2_VAE.safetensors" : "Wan2.1_VAE.safetensors", NULL);
  if (!make_dir (dir, error) || !make_dir (tok_dir, error))
    return FALSE;

  /* Each file has its own stream, so one part can change without moving the
   * others' values. */
  if (like == WAN_ARCH_WAN22_T2V_A14B)
    {
      g_autofree char *high = g_build_filename (dir, "high_noise_model", NULL);
      g_autofree char *low = g_build_filename (dir, "low_noise_model", NULL);

      if (!make_dir (high, error) || !make_dir (low, error)
          || !write_dit (high, channels, seed * 4 + 1, error)
          || !write_dit (low, channels, seed * 4 + 2, error))
        return FALSE;
    }
  else if (!write_dit (dir, channels, seed * 4 + 1, error))
    return FALSE;
  if (!write_t5 (t5_path, seed * 4 + 3, error)
      || !write_vae (vae_path, like == WAN_ARCH_WAN22_TI2V_5B ? 22 : 21, seed * 4 + 4, error))
    return FALSE;
  tok = tokenizer_json ();
  return write_text (tok_path, tok, error);
}
