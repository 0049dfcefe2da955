/* depthwise_conv2d.h: reference float depthwise 2-D convolution in NHWC layout (TFLite
 * DEPTHWISE_CONV_2D semantics): every input channel is convolved with its own depth_multiplier
 * filters. The op glue (src/lite/ops/depthwise_conv2d.c) computes the geometry. */
#ifndef TC_KERNELS_REF_DEPTHWISE_CONV2D_H
#define TC_KERNELS_REF_DEPTHWISE_CONV2D_H
#include <stdint.h>

/* Geometry of one depthwise convolution. All counts are in elements.
 *   input  [batch, in_h, in_w, in_c]
 *   filter [1, k_h, k_w, in_c * depth_multiplier]
 *   bias   [in_c * depth_multiplier] or NULL
 *   output [batch, out_h, out_w, in_c * depth_multiplier]
 * Output channel oc = ic * depth_multiplier + m reads only input channel ic. Padding, strides,
 * dilation and the clamp behave as in tc_conv2d_params. */
typedef struct tc_dwconv2d_params {
  int32_t batch, in_h, in_w, in_c;
  int32_t out_h, out_w, depth_multiplier;
  int32_t k_h, k_w;
  int32_t stride_h, stride_w;
  int32_t dilation_h, dilation_w;
  int32_t pad_top, pad_left;
  float act_min, act_max;
} tc_dwconv2d_params;

/* Computes the depthwise convolution; buffers must not overlap. Each output is accumulated in
 * a float in (ky, kx) order, then bias is added and the result clamped (TFLite reference). */
void tc_f32_depthwise_conv2d__ref(const tc_dwconv2d_params *p, const float *in,
                                  const float *filter, const float *bias, float *out);

#endif
