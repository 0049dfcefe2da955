/* gemm_f32_avx2.c: the AVX2+FMA float32 GEMM microkernel, a 6x16 register tile (12 ymm
 * accumulators, 2 ymm of B and 1 broadcast of A per kk step) with a 6x8 path for a last panel
 * of at most 8 columns. Contract and packed-B layout: kernels/gemm.h. Compiled with -mavx2 -mfma
 * only; select.c runs it only where cpuid reports AVX2 and FMA. */
#include "kernels/gemm.h"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

/* lanes [0, r) on, for r in 0..8: load 8 ints starting at g_tail + 8 - r */
static const int32_t g_tail[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
static inline __m256i tail_mask(size_t r) {
  return _mm256_loadu_si256((const __m256i *)(g_tail + 8 - r));
}

#define REP6(X) X(0) X(1) X(2) X(3) X(4) X(5)

/* Row i of C, computed where needed rather than kept live across the kk loop (fewer
 * registers in use there). */
#define CROW(i) (c + (size_t)((i) < mr_rows ? (i) : mr_rows - 1) * ldc)

/* Rows past mr_rows alias the last valid row: they compute and store the same values again,
 * which keeps one code path for every row count. */
#define ROW_PTRS(i) \
  const float *a##i = a + (size_t)((i) < mr_rows ? (i) : mr_rows - 1) * lda;

static void ukernel_6x16(size_t mr_rows, size_t nc, size_t k, const float *a, size_t lda,
                         const float *packed_b, const float *bias, float *c, size_t ldc,
                         int accumulate, float act_min, float act_max) {
  REP6(ROW_PTRS)
  const float *w = packed_b;
  const __m256 vmin = _mm256_set1_ps(act_min), vmax = _mm256_set1_ps(act_max);
  size_t col = 0;
  while (nc - col > 8) {
    /* A 16-wide panel; columns [col, col + cols) are stored. */
    const size_t cols = nc - col >= 16 ? 16 : nc - col;
    const int full = cols == 16;
    const __m256i m1 = tail_mask(cols - 8);
    __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
    if (bias) {
      bias0 = _mm256_loadu_ps(bias + col);
      bias1 = full ? _mm256_loadu_ps(bias + col + 8) : _mm256_maskload_ps(bias + col + 8, m1);
    }
#define INIT(i)                                                                      \
  __m256 acc##i##0 = bias0, acc##i##1 = bias1;                                       \
  if (accumulate) {                                                                  \
    acc##i##0 = _mm256_add_ps(acc##i##0, _mm256_loadu_ps(CROW(i) + col));               \
    acc##i##1 = _mm256_add_ps(acc##i##1, full ? _mm256_loadu_ps(CROW(i) + col + 8)      \
                                              : _mm256_maskload_ps(CROW(i) + col + 8, m1)); \
  }
    REP6(INIT)
#undef INIT
    for (size_t kk = 0; kk < k; kk++) {
      const __m256 b0 = _mm256_loadu_ps(w), b1 = _mm256_loadu_ps(w + 8);
      w += 16;
#define STEP(i)                                          \
  {                                                      \
    const __m256 va = _mm256_broadcast_ss(a##i + kk);    \
    acc##i##0 = _mm256_fmadd_ps(va, b0, acc##i##0);      \
    acc##i##1 = _mm256_fmadd_ps(va, b1, acc##i##1);      \
  }
      REP6(STEP)
#undef STEP
    }
#define STORE(i)                                                                      \
  acc##i##0 = _mm256_min_ps(vmax, _mm256_max_ps(vmin, acc##i##0));                    \
  acc##i##1 = _mm256_min_ps(vmax, _mm256_max_ps(vmin, acc##i##1));                    \
  _mm256_storeu_ps(CROW(i) + col, acc##i##0);                                            \
  if (full)                                                                           \
    _mm256_storeu_ps(CROW(i) + col + 8, acc##i##1);                                      \
  else                                                                                \
    _mm256_maskstore_ps(CROW(i) + col + 8, m1, acc##i##1);
    REP6(STORE)
#undef STORE
    col += cols;
  }
  if (col < nc) {
    /* The last panel, packed 8 wide: columns [col, nc). */
    const size_t cols = nc - col;
    const int full = cols == 8;
    const __m256i m0 = tail_mask(cols);
    __m256 bias0 = _mm256_setzero_ps();
    if (bias) bias0 = full ? _mm256_loadu_ps(bias + col) : _mm256_maskload_ps(bias + col, m0);
#define INIT(i)                                                                          \
  __m256 acc##i = bias0;                                                                 \
  if (accumulate)                                                                        \
    acc##i = _mm256_add_ps(acc##i, full ? _mm256_loadu_ps(CROW(i) + col)                    \
                                        : _mm256_maskload_ps(CROW(i) + col, m0));
    REP6(INIT)
#undef INIT
    for (size_t kk = 0; kk < k; kk++) {
      const __m256 b0 = _mm256_loadu_ps(w);
      w += 8;
#define STEP(i) acc##i = _mm256_fmadd_ps(_mm256_broadcast_ss(a##i + kk), b0, acc##i);
      REP6(STEP)
#undef STEP
    }
#define STORE(i)                                                \
  acc##i = _mm256_min_ps(vmax, _mm256_max_ps(vmin, acc##i));    \
  if (full)                                                     \
    _mm256_storeu_ps(CROW(i) + col, acc##i);                       \
  else                                                          \
    _mm256_maskstore_ps(CROW(i) + col, m0, acc##i);
    REP6(STORE)
#undef STORE
  }
}

tc_f32_gemm_kernel tc_f32_gemm__avx2_6x16 = {"avx2_6x16", 6, 16, ukernel_6x16};

#elif defined(__x86_64__)
#error "gemm_f32_avx2.c must be compiled with -mavx2 -mfma (see the x86 block in CMakeLists.txt)"
#endif
