/* test_qconv.c: quantized conv-family and pooling kernels (conv2d_q, depthwise_q,
 * fully_connected_q, pool_q, transpose_conv). Each kernel is checked on hand-computed values and
 * against a naive formula written independently here: zero-point padding by materialising a
 * padded input, requantization by plain rounding formulas on 64-bit integers, transpose conv by
 * scattering as TFLite does. Plus op-level checks of TRANSPOSE_CONV's output_shape handling on
 * the seanet model. */
#include <stdlib.h>

#include "kernels/ref/conv2d_q.h"
#include "kernels/ref/depthwise_q.h"
#include "kernels/ref/fully_connected_q.h"
#include "kernels/ref/pool_q.h"
#include "kernels/ref/transpose_conv.h"
#include "tc_test.h"
#include "tensorc_lite.h"

/* ---- independent arithmetic ------------------------------------------------------------ */

/* x / 2^n rounded to nearest, ties away from zero, on magnitudes. */
static int64_t div_pot_away(int64_t x, int n) {
  if (n == 0) return x;
  int64_t mag = x < 0 ? -x : x;
  int64_t r = (mag + ((int64_t)1 << (n - 1))) >> n;
  return x < 0 ? -r : r;
}

/* floor(a / 2^n) for any sign. */
static int64_t floor_pot(int64_t a, int n) {
  int64_t d = (int64_t)1 << n, q = a / d;
  return (a % d != 0 && a < 0) ? q - 1 : q;
}

/* Double-rounding requantization of an int32 accumulator, written from its definition: a
 * left shift, the doubling high product x*q/2^31 rounded to nearest with ties toward +inf
 * (gemmlowp's nudge: -0.5 becomes 0, +0.5 becomes 1), saturating, then a right shift rounded
 * to nearest with ties away from zero. */
static int32_t naive_mul(int32_t x, int32_t q, int shift) {
  int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
  int64_t xs = (int64_t)(int32_t)((uint32_t)x << left);
  if (xs == INT32_MIN && q == INT32_MIN) return INT32_MAX;
  int64_t hi = floor_pot(xs * q + ((int64_t)1 << 30), 31);
  return (int32_t)div_pot_away(hi, right);
}

/* 64-bit form: Q0.15 multiplier, one rounding (floor of x + 1/2) shift. */
static int32_t naive_mul64(int64_t x, int32_t q, int shift) {
  int64_t reduced = q >= 0x7FFF0000 ? 0x7FFF : (q + 32768) / 65536;
  int total = 15 - shift;
  int64_t num = x * reduced + ((int64_t)1 << (total - 1));
  int64_t den = (int64_t)1 << total;
  int64_t fl = num / den;
  if (num % den != 0 && num < 0) fl--; /* floor */
  return (int32_t)fl;
}

static int32_t clampi(int64_t v, int32_t lo, int32_t hi) {
  return v < lo ? lo : (v > hi ? hi : (int32_t)v);
}

static uint32_t rng_state = 12345;
static int32_t rnd(int32_t lo, int32_t hi) {
  rng_state = rng_state * 1664525u + 1013904223u;
  return lo + (int32_t)((rng_state >> 8) % (uint32_t)(hi - lo + 1));
}

static int same_geom(int same, int in, int k, int stride, int dil, int *out, int *pad) {
  int eff = (k - 1) * dil + 1;
  if (same) {
    *out = (in + stride - 1) / stride;
    int total = (*out - 1) * stride + eff - in;
    *pad = total > 0 ? total / 2 : 0;
  } else {
    *out = (in - eff + stride) / stride;
    *pad = 0;
  }
  return *out > 0;
}

/* ---- multipliers ----------------------------------------------------------------------- */

TC_TEST(kernel_qconv_multipliers) {
  int32_t m[3], s[3];
  float ws[3] = {0.25f, 0.5f, 0.0f};
  /* 0.5 * 0.25 / 0.125 = 1.0 = 2^30 * 2^(1-31). */
  CHECK(tc_q_conv_multipliers(0.5f, ws, 1, 0.125f, 2, m, s));
  CHECK_EQ(m[0], 1 << 30);
  CHECK_EQ(s[0], 1);
  CHECK_EQ(m[1], 1 << 30);
  /* Per channel: 0.5*0.5/0.125 = 2 -> shift 2; a zero scale gives a zero multiplier. */
  CHECK(tc_q_conv_multipliers(0.5f, ws, 3, 0.125f, 3, m, s));
  CHECK_EQ(s[0], 1);
  CHECK_EQ(m[1], 1 << 30);
  CHECK_EQ(s[1], 2);
  CHECK_EQ(m[2], 0);
  /* 0.3: frac 0.6 * 2^31 rounded, exponent -1. */
  float w1 = 0.3f;
  CHECK(tc_q_conv_multipliers(1.0f, &w1, 1, 1.0f, 1, m, s));
  CHECK_EQ(m[0], (int32_t)llround((double)0.3f * 2.0 * 2147483648.0));
  CHECK_EQ(s[0], -1);
  /* Errors: wrong scale count, non-positive input/output scale, negative filter scale. */
  CHECK(!tc_q_conv_multipliers(0.5f, ws, 2, 0.125f, 3, m, s));
  CHECK(!tc_q_conv_multipliers(0.0f, ws, 1, 0.125f, 1, m, s));
  CHECK(!tc_q_conv_multipliers(0.5f, ws, 1, -1.0f, 1, m, s));
  float neg = -0.1f;
  CHECK(!tc_q_conv_multipliers(0.5f, &neg, 1, 1.0f, 1, m, s));
}

