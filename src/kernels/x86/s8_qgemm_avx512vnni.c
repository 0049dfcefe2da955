/* s8_qgemm_avx512vnni.c: the AVX-512 VNNI 8-bit GEMM microkernel of qgemm.h (kgroup 4), an 8x32
 * tile of int32 accumulators (16 zmm). Each 32-bit word of A and B holds 4 consecutive k values
 * (bytes), and one vpdpbusd per 16 outputs multiplies the 4 uint8 bytes of A with the 4 int8
 * bytes of B and adds the 4 products to the int32 lane: no intermediate saturation (each product
 * fits int16 and the sum is added with wrap-around), so the accumulator is the reference's
 * wrap32(exact sum). A is uint8: int8 inputs are read as x + 128 (x xor 0x80), and the driver
 * passes the bias with -128 * sum_k w' folded in (tc_qgemm_packed.bias_a_s8). B is int8:
 * w' - a_sum_mult (0 for int8 weights, 128 - zero point for uint8 weights), and each row's
 * accumulators start at bias + a_sum_mult * (sum of the row's A bytes), which pack_a stores
 * after the strip. Packed A (kernel-private layout): row r's kp words at word r * kp (each
 * segment zero-padded to a multiple of 4 bytes), then the MR row sums.
 * The store requantizes 16 columns at a time with the same arithmetic as the AVX2 kernel
 * (tc_q_mul's double rounding in 64-bit lanes with per-column masks, or the folded form for
 * `plain` layers), adds the output zero point (wrapping), clamps to the activation range and
 * stores bytes with vpmovdb (masked for partial panels). Bit-exact with the reference kernels.
 * Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni; select.c runs it only where cpuid
 * and XCR0 allow them. tests/kernels/avx512_emu/run.sh checks it on machines without AVX-512. */
#include "kernels/qgemm.h"

#if defined(__x86_64__) && defined(__AVX512VNNI__)
#include <immintrin.h>

