/* tk-ops.h: element-wise kernels, norms, activations and softmax.
 *
 * All work on F32 arrays in row-major layout, split over the pool by rows (or
 * blocks of elements); a NULL pool runs in the calling thread. Every function
 * may run in place (y == x). They return TK_ERR_INVALID for NULL arrays,
 * negative sizes or a width below 1 when there are rows, and do nothing for
 * zero rows.
 *
 * The arithmetic follows the order of the official PyTorch code in F32 (for
 * instance modulation is x·(1 + scale) + shift, two roundings, no fused
 * multiply-add), so the vectorised and portable paths differ only in
 * exp/tanh, whose vector forms are within 2 ulp of expf.
 */
#ifndef TK_OPS_H
#define TK_OPS_H

#include <stdint.h>

#include "tk-tensor.h"
#include "tk-threadpool.h"

#ifdef __cplusplus
extern "C"
{
#endif

  /* LayerNorm over each row of x [rows, width]: (x − mean) / sqrt(var + eps),
   * var the biased variance; then × gamma + beta when given (either may be
   * NULL: Wan's norm1/norm2 have neither, norm3 has both). */
  tk_status tk_layer_norm (tk_pool *pool,
                           const float *x,
                           float *y,
                           int64_t rows,
                           int64_t width,
                           const float *gamma,
                           const float *beta,
                           float eps);

  /* LayerNorm without affine followed by modulation, in one pass:
   * y = LN(x) · (1 + scale) + shift. See tk_modulate for the vector layout. */
  tk_status tk_layer_norm_modulate (tk_pool *pool,
                                    const float *x,
                                    float *y,
                                    int64_t rows,
                                    int64_t width,
                                    float eps,
                                    const float *shift,
                                    const float *scale,
                                    int64_t rows_per_vec,
                                    int64_t vec_stride);

  /* RMSNorm over each full row (Wan's q/k norm over all of D, not per head):
   * y = x · (1 / sqrt(mean(x²) + eps)) · weight; weight [width] or NULL. */
  tk_status tk_rms_norm (
      tk_pool *pool, const float *x, float *y, int64_t rows, int64_t width, const float *weight, float eps);

  /* T5's RMSNorm: as tk_rms_norm, except that with a BF16 or F16 weight the
   * normalised x is rounded to that dtype before the multiply and the product
   * rounded again, as T5LayerNorm does in half precision. weight_dtype is F32,
   * BF16 or F16; weight is [width]. */
  tk_status tk_t5_rms_norm (tk_pool *pool,
                            const float *x,
                            float *y,
                            int64_t rows,
                            int64_t width,
                            const void *weight,
                            tk_dtype weight_dtype,
                            float eps);

  /* The Wan VAE's RMS_norm on channels-first data x [channels, spatial]: each
   * position's channel vector is L2-normalised (divided by max(‖x‖, eps), eps
   * 1e-12 in the model), then × sqrt(channels) × gamma[c]; gamma may be NULL. */
  tk_status tk_l2_norm_channels (tk_pool *pool,
                                 const float *x,
                                 float *y,
                                 int64_t channels,
                                 int64_t spatial,
                                 const float *gamma,
                                 float eps);

  /* The same on channels-last data x [rows, width = channels]. */
  tk_status tk_l2_norm_rows (
      tk_pool *pool, const float *x, float *y, int64_t rows, int64_t width, const float *gamma, float eps);

  /* GELU, tanh form: 0.5·x·(1 + tanh(sqrt(2/π)·(x + 0.044715·x³))), computed
   * as x / (1 + exp(−2u)), which is the same function without the
   * cancellation for negative x. */
  tk_status tk_gelu_tanh (tk_pool *pool, const float *x, float *y, int64_t n);

  /* SiLU: x / (1 + exp(−x)). */
  tk_status tk_silu (tk_pool *pool, const float *x, float *y, int64_t n);

  /* Row-wise softmax, stable (the row maximum is subtracted first). A row that
   * is all −infinity gives all zeros. */
  tk_status tk_softmax (tk_pool *pool, const float *x, float *y, int64_t rows, int64_t width);

  /* y = a + b and y = a · b on n elements. */
  tk_status tk_add (tk_pool *pool, const float *a, const float *b, float *y, int64_t n);
  tk_status tk_mul (tk_pool *pool, const float *a, const float *b, float *y, int64_t n);

  /* Broadcast of one row over a matrix: y[r, c] = x[r, c] + row[c] (or ×). */
  tk_status
  tk_add_row (tk_pool *pool, const float *x, const float *row, float *y, int64_t rows, int64_t width);
  tk_status
  tk_mul_row (tk_pool *pool, const float *x, const float *row, float *y, int64_t rows, int64_t width);

  /* Modulation y = x · (1 + scale) + shift with per-group vectors: row r uses
   * shift + g · vec_stride and scale + g · vec_stride, g = r / rows_per_vec.
   * rows_per_vec <= 0 means one vector for all rows; for Wan's per-frame
   * modulation pass the tokens per frame and the distance between frames'
   * vectors (6·D inside e0 [T, 6, D]); for per-token timesteps (Wan2.2),
   * rows_per_vec = 1. */
  tk_status tk_modulate (tk_pool *pool,
                         const float *x,
                         float *y,
                         int64_t rows,
                         int64_t width,
                         const float *shift,
                         const float *scale,
                         int64_t rows_per_vec,
                         int64_t vec_stride);

  /* Gated residual x += y · gate, gate laid out as in tk_modulate. */
  tk_status tk_gated_residual (tk_pool *pool,
                               float *x,
                               const float *y,
                               const float *gate,
                               int64_t rows,
                               int64_t width,
                               int64_t rows_per_vec,
                               int64_t vec_stride);

#ifdef __cplusplus
}
#endif

#endif /* TK_OPS_H */