/* ---- CONV_2D --------------------------------------------------------------------------- */

TC_TEST(kernel_qconv_conv_s8_hand) {
  /* 1x2x2x1 input (zero point 1), 1x2x2x1 filter, VALID: one output.
   * acc = 1*(3-1) + 2*(5-1) + (-1)*(1-1) + 3*(-2-1) = 2 + 8 + 0 - 9 = 1, + bias 9 = 10.
   * multiplier 0.5 (q = 2^30, shift 0): 5, + output zero point -3 = 2. */
  tc_conv2d_params p = {1, 2, 2, 1, 1, 1, 1, 2, 2, 1, 1, 1, 1, 1, 0, 0, 0, 0};
  int32_t mult = 1 << 30, shift = 0, bias = 9;
  tc_q_requant q = {-1, 0, -3, &mult, &shift, -128, 127};
  int8_t in[4] = {3, 5, 1, -2}, f[4] = {1, 2, -1, 3}, out[1] = {0};
  tc_s8_conv2d__ref(&p, &q, in, f, &bias, out);
  CHECK_EQ(out[0], 2);
  /* Fused clamp: activation range [4, 127] lifts it to 4. */
  q.act_min = 4;
  tc_s8_conv2d__ref(&p, &q, in, f, &bias, out);
  CHECK_EQ(out[0], 4);
  /* Rounding: acc 1 (no bias) * 0.5 = 0.5 -> 1; acc -1 * 0.5 = -0.5 -> 0: the doubling high
   * multiply breaks ties toward +inf, as TFLite's reference kernels do. */
  q.act_min = -128;
  q.output_offset = 0;
  tc_s8_conv2d__ref(&p, &q, in, f, NULL, out);
  CHECK_EQ(out[0], 1);
  int8_t f2[4] = {-1, -2, 1, -3};
  tc_s8_conv2d__ref(&p, &q, in, f2, NULL, out);
  CHECK_EQ(out[0], 0);
  /* With shift -1 (multiplier 0.25 = 0.5 * 2^-1): acc 10 -> 2.5: the high multiply gives 5
   * exactly, the rounding right shift takes 2.5 away from zero to 3; acc -10 -> -3. */
  shift = -1;
  tc_s8_conv2d__ref(&p, &q, in, f, &bias, out);
  CHECK_EQ(out[0], 3);
  int32_t nbias = -19; /* acc 1 - 19 = -18 -> -4.5 -> -5 */
  tc_s8_conv2d__ref(&p, &q, in, f, &nbias, out);
  CHECK_EQ(out[0], -5);
}

/* Naive quantized conv: materialises the zero-point padded input, then a VALID loop. Kind 0:
 * s8, 1: u8, 2: s16 (int64 bias), 3: s16 with int32 bias. */
