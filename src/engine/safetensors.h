/* safetensors.h: memory-mapped, read-only weight files.
 *
 * A Safetensors object is one table of tensors by name over one file, the
 * shards of a *.safetensors.index.json, or a PyTorch .pth zip archive. The
 * header of every file is checked before anything is used: its length, every
 * dtype, shape and offset, that the tensors do not overlap and that each
 * shape matches its byte length. Names lose an optional ComfyUI
 * "model.diffusion_model." prefix, and each fp8 weight is paired with its
 * ComfyUI scale ("scale_weight" or "weight_scale", plus "comfy_quant").
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  SAFETENSORS_DTYPE_BOOL,
  SAFETENSORS_DTYPE_U8,
  SAFETENSORS_DTYPE_I8,
  SAFETENSORS_DTYPE_F8_E5M2,
  SAFETENSORS_DTYPE_F8_E4M3,
  SAFETENSORS_DTYPE_I16,
  SAFETENSORS_DTYPE_U16,
  SAFETENSORS_DTYPE_F16,
  SAFETENSORS_DTYPE_BF16,
  SAFETENSORS_DTYPE_I32,
  SAFETENSORS_DTYPE_U32,
  SAFETENSORS_DTYPE_F32,
  SAFETENSORS_DTYPE_F64,
  SAFETENSORS_DTYPE_I64,
  SAFETENSORS_DTYPE_U64,
  SAFETENSORS_N_DTYPES
} SafetensorsDtype;

#define SAFETENSORS_MAX_DIMS 8
/* The limit the reference implementation puts on a header. */
#define SAFETENSORS_MAX_HEADER_LEN 100000000
/* The prefix ComfyUI puts before diffusion model names. */
#define SAFETENSORS_COMFY_PREFIX "model.diffusion_model."

typedef struct _SafetensorsTensor SafetensorsTensor;

struct _SafetensorsTensor
{
  const char *name; /* with the ComfyUI prefix removed */
  const char *file; /* the file that holds it, for messages */
  SafetensorsDtype dtype;
  guint n_dims;
  gint64 shape[SAFETENSORS_MAX_DIMS];
  gint64 n_elements;
  const guint8 *data; /* read-only; not aligned in general, read with memcpy */
  gsize n_bytes;
  /* A scale, input scale, comfy_quant note or scaled_fp8 sentinel: file
   * bookkeeping rather than a model parameter. */
  gboolean is_aux;
  /* For a weight stored in fp8: its scale (one value, or one per row) and
   * input scale, or NULL; and the ComfyUI quantisation format, or NULL. */
  const SafetensorsTensor *scale;
  const SafetensorsTensor *input_scale;
  const char *quant_format;
};

typedef struct _Safetensors Safetensors;

/* Opens a .safetensors file, a *.safetensors.index.json with its shards, or a
 * PyTorch zip archive (.pth), memory-mapped and read-only. */
Safetensors *safetensors_open (const char *path, GError **error);
/* Parses a whole safetensors file (or PyTorch zip archive) held in @bytes (a
 * reference is kept); @name is used in messages. */
Safetensors *safetensors_new_from_bytes (GBytes *bytes, const char *name, GError **error);
void safetensors_free (Safetensors *st);

/* The path given to safetensors_open(), or the name. */
const char *safetensors_get_path (const Safetensors *st);
guint safetensors_get_n_tensors (const Safetensors *st);
/* Tensors in the order of their data in the files. */
const SafetensorsTensor *safetensors_get_tensor (const Safetensors *st, guint index);
const SafetensorsTensor *safetensors_lookup (const Safetensors *st, const char *name);
/* A "__metadata__" value of the (first) file, or NULL. */
const char *safetensors_get_metadata (const Safetensors *st, const char *key);
/* Keys of "__metadata__", sorted; free the container only. */
GPtrArray *safetensors_get_metadata_keys (const Safetensors *st);
/* Total size of the files on disk. */
guint64 safetensors_get_n_bytes (const Safetensors *st);
guint safetensors_get_n_files (const Safetensors *st);
/* TRUE when some names carried SAFETENSORS_COMFY_PREFIX. */
gboolean safetensors_get_prefix_stripped (const Safetensors *st);
/* TRUE when the file has the legacy "scaled_fp8" sentinel. */
gboolean safetensors_get_scaled_fp8 (const Safetensors *st);

/* "F32", "BF16", … as safetensors spells them. */
const char *safetensors_dtype_get_name (SafetensorsDtype dtype);
gboolean safetensors_dtype_from_name (const char *name, SafetensorsDtype *dtype);
gsize safetensors_dtype_get_size (SafetensorsDtype dtype);
/* F32, F16, BF16, F8_E4M3 and F8_E5M2. */
gboolean safetensors_dtype_is_float (SafetensorsDtype dtype);

/* Converts @tensor to @n_values floats (@n_values must equal its element
 * count), multiplying fp8 values by their scale. Fails for a dtype that is
 * not a float dtype, or a scale that does not fit. */
gboolean
safetensors_tensor_read_f32 (const SafetensorsTensor *tensor, float *dst, gsize n_values, GError **error);
/* "[256, 16, 1, 2, 2]" */
char *safetensors_tensor_format_shape (const SafetensorsTensor *tensor);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Safetensors, safetensors_free)

G_END_DECLS
