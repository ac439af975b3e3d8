/* test-vae.c: the Wan2.1 and Wan2.2 VAEs against the golden tensors of
 * vae21_case and vae22_case, the frame-by-frame decoder against a direct
 * whole-sequence reference written here, and the errors a user can meet. */
#include "config.h"

#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>

#include "engine-test-util.h"
#include "takes-kernels.h"
#include "wan-vae.h"

/* The reference below sums in double; the engine in float. */
#define REF_REL_L2 2e-5
#define REF_MAX_ABS 2e-4

static WanVae *
open_vae (const char *file, int n_threads, WanWeights **weights)
{
  g_autofree char *path = test_golden_path (file);
  g_autoptr (GError) error = NULL;
  WanVae *vae;

  *weights = wan_weights_open (path, NULL, &error);
  g_assert_no_error (error);
  vae = wan_vae_new (*weights, n_threads, &error);
  g_assert_no_error (error);
  return vae;
}

/* Golden decode and encode */

static void
check_golden (const char *case_name, const char *weights_file, gboolean decode)
{
  g_autofree char *case_file = g_strdup_printf ("%s.safetensors", case_name);
  g_autofree char *path = test_golden_path (case_file);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = safetensors_open (path, &error);
  g_autoptr (WanWeights) weights = NULL;
  g_autoptr (WanVae) vae = NULL;
  JsonObject *tol = test_golden_tolerances (parser, case_name);
  const char *out_name = decode ? "video" : "enc_out";
  JsonObject *t = json_object_get_object_member (tol, out_name);
  g_autofree float *in = NULL, *want = NULL, *got = NULL;
  gint64 s[4], o[4];
  gsize n;

  g_assert_no_error (error);
  vae = open_vae (weights_file, 0, &weights);
  in = test_read_f32 (st, decode ? "z" : "enc_in", NULL, s);
  want = test_read_f32 (st, out_name, NULL, o);
  n = (gsize)(o[0] * o[1] * o[2] * o[3]);
  got = g_new0 (float, n);
  if (decode)
    wan_vae_decode (vae, in, (int)s[1], (int)s[2], (int)s[3], got, NULL, NULL, NULL, &error);
  else
    wan_vae_encode (vae, in, (int)s[1], (int)s[2], (int)s[3], got, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  test_compare_f32 (got, want, n, json_object_get_double_member (t, "suggested_max_abs"),
                    json_object_get_double_member (t, "suggested_rel_l2"), out_name);
}

static void
test_golden_wan21_decode (void)
{
  check_golden ("vae21_case", "vae21_f32.safetensors", TRUE);
}

static void
test_golden_wan21_encode (void)
{
  check_golden ("vae21_case", "vae21_f32.safetensors", FALSE);
}

static void
test_golden_wan22_decode (void)
{
  check_golden ("vae22_case", "vae22_f32.safetensors", TRUE);
}

static void
test_golden_wan22_encode (void)
{
  check_golden ("vae22_case", "vae22_f32.safetensors", FALSE);
}

/* The shipped latent tables give exactly the golden files' constants. */
static void
test_latent_tables_match_golden (void)
{
  const char *cases[] = { "vae21_case.safetensors", "vae22_case.safetensors" };
  const int versions[] = { 21, 22 };
  g_autofree char *dir = wan_engine_data_dir ();

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *path = test_golden_path (cases[c]);
      g_autoptr (GError) error = NULL;
      g_autoptr (Safetensors) st = safetensors_open (path, &error);
      g_autofree float *mean = NULL, *inv = NULL, *got_mean = NULL, *got_std = NULL;
      gint64 shape[1];

      g_assert_no_error (error);
      mean = test_read_f32 (st, "latent_mean", NULL, shape);
      inv = test_read_f32 (st, "latent_inv_std", NULL, NULL);
      got_mean = g_new (float, shape[0]);
      got_std = g_new (float, shape[0]);
      wan_vae_latents_load (dir, versions[c], (int)shape[0], got_mean, got_std, &error);
      g_assert_no_error (error);
      for (gint64 i = 0; i < shape[0]; i++)
        {
          g_assert_cmpfloat (got_mean[i], ==, mean[i]);
          g_assert_cmpfloat (1.0f / got_std[i], ==, inv[i]);
        }
    }
}

/* A direct reference: the whole latent sequence at once, every convolution
 * a plain causal one over all frames (zeros before the first), with the two
 * official departures spelled out: an upsample3d passes its first frame
 * through and runs its time convolution on the rest, and a DupUp3D drops
 * its first ft - 1 frames. Tensors are [C, T, H, W]. */

typedef struct
{
  int c, t, h, w;
  double *d;
} Ten;

static Ten
ten_new (int c, int t, int h, int w)
{
  Ten x = { c, t, h, w, g_new0 (double, (gsize)c *t *h *w) };
  return x;
}

static double *
at (const Ten *x, int c, int t, int h, int w)
{
  return x->d + (((gsize)c * x->t + t) * x->h + h) * x->w + w;
}

static void
ten_replace (Ten *dst, Ten src)
{
  g_free (dst->d);
  *dst = src;
}

static const SafetensorsTensor *
ref_tensor (const Safetensors *st, const char *name)
{
  const SafetensorsTensor *t = safetensors_lookup (st, name);

  if (t == NULL)
    g_error ("no tensor %s", name);
  return t;
}

/* conv with kernel [co, ci, kt, kh, kw], front time padding kt - 1 (causal)
 * or none, symmetric spatial padding (kh - 1) / 2. */
static Ten
ref_conv (const Safetensors *st, const char *name, const Ten *x, gboolean causal)
{
  g_autofree char *wn = g_strdup_printf ("%s.weight", name);
  g_autofree char *bn = g_strdup_printf ("%s.bias", name);
  const SafetensorsTensor *wt = ref_tensor (st, wn);
  int co = (int)wt->shape[0], ci = (int)wt->shape[1];
  int kt = wt->n_dims == 5 ? (int)wt->shape[2] : 1;
  int kh = (int)wt->shape[wt->n_dims - 2], kw = (int)wt->shape[wt->n_dims - 1];
  int pt = causal ? kt - 1 : 0, ph = (kh - 1) / 2, pw = (kw - 1) / 2;
  g_autofree float *w = test_read_f32 (st, wn, NULL, NULL);
  g_autofree float *b = test_read_f32 (st, bn, NULL, NULL);
  Ten y = ten_new (co, x->t + pt - kt + 1, x->h, x->w);

  g_assert_cmpint (ci, ==, x->c);
  for (int o = 0; o < co; o++)
    for (gsize k = 0; k < (gsize)y.t * y.h * y.w; k++)
      y.d[(gsize)o * y.t * y.h * y.w + k] = b[o];
  /* One weight at a time over whole rows keeps the loops short and plain. */
  for (int o = 0; o < co; o++)
    for (int c = 0; c < ci; c++)
      for (int a = 0; a < kt; a++)
        for (int p = 0; p < kh; p++)
          for (int q = 0; q < kw; q++)
            {
              double wv = w[(((gsize)o * ci + c) * kt + a) * kh * kw + p * kw + q];
              int j0 = MAX (0, pw - q), j1 = MIN (y.w, x->w + pw - q);

              for (int t = 0; t < y.t; t++)
                {
                  int tt = t + a - pt;

                  if (tt < 0)
                    continue;
                  for (int i = 0; i < y.h; i++)
                    {
                      int ii = i + p - ph;
                      const double *xr;
                      double *yr;

                      if (ii < 0 || ii >= x->h)
                        continue;
                      xr = at (x, c, tt, ii, 0) + q - pw;
                      yr = at (&y, o, t, i, 0);
                      for (int j = j0; j < j1; j++)
                        yr[j] += wv * xr[j];
                    }
                }
            }
  return y;
}

