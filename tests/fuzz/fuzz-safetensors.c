/* libFuzzer target: the safetensors header parser and the PyTorch zip
 * reader, on an in-memory file, then every reader of the tensors it finds. */
#include <stdint.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GBytes) bytes = g_bytes_new_static (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (Safetensors) st = safetensors_new_from_bytes (bytes, "fuzz.safetensors", &error);
  g_autoptr (GPtrArray) keys = NULL;

  if (st == NULL)
    {
      g_assert (error != NULL && error->message != NULL);
      return 0;
    }
  keys = safetensors_get_metadata_keys (st);
  for (guint i = 0; i < keys->len; i++)
    g_assert (safetensors_get_metadata (st, g_ptr_array_index (keys, i)) != NULL);
  for (guint i = 0; i < safetensors_get_n_tensors (st); i++)
    {
      const SafetensorsTensor *t = safetensors_get_tensor (st, i);
      g_autofree char *shape = safetensors_tensor_format_shape (t);
      g_autoptr (GError) read_error = NULL;

      g_assert (shape != NULL);
      g_assert (safetensors_lookup (st, t->name) == t);
      g_assert (t->data >= data && t->data + t->n_bytes <= data + size);
      if (t->n_elements <= 65536)
        {
          g_autofree float *values = g_new (float, t->n_elements + 1);
          gboolean ok = safetensors_tensor_read_f32 (t, values, (gsize)t->n_elements, &read_error);

          g_assert (ok == (read_error == NULL));
        }
    }
  return 0;
}
