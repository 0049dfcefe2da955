/* qfixed.h: a small Q-format fixed-point library (the gemmlowp FixedPoint arithmetic that
 * TFLite's integer softmax, logistic and tanh kernels are built on), for int32 raw values.
 *
 * A value with `ib` integer bits is a raw int32 r meaning r / 2^(31 - ib), range [-2^ib, 2^ib).
 * gemmlowp carries ib in the type; here it is an explicit argument. Multiplying two values adds
 * their integer bits (a saturating rounding doubling high multiply of the raws); addition and
 * subtraction are plain raw operations and wrap on overflow (computed on uint32 so that it is
 * defined in C). Everything is exact integer arithmetic, bit-identical on every platform; the
 * prepare-time helpers at the end use double as TFLite does. */
#ifndef TC_KERNELS_REF_QFIXED_H
#define TC_KERNELS_REF_QFIXED_H

#include <math.h>
#include <stdint.h>

#include "kernels/ref/qmath.h"

/* ---- raw integer primitives ---------------------------------------------------------------- */

static inline int32_t tc_qf_add(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a + (uint32_t)b);
}
static inline int32_t tc_qf_sub(int32_t a, int32_t b) {
  return (int32_t)((uint32_t)a - (uint32_t)b);
}
static inline int32_t tc_qf_neg(int32_t a) { return (int32_t)(0u - (uint32_t)a); }

/* Fixed-point product: integer bits of the result = sum of the operands' integer bits. */
static inline int32_t tc_qf_mul(int32_t a, int32_t b) { return tc_q_srdhm(a, b); }

/* Leading zero bits of a 32-bit value (32 for 0). */
static inline int tc_qf_clz32(uint32_t x) {
  int n = 0;
  if (x == 0) return 32;
  while (!(x & 0x80000000u)) {
    x <<= 1;
    n++;
  }
  return n;
}

/* (a + b) / 2 rounded to nearest, ties away from zero (computed in 64 bits). */
static inline int32_t tc_qf_rounding_half_sum(int32_t a, int32_t b) {
  int64_t sum = (int64_t)a + (int64_t)b;
  return (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
}

/* x * 2^exponent: a saturating left shift for exponent > 0, a rounding (ties away from zero)
 * right shift for exponent < 0. |exponent| <= 31. */
static inline int32_t tc_qf_srmul_pot(int32_t x, int exponent) {
  if (exponent == 0) return x;
  if (exponent < 0) return tc_q_rdivpot(x, -exponent);
  int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1u);
  if (x > threshold) return INT32_MAX;
  if (x < -threshold) return INT32_MIN;
  return (int32_t)((uint32_t)x << exponent);
}

/* Changes the integer bits of a value from src_ib to dst_ib (saturating / rounding). */
static inline int32_t tc_qf_rescale(int32_t x, int src_ib, int dst_ib) {
  return tc_qf_srmul_pot(x, src_ib - dst_ib);
}

/* The raw value of 1.0 with `ib` integer bits (the largest value when ib == 0). */
static inline int32_t tc_qf_one(int ib) {
  return ib == 0 ? INT32_MAX : (int32_t)(1u << (31 - ib));
}

/* ---- functions (results have 0 integer bits unless said otherwise) -------------------------- */

/* exp(a) for a in [-1/4, 0), a with 0 integer bits: Taylor expansion around -1/8 to 4th order,
 * exp(-1/8) * (1 + x + x^2/2 + x^3/6 + x^4/24) with x = a + 1/8. */
static inline int32_t tc_qf_exp_on_interval_between_negative_one_quarter_and_0_excl(int32_t a) {
  const int32_t exp_minus_one_eighth = 1895147668; /* exp(-1/8) in Q0.31 */
  const int32_t one_third = 715827883;             /* 1/3 in Q0.31 */
  int32_t x = tc_qf_add(a, 1 << 28);               /* + 1/8 */
  int32_t x2 = tc_qf_mul(x, x);
  int32_t x3 = tc_qf_mul(x2, x);
  int32_t x4 = tc_qf_mul(x2, x2);
  int32_t x4_over_4 = tc_qf_srmul_pot(x4, -2);
  int32_t poly = tc_qf_srmul_pot(
      tc_qf_add(tc_qf_mul(tc_qf_add(x4_over_4, x3), one_third), x2), -1);
  return tc_qf_add(exp_minus_one_eighth, tc_qf_mul(exp_minus_one_eighth, tc_qf_add(x, poly)));
}

