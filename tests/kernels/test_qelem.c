/* test_qelem.c: tests of the quantized elementwise reference kernels: ADD/SUB/MUL/MAXIMUM/
 * MINIMUM (kernels/ref/binary_q.c), quantized LEAKY_RELU (elementwise.c), QUANTIZE/DEQUANTIZE
 * (quantize.c) and quantized MEAN/SUM/REDUCE_MAX/MIN (reduce.c). Each is checked on hand-derived
 * values and, over random data and broadcasts, against a naive re-statement of TFLite Micro's
 * arithmetic written here with 64-bit integers and explicit rounding rules (not the qmath.h
 * helpers). Model-level bit-exactness is covered by the golden tests (seanet_int16 add0, sub0,
 * leaky_relu0, quantize0/1, tflm/simple_add_model); one test here runs QUANTIZE through the
 * interpreter on seanet_int16/quantize1. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ref/binary_q.h"
#include "kernels/ref/elementwise.h"
#include "kernels/ref/qmath.h"
#include "kernels/ref/quantize.h"
#include "kernels/ref/reduce.h"
#include "tc_test.h"
#include "tensorc_lite.h"

/* ---- naive arithmetic -------------------------------------------------------------------- */

static int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if (a % b != 0 && ((a < 0) != (b < 0))) q--;
  return q;
}

/* SaturatingRoundingDoublingHighMul: a * b / 2^31 rounded half towards +infinity. */
static int64_t n_srdhm(int64_t a, int64_t b) {
  if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
  return floor_div(a * b + (1ll << 30), 1ll << 31);
}

/* RoundingDivideByPOT: x / 2^e rounded half away from zero. */
static int64_t n_rdiv(int64_t x, int e) {
  if (e == 0) return x;
  int64_t d = 1ll << e, ax = x < 0 ? -x : x;
  int64_t r = (ax + d / 2) / d;
  return x < 0 ? -r : r;
}

/* MultiplyByQuantizedMultiplier (double rounding). */
static int64_t n_mbqm(int64_t x, int32_t q, int shift) {
  if (shift > 0) x *= 1ll << shift;
  return n_rdiv(n_srdhm(x, q), shift > 0 ? 0 : -shift);
}

static int64_t n_clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : (v > hi ? hi : v); }

static uint32_t g_rng = 12345u;
static int32_t rnd(int32_t lo, int32_t hi) { /* inclusive */
  g_rng = g_rng * 1664525u + 1013904223u;
  return lo + (int32_t)((g_rng >> 8) % (uint32_t)(hi - lo + 1));
}

/* Index into an operand of rank `n` (right-aligned against the output rank `on`) for output
 * coordinates `oc`: broadcast axes (extent 1) read coordinate 0. */
static size_t bidx(int on, const int32_t *oc, int n, const int32_t *dims) {
  size_t idx = 0;
  for (int i = 0; i < n; i++) {
    int c = oc[on - n + i];
    idx = idx * (size_t)dims[i] + (size_t)(dims[i] == 1 ? 0 : c);
  }
  return idx;
}

/* ---- ADD / SUB ----------------------------------------------------------------------------- */

TC_TEST(kernel_qelem_add_params) {
  tc_qadd_params p;
  /* Scales 0.5, 0.25 -> 1: input multipliers 0.5 and 0.25 (of 2 * 0.5 = 1), output
   * multiplier 1 / 2^20. */
  CHECK(tc_qadd_params_init(&p, 0, 0, 0.5f, 3, 0.25f, -4, 1.0f, 7, -128, 127));
  CHECK_EQ(p.left_shift, 20);
  CHECK_EQ(p.in1_offset, -3);
  CHECK_EQ(p.in2_offset, 4);
  CHECK_EQ(p.out_offset, 7);
  CHECK_EQ(p.in1_mult, 1 << 30);
  CHECK_EQ(p.in1_shift, 0);
  CHECK_EQ(p.in2_mult, 1 << 30);
  CHECK_EQ(p.in2_shift, -1);
  CHECK_EQ(p.out_mult, 1 << 30);
  CHECK_EQ(p.out_shift, -19);
  /* int16: left shift 15; SUB (float arithmetic) gives the same for power-of-two scales. */
  CHECK(tc_qadd_params_init(&p, 1, 1, 0.5f, 0, 0.25f, 0, 1.0f, 0, -32768, 32767));
  CHECK_EQ(p.left_shift, 15);
  CHECK_EQ(p.out_mult, 1 << 30);
  CHECK_EQ(p.out_shift, -14);
  /* Output scale too small for the inputs (multiplier >= 1) and bad scales are refused. */
  CHECK(!tc_qadd_params_init(&p, 0, 0, 1.0f, 0, 1.0f, 0, 1e-7f, 0, -128, 127));
  CHECK(!tc_qadd_params_init(&p, 0, 0, 0.0f, 0, 1.0f, 0, 1.0f, 0, -128, 127));
  CHECK(!tc_qadd_params_init(&p, 1, 0, 1.0f, 0, NAN, 0, 1.0f, 0, -128, 127));
}

