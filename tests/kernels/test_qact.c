/* test_qact.c: quantized SOFTMAX / LOGISTIC / TANH reference kernels and the fixed-point library
 * under them. Exact values where they can be derived by hand (equal inputs, saturation, zero),
 * and every other value against an independent double-precision formula within the rounding
 * the integer algorithm allows. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernels/ref/activations_q.h"
#include "kernels/ref/qfixed.h"
#include "kernels/ref/softmax_q.h"
#include "tc_test.h"

/* Deterministic pseudo-random numbers (xorshift32). */
static uint32_t rng_state = 12345u;
static uint32_t rng(void) {
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 17;
  rng_state ^= rng_state << 5;
  return rng_state;
}

/* ---- fixed-point library --------------------------------------------------------------------- */

TC_TEST(kernel_qact_fixed_primitives) {
  CHECK_EQ(tc_qf_clz32(0), 32);
  CHECK_EQ(tc_qf_clz32(1), 31);
  CHECK_EQ(tc_qf_clz32(0x80000000u), 0);
  CHECK_EQ(tc_qf_clz32(0x00010000u), 15);
  CHECK_EQ(tc_qf_rounding_half_sum(3, 4), 4);   /* 3.5 -> 4 */
  CHECK_EQ(tc_qf_rounding_half_sum(-3, -4), -4); /* -3.5 -> -4 */
  CHECK_EQ(tc_qf_rounding_half_sum(INT32_MAX, INT32_MAX), INT32_MAX);
  CHECK_EQ(tc_qf_srmul_pot(3, 2), 12);
  CHECK_EQ(tc_qf_srmul_pot(1 << 29, 2), INT32_MAX); /* saturates */
  CHECK_EQ(tc_qf_srmul_pot(-(1 << 29), 2), INT32_MIN);
  CHECK_EQ(tc_qf_srmul_pot(-(1 << 28), 2), -(1 << 30));
  CHECK_EQ(tc_qf_srmul_pot(-(1 << 30), 1), INT32_MIN); /* below -threshold: saturated */
  CHECK_EQ(tc_qf_srmul_pot(6, -2), 2);  /* 1.5 -> 2 */
  CHECK_EQ(tc_qf_srmul_pot(-6, -2), -2); /* -1.5 -> -2 */
  CHECK_EQ(tc_qf_srmul_pot(5, -2), 1);
  CHECK_EQ(tc_qf_rescale(INT32_MAX, 0, 12), 1 << 19); /* 1.0 in Q12.19, rounded up */
  CHECK_EQ(tc_qf_one(0), INT32_MAX);
  CHECK_EQ(tc_qf_one(5), 1 << 26);
  CHECK_EQ(tc_qf_add(INT32_MAX, 1), INT32_MIN); /* wraps like the reference */
}

TC_TEST(kernel_qact_fixed_exp) {
  /* exp(0) is the largest Q0.31 value; exp(x) for x < -32 is 0 when the format reaches there. */
  CHECK_EQ(tc_qf_exp_on_negative_values(0, 5), INT32_MAX);
  CHECK_EQ(tc_qf_exp_on_negative_values(0, 0), INT32_MAX);
  CHECK_EQ(tc_qf_exp_on_negative_values(INT32_MIN, 6), 0); /* -64 in Q6.25 */
  /* Against exp() over the whole Q5.26 range and a few other formats. */
  double worst = 0;
  for (int ib = 0; ib <= 8; ib++) {
    for (int i = 0; i < 4000; i++) {
      int32_t a = -(int32_t)(rng() & 0x7FFFFFFF);
      double x = a / ldexp(1.0, 31 - ib);
      double got = tc_qf_exp_on_negative_values(a, ib) / 2147483648.0;
      double err = fabs(got - exp(x));
      worst = err > worst ? err : worst;
    }
  }
  /* The 4th-order Taylor polynomial on [-1/4, 0) is good to ~2.3e-7 at the interval's ends. */
  CHECK_MSG(worst < 3e-7, "worst |exp error| %g", worst);
  /* The quarter-interval polynomial on its own. */
  for (int i = 1; i <= 64; i++) {
    int32_t a = -(int32_t)((1u << 29) / 64 * (uint32_t)i);
    double got = tc_qf_exp_on_interval_between_negative_one_quarter_and_0_excl(a) / 2147483648.0;
    CHECK_NEAR(got, exp(a / 2147483648.0), 2.5e-7);
  }
}

