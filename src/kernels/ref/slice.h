/* slice.h: dtype-generic reference strided slice (TFLite STRIDED_SLICE and SLICE). The op glue
 * resolves masks, negative indices and clamping; the kernel only walks the selected
 * positions. */
#ifndef TC_KERNELS_REF_SLICE_H
#define TC_KERNELS_REF_SLICE_H
#include <stddef.h>
#include <stdint.h>

#include "tensorc.h"

typedef struct tc_slice_params {
  int n_dims;                    /* input rank, 0..TC_MAX_DIMS */
  int32_t in_dims[TC_MAX_DIMS];  /* input extents */
  int32_t begin[TC_MAX_DIMS];    /* first index along each dim (valid when count > 0) */
  int32_t stride[TC_MAX_DIMS];   /* step along each dim (non-zero, may be negative) */
  int32_t count[TC_MAX_DIMS];    /* number of positions taken along each dim (>= 0) */
} tc_slice_params;

/* out (dense, row-major over count[]) [k0, k1, ...] = in[begin0 + k0 * stride0, ...]. Every
 * visited index must lie inside in_dims (the caller guarantees it). */
void tc_x_strided_slice__ref(const void *in, void *out, size_t elem_size,
                             const tc_slice_params *p);
#endif
