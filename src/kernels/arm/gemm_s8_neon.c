/* gemm_s8_neon.c: the AArch64 NEON 8-bit GEMM microkernel of qgemm.h, a 4x16 tile of int32
 * accumulators (16 q registers). It reads the int16-pair layout that tc_qgemm_pack writes: per
 * k pair, LD2 splits a panel's pairs into the even-k and odd-k weights of 8 columns, and SMLAL /
 * SMLAL2 by element multiply them with the pair of each A row (one q register holds the pairs of
 * all 4 rows), accumulating in int32 with wrap-around, which equals the reference's wrapped
 * exact sum. The store requantizes like tc_q_mul_double with the output stage of q8_neon.h
 * (SQRDMULH, then SRSHL with ties away from zero). Outputs are bit-exact with the reference
 * kernels. */
#include "kernels/qgemm.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#include <string.h>

#include "kernels/arm/q8_neon.h"

#define MR 4
#define NR 16
#define REP4(X) X(0) X(1) X(2) X(3)

/* Packs segments (seg_len bytes each, see qgemm.h) as int16 pairs: for each k pair, the pair of
 * row 0, of row 1, ... (ST4 of the widened rows viewed as int32 pairs does exactly that). */
static inline int16x8_t widen_lo(uint8x16_t v, int is_u8) {
  return is_u8 ? vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(v)))
               : vmovl_s8(vget_low_s8(vreinterpretq_s8_u8(v)));
}
static inline int16x8_t widen_hi(uint8x16_t v, int is_u8) {
  return is_u8 ? vreinterpretq_s16_u16(vmovl_high_u8(v)) : vmovl_high_s8(vreinterpretq_s8_u8(v));
}
static inline void pack16(uint8x16_t r0, uint8x16_t r1, uint8x16_t r2, uint8x16_t r3, int is_u8,
                          int32_t *dst) {
  int32x4x4_t lo, hi;
  lo.val[0] = vreinterpretq_s32_s16(widen_lo(r0, is_u8));
  lo.val[1] = vreinterpretq_s32_s16(widen_lo(r1, is_u8));
  lo.val[2] = vreinterpretq_s32_s16(widen_lo(r2, is_u8));
  lo.val[3] = vreinterpretq_s32_s16(widen_lo(r3, is_u8));
  hi.val[0] = vreinterpretq_s32_s16(widen_hi(r0, is_u8));
  hi.val[1] = vreinterpretq_s32_s16(widen_hi(r1, is_u8));
  hi.val[2] = vreinterpretq_s32_s16(widen_hi(r2, is_u8));
  hi.val[3] = vreinterpretq_s32_s16(widen_hi(r3, is_u8));
  vst4q_s32(dst, lo);      /* k pairs 0..3 of the 16 bytes */
  vst4q_s32(dst + 16, hi); /* k pairs 4..7 */
}

static void neon_pack_a(size_t rows, size_t n_seg, size_t seg_len, const void *const *src,
                        int flags, int16_t *dst) {
  const int is_u8 = flags & TC_QGEMM_A_U8;
  int32_t *d = (int32_t *)dst;
  for (size_t sg = 0; sg < n_seg; sg++) {
    const uint8_t *s0 = src[sg], *s1 = rows > 1 ? src[n_seg + sg] : s0,
                  *s2 = rows > 2 ? src[2 * n_seg + sg] : s0, *s3 = rows > 3 ? src[3 * n_seg + sg] : s0;
    size_t kk = 0;
    for (; kk + 16 <= seg_len; kk += 16) {
      pack16(vld1q_u8(s0 + kk), vld1q_u8(s1 + kk), vld1q_u8(s2 + kk), vld1q_u8(s3 + kk), is_u8,
             d);
      d += 8 * MR;
    }
    if (kk < seg_len) { /* tail: zero-padded copies of the last < 16 bytes (0 widens to 0) */
      const size_t rem = seg_len - kk, kp = (rem + 1) / 2;
      uint8_t t[4][16];
      int32_t out[8 * MR];
      memset(t, 0, sizeof t);
      memcpy(t[0], s0 + kk, rem);
      memcpy(t[1], s1 + kk, rem);
      memcpy(t[2], s2 + kk, rem);
      memcpy(t[3], s3 + kk, rem);
      pack16(vld1q_u8(t[0]), vld1q_u8(t[1]), vld1q_u8(t[2]), vld1q_u8(t[3]), is_u8, out);
      memcpy(d, out, kp * MR * sizeof(int32_t));
      d += kp * MR;
    }
  }
}

/* tc_q_mul_double(x, mult, shift) + out_zp, clamped, on 4 columns starting at j (q8_neon.h). */
static inline int32x4_t requant4(int32x4_t x, const tc_qgemm_cols *q, size_t j) {
  const tc__q8n_par4 pr = tc__q8n_par4_load(q->mult + j, q->lshift + j, q->rshift + j);
  return tc__q8n_requant4(x, &pr, vdupq_n_s32(q->out_zp), vdupq_n_s32(q->act_min),
                          vdupq_n_s32(q->act_max));
}

