/* Tests of tensors and dtype conversion: every narrow code decodes to its
 * exact value, F32 encodes round to the nearest code (ties to even) as an
 * independent table search finds it, NaN/infinity/subnormal edges, and the
 * AVX2 and AVX-512 paths give the same bits as the portable one. */
#include "tk-convert.h"
#include "tk-tensor.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk-test.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t
rng_u32 (void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (uint32_t)((rng_state * 0x2545F4914F6CDD1Dull) >> 32);
}

static uint32_t
f32_bits (float f)
{
  uint32_t u;
  memcpy (&u, &f, sizeof u);
  return u;
}

static float
bits_f32 (uint32_t u)
{
  float f;
  memcpy (&f, &u, sizeof f);
  return f;
}

/* ---- an independent model of each narrow format ---- */

typedef struct
{
  const char *name;
  tk_dtype dtype;
  int exp_bits, mant_bits;
  /* Largest finite positive code, and the code finite overflow goes to. */
  uint32_t max_code;
  uint32_t overflow_code;
  int has_inf;
  uint32_t sign_bit;
} format;

static const format formats[] = {
  { "f16", TK_DTYPE_F16, 5, 10, 0x7BFF, 0x7C00, 1, 0x8000 },
  { "bf16", TK_DTYPE_BF16, 8, 7, 0x7F7F, 0x7F80, 1, 0x8000 },
  { "f8-e4m3", TK_DTYPE_F8_E4M3, 4, 3, 0x7E, 0x7E, 0, 0x80 },
  { "f8-e5m2", TK_DTYPE_F8_E5M2, 5, 2, 0x7B, 0x7C, 1, 0x80 },
};

/* Value of a positive code by the textbook formula, in double. */
static double
model_value (const format *f, uint32_t code)
{
  int bias = (1 << (f->exp_bits - 1)) - 1;
  uint32_t e = code >> f->mant_bits;
  uint32_t m = code & ((1u << f->mant_bits) - 1);

  if (e == 0)
    return ldexp ((double)m, 1 - bias - f->mant_bits);
  return ldexp (1.0 + ldexp ((double)m, -f->mant_bits), (int)e - bias);
}

static int
model_is_nan (const format *f, uint32_t code)
{
  uint32_t mag = code & (f->sign_bit - 1);
  uint32_t e = mag >> f->mant_bits;
  uint32_t m = mag & ((1u << f->mant_bits) - 1);

  if (!f->has_inf)
    return mag == (f->sign_bit - 1); /* E4M3: S.1111.111 only */
  return e == (1u << f->exp_bits) - 1 && m != 0;
}

static int
model_is_inf (const format *f, uint32_t code)
{
  return f->has_inf && (code & (f->sign_bit - 1)) == f->overflow_code;
}

static double
model_decode (const format *f, uint32_t code)
{
  double sign = (code & f->sign_bit) ? -1.0 : 1.0;

  if (model_is_nan (f, code))
    return NAN;
  if (model_is_inf (f, code))
    return sign * INFINITY;
  return sign * model_value (f, code & (f->sign_bit - 1));
}

/* Nearest code to x by binary search over the monotonic positive codes,
 * ties to the even code; beyond the largest code IEEE formats round towards
 * the next power of two (infinity), E4M3 saturates. */
static uint32_t
model_encode (const format *f, float x)
{
  uint32_t sign = signbit (x) ? f->sign_bit : 0;
  double a = fabs ((double)x);
  uint32_t lo = 0, hi = f->max_code;
  double top = model_value (f, f->max_code);
  double over = ldexp (1.0, (1 << (f->exp_bits - 1)));

  if (isnan (x))
    return 0;
  if (a >= top)
    {
      double mid = f->has_inf ? (top + over) / 2 : INFINITY;

      if (a > mid || (a == mid && (f->max_code & 1)))
        return sign | f->overflow_code;
      return sign | f->max_code;
    }
  while (hi - lo > 1)
    {
      uint32_t mid = lo + (hi - lo) / 2;
      if (model_value (f, mid) <= a)
        lo = mid;
      else
        hi = mid;
    }
  {
    double dl = a - model_value (f, lo), dh = model_value (f, hi) - a;

    if (dl < dh || (dl == dh && (lo & 1) == 0))
      return sign | lo;
    return sign | hi;
  }
}

