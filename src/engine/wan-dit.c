/* wan-dit.c: the Wan diffusion transformer (WanModel) forward pass, for every
 * release size, with weights in their stored dtype and F32 activations.
 *
 * The model object holds only the read-only weights and a thread pool; all
 * activations and scratch live in a WanDitState, allocated once for a latent
 * shape, so the forward pass allocates nothing. One state may serve both
 * experts of an A14B set, which share their configuration. */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "umt5-encoder.h"
#include "wan-dit.h"

/* Positions per axis in the RoPE tables, as the official code builds them. */
#define WAN_ROPE_MAX_POS 1024
#define WAN_ROPE_THETA 10000.0
/* Tokens per FFN chunk: bounds the hidden activations to a few hundred MiB
 * at the 14B's width without changing any result. */
#define WAN_FFN_CHUNK 2048

typedef struct
{
  WanLinear sq, sk, sv, so;
  WanLinear cq, ck, cv, co;
  WanLinear ffn0, ffn2;
  float *s_norm_q, *s_norm_k;
  float *c_norm_q, *c_norm_k;
  float *norm3_w, *norm3_b;
  float *modulation; /* [6, dim] */
} WanDitBlock;

struct _WanDit
{
  WanWeights *weights;
  WanDitConfig config;
  int head_dim;
  int n_threads;

  tk_pool *pool;
  tk_patch_embed *patch;
  tk_rope *rope;
  WanLinear text0, text2;
  WanLinear time0, time2;
  WanLinear projection;
  WanLinear head;
  float *head_modulation; /* [2, dim] */
  WanDitBlock *blocks;

  WanDitTapFunc tap;
  gpointer tap_data;
};

struct _WanDitState
{
  WanDitConfig config;
  int n_threads;
  gint64 channels, frames, height, width;
  gint64 gf, gh, gw, L;
  int ctx_len;
  int max_groups;

  tk_gemm_ws *gemm_ws;
  tk_attention_ws *attn_ws;
  tk_conv_ws *conv_ws;

  float *x; /* [L, dim] residual stream */
  float *n; /* [L, dim] normalised input of a sub-layer */
  float *q; /* [L, dim] */
  float *k; /* [L, dim] */
  float *v; /* [L, dim] */
  /* The attention output and each sub-layer's output reuse n and q, which
   * are dead by then: two fewer [L, dim] tensors at the largest sizes. */
  float *a;
  float *y;
  float *ffn_h;    /* [WAN_FFN_CHUNK, ffn_dim] */
  float *ctx_in;   /* [text_len, text_dim] zero-padded context */
  float *ctx_h;    /* [text_len, dim] */
  float *ctx;      /* [text_len, dim] embedded context */
  float *ctx_k;    /* [text_len, dim] */
  float *ctx_v;    /* [text_len, dim] */
  float *head_out; /* [L, patch · out_dim] */

  /* Timesteps: one group per distinct value; runs of equal tokens. */
  double *group_t;   /* [max_groups] */
  float *sinus;      /* [max_groups, freq_dim] */
  float *e;          /* [max_groups, dim] */
  float *e_act;      /* [max_groups, dim] */
  float *e0;         /* [max_groups, 6 · dim] */
  float *mod;        /* [max_groups, 6 · dim] */
  float *head_mod;   /* [max_groups, 2 · dim] */
  gint64 *run_start; /* [L + 1] */
  int *run_group;    /* [L] */
  gint64 n_runs;
  int n_groups;
};

static gboolean
nomem (GError **error)
{
  return wan_engine_check_status (TK_ERR_NOMEM, "diffusion model", error);
}

/* The model */

static void
wan_dit_block_clear (WanDitBlock *b)
{
  WanLinear *linears[]
      = { &b->sq, &b->sk, &b->sv, &b->so, &b->cq, &b->ck, &b->cv, &b->co, &b->ffn0, &b->ffn2 };
  float **vectors[]
      = { &b->s_norm_q, &b->s_norm_k, &b->c_norm_q, &b->c_norm_k, &b->norm3_w, &b->norm3_b, &b->modulation };

  for (guint i = 0; i < G_N_ELEMENTS (linears); i++)
    wan_linear_clear (linears[i]);
  for (guint i = 0; i < G_N_ELEMENTS (vectors); i++)
    g_clear_pointer (vectors[i], tk_aligned_free);
}

