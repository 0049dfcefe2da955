/* gemm_f32_avx512.c: the AVX-512 float32 GEMM microkernel, an 8x32 register tile (16 zmm
 * accumulators, 2 zmm of B and 1 broadcast of A per kk step: 16 FMAs for 10 loads) with an 8x16
 * path for a last panel of at most 16 columns; partial panels use AVX-512 masked loads and
 * stores. Contract and packed-B layout: kernels/gemm.h. Compiled with -mavx512f -mavx512bw
 * -mavx512dq -mavx512vl -mfma only; select.c runs it only where cpuid and XCR0 allow AVX-512. */
#include "kernels/gemm.h"

#if defined(__x86_64__) && defined(__AVX512F__)
#include <immintrin.h>

#define REP8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* Row i of C, computed where needed rather than kept live across the kk loop (fewer
 * registers in use there). */
#define CROW(i) (c + (size_t)((i) < mr_rows ? (i) : mr_rows - 1) * ldc)

/* Rows past mr_rows alias the last valid row (same values stored twice; one code path). */
#define ROW_PTRS(i) \
  const float *a##i = a + (size_t)((i) < mr_rows ? (i) : mr_rows - 1) * lda;

/* lanes [0, r) on, r in 0..16 */
static inline __mmask16 tail_mask(size_t r) { return (__mmask16)((1u << r) - 1u); }

/* One 32-wide panel, columns [0, cols) stored (17 <= cols <= 32). Kept out of
 * line so that the kk loop has the general-purpose registers to itself: inlined into the panel
 * loop, gcc 12 ran short of them, parked pointers in zmm16+ and spilled a B vector to the stack. */
__attribute__((noinline)) static void panel_8x32(size_t mr_rows, size_t cols, size_t k,
                                                 const float *a, size_t lda, const float *w,
                                                 const float *bias, float *c, size_t ldc,
                                                 int accumulate, float act_min, float act_max) {
  REP8(ROW_PTRS)
  const __mmask16 m1 = tail_mask(cols - 16);
  __m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
  if (bias) {
    bias0 = _mm512_loadu_ps(bias);
    bias1 = _mm512_maskz_loadu_ps(m1, bias + 16);
  }
#define INIT(i)                                                                      \
  __m512 acc##i##0 = bias0, acc##i##1 = bias1;                                       \
  if (accumulate) {                                                                  \
    acc##i##0 = _mm512_add_ps(acc##i##0, _mm512_loadu_ps(CROW(i)));                   \
    acc##i##1 = _mm512_add_ps(acc##i##1, _mm512_maskz_loadu_ps(m1, CROW(i) + 16));     \
  }
  REP8(INIT)
#undef INIT
  for (size_t kk = 0; kk < k; kk++) {
    const __m512 b0 = _mm512_loadu_ps(w), b1 = _mm512_loadu_ps(w + 16);
    w += 32;
#define STEP(i)                                     \
  {                                                 \
    const __m512 va = _mm512_set1_ps(a##i[kk]);     \
    acc##i##0 = _mm512_fmadd_ps(va, b0, acc##i##0); \
    acc##i##1 = _mm512_fmadd_ps(va, b1, acc##i##1); \
  }
    REP8(STEP)
#undef STEP
  }
  const __m512 vmin = _mm512_set1_ps(act_min), vmax = _mm512_set1_ps(act_max);
#define STORE(i)                                                                     \
  _mm512_storeu_ps(CROW(i), _mm512_min_ps(vmax, _mm512_max_ps(vmin, acc##i##0)));     \
  _mm512_mask_storeu_ps(CROW(i) + 16, m1, _mm512_min_ps(vmax, _mm512_max_ps(vmin, acc##i##1)));
  REP8(STORE)
#undef STORE
}

/* One 16-wide panel (the last one, when at most 16 columns remain): columns [0, cols). */
__attribute__((noinline)) static void panel_8x16(size_t mr_rows, size_t cols, size_t k,
                                                 const float *a, size_t lda, const float *w,
                                                 const float *bias, float *c, size_t ldc,
                                                 int accumulate, float act_min, float act_max) {
  REP8(ROW_PTRS)
  const __mmask16 m0 = tail_mask(cols);
  const __m512 bias0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
#define INIT(i)          \
  __m512 acc##i = bias0; \
  if (accumulate) acc##i = _mm512_add_ps(acc##i, _mm512_maskz_loadu_ps(m0, CROW(i)));
  REP8(INIT)
#undef INIT
  for (size_t kk = 0; kk < k; kk++) {
    const __m512 b0 = _mm512_loadu_ps(w);
    w += 16;
#define STEP(i) acc##i = _mm512_fmadd_ps(_mm512_set1_ps(a##i[kk]), b0, acc##i);
    REP8(STEP)
#undef STEP
  }
  const __m512 vmin = _mm512_set1_ps(act_min), vmax = _mm512_set1_ps(act_max);
#define STORE(i) \
  _mm512_mask_storeu_ps(CROW(i), m0, _mm512_min_ps(vmax, _mm512_max_ps(vmin, acc##i)));
  REP8(STORE)
#undef STORE
}

static void ukernel_8x32(size_t mr_rows, size_t nc, size_t k, const float *a, size_t lda,
                         const float *packed_b, const float *bias, float *c, size_t ldc,
                         int accumulate, float act_min, float act_max) {
  const float *w = packed_b;
  size_t col = 0;
  while (nc - col > 16) { /* col <= nc always: it advances by the columns stored */
    const size_t cols = nc - col >= 32 ? 32 : nc - col;
    panel_8x32(mr_rows, cols, k, a, lda, w, bias ? bias + col : NULL, c + col, ldc, accumulate,
               act_min, act_max);
    col += cols;
    w += 32 * k;
  }
  if (col < nc)
    panel_8x16(mr_rows, nc - col, k, a, lda, w, bias ? bias + col : NULL, c + col, ldc,
               accumulate, act_min, act_max);
}

tc_f32_gemm_kernel tc_f32_gemm__avx512_8x32 = {"avx512_8x32", 8, 32, ukernel_8x32};

#elif defined(__x86_64__)
#error "gemm_f32_avx512.c must be compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma"
#endif
