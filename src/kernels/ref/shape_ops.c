/* shape_ops.c: reference concatenation / split / fill on raw bytes (see shape_ops.h). Plain
 * memcpy loops: the ground truth for any optimised variant. */
#include <string.h>

#include "kernels/ref/shape_ops.h"

void tc_x_concat__ref(size_t outer, int n_inputs, const void *const *inputs,
                      const size_t *chunk_bytes, void *out) {
  unsigned char *dst = out;
  for (size_t o = 0; o < outer; o++) {
    for (int i = 0; i < n_inputs; i++) {
      const unsigned char *src = (const unsigned char *)inputs[i] + o * chunk_bytes[i];
      if (chunk_bytes[i]) memcpy(dst, src, chunk_bytes[i]);
      dst += chunk_bytes[i];
    }
  }
}

void tc_x_split__ref(size_t outer, const void *in, int n_outputs, void *const *outputs,
                     const size_t *chunk_bytes) {
  const unsigned char *src = in;
  for (size_t o = 0; o < outer; o++) {
    for (int i = 0; i < n_outputs; i++) {
      unsigned char *dst = (unsigned char *)outputs[i] + o * chunk_bytes[i];
      if (chunk_bytes[i]) memcpy(dst, src, chunk_bytes[i]);
      src += chunk_bytes[i];
    }
  }
}

void tc_x_fill__ref(void *out, size_t n, const void *value, size_t elem_size) {
  unsigned char *dst = out;
  for (size_t i = 0; i < n; i++) memcpy(dst + i * elem_size, value, elem_size);
}
