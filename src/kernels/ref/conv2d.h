/* conv2d.h: reference float 2-D convolution in NHWC layout (TFLite CONV_2D semantics), with
 * strides, dilation, explicit leading padding, optional bias, grouped filters and a fused clamp.
 * The op glue (src/lite/ops/conv2d.c) computes the geometry; training code and optimised
 * variants reuse the same params struct. */
#ifndef TC_KERNELS_REF_CONV2D_H
#define TC_KERNELS_REF_CONV2D_H
#include <stdint.h>

/* Geometry of one convolution. All counts are in elements.
 *   input  [batch, in_h, in_w, in_c]
 *   filter [out_c, k_h, k_w, filter_c]   filter_c = in_c / groups (in_c % filter_c == 0)
 *   bias   [out_c] or NULL
 *   output [batch, out_h, out_w, out_c]  out_c % groups == 0
 * Output channel oc reads input channels [g * filter_c, (g + 1) * filter_c) with
 * g = oc / (out_c / groups). Input pixel for output (oy, ox) and tap (ky, kx) is
 * (oy * stride_h - pad_top + ky * dilation_h, ox * stride_w - pad_left + kx * dilation_w);
 * taps outside the image contribute nothing (zero padding). The result is clamped to
 * [act_min, act_max] (use -INFINITY / INFINITY for no activation). */
typedef struct tc_conv2d_params {
  int32_t batch, in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t k_h, k_w, filter_c;
  int32_t stride_h, stride_w;
  int32_t dilation_h, dilation_w;
  int32_t pad_top, pad_left;
  float act_min, act_max;
} tc_conv2d_params;

/* Computes the convolution. `in`, `filter`, `out` must not overlap. Accumulates each output in a
 * float in (ky, kx, ic) order, then adds the bias and clamps, as TFLite's reference kernel. */
void tc_f32_conv2d__ref(const tc_conv2d_params *p, const float *in, const float *filter,
                        const float *bias, float *out);

#endif
