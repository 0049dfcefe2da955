/* gemm_f32_avx512.c: the AVX-512 float32 GEMM microkernel, an 8x32 register tile (16 zmm
 * accumulators, 2 zmm of B and 1 broadcast of A per kk step: 16 FMAs for 10 loads) with a
 * 16-wide path for a last panel of at most 16 columns; when the whole block is one such narrow
 * panel (layers with at most 16 output channels) the 16-wide path takes 16 rows (16
 * accumulators, so the FMA latency is hidden). Partial panels use masked loads and stores.
 * Contract and packed-B layout: kernels/gemm.h. As in the AVX2 kernel, the bodies read A as
 * segments (the implicit-GEMM form for direct convolution, tc_f32_gemm_seg_fn; the plain form
 * is one segment) and loop over tiles down a panel, so a row block of any length is one call;
 * each tile body is instantiated once per row count, so short products do not compute padding
 * rows, and one row over several full panels (batch-1 FULLY_CONNECTED) runs them side by side.
 * Compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma only; select.c runs it only
 * where cpuid and XCR0 allow AVX-512. tests/kernels/avx512_emu/run.sh checks it on machines
 * without AVX-512. */
#include "kernels/gemm.h"

#if defined(__x86_64__) && defined(__AVX512F__)
#include <immintrin.h>

#include "kernels/x86/gemm_f32_tiles.h"

#include "kernels/select.h"

#define MR 8
#define MR_NARROW 16
#define REP8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define REP16(X) REP8(X) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

/* lanes [0, r) on, r in 0..16 */
static inline __mmask16 tail_mask(size_t r) { return (__mmask16)((1u << r) - 1u); }

/* Row i of the current segment, in bytes from its row 0: rows 0..7 from pa, 8..15 from pb
 * (= pa + 8 rows), so that every address is base + {1, 2, 4} * L or base + L3 / L5 / L7 and
 * the loop needs a few registers for sixteen rows. Rows i >= R are compiled out (R is a
 * constant in each instantiation). */
#define ROW_OFF(j)                                                                          \
  ((j) == 0 ? 0 : (j) == 1 ? L : (j) == 2 ? 2 * L : (j) == 3 ? L3 : (j) == 4 ? 4 * L       \
   : (j) == 5 ? L5 : (j) == 6 ? 2 * L3 : L7)
#define A_AT(i) ((const float *)(((i) < 8 ? pa : pb) + ROW_OFF((i) % 8)))
#define CROW(i) (c + (size_t)(i) * ldc)

/* One 32-wide panel, columns [0, cols) stored, 16 < cols <= 32, R <= 8 rows per tile: n_tiles
 * tiles down the panel from row r0 of A (c points at that row's C). */
