/* tk-conv.h: convolutions, resampling and (un)patchify for the Wan VAEs and
 * the DiT's patch embedding and head.
 *
 * Layouts are those of the official code and the golden data: a video is
 * [C, T, H, W] in row-major order (channel slowest, width fastest); DiT tokens
 * are rows of a [L, D] matrix in (f, h, w) order.
 *
 * Convolutions are implicit GEMMs: for each output frame, blocks of output
 * pixels gather their input patches into a small panel (im2col restricted to a
 * block that stays in cache) and multiply it with the weights, packed once
 * when the convolution is created, through the register-blocked panel product
 * below. None of this calls BLAS: the work is split over a tk_pool, so the
 * kernels can be driven from the engine's main thread with all cores, or with
 * pool = NULL from inside a pool worker.
 *
 * Causal 3-D convolutions (Wan's CausalConv3d) pad kernel_t - 1 frames before
 * the input and none after. A tk_conv_cache keeps the last kernel_t - 1 input
 * frames between calls, so a video fed chunk by chunk (1 frame, then 4, 4, …,
 * or any split, including chunks shorter than the cache) gives exactly the
 * output of the whole video at once.
 */
#ifndef TK_CONV_H
#define TK_CONV_H

#include <stdint.h>

#include "tk-tensor.h"
#include "tk-threadpool.h"

