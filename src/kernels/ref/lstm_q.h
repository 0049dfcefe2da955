/* lstm_q.h: reference kernel for the integer UNIDIRECTIONAL_SEQUENCE_LSTM as TensorFlow Lite
 * Micro computes it (int8 input, hidden state and weights, int32 bias, int16 gates and cell
 * state): each gate is two int8 fully-connected products requantized to Q3.12 int16 and added
 * with saturation, then an int16 sigmoid/tanh built on a 256-entry sigmoid table. Only the
 * standard LSTM (no CIFG, peephole, projection or layer norm) exists in this form. The
 * interpreter glue is src/lite/ops/lstm.c. */
#ifndef TC_KERNELS_REF_LSTM_Q_H
#define TC_KERNELS_REF_LSTM_Q_H
#include <stddef.h>
#include <stdint.h>

#include "kernels/ref/lstm.h" /* TC_LSTM_GATE_* */

/* int16 sigmoid: input Q3.12 (real = x / 4096), output Q0.15 in [0, 32767]. n values, in place
 * allowed. TFLM reference_integer_ops::Logistic with multiplier 0 and shift 0. */
void tc_s16_lstm_sigmoid__ref(const int16_t *in, int16_t *out, size_t n);

/* int16 tanh of a tensor with scale 2^scale_power (e.g. -12 for Q3.12, -11 for the cell state
 * of scale 2^-11), output Q0.15 in [-32767, 32767]. In place allowed. TFLM's lstm Tanh, which
 * maps scale_power to the (multiplier, left shift) pair of reference_integer_ops::Tanh. */
void tc_s16_lstm_tanh__ref(int scale_power, const int16_t *in, int16_t *out, size_t n);

/* Fixed-point multiplier of one requantization: real M ~= mult * 2^(shift - 31). */
typedef struct tc_lstm_q_mul {
  int32_t mult;
  int shift;
} tc_lstm_q_mul;

/* Everything the integer step needs, computed once by tc_s8_lstm_params_init. */
typedef struct tc_lstm_q_params {
  int max_time, n_batch, n_input, n_cell; /* n_output == n_cell (no projection) */
  int time_major;  /* 1: input/output are [max_time, n_batch, ...]; 0: [n_batch, max_time, ...] */
  int32_t input_zp;  /* zero point of the input */
  int32_t hidden_zp; /* zero point of the hidden (output) state */
  tc_lstm_q_mul x[4]; /* per gate (TC_LSTM_GATE_* order): input * W_x -> Q3.12 */
  tc_lstm_q_mul h[4]; /* per gate: hidden * W_h -> Q3.12 */
  tc_lstm_q_mul forget_cell; /* Q0.15 forget gate * cell state -> cell state */
  tc_lstm_q_mul input_cell;  /* Q0.15 input gate * Q0.15 cell gate -> cell state */
  tc_lstm_q_mul hidden;      /* Q0.15 tanh(cell) * Q0.15 output gate -> hidden state */
  int cell_scale_power;      /* cell state scale = 2^cell_scale_power */
  int16_t cell_clip;         /* > 0: clamp the cell state to [-cell_clip, cell_clip] */
} tc_lstm_q_params;

/* The quantization of the tensors an integer LSTM reads (scales as the file stores them). */
typedef struct tc_lstm_q_scales {
  float input, hidden, cell;  /* scales of input, hidden state (= output), cell state */
  int32_t input_zp, hidden_zp;
  float w_x[4], w_h[4];       /* per-tensor weight scales, TC_LSTM_GATE_* order */
  float cell_clip;            /* the op's cell_clip option (0 = none) */
} tc_lstm_q_scales;

/* Fills the multipliers of p (sizes and time_major are the caller's) from the scales, with
 * TFLM's float/double arithmetic: gate multipliers (double)(float)(s_in * s_w) / 2^-12, the
 * element-wise products 2^-15 * s_a / s_out in double, cell_scale_power = round(log2(s_cell)).
 * Returns 0 if a scale is not positive and finite, or the cell state's scale is not within
 * [2^-43, 2^2] (the cell tanh's integer scaling would overflow). */
int tc_s8_lstm_params_init(tc_lstm_q_params *p, const tc_lstm_q_scales *s);

/* Weights of one layer, borrowed: w_x[g] int8 [n_cell, n_input], w_h[g] int8 [n_cell, n_cell],
 * bias[g] int32 [n_cell] (NULL = none), for the four gates in TC_LSTM_GATE_* order. */
typedef struct tc_lstm_s8_weights {
  const int8_t *w_x[4];
  const int8_t *w_h[4];
  const int32_t *bias[4];
} tc_lstm_s8_weights;

/* Bytes of scratch tc_s8_lstm__ref needs (four int16 buffers of n_batch * n_cell). */
size_t tc_s8_lstm_scratch_size(const tc_lstm_q_params *p);

/* Runs the LSTM over the whole sequence (time-major: all batch rows step together; batch-major:
 * each batch row runs its whole sequence on its own state rows, as TFLM does).
 *   input   int8 [max_time, n_batch, n_input] or [n_batch, max_time, n_input]
 *   hidden  int8 [n_batch, n_cell], read as h(t-1), updated in place
 *   cell    int16 [n_batch, n_cell], read as c(t-1), updated in place
 *   output  int8, same layout as input with n_cell values per row: h of every step
 *   scratch tc_s8_lstm_scratch_size(p) bytes, int16-aligned
 * Per step: gate_g = sat16(rq(W_x,g . (x - zp_x) + b_g) + rq(W_h,g . (h - zp_h))), rq = the
 * gate multiplier then a clamp to int16; f, i, o = sigmoid, g = tanh (Q3.12 -> Q0.15);
 * c = sat16(rq(f * c) + rq(i * g)) then the clip; h = clamp8(rq(tanh(c) * o) + zp_h). */
void tc_s8_lstm__ref(const tc_lstm_q_params *p, const tc_lstm_s8_weights *w,
                     const int8_t *input, int8_t *hidden, int16_t *cell, int8_t *output,
                     int16_t *scratch);

#endif
