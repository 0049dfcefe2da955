/* activations_q.c: reference quantized LOGISTIC and TANH (see activations_q.h): TFLite's
 * fixed-point int8 kernels, TFLite Micro's interpolated-table int16 kernels and TFLite's
 * float-built uint8 tables. */
#include "kernels/ref/activations_q.h"

#include <math.h>
#include <stdlib.h>

#include "kernels/ref/qfixed.h"
#include "kernels/ref/qmath.h"

/* ---- int8: fixed point -------------------------------------------------------------------- */

enum { INPUT_IB = 4 }; /* inputs in Q4.27 */

int tc_act_s8_params_init(float input_scale, int32_t input_zero_point, tc_act_s8_params *p) {
  if (!(input_scale > 0.0f) || isinf(input_scale)) return 0;
  /* TFLite splits scale * 2^27 with frexp and rounds the mantissa to 31 bits without the
   * usual carry fix-up; a mantissa that rounds up to 2^31 wraps to INT32_MIN on the targets
   * TFLite runs on, which we reproduce rather than silently "fix". */
  double real = (double)input_scale * (double)(1 << (31 - INPUT_IB));
  int shift = 0;
  double frac = frexp(real, &shift);
  double qd = round(frac * 2147483648.0);
  p->input_multiplier = qd >= 2147483648.0 ? INT32_MIN : (int32_t)qd;
  p->input_left_shift = shift;
  p->input_zero_point = input_zero_point;
  p->input_range_radius = tc_qf_input_radius(INPUT_IB, shift, 31);
  return 1;
}

/* Common shape of both int8 kernels: saturate outside the radius, else scale into Q4.27,
 * apply the Q0.31 function, and round down to the output's 8 bits (out_shift fractional
 * bits), add the output zero point and clamp. */
static void s8_fixed(const int8_t *in, int8_t *out, size_t n, const tc_act_s8_params *p,
                     int is_tanh) {
  const int out_frac_bits = is_tanh ? 7 : 8;
  const int32_t out_zp = is_tanh ? 0 : -128;
  for (size_t i = 0; i < n; i++) {
    int32_t x = (int32_t)in[i] - p->input_zero_point;
    if (x <= -p->input_range_radius) {
      out[i] = -128;
    } else if (x >= p->input_range_radius) {
      out[i] = 127;
    } else {
      int32_t x_q4 = tc_q_mul(x, p->input_multiplier, p->input_left_shift);
      int32_t y_q0 = is_tanh ? tc_qf_tanh(x_q4, INPUT_IB) : tc_qf_logistic(x_q4, INPUT_IB);
      int32_t y = tc_q_rdivpot(y_q0, 31 - out_frac_bits) + out_zp;
      out[i] = (int8_t)tc_q_clamp(y, -128, 127);
    }
  }
}

void tc_s8_logistic__ref(const int8_t *in, int8_t *out, size_t n, const tc_act_s8_params *p) {
  s8_fixed(in, out, n, p, 0);
}

void tc_s8_tanh__ref(const int8_t *in, int8_t *out, size_t n, const tc_act_s8_params *p) {
  s8_fixed(in, out, n, p, 1);
}

/* ---- int16: interpolated sigmoid table ---------------------------------------------------- */

/* sigmoid(i / 24) for i = 0..255 in unsigned Q0.16 (the last entry saturated to 65535): the
 * table TFLite's int16 LOGISTIC and TANH interpolate. These are TFLite's published values;
 * they are not exactly round(65536 * sigmoid(i/24)) (44 entries are one higher), so they are
 * listed rather than computed. */
static const uint16_t sigmoid_table[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794,
    41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443,
    48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169, 53581, 53983, 54374,
    54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433, 57724, 58007, 58280, 58544,
    58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110, 61279,
    61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990,
    63090, 63186, 63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030,
    64090, 64148, 64204, 64257, 64308, 64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652,
    64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019,
    65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234,
    65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360,
    65367, 65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476,
    65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498, 65500, 65501,
    65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513, 65514, 65515, 65516,
    65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529,
    65529, 65530, 65530, 65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532,
    65532, 65532, 65532, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65533, 65534, 65534,
    65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535};

int tc_checked_log2(float x, int *log2) {
  const float x_log2 = logf(x) * (1.0f / logf(2.0f));
  const float rounded = roundf(x_log2);
  *log2 = (int)rounded;
  return fabsf(x_log2 - rounded) < 1e-3f;
}

/* Shared prepare: with 3 input integer bits, a power-of-two input scale whose shift lands in
 * `pot_shifts` (logistic: exactly 2^-12; tanh: 2^-12 or 2^-11) is used directly (multiplier
 * 0); otherwise the smallest left shift that brings scale * 3 * 4096 above 32767/2 gives a
 * 15-bit multiplier (truncated, as TFLite). */
