/* svdf.c: reference SVDF kernels (see svdf.h), in the order of operations of TFLite Micro's
 * reference SVDF: shift the memory, write the newest feature value, dot each filter's memory
 * with its time weights, start from the bias, reduce over the rank, then activate (float) or
 * requantize (integer). */
#include <math.h>
#include <string.h>

#include "kernels/ref/qmath.h"
#include "kernels/ref/svdf.h"

int tc_svdf_q_params_init(tc_svdf_params *p, float s_in, float s_feature, float s_time,
                          float s_state, float s_out) {
  float e1 = s_in * s_feature / s_state;
  float e2 = s_state * s_time / s_out;
  if (!(e1 > 0.0f) || !(e2 > 0.0f) || isinf(e1) || isinf(e2)) return 0;
  tc_q_quantize_multiplier((double)e1, &p->mult1, &p->shift1);
  tc_q_quantize_multiplier((double)e2, &p->mult2, &p->shift2);
  return 1;
}

size_t tc_f32_svdf_scratch_size(const tc_svdf_params *p) {
  return (size_t)p->n_batch * (size_t)p->n_filter * sizeof(float);
}

size_t tc_s8_svdf_scratch_size(const tc_svdf_params *p) {
  size_t n_unit = p->n_rank > 0 ? (size_t)(p->n_filter / p->n_rank) : 0;
  return (size_t)p->n_batch * ((size_t)p->n_filter + n_unit) * sizeof(int32_t);
}

static float act_f32(int act, float x) {
  switch (act) {
  case 1: return x > 0.0f ? x : 0.0f;
  case 2: return x < -1.0f ? -1.0f : (x > 1.0f ? 1.0f : x);
  case 3: return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
  case 4: return tanhf(x);
  case 5: return signbit(x) ? 1.0f : 0.0f;
  default: return x;
  }
}

void tc_f32_svdf__ref(const tc_svdf_params *p, const float *input, const float *w_feature,
                      const float *w_time, const float *bias, float *state, float *output,
                      float *scratch) {
  const int n_batch = p->n_batch, n_input = p->n_input, n_filter = p->n_filter;
  const int n_memory = p->n_memory, n_rank = p->n_rank, n_unit = n_filter / n_rank;
  const size_t n_state = (size_t)n_batch * n_filter * n_memory;
  /* Shift the whole memory left by one element; each filter's last slot is rewritten below. */
  if (n_state > 1) memmove(state, state + 1, (n_state - 1) * sizeof(float));
  for (int b = 0; b < n_batch; b++)
    for (int f = 0; f < n_filter; f++) {
      float dot = 0.0f;
      for (int k = 0; k < n_input; k++)
        dot += w_feature[(size_t)f * n_input + k] * input[(size_t)b * n_input + k];
      state[((size_t)b * n_filter + f) * n_memory + n_memory - 1] = dot;
    }
  for (int b = 0; b < n_batch; b++)
    for (int f = 0; f < n_filter; f++) {
      const float *mem = state + ((size_t)b * n_filter + f) * n_memory;
      float dot = 0.0f;
      for (int m = 0; m < n_memory; m++) dot += w_time[(size_t)f * n_memory + m] * mem[m];
      scratch[(size_t)b * n_filter + f] = dot;
    }
  for (int b = 0; b < n_batch; b++)
    for (int u = 0; u < n_unit; u++) {
      float v = bias ? bias[u] : 0.0f;
      for (int r = 0; r < n_rank; r++) v += scratch[(size_t)b * n_filter + u * n_rank + r];
      output[(size_t)b * n_unit + u] = act_f32(p->activation, v);
    }
}

/* Two's-complement narrowing (what TFLM's implicit int -> int8/int16 conversion does). */
static int8_t wrap8(int32_t v) {
  v &= 0xFF;
  return (int8_t)(v >= 0x80 ? v - 0x100 : v);
}
static int16_t wrap16(int32_t v) {
  v &= 0xFFFF;
  return (int16_t)(v >= 0x8000 ? v - 0x10000 : v);
}

/* The integer body, shared by both memory types through these accessors. */
typedef struct svdf_mem {
  int is16;
  int16_t *s16;
  int8_t *s8;
  const int16_t *t16;
  const int8_t *t8;
} svdf_mem;

