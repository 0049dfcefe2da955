/* qgemm_dp4_impl.h: the body of the 4x16 ymm 8-bit GEMM microkernels on byte groups (qgemm.h
 * kgroup 4), included by the file of each instruction set after it defines
 *   DP4(acc, a, b)  acc + the 4 products of the uint8 bytes of a and the int8 bytes of b per
 *                   int32 lane (vpdpbusd, or an AVX2 sequence),
 *   DP4_FIX         1 if DP4 saturates pair sums to int16 (the kernel is pair_sat): each panel's
 *                   corrections (tc_qgemm_cols.fix) are added after the K loop; else 0.
 * It defines dp4_pack_a, dp4_run and dp4_run_view (static). A uint8 in byte groups (int8
 * inputs read as x + 128, the bias carrying -128 * sum_k w'), B int8 w' - a_sum_mult, each
 * row's accumulators starting at bias + a_sum_mult * (sum of its A bytes); the output stage is
 * the AVX2 kernel's (q8_avx2.h: 8-column requantization, four rows packed to bytes at once), so
 * results are bit-exact with the reference kernels. dp4_run_view (not with DP4_FIX) reads the
 * rows in place instead (qgemm.h run_view: a byte view with int8 inputs flipped) and sums them
 * itself.
 * Packed A (kernel-private): strips of 4 rows, tc_qgemm_strip_bytes(4, kp) apart; in a strip,
 * row r's kp words at byte r * (kp + ROW_PAD) * 4 (each segment zero-padded to a multiple of 4
 * bytes), then the 4 row sums. Include only from files compiled with -mavx2 -mfma. */
#ifndef TC_KERNELS_X86_QGEMM_DP4_IMPL_H
#define TC_KERNELS_X86_QGEMM_DP4_IMPL_H

#include <immintrin.h>
#include <string.h>

#include "kernels/qgemm.h"
#include "kernels/x86/q8_avx2.h"

#define MR 4
#define NR 16
#define ROW_PAD 8 /* words after each packed row: the last group's spill of a 32-byte store */

/* ---- packing A ------------------------------------------------------------------------------ */

/* One strip of up to MR rows: each segment's bytes (xor 0x80 for int8) zero-padded to a
 * multiple of 4, 32 bytes at a time (a partial last block read with fixed-size loads only, so
 * nothing past a segment is read; its zero bytes spill into the next segment's place, which is
 * written after it, or into the row padding). Missing rows: sum 0, bytes unspecified. */
static void pack_strip(size_t rows, size_t n_seg, size_t seg_len, const void *const *src,
                       int flags, uint8_t *dst, size_t row_bytes) {
  const __m256i flip = _mm256_set1_epi8((flags & TC_QGEMM_A_U8) ? 0 : (char)0x80);
  const size_t seg_pad = (seg_len + 3) / 4 * 4;
  int32_t *sums = (int32_t *)(dst + MR * row_bytes);
  for (size_t r = 0; r < MR; r++) {
    if (r >= rows) {
      sums[r] = 0;
      continue;
    }
    __m256i acc = _mm256_setzero_si256(); /* 4 x 64-bit partial sums (vpsadbw) */
    uint8_t *d = dst + r * row_bytes;
    for (size_t sg = 0; sg < n_seg; sg++, d += seg_pad) {
      const uint8_t *s = src[r * n_seg + sg];
      size_t kk = 0;
      for (; kk + 32 <= seg_len; kk += 32) {
        const __m256i v = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(s + kk)), flip);
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(v, _mm256_setzero_si256()));
        _mm256_storeu_si256((__m256i *)(d + kk), v);
      }
      if (kk < seg_len) { /* 1..31 bytes: flipped, zeros past the segment */
        const size_t n = seg_len - kk;
        /* over-readable rows: whole 16-byte loads (the bytes past n are masked off below) */
        const int over = (flags & TC_QGEMM_A_OVERREAD) != 0;
        const __m128i lo = n >= 16 || over ? _mm_loadu_si128((const __m128i *)(s + kk))
                                           : tc__q8_load_part(s + kk, n);
        const __m128i hi = n <= 16  ? _mm_setzero_si128()
                           : over   ? _mm_loadu_si128((const __m128i *)(s + kk + 16))
                                    : tc__q8_load_part(s + kk + 16, n - 16);
        const __m256i flipped = _mm256_xor_si256(_mm256_set_m128i(hi, lo), flip);
        /* keep bytes [0, n): the flip must not turn the zeros past the segment into 0x80 */
        const __m256i idx = _mm256_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                             16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
                                             29, 30, 31);
        const __m256i keep = _mm256_cmpgt_epi8(_mm256_set1_epi8((char)n), idx);
        const __m256i v = _mm256_and_si256(flipped, keep);
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(v, _mm256_setzero_si256()));
        _mm256_storeu_si256((__m256i *)(d + kk), v);
      }
    }
    const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    sums[r] = (int32_t)(uint32_t)((uint64_t)_mm_cvtsi128_si64(s2) +
                                  (uint64_t)_mm_extract_epi64(s2, 1));
  }
}

