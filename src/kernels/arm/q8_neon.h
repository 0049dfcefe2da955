/* q8_neon.h: the exact 8-bit output stage shared by the AArch64 NEON 8-bit kernels (the GEMM
 * microkernels of qgemm.h, gemm_s8_neon.c and s8_qgemm_dotprod.c, and the depthwise convolution
 * dwconv_q8_neon.c): tc_q_mul_double(x, mult, shift) + output zero point, clamped, on 4 int32
 * lanes, and the narrowing of requantized lanes to bytes.
 *   SSHL by lshift is the reference's wrapping (uint32)x << left; SQRDMULH is exactly the
 * saturating rounding doubling high multiply (both are floor((2ab + 2^31) / 2^32) for these
 * operands, INT32_MIN * INT32_MIN saturating to INT32_MAX in both); the rounding right shift is
 * SRSHL by -rshift after subtracting 1 from negative values (only when rshift > 0), which rounds
 * ties away from zero as tc_q_rdivpot does (SQADD keeps INT32_MIN - 1 at INT32_MIN, which the
 * shift maps to the same value). The zero point is a wrapping add, then max / min with the
 * activation range, which must lie inside the output type's range (the saturating narrows then
 * change nothing). Include only in files compiled for AArch64 with NEON. */
#ifndef TC_KERNELS_ARM_Q8_NEON_H
#define TC_KERNELS_ARM_Q8_NEON_H

#include <arm_neon.h>
#include <stdint.h>
#include <string.h>

/* The per-lane parameters of 4 output channels. */
typedef struct tc__q8n_par4 {
  int32x4_t mult, lsh, nrsh; /* Q0.31 multiplier, left shift, minus the right shift */
} tc__q8n_par4;

static inline tc__q8n_par4 tc__q8n_par4_load(const int32_t *mult, const int32_t *lshift,
                                             const int32_t *rshift) {
  tc__q8n_par4 r;
  r.mult = vld1q_s32(mult);
  r.lsh = vld1q_s32(lshift);
  r.nrsh = vnegq_s32(vld1q_s32(rshift));
  return r;
}

/* tc_q_mul_double lane by lane, then + zp, clamped to [lo, hi]. */
static inline int32x4_t tc__q8n_requant4(int32x4_t x, const tc__q8n_par4 *pr, int32x4_t zp,
                                         int32x4_t lo, int32x4_t hi) {
  x = vshlq_s32(x, pr->lsh);
  x = vqrdmulhq_s32(x, pr->mult);
  /* -1 for negative x when shifting right at all: ties then round away from zero */
  const int32x4_t fixup = vshrq_n_s32(vandq_s32(x, pr->nrsh), 31);
  x = vrshlq_s32(vqaddq_s32(x, fixup), pr->nrsh);
  x = vaddq_s32(x, zp);
  return vminq_s32(vmaxq_s32(x, lo), hi);
}

/* 8 requantized lanes (v0: lanes 0-3, v1: 4-7) as bytes (uint8 if out_u8, else int8). */
static inline uint8x8_t tc__q8n_narrow8(int32x4_t v0, int32x4_t v1, int out_u8) {
  const int16x8_t h = vcombine_s16(vqmovn_s32(v0), vqmovn_s32(v1));
  return out_u8 ? vqmovun_s16(h) : vreinterpret_u8_s8(vqmovn_s16(h));
}

/* Stores the first n (<= 8) bytes of b at dst. */
static inline void tc__q8n_store8(uint8x8_t b, void *dst, size_t n) {
  if (n >= 8) {
    vst1_u8((uint8_t *)dst, b);
  } else {
    uint8_t t[8];
    vst1_u8(t, b);
    memcpy(dst, t, n);
  }
}

#endif /* TC_KERNELS_ARM_Q8_NEON_H */