static void
ref_norm (const Safetensors *st, const char *gamma_name, Ten *x, gboolean silu)
{
  g_autofree float *g = test_read_f32 (st, gamma_name, NULL, NULL);

  for (int t = 0; t < x->t; t++)
    for (int i = 0; i < x->h; i++)
      for (int j = 0; j < x->w; j++)
        {
          double ss = 0;

          for (int c = 0; c < x->c; c++)
            ss += *at (x, c, t, i, j) * *at (x, c, t, i, j);
          ss = MAX (sqrt (ss), 1e-12);
          for (int c = 0; c < x->c; c++)
            {
              double *v = at (x, c, t, i, j);

              *v = *v / ss * sqrt ((double)x->c) * g[c];
              if (silu)
                *v = *v / (1.0 + exp (-*v));
            }
        }
}

static Ten
ref_copy (const Ten *x)
{
  Ten y = ten_new (x->c, x->t, x->h, x->w);

  memcpy (y.d, x->d, sizeof (double) * (gsize)x->c * x->t * x->h * x->w);
  return y;
}

static void
ref_add (Ten *x, const Ten *y)
{
  gsize n = (gsize)x->c * x->t * x->h * x->w;

  for (gsize i = 0; i < n; i++)
    x->d[i] += y->d[i];
}

static Ten
ref_res (const Safetensors *st, const char *prefix, const Ten *x)
{
  g_autofree char *g0 = g_strdup_printf ("%s.residual.0.gamma", prefix);
  g_autofree char *c2 = g_strdup_printf ("%s.residual.2", prefix);
  g_autofree char *g3 = g_strdup_printf ("%s.residual.3.gamma", prefix);
  g_autofree char *c6 = g_strdup_printf ("%s.residual.6", prefix);
  g_autofree char *sc = g_strdup_printf ("%s.shortcut", prefix);
  g_autofree char *scw = g_strdup_printf ("%s.shortcut.weight", prefix);
  Ten h = ref_copy (x);
  Ten s;

  ref_norm (st, g0, &h, TRUE);
  ten_replace (&h, ref_conv (st, c2, &h, TRUE));
  ref_norm (st, g3, &h, TRUE);
  ten_replace (&h, ref_conv (st, c6, &h, TRUE));
  s = safetensors_lookup (st, scw) != NULL ? ref_conv (st, sc, x, TRUE) : ref_copy (x);
  ref_add (&h, &s);
  g_free (s.d);
  return h;
}

static Ten
ref_attn (const Safetensors *st, const char *prefix, const Ten *x)
{
  g_autofree char *gn = g_strdup_printf ("%s.norm.gamma", prefix);
  g_autofree char *qkv_name = g_strdup_printf ("%s.to_qkv", prefix);
  g_autofree char *proj_name = g_strdup_printf ("%s.proj", prefix);
  int c = x->c, hw = x->h * x->w;
  Ten n = ref_copy (x), qkv, o, y;
  g_autofree double *s = g_new (double, hw);

  ref_norm (st, gn, &n, FALSE);
  qkv = ref_conv (st, qkv_name, &n, FALSE);
  o = ten_new (c, x->t, x->h, x->w);
  for (int t = 0; t < x->t; t++)
    for (int p = 0; p < hw; p++)
      {
        double mx = -INFINITY, sum = 0;

        for (int q = 0; q < hw; q++)
          {
            double dot = 0;

            for (int k = 0; k < c; k++)
              dot += *at (&qkv, k, t, p / x->w, p % x->w) * *at (&qkv, c + k, t, q / x->w, q % x->w);
            s[q] = dot / sqrt ((double)c);
            mx = MAX (mx, s[q]);
          }
        for (int q = 0; q < hw; q++)
          sum += s[q] = exp (s[q] - mx);
        for (int k = 0; k < c; k++)
          {
            double acc = 0;

            for (int q = 0; q < hw; q++)
              acc += s[q] / sum * *at (&qkv, 2 * c + k, t, q / x->w, q % x->w);
            *at (&o, k, t, p / x->w, p % x->w) = acc;
          }
      }
  y = ref_conv (st, proj_name, &o, FALSE);
  ref_add (&y, x);
  g_free (n.d);
  g_free (qkv.d);
  g_free (o.d);
  return y;
}

static Ten
ref_up (const Safetensors *st, const char *prefix, const Ten *x, gboolean temporal)
{
  g_autofree char *tc = g_strdup_printf ("%s.time_conv", prefix);
  g_autofree char *rs = g_strdup_printf ("%s.resample.1", prefix);
  Ten seq = ref_copy (x), up;

  if (temporal && x->t > 1)
    {
      Ten rest = ten_new (x->c, x->t - 1, x->h, x->w), d;
      gsize frame = (gsize)x->h * x->w;

      for (int c = 0; c < x->c; c++)
        memcpy (at (&rest, c, 0, 0, 0), at (x, c, 1, 0, 0), sizeof (double) * frame * (x->t - 1));
      d = ref_conv (st, tc, &rest, TRUE);
      ten_replace (&seq, ten_new (x->c, 1 + 2 * (x->t - 1), x->h, x->w));
      for (int c = 0; c < x->c; c++)
        {
          memcpy (at (&seq, c, 0, 0, 0), at (x, c, 0, 0, 0), sizeof (double) * frame);
          for (int t = 0; t < x->t - 1; t++)
            for (int k = 0; k < 2; k++)
              memcpy (at (&seq, c, 1 + 2 * t + k, 0, 0), at (&d, k * x->c + c, t, 0, 0),
                      sizeof (double) * frame);
        }
      g_free (rest.d);
      g_free (d.d);
    }
  up = ten_new (seq.c, seq.t, 2 * seq.h, 2 * seq.w);
  for (int c = 0; c < seq.c; c++)
    for (int t = 0; t < seq.t; t++)
      for (int i = 0; i < up.h; i++)
        for (int j = 0; j < up.w; j++)
          *at (&up, c, t, i, j) = *at (&seq, c, t, i / 2, j / 2);
  g_free (seq.d);
  seq = ref_conv (st, rs, &up, FALSE);
  g_free (up.d);
  return seq;
}

