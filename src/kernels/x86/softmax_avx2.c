/* softmax_avx2.c: AVX2 float softmax along the innermost axis (SOFTMAX). Per row: the maximum,
 * e = exp((x - max) * beta) with a vector exp (Cephes-style: x = n ln2 + r, |r| <= ln2 / 2, a
 * degree-6 polynomial for e^r, relative error below 2e-7, NaN propagated, arguments below -87.3
 * giving about 1e-38 where expf gives denormals or 0), the sum in 8 lanes, then e / sum. The
 * argument (x - max) * beta is computed with the reference's two roundings, so the
 * probabilities differ from the reference by a few ulp (well within 1e-6). */
#include "kernels/vec_ops.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <float.h>
#include <immintrin.h>

#include "kernels/x86/vec_avx2.h"

static inline __m256 exp_avx2(__m256 x) {
  /* max(lo, x) and min(hi, x) keep a NaN x (the second operand is returned for NaN) */
  x = _mm256_min_ps(_mm256_set1_ps(88.3762626647949f), _mm256_max_ps(_mm256_set1_ps(-87.3365447f), x));
  __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500E-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507E-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073E-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894E-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459E-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201E-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  /* 2^n for n in [-126, 128): build the exponent field; n = 128 only for x near 88.7 */
  __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

static inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
  return _mm_cvtss_f32(m);
}
static inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

tc_f32_softmax_kernel tc_f32_softmax__avx2;
void tc_f32_softmax__avx2(const float *in, float *out, size_t outer, size_t depth, float beta) {
  if (depth == 0) return;
  const __m256 vb = _mm256_set1_ps(beta);
  for (size_t r = 0; r < outer; r++) {
    const float *x = in + r * depth;
    float *y = out + r * depth;
    size_t full = depth / 8 * 8, rem = depth - full;
    float max = x[0];
    if (full) {
      __m256 m = _mm256_loadu_ps(x);
      for (size_t i = 8; i < full; i += 8) m = _mm256_max_ps(_mm256_loadu_ps(x + i), m);
      float vm = hmax(m);
      max = vm > max ? vm : max;
    }
    for (size_t i = full; i < depth; i++) max = x[i] > max ? x[i] : max;
    const __m256 vmax = _mm256_set1_ps(max);
    __m256 s0 = _mm256_setzero_ps(), s1 = s0;
    size_t i = 0;
    for (; i + 16 <= depth; i += 16) {
      __m256 e0 = exp_avx2(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmax), vb));
      __m256 e1 = exp_avx2(_mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + i + 8), vmax), vb));
      _mm256_storeu_ps(y + i, e0);
      _mm256_storeu_ps(y + i + 8, e1);
      s0 = _mm256_add_ps(s0, e0);
      s1 = _mm256_add_ps(s1, e1);
    }
    for (; i < depth; i += 8) {
      const __m256i mk = tc__avx2_tail_mask((int32_t)(depth - i < 8 ? depth - i : 8));
      __m256 e = exp_avx2(_mm256_mul_ps(_mm256_sub_ps(_mm256_maskload_ps(x + i, mk), vmax), vb));
      e = _mm256_and_ps(e, _mm256_castsi256_ps(mk));
      _mm256_maskstore_ps(y + i, mk, e);
      s0 = _mm256_add_ps(s0, e);
    }
    (void)rem;
    const __m256 vs = _mm256_set1_ps(hsum(_mm256_add_ps(s0, s1)));
    for (i = 0; i + 8 <= depth; i += 8) _mm256_storeu_ps(y + i, _mm256_div_ps(_mm256_loadu_ps(y + i), vs));
    if (i < depth) {
      const __m256i mk = tc__avx2_tail_mask((int32_t)(depth - i));
      _mm256_maskstore_ps(y + i, mk, _mm256_div_ps(_mm256_maskload_ps(y + i, mk), vs));
    }
  }
}

#endif /* x86-64 */
