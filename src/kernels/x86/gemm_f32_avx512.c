/* gemm_f32_avx512.c: the AVX-512 float32 GEMM microkernel, an 8x32 register tile (16 zmm
 * accumulators, 2 zmm of B and 1 broadcast of A per kk step: 16 FMAs for 10 loads) with an 8x16
 * path for a last panel of at most 16 columns; partial panels use masked loads and stores.
 * Contract and packed-B layout: kernels/gemm.h. Each tile body is instantiated once per row
 * count 1..8, so short products do not compute padding rows. Compiled with -mavx512f -mavx512bw
 * -mavx512dq -mavx512vl -mfma only; select.c runs it only where cpuid and XCR0 allow AVX-512.
 * tests/kernels/avx512_emu/run.sh checks it on machines without AVX-512. */
#include "kernels/gemm.h"

#if defined(__x86_64__) && defined(__AVX512F__)
#include <immintrin.h>

#define MR 8
#define REP8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* lanes [0, r) on, r in 0..16 */
static inline __mmask16 tail_mask(size_t r) { return (__mmask16)((1u << r) - 1u); }

/* Rows i >= R are compiled out (R is a constant in each instantiation); their pointers are
 * set to row 0 only to keep them defined. */
#define ROW_PTR(i) const float *a##i = a + ((i) < R ? (size_t)(i) * lda : 0);
#define CROW(i) (c + (size_t)(i) * ldc)