TC_TEST(kernel_qelem_add_s8_hand) {
  /* real = 0.5 (a - 1) + 0.5 (b + 2), output scale 1, zero point -3, fused RELU (clamp at the
   * zero point). [2,3] + [3]: b broadcasts over the rows. */
  tc_qadd_params p;
  CHECK(tc_qadd_params_init(&p, 0, 0, 0.5f, 1, 0.5f, -2, 1.0f, -3, -3, 127));
  int8_t a[6] = {1, 5, -7, 9, 127, -128}, b[3] = {-2, 4, 1}, out[6];
  tc_bcast bc;
  CHECK(tc_bcast_init(&bc, 2, (const int32_t[]){2, 3}, 1, (const int32_t[]){3}));
  tc_s8_add__ref(&p, &bc, a, b, out);
  /* row 0: 0+0=0 -> -3; 2+3=5 -> 2; -4+1.5=-2.5 -> clamp -3.
   * row 1: 4+0=4 -> 1; 63+3=66 -> 63; -64.5+1.5=-63 -> clamp -3. */
  const int8_t want[6] = {-3, 2, -3, 1, 63, -3};
  for (int i = 0; i < 6; i++) CHECK_EQ(out[i], want[i]);
  /* Rounding of a half: 0.5 * (2 - 1) + 0.5 * (-2 + 2) = 0.5 -> 1 (half away from zero),
   * and -0.5 -> -1; no activation. */
  CHECK(tc_qadd_params_init(&p, 0, 0, 0.5f, 1, 0.5f, -2, 1.0f, 0, -128, 127));
  tc_bcast one;
  CHECK(tc_bcast_init(&one, 1, (const int32_t[]){2}, 1, (const int32_t[]){2}));
  int8_t x[2] = {2, 0}, y[2] = {-2, -2}, r[2];
  tc_s8_add__ref(&p, &one, x, y, r);
  CHECK_EQ(r[0], 1);
  CHECK_EQ(r[1], -1);
  /* SUB: 0.5 (a - 1) - 0.5 (b + 2). */
  CHECK(tc_qadd_params_init(&p, 1, 0, 0.5f, 1, 0.5f, -2, 1.0f, 0, -128, 127));
  int8_t s1[2] = {21, -128}, s2[2] = {6, 127};
  tc_s8_sub__ref(&p, &one, s1, s2, r);
  CHECK_EQ(r[0], 6);    /* 10 - 4 */
  CHECK_EQ(r[1], -128); /* -64.5 - 64.5 = -129 saturates */
}

/* Naive ADD/SUB of one element with the parameter block. */
static int64_t n_qadd(const tc_qadd_params *p, int32_t x, int32_t y, int sub) {
  int64_t sx = n_mbqm((int64_t)(x + p->in1_offset) * (1ll << p->left_shift), p->in1_mult,
                      p->in1_shift);
  int64_t sy = n_mbqm((int64_t)(y + p->in2_offset) * (1ll << p->left_shift), p->in2_mult,
                      p->in2_shift);
  int64_t o = n_mbqm(sub ? sx - sy : sx + sy, p->out_mult, p->out_shift) + p->out_offset;
  return n_clamp(o, p->act_min, p->act_max);
}

/* One dtype's random sweep of ADD and SUB over a few broadcasts, against the naive formula and
 * (for the unclamped ADD) within one step of the real-number result. */
#define QADD_SWEEP(T, fn_add, fn_sub, QMIN, QMAX, IS16)                                        \
  do {                                                                                         \
    static const int32_t shapes[3][2][4] = {                                                   \
        {{2, 1, 3}, {4, 1}}, {{5}, {1}}, {{1, 2, 3, 4}, {3, 1}}};                              \
    static const int ranks[3][2] = {{3, 2}, {1, 1}, {4, 2}};                                   \
    for (int trial = 0; trial < 30; trial++) {                                                 \
      int k = trial % 3, sub = (trial / 3) % 2;                                                \
      float s1 = (float)rnd(1, 1000) * 1e-4f, s2 = (float)rnd(1, 1000) * 1e-4f;                \
      float so = (s1 > s2 ? s1 : s2) * (float)rnd(60, 300) * 0.01f;                            \
      int32_t z1 = IS16 ? 0 : rnd(QMIN, QMAX), z2 = IS16 ? 0 : rnd(QMIN, QMAX);                \
      int32_t zo = IS16 ? 0 : rnd(QMIN, QMAX);                                                 \
      tc_qadd_params p;                                                                        \
      CHECK(tc_qadd_params_init(&p, sub, IS16, s1, z1, s2, z2, so, zo, QMIN, QMAX));           \
      tc_bcast bc;                                                                             \
      CHECK(tc_bcast_init(&bc, ranks[k][0], shapes[k][0], ranks[k][1], shapes[k][1]));         \
      T a[64], b[64], out[64];                                                                 \
      for (size_t i = 0; i < bc.n_a; i++) a[i] = (T)rnd(QMIN, QMAX);                           \
      for (size_t i = 0; i < bc.n_b; i++) b[i] = (T)rnd(QMIN, QMAX);                           \
      if (sub) fn_sub(&p, &bc, a, b, out);                                                     \
      else fn_add(&p, &bc, a, b, out);                                                         \
      int32_t oc[TC_MAX_DIMS];                                                                 \
      for (size_t o = 0; o < bc.n_out; o++) {                                                  \
        size_t rem = o;                                                                        \
        for (int d = bc.n_dims - 1; d >= 0; d--) {                                             \
          oc[d] = (int32_t)(rem % (size_t)bc.dims[d]);                                         \
          rem /= (size_t)bc.dims[d];                                                           \
        }                                                                                      \
        int32_t x = a[bidx(bc.n_dims, oc, ranks[k][0], shapes[k][0])];                         \
        int32_t y = b[bidx(bc.n_dims, oc, ranks[k][1], shapes[k][1])];                         \
        CHECK_EQ(out[o], n_qadd(&p, x, y, sub));                                               \
        double real = (double)s1 * (x - z1) + (sub ? -1.0 : 1.0) * (double)s2 * (y - z2);      \
        double want = n_clamp((int64_t)llround(real / so) + zo, QMIN, QMAX);                   \
        CHECK_NEAR(out[o], want, 1.0);                                                         \
      }                                                                                        \
    }                                                                                          \
  } while (0)

