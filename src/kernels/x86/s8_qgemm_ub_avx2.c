/* s8_qgemm_ub_avx2.c: an AVX2 8-bit GEMM microkernel of qgemm.h on byte groups (kgroup 4,
 * pair_sat), the AVX-VNNI kernel's 4x16 tile (x86/qgemm_dp4_impl.h) with vpdpbusd replaced by
 * vpmaddubsw (the two u8 x s8 products of each byte pair summed to int16, saturating) +
 * vpmaddwd by 1 (the two pair sums of a group to int32) + vpaddd: 3 instructions per 32
 * multiply-adds against 4 (2 vpmaddwd + 2 vpaddd on int16 pairs) in avx2_4x16, with A and B
 * read as bytes.
 * Exact because no pair can saturate: pack (qgemm.c) moves the excess of any pair whose
 * same-sign magnitudes sum past 128 into a correction (tc_qgemm_fix) that this kernel adds
 * after its K loop, so the accumulator is the reference's wrap32(exact sum). Chosen only for
 * weights needing few corrections (tc_qgemm_fix_cap: MobileNet V2's uint8 weights, centred on
 * 128, need 0-101 per layer; full-range int8 weights need far more) and K >= 32; other
 * products go to avx2_4x16 (fallback), as do one-row products (its byte-weight gemv) and the
 * first layers it reads as int16 in place. */
#include "kernels/qgemm.h"

#if defined(__x86_64__) && defined(__AVX2__)
#include <immintrin.h>

static inline __m256i ub_dp4(__m256i acc, __m256i a, __m256i b) {
  return _mm256_add_epi32(acc,
                          _mm256_madd_epi16(_mm256_maddubs_epi16(a, b), _mm256_set1_epi16(1)));
}
#define DP4(acc, a, b) ub_dp4(acc, a, b)
#define DP4_FIX 1
#include "kernels/qwino.h"
#include "kernels/select.h"
#include "kernels/x86/qgemm_dp4_impl.h"

/* K < 32 or a single row: the plain AVX2 kernel (the pair corrections and the u8 sign trick
 * do not pay for themselves there). */
static int ub_suits(int32_t m, int32_t n, int32_t k) {
  (void)n;
  return k >= 32 && (m == 0 || m >= 2);
}

const struct tc_s8_qgemm_ukernel tc_s8_qgemm__avx2ub_4x16 = {
    .name = "avx2ub_4x16", .mr = MR, .nr = NR, .pack_a = dp4_pack_a, .run = dp4_run,
    .kgroup = 4, .multi = 1, .wino = tc__s8_qwino_avx2, .fallback = &tc_s8_qgemm__avx2_4x16,
    .suits = ub_suits, .pair_sat = 1};
#endif
