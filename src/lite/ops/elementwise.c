/* elementwise.c: one-input elementwise ops: EXP, SQRT, RSQRT, SQUARE, FLOOR, HARD_SWISH, GELU
 * (float32), LEAKY_RELU (float32, and int8/uint8/int16 quantized), ABS and NEG (float32 and
 * int32), and CAST between the numeric types of kernels/ref/elementwise.h. The output has the input's shape. Options (LeakyReluOptions.alpha,
 * GeluOptions.approximate) are parsed in init, so invoke needs only the tensors. */
#include "kernels/ref/activations.h"
#include "kernels/ref/elementwise.h"
#include "lite/ops.h"

enum { OP_NEG = 59 }; /* BuiltinOperator NEG; not named in model.h */

typedef struct unary_state {
  float alpha;     /* LEAKY_RELU */
  int approximate; /* GELU */
  tc_dtype dtype;  /* LEAKY_RELU: the data type prepare accepted */
  tc_qleaky_params q; /* LEAKY_RELU on quantized data */
} unary_state;

/* Checks one input and one output, input dtype float32 (or int32 when allow_i32), the output
 * of the same dtype, and gives the output the input's shape. */
static tc_status check_unary(tc__ctx *c, tc__node *n, int allow_i32) {
  tc_status s = tc__expect_io(c, n, 1, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  if (!(in->dtype == TC_DTYPE_F32 || (allow_i32 && in->dtype == TC_DTYPE_I32)))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "input has dtype %s, expected float32%s",
                    tc_dtype_name(in->dtype), allow_i32 ? " or int32" : "");
  if ((s = tc__expect_dtype(c, n, out, "output", in->dtype))) return s;
  return tc__set_shape(c, n, out, in->n_dims, in->dims);
}

static tc_status f32_prepare(tc__ctx *c, tc__node *n) { return check_unary(c, n, 0); }
static tc_status f32_i32_prepare(tc__ctx *c, tc__node *n) { return check_unary(c, n, 1); }

#define F32_UNARY(name, kernel)                                                  \
  static tc_status name(tc__ctx *c, tc__node *n) {                               \
    const tc__tensor *in = tc__in(c, n, 0);                                      \
    tc__tensor *out = tc__out(c, n, 0);                                          \
    kernel(in->data, out->data, tc__numel(in));                                  \
    return TC_OK;                                                                \
  }
F32_UNARY(exp_invoke, tc_f32_exp__ref)
F32_UNARY(sqrt_invoke, tc_f32_sqrt__ref)
F32_UNARY(rsqrt_invoke, tc_f32_rsqrt__ref)
F32_UNARY(square_invoke, tc_f32_square__ref)
F32_UNARY(floor_invoke, tc_f32_floor__ref)
F32_UNARY(hard_swish_invoke, tc_f32_hard_swish__ref)

static tc_status abs_invoke(tc__ctx *c, tc__node *n) {
  const tc__tensor *in = tc__in(c, n, 0);
  tc__tensor *out = tc__out(c, n, 0);
  if (in->dtype == TC_DTYPE_I32) tc_i32_abs__ref(in->data, out->data, tc__numel(in));
  else tc_f32_abs__ref(in->data, out->data, tc__numel(in));
  return TC_OK;
}

static tc_status neg_invoke(tc__ctx *c, tc__node *n) {
  const tc__tensor *in = tc__in(c, n, 0);
  tc__tensor *out = tc__out(c, n, 0);
  if (in->dtype == TC_DTYPE_I32) tc_i32_neg__ref(in->data, out->data, tc__numel(in));
  else tc_f32_neg__ref(in->data, out->data, tc__numel(in));
  return TC_OK;
}

/* ---- ops with options -------------------------------------------------------------------- */

static tc_status state_alloc(tc__ctx *c, tc__node *n, unary_state **out) {
  *out = tc__persist_alloc(c, sizeof **out);
  if (!*out) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for the op state");
  n->state = *out;
  return TC_OK;
}

/* LeakyReluOptions: field 0 alpha (float, schema default 0). */
static tc_status leaky_relu_init(tc__ctx *c, tc__node *n) {
  unary_state *st;
  tc_status s = state_alloc(c, n, &st);
  if (s) return s;
  st->alpha = tc__fb_f32(tc__ctx_fb(c), &n->m->options, 0, 0.0f);
  return TC_OK;
}

/* float32, or int8/uint8/int16 with per-tensor quantization on input and output (TFLite
 * Micro's int8/int16 kernel; uint8 uses the same arithmetic, as TFLite). */
