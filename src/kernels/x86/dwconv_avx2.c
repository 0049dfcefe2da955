/* dwconv_avx2.c: AVX2 depthwise convolution (DEPTHWISE_CONV_2D, NHWC, any depth multiplier),
 * vectorised over channels. Each output row is cut into a left border, an interior where every
 * filter tap lies inside the image, and a right border; rows near the top/bottom are all border.
 * Float: 8 channels per register, the interior of 3x3 filters (stride 1 or 2, dilation 1) keeps
 * the 9 weight vectors in registers and computes 4 pixels at a time; other filters use a tap
 * offset table; border pixels skip out-of-image taps as the reference kernel does. Taps are
 * summed in (ky, kx) order with FMA, then the bias is added and the result clamped.
 * 8-bit: 16 channels per step; pairs of taps are interleaved as int16 and multiplied with
 * vpmaddwd against weights repacked at prepare (int16, filter offset applied); the interior
 * adds the input offset through the bias (bias + input_offset * sum of weights, precomputed),
 * border pixels add it to every valid tap. The int32 accumulator is the reference's accumulator
 * modulo 2^32, and the requantization is tc_q_mul_double lane by lane (tc__avx2_q_mul, vec_avx2.h), so the
 * outputs are bit-exact. Depth multipliers M > 1 gather the input channel of each output lane
 * (vpermps for float, vpshufb for 8-bit). */
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

/* ---- 8-bit ---------------------------------------------------------------------------------- *
 * Packed layout, per group g of 16 output channels (G groups, the last zero-padded) and
 * P = ceil(T/2) tap pairs:
 *   int16 w[G][P][32]: for the "lo" half, lane k (0..7) holds the pair (tap 2p, tap 2p+1) of
 *     channel perm(k); the "hi" half lane k the pair of channel perm(8 + k). perm follows the
 *     lanes of vpunpck{l,h}wd: lo = channels 0-3, 8-11 and hi = 4-7, 12-15 of the group.
 *   int32 blocks [G][8][16]: bias_fold, bias_raw, mult, lshift, rshift in that lane order, a
 *     gather block: bytes 0-15 the vpshufb index taking output channel g*16+j from input byte
 *     (g*16+j)/M - c0, int32 [4] = c0 = g*16/M (first input channel), [5] = input bytes read,
 *     [6] = 1 if some lshift is not 0, [7] = 1 if some mult is INT32_MIN (the saturating case
 *     of tc_q_srdhm); then the rounding mask 2^rshift - 1 and its half, precomputed.
 * With depth multiplier M == 1 the gather is the identity and is skipped. With exactly 8 output
 * channels the upper 8 lanes repeat channels 0-7 (weights, requantization, gather + 8), so the
 * interior computes two pixels per register (q8_pair_interior). */

enum { QBLK = 8 * 16 }; /* int32 per group in the block area */

static inline int32_t perm16(int32_t j) {
  return j < 4 ? j : (j < 8 ? j + 4 : (j < 12 ? j - 4 : j));
}

typedef struct q8_layout {
  int32_t G, P, T, Cin, Cout, M;
  size_t w_bytes; /* G * P * 64 */
} q8_layout;

static q8_layout q8_geom(const tc_dwconv2d_params *p) {
  q8_layout l;
  l.T = p->k_h * p->k_w;
  l.P = (l.T + 1) / 2;
  l.Cin = p->in_c;
  l.M = p->depth_multiplier;
  l.Cout = p->in_c * p->depth_multiplier;
  l.G = (l.Cout + 15) / 16;
  l.w_bytes = (size_t)l.G * l.P * 64;
  return l;
}

static size_t q8_packed_size(const tc_dwconv2d_params *p) {
  q8_layout l = q8_geom(p);
  return l.w_bytes + (size_t)l.G * QBLK * 4;
}