/* One 32-wide panel, columns [0, cols) stored, 16 < cols <= 32. */
static inline __attribute__((always_inline)) void panel32(const size_t R, size_t cols, size_t k,
                                                          const float *a, size_t lda,
                                                          const float *w, const float *bias,
                                                          float *c, size_t ldc, int accumulate,
                                                          float act_min, float act_max) {
  REP8(ROW_PTR)
  const __mmask16 m1 = tail_mask(cols - 16);
  __m512 bias0 = _mm512_setzero_ps(), bias1 = _mm512_setzero_ps();
  if (bias) {
    bias0 = _mm512_loadu_ps(bias);
    bias1 = _mm512_maskz_loadu_ps(m1, bias + 16);
  }
  /* With accumulate and no bias the accumulator starts as C itself (adding +0 would turn a
   * -0 into +0, and a chunked K must give the bits of one pass). */
#define INIT(i)                                                                      \
  __m512 acc##i##0 = bias0, acc##i##1 = bias1;                                       \
  if ((i) < R && accumulate) {                                                       \
    const __m512 c0 = _mm512_loadu_ps(CROW(i));                                      \
    const __m512 c1 = _mm512_maskz_loadu_ps(m1, CROW(i) + 16);                       \
    acc##i##0 = bias ? _mm512_add_ps(acc##i##0, c0) : c0;                            \
    acc##i##1 = bias ? _mm512_add_ps(acc##i##1, c1) : c1;                            \
  }
  REP8(INIT)
#undef INIT
  for (size_t kk = 0; kk < k; kk++) {
    const __m512 b0 = _mm512_loadu_ps(w), b1 = _mm512_loadu_ps(w + 16);
    w += 32;
#define STEP(i)                                     \
  if ((i) < R) {                                    \
    const __m512 va = _mm512_set1_ps(a##i[kk]);     \
    acc##i##0 = _mm512_fmadd_ps(va, b0, acc##i##0); \
    acc##i##1 = _mm512_fmadd_ps(va, b1, acc##i##1); \
  }
    REP8(STEP)
#undef STEP
  }
  /* max(vmin, x) and min(vmax, x) return x when x is NaN, as TFLite's clamp does. */
  const __m512 vmin = _mm512_set1_ps(act_min), vmax = _mm512_set1_ps(act_max);
#define STORE(i)                                                                        \
  if ((i) < R) {                                                                        \
    _mm512_storeu_ps(CROW(i), _mm512_min_ps(vmax, _mm512_max_ps(vmin, acc##i##0)));      \
    _mm512_mask_storeu_ps(CROW(i) + 16, m1,                                             \
                          _mm512_min_ps(vmax, _mm512_max_ps(vmin, acc##i##1)));          \
  }
  REP8(STORE)
#undef STORE
}

/* One 16-wide panel (the last one, when at most 16 columns remain): columns [0, cols). */
static inline __attribute__((always_inline)) void panel16(const size_t R, size_t cols, size_t k,
                                                          const float *a, size_t lda,
                                                          const float *w, const float *bias,
                                                          float *c, size_t ldc, int accumulate,
                                                          float act_min, float act_max) {
  REP8(ROW_PTR)
  const __mmask16 m0 = tail_mask(cols);
  const __m512 bias0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
#define INIT(i)                                           \
  __m512 acc##i = bias0;                                  \
  if ((i) < R && accumulate) {                            \
    const __m512 c0 = _mm512_maskz_loadu_ps(m0, CROW(i)); \
    acc##i = bias ? _mm512_add_ps(acc##i, c0) : c0;       \
  }
  REP8(INIT)
#undef INIT
  for (size_t kk = 0; kk < k; kk++) {
    const __m512 b0 = _mm512_loadu_ps(w);
    w += 16;
#define STEP(i) \
  if ((i) < R) acc##i = _mm512_fmadd_ps(_mm512_set1_ps(a##i[kk]), b0, acc##i);
    REP8(STEP)
#undef STEP
  }
  const __m512 vmin = _mm512_set1_ps(act_min), vmax = _mm512_set1_ps(act_max);
#define STORE(i) \
  if ((i) < R)   \
    _mm512_mask_storeu_ps(CROW(i), m0, _mm512_min_ps(vmax, _mm512_max_ps(vmin, acc##i)));
  REP8(STORE)
#undef STORE
}

typedef void panel_fn(size_t cols, size_t k, const float *a, size_t lda, const float *w,
                      const float *bias, float *c, size_t ldc, int accumulate, float act_min,
                      float act_max);

/* Out-of-line instantiations per row count: each kk loop gets the registers to itself (inlined
 * into one function, gcc 12 ran short of general registers and spilled a B vector). */
#define DEFINE_PANELS(R)                                                                      \
  __attribute__((noinline)) static void panel32_##R(size_t cols, size_t k, const float *a,   \
                                                    size_t lda, const float *w,               \
                                                    const float *bias, float *c, size_t ldc,  \
                                                    int accumulate, float lo, float hi) {     \
    panel32(R, cols, k, a, lda, w, bias, c, ldc, accumulate, lo, hi);                         \
  }                                                                                           \
  __attribute__((noinline)) static void panel16_##R(size_t cols, size_t k, const float *a,   \
                                                    size_t lda, const float *w,               \
                                                    const float *bias, float *c, size_t ldc,  \
                                                    int accumulate, float lo, float hi) {     \
    panel16(R, cols, k, a, lda, w, bias, c, ldc, accumulate, lo, hi);                         \
  }
DEFINE_PANELS(1)
DEFINE_PANELS(2)
DEFINE_PANELS(3)
DEFINE_PANELS(4)
DEFINE_PANELS(5)
DEFINE_PANELS(6)
DEFINE_PANELS(7)
DEFINE_PANELS(8)

static panel_fn *const g_panel32[MR + 1] = {NULL,       panel32_1, panel32_2, panel32_3, panel32_4,
                                            panel32_5,  panel32_6, panel32_7, panel32_8};
static panel_fn *const g_panel16[MR + 1] = {NULL,       panel16_1, panel16_2, panel16_3, panel16_4,
                                            panel16_5,  panel16_6, panel16_7, panel16_8};

static void ukernel_8x32(size_t mr_rows, size_t nc, size_t k, const float *a, size_t lda,
                         const float *packed_b, const float *bias, float *c, size_t ldc,
                         int accumulate, float act_min, float act_max) {
  if (mr_rows < 1 || mr_rows > MR) return;
  panel_fn *const p32 = g_panel32[mr_rows], *const p16 = g_panel16[mr_rows];
  const float *w = packed_b;
  size_t col = 0;
  while (nc - col > 16) { /* col <= nc always: it advances by the columns stored */
    const size_t cols = nc - col >= 32 ? 32 : nc - col;
    p32(cols, k, a, lda, w, bias ? bias + col : NULL, c + col, ldc, accumulate, act_min, act_max);
    col += cols;
    w += 32 * k;
  }
  if (col < nc)
    p16(nc - col, k, a, lda, w, bias ? bias + col : NULL, c + col, ldc, accumulate, act_min,
        act_max);
}

tc_f32_gemm_kernel tc_f32_gemm__avx512_8x32 = {"avx512_8x32", MR, 32, ukernel_8x32};

#elif defined(__x86_64__)
#error "gemm_f32_avx512.c must be compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma"
#endif
