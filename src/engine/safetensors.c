/* safetensors.c: the safetensors header parser, shards and fp8 scales.
 *
 * The header is read with a small strict parser of its fixed schema rather
 * than a general JSON library: it is the first thing read from an untrusted
 * multi-gigabyte file, its nesting is bounded by construction, and every
 * number must be checked as an exact unsigned integer.
 */
#include "config.h"

#include <inttypes.h>

#include <glib/gi18n.h>
#include <math.h>
#include <string.h>

#include "safetensors-private.h"
#include "takes-engine-private.h"

struct _Safetensors
{
  char *path;
  GPtrArray *bytes;    /* GBytes: the mapped files */
  GPtrArray *tensors;  /* SafetensorsTensor, owned */
  GHashTable *by_name; /* name → SafetensorsTensor */
  GHashTable *metadata;
  GStringChunk *strings;
  guint64 n_bytes;
  gboolean prefix_stripped;
  gboolean scaled_fp8;
  gboolean finished;
};

static const struct
{
  const char *name;
  gsize size;
} dtype_info[SAFETENSORS_N_DTYPES] = {
  [SAFETENSORS_DTYPE_BOOL] = { "BOOL", 1 },       [SAFETENSORS_DTYPE_U8] = { "U8", 1 },
  [SAFETENSORS_DTYPE_I8] = { "I8", 1 },           [SAFETENSORS_DTYPE_F8_E5M2] = { "F8_E5M2", 1 },
  [SAFETENSORS_DTYPE_F8_E4M3] = { "F8_E4M3", 1 }, [SAFETENSORS_DTYPE_I16] = { "I16", 2 },
  [SAFETENSORS_DTYPE_U16] = { "U16", 2 },         [SAFETENSORS_DTYPE_F16] = { "F16", 2 },
  [SAFETENSORS_DTYPE_BF16] = { "BF16", 2 },       [SAFETENSORS_DTYPE_I32] = { "I32", 4 },
  [SAFETENSORS_DTYPE_U32] = { "U32", 4 },         [SAFETENSORS_DTYPE_F32] = { "F32", 4 },
  [SAFETENSORS_DTYPE_F64] = { "F64", 8 },         [SAFETENSORS_DTYPE_I64] = { "I64", 8 },
  [SAFETENSORS_DTYPE_U64] = { "U64", 8 },
};

const char *
safetensors_dtype_get_name (SafetensorsDtype dtype)
{
  if ((guint)dtype >= SAFETENSORS_N_DTYPES)
    return "?";
  return dtype_info[dtype].name;
}

gsize
safetensors_dtype_get_size (SafetensorsDtype dtype)
{
  if ((guint)dtype >= SAFETENSORS_N_DTYPES)
    return 0;
  return dtype_info[dtype].size;
}

gboolean
safetensors_dtype_from_name (const char *name, SafetensorsDtype *dtype)
{
  for (guint i = 0; i < SAFETENSORS_N_DTYPES; i++)
    if (g_str_equal (name, dtype_info[i].name))
      {
        *dtype = (SafetensorsDtype)i;
        return TRUE;
      }
  return FALSE;
}

gboolean
safetensors_dtype_is_float (SafetensorsDtype dtype)
{
  switch (dtype)
    {
      case SAFETENSORS_DTYPE_F32:
      case SAFETENSORS_DTYPE_F16:
      case SAFETENSORS_DTYPE_BF16:
      case SAFETENSORS_DTYPE_F8_E4M3:
      case SAFETENSORS_DTYPE_F8_E5M2:
        return TRUE;
      default:
        return FALSE;
    }
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *)a, *(const char *const *)b);
}

Safetensors *
safetensors_new_empty (const char *path)
{
  Safetensors *st = g_new0 (Safetensors, 1);

  st->path = g_strdup (path);
  st->bytes = g_ptr_array_new_with_free_func ((GDestroyNotify)g_bytes_unref);
  st->tensors = g_ptr_array_new_with_free_func (g_free);
  st->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  st->metadata = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  st->strings = g_string_chunk_new (4096);
  return st;
}

void
safetensors_free (Safetensors *st)
{
  if (st == NULL)
    return;
  g_free (st->path);
  g_ptr_array_unref (st->tensors);
  g_ptr_array_unref (st->bytes);
  g_hash_table_unref (st->by_name);
  g_hash_table_unref (st->metadata);
  g_string_chunk_free (st->strings);
  g_free (st);
}

void
safetensors_keep_bytes (Safetensors *st, GBytes *bytes)
{
  g_ptr_array_add (st->bytes, g_bytes_ref (bytes));
  st->n_bytes += g_bytes_get_size (bytes);
}

const char *
safetensors_get_path (const Safetensors *st)
{
  return st->path;
}

guint
safetensors_get_n_tensors (const Safetensors *st)
{
  return st->tensors->len;
}

const SafetensorsTensor *
safetensors_get_tensor (const Safetensors *st, guint index)
{
  g_return_val_if_fail (index < st->tensors->len, NULL);
  return g_ptr_array_index (st->tensors, index);
}

const SafetensorsTensor *
safetensors_lookup (const Safetensors *st, const char *name)
{
  return g_hash_table_lookup (st->by_name, name);
}

const char *
safetensors_get_metadata (const Safetensors *st, const char *key)
{
  return g_hash_table_lookup (st->metadata, key);
}

