/* transpose_conv.c: TRANSPOSE_CONV glue. Inputs are TFLite's: 0 output_shape (int32[4]), 1 filter
 * [out_c, kh, kw, in_c], 2 input (NHWC), 3 optional bias; TransposeConvOptions give padding,
 * strides and a fused activation. The output shape comes from the output_shape input when its
 * value is known at prepare (constant); otherwise (a graph input, as in seanet's
 * transpose_conv4) the output keeps the shape stored in the file and invoke checks that the
 * output_shape values equal it, since shapes cannot change after prepare. Padding follows
 * TFLite: computed as for a forward convolution whose input is the transposed conv's output.
 * Dtypes: float32, int8 (per-channel int8 filter, int32 bias) and 16x8 (int16 activations, int8
 * filter, int64 bias; int16 or int32 constant biases are widened at prepare as TFLite Micro
 * does), the integer ones bit-exact with TFLite Micro (kernels/ref/transpose_conv.c). */
#include <math.h>

#include "kernels/ref/qmath.h"
#include "kernels/ref/transpose_conv.h"
#include "lite/ops.h"
#include "lite/ops/conv_common.h"

enum { TCONV_F32 = 1, TCONV_S8, TCONV_S16 };

typedef struct tconv_state {
  int kind; /* TCONV_* chosen in prepare */
  int check_shape; /* output_shape unknown at prepare: compare it at invoke */
  tc_tconv2d_params p;
  tc_q_requant q;      /* integer kinds; arrays in prepare-time persistent memory */
  int64_t *bias64;     /* TCONV_S16 with an int16/int32 bias: the widened bias, else NULL */
} tconv_state;

static tc_status tconv_init(tc__ctx *c, tc__node *n) {
  n->state = tc__persist_alloc(c, sizeof(tconv_state));
  if (!n->state) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  return TC_OK;
}

/* Integer kinds: per-output-channel multipliers (filter per tensor or per channel on axis 0),
 * offsets and the activation range (conv_common.c). */
static tc_status quant_setup(tc__ctx *c, tc__node *n, tconv_state *st, const tc__tensor *in,
                             const tc__tensor *filter, const tc__tensor *out, int act) {
  const tc__quant *qi = in->m ? &in->m->q : NULL, *qw = filter->m ? &filter->m->q : NULL;
  const tc__quant *qo = out->m ? &out->m->q : NULL;
  if (!qi || qi->n_scales < 1 || !qw || qw->n_scales < 1 || !qo || qo->n_scales < 1)
    return tc__fail(c, n, TC_ERR_MODEL,
                    "quantized input, filter and output need quantization parameters");
  const tc__conv_qspec spec = {st->p.out_c, 0, 0};
  return tc__q_conv_setup(c, n, in, filter, out, act, &spec, &st->q);
}

/* Dtypes: chooses the kind; for 16x8 widens a constant int16/int32 bias to int64. */
static tc_status pick_kind(tc__ctx *c, tc__node *n, tconv_state *st, const tc__tensor *in,
                           const tc__tensor *filter, const tc__tensor *bias,
                           const tc__tensor *out) {
  tc_status s;
  st->bias64 = NULL;
  switch (in->dtype) {
  case TC_DTYPE_F32:
    st->kind = TCONV_F32;
    if ((s = tc__expect_dtype(c, n, filter, "filter", TC_DTYPE_F32))) return s;
    if (bias && (s = tc__expect_dtype(c, n, bias, "bias", TC_DTYPE_F32))) return s;
    break;
  case TC_DTYPE_I8:
    st->kind = TCONV_S8;
    if ((s = tc__expect_dtype(c, n, filter, "filter", TC_DTYPE_I8))) return s;
    if (bias && (s = tc__expect_dtype(c, n, bias, "bias", TC_DTYPE_I32))) return s;
    break;
  case TC_DTYPE_I16:
    st->kind = TCONV_S16;
    if ((s = tc__expect_dtype(c, n, filter, "filter", TC_DTYPE_I8))) return s;
    if (bias && bias->dtype != TC_DTYPE_I64) {
      if (bias->dtype != TC_DTYPE_I32 && bias->dtype != TC_DTYPE_I16)
        return tc__fail(c, n, TC_ERR_MODEL, "bias has dtype %s; expected int64 (or int32/int16)",
                        tc_dtype_name(bias->dtype));
      if (!bias->known || !bias->data)
        return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                        "an %s bias with int16 activations must be constant",
                        tc_dtype_name(bias->dtype));
      size_t nb = tc__numel(bias);
      st->bias64 = tc__persist_alloc(c, nb * sizeof(int64_t) + 1);
      if (!st->bias64) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for the bias");
      for (size_t i = 0; i < nb; i++)
        st->bias64[i] = bias->dtype == TC_DTYPE_I32 ? ((const int32_t *)bias->data)[i]
                                                     : ((const int16_t *)bias->data)[i];
    }
    break;
  default:
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "input has dtype %s; float32, int8 and int16 are implemented",
                    tc_dtype_name(in->dtype));
  }
  return tc__expect_dtype(c, n, out, "output", in->dtype);
}

