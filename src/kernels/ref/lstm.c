/* lstm.c: reference float32 sequence LSTM (see lstm.h). The step follows the order of
 * operations of TFLite's float kernel so results agree to the last bits where the arithmetic
 * allows: each matrix-vector product is summed on its own from zero and then added to the
 * gate, which starts at the bias; the cell update multiplies by the forget gate first. */
#include <math.h>
#include <string.h>

#include "kernels/ref/lstm.h"

size_t tc_f32_lstm_scratch_size(const tc_lstm_params *p) {
  return 4 * (size_t)p->n_batch * (size_t)p->n_cell * sizeof(float);
}

static float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

/* Applies the fused activation in place; "none" (0) leaves v untouched. */
static void activate(float *v, int n, int act) {
  for (int i = 0; i < n; i++) {
    float x = v[i];
    switch (act) {
    case 1: x = x > 0.0f ? x : 0.0f; break;
    case 2: x = x < -1.0f ? -1.0f : (x > 1.0f ? 1.0f : x); break;
    case 3: x = x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x); break;
    case 4: x = tanhf(x); break;
    case 5: x = signbit(x) ? 1.0f : 0.0f; break;
    default: return;
    }
    v[i] = x;
  }
}

static void clip(float *v, int n, float limit) {
  for (int i = 0; i < n; i++) v[i] = v[i] > limit ? limit : (v[i] < -limit ? -limit : v[i]);
}

/* Mean/stddev normalisation of each row of n_cell values (variance + 1e-8 under the root). */
static void normalize_rows(float *gate, int n_rows, int n_cell) {
  for (int b = 0; b < n_rows; b++) {
    float *row = gate + (size_t)b * n_cell;
    float sum = 0.0f;
    for (int i = 0; i < n_cell; i++) sum += row[i];
    float mean = sum / (float)n_cell;
    float sum_sq = 0.0f;
    for (int i = 0; i < n_cell; i++) {
      float d = row[i] - mean;
      sum_sq += d * d;
    }
    float inv = 1.0f / sqrtf(sum_sq / (float)n_cell + 1e-8f);
    for (int i = 0; i < n_cell; i++) row[i] = (row[i] - mean) * inv;
  }
}

/* One gate for n_rows batch rows, before its activation:
 *   gate = (ln ? 0 : bias) + w_x . x + w_h . h (+ peep * c), then layer norm if ln. */
static void gate_pre(const tc_lstm_params *p, int n_rows, const float *w_x, const float *w_h,
                     const float *bias, const float *peep, const float *ln, const float *x,
                     const float *h, const float *c, float *gate) {
  const int n_in = p->n_input, n_cell = p->n_cell, n_out = p->n_output;
  for (int b = 0; b < n_rows; b++) {
    const float *xb = x + (size_t)b * n_in, *hb = h + (size_t)b * n_out;
    float *gb = gate + (size_t)b * n_cell;
    for (int r = 0; r < n_cell; r++) {
      float acc = ln ? 0.0f : bias[r];
      float dot = 0.0f;
      for (int k = 0; k < n_in; k++) dot += w_x[(size_t)r * n_in + k] * xb[k];
      acc += dot;
      dot = 0.0f;
      for (int k = 0; k < n_out; k++) dot += w_h[(size_t)r * n_out + k] * hb[k];
      acc += dot;
      if (peep) acc += peep[r] * c[(size_t)b * n_cell + r];
      gb[r] = acc;
    }
  }
  if (ln) {
    normalize_rows(gate, n_rows, n_cell);
    for (int b = 0; b < n_rows; b++)
      for (int r = 0; r < n_cell; r++) {
        float *g = gate + (size_t)b * n_cell + r;
        *g = *g * ln[r];
        *g = *g + bias[r];
      }
  }
}

/* One time step for n_rows consecutive batch rows. x: [n_rows, n_input]; h: [n_rows, n_output]
 * and c: [n_rows, n_cell] updated in place; out: [n_rows, n_output]. */
