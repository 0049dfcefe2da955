/* lstm.h: reference kernel for the float32 unidirectional sequence LSTM (TFLite builtin
 * UNIDIRECTIONAL_SEQUENCE_LSTM, its "full" float kernel), with the optional CIFG, peephole,
 * layer-norm and projection parts. Plain arrays in, plain arrays out; the interpreter glue is
 * src/lite/ops/lstm.c. */
#ifndef TC_KERNELS_REF_LSTM_H
#define TC_KERNELS_REF_LSTM_H
#include <stddef.h>

/* Gate order used by every per-gate array below. */
enum { TC_LSTM_GATE_INPUT = 0, TC_LSTM_GATE_FORGET = 1, TC_LSTM_GATE_CELL = 2,
       TC_LSTM_GATE_OUTPUT = 3 };

/* The weights of one LSTM layer, all row-major float32, borrowed (not copied).
 *   w_x[g]   input-to-gate weights [n_cell, n_input]
 *   w_h[g]   recurrent-to-gate weights [n_cell, n_output]
 *   bias[g]  gate bias [n_cell]
 *   peep[g]  peephole (cell-to-gate) weights [n_cell] for g = INPUT, FORGET, OUTPUT; peep[CELL]
 *            is never read. NULL = no peephole.
 *   ln[g]    layer-norm coefficients [n_cell]; NULL = no layer norm (ln[FORGET] decides).
 *   proj_w   projection weights [n_output, n_cell], NULL = no projection (then n_output must
 *            equal n_cell); proj_b projection bias [n_output] or NULL.
 * CIFG (coupled input and forget gate) is selected by w_x[INPUT] == NULL: then w_h[INPUT],
 * bias[INPUT], peep[INPUT] and ln[INPUT] are not read and the input gate is 1 - forget gate. */
typedef struct tc_lstm_f32_weights {
  const float *w_x[4];
  const float *w_h[4];
  const float *bias[4];
  const float *peep[4];
  const float *ln[4];
  const float *proj_w;
  const float *proj_b;
} tc_lstm_f32_weights;

typedef struct tc_lstm_params {
  int max_time, n_batch, n_input, n_cell, n_output;
  int time_major; /* 1: input/output are [max_time, n_batch, ...]; 0: [n_batch, max_time, ...] */
  /* TFLite ActivationFunctionType number applied to the cell gate and to the cell state before
   * the output gate: 0 none, 1 relu, 2 relu_n1_to_1, 3 relu6, 4 tanh (usual), 5 sign_bit. */
  int activation;
  float cell_clip; /* > 0: clamp the cell state to [-cell_clip, cell_clip]; 0: no clipping */
  float proj_clip; /* > 0: clamp the projected output likewise; 0: no clipping */
} tc_lstm_params;

/* Bytes of scratch tc_f32_lstm__ref needs (four gate buffers of n_batch * n_cell floats). */
size_t tc_f32_lstm_scratch_size(const tc_lstm_params *p);

/* Runs the LSTM over the whole sequence.
 *   input         [max_time, n_batch, n_input] or [n_batch, max_time, n_input] (time_major)
 *   output_state  [n_batch, n_output], read as h(t-1) and updated in place (ends as the last h)
 *   cell_state    [n_batch, n_cell], read as c(t-1) and updated in place
 *   output        [max_time, n_batch, n_output] or [n_batch, max_time, n_output]: h per step
 *   scratch       tc_f32_lstm_scratch_size(p) bytes, float-aligned
 * Per step and batch row, in this order (TFLite's float kernel):
 *   gate_g = bias_g + W_x,g . x + W_h,g . h_prev (+ peep_g * c_prev for g = i, f)
 *   with layer norm: gate_g = normalize(gate_g without bias) * ln_g + bias_g
 *   i = sigmoid(gate_i) (CIFG: unused), f = sigmoid(gate_f), g = act(gate_c)
 *   c = f * c_prev, then c += g * i (CIFG: c += g * (1 - f)), then clip
 *   o = sigmoid(gate_o (+ peep_o * c, before layer norm))
 *   m = o * act(c); h = proj_b + P . m (then clip) with projection, else h = m.
 * Quirk kept from TFLite: with activation 0 (none) TFLite skips the activation step on the cell
 * state and so multiplies o by the cell gate g instead of by c; this kernel does the same. */
void tc_f32_lstm__ref(const tc_lstm_params *p, const tc_lstm_f32_weights *w, const float *input,
                      float *output_state, float *cell_state, float *output, float *scratch);

#endif
