/* torch-zip.c: state dicts saved by torch.save() in its zip format.
 *
 * The archive holds "<prefix>/data.pkl", a pickle of the state dict, and one
 * uncompressed entry "<prefix>/data/<key>" per storage. The pickle is run by a
 * restricted machine that knows only the opcodes torch.save() writes and
 * calls only the few constructors a state dict needs (OrderedDict and the
 * tensor rebuild functions); anything else is refused, so a hostile file can
 * neither run code nor make the loader allocate without bound. Tensors point
 * straight into the memory-mapped archive.
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "safetensors-private.h"
#include "takes-engine-private.h"

/* Zip */

typedef struct
{
  const guint8 *data;
  guint64 size;
} ZipEntry;

static guint16
rd16 (const guint8 *p)
{
  return (guint16)(p[0] | (p[1] << 8));
}

static guint32
rd32 (const guint8 *p)
{
  return (guint32)p[0] | ((guint32)p[1] << 8) | ((guint32)p[2] << 16) | ((guint32)p[3] << 24);
}

static guint64
rd64 (const guint8 *p)
{
  return (guint64)rd32 (p) | ((guint64)rd32 (p + 4) << 32);
}

gboolean
torch_zip_is_archive (const guint8 *data, gsize size)
{
  return size >= 4 && rd32 (data) == 0x04034b50;
}

char *
torch_zip_convert_command (const char *path)
{
  g_autoptr (GString) in = g_string_new (NULL);
  g_autoptr (GString) out = g_string_new (NULL);
  g_autofree char *base = NULL;
  g_autofree char *target = NULL;
  g_autofree char *code = NULL;
  g_autofree char *quoted = NULL;

  base = g_str_has_suffix (path, ".pth") ? g_strndup (path, strlen (path) - 4) : g_strdup (path);
  target = g_strconcat (base, ".safetensors", NULL);
  for (const char *p = path; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (in, '\\');
      g_string_append_c (in, *p);
    }
  for (const char *p = target; *p; p++)
    {
      if (*p == '"' || *p == '\\')
        g_string_append_c (out, '\\');
      g_string_append_c (out, *p);
    }
  code = g_strdup_printf (
      "import torch, safetensors.torch as s; d = torch.load(\"%s\", map_location=\"cpu\"); "
      "s.save_file({k: v.contiguous() for k, v in d.items()}, \"%s\")",
      in->str, out->str);
  quoted = g_shell_quote (code);
  return g_strconcat ("python3 -c ", quoted, NULL);
}

static void G_GNUC_PRINTF (3, 4) set_unsupported (GError **error, const char *path, const char *format, ...)
{
  g_autofree char *detail = NULL;
  g_autofree char *command = torch_zip_convert_command (path);
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_UNSUPPORTED,
               _ ("Takes cannot read the PyTorch file “%s” (%s). Convert it to safetensors with: %s"), path,
               detail, command);
}

static void G_GNUC_PRINTF (3, 4) set_corrupt (GError **error, const char *path, const char *format, ...)
{
  g_autofree char *detail = NULL;
  va_list args;

  va_start (args, format);
  detail = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, TAKES_ENGINE_ERROR, TAKES_ENGINE_ERROR_CORRUPT,
               _ ("The PyTorch file “%s” is damaged: %s. Download it again."), path, detail);
}