static void q8_pack(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *filter,
                    const int32_t *bias, void *packed, int is_u8) {
  const q8_layout l = q8_geom(p);
  const int32_t C = l.Cout;
  int16_t *w = packed;
  int32_t *extra = (int32_t *)((char *)packed + l.w_bytes);
  memset(packed, 0, q8_packed_size(p));
  for (int32_t g = 0; g < l.G; g++) {
    int32_t *blk = extra + (size_t)g * QBLK;
    int32_t *bf = blk, *br = blk + 16, *mu = blk + 32, *ls = blk + 48, *rsh = blk + 64;
    int32_t *gat = blk + 80;
    const int32_t c0 = g * 16 / l.M, last = (g * 16 + (C - g * 16 < 16 ? C - g * 16 : 16) - 1) / l.M;
    uint8_t idx[16];
    for (int32_t j = 0; j < 16; j++) {
      const int32_t oc = g * 16 + j;
      idx[j] = (uint8_t)(oc < C ? oc / l.M - c0 : 0);
      if (C == 8 && j >= 8) idx[j] = (uint8_t)(8 + (j - 8) / l.M); /* pixel pairs, see q8_dw */
    }
    memcpy(gat, idx, 16);
    gat[4] = c0;
    gat[5] = last - c0 + 1;
    for (int32_t j = 0; j < 16; j++) {
      /* 8 channels: lanes 8-15 repeat channels 0-7 for a second pixel (q8_dw) */
      const int32_t c = C == 8 ? perm16(j) % 8 : g * 16 + perm16(j);
      if (c >= C) continue; /* padding lanes: weights, bias and multiplier stay 0 */
      uint32_t wsum = 0;
      for (int32_t t = 0; t < l.T; t++) {
        int32_t v = is_u8 ? ((const uint8_t *)filter)[(size_t)t * C + c] + q->filter_offset
                          : ((const int8_t *)filter)[(size_t)t * C + c];
        wsum += (uint32_t)v;
        /* lane j of the group: half j / 8, lane k = j % 8, element 2k (+1 for the odd tap) */
        w[(((size_t)g * l.P + t / 2) * 32) + (j / 8) * 16 + (j % 8) * 2 + (t % 2)] = (int16_t)v;
      }
      const uint32_t b0 = bias ? (uint32_t)bias[c] : 0u;
      br[j] = (int32_t)b0;
      bf[j] = (int32_t)(b0 + (uint32_t)q->input_offset * wsum);
      mu[j] = q->mult[c];
      ls[j] = q->shift[c] > 0 ? q->shift[c] : 0;
      rsh[j] = q->shift[c] > 0 ? 0 : -q->shift[c];
      blk[96 + j] = (int32_t)(((int64_t)1 << rsh[j]) - 1);
      blk[112 + j] = blk[96 + j] >> 1;
      if (ls[j]) gat[6] = 1;
      if (mu[j] == INT32_MIN) gat[7] = 1;
    }
  }
}

static void s8_pack(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *filter,
                    const int32_t *bias, void *packed) {
  q8_pack(p, q, filter, bias, packed, 0);
}
static void u8_pack(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *filter,
                    const int32_t *bias, void *packed) {
  q8_pack(p, q, filter, bias, packed, 1);
}

/* The 16 output channels of a group from the input bytes at src (n bytes are needed; 16 are
 * read when that stays before `end`), gathered for M > 1, widened to int16. Lanes past the
 * group's channels hold garbage that only reaches output lanes that are not stored. */
static inline __attribute__((always_inline)) __m256i ldq(const uint8_t *src, int32_t n,
                                                         const uint8_t *end, __m128i idx,
                                                         int gather, int is_u8) {
  __m128i v;
  if (n >= 16 || src + 16 <= end) v = _mm_loadu_si128((const __m128i *)src);
  else if (n == 8) v = _mm_loadl_epi64((const __m128i *)src);
  else {
    uint8_t buf[16] = {0};
    memcpy(buf, src, (size_t)n);
    v = _mm_loadu_si128((const __m128i *)buf);
  }
  if (gather) v = _mm_shuffle_epi8(v, idx);
  return is_u8 ? _mm256_cvtepu8_epi16(v) : _mm256_cvtepi8_epi16(v);
}