static tc_status leaky_relu_prepare(tc__ctx *c, tc__node *n) {
  unary_state *st = n->state;
  st->dtype = TC_DTYPE_UNKNOWN;
  tc_status s = tc__expect_io(c, n, 1, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  if (in->dtype == TC_DTYPE_I8 || in->dtype == TC_DTYPE_U8 || in->dtype == TC_DTYPE_I16) {
    if ((s = tc__expect_dtype(c, n, out, "output", in->dtype))) return s;
    const tc__quant *qi = in->m ? &in->m->q : NULL, *qo = out->m ? &out->m->q : NULL;
    if (!qi || !qo || qi->n_scales != 1 || qo->n_scales != 1)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                      "%s data needs per-tensor quantization on the input and the output",
                      tc_dtype_name(in->dtype));
    if (!tc_qleaky_params_init(&st->q, qi->scale[0], (int32_t)qi->zero_point[0], qo->scale[0],
                               (int32_t)qo->zero_point[0], st->alpha))
      return tc__fail(c, n, TC_ERR_MODEL, "invalid quantization (scales %g -> %g, alpha %g)",
                      (double)qi->scale[0], (double)qo->scale[0], (double)st->alpha);
    st->dtype = in->dtype;
    return tc__set_shape(c, n, out, in->n_dims, in->dims);
  }
  if (in->dtype != TC_DTYPE_F32)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "input has dtype %s, expected float32, int8, uint8 or int16",
                    tc_dtype_name(in->dtype));
  if ((s = check_unary(c, n, 0))) return s;
  st->dtype = TC_DTYPE_F32;
  return TC_OK;
}

static tc_status leaky_relu_invoke(tc__ctx *c, tc__node *n) {
  const unary_state *st = n->state;
  const tc__tensor *in = tc__in(c, n, 0);
  tc__tensor *out = tc__out(c, n, 0);
  size_t count = tc__numel(in);
  switch (st->dtype) {
  case TC_DTYPE_F32: tc_f32_leaky_relu__ref(in->data, out->data, count, st->alpha); break;
  case TC_DTYPE_I8: tc_s8_leaky_relu__ref(&st->q, in->data, out->data, count); break;
  case TC_DTYPE_U8: tc_u8_leaky_relu__ref(&st->q, in->data, out->data, count); break;
  case TC_DTYPE_I16: tc_s16_leaky_relu__ref(&st->q, in->data, out->data, count); break;
  default: return tc__fail(c, n, TC_ERR_STATE, "invoked before a successful prepare");
  }
  return TC_OK;
}

/* GeluOptions: field 0 approximate (bool, default false: the erf form). */
static tc_status gelu_init(tc__ctx *c, tc__node *n) {
  unary_state *st;
  tc_status s = state_alloc(c, n, &st);
  if (s) return s;
  st->approximate = tc__fb_u8(tc__ctx_fb(c), &n->m->options, 0, 0) != 0;
  return TC_OK;
}

static tc_status gelu_invoke(tc__ctx *c, tc__node *n) {
  const unary_state *st = n->state;
  const tc__tensor *in = tc__in(c, n, 0);
  tc__tensor *out = tc__out(c, n, 0);
  tc_f32_gelu__ref(in->data, out->data, tc__numel(in), st->approximate);
  return TC_OK;
}

/* ---- CAST: the tensors' dtypes say what to convert (CastOptions only repeats them) --------- */

static tc_status cast_prepare(tc__ctx *c, tc__node *n) {
  tc_status s = tc__expect_io(c, n, 1, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  if (!tc_cast_supported(in->dtype) || !tc_cast_supported(out->dtype))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "cast from %s to %s is not supported",
                    tc_dtype_name(in->dtype), tc_dtype_name(out->dtype));
  return tc__set_shape(c, n, out, in->n_dims, in->dims);
}

static tc_status cast_invoke(tc__ctx *c, tc__node *n) {
  const tc__tensor *in = tc__in(c, n, 0);
  tc__tensor *out = tc__out(c, n, 0);
  if (!tc_cast__ref(in->dtype, in->data, out->dtype, out->data, tc__numel(in)))
    return tc__fail(c, n, TC_ERR_RUNTIME, "cast from %s to %s is not supported",
                    tc_dtype_name(in->dtype), tc_dtype_name(out->dtype));
  return TC_OK;
}

const tc__opreg tc__reg_exp = {TC_OP_EXP, NULL, NULL, f32_prepare, exp_invoke, NULL};
const tc__opreg tc__reg_sqrt = {TC_OP_SQRT, NULL, NULL, f32_prepare, sqrt_invoke, NULL};
const tc__opreg tc__reg_rsqrt = {TC_OP_RSQRT, NULL, NULL, f32_prepare, rsqrt_invoke, NULL};
const tc__opreg tc__reg_square = {TC_OP_SQUARE, NULL, NULL, f32_prepare, square_invoke, NULL};
const tc__opreg tc__reg_floor = {TC_OP_FLOOR, NULL, NULL, f32_prepare, floor_invoke, NULL};
const tc__opreg tc__reg_hard_swish = {TC_OP_HARD_SWISH, NULL, NULL, f32_prepare,
                                      hard_swish_invoke, NULL};
const tc__opreg tc__reg_abs = {TC_OP_ABS, NULL, NULL, f32_i32_prepare, abs_invoke, NULL};
const tc__opreg tc__reg_neg = {OP_NEG, NULL, NULL, f32_i32_prepare, neg_invoke, NULL};
const tc__opreg tc__reg_leaky_relu = {TC_OP_LEAKY_RELU, NULL, leaky_relu_init,
                                      leaky_relu_prepare, leaky_relu_invoke, NULL};
const tc__opreg tc__reg_gelu = {TC_OP_GELU, NULL, gelu_init, f32_prepare, gelu_invoke, NULL};
const tc__opreg tc__reg_cast = {TC_OP_CAST, NULL, NULL, cast_prepare, cast_invoke, NULL};
