/* qmath.c: the parts of the requantization arithmetic that use floating point at prepare time
 * (splitting a real multiplier, activation ranges, float quantization). */
#include "kernels/ref/qmath.h"

#include <math.h>
#include <string.h>

void tc_q_quantize_multiplier(double m, int32_t *q, int *shift) {
  if (m == 0.0 || !(m > 0.0) || isinf(m)) {
    *q = 0;
    *shift = 0;
    return;
  }
  int e = 0;
  double frac = frexp(m, &e); /* m = frac * 2^e, frac in [0.5, 1) */
  int64_t qf = (int64_t)llround(frac * (double)(1ll << 31));
  if (qf == (1ll << 31)) {
    qf /= 2;
    e++;
  }
  if (e < -31) {
    e = 0;
    qf = 0;
  }
  if (e > 30) {
    e = 30;
    qf = (1ll << 31) - 1;
  }
  *q = (int32_t)qf;
  *shift = e;
}

void tc_q_quantize_multiplier_lt1(double m, int32_t *q, int *shift) {
  tc_q_quantize_multiplier(m, q, shift);
  if (*shift > 0) { /* not < 1: keep the contract of the legacy helper */
    *q = INT32_MAX;
    *shift = 0;
  }
}

void tc_q_quantize_multiplier_gt1(double m, int32_t *q, int *shift) {
  tc_q_quantize_multiplier(m, q, shift);
  if (*shift < 0) *shift = 0;
}

int32_t tc_q_quantize_f32(float x, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  /* TFLite divides in float, then rounds half away from zero. */
  float qf = x / scale;
  double v = (double)roundf(qf) + zero_point;
  if (!(v >= qmin)) return qmin; /* also catches NaN */
  if (v > qmax) return qmax;
  return (int32_t)v;
}

/* zero_point + round(f / scale) in float as TFLite, computed without overflow: values beyond
 * the integer range only matter through the clamp, so clamping them to [qmin, qmax] first
 * gives the same activation range. */
static int32_t q_of(float f, float scale, int32_t zero_point, int32_t qmin, int32_t qmax) {
  double v = (double)roundf(f / scale) + zero_point;
  if (!(v >= (double)qmin)) return qmin; /* also NaN */
  if (v > (double)qmax) return qmax;
  return (int32_t)v;
}

int tc_q_act_range(int act, float scale, int32_t zero_point, int32_t qmin, int32_t qmax,
                   int32_t *lo, int32_t *hi) {
  /* TFLite: quantize(f) = zero_point + round(f / scale) (float arithmetic). */
  int32_t q0 = q_of(0.0f, scale, zero_point, qmin, qmax);
  int32_t q6 = q_of(6.0f, scale, zero_point, qmin, qmax);
  int32_t qp1 = q_of(1.0f, scale, zero_point, qmin, qmax);
  int32_t qm1 = q_of(-1.0f, scale, zero_point, qmin, qmax);
  switch (act) {
  case 0: *lo = qmin; *hi = qmax; return 1;
  case 1: *lo = q0 > qmin ? q0 : qmin; *hi = qmax; return 1;
  case 3: *lo = q0 > qmin ? q0 : qmin; *hi = q6 < qmax ? q6 : qmax; return 1;
  case 2: *lo = qm1 > qmin ? qm1 : qmin; *hi = qp1 < qmax ? qp1 : qmax; return 1;
  default: return 0;
  }
}

/* ---- the float requantization (tc_q_float_fit) ------------------------------------------- */

#define FQ_MAGIC 12582912.0f /* 1.5 * 2^23: its bits are TC_Q_FLOAT_MAGIC_BITS */
enum { FQ_TRIES = 3 };

