/* tk-attention.h: multi-head scaled dot-product attention.
 *
 *   out[i, h, :] = Σ_j softmax_j (scale · q[i, h, :] · k[j, h, :] + bias[h, i, j]) · v[j, h, :]
 *
 * over the keys j the mask allows. Tokens are rows (the layout the engine's
 * projections produce): q [lq, heads, head_dim], k and v [lk, heads,
 * head_dim], out [lq, heads, head_dim], each row its own number of floats
 * apart, so q, k and v may be slices of one fused projection. Self- and
 * cross-attention (lq ≠ lk, e.g. 32,760 video tokens against 512 text
 * tokens) are the same call.
 *
 * The computation is tiled with an online softmax (flash attention): a tile
 * of queries meets the keys a tile at a time, keeping a running maximum and
 * sum per query, so memory is O((lq + lk) · head_dim) per head and no
 * lq × lk matrix is ever built. Both products of a tile (keys × queries and
 * values × probabilities) run on the register-blocked panel product of
 * tk-conv.h. Work is split over heads × query tiles on a tk_pool; no BLAS is
 * called, so it can run from the engine's main thread with all cores, or with
 * pool = NULL inside a pool worker.
 *
 * Optional extras, in any combination:
 *   - a key mask (lk bytes, 0 = ignore that key); masked keys cost nothing;
 *   - scale 1 for umT5, which has no 1/√d (the default is 1/√head_dim);
 *   - a relative-position bias table indexed by (bucket, head), with the
 *     bucket of each key − query offset (umT5, see tk_attention_t5_buckets);
 *   - a bias callback that fills any [heads, lq, lk] bias tile by tile.
 * A query whose keys are all masked gets a zero output.
 */
#ifndef TK_ATTENTION_H
#define TK_ATTENTION_H

#include <stdint.h>

#include "tk-tensor.h"
#include "tk-threadpool.h"

#ifdef __cplusplus
extern "C"
{
#endif

  /* Fills bias[i · ld + j] for i < nq (query q0 + i) and j < nk (key keys[j])
   * of head head. Keys come in increasing order but need not be contiguous
   * (masked keys are skipped). Called from pool threads, concurrently. */
  typedef void (*tk_attention_bias_fn) (void *user_data,
                                        int head,
                                        int64_t q0,
                                        int64_t nq,
                                        const int64_t *keys,
                                        int64_t nk,
                                        float *bias,
                                        int64_t ld);

  typedef struct
  {
    int64_t lq, lk;
    int heads;
    int head_dim;

    /* Element (token t, head h, channel c) of q is q[t · ldq + h · head_dim + c];
     * likewise k, v and out. ld* ≥ heads · head_dim. out must not overlap the
     * inputs. */
    const float *q;
    int64_t ldq;
    const float *k;
    int64_t ldk;
    const float *v;
    int64_t ldv;
    float *out;
    int64_t ldo;

    /* Multiplies q · k. 0 means 1/√head_dim; umT5 uses 1. */
    float scale;

    /* lk entries, non-zero where a key may be attended; NULL for all. */
    const uint8_t *key_mask;

    /* Relative-position bias: bias[h, i, j] =
     * rel_table[rel_buckets[j - i + lq - 1] · rel_bucket_stride + h · rel_head_stride].
     * rel_buckets has lq + lk - 1 entries, each in [0, rel_n_buckets). For umT5's
     * embedding weight [32 buckets, heads]: rel_bucket_stride = heads,
     * rel_head_stride = 1. Unused when rel_table is NULL. */
    const float *rel_table;
    const int32_t *rel_buckets;
    int rel_n_buckets;
    int64_t rel_bucket_stride;
    int64_t rel_head_stride;

    /* Any other additive bias; added after the table's. NULL for none. */
    tk_attention_bias_fn bias_fn;
    void *bias_data;
  } tk_attention_args;

  /* Zeroes args (no mask, no bias, default scale). */
  void tk_attention_args_init (tk_attention_args *args);

  /* Scratch for up to n_threads threads and shapes up to max_lq × max_lk with
   * the given heads and head_dim, allocated once: per thread a tile of
   * queries, scores and outputs; shared, the keys and values of a few heads
   * repacked for the tile products (bounded to 64 MiB unless one head needs
   * more). Returns NULL for non-positive sizes or when out of memory. */
  typedef struct tk_attention_ws tk_attention_ws;
  tk_attention_ws *
  tk_attention_ws_new (int n_threads, int64_t max_lq, int64_t max_lk, int heads, int head_dim);
  void tk_attention_ws_free (tk_attention_ws *ws);

  /* Runs the attention. The pool's size must not exceed the workspace's
   * threads; one call at a time per workspace. Returns TK_ERR_INVALID for
   * shapes beyond the workspace, bad strides, NULL arrays or a bucket out of
   * range, TK_OK otherwise. */
  tk_status tk_attention_forward (tk_attention_ws *ws, tk_pool *pool, const tk_attention_args *args);

  /* umT5's relative-position buckets (bidirectional), for every offset
   * rel = key − query from −(lq − 1) to lk − 1: out[rel + lq − 1]. With
   * nb = n_buckets / 2 and max_exact = nb / 2, a bucket is nb when rel > 0
   * (else 0) plus |rel| when |rel| < max_exact, else
   * min (nb − 1, max_exact + ⌊ln (|rel| / max_exact) / ln (max_distance /
   * max_exact) · (nb − max_exact)⌋), computed in float as the reference does.
   * Returns TK_ERR_INVALID for lq or lk < 1, n_buckets < 4 or max_distance ≤
   * max_exact. */
  tk_status tk_attention_t5_buckets (int64_t lq, int64_t lk, int n_buckets, int max_distance, int32_t *out);

#ifdef __cplusplus
}
#endif

#endif /* TK_ATTENTION_H */