GPtrArray *
safetensors_get_metadata_keys (const Safetensors *st)
{
  GPtrArray *keys = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, st->metadata);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (keys, key);
  g_ptr_array_sort (keys, compare_strings);
  return keys;
}

guint64
safetensors_get_n_bytes (const Safetensors *st)
{
  return st->n_bytes;
}

guint
safetensors_get_n_files (const Safetensors *st)
{
  return st->bytes->len;
}

gboolean
safetensors_get_prefix_stripped (const Safetensors *st)
{
  return st->prefix_stripped;
}

gboolean
safetensors_get_scaled_fp8 (const Safetensors *st)
{
  return st->scaled_fp8;
}

char *
safetensors_tensor_format_shape (const SafetensorsTensor *tensor)
{
  GString *s = g_string_new ("[");

  for (guint i = 0; i < tensor->n_dims; i++)
    g_string_append_printf (s, "%s%" PRId64, i > 0 ? ", " : "", tensor->shape[i]);
  g_string_append_c (s, ']');
  return g_string_free (s, FALSE);
}

static void
set_corrupt (GError **error, const char *file, const char *detail)
{
  g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
               _ ("“%s” is not a valid safetensors file: %s. Download or export it again."), file, detail);
}

static void G_GNUC_PRINTF (3, 4)
    set_corrupt_printf (GError **error, const char *file, const char *format, ...)
{
  g_autofree char *detail = NULL;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  set_corrupt (error, file, detail);
}

gboolean
safetensors_add_tensor (Safetensors *st,
                        const char *name,
                        const char *file,
                        SafetensorsDtype dtype,
                        guint n_dims,
                        const gint64 *shape,
                        const guint8 *data,
                        gsize n_bytes,
                        GError **error)
{
  SafetensorsTensor *t;
  guint64 n_elements = 1;
  guint64 expected;

  g_return_val_if_fail (!st->finished, FALSE);

  if (n_dims > SAFETENSORS_MAX_DIMS)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
                   _ ("Tensor “%s” in “%s” has %u dimensions; Takes reads at most %d."), name, file, n_dims,
                   SAFETENSORS_MAX_DIMS);
      return FALSE;
    }
  for (guint i = 0; i < n_dims; i++)
    {
      if (shape[i] < 0)
        {
          set_corrupt_printf (error, file, _ ("tensor “%s” has a negative dimension"), name);
          return FALSE;
        }
      if (shape[i] != 0 && n_elements > G_MAXUINT64 / (guint64)shape[i])
        {
          set_corrupt_printf (error, file, _ ("tensor “%s” has an impossibly large shape"), name);
          return FALSE;
        }
      n_elements *= (guint64)shape[i];
    }
  if (n_elements > G_MAXUINT64 / safetensors_dtype_get_size (dtype) || n_elements > G_MAXINT64)
    {
      set_corrupt_printf (error, file, _ ("tensor “%s” has an impossibly large shape"), name);
      return FALSE;
    }
  expected = n_elements * safetensors_dtype_get_size (dtype);
  if (expected != n_bytes)
    {
      set_corrupt_printf (error, file,
                          _ ("tensor “%s” holds %zu bytes, but its shape and dtype %s need %" PRIu64),
                          name, n_bytes, safetensors_dtype_get_name (dtype), expected);
      return FALSE;
    }

  t = g_new0 (SafetensorsTensor, 1);
  t->name = g_string_chunk_insert (st->strings, name);
  t->file = g_string_chunk_insert_const (st->strings, file);
  t->dtype = dtype;
  t->n_dims = n_dims;
  for (guint i = 0; i < n_dims; i++)
    t->shape[i] = shape[i];
  t->n_elements = (gint64)n_elements;
  t->data = data;
  t->n_bytes = n_bytes;
  g_ptr_array_add (st->tensors, t);
  return TRUE;
}

/* The header parser */

typedef struct
{
  const guint8 *cur;
  const guint8 *end;
  const char *file;
} Cursor;

static void
skip_ws (Cursor *c)
{
  while (c->cur < c->end && (*c->cur == ' ' || *c->cur == '\t' || *c->cur == '\n' || *c->cur == '\r'))
    c->cur++;
}

static gboolean
expect_char (Cursor *c, char ch, GError **error)
{
  skip_ws (c);
  if (c->cur >= c->end)
    {
      set_corrupt (error, c->file, _ ("its header ends early"));
      return FALSE;
    }
  if (*c->cur != (guint8)ch)
    {
      set_corrupt_printf (error, c->file, _ ("its header has “%c” where “%c” belongs"),
                          g_ascii_isprint (*c->cur) ? *c->cur : '?', ch);
      return FALSE;
    }
  c->cur++;
  return TRUE;
}

static gboolean
peek_char (Cursor *c, char ch)
{
  skip_ws (c);
  return c->cur < c->end && *c->cur == (guint8)ch;
}

static int
hex_value (guint8 ch)
{
  if (ch >= '0' && ch <= '9')
    return ch - '0';
  if (ch >= 'a' && ch <= 'f')
    return ch - 'a' + 10;
  if (ch >= 'A' && ch <= 'F')
    return ch - 'A' + 10;
  return -1;
}

static gboolean
parse_hex4 (Cursor *c, gunichar *out)
{
  gunichar v = 0;

  if (c->end - c->cur < 4)
    return FALSE;
  for (int i = 0; i < 4; i++)
    {
      int h = hex_value (c->cur[i]);
      if (h < 0)
        return FALSE;
      v = (v << 4) | (gunichar)h;
    }
  c->cur += 4;
  *out = v;
  return TRUE;
}

