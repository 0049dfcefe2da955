/* slice.c: reference strided slice. An odometer runs over the output positions in row-major
 * order; for each it computes the input offset from begin + k * stride along every dim and
 * copies one element. */
#include <string.h>

#include "kernels/ref/slice.h"

void tc_x_strided_slice__ref(const void *in, void *out, size_t elem_size,
                             const tc_slice_params *p) {
  int nd = p->n_dims;
  size_t total = 1;
  int64_t in_stride[TC_MAX_DIMS];
  int64_t step = 1;
  for (int d = nd - 1; d >= 0; d--) {
    in_stride[d] = step;
    step *= p->in_dims[d];
    total *= (size_t)(p->count[d] < 0 ? 0 : p->count[d]);
  }
  const unsigned char *src = in;
  unsigned char *dst = out;
  int64_t k[TC_MAX_DIMS] = {0};
  for (size_t i = 0; i < total; i++) {
    int64_t off = 0;
    for (int d = 0; d < nd; d++) off += ((int64_t)p->begin[d] + k[d] * p->stride[d]) * in_stride[d];
    memcpy(dst + i * elem_size, src + (size_t)off * elem_size, elem_size);
    for (int d = nd - 1; d >= 0; d--) {
      if (++k[d] < p->count[d]) break;
      k[d] = 0;
    }
  }
}
