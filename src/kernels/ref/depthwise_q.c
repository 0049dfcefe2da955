/* depthwise_q.c: reference quantized depthwise convolution (see depthwise_q.h). The loop nest
 * mirrors the float kernel; accumulation is exact in 64 bits and then reduced as TFLite does
 * (wrapped to int32 with double-rounding requantization, or tc_q_mul64 for int64 bias). */
#include "kernels/ref/depthwise_q.h"

#include "kernels/ref/qmath.h"

static inline int32_t wrap32(int64_t v) { return (int32_t)(uint32_t)(uint64_t)v; }

static inline int32_t requant32(const tc_q_requant *q, int32_t oc, int64_t acc, int offset) {
  int32_t r = tc_q_mul(wrap32(acc), q->mult[oc], q->shift[oc]);
  if (offset) r = (int32_t)((uint32_t)r + (uint32_t)q->output_offset); /* wraps, like SIMD lanes */
  return tc_q_clamp(r, q->act_min, q->act_max);
}

static inline int32_t requant64(const tc_q_requant *q, int32_t oc, int64_t acc, int offset) {
  (void)offset;
  return tc_q_clamp(tc_q_mul64(acc, q->mult[oc], q->shift[oc]), q->act_min, q->act_max);
}

#define TC_DW_Q(NAME, TIN, TF, TB, TOUT, IN_OFF, F_OFF, REQ, OUT_OFF)                           \
  void NAME(const tc_dwconv2d_params *p, const tc_q_requant *q, const TIN *in, const TF *filter, \
            const TB *bias, TOUT *out) {                                                         \
    const int32_t out_c = p->in_c * p->depth_multiplier;                                         \
    const int32_t in_off = (IN_OFF), f_off = (F_OFF);                                           \
    for (int32_t b = 0; b < p->batch; b++) {                                                     \
      for (int32_t oy = 0; oy < p->out_h; oy++) {                                                \
        const int32_t y0 = oy * p->stride_h - p->pad_top;                                        \
        for (int32_t ox = 0; ox < p->out_w; ox++) {                                              \
          const int32_t x0 = ox * p->stride_w - p->pad_left;                                     \
          TOUT *o = out + (((int64_t)b * p->out_h + oy) * p->out_w + ox) * out_c;                \
          for (int32_t ic = 0; ic < p->in_c; ic++) {                                             \
            for (int32_t m = 0; m < p->depth_multiplier; m++) {                                  \
              const int32_t oc = ic * p->depth_multiplier + m;                                   \
              int64_t acc = 0;                                                                   \
              for (int32_t ky = 0; ky < p->k_h; ky++) {                                          \
                const int32_t y = y0 + ky * p->dilation_h;                                       \
                if (y < 0 || y >= p->in_h) continue;                                             \
                for (int32_t kx = 0; kx < p->k_w; kx++) {                                        \
                  const int32_t x = x0 + kx * p->dilation_w;                                     \
                  if (x < 0 || x >= p->in_w) continue;                                           \
                  int32_t v = in[(((int64_t)b * p->in_h + y) * p->in_w + x) * p->in_c + ic];     \
                  int32_t w = filter[((int64_t)ky * p->k_w + kx) * out_c + oc];                  \
                  acc += (int64_t)(w + f_off) * (v + in_off);                                    \
                }                                                                                \
              }                                                                                  \
              if (bias) acc += bias[oc];                                                         \
              o[oc] = (TOUT)REQ(q, oc, acc, OUT_OFF);                                            \
            }                                                                                    \
          }                                                                                      \
        }                                                                                        \
      }                                                                                          \
    }                                                                                            \
  }

TC_DW_Q(tc_s8_depthwise_conv2d__ref, int8_t, int8_t, int32_t, int8_t, q->input_offset, 0,
        requant32, 1)
TC_DW_Q(tc_u8_depthwise_conv2d__ref, uint8_t, uint8_t, int32_t, uint8_t, q->input_offset,
        q->filter_offset, requant32, 1)
TC_DW_Q(tc_s16_depthwise_conv2d__ref, int16_t, int8_t, int64_t, int16_t, 0, 0, requant64, 0)
TC_DW_Q(tc_s16_depthwise_conv2d_acc32__ref, int16_t, int8_t, int32_t, int16_t, 0, 0, requant32,
        0)
