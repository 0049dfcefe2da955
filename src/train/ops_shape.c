/* ops_shape.c: reshape (a view sharing the data), transpose, concat, slice and gather (rows,
 * for Embedding). Forward copies move 4-byte elements, so they also work on int32 tensors;
 * backward is the matching scatter-add into the input gradients. */
#include <string.h>

#include "train/train.h"

/* ---- reshape ---- */

static tc_status reshape_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  float *dx = tc__tr_grad(ctx, nd->in[0]);
  if (!dx) return TC_ERR_NOMEM;
  for (size_t i = 0; i < nd->out->size; i++) dx[i] += g[i];
  return TC_OK;
}

tc_status tc_reshape(tc_train_ctx *ctx, const tc_tensor *x, int rank, const int32_t *dims,
                     tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  if (!x) return tc__tr_err(ctx, TC_ERR_ARG, "reshape: x is NULL");
  char sx[96];
  tc__tr_shape(x, sx, sizeof sx);
  if (rank < 0 || rank > TC_MAX_DIMS || (rank && !dims))
    return tc__tr_err(ctx, TC_ERR_ARG, "reshape: invalid target rank %d for %s", rank, sx);
  int32_t od[TC_MAX_DIMS];
  int infer = -1;
  size_t known = 1;
  for (int i = 0; i < rank; i++) {
    od[i] = dims[i];
    if (dims[i] == -1 && infer < 0) {
      infer = i;
    } else if (dims[i] < 1) {
      return tc__tr_err(ctx, TC_ERR_ARG, "reshape: dim %d of the target is %d (input %s)", i,
                     (int)dims[i], sx);
    } else {
      known *= (size_t)dims[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x->size % known)
      return tc__tr_err(ctx, TC_ERR_ARG, "reshape: cannot infer dim %d: %zu elements of %s are "
                     "not a multiple of %zu", infer, x->size, sx, known);
    od[infer] = (int32_t)(x->size / known);
    known *= (size_t)od[infer];
  }
  if (known != x->size)
    return tc__tr_err(ctx, TC_ERR_ARG, "reshape: input %s has %zu elements, target has %zu", sx,
                   x->size, known);
  tc_tensor *y;
  tc_status st = tc_tensor_wrap(ctx, x->dtype, rank, od, x->data, &y);
  if (st) return st;
  if (x->dtype == TC_DTYPE_F32 && tc__want_node(ctx, x, NULL, NULL) &&
      !tc__tr_record(ctx, "reshape", reshape_backward, y, 1, &x))
    return TC_ERR_NOMEM;
  *out = y;
  return TC_OK;
}

/* ---- transpose ---- */

/* For every output element (in memory order) the input offset: out[i] <-> in[off]. */
#define FOR_PERM(y, ist, BODY)                                                              \
  do {                                                                                      \
    int r_ = (y)->rank;                                                                     \
    int32_t idx_[TC_MAX_DIMS] = {0};                                                        \
    size_t off = 0;                                                                         \
    for (size_t i = 0; i < (y)->size; i++) {                                                \
      BODY;                                                                                 \
      for (int d_ = r_ - 1; d_ >= 0; d_--) {                                                \
        idx_[d_]++;                                                                         \
        off += (ist)[d_];                                                                   \
        if (idx_[d_] < (y)->dims[d_]) break;                                                \
        off -= (ist)[d_] * (size_t)(y)->dims[d_];                                           \
        idx_[d_] = 0;                                                                       \
      }                                                                                     \
    }                                                                                       \
  } while (0)

static tc_status transpose_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  float *dx = tc__tr_grad(ctx, nd->in[0]);
  if (!dx) return TC_ERR_NOMEM;
  const size_t *ist = nd->extra;
  FOR_PERM(nd->out, ist, dx[off] += g[i]);
  return TC_OK;
}

tc_status tc_transpose(tc_train_ctx *ctx, const tc_tensor *x, const int *perm, tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  if (!x) return tc__tr_err(ctx, TC_ERR_ARG, "transpose: x is NULL");
  int r = x->rank, p[TC_MAX_DIMS], used[TC_MAX_DIMS] = {0};
  char sx[96];
  for (int i = 0; i < r; i++) {
    p[i] = perm ? perm[i] : r - 1 - i;
    if (p[i] < 0 || p[i] >= r || used[p[i]])
      return tc__tr_err(ctx, TC_ERR_ARG, "transpose: perm is not a permutation of 0..%d for %s",
                     r - 1, tc__tr_shape(x, sx, sizeof sx));
    used[p[i]] = 1;
  }
  size_t xst[TC_MAX_DIMS], s = 1;
  for (int d = r - 1; d >= 0; d--) xst[d] = s, s *= (size_t)x->dims[d];
  int32_t od[TC_MAX_DIMS];
  size_t *ist = tc__tr_alloc(ctx, sizeof(size_t) * TC_MAX_DIMS);
  if (!ist) return TC_ERR_NOMEM;
  for (int i = 0; i < r; i++) od[i] = x->dims[p[i]], ist[i] = xst[p[i]];
  tc_tensor *y;
  tc_status st = tc__tr_new(ctx, x->dtype, r, od, 0, &y);
  if (st) return st;
  const uint32_t *src = x->data;
  uint32_t *dst = y->data;
  FOR_PERM(y, ist, dst[i] = src[off]);
  if (x->dtype == TC_DTYPE_F32 && tc__want_node(ctx, x, NULL, NULL)) {
    tc__node *nd = tc__tr_record(ctx, "transpose", transpose_backward, y, 1, &x);
    if (!nd) return TC_ERR_NOMEM;
    nd->extra = ist;
  }
  *out = y;
  return TC_OK;
}