/* Reads the central directory into name → ZipEntry. */
static GHashTable *
read_zip (const guint8 *data, guint64 size, const char *path, GError **error)
{
  g_autoptr (GHashTable) entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  guint64 eocd = G_MAXUINT64;
  guint64 n_entries, cd_size, cd_offset, pos;
  guint64 search_start = size > 65557 ? size - 65557 : 0;

  if (size < 22)
    {
      set_corrupt (error, path, _ ("the archive is too short"));
      return NULL;
    }
  for (guint64 i = size - 22 + 1; i-- > search_start;)
    if (rd32 (data + i) == 0x06054b50)
      {
        eocd = i;
        break;
      }
  if (eocd == G_MAXUINT64)
    {
      set_corrupt (error, path, _ ("the archive has no central directory; it is probably truncated"));
      return NULL;
    }
  n_entries = rd16 (data + eocd + 10);
  cd_size = rd32 (data + eocd + 12);
  cd_offset = rd32 (data + eocd + 16);
  if (n_entries == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF)
    {
      guint64 z64;

      if (eocd < 20 || rd32 (data + eocd - 20) != 0x07064b50)
        {
          set_corrupt (error, path, _ ("the archive lacks its zip64 locator"));
          return NULL;
        }
      z64 = rd64 (data + eocd - 20 + 8);
      if (size < 56 || z64 > size - 56 || rd32 (data + z64) != 0x06064b50)
        {
          set_corrupt (error, path, _ ("the archive's zip64 directory is out of place"));
          return NULL;
        }
      n_entries = rd64 (data + z64 + 32);
      cd_size = rd64 (data + z64 + 40);
      cd_offset = rd64 (data + z64 + 48);
    }
  if (cd_offset > size || cd_size > size - cd_offset)
    {
      set_corrupt (error, path, _ ("the archive's directory lies outside the file"));
      return NULL;
    }

  pos = cd_offset;
  for (guint64 i = 0; i < n_entries; i++)
    {
      guint16 method, name_len, extra_len, comment_len;
      guint64 comp_size, uncomp_size, local;
      const guint8 *h = data + pos;
      ZipEntry *entry;
      char *name;

      if (pos > cd_offset + cd_size || cd_offset + cd_size - pos < 46 || rd32 (h) != 0x02014b50)
        {
          set_corrupt (error, path, _ ("the archive's directory is broken"));
          return NULL;
        }
      method = rd16 (h + 10);
      comp_size = rd32 (h + 20);
      uncomp_size = rd32 (h + 24);
      name_len = rd16 (h + 28);
      extra_len = rd16 (h + 30);
      comment_len = rd16 (h + 32);
      local = rd32 (h + 42);
      if (cd_offset + cd_size - pos < 46u + name_len + extra_len + comment_len)
        {
          set_corrupt (error, path, _ ("the archive's directory is broken"));
          return NULL;
        }
      /* Zip64 sizes and offsets live in extra field 1, in this order, for
       * the fields that are saturated. */
      for (guint e = 0; e + 4 <= extra_len;)
        {
          const guint8 *x = h + 46 + name_len + e;
          guint16 id = rd16 (x), len = rd16 (x + 2);
          guint off = 4;

          if (e + 4u + len > extra_len)
            break;
          if (id == 0x0001)
            {
              if (uncomp_size == 0xFFFFFFFF && off + 8 <= 4u + len)
                uncomp_size = rd64 (x + off), off += 8;
              if (comp_size == 0xFFFFFFFF && off + 8 <= 4u + len)
                comp_size = rd64 (x + off), off += 8;
              if (local == 0xFFFFFFFF && off + 8 <= 4u + len)
                local = rd64 (x + off), off += 8;
            }
          e += 4u + len;
        }
      name = g_strndup ((const char *)h + 46, name_len);
      if (local > size || size - local < 30 || rd32 (data + local) != 0x04034b50)
        {
          set_corrupt (error, path, _ ("the entry “%s” points outside the archive"), name);
          g_free (name);
          return NULL;
        }
      {
        guint64 start = local + 30 + rd16 (data + local + 26) + rd16 (data + local + 28);

        if (start > size || comp_size > size - start)
          {
            set_corrupt (error, path, _ ("the entry “%s” runs past the end of the archive; it is truncated"),
                         name);
            g_free (name);
            return NULL;
          }
        if (method != 0 || comp_size != uncomp_size)
          {
            set_unsupported (error, path, _ ("its entry “%s” is compressed"), name);
            g_free (name);
            return NULL;
          }
        entry = g_new0 (ZipEntry, 1);
        entry->data = data + start;
        entry->size = comp_size;
      }
      g_hash_table_replace (entries, name, entry);
      pos += 46u + name_len + extra_len + comment_len;
    }
  return g_steal_pointer (&entries);
}

/* The restricted unpickler */

typedef enum
{
  PV_MARK,
  PV_NONE,
  PV_BOOL,
  PV_INT,
  PV_FLOAT,
  PV_STRING,
  PV_TUPLE,
  PV_LIST,
  PV_DICT,
  PV_GLOBAL,
  PV_STORAGE,
  PV_TENSOR,
} PvKind;

typedef struct PyVal PyVal;

