/* dwconv_f32_neon.c: the AArch64 NEON float32 DEPTHWISE_CONV_2D variant (slot f32_dwconv of
 * vec_ops.h) for depth multiplier 1, the MobileNet case: per output pixel, the taps inside the
 * image (clipped once per pixel, so border pixels need no per-tap test) are multiply-added over
 * the channels 16 at a time (4 q accumulators), then 4 at a time and a scalar tail. Taps are
 * summed in (ky, kx) order from 0 with FMA, then the bias is added and the clamp applied, as the
 * reference does (within FMA rounding of it). Other depth multipliers and filters with more
 * than MAX_TAPS taps run the reference variant. */
#include "kernels/vec_ops.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#include <math.h>

enum { MAX_TAPS = 256 };

/* max then min: FMAX/FMIN keep a NaN sum NaN, as the reference clamp does. */
static inline float32x4_t finish(float32x4_t acc, float32x4_t bv, float32x4_t lo,
                                 float32x4_t hi) {
  return vminq_f32(hi, vmaxq_f32(lo, vaddq_f32(acc, bv)));
}

/* One output pixel: channels [0, C) from the n_taps taps at input offsets toff[] (in floats,
 * relative to `x`) with filter rows wrow[] (each C floats). */
static void pixel(const float *x, const int64_t *toff, const float *const *wrow, int n_taps,
                  int32_t C, const float *bias, float *o, float act_min, float act_max) {
  const float32x4_t lo = vdupq_n_f32(act_min), hi = vdupq_n_f32(act_max);
  const float32x4_t zero = vdupq_n_f32(0.0f);
  int32_t c = 0;
  for (; c + 16 <= C; c += 16) {
    float32x4_t a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    for (int t = 0; t < n_taps; t++) {
      const float *s = x + toff[t] + c, *w = wrow[t] + c;
      a0 = vfmaq_f32(a0, vld1q_f32(s), vld1q_f32(w));
      a1 = vfmaq_f32(a1, vld1q_f32(s + 4), vld1q_f32(w + 4));
      a2 = vfmaq_f32(a2, vld1q_f32(s + 8), vld1q_f32(w + 8));
      a3 = vfmaq_f32(a3, vld1q_f32(s + 12), vld1q_f32(w + 12));
    }
    float32x4_t b0 = zero, b1 = zero, b2 = zero, b3 = zero;
    if (bias) {
      b0 = vld1q_f32(bias + c);
      b1 = vld1q_f32(bias + c + 4);
      b2 = vld1q_f32(bias + c + 8);
      b3 = vld1q_f32(bias + c + 12);
    }
    vst1q_f32(o + c, finish(a0, b0, lo, hi));
    vst1q_f32(o + c + 4, finish(a1, b1, lo, hi));
    vst1q_f32(o + c + 8, finish(a2, b2, lo, hi));
    vst1q_f32(o + c + 12, finish(a3, b3, lo, hi));
  }
  for (; c + 4 <= C; c += 4) {
    float32x4_t a0 = zero;
    for (int t = 0; t < n_taps; t++)
      a0 = vfmaq_f32(a0, vld1q_f32(x + toff[t] + c), vld1q_f32(wrow[t] + c));
    vst1q_f32(o + c, finish(a0, bias ? vld1q_f32(bias + c) : zero, lo, hi));
  }
  for (; c < C; c++) {
    float acc = 0.0f;
    for (int t = 0; t < n_taps; t++) acc = fmaf(x[toff[t] + c], wrow[t][c], acc);
    if (bias) acc += bias[c];
    acc = acc < act_min ? act_min : acc;
    o[c] = acc > act_max ? act_max : acc;
  }
}

static void f32_dw_neon(const tc_dwconv2d_params *p, const float *in, const float *filter,
                        const float *bias, float *out, int32_t row_begin, int32_t row_end) {
  if (p->depth_multiplier != 1 || p->k_h * p->k_w > MAX_TAPS) {
    tc_f32_dwconv__ref.run(p, in, filter, bias, out, row_begin, row_end);
    return;
  }
  const int32_t C = p->in_c;
  const int64_t img_size = (int64_t)p->in_h * p->in_w * C;
  int64_t toff[MAX_TAPS];
  const float *wrow[MAX_TAPS];
  for (int32_t r = row_begin; r < row_end; r++) {
    const int32_t b = r / p->out_h, oy = r % p->out_h;
    const float *img = in + b * img_size;
    float *orow = out + (int64_t)r * p->out_w * C;
    const int32_t y0 = oy * p->stride_h - p->pad_top;
    for (int32_t ox = 0; ox < p->out_w; ox++) {
      const int32_t x0 = ox * p->stride_w - p->pad_left;
      int n = 0;
      for (int32_t ky = 0; ky < p->k_h; ky++) {
        const int32_t y = y0 + ky * p->dilation_h;
        if (y < 0 || y >= p->in_h) continue;
        for (int32_t kx = 0; kx < p->k_w; kx++) {
          const int32_t xx = x0 + kx * p->dilation_w;
          if (xx < 0 || xx >= p->in_w) continue;
          toff[n] = ((int64_t)y * p->in_w + xx) * C;
          wrow[n] = filter + ((int64_t)ky * p->k_w + kx) * C;
          n++;
        }
      }
      pixel(img, toff, wrow, n, C, bias, orow + (int64_t)ox * C, p->act_min, p->act_max);
    }
  }
}

tc_f32_dwconv_kernel tc_f32_dwconv__neon = {"neon", f32_dw_neon};
#endif
