/* takes-kernels.h: every public header of the kernels library.
 *
 * Plain C (no GLib). See tk-gemm.h for how OpenBLAS's threads and the
 * tk_pool share the cores.
 */
#ifndef TAKES_KERNELS_H
#define TAKES_KERNELS_H

#include "tk-tensor.h"
#include "tk-threadpool.h"
#include "tk-convert.h"
#include "tk-gemm.h"
#include "tk-ops.h"
#include "tk-rope.h"
#include "tk-attention.h"
#include "tk-conv.h"

#endif /* TAKES_KERNELS_H */