static int32_t clamp32(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The two forms of one column before the clamp: the reference's, and the float one as the SIMD
 * kernels compute it (vcvtdq2ps and vfmadd round to nearest even, like (float) and fmaf). */
static int32_t fq_ref(int32_t x, int32_t mult, int32_t rsh, int32_t zp) {
  return (int32_t)((uint32_t)tc_q_mul_double(x, mult, -rsh) + (uint32_t)zp);
}
static uint32_t fq_bits(int32_t x, float fs) {
  const float y = fmaf((float)x, fs, FQ_MAGIC);
  uint32_t b;
  memcpy(&b, &y, 4);
  return b;
}
static int32_t fq_float(int32_t x, float fs, int32_t sub, int32_t rsh, int neg) {
  const uint32_t d = neg && x < 0 ? 1u : 0u; /* the x < 0 term */
  return (int32_t)(fq_bits(x, fs) - (uint32_t)sub - d) >> rsh;
}

/* One candidate scale (see tc_q_float_fit). For an output step n (lo < n <= hi) let T(n) be
 * the least x in [-bound, bound] where a form reaches n after the clamp. Both forms are
 * non-decreasing in x (the float one while y > 0, since positive floats order like their bits,
 * and while bits - sub does not wrap, both checked at the range's ends), so they are equal on
 * the range iff every T(n) is the same. Above the output offset (n > zp) the reference reaches
 * n where t = round(u) >= K = (n - zp) 2^rshift - 2^(rshift - 1) (> 0), i.e. x mult >= K 2^31
 * - 2^30 (both roundings go upward at ties there): T(n) = ceil((K 2^31 - 2^30) / mult); at or
 * below it (steps of the neg form) T(n) is found by stepping the reference from 3 below
 * (n - zp - 1/2) / M (its roundings move a step by at most 2 inputs: 1/2 output unit, and 1/2
 * of u's unit = 2^30 / mult <= 1 input). Each T(n) is then checked on both forms (below n at
 * T(n) - 1, at least n at T(n)), so the check does not rest on this algebra. */
static int fq_try(int32_t mult, int32_t rsh, int32_t zp, int32_t lo, int32_t hi, int32_t bmax,
                  float fs, int32_t sub, int neg) {
  const int32_t bmin = -bmax;
  const float ylo = fmaf((float)bmin, fs, FQ_MAGIC);
  if (!(ylo > 0.0f)) return 0;
  if ((int64_t)fq_bits(bmin, fs) - sub - 1 < INT32_MIN ||
      (int64_t)fq_bits(bmax, fs) - sub > INT32_MAX)
    return 0;
#define REF(x) clamp32(fq_ref((x), mult, rsh, zp), lo, hi)
#define FLT(x) clamp32(fq_float((x), fs, sub, rsh, neg), lo, hi)
  if (mult == 0) return REF(bmin) == FLT(bmin) && REF(bmax) == FLT(bmax);
  const double m_real = ldexp((double)mult, -31 - rsh);
  /* (the top steps first: a scale that fails usually fails where |u| is largest) */
  for (int32_t n = hi; n > lo; n--) {
    int64_t t;
    if (n > zp) {
      const int64_t k =
          (int64_t)(n - zp) * ((int64_t)1 << rsh) - (rsh ? (int64_t)1 << (rsh - 1) : 0);
      const int64_t num = k * ((int64_t)1 << 31) - ((int64_t)1 << 30); /* > 0, < 2^62 */
      t = (num + mult - 1) / mult;
    } else {
      const double e = ((double)(n - zp) - 0.5) / m_real;
      if (e + 3.0 < (double)bmin) t = bmin;
      else {
        t = e - 3.0 > (double)bmin ? (int64_t)floor(e - 3.0) : bmin;
        if (t > bmin && t <= bmax && REF((int32_t)t) >= n) return 0; /* not bracketed */
        while (t <= bmax && REF((int32_t)t) < n) {
          if (++t > e + 3.0) return 0;
        }
      }
    }
    if (t > bmax) { /* past the range: both stay below n */
      if (REF(bmax) >= n || FLT(bmax) >= n) return 0;
      continue;
    }
    if (t <= bmin) { /* before it: both reach n at -bound */
      if (REF(bmin) < n || FLT(bmin) < n) return 0;
      continue;
    }
    const int32_t x = (int32_t)t;
    if (REF(x) < n || FLT(x) < n || REF(x - 1) >= n || FLT(x - 1) >= n) return 0;
  }
  return 1;
#undef REF
#undef FLT
}

int tc_q_float_fit(int32_t mult, int32_t rshift, int32_t out_zp, int32_t lo, int32_t hi,
                   int64_t bound, float *fscale, int32_t *fq_sub) {
  const int neg = lo < out_zp; /* steps below the output offset: the x < 0 term */
  if (mult < 0 || rshift < 0 || rshift > 22 || (neg && rshift < 1) || bound < 0 ||
      bound >= ((int64_t)1 << 30) || lo > hi || out_zp < -255 || out_zp > 255)
    return 0;
  const int32_t sub = (int32_t)((int64_t)TC_Q_FLOAT_MAGIC_BITS -
                                (rshift ? (int64_t)1 << (rshift - 1) : 0) -
                                (int64_t)out_zp * ((int64_t)1 << rshift));
  *fq_sub = sub;
  /* the nearest float first, then 1, -1, 2, -2, ... units away */
  const float f0 = (float)ldexp((double)mult, -31);
  float up = f0, down = f0;
  for (int i = 0; i < FQ_TRIES; i++) {
    float fs = f0;
    if (i % 2) fs = up = nextafterf(up, INFINITY);
    else if (i) fs = down = nextafterf(down, 0.0f);
    if (fq_try(mult, rshift, out_zp, lo, hi, (int32_t)bound, fs, sub, neg)) {
      *fscale = fs;
      return 1;
    }
  }
  return 0;
}
