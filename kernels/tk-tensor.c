/* tk-tensor.c: dtype tables, tensor views, aligned memory, ISA selection. */
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include "tk-tensor.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* Allocations from this size up are placed on 2 MiB boundaries and offered
 * transparent huge pages. */
#define HUGE_PAGE (2u * 1024 * 1024)

static const struct
{
  const char *name;
  size_t size;
  int is_float;
} dtype_info[TK_DTYPE_COUNT] = {
  [TK_DTYPE_F32] = { "F32", 4, 1 },         [TK_DTYPE_F16] = { "F16", 2, 1 },
  [TK_DTYPE_BF16] = { "BF16", 2, 1 },       [TK_DTYPE_F8_E4M3] = { "F8_E4M3", 1, 1 },
  [TK_DTYPE_F8_E5M2] = { "F8_E5M2", 1, 1 }, [TK_DTYPE_I32] = { "I32", 4, 0 },
  [TK_DTYPE_I64] = { "I64", 8, 0 },
};

static int
dtype_valid (tk_dtype dtype)
{
  return (int)dtype >= 0 && dtype < TK_DTYPE_COUNT;
}

const char *
tk_status_name (tk_status status)
{
  switch (status)
    {
      case TK_OK:
        return "ok";
      case TK_ERR_INVALID:
        return "invalid argument";
      case TK_ERR_NOMEM:
        return "out of memory";
      case TK_ERR_UNSUPPORTED:
        return "unsupported";
    }
  return "unknown status";
}

size_t
tk_dtype_size (tk_dtype dtype)
{
  return dtype_valid (dtype) ? dtype_info[dtype].size : 0;
}

const char *
tk_dtype_name (tk_dtype dtype)
{
  return dtype_valid (dtype) ? dtype_info[dtype].name : NULL;
}

int
tk_dtype_is_float (tk_dtype dtype)
{
  return dtype_valid (dtype) ? dtype_info[dtype].is_float : 0;
}

