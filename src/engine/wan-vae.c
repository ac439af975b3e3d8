/* wan-vae.c: the Wan2.1 and Wan2.2 video VAEs (decoder and encoder).
 *
 * Both follow the official chunked, causal computation. Every temporal
 * convolution with a 3-frame kernel keeps the last two frames of its input
 * in a tk_conv_cache, which makes the output independent of how the frames
 * are split into calls. The decoder uses that to run one frame at a time at
 * every level: a latent frame enters the first level, each frame a level
 * produces is pushed through the next level before the following one, so
 * the activations are three frame buffers shared by all levels (residual
 * blocks run in place, the 2× upsampling is made a band of rows at a time),
 * and the caches (two frames per convolution) are the bulk of the memory.
 * Where it takes less memory, a decoder convolution keeps partial sums of
 * its next two output frames instead of its last two input frames
 * (VaeTapConv): the head's three output channels instead of its 96 input
 * ones, and residual blocks that need one frame buffer fewer.
 * For frames whose caches would not fit, a tiled decode runs the levels
 * tile by tile over the whole video, so the caches follow the tile.
 *
 * Two places depart from "one long causal sequence", as the official code
 * does: an upsample3d skips its time convolution on the first frame it sees
 * (one frame out, not two) and starts its cache with the second, and a
 * downsample3d passes its first chunk through and later runs its stride-2
 * time convolution on the previous chunk's last frame followed by the chunk.
 * Wan2.2's parameter-free shortcuts (DupUp3D, AvgDown3D) drop or pad frames
 * to match.
 *
 * The encoder runs the official chunks of 1, 4, 4, … frames. */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "takes-engine-private.h"
#include "umt5-encoder.h"
#include "wan-vae.h"
#include "wan-weights.h"

/* F.normalize's epsilon in the VAE's RMS_norm. */
#define VAE_NORM_EPS 1e-12f
/* Residual blocks per level: num_res_blocks in the encoder, one more in the
 * decoder. */
#define VAE_MAX_RES 8
#define VAE_LEVELS 4
/* Frames the encoder takes per chunk after the first. */
#define VAE_CHUNK 4

/* A causal 3×3×3 convolution of the decoder kept as partial outputs: its
 * three time taps run as one per-frame 3×3 convolution with 3·cout
 * outputs (tap k first, k = 0 for the oldest frame), and tap k's part of a
 * frame's output waits in an accumulator until frame t + 2 - k is made.
 * The accumulators hold two frames of the output where a cache would hold
 * two frames of the input, and no input frame has to stay whole: the
 * convolution runs in bands of rows, so neither its normalised input nor
 * its output needs a frame buffer. */
typedef struct
{
  int cin, cout;
  tk_conv *taps;
  float *bias; /* [cout], added once */
} VaeTapConv;

typedef struct
{
  int cin, cout;
  float *gamma1, *gamma2;
  tk_conv *conv1, *conv2;
  VaeTapConv *tap1, *tap2; /* instead of conv1 and conv2 in the decoder's levels */
  tk_conv *shortcut;       /* NULL when cin == cout */
} VaeResBlock;

typedef struct
{
  int c;
  float *gamma;
  float *qkv_w, *qkv_b;   /* [3c, c], [3c] */
  float *proj_w, *proj_b; /* [c, c], [c] */
} VaeAttn;

typedef enum
{
  VAE_RESAMPLE_NONE,
  VAE_RESAMPLE_UP2D,
  VAE_RESAMPLE_UP3D,
  VAE_RESAMPLE_DOWN2D,
  VAE_RESAMPLE_DOWN3D,
} VaeResampleMode;

typedef struct
{
  int cin;  /* the level's input width */
  int cres; /* width of the residual blocks' output */
  int cout; /* the level's output width */
  int n_res;
  VaeResBlock res[VAE_MAX_RES];
  VaeResampleMode mode;
  tk_conv *resample;  /* resample.1, a per-frame 3×3 convolution */
  tk_conv *time_conv; /* NULL for 2-D resampling */
  /* Wan2.2's parameter-free shortcut around the whole level. */
  gboolean shortcut;
  int ft, fs;
} VaeLevel;

typedef struct
{
  int c_io; /* pixel channels: 3, or 12 after Wan2.2's 2×2 patchify */
  tk_conv *conv_in;
  VaeResBlock mid0, mid2;
  VaeAttn attn;
  VaeLevel levels[VAE_LEVELS];
  int c_head;
  float *head_gamma;
  tk_conv *head;
  VaeTapConv *head_taps; /* instead of head in the decoder */
} VaeCoder;

struct _WanVae
{
  WanWeights *weights;
  WanVaeConfig config;
  int patch;  /* 1 (2.1) or 2 (2.2) */
  int factor; /* 8 · patch */
  int n_threads;
  WanVaeConvs convs;
  guint64 weight_bytes;  /* what the layers keep: packed convolutions, norms, attention */
  guint64 conv_ws_bytes; /* what conv_ws holds once every convolution has run */
  tk_pool *pool;
  tk_conv_ws *conv_ws;
  float *mean;    /* [z_dim] */
  float *inv_std; /* [z_dim], 1/std in F32 as the official scale holds it */
  tk_conv *conv2; /* z → z before the decoder */
  tk_conv *conv1; /* 2z → 2z after the encoder, NULL without one */
  VaeCoder dec;
  VaeCoder enc;
};

/* A VaeTapConv's run state: the partial sums of the next two frames. */
typedef struct
{
  float *acc;   /* [2, cout, h, w] */
  int ring;     /* the half that holds the next frame's sum */
  gboolean any; /* a frame was pushed, so the sums are set */
} TapAcc;

/* Per-run state: one cache (or accumulator) per 3-frame convolution. */
typedef struct
{
  tk_conv_cache *c1, *c2;
  TapAcc a1, a2;
} ResCache;

typedef struct
{
  ResCache res[VAE_MAX_RES];
  tk_conv_cache *time; /* upsample3d */
  float *prev;         /* downsample3d: the last frame of the previous chunk */
  gboolean started;    /* the level has seen its first frame or chunk */
} LevelCache;

typedef struct
{
  tk_conv_cache *conv_in;
  ResCache mid0, mid2;
  LevelCache levels[VAE_LEVELS];
  tk_conv_cache *head;
  TapAcc head_acc;
} CoderCache;

/* Work buffers shared by every level of one run. */
typedef struct
{
  float *x, *y; /* residual chain ping-pong */
  float *t1;    /* normalised input of a convolution, nearest upsample, concatenation */
  float *t2;    /* first convolution's output, time convolution output */
  float *qkv;   /* [hw, 3c] tokens of the middle attention */
  float *att;   /* [hw, c] */
  tk_attention_ws *attn_ws;
  tk_gemm_ws *gemm_ws;
} Work;

/* Rows of the 2× upsampled image the decoder's resampling convolution
 * takes at a time, so the upsampled frame is never whole in memory. */
#define VAE_BAND_ROWS 32
/* Output rows a VaeTapConv makes at a time. Its band takes one more input
 * row on each side, computed twice, so a larger band wastes less; at this
 * size the Wan2.1 bands fit the resampling's band buffers. */
#define VAE_TAP_ROWS 24

/* The decoder keeps three frame buffers and runs every residual block in
 * place: at any moment one holds the current frame, the others the
 * normalised input and the output of a convolution. A level hands its frame
 * to the next in one of the first two, so those serve every level in turn;
 * the third is always the third. A residual block of VaeTapConvs needs only
 * the first two (its input is normalised a band at a time and its second
 * convolution adds into the frame), as does a head of VaeTapConvs, so the
 * third is sized for the blocks that still need it, and holds an
 * upsample3d's second frame while no deeper level needs it. */
struct _WanVaeDecoder
{
  WanVae *vae;
  int h, w;
  int pushed;
  gint64 res_h[VAE_LEVELS + 1], res_w[VAE_LEVELS + 1]; /* level inputs; [4] is the head's */
  CoderCache cache;
  float *buf[3];
  float *z;                /* [z_dim, h, w] */
  float *pend[VAE_LEVELS]; /* upsample3d: both frames of the time convolution; NULL: in buf[2] */
  float *keep[VAE_LEVELS]; /* Wan2.2: the level's input, for its shortcut */
  float *band, *band_out;  /* a band of the upsampled frame and its convolution */
  float *qkv, *att;        /* the middle attention's tokens */
  tk_attention_ws *attn_ws;
};

/* Sizes in floats of the decoder's buffers, so the estimate and the
 * allocation agree. */
typedef struct
{
  gint64 cache;
  gint64 cache_part[VAE_LEVELS + 2]; /* of cache: the middle, each level, the head */
  gint64 frame;                      /* buf[0] and buf[1] each */
  gint64 frame3;                     /* buf[2] */
  gint64 pend[VAE_LEVELS];           /* 0 where pend lives in buf[2] */
  gint64 keep[VAE_LEVELS];
  gint64 band, band_out;
  gint64 z, qkv, att;
  gint64 attn_ws; /* bytes */
  gint64 conv_ws; /* bytes */
} DecPlan;

/* Memory plan of a run: every buffer size in floats, so the estimate and
 * the allocation agree. */
typedef struct
{
  gint64 cache;  /* all caches */
  gint64 work_x; /* x, y and t2 each */
  gint64 work_t1;
  gint64 qkv, att;
  gint64 attn_ws; /* bytes */
  gint64 conv_ws; /* bytes */
  gint64 other;   /* level outputs and small buffers */
} VaePlan;

static gboolean
check (tk_status status, const char *what, GError **error)
{
  return wan_engine_check_status (status, what, error);
}

/* Engine data */

char *
wan_engine_data_dir (void)
{
  const char *env = g_getenv ("TAKES_SOURCE_DATA");
  g_autofree char *installed = g_build_filename (PKGDATADIR, "engine", NULL);

  if (env != NULL && *env != '\0')
    return g_build_filename (env, "engine", NULL);
  if (g_file_test (installed, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&installed);
  return g_build_filename (SOURCE_DATADIR, "engine", NULL);
}

static gboolean
read_table (JsonObject *obj, const char *member, int n, float *dst, gboolean positive)
{
  JsonNode *node = json_object_get_member (obj, member);
  JsonArray *array;

  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    return FALSE;
  array = json_node_get_array (node);
  if (json_array_get_length (array) != (guint)n)
    return FALSE;
  for (int i = 0; i < n; i++)
    {
      JsonNode *v = json_array_get_element (array, (guint)i);
      GType type = JSON_NODE_HOLDS_VALUE (v) ? json_node_get_value_type (v) : G_TYPE_INVALID;
      double d;

      if (type != G_TYPE_DOUBLE && type != G_TYPE_INT64)
        return FALSE;
      d = json_node_get_double (v);
      if (!isfinite (d) || (positive && d <= 0.0))
        return FALSE;
      dst[i] = (float)d;
    }
  return TRUE;
}

gboolean
wan_vae_latents_load (
    const char *engine_data_dir, int version, int z_dim, float *mean, float *std, GError **error)
{
  g_autofree char *path = g_build_filename (engine_data_dir, WAN_VAE_LATENTS_FILE, NULL);
  g_autofree char *contents = NULL;
  g_autoptr (JsonNode) root = NULL;
  const char *key = version == 22 ? "wan2.2" : "wan2.1";
  JsonNode *entry;
  JsonObject *obj;
  gsize length = 0;

  if (!takes_engine_read_file (path, 1 << 20, &contents, &length, error))
    return FALSE;
  root = takes_engine_parse_json (contents, length, path, error);
  if (root == NULL)
    return FALSE;
  entry = JSON_NODE_HOLDS_OBJECT (root) ? json_object_get_member (json_node_get_object (root), key) : NULL;
  if (entry == NULL || !JSON_NODE_HOLDS_OBJECT (entry))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("The VAE latent table “%s” has no entry “%s”. Reinstall Takes."), path, key);
      return FALSE;
    }
  obj = json_node_get_object (entry);
  if (json_object_get_int_member_with_default (obj, "z_dim", -1) != z_dim)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_MISMATCH,
                   _ ("The VAE has %d latent channels, but the table “%s” in “%s” is for another number. Use "
                      "the VAE that belongs to the model."),
                   z_dim, key, path);
      return FALSE;
    }
  if (!read_table (obj, "mean", z_dim, mean, FALSE) || !read_table (obj, "std", z_dim, std, TRUE))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("The VAE latent table “%s” lacks %d valid “mean” and “std” values for “%s”. Reinstall "
                      "Takes."),
                   path, z_dim, key);
      return FALSE;
    }
  return TRUE;
}

/* Loading */

/* Every weight is packed into its convolution or copied, so the file's
 * pages are not read again: handing them back to the kernel as each tensor
 * is done keeps the file from adding its whole size to the peak resident
 * memory. MADV_PAGEOUT never loses data (anonymous memory, as from a file
 * read into RAM, goes to swap or stays), so it is safe whatever holds the
 * bytes; where the kernel lacks it, the call fails harmlessly. */
