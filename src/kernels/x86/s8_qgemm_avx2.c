/* s8_qgemm_avx2.c: the AVX2 8-bit GEMM microkernel of qgemm.h, a 4x16 tile of int32
 * accumulators (8 ymm). Operands are int16 pairs (A widened by pack_a into row-major pairs, B
 * at pack time), so each k pair is one vpmaddwd per 8 outputs: int16 x int16 products summed
 * in pairs into int32,
 * which cannot saturate for 8-bit data (|w'| <= 383, |x| <= 255), then vpaddd (wrapping, as the
 * reference's int32 accumulator). bench_isa measured this core: vpmaddwd + vpaddd issue at ~1.5
 * pairs per clock, and this tile's inner loop runs at ~95 % of that in L1; a vpmaddubsw form
 * with the sign trick for int8 was only ~8 % faster there, and uint8 weights do not fit it.
 * The store requantizes 8 columns at a time with tc_q_mul's double rounding written in 64-bit
 * lanes (vpmuldq) and the per-column mask / threshold precomputed at pack time, adds the output
 * zero point (wrapping), then packs two rows (16 columns) or four rows (8 columns) to bytes at
 * once: the saturating packs are the clamp to the output type, and a narrower activation range
 * is applied to the packed bytes. Bit-exact with the scalar code. Compiled with -mavx2 -mfma. */
#include "kernels/qgemm.h"

#if defined(__x86_64__) && defined(__AVX2__)
#include <immintrin.h>
#include <string.h>

#define MR 4
#define NR 16

/* ---- packing A ------------------------------------------------------------------------------ */

static inline __m256i widen(__m128i v, int is_u8) {
  return is_u8 ? _mm256_cvtepu8_epi16(v) : _mm256_cvtepi8_epi16(v);
}

/* n (0..7) bytes at p, zero-extended, with fixed-size loads only (never past p + n). */
static inline uint64_t load_small(const uint8_t *p, size_t n) {
  uint64_t v = 0;
  size_t o = 0;
  if (n & 4) {
    uint32_t t;
    memcpy(&t, p, 4);
    v = t;
    o = 4;
  }
  if (n & 2) {
    uint16_t t;
    memcpy(&t, p + o, 2);
    v |= (uint64_t)t << (8 * o);
    o += 2;
  }
  if (n & 1) v |= (uint64_t)p[o] << (8 * o);
  return v;
}

/* n (1..15) bytes at p in the low bytes of a vector, zeros above. */
static inline __m128i load_part(const uint8_t *p, size_t n) {
  uint64_t lo, hi = 0;
  if (n >= 8) {
    memcpy(&lo, p, 8);
    hi = load_small(p + 8, n - 8);
  } else {
    lo = load_small(p, n);
  }
  return _mm_set_epi64x((long long)hi, (long long)lo);
}

/* Packed A, this kernel's own layout: row r's kp int32 pairs at word r * kp (row-major, so
 * packing is a widening copy; the tile broadcasts from four row pointers). */
static void avx2_pack_a(size_t rows, size_t n_seg, size_t seg_len, const void *const *src,
                        int flags, int16_t *dst) {
  static const uint8_t ones_then_zeros[32] = {255, 255, 255, 255, 255, 255, 255, 255,
                                              255, 255, 255, 255, 255, 255, 255, 255};
  const int is_u8 = flags & TC_QGEMM_A_U8, overread = flags & TC_QGEMM_A_OVERREAD;
  const size_t rem = seg_len % 16, kp_seg = (seg_len + 1) / 2;
  /* the first rem bytes of a 16-byte load (tails with over-readable memory) */
  const __m128i keep = _mm_loadu_si128((const __m128i *)(ones_then_zeros + 16 - rem));
  /* Rows in order: a tail's 16 stored values past its segment are overwritten by the next
   * segment or row, the last row's fall in the pack slack. Missing rows are not written. */
  for (size_t r = 0; r < rows; r++) {
    int16_t *d = dst + r * n_seg * kp_seg * 2;
    for (size_t sg = 0; sg < n_seg; sg++, d += kp_seg * 2) {
      const uint8_t *s = src[r * n_seg + sg];
      size_t kk = 0;
      for (; kk + 16 <= seg_len; kk += 16)
        _mm256_storeu_si256((__m256i *)(d + kk),
                            widen(_mm_loadu_si128((const __m128i *)(s + kk)), is_u8));
      if (rem) {
        const __m128i v = overread ? _mm_and_si128(_mm_loadu_si128((const __m128i *)(s + kk)), keep)
                                   : load_part(s + kk, rem);
        _mm256_storeu_si256((__m256i *)(d + kk), widen(v, is_u8));
      }
    }
  }
}

