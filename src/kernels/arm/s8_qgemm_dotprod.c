/* s8_qgemm_dotprod.c: the AArch64 8-bit GEMM microkernel of qgemm.h for CPUs with the dot-product
 * extension (FEAT_DotProd: UDOT/SDOT, Cortex-A55/A76 and later, Neoverse, Apple), kgroup 4, an
 * 8x8 tile of int32 accumulators (16 q registers).
 *   Operands: A is uint8 in byte groups of 4 k (int8 inputs read as x + 128, the driver passing
 * the matching bias); B is stored with b_xor = 0x80, i.e. each byte is the uint8 value
 * (w' - a_sum_mult) + 128, because UDOT multiplies u8 x u8. Per group, one UDOT by element
 * (vdotq_laneq_u32) adds to the 4 column lanes of a row the 4 products of that row's A bytes (a
 * lane of the A register, which holds one group of 4 rows) with the 4 columns' B bytes. Over K
 * this gives sum A (B + 128) = sum A B + 128 sum A, so each row's accumulators start at
 * bias + (a_sum_mult - 128) * (sum of the row's A bytes), wrapping, and end at
 * bias + sum A w' modulo 2^32: the reference's wrap32(exact sum). Products cannot overflow (a
 * UDOT lane adds 4 products of at most 255 * 255 into 32 bits, with wrap-around like every later
 * add), so the result is exact. Padding groups (past a segment's end) hold A bytes 0 against
 * B bytes 0x80, and contribute nothing.
 *   Per group and 8x8 tile: 2 loads of A, 2 of B, 16 UDOT (4 MACs per lane each), against the
 * kgroup-2 NEON kernel's 1 load of A, 2 LD2 of B and 32 SMLAL per pair and 4x16 tile: for the
 * same 256 multiply-adds (64 outputs x 4 k), 20 instructions instead of 70.
 *   The output stage is q8_neon.h's (tc_q_mul_double exactly), so outputs are bit-exact with the
 * reference kernels.
 *   Packed A (kernel-private): strips of 8 rows, tc_qgemm_strip_bytes(8, kp) apart; in a strip,
 * kp x 16 bytes for rows 0-3 (per group: row 0's 4 bytes, row 1's, row 2's, row 3's), then the
 * same for rows 4-7, then the 8 row sums (int32). Each segment is zero-padded to a multiple of
 * 4 bytes. Compiled with -march=armv8.2-a+dotprod; select.c runs it only where HWCAP reports
 * asimddp. */
#include "kernels/qgemm.h"

#if defined(__aarch64__) && defined(__ARM_NEON) && defined(__ARM_FEATURE_DOTPROD)
#include <arm_neon.h>
#include <string.h>

#include "kernels/arm/q8_neon.h"

#define MR 8
#define NR 8

/* ---- packing A ------------------------------------------------------------------------------ */

/* Bytes of one half (4 rows) of a packed strip. */
static size_t half_bytes(size_t kp) { return kp * 16; }

/* 4 rows' 16 bytes each (4 groups), flipped, into 4 consecutive 16-byte group blocks at d (ST4
 * of the rows viewed as 32-bit words interleaves them group by group); the row sums s0..s3 (in
 * the caller's scope, named so they stay in registers) grow by the rows' bytes (UDOT with a
 * vector of ones). */
#define PACK4X16(R0, R1, R2, R3, D)                             \
  do {                                                          \
    uint32x4x4_t t_;                                            \
    t_.val[0] = vreinterpretq_u32_u8(R0);                       \
    t_.val[1] = vreinterpretq_u32_u8(R1);                       \
    t_.val[2] = vreinterpretq_u32_u8(R2);                       \
    t_.val[3] = vreinterpretq_u32_u8(R3);                       \
    s0 = vdotq_u32(s0, vreinterpretq_u8_u32(t_.val[0]), ones);  \
    s1 = vdotq_u32(s1, vreinterpretq_u8_u32(t_.val[1]), ones);  \
    s2 = vdotq_u32(s2, vreinterpretq_u8_u32(t_.val[2]), ones);  \
    s3 = vdotq_u32(s3, vreinterpretq_u8_u32(t_.val[3]), ones);  \
    vst4q_u32((uint32_t *)(void *)(D), t_);                     \
  } while (0)