TC_TEST(kernel_qact_fixed_reciprocal_logistic_tanh) {
  for (int i = 0; i < 2000; i++) {
    int32_t a = (int32_t)(rng() & 0x7FFFFFFF);
    double x = a / 2147483648.0;
    CHECK_NEAR(tc_qf_one_over_one_plus_x_for_x_in_0_1(a) / 2147483648.0, 1.0 / (1.0 + x), 3e-9);
    CHECK_NEAR(tc_qf_one_minus_x_over_one_plus_x_for_x_in_0_1(a) / 2147483648.0,
               (1.0 - x) / (1.0 + x), 6e-9);
  }
  /* GetReciprocal: 1/x = s * 2^-k. x = 3.0 in Q12.19 = 1.5 * 2^1: s = 1/1.5, k = 1. */
  int k = 0;
  int32_t s = tc_qf_reciprocal(3 << 19, 12, &k);
  CHECK_EQ(k, 1);
  CHECK_NEAR(s / 2147483648.0, 2.0 / 3.0, 1e-8);
  for (int i = 0; i < 2000; i++) {
    int32_t x = (int32_t)(rng() % 0x7FFFFFF0u) + 1;
    s = tc_qf_reciprocal(x, 12, &k);
    double real = x / ldexp(1.0, 19);
    CHECK_NEAR(s / 2147483648.0 * ldexp(1.0, -k), 1.0 / real, 1e-8 / real * 4 + 1e-12);
  }
  CHECK_EQ(tc_qf_logistic(0, 4), 1 << 30);
  CHECK_EQ(tc_qf_tanh(0, 4), 0);
  for (int i = 0; i < 4000; i++) {
    int32_t a = (int32_t)rng();
    double x = a / ldexp(1.0, 27); /* Q4.27 */
    CHECK_NEAR(tc_qf_logistic(a, 4) / 2147483648.0, 1.0 / (1.0 + exp(-x)), 1e-7);
    CHECK_NEAR(tc_qf_tanh(a, 4) / 2147483648.0, tanh(x), 2.5e-7);
  }
}

TC_TEST(kernel_qact_fixed_prepare_helpers) {
  int32_t q;
  int sh;
  tc_qf_quantize_multiplier(1.0, &q, &sh);
  CHECK_EQ(q, 1 << 30);
  CHECK_EQ(sh, 1);
  /* Just below 2^31: the shift is 31 (TFLite's double-rounding form does not clamp it). */
  tc_qf_quantize_multiplier(2147483647.0, &q, &sh);
  CHECK_EQ(q, INT32_MAX);
  CHECK_EQ(sh, 31);
  tc_qf_quantize_multiplier(0.0, &q, &sh);
  CHECK_EQ(q, 0);
  /* CalculateInputRadius(5, 3, 31) = floor(31 * 2^26 / 8). */
  CHECK_EQ(tc_qf_input_radius(5, 3, 31), 31 * (1 << 23));
  CHECK_EQ(tc_qf_input_radius(4, 20, 31), (int32_t)floor(15.0 * 134217728.0 / 1048576.0));
  CHECK_EQ(tc_qf_input_radius(4, -10, 31), INT32_MAX);
}

/* ---- SOFTMAX ------------------------------------------------------------------------------- */

/* Float softmax of one row of int8 values with input scale * beta = sb. */
static void softmax_ref(const int32_t *x, int n, double sb, double *p) {
  int32_t max = x[0];
  for (int i = 1; i < n; i++) max = x[i] > max ? x[i] : max;
  double sum = 0;
  for (int i = 0; i < n; i++) sum += exp(sb * (x[i] - max));
  for (int i = 0; i < n; i++) p[i] = exp(sb * (x[i] - max)) / sum;
}