static uint32_t
encode_one (const format *f, float x)
{
  switch (f->dtype)
    {
      case TK_DTYPE_F16:
        return tk_f32_to_f16 (x);
      case TK_DTYPE_BF16:
        return tk_f32_to_bf16 (x);
      case TK_DTYPE_F8_E4M3:
        return tk_f32_to_f8_e4m3 (x);
      default:
        return tk_f32_to_f8_e5m2 (x);
    }
}

static float
decode_one (const format *f, uint32_t code)
{
  switch (f->dtype)
    {
      case TK_DTYPE_F16:
        return tk_f16_to_f32 ((uint16_t)code);
      case TK_DTYPE_BF16:
        return tk_bf16_to_f32 ((uint16_t)code);
      case TK_DTYPE_F8_E4M3:
        return tk_f8_e4m3_to_f32 ((uint8_t)code);
      default:
        return tk_f8_e5m2_to_f32 ((uint8_t)code);
    }
}

static uint32_t
n_codes (const format *f)
{
  return f->sign_bit * 2;
}

/* ---- tests ---- */

static void
test_decode_every_code (const format *f)
{
  int before = failures;
  char name[96];

  for (uint32_t code = 0; code < n_codes (f); code++)
    {
      float got = decode_one (f, code);
      double want = model_decode (f, code);

      if (isnan (want))
        CHECK (isnan (got) && !!signbit (got) == !!(code & f->sign_bit), "code 0x%X: want NaN, got %a", code,
               got);
      else
        CHECK ((double)got == want && !!signbit (got) == !!signbit (want), "code 0x%X: want %a, got %a", code,
               want, got);
    }
  snprintf (name, sizeof name, "/convert/%s/decode-every-code-exactly", f->name);
  report (name, before);
}

static void
check_encode (const format *f, float x, int *shown)
{
  uint32_t got = encode_one (f, x);

  if (isnan (x))
    {
      CHECK (model_is_nan (f, got) && !!(got & f->sign_bit) == !!signbit (x), "%a: NaN gave 0x%X", x, got);
      return;
    }
  {
    uint32_t want = model_encode (f, x);

    if (got != want && (*shown)++ < 10)
      CHECK (0, "%s: %a (0x%08X) encoded 0x%X, nearest-even is 0x%X", f->name, x, f32_bits (x), got, want);
    else if (got != want)
      failures++;
  }
}

static void
test_encode_rounds_to_nearest_even (const format *f)
{
  int before = failures;
  int shown = 0;
  char name[96];
  static const float specials[]
      = { 0.0f,     -0.0f,    INFINITY,  -INFINITY, FLT_MIN, -FLT_MIN, FLT_MAX,  -FLT_MAX,
          1.0f,     -1.0f,    0x1p-149f, 448.0f,    464.0f,  480.0f,   57344.0f, 61440.0f,
          65504.0f, 65520.0f, 0x1p-24f,  0x1p-25f,  0x1p-9f, 0x1p-10f, 0x1p-16f, 0x1p-17f };

  /* A sweep of the whole F32 bit space, both signs. */
  for (uint64_t u = 0; u <= 0xFFFFFFFFull; u += 4093)
    check_encode (f, bits_f32 ((uint32_t)u), &shown);
  for (size_t i = 0; i < sizeof specials / sizeof specials[0]; i++)
    check_encode (f, specials[i], &shown);
  /* Every tie between neighbouring codes, and the floats just around it. */
  for (uint32_t code = 0; code < f->max_code; code++)
    {
      float mid = (float)((model_value (f, code) + model_value (f, code + 1)) / 2);

      for (int s = 0; s < 2; s++)
        {
          float m = s ? -mid : mid;
          check_encode (f, m, &shown);
          check_encode (f, nextafterf (m, INFINITY), &shown);
          check_encode (f, nextafterf (m, -INFINITY), &shown);
        }
    }
  snprintf (name, sizeof name, "/convert/%s/encode-rounds-to-nearest-even", f->name);
  report (name, before);
}

