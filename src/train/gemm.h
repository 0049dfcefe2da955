/* gemm.h: the pieces of the training GEMM (gemm.c) that conv2d's lowering uses directly: the
 * dispatched microkernel, packing into its panel layout (kernels/gemm.h describes it), a
 * blocked-transpose copy and the blocked product over pre-packed B with accumulate. tc__tr_gemm
 * itself is declared in train.h. Not public. */
#ifndef TC_TRAIN_GEMM_H
#define TC_TRAIN_GEMM_H

#include <stddef.h>

#include "kernels/gemm.h"
#include "train/train.h"

/* The float GEMM microkernel chosen by dispatch for this CPU (cached). */
tc_f32_gemm_kernel *tc__tr_gemm_kernel(void);

/* Bytes of B (n columns, k rows) packed for kr. */
size_t tc__tr_packed_size(tc_f32_gemm_kernel *kr, size_t n, size_t k);

/* Packs B[kk][j] (kk < k, j < n) into kr's panel layout at dst: B[kk][j] at b[kk * ldb + j],
 * or at b[j * ldb + kk] when trans. */
void tc__tr_pack_b(tc_f32_gemm_kernel *kr, size_t n, size_t k, const float *b, size_t ldb,
                   int trans, float *dst);

/* dst[j * ldd + i] = src[i * lds + j] for i < rows, j < cols. */
void tc__tr_transpose(const float *src, size_t rows, size_t cols, size_t lds, float *dst,
                      size_t ldd);

/* C[m][n] = (accumulate ? C : 0) + A[m][k] * B + bias (bias NULL or n floats), A row-major
 * with leading dimension lda, B packed by tc__tr_pack_b for kr. Split over pool (NULL: the
 * caller) into blocks; the bits do not depend on the split. */
void tc__tr_gemm_packed(tc_f32_gemm_kernel *kr, tc_threadpool *pool, size_t m, size_t n,
                        size_t k, const float *a, size_t lda, const float *packed_b,
                        const float *bias, float *c, size_t ldc, int accumulate);
/* The same with the stored result clamped to [act_min, act_max] (-INFINITY/INFINITY: none). */
void tc__tr_gemm_packed_act(tc_f32_gemm_kernel *kr, tc_threadpool *pool, size_t m, size_t n,
                            size_t k, const float *a, size_t lda, const float *packed_b,
                            const float *bias, float *c, size_t ldc, int accumulate,
                            float act_min, float act_max);

#endif /* TC_TRAIN_GEMM_H */