static void step(const tc_lstm_params *p, const tc_lstm_f32_weights *w, int n_rows,
                 const float *x, float *h, float *c, float *out, float *scratch) {
  const int n_cell = p->n_cell, n_out = p->n_output;
  const int n = n_rows * n_cell;
  const int cifg = w->w_x[TC_LSTM_GATE_INPUT] == NULL;
  float *ig = scratch, *fg = scratch + n, *cg = scratch + 2 * (size_t)n,
        *og = scratch + 3 * (size_t)n;
  const float *ln_f = w->ln[TC_LSTM_GATE_FORGET];

  if (!cifg) {
    gate_pre(p, n_rows, w->w_x[0], w->w_h[0], w->bias[0], w->peep[0], ln_f ? w->ln[0] : NULL,
             x, h, c, ig);
    for (int i = 0; i < n; i++) ig[i] = sigmoid(ig[i]);
  }
  gate_pre(p, n_rows, w->w_x[1], w->w_h[1], w->bias[1], w->peep[1], ln_f, x, h, c, fg);
  for (int i = 0; i < n; i++) fg[i] = sigmoid(fg[i]);
  gate_pre(p, n_rows, w->w_x[2], w->w_h[2], w->bias[2], NULL, ln_f ? w->ln[2] : NULL, x, h, c,
           cg);
  activate(cg, n, p->activation);

  /* Cell update: c = f * c_prev, then c += g * i (CIFG: i = 1 - f). */
  for (int i = 0; i < n; i++) c[i] = fg[i] * c[i];
  for (int i = 0; i < n; i++) {
    float in_gate = cifg ? 1.0f - fg[i] : ig[i];
    c[i] += cg[i] * in_gate;
  }
  if (p->cell_clip > 0.0f) clip(c, n, p->cell_clip);

  /* Output gate sees the updated cell state through its peephole. */
  gate_pre(p, n_rows, w->w_x[3], w->w_h[3], w->bias[3], w->peep[3], ln_f ? w->ln[3] : NULL, x,
           h, c, og);
  for (int i = 0; i < n; i++) og[i] = sigmoid(og[i]);

  /* m = o * act(c), computed in the cell-gate buffer. With activation "none" TFLite leaves
   * that buffer as it is (the cell gate), and so do we. */
  if (p->activation >= 1 && p->activation <= 5) {
    memcpy(cg, c, (size_t)n * sizeof(float));
    activate(cg, n, p->activation);
  }
  for (int i = 0; i < n; i++) cg[i] = og[i] * cg[i];

  /* New output state h (the recurrent input of the next step; h was fully read above). */
  if (w->proj_w) {
    for (int b = 0; b < n_rows; b++) {
      const float *mb = cg + (size_t)b * n_cell;
      float *hb = h + (size_t)b * n_out;
      for (int r = 0; r < n_out; r++) {
        float dot = 0.0f;
        for (int k = 0; k < n_cell; k++) dot += w->proj_w[(size_t)r * n_cell + k] * mb[k];
        hb[r] = (w->proj_b ? w->proj_b[r] : 0.0f) + dot;
      }
    }
    if (p->proj_clip > 0.0f) clip(h, n_rows * n_out, p->proj_clip);
  } else {
    memcpy(h, cg, (size_t)n_rows * n_out * sizeof(float));
  }
  memcpy(out, h, (size_t)n_rows * n_out * sizeof(float));
}

void tc_f32_lstm__ref(const tc_lstm_params *p, const tc_lstm_f32_weights *w, const float *input,
                      float *output_state, float *cell_state, float *output, float *scratch) {
  const size_t n_in = (size_t)p->n_input, n_out = (size_t)p->n_output;
  if (p->time_major) {
    /* All batch rows step together. */
    for (int t = 0; t < p->max_time; t++) {
      size_t row = (size_t)t * p->n_batch;
      step(p, w, p->n_batch, input + row * n_in, output_state, cell_state, output + row * n_out,
           scratch);
    }
  } else {
    /* Batch-major: each sequence runs on its own state rows. */
    for (int b = 0; b < p->n_batch; b++) {
      for (int t = 0; t < p->max_time; t++) {
        size_t row = (size_t)b * p->max_time + t;
        step(p, w, 1, input + row * n_in, output_state + b * n_out,
             cell_state + (size_t)b * p->n_cell, output + row * n_out, scratch);
      }
    }
  }
}