struct PyVal
{
  PvKind kind;
  gint64 i;
  double f;
  char *s;          /* string, or "module.name" of a global */
  GPtrArray *items; /* tuple and list items; dict keys and values alternating */
  /* storage */
  SafetensorsDtype dtype;
  const guint8 *data;
  guint64 n_elements;
  /* tensor */
  const PyVal *storage;
  gint64 offset;
  guint n_dims;
  gint64 shape[SAFETENSORS_MAX_DIMS];
};

typedef struct
{
  const char *path;
  const char *prefix;
  GHashTable *zip;
  GPtrArray *arena; /* every PyVal, freed together */
  GPtrArray *stack;
  GArray *marks;
  GHashTable *memo;
} Unpickler;

static void
pyval_free (PyVal *v)
{
  g_free (v->s);
  if (v->items != NULL)
    g_ptr_array_unref (v->items);
  g_free (v);
}

static PyVal *
pv_new (Unpickler *u, PvKind kind)
{
  PyVal *v = g_new0 (PyVal, 1);

  v->kind = kind;
  if (kind == PV_TUPLE || kind == PV_LIST || kind == PV_DICT)
    v->items = g_ptr_array_new ();
  g_ptr_array_add (u->arena, v);
  return v;
}

static const struct
{
  const char *name;
  SafetensorsDtype dtype;
} storage_types[] = {
  { "torch.FloatStorage", SAFETENSORS_DTYPE_F32 },
  { "torch.HalfStorage", SAFETENSORS_DTYPE_F16 },
  { "torch.BFloat16Storage", SAFETENSORS_DTYPE_BF16 },
  { "torch.DoubleStorage", SAFETENSORS_DTYPE_F64 },
  { "torch.LongStorage", SAFETENSORS_DTYPE_I64 },
  { "torch.IntStorage", SAFETENSORS_DTYPE_I32 },
  { "torch.ShortStorage", SAFETENSORS_DTYPE_I16 },
  { "torch.CharStorage", SAFETENSORS_DTYPE_I8 },
  { "torch.ByteStorage", SAFETENSORS_DTYPE_U8 },
  { "torch.BoolStorage", SAFETENSORS_DTYPE_BOOL },
  { "torch.Float8_e4m3fnStorage", SAFETENSORS_DTYPE_F8_E4M3 },
  { "torch.Float8_e5m2Storage", SAFETENSORS_DTYPE_F8_E5M2 },
};

static const char *const allowed_globals[] = {
  "collections.OrderedDict",
  "torch._utils._rebuild_tensor",
  "torch._utils._rebuild_tensor_v2",
  "torch._utils._rebuild_parameter",
  "torch._utils._rebuild_parameter_with_state",
  "torch._tensor._rebuild_from_type_v2",
  "torch.Tensor",
  "torch.nn.parameter.Parameter",
  "builtins.dict",
};

static gboolean
global_allowed (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (allowed_globals); i++)
    if (g_str_equal (name, allowed_globals[i]))
      return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (storage_types); i++)
    if (g_str_equal (name, storage_types[i].name))
      return TRUE;
  return FALSE;
}

static void
push (Unpickler *u, PyVal *v)
{
  g_ptr_array_add (u->stack, v);
}

static PyVal *
pop (Unpickler *u)
{
  if (u->stack->len == 0)
    return NULL;
  return g_ptr_array_steal_index (u->stack, u->stack->len - 1);
}

/* Pops everything above the last mark into a new tuple, list or dict. */
static PyVal *
pop_mark (Unpickler *u, PvKind kind)
{
  guint mark;
  PyVal *v;

  if (u->marks->len == 0)
    return NULL;
  mark = g_array_index (u->marks, guint, u->marks->len - 1);
  g_array_set_size (u->marks, u->marks->len - 1);
  if (mark > u->stack->len)
    return NULL;
  v = pv_new (u, kind);
  for (guint i = mark; i < u->stack->len; i++)
    g_ptr_array_add (v->items, g_ptr_array_index (u->stack, i));
  g_ptr_array_set_size (u->stack, mark);
  return v;
}

static gboolean
int_tuple (const PyVal *v, gint64 *out, guint *n, guint max)
{
  if (v == NULL || v->kind != PV_TUPLE || v->items->len > max)
    return FALSE;
  for (guint i = 0; i < v->items->len; i++)
    {
      const PyVal *x = g_ptr_array_index (v->items, i);
      if (x->kind != PV_INT)
        return FALSE;
      out[i] = x->i;
    }
  *n = v->items->len;
  return TRUE;
}

