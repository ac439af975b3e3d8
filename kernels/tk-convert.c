/* tk-convert.c: float format conversions, portable and vectorised.
 *
 * The portable encoders work on the F32 bit pattern: the normal range rounds
 * to nearest even by adding half an ulp minus one plus the kept lowest bit;
 * the subnormal range lets the FPU round by adding a power of two whose ulp
 * is the target's subnormal step. The vector paths are the same integer
 * recipes on 8 or 16 lanes (or the F16C instructions, which round the same
 * way), so every path gives the same bits.
 */
#include "tk-convert.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TK_X86 1
#else
#define TK_X86 0
#endif

#define AVX2_TARGET __attribute__ ((target ("avx2,fma,f16c")))
#define AVX512_TARGET __attribute__ ((target ("avx512f,avx512bw,avx512dq,avx512vl,fma,f16c")))

static inline uint32_t
f32_bits (float f)
{
  uint32_t u;

  memcpy (&u, &f, sizeof u);
  return u;
}

static inline float
bits_f32 (uint32_t u)
{
  float f;

  memcpy (&f, &u, sizeof f);
  return f;
}

/* ---- scalar conversions (the portable path) ---- */

float
tk_f16_to_f32 (uint16_t h)
{
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1Fu;
  uint32_t mant = h & 0x3FFu;

  if (exp == 0x1F)
    /* Infinity, or a NaN quieted the way VCVTPH2PS does. */
    return bits_f32 (sign | 0x7F800000u | (mant << 13) | (mant != 0 ? 0x400000u : 0));
  if (exp == 0)
    {
      /* Zero or subnormal: mant × 2^-24 is exact in F32. */
      float v = (float)mant * 0x1p-24f;
      return bits_f32 (sign | f32_bits (v));
    }
  return bits_f32 (sign | ((exp + 112) << 23) | (mant << 13));
}

uint16_t
tk_f32_to_f16 (float f)
{
  uint32_t bits = f32_bits (f);
  uint32_t sign = (bits >> 16) & 0x8000u;
  uint32_t abs = bits & 0x7FFFFFFFu;

  if (abs > 0x7F800000u)
    return (uint16_t)(sign | 0x7E00u | ((abs >> 13) & 0x3FFu));
  /* 65520 is halfway between 65504 (odd mantissa) and 2^16: up to infinity. */
  if (abs >= 0x477FF000u)
    return (uint16_t)(sign | 0x7C00u);
  if (abs < 0x38800000u)
    {
      /* Below 2^-14: adding 0.5 leaves an ulp of 2^-24, the F16 subnormal step. */
      uint32_t r = f32_bits (bits_f32 (abs) + 0.5f) - 0x3F000000u;
      return (uint16_t)(sign | r);
    }
  abs += ((uint32_t)(15 - 127) << 23) + 0xFFFu + ((abs >> 13) & 1u);
  return (uint16_t)(sign | (abs >> 13));
}

float
tk_bf16_to_f32 (uint16_t h)
{
  return bits_f32 ((uint32_t)h << 16);
}

uint16_t
tk_f32_to_bf16 (float f)
{
  uint32_t bits = f32_bits (f);

  if ((bits & 0x7FFFFFFFu) > 0x7F800000u)
    return (uint16_t)((bits >> 16) | 0x40u);
  bits += 0x7FFFu + ((bits >> 16) & 1u);
  return (uint16_t)(bits >> 16);
}

float
tk_f8_e4m3_to_f32 (uint8_t b)
{
  uint32_t sign = (uint32_t)(b & 0x80u) << 24;
  uint32_t exp = (b >> 3) & 0xFu;
  uint32_t mant = b & 0x7u;

  if ((b & 0x7Fu) == 0x7Fu)
    return bits_f32 (sign | 0x7FC00000u);
  if (exp == 0)
    return bits_f32 (sign | f32_bits ((float)mant * 0x1p-9f));
  return bits_f32 (sign | ((exp + 120) << 23) | (mant << 20));
}

