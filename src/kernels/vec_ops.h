/* vec_ops.h: kernel types of the channel-vectorised ops (DEPTHWISE_CONV_2D, AVERAGE/MAX_POOL_2D,
 * quantized and float ADD/SUB/MUL family, SOFTMAX, MEAN) for the dispatch table of select.h.
 * Every type has a reference variant (vec_ops.c, wrapping the kernels of src/kernels/ref) and
 * optional SIMD variants (src/kernels/x86, files *_avx2.c), listed in kernels.def. Variants of one
 * slot give the same result as the reference kernel: bit-exact for integer data, within FMA /
 * summation-order rounding for float data (documented per type). Row-range kernels compute
 * output rows [row_begin, row_end) of the flattened [batch * out_h] rows, so ops can split one
 * call across the thread pool; each output value depends only on the inputs, never on the
 * split. */
#ifndef TC_KERNELS_VEC_OPS_H
#define TC_KERNELS_VEC_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/ref/binary.h"
#include "kernels/ref/binary_q.h"
#include "kernels/ref/conv2d_q.h"
#include "kernels/ref/depthwise_conv2d.h"
#include "kernels/ref/pool.h"

/* ---- depthwise convolution ------------------------------------------------------------------
 * Float: filter [k_h * k_w][out_c] as in the model, bias NULL or [out_c]. Sums taps in (ky, kx)
 * order from 0 (FMA on SIMD variants), adds the bias, clamps: within a few ulp of the ref. */
typedef struct tc_f32_dwconv_ukernel {
  const char *name;
  void (*run)(const tc_dwconv2d_params *p, const float *in, const float *filter,
              const float *bias, float *out, int32_t row_begin, int32_t row_end);
  /* Layers of at most narrow_c output channels run `narrow` instead (the op follows it at
   * prepare; run itself handles every layer): the AVX-512 kernel hands 8-channel layers to the
   * AVX2 one, where a zmm group would be half masked lanes. NULL: none. kernels.def requires
   * the narrow variant's features of this one too. */
  int32_t narrow_c;
  const struct tc_f32_dwconv_ukernel *narrow;
} tc_f32_dwconv_ukernel;
typedef const tc_f32_dwconv_ukernel tc_f32_dwconv_kernel;

/* 8-bit: the weights are repacked once at prepare (packed_size bytes, 64-byte aligned; 0 means
 * the variant reads filter/bias directly and pack is not called). tc_q_requant as the ref
 * kernels (per output channel mult/shift, double rounding). in/filter/out are int8_t for the s8
 * slot and uint8_t for the u8 slot. Bit-exact with tc_{s8,u8}_depthwise_conv2d__ref. */
typedef struct tc_q8_dwconv_ukernel {
  const char *name;
  size_t (*packed_size)(const tc_dwconv2d_params *p);
  void (*pack)(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *filter,
               const int32_t *bias, void *packed);
  void (*run)(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in,
              const void *filter, const int32_t *bias, const void *packed, void *out,
              int32_t row_begin, int32_t row_end);
  /* As the float kernels': layers of at most narrow_c output channels run `narrow` (packed
   * for it) instead; NULL: none. */
  int32_t narrow_c;
  const struct tc_q8_dwconv_ukernel *narrow;
} tc_q8_dwconv_ukernel;
typedef const tc_q8_dwconv_ukernel tc_s8_dwconv_kernel;
typedef const tc_q8_dwconv_ukernel tc_u8_dwconv_kernel;

/* ---- pooling -------------------------------------------------------------------------------
 * is_max: MAX_POOL_2D, else AVERAGE_POOL_2D. Float: bit-exact with tc_f32_{avg,max}_pool2d__ref
 * (same summation order, true division). 8-bit: act_min/act_max is the quantized clamp;
 * bit-exact with tc_{s8,u8}_{avg,max}_pool2d__ref. */
typedef void tc_f32_pool_kernel(const tc_pool2d_params *p, int is_max, const float *in,
                                float *out, int32_t row_begin, int32_t row_end);
typedef void tc_q8_pool_fn(const tc_pool2d_params *p, int is_max, int32_t act_min,
                           int32_t act_max, const void *in, void *out, int32_t row_begin,
                           int32_t row_end);
typedef tc_q8_pool_fn tc_s8_pool_kernel;
typedef tc_q8_pool_fn tc_u8_pool_kernel;

/* ---- elementwise ---------------------------------------------------------------------------
 * Float binary ops: the signature of tc_f32_binary__ref (binary.h); bit-exact with it for ADD,
 * SUB, MUL, DIV, MAXIMUM, MINIMUM and SQUARED_DIFFERENCE (FLOOR_MOD goes to the ref loop). */
typedef void tc_f32_binary_kernel(tc_binop op, const tc_bcast *bc, const float *a,
                                  const float *b, float *out, float lo, float hi);
/* Linear form of one 8-bit ADD/SUB parameter set: on the stored bytes x (input 0) and y
 * (input 1), out = clamp(floor((A x + B y + C) / 2^(shift + 16)), act_min, act_max) with
 * A = a_hi 2^16 + a_lo, B = b_hi 2^16 + b_lo (|a_lo|, |b_lo| <= 2^15, |a_hi|, |b_hi| < 2^15)
 * and C = c_hi 2^16 + c_lo (0 <= c_lo < 2^16); zero points, the output offset and every
 * rounding are folded into A, B and C. Evaluated as
 *   t = a_hi x + b_hi y + c_hi + floor((a_lo x + b_lo y + c_lo) / 2^16)   (fits int32)
 *   out = clamp(floor(t / 2^shift), act_min, act_max),
 * i.e. two int16-pair products per output (vpmaddwd). tc_qadd_lin_fit finds it and
 * proves it on all 65536 byte pairs, so a kernel given one is bit-exact with the reference. */