static void
test_round_trip (const format *f)
{
  int before = failures;
  char name[96];

  for (uint32_t code = 0; code < n_codes (f); code++)
    {
      float v = decode_one (f, code);
      uint32_t back = encode_one (f, v);

      if (model_is_nan (f, code))
        CHECK (model_is_nan (f, back) && (back & f->sign_bit) == (code & f->sign_bit),
               "NaN 0x%X came back 0x%X", code, back);
      else
        CHECK (back == code, "code 0x%X -> %a -> 0x%X", code, v, back);
    }
  snprintf (name, sizeof name, "/convert/%s/round-trip-every-code", f->name);
  report (name, before);
}

static void
test_edges (void)
{
  int before = failures;

  CHECK (tk_f32_to_f16 (65504.0f) == 0x7BFF, "65504");
  CHECK (tk_f32_to_f16 (65519.996f) == 0x7BFF, "just below the overflow tie");
  CHECK (tk_f32_to_f16 (65520.0f) == 0x7C00, "overflow tie goes to infinity");
  CHECK (tk_f32_to_f16 (0x1p-24f) == 0x0001, "smallest subnormal");
  CHECK (tk_f32_to_f16 (0x1p-25f) == 0x0000, "half the smallest subnormal ties to zero");
  CHECK (tk_f32_to_f16 (-0x1.8p-25f) == 0x8001, "three quarters rounds up, keeps sign");
  CHECK (tk_f32_to_f16 (NAN) == 0x7E00, "quiet NaN");
  CHECK (tk_f16_to_f32 (0x0001) == 0x1p-24f, "subnormal decode");

  CHECK (tk_f32_to_bf16 (bits_f32 (0x7F800001u)) == 0x7FC0, "signalling NaN with low payload stays NaN");
  CHECK (tk_f32_to_bf16 (bits_f32 (0xFF800001u)) == 0xFFC0, "negative NaN keeps sign");
  CHECK (tk_f32_to_bf16 (FLT_MAX) == 0x7F80, "FLT_MAX rounds to infinity");
  CHECK (tk_f32_to_bf16 (bits_f32 (0x3F808000u)) == 0x3F80, "tie to even (down)");
  CHECK (tk_f32_to_bf16 (bits_f32 (0x3F818000u)) == 0x3F82, "tie to even (up)");
  CHECK (tk_f32_to_bf16 (bits_f32 (0x00000001u)) == 0x0000, "F32 subnormal rounds to zero");

  CHECK (tk_f32_to_f8_e4m3 (448.0f) == 0x7E, "448 is the max");
  CHECK (tk_f32_to_f8_e4m3 (464.0f) == 0x7E, "tie above the max");
  CHECK (tk_f32_to_f8_e4m3 (1e6f) == 0x7E, "saturates");
  CHECK (tk_f32_to_f8_e4m3 (INFINITY) == 0x7E, "+inf saturates");
  CHECK (tk_f32_to_f8_e4m3 (-INFINITY) == 0xFE, "-inf saturates");
  CHECK ((tk_f32_to_f8_e4m3 (NAN) & 0x7F) == 0x7F, "NaN");
  CHECK (tk_f32_to_f8_e4m3 (0x1p-9f) == 0x01, "smallest subnormal");
  CHECK (tk_f32_to_f8_e4m3 (0x1p-10f) == 0x00, "tie to zero");
  CHECK (tk_f32_to_f8_e4m3 (0x1.8p-9f) == 0x02, "tie to even subnormal");
  CHECK (isnan (tk_f8_e4m3_to_f32 (0x7F)) && isnan (tk_f8_e4m3_to_f32 (0xFF)), "0x7F/0xFF are NaN");
  CHECK (tk_f8_e4m3_to_f32 (0x7E) == 448.0f, "0x7E is 448");

  CHECK (tk_f32_to_f8_e5m2 (57344.0f) == 0x7B, "57344 is the max");
  CHECK (tk_f32_to_f8_e5m2 (61440.0f) == 0x7C, "overflow tie to infinity");
  CHECK (tk_f32_to_f8_e5m2 (nextafterf (61440.0f, 0.0f)) == 0x7B, "below the tie");
  CHECK (tk_f32_to_f8_e5m2 (-INFINITY) == 0xFC, "-inf");
  CHECK (tk_f32_to_f8_e5m2 (0x1p-16f) == 0x01, "smallest subnormal");
  CHECK (isinf (tk_f8_e5m2_to_f32 (0x7C)), "infinity decodes");
  report ("/convert/edges/nan-inf-subnormal-saturation", before);
}