uint8_t
tk_f32_to_f8_e4m3 (float f)
{
  uint32_t bits = f32_bits (f);
  uint32_t sign = (bits >> 24) & 0x80u;
  uint32_t abs = bits & 0x7FFFFFFFu;
  uint32_t r;

  if (abs > 0x7F800000u)
    return (uint8_t)(sign | 0x7Fu);
  if (abs >= 0x43E00000u) /* 448 and beyond, infinity included */
    return (uint8_t)(sign | 0x7Eu);
  if (abs < 0x3C800000u)
    /* Below 2^-6: adding 2^14 leaves an ulp of 2^-9, the E4M3 subnormal step. */
    r = f32_bits (bits_f32 (abs) + 16384.0f) - 0x46800000u;
  else
    r = (abs + ((uint32_t)(7 - 127) << 23) + 0x7FFFFu + ((abs >> 20) & 1u)) >> 20;
  return (uint8_t)(sign | r);
}

float
tk_f8_e5m2_to_f32 (uint8_t b)
{
  /* E5M2 is the upper byte of an F16. */
  return tk_f16_to_f32 ((uint16_t)(b << 8));
}

uint8_t
tk_f32_to_f8_e5m2 (float f)
{
  uint32_t bits = f32_bits (f);
  uint32_t sign = (bits >> 24) & 0x80u;
  uint32_t abs = bits & 0x7FFFFFFFu;
  uint32_t r;

  if (abs > 0x7F800000u)
    return (uint8_t)(sign | 0x7Fu);
  if (abs < 0x38800000u)
    /* Below 2^-14: adding 2^7 leaves an ulp of 2^-16, the E5M2 subnormal step. */
    r = f32_bits (bits_f32 (abs) + 128.0f) - 0x43000000u;
  else
    {
      r = (abs + ((uint32_t)(15 - 127) << 23) + 0xFFFFFu + ((abs >> 21) & 1u)) >> 21;
      if (r > 0x7Cu || abs >= 0x7F800000u)
        r = 0x7Cu;
    }
  return (uint8_t)(sign | r);
}

/* ---- portable array loops ---- */

static void
to_f32_portable (tk_dtype dtype, const void *src, float *dst, size_t n, float scale)
{
  switch (dtype)
    {
      case TK_DTYPE_F16:
        for (size_t i = 0; i < n; i++)
          dst[i] = tk_f16_to_f32 (((const uint16_t *)src)[i]);
        break;
      case TK_DTYPE_BF16:
        for (size_t i = 0; i < n; i++)
          dst[i] = tk_bf16_to_f32 (((const uint16_t *)src)[i]);
        break;
      case TK_DTYPE_F8_E4M3:
        for (size_t i = 0; i < n; i++)
          dst[i] = tk_f8_e4m3_to_f32 (((const uint8_t *)src)[i]) * scale;
        break;
      case TK_DTYPE_F8_E5M2:
        for (size_t i = 0; i < n; i++)
          dst[i] = tk_f8_e5m2_to_f32 (((const uint8_t *)src)[i]) * scale;
        break;
      default:
        break;
    }
}

static void
from_f32_portable (tk_dtype dtype, const float *src, void *dst, size_t n, float scale)
{
  switch (dtype)
    {
      case TK_DTYPE_F16:
        for (size_t i = 0; i < n; i++)
          ((uint16_t *)dst)[i] = tk_f32_to_f16 (src[i]);
        break;
      case TK_DTYPE_BF16:
        for (size_t i = 0; i < n; i++)
          ((uint16_t *)dst)[i] = tk_f32_to_bf16 (src[i]);
        break;
      case TK_DTYPE_F8_E4M3:
        for (size_t i = 0; i < n; i++)
          ((uint8_t *)dst)[i] = tk_f32_to_f8_e4m3 (src[i] / scale);
        break;
      case TK_DTYPE_F8_E5M2:
        for (size_t i = 0; i < n; i++)
          ((uint8_t *)dst)[i] = tk_f32_to_f8_e5m2 (src[i] / scale);
        break;
      default:
        break;
    }
}

#if TK_X86

/* ---- AVX2 + F16C, 8 lanes ---- */