static PyVal *
rebuild_tensor (Unpickler *u, const PyVal *args, GError **error)
{
  const PyVal *storage, *offset;
  gint64 stride[SAFETENSORS_MAX_DIMS];
  guint n_stride = 0;
  guint64 n_elements = 1;
  gint64 expected = 1;
  PyVal *t;

  if (args->items->len < 4)
    {
      set_corrupt (error, u->path, _ ("a tensor is rebuilt with too few arguments"));
      return NULL;
    }
  storage = g_ptr_array_index (args->items, 0);
  offset = g_ptr_array_index (args->items, 1);
  t = pv_new (u, PV_TENSOR);
  if (storage->kind != PV_STORAGE || offset->kind != PV_INT || offset->i < 0
      || !int_tuple (g_ptr_array_index (args->items, 2), t->shape, &t->n_dims, SAFETENSORS_MAX_DIMS)
      || !int_tuple (g_ptr_array_index (args->items, 3), stride, &n_stride, SAFETENSORS_MAX_DIMS)
      || n_stride != t->n_dims)
    {
      set_corrupt (error, u->path, _ ("a tensor is rebuilt with arguments of the wrong kind"));
      return NULL;
    }
  for (guint i = 0; i < t->n_dims; i++)
    {
      if (t->shape[i] < 0 || (t->shape[i] != 0 && n_elements > G_MAXUINT64 / (guint64)t->shape[i]))
        {
          set_corrupt (error, u->path, _ ("a tensor has an impossible shape"));
          return NULL;
        }
      n_elements *= (guint64)t->shape[i];
    }
  /* Views with other strides would need a copy; torch.save of a state dict
   * writes contiguous tensors. */
  for (guint i = t->n_dims; i-- > 0;)
    {
      if (t->shape[i] != 1 && stride[i] != expected)
        {
          set_unsupported (error, u->path, _ ("a tensor is stored with non-contiguous strides"));
          return NULL;
        }
      expected *= t->shape[i];
    }
  if ((guint64)offset->i > storage->n_elements || n_elements > storage->n_elements - (guint64)offset->i)
    {
      set_corrupt (error, u->path, _ ("a tensor reaches past the end of its storage"));
      return NULL;
    }
  t->storage = storage;
  t->offset = offset->i;
  return t;
}

static PyVal *
call_global (Unpickler *u, const PyVal *callable, const PyVal *args, GError **error)
{
  const char *name = callable->s;

  if (args->kind != PV_TUPLE)
    {
      set_corrupt (error, u->path, _ ("a call has no argument tuple"));
      return NULL;
    }
  if (g_str_equal (name, "collections.OrderedDict") || g_str_equal (name, "builtins.dict"))
    {
      if (args->items->len != 0)
        {
          set_unsupported (error, u->path, _ ("a dictionary is built from arguments"));
          return NULL;
        }
      return pv_new (u, PV_DICT);
    }
  if (g_str_equal (name, "torch._utils._rebuild_tensor_v2")
      || g_str_equal (name, "torch._utils._rebuild_tensor"))
    return rebuild_tensor (u, args, error);
  if (g_str_equal (name, "torch._utils._rebuild_parameter")
      || g_str_equal (name, "torch._utils._rebuild_parameter_with_state"))
    {
      PyVal *data = args->items->len > 0 ? g_ptr_array_index (args->items, 0) : NULL;

      if (data == NULL || data->kind != PV_TENSOR)
        {
          set_corrupt (error, u->path, _ ("a parameter wraps something that is not a tensor"));
          return NULL;
        }
      return data;
    }
  if (g_str_equal (name, "torch._tensor._rebuild_from_type_v2"))
    {
      const PyVal *func = args->items->len >= 3 ? g_ptr_array_index (args->items, 0) : NULL;
      const PyVal *type = args->items->len >= 3 ? g_ptr_array_index (args->items, 1) : NULL;
      const PyVal *inner = args->items->len >= 3 ? g_ptr_array_index (args->items, 2) : NULL;

      if (func == NULL || func->kind != PV_GLOBAL || type->kind != PV_GLOBAL
          || (!g_str_equal (type->s, "torch.Tensor")
              && !g_str_equal (type->s, "torch.nn.parameter.Parameter"))
          || g_str_equal (func->s, "torch._tensor._rebuild_from_type_v2"))
        {
          set_unsupported (error, u->path, _ ("a tensor has a subclass Takes does not know"));
          return NULL;
        }
      return call_global (u, func, inner, error);
    }
  set_unsupported (error, u->path, _ ("it calls “%s”"), name);
  return NULL;
}