static void conv_case(int kind, int in_h, int in_w, int in_c, int out_c, int filter_c, int k,
                      int stride, int dil, int same, int act_lo, int act_hi) {
  tc_conv2d_params p = {0};
  p.batch = 2;
  p.in_h = in_h;
  p.in_w = in_w;
  p.in_c = in_c;
  p.out_c = out_c;
  p.k_h = k;
  p.k_w = k + 1;
  p.filter_c = filter_c;
  p.stride_h = stride;
  p.stride_w = stride;
  p.dilation_h = dil;
  p.dilation_w = 1;
  if (!same_geom(same, in_h, p.k_h, stride, dil, &p.out_h, &p.pad_top) ||
      !same_geom(same, in_w, p.k_w, stride, 1, &p.out_w, &p.pad_left)) {
    CHECK(0);
    return;
  }
  int is16 = kind >= 2;
  int32_t zi = kind == 1 ? 130 : (is16 ? 0 : -7), zf = kind == 1 ? 120 : 0;
  int32_t zo = kind == 1 ? 128 : (is16 ? 0 : 5);
  int32_t lo = kind == 1 ? 0 : (is16 ? -32768 : -128), hi = kind == 1 ? 255 : (is16 ? 32767 : 127);
  if (act_lo > lo) lo = act_lo;
  if (act_hi < hi) hi = act_hi;
  size_t n_in = (size_t)2 * in_h * in_w * in_c, n_f = (size_t)out_c * p.k_h * p.k_w * filter_c;
  size_t n_out = (size_t)2 * p.out_h * p.out_w * out_c;
  int32_t *x = malloc(n_in * 4), *w = malloc(n_f * 4), *mult = malloc(out_c * 4),
          *shift = malloc(out_c * 4);
  int64_t *bias = malloc(out_c * 8);
  for (size_t i = 0; i < n_in; i++)
    x[i] = kind == 1 ? rnd(0, 255) : (is16 ? rnd(-32768, 32767) : rnd(-128, 127));
  for (size_t i = 0; i < n_f; i++) w[i] = kind == 1 ? rnd(0, 255) : rnd(-127, 127);
  for (int c = 0; c < out_c; c++) {
    bias[c] = is16 && kind == 2 ? (int64_t)rnd(-(1 << 20), 1 << 20) * 64 : rnd(-50000, 50000);
    mult[c] = rnd(1 << 30, 0x7fffffff);
    shift[c] = is16 ? rnd(-20, -14) : rnd(-12, -6);
  }
  tc_q_requant q = {-zi, -zf, zo, mult, shift, lo, hi};
  int32_t *expect = malloc(n_out * 4);
  /* Padded input filled with the zero point. */
  int ph = in_h + 2 * (p.k_h * dil + stride), pw = in_w + 2 * (p.k_w + stride);
  int32_t *pad = malloc((size_t)2 * ph * pw * in_c * 4);
  for (int i = 0; i < 2 * ph * pw * in_c; i++) pad[i] = zi;
  int oy0 = p.k_h * dil + stride, ox0 = p.k_w + stride;
  for (int b = 0; b < 2; b++)
    for (int y = 0; y < in_h; y++)
      for (int xx = 0; xx < in_w; xx++)
        for (int c = 0; c < in_c; c++)
          pad[((b * ph + y + oy0) * pw + xx + ox0) * in_c + c] =
              x[((b * in_h + y) * in_w + xx) * in_c + c];
  int per_group = out_c / (in_c / filter_c);
  for (int b = 0; b < 2; b++)
    for (int oy = 0; oy < p.out_h; oy++)
      for (int ox = 0; ox < p.out_w; ox++)
        for (int oc = 0; oc < out_c; oc++) {
          int64_t acc = 0;
          for (int ky = 0; ky < p.k_h; ky++)
            for (int kx = 0; kx < p.k_w; kx++)
              for (int ic = 0; ic < filter_c; ic++) {
                int y = oy * stride - p.pad_top + ky * dil + oy0;
                int xx = ox * stride - p.pad_left + kx + ox0;
                int32_t v = pad[((b * ph + y) * pw + xx) * in_c + (oc / per_group) * filter_c + ic];
                int32_t fw = w[((oc * p.k_h + ky) * p.k_w + kx) * filter_c + ic];
                acc += (int64_t)(fw - zf) * (v - zi);
              }
          acc += bias[oc];
          int64_t r = kind == 2 ? naive_mul64(acc, mult[oc], shift[oc])
                                : (int64_t)naive_mul((int32_t)acc, mult[oc], shift[oc]) + zo;
          expect[((b * p.out_h + oy) * p.out_w + ox) * out_c + oc] = clampi(r, lo, hi);
        }
  int bad = 0;
  if (kind == 0 || kind == 1) {
    void *xi = malloc(n_in), *wi = malloc(n_f), *o = malloc(n_out);
    int32_t *b32 = malloc(out_c * 4);
    for (int c = 0; c < out_c; c++) b32[c] = (int32_t)bias[c];
    if (kind == 0) {
      for (size_t i = 0; i < n_in; i++) ((int8_t *)xi)[i] = (int8_t)x[i];
      for (size_t i = 0; i < n_f; i++) ((int8_t *)wi)[i] = (int8_t)w[i];
      tc_s8_conv2d__ref(&p, &q, xi, wi, b32, o);
      for (size_t i = 0; i < n_out; i++) bad += ((int8_t *)o)[i] != expect[i];
    } else {
      for (size_t i = 0; i < n_in; i++) ((uint8_t *)xi)[i] = (uint8_t)x[i];
      for (size_t i = 0; i < n_f; i++) ((uint8_t *)wi)[i] = (uint8_t)w[i];
      tc_u8_conv2d__ref(&p, &q, xi, wi, b32, o);
      for (size_t i = 0; i < n_out; i++) bad += ((uint8_t *)o)[i] != expect[i];
    }
    free(xi), free(wi), free(o), free(b32);
  } else {
    int16_t *xi = malloc(n_in * 2), *o = malloc(n_out * 2);
    int8_t *wi = malloc(n_f);
    int32_t *b32 = malloc(out_c * 4);
    for (size_t i = 0; i < n_in; i++) xi[i] = (int16_t)x[i];
    for (size_t i = 0; i < n_f; i++) wi[i] = (int8_t)w[i];
    for (int c = 0; c < out_c; c++) b32[c] = (int32_t)bias[c];
    if (kind == 2) tc_s16_conv2d__ref(&p, &q, xi, wi, bias, o);
    else tc_s16_conv2d_acc32__ref(&p, &q, xi, wi, b32, o);
    for (size_t i = 0; i < n_out; i++) bad += o[i] != expect[i];
    free(xi), free(wi), free(o), free(b32);
  }
  CHECK_MSG(bad == 0, "conv kind %d: %d of %zu outputs differ", kind, bad, n_out);
  /* Not all outputs saturated: the case exercises the arithmetic. */
  int inner = 0;
  for (size_t i = 0; i < n_out; i++) inner += expect[i] > lo && expect[i] < hi;
  CHECK_MSG(inner * 2 > (int)n_out, "conv kind %d: only %d of %zu unsaturated", kind, inner,
            n_out);
  free(x), free(w), free(mult), free(shift), free(bias), free(expect), free(pad);
}

