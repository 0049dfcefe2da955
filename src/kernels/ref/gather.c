/* gather.c: reference gather. Validates all indices first (so a bad index leaves the output
 * untouched and nothing is read out of bounds), then copies one contiguous `inner` run per
 * (outer, index) pair. */
#include <string.h>

#include "kernels/ref/gather.h"

#define GATHER_BODY(indices)                                                                  \
  for (size_t i = 0; i < n_indices; i++) {                                                    \
    if (indices[i] < 0 || (uint64_t)indices[i] >= (uint64_t)axis_size) {                     \
      *bad_pos = i;                                                                           \
      return 0;                                                                               \
    }                                                                                         \
  }                                                                                           \
  size_t run = inner * elem_size;                                                             \
  const unsigned char *src = params;                                                          \
  unsigned char *dst = out;                                                                   \
  for (size_t o = 0; o < outer; o++)                                                          \
    for (size_t i = 0; i < n_indices; i++) {                                                  \
      if (run)                                                                                \
        memcpy(dst + (o * n_indices + i) * run,                                               \
               src + (o * axis_size + (size_t)indices[i]) * run, run);                        \
    }                                                                                         \
  return 1;

int tc_x_gather_i32__ref(const void *params, size_t elem_size, size_t outer, size_t axis_size,
                         size_t inner, const int32_t *indices, size_t n_indices, void *out,
                         size_t *bad_pos) {
  GATHER_BODY(indices)
}

int tc_x_gather_i64__ref(const void *params, size_t elem_size, size_t outer, size_t axis_size,
                         size_t inner, const int64_t *indices, size_t n_indices, void *out,
                         size_t *bad_pos) {
  GATHER_BODY(indices)
}
