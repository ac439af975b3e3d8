/* tk-tensor.h: dtypes, tensor views, aligned memory and the status codes
 * shared by every kernel.
 *
 * A tensor is a small struct that describes memory: a dtype, up to five
 * dimensions, strides counted in elements (not bytes), a data pointer and, for
 * the 8-bit float dtypes, a per-tensor scale (real value = stored value ×
 * scale). It either owns its data (tk_tensor_new) or borrows it (views over
 * memory-mapped weights or over another tensor).
 *
 * The instruction set used by the vectorised kernels is chosen once at run
 * time. TK_ISA=portable|avx2|avx512 in the environment, or tk_isa_force (),
 * lowers it (never above what the CPU has), so tests can compare every path
 * against the portable one.
 */
#ifndef TK_TENSOR_H
#define TK_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C"
{
#endif

  /* Return codes of kernels that can fail. The engine maps them to GErrors. */
  typedef enum
  {
    TK_OK = 0,
    TK_ERR_INVALID = -1,     /* bad shape, dtype, stride or argument */
    TK_ERR_NOMEM = -2,       /* an allocation failed or a size overflowed */
    TK_ERR_UNSUPPORTED = -3, /* valid request this build or CPU cannot run */
  } tk_status;

  const char *tk_status_name (tk_status status);

  typedef enum
  {
    TK_DTYPE_F32 = 0,
    TK_DTYPE_F16,
    TK_DTYPE_BF16,
    TK_DTYPE_F8_E4M3, /* the "fn" variant: no infinities, max 448, NaN 0x7F/0xFF */
    TK_DTYPE_F8_E5M2, /* IEEE-like: infinities, max 57344 */
    TK_DTYPE_I32,
    TK_DTYPE_I64,
    TK_DTYPE_COUNT
  } tk_dtype;

  /* Bytes per element; 0 for a value outside the enum. */
  size_t tk_dtype_size (tk_dtype dtype);
  /* "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2", "I32", "I64" (the safetensors
   * spellings), or NULL for a value outside the enum. */
  const char *tk_dtype_name (tk_dtype dtype);
  /* 1 for the floating-point dtypes, 0 otherwise. */
  int tk_dtype_is_float (tk_dtype dtype);

#define TK_MAX_DIMS 5
#define TK_ALIGNMENT 64

  typedef struct
  {
    tk_dtype dtype;
    int ndim;
    int64_t shape[TK_MAX_DIMS];
    int64_t strides[TK_MAX_DIMS]; /* in elements */
    void *data;
    float scale; /* per-tensor dequantisation scale; 1 unless set for F8 */
    int owned;   /* data is freed with the tensor */
  } tk_tensor;

  /* A new contiguous tensor with zeroed, TK_ALIGNMENT-aligned data it owns.
   * Returns NULL for a bad dtype or shape (ndim outside [0, TK_MAX_DIMS], a
   * negative extent), a size that overflows, or when out of memory. */
  tk_tensor *tk_tensor_new (tk_dtype dtype, int ndim, const int64_t *shape);

  /* A heap-allocated view of memory it does not own. strides NULL means
   * contiguous row-major. Returns NULL on bad arguments or out of memory. */
  tk_tensor *
  tk_tensor_view (tk_dtype dtype, void *data, int ndim, const int64_t *shape, const int64_t *strides);

  /* Fills a caller-owned struct as a view, without allocating: for views made
   * in hot loops. Never pass such a struct to tk_tensor_free. */
  tk_status tk_tensor_init_view (
      tk_tensor *t, tk_dtype dtype, void *data, int ndim, const int64_t *shape, const int64_t *strides);

  /* Frees the struct, and the data when the tensor owns it. NULL is allowed. */
  void tk_tensor_free (tk_tensor *t);

  int64_t tk_tensor_numel (const tk_tensor *t);
  /* numel × element size. */
  size_t tk_tensor_nbytes (const tk_tensor *t);
  /* 1 when the strides are the row-major strides of the shape (extents of 1
   * may carry any stride). */
  int tk_tensor_is_contiguous (const tk_tensor *t);
  /* Writes the row-major strides of shape into strides. */
  void tk_contiguous_strides (int ndim, const int64_t *shape, int64_t *strides);

  /* Memory aligned to TK_ALIGNMENT bytes; from 2 MiB up, on a 2 MiB boundary,
   * rounded up to whole 2 MiB pages and marked for transparent huge pages
   * (MADV_HUGEPAGE). A size of 0 gives a valid pointer that must still be
   * freed. tk_aligned_calloc zeroes and checks n × size for
   * overflow. Both return NULL when out of memory. */
  void *tk_aligned_alloc (size_t size);
  void *tk_aligned_calloc (size_t n, size_t size);
  void tk_aligned_free (void *p);

  /* Instruction sets of the vectorised paths, in increasing order. */
  typedef enum
  {
    TK_ISA_PORTABLE = 0,
    TK_ISA_AVX2,   /* AVX2 + FMA + F16C */
    TK_ISA_AVX512, /* AVX-512 F, BW, DQ, VL */
  } tk_isa;

  /* The best set this CPU supports. */
  tk_isa tk_isa_detect (void);
  /* The set the kernels use now: the detected one, lowered by TK_ISA or
   * tk_isa_force (). */
  tk_isa tk_isa_active (void);
  /* Uses at most isa from now on (clamped to what the CPU has) and returns the
   * set in effect. Not for use while kernels run on other threads. */
  tk_isa tk_isa_force (tk_isa isa);
  const char *tk_isa_name (tk_isa isa);

#ifdef __cplusplus
}
#endif

#endif /* TK_TENSOR_H */
