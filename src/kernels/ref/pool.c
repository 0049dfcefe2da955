/* pool.c: reference float average / max pooling (see pool.h). Both walk the same clipped window;
 * only the reduction differs. */
#include <float.h>

#include "kernels/ref/pool.h"

static float clampf(float v, float lo, float hi) { return v < lo ? lo : (v > hi ? hi : v); }

/* Clips the window that starts at `origin` (may be negative) to [0, size): [*lo, *hi). */
static void clip(int32_t origin, int32_t filter, int32_t size, int32_t *lo, int32_t *hi) {
  int32_t a = origin < 0 ? 0 : origin;
  int32_t b = origin + filter;
  if (b > size) b = size;
  *lo = a;
  *hi = b;
}

static void pool(const tc_pool2d_params *p, const float *in, float *out, int is_max) {
  for (int32_t b = 0; b < p->batch; b++) {
    for (int32_t oy = 0; oy < p->out_h; oy++) {
      int32_t y_lo, y_hi;
      clip(oy * p->stride_h - p->pad_top, p->filter_h, p->in_h, &y_lo, &y_hi);
      for (int32_t ox = 0; ox < p->out_w; ox++) {
        int32_t x_lo, x_hi;
        clip(ox * p->stride_w - p->pad_left, p->filter_w, p->in_w, &x_lo, &x_hi);
        float *o = out + (((int64_t)b * p->out_h + oy) * p->out_w + ox) * p->channels;
        for (int32_t ch = 0; ch < p->channels; ch++) {
          float acc = is_max ? -FLT_MAX : 0.0f;
          int32_t count = 0;
          for (int32_t y = y_lo; y < y_hi; y++) {
            for (int32_t x = x_lo; x < x_hi; x++) {
              float v = in[(((int64_t)b * p->in_h + y) * p->in_w + x) * p->channels + ch];
              if (is_max) acc = v > acc ? v : acc;
              else acc += v;
              count++;
            }
          }
          if (!is_max) acc = count > 0 ? acc / (float)count : 0.0f;
          o[ch] = clampf(acc, p->act_min, p->act_max);
        }
      }
    }
  }
}

void tc_f32_avg_pool2d__ref(const tc_pool2d_params *p, const float *in, float *out) {
  pool(p, in, out, 0);
}

void tc_f32_max_pool2d__ref(const tc_pool2d_params *p, const float *in, float *out) {
  pool(p, in, out, 1);
}
