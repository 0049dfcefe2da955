/* fwino_avx2.c: the block function of the float32 Winograd convolution (kernels/fwino.h) with
 * 8-float vectors: the template of kernels/fwino_impl.h compiled with -mavx2 -mfma. The
 * transforms only add and subtract, lane by lane as the portable instantiation, so the results
 * are the same bits. kernels.def lists it as (wino, f32, avx2). */
#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "core/core.h"

#define FW_VEC 8
/* vmaxps / vminps return the second operand when either is NaN: y stays NaN */
#define FW_MAX(lo, y) ((fw_vf)_mm256_max_ps((__m256)(lo), (__m256)(y)))
#define FW_MIN(hi, y) ((fw_vf)_mm256_min_ps((__m256)(hi), (__m256)(y)))
/* k is a power of two: the product is exact, so the fused form rounds as the portable one */
#define FW_MADD(a, k, b) \
  ((fw_vf)_mm256_fmadd_ps((__m256)(a), _mm256_set1_ps(k), (__m256)(b)))
#define FW_BLOCK_FN tc__f32_wino_block_avx2
#include "kernels/fwino_impl.h"

tc_f32_wino_kernel tc_f32_wino__avx2 = {"avx2", tc__f32_wino_block_avx2};

#elif defined(__x86_64__)
#error "fwino_avx2.c must be compiled with -mavx2 -mfma (see the x86 block in CMakeLists.txt)"
#endif
