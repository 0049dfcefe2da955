/* vec_avx2.h: small AVX2 helpers shared by the *_avx2.c kernels of vec_ops.h (include only from
 * files compiled with -mavx2 -mfma): tail masks and the lane-wise integer requantization
 * primitives, each one exactly the scalar function of kernels/ref/qmath.h it names. */
#ifndef TC_KERNELS_X86_VEC_AVX2_H
#define TC_KERNELS_X86_VEC_AVX2_H

#include <immintrin.h>
#include <stdint.h>

/* Lanes 0 .. n-1 set (n clamped to 0..8), for vmaskmov loads and stores. */
static inline __m256i tc__avx2_tail_mask(int32_t n) {
  static const int32_t m[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
  n = n < 0 ? 0 : (n > 8 ? 8 : n);
  return _mm256_loadu_si256((const __m256i *)(m + 8 - n));
}

/* tc_q_srdhm lane by lane. With ab = a * b (exact in 64 bits), the scalar form
 *   (ab + (ab >= 0 ? 2^30 : 1 - 2^30)) / 2^31   (C division, truncating toward zero)
 * equals floor((ab + 2^30) / 2^31) in both cases: for ab < 0 the dividend y = ab + 1 - 2^30
 * is negative and trunc(y / 2^31) = floor((y + 2^31 - 1) / 2^31) = floor((ab + 2^30) / 2^31).
 * The floor is an arithmetic shift by 31; its low 32 bits (all we keep, the result fits int32)
 * are bits 31..62 of the sum, which a logical shift gives as well. The one overflow case
 * a == b == INT32_MIN gives 0x80000000 there and is flipped to INT32_MAX. */
static inline __m256i tc__avx2_srdhm_nosat(__m256i a, __m256i b) {
  const __m256i nudge = _mm256_set1_epi64x((int64_t)1 << 30);
  __m256i even = _mm256_mul_epi32(a, b);
  __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(a, 32), _mm256_srli_epi64(b, 32));
  even = _mm256_srli_epi64(_mm256_add_epi64(even, nudge), 31);
  odd = _mm256_slli_epi64(_mm256_add_epi64(odd, nudge), 1); /* bits 31..62 to the high half */
  return _mm256_blend_epi32(even, odd, 0xAA);
}
static inline __m256i tc__avx2_srdhm(__m256i a, __m256i b) {
  const __m256i mn = _mm256_set1_epi32(INT32_MIN);
  const __m256i sat = _mm256_and_si256(_mm256_cmpeq_epi32(a, mn), _mm256_cmpeq_epi32(b, mn));
  return _mm256_xor_si256(tc__avx2_srdhm_nosat(a, b), sat);
}
/* (tc__avx2_srdhm_nosat is exact whenever no lane of b is INT32_MIN.) */

/* tc_q_rdivpot lane by lane, exponents e in 0..31 per lane. */
static inline __m256i tc__avx2_rdivpot(__m256i x, __m256i e) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, e), one);
  const __m256i rem = _mm256_and_si256(x, mask);
  /* threshold = (mask >> 1) + (x < 0); cmpgt gives -1 for true, so subtract it */
  const __m256i thr =
      _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_cmpgt_epi32(_mm256_setzero_si256(), x));
  return _mm256_sub_epi32(_mm256_srav_epi32(x, e), _mm256_cmpgt_epi32(rem, thr));
}

/* Same with one exponent for all lanes. */
static inline __m256i tc__avx2_rdivpot1(__m256i x, int e) {
  const __m256i one = _mm256_set1_epi32(1);
  const __m256i mask = _mm256_set1_epi32((int32_t)(((int64_t)1 << e) - 1));
  const __m256i rem = _mm256_and_si256(x, mask);
  const __m256i thr =
      _mm256_sub_epi32(_mm256_srli_epi32(mask, 1), _mm256_cmpgt_epi32(_mm256_setzero_si256(), x));
  (void)one;
  return _mm256_sub_epi32(_mm256_sra_epi32(x, _mm_cvtsi32_si128(e)), _mm256_cmpgt_epi32(rem, thr));
}

/* tc_q_mul_double(x, mult, shift) lane by lane, with lshift = max(shift, 0) and
 * rshift = max(-shift, 0) given per lane. */
static inline __m256i tc__avx2_q_mul(__m256i x, __m256i mult, __m256i lshift, __m256i rshift) {
  return tc__avx2_rdivpot(tc__avx2_srdhm(_mm256_sllv_epi32(x, lshift), mult), rshift);
}

#endif /* TC_KERNELS_X86_VEC_AVX2_H */