/* exp(a) for a <= 0 with `ib` integer bits (0..31); the result has 0 integer bits. The input
 * is split into its remainder modulo 1/4 (the interval above) and the multiples of 1/4, 1/2, 1,
 * 2, 4, 8, 16, each bit of which multiplies the result by a constant exp(-2^k); inputs below
 * -32 give 0 and a == 0 gives 1 (the largest Q0.31 value). */
static inline int32_t tc_qf_exp_on_negative_values(int32_t a, int ib) {
  static const int32_t mult[7] = {1672461947, 1302514674, 790015084, 290630308,
                                  39332535,   720401,     242}; /* exp(-2^k), k = -2..4 */
  const int frac_bits = 31 - ib;
  const int32_t one_quarter = (int32_t)(1u << (frac_bits - 2));
  int32_t mask = one_quarter - 1;
  int32_t a_mod_quarter_minus_one_quarter = tc_qf_sub(a & mask, one_quarter);
  int32_t result = tc_qf_exp_on_interval_between_negative_one_quarter_and_0_excl(
      tc_qf_rescale(a_mod_quarter_minus_one_quarter, ib, 0));
  int32_t remainder = tc_qf_sub(a_mod_quarter_minus_one_quarter, a);
  for (int k = -2; k <= 4; k++) {
    if (ib > k) {
      int shift = frac_bits + k;
      if (remainder & (int32_t)(1u << shift)) result = tc_qf_mul(result, mult[k + 2]);
    }
  }
  if (ib > 5) {
    int32_t clamp = -(int32_t)(1u << (36 - ib)); /* -32 */
    if (a < clamp) result = 0;
  }
  if (a == 0) result = INT32_MAX;
  return result;
}

/* 1 / (1 + a) for a in [0, 1) with 0 integer bits, by three Newton-Raphson steps (in Q2.29)
 * from the initial guess 48/17 - 32/17 * d, d = (1 + a) / 2. The result is in (1/2, 1]. */
static inline int32_t tc_qf_one_over_one_plus_x_for_x_in_0_1(int32_t a) {
  int32_t half_denominator = tc_qf_rounding_half_sum(a, INT32_MAX);
  const int32_t c48_17 = 1515870810, cneg32_17 = -1010580540; /* Q2.29 */
  const int32_t one_q2 = 1 << 29;
  int32_t x = tc_qf_add(c48_17, tc_qf_mul(half_denominator, cneg32_17));
  for (int i = 0; i < 3; i++) {
    int32_t hd_x = tc_qf_mul(half_denominator, x);         /* Q2 */
    int32_t one_minus = tc_qf_sub(one_q2, hd_x);           /* Q2 */
    x = tc_qf_add(x, tc_qf_rescale(tc_qf_mul(x, one_minus), 4, 2));
  }
  /* x / 2 exactly (reinterpret Q2 as Q1), then back to Q0. */
  return tc_qf_rescale(x, 1, 0);
}

/* (1 - a) / (1 + a) for a in [0, 1), 0 integer bits: the same Newton-Raphson division, then
 * subtract one. */
static inline int32_t tc_qf_one_minus_x_over_one_plus_x_for_x_in_0_1(int32_t a) {
  int32_t half_denominator = tc_qf_rounding_half_sum(a, INT32_MAX);
  const int32_t c48_17 = 1515870810, cneg32_17 = -1010580540;
  const int32_t one_q2 = 1 << 29;
  int32_t x = tc_qf_add(c48_17, tc_qf_mul(half_denominator, cneg32_17));
  for (int i = 0; i < 3; i++) {
    int32_t hd_x = tc_qf_mul(half_denominator, x);
    int32_t one_minus = tc_qf_sub(one_q2, hd_x);
    x = tc_qf_add(x, tc_qf_rescale(tc_qf_mul(x, one_minus), 4, 2));
  }
  return tc_qf_rescale(tc_qf_sub(x, one_q2), 2, 0);
}