#ifdef __cplusplus
extern "C"
{
#endif

/* ---- the panel product shared with tk-attention ---- */

/* Rows and columns of the register tile. */
#define TK_PANEL_MR 8
#define TK_PANEL_NR 48

  /* For r < m ≤ TK_PANEL_MR and j < n ≤ TK_PANEL_NR:
   *   c[r·ldc + j] = Σ_{p<k} a[p·MR + r] · b[p·ldb + j]                     (accumulate 0)
   *   c[r·ldc + j] = c[r·ldc + j] · s_j + Σ_{p<k} a[p·MR + r] · b[p·ldb + j]  (accumulate 1)
   * with s_j = col_scale[j], or 1 when col_scale is NULL. a is a packed panel of
   * k × TK_PANEL_MR floats (all readable, rows beyond m zero or ignored); every
   * row of b must have TK_PANEL_NR readable floats (columns beyond n are
   * computed and dropped). Only the m × n corner of c is read or written. */
  typedef void (*tk_panel_fn) (int64_t k,
                               const float *a,
                               const float *b,
                               int64_t ldb,
                               float *c,
                               int64_t ldc,
                               int m,
                               int n,
                               const float *col_scale,
                               int accumulate);

  /* The product for an instruction set (one the CPU has: see tk_isa_active ()). */
  tk_panel_fn tk_panel_kernel (tk_isa isa);

  /* ---- convolution ---- */

  typedef struct
  {
    int in_channels;
    int out_channels;
    int kernel_t, kernel_h, kernel_w;
    int stride_t, stride_h, stride_w;
    /* Frames of zeros before the input (taken from the cache when there is one);
     * there is never padding after the last frame. */
    int pad_front;
    /* Spatial zero padding, per side. */
    int pad_top, pad_bottom, pad_left, pad_right;
  } tk_conv_params;

  /* Wan's CausalConv3d with kernel (kt, kh, kw), stride 1 and the padding of
   * the official layers: kt - 1 frames before, (kh - 1) / 2 and (kw - 1) / 2
   * pixels on each side. */
  tk_conv_params tk_conv_params_causal (int in_channels, int out_channels, int kt, int kh, int kw);

  /* A 2-D convolution applied to every frame on its own (kernel_t 1), with
   * stride and symmetric padding. For the VAE's downsampling
   * (ZeroPad2d (0, 1, 0, 1) then stride 2), set pad_bottom = pad_right = 1 and
   * the others 0 afterwards. */
  tk_conv_params tk_conv_params_2d (int in_channels, int out_channels, int kh, int kw, int stride, int pad);

  /* Output extents for an input of frames × height × width. Returns
   * TK_ERR_INVALID when the padded input is smaller than the kernel or an
   * extent is negative. */
  tk_status tk_conv_output_shape (const tk_conv_params *params,
                                  int64_t frames,
                                  int64_t height,
                                  int64_t width,
                                  int64_t *out_frames,
                                  int64_t *out_height,
                                  int64_t *out_width);

  typedef struct tk_conv tk_conv;

  /* Packs weight [out, in, kt, kh, kw] (PyTorch's order) and copies bias [out]
   * (NULL: no bias). The caller's arrays are not kept. Returns TK_ERR_INVALID
   * for non-positive sizes or strides, negative padding or a weight too large
   * to address, TK_ERR_NOMEM when out of memory. */
  tk_status tk_conv_new (const tk_conv_params *params, const float *weight, const float *bias, tk_conv **out);
  void tk_conv_free (tk_conv *conv);
  const tk_conv_params *tk_conv_get_params (const tk_conv *conv);

  /* Scratch of tk_conv_forward. n_threads: the largest pool it will be used
   * with. Returns NULL for n_threads < 1 or when out of memory. */
  typedef struct tk_conv_ws tk_conv_ws;
  tk_conv_ws *tk_conv_ws_new (int n_threads);
  void tk_conv_ws_free (tk_conv_ws *ws);
  /* The bytes a workspace for n_threads holds once it has run conv: 193 KiB
   * per thread, and for a 3×3 kernel with stride and padding 1 (which runs as
   * Winograd F(2×2, 3×3) with AVX2 or AVX-512) 1.5 MiB more per thread and
   * up to 32 MiB of transformed weights. A workspace shared by several
   * convolutions holds the largest of their figures. */
  size_t tk_conv_ws_bytes (const tk_conv *conv, int n_threads);

  /* The input frames a causal convolution still needs from earlier chunks. */
  typedef struct tk_conv_cache tk_conv_cache;

  /* A cache for a convolution with kernel_t = frames + 1 over inputs of
   * channels × height × width. It starts empty (the sequence begins with zero
   * padding). Returns NULL for bad sizes or when out of memory. */
  tk_conv_cache *tk_conv_cache_new (int channels, int frames, int64_t height, int64_t width);
  void tk_conv_cache_free (tk_conv_cache *cache);
  /* Forgets the stored frames: the next chunk starts a new sequence. */
  void tk_conv_cache_reset (tk_conv_cache *cache);
  /* How many input frames it holds now (at most kernel_t - 1). */
  int tk_conv_cache_n_frames (const tk_conv_cache *cache);

  /* out [out_channels, T', H', W'] = conv (in [in_channels, frames, height,
   * width]) + bias, both contiguous and not overlapping. With a cache (which
   * needs stride_t 1 and pad_front = kernel_t - 1), the frames before the input
   * come from it, and it then holds the last kernel_t - 1 frames of the
   * sequence so far; T' = frames. ws may be NULL (scratch is then allocated for
   * the call); otherwise it must have at least tk_pool_size (pool) threads.
   * Not reentrant per ws or cache. Returns TK_ERR_INVALID for mismatched
   * shapes, cache or workspace, TK_ERR_NOMEM when out of memory. */
  tk_status tk_conv_forward (const tk_conv *conv,
                             tk_pool *pool,
                             tk_conv_ws *ws,
                             tk_conv_cache *cache,
                             const float *in,
                             int64_t frames,
                             int64_t height,
                             int64_t width,
                             float *out);

  /* ---- the DiT's patch embedding and head ---- */

  typedef struct tk_patch_embed tk_patch_embed;

  /* The patch embedding Conv3d (channels → dim, kernel = stride = (1, ph, pw))
   * as a GEMM: weight [dim, channels, 1, ph, pw], bias [dim] or NULL. Returns
   * TK_ERR_INVALID for non-positive sizes or channels · ph · pw > 768,
   * TK_ERR_NOMEM when out of memory. */
  tk_status tk_patch_embed_new (
      int channels, int dim, int ph, int pw, const float *weight, const float *bias, tk_patch_embed **out);
  void tk_patch_embed_free (tk_patch_embed *pe);

  /* tokens[l, 0..dim) for l = f·(H/ph)·(W/pw) + h·(W/pw) + w, from x
   * [channels, frames, height, width]; rows ldt floats apart (ldt ≥ dim). Each
   * token's patch vector is ordered [c][kh][kw]. Height and width must be
   * multiples of the patch. ws as for tk_conv_forward. */
  tk_status tk_patch_embed_forward (const tk_patch_embed *pe,
                                    tk_pool *pool,
                                    tk_conv_ws *ws,
                                    const float *x,
                                    int64_t frames,
                                    int64_t height,
                                    int64_t width,
                                    float *tokens,
                                    int64_t ldt);

  /* The head's unpatchify: tokens [L, ph·pw·channels] (rows ldt floats apart,
   * each laid out [q][r][c]) in (f, h, w) order over a frames × hp × wp grid to
   * out [channels, frames, hp·ph, wp·pw], with
   * out[c, f, h·ph + q, w·pw + r] = token(f, h, w)[(q·pw + r)·channels + c]. */
  tk_status tk_unpatchify (tk_pool *pool,
                           const float *tokens,
                           int64_t ldt,
                           int channels,
                           int64_t frames,
                           int64_t hp,
                           int64_t wp,
                           int ph,
                           int pw,
                           float *out);

  /* ---- VAE resampling and pixel (un)patchify ---- */

  /* Nearest-neighbour ×2 in height and width (PyTorch's "nearest" and
   * "nearest-exact" agree at an integer factor): in [C, T, H, W] to
   * out [C, T, 2H, 2W]. */
  tk_status tk_upsample_nearest2x (tk_pool *pool,
                                   const float *in,
                                   int64_t channels,
                                   int64_t frames,
                                   int64_t height,
                                   int64_t width,
                                   float *out);

  /* The temporal ×2 of the VAE's upsample3d: the time_conv output
   * in [2C, T, H, W] becomes out [C, 2T, H, W], channels [0, C) giving frame
   * 2t and [C, 2C) frame 2t + 1. */
  tk_status tk_upsample_time2x (tk_pool *pool,
                                const float *in,
                                int64_t channels,
                                int64_t frames,
                                int64_t height,
                                int64_t width,
                                float *out);

  /* Wan2.2's DupUp3D shortcut: in [in_channels, T, H, W], each channel repeated
   * out_channels·ft·fs² / in_channels times, then moved into time and space:
   * out [out_channels, T·ft, H·fs, W·fs], without its first ft - 1 frames when
   * first_chunk is set. out_channels·ft·fs² must be a multiple of in_channels. */
  tk_status tk_dup_up3d (tk_pool *pool,
                         const float *in,
                         int64_t in_channels,
                         int64_t frames,
                         int64_t height,
                         int64_t width,
                         int64_t out_channels,
                         int ft,
                         int fs,
                         int first_chunk,
                         float *out);

  /* Wan2.2's AvgDown3D shortcut: zero frames are put before the input to make
   * its length a multiple of ft, space and time are folded into channels
   * (c, t-offset, h-offset, w-offset) and groups of in_channels·ft·fs² /
   * out_channels channels are averaged: out [out_channels, ⌈T/ft⌉, H/fs, W/fs].
   * H and W must be multiples of fs. */
  tk_status tk_avg_down3d (tk_pool *pool,
                           const float *in,
                           int64_t in_channels,
                           int64_t frames,
                           int64_t height,
                           int64_t width,
                           int64_t out_channels,
                           int ft,
                           int fs,
                           float *out);

  /* Wan2.2 VAE pixel patchify, "b c f (h q) (w r) -> b (c r q) f h w":
   * in [C, T, H, W] to out [C·p², T, H/p, W/p] with
   * out[(c·p + r)·p + q, t, h, w] = in[c, t, h·p + q, w·p + r]. */
  tk_status tk_pixel_patchify (tk_pool *pool,
                               const float *in,
                               int64_t channels,
                               int64_t frames,
                               int64_t height,
                               int64_t width,
                               int p,
                               float *out);

  /* The inverse: in [C·p², T, h, w] to out [C, T, h·p, w·p]; channels is C. */
  tk_status tk_pixel_unpatchify (tk_pool *pool,
                                 const float *in,
                                 int64_t channels,
                                 int64_t frames,
                                 int64_t height,
                                 int64_t width,
                                 int p,
                                 float *out);

#ifdef __cplusplus
}
#endif

#endif /* TK_CONV_H */
