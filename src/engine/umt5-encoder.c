/* umt5-encoder.c: the umT5 text encoder (encoder only), and the weight
 * binding the engine's models share.
 *
 * Only the real tokens are computed: padded keys are masked to exactly zero
 * weight in the official 512-token run, so the valid rows are the same. */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "umt5-encoder.h"

/* T5LayerNorm's epsilon. */
#define UMT5_EPS 1e-6f

/* Weight binding */

gboolean
wan_engine_check_cancel (WanCancelFunc cancel, gpointer user_data, GError **error)
{
  if (cancel == NULL || !cancel (user_data))
    return TRUE;
  g_set_error_literal (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CANCELLED, _ ("The run was cancelled."));
  return FALSE;
}

gboolean
wan_engine_check_status (tk_status status, const char *what, GError **error)
{
  /* @what names the step in the message as a technical detail for bug
   * reports; it is not translated. */
  if (status == TK_OK)
    return TRUE;
  if (status == TK_ERR_NOMEM)
    g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NO_MEMORY,
                 _ ("The engine ran out of memory (step: %s). Close other programs or choose a smaller video "
                    "size."),
                 what);
  else
    g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                 _ ("The engine could not compute a step (step: %s, %s). Check that the model files belong "
                    "together."),
                 what, tk_status_name (status));
  return FALSE;
}

static gboolean
map_dtype (const SafetensorsTensor *t, tk_dtype *out, GError **error)
{
  switch (t->dtype)
    {
      case SAFETENSORS_DTYPE_F32:
        *out = TK_DTYPE_F32;
        return TRUE;
      case SAFETENSORS_DTYPE_F16:
        *out = TK_DTYPE_F16;
        return TRUE;
      case SAFETENSORS_DTYPE_BF16:
        *out = TK_DTYPE_BF16;
        return TRUE;
      case SAFETENSORS_DTYPE_F8_E4M3:
        *out = TK_DTYPE_F8_E4M3;
        return TRUE;
      case SAFETENSORS_DTYPE_F8_E5M2:
        *out = TK_DTYPE_F8_E5M2;
        return TRUE;
      default:
        g_set_error (
            error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
            _ ("The weight “%s” in “%s” is stored as %s, which the engine cannot compute with. Use a "
               "file with F32, F16, BF16 or FP8 weights."),
            t->name, t->file, safetensors_dtype_get_name (t->dtype));
        return FALSE;
    }
}

static const SafetensorsTensor *
lookup_checked (const WanWeights *weights, const char *name, gint64 n_values, GError **error)
{
  const SafetensorsTensor *t = wan_weights_lookup (weights, name);

  if (t == NULL)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_MISSING_TENSOR,
                   _ ("The weight file “%s” has no tensor “%s”. Download the model again."),
                   wan_weights_get_path (weights), name);
      return NULL;
    }
  if (n_values >= 0 && t->n_elements != n_values)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   _ ("The tensor “%s” in “%s” has %" PRId64 " values instead of %" PRId64
                      ". Check that the file is a complete Wan model."),
                   name, t->file, t->n_elements, n_values);
      return NULL;
    }
  return t;
}

static float *
tensor_dup_f32 (const SafetensorsTensor *t, gint64 n_values, GError **error)
{
  float *dst = tk_aligned_calloc ((size_t)MAX (n_values, 1), sizeof (float));

  if (dst == NULL)
    {
      wan_engine_check_status (TK_ERR_NOMEM, t->name, error);
      return NULL;
    }
  if (!safetensors_tensor_read_f32 (t, dst, (gsize)n_values, error))
    {
      tk_aligned_free (dst);
      return NULL;
    }
  return dst;
}

float *
wan_weights_dup_f32 (const WanWeights *weights, const char *name, gint64 n_values, GError **error)
{
  const SafetensorsTensor *t = lookup_checked (weights, name, n_values, error);

  return t != NULL ? tensor_dup_f32 (t, n_values, error) : NULL;
}

