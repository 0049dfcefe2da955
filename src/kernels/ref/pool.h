/* pool.h: reference float 2-D average and max pooling in NHWC layout (TFLite AVERAGE_POOL_2D and
 * MAX_POOL_2D). Windows are clipped to the image: padded positions are skipped, so the average
 * divides by the number of real elements under the window, as TFLite does. */
#ifndef TC_KERNELS_REF_POOL_H
#define TC_KERNELS_REF_POOL_H
#include <stdint.h>

/* input [batch, in_h, in_w, channels], output [batch, out_h, out_w, channels]. Output (oy, ox)
 * covers input rows [oy * stride_h - pad_top, + filter_h) and the same for columns, clipped
 * to the image. The result is clamped to [act_min, act_max]. */
typedef struct tc_pool2d_params {
  int32_t batch, in_h, in_w, channels;
  int32_t out_h, out_w;
  int32_t filter_h, filter_w;
  int32_t stride_h, stride_w;
  int32_t pad_top, pad_left;
  float act_min, act_max;
} tc_pool2d_params;

/* Mean over the clipped window (0 if the window holds no element, which TFLite's geometry
 * never produces). Buffers must not overlap. */
void tc_f32_avg_pool2d__ref(const tc_pool2d_params *p, const float *in, float *out);
/* Maximum over the clipped window (-FLT_MAX if empty). Buffers must not overlap. */
void tc_f32_max_pool2d__ref(const tc_pool2d_params *p, const float *in, float *out);

#endif
