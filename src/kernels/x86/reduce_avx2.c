/* reduce_avx2.c: AVX2 float SUM / MEAN over the middle axis of a [outer][mid][inner] view (MEAN
 * over H and W of an NHWC tensor is outer = N, mid = H * W, inner = C), vectorised over the
 * inner axis, 32 lanes per step. Each output adds its inputs in increasing order starting from
 * 0 and MEAN divides by (float)mid, exactly as the reference reduction: bit-exact. */
#include "kernels/vec_ops.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include "kernels/x86/vec_avx2.h"

tc_f32_mean_kernel tc_f32_mean__avx2;
void tc_f32_mean__avx2(const float *in, size_t outer, size_t mid, size_t inner, int is_mean,
                       float *out) {
  const __m256 cnt = _mm256_set1_ps((float)mid);
  for (size_t o = 0; o < outer; o++) {
    const float *x = in + o * mid * inner;
    float *y = out + o * inner;
    size_t i = 0;
    for (; i + 32 <= inner; i += 32) {
      __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
      for (size_t m = 0; m < mid; m++) {
        const float *s = x + m * inner + i;
        a0 = _mm256_add_ps(a0, _mm256_loadu_ps(s));
        a1 = _mm256_add_ps(a1, _mm256_loadu_ps(s + 8));
        a2 = _mm256_add_ps(a2, _mm256_loadu_ps(s + 16));
        a3 = _mm256_add_ps(a3, _mm256_loadu_ps(s + 24));
      }
      if (is_mean) {
        a0 = _mm256_div_ps(a0, cnt), a1 = _mm256_div_ps(a1, cnt);
        a2 = _mm256_div_ps(a2, cnt), a3 = _mm256_div_ps(a3, cnt);
      }
      _mm256_storeu_ps(y + i, a0);
      _mm256_storeu_ps(y + i + 8, a1);
      _mm256_storeu_ps(y + i + 16, a2);
      _mm256_storeu_ps(y + i + 24, a3);
    }
    for (; i < inner; i += 8) {
      const __m256i mk = tc__avx2_tail_mask((int32_t)(inner - i < 8 ? inner - i : 8));
      __m256 a = _mm256_setzero_ps();
      for (size_t m = 0; m < mid; m++) a = _mm256_add_ps(a, _mm256_maskload_ps(x + m * inner + i, mk));
      if (is_mean) a = _mm256_div_ps(a, cnt);
      _mm256_maskstore_ps(y + i, mk, a);
    }
  }
}

#endif /* x86-64 */