gboolean
wan_linear_init (
    WanLinear *linear, const WanWeights *weights, const char *name, gboolean with_bias, GError **error)
{
  g_autofree char *wname = g_strdup_printf ("%s.weight", name);
  const SafetensorsTensor *t = lookup_checked (weights, wname, -1, error);
  int64_t shape[2];
  tk_dtype dtype;
  void *data;
  size_t elem;

  memset (linear, 0, sizeof *linear);
  if (t == NULL || !map_dtype (t, &dtype, error))
    return FALSE;
  if (t->n_dims < 2 || t->shape[0] < 1 || t->n_elements % t->shape[0] != 0)
    {
      g_autofree char *shape_str = safetensors_tensor_format_shape (t);
      g_set_error (
          error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
          _ ("The weight “%s” in “%s” has the shape %s, which is not a matrix. Check that the file is "
             "a complete Wan model."),
          wname, t->file, shape_str);
      return FALSE;
    }
  linear->n_out = shape[0] = t->shape[0];
  linear->n_in = shape[1] = t->n_elements / t->shape[0];
  elem = tk_dtype_size (dtype);
  data = (void *)t->data;
  /* Memory-mapped tensors are only as aligned as the file's offsets; the
   * kernels read whole elements, so a misaligned weight gets an aligned copy. */
  if ((guintptr)data % elem != 0)
    {
      linear->owned = tk_aligned_alloc (t->n_bytes);
      if (linear->owned == NULL)
        return wan_engine_check_status (TK_ERR_NOMEM, name, error);
      memcpy (linear->owned, t->data, t->n_bytes);
      data = linear->owned;
    }
  tk_tensor_init_view (&linear->w, dtype, data, 2, shape, NULL);
  if (t->scale != NULL && t->scale->n_elements == 1)
    {
      float s;

      if (!safetensors_tensor_read_f32 (t->scale, &s, 1, error))
        {
          wan_linear_clear (linear);
          return FALSE;
        }
      linear->w.scale = s;
    }
  else if (t->scale != NULL)
    {
      linear->row_scale = tensor_dup_f32 (t->scale, linear->n_out, error);
      if (linear->row_scale == NULL)
        {
          wan_linear_clear (linear);
          return FALSE;
        }
    }
  if (with_bias)
    {
      g_autofree char *bname = g_strdup_printf ("%s.bias", name);

      linear->bias = wan_weights_dup_f32 (weights, bname, linear->n_out, error);
      if (linear->bias == NULL)
        {
          wan_linear_clear (linear);
          return FALSE;
        }
    }
  return TRUE;
}

void
wan_linear_clear (WanLinear *linear)
{
  g_clear_pointer (&linear->owned, tk_aligned_free);
  g_clear_pointer (&linear->bias, tk_aligned_free);
  g_clear_pointer (&linear->row_scale, tk_aligned_free);
}

gboolean
wan_linear_forward (const WanLinear *linear,
                    tk_gemm_ws *ws,
                    tk_pool *pool,
                    int64_t m,
                    const float *x,
                    int64_t ldx,
                    float *y,
                    int64_t ldy,
                    GError **error)
{
  tk_status status;

  if (linear->row_scale == NULL)
    return wan_engine_check_status (tk_linear (ws, pool, m, x, ldx, &linear->w, linear->bias, 0.0f, y, ldy),
                                    "linear", error);

  /* One scale per output row scales whole output columns, so the product of
   * the stored values is scaled afterwards, then the bias added. */
  status = tk_linear (ws, pool, m, x, ldx, &linear->w, NULL, 0.0f, y, ldy);
  if (status == TK_OK && ldy == linear->n_out)
    {
      status = tk_mul_row (pool, y, linear->row_scale, y, m, linear->n_out);
      if (status == TK_OK && linear->bias != NULL)
        status = tk_add_row (pool, y, linear->bias, y, m, linear->n_out);
    }
  for (int64_t r = 0; status == TK_OK && ldy != linear->n_out && r < m; r++)
    {
      status = tk_mul_row (NULL, y + r * ldy, linear->row_scale, y + r * ldy, 1, linear->n_out);
      if (status == TK_OK && linear->bias != NULL)
        status = tk_add_row (NULL, y + r * ldy, linear->bias, y + r * ldy, 1, linear->n_out);
    }
  return wan_engine_check_status (status, "linear", error);
}

/* Relative positions */

