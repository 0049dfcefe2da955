/* shape_common.h: small helpers shared by the data-movement operator files (reshape.c,
 * concat_split.c, pad.c, strided_slice.c, transpose.c, gather.c, shape.c, pack.c,
 * space_batch.c): element-size checks, reading shape-determining integer tensors at prepare,
 * and the quantization facts these ops care about. Header-only (static inline). */
#ifndef TC_LITE_OPS_SHAPE_COMMON_H
#define TC_LITE_OPS_SHAPE_COMMON_H

#include <string.h>

#include "lite/ops.h"

/* Bytes per element of t, failing (naming `what`) for types without a fixed size. */
static inline tc_status tc__shp_elem_size(tc__ctx *c, const tc__node *n, const tc__tensor *t,
                                          const char *what, size_t *out) {
  size_t s = tc_dtype_size(t->dtype);
  if (s == 0)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "%s has dtype %s, which is not supported", what,
                    tc_dtype_name(t->dtype));
  *out = s;
  return TC_OK;
}

/* Checks that `out` has the dtype of `in` (data-movement ops never convert). */
static inline tc_status tc__shp_same_dtype(tc__ctx *c, const tc__node *n, const tc__tensor *in,
                                           const tc__tensor *out) {
  if (in->dtype == out->dtype) return TC_OK;
  return tc__fail(c, n, TC_ERR_MODEL, "output has dtype %s but input has dtype %s",
                  tc_dtype_name(out->dtype), tc_dtype_name(in->dtype));
}

/* Checks that a shape-determining input (axis, shape, paddings, perm, ...) is int32 (or int64
 * where `allow_i64`) and that its value is available at prepare. */
static inline tc_status tc__shp_const_int(tc__ctx *c, const tc__node *n, const tc__tensor *t,
                                          const char *what, int allow_i64) {
  if (!t) return tc__fail(c, n, TC_ERR_MODEL, "%s is missing", what);
  if (t->dtype != TC_DTYPE_I32 && !(allow_i64 && t->dtype == TC_DTYPE_I64))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "%s has dtype %s, expected int32%s", what,
                    tc_dtype_name(t->dtype), allow_i64 ? " or int64" : "");
  if (!t->known || (!t->data && tc__numel(t) > 0))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "%s must be constant (dynamic shapes are not supported)", what);
  return TC_OK;
}

/* Element i of an int32 / int64 tensor as int64 (alignment-free). */
static inline int64_t tc__shp_ld(const tc__tensor *t, size_t i) {
  if (t->dtype == TC_DTYPE_I64) {
    int64_t v;
    memcpy(&v, (const unsigned char *)t->data + i * 8, 8);
    return v;
  }
  int32_t v;
  memcpy(&v, (const unsigned char *)t->data + i * 4, 4);
  return v;
}

/* Zero point of a quantized tensor (first channel), 0 if not quantized. */
static inline int64_t tc__shp_zero_point(const tc__tensor *t) {
  if (t->m && t->m->q.n_scales > 0 && t->m->q.zero_point) return t->m->q.zero_point[0];
  return 0;
}

/* 1 if a and b carry the same per-tensor quantization (or both none). */
static inline int tc__shp_same_quant(const tc__tensor *a, const tc__tensor *b) {
  int qa = a->m && a->m->q.n_scales > 0, qb = b->m && b->m->q.n_scales > 0;
  if (!qa || !qb) return qa == qb;
  return a->m->q.scale[0] == b->m->q.scale[0] &&
         tc__shp_zero_point(a) == tc__shp_zero_point(b);
}

/* Opening of the prepare of an op joining 1..max_inputs operands into one output
 * (CONCATENATION, PACK): checks the input and output counts, that input 0's dtype has a fixed
 * size (*es) and that the output has input 0's dtype; returns input 0 and the output. */
static inline tc_status tc__shp_join_io(tc__ctx *c, tc__node *n, int max_inputs,
                                        tc__tensor **in0, tc__tensor **out, size_t *es) {
  if (n->n_inputs < 1 || n->n_inputs > max_inputs)
    return tc__fail(c, n, TC_ERR_MODEL, "expected 1..%d inputs, got %d", max_inputs,
                    (int)n->n_inputs);
  tc_status s = tc__expect_io(c, n, n->n_inputs, n->n_inputs, 1);
  if (s) return s;
  *in0 = tc__in(c, n, 0);
  *out = tc__out(c, n, 0);
  if ((s = tc__shp_elem_size(c, n, *in0, "input 0", es))) return s;
  return tc__shp_same_dtype(c, n, *in0, *out);
}

/* Copies the input bytes to the output unless they already share storage. */
static inline void tc__shp_copy(const tc__tensor *in, tc__tensor *out) {
  size_t bytes = in->bytes < out->bytes ? in->bytes : out->bytes;
  if (in->data != out->data && bytes) memmove(out->data, in->data, bytes);
}

#endif
