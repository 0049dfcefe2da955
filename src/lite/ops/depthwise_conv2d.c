/* depthwise_conv2d.c: DEPTHWISE_CONV_2D glue. Prepare reads DepthwiseConv2DOptions, checks
 * dtypes and shapes ([1, kh, kw, out_c] filter, optional bias) and computes the geometry; invoke
 * calls kernels/ref/depthwise_conv2d.c. Like TFLite, the depth multiplier is derived from the
 * shapes (out_c / in_c) because the option is 0 or stale in some real files. Only float32 is
 * implemented; integer paths come as new kernel kinds (issue #3). */
#include <math.h>

#include "kernels/ref/depthwise_conv2d.h"
#include "lite/ops.h"

enum { DW_F32 = 1 };

typedef struct dw_state {
  int kind; /* DW_* chosen in prepare */
  tc_dwconv2d_params p;
} dw_state;

static tc_status dw_init(tc__ctx *c, tc__node *n) {
  n->state = tc__persist_alloc(c, sizeof(dw_state));
  if (!n->state) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  return TC_OK;
}

static tc_status dw_prepare(tc__ctx *c, tc__node *n) {
  dw_state *st = n->state;
  const tc__fb *fb = tc__ctx_fb(c);
  const tc__fbt *opt = &n->m->options;
  char b1[96], b2[96];
  tc_status s = tc__expect_io(c, n, 2, 3, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *filter = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  tc__tensor *bias = n->n_inputs > 2 ? tc__in(c, n, 2) : NULL;

  if (in->dtype != TC_DTYPE_F32)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "input has dtype %s; only float32 is implemented",
                    tc_dtype_name(in->dtype));
  if ((s = tc__expect_dtype(c, n, filter, "filter", TC_DTYPE_F32))) return s;
  if (bias && (s = tc__expect_dtype(c, n, bias, "bias", TC_DTYPE_F32))) return s;
  if ((s = tc__expect_dtype(c, n, out, "output", TC_DTYPE_F32))) return s;
  st->kind = DW_F32;

  if (in->n_dims != 4)
    return tc__fail(c, n, TC_ERR_MODEL, "input must have rank 4 (NHWC), got %s",
                    tc__dims_str(in, b1, sizeof b1));
  if (filter->n_dims != 4 || filter->dims[0] != 1)
    return tc__fail(c, n, TC_ERR_MODEL, "filter must have shape [1, kh, kw, channels], got %s",
                    tc__dims_str(filter, b1, sizeof b1));
  int32_t in_c = in->dims[3], out_c = filter->dims[3];
  if (in_c <= 0 || out_c % in_c != 0)
    return tc__fail(c, n, TC_ERR_MODEL,
                    "filter channels (%d) must be a multiple of input channels (%d): input %s, "
                    "filter %s",
                    (int)out_c, (int)in_c, tc__dims_str(in, b1, sizeof b1),
                    tc__dims_str(filter, b2, sizeof b2));
  if (bias && tc__numel(bias) != (size_t)out_c)
    return tc__fail(c, n, TC_ERR_MODEL, "bias has shape %s, expected %d elements",
                    tc__dims_str(bias, b1, sizeof b1), (int)out_c);

  /* Options (field 3, depth_multiplier, is deliberately ignored: see the file comment). */
  int pad = tc__fb_u8(fb, opt, 0, 0);
  int32_t stride_w = tc__fb_i32(fb, opt, 1, 0), stride_h = tc__fb_i32(fb, opt, 2, 0);
  int act = tc__fb_u8(fb, opt, 4, 0);
  int32_t dil_w = tc__fb_i32(fb, opt, 5, 1), dil_h = tc__fb_i32(fb, opt, 6, 1);
  if (pad != TC_PAD_SAME && pad != TC_PAD_VALID)
    return tc__fail(c, n, TC_ERR_MODEL, "unknown padding %d", pad);
  if (stride_w <= 0 || stride_h <= 0)
    return tc__fail(c, n, TC_ERR_MODEL, "strides must be positive, got w=%d h=%d",
                    (int)stride_w, (int)stride_h);
  if (dil_w <= 0 || dil_h <= 0)
    return tc__fail(c, n, TC_ERR_MODEL, "dilation factors must be positive, got w=%d h=%d",
                    (int)dil_w, (int)dil_h);
  float lo, hi;
  if (tc__act_range_f32(act, &lo, &hi))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d is not supported", act);

  tc_dwconv2d_params *p = &st->p;
  p->batch = in->dims[0];
  p->in_h = in->dims[1];
  p->in_w = in->dims[2];
  p->in_c = in_c;
  p->depth_multiplier = out_c / in_c;
  p->k_h = filter->dims[1];
  p->k_w = filter->dims[2];
  p->stride_h = stride_h;
  p->stride_w = stride_w;
  p->dilation_h = dil_h;
  p->dilation_w = dil_w;
  p->act_min = lo;
  p->act_max = hi;
  if (!tc__conv_out_size(pad, p->in_h, p->k_h, stride_h, dil_h, &p->out_h, &p->pad_top) ||
      !tc__conv_out_size(pad, p->in_w, p->k_w, stride_w, dil_w, &p->out_w, &p->pad_left))
    return tc__fail(c, n, TC_ERR_MODEL,
                    "empty output: input %s, filter %s, stride %dx%d, dilation %dx%d, %s padding",
                    tc__dims_str(in, b1, sizeof b1), tc__dims_str(filter, b2, sizeof b2),
                    (int)stride_h, (int)stride_w, (int)dil_h, (int)dil_w,
                    pad == TC_PAD_SAME ? "SAME" : "VALID");
  int32_t dims[4] = {p->batch, p->out_h, p->out_w, out_c};
  return tc__set_shape(c, n, out, 4, dims);
}

static tc_status dw_invoke(tc__ctx *c, tc__node *n) {
  const dw_state *st = n->state;
  tc__tensor *in = tc__in(c, n, 0), *filter = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  tc__tensor *bias = n->n_inputs > 2 ? tc__in(c, n, 2) : NULL;
  switch (st->kind) {
  case DW_F32:
    tc_f32_depthwise_conv2d__ref(&st->p, in->data, filter->data, bias ? bias->data : NULL,
                                 out->data);
    return TC_OK;
  default:
    return tc__fail(c, n, TC_ERR_STATE, "invoked before a successful prepare");
  }
}

const tc__opreg tc__reg_depthwise_conv2d = {TC_OP_DEPTHWISE_CONV_2D, NULL, dw_init, dw_prepare,
                                            dw_invoke, NULL};
