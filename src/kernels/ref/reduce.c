/* reduce.c: reference float reductions over an axis mask (see reduce.h). The input is walked once
 * in memory order with an odometer over its coordinates; each element is folded into the output
 * slot whose index uses only the kept coordinates. */
#include <float.h>

#include "kernels/ref/reduce.h"

int tc_reduce_axes_mask(int n_dims, const int32_t *axes, int n_axes, uint32_t *mask) {
  uint32_t m = 0;
  for (int i = 0; i < n_axes; i++) {
    int32_t a = axes[i];
    if (a < -n_dims || a >= n_dims) return -1;
    if (a < 0) a += n_dims;
    m |= 1u << a;
  }
  *mask = m;
  return 0;
}

int tc_reduce_shape(int n_dims, const int32_t *dims, uint32_t mask, int keep_dims,
                    int32_t *out_dims) {
  int n = 0;
  for (int i = 0; i < n_dims; i++) {
    if (mask & (1u << i)) {
      if (keep_dims) out_dims[n++] = 1;
    } else {
      out_dims[n++] = dims[i];
    }
  }
  return n;
}

void tc_f32_reduce__ref(const float *in, int n_dims, const int32_t *dims, uint32_t mask,
                        tc_reduce_kind kind, float *out) {
  /* Strides of the output seen from input coordinates: 0 along reduced axes. */
  int64_t ostride[8], n_in = 1, n_out = 1;
  for (int i = n_dims - 1; i >= 0; i--) {
    ostride[i] = (mask & (1u << i)) ? 0 : n_out;
    if (!(mask & (1u << i))) n_out *= dims[i];
    n_in *= dims[i];
  }
  float init = 0.0f;
  if (kind == TC_REDUCE_PROD) init = 1.0f;
  else if (kind == TC_REDUCE_MAX) init = -FLT_MAX;
  else if (kind == TC_REDUCE_MIN) init = FLT_MAX;
  for (int64_t i = 0; i < n_out; i++) out[i] = init;

  int32_t idx[8] = {0};
  int64_t o = 0;
  for (int64_t i = 0; i < n_in; i++) {
    float v = in[i], *d = &out[o];
    switch (kind) {
    case TC_REDUCE_SUM:
    case TC_REDUCE_MEAN: *d += v; break;
    case TC_REDUCE_PROD: *d *= v; break;
    case TC_REDUCE_MAX: *d = *d > v ? *d : v; break;
    case TC_REDUCE_MIN: *d = *d < v ? *d : v; break;
    }
    /* Advance the odometer (last axis fastest) and the output offset with it. */
    for (int k = n_dims - 1; k >= 0; k--) {
      o += ostride[k];
      if (++idx[k] < dims[k]) break;
      o -= ostride[k] * dims[k];
      idx[k] = 0;
    }
  }
  if (kind == TC_REDUCE_MEAN) {
    /* Divide by the product of the reduced extents (0 gives NaN, as TFLite). */
    int64_t count = 1;
    for (int i = 0; i < n_dims; i++)
      if (mask & (1u << i)) count *= dims[i];
    for (int64_t i = 0; i < n_out; i++) out[i] = out[i] / (float)count;
  }
}