/* ---- the output stage ----------------------------------------------------------------------- */

/* tc_q_mul_double(x, mult, shift) + out_zp (wrapping) on the 8 columns j .. j+7 (see qmath.h):
 * the doubling high multiply with its nudge is floor((x * m + 2^30) / 2^31) for every product
 * (the two nudge cases of the scalar code meet in that formula), computed in 64-bit lanes, the
 * odd lanes' multipliers read one column further on; then the rounding divide by 2^rshift with
 * the precomputed mask and threshold. m >= 0, so the INT32_MIN * INT32_MIN case cannot occur. */
static inline __m256i requant8(__m256i x, const tc_qgemm_cols *q, size_t j, __m256i zp) {
  if (q->plain) { /* qgemm.h: the rounding divide folded into the product's rounding */
    const __m256i m = _mm256_loadu_si256((const __m256i *)(q->mult + j));
    const __m256i m_odd = _mm256_loadu_si256((const __m256i *)(q->mult + j + 1));
    __m256i even = _mm256_mul_epi32(x, m);
    __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), m_odd);
    even = _mm256_srli_epi64(
        _mm256_add_epi64(even, _mm256_loadu_si256((const __m256i *)(q->rconst + j))), 31);
    odd = _mm256_slli_epi64(
        _mm256_add_epi64(odd, _mm256_loadu_si256((const __m256i *)(q->rconst + j + 4))), 1);
    const __m256i s = _mm256_add_epi32(_mm256_blend_epi32(even, odd, 0xAA), _mm256_srai_epi32(x, 31));
    return _mm256_add_epi32(
        _mm256_srav_epi32(s, _mm256_loadu_si256((const __m256i *)(q->rshift + j))), zp);
  }
  if (q->any_lshift) x = _mm256_sllv_epi32(x, _mm256_loadu_si256((const __m256i *)(q->lshift + j)));
  const __m256i m = _mm256_loadu_si256((const __m256i *)(q->mult + j));
  const __m256i m_odd = _mm256_loadu_si256((const __m256i *)(q->mult + j + 1));
  const __m256i nudge = _mm256_set1_epi64x((long long)1 << 30);
  __m256i even = _mm256_mul_epi32(x, m);
  __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), m_odd);
  even = _mm256_srli_epi64(_mm256_add_epi64(even, nudge), 31);
  odd = _mm256_slli_epi64(_mm256_add_epi64(odd, nudge), 1);
  const __m256i s = _mm256_blend_epi32(even, odd, 0xAA);
  const __m256i rem = _mm256_and_si256(s, _mm256_loadu_si256((const __m256i *)(q->rmask + j)));
  const __m256i thr = _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(q->rhalf + j)),
                                       _mm256_srli_epi32(s, 31));
  const __m256i r =
      _mm256_sub_epi32(_mm256_srav_epi32(s, _mm256_loadu_si256((const __m256i *)(q->rshift + j))),
                       _mm256_cmpgt_epi32(rem, thr));
  return _mm256_add_epi32(r, zp);
}

/* int16 -> bytes with the output type's saturation, then the activation range if narrower. */
static inline __m256i pack_bytes(__m256i a, __m256i b, const tc_qgemm_cols *q) {
  if (q->out_u8) {
    __m256i v = _mm256_packus_epi16(a, b);
    if (q->clamp)
      v = _mm256_min_epu8(_mm256_max_epu8(v, _mm256_set1_epi8((char)q->act_min)),
                          _mm256_set1_epi8((char)q->act_max));
    return v;
  }
  __m256i v = _mm256_packs_epi16(a, b);
  if (q->clamp)
    v = _mm256_min_epi8(_mm256_max_epi8(v, _mm256_set1_epi8((char)q->act_min)),
                        _mm256_set1_epi8((char)q->act_max));
  return v;
}

/* Two rows of 16 columns (requantized int32: a0 = row a cols 0-7, a1 = cols 8-15): bytes of
 * row a to ca, row b to cb (cb NULL: not stored), `cols` (1..16) columns each. */
