/* gemm_f32_avx2.c: the AVX2+FMA float32 GEMM microkernel, a 6x16 register tile (12 ymm
 * accumulators, 2 ymm of B and 1 broadcast of A per kk step) with an 8-wide path for a last
 * panel of at most 8 columns; when the whole block is one such narrow panel (layers with at most
 * 8 output channels) the 8-wide path takes 12 rows (12 accumulators instead of 6, so the FMA
 * latency is hidden). Contract and packed-B layout: kernels/gemm.h. The bodies read A as
 * segments (the implicit-GEMM form used for direct convolution, tc_f32_gemm_seg_fn; the plain
 * form is one segment) and loop over tiles down a panel, so a row block of any length is one
 * call. Each tile body is instantiated once per row count, so a 1-row product (batch-1
 * FULLY_CONNECTED) does 1/6 of the work of a full tile rather than computing padding rows.
 * Compiled with -mavx2 -mfma only; select.c runs it only where cpuid reports AVX2 and FMA and
 * XCR0 has the YMM state. */
#include "kernels/gemm.h"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "kernels/x86/gemm_f32_tiles.h"

#define MR 6
#define MR_NARROW 12
#define REP6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define REP12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)

/* lanes [0, r) on, for r in 0..8: 8 ints starting at g_tail + 8 - r */
static const int32_t g_tail[16] = {-1, -1, -1, -1, -1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
static inline __m256i tail_mask(size_t r) {
  const int32_t *table = g_tail;
  /* Hide the address from the optimiser so that the mask is reloaded after the kk loop rather
   * than kept in one of the 16 ymm registers through it (which spilled a B vector). */
  __asm__("" : "+r"(table));
  return _mm256_loadu_si256((const __m256i *)(table + 8 - r));
}

/* Row i of the current segment, in bytes from its row 0: rows 0..5 from pa, 6..11 from pb
 * (= pa + 6 rows), so that every address is base + {0, 1, 2, 4} * L or base + L3 / L5 and the
 * loop needs six registers for twelve rows. Rows i >= R are compiled out (R is a constant in
 * each instantiation). */
#define ROW_OFF(j) ((j) == 0 ? 0 : (j) == 1 ? L : (j) == 2 ? 2 * L : (j) == 3 ? L3 : (j) == 4 ? 4 * L : L5)
#define A_AT(i) ((const float *)(((i) < 6 ? pa : pb) + ROW_OFF((i) % 6)))
#define CROW(i) (c + (size_t)(i) * ldc)

/* Tile loops: panel16 / panel8 run n_tiles tiles of R rows down one panel, starting at row r0
 * of A (c points at that row's C), so a long row block pays the call and set-up once. */

/* One 16-wide panel, columns [0, cols) stored, 8 < cols <= 16, R <= 6 rows per tile. */
static inline __attribute__((always_inline)) void panel16(
    const size_t R, size_t r0, size_t n_tiles, size_t cols, size_t n_seg, size_t seg_len,
    const float *const *a_seg, size_t lda, const float *w0, const float *bias, float *c,
    size_t ldc, int accumulate, float act_min, float act_max) {
  const size_t L = lda * sizeof(float), L3 = 3 * L, L5 = 5 * L;
  const int full = cols == 16;
  for (size_t t = 0; t < n_tiles; t++, c += R * ldc) {
    const size_t a_off = (r0 + t * R) * L; /* bytes from each segment's row 0 */
    const __m256i m1 = tail_mask(cols - 8);
    __m256 bias0 = _mm256_setzero_ps(), bias1 = _mm256_setzero_ps();
    if (bias) {
      bias0 = _mm256_loadu_ps(bias);
      bias1 = full ? _mm256_loadu_ps(bias + 8) : _mm256_maskload_ps(bias + 8, m1);
    }
    /* With accumulate and no bias the accumulator starts as C itself (adding +0 would turn a
     * -0 into +0, and a chunked K must give the bits of one pass). */
#define INIT(i)                                                                           \
  __m256 acc##i##0 = bias0, acc##i##1 = bias1;                                            \
  if ((i) < R && accumulate) {                                                            \
    const __m256 c0 = _mm256_loadu_ps(CROW(i));                                           \
    const __m256 c1 = full ? _mm256_loadu_ps(CROW(i) + 8) : _mm256_maskload_ps(CROW(i) + 8, m1); \
    acc##i##0 = bias ? _mm256_add_ps(acc##i##0, c0) : c0;                                 \
    acc##i##1 = bias ? _mm256_add_ps(acc##i##1, c1) : c1;                                 \
  }
    REP6(INIT)
#undef INIT
    const float *w = w0;
    for (size_t s = 0; s < n_seg; s++) {
      if (!a_seg[s]) { /* a segment of zeros (padding) */
        w += 16 * seg_len;
        continue;
      }
      const char *pa = (const char *)a_seg[s] + a_off, *pb = pa;
      for (size_t kk = 0; kk < seg_len; kk++, pa += sizeof(float)) {
        const __m256 b0 = _mm256_loadu_ps(w), b1 = _mm256_loadu_ps(w + 8);
        w += 16;
#define STEP(i)                                           \
  if ((i) < R) {                                          \
    const __m256 va = _mm256_broadcast_ss(A_AT(i));       \
    acc##i##0 = _mm256_fmadd_ps(va, b0, acc##i##0);       \
    acc##i##1 = _mm256_fmadd_ps(va, b1, acc##i##1);       \
  }
        REP6(STEP)
#undef STEP
      }
      (void)pb;
    }
    /* max(vmin, x) and min(vmax, x) return x when x is NaN, as TFLite's clamp does. */
    const __m256 vmin = _mm256_set1_ps(act_min), vmax = _mm256_set1_ps(act_max);
    const __m256i m1s = tail_mask(cols - 8);
#define STORE(i)                                                          \
  if ((i) < R) {                                                          \
    _mm256_storeu_ps(CROW(i), _mm256_min_ps(vmax, _mm256_max_ps(vmin, acc##i##0))); \
    const __m256 hi_##i = _mm256_min_ps(vmax, _mm256_max_ps(vmin, acc##i##1));      \
    if (full)                                                             \
      _mm256_storeu_ps(CROW(i) + 8, hi_##i);                              \
    else                                                                  \
      _mm256_maskstore_ps(CROW(i) + 8, m1s, hi_##i);                       \
  }
    REP6(STORE)
#undef STORE
  }
}

/* One 8-wide panel (the last one, when at most 8 columns remain): columns [0, cols), R <= 12
 * rows per tile. */
static inline __attribute__((always_inline)) void panel8(
    const size_t R, size_t r0, size_t n_tiles, size_t cols, size_t n_seg, size_t seg_len,
    const float *const *a_seg, size_t lda, const float *w0, const float *bias, float *c,
    size_t ldc, int accumulate, float act_min, float act_max) {
  const size_t L = lda * sizeof(float), L3 = 3 * L, L5 = 5 * L;
  const int full = cols == 8;
  for (size_t t = 0; t < n_tiles; t++, c += R * ldc) {
    const size_t a_off = (r0 + t * R) * L;
    const __m256i m0 = tail_mask(cols);
    __m256 bias0 = _mm256_setzero_ps();
    if (bias) bias0 = full ? _mm256_loadu_ps(bias) : _mm256_maskload_ps(bias, m0);
#define INIT(i)                                                                         \
  __m256 acc##i = bias0;                                                                \
  if ((i) < R && accumulate) {                                                          \
    const __m256 c0 = full ? _mm256_loadu_ps(CROW(i)) : _mm256_maskload_ps(CROW(i), m0); \
    acc##i = bias ? _mm256_add_ps(acc##i, c0) : c0;                                     \
  }
    REP12(INIT)
#undef INIT
    const float *w = w0;
    for (size_t s = 0; s < n_seg; s++) {
      if (!a_seg[s]) {
        w += 8 * seg_len;
        continue;
      }
      const char *pa = (const char *)a_seg[s] + a_off, *pb = pa + 6 * L;
      for (size_t kk = 0; kk < seg_len; kk++, pa += sizeof(float), pb += sizeof(float)) {
        const __m256 b0 = _mm256_loadu_ps(w);
        w += 8;
#define STEP(i) \
  if ((i) < R) acc##i = _mm256_fmadd_ps(_mm256_broadcast_ss(A_AT(i)), b0, acc##i);
        REP12(STEP)
#undef STEP
      }
    }
    const __m256 vmin = _mm256_set1_ps(act_min), vmax = _mm256_set1_ps(act_max);
    const __m256i m0s = tail_mask(cols);
#define STORE(i)                                                      \
  if ((i) < R) {                                                      \
    acc##i = _mm256_min_ps(vmax, _mm256_max_ps(vmin, acc##i));        \
    if (full)                                                         \
      _mm256_storeu_ps(CROW(i), acc##i);                              \
    else                                                              \
      _mm256_maskstore_ps(CROW(i), m0s, acc##i);                       \
  }
    REP12(STORE)
#undef STORE
  }
}

/* Out-of-line instantiations per row count: each kk loop gets the registers to itself. */
#define DEFINE_PANEL(P, R)                                                                     \
  __attribute__((noinline)) static void P##_##R(                                              \
      size_t r0, size_t n_tiles, size_t cols, size_t n_seg, size_t seg_len,                   \
      const float *const *a_seg, size_t lda, const float *w, const float *bias, float *c,     \
      size_t ldc, int accumulate, float lo, float hi) {                                       \
    P(R, r0, n_tiles, cols, n_seg, seg_len, a_seg, lda, w, bias, c, ldc, accumulate, lo, hi);     \
  }
DEFINE_PANEL(panel16, 1)
DEFINE_PANEL(panel16, 2)
DEFINE_PANEL(panel16, 3)
DEFINE_PANEL(panel16, 4)
DEFINE_PANEL(panel16, 5)
DEFINE_PANEL(panel16, 6)
DEFINE_PANEL(panel8, 1)
DEFINE_PANEL(panel8, 2)
DEFINE_PANEL(panel8, 3)
DEFINE_PANEL(panel8, 4)
DEFINE_PANEL(panel8, 5)
DEFINE_PANEL(panel8, 6)
DEFINE_PANEL(panel8, 7)
DEFINE_PANEL(panel8, 8)
DEFINE_PANEL(panel8, 9)
DEFINE_PANEL(panel8, 10)
DEFINE_PANEL(panel8, 11)
DEFINE_PANEL(panel8, 12)

static panel_fn *const g_panel16[MR + 1] = {NULL,       panel16_1, panel16_2, panel16_3,
                                            panel16_4,  panel16_5, panel16_6};
static panel_fn *const g_panel8[MR_NARROW + 1] = {
    NULL,     panel8_1, panel8_2, panel8_3,  panel8_4,  panel8_5, panel8_6,
    panel8_7, panel8_8, panel8_9, panel8_10, panel8_11, panel8_12};

/* One row across P full 16-wide panels at once (2P accumulators). A single row (batch-1
 * FULLY_CONNECTED, a GEMV) in panel16 has only 2 dependent FMA chains, bound by the FMA
 * latency; here 2P chains run side by side. Each column gets exactly the operations of panel16
 * with R = 1, in the same order, so the results are the same bits. */
#define REPP(X) X(0) X(1) X(2) X(3) X(4) X(5)
static inline __attribute__((always_inline)) void wide16(
    const size_t P, size_t r0, size_t n_seg, size_t seg_len, const float *const *a_seg,
    size_t lda, const float *w0, size_t k, const float *bias, float *c, int accumulate,
    float act_min, float act_max) {
  const size_t pstride = 16 * k; /* floats between panels */
#define INIT(p)                                                                  \
  __m256 acc##p##0 = _mm256_setzero_ps(), acc##p##1 = _mm256_setzero_ps();       \
  if ((p) < P) {                                                                 \
    if (bias) {                                                                  \
      acc##p##0 = _mm256_loadu_ps(bias + 16 * (p));                              \
      acc##p##1 = _mm256_loadu_ps(bias + 16 * (p) + 8);                          \
    }                                                                            \
    if (accumulate) {                                                            \
      const __m256 c0 = _mm256_loadu_ps(c + 16 * (p)), c1 = _mm256_loadu_ps(c + 16 * (p) + 8); \
      acc##p##0 = bias ? _mm256_add_ps(acc##p##0, c0) : c0;                      \
      acc##p##1 = bias ? _mm256_add_ps(acc##p##1, c1) : c1;                      \
    }                                                                            \
  }
  REPP(INIT)
#undef INIT
  const float *w = w0;
  for (size_t s = 0; s < n_seg; s++) {
    if (!a_seg[s]) {
      w += 16 * seg_len;
      continue;
    }
    const float *a = a_seg[s] + r0 * lda;
    for (size_t kk = 0; kk < seg_len; kk++, w += 16) {
      const __m256 va = _mm256_broadcast_ss(a + kk);
#define STEP(p)                                                                      \
  if ((p) < P) {                                                                     \
    acc##p##0 = _mm256_fmadd_ps(va, _mm256_loadu_ps(w + (p) * pstride), acc##p##0);  \
    acc##p##1 = _mm256_fmadd_ps(va, _mm256_loadu_ps(w + (p) * pstride + 8), acc##p##1); \
  }
      REPP(STEP)
#undef STEP
    }
  }
  const __m256 vmin = _mm256_set1_ps(act_min), vmax = _mm256_set1_ps(act_max);
#define STORE(p)                                                                         \
  if ((p) < P) {                                                                         \
    _mm256_storeu_ps(c + 16 * (p), _mm256_min_ps(vmax, _mm256_max_ps(vmin, acc##p##0)));     \
    _mm256_storeu_ps(c + 16 * (p) + 8, _mm256_min_ps(vmax, _mm256_max_ps(vmin, acc##p##1))); \
  }
  REPP(STORE)
#undef STORE
}
#undef REPP

typedef void wide_fn(size_t r0, size_t n_seg, size_t seg_len, const float *const *a_seg,
                     size_t lda, const float *w, size_t k, const float *bias, float *c,
                     int accumulate, float act_min, float act_max);
#define DEFINE_WIDE(P)                                                                         \
  __attribute__((noinline)) static void wide16_##P(                                           \
      size_t r0, size_t n_seg, size_t seg_len, const float *const *a_seg, size_t lda,         \
      const float *w, size_t k, const float *bias, float *c, int accumulate, float lo,        \
      float hi) {                                                                             \
    wide16(P, r0, n_seg, seg_len, a_seg, lda, w, k, bias, c, accumulate, lo, hi);             \
  }
DEFINE_WIDE(2)
DEFINE_WIDE(3)
DEFINE_WIDE(4)
DEFINE_WIDE(5)
DEFINE_WIDE(6)
static wide_fn *const g_wide16[7] = {NULL, NULL, wide16_2, wide16_3, wide16_4, wide16_5, wide16_6};

/* Row r0 alone over nc >= 32 columns: full panels 2..6 at a time with wide16; returns the
 * columns done (a multiple of 16 that leaves fewer than 32). */
static size_t one_row_wide(size_t r0, size_t nc, size_t n_seg, size_t seg_len,
                           const float *const *a_seg, size_t lda, const float *packed_b,
                           const float *bias, float *c, int accumulate, float act_min,
                           float act_max) {
  const size_t k = n_seg * seg_len, full_panels = nc / 16;
  size_t p = 0;
  while (full_panels - p >= 2) {
    const size_t np = full_panels - p >= 6 ? 6 : full_panels - p;
    g_wide16[np](r0, n_seg, seg_len, a_seg, lda, packed_b + p * 16 * k, k,
                 bias ? bias + p * 16 : NULL, c + p * 16, accumulate, act_min, act_max);
    p += np;
  }
  return p * 16;
}

static void ukernel_seg(size_t rows, size_t nc, size_t n_seg, size_t seg_len,
                        const float *const *a_seg, size_t lda, const float *packed_b,
                        const float *bias, float *c, size_t ldc, int accumulate, float act_min,
                        float act_max) {
  if (rows == 0 || nc == 0) return;
  const size_t k = n_seg * seg_len;
  if (nc <= 16) { /* one panel: tiles of balanced heights, each height in one call */
    const size_t mr = nc <= 8 ? MR_NARROW : MR;
    panel_fn *const *table = nc <= 8 ? g_panel8 : g_panel16;
    tile_split(rows, mr, table, nc, n_seg, seg_len, a_seg, lda, packed_b, bias, c, ldc,
               accumulate, act_min, act_max);
    return;
  }
  /* Several panels: groups of tiles whose A and C rows take about L1 (32 KiB), each
   * group run down every panel in turn, so the call overhead is paid once per group and panel.
   * A last single row takes the wide path for its full panels. */
  const size_t row_bytes = ((lda > k ? lda : k) + nc) * sizeof(float);
  size_t group = MR * (32768 / (MR * row_bytes));
  if (group < MR) group = MR;
  for (size_t r0 = 0; r0 < rows; r0 += group) {
    const size_t grp = rows - r0 < group ? rows - r0 : group, full = grp / MR, rem = grp % MR;
    const size_t r_rem = r0 + full * MR;
    size_t rem_col = 0; /* columns of the remainder row already done by the wide path */
    if (rem == 1 && nc >= 32)
      rem_col = one_row_wide(r_rem, nc, n_seg, seg_len, a_seg, lda, packed_b, bias,
                             c + r_rem * ldc, accumulate, act_min, act_max);
    const float *w = packed_b;
    size_t col = 0;
    while (col < nc) {
      const size_t left = nc - col, cols = left > 8 ? (left >= 16 ? 16 : left) : left;
      panel_fn *const *table = left > 8 ? g_panel16 : g_panel8;
      const float *bc = bias ? bias + col : NULL;
      float *cc = c + r0 * ldc + col;
      if (full)
        table[MR](r0, full, cols, n_seg, seg_len, a_seg, lda, w, bc, cc, ldc, accumulate,
                  act_min, act_max);
      if (rem && col >= rem_col)
        table[rem](r_rem, 1, cols, n_seg, seg_len, a_seg, lda, w, bc, cc + full * MR * ldc, ldc,
                   accumulate, act_min, act_max);
      col += cols;
      w += 16 * k;
    }
  }
}

static void ukernel_6x16(size_t mr_rows, size_t nc, size_t k, const float *a, size_t lda,
                         const float *packed_b, const float *bias, float *c, size_t ldc,
                         int accumulate, float act_min, float act_max) {
  ukernel_seg(mr_rows, nc, 1, k, &a, lda, packed_b, bias, c, ldc, accumulate, act_min, act_max);
}

tc_f32_gemm_kernel tc_f32_gemm__avx2_6x16 = {"avx2_6x16", MR, 16, ukernel_6x16, ukernel_seg,
                                             MR_NARROW};

#elif defined(__x86_64__)
#error "gemm_f32_avx2.c must be compiled with -mavx2 -mfma (see the x86 block in CMakeLists.txt)"
#endif