/* Random inputs rich in edge cases: specials, subnormals, any bit pattern. */
static void
fill_f32_edgy (float *x, size_t n)
{
  static const uint32_t specials[]
      = { 0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00001u,
          0x7F800001u, 0x00000001u, 0x807FFFFFu, 0x477FF000u, 0x43E00000u, 0x47600000u,
          0x38800000u, 0x3C800000u, 0x33800000u, 0x3F808000u };

  for (size_t i = 0; i < n; i++)
    {
      uint32_t r = rng_u32 ();

      switch (r % 4)
        {
          case 0:
            x[i] = bits_f32 (specials[rng_u32 () % (sizeof specials / sizeof specials[0])]);
            break;
          case 1:
            x[i] = bits_f32 (rng_u32 ());
            break;
          default:
            /* Mostly the range the narrow formats cover. */
            x[i] = ldexpf ((float)(rng_u32 () % 20000) / 10000.0f - 1.0f, (int)(rng_u32 () % 40) - 24);
            break;
        }
    }
}

static void
test_paths_agree (const format *f)
{
  static const size_t lengths[] = { 1, 2, 7, 8, 15, 16, 17, 31, 33, 63, 64, 65, 127, 1021, 4099 };
  const float scales[] = { 1.0f, 0.0123f, 3.5f };
  tk_isa detected = tk_isa_detect ();
  size_t max_n = 4099 + 8;
  float *src = malloc (max_n * sizeof (float));
  float *ref_f = malloc (max_n * sizeof (float));
  float *got_f = malloc (max_n * sizeof (float));
  uint8_t *codes = malloc (max_n * 2);
  uint8_t *ref_c = malloc (max_n * 2);
  uint8_t *got_c = malloc (max_n * 2);
  size_t es = tk_dtype_size (f->dtype);
  char name[96];
  int before = failures;

  for (tk_isa isa = TK_ISA_AVX2; isa <= detected; isa++)
    for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++)
      for (size_t si = 0; si < 3; si++)
        for (size_t off = 0; off < 3; off += 2)
          {
            size_t n = lengths[li];
            float scale = scales[si];

            fill_f32_edgy (src, n + off);
            for (size_t i = 0; i < (n + off) * es; i++)
              codes[i] = (uint8_t)rng_u32 ();

            tk_isa_force (TK_ISA_PORTABLE);
            CHECK (tk_convert_from_f32 (f->dtype, src + off, ref_c, n, scale) == TK_OK, "encode");
            CHECK (tk_convert_to_f32 (f->dtype, codes + off * es, ref_f, n, scale) == TK_OK, "decode");
            tk_isa_force (isa);
            tk_convert_from_f32 (f->dtype, src + off, got_c, n, scale);
            tk_convert_to_f32 (f->dtype, codes + off * es, got_f, n, scale);

            CHECK (memcmp (ref_c, got_c, n * es) == 0, "%s encode n=%zu scale=%g differs from portable",
                   tk_isa_name (isa), n, (double)scale);
            CHECK (memcmp (ref_f, got_f, n * sizeof (float)) == 0,
                   "%s decode n=%zu scale=%g differs from portable", tk_isa_name (isa), n, (double)scale);
          }
  tk_isa_force (detected);

  /* The portable array path is the scalar functions with the scale applied. */
  fill_f32_edgy (src, 1000);
  tk_isa_force (TK_ISA_PORTABLE);
  tk_convert_from_f32 (f->dtype, src, got_c, 1000, 0.25f);
  tk_isa_force (detected);
  for (size_t i = 0; i < 1000; i++)
    {
      uint32_t c = es == 1 ? got_c[i] : (uint32_t)(got_c[2 * i] | (got_c[2 * i + 1] << 8));
      float q = (f->dtype == TK_DTYPE_F8_E4M3 || f->dtype == TK_DTYPE_F8_E5M2) ? src[i] / 0.25f : src[i];
      uint32_t want = encode_one (f, q);

      CHECK (c == want || (model_is_nan (f, c) && model_is_nan (f, want)), "scaled encode %zu", i);
    }

  free (src);
  free (ref_f);
  free (got_f);
  free (codes);
  free (ref_c);
  free (got_c);
  snprintf (name, sizeof name, "/convert/%s/vector-paths-match-portable", f->name);
  report (name, before);
}