TC_TEST(kernel_qact_softmax_s8_exact) {
  tc_softmax_q_params p;
  CHECK(tc_softmax_q_params_init(1.0, 0.1, &p));
  /* 0.1 * 2^26 = 6710886.4 -> multiplier 0.8 * 2^31 rounded, left shift 23. */
  CHECK_EQ(p.input_left_shift, 23);
  CHECK_EQ(p.input_multiplier, 1717986918);
  CHECK_EQ(p.diff_min, -31 * 8);
  /* Equal inputs: exactly 1/depth, i.e. 256/depth - 128; one element alone: 127 (saturated). */
  int8_t in[8] = {5, 5, 5, 5, -7, -7, 100}, out[8];
  tc_s8_softmax__ref(in, out, 1, 4, &p);
  for (int i = 0; i < 4; i++) CHECK_EQ(out[i], -64);
  tc_s8_softmax__ref(in + 4, out, 1, 2, &p);
  CHECK_EQ(out[0], 0);
  CHECK_EQ(out[1], 0);
  tc_s8_softmax__ref(in + 6, out, 1, 1, &p);
  CHECK_EQ(out[0], 127);
  /* int16 output: 1/4 -> 16384 - 32768. */
  int16_t o16[4];
  tc_s8_s16_softmax__ref(in, o16, 1, 4, &p);
  for (int i = 0; i < 4; i++) CHECK_EQ(o16[i], 16384 - 32768);
  /* A difference below diff_min gives exactly the minimum, the maximum alone then 127. */
  int8_t far[2] = {127, -128};
  tc_s8_softmax__ref(far, out, 1, 2, &p);
  CHECK_EQ(out[0], 127);
  CHECK_EQ(out[1], -128);
  /* Many rows at once (outer > 1) equal row by row. */
  int8_t rows[6] = {1, 2, 3, 3, 2, 1}, o2[6];
  tc_s8_softmax__ref(rows, o2, 2, 3, &p);
  CHECK_EQ(o2[0], o2[5]);
  CHECK_EQ(o2[1], o2[4]);
  CHECK_EQ(o2[2], o2[3]);
  /* beta * scale too small for the Q5.26 scaling: refused. */
  CHECK(!tc_softmax_q_params_init(1.0, 1e-9, &p));
}

TC_TEST(kernel_qact_softmax_s8_vs_float) {
  const double scales[] = {0.0125187514, 0.0917319208, 0.171853513, 0.5, 2.0, 0.004};
  const double betas[] = {1.0, 1.0, 1.0, 0.7, 1.0, 3.0};
  int worst8 = 0, worst16 = 0;
  for (int si = 0; si < 6; si++) {
    tc_softmax_q_params p;
    CHECK(tc_softmax_q_params_init(betas[si], scales[si], &p));
    for (int trial = 0; trial < 200; trial++) {
      int n = 1 + (int)(rng() % 40);
      int8_t x[40], y[40];
      int16_t y16[40];
      int32_t xi[40];
      double pr[40];
      int span = 1 + (int)(rng() % 256);
      for (int i = 0; i < n; i++) {
        xi[i] = -128 + (int32_t)(rng() % (uint32_t)span);
        x[i] = (int8_t)xi[i];
      }
      softmax_ref(xi, n, betas[si] * scales[si], pr);
      tc_s8_softmax__ref(x, y, 1, (size_t)n, &p);
      tc_s8_s16_softmax__ref(x, y16, 1, (size_t)n, &p);
      for (int i = 0; i < n; i++) {
        double w8 = pr[i] * 256 - 128, w16 = pr[i] * 65536 - 32768;
        w8 = w8 > 127 ? 127 : w8;
        w16 = w16 > 32767 ? 32767 : w16;
        int d8 = (int)fabs(y[i] - w8 + 0.0), d16 = (int)fabs(y16[i] - w16);
        worst8 = d8 > worst8 ? d8 : worst8;
        worst16 = d16 > worst16 ? d16 : worst16;
      }
    }
  }
  CHECK_MSG(worst8 <= 1, "int8 softmax off by %d LSB from float", worst8);
  CHECK_MSG(worst16 <= 2, "int16-output softmax off by %d LSB from float", worst16);
}

