/* q8_avx2.h: AVX2 helpers shared by the 8-bit GEMM and convolution kernels (s8_qgemm_avx2.c,
 * qwino_avx2.c; include only from files compiled with -mavx2 -mfma): widening loads of 8-bit
 * data, and the output stage of kernels/qgemm.h (tc_qgemm_cols): requantization of 8 columns,
 * exactly tc_q_mul_double + output zero point, and the byte packing and stores of 2 x 16 or
 * 4 x 8 results. */
#ifndef TC_KERNELS_X86_Q8_AVX2_H
#define TC_KERNELS_X86_Q8_AVX2_H

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "kernels/qgemm.h"

/* ---- loads ---------------------------------------------------------------------------------- */

static inline __m256i tc__q8_widen(__m128i v, int is_u8) {
  return is_u8 ? _mm256_cvtepu8_epi16(v) : _mm256_cvtepi8_epi16(v);
}

/* 4 bytes at p (any alignment) as one int32 word: a packed pair or byte group to broadcast. */
static inline int32_t tc__q8_load32(const void *p) {
  int32_t v;
  memcpy(&v, p, 4);
  return v;
}

/* n (0..7) bytes at p, zero-extended, with fixed-size loads only (never past p + n). */
static inline uint64_t tc__q8_load_small(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  size_t o = 0;
  if (n & 4) {
    uint32_t t;
    memcpy(&t, p, 4);
    v = t;
    o = 4;
  }
  if (n & 2) {
    uint16_t t;
    memcpy(&t, p + o, 2);
    v |= (uint64_t)t << (8 * o);
    o += 2;
  }
  if (n & 1) v |= (uint64_t)p[o] << (8 * o);
  return v;
}

/* n (1..15) bytes at p in the low bytes of a vector, zeros above. */
static inline __m128i tc__q8_load_part(const uint8_t *p, size_t n) {
  uint64_t lo, hi = 0;
  if (n >= 8) {
    memcpy(&lo, p, 8);
    hi = tc__q8_load_small(p + 8, n - 8);
  } else {
    lo = tc__q8_load_small(p, n);
  }
  return _mm_set_epi64x((long long)hi, (long long)lo);
}

/* ---- the output stage ----------------------------------------------------------------------- */

/* tc_q_mul_double(x, mult, shift) + out_zp (wrapping) on the 8 columns j .. j+7 (see qmath.h):
 * the doubling high multiply with its nudge is floor((x * m + 2^30) / 2^31) for every product
 * (the two nudge cases of the scalar code meet in that formula), computed in 64-bit lanes, the
 * odd lanes' multipliers read one column further on; then the rounding divide by 2^rshift with
 * the precomputed mask and threshold. m >= 0, so the INT32_MIN * INT32_MIN case cannot occur. */
static inline __m256i tc__q8_requant8(__m256i x, const tc_qgemm_cols *q, size_t j, __m256i zp) {
  if (q->plain) { /* qgemm.h: the rounding divide folded into the product's rounding */
    const __m256i m = _mm256_loadu_si256((const __m256i *)(q->mult + j));
    const __m256i m_odd = _mm256_loadu_si256((const __m256i *)(q->mult + j + 1));
    __m256i even = _mm256_mul_epi32(x, m);
    __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), m_odd);
    even = _mm256_srli_epi64(
        _mm256_add_epi64(even, _mm256_loadu_si256((const __m256i *)(q->rconst + j))), 31);
    odd = _mm256_slli_epi64(
        _mm256_add_epi64(odd, _mm256_loadu_si256((const __m256i *)(q->rconst + j + 4))), 1);
    __m256i s = _mm256_blend_epi32(even, odd, 0xAA);
    if (q->neg_term) s = _mm256_add_epi32(s, _mm256_srai_epi32(x, 31));
    /* (the output offset is inside rconst) */
    return _mm256_srav_epi32(s, _mm256_loadu_si256((const __m256i *)(q->rshift + j)));
  }
  if (q->any_lshift) x = _mm256_sllv_epi32(x, _mm256_loadu_si256((const __m256i *)(q->lshift + j)));
  const __m256i m = _mm256_loadu_si256((const __m256i *)(q->mult + j));
  const __m256i m_odd = _mm256_loadu_si256((const __m256i *)(q->mult + j + 1));
  const __m256i nudge = _mm256_set1_epi64x((long long)1 << 30);
  __m256i even = _mm256_mul_epi32(x, m);
  __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), m_odd);
  even = _mm256_srli_epi64(_mm256_add_epi64(even, nudge), 31);
  odd = _mm256_slli_epi64(_mm256_add_epi64(odd, nudge), 1);
  const __m256i s = _mm256_blend_epi32(even, odd, 0xAA);
  const __m256i rem = _mm256_and_si256(s, _mm256_loadu_si256((const __m256i *)(q->rmask + j)));
  const __m256i thr = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(q->rhalf + j)),
                                       _mm256_srli_epi32(s, 31));
  const __m256i r =
      _mm256_sub_epi32(_mm256_srav_epi32(s, _mm256_loadu_si256((const __m256i *)(q->rshift + j))),
                       _mm256_cmpgt_epi32(rem, thr));
  return _mm256_add_epi32(r, zp);
}

