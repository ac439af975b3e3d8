/* bench-sampler: the sampler step and the seeded noise on a real latent
 * size, each against a peer measured in the same run.
 *
 *   sampler step   UniPC, DPM++ and Euler on the Wan2.1 480p latent
 *                  (16x21x60x104 floats), against one memcpy of the latent:
 *                  a step streams a few latents, so it should cost a small
 *                  multiple of the copy
 *   noise          the Philox + Box–Muller fill on one and on two threads,
 *                  against GRand (Mersenne Twister) + Box–Muller
 */
#include "config.h"

#include <glib.h>
#include <math.h>
#include <string.h>

#include "wan-noise.h"
#include "wan-sampler.h"

#define LATENT_N ((gsize)16 * 21 * 60 * 104)
#define ROUNDS 10

static double
now (void)
{
  return g_get_monotonic_time () / 1e6;
}

static double
time_copy (float *dst, const float *src)
{
  double best = G_MAXDOUBLE;

  for (int r = 0; r < ROUNDS; r++)
    {
      double t0 = now ();

      memcpy (dst, src, LATENT_N * sizeof (float));
      best = MIN (best, now () - t0);
    }
  return best;
}

static double
time_steps (WanSolver solver, float *x, const float *v)
{
  g_autoptr (WanSampler) sampler = wan_sampler_new (solver, 50, 5.0, LATENT_N, NULL);
  double best = G_MAXDOUBLE;

  /* Steps 0 and 1 warm the history; the timed steps run at full order. */
  for (int i = 0; i < 2 + ROUNDS; i++)
    {
      double t0 = now ();

      wan_sampler_step (sampler, x, v, NULL);
      if (i >= 2)
        best = MIN (best, now () - t0);
    }
  return best;
}

static double
time_grand_noise (float *dst)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (42);
  double t0 = now ();

  for (gsize i = 0; i + 1 < LATENT_N; i += 2)
    {
      double u1 = 1.0 - g_rand_double (rand), u2 = g_rand_double (rand);
      double r = sqrt (-2.0 * log (u1));

      dst[i] = (float)(r * cos (2.0 * G_PI * u2));
      dst[i + 1] = (float)(r * sin (2.0 * G_PI * u2));
    }
  return now () - t0;
}

int
main (void)
{
  g_autofree float *x = g_new (float, LATENT_N);
  g_autofree float *v = g_new (float, LATENT_N);
  g_autofree float *copy = g_new (float, LATENT_N);
  static const WanSolver solvers[] = { WAN_SOLVER_UNIPC, WAN_SOLVER_DPMPP, WAN_SOLVER_EULER };
  double t_copy, t_one, t_two, t_grand;

  wan_noise_fill_parallel (1, x, LATENT_N, 2);
  wan_noise_fill_parallel (2, v, LATENT_N, 2);
  t_copy = time_copy (copy, x);
  g_print ("latent: %" G_GSIZE_FORMAT " floats (%.1f MiB)\n", LATENT_N, LATENT_N * 4.0 / (1 << 20));
  g_print ("%-22s %10.3f ms\n", "memcpy (peer)", t_copy * 1e3);
  for (guint s = 0; s < G_N_ELEMENTS (solvers); s++)
    {
      double t = time_steps (solvers[s], x, v);

      g_print ("%-22s %10.3f ms   %.2fx memcpy\n", wan_solver_get_name (solvers[s]), t * 1e3, t / t_copy);
    }

  t_one = now ();
  wan_noise_fill_parallel (7, x, LATENT_N, 1);
  t_one = now () - t_one;
  t_two = now ();
  wan_noise_fill_parallel (7, copy, LATENT_N, 2);
  t_two = now () - t_two;
  t_grand = time_grand_noise (v);
  g_print ("%-22s %10.3f ms   %.1f Mvalues/s\n", "noise, 1 thread", t_one * 1e3, LATENT_N / t_one / 1e6);
  g_print ("%-22s %10.3f ms   %.2fx faster than 1 thread, same values: %s\n", "noise, 2 threads", t_two * 1e3,
           t_one / t_two, memcmp (x, copy, LATENT_N * sizeof (float)) == 0 ? "yes" : "NO");
  g_print ("%-22s %10.3f ms   Philox 1 thread is %.2fx its time\n", "GRand + Box-Muller", t_grand * 1e3,
           t_one / t_grand);
  return memcmp (x, copy, LATENT_N * sizeof (float)) == 0 ? 0 : 1;
}