static void
test_f8_scale (void)
{
  int before = failures;
  uint8_t codes[256];
  float out[256];
  float back_in[256];
  uint8_t back[256];

  for (int i = 0; i < 256; i++)
    codes[i] = (uint8_t)i;
  tk_convert_to_f32 (TK_DTYPE_F8_E4M3, codes, out, 256, 0.0625f);
  for (int i = 0; i < 256; i++)
    {
      float want = tk_f8_e4m3_to_f32 (codes[i]) * 0.0625f;
      CHECK ((isnan (want) && isnan (out[i])) || out[i] == want, "code %d", i);
      back_in[i] = out[i];
    }
  /* A power-of-two scale is exact, so every code comes back. */
  tk_convert_from_f32 (TK_DTYPE_F8_E4M3, back_in, back, 256, 0.0625f);
  for (int i = 0; i < 256; i++)
    CHECK (back[i] == codes[i] || ((codes[i] & 0x7F) == 0x7F && (back[i] & 0x7F) == 0x7F),
           "code %d came back %d", i, back[i]);
  CHECK (tk_convert_from_f32 (TK_DTYPE_F8_E4M3, back_in, back, 4, 0.0f) == TK_ERR_INVALID, "zero scale");
  CHECK (tk_convert_from_f32 (TK_DTYPE_F8_E5M2, back_in, back, 4, -1.0f) == TK_ERR_INVALID, "negative scale");
  CHECK (tk_convert_from_f32 (TK_DTYPE_F8_E5M2, back_in, back, 4, NAN) == TK_ERR_INVALID, "NaN scale");
  CHECK (tk_convert_to_f32 (TK_DTYPE_I32, codes, out, 4, 1.0f) == TK_ERR_INVALID, "integer dtype");
  CHECK (tk_convert_to_f32 (TK_DTYPE_COUNT, codes, out, 4, 1.0f) == TK_ERR_INVALID, "bad dtype");
  CHECK (tk_convert_to_f32 (TK_DTYPE_F16, NULL, out, 4, 1.0f) == TK_ERR_INVALID, "NULL source");
  CHECK (tk_convert_to_f32 (TK_DTYPE_F16, NULL, NULL, 0, 1.0f) == TK_OK, "empty");
  report ("/convert/f8/scale-applied-and-validated", before);
}

static void
test_dtype_table (void)
{
  int before = failures;
  static const struct
  {
    tk_dtype d;
    const char *name;
    size_t size;
    int is_float;
  } want[] = {
    { TK_DTYPE_F32, "F32", 4, 1 },         { TK_DTYPE_F16, "F16", 2, 1 },
    { TK_DTYPE_BF16, "BF16", 2, 1 },       { TK_DTYPE_F8_E4M3, "F8_E4M3", 1, 1 },
    { TK_DTYPE_F8_E5M2, "F8_E5M2", 1, 1 }, { TK_DTYPE_I32, "I32", 4, 0 },
    { TK_DTYPE_I64, "I64", 8, 0 },
  };

  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
    {
      CHECK (strcmp (tk_dtype_name (want[i].d), want[i].name) == 0, "name of %d", (int)want[i].d);
      CHECK (tk_dtype_size (want[i].d) == want[i].size, "size of %s", want[i].name);
      CHECK (tk_dtype_is_float (want[i].d) == want[i].is_float, "float-ness of %s", want[i].name);
    }
  CHECK (tk_dtype_name (TK_DTYPE_COUNT) == NULL && tk_dtype_size ((tk_dtype)-1) == 0, "out of range");
  report ("/tensor/dtype/names-and-sizes", before);
}

