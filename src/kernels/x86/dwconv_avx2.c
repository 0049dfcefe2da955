/* dwconv_avx2.c: AVX2 float32 depthwise convolution (DEPTHWISE_CONV_2D, NHWC, any depth
 * multiplier), vectorised over channels. Each output row is cut into a left border, an interior
 * where every filter tap lies inside the image, and a right border; rows near the top/bottom are
 * all border. 8 channels per register, the interior of 3x3 filters (stride 1 or 2, dilation 1)
 * keeps the 9 weight vectors in registers and computes 4 pixels at a time; other filters use a
 * tap offset table; border pixels skip out-of-image taps as the reference kernel does. Taps are
 * summed in (ky, kx) order with FMA, then the bias is added and the result clamped. Depth
 * multipliers M > 1 gather the input channel of each output lane (vpermps). The 8-bit variants
 * are in dwconv_q8_avx2.c; tc__avx2_q_mul_check (the requantization test hook) lives here. */
#include "kernels/vec_ops.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <string.h>

#include "kernels/x86/vec_avx2.h"

/* ---- geometry ------------------------------------------------------------------------------ */

/* Output positions [lo, hi) whose whole filter window lies inside [0, in). */
static void interior(int32_t pad, int32_t stride, int32_t k, int32_t dil, int32_t in,
                     int32_t out, int32_t *lo, int32_t *hi) {
  int32_t l = pad > 0 ? (pad + stride - 1) / stride : 0;
  int64_t num = (int64_t)in - 1 - (int64_t)(k - 1) * dil + pad;
  int32_t h = num < 0 ? 0 : (int32_t)(num / stride + 1);
  if (l > out) l = out;
  if (h > out) h = out;
  if (h < l) h = l;
  *lo = l;
  *hi = h;
}

/* ---- float ---------------------------------------------------------------------------------- */

static inline __attribute__((always_inline)) __m256 ldf(const float *p, int masked, __m256i m) {
  return masked ? _mm256_maskload_ps(p, m) : _mm256_loadu_ps(p);
}
static inline __attribute__((always_inline)) void stf(float *p, __m256 v, int masked,
                                                      __m256i m) {
  if (masked) _mm256_maskstore_ps(p, m, v);
  else _mm256_storeu_ps(p, v);
}
static inline __attribute__((always_inline)) __m256 finish(__m256 acc, __m256 bv, __m256 lo,
                                                           __m256 hi) {
  acc = _mm256_add_ps(acc, bv);
  return _mm256_min_ps(hi, _mm256_max_ps(lo, acc)); /* NaN passes, as the ref clamp */
}

enum { MAX_TAPS = 256 };

/* One pixel, all output channels, taps outside the image skipped (border pixels, and every
 * pixel when the depth multiplier M > 1). The valid taps are listed first; with M == 1, 32
 * channels run as 4 independent FMA chains. Output channels oc read input channel oc / M: for
 * M > 1 the 8 lanes of a block are gathered from the input channels they need with vpermps. */