static void
release_tensor_pages (const WanVae *vae, const char *name)
{
#ifdef MADV_PAGEOUT
  const SafetensorsTensor *t = wan_weights_lookup (vae->weights, name);
  long page = sysconf (_SC_PAGESIZE);
  guintptr start, end;

  if (t == NULL || t->n_bytes == 0 || page <= 0)
    return;
  start = (guintptr)t->data & ~(guintptr)(page - 1);
  end = ((guintptr)t->data + t->n_bytes + (guintptr)page - 1) & ~(guintptr)(page - 1);
  (void)madvise ((void *)start, end - start, MADV_PAGEOUT);
#else
  (void)vae;
  (void)name;
#endif
}

static float *
dup_weight (WanVae *vae, const char *name, gint64 n_values, GError **error)
{
  float *data = wan_weights_dup_f32 (vae->weights, name, n_values, error);

  if (data != NULL)
    {
      release_tensor_pages (vae, name);
      vae->weight_bytes += (guint64)n_values * sizeof (float);
    }
  return data;
}

static tk_conv *
load_conv (WanVae *vae, const char *name, const tk_conv_params *p, GError **error)
{
  g_autofree char *wname = g_strdup_printf ("%s.weight", name);
  g_autofree char *bname = g_strdup_printf ("%s.bias", name);
  gint64 n = (gint64)p->out_channels * p->in_channels * p->kernel_t * p->kernel_h * p->kernel_w;
  float *weight = dup_weight (vae, wname, n, error);
  float *bias;
  tk_conv *conv = NULL;
  tk_status status;

  if (weight == NULL)
    return NULL;
  bias = dup_weight (vae, bname, p->out_channels, error);
  if (bias == NULL)
    {
      tk_aligned_free (weight);
      return NULL;
    }
  status = tk_conv_new (p, weight, bias, &conv);
  tk_aligned_free (weight);
  tk_aligned_free (bias);
  if (!check (status, name, error))
    return NULL;
  vae->conv_ws_bytes = MAX (vae->conv_ws_bytes, tk_conv_ws_bytes (conv, vae->n_threads));
  /* The copies are gone; the packing rounds the output channels up. */
  vae->weight_bytes -= (guint64)(n + p->out_channels) * sizeof (float);
  vae->weight_bytes
      += (guint64)(((p->out_channels + TK_PANEL_MR - 1) / TK_PANEL_MR) * TK_PANEL_MR * (n / p->out_channels)
                   + p->out_channels)
         * sizeof (float);
  return conv;
}

static tk_conv *
load_causal (WanVae *vae, const char *name, int cin, int cout, int k, GError **error)
{
  tk_conv_params p = tk_conv_params_causal (cin, cout, k, k, k);

  return load_conv (vae, name, &p, error);
}

static void
tap_conv_free (VaeTapConv *tc)
{
  if (tc == NULL)
    return;
  tk_conv_free (tc->taps);
  tk_aligned_free (tc->bias);
  g_free (tc);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (VaeTapConv, tap_conv_free)

/* The causal 3×3×3 convolution @name as a VaeTapConv: weight [cout, cin,
 * 3, 3, 3] becomes the per-frame weight [3·cout, cin, 1, 3, 3] with
 * row k·cout + o holding tap k of output channel o. */
static VaeTapConv *
load_tap_conv (WanVae *vae, const char *name, int cin, int cout, GError **error)
{
  g_autofree char *wname = g_strdup_printf ("%s.weight", name);
  g_autofree char *bname = g_strdup_printf ("%s.bias", name);
  gint64 k2 = 9, n = (gint64)cout * cin * 3 * k2;
  tk_conv_params p = tk_conv_params_2d (cin, 3 * cout, 3, 3, 1, 1);
  g_autoptr (VaeTapConv) tc = g_new0 (VaeTapConv, 1);
  float *weight, *rearranged;
  tk_status status;

  tc->cin = cin;
  tc->cout = cout;
  if ((weight = dup_weight (vae, wname, n, error)) == NULL)
    return NULL;
  rearranged = tk_aligned_alloc ((size_t)n * sizeof (float));
  if (rearranged == NULL)
    {
      tk_aligned_free (weight);
      check (TK_ERR_NOMEM, name, error);
      return NULL;
    }
  for (gint64 o = 0; o < cout; o++)
    for (gint64 i = 0; i < cin; i++)
      for (int k = 0; k < 3; k++)
        memcpy (rearranged + (((gint64)k * cout + o) * cin + i) * k2, weight + ((o * cin + i) * 3 + k) * k2,
                (size_t)k2 * sizeof (float));
  tk_aligned_free (weight);
  status = tk_conv_new (&p, rearranged, NULL, &tc->taps);
  tk_aligned_free (rearranged);
  vae->weight_bytes -= (guint64)n * sizeof (float);
  if (!check (status, name, error))
    return NULL;
  vae->conv_ws_bytes = MAX (vae->conv_ws_bytes, tk_conv_ws_bytes (tc->taps, vae->n_threads));
  vae->weight_bytes
      += (guint64)(((3 * cout + TK_PANEL_MR - 1) / TK_PANEL_MR) * TK_PANEL_MR * cin * k2 + 3 * cout)
         * sizeof (float);
  if ((tc->bias = dup_weight (vae, bname, cout, error)) == NULL)
    return NULL;
  return g_steal_pointer (&tc);
}

static void
res_block_clear (VaeResBlock *b)
{
  g_clear_pointer (&b->gamma1, tk_aligned_free);
  g_clear_pointer (&b->gamma2, tk_aligned_free);
  g_clear_pointer (&b->conv1, tk_conv_free);
  g_clear_pointer (&b->conv2, tk_conv_free);
  g_clear_pointer (&b->tap1, tap_conv_free);
  g_clear_pointer (&b->tap2, tap_conv_free);
  g_clear_pointer (&b->shortcut, tk_conv_free);
}

/* With @taps, a block without a shortcut gets VaeTapConvs. */
static gboolean
res_block_load (
    WanVae *vae, VaeResBlock *b, const char *prefix, int cin, int cout, gboolean taps, GError **error)
{
  g_autofree char *g1 = g_strdup_printf ("%s.residual.0.gamma", prefix);
  g_autofree char *g2 = g_strdup_printf ("%s.residual.3.gamma", prefix);
  g_autofree char *c1 = g_strdup_printf ("%s.residual.2", prefix);
  g_autofree char *c2 = g_strdup_printf ("%s.residual.6", prefix);
  g_autofree char *sc = g_strdup_printf ("%s.shortcut", prefix);

  b->cin = cin;
  b->cout = cout;
  if ((b->gamma1 = dup_weight (vae, g1, cin, error)) == NULL
      || (b->gamma2 = dup_weight (vae, g2, cout, error)) == NULL)
    return FALSE;
  if (taps && cin == cout)
    return (b->tap1 = load_tap_conv (vae, c1, cin, cout, error)) != NULL
           && (b->tap2 = load_tap_conv (vae, c2, cout, cout, error)) != NULL;
  if ((b->conv1 = load_causal (vae, c1, cin, cout, 3, error)) == NULL
      || (b->conv2 = load_causal (vae, c2, cout, cout, 3, error)) == NULL)
    return FALSE;
  if (cin != cout && (b->shortcut = load_causal (vae, sc, cin, cout, 1, error)) == NULL)
    return FALSE;
  return TRUE;
}

static void
attn_clear (VaeAttn *a)
{
  g_clear_pointer (&a->gamma, tk_aligned_free);
  g_clear_pointer (&a->qkv_w, tk_aligned_free);
  g_clear_pointer (&a->qkv_b, tk_aligned_free);
  g_clear_pointer (&a->proj_w, tk_aligned_free);
  g_clear_pointer (&a->proj_b, tk_aligned_free);
}

static gboolean
attn_load (WanVae *vae, VaeAttn *a, const char *prefix, int c, GError **error)
{
  g_autofree char *gamma = g_strdup_printf ("%s.norm.gamma", prefix);
  g_autofree char *qw = g_strdup_printf ("%s.to_qkv.weight", prefix);
  g_autofree char *qb = g_strdup_printf ("%s.to_qkv.bias", prefix);
  g_autofree char *pw = g_strdup_printf ("%s.proj.weight", prefix);
  g_autofree char *pb = g_strdup_printf ("%s.proj.bias", prefix);

  a->c = c;
  return (a->gamma = dup_weight (vae, gamma, c, error)) != NULL
         && (a->qkv_w = dup_weight (vae, qw, 3 * (gint64)c * c, error)) != NULL
         && (a->qkv_b = dup_weight (vae, qb, 3 * (gint64)c, error)) != NULL
         && (a->proj_w = dup_weight (vae, pw, (gint64)c * c, error)) != NULL
         && (a->proj_b = dup_weight (vae, pb, c, error)) != NULL;
}

static void
coder_clear (VaeCoder *c)
{
  g_clear_pointer (&c->conv_in, tk_conv_free);
  res_block_clear (&c->mid0);
  res_block_clear (&c->mid2);
  attn_clear (&c->attn);
  for (int i = 0; i < VAE_LEVELS; i++)
    {
      VaeLevel *lv = &c->levels[i];

      for (int r = 0; r < VAE_MAX_RES; r++)
        res_block_clear (&lv->res[r]);
      g_clear_pointer (&lv->resample, tk_conv_free);
      g_clear_pointer (&lv->time_conv, tk_conv_free);
    }
  g_clear_pointer (&c->head_gamma, tk_aligned_free);
  g_clear_pointer (&c->head, tk_conv_free);
  g_clear_pointer (&c->head_taps, tap_conv_free);
}

static gboolean
middle_load (WanVae *vae, VaeCoder *c, const char *part, int width, GError **error)
{
  g_autofree char *m0 = g_strdup_printf ("%s.middle.0", part);
  g_autofree char *m1 = g_strdup_printf ("%s.middle.1", part);
  g_autofree char *m2 = g_strdup_printf ("%s.middle.2", part);

  return res_block_load (vae, &c->mid0, m0, width, width, FALSE, error)
         && attn_load (vae, &c->attn, m1, width, error)
         && res_block_load (vae, &c->mid2, m2, width, width, FALSE, error);
}

static char *
block_name (const WanVae *vae, const char *part, int level, int index, int *flat)
{
  const char *list = g_str_equal (part, "encoder") ? "downsamples" : "upsamples";

  if (vae->config.version == 22)
    return g_strdup_printf ("%s.%s.%d.%s.%d", part, list, level, list, index);
  return g_strdup_printf ("%s.%s.%d", part, list, (*flat)++);
}

/* Loads the level's residual blocks, numbered on from *@index; the first
 * takes lv->cin channels, the others lv->cres. */
static gboolean
level_res_load (WanVae *vae, VaeLevel *lv, const char *part, int level, int *index, int *flat, GError **error)
{
  if (lv->n_res > VAE_MAX_RES)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
                   _ ("The VAE in “%s” has more residual blocks per level than the engine reads. Use an "
                      "official Wan VAE."),
                   wan_weights_get_path (vae->weights));
      return FALSE;
    }
  for (int r = 0; r < lv->n_res; r++)
    {
      g_autofree char *prefix = block_name (vae, part, level, (*index)++, flat);

      if (!res_block_load (vae, &lv->res[r], prefix, r == 0 ? lv->cin : lv->cres, lv->cres,
                           vae->convs != WAN_VAE_CONVS_INPUT_CACHES && g_str_equal (part, "decoder"), error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
resample_load (WanVae *vae, VaeLevel *lv, const char *prefix, GError **error)
{
  g_autofree char *conv = g_strdup_printf ("%s.resample.1", prefix);
  g_autofree char *time = g_strdup_printf ("%s.time_conv", prefix);
  gboolean up = lv->mode == VAE_RESAMPLE_UP2D || lv->mode == VAE_RESAMPLE_UP3D;
  tk_conv_params p;

  if (up)
    {
      p = tk_conv_params_2d (lv->cres, lv->cout, 3, 3, 1, 1);
    }
  else
    {
      /* ZeroPad2d (0, 1, 0, 1), then a stride-2 3×3 convolution. */
      p = tk_conv_params_2d (lv->cres, lv->cout, 3, 3, 2, 0);
      p.pad_bottom = 1;
      p.pad_right = 1;
    }
  if ((lv->resample = load_conv (vae, conv, &p, error)) == NULL)
    return FALSE;
  if (lv->mode == VAE_RESAMPLE_UP3D)
    {
      p = tk_conv_params_causal (lv->cres, 2 * lv->cres, 3, 1, 1);
      lv->time_conv = load_conv (vae, time, &p, error);
    }
  else if (lv->mode == VAE_RESAMPLE_DOWN3D)
    {
      /* Stride 2 in time, no padding: it runs on [previous frame ‖ chunk]. */
      memset (&p, 0, sizeof p);
      p.in_channels = lv->cres;
      p.out_channels = lv->cres;
      p.kernel_t = 3;
      p.kernel_h = 1;
      p.kernel_w = 1;
      p.stride_t = 2;
      p.stride_h = 1;
      p.stride_w = 1;
      lv->time_conv = load_conv (vae, time, &p, error);
    }
  else
    {
      return TRUE;
    }
  return lv->time_conv != NULL;
}

/* DupUp3D repeats each input channel cout·factor/cin times; AvgDown3D
 * averages groups of cin·factor/cout channels. */
static gboolean
shortcut_fits (const VaeLevel *lv, gboolean up)
{
  gint64 factor = (gint64)lv->ft * lv->fs * lv->fs;

  if (!lv->shortcut)
    return TRUE;
  return up ? ((gint64)lv->cout * factor) % lv->cin == 0 : ((gint64)lv->cin * factor) % lv->cout == 0;
}

static gboolean
decoder_load (WanVae *vae, GError **error)
{
  const WanVaeConfig *cfg = &vae->config;
  VaeCoder *c = &vae->dec;
  const gboolean t_up[3] = { TRUE, TRUE, FALSE };
  int dims[VAE_LEVELS + 1];
  int flat = 0;
  tk_conv_params p;

  dims[0] = cfg->dec_dim * cfg->dim_mult[3];
  for (int i = 0; i < VAE_LEVELS; i++)
    dims[i + 1] = cfg->dec_dim * cfg->dim_mult[3 - i];

  c->c_io = 3 * vae->patch * vae->patch;
  p = tk_conv_params_causal (cfg->z_dim, cfg->z_dim, 1, 1, 1);
  if ((vae->conv2 = load_conv (vae, "conv2", &p, error)) == NULL
      || (c->conv_in = load_causal (vae, "decoder.conv1", cfg->z_dim, dims[0], 3, error)) == NULL
      || !middle_load (vae, c, "decoder", dims[0], error))
    return FALSE;

  for (int i = 0; i < VAE_LEVELS; i++)
    {
      VaeLevel *lv = &c->levels[i];
      int in = dims[i];
      int j = 0;

      /* The 2.1 upsamplers halve the width, so the next level starts at half. */
      if (cfg->version == 21 && i > 0)
        in /= 2;
      lv->cin = in;
      lv->cres = dims[i + 1];
      lv->n_res = cfg->num_res_blocks + 1;
      if (!level_res_load (vae, lv, "decoder", i, &j, &flat, error))
        return FALSE;
      lv->cout = lv->cres;
      lv->mode = VAE_RESAMPLE_NONE;
      if (i < VAE_LEVELS - 1)
        {
          g_autofree char *prefix = block_name (vae, "decoder", i, j++, &flat);

          lv->mode = t_up[i] ? VAE_RESAMPLE_UP3D : VAE_RESAMPLE_UP2D;
          lv->cout = cfg->version == 21 ? lv->cres / 2 : lv->cres;
          if (!resample_load (vae, lv, prefix, error))
            return FALSE;
          if (cfg->version == 22)
            {
              lv->shortcut = TRUE;
              lv->ft = t_up[i] ? 2 : 1;
              lv->fs = 2;
            }
        }
      if (!shortcut_fits (lv, TRUE))
        {
          g_set_error (
              error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
              _ ("“%s” has VAE layers of impossible widths. The file is damaged; download it again."),
              wan_weights_get_path (vae->weights));
          return FALSE;
        }
    }
  c->c_head = c->levels[VAE_LEVELS - 1].cout;
  if ((c->head_gamma = dup_weight (vae, "decoder.head.0.gamma", c->c_head, error)) == NULL)
    return FALSE;
  if (vae->convs == WAN_VAE_CONVS_PARTIAL_OUTPUTS
      || (vae->convs == WAN_VAE_CONVS_LEAST_MEMORY && c->c_io <= c->c_head))
    return (c->head_taps = load_tap_conv (vae, "decoder.head.2", c->c_head, c->c_io, error)) != NULL;
  return (c->head = load_causal (vae, "decoder.head.2", c->c_head, c->c_io, 3, error)) != NULL;
}

static gboolean
encoder_load (WanVae *vae, GError **error)
{
  const WanVaeConfig *cfg = &vae->config;
  VaeCoder *c = &vae->enc;
  const gboolean t_down[3] = { FALSE, TRUE, TRUE };
  int dims[VAE_LEVELS + 1];
  int flat = 0;
  tk_conv_params p;

  dims[0] = cfg->dim;
  for (int i = 0; i < VAE_LEVELS; i++)
    dims[i + 1] = cfg->dim * cfg->dim_mult[i];

  c->c_io = 3 * vae->patch * vae->patch;
  if ((c->conv_in = load_causal (vae, "encoder.conv1", c->c_io, dims[0], 3, error)) == NULL)
    return FALSE;
  for (int i = 0; i < VAE_LEVELS; i++)
    {
      VaeLevel *lv = &c->levels[i];
      int j = 0;

      lv->cin = dims[i];
      lv->cres = dims[i + 1];
      lv->cout = dims[i + 1];
      lv->n_res = cfg->num_res_blocks;
      if (!level_res_load (vae, lv, "encoder", i, &j, &flat, error))
        return FALSE;
      lv->mode = VAE_RESAMPLE_NONE;
      if (i < VAE_LEVELS - 1)
        {
          g_autofree char *prefix = block_name (vae, "encoder", i, j++, &flat);

          lv->mode = t_down[i] ? VAE_RESAMPLE_DOWN3D : VAE_RESAMPLE_DOWN2D;
          if (!resample_load (vae, lv, prefix, error))
            return FALSE;
        }
      if (cfg->version == 22)
        {
          lv->shortcut = TRUE;
          lv->ft = i < VAE_LEVELS - 1 && t_down[i] ? 2 : 1;
          lv->fs = i < VAE_LEVELS - 1 ? 2 : 1;
        }
      if (!shortcut_fits (lv, FALSE))
        {
          g_set_error (
              error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
              _ ("“%s” has VAE layers of impossible widths. The file is damaged; download it again."),
              wan_weights_get_path (vae->weights));
          return FALSE;
        }
    }
  if (!middle_load (vae, c, "encoder", dims[VAE_LEVELS], error))
    return FALSE;
  c->c_head = dims[VAE_LEVELS];
  p = tk_conv_params_causal (2 * cfg->z_dim, 2 * cfg->z_dim, 1, 1, 1);
  if ((c->head_gamma = dup_weight (vae, "encoder.head.0.gamma", c->c_head, error)) == NULL
      || (c->head = load_causal (vae, "encoder.head.2", c->c_head, 2 * cfg->z_dim, 3, error)) == NULL
      || (vae->conv1 = load_conv (vae, "conv1", &p, error)) == NULL)
    return FALSE;
  return TRUE;
}

void
wan_vae_free (WanVae *vae)
{
  if (vae == NULL)
    return;
  coder_clear (&vae->dec);
  coder_clear (&vae->enc);
  tk_conv_free (vae->conv1);
  tk_conv_free (vae->conv2);
  tk_aligned_free (vae->mean);
  tk_aligned_free (vae->inv_std);
  tk_conv_ws_free (vae->conv_ws);
  tk_pool_free (vae->pool);
  g_free (vae);
}

WanVae *
wan_vae_new_with_convs (
    WanWeights *weights, int n_threads, const char *engine_data_dir, WanVaeConvs convs, GError **error)
{
  g_autoptr (WanVae) vae = NULL;
  g_autofree char *default_dir = NULL;
  g_autofree float *std = NULL;
  const WanVaeConfig *cfg;

  g_return_val_if_fail (weights != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  cfg = wan_weights_get_vae_config (weights);
  if (cfg == NULL)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_MISMATCH,
                   _ ("“%s” is not a Wan VAE. Choose the VAE file of the model."),
                   wan_weights_get_path (weights));
      return NULL;
    }
  if (cfg->version != 21 && cfg->version != 22)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
                   _ ("“%s” is a VAE of a design the engine does not know. Use the Wan2.1 or Wan2.2 VAE."),
                   wan_weights_get_path (weights));
      return NULL;
    }

  vae = g_new0 (WanVae, 1);
  vae->weights = weights;
  vae->config = *cfg;
  vae->convs = convs;
  vae->patch = cfg->version == 22 ? 2 : 1;
  vae->factor = 8 * vae->patch;
  vae->n_threads = n_threads > 0 ? n_threads : tk_cpu_count ();
  vae->pool = tk_pool_new (vae->n_threads);
  vae->conv_ws = tk_conv_ws_new (vae->n_threads);
  vae->mean = tk_aligned_calloc ((size_t)cfg->z_dim, sizeof (float));
  vae->inv_std = tk_aligned_calloc ((size_t)cfg->z_dim, sizeof (float));
  std = g_new (float, cfg->z_dim);
  if (vae->pool == NULL || vae->conv_ws == NULL || vae->mean == NULL || vae->inv_std == NULL)
    {
      check (TK_ERR_NOMEM, "VAE", error);
      return NULL;
    }
  if (engine_data_dir == NULL)
    engine_data_dir = default_dir = wan_engine_data_dir ();
  if (!wan_vae_latents_load (engine_data_dir, cfg->version, cfg->z_dim, vae->mean, std, error))
    return NULL;
  for (int i = 0; i < cfg->z_dim; i++)
    vae->inv_std[i] = 1.0f / std[i];

  tk_blas_single_threaded ();
  if (!decoder_load (vae, error))
    return NULL;
  if (cfg->has_encoder && !encoder_load (vae, error))
    return NULL;
  return g_steal_pointer (&vae);
}