TC_TEST(kernel_qconv_conv_vs_naive) {
  for (int kind = 0; kind < 4; kind++) {
    conv_case(kind, 5, 6, 3, 4, 3, 3, 1, 1, 1, -100000, 100000);  /* SAME */
    conv_case(kind, 7, 5, 2, 3, 2, 2, 2, 1, 0, -100000, 100000);  /* VALID, stride 2 */
    conv_case(kind, 8, 7, 4, 4, 2, 3, 2, 2, 1, -100000, 100000);  /* grouped, dilated */
    conv_case(kind, 1, 1, 5, 2, 5, 1, 1, 1, 1, -100000, 100000);  /* 1x1 pixel, 1x2 tap */
  }
  conv_case(0, 6, 6, 3, 5, 3, 3, 1, 1, 1, -20, 40); /* fused clamp inside the range */
}

/* ---- DEPTHWISE_CONV_2D ----------------------------------------------------------------- */

TC_TEST(kernel_qconv_depthwise_hand) {
  /* 1x1x3x2 input, 1x1x2x4 filter (multiplier 2), SAME padding with a 2-wide filter: pad_left 0
   * (total 1, leading 0). Input zero point 2. Output x=0, channel oc=1 (ic 0, m 1):
   * taps x=0,1: f[0][1]*(in[0][0]-2) + f[1][1]*(in[1][0]-2) = 3*(4-2) + (-1)*(6-2) = 2;
   * multiplier 1.0 (q=2^30, shift 1): 2, + output zero point 1 = 3. Last pixel x=2 has only
   * its first tap: oc=3 (ic 1, m 1): f[0][3]*(in[2][1]-2) = 2*(-3-2) = -10 -> -9. */
  tc_dwconv2d_params p = {1, 1, 3, 2, 1, 3, 2, 1, 2, 1, 1, 1, 1, 0, 0, 0, 0};
  int32_t mult[4] = {1 << 30, 1 << 30, 1 << 30, 1 << 30}, shift[4] = {1, 1, 1, 1};
  tc_q_requant q = {-2, 0, 1, mult, shift, -128, 127};
  int8_t in[6] = {4, 7, 6, 2, 0, -3};
  int8_t f[8] = {1, 3, 0, 2, 5, -1, 1, 1};
  int8_t out[12];
  tc_s8_depthwise_conv2d__ref(&p, &q, in, f, NULL, out);
  CHECK_EQ(out[1], 3);
  CHECK_EQ(out[2 * 4 + 3], -9);
  /* oc=0 at x=0: 1*(4-2) + 5*(6-2) = 22 -> 23. */
  CHECK_EQ(out[0], 23);
}

