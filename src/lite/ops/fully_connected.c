/* fully_connected.c: FULLY_CONNECTED glue. The input is seen as [batch, K] with K the weights'
 * second dimension; the output is [batch, Nout], or the input's shape with its last dimension
 * replaced by Nout when keep_num_dims is set (TFLite's rules). Weights and bias may be
 * constant or computed. Only float32 with the DEFAULT weights format is implemented; hybrid and
 * integer paths come as new kernel kinds (issue #3). */
#include <math.h>

#include "kernels/ref/fully_connected.h"
#include "lite/ops.h"

enum { FC_F32 = 1 };

typedef struct fc_state {
  int kind; /* FC_* chosen in prepare */
  tc_fc_params p;
} fc_state;

static tc_status fc_init(tc__ctx *c, tc__node *n) {
  n->state = tc__persist_alloc(c, sizeof(fc_state));
  if (!n->state) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  return TC_OK;
}

static tc_status fc_prepare(tc__ctx *c, tc__node *n) {
  fc_state *st = n->state;
  const tc__fb *fb = tc__ctx_fb(c);
  const tc__fbt *opt = &n->m->options;
  char b1[96], b2[96];
  tc_status s = tc__expect_io(c, n, 2, 3, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *w = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  tc__tensor *bias = n->n_inputs > 2 ? tc__in(c, n, 2) : NULL;

  if (in->dtype != TC_DTYPE_F32)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "input has dtype %s; only float32 is implemented",
                    tc_dtype_name(in->dtype));
  if (w->dtype != TC_DTYPE_F32)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "weights have dtype %s with a float32 input (hybrid); only float32 weights "
                    "are implemented",
                    tc_dtype_name(w->dtype));
  if (bias && (s = tc__expect_dtype(c, n, bias, "bias", TC_DTYPE_F32))) return s;
  if ((s = tc__expect_dtype(c, n, out, "output", TC_DTYPE_F32))) return s;
  st->kind = FC_F32;

  int act = tc__fb_u8(fb, opt, 0, 0);
  int format = tc__fb_u8(fb, opt, 1, 0);
  int keep_num_dims = tc__fb_u8(fb, opt, 2, 0) != 0;
  if (format != 0)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "weights format %d is not supported (only DEFAULT)", format);
  float lo, hi;
  if (tc__act_range_f32(act, &lo, &hi))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d is not supported", act);

  if (w->n_dims != 2)
    return tc__fail(c, n, TC_ERR_MODEL, "weights must have rank 2 [units, depth], got %s",
                    tc__dims_str(w, b1, sizeof b1));
  int32_t units = w->dims[0], depth = w->dims[1];
  if (depth <= 0)
    return tc__fail(c, n, TC_ERR_MODEL, "weights %s have an empty depth",
                    tc__dims_str(w, b1, sizeof b1));
  if (bias && tc__numel(bias) != (size_t)units)
    return tc__fail(c, n, TC_ERR_MODEL, "bias has shape %s, expected %d elements",
                    tc__dims_str(bias, b1, sizeof b1), (int)units);

  int32_t dims[TC_MAX_DIMS];
  int n_out = tc_fc_out_shape(in->n_dims, in->dims, depth, units, keep_num_dims, dims,
                              &st->p.batch);
  if (n_out < 0) {
    if (keep_num_dims && (in->n_dims < 1 || in->dims[in->n_dims - 1] != depth))
      return tc__fail(c, n, TC_ERR_MODEL,
                      "keep_num_dims needs the input's last dimension to equal the weights' "
                      "depth: input %s, weights %s",
                      tc__dims_str(in, b1, sizeof b1), tc__dims_str(w, b2, sizeof b2));
    return tc__fail(c, n, TC_ERR_MODEL,
                    "input %s does not split into rows of the weights' depth %d (weights %s)",
                    tc__dims_str(in, b1, sizeof b1), (int)depth, tc__dims_str(w, b2, sizeof b2));
  }
  st->p.in_k = depth;
  st->p.out_n = units;
  st->p.act_min = lo;
  st->p.act_max = hi;
  return tc__set_shape(c, n, out, n_out, dims);
}

static tc_status fc_invoke(tc__ctx *c, tc__node *n) {
  const fc_state *st = n->state;
  tc__tensor *in = tc__in(c, n, 0), *w = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  tc__tensor *bias = n->n_inputs > 2 ? tc__in(c, n, 2) : NULL;
  switch (st->kind) {
  case FC_F32:
    tc_f32_fully_connected__ref(&st->p, in->data, w->data, bias ? bias->data : NULL, out->data);
    return TC_OK;
  default:
    return tc__fail(c, n, TC_ERR_STATE, "invoked before a successful prepare");
  }
}

const tc__opreg tc__reg_fully_connected = {TC_OP_FULLY_CONNECTED, NULL, fc_init, fc_prepare,
                                           fc_invoke, NULL};
