/* svdf.h: reference kernels for SVDF (TFLite builtin 27), the rank-factored "singular value
 * decomposition filter" of keyword-spotting models: a feature projection of each input frame
 * is pushed into a per-filter memory of the last n_memory values, and each output unit sums
 * n_rank filters' dot products of that memory with their time weights. Float32 and TFLite
 * Micro's integer forms (int8 input, int16 or int8 memory). Glue: src/lite/ops/svdf.c. */
#ifndef TC_KERNELS_REF_SVDF_H
#define TC_KERNELS_REF_SVDF_H
#include <stddef.h>
#include <stdint.h>

/* Sizes: n_filter = n_unit * n_rank. */
typedef struct tc_svdf_params {
  int n_batch, n_input, n_filter, n_rank, n_memory;
  int activation; /* TFLite fused activation code (float only; TFLM's integer SVDF ignores it) */
  /* integer forms only */
  int32_t input_zp, state_zp, output_zp;
  int32_t mult1, mult2; /* feature -> state, and memory . time weights -> output */
  int shift1, shift2;
} tc_svdf_params;

/* Fills mult1/shift1 and mult2/shift2 the way TFLM does: the effective scales are evaluated in
 * float, (s_in * s_feature / s_state) and (s_state * s_time / s_out), then widened to double.
 * Returns 0 if one is not positive and finite. */
int tc_svdf_q_params_init(tc_svdf_params *p, float s_in, float s_feature, float s_time,
                          float s_state, float s_out);

/* Scratch bytes: n_batch * n_filter floats (float) or n_batch * (n_filter + n_unit) int32
 * (integer). */
size_t tc_f32_svdf_scratch_size(const tc_svdf_params *p);
size_t tc_s8_svdf_scratch_size(const tc_svdf_params *p);

/* One invocation (one input frame per batch row):
 *   input      [n_batch, n_input]
 *   w_feature  [n_filter, n_input]
 *   w_time     [n_filter, n_memory]
 *   bias       [n_unit] or NULL
 *   state      [n_batch, n_filter, n_memory], updated in place: every filter's memory shifts
 *              left by one (the whole buffer moves by one element, as TFLite does) and the
 *              newest value goes to the last slot
 *   output     [n_batch, n_unit]
 * out[b][u] = act(bias[u] + sum over the n_rank filters f of unit u of
 *                 sum_m state[b][f][m] * w_time[f][m]). */
void tc_f32_svdf__ref(const tc_svdf_params *p, const float *input, const float *w_feature,
                      const float *w_time, const float *bias, float *state, float *output,
                      float *scratch);

/* Integer forms, TFLM's arithmetic: new state = clamp_T(rq1(w_feature . (x - zp_in))) + zp_state
 * (stored with two's-complement wrap, as TFLM's implicit conversion); out = clamp8(rq2(bias +
 * sum_f w_time[f] . (state[f] - zp_state)) + zp_out). `_s16` keeps an int16 memory with int16
 * time weights, `_s8` an int8 memory with int8 time weights. scratch: tc_s8_svdf_scratch_size. */
void tc_s8_svdf_s16__ref(const tc_svdf_params *p, const int8_t *input, const int8_t *w_feature,
                         const int16_t *w_time, const int32_t *bias, int16_t *state,
                         int8_t *output, int32_t *scratch);
void tc_s8_svdf_s8__ref(const tc_svdf_params *p, const int8_t *input, const int8_t *w_feature,
                        const int8_t *w_time, const int32_t *bias, int8_t *state, int8_t *output,
                        int32_t *scratch);

#endif
