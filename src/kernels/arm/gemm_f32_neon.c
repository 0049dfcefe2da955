/* gemm_f32_neon.c: the AArch64 NEON float32 GEMM microkernel, an 8x8 register tile (16 q
 * accumulators) with an 8x4 path for a last panel of at most 4 columns. K is unrolled by 4: each
 * row of A gives one q register of 4 consecutive k values, and each k step multiplies the two B
 * vectors by one lane of it (FMLA by element), so 26 of the 32 vector registers are live and
 * there are 4 loads per 16 FMAs. Contract and packed-B layout: kernels/gemm.h. Each tile body is
 * instantiated once per row count 1..8, like the AVX2 kernel. NEON is mandatory on AArch64, so
 * the variant needs only TC_CPU_NEON; the file is empty on other targets. */
#include "kernels/gemm.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#include <string.h>

#define MR 8
#define REP8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define REP8L(X, l) X(0, l) X(1, l) X(2, l) X(3, l) X(4, l) X(5, l) X(6, l) X(7, l)

/* Rows i >= R are compiled out (R is a constant in each instantiation); their pointers are set
 * to row 0 so that the (dead) loads stay in bounds. */
#define ROW_PTR(i) const float *a##i = a + ((i) < R ? (size_t)(i) * lda : 0);
#define CROW(i) (c + (size_t)(i) * ldc)

