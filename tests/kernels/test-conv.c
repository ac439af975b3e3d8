/* Tests of tk-conv: the panel product, convolutions against plain loops in
 * double, causal chunked decoding against the whole sequence, the patch
 * embedding, and the rearrangements against the official code's layouts.
 *
 * Tolerance (F32, inputs in [-1, 1), weights scaled by 1/√K so outputs are of
 * order one): 2e-5 absolute (1e-5 for the bare panel product). Chunked
 * decoding and different thread counts must give the same bits, and the
 * rearrangements exact values. */
#include "tk-conv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tk-test.h"

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t
next_u64 (void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static float
uniform (void)
{
  return (float)((double)(next_u64 () >> 11) / (double)(1ull << 53) * 2.0 - 1.0);
}

static float *
random_floats (int64_t n)
{
  float *x = malloc ((size_t)(n > 0 ? n : 1) * sizeof (float));

  for (int64_t i = 0; i < n; i++)
    x[i] = uniform ();
  return x;
}

static const tk_isa isas[] = { TK_ISA_PORTABLE, TK_ISA_AVX2, TK_ISA_AVX512 };

/* ---- the panel product ---- */

static void
test_panel_product (void)
{
  int before = failures;
  int64_t k = 37, ldb = 53, ldc = 51;
  float *a = random_floats (k * TK_PANEL_MR);
  float *b = random_floats (k * ldb);
  float *scale = random_floats (TK_PANEL_NR);
  float *c0 = random_floats (TK_PANEL_MR * ldc);
  float *c = malloc ((size_t)(TK_PANEL_MR * ldc) * sizeof (float));
  tk_isa active = tk_isa_active ();

  for (size_t s = 0; s < sizeof isas / sizeof isas[0]; s++)
    {
      tk_panel_fn fn;

      if (isas[s] > active)
        continue;
      fn = tk_panel_kernel (isas[s]);
      for (int m = 1; m <= TK_PANEL_MR; m++)
        for (int n = 1; n <= TK_PANEL_NR; n++)
          for (int mode = 0; mode < 3; mode++)
            {
              memcpy (c, c0, (size_t)(TK_PANEL_MR * ldc) * sizeof (float));
              fn (k, a, b, ldb, c, ldc, m, n, mode == 2 ? scale : NULL, mode > 0);
              for (int r = 0; r < TK_PANEL_MR; r++)
                for (int j = 0; j < ldc; j++)
                  {
                    double want = c0[r * ldc + j];

                    if (r < m && j < n)
                      {
                        double acc = 0.0;

                        for (int64_t p = 0; p < k; p++)
                          acc += (double)a[p * TK_PANEL_MR + r] * b[p * ldb + j];
                        want = mode == 0 ? acc : acc + want * (mode == 2 ? scale[j] : 1.0);
                      }
                    CHECK (fabs (c[r * ldc + j] - want) <= 1e-5, "%s m %d n %d mode %d at (%d, %d): %g vs %g",
                           tk_isa_name (isas[s]), m, n, mode, r, j, c[r * ldc + j], want);
                  }
            }
    }
  free (a);
  free (b);
  free (scale);
  free (c0);
  free (c);
  report ("/conv/panel-product/every-tile-shape", before);
}

/* ---- convolution references ---- */

/* One output element in double; the frames before the input are zero unless
 * history (frames [hist_n] of [C][H][W] each, oldest first) supplies them. */
static double
conv_point (const tk_conv_params *p,
            const float *w,
            const float *bias,
            const float *in,
            int64_t t_in,
            int64_t h_in,
            int64_t w_in,
            int64_t co,
            int64_t t,
            int64_t y,
            int64_t x)
{
  double acc = bias != NULL ? bias[co] : 0.0;

  for (int64_t ci = 0; ci < p->in_channels; ci++)
    for (int a = 0; a < p->kernel_t; a++)
      for (int b = 0; b < p->kernel_h; b++)
        for (int c = 0; c < p->kernel_w; c++)
          {
            int64_t ti = t * p->stride_t + a - p->pad_front;
            int64_t hi = y * p->stride_h + b - p->pad_top;
            int64_t wi = x * p->stride_w + c - p->pad_left;
            double wv;

            if (ti < 0 || ti >= t_in || hi < 0 || hi >= h_in || wi < 0 || wi >= w_in)
              continue;
            wv = w[(((co * p->in_channels + ci) * p->kernel_t + a) * p->kernel_h + b) * p->kernel_w + c];
            acc += wv * in[((ci * t_in + ti) * h_in + hi) * w_in + wi];
          }
  return acc;
}

/* The reference at every output element, or at n_samples random ones when
 * n_samples > 0: fills idx (NULL for all) and want. */
static int64_t
conv_reference (const tk_conv_params *p,
                const float *w,
                const float *bias,
                const float *in,
                int64_t t_in,
                int64_t h_in,
                int64_t w_in,
                int64_t n_samples,
                int64_t **idx_out,
                double **want_out)
{
  int64_t to, ho, wo, total, n;
  int64_t *idx = NULL;
  double *want;

  tk_conv_output_shape (p, t_in, h_in, w_in, &to, &ho, &wo);
  total = p->out_channels * to * ho * wo;
  n = n_samples > 0 ? n_samples : total;
  if (n_samples > 0)
    idx = malloc ((size_t)n * sizeof (int64_t));
  want = malloc ((size_t)n * sizeof (double));
  for (int64_t s = 0; s < n; s++)
    {
      int64_t e = n_samples > 0 ? (int64_t)(next_u64 () % (uint64_t)total) : s;
      int64_t x = e % wo, y = (e / wo) % ho, t = (e / (wo * ho)) % to, co = e / (wo * ho * to);

      if (idx != NULL)
        idx[s] = e;
      want[s] = conv_point (p, w, bias, in, t_in, h_in, w_in, co, t, y, x);
    }
  *idx_out = idx;
  *want_out = want;
  return n;
}

/* Largest |out - want| at the reference's positions (NaN counts as infinite). */
static double
conv_error (const float *out, const int64_t *idx, const double *want, int64_t n)
{
  double worst = 0.0;

  for (int64_t s = 0; s < n; s++)
    {
      double e = fabs (out[idx != NULL ? idx[s] : s] - want[s]);

      if (!(e <= worst))
        worst = isnan (e) ? INFINITY : e;
    }
  return worst;
}

/* Whole-output check for the tests that need no sampling. */
static double
conv_check (const tk_conv_params *p,
            const float *w,
            const float *bias,
            const float *in,
            int64_t t_in,
            int64_t h_in,
            int64_t w_in,
            const float *out)
{
  int64_t *idx;
  double *want;
  int64_t n = conv_reference (p, w, bias, in, t_in, h_in, w_in, 0, &idx, &want);
  double e = conv_error (out, idx, want, n);

  free (idx);
  free (want);
  return e;
}

typedef struct
{
  tk_conv_params p;
  int64_t t, h, w;
  int64_t samples; /* 0: check every output */
} conv_case;

/* Runs a case with 1 and 2 threads on every instruction set the CPU has
 * (all_isas) or on the active one; returns the largest error. Inputs in
 * [-1, 1), weights scaled by 1/√K so outputs are of order 1. */
static double
run_conv_case (const conv_case *tc, int all_isas, tk_pool *pool2, tk_conv_ws *ws)
{
  const tk_conv_params *p = &tc->p;
  int64_t k = (int64_t)p->in_channels * p->kernel_t * p->kernel_h * p->kernel_w;
  float *w = random_floats (p->out_channels * k);
  float *bias = random_floats (p->out_channels);
  float *in = random_floats (p->in_channels * tc->t * tc->h * tc->w);
  int64_t to, ho, wo, n_out, n_ref;
  int64_t *idx;
  double *want;
  float *out;
  tk_conv *conv = NULL;
  double worst = 0.0;
  tk_isa active = tk_isa_active ();

  for (int64_t i = 0; i < p->out_channels * k; i++)
    w[i] /= sqrtf ((float)k);
  CHECK (tk_conv_output_shape (p, tc->t, tc->h, tc->w, &to, &ho, &wo) == TK_OK, "output shape");
  n_out = p->out_channels * to * ho * wo;
  out = malloc ((size_t)n_out * sizeof (float));
  n_ref = conv_reference (p, w, bias, in, tc->t, tc->h, tc->w, tc->samples, &idx, &want);
  CHECK (tk_conv_new (p, w, bias, &conv) == TK_OK, "new");
  for (size_t s = 0; s < sizeof isas / sizeof isas[0] && conv != NULL; s++)
    {
      if (all_isas ? isas[s] > active : isas[s] != active)
        continue;
      tk_isa_force (isas[s]);
      for (int threads = all_isas ? 1 : 2; threads <= 2; threads++)
        {
          double e;

          for (int64_t i = 0; i < n_out; i++)
            out[i] = NAN;
          CHECK (tk_conv_forward (conv, threads == 1 ? NULL : pool2, ws, NULL, in, tc->t, tc->h, tc->w, out)
                     == TK_OK,
                 "forward");
          e = conv_error (out, idx, want, n_ref);
          if (e > worst)
            worst = e;
        }
    }
  tk_isa_force (active);
  tk_conv_free (conv);
  free (w);
  free (bias);
  free (in);
  free (out);
  free (idx);
  free (want);
  return worst;
}

static void
check_conv_cases (const char *name, conv_case *cases, size_t n, int all_isas, tk_pool *pool2, tk_conv_ws *ws)
{
  int before = failures;

  for (size_t i = 0; i < n; i++)
    {
      double e = run_conv_case (&cases[i], all_isas, pool2, ws);

      CHECK (e <= 2e-5, "case %zu (%d→%d, kernel %d×%d×%d, input %lld×%lld×%lld): max error %g", i,
             cases[i].p.in_channels, cases[i].p.out_channels, cases[i].p.kernel_t, cases[i].p.kernel_h,
             cases[i].p.kernel_w, (long long)cases[i].t, (long long)cases[i].h, (long long)cases[i].w, e);
    }
  report (name, before);
}

static void
test_conv_odd_sizes (tk_pool *pool2, tk_conv_ws *ws)
{
  conv_case cases[] = {
    { tk_conv_params_causal (1, 1, 1, 1, 1), 1, 1, 1, 0 },
    { tk_conv_params_causal (3, 5, 3, 3, 3), 5, 7, 11, 0 },
    { tk_conv_params_causal (7, 13, 3, 3, 3), 3, 13, 17, 0 },
    { tk_conv_params_causal (5, 11, 2, 3, 5), 4, 9, 23, 0 },
    { tk_conv_params_causal (11, 17, 3, 1, 1), 6, 5, 7, 0 },
    { tk_conv_params_causal (13, 9, 1, 1, 1), 2, 11, 19, 0 },
    { tk_conv_params_causal (3, 37, 3, 3, 3), 2, 41, 43, 0 },
    { tk_conv_params_causal (97, 10, 3, 3, 3), 2, 5, 7, 0 },
  };
  conv_case strided[] = {
    { tk_conv_params_2d (5, 7, 3, 3, 2, 1), 3, 13, 17, 0 },
    { tk_conv_params_2d (6, 3, 3, 3, 2, 0), 2, 10, 14, 0 },
    { tk_conv_params_2d (4, 9, 5, 3, 1, 2), 2, 7, 9, 0 },
    { tk_conv_params_causal (5, 6, 3, 1, 1), 9, 4, 5, 0 },
    /* Four output channels or fewer take the direct path: rows longer than
     * one step of it, tails inside a vector, wide kernels at the edges. */
    { tk_conv_params_causal (7, 3, 3, 3, 3), 3, 5, 83, 0 },
    { tk_conv_params_causal (6, 4, 2, 3, 5), 2, 6, 17, 0 },
    { tk_conv_params_causal (9, 2, 3, 1, 1), 4, 3, 130, 0 },
    { tk_conv_params_2d (5, 1, 3, 3, 1, 1), 2, 9, 70, 0 },
    { tk_conv_params_2d (4, 3, 5, 3, 1, 2), 2, 4, 3, 0 },
  };

  /* The VAE's downsample: ZeroPad2d (0, 1, 0, 1) then a stride-2 conv. */
  strided[1].p.pad_bottom = strided[1].p.pad_right = 1;
  /* downsample3d's time_conv: kernel (3, 1, 1), stride 2 in time, no padding. */
  strided[3].p.stride_t = 2;
  strided[3].p.pad_front = 0;
  check_conv_cases ("/conv/conv3d/matches-reference/odd-and-prime-sizes", cases,
                    sizeof cases / sizeof cases[0], 1, pool2, ws);
  check_conv_cases ("/conv/conv2d/strides-and-asymmetric-padding", strided,
                    sizeof strided / sizeof strided[0], 1, pool2, ws);
}

/* 3×3 kernels with stride and padding 1 run as Winograd F(2×2, 3×3) on
 * 2×2 output tiles, 48 tiles per work item: frames of one row or column and
 * of odd sides (clipped tiles), tile rows longer than one 16-lane step and
 * than a work item (items that span tile rows), K = in_channels · kernel_t
 * over more than one 128-row block, and output channels that are not a
 * multiple of the 8-row panel. */
static void
test_winograd_tiles (tk_pool *pool2, tk_conv_ws *ws)
{
  conv_case cases[] = {
    { tk_conv_params_causal (5, 13, 3, 3, 3), 3, 1, 1, 0 },
    { tk_conv_params_causal (4, 9, 1, 3, 3), 2, 1, 101, 0 },
    { tk_conv_params_causal (3, 6, 2, 3, 3), 2, 37, 1, 0 },
    { tk_conv_params_2d (131, 11, 3, 3, 1, 1), 1, 3, 2, 0 },
    { tk_conv_params_causal (6, 21, 3, 3, 3), 3, 9, 101, 0 },
    { tk_conv_params_2d (3, 8, 3, 3, 1, 1), 1, 34, 66, 0 },
    { tk_conv_params_causal (45, 17, 3, 3, 3), 2, 11, 13, 0 },
  };

  check_conv_cases ("/conv/winograd/edges-and-blocks-match-reference", cases, sizeof cases / sizeof cases[0],
                    1, pool2, ws);
}

/* A workspace keeps the transformed weights of the last convolution it
 * ran: another convolution of the same shape in between, or the same one
 * again, must give what a fresh workspace gives. */
static void
test_winograd_workspace_reuse (tk_pool *pool2)
{
  int before = failures;
  tk_conv_params p = tk_conv_params_causal (12, 20, 3, 3, 3);
  int64_t t = 2, h = 7, w = 9, n_out = 20 * t * h * w;
  float *wa = random_floats (20 * 12 * 27), *wb = random_floats (20 * 12 * 27);
  float *in = random_floats (12 * t * h * w);
  float *fresh_a = malloc ((size_t)n_out * sizeof (float)),
        *fresh_b = malloc ((size_t)n_out * sizeof (float));
  float *out = malloc ((size_t)n_out * sizeof (float));
  tk_conv *a = NULL, *b = NULL;
  tk_conv_ws *shared = tk_conv_ws_new (2);
  const int order[] = { 0, 0, 1, 0, 1, 1 };

  CHECK (tk_conv_new (&p, wa, NULL, &a) == TK_OK && tk_conv_new (&p, wb, NULL, &b) == TK_OK, "new");
  CHECK (tk_conv_forward (a, pool2, NULL, NULL, in, t, h, w, fresh_a) == TK_OK, "a");
  CHECK (tk_conv_forward (b, pool2, NULL, NULL, in, t, h, w, fresh_b) == TK_OK, "b");
  CHECK (memcmp (fresh_a, fresh_b, (size_t)n_out * sizeof (float)) != 0, "the weights make no difference");
  for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
    {
      CHECK (tk_conv_forward (order[i] ? b : a, pool2, shared, NULL, in, t, h, w, out) == TK_OK, "run %zu",
             i);
      CHECK (memcmp (out, order[i] ? fresh_b : fresh_a, (size_t)n_out * sizeof (float)) == 0,
             "run %zu (%c) differs from a fresh workspace", i, order[i] ? 'b' : 'a');
    }
  tk_conv_free (a);
  tk_conv_free (b);
  tk_conv_ws_free (shared);
  free (wa);
  free (wb);
  free (in);
  free (fresh_a);
  free (fresh_b);
  free (out);
  report ("/conv/winograd/workspace-reuse-gives-same-bits", before);
}

/* What tk_conv_ws_bytes says a workspace holds: the direct path's panels,
 * plus the Winograd path's per-thread tiles and its transformed weights
 * (16 per 3×3 kernel of each output-channel panel, at most 32 MiB at a
 * time). */
static void
test_workspace_bytes (void)
{
  int before = failures;
  size_t panels = (size_t)2 * 257 * 192 * sizeof (float);
  size_t tiles = (size_t)2 * 1536 * 1024;
  tk_conv_params direct = tk_conv_params_causal (8, 16, 3, 1, 1);
  tk_conv_params wino = tk_conv_params_causal (8, 16, 3, 3, 3);
  tk_conv_params wide = tk_conv_params_causal (1024, 1024, 3, 3, 3);
  float *w = calloc ((size_t)1024 * 1024 * 27, sizeof (float));
  tk_conv *a = NULL, *b = NULL, *c = NULL;
  tk_isa active = tk_isa_active ();

  CHECK (tk_conv_new (&direct, w, NULL, &a) == TK_OK && tk_conv_new (&wino, w, NULL, &b) == TK_OK
             && tk_conv_new (&wide, w, NULL, &c) == TK_OK,
         "new");
  CHECK (tk_conv_ws_bytes (a, 2) == panels, "direct: %zu", tk_conv_ws_bytes (a, 2));
  if (tk_isa_active () >= TK_ISA_AVX2)
    {
      /* Two panels of eight channels, K = 8 · 3. */
      CHECK (tk_conv_ws_bytes (b, 2) == panels + tiles + (size_t)2 * 16 * 24 * 8 * sizeof (float),
             "winograd: %zu", tk_conv_ws_bytes (b, 2));
      /* K = 3072: 1.5 MiB of U per panel, so 21 panels at a time. */
      CHECK (tk_conv_ws_bytes (c, 2) == panels + tiles + (size_t)21 * 16 * 3072 * 8 * sizeof (float),
             "wide: %zu", tk_conv_ws_bytes (c, 2));
    }
  /* Without AVX2 every convolution takes the direct path. */
  tk_isa_force (TK_ISA_PORTABLE);
  CHECK (tk_conv_ws_bytes (b, 2) == panels && tk_conv_ws_bytes (c, 2) == panels, "portable: %zu, %zu",
         tk_conv_ws_bytes (b, 2), tk_conv_ws_bytes (c, 2));
  tk_isa_force (active);
  tk_conv_free (a);
  tk_conv_free (b);
  tk_conv_free (c);
  free (w);
  report ("/conv/winograd/workspace-bytes", before);
}

static void
test_conv_vae_shapes (tk_pool *pool2, tk_conv_ws *ws)
{
  /* The Wan2.1 decoder's layers with their real channel counts on small
   * frames, checked at sampled outputs, on the active instruction set (the
   * odd sizes above cover every set). */
  conv_case cases[] = {
    { tk_conv_params_causal (16, 384, 3, 3, 3), 2, 6, 10, 3000 },   /* decoder.conv1 */
    { tk_conv_params_causal (384, 384, 3, 3, 3), 2, 5, 7, 1500 },   /* middle / level 0 */
    { tk_conv_params_causal (384, 768, 3, 1, 1), 2, 6, 10, 3000 },  /* upsample3d time_conv */
    { tk_conv_params_2d (384, 192, 3, 3, 1, 1), 2, 12, 20, 3000 },  /* upsample resample conv */
    { tk_conv_params_causal (192, 384, 1, 1, 1), 2, 12, 20, 3000 }, /* shortcut */
    { tk_conv_params_causal (96, 96, 3, 3, 3), 2, 16, 30, 3000 },   /* level 3 */
    { tk_conv_params_causal (96, 3, 3, 3, 3), 2, 16, 30, 3000 },    /* head.2 */
    { tk_conv_params_causal (1024, 1024, 3, 3, 3), 1, 3, 5, 300 },  /* Wan2.2 decoder level 0 */
  };

  check_conv_cases ("/conv/conv3d/matches-reference/vae-decoder-channels", cases,
                    sizeof cases / sizeof cases[0], 0, pool2, ws);
}

/* ---- causal chunks ---- */

static void
run_chunked (const tk_conv *conv,
             tk_pool *pool,
             tk_conv_ws *ws,
             tk_conv_cache *cache,
             const float *in,
             int c_in,
             int64_t t,
             int64_t h,
             int64_t w,
             const int *chunks,
             int c_out,
             float *out)
{
  int64_t hw = h * w, f0 = 0;

  for (int i = 0; f0 < t; i++)
    {
      int64_t n = chunks[i] < t - f0 ? chunks[i] : t - f0;
      float *cin = malloc ((size_t)(c_in * n * hw) * sizeof (float));
      float *cout = malloc ((size_t)(c_out * n * hw) * sizeof (float));

      for (int c = 0; c < c_in; c++)
        memcpy (cin + c * n * hw, in + (c * t + f0) * hw, (size_t)(n * hw) * sizeof (float));
      CHECK (tk_conv_forward (conv, pool, ws, cache, cin, n, h, w, cout) == TK_OK, "chunk %d", i);
      for (int c = 0; c < c_out; c++)
        memcpy (out + (c * t + f0) * hw, cout + c * n * hw, (size_t)(n * hw) * sizeof (float));
      f0 += n;
      free (cin);
      free (cout);
    }
}

static void
test_causal_chunks (tk_pool *pool2, tk_conv_ws *ws)
{
  /* Splits of 13 frames: Wan's 1, 4, 4, 4; single frames (a chunk shorter
   * than the cache); and uneven ones. */
  static const int splits[][8] = {
    { 1, 4, 4, 4, 0 }, { 1, 1, 1, 1, 1, 1, 1, 1 }, { 2, 3, 1, 5, 2, 0 }, { 13, 0 }, { 1, 2, 10, 0 },
  };
  static const int kts[] = { 3, 2, 4, 1 };
  int before = failures;
  int c_in = 7, c_out = 9;
  int64_t t = 13, h = 5, w = 13, hw = h * w;
  float *in = random_floats (c_in * t * hw);
  float *whole = malloc ((size_t)(c_out * t * hw) * sizeof (float));
  float *chunked = malloc ((size_t)(c_out * t * hw) * sizeof (float));

  for (size_t kk = 0; kk < sizeof kts / sizeof kts[0]; kk++)
    {
      tk_conv_params p = tk_conv_params_causal (c_in, c_out, kts[kk], 3, 3);
      float *wt = random_floats (c_out * c_in * kts[kk] * 9);
      float *bias = random_floats (c_out);
      tk_conv *conv = NULL;
      tk_conv_cache *cache = tk_conv_cache_new (c_in, kts[kk] - 1, h, w);

      CHECK (cache != NULL, "cache");
      CHECK (tk_conv_new (&p, wt, bias, &conv) == TK_OK, "new");
      CHECK (tk_conv_forward (conv, pool2, ws, NULL, in, t, h, w, whole) == TK_OK, "whole");
      CHECK (conv_check (&p, wt, bias, in, t, h, w, whole) <= 2e-5, "whole against the reference");
      for (size_t s = 0; s < sizeof splits / sizeof splits[0]; s++)
        {
          tk_conv_cache_reset (cache);
          CHECK (tk_conv_cache_n_frames (cache) == 0, "reset empties the cache");
          run_chunked (conv, s % 2 ? NULL : pool2, ws, cache, in, c_in, t, h, w, splits[s], c_out, chunked);
          CHECK (memcmp (whole, chunked, (size_t)(c_out * t * hw) * sizeof (float)) == 0,
                 "kernel_t %d split %zu differs from the whole sequence", kts[kk], s);
          CHECK (tk_conv_cache_n_frames (cache) == kts[kk] - 1, "cache holds %d frames",
                 tk_conv_cache_n_frames (cache));
        }
      tk_conv_cache_free (cache);
      tk_conv_free (conv);
      free (wt);
      free (bias);
    }
  free (in);
  free (whole);
  free (chunked);
  report ("/conv/causal/chunks-equal-whole-sequence", before);
}

static void
test_causal_restart (tk_pool *pool2, tk_conv_ws *ws)
{
  /* upsample3d's time_conv skips chunk 0 and starts with zero padding on
   * chunk 1: a reset cache must give the result of a fresh sequence. */
  int before = failures;
  int c = 6;
  int64_t h = 4, w = 13;
  tk_conv_params p = tk_conv_params_causal (c, 2 * c, 3, 1, 1);
  float *wt = random_floats (2 * c * c * 3);
  float *in = random_floats (c * 4 * h * w);
  float *fresh = malloc ((size_t)(2 * c * 4 * h * w) * sizeof (float));
  float *again = malloc ((size_t)(2 * c * 4 * h * w) * sizeof (float));
  tk_conv *conv = NULL;
  tk_conv_cache *cache = tk_conv_cache_new (c, 2, h, w);

  CHECK (tk_conv_new (&p, wt, NULL, &conv) == TK_OK, "new");
  CHECK (tk_conv_forward (conv, pool2, ws, NULL, in, 4, h, w, fresh) == TK_OK, "fresh");
  CHECK (tk_conv_forward (conv, pool2, ws, cache, in, 4, h, w, again) == TK_OK, "first sequence");
  CHECK (memcmp (fresh, again, (size_t)(2 * c * 4 * h * w) * sizeof (float)) == 0, "first sequence");
  CHECK (tk_conv_forward (conv, pool2, ws, cache, in, 4, h, w, again) == TK_OK, "continued");
  CHECK (memcmp (fresh, again, (size_t)(2 * c * 4 * h * w) * sizeof (float)) != 0,
         "the cache changed nothing");
  tk_conv_cache_reset (cache);
  CHECK (tk_conv_forward (conv, pool2, ws, cache, in, 4, h, w, again) == TK_OK, "restarted");
  CHECK (memcmp (fresh, again, (size_t)(2 * c * 4 * h * w) * sizeof (float)) == 0, "restart differs");
  tk_conv_cache_free (cache);
  tk_conv_free (conv);
  free (wt);
  free (in);
  free (fresh);
  free (again);
  report ("/conv/causal/reset-starts-a-new-sequence", before);
}

static void
test_thread_counts_agree (void)
{
  int before = failures;
  tk_conv_params p = tk_conv_params_causal (24, 40, 3, 3, 3);
  int64_t t = 3, h = 9, w = 50, n_out = 40 * t * h * w;
  float *wt = random_floats (40 * 24 * 27), *in = random_floats (24 * t * h * w);
  float *o1 = malloc ((size_t)n_out * sizeof (float)), *o3 = malloc ((size_t)n_out * sizeof (float));
  tk_pool *pool3 = tk_pool_new (3);
  tk_conv_ws *ws3 = tk_conv_ws_new (3);
  tk_conv *conv = NULL;

  CHECK (tk_conv_new (&p, wt, NULL, &conv) == TK_OK, "new");
  CHECK (tk_conv_forward (conv, NULL, NULL, NULL, in, t, h, w, o1) == TK_OK, "one thread");
  CHECK (tk_conv_forward (conv, pool3, ws3, NULL, in, t, h, w, o3) == TK_OK, "three threads");
  CHECK (memcmp (o1, o3, (size_t)n_out * sizeof (float)) == 0, "results differ");
  tk_conv_free (conv);
  tk_conv_ws_free (ws3);
  tk_pool_free (pool3);
  free (wt);
  free (in);
  free (o1);
  free (o3);
  report ("/conv/thread-counts-give-same-bits", before);
}

static void
test_conv_rejects_bad_arguments (tk_pool *pool2)
{
  int before = failures;
  tk_conv_params p = tk_conv_params_causal (2, 3, 3, 3, 3);
  tk_conv_params bad = p;
  float wt[2 * 3 * 27] = { 0 }, in[2 * 2 * 4 * 4] = { 0 }, out[3 * 2 * 4 * 4];
  tk_conv *conv = NULL;
  tk_conv_ws *ws1 = tk_conv_ws_new (1);
  tk_conv_cache *cache = tk_conv_cache_new (2, 2, 4, 4);
  tk_conv_cache *wrong = tk_conv_cache_new (2, 2, 4, 5);
  int64_t t;

  bad.stride_h = 0;
  CHECK (tk_conv_new (&bad, wt, NULL, &conv) == TK_ERR_INVALID && conv == NULL, "zero stride");
  bad = p;
  bad.pad_left = -1;
  CHECK (tk_conv_new (&bad, wt, NULL, &conv) == TK_ERR_INVALID, "negative padding");
  CHECK (tk_conv_new (&p, NULL, NULL, &conv) == TK_ERR_INVALID, "no weight");
  CHECK (tk_conv_ws_new (0) == NULL, "workspace of no threads");
  CHECK (tk_conv_cache_new (0, 2, 4, 4) == NULL, "cache of no channels");
  CHECK (tk_conv_new (&p, wt, NULL, &conv) == TK_OK, "valid");
  CHECK (tk_conv_forward (conv, NULL, ws1, cache, in, 2, 4, 4, out) == TK_OK, "valid call");
  CHECK (tk_conv_forward (conv, pool2, ws1, NULL, in, 2, 4, 4, out) == TK_ERR_INVALID, "workspace too small");
  CHECK (tk_conv_forward (conv, NULL, ws1, wrong, in, 2, 4, 4, out) == TK_ERR_INVALID,
         "cache of another size");
  CHECK (tk_conv_forward (conv, NULL, ws1, NULL, NULL, 2, 4, 4, out) == TK_ERR_INVALID, "no input");
  CHECK (tk_conv_forward (conv, NULL, ws1, NULL, in, 2, 0, 4, out) == TK_ERR_INVALID, "empty frame");
  CHECK (tk_conv_forward (conv, NULL, ws1, cache, in, 0, 4, 4, out) == TK_OK
             && tk_conv_cache_n_frames (cache) == 2,
         "an empty chunk changes nothing");
  tk_conv_free (conv);
  conv = NULL;
  bad = tk_conv_params_causal (2, 3, 3, 1, 1);
  bad.stride_t = 2;
  bad.pad_front = 0;
  CHECK (tk_conv_new (&bad, wt, NULL, &conv) == TK_OK, "strided");
  CHECK (tk_conv_forward (conv, NULL, ws1, cache, in, 2, 4, 4, out) == TK_ERR_INVALID,
         "cache on a strided conv");
  CHECK (tk_conv_forward (conv, NULL, ws1, NULL, in, 2, 4, 4, out) == TK_ERR_INVALID,
         "fewer frames than the kernel");
  CHECK (tk_conv_output_shape (&bad, 5, 4, 4, &t, NULL, NULL) == TK_OK && t == 2, "5 frames → 2");
  tk_conv_free (conv);
  tk_conv_cache_free (cache);
  tk_conv_cache_free (wrong);
  tk_conv_ws_free (ws1);
  report ("/conv/rejects-bad-arguments", before);
}

/* ---- patch embedding and unpatchify ---- */

static void
test_patch_embed (tk_pool *pool2)
{
  static const int shapes[][6] = {
    /* channels, dim, frames, height, width, ldt pad */
    { 16, 101, 3, 10, 14, 3 },
    { 48, 96, 2, 6, 8, 0 },
    { 3, 7, 1, 2, 2, 0 },
    { 16, 1536, 1, 6, 10, 0 },
  };
  int before = failures;
  tk_isa active = tk_isa_active ();

  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
    {
      int ch = shapes[s][0], dim = shapes[s][1];
      int64_t f = shapes[s][2], h = shapes[s][3], w = shapes[s][4], ldt = dim + shapes[s][5];
      int64_t hp = h / 2, wp = w / 2, n_tok = f * hp * wp;
      float *wt = random_floats ((int64_t)dim * ch * 4), *bias = random_floats (dim);
      float *x = random_floats (ch * f * h * w);
      float *tok = malloc ((size_t)(n_tok * ldt) * sizeof (float));
      tk_patch_embed *pe = NULL;

      CHECK (tk_patch_embed_new (ch, dim, 2, 2, wt, bias, &pe) == TK_OK, "new");
      for (size_t i = 0; i < sizeof isas / sizeof isas[0] && pe != NULL; i++)
        {
          double worst = 0.0;

          if (isas[i] > active)
            continue;
          tk_isa_force (isas[i]);
          for (int64_t e = 0; e < n_tok * ldt; e++)
            tok[e] = NAN;
          CHECK (tk_patch_embed_forward (pe, i % 2 ? NULL : pool2, NULL, x, f, h, w, tok, ldt) == TK_OK,
                 "forward");
          for (int64_t l = 0; l < n_tok; l++)
            {
              int64_t ff = l / (hp * wp), hh = (l / wp) % hp, ww = l % wp;

              for (int d = 0; d < dim; d++)
                {
                  double acc = bias[d];

                  for (int c = 0; c < ch; c++)
                    for (int a = 0; a < 2; a++)
                      for (int b = 0; b < 2; b++)
                        acc += (double)wt[((d * ch + c) * 2 + a) * 2 + b]
                               * x[((c * f + ff) * h + 2 * hh + a) * w + 2 * ww + b];
                  if (!(fabs (tok[l * ldt + d] - acc) <= worst))
                    worst = isnan (tok[l * ldt + d]) ? INFINITY : fabs (tok[l * ldt + d] - acc);
                }
              for (int64_t d = dim; d < ldt; d++)
                CHECK (isnan (tok[l * ldt + d]), "wrote past dim in token %lld", (long long)l);
            }
          CHECK (worst <= 2e-5, "%s: channels %d dim %d: max error %g", tk_isa_name (isas[i]), ch, dim,
                 worst);
        }
      tk_isa_force (active);
      tk_patch_embed_free (pe);
      free (wt);
      free (bias);
      free (x);
      free (tok);
    }
  {
    float wt[4] = { 0 };
    tk_patch_embed *pe = NULL;

    CHECK (tk_patch_embed_new (200, 8, 2, 2, wt, NULL, &pe) == TK_ERR_INVALID && pe == NULL,
           "patch too long");
    CHECK (tk_patch_embed_new (1, 1, 2, 2, wt, NULL, &pe) == TK_OK, "tiny");
    CHECK (tk_patch_embed_forward (pe, NULL, NULL, wt, 1, 3, 2, wt, 1) == TK_ERR_INVALID, "odd height");
    tk_patch_embed_free (pe);
  }
  report ("/conv/patch-embed/matches-reference", before);
}

/* A value that names its position, exact in float. */
static float
tag (int64_t c, int64_t f, int64_t y, int64_t x)
{
  return (float)(((c * 16 + f) * 64 + y) * 64 + x);
}

static void
test_unpatchify (tk_pool *pool2)
{
  /* out[c, f, 2h + q, 2w + r] = token(f, h, w)[(q·2 + r)·C + c]. */
  int before = failures;
  int ch = 5;
  int64_t f = 3, hp = 4, wp = 7, ldt = 4 * ch + 2;
  float *tok = malloc ((size_t)(f * hp * wp * ldt) * sizeof (float));
  float *out = malloc ((size_t)(ch * f * hp * 2 * wp * 2) * sizeof (float));

  for (int64_t l = 0; l < f * hp * wp; l++)
    for (int64_t e = 0; e < ldt; e++)
      {
        int64_t ff = l / (hp * wp), hh = (l / wp) % hp, ww = l % wp;
        int64_t c = e % ch, q = (e / ch) / 2, r = (e / ch) % 2;

        tok[l * ldt + e] = e < 4 * ch ? tag (c, ff, 2 * hh + q, 2 * ww + r) : NAN;
      }
  CHECK (tk_unpatchify (pool2, tok, ldt, ch, f, hp, wp, 2, 2, out) == TK_OK, "unpatchify");
  for (int64_t c = 0; c < ch; c++)
    for (int64_t ff = 0; ff < f; ff++)
      for (int64_t y = 0; y < 2 * hp; y++)
        for (int64_t x = 0; x < 2 * wp; x++)
          CHECK (out[((c * f + ff) * 2 * hp + y) * 2 * wp + x] == tag (c, ff, y, x),
                 "at c %lld f %lld y %lld x %lld", (long long)c, (long long)ff, (long long)y, (long long)x);
  CHECK (tk_unpatchify (pool2, tok, 4 * ch - 1, ch, f, hp, wp, 2, 2, out) == TK_ERR_INVALID, "short rows");
  free (tok);
  free (out);
  report ("/conv/unpatchify/channel-fastest-layout", before);
}

/* ---- resampling ---- */

static void
test_upsample (tk_pool *pool2)
{
  int before = failures;
  int64_t c = 3, t = 2, h = 5, w = 7;
  float *in = malloc ((size_t)(c * t * h * w) * sizeof (float));
  float *up = malloc ((size_t)(c * t * 4 * h * w) * sizeof (float));
  float *tt = malloc ((size_t)(c * t * h * w) * sizeof (float));

  for (int64_t cc = 0; cc < c; cc++)
    for (int64_t f = 0; f < t; f++)
      for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++)
          in[((cc * t + f) * h + y) * w + x] = tag (cc, f, y, x);
  CHECK (tk_upsample_nearest2x (pool2, in, c, t, h, w, up) == TK_OK, "nearest");
  for (int64_t cc = 0; cc < c; cc++)
    for (int64_t f = 0; f < t; f++)
      for (int64_t y = 0; y < 2 * h; y++)
        for (int64_t x = 0; x < 2 * w; x++)
          CHECK (up[((cc * t + f) * 2 * h + y) * 2 * w + x] == tag (cc, f, y / 2, x / 2),
                 "nearest at %lld %lld", (long long)y, (long long)x);

  /* time ×2: [2C', T] → [C', 2T] with C' = 1 here (c = 3 is odd, so use
   * channels 0..1 as 2 × 1). */
  CHECK (tk_upsample_time2x (pool2, in, 1, t, h, w, tt) == TK_OK, "time");
  for (int64_t f = 0; f < 2 * t; f++)
    for (int64_t y = 0; y < h; y++)
      for (int64_t x = 0; x < w; x++)
        CHECK (tt[(f * h + y) * w + x] == tag (f % 2, f / 2, y, x), "time at frame %lld", (long long)f);
  CHECK (tk_upsample_nearest2x (pool2, NULL, c, t, h, w, up) == TK_ERR_INVALID, "no input");
  free (in);
  free (up);
  free (tt);
  report ("/conv/upsample/nearest-and-time", before);
}