#define MR 8
#define NR 32
#define REP8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* bytes [0, n) on, n in 0..64 */
static inline __mmask64 byte_mask(size_t n) {
  return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
}
/* lanes [0, n) on, n in 0..16 */
static inline __mmask16 lane_mask(size_t n) {
  return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

/* ---- packing A ------------------------------------------------------------------------------ */

/* Rows of the strip one after the other, each segment's bytes (xor 0x80 for int8: x + 128 as
 * uint8) followed by zeros up to a multiple of 4; masked loads read exactly the segments'
 * bytes. The row sums (of the uint8 bytes, wrapped to int32) follow the MR rows. */
static void vnni_pack_a(size_t rows, size_t n_seg, size_t seg_len, const void *const *src,
                        int flags, int16_t *dst16) {
  const size_t seg_pad = (seg_len + 3) / 4 * 4, row_bytes = n_seg * seg_pad;
  uint8_t *dst = (uint8_t *)dst16;
  int32_t *sums = (int32_t *)(dst + MR * row_bytes);
  const __m512i flip = _mm512_set1_epi32((flags & TC_QGEMM_A_U8) ? 0 : (int32_t)0x80808080u);
  const __m512i ones = _mm512_set1_epi8(1);
  for (size_t r = 0; r < MR; r++) {
    if (r >= rows) {
      sums[r] = 0;
      continue;
    }
    uint8_t *d = dst + r * row_bytes;
    __m512i sum = _mm512_setzero_si512();
    for (size_t sg = 0; sg < n_seg; sg++, d += seg_pad) {
      const uint8_t *s = src[r * n_seg + sg];
      for (size_t kk = 0; kk < seg_pad; kk += 64) { /* kk < seg_len here (see seg_pad) */
        const __mmask64 m = byte_mask(seg_len - kk);
        __m512i v = _mm512_maskz_loadu_epi8(m, s + kk);
        v = _mm512_maskz_mov_epi8(m, _mm512_xor_si512(v, flip));
        sum = _mm512_dpbusd_epi32(sum, v, ones);
        _mm512_mask_storeu_epi8(d + kk, byte_mask(seg_pad - kk), v);
      }
    }
    sums[r] = _mm512_reduce_add_epi32(sum);
  }
}

/* ---- the output stage ----------------------------------------------------------------------- */

/* Per-column requantization parameters of 16 columns, loaded once per panel. */
typedef struct rq16 {
  __m512i m, m_odd, rsh, lsh, rmask, rhalf, rc_even, rc_odd;
} rq16;

static inline __attribute__((always_inline)) rq16 rq_load(const tc_qgemm_cols *q, size_t j) {
  rq16 p;
  p.m = _mm512_loadu_si512(q->mult + j);
  p.m_odd = _mm512_loadu_si512(q->mult + j + 1);
  p.rsh = _mm512_loadu_si512(q->rshift + j);
  if (q->plain) {
    /* 2^30 + 2^(30 + rshift) per 64-bit lane (rshift >= 1 for plain layers) */
    const __m512i lo32 = _mm512_set1_epi64(0xffffffffll), b30 = _mm512_set1_epi64(1ll << 30);
    p.rc_even = _mm512_add_epi64(b30, _mm512_sllv_epi64(b30, _mm512_and_si512(p.rsh, lo32)));
    p.rc_odd = _mm512_add_epi64(b30, _mm512_sllv_epi64(b30, _mm512_srli_epi64(p.rsh, 32)));
    p.lsh = p.rmask = p.rhalf = p.rsh;
  } else {
    p.lsh = _mm512_loadu_si512(q->lshift + j);
    p.rmask = _mm512_loadu_si512(q->rmask + j);
    p.rhalf = _mm512_loadu_si512(q->rhalf + j);
    p.rc_even = p.rc_odd = p.rsh;
  }
  return p;
}

/* tc_q_mul_double(x, mult, shift) + out_zp (wrapping), clamped to [lo, hi]: the AVX2 kernel's
 * requant8 on 16 columns (see s8_qgemm_avx2.c and qgemm.h for the two forms). */
static inline __attribute__((always_inline)) __m512i requant16(__m512i x, const rq16 *p,
                                                               const tc_qgemm_cols *q, __m512i zp,
                                                               __m512i lo, __m512i hi) {
  __m512i r;
  if (q->plain) {
    __m512i even = _mm512_mul_epi32(x, p->m);
    __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), p->m_odd);
    even = _mm512_srli_epi64(_mm512_add_epi64(even, p->rc_even), 31);
    odd = _mm512_slli_epi64(_mm512_add_epi64(odd, p->rc_odd), 1);
    const __m512i s =
        _mm512_add_epi32(_mm512_mask_blend_epi32(0xAAAA, even, odd), _mm512_srai_epi32(x, 31));
    r = _mm512_srav_epi32(s, p->rsh);
  } else {
    if (q->any_lshift) x = _mm512_sllv_epi32(x, p->lsh);
    const __m512i nudge = _mm512_set1_epi64(1ll << 30);
    __m512i even = _mm512_mul_epi32(x, p->m);
    __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), p->m_odd);
    even = _mm512_srli_epi64(_mm512_add_epi64(even, nudge), 31);
    odd = _mm512_slli_epi64(_mm512_add_epi64(odd, nudge), 1);
    const __m512i s = _mm512_mask_blend_epi32(0xAAAA, even, odd);
    const __m512i rem = _mm512_and_si512(s, p->rmask);
    const __m512i thr = _mm512_add_epi32(p->rhalf, _mm512_srli_epi32(s, 31));
    r = _mm512_srav_epi32(s, p->rsh);
    r = _mm512_mask_sub_epi32(r, _mm512_cmpgt_epi32_mask(rem, thr), r, _mm512_set1_epi32(-1));
  }
  return _mm512_min_epi32(_mm512_max_epi32(_mm512_add_epi32(r, zp), lo), hi);
}

/* ---- the tile ------------------------------------------------------------------------------- */

/* Rows i >= R are compiled out (R is a constant in each instantiation); their pointers are
 * set to row 0 only to keep them defined. */
#define ROW_PTR(i) const int32_t *a##i = a + ((i) < R ? (size_t)(i) * kp : 0);