static PyVal *
persistent_load (Unpickler *u, const PyVal *pid, GError **error)
{
  const PyVal *type, *key, *numel;
  g_autofree char *entry_name = NULL;
  const ZipEntry *entry;
  PyVal *storage;
  guint i;

  if (pid->kind != PV_TUPLE || pid->items->len < 5
      || ((const PyVal *)g_ptr_array_index (pid->items, 0))->kind != PV_STRING
      || !g_str_equal (((const PyVal *)g_ptr_array_index (pid->items, 0))->s, "storage"))
    {
      set_corrupt (error, u->path, _ ("a persistent reference is not a storage"));
      return NULL;
    }
  type = g_ptr_array_index (pid->items, 1);
  key = g_ptr_array_index (pid->items, 2);
  numel = g_ptr_array_index (pid->items, 4);
  if (type->kind != PV_GLOBAL || key->kind != PV_STRING || numel->kind != PV_INT || numel->i < 0)
    {
      set_corrupt (error, u->path, _ ("a storage reference has the wrong fields"));
      return NULL;
    }
  for (i = 0; i < G_N_ELEMENTS (storage_types); i++)
    if (g_str_equal (type->s, storage_types[i].name))
      break;
  if (i == G_N_ELEMENTS (storage_types))
    {
      set_unsupported (error, u->path, _ ("it has a storage of type “%s”"), type->s);
      return NULL;
    }
  entry_name = g_strconcat (u->prefix, "data/", key->s, NULL);
  entry = g_hash_table_lookup (u->zip, entry_name);
  if (entry == NULL)
    {
      set_corrupt (error, u->path, _ ("the storage “%s” is missing"), entry_name);
      return NULL;
    }
  if ((guint64)numel->i > entry->size / safetensors_dtype_get_size (storage_types[i].dtype))
    {
      set_corrupt (error, u->path, _ ("the storage “%s” is shorter than its size says"), entry_name);
      return NULL;
    }
  storage = pv_new (u, PV_STORAGE);
  storage->dtype = storage_types[i].dtype;
  storage->data = entry->data;
  storage->n_elements = (guint64)numel->i;
  return storage;
}

static gboolean
dict_set (Unpickler *u, PyVal *dict, PyVal *key, PyVal *value, GError **error)
{
  if (dict == NULL || dict->kind != PV_DICT || key == NULL || value == NULL)
    {
      set_corrupt (error, u->path, _ ("an item is set on something that is not a dictionary"));
      return FALSE;
    }
  g_ptr_array_add (dict->items, key);
  g_ptr_array_add (dict->items, value);
  return TRUE;
}

#define NEED(n)                                                                                              \
  G_STMT_START                                                                                               \
  {                                                                                                          \
    if ((gsize)(end - p) < (gsize)(n))                                                                       \
      goto truncated;                                                                                        \
  }                                                                                                          \
  G_STMT_END