static void dw_case(int kind, int in_h, int in_w, int in_c, int mult_n, int k, int stride,
                    int dil, int same) {
  tc_dwconv2d_params p = {0};
  p.batch = 1;
  p.in_h = in_h;
  p.in_w = in_w;
  p.in_c = in_c;
  p.depth_multiplier = mult_n;
  p.k_h = k;
  p.k_w = k;
  p.stride_h = stride;
  p.stride_w = stride;
  p.dilation_h = dil;
  p.dilation_w = dil;
  CHECK(same_geom(same, in_h, k, stride, dil, &p.out_h, &p.pad_top));
  CHECK(same_geom(same, in_w, k, stride, dil, &p.out_w, &p.pad_left));
  int out_c = in_c * mult_n, is16 = kind == 2;
  int32_t zi = kind == 1 ? 100 : (is16 ? 0 : 3), zf = kind == 1 ? 140 : 0, zo = is16 ? 0 : 9;
  int32_t lo = kind == 1 ? 0 : (is16 ? -32768 : -128), hi = kind == 1 ? 255 : (is16 ? 32767 : 127);
  int n_in = in_h * in_w * in_c, n_f = k * k * out_c, n_out = p.out_h * p.out_w * out_c;
  int32_t *x = malloc(n_in * 4), *w = malloc(n_f * 4), *mu = malloc(out_c * 4),
          *sh = malloc(out_c * 4), *expect = malloc(n_out * 4);
  int64_t *bias = malloc(out_c * 8);
  for (int i = 0; i < n_in; i++)
    x[i] = kind == 1 ? rnd(0, 255) : (is16 ? rnd(-32768, 32767) : rnd(-128, 127));
  for (int i = 0; i < n_f; i++) w[i] = kind == 1 ? rnd(0, 255) : rnd(-127, 127);
  for (int c = 0; c < out_c; c++) {
    bias[c] = rnd(-20000, 20000);
    mu[c] = rnd(1 << 30, 0x7fffffff);
    sh[c] = is16 ? rnd(-17, -12) : rnd(-9, -5);
  }
  tc_q_requant q = {-zi, -zf, zo, mu, sh, lo, hi};
  for (int oy = 0; oy < p.out_h; oy++)
    for (int ox = 0; ox < p.out_w; ox++)
      for (int oc = 0; oc < out_c; oc++) {
        int64_t acc = bias[oc];
        int ic = oc / mult_n;
        for (int ky = 0; ky < k; ky++)
          for (int kx = 0; kx < k; kx++) {
            int y = oy * stride - p.pad_top + ky * dil, xx = ox * stride - p.pad_left + kx * dil;
            int32_t v = (y < 0 || y >= in_h || xx < 0 || xx >= in_w)
                            ? zi
                            : x[(y * in_w + xx) * in_c + ic];
            acc += (int64_t)(w[(ky * k + kx) * out_c + oc] - zf) * (v - zi);
          }
        int64_t r = is16 ? naive_mul64(acc, mu[oc], sh[oc])
                         : (int64_t)naive_mul((int32_t)acc, mu[oc], sh[oc]) + zo;
        expect[(oy * p.out_w + ox) * out_c + oc] = clampi(r, lo, hi);
      }
  int bad = 0, inner = 0;
  int32_t *b32 = malloc(out_c * 4);
  for (int c = 0; c < out_c; c++) b32[c] = (int32_t)bias[c];
  if (kind == 0) {
    int8_t *xi = malloc(n_in), *wi = malloc(n_f), *o = malloc(n_out);
    for (int i = 0; i < n_in; i++) xi[i] = (int8_t)x[i];
    for (int i = 0; i < n_f; i++) wi[i] = (int8_t)w[i];
    tc_s8_depthwise_conv2d__ref(&p, &q, xi, wi, b32, o);
    for (int i = 0; i < n_out; i++) bad += o[i] != expect[i];
    free(xi), free(wi), free(o);
  } else if (kind == 1) {
    uint8_t *xi = malloc(n_in), *wi = malloc(n_f), *o = malloc(n_out);
    for (int i = 0; i < n_in; i++) xi[i] = (uint8_t)x[i];
    for (int i = 0; i < n_f; i++) wi[i] = (uint8_t)w[i];
    tc_u8_depthwise_conv2d__ref(&p, &q, xi, wi, b32, o);
    for (int i = 0; i < n_out; i++) bad += o[i] != expect[i];
    free(xi), free(wi), free(o);
  } else {
    int16_t *xi = malloc(n_in * 2), *o = malloc(n_out * 2);
    int8_t *wi = malloc(n_f);
    for (int i = 0; i < n_in; i++) xi[i] = (int16_t)x[i];
    for (int i = 0; i < n_f; i++) wi[i] = (int8_t)w[i];
    tc_s16_depthwise_conv2d__ref(&p, &q, xi, wi, bias, o);
    for (int i = 0; i < n_out; i++) bad += o[i] != expect[i];
    free(xi), free(wi), free(o);
  }
  for (int i = 0; i < n_out; i++) inner += expect[i] > lo && expect[i] < hi;
  CHECK_MSG(bad == 0, "depthwise kind %d: %d of %d outputs differ", kind, bad, n_out);
  CHECK_MSG(inner * 2 > n_out, "depthwise kind %d: only %d of %d unsaturated", kind, inner,
            n_out);
  free(x), free(w), free(mu), free(sh), free(expect), free(bias), free(b32);
}

TC_TEST(kernel_qconv_depthwise_vs_naive) {
  for (int kind = 0; kind < 3; kind++) {
    dw_case(kind, 6, 5, 3, 1, 3, 1, 1, 1);
    dw_case(kind, 7, 8, 2, 3, 3, 2, 1, 1);
    dw_case(kind, 9, 9, 4, 2, 2, 1, 2, 0);
  }
}

/* ---- FULLY_CONNECTED ------------------------------------------------------------------- */

TC_TEST(kernel_qconv_fc_hand) {
  /* Per-tensor int8 with weights zero point 1 and input zero point -2:
   * row 0: (2-1)*(3+2) + (0-1)*(-1+2) + (4-1)*(0+2) = 5 - 1 + 6 = 10, + bias -4 = 6;
   * multiplier 0.75 = 0.75 * 2^31 / 2^31 (q = 3 << 29, shift 0): 4.5 -> 5, + zp 10 = 15. */
  tc_fc_params p = {2, 3, 2, 0, 0};
  int32_t mult[2] = {3 << 29, 3 << 29}, shift[2] = {0, 0}, bias[2] = {-4, 0};
  tc_q_requant q = {2, -1, 10, mult, shift, -128, 127};
  int8_t in[6] = {3, -1, 0, -2, -2, -2}, w[6] = {2, 0, 4, 1, 1, 1};
  int8_t out[4];
  tc_s8_fully_connected__ref(&p, &q, in, w, bias, out);
  CHECK_EQ(out[0], 15);
  /* row 0, unit 1: weights all at the zero point: 0 -> 10. Row 1 is all at the input zero
   * point: bias only: -4 * 0.75 = -3 -> 7, and 10. */
  CHECK_EQ(out[1], 10);
  CHECK_EQ(out[2], 7);
  CHECK_EQ(out[3], 10);
  /* uint8: same numbers shifted by 128 in the input and output zero points. */
  uint8_t uin[6], uw[6], uout[4];
  for (int i = 0; i < 6; i++) uin[i] = (uint8_t)(in[i] + 128), uw[i] = (uint8_t)(w[i] + 128);
  tc_q_requant uq = {-126, -129, 138, mult, shift, 0, 255};
  tc_u8_fully_connected__ref(&p, &uq, uin, uw, bias, uout);
  CHECK_EQ(uout[0], 143);
  CHECK_EQ(uout[2], 135);
}