AVX2_TARGET static inline __m256
avx2_e4m3_decode8 (__m128i bytes)
{
  __m128i b16 = _mm_cvtepu8_epi16 (bytes);
  __m128i h = _mm_or_si128 (_mm_slli_epi16 (_mm_and_si128 (b16, _mm_set1_epi16 (0x80)), 8),
                            _mm_slli_epi16 (_mm_and_si128 (b16, _mm_set1_epi16 (0x7F)), 7));
  __m128i nan16 = _mm_cmpeq_epi16 (_mm_and_si128 (b16, _mm_set1_epi16 (0x7F)), _mm_set1_epi16 (0x7F));
  __m256 v = _mm256_mul_ps (_mm256_cvtph_ps (h), _mm256_set1_ps (256.0f));
  __m256 nan = _mm256_or_ps (_mm256_and_ps (v, _mm256_castsi256_ps (_mm256_set1_epi32 ((int)0x80000000u))),
                             _mm256_castsi256_ps (_mm256_set1_epi32 (0x7FC00000)));

  return _mm256_blendv_ps (v, nan, _mm256_castsi256_ps (_mm256_cvtepi16_epi32 (nan16)));
}

AVX2_TARGET static void
to_f32_avx2 (tk_dtype dtype, const void *src, float *dst, size_t n, float scale)
{
  size_t i = 0;
  __m256 vscale = _mm256_set1_ps (scale);

  switch (dtype)
    {
      case TK_DTYPE_F16:
        for (; i + 8 <= n; i += 8)
          _mm256_storeu_ps (dst + i,
                            _mm256_cvtph_ps (_mm_loadu_si128 ((const __m128i *)((const uint16_t *)src + i))));
        break;
      case TK_DTYPE_BF16:
        for (; i + 8 <= n; i += 8)
          {
            __m256i w
                = _mm256_cvtepu16_epi32 (_mm_loadu_si128 ((const __m128i *)((const uint16_t *)src + i)));
            _mm256_storeu_ps (dst + i, _mm256_castsi256_ps (_mm256_slli_epi32 (w, 16)));
          }
        break;
      case TK_DTYPE_F8_E4M3:
        for (; i + 8 <= n; i += 8)
          {
            __m128i b = _mm_loadl_epi64 ((const __m128i *)((const uint8_t *)src + i));
            _mm256_storeu_ps (dst + i, _mm256_mul_ps (avx2_e4m3_decode8 (b), vscale));
          }
        break;
      case TK_DTYPE_F8_E5M2:
        for (; i + 8 <= n; i += 8)
          {
            __m128i b = _mm_loadl_epi64 ((const __m128i *)((const uint8_t *)src + i));
            __m128i h = _mm_slli_epi16 (_mm_cvtepu8_epi16 (b), 8);
            _mm256_storeu_ps (dst + i, _mm256_mul_ps (_mm256_cvtph_ps (h), vscale));
          }
        break;
      default:
        return;
    }
  to_f32_portable (dtype, (const char *)src + i * tk_dtype_size (dtype), dst + i, n - i, scale);
}

/* Packs the low byte of each of the 8 lanes into 8 consecutive bytes. */
AVX2_TARGET static inline void
avx2_store_bytes8 (uint8_t *dst, __m256i r)
{
  __m256i p16 = _mm256_packs_epi32 (r, r);
  __m256i p8 = _mm256_packus_epi16 (p16, p16);
  uint32_t lo = (uint32_t)_mm_cvtsi128_si32 (_mm256_castsi256_si128 (p8));
  uint32_t hi = (uint32_t)_mm_cvtsi128_si32 (_mm256_extracti128_si256 (p8, 1));

  memcpy (dst, &lo, 4);
  memcpy (dst + 4, &hi, 4);
}

AVX2_TARGET static inline __m256i
avx2_select (__m256i mask, __m256i if_true, __m256i if_false)
{
  return _mm256_blendv_epi8 (if_false, if_true, mask);
}

