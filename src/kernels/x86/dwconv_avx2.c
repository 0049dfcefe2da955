/* dwconv_avx2.c: AVX2 float32 depthwise convolution (DEPTHWISE_CONV_2D): the template of
 * dwconv_f32_impl.h (both paths, the summation order) with 8 channels per ymm; masked lanes
 * through vmaskmov. The 8-bit variants are in dwconv_q8_avx2.c; tc__avx2_q_mul_check (the
 * requantization test hook) lives here. */
#include "kernels/vec_ops.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <math.h>

#include "kernels/x86/vec_avx2.h"

#ifndef FAI
#define FAI static inline __attribute__((always_inline))
#endif
#define DWF_L 8
#define DWF_VB 32
#define DWF_ISA avx2
#define DWF_NAME "avx2"

typedef __m256 dwf_v;
typedef __m256i dwf_m;
typedef __m256i dwf_i;

FAI dwf_v vzero(void) { return _mm256_setzero_ps(); }
FAI dwf_v vzero_opaque(void) {
  __m256 z = _mm256_setzero_ps();
  __asm__("" : "+x"(z));
  return z;
}
FAI dwf_v vset1(float x) { return _mm256_set1_ps(x); }
FAI dwf_v vld(const float *p) { return _mm256_loadu_ps(p); }
FAI dwf_v vldm(const float *p, dwf_m m) { return _mm256_maskload_ps(p, m); }
FAI void vst(float *p, dwf_v v) { _mm256_storeu_ps(p, v); }
FAI void vstm(float *p, dwf_m m, dwf_v v) { _mm256_maskstore_ps(p, m, v); }
FAI dwf_v vfma(dwf_v a, dwf_v b, dwf_v c) { return _mm256_fmadd_ps(a, b, c); }
FAI dwf_v vmul(dwf_v a, dwf_v b) { return _mm256_mul_ps(a, b); }
FAI dwf_v vadd(dwf_v a, dwf_v b) { return _mm256_add_ps(a, b); }
FAI dwf_v vmin(dwf_v a, dwf_v b) { return _mm256_min_ps(a, b); }
FAI dwf_v vmax(dwf_v a, dwf_v b) { return _mm256_max_ps(a, b); }
FAI dwf_m vtail(int32_t n) { return tc__avx2_tail_mask(n); }
FAI dwf_i vidx(const int32_t *ix) { return _mm256_loadu_si256((const __m256i *)ix); }
FAI dwf_v vperm(dwf_v v, dwf_i idx) { return _mm256_permutevar8x32_ps(v, idx); }

static int dwf_finite(const float *w, size_t n) {
  const __m256i e = _mm256_set1_epi32(0x7f800000);
  __m256i bad = _mm256_setzero_si256();
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i v = _mm256_and_si256(_mm256_loadu_si256((const __m256i *)(w + i)), e);
    bad = _mm256_or_si256(bad, _mm256_cmpeq_epi32(v, e));
  }
  for (; i < n; i++)
    if (!isfinite(w[i])) return 0;
  return _mm256_testz_si256(bad, bad);
}

#include "kernels/x86/dwconv_f32_impl.h"

void tc__avx2_q_mul_check(const int32_t *x, const int32_t *mult, const int32_t *shift,
                          int32_t *out, size_t n) {
  for (size_t i = 0; i + 8 <= n; i += 8) {
    __m256i sh = _mm256_loadu_si256((const __m256i *)(shift + i)), z = _mm256_setzero_si256();
    __m256i r =
        tc__avx2_q_mul(_mm256_loadu_si256((const __m256i *)(x + i)),
                       _mm256_loadu_si256((const __m256i *)(mult + i)), _mm256_max_epi32(sh, z),
                       _mm256_max_epi32(_mm256_sub_epi32(z, sh), z));
    _mm256_storeu_si256((__m256i *)(out + i), r);
  }
}

#endif /* x86-64 */
