/* binary_q.h: reference kernels for quantized two-operand elementwise ops with NumPy-style
 * broadcasting (the tc_bcast of binary.h): ADD, SUB, MUL, MAXIMUM and MINIMUM on int8, uint8
 * and int16. The arithmetic is TFLite Micro's reference arithmetic, bit for bit:
 *  - ADD/SUB rescale both inputs to a common fixed-point scale (input + offset, shifted left by
 *    20 bits for 8-bit types and 15 bits for int16, times a multiplier below one), add or
 *    subtract, and rescale the sum to the output scale; every multiply is the legacy
 *    "smaller than one" form (saturating rounding doubling high multiply, then a rounding right
 *    shift);
 *  - MUL multiplies the offset inputs in int32 and applies one multiplier (in1 * in2 / out);
 *  - MAXIMUM/MINIMUM compare the stored integers (both inputs and the output share one
 *    quantization in TFLite models).
 * The parameters are computed once, from the scales, by the *_params_init functions. */
#ifndef TC_KERNELS_REF_BINARY_Q_H
#define TC_KERNELS_REF_BINARY_Q_H

#include <stdint.h>

#include "kernels/ref/binary.h" /* tc_bcast */

/* ADD and SUB. Offsets are the negated input zero points; multipliers are Q0.31 with shifts
 * <= 0 (right shifts), as tc_q_quantize_multiplier_lt1 makes them. */
typedef struct tc_qadd_params {
  int32_t in1_offset, in2_offset; /* -zero_point of each input */
  int left_shift;                 /* 20 (int8, uint8) or 15 (int16) */
  int32_t in1_mult, in2_mult;     /* in_scale / (2 * max(in1_scale, in2_scale)) */
  int in1_shift, in2_shift;
  int32_t out_mult; /* 2 * max_in_scale / (2^left_shift * out_scale) */
  int out_shift;
  int32_t out_offset;       /* output zero point */
  int32_t act_min, act_max; /* quantized fused-activation range */
} tc_qadd_params;

/* Fills *p for ADD (is_sub == 0) or SUB (is_sub != 0) on 8-bit (is_16 == 0) or int16 data.
 * TFLite Micro computes the real multipliers in double for ADD and in float for SUB; this
 * follows it. Returns 0 (p partly filled) if a scale is not positive and finite or the output
 * multiplier is not below one (output scale too small for the inputs), 1 otherwise. */
int tc_qadd_params_init(tc_qadd_params *p, int is_sub, int is_16, float in1_scale,
                        int32_t in1_zp, float in2_scale, int32_t in2_zp, float out_scale,
                        int32_t out_zp, int32_t act_min, int32_t act_max);

/* out = clamp(requant(a) +/- requant(b)) over the broadcast bc (element counts as in binary.h:
 * a has bc->n_a elements, b bc->n_b, out bc->n_out). out may alias a non-broadcast operand. */
void tc_s8_add__ref(const tc_qadd_params *p, const tc_bcast *bc, const int8_t *a,
                    const int8_t *b, int8_t *out);
void tc_u8_add__ref(const tc_qadd_params *p, const tc_bcast *bc, const uint8_t *a,
                    const uint8_t *b, uint8_t *out);
void tc_s16_add__ref(const tc_qadd_params *p, const tc_bcast *bc, const int16_t *a,
                     const int16_t *b, int16_t *out);
void tc_s8_sub__ref(const tc_qadd_params *p, const tc_bcast *bc, const int8_t *a,
                    const int8_t *b, int8_t *out);
void tc_u8_sub__ref(const tc_qadd_params *p, const tc_bcast *bc, const uint8_t *a,
                    const uint8_t *b, uint8_t *out);
void tc_s16_sub__ref(const tc_qadd_params *p, const tc_bcast *bc, const int16_t *a,
                     const int16_t *b, int16_t *out);

/* MUL: out = clamp(out_offset + M * (a + in1_offset) * (b + in2_offset)), M as (mult, shift)
 * with any shift (the full MultiplyByQuantizedMultiplier). */
typedef struct tc_qmul_params {
  int32_t in1_offset, in2_offset; /* -zero_point of each input */
  int32_t out_mult;               /* in1_scale * in2_scale / out_scale */
  int out_shift;
  int32_t out_offset;
  int32_t act_min, act_max;
} tc_qmul_params;

/* Fills *p (the multiplier in double, as TFLite Micro). Returns 0 if a scale is not positive
 * and finite, 1 otherwise. */
int tc_qmul_params_init(tc_qmul_params *p, float in1_scale, int32_t in1_zp, float in2_scale,
                        int32_t in2_zp, float out_scale, int32_t out_zp, int32_t act_min,
                        int32_t act_max);

/* The int32 product (a + in1_offset) * (b + in2_offset) must fit: for int16 the zero points
 * are 0 (as TFLite requires), which bounds it by 2^30. */
void tc_s8_mul__ref(const tc_qmul_params *p, const tc_bcast *bc, const int8_t *a,
                    const int8_t *b, int8_t *out);
void tc_u8_mul__ref(const tc_qmul_params *p, const tc_bcast *bc, const uint8_t *a,
                    const uint8_t *b, uint8_t *out);
void tc_s16_mul__ref(const tc_qmul_params *p, const tc_bcast *bc, const int16_t *a,
                     const int16_t *b, int16_t *out);
/* int16 inputs, int8 output (same formula, clamped to the int8 activation range). */
void tc_s16s8_mul__ref(const tc_qmul_params *p, const tc_bcast *bc, const int16_t *a,
                       const int16_t *b, int8_t *out);

/* MAXIMUM (is_max != 0) / MINIMUM of the stored integers. */
void tc_s8_maxmin__ref(int is_max, const tc_bcast *bc, const int8_t *a, const int8_t *b,
                       int8_t *out);
void tc_u8_maxmin__ref(int is_max, const tc_bcast *bc, const uint8_t *a, const uint8_t *b,
                       uint8_t *out);
void tc_s16_maxmin__ref(int is_max, const tc_bcast *bc, const int16_t *a, const int16_t *b,
                        int16_t *out);

#endif /* TC_KERNELS_REF_BINARY_Q_H */
