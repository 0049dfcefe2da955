/* conv2d_q.h: reference quantized 2-D convolution (TFLite CONV_2D on int8, uint8 and int16
 * activations), bit-exact with TensorFlow Lite Micro's reference kernels. The geometry is the
 * float kernel's tc_conv2d_params (its float clamp fields are ignored); the integer part is a
 * tc_q_requant shared with the other quantized conv-like kernels (depthwise, fully connected,
 * transpose conv). */
#ifndef TC_KERNELS_REF_CONV2D_Q_H
#define TC_KERNELS_REF_CONV2D_Q_H
#include <stdint.h>

#include "kernels/ref/conv2d.h"

/* How an integer accumulator becomes an output value. For each output channel oc:
 *   acc  = sum (filter + filter_offset) * (input + input_offset)  [+ bias[oc]]
 *   out  = clamp(requant(acc, mult[oc], shift[oc]) + output_offset, act_min, act_max)
 * requant is tc_q_mul (double rounding on an int32 accumulator) for 8-bit kernels and for
 * 16-bit kernels with an int32 bias, and tc_q_mul64 for 16-bit kernels with an int64 bias.
 * mult / shift hold one entry per output channel (per-tensor quantization repeats the same
 * value); shift > 0 shifts left. Offsets are the negated zero points of input and filter and
 * the output zero point; 16-bit kernels ignore input_offset and output_offset (TFLite requires
 * zero points of 0 for int16 tensors). The arrays are borrowed for the duration of the call. */
typedef struct tc_q_requant {
  int32_t input_offset;
  int32_t filter_offset;
  int32_t output_offset;
  const int32_t *mult;
  const int32_t *shift;
  int32_t act_min, act_max;
} tc_q_requant;

/* int8 input/output, int8 filter (per-channel along out_c), int32 bias or NULL. The filter
 * zero point is not applied (TFLite's int8 filters are symmetric): q->filter_offset is ignored.
 * Taps outside the image are skipped, which is padding with the input zero point. */
void tc_s8_conv2d__ref(const tc_conv2d_params *p, const tc_q_requant *q, const int8_t *in,
                       const int8_t *filter, const int32_t *bias, int8_t *out);

/* Legacy uint8: uint8 input/output and filter, per-tensor (usually), filter_offset applied. */
void tc_u8_conv2d__ref(const tc_conv2d_params *p, const tc_q_requant *q, const uint8_t *in,
                       const uint8_t *filter, const int32_t *bias, uint8_t *out);

/* 16x8: int16 input/output, int8 filter, int64 bias or NULL; 64-bit accumulator and
 * tc_q_mul64. */
void tc_s16_conv2d__ref(const tc_conv2d_params *p, const tc_q_requant *q, const int16_t *in,
                        const int8_t *filter, const int64_t *bias, int16_t *out);

/* 16x8 with an int32 bias: int32 accumulator and
 * tc_q_mul, as TFLite's ConvPerChannel<int32_t>. */
void tc_s16_conv2d_acc32__ref(const tc_conv2d_params *p, const tc_q_requant *q,
                              const int16_t *in, const int8_t *filter, const int32_t *bias,
                              int16_t *out);

/* Per-output-channel multipliers of a conv-like op: for c < n_ch,
 *   M = (double)in_scale * (double)w_scale[n_w_scales == 1 ? 0 : c] / (double)out_scale
 * (TFLite's formula, from the float scales) split by tc_q_quantize_multiplier into mult[c],
 * shift[c]. Returns 0 (and leaves the arrays partly written) if in_scale or out_scale is not
 * positive and finite, a filter scale is negative or infinite, or n_w_scales is neither 1 nor
 * n_ch; else 1. */
int tc_q_conv_multipliers(float in_scale, const float *w_scale, int32_t n_w_scales,
                          float out_scale, int32_t n_ch, int32_t *mult, int32_t *shift);

#endif
