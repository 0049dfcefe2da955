/* s8_qgemm_avx2.c: the AVX2 8-bit GEMM microkernel of qgemm.h, a 4x16 tile of int32
 * accumulators (8 ymm). Operands are int16 pairs (A widened by pack_a into row-major pairs, or
 * read in place from an int16 image by run_view; B at pack time), so each k pair is one
 * vpmaddwd per 8 outputs: int16 x int16 products summed in pairs into int32, which cannot
 * saturate for 8-bit data (|w'| <= 383, |x| <= 255), then vpaddd (wrapping, as the
 * reference's int32 accumulator). bench_isa measured this core: vpmaddwd + vpaddd issue at ~1.5
 * pairs per clock, and this tile's inner loop runs at ~95 % of that in L1; a vpmaddubsw form
 * with the sign trick for int8 was only ~8 % faster there, and uint8 weights do not fit it.
 * The store requantizes 8 columns at a time with tc_q_mul's double rounding written in 64-bit
 * lanes (vpmuldq) and the per-column mask / threshold precomputed at pack time, adds the output
 * zero point (wrapping), then packs four rows of 8 columns to bytes at once: the saturating
 * packs are the clamp to the output type, and a narrower activation range is applied to the
 * packed bytes. Bit-exact with the scalar code. Compiled with -mavx2 -mfma. */
#include "kernels/qgemm.h"

#if defined(__x86_64__) && defined(__AVX2__)
#include <immintrin.h>
#include <string.h>

#include "kernels/qwino.h"
#include "kernels/x86/q8_avx2.h"

#define MR 4
#define NR 16

/* ---- packing A ------------------------------------------------------------------------------ */

/* Packed A, this kernel's own layout: row r's kp int32 pairs at word r * (kp + ROW_PAD)
 * (row-major, so packing is a widening copy; the tile broadcasts from four row pointers; the
 * padding takes the spill of a row's last tail). */
#define ROW_PAD 8
static void pack_strip(size_t rows, size_t n_seg, size_t seg_len, const void *const *src,
                       int flags, int16_t *dst) {
  static const uint8_t ones_then_zeros[32] = {255, 255, 255, 255, 255, 255, 255, 255,
                                              255, 255, 255, 255, 255, 255, 255, 255};
  const int is_u8 = flags & TC_QGEMM_A_U8, overread = flags & TC_QGEMM_A_OVERREAD;
  const size_t rem = seg_len % 16, kp_seg = (seg_len + 1) / 2;
  const size_t rs = (n_seg * kp_seg + ROW_PAD) * 2; /* int16 per packed row */
  /* the first rem bytes of a 16-byte load (tails with over-readable memory) */
  const __m128i keep = _mm_loadu_si128((const __m128i *)(ones_then_zeros + 16 - rem));
  /* Segments in order, 16 bytes of the four rows loaded before they are stored; a tail's
   * 16 stored values past its segment are overwritten by the next segment or fall in the row
   * padding (past the last row: the pack slack). Missing rows get copies of row 0. */
  for (size_t sg = 0; sg < n_seg; sg++) {
    const uint8_t *s0 = src[sg], *s1 = rows > 1 ? src[n_seg + sg] : s0;
    const uint8_t *s2 = rows > 2 ? src[2 * n_seg + sg] : s0;
    const uint8_t *s3 = rows > 3 ? src[3 * n_seg + sg] : s0;
    int16_t *d = dst + sg * kp_seg * 2;
    size_t kk = 0;
    for (; kk + 16 <= seg_len; kk += 16) {
      const __m128i v0 = _mm_loadu_si128((const __m128i *)(s0 + kk));
      const __m128i v1 = _mm_loadu_si128((const __m128i *)(s1 + kk));
      const __m128i v2 = _mm_loadu_si128((const __m128i *)(s2 + kk));
      const __m128i v3 = _mm_loadu_si128((const __m128i *)(s3 + kk));
      _mm256_storeu_si256((__m256i *)(d + kk), tc__q8_widen(v0, is_u8));
      _mm256_storeu_si256((__m256i *)(d + rs + kk), tc__q8_widen(v1, is_u8));
      _mm256_storeu_si256((__m256i *)(d + 2 * rs + kk), tc__q8_widen(v2, is_u8));
      _mm256_storeu_si256((__m256i *)(d + 3 * rs + kk), tc__q8_widen(v3, is_u8));
    }
    if (rem) {
      __m128i v0, v1, v2, v3;
      if (overread) {
        v0 = _mm_and_si128(_mm_loadu_si128((const __m128i *)(s0 + kk)), keep);
        v1 = _mm_and_si128(_mm_loadu_si128((const __m128i *)(s1 + kk)), keep);
        v2 = _mm_and_si128(_mm_loadu_si128((const __m128i *)(s2 + kk)), keep);
        v3 = _mm_and_si128(_mm_loadu_si128((const __m128i *)(s3 + kk)), keep);
      } else {
        v0 = tc__q8_load_part(s0 + kk, rem);
        v1 = tc__q8_load_part(s1 + kk, rem);
        v2 = tc__q8_load_part(s2 + kk, rem);
        v3 = tc__q8_load_part(s3 + kk, rem);
      }
      _mm256_storeu_si256((__m256i *)(d + kk), tc__q8_widen(v0, is_u8));
      _mm256_storeu_si256((__m256i *)(d + rs + kk), tc__q8_widen(v1, is_u8));
      _mm256_storeu_si256((__m256i *)(d + 2 * rs + kk), tc__q8_widen(v2, is_u8));
      _mm256_storeu_si256((__m256i *)(d + 3 * rs + kk), tc__q8_widen(v3, is_u8));
    }
  }
}

