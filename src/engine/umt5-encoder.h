/* umt5-encoder.h: engine-internal helpers of the umT5 encoder and the Wan
 * DiT. The public API of both (Umt5Encoder, WanDit) is in takes-engine.h;
 * this header adds what the model code shares: a linear layer bound to a
 * weight in its stored dtype, and small F32 copies of vectors. */
#pragma once

#include "takes-engine.h"
#include "takes-kernels.h"
#include "wan-weights.h"

G_BEGIN_DECLS

/* A linear layer y = x · Wᵀ + b over a memory-mapped weight in its stored
 * dtype (F32, F16, BF16, F8 with one scale or one scale per row). */
typedef struct
{
  tk_tensor w;      /* view of the stored weight, [n_out, n_in] */
  void *owned;      /* an aligned copy when the mapped data was misaligned */
  float *bias;      /* [n_out] F32, or NULL */
  float *row_scale; /* [n_out] for fp8 weights with one scale per row, or NULL */
  int64_t n_out;
  int64_t n_in;
} WanLinear;

/* Binds "@name.weight" (and "@name.bias" when @with_bias). */
gboolean wan_linear_init (
    WanLinear *linear, const WanWeights *weights, const char *name, gboolean with_bias, GError **error);
void wan_linear_clear (WanLinear *linear);

/* y[m, n_out] = x[m, n_in] · Wᵀ + b, x rows @ldx floats apart, y rows @ldy. */
gboolean wan_linear_forward (const WanLinear *linear,
                             tk_gemm_ws *ws,
                             tk_pool *pool,
                             int64_t m,
                             const float *x,
                             int64_t ldx,
                             float *y,
                             int64_t ldy,
                             GError **error);

/* A new aligned F32 copy of tensor @name, which must hold @n_values values;
 * free with tk_aligned_free(). */
float *wan_weights_dup_f32 (const WanWeights *weights, const char *name, gint64 n_values, GError **error);

/* Sets @error from a kernel status; @what names the step for the message. */
gboolean wan_engine_check_status (tk_status status, const char *what, GError **error);

/* Sets @error and returns FALSE when @cancel says the run should stop. */
gboolean wan_engine_check_cancel (WanCancelFunc cancel, gpointer user_data, GError **error);

/* The bucket of the offset @rel = key − query in umT5's bidirectional
 * relative-position table, computed directly from the formula (as the
 * official code does, in float). */
int umt5_relative_bucket (int rel, int num_buckets, int max_distance);

/* The largest distance umT5's buckets tell apart. */
#define UMT5_MAX_DISTANCE 128

G_END_DECLS
