/* fully_connected_q.c: reference quantized fully-connected layer (see fully_connected_q.h).
 * One exact 64-bit dot product per output, reduced as TFLite does (wrapped to int32 with
 * double-rounding requantization, or tc_q_mul64 for int64 bias). */
#include "kernels/ref/fully_connected_q.h"

#include "kernels/ref/qmath.h"

static inline int32_t wrap32(int64_t v) { return (int32_t)(uint32_t)(uint64_t)v; }

static inline int32_t requant32(const tc_q_requant *q, int32_t o, int64_t acc, int offset) {
  int32_t r = tc_q_mul(wrap32(acc), q->mult[o], q->shift[o]);
  if (offset) r = (int32_t)((uint32_t)r + (uint32_t)q->output_offset); /* wraps, like SIMD lanes */
  return tc_q_clamp(r, q->act_min, q->act_max);
}

static inline int32_t requant64(const tc_q_requant *q, int32_t o, int64_t acc, int offset) {
  (void)offset;
  return tc_q_clamp(tc_q_mul64(acc, q->mult[o], q->shift[o]), q->act_min, q->act_max);
}

#define TC_FC_Q(NAME, TIN, TW, TB, TOUT, IN_OFF, REQ, OUT_OFF)                                  \
  void NAME(const tc_fc_params *p, const tc_q_requant *q, const TIN *in, const TW *weights,     \
            const TB *bias, TOUT *out) {                                                         \
    const int32_t in_off = (IN_OFF), w_off = q->filter_offset;                                   \
    for (int32_t b = 0; b < p->batch; b++) {                                                     \
      const TIN *x = in + (int64_t)b * p->in_k;                                                  \
      for (int32_t o = 0; o < p->out_n; o++) {                                                   \
        const TW *w = weights + (int64_t)o * p->in_k;                                            \
        int64_t acc = 0;                                                                         \
        for (int32_t k = 0; k < p->in_k; k++)                                                    \
          acc += (int64_t)((int32_t)w[k] + w_off) * ((int32_t)x[k] + in_off);                    \
        if (bias) acc += bias[o];                                                                \
        out[(int64_t)b * p->out_n + o] = (TOUT)REQ(q, o, acc, OUT_OFF);                          \
      }                                                                                          \
    }                                                                                            \
  }

TC_FC_Q(tc_s8_fully_connected__ref, int8_t, int8_t, int32_t, int8_t, q->input_offset, requant32,
        1)
TC_FC_Q(tc_u8_fully_connected__ref, uint8_t, uint8_t, int32_t, uint8_t, q->input_offset,
        requant32, 1)
TC_FC_Q(tc_s16_fully_connected__ref, int16_t, int8_t, int64_t, int16_t, 0, requant64, 0)
TC_FC_Q(tc_s16_fully_connected_acc32__ref, int16_t, int8_t, int32_t, int16_t, 0, requant32, 0)