WanVae *
wan_vae_new_with_data (WanWeights *weights, int n_threads, const char *engine_data_dir, GError **error)
{
  return wan_vae_new_with_convs (weights, n_threads, engine_data_dir, WAN_VAE_CONVS_LEAST_MEMORY, error);
}

WanVae *
wan_vae_new (WanWeights *weights, int n_threads, GError **error)
{
  return wan_vae_new_with_data (weights, n_threads, NULL, error);
}

const WanVaeConfig *
wan_vae_get_config (const WanVae *vae)
{
  g_return_val_if_fail (vae != NULL, NULL);
  return &vae->config;
}

int
wan_vae_get_spatial_factor (const WanVae *vae)
{
  g_return_val_if_fail (vae != NULL, 0);
  return vae->factor;
}

guint64
wan_vae_get_weight_bytes (const WanVae *vae)
{
  g_return_val_if_fail (vae != NULL, 0);
  return vae->weight_bytes;
}

int
wan_vae_get_z_dim (const WanVae *vae)
{
  g_return_val_if_fail (vae != NULL, 0);
  return vae->config.z_dim;
}

/* Building blocks */

/* RMS_norm then SiLU, over [c, spatial] channels-first. */
static gboolean
norm_silu (
    WanVae *vae, const float *x, float *y, gint64 c, gint64 spatial, const float *gamma, GError **error)
{
  return check (tk_l2_norm_channels (vae->pool, x, y, c, spatial, gamma, VAE_NORM_EPS), "VAE norm", error)
         && check (tk_silu (vae->pool, y, y, c * spatial), "VAE SiLU", error);
}

static gboolean
conv (WanVae *vae,
      const tk_conv *cv,
      tk_conv_cache *cache,
      const float *in,
      gint64 n,
      gint64 h,
      gint64 w,
      float *out,
      GError **error)
{
  return check (tk_conv_forward (cv, vae->pool, vae->conv_ws, cache, in, n, h, w, out), "VAE convolution",
                error);
}

/* out = block (x) on [cin, n, h, w]; t1 and t2 are scratch; out must not be x. */
static gboolean
res_forward (WanVae *vae,
             const VaeResBlock *b,
             ResCache *rc,
             const float *x,
             float *out,
             gint64 n,
             gint64 h,
             gint64 w,
             Work *work,
             GError **error)
{
  gint64 sp = n * h * w;

  if (!norm_silu (vae, x, work->t1, b->cin, sp, b->gamma1, error)
      || !conv (vae, b->conv1, rc->c1, work->t1, n, h, w, work->t2, error)
      || !norm_silu (vae, work->t2, work->t2, b->cout, sp, b->gamma2, error)
      || !conv (vae, b->conv2, rc->c2, work->t2, n, h, w, out, error))
    return FALSE;
  if (b->shortcut != NULL)
    {
      if (!conv (vae, b->shortcut, NULL, x, n, h, w, work->t1, error))
        return FALSE;
      return check (tk_add (vae->pool, out, work->t1, out, b->cout * sp), "VAE residual", error);
    }
  return check (tk_add (vae->pool, out, x, out, b->cout * sp), "VAE residual", error);
}

/* Runs the level's residual blocks from x, alternating between work->x and
 * work->y, the last one into @final when given. Returns the output. */
static float *
res_chain (WanVae *vae,
           const VaeLevel *lv,
           LevelCache *lc,
           const float *x,
           float *final,
           gint64 n,
           gint64 h,
           gint64 w,
           Work *work,
           GError **error)
{
  const float *cur = x;
  float *dst = NULL;

  for (int r = 0; r < lv->n_res; r++)
    {
      dst = r == lv->n_res - 1 && final != NULL ? final : cur == work->x ? work->y : work->x;
      if (!res_forward (vae, &lv->res[r], &lc->res[r], cur, dst, n, h, w, work, error))
        return NULL;
      cur = dst;
    }
  return dst;
}

