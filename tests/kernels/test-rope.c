/* Tests of Wan's 3-D RoPE: the band split derived from the head size, the
 * rotation against an independent long double computation (within one F32
 * rounding of the pair's length), bit-exact agreement with the official
 * float64 recipe and between instruction sets, token order (f, h, w),
 * padding and trailing tokens left alone, and the grid limits. */
#include "tk-rope.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk-test.h"

static uint64_t rng_state = 0xC0FFEE1234567ull;

static float
rng_uniform (void)
{
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return (float)((rng_state * 0x2545F4914F6CDD1Dull) >> 40) / (float)(1 << 24) * 2.0f - 1.0f;
}

static float *
random_floats (size_t n)
{
  float *p = malloc ((n > 0 ? n : 1) * sizeof (float));

  for (size_t i = 0; i < n; i++)
    p[i] = 3.0f * rng_uniform ();
  return p;
}

/* Band and frequency index of pair k of a head of size d, from the spec:
 * the first d_t/2 pairs use frames, then d_h/2 height, then width. */
static void
pair_axis (int d, int k, int *axis, int *j, int *band)
{
  int dt = d - 4 * (d / 6), dh = 2 * (d / 6);

  if (k < dt / 2)
    *axis = 0, *j = k, *band = dt;
  else if (k < dt / 2 + dh / 2)
    *axis = 1, *j = k - dt / 2, *band = dh;
  else
    *axis = 2, *j = k - dt / 2 - dh / 2, *band = dh;
}

/* Checks x (rotated) against x0 (original) for the whole grid. exact: also
 * compare bit for bit with the official float64 evaluation. */
static int
check_rotation (const float *x0,
                const float *x,
                int64_t ld,
                int heads,
                int d,
                int64_t gf,
                int64_t gh,
                int64_t gw,
                double theta)
{
  int bad = 0;

  for (int64_t t = 0; t < gf * gh * gw; t++)
    {
      int64_t pos[3] = { t / (gh * gw), (t / gw) % gh, t % gw };

      for (int h = 0; h < heads; h++)
        for (int k = 0; k < d / 2; k++)
          {
            int axis, j, band;
            int64_t at = t * ld + (int64_t)h * d + 2 * k;
            long double a0 = x0[at], a1 = x0[at + 1];
            long double ang, c, s, r0, r1, len;
            double dang, dc, ds;
            float e0, e1;

            pair_axis (d, k, &axis, &j, &band);
            ang = (long double)pos[axis] * powl ((long double)theta, -(long double)(2 * j) / band);
            c = cosl (ang);
            s = sinl (ang);
            r0 = a0 * c - a1 * s;
            r1 = a0 * s + a1 * c;
            len = sqrtl (a0 * a0 + a1 * a1);
            if (fabsl (x[at] - r0) > 0x1p-23L * len + 1e-30L
                || fabsl (x[at + 1] - r1) > 0x1p-23L * len + 1e-30L)
              {
                if (bad++ < 5)
                  fprintf (stderr, "# token %lld head %d pair %d: got (%.9g, %.9g) want (%.9Lg, %.9Lg)\n",
                           (long long)t, h, k, (double)x[at], (double)x[at + 1], r0, r1);
              }
            /* The official recipe: ω in float64 as 1 / θ^(2j/d), angle = pos·ω,
             * complex product in float64, one rounding to F32. */
            dang = (double)pos[axis] * (1.0 / pow (theta, (double)(2 * j) / (double)band));
            dc = cos (dang);
            ds = sin (dang);
            e0 = (float)((double)x0[at] * dc + (double)x0[at + 1] * -ds);
            e1 = (float)((double)x0[at + 1] * dc + (double)x0[at] * ds);
            if (memcmp (&e0, &x[at], sizeof e0) != 0 || memcmp (&e1, &x[at + 1], sizeof e1) != 0)
              {
                if (bad++ < 5)
                  fprintf (stderr, "# token %lld head %d pair %d: not the float64 result\n", (long long)t, h,
                           k);
              }
          }
    }
  return bad;
}