TC_TEST(kernel_qelem_add_sub_sweep) {
  QADD_SWEEP(int8_t, tc_s8_add__ref, tc_s8_sub__ref, INT8_MIN, INT8_MAX, 0);
  QADD_SWEEP(uint8_t, tc_u8_add__ref, tc_u8_sub__ref, 0, UINT8_MAX, 0);
  QADD_SWEEP(int16_t, tc_s16_add__ref, tc_s16_sub__ref, INT16_MIN, INT16_MAX, 1);
}

/* ---- MUL, MAXIMUM, MINIMUM ----------------------------------------------------------------- */

TC_TEST(kernel_qelem_mul_hand) {
  /* 0.5 * 0.25 / 0.125 = 1: out = (a - 2) * (b + 1) - 5, clamped to [-128, 127]. */
  tc_qmul_params p;
  CHECK(tc_qmul_params_init(&p, 0.5f, 2, 0.25f, -1, 0.125f, -5, -128, 127));
  CHECK_EQ(p.out_mult, 1 << 30);
  CHECK_EQ(p.out_shift, 1);
  tc_bcast bc;
  CHECK(tc_bcast_init(&bc, 1, (const int32_t[]){4}, 0, NULL)); /* b is a scalar */
  int8_t a[4] = {2, 7, -8, 127}, b[1] = {2}, out[4];
  tc_s8_mul__ref(&p, &bc, a, b, out);
  CHECK_EQ(out[0], -5);  /* 0 */
  CHECK_EQ(out[1], 10);  /* 5 * 3 - 5 */
  CHECK_EQ(out[2], -35); /* -10 * 3 - 5 */
  CHECK_EQ(out[3], 127); /* 375 - 5 saturates */
  /* int16, M = 2^-3: 100 * 3 / 8 = 37.5 -> 38 (half away from zero), -37.5 -> -38. */
  CHECK(tc_qmul_params_init(&p, 1.0f, 0, 1.0f, 0, 8.0f, 0, -32768, 32767));
  int16_t x[2] = {100, -100}, y[2] = {3, 3}, r[2];
  tc_bcast two;
  CHECK(tc_bcast_init(&two, 1, (const int32_t[]){2}, 1, (const int32_t[]){2}));
  tc_s16_mul__ref(&p, &two, x, y, r);
  CHECK_EQ(r[0], 38);
  CHECK_EQ(r[1], -38);
  /* int16 x int16 -> int8 with an output zero point. */
  CHECK(tc_qmul_params_init(&p, 1.0f, 0, 1.0f, 0, 8.0f, 10, -128, 127));
  int8_t r8[2];
  tc_s16s8_mul__ref(&p, &two, x, y, r8);
  CHECK_EQ(r8[0], 48);
  CHECK_EQ(r8[1], -28);
}

TC_TEST(kernel_qelem_mul_sweep) {
  for (int trial = 0; trial < 40; trial++) {
    float s1 = (float)rnd(1, 1000) * 1e-3f, s2 = (float)rnd(1, 1000) * 1e-3f;
    float so = s1 * s2 * (float)rnd(5, 400) * 0.05f;
    int u8 = trial % 2;
    int32_t qmin = u8 ? 0 : -128, qmax = u8 ? 255 : 127;
    int32_t z1 = rnd(qmin, qmax), z2 = rnd(qmin, qmax), zo = rnd(qmin, qmax);
    tc_qmul_params p;
    CHECK(tc_qmul_params_init(&p, s1, z1, s2, z2, so, zo, qmin, qmax));
    tc_bcast bc;
    CHECK(tc_bcast_init(&bc, 2, (const int32_t[]){3, 1}, 1, (const int32_t[]){5}));
    uint8_t ua[3], ub[5], uo[15];
    int8_t sa[3], sb[5], so8[15];
    for (int i = 0; i < 3; i++) ua[i] = (uint8_t)rnd(0, 255), sa[i] = (int8_t)rnd(-128, 127);
    for (int i = 0; i < 5; i++) ub[i] = (uint8_t)rnd(0, 255), sb[i] = (int8_t)rnd(-128, 127);
    if (u8) tc_u8_mul__ref(&p, &bc, ua, ub, uo);
    else tc_s8_mul__ref(&p, &bc, sa, sb, so8);
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 5; j++) {
        int32_t x = u8 ? ua[i] : sa[i], y = u8 ? ub[j] : sb[j];
        int64_t want =
            n_clamp(n_mbqm((int64_t)(x - z1) * (y - z2), p.out_mult, p.out_shift) + zo, qmin, qmax);
        CHECK_EQ(u8 ? uo[i * 5 + j] : so8[i * 5 + j], want);
      }
  }
}

