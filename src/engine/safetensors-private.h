/* safetensors-private.h: building a tensor table from other containers. */
#pragma once

#include "safetensors.h"

G_BEGIN_DECLS

/* An empty table; @path names it in messages. */
Safetensors *safetensors_new_empty (const char *path);
/* Keeps @bytes (the memory the tensors point into) alive with the table and
 * counts its size in safetensors_get_n_bytes(). */
void safetensors_keep_bytes (Safetensors *st, GBytes *bytes);
/* Adds a tensor after checking that @shape fits @n_bytes of @dtype. */
gboolean safetensors_add_tensor (Safetensors *st,
                                 const char *name,
                                 const char *file,
                                 SafetensorsDtype dtype,
                                 guint n_dims,
                                 const gint64 *shape,
                                 const guint8 *data,
                                 gsize n_bytes,
                                 GError **error);
/* Strips the ComfyUI prefix, rejects duplicate names and pairs fp8 weights
 * with their scales. Call once, after the last tensor. */
gboolean safetensors_finish (Safetensors *st, GError **error);

/* PyTorch zip archives (torch.save since 1.6), in torch-zip.c. */
gboolean torch_zip_is_archive (const guint8 *data, gsize size);
/* Adds the tensors of the state dict in @bytes (the whole archive) to @st. */
gboolean torch_zip_load (Safetensors *st, GBytes *bytes, const char *path, GError **error);

/* The shell command that converts a .pth file to safetensors, for messages. */
char *torch_zip_convert_command (const char *path);

G_END_DECLS
