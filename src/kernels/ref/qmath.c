/* qmath.c: the parts of the requantization arithmetic that use floating point at prepare time
 * (splitting a real multiplier, activation ranges, float quantization). */
#include "kernels/ref/qmath.h"

#include <math.h>

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
