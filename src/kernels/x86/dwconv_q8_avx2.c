/* dwconv_q8_avx2.c: AVX2 int8 / uint8 depthwise convolution (slots s8_dwconv and u8_dwconv of
 * vec_ops.h): the template of dwconv_q8_impl.h (the algorithm, exactness) with groups of 8
 * output channels, one ymm of int32 lanes or of 8 int16 tap pairs. This file holds the vector
 * primitives: ring row builds (16-byte loads cover two groups), the two requantization forms
 * and the 4-pixel byte packing and stores. */
#include "kernels/vec_ops.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <string.h>

#define DWQ_L 8
#define DWQ_ISA avx2
#define DWQ_NAME "avx2"
#include "kernels/x86/dwconv_q8_pack.h"

typedef __m256i dwq_v;
enum { DWQ_BC2 = 8 };

AI __m256i ld(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }
AI __m256i vset1_32(int32_t x) { return _mm256_set1_epi32(x); }
AI __m256i vset1_8(char x) { return _mm256_set1_epi8(x); }
AI __m256i mac(__m256i acc, __m256i a, __m256i w) {
  return _mm256_add_epi32(acc, _mm256_madd_epi16(a, w));
}

/* A ring element: 8 lanes of pairs, or (bc) one pair broadcast. */
AI __m256i ldp(const void *p, int bc) {
  if (!bc) return ld(p);
  int32_t v;
  memcpy(&v, p, sizeof v);
  return _mm256_set1_epi32(v);
}

/* ---- ring rows ------------------------------------------------------------------------------ */

AI __m256i widen(__m128i v, int is_u8) {
  return is_u8 ? _mm256_cvtepu8_epi16(v) : _mm256_cvtepi8_epi16(v);
}

AI void fill_z(int16_t *dst, size_t n, int16_t z) {
  const __m256i zp = _mm256_set1_epi16(z);
  size_t k = 0;
  for (; k + 16 <= n; k += 16) _mm256_storeu_si256((__m256i *)(dst + k), zp);
  /* at most 15 left; the explicit bound keeps gcc 13 from reasoning about a 2^63-long tail */
  for (size_t t = 0; t < 16 && k + t < n; t++) dst[k + t] = z;
}

/* Positions [i_lo, i_hi) of every group, two groups at a time, position after position. */
AI void build_row(int16_t *dst, size_t gs, const uint8_t *a, int64_t dC, int64_t step,
                  int64_t i_lo, int64_t i_hi, int32_t ng, int is_u8) {
  int32_t gl = 0;
  for (; gl + 2 <= ng; gl += 2) {
    const uint8_t *ag = a + gl * 8;
    int16_t *o = dst + gl * gs + i_lo * 16;
    for (int64_t i = i_lo; i < i_hi; i++, ag += step, o += 16) {
      const __m128i va = _mm_loadu_si128((const __m128i *)ag);
      const __m128i vb = _mm_loadu_si128((const __m128i *)(ag + dC));
      _mm256_storeu_si256((__m256i *)o, widen(_mm_unpacklo_epi8(va, vb), is_u8));
      _mm256_storeu_si256((__m256i *)(o + gs), widen(_mm_unpackhi_epi8(va, vb), is_u8));
    }
  }
  if (gl < ng) {
    const uint8_t *ag = a + gl * 8;
    int16_t *o = dst + gl * gs + i_lo * 16;
    for (int64_t i = i_lo; i < i_hi; i++, ag += step, o += 16) {
      const __m128i va = _mm_loadl_epi64((const __m128i *)ag);
      const __m128i vb = _mm_loadl_epi64((const __m128i *)(ag + dC));
      _mm256_storeu_si256((__m256i *)o, widen(_mm_unpacklo_epi8(va, vb), is_u8));
    }
  }
}

/* One position of every group: pairs (a[c], b[c]); a and b point at the block's first input
 * channel c_begin of taps x and x + d (in the image, or in the zero-point row zrow), and the
 * build_span bytes after them are readable. */
