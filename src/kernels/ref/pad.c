/* pad.c: reference constant padding. Step 1 fills the whole output with the pad value; step 2
 * walks every innermost row of the input (an odometer over all dims but the last) and copies it
 * to its shifted place in the output. */
#include <string.h>

#include "kernels/ref/pad.h"
#include "kernels/ref/shape_ops.h"

void tc_x_pad__ref(const void *in, void *out, size_t elem_size, const tc_pad_params *p,
                   const void *pad_value) {
  int nd = p->n_dims;
  size_t out_dims[TC_MAX_DIMS], out_stride[TC_MAX_DIMS], total = 1, in_total = 1;
  for (int d = 0; d < nd; d++) {
    out_dims[d] = (size_t)p->in_dims[d] + (size_t)p->before[d] + (size_t)p->after[d];
    total *= out_dims[d];
    in_total *= (size_t)p->in_dims[d];
  }
  size_t step = 1;
  for (int d = nd - 1; d >= 0; d--) {
    out_stride[d] = step;
    step *= out_dims[d];
  }
  tc_x_fill__ref(out, total, pad_value, elem_size);
  if (in_total == 0) return;
  if (nd == 0) {
    memcpy(out, in, elem_size);
    return;
  }
  size_t row = (size_t)p->in_dims[nd - 1];
  size_t n_rows = in_total / row;
  size_t idx[TC_MAX_DIMS] = {0};
  const unsigned char *src = in;
  unsigned char *dst = out;
  for (size_t r = 0; r < n_rows; r++) {
    size_t off = (size_t)p->before[nd - 1];
    for (int d = 0; d < nd - 1; d++) off += (idx[d] + (size_t)p->before[d]) * out_stride[d];
    memcpy(dst + off * elem_size, src + r * row * elem_size, row * elem_size);
    for (int d = nd - 2; d >= 0; d--) { /* advance the odometer over the outer dims */
      if (++idx[d] < (size_t)p->in_dims[d]) break;
      idx[d] = 0;
    }
  }
}
