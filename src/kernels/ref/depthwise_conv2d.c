/* depthwise_conv2d.c: reference float depthwise convolution (see depthwise_conv2d.h). Plain
 * loops over output pixel, input channel, multiplier and filter taps. */
#include "kernels/ref/depthwise_conv2d.h"

void tc_f32_depthwise_conv2d__ref(const tc_dwconv2d_params *p, const float *in,
                                  const float *filter, const float *bias, float *out) {
  const int32_t out_c = p->in_c * p->depth_multiplier;
  for (int32_t b = 0; b < p->batch; b++) {
    for (int32_t oy = 0; oy < p->out_h; oy++) {
      const int32_t y0 = oy * p->stride_h - p->pad_top;
      for (int32_t ox = 0; ox < p->out_w; ox++) {
        const int32_t x0 = ox * p->stride_w - p->pad_left;
        float *o = out + (((int64_t)b * p->out_h + oy) * p->out_w + ox) * out_c;
        for (int32_t ic = 0; ic < p->in_c; ic++) {
          for (int32_t m = 0; m < p->depth_multiplier; m++) {
            const int32_t oc = ic * p->depth_multiplier + m;
            float acc = 0.0f;
            for (int32_t ky = 0; ky < p->k_h; ky++) {
              const int32_t y = y0 + ky * p->dilation_h;
              if (y < 0 || y >= p->in_h) continue;
              for (int32_t kx = 0; kx < p->k_w; kx++) {
                const int32_t x = x0 + kx * p->dilation_w;
                if (x < 0 || x >= p->in_w) continue;
                float v = in[(((int64_t)b * p->in_h + y) * p->in_w + x) * p->in_c + ic];
                float w = filter[((int64_t)ky * p->k_w + kx) * out_c + oc];
                acc += v * w;
              }
            }
            if (bias) acc += bias[oc];
            o[oc] = acc < p->act_min ? p->act_min : (acc > p->act_max ? p->act_max : acc);
          }
        }
      }
    }
  }
}