/* DupUp3D on the whole sequence, then without its first ft - 1 frames. */
static void
ref_dup_up_add (Ten *y, const Ten *x, int ft, int fs)
{
  int repeats = y->c * ft * fs * fs / x->c;

  g_assert_cmpint (y->t, ==, x->t * ft - (ft - 1));
  for (int c = 0; c < y->c; c++)
    for (int t = 0; t < y->t; t++)
      for (int i = 0; i < y->h; i++)
        for (int j = 0; j < y->w; j++)
          {
            int tt = t + ft - 1;
            int k = ((c * ft + tt % ft) * fs + i % fs) * fs + j % fs;

            *at (y, c, t, i, j) += *at (x, k / repeats, tt / ft, i / fs, j / fs);
          }
}

static float *
ref_decode (const char *weights_file, const float *z, int zd, int T, int h, int w, int *F, int *H, int *W)
{
  g_autofree char *path = test_golden_path (weights_file);
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = safetensors_open (path, &error);
  g_autofree char *dir = wan_engine_data_dir ();
  g_autofree float *mean = g_new (float, zd), *std = g_new (float, zd);
  gboolean v22 = ref_tensor (st, "decoder.head.2.weight")->shape[0] == 12;
  const gboolean t_up[3] = { TRUE, TRUE, FALSE };
  Ten x = ten_new (zd, T, h, w);
  float *video;
  int flat = 0;

  g_assert_no_error (error);
  wan_vae_latents_load (dir, v22 ? 22 : 21, zd, mean, std, &error);
  g_assert_no_error (error);
  for (int c = 0; c < zd; c++)
    for (int i = 0; i < T * h * w; i++)
      x.d[(gsize)c * T * h * w + i] = (double)z[(gsize)c * T * h * w + i] * std[c] + mean[c];
  ten_replace (&x, ref_conv (st, "conv2", &x, TRUE));
  ten_replace (&x, ref_conv (st, "decoder.conv1", &x, TRUE));
  ten_replace (&x, ref_res (st, "decoder.middle.0", &x));
  ten_replace (&x, ref_attn (st, "decoder.middle.1", &x));
  ten_replace (&x, ref_res (st, "decoder.middle.2", &x));
  for (int i = 0; i < 4; i++)
    {
      Ten level_in = ref_copy (&x);
      int j = 0;

      for (int r = 0; r < 3; r++)
        {
          g_autofree char *p = v22 ? g_strdup_printf ("decoder.upsamples.%d.upsamples.%d", i, j++)
                                   : g_strdup_printf ("decoder.upsamples.%d", flat++);
          ten_replace (&x, ref_res (st, p, &x));
        }
      if (i < 3)
        {
          g_autofree char *p = v22 ? g_strdup_printf ("decoder.upsamples.%d.upsamples.%d", i, j++)
                                   : g_strdup_printf ("decoder.upsamples.%d", flat++);
          ten_replace (&x, ref_up (st, p, &x, t_up[i]));
          if (v22)
            ref_dup_up_add (&x, &level_in, t_up[i] ? 2 : 1, 2);
        }
      g_free (level_in.d);
    }
  ref_norm (st, "decoder.head.0.gamma", &x, TRUE);
  ten_replace (&x, ref_conv (st, "decoder.head.2", &x, TRUE));
  *F = x.t;
  *H = v22 ? 2 * x.h : x.h;
  *W = v22 ? 2 * x.w : x.w;
  video = g_new (float, (gsize)3 * *F * *H * *W);
  for (int c = 0; c < 3; c++)
    for (int t = 0; t < *F; t++)
      for (int i = 0; i < *H; i++)
        for (int j = 0; j < *W; j++)
          {
            /* Wan2.2's unpatchify: channel (c·2 + r)·2 + q holds row offset q, column offset r. */
            double v = v22 ? *at (&x, (c * 2 + j % 2) * 2 + i % 2, t, i / 2, j / 2) : *at (&x, c, t, i, j);

            video[(((gsize)c * *F + t) * *H + i) * *W + j] = (float)CLAMP (v, -1.0, 1.0);
          }
  g_free (x.d);
  return video;
}

static float *
random_latent (int zd, int T, int h, int w, guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  gsize n = (gsize)zd * T * h * w;
  float *z = g_new (float, n);

  for (gsize i = 0; i < n; i++)
    z[i] = (float)g_rand_double_range (rand, -2.0, 2.0);
  return z;
}

