/* wan-weights.h: tensor access to checked weight files, for the engine's
 * model code. Everything here assumes wan_weights_open() succeeded, which
 * guarantees that every tensor of the architecture exists with its shape. */
#pragma once

#include "safetensors.h"
#include "takes-engine.h"

G_BEGIN_DECLS

/* The tensor under its official Wan name (HF/ComfyUI names already mapped,
 * the ComfyUI prefix removed), or NULL. */
const SafetensorsTensor *wan_weights_lookup (const WanWeights *weights, const char *name);
const SafetensorsTensor *wan_weights_lookupf (const WanWeights *weights, const char *format, ...)
    G_GNUC_PRINTF (2, 3);
const Safetensors *wan_weights_get_safetensors (const WanWeights *weights);
/* The SentencePiece model ComfyUI may embed in a text encoder file as a U8
 * tensor "spiece_model", or NULL. */
const SafetensorsTensor *wan_weights_get_spiece_model (const WanWeights *weights);

/* One tensor an architecture needs. */
typedef struct
{
  char *name;
  guint n_dims;
  gint64 shape[5];
} WanTensorSpec;

void wan_tensor_spec_free (WanTensorSpec *spec);

/* Every tensor of a configuration, official names, in a stable order. */
GPtrArray *wan_dit_expected_tensors (const WanDitConfig *config);
GPtrArray *umt5_expected_tensors (const Umt5Config *config);
GPtrArray *wan_vae_expected_tensors (const WanVaeConfig *config);

/* The release a diffusion model configuration matches. */
WanArch wan_dit_config_get_arch (const WanDitConfig *config);

/* The official name of an HF/ComfyUI umT5 tensor name, or NULL when it has no
 * counterpart. */
char *umt5_official_name (const char *hf_name);

G_END_DECLS
