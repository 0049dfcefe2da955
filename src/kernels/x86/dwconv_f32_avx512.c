/* dwconv_f32_avx512.c: AVX-512 float32 depthwise convolution (slot f32_dwconv of vec_ops.h): the
 * template of dwconv_f32_impl.h (both paths, the summation order) with groups of 16 channels,
 * one zmm, so a ring step is 9 FMAs per 16 outputs instead of per 8 (the AVX2 kernel), with the
 * same values lane for lane. Channel tails are mask-register loads and stores (lanes past the
 * mask are neither read nor written). Needs AVX512F (kernels.def requires the whole
 * TC_CPU_AVX512_CORE set this file is compiled for, and AVX2 + FMA for DWF_NARROW).
 * tests/kernels/avx512_emu/ runs it on a scalar immintrin.h. */
#include "kernels/select.h" /* (the variants, tc_f32_dwconv__avx2 among them) */

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <math.h>

#ifndef FAI
#define FAI static inline __attribute__((always_inline))
#endif
#define DWF_L 16
#define DWF_VB 64
#define DWF_ISA avx512
#define DWF_NAME "avx512"
/* Layers of 8 channels or fewer (MobileNet V1's first depthwise layer, 112x112x8) run the AVX2
 * variant (the op picks it at prepare): one zmm group would be half masked lanes, and its ring
 * rows twice as long for the same outputs. kernels.def requires AVX2 + FMA of this variant too.
 * This kernel's own run still handles them (the tests run it on every shape). */
#define DWF_NARROW_C 8
#define DWF_NARROW (&tc_f32_dwconv__avx2)

typedef __m512 dwf_v;
typedef __mmask16 dwf_m;
typedef __m512i dwf_i;

FAI dwf_v vzero(void) { return _mm512_setzero_ps(); }
FAI dwf_v vzero_opaque(void) {
  __m512 z = _mm512_setzero_ps();
#ifndef TC_X86_EMU /* (the scalar emulation's vectors are structs) */
  __asm__("" : "+v"(z));
#endif
  return z;
}
FAI dwf_v vset1(float x) { return _mm512_set1_ps(x); }
FAI dwf_v vld(const float *p) { return _mm512_loadu_ps(p); }
FAI dwf_v vldm(const float *p, dwf_m m) { return _mm512_maskz_loadu_ps(m, p); }
FAI void vst(float *p, dwf_v v) { _mm512_storeu_ps(p, v); }
FAI void vstm(float *p, dwf_m m, dwf_v v) { _mm512_mask_storeu_ps(p, m, v); }
FAI dwf_v vfma(dwf_v a, dwf_v b, dwf_v c) { return _mm512_fmadd_ps(a, b, c); }
FAI dwf_v vmul(dwf_v a, dwf_v b) { return _mm512_mul_ps(a, b); }
FAI dwf_v vadd(dwf_v a, dwf_v b) { return _mm512_add_ps(a, b); }
FAI dwf_v vmin(dwf_v a, dwf_v b) { return _mm512_min_ps(a, b); }
FAI dwf_v vmax(dwf_v a, dwf_v b) { return _mm512_max_ps(a, b); }
FAI dwf_m vtail(int32_t n) {
  return (dwf_m)(n <= 0 ? 0u : n >= 16 ? 0xffffu : (1u << n) - 1u);
}
FAI dwf_i vidx(const int32_t *ix) { return _mm512_loadu_si512(ix); }
FAI dwf_v vperm(dwf_v v, dwf_i idx) { return _mm512_permutexvar_ps(idx, v); }

static int dwf_finite(const float *w, size_t n) {
  const __m512i e = _mm512_set1_epi32(0x7f800000);
  __mmask16 bad = 0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16)
    bad = (__mmask16)(bad |
                      _mm512_cmpeq_epi32_mask(_mm512_and_si512(_mm512_loadu_si512(w + i), e), e));
  for (; i < n; i++)
    if (!isfinite(w[i])) return 0;
  return bad == 0;
}

#include "kernels/x86/dwconv_f32_impl.h"

#endif /* x86-64 */
