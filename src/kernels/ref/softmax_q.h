/* softmax_q.h: reference quantized softmax kernels along the innermost axis (TFLite SOFTMAX),
 * each over `outer` rows of `depth` elements (depth 0: nothing to do). in and out must not alias.
 *
 * - int8 -> int8 / int8 -> int16: TFLite's reference fixed-point algorithm (what TFLite Micro
 *   runs): input differences to the row maximum are scaled by beta * input_scale into Q5.26,
 *   exponentiated in fixed point, summed in Q12.19, and divided with a fixed-point reciprocal.
 *   Output quantization is implied: int8 scale 1/256 zero point -128, int16 scale 1/65536
 *   zero point -32768.
 * - int16 -> int16: TFLite Micro's table version (513-entry exp and 1/(1+x) tables with linear
 *   interpolation), output scale 1/32768 zero point 0.
 * - uint8 -> uint8: TFLite's default optimized kernel, a 256-entry float table of exp(-input_scale * beta * d), a float sum and
 *   a rounding to the output scale; the uint8 models' golden runtime uses it. */
#ifndef TC_KERNELS_REF_SOFTMAX_Q_H
#define TC_KERNELS_REF_SOFTMAX_Q_H
#include <stddef.h>
#include <stdint.h>

/* Fixed-point parameters (PreprocessSoftmaxScaling with 5 integer bits, CalculateInputRadius). */
typedef struct tc_softmax_q_params {
  int32_t input_multiplier; /* Q0.31 */
  int input_left_shift;     /* >= 0 */
  int32_t diff_min;         /* differences below this give exp == 0 (<= 0) */
} tc_softmax_q_params;

/* Fills p from beta and the input scale as TFLite does. Returns 0 if beta * input_scale is not
 * a positive finite number (the multiplier would not be > 1 in Q5.26 terms). */
int tc_softmax_q_params_init(double beta, double input_scale, tc_softmax_q_params *p);

void tc_s8_softmax__ref(const int8_t *in, int8_t *out, size_t outer, size_t depth,
                        const tc_softmax_q_params *p);
void tc_s8_s16_softmax__ref(const int8_t *in, int16_t *out, size_t outer, size_t depth,
                            const tc_softmax_q_params *p);

/* int16 table version. The tables are filled by tc_softmax_s16_params_init. */
#define TC_SOFTMAX_S16_LUT_SIZE 513
typedef struct tc_softmax_s16_params {
  int32_t input_multiplier;
  int input_shift; /* signed: > 0 left */
  int16_t exp_lut[TC_SOFTMAX_S16_LUT_SIZE];                 /* exp(x), x in [-10, 0] */
  int16_t one_over_one_plus_x_lut[TC_SOFTMAX_S16_LUT_SIZE]; /* 1/(1+x), x in [0, 1] */
} tc_softmax_s16_params;

/* Returns 0 if beta * input_scale is not a positive finite number. */
int tc_softmax_s16_params_init(double beta, double input_scale, tc_softmax_s16_params *p);
void tc_s16_softmax__ref(const int16_t *in, int16_t *out, size_t outer, size_t depth,
                         const tc_softmax_s16_params *p);

/* TFLite's int16 interpolating table lookup (LUTLookup) and table generator (gen_lut for
 * int16 input and output: 512 steps over [in_min, in_max] plus one end point, each value
 * corrected by half the midpoint interpolation error), shared with other int16 table ops. */
int16_t tc_s16_lut_lookup(int16_t value, const int16_t *lut);
void tc_s16_lut_fill(float (*fn)(float), float in_min, float in_max, float out_min,
                     float out_max, int16_t *lut);

/* Float-table version (uint8 input). */
typedef struct tc_softmax_table_params {
  float table[256];   /* table[255 - d] = expf(-input_scale * beta * d) */
  float output_scale; /* dequantization scale of the output (its zero point must be 0) */
} tc_softmax_table_params;

void tc_softmax_table_params_init(float input_scale, float beta, float output_scale,
                                  tc_softmax_table_params *p);
void tc_u8_softmax__ref(const uint8_t *in, uint8_t *out, size_t outer, size_t depth,
                        const tc_softmax_table_params *p);

#endif