/* ---- concat ---- */

typedef struct concat_info {
  size_t n, outer, out_inner;
  tc_tensor **xs;
} concat_info;

static tc_status concat_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  const concat_info *ci = nd->extra;
  size_t pos = 0;
  for (size_t k = 0; k < ci->n; k++) {
    tc_tensor *x = ci->xs[k];
    size_t inner = x->size / ci->outer;
    if (tc__needs_grad(x)) {
      float *dx = tc__tr_grad(ctx, x);
      if (!dx) return TC_ERR_NOMEM;
      for (size_t o = 0; o < ci->outer; o++) {
        const float *src = g + o * ci->out_inner + pos;
        float *d = dx + o * inner;
        for (size_t j = 0; j < inner; j++) d[j] += src[j];
      }
    }
    pos += inner;
  }
  return TC_OK;
}

tc_status tc_concat(tc_train_ctx *ctx, size_t n, const tc_tensor *const *xs, int axis,
                    tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  if (n == 0 || !xs || !xs[0]) return tc__tr_err(ctx, TC_ERR_ARG, "concat: no inputs");
  const tc_tensor *x0 = xs[0];
  int r = x0->rank, ax = axis < 0 ? axis + r : axis;
  char s0[96], sk[96];
  if (ax < 0 || ax >= r)
    return tc__tr_err(ctx, TC_ERR_ARG, "concat: axis %d is out of range for %s", axis,
                   tc__tr_shape(x0, s0, sizeof s0));
  int32_t od[TC_MAX_DIMS];
  memcpy(od, x0->dims, sizeof od);
  int need = 0;
  for (size_t k = 1; k < n; k++) {
    const tc_tensor *x = xs[k];
    int ok = x && x->rank == r && x->dtype == x0->dtype;
    for (int d = 0; ok && d < r; d++) ok = d == ax || x->dims[d] == x0->dims[d];
    if (!ok)
      return tc__tr_err(ctx, TC_ERR_ARG, "concat: input %zu %s does not match input 0 %s (axis %d)",
                     k, tc__tr_shape(x, sk, sizeof sk), tc__tr_shape(x0, s0, sizeof s0), axis);
    od[ax] += x->dims[ax];
  }
  for (size_t k = 0; k < n; k++) need |= tc__needs_grad(xs[k]);
  tc_tensor *y;
  tc_status st = tc__tr_new(ctx, x0->dtype, r, od, 0, &y);
  if (st) return st;
  size_t outer = 1;
  for (int d = 0; d < ax; d++) outer *= (size_t)od[d];
  size_t out_inner = y->size / outer, pos = 0;
  uint32_t *dst = y->data;
  for (size_t k = 0; k < n; k++) {
    size_t inner = xs[k]->size / outer;
    const uint32_t *src = xs[k]->data;
    for (size_t o = 0; o < outer; o++)
      memcpy(dst + o * out_inner + pos, src + o * inner, inner * sizeof(uint32_t));
    pos += inner;
  }
  if (ctx->recording && need && x0->dtype == TC_DTYPE_F32) {
    concat_info *ci = tc__tr_alloc(ctx, sizeof *ci + n * sizeof(tc_tensor *));
    tc__node *nd = ci ? tc__tr_record(ctx, "concat", concat_backward, y, 0, NULL) : NULL;
    if (!nd) return TC_ERR_NOMEM;
    ci->n = n;
    ci->outer = outer;
    ci->out_inner = out_inner;
    ci->xs = (tc_tensor **)(ci + 1);
    for (size_t k = 0; k < n; k++) ci->xs[k] = (tc_tensor *)xs[k];
    nd->extra = ci;
  }
  *out = y;
  return TC_OK;
}

/* ---- slice ---- */

/* Walks the output rows (last dim contiguous); xoff is the matching input offset. */
static void slice_walk(const tc_tensor *x, const tc_tensor *y, const int32_t *begin, int back,
                       const uint32_t *src, uint32_t *dst, const float *g, float *dx) {
  int r = y->rank;
  size_t xst[TC_MAX_DIMS], s = 1, xoff = 0;
  for (int d = r - 1; d >= 0; d--) xst[d] = s, s *= (size_t)x->dims[d];
  for (int d = 0; d < r; d++) xoff += (size_t)begin[d] * xst[d];
  size_t inner = r ? (size_t)y->dims[r - 1] : 1, rows = y->size / inner;
  int32_t idx[TC_MAX_DIMS] = {0};
  for (size_t o = 0; o < rows; o++) {
    if (back) {
      for (size_t j = 0; j < inner; j++) dx[xoff + j] += g[o * inner + j];
    } else {
      memcpy(dst + o * inner, src + xoff, inner * sizeof(uint32_t));
    }
    for (int d = r - 2; d >= 0; d--) {
      idx[d]++;
      xoff += xst[d];
      if (idx[d] < y->dims[d]) break;
      xoff -= xst[d] * (size_t)y->dims[d];
      idx[d] = 0;
    }
  }
}

