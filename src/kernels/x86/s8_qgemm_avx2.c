/* s8_qgemm_avx2.c: the AVX2 8-bit GEMM microkernel of qgemm.h, a 4x16 tile of int32
 * accumulators (8 ymm). Operands are int16 pairs (A widened by pack_a, B at pack time), so each
 * kk pair is one vpmaddwd per 8 outputs: int16 x int16 products summed in pairs into int32,
 * which cannot saturate for 8-bit data (|w'| <= 383, |x| <= 255), then vpaddd (wrapping, as the
 * reference's int32 accumulator). The store requantizes 8 columns at a time with tc_q_mul's
 * double rounding written in 64-bit lanes (vpmuldq), adds the output zero point, clamps and
 * packs to int8/uint8: bit-exact with the scalar code. Compiled with -mavx2 -mfma only. */
#include "kernels/qgemm.h"

#if defined(__x86_64__) && defined(__AVX2__)
#include <immintrin.h>
#include <string.h>

#define MR 4
#define NR 16

/* 4 ymm of 8 int32 pairs (one per row) -> 8 kp x 4 rows, 4 ymm in kp order. */
static inline void transpose_store(__m256i r0, __m256i r1, __m256i r2, __m256i r3, int16_t *dst) {
  const __m256i t0 = _mm256_unpacklo_epi32(r0, r1), t1 = _mm256_unpackhi_epi32(r0, r1);
  const __m256i t2 = _mm256_unpacklo_epi32(r2, r3), t3 = _mm256_unpackhi_epi32(r2, r3);
  const __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);
  const __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);
  _mm256_storeu_si256((__m256i *)dst, _mm256_permute2x128_si256(u0, u1, 0x20));
  _mm256_storeu_si256((__m256i *)dst + 1, _mm256_permute2x128_si256(u2, u3, 0x20));
  _mm256_storeu_si256((__m256i *)dst + 2, _mm256_permute2x128_si256(u0, u1, 0x31));
  _mm256_storeu_si256((__m256i *)dst + 3, _mm256_permute2x128_si256(u2, u3, 0x31));
}

static inline __m256i widen(__m128i v, int is_u8) {
  return is_u8 ? _mm256_cvtepu8_epi16(v) : _mm256_cvtepi8_epi16(v);
}

static void avx2_pack_a(size_t rows, size_t k, const void *const *src, int is_u8, int16_t *dst) {
  const uint8_t *s0 = src[0], *s1 = rows > 1 ? src[1] : s0, *s2 = rows > 2 ? src[2] : s0,
                *s3 = rows > 3 ? src[3] : s0;
  size_t kk = 0;
  for (; kk + 16 <= k; kk += 16) {
    transpose_store(widen(_mm_loadu_si128((const __m128i *)(s0 + kk)), is_u8),
                    widen(_mm_loadu_si128((const __m128i *)(s1 + kk)), is_u8),
                    widen(_mm_loadu_si128((const __m128i *)(s2 + kk)), is_u8),
                    widen(_mm_loadu_si128((const __m128i *)(s3 + kk)), is_u8), dst);
    dst += 8 * MR * 2;
  }
  if (kk < k) { /* tail: zero-padded copies of the last < 16 bytes */
    const size_t rem = k - kk, kp = (rem + 1) / 2;
    uint8_t t[4][16];
    int16_t out[8 * MR * 2];
    memset(t, 0, sizeof t);
    memcpy(t[0], s0 + kk, rem);
    memcpy(t[1], s1 + kk, rem);
    memcpy(t[2], s2 + kk, rem);
    memcpy(t[3], s3 + kk, rem);
    /* bytes past k are 0 in t; widened they stay 0 for uint8 and int8 alike */
    transpose_store(widen(_mm_loadu_si128((const __m128i *)t[0]), is_u8),
                    widen(_mm_loadu_si128((const __m128i *)t[1]), is_u8),
                    widen(_mm_loadu_si128((const __m128i *)t[2]), is_u8),
                    widen(_mm_loadu_si128((const __m128i *)t[3]), is_u8), out);
    memcpy(dst, out, kp * MR * 2 * sizeof(int16_t));
  }
}

