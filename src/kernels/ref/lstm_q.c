/* lstm_q.c: reference integer LSTM (see lstm_q.h). The step mirrors TFLM's order of operations:
 * forget, input and cell gates, cell update, output gate, hidden update; every intermediate is
 * saturated to its integer type where TFLM saturates it, so results are bit-identical. */
#include <math.h>
#include <string.h>

#include "kernels/ref/lstm_q.h"
#include "kernels/ref/qmath.h"

/* sigmoid(i / 24) in unsigned Q0.16 for i = 0..255 (65535 at the top), the table TFLite's int16
 * sigmoid and tanh interpolate in (tanh(x) = 2 sigmoid(2x) - 1). The values are data, not a
 * formula: several entries differ by one from round(65536 * sigmoid(i / 24)). */
static const uint16_t g_sigmoid_q16[256] = {
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149,
    40794, 41432, 42064, 42688, 43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369,
    47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409, 51865, 52311, 52745, 53169,
    53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370,
    60565, 60753, 60935, 61110, 61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302,
    62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186, 63279, 63368, 63454, 63536,
    63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786,
    64816, 64845, 64873, 64900, 64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079,
    65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208, 65221, 65234, 65246, 65258,
    65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433,
    65438, 65442, 65445, 65449, 65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474,
    65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491, 65493, 65495, 65497, 65498,
    65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522,
    65523, 65523, 65524, 65524, 65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528,
    65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530, 65530, 65530, 65531, 65531,
    65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534,
    65534, 65534, 65534, 65535,
};

/* Arithmetic shift right (floor division by 2^n) without relying on implementation-defined
 * behaviour for negative operands. */
static int32_t asr(int32_t x, int n) { return x >= 0 ? x >> n : ~(~x >> n); }

static int16_t sat16(int32_t v) { return (int16_t)tc_q_clamp(v, INT16_MIN, INT16_MAX); }

void tc_s16_lstm_sigmoid__ref(const int16_t *in, int16_t *out, size_t n) {
  for (size_t i = 0; i < n; i++) {
    /* Q3.12 input times 3, then 9 fraction bits: index (3x >> 9) is x in steps of 1/24. */
    int32_t v = (int32_t)in[i] * 3;
    uint32_t a = (uint32_t)(v >= 0 ? v : -v);
    uint32_t hi = a >> 9, r;
    if (hi >= 255) {
      r = 0x7FFFu << 10;
    } else {
      uint32_t lo = g_sigmoid_q16[hi], up = g_sigmoid_q16[hi + 1];
      r = (lo << 9) + (a & 0x1FFu) * (up - lo); /* interpolate on the 9 fraction bits */
    }
    /* sigmoid(-x) = 1 - sigmoid(x), with TFLite's rounding constants. */
    r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
    out[i] = (int16_t)(r >> 10);
  }
}

void tc_s16_lstm_tanh__ref(int scale_power, const int16_t *in, int16_t *out, size_t n) {
  /* Bring the input to the table's step: TFLM passes (multiplier, left shift) = (0, k) for
   * k = 12 + scale_power >= 0, which means "multiply by 3 << k"; for k < 0 it passes (3, -k),
   * a rounding right shift of 3x by -k. */
  int k = 15 + scale_power - 3;
  int32_t mult = 3;
  int shift = 0;
  if (k >= 0)
    mult = (int32_t)3 << k;
  else
    shift = -k;
  int32_t round = shift > 0 ? (int32_t)1 << (shift - 1) : 0;
  for (size_t i = 0; i < n; i++) {
    int32_t v = asr((int32_t)in[i] * mult + round, shift);
    uint32_t a = (uint32_t)(v >= 0 ? v : -v);
    uint32_t hi = a >> 8;
    int32_t r;
    if (hi >= 255) {
      r = 0xFFFF << 8;
    } else {
      uint32_t lo = g_sigmoid_q16[hi], up = g_sigmoid_q16[hi + 1];
      r = (int32_t)((lo << 8) + (a & 0xFFu) * (up - lo));
    }
    /* tanh(x) = 2 sigmoid(2x) - 1 and tanh(-x) = -tanh(x). */
    r = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
    out[i] = (int16_t)asr(r, 8);
  }
}

