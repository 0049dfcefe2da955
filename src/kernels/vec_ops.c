/* vec_ops.c: the reference variants of the vec_ops.h kernel slots. Each one runs the plain
 * reference kernel of src/kernels/ref on the sub-problem of the requested output rows (one batch
 * image at a time, the top padding shifted by the first row), so the result of any row split is
 * exactly the reference kernel's result on the whole tensor. */
#include "kernels/vec_ops.h"

#include "kernels/ref/depthwise_q.h"
#include "kernels/ref/pool_q.h"
#include "kernels/ref/reduce.h"

/* Calls fn(sub, b, oy0) for each batch image touched by rows [row_begin, row_end) of a
 * [batch * out_h] row space, with the sub-geometry of that image's rows. */
#define FOR_IMAGE_ROWS(P, ROW_BEGIN, ROW_END, ...)                                       \
  do {                                                                                    \
    for (int32_t r_ = (ROW_BEGIN); r_ < (ROW_END);) {                                     \
      const int32_t b = r_ / (P)->out_h, oy0 = r_ % (P)->out_h;                           \
      int32_t oy1 = (P)->out_h;                                                           \
      if ((ROW_END) - r_ < oy1 - oy0) oy1 = oy0 + ((ROW_END) - r_);                       \
      sub = *(P);                                                                         \
      sub.batch = 1;                                                                      \
      sub.out_h = oy1 - oy0;                                                              \
      sub.pad_top = (P)->pad_top - oy0 * (P)->stride_h;                                   \
      __VA_ARGS__;                                                                        \
      r_ += oy1 - oy0;                                                                    \
    }                                                                                     \
  } while (0)

static void f32_dw_ref(const tc_dwconv2d_params *p, const float *in, const float *filter,
                       const float *bias, float *out, int32_t row_begin, int32_t row_end) {
  const int64_t out_c = (int64_t)p->in_c * p->depth_multiplier;
  const int64_t in_img = (int64_t)p->in_h * p->in_w * p->in_c;
  tc_dwconv2d_params sub;
  FOR_IMAGE_ROWS(p, row_begin, row_end,
                 tc_f32_depthwise_conv2d__ref(
                     &sub, in + b * in_img, filter, bias,
                     out + ((int64_t)b * p->out_h + oy0) * p->out_w * out_c));
}

static size_t q8_dw_packed_size(const tc_dwconv2d_params *p) {
  (void)p;
  return 0;
}

static void s8_dw_ref(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in,
                      const void *filter, const int32_t *bias, const void *packed, void *out,
                      int32_t row_begin, int32_t row_end) {
  const int64_t out_c = (int64_t)p->in_c * p->depth_multiplier;
  const int64_t in_img = (int64_t)p->in_h * p->in_w * p->in_c;
  tc_dwconv2d_params sub;
  (void)packed;
  FOR_IMAGE_ROWS(p, row_begin, row_end,
                 tc_s8_depthwise_conv2d__ref(
                     &sub, q, (const int8_t *)in + b * in_img, filter, bias,
                     (int8_t *)out + ((int64_t)b * p->out_h + oy0) * p->out_w * out_c));
}

static void u8_dw_ref(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in,
                      const void *filter, const int32_t *bias, const void *packed, void *out,
                      int32_t row_begin, int32_t row_end) {
  const int64_t out_c = (int64_t)p->in_c * p->depth_multiplier;
  const int64_t in_img = (int64_t)p->in_h * p->in_w * p->in_c;
  tc_dwconv2d_params sub;
  (void)packed;
  FOR_IMAGE_ROWS(p, row_begin, row_end,
                 tc_u8_depthwise_conv2d__ref(
                     &sub, q, (const uint8_t *)in + b * in_img, filter, bias,
                     (uint8_t *)out + ((int64_t)b * p->out_h + oy0) * p->out_w * out_c));
}

tc_f32_dwconv_kernel tc_f32_dwconv__ref = {"ref", f32_dw_ref};
tc_s8_dwconv_kernel tc_s8_dwconv__ref = {"ref", q8_dw_packed_size, NULL, s8_dw_ref};
tc_u8_dwconv_kernel tc_u8_dwconv__ref = {"ref", q8_dw_packed_size, NULL, u8_dw_ref};