TC_TEST(kernel_qact_softmax_s16) {
  tc_softmax_s16_params *p = malloc(sizeof *p);
  CHECK(tc_softmax_s16_params_init(1.0, 10.0 / 32768, p));
  /* The exp table spans exp(-10)..exp(0) in Q0.15 ([-1, 1] over 65536 steps). */
  CHECK_NEAR(p->exp_lut[512], 32767, 1);
  CHECK_NEAR(p->exp_lut[0], exp(-10.0) * 32768, 1);
  CHECK_NEAR(p->one_over_one_plus_x_lut[0], 32767, 1);
  CHECK_NEAR(p->one_over_one_plus_x_lut[512], 16384, 1);
  /* Interpolating lookup: value v stands for x = (v + 32768) / 65536 of the table's domain. */
  for (int v = -32768; v <= 32767; v += 97) {
    double x = (v + 32768) / 65536.0;
    CHECK_NEAR(tc_s16_lut_lookup((int16_t)v, p->one_over_one_plus_x_lut) / 32768.0,
               1.0 / (1.0 + x), 2.5 / 32768);
  }
  int worst = 0;
  const double scales[] = {10.0 / 32768, 1.0 / 4096, 0.002};
  for (int si = 0; si < 3; si++) {
    CHECK(tc_softmax_s16_params_init(1.0, scales[si], p));
    for (int trial = 0; trial < 100; trial++) {
      int n = 1 + (int)(rng() % 20);
      int16_t x[20], y[20];
      int32_t xi[20];
      double pr[20];
      for (int i = 0; i < n; i++) {
        xi[i] = (int32_t)(rng() % 8000) - 4000;
        x[i] = (int16_t)xi[i];
      }
      softmax_ref(xi, n, scales[si], pr);
      tc_s16_softmax__ref(x, y, 1, (size_t)n, p);
      for (int i = 0; i < n; i++) {
        /* Each exp comes from the Q0.15 table with up to ~1 LSB error and the sum adds them
         * up (up to 20 here), so a dominant probability can move by several LSB. */
        int d = (int)fabs(y[i] - pr[i] * 32768);
        worst = d > worst ? d : worst;
      }
    }
  }
  CHECK_MSG(worst <= 16, "int16 softmax off by %d LSB from float", worst);
  /* Equal inputs: 1/4 each. */
  int16_t eq[4] = {100, 100, 100, 100}, out[4];
  CHECK(tc_softmax_s16_params_init(1.0, 1.0 / 4096, p));
  tc_s16_softmax__ref(eq, out, 1, 4, p);
  for (int i = 0; i < 4; i++) CHECK_NEAR(out[i], 8192, 2);
  free(p);
}

TC_TEST(kernel_qact_softmax_u8_table) {
  /* TFLite's float-table uint8 softmax against an independent double formula: each output is
   * round(p * 256), so within 1 LSB (float sum and table rounding). */
  tc_softmax_table_params *p = malloc(sizeof *p);
  const float scales[] = {0.0988925397f, 0.130832836f, 0.5f};
  int worst = 0;
  for (int si = 0; si < 3; si++) {
    tc_softmax_table_params_init(scales[si], 1.0f, 1.0f / 256, p);
    CHECK_EQ(p->table[255], 1.0f);
    for (int trial = 0; trial < 50; trial++) {
      int n = 1 + (int)(rng() % 1001);
      uint8_t *x = malloc((size_t)n), *y = malloc((size_t)n);
      int32_t *xi = malloc(sizeof(int32_t) * (size_t)n);
      double *pr = malloc(sizeof(double) * (size_t)n);
      for (int i = 0; i < n; i++) x[i] = (uint8_t)(xi[i] = (int32_t)(rng() & 255));
      softmax_ref(xi, n, scales[si], pr);
      tc_u8_softmax__ref(x, y, 1, (size_t)n, p);
      for (int i = 0; i < n; i++) {
        double w = pr[i] * 256 > 255 ? 255 : pr[i] * 256;
        int d = (int)fabs(y[i] - floor(w + 0.5));
        worst = d > worst ? d : worst;
      }
      free(x), free(y), free(xi), free(pr);
    }
  }
  CHECK_MSG(worst <= 1, "uint8 softmax off by %d LSB", worst);
  /* One dominant value: 255 (saturated), the rest 0. */
  uint8_t x2[3] = {255, 0, 0}, y2[3];
  tc_softmax_table_params_init(0.5f, 1.0f, 1.0f / 256, p);
  tc_u8_softmax__ref(x2, y2, 1, 3, p);
  CHECK_EQ(y2[0], 255);
  CHECK_EQ(y2[1], 0);
  free(p);
}