/* The middle attention, frame by frame, on x [c, n, h, w] into out. */
static gboolean
attn_forward (WanVae *vae,
              const VaeAttn *a,
              const float *x,
              float *out,
              gint64 n,
              gint64 h,
              gint64 w,
              Work *work,
              GError **error)
{
  gint64 hw = h * w;
  gint64 c = a->c;
  tk_attention_args args;

  if (!check (tk_l2_norm_channels (vae->pool, x, work->t1, c, n * hw, a->gamma, VAE_NORM_EPS), "VAE norm",
              error))
    return FALSE;
  for (gint64 f = 0; f < n; f++)
    {
      /* Tokens [hw, 3c] = normalised frameᵀ · Wᵀ + b: q, k and v are the
       * three channel blocks of the 1×1 convolution, in that order. */
      if (!check (tk_gemm_f32 (vae->pool, 1, 1, hw, 3 * c, c, 1.0f, work->t1 + f * hw, n * hw, a->qkv_w, c,
                               0.0f, work->qkv, 3 * c),
                  "VAE attention", error)
          || !check (tk_add_row (vae->pool, work->qkv, a->qkv_b, work->qkv, hw, 3 * c), "VAE attention",
                     error))
        return FALSE;
      tk_attention_args_init (&args);
      args.lq = hw;
      args.lk = hw;
      args.heads = 1;
      args.head_dim = (int)c;
      args.q = work->qkv;
      args.k = work->qkv + c;
      args.v = work->qkv + 2 * c;
      args.ldq = args.ldk = args.ldv = 3 * c;
      args.out = work->att;
      args.ldo = c;
      if (!check (tk_attention_forward (work->attn_ws, vae->pool, &args), "VAE attention", error))
        return FALSE;
      /* Back to channels-first: out[:, f] = W_proj · attᵀ, then + b + x. */
      if (!check (tk_gemm_f32 (vae->pool, 0, 1, c, hw, c, 1.0f, a->proj_w, c, work->att, c, 0.0f,
                               out + f * hw, n * hw),
                  "VAE attention", error))
        return FALSE;
      /* Channels of one frame are n·hw apart. */
      for (gint64 ch = 0; ch < c; ch++)
        {
          float *o = out + ch * n * hw + f * hw;
          const float *xi = x + ch * n * hw + f * hw;
          float bv = a->proj_b[ch];

          for (gint64 i = 0; i < hw; i++)
            o[i] = (o[i] + bv) + xi[i];
        }
    }
  return TRUE;
}

/* The middle: residual, attention, residual; x to @final. */
static gboolean
middle_forward (WanVae *vae,
                const VaeCoder *c,
                CoderCache *cc,
                const float *x,
                float *final,
                gint64 n,
                gint64 h,
                gint64 w,
                Work *work,
                GError **error)
{
  return res_forward (vae, &c->mid0, &cc->mid0, x, work->x, n, h, w, work, error)
         && attn_forward (vae, &c->attn, work->x, work->y, n, h, w, work, error)
         && res_forward (vae, &c->mid2, &cc->mid2, work->y, final, n, h, w, work, error);
}

/* Wan2.2's DupUp3D shortcut for one output frame: frame @a of the
 * time-expanded shortcut of x [cin, 1, h, w] is added to out [cout, 1, h·fs,
 * w·fs]. Channel k of the repeated input holds input channel k / repeats and
 * lands on (channel, time, row, column) offsets k = ((c·ft + a)·fs + q)·fs + r. */
typedef struct
{
  const float *x;
  float *out;
  gint64 h, w, repeats;
  int ft, fs, a;
} DupUpJob;

static void
dup_up_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const DupUpJob *job = data;
  gint64 oh = job->h * job->fs, ow = job->w * job->fs;

  (void)thread_index;
  for (int64_t row = start; row < end; row++)
    {
      gint64 c = row / oh, y = row % oh;
      float *o = job->out + row * ow;
      gint64 base = ((c * job->ft + job->a) * job->fs + y % job->fs) * job->fs;

      for (gint64 xo = 0; xo < ow; xo++)
        {
          gint64 k = base + xo % job->fs;
          const float *src = job->x + (k / job->repeats) * job->h * job->w;

          o[xo] = o[xo] + src[(y / job->fs) * job->w + xo / job->fs];
        }
    }
}

static void
dup_up_add (WanVae *vae, const VaeLevel *lv, const float *x, gint64 h, gint64 w, int a, float *out)
{
  DupUpJob job = { .x = x,
                   .out = out,
                   .h = h,
                   .w = w,
                   .repeats = (gint64)lv->cout * lv->ft * lv->fs * lv->fs / lv->cin,
                   .ft = lv->ft,
                   .fs = lv->fs,
                   .a = a };

  tk_pool_parallel_for (vae->pool, (gint64)lv->cout * h * lv->fs, 16, dup_up_cb, &job);
}

/* Memory plans */

static gint64
max64 (gint64 a, gint64 b)
{
  return a > b ? a : b;
}

static void
plan_res (const VaeResBlock *b, gint64 hw, gint64 n, VaePlan *plan)
{
  /* Two frames of each convolution's input. */
  plan->cache += 2 * hw * (b->cin + b->cout);
  plan->work_x = max64 (plan->work_x, n * hw * max64 (b->cin, b->cout));
  plan->work_t1 = max64 (plan->work_t1, n * hw * max64 (b->cin, b->cout));
}

static gint64
attn_ws_bytes (gint64 c, gint64 hw, int n_threads)
{
  /* Keys and values repacked, plus per-thread tiles. */
  return (gint64)sizeof (float) * (2 * (hw + 64) * (c + 8) + (gint64)n_threads * 3 * 64 * (c + 64));
}

static void
plan_middle (const VaeCoder *c, gint64 hw, VaePlan *plan, int n_threads)
{
  gint64 cm = c->attn.c;

  plan_res (&c->mid0, hw, 1, plan);
  plan_res (&c->mid2, hw, 1, plan);
  plan->qkv = 3 * cm * hw;
  plan->att = cm * hw;
  plan->attn_ws = attn_ws_bytes (cm, hw, n_threads);
}

/* The parts of the decoder: what runs at latent size (conv2, conv1 and the
 * middle with its attention over the whole frame), and the levels and the
 * head. A tiled decode runs the first on whole frames and the second on
 * tiles. */
enum
{
  DEC_MIDDLE = 1 << 0,
  DEC_LEVELS = 1 << 1,
  DEC_ALL = DEC_MIDDLE | DEC_LEVELS,
};

/* A VaeTapConv's bands on a frame of width @w: its normalised input and
 * its 3·cout outputs. */
static void
plan_tap (const VaeTapConv *tc, gint64 h, gint64 w, DecPlan *plan)
{
  gint64 rows = MIN (VAE_TAP_ROWS, h) + 2;

  plan->band_out = max64 (plan->band_out, tc->cin * rows * w);
  plan->band = max64 (plan->band, 3 * tc->cout * rows * w);
}

/* The decoder's @parts at latent size h × w, one latent frame at a time. */
static void
plan_decoder (const WanVae *vae, gint64 h, gint64 w, int parts, DecPlan *plan, gint64 *res_h, gint64 *res_w)
{
  const VaeCoder *c = &vae->dec;
  gint64 hw0 = h * w;
  gint64 z = vae->config.z_dim;
  gint64 cm = c->attn.c;
  gboolean uses3[VAE_LEVELS] = { FALSE };
  gboolean deeper3;

  memset (plan, 0, sizeof *plan);
  for (int i = 0; i <= VAE_LEVELS; i++)
    {
      int shift = MIN (i, VAE_LEVELS - 1);

      res_h[i] = h << shift;
      res_w[i] = w << shift;
    }
  if (parts & DEC_MIDDLE)
    {
      plan->z = z * hw0;
      /* conv_in, then the middle's two residual blocks, two frames per input. */
      plan->cache_part[0] = 2 * hw0 * z + 2 * (2 * hw0 * 2 * cm);
      plan->frame = max64 (z, cm) * hw0;
      plan->frame3 = plan->frame;
      plan->qkv = 3 * cm * hw0;
      plan->att = cm * hw0;
      plan->attn_ws = attn_ws_bytes (cm, hw0, vae->n_threads);
      /* Counted once in a tiled decode, which plans the middle and the
       * levels apart. */
      plan->conv_ws = (gint64)vae->conv_ws_bytes;
    }
  if (parts & DEC_LEVELS)
    {
      for (int i = 0; i < VAE_LEVELS; i++)
        {
          const VaeLevel *lv = &c->levels[i];
          gint64 hw = res_h[i] * res_w[i];

          for (int r = 0; r < lv->n_res; r++)
            {
              const VaeResBlock *b = &lv->res[r];

              plan->frame = max64 (plan->frame, hw * max64 (b->cin, b->cout));
              if (b->tap1 != NULL)
                {
                  plan->cache_part[1 + i] += 2 * hw * 2 * b->cout;
                  plan_tap (b->tap1, res_h[i], res_w[i], plan);
                  plan_tap (b->tap2, res_h[i], res_w[i], plan);
                }
              else
                {
                  plan->cache_part[1 + i] += 2 * hw * (b->cin + b->cout);
                  plan->frame3 = max64 (plan->frame3, hw * b->cout);
                  uses3[i] = TRUE;
                }
            }
          if (lv->shortcut)
            plan->keep[i] = lv->cin * hw;
          if (lv->mode == VAE_RESAMPLE_UP3D)
            {
              plan->cache_part[1 + i] += 2 * hw * lv->cres;
              plan->pend[i] = 2 * lv->cres * hw;
            }
          if (lv->mode != VAE_RESAMPLE_NONE)
            {
              gint64 rows = MIN (VAE_BAND_ROWS + 2, 2 * res_h[i]);

              plan->band = max64 (plan->band, lv->cres * rows * 2 * res_w[i]);
              plan->band_out = max64 (plan->band_out, lv->cout * rows * 2 * res_w[i]);
              plan->frame = max64 (plan->frame, lv->cout * 4 * hw);
            }
        }
      {
        gint64 hw = res_h[VAE_LEVELS] * res_w[VAE_LEVELS];

        plan->frame = max64 (plan->frame, hw * max64 (c->c_head, c->c_io));
        if (c->head_taps != NULL)
          {
            plan->cache_part[VAE_LEVELS + 1] = 2 * hw * c->c_io;
            plan_tap (c->head_taps, res_h[VAE_LEVELS], res_w[VAE_LEVELS], plan);
            deeper3 = FALSE;
          }
        else
          {
            plan->cache_part[VAE_LEVELS + 1] = 2 * hw * c->c_head;
            plan->frame3 = max64 (plan->frame3, hw * c->c_io);
            deeper3 = TRUE;
          }
      }
      /* An upsample3d's frames wait in buf[2] while no deeper level uses it. */
      for (int i = VAE_LEVELS - 1; i >= 0; i--)
        {
          if (plan->pend[i] > 0 && !deeper3)
            {
              plan->frame3 = max64 (plan->frame3, plan->pend[i]);
              plan->pend[i] = 0;
              deeper3 = TRUE;
            }
          deeper3 = deeper3 || uses3[i];
        }
    }
  for (int i = 0; i < VAE_LEVELS + 2; i++)
    plan->cache += plan->cache_part[i];
}

static guint64
dec_plan_bytes (const DecPlan *plan)
{
  gint64 floats = plan->cache + 2 * plan->frame + plan->frame3 + plan->band + plan->band_out + plan->z
                  + plan->qkv + plan->att;

  for (int i = 0; i < VAE_LEVELS; i++)
    floats += plan->pend[i] + plan->keep[i];
  return (guint64)sizeof (float) * (guint64)floats + (guint64)plan->attn_ws + (guint64)plan->conv_ws;
}

/* The encoder on video H × W, chunks of up to @chunk frames. */
static void
plan_encoder (const WanVae *vae,
              gint64 H,
              gint64 W,
              gint64 chunk,
              VaePlan *plan,
              gint64 *res_h,
              gint64 *res_w,
              gint64 *frames)
{
  const VaeCoder *c = &vae->enc;
  gint64 h0 = H / vae->patch, w0 = W / vae->patch;
  gint64 hw_last;

  memset (plan, 0, sizeof *plan);
  plan->conv_ws = (gint64)vae->conv_ws_bytes;
  for (int i = 0; i <= VAE_LEVELS; i++)
    {
      int shift = MIN (i, VAE_LEVELS - 1);

      res_h[i] = h0 >> shift;
      res_w[i] = w0 >> shift;
    }
  frames[0] = chunk;
  frames[1] = chunk;
  frames[2] = chunk > 1 ? 2 : 1;
  frames[3] = 1;
  frames[4] = 1;
  /* The chunk as given and patchified, and the first convolution's output. */
  plan->other += 2 * 3 * chunk * H * W + chunk * h0 * w0 * c->levels[0].cin;
  plan->cache += 2 * h0 * w0 * c->c_io;
  for (int i = 0; i < VAE_LEVELS; i++)
    {
      const VaeLevel *lv = &c->levels[i];
      gint64 hw = res_h[i] * res_w[i];
      gint64 n = frames[i];

      for (int r = 0; r < lv->n_res; r++)
        plan_res (&lv->res[r], hw, n, plan);
      plan->other += frames[i + 1] * lv->cout * res_h[i + 1] * res_w[i + 1];
      if (lv->mode == VAE_RESAMPLE_DOWN3D)
        plan->other += lv->cres * res_h[i + 1] * res_w[i + 1];
    }
  hw_last = res_h[VAE_LEVELS] * res_w[VAE_LEVELS];
  plan_middle (c, hw_last, plan, vae->n_threads);
  plan->other += (gint64)c->attn.c * hw_last;
  plan->cache += 2 * hw_last * c->c_head;
  plan->work_t1 = max64 (plan->work_t1, max64 (hw_last * c->c_head, hw_last * 2 * vae->config.z_dim));
  plan->work_x = max64 (plan->work_x, hw_last * 2 * vae->config.z_dim);
}