void
wan_dit_free (WanDit *dit)
{
  if (dit == NULL)
    return;
  if (dit->blocks != NULL)
    for (int i = 0; i < dit->config.num_layers; i++)
      wan_dit_block_clear (&dit->blocks[i]);
  g_free (dit->blocks);
  wan_linear_clear (&dit->text0);
  wan_linear_clear (&dit->text2);
  wan_linear_clear (&dit->time0);
  wan_linear_clear (&dit->time2);
  wan_linear_clear (&dit->projection);
  wan_linear_clear (&dit->head);
  tk_aligned_free (dit->head_modulation);
  tk_patch_embed_free (dit->patch);
  tk_rope_free (dit->rope);
  tk_pool_free (dit->pool);
  g_free (dit);
}

static gboolean
block_init (WanDit *dit, int n, GError **error)
{
  WanDitBlock *b = &dit->blocks[n];
  const gint64 d = dit->config.dim;
  struct
  {
    WanLinear *linear;
    const char *name;
  } linears[] = {
    { &b->sq, "self_attn.q" },  { &b->sk, "self_attn.k" },  { &b->sv, "self_attn.v" },
    { &b->so, "self_attn.o" },  { &b->cq, "cross_attn.q" }, { &b->ck, "cross_attn.k" },
    { &b->cv, "cross_attn.v" }, { &b->co, "cross_attn.o" }, { &b->ffn0, "ffn.0" },
    { &b->ffn2, "ffn.2" },
  };
  struct
  {
    float **dst;
    const char *name;
    gint64 n_values;
  } vectors[] = {
    { &b->s_norm_q, "self_attn.norm_q.weight", d },
    { &b->s_norm_k, "self_attn.norm_k.weight", d },
    { &b->c_norm_q, "cross_attn.norm_q.weight", d },
    { &b->c_norm_k, "cross_attn.norm_k.weight", d },
    { &b->norm3_w, "norm3.weight", d },
    { &b->norm3_b, "norm3.bias", d },
    { &b->modulation, "modulation", 6 * d },
  };

  for (guint i = 0; i < G_N_ELEMENTS (linears); i++)
    {
      g_autofree char *name = g_strdup_printf ("blocks.%d.%s", n, linears[i].name);

      if (!wan_linear_init (linears[i].linear, dit->weights, name, TRUE, error))
        return FALSE;
    }
  for (guint i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autofree char *name = g_strdup_printf ("blocks.%d.%s", n, vectors[i].name);

      *vectors[i].dst = wan_weights_dup_f32 (dit->weights, name, vectors[i].n_values, error);
      if (*vectors[i].dst == NULL)
        return FALSE;
    }
  return TRUE;
}

static gboolean
check_config (const WanDitConfig *c, const char *path, GError **error)
{
  if (c->num_heads < 1 || c->dim % c->num_heads != 0 || (c->dim / c->num_heads) % 2 != 0
      || c->dim / c->num_heads < 6 || c->freq_dim % 2 != 0 || c->patch_size[0] != 1 || c->text_len < 1)
    {
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
          _ ("The diffusion model “%s” has a layout the engine cannot run (width %d, %d heads, patch "
             "%d×%d×%d). Use a Wan2.1 or Wan2.2 text-to-video model."),
          path, c->dim, c->num_heads, c->patch_size[0], c->patch_size[1], c->patch_size[2]);
      return FALSE;
    }
  return TRUE;
}