void *
tk_aligned_alloc (size_t size)
{
  void *p = NULL;

  /* Rounding up keeps whole cache lines and makes size 0 a real allocation. */
  if (size > SIZE_MAX - TK_ALIGNMENT)
    return NULL;
  size = (size + TK_ALIGNMENT - 1) / TK_ALIGNMENT * TK_ALIGNMENT;
  if (size == 0)
    size = TK_ALIGNMENT;
  /* Weights, activations and convolution outputs are walked with large
   * strides (a channel plane per row of a product's tile): on 4 KiB pages
   * those walks miss the TLB on almost every row. Where the system gives
   * huge pages only on request (transparent_hugepage=madvise), ask. */
  if (size >= HUGE_PAGE)
    {
      size_t rounded = (size + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;

      if (rounded >= size && posix_memalign (&p, HUGE_PAGE, rounded) == 0)
        {
#ifdef MADV_HUGEPAGE
          madvise (p, rounded, MADV_HUGEPAGE);
#endif
          return p;
        }
      p = NULL;
    }
  if (posix_memalign (&p, TK_ALIGNMENT, size) != 0)
    return NULL;
  return p;
}

void *
tk_aligned_calloc (size_t n, size_t size)
{
  void *p;

  if (size != 0 && n > SIZE_MAX / size)
    return NULL;
  p = tk_aligned_alloc (n * size);
  if (p != NULL)
    memset (p, 0, n * size);
  return p;
}

void
tk_aligned_free (void *p)
{
  free (p);
}

void
tk_contiguous_strides (int ndim, const int64_t *shape, int64_t *strides)
{
  int64_t s = 1;

  for (int i = ndim - 1; i >= 0; i--)
    {
      strides[i] = s;
      s *= shape[i] > 0 ? shape[i] : 1;
    }
}

/* Checks the shape and computes its element count without overflow. */
static int
shape_numel (int ndim, const int64_t *shape, int64_t *numel)
{
  int64_t n = 1;

  if (ndim < 0 || ndim > TK_MAX_DIMS || (ndim > 0 && shape == NULL))
    return 0;
  for (int i = 0; i < ndim; i++)
    {
      if (shape[i] < 0)
        return 0;
      if (shape[i] != 0 && n > INT64_MAX / shape[i])
        return 0;
      n *= shape[i];
    }
  *numel = n;
  return 1;
}

tk_status
tk_tensor_init_view (
    tk_tensor *t, tk_dtype dtype, void *data, int ndim, const int64_t *shape, const int64_t *strides)
{
  int64_t numel;

  if (t == NULL || !dtype_valid (dtype) || !shape_numel (ndim, shape, &numel))
    return TK_ERR_INVALID;
  if (data == NULL && numel > 0)
    return TK_ERR_INVALID;
  memset (t, 0, sizeof *t);
  t->dtype = dtype;
  t->ndim = ndim;
  for (int i = 0; i < ndim; i++)
    t->shape[i] = shape[i];
  if (strides != NULL)
    for (int i = 0; i < ndim; i++)
      t->strides[i] = strides[i];
  else
    tk_contiguous_strides (ndim, t->shape, t->strides);
  t->data = data;
  t->scale = 1.0f;
  t->owned = 0;
  return TK_OK;
}

tk_tensor *
tk_tensor_new (tk_dtype dtype, int ndim, const int64_t *shape)
{
  tk_tensor *t;
  int64_t numel;
  void *data;

  if (!dtype_valid (dtype) || !shape_numel (ndim, shape, &numel))
    return NULL;
  if ((uint64_t)numel > SIZE_MAX / tk_dtype_size (dtype))
    return NULL;
  data = tk_aligned_calloc ((size_t)numel, tk_dtype_size (dtype));
  if (data == NULL)
    return NULL;
  t = malloc (sizeof *t);
  if (t == NULL)
    {
      tk_aligned_free (data);
      return NULL;
    }
  tk_tensor_init_view (t, dtype, data, ndim, shape, NULL);
  t->owned = 1;
  return t;
}

tk_tensor *
tk_tensor_view (tk_dtype dtype, void *data, int ndim, const int64_t *shape, const int64_t *strides)
{
  tk_tensor tmp;
  tk_tensor *t;

  if (tk_tensor_init_view (&tmp, dtype, data, ndim, shape, strides) != TK_OK)
    return NULL;
  t = malloc (sizeof *t);
  if (t == NULL)
    return NULL;
  *t = tmp;
  return t;
}

void
tk_tensor_free (tk_tensor *t)
{
  if (t == NULL)
    return;
  if (t->owned)
    tk_aligned_free (t->data);
  free (t);
}

int64_t
tk_tensor_numel (const tk_tensor *t)
{
  int64_t n = 1;

  for (int i = 0; i < t->ndim; i++)
    n *= t->shape[i];
  return n;
}

size_t
tk_tensor_nbytes (const tk_tensor *t)
{
  return (size_t)tk_tensor_numel (t) * tk_dtype_size (t->dtype);
}

int
tk_tensor_is_contiguous (const tk_tensor *t)
{
  int64_t expected = 1;

  for (int i = t->ndim - 1; i >= 0; i--)
    {
      if (t->shape[i] == 0)
        return 1;
      if (t->shape[i] != 1 && t->strides[i] != expected)
        return 0;
      expected *= t->shape[i];
    }
  return 1;
}

/* -1 until the first query; then the lowered set. */
static atomic_int active_isa = -1;

#if defined(__x86_64__) || defined(__i386__)
/* F16C is read from CPUID directly: clang's __builtin_cpu_supports does not
 * know the name. AVX2 (checked beside it) already implies OS support for the
 * YMM state F16C uses. */
static int
cpu_has_f16c (void)
{
  unsigned int a, b, c, d;

  if (!__get_cpuid (1, &a, &b, &c, &d))
    return 0;
  return (c & bit_F16C) != 0;
}
#endif

tk_isa
tk_isa_detect (void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init ();
  if (__builtin_cpu_supports ("avx512f") && __builtin_cpu_supports ("avx512bw")
      && __builtin_cpu_supports ("avx512dq") && __builtin_cpu_supports ("avx512vl")
      && __builtin_cpu_supports ("fma") && __builtin_cpu_supports ("avx2") && cpu_has_f16c ())
    return TK_ISA_AVX512;
  if (__builtin_cpu_supports ("avx2") && __builtin_cpu_supports ("fma") && cpu_has_f16c ())
    return TK_ISA_AVX2;
#endif
  return TK_ISA_PORTABLE;
}

static tk_isa
isa_from_env (tk_isa detected)
{
  const char *env = getenv ("TK_ISA");
  tk_isa wanted = detected;

  if (env == NULL)
    return detected;
  if (strcmp (env, "portable") == 0)
    wanted = TK_ISA_PORTABLE;
  else if (strcmp (env, "avx2") == 0)
    wanted = TK_ISA_AVX2;
  else if (strcmp (env, "avx512") == 0)
    wanted = TK_ISA_AVX512;
  return wanted < detected ? wanted : detected;
}

tk_isa
tk_isa_active (void)
{
  int isa = atomic_load_explicit (&active_isa, memory_order_relaxed);

  if (isa < 0)
    {
      isa = (int)isa_from_env (tk_isa_detect ());
      atomic_store_explicit (&active_isa, isa, memory_order_relaxed);
    }
  return (tk_isa)isa;
}

tk_isa
tk_isa_force (tk_isa isa)
{
  tk_isa detected = tk_isa_detect ();

  if ((int)isa < 0)
    isa = TK_ISA_PORTABLE;
  if (isa > detected)
    isa = detected;
  atomic_store_explicit (&active_isa, (int)isa, memory_order_relaxed);
  return isa;
}

const char *
tk_isa_name (tk_isa isa)
{
  switch (isa)
    {
      case TK_ISA_PORTABLE:
        return "portable";
      case TK_ISA_AVX2:
        return "avx2";
      case TK_ISA_AVX512:
        return "avx512";
    }
  return "unknown";
}
