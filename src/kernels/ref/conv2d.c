/* conv2d.c: reference float 2-D convolution (see conv2d.h). Six plain nested loops over
 * output pixel, output channel and filter taps; the ground truth for faster variants. */
#include "kernels/ref/conv2d.h"

void tc_f32_conv2d__ref(const tc_conv2d_params *p, const float *in, const float *filter,
                        const float *bias, float *out) {
  const int32_t groups = p->in_c / p->filter_c;
  const int32_t per_group = p->out_c / groups;
  for (int32_t b = 0; b < p->batch; b++) {
    for (int32_t oy = 0; oy < p->out_h; oy++) {
      const int32_t y0 = oy * p->stride_h - p->pad_top;
      for (int32_t ox = 0; ox < p->out_w; ox++) {
        const int32_t x0 = ox * p->stride_w - p->pad_left;
        float *o = out + (((int64_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c;
        for (int32_t oc = 0; oc < p->out_c; oc++) {
          const int32_t ic0 = (oc / per_group) * p->filter_c;
          float acc = 0.0f;
          for (int32_t ky = 0; ky < p->k_h; ky++) {
            const int32_t y = y0 + ky * p->dilation_h;
            if (y < 0 || y >= p->in_h) continue;
            for (int32_t kx = 0; kx < p->k_w; kx++) {
              const int32_t x = x0 + kx * p->dilation_w;
              if (x < 0 || x >= p->in_w) continue;
              const float *ip = in + (((int64_t)b * p->in_h + y) * p->in_w + x) * p->in_c + ic0;
              const float *fp = filter + (((int64_t)oc * p->k_h + ky) * p->k_w + kx) * p->filter_c;
              for (int32_t ic = 0; ic < p->filter_c; ic++) acc += ip[ic] * fp[ic];
            }
          }
          if (bias) acc += bias[oc];
          o[oc] = acc < p->act_min ? p->act_min : (acc > p->act_max ? p->act_max : acc);
        }
      }
    }
  }
}