AVX2_TARGET static inline __m256i
avx2_e4m3_encode8 (__m256 x)
{
  __m256i bits = _mm256_castps_si256 (x);
  __m256i sign = _mm256_srli_epi32 (_mm256_and_si256 (bits, _mm256_set1_epi32 ((int)0x80000000u)), 24);
  __m256i abs = _mm256_and_si256 (bits, _mm256_set1_epi32 (0x7FFFFFFF));
  __m256i den = _mm256_sub_epi32 (
      _mm256_castps_si256 (_mm256_add_ps (_mm256_castsi256_ps (abs), _mm256_set1_ps (16384.0f))),
      _mm256_set1_epi32 (0x46800000));
  __m256i odd = _mm256_and_si256 (_mm256_srli_epi32 (abs, 20), _mm256_set1_epi32 (1));
  __m256i nrm = _mm256_srli_epi32 (
      _mm256_add_epi32 (
          _mm256_add_epi32 (abs, _mm256_set1_epi32 ((int)(((uint32_t)(7 - 127) << 23) + 0x7FFFFu))), odd),
      20);
  __m256i r = avx2_select (_mm256_cmpgt_epi32 (_mm256_set1_epi32 (0x3C800000), abs), den, nrm);

  r = avx2_select (_mm256_cmpgt_epi32 (abs, _mm256_set1_epi32 (0x43E00000 - 1)), _mm256_set1_epi32 (0x7E), r);
  r = avx2_select (_mm256_cmpgt_epi32 (abs, _mm256_set1_epi32 (0x7F800000)), _mm256_set1_epi32 (0x7F), r);
  return _mm256_or_si256 (r, sign);
}

AVX2_TARGET static inline __m256i
avx2_e5m2_encode8 (__m256 x)
{
  __m256i bits = _mm256_castps_si256 (x);
  __m256i sign = _mm256_srli_epi32 (_mm256_and_si256 (bits, _mm256_set1_epi32 ((int)0x80000000u)), 24);
  __m256i abs = _mm256_and_si256 (bits, _mm256_set1_epi32 (0x7FFFFFFF));
  __m256i den = _mm256_sub_epi32 (
      _mm256_castps_si256 (_mm256_add_ps (_mm256_castsi256_ps (abs), _mm256_set1_ps (128.0f))),
      _mm256_set1_epi32 (0x43000000));
  __m256i odd = _mm256_and_si256 (_mm256_srli_epi32 (abs, 21), _mm256_set1_epi32 (1));
  __m256i nrm = _mm256_srli_epi32 (
      _mm256_add_epi32 (
          _mm256_add_epi32 (abs, _mm256_set1_epi32 ((int)(((uint32_t)(15 - 127) << 23) + 0xFFFFFu))), odd),
      21);
  __m256i r;

  /* The rounding add can carry far past the infinity code: clamp, and send
   * infinity itself there too. */
  nrm = _mm256_min_epu32 (nrm, _mm256_set1_epi32 (0x7C));
  nrm = avx2_select (_mm256_cmpgt_epi32 (abs, _mm256_set1_epi32 (0x7F800000 - 1)), _mm256_set1_epi32 (0x7C),
                     nrm);
  r = avx2_select (_mm256_cmpgt_epi32 (_mm256_set1_epi32 (0x38800000), abs), den, nrm);
  r = avx2_select (_mm256_cmpgt_epi32 (abs, _mm256_set1_epi32 (0x7F800000)), _mm256_set1_epi32 (0x7F), r);
  return _mm256_or_si256 (r, sign);
}

