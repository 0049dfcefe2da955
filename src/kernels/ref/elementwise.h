/* elementwise.h: reference kernels for one-operand elementwise ops (EXP, SQRT, RSQRT, ABS, NEG,
 * SQUARE, FLOOR, HARD_SWISH, GELU), for CAST between numeric types and for quantized
 * LEAKY_RELU (int8, uint8, int16). Each takes `n` elements; in and out may alias (in place is
 * allowed). Float LEAKY_RELU lives in activations.h. */
#ifndef TC_KERNELS_REF_ELEMENTWISE_H
#define TC_KERNELS_REF_ELEMENTWISE_H

#include <stddef.h>
#include <stdint.h>

#include "tensorc.h" /* tc_dtype */

void tc_f32_exp__ref(const float *in, float *out, size_t n);
void tc_f32_sqrt__ref(const float *in, float *out, size_t n);
/* 1 / sqrt(x): +inf at 0, NaN below 0. */
void tc_f32_rsqrt__ref(const float *in, float *out, size_t n);
void tc_f32_abs__ref(const float *in, float *out, size_t n);
void tc_f32_neg__ref(const float *in, float *out, size_t n);
void tc_f32_square__ref(const float *in, float *out, size_t n);
void tc_f32_floor__ref(const float *in, float *out, size_t n);
/* x * relu6(x + 3) / 6 */
void tc_f32_hard_swish__ref(const float *in, float *out, size_t n);
/* approximate != 0: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)));
 * approximate == 0: 0.5 x (1 + erf(x / sqrt(2))). */
void tc_f32_gelu__ref(const float *in, float *out, size_t n, int approximate);

/* int32 ABS and NEG wrap around at INT32_MIN (|INT32_MIN| = INT32_MIN), as two's complement. */
void tc_i32_abs__ref(const int32_t *in, int32_t *out, size_t n);
void tc_i32_neg__ref(const int32_t *in, int32_t *out, size_t n);

/* 1 if tc_cast__ref converts from/to dtype t: float32, float64, int8, uint8, int16, uint16,
 * int32, uint32, int64, uint64 and bool (one byte, 0 or 1). */
int tc_cast_supported(tc_dtype t);

/* Converts n elements of dtype `from` at in to dtype `to` at out, element by element:
 *  - integer to integer keeps the low bits (two's complement wrap, like a C++ static_cast);
 *  - float to integer truncates toward zero; values outside int64 saturate and NaN gives 0,
 *    then the int64 is narrowed as above (so -1.5 -> uint8 gives 255, as on common hardware);
 *  - anything to bool is (x != 0) (NaN is true); bool reads as 0 or 1 (any non-zero byte is 1);
 *  - integer to float rounds to nearest.
 * in and out may alias only when both dtypes have the same size. Returns 0 (writing nothing)
 * if either dtype is unsupported, 1 otherwise. */
int tc_cast__ref(tc_dtype from, const void *in, tc_dtype to, void *out, size_t n);

/* Quantized LEAKY_RELU (TFLite Micro's arithmetic): with x = q_in - in_zp,
 *   out = out_zp + M_identity * x   for x >= 0,   out_zp + M_alpha * x   for x < 0,
 * each M applied with the double-rounding MultiplyByQuantizedMultiplier, then saturated to the
 * output type. M_identity = in_scale / out_scale and M_alpha = in_scale * alpha / out_scale are
 * formed in float and split into (multiplier, shift); M_alpha may be negative (alpha < 0). */
typedef struct tc_qleaky_params {
  int32_t in_zp, out_zp;
  int32_t mult_identity, mult_alpha;
  int shift_identity, shift_alpha;
} tc_qleaky_params;

/* Fills *p. Returns 0 if a scale is not positive and finite or alpha is not finite. */
int tc_qleaky_params_init(tc_qleaky_params *p, float in_scale, int32_t in_zp, float out_scale,
                          int32_t out_zp, float alpha);
void tc_s8_leaky_relu__ref(const tc_qleaky_params *p, const int8_t *in, int8_t *out, size_t n);
void tc_u8_leaky_relu__ref(const tc_qleaky_params *p, const uint8_t *in, uint8_t *out, size_t n);
void tc_s16_leaky_relu__ref(const tc_qleaky_params *p, const int16_t *in, int16_t *out,
                            size_t n);

#endif /* TC_KERNELS_REF_ELEMENTWISE_H */
