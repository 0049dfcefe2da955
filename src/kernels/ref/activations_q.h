/* activations_q.h: reference quantized LOGISTIC and TANH kernels, elementwise over `n` values
 * (in and out may alias).
 *
 * - int8: TFLite's reference fixed-point kernels (what TFLite Micro runs). The input minus its
 *   zero point is scaled into Q4.27; inputs beyond the range radius saturate. LOGISTIC writes
 *   scale 1/256 zero point -128, TANH scale 1/128 zero point 0.
 * - int16: TFLite Micro's kernels on a 256-entry sigmoid table with linear interpolation
 *   (tanh(x) = 2 sigmoid(2x) - 1); input zero point 0, output scale 2^-15 zero point 0.
 * - uint8: TFLite's default optimized kernels, a 256-entry table built in float (dequantize,
 *   apply the function, quantize with round-half-away), then one lookup per element. */
#ifndef TC_KERNELS_REF_ACTIVATIONS_Q_H
#define TC_KERNELS_REF_ACTIVATIONS_Q_H
#include <stddef.h>
#include <stdint.h>

/* int8 parameters, the same for LOGISTIC and TANH (4 input integer bits). */
typedef struct tc_act_s8_params {
  int32_t input_zero_point;
  int32_t input_range_radius; /* |input - zero_point| >= radius saturates */
  int32_t input_multiplier;   /* input scale * 2^27 = multiplier * 2^(left_shift - 31) */
  int input_left_shift;
} tc_act_s8_params;

/* Returns 0 if input_scale is not a positive finite number. */
int tc_act_s8_params_init(float input_scale, int32_t input_zero_point, tc_act_s8_params *p);
void tc_s8_logistic__ref(const int8_t *in, int8_t *out, size_t n, const tc_act_s8_params *p);
void tc_s8_tanh__ref(const int8_t *in, int8_t *out, size_t n, const tc_act_s8_params *p);

/* int16 parameters: the input is rescaled to 1/(3 * 4096) units (or taken as is when the
 * input scale is a suitable power of two: multiplier 0). */
typedef struct tc_act_s16_params {
  int32_t input_multiplier; /* 0: power-of-two input scale */
  int input_left_shift;
} tc_act_s16_params;

/* Return 0 if the input scale is not usable (not positive and finite, or so large that the
 * rescaling multiplier exceeds 15 bits). */
int tc_logistic_s16_params_init(float input_scale, tc_act_s16_params *p);
int tc_tanh_s16_params_init(float input_scale, tc_act_s16_params *p);
void tc_s16_logistic__ref(const int16_t *in, int16_t *out, size_t n, const tc_act_s16_params *p);
void tc_s16_tanh__ref(const int16_t *in, int16_t *out, size_t n, const tc_act_s16_params *p);

/* TFLite's CheckedLog2: *log2 = round(log2(x)); returns 1 if x is within 1e-3 (in log2 units)
 * of that power of two. Float arithmetic as TFLite. */
int tc_checked_log2(float x, int *log2);

/* uint8 table: lut[v] = quantize(fn(dequantize(v))). */
void tc_u8_act_lut_fill(float input_scale, int32_t input_zero_point, float output_scale,
                        int32_t output_zero_point, float (*fn)(float), uint8_t lut[256]);
void tc_u8_lut__ref(const uint8_t *in, uint8_t *out, size_t n, const uint8_t lut[256]);

/* The float functions TFLite builds its LOGISTIC / TANH tables from. */
float tc_logistic_f(float x);
float tc_tanh_f(float x);

#endif