TC_TEST(kernel_qelem_maxmin) {
  tc_bcast bc;
  CHECK(tc_bcast_init(&bc, 2, (const int32_t[]){2, 2}, 1, (const int32_t[]){2}));
  int8_t a[4] = {-5, 3, 100, -128}, b[2] = {0, 4}, out[4];
  tc_s8_maxmin__ref(1, &bc, a, b, out);
  CHECK_EQ(out[0], 0);
  CHECK_EQ(out[1], 4);
  CHECK_EQ(out[2], 100);
  CHECK_EQ(out[3], 4);
  tc_s8_maxmin__ref(0, &bc, a, b, out);
  CHECK_EQ(out[0], -5);
  CHECK_EQ(out[3], -128);
  int16_t c[4] = {-300, 300, 7, 8}, d[2] = {0, 299}, o16[4];
  tc_s16_maxmin__ref(1, &bc, c, d, o16);
  CHECK_EQ(o16[0], 0);
  CHECK_EQ(o16[1], 300);
  CHECK_EQ(o16[3], 299);
  uint8_t e[4] = {0, 255, 9, 10}, f[2] = {5, 5}, ou[4];
  tc_u8_maxmin__ref(0, &bc, e, f, ou);
  CHECK_EQ(ou[0], 0);
  CHECK_EQ(ou[1], 5);
  CHECK_EQ(ou[2], 5);
}

/* ---- LEAKY_RELU ----------------------------------------------------------------------------- */

TC_TEST(kernel_qelem_leaky_relu) {
  /* int16, same scale in and out, alpha 0.25: identity for x >= 0; for x < 0 the multiplier
   * 0.25 = 2^30 * 2^(-1-31): srdhm then a rounding shift by 1 (half away from zero). */
  tc_qleaky_params p;
  CHECK(tc_qleaky_params_init(&p, 0.002f, 0, 0.002f, 0, 0.25f));
  CHECK_EQ(p.mult_identity, 1 << 30);
  CHECK_EQ(p.shift_identity, 1);
  int16_t x[6] = {0, 32767, -6, -2, -32768, -7}, y[6];
  tc_s16_leaky_relu__ref(&p, x, y, 6);
  CHECK_EQ(y[0], 0);
  CHECK_EQ(y[1], 32767);
  CHECK_EQ(y[2], -2); /* -1.5 -> -2 */
  CHECK_EQ(y[3], -1); /* -0.5 -> -1 */
  CHECK_EQ(y[4], -8192);
  CHECK_EQ(y[5], -2); /* srdhm(-7, 2^30) = -3.5 -> -3 (half up), then -1.5 -> -2 */
  /* int8 with zero points and a scale change: x = q - 10; out = 5 + x * 0.5 (x >= 0) or
   * 5 + x * 0.1 * 0.5 (x < 0). */
  CHECK(tc_qleaky_params_init(&p, 0.5f, 10, 1.0f, 5, 0.1f));
  int8_t q[5] = {10, 20, 127, 0, -128}, r[5];
  tc_s8_leaky_relu__ref(&p, q, r, 5);
  CHECK_EQ(r[0], 5);
  CHECK_EQ(r[1], 10);
  CHECK_EQ(r[2], 64);  /* 5 + 58.5 -> 5 + 59 */
  CHECK_EQ(r[3], 4);   /* 5 - 0.5 -> 5 - 1 */
  CHECK_EQ(r[4], -2);  /* 5 - 6.9 -> 5 - 7 */
  for (int i = 0; i < 5; i++) {
    int32_t xv = q[i] - 10;
    int64_t want = xv >= 0 ? n_mbqm(xv, p.mult_identity, p.shift_identity)
                           : n_mbqm(xv, p.mult_alpha, p.shift_alpha);
    CHECK_EQ(r[i], n_clamp(want + 5, -128, 127));
  }
  /* A negative alpha flips the sign of negative inputs (PReLU-like slopes). */
  CHECK(tc_qleaky_params_init(&p, 1.0f, 128, 1.0f, 128, -0.5f));
  CHECK(p.mult_alpha < 0);
  uint8_t u[3] = {0, 100, 200}, v[3];
  tc_u8_leaky_relu__ref(&p, u, v, 3);
  CHECK_EQ(v[0], 192); /* x = -128 -> 64 */
  CHECK_EQ(v[1], 142); /* x = -28 -> 14 */
  CHECK_EQ(v[2], 200); /* x = 72 -> 72 */
  CHECK(!tc_qleaky_params_init(&p, 0.0f, 0, 1.0f, 0, 0.2f));
}

