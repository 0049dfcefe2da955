/* common.c: helpers shared by the operator glue files (see ops.h). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lite/ops.h"

size_t tc__numel(const tc__tensor *t) {
  size_t n = 1;
  for (int i = 0; i < t->n_dims; i++) n *= (size_t)(t->dims[i] < 0 ? 0 : t->dims[i]);
  return n;
}

tc_status tc__expect_io(tc__ctx *c, const tc__node *n, int n_in_min, int n_in_max, int n_out) {
  if (n->n_inputs < n_in_min || n->n_inputs > n_in_max)
    return tc__fail(c, n, TC_ERR_MODEL, "expected %d..%d inputs, got %d", n_in_min, n_in_max,
                    (int)n->n_inputs);
  if (n->n_outputs != n_out)
    return tc__fail(c, n, TC_ERR_MODEL, "expected %d outputs, got %d", n_out, (int)n->n_outputs);
  for (int i = 0; i < n_in_min; i++)
    if (!tc__in(c, n, i)) return tc__fail(c, n, TC_ERR_MODEL, "input %d is missing", i);
  for (int i = 0; i < n_out; i++)
    if (!tc__out(c, n, i)) return tc__fail(c, n, TC_ERR_MODEL, "output %d is missing", i);
  return TC_OK;
}

tc_status tc__expect_dtype(tc__ctx *c, const tc__node *n, const tc__tensor *t, const char *what,
                           tc_dtype dt) {
  if (t->dtype == dt) return TC_OK;
  return tc__fail(c, n, TC_ERR_UNSUPPORTED, "%s has dtype %s, expected %s", what,
                  tc_dtype_name(t->dtype), tc_dtype_name(dt));
}

const char *tc__dims_str(const tc__tensor *t, char *buf, size_t size) {
  size_t used = 0;
  if (size == 0) return buf;
  buf[0] = '\0';
  used += (size_t)snprintf(buf, size, "[");
  for (int i = 0; i < t->n_dims && used < size; i++)
    used += (size_t)snprintf(buf + used, size - used, i ? ", %d" : "%d", (int)t->dims[i]);
  if (used < size) snprintf(buf + used, size - used, "]");
  return buf;
}

tc_status tc__act_range_f32(int act, float *lo, float *hi) {
  switch (act) {
  case TC_ACT_NONE: *lo = -INFINITY; *hi = INFINITY; return TC_OK;
  case TC_ACT_RELU: *lo = 0.0f; *hi = INFINITY; return TC_OK;
  case TC_ACT_RELU_N1_TO_1: *lo = -1.0f; *hi = 1.0f; return TC_OK;
  case TC_ACT_RELU6: *lo = 0.0f; *hi = 6.0f; return TC_OK;
  default: return TC_ERR_UNSUPPORTED;
  }
}

int tc__conv_out_size(int pad, int in, int filter, int stride, int dilation, int *out,
                      int *pad_before) {
  if (in <= 0 || filter <= 0 || stride <= 0 || dilation <= 0) return 0;
  int64_t eff = (int64_t)(filter - 1) * dilation + 1;
  int64_t o;
  if (pad == TC_PAD_SAME) {
    o = ((int64_t)in + stride - 1) / stride;
  } else if (pad == TC_PAD_VALID) {
    o = ((int64_t)in - eff + stride) / stride;
  } else {
    return 0;
  }
  /* the kernels compute window geometry in int32: a dilated filter past it is refused */
  if (o <= 0 || o > 0x7fffffff || eff > 0x7fffffff) return 0;
  int64_t total = (o - 1) * stride + eff - in;
  if (total < 0) total = 0; /* VALID: <= 0; SAME: < eff, as (o - 1) * stride < in */
  *out = (int)o;
  *pad_before = (int)(total / 2);
  return 1;
}

int tc__broadcast_shape(const tc__tensor *a, const tc__tensor *b, int *n_dims, int32_t *dims) {
  int n = TC_MAX(a->n_dims, b->n_dims);
  for (int i = 0; i < n; i++) {
    int ia = a->n_dims - n + i, ib = b->n_dims - n + i;
    int32_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da == db || db == 1) dims[i] = da;
    else if (da == 1) dims[i] = db;
    else return 0;
  }
  *n_dims = n;
  return 1;
}

/* Multiply-adds count 2. Only the ops that dominate real models are modelled. */
double tc__op_flops(tc__ctx *c, const tc__node *n) {
  const tc__tensor *in = tc__in(c, n, 0), *w = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  if (!in || !out) return 0;
  double out_n = (double)tc__numel(out);
  switch (n->reg ? n->reg->builtin : -1) {
  case TC_OP_CONV_2D: /* filter [Cout, KH, KW, Cin_per_group] */
    return w && w->n_dims == 4 ? 2.0 * out_n * w->dims[1] * w->dims[2] * w->dims[3] : 0;
  case TC_OP_DEPTHWISE_CONV_2D: /* filter [1, KH, KW, C] */
    return w && w->n_dims == 4 ? 2.0 * out_n * w->dims[1] * w->dims[2] : 0;
  case TC_OP_FULLY_CONNECTED: /* weights [Nout, K] */
    return w && w->n_dims == 2 ? 2.0 * out_n * w->dims[1] : 0;
  case TC_OP_TRANSPOSE_CONV: {
    const tc__tensor *wt = tc__in(c, n, 1), *x = tc__in(c, n, 2);
    return wt && x && wt->n_dims == 4 ? 2.0 * (double)tc__numel(x) * wt->dims[0] * wt->dims[1] * wt->dims[2] : 0;
  }
  default: return 0;
  }
}