/* 16 requantized columns (lanes past `cols` are ignored) narrowed to bytes and stored. */
static inline void store16(int32x4_t v0, int32x4_t v1, int32x4_t v2, int32x4_t v3, int out_u8,
                           char *dst, size_t cols) {
  const int16x8_t h0 = vcombine_s16(vqmovn_s32(v0), vqmovn_s32(v1));
  const int16x8_t h1 = vcombine_s16(vqmovn_s32(v2), vqmovn_s32(v3));
  const uint8x16_t b = out_u8 ? vcombine_u8(vqmovun_s16(h0), vqmovun_s16(h1))
                              : vreinterpretq_u8_s8(vcombine_s8(vqmovn_s16(h0), vqmovn_s16(h1)));
  if (cols >= 16) {
    vst1q_u8((uint8_t *)dst, b);
  } else {
    uint8_t t[16];
    vst1q_u8(t, b);
    memcpy(dst, t, cols);
  }
}

/* One panel: 16 wide (W16) or 8 wide, rows [0, R), `cols` columns stored. The bias and
 * requantization arrays are padded to a multiple of NR, so whole vectors may be read. */
static inline __attribute__((always_inline)) void panel(const size_t R, const int W16,
                                                        size_t cols, size_t kp,
                                                        const int16_t *pa, const int16_t *pb,
                                                        const tc_qgemm_cols *q, size_t j,
                                                        char *c, size_t ldc) {
  const int32x4_t bias0 = vld1q_s32(q->bias + j), bias1 = vld1q_s32(q->bias + j + 4);
  const int32x4_t bias2 = W16 ? vld1q_s32(q->bias + j + 8) : bias0;
  const int32x4_t bias3 = W16 ? vld1q_s32(q->bias + j + 12) : bias0;
#define INIT(i) int32x4_t acc##i##0 = bias0, acc##i##1 = bias1, acc##i##2 = bias2, acc##i##3 = bias3;
  REP4(INIT)
#undef INIT
  for (size_t p = 0; p < kp; p++) {
    const int16x8_t av = vld1q_s16(pa); /* lanes 2i, 2i+1: the k pair of row i */
    pa += 2 * MR;
    const int16x8x2_t w0 = vld2q_s16(pb); /* val[0]: even k of 8 columns, val[1]: odd k */
    int16x8x2_t w1 = w0;
    if (W16) w1 = vld2q_s16(pb + 16);
    pb += W16 ? 32 : 16;
#define STEP(i)                                                                     \
  if ((i) < R) {                                                                    \
    acc##i##0 = vmlal_laneq_s16(acc##i##0, vget_low_s16(w0.val[0]), av, 2 * (i));  \
    acc##i##0 = vmlal_laneq_s16(acc##i##0, vget_low_s16(w0.val[1]), av, 2 * (i) + 1); \
    acc##i##1 = vmlal_high_laneq_s16(acc##i##1, w0.val[0], av, 2 * (i));            \
    acc##i##1 = vmlal_high_laneq_s16(acc##i##1, w0.val[1], av, 2 * (i) + 1);        \
    if (W16) {                                                                      \
      acc##i##2 = vmlal_laneq_s16(acc##i##2, vget_low_s16(w1.val[0]), av, 2 * (i)); \
      acc##i##2 = vmlal_laneq_s16(acc##i##2, vget_low_s16(w1.val[1]), av, 2 * (i) + 1); \
      acc##i##3 = vmlal_high_laneq_s16(acc##i##3, w1.val[0], av, 2 * (i));          \
      acc##i##3 = vmlal_high_laneq_s16(acc##i##3, w1.val[1], av, 2 * (i) + 1);      \
    }                                                                               \
  }
    REP4(STEP)
#undef STEP
  }
#define STORE(i)                                                                       \
  if ((i) < R) {                                                                       \
    const int32x4_t r0 = requant4(acc##i##0, q, j), r1 = requant4(acc##i##1, q, j + 4); \
    int32x4_t r2 = r0, r3 = r0;                                                        \
    if (W16) {                                                                         \
      r2 = requant4(acc##i##2, q, j + 8);                                              \
      r3 = requant4(acc##i##3, q, j + 12);                                             \
    }                                                                                  \
    store16(r0, r1, r2, r3, q->out_u8, c + (i) * ldc + j, cols);                      \
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

static void neon_run(size_t rows, size_t nc, size_t kp, const int16_t *pa, const int16_t *pb,
                     const tc_qgemm_cols *q, void *c, size_t ldc) {
  switch (rows) {
  case 1: run1(nc, kp, pa, pb, q, c, ldc); break;
  case 2: run2(nc, kp, pa, pb, q, c, ldc); break;
  case 3: run3(nc, kp, pa, pb, q, c, ldc); break;
  default: run4(nc, kp, pa, pb, q, c, ldc); break;
  }
}

const struct tc_s8_qgemm_ukernel tc_s8_qgemm__neon_4x16 = {"neon_4x16", MR, NR, neon_pack_a,
                                                           neon_run};
#endif
