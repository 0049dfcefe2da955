/* gemm.h (ref): the float32 GEMM oracle, plain loops over unpacked operands with the same flags
 * as tc_f32_gemm_plain (kernels/gemm.h). The tests compare every optimised GEMM variant with it;
 * it is never optimised. */
#ifndef TC_KERNELS_REF_GEMM_H
#define TC_KERNELS_REF_GEMM_H

#include <stddef.h>
#include <stdint.h>

/* c[i][j] = clamp(init + bias[j] + sum_kk A[i][kk] * B[kk][j], act_min, act_max) where init is
 * c[i][j] with TC_GEMM_ACCUMULATE, else 0; A and B are read as described for TC_GEMM_TRANS_A and
 * TC_GEMM_TRANS_B (kernels/gemm.h). The sum is a float accumulated in kk order; bias (n entries,
 * or NULL) and init are added after it. Strides are in elements; C must not overlap A or B. */
void tc_f32_gemm__ref(unsigned flags, int32_t m, int32_t n, int32_t k, const float *a, size_t lda,
                      const float *b, size_t ldb, const float *bias, float act_min, float act_max,
                      float *c, size_t ldc);

#endif /* TC_KERNELS_REF_GEMM_H */
