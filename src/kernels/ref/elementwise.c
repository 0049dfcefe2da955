/* elementwise.c: reference unary math kernels and the CAST conversion (see elementwise.h).
 * Plain loops in float arithmetic, in the same evaluation order as TFLite's float kernels so
 * that results match to the last bit where the C library functions agree. */
#include <math.h>
#include <string.h>

#include "kernels/ref/elementwise.h"
#include "kernels/ref/qmath.h"

void tc_f32_exp__ref(const float *in, float *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = expf(in[i]);
}

void tc_f32_sqrt__ref(const float *in, float *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = sqrtf(in[i]);
}

void tc_f32_rsqrt__ref(const float *in, float *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = 1.0f / sqrtf(in[i]);
}

void tc_f32_abs__ref(const float *in, float *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = fabsf(in[i]);
}

void tc_f32_neg__ref(const float *in, float *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = -in[i];
}

void tc_f32_square__ref(const float *in, float *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = in[i] * in[i];
}

void tc_f32_floor__ref(const float *in, float *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = floorf(in[i]);
}

void tc_f32_hard_swish__ref(const float *in, float *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    float x = in[i], r = x + 3.0f;
    r = r < 0.0f ? 0.0f : (r > 6.0f ? 6.0f : r);
    out[i] = x * r / 6.0f;
  }
}

void tc_f32_gelu__ref(const float *in, float *out, size_t n, int approximate) {
  const float sqrt_2_over_pi = 0.7978845608028654f, inv_sqrt2 = 0.7071067811865476f;
  if (approximate) {
    for (size_t i = 0; i < n; i++) {
      float x = in[i];
      out[i] = 0.5f * x * (1.0f + tanhf(sqrt_2_over_pi * (x + 0.044715f * x * x * x)));
    }
  } else {
    for (size_t i = 0; i < n; i++) {
      float x = in[i];
      out[i] = 0.5f * x * (1.0f + erff(x * inv_sqrt2));
    }
  }
}

void tc_i32_abs__ref(const int32_t *in, int32_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint32_t u = (uint32_t)in[i];
    out[i] = (int32_t)(in[i] < 0 ? 0u - u : u);
  }
}

void tc_i32_neg__ref(const int32_t *in, int32_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = (int32_t)(0u - (uint32_t)in[i]);
}

/* ---- CAST -------------------------------------------------------------------------------- */

int tc_cast_supported(tc_dtype t) {
  switch (t) {
  case TC_DTYPE_F32: case TC_DTYPE_F64: case TC_DTYPE_I8: case TC_DTYPE_U8: case TC_DTYPE_I16:
  case TC_DTYPE_U16: case TC_DTYPE_I32: case TC_DTYPE_U32: case TC_DTYPE_I64: case TC_DTYPE_U64:
  case TC_DTYPE_BOOL:
    return 1;
  default:
    return 0;
  }
}

static int is_float(tc_dtype t) { return t == TC_DTYPE_F32 || t == TC_DTYPE_F64; }

/* Integer (or bool) element i as 64 bits: sign-extended for signed types, zero-extended for
 * unsigned ones. */
static uint64_t load_bits(tc_dtype t, const void *p, size_t i) {
  switch (t) {
  case TC_DTYPE_I8: return (uint64_t)(int64_t)((const int8_t *)p)[i];
  case TC_DTYPE_U8: return ((const uint8_t *)p)[i];
  case TC_DTYPE_I16: return (uint64_t)(int64_t)((const int16_t *)p)[i];
  case TC_DTYPE_U16: return ((const uint16_t *)p)[i];
  case TC_DTYPE_I32: return (uint64_t)(int64_t)((const int32_t *)p)[i];
  case TC_DTYPE_U32: return ((const uint32_t *)p)[i];
  case TC_DTYPE_I64: return (uint64_t)((const int64_t *)p)[i];
  case TC_DTYPE_U64: return ((const uint64_t *)p)[i];
  case TC_DTYPE_BOOL: return ((const uint8_t *)p)[i] != 0;
  default: return 0;
  }
}

/* Stores the low bits of v into integer (or bool) element i. */
static void store_bits(tc_dtype t, void *p, size_t i, uint64_t v) {
  switch (t) {
  case TC_DTYPE_I8: ((int8_t *)p)[i] = (int8_t)(uint8_t)v; break;
  case TC_DTYPE_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
  case TC_DTYPE_I16: ((int16_t *)p)[i] = (int16_t)(uint16_t)v; break;
  case TC_DTYPE_U16: ((uint16_t *)p)[i] = (uint16_t)v; break;
  case TC_DTYPE_I32: ((int32_t *)p)[i] = (int32_t)(uint32_t)v; break;
  case TC_DTYPE_U32: ((uint32_t *)p)[i] = (uint32_t)v; break;
  case TC_DTYPE_I64: ((int64_t *)p)[i] = (int64_t)v; break;
  case TC_DTYPE_U64: ((uint64_t *)p)[i] = v; break;
  case TC_DTYPE_BOOL: ((uint8_t *)p)[i] = v != 0; break;
  default: break;
  }
}