static void f32_pixel(const tc_dwconv2d_params *p, const float *img, const float *filter,
                      const float *bias, float *o, int32_t oy, int32_t ox) {
  const int32_t M = p->depth_multiplier, Cin = p->in_c, C = Cin * M;
  const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
  const __m256 lo = _mm256_set1_ps(p->act_min), hi = _mm256_set1_ps(p->act_max);
  int64_t soff[MAX_TAPS], woff[MAX_TAPS];
  int32_t nt = 0;
  for (int32_t ky = 0; ky < p->k_h; ky++) {
    const int32_t y = y0 + ky * p->dilation_h;
    if (y < 0 || y >= p->in_h) continue;
    for (int32_t kx = 0; kx < p->k_w; kx++) {
      const int32_t x = x0 + kx * p->dilation_w;
      if (x < 0 || x >= p->in_w) continue;
      soff[nt] = ((int64_t)y * p->in_w + x) * Cin;
      woff[nt++] = ((int64_t)ky * p->k_w + kx) * C;
    }
  }
  int32_t cb = 0;
  if (M == 1) {
    for (; cb + 32 <= C; cb += 32) {
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (int32_t t = 0; t < nt; t++) {
        const float *src = img + soff[t] + cb, *w = filter + woff[t] + cb;
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(src), _mm256_loadu_ps(w), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(src + 8), _mm256_loadu_ps(w + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(src + 16), _mm256_loadu_ps(w + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(src + 24), _mm256_loadu_ps(w + 24), a3);
      }
      const __m256 z = _mm256_setzero_ps();
      _mm256_storeu_ps(o + cb, finish(a0, bias ? _mm256_loadu_ps(bias + cb) : z, lo, hi));
      _mm256_storeu_ps(o + cb + 8, finish(a1, bias ? _mm256_loadu_ps(bias + cb + 8) : z, lo, hi));
      _mm256_storeu_ps(o + cb + 16, finish(a2, bias ? _mm256_loadu_ps(bias + cb + 16) : z, lo, hi));
      _mm256_storeu_ps(o + cb + 24, finish(a3, bias ? _mm256_loadu_ps(bias + cb + 24) : z, lo, hi));
    }
  }
  for (; cb < C; cb += 8) {
    const int masked = C - cb < 8;
    const __m256i m = tc__avx2_tail_mask(C - cb);
    const int32_t c0 = cb / M, n_in = (cb + (masked ? C - cb : 8) - 1) / M - c0 + 1;
    const __m256i min = tc__avx2_tail_mask(n_in);
    int32_t ix[8];
    for (int32_t j = 0; j < 8; j++) ix[j] = (cb + j) / M - c0 < n_in ? (cb + j) / M - c0 : 0;
    const __m256i idx = _mm256_loadu_si256((const __m256i *)ix);
    __m256 acc = _mm256_setzero_ps();
    for (int32_t t = 0; t < nt; t++) {
      const float *src = img + soff[t] + c0, *w = filter + woff[t] + cb;
      __m256 v;
      if (M == 1) v = masked ? _mm256_maskload_ps(src, m) : _mm256_loadu_ps(src);
      else v = _mm256_permutevar8x32_ps(_mm256_maskload_ps(src, min), idx);
      acc = _mm256_fmadd_ps(v, masked ? _mm256_maskload_ps(w, m) : _mm256_loadu_ps(w), acc);
    }
    __m256 bv = bias ? ldf(bias + cb, masked, m) : _mm256_setzero_ps();
    stf(o + cb, finish(acc, bv, lo, hi), masked, m);
  }
}

/* Interior span of a 3x3 dilation-1 filter: n_px pixels starting at input `x` (the top-left tap
 * of the first pixel at channel block cb) and output `o`. S: stride along x (1 or 2). */
static inline __attribute__((always_inline)) void f32_3x3_span(
    const float *x, float *o, int32_t n_px, size_t C, size_t rs, int S, const float *wp,
    const float *bp, __m256 lo, __m256 hi, int masked, __m256i m) {
  const __m256 w0 = ldf(wp, masked, m), w1 = ldf(wp + C, masked, m),
               w2 = ldf(wp + 2 * C, masked, m), w3 = ldf(wp + 3 * C, masked, m),
               w4 = ldf(wp + 4 * C, masked, m), w5 = ldf(wp + 5 * C, masked, m),
               w6 = ldf(wp + 6 * C, masked, m), w7 = ldf(wp + 7 * C, masked, m),
               w8 = ldf(wp + 8 * C, masked, m);
  const __m256 bv = bp ? ldf(bp, masked, m) : _mm256_setzero_ps();
  const size_t xs = (size_t)S * C;
  int32_t i = 0;
#define TAP1(acc, src)                                                                       \
  acc = _mm256_fmadd_ps(ldf((src), masked, m), w0, acc);                                     \
  acc = _mm256_fmadd_ps(ldf((src) + C, masked, m), w1, acc);                                 \
  acc = _mm256_fmadd_ps(ldf((src) + 2 * C, masked, m), w2, acc);                             \
  acc = _mm256_fmadd_ps(ldf((src) + rs, masked, m), w3, acc);                                \
  acc = _mm256_fmadd_ps(ldf((src) + rs + C, masked, m), w4, acc);                            \
  acc = _mm256_fmadd_ps(ldf((src) + rs + 2 * C, masked, m), w5, acc);                        \
  acc = _mm256_fmadd_ps(ldf((src) + 2 * rs, masked, m), w6, acc);                            \
  acc = _mm256_fmadd_ps(ldf((src) + 2 * rs + C, masked, m), w7, acc);                        \
  acc = _mm256_fmadd_ps(ldf((src) + 2 * rs + 2 * C, masked, m), w8, acc);
  for (; i + 4 <= n_px; i += 4) {
    const float *s0 = x + (size_t)i * xs;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    /* interleave the four independent chains tap by tap */
    a0 = _mm256_fmadd_ps(ldf(s0, masked, m), w0, a0);
    a1 = _mm256_fmadd_ps(ldf(s0 + xs, masked, m), w0, a1);
    a2 = _mm256_fmadd_ps(ldf(s0 + 2 * xs, masked, m), w0, a2);
    a3 = _mm256_fmadd_ps(ldf(s0 + 3 * xs, masked, m), w0, a3);
#define TAP4(off, w)                                                                         \
  a0 = _mm256_fmadd_ps(ldf(s0 + (off), masked, m), w, a0);                                   \
  a1 = _mm256_fmadd_ps(ldf(s0 + xs + (off), masked, m), w, a1);                              \
  a2 = _mm256_fmadd_ps(ldf(s0 + 2 * xs + (off), masked, m), w, a2);                          \
  a3 = _mm256_fmadd_ps(ldf(s0 + 3 * xs + (off), masked, m), w, a3);
    TAP4(C, w1)
    TAP4(2 * C, w2)
    TAP4(rs, w3)
    TAP4(rs + C, w4)
    TAP4(rs + 2 * C, w5)
    TAP4(2 * rs, w6)
    TAP4(2 * rs + C, w7)
    TAP4(2 * rs + 2 * C, w8)
#undef TAP4
    float *d = o + (size_t)i * C;
    stf(d, finish(a0, bv, lo, hi), masked, m);
    stf(d + C, finish(a1, bv, lo, hi), masked, m);
    stf(d + 2 * C, finish(a2, bv, lo, hi), masked, m);
    stf(d + 3 * C, finish(a3, bv, lo, hi), masked, m);
  }
  for (; i < n_px; i++) {
    const float *s0 = x + (size_t)i * xs;
    __m256 a0 = _mm256_setzero_ps();
    TAP1(a0, s0)
    stf(o + (size_t)i * C, finish(a0, bv, lo, hi), masked, m);
  }
#undef TAP1
}

static void f32_3x3_row(const float *x, float *o, int32_t n_px, int32_t C, int32_t in_w, int S,
                        const float *filter, const float *bias, __m256 lo, __m256 hi) {
  const size_t rs = (size_t)in_w * C;
  int32_t cb = 0;
  const __m256i none = _mm256_setzero_si256();
  for (; cb + 8 <= C; cb += 8) {
    const float *bp = bias ? bias + cb : NULL;
    if (S == 1) f32_3x3_span(x + cb, o + cb, n_px, C, rs, 1, filter + cb, bp, lo, hi, 0, none);
    else f32_3x3_span(x + cb, o + cb, n_px, C, rs, 2, filter + cb, bp, lo, hi, 0, none);
  }
  if (cb < C) {
    const __m256i m = tc__avx2_tail_mask(C - cb);
    const float *bp = bias ? bias + cb : NULL;
    f32_3x3_span(x + cb, o + cb, n_px, C, rs, S, filter + cb, bp, lo, hi, 1, m);
  }
}

/* Interior span of any filter through a table of tap offsets (in floats). */
static void f32_generic_span(const float *x, float *o, int32_t n_px, int32_t C, size_t xs,
                             const int64_t *toff, int32_t T, const float *filter,
                             const float *bias, __m256 lo, __m256 hi) {
  for (int32_t cb = 0; cb < C; cb += 8) {
    const int masked = C - cb < 8;
    const __m256i m = tc__avx2_tail_mask(C - cb);
    const __m256 bv = bias ? ldf(bias + cb, masked, m) : _mm256_setzero_ps();
    int32_t i = 0;
    for (; i + 2 <= n_px; i += 2) {
      const float *s0 = x + (size_t)i * xs + cb;
      __m256 a0 = _mm256_setzero_ps(), a1 = a0;
      for (int32_t t = 0; t < T; t++) {
        const __m256 w = ldf(filter + (size_t)t * C + cb, masked, m);
        a0 = _mm256_fmadd_ps(ldf(s0 + toff[t], masked, m), w, a0);
        a1 = _mm256_fmadd_ps(ldf(s0 + xs + toff[t], masked, m), w, a1);
      }
      stf(o + (size_t)i * C + cb, finish(a0, bv, lo, hi), masked, m);
      stf(o + (size_t)(i + 1) * C + cb, finish(a1, bv, lo, hi), masked, m);
    }
    for (; i < n_px; i++) {
      const float *s0 = x + (size_t)i * xs + cb;
      __m256 a0 = _mm256_setzero_ps();
      for (int32_t t = 0; t < T; t++)
        a0 = _mm256_fmadd_ps(ldf(s0 + toff[t], masked, m),
                             ldf(filter + (size_t)t * C + cb, masked, m), a0);
      stf(o + (size_t)i * C + cb, finish(a0, bv, lo, hi), masked, m);
    }
  }
}

static void f32_dw_avx2(const tc_dwconv2d_params *p, const float *in, const float *filter,
                        const float *bias, float *out, int32_t row_begin, int32_t row_end) {
  const int32_t T = p->k_h * p->k_w;
  if (T > MAX_TAPS) {
    tc_f32_dwconv__ref.run(p, in, filter, bias, out, row_begin, row_end);
    return;
  }
  if (p->depth_multiplier != 1) { /* every pixel through the gathering per-pixel path */
    const int64_t oc = (int64_t)p->in_c * p->depth_multiplier;
    for (int32_t r = row_begin; r < row_end; r++) {
      const int32_t b = r / p->out_h, oy = r % p->out_h;
      const float *img = in + (int64_t)b * p->in_h * p->in_w * p->in_c;
      for (int32_t ox = 0; ox < p->out_w; ox++)
        f32_pixel(p, img, filter, bias, out + ((int64_t)r * p->out_w + ox) * oc, oy, ox);
    }
    return;
  }
  const int32_t C = p->in_c;
  int32_t ox_lo, ox_hi, oy_lo, oy_hi;
  interior(p->pad_left, p->stride_w, p->k_w, p->dilation_w, p->in_w, p->out_w, &ox_lo, &ox_hi);
  interior(p->pad_top, p->stride_h, p->k_h, p->dilation_h, p->in_h, p->out_h, &oy_lo, &oy_hi);
  const int is3x3 = p->k_h == 3 && p->k_w == 3 && p->dilation_h == 1 && p->dilation_w == 1 &&
                    (p->stride_w == 1 || p->stride_w == 2);
  int64_t toff[MAX_TAPS];
  for (int32_t ky = 0, t = 0; ky < p->k_h; ky++)
    for (int32_t kx = 0; kx < p->k_w; kx++, t++)
      toff[t] = ((int64_t)ky * p->dilation_h * p->in_w + (int64_t)kx * p->dilation_w) * C;
  const __m256 lo = _mm256_set1_ps(p->act_min), hi = _mm256_set1_ps(p->act_max);
  const int64_t img_size = (int64_t)p->in_h * p->in_w * C;
  for (int32_t r = row_begin; r < row_end; r++) {
    const int32_t b = r / p->out_h, oy = r % p->out_h;
    const float *img = in + b * img_size;
    float *orow = out + (int64_t)r * p->out_w * C;
    int32_t a = 0, e = 0; /* interior pixels [a, e) of this row */
    if (oy >= oy_lo && oy < oy_hi) a = ox_lo, e = ox_hi;
    for (int32_t ox = 0; ox < a; ox++) f32_pixel(p, img, filter, bias, orow + (int64_t)ox * C, oy, ox);
    if (e > a) {
      const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = a * p->stride_w - p->pad_left;
      const float *x = img + ((int64_t)y0 * p->in_w + x0) * C;
      if (is3x3)
        f32_3x3_row(x, orow + (int64_t)a * C, e - a, C, p->in_w, p->stride_w, filter, bias, lo,
                    hi);
      else
        f32_generic_span(x, orow + (int64_t)a * C, e - a, C, (size_t)p->stride_w * C, toff, T,
                         filter, bias, lo, hi);
    }
    for (int32_t ox = e > a ? e : a; ox < p->out_w; ox++)
      f32_pixel(p, img, filter, bias, orow + (int64_t)ox * C, oy, ox);
  }
}

tc_f32_dwconv_kernel tc_f32_dwconv__avx2 = {"avx2", f32_dw_avx2};

void tc__avx2_q_mul_check(const int32_t *x, const int32_t *mult, const int32_t *shift,
                          int32_t *out, size_t n) {
  for (size_t i = 0; i + 8 <= n; i += 8) {
    __m256i sh = _mm256_loadu_si256((const __m256i *)(shift + i)), z = _mm256_setzero_si256();
    __m256i r = tc__avx2_q_mul(_mm256_loadu_si256((const __m256i *)(x + i)),
                               _mm256_loadu_si256((const __m256i *)(mult + i)),
                               _mm256_max_epi32(sh, z), _mm256_max_epi32(_mm256_sub_epi32(z, sh), z));
    _mm256_storeu_si256((__m256i *)(out + i), r);
  }
}

#endif /* x86-64 */