int
umt5_relative_bucket (int rel, int num_buckets, int max_distance)
{
  int nb = num_buckets / 2;
  int max_exact = nb / 2;
  int bucket = rel > 0 ? nb : 0;
  int a = ABS (rel);
  int large;

  if (a < max_exact)
    return bucket + a;
  large = max_exact
          + (int)(logf ((float)a / (float)max_exact) / (float)log ((double)max_distance / max_exact)
                  * (float)(nb - max_exact));
  return bucket + MIN (large, nb - 1);
}

/* The encoder */

typedef struct
{
  WanLinear q, k, v, o;
  WanLinear gate, fc1, fc2;
  float *norm1;
  float *norm2;
  float *rel_table; /* [num_buckets, heads] */
} Umt5Layer;

struct _Umt5Encoder
{
  WanWeights *weights;
  Umt5Config config;
  int head_dim;
  int n_threads;

  const SafetensorsTensor *embedding;
  tk_dtype emb_dtype;
  float emb_scale;      /* fp8 embeddings: one scale, */
  float *emb_row_scale; /* or one per token */
  Umt5Layer *layers;
  float *norm;

  tk_pool *pool;
  tk_gemm_ws *gemm_ws;
  tk_attention_ws *attn_ws;

  /* Scratch for UMT5_TEXT_LEN tokens. */
  float *x;     /* [L, dim], the residual stream */
  float *h;     /* [L, dim] */
  float *q;     /* [L, dim_attn] */
  float *k;     /* [L, dim_attn] */
  float *v;     /* [L, dim_attn] */
  float *attn;  /* [L, dim_attn] */
  float *ffn_a; /* [L, dim_ffn] */
  float *ffn_b; /* [L, dim_ffn] */
  int32_t *buckets;
  guint8 *row; /* one embedding row in its stored dtype */
};

static void
umt5_layer_clear (Umt5Layer *layer)
{
  wan_linear_clear (&layer->q);
  wan_linear_clear (&layer->k);
  wan_linear_clear (&layer->v);
  wan_linear_clear (&layer->o);
  wan_linear_clear (&layer->gate);
  wan_linear_clear (&layer->fc1);
  wan_linear_clear (&layer->fc2);
  g_clear_pointer (&layer->norm1, tk_aligned_free);
  g_clear_pointer (&layer->norm2, tk_aligned_free);
  g_clear_pointer (&layer->rel_table, tk_aligned_free);
}

void
umt5_encoder_free (Umt5Encoder *encoder)
{
  if (encoder == NULL)
    return;
  if (encoder->layers != NULL)
    for (int i = 0; i < encoder->config.num_layers; i++)
      umt5_layer_clear (&encoder->layers[i]);
  g_free (encoder->layers);
  tk_aligned_free (encoder->norm);
  tk_aligned_free (encoder->emb_row_scale);
  tk_attention_ws_free (encoder->attn_ws);
  tk_gemm_ws_free (encoder->gemm_ws);
  tk_pool_free (encoder->pool);
  tk_aligned_free (encoder->x);
  tk_aligned_free (encoder->h);
  tk_aligned_free (encoder->q);
  tk_aligned_free (encoder->k);
  tk_aligned_free (encoder->v);
  tk_aligned_free (encoder->attn);
  tk_aligned_free (encoder->ffn_a);
  tk_aligned_free (encoder->ffn_b);
  tk_aligned_free (encoder->buckets);
  tk_aligned_free (encoder->row);
  g_free (encoder);
}