/* logistic(a) = 1 / (1 + exp(-a)) for any a with `ib` integer bits (0..30); Q0.31 result. */
static inline int32_t tc_qf_logistic(int32_t a, int ib) {
  if (a == 0) return 1 << 30; /* 1/2 */
  int32_t abs_a = a > 0 ? a : tc_qf_neg(a);
  int32_t pos = tc_qf_one_over_one_plus_x_for_x_in_0_1(
      tc_qf_exp_on_negative_values(tc_qf_neg(abs_a), ib));
  return a > 0 ? pos : tc_qf_sub(INT32_MAX, pos);
}

/* tanh(a) for any a with `ib` integer bits (0..29); Q0.31 result. For a < 0,
 * -tanh(a) = (1 - exp(2a)) / (1 + exp(2a)), with 2a taken exactly as ib + 1 integer bits. */
static inline int32_t tc_qf_tanh(int32_t a, int ib) {
  if (a == 0) return 0;
  int32_t n = a < 0 ? a : tc_qf_neg(a);
  int32_t t = tc_qf_one_minus_x_over_one_plus_x_for_x_in_0_1(
      tc_qf_exp_on_negative_values(n, ib + 1));
  return a < 0 ? tc_qf_neg(t) : t;
}

/* TFLite's GetReciprocal: for x > 0 with `x_ib` integer bits returns a Q0.31 value s and
 * *num_bits_over_unit = k with 1/x ~= s * 2^-k (s in (1/2, 1]). */
static inline int32_t tc_qf_reciprocal(int32_t x, int x_ib, int *num_bits_over_unit) {
  int headroom_plus_one = tc_qf_clz32((uint32_t)x);
  *num_bits_over_unit = x_ib - headroom_plus_one;
  int32_t shifted_minus_one =
      (int32_t)(((uint32_t)x << headroom_plus_one) - (1u << 31));
  return tc_qf_one_over_one_plus_x_for_x_in_0_1(shifted_minus_one);
}

/* ---- prepare-time helpers (double arithmetic as in TFLite) --------------------------------- */

/* TFLite's QuantizeMultiplier in its default (double rounding) form: q in [2^30, 2^31), shift
 * unclamped above (up to 31 for multipliers just below 2^31); tiny multipliers flush to 0. */
static inline void tc_qf_quantize_multiplier(double m, int32_t *q, int *shift) {
  if (!(m > 0.0) || isinf(m)) {
    *q = 0;
    *shift = 0;
    return;
  }
  int e = 0;
  double frac = frexp(m, &e);
  int64_t qf = (int64_t)round(frac * (double)(1ll << 31));
  if (qf == (1ll << 31)) {
    qf /= 2;
    e++;
  }
  if (e < -31) {
    e = 0;
    qf = 0;
  }
  *q = (int32_t)qf;
  *shift = e;
}

/* TFLite's CalculateInputRadius: floor(((2^ib - 1) * 2^(total_signed_bits - ib)) / 2^left_shift),
 * the largest |input| (in input units) whose rescaled value (a left shift by left_shift into
 * `ib` integer bits) stays representable. Powers of two are exact in double, so ldexp gives
 * TFLite's value for every shift (also negative ones, where TFLite's own shift is undefined);
 * the result saturates at INT32_MAX. */
static inline int32_t tc_qf_input_radius(int ib, int left_shift, int total_signed_bits) {
  double r = floor(ldexp((double)((1 << ib) - 1), total_signed_bits - ib - left_shift));
  return r >= 2147483647.0 ? INT32_MAX : (int32_t)r;
}

#endif /* TC_KERNELS_REF_QFIXED_H */