WanDit *
wan_dit_new (WanWeights *weights, int n_threads, GError **error)
{
  g_autoptr (WanDit) dit = NULL;
  const WanDitConfig *c;
  float *patch_w, *patch_b;
  gint64 patch_len;
  tk_status status;

  g_return_val_if_fail (weights != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  c = wan_weights_get_dit_config (weights);
  if (c == NULL)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_A_MODEL,
                   _ ("“%s” is not a Wan diffusion model. Choose the diffusion model file of the model set."),
                   wan_weights_get_path (weights));
      return NULL;
    }
  if (!check_config (c, wan_weights_get_path (weights), error))
    return NULL;

  dit = g_new0 (WanDit, 1);
  dit->weights = weights;
  dit->config = *c;
  dit->head_dim = c->dim / c->num_heads;
  dit->n_threads = n_threads > 0 ? n_threads : tk_cpu_count ();

  /* The patch embedding is a small F32 GEMM in the kernels, so its weight
   * (in_dim · 4 · dim values) is converted once here. */
  patch_len = (gint64)c->in_dim * c->patch_size[1] * c->patch_size[2];
  patch_w = wan_weights_dup_f32 (weights, "patch_embedding.weight", patch_len * c->dim, error);
  if (patch_w == NULL)
    return NULL;
  patch_b = wan_weights_dup_f32 (weights, "patch_embedding.bias", c->dim, error);
  if (patch_b == NULL)
    {
      tk_aligned_free (patch_w);
      return NULL;
    }
  status = tk_patch_embed_new (c->in_dim, c->dim, c->patch_size[1], c->patch_size[2], patch_w, patch_b,
                               &dit->patch);
  tk_aligned_free (patch_w);
  tk_aligned_free (patch_b);
  if (!wan_engine_check_status (status, "patch embedding", error))
    return NULL;

  if (!wan_linear_init (&dit->text0, weights, "text_embedding.0", TRUE, error)
      || !wan_linear_init (&dit->text2, weights, "text_embedding.2", TRUE, error)
      || !wan_linear_init (&dit->time0, weights, "time_embedding.0", TRUE, error)
      || !wan_linear_init (&dit->time2, weights, "time_embedding.2", TRUE, error)
      || !wan_linear_init (&dit->projection, weights, "time_projection.1", TRUE, error)
      || !wan_linear_init (&dit->head, weights, "head.head", TRUE, error))
    return NULL;
  dit->head_modulation = wan_weights_dup_f32 (weights, "head.modulation", 2 * (gint64)c->dim, error);
  if (dit->head_modulation == NULL)
    return NULL;
  dit->blocks = g_new0 (WanDitBlock, c->num_layers);
  for (int n = 0; n < c->num_layers; n++)
    if (!block_init (dit, n, error))
      return NULL;

  tk_blas_single_threaded ();
  dit->rope = tk_rope_new (dit->head_dim, WAN_ROPE_MAX_POS, WAN_ROPE_THETA);
  dit->pool = tk_pool_new (dit->n_threads);
  if (dit->rope == NULL || dit->pool == NULL)
    {
      nomem (error);
      return NULL;
    }
  dit->n_threads = tk_pool_size (dit->pool);
  return g_steal_pointer (&dit);
}

const WanDitConfig *
wan_dit_get_config (const WanDit *dit)
{
  g_return_val_if_fail (dit != NULL, NULL);
  return &dit->config;
}

void
wan_dit_set_tap (WanDit *dit, WanDitTapFunc func, gpointer user_data)
{
  g_return_if_fail (dit != NULL);
  dit->tap = func;
  dit->tap_data = user_data;
}

static void
tap (const WanDit *dit, const char *name, const float *data, gint64 rows, gint64 cols)
{
  if (dit->tap != NULL)
    dit->tap (name, data, rows, cols, dit->tap_data);
}

/* Sizes */

typedef struct
{
  gint64 gf, gh, gw, L;
  int max_groups;
  guint64 activations; /* floats */
  gint64 max_k;
} StateSizes;

static gboolean
state_sizes (const WanDitConfig *c,
             gint64 channels,
             gint64 frames,
             gint64 height,
             gint64 width,
             int ctx_len,
             StateSizes *s,
             GError **error)
{
  const gint64 d = c->dim;
  gint64 head_width = (gint64)c->patch_size[1] * c->patch_size[2] * c->out_dim;
  gint64 chunk;

  if (channels != c->in_dim || frames < 1 || height < 1 || width < 1 || height % c->patch_size[1] != 0
      || width % c->patch_size[2] != 0 || height / c->patch_size[1] > WAN_ROPE_MAX_POS
      || width / c->patch_size[2] > WAN_ROPE_MAX_POS || frames > WAN_ROPE_MAX_POS)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("The diffusion model cannot take a latent of %" PRId64 "×%" PRId64 "×%" PRId64
                      "×%" PRId64
                      ": it needs %d channels and a height and width that are multiples of %d and %d. Choose "
                      "another video size."),
                   channels, frames, height, width, c->in_dim, c->patch_size[1], c->patch_size[2]);
      return FALSE;
    }
  if (ctx_len < 1 || ctx_len > c->text_len)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("The diffusion model takes between 1 and %d context rows, not %d. Shorten the prompt."),
                   c->text_len, ctx_len);
      return FALSE;
    }
  s->gf = frames;
  s->gh = height / c->patch_size[1];
  s->gw = width / c->patch_size[2];
  s->L = s->gf * s->gh * s->gw;
  /* Per-token timesteps take at most one value per latent frame plus one,
   * which covers the official image-to-video mask. */
  s->max_groups = (int)MIN (s->L, frames + 1);
  chunk = MIN (s->L, WAN_FFN_CHUNK);
  s->activations = (guint64)(5 * s->L * d + chunk * c->ffn_dim + (gint64)c->text_len * (c->text_dim + 4 * d)
                             + s->L * head_width + (gint64)s->max_groups * (c->freq_dim + 16 * d));
  s->max_k = MAX (MAX (d, c->ffn_dim), MAX (c->text_dim, c->freq_dim));
  return TRUE;
}

