/* gemm.h: the float32 GEMM building block, C = clamp(A * B + bias), used by CONV_2D (1x1
 * directly, k x k through im2col), FULLY_CONNECTED and training. B (the weights) is packed once
 * into column panels for one microkernel variant (tc_f32_gemm_pack_b, at prepare); each call
 * then streams A rows against the packed panels with a register-tiled microkernel and fuses bias
 * and the activation clamp into the store. A plain entry point (tc_f32_gemm_plain) packs on the
 * fly, takes transposed operands and can accumulate into C, for training. Variants are listed in
 * kernels.def and chosen at run time (select.h); see docs/kernels.md for the design. */
#ifndef TC_KERNELS_GEMM_H
#define TC_KERNELS_GEMM_H

#include <stddef.h>
#include <stdint.h>

#include "core/threadpool.h"

/* ---- microkernels ----------------------------------------------------------------------------
 *
 * Packed-B layout for a kernel with register tile mr x nr: the n columns are cut into panels of
 * nr columns, left to right. A panel of width W holds k rows of W floats (row kk = B[kk][j..j+W),
 * zero-padded past n), so panel p starts at float offset p * nr * k. Every panel is nr wide
 * except the last: if its r = n % nr columns fit in nr / 2 it is packed nr / 2 wide (so a layer
 * with 16 output channels does not pay for 32 on a 32-wide kernel), else nr wide.
 *
 * A microkernel computes rows [0, mr_rows) (1 <= mr_rows <= mr) and columns [0, nc) of a block
 * that starts at a panel boundary: c[i][j] = clamp(init[i][j] + sum_kk a[i][kk] * B[kk][j]),
 * where init = (accumulate ? c[i][j] : 0) + (bias ? bias[j] : 0), reading a[i] at a + i * lda
 * and B from packed_b (the panel of column 0; the panels are consecutive and follow the width
 * rule above for the columns that remain). Strides are in elements. k may be 0. Results depend
 * only on the variant, never on the position of the tile, so any tiling or thread count gives
 * the same bits. */
typedef void tc_f32_gemm_ukernel_fn(size_t mr_rows, size_t nc, size_t k, const float *a,
                                    size_t lda, const float *packed_b, const float *bias,
                                    float *c, size_t ldc, int accumulate, float act_min,
                                    float act_max);

/* Optional implicit-GEMM form of the same microkernel, for direct convolution (kernels/
 * conv_f32.h) and long row blocks: row i of A is n_seg segments of seg_len floats, K = n_seg *
 * seg_len; segment s holds A[i][s * seg_len + t] (t < seg_len) at a_seg[s][i * lda + t]. A NULL
 * a_seg[s] stands for a segment of zeros and is skipped (no operation on the accumulators, as
 * the reference convolution skips taps in the padding). `rows` may be any count >= 1: the
 * kernel walks them in register tiles of at most mr rows (mr_narrow when the block is one
 * narrow panel, nc <= nr / 2; the x86 kernels balance one panel's tile heights, so no short
 * tile is left at the end), so one call can cover a whole output row or row block and the call
 * overhead is paid once. Everything else is as tc_f32_gemm_ukernel_fn (one segment is the
 * plain form); a row's result does not depend on `rows`. */
typedef void tc_f32_gemm_seg_fn(size_t rows, size_t nc, size_t n_seg, size_t seg_len,
                                const float *const *a_seg, size_t lda, const float *packed_b,
                                const float *bias, float *c, size_t ldc, int accumulate,
                                float act_min, float act_max);

/* One variant: what kernels.def points at (TC_KERNEL(gemm, f32, isa, symbol, features)). */
struct tc_f32_gemm_ukernel {
  const char *name; /* "<isa>_<mr>x<nr>", e.g. "avx2_6x16" */
  int mr, nr;       /* register tile; nr is even */
  tc_f32_gemm_ukernel_fn *run;
  /* Optional (NULL / 0 when absent): the segmented form, and the height of its register tile
   * for a block of one narrow panel (a taller tile for layers with at most nr / 2 output
   * channels; >= mr; 0: mr). */
  tc_f32_gemm_seg_fn *run_seg;
  int mr_narrow;
  /* Optional: layers of at most narrow_n output channels run `narrow` instead (CONV_2D follows
   * it at prepare, before packing), where this kernel's narrowest panel would be mostly padding
   * (an AVX-512 16-wide panel for 8 channels). kernels.def must require of this kernel the
   * narrow variant's features too. */
  int32_t narrow_n;
  const struct tc_f32_gemm_ukernel *narrow;
};
typedef const struct tc_f32_gemm_ukernel tc_f32_gemm_kernel;