AI void build_pos(int16_t *o, size_t gs, const uint8_t *a, const uint8_t *b, const q8_grp *grp,
                  int32_t ng, int64_t c_begin, int gather, int is_u8) {
  if (!gather) {
    int32_t gl = 0;
    for (; gl + 2 <= ng; gl += 2) {
      const __m128i va = _mm_loadu_si128((const __m128i *)(a + gl * 8));
      const __m128i vb = _mm_loadu_si128((const __m128i *)(b + gl * 8));
      _mm256_storeu_si256((__m256i *)(o + gl * gs), widen(_mm_unpacklo_epi8(va, vb), is_u8));
      _mm256_storeu_si256((__m256i *)(o + (gl + 1) * gs), widen(_mm_unpackhi_epi8(va, vb), is_u8));
    }
    if (gl < ng) {
      const __m128i va = _mm_loadl_epi64((const __m128i *)(a + gl * 8));
      const __m128i vb = _mm_loadl_epi64((const __m128i *)(b + gl * 8));
      _mm256_storeu_si256((__m256i *)(o + gl * gs), widen(_mm_unpacklo_epi8(va, vb), is_u8));
    }
    return;
  }
  for (int32_t gl = 0; gl < ng; gl++) {
    const int64_t off = grp[gl].c0 - c_begin;
    const __m128i va = _mm_loadl_epi64((const __m128i *)(a + off));
    const __m128i vb = _mm_loadl_epi64((const __m128i *)(b + off));
    const __m128i v = _mm_shuffle_epi8(_mm_unpacklo_epi8(va, vb),
                                       _mm_loadu_si128((const __m128i *)grp[gl].shuf));
    _mm256_storeu_si256((__m256i *)(o + gl * gs), widen(v, is_u8));
  }
}

/* bc rows: 16 bytes -> 8 pairs (v[2i], v[2i + 1]); 16 + 16 shifted bytes -> 16 pairs. */
AI void bc_u2(int16_t *dst, const uint8_t *s, int is_u8) {
  _mm256_storeu_si256((__m256i *)dst, widen(_mm_loadu_si128((const __m128i *)s), is_u8));
}
AI void pairs16(int16_t *dst, const uint8_t *a, const uint8_t *b, int is_u8) {
  const __m128i va = _mm_loadu_si128((const __m128i *)a);
  const __m128i vb = _mm_loadu_si128((const __m128i *)b);
  _mm256_storeu_si256((__m256i *)dst, widen(_mm_unpacklo_epi8(va, vb), is_u8));
  _mm256_storeu_si256((__m256i *)(dst + 16), widen(_mm_unpackhi_epi8(va, vb), is_u8));
}

/* ---- requantization and stores -------------------------------------------------------------- */

/* tc_q_mul_double(acc, mult, shift) + output_offset (wrapping), lane by lane, any values. */
AI __m256i rq_exact(__m256i x, const q8_grp *gr, __m256i zo) {
  const __m256i nudge = _mm256_set1_epi64x((int64_t)1 << 30);
  const __m256i m = ld(gr->mult);
  x = _mm256_sllv_epi32(x, ld(gr->lsh));
  __m256i even = _mm256_mul_epi32(x, m);
  __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), ld(gr->mult_odd));
  even = _mm256_srli_epi64(_mm256_add_epi64(even, nudge), 31);
  odd = _mm256_slli_epi64(_mm256_add_epi64(odd, nudge), 1);
  __m256i r = _mm256_blend_epi32(even, odd, 0xAA);
  const __m256i mn = _mm256_set1_epi32(INT32_MIN);
  r = _mm256_xor_si256(r, _mm256_and_si256(_mm256_cmpeq_epi32(x, mn), _mm256_cmpeq_epi32(m, mn)));
  const __m256i rem = _mm256_and_si256(r, ld(gr->mask));
  const __m256i thr = _mm256_sub_epi32(ld(gr->half), _mm256_cmpgt_epi32(_mm256_setzero_si256(), r));
  r = _mm256_sub_epi32(_mm256_srav_epi32(r, ld(gr->rsh)), _mm256_cmpgt_epi32(rem, thr));
  return _mm256_add_epi32(r, zo);
}