static guint64
scratch_bytes (const WanDitConfig *c, const StateSizes *s, int n_threads)
{
  const gint64 lk = MAX (s->L, c->text_len);
  guint64 gemm = (guint64)(1024 + 64 * n_threads) * (guint64)s->max_k * 4;
  /* The attention repacks keys and values of a few heads (at most 64 MiB
   * unless one head needs more) and keeps per-thread tiles. */
  guint64 kv = MAX ((guint64)64 << 20, (guint64)lk * (guint64)(c->dim / c->num_heads) * 2 * 4);
  guint64 tiles = (guint64)n_threads * ((guint64)64 * (guint64)(lk + 3 * (c->dim / c->num_heads)) * 4);
  guint64 conv = (guint64)n_threads * (512 << 10);

  return gemm + MIN (kv, (guint64)lk * (guint64)c->dim * 2 * 4 + ((guint64)1 << 20)) + tiles + conv;
}

gboolean
wan_dit_estimate_memory (const WanWeights *weights,
                         int channels,
                         int frames,
                         int height,
                         int width,
                         int n_threads,
                         WanDitMemory *memory,
                         GError **error)
{
  const WanDitConfig *c;
  StateSizes s;

  g_return_val_if_fail (weights != NULL, FALSE);
  g_return_val_if_fail (memory != NULL, FALSE);

  c = wan_weights_get_dit_config (weights);
  if (c == NULL)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_A_MODEL,
                   _ ("“%s” is not a Wan diffusion model. Choose the diffusion model file of the model set."),
                   wan_weights_get_path (weights));
      return FALSE;
    }
  if (!state_sizes (c, channels, frames, height, width, c->text_len, &s, error))
    return FALSE;
  if (n_threads <= 0)
    n_threads = tk_cpu_count ();
  memory->weights = wan_weights_get_n_bytes (weights);
  /* The F32 copies: biases, norms, modulation and the patch embedding. */
  memory->weights
      += 4
         * ((guint64)c->num_layers * (18 * (guint64)c->dim + (guint64)c->ffn_dim)
            + (guint64)c->in_dim * c->patch_size[1] * c->patch_size[2] * c->dim + 12 * (guint64)c->dim);
  memory->activations = 4 * s.activations;
  memory->scratch = scratch_bytes (c, &s, n_threads);
  return TRUE;
}

/* The state */

void
wan_dit_state_free (WanDitState *state)
{
  float **arrays[] = {
    &state->x,      &state->n,     &state->q,     &state->k,     &state->v,     &state->ffn_h,
    &state->ctx_in, &state->ctx_h, &state->ctx,   &state->ctx_k, &state->ctx_v, &state->head_out,
    &state->sinus,  &state->e,     &state->e_act, &state->e0,    &state->mod,   &state->head_mod,
  };

  if (state == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (arrays); i++)
    g_clear_pointer (arrays[i], tk_aligned_free);
  tk_gemm_ws_free (state->gemm_ws);
  tk_attention_ws_free (state->attn_ws);
  tk_conv_ws_free (state->conv_ws);
  g_free (state->group_t);
  g_free (state->run_start);
  g_free (state->run_group);
  g_free (state);
}

static float *
floats_new (gint64 n, gboolean *ok)
{
  float *p = tk_aligned_calloc ((size_t)MAX (n, 1), sizeof (float));

  if (p == NULL)
    *ok = FALSE;
  return p;
}