static guint64
plan_bytes (const VaePlan *plan)
{
  return (guint64)sizeof (float)
             * (guint64)(plan->cache + 3 * plan->work_x + plan->work_t1 + plan->qkv + plan->att + plan->other)
         + (guint64)plan->attn_ws + (guint64)plan->conv_ws;
}

/* Latent sizes the engine takes: far beyond any real video, small enough
 * that no size computation overflows. */
#define VAE_MAX_LATENT_SIDE 8192
#define VAE_MAX_LATENT_FRAMES (1 << 20)

static gboolean
latent_ok (int T, int h, int w)
{
  return T >= 1 && T <= VAE_MAX_LATENT_FRAMES && h >= 1 && h <= VAE_MAX_LATENT_SIDE && w >= 1
         && w <= VAE_MAX_LATENT_SIDE;
}

guint64
wan_vae_estimate_decode_bytes (const WanVae *vae, int T, int h, int w)
{
  DecPlan plan;
  gint64 res_h[VAE_LEVELS + 1], res_w[VAE_LEVELS + 1];
  guint64 video;

  g_return_val_if_fail (vae != NULL, 0);
  if (!latent_ok (T, h, w))
    return 0;
  plan_decoder (vae, h, w, DEC_ALL, &plan, res_h, res_w);
  video = (guint64)3 * (guint64)(1 + 4 * (gint64)(T - 1)) * (guint64)h * (guint64)w * (guint64)vae->factor
          * (guint64)vae->factor * sizeof (float);
  return dec_plan_bytes (&plan) + video;
}

guint64
wan_vae_estimate_decoder_bytes (const WanVae *vae, int h, int w)
{
  DecPlan plan;
  gint64 res_h[VAE_LEVELS + 1], res_w[VAE_LEVELS + 1];

  g_return_val_if_fail (vae != NULL, 0);
  if (!latent_ok (1, h, w))
    return 0;
  plan_decoder (vae, h, w, DEC_ALL, &plan, res_h, res_w);
  return dec_plan_bytes (&plan);
}

gboolean
wan_vae_decoder_memory (const WanVae *vae, int h, int w, WanVaeDecoderMemory *mem)
{
  DecPlan plan;
  gint64 res_h[VAE_LEVELS + 1], res_w[VAE_LEVELS + 1];
  const guint64 f = sizeof (float);

  g_return_val_if_fail (vae != NULL && mem != NULL, FALSE);
  memset (mem, 0, sizeof *mem);
  if (!latent_ok (1, h, w))
    return FALSE;
  plan_decoder (vae, h, w, DEC_ALL, &plan, res_h, res_w);
  mem->caches_middle = f * (guint64)plan.cache_part[0];
  for (int i = 0; i < VAE_LEVELS; i++)
    {
      mem->caches_level[i] = f * (guint64)plan.cache_part[1 + i];
      mem->pending += f * (guint64)(plan.pend[i] + plan.keep[i]);
    }
  mem->caches_head = f * (guint64)plan.cache_part[VAE_LEVELS + 1];
  mem->largest_frame = f * (guint64)plan.frame;
  mem->third_frame = f * (guint64)plan.frame3;
  mem->frames = 2 * mem->largest_frame + mem->third_frame;
  mem->bands = f * (guint64)(plan.band + plan.band_out);
  mem->latent = f * (guint64)(plan.z + plan.qkv + plan.att) + (guint64)plan.attn_ws;
  mem->workspace = (guint64)plan.conv_ws;
  return TRUE;
}

static gboolean
video_ok (const WanVae *vae, int F, int H, int W)
{
  return F >= 1 && (F - 1) % 4 == 0 && H >= vae->factor && W >= vae->factor && H % vae->factor == 0
         && W % vae->factor == 0 && latent_ok (1 + (F - 1) / 4, H / vae->factor, W / vae->factor);
}

guint64
wan_vae_estimate_encode_bytes (const WanVae *vae, int F, int H, int W)
{
  VaePlan plan;
  gint64 res_h[VAE_LEVELS + 1], res_w[VAE_LEVELS + 1], frames[VAE_LEVELS + 1];
  guint64 io;

  g_return_val_if_fail (vae != NULL, 0);
  if (!video_ok (vae, F, H, W) || !vae->config.has_encoder)
    return 0;
  plan_encoder (vae, H, W, F > 1 ? VAE_CHUNK : 1, &plan, res_h, res_w, frames);
  io = (guint64)sizeof (float)
       * ((guint64)3 * (guint64)F * (guint64)H * (guint64)W
          + (guint64)vae->config.z_dim * (guint64)(1 + (F - 1) / 4) * (guint64)(H / vae->factor)
                * (guint64)(W / vae->factor));
  return plan_bytes (&plan) + io;
}

/* Run state */

static float *
alloc_floats (gint64 n, gboolean *ok)
{
  float *p = tk_aligned_alloc ((size_t)MAX (n, 1) * sizeof (float));

  if (p == NULL)
    *ok = FALSE;
  return p;
}

static tk_conv_cache *
alloc_cache (int channels, gint64 h, gint64 w, gboolean *ok)
{
  tk_conv_cache *cache = tk_conv_cache_new (channels, 2, h, w);

  if (cache == NULL)
    *ok = FALSE;
  return cache;
}

static void
tap_acc_reset (TapAcc *ta)
{
  ta->ring = 0;
  ta->any = FALSE;
}

static void
tap_acc_init (const VaeTapConv *tc, TapAcc *ta, gint64 h, gint64 w, gboolean *ok)
{
  ta->acc = alloc_floats (2 * tc->cout * h * w, ok);
  tap_acc_reset (ta);
}

static void
res_cache_init (const VaeResBlock *b, ResCache *rc, gint64 h, gint64 w, gboolean *ok)
{
  if (b->tap1 != NULL)
    {
      tap_acc_init (b->tap1, &rc->a1, h, w, ok);
      tap_acc_init (b->tap2, &rc->a2, h, w, ok);
      return;
    }
  rc->c1 = alloc_cache (b->cin, h, w, ok);
  rc->c2 = alloc_cache (b->cout, h, w, ok);
}

static void
res_cache_clear (ResCache *rc)
{
  g_clear_pointer (&rc->c1, tk_conv_cache_free);
  g_clear_pointer (&rc->c2, tk_conv_cache_free);
  g_clear_pointer (&rc->a1.acc, tk_aligned_free);
  g_clear_pointer (&rc->a2.acc, tk_aligned_free);
}

static void
coder_cache_clear (CoderCache *cc)
{
  g_clear_pointer (&cc->conv_in, tk_conv_cache_free);
  res_cache_clear (&cc->mid0);
  res_cache_clear (&cc->mid2);
  for (int i = 0; i < VAE_LEVELS; i++)
    {
      for (int r = 0; r < VAE_MAX_RES; r++)
        res_cache_clear (&cc->levels[i].res[r]);
      g_clear_pointer (&cc->levels[i].time, tk_conv_cache_free);
      g_clear_pointer (&cc->levels[i].prev, tk_aligned_free);
    }
  g_clear_pointer (&cc->head, tk_conv_cache_free);
  g_clear_pointer (&cc->head_acc.acc, tk_aligned_free);
}

static void
work_init (Work *work, const VaePlan *plan, int n_threads, gint64 hw_mid, int c_mid, gboolean *ok)
{
  work->x = alloc_floats (plan->work_x, ok);
  work->y = alloc_floats (plan->work_x, ok);
  work->t2 = alloc_floats (plan->work_x, ok);
  work->t1 = alloc_floats (plan->work_t1, ok);
  work->qkv = alloc_floats (plan->qkv, ok);
  work->att = alloc_floats (plan->att, ok);
  work->attn_ws = tk_attention_ws_new (n_threads, hw_mid, hw_mid, 1, c_mid);
  if (work->attn_ws == NULL)
    *ok = FALSE;
}

static void
work_clear (Work *work)
{
  g_clear_pointer (&work->x, tk_aligned_free);
  g_clear_pointer (&work->y, tk_aligned_free);
  g_clear_pointer (&work->t1, tk_aligned_free);
  g_clear_pointer (&work->t2, tk_aligned_free);
  g_clear_pointer (&work->qkv, tk_aligned_free);
  g_clear_pointer (&work->att, tk_aligned_free);
  g_clear_pointer (&work->attn_ws, tk_attention_ws_free);
}

/* The decoder */

static void
coder_cache_reset (CoderCache *cc)
{
  tk_conv_cache_reset (cc->conv_in);
  tk_conv_cache_reset (cc->mid0.c1);
  tk_conv_cache_reset (cc->mid0.c2);
  for (int i = 0; i < VAE_LEVELS; i++)
    {
      for (int r = 0; r < VAE_MAX_RES; r++)
        {
          tk_conv_cache_reset (cc->levels[i].res[r].c1);
          tk_conv_cache_reset (cc->levels[i].res[r].c2);
          tap_acc_reset (&cc->levels[i].res[r].a1);
          tap_acc_reset (&cc->levels[i].res[r].a2);
        }
      tk_conv_cache_reset (cc->levels[i].time);
      cc->levels[i].started = FALSE;
    }
  tk_conv_cache_reset (cc->mid2.c1);
  tk_conv_cache_reset (cc->mid2.c2);
  tk_conv_cache_reset (cc->head);
  tap_acc_reset (&cc->head_acc);
}

/* Starts a new video with the same buffers. */
static void
decoder_restart (WanVaeDecoder *d)
{
  coder_cache_reset (&d->cache);
  d->pushed = 0;
}

void
wan_vae_decoder_free (WanVaeDecoder *d)
{
  if (d == NULL)
    return;
  coder_cache_clear (&d->cache);
  for (int i = 0; i < 3; i++)
    tk_aligned_free (d->buf[i]);
  for (int i = 0; i < VAE_LEVELS; i++)
    {
      tk_aligned_free (d->pend[i]);
      tk_aligned_free (d->keep[i]);
    }
  tk_aligned_free (d->z);
  tk_aligned_free (d->band);
  tk_aligned_free (d->band_out);
  tk_aligned_free (d->qkv);
  tk_aligned_free (d->att);
  tk_attention_ws_free (d->attn_ws);
  g_free (d);
}

static gboolean
set_bad_latent (const WanVae *vae, int T, int h, int w, GError **error)
{
  g_set_error (
      error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
      _ ("The VAE cannot decode a latent of %d × %d × %d × %d: it needs %d channels, at least one frame "
         "and a size from 1 to %d on each side. Choose another video size."),
      vae->config.z_dim, T, h, w, vae->config.z_dim, VAE_MAX_LATENT_SIDE);
  return FALSE;
}

static WanVaeDecoder *
decoder_new_parts (WanVae *vae, int h, int w, int parts, GError **error)
{
  g_autoptr (WanVaeDecoder) d = NULL;
  const VaeCoder *c = &vae->dec;
  DecPlan plan;
  gboolean ok = TRUE;
  gint64 hw0;

  d = g_new0 (WanVaeDecoder, 1);
  d->vae = vae;
  d->h = h;
  d->w = w;
  hw0 = (gint64)h * w;
  plan_decoder (vae, h, w, parts, &plan, d->res_h, d->res_w);

  d->buf[0] = alloc_floats (plan.frame, &ok);
  d->buf[1] = alloc_floats (plan.frame, &ok);
  d->buf[2] = alloc_floats (plan.frame3, &ok);
  if (parts & DEC_MIDDLE)
    {
      d->z = alloc_floats (plan.z, &ok);
      d->qkv = alloc_floats (plan.qkv, &ok);
      d->att = alloc_floats (plan.att, &ok);
      d->attn_ws = tk_attention_ws_new (vae->n_threads, hw0, hw0, 1, c->attn.c);
      if (d->attn_ws == NULL)
        ok = FALSE;
      d->cache.conv_in = alloc_cache (vae->config.z_dim, h, w, &ok);
      res_cache_init (&c->mid0, &d->cache.mid0, h, w, &ok);
      res_cache_init (&c->mid2, &d->cache.mid2, h, w, &ok);
    }
  if (!(parts & DEC_LEVELS))
    {
      if (!ok)
        {
          check (TK_ERR_NOMEM, "VAE decoder", error);
          return NULL;
        }
      return g_steal_pointer (&d);
    }
  d->band = alloc_floats (plan.band, &ok);
  d->band_out = alloc_floats (plan.band_out, &ok);
  for (int i = 0; i < VAE_LEVELS && ok; i++)
    {
      const VaeLevel *lv = &c->levels[i];
      LevelCache *lc = &d->cache.levels[i];
      gint64 lh = d->res_h[i], lw = d->res_w[i];

      for (int r = 0; r < lv->n_res; r++)
        res_cache_init (&lv->res[r], &lc->res[r], lh, lw, &ok);
      if (lv->mode == VAE_RESAMPLE_UP3D)
        {
          lc->time = alloc_cache (lv->cres, lh, lw, &ok);
          if (plan.pend[i] > 0)
            d->pend[i] = alloc_floats (plan.pend[i], &ok);
        }
      if (lv->shortcut)
        d->keep[i] = alloc_floats (plan.keep[i], &ok);
    }
  if (c->head_taps != NULL)
    tap_acc_init (c->head_taps, &d->cache.head_acc, d->res_h[VAE_LEVELS], d->res_w[VAE_LEVELS], &ok);
  else
    d->cache.head = alloc_cache (c->c_head, d->res_h[VAE_LEVELS], d->res_w[VAE_LEVELS], &ok);
  if (!ok)
    {
      check (TK_ERR_NOMEM, "VAE decoder", error);
      return NULL;
    }
  return g_steal_pointer (&d);
}