static int32_t mem_get(const svdf_mem *m, size_t i) {
  return m->is16 ? m->s16[i] : m->s8[i];
}
static int32_t time_get(const svdf_mem *m, size_t i) {
  return m->is16 ? m->t16[i] : m->t8[i];
}

static void svdf_int(const tc_svdf_params *p, const int8_t *input, const int8_t *w_feature,
                     const int32_t *bias, const svdf_mem *m, int8_t *output, int32_t *scratch) {
  const int n_batch = p->n_batch, n_input = p->n_input, n_filter = p->n_filter;
  const int n_memory = p->n_memory, n_rank = p->n_rank, n_unit = n_filter / n_rank;
  const size_t n_state = (size_t)n_batch * n_filter * n_memory;
  const int32_t lo = m->is16 ? INT16_MIN : INT8_MIN, hi = m->is16 ? INT16_MAX : INT8_MAX;
  int32_t *dots = scratch, *acc = scratch + (size_t)n_batch * n_filter;

  if (n_state > 1) {
    if (m->is16)
      memmove(m->s16, m->s16 + 1, (n_state - 1) * sizeof(int16_t));
    else
      memmove(m->s8, m->s8 + 1, n_state - 1);
  }
  /* Feature projection into each filter's newest slot: clamp to the memory type, then add the
   * memory's zero point (after the clamp, as TFLM does). */
  for (int b = 0; b < n_batch; b++)
    for (int f = 0; f < n_filter; f++) {
      int32_t dot = 0;
      for (int k = 0; k < n_input; k++)
        dot += (int32_t)w_feature[(size_t)f * n_input + k] *
               ((int32_t)input[(size_t)b * n_input + k] - p->input_zp);
      dot = tc_q_clamp(tc_q_mul(dot, p->mult1, p->shift1), lo, hi);
      size_t at = ((size_t)b * n_filter + f) * n_memory + n_memory - 1;
      if (m->is16)
        m->s16[at] = wrap16(p->state_zp + dot);
      else
        m->s8[at] = wrap8(p->state_zp + dot);
    }
  /* Memory . time weights per filter. */
  for (int b = 0; b < n_batch; b++)
    for (int f = 0; f < n_filter; f++) {
      size_t base = ((size_t)b * n_filter + f) * n_memory;
      int32_t dot = 0;
      for (int j = 0; j < n_memory; j++)
        dot = (int32_t)((uint32_t)dot +
                        (uint32_t)(uint64_t)((int64_t)time_get(m, (size_t)f * n_memory + j) *
                                             ((int64_t)mem_get(m, base + j) - p->state_zp)));
      dots[(size_t)b * n_filter + f] = dot;
    }
  /* Bias, rank reduction, requantization to int8. */
  for (int b = 0; b < n_batch; b++)
    for (int u = 0; u < n_unit; u++) {
      int32_t v = bias ? bias[u] : 0;
      /* int32 wraps on overflow (as TFLM's build does in practice) instead of being UB. */
      for (int r = 0; r < n_rank; r++)
        v = (int32_t)((uint32_t)v + (uint32_t)dots[(size_t)b * n_filter + u * n_rank + r]);
      acc[(size_t)b * n_unit + u] = v;
    }
  for (size_t i = 0; i < (size_t)n_batch * n_unit; i++) {
    int32_t v = tc_q_mul(acc[i], p->mult2, p->shift2) + p->output_zp;
    output[i] = (int8_t)tc_q_clamp(v, INT8_MIN, INT8_MAX);
  }
}

void tc_s8_svdf_s16__ref(const tc_svdf_params *p, const int8_t *input, const int8_t *w_feature,
                         const int16_t *w_time, const int32_t *bias, int16_t *state,
                         int8_t *output, int32_t *scratch) {
  svdf_mem m = {1, state, NULL, w_time, NULL};
  svdf_int(p, input, w_feature, bias, &m, output, scratch);
}

void tc_s8_svdf_s8__ref(const tc_svdf_params *p, const int8_t *input, const int8_t *w_feature,
                        const int8_t *w_time, const int32_t *bias, int8_t *state, int8_t *output,
                        int32_t *scratch) {
  svdf_mem m = {0, NULL, state, NULL, w_time};
  svdf_int(p, input, w_feature, bias, &m, output, scratch);
}