static void store_float(tc_dtype t, void *p, size_t i, double v) {
  if (t == TC_DTYPE_F32) ((float *)p)[i] = (float)v;
  else ((double *)p)[i] = v;
}

/* Float to integer bits: truncation toward zero, saturating outside the int64 range (uint64
 * also accepts [2^63, 2^64)); NaN gives 0. */
static uint64_t float_to_bits(double v, tc_dtype to) {
  const double two63 = 9223372036854775808.0;
  if (v != v) return 0;
  if (to == TC_DTYPE_U64 && v >= two63)
    return v >= 2.0 * two63 ? UINT64_MAX : (uint64_t)v;
  if (v >= two63) return (uint64_t)INT64_MAX;
  if (v < -two63) return (uint64_t)INT64_MIN;
  return (uint64_t)(int64_t)v;
}

int tc_cast__ref(tc_dtype from, const void *in, tc_dtype to, void *out, size_t n) {
  if (!tc_cast_supported(from) || !tc_cast_supported(to)) return 0;
  if (from == to && from != TC_DTYPE_BOOL) {
    memmove(out, in, n * tc_dtype_size(from));
    return 1;
  }
  if (is_float(from)) {
    for (size_t i = 0; i < n; i++) {
      double v = from == TC_DTYPE_F32 ? (double)((const float *)in)[i] : ((const double *)in)[i];
      if (is_float(to)) store_float(to, out, i, v);
      else if (to == TC_DTYPE_BOOL) ((uint8_t *)out)[i] = v != 0.0;
      else store_bits(to, out, i, float_to_bits(v, to));
    }
    return 1;
  }
  for (size_t i = 0; i < n; i++) {
    uint64_t bits = load_bits(from, in, i);
    if (to == TC_DTYPE_F32)
      ((float *)out)[i] = from == TC_DTYPE_U64 ? (float)bits : (float)(int64_t)bits;
    else if (to == TC_DTYPE_F64)
      ((double *)out)[i] = from == TC_DTYPE_U64 ? (double)bits : (double)(int64_t)bits;
    else store_bits(to, out, i, bits);
  }
  return 1;
}

/* ---- quantized LEAKY_RELU ----------------------------------------------------------------- */

/* TFLite's QuantizeMultiplier extended to negative multipliers the way its frexp-based code
 * behaves: the fraction keeps the sign, so q lies in [-2^31, -2^30] for m < 0. */
static void quantize_multiplier_signed(double m, int32_t *q, int *shift) {
  if (!(m < 0.0) || isinf(m)) {
    tc_q_quantize_multiplier(m, q, shift);
    return;
  }
  int e = 0;
  double frac = frexp(m, &e); /* frac in (-1, -0.5] */
  int64_t qf = (int64_t)llround(frac * (double)(1ll << 31));
  if (e < -31) {
    e = 0;
    qf = 0;
  }
  if (e > 30) {
    e = 30;
    qf = -((1ll << 31) - 1);
  }
  *q = (int32_t)qf;
  *shift = e;
}

int tc_qleaky_params_init(tc_qleaky_params *p, float in_scale, int32_t in_zp, float out_scale,
                          int32_t out_zp, float alpha) {
  if (!(in_scale > 0.0f) || !(out_scale > 0.0f) || isinf(in_scale) || isinf(out_scale) ||
      !isfinite(alpha))
    return 0;
  p->in_zp = in_zp;
  p->out_zp = out_zp;
  /* float arithmetic, as TFLite Micro's prepare; volatile keeps each step in float. */
  volatile float m_alpha = in_scale * alpha;
  volatile float m_alpha_q = m_alpha / out_scale;
  volatile float m_id = in_scale / out_scale;
  quantize_multiplier_signed((double)m_alpha_q, &p->mult_alpha, &p->shift_alpha);
  tc_q_quantize_multiplier((double)m_id, &p->mult_identity, &p->shift_identity);
  return 1;
}

static inline int32_t qleaky(const tc_qleaky_params *p, int32_t q, int32_t lo, int32_t hi) {
  int32_t x = (int32_t)((int64_t)q - p->in_zp); /* zero points are range-checked at prepare */
  int32_t y = x >= 0 ? tc_q_mul(x, p->mult_identity, p->shift_identity)
                     : tc_q_mul(x, p->mult_alpha, p->shift_alpha);
  return tc_q_add_clamp(y, p->out_zp, lo, hi);
}

void tc_s8_leaky_relu__ref(const tc_qleaky_params *p, const int8_t *in, int8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = (int8_t)qleaky(p, in[i], INT8_MIN, INT8_MAX);
}

void tc_u8_leaky_relu__ref(const tc_qleaky_params *p, const uint8_t *in, uint8_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = (uint8_t)qleaky(p, in[i], 0, UINT8_MAX);
}

void tc_s16_leaky_relu__ref(const tc_qleaky_params *p, const int16_t *in, int16_t *out,
                            size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = (int16_t)qleaky(p, in[i], INT16_MIN, INT16_MAX);
}