static PyVal *
run_pickle (Unpickler *u, const guint8 *p, const guint8 *end, GError **error)
{
  while (p < end)
    {
      guint8 op = *p++;
      PyVal *v, *a, *b;
      guint64 n;

      switch (op)
        {
          case 0x80: /* PROTO */
            NEED (1);
            p++;
            break;
          case 0x95: /* FRAME */
            NEED (8);
            p += 8;
            break;
          case '.': /* STOP */
            v = pop (u);
            if (v == NULL)
              goto malformed;
            return v;
          case '(': /* MARK */
            g_array_append_val (u->marks, u->stack->len);
            break;
          case '}': /* EMPTY_DICT */
            push (u, pv_new (u, PV_DICT));
            break;
          case ']': /* EMPTY_LIST */
            push (u, pv_new (u, PV_LIST));
            break;
          case ')': /* EMPTY_TUPLE */
            push (u, pv_new (u, PV_TUPLE));
            break;
          case 'N':
            push (u, pv_new (u, PV_NONE));
            break;
          case 0x88: /* NEWTRUE */
          case 0x89: /* NEWFALSE */
            v = pv_new (u, PV_BOOL);
            v->i = op == 0x88;
            push (u, v);
            break;
          case 'K': /* BININT1 */
            NEED (1);
            v = pv_new (u, PV_INT);
            v->i = *p++;
            push (u, v);
            break;
          case 'M': /* BININT2 */
            NEED (2);
            v = pv_new (u, PV_INT);
            v->i = rd16 (p);
            p += 2;
            push (u, v);
            break;
          case 'J': /* BININT */
            NEED (4);
            v = pv_new (u, PV_INT);
            v->i = (gint32)rd32 (p);
            p += 4;
            push (u, v);
            break;
          case 0x8a: /* LONG1 */
            {
              guint len;
              guint64 x = 0;

              NEED (1);
              len = *p++;
              NEED (len);
              if (len > 8)
                goto malformed;
              for (guint i = 0; i < len; i++)
                x |= (guint64)p[i] << (8 * i);
              if (len > 0 && len < 8 && (p[len - 1] & 0x80))
                x |= G_MAXUINT64 << (8 * len);
              v = pv_new (u, PV_INT);
              v->i = (gint64)x;
              p += len;
              push (u, v);
              break;
            }
          case 'G': /* BINFLOAT, big-endian */
            {
              guint64 bits = 0;

              NEED (8);
              for (int i = 0; i < 8; i++)
                bits = (bits << 8) | p[i];
              p += 8;
              v = pv_new (u, PV_FLOAT);
              memcpy (&v->f, &bits, sizeof v->f);
              push (u, v);
              break;
            }
          case 'X':  /* BINUNICODE */
          case 0x8c: /* SHORT_BINUNICODE */
          case 0x8d: /* BINUNICODE8 */
          case 'T':  /* BINSTRING */
          case 'U':  /* SHORT_BINSTRING */
            if (op == 0x8c || op == 'U')
              {
                NEED (1);
                n = *p++;
              }
            else if (op == 0x8d)
              {
                NEED (8);
                n = rd64 (p);
                p += 8;
              }
            else
              {
                NEED (4);
                n = rd32 (p);
                p += 4;
              }
            NEED (n);
            v = pv_new (u, PV_STRING);
            v->s = g_strndup ((const char *)p, (gsize)n);
            p += n;
            push (u, v);
            break;
          case 'c': /* GLOBAL module\nname\n */
            {
              const guint8 *nl1 = memchr (p, '\n', (gsize)(end - p));
              const guint8 *nl2 = nl1 != NULL ? memchr (nl1 + 1, '\n', (gsize)(end - nl1 - 1)) : NULL;

              if (nl2 == NULL)
                goto truncated;
              v = pv_new (u, PV_GLOBAL);
              v->s = g_strdup_printf ("%.*s.%.*s", (int)(nl1 - p), (const char *)p, (int)(nl2 - nl1 - 1),
                                      (const char *)nl1 + 1);
              p = nl2 + 1;
              if (!global_allowed (v->s))
                {
                  set_unsupported (error, u->path, _ ("it refers to “%s”"), v->s);
                  return NULL;
                }
              push (u, v);
              break;
            }
          case 0x93: /* STACK_GLOBAL */
            b = pop (u);
            a = pop (u);
            if (a == NULL || b == NULL || a->kind != PV_STRING || b->kind != PV_STRING)
              goto malformed;
            v = pv_new (u, PV_GLOBAL);
            v->s = g_strconcat (a->s, ".", b->s, NULL);
            if (!global_allowed (v->s))
              {
                set_unsupported (error, u->path, _ ("it refers to “%s”"), v->s);
                return NULL;
              }
            push (u, v);
            break;
          case 'q':  /* BINPUT */
          case 'r':  /* LONG_BINPUT */
          case 0x94: /* MEMOIZE */
            if (op == 'q')
              {
                NEED (1);
                n = *p++;
              }
            else if (op == 'r')
              {
                NEED (4);
                n = rd32 (p);
                p += 4;
              }
            else
              n = g_hash_table_size (u->memo);
            if (u->stack->len == 0)
              goto malformed;
            g_hash_table_insert (u->memo, GSIZE_TO_POINTER ((gsize)n + 1),
                                 g_ptr_array_index (u->stack, u->stack->len - 1));
            break;
          case 'h': /* BINGET */
          case 'j': /* LONG_BINGET */
            if (op == 'h')
              {
                NEED (1);
                n = *p++;
              }
            else
              {
                NEED (4);
                n = rd32 (p);
                p += 4;
              }
            v = g_hash_table_lookup (u->memo, GSIZE_TO_POINTER ((gsize)n + 1));
            if (v == NULL)
              goto malformed;
            push (u, v);
            break;
          case 't': /* TUPLE */
          case 'l': /* LIST */
            v = pop_mark (u, op == 't' ? PV_TUPLE : PV_LIST);
            if (v == NULL)
              goto malformed;
            push (u, v);
            break;
          case 0x85: /* TUPLE1 */
          case 0x86: /* TUPLE2 */
          case 0x87: /* TUPLE3 */
            {
              guint k = op - 0x84;

              if (u->stack->len < k)
                goto malformed;
              v = pv_new (u, PV_TUPLE);
              for (guint i = u->stack->len - k; i < u->stack->len; i++)
                g_ptr_array_add (v->items, g_ptr_array_index (u->stack, i));
              g_ptr_array_set_size (u->stack, u->stack->len - k);
              push (u, v);
              break;
            }
          case 'd': /* DICT */
            a = pop_mark (u, PV_TUPLE);
            if (a == NULL || a->items->len % 2 != 0)
              goto malformed;
            v = pv_new (u, PV_DICT);
            for (guint i = 0; i < a->items->len; i++)
              g_ptr_array_add (v->items, g_ptr_array_index (a->items, i));
            push (u, v);
            break;
          case 's': /* SETITEM */
            b = pop (u);
            a = pop (u);
            v = u->stack->len > 0 ? g_ptr_array_index (u->stack, u->stack->len - 1) : NULL;
            if (!dict_set (u, v, a, b, error))
              return NULL;
            break;
          case 'u': /* SETITEMS */
            a = pop_mark (u, PV_TUPLE);
            v = u->stack->len > 0 ? g_ptr_array_index (u->stack, u->stack->len - 1) : NULL;
            if (a == NULL || a->items->len % 2 != 0)
              goto malformed;
            for (guint i = 0; i < a->items->len; i += 2)
              if (!dict_set (u, v, g_ptr_array_index (a->items, i), g_ptr_array_index (a->items, i + 1),
                             error))
                return NULL;
            break;
          case 'a': /* APPEND */
            b = pop (u);
            v = u->stack->len > 0 ? g_ptr_array_index (u->stack, u->stack->len - 1) : NULL;
            if (b == NULL || v == NULL || v->kind != PV_LIST)
              goto malformed;
            g_ptr_array_add (v->items, b);
            break;
          case 'e': /* APPENDS */
            a = pop_mark (u, PV_TUPLE);
            v = u->stack->len > 0 ? g_ptr_array_index (u->stack, u->stack->len - 1) : NULL;
            if (a == NULL || v == NULL || v->kind != PV_LIST)
              goto malformed;
            for (guint i = 0; i < a->items->len; i++)
              g_ptr_array_add (v->items, g_ptr_array_index (a->items, i));
            break;
          case 'Q': /* BINPERSID */
            a = pop (u);
            if (a == NULL)
              goto malformed;
            v = persistent_load (u, a, error);
            if (v == NULL)
              return NULL;
            push (u, v);
            break;
          case 'R': /* REDUCE */
            b = pop (u);
            a = pop (u);
            if (a == NULL || b == NULL || a->kind != PV_GLOBAL)
              goto malformed;
            v = call_global (u, a, b, error);
            if (v == NULL)
              return NULL;
            push (u, v);
            break;
          case 'b': /* BUILD: the state of an OrderedDict or Parameter carries nothing a tensor needs */
            if (pop (u) == NULL || u->stack->len == 0)
              goto malformed;
            break;
          default:
            set_unsupported (error, u->path, _ ("its pickle uses opcode 0x%02x"), op);
            return NULL;
        }
    }
truncated:
  set_corrupt (error, u->path, _ ("its data.pkl ends early"));
  return NULL;
malformed:
  set_corrupt (error, u->path, _ ("its data.pkl is malformed"));
  return NULL;
}