static int split(double m, tc_lstm_q_mul *out) {
  if (!(m > 0.0) || isinf(m)) return 0;
  tc_q_quantize_multiplier(m, &out->mult, &out->shift);
  return 1;
}

int tc_s8_lstm_params_init(tc_lstm_q_params *p, const tc_lstm_q_scales *s) {
  if (!(s->input > 0.0f) || !(s->hidden > 0.0f) || !(s->cell > 0.0f) || isinf(s->input) ||
      isinf(s->hidden) || isinf(s->cell))
    return 0;
  /* The gate pre-activations are int16 Q3.12 (scale 2^-12); TFLM builds each FC's multiplier
   * as a float product of the two scales, widened to double, over the output scale. */
  const float gate_scale = 1.0f / 4096.0f;
  for (int g = 0; g < 4; g++) {
    float px = s->input * s->w_x[g], ph = s->hidden * s->w_h[g];
    if (!split((double)px / (double)gate_scale, &p->x[g])) return 0;
    if (!split((double)ph / (double)gate_scale, &p->h[g])) return 0;
  }
  /* Gate outputs are Q0.15 (scale 2^-15). */
  const double q15 = 1.0 / 32768.0;
  if (!split(q15 * (double)s->cell / (double)s->cell, &p->forget_cell)) return 0;
  if (!split(q15 * q15 / (double)s->cell, &p->input_cell)) return 0;
  if (!split(q15 * q15 / (double)s->hidden, &p->hidden)) return 0;
  p->input_zp = s->input_zp;
  p->hidden_zp = s->hidden_zp;
  /* TFLM's CheckedLog2 rounds log2(scale); the "is it a power of two" answer is ignored. */
  p->cell_scale_power = (int)lround(log((double)s->cell) / log(2.0));
  /* The cell tanh scales its int16 input by 3 << k or shifts it right by -k (k = 12 + power):
   * past k = 14 the product leaves int32, past -31 the shift leaves the type. */
  if (12 + p->cell_scale_power > 14 || 12 + p->cell_scale_power < -31) return 0;
  p->cell_clip = 0;
  if (s->cell_clip > 0.0f) {
    double q = (double)s->cell_clip / (double)s->cell;
    q = q < -32768.0 ? -32768.0 : (q > 32767.0 ? 32767.0 : q);
    p->cell_clip = (int16_t)q; /* truncation, as the static_cast */
  }
  return 1;
}

size_t tc_s8_lstm_scratch_size(const tc_lstm_q_params *p) {
  return 4 * (size_t)p->n_batch * (size_t)p->n_cell * sizeof(int16_t);
}

/* One fully-connected product for n_rows rows into int16: out = clamp16(rq(W . (v - zp) + b)). */
static void fc16(int n_rows, int n_out, int n_in, const int8_t *w, const int32_t *bias,
                 const int8_t *v, int32_t zp, tc_lstm_q_mul m, int16_t *out) {
  for (int b = 0; b < n_rows; b++) {
    const int8_t *vb = v + (size_t)b * n_in;
    for (int r = 0; r < n_out; r++) {
      const int8_t *wr = w + (size_t)r * n_in;
      /* int64, wrapped to int32 at the end: TFLM's int32 sum with wrap-around, without the
       * undefined overflow (the zero point is in int8's range, so each product fits) */
      int64_t acc = 0;
      for (int k = 0; k < n_in; k++) acc += (int32_t)wr[k] * ((int32_t)vb[k] - zp);
      if (bias) acc += bias[r];
      const int32_t acc32 = (int32_t)(uint32_t)(uint64_t)acc;
      out[(size_t)b * n_out + r] = sat16(tc_q_mul(acc32, m.mult, m.shift));
    }
  }
}