static size_t row_bytes_of(size_t kp) { return (kp + ROW_PAD) * 4; }

/* Any number of rows (qgemm.h `multi`): strips of MR rows, packed one after another. */
static void dp4_pack_a(size_t rows, size_t n_seg, size_t seg_len, const void *const *src,
                        int flags, int16_t *dst) {
  const size_t kp = n_seg * ((seg_len + 3) / 4), strip = tc_qgemm_strip_bytes(MR, kp);
  uint8_t *d = (uint8_t *)dst;
  for (size_t r = 0; r < rows; r += MR, src += MR * n_seg, d += strip)
    pack_strip(rows - r < MR ? rows - r : MR, n_seg, seg_len, src, flags, d, row_bytes_of(kp));
}

/* ---- the tile ------------------------------------------------------------------------------- */

#define REP4(X) X(0) X(1) X(2) X(3)

/* Where the strip's rows of A groups are: row i's group g of segment sg is the 32-bit word at
 * byte r[i] + sg * seg_step + 4 g (packed A: one segment of kp groups, rows row_bytes apart;
 * rows in place: the segments of a byte view of the input, qgemm.h run_view), and each row's
 * a_sum_mult * (sum of its A bytes), wrapping. */
typedef struct arows {
  const uint8_t *r[MR];
  size_t n_seg, kp_seg, seg_step;
  int32_t tv[MR];
} arows;

