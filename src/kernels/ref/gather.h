/* gather.h: dtype-generic reference gather along one axis (TFLite GATHER with batch_dims 0).
 * params is viewed as [outer, axis_size, inner] elements, the output as
 * [outer, n_indices, inner]. */
#ifndef TC_KERNELS_REF_GATHER_H
#define TC_KERNELS_REF_GATHER_H
#include <stddef.h>
#include <stdint.h>

/* out[o, i, :] = params[o, indices[i], :]. Checks every index before copying anything: on an
 * index outside [0, axis_size) it writes nothing, stores the position of the first bad entry
 * in *bad_pos and returns 0; returns 1 on success. Never reads outside params. */
int tc_x_gather_i32__ref(const void *params, size_t elem_size, size_t outer, size_t axis_size,
                         size_t inner, const int32_t *indices, size_t n_indices, void *out,
                         size_t *bad_pos);
int tc_x_gather_i64__ref(const void *params, size_t elem_size, size_t outer, size_t axis_size,
                         size_t inner, const int64_t *indices, size_t n_indices, void *out,
                         size_t *bad_pos);
#endif
