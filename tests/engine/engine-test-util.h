/* engine-test-util.h: writing safetensors files and finding test data. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "safetensors.h"

typedef struct
{
  char *name;
  char *dtype;
  guint n_dims;
  gint64 shape[9];
  GBytes *data;
} TestTensor;

static inline void
test_tensor_free (TestTensor *t)
{
  g_free (t->name);
  g_free (t->dtype);
  g_bytes_unref (t->data);
  g_free (t);
}

static inline GPtrArray *
test_tensor_list_new (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify)test_tensor_free);
}

static inline TestTensor *
test_tensor_add (GPtrArray *list,
                 const char *name,
                 const char *dtype,
                 guint n_dims,
                 const gint64 *shape,
                 const void *data,
                 gsize n_bytes)
{
  TestTensor *t = g_new0 (TestTensor, 1);

  t->name = g_strdup (name);
  t->dtype = g_strdup (dtype);
  t->n_dims = n_dims;
  for (guint i = 0; i < n_dims; i++)
    t->shape[i] = shape[i];
  t->data = g_bytes_new (data, n_bytes);
  g_ptr_array_add (list, t);
  return t;
}

/* Every tensor of @st (names as stored after prefix stripping), copied. */
static inline GPtrArray *
test_tensors_from (const Safetensors *st)
{
  GPtrArray *list = test_tensor_list_new ();

  for (guint i = 0; i < safetensors_get_n_tensors (st); i++)
    {
      const SafetensorsTensor *t = safetensors_get_tensor (st, i);
      test_tensor_add (list, t->name, safetensors_dtype_get_name (t->dtype), t->n_dims, t->shape, t->data,
                       t->n_bytes);
    }
  return list;
}

static inline TestTensor *
test_tensor_find (GPtrArray *list, const char *name)
{
  for (guint i = 0; i < list->len; i++)
    if (g_str_equal (((TestTensor *)g_ptr_array_index (list, i))->name, name))
      return g_ptr_array_index (list, i);
  return NULL;
}

static inline TestTensor *
test_tensor_get (GPtrArray *list, const char *name)
{
  TestTensor *t = test_tensor_find (list, name);

  if (t == NULL)
    g_error ("no tensor “%s” in the list", name);
  return t;
}

static inline void
test_tensor_remove (GPtrArray *list, const char *name)
{
  g_ptr_array_remove (list, test_tensor_get (list, name));
}

/* A safetensors file: header JSON (padded to 8 bytes) then the data. */
static inline GBytes *
test_safetensors_build (GPtrArray *list, const char *metadata_json)
{
  GString *header = g_string_new ("{");
  GByteArray *out = g_byte_array_new ();
  guint64 offset = 0, len;
  guint8 len_bytes[8];

  if (metadata_json != NULL)
    g_string_append_printf (header, "\"__metadata__\":%s", metadata_json);
  for (guint i = 0; i < list->len; i++)
    {
      TestTensor *t = g_ptr_array_index (list, i);
      gsize n = g_bytes_get_size (t->data);

      if (header->len > 1)
        g_string_append_c (header, ',');
      g_string_append_printf (header, "\"%s\":{\"dtype\":\"%s\",\"shape\":[", t->name, t->dtype);
      for (guint d = 0; d < t->n_dims; d++)
        g_string_append_printf (header, "%s%" G_GINT64_FORMAT, d ? "," : "", t->shape[d]);
      g_string_append_printf (header, "],\"data_offsets\":[%" G_GUINT64_FORMAT ",%" G_GUINT64_FORMAT "]}",
                              offset, offset + n);
      offset += n;
    }
  g_string_append_c (header, '}');
  while (header->len % 8 != 0)
    g_string_append_c (header, ' ');
  len = header->len;
  for (int i = 0; i < 8; i++)
    len_bytes[i] = (guint8)(len >> (8 * i));
  g_byte_array_append (out, len_bytes, 8);
  g_byte_array_append (out, (const guint8 *)header->str, header->len);
  for (guint i = 0; i < list->len; i++)
    {
      TestTensor *t = g_ptr_array_index (list, i);
      g_byte_array_append (out, g_bytes_get_data (t->data, NULL), g_bytes_get_size (t->data));
    }
  g_string_free (header, TRUE);
  return g_byte_array_free_to_bytes (out);
}

