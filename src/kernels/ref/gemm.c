/* gemm.c (ref): the float32 GEMM oracle (see ref/gemm.h), and the portable 4x8 microkernel
 * variant tc_f32_gemm__ref_4x8, which runs the packed GEMM of kernels/gemm.h in plain C on CPUs
 * without a SIMD variant and when TC_FORCE_REF is set. Both are straightforward loops. */
#include "kernels/ref/gemm.h"

#include "kernels/gemm.h"

void tc_f32_gemm__ref(unsigned flags, int32_t m, int32_t n, int32_t k, const float *a, size_t lda,
                      const float *b, size_t ldb, const float *bias, float act_min, float act_max,
                      float *c, size_t ldc) {
  for (int32_t i = 0; i < m; i++) {
    for (int32_t j = 0; j < n; j++) {
      float sum = 0.0f;
      for (int32_t kk = 0; kk < k; kk++) {
        float av = (flags & TC_GEMM_TRANS_A) ? a[(size_t)kk * lda + i] : a[(size_t)i * lda + kk];
        float bv = (flags & TC_GEMM_TRANS_B) ? b[(size_t)j * ldb + kk] : b[(size_t)kk * ldb + j];
        sum += av * bv;
      }
      if (bias) sum += bias[j];
      float *out = &c[(size_t)i * ldc + j];
      if (flags & TC_GEMM_ACCUMULATE) sum += *out;
      if (sum < act_min) sum = act_min;
      if (sum > act_max) sum = act_max;
      *out = sum;
    }
  }
}

/* The 4x8 microkernel (contract in kernels/gemm.h): panels are 8 wide, or 4 for a last panel
 * of at most 4 columns. One accumulator per output of the tile, summed in kk order. */
static void ukernel_4x8(size_t mr_rows, size_t nc, size_t k, const float *a, size_t lda,
                        const float *packed_b, const float *bias, float *c, size_t ldc,
                        int accumulate, float act_min, float act_max) {
  const float *w = packed_b;
  while (nc > 0) {
    size_t width = nc <= 4 ? 4 : 8;     /* packed width of this panel */
    size_t cols = nc < width ? nc : width; /* columns stored */
    float acc[4][8];
    for (size_t i = 0; i < mr_rows; i++)
      for (size_t j = 0; j < cols; j++)
        acc[i][j] = accumulate ? (bias ? c[i * ldc + j] + bias[j] : c[i * ldc + j])
                               : (bias ? bias[j] : 0.0f);
    for (size_t kk = 0; kk < k; kk++)
      for (size_t i = 0; i < mr_rows; i++)
        for (size_t j = 0; j < cols; j++) acc[i][j] += a[i * lda + kk] * w[kk * width + j];
    for (size_t i = 0; i < mr_rows; i++)
      for (size_t j = 0; j < cols; j++) {
        float v = acc[i][j];
        v = v < act_min ? act_min : v;
        c[i * ldc + j] = v > act_max ? act_max : v;
      }
    w += width * k;
    c += cols;
    if (bias) bias += cols;
    nc -= cols;
  }
}

tc_f32_gemm_kernel tc_f32_gemm__ref_4x8 = {"ref_4x8", 4, 8, ukernel_4x8};
