/* wan-vae.h: engine-internal parts of the Wan VAE. The public API (WanVae,
 * WanVaeDecoder) is in takes-engine.h. */
#pragma once

#include "takes-engine.h"

G_BEGIN_DECLS

/* The latent mean and standard deviation tables of the VAEs, shipped as
 * data: "vae-latents.json" in the engine data folder. */
#define WAN_VAE_LATENTS_FILE "vae-latents.json"

/* The engine data folder: $TAKES_SOURCE_DATA/engine when set (tests and
 * uninstalled runs), else the installed one, else the source tree's. */
char *wan_engine_data_dir (void);

/* Reads the @z_dim means and standard deviations of VAE @version (21 or 22)
 * from the latents file in @engine_data_dir into @mean and @std. */
gboolean wan_vae_latents_load (
    const char *engine_data_dir, int version, int z_dim, float *mean, float *std, GError **error);

/* How the decoder computes its causal 3×3×3 convolutions: keeping the
 * last two frames of each one's input (the straightforward form, the
 * reference the others are checked against), or keeping partial outputs
 * (two frames of the output, and the input a band of rows at a time) for
 * the residual blocks without a shortcut and for the head: where that
 * takes less memory (the default), or everywhere it applies (to test it on
 * models where it would not pay). The results agree to float rounding. */
typedef enum
{
  WAN_VAE_CONVS_LEAST_MEMORY,
  WAN_VAE_CONVS_INPUT_CACHES,
  WAN_VAE_CONVS_PARTIAL_OUTPUTS,
} WanVaeConvs;

/* wan_vae_new_with_data() with the decoder's convolutions computed as
 * @convs says. */
WanVae *wan_vae_new_with_convs (
    WanWeights *weights, int n_threads, const char *engine_data_dir, WanVaeConvs convs, GError **error);

/* Where the bytes of wan_vae_estimate_decoder_bytes() go. */
typedef struct
{
  guint64 caches_middle;              /* conv_in and the middle blocks' caches */
  guint64 caches_level[4];            /* each level's caches or partial outputs */
  guint64 caches_head;                /* the head's */
  guint64 frames;                     /* the three shared frame buffers */
  guint64 pending;                    /* upsample3d frames outside them, Wan2.2's shortcut inputs */
  guint64 bands;                      /* row bands of the resampling and the partial-output convolutions */
  guint64 latent;                     /* the latent frame and the middle attention's tokens and workspace */
  guint64 workspace;                  /* the convolutions' (kept by the VAE between decodes) */
  guint64 largest_frame, third_frame; /* the first two frame buffers' size, and the third's */
} WanVaeDecoderMemory;

/* Fills @mem for a decoder of latents h × w; FALSE for a size the decoder
 * refuses. */
gboolean wan_vae_decoder_memory (const WanVae *vae, int h, int w, WanVaeDecoderMemory *mem);

G_END_DECLS
