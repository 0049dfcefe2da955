/* dwconv_q8_avx512.c: AVX-512 int8 / uint8 depthwise convolution (slots s8_dwconv and
 * u8_dwconv of vec_ops.h): the template of dwconv_q8_impl.h (the algorithm, exactness) with
 * groups of 16 output channels, one zmm of int32 lanes or of 16 int16 tap pairs, so a 3x3
 * filter is 6 vpmaddwd + 6 vpaddd per 16 outputs (the AVX2 kernel: per 8). Channel tails are
 * masked stores; the requantization is the AVX2 kernel's two exact forms on 16 lanes (mask
 * blends and compares instead of vector ones). Needs AVX512F/BW/VL (kernels.def requires the
 * whole TC_CPU_AVX512_CORE set this file is compiled for). tests/kernels/avx512_emu/ runs it on
 * a scalar immintrin.h. */
#include "kernels/vec_ops.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <string.h>

#define DWQ_L 16
/* Layers of at most 8 output channels (VWW's and person_detect's first two depthwise layers)
 * go to the AVX2 kernel, which fills its 8 lanes: 48x48x8 3x3 in 7.3-7.5 us against 9.9-11.3
 * here (Zen 4, `tensorc bench --profile`); at 16 channels this one wins (3.7 against 4.7). So
 * kernels.def requires AVX2 of these lines too. */
#include "kernels/select.h"
#define DWQ_NARROW_C 8
#define DWQ_NARROW_S8 (&tc_s8_dwconv__avx2)
#define DWQ_NARROW_U8 (&tc_u8_dwconv__avx2)
#ifndef DWQ_VNNI /* (dwconv_q8_avx512vnni.c: the same with vpdpwssd) */
#define DWQ_VNNI 0
#define DWQ_ISA avx512
#define DWQ_NAME "avx512"
#endif
#include "kernels/x86/dwconv_q8_pack.h"

typedef __m512i dwq_v;
enum { DWQ_BC2 = 16 };

AI __m512i ld(const void *p) { return _mm512_loadu_si512(p); }
AI __m512i vset1_32(int32_t x) { return _mm512_set1_epi32(x); }
AI __m512i vset1_8(char x) { return _mm512_set1_epi8(x); }
/* (w first: GCC's zmm vpmaddwd pattern folds a load only into its second operand). vpdpwssd
 * adds the two int16 products of each lane to acc with wrap-around, which is vpmaddwd + vpaddd
 * modulo 2^32 (vpmaddwd's one overflowing sum, 2 * 32768^2, wraps to the same value). */
AI __m512i mac(__m512i acc, __m512i a, __m512i w) {
#if DWQ_VNNI
  return _mm512_dpwssd_epi32(acc, w, a);
#else
  return _mm512_add_epi32(acc, _mm512_madd_epi16(w, a));
#endif
}

/* A ring element: 16 lanes of pairs, or (bc) one pair broadcast. */
AI __m512i ldp(const void *p, int bc) {
  if (!bc) return ld(p);
  int32_t v;
  memcpy(&v, p, sizeof v);
  return _mm512_set1_epi32(v);
}

/* ---- ring rows ------------------------------------------------------------------------------ */

AI __m512i widen(__m256i v, int is_u8) {
  return is_u8 ? _mm512_cvtepu8_epi16(v) : _mm512_cvtepi8_epi16(v);
}

/* 16 bytes of a and of b interleaved: a0 b0 a1 b1 ... a15 b15. */
AI __m256i zip16(const uint8_t *a, const uint8_t *b) {
  const __m128i va = _mm_loadu_si128((const __m128i *)a);
  const __m128i vb = _mm_loadu_si128((const __m128i *)b);
  return _mm256_set_m128i(_mm_unpackhi_epi8(va, vb), _mm_unpacklo_epi8(va, vb));
}

AI void fill_z(int16_t *dst, size_t n, int16_t z) {
  const __m512i zp = _mm512_set1_epi16(z);
  size_t k = 0;
  for (; k + 32 <= n; k += 32) _mm512_storeu_si512(dst + k, zp);
  if (k < n) _mm512_mask_storeu_epi16(dst + k, (__mmask32)((1u << (n - k)) - 1u), zp);
}

