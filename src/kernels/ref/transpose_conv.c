/* transpose_conv.c: reference transposed convolution (see transpose_conv.h). TFLite scatters
 * every input pixel into the outputs it touches; this kernel gathers instead: output row oy
 * receives input row iy through filter row ky exactly when iy * stride_h - pad_top + ky == oy.
 * Integer sums are exact (64-bit) so the order does not matter and the result equals TFLite's
 * bit for bit; the float sum order differs from TFLite's by rounding only. */
#include "kernels/ref/transpose_conv.h"

#include "kernels/ref/qmath.h"

/* Input coordinate that reaches output coordinate `o` through filter tap `k`, or -1. */
static inline int32_t src_index(int32_t o, int32_t k, int32_t stride, int32_t pad, int32_t size) {
  int32_t t = o + pad - k;
  if (t < 0 || t % stride != 0) return -1;
  t /= stride;
  return t < size ? t : -1;
}

#define TC_TCONV_SUM(TIN, TF, ACC_T, IN_OFF)                                                     \
  ACC_T acc = 0;                                                                                 \
  for (int32_t ky = 0; ky < p->k_h; ky++) {                                                      \
    const int32_t iy = src_index(oy, ky, p->stride_h, p->pad_top, p->in_h);                      \
    if (iy < 0) continue;                                                                        \
    for (int32_t kx = 0; kx < p->k_w; kx++) {                                                    \
      const int32_t ix = src_index(ox, kx, p->stride_w, p->pad_left, p->in_w);                   \
      if (ix < 0) continue;                                                                      \
      const TIN *ip = in + (((int64_t)b * p->in_h + iy) * p->in_w + ix) * p->in_c;               \
      const TF *fp = filter + (((int64_t)oc * p->k_h + ky) * p->k_w + kx) * p->in_c;             \
      for (int32_t ic = 0; ic < p->in_c; ic++) acc += (ACC_T)fp[ic] * ((ACC_T)ip[ic] + IN_OFF);  \
    }                                                                                            \
  }

#define TC_TCONV_LOOPS(BODY)                                                                     \
  for (int32_t b = 0; b < p->batch; b++)                                                         \
    for (int32_t oy = 0; oy < p->out_h; oy++)                                                    \
      for (int32_t ox = 0; ox < p->out_w; ox++)                                                  \
        for (int32_t oc = 0; oc < p->out_c; oc++) {                                              \
          const int64_t at = (((int64_t)b * p->out_h + oy) * p->out_w + ox) * p->out_c + oc;     \
          BODY                                                                                   \
        }

void tc_f32_transpose_conv2d__ref(const tc_tconv2d_params *p, const float *in,
                                  const float *filter, const float *bias, float *out) {
  TC_TCONV_LOOPS({
    TC_TCONV_SUM(float, float, float, 0.0f)
    if (bias) acc += bias[oc];
    out[at] = acc < p->act_min ? p->act_min : (acc > p->act_max ? p->act_max : acc);
  })
}

void tc_s8_transpose_conv2d__ref(const tc_tconv2d_params *p, const tc_q_requant *q,
                                 const int8_t *in, const int8_t *filter, const int32_t *bias,
                                 int8_t *out) {
  const int64_t in_off = q->input_offset;
  TC_TCONV_LOOPS({
    TC_TCONV_SUM(int8_t, int8_t, int64_t, in_off)
    if (bias) acc += bias[oc];
    int32_t r = tc_q_mul((int32_t)(uint32_t)(uint64_t)acc, q->mult[oc], q->shift[oc]);
    out[at] = (int8_t)tc_q_add_clamp(r, q->output_offset, q->act_min, q->act_max);
  })
}

void tc_s16_transpose_conv2d__ref(const tc_tconv2d_params *p, const tc_q_requant *q,
                                  const int16_t *in, const int8_t *filter, const int64_t *bias,
                                  int16_t *out) {
  TC_TCONV_LOOPS({
    TC_TCONV_SUM(int16_t, int8_t, int64_t, 0)
    if (bias) acc += bias[oc];
    out[at] = (int16_t)tc_q_clamp(tc_q_mul64(acc, q->mult[oc], q->shift[oc]), q->act_min,
                                  q->act_max);
  })
}
