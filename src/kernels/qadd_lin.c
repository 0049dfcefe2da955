/* qadd_lin.c: the linear form of an 8-bit ADD/SUB (vec_ops.h tc_qadd_lin). The reference
 * rescales both inputs to a common 2^20 scale with rounding, adds, and rescales the sum with
 * a double rounding: about 40 bits of intermediate precision, but the result is a byte that
 * depends on two bytes only. For every parameter set seen in real models (and almost every
 * random one) that byte function equals clamp(floor((A x + B y + C) / 2^n)) for integers near
 * the real coefficients: the rounding steps of the reference move the real-valued result by
 * a few 1e-6 output steps, less than the distance of any of the 65536 points from a step.
 * Rather than proving that from the parameters, the fit checks it on all 65536 pairs:
 *  1. alpha, beta = output steps per input step (in_mult 2^(in_shift - 11) * out_mult
 *     2^(out_shift - 31), beta negated for SUB); n = the largest <= 38 with both <= 2^(30 - n);
 *     A, B = alpha 2^n, beta 2^n rounded;
 *  2. each pair (x, y) with exact output f bounds C: C >= f 2^n - A x - B y unless f is the
 *     low clamp, C < (f + 1) 2^n - A x - B y unless f is the high clamp; C is the middle of
 *     the interval left (empty interval: no linear form);
 *  3. A, B, C are split for the int32 evaluation (vec_ops.h), and the variant that will run
 *     the form is run with it on every pair and compared with the exact outputs (plus spot
 *     checks of the portable tc_qadd_lin_eval); only a form that matches all of them is
 *     returned.
 * The exact outputs come from the calling slot's own variant run with lin NULL (bit-exact with
 * the reference, so the fit is the same whichever variant computes them). Cost: 3 x 65536
 * outputs of the variant and a 65536-step scalar loop, ~0.15 ms with the AVX2 variant. */
#include <math.h>
#include <string.h>

#include "kernels/vec_ops.h"

int32_t tc_qadd_lin_eval(const tc_qadd_lin *k, int32_t x, int32_t y) {
  /* |a_lo x + b_lo y + c_lo| < 2^25 and the fit keeps t within +-2^30 (no overflow). */
  const int32_t low = k->a_lo * x + k->b_lo * y + k->c_lo;
  const int32_t t = k->a_hi * x + k->b_hi * y + k->c_hi + (low >> 16);
  const int32_t v = t >> k->shift;
  return v < k->act_min ? k->act_min : (v > k->act_max ? k->act_max : v);
}

/* Runs fn (with lin, or exactly with lin NULL) on x (a scalar) against the 256 bytes ys:
 * row[y] = out(x, y) as stored bytes. */
static void run_row(const tc_qadd_params *p, const tc_qadd_lin *lin, int is_sub,
                    tc_q8_addsub_fn *fn, uint8_t x, const uint8_t ys[256], uint8_t row[256]) {
  const int32_t d1 = 1, d256 = 256;
  tc_bcast bc;
  if (tc_bcast_init(&bc, 1, &d1, 1, &d256)) fn(p, lin, is_sub, &bc, &x, ys, row);
  else memset(row, 0, 256);
}

static int32_t byte_value(uint8_t b, int is_u8) { return is_u8 ? (int32_t)b : (int32_t)(int8_t)b; }