static int s16_params(float input_scale, int max_pot_shift, tc_act_s16_params *p) {
  if (!(input_scale > 0.0f) || isinf(input_scale)) return 0;
  int log2 = 0;
  int pot = tc_checked_log2(input_scale, &log2);
  p->input_left_shift = 12 + log2;
  if (pot && p->input_left_shift >= 0 && p->input_left_shift <= max_pot_shift) {
    p->input_multiplier = 0;
    return 1;
  }
  double m = (double)input_scale * 4096.0 * 3.0;
  p->input_left_shift = 0;
  while (m <= 32767.0 / 2.0 && p->input_left_shift <= 30) {
    p->input_left_shift++;
    m *= 2.0;
  }
  if (m > 32767.0) return 0; /* TFLite only debug-checks this; the kernel would overflow */
  p->input_multiplier = (int32_t)m;
  return 1;
}

int tc_logistic_s16_params_init(float input_scale, tc_act_s16_params *p) {
  return s16_params(input_scale, 0, p);
}

int tc_tanh_s16_params_init(float input_scale, tc_act_s16_params *p) {
  return s16_params(input_scale, 1, p);
}

/* The multiplier form used at run time: a power-of-two scale becomes multiplier 3 << shift
 * with no shift, so every input is expressed in 1/(3 * 4096) units ([-8, 8) widened to the
 * table's [-10.7, 10.7)). */
static void s16_effective(const tc_act_s16_params *p, int32_t *mult, int *shift) {
  *mult = p->input_multiplier;
  *shift = p->input_left_shift;
  if (*mult == 0) {
    *mult = 3 << *shift;
    *shift = 0;
  }
}

/* LOGISTIC: |x| in 1/(3*4096) units; the top bits (>> 9) index the table, the low 9 bits
 * interpolate; negative inputs use sigmoid(-x) = 1 - sigmoid(x); then back to Q0.15 with
 * rounding (the 9 interpolation bits plus 1 for Q0.16 -> Q0.15). */
void tc_s16_logistic__ref(const int16_t *in, int16_t *out, size_t n, const tc_act_s16_params *p) {
  int32_t mult;
  int shift;
  s16_effective(p, &mult, &shift);
  const int32_t round = shift > 0 ? 1 << (shift - 1) : 0;
  for (size_t i = 0; i < n; i++) {
    int32_t x = ((int32_t)in[i] * mult + round) >> shift;
    uint32_t ax = (uint32_t)abs(x);
    uint32_t uh = ax >> 9;
    uint32_t r;
    if (uh >= 255) {
      r = 0x7FFFu << 10;
    } else {
      uint32_t ua = sigmoid_table[uh], ub = sigmoid_table[uh + 1];
      uint32_t ut = ax & 0x1FF;
      r = (ua << 9) + ut * (ub - ua);
    }
    r = x >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    out[i] = (int16_t)(r >> 10);
  }
}

/* TANH = 2 sigmoid(2x) - 1: the same table indexed with 8 fractional bits (which doubles x),
 * then shifted and re-centred around zero. */
void tc_s16_tanh__ref(const int16_t *in, int16_t *out, size_t n, const tc_act_s16_params *p) {
  int32_t mult;
  int shift;
  s16_effective(p, &mult, &shift);
  const int32_t round = shift > 0 ? 1 << (shift - 1) : 0;
  for (size_t i = 0; i < n; i++) {
    int32_t x = ((int32_t)in[i] * mult + round) >> shift;
    uint32_t ax = (uint32_t)abs(x);
    uint32_t uh = ax >> 8;
    int32_t r;
    if (uh >= 255) {
      r = 0xFFFF << 8;
    } else {
      uint32_t ua = sigmoid_table[uh], ub = sigmoid_table[uh + 1];
      uint32_t ut = ax & 0xFF;
      r = (int32_t)((ua << 8) + ut * (ub - ua));
    }
    r = x >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    out[i] = (int16_t)(r >> 8);
  }
}

/* ---- uint8: float-built table ------------------------------------------------------------- */

float tc_logistic_f(float x) { return 1.0f / (1.0f + expf(-x)); }
float tc_tanh_f(float x) { return tanhf(x); }

void tc_u8_act_lut_fill(float input_scale, int32_t input_zero_point, float output_scale,
                        int32_t output_zero_point, float (*fn)(float), uint8_t lut[256]) {
  const float inverse_scale = 1.0f / output_scale;
  for (int32_t v = 0; v <= 255; v++) {
    const float x = input_scale * (float)(v - input_zero_point);
    const float q = roundf(fn(x) * inverse_scale) + (float)output_zero_point;
    /* Clamped in float first so that an out-of-range value never reaches the int conversion. */
    lut[v] = (uint8_t)(q >= 255.0f ? 255 : (q > 0.0f ? (int32_t)q : 0));
  }
}

void tc_u8_lut__ref(const uint8_t *in, uint8_t *out, size_t n, const uint8_t lut[256]) {
  for (size_t i = 0; i < n; i++) out[i] = lut[in[i]];
}
