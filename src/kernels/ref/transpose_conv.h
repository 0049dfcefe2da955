/* transpose_conv.h: reference transposed 2-D convolution in NHWC layout (TFLite TRANSPOSE_CONV):
 * float32, int8 (per-channel) and 16x8 (int16 activations, int8 filter, int64 bias), the
 * integer ones bit-exact with TensorFlow Lite Micro's reference kernels. The op glue
 * (src/lite/ops/transpose_conv.c) computes the geometry. */
#ifndef TC_KERNELS_REF_TRANSPOSE_CONV_H
#define TC_KERNELS_REF_TRANSPOSE_CONV_H
#include <stdint.h>

#include "kernels/ref/conv2d_q.h"

/* Geometry. All counts in elements.
 *   input  [batch, in_h, in_w, in_c]
 *   filter [out_c, k_h, k_w, in_c]
 *   bias   [out_c] or NULL
 *   output [batch, out_h, out_w, out_c]
 * Input pixel (iy, ix) spreads over output rows iy * stride_h - pad_top + ky and columns
 * ix * stride_w - pad_left + kx; contributions that land outside the output are dropped.
 * Float results are clamped to [act_min, act_max]. */
typedef struct tc_tconv2d_params {
  int32_t batch, in_h, in_w, in_c;
  int32_t out_h, out_w, out_c;
  int32_t k_h, k_w;
  int32_t stride_h, stride_w;
  int32_t pad_top, pad_left;
  float act_min, act_max;
} tc_tconv2d_params;

/* Float: each output sums its contributions (in (ky, kx, ic) order per output), adds the bias
 * and clamps. Buffers must not overlap. */
void tc_f32_transpose_conv2d__ref(const tc_tconv2d_params *p, const float *in,
                                  const float *filter, const float *bias, float *out);

/* int8: acc = sum filter * (input + input_offset) + bias, tc_q_mul per output channel,
 * + output_offset, clamp (tc_q_requant of conv2d_q.h; filter_offset ignored). */
void tc_s8_transpose_conv2d__ref(const tc_tconv2d_params *p, const tc_q_requant *q,
                                 const int8_t *in, const int8_t *filter, const int32_t *bias,
                                 int8_t *out);

/* 16x8: acc = sum filter * input + bias in 64 bits, tc_q_mul64, clamp (no offsets). */
void tc_s16_transpose_conv2d__ref(const tc_tconv2d_params *p, const tc_q_requant *q,
                                  const int16_t *in, const int8_t *filter, const int64_t *bias,
                                  int16_t *out);

#endif