/* A JSON string into @out; the result must be UTF-8 without NUL. */
static gboolean
parse_string (Cursor *c, GString *out, GError **error)
{
  g_string_truncate (out, 0);
  if (!expect_char (c, '"', error))
    return FALSE;
  while (c->cur < c->end)
    {
      guint8 ch = *c->cur++;

      if (ch == '"')
        {
          if (!g_utf8_validate (out->str, (gssize)out->len, NULL))
            {
              set_corrupt (error, c->file, _ ("a name in its header is not UTF-8 text"));
              return FALSE;
            }
          return TRUE;
        }
      if (ch < 0x20)
        {
          set_corrupt (error, c->file, _ ("its header has a control character inside a string"));
          return FALSE;
        }
      if (ch != '\\')
        {
          g_string_append_c (out, (char)ch);
          continue;
        }
      if (c->cur >= c->end)
        break;
      ch = *c->cur++;
      switch (ch)
        {
          case '"':
          case '\\':
          case '/':
            g_string_append_c (out, (char)ch);
            break;
          case 'b':
            g_string_append_c (out, '\b');
            break;
          case 'f':
            g_string_append_c (out, '\f');
            break;
          case 'n':
            g_string_append_c (out, '\n');
            break;
          case 'r':
            g_string_append_c (out, '\r');
            break;
          case 't':
            g_string_append_c (out, '\t');
            break;
          case 'u':
            {
              gunichar u, low;

              if (!parse_hex4 (c, &u))
                {
                  set_corrupt (error, c->file, _ ("its header has a broken \\u escape"));
                  return FALSE;
                }
              if (u >= 0xD800 && u < 0xDC00)
                {
                  if (c->end - c->cur < 6 || c->cur[0] != '\\' || c->cur[1] != 'u')
                    {
                      set_corrupt (error, c->file, _ ("its header has a lone UTF-16 surrogate"));
                      return FALSE;
                    }
                  c->cur += 2;
                  if (!parse_hex4 (c, &low) || low < 0xDC00 || low > 0xDFFF)
                    {
                      set_corrupt (error, c->file, _ ("its header has a lone UTF-16 surrogate"));
                      return FALSE;
                    }
                  u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
                }
              else if (u >= 0xDC00 && u <= 0xDFFF)
                {
                  set_corrupt (error, c->file, _ ("its header has a lone UTF-16 surrogate"));
                  return FALSE;
                }
              if (u == 0)
                {
                  set_corrupt (error, c->file, _ ("a name in its header contains a NUL character"));
                  return FALSE;
                }
              g_string_append_unichar (out, u);
              break;
            }
          default:
            set_corrupt (error, c->file, _ ("its header has an unknown escape in a string"));
            return FALSE;
        }
    }
  set_corrupt (error, c->file, _ ("its header ends inside a string"));
  return FALSE;
}

/* A JSON number that must be an exact unsigned integer. */
static gboolean
parse_uint (Cursor *c, guint64 *out, const char *what, GError **error)
{
  guint64 v = 0;
  const guint8 *start;

  skip_ws (c);
  start = c->cur;
  while (c->cur < c->end && g_ascii_isdigit (*c->cur))
    {
      guint digit = *c->cur - '0';

      if (v > (G_MAXUINT64 - digit) / 10)
        {
          set_corrupt_printf (error, c->file, _ ("a number in the header of tensor “%s” is too large"), what);
          return FALSE;
        }
      v = v * 10 + digit;
      c->cur++;
    }
  if (c->cur == start || (c->cur - start > 1 && *start == '0')
      || (c->cur < c->end && (*c->cur == '.' || *c->cur == 'e' || *c->cur == 'E')))
    {
      set_corrupt_printf (error, c->file,
                          _ ("tensor “%s” has a number that is not a whole non-negative number"), what);
      return FALSE;
    }
  *out = v;
  return TRUE;
}

/* Skips a value of an unknown key, with bounded nesting. */
static gboolean
skip_value (Cursor *c, int depth, GError **error)
{
  g_autoptr (GString) scratch = NULL;

  if (depth > 16)
    {
      set_corrupt (error, c->file, _ ("its header nests too deeply"));
      return FALSE;
    }
  skip_ws (c);
  if (c->cur >= c->end)
    {
      set_corrupt (error, c->file, _ ("its header ends early"));
      return FALSE;
    }
  switch (*c->cur)
    {
      case '"':
        scratch = g_string_new (NULL);
        return parse_string (c, scratch, error);
      case '[':
      case '{':
        {
          gboolean object = *c->cur == '{';
          char close = object ? '}' : ']';

          c->cur++;
          if (peek_char (c, close))
            {
              c->cur++;
              return TRUE;
            }
          scratch = g_string_new (NULL);
          for (;;)
            {
              if (object && (!parse_string (c, scratch, error) || !expect_char (c, ':', error)))
                return FALSE;
              if (!skip_value (c, depth + 1, error))
                return FALSE;
              if (peek_char (c, ','))
                {
                  c->cur++;
                  continue;
                }
              return expect_char (c, close, error);
            }
        }
      default:
        {
          const guint8 *start = c->cur;

          while (c->cur < c->end
                 && (g_ascii_isalnum (*c->cur) || *c->cur == '-' || *c->cur == '+' || *c->cur == '.'))
            c->cur++;
          if (c->cur == start)
            {
              set_corrupt (error, c->file, _ ("its header is not valid JSON"));
              return FALSE;
            }
          return TRUE;
        }
    }
}