static void
test_tensor_new (void)
{
  int before = failures;
  int64_t shape[5] = { 3, 1, 5, 7, 2 };
  tk_tensor *t = tk_tensor_new (TK_DTYPE_BF16, 5, shape);
  int64_t huge[2] = { INT64_MAX / 2, 3 };
  int64_t neg[2] = { 2, -1 };
  int64_t six[6] = { 1, 1, 1, 1, 1, 1 };

  CHECK (t != NULL, "new");
  if (t != NULL)
    {
      const uint8_t *bytes = t->data;
      int zero = 1;

      CHECK (t->owned && t->ndim == 5 && t->scale == 1.0f, "fields");
      CHECK (((uintptr_t)t->data % TK_ALIGNMENT) == 0, "aligned");
      CHECK (tk_tensor_numel (t) == 210 && tk_tensor_nbytes (t) == 420, "numel %lld",
             (long long)tk_tensor_numel (t));
      CHECK (t->strides[0] == 70 && t->strides[1] == 70 && t->strides[2] == 14 && t->strides[3] == 2
                 && t->strides[4] == 1,
             "row-major strides");
      CHECK (tk_tensor_is_contiguous (t), "contiguous");
      for (size_t i = 0; i < tk_tensor_nbytes (t); i++)
        zero &= bytes[i] == 0;
      CHECK (zero, "zeroed");
    }
  tk_tensor_free (t);
  CHECK (tk_tensor_new (TK_DTYPE_F32, 2, huge) == NULL, "overflowing size is refused");
  CHECK (tk_tensor_new (TK_DTYPE_F32, 2, neg) == NULL, "negative extent is refused");
  CHECK (tk_tensor_new (TK_DTYPE_F32, 6, six) == NULL, "six dimensions are refused");
  CHECK (tk_tensor_new (TK_DTYPE_COUNT, 2, shape) == NULL, "bad dtype is refused");
  t = tk_tensor_new (TK_DTYPE_F32, 0, NULL);
  CHECK (t != NULL && tk_tensor_numel (t) == 1, "scalar");
  tk_tensor_free (t);
  tk_tensor_free (NULL);
  report ("/tensor/new/zeroed-aligned-and-checked", before);
}

static void
test_tensor_view (void)
{
  int before = failures;
  float data[24];
  int64_t shape[2] = { 4, 6 };
  int64_t tshape[2] = { 6, 4 };
  int64_t tstrides[2] = { 1, 6 };
  tk_tensor *v, *tv;
  tk_tensor stack;
  float out[24];
  uint16_t h[24];

  for (int i = 0; i < 24; i++)
    data[i] = (float)i * 0.5f - 3.0f;
  v = tk_tensor_view (TK_DTYPE_F32, data, 2, shape, NULL);
  tv = tk_tensor_view (TK_DTYPE_F32, data, 2, tshape, tstrides);
  CHECK (v != NULL && !v->owned && v->data == data, "borrowed view");
  CHECK (tv != NULL && !tk_tensor_is_contiguous (tv), "transposed view is not contiguous");
  CHECK (tk_tensor_to_f32 (tv, out) == TK_OK, "strided convert");
  for (int r = 0; r < 6; r++)
    for (int c = 0; c < 4; c++)
      CHECK (out[r * 4 + c] == data[c * 6 + r], "transposed element %d,%d", r, c);

  /* A strided F16 view goes through the element path with the same values. */
  for (int i = 0; i < 24; i++)
    h[i] = tk_f32_to_f16 (data[i]);
  CHECK (tk_tensor_init_view (&stack, TK_DTYPE_F16, h, 2, tshape, tstrides) == TK_OK, "stack view");
  tk_tensor_to_f32 (&stack, out);
  for (int r = 0; r < 6; r++)
    for (int c = 0; c < 4; c++)
      CHECK (out[r * 4 + c] == data[c * 6 + r], "f16 transposed element %d,%d", r, c);

  /* An F8 view applies its scale. */
  {
    uint8_t b[4] = { 0x38, 0x40, 0xB8, 0x00 }; /* 1, 2, -1, 0 */
    int64_t s4 = 4;

    tk_tensor_init_view (&stack, TK_DTYPE_F8_E4M3, b, 1, &s4, NULL);
    stack.scale = 0.5f;
    tk_tensor_to_f32 (&stack, out);
    CHECK (out[0] == 0.5f && out[1] == 1.0f && out[2] == -0.5f && out[3] == 0.0f, "scaled F8 view");
  }
  CHECK (tk_tensor_init_view (&stack, TK_DTYPE_F32, NULL, 2, shape, NULL) == TK_ERR_INVALID,
         "NULL data refused");
  tk_tensor_free (v);
  tk_tensor_free (tv);
  report ("/tensor/view/strides-and-conversion", before);
}

