/* pool_avx2.c: AVX2 average and max pooling (AVERAGE_POOL_2D, MAX_POOL_2D, NHWC), vectorised over
 * channels: float 8 per register (32 per step where there are that many), 8-bit 32 per step for
 * max, and for average 64 per step as int16 sums where the window has at most 256 elements
 * (257 for uint8: the sums cannot overflow), else 8 per step as int32 sums (global pooling of
 * kws's 25x5x64: 1.3 -> ~0.3 us). Each output walks the clipped window in the
 * reference order, so the results are bit-exact with the reference kernels: float sums use the
 * same additions and a true division by the element count, the maximum is vmaxps with the
 * reference's operand order (NaN handling included), and the 8-bit average divides in double
 * (exact: |sum| < 2^53, see avg_div) with the reference's round-half-away-from-zero. */
#include "kernels/vec_ops.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <float.h>
#include <immintrin.h>
#include <string.h>

#include "kernels/x86/vec_avx2.h"

static inline void clip(int32_t origin, int32_t filter, int32_t size, int32_t *lo, int32_t *hi) {
  int32_t a = origin < 0 ? 0 : origin, b = origin + filter;
  *lo = a;
  *hi = b > size ? size : b;
}

/* ---- float ---------------------------------------------------------------------------------- */

static inline __attribute__((always_inline)) __m256 f32_window(const float *base, int32_t ylo,
                                                                int32_t yhi, int32_t xlo,
                                                                int32_t xhi, size_t rs, size_t C,
                                                                int is_max, __m256i m, int masked) {
  __m256 acc = is_max ? _mm256_set1_ps(-FLT_MAX) : _mm256_setzero_ps();
  for (int32_t y = ylo; y < yhi; y++)
    for (int32_t x = xlo; x < xhi; x++) {
      const float *s = base + (size_t)y * rs + (size_t)x * C;
      __m256 v = masked ? _mm256_maskload_ps(s, m) : _mm256_loadu_ps(s);
      acc = is_max ? _mm256_max_ps(v, acc) : _mm256_add_ps(acc, v); /* v > acc ? v : acc */
    }
  return acc;
}

static void f32_pool_avx2(const tc_pool2d_params *p, int is_max, const float *in, float *out,
                          int32_t row_begin, int32_t row_end) {
  const size_t C = (size_t)p->channels, rs = (size_t)p->in_w * C;
  const __m256 lo = _mm256_set1_ps(p->act_min), hi = _mm256_set1_ps(p->act_max);
  for (int32_t r = row_begin; r < row_end; r++) {
    const int32_t b = r / p->out_h, oy = r % p->out_h;
    const float *img = in + (size_t)b * p->in_h * rs;
    int32_t ylo, yhi;
    clip(oy * p->stride_h - p->pad_top, p->filter_h, p->in_h, &ylo, &yhi);
    for (int32_t ox = 0; ox < p->out_w; ox++) {
      int32_t xlo, xhi;
      clip(ox * p->stride_w - p->pad_left, p->filter_w, p->in_w, &xlo, &xhi);
      const int32_t count = (yhi > ylo && xhi > xlo) ? (yhi - ylo) * (xhi - xlo) : 0;
      const __m256 cnt = _mm256_set1_ps((float)count);
      float *o = out + ((size_t)r * p->out_w + ox) * C;
      for (size_t cb = 0; cb < C; cb += 8) {
        const int masked = C - cb < 8;
        const __m256i m = tc__avx2_tail_mask((int32_t)(C - cb));
        __m256 acc = masked ? f32_window(img + cb, ylo, yhi, xlo, xhi, rs, C, is_max, m, 1)
                            : f32_window(img + cb, ylo, yhi, xlo, xhi, rs, C, is_max, m, 0);
        if (!is_max) acc = count > 0 ? _mm256_div_ps(acc, cnt) : _mm256_setzero_ps();
        acc = _mm256_min_ps(hi, _mm256_max_ps(lo, acc));
        if (masked) _mm256_maskstore_ps(o + cb, m, acc);
        else _mm256_storeu_ps(o + cb, acc);
      }
    }
  }
}

/* ---- 8-bit ---------------------------------------------------------------------------------- */

/* rem (< 32) bytes into a zeroed register. */
static inline __m256i ld_part(const void *src, size_t rem) {
  uint8_t buf[32] = {0};
  memcpy(buf, src, rem);
  return _mm256_loadu_si256((const __m256i *)buf);
}

/* The reference's round_mean for 8 sums and one count > 0: (sum +/- count/2) / count with C
 * truncation. The quotient of two integers below 2^53 in magnitude is correctly rounded in
 * double and a non-integer quotient lies at least 1/count away from an integer, far more than
 * the rounding error, so truncating the double quotient gives the integer quotient. */