/* ---- QUANTIZE / DEQUANTIZE ------------------------------------------------------------------ */

TC_TEST(kernel_qelem_quantize_f32) {
  /* scale 0.5, zero point -3: q = round(x / 0.5) - 3, halves away from zero. */
  float x[8] = {0.0f, 0.25f, -0.25f, 0.75f, 100.0f, -100.0f, NAN, 1e30f};
  int8_t q[8];
  tc_quantize_f32__ref(x, TC_DTYPE_I8, q, 8, 0.5f, -3);
  const int8_t want[8] = {-3, -2, -4, -1, 127, -128, -128, 127};
  for (int i = 0; i < 8; i++) CHECK_EQ(q[i], want[i]);
  uint8_t u[3];
  tc_quantize_f32__ref((const float[]){0.0f, -1.0f, 1.0f}, TC_DTYPE_U8, u, 3, 1.0f / 128, 128);
  CHECK_EQ(u[0], 128);
  CHECK_EQ(u[1], 0);
  CHECK_EQ(u[2], 255); /* 256 saturates */
  int16_t s[2];
  tc_quantize_f32__ref((const float[]){0.1f, -0.30001f}, TC_DTYPE_I16, s, 2, 1.0f / 32768, 0);
  CHECK_EQ(s[0], 3277); /* 3276.8 */
  CHECK_EQ(s[1], -9831);
  int32_t w[1];
  tc_quantize_f32__ref((const float[]){-2.5f}, TC_DTYPE_I32, w, 1, 1.0f, 0);
  CHECK_EQ(w[0], -3);
}

TC_TEST(kernel_qelem_requantize) {
  int32_t m;
  int sh;
  /* int8 -> uint8, same scale, zero points -128 -> 0: a shift by 128. */
  tc_q_quantize_multiplier(1.0, &m, &sh);
  int8_t a[3] = {-128, 0, 127};
  uint8_t b[3];
  tc_requantize__ref(TC_DTYPE_I8, a, TC_DTYPE_U8, b, 3, m, sh, -128, 0);
  CHECK_EQ(b[0], 0);
  CHECK_EQ(b[1], 128);
  CHECK_EQ(b[2], 255);
  /* int16 -> int32 times 4; int32 -> int16 divided by 4 with rounding and saturation. */
  tc_q_quantize_multiplier(4.0, &m, &sh);
  int16_t c[2] = {-32768, 12345};
  int32_t d[2];
  tc_requantize__ref(TC_DTYPE_I16, c, TC_DTYPE_I32, d, 2, m, sh, 0, 0);
  CHECK_EQ(d[0], -131072);
  CHECK_EQ(d[1], 49380);
  tc_q_quantize_multiplier(0.25, &m, &sh);
  int32_t e[4] = {6, -6, 400000, INT32_MIN};
  int16_t f[4];
  tc_requantize__ref(TC_DTYPE_I32, e, TC_DTYPE_I16, f, 4, m, sh, 0, 0);
  CHECK_EQ(f[0], 2);  /* 1.5 -> 2 */
  CHECK_EQ(f[1], -2); /* -1.5 -> -2 */
  CHECK_EQ(f[2], 32767);
  CHECK_EQ(f[3], -32768);
  /* Random int8 -> int8 with different scales against the naive formula. */
  for (int t = 0; t < 20; t++) {
    double ratio = (double)rnd(1, 4000) / 1000.0;
    int32_t zi = rnd(-128, 127), zo = rnd(-128, 127);
    tc_q_quantize_multiplier(ratio, &m, &sh);
    int8_t in[16], out[16];
    for (int i = 0; i < 16; i++) in[i] = (int8_t)rnd(-128, 127);
    tc_requantize__ref(TC_DTYPE_I8, in, TC_DTYPE_I8, out, 16, m, sh, zi, zo);
    for (int i = 0; i < 16; i++) {
      CHECK_EQ(out[i], n_clamp(n_mbqm(in[i] - zi, m, sh) + zo, -128, 127));
      CHECK_NEAR(out[i], n_clamp(llround(ratio * (in[i] - zi)) + zo, -128, 127), 1.0);
    }
  }
}