/* ---- the tile ------------------------------------------------------------------------------- */

#define REP4(X) X(0) X(1) X(2) X(3)

/* Where the tile's four rows of A pairs are: row i's pair q of segment sg is the int32 word at
 * byte r[i] + sg * seg_step + 4 q (packed A: one segment of kp pairs; rows in place: the
 * segments of an int16 image). */
typedef struct arows {
  const char *r[MR];
  size_t n_seg, kp_seg, seg_step;
} arows;

/* One panel: 16 wide (W16) or 8 wide, rows [0, R), `cols` columns stored. */
static inline __attribute__((always_inline)) void panel(const size_t R, const int W16,
                                                        size_t cols, const arows *a,
                                                        const int16_t *pb,
                                                        const tc_qgemm_cols *q, size_t j,
                                                        char *c, size_t ldc) {
  const __m256i bias0 = _mm256_loadu_si256((const __m256i *)(q->bias + j));
  const __m256i bias1 = W16 ? _mm256_loadu_si256((const __m256i *)(q->bias + j + 8)) : bias0;
#define INIT(i) __m256i acc##i##0 = bias0, acc##i##1 = bias1;
  REP4(INIT)
#undef INIT
  /* rows past R are never read (their pointers are unused) */
  const char *a0 = a->r[0], *a1 = R > 1 ? a->r[1] : a0, *a2 = R > 2 ? a->r[2] : a0;
  const char *a3 = R > 3 ? a->r[3] : a0;
  const size_t kp_seg = a->kp_seg, seg_step = a->seg_step;
  for (size_t sg = 0; sg < a->n_seg; sg++) {
#pragma GCC unroll 2
    for (size_t p = 0; p < kp_seg; p++) {
      const __m256i w0 = _mm256_loadu_si256((const __m256i *)pb);
      const __m256i w1 = W16 ? _mm256_loadu_si256((const __m256i *)pb + 1) : w0;
      pb += W16 ? 32 : 16;
#define STEP(i)                                                                   \
  if ((i) < R) {                                                                  \
    const __m256i av = _mm256_set1_epi32(tc__q8_load32(a##i + 4 * p));                   \
    acc##i##0 = _mm256_add_epi32(acc##i##0, _mm256_madd_epi16(av, w0));           \
    if (W16) acc##i##1 = _mm256_add_epi32(acc##i##1, _mm256_madd_epi16(av, w1));  \
  }
      REP4(STEP)
#undef STEP
    }
    a0 += seg_step;
    a1 += seg_step;
    a2 += seg_step;
    a3 += seg_step;
  }
  /* Each group of 8 columns requantized for the R rows and stored as 4 x 8 bytes: the group's
   * per-column constants stay in registers across the rows (measured 1.03-1.2x the 2 x 16 row
   * pairs on small K). */
  const __m256i zp = _mm256_set1_epi32(q->out_zp);
#define GROUP(g)                                                                          \
  tc__q8_requant_store_4x8(R, acc0##g, acc1##g, acc2##g, acc3##g, q, j + 8 * (g), zp, c, ldc,   \
                           (g) ? cols - 8 : (cols < 8 ? cols : 8));
  GROUP(0)
  if (W16) GROUP(1)
#undef GROUP
}

/* Rows [0, R) of A at a, all panels of the nc columns. */
static inline __attribute__((always_inline)) void run_rows(const size_t R, size_t nc,
                                                           const arows *a, const int16_t *pb,
                                                           const tc_qgemm_cols *q, char *c,
                                                           size_t ldc) {
  const size_t kp = a->n_seg * a->kp_seg;
  for (size_t j = 0; j < nc; j += NR) {
    const size_t cols = nc - j < NR ? nc - j : NR;
    if (cols > NR / 2) {
      panel(R, 1, cols, a, pb, q, j, c, ldc);
      pb += NR * 2 * kp;
    } else {
      panel(R, 0, cols, a, pb, q, j, c, ldc);
      pb += NR / 2 * 2 * kp;
    }
  }
}

/* Full strips of 4 rows one after the other (rows4: their count), then a last strip of 1-3
 * rows; row i of A at rp[i] (in place) or at pa + i * row_words * 4 bytes (packed); q: the
 * caller's local copy of the output stage (TC__Q8_RUN_FLAGS). */
static inline __attribute__((always_inline)) void run_all(size_t rows, size_t nc,
                                                          const void *const *rp, const char *pa,
                                                          size_t row_bytes, size_t strip_bytes,
                                                          size_t n_seg, size_t kp_seg,
                                                          size_t seg_step, const int16_t *pb,
                                                          const tc_qgemm_cols *q, char *c,
                                                          size_t ldc) {
  arows a;
  a.n_seg = n_seg;
  a.kp_seg = kp_seg;
  a.seg_step = seg_step;
  size_t i = 0;
  for (; i + MR <= rows; i += MR, c += MR * ldc, pa = rp ? pa : pa + strip_bytes) {
    for (size_t r = 0; r < MR; r++) a.r[r] = rp ? (const char *)rp[i + r] : pa + r * row_bytes;
    run_rows(4, nc, &a, pb, q, c, ldc);
  }
  if (i == rows) return;
  for (size_t r = 0; r < MR; r++)
    a.r[r] = rp ? (const char *)rp[i + (i + r < rows ? r : 0)] : pa + r * row_bytes;
  switch (rows - i) {
  case 1: run_rows(1, nc, &a, pb, q, c, ldc); break;
  case 2: run_rows(2, nc, &a, pb, q, c, ldc); break;
  case 3: run_rows(3, nc, &a, pb, q, c, ldc); break;
  default: break;
  }
}

/* Any number of rows (qgemm.h `multi`): strips of 4, packed one after another. */
static void avx2_pack_a(size_t rows, size_t n_seg, size_t seg_len, const void *const *src,
                        int flags, int16_t *dst) {
  const size_t strip = tc_qgemm_strip_bytes(MR, n_seg * ((seg_len + 1) / 2)) / 2;
  for (size_t r = 0; r < rows; r += MR, src += MR * n_seg, dst += strip)
    pack_strip(rows - r < MR ? rows - r : MR, n_seg, seg_len, src, flags, dst);
}

static __attribute__((noinline)) void avx2_run(size_t rows, size_t nc, size_t kp,
                                               const int16_t *pa, const int16_t *pb,
                                               const tc_qgemm_cols *q, void *c, size_t ldc) {
  TC__Q8_RUN_FLAGS(q, qm,
                   run_all(rows, nc, NULL, (const char *)pa, (kp + ROW_PAD) * 4,
                           tc_qgemm_strip_bytes(MR, kp), 1, kp, 0, pb, &qm, c, ldc));
}

/* Rows in place in an int16 view (qgemm.h run_view): seg_step in int16 elements. */
static __attribute__((noinline)) void avx2_run_view(size_t rows, size_t nc, size_t n_seg,
                                                    size_t seg_len, const void *const *a,
                                                    size_t seg_step, const int16_t *pb,
                                                    const tc_qgemm_cols *q, void *c, size_t ldc) {
  TC__Q8_RUN_FLAGS(q, qm,
                   run_all(rows, nc, a, NULL, 0, 0, n_seg, (seg_len + 1) / 2,
                           seg_step * 2, pb, &qm, c, ldc));
}

/* ---- one row on byte weights (gemv) ------------------------------------------------------- */

/* 16 (W16) or 8 columns of one row: per pair, the panel's bytes widened to int16 (one load and
 * widen per 8 columns) and one vpmaddwd with the broadcast pair. */
static inline __attribute__((always_inline)) void gemv_panel(const int W16, const int w_u8,
                                                             size_t cols, size_t kp,
                                                             const int32_t *a, __m256i add,
                                                             const int8_t *pb,
                                                             const tc_qgemm_cols *q, size_t j,
                                                             char *c) {
  __m256i acc0 = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(q->bias + j)), add);
  __m256i acc1 = W16 ? _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(q->bias + j + 8)), add)
                     : acc0;
  __m256i acc2 = _mm256_setzero_si256(), acc3 = acc2; /* odd pairs: two chains more */
  size_t p = 0;