/* ---- LOGISTIC / TANH ----------------------------------------------------------------------- */

TC_TEST(kernel_qact_s8_logistic_tanh) {
  tc_act_s8_params p;
  /* dtln's LOGISTIC input: scale 0.0387752913, zero point -2. */
  CHECK(tc_act_s8_params_init(0.0387752913f, -2, &p));
  /* scale * 2^27 = 5204353.x = 0.62 * 2^23 */
  CHECK_EQ(p.input_left_shift, 23);
  CHECK_EQ(p.input_range_radius, (int32_t)floor(15.0 * 134217728.0 / 8388608.0));
  int8_t in[256], lo[256], th[256];
  for (int i = 0; i < 256; i++) in[i] = (int8_t)(i - 128);
  tc_s8_logistic__ref(in, lo, 256, &p);
  tc_s8_tanh__ref(in, th, 256, &p);
  int worst_l = 0, worst_t = 0;
  for (int i = 0; i < 256; i++) {
    double x = 0.0387752913 * (in[i] + 2);
    double wl = floor(256.0 / (1.0 + exp(-x)) + 0.5) - 128, wt = floor(128.0 * tanh(x) + 0.5);
    wl = wl > 127 ? 127 : wl;
    wt = wt > 127 ? 127 : (wt < -128 ? -128 : wt);
    int dl = (int)fabs(lo[i] - wl), dt = (int)fabs(th[i] - wt);
    worst_l = dl > worst_l ? dl : worst_l;
    worst_t = dt > worst_t ? dt : worst_t;
  }
  CHECK_MSG(worst_l <= 1, "int8 logistic off by %d", worst_l);
  CHECK_MSG(worst_t <= 1, "int8 tanh off by %d", worst_t);
  /* At the zero point: exactly 1/2 (0 after the -128 offset) and tanh 0. */
  CHECK_EQ(lo[126], 0);
  CHECK_EQ(th[126], 0);
  /* Saturation beyond the radius: a large scale makes every nonzero input saturate. */
  CHECK(tc_act_s8_params_init(1.0f, 0, &p));
  CHECK_EQ(p.input_range_radius, 7); /* 2^27 = 0.5 * 2^28: floor(15 * 2^27 / 2^28) */
  int8_t big[3] = {-20, 20, 0}, ob[3];
  tc_s8_logistic__ref(big, ob, 3, &p);
  CHECK_EQ(ob[0], -128);
  CHECK_EQ(ob[1], 127);
  CHECK_EQ(ob[2], 0);
  tc_s8_tanh__ref(big, ob, 3, &p);
  CHECK_EQ(ob[0], -128);
  CHECK_EQ(ob[1], 127);
  CHECK_EQ(ob[2], 0);
  /* In place. */
  int8_t ip[2] = {-20, 20};
  tc_s8_logistic__ref(ip, ip, 2, &p);
  CHECK_EQ(ip[0], -128);
  CHECK_EQ(ip[1], 127);
  CHECK(!tc_act_s8_params_init(0.0f, 0, &p));
}

