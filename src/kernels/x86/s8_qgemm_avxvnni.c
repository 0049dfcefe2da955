/* s8_qgemm_avxvnni.c: the AVX-VNNI 8-bit GEMM microkernel of qgemm.h (kgroup 4), a 4x16 tile of
 * int32 accumulators (8 ymm), for CPUs with the VEX-encoded vpdpbusd but no AVX-512 (Intel's
 * client cores since Alder Lake, Sierra Forest). The operands are the AVX-512 VNNI kernel's at
 * half the width: A uint8 in byte groups (int8 inputs read as x + 128, the bias carrying -128 *
 * sum_k w'), B int8 w' - a_sum_mult, each row's accumulators starting at bias + a_sum_mult *
 * (sum of its A bytes); one vpdpbusd per 8 outputs and group adds the 4 u8 x s8 products to the
 * int32 lane with wrap-around, so the accumulator is the reference's wrap32(exact sum), with
 * half the instructions of the AVX2 kernel's vpmaddwd + vpaddd per pair. The output stage is the
 * AVX2 kernel's (q8_avx2.h: 8-column requantization, four rows packed to bytes at once), so
 * results are bit-exact with the reference kernels. The body (packing, tile, driver) is
 * x86/qgemm_dp4_impl.h, shared with the AVX2 vpmaddubsw kernel (s8_qgemm_ub_avx2.c).
 * Compiled with -mavx2 -mfma -mavxvnni; select.c runs it only where cpuid reports AVX-VNNI.
 * tests/kernels/avxvnni_emu/run.sh checks it on machines without AVX-VNNI (an exact AVX2
 * stand-in for the one instruction). */
#include "kernels/qgemm.h"

#if defined(__x86_64__) && defined(__AVX2__) && (defined(__AVXVNNI__) || defined(TC_EMU_AVXVNNI))
#include <immintrin.h>

#define DP4(acc, a, b) _mm256_dpbusd_avx_epi32(acc, a, b)
#define DP4_FIX 0
#include "kernels/x86/qgemm_dp4_impl.h"

const struct tc_s8_qgemm_ukernel tc_s8_qgemm__avxvnni_4x16 = {
    .name = "avxvnni_4x16", .mr = MR, .nr = NR, .pack_a = dp4_pack_a, .run = dp4_run,
    .kgroup = 4, .multi = 1, .run_view = dp4_run_view};
#endif