/* gate = activation(sat16(FC_x(x) + FC_h(h))); tmp holds the recurrent product. */
static void gate(const tc_lstm_q_params *p, const tc_lstm_s8_weights *w, int g, int n_rows,
                 const int8_t *x, const int8_t *h, int16_t *out, int16_t *tmp) {
  const int n_cell = p->n_cell;
  const size_t n = (size_t)n_rows * n_cell;
  fc16(n_rows, n_cell, p->n_input, w->w_x[g], w->bias[g], x, p->input_zp, p->x[g], out);
  fc16(n_rows, n_cell, n_cell, w->w_h[g], NULL, h, p->hidden_zp, p->h[g], tmp);
  for (size_t i = 0; i < n; i++) out[i] = sat16((int32_t)out[i] + tmp[i]);
  if (g == TC_LSTM_GATE_CELL)
    tc_s16_lstm_tanh__ref(-12, out, out, n);
  else
    tc_s16_lstm_sigmoid__ref(out, out, n);
}

/* One step for n_rows consecutive batch rows. */
static void step(const tc_lstm_q_params *p, const tc_lstm_s8_weights *w, int n_rows,
                 const int8_t *x, int8_t *h, int16_t *c, int8_t *out, int16_t *scratch) {
  const size_t n = (size_t)n_rows * p->n_cell;
  int16_t *fg = scratch, *ig = scratch + n, *cg = scratch + 2 * n, *tmp = scratch + 3 * n;
  gate(p, w, TC_LSTM_GATE_FORGET, n_rows, x, h, fg, tmp);
  gate(p, w, TC_LSTM_GATE_INPUT, n_rows, x, h, ig, tmp);
  gate(p, w, TC_LSTM_GATE_CELL, n_rows, x, h, cg, tmp);

  /* Cell update: c = sat16(rq(f * c) + rq(i * g)), each product saturated first. */
  for (size_t i = 0; i < n; i++) {
    int16_t fc = sat16(tc_q_mul((int32_t)fg[i] * c[i], p->forget_cell.mult, p->forget_cell.shift));
    int16_t icg = sat16(tc_q_mul((int32_t)ig[i] * cg[i], p->input_cell.mult, p->input_cell.shift));
    int16_t v = sat16((int32_t)fc + icg);
    if (p->cell_clip > 0) v = (int16_t)tc_q_clamp(v, -p->cell_clip, p->cell_clip);
    c[i] = v;
  }

  /* Output gate (reads the old h), then h = clamp8(rq(tanh(c) * o) + zp). */
  int16_t *og = ig;
  gate(p, w, TC_LSTM_GATE_OUTPUT, n_rows, x, h, og, tmp);
  int16_t *tc = fg;
  tc_s16_lstm_tanh__ref(p->cell_scale_power, c, tc, n);
  for (size_t i = 0; i < n; i++) {
    int32_t v = tc_q_mul((int32_t)tc[i] * og[i], p->hidden.mult, p->hidden.shift) + p->hidden_zp;
    h[i] = (int8_t)tc_q_clamp(v, INT8_MIN, INT8_MAX);
  }
  memcpy(out, h, n);
}

void tc_s8_lstm__ref(const tc_lstm_q_params *p, const tc_lstm_s8_weights *w,
                     const int8_t *input, int8_t *hidden, int16_t *cell, int8_t *output,
                     int16_t *scratch) {
  const size_t n_in = (size_t)p->n_input, n_cell = (size_t)p->n_cell;
  if (p->time_major) {
    for (int t = 0; t < p->max_time; t++) {
      size_t row = (size_t)t * p->n_batch;
      step(p, w, p->n_batch, input + row * n_in, hidden, cell, output + row * n_cell, scratch);
    }
  } else {
    for (int b = 0; b < p->n_batch; b++) {
      for (int t = 0; t < p->max_time; t++) {
        size_t row = (size_t)b * p->max_time + t;
        step(p, w, 1, input + row * n_in, hidden + b * n_cell, cell + b * n_cell,
             output + row * n_cell, scratch);
      }
    }
  }
}
