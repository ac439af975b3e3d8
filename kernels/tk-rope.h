/* tk-rope.h: Wan's 3-D rotary position embedding.
 *
 * A head of head_dim channels is split into three bands: frames get
 * head_dim − 4·(head_dim / 6) channels, height and width 2·(head_dim / 6)
 * each (44/42/42 for 128). Channel pairs (2i, 2i + 1) are rotated as complex
 * numbers by e^{i·pos·ω_j}, ω_j = θ^(−2j / band width), with pos the integer
 * grid index of the token on that band's axis. Tokens are ordered (f, h, w)
 * row-major. The tables and the rotation are computed in double and rounded
 * to float once, as the official code does in float64.
 */
#ifndef TK_ROPE_H
#define TK_ROPE_H

#include <stdint.h>

#include "tk-tensor.h"
#include "tk-threadpool.h"

#ifdef __cplusplus
extern "C"
{
#endif

  typedef struct tk_rope tk_rope;

  /* head_dim: even and at least 6 (128 for Wan); max_pos: positions per axis
   * in the tables (the official code uses 1024); theta: 10000 for Wan.
   * Returns NULL for bad arguments or when out of memory. */
  tk_rope *tk_rope_new (int head_dim, int max_pos, double theta);
  void tk_rope_free (tk_rope *rope);

  int tk_rope_head_dim (const tk_rope *rope);
  int tk_rope_max_pos (const tk_rope *rope);
  /* Channels of the frame, height and width bands. */
  void tk_rope_band_dims (const tk_rope *rope, int dims[3]);

  /* Rotates q or k in place for the grid_f × grid_h × grid_w tokens of x:
   * token t starts at x + t·ld and holds n_heads heads of head_dim channels
   * (ld >= n_heads · head_dim). Tokens past the grid are left alone. Returns
   * TK_ERR_INVALID when a grid extent exceeds max_pos or a size is bad. */
  tk_status tk_rope_apply (const tk_rope *rope,
                           tk_pool *pool,
                           float *x,
                           int64_t ld,
                           int n_heads,
                           int64_t grid_f,
                           int64_t grid_h,
                           int64_t grid_w);

  /* The same for tokens [token_start, token_end) of the grid only, in the
   * calling thread (for callers already inside a pool worker). x still points
   * at token 0. */
  tk_status tk_rope_apply_range (const tk_rope *rope,
                                 float *x,
                                 int64_t ld,
                                 int n_heads,
                                 int64_t grid_f,
                                 int64_t grid_h,
                                 int64_t grid_w,
                                 int64_t token_start,
                                 int64_t token_end);

#ifdef __cplusplus
}
#endif

#endif /* TK_ROPE_H */
