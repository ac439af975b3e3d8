/* wan-noise.c: Philox4x32-10 and Box–Muller, indexed by element. */
#include "config.h"

#include <math.h>

#include "wan-noise.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void
wan_philox4x32_10 (const guint32 counter[4], const guint32 key[2], guint32 out[4])
{
  guint32 c0 = counter[0], c1 = counter[1], c2 = counter[2], c3 = counter[3];
  guint32 k0 = key[0], k1 = key[1];

  for (int round = 0; round < 10; round++)
    {
      guint64 p0 = (guint64)PHILOX_M0 * c0;
      guint64 p1 = (guint64)PHILOX_M1 * c2;
      guint32 n0 = (guint32)(p1 >> 32) ^ c1 ^ k0;
      guint32 n1 = (guint32)p1;
      guint32 n2 = (guint32)(p0 >> 32) ^ c3 ^ k1;
      guint32 n3 = (guint32)p0;

      c0 = n0;
      c1 = n1;
      c2 = n2;
      c3 = n3;
      k0 += PHILOX_W0;
      k1 += PHILOX_W1;
    }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/* The two normals of pair @pair of the stream of @seed. */
static void
noise_pair (guint64 seed, guint64 pair, double *z0, double *z1)
{
  const guint32 counter[4] = { (guint32)pair, (guint32)(pair >> 32), 0, 0 };
  const guint32 key[2] = { (guint32)seed, (guint32)(seed >> 32) };
  guint32 r[4];
  guint64 a, b;
  double u1, u2, radius, theta;

  wan_philox4x32_10 (counter, key, r);
  a = (((guint64)r[1] << 32) | r[0]) >> 11;
  b = (((guint64)r[3] << 32) | r[2]) >> 11;
  /* u1 in (0, 1] keeps the logarithm finite. */
  u1 = ((double)a + 1.0) * 0x1.0p-53;
  u2 = (double)b * 0x1.0p-53;
  radius = sqrt (-2.0 * log (u1));
  theta = 2.0 * G_PI * u2;
  *z0 = radius * cos (theta);
  *z1 = radius * sin (theta);
}

void
wan_noise_fill (guint64 seed, guint64 first, float *dst, gsize n)
{
  guint64 i = first;
  guint64 end = first + n;
  double z0, z1;

  if (n == 0)
    return;
  if (i % 2 == 1)
    {
      noise_pair (seed, i / 2, &z0, &z1);
      *dst++ = (float)z1;
      i++;
    }
  for (; i + 1 < end; i += 2)
    {
      noise_pair (seed, i / 2, &z0, &z1);
      *dst++ = (float)z0;
      *dst++ = (float)z1;
    }
  if (i < end)
    {
      noise_pair (seed, i / 2, &z0, &z1);
      *dst = (float)z0;
    }
}

typedef struct
{
  guint64 seed;
  guint64 first;
  float *dst;
  gsize n;
} NoiseJob;

static gpointer
noise_job_run (gpointer data)
{
  NoiseJob *job = data;

  wan_noise_fill (job->seed, job->first, job->dst, job->n);
  return NULL;
}

void
wan_noise_fill_parallel (guint64 seed, float *dst, gsize n, int n_threads)
{
  g_autofree NoiseJob *jobs = NULL;
  g_autofree GThread **threads = NULL;
  gsize chunk;

  if (n_threads <= 1 || n < (gsize)n_threads * 1024)
    {
      wan_noise_fill (seed, 0, dst, n);
      return;
    }
  jobs = g_new0 (NoiseJob, n_threads);
  threads = g_new0 (GThread *, n_threads);
  chunk = (n + (gsize)n_threads - 1) / (gsize)n_threads;
  for (int t = 0; t < n_threads; t++)
    {
      gsize start = MIN ((gsize)t * chunk, n);

      jobs[t] = (NoiseJob){ seed, start, dst + start, MIN (chunk, n - start) };
      if (t > 0)
        threads[t] = g_thread_new ("takes-noise", noise_job_run, &jobs[t]);
    }
  noise_job_run (&jobs[0]);
  for (int t = 1; t < n_threads; t++)
    g_thread_join (threads[t]);
}
