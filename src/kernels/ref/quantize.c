/* quantize.c: reference QUANTIZE / DEQUANTIZE kernels (see quantize.h). Integer data of the four
 * supported dtypes is read into int32 and written back with saturation through two small
 * helpers, so each conversion is one plain loop over int32 values. */
#include <math.h>
#include <string.h>

#include "kernels/ref/qmath.h"
#include "kernels/ref/quantize.h"

int tc_quantize_int_supported(tc_dtype t) {
  return t == TC_DTYPE_I8 || t == TC_DTYPE_U8 || t == TC_DTYPE_I16 || t == TC_DTYPE_I32;
}

static void int_limits(tc_dtype t, int32_t *lo, int32_t *hi) {
  switch (t) {
  case TC_DTYPE_I8: *lo = INT8_MIN; *hi = INT8_MAX; break;
  case TC_DTYPE_U8: *lo = 0; *hi = UINT8_MAX; break;
  case TC_DTYPE_I16: *lo = INT16_MIN; *hi = INT16_MAX; break;
  default: *lo = INT32_MIN; *hi = INT32_MAX; break;
  }
}

static inline int32_t load_int(tc_dtype t, const void *p, size_t i) {
  switch (t) {
  case TC_DTYPE_I8: return ((const int8_t *)p)[i];
  case TC_DTYPE_U8: return ((const uint8_t *)p)[i];
  case TC_DTYPE_I16: return ((const int16_t *)p)[i];
  default: return ((const int32_t *)p)[i];
  }
}

/* v is already inside the range of t. */
static inline void store_int(tc_dtype t, void *p, size_t i, int32_t v) {
  switch (t) {
  case TC_DTYPE_I8: ((int8_t *)p)[i] = (int8_t)v; break;
  case TC_DTYPE_U8: ((uint8_t *)p)[i] = (uint8_t)v; break;
  case TC_DTYPE_I16: ((int16_t *)p)[i] = (int16_t)v; break;
  default: ((int32_t *)p)[i] = v; break;
  }
}

void tc_quantize_f32__ref(const float *in, tc_dtype to, void *out, size_t n, float scale,
                          int32_t zero_point) {
  int32_t lo, hi;
  int_limits(to, &lo, &hi);
  for (size_t i = 0; i < n; i++) {
    /* Float division, rounding half away from zero (roundf), then the zero point; the sum is
     * formed in double so that values beyond int32 saturate instead of overflowing. */
    float r = roundf(in[i] / scale);
    double v = (double)r + (double)zero_point;
    int32_t q = !(v >= (double)lo) ? lo : (v > (double)hi ? hi : (int32_t)v);
    store_int(to, out, i, q);
  }
}

void tc_requantize__ref(tc_dtype from, const void *in, tc_dtype to, void *out, size_t n,
                        int32_t mult, int shift, int32_t in_zp, int32_t out_zp) {
  int32_t lo, hi;
  int_limits(to, &lo, &hi);
  for (size_t i = 0; i < n; i++) {
    int32_t x = (int32_t)((uint32_t)load_int(from, in, i) - (uint32_t)in_zp);
    int32_t y = tc_q_mul(x, mult, shift);
    /* + out_zp in int64 so an int32 output saturates instead of wrapping. */
    int64_t v = (int64_t)y + out_zp;
    store_int(to, out, i, v < lo ? lo : (v > hi ? hi : (int32_t)v));
  }
}

void tc_dequantize__ref(tc_dtype from, const void *in, float *out, size_t n, float scale,
                        int32_t zero_point) {
  for (size_t i = 0; i < n; i++) {
    int32_t d = (int32_t)((uint32_t)load_int(from, in, i) - (uint32_t)zero_point);
    out[i] = scale * (float)d;
  }
}

void tc_dequantize_per_channel__ref(tc_dtype from, const void *in, float *out, size_t n,
                                    size_t inner, size_t n_channels, const float *scales,
                                    const int64_t *zero_points) {
  if (inner == 0 || n_channels == 0) return;
  for (size_t i = 0; i < n; i++) {
    size_t ch = (i / inner) % n_channels;
    int32_t d =
        (int32_t)((uint32_t)load_int(from, in, i) - (uint32_t)(int32_t)zero_points[ch]);
    out[i] = scales[ch] * (float)d;
  }
}

float tc_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h >> 15) << 31;
  uint32_t exp = (h >> 10) & 0x1Fu, mant = h & 0x3FFu, bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13); /* infinity or NaN (payload kept) */
  } else if (exp != 0) {
    bits = sign | ((exp + 112u) << 23) | (mant << 13); /* rebias 15 -> 127 */
  } else if (mant == 0) {
    bits = sign; /* signed zero */
  } else {
    /* Subnormal half: mant * 2^-24, exactly representable as a normal float. */
    float f = (float)mant * 0x1p-24f;
    memcpy(&bits, &f, sizeof bits);
    bits |= sign;
  }
  float out;
  memcpy(&out, &bits, sizeof out);
  return out;
}

void tc_dequantize_f16__ref(const uint16_t *in, float *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = tc_f16_to_f32(in[i]);
}