/* A file with a hand-written header and @data_len zero bytes of data. */
static inline GBytes *
test_safetensors_raw (const char *header, gsize data_len)
{
  GByteArray *out = g_byte_array_new ();
  guint64 len = strlen (header);
  guint8 len_bytes[8];
  g_autofree guint8 *zeros = g_malloc0 (data_len + 1);

  for (int i = 0; i < 8; i++)
    len_bytes[i] = (guint8)(len >> (8 * i));
  g_byte_array_append (out, len_bytes, 8);
  g_byte_array_append (out, (const guint8 *)header, (guint)len);
  g_byte_array_append (out, zeros, (guint)data_len);
  return g_byte_array_free_to_bytes (out);
}

static inline void
test_write_bytes (const char *path, GBytes *bytes)
{
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), (gssize)g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
}

static inline char *
test_golden_path (const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", "wan-tiny-public", name, NULL);
}

static inline char *
test_data_path (const char *dir, const char *name)
{
  return g_test_build_filename (G_TEST_DIST, "data", dir, name, NULL);
}

/* The "tolerances" object of @case_name in the golden manifest; it lives
 * as long as @parser. */
static inline JsonObject *
test_golden_tolerances (JsonParser *parser, const char *case_name)
{
  g_autofree char *path = test_golden_path ("manifest.json");
  g_autoptr (GError) error = NULL;
  JsonObject *root;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  root = json_node_get_object (json_parser_get_root (parser));
  root = json_object_get_object_member (json_object_get_object_member (root, "cases"), case_name);
  return json_object_get_object_member (root, "tolerances");
}

/* Tensor @name of @st converted to F32, newly allocated; its element count
 * in @n_values and its shape in @shape when they are not NULL. */
static inline float *
test_read_f32 (const Safetensors *st, const char *name, gsize *n_values, gint64 *shape)
{
  const SafetensorsTensor *t = safetensors_lookup (st, name);
  g_autoptr (GError) error = NULL;
  float *data;

  g_assert_nonnull (t);
  data = g_new (float, t->n_elements);
  safetensors_tensor_read_f32 (t, data, (gsize)t->n_elements, &error);
  g_assert_no_error (error);
  if (n_values != NULL)
    *n_values = (gsize)t->n_elements;
  if (shape != NULL)
    for (guint d = 0; d < t->n_dims; d++)
      shape[d] = t->shape[d];
  return data;
}

/* Asserts that @got matches @want within both an absolute and a relative
 * L2 tolerance, logging the figures for the record. */
static inline void
test_compare_f32 (
    const float *got, const float *want, gsize n, double max_abs_tol, double rel_l2_tol, const char *what)
{
  double max_abs = 0, diff2 = 0, ref2 = 0;

  for (gsize i = 0; i < n; i++)
    {
      double d = (double)got[i] - want[i];

      g_assert_true (isfinite (got[i]));
      max_abs = MAX (max_abs, fabs (d));
      diff2 += d * d;
      ref2 += (double)want[i] * want[i];
    }
  g_test_message ("%s: max_abs %.3g (limit %.3g), rel_l2 %.3g (limit %.3g)", what, max_abs, max_abs_tol,
                  sqrt (diff2 / ref2), rel_l2_tol);
  g_assert_cmpfloat (max_abs, <=, max_abs_tol);
  g_assert_cmpfloat (sqrt (diff2 / ref2), <=, rel_l2_tol);
}

/* A fresh temporary folder, removed by test_rm_rf. */
static inline char *
test_tmp_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *dir = g_dir_make_tmp ("takes-engine-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static inline void
test_rm_rf (const char *path)
{
  GDir *dir;
  const char *name;

  if (g_file_test (path, G_FILE_TEST_IS_SYMLINK) || !g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_unlink (path);
      return;
    }
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);
          test_rm_rf (child);
        }
      g_dir_close (dir);
    }
  g_rmdir (path);
}

/* Makes @dir/@rel a symbolic link to @target, creating folders on the way. */
static inline void
test_link (const char *dir, const char *rel, const char *target)
{
  g_autofree char *path = g_build_filename (dir, rel, NULL);
  g_autofree char *parent = g_path_get_dirname (path);

  g_assert_cmpint (g_mkdir_with_parents (parent, 0755), ==, 0);
  g_assert_cmpint (symlink (target, path), ==, 0);
}

/* Round to nearest even, as torch does when casting F32 to BF16. */
static inline guint16
test_f32_to_bf16 (float f)
{
  guint32 bits;

  memcpy (&bits, &f, 4);
  return (guint16)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}