/* tc_q_mul_double(x, mult, shift) + zp, clamped, on 8 lanes (see qmath.h): the doubling high
 * multiply with its nudge is floor((x * m + 2^30) / 2^31) for every product (the two nudge
 * cases of the scalar code meet in that formula), computed in 64-bit lanes. */
static inline __m256i requant8(__m256i x, const tc_qgemm_cols *q, size_t j) {
  const __m256i mult = _mm256_loadu_si256((const __m256i *)(q->mult + j));
  const __m256i lsh = _mm256_loadu_si256((const __m256i *)(q->lshift + j));
  const __m256i rsh = _mm256_loadu_si256((const __m256i *)(q->rshift + j));
  const __m256i nudge = _mm256_set1_epi64x((long long)1 << 30), one = _mm256_set1_epi32(1);
  x = _mm256_sllv_epi32(x, lsh);
  __m256i even = _mm256_mul_epi32(x, mult);
  __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), _mm256_srli_epi64(mult, 32));
  even = _mm256_srli_epi64(_mm256_add_epi64(even, nudge), 31);
  odd = _mm256_slli_epi64(_mm256_add_epi64(odd, nudge), 1);
  const __m256i s = _mm256_blend_epi32(even, odd, 0xAA);
  const __m256i mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, rsh), one);
  const __m256i rem = _mm256_and_si256(s, mask);
  const __m256i thr = _mm256_add_epi32(_mm256_srai_epi32(mask, 1), _mm256_srli_epi32(s, 31));
  __m256i r = _mm256_sub_epi32(_mm256_srav_epi32(s, rsh), _mm256_cmpgt_epi32(rem, thr));
  r = _mm256_add_epi32(r, _mm256_set1_epi32(q->out_zp));
  r = _mm256_max_epi32(r, _mm256_set1_epi32(q->act_min));
  return _mm256_min_epi32(r, _mm256_set1_epi32(q->act_max));
}

/* Stores the first `cols` (1..8) lanes of r as bytes. */
static inline void store8(__m256i r, int out_u8, void *dst, size_t cols) {
  const __m128i p16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
  const __m128i p8 = out_u8 ? _mm_packus_epi16(p16, p16) : _mm_packs_epi16(p16, p16);
  if (cols == 8) {
    _mm_storel_epi64((__m128i *)dst, p8);
  } else {
    uint8_t t[16];
    _mm_storeu_si128((__m128i *)t, p8);
    memcpy(dst, t, cols);
  }
}

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
  const int32_t *a = (const int32_t *)pa;
  for (size_t p = 0; p < kp; p++) {
    const __m256i w0 = _mm256_loadu_si256((const __m256i *)pb);
    const __m256i w1 = W16 ? _mm256_loadu_si256((const __m256i *)pb + 1) : w0;
    pb += W16 ? 32 : 16;
#define STEP(i)                                                                   \
  if ((i) < R) {                                                                  \
    const __m256i av = _mm256_set1_epi32(a[i]);                                   \
    acc##i##0 = _mm256_add_epi32(acc##i##0, _mm256_madd_epi16(av, w0));           \
    if (W16) acc##i##1 = _mm256_add_epi32(acc##i##1, _mm256_madd_epi16(av, w1));  \
  }
    REP4(STEP)
#undef STEP
    a += MR;
  }
  const size_t c0 = cols < 8 ? cols : 8, c1 = cols > 8 ? cols - 8 : 0;
#define STORE(i)                                                                  \
  if ((i) < R) {                                                                  \
    store8(requant8(acc##i##0, q, j), q->out_u8, c + (i) * ldc + j, c0);          \
    if (W16 && c1) store8(requant8(acc##i##1, q, j + 8), q->out_u8, c + (i) * ldc + j + 8, c1); \
  }
  REP4(STORE)
#undef STORE
}

static inline __attribute__((always_inline)) void run_rows(const size_t R, size_t nc, size_t kp,
                                                           const int16_t *pa, const int16_t *pb,
                                                           const tc_qgemm_cols *q, void *c,
                                                           size_t ldc) {
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

const struct tc_s8_qgemm_ukernel tc_s8_qgemm__avx2_4x16 = {"avx2_4x16", MR, NR, avx2_pack_a,
                                                           avx2_run};
#endif