typedef struct
{
  char *name;
  SafetensorsDtype dtype;
  guint n_dims;
  gint64 shape[SAFETENSORS_MAX_DIMS];
  guint64 begin;
  guint64 end;
} Entry;

static void
entry_free (Entry *e)
{
  g_free (e->name);
  g_free (e);
}

static gboolean
parse_shape (Cursor *c, Entry *e, GError **error)
{
  if (!expect_char (c, '[', error))
    return FALSE;
  if (peek_char (c, ']'))
    {
      c->cur++;
      return TRUE;
    }
  for (;;)
    {
      guint64 v;

      if (!parse_uint (c, &v, e->name, error))
        return FALSE;
      if (e->n_dims == SAFETENSORS_MAX_DIMS)
        {
          g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
                       _ ("Tensor “%s” in “%s” has more than %d dimensions, which Takes does not read."),
                       e->name, c->file, SAFETENSORS_MAX_DIMS);
          return FALSE;
        }
      if (v > (guint64)G_MAXINT64)
        {
          set_corrupt_printf (error, c->file, _ ("tensor “%s” has an impossibly large shape"), e->name);
          return FALSE;
        }
      e->shape[e->n_dims++] = (gint64)v;
      if (peek_char (c, ','))
        {
          c->cur++;
          continue;
        }
      return expect_char (c, ']', error);
    }
}

