/* pad.h: dtype-generic reference constant padding (TFLite PAD / PADV2). Sizes of elements are
 * in bytes; dims and paddings are in elements. */
#ifndef TC_KERNELS_REF_PAD_H
#define TC_KERNELS_REF_PAD_H
#include <stddef.h>
#include <stdint.h>

#include "tensorc.h"

typedef struct tc_pad_params {
  int n_dims;                       /* 0..TC_MAX_DIMS */
  int32_t in_dims[TC_MAX_DIMS];     /* input extents */
  int32_t before[TC_MAX_DIMS];      /* elements added in front along each dim (>= 0) */
  int32_t after[TC_MAX_DIMS];       /* elements added behind along each dim (>= 0) */
} tc_pad_params;

/* out[i + before] = in[i]; every other output element is a copy of *pad_value (elem_size
 * bytes). Output extents are in_dims + before + after. in and out must not overlap. */
void tc_x_pad__ref(const void *in, void *out, size_t elem_size, const tc_pad_params *p,
                   const void *pad_value);
#endif