TC_TEST(kernel_qconv_fc_vs_naive) {
  for (int kind = 0; kind < 3; kind++) {
    tc_fc_params p = {3, 37, 5, 0, 0};
    int32_t mu[5], sh[5];
    int64_t bias[5];
    int32_t b32[5];
    int32_t zi = kind == 2 ? 0 : -5, zw = kind == 0 ? 0 : 2, zo = kind == 2 ? 0 : 3;
    int32_t lo = kind == 2 ? -32768 : -128, hi = kind == 2 ? 32767 : 127;
    int32_t x[3 * 37], w[5 * 37];
    for (int i = 0; i < 3 * 37; i++) x[i] = kind == 2 ? rnd(-32768, 32767) : rnd(-128, 127);
    for (int i = 0; i < 5 * 37; i++) w[i] = rnd(-127, 127);
    for (int o = 0; o < 5; o++) {
      bias[o] = rnd(-9000, 9000);
      b32[o] = (int32_t)bias[o];
      mu[o] = rnd(1 << 30, 0x7fffffff);
      sh[o] = kind == 2 ? rnd(-18, -15) : rnd(-9, -7);
    }
    tc_q_requant q = {-zi, -zw, zo, mu, sh, lo, hi};
    int bad = 0;
    int8_t xi8[3 * 37], wi8[5 * 37], o8[15];
    int16_t xi16[3 * 37], o16[15];
    for (int i = 0; i < 3 * 37; i++) xi8[i] = (int8_t)x[i], xi16[i] = (int16_t)x[i];
    for (int i = 0; i < 5 * 37; i++) wi8[i] = (int8_t)w[i];
    if (kind == 2) tc_s16_fully_connected__ref(&p, &q, xi16, wi8, bias, o16);
    else tc_s8_fully_connected__ref(&p, &q, xi8, wi8, b32, o8);
    for (int b = 0; b < 3; b++)
      for (int o = 0; o < 5; o++) {
        int64_t acc = bias[o];
        for (int k = 0; k < 37; k++) acc += (int64_t)(w[o * 37 + k] - zw) * (x[b * 37 + k] - zi);
        int64_t r = kind == 2 ? naive_mul64(acc, mu[o], sh[o])
                              : (int64_t)naive_mul((int32_t)acc, mu[o], sh[o]) + zo;
        int32_t e = clampi(r, lo, hi);
        bad += (kind == 2 ? o16[b * 5 + o] : o8[b * 5 + o]) != e;
      }
    CHECK_MSG(bad == 0, "fc kind %d: %d outputs differ", kind, bad);
  }
}

/* ---- pooling --------------------------------------------------------------------------- */

TC_TEST(kernel_qconv_pool_hand) {
  /* 1x2x3x1 input, 2x2 window, stride 1, VALID: windows {a,b,d,e} and {b,c,e,f}. */
  tc_pool2d_params p = {1, 2, 3, 1, 1, 2, 2, 2, 1, 1, 0, 0, 0, 0};
  int8_t in[6] = {1, 2, -7, 3, 4, -2}, out[2];
  /* avg: 10/4 = 2.5 -> 3 (half away from zero); (2-7+4-2)/4 = -0.75 -> -1. */
  tc_s8_avg_pool2d__ref(&p, -128, 127, in, out);
  CHECK_EQ(out[0], 3);
  CHECK_EQ(out[1], -1);
  int8_t in2[6] = {-1, -2, 0, -1, -1, 0};
  tc_s8_avg_pool2d__ref(&p, -128, 127, in2, out); /* -5/4 = -1.25 -> -1; -4/4 = -1 */
  CHECK_EQ(out[0], -1);
  CHECK_EQ(out[1], -1);
  int8_t in3[6] = {-1, -2, -3, -3, -3, -4};
  tc_s8_avg_pool2d__ref(&p, -128, 127, in3, out); /* -9/4 = -2.25 -> -2; -12/4 = -3 */
  CHECK_EQ(out[0], -2);
  CHECK_EQ(out[1], -3);
  int8_t in4[6] = {-1, -1, 0, -1, -3, -2};
  tc_s8_avg_pool2d__ref(&p, -128, 127, in4, out); /* -6/4 = -1.5 -> -2; -6/4 -> -2 */
  CHECK_EQ(out[0], -2);
  CHECK_EQ(out[1], -2);
  /* max with a fused clamp [0, 3]. */
  tc_s8_max_pool2d__ref(&p, 0, 3, in, out);
  CHECK_EQ(out[0], 3);
  CHECK_EQ(out[1], 3);
  tc_s8_max_pool2d__ref(&p, -128, 127, in3, out);
  CHECK_EQ(out[0], -1);
  CHECK_EQ(out[1], -2);
  /* SAME padding clips the window: 1x1x3x1, 3-wide window, pad 1: edge averages over 2. */
  tc_pool2d_params ps = {1, 1, 3, 1, 1, 3, 1, 3, 1, 1, 0, 1, 0, 0};
  uint8_t u[3] = {200, 101, 0}, uo[3];
  tc_u8_avg_pool2d__ref(&ps, 0, 255, u, uo);
  CHECK_EQ(uo[0], 151); /* 301/2 = 150.5 -> 151 */
  CHECK_EQ(uo[1], 100); /* 301/3 = 100.33 */
  CHECK_EQ(uo[2], 51);  /* 101/2 = 50.5 -> 51 */
  tc_u8_max_pool2d__ref(&ps, 0, 255, u, uo);
  CHECK_EQ(uo[2], 101);
  int16_t s[3] = {-30001, 2, -30000}, so[3];
  tc_s16_avg_pool2d__ref(&ps, -32768, 32767, s, so);
  CHECK_EQ(so[0], -15000); /* -29999/2 = -14999.5 -> -15000 */
  CHECK_EQ(so[1], -20000); /* -59999/3 = -19999.67 -> (-59999 - 1) / 3 = -20000 */
  tc_s16_max_pool2d__ref(&ps, -32768, 32767, s, so);
  CHECK_EQ(so[0], 2);
  CHECK_EQ(so[2], 2);
}

