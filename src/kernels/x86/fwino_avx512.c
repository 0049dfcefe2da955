/* fwino_avx512.c: the block function of the float32 Winograd convolution (kernels/fwino.h) with
 * 16-float vectors: the template of kernels/fwino_impl.h compiled with the AVX-512 core flags.
 * The transforms only add and subtract, lane by lane as the portable instantiation, so the
 * results are the same bits. kernels.def lists it as (wino, f32, avx512), ahead of avx2.
 * tests/kernels/avx512_emu/ runs it on a scalar immintrin.h (there with the template's own
 * max / min / multiply-add, which are defined to give the same values). */
#if defined(__x86_64__) && defined(__AVX512F__)
#include <immintrin.h>

#include "core/core.h"

#define FW_VEC 16
#ifndef TC_X86_EMU /* (the emulation's __m512 is a struct: no vector casts) */
/* vmaxps / vminps return the second operand when either is NaN: y stays NaN */
#define FW_MAX(lo, y) ((fw_vf)_mm512_max_ps((__m512)(lo), (__m512)(y)))
#define FW_MIN(hi, y) ((fw_vf)_mm512_min_ps((__m512)(hi), (__m512)(y)))
/* k is a power of two: the product is exact, so the fused form rounds as the portable one */
#define FW_MADD(a, k, b) \
  ((fw_vf)_mm512_fmadd_ps((__m512)(a), _mm512_set1_ps(k), (__m512)(b)))
#endif
#define FW_BLOCK_FN tc__f32_wino_block_avx512
#include "kernels/fwino_impl.h"

tc_f32_wino_kernel tc_f32_wino__avx512 = {"avx512", tc__f32_wino_block_avx512};

#endif