/* tc__avx2_q_mul with the per-group constants of the packed block: the left shift and the
 * saturation test are skipped when the group has none (flags [6], [7] of the gather block),
 * and the rounding mask and half come precomputed. Same value in every lane. */
static inline __attribute__((always_inline)) __m256i q_mul_pre(__m256i x, const int32_t *ex,
                                                               const int32_t *mu,
                                                               const int32_t *ls,
                                                               const int32_t *rsh, int h) {
  const __m256i m = _mm256_loadu_si256((const __m256i *)(mu + h));
  if (ex[86]) x = _mm256_sllv_epi32(x, _mm256_loadu_si256((const __m256i *)(ls + h)));
  __m256i r = ex[87] ? tc__avx2_srdhm(x, m) : tc__avx2_srdhm_nosat(x, m);
  const __m256i mask = _mm256_loadu_si256((const __m256i *)(ex + 96 + h));
  const __m256i thr = _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(ex + 112 + h)),
                                       _mm256_cmpgt_epi32(_mm256_setzero_si256(), r));
  const __m256i rem = _mm256_and_si256(r, mask);
  return _mm256_sub_epi32(_mm256_srav_epi32(r, _mm256_loadu_si256((const __m256i *)(rsh + h))),
                          _mm256_cmpgt_epi32(rem, thr));
}

/* Requantizes the two accumulator halves of one group and stores rem (<= 16) channels. */
static inline __attribute__((always_inline)) void q8_store(__m256i lo, __m256i hi,
                                                           const int32_t *ex, const tc_q_requant *q,
                                                           void *dst, int32_t rem, int is_u8) {
  const __m256i zo = _mm256_set1_epi32(q->output_offset);
  const __m256i amin = _mm256_set1_epi32(q->act_min), amax = _mm256_set1_epi32(q->act_max);
  const int32_t *mu = ex + 2 * 16, *ls = ex + 3 * 16, *rsh = ex + 4 * 16;
  lo = q_mul_pre(lo, ex, mu, ls, rsh, 0);
  hi = q_mul_pre(hi, ex, mu, ls, rsh, 8);
  lo = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(lo, zo), amin), amax);
  hi = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(hi, zo), amin), amax);
  __m256i w16 = _mm256_packs_epi32(lo, hi); /* channels 0-7 | 8-15 as int16 */
  __m256i b8 = is_u8 ? _mm256_packus_epi16(w16, w16) : _mm256_packs_epi16(w16, w16);
  __m128i r = _mm256_castsi256_si128(_mm256_permute4x64_epi64(b8, 0x08));
  if (rem >= 16) _mm_storeu_si128((__m128i *)dst, r);
  else if (rem == 8) _mm_storel_epi64((__m128i *)dst, r);
  else {
    uint8_t buf[16];
    _mm_storeu_si128((__m128i *)buf, r);
    memcpy(dst, buf, (size_t)rem);
  }
}

/* One interior pixel (x: its top-left tap, channel 0): all taps valid, input offset folded
 * into the bias. */