WanVaeDecoder *
wan_vae_decoder_new (WanVae *vae, int h, int w, GError **error)
{
  g_return_val_if_fail (vae != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);
  if (!latent_ok (1, h, w))
    {
      set_bad_latent (vae, 1, h, w, error);
      return NULL;
    }
  return decoder_new_parts (vae, h, w, DEC_ALL, error);
}

typedef struct
{
  float *dst;
  gint64 dst_cstride; /* floats between the channels of the output */
  int n_frames;       /* frames written so far */
  WanCancelFunc cancel;
  gpointer user_data;
} DecodeOut;

/* x = block (x) on one frame [cin, h, w], in place (x holds cout channels
 * afterwards); s1 and s2 are scratch. The sums are those of res_forward. */
static gboolean
res_forward_inplace (WanVae *vae,
                     const VaeResBlock *b,
                     ResCache *rc,
                     float *x,
                     float *s1,
                     float *s2,
                     gint64 h,
                     gint64 w,
                     GError **error)
{
  gint64 sp = h * w;

  if (!norm_silu (vae, x, s1, b->cin, sp, b->gamma1, error)
      || !conv (vae, b->conv1, rc->c1, s1, 1, h, w, s2, error)
      || !norm_silu (vae, s2, s2, b->cout, sp, b->gamma2, error)
      || !conv (vae, b->conv2, rc->c2, s2, 1, h, w, s1, error))
    return FALSE;
  if (b->shortcut != NULL)
    {
      if (!conv (vae, b->shortcut, NULL, x, 1, h, w, s2, error))
        return FALSE;
      return check (tk_add (vae->pool, s1, s2, x, b->cout * sp), "VAE residual", error);
    }
  return check (tk_add (vae->pool, s1, x, x, b->cout * sp), "VAE residual", error);
}

/* Sums a band of a VaeTapConv's per-frame outputs p [3·cout, prows, w]
 * into rows [r0, r0 + rows) of the frame and the accumulators. */
typedef struct
{
  const float *p;
  const float *bias;
  float *now, *next; /* acc halves: this frame's sum, the next frame's */
  float *dst;
  gint64 cout, h, w, r0, rows, prows, p_row0;
  gboolean any, add;
} TapJob;

static void
tap_sum_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const TapJob *job = data;
  gint64 w = job->w;
  gint64 tap = job->cout * job->prows * w;

  (void)thread_index;
  for (int64_t item = start; item < end; item++)
    {
      gint64 o = item / job->rows, y = job->r0 + item % job->rows;
      gint64 at = (o * job->h + y) * w;
      const float *p0 = job->p + (o * job->prows + (y - job->p_row0)) * w;
      const float *p1 = p0 + tap, *p2 = p1 + tap;
      float *now = job->now + at, *next = job->next + at, *dst = job->dst + at;
      float b = job->bias[o];

      /* Tap 2 (this frame) ends frame t's sum, tap 1 goes into t + 1's and
       * tap 0 starts t + 2's in the half that t's sum leaves free. */
      for (gint64 x = 0; x < w; x++)
        {
          float v = (job->any ? now[x] + p2[x] : p2[x]) + b;

          dst[x] = job->add ? dst[x] + v : v;
          now[x] = p0[x];
          next[x] = job->any ? next[x] + p1[x] : p1[x];
        }
    }
}

/* dst [cout, h, w] = (add ? dst : 0) + the causal convolution of the frame
 * sequence whose latest frame is src [cin, h, w], normalised first when
 * @gamma is given. Band by band: the band's input rows and one more on each
 * side are normalised into d->band_out and convolved into d->band, and the
 * inner rows, which see what the whole frame would, are kept. src and dst
 * must not overlap. */
static gboolean
tap_forward (WanVaeDecoder *d,
             const VaeTapConv *tc,
             TapAcc *ta,
             const float *src,
             const float *gamma,
             gint64 h,
             gint64 w,
             float *dst,
             gboolean add,
             GError **error)
{
  WanVae *vae = d->vae;
  gint64 hw = h * w;

  for (gint64 r0 = 0; r0 < h; r0 += VAE_TAP_ROWS)
    {
      gint64 r1 = MIN (h, r0 + VAE_TAP_ROWS);
      gint64 a = MAX (0, r0 - 1), b = MIN (h, r1 + 1);
      TapJob job = { .p = d->band,
                     .bias = tc->bias,
                     .now = ta->acc + ta->ring * tc->cout * hw,
                     .next = ta->acc + (1 - ta->ring) * tc->cout * hw,
                     .dst = dst,
                     .cout = tc->cout,
                     .h = h,
                     .w = w,
                     .r0 = r0,
                     .rows = r1 - r0,
                     .prows = b - a,
                     .p_row0 = a,
                     .any = ta->any,
                     .add = add };

      for (gint64 ch = 0; ch < tc->cin; ch++)
        memcpy (d->band_out + ch * (b - a) * w, src + (ch * h + a) * w,
                (size_t)((b - a) * w) * sizeof (float));
      if ((gamma != NULL && !norm_silu (vae, d->band_out, d->band_out, tc->cin, (b - a) * w, gamma, error))
          || !conv (vae, tc->taps, NULL, d->band_out, 1, b - a, w, d->band, error))
        return FALSE;
      tk_pool_parallel_for (vae->pool, tc->cout * (r1 - r0), 4, tap_sum_cb, &job);
    }
  ta->ring = 1 - ta->ring;
  ta->any = TRUE;
  return TRUE;
}

/* res_forward_inplace for a block of VaeTapConvs, with one scratch frame. */
static gboolean
res_forward_taps (WanVaeDecoder *d,
                  const VaeResBlock *b,
                  ResCache *rc,
                  float *x,
                  float *s,
                  gint64 h,
                  gint64 w,
                  GError **error)
{
  return tap_forward (d, b->tap1, &rc->a1, x, b->gamma1, h, w, s, FALSE, error)
         && tap_forward (d, b->tap2, &rc->a2, s, b->gamma2, h, w, x, TRUE, error);
}

/* Rows [row0, row0 + rows) of the nearest 2× upsampling of src [c, h, w]
 * into dst [c, rows, 2w]. */
typedef struct
{
  const float *src;
  float *dst;
  gint64 h, w, row0, rows;
} BandJob;

static void
band_up_cb (void *data, int64_t start, int64_t end, int thread_index)
{
  const BandJob *job = data;
  gint64 ow = 2 * job->w;

  (void)thread_index;
  for (int64_t item = start; item < end; item++)
    {
      gint64 ch = item / job->rows, y = item % job->rows;
      const float *s = job->src + (ch * job->h + (job->row0 + y) / 2) * job->w;
      float *o = job->dst + item * ow;

      for (gint64 x = 0; x < ow; x++)
        o[x] = s[x / 2];
    }
}

/* The level's resampling (nearest 2× then a 3×3 convolution) of src
 * [cres, h, w] into dst [cout, 2h, 2w], in bands of output rows: a band
 * takes the upsampled rows it needs and one more on each side, so its
 * inner rows see exactly the values the whole frame would, and only those
 * are kept. */
static gboolean
resample_banded (
    WanVaeDecoder *d, const VaeLevel *lv, const float *src, gint64 h, gint64 w, float *dst, GError **error)
{
  WanVae *vae = d->vae;
  gint64 oh = 2 * h, ow = 2 * w;

  for (gint64 r0 = 0; r0 < oh; r0 += VAE_BAND_ROWS)
    {
      gint64 r1 = MIN (oh, r0 + VAE_BAND_ROWS);
      gint64 a = MAX (0, r0 - 1), b = MIN (oh, r1 + 1);
      BandJob job = { .src = src, .dst = d->band, .h = h, .w = w, .row0 = a, .rows = b - a };

      tk_pool_parallel_for (vae->pool, lv->cres * (b - a), 8, band_up_cb, &job);
      if (!conv (vae, lv->resample, NULL, d->band, 1, b - a, ow, d->band_out, error))
        return FALSE;
      for (gint64 ch = 0; ch < lv->cout; ch++)
        memcpy (dst + (ch * oh + r0) * ow, d->band_out + (ch * (b - a) + (r0 - a)) * ow,
                (size_t)((r1 - r0) * ow) * sizeof (float));
    }
  return TRUE;
}

/* The head on one frame x [c_head, H, W]: RGB clamped to [-1, 1] into the
 * next output frame. */
static gboolean
dec_head (WanVaeDecoder *d, float *x, float *s1, float *s2, DecodeOut *out, GError **error)
{
  WanVae *vae = d->vae;
  const VaeCoder *c = &vae->dec;
  gint64 h = d->res_h[VAE_LEVELS], w = d->res_w[VAE_LEVELS];
  gint64 plane = h * w * vae->patch * vae->patch;
  const float *rgb = s2;
  float *free_buf = s1;

  if (c->head_taps != NULL)
    {
      /* The convolution's output goes to s1, and x is free afterwards. */
      if (!tap_forward (d, c->head_taps, &d->cache.head_acc, x, c->head_gamma, h, w, s1, FALSE, error))
        return FALSE;
      rgb = s1;
      free_buf = x;
    }
  else if (!norm_silu (vae, x, s1, c->c_head, h * w, c->head_gamma, error)
           || !conv (vae, c->head, d->cache.head, s1, 1, h, w, s2, error))
    return FALSE;
  if (vae->patch > 1)
    {
      if (!check (tk_pixel_unpatchify (vae->pool, rgb, 3, 1, h, w, vae->patch, free_buf), "VAE unpatchify",
                  error))
        return FALSE;
      rgb = free_buf;
    }
  for (int ch = 0; ch < 3; ch++)
    {
      const float *src = rgb + ch * plane;
      float *dst = out->dst + ch * out->dst_cstride + (gint64)out->n_frames * plane;

      for (gint64 i = 0; i < plane; i++)
        dst[i] = src[i] < -1.0f ? -1.0f : src[i] > 1.0f ? 1.0f : src[i];
    }
  out->n_frames++;
  return TRUE;
}

/* Level @i on one frame x [cin, h, w], which it overwrites; s1 and s2 are
 * the other two frame buffers. Each frame it makes goes on through the next
 * levels before the following one. */
static gboolean
dec_level (WanVaeDecoder *d, int i, float *x, float *s1, float *s2, DecodeOut *out, GError **error)
{
  WanVae *vae = d->vae;
  const VaeLevel *lv = &vae->dec.levels[i];
  LevelCache *lc = &d->cache.levels[i];
  gint64 h = d->res_h[i], w = d->res_w[i];
  gboolean first = !lc->started;
  const float *frames[2];
  int n_frames = 1;

  if (!wan_engine_check_cancel (out->cancel, out->user_data, error))
    return FALSE;
  if (lv->shortcut)
    memcpy (d->keep[i], x, (size_t)(lv->cin * h * w) * sizeof (float));
  for (int r = 0; r < lv->n_res; r++)
    if (lv->res[r].tap1 != NULL
            ? !res_forward_taps (d, &lv->res[r], &lc->res[r], x, s1, h, w, error)
            : !res_forward_inplace (vae, &lv->res[r], &lc->res[r], x, s1, s2, h, w, error))
      return FALSE;
  lc->started = TRUE;
  if (lv->mode == VAE_RESAMPLE_NONE)
    return dec_head (d, x, s1, s2, out, error);

  frames[0] = x;
  /* The first frame skips the time convolution; its cache starts with the
   * second. */
  if (lv->mode == VAE_RESAMPLE_UP3D && !first)
    {
      float *pend = d->pend[i] != NULL ? d->pend[i] : s2;

      if (!conv (vae, lv->time_conv, lc->time, x, 1, h, w, pend, error))
        return FALSE;
      frames[0] = pend;
      frames[1] = pend + (gint64)lv->cres * h * w;
      n_frames = 2;
    }
  /* Once resampled, a frame lives in s1 and x is free: the frames still to
   * come are in pend (or s2, which the deeper levels leave alone). */
  for (int j = 0; j < n_frames; j++)
    {
      if (!resample_banded (d, lv, frames[j], h, w, s1, error))
        return FALSE;
      if (lv->shortcut)
        dup_up_add (vae, lv, d->keep[i], h, w, first ? lv->ft - 1 : j, s1);
      if (!dec_level (d, i + 1, s1, x, s2, out, error))
        return FALSE;
    }
  return TRUE;
}

/* The latent-size part on one latent frame (channels z_stride floats
 * apart): its output is left in d->buf[1]. */