static inline void store_2x16(__m256i a0, __m256i a1, __m256i b0, __m256i b1,
                              const tc_qgemm_cols *q, char *ca, char *cb, size_t cols) {
  /* packs work per 128-bit lane: after the two packs, lane 0 holds a0-3 a8-11 b0-3 b8-11 and
   * lane 1 a4-7 a12-15 b4-7 b12-15 (4-byte groups); the dword permute restores the order. */
  const __m256i v = pack_bytes(_mm256_packs_epi32(a0, a1), _mm256_packs_epi32(b0, b1), q);
  const __m256i o = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  if (cols >= 16) {
    _mm_storeu_si128((__m128i *)ca, _mm256_castsi256_si128(o));
    if (cb) _mm_storeu_si128((__m128i *)cb, _mm256_extracti128_si256(o, 1));
  } else {
    char t[32];
    _mm256_storeu_si256((__m256i *)t, o);
    memcpy(ca, t, cols);
    if (cb) memcpy(cb, t + 16, cols);
  }
}

/* Four rows of 8 columns: v_r = row r; c_r NULL: not stored. */
static inline void store_4x8(__m256i v0, __m256i v1, __m256i v2, __m256i v3,
                             const tc_qgemm_cols *q, char *c0, char *c1, char *c2, char *c3,
                             size_t cols) {
  /* lane 0: r0 0-3, r1 0-3, r2 0-3, r3 0-3; lane 1: the same for columns 4-7 */
  const __m256i v = pack_bytes(_mm256_packs_epi32(v0, v1), _mm256_packs_epi32(v2, v3), q);
  const __m256i o = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  if (cols >= 8) {
    const __m128i lo = _mm256_castsi256_si128(o), hi = _mm256_extracti128_si256(o, 1);
    _mm_storel_epi64((__m128i *)c0, lo);
    if (c1) _mm_storeh_pd((double *)c1, _mm_castsi128_pd(lo));
    if (c2) _mm_storel_epi64((__m128i *)c2, hi);
    if (c3) _mm_storeh_pd((double *)c3, _mm_castsi128_pd(hi));
    return;
  }
  char t[32];
  _mm256_storeu_si256((__m256i *)t, o);
  memcpy(c0, t, cols);
  if (c1) memcpy(c1, t + 8, cols);
  if (c2) memcpy(c2, t + 16, cols);
  if (c3) memcpy(c3, t + 24, cols);
}

/* ---- the tile ------------------------------------------------------------------------------- */

#define REP4(X) X(0) X(1) X(2) X(3)

/* One panel: 16 wide (W16) or 8 wide, rows [0, R), `cols` columns stored. */
static inline __attribute__((always_inline)) void panel(const size_t R, const int W16,
                                                        size_t cols, size_t kp,
                                                        const int16_t *pa, const int16_t *pb,
                                                        const tc_qgemm_cols *q, size_t j,
                                                        char *c, size_t ldc) {
  const __m256i bias0 = _mm256_loadu_si256((const __m256i *)(q->bias + j));
  const __m256i bias1 = W16 ? _mm256_loadu_si256((const __m256i *)(q->bias + j + 8)) : bias0;
#define INIT(i) __m256i acc##i##0 = bias0, acc##i##1 = bias1;
  REP4(INIT)
#undef INIT
  /* rows past R are never read (their pointers are unused) */
  const int32_t *a0 = (const int32_t *)pa, *a1 = a0 + kp, *a2 = a1 + kp, *a3 = a2 + kp;
  for (size_t p = 0; p < kp; p++) {
    const __m256i w0 = _mm256_loadu_si256((const __m256i *)pb);
    const __m256i w1 = W16 ? _mm256_loadu_si256((const __m256i *)pb + 1) : w0;
    pb += W16 ? 32 : 16;
#define STEP(i)                                                                   \
  if ((i) < R) {                                                                  \
    const __m256i av = _mm256_set1_epi32(a##i[p]);                                \
    acc##i##0 = _mm256_add_epi32(acc##i##0, _mm256_madd_epi16(av, w0));           \
    if (W16) acc##i##1 = _mm256_add_epi32(acc##i##1, _mm256_madd_epi16(av, w1));  \
  }
    REP4(STEP)
#undef STEP
  }
  const __m256i zp = _mm256_set1_epi32(q->out_zp);
  if (W16) {
    /* rows in pairs; an odd last row is paired with itself and stored once */
    store_2x16(requant8(acc00, q, j, zp), requant8(acc01, q, j + 8, zp),
               R > 1 ? requant8(acc10, q, j, zp) : acc00, R > 1 ? requant8(acc11, q, j + 8, zp) : acc01,
               q, c + j, R > 1 ? c + ldc + j : NULL, cols);
    if (R > 2)
      store_2x16(requant8(acc20, q, j, zp), requant8(acc21, q, j + 8, zp),
                 R > 3 ? requant8(acc30, q, j, zp) : acc20,
                 R > 3 ? requant8(acc31, q, j + 8, zp) : acc21, q, c + 2 * ldc + j,
                 R > 3 ? c + 3 * ldc + j : NULL, cols);
  } else {
    const __m256i r0 = requant8(acc00, q, j, zp);
    store_4x8(r0, R > 1 ? requant8(acc10, q, j, zp) : r0, R > 2 ? requant8(acc20, q, j, zp) : r0,
              R > 3 ? requant8(acc30, q, j, zp) : r0, q, c + j, R > 1 ? c + ldc + j : NULL,
              R > 2 ? c + 2 * ldc + j : NULL, R > 3 ? c + 3 * ldc + j : NULL, cols);
  }
}

static inline __attribute__((always_inline)) void run_rows(const size_t R, size_t nc, size_t kp,
                                                           const int16_t *pa, const int16_t *pb,
                                                           const tc_qgemm_cols *qp, void *c,
                                                           size_t ldc) {
  /* A local copy: the byte stores below may alias anything, this copy cannot be aliased, so its
   * pointers and flags stay in registers. */
  const tc_qgemm_cols qc = *qp, *q = &qc;
  for (size_t j = 0; j < nc; j += NR) {
    const size_t cols = nc - j < NR ? nc - j : NR;
    if (cols > NR / 2) {
      panel(R, 1, cols, kp, pa, pb, q, j, c, ldc);
      pb += NR * 2 * kp;
    } else {
      panel(R, 0, cols, kp, pa, pb, q, j, c, ldc);
      pb += NR / 2 * 2 * kp;
    }
  }
}

#define ROWS_FN(R)                                                                            \
  static __attribute__((noinline)) void run##R(size_t nc, size_t kp, const int16_t *pa,       \
                                               const int16_t *pb, const tc_qgemm_cols *q,     \
                                               void *c, size_t ldc) {                         \
    run_rows(R, nc, kp, pa, pb, q, c, ldc);                                                   \
  }