/* One panel: 16 wide (W16) or 8 wide, rows [0, R) of the strip, `cols` columns stored. */
static inline __attribute__((always_inline)) void panel(const size_t R, const int W16,
                                                        size_t cols, const arows *ar,
                                                        const int32_t *pb,
                                                        const tc_qgemm_cols *q, size_t j,
                                                        char *c, size_t ldc) {
  const __m256i bias0 = _mm256_loadu_si256((const __m256i *)(q->bias + j));
  const __m256i bias1 = W16 ? _mm256_loadu_si256((const __m256i *)(q->bias + j + 8)) : bias0;
  const size_t kp_seg = ar->kp_seg, seg_step = ar->seg_step;
#define INIT(i)                                                                        \
  const uint8_t *a##i = ar->r[(i) < R ? (i) : 0];                                     \
  const __m256i t##i = _mm256_set1_epi32(ar->tv[(i) < R ? (i) : 0]);                 \
  __m256i acc##i##0 = _mm256_add_epi32(bias0, t##i), acc##i##1 = _mm256_add_epi32(bias1, t##i);
  REP4(INIT)
#undef INIT
  for (size_t sg = 0; sg < ar->n_seg; sg++) {
#pragma GCC unroll 2
    for (size_t g = 0; g < kp_seg; g++) {
      const __m256i w0 = _mm256_loadu_si256((const __m256i *)pb);
      const __m256i w1 = W16 ? _mm256_loadu_si256((const __m256i *)pb + 1) : w0;
      pb += W16 ? 16 : 8;
#define STEP(i)                                                           \
  if ((i) < R) {                                                          \
    const __m256i av = _mm256_set1_epi32(tc__q8_load32(a##i + 4 * g));   \
    acc##i##0 = DP4(acc##i##0, av, w0);                                   \
    if (W16) acc##i##1 = DP4(acc##i##1, av, w1);                          \
  }
      REP4(STEP)
#undef STEP
    }
#define ADV(i) a##i += seg_step;
    REP4(ADV)
#undef ADV
  }
#if DP4_FIX
  /* the corrections of this panel (qgemm.h pair_sat): delta times one A byte (its offset in a
   * packed row: pair_sat kernels have no run_view), in one lane */
  const int32_t *fa = q->fix_at + j / NR;
  for (int32_t e = fa[0]; e < fa[1]; e++) {
    const tc_qgemm_fix *f = &q->fix[e];
    const __m256i lane = _mm256_set1_epi32(f->lane), delta = _mm256_set1_epi32(f->delta);
    const __m256i d0 = _mm256_and_si256(
        _mm256_cmpeq_epi32(lane, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)), delta);
    const __m256i d1 = _mm256_and_si256(
        _mm256_cmpeq_epi32(lane, _mm256_setr_epi32(8, 9, 10, 11, 12, 13, 14, 15)), delta);
#define FIX(i)                                                                      \
  if ((i) < R) {                                                                    \
    const __m256i av = _mm256_set1_epi32(ar->r[i][f->off]);                         \
    acc##i##0 = _mm256_add_epi32(acc##i##0, _mm256_mullo_epi32(av, d0));            \
    if (W16) acc##i##1 = _mm256_add_epi32(acc##i##1, _mm256_mullo_epi32(av, d1));   \
  }
    REP4(FIX)
#undef FIX
  }
#endif
  const __m256i zp = _mm256_set1_epi32(q->out_zp);
#define GROUP(g)                                                                          \
  tc__q8_requant_store_4x8(R, acc0##g, acc1##g, acc2##g, acc3##g, q, j + 8 * (g), zp, c, ldc,   \
                           (g) ? cols - 8 : (cols < 8 ? cols : 8));
  GROUP(0)
  if (W16) GROUP(1)
#undef GROUP
}

/* Rows [0, R) of one strip, all panels of the nc columns. */
static inline __attribute__((always_inline)) void run_strip(const size_t R, size_t nc,
                                                            const arows *ar, const int32_t *pb,
                                                            const tc_qgemm_cols *q, char *c,
                                                            size_t ldc) {
  const size_t kp = ar->n_seg * ar->kp_seg;
  for (size_t j = 0; j < nc; j += NR) {
    const size_t cols = nc - j < NR ? nc - j : NR;
    if (cols > NR / 2) {
      panel(R, 1, cols, ar, pb, q, j, c, ldc);
      pb += NR * kp;
    } else {
      panel(R, 0, cols, ar, pb, q, j, c, ldc);
      pb += NR / 2 * kp;
    }
  }
}

/* Strips of MR rows one after the other, then a last one of 1-3 rows; fill(ar, i, n) sets the
 * row pointers and sums of rows i .. i + n - 1 (rows past n: row i's pointer, sum 0). */
#define DP4_RUN_ROWS(rows, nc, ar, fill, pb, q, cv, ldc)                                  \
  do {                                                                                   \
    char *c_ = (cv);                                                                     \
    size_t i_ = 0;                                                                       \
    for (; i_ + MR <= (rows); i_ += MR, c_ += MR * (ldc)) {                              \
      fill(&(ar), i_, MR);                                                               \
      run_strip(4, nc, &(ar), pb, q, c_, ldc);                                           \
    }                                                                                    \
    if (i_ < (rows)) fill(&(ar), i_, (rows) - i_);                                       \
    switch ((rows) - i_) {                                                               \
    case 1: run_strip(1, nc, &(ar), pb, q, c_, ldc); break;                              \
    case 2: run_strip(2, nc, &(ar), pb, q, c_, ldc); break;                              \
    case 3: run_strip(3, nc, &(ar), pb, q, c_, ldc); break;                              \
    default: break;                                                                      \
    }                                                                                    \
  } while (0)

/* Packed A: strip s at pa + s * strip bytes, row r of it row_bytes on, its sums after MR rows. */
typedef struct packed_src {
  const uint8_t *pa;
  size_t strip, row_bytes;
  uint32_t asm_;
} packed_src;

static inline __attribute__((always_inline)) void fill_packed(arows *ar, const packed_src *ps,
                                                              size_t i, size_t n) {
  const uint8_t *s = ps->pa + i / MR * ps->strip;
  const int32_t *sums = (const int32_t *)(const void *)(s + MR * ps->row_bytes);
  for (size_t r = 0; r < MR; r++) {
    ar->r[r] = s + (r < n ? r : 0) * ps->row_bytes;
    ar->tv[r] = r < n ? (int32_t)(ps->asm_ * (uint32_t)sums[r]) : 0;
  }
}

/* All strips; q: the caller's local copy (TC__Q8_RUN_FLAGS). */
static inline __attribute__((always_inline)) void run_q(size_t rows, size_t nc, size_t kp,
                                                        const int16_t *pa, const int16_t *pb16,
                                                        const tc_qgemm_cols *q, void *cv,
                                                        size_t ldc) {
  const int32_t *pb = (const int32_t *)pb16;
  const packed_src ps = {(const uint8_t *)pa, tc_qgemm_strip_bytes(MR, kp), row_bytes_of(kp),
                         (uint32_t)q->a_sum_mult};
  arows ar;
  ar.n_seg = 1;
  ar.kp_seg = kp;
  ar.seg_step = 0;
#define FILL(arp, i, n) fill_packed(arp, &ps, i, n)
  DP4_RUN_ROWS(rows, nc, ar, FILL, pb, q, cv, ldc);
#undef FILL
}

/* run_q on a local copy of the output stage, its plain / out_u8 flags as constants. */
static __attribute__((noinline)) void dp4_run(size_t rows, size_t nc, size_t kp,
                                               const int16_t *pa, const int16_t *pb16,
                                               const tc_qgemm_cols *qp, void *cv, size_t ldc) {
  TC__Q8_RUN_FLAGS(qp, qm, run_q(rows, nc, kp, pa, pb16, &qm, cv, ldc));
}

/* ---- rows in place (qgemm.h run_view) -------------------------------------------------------- */

/* Not for pair_sat kernels (DP4_FIX): avx2ub_4x16 measured no faster in place on MobileNetV2
 * (its 1x1 layers of many columns amortise the packing; Zen 4, docs/kernels.md). */
#if !DP4_FIX

/* The sum of a row's bytes in place (n_seg segments of seg_len bytes, seg_step apart): whole
 * 32-byte blocks, then the last 1..31 bytes read exactly. */
static inline int32_t view_row_sum(const uint8_t *r, size_t n_seg, size_t seg_len,
                                   size_t seg_step) {
  __m256i acc = _mm256_setzero_si256();
  for (size_t sg = 0; sg < n_seg; sg++, r += seg_step) {
    size_t kk = 0;
    for (; kk + 32 <= seg_len; kk += 32)
      acc = _mm256_add_epi64(acc, _mm256_sad_epu8(_mm256_loadu_si256((const __m256i *)(r + kk)),
                                                  _mm256_setzero_si256()));
    if (kk < seg_len) {
      const size_t n = seg_len - kk;
      const __m128i lo = n >= 16 ? _mm_loadu_si128((const __m128i *)(r + kk))
                                 : tc__q8_load_part(r + kk, n);
      const __m128i hi = n > 16 ? tc__q8_load_part(r + kk + 16, n - 16) : _mm_setzero_si128();
      acc = _mm256_add_epi64(acc, _mm256_sad_epu8(_mm256_set_m128i(hi, lo),
                                                  _mm256_setzero_si256()));
    }
  }
  const __m128i s2 = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
  return (int32_t)(uint32_t)((uint64_t)_mm_cvtsi128_si64(s2) + (uint64_t)_mm_extract_epi64(s2, 1));
}

typedef struct view_src {
  const void *const *rp;
  size_t n_seg, seg_len, seg_step;
  uint32_t asm_;
} view_src;

static inline __attribute__((always_inline)) void fill_view(arows *ar, const view_src *vs,
                                                            size_t i, size_t n) {
  for (size_t r = 0; r < MR; r++) {
    ar->r[r] = (const uint8_t *)vs->rp[i + (r < n ? r : 0)];
    ar->tv[r] = r < n && vs->asm_ ? (int32_t)(vs->asm_ * (uint32_t)view_row_sum(
                                                           ar->r[r], vs->n_seg, vs->seg_len,
                                                           vs->seg_step))
                                  : 0;
  }
}

static inline __attribute__((always_inline)) void run_v(size_t rows, size_t nc, size_t n_seg,
                                                        size_t seg_len, const void *const *a,
                                                        size_t seg_step, const int16_t *pb16,
                                                        const tc_qgemm_cols *q, void *cv,
                                                        size_t ldc) {
  const int32_t *pb = (const int32_t *)pb16;
  const view_src vs = {a, n_seg, seg_len, seg_step,
                       (uint32_t)q->a_sum_mult};
  arows ar;
  ar.n_seg = n_seg;
  ar.kp_seg = (seg_len + 3) / 4;
  ar.seg_step = seg_step;
#define FILL(arp, i, n) fill_view(arp, &vs, i, n)
  DP4_RUN_ROWS(rows, nc, ar, FILL, pb, q, cv, ldc);
#undef FILL
}

/* Rows in place in a byte view (qgemm.h run_view), as dp4_run. */
static __attribute__((noinline)) void dp4_run_view(size_t rows, size_t nc, size_t n_seg,
                                                    size_t seg_len, const void *const *a,
                                                    size_t seg_step, const int16_t *pb16,
                                                    const tc_qgemm_cols *qp, void *cv,
                                                    size_t ldc) {
  TC__Q8_RUN_FLAGS(qp, qm, run_v(rows, nc, n_seg, seg_len, a, seg_step, pb16, &qm, cv, ldc));
}
#endif

#endif /* TC_KERNELS_X86_QGEMM_DP4_IMPL_H */
