/* pool_q.c: reference quantized pooling (see pool_q.h). The window walk is the float kernel's;
 * the average uses TFLite's integer rounding, the maximum is exact. */
#include "kernels/ref/pool_q.h"

static inline int32_t clamp32(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

/* Rounded mean: half away from zero (TFLite reference integer pooling). */
static inline int32_t round_mean(int32_t sum, int32_t count) {
  if (count <= 0) return 0;
  return sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
}

#define TC_POOL_Q(NAME, T, IS_MAX, LOWEST)                                                      \
  void NAME(const tc_pool2d_params *p, int32_t act_min, int32_t act_max, const T *in, T *out) {  \
    for (int32_t b = 0; b < p->batch; b++) {                                                     \
      for (int32_t oy = 0; oy < p->out_h; oy++) {                                                \
        const int32_t y0 = oy * p->stride_h - p->pad_top;                                        \
        const int32_t y_lo = y0 < 0 ? 0 : y0;                                                    \
        const int32_t y_hi = y0 + p->filter_h < p->in_h ? y0 + p->filter_h : p->in_h;            \
        for (int32_t ox = 0; ox < p->out_w; ox++) {                                              \
          const int32_t x0 = ox * p->stride_w - p->pad_left;                                     \
          const int32_t x_lo = x0 < 0 ? 0 : x0;                                                  \
          const int32_t x_hi = x0 + p->filter_w < p->in_w ? x0 + p->filter_w : p->in_w;          \
          T *o = out + (((int64_t)b * p->out_h + oy) * p->out_w + ox) * p->channels;             \
          for (int32_t ch = 0; ch < p->channels; ch++) {                                         \
            int32_t acc = IS_MAX ? (LOWEST) : 0, count = 0;                                      \
            for (int32_t y = y_lo; y < y_hi; y++) {                                              \
              for (int32_t x = x_lo; x < x_hi; x++) {                                            \
                int32_t v = in[(((int64_t)b * p->in_h + y) * p->in_w + x) * p->channels + ch];   \
                if (IS_MAX) acc = v > acc ? v : acc;                                             \
                else acc += v;                                                                   \
                count++;                                                                         \
              }                                                                                  \
            }                                                                                    \
            if (!IS_MAX) acc = round_mean(acc, count);                                           \
            o[ch] = (T)clamp32(acc, act_min, act_max);                                           \
          }                                                                                      \
        }                                                                                        \
      }                                                                                          \
    }                                                                                            \
  }

TC_POOL_Q(tc_s8_avg_pool2d__ref, int8_t, 0, 0)
TC_POOL_Q(tc_u8_avg_pool2d__ref, uint8_t, 0, 0)
TC_POOL_Q(tc_s16_avg_pool2d__ref, int16_t, 0, 0)
TC_POOL_Q(tc_s8_max_pool2d__ref, int8_t, 1, INT8_MIN)
TC_POOL_Q(tc_u8_max_pool2d__ref, uint8_t, 1, 0)
TC_POOL_Q(tc_s16_max_pool2d__ref, int16_t, 1, INT16_MIN)