#define MADD(acc, av, w) \
  acc = _mm256_add_epi32(acc, _mm256_madd_epi16(av, tc__q8_widen(_mm_loadu_si128(w), w_u8)))
  for (; p + 2 <= kp; p += 2, pb += W16 ? 64 : 32) {
    const __m256i av0 = _mm256_set1_epi32(a[p]), av1 = _mm256_set1_epi32(a[p + 1]);
    const __m128i *w = (const __m128i *)pb;
    MADD(acc0, av0, w);
    if (W16) {
      MADD(acc1, av0, w + 1);
      MADD(acc2, av1, w + 2);
      MADD(acc3, av1, w + 3);
    } else {
      MADD(acc2, av1, w + 1);
    }
  }
  if (p < kp) {
    const __m256i av0 = _mm256_set1_epi32(a[p]);
    const __m128i *w = (const __m128i *)pb;
    MADD(acc0, av0, w);
    if (W16) MADD(acc1, av0, w + 1);
  }
#undef MADD
  acc0 = _mm256_add_epi32(acc0, acc2);
  const __m256i zp = _mm256_set1_epi32(q->out_zp);
  const __m256i r0 = tc__q8_requant8(acc0, q, j, zp);
  if (W16) {
    const __m256i r1 = tc__q8_requant8(_mm256_add_epi32(acc1, acc3), q, j + 8, zp);
    tc__q8_store_2x16(r0, r1, r0, r1, q, c + j, NULL, cols);
  } else {
    tc__q8_store_4x8(r0, r0, r0, r0, q, c + j, NULL, NULL, NULL, cols);
  }
}