static inline __m256i avg_div(__m256i sum, int32_t count) {
  const __m256i half = _mm256_set1_epi32(count / 2);
  const __m256i pos = _mm256_cmpgt_epi32(sum, _mm256_setzero_si256());
  const __m256i num = _mm256_blendv_epi8(_mm256_sub_epi32(sum, half), _mm256_add_epi32(sum, half), pos);
  const __m256d c = _mm256_set1_pd((double)count);
  __m128i q0 = _mm256_cvttpd_epi32(_mm256_div_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(num)), c));
  __m128i q1 = _mm256_cvttpd_epi32(_mm256_div_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(num, 1)), c));
  return _mm256_set_m128i(q1, q0);
}

/* 16 bytes widened to int16 (uint8: the sums are read back as uint16). */
static inline __attribute__((always_inline)) __m256i ld16w(const uint8_t *s, int is_u8) {
  const __m128i v = _mm_loadu_si128((const __m128i *)s);
  return is_u8 ? _mm256_cvtepu8_epi16(v) : _mm256_cvtepi8_epi16(v);
}

/* n (<= 8) outputs from 8 int32 sums: the reference's rounded mean, clamp, bytes. */
static inline __attribute__((always_inline)) void avg_store8(uint8_t *o, __m256i sum,
                                                             int32_t count, __m256i amin,
                                                             __m256i amax, size_t n, int is_u8) {
  __m256i acc = count > 0 ? avg_div(sum, count) : _mm256_setzero_si256();
  acc = _mm256_min_epi32(_mm256_max_epi32(acc, amin), amax);
  const __m256i w16 = _mm256_packs_epi32(acc, acc);
  const __m256i b8 = is_u8 ? _mm256_packus_epi16(w16, w16) : _mm256_packs_epi16(w16, w16);
  /* bytes 0-3 of each 128-bit lane hold channels 0-3 and 4-7 */
  const uint32_t lo4 = (uint32_t)_mm256_extract_epi32(b8, 0);
  const uint32_t hi4 = (uint32_t)_mm256_extract_epi32(b8, 4);
  uint8_t buf[8];
  memcpy(buf, &lo4, 4);
  memcpy(buf + 4, &hi4, 4);
  memcpy(o, buf, n >= 8 ? 8 : n);
}

/* n (<= 16) outputs from 16 int16 sums (uint16 for uint8 data). */
static inline __attribute__((always_inline)) void avg_store16(uint8_t *o, __m256i sum16,
                                                              int32_t count, __m256i amin,
                                                              __m256i amax, size_t n,
                                                              int is_u8) {
  const __m128i l = _mm256_castsi256_si128(sum16), h = _mm256_extracti128_si256(sum16, 1);
  avg_store8(o, is_u8 ? _mm256_cvtepu16_epi32(l) : _mm256_cvtepi16_epi32(l), count, amin, amax,
             n, is_u8);
  if (n > 8)
    avg_store8(o + 8, is_u8 ? _mm256_cvtepu16_epi32(h) : _mm256_cvtepi16_epi32(h), count, amin,
               amax, n - 8, is_u8);
}

