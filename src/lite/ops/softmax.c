/* softmax.c: SOFTMAX glue. Softmax runs along the last axis of an input of any rank >= 1; the
 * output has the input's shape. beta comes from SoftmaxOptions: when the options table is
 * absent we use 1.0 (the only meaningful value), but a present table with the field left out
 * means the schema default 0.0, as TFLite reads it. Only float32 is implemented (issue #3). */
#include "kernels/ref/softmax.h"
#include "lite/ops.h"

enum { SOFTMAX_F32 = 1 };

typedef struct softmax_state {
  int kind; /* SOFTMAX_* chosen in prepare */
  float beta;
  size_t outer, depth;
} softmax_state;

static tc_status softmax_init(tc__ctx *c, tc__node *n) {
  n->state = tc__persist_alloc(c, sizeof(softmax_state));
  if (!n->state) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  return TC_OK;
}

static tc_status softmax_prepare(tc__ctx *c, tc__node *n) {
  softmax_state *st = n->state;
  const tc__fbt *opt = &n->m->options;
  tc_status s = tc__expect_io(c, n, 1, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  if (in->dtype != TC_DTYPE_F32)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "input has dtype %s; only float32 is implemented",
                    tc_dtype_name(in->dtype));
  if ((s = tc__expect_dtype(c, n, out, "output", TC_DTYPE_F32))) return s;
  st->kind = SOFTMAX_F32;
  if (in->n_dims < 1) return tc__fail(c, n, TC_ERR_MODEL, "input must have rank >= 1, got 0");
  st->beta = opt->pos ? tc__fb_f32(tc__ctx_fb(c), opt, 0, 0.0f) : 1.0f;
  st->depth = (size_t)(in->dims[in->n_dims - 1] < 0 ? 0 : in->dims[in->n_dims - 1]);
  st->outer = st->depth ? tc__numel(in) / st->depth : 0;
  return tc__set_shape(c, n, out, in->n_dims, in->dims);
}

static tc_status softmax_invoke(tc__ctx *c, tc__node *n) {
  const softmax_state *st = n->state;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  switch (st->kind) {
  case SOFTMAX_F32:
    tc_f32_softmax__ref(in->data, out->data, st->outer, st->depth, st->beta);
    return TC_OK;
  default:
    return tc__fail(c, n, TC_ERR_STATE, "invoked before a successful prepare");
  }
}

const tc__opreg tc__reg_softmax = {TC_OP_SOFTMAX, NULL, softmax_init, softmax_prepare,
                                   softmax_invoke, NULL};