/* ---- TRANSPOSE_CONV -------------------------------------------------------------------- */

TC_TEST(kernel_qconv_tconv_f32_hand) {
  /* 1x1x2x1 input [1, 2], filter 1x1x3x1 [1, 10, 100], stride 2, VALID, output width 5:
   * pixel 0 covers x 0..2, pixel 1 covers x 2..4 -> [1, 10, 102, 20, 200], + bias 0.5. */
  tc_tconv2d_params p = {1, 1, 2, 1, 1, 5, 1, 1, 3, 1, 2, 0, 0, -INFINITY, INFINITY};
  float in[2] = {1, 2}, f[3] = {1, 10, 100}, bias = 0.5f, out[5];
  tc_f32_transpose_conv2d__ref(&p, in, f, &bias, out);
  CHECK_NEAR(out[0], 1.5, 1e-6);
  CHECK_NEAR(out[1], 10.5, 1e-6);
  CHECK_NEAR(out[2], 102.5, 1e-6);
  CHECK_NEAR(out[3], 20.5, 1e-6);
  CHECK_NEAR(out[4], 200.5, 1e-6);
  /* Leading padding 1 drops the first column; clamp at 50. */
  p.out_w = 4;
  p.pad_left = 1;
  p.act_max = 50;
  tc_f32_transpose_conv2d__ref(&p, in, f, NULL, out);
  CHECK_NEAR(out[0], 10, 1e-6);
  CHECK_NEAR(out[1], 50, 1e-6);
  CHECK_NEAR(out[2], 20, 1e-6);
  CHECK_NEAR(out[3], 50, 1e-6);
}

