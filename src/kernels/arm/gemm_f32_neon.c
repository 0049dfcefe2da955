/* gemm_f32_neon.c: the AArch64 NEON float32 GEMM microkernel, an 8x8 register tile (16 q
 * accumulators) with an 8x4 path for a last panel of at most 4 columns. K is unrolled by 4: each
 * row of A gives one q register of 4 consecutive k values, and each k step multiplies the two B
 * vectors by one lane of it (FMLA by element), so 26 of the 32 vector registers are live and
 * there are 4 loads per 16 FMAs. Contract and packed-B layout: kernels/gemm.h. The bodies read A
 * as segments and loop over tiles (the segmented form, tc_f32_gemm_seg_fn, used by the direct
 * convolution of kernels/conv_f32.c and for whole row blocks; the plain form is one segment),
 * the unroll by 4 running within each segment. Each tile body is instantiated once per row count
 * 1..8, like the AVX2 kernel. NEON is mandatory on AArch64, so the variant needs only
 * TC_CPU_NEON; the file is empty on other targets. */
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

/* Tile bodies: n_tiles tiles of R rows from row r0 of A (c points at that row's C); each tile
 * starts from the bias (and C, with accumulate), sums its segments in order (NULL: skipped) and
 * clamps. ROW_PTR sets a0..a7 from `a`, the segment's first row of the tile. */

/* One 8-wide panel, columns [0, cols) stored, 4 < cols <= 8. */
static inline __attribute__((always_inline)) void panel8(
    const size_t R, size_t r0, size_t n_tiles, size_t cols, size_t n_seg, size_t seg_len,
    const float *const *a_seg, size_t lda, const float *w0, const float *bias, float *c,
    size_t ldc, int accumulate, float act_min, float act_max) {
  for (size_t t = 0; t < n_tiles; t++, c += R * ldc) {
    float32x4_t bias0 = vdupq_n_f32(0.0f), bias1 = bias0;
    if (bias) load8(bias, cols, &bias0, &bias1);
    /* With accumulate and no bias the accumulator starts as C itself (adding +0 would turn a
     * -0 into +0, and a chunked K must give the bits of one pass). */
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
    const float *w = w0;
    for (size_t s = 0; s < n_seg; s++) {
      if (!a_seg[s]) { /* a segment of zeros (padding) */
        w += 8 * seg_len;
        continue;
      }
      const float *a = a_seg[s] + (r0 + t * R) * lda;
      const size_t k = seg_len;
      REP8(ROW_PTR)
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
    }
    const float32x4_t vmin = vdupq_n_f32(act_min), vmax = vdupq_n_f32(act_max);
#define STORE(i) \
  if ((i) < R) store8(CROW(i), cols, CLAMP(acc##i##0), CLAMP(acc##i##1));
    REP8(STORE)
#undef STORE
  }
}

/* One 4-wide panel (the last one, when at most 4 columns remain): columns [0, cols). */
static inline __attribute__((always_inline)) void panel4(
    const size_t R, size_t r0, size_t n_tiles, size_t cols, size_t n_seg, size_t seg_len,
    const float *const *a_seg, size_t lda, const float *w0, const float *bias, float *c,
    size_t ldc, int accumulate, float act_min, float act_max) {
  for (size_t t = 0; t < n_tiles; t++, c += R * ldc) {
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
    const float *w = w0;
    for (size_t s = 0; s < n_seg; s++) {
      if (!a_seg[s]) {
        w += 4 * seg_len;
        continue;
      }
      const float *a = a_seg[s] + (r0 + t * R) * lda;
      const size_t k = seg_len;
      REP8(ROW_PTR)
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
    }
    const float32x4_t vmin = vdupq_n_f32(act_min), vmax = vdupq_n_f32(act_max);
#define STORE(i) \
  if ((i) < R) store4(CROW(i), cols, CLAMP(acc##i));
    REP8(STORE)
#undef STORE
  }
}

typedef void panel_fn(size_t r0, size_t n_tiles, size_t cols, size_t n_seg, size_t seg_len,
                      const float *const *a_seg, size_t lda, const float *w, const float *bias,
                      float *c, size_t ldc, int accumulate, float act_min, float act_max);

/* Out-of-line instantiations per row count: each kk loop gets the registers to itself. */
#define DEFINE_PANEL(P, R)                                                                     \
  __attribute__((noinline)) static void P##_##R(                                              \
      size_t r0, size_t n_tiles, size_t cols, size_t n_seg, size_t seg_len,                   \
      const float *const *a_seg, size_t lda, const float *w, const float *bias, float *c,     \
      size_t ldc, int accumulate, float lo, float hi) {                                       \
    P(R, r0, n_tiles, cols, n_seg, seg_len, a_seg, lda, w, bias, c, ldc, accumulate, lo, hi); \
  }
#define DEFINE_PANELS(R) DEFINE_PANEL(panel8, R) DEFINE_PANEL(panel4, R)
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

/* The segmented form (kernels/gemm.h): any number of rows. A block of one panel runs all its
 * full tiles in one call; several panels run groups of tiles (A and C rows about 32 KiB) down
 * each panel in turn. A row's operations do not depend on the tile it is in. */
static void ukernel_seg(size_t rows, size_t nc, size_t n_seg, size_t seg_len,
                        const float *const *a_seg, size_t lda, const float *packed_b,
                        const float *bias, float *c, size_t ldc, int accumulate, float act_min,
                        float act_max) {
  if (rows == 0 || nc == 0) return;
  const size_t k = n_seg * seg_len;
  const size_t row_bytes = ((lda > k ? lda : k) + nc) * sizeof(float);
  size_t group = nc <= 8 ? rows : MR * (32768 / (MR * row_bytes));
  if (group < MR) group = MR;
  for (size_t r0 = 0; r0 < rows; r0 += group) {
    const size_t grp = rows - r0 < group ? rows - r0 : group, full = grp / MR, rem = grp % MR;
    const float *w = packed_b;
    size_t col = 0;
    while (col < nc) {
      const size_t left = nc - col, cols = left > 4 ? (left >= 8 ? 8 : left) : left;
      panel_fn *const *table = left > 4 ? g_panel8 : g_panel4;
      const float *bc = bias ? bias + col : NULL;
      float *cc = c + r0 * ldc + col;
      if (full)
        table[MR](r0, full, cols, n_seg, seg_len, a_seg, lda, w, bc, cc, ldc, accumulate,
                  act_min, act_max);
      if (rem)
        table[rem](r0 + full * MR, 1, cols, n_seg, seg_len, a_seg, lda, w, bc,
                   cc + full * MR * ldc, ldc, accumulate, act_min, act_max);
      col += cols;
      w += 8 * k;
    }
  }
}

static void ukernel_8x8(size_t mr_rows, size_t nc, size_t k, const float *a, size_t lda,
                        const float *packed_b, const float *bias, float *c, size_t ldc,
                        int accumulate, float act_min, float act_max) {
  ukernel_seg(mr_rows, nc, 1, k, &a, lda, packed_b, bias, c, ldc, accumulate, act_min, act_max);
}

tc_f32_gemm_kernel tc_f32_gemm__neon_8x8 = {"neon_8x8", MR, 8, ukernel_8x8, ukernel_seg, 0};

#endif