ROWS_FN(1)
ROWS_FN(2)
ROWS_FN(3)
ROWS_FN(4)

static void avx2_run(size_t rows, size_t nc, size_t kp, const int16_t *pa, const int16_t *pb,
                     const tc_qgemm_cols *q, void *c, size_t ldc) {
  switch (rows) {
  case 1: run1(nc, kp, pa, pb, q, c, ldc); break;
  case 2: run2(nc, kp, pa, pb, q, c, ldc); break;
  case 3: run3(nc, kp, pa, pb, q, c, ldc); break;
  default: run4(nc, kp, pa, pb, q, c, ldc); break;
  }
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
  for (; p + 2 <= kp; p += 2, pb += W16 ? 64 : 32) {
    const __m256i av0 = _mm256_set1_epi32(a[p]), av1 = _mm256_set1_epi32(a[p + 1]);
    const __m128i *w = (const __m128i *)pb;
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(av0, widen(_mm_loadu_si128(w), w_u8)));
    if (W16) {
      acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(av0, widen(_mm_loadu_si128(w + 1), w_u8)));
      acc2 = _mm256_add_epi32(acc2, _mm256_madd_epi16(av1, widen(_mm_loadu_si128(w + 2), w_u8)));
      acc3 = _mm256_add_epi32(acc3, _mm256_madd_epi16(av1, widen(_mm_loadu_si128(w + 3), w_u8)));
    } else {
      acc2 = _mm256_add_epi32(acc2, _mm256_madd_epi16(av1, widen(_mm_loadu_si128(w + 1), w_u8)));
    }
  }
  if (p < kp) {
    const __m256i av0 = _mm256_set1_epi32(a[p]);
    const __m128i *w = (const __m128i *)pb;
    acc0 = _mm256_add_epi32(acc0, _mm256_madd_epi16(av0, widen(_mm_loadu_si128(w), w_u8)));
    if (W16)
      acc1 = _mm256_add_epi32(acc1, _mm256_madd_epi16(av0, widen(_mm_loadu_si128(w + 1), w_u8)));
  }
  acc0 = _mm256_add_epi32(acc0, acc2);
  const __m256i zp = _mm256_set1_epi32(q->out_zp);
  const __m256i r0 = requant8(acc0, q, j, zp);
  if (W16) {
    const __m256i r1 = requant8(_mm256_add_epi32(acc1, acc3), q, j + 8, zp);
    store_2x16(r0, r1, r0, r1, q, c + j, NULL, cols);
  } else {
    store_4x8(r0, r0, r0, r0, q, c + j, NULL, NULL, NULL, cols);
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

const struct tc_s8_qgemm_ukernel tc_s8_qgemm__avx2_4x16 = {"avx2_4x16", MR, NR, avx2_pack_a,
                                                           avx2_run, 2, avx2_gemv};
#endif