/* Positions [i_lo, i_hi) of every group, group after group (16 bytes of each tap). */
AI void build_row(int16_t *dst, size_t gs, const uint8_t *a, int64_t dC, int64_t step,
                  int64_t i_lo, int64_t i_hi, int32_t ng, int is_u8) {
  for (int32_t gl = 0; gl < ng; gl++) {
    const uint8_t *ag = a + gl * 16;
    int16_t *o = dst + gl * gs + i_lo * 32;
    for (int64_t i = i_lo; i < i_hi; i++, ag += step, o += 32)
      _mm512_storeu_si512(o, widen(zip16(ag, ag + dC), is_u8));
  }
}

/* One position of every group (dwconv_q8_impl.h); gathers read 8 bytes of each tap, shuffled
 * to the 16 lanes in both 128-bit halves. */
AI void build_pos(int16_t *o, size_t gs, const uint8_t *a, const uint8_t *b, const q8_grp *grp,
                  int32_t ng, int64_t c_begin, int gather, int is_u8) {
  for (int32_t gl = 0; gl < ng; gl++) {
    if (!gather) {
      _mm512_storeu_si512(o + gl * gs, widen(zip16(a + gl * 16, b + gl * 16), is_u8));
      continue;
    }
    const int64_t off = grp[gl].c0 - c_begin;
    const __m128i v = _mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(a + off)),
                                        _mm_loadl_epi64((const __m128i *)(b + off)));
    const __m256i s = _mm256_shuffle_epi8(_mm256_broadcastsi128_si256(v),
                                          _mm256_loadu_si256((const __m256i *)grp[gl].shuf));
    _mm512_storeu_si512(o + gl * gs, widen(s, is_u8));
  }
}

/* bc rows: 32 bytes -> 16 pairs (v[2i], v[2i + 1]); 16 + 16 shifted bytes -> 16 pairs. */
AI void bc_u2(int16_t *dst, const uint8_t *s, int is_u8) {
  _mm512_storeu_si512(dst, widen(_mm256_loadu_si256((const __m256i *)s), is_u8));
}
AI void pairs16(int16_t *dst, const uint8_t *a, const uint8_t *b, int is_u8) {
  _mm512_storeu_si512(dst, widen(zip16(a, b), is_u8));
}

/* ---- requantization and stores -------------------------------------------------------------- */

/* tc_q_mul_double(acc, mult, shift) + output_offset (wrapping), lane by lane, any values: the
 * AVX2 kernel's rq_exact (see there) on 16 lanes. */
AI __m512i rq_exact(__m512i x, const q8_grp *gr, __m512i zo) {
  const __m512i nudge = _mm512_set1_epi64((int64_t)1 << 30);
  const __m512i m = ld(gr->mult), mn = _mm512_set1_epi32(INT32_MIN);
  x = _mm512_sllv_epi32(x, ld(gr->lsh));
  __m512i even = _mm512_mul_epi32(x, m);
  __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), ld(gr->mult_odd));
  even = _mm512_srli_epi64(_mm512_add_epi64(even, nudge), 31);
  odd = _mm512_slli_epi64(_mm512_add_epi64(odd, nudge), 1);
  __m512i r = _mm512_mask_blend_epi32(0xAAAA, even, odd);
  /* x = mult = INT32_MIN: srdhm saturates to INT32_MAX (r holds INT32_MIN there) */
  const __mmask16 ov = _mm512_mask_cmpeq_epi32_mask(_mm512_cmpeq_epi32_mask(x, mn), m, mn);
  r = _mm512_mask_mov_epi32(r, ov, _mm512_set1_epi32(INT32_MAX));
  const __m512i rem = _mm512_and_si512(r, ld(gr->mask));
  const __m512i thr = _mm512_add_epi32(ld(gr->half), _mm512_srli_epi32(r, 31));
  r = _mm512_srav_epi32(r, ld(gr->rsh));
  r = _mm512_mask_sub_epi32(r, _mm512_cmpgt_epi32_mask(rem, thr), r, _mm512_set1_epi32(-1));
  return _mm512_add_epi32(r, zo);
}

