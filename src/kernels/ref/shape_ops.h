/* shape_ops.h: dtype-generic reference kernels that only move bytes: concatenation and split
 * along one axis (also used for PACK / UNPACK). The element type does not matter: every size is
 * in bytes. A tensor is viewed as [outer, axis * inner]; along the concatenation axis each
 * operand contributes one contiguous chunk per outer step. */
#ifndef TC_KERNELS_REF_SHAPE_OPS_H
#define TC_KERNELS_REF_SHAPE_OPS_H
#include <stddef.h>

/* Concatenates `n_inputs` operands: for each of the `outer` steps, the output receives
 * chunk_bytes[0] bytes of inputs[0], then chunk_bytes[1] bytes of inputs[1], ...
 * chunk_bytes[i] = (extent of input i along the axis) * inner * element size. The output must
 * not overlap any input. */
void tc_x_concat__ref(size_t outer, int n_inputs, const void *const *inputs,
                      const size_t *chunk_bytes, void *out);

/* The inverse of tc_x_concat__ref: cuts `in` into `n_outputs` operands. */
void tc_x_split__ref(size_t outer, const void *in, int n_outputs, void *const *outputs,
                     const size_t *chunk_bytes);

/* Writes `n` copies of the element at `value` (elem_size bytes) to out. */
void tc_x_fill__ref(void *out, size_t n, const void *value, size_t elem_size);

#endif