static void
test_wan22_shortcuts (tk_pool *pool2)
{
  /* Golden values from the official DupUp3D / AvgDown3D on arange inputs. */
  static const int dup[96] = {
    0,  0,  1,  1,  2,  2,  0,  0,  1,  1,  2,  2,  3,  3,  4,  4,  5,  5,  3,  3,  4,  4,  5,  5,
    6,  6,  7,  7,  8,  8,  6,  6,  7,  7,  8,  8,  9,  9,  10, 10, 11, 11, 9,  9,  10, 10, 11, 11,
    12, 12, 13, 13, 14, 14, 12, 12, 13, 13, 14, 14, 15, 15, 16, 16, 17, 17, 15, 15, 16, 16, 17, 17,
    18, 18, 19, 19, 20, 20, 18, 18, 19, 19, 20, 20, 21, 21, 22, 22, 23, 23, 21, 21, 22, 22, 23, 23,
  };
  static const int dup_first[48] = {
    6,  6,  7,  7,  8,  8,  6,  6,  7,  7,  8,  8,  9,  9,  10, 10, 11, 11, 9,  9,  10, 10, 11, 11,
    18, 18, 19, 19, 20, 20, 18, 18, 19, 19, 20, 20, 21, 21, 22, 22, 23, 23, 21, 21, 22, 22, 23, 23,
  };
  /* 4 × the averages. */
  static const int avg4[16] = { 0, 0, 38, 54, 6, 22, 70, 86, 0, 0, 134, 150, 102, 118, 166, 182 };
  int before = failures;
  float in[48], out[96];

  for (int i = 0; i < 48; i++)
    in[i] = (float)i;
  /* DupUp3D (in 4, out 2, t 2, s 2) on [4, 1, 2, 3]. */
  CHECK (tk_dup_up3d (pool2, in, 4, 1, 2, 3, 2, 2, 2, 0, out) == TK_OK, "dup");
  for (int i = 0; i < 96; i++)
    CHECK (out[i] == (float)dup[i], "dup at %d: %g vs %d", i, out[i], dup[i]);
  CHECK (tk_dup_up3d (pool2, in, 4, 1, 2, 3, 2, 2, 2, 1, out) == TK_OK, "dup first chunk");
  for (int i = 0; i < 48; i++)
    CHECK (out[i] == (float)dup_first[i], "dup first chunk at %d: %g vs %d", i, out[i], dup_first[i]);
  /* AvgDown3D (in 2, out 4, t 2, s 2) on [2, 3, 4, 2]: one zero frame first. */
  CHECK (tk_avg_down3d (pool2, in, 2, 3, 4, 2, 4, 2, 2, out) == TK_OK, "avg");
  for (int i = 0; i < 16; i++)
    CHECK (out[i] * 4.0f == (float)avg4[i], "avg at %d: %g vs %g", i, out[i], avg4[i] / 4.0);
  CHECK (tk_dup_up3d (pool2, in, 3, 1, 2, 3, 2, 2, 2, 0, out) == TK_ERR_INVALID, "channels not dividing");
  CHECK (tk_avg_down3d (pool2, in, 2, 3, 3, 2, 4, 2, 2, out) == TK_ERR_INVALID, "odd height");
  report ("/conv/wan22-shortcuts/match-official-layout", before);
}