TC_TEST(kernel_qelem_dequantize) {
  int8_t a[3] = {-128, 0, 127};
  float out[6];
  tc_dequantize__ref(TC_DTYPE_I8, a, out, 3, 0.5f, -100);
  CHECK_EQ(out[0], -14.0f);
  CHECK_EQ(out[1], 50.0f);
  CHECK_EQ(out[2], 113.5f);
  int32_t b[2] = {INT32_MAX, -4};
  tc_dequantize__ref(TC_DTYPE_I32, b, out, 2, 0.25f, 0);
  CHECK_EQ(out[1], -1.0f);
  CHECK_NEAR(out[0], 536870912.0, 1.0);
  /* Per-channel along axis 1 of [2, 3]: channel = i % 3. */
  uint8_t c[6] = {10, 10, 10, 20, 20, 20};
  const float sc[3] = {1.0f, 0.5f, 2.0f};
  const int64_t zp[3] = {10, 0, 5};
  tc_dequantize_per_channel__ref(TC_DTYPE_U8, c, out, 6, 1, 3, sc, zp);
  const float want[6] = {0.0f, 5.0f, 10.0f, 10.0f, 10.0f, 30.0f};
  for (int i = 0; i < 6; i++) CHECK_EQ(out[i], want[i]);
  /* Per-channel along axis 0 of [2, 3]: channel = i / 3. */
  tc_dequantize_per_channel__ref(TC_DTYPE_U8, c, out, 6, 3, 2, sc, zp);
  CHECK_EQ(out[0], 0.0f);
  CHECK_EQ(out[5], 10.0f);
  /* float16 -> float32. */
  const uint16_t h[9] = {0x3C00, 0xC000, 0x7BFF, 0x0001, 0x8000, 0x7C00, 0xFC00, 0x0400, 0x3555};
  float f[9];
  tc_dequantize_f16__ref(h, f, 9);
  CHECK_EQ(f[0], 1.0f);
  CHECK_EQ(f[1], -2.0f);
  CHECK_EQ(f[2], 65504.0f);
  CHECK_EQ(f[3], 0x1p-24f);
  CHECK(f[4] == 0.0f && signbit(f[4]));
  CHECK(isinf(f[5]) && f[5] > 0);
  CHECK(isinf(f[6]) && f[6] < 0);
  CHECK_EQ(f[7], 0x1p-14f);
  CHECK_EQ(f[8], 0.333251953125f);
  CHECK(isnan(tc_f16_to_f32(0x7E00)));
  /* Every finite half against ldexp of its fields. */
  for (uint32_t v = 0; v < 0x10000u; v++) {
    uint16_t hv = (uint16_t)v;
    int e = (hv >> 10) & 0x1F, mnt = hv & 0x3FF;
    if (e == 0x1F) continue;
    double mag = e ? ldexp(1024 + mnt, e - 25) : ldexp(mnt, -24);
    double want_v = (hv & 0x8000) ? -mag : mag;
    if (tc_f16_to_f32(hv) != (float)want_v) {
      CHECK_MSG(0, "half 0x%04x: %g != %g", v, (double)tc_f16_to_f32(hv), want_v);
      break;
    }
  }
}

/* ---- reductions ---------------------------------------------------------------------------- */