static inline __attribute__((always_inline)) void q8_pixel_interior(
    const uint8_t *x, const uint8_t *end, uint8_t *o, const int64_t *toff, const q8_layout *l,
    const int16_t *w, const int32_t *extra, const tc_q_requant *q, int gather, int is_u8) {
  for (int32_t g = 0; g < l->G; g++) {
    const int32_t rem = l->Cout - g * 16;
    const int32_t *ex = extra + (size_t)g * QBLK;
    const __m128i idx = _mm_loadu_si128((const __m128i *)(ex + 80));
    const int32_t n_in = ex[85];
    const __m256i *wg = (const __m256i *)(w + (size_t)g * l->P * 32);
    __m256i alo = _mm256_loadu_si256((const __m256i *)ex);
    __m256i ahi = _mm256_loadu_si256((const __m256i *)(ex + 8));
    const uint8_t *s = x + ex[84];
    int32_t t = 0, pp = 0;
    for (; t + 1 < l->T; t += 2, pp++) {
      const __m256i a = ldq(s + toff[t], n_in, end, idx, gather, is_u8);
      const __m256i b = ldq(s + toff[t + 1], n_in, end, idx, gather, is_u8);
      alo = _mm256_add_epi32(alo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b),
                                                    _mm256_loadu_si256(wg + 2 * pp)));
      ahi = _mm256_add_epi32(ahi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b),
                                                    _mm256_loadu_si256(wg + 2 * pp + 1)));
    }
    if (t < l->T) { /* odd tap count: the pair's second weight is 0 */
      const __m256i a = ldq(s + toff[t], n_in, end, idx, gather, is_u8), z = _mm256_setzero_si256();
      alo = _mm256_add_epi32(alo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, z),
                                                    _mm256_loadu_si256(wg + 2 * pp)));
      ahi = _mm256_add_epi32(ahi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, z),
                                                    _mm256_loadu_si256(wg + 2 * pp + 1)));
    }
    q8_store(alo, ahi, ex, q, o + g * 16, rem, is_u8);
  }
}

/* The 8 channels of input a and of a + xs in one register (low and high 8 lanes). */
static inline __attribute__((always_inline)) __m256i ld_pair(const uint8_t *a, size_t xs,
                                                             const uint8_t *end, int32_t n_in,
                                                             __m128i idx, int gather, int is_u8) {
  const uint8_t *b = a + xs;
  __m128i va, vb;
  if (b + 8 <= end) {
    va = _mm_loadl_epi64((const __m128i *)a);
    vb = _mm_loadl_epi64((const __m128i *)b);
  } else {
    uint8_t ba[16] = {0}, bb[16] = {0};
    memcpy(ba, a, (size_t)n_in);
    memcpy(bb, b, (size_t)n_in);
    va = _mm_loadu_si128((const __m128i *)ba);
    vb = _mm_loadu_si128((const __m128i *)bb);
  }
  __m128i v = _mm_unpacklo_epi64(va, vb);
  if (gather) v = _mm_shuffle_epi8(v, idx);
  return is_u8 ? _mm256_cvtepu8_epi16(v) : _mm256_cvtepi8_epi16(v);
}

/* Two interior pixels of an 8-channel layer (x, x + xs), lanes 0-7 and 8-15 of one group. */
static inline __attribute__((always_inline)) void q8_pair_interior(
    const uint8_t *x, size_t xs, const uint8_t *end, uint8_t *o, const int64_t *toff,
    const q8_layout *l, const int16_t *w, const int32_t *extra, const tc_q_requant *q,
    int gather, int is_u8) {
  const int32_t *ex = extra;
  const __m128i idx = _mm_loadu_si128((const __m128i *)(ex + 80));
  const __m256i *wg = (const __m256i *)w;
  __m256i alo = _mm256_loadu_si256((const __m256i *)ex);
  __m256i ahi = _mm256_loadu_si256((const __m256i *)(ex + 8));
  const int32_t n_in = ex[85];
  int32_t t = 0, pp = 0;
  for (; t + 1 < l->T; t += 2, pp++) {
    const __m256i a = ld_pair(x + toff[t], xs, end, n_in, idx, gather, is_u8), b = ld_pair(x + toff[t + 1], xs, end, n_in, idx, gather, is_u8);
    alo = _mm256_add_epi32(alo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, b),
                                                  _mm256_loadu_si256(wg + 2 * pp)));
    ahi = _mm256_add_epi32(ahi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, b),
                                                  _mm256_loadu_si256(wg + 2 * pp + 1)));
  }
  if (t < l->T) {
    const __m256i a = ld_pair(x + toff[t], xs, end, n_in, idx, gather, is_u8), z = _mm256_setzero_si256();
    alo = _mm256_add_epi32(alo, _mm256_madd_epi16(_mm256_unpacklo_epi16(a, z),
                                                  _mm256_loadu_si256(wg + 2 * pp)));
    ahi = _mm256_add_epi32(ahi, _mm256_madd_epi16(_mm256_unpackhi_epi16(a, z),
                                                  _mm256_loadu_si256(wg + 2 * pp + 1)));
  }
  uint8_t buf[16];
  q8_store(alo, ahi, ex, q, buf, 16, is_u8);
  memcpy(o, buf, 8);
  memcpy(o + 8, buf + 8, 8); /* the next pixel's 8 channels follow contiguously */
}

