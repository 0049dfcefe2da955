/* softmax_q.c: reference quantized softmax kernels (see softmax_q.h). The fixed-point path
 * follows TFLite's reference integer softmax step by step, the int16 path TFLite Micro's table
 * version, and the uint8 path TFLite's default float-table kernel. */
#include "kernels/ref/softmax_q.h"

#include <math.h>

#include "kernels/ref/qfixed.h"
#include "kernels/ref/qmath.h"

enum {
  SCALED_DIFF_IB = 5, /* input differences in Q5.26 */
  ACCUM_IB = 12       /* sum of exponentials in Q12.19 */
};

/* ---- int8 input: fixed point ---------------------------------------------------------------- */

int tc_softmax_q_params_init(double beta, double input_scale, tc_softmax_q_params *p) {
  /* PreprocessSoftmaxScaling: the multiplier that maps an input difference to Q5.26, capped
   * at 2^31 - 1 (a larger one would only push every non-maximum input further towards 0). */
  double real = beta * input_scale * (double)(1 << (31 - SCALED_DIFF_IB));
  const double cap = (double)((1ll << 31) - 1);
  if (!(real > 1.0)) return 0; /* TFLite requires a multiplier > 1 (also rejects NaN) */
  if (real > cap) real = cap;
  tc_qf_quantize_multiplier(real, &p->input_multiplier, &p->input_left_shift);
  if (p->input_left_shift < 0) return 0;
  p->diff_min = -tc_qf_input_radius(SCALED_DIFF_IB, p->input_left_shift, 31);
  return 1;
}

/* exp(beta * input_scale * diff) in Q0.31 for diff_min <= diff <= 0. The scaling is
 * MultiplyByQuantizedMultiplierGreaterThanOne: a left shift, then the doubling high multiply;
 * diff_min guarantees the shift does not overflow. */
