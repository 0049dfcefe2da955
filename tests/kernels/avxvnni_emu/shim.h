/* shim.h (AVX-VNNI emulation, force-included by run.sh; not part of the build): the one AVX-VNNI
 * instruction of src/kernels/x86/s8_qgemm_avxvnni.c, vpdpbusd on ymm, as an exact AVX2
 * sequence, so that kernel runs on AVX2 machines. Per int32 lane: the 4 products of the
 * unsigned bytes of a and the signed bytes of b, summed (two vpmaddwd on the even and the odd
 * bytes widened to int16: each sums two products of at most 255 * 128 in magnitude, exactly)
 * and added to s with wrap-around. */
#include <immintrin.h>
static inline __m256i emu_dpbusd_avx(__m256i s, __m256i a, __m256i b) {
  const __m256i a_even = _mm256_and_si256(a, _mm256_set1_epi16(0x00ff));
  const __m256i a_odd = _mm256_srli_epi16(a, 8);
  const __m256i b_even = _mm256_srai_epi16(_mm256_slli_epi16(b, 8), 8);
  const __m256i b_odd = _mm256_srai_epi16(b, 8);
  return _mm256_add_epi32(s, _mm256_add_epi32(_mm256_madd_epi16(a_even, b_even),
                                              _mm256_madd_epi16(a_odd, b_odd)));
}
#define _mm256_dpbusd_avx_epi32(s, a, b) emu_dpbusd_avx(s, a, b)
#define TC_EMU_AVXVNNI 1
