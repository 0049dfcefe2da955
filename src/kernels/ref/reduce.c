/* reduce.c: reference float and quantized reductions over an axis mask (see reduce.h). The input is walked once
 * in memory order with an odometer over its coordinates; each element is folded into the output
 * slot whose index uses only the kept coordinates. */
#include <float.h>

#include "kernels/ref/qmath.h"
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

/* a * b for element counts, without overflow: 0 when either is 0 (a [2^31, 2^31, 2^31, 0]
 * tensor has no elements, whatever order the dims are multiplied in), else saturating. */
static int64_t count_mul(int64_t a, int32_t b) {
  if (a == 0 || b <= 0) return 0;
  return a > INT64_MAX / b ? INT64_MAX : a * b;
}

void tc_f32_reduce__ref(const float *in, int n_dims, const int32_t *dims, uint32_t mask,
                        tc_reduce_kind kind, float *out) {
  /* Strides of the output seen from input coordinates: 0 along reduced axes. */
  int64_t ostride[8], n_in = 1, n_out = 1;
  for (int i = n_dims - 1; i >= 0; i--) {
    ostride[i] = (mask & (1u << i)) ? 0 : n_out;
    if (!(mask & (1u << i))) n_out = count_mul(n_out, dims[i]);
    n_in = count_mul(n_in, dims[i]);
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
      if (mask & (1u << i)) count = count_mul(count, dims[i]);
    for (int64_t i = 0; i < n_out; i++) out[i] = out[i] / (float)count;
  }
}

/* ---- quantized reductions ---------------------------------------------------------------- */

static int32_t q_load(tc_dtype t, const void *p, int64_t i) {
  if (t == TC_DTYPE_I8) return ((const int8_t *)p)[i];
  if (t == TC_DTYPE_U8) return ((const uint8_t *)p)[i];
  return ((const int16_t *)p)[i];
}

static void q_store(tc_dtype t, void *p, int64_t i, int32_t v) {
  if (t == TC_DTYPE_I8) ((int8_t *)p)[i] = (int8_t)v;
  else if (t == TC_DTYPE_U8) ((uint8_t *)p)[i] = (uint8_t)v;
  else ((int16_t *)p)[i] = (int16_t)v;
}

size_t tc_q_reduce_scratch_size(int n_dims, const int32_t *dims, uint32_t mask) {
  size_t n_out = 1;
  for (int i = 0; i < n_dims; i++)
    if (!(mask & (1u << i))) n_out *= (size_t)dims[i];
  return n_out * sizeof(int32_t);
}

/* Index of the highest set bit of a non-zero value: floor(log2 v). */
static int floor_log2_u64(uint64_t v) {
  int k = -1;
  while (v) {
    v >>= 1;
    k++;
  }
  return k;
}

int tc_q_reduce__ref(tc_dtype dtype, const void *in, int n_dims, const int32_t *dims,
                     uint32_t mask, tc_reduce_kind kind, const tc_qreduce_params *p, int32_t *acc,
                     void *out) {
  int32_t lo, hi;
  if (dtype == TC_DTYPE_I8) lo = INT8_MIN, hi = INT8_MAX;
  else if (dtype == TC_DTYPE_U8) lo = 0, hi = UINT8_MAX;
  else if (dtype == TC_DTYPE_I16) lo = INT16_MIN, hi = INT16_MAX;
  else return 0;
  if (kind == TC_REDUCE_PROD || n_dims < 0 || n_dims > 8) return 0;

  int64_t ostride[8], n_in = 1, n_out = 1, count = 1;
  for (int i = n_dims - 1; i >= 0; i--) {
    ostride[i] = (mask & (1u << i)) ? 0 : n_out;
    if (mask & (1u << i)) count = count_mul(count, dims[i]);
    else n_out = count_mul(n_out, dims[i]);
    n_in = count_mul(n_in, dims[i]);
  }
  int32_t init = kind == TC_REDUCE_MAX ? lo : (kind == TC_REDUCE_MIN ? hi : 0);
  for (int64_t i = 0; i < n_out; i++) acc[i] = init;
  if (n_in == 0) { /* an empty input: zeros (MEAN, SUM) or the start values (MAX, MIN) */
    for (int64_t i = 0; i < n_out; i++) q_store(dtype, out, i, init);
    return 1;
  }

  /* Walk the input in memory order; the output offset follows the kept coordinates. */
  int32_t idx[8] = {0};
  int64_t o = 0;
  for (int64_t i = 0; i < n_in; i++) {
    int32_t v = q_load(dtype, in, i);
    int32_t *d = &acc[o];
    switch (kind) {
    case TC_REDUCE_MAX: *d = v > *d ? v : *d; break;
    case TC_REDUCE_MIN: *d = v < *d ? v : *d; break;
    default: *d = (int32_t)((uint32_t)*d + (uint32_t)v); break; /* wrapping sum */
    }
    for (int k = n_dims - 1; k >= 0; k--) {
      o += ostride[k];
      if (++idx[k] < dims[k]) break;
      o -= ostride[k] * dims[k];
      idx[k] = 0;
    }
  }

  if (kind == TC_REDUCE_MAX || kind == TC_REDUCE_MIN) {
    for (int64_t i = 0; i < n_out; i++) q_store(dtype, out, i, acc[i]);
    return 1;
  }
  if (kind == TC_REDUCE_MEAN && p->same_quant) {
    for (int64_t i = 0; i < n_out; i++) q_store(dtype, out, i, acc[i] / (int32_t)count);
    return 1;
  }
  int32_t mult = p->mult;
  int shift = p->shift;
  if (kind == TC_REDUCE_MEAN) {
    /* Fold 1/count into the multiplier, keeping as many bits as the shift range allows. */
    int k = floor_log2_u64((uint64_t)count);
    if (k > 32) k = 32;
    if (k > 31 + shift) k = 31 + shift;
    mult = (int32_t)(((int64_t)mult << k) / count);
    shift -= k;
  }
  for (int64_t i = 0; i < n_out; i++) {
    int32_t s = (int32_t)(uint32_t)((int64_t)acc[i] - (int64_t)p->in_zp * count);
    int64_t v = (int64_t)tc_q_mul(s, mult, shift) + p->out_zp;
    q_store(dtype, out, i, v < lo ? lo : (v > hi ? hi : (int32_t)v));
  }
  return 1;
}
