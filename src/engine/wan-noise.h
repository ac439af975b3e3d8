/* wan-noise.h: seeded Gaussian noise that is the same everywhere.
 *
 * Element i of the stream for a seed is a pure function of (seed, i): a
 * Philox4x32-10 block at counter i/2 gives two 53-bit uniforms, and the
 * Box–Muller transform in double turns them into the normals of elements
 * 2·(i/2) and 2·(i/2)+1. Any split of the work, over any number of threads,
 * therefore yields the same values on every machine.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* One Philox4x32-10 block: @out = philox(@counter, @key). */
void wan_philox4x32_10 (const guint32 counter[4], const guint32 key[2], guint32 out[4]);

/* Writes elements @first … @first + @n − 1 of the N(0, 1) stream of @seed. */
void wan_noise_fill (guint64 seed, guint64 first, float *dst, gsize n);

/* The same values as wan_noise_fill (@seed, 0, @dst, @n), computed by up to
 * @n_threads threads (1 or less: on the calling thread). */
void wan_noise_fill_parallel (guint64 seed, float *dst, gsize n, int n_threads);

G_END_DECLS
