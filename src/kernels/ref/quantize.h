/* quantize.h: reference kernels for TFLite's QUANTIZE and DEQUANTIZE operators:
 *  - float32 -> int8/uint8/int16/int32: q = round_half_away(x / scale) + zero_point, saturated
 *    to the output type (the division is done in float, as TFLite's AffineQuantize);
 *  - integer -> integer requantization (any of int8, uint8, int16, int32 in and out):
 *    q_out = zp_out + M * (q_in - zp_in) with M = in_scale / out_scale applied by the
 *    double-rounding MultiplyByQuantizedMultiplier, saturated (TFLite's Requantize);
 *  - integer -> float32: scale * (q - zero_point) in float, per tensor or per channel;
 *  - float16 -> float32 (exact conversion, the "float16 weights" export path).
 * Plain arrays in; integer arrays are passed as void * with a tc_dtype. */
#ifndef TC_KERNELS_REF_QUANTIZE_H
#define TC_KERNELS_REF_QUANTIZE_H

#include <stddef.h>
#include <stdint.h>

#include "tensorc.h" /* tc_dtype */

/* 1 for the integer dtypes these kernels read and write: int8, uint8, int16, int32. */
int tc_quantize_int_supported(tc_dtype t);

/* float32 -> integer dtype `to` (tc_quantize_int_supported), n elements. NaN gives the lowest
 * value of the type (it fails every comparison; TFLite's cast is undefined there). */
void tc_quantize_f32__ref(const float *in, tc_dtype to, void *out, size_t n, float scale,
                          int32_t zero_point);

/* Integer requantization from dtype `from` to `to`, n elements; (mult, shift) as
 * tc_q_quantize_multiplier makes them from in_scale / out_scale. The subtraction of the input
 * zero point wraps in int32 (it matters only for int32 input near its limits). */
void tc_requantize__ref(tc_dtype from, const void *in, tc_dtype to, void *out, size_t n,
                        int32_t mult, int shift, int32_t in_zp, int32_t out_zp);

/* Integer dtype `from` -> float32, per tensor: out = scale * (float)(q - zero_point). */
void tc_dequantize__ref(tc_dtype from, const void *in, float *out, size_t n, float scale,
                        int32_t zero_point);

/* Per-channel: element i belongs to channel (i / inner) % n_channels, where inner is the
 * product of the dimensions after the quantized axis. scales / zero_points have n_channels
 * entries. */
void tc_dequantize_per_channel__ref(tc_dtype from, const void *in, float *out, size_t n,
                                    size_t inner, size_t n_channels, const float *scales,
                                    const int64_t *zero_points);

/* IEEE half (binary16) bits -> float, exactly (subnormals, infinities and NaN included). */
float tc_f16_to_f32(uint16_t h);
void tc_dequantize_f16__ref(const uint16_t *in, float *out, size_t n);

#endif /* TC_KERNELS_REF_QUANTIZE_H */