static gboolean
parse_entry (Cursor *c, Entry *e, GError **error)
{
  g_autoptr (GString) key = g_string_new (NULL);
  g_autoptr (GString) value = g_string_new (NULL);
  gboolean have_dtype = FALSE, have_shape = FALSE, have_offsets = FALSE;

  if (!expect_char (c, '{', error))
    return FALSE;
  if (!peek_char (c, '}'))
    for (;;)
      {
        if (!parse_string (c, key, error) || !expect_char (c, ':', error))
          return FALSE;
        if (g_str_equal (key->str, "dtype") && !have_dtype)
          {
            if (!parse_string (c, value, error))
              return FALSE;
            if (!safetensors_dtype_from_name (value->str, &e->dtype))
              {
                g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
                             _ ("Tensor “%s” in “%s” has the dtype “%s”, which Takes cannot read. Use a file "
                                "with F32, F16, BF16 or F8_E4M3 weights."),
                             e->name, c->file, value->str);
                return FALSE;
              }
            have_dtype = TRUE;
          }
        else if (g_str_equal (key->str, "shape") && !have_shape)
          {
            if (!parse_shape (c, e, error))
              return FALSE;
            have_shape = TRUE;
          }
        else if (g_str_equal (key->str, "data_offsets") && !have_offsets)
          {
            if (!expect_char (c, '[', error) || !parse_uint (c, &e->begin, e->name, error)
                || !expect_char (c, ',', error) || !parse_uint (c, &e->end, e->name, error)
                || !expect_char (c, ']', error))
              return FALSE;
            have_offsets = TRUE;
          }
        else if (g_str_equal (key->str, "dtype") || g_str_equal (key->str, "shape")
                 || g_str_equal (key->str, "data_offsets"))
          {
            set_corrupt_printf (error, c->file, _ ("tensor “%s” has “%s” twice"), e->name, key->str);
            return FALSE;
          }
        else if (!skip_value (c, 1, error))
          return FALSE;

        if (peek_char (c, ','))
          {
            c->cur++;
            continue;
          }
        break;
      }
  if (!expect_char (c, '}', error))
    return FALSE;
  if (!have_dtype || !have_shape || !have_offsets)
    {
      set_corrupt_printf (error, c->file, _ ("tensor “%s” lacks its %s"), e->name,
                          !have_dtype   ? "dtype"
                          : !have_shape ? "shape"
                                        : "data_offsets");
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_metadata (Cursor *c, GHashTable *metadata, GError **error)
{
  g_autoptr (GString) key = g_string_new (NULL);
  g_autoptr (GString) value = g_string_new (NULL);

  if (!expect_char (c, '{', error))
    return FALSE;
  if (peek_char (c, '}'))
    {
      c->cur++;
      return TRUE;
    }
  for (;;)
    {
      if (!parse_string (c, key, error) || !expect_char (c, ':', error))
        return FALSE;
      skip_ws (c);
      if (c->cur < c->end && *c->cur != '"')
        {
          set_corrupt_printf (error, c->file, _ ("the metadata value of “%s” is not a string"), key->str);
          return FALSE;
        }
      if (!parse_string (c, value, error))
        return FALSE;
      g_hash_table_replace (metadata, g_strdup (key->str), g_strdup (value->str));
      if (peek_char (c, ','))
        {
          c->cur++;
          continue;
        }
      return expect_char (c, '}', error);
    }
}

static int
compare_entry_begin (gconstpointer a, gconstpointer b)
{
  const Entry *ea = *(Entry *const *)a;
  const Entry *eb = *(Entry *const *)b;

  if (ea->begin != eb->begin)
    return ea->begin < eb->begin ? -1 : 1;
  if (ea->end != eb->end)
    return ea->end < eb->end ? -1 : 1;
  return 0;
}

/* Parses the file in @bytes and adds its tensors; @metadata receives
 * "__metadata__" (NULL skips it). */
static gboolean
parse_file (Safetensors *st, GBytes *bytes, const char *file, GHashTable *metadata, GError **error)
{
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  guint64 header_len = 0;
  guint64 data_len;
  const guint8 *data_start;
  g_autoptr (GPtrArray) entries = g_ptr_array_new_with_free_func ((GDestroyNotify)entry_free);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GString) key = g_string_new (NULL);
  gboolean have_metadata = FALSE;
  guint64 max_end = 0;
  const Entry *max_entry = NULL;
  Cursor c;

  if (size < 8)
    {
      set_corrupt_printf (error, file,
                          _ ("it is only %zu bytes long, too short for a header"), size);
      return FALSE;
    }
  for (int i = 7; i >= 0; i--)
    header_len = (header_len << 8) | data[i];
  if (header_len > SAFETENSORS_MAX_HEADER_LEN)
    {
      set_corrupt_printf (error, file,
                          _ ("its header length (%" PRIu64 " bytes) is beyond the 100 MB limit"),
                          header_len);
      return FALSE;
    }
  if (header_len > size - 8)
    {
      set_corrupt_printf (error, file,
                          _ ("its header length (%" PRIu64
                             " bytes) runs past the end of the file (%zu bytes): the file is truncated"),
                          header_len, size);
      return FALSE;
    }
  if (header_len < 2)
    {
      set_corrupt (error, file, _ ("its header is empty"));
      return FALSE;
    }

  c.cur = data + 8;
  c.end = data + 8 + header_len;
  c.file = file;
  data_start = c.end;
  data_len = size - 8 - header_len;

  if (!expect_char (&c, '{', error))
    return FALSE;
  if (!peek_char (&c, '}'))
    for (;;)
      {
        if (!parse_string (&c, key, error) || !expect_char (&c, ':', error))
          return FALSE;
        if (g_str_equal (key->str, "__metadata__"))
          {
            g_autoptr (GHashTable) scratch = NULL;

            if (have_metadata)
              {
                set_corrupt (error, file, _ ("its header has “__metadata__” twice"));
                return FALSE;
              }
            have_metadata = TRUE;
            if (metadata == NULL)
              scratch = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
            if (!parse_metadata (&c, metadata != NULL ? metadata : scratch, error))
              return FALSE;
          }
        else
          {
            Entry *e = g_new0 (Entry, 1);

            e->name = g_strdup (key->str);
            g_ptr_array_add (entries, e);
            if (!g_hash_table_add (seen, e->name))
              {
                set_corrupt_printf (error, file, _ ("two tensors are named “%s”"), e->name);
                return FALSE;
              }
            if (!parse_entry (&c, e, error))
              return FALSE;
            if (e->begin > e->end || e->end > data_len)
              {
                set_corrupt_printf (error, file,
                                    _ ("the data of tensor “%s” (bytes %" PRIu64
                                       " to %" PRIu64 ") lies outside the %" PRIu64
                                       " data bytes of the file; the file "
                                       "may be truncated"),
                                    e->name, e->begin, e->end, data_len);
                return FALSE;
              }
          }
        if (peek_char (&c, ','))
          {
            c.cur++;
            continue;
          }
        break;
      }
  if (!expect_char (&c, '}', error))
    return FALSE;
  skip_ws (&c);
  if (c.cur != c.end)
    {
      set_corrupt (error, file, _ ("its header has extra text after the closing brace"));
      return FALSE;
    }

  g_ptr_array_sort (entries, compare_entry_begin);
  for (guint i = 0; i < entries->len; i++)
    {
      const Entry *e = g_ptr_array_index (entries, i);

      if (e->begin == e->end)
        continue;
      if (max_entry != NULL && e->begin < max_end)
        {
          set_corrupt_printf (error, file, _ ("the data of tensors “%s” and “%s” overlap"), max_entry->name,
                              e->name);
          return FALSE;
        }
      max_end = e->end;
      max_entry = e;
    }
  for (guint i = 0; i < entries->len; i++)
    {
      const Entry *e = g_ptr_array_index (entries, i);

      if (!safetensors_add_tensor (st, e->name, file, e->dtype, e->n_dims, e->shape, data_start + e->begin,
                                   (gsize)(e->end - e->begin), error))
        return FALSE;
    }
  safetensors_keep_bytes (st, bytes);
  return TRUE;
}

/* fp8 scales and other pairing */

static gboolean
has_suffix_with_base (const char *name, const char *suffix, char **base)
{
  gsize n = strlen (name), m = strlen (suffix);

  if (n <= m || strcmp (name + n - m, suffix) != 0)
    return FALSE;
  *base = g_strndup (name, n - m);
  return TRUE;
}

static SafetensorsTensor *
lookup_weight_of (Safetensors *st, const char *layer)
{
  g_autofree char *weight = g_strconcat (layer, ".weight", NULL);

  return g_hash_table_lookup (st->by_name, weight);
}

static gboolean
check_scale (const SafetensorsTensor *weight, const SafetensorsTensor *scale, GError **error)
{
  gboolean rows_ok = weight->n_dims > 0 && scale->n_elements == weight->shape[0];

  if (!safetensors_dtype_is_float (scale->dtype) || scale->dtype == SAFETENSORS_DTYPE_F8_E4M3
      || scale->dtype == SAFETENSORS_DTYPE_F8_E5M2 || (scale->n_elements != 1 && !rows_ok))
    {
      g_autofree char *shape = safetensors_tensor_format_shape (scale);
      set_corrupt_printf (error, scale->file,
                          _ ("the scale “%s” (%s %s) fits neither one value nor one per row of “%s”"),
                          scale->name, safetensors_dtype_get_name (scale->dtype), shape, weight->name);
      return FALSE;
    }
  return TRUE;
}