/* TFLite's scatter formulation, the independent reference for the gathering kernels. */
static void tconv_case(int is16, int in_h, int in_w, int in_c, int out_c, int k_h, int k_w,
                       int stride, int same) {
  tc_tconv2d_params p = {0};
  p.batch = 2;
  p.in_h = in_h;
  p.in_w = in_w;
  p.in_c = in_c;
  p.out_c = out_c;
  p.k_h = k_h;
  p.k_w = k_w;
  p.stride_h = stride;
  p.stride_w = stride;
  p.out_h = in_h * stride + (same ? 0 : k_h - 1);
  p.out_w = in_w * stride + (same ? 0 : k_w - 1);
  int unused;
  CHECK(same_geom(same, p.out_h, k_h, stride, 1, &unused, &p.pad_top));
  CHECK(same_geom(same, p.out_w, k_w, stride, 1, &unused, &p.pad_left));
  int n_in = 2 * in_h * in_w * in_c, n_f = out_c * k_h * k_w * in_c;
  int n_out = 2 * p.out_h * p.out_w * out_c;
  int32_t *x = malloc(n_in * 4), *w = malloc(n_f * 4), *mu = malloc(out_c * 4),
          *sh = malloc(out_c * 4), *b32 = malloc(out_c * 4);
  int64_t *acc = calloc(n_out, 8), *bias = malloc(out_c * 8);
  int32_t zi = is16 ? 0 : 4, zo = is16 ? 0 : -6, lo = is16 ? -32768 : -128,
          hi = is16 ? 32767 : 127;
  for (int i = 0; i < n_in; i++) x[i] = is16 ? rnd(-32768, 32767) : rnd(-128, 127);
  for (int i = 0; i < n_f; i++) w[i] = rnd(-127, 127);
  for (int c = 0; c < out_c; c++) {
    bias[c] = rnd(-30000, 30000);
    b32[c] = (int32_t)bias[c];
    mu[c] = rnd(1 << 30, 0x7fffffff);
    sh[c] = is16 ? rnd(-18, -15) : rnd(-10, -8);
  }
  for (int b = 0; b < 2; b++)
    for (int iy = 0; iy < in_h; iy++)
      for (int ix = 0; ix < in_w; ix++)
        for (int ic = 0; ic < in_c; ic++)
          for (int ky = 0; ky < k_h; ky++)
            for (int kx = 0; kx < k_w; kx++)
              for (int oc = 0; oc < out_c; oc++) {
                int oy = iy * stride - p.pad_top + ky, ox = ix * stride - p.pad_left + kx;
                if (oy < 0 || oy >= p.out_h || ox < 0 || ox >= p.out_w) continue;
                acc[((b * p.out_h + oy) * p.out_w + ox) * out_c + oc] +=
                    (int64_t)(x[((b * in_h + iy) * in_w + ix) * in_c + ic] - zi) *
                    w[((oc * k_h + ky) * k_w + kx) * in_c + ic];
              }
  tc_q_requant q = {-zi, 0, zo, mu, sh, lo, hi};
  int bad = 0, inner = 0;
  if (is16) {
    int16_t *xi = malloc(n_in * 2), *o = malloc(n_out * 2);
    int8_t *wi = malloc(n_f);
    for (int i = 0; i < n_in; i++) xi[i] = (int16_t)x[i];
    for (int i = 0; i < n_f; i++) wi[i] = (int8_t)w[i];
    tc_s16_transpose_conv2d__ref(&p, &q, xi, wi, bias, o);
    for (int i = 0; i < n_out; i++) {
      int oc = i % out_c;
      int32_t e = clampi(naive_mul64(acc[i] + bias[oc], mu[oc], sh[oc]), lo, hi);
      bad += o[i] != e;
      inner += e > lo && e < hi;
    }
    free(xi), free(o), free(wi);
  } else {
    int8_t *xi = malloc(n_in), *o = malloc(n_out), *wi = malloc(n_f);
    for (int i = 0; i < n_in; i++) xi[i] = (int8_t)x[i];
    for (int i = 0; i < n_f; i++) wi[i] = (int8_t)w[i];
    tc_s8_transpose_conv2d__ref(&p, &q, xi, wi, b32, o);
    for (int i = 0; i < n_out; i++) {
      int oc = i % out_c;
      int32_t e = clampi((int64_t)naive_mul((int32_t)(acc[i] + bias[oc]), mu[oc], sh[oc]) + zo,
                         lo, hi);
      bad += o[i] != e;
      inner += e > lo && e < hi;
    }
    free(xi), free(o), free(wi);
  }
  CHECK_MSG(bad == 0, "transpose conv (int%d): %d of %d outputs differ", is16 ? 16 : 8, bad,
            n_out);
  CHECK_MSG(inner * 2 > n_out, "transpose conv: only %d of %d unsaturated", inner, n_out);
  free(x), free(w), free(mu), free(sh), free(b32), free(acc), free(bias);
}

TC_TEST(kernel_qconv_tconv_vs_scatter) {
  for (int is16 = 0; is16 < 2; is16++) {
    tconv_case(is16, 3, 4, 3, 2, 3, 3, 2, 1);  /* SAME, stride 2 */
    tconv_case(is16, 2, 5, 2, 3, 2, 4, 2, 0);  /* VALID, filter wider than stride */
    tconv_case(is16, 4, 3, 2, 2, 3, 2, 1, 1);  /* stride 1 */
    tconv_case(is16, 2, 2, 4, 2, 1, 1, 3, 1);  /* stride larger than the filter: gaps */
  }
}

/* ---- TRANSPOSE_CONV through the interpreter: output_shape is a graph input ------------- */

TC_TEST(kernel_qconv_tconv_output_shape_input) {
  tc_model *m = NULL;
  tc_interp *it = NULL;
  tc_status s =
      tc_model_load_file(tc_test_shared("models/seanet_int16/transpose_conv4.tflite"), NULL, &m);
  if (s != TC_OK) {
    CHECK_MSG(0, "cannot load transpose_conv4: %s", tc_model_errmsg(m));
    tc_model_destroy(m);
    return;
  }
  CHECK_EQ(tc_interp_create(m, NULL, &it), TC_OK);
  CHECK_EQ(tc_interp_prepare(it), TC_OK);
  int16_t *x = calloc(2 * 80 * 16, sizeof(int16_t));
  for (int i = 0; i < 2 * 80 * 16; i++) x[i] = (int16_t)((i * 37) % 2001 - 1000);
  int32_t good[4] = {1, 4, 162, 8}, bad[4] = {1, 4, 160, 8};
  CHECK_EQ(tc_interp_set_input(it, 0, good, sizeof good), TC_OK);
  CHECK_EQ(tc_interp_set_input(it, 1, x, 2 * 80 * 16 * sizeof(int16_t)), TC_OK);
  CHECK_EQ(tc_interp_invoke(it), TC_OK);
  tc_tensor_info info;
  CHECK_EQ(tc_interp_tensor(it, tc_interp_output_index(it, 0), &info), TC_OK);
  CHECK_EQ(info.n_dims, 4);
  CHECK_EQ(info.dims[2], 162);
  /* A different output_shape value cannot be honoured after prepare: a clear error. */
  CHECK_EQ(tc_interp_set_input(it, 0, bad, sizeof bad), TC_OK);
  CHECK(tc_interp_invoke(it) != TC_OK);
  CHECK_STR_CONTAINS(tc_interp_errmsg(it), "output_shape");
  free(x);
  tc_interp_destroy(it);
  tc_model_destroy(m);
}