static gboolean
dict_is_state_dict (const PyVal *dict)
{
  for (guint i = 0; i + 1 < dict->items->len; i += 2)
    if (((const PyVal *)g_ptr_array_index (dict->items, i + 1))->kind == PV_TENSOR)
      return TRUE;
  return FALSE;
}

gboolean
torch_zip_load (Safetensors *st, GBytes *bytes, const char *path, GError **error)
{
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (bytes, &size);
  g_autoptr (GHashTable) zip = NULL;
  g_autofree char *prefix = NULL;
  const ZipEntry *pkl = NULL;
  GHashTableIter iter;
  gpointer key, value;
  Unpickler u = { 0 };
  PyVal *root;
  gboolean ok = FALSE;

  zip = read_zip (data, size, path, error);
  if (zip == NULL)
    return FALSE;
  g_hash_table_iter_init (&iter, zip);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const char *name = key;
      const char *slash = strchr (name, '/');

      if (slash != NULL && g_str_equal (slash + 1, "data.pkl"))
        {
          if (pkl != NULL)
            {
              set_unsupported (error, path, _ ("it holds more than one pickle"));
              return FALSE;
            }
          pkl = value;
          prefix = g_strndup (name, (gsize)(slash - name + 1));
        }
    }
  if (pkl == NULL)
    {
      set_unsupported (error, path, _ ("it is a zip archive without data.pkl"));
      return FALSE;
    }
  {
    g_autofree char *order_name = g_strconcat (prefix, "byteorder", NULL);
    const ZipEntry *order = g_hash_table_lookup (zip, order_name);

    if (order != NULL && !(order->size == 6 && memcmp (order->data, "little", 6) == 0))
      {
        set_unsupported (error, path, _ ("it was saved on a big-endian machine"));
        return FALSE;
      }
  }

  u.path = path;
  u.prefix = prefix;
  u.zip = zip;
  u.arena = g_ptr_array_new_with_free_func ((GDestroyNotify)pyval_free);
  u.stack = g_ptr_array_new ();
  u.marks = g_array_new (FALSE, FALSE, sizeof (guint));
  u.memo = g_hash_table_new (NULL, NULL);

  root = run_pickle (&u, pkl->data, pkl->data + pkl->size, error);
  if (root != NULL && root->kind == PV_DICT && !dict_is_state_dict (root))
    {
      /* Checkpoints that wrap the state dict ({"state_dict": …}, {"model": …}). */
      PyVal *inner = NULL;

      for (guint i = 0; i + 1 < root->items->len; i += 2)
        {
          PyVal *v = g_ptr_array_index (root->items, i + 1);
          if (v->kind == PV_DICT && dict_is_state_dict (v))
            inner = inner == NULL ? v : inner;
        }
      if (inner != NULL)
        root = inner;
    }
  if (root != NULL && (root->kind != PV_DICT || !dict_is_state_dict (root)))
    set_unsupported (error, path, _ ("it holds no state dict of tensors"));
  else if (root != NULL)
    {
      ok = TRUE;
      for (guint i = 0; ok && i + 1 < root->items->len; i += 2)
        {
          const PyVal *k = g_ptr_array_index (root->items, i);
          const PyVal *t = g_ptr_array_index (root->items, i + 1);
          gsize elsize;
          guint64 n_elements = 1;

          if (t->kind != PV_TENSOR)
            continue;
          if (k->kind != PV_STRING || !g_utf8_validate (k->s, -1, NULL))
            {
              set_corrupt (error, path, _ ("a tensor has a name that is not text"));
              ok = FALSE;
              break;
            }
          elsize = safetensors_dtype_get_size (t->storage->dtype);
          for (guint d = 0; d < t->n_dims; d++)
            n_elements *= (guint64)t->shape[d];
          ok = safetensors_add_tensor (st, k->s, path, t->storage->dtype, t->n_dims, t->shape,
                                       t->storage->data + (gsize)t->offset * elsize,
                                       (gsize)(n_elements * elsize), error);
        }
    }
  if (ok)
    safetensors_keep_bytes (st, bytes);

  g_ptr_array_unref (u.stack);
  g_array_unref (u.marks);
  g_hash_table_unref (u.memo);
  g_ptr_array_unref (u.arena);
  return ok;
}
