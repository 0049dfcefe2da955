/* transpose.c: reference transpose. An odometer runs over the output in row-major order; the
 * input offset is the sum of output index d times the input stride of dim perm[d]. */
#include <string.h>

#include "kernels/ref/transpose.h"

void tc_x_transpose__ref(const void *in, void *out, size_t elem_size,
                         const tc_transpose_params *p) {
  int nd = p->n_dims;
  size_t in_stride[TC_MAX_DIMS], out_dims[TC_MAX_DIMS], src_stride[TC_MAX_DIMS];
  size_t step = 1, total = 1;
  for (int d = nd - 1; d >= 0; d--) {
    in_stride[d] = step;
    step *= (size_t)p->in_dims[d];
  }
  for (int d = 0; d < nd; d++) {
    out_dims[d] = (size_t)p->in_dims[p->perm[d]];
    src_stride[d] = in_stride[p->perm[d]];
    total *= out_dims[d];
  }
  const unsigned char *src = in;
  unsigned char *dst = out;
  size_t k[TC_MAX_DIMS] = {0};
  for (size_t i = 0; i < total; i++) {
    size_t off = 0;
    for (int d = 0; d < nd; d++) off += k[d] * src_stride[d];
    memcpy(dst + i * elem_size, src + off * elem_size, elem_size);
    for (int d = nd - 1; d >= 0; d--) {
      if (++k[d] < out_dims[d]) break;
      k[d] = 0;
    }
  }
}