static void
test_band_split (void)
{
  int before = failures;
  static const int cases[][4] = { { 128, 44, 42, 42 }, { 64, 24, 20, 20 }, { 6, 2, 2, 2 }, { 10, 6, 2, 2 } };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
    {
      tk_rope *rope = tk_rope_new (cases[i][0], 16, 10000.0);
      int dims[3];

      CHECK (rope != NULL, "head %d", cases[i][0]);
      if (rope == NULL)
        continue;
      tk_rope_band_dims (rope, dims);
      CHECK (dims[0] == cases[i][1] && dims[1] == cases[i][2] && dims[2] == cases[i][3],
             "head %d split %d/%d/%d", cases[i][0], dims[0], dims[1], dims[2]);
      CHECK (tk_rope_head_dim (rope) == cases[i][0] && tk_rope_max_pos (rope) == 16, "accessors");
      tk_rope_free (rope);
    }
  CHECK (tk_rope_new (127, 16, 10000.0) == NULL, "odd head refused");
  CHECK (tk_rope_new (4, 16, 10000.0) == NULL, "too small head refused");
  CHECK (tk_rope_new (128, 0, 10000.0) == NULL, "no positions refused");
  CHECK (tk_rope_new (128, 16, 0.0) == NULL, "theta 0 refused");
  CHECK (tk_rope_new (128, 16, NAN) == NULL, "theta NaN refused");
  tk_rope_free (NULL);
  report ("/rope/band-split/44-42-42-from-head-dim", before);
}

static void
run_case (const char *what,
          int d,
          int heads,
          int64_t gf,
          int64_t gh,
          int64_t gw,
          int64_t pad,
          int64_t extra_tokens,
          int threads)
{
  int64_t ld = (int64_t)heads * d + pad;
  int64_t n_tok = gf * gh * gw + extra_tokens;
  size_t n = (size_t)(n_tok * ld);
  float *x0 = random_floats (n);
  float *x = malloc (n * sizeof (float));
  tk_rope *rope = tk_rope_new (d, 1024, 10000.0);
  tk_pool *pool = threads > 1 ? tk_pool_new (threads) : NULL;
  int bad;
  int untouched = 1;

  memcpy (x, x0, n * sizeof (float));
  CHECK (tk_rope_apply (rope, pool, x, ld, heads, gf, gh, gw) == TK_OK, "%s: status", what);
  bad = check_rotation (x0, x, ld, heads, d, gf, gh, gw, 10000.0);
  CHECK (bad == 0, "%s: %d wrong pairs", what, bad);
  for (int64_t t = 0; t < n_tok; t++)
    for (int64_t c = 0; c < ld; c++)
      if (t >= gf * gh * gw || c >= (int64_t)heads * d)
        untouched &= memcmp (&x[t * ld + c], &x0[t * ld + c], sizeof (float)) == 0;
  CHECK (untouched, "%s: padding or trailing tokens changed", what);

  /* The same result token range by token range. */
  {
    float *y = malloc (n * sizeof (float));
    int64_t total = gf * gh * gw, cut = total / 3;

    memcpy (y, x0, n * sizeof (float));
    tk_rope_apply_range (rope, y, ld, heads, gf, gh, gw, 0, cut);
    tk_rope_apply_range (rope, y, ld, heads, gf, gh, gw, cut, total);
    CHECK (memcmp (x, y, n * sizeof (float)) == 0, "%s: ranges differ from the whole", what);
    free (y);
  }
  tk_pool_free (pool);
  tk_rope_free (rope);
  free (x0);
  free (x);
}

static void
test_matches_reference (void)
{
  int before = failures;

  run_case ("tiny grid", 128, 1, 1, 1, 1, 0, 0, 1);
  run_case ("odd grid", 128, 3, 3, 5, 7, 0, 0, 1);
  run_case ("odd grid, padded rows, trailing tokens", 128, 2, 2, 3, 11, 5, 13, 3);
  run_case ("head 64", 64, 4, 5, 3, 2, 0, 0, 2);
  run_case ("head 6", 6, 2, 2, 2, 3, 1, 1, 1);
  report ("/rope/apply/matches-reference-odd-grids", before);
}