WanDitState *
wan_dit_state_new (WanDit *dit, int channels, int frames, int height, int width, int ctx_len, GError **error)
{
  g_autoptr (WanDitState) st = NULL;
  const WanDitConfig *c;
  StateSizes s;
  gint64 d, chunk, head_width;
  gboolean ok = TRUE;

  g_return_val_if_fail (dit != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  c = &dit->config;
  if (!state_sizes (c, channels, frames, height, width, ctx_len, &s, error))
    return NULL;
  d = c->dim;
  chunk = MIN (s.L, WAN_FFN_CHUNK);
  head_width = (gint64)c->patch_size[1] * c->patch_size[2] * c->out_dim;

  st = g_new0 (WanDitState, 1);
  st->config = *c;
  st->n_threads = dit->n_threads;
  st->channels = channels;
  st->frames = frames;
  st->height = height;
  st->width = width;
  st->gf = s.gf;
  st->gh = s.gh;
  st->gw = s.gw;
  st->L = s.L;
  st->ctx_len = ctx_len;
  st->max_groups = s.max_groups;

  st->gemm_ws = tk_gemm_ws_new (dit->n_threads, s.max_k);
  st->attn_ws
      = tk_attention_ws_new (dit->n_threads, s.L, MAX (s.L, c->text_len), c->num_heads, dit->head_dim);
  st->conv_ws = tk_conv_ws_new (dit->n_threads);
  if (st->gemm_ws == NULL || st->attn_ws == NULL || st->conv_ws == NULL)
    {
      nomem (error);
      return NULL;
    }
  st->x = floats_new (s.L * d, &ok);
  st->n = floats_new (s.L * d, &ok);
  st->q = floats_new (s.L * d, &ok);
  st->k = floats_new (s.L * d, &ok);
  st->v = floats_new (s.L * d, &ok);
  st->a = st->n;
  st->y = st->q;
  st->ffn_h = floats_new (chunk * c->ffn_dim, &ok);
  st->ctx_in = floats_new ((gint64)c->text_len * c->text_dim, &ok);
  st->ctx_h = floats_new ((gint64)c->text_len * d, &ok);
  st->ctx = floats_new ((gint64)c->text_len * d, &ok);
  st->ctx_k = floats_new ((gint64)c->text_len * d, &ok);
  st->ctx_v = floats_new ((gint64)c->text_len * d, &ok);
  st->head_out = floats_new (s.L * head_width, &ok);
  st->sinus = floats_new ((gint64)s.max_groups * c->freq_dim, &ok);
  st->e = floats_new (s.max_groups * d, &ok);
  st->e_act = floats_new (s.max_groups * d, &ok);
  st->e0 = floats_new (s.max_groups * 6 * d, &ok);
  st->mod = floats_new (s.max_groups * 6 * d, &ok);
  st->head_mod = floats_new (s.max_groups * 2 * d, &ok);
  st->group_t = g_try_new0 (double, s.max_groups);
  st->run_start = g_try_new0 (gint64, s.L + 1);
  st->run_group = g_try_new0 (int, s.L);
  if (!ok || st->group_t == NULL || st->run_start == NULL || st->run_group == NULL)
    {
      nomem (error);
      return NULL;
    }
  return g_steal_pointer (&st);
}

/* The forward pass */

void
wan_dit_sinusoid (double t, int freq_dim, float *out)
{
  int half = freq_dim / 2;

  for (int i = 0; i < half; i++)
    {
      double arg = t * pow (10000.0, -(double)i / half);

      out[i] = (float)cos (arg);
      out[half + i] = (float)sin (arg);
    }
}

static gboolean
group_timesteps (WanDitState *st, const float *t_per_token, gint64 t, GError **error)
{
  st->n_groups = 0;
  st->n_runs = 0;
  if (t_per_token == NULL)
    {
      st->group_t[0] = (double)t;
      st->n_groups = 1;
      st->run_start[0] = 0;
      st->run_group[0] = 0;
      st->run_start[1] = st->L;
      st->n_runs = 1;
      return TRUE;
    }
  for (gint64 i = 0; i < st->L; i++)
    {
      double ti = t_per_token[i];
      int g;

      if (!isfinite (ti) || ti < 0 || ti > 1000)
        {
          g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                       _ ("The timestep of token %" PRId64
                          " is %g, outside the model’s range 0 to 1000. Check the sampler settings."),
                       i, ti);
          return FALSE;
        }
      for (g = 0; g < st->n_groups && st->group_t[g] != ti; g++)
        ;
      if (g == st->n_groups)
        {
          if (st->n_groups == st->max_groups)
            {
              g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                           _ ("The per-token timesteps take more than %d different values. Give each latent "
                              "frame one timestep."),
                           st->max_groups);
              return FALSE;
            }
          st->group_t[st->n_groups++] = ti;
        }
      if (st->n_runs == 0 || st->run_group[st->n_runs - 1] != g)
        {
          st->run_start[st->n_runs] = i;
          st->run_group[st->n_runs] = g;
          st->n_runs++;
        }
    }
  st->run_start[st->n_runs] = st->L;
  return TRUE;
}