static gboolean
umt5_layer_init (Umt5Encoder *enc, int n, GError **error)
{
  Umt5Layer *layer = &enc->layers[n];
  const Umt5Config *c = &enc->config;
  g_autofree char *prefix = g_strdup_printf ("blocks.%d", n);
  g_autofree char *q = g_strdup_printf ("%s.attn.q", prefix);
  g_autofree char *k = g_strdup_printf ("%s.attn.k", prefix);
  g_autofree char *v = g_strdup_printf ("%s.attn.v", prefix);
  g_autofree char *o = g_strdup_printf ("%s.attn.o", prefix);
  g_autofree char *gate = g_strdup_printf ("%s.ffn.gate.0", prefix);
  g_autofree char *fc1 = g_strdup_printf ("%s.ffn.fc1", prefix);
  g_autofree char *fc2 = g_strdup_printf ("%s.ffn.fc2", prefix);
  g_autofree char *norm1 = g_strdup_printf ("%s.norm1.weight", prefix);
  g_autofree char *norm2 = g_strdup_printf ("%s.norm2.weight", prefix);
  g_autofree char *rel = c->shared_pos ? g_strdup ("pos_embedding.embedding.weight")
                                       : g_strdup_printf ("%s.pos_embedding.embedding.weight", prefix);

  if (!wan_linear_init (&layer->q, enc->weights, q, FALSE, error)
      || !wan_linear_init (&layer->k, enc->weights, k, FALSE, error)
      || !wan_linear_init (&layer->v, enc->weights, v, FALSE, error)
      || !wan_linear_init (&layer->o, enc->weights, o, FALSE, error)
      || !wan_linear_init (&layer->gate, enc->weights, gate, FALSE, error)
      || !wan_linear_init (&layer->fc1, enc->weights, fc1, FALSE, error)
      || !wan_linear_init (&layer->fc2, enc->weights, fc2, FALSE, error))
    return FALSE;
  layer->norm1 = wan_weights_dup_f32 (enc->weights, norm1, c->dim, error);
  if (layer->norm1 == NULL)
    return FALSE;
  layer->norm2 = wan_weights_dup_f32 (enc->weights, norm2, c->dim, error);
  if (layer->norm2 == NULL)
    return FALSE;
  layer->rel_table = wan_weights_dup_f32 (enc->weights, rel, (gint64)c->num_buckets * c->num_heads, error);
  return layer->rel_table != NULL;
}

static float *
scratch_new (gint64 n, GError **error)
{
  float *p = tk_aligned_calloc ((size_t)n, sizeof (float));

  if (p == NULL)
    wan_engine_check_status (TK_ERR_NOMEM, "text encoder", error);
  return p;
}

Umt5Encoder *
umt5_encoder_new (WanWeights *weights, int n_threads, GError **error)
{
  g_autoptr (Umt5Encoder) enc = NULL;
  const Umt5Config *c;
  const gint64 L = UMT5_TEXT_LEN;
  int64_t max_k;

  g_return_val_if_fail (weights != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  c = wan_weights_get_t5_config (weights);
  if (c == NULL)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_A_MODEL,
                   _ ("“%s” is not a umT5 text encoder. Choose the text encoder file of the model."),
                   wan_weights_get_path (weights));
      return NULL;
    }
  if (c->num_heads < 1 || c->dim_attn % c->num_heads != 0 || c->num_buckets < 4)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE,
                   _ ("The text encoder “%s” has %d attention channels for %d heads and %d position buckets, "
                      "which do not fit together. Download the text encoder again."),
                   wan_weights_get_path (weights), c->dim_attn, c->num_heads, c->num_buckets);
      return NULL;
    }

  enc = g_new0 (Umt5Encoder, 1);
  enc->weights = weights;
  enc->config = *c;
  enc->head_dim = c->dim_attn / c->num_heads;
  enc->n_threads = n_threads > 0 ? n_threads : tk_cpu_count ();

  enc->embedding = lookup_checked (weights, "token_embedding.weight", (gint64)c->vocab * c->dim, error);
  if (enc->embedding == NULL || !map_dtype (enc->embedding, &enc->emb_dtype, error))
    return NULL;
  enc->emb_scale = 1.0f;
  if (enc->embedding->scale != NULL && enc->embedding->scale->n_elements == 1)
    {
      if (!safetensors_tensor_read_f32 (enc->embedding->scale, &enc->emb_scale, 1, error))
        return NULL;
    }
  else if (enc->embedding->scale != NULL)
    {
      enc->emb_row_scale = tensor_dup_f32 (enc->embedding->scale, c->vocab, error);
      if (enc->emb_row_scale == NULL)
        return NULL;
    }
  enc->layers = g_new0 (Umt5Layer, c->num_layers);
  for (int n = 0; n < c->num_layers; n++)
    if (!umt5_layer_init (enc, n, error))
      return NULL;
  enc->norm = wan_weights_dup_f32 (weights, "norm.weight", c->dim, error);
  if (enc->norm == NULL)
    return NULL;

  tk_blas_single_threaded ();
  max_k = MAX (MAX (c->dim, c->dim_attn), c->dim_ffn);
  enc->pool = tk_pool_new (enc->n_threads);
  enc->gemm_ws = enc->pool != NULL ? tk_gemm_ws_new (tk_pool_size (enc->pool), max_k) : NULL;
  enc->attn_ws = enc->pool != NULL
                     ? tk_attention_ws_new (tk_pool_size (enc->pool), L, L, c->num_heads, enc->head_dim)
                     : NULL;
  if (enc->gemm_ws == NULL || enc->attn_ws == NULL)
    {
      wan_engine_check_status (TK_ERR_NOMEM, "text encoder", error);
      return NULL;
    }
  if ((enc->x = scratch_new (L * c->dim, error)) == NULL || (enc->h = scratch_new (L * c->dim, error)) == NULL
      || (enc->q = scratch_new (L * c->dim_attn, error)) == NULL
      || (enc->k = scratch_new (L * c->dim_attn, error)) == NULL
      || (enc->v = scratch_new (L * c->dim_attn, error)) == NULL
      || (enc->attn = scratch_new (L * c->dim_attn, error)) == NULL
      || (enc->ffn_a = scratch_new (L * c->dim_ffn, error)) == NULL
      || (enc->ffn_b = scratch_new (L * c->dim_ffn, error)) == NULL)
    return NULL;
  enc->buckets = tk_aligned_calloc (2 * L, sizeof (int32_t));
  enc->row = tk_aligned_calloc ((size_t)c->dim, tk_dtype_size (enc->emb_dtype) + sizeof (float));
  if (enc->buckets == NULL || enc->row == NULL)
    {
      wan_engine_check_status (TK_ERR_NOMEM, "text encoder", error);
      return NULL;
    }
  return g_steal_pointer (&enc);
}