static inline __attribute__((always_inline)) void gemv_cols(const int w_u8, size_t nc, size_t kp,
                                                            const int32_t *a, int32_t row_add,
                                                            const int8_t *pb,
                                                            const tc_qgemm_cols *qp, void *c) {
  const tc_qgemm_cols qc = *qp, *q = &qc; /* not aliased by the byte stores (see run_rows) */
  const __m256i add = _mm256_set1_epi32(row_add);
  for (size_t j = 0; j < nc; j += NR) {
    const size_t cols = nc - j < NR ? nc - j : NR;
    if (cols > NR / 2) {
      gemv_panel(1, w_u8, cols, kp, a, add, pb, q, j, c);
      pb += NR * 2 * kp;
    } else {
      gemv_panel(0, w_u8, cols, kp, a, add, pb, q, j, c);
      pb += NR / 2 * 2 * kp;
    }
  }
}

static __attribute__((noinline)) void gemv_s8(size_t nc, size_t kp, const int32_t *a,
                                              int32_t row_add, const int8_t *pb,
                                              const tc_qgemm_cols *q, void *c) {
  gemv_cols(0, nc, kp, a, row_add, pb, q, c);
}
static __attribute__((noinline)) void gemv_u8(size_t nc, size_t kp, const int32_t *a,
                                              int32_t row_add, const int8_t *pb,
                                              const tc_qgemm_cols *q, void *c) {
  gemv_cols(1, nc, kp, a, row_add, pb, q, c);
}

static void avx2_gemv(size_t nc, size_t kp, const int32_t *a, int32_t row_add, const int8_t *pb,
                      int w_u8, const tc_qgemm_cols *q, void *c) {
  if (w_u8)
    gemv_u8(nc, kp, a, row_add, pb, q, c);
  else
    gemv_s8(nc, kp, a, row_add, pb, q, c);
}

const struct tc_s8_qgemm_ukernel tc_s8_qgemm__avx2_4x16 = {
    "avx2_4x16", MR, NR, avx2_pack_a, avx2_run, 2, avx2_gemv, tc__s8_qwino_avx2, 1, avx2_run_view};
#endif