/* One border pixel: out-of-image taps contribute 0 (padding with the input zero point); the
 * valid ones get the input offset added as int16 (|value| <= 255). */
static inline __attribute__((always_inline)) void q8_pixel_border(
    const tc_dwconv2d_params *p, const uint8_t *img, const uint8_t *end, uint8_t *o, int32_t oy,
    int32_t ox, const q8_layout *l, const int16_t *w, const int32_t *extra,
    const tc_q_requant *q, int gather, int is_u8) {
  const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
  const __m256i off = _mm256_set1_epi16((int16_t)q->input_offset);
  const __m256i z = _mm256_setzero_si256();
  int64_t src[MAX_TAPS + 1]; /* input offset of each tap, -1 outside the image (and past T) */
  for (int32_t t = 0; t < 2 * l->P; t++) {
    src[t] = -1;
    if (t >= l->T) continue;
    const int32_t y = y0 + (t / p->k_w) * p->dilation_h;
    const int32_t xx = x0 + (t % p->k_w) * p->dilation_w;
    if (y >= 0 && y < p->in_h && xx >= 0 && xx < p->in_w)
      src[t] = ((int64_t)y * p->in_w + xx) * l->Cin;
  }
  for (int32_t g = 0; g < l->G; g++) {
    const int32_t rem = l->Cout - g * 16;
    const int32_t *ex = extra + (size_t)g * QBLK;
    const __m128i idx = _mm_loadu_si128((const __m128i *)(ex + 80));
    const int32_t n_in = ex[85], c0 = ex[84];
    const __m256i *wg = (const __m256i *)(w + (size_t)g * l->P * 32);
    __m256i alo = _mm256_loadu_si256((const __m256i *)(ex + 16));
    __m256i ahi = _mm256_loadu_si256((const __m256i *)(ex + 24));
    for (int32_t pp = 0; pp < l->P; pp++) {
      const int64_t s0 = src[2 * pp], s1 = src[2 * pp + 1];
      if (s0 < 0 && s1 < 0) continue; /* both taps outside: adds 0 */
      const __m256i v0 =
          s0 < 0 ? z : _mm256_add_epi16(ldq(img + s0 + c0, n_in, end, idx, gather, is_u8), off);
      const __m256i v1 =
          s1 < 0 ? z : _mm256_add_epi16(ldq(img + s1 + c0, n_in, end, idx, gather, is_u8), off);
      alo = _mm256_add_epi32(alo, _mm256_madd_epi16(_mm256_unpacklo_epi16(v0, v1),
                                                    _mm256_loadu_si256(wg + 2 * pp)));
      ahi = _mm256_add_epi32(ahi, _mm256_madd_epi16(_mm256_unpackhi_epi16(v0, v1),
                                                    _mm256_loadu_si256(wg + 2 * pp + 1)));
    }
    q8_store(alo, ahi, ex, q, o + g * 16, rem, is_u8);
  }
}