/* One panel: 32 wide (W32) or 16 wide, rows [0, R), `cols` columns stored. */
static inline __attribute__((always_inline)) void panel(const size_t R, const int W32, size_t cols,
                                                        size_t kp, const int32_t *a,
                                                        const int32_t *pb, const tc_qgemm_cols *q,
                                                        size_t j, char *c, size_t ldc) {
  REP8(ROW_PTR)
  const int32_t *sums = a + MR * kp;
  const uint32_t asm_ = (uint32_t)q->a_sum_mult;
  const __m512i bias0 = _mm512_loadu_si512(q->bias + j);
  const __m512i bias1 = W32 ? _mm512_loadu_si512(q->bias + j + 16) : bias0;
#define INIT(i) __m512i acc##i##0 = bias0, acc##i##1 = bias1;
  REP8(INIT)
#undef INIT
  for (size_t g = 0; g < kp; g++) {
    const __m512i w0 = _mm512_loadu_si512(pb);
    const __m512i w1 = W32 ? _mm512_loadu_si512(pb + 16) : w0;
    pb += W32 ? 32 : 16;
#define STEP(i)                                                     \
  if ((i) < R) {                                                    \
    const __m512i av = _mm512_set1_epi32(a##i[g]);                  \
    acc##i##0 = _mm512_dpbusd_epi32(acc##i##0, av, w0);             \
    if (W32) acc##i##1 = _mm512_dpbusd_epi32(acc##i##1, av, w1);    \
  }
    REP8(STEP)
#undef STEP
  }
  if (asm_) { /* the row sums' term (wrapping adds: the order does not matter) */
#define ROWSUM(i)                                                                       \
  if ((i) < R) {                                                                        \
    const __m512i t = _mm512_set1_epi32((int32_t)(asm_ * (uint32_t)sums[i]));           \
    acc##i##0 = _mm512_add_epi32(acc##i##0, t);                                         \
    if (W32) acc##i##1 = _mm512_add_epi32(acc##i##1, t);                                \
  }
    REP8(ROWSUM)
#undef ROWSUM
  }
  const int32_t lo_t = q->out_u8 ? 0 : -128, hi_t = q->out_u8 ? 255 : 127;
  const __m512i zp = _mm512_set1_epi32(q->out_zp);
  const __m512i lo = _mm512_set1_epi32(q->act_min > lo_t ? q->act_min : lo_t);
  const __m512i hi = _mm512_set1_epi32(q->act_max < hi_t ? q->act_max : hi_t);
  {
    const rq16 p = rq_load(q, j);
    const __mmask16 m = lane_mask(cols);
#define STORE0(i)                                                                           \
  if ((i) < R)                                                                              \
    _mm512_mask_cvtepi32_storeu_epi8(c + (size_t)(i) * ldc + j, m,                          \
                                     requant16(acc##i##0, &p, q, zp, lo, hi));
    REP8(STORE0)
#undef STORE0
  }
  if (W32) {
    const rq16 p = rq_load(q, j + 16);
    const __mmask16 m = lane_mask(cols - 16);
#define STORE1(i)                                                                           \
  if ((i) < R)                                                                              \
    _mm512_mask_cvtepi32_storeu_epi8(c + (size_t)(i) * ldc + j + 16, m,                     \
                                     requant16(acc##i##1, &p, q, zp, lo, hi));
    REP8(STORE1)
#undef STORE1
  }
}

static inline __attribute__((always_inline)) void run_rows(const size_t R, size_t nc, size_t kp,
                                                           const int16_t *pa, const int16_t *pb16,
                                                           const tc_qgemm_cols *qp, void *c,
                                                           size_t ldc) {
  /* A local copy: the byte stores may alias anything, this copy cannot be aliased. */
  const tc_qgemm_cols qc = *qp, *q = &qc;
  const int32_t *a = (const int32_t *)pa, *pb = (const int32_t *)pb16;
  for (size_t j = 0; j < nc; j += NR) {
    const size_t cols = nc - j < NR ? nc - j : NR;
    if (cols > NR / 2) {
      panel(R, 1, cols, kp, a, pb, q, j, c, ldc);
      pb += NR * kp;
    } else {
      panel(R, 0, cols, kp, a, pb, q, j, c, ldc);
      pb += NR / 2 * kp;
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
ROWS_FN(5)
ROWS_FN(6)
ROWS_FN(7)
ROWS_FN(8)

static void vnni_run(size_t rows, size_t nc, size_t kp, const int16_t *pa, const int16_t *pb,
                     const tc_qgemm_cols *q, void *c, size_t ldc) {
  switch (rows) {
  case 1: run1(nc, kp, pa, pb, q, c, ldc); break;
  case 2: run2(nc, kp, pa, pb, q, c, ldc); break;
  case 3: run3(nc, kp, pa, pb, q, c, ldc); break;
  case 4: run4(nc, kp, pa, pb, q, c, ldc); break;
  case 5: run5(nc, kp, pa, pb, q, c, ldc); break;
  case 6: run6(nc, kp, pa, pb, q, c, ldc); break;
  case 7: run7(nc, kp, pa, pb, q, c, ldc); break;
  default: run8(nc, kp, pa, pb, q, c, ldc); break;
  }
}

const struct tc_s8_qgemm_ukernel tc_s8_qgemm__avx512vnni_8x32 = {
    .name = "avx512vnni_8x32", .mr = MR, .nr = NR, .pack_a = vnni_pack_a, .run = vnni_run,
    .kgroup = 4};
#endif
