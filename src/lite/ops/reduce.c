/* reduce.c: MEAN, SUM, REDUCE_MAX, REDUCE_MIN and REDUCE_PROD glue (all use ReducerOptions,
 * field 0 keep_dims). The axis tensor must be int32 and known at prepare (a constant, or
 * computed at prepare); its values may be negative or repeated. Prepare turns it into an axis
 * mask and sets the output shape with TFLite's rules (kernels/ref/reduce.h); invoke runs the
 * reference reduction on float32 data, or on int8/uint8/int16 data for MEAN, SUM, REDUCE_MAX and
 * REDUCE_MIN (TFLite Micro's quantized arithmetic; the int32 sums live in a scratch buffer).
 * Float MEAN and SUM over one contiguous run of axes (MEAN over H, W of NHWC) run the variant of
 * the interpreter's kernel table (kernels/vec_ops.h, bit-exact with the reference). */
#include <string.h>

#include "kernels/ref/qmath.h"
#include "kernels/ref/reduce.h"
#include "kernels/select.h"
#include "lite/ops.h"

/* Builtin codes model.h does not name yet. */
enum { OP_REDUCE_PROD = 81, OP_REDUCE_MAX = 82, OP_REDUCE_MIN = 89 };

enum { REDUCE_F32 = 1, REDUCE_Q };

typedef struct reduce_state {
  int kind; /* REDUCE_* chosen in prepare */
  uint32_t mask;
  tc_qreduce_params q; /* REDUCE_Q */
  int scratch;         /* REDUCE_Q: slot of the int32 accumulators */
  tc_f32_mean_kernel *kmean; /* REDUCE_F32 MEAN/SUM over contiguous axes, else NULL */
} reduce_state;

/* For float MEAN / SUM whose reduced axes are one contiguous run: the [outer][mid][inner] view
 * of the current dims and 1; else 0. */
static int mid_view(const tc__tensor *in, uint32_t mask, size_t *outer, size_t *mid,
                    size_t *inner) {
  int first = -1, last = -1;
  for (int i = 0; i < in->n_dims; i++)
    if (mask & (1u << i)) {
      if (first < 0) first = i;
      else if (last != i - 1) return 0;
      last = i;
    }
  if (first < 0) return 0;
  *outer = *mid = *inner = 1;
  for (int i = 0; i < in->n_dims; i++) {
    size_t d = in->dims[i] < 0 ? 0 : (size_t)in->dims[i];
    if (i < first) *outer *= d;
    else if (i <= last) *mid *= d;
    else *inner *= d;
  }
  return 1;
}

/* Prepares the quantized path: dtypes, quantization parameters and the scratch buffer. */
static tc_status prepare_quantized(tc__ctx *c, tc__node *n, reduce_state *st, tc__tensor *in,
                                   tc__tensor *out) {
  tc_status s;
  int32_t op = n->reg->builtin;
  if ((s = tc__expect_dtype(c, n, out, "output", in->dtype))) return s;
  if (op != TC_OP_MEAN && op != TC_OP_SUM && op != OP_REDUCE_MAX && op != OP_REDUCE_MIN)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "%s input is not supported by this reduction",
                    tc_dtype_name(in->dtype));
  const tc__quant *qi = in->m ? &in->m->q : NULL, *qo = out->m ? &out->m->q : NULL;
  if (!qi || !qo || qi->n_scales != 1 || qo->n_scales != 1)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "%s data needs per-tensor quantization on the input and the output",
                    tc_dtype_name(in->dtype));
  float si = qi->scale[0], so = qo->scale[0];
  if (!(si > 0.0f) || !(so > 0.0f))
    return tc__fail(c, n, TC_ERR_MODEL, "quantization scales %g -> %g are not positive",
                    (double)si, (double)so);
  st->q.in_zp = (int32_t)qi->zero_point[0];
  st->q.out_zp = (int32_t)qo->zero_point[0];
  st->q.same_quant = si == so && st->q.in_zp == st->q.out_zp;
  if ((op == OP_REDUCE_MAX || op == OP_REDUCE_MIN) && !st->q.same_quant)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "quantized REDUCE_MAX/MIN needs the same scale and zero point on input and "
                    "output (%g, %d -> %g, %d)", (double)si, (int)st->q.in_zp, (double)so,
                    (int)st->q.out_zp);
  tc_q_quantize_multiplier((double)si / (double)so, &st->q.mult, &st->q.shift);
  size_t size = tc_q_reduce_scratch_size(in->n_dims, in->dims, st->mask);
  if ((s = tc__scratch_request(c, n, size ? size : sizeof(int32_t), &st->scratch))) return s;
  st->kind = REDUCE_Q;
  return TC_OK;
}

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
  st->kind = 0;
  int quantized = in->dtype == TC_DTYPE_I8 || in->dtype == TC_DTYPE_U8 || in->dtype == TC_DTYPE_I16;
  if (in->dtype != TC_DTYPE_F32 && !quantized)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "input has dtype %s, expected float32, int8, uint8 or int16",
                    tc_dtype_name(in->dtype));
  if (!quantized && (s = tc__expect_dtype(c, n, out, "output", TC_DTYPE_F32))) return s;
  if ((s = tc__expect_dtype(c, n, axis, "axis", TC_DTYPE_I32))) return s;
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
  if (quantized) {
    if ((s = prepare_quantized(c, n, st, in, out))) return s;
  } else {
    st->kind = REDUCE_F32;
    int32_t op = n->reg->builtin;
    st->kmean = (op == TC_OP_MEAN || op == TC_OP_SUM) ? tc__ctx_kernels(c)->f32_mean : NULL;
    tc__set_kernel_name(n, st->kmean && st->kmean != tc_f32_mean__ref ? "avx2" : "ref");
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
  case REDUCE_F32: {
    size_t outer, mid, inner;
    if (st->kmean && (op == TC_REDUCE_MEAN || op == TC_REDUCE_SUM) &&
        mid_view(in, st->mask, &outer, &mid, &inner))
      st->kmean(in->data, outer, mid, inner, op == TC_REDUCE_MEAN, out->data);
    else
      tc_f32_reduce__ref(in->data, in->n_dims, in->dims, st->mask, op, out->data);
    return TC_OK;
  }
  case REDUCE_Q:
    if (!tc_q_reduce__ref(in->dtype, in->data, in->n_dims, in->dims, st->mask, op, &st->q,
                          tc__scratch(c, n, st->scratch), out->data))
      return tc__fail(c, n, TC_ERR_STATE, "quantized reduction of %s is not supported",
                      tc_dtype_name(in->dtype));
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
