/* ops_reduce.c: sum, mean and max over a set of axes (keepdims or not). The input is walked in
 * memory order with a multi-index; each element maps to an output offset through strides that
 * are 0 along reduced axes, so any axis set works without transposing. reduce_max records the
 * flat index of each group's first maximum when the tape records. */
#include <float.h>
#include <string.h>

#include "train/train.h"

enum { R_SUM, R_MEAN, R_MAX };
static const char *const red_names[] = {"reduce_sum", "reduce_mean", "reduce_max"};

/* Output offsets: ost[d] is the output stride of input dim d (0 if reduced). */
static void out_strides(const tc_tensor *x, const int *mask, size_t *ost) {
  size_t s = 1;
  for (int d = x->rank - 1; d >= 0; d--) {
    ost[d] = mask[d] ? 0 : s;
    if (!mask[d]) s *= (size_t)x->dims[d];
  }
}

/* Calls BODY(i, off) for every input element i with its output offset off. */
#define FOR_EACH(x, ost, BODY)                                                              \
  do {                                                                                      \
    int r_ = (x)->rank;                                                                     \
    if (r_ == 0) {                                                                          \
      size_t i = 0, off = 0;                                                                \
      BODY;                                                                                 \
      break;                                                                                \
    }                                                                                       \
    int32_t idx_[TC_MAX_DIMS] = {0};                                                        \
    size_t inner_ = (size_t)(x)->dims[r_ - 1], so_ = (ost)[r_ - 1], base_ = 0, i = 0;       \
    for (size_t o_ = 0; o_ < (x)->size / inner_; o_++) {                                    \
      for (size_t j_ = 0; j_ < inner_; j_++, i++) {                                         \
        size_t off = base_ + j_ * so_;                                                      \
        BODY;                                                                               \
      }                                                                                     \
      for (int d_ = r_ - 2; d_ >= 0; d_--) {                                                \
        idx_[d_]++;                                                                         \
        base_ += (ost)[d_];                                                                 \
        if (idx_[d_] < (x)->dims[d_]) break;                                                \
        base_ -= (ost)[d_] * (size_t)(x)->dims[d_];                                         \
        idx_[d_] = 0;                                                                       \
      }                                                                                     \
    }                                                                                       \
  } while (0)

/* Sum of n floats with 8 independent partial sums (vectorisable, and more accurate than one
 * running sum). */
static float sum_f(const float *x, size_t n) {
  float acc[8] = {0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int k = 0; k < 8; k++) acc[k] += x[i + k];
  float s = 0;
  for (; i < n; i++) s += x[i];
  for (int k = 0; k < 8; k++) s += acc[k];
  return s;
}

/* Shape classes with fast loops: the reduced axes are all axes, a leading block [0, k) (the
 * output is one row: add rows), or a trailing block [k, r) (one sum per row). */
enum { K_GENERIC, K_ALL, K_LEAD, K_TRAIL };
static int classify(const tc_tensor *x, const int *mask, size_t *inner) {
  int r = x->rank, k = 0, all = 1;
  for (int d = 0; d < r; d++) all &= mask[d];
  if (all) return K_ALL;
  while (k < r && mask[k]) k++;
  int lead = 1;
  for (int d = k; d < r; d++) lead &= !mask[d];
  if (lead) {
    *inner = 1;
    for (int d = k; d < r; d++) *inner *= (size_t)x->dims[d];
    return K_LEAD;
  }
  k = 0;
  while (k < r && !mask[k]) k++;
  int trail = 1;
  for (int d = k; d < r; d++) trail &= mask[d];
  if (trail) {
    *inner = 1;
    for (int d = k; d < r; d++) *inner *= (size_t)x->dims[d];
    return K_TRAIL;
  }
  return K_GENERIC;
}

static tc_status sum_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  tc_tensor *x = nd->in[0];
  float *dx = tc__tr_grad(ctx, x);
  if (!dx) return TC_ERR_NOMEM;
  const size_t *ost = nd->extra;
  float scale = nd->f[0];
  size_t inner = (size_t)nd->i[1], n = x->size;
  switch (nd->i[0]) {
  case K_ALL:
    for (size_t i = 0; i < n; i++) dx[i] += g[0] * scale;
    break;
  case K_LEAD:
    for (size_t i = 0; i < n; i += inner)
      for (size_t j = 0; j < inner; j++) dx[i + j] += g[j] * scale;
    break;
  case K_TRAIL:
    for (size_t i = 0, o = 0; i < n; i += inner, o++)
      for (size_t j = 0; j < inner; j++) dx[i + j] += g[o] * scale;
    break;
  default: FOR_EACH(x, ost, dx[i] += g[off] * scale); break;
  }
  return TC_OK;
}

static tc_status max_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  float *dx = tc__tr_grad(ctx, nd->in[0]);
  if (!dx) return TC_ERR_NOMEM;
  const size_t *arg = nd->extra;
  for (size_t j = 0; j < nd->out->size; j++) dx[arg[j]] += g[j];
  return TC_OK;
}

