/* pool.c: AVERAGE_POOL_2D and MAX_POOL_2D glue. Both read Pool2DOptions, need an NHWC input and
 * share the geometry (TFLite's output-size and padding rules with dilation 1); invoke calls
 * kernels/ref/pool.c (float32) or kernels/ref/pool_q.c (int8, uint8, int16: bit-exact with
 * TFLite Micro's reference kernels). Quantized pooling does not rescale, so the output must have
 * the input's zero point and scale (within 1e-6, the tolerance TFLite's debug check uses). */
#include <math.h>

#include "kernels/ref/pool.h"
#include "kernels/ref/pool_q.h"
#include "kernels/ref/qmath.h"
#include "lite/ops.h"

enum {
  POOL_AVG_F32 = 1, POOL_MAX_F32, POOL_AVG_S8, POOL_MAX_S8, POOL_AVG_U8, POOL_MAX_U8,
  POOL_AVG_S16, POOL_MAX_S16
};

typedef struct pool_state {
  int kind; /* POOL_* chosen in prepare */
  tc_pool2d_params p;
  int32_t q_min, q_max; /* integer kinds: quantized fused-activation range */
} pool_state;

/* Integer kinds: input and output quantization must agree; the fused activation becomes a
 * quantized clamp on the output's scale and zero point. */
static tc_status quant_setup(tc__ctx *c, tc__node *n, pool_state *st, const tc__tensor *in,
                             const tc__tensor *out, int act) {
  const tc__quant *qi = in->m ? &in->m->q : NULL, *qo = out->m ? &out->m->q : NULL;
  int32_t lo = INT8_MIN, hi = INT8_MAX;
  if (in->dtype == TC_DTYPE_U8) lo = 0, hi = 255;
  if (in->dtype == TC_DTYPE_I16) lo = INT16_MIN, hi = INT16_MAX;
  if (!qi || qi->n_scales < 1 || !qo || qo->n_scales < 1)
    return tc__fail(c, n, TC_ERR_MODEL, "%s input and output need quantization parameters",
                    tc_dtype_name(in->dtype));
  if (fabsf(qi->scale[0] - qo->scale[0]) > 1e-6f || qi->zero_point[0] != qo->zero_point[0])
    return tc__fail(c, n, TC_ERR_MODEL,
                    "input (scale %g, zero point %lld) and output (scale %g, zero point %lld) "
                    "quantization must match",
                    (double)qi->scale[0], (long long)qi->zero_point[0], (double)qo->scale[0],
                    (long long)qo->zero_point[0]);
  if (qo->zero_point[0] < lo || qo->zero_point[0] > hi || !(qo->scale[0] > 0.0f))
    return tc__fail(c, n, TC_ERR_MODEL, "invalid output quantization (scale %g, zero point %lld)",
                    (double)qo->scale[0], (long long)qo->zero_point[0]);
  if (!tc_q_act_range(act, qo->scale[0], (int32_t)qo->zero_point[0], lo, hi, &st->q_min,
                      &st->q_max))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d is not supported", act);
  return TC_OK;
}

static tc_status pool_init(tc__ctx *c, tc__node *n) {
  n->state = tc__persist_alloc(c, sizeof(pool_state));
  if (!n->state) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  return TC_OK;
}

