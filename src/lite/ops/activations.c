/* activations.c: RELU, RELU6, RELU_N1_TO_1 (float32), LOGISTIC and TANH (float32, int8, int16,
 * uint8). Output has the input's shape; the math is in kernels/ref/activations.c (float) and
 * kernels/ref/activations_q.c (quantized).
 *
 * Quantized LOGISTIC / TANH, with the quantization TFLite requires:
 *   int8: fixed point, bit-exact with TFLite Micro; the output must be LOGISTIC scale 1/256
 *   zero point -128, TANH scale 1/128 zero point 0 (TFLite Micro's kernels write those
 *   whatever the output tensor says, so other output parameters are refused here).
 *   int16: TFLite Micro's interpolated sigmoid table; zero points 0, output scale 2^-15.
 *   uint8: TFLite's float-built 256-entry table, any input/output quantization. */
#include <math.h>

#include "kernels/ref/activations.h"
#include "kernels/ref/activations_q.h"
#include "lite/ops.h"

static tc_status unary_prepare(tc__ctx *c, tc__node *n) {
  tc_status s = tc__expect_io(c, n, 1, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  if ((s = tc__expect_dtype(c, n, in, "input", TC_DTYPE_F32))) return s;
  if ((s = tc__expect_dtype(c, n, out, "output", TC_DTYPE_F32))) return s;
  return tc__set_shape(c, n, out, in->n_dims, in->dims);
}

#define CLAMP_OP(fn, lo, hi)                                                                 \
  static tc_status fn(tc__ctx *c, tc__node *n) {                                            \
    tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);                              \
    tc_f32_clamp__ref(in->data, out->data, tc__numel(in), lo, hi);                          \
    return TC_OK;                                                                            \
  }
CLAMP_OP(relu_invoke, 0.0f, INFINITY)
CLAMP_OP(relu6_invoke, 0.0f, 6.0f)
CLAMP_OP(relu1_invoke, -1.0f, 1.0f)

/* ---- LOGISTIC / TANH ------------------------------------------------------------------------ */

enum { SIG_F32 = 1, SIG_S8, SIG_S16, SIG_U8 };

typedef struct sig_state {
  int kind; /* SIG_* chosen in prepare */
  tc_act_s8_params s8;
  tc_act_s16_params s16;
  uint8_t lut[256];
} sig_state;

static tc_status sig_init(tc__ctx *c, tc__node *n) {
  n->state = tc__persist_alloc(c, sizeof(sig_state));
  if (!n->state) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  return TC_OK;
}

/* Per-tensor quantization of t (scale > 0), or an error naming `what`. */
static tc_status tensor_q(tc__ctx *c, const tc__node *n, const tc__tensor *t, const char *what,
                          float *scale, int32_t *zero_point) {
  if (!t->m || t->m->q.n_scales < 1)
    return tc__fail(c, n, TC_ERR_MODEL, "%s (%s) has no quantization parameters", what,
                    tc_dtype_name(t->dtype));
  if (t->m->q.n_scales > 1)
    return tc__fail(c, n, TC_ERR_MODEL, "%s must be quantized per tensor, has %d scales", what,
                    (int)t->m->q.n_scales);
  *scale = t->m->q.scale[0];
  *zero_point = (int32_t)t->m->q.zero_point[0];
  if (!(*scale > 0.0f) || isinf(*scale))
    return tc__fail(c, n, TC_ERR_MODEL, "%s has invalid scale %g", what, (double)*scale);
  return TC_OK;
}