static const char *
parse_quant_format (
    Safetensors *st, const char *json, gsize length, const char *what, const char *file, GError **error)
{
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *label = g_strdup_printf ("%s (%s)", file, what);
  JsonObject *obj;
  const char *format;

  root = takes_engine_parse_json (json, length, label, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root) || (obj = json_node_get_object (root)) == NULL
      || !json_object_has_member (obj, "format")
      || json_node_get_value_type (json_object_get_member (obj, "format")) != G_TYPE_STRING)
    {
      set_corrupt_printf (error, file, _ ("the quantisation note “%s” has no “format”"), what);
      return NULL;
    }
  format = json_object_get_string_member (obj, "format");
  return g_string_chunk_insert_const (st->strings, format);
}

static gboolean
apply_quantization_metadata (Safetensors *st, GError **error)
{
  const char *text = g_hash_table_lookup (st->metadata, "_quantization_metadata");
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *label = NULL;
  JsonObject *layers;
  GList *members;

  if (text == NULL)
    return TRUE;
  label = g_strdup_printf ("%s (_quantization_metadata)", st->path);
  root = takes_engine_parse_json (text, strlen (text), label, error);
  if (root == NULL)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (root) || !json_object_has_member (json_node_get_object (root), "layers")
      || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (json_node_get_object (root), "layers")))
    {
      set_corrupt (error, st->path, _ ("its “_quantization_metadata” has no “layers” object"));
      return FALSE;
    }
  layers = json_object_get_object_member (json_node_get_object (root), "layers");
  members = json_object_get_members (layers);
  for (GList *l = members; l != NULL; l = l->next)
    {
      const char *layer = l->data;
      JsonNode *node = json_object_get_member (layers, layer);
      SafetensorsTensor *weight;

      if (g_str_has_prefix (layer, SAFETENSORS_COMFY_PREFIX))
        layer += strlen (SAFETENSORS_COMFY_PREFIX);
      weight = lookup_weight_of (st, layer);
      if (weight == NULL || !JSON_NODE_HOLDS_OBJECT (node))
        continue;
      node = json_object_get_member (json_node_get_object (node), "format");
      if (node != NULL && json_node_get_value_type (node) == G_TYPE_STRING)
        weight->quant_format = g_string_chunk_insert_const (st->strings, json_node_get_string (node));
    }
  g_list_free (members);
  return TRUE;
}

gboolean
safetensors_finish (Safetensors *st, GError **error)
{
  g_return_val_if_fail (!st->finished, FALSE);
  st->finished = TRUE;

  for (guint i = 0; i < st->tensors->len; i++)
    {
      SafetensorsTensor *t = g_ptr_array_index (st->tensors, i);

      if (g_str_has_prefix (t->name, SAFETENSORS_COMFY_PREFIX)
          && t->name[strlen (SAFETENSORS_COMFY_PREFIX)] != '\0')
        {
          t->name += strlen (SAFETENSORS_COMFY_PREFIX);
          st->prefix_stripped = TRUE;
        }
    }
  for (guint i = 0; i < st->tensors->len; i++)
    {
      SafetensorsTensor *t = g_ptr_array_index (st->tensors, i);

      if (!g_hash_table_insert (st->by_name, (gpointer)t->name, t))
        {
          set_corrupt_printf (error, t->file, _ ("two tensors are named “%s” (one with the “%s” prefix)"),
                              t->name, SAFETENSORS_COMFY_PREFIX);
          return FALSE;
        }
    }

  for (guint i = 0; i < st->tensors->len; i++)
    {
      SafetensorsTensor *t = g_ptr_array_index (st->tensors, i);
      g_autofree char *layer = NULL;
      SafetensorsTensor *weight;

      if (g_str_equal (t->name, "scaled_fp8"))
        {
          t->is_aux = TRUE;
          st->scaled_fp8 = TRUE;
          continue;
        }
      if (has_suffix_with_base (t->name, ".weight_scale", &layer)
          || has_suffix_with_base (t->name, ".scale_weight", &layer))
        {
          t->is_aux = TRUE;
          weight = lookup_weight_of (st, layer);
          if (weight == NULL)
            continue;
          if (weight->scale != NULL)
            {
              set_corrupt_printf (error, t->file, _ ("“%s” has both “scale_weight” and “weight_scale”"),
                                  weight->name);
              return FALSE;
            }
          if (!check_scale (weight, t, error))
            return FALSE;
          weight->scale = t;
        }
      else if (has_suffix_with_base (t->name, ".input_scale", &layer)
               || has_suffix_with_base (t->name, ".scale_input", &layer))
        {
          t->is_aux = TRUE;
          weight = lookup_weight_of (st, layer);
          if (weight != NULL)
            weight->input_scale = t;
        }
      else if (has_suffix_with_base (t->name, ".comfy_quant", &layer))
        {
          t->is_aux = TRUE;
          weight = lookup_weight_of (st, layer);
          if (weight == NULL)
            continue;
          if (t->dtype != SAFETENSORS_DTYPE_U8 && t->dtype != SAFETENSORS_DTYPE_I8)
            {
              set_corrupt_printf (error, t->file, _ ("the quantisation note “%s” is not a byte string"),
                                  t->name);
              return FALSE;
            }
          weight->quant_format
              = parse_quant_format (st, (const char *)t->data, t->n_bytes, t->name, t->file, error);
          if (weight->quant_format == NULL)
            return FALSE;
        }
    }
  return apply_quantization_metadata (st, error);
}