static gboolean
middle_push (WanVaeDecoder *d, const float *z, gint64 z_stride, GError **error)
{
  WanVae *vae = d->vae;
  const VaeCoder *c = &vae->dec;
  gint64 hw = (gint64)d->h * d->w;
  float *b0 = d->buf[0], *b1 = d->buf[1], *b2 = d->buf[2];
  Work work = { .t1 = b2, .qkv = d->qkv, .att = d->att, .attn_ws = d->attn_ws };

  for (int ch = 0; ch < vae->config.z_dim; ch++)
    {
      const float *src = z + ch * z_stride;
      float *dst = d->z + ch * hw;
      float inv = vae->inv_std[ch], mean = vae->mean[ch];

      /* As the official code: z / (1/std) + mean. */
      for (gint64 i = 0; i < hw; i++)
        dst[i] = src[i] / inv + mean;
    }
  if (!conv (vae, vae->conv2, NULL, d->z, 1, d->h, d->w, b1, error)
      || !conv (vae, c->conv_in, d->cache.conv_in, b1, 1, d->h, d->w, b0, error)
      || !res_forward_inplace (vae, &c->mid0, &d->cache.mid0, b0, b1, b2, d->h, d->w, error)
      || !attn_forward (vae, &c->attn, b0, b1, 1, d->h, d->w, &work, error)
      || !res_forward_inplace (vae, &c->mid2, &d->cache.mid2, b1, b0, b2, d->h, d->w, error))
    return FALSE;
  return TRUE;
}

static gboolean
decoder_push (WanVaeDecoder *d, const float *z, gint64 z_stride, DecodeOut *out, GError **error)
{
  if (!middle_push (d, z, z_stride, error) || !dec_level (d, 0, d->buf[1], d->buf[0], d->buf[2], out, error))
    return FALSE;
  d->pushed++;
  return TRUE;
}

gboolean
wan_vae_decoder_push (WanVaeDecoder *decoder,
                      const float *z_frame,
                      float *frames,
                      int *n_frames,
                      WanCancelFunc cancel,
                      gpointer user_data,
                      GError **error)
{
  WanVae *vae;
  DecodeOut out = { 0 };
  gint64 plane;
  int expect;

  g_return_val_if_fail (decoder != NULL, FALSE);
  g_return_val_if_fail (z_frame != NULL && frames != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  vae = decoder->vae;
  plane = (gint64)decoder->h * decoder->w * vae->factor * vae->factor;
  expect = decoder->pushed == 0 ? 1 : 4;
  out.dst = frames;
  out.dst_cstride = expect * plane;
  out.cancel = cancel;
  out.user_data = user_data;
  if (!wan_engine_check_cancel (cancel, user_data, error)
      || !decoder_push (decoder, z_frame, (gint64)decoder->h * decoder->w, &out, error))
    return FALSE;
  g_assert (out.n_frames == expect);
  if (n_frames != NULL)
    *n_frames = out.n_frames;
  return TRUE;
}

gboolean
wan_vae_decode (WanVae *vae,
                const float *z,
                int T,
                int h,
                int w,
                float *video,
                WanCancelFunc cancel,
                WanProgressFunc progress,
                gpointer user_data,
                GError **error)
{
  g_autoptr (WanVaeDecoder) d = NULL;
  DecodeOut out = { 0 };
  gint64 hw = (gint64)h * w;

  g_return_val_if_fail (vae != NULL, FALSE);
  g_return_val_if_fail (z != NULL && video != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!latent_ok (T, h, w))
    return set_bad_latent (vae, T, h, w, error);
  d = wan_vae_decoder_new (vae, h, w, error);
  if (d == NULL)
    return FALSE;
  out.dst = video;
  out.dst_cstride = (1 + 4 * (gint64)(T - 1)) * hw * vae->factor * vae->factor;
  out.cancel = cancel;
  out.user_data = user_data;
  for (int t = 0; t < T; t++)
    {
      if (!wan_engine_check_cancel (cancel, user_data, error)
          || !decoder_push (d, z + t * hw, (gint64)T * hw, &out, error))
        return FALSE;
      if (progress != NULL)
        progress (t + 1, T, user_data);
    }
  return TRUE;
}

/* Spatial tiling */

/* The tiles along one side of n latent cells: every tile - overlap cells,
 * the last one cut short at the edge. The overlap is at most half a tile,
 * so only neighbours share cells. */
typedef struct
{
  int n_tiles;
  int tile; /* the largest */
  int overlap;
  int *start;
} TileAxis;

static gboolean
tile_axis_init (TileAxis *axis, int n, int tile, int overlap)
{
  int stride;

  memset (axis, 0, sizeof *axis);
  if (tile <= 0 || tile >= n)
    {
      axis->n_tiles = 1;
      axis->tile = n;
      axis->start = g_new0 (int, 1);
      return TRUE;
    }
  if (overlap < 0 || 2 * overlap > tile)
    return FALSE;
  stride = tile - overlap;
  axis->tile = tile;
  axis->overlap = overlap;
  axis->n_tiles = 1 + (n - tile + stride - 1) / stride;
  axis->start = g_new (int, axis->n_tiles);
  for (int k = 0; k < axis->n_tiles; k++)
    axis->start[k] = k * stride;
  return TRUE;
}

static int
tile_axis_size (const TileAxis *axis, int k, int n)
{
  return MIN (axis->tile, n - axis->start[k]);
}

static void
tile_axis_clear (TileAxis *axis)
{
  g_clear_pointer (&axis->start, g_free);
}

/* The blending weight of each of tile k's @size pixels along one side: 0 in
 * the outer quarter of an overlap (the pixels nearest the cut, which see
 * zero padding where the whole frame has neighbours), a linear ramp across
 * its middle half and 1 beyond, so two neighbours' weights sum to 1. */
static void
tile_axis_weights (const TileAxis *axis, int k, gint64 size, int factor, float *weight)
{
  gint64 ov = (gint64)axis->overlap * factor;
  gint64 m = ov / 4, ramp = ov - 2 * m;
  gboolean before = k > 0 && ov > 0, after = k + 1 < axis->n_tiles && ov > 0;

  for (gint64 p = 0; p < size; p++)
    {
      double v = 1.0;

      if (before && p < ov)
        v = MIN (v, CLAMP (((double)(p - m) + 0.5) / (double)ramp, 0.0, 1.0));
      if (after && p >= size - ov)
        v = MIN (v, CLAMP (((double)(size - m - p) - 0.5) / (double)ramp, 0.0, 1.0));
      weight[p] = (float)v;
    }
}

static gboolean
tiling_axes (int h, int w, const WanVaeTiling *tiling, TileAxis *ay, TileAxis *ax, GError **error)
{
  int overlap = tiling != NULL ? tiling->overlap : 0;

  if (tiling != NULL && tile_axis_init (ay, h, tiling->tile_h, overlap)
      && tile_axis_init (ax, w, tiling->tile_w, overlap))
    return TRUE;
  if (tiling == NULL)
    {
      tile_axis_init (ay, h, 0, 0);
      tile_axis_init (ax, w, 0, 0);
      return TRUE;
    }
  tile_axis_clear (ay);
  g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
               _ ("The VAE tiles of %d × %d latent cells cannot overlap by %d: the overlap must be at least "
                  "0 and at most half a tile. Choose larger tiles or a smaller overlap."),
               tiling->tile_w, tiling->tile_h, overlap);
  return FALSE;
}

guint64
wan_vae_estimate_decode_tiled_bytes (const WanVae *vae, int T, int h, int w, const WanVaeTiling *tiling)
{
  TileAxis ay, ax;
  DecPlan middle, levels;
  gint64 res_h[VAE_LEVELS + 1], res_w[VAE_LEVELS + 1];
  guint64 video, tile_io, bytes;
  gint64 f;

  g_return_val_if_fail (vae != NULL, 0);
  if (!latent_ok (T, h, w) || !tiling_axes (h, w, tiling, &ay, &ax, NULL))
    return 0;
  if (ay.n_tiles * ax.n_tiles == 1)
    {
      tile_axis_clear (&ay);
      tile_axis_clear (&ax);
      return wan_vae_estimate_decode_bytes (vae, T, h, w);
    }
  f = vae->factor;
  plan_decoder (vae, h, w, DEC_MIDDLE, &middle, res_h, res_w);
  plan_decoder (vae, ay.tile, ax.tile, DEC_LEVELS, &levels, res_h, res_w);
  video = (guint64)3 * (guint64)(1 + 4 * (gint64)(T - 1)) * (guint64)h * (guint64)w * (guint64)(f * f)
          * sizeof (float);
  /* The frames a tile hands out, both axes' weights and their sums over
   * the frame. */
  tile_io = sizeof (float)
            * ((guint64)3 * 4 * (guint64)(ay.tile * ax.tile * f * f) + (guint64)(ay.tile + ax.tile) * f
               + (guint64)h * (guint64)w * (guint64)(f * f));
  bytes = dec_plan_bytes (&middle) + dec_plan_bytes (&levels) + video + tile_io;
  tile_axis_clear (&ay);
  tile_axis_clear (&ax);
  return bytes;
}

gboolean
wan_vae_plan_tiling (const WanVae *vae, int T, int h, int w, guint64 budget, WanVaeTiling *tiling)
{
  g_return_val_if_fail (vae != NULL && tiling != NULL, FALSE);
  memset (tiling, 0, sizeof *tiling);
  if (!latent_ok (T, h, w))
    return FALSE;
  tiling->tile_h = h;
  tiling->tile_w = w;
  if (wan_vae_estimate_decode_bytes (vae, T, h, w) <= budget)
    return TRUE;
  /* Square tiles, shrinking until they fit; the overlap a quarter of a
   * tile, at most WAN_VAE_TILE_OVERLAP. */
  for (int t = MAX (h, w) - 1; t >= WAN_VAE_TILE_MIN; t--)
    {
      tiling->tile_h = MIN (t, h);
      tiling->tile_w = MIN (t, w);
      tiling->overlap = MIN (WAN_VAE_TILE_OVERLAP, t / 4);
      if (wan_vae_estimate_decode_tiled_bytes (vae, T, h, w, tiling) <= budget)
        return TRUE;
    }
  return FALSE;
}

int
wan_vae_tiling_count (int h, int w, const WanVaeTiling *tiling)
{
  TileAxis ay, ax;
  int n;

  if (!latent_ok (1, h, w) || !tiling_axes (h, w, tiling, &ay, &ax, NULL))
    return 0;
  n = ay.n_tiles * ax.n_tiles;
  tile_axis_clear (&ay);
  tile_axis_clear (&ax);
  return n;
}

/* Adds the tile's frames [3, n, th, tw] × weight into video [3, F, H, W]
 * from frame f0 at (y0, x0). */
static void
tile_accumulate (float *video,
                 gint64 F,
                 gint64 H,
                 gint64 W,
                 const float *frames,
                 int n,
                 gint64 th,
                 gint64 tw,
                 int f0,
                 gint64 y0,
                 gint64 x0,
                 const float *wy,
                 const float *wx)
{
  for (int ch = 0; ch < 3; ch++)
    for (int f = 0; f < n; f++)
      for (gint64 y = 0; y < th; y++)
        {
          const float *src = frames + ((ch * (gint64)n + f) * th + y) * tw;
          float *dst = video + ((ch * F + f0 + f) * H + y0 + y) * W + x0;

          for (gint64 x = 0; x < tw; x++)
            dst[x] += wy[y] * wx[x] * src[x];
        }
}

