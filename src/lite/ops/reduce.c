/* reduce.c: MEAN, SUM, REDUCE_MAX, REDUCE_MIN and REDUCE_PROD glue (all use ReducerOptions,
 * field 0 keep_dims). The axis tensor must be int32 and known at prepare (a constant, or
 * computed at prepare); its values may be negative or repeated. Prepare turns it into an axis
 * mask and sets the output shape with TFLite's rules (kernels/ref/reduce.h); invoke runs the
 * reference reduction. Only float32 data is implemented; integer paths come later (issue #3). */
#include <string.h>

#include "kernels/ref/reduce.h"
#include "lite/ops.h"

/* Builtin codes model.h does not name yet. */
enum { OP_REDUCE_PROD = 81, OP_REDUCE_MAX = 82, OP_REDUCE_MIN = 89 };

enum { REDUCE_F32 = 1 };

typedef struct reduce_state {
  int kind; /* REDUCE_* chosen in prepare */
  uint32_t mask;
} reduce_state;

static tc_status reduce_init(tc__ctx *c, tc__node *n) {
  n->state = tc__persist_alloc(c, sizeof(reduce_state));
  if (!n->state) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  return TC_OK;
}

static tc_status reduce_prepare(tc__ctx *c, tc__node *n) {
  reduce_state *st = n->state;
  char b1[96];
  tc_status s = tc__expect_io(c, n, 2, 2, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *axis = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  if (in->dtype != TC_DTYPE_F32)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "input has dtype %s; only float32 is implemented",
                    tc_dtype_name(in->dtype));
  if ((s = tc__expect_dtype(c, n, out, "output", TC_DTYPE_F32))) return s;
  if ((s = tc__expect_dtype(c, n, axis, "axis", TC_DTYPE_I32))) return s;
  st->kind = REDUCE_F32;
  if (!axis->known || (!axis->data && tc__numel(axis) > 0))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "the axis tensor must be constant");

  size_t n_axes = tc__numel(axis);
  if (n_axes > 64)
    return tc__fail(c, n, TC_ERR_MODEL, "too many axes (%zu)", n_axes);
  int32_t axes[64];
  if (n_axes) memcpy(axes, axis->data, n_axes * sizeof axes[0]); /* data may be unaligned */
  if (tc_reduce_axes_mask(in->n_dims, axes, (int)n_axes, &st->mask)) {
    for (size_t i = 0; i < n_axes; i++)
      if (axes[i] < -in->n_dims || axes[i] >= in->n_dims)
        return tc__fail(c, n, TC_ERR_MODEL, "axis %d is out of range for input %s",
                        (int)axes[i], tc__dims_str(in, b1, sizeof b1));
    return tc__fail(c, n, TC_ERR_MODEL, "bad axis list");
  }
  int keep_dims = tc__fb_u8(tc__ctx_fb(c), &n->m->options, 0, 0) != 0;
  int32_t dims[TC_MAX_DIMS];
  int n_out = tc_reduce_shape(in->n_dims, in->dims, st->mask, keep_dims, dims);
  return tc__set_shape(c, n, out, n_out, dims);
}

static tc_status reduce_run(tc__ctx *c, tc__node *n, tc_reduce_kind op) {
  const reduce_state *st = n->state;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  switch (st->kind) {
  case REDUCE_F32:
    tc_f32_reduce__ref(in->data, in->n_dims, in->dims, st->mask, op, out->data);
    return TC_OK;
  default:
    return tc__fail(c, n, TC_ERR_STATE, "invoked before a successful prepare");
  }
}

static tc_status mean_invoke(tc__ctx *c, tc__node *n) { return reduce_run(c, n, TC_REDUCE_MEAN); }
static tc_status sum_invoke(tc__ctx *c, tc__node *n) { return reduce_run(c, n, TC_REDUCE_SUM); }
static tc_status max_invoke(tc__ctx *c, tc__node *n) { return reduce_run(c, n, TC_REDUCE_MAX); }
static tc_status min_invoke(tc__ctx *c, tc__node *n) { return reduce_run(c, n, TC_REDUCE_MIN); }
static tc_status prod_invoke(tc__ctx *c, tc__node *n) { return reduce_run(c, n, TC_REDUCE_PROD); }

const tc__opreg tc__reg_mean = {TC_OP_MEAN, NULL, reduce_init, reduce_prepare, mean_invoke, NULL};
const tc__opreg tc__reg_sum = {TC_OP_SUM, NULL, reduce_init, reduce_prepare, sum_invoke, NULL};
const tc__opreg tc__reg_reduce_max = {OP_REDUCE_MAX, NULL, reduce_init, reduce_prepare,
                                      max_invoke, NULL};
const tc__opreg tc__reg_reduce_min = {OP_REDUCE_MIN, NULL, reduce_init, reduce_prepare,
                                      min_invoke, NULL};
const tc__opreg tc__reg_reduce_prod = {OP_REDUCE_PROD, NULL, reduce_init, reduce_prepare,
                                       prod_invoke, NULL};