/* One half of a strip: rows s[0..3] (segment pointers, n_seg per row; rows past `rows` point at
 * row 0 and get sum 0). A segment's last 1..15 bytes are read with one 16-byte load where
 * `overread` allows it (qgemm.h TC_QGEMM_A_OVERREAD), the bytes past the segment masked to 0,
 * and stored as 4 whole groups: the zero groups past the segment spill into the next segment's
 * place (written after it), the other half's place (packed after this one) or the pack slack
 * (at most 48 bytes past the strip's groups). Otherwise only the segments' bytes are read. */
static void pack_half(size_t rows, size_t n_seg, size_t seg_len, const void *const *src,
                      uint8x16_t flip, int overread, uint8_t *d, int32_t *sums) {
  uint32x4_t s0 = vdupq_n_u32(0), s1 = s0, s2 = s0, s3 = s0;
  const uint8x16_t ones = vdupq_n_u8(1);
  const uint8_t idx_init[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
  const uint8x16_t idx = vld1q_u8(idx_init);
  for (size_t sg = 0; sg < n_seg; sg++) {
    const uint8_t *s[4];
    for (size_t r = 0; r < 4; r++) s[r] = src[(r < rows ? r : 0) * n_seg + sg];
    size_t kk = 0;
    for (; kk + 16 <= seg_len; kk += 16, d += 64)
      PACK4X16(veorq_u8(vld1q_u8(s[0] + kk), flip), veorq_u8(vld1q_u8(s[1] + kk), flip),
               veorq_u8(vld1q_u8(s[2] + kk), flip), veorq_u8(vld1q_u8(s[3] + kk), flip), d);
    if (kk < seg_len && overread) { /* 1..15 bytes: loaded whole, flipped, masked */
      const size_t rem = seg_len - kk;
      const uint8x16_t keep = vcltq_u8(idx, vdupq_n_u8((uint8_t)rem));
      PACK4X16(vandq_u8(veorq_u8(vld1q_u8(s[0] + kk), flip), keep),
               vandq_u8(veorq_u8(vld1q_u8(s[1] + kk), flip), keep),
               vandq_u8(veorq_u8(vld1q_u8(s[2] + kk), flip), keep),
               vandq_u8(veorq_u8(vld1q_u8(s[3] + kk), flip), keep), d);
      d += (rem + 3) / 4 * 16;
    } else if (kk < seg_len) { /* 1..15 bytes: zero-padded copies, flipped where they hold data */
      const size_t rem = seg_len - kk, groups = (rem + 3) / 4;
      uint8_t t[4][16], out[64];
      memset(t, 0, sizeof t);
      for (size_t r = 0; r < 4; r++) memcpy(t[r], s[r] + kk, rem);
      const uint8x16_t fl = vandq_u8(flip, vcltq_u8(idx, vdupq_n_u8((uint8_t)rem)));
      PACK4X16(veorq_u8(vld1q_u8(t[0]), fl), veorq_u8(vld1q_u8(t[1]), fl),
               veorq_u8(vld1q_u8(t[2]), fl), veorq_u8(vld1q_u8(t[3]), fl), out);
      memcpy(d, out, groups * 16);
      d += groups * 16;
    }
  }
  const uint32_t tot[4] = {vaddvq_u32(s0), vaddvq_u32(s1), vaddvq_u32(s2), vaddvq_u32(s3)};
  for (size_t r = 0; r < 4; r++) sums[r] = r < rows ? (int32_t)tot[r] : 0;
}

/* Any number of rows (qgemm.h `multi`): strips of MR rows, packed one after another. */
static void dotprod_pack_a(size_t rows, size_t n_seg, size_t seg_len, const void *const *src,
                           int flags, int16_t *dst) {
  const size_t kp = n_seg * ((seg_len + 3) / 4), strip = tc_qgemm_strip_bytes(MR, kp);
  const uint8x16_t flip = vdupq_n_u8((flags & TC_QGEMM_A_U8) ? 0 : 0x80);
  const int over = (flags & TC_QGEMM_A_OVERREAD) != 0;
  uint8_t *d = (uint8_t *)dst;
  for (size_t r = 0; r < rows; r += MR, src += MR * n_seg, d += strip) {
    const size_t n = rows - r < MR ? rows - r : MR;
    int32_t sums[MR] = {0}; /* stored last: the halves' spill may reach their place */
    pack_half(n < 4 ? n : 4, n_seg, seg_len, src, flip, over, d, sums);
    if (n > 4)
      pack_half(n - 4, n_seg, seg_len, src + 4 * n_seg, flip, over, d + half_bytes(kp), sums + 4);
    memcpy(d + 2 * half_bytes(kp), sums, sizeof sums);
  }
}

/* ---- the tile ------------------------------------------------------------------------------- */

#define REP8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)

/* One panel: 8 wide (W8) or 4 wide, rows [0, R) of the strip at a, `cols` columns stored. */
static inline __attribute__((always_inline)) void panel(const size_t R, const int W8, size_t cols,
                                                        const uint8_t *a, size_t kp,
                                                        const uint8_t *pb,
                                                        const tc_qgemm_cols *q, size_t j,
                                                        char *c, size_t ldc) {
  const uint8_t *alo = a, *ahi = a + half_bytes(kp);
  const int32_t *sums = (const int32_t *)(const void *)(a + 2 * half_bytes(kp));
  const uint32_t sum_mult = (uint32_t)q->a_sum_mult - 128u;
  const uint32x4_t bias0 = vreinterpretq_u32_s32(vld1q_s32(q->bias + j));
  const uint32x4_t bias1 = W8 ? vreinterpretq_u32_s32(vld1q_s32(q->bias + j + 4)) : bias0;
#define INIT(i)                                                                      \
  uint32x4_t acc##i##0 = bias0, acc##i##1 = bias1;                                   \
  if ((i) < R) {                                                                     \
    const uint32x4_t t = vdupq_n_u32(sum_mult * (uint32_t)sums[i]);                 \
    acc##i##0 = vaddq_u32(bias0, t);                                                 \
    acc##i##1 = vaddq_u32(bias1, t);                                                 \
  }
  REP8(INIT)
#undef INIT
  for (size_t g = 0; g < kp; g++) {
    const uint8x16_t a0 = vld1q_u8(alo + 16 * g);
    const uint8x16_t a1 = R > 4 ? vld1q_u8(ahi + 16 * g) : a0;
    const uint8x16_t w0 = vld1q_u8(pb);
    const uint8x16_t w1 = W8 ? vld1q_u8(pb + 16) : w0;
    pb += W8 ? 32 : 16;
#define STEP(i)                                                                         \
  if ((i) < R) {                                                                        \
    acc##i##0 = vdotq_laneq_u32(acc##i##0, w0, (i) < 4 ? a0 : a1, (i) % 4);            \
    if (W8) acc##i##1 = vdotq_laneq_u32(acc##i##1, w1, (i) < 4 ? a0 : a1, (i) % 4);    \
  }
    REP8(STEP)
#undef STEP
  }
  const tc__q8n_par4 p0 = tc__q8n_par4_load(q->mult + j, q->lshift + j, q->rshift + j);
  const tc__q8n_par4 p1 =
      W8 ? tc__q8n_par4_load(q->mult + j + 4, q->lshift + j + 4, q->rshift + j + 4) : p0;
  const int32x4_t zp = vdupq_n_s32(q->out_zp), lo = vdupq_n_s32(q->act_min);
  const int32x4_t hi = vdupq_n_s32(q->act_max);
  const int out_u8 = q->out_u8;
#define STORE(i)                                                                          \
  if ((i) < R) {                                                                          \
    const int32x4_t r0 = tc__q8n_requant4(vreinterpretq_s32_u32(acc##i##0), &p0, zp, lo, hi); \
    const int32x4_t r1 =                                                                  \
        W8 ? tc__q8n_requant4(vreinterpretq_s32_u32(acc##i##1), &p1, zp, lo, hi) : r0;    \
    tc__q8n_store8(tc__q8n_narrow8(r0, r1, out_u8), c + (i) * ldc + j, cols);              \
  }
  REP8(STORE)
#undef STORE
}

/* Rows [0, R) of one strip, all panels of the nc columns. */
static inline __attribute__((always_inline)) void run_strip(const size_t R, size_t nc, size_t kp,
                                                            const uint8_t *a, const uint8_t *pb,
                                                            const tc_qgemm_cols *q, char *c,
                                                            size_t ldc) {
  for (size_t j = 0; j < nc; j += NR) {
    const size_t cols = nc - j < NR ? nc - j : NR;
    if (cols > NR / 2) {
      panel(R, 1, cols, a, kp, pb, q, j, c, ldc);
      pb += NR * 4 * kp;
    } else {
      panel(R, 0, cols, a, kp, pb, q, j, c, ldc);
      pb += NR / 2 * 4 * kp;
    }
  }
}

#define ROWS_FN(R)                                                                            \
  static __attribute__((noinline)) void strip##R(size_t nc, size_t kp, const uint8_t *a,      \
                                                 const uint8_t *pb, const tc_qgemm_cols *q,   \
                                                 char *c, size_t ldc) {                       \
    run_strip(R, nc, kp, a, pb, q, c, ldc);                                                   \
  }
ROWS_FN(1)
ROWS_FN(2)
ROWS_FN(3)
ROWS_FN(4)
ROWS_FN(5)
ROWS_FN(6)
ROWS_FN(7)
ROWS_FN(8)

static void dotprod_run(size_t rows, size_t nc, size_t kp, const int16_t *pa, const int16_t *pb16,
                        const tc_qgemm_cols *qp, void *cv, size_t ldc) {
  /* A local copy: the byte stores may alias anything, this copy cannot be aliased. */
  const tc_qgemm_cols qc = *qp, *q = &qc;
  const uint8_t *pb = (const uint8_t *)pb16, *a = (const uint8_t *)pa;
  const size_t strip = tc_qgemm_strip_bytes(MR, kp);
  char *c = cv;
  size_t i = 0;
  for (; i + MR <= rows; i += MR, a += strip, c += MR * ldc) strip8(nc, kp, a, pb, q, c, ldc);
  switch (rows - i) {
  case 1: strip1(nc, kp, a, pb, q, c, ldc); break;
  case 2: strip2(nc, kp, a, pb, q, c, ldc); break;
  case 3: strip3(nc, kp, a, pb, q, c, ldc); break;
  case 4: strip4(nc, kp, a, pb, q, c, ldc); break;
  case 5: strip5(nc, kp, a, pb, q, c, ldc); break;
  case 6: strip6(nc, kp, a, pb, q, c, ldc); break;
  case 7: strip7(nc, kp, a, pb, q, c, ldc); break;
  default: break;
  }
}

const struct tc_s8_qgemm_ukernel tc_s8_qgemm__dotprod_8x8 = {
    .name = "dotprod_8x8", .mr = MR, .nr = NR, .pack_a = dotprod_pack_a, .run = dotprod_run,
    .kgroup = 4, .multi = 1, .b_xor = 0x80};
#endif