static int32_t scaled_exp(int32_t diff, const tc_softmax_q_params *p) {
  int32_t rescaled =
      tc_q_srdhm((int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
  return tc_qf_exp_on_negative_values(rescaled, SCALED_DIFF_IB);
}

/* Per-row constants of the fixed-point softmax. */
typedef struct row_consts {
  int32_t max;        /* row maximum */
  int32_t reciprocal; /* Q0.31 part of 1 / sum(exp) */
  int exponent;       /* right shift that lands the product on the output's bits */
} row_consts;

/* 1. max of the row; 2. sum of exp(diff), each rescaled from Q0.31 to Q12.19, skipping diffs
 * below diff_min (they contribute nothing); 3. reciprocal of the sum as a Q0.31 value and a
 * power of two (num_bits_over_unit), folded with the output width into one right shift. */
static row_consts row_setup(const int8_t *x, size_t depth, const tc_softmax_q_params *p,
                            int out_bits) {
  row_consts rc;
  rc.max = -128;
  for (size_t c = 0; c < depth; c++) rc.max = x[c] > rc.max ? x[c] : rc.max;
  int32_t sum = 0;
  for (size_t c = 0; c < depth; c++) {
    int32_t diff = (int32_t)x[c] - rc.max;
    if (diff >= p->diff_min)
      sum = tc_qf_add(sum, tc_qf_rescale(scaled_exp(diff, p), 0, ACCUM_IB));
  }
  int num_bits_over_unit = 0;
  rc.reciprocal = tc_qf_reciprocal(sum, ACCUM_IB, &num_bits_over_unit);
  rc.exponent = num_bits_over_unit + 31 - out_bits;
  return rc;
}

/* 4. output = exp(diff) * reciprocal, shifted down to the output's bits, plus out_min (the
 * output zero point), clamped. TFLite checks the shift is at most 31; a longer shift (rows of
 * more than ~500 equal maxima for int8 output) rounds every value to 0, which is what we give. */
static int32_t row_value(int8_t xv, const row_consts *rc, const tc_softmax_q_params *p,
                         int32_t out_min, int32_t out_max) {
  int32_t diff = (int32_t)xv - rc->max;
  if (diff < p->diff_min) return out_min;
  int32_t prod = tc_qf_mul(rc->reciprocal, scaled_exp(diff, p));
  int32_t unsat = rc->exponent > 31 ? 0 : tc_q_rdivpot(prod, rc->exponent);
  return tc_q_clamp(unsat + out_min, out_min, out_max);
}

void tc_s8_softmax__ref(const int8_t *in, int8_t *out, size_t outer, size_t depth,
                        const tc_softmax_q_params *p) {
  if (depth == 0) return;
  for (size_t r = 0; r < outer; r++) {
    const int8_t *x = in + r * depth;
    row_consts rc = row_setup(x, depth, p, 8);
    for (size_t c = 0; c < depth; c++) out[r * depth + c] = (int8_t)row_value(x[c], &rc, p, -128, 127);
  }
}

void tc_s8_s16_softmax__ref(const int8_t *in, int16_t *out, size_t outer, size_t depth,
                            const tc_softmax_q_params *p) {
  if (depth == 0) return;
  for (size_t r = 0; r < outer; r++) {
    const int8_t *x = in + r * depth;
    row_consts rc = row_setup(x, depth, p, 16);
    for (size_t c = 0; c < depth; c++)
      out[r * depth + c] = (int16_t)row_value(x[c], &rc, p, -32768, 32767);
  }
}

/* ---- int16: tables ---------------------------------------------------------------------- */

int16_t tc_s16_lut_lookup(int16_t value, const int16_t *lut) {
  /* 512 segments indexed by the top 9 bits; the low 7 bits interpolate linearly. */
  int index = 256 + (value >> 7);
  int offset = value & 0x7f;
  int base = lut[index];
  int slope = lut[index + 1] - lut[index];
  int delta = (slope * offset + 64) >> 7;
  return (int16_t)(base + delta);
}

void tc_s16_lut_fill(float (*fn)(float), float in_min, float in_max, float out_min,
                     float out_max, int16_t *lut) {
  const int n_steps = 512;
  const float step = (in_max - in_min) / (float)n_steps;
  const float half_step = step / 2.0f;
  const float out_scaling_inv = 65536.0f / (out_max - out_min);
  for (int i = 0; i < n_steps; i++) {
    float val = fn(in_min + (float)i * step);
    float val_mid = fn(in_min + (float)i * step + half_step);
    float val_next = fn(in_min + (float)(i + 1) * step);
    float sample = roundf(val * out_scaling_inv);
    /* Error at the segment midpoint between linear interpolation and the function; half of it
     * is taken off the sample so the interpolation error is balanced. */
    float mid_interp = roundf((val_next * out_scaling_inv + roundf(val * out_scaling_inv)) / 2.0f);
    float mid_val = roundf(val_mid * out_scaling_inv);
    float bias = roundf((mid_interp - mid_val) / 2.0f);
    float v = sample - bias;
    v = v < -32768.0f ? -32768.0f : (v > 32767.0f ? 32767.0f : v);
    lut[i] = (int16_t)v;
  }
  float last = roundf(fn(in_max) * out_scaling_inv);
  last = last < -32768.0f ? -32768.0f : (last > 32767.0f ? 32767.0f : last);
  lut[n_steps] = (int16_t)last;
}

static float exp_f(float x) { return expf(x); }
static float one_over_one_plus_x_f(float x) { return 1.0f / (1.0f + x); }

int tc_softmax_s16_params_init(double beta, double input_scale, tc_softmax_s16_params *p) {
  /* Scale differences so that [-65535, 0] covers [-10, 0], the exp table's domain. */
  double m = input_scale * beta / (10.0 / 65535.0);
  if (!(m > 0.0) || isinf(m)) return 0;
  tc_qf_quantize_multiplier(m, &p->input_multiplier, &p->input_shift);
  if (p->input_multiplier == 0 || p->input_shift > 31) return 0;
  tc_s16_lut_fill(exp_f, -10.0f, 0.0f, -1.0f, 1.0f, p->exp_lut);
  tc_s16_lut_fill(one_over_one_plus_x_f, 0.0f, 1.0f, -1.0f, 1.0f, p->one_over_one_plus_x_lut);
  return 1;
}

/* Per row: exp of each scaled difference from the exp table (Q0.15, cached in the output),
 * their sum (Q16.15), its reciprocal from the 1/(1+x) table after normalizing the sum into
 * [1, 2), then each exp times the reciprocal with one rounding shift, clamped to [0, 32767]. */
void tc_s16_softmax__ref(const int16_t *in, int16_t *out, size_t outer, size_t depth,
                         const tc_softmax_s16_params *p) {
  if (depth == 0) return;
  for (size_t r = 0; r < outer; r++) {
    const int16_t *x = in + r * depth;
    int16_t *y = out + r * depth;
    int32_t max = -32768;
    for (size_t c = 0; c < depth; c++) max = x[c] > max ? x[c] : max;
    int32_t sum = 0;
    for (size_t c = 0; c < depth; c++) {
      int32_t diff = (int32_t)x[c] - max;
      int32_t scaled = tc_q_mul(diff, p->input_multiplier, p->input_shift);
      int32_t sym = tc_q_clamp(scaled + 32767, -32768, 32767);
      y[c] = tc_s16_lut_lookup((int16_t)sym, p->exp_lut);
      sum = tc_qf_add(sum, y[c]);
    }
    int headroom_plus_one = tc_qf_clz32((uint32_t)sum);
    int32_t shifted_sum =
        (int32_t)((((int64_t)sum << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
    int32_t sym_sum = tc_q_clamp(shifted_sum - ((1 << 15) + (1 << 16)), -32768, 32767);
    int32_t reciprocal = tc_s16_lut_lookup((int16_t)sym_sum, p->one_over_one_plus_x_lut);
    int right_shift = 31 - headroom_plus_one;
    int64_t round = (int64_t)1 << (right_shift - 1);
    for (size_t c = 0; c < depth; c++) {
      int32_t v = (int32_t)(((int64_t)y[c] * reciprocal + round) >> right_shift);
      y[c] = (int16_t)tc_q_clamp(v, 0, 32767);
    }
  }
}

/* ---- uint8: float table ----------------------------------------------------------------- */

void tc_softmax_table_params_init(float input_scale, float beta, float output_scale,
                                  tc_softmax_table_params *p) {
  const float scale = -input_scale * beta;
  for (int v = 0; v <= 255; v++) p->table[255 - v] = expf(scale * (float)v);
  p->output_scale = output_scale;
}

/* Per row: offset the table so that the row maximum maps to exp(0), sum the exps in float in
 * order, then each probability / output_scale rounded by adding 0.5 and truncating. */
void tc_u8_softmax__ref(const uint8_t *in, uint8_t *out, size_t outer, size_t depth,
                        const tc_softmax_table_params *p) {
  if (depth == 0) return;
  for (size_t r = 0; r < outer; r++) {
    const uint8_t *x = in + r * depth;
    uint8_t *y = out + r * depth;
    int max = 0;
    for (size_t c = 0; c < depth; c++) max = x[c] > max ? x[c] : max;
    const float *t = p->table + (255 - max);
    float sum = 0.0f;
    for (size_t c = 0; c < depth; c++) sum += t[x[c]];
    const float inv = 1.0f / (sum * p->output_scale);
    for (size_t c = 0; c < depth; c++) {
      float prob = t[x[c]] * inv;
      int32_t q = (int32_t)(prob + 0.5f);
      y[c] = (uint8_t)tc_q_clamp(q, 0, 255);
    }
  }
}