TC_TEST(kernel_qelem_mean_hand) {
  int32_t acc[8];
  tc_qreduce_params p = {0};
  /* Same quantization: truncating integer mean over the last axis of [2, 2]. */
  int8_t a[4] = {-3, -2, 5, 8}, out[4];
  p.same_quant = 1;
  CHECK(tc_q_reduce__ref(TC_DTYPE_I8, a, 2, (const int32_t[]){2, 2}, 2u, TC_REDUCE_MEAN, &p,
                         acc, out));
  CHECK_EQ(out[0], -2); /* -2.5 truncates toward zero */
  CHECK_EQ(out[1], 6);  /* 6.5 */
  /* Scale 1 -> 1, zero points 0 -> 1 (different, so the requantizing path):
   * mean of {1, 2, 3, 4}: M = 1 = (2^30, 1); n = 4: k = 2, M' = (2^30, -1); 10 -> 2.5 -> 3. */
  p.same_quant = 0;
  p.in_zp = 0;
  p.out_zp = 1;
  tc_q_quantize_multiplier(1.0, &p.mult, &p.shift);
  int16_t b[7] = {1, 2, 3, 4, 1, 2, 4};
  int16_t o16[2];
  CHECK(tc_q_reduce__ref(TC_DTYPE_I16, b, 1, (const int32_t[]){4}, 1u, TC_REDUCE_MEAN, &p, acc,
                         o16));
  CHECK_EQ(o16[0], 4);
  /* n = 3: k = 1, M' = (2^31 / 3 = 715827882, 0); 7 * M' / 2^31 = 2.33 -> 2, + 1. */
  CHECK(tc_q_reduce__ref(TC_DTYPE_I16, b + 4, 1, (const int32_t[]){3}, 1u, TC_REDUCE_MEAN, &p,
                         acc, o16));
  CHECK_EQ(o16[0], 3);
  /* SUM over axis 0 of [2, 3] with input zero point 2, scale 1 -> 0.5 (M = 2), out zp 1. */
  p.in_zp = 2;
  p.out_zp = 1;
  tc_q_quantize_multiplier(2.0, &p.mult, &p.shift);
  uint8_t c[6] = {2, 3, 10, 2, 5, 200};
  uint8_t oc[3];
  CHECK(tc_q_reduce__ref(TC_DTYPE_U8, c, 2, (const int32_t[]){2, 3}, 1u, TC_REDUCE_SUM, &p, acc,
                         oc));
  CHECK_EQ(oc[0], 1);   /* (0 + 0) * 2 + 1 */
  CHECK_EQ(oc[1], 9);   /* (1 + 3) * 2 + 1 */
  CHECK_EQ(oc[2], 255); /* (8 + 198) * 2 + 1 saturates */
  /* MAX / MIN over both axes, and an empty input. */
  int8_t mx[1];
  CHECK(tc_q_reduce__ref(TC_DTYPE_I8, a, 2, (const int32_t[]){2, 2}, 3u, TC_REDUCE_MAX, &p, acc,
                         mx));
  CHECK_EQ(mx[0], 8);
  CHECK(tc_q_reduce__ref(TC_DTYPE_I8, a, 2, (const int32_t[]){2, 2}, 3u, TC_REDUCE_MIN, &p, acc,
                         mx));
  CHECK_EQ(mx[0], -3);
  int8_t e2[2] = {55, 55};
  CHECK(tc_q_reduce__ref(TC_DTYPE_I8, a, 2, (const int32_t[]){2, 0}, 2u, TC_REDUCE_MEAN, &p, acc,
                         e2));
  CHECK_EQ(e2[0], 0);
  CHECK_EQ(e2[1], 0);
  CHECK(tc_q_reduce__ref(TC_DTYPE_I8, a, 2, (const int32_t[]){2, 0}, 2u, TC_REDUCE_MAX, &p, acc,
                         e2));
  CHECK_EQ(e2[0], -128);
  /* Empty, with the zero dim multiplied last: [0, 2^30, 2^30, 2^30, 2] over axes 0-3 has 2
   * outputs; the element count must not overflow on the way (UBSan checks it). */
  const int32_t big[5] = {0, 1 << 30, 1 << 30, 1 << 30, 2};
  e2[0] = e2[1] = 55;
  CHECK(tc_q_reduce__ref(TC_DTYPE_I8, a, 5, big, 0xfu, TC_REDUCE_SUM, &p, acc, e2));
  CHECK_EQ(e2[0], 0);
  CHECK_EQ(e2[1], 0);
  float fe[2] = {55, 55};
  tc_f32_reduce__ref((const float *)a, 5, big, 0xfu, TC_REDUCE_SUM, fe);
  CHECK_NEAR(fe[0], 0, 0);
  CHECK_NEAR(fe[1], 0, 0);
  tc_f32_reduce__ref((const float *)a, 5, big, 0xfu, TC_REDUCE_MEAN, fe);
  CHECK(fe[0] != fe[0] && fe[1] != fe[1]); /* 0 / 0: NaN, as TFLite */
  /* Unsupported: PROD and int32 data. */
  CHECK(!tc_q_reduce__ref(TC_DTYPE_I8, a, 1, (const int32_t[]){4}, 1u, TC_REDUCE_PROD, &p, acc,
                          mx));
  CHECK(!tc_q_reduce__ref(TC_DTYPE_I32, a, 1, (const int32_t[]){1}, 1u, TC_REDUCE_SUM, &p, acc,
                          mx));
  CHECK_EQ(tc_q_reduce_scratch_size(3, (const int32_t[]){2, 5, 7}, 2u), 2 * 7 * 4);
}

TC_TEST(kernel_qelem_mean_sweep) {
  /* Random int8 MEAN over the middle axes of [2, 3, 5, 4] (and over the last axis) with
   * different quantizations, against the naive formula (multiplier folding restated) and within
   * one step of the real mean. */
  int32_t dims[4] = {2, 3, 5, 4};
  int8_t in[120], out[40];
  int32_t acc[40];
  for (int t = 0; t < 20; t++) {
    float si = (float)rnd(1, 1000) * 1e-3f, so = si * (float)rnd(20, 300) * 0.01f;
    tc_qreduce_params p = {0};
    p.in_zp = rnd(-128, 127);
    p.out_zp = rnd(-128, 127);
    tc_q_quantize_multiplier((double)si / (double)so, &p.mult, &p.shift);
    uint32_t mask = t % 2 ? 6u : 8u;
    for (int i = 0; i < 120; i++) in[i] = (int8_t)rnd(-128, 127);
    CHECK(tc_q_reduce__ref(TC_DTYPE_I8, in, 4, dims, mask, TC_REDUCE_MEAN, &p, acc, out));
    int64_t n = mask == 6u ? 15 : 4;
    int k = 0;
    while ((2ll << k) <= n) k++;
    if (k > 31 + p.shift) k = 31 + p.shift;
    int32_t mult = (int32_t)(((int64_t)p.mult << k) / n);
    int shift = p.shift - k;
    int n_out = mask == 6u ? 8 : 30;
    for (int o = 0; o < n_out; o++) {
      int64_t sum = 0;
      for (int r = 0; r < n; r++) {
        int idx = mask == 6u ? (o / 4) * 60 + r * 4 + (o % 4) : o * 4 + r;
        sum += in[idx];
      }
      int64_t want = n_clamp(n_mbqm(sum - p.in_zp * n, mult, shift) + p.out_zp, -128, 127);
      CHECK_EQ(out[o], want);
      double real = (double)si * ((double)sum / (double)n - p.in_zp) / so + p.out_zp;
      CHECK_NEAR(out[o], n_clamp(llround(real), -128, 127), 1.0);
    }
  }
}