/* The same for groups with gr->plain: the AVX2 kernel's rq_plain (the proof is there), with
 * the sign as a compare into a mask (zmm shifts have one port) and a masked subtract. */
AI __m512i rq_plain(__m512i x, const q8_grp *gr) {
  __m512i even = _mm512_mul_epi32(x, ld(gr->mult));
  __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), ld(gr->mult_odd));
  even = _mm512_srli_epi64(_mm512_add_epi64(even, ld(gr->c_even)), 31);
  odd = _mm512_slli_epi64(_mm512_add_epi64(odd, ld(gr->c_odd)), 1);
  const __mmask16 neg = _mm512_cmpgt_epi32_mask(_mm512_setzero_si512(), x);
  __m512i r = _mm512_mask_blend_epi32(0xAAAA, even, odd);
  r = _mm512_mask_sub_epi32(r, neg, r, _mm512_set1_epi32(1));
  return _mm512_srav_epi32(r, ld(gr->rsh));
}

/* The same for groups with gr->fq: qmath.h's float form (a conversion, an FMA, a subtract and
 * a shift, the output offset inside fsub), proved at pack. */
AI __m512i rq_float(__m512i x, const q8_grp *gr) {
  const __m512 y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(x), _mm512_loadu_ps(gr->fs),
                                   _mm512_set1_ps(12582912.0f));
  return _mm512_srav_epi32(_mm512_sub_epi32(_mm512_castps_si512(y), ld(gr->fsub)), ld(gr->rsh));
}

/* mode (compile time): 0 rq_exact, 1 rq_plain, 2 rq_float */
AI __m512i rq(__m512i x, const q8_grp *gr, __m512i zo, int mode) {
  return mode == 2 ? rq_float(x, gr) : mode ? rq_plain(x, gr) : rq_exact(x, gr, zo);
}

/* Four requantized pixels (16 lanes each) to 64 bytes, pixel k at bytes 16k.., clamped. The
 * packs work per 128-bit lane: lane l holds channels 4l..4l+3 of pixels 0..3 in its dwords. */
AI __m512i pack4(__m512i r0, __m512i r1, __m512i r2, __m512i r3, __m512i lo, __m512i hi,
                 int is_u8) {
  const __m512i a = _mm512_packs_epi32(r0, r1), b = _mm512_packs_epi32(r2, r3);
  __m512i v = is_u8 ? _mm512_packus_epi16(a, b) : _mm512_packs_epi16(a, b);
  v = _mm512_permutexvar_epi32(
      _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), v);
  return is_u8 ? _mm512_min_epu8(_mm512_max_epu8(v, lo), hi)
               : _mm512_min_epi8(_mm512_max_epi8(v, lo), hi);
}

/* Stores the first `lanes` (<= 16) bytes of the 4 pixels of v (pixel k at bytes 16k..) at
 * o + o0 .. o + o3 (a partial group: masked stores). */
AI void store4(uint8_t *o, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t o2, ptrdiff_t o3, __m512i v,
               int32_t lanes) {
  const __m128i p0 = _mm512_castsi512_si128(v), p1 = _mm512_extracti32x4_epi32(v, 1),
                p2 = _mm512_extracti32x4_epi32(v, 2), p3 = _mm512_extracti32x4_epi32(v, 3);
  if (lanes == 16) {
    _mm_storeu_si128((__m128i *)(o + o0), p0);
    _mm_storeu_si128((__m128i *)(o + o1), p1);
    _mm_storeu_si128((__m128i *)(o + o2), p2);
    _mm_storeu_si128((__m128i *)(o + o3), p3);
    return;
  }
  const __mmask16 m = (__mmask16)((1u << lanes) - 1u);
  _mm_mask_storeu_epi8(o + o0, m, p0);
  _mm_mask_storeu_epi8(o + o1, m, p1);
  _mm_mask_storeu_epi8(o + o2, m, p2);
  _mm_mask_storeu_epi8(o + o3, m, p3);
}

AI void store_px4(uint8_t *o, __m512i v) { _mm512_storeu_si512(o, v); }

#include "kernels/x86/dwconv_q8_impl.h"

#endif /* x86-64 */