/* Partial rows (cols < width) go through a small stack buffer: NEON has no masked loads. */
static inline float32x4_t load_part(const float *p, size_t cols) {
  float t[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  memcpy(t, p, cols * sizeof(float));
  return vld1q_f32(t);
}
static inline void store_part(float *p, size_t cols, float32x4_t v) {
  float t[4];
  vst1q_f32(t, v);
  memcpy(p, t, cols * sizeof(float));
}
/* Loads or stores columns [0, cols) of an 8-wide row as two vectors (lanes past cols are 0). */
static inline void load8(const float *p, size_t cols, float32x4_t *lo, float32x4_t *hi) {
  if (cols >= 8) {
    *lo = vld1q_f32(p);
    *hi = vld1q_f32(p + 4);
  } else if (cols > 4) {
    *lo = vld1q_f32(p);
    *hi = load_part(p + 4, cols - 4);
  } else {
    *lo = load_part(p, cols);
    *hi = vdupq_n_f32(0.0f);
  }
}
static inline void store8(float *p, size_t cols, float32x4_t lo, float32x4_t hi) {
  if (cols >= 8) {
    vst1q_f32(p, lo);
    vst1q_f32(p + 4, hi);
  } else if (cols > 4) {
    vst1q_f32(p, lo);
    store_part(p + 4, cols - 4, hi);
  } else {
    store_part(p, cols, lo);
  }
}
static inline float32x4_t load4(const float *p, size_t cols) {
  return cols >= 4 ? vld1q_f32(p) : load_part(p, cols);
}
static inline void store4(float *p, size_t cols, float32x4_t v) {
  if (cols >= 4)
    vst1q_f32(p, v);
  else
    store_part(p, cols, v);
}

/* FMAX/FMIN return NaN when an input is NaN, so a NaN sum passes the clamp unchanged, as in
 * the reference kernels (whose comparisons are false for NaN). */
#define CLAMP(x) vminq_f32(vmax, vmaxq_f32(vmin, (x)))

/* One 8-wide panel, columns [0, cols) stored, 4 < cols <= 8. */
static inline __attribute__((always_inline)) void panel8(const size_t R, size_t cols, size_t k,
                                                         const float *a, size_t lda,
                                                         const float *w, const float *bias,
                                                         float *c, size_t ldc, int accumulate,
                                                         float act_min, float act_max) {
  REP8(ROW_PTR)
  float32x4_t bias0 = vdupq_n_f32(0.0f), bias1 = bias0;
  if (bias) load8(bias, cols, &bias0, &bias1);
  /* With accumulate and no bias the accumulator starts as C itself (adding +0 would turn a -0
   * into +0, and a chunked K must give the bits of one pass). */
#define INIT(i)                                                \
  float32x4_t acc##i##0 = bias0, acc##i##1 = bias1;            \
  if ((i) < R && accumulate) {                                 \
    float32x4_t c0, c1;                                        \
    load8(CROW(i), cols, &c0, &c1);                            \
    acc##i##0 = bias ? vaddq_f32(acc##i##0, c0) : c0;          \
    acc##i##1 = bias ? vaddq_f32(acc##i##1, c1) : c1;          \
  }
  REP8(INIT)
#undef INIT
  size_t kk = 0;
  for (; kk + 4 <= k; kk += 4) {
#define LOADA(i) const float32x4_t va##i = vld1q_f32(a##i + kk);
    REP8(LOADA)
#undef LOADA
#define FMA(i, l)                                           \
  if ((i) < R) {                                            \
    acc##i##0 = vfmaq_laneq_f32(acc##i##0, b0, va##i, l);   \
    acc##i##1 = vfmaq_laneq_f32(acc##i##1, b1, va##i, l);   \
  }
#define STEP(l)                                                   \
  {                                                               \
    const float32x4_t b0 = vld1q_f32(w), b1 = vld1q_f32(w + 4);   \
    w += 8;                                                       \
    REP8L(FMA, l)                                                 \
  }
    STEP(0) STEP(1) STEP(2) STEP(3)
#undef STEP
#undef FMA
  }
  for (; kk < k; kk++) {
    const float32x4_t b0 = vld1q_f32(w), b1 = vld1q_f32(w + 4);
    w += 8;
#define FMA1(i)                                        \
  if ((i) < R) {                                       \
    const float32x4_t va = vld1q_dup_f32(a##i + kk);   \
    acc##i##0 = vfmaq_f32(acc##i##0, b0, va);          \
    acc##i##1 = vfmaq_f32(acc##i##1, b1, va);          \
  }
    REP8(FMA1)
#undef FMA1
  }
  const float32x4_t vmin = vdupq_n_f32(act_min), vmax = vdupq_n_f32(act_max);
#define STORE(i) \
  if ((i) < R) store8(CROW(i), cols, CLAMP(acc##i##0), CLAMP(acc##i##1));
  REP8(STORE)
#undef STORE
}

/* One 4-wide panel (the last one, when at most 4 columns remain): columns [0, cols). */
static inline __attribute__((always_inline)) void panel4(const size_t R, size_t cols, size_t k,
                                                         const float *a, size_t lda,
                                                         const float *w, const float *bias,
                                                         float *c, size_t ldc, int accumulate,
                                                         float act_min, float act_max) {
  REP8(ROW_PTR)
  float32x4_t bias0 = vdupq_n_f32(0.0f);
  if (bias) bias0 = load4(bias, cols);
#define INIT(i)                                               \
  float32x4_t acc##i = bias0;                                 \
  if ((i) < R && accumulate) {                                \
    const float32x4_t c0 = load4(CROW(i), cols);              \
    acc##i = bias ? vaddq_f32(acc##i, c0) : c0;               \
  }
  REP8(INIT)
#undef INIT
  size_t kk = 0;
  for (; kk + 4 <= k; kk += 4) {
#define LOADA(i) const float32x4_t va##i = vld1q_f32(a##i + kk);
    REP8(LOADA)
#undef LOADA
#define FMA(i, l) \
  if ((i) < R) acc##i = vfmaq_laneq_f32(acc##i, b0, va##i, l);
#define STEP(l)                               \
  {                                           \
    const float32x4_t b0 = vld1q_f32(w);      \
    w += 4;                                   \
    REP8L(FMA, l)                             \
  }
    STEP(0) STEP(1) STEP(2) STEP(3)
#undef STEP
#undef FMA
  }
  for (; kk < k; kk++) {
    const float32x4_t b0 = vld1q_f32(w);
    w += 4;
#define FMA1(i) \
  if ((i) < R) acc##i = vfmaq_f32(acc##i, b0, vld1q_dup_f32(a##i + kk));
    REP8(FMA1)
#undef FMA1
  }
  const float32x4_t vmin = vdupq_n_f32(act_min), vmax = vdupq_n_f32(act_max);
#define STORE(i) \
  if ((i) < R) store4(CROW(i), cols, CLAMP(acc##i));
  REP8(STORE)
#undef STORE
}

typedef void panel_fn(size_t cols, size_t k, const float *a, size_t lda, const float *w,
                      const float *bias, float *c, size_t ldc, int accumulate, float act_min,
                      float act_max);

/* Out-of-line instantiations per row count: each kk loop gets the registers to itself. */
#define DEFINE_PANELS(R)                                                                     \
  __attribute__((noinline)) static void panel8_##R(size_t cols, size_t k, const float *a,   \
                                                   size_t lda, const float *w,               \
                                                   const float *bias, float *c, size_t ldc,  \
                                                   int accumulate, float lo, float hi) {     \
    panel8(R, cols, k, a, lda, w, bias, c, ldc, accumulate, lo, hi);                         \
  }                                                                                          \
  __attribute__((noinline)) static void panel4_##R(size_t cols, size_t k, const float *a,   \
                                                   size_t lda, const float *w,               \
                                                   const float *bias, float *c, size_t ldc,  \
                                                   int accumulate, float lo, float hi) {     \
    panel4(R, cols, k, a, lda, w, bias, c, ldc, accumulate, lo, hi);                         \
  }
DEFINE_PANELS(1)
DEFINE_PANELS(2)
DEFINE_PANELS(3)
DEFINE_PANELS(4)
DEFINE_PANELS(5)
DEFINE_PANELS(6)
DEFINE_PANELS(7)
DEFINE_PANELS(8)

static panel_fn *const g_panel8[MR + 1] = {NULL,     panel8_1, panel8_2, panel8_3, panel8_4,
                                           panel8_5, panel8_6, panel8_7, panel8_8};
static panel_fn *const g_panel4[MR + 1] = {NULL,     panel4_1, panel4_2, panel4_3, panel4_4,
                                           panel4_5, panel4_6, panel4_7, panel4_8};

static void ukernel_8x8(size_t mr_rows, size_t nc, size_t k, const float *a, size_t lda,
                        const float *packed_b, const float *bias, float *c, size_t ldc,
                        int accumulate, float act_min, float act_max) {
  if (mr_rows < 1 || mr_rows > MR) return;
  panel_fn *const p8 = g_panel8[mr_rows], *const p4 = g_panel4[mr_rows];
  const float *w = packed_b;
  size_t col = 0;
  while (nc - col > 4) { /* col <= nc always: it advances by the columns stored */
    const size_t cols = nc - col >= 8 ? 8 : nc - col;
    p8(cols, k, a, lda, w, bias ? bias + col : NULL, c + col, ldc, accumulate, act_min, act_max);
    col += cols;
    w += 8 * k;
  }
  if (col < nc)
    p4(nc - col, k, a, lda, w, bias ? bias + col : NULL, c + col, ldc, accumulate, act_min,
       act_max);
}

tc_f32_gemm_kernel tc_f32_gemm__neon_8x8 = {"neon_8x8", MR, 8, ukernel_8x8};

#endif
