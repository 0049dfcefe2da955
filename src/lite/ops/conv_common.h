/* conv_common.h: quantization setup shared by the convolution-like glue files (conv2d.c,
 * depthwise_conv2d.c, transpose_conv.c, fully_connected.c; lstm.c and svdf.c use the per-tensor
 * check): the integer range of a dtype,
 * validation of the input / filter / output quantization and the per-output-channel
 * requantization parameters, as TFLite Micro's PopulateConvolutionQuantizationParams computes
 * them. Internal to src/lite/ops. */
#ifndef TC_LITE_OPS_CONV_COMMON_H
#define TC_LITE_OPS_CONV_COMMON_H

#include "kernels/ref/conv2d_q.h"
#include "lite/ops.h"

/* The integer range of a quantized dtype: uint8 [0, 255], int16 [INT16_MIN, INT16_MAX], every
 * other dtype int8's [INT8_MIN, INT8_MAX]. */
void tc__q_dtype_range(tc_dtype dt, int32_t *lo, int32_t *hi);

/* The one (per-tensor) scale and zero point of tensor t, named `what` in errors: fails without
 * quantization and with several scales. (A zero point outside an int8/uint8/int16 tensor's type
 * never gets here: the loader rejects the file, model.c load_quant.) */
tc_status tc__q_per_tensor(tc__ctx *c, tc__node *n, const tc__tensor *t, const char *what,
                           float *scale, int32_t *zp);

/* How one op's filter is quantized and named. */
typedef struct tc__conv_qspec {
  int32_t out_c; /* output channels (features): the length of a per-channel scale vector */
  int axis;      /* the filter axis per-channel scales run along */
  /* FULLY_CONNECTED's rules: the filter is called "weights" in messages, its zero point must lie
   * in [-255, 255] and is kept as the filter offset when quantized per tensor. Otherwise the
   * filter offset is minus the zero point of a uint8 filter, and 0 for other dtypes. */
  int weights;
} tc__conv_qspec;

/* Checks that input, filter and output carry quantization parameters and that the filter's
 * scales are one per tensor or one per output channel along spec->axis; fails via tc__fail. */
tc_status tc__q_check_conv_quant(tc__ctx *c, tc__node *n, const tc__tensor *in,
                                 const tc__tensor *filter, const tc__tensor *out,
                                 const tc__conv_qspec *spec);

/* tc__q_check_conv_quant, then fills *q: per-channel multipliers and shifts (spec->out_c of
 * each, in prepare-time persistent memory), the zero-point offsets (checked against the
 * dtypes' ranges; int16 activations need zero points 0) and the fused activation's range. */
tc_status tc__q_conv_setup(tc__ctx *c, tc__node *n, const tc__tensor *in,
                           const tc__tensor *filter, const tc__tensor *out, int act,
                           const tc__conv_qspec *spec, tc_q_requant *q);

/* Checks that the node has 2 or 3 inputs (input, filter, optional bias) and one output, and
 * returns them (*bias NULL when absent). */
tc_status tc__conv_io(tc__ctx *c, tc__node *n, tc__tensor **in, tc__tensor **filter,
                      tc__tensor **bias, tc__tensor **out);

/* Kernel kinds of a conv-like op, by dtype (TFLite's combinations). */
enum { TC__CK_F32 = 1, TC__CK_S8, TC__CK_U8, TC__CK_S16, TC__CK_S16_ACC32 };

/* Chooses *kind from the input dtype: float32 (filter dtype f32_filter, float32 bias), int8
 * (int8 filter, int32 bias), uint8 (uint8 filter, int32 bias) or int16 (int8 filter, int64
 * bias: TC__CK_S16, or int32 bias: TC__CK_S16_ACC32); then checks the filter (named
 * filter_name), the optional bias and the output (the input's dtype). */
tc_status tc__conv_pick_kind(tc__ctx *c, tc__node *n, const tc__tensor *in,
                             const tc__tensor *filter, const tc__tensor *bias,
                             const tc__tensor *out, const char *filter_name,
                             tc_dtype f32_filter, int *kind);

/* Checks a convolution's options: padding SAME or VALID, positive strides and dilations (pass
 * 1, 1 for ops without dilation) and a fused activation with a float range, returned in *lo,
 * *hi. Fails via tc__fail naming the bad value. */
tc_status tc__conv_check_options(tc__ctx *c, tc__node *n, int pad, int32_t stride_w,
                                 int32_t stride_h, int32_t dil_w, int32_t dil_h, int act,
                                 float *lo, float *hi);

#endif