static tc_status tconv_prepare(tc__ctx *c, tc__node *n) {
  tconv_state *st = n->state;
  const tc__fb *fb = tc__ctx_fb(c);
  const tc__fbt *opt = &n->m->options;
  char b1[96], b2[96];
  tc_status s = tc__expect_io(c, n, 3, 4, 1);
  if (s) return s;
  tc__tensor *shape = tc__in(c, n, 0), *filter = tc__in(c, n, 1), *in = tc__in(c, n, 2);
  tc__tensor *bias = n->n_inputs > 3 ? tc__in(c, n, 3) : NULL, *out = tc__out(c, n, 0);
  if (!filter || !in)
    return tc__fail(c, n, TC_ERR_MODEL, "filter (input 1) and input (input 2) are required");
  if ((s = tc__expect_dtype(c, n, shape, "output_shape (input 0)", TC_DTYPE_I32))) return s;
  if (tc__numel(shape) != 4 || shape->n_dims != 1)
    return tc__fail(c, n, TC_ERR_MODEL, "output_shape must have shape [4], got %s",
                    tc__dims_str(shape, b1, sizeof b1));
  if ((s = pick_kind(c, n, st, in, filter, bias, out))) return s;

  if (in->n_dims != 4)
    return tc__fail(c, n, TC_ERR_MODEL, "input must have rank 4 (NHWC), got %s",
                    tc__dims_str(in, b1, sizeof b1));
  if (filter->n_dims != 4 || filter->dims[3] != in->dims[3] || in->dims[3] <= 0)
    return tc__fail(c, n, TC_ERR_MODEL,
                    "filter must have shape [out_c, kh, kw, %d] (input channels, at least 1), "
                    "got %s",
                    (int)in->dims[3], tc__dims_str(filter, b1, sizeof b1));

  /* Output shape: the known output_shape value, else the shape stored in the file. */
  int32_t dims[4];
  st->check_shape = !(shape->known && shape->data);
  if (!st->check_shape) {
    for (int i = 0; i < 4; i++) dims[i] = ((const int32_t *)shape->data)[i];
  } else {
    if (!out->m || out->m->n_dims != 4)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                      "output_shape is not known at prepare and the output has no stored "
                      "rank-4 shape");
    for (int i = 0; i < 4; i++) dims[i] = out->m->dims[i];
  }
  if (dims[0] != in->dims[0] || dims[3] != filter->dims[0] || dims[1] <= 0 || dims[2] <= 0)
    return tc__fail(c, n, TC_ERR_MODEL,
                    "output shape [%d, %d, %d, %d] does not fit input %s and filter %s (batch "
                    "and output channels must match, sizes must be positive)",
                    (int)dims[0], (int)dims[1], (int)dims[2], (int)dims[3],
                    tc__dims_str(in, b1, sizeof b1), tc__dims_str(filter, b2, sizeof b2));
  if (bias && tc__numel(bias) != (size_t)dims[3])
    return tc__fail(c, n, TC_ERR_MODEL, "bias has shape %s, expected %d elements",
                    tc__dims_str(bias, b1, sizeof b1), (int)dims[3]);

  int pad = tc__fb_u8(fb, opt, 0, 0);
  int32_t stride_w = tc__fb_i32(fb, opt, 1, 0), stride_h = tc__fb_i32(fb, opt, 2, 0);
  int act = tc__fb_u8(fb, opt, 3, 0);
  float lo, hi;
  if ((s = tc__conv_check_options(c, n, pad, stride_w, stride_h, 1, 1, act, &lo, &hi)))
    return s;

  tc_tconv2d_params *p = &st->p;
  p->batch = in->dims[0];
  p->in_h = in->dims[1];
  p->in_w = in->dims[2];
  p->in_c = in->dims[3];
  p->out_h = dims[1];
  p->out_w = dims[2];
  p->out_c = dims[3];
  p->k_h = filter->dims[1];
  p->k_w = filter->dims[2];
  p->stride_h = stride_h;
  p->stride_w = stride_w;
  p->act_min = lo;
  p->act_max = hi;
  /* TFLite: the padding of a forward conv from the output size back to itself. */
  int unused;
  if (!tc__conv_out_size(pad, p->out_h, p->k_h, stride_h, 1, &unused, &p->pad_top) ||
      !tc__conv_out_size(pad, p->out_w, p->k_w, stride_w, 1, &unused, &p->pad_left))
    return tc__fail(c, n, TC_ERR_MODEL,
                    "filter %s does not fit the output [%d, %d, %d, %d] with %s padding",
                    tc__dims_str(filter, b1, sizeof b1), (int)dims[0], (int)dims[1],
                    (int)dims[2], (int)dims[3], pad == TC_PAD_SAME ? "SAME" : "VALID");
  if (st->kind != TCONV_F32 && (s = quant_setup(c, n, st, in, filter, out, act))) return s;
  return tc__set_shape(c, n, out, 4, dims);
}

