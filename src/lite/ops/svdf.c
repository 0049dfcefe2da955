/* svdf.c: SVDF (builtin 27). Inputs: input [batch, n_input], weights_feature [n_filter,
 * n_input], weights_time [n_filter, n_memory], bias [n_unit] (optional), activation_state
 * (variable, [batch, n_memory * n_filter]); options SVDFOptions (rank, fused activation,
 * asymmetric_quantize_inputs). Float32, and the integer forms of TFLite Micro: int8 input and
 * feature weights with an int16 (int16 time weights) or int8 (int8 time weights) memory, int32
 * bias, int8 output; as in TFLM the integer form does not apply the fused activation. Hybrid
 * SVDF (float input, int8 weights) is not implemented. Math: kernels/ref/svdf.c. */
#include <string.h>

#include "kernels/ref/svdf.h"
#include "lite/ops.h"
#include "lite/ops/conv_common.h"

enum { IN_INPUT = 0, IN_FEATURE = 1, IN_TIME = 2, IN_BIAS = 3, IN_STATE = 4 };

typedef struct svdf_data {
  tc_svdf_params p;
  tc_dtype mem; /* F32, I16 or I8 */
  int slot;
} svdf_data;

static tc_status svdf_init(tc__ctx *c, tc__node *n) {
  n->state = tc__persist_alloc(c, sizeof(svdf_data));
  if (!n->state) return tc__fail(c, n, TC_ERR_NOMEM, "no memory for the SVDF state");
  return TC_OK;
}

static tc_status expect_rank2(tc__ctx *c, tc__node *n, const tc__tensor *t, const char *what) {
  if (t->n_dims != 2) {
    char got[96];
    return tc__fail(c, n, TC_ERR_MODEL, "%s has shape %s, expected rank 2", what,
                    tc__dims_str(t, got, sizeof got));
  }
  return TC_OK;
}

