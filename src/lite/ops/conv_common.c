/* conv_common.c: quantization setup shared by the convolution-like glue files (see
 * conv_common.h), so conv2d, depthwise_conv2d, transpose_conv and fully_connected validate and
 * requantize the same way. */
#include "lite/ops/conv_common.h"

#include "kernels/ref/qmath.h"

void tc__q_dtype_range(tc_dtype dt, int32_t *lo, int32_t *hi) {
  switch (dt) {
  case TC_DTYPE_U8: *lo = 0; *hi = 255; return;
  case TC_DTYPE_I16: *lo = INT16_MIN; *hi = INT16_MAX; return;
  default: *lo = INT8_MIN; *hi = INT8_MAX; return;
  }
}

tc_status tc__q_per_tensor(tc__ctx *c, tc__node *n, const tc__tensor *t, const char *what,
                           float *scale, int32_t *zp) {
  if (!t->m || t->m->q.n_scales < 1)
    return tc__fail(c, n, TC_ERR_MODEL, "%s has no quantization", what);
  if (t->m->q.n_scales > 1)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "%s has per-channel quantization (%d scales); this op takes one", what,
                    (int)t->m->q.n_scales);
  *scale = t->m->q.scale[0];
  *zp = (int32_t)t->m->q.zero_point[0]; /* in the type's range: the loader checks it */
  return TC_OK;
}

tc_status tc__q_check_conv_quant(tc__ctx *c, tc__node *n, const tc__tensor *in,
                                 const tc__tensor *filter, const tc__tensor *out,
                                 const tc__conv_qspec *spec) {
  const tc__quant *qi = in->m ? &in->m->q : NULL, *qw = filter->m ? &filter->m->q : NULL;
  const tc__quant *qo = out->m ? &out->m->q : NULL;
  if (!qi || qi->n_scales < 1)
    return tc__fail(c, n, TC_ERR_MODEL, "%s input has no quantization parameters",
                    tc_dtype_name(in->dtype));
  if (!qw || qw->n_scales < 1)
    return tc__fail(c, n, TC_ERR_MODEL, "%s %s no quantization parameters",
                    tc_dtype_name(filter->dtype), spec->weights ? "weights have" : "filter has");
  if (!qo || qo->n_scales < 1)
    return tc__fail(c, n, TC_ERR_MODEL, "%s output has no quantization parameters",
                    tc_dtype_name(out->dtype));
  if (qw->n_scales != 1 && (qw->n_scales != spec->out_c || qw->axis != spec->axis))
    return tc__fail(c, n, TC_ERR_MODEL,
                    "%s %d scales on axis %d; expected 1, or %d (one per output %s) on axis %d",
                    spec->weights ? "weights have" : "filter has", (int)qw->n_scales,
                    (int)qw->axis, (int)spec->out_c, spec->weights ? "feature" : "channel",
                    spec->axis);
  return TC_OK;
}

tc_status tc__q_conv_setup(tc__ctx *c, tc__node *n, const tc__tensor *in,
                           const tc__tensor *filter, const tc__tensor *out, int act,
                           const tc__conv_qspec *spec, tc_q_requant *q) {
  tc_status s = tc__q_check_conv_quant(c, n, in, filter, out, spec);
  if (s) return s;
  const tc__quant *qi = &in->m->q, *qw = &filter->m->q, *qo = &out->m->q;
  const int32_t out_c = spec->out_c;
  int32_t lo, hi, in_lo, in_hi;
  int32_t *mult = tc__persist_alloc(c, (size_t)out_c * sizeof(int32_t) + 1);
  int32_t *shift = tc__persist_alloc(c, (size_t)out_c * sizeof(int32_t) + 1);
  if (!mult || !shift) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for multipliers");
  if (!tc_q_conv_multipliers(qi->scale[0], qw->scale, qw->n_scales, qo->scale[0], out_c, mult,
                             shift))
    return tc__fail(c, n, TC_ERR_MODEL,
                    "invalid scales: input %g, output %g, %s scales must be >= 0",
                    (double)qi->scale[0], (double)qo->scale[0],
                    spec->weights ? "weight" : "filter");
  tc__q_dtype_range(in->dtype, &in_lo, &in_hi);
  tc__q_dtype_range(out->dtype, &lo, &hi);
  int64_t zi = qi->zero_point[0], zo = qo->zero_point[0], zw = qw->zero_point[0];
  if (zi < in_lo || zi > in_hi || zo < lo || zo > hi)
    return tc__fail(c, n, TC_ERR_MODEL, "zero points out of range: input %lld, output %lld",
                    (long long)zi, (long long)zo);
  if (spec->weights && (zw < -255 || zw > 255))
    return tc__fail(c, n, TC_ERR_MODEL, "weights zero point %lld is out of range",
                    (long long)zw);
  if (in->dtype == TC_DTYPE_I16 && (zi != 0 || zo != 0))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "int16 activations need zero points 0, got input %lld, output %lld",
                    (long long)zi, (long long)zo);
  q->input_offset = (int32_t)-zi;
  if (spec->weights)
    q->filter_offset = qw->n_scales > 1 ? 0 : (int32_t)-zw;
  else
    q->filter_offset = filter->dtype == TC_DTYPE_U8 ? (int32_t)-zw : 0;
  q->output_offset = (int32_t)zo;
  q->mult = mult;
  q->shift = shift;
  if (!tc_q_act_range(act, qo->scale[0], (int32_t)zo, lo, hi, &q->act_min, &q->act_max))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d is not supported", act);
  return TC_OK;
}