int
umt5_encoder_get_dim (const Umt5Encoder *encoder)
{
  g_return_val_if_fail (encoder != NULL, 0);
  return encoder->config.dim;
}

static gboolean
embed_tokens (Umt5Encoder *enc, const gint32 *ids, int n, GError **error)
{
  const SafetensorsTensor *t = enc->embedding;
  const int dim = enc->config.dim;
  const gsize row_bytes = t->n_bytes / (gsize)enc->config.vocab;

  for (int i = 0; i < n; i++)
    {
      float *dst = enc->x + (gsize)i * dim;

      if (ids[i] < 0 || ids[i] >= enc->config.vocab)
        {
          g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                       _ ("The token id %d at position %d is outside the text encoder’s vocabulary of %d "
                          "tokens. Use the tokenizer that belongs to this text encoder."),
                       ids[i], i, enc->config.vocab);
          return FALSE;
        }
      if (t->dtype == SAFETENSORS_DTYPE_F32)
        memcpy (dst, t->data + (gsize)ids[i] * row_bytes, row_bytes);
      else
        {
          float scale = enc->emb_row_scale != NULL ? enc->emb_row_scale[ids[i]] : enc->emb_scale;

          memcpy (enc->row, t->data + (gsize)ids[i] * row_bytes, row_bytes);
          if (!wan_engine_check_status (tk_convert_to_f32 (enc->emb_dtype, enc->row, dst, (size_t)dim, scale),
                                        "token embedding", error))
            return FALSE;
        }
    }
  return TRUE;
}