/* Opening */

static GBytes *
map_file (const char *path, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  GMappedFile *mapped;
  GBytes *bytes;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_IO,
                   _ ("“%s” is a folder, not a weight file; point to the file inside it."), path);
      return NULL;
    }
  mapped = g_mapped_file_new (path, FALSE, &local_error);
  if (mapped == NULL)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, takes_engine_error_from_file_error (local_error->code),
                   _ ("Could not open the weight file “%s”: %s."), path, local_error->message);
      return NULL;
    }
  bytes = g_mapped_file_get_bytes (mapped);
  g_mapped_file_unref (mapped);
  return bytes;
}

Safetensors *
safetensors_new_from_bytes (GBytes *bytes, const char *name, GError **error)
{
  g_autoptr (Safetensors) st = safetensors_new_empty (name);
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  gboolean ok;

  if (torch_zip_is_archive (data, size))
    ok = torch_zip_load (st, bytes, name, error);
  else
    ok = parse_file (st, bytes, name, st->metadata, error);
  if (!ok || !safetensors_finish (st, error))
    return NULL;
  return g_steal_pointer (&st);
}

static gboolean
shard_name_ok (const char *name)
{
  return *name != '\0' && strchr (name, '/') == NULL && strchr (name, '\\') == NULL
         && !g_str_equal (name, ".") && !g_str_equal (name, "..");
}

static Safetensors *
open_index (const char *path, GError **error)
{
  g_autoptr (Safetensors) st = safetensors_new_empty (path);
  g_autofree char *text = NULL;
  g_autofree char *dir = g_path_get_dirname (path);
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GHashTable) shards
      = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_ptr_array_unref);
  g_autoptr (GPtrArray) shard_order = g_ptr_array_new ();
  JsonObject *map;
  GList *names;
  gsize length = 0;
  gboolean ok = TRUE;

  if (!takes_engine_read_file (path, 64 * 1024 * 1024, &text, &length, error))
    return NULL;
  root = takes_engine_parse_json (text, length, path, error);
  if (root == NULL)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (root) || !json_object_has_member (json_node_get_object (root), "weight_map")
      || !JSON_NODE_HOLDS_OBJECT (json_object_get_member (json_node_get_object (root), "weight_map")))
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("The shard index “%s” has no “weight_map”. Download it again."), path);
      return NULL;
    }
  map = json_object_get_object_member (json_node_get_object (root), "weight_map");
  names = json_object_get_members (map);
  for (GList *l = names; l != NULL && ok; l = l->next)
    {
      JsonNode *node = json_object_get_member (map, l->data);
      const char *shard;
      GPtrArray *list;

      if (json_node_get_value_type (node) != G_TYPE_STRING
          || !shard_name_ok (shard = json_node_get_string (node)))
        {
          g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                       _ ("The shard index “%s” names no valid file for tensor “%s”. Download it again."),
                       path, (const char *)l->data);
          ok = FALSE;
          break;
        }
      list = g_hash_table_lookup (shards, shard);
      if (list == NULL)
        {
          list = g_ptr_array_new ();
          g_hash_table_insert (shards, (gpointer)shard, list);
          g_ptr_array_add (shard_order, (gpointer)shard);
        }
      g_ptr_array_add (list, l->data);
    }
  g_list_free (names);
  if (!ok)
    return NULL;
  if (shard_order->len == 0)
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
                   _ ("The shard index “%s” lists no tensors. Download it again."), path);
      return NULL;
    }
  g_ptr_array_sort (shard_order, compare_strings);

  for (guint i = 0; i < shard_order->len; i++)
    {
      const char *shard = g_ptr_array_index (shard_order, i);
      g_autofree char *shard_path = g_build_filename (dir, shard, NULL);
      g_autoptr (GBytes) bytes = NULL;
      guint first = st->tensors->len;
      GPtrArray *expected = g_hash_table_lookup (shards, shard);

      if (!g_file_test (shard_path, G_FILE_TEST_EXISTS))
        {
          g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_NOT_FOUND,
                       _ ("The shard “%s” listed in “%s” is missing. Download it into the same folder."),
                       shard_path, path);
          return NULL;
        }
      bytes = map_file (shard_path, error);
      if (bytes == NULL || !parse_file (st, bytes, shard_path, i == 0 ? st->metadata : NULL, error))
        return NULL;
      for (guint j = 0; j < expected->len; j++)
        {
          const char *name = g_ptr_array_index (expected, j);
          gboolean found = FALSE;

          for (guint k = first; k < st->tensors->len && !found; k++)
            found = g_str_equal (((SafetensorsTensor *)g_ptr_array_index (st->tensors, k))->name, name);
          if (!found)
            {
              g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_MISSING_TENSOR,
                           _ ("The shard “%s” lacks tensor “%s”, which “%s” places there. Download the shard "
                              "again."),
                           shard_path, name, path);
              return NULL;
            }
        }
    }
  if (!safetensors_finish (st, error))
    return NULL;
  return g_steal_pointer (&st);
}

