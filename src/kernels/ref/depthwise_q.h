/* depthwise_q.h: reference quantized depthwise convolution (TFLite DEPTHWISE_CONV_2D on int8,
 * uint8 and int16 activations), bit-exact with TensorFlow Lite Micro's reference kernels. The
 * geometry is the float kernel's tc_dwconv2d_params (float clamp fields ignored) and the
 * integer part the tc_q_requant of conv2d_q.h, indexed by output channel
 * oc = ic * depth_multiplier + m. */
#ifndef TC_KERNELS_REF_DEPTHWISE_Q_H
#define TC_KERNELS_REF_DEPTHWISE_Q_H
#include <stdint.h>

#include "kernels/ref/conv2d_q.h"
#include "kernels/ref/depthwise_conv2d.h"

/* int8 per-channel: filter [1, k_h, k_w, out_c] int8 (zero point not applied), int32 bias or
 * NULL. Taps outside the image are skipped (padding with the input zero point). */
void tc_s8_depthwise_conv2d__ref(const tc_dwconv2d_params *p, const tc_q_requant *q,
                                 const int8_t *in, const int8_t *filter, const int32_t *bias,
                                 int8_t *out);

/* Legacy uint8: uint8 input, filter and output, filter_offset applied. */
void tc_u8_depthwise_conv2d__ref(const tc_dwconv2d_params *p, const tc_q_requant *q,
                                 const uint8_t *in, const uint8_t *filter, const int32_t *bias,
                                 uint8_t *out);

/* 16x8: int16 input/output, int8 filter, int64 bias or NULL; 64-bit accumulator, tc_q_mul64. */
void tc_s16_depthwise_conv2d__ref(const tc_dwconv2d_params *p, const tc_q_requant *q,
                                  const int16_t *in, const int8_t *filter, const int64_t *bias,
                                  int16_t *out);

/* 16x8 with int32 bias: int32 accumulator, tc_q_mul. */
void tc_s16_depthwise_conv2d_acc32__ref(const tc_dwconv2d_params *p, const tc_q_requant *q,
                                        const int16_t *in, const int8_t *filter,
                                        const int32_t *bias, int16_t *out);

#endif