TC_TEST(kernel_qact_s16_logistic_tanh) {
  tc_act_s16_params p;
  int l2 = 0;
  CHECK(tc_checked_log2(1.0f / 4096, &l2));
  CHECK_EQ(l2, -12);
  CHECK(!tc_checked_log2(0.001f, &l2));
  /* Power-of-two scale 2^-12 (Q3.12): multiplier 0; tanh also takes 2^-11. */
  CHECK(tc_logistic_s16_params_init(1.0f / 4096, &p));
  CHECK_EQ(p.input_multiplier, 0);
  CHECK(tc_logistic_s16_params_init(1.0f / 2048, &p));
  CHECK(p.input_multiplier != 0);
  CHECK(tc_tanh_s16_params_init(1.0f / 2048, &p));
  CHECK_EQ(p.input_multiplier, 0);
  CHECK_EQ(p.input_left_shift, 1);
  const float scales[] = {1.0f / 4096, 1.0f / 2048, 0.000321f, 1.0f / 32768};
  for (int si = 0; si < 4; si++) {
    tc_act_s16_params pl, pt;
    CHECK(tc_logistic_s16_params_init(scales[si], &pl));
    CHECK(tc_tanh_s16_params_init(scales[si], &pt));
    int worst_l = 0, worst_t = 0;
    for (int v = -32768; v <= 32767; v += 7) {
      int16_t x = (int16_t)v, yl, yt;
      tc_s16_logistic__ref(&x, &yl, 1, &pl);
      tc_s16_tanh__ref(&x, &yt, 1, &pt);
      double xr = scales[si] * v;
      double wl = 32768.0 / (1.0 + exp(-xr)), wt = 32768.0 * tanh(xr);
      wl = wl > 32767 ? 32767 : wl;
      wt = wt > 32767 ? 32767 : (wt < -32768 ? -32768 : wt);
      int dl = (int)fabs(yl - wl), dt = (int)fabs(yt - wt);
      worst_l = dl > worst_l ? dl : worst_l;
      worst_t = dt > worst_t ? dt : worst_t;
    }
    CHECK_MSG(worst_l <= 12, "int16 logistic (scale %g) off by %d", (double)scales[si], worst_l);
    CHECK_MSG(worst_t <= 24, "int16 tanh (scale %g) off by %d", (double)scales[si], worst_t);
  }
  /* Exact values: 0 -> 1/2 and 0; saturation far out. */
  int16_t z = 0, big = 32767, nbig = -32768, o;
  CHECK(tc_logistic_s16_params_init(1.0f / 256, &p)); /* +-128 range: saturates */
  tc_s16_logistic__ref(&z, &o, 1, &p);
  CHECK_EQ(o, 16384);
  tc_s16_logistic__ref(&big, &o, 1, &p);
  CHECK_EQ(o, 32767);
  tc_s16_logistic__ref(&nbig, &o, 1, &p);
  CHECK_EQ(o, 1);
  CHECK(tc_tanh_s16_params_init(1.0f / 256, &p));
  tc_s16_tanh__ref(&z, &o, 1, &p);
  CHECK_EQ(o, 0);
  tc_s16_tanh__ref(&big, &o, 1, &p);
  CHECK_EQ(o, 32767);
  tc_s16_tanh__ref(&nbig, &o, 1, &p);
  CHECK_EQ(o, -32767);
  /* A scale so large that the 15-bit rescaling multiplier cannot hold it: refused. */
  CHECK(!tc_logistic_s16_params_init(4.0f, &p));
}

TC_TEST(kernel_qact_u8_table) {
  /* ssd_mobilenet's LOGISTIC: input scale 0.049736768 zero point 223, output 1/256, 0. */
  uint8_t lut[256], in[256], out[256];
  tc_u8_act_lut_fill(0.049736768f, 223, 1.0f / 256, 0, tc_logistic_f, lut);
  for (int v = 0; v < 256; v++) in[v] = (uint8_t)v;
  tc_u8_lut__ref(in, out, 256, lut);
  for (int v = 0; v < 256; v++) {
    double w = floor(256.0 / (1.0 + exp(-0.049736768 * (v - 223))) + 0.5);
    CHECK_NEAR(out[v], w > 255 ? 255 : w, 1);
  }
  CHECK_EQ(out[223], 128);
  CHECK_EQ(out[0], 0);
  /* TANH into scale 1/128 zero point 128. */
  tc_u8_act_lut_fill(0.05f, 128, 1.0f / 128, 128, tc_tanh_f, lut);
  tc_u8_lut__ref(in, out, 256, lut);
  CHECK_EQ(out[128], 128);
  CHECK_EQ(out[255], 255);
  CHECK_EQ(out[0], 0); /* tanh(-6.4) * 128 rounds to -128, + 128 */
}

/* ---- op glue: prepare checks on real models with one quantization parameter changed ------- */