static tc_status pool_prepare(tc__ctx *c, tc__node *n, int is_max) {
  pool_state *st = n->state;
  const tc__fb *fb = tc__ctx_fb(c);
  const tc__fbt *opt = &n->m->options;
  char b1[96];
  tc_status s = tc__expect_io(c, n, 1, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);

  switch (in->dtype) {
  case TC_DTYPE_F32: st->kind = is_max ? POOL_MAX_F32 : POOL_AVG_F32; break;
  case TC_DTYPE_I8: st->kind = is_max ? POOL_MAX_S8 : POOL_AVG_S8; break;
  case TC_DTYPE_U8: st->kind = is_max ? POOL_MAX_U8 : POOL_AVG_U8; break;
  case TC_DTYPE_I16: st->kind = is_max ? POOL_MAX_S16 : POOL_AVG_S16; break;
  default:
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "input has dtype %s; float32, int8, uint8 and int16 are implemented",
                    tc_dtype_name(in->dtype));
  }
  if ((s = tc__expect_dtype(c, n, out, "output", in->dtype))) return s;
  if (in->n_dims != 4)
    return tc__fail(c, n, TC_ERR_MODEL, "input must have rank 4 (NHWC), got %s",
                    tc__dims_str(in, b1, sizeof b1));

  int pad = tc__fb_u8(fb, opt, 0, 0);
  int32_t stride_w = tc__fb_i32(fb, opt, 1, 0), stride_h = tc__fb_i32(fb, opt, 2, 0);
  int32_t filter_w = tc__fb_i32(fb, opt, 3, 0), filter_h = tc__fb_i32(fb, opt, 4, 0);
  int act = tc__fb_u8(fb, opt, 5, 0);
  if (pad != TC_PAD_SAME && pad != TC_PAD_VALID)
    return tc__fail(c, n, TC_ERR_MODEL, "unknown padding %d", pad);
  if (stride_w <= 0 || stride_h <= 0)
    return tc__fail(c, n, TC_ERR_MODEL, "strides must be positive, got w=%d h=%d",
                    (int)stride_w, (int)stride_h);
  if (filter_w <= 0 || filter_h <= 0)
    return tc__fail(c, n, TC_ERR_MODEL, "filter size must be positive, got w=%d h=%d",
                    (int)filter_w, (int)filter_h);
  float lo, hi;
  if (tc__act_range_f32(act, &lo, &hi))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d is not supported", act);

  tc_pool2d_params *p = &st->p;
  p->batch = in->dims[0];
  p->in_h = in->dims[1];
  p->in_w = in->dims[2];
  p->channels = in->dims[3];
  p->filter_h = filter_h;
  p->filter_w = filter_w;
  p->stride_h = stride_h;
  p->stride_w = stride_w;
  p->act_min = lo;
  p->act_max = hi;
  if (!tc__conv_out_size(pad, p->in_h, filter_h, stride_h, 1, &p->out_h, &p->pad_top) ||
      !tc__conv_out_size(pad, p->in_w, filter_w, stride_w, 1, &p->out_w, &p->pad_left))
    return tc__fail(c, n, TC_ERR_MODEL,
                    "empty output: input %s, filter %dx%d, stride %dx%d, %s padding",
                    tc__dims_str(in, b1, sizeof b1), (int)filter_h, (int)filter_w,
                    (int)stride_h, (int)stride_w, pad == TC_PAD_SAME ? "SAME" : "VALID");
  if (in->dtype != TC_DTYPE_F32 && (s = quant_setup(c, n, st, in, out, act))) return s;
  int32_t dims[4] = {p->batch, p->out_h, p->out_w, p->channels};
  return tc__set_shape(c, n, out, 4, dims);
}

static tc_status avg_prepare(tc__ctx *c, tc__node *n) { return pool_prepare(c, n, 0); }
static tc_status max_prepare(tc__ctx *c, tc__node *n) { return pool_prepare(c, n, 1); }

static tc_status pool_invoke(tc__ctx *c, tc__node *n) {
  const pool_state *st = n->state;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  switch (st->kind) {
  case POOL_AVG_F32: tc_f32_avg_pool2d__ref(&st->p, in->data, out->data); return TC_OK;
  case POOL_MAX_F32: tc_f32_max_pool2d__ref(&st->p, in->data, out->data); return TC_OK;
  case POOL_AVG_S8:
    tc_s8_avg_pool2d__ref(&st->p, st->q_min, st->q_max, in->data, out->data);
    return TC_OK;
  case POOL_MAX_S8:
    tc_s8_max_pool2d__ref(&st->p, st->q_min, st->q_max, in->data, out->data);
    return TC_OK;
  case POOL_AVG_U8:
    tc_u8_avg_pool2d__ref(&st->p, st->q_min, st->q_max, in->data, out->data);
    return TC_OK;
  case POOL_MAX_U8:
    tc_u8_max_pool2d__ref(&st->p, st->q_min, st->q_max, in->data, out->data);
    return TC_OK;
  case POOL_AVG_S16:
    tc_s16_avg_pool2d__ref(&st->p, st->q_min, st->q_max, in->data, out->data);
    return TC_OK;
  case POOL_MAX_S16:
    tc_s16_max_pool2d__ref(&st->p, st->q_min, st->q_max, in->data, out->data);
    return TC_OK;
  default: return tc__fail(c, n, TC_ERR_STATE, "invoked before a successful prepare");
  }
}

const tc__opreg tc__reg_average_pool2d = {TC_OP_AVERAGE_POOL_2D, NULL, pool_init, avg_prepare,
                                          pool_invoke, NULL};
const tc__opreg tc__reg_max_pool2d = {TC_OP_MAX_POOL_2D, NULL, pool_init, max_prepare,
                                      pool_invoke, NULL};