static tc_status svdf_prepare(tc__ctx *c, tc__node *n) {
  svdf_data *d = n->state;
  tc_status s;
  if (n->n_inputs != 5 || n->n_outputs != 1)
    return tc__fail(c, n, TC_ERR_MODEL, "expected 5 inputs and 1 output, got %d and %d",
                    (int)n->n_inputs, (int)n->n_outputs);
  tc__tensor *in = tc__in(c, n, IN_INPUT), *wf = tc__in(c, n, IN_FEATURE),
             *wt = tc__in(c, n, IN_TIME), *bias = tc__in(c, n, IN_BIAS),
             *st = tc__in(c, n, IN_STATE), *out = tc__out(c, n, 0);
  if (!in || !wf || !wt || !st || !out)
    return tc__fail(c, n, TC_ERR_MODEL,
                    "input, weights_feature, weights_time, activation_state and the output "
                    "are required (only the bias is optional)");

  const tc__fb *fb = tc__ctx_fb(c);
  const tc__fbt *o = &n->m->options;
  int rank = tc__fb_i32(fb, o, 0, 0);
  int act = tc__fb_i8(fb, o, 1, 0);
  if (rank <= 0) return tc__fail(c, n, TC_ERR_MODEL, "rank is %d, expected > 0", rank);
  if (act < TC_ACT_NONE || act > TC_ACT_SIGN_BIT)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d is not supported", act);

  if ((s = expect_rank2(c, n, in, "input")) || (s = expect_rank2(c, n, wf, "weights_feature")) ||
      (s = expect_rank2(c, n, wt, "weights_time")) ||
      (s = expect_rank2(c, n, st, "activation_state")))
    return s;
  const int32_t n_batch = in->dims[0], n_input = in->dims[1];
  const int32_t n_filter = wf->dims[0], n_memory = wt->dims[1];
  char a[96], b[96];
  if (n_batch <= 0 || n_input <= 0 || n_filter <= 0 || n_memory <= 0)
    return tc__fail(c, n, TC_ERR_MODEL, "input %s, weights_feature %s, weights_time %s: sizes "
                    "must be positive", tc__dims_str(in, a, sizeof a),
                    tc__dims_str(wf, b, sizeof b), tc__dims_str(wt, b, sizeof b));
  if (n_filter % rank != 0)
    return tc__fail(c, n, TC_ERR_MODEL, "%d filters are not a multiple of rank %d",
                    (int)n_filter, rank);
  const int32_t n_unit = n_filter / rank;
  if (wf->dims[1] != n_input)
    return tc__fail(c, n, TC_ERR_MODEL, "weights_feature has shape %s, expected [%d, %d]",
                    tc__dims_str(wf, a, sizeof a), (int)n_filter, (int)n_input);
  if (wt->dims[0] != n_filter)
    return tc__fail(c, n, TC_ERR_MODEL, "weights_time has shape %s, expected [%d, %d]",
                    tc__dims_str(wt, a, sizeof a), (int)n_filter, (int)n_memory);
  if (bias && (bias->n_dims != 1 || bias->dims[0] != n_unit))
    return tc__fail(c, n, TC_ERR_MODEL, "bias has shape %s, expected [%d]",
                    tc__dims_str(bias, a, sizeof a), (int)n_unit);
  if (st->dims[0] != n_batch || (int64_t)st->dims[1] != (int64_t)n_memory * n_filter)
    return tc__fail(c, n, TC_ERR_MODEL, "activation_state has shape %s, expected [%d, %d]",
                    tc__dims_str(st, a, sizeof a), (int)n_batch, (int)(n_memory * n_filter));
  if ((st->m && !st->m->is_variable) || st->kind == TC__T_CONST)
    return tc__fail(c, n, TC_ERR_MODEL, "activation_state must be a variable tensor");

  memset(&d->p, 0, sizeof d->p);
  d->p.n_batch = n_batch;
  d->p.n_input = n_input;
  d->p.n_filter = n_filter;
  d->p.n_rank = rank;
  d->p.n_memory = n_memory;
  d->p.activation = act;

  size_t scratch;
  if (in->dtype == TC_DTYPE_F32) {
    if ((s = tc__expect_dtype(c, n, wf, "weights_feature", TC_DTYPE_F32)) ||
        (s = tc__expect_dtype(c, n, wt, "weights_time", TC_DTYPE_F32)) ||
        (s = tc__expect_dtype(c, n, st, "activation_state", TC_DTYPE_F32)) ||
        (bias && (s = tc__expect_dtype(c, n, bias, "bias", TC_DTYPE_F32))) ||
        (s = tc__expect_dtype(c, n, out, "output", TC_DTYPE_F32)))
      return s;
    d->mem = TC_DTYPE_F32;
    scratch = tc_f32_svdf_scratch_size(&d->p);
  } else if (in->dtype == TC_DTYPE_I8) {
    if ((s = tc__expect_dtype(c, n, wf, "weights_feature", TC_DTYPE_I8)) ||
        (bias && (s = tc__expect_dtype(c, n, bias, "bias", TC_DTYPE_I32))) ||
        (s = tc__expect_dtype(c, n, out, "output", TC_DTYPE_I8)))
      return s;
    if (wt->dtype != TC_DTYPE_I16 && wt->dtype != TC_DTYPE_I8)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                      "weights_time has dtype %s; an int8 SVDF takes int16 or int8",
                      tc_dtype_name(wt->dtype));
    if (st->dtype != wt->dtype)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                      "activation_state has dtype %s but weights_time %s; they must match",
                      tc_dtype_name(st->dtype), tc_dtype_name(wt->dtype));
    float s_in, s_wf, s_wt, s_st, s_out;
    int32_t zp;
    if ((s = tc__q_per_tensor(c, n, in, "input", &s_in, &d->p.input_zp)) ||
        (s = tc__q_per_tensor(c, n, wf, "weights_feature", &s_wf, &zp)) ||
        (s = tc__q_per_tensor(c, n, wt, "weights_time", &s_wt, &zp)) ||
        (s = tc__q_per_tensor(c, n, st, "activation_state", &s_st, &d->p.state_zp)) ||
        (s = tc__q_per_tensor(c, n, out, "output", &s_out, &d->p.output_zp)))
      return s;
    if (!tc_svdf_q_params_init(&d->p, s_in, s_wf, s_wt, s_st, s_out))
      return tc__fail(c, n, TC_ERR_MODEL, "the SVDF's quantization scales are not usable");
    d->mem = wt->dtype;
    scratch = tc_s8_svdf_scratch_size(&d->p);
  } else {
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "input has dtype %s; float32 and int8 SVDF are implemented",
                    tc_dtype_name(in->dtype));
  }
  int32_t out_dims[2] = {n_batch, n_unit};
  if ((s = tc__set_shape(c, n, out, 2, out_dims))) return s;
  return tc__scratch_request(c, n, scratch, &d->slot);
}

static tc_status svdf_invoke(tc__ctx *c, tc__node *n) {
  const svdf_data *d = n->state;
  const tc__tensor *bias = tc__in(c, n, IN_BIAS);
  const void *in = tc__in(c, n, IN_INPUT)->data, *wf = tc__in(c, n, IN_FEATURE)->data,
             *wt = tc__in(c, n, IN_TIME)->data, *b = bias ? bias->data : NULL;
  void *st = tc__in(c, n, IN_STATE)->data, *out = tc__out(c, n, 0)->data;
  void *scratch = tc__scratch(c, n, d->slot);
  switch (d->mem) {
  case TC_DTYPE_F32:
    tc_f32_svdf__ref(&d->p, in, wf, wt, b, st, out, scratch);
    break;
  case TC_DTYPE_I16:
    tc_s8_svdf_s16__ref(&d->p, in, wf, wt, b, st, out, scratch);
    break;
  default:
    tc_s8_svdf_s8__ref(&d->p, in, wf, wt, b, st, out, scratch);
    break;
  }
  return TC_OK;
}

const tc__opreg tc__reg_svdf = {.builtin = TC_OP_SVDF, .init = svdf_init,
                                .prepare = svdf_prepare, .invoke = svdf_invoke};
