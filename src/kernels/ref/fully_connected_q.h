/* fully_connected_q.h: reference quantized fully-connected layer (TFLite FULLY_CONNECTED on
 * int8, uint8 and int16 activations), bit-exact with TensorFlow Lite Micro's reference kernels.
 * Shapes are the float kernel's tc_fc_params (float clamp ignored); the integer part is the
 * tc_q_requant of conv2d_q.h with one mult/shift entry per output feature. */
#ifndef TC_KERNELS_REF_FULLY_CONNECTED_Q_H
#define TC_KERNELS_REF_FULLY_CONNECTED_Q_H
#include <stdint.h>

#include "kernels/ref/conv2d_q.h"
#include "kernels/ref/fully_connected.h"

/* out[b][o] = clamp(tc_q_mul(sum_k (w[o][k] + filter_offset) * (in[b][k] + input_offset)
 *                            + bias[o], mult[o], shift[o]) + output_offset)
 * int8 input, weights and output; bias int32 or NULL. Per-channel models pass
 * filter_offset 0 (TFLite applies the weights' zero point only to per-tensor weights). */
void tc_s8_fully_connected__ref(const tc_fc_params *p, const tc_q_requant *q, const int8_t *in,
                                const int8_t *weights, const int32_t *bias, int8_t *out);

/* Legacy uint8 input, weights and output, same arithmetic. */
void tc_u8_fully_connected__ref(const tc_fc_params *p, const tc_q_requant *q,
                                const uint8_t *in, const uint8_t *weights, const int32_t *bias,
                                uint8_t *out);

/* 16x8: int16 input/output, int8 weights (filter_offset applied), int64 bias or NULL; 64-bit
 * accumulator, tc_q_mul64, no input or output offset. */
void tc_s16_fully_connected__ref(const tc_fc_params *p, const tc_q_requant *q,
                                 const int16_t *in, const int8_t *weights, const int64_t *bias,
                                 int16_t *out);

/* 16x8 with int32 bias: int32 accumulator and tc_q_mul. */
void tc_s16_fully_connected_acc32__ref(const tc_fc_params *p, const tc_q_requant *q,
                                       const int16_t *in, const int8_t *weights,
                                       const int32_t *bias, int16_t *out);

#endif