/* ---- packed interface (inference) ---------------------------------------------------------- */

/* How B is stored before packing. */
enum {
  TC_GEMM_B_KN = 0, /* B[kk][j] at b[kk * ldb + j], ldb >= n (a [K, N] matrix) */
  TC_GEMM_B_NK = 1, /* B[kk][j] at b[j * ldb + kk], ldb >= k: FULLY_CONNECTED weights [out, in]
                       and CONV_2D filters [out_c, kh, kw, in_c] read as [out_c, kh*kw*in_c] */
};

/* The kernel chosen by dispatch for this CPU (the reference 4x8 one when TC_FORCE_REF is set).
 * Never NULL. An op stores it at prepare with the packed weights, since packed B is only
 * valid for the kernel it was packed for. */
tc_f32_gemm_kernel *tc_f32_gemm_default_kernel(void);

/* Bytes of packed B for kernel `kr` (NULL: the default) and an n x k B; 0 if n or k is 0.
 * Sizes are exact. Any float alignment works, but give the buffer 64-byte alignment: the
 * microkernels load whole panel rows, and misaligned rows split cache lines. */
size_t tc_f32_gemm_packed_b_size(tc_f32_gemm_kernel *kr, int32_t n, int32_t k);

/* Packs B (layout TC_GEMM_B_KN or TC_GEMM_B_NK with leading dimension ldb, in elements) into
 * `packed` (tc_f32_gemm_packed_b_size bytes) for kernel `kr` (NULL: the default). n, k >= 0. */
void tc_f32_gemm_pack_b(tc_f32_gemm_kernel *kr, int32_t n, int32_t k, const float *b, size_t ldb,
                        int b_layout, float *packed);

/* C[m][n] = clamp(sum_kk A[i][kk] * B[kk][j] + bias[j], act_min, act_max) with A at a[i * lda +
 * kk] (lda >= k), C at c[i * ldc + j] (ldc >= n), packed_b from tc_f32_gemm_pack_b with the same
 * kernel (NULL: the default) and the same n, k. bias has n entries or is NULL. Use
 * -INFINITY/INFINITY for no clamp (RELU: 0/INFINITY, RELU6: 0/6). The work is split into tiles
 * over `pool` (NULL: the calling thread only). C must not overlap A or packed_b. Allocates
 * nothing; deterministic for a given kernel whatever the pool. m, n, k >= 0. */
void tc_f32_gemm(tc_f32_gemm_kernel *kr, tc_threadpool *pool, int32_t m, int32_t n, int32_t k,
                 const float *a, size_t lda, const float *packed_b, const float *bias,
                 float act_min, float act_max, float *c, size_t ldc);

/* ---- plain interface (training) ------------------------------------------------------------ */

enum {
  TC_GEMM_TRANS_A = 1,    /* A[i][kk] at a[kk * lda + i] (lda >= m) instead of a[i * lda + kk] */
  TC_GEMM_TRANS_B = 2,    /* B[kk][j] at b[j * ldb + kk] (ldb >= k) instead of b[kk * ldb + j] */
  TC_GEMM_ACCUMULATE = 4, /* C += A * B (+ bias), clamped, instead of C = ... */
};

/* Scratch bytes tc_f32_gemm_plain needs for kernel kr (NULL: the default), sizes and flags. */
size_t tc_f32_gemm_plain_scratch_size(tc_f32_gemm_kernel *kr, int32_t m, int32_t n, int32_t k,
                                      unsigned flags);

/* The same product on unpacked operands: c = clamp((accumulate ? c : 0) + A * B + bias) with
 * A, B read as the TC_GEMM_TRANS_* flags say (strides in elements). Packs B (and copies A
 * row-major if TC_GEMM_TRANS_A) into `scratch` (tc_f32_gemm_plain_scratch_size bytes; NULL:
 * allocated and freed inside the call), then runs the blocked product with kernel kr (NULL: the
 * default) over `pool`. Returns 0, or -1 if scratch was NULL and the allocation failed (C is
 * then untouched). m, n, k >= 0. */
int tc_f32_gemm_plain(tc_f32_gemm_kernel *kr, tc_threadpool *pool, unsigned flags, int32_t m,
                      int32_t n, int32_t k, const float *a, size_t lda, const float *b, size_t ldb,
                      const float *bias, float act_min, float act_max, float *c, size_t ldc,
                      void *scratch);

/* The variants themselves (tc_f32_gemm__ref_4x8, tc_f32_gemm__avx2_6x16, ...) are declared by
 * select.h from kernels.def. */

#endif /* TC_KERNELS_GEMM_H */