/* The same for groups with gr->plain (q8_pack's conditions), h = 2^(e-1), e = rsh. With ab =
 * acc * mult, srdhm r = floor((ab + 2^30) / 2^31) (vec_avx2.h), |r| <= |acc|. rdivpot(r, e) is
 * floor((r + h - [r < 0]) / 2^e) when r + h cannot overflow, and [r < 0] may be replaced by
 * [acc < 0] because r <= 0 whenever acc < 0 (mult >= 0) and r = 0 rounds to 0 either way
 * (h - 1 < 2^e). Adding zo 2^e before the shift adds exactly zo after it, so c_even / c_odd
 * (2^30 + (h + zo 2^e) 2^31) give t = r + h + zo 2^e at once, no int32 overflow by the pack
 * bound, and the result is (t - [acc < 0]) >> e. */
AI __m256i rq_plain(__m256i x, const q8_grp *gr) {
  __m256i even = _mm256_mul_epi32(x, ld(gr->mult));
  __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), ld(gr->mult_odd));
  even = _mm256_srli_epi64(_mm256_add_epi64(even, ld(gr->c_even)), 31);
  odd = _mm256_slli_epi64(_mm256_add_epi64(odd, ld(gr->c_odd)), 1);
  /* (the sign as a compare: any ALU pipe, where shifts share two with the shuffles) */
  const __m256i neg = _mm256_cmpgt_epi32(_mm256_setzero_si256(), x);
  __m256i r = _mm256_add_epi32(_mm256_blend_epi32(even, odd, 0xAA), neg);
  return _mm256_srav_epi32(r, ld(gr->rsh));
}

/* mode (compile time): 0 rq_exact, 1 rq_plain (no rq_float here: see q8_pack) */
AI __m256i rq(__m256i x, const q8_grp *gr, __m256i zo, int mode) {
  return mode ? rq_plain(x, gr) : rq_exact(x, gr, zo);
}

/* Four requantized pixels (8 lanes each) to 32 bytes, pixel k at bytes 8k.., clamped. */
AI __m256i pack4(__m256i r0, __m256i r1, __m256i r2, __m256i r3, __m256i lo, __m256i hi,
                 int is_u8) {
  const __m256i a = _mm256_packs_epi32(r0, r1), b = _mm256_packs_epi32(r2, r3);
  __m256i v = is_u8 ? _mm256_packus_epi16(a, b) : _mm256_packs_epi16(a, b);
  v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  return is_u8 ? _mm256_min_epu8(_mm256_max_epu8(v, lo), hi)
               : _mm256_min_epi8(_mm256_max_epi8(v, lo), hi);
}

/* Stores the first `lanes` (<= 8) bytes of the 4 pixels of v (pixel k at bytes 8k..) at
 * o + o0 .. o + o3. */
AI void store4(uint8_t *o, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t o2, ptrdiff_t o3, __m256i v,
               int32_t lanes) {
  if (lanes == 8) {
    const __m128i l = _mm256_castsi256_si128(v), h = _mm256_extracti128_si256(v, 1);
    _mm_storel_epi64((__m128i *)(o + o0), l);
    _mm_storeh_pi((__m64 *)(o + o1), _mm_castsi128_ps(l));
    _mm_storel_epi64((__m128i *)(o + o2), h);
    _mm_storeh_pi((__m64 *)(o + o3), _mm_castsi128_ps(h));
    return;
  }
  uint8_t buf[32];
  _mm256_storeu_si256((__m256i *)buf, v);
  memcpy(o + o0, buf, (size_t)lanes);
  memcpy(o + o1, buf + 8, (size_t)lanes);
  memcpy(o + o2, buf + 16, (size_t)lanes);
  memcpy(o + o3, buf + 24, (size_t)lanes);
}
AI void store_px4(uint8_t *o, __m256i v) { _mm256_storeu_si256((__m256i *)o, v); }

#include "kernels/x86/dwconv_q8_impl.h"

#endif /* x86-64 */