static gboolean
umt5_layer_forward (Umt5Encoder *enc, const Umt5Layer *layer, int n, GError **error)
{
  const Umt5Config *c = &enc->config;
  tk_attention_args args;

  if (!wan_engine_check_status (
          tk_t5_rms_norm (enc->pool, enc->x, enc->h, n, c->dim, layer->norm1, TK_DTYPE_F32, UMT5_EPS),
          "text encoder norm", error)
      || !wan_linear_forward (&layer->q, enc->gemm_ws, enc->pool, n, enc->h, c->dim, enc->q, c->dim_attn,
                              error)
      || !wan_linear_forward (&layer->k, enc->gemm_ws, enc->pool, n, enc->h, c->dim, enc->k, c->dim_attn,
                              error)
      || !wan_linear_forward (&layer->v, enc->gemm_ws, enc->pool, n, enc->h, c->dim, enc->v, c->dim_attn,
                              error))
    return FALSE;

  tk_attention_args_init (&args);
  args.lq = args.lk = n;
  args.heads = c->num_heads;
  args.head_dim = enc->head_dim;
  args.q = enc->q;
  args.k = enc->k;
  args.v = enc->v;
  args.ldq = args.ldk = args.ldv = args.ldo = c->dim_attn;
  args.out = enc->attn;
  args.scale = 1.0f;
  args.rel_table = layer->rel_table;
  args.rel_buckets = enc->buckets;
  args.rel_n_buckets = c->num_buckets;
  args.rel_bucket_stride = c->num_heads;
  args.rel_head_stride = 1;
  if (!wan_engine_check_status (tk_attention_forward (enc->attn_ws, enc->pool, &args),
                                "text encoder attention", error)
      || !wan_linear_forward (&layer->o, enc->gemm_ws, enc->pool, n, enc->attn, c->dim_attn, enc->h, c->dim,
                              error)
      || !wan_engine_check_status (tk_add (enc->pool, enc->x, enc->h, enc->x, (int64_t)n * c->dim),
                                   "text encoder residual", error))
    return FALSE;

  if (!wan_engine_check_status (
          tk_t5_rms_norm (enc->pool, enc->x, enc->h, n, c->dim, layer->norm2, TK_DTYPE_F32, UMT5_EPS),
          "text encoder norm", error)
      || !wan_linear_forward (&layer->gate, enc->gemm_ws, enc->pool, n, enc->h, c->dim, enc->ffn_a,
                              c->dim_ffn, error)
      || !wan_linear_forward (&layer->fc1, enc->gemm_ws, enc->pool, n, enc->h, c->dim, enc->ffn_b, c->dim_ffn,
                              error)
      || !wan_engine_check_status (tk_gelu_tanh (enc->pool, enc->ffn_a, enc->ffn_a, (int64_t)n * c->dim_ffn),
                                   "text encoder activation", error)
      || !wan_engine_check_status (
          tk_mul (enc->pool, enc->ffn_b, enc->ffn_a, enc->ffn_b, (int64_t)n * c->dim_ffn),
          "text encoder gate", error)
      || !wan_linear_forward (&layer->fc2, enc->gemm_ws, enc->pool, n, enc->ffn_b, c->dim_ffn, enc->h, c->dim,
                              error))
    return FALSE;
  return wan_engine_check_status (tk_add (enc->pool, enc->x, enc->h, enc->x, (int64_t)n * c->dim),
                                  "text encoder residual", error);
}

gboolean
umt5_encoder_encode (Umt5Encoder *encoder,
                     const gint32 *ids,
                     int n_valid,
                     float *out,
                     WanCancelFunc cancel,
                     gpointer user_data,
                     GError **error)
{
  const Umt5Config *c;

  g_return_val_if_fail (encoder != NULL, FALSE);
  g_return_val_if_fail (ids != NULL || n_valid == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  c = &encoder->config;
  if (n_valid < 1 || n_valid > UMT5_TEXT_LEN)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT,
                   _ ("The text encoder takes between 1 and %d tokens, not %d. Shorten the prompt."),
                   UMT5_TEXT_LEN, n_valid);
      return FALSE;
    }
  if (!wan_engine_check_cancel (cancel, user_data, error) || !embed_tokens (encoder, ids, n_valid, error)
      || !wan_engine_check_status (
          tk_attention_t5_buckets (n_valid, n_valid, c->num_buckets, UMT5_MAX_DISTANCE, encoder->buckets),
          "text encoder positions", error))
    return FALSE;
  for (int i = 0; i < c->num_layers; i++)
    if (!wan_engine_check_cancel (cancel, user_data, error)
        || !umt5_layer_forward (encoder, &encoder->layers[i], n_valid, error))
      return FALSE;
  return wan_engine_check_status (
      tk_t5_rms_norm (encoder->pool, encoder->x, out, n_valid, c->dim, encoder->norm, TK_DTYPE_F32, UMT5_EPS),
      "text encoder norm", error);
}
