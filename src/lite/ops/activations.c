/* activations.c: RELU, RELU6, RELU_N1_TO_1, LOGISTIC, TANH (float32). Output has the input's
 * shape; the math is in kernels/ref/activations.c. Integer variants come with the integer
 * runtime (issue #3). */
#include <math.h>

#include "kernels/ref/activations.h"
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

static tc_status logistic_invoke(tc__ctx *c, tc__node *n) {
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  tc_f32_logistic__ref(in->data, out->data, tc__numel(in));
  return TC_OK;
}

static tc_status tanh_invoke(tc__ctx *c, tc__node *n) {
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  tc_f32_tanh__ref(in->data, out->data, tc__numel(in));
  return TC_OK;
}

const tc__opreg tc__reg_relu = {TC_OP_RELU, NULL, NULL, unary_prepare, relu_invoke, NULL};
const tc__opreg tc__reg_relu6 = {TC_OP_RELU6, NULL, NULL, unary_prepare, relu6_invoke, NULL};
const tc__opreg tc__reg_relu_n1_to_1 = {TC_OP_RELU_N1_TO_1, NULL, NULL, unary_prepare,
                                        relu1_invoke, NULL};
const tc__opreg tc__reg_logistic = {TC_OP_LOGISTIC, NULL, NULL, unary_prepare, logistic_invoke,
                                    NULL};
const tc__opreg tc__reg_tanh = {TC_OP_TANH, NULL, NULL, unary_prepare, tanh_invoke, NULL};