static void
test_pixel_patchify (tk_pool *pool2)
{
  /* Golden: "b c f (h q) (w r) -> b (c r q) f h w" on arange [2, 1, 4, 6]. */
  static const int golden[48] = {
    0,  2,  4,  12, 14, 16, 6,  8,  10, 18, 20, 22, 1,  3,  5,  13, 15, 17, 7,  9,  11, 19, 21, 23,
    24, 26, 28, 36, 38, 40, 30, 32, 34, 42, 44, 46, 25, 27, 29, 37, 39, 41, 31, 33, 35, 43, 45, 47,
  };
  int before = failures;
  float in[48], out[48];
  int64_t c = 3, t = 2, h = 6, w = 10;
  float *x = random_floats (c * t * h * w);
  float *y = malloc ((size_t)(c * t * h * w) * sizeof (float));
  float *z = malloc ((size_t)(c * t * h * w) * sizeof (float));

  for (int i = 0; i < 48; i++)
    in[i] = (float)i;
  CHECK (tk_pixel_patchify (pool2, in, 2, 1, 4, 6, 2, out) == TK_OK, "patchify");
  for (int i = 0; i < 48; i++)
    CHECK (out[i] == (float)golden[i], "at %d: %g vs %d", i, out[i], golden[i]);
  CHECK (tk_pixel_patchify (pool2, x, c, t, h, w, 2, y) == TK_OK, "patchify");
  CHECK (tk_pixel_unpatchify (pool2, y, c, t, h / 2, w / 2, 2, z) == TK_OK, "unpatchify");
  CHECK (memcmp (x, z, (size_t)(c * t * h * w) * sizeof (float)) == 0, "round trip");
  CHECK (tk_pixel_patchify (pool2, x, c, t, 5, w, 2, y) == TK_ERR_INVALID, "odd height");
  free (x);
  free (y);
  free (z);
  report ("/conv/pixel-patchify/official-channel-order", before);
}

int
main (void)
{
  tk_pool *pool2 = tk_pool_new (2);
  tk_conv_ws *ws = tk_conv_ws_new (2);

  printf ("TAP version 13\n");
  test_panel_product ();
  test_conv_odd_sizes (pool2, ws);
  test_conv_vae_shapes (pool2, ws);
  test_winograd_tiles (pool2, ws);
  test_winograd_workspace_reuse (pool2);
  test_workspace_bytes ();
  test_causal_chunks (pool2, ws);
  test_causal_restart (pool2, ws);
  test_thread_counts_agree ();
  test_conv_rejects_bad_arguments (pool2);
  test_patch_embed (pool2);
  test_unpatchify (pool2);
  test_upsample (pool2);
  test_wan22_shortcuts (pool2);
  test_pixel_patchify (pool2);
  tk_conv_ws_free (ws);
  tk_pool_free (pool2);
  printf ("1..%d\n", n_test);
  return failures == 0 ? 0 : 1;
}