AVX2_TARGET static void
from_f32_avx2 (tk_dtype dtype, const float *src, void *dst, size_t n, float scale)
{
  size_t i = 0;
  __m256 vscale = _mm256_set1_ps (scale);

  switch (dtype)
    {
      case TK_DTYPE_F16:
        for (; i + 8 <= n; i += 8)
          _mm_storeu_si128 ((__m128i *)((uint16_t *)dst + i),
                            _mm256_cvtps_ph (_mm256_loadu_ps (src + i), _MM_FROUND_TO_NEAREST_INT));
        break;
      case TK_DTYPE_BF16:
        for (; i + 8 <= n; i += 8)
          {
            __m256i bits = _mm256_castps_si256 (_mm256_loadu_ps (src + i));
            __m256i abs = _mm256_and_si256 (bits, _mm256_set1_epi32 (0x7FFFFFFF));
            __m256i odd = _mm256_and_si256 (_mm256_srli_epi32 (bits, 16), _mm256_set1_epi32 (1));
            __m256i r = _mm256_srli_epi32 (
                _mm256_add_epi32 (_mm256_add_epi32 (bits, _mm256_set1_epi32 (0x7FFF)), odd), 16);
            __m256i nan = _mm256_or_si256 (_mm256_srli_epi32 (bits, 16), _mm256_set1_epi32 (0x40));
            __m256i packed;

            r = avx2_select (_mm256_cmpgt_epi32 (abs, _mm256_set1_epi32 (0x7F800000)), nan, r);
            packed = _mm256_permute4x64_epi64 (_mm256_packus_epi32 (r, r), 0x08);
            _mm_storeu_si128 ((__m128i *)((uint16_t *)dst + i), _mm256_castsi256_si128 (packed));
          }
        break;
      case TK_DTYPE_F8_E4M3:
        for (; i + 8 <= n; i += 8)
          avx2_store_bytes8 ((uint8_t *)dst + i,
                             avx2_e4m3_encode8 (_mm256_div_ps (_mm256_loadu_ps (src + i), vscale)));
        break;
      case TK_DTYPE_F8_E5M2:
        for (; i + 8 <= n; i += 8)
          avx2_store_bytes8 ((uint8_t *)dst + i,
                             avx2_e5m2_encode8 (_mm256_div_ps (_mm256_loadu_ps (src + i), vscale)));
        break;
      default:
        return;
    }
  from_f32_portable (dtype, src + i, (char *)dst + i * tk_dtype_size (dtype), n - i, scale);
}

/* ---- AVX-512, 16 lanes (32 for the byte decoders) ---- */

AVX512_TARGET static inline __m512
avx512_e4m3_fix_nan (__m512 v, __mmask16 nan)
{
  __m512 q = _mm512_castsi512_ps (
      _mm512_or_si512 (_mm512_and_si512 (_mm512_castps_si512 (v), _mm512_set1_epi32 ((int)0x80000000u)),
                       _mm512_set1_epi32 (0x7FC00000)));

  return _mm512_mask_mov_ps (v, nan, q);
}

AVX512_TARGET static void
to_f32_avx512 (tk_dtype dtype, const void *src, float *dst, size_t n, float scale)
{
  size_t i = 0;
  __m512 vscale = _mm512_set1_ps (scale);

  switch (dtype)
    {
      case TK_DTYPE_F16:
        for (; i + 16 <= n; i += 16)
          _mm512_storeu_ps (
              dst + i, _mm512_cvtph_ps (_mm256_loadu_si256 ((const __m256i *)((const uint16_t *)src + i))));
        break;
      case TK_DTYPE_BF16:
        for (; i + 16 <= n; i += 16)
          {
            __m512i w
                = _mm512_cvtepu16_epi32 (_mm256_loadu_si256 ((const __m256i *)((const uint16_t *)src + i)));
            _mm512_storeu_ps (dst + i, _mm512_castsi512_ps (_mm512_slli_epi32 (w, 16)));
          }
        break;
      case TK_DTYPE_F8_E4M3:
        for (; i + 32 <= n; i += 32)
          {
            __m512i b16
                = _mm512_cvtepu8_epi16 (_mm256_loadu_si256 ((const __m256i *)((const uint8_t *)src + i)));
            __m512i mag = _mm512_and_si512 (b16, _mm512_set1_epi16 (0x7F));
            __m512i h
                = _mm512_or_si512 (_mm512_slli_epi16 (_mm512_and_si512 (b16, _mm512_set1_epi16 (0x80)), 8),
                                   _mm512_slli_epi16 (mag, 7));
            __mmask32 nan = _mm512_cmpeq_epi16_mask (mag, _mm512_set1_epi16 (0x7F));
            __m512 lo = _mm512_mul_ps (_mm512_cvtph_ps (_mm512_castsi512_si256 (h)), _mm512_set1_ps (256.0f));
            __m512 hi
                = _mm512_mul_ps (_mm512_cvtph_ps (_mm512_extracti64x4_epi64 (h, 1)), _mm512_set1_ps (256.0f));

            lo = avx512_e4m3_fix_nan (lo, (__mmask16)(nan & 0xFFFFu));
            hi = avx512_e4m3_fix_nan (hi, (__mmask16)(nan >> 16));
            _mm512_storeu_ps (dst + i, _mm512_mul_ps (lo, vscale));
            _mm512_storeu_ps (dst + i + 16, _mm512_mul_ps (hi, vscale));
          }
        break;
      case TK_DTYPE_F8_E5M2:
        for (; i + 32 <= n; i += 32)
          {
            __m512i b16
                = _mm512_cvtepu8_epi16 (_mm256_loadu_si256 ((const __m256i *)((const uint8_t *)src + i)));
            __m512i h = _mm512_slli_epi16 (b16, 8);

            _mm512_storeu_ps (dst + i, _mm512_mul_ps (_mm512_cvtph_ps (_mm512_castsi512_si256 (h)), vscale));
            _mm512_storeu_ps (dst + i + 16,
                              _mm512_mul_ps (_mm512_cvtph_ps (_mm512_extracti64x4_epi64 (h, 1)), vscale));
          }
        break;
      default:
        return;
    }
  to_f32_portable (dtype, (const char *)src + i * tk_dtype_size (dtype), dst + i, n - i, scale);
}