static void
test_aligned_alloc (void)
{
  int before = failures;
  void *p0 = tk_aligned_alloc (0);
  void *p1 = tk_aligned_alloc (1);
  void *p2 = tk_aligned_calloc (3, 33);

  CHECK (p0 != NULL && p1 != NULL && p2 != NULL, "allocations");
  CHECK (((uintptr_t)p0 | (uintptr_t)p1 | (uintptr_t)p2) % TK_ALIGNMENT == 0, "alignment");
  CHECK (tk_aligned_calloc (SIZE_MAX / 2, 4) == NULL, "overflow is refused");
  CHECK (tk_aligned_alloc (SIZE_MAX) == NULL, "impossible size is refused");
  tk_aligned_free (p0);
  tk_aligned_free (p1);
  tk_aligned_free (p2);
  tk_aligned_free (NULL);
  report ("/tensor/aligned-alloc/aligned-and-checked", before);
}

/* From 2 MiB up the memory sits on huge-page boundaries and every byte
 * asked for is usable (under AddressSanitizer, no more). */
static void
test_aligned_alloc_large (void)
{
  int before = failures;
  size_t size = 5 * 1024 * 1024 + 3;
  unsigned char *p = tk_aligned_alloc (size);
  float *z = tk_aligned_calloc (1024 * 1024, sizeof (float));
  size_t nonzero = 0;

  CHECK (p != NULL && z != NULL, "allocations");
  if (p != NULL && z != NULL)
    {
      CHECK ((uintptr_t)p % (2 * 1024 * 1024) == 0 && (uintptr_t)z % TK_ALIGNMENT == 0, "alignment");
      memset (p, 0xA5, size);
      CHECK (p[0] == 0xA5 && p[size - 1] == 0xA5, "writable to the end");
      for (size_t i = 0; i < 1024 * 1024; i++)
        nonzero += z[i] != 0.0f;
      CHECK (nonzero == 0, "calloc zeroes %zu floats", nonzero);
    }
  tk_aligned_free (p);
  tk_aligned_free (z);
  report ("/tensor/aligned-alloc/large-on-huge-page-boundary", before);
}

static void
test_isa_force (void)
{
  int before = failures;
  tk_isa detected = tk_isa_detect ();

  CHECK (tk_isa_force (TK_ISA_PORTABLE) == TK_ISA_PORTABLE && tk_isa_active () == TK_ISA_PORTABLE,
         "portable");
  CHECK (tk_isa_force (TK_ISA_AVX512) == detected, "clamped to the CPU");
  CHECK (tk_isa_active () == detected, "active");
  printf ("# detected instruction set: %s\n", tk_isa_name (detected));
  report ("/tensor/isa/force-clamps-to-cpu", before);
}

int
main (void)
{
  printf ("TAP version 13\n");
  test_dtype_table ();
  test_tensor_new ();
  test_tensor_view ();
  test_aligned_alloc ();
  test_aligned_alloc_large ();
  test_isa_force ();
  for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
    {
      test_decode_every_code (&formats[i]);
      test_round_trip (&formats[i]);
      test_encode_rounds_to_nearest_even (&formats[i]);
      test_paths_agree (&formats[i]);
    }
  test_edges ();
  test_f8_scale ();
  printf ("1..%d\n", n_test);
  return failures == 0 ? 0 : 1;
}