static inline __attribute__((always_inline)) void panel32(
    const size_t R, size_t r0, size_t n_tiles, size_t cols, size_t n_seg, size_t seg_len,
    const float *const *a_seg, size_t lda, const float *w0, const float *bias, float *c,
    size_t ldc, int accumulate, float act_min, float act_max) {
  const size_t L = lda * sizeof(float), L3 = 3 * L, L5 = 5 * L, L7 = 7 * L;
  const __mmask16 m1 = tail_mask(cols - 16);
  for (size_t t = 0; t < n_tiles; t++, c += R * ldc) {
    const size_t a_off = (r0 + t * R) * L; /* bytes from each segment's row 0 */
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
    const float *w = w0;
    for (size_t s = 0; s < n_seg; s++) {
      if (!a_seg[s]) { /* a segment of zeros (padding) */
        w += 32 * seg_len;
        continue;
      }
      const char *pa = (const char *)a_seg[s] + a_off, *pb = pa;
      for (size_t kk = 0; kk < seg_len; kk++, pa += sizeof(float)) {
        const __m512 b0 = _mm512_loadu_ps(w), b1 = _mm512_loadu_ps(w + 16);
        w += 32;
#define STEP(i)                                     \
  if ((i) < R) {                                    \
    const __m512 va = _mm512_set1_ps(*A_AT(i));     \
    acc##i##0 = _mm512_fmadd_ps(va, b0, acc##i##0); \
    acc##i##1 = _mm512_fmadd_ps(va, b1, acc##i##1); \
  }
        REP8(STEP)
#undef STEP
      }
      (void)pb;
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
}

/* One 16-wide panel (the last one, when at most 16 columns remain): columns [0, cols), R <= 16
 * rows per tile. */
static inline __attribute__((always_inline)) void panel16(
    const size_t R, size_t r0, size_t n_tiles, size_t cols, size_t n_seg, size_t seg_len,
    const float *const *a_seg, size_t lda, const float *w0, const float *bias, float *c,
    size_t ldc, int accumulate, float act_min, float act_max) {
  const size_t L = lda * sizeof(float), L3 = 3 * L, L5 = 5 * L, L7 = 7 * L;
  const __mmask16 m0 = tail_mask(cols);
  for (size_t t = 0; t < n_tiles; t++, c += R * ldc) {
    const size_t a_off = (r0 + t * R) * L;
    const __m512 bias0 = bias ? _mm512_maskz_loadu_ps(m0, bias) : _mm512_setzero_ps();
#define INIT(i)                                           \
  __m512 acc##i = bias0;                                  \
  if ((i) < R && accumulate) {                            \
    const __m512 c0 = _mm512_maskz_loadu_ps(m0, CROW(i)); \
    acc##i = bias ? _mm512_add_ps(acc##i, c0) : c0;       \
  }
    REP16(INIT)
#undef INIT
    const float *w = w0;
    for (size_t s = 0; s < n_seg; s++) {
      if (!a_seg[s]) {
        w += 16 * seg_len;
        continue;
      }
      const char *pa = (const char *)a_seg[s] + a_off, *pb = pa + 8 * L;
      for (size_t kk = 0; kk < seg_len; kk++, pa += sizeof(float), pb += sizeof(float)) {
        const __m512 b0 = _mm512_loadu_ps(w);
        w += 16;
#define STEP(i) \
  if ((i) < R) acc##i = _mm512_fmadd_ps(_mm512_set1_ps(*A_AT(i)), b0, acc##i);
        REP16(STEP)
#undef STEP
      }
    }
    const __m512 vmin = _mm512_set1_ps(act_min), vmax = _mm512_set1_ps(act_max);
#define STORE(i) \
  if ((i) < R)   \
    _mm512_mask_storeu_ps(CROW(i), m0, _mm512_min_ps(vmax, _mm512_max_ps(vmin, acc##i)));
    REP16(STORE)
#undef STORE
  }
}

/* Out-of-line instantiations per row count: each kk loop gets the registers to itself (inlined
 * into one function, gcc 12 ran short of general registers and spilled a B vector). */
#define DEFINE_PANEL(P, R)                                                                     \
  __attribute__((noinline)) static void P##_##R(                                              \
      size_t r0, size_t n_tiles, size_t cols, size_t n_seg, size_t seg_len,                   \
      const float *const *a_seg, size_t lda, const float *w, const float *bias, float *c,     \
      size_t ldc, int accumulate, float lo, float hi) {                                       \
    P(R, r0, n_tiles, cols, n_seg, seg_len, a_seg, lda, w, bias, c, ldc, accumulate, lo, hi); \
  }
DEFINE_PANEL(panel32, 1)
DEFINE_PANEL(panel32, 2)
DEFINE_PANEL(panel32, 3)
DEFINE_PANEL(panel32, 4)
DEFINE_PANEL(panel32, 5)
DEFINE_PANEL(panel32, 6)
DEFINE_PANEL(panel32, 7)
DEFINE_PANEL(panel32, 8)
DEFINE_PANEL(panel16, 1)
DEFINE_PANEL(panel16, 2)
DEFINE_PANEL(panel16, 3)
DEFINE_PANEL(panel16, 4)
DEFINE_PANEL(panel16, 5)
DEFINE_PANEL(panel16, 6)
DEFINE_PANEL(panel16, 7)
DEFINE_PANEL(panel16, 8)
DEFINE_PANEL(panel16, 9)
DEFINE_PANEL(panel16, 10)
DEFINE_PANEL(panel16, 11)
DEFINE_PANEL(panel16, 12)
DEFINE_PANEL(panel16, 13)
DEFINE_PANEL(panel16, 14)
DEFINE_PANEL(panel16, 15)
DEFINE_PANEL(panel16, 16)

static panel_fn *const g_panel32[MR + 1] = {NULL,      panel32_1, panel32_2, panel32_3, panel32_4,
                                            panel32_5, panel32_6, panel32_7, panel32_8};
static panel_fn *const g_panel16[MR_NARROW + 1] = {
    NULL,      panel16_1,  panel16_2,  panel16_3,  panel16_4,  panel16_5,
    panel16_6, panel16_7,  panel16_8,  panel16_9,  panel16_10, panel16_11,
    panel16_12, panel16_13, panel16_14, panel16_15, panel16_16};

/* One row across P full 32-wide panels at once (2P accumulators). A single row (batch-1
 * FULLY_CONNECTED, a GEMV) in panel32 has only 2 dependent FMA chains, bound by the FMA
 * latency; here 2P chains run side by side. Each column gets exactly the operations of panel32
 * with R = 1, in the same order, so the results are the same bits. */
#define REPP(X) X(0) X(1) X(2) X(3) X(4) X(5)
static inline __attribute__((always_inline)) void wide32(
    const size_t P, size_t r0, size_t n_seg, size_t seg_len, const float *const *a_seg,
    size_t lda, const float *w0, size_t k, const float *bias, float *c, int accumulate,
    float act_min, float act_max) {
  const size_t pstride = 32 * k; /* floats between panels */
#define INIT(p)                                                                  \
  __m512 acc##p##0 = _mm512_setzero_ps(), acc##p##1 = _mm512_setzero_ps();       \
  if ((p) < P) {                                                                 \
    if (bias) {                                                                  \
      acc##p##0 = _mm512_loadu_ps(bias + 32 * (p));                              \
      acc##p##1 = _mm512_loadu_ps(bias + 32 * (p) + 16);                         \
    }                                                                            \
    if (accumulate) {                                                            \
      const __m512 c0 = _mm512_loadu_ps(c + 32 * (p));                           \
      const __m512 c1 = _mm512_loadu_ps(c + 32 * (p) + 16);                      \
      acc##p##0 = bias ? _mm512_add_ps(acc##p##0, c0) : c0;                      \
      acc##p##1 = bias ? _mm512_add_ps(acc##p##1, c1) : c1;                      \
    }                                                                            \
  }
  REPP(INIT)
#undef INIT
  const float *w = w0;
  for (size_t s = 0; s < n_seg; s++) {
    if (!a_seg[s]) {
      w += 32 * seg_len;
      continue;
    }
    const float *a = a_seg[s] + r0 * lda;
    for (size_t kk = 0; kk < seg_len; kk++, w += 32) {
      const __m512 va = _mm512_set1_ps(a[kk]);
#define STEP(p)                                                                       \
  if ((p) < P) {                                                                      \
    acc##p##0 = _mm512_fmadd_ps(va, _mm512_loadu_ps(w + (p) * pstride), acc##p##0);   \
    acc##p##1 = _mm512_fmadd_ps(va, _mm512_loadu_ps(w + (p) * pstride + 16), acc##p##1); \
  }
      REPP(STEP)
#undef STEP
    }
  }
  const __m512 vmin = _mm512_set1_ps(act_min), vmax = _mm512_set1_ps(act_max);
#define STORE(p)                                                                           \
  if ((p) < P) {                                                                           \
    _mm512_storeu_ps(c + 32 * (p), _mm512_min_ps(vmax, _mm512_max_ps(vmin, acc##p##0)));      \
    _mm512_storeu_ps(c + 32 * (p) + 16, _mm512_min_ps(vmax, _mm512_max_ps(vmin, acc##p##1))); \
  }
  REPP(STORE)
#undef STORE
}
#undef REPP

typedef void wide_fn(size_t r0, size_t n_seg, size_t seg_len, const float *const *a_seg,
                     size_t lda, const float *w, size_t k, const float *bias, float *c,
                     int accumulate, float act_min, float act_max);
#define DEFINE_WIDE(P)                                                                 \
  __attribute__((noinline)) static void wide32_##P(                                   \
      size_t r0, size_t n_seg, size_t seg_len, const float *const *a_seg, size_t lda, \
      const float *w, size_t k, const float *bias, float *c, int accumulate, float lo, \
      float hi) {                                                                     \
    wide32(P, r0, n_seg, seg_len, a_seg, lda, w, k, bias, c, accumulate, lo, hi);     \
  }
DEFINE_WIDE(2)
DEFINE_WIDE(3)
DEFINE_WIDE(4)
DEFINE_WIDE(5)
DEFINE_WIDE(6)
static wide_fn *const g_wide32[7] = {NULL, NULL, wide32_2, wide32_3, wide32_4, wide32_5, wide32_6};

/* Row r0 alone over nc >= 64 columns: full panels 2..6 at a time with wide32; returns the
 * columns done (a multiple of 32 that leaves fewer than 64). */
static size_t one_row_wide(size_t r0, size_t nc, size_t n_seg, size_t seg_len,
                           const float *const *a_seg, size_t lda, const float *packed_b,
                           const float *bias, float *c, int accumulate, float act_min,
                           float act_max) {
  const size_t k = n_seg * seg_len, full_panels = nc / 32;
  size_t p = 0;
  while (full_panels - p >= 2) {
    const size_t np = full_panels - p >= 6 ? 6 : full_panels - p;
    g_wide32[np](r0, n_seg, seg_len, a_seg, lda, packed_b + p * 32 * k, k,
                 bias ? bias + p * 32 : NULL, c + p * 32, accumulate, act_min, act_max);
    p += np;
  }
  return p * 32;
}

static void ukernel_seg(size_t rows, size_t nc, size_t n_seg, size_t seg_len,
                        const float *const *a_seg, size_t lda, const float *packed_b,
                        const float *bias, float *c, size_t ldc, int accumulate, float act_min,
                        float act_max) {
  if (rows == 0 || nc == 0) return;
  const size_t k = n_seg * seg_len;
  if (nc <= 32) { /* one panel: tiles of balanced heights, each height in one call */
    const size_t mr = nc <= 16 ? MR_NARROW : MR;
    panel_fn *const *table = nc <= 16 ? g_panel16 : g_panel32;
    tile_split(rows, mr, table, nc, n_seg, seg_len, a_seg, lda, packed_b, bias, c, ldc,
               accumulate, act_min, act_max);
    return;
  }
  /* Several panels: groups of tiles whose A and C rows take about 32 KiB (L1), each group run
   * down every panel in turn, so the call overhead is paid once per group and panel. A last
   * single row takes the wide path for its full panels. */
  const size_t row_bytes = ((lda > k ? lda : k) + nc) * sizeof(float);
  size_t group = MR * (32768 / (MR * row_bytes));
  if (group < MR) group = MR;
  for (size_t r0 = 0; r0 < rows; r0 += group) {
    const size_t grp = rows - r0 < group ? rows - r0 : group, full = grp / MR, rem = grp % MR;
    const size_t r_rem = r0 + full * MR;
    size_t rem_col = 0; /* columns of the remainder row already done by the wide path */
    if (rem == 1 && nc >= 64)
      rem_col = one_row_wide(r_rem, nc, n_seg, seg_len, a_seg, lda, packed_b, bias,
                             c + r_rem * ldc, accumulate, act_min, act_max);
    const float *w = packed_b;
    size_t col = 0;
    while (col < nc) {
      const size_t left = nc - col, cols = left >= 32 ? 32 : left;
      panel_fn *const *table = left > 16 ? g_panel32 : g_panel16;
      const float *bc = bias ? bias + col : NULL;
      float *cc = c + r0 * ldc + col;
      if (full)
        table[MR](r0, full, cols, n_seg, seg_len, a_seg, lda, w, bc, cc, ldc, accumulate,
                  act_min, act_max);
      if (rem && col >= rem_col)
        table[rem](r_rem, 1, cols, n_seg, seg_len, a_seg, lda, w, bc, cc + full * MR * ldc, ldc,
                   accumulate, act_min, act_max);
      col += cols;
      w += 32 * k;
    }
  }
}

static void ukernel_8x32(size_t mr_rows, size_t nc, size_t k, const float *a, size_t lda,
                         const float *packed_b, const float *bias, float *c, size_t ldc,
                         int accumulate, float act_min, float act_max) {
  ukernel_seg(mr_rows, nc, 1, k, &a, lda, packed_b, bias, c, ldc, accumulate, act_min, act_max);
}

/* Layers of at most 8 output channels (MobileNet's 3-channel stems, 224x224x3 -> 8) run the
 * AVX2 kernel's 8-wide panel, whose 12-row tile wastes no lanes: here half of each zmm would be
 * padding, for the same broadcasts per row. */
tc_f32_gemm_kernel tc_f32_gemm__avx512_8x32 = {"avx512_8x32", MR, 32, ukernel_8x32, ukernel_seg,
                                               MR_NARROW, 8, &tc_f32_gemm__avx2_6x16};

#elif defined(__x86_64__)
#error "gemm_f32_avx512.c must be compiled with -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma"
#endif
