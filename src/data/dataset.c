/* dataset.c: helpers on whole datasets held as persistent tensors: the number of classes, a
 * seeded in-place shuffle of rows (features and labels together) and copying a range of rows.
 * The training side (fit, the `tensorc train` CLI) uses them for splits and validation sets. */
#include <string.h>

#include "core/core.h"
#include "data/data.h"

int32_t tc_data_num_classes(const tc_tensor *labels) {
  if (!labels || tc_tensor_dtype(labels) != TC_DTYPE_I32) return 0;
  const int32_t *v = tc_tensor_i32_const(labels);
  size_t n = tc_tensor_size(labels);
  int32_t mx = -1;
  for (size_t i = 0; i < n; i++)
    if (v[i] > mx) mx = v[i];
  return mx + 1;
}

/* Bytes of one row (all dims but the first) of a tensor of rank >= 1. */
static size_t row_bytes(const tc_tensor *t) {
  size_t n = tc_tensor_size(t) / (size_t)tc_tensor_dim(t, 0);
  return n * tc_dtype_size(tc_tensor_dtype(t));
}

static void *data_of(tc_tensor *t) {
  return tc_tensor_dtype(t) == TC_DTYPE_F32 ? (void *)tc_tensor_f32(t) : (void *)tc_tensor_i32(t);
}

static uint64_t splitmix64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

tc_status tc_data_shuffle(tc_tensor *x, tc_tensor *y, uint64_t seed) {
  if (!x || tc_tensor_rank(x) < 1) return TC_ERR_ARG;
  int32_t n = tc_tensor_dim(x, 0);
  if (y && (tc_tensor_rank(y) < 1 || tc_tensor_dim(y, 0) != n)) return TC_ERR_ARG;
  size_t bx = row_bytes(x), by = y ? row_bytes(y) : 0;
  uint8_t *tmp = tc__malloc(TC_MAX(bx, by) + 1);
  if (!tmp) return TC_ERR_NOMEM;
  uint8_t *px = data_of(x), *py = y ? data_of(y) : NULL;
  uint64_t s = seed;
  /* Fisher-Yates from the end: row i swaps with a uniform row in [0, i]. */
  for (int32_t i = n - 1; i > 0; i--) {
    int32_t j = (int32_t)(splitmix64(&s) % (uint64_t)(i + 1));
    if (j == i) continue;
    memcpy(tmp, px + (size_t)i * bx, bx);
    memcpy(px + (size_t)i * bx, px + (size_t)j * bx, bx);
    memcpy(px + (size_t)j * bx, tmp, bx);
    if (py) {
      memcpy(tmp, py + (size_t)i * by, by);
      memcpy(py + (size_t)i * by, py + (size_t)j * by, by);
      memcpy(py + (size_t)j * by, tmp, by);
    }
  }
  tc__free(tmp);
  return TC_OK;
}

tc_status tc_data_rows(const tc_tensor *src, int64_t first, int64_t count, tc_tensor **out) {
  if (out) *out = NULL;
  if (!src || !out || tc_tensor_rank(src) < 1) return TC_ERR_ARG;
  int64_t n = tc_tensor_dim(src, 0);
  if (count == -1 && first >= 0 && first <= n) count = n - first;
  if (first < 0 || count < 1 || first > n || count > n - first) return TC_ERR_ARG;
  int rank = tc_tensor_rank(src);
  int32_t dims[TC_MAX_DIMS];
  memcpy(dims, tc_tensor_dims(src), (size_t)rank * sizeof dims[0]);
  dims[0] = (int32_t)count;
  size_t rb = row_bytes(src);
  const uint8_t *base = tc_tensor_dtype(src) == TC_DTYPE_F32
                            ? (const uint8_t *)tc_tensor_f32_const(src)
                            : (const uint8_t *)tc_tensor_i32_const(src);
  return tc_tensor_create_from(tc_tensor_dtype(src), rank, dims, base + (size_t)first * rb, out);
}

tc_status tc_data_cast(const tc_tensor *src, tc_dtype dtype, tc_tensor **out) {
  if (out) *out = NULL;
  if (!src || !out || (dtype != TC_DTYPE_F32 && dtype != TC_DTYPE_I32)) return TC_ERR_ARG;
  tc_dtype from = tc_tensor_dtype(src);
  if (from != TC_DTYPE_F32 && from != TC_DTYPE_I32) return TC_ERR_ARG;
  tc_status st = tc_tensor_create(dtype, tc_tensor_rank(src), tc_tensor_dims(src), out);
  if (st != TC_OK) return st;
  size_t n = tc_tensor_size(src);
  if (from == TC_DTYPE_F32 && dtype == TC_DTYPE_I32) {
    const float *s = tc_tensor_f32_const(src);
    int32_t *d = tc_tensor_i32(*out);
    for (size_t i = 0; i < n; i++)
      d[i] = s[i] != s[i] ? 0 : s[i] >= 2147483520.0f ? INT32_MAX
                                   : s[i] <= -2147483648.0f ? INT32_MIN : (int32_t)s[i];
  } else if (from == TC_DTYPE_I32 && dtype == TC_DTYPE_F32) {
    const int32_t *s = tc_tensor_i32_const(src);
    float *d = tc_tensor_f32(*out);
    for (size_t i = 0; i < n; i++) d[i] = (float)s[i];
  } else {
    memcpy(from == TC_DTYPE_F32 ? (void *)tc_tensor_f32(*out) : (void *)tc_tensor_i32(*out),
           from == TC_DTYPE_F32 ? (const void *)tc_tensor_f32_const(src)
                                : (const void *)tc_tensor_i32_const(src),
           n * 4);
  }
  return TC_OK;
}