/* int16 -> bytes with the output type's saturation, then the activation range if narrower. */
static inline __m256i tc__q8_pack_bytes(__m256i a, __m256i b, const tc_qgemm_cols *q) {
  if (q->out_u8) {
    __m256i v = _mm256_packus_epi16(a, b);
    if (q->clamp)
      v = _mm256_min_epu8(_mm256_max_epu8(v, _mm256_set1_epi8((char)q->act_min)),
                          _mm256_set1_epi8((char)q->act_max));
    return v;
  }
  __m256i v = _mm256_packs_epi16(a, b);
  if (q->clamp)
    v = _mm256_min_epi8(_mm256_max_epi8(v, _mm256_set1_epi8((char)q->act_min)),
                        _mm256_set1_epi8((char)q->act_max));
  return v;
}

/* Four vectors of 8 requantized int32 as bytes in order (a0's 8, then a1's, a2's, a3's): the
 * packs work per 128-bit lane (lane 0 then holds a0 0-3, a1 0-3, a2 0-3, a3 0-3, lane 1 the same
 * for lanes 4-7), and the dword permute restores the order. */
static inline __m256i tc__q8_pack_4x8(__m256i a0, __m256i a1, __m256i a2, __m256i a3,
                                      const tc_qgemm_cols *q) {
  const __m256i v = tc__q8_pack_bytes(_mm256_packs_epi32(a0, a1), _mm256_packs_epi32(a2, a3), q);
  return _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

/* Two rows of 16 columns (requantized int32: a0 = row a cols 0-7, a1 = cols 8-15): bytes of
 * row a to ca, row b to cb (cb NULL: not stored), `cols` (1..16) columns each. */
static inline void tc__q8_store_2x16(__m256i a0, __m256i a1, __m256i b0, __m256i b1,
                              const tc_qgemm_cols *q, char *ca, char *cb, size_t cols) {
  const __m256i o = tc__q8_pack_4x8(a0, a1, b0, b1, q); /* row a's 16 bytes, then row b's */
  if (cols >= 16) {
    _mm_storeu_si128((__m128i *)ca, _mm256_castsi256_si128(o));
    if (cb) _mm_storeu_si128((__m128i *)cb, _mm256_extracti128_si256(o, 1));
  } else {
    char t[32];
    _mm256_storeu_si256((__m256i *)t, o);
    memcpy(ca, t, cols);
    if (cb) memcpy(cb, t + 16, cols);
  }
}

/* Four rows of 8 columns: v_r = row r; c_r NULL: not stored. */
static inline void tc__q8_store_4x8(__m256i v0, __m256i v1, __m256i v2, __m256i v3,
                             const tc_qgemm_cols *q, char *c0, char *c1, char *c2, char *c3,
                             size_t cols) {
  const __m256i o = tc__q8_pack_4x8(v0, v1, v2, v3, q);
  if (cols >= 8) {
    const __m128i lo = _mm256_castsi256_si128(o), hi = _mm256_extracti128_si256(o, 1);
    _mm_storel_epi64((__m128i *)c0, lo);
    /* (storel of the high half: _mm_storeh_pd is a double store, which must be aligned) */
    if (c1) _mm_storel_epi64((__m128i *)c1, _mm_unpackhi_epi64(lo, lo));
    if (c2) _mm_storel_epi64((__m128i *)c2, hi);
    if (c3) _mm_storel_epi64((__m128i *)c3, _mm_unpackhi_epi64(hi, hi));
    return;
  }
  char t[32];
  _mm256_storeu_si256((__m256i *)t, o);
  memcpy(c0, t, cols);
  if (c1) memcpy(c1, t + 8, cols);
  if (c2) memcpy(c2, t + 16, cols);
  if (c3) memcpy(c3, t + 24, cols);
}

/* Runs CALL, which reads the output stage from the local tc_qgemm_cols `qm`, with qm a copy of
 * *qp whose `plain` and `out_u8` are constants in each of four expansions: in a tile loop with
 * the output stage inlined, GCC then folds the tests on them (it re-read and tested both from
 * the stack in every group of 8 columns). A local copy also cannot be aliased by the byte
 * stores, so its pointers stay in registers. */
#define TC__Q8_RUN_FLAGS(qp, qm, CALL)                                                         \
  do {                                                                                         \
    tc_qgemm_cols qm = *(qp);                                                                  \
    const int plain_ = qm.plain, u8_ = qm.out_u8;                                              \
    if (plain_ && u8_) { qm.plain = 1; qm.out_u8 = 1; CALL; }                                  \
    else if (plain_) { qm.plain = 1; qm.out_u8 = 0; CALL; }                                    \
    else if (u8_) { qm.plain = 0; qm.out_u8 = 1; CALL; }                                       \
    else { qm.plain = 0; qm.out_u8 = 0; CALL; }                                                \
  } while (0)

/* The end of a 4-row GEMM tile: the accumulators of columns jg .. jg+7 of rows [0, R) (a_r = row
 * r; R a constant in each caller, rows past it unused) requantized (the group's per-column
 * constants loaded once for all rows) and `cols` (1..8) of them stored per row at c + r ldc + jg.
 * The row addresses come from c and ldc at each store, and which rows exist from R alone, so
 * the tile loop keeps no per-row output pointers (GCC had kept four, spilled, and a NULL test
 * per row and group). */
static inline __attribute__((always_inline)) void tc__q8_requant_store_4x8(
    const size_t R, __m256i a0, __m256i a1, __m256i a2, __m256i a3, const tc_qgemm_cols *q,
    size_t jg, __m256i zp, char *c, size_t ldc, size_t cols) {
  const __m256i r0 = tc__q8_requant8(a0, q, jg, zp);
  const __m256i r1 = R > 1 ? tc__q8_requant8(a1, q, jg, zp) : r0;
  const __m256i r2 = R > 2 ? tc__q8_requant8(a2, q, jg, zp) : r0;
  const __m256i r3 = R > 3 ? tc__q8_requant8(a3, q, jg, zp) : r0;
  const __m256i o = tc__q8_pack_4x8(r0, r1, r2, r3, q);
  c += jg;
  if (cols >= 8) {
    const __m128i lo = _mm256_castsi256_si128(o), hi = _mm256_extracti128_si256(o, 1);
    _mm_storel_epi64((__m128i *)c, lo);
    if (R > 1) _mm_storel_epi64((__m128i *)(c + ldc), _mm_unpackhi_epi64(lo, lo));
    if (R > 2) _mm_storel_epi64((__m128i *)(c + 2 * ldc), hi);
    if (R > 3) _mm_storel_epi64((__m128i *)(c + 3 * ldc), _mm_unpackhi_epi64(hi, hi));
    return;
  }
  char t[32];
  _mm256_storeu_si256((__m256i *)t, o);
  for (size_t r = 0; r < R; r++) memcpy(c + r * ldc, t + 8 * r, cols);
}

#endif /* TC_KERNELS_X86_Q8_AVX2_H */