Safetensors *
safetensors_open (const char *path, GError **error)
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (Safetensors) st = NULL;
  gsize size = 0;
  const guint8 *data;

  if (g_str_has_suffix (path, ".index.json"))
    return open_index (path, error);

  bytes = map_file (path, error);
  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &size);
  st = safetensors_new_empty (path);
  if (torch_zip_is_archive (data, size))
    {
      if (!torch_zip_load (st, bytes, path, error))
        return NULL;
    }
  else if (g_str_has_suffix (path, ".pth") || g_str_has_suffix (path, ".pt")
           || g_str_has_suffix (path, ".ckpt"))
    {
      g_autofree char *command = torch_zip_convert_command (path);

      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
                   _ ("“%s” is in PyTorch's legacy pickle format, which Takes does not read. Convert it to "
                      "safetensors with: %s"),
                   path, command);
      return NULL;
    }
  else if (!parse_file (st, bytes, path, st->metadata, error))
    return NULL;
  if (!safetensors_finish (st, error))
    return NULL;
  return g_steal_pointer (&st);
}

/* Conversion to F32 */

static float
half_to_float (guint16 h)
{
  guint32 sign = (guint32)(h & 0x8000) << 16;
  guint32 exp = (h >> 10) & 0x1F;
  guint32 mant = h & 0x3FF;
  guint32 bits;
  float f;

  if (exp == 0)
    {
      f = ldexpf ((float)mant, -24);
      return sign ? -f : f;
    }
  if (exp == 31)
    bits = sign | 0x7F800000u | (mant << 13);
  else
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  memcpy (&f, &bits, sizeof f);
  return f;
}

static float
f8_e4m3_to_float (guint8 b)
{
  int sign = b & 0x80;
  int exp = (b >> 3) & 0xF;
  int mant = b & 0x7;
  float f;

  if (exp == 0xF && mant == 0x7)
    return sign ? -NAN : NAN;
  if (exp == 0)
    f = ldexpf ((float)mant, -9);
  else
    f = ldexpf ((float)(8 + mant), exp - 10);
  return sign ? -f : f;
}

static float
f8_e5m2_to_float (guint8 b)
{
  return half_to_float ((guint16)(b << 8));
}

static gboolean
read_scale (const SafetensorsTensor *scale, gsize index, float *out, GError **error)
{
  if (scale->dtype == SAFETENSORS_DTYPE_F32)
    memcpy (out, scale->data + index * 4, 4);
  else if (scale->dtype == SAFETENSORS_DTYPE_F16 || scale->dtype == SAFETENSORS_DTYPE_BF16)
    {
      guint16 h;

      memcpy (&h, scale->data + index * 2, 2);
      h = GUINT16_FROM_LE (h);
      if (scale->dtype == SAFETENSORS_DTYPE_F16)
        *out = half_to_float (h);
      else
        {
          guint32 bits = (guint32)h << 16;
          memcpy (out, &bits, 4);
        }
    }
  else
    {
      g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
                   _ ("The scale “%s” in “%s” has the dtype %s, which Takes cannot use."), scale->name,
                   scale->file, safetensors_dtype_get_name (scale->dtype));
      return FALSE;
    }
  return TRUE;
}

gboolean
safetensors_tensor_read_f32 (const SafetensorsTensor *tensor, float *dst, gsize n_values, GError **error)
{
  gsize n = (gsize)tensor->n_elements;
  const guint8 *src = tensor->data;
  gsize row_len = 1;

  g_return_val_if_fail (n_values == n, FALSE);

  switch (tensor->dtype)
    {
      case SAFETENSORS_DTYPE_F32:
        memcpy (dst, src, n * 4);
        break;
      case SAFETENSORS_DTYPE_F16:
      case SAFETENSORS_DTYPE_BF16:
        for (gsize i = 0; i < n; i++)
          {
            guint16 h;

            memcpy (&h, src + 2 * i, 2);
            h = GUINT16_FROM_LE (h);
            if (tensor->dtype == SAFETENSORS_DTYPE_F16)
              dst[i] = half_to_float (h);
            else
              {
                guint32 bits = (guint32)h << 16;
                memcpy (&dst[i], &bits, 4);
              }
          }
        break;
      case SAFETENSORS_DTYPE_F8_E4M3:
        for (gsize i = 0; i < n; i++)
          dst[i] = f8_e4m3_to_float (src[i]);
        break;
      case SAFETENSORS_DTYPE_F8_E5M2:
        for (gsize i = 0; i < n; i++)
          dst[i] = f8_e5m2_to_float (src[i]);
        break;
      default:
        g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
                     _ ("Tensor “%s” in “%s” holds %s values, not floating-point weights."), tensor->name,
                     tensor->file, safetensors_dtype_get_name (tensor->dtype));
        return FALSE;
    }

  if (tensor->scale == NULL)
    return TRUE;
  if (tensor->scale->n_elements > 1)
    row_len = n / (gsize)tensor->scale->n_elements;
  for (gsize r = 0; r < (gsize)tensor->scale->n_elements; r++)
    {
      float s;

      if (!read_scale (tensor->scale, r, &s, error))
        return FALSE;
      if (tensor->scale->n_elements == 1)
        row_len = n;
      for (gsize i = r * row_len; i < (r + 1) * row_len; i++)
        dst[i] *= s;
    }
  return TRUE;
}