void tc_f32_pool__ref(const tc_pool2d_params *p, int is_max, const float *in, float *out,
                      int32_t row_begin, int32_t row_end) {
  const int64_t in_img = (int64_t)p->in_h * p->in_w * p->channels;
  tc_pool2d_params sub;
  FOR_IMAGE_ROWS(p, row_begin, row_end, {
    const float *i_ = in + b * in_img;
    float *o_ = out + ((int64_t)b * p->out_h + oy0) * p->out_w * p->channels;
    if (is_max) tc_f32_max_pool2d__ref(&sub, i_, o_);
    else tc_f32_avg_pool2d__ref(&sub, i_, o_);
  });
}

#define Q8_POOL_REF(NAME, T, AVG, MAX)                                                         \
  void NAME(const tc_pool2d_params *p, int is_max, int32_t act_min, int32_t act_max,          \
            const void *in, void *out, int32_t row_begin, int32_t row_end) {                   \
    const int64_t in_img = (int64_t)p->in_h * p->in_w * p->channels;                           \
    tc_pool2d_params sub;                                                                      \
    FOR_IMAGE_ROWS(p, row_begin, row_end, {                                                    \
      const T *i_ = (const T *)in + b * in_img;                                                \
      T *o_ = (T *)out + ((int64_t)b * p->out_h + oy0) * p->out_w * p->channels;               \
      if (is_max) MAX(&sub, act_min, act_max, i_, o_);                                         \
      else AVG(&sub, act_min, act_max, i_, o_);                                                \
    });                                                                                        \
  }
Q8_POOL_REF(tc_s8_pool__ref, int8_t, tc_s8_avg_pool2d__ref, tc_s8_max_pool2d__ref)
Q8_POOL_REF(tc_u8_pool__ref, uint8_t, tc_u8_avg_pool2d__ref, tc_u8_max_pool2d__ref)

void tc_s8_addsub__ref(const tc_qadd_params *p, const tc_qadd_lin *lin, int is_sub,
                       const tc_bcast *bc, const void *a, const void *b, void *out) {
  (void)lin;
  if (is_sub) tc_s8_sub__ref(p, bc, a, b, out);
  else tc_s8_add__ref(p, bc, a, b, out);
}
void tc_u8_addsub__ref(const tc_qadd_params *p, const tc_qadd_lin *lin, int is_sub,
                       const tc_bcast *bc, const void *a, const void *b, void *out) {
  (void)lin;
  if (is_sub) tc_u8_sub__ref(p, bc, a, b, out);
  else tc_u8_add__ref(p, bc, a, b, out);
}
void tc_s8_qmul__ref(const tc_qmul_params *p, const tc_bcast *bc, const void *a, const void *b,
                     void *out) {
  tc_s8_mul__ref(p, bc, a, b, out);
}
void tc_u8_qmul__ref(const tc_qmul_params *p, const tc_bcast *bc, const void *a, const void *b,
                     void *out) {
  tc_u8_mul__ref(p, bc, a, b, out);
}

void tc_f32_mean__ref(const float *in, size_t outer, size_t mid, size_t inner, int is_mean,
                      float *out) {
  /* The reference reduction over axis 1 of a rank-3 view (dims fit int32 in real models; a
   * larger view is cut into chunks of outer rows, which reduces each row the same way). */
  const size_t lim = (size_t)INT32_MAX;
  if (mid > lim || inner > lim) return;
  size_t step = outer > lim ? lim : outer;
  for (size_t o = 0; o < outer; o += step) {
    size_t n = outer - o < step ? outer - o : step;
    int32_t dims[3] = {(int32_t)n, (int32_t)mid, (int32_t)inner};
    tc_f32_reduce__ref(in + o * mid * inner, 3, dims, 2u,
                       is_mean ? TC_REDUCE_MEAN : TC_REDUCE_SUM, out + o * inner);
  }
}