static gboolean
time_embedding (WanDit *dit, WanDitState *st, GError **error)
{
  const WanDitConfig *c = &dit->config;
  const gint64 d = c->dim, g = st->n_groups;

  for (int i = 0; i < g; i++)
    wan_dit_sinusoid (st->group_t[i], c->freq_dim, st->sinus + (gint64)i * c->freq_dim);
  if (!wan_linear_forward (&dit->time0, st->gemm_ws, dit->pool, g, st->sinus, c->freq_dim, st->e_act, d,
                           error)
      || !wan_engine_check_status (tk_silu (dit->pool, st->e_act, st->e_act, g * d), "time embedding", error)
      || !wan_linear_forward (&dit->time2, st->gemm_ws, dit->pool, g, st->e_act, d, st->e, d, error)
      || !wan_engine_check_status (tk_silu (dit->pool, st->e, st->e_act, g * d), "time embedding", error)
      || !wan_linear_forward (&dit->projection, st->gemm_ws, dit->pool, g, st->e_act, d, st->e0, 6 * d,
                              error))
    return FALSE;
  tap (dit, "e", st->e, g, d);
  tap (dit, "e0", st->e0, g, 6 * d);
  for (int i = 0; i < g; i++)
    {
      float *hm = st->head_mod + (gint64)i * 2 * d;

      if (!wan_engine_check_status (tk_add (NULL, dit->head_modulation, st->e + i * d, hm, d), "head", error)
          || !wan_engine_check_status (tk_add (NULL, dit->head_modulation + d, st->e + i * d, hm + d, d),
                                       "head", error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
text_embedding (WanDit *dit, WanDitState *st, const float *context, int ctx_rows, GError **error)
{
  const WanDitConfig *c = &dit->config;
  const gint64 d = c->dim;
  /* Every padded row gets the same vector, so one stands for all of them. */
  gint64 rows = MIN ((gint64)ctx_rows + 1, c->text_len);

  if (ctx_rows > 0)
    memcpy (st->ctx_in, context, sizeof (float) * (gsize)ctx_rows * c->text_dim);
  memset (st->ctx_in + (gsize)ctx_rows * c->text_dim, 0,
          sizeof (float) * (gsize)(rows - ctx_rows) * c->text_dim);
  if (!wan_linear_forward (&dit->text0, st->gemm_ws, dit->pool, rows, st->ctx_in, c->text_dim, st->ctx_h, d,
                           error)
      || !wan_engine_check_status (tk_gelu_tanh (dit->pool, st->ctx_h, st->ctx_h, rows * d), "text embedding",
                                   error)
      || !wan_linear_forward (&dit->text2, st->gemm_ws, dit->pool, rows, st->ctx_h, d, st->ctx, d, error))
    return FALSE;
  for (gint64 r = rows; r < c->text_len; r++)
    memcpy (st->ctx + r * d, st->ctx + (rows - 1) * d, sizeof (float) * (gsize)d);
  tap (dit, "context", st->ctx, MIN ((gint64)ctx_rows + 1, c->text_len), d);
  return TRUE;
}

/* LN(x) · (1 + scale) + shift into st->n, run by run of equal timesteps. */
static gboolean
norm_modulate (WanDit *dit,
               WanDitState *st,
               const float *vectors,
               gint64 vec_stride,
               int shift,
               int scale,
               GError **error)
{
  const gint64 d = dit->config.dim;

  for (gint64 r = 0; r < st->n_runs; r++)
    {
      gint64 start = st->run_start[r], len = st->run_start[r + 1] - start;
      const float *v = vectors + st->run_group[r] * vec_stride;
      tk_status status = tk_layer_norm_modulate (dit->pool, st->x + start * d, st->n + start * d, len, d,
                                                 (float)dit->config.eps, v + shift * d, v + scale * d, 0, 0);

      if (!wan_engine_check_status (status, "modulation", error))
        return FALSE;
    }
  return TRUE;
}

/* x += y · gate, run by run. */
static gboolean
gated_residual (WanDit *dit, WanDitState *st, int gate, GError **error)
{
  const gint64 d = dit->config.dim;

  for (gint64 r = 0; r < st->n_runs; r++)
    {
      gint64 start = st->run_start[r], len = st->run_start[r + 1] - start;
      const float *g = st->mod + st->run_group[r] * 6 * d + gate * d;

      if (!wan_engine_check_status (
              tk_gated_residual (dit->pool, st->x + start * d, st->y + start * d, g, len, d, 0, 0),
              "residual", error))
        return FALSE;
    }
  return TRUE;
}

static gboolean
attention (WanDit *dit, WanDitState *st, const float *k, const float *v, gint64 lk, GError **error)
{
  const gint64 d = dit->config.dim;
  tk_attention_args args;

  tk_attention_args_init (&args);
  args.lq = st->L;
  args.lk = lk;
  args.heads = dit->config.num_heads;
  args.head_dim = dit->head_dim;
  args.q = st->q;
  args.k = k;
  args.v = v;
  args.out = st->a;
  args.ldq = args.ldk = args.ldv = args.ldo = d;
  return wan_engine_check_status (tk_attention_forward (st->attn_ws, dit->pool, &args), "attention", error);
}

static gboolean
block_forward (WanDit *dit, WanDitState *st, const WanDitBlock *b, GError **error)
{
  const WanDitConfig *c = &dit->config;
  const gint64 d = c->dim, L = st->L;
  const float eps = (float)c->eps;

  for (int g = 0; g < st->n_groups; g++)
    if (!wan_engine_check_status (
            tk_add (NULL, b->modulation, st->e0 + g * 6 * d, st->mod + g * 6 * d, 6 * d), "modulation",
            error))
      return FALSE;

  /* Self-attention, modulated and gated. */
  if (!norm_modulate (dit, st, st->mod, 6 * d, 0, 1, error)
      || !wan_linear_forward (&b->sq, st->gemm_ws, dit->pool, L, st->n, d, st->q, d, error)
      || !wan_linear_forward (&b->sk, st->gemm_ws, dit->pool, L, st->n, d, st->k, d, error)
      || !wan_linear_forward (&b->sv, st->gemm_ws, dit->pool, L, st->n, d, st->v, d, error)
      || !wan_engine_check_status (tk_rms_norm (dit->pool, st->q, st->q, L, d, b->s_norm_q, eps), "norm",
                                   error)
      || !wan_engine_check_status (tk_rms_norm (dit->pool, st->k, st->k, L, d, b->s_norm_k, eps), "norm",
                                   error)
      || !wan_engine_check_status (
          tk_rope_apply (dit->rope, dit->pool, st->q, d, c->num_heads, st->gf, st->gh, st->gw),
          "position embedding", error)
      || !wan_engine_check_status (
          tk_rope_apply (dit->rope, dit->pool, st->k, d, c->num_heads, st->gf, st->gh, st->gw),
          "position embedding", error)
      || !attention (dit, st, st->k, st->v, L, error)
      || !wan_linear_forward (&b->so, st->gemm_ws, dit->pool, L, st->a, d, st->y, d, error)
      || !gated_residual (dit, st, 2, error))
    return FALSE;

  /* Cross-attention over every context row, padded ones included. */
  if (!wan_engine_check_status (tk_layer_norm (dit->pool, st->x, st->n, L, d, b->norm3_w, b->norm3_b, eps),
                                "norm", error)
      || !wan_linear_forward (&b->cq, st->gemm_ws, dit->pool, L, st->n, d, st->q, d, error)
      || !wan_linear_forward (&b->ck, st->gemm_ws, dit->pool, c->text_len, st->ctx, d, st->ctx_k, d, error)
      || !wan_linear_forward (&b->cv, st->gemm_ws, dit->pool, c->text_len, st->ctx, d, st->ctx_v, d, error)
      || !wan_engine_check_status (tk_rms_norm (dit->pool, st->q, st->q, L, d, b->c_norm_q, eps), "norm",
                                   error)
      || !wan_engine_check_status (
          tk_rms_norm (dit->pool, st->ctx_k, st->ctx_k, c->text_len, d, b->c_norm_k, eps), "norm", error)
      || !attention (dit, st, st->ctx_k, st->ctx_v, c->text_len, error)
      || !wan_linear_forward (&b->co, st->gemm_ws, dit->pool, L, st->a, d, st->y, d, error)
      || !wan_engine_check_status (tk_add (dit->pool, st->x, st->y, st->x, L * d), "residual", error))
    return FALSE;

  /* Feed-forward, modulated and gated, a chunk of tokens at a time. */
  if (!norm_modulate (dit, st, st->mod, 6 * d, 3, 4, error))
    return FALSE;
  for (gint64 r0 = 0; r0 < L; r0 += WAN_FFN_CHUNK)
    {
      gint64 rows = MIN (WAN_FFN_CHUNK, L - r0);

      if (!wan_linear_forward (&b->ffn0, st->gemm_ws, dit->pool, rows, st->n + r0 * d, d, st->ffn_h,
                               c->ffn_dim, error)
          || !wan_engine_check_status (tk_gelu_tanh (dit->pool, st->ffn_h, st->ffn_h, rows * c->ffn_dim),
                                       "FFN", error)
          || !wan_linear_forward (&b->ffn2, st->gemm_ws, dit->pool, rows, st->ffn_h, c->ffn_dim,
                                  st->y + r0 * d, d, error))
        return FALSE;
    }
  return gated_residual (dit, st, 5, error);
}

static gboolean
state_fits (const WanDit *dit, const WanDitState *st, GError **error)
{
  const WanDitConfig *a = &dit->config, *b = &st->config;

  if (a->dim == b->dim && a->ffn_dim == b->ffn_dim && a->num_heads == b->num_heads && a->in_dim == b->in_dim
      && a->out_dim == b->out_dim && a->text_dim == b->text_dim && a->text_len == b->text_len
      && a->freq_dim == b->freq_dim && a->patch_size[1] == b->patch_size[1]
      && a->patch_size[2] == b->patch_size[2] && dit->n_threads <= st->n_threads)
    return TRUE;
  g_set_error_literal (
      error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_MISMATCH,
      _ ("The run state was made for a diffusion model of another size. Make a new state for "
         "this model."));
  return FALSE;
}

gboolean
wan_dit_forward (WanDit *dit,
                 WanDitState *state,
                 const float *x,
                 const float *t_per_token,
                 gint64 t,
                 const float *context,
                 int ctx_rows,
                 float *out,
                 WanCancelFunc cancel,
                 WanProgressFunc progress,
                 gpointer user_data,
                 GError **error)
{
  const WanDitConfig *c;
  gint64 d, head_width;

  g_return_val_if_fail (dit != NULL, FALSE);
  g_return_val_if_fail (state != NULL, FALSE);
  g_return_val_if_fail (x != NULL && out != NULL, FALSE);
  g_return_val_if_fail (context != NULL || ctx_rows == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  c = &dit->config;
  d = c->dim;
  head_width = (gint64)c->patch_size[1] * c->patch_size[2] * c->out_dim;
  if (!state_fits (dit, state, error))
    return FALSE;
  if (ctx_rows < 0 || ctx_rows > state->ctx_len)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("The context has %d rows but the run state takes at most %d. Make the state for the "
                      "longest prompt."),
                   ctx_rows, state->ctx_len);
      return FALSE;
    }
  if (t_per_token == NULL && (t < 0 || t > 1000))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("The timestep %" PRId64 " is outside the model’s range 0 to 1000. Check the "
                      "sampler settings."),
                   t);
      return FALSE;
    }
  if (!wan_engine_check_cancel (cancel, user_data, error) || !group_timesteps (state, t_per_token, t, error))
    return FALSE;

  if (!wan_engine_check_status (tk_patch_embed_forward (dit->patch, dit->pool, state->conv_ws, x,
                                                        state->frames, state->height, state->width, state->x,
                                                        d),
                                "patch embedding", error))
    return FALSE;
  tap (dit, "patch_embed", state->x, state->L, d);
  if (!time_embedding (dit, state, error) || !text_embedding (dit, state, context, ctx_rows, error))
    return FALSE;

  for (int i = 0; i < c->num_layers; i++)
    {
      if (progress != NULL)
        progress (i, c->num_layers, user_data);
      if (!wan_engine_check_cancel (cancel, user_data, error)
          || !block_forward (dit, state, &dit->blocks[i], error))
        return FALSE;
      if (dit->tap != NULL)
        {
          g_autofree char *name = g_strdup_printf ("block%d", i);
          tap (dit, name, state->x, state->L, d);
        }
    }
  if (!wan_engine_check_cancel (cancel, user_data, error)
      || !norm_modulate (dit, state, state->head_mod, 2 * d, 0, 1, error)
      || !wan_linear_forward (&dit->head, state->gemm_ws, dit->pool, state->L, state->n, d, state->head_out,
                              head_width, error))
    return FALSE;
  tap (dit, "head", state->head_out, state->L, head_width);
  if (!wan_engine_check_status (tk_unpatchify (dit->pool, state->head_out, head_width, c->out_dim, state->gf,
                                               state->gh, state->gw, c->patch_size[1], c->patch_size[2], out),
                                "unpatchify", error))
    return FALSE;
  if (progress != NULL)
    progress (c->num_layers, c->num_layers, user_data);
  return TRUE;
}
