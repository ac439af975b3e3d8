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

G_END_DECLS
