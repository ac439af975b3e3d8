/* Tests of the seeded Gaussian noise: the Philox known answers, values
 * pinned by an independent implementation, invariance to how the work is
 * split, and the moments of the distribution. */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "wan-noise.h"

static void
test_philox_known_answers (void)
{
  /* The Random123 known-answer vectors for philox4x32-10. */
  static const struct
  {
    guint32 counter[4];
    guint32 key[2];
    guint32 expected[4];
  } cases[] = {
    { { 0, 0, 0, 0 }, { 0, 0 }, { 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8 } },
    { { 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff },
      { 0xffffffff, 0xffffffff },
      { 0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd } },
    { { 0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344 },
      { 0xa4093822, 0x299f31d0 },
      { 0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1 } },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      guint32 out[4];

      wan_philox4x32_10 (cases[i].counter, cases[i].key, out);
      for (int k = 0; k < 4; k++)
        g_assert_cmphex (out[k], ==, cases[i].expected[k]);
    }
}

static void
test_noise_pinned_values (void)
{
  /* Computed by a separate Python implementation of the same definition. */
  static const struct
  {
    guint64 seed;
    guint64 index;
    float value;
  } cases[] = {
    { 42, 0, -0.6653748750686646f },
    { 42, 1, 1.0360238552093506f },
    { 42, 2, -1.4338891506195068f },
    { 42, 3, 0.42327818274497986f },
    { 42, 1000001, 0.30386820435523987f },
    { G_GUINT64_CONSTANT (0x123456789abcdef), 0, -0.7134796380996704f },
    { G_GUINT64_CONSTANT (0x123456789abcdef), 7, -0.05565149709582329f },
    { G_GUINT64_CONSTANT (0x123456789abcdef), (G_GUINT64_CONSTANT (1) << 33) + 5, 0.9266142845153809f },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      float v;

      wan_noise_fill (cases[i].seed, cases[i].index, &v, 1);
      g_assert_cmpfloat (v, ==, cases[i].value);
    }
}

static void
test_noise_split_invariant (void)
{
  const gsize n = 10001;
  g_autofree float *whole = g_new (float, n);
  g_autofree float *parts = g_new (float, n);
  static const gsize cuts[] = { 0, 1, 2, 5, 6, 777, 778, 4095, 9999, 10001 };

  wan_noise_fill (7, 0, whole, n);
  for (guint i = 0; i + 1 < G_N_ELEMENTS (cuts); i++)
    wan_noise_fill (7, cuts[i], parts + cuts[i], cuts[i + 1] - cuts[i]);
  g_assert_cmpmem (whole, n * sizeof (float), parts, n * sizeof (float));
}

static void
test_noise_threads_invariant (void)
{
  const gsize n = 100003;
  g_autofree float *one = g_new (float, n);
  g_autofree float *many = g_new (float, n);
  static const int n_threads[] = { 2, 3, 7, 16 };

  wan_noise_fill_parallel (1234, one, n, 1);
  for (guint i = 0; i < G_N_ELEMENTS (n_threads); i++)
    {
      memset (many, 0, n * sizeof (float));
      wan_noise_fill_parallel (1234, many, n, n_threads[i]);
      g_assert_cmpmem (one, n * sizeof (float), many, n * sizeof (float));
    }
}

static void
test_noise_seeds_differ (void)
{
  float a[64], b[64], c[64];
  guint same = 0;

  wan_noise_fill (1, 0, a, 64);
  wan_noise_fill (2, 0, b, 64);
  wan_noise_fill (1, 0, c, 64);
  g_assert_cmpmem (a, sizeof a, c, sizeof c);
  for (int i = 0; i < 64; i++)
    same += a[i] == b[i];
  g_assert_cmpuint (same, <, 2);
}

static void
test_noise_moments (void)
{
  const gsize n = 1 << 20;
  g_autofree float *x = g_new (float, n);
  double sum = 0.0, sum2 = 0.0, sum4 = 0.0, mean, var, kurt;
  gsize beyond_3 = 0;

  wan_noise_fill_parallel (20260101, x, n, 2);
  for (gsize i = 0; i < n; i++)
    {
      g_assert_true (isfinite (x[i]));
      sum += x[i];
    }
  mean = sum / n;
  for (gsize i = 0; i < n; i++)
    {
      double d = x[i] - mean;

      sum2 += d * d;
      sum4 += d * d * d * d;
      beyond_3 += fabs (x[i]) > 3.0;
    }
  var = sum2 / (n - 1);
  kurt = (sum4 / n) / (var * var);
  /* Five standard errors: 5/√n for the mean, 5·√(2/n) for the variance. */
  g_assert_cmpfloat (fabs (mean), <, 5.0 / sqrt ((double)n));
  g_assert_cmpfloat (fabs (var - 1.0), <, 5.0 * sqrt (2.0 / n));
  g_assert_cmpfloat (fabs (kurt - 3.0), <, 0.05);
  /* P(|z| > 3) = 0.0027 for a normal distribution. */
  g_assert_cmpfloat (fabs ((double)beyond_3 / n - 0.0027), <, 0.0005);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/noise/philox/known-answers", test_philox_known_answers);
  g_test_add_func ("/noise/values/pinned-by-reference", test_noise_pinned_values);
  g_test_add_func ("/noise/determinism/any-split-same-values", test_noise_split_invariant);
  g_test_add_func ("/noise/determinism/any-thread-count-same-values", test_noise_threads_invariant);
  g_test_add_func ("/noise/seed/same-seed-same-values-other-seed-differs", test_noise_seeds_differ);
  g_test_add_func ("/noise/distribution/moments-of-standard-normal", test_noise_moments);

  return g_test_run ();
}