static tc_status reduce(tc_train_ctx *ctx, int op, const tc_tensor *x, int n_axes,
                        const int *axes, int keepdims, tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  const char *name = red_names[op];
  tc_status st = tc__tr_check(ctx, name, "x", x, TC_DTYPE_F32);
  if (st) return st;
  char sx[96];
  int mask[TC_MAX_DIMS] = {0};
  if (n_axes < 0 || (n_axes > 0 && !axes))
    return tc__tr_err(ctx, TC_ERR_ARG, "%s: invalid axes list", name);
  if (n_axes == 0) {
    for (int d = 0; d < x->rank; d++) mask[d] = 1;
  }
  for (int k = 0; k < n_axes; k++) {
    int a = axes[k] < 0 ? axes[k] + x->rank : axes[k];
    if (a < 0 || a >= x->rank || mask[a])
      return tc__tr_err(ctx, TC_ERR_ARG, "%s: axis %d is out of range or repeated for shape %s",
                     name, axes[k], tc__tr_shape(x, sx, sizeof sx));
    mask[a] = 1;
  }
  int32_t od[TC_MAX_DIMS];
  int r = 0;
  size_t count = 1;
  for (int d = 0; d < x->rank; d++) {
    if (mask[d]) {
      count *= (size_t)x->dims[d];
      if (keepdims) od[r++] = 1;
    } else {
      od[r++] = x->dims[d];
    }
  }
  tc_tensor *y;
  if ((st = tc__tr_new(ctx, TC_DTYPE_F32, r, od, op != R_MAX, &y))) return st;
  size_t ost[TC_MAX_DIMS];
  out_strides(x, mask, ost);
  const float *px = tc__f(x);
  float *py = tc__f(y);
  int rec = tc__want_node(ctx, x, NULL, NULL);
  if (op == R_MAX) {
    size_t *arg = NULL;
    if (rec && !(arg = tc__tr_alloc(ctx, y->size * sizeof(size_t)))) return TC_ERR_NOMEM;
    for (size_t j = 0; j < y->size; j++) py[j] = -FLT_MAX;
    unsigned char *seen = tc__tr_alloc(ctx, y->size);
    if (!seen) return TC_ERR_NOMEM;
    memset(seen, 0, y->size);
    FOR_EACH(x, ost, {
      if (!seen[off] || px[i] > py[off]) {
        py[off] = px[i];
        seen[off] = 1;
        if (arg) arg[off] = i;
      }
    });
    if (rec) {
      tc__node *nd = tc__tr_record(ctx, name, max_backward, y, 1, &x);
      if (!nd) return TC_ERR_NOMEM;
      nd->extra = arg;
    }
  } else {
    size_t inner = 1;
    int kind = classify(x, mask, &inner);
    if (kind == K_ALL) {
      py[0] = sum_f(px, x->size);
    } else if (kind == K_LEAD) {
      for (size_t i = 0; i < x->size; i += inner)
        for (size_t j = 0; j < inner; j++) py[j] += px[i + j];
    } else if (kind == K_TRAIL) {
      for (size_t o = 0; o < y->size; o++) py[o] = sum_f(px + o * inner, inner);
    } else {
      FOR_EACH(x, ost, py[off] += px[i]);
    }
    float scale = op == R_MEAN ? 1.0f / (float)count : 1.0f;
    if (op == R_MEAN)
      for (size_t j = 0; j < y->size; j++) py[j] *= scale;
    if (rec) {
      tc__node *nd = tc__tr_record(ctx, name, sum_backward, y, 1, &x);
      size_t *keep = nd ? tc__tr_alloc(ctx, sizeof ost) : NULL;
      if (!keep) return TC_ERR_NOMEM;
      memcpy(keep, ost, sizeof ost);
      nd->extra = keep;
      nd->f[0] = scale;
      nd->i[0] = kind;
      nd->i[1] = (int)inner;
    }
  }
  *out = y;
  return TC_OK;
}

tc_status tc_reduce_sum(tc_train_ctx *ctx, const tc_tensor *x, int n_axes, const int *axes,
                        int keepdims, tc_tensor **out) {
  return reduce(ctx, R_SUM, x, n_axes, axes, keepdims, out);
}
tc_status tc_reduce_mean(tc_train_ctx *ctx, const tc_tensor *x, int n_axes, const int *axes,
                         int keepdims, tc_tensor **out) {
  return reduce(ctx, R_MEAN, x, n_axes, axes, keepdims, out);
}
tc_status tc_reduce_max(tc_train_ctx *ctx, const tc_tensor *x, int n_axes, const int *axes,
                        int keepdims, tc_tensor **out) {
  return reduce(ctx, R_MAX, x, n_axes, axes, keepdims, out);
}