static inline __attribute__((always_inline)) void q8_dw(
    const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in, const void *packed,
    void *out, int32_t row_begin, int32_t row_end, int gather, int is_u8) {
  const q8_layout l = q8_geom(p);
  const int32_t Cin = l.Cin, Cout = l.Cout;
  const int16_t *w = packed;
  const int32_t *extra = (const int32_t *)((const char *)packed + l.w_bytes);
  int32_t ox_lo, ox_hi, oy_lo, oy_hi;
  interior(p->pad_left, p->stride_w, p->k_w, p->dilation_w, p->in_w, p->out_w, &ox_lo, &ox_hi);
  interior(p->pad_top, p->stride_h, p->k_h, p->dilation_h, p->in_h, p->out_h, &oy_lo, &oy_hi);
  int64_t toff[MAX_TAPS];
  for (int32_t ky = 0, t = 0; ky < p->k_h; ky++)
    for (int32_t kx = 0; kx < p->k_w; kx++, t++)
      toff[t] = ((int64_t)ky * p->dilation_h * p->in_w + (int64_t)kx * p->dilation_w) * Cin;
  const int64_t img_size = (int64_t)p->in_h * p->in_w * Cin;
  const size_t xs = (size_t)p->stride_w * Cin;
  for (int32_t r = row_begin; r < row_end; r++) {
    const int32_t b = r / p->out_h, oy = r % p->out_h;
    const uint8_t *img = (const uint8_t *)in + b * img_size, *end = img + img_size;
    uint8_t *orow = (uint8_t *)out + (int64_t)r * p->out_w * Cout;
    int32_t a = 0, e = 0;
    if (oy >= oy_lo && oy < oy_hi) a = ox_lo, e = ox_hi;
    for (int32_t ox = 0; ox < a; ox++)
      q8_pixel_border(p, img, end, orow + (int64_t)ox * Cout, oy, ox, &l, w, extra, q, gather,
                      is_u8);
    if (e > a) {
      const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = a * p->stride_w - p->pad_left;
      const uint8_t *x = img + ((int64_t)y0 * p->in_w + x0) * Cin;
      int32_t ox = a;
      if (Cout == 8)
        for (; ox + 2 <= e; ox += 2)
          q8_pair_interior(x + (size_t)(ox - a) * xs, xs, end, orow + (int64_t)ox * Cout, toff,
                           &l, w, extra, q, gather, is_u8);
      for (; ox < e; ox++)
        q8_pixel_interior(x + (size_t)(ox - a) * xs, end, orow + (int64_t)ox * Cout, toff, &l,
                          w, extra, q, gather, is_u8);
    }
    for (int32_t ox = e > a ? e : a; ox < p->out_w; ox++)
      q8_pixel_border(p, img, end, orow + (int64_t)ox * Cout, oy, ox, &l, w, extra, q, gather,
                      is_u8);
  }
}

static void s8_dw_avx2(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in,
                       const void *filter, const int32_t *bias, const void *packed, void *out,
                       int32_t row_begin, int32_t row_end) {
  if (p->k_h * p->k_w > MAX_TAPS || !packed) {
    tc_s8_dwconv__ref.run(p, q, in, filter, bias, NULL, out, row_begin, row_end);
    return;
  }
  if (p->depth_multiplier == 1) q8_dw(p, q, in, packed, out, row_begin, row_end, 0, 0);
  else q8_dw(p, q, in, packed, out, row_begin, row_end, 1, 0);
}

static void u8_dw_avx2(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in,
                       const void *filter, const int32_t *bias, const void *packed, void *out,
                       int32_t row_begin, int32_t row_end) {
  if (p->k_h * p->k_w > MAX_TAPS || !packed) {
    tc_u8_dwconv__ref.run(p, q, in, filter, bias, NULL, out, row_begin, row_end);
    return;
  }
  if (p->depth_multiplier == 1) q8_dw(p, q, in, packed, out, row_begin, row_end, 0, 1);
  else q8_dw(p, q, in, packed, out, row_begin, row_end, 1, 1);
}

/* Packing is only worth its memory when the fast path runs (bounded tap count). */
static size_t q8_size_if_used(const tc_dwconv2d_params *p) {
  if (p->k_h * p->k_w > MAX_TAPS) return 0;
  return q8_packed_size(p);
}

tc_s8_dwconv_kernel tc_s8_dwconv__avx2 = {"avx2", q8_size_if_used, s8_pack, s8_dw_avx2};
tc_u8_dwconv_kernel tc_u8_dwconv__avx2 = {"avx2", q8_size_if_used, u8_pack, u8_dw_avx2};

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