gboolean
wan_vae_decode_tiled (WanVae *vae,
                      const float *z,
                      int T,
                      int h,
                      int w,
                      const WanVaeTiling *tiling,
                      float *video,
                      WanCancelFunc cancel,
                      WanProgressFunc progress,
                      gpointer user_data,
                      GError **error)
{
  g_autoptr (WanVaeDecoder) mid = NULL;
  g_autoptr (WanVaeDecoder) lev = NULL;
  g_autofree float *frames = NULL, *wy = NULL, *wx = NULL, *wsum = NULL;
  TileAxis ay, ax;
  gint64 f, F, H, W, hw = (gint64)h * w;
  int cm = vae->dec.attn.c, n_tiles, done = 0;
  gboolean ok = TRUE;

  g_return_val_if_fail (vae != NULL, FALSE);
  g_return_val_if_fail (z != NULL && video != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!latent_ok (T, h, w))
    return set_bad_latent (vae, T, h, w, error);
  if (!tiling_axes (h, w, tiling, &ay, &ax, error))
    return FALSE;
  n_tiles = ay.n_tiles * ax.n_tiles;
  if (n_tiles == 1)
    {
      tile_axis_clear (&ay);
      tile_axis_clear (&ax);
      return wan_vae_decode (vae, z, T, h, w, video, cancel, progress, user_data, error);
    }

  f = vae->factor;
  F = 1 + 4 * (gint64)(T - 1);
  H = (gint64)h * f;
  W = (gint64)w * f;
  mid = decoder_new_parts (vae, h, w, DEC_MIDDLE, error);
  frames = g_try_new (float, (gsize)3 * 4 * (gsize)(ay.tile * f) * (gsize)(ax.tile * f));
  wy = g_try_new (float, (gsize)(ay.tile * f));
  wx = g_try_new (float, (gsize)(ax.tile * f));
  wsum = g_try_new0 (float, (gsize)(H * W));
  if (mid == NULL || frames == NULL || wy == NULL || wx == NULL || wsum == NULL)
    {
      if (mid != NULL)
        check (TK_ERR_NOMEM, "VAE tiles", error);
      tile_axis_clear (&ay);
      tile_axis_clear (&ax);
      return FALSE;
    }
  memset (video, 0, sizeof (float) * (size_t)(3 * F * H * W));

  /* Tile by tile, each over every frame with its own caches, so the
   * caches are a tile's size and not the frame's. The latent-size part
   * runs on whole frames again for each tile: its attention sees the whole
   * frame, as untiled, and it costs little beside the levels. */
  for (int ky = 0; ok && ky < ay.n_tiles; ky++)
    for (int kx = 0; ok && kx < ax.n_tiles; kx++)
      {
        gint64 y0 = ay.start[ky], x0 = ax.start[kx];
        int lh = tile_axis_size (&ay, ky, h), lw = tile_axis_size (&ax, kx, w);
        gint64 th = (gint64)lh * f, tw = (gint64)lw * f;
        int f0 = 0;

        /* Tiles cut short at the edges have their own size. */
        if (lev == NULL || lev->h != lh || lev->w != lw)
          {
            g_clear_pointer (&lev, wan_vae_decoder_free);
            lev = decoder_new_parts (vae, lh, lw, DEC_LEVELS, error);
            if (lev == NULL)
              {
                ok = FALSE;
                break;
              }
          }
        tile_axis_weights (&ay, ky, th, (int)f, wy);
        tile_axis_weights (&ax, kx, tw, (int)f, wx);
        decoder_restart (mid);
        decoder_restart (lev);
        for (int t = 0; ok && t < T; t++)
          {
            DecodeOut out = { .dst = frames,
                              .dst_cstride = (t == 0 ? 1 : 4) * th * tw,
                              .cancel = cancel,
                              .user_data = user_data };

            ok = wan_engine_check_cancel (cancel, user_data, error)
                 && middle_push (mid, z + t * hw, (gint64)T * hw, error);
            if (!ok)
              break;
            for (gint64 ch = 0; ch < cm; ch++)
              for (int y = 0; y < lh; y++)
                memcpy (lev->buf[1] + (ch * lh + y) * lw, mid->buf[1] + (ch * h + y0 + y) * w + x0,
                        sizeof (float) * (size_t)lw);
            ok = dec_level (lev, 0, lev->buf[1], lev->buf[0], lev->buf[2], &out, error);
            if (!ok)
              break;
            tile_accumulate (video, F, H, W, frames, out.n_frames, th, tw, f0, y0 * f, x0 * f, wy, wx);
            f0 += out.n_frames;
            done++;
            if (progress != NULL)
              progress (done, n_tiles * T, user_data);
          }
        for (gint64 y = 0; ok && y < th; y++)
          for (gint64 x = 0; x < tw; x++)
            wsum[(y0 * f + y) * W + x0 * f + x] += wy[y] * wx[x];
      }
  tile_axis_clear (&ay);
  tile_axis_clear (&ax);
  if (!ok)
    return FALSE;
  for (int ch = 0; ch < 3; ch++)
    for (gint64 fr = 0; fr < F; fr++)
      {
        float *v = video + (ch * F + fr) * H * W;

        for (gint64 i = 0; i < H * W; i++)
          v[i] /= wsum[i];
      }
  return TRUE;
}

/* The encoder */

typedef struct
{
  WanVae *vae;
  gint64 res_h[VAE_LEVELS + 1], res_w[VAE_LEVELS + 1], frames[VAE_LEVELS + 1];
  CoderCache cache;
  Work work;
  float *chunk;                /* [3, n, H, W] */
  float *patched;              /* [12, n, H/2, W/2] */
  float *lbuf[VAE_LEVELS + 1]; /* each level's input; [4] the middle's */
  float *mid;                  /* the middle's output */
} EncodeRun;

static void
encode_run_clear (EncodeRun *e)
{
  coder_cache_clear (&e->cache);
  work_clear (&e->work);
  g_clear_pointer (&e->chunk, tk_aligned_free);
  g_clear_pointer (&e->patched, tk_aligned_free);
  for (int i = 0; i <= VAE_LEVELS; i++)
    g_clear_pointer (&e->lbuf[i], tk_aligned_free);
  g_clear_pointer (&e->mid, tk_aligned_free);
}

static gboolean
encode_run_init (EncodeRun *e, WanVae *vae, gint64 H, gint64 W, gint64 chunk, GError **error)
{
  const VaeCoder *c = &vae->enc;
  VaePlan plan;
  gboolean ok = TRUE;
  gint64 hw_last;

  memset (e, 0, sizeof *e);
  e->vae = vae;
  plan_encoder (vae, H, W, chunk, &plan, e->res_h, e->res_w, e->frames);
  hw_last = e->res_h[VAE_LEVELS] * e->res_w[VAE_LEVELS];
  work_init (&e->work, &plan, vae->n_threads, hw_last, c->attn.c, &ok);
  e->chunk = alloc_floats (3 * chunk * H * W, &ok);
  if (vae->patch > 1)
    e->patched = alloc_floats (3 * chunk * H * W, &ok);
  e->cache.conv_in = alloc_cache (c->c_io, e->res_h[0], e->res_w[0], &ok);
  e->lbuf[0] = alloc_floats (chunk * e->res_h[0] * e->res_w[0] * c->levels[0].cin, &ok);
  for (int i = 0; i < VAE_LEVELS && ok; i++)
    {
      const VaeLevel *lv = &c->levels[i];
      LevelCache *lc = &e->cache.levels[i];

      for (int r = 0; r < lv->n_res; r++)
        res_cache_init (&lv->res[r], &lc->res[r], e->res_h[i], e->res_w[i], &ok);
      e->lbuf[i + 1] = alloc_floats (e->frames[i + 1] * lv->cout * e->res_h[i + 1] * e->res_w[i + 1], &ok);
      if (lv->mode == VAE_RESAMPLE_DOWN3D)
        lc->prev = alloc_floats (lv->cres * e->res_h[i + 1] * e->res_w[i + 1], &ok);
    }
  res_cache_init (&c->mid0, &e->cache.mid0, e->res_h[VAE_LEVELS], e->res_w[VAE_LEVELS], &ok);
  res_cache_init (&c->mid2, &e->cache.mid2, e->res_h[VAE_LEVELS], e->res_w[VAE_LEVELS], &ok);
  e->mid = alloc_floats (c->attn.c * hw_last, &ok);
  e->cache.head = alloc_cache (c->c_head, e->res_h[VAE_LEVELS], e->res_w[VAE_LEVELS], &ok);
  if (!ok)
    return check (TK_ERR_NOMEM, "VAE encoder", error);
  return TRUE;
}

/* Copies frame @f of src [c, n, hw] (n frames) to frame @g of dst [c, m, hw]. */
static void
copy_frame (const float *src, gint64 n, gint64 f, float *dst, gint64 m, gint64 g, gint64 c, gint64 hw)
{
  for (gint64 ch = 0; ch < c; ch++)
    memcpy (dst + (ch * m + g) * hw, src + (ch * n + f) * hw, (size_t)hw * sizeof (float));
}

/* Level @i on x [cin, n, h, w] into the next level's input; returns its
 * frame count in @n_out. */
static gboolean
enc_level (EncodeRun *e, int i, gint64 n, gint64 *n_out, GError **error)
{
  WanVae *vae = e->vae;
  const VaeLevel *lv = &vae->enc.levels[i];
  LevelCache *lc = &e->cache.levels[i];
  Work *work = &e->work;
  const float *x = e->lbuf[i];
  float *out = e->lbuf[i + 1];
  gint64 h = e->res_h[i], w = e->res_w[i];
  gint64 h2 = e->res_h[i + 1], w2 = e->res_w[i + 1];

  *n_out = n;
  if (lv->mode == VAE_RESAMPLE_NONE)
    {
      if (res_chain (vae, lv, lc, x, out, n, h, w, work, error) == NULL)
        return FALSE;
    }
  else
    {
      const float *main = res_chain (vae, lv, lc, x, NULL, n, h, w, work, error);
      gint64 plane = h2 * w2;

      if (main == NULL)
        return FALSE;
      if (lv->mode == VAE_RESAMPLE_DOWN2D)
        {
          if (!conv (vae, lv->resample, NULL, main, n, h, w, out, error))
            return FALSE;
        }
      else
        {
          if (!conv (vae, lv->resample, NULL, main, n, h, w, work->t2, error))
            return FALSE;
          if (!lc->started)
            {
              memcpy (out, work->t2, (size_t)(lv->cres * n * plane) * sizeof (float));
            }
          else
            {
              /* [last frame of the previous chunk ‖ this chunk], stride 2. */
              copy_frame (lc->prev, 1, 0, work->t1, n + 1, 0, lv->cres, plane);
              for (gint64 f = 0; f < n; f++)
                copy_frame (work->t2, n, f, work->t1, n + 1, f + 1, lv->cres, plane);
              if (!conv (vae, lv->time_conv, NULL, work->t1, n + 1, h2, w2, out, error))
                return FALSE;
              *n_out = (n + 1 - 3) / 2 + 1;
            }
          copy_frame (work->t2, n, n - 1, lc->prev, 1, 0, lv->cres, plane);
        }
    }
  lc->started = TRUE;
  if (lv->shortcut)
    {
      if (!check (tk_avg_down3d (vae->pool, x, lv->cin, n, h, w, lv->cout, lv->ft, lv->fs, work->t1),
                  "VAE shortcut", error)
          || !check (tk_add (vae->pool, out, work->t1, out, lv->cout * *n_out * h2 * w2), "VAE shortcut",
                     error))
        return FALSE;
    }
  return TRUE;
}

gboolean
wan_vae_encode (WanVae *vae,
                const float *video,
                int F,
                int H,
                int W,
                float *z,
                WanCancelFunc cancel,
                WanProgressFunc progress,
                gpointer user_data,
                GError **error)
{
  const VaeCoder *c;
  EncodeRun e;
  gint64 n_latent, plane = (gint64)H * W, h, w, hw, zd;
  gboolean ok = TRUE;

  g_return_val_if_fail (vae != NULL, FALSE);
  g_return_val_if_fail (video != NULL && z != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  if (!vae->config.has_encoder)
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INCOMPLETE,
          _ ("The VAE file “%s” holds only the decoder, so it cannot encode images or videos. Use the "
             "full VAE file of the model."),
          wan_weights_get_path (vae->weights));
      return FALSE;
    }
  if (!video_ok (vae, F, H, W))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("The VAE cannot encode a video of %d frames at %d × %d: it needs 1 + 4·n frames and a "
                      "width and height that are multiples of %d. Choose another size or frame count."),
                   F, W, H, vae->factor);
      return FALSE;
    }
  c = &vae->enc;
  if (!encode_run_init (&e, vae, H, W, F > 1 ? VAE_CHUNK : 1, error))
    {
      encode_run_clear (&e);
      return FALSE;
    }
  n_latent = 1 + (F - 1) / 4;
  h = e.res_h[VAE_LEVELS];
  w = e.res_w[VAE_LEVELS];
  hw = h * w;
  zd = vae->config.z_dim;
  for (gint64 k = 0; k < n_latent && ok; k++)
    {
      gint64 f0 = k == 0 ? 0 : 1 + VAE_CHUNK * (k - 1);
      gint64 n = k == 0 ? 1 : VAE_CHUNK;
      const float *src = e.chunk;
      const float *mu;

      ok = wan_engine_check_cancel (cancel, user_data, error);
      for (gint64 f = 0; ok && f < n; f++)
        copy_frame (video, F, f0 + f, e.chunk, n, f, 3, plane);
      if (ok && vae->patch > 1)
        {
          ok = check (tk_pixel_patchify (vae->pool, e.chunk, 3, n, H, W, vae->patch, e.patched),
                      "VAE patchify", error);
          src = e.patched;
        }
      ok = ok && conv (vae, c->conv_in, e.cache.conv_in, src, n, e.res_h[0], e.res_w[0], e.lbuf[0], error);
      for (int i = 0; ok && i < VAE_LEVELS; i++)
        {
          gint64 n_out = 0;

          ok = wan_engine_check_cancel (cancel, user_data, error) && enc_level (&e, i, n, &n_out, error);
          n = n_out;
        }
      if (ok && n != 1)
        {
          g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                       _ ("The VAE encoder made %" PRId64 " latent frames from one chunk instead of 1. "
                          "Check that the VAE file is a Wan VAE."),
                       n);
          ok = FALSE;
        }
      ok = ok && middle_forward (vae, c, &e.cache, e.lbuf[VAE_LEVELS], e.mid, 1, h, w, &e.work, error)
           && norm_silu (vae, e.mid, e.work.t1, c->c_head, hw, c->head_gamma, error)
           && conv (vae, c->head, e.cache.head, e.work.t1, 1, h, w, e.work.t2, error)
           && conv (vae, vae->conv1, NULL, e.work.t2, 1, h, w, e.work.t1, error);
      if (!ok)
        break;
      /* μ is the first z_dim channels; the rest is the log-variance. */
      mu = e.work.t1;
      for (gint64 ch = 0; ch < zd; ch++)
        {
          float *dst = z + (ch * n_latent + k) * hw;
          float mean = vae->mean[ch], inv = vae->inv_std[ch];

          for (gint64 i = 0; i < hw; i++)
            dst[i] = (mu[ch * hw + i] - mean) * inv;
        }
      if (progress != NULL)
        progress ((int)k + 1, (int)n_latent, user_data);
    }
  encode_run_clear (&e);
  return ok;
}
