/* conv2d_q.c: reference quantized convolution (see conv2d_q.h). One loop nest, stamped out per
 * dtype combination by a macro; each output is accumulated exactly in 64 bits, then reduced the
 * way TFLite does: wrapped to int32 and requantized with double rounding (8-bit, and 16-bit
 * with int32 bias), or kept in 64 bits and requantized with tc_q_mul64 (16-bit, int64 bias).
 * Wrapping the exact sum gives the same value as TFLite's int32 accumulation. */
#include "kernels/ref/conv2d_q.h"

#include <math.h>

#include "kernels/ref/qmath.h"

int tc_q_conv_multipliers(float in_scale, const float *w_scale, int32_t n_w_scales,
                          float out_scale, int32_t n_ch, int32_t *mult, int32_t *shift) {
  if (n_w_scales != 1 && n_w_scales != n_ch) return 0;
  if (!(in_scale > 0.0f) || !(out_scale > 0.0f) || isinf(in_scale) || isinf(out_scale))
    return 0;
  for (int32_t ch = 0; ch < n_ch; ch++) {
    float ws = w_scale[n_w_scales == 1 ? 0 : ch];
    if (!(ws >= 0.0f) || isinf(ws)) return 0; /* 0: an all-zero channel */
    double m = (double)in_scale * (double)ws / (double)out_scale;
    int s = 0;
    tc_q_quantize_multiplier(m, &mult[ch], &s);
    shift[ch] = s;
  }
  return 1;
}

/* Wraps an exact sum to int32 as two's-complement hardware does. */
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

/* NAME(p, q, in, filter, bias, out): IN_OFF / F_OFF are the offsets added to input / filter
 * values (0 where the dtype has none), REQ the reduction, OUT_OFF whether the output offset is
 * added. */
#define TC_CONV_Q(NAME, TIN, TF, TB, TOUT, IN_OFF, F_OFF, REQ, OUT_OFF)                         \
  void NAME(const tc_conv2d_params *p, const tc_q_requant *q, const TIN *in, const TF *filter,  \
            const TB *bias, TOUT *out) {                                                         \
    const int32_t groups = p->in_c / p->filter_c;                                                \
    const int32_t per_group = p->out_c / groups;                                                 \
    const int32_t in_off = (IN_OFF), f_off = (F_OFF);                                           \
    for (int32_t b = 0; b < p->batch; b++) {                                                     \
      for (int32_t oy = 0; oy < p->out_h; oy++) {                                                \
        const int32_t y0 = oy * p->stride_h - p->pad_top;                                        \
        for (int32_t ox = 0; ox < p->out_w; ox++) {                                              \
          const int32_t x0 = ox * p->stride_w - p->pad_left;                                     \
          TOUT *o = out + (((int64_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c;             \
          for (int32_t oc = 0; oc < p->out_c; oc++) {                                            \
            const int32_t ic0 = (oc / per_group) * p->filter_c;                                  \
            int64_t acc = 0;                                                                     \
            for (int32_t ky = 0; ky < p->k_h; ky++) {                                            \
              const int32_t y = y0 + ky * p->dilation_h;                                         \
              if (y < 0 || y >= p->in_h) continue;                                               \
              for (int32_t kx = 0; kx < p->k_w; kx++) {                                          \
                const int32_t x = x0 + kx * p->dilation_w;                                       \
                if (x < 0 || x >= p->in_w) continue;                                             \
                const TIN *ip = in + (((int64_t)b * p->in_h + y) * p->in_w + x) * p->in_c + ic0; \
                const TF *fp =                                                                   \
                    filter + (((int64_t)oc * p->k_h + ky) * p->k_w + kx) * p->filter_c;          \
                for (int32_t ic = 0; ic < p->filter_c; ic++)                                     \
                  acc += (int64_t)((int32_t)fp[ic] + f_off) * ((int32_t)ip[ic] + in_off);        \
              }                                                                                  \
            }                                                                                    \
            if (bias) acc += bias[oc];                                                           \
            o[oc] = (TOUT)REQ(q, oc, acc, OUT_OFF);                                              \
          }                                                                                      \
        }                                                                                        \
      }                                                                                          \
    }                                                                                            \
  }

TC_CONV_Q(tc_s8_conv2d__ref, int8_t, int8_t, int32_t, int8_t, q->input_offset, 0, requant32, 1)
TC_CONV_Q(tc_u8_conv2d__ref, uint8_t, uint8_t, int32_t, uint8_t, q->input_offset,
          q->filter_offset, requant32, 1)
TC_CONV_Q(tc_s16_conv2d__ref, int16_t, int8_t, int64_t, int16_t, 0, 0, requant64, 0)
TC_CONV_Q(tc_s16_conv2d_acc32__ref, int16_t, int8_t, int32_t, int16_t, 0, 0, requant32, 0)