AVX512_TARGET static inline __m512i
avx512_e4m3_encode16 (__m512 x)
{
  __m512i bits = _mm512_castps_si512 (x);
  __m512i sign = _mm512_srli_epi32 (_mm512_and_si512 (bits, _mm512_set1_epi32 ((int)0x80000000u)), 24);
  __m512i abs = _mm512_and_si512 (bits, _mm512_set1_epi32 (0x7FFFFFFF));
  __m512i den = _mm512_sub_epi32 (
      _mm512_castps_si512 (_mm512_add_ps (_mm512_castsi512_ps (abs), _mm512_set1_ps (16384.0f))),
      _mm512_set1_epi32 (0x46800000));
  __m512i odd = _mm512_and_si512 (_mm512_srli_epi32 (abs, 20), _mm512_set1_epi32 (1));
  __m512i r = _mm512_srli_epi32 (
      _mm512_add_epi32 (
          _mm512_add_epi32 (abs, _mm512_set1_epi32 ((int)(((uint32_t)(7 - 127) << 23) + 0x7FFFFu))), odd),
      20);

  r = _mm512_mask_mov_epi32 (r, _mm512_cmplt_epu32_mask (abs, _mm512_set1_epi32 (0x3C800000)), den);
  r = _mm512_mask_mov_epi32 (r, _mm512_cmpge_epu32_mask (abs, _mm512_set1_epi32 (0x43E00000)),
                             _mm512_set1_epi32 (0x7E));
  r = _mm512_mask_mov_epi32 (r, _mm512_cmpgt_epu32_mask (abs, _mm512_set1_epi32 (0x7F800000)),
                             _mm512_set1_epi32 (0x7F));
  return _mm512_or_si512 (r, sign);
}

AVX512_TARGET static inline __m512i
avx512_e5m2_encode16 (__m512 x)
{
  __m512i bits = _mm512_castps_si512 (x);
  __m512i sign = _mm512_srli_epi32 (_mm512_and_si512 (bits, _mm512_set1_epi32 ((int)0x80000000u)), 24);
  __m512i abs = _mm512_and_si512 (bits, _mm512_set1_epi32 (0x7FFFFFFF));
  __m512i den = _mm512_sub_epi32 (
      _mm512_castps_si512 (_mm512_add_ps (_mm512_castsi512_ps (abs), _mm512_set1_ps (128.0f))),
      _mm512_set1_epi32 (0x43000000));
  __m512i odd = _mm512_and_si512 (_mm512_srli_epi32 (abs, 21), _mm512_set1_epi32 (1));
  __m512i r = _mm512_srli_epi32 (
      _mm512_add_epi32 (
          _mm512_add_epi32 (abs, _mm512_set1_epi32 ((int)(((uint32_t)(15 - 127) << 23) + 0xFFFFFu))), odd),
      21);

  r = _mm512_min_epu32 (r, _mm512_set1_epi32 (0x7C));
  r = _mm512_mask_mov_epi32 (r, _mm512_cmpeq_epu32_mask (abs, _mm512_set1_epi32 (0x7F800000)),
                             _mm512_set1_epi32 (0x7C));
  r = _mm512_mask_mov_epi32 (r, _mm512_cmplt_epu32_mask (abs, _mm512_set1_epi32 (0x38800000)), den);
  r = _mm512_mask_mov_epi32 (r, _mm512_cmpgt_epu32_mask (abs, _mm512_set1_epi32 (0x7F800000)),
                             _mm512_set1_epi32 (0x7F));
  return _mm512_or_si512 (r, sign);
}

