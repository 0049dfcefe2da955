/* qmath.h: TFLite's integer requantization arithmetic, shared by every quantized kernel.
 *
 * A real multiplier M (e.g. in_scale * w_scale / out_scale) is represented as a Q0.31 fixed-
 * point value q in [2^30, 2^31) and a power-of-two exponent `shift` with M ~= q * 2^(shift-31).
 * Reference kernels apply it to an int32 accumulator with the "double rounding" form (a
 * saturating rounding doubling high multiply, then a rounding right shift) — what TFLite Micro's
 * reference kernels use by default. The "single rounding" form (one 64-bit multiply and one
 * rounding shift) is what TFLite selects with TFLITE_SINGLE_ROUNDING; both are here and tested.
 * All functions are exact integer arithmetic: results are bit-identical on every platform. */
#ifndef TC_KERNELS_REF_QMATH_H
#define TC_KERNELS_REF_QMATH_H

#include <stdint.h>

/* Splits a non-negative real multiplier into (q, shift). M == 0 gives (0, 0). Multipliers
 * below 2^-31 underflow to (0, 0); above 2^30 saturate to (INT32_MAX, 30). */
void tc_q_quantize_multiplier(double m, int32_t *q, int *shift);
/* For multipliers < 1 (shift <= 0), as TFLite's QuantizeMultiplierSmallerThanOneExp. */
void tc_q_quantize_multiplier_lt1(double m, int32_t *q, int *shift);
/* Multiplier > 1 (legacy uint8 paths): shift >= 0. */
void tc_q_quantize_multiplier_gt1(double m, int32_t *q, int *shift);

/* (a * b * 2) >> 32 with rounding to nearest (ties away from zero) and saturation of the single
 * overflow case a == b == INT32_MIN. */
static inline int32_t tc_q_srdhm(int32_t a, int32_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  int64_t ab = (int64_t)a * (int64_t)b;
  int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

/* x / 2^exponent rounded to nearest, ties away from zero (exponent in 0..31). */
static inline int32_t tc_q_rdivpot(int32_t x, int exponent) {
  int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  int32_t remainder = x & mask;
  int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* Double rounding: TFLite reference MultiplyByQuantizedMultiplier(int32 x, q, shift). */
static inline int32_t tc_q_mul_double(int32_t x, int32_t q, int shift) {
  int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  return tc_q_rdivpot(tc_q_srdhm((int32_t)((uint32_t)x << left), q), right);
}

/* Single rounding: (x * q + 2^(30-shift)) >> (31 - shift), saturated to int32. */
static inline int32_t tc_q_mul_single(int32_t x, int32_t q, int shift) {
  int total = 31 - shift;
  int64_t r = (int64_t)x * q + ((int64_t)1 << (total - 1));
  r >>= total;
  if (r > INT32_MAX) r = INT32_MAX;
  if (r < INT32_MIN) r = INT32_MIN;
  return (int32_t)r;
}

/* The float form of tc_q_mul_double for SIMD output stages. With u = x mult / 2^31 the
 * reference rounds t = round(u), then t / 2^rshift (ties away from zero). The float form takes
 * t from the low bits of y = fma((float)x, fscale, 1.5 * 2^23) (rounded to nearest even at the
 * float's unit; fscale ~ mult / 2^31 as a float) and the second rounding with the output
 * offset as (bits(y) - fsub) >> rshift (int32, arithmetic shift), with fsub =
 * TC_Q_FLOAT_MAGIC_BITS - 2^(rshift - 1) - out_zp 2^rshift, which rounds ties upward: a
 * conversion, an FMA, a subtract and a shift per vector. Where stores can go below the output
 * offset (lo < out_zp) the ties below zero must go downward: (bits(y) - fsub - (x < 0)) >>
 * rshift (rshift >= 1; two more operations: a shift of x by 31 and an add). tc_q_float_fit
 * says whether, clamped to [lo, hi], the form equals clamp(tc_q_mul_double(x, mult, -rshift) +
 * out_zp, lo, hi) for every x in [-bound, bound] (mult >= 0, rshift 0..22, bound < 2^30,
 * lo <= hi), and sets *fscale
 * (mult / 2^31 rounded to float or, where that fails, one of the floats a few units away) and
 * *fsub. Both forms are non-decreasing step functions of x, so they are equal where every
 * output step lies at the same x: each step's x is computed and both forms are checked on its
 * two sides (about 4 evaluations per step, a few microseconds per column). */
#define TC_Q_FLOAT_MAGIC_BITS 0x4B400000 /* the float 1.5 * 2^23 */
int tc_q_float_fit(int32_t mult, int32_t rshift, int32_t out_zp, int32_t lo, int32_t hi,
                   int64_t bound, float *fscale, int32_t *fsub);

/* The form TFLite Micro's reference kernels are built with (no TFLITE_SINGLE_ROUNDING). */
#ifndef TC_Q_SINGLE_ROUNDING
#define tc_q_mul tc_q_mul_double
#else
#define tc_q_mul tc_q_mul_single
#endif

/* 64-bit accumulator form (int16x8 conv/FC with int64 bias): the multiplier is reduced to Q0.15
 * and applied with one rounding shift, as TFLite's int64 MultiplyByQuantizedMultiplier. */
static inline int32_t tc_q_mul64(int64_t x, int32_t q, int shift) {
  int32_t reduced = q < 0x7FFF0000 ? ((q + (1 << 15)) >> 16) : 0x7FFF;
  if (shift > 14) shift = 14; /* TFLite requires shift < 8; keeps the shift below defined */
  int total = 15 - shift;
  /* TFLite requires |x| < 2^47 (a real accumulator never exceeds it); clamp so hostile biases
   * cannot overflow the 64-bit product. */
  const int64_t lim = (int64_t)1 << 47;
  x = x < -lim ? -lim : (x > lim - 1 ? lim - 1 : x);
  x = x * (int64_t)reduced + ((int64_t)1 << (total - 1));
  return (int32_t)(x >> total);
}

/* Legacy helpers used by uint8 kernels: x * q * 2^shift for shift <= 0 / >= 0. */
static inline int32_t tc_q_mul_lt1(int32_t x, int32_t q, int shift) {
  return tc_q_rdivpot(tc_q_srdhm(x, q), -shift);
}
static inline int32_t tc_q_mul_gt1(int32_t x, int32_t q, int shift) {
  return tc_q_srdhm((int32_t)((uint32_t)x << shift), q);
}

static inline int32_t tc_q_clamp(int32_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

/* clamp(v + offset) where the int32 addition wraps instead of overflowing (undefined in C):
 * hostile scales can push v to the ends of the int32 range, real models never do. Wrapping is
 * what the SIMD variants' 32-bit lane adds do, so they stay bit-identical to this. */
static inline int32_t tc_q_add_clamp(int32_t v, int32_t offset, int32_t lo, int32_t hi) {
  return tc_q_clamp((int32_t)((uint32_t)v + (uint32_t)offset), lo, hi);
}

/* Quantized activation range for a fused activation (TC_ACT_* codes of lite/ops.h) on an
 * output with (scale, zero_point) and integer range [qmin, qmax], as TFLite computes it:
 * RELU -> [max(qmin, zp + round(0/s)), qmax], RELU6 -> upper bound zp + round(6/s), ...
 * Returns 0 for activations that cannot be fused (TANH, SIGN_BIT). */
int tc_q_act_range(int act, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                   int32_t *lo, int32_t *hi);

/* TFLite's float -> quantized rounding: round half away from zero, then + zero point, then
 * saturate to [qmin, qmax]. */
int32_t tc_q_quantize_f32(float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax);

#endif