static tc_status slice_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  float *dx = tc__tr_grad(ctx, nd->in[0]);
  if (!dx) return TC_ERR_NOMEM;
  slice_walk(nd->in[0], nd->out, nd->i, 1, NULL, NULL, g, dx);
  return TC_OK;
}

tc_status tc_slice(tc_train_ctx *ctx, const tc_tensor *x, const int32_t *begin,
                   const int32_t *size, tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  if (!x) return tc__tr_err(ctx, TC_ERR_ARG, "slice: x is NULL");
  int r = x->rank;
  if (r && (!begin || !size)) return tc__tr_err(ctx, TC_ERR_ARG, "slice: begin/size is NULL");
  int32_t od[TC_MAX_DIMS];
  char sx[96];
  for (int d = 0; d < r; d++) {
    int32_t b = begin[d], n = size[d] == -1 ? x->dims[d] - b : size[d];
    if (b < 0 || b >= x->dims[d] || n < 1 || n > x->dims[d] - b)
      return tc__tr_err(ctx, TC_ERR_ARG, "slice: begin %d size %d is outside dim %d of %s",
                     (int)b, (int)size[d], d, tc__tr_shape(x, sx, sizeof sx));
    od[d] = n;
  }
  tc_tensor *y;
  tc_status st = tc__tr_new(ctx, x->dtype, r, od, 0, &y);
  if (st) return st;
  slice_walk(x, y, begin, 0, x->data, y->data, NULL, NULL);
  if (x->dtype == TC_DTYPE_F32 && tc__want_node(ctx, x, NULL, NULL)) {
    tc__node *nd = tc__tr_record(ctx, "slice", slice_backward, y, 1, &x);
    if (!nd) return TC_ERR_NOMEM;
    for (int d = 0; d < r; d++) nd->i[d] = begin[d];
  }
  *out = y;
  return TC_OK;
}

/* ---- gather (axis 0) ---- */

static tc_status gather_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  tc_tensor *p = nd->in[0], *idx = nd->saved[0];
  float *dp = tc__tr_grad(ctx, p);
  if (!dp) return TC_ERR_NOMEM;
  size_t row = p->size / (size_t)p->dims[0];
  const int32_t *ix = tc__i(idx);
  for (size_t k = 0; k < idx->size; k++) {
    float *d = dp + (size_t)ix[k] * row;
    const float *s = g + k * row;
    for (size_t j = 0; j < row; j++) d[j] += s[j];
  }
  return TC_OK;
}

tc_status tc_gather(tc_train_ctx *ctx, const tc_tensor *params, const tc_tensor *indices,
                    tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  tc_status st;
  if ((st = tc__tr_check(ctx, "gather", "params", params, TC_DTYPE_F32))) return st;
  if ((st = tc__tr_check(ctx, "gather", "indices", indices, TC_DTYPE_I32))) return st;
  char sp[96], si[96];
  if (params->rank < 1 || indices->rank + params->rank - 1 > TC_MAX_DIMS)
    return tc__tr_err(ctx, TC_ERR_ARG, "gather: params %s / indices %s give too many dims",
                   tc__tr_shape(params, sp, sizeof sp), tc__tr_shape(indices, si, sizeof si));
  int32_t od[TC_MAX_DIMS];
  int r = 0;
  for (int d = 0; d < indices->rank; d++) od[r++] = indices->dims[d];
  for (int d = 1; d < params->rank; d++) od[r++] = params->dims[d];
  const int32_t *ix = tc__i(indices);
  int32_t V = params->dims[0];
  for (size_t k = 0; k < indices->size; k++)
    if (ix[k] < 0 || ix[k] >= V)
      return tc__tr_err(ctx, TC_ERR_RUNTIME, "gather: index %d at %zu is outside [0, %d) of %s",
                     (int)ix[k], k, (int)V, tc__tr_shape(params, sp, sizeof sp));
  tc_tensor *y;
  if ((st = tc__tr_new(ctx, TC_DTYPE_F32, r, od, 0, &y))) return st;
  size_t row = params->size / (size_t)V;
  for (size_t k = 0; k < indices->size; k++)
    memcpy(tc__f(y) + k * row, tc__f(params) + (size_t)ix[k] * row, row * sizeof(float));
  if (tc__want_node(ctx, params, NULL, NULL)) {
    tc__node *nd = tc__tr_record(ctx, "gather", gather_backward, y, 1, &params);
    if (!nd) return TC_ERR_NOMEM;
    nd->saved[0] = (tc_tensor *)indices;
  }
  *out = y;
  return TC_OK;
}