/* ---- through the interpreter ---------------------------------------------------------------- */

TC_TEST(kernel_qelem_op_quantize_model) {
  /* seanet_int16/quantize1: int16 (scale 0.000494312437) -> int32 (scale 1.49011612e-07), one
   * QUANTIZE; compare with the naive requantization of the multiplier from the two scales. */
  size_t size = 0;
  void *bytes = tc_test_read_file(tc_test_shared("models/seanet_int16/quantize1.tflite"), &size);
  if (!bytes) {
    CHECK_MSG(0, "seanet_int16/quantize1.tflite not found");
    return;
  }
  tc_model *m = NULL;
  tc_interp *it = NULL;
  CHECK_EQ(tc_model_load_memory(bytes, size, NULL, &m), TC_OK);
  CHECK_EQ(tc_interp_create(m, NULL, &it), TC_OK);
  CHECK_EQ(tc_interp_prepare(it), TC_OK);
  static int16_t in[640];
  static int32_t out[640];
  for (int i = 0; i < 640; i++) in[i] = (int16_t)rnd(-32768, 32767);
  in[0] = -32768;
  in[1] = 32767;
  CHECK_EQ(tc_interp_set_input(it, 0, in, sizeof in), TC_OK);
  CHECK_EQ(tc_interp_invoke(it), TC_OK);
  CHECK_EQ(tc_interp_get_output(it, 0, out, sizeof out), TC_OK);
  int32_t mult;
  int shift;
  tc_q_quantize_multiplier((double)0.000494312437f / (double)1.49011612e-07f, &mult, &shift);
  for (int i = 0; i < 640; i++) CHECK_EQ(out[i], n_mbqm(in[i], mult, shift));
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(bytes);
}

/* Loads a shared model, replaces the one occurrence of the float `from` in its bytes (a
 * quantization scale) by `to`, and prepares it. Returns the status; the message goes to err. */
static tc_status prepare_patched(const char *rel, float from, float to, char *err, size_t size) {
  size_t n = 0;
  uint8_t *bytes = tc_test_read_file(tc_test_shared(rel), &n);
  err[0] = '\0';
  if (!bytes) {
    snprintf(err, size, "%s not found", rel);
    return TC_ERR_IO;
  }
  int hits = 0;
  for (size_t i = 0; i + 4 <= n; i++) {
    float v;
    memcpy(&v, bytes + i, 4);
    if (v == from) {
      memcpy(bytes + i, &to, 4);
      hits++;
    }
  }
  if (hits != 1) {
    snprintf(err, size, "%d occurrences of %g in %s", hits, (double)from, rel);
    free(bytes);
    return TC_ERR_ARG;
  }
  tc_model *m = NULL;
  tc_interp *it = NULL;
  tc_status s = tc_model_load_memory(bytes, n, NULL, &m);
  if (s) snprintf(err, size, "%s", tc_model_errmsg(m));
  if (!s) s = tc_interp_create(m, NULL, &it);
  if (!s) s = tc_interp_prepare(it);
  if (s && it) snprintf(err, size, "%s", tc_interp_errmsg(it));
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(bytes);
  return s;
}

TC_TEST(kernel_qelem_op_errors) {
  char err[256];
  /* int8 ADD whose output scale is far below the inputs': the output multiplier would be >= 1,
   * which TFLite's ADD cannot represent. */
  tc_status s = prepare_patched("models/tflm/simple_add_model.tflite", 0.0583774112f, 1e-9f, err,
                                sizeof err);
  CHECK_EQ(s, TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(err, "ADD");
  CHECK_STR_CONTAINS(err, "out of range");
  /* The same with the untouched scale prepares (the patch helper itself works). */
  s = prepare_patched("models/tflm/simple_add_model.tflite", 0.0583774112f, 0.0583774112f, err,
                      sizeof err);
  CHECK_EQ(s, TC_OK);
  /* QUANTIZE to an output of scale 0, and int16 SUB with a negative input scale. */
  s = prepare_patched("models/seanet_int16/quantize0.tflite", 0.000921971456f, 0.0f, err,
                      sizeof err);
  CHECK(s == TC_ERR_MODEL);
  CHECK_STR_CONTAINS(err, "scale");
  s = prepare_patched("models/seanet_int16/sub0.tflite", 8.7098424e-06f, -1.0f, err, sizeof err);
  /* Negative and infinite scales are rejected by the loader already, naming the field. */
  CHECK_EQ(s, TC_ERR_MODEL);
  CHECK_STR_CONTAINS(err, "quantization.scale");
  CHECK_STR_CONTAINS(err, "not a finite");
  /* QUANTIZE from int16 with an infinite input scale. */
  s = prepare_patched("models/seanet_int16/quantize1.tflite", 0.000494312437f, INFINITY, err,
                      sizeof err);
  CHECK_EQ(s, TC_ERR_MODEL);
  CHECK_STR_CONTAINS(err, "quantization.scale");
}
