/* wan-dit.h: engine-internal parts of the Wan DiT. The public API (WanDit,
 * WanDitState, wan_dit_forward) is in takes-engine.h. */
#pragma once

#include "takes-engine.h"

G_BEGIN_DECLS

/* Receives the forward pass's intermediate tensors, row-major [rows, cols]:
 * "patch_embed" [L, dim], "e" [groups, dim], "e0" [groups, 6·dim],
 * "context" [ctx_rows + 1, dim] (the valid rows and the first padded row),
 * "block<i>" [L, dim] (the residual stream after block i) and "head"
 * [L, 4·out_dim]. With per-token timesteps, "e" and "e0" hold one row per
 * distinct timestep, in order of first appearance. For checking a port
 * against reference data; a NULL function turns it off. */
typedef void (*WanDitTapFunc) (
    const char *name, const float *data, gint64 rows, gint64 cols, gpointer user_data);

void wan_dit_set_tap (WanDit *dit, WanDitTapFunc func, gpointer user_data);

/* The timesteps embedding's input: [cos(t·ω_i), sin(t·ω_i)] with
 * ω_i = 10000^(−i / half), computed in double and rounded once, for
 * @freq_dim = 2·half values. */
void wan_dit_sinusoid (double t, int freq_dim, float *out);

G_END_DECLS