static void
test_model_shapes (void)
{
  int before = failures;

  /* Wan2.1-1.3B at 480×832: 12 heads on a (21, 30, 52) grid; three frames
   * keep the reference quick. Then the far positions of the tables. */
  run_case ("1.3B 480p, 3 frames", 128, 12, 3, 30, 52, 0, 0, 2);
  run_case ("positions up to 1023", 128, 1, 2, 2, 1024, 0, 0, 2);
  report ("/rope/apply/wan-480p-grid-and-far-positions", before);
}

static void
test_isa_paths_agree (void)
{
  int before = failures;
  const int d = 128, heads = 5;
  const int64_t gf = 3, gh = 7, gw = 9;
  size_t n = (size_t)(gf * gh * gw * heads * d);
  float *x0 = random_floats (n);
  float *ref = malloc (n * sizeof (float));
  float *got = malloc (n * sizeof (float));
  tk_rope *rope = tk_rope_new (d, 64, 10000.0);
  tk_isa detected = tk_isa_detect ();

  memcpy (ref, x0, n * sizeof (float));
  tk_isa_force (TK_ISA_PORTABLE);
  tk_rope_apply (rope, NULL, ref, heads * d, heads, gf, gh, gw);
  for (tk_isa isa = TK_ISA_AVX2; isa <= detected; isa++)
    {
      memcpy (got, x0, n * sizeof (float));
      tk_isa_force (isa);
      tk_rope_apply (rope, NULL, got, heads * d, heads, gf, gh, gw);
      CHECK (memcmp (ref, got, n * sizeof (float)) == 0, "%s differs from portable", tk_isa_name (isa));
    }
  tk_isa_force (detected);
  tk_rope_free (rope);
  free (x0);
  free (ref);
  free (got);
  report ("/rope/apply/instruction-sets-bit-identical", before);
}

static void
test_bad_arguments (void)
{
  int before = failures;
  tk_rope *rope = tk_rope_new (128, 8, 10000.0);
  float x[256] = { 0 };

  CHECK (tk_rope_apply (rope, NULL, x, 128, 1, 1, 1, 9) == TK_ERR_INVALID, "grid beyond the tables");
  CHECK (tk_rope_apply (rope, NULL, x, 127, 1, 1, 1, 1) == TK_ERR_INVALID, "ld below the heads");
  CHECK (tk_rope_apply (rope, NULL, x, 128, 0, 1, 1, 1) == TK_ERR_INVALID, "no heads");
  CHECK (tk_rope_apply (rope, NULL, NULL, 128, 1, 1, 1, 1) == TK_ERR_INVALID, "NULL x");
  CHECK (tk_rope_apply (rope, NULL, x, 128, 1, -1, 1, 1) == TK_ERR_INVALID, "negative extent");
  CHECK (tk_rope_apply (NULL, NULL, x, 128, 1, 1, 1, 1) == TK_ERR_INVALID, "no tables");
  CHECK (tk_rope_apply (rope, NULL, NULL, 128, 1, 0, 4, 4) == TK_OK, "empty grid");
  CHECK (tk_rope_apply_range (rope, x, 128, 1, 1, 1, 2, 1, 3) == TK_ERR_INVALID, "range past the grid");
  CHECK (tk_rope_apply_range (rope, x, 128, 1, 1, 1, 2, 2, 1) == TK_ERR_INVALID, "reversed range");
  tk_rope_free (rope);
  report ("/rope/apply/rejects-bad-arguments", before);
}

int
main (void)
{
  printf ("TAP version 13\n");
  test_band_split ();
  test_matches_reference ();
  test_model_shapes ();
  test_isa_paths_agree ();
  test_bad_arguments ();
  printf ("1..%d\n", n_test);
  return failures == 0 ? 0 : 1;
}