static void
check_chunked_equals_reference (const char *weights_file, int T, int h, int w)
{
  g_autoptr (WanWeights) weights = NULL;
  g_autoptr (WanVae) vae = open_vae (weights_file, 2, &weights);
  g_autoptr (GError) error = NULL;
  int zd = wan_vae_get_z_dim (vae), f = wan_vae_get_spatial_factor (vae);
  int F = 1 + 4 * (T - 1), RF = 0, RH = 0, RW = 0;
  g_autofree float *z = random_latent (zd, T, h, w, 7);
  g_autofree float *got = g_new0 (float, (gsize)3 * F * h * f * w * f);
  g_autofree float *want = ref_decode (weights_file, z, zd, T, h, w, &RF, &RH, &RW);

  g_assert_cmpint (RF, ==, F);
  g_assert_cmpint (RH, ==, h * f);
  g_assert_cmpint (RW, ==, w * f);
  wan_vae_decode (vae, z, T, h, w, got, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  test_compare_f32 (got, want, (gsize)3 * F * RH * RW, REF_MAX_ABS, REF_REL_L2, "chunked vs whole sequence");
}

static void
test_chunked_wan21 (void)
{
  check_chunked_equals_reference ("vae21_f32.safetensors", 3, 3, 2);
}

static void
test_chunked_wan22 (void)
{
  check_chunked_equals_reference ("vae22_f32.safetensors", 3, 3, 2);
}

/* The direct reference reproduces the golden video too, so the two checks
 * above test the official computation and not only the engine against
 * itself. The decode is causal, so the first two latent frames give the
 * first five video frames of the whole. */
static void
test_reference_matches_golden (void)
{
  g_autofree char *path = test_golden_path ("vae21_case.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = safetensors_open (path, &error);
  g_autofree float *z = NULL, *z2 = NULL, *want = NULL, *got = NULL;
  gint64 s[4], o[4];
  gsize plane, frame;
  int F, H, W;

  g_assert_no_error (error);
  z = test_read_f32 (st, "z", NULL, s);
  want = test_read_f32 (st, "video", NULL, o);
  g_assert_cmpint (s[1], >=, 2);
  frame = (gsize)(s[2] * s[3]);
  z2 = g_new (float, (gsize)s[0] * 2 * frame);
  for (gint64 c = 0; c < s[0]; c++)
    memcpy (z2 + (gsize)c * 2 * frame, z + (gsize)c * s[1] * frame, 2 * frame * sizeof (float));
  got = ref_decode ("vae21_f32.safetensors", z2, (int)s[0], 2, (int)s[2], (int)s[3], &F, &H, &W);
  g_assert_cmpint (F, ==, 5);
  plane = (gsize)(o[2] * o[3]);
  for (int c = 0; c < 3; c++)
    {
      g_autofree char *what = g_strdup_printf ("reference vs golden, channel %d, frames 0-4", c);

      test_compare_f32 (got + (gsize)c * F * plane, want + (gsize)c * o[1] * plane, 5 * plane, 4e-4, 4e-5,
                        what);
    }
}

/* Frame by frame through the decoder object: 1 frame, then 4 per latent
 * frame, the same values as the whole decode. */
static void
test_decoder_push_frames (void)
{
  g_autoptr (WanWeights) weights = NULL;
  g_autoptr (WanVae) vae = open_vae ("vae22_f32.safetensors", 1, &weights);
  g_autoptr (WanVaeDecoder) dec = NULL;
  g_autoptr (GError) error = NULL;
  int zd = wan_vae_get_z_dim (vae), f = wan_vae_get_spatial_factor (vae);
  int T = 3, h = 2, w = 3, F = 1 + 4 * (T - 1);
  gsize plane = (gsize)h * f * w * f;
  g_autofree float *z = random_latent (zd, T, h, w, 11);
  g_autofree float *whole = g_new0 (float, 3 * F * plane);
  g_autofree float *frame_z = g_new (float, (gsize)zd *h *w);
  g_autofree float *frames = g_new0 (float, 3 * 4 * plane);
  int done = 0;

  wan_vae_decode (vae, z, T, h, w, whole, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  dec = wan_vae_decoder_new (vae, h, w, &error);
  g_assert_no_error (error);
  for (int t = 0; t < T; t++)
    {
      int n = 0;

      for (int c = 0; c < zd; c++)
        memcpy (frame_z + (gsize)c * h * w, z + ((gsize)c * T + t) * h * w, sizeof (float) * h * w);
      wan_vae_decoder_push (dec, frame_z, frames, &n, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (n, ==, t == 0 ? 1 : 4);
      for (int c = 0; c < 3; c++)
        g_assert_cmpmem (frames + (gsize)c * n * plane, n * plane * sizeof (float),
                         whole + ((gsize)c * F + done) * plane, n * plane * sizeof (float));
      done += n;
    }
  g_assert_cmpint (done, ==, F);
}

/* The thread count changes only how the work is split, not a value. */
static void
test_same_across_thread_counts (void)
{
  g_autoptr (WanWeights) w1 = NULL, w3 = NULL;
  g_autoptr (WanVae) one = open_vae ("vae21_f32.safetensors", 1, &w1);
  g_autoptr (WanVae) three = open_vae ("vae21_f32.safetensors", 3, &w3);
  g_autoptr (GError) error = NULL;
  int T = 2, h = 2, w = 3, F = 5;
  gsize n = (gsize)3 * F * h * 8 * w * 8;
  g_autofree float *z = random_latent (16, T, h, w, 3);
  g_autofree float *a = g_new0 (float, n), *b = g_new0 (float, n);

  wan_vae_decode (one, z, T, h, w, a, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  wan_vae_decode (three, z, T, h, w, b, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  test_compare_f32 (a, b, n, 1e-5, 1e-6, "1 vs 3 threads");
}

/* Partial outputs */

/* The decoder keeps partial outputs for its convolutions that do not
 * widen; the input-cache form computes the same sums in another order, so
 * the two agree to float rounding: well under the golden tolerances. */
#define TAPS_MAX_ABS 5e-5
#define TAPS_REL_L2 5e-6

static WanVae *
open_vae_convs (const char *file, int n_threads, WanVaeConvs convs, WanWeights **weights)
{
  g_autofree char *path = test_golden_path (file);
  g_autoptr (GError) error = NULL;
  WanVae *vae;

  *weights = wan_weights_open (path, NULL, &error);
  g_assert_no_error (error);
  vae = wan_vae_new_with_convs (*weights, n_threads, NULL, convs, &error);
  g_assert_no_error (error);
  return vae;
}

/* Decodes the latent frames [0, T) of z (which has z_T frames) through a
 * decoder, one push per latent frame, into video [3, F, H, W]. */
static void
push_decode (WanVae *vae, const float *z, int z_T, int T, int h, int w, float *video)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (WanVaeDecoder) dec = wan_vae_decoder_new (vae, h, w, &error);
  int zd = wan_vae_get_z_dim (vae), f = wan_vae_get_spatial_factor (vae);
  int F = 1 + 4 * (T - 1), done = 0;
  gsize plane = (gsize)h * f * w * f;
  g_autofree float *frame_z = g_new (float, (gsize)zd *h *w);
  g_autofree float *frames = g_new0 (float, 3 * 4 * plane);

  g_assert_no_error (error);
  for (int t = 0; t < T; t++)
    {
      int n = 0;

      for (int c = 0; c < zd; c++)
        memcpy (frame_z + (gsize)c * h * w, z + ((gsize)c * z_T + t) * h * w, sizeof (float) * h * w);
      wan_vae_decoder_push (dec, frame_z, frames, &n, NULL, NULL, &error);
      g_assert_no_error (error);
      for (int c = 0; c < 3; c++)
        memcpy (video + ((gsize)c * F + done) * plane, frames + (gsize)c * n * plane,
                n * plane * sizeof (float));
      done += n;
    }
  g_assert_cmpint (done, ==, F);
}

/* Frames tall enough for the partial-output convolutions to run in several
 * bands of rows at the two largest levels. */
static void
check_taps_equal_input_caches (const char *file, int T, int h, int w)
{
  g_autoptr (WanWeights) w1 = NULL, w2 = NULL;
  g_autoptr (WanVae) taps = open_vae_convs (file, 2, WAN_VAE_CONVS_PARTIAL_OUTPUTS, &w1);
  g_autoptr (WanVae) caches = open_vae_convs (file, 2, WAN_VAE_CONVS_INPUT_CACHES, &w2);
  g_autoptr (GError) error = NULL;
  int zd = wan_vae_get_z_dim (taps), f = wan_vae_get_spatial_factor (taps);
  int F = 1 + 4 * (T - 1);
  gsize n = (gsize)3 * F * h * f * w * f;
  g_autofree float *z = random_latent (zd, T, h, w, 19);
  g_autofree float *a = g_new0 (float, n), *b = g_new0 (float, n);

  wan_vae_decode (taps, z, T, h, w, a, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  wan_vae_decode (caches, z, T, h, w, b, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  test_compare_f32 (a, b, n, TAPS_MAX_ABS, TAPS_REL_L2, "partial outputs vs input caches");
}

static void
test_taps_wan21_equal_input_caches (void)
{
  check_taps_equal_input_caches ("vae21_f32.safetensors", 4, 7, 3);
}

static void
test_taps_wan22_equal_input_caches (void)
{
  check_taps_equal_input_caches ("vae22_f32.safetensors", 3, 4, 2);
}

/* The default keeps partial outputs where they take less memory: at the
 * video's size the head and the residual blocks without shortcuts of the
 * Wan2.1 VAE, whose partial sums fit where its input frames would have
 * been, and the third frame buffer shrinks. */
static void
test_taps_plan_takes_less (void)
{
  g_autoptr (WanWeights) w1 = NULL, w2 = NULL;
  g_autoptr (WanVae) least = open_vae_convs ("vae21_f32.safetensors", 2, WAN_VAE_CONVS_LEAST_MEMORY, &w1);
  g_autoptr (WanVae) caches = open_vae_convs ("vae21_f32.safetensors", 2, WAN_VAE_CONVS_INPUT_CACHES, &w2);
  WanVaeDecoderMemory a, b;

  g_assert_true (wan_vae_decoder_memory (least, 60, 104, &a));
  g_assert_true (wan_vae_decoder_memory (caches, 60, 104, &b));
  g_assert_cmpuint (a.caches_head, <, b.caches_head);
  g_assert_cmpuint (a.third_frame, <, b.third_frame);
  g_assert_cmpuint (a.largest_frame, ==, b.largest_frame);
  g_assert_cmpuint (a.frames + a.pending, <, b.frames + b.pending);
  for (int i = 0; i < 4; i++)
    g_assert_cmpuint (a.caches_level[i], ==, b.caches_level[i]);
  g_assert_cmpuint (wan_vae_estimate_decoder_bytes (least, 60, 104), <,
                    wan_vae_estimate_decoder_bytes (caches, 60, 104));
  g_assert_false (wan_vae_decoder_memory (least, 0, 104, &a));
}

/* Pushed one latent frame at a time (1 video frame, then 4, 4, …) the
 * partial outputs give the whole-sequence reference; and a decode stopped
 * after any number of latent frames gives exactly the first frames of the
 * longer one, whose later frames change no earlier sum. */
static void
test_taps_chunked_equal_whole (void)
{
  g_autoptr (WanWeights) weights = NULL;
  g_autoptr (WanVae) vae = open_vae ("vae21_f32.safetensors", 2, &weights);
  int T = 4, h = 7, w = 2, f = 8, F = 1 + 4 * (T - 1), RF = 0, RH = 0, RW = 0;
  gsize plane = (gsize)h * f * w * f;
  g_autofree float *z = random_latent (16, T, h, w, 23);
  g_autofree float *whole = g_new0 (float, 3 * F * plane);
  g_autofree float *want = ref_decode ("vae21_f32.safetensors", z, 16, T, h, w, &RF, &RH, &RW);

  g_assert_cmpint (RF, ==, F);
  push_decode (vae, z, T, T, h, w, whole);
  test_compare_f32 (whole, want, 3 * F * plane, REF_MAX_ABS, REF_REL_L2, "pushed vs whole sequence");
  for (int t = 1; t < T; t++)
    {
      int Ft = 1 + 4 * (t - 1);
      g_autofree float *part = g_new0 (float, 3 * Ft * plane);

      push_decode (vae, z, T, t, h, w, part);
      for (int c = 0; c < 3; c++)
        g_assert_cmpmem (part + (gsize)c * Ft * plane, Ft * plane * sizeof (float),
                         whole + (gsize)c * F * plane, Ft * plane * sizeof (float));
    }
}

/* Progress and cancel */

typedef struct
{
  int calls;
  int last_done, last_total;
  int cancel_after;
} Watch;

static void
progress_cb (int done, int total, gpointer data)
{
  Watch *watch = data;

  watch->calls++;
  watch->last_done = done;
  watch->last_total = total;
}

static gboolean
cancel_cb (gpointer data)
{
  Watch *watch = data;

  return watch->cancel_after >= 0 && watch->calls >= watch->cancel_after;
}

static void
test_progress_and_cancel (void)
{
  g_autoptr (WanWeights) weights = NULL;
  g_autoptr (WanVae) vae = open_vae ("vae21_f32.safetensors", 1, &weights);
  g_autoptr (GError) error = NULL;
  int T = 3, h = 2, w = 2;
  g_autofree float *z = random_latent (16, T, h, w, 5);
  g_autofree float *video = g_new0 (float, (gsize)3 * 9 * 16 * 16);
  g_autofree float *latent = g_new0 (float, (gsize)16 * 3 * 2 * 2);
  Watch watch = { .cancel_after = -1 };

  g_assert_true (wan_vae_decode (vae, z, T, h, w, video, cancel_cb, progress_cb, &watch, &error));
  g_assert_no_error (error);
  g_assert_cmpint (watch.calls, ==, T);
  g_assert_cmpint (watch.last_done, ==, T);
  g_assert_cmpint (watch.last_total, ==, T);

  memset (&watch, 0, sizeof watch);
  watch.cancel_after = -1;
  g_assert_true (wan_vae_encode (vae, video, 9, 16, 16, latent, cancel_cb, progress_cb, &watch, &error));
  g_assert_no_error (error);
  g_assert_cmpint (watch.calls, ==, 3);
  g_assert_cmpint (watch.last_total, ==, 3);

  memset (&watch, 0, sizeof watch);
  watch.cancel_after = 1;
  g_assert_false (wan_vae_decode (vae, z, T, h, w, video, cancel_cb, progress_cb, &watch, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CANCELLED);
  g_assert_cmpint (watch.calls, ==, 1);
}

/* Memory: the decode caches and activations do not grow with the frame
 * count; only the output video does. */
static void
test_memory_bounded_over_time (void)
{
  g_autoptr (WanWeights) weights = NULL;
  g_autoptr (WanVae) vae = open_vae ("vae21_f32.safetensors", 2, &weights);
  int h = 6, w = 10, f = 8;
  WanVaeDecoderMemory mem, mem2;
  guint64 small = wan_vae_estimate_decode_bytes (vae, 2, h, w);
  guint64 large = wan_vae_estimate_decode_bytes (vae, 21, h, w);
  guint64 video_step = (guint64)3 * 4 * (21 - 2) * h * f * w * f * sizeof (float);

  g_assert_cmpuint (small, >, 0);
  /* The streaming decoder holds no video. */
  g_assert_cmpuint (wan_vae_estimate_decoder_bytes (vae, h, w)
                        + (guint64)3 * 5 * h * f * w * f * sizeof (float),
                    ==, small);
  g_assert_cmpuint (large - small, ==, video_step);
  /* Beyond the convolutions' workspace, which depends on the weights alone,
   * the bytes grow with the frame's area. */
  g_assert_true (wan_vae_decoder_memory (vae, h, w, &mem));
  g_assert_cmpuint (mem.workspace, >, 0);
  g_assert_true (wan_vae_decoder_memory (vae, 2 * h, 2 * w, &mem2));
  g_assert_cmpuint (mem2.workspace, ==, mem.workspace);
  g_assert_cmpuint (wan_vae_estimate_decode_bytes (vae, 2, 2 * h, 2 * w) - mem.workspace, >,
                    3 * (small - mem.workspace));
  g_assert_cmpuint (wan_vae_estimate_decode_bytes (vae, 0, h, w), ==, 0);
  g_assert_cmpuint (wan_vae_estimate_encode_bytes (vae, 9, h * f, w * f), >, 0);
  g_assert_cmpuint (wan_vae_estimate_encode_bytes (vae, 8, h * f, w * f), ==, 0);
}

/* Spatial tiling */

typedef struct
{
  double max_abs, mean_abs;
} Diff;

static Diff
diff_f32 (const float *a, const float *b, gsize n)
{
  Diff d = { 0, 0 };

  for (gsize i = 0; i < n; i++)
    {
      double e = fabs ((double)a[i] - b[i]);

      g_assert_true (isfinite (a[i]) && a[i] >= -1.0f && a[i] <= 1.0f);
      d.max_abs = MAX (d.max_abs, e);
      d.mean_abs += e / (double)n;
    }
  return d;
}

/* Decodes a random latent untiled and with @tiling, and returns how far
 * apart the videos are. */
static Diff
tiled_vs_untiled (WanVae *vae, int T, int h, int w, const WanVaeTiling *tiling, guint32 seed)
{
  g_autoptr (GError) error = NULL;
  int zd = wan_vae_get_z_dim (vae), f = wan_vae_get_spatial_factor (vae);
  gsize n = (gsize)3 * (1 + 4 * (T - 1)) * h * f * w * f;
  g_autofree float *z = random_latent (zd, T, h, w, seed);
  g_autofree float *whole = g_new0 (float, n), *tiled = g_new0 (float, n);

  g_assert_true (wan_vae_decode (vae, z, T, h, w, whole, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (wan_vae_decode_tiled (vae, z, T, h, w, tiling, tiled, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  return diff_f32 (tiled, whole, n);
}

/* One tile, however asked for, is the untiled decode itself. */
static void
test_tiled_single_tile_is_untiled (void)
{
  g_autoptr (WanWeights) weights = NULL;
  g_autoptr (WanVae) vae = open_vae ("vae21_f32.safetensors", 2, &weights);
  const WanVaeTiling whole[] = { { 0, 0, 0 }, { 5, 7, 2 }, { 40, 40, 8 } };

  for (guint i = 0; i < G_N_ELEMENTS (whole); i++)
    {
      Diff d = tiled_vs_untiled (vae, 2, 5, 7, &whole[i], 21);

      g_assert_cmpint (wan_vae_tiling_count (5, 7, &whole[i]), ==, 1);
      g_assert_cmpfloat (d.max_abs, ==, 0.0);
    }
  g_assert_cmpfloat (tiled_vs_untiled (vae, 2, 5, 7, NULL, 21).max_abs, ==, 0.0);
}

/* The tiny VAE's levels see about 12 latent cells around a pixel. With an
 * overlap of 16 cells, the pixels blended in (a quarter of the overlap or
 * more from a cut) see nearly all they would in the whole frame: measured
 * max 3.2e-3, mean 1.5e-5. An overlap of 4 leaves the seam visible
 * (measured max 1.3, mean 3.0e-3). */
static void
test_tiled_wide_overlap_matches_untiled (void)
{
  g_autoptr (WanWeights) weights = NULL;
  g_autoptr (WanVae) vae = open_vae ("vae21_f32.safetensors", 2, &weights);
  WanVaeTiling wide = { .tile_h = 4, .tile_w = 32, .overlap = 16 };
  WanVaeTiling narrow = { .tile_h = 4, .tile_w = 26, .overlap = 4 };
  Diff dw, dn;

  g_assert_cmpint (wan_vae_tiling_count (4, 48, &wide), ==, 2);
  dw = tiled_vs_untiled (vae, 2, 4, 48, &wide, 5);
  dn = tiled_vs_untiled (vae, 2, 4, 48, &narrow, 5);
  g_test_message ("overlap 16: max %.3g mean %.3g; overlap 4: max %.3g mean %.3g", dw.max_abs, dw.mean_abs,
                  dn.max_abs, dn.mean_abs);
  g_assert_cmpfloat (dw.max_abs, <, 1e-2);
  g_assert_cmpfloat (dw.mean_abs, <, 1e-4);
  g_assert_cmpfloat (dn.mean_abs, >, 10 * dw.mean_abs);
}

/* Tiles that do not divide the latent (11 × 13 in tiles of 7 × 9, so the
 * last ones are cut short), on both VAEs: every pixel is covered and the
 * video stays close to the untiled one although the overlap is far
 * narrower than the levels' reach (measured mean 0.033 for 2.1; 0.035 for
 * 2.2 in tiles of 3 × 8 sharing 2). */
static void
test_tiled_uneven_tiles (void)
{
  g_autoptr (WanWeights) w21 = NULL, w22 = NULL;
  g_autoptr (WanVae) v21 = open_vae ("vae21_f32.safetensors", 2, &w21);
  g_autoptr (WanVae) v22 = open_vae ("vae22_f32.safetensors", 2, &w22);
  WanVaeTiling t21 = { .tile_h = 7, .tile_w = 9, .overlap = 3 };
  WanVaeTiling t22 = { .tile_h = 3, .tile_w = 8, .overlap = 2 };
  Diff d21, d22;

  g_assert_cmpint (wan_vae_tiling_count (11, 13, &t21), ==, 4);
  g_assert_cmpint (wan_vae_tiling_count (3, 24, &t22), ==, 4);
  d21 = tiled_vs_untiled (v21, 2, 11, 13, &t21, 3);
  d22 = tiled_vs_untiled (v22, 2, 3, 24, &t22, 5);
  g_test_message ("2.1: max %.3g mean %.3g; 2.2: max %.3g mean %.3g", d21.max_abs, d21.mean_abs, d22.max_abs,
                  d22.mean_abs);
  g_assert_cmpfloat (d21.mean_abs, <, 0.05);
  g_assert_cmpfloat (d22.mean_abs, <, 0.05);
}

/* The plan: tiles cut the estimate, the planner keeps a decode that fits
 * whole and picks tiles that fit otherwise. */
static void
test_tiled_plan (void)
{
  g_autoptr (WanWeights) weights = NULL;
  g_autoptr (WanVae) vae = open_vae ("vae21_f32.safetensors", 2, &weights);
  int T = 21, h = 60, w = 104;
  guint64 whole = wan_vae_estimate_decode_bytes (vae, T, h, w);
  guint64 video = (guint64)3 * 81 * h * 8 * w * 8 * sizeof (float);
  WanVaeTiling quarter = { .tile_h = 34, .tile_w = 56, .overlap = 8 };
  WanVaeTiling picked;
  guint64 tiled = wan_vae_estimate_decode_tiled_bytes (vae, T, h, w, &quarter);

  g_assert_cmpint (wan_vae_tiling_count (h, w, &quarter), ==, 4);
  /* Beyond the video, which both hold, the tiles need well under half. */
  g_assert_cmpuint (tiled - video, <, (whole - video) / 2);
  g_assert_cmpuint (wan_vae_estimate_decode_tiled_bytes (vae, T, h, w, NULL), ==, whole);

  g_assert_true (wan_vae_plan_tiling (vae, T, h, w, whole, &picked));
  g_assert_cmpint (wan_vae_tiling_count (h, w, &picked), ==, 1);
  g_assert_true (wan_vae_plan_tiling (vae, T, h, w, video + (whole - video) / 3, &picked));
  g_assert_cmpint (wan_vae_tiling_count (h, w, &picked), >, 1);
  g_assert_cmpuint (wan_vae_estimate_decode_tiled_bytes (vae, T, h, w, &picked), <=,
                    video + (whole - video) / 3);
  g_assert_false (wan_vae_plan_tiling (vae, T, h, w, video, &picked));
}

static void
test_tiled_rejects_bad_overlap (void)
{
  g_autoptr (WanWeights) weights = NULL;
  g_autoptr (WanVae) vae = open_vae ("vae21_f32.safetensors", 1, &weights);
  g_autoptr (GError) error = NULL;
  const WanVaeTiling bad[] = { { 4, 4, 3 }, { 4, 4, -1 } };
  g_autofree float *z = random_latent (16, 1, 8, 8, 1);
  g_autofree float *video = g_new0 (float, (gsize)3 * 64 * 64);

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_assert_cmpuint (wan_vae_estimate_decode_tiled_bytes (vae, 1, 8, 8, &bad[i]), ==, 0);
      g_assert_cmpint (wan_vae_tiling_count (8, 8, &bad[i]), ==, 0);
      g_assert_false (wan_vae_decode_tiled (vae, z, 1, 8, 8, &bad[i], video, NULL, NULL, NULL, &error));
      g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
      g_clear_error (&error);
    }
}

/* Progress counts latent frames over all tiles; cancel stops inside a tile. */
static void
test_tiled_progress_and_cancel (void)
{
  g_autoptr (WanWeights) weights = NULL;
  g_autoptr (WanVae) vae = open_vae ("vae21_f32.safetensors", 1, &weights);
  g_autoptr (GError) error = NULL;
  WanVaeTiling tiling = { .tile_h = 4, .tile_w = 4, .overlap = 2 };
  int T = 2, h = 4, w = 6;
  g_autofree float *z = random_latent (16, T, h, w, 9);
  g_autofree float *video = g_new0 (float, (gsize)3 * 5 * 32 * 48);
  Watch watch = { .cancel_after = -1 };

  g_assert_cmpint (wan_vae_tiling_count (h, w, &tiling), ==, 2);
  g_assert_true (
      wan_vae_decode_tiled (vae, z, T, h, w, &tiling, video, cancel_cb, progress_cb, &watch, &error));
  g_assert_no_error (error);
  g_assert_cmpint (watch.calls, ==, 2 * T);
  g_assert_cmpint (watch.last_total, ==, 2 * T);

  memset (&watch, 0, sizeof watch);
  watch.cancel_after = 3;
  g_assert_false (
      wan_vae_decode_tiled (vae, z, T, h, w, &tiling, video, cancel_cb, progress_cb, &watch, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CANCELLED);
  g_assert_cmpint (watch.calls, ==, 3);
}

/* Errors */

static void
test_rejects_bad_sizes (void)
{
  g_autoptr (WanWeights) weights = NULL;
  g_autoptr (WanVae) vae = open_vae ("vae22_f32.safetensors", 1, &weights);
  g_autofree float *buf = g_new0 (float, 3 * 9 * 32 * 48);
  g_autofree float *z = g_new0 (float, 48 * 3 * 2 * 3);
  g_autoptr (GError) error = NULL;

  g_assert_false (wan_vae_decode (vae, z, 0, 2, 3, buf, NULL, NULL, NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  g_assert_false (wan_vae_decode (vae, z, 1, 0, 3, buf, NULL, NULL, NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  /* 8 frames is not 1 + 4·n. */
  g_assert_false (wan_vae_encode (vae, buf, 8, 32, 48, z, NULL, NULL, NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_clear_error (&error);
  /* 40 is not a multiple of 16. */
  g_assert_false (wan_vae_encode (vae, buf, 5, 32, 40, z, NULL, NULL, NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INVALID_INPUT);
  g_assert_nonnull (strstr (error->message, "16"));
}

static void
test_rejects_other_model (void)
{
  g_autofree char *path = test_golden_path ("dit16_f32.safetensors");
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) weights = wan_weights_open (path, NULL, &error);
  g_autoptr (WanVae) vae = NULL;

  g_assert_no_error (error);
  vae = wan_vae_new (weights, 1, &error);
  g_assert_null (vae);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_MISMATCH);
  g_assert_nonnull (strstr (error->message, "dit16_f32.safetensors"));
}

static void
test_rejects_truncated_file (void)
{
  g_autofree char *src = test_golden_path ("vae21_f32.safetensors");
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "vae.safetensors", NULL);
  g_autofree char *data = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) weights = NULL;
  gsize len = 0;

  g_file_get_contents (src, &data, &len, &error);
  g_assert_no_error (error);
  g_file_set_contents (path, data, (gssize)(len - 1000), &error);
  g_assert_no_error (error);
  weights = wan_weights_open (path, NULL, &error);
  g_assert_null (weights);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT);
  test_rm_rf (dir);
}

/* A VAE file whose layers do not fit each other is refused with the tensor
 * named, before anything runs. */
static void
test_rejects_mismatched_tensor (void)
{
  g_autofree char *src = test_golden_path ("vae21_f32.safetensors");
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "vae.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = safetensors_open (src, &error);
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (WanWeights) weights = NULL;
  TestTensor *t;

  g_assert_no_error (error);
  list = test_tensors_from (st);
  t = test_tensor_get (list, "decoder.upsamples.4.residual.2.weight");
  /* Same number of values, other layout: [out, in] swapped. */
  {
    gint64 tmp = t->shape[0];

    t->shape[0] = t->shape[1];
    t->shape[1] = tmp;
  }
  bytes = test_safetensors_build (list, NULL);
  test_write_bytes (path, bytes);
  weights = wan_weights_open (path, NULL, &error);
  g_assert_null (weights);
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_SHAPE);
  g_assert_nonnull (strstr (error->message, "decoder.upsamples.4.residual.2.weight"));
  test_rm_rf (dir);
}

static void
test_decoder_only_cannot_encode (void)
{
  g_autofree char *src = test_golden_path ("vae21_f32.safetensors");
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *path = g_build_filename (dir, "vae-decoder.safetensors", NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = safetensors_open (src, &error);
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (WanWeights) weights = NULL;
  g_autoptr (WanVae) vae = NULL;
  g_autofree float *z = random_latent (16, 1, 2, 2, 1);
  g_autofree float *video = g_new0 (float, 3 * 16 * 16);

  g_assert_no_error (error);
  list = test_tensors_from (st);
  for (guint i = list->len; i-- > 0;)
    {
      TestTensor *t = g_ptr_array_index (list, i);

      if (g_str_has_prefix (t->name, "encoder.") || g_str_has_prefix (t->name, "conv1."))
        g_ptr_array_remove_index (list, i);
    }
  bytes = test_safetensors_build (list, NULL);
  test_write_bytes (path, bytes);
  weights = wan_weights_open (path, NULL, &error);
  g_assert_no_error (error);
  vae = wan_vae_new (weights, 1, &error);
  g_assert_no_error (error);
  g_assert_false (wan_vae_get_config (vae)->has_encoder);
  g_assert_cmpuint (wan_vae_estimate_encode_bytes (vae, 1, 16, 16), ==, 0);
  g_assert_true (wan_vae_decode (vae, z, 1, 2, 2, video, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_false (wan_vae_encode (vae, video, 1, 16, 16, z, NULL, NULL, NULL, &error));
  g_assert_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_INCOMPLETE);
  g_assert_nonnull (strstr (error->message, "vae-decoder.safetensors"));
  test_rm_rf (dir);
}

static void
test_broken_latent_table (void)
{
  g_autofree char *src = test_golden_path ("vae21_f32.safetensors");
  g_autofree char *dir = test_tmp_dir ();
  g_autofree char *table = g_build_filename (dir, WAN_VAE_LATENTS_FILE, NULL);
  g_autoptr (GError) error = NULL;
  g_autoptr (WanWeights) weights = wan_weights_open (src, NULL, &error);
  const char *bad[] = {
    "{\"wan2.1\": {\"z_dim\": 16, \"mean\": [1, 2], \"std\": [1, 2]}}",
    "{\"wan2.1\": {\"z_dim\": 48, \"mean\": [], \"std\": []}}",
    "{\"wan2.2\": {}}",
    "[1, 2",
  };
  const int codes[] = { TAKES_ENGINE_ERROR_CORRUPT, TAKES_ENGINE_ERROR_MISMATCH, TAKES_ENGINE_ERROR_CORRUPT,
                        TAKES_ENGINE_ERROR_CORRUPT };

  g_assert_no_error (error);
  g_assert_null (wan_vae_new_with_data (weights, 1, dir, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (WanVae) vae = NULL;

      g_file_set_contents (table, bad[i], -1, &error);
      g_assert_no_error (error);
      vae = wan_vae_new_with_data (weights, 1, dir, &error);
      g_assert_null (vae);
      g_assert_error (error, TAKES_ENGINE_ERROR, codes[i]);
      g_clear_error (&error);
    }
  test_rm_rf (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  tk_gemm_set_sbgemm (NULL);

  g_test_add_func ("/vae/golden/wan21-decode", test_golden_wan21_decode);
  g_test_add_func ("/vae/golden/wan21-encode", test_golden_wan21_encode);
  g_test_add_func ("/vae/golden/wan22-decode", test_golden_wan22_decode);
  g_test_add_func ("/vae/golden/wan22-encode", test_golden_wan22_encode);
  g_test_add_func ("/vae/latents/tables-match-golden", test_latent_tables_match_golden);
  g_test_add_func ("/vae/reference/matches-golden", test_reference_matches_golden);
  g_test_add_func ("/vae/chunked/wan21-equals-whole-sequence", test_chunked_wan21);
  g_test_add_func ("/vae/chunked/wan22-equals-whole-sequence", test_chunked_wan22);
  g_test_add_func ("/vae/decoder/push-hands-out-frames", test_decoder_push_frames);
  g_test_add_func ("/vae/partial-outputs/wan21-equal-input-caches", test_taps_wan21_equal_input_caches);
  g_test_add_func ("/vae/partial-outputs/wan22-equal-input-caches", test_taps_wan22_equal_input_caches);
  g_test_add_func ("/vae/partial-outputs/chunked-equals-whole-sequence", test_taps_chunked_equal_whole);
  g_test_add_func ("/vae/partial-outputs/plan-takes-less", test_taps_plan_takes_less);
  g_test_add_func ("/vae/determinism/across-thread-counts", test_same_across_thread_counts);
  g_test_add_func ("/vae/run/progress-and-cancel", test_progress_and_cancel);
  g_test_add_func ("/vae/memory/decode-bounded-over-time", test_memory_bounded_over_time);
  g_test_add_func ("/vae/tiled/single-tile-is-untiled", test_tiled_single_tile_is_untiled);
  g_test_add_func ("/vae/tiled/wide-overlap-matches-untiled", test_tiled_wide_overlap_matches_untiled);
  g_test_add_func ("/vae/tiled/uneven-tiles-close-to-untiled", test_tiled_uneven_tiles);
  g_test_add_func ("/vae/tiled/plan-cuts-memory", test_tiled_plan);
  g_test_add_func ("/vae/tiled/rejects-bad-overlap", test_tiled_rejects_bad_overlap);
  g_test_add_func ("/vae/tiled/progress-and-cancel", test_tiled_progress_and_cancel);
  g_test_add_func ("/vae/input/rejects-bad-sizes", test_rejects_bad_sizes);
  g_test_add_func ("/vae/errors/other-model", test_rejects_other_model);
  g_test_add_func ("/vae/errors/truncated-file", test_rejects_truncated_file);
  g_test_add_func ("/vae/errors/mismatched-tensor", test_rejects_mismatched_tensor);
  g_test_add_func ("/vae/errors/decoder-only-cannot-encode", test_decoder_only_cannot_encode);
  g_test_add_func ("/vae/errors/broken-latent-table", test_broken_latent_table);
  return g_test_run ();
}