int tc_qadd_lin_fit(const tc_qadd_params *p, int is_sub, int is_u8, tc_q8_addsub_fn *exact,
                    tc_qadd_lin *lin) {
  const int32_t tlo = is_u8 ? 0 : -128, thi = is_u8 ? 255 : 127;
  const int32_t lo = p->act_min, hi = p->act_max;
  if (p->left_shift != 20 || lo < tlo || hi > thi || lo > hi) return 0;
  /* 1. coefficients */
  const double m = ldexp((double)p->out_mult, p->out_shift - 31);
  const double alpha = ldexp((double)p->in1_mult, p->in1_shift - 11) * m;
  const double beta = (is_sub ? -1.0 : 1.0) * ldexp((double)p->in2_mult, p->in2_shift - 11) * m;
  const double amax = fmax(fabs(alpha), fabs(beta));
  if (!isfinite(amax) || ldexp(amax, 16) > 0x1p30) return 0;
  int n = 16;
  while (n < 38 && ldexp(amax, n + 1) <= 0x1p30) n++;
  const int64_t A = llround(ldexp(alpha, n)), B = llround(ldexp(beta, n));
  const int64_t one = (int64_t)1 << n;
  /* 2. the interval [cl, ch) of C: per row x, max / min over y of f 2^n - B y (f read
   * through per-byte tables of f 2^n and (f + 1) 2^n where a clamped end gives a far value;
   * two partial bounds each for instruction-level parallelism), then minus A x */
  const int64_t far = (int64_t)1 << 60; /* beyond any bound (|bounds| < 2^48) */
  int64_t by[256], fl[256], fh[256];
  uint8_t ys[256], row[256];
  for (int i = 0; i < 256; i++) {
    const int64_t v = byte_value((uint8_t)i, is_u8);
    ys[i] = (uint8_t)i;
    by[i] = B * v;
    fl[i] = v > lo ? v * one : -far;
    fh[i] = v < hi ? (v + 1) * one : far;
  }
  int64_t cl = -far, ch = far;
  for (int xi = 0; xi < 256; xi++) {
    run_row(p, NULL, is_sub, exact, (uint8_t)xi, ys, row);
    int64_t l0 = -far, l1 = -far, h0 = far, h1 = far;
    for (int yi = 0; yi < 256; yi += 2) {
      const int64_t a0 = fl[row[yi]] - by[yi], a1 = fl[row[yi + 1]] - by[yi + 1];
      const int64_t b0 = fh[row[yi]] - by[yi], b1 = fh[row[yi + 1]] - by[yi + 1];
      l0 = a0 > l0 ? a0 : l0, l1 = a1 > l1 ? a1 : l1;
      h0 = b0 < h0 ? b0 : h0, h1 = b1 < h1 ? b1 : h1;
    }
    const int64_t ax = A * byte_value((uint8_t)xi, is_u8);
    const int64_t l = l0 > l1 ? l0 : l1, h = h0 < h1 ? h0 : h1;
    if (l > -far / 2 && l - ax > cl) cl = l - ax;
    if (h < far / 2 && h - ax < ch) ch = h - ax;
  }
  if (cl == -far && ch == far) cl = (int64_t)lo * one, ch = cl + one; /* lo == hi */
  else if (cl == -far) cl = ch - one;
  else if (ch == far) ch = cl + one;
  if (cl >= ch) return 0;
  const int64_t C = cl + (ch - cl) / 2;
  /* the int32 evaluation: split A, B (signed low halves) and C (low half in [0, 2^16)) */
  const int64_t a_lo = ((A + 0x8000) & 0xFFFF) - 0x8000, b_lo = ((B + 0x8000) & 0xFFFF) - 0x8000;
  const int64_t c_hi = C >> 16; /* floor: C and the shifts below are arithmetic */
  if (c_hi > (1 << 30) || c_hi < -(1 << 30)) return 0;
  for (int corner = 0; corner < 4; corner++) { /* |A x + B y + C| < 2^46: t within +-2^30 */
    const int64_t x = corner & 1 ? thi : tlo, y = corner & 2 ? thi : tlo;
    const int64_t t = A * x + B * y + C;
    if (t >= ((int64_t)1 << 46) || t <= -((int64_t)1 << 46)) return 0;
  }
  tc_qadd_lin k;
  k.a_hi = (int32_t)((A - a_lo) >> 16), k.a_lo = (int32_t)a_lo;
  k.b_hi = (int32_t)((B - b_lo) >> 16), k.b_lo = (int32_t)b_lo;
  k.c_hi = (int32_t)c_hi, k.c_lo = (int32_t)(C - c_hi * 65536);
  k.shift = n - 16;
  k.act_min = lo, k.act_max = hi;
  /* 3. the proof, on the variant that will run it (one that ignores lin proves nothing new
   * but needs nothing either) and on the portable definition */
  uint8_t got[256];
  for (int xi = 0; xi < 256; xi++) {
    run_row(p, NULL, is_sub, exact, (uint8_t)xi, ys, row);
    run_row(p, &k, is_sub, exact, (uint8_t)xi, ys, got);
    if (memcmp(got, row, sizeof row)) return 0;
    const int32_t x = byte_value((uint8_t)xi, is_u8);
    for (int yi = 0; yi < 256; yi += 17) /* spot checks: the variants match the scalar form */
      if (tc_qadd_lin_eval(&k, x, byte_value((uint8_t)yi, is_u8)) != byte_value(row[yi], is_u8))
        return 0;
  }
  *lin = k;
  return 1;
}
