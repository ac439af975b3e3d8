/* tk-convert.h: conversions between F32 and the 16- and 8-bit float dtypes.
 *
 * To F32 every conversion is exact (then multiplied by the scale for F8).
 * From F32 they round to nearest, ties to even, with these edge rules:
 *   - NaN stays NaN with its sign (quieted; F16 and BF16 keep the top
 *     payload bits, as the F16C instructions do);
 *   - F16, BF16 and F8_E5M2 overflow to ±infinity as IEEE 754 does;
 *   - F8_E4M3 (the "fn" variant, no infinities) saturates: every finite value
 *     beyond ±448 and ±infinity become ±448;
 *   - values below the smallest subnormal round to (signed) zero.
 * The array functions pick AVX-512, AVX2+F16C or the portable path at run
 * time (see tk_isa_active ()); all paths give bit-identical results.
 */
#ifndef TK_CONVERT_H
#define TK_CONVERT_H

#include <stddef.h>
#include <stdint.h>

#include "tk-tensor.h"

#ifdef __cplusplus
extern "C"
{
#endif

  float tk_f16_to_f32 (uint16_t h);
  uint16_t tk_f32_to_f16 (float f);
  float tk_bf16_to_f32 (uint16_t h);
  uint16_t tk_f32_to_bf16 (float f);
  float tk_f8_e4m3_to_f32 (uint8_t b);
  uint8_t tk_f32_to_f8_e4m3 (float f);
  float tk_f8_e5m2_to_f32 (uint8_t b);
  uint8_t tk_f32_to_f8_e5m2 (float f);

  /* dst[i] = src[i] × scale for F8 dtypes, src[i] for the others (scale is
   * ignored). src_dtype is F32, F16, BF16, F8_E4M3 or F8_E5M2. The arrays must
   * not overlap. Returns TK_ERR_INVALID for another dtype. */
  tk_status tk_convert_to_f32 (tk_dtype src_dtype, const void *src, float *dst, size_t n, float scale);

  /* dst[i] = src[i] / scale for F8 dtypes (then rounded), src[i] rounded for
   * the others. Returns TK_ERR_INVALID for another dtype or, for F8, a scale
   * that is zero, negative, infinite or NaN. */
  tk_status tk_convert_from_f32 (tk_dtype dst_dtype, const float *src, void *dst, size_t n, float scale);

  /* Converts a whole tensor of any float dtype and any strides into dst, a
   * contiguous F32 array of tk_tensor_numel (src) floats, applying src->scale. */
  tk_status tk_tensor_to_f32 (const tk_tensor *src, float *dst);

#ifdef __cplusplus
}
#endif

#endif /* TK_CONVERT_H */
