/* pool_q.h: reference quantized average / max pooling (TFLite AVERAGE_POOL_2D and MAX_POOL_2D on
 * int8, uint8 and int16), bit-exact with TensorFlow Lite Micro's reference kernels. Input and
 * output share scale and zero point, so no requantization happens: the average is the integer
 * mean over the clipped window, rounded half away from zero. Geometry is the float kernel's
 * tc_pool2d_params (float clamp ignored); act_min / act_max is the quantized fused-activation
 * range. */
#ifndef TC_KERNELS_REF_POOL_Q_H
#define TC_KERNELS_REF_POOL_Q_H
#include <stdint.h>

#include "kernels/ref/pool.h"

/* Average: sum over the n elements of the clipped window, then (sum + n/2) / n for sum > 0 and
 * (sum - n/2) / n otherwise (C division truncates toward zero), clamped. An empty window (not
 * produced by TFLite's geometry) gives act_min clamped 0. Buffers must not overlap. */
void tc_s8_avg_pool2d__ref(const tc_pool2d_params *p, int32_t act_min, int32_t act_max,
                           const int8_t *in, int8_t *out);
void tc_u8_avg_pool2d__ref(const tc_pool2d_params *p, int32_t act_min, int32_t act_max,
                           const uint8_t *in, uint8_t *out);
void tc_s16_avg_pool2d__ref(const tc_pool2d_params *p, int32_t act_min, int32_t act_max,
                            const int16_t *in, int16_t *out);

/* Maximum over the clipped window (the type's lowest value if empty), clamped. */
void tc_s8_max_pool2d__ref(const tc_pool2d_params *p, int32_t act_min, int32_t act_max,
                           const int8_t *in, int8_t *out);
void tc_u8_max_pool2d__ref(const tc_pool2d_params *p, int32_t act_min, int32_t act_max,
                           const uint8_t *in, uint8_t *out);
void tc_s16_max_pool2d__ref(const tc_pool2d_params *p, int32_t act_min, int32_t act_max,
                            const int16_t *in, int16_t *out);

#endif