#include "lite/model.h"
#include "tensorc_lite.h"

/* Loads models/<rel>, finds the first operator with builtin code `builtin`, lets `edit` change
 * its input or output tensor description in the loaded index (the index holds copies, so this
 * models a file with those values), then creates and prepares an interpreter. Returns the
 * status, with the interpreter's message in msg. */
typedef void (*qact_edit)(tc__mtensor *in, tc__mtensor *out);
static tc_status qact_try(const char *rel, int builtin, qact_edit edit, char *msg, size_t size) {
  size_t n = 0;
  void *bytes = tc_test_read_file(tc_test_shared(rel), &n);
  tc_model *m = NULL;
  tc_interp *it = NULL;
  tc_status s = TC_ERR_IO;
  snprintf(msg, size, "cannot read %s", rel);
  if (bytes && (s = tc_model_load_memory(bytes, n, NULL, &m)) == TC_OK) {
    tc__msubgraph *g = &m->subgraphs[0];
    for (int i = 0; i < g->n_ops; i++) {
      if (m->opcodes[g->ops[i].opcode].builtin != builtin) continue;
      if (edit) edit(&g->tensors[g->ops[i].inputs[0]], &g->tensors[g->ops[i].outputs[0]]);
      break;
    }
    s = tc_interp_create(m, NULL, &it);
    if (s == TC_OK) s = tc_interp_prepare(it);
    snprintf(msg, size, "%s", s && it ? tc_interp_errmsg(it) : "");
  }
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(bytes);
  return s;
}

static void out_zp_minus_127(tc__mtensor *in, tc__mtensor *out) {
  (void)in;
  ((int64_t *)out->q.zero_point)[0] = -127;
}
static void out_scale_1_255(tc__mtensor *in, tc__mtensor *out) {
  (void)in;
  ((float *)out->q.scale)[0] = 1.0f / 255;
}
static void in_unquantized(tc__mtensor *in, tc__mtensor *out) {
  (void)out;
  in->q.n_scales = 0;
}
static void out_uint8(tc__mtensor *in, tc__mtensor *out) {
  (void)in;
  out->dtype = TC_DTYPE_U8;
}
static void out_zp_0(tc__mtensor *in, tc__mtensor *out) {
  (void)in;
  ((int64_t *)out->q.zero_point)[0] = 0;
}
static void in_scale_0(tc__mtensor *in, tc__mtensor *out) {
  (void)out;
  ((float *)in->q.scale)[0] = 0.0f;
}

TC_TEST(kernel_qact_op_prepare_errors) {
  char msg[512];
  const char *pd = "models/tflm/person_detect.tflite", *dtln = "models/tflm/dtln_noise_suppression.tflite";
  /* Unchanged, both prepare. */
  tc_status s = qact_try(pd, 25, NULL, msg, sizeof msg);
  CHECK_MSG(s == TC_OK, "person_detect: %d %s", (int)s, msg);
  s = qact_try(dtln, 14, NULL, msg, sizeof msg);
  CHECK_MSG(s == TC_OK, "dtln: %d %s", (int)s, msg);
  /* SOFTMAX int8 output must be scale 1/256 zero point -128. */
  CHECK_EQ(qact_try(pd, 25, out_zp_minus_127, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "SOFTMAX");
  CHECK_STR_CONTAINS(msg, "zero point -128");
  CHECK_EQ(qact_try(pd, 25, out_scale_1_255, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "scale");
  CHECK_EQ(qact_try(pd, 25, in_unquantized, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "no quantization parameters");
  CHECK_EQ(qact_try(pd, 25, out_uint8, msg, sizeof msg), TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(msg, "uint8");
  /* LOGISTIC int8 output must be scale 1/256 zero point -128; the input scale must be > 0. */
  CHECK_EQ(qact_try(dtln, 14, out_zp_0, msg, sizeof msg), TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(msg, "LOGISTIC");
  CHECK_STR_CONTAINS(msg, "zero point -128");
  CHECK_EQ(qact_try(dtln, 14, in_scale_0, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "invalid scale");
  CHECK_EQ(qact_try(dtln, 14, out_uint8, msg, sizeof msg), TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(msg, "output");
}