typedef struct tc_qadd_lin {
  int32_t a_hi, a_lo, b_hi, b_lo, c_hi, c_lo;
  int32_t shift; /* 0 .. 22 */
  int32_t act_min, act_max;
} tc_qadd_lin;

/* Quantized ADD/SUB (is_sub) and MUL: bit-exact with tc_{s8,u8}_{add,sub,mul}__ref. a, b, out
 * are int8_t (s8 slots) or uint8_t (u8 slots). lin: NULL, or the linear form that
 * tc_qadd_lin_fit found for (p, is_sub) with this slot's kernel; variants may use it instead
 * of p (same result). */
typedef void tc_q8_addsub_fn(const tc_qadd_params *p, const tc_qadd_lin *lin, int is_sub,
                             const tc_bcast *bc, const void *a, const void *b, void *out);
typedef void tc_q8_mul_fn(const tc_qmul_params *p, const tc_bcast *bc, const void *a,
                          const void *b, void *out);
typedef tc_q8_addsub_fn tc_s8_addsub_kernel;
typedef tc_q8_addsub_fn tc_u8_addsub_kernel;
typedef tc_q8_mul_fn tc_s8_qmul_kernel;
typedef tc_q8_mul_fn tc_u8_qmul_kernel;

/* ---- softmax and mean ----------------------------------------------------------------------
 * Softmax: the signature of tc_f32_softmax__ref; SIMD variants use a polynomial exp (relative
 * error below 2e-7) and vector partial sums: probabilities within 1e-6 of the ref. */
typedef void tc_f32_softmax_kernel(const float *in, float *out, size_t outer, size_t depth,
                                   float beta);
/* Sum (is_mean 0) or mean over the middle axis of in[outer][mid][inner] into out[outer][inner];
 * each output sums its inputs in increasing order from 0 and MEAN divides by (float)mid, so
 * the result is bit-exact with tc_f32_reduce__ref (mid == 0 gives 0 / 0 = NaN for MEAN). */
typedef void tc_f32_mean_kernel(const float *in, size_t outer, size_t mid, size_t inner,
                                int is_mean, float *out);

/* ---- reference variants (vec_ops.c) ---------------------------------------------------------- */
extern tc_f32_dwconv_kernel tc_f32_dwconv__ref;
extern tc_s8_dwconv_kernel tc_s8_dwconv__ref;
extern tc_u8_dwconv_kernel tc_u8_dwconv__ref;
void tc_f32_pool__ref(const tc_pool2d_params *p, int is_max, const float *in, float *out,
                      int32_t row_begin, int32_t row_end);
void tc_s8_pool__ref(const tc_pool2d_params *p, int is_max, int32_t act_min, int32_t act_max,
                     const void *in, void *out, int32_t row_begin, int32_t row_end);
void tc_u8_pool__ref(const tc_pool2d_params *p, int is_max, int32_t act_min, int32_t act_max,
                     const void *in, void *out, int32_t row_begin, int32_t row_end);
void tc_s8_addsub__ref(const tc_qadd_params *p, const tc_qadd_lin *lin, int is_sub,
                       const tc_bcast *bc, const void *a, const void *b, void *out);
void tc_u8_addsub__ref(const tc_qadd_params *p, const tc_qadd_lin *lin, int is_sub,
                       const tc_bcast *bc, const void *a, const void *b, void *out);
void tc_s8_qmul__ref(const tc_qmul_params *p, const tc_bcast *bc, const void *a, const void *b,
                     void *out);
void tc_u8_qmul__ref(const tc_qmul_params *p, const tc_bcast *bc, const void *a, const void *b,
                     void *out);
void tc_f32_mean__ref(const float *in, size_t outer, size_t mid, size_t inner, int is_mean,
                      float *out);

/* Finds the linear form of the 8-bit ADD/SUB (p, is_sub) on int8 (is_u8 0) or uint8 data
 * (qadd_lin.c): real coefficients from the multipliers, A and B rounded to ~30 bits, C chosen
 * inside the interval that all 65536 byte pairs allow (their exact outputs from `exact`, a
 * variant of the slot run with lin NULL), then that variant run with the form compared on
 * every pair. Returns 1 and fills *lin when that check passes, 0 otherwise (the parameters
 * keep the variant's exact path). Takes ~0.15 ms with the AVX2 variant; no allocation. */
int tc_qadd_lin_fit(const tc_qadd_params *p, int is_sub, int is_u8, tc_q8_addsub_fn *exact,
                    tc_qadd_lin *lin);
/* One output of the linear form, as every variant computes it (the portable definition). */
int32_t tc_qadd_lin_eval(const tc_qadd_lin *lin, int32_t x, int32_t y);

/* Test hook (x86-64 builds, AVX2 CPUs only): out[i] = the AVX2 lane-wise tc_q_mul_double(x[i],
 * mult[i], shift[i]) for the first n - n % 8 elements, so tests can compare it with qmath.h. */
void tc__avx2_q_mul_check(const int32_t *x, const int32_t *mult, const int32_t *shift,
                          int32_t *out, size_t n);

#endif /* TC_KERNELS_VEC_OPS_H */
