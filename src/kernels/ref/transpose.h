/* transpose.h: dtype-generic reference transpose (TFLite TRANSPOSE), any rank up to
 * TC_MAX_DIMS. */
#ifndef TC_KERNELS_REF_TRANSPOSE_H
#define TC_KERNELS_REF_TRANSPOSE_H
#include <stddef.h>
#include <stdint.h>

#include "tensorc.h"

typedef struct tc_transpose_params {
  int n_dims;                   /* 0..TC_MAX_DIMS */
  int32_t in_dims[TC_MAX_DIMS]; /* input extents */
  int32_t perm[TC_MAX_DIMS];    /* output dim i is input dim perm[i]; a permutation of 0..n-1 */
} tc_transpose_params;

/* out[i0, ..., in-1] = in[j] where j[perm[d]] = i_d. Output extents are in_dims[perm[d]].
 * in and out must not overlap. */
void tc_x_transpose__ref(const void *in, void *out, size_t elem_size,
                         const tc_transpose_params *p);
#endif