static tc_status tconv_invoke(tc__ctx *c, tc__node *n) {
  const tconv_state *st = n->state;
  tc__tensor *shape = tc__in(c, n, 0), *filter = tc__in(c, n, 1), *in = tc__in(c, n, 2);
  tc__tensor *bias = n->n_inputs > 3 ? tc__in(c, n, 3) : NULL, *out = tc__out(c, n, 0);
  if (st->check_shape) {
    const int32_t *v = shape->data;
    const tc_tconv2d_params *p = &st->p;
    if (v[0] != p->batch || v[1] != p->out_h || v[2] != p->out_w || v[3] != p->out_c)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                      "output_shape input is [%d, %d, %d, %d] but the output was prepared as "
                      "[%d, %d, %d, %d]; changing it after prepare is not supported",
                      (int)v[0], (int)v[1], (int)v[2], (int)v[3], (int)p->batch, (int)p->out_h,
                      (int)p->out_w, (int)p->out_c);
  }
  switch (st->kind) {
  case TCONV_F32:
    tc_f32_transpose_conv2d__ref(&st->p, in->data, filter->data, bias ? bias->data : NULL,
                                 out->data);
    return TC_OK;
  case TCONV_S8:
    tc_s8_transpose_conv2d__ref(&st->p, &st->q, in->data, filter->data,
                                bias ? bias->data : NULL, out->data);
    return TC_OK;
  case TCONV_S16:
    tc_s16_transpose_conv2d__ref(&st->p, &st->q, in->data, filter->data,
                                 st->bias64 ? st->bias64 : (bias ? bias->data : NULL),
                                 out->data);
    return TC_OK;
  default:
    return tc__fail(c, n, TC_ERR_STATE, "invoked before a successful prepare");
  }
}

const tc__opreg tc__reg_transpose_conv = {TC_OP_TRANSPOSE_CONV, NULL, tconv_init, tconv_prepare,
                                          tconv_invoke, NULL};