static tc_status sig_prepare_q(tc__ctx *c, tc__node *n, sig_state *st, const tc__tensor *in,
                               const tc__tensor *out, int is_tanh) {
  float in_scale = 0.0f, out_scale = 0.0f;
  int32_t in_zp = 0, out_zp = 0;
  tc_status s;
  if ((s = tensor_q(c, n, in, "input", &in_scale, &in_zp))) return s;
  if ((s = tensor_q(c, n, out, "output", &out_scale, &out_zp))) return s;
  switch (in->dtype) {
  case TC_DTYPE_I8: {
    const float want_scale = is_tanh ? 1.0f / 128 : 1.0f / 256;
    const int32_t want_zp = is_tanh ? 0 : -128;
    if (out_zp != want_zp || fabsf(out_scale - want_scale) > 0.001f * want_scale)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                      "int8 output must have scale %g and zero point %d, got scale %g zero "
                      "point %d",
                      (double)want_scale, (int)want_zp, (double)out_scale, (int)out_zp);
    if (!tc_act_s8_params_init(in_scale, in_zp, &st->s8))
      return tc__fail(c, n, TC_ERR_MODEL, "input scale %g is not usable", (double)in_scale);
    st->kind = SIG_S8;
    return TC_OK;
  }
  case TC_DTYPE_I16: {
    int log2 = 0;
    if (in_zp != 0 || out_zp != 0)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                      "int16 input and output must have zero point 0, got %d and %d",
                      (int)in_zp, (int)out_zp);
    if (!tc_checked_log2(out_scale, &log2) || log2 != -15)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED, "int16 output scale must be 2^-15, got %g",
                      (double)out_scale);
    int ok = is_tanh ? tc_tanh_s16_params_init(in_scale, &st->s16)
                     : tc_logistic_s16_params_init(in_scale, &st->s16);
    if (!ok)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED, "int16 input scale %g is too large",
                      (double)in_scale);
    st->kind = SIG_S16;
    return TC_OK;
  }
  default: /* TC_DTYPE_U8 */
    tc_u8_act_lut_fill(in_scale, in_zp, out_scale, out_zp, is_tanh ? tc_tanh_f : tc_logistic_f,
                       st->lut);
    st->kind = SIG_U8;
    return TC_OK;
  }
}

static tc_status sig_prepare(tc__ctx *c, tc__node *n, int is_tanh) {
  sig_state *st = n->state;
  tc_status s = tc__expect_io(c, n, 1, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  st->kind = 0;
  if (in->dtype != TC_DTYPE_F32 && in->dtype != TC_DTYPE_I8 && in->dtype != TC_DTYPE_I16 &&
      in->dtype != TC_DTYPE_U8)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "input has dtype %s; float32, int8, int16 and uint8 are supported",
                    tc_dtype_name(in->dtype));
  if ((s = tc__expect_dtype(c, n, out, "output", in->dtype))) return s;
  if (in->dtype == TC_DTYPE_F32)
    st->kind = SIG_F32;
  else if ((s = sig_prepare_q(c, n, st, in, out, is_tanh)))
    return s;
  return tc__set_shape(c, n, out, in->n_dims, in->dims);
}

static tc_status logistic_prepare(tc__ctx *c, tc__node *n) { return sig_prepare(c, n, 0); }
static tc_status tanh_prepare(tc__ctx *c, tc__node *n) { return sig_prepare(c, n, 1); }

static tc_status sig_invoke(tc__ctx *c, tc__node *n, int is_tanh) {
  const sig_state *st = n->state;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  size_t count = tc__numel(in);
  switch (st->kind) {
  case SIG_F32:
    if (is_tanh)
      tc_f32_tanh__ref(in->data, out->data, count);
    else
      tc_f32_logistic__ref(in->data, out->data, count);
    return TC_OK;
  case SIG_S8:
    if (is_tanh)
      tc_s8_tanh__ref(in->data, out->data, count, &st->s8);
    else
      tc_s8_logistic__ref(in->data, out->data, count, &st->s8);
    return TC_OK;
  case SIG_S16:
    if (is_tanh)
      tc_s16_tanh__ref(in->data, out->data, count, &st->s16);
    else
      tc_s16_logistic__ref(in->data, out->data, count, &st->s16);
    return TC_OK;
  case SIG_U8:
    tc_u8_lut__ref(in->data, out->data, count, st->lut);
    return TC_OK;
  default:
    return tc__fail(c, n, TC_ERR_STATE, "invoked before a successful prepare");
  }
}

static tc_status logistic_invoke(tc__ctx *c, tc__node *n) { return sig_invoke(c, n, 0); }
static tc_status tanh_invoke(tc__ctx *c, tc__node *n) { return sig_invoke(c, n, 1); }

const tc__opreg tc__reg_relu = {TC_OP_RELU, NULL, NULL, unary_prepare, relu_invoke, NULL};
const tc__opreg tc__reg_relu6 = {TC_OP_RELU6, NULL, NULL, unary_prepare, relu6_invoke, NULL};
const tc__opreg tc__reg_relu_n1_to_1 = {TC_OP_RELU_N1_TO_1, NULL, NULL, unary_prepare,
                                        relu1_invoke, NULL};
const tc__opreg tc__reg_logistic = {TC_OP_LOGISTIC, NULL, sig_init, logistic_prepare,
                                    logistic_invoke, NULL};
const tc__opreg tc__reg_tanh = {TC_OP_TANH, NULL, sig_init, tanh_prepare, tanh_invoke, NULL};