static inline __attribute__((always_inline)) void q8_pool(const tc_pool2d_params *p, int is_max,
                                                          int32_t act_min, int32_t act_max,
                                                          const uint8_t *in, uint8_t *out,
                                                          int32_t row_begin, int32_t row_end,
                                                          int is_u8) {
  const size_t C = (size_t)p->channels, rs = (size_t)p->in_w * C;
  const __m256i amin = _mm256_set1_epi32(act_min), amax = _mm256_set1_epi32(act_max);
  /* max: the clamp on bytes (act range lies within the type range) */
  const __m256i bmin = is_u8 ? _mm256_set1_epi8((char)(uint8_t)act_min) : _mm256_set1_epi8((char)act_min);
  const __m256i bmax = is_u8 ? _mm256_set1_epi8((char)(uint8_t)act_max) : _mm256_set1_epi8((char)act_max);
  for (int32_t r = row_begin; r < row_end; r++) {
    const int32_t b = r / p->out_h, oy = r % p->out_h;
    const uint8_t *img = in + (size_t)b * p->in_h * rs;
    int32_t ylo, yhi;
    clip(oy * p->stride_h - p->pad_top, p->filter_h, p->in_h, &ylo, &yhi);
    for (int32_t ox = 0; ox < p->out_w; ox++) {
      int32_t xlo, xhi;
      clip(ox * p->stride_w - p->pad_left, p->filter_w, p->in_w, &xlo, &xhi);
      const int32_t count = (yhi > ylo && xhi > xlo) ? (yhi - ylo) * (xhi - xlo) : 0;
      uint8_t *o = out + ((size_t)r * p->out_w + ox) * C;
      if (is_max) {
        for (size_t cb = 0; cb < C; cb += 32) {
          const size_t rem = C - cb;
          __m256i acc = _mm256_set1_epi8(is_u8 ? 0 : (char)0x80);
          for (int32_t y = ylo; y < yhi; y++)
            for (int32_t x = xlo; x < xhi; x++) {
              const uint8_t *s = img + (size_t)y * rs + (size_t)x * C + cb;
              __m256i v = rem >= 32 ? _mm256_loadu_si256((const __m256i *)s) : ld_part(s, rem);
              acc = is_u8 ? _mm256_max_epu8(acc, v) : _mm256_max_epi8(acc, v);
            }
          acc = is_u8 ? _mm256_min_epu8(_mm256_max_epu8(acc, bmin), bmax)
                      : _mm256_min_epi8(_mm256_max_epi8(acc, bmin), bmax);
          if (rem >= 32) _mm256_storeu_si256((__m256i *)(o + cb), acc);
          else {
            uint8_t buf[32];
            _mm256_storeu_si256((__m256i *)buf, acc);
            memcpy(o + cb, buf, rem);
          }
        }
        continue;
      }
      size_t cb0 = 0;
      if (count <= (is_u8 ? 257 : 256)) { /* int16 sums cannot overflow: 16 channels a step */
        for (; cb0 + 64 <= C; cb0 += 64) {
          __m256i a0 = _mm256_setzero_si256(), a1 = a0, a2 = a0, a3 = a0;
          for (int32_t y = ylo; y < yhi; y++)
            for (int32_t x = xlo; x < xhi; x++) {
              const uint8_t *s = img + (size_t)y * rs + (size_t)x * C + cb0;
              a0 = _mm256_add_epi16(a0, ld16w(s, is_u8));
              a1 = _mm256_add_epi16(a1, ld16w(s + 16, is_u8));
              a2 = _mm256_add_epi16(a2, ld16w(s + 32, is_u8));
              a3 = _mm256_add_epi16(a3, ld16w(s + 48, is_u8));
            }
          avg_store16(o + cb0, a0, count, amin, amax, 16, is_u8);
          avg_store16(o + cb0 + 16, a1, count, amin, amax, 16, is_u8);
          avg_store16(o + cb0 + 32, a2, count, amin, amax, 16, is_u8);
          avg_store16(o + cb0 + 48, a3, count, amin, amax, 16, is_u8);
        }
        for (; cb0 < C; cb0 += 16) {
          const size_t rem = C - cb0 < 16 ? C - cb0 : 16;
          __m256i a0 = _mm256_setzero_si256();
          for (int32_t y = ylo; y < yhi; y++)
            for (int32_t x = xlo; x < xhi; x++) {
              const uint8_t *s = img + (size_t)y * rs + (size_t)x * C + cb0;
              if (rem == 16) a0 = _mm256_add_epi16(a0, ld16w(s, is_u8));
              else {
                uint8_t buf[16] = {0};
                memcpy(buf, s, rem);
                a0 = _mm256_add_epi16(a0, ld16w(buf, is_u8));
              }
            }
          avg_store16(o + cb0, a0, count, amin, amax, rem, is_u8);
        }
      }
      for (size_t cb = cb0; cb < C; cb += 8) {
        const size_t rem = C - cb;
        __m256i acc = _mm256_setzero_si256();
        for (int32_t y = ylo; y < yhi; y++)
          for (int32_t x = xlo; x < xhi; x++) {
            const uint8_t *s = img + (size_t)y * rs + (size_t)x * C + cb;
            __m128i v;
            if (rem >= 8) v = _mm_loadl_epi64((const __m128i *)s);
            else {
              uint8_t buf[16] = {0};
              memcpy(buf, s, rem);
              v = _mm_loadu_si128((const __m128i *)buf);
            }
            acc = _mm256_add_epi32(acc, is_u8 ? _mm256_cvtepu8_epi32(v) : _mm256_cvtepi8_epi32(v));
          }
        avg_store8(o + cb, acc, count, amin, amax, rem, is_u8);
      }
    }
  }
}

static void s8_pool_avx2(const tc_pool2d_params *p, int is_max, int32_t act_min, int32_t act_max,
                         const void *in, void *out, int32_t row_begin, int32_t row_end) {
  q8_pool(p, is_max, act_min, act_max, in, out, row_begin, row_end, 0);
}
static void u8_pool_avx2(const tc_pool2d_params *p, int is_max, int32_t act_min, int32_t act_max,
                         const void *in, void *out, int32_t row_begin, int32_t row_end) {
  q8_pool(p, is_max, act_min, act_max, in, out, row_begin, row_end, 1);
}

tc_f32_pool_kernel tc_f32_pool__avx2;
tc_s8_pool_kernel tc_s8_pool__avx2;
tc_u8_pool_kernel tc_u8_pool__avx2;
void tc_f32_pool__avx2(const tc_pool2d_params *p, int is_max, const float *in, float *out,
                       int32_t row_begin, int32_t row_end) {
  f32_pool_avx2(p, is_max, in, out, row_begin, row_end);
}
void tc_s8_pool__avx2(const tc_pool2d_params *p, int is_max, int32_t act_min, int32_t act_max,
                      const void *in, void *out, int32_t row_begin, int32_t row_end) {
  s8_pool_avx2(p, is_max, act_min, act_max, in, out, row_begin, row_end);
}
void tc_u8_pool__avx2(const tc_pool2d_params *p, int is_max, int32_t act_min, int32_t act_max,
                      const void *in, void *out, int32_t row_begin, int32_t row_end) {
  u8_pool_avx2(p, is_max, act_min, act_max, in, out, row_begin, row_end);
}

#endif /* x86-64 */