tc_status tc__conv_check_options(tc__ctx *c, tc__node *n, int pad, int32_t stride_w,
                                 int32_t stride_h, int32_t dil_w, int32_t dil_h, int act,
                                 float *lo, float *hi) {
  if (pad != TC_PAD_SAME && pad != TC_PAD_VALID)
    return tc__fail(c, n, TC_ERR_MODEL, "unknown padding %d", pad);
  if (stride_w <= 0 || stride_h <= 0)
    return tc__fail(c, n, TC_ERR_MODEL, "strides must be positive, got w=%d h=%d",
                    (int)stride_w, (int)stride_h);
  if (dil_w <= 0 || dil_h <= 0)
    return tc__fail(c, n, TC_ERR_MODEL, "dilation factors must be positive, got w=%d h=%d",
                    (int)dil_w, (int)dil_h);
  if (tc__act_range_f32(act, lo, hi))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d is not supported", act);
  return TC_OK;
}

tc_status tc__conv_pick_kind(tc__ctx *c, tc__node *n, const tc__tensor *in,
                             const tc__tensor *filter, const tc__tensor *bias,
                             const tc__tensor *out, const char *filter_name,
                             tc_dtype f32_filter, int *kind) {
  tc_dtype fdt, bdt;
  tc_status s;
  switch (in->dtype) {
  case TC_DTYPE_F32: *kind = TC__CK_F32; fdt = f32_filter; bdt = TC_DTYPE_F32; break;
  case TC_DTYPE_I8: *kind = TC__CK_S8; fdt = TC_DTYPE_I8; bdt = TC_DTYPE_I32; break;
  case TC_DTYPE_U8: *kind = TC__CK_U8; fdt = TC_DTYPE_U8; bdt = TC_DTYPE_I32; break;
  case TC_DTYPE_I16:
    fdt = TC_DTYPE_I8;
    bdt = bias && bias->dtype == TC_DTYPE_I32 ? TC_DTYPE_I32 : TC_DTYPE_I64;
    *kind = bdt == TC_DTYPE_I32 ? TC__CK_S16_ACC32 : TC__CK_S16;
    break;
  default:
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "input has dtype %s; float32, int8, uint8 and int16 are implemented",
                    tc_dtype_name(in->dtype));
  }
  if ((s = tc__expect_dtype(c, n, filter, filter_name, fdt))) return s;
  if (bias && (s = tc__expect_dtype(c, n, bias, "bias", bdt))) return s;
  return tc__expect_dtype(c, n, out, "output", in->dtype);
}

tc_status tc__conv_io(tc__ctx *c, tc__node *n, tc__tensor **in, tc__tensor **filter,
                      tc__tensor **bias, tc__tensor **out) {
  tc_status s = tc__expect_io(c, n, 2, 3, 1);
  if (s) return s;
  *in = tc__in(c, n, 0);
  *filter = tc__in(c, n, 1);
  *out = tc__out(c, n, 0);
  *bias = n->n_inputs > 2 ? tc__in(c, n, 2) : NULL;
  return TC_OK;
}