AVX512_TARGET static void
from_f32_avx512 (tk_dtype dtype, const float *src, void *dst, size_t n, float scale)
{
  size_t i = 0;
  __m512 vscale = _mm512_set1_ps (scale);

  switch (dtype)
    {
      case TK_DTYPE_F16:
        for (; i + 16 <= n; i += 16)
          _mm256_storeu_si256 (
              (__m256i *)((uint16_t *)dst + i),
              _mm512_cvtps_ph (_mm512_loadu_ps (src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        break;
      case TK_DTYPE_BF16:
        for (; i + 16 <= n; i += 16)
          {
            __m512i bits = _mm512_castps_si512 (_mm512_loadu_ps (src + i));
            __m512i abs = _mm512_and_si512 (bits, _mm512_set1_epi32 (0x7FFFFFFF));
            __m512i odd = _mm512_and_si512 (_mm512_srli_epi32 (bits, 16), _mm512_set1_epi32 (1));
            __m512i r = _mm512_srli_epi32 (
                _mm512_add_epi32 (_mm512_add_epi32 (bits, _mm512_set1_epi32 (0x7FFF)), odd), 16);
            __m512i nan = _mm512_or_si512 (_mm512_srli_epi32 (bits, 16), _mm512_set1_epi32 (0x40));

            r = _mm512_mask_mov_epi32 (r, _mm512_cmpgt_epu32_mask (abs, _mm512_set1_epi32 (0x7F800000)), nan);
            _mm256_storeu_si256 ((__m256i *)((uint16_t *)dst + i), _mm512_cvtepi32_epi16 (r));
          }
        break;
      case TK_DTYPE_F8_E4M3:
        for (; i + 16 <= n; i += 16)
          _mm_storeu_si128 ((__m128i *)((uint8_t *)dst + i),
                            _mm512_cvtepi32_epi8 (
                                avx512_e4m3_encode16 (_mm512_div_ps (_mm512_loadu_ps (src + i), vscale))));
        break;
      case TK_DTYPE_F8_E5M2:
        for (; i + 16 <= n; i += 16)
          _mm_storeu_si128 ((__m128i *)((uint8_t *)dst + i),
                            _mm512_cvtepi32_epi8 (
                                avx512_e5m2_encode16 (_mm512_div_ps (_mm512_loadu_ps (src + i), vscale))));
        break;
      default:
        return;
    }
  from_f32_portable (dtype, src + i, (char *)dst + i * tk_dtype_size (dtype), n - i, scale);
}

#endif /* TK_X86 */

static int
is_convertible (tk_dtype dtype)
{
  return dtype == TK_DTYPE_F32 || dtype == TK_DTYPE_F16 || dtype == TK_DTYPE_BF16 || dtype == TK_DTYPE_F8_E4M3
         || dtype == TK_DTYPE_F8_E5M2;
}

static int
is_f8 (tk_dtype dtype)
{
  return dtype == TK_DTYPE_F8_E4M3 || dtype == TK_DTYPE_F8_E5M2;
}

tk_status
tk_convert_to_f32 (tk_dtype src_dtype, const void *src, float *dst, size_t n, float scale)
{
  if (!is_convertible (src_dtype) || (n > 0 && (src == NULL || dst == NULL)))
    return TK_ERR_INVALID;
  if (n == 0)
    return TK_OK;
  if (src_dtype == TK_DTYPE_F32)
    {
      memmove (dst, src, n * sizeof (float));
      return TK_OK;
    }
  if (!is_f8 (src_dtype))
    scale = 1.0f;
#if TK_X86
  switch (tk_isa_active ())
    {
      case TK_ISA_AVX512:
        to_f32_avx512 (src_dtype, src, dst, n, scale);
        return TK_OK;
      case TK_ISA_AVX2:
        to_f32_avx2 (src_dtype, src, dst, n, scale);
        return TK_OK;
      case TK_ISA_PORTABLE:
        break;
    }
#endif
  to_f32_portable (src_dtype, src, dst, n, scale);
  return TK_OK;
}

tk_status
tk_convert_from_f32 (tk_dtype dst_dtype, const float *src, void *dst, size_t n, float scale)
{
  if (!is_convertible (dst_dtype) || (n > 0 && (src == NULL || dst == NULL)))
    return TK_ERR_INVALID;
  if (is_f8 (dst_dtype) && !(scale > 0.0f && isfinite (scale)))
    return TK_ERR_INVALID;
  if (n == 0)
    return TK_OK;
  if (dst_dtype == TK_DTYPE_F32)
    {
      memmove (dst, src, n * sizeof (float));
      return TK_OK;
    }
#if TK_X86
  switch (tk_isa_active ())
    {
      case TK_ISA_AVX512:
        from_f32_avx512 (dst_dtype, src, dst, n, scale);
        return TK_OK;
      case TK_ISA_AVX2:
        from_f32_avx2 (dst_dtype, src, dst, n, scale);
        return TK_OK;
      case TK_ISA_PORTABLE:
        break;
    }
#endif
  from_f32_portable (dst_dtype, src, dst, n, scale);
  return TK_OK;
}

static float
load_one (const tk_tensor *t, const char *p)
{
  switch (t->dtype)
    {
      case TK_DTYPE_F32:
        {
          float f;
          memcpy (&f, p, sizeof f);
          return f;
        }
      case TK_DTYPE_F16:
        {
          uint16_t h;
          memcpy (&h, p, sizeof h);
          return tk_f16_to_f32 (h);
        }
      case TK_DTYPE_BF16:
        {
          uint16_t h;
          memcpy (&h, p, sizeof h);
          return tk_bf16_to_f32 (h);
        }
      case TK_DTYPE_F8_E4M3:
        return tk_f8_e4m3_to_f32 ((uint8_t)*p) * t->scale;
      case TK_DTYPE_F8_E5M2:
        return tk_f8_e5m2_to_f32 ((uint8_t)*p) * t->scale;
      default:
        return 0.0f;
    }
}

/* Walks the outer dimensions; the innermost one is converted as a run when
 * it is contiguous. Returns the advanced destination. */
static float *
tensor_to_f32_dim (const tk_tensor *t, int dim, const char *src, float *dst)
{
  size_t esize = tk_dtype_size (t->dtype);

  if (dim == t->ndim - 1)
    {
      size_t n = (size_t)t->shape[dim];

      if (t->strides[dim] == 1)
        tk_convert_to_f32 (t->dtype, src, dst, n, t->scale);
      else
        for (size_t i = 0; i < n; i++)
          dst[i] = load_one (t, src + (ptrdiff_t)i * t->strides[dim] * (ptrdiff_t)esize);
      return dst + n;
    }
  for (int64_t i = 0; i < t->shape[dim]; i++)
    dst = tensor_to_f32_dim (t, dim + 1, src + i * t->strides[dim] * (ptrdiff_t)esize, dst);
  return dst;
}

tk_status
tk_tensor_to_f32 (const tk_tensor *src, float *dst)
{
  if (src == NULL || dst == NULL || !is_convertible (src->dtype))
    return TK_ERR_INVALID;
  if (tk_tensor_numel (src) == 0)
    return TK_OK;
  if (src->ndim == 0)
    {
      dst[0] = load_one (src, src->data);
      return TK_OK;
    }
  if (tk_tensor_is_contiguous (src))
    return tk_convert_to_f32 (src->dtype, src->data, dst, (size_t)tk_tensor_numel (src), src->scale);
  tensor_to_f32_dim (src, 0, src->data, dst);
  return TK_OK;
}
