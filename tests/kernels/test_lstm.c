/* test_lstm.c: the float32 sequence LSTM reference kernel (kernels/ref/lstm.c) against a
 * hand-computed 1-cell case and against a naive double-precision LSTM written here from the
 * textbook formulas (one batch row and one time step at a time, all four gates per cell unit),
 * for plain, CIFG + peephole + projection (with clipping), layer-norm and relu variants, both
 * time layouts, batch 1 and 2, and state carried across calls. The prepare checks of the op are
 * exercised on copies of tflm/mnist_lstm_float.tflite with one operator input or option patched. */
#include <stdlib.h>

#include "kernels/ref/lstm.h"
#include "lite/model.h"
#include "tc_test.h"

#define MAXC 8 /* largest n_cell / n_output / n_input in these tests */

/* ---- a naive LSTM in double precision ------------------------------------------------------ */

typedef struct naive_lstm {
  int n_in, n_cell, n_out, act;
  double cell_clip, proj_clip;
  const tc_lstm_f32_weights *w; /* same weights; the layout is documented in lstm.h */
} naive_lstm;

static double act_d(int act, double v) {
  switch (act) {
  case 1: return v > 0 ? v : 0;
  case 2: return v < -1 ? -1 : (v > 1 ? 1 : v);
  case 3: return v < 0 ? 0 : (v > 6 ? 6 : v);
  case 4: return tanh(v);
  default: return v;
  }
}

static double sigm_d(double v) { return 1.0 / (1.0 + exp(-v)); }
static double clip_d(double v, double lim) { return lim > 0 ? fmax(-lim, fmin(lim, v)) : v; }

/* Layer norm of one gate vector, then coefficient and bias. */
static void ln_d(double *z, int n, const float *coef, const float *bias) {
  double mean = 0, var = 0;
  for (int j = 0; j < n; j++) mean += z[j];
  mean /= n;
  for (int j = 0; j < n; j++) var += (z[j] - mean) * (z[j] - mean);
  var /= n;
  for (int j = 0; j < n; j++) z[j] = (z[j] - mean) / sqrt(var + 1e-8) * coef[j] + bias[j];
}

/* One step of one sequence: h[n_out], c[n_cell] updated. */
static void naive_step(const naive_lstm *m, const float *x, double *h, double *c) {
  const tc_lstm_f32_weights *w = m->w;
  const int cifg = w->w_x[0] == NULL, ln = w->ln[1] != NULL;
  double z[4][MAXC], c_new[MAXC], mvec[MAXC];
  for (int j = 0; j < m->n_cell; j++) {
    for (int g = 0; g < 4; g++) {
      if (g == 0 && cifg) continue;
      double v = ln ? 0.0 : w->bias[g][j];
      for (int k = 0; k < m->n_in; k++) v += (double)w->w_x[g][j * m->n_in + k] * x[k];
      for (int k = 0; k < m->n_out; k++) v += (double)w->w_h[g][j * m->n_out + k] * h[k];
      if ((g == 0 || g == 1) && w->peep[g]) v += (double)w->peep[g][j] * c[j];
      z[g][j] = v;
    }
  }
  if (ln) {
    for (int g = 0; g < 3; g++)
      if (!(g == 0 && cifg)) ln_d(z[g], m->n_cell, w->ln[g], w->bias[g]);
  }
  for (int j = 0; j < m->n_cell; j++) {
    double f = sigm_d(z[1][j]);
    double i = cifg ? 1.0 - f : sigm_d(z[0][j]);
    double cc = f * c[j] + i * act_d(m->act, z[2][j]);
    c_new[j] = cc = clip_d(cc, m->cell_clip);
    if (w->peep[3]) z[3][j] += (double)w->peep[3][j] * cc;
  }
  if (ln) ln_d(z[3], m->n_cell, w->ln[3], w->bias[3]);
  for (int j = 0; j < m->n_cell; j++) {
    mvec[j] = sigm_d(z[3][j]) * act_d(m->act, c_new[j]);
    c[j] = c_new[j];
  }
  for (int r = 0; r < m->n_out; r++) {
    if (!w->proj_w) {
      h[r] = mvec[r];
      continue;
    }
    double v = w->proj_b ? w->proj_b[r] : 0.0;
    for (int j = 0; j < m->n_cell; j++) v += (double)w->proj_w[r * m->n_cell + j] * mvec[j];
    h[r] = clip_d(v, m->proj_clip);
  }
}

/* ---- fixtures ------------------------------------------------------------------------------- */

static uint32_t g_seed;
static float rnd(void) { /* uniform in [-0.8, 0.8) */
  g_seed = g_seed * 1664525u + 1013904223u;
  return ((float)(g_seed >> 8) / 16777216.0f - 0.5f) * 1.6f;
}
static float *rnd_vec(int n) {
  float *v = malloc((size_t)n * sizeof(float));
  for (int i = 0; i < n; i++) v[i] = rnd();
  return v;
}

enum { F_CIFG = 1, F_PEEP = 2, F_PROJ = 4, F_PROJ_BIAS = 8, F_LN = 16 };

/* Random weights for the given features (freed by free_weights). */
static void make_weights(tc_lstm_f32_weights *w, int n_in, int n_cell, int n_out, int flags) {
  memset(w, 0, sizeof *w);
  for (int g = 0; g < 4; g++) {
    if (g == 0 && (flags & F_CIFG)) continue;
    w->w_x[g] = rnd_vec(n_cell * n_in);
    w->w_h[g] = rnd_vec(n_cell * n_out);
    w->bias[g] = rnd_vec(n_cell);
    if ((flags & F_PEEP) && g != 2) w->peep[g] = rnd_vec(n_cell);
    if (flags & F_LN) w->ln[g] = rnd_vec(n_cell);
  }
  if (flags & F_PROJ) w->proj_w = rnd_vec(n_out * n_cell);
  if (flags & F_PROJ_BIAS) w->proj_b = rnd_vec(n_out);
}

static void free_weights(tc_lstm_f32_weights *w) {
  for (int g = 0; g < 4; g++) {
    free((void *)w->w_x[g]);
    free((void *)w->w_h[g]);
    free((void *)w->bias[g]);
    free((void *)w->peep[g]);
    free((void *)w->ln[g]);
  }
  free((void *)w->proj_w);
  free((void *)w->proj_b);
}

/* Runs the kernel on a random input (optionally `calls` times in a row on fresh inputs with the
 * state carried over) and compares every output and the final states with the naive LSTM. */
static void compare(const tc_lstm_params *p, const tc_lstm_f32_weights *w, int calls,
                    double tol) {
  const int T = p->max_time, B = p->n_batch, I = p->n_input, C = p->n_cell, O = p->n_output;
  float *h = calloc((size_t)B * O, sizeof(float)), *c = calloc((size_t)B * C, sizeof(float));
  float *out = malloc((size_t)T * B * O * sizeof(float));
  float *scratch = malloc(tc_f32_lstm_scratch_size(p));
  double hd[4][MAXC] = {{0}}, cd[4][MAXC] = {{0}};
  naive_lstm m = {I, C, O, p->activation, p->cell_clip, p->proj_clip, w};
  for (int call = 0; call < calls; call++) {
    float *in = rnd_vec(T * B * I);
    tc_f32_lstm__ref(p, w, in, h, c, out, scratch);
    for (int b = 0; b < B; b++) {
      for (int t = 0; t < T; t++) {
        /* Where row (t, b) lives in the chosen layout. */
        size_t row = p->time_major ? (size_t)t * B + b : (size_t)b * T + t;
        naive_step(&m, in + row * I, hd[b], cd[b]);
        for (int r = 0; r < O; r++)
          CHECK_MSG(fabs(out[row * O + r] - hd[b][r]) <= tol,
                    "call %d t %d b %d unit %d: %.9g vs naive %.9g", call, t, b, r,
                    (double)out[row * O + r], hd[b][r]);
      }
      for (int r = 0; r < O; r++) CHECK_NEAR(h[b * O + r], hd[b][r], tol);
      for (int j = 0; j < C; j++) CHECK_NEAR(c[b * C + j], cd[b][j], tol);
    }
    free(in);
  }
  free(h);
  free(c);
  free(out);
  free(scratch);
}

static tc_lstm_params params(int T, int B, int I, int C, int O, int time_major, int act) {
  tc_lstm_params p;
  memset(&p, 0, sizeof p);
  p.max_time = T;
  p.n_batch = B;
  p.n_input = I;
  p.n_cell = C;
  p.n_output = O;
  p.time_major = time_major;
  p.activation = act;
  return p;
}

/* ---- tests ---------------------------------------------------------------------------------- */

/* One unit, two steps, values computed by hand (in Python, double precision):
 * gates (i, f, c, o): w_x = 0.5, -0.25, 1, 0.75; w_h = 0.1, 0.2, -0.3, 0.4; bias = 0, 1, 0, -0.5.
 * x = 1:  i = s(0.5), f = s(0.75), g = tanh(1), o = s(0.25), c = i*g, h = o*tanh(c).
 * x = -2: same formulas with h, c from step 1. */
TC_TEST(kernel_lstm_hand_1cell) {
  const float wx[4] = {0.5f, -0.25f, 1.0f, 0.75f}, wh[4] = {0.1f, 0.2f, -0.3f, 0.4f};
  const float b[4] = {0.0f, 1.0f, 0.0f, -0.5f};
  tc_lstm_f32_weights w;
  memset(&w, 0, sizeof w);
  for (int g = 0; g < 4; g++) {
    w.w_x[g] = &wx[g];
    w.w_h[g] = &wh[g];
    w.bias[g] = &b[g];
  }
  tc_lstm_params p = params(2, 1, 1, 1, 1, 1, 4);
  const float in[2] = {1.0f, -2.0f};
  float h = 0, c = 0, out[2], scratch[4];
  CHECK_EQ(tc_f32_lstm_scratch_size(&p), sizeof scratch);
  tc_f32_lstm__ref(&p, &w, in, &h, &c, out, scratch);
  CHECK_NEAR(out[0], 0.24818686717764854, 1e-6);
  CHECK_NEAR(out[1], 0.016258163807304406, 1e-6);
  CHECK_NEAR(h, 0.016258163807304406, 1e-6);
  CHECK_NEAR(c, 0.12569520261213196, 1e-6);

  /* Activation "none": TFLite multiplies the output gate by the cell gate g (it never applies
   * the activation to c, and the cell-gate buffer still holds g). One step of x = 1:
   * g = 1, i = s(0.5), c = i*g = 0.62245933, h = s(0.25) * g = 0.56217650 (not o*c = 0.34993). */
  p = params(1, 1, 1, 1, 1, 1, 0);
  h = 0;
  c = 0;
  tc_f32_lstm__ref(&p, &w, in, &h, &c, out, scratch);
  CHECK_NEAR(c, 0.6224593312018546, 1e-6);
  CHECK_NEAR(out[0], 0.5621765008857981, 1e-6);
}

/* The brief's tiny LSTM: n_input 2, n_cell 3, n_output 3, 2 steps, batch 1 and 2, both layouts. */
TC_TEST(kernel_lstm_tiny_vs_naive) {
  g_seed = 12345;
  tc_lstm_f32_weights w;
  make_weights(&w, 2, 3, 3, 0);
  for (int tm = 0; tm <= 1; tm++)
    for (int batch = 1; batch <= 2; batch++) {
      tc_lstm_params p = params(2, batch, 2, 3, 3, tm, 4);
      compare(&p, &w, 1, 1e-5);
    }
  free_weights(&w);
}

/* State tensors carry h and c from one call to the next. */
TC_TEST(kernel_lstm_state_carries) {
  g_seed = 777;
  tc_lstm_f32_weights w;
  make_weights(&w, 3, 4, 4, F_PEEP);
  tc_lstm_params p = params(3, 2, 3, 4, 4, 0, 4);
  compare(&p, &w, 3, 1e-5);
  p.time_major = 1;
  compare(&p, &w, 3, 1e-5);
  free_weights(&w);
}

/* CIFG + peephole + projection with bias; then with cell and projection clipping that bites. */
TC_TEST(kernel_lstm_cifg_peephole_projection) {
  g_seed = 4242;
  tc_lstm_f32_weights w;
  make_weights(&w, 2, 3, 2, F_CIFG | F_PEEP | F_PROJ | F_PROJ_BIAS);
  for (int tm = 0; tm <= 1; tm++)
    for (int batch = 1; batch <= 2; batch++) {
      tc_lstm_params p = params(4, batch, 2, 3, 2, tm, 4);
      compare(&p, &w, 2, 1e-5);
    }
  free_weights(&w);

  /* Large weights so the cell state and the projection leave [-clip, clip]. */
  g_seed = 99;
  make_weights(&w, 2, 3, 2, F_CIFG | F_PEEP | F_PROJ);
  for (int g = 1; g < 4; g++) {
    float *b = (float *)w.bias[g];
    for (int j = 0; j < 3; j++) b[j] *= 6.0f;
  }
  float *pw = (float *)w.proj_w;
  for (int k = 0; k < 6; k++) pw[k] *= 5.0f;
  tc_lstm_params p = params(5, 2, 2, 3, 2, 0, 4);
  p.cell_clip = 0.6f;
  p.proj_clip = 0.3f;
  /* Check the clipping really happens (otherwise the case would prove nothing). */
  float in[5 * 2 * 2], h[4] = {0}, c[6] = {0}, out[5 * 2 * 2], scratch[4 * 2 * 3];
  for (int k = 0; k < 20; k++) in[k] = 2.0f;
  tc_f32_lstm__ref(&p, &w, in, h, c, out, scratch);
  int clipped_c = 0, clipped_h = 0;
  for (int k = 0; k < 6; k++) clipped_c += fabsf(c[k]) == 0.6f;
  for (int k = 0; k < 20; k++) clipped_h += fabsf(out[k]) == 0.3f;
  CHECK(clipped_c > 0);
  CHECK(clipped_h > 0);
  compare(&p, &w, 2, 1e-5);
  free_weights(&w);
}

/* Full gates with peephole, projection without bias, and relu / relu6 / relu_n1_to_1. */
TC_TEST(kernel_lstm_peephole_activations) {
  g_seed = 31337;
  tc_lstm_f32_weights w;
  make_weights(&w, 3, 5, 4, F_PEEP | F_PROJ);
  for (int act = 1; act <= 4; act++) {
    tc_lstm_params p = params(3, 2, 3, 5, 4, act & 1, act);
    compare(&p, &w, 2, 1e-5);
  }
  free_weights(&w);
}

/* Layer-norm LSTM (non-CIFG, peephole) and CIFG layer-norm LSTM. */
TC_TEST(kernel_lstm_layer_norm) {
  g_seed = 2024;
  tc_lstm_f32_weights w;
  make_weights(&w, 2, 4, 4, F_PEEP | F_LN);
  tc_lstm_params p = params(3, 2, 2, 4, 4, 1, 4);
  compare(&p, &w, 2, 1e-5);
  free_weights(&w);

  make_weights(&w, 2, 4, 3, F_CIFG | F_LN | F_PROJ | F_PROJ_BIAS);
  p = params(3, 2, 2, 4, 3, 0, 4);
  compare(&p, &w, 2, 1e-5);
  free_weights(&w);
}

/* ---- prepare error paths on a patched real model ------------------------------------------- */

typedef struct lstm_model {
  uint8_t *bytes;
  size_t size;
  size_t inputs_pos; /* byte position of op 0's 24 input indices */
  size_t act_pos, clip_pos; /* positions of options fields 0 and 1 (0 if absent) */
} lstm_model;

/* Loads mnist_lstm_float (op 0 is the LSTM) and locates what the cases patch. */
static int lstm_model_open(lstm_model *lm) {
  memset(lm, 0, sizeof *lm);
  lm->bytes = tc_test_read_file(tc_test_shared("models/tflm/mnist_lstm_float.tflite"), &lm->size);
  if (!lm->bytes) return 0;
  tc_model *m = NULL;
  int ok = 0;
  if (tc_model_load_memory(lm->bytes, lm->size, NULL, &m) == TC_OK) {
    const tc__mop *op = &m->subgraphs[0].ops[0];
    uint8_t want[24 * 4];
    for (int i = 0; i < 24 && op->n_inputs == 24; i++) {
      uint32_t v = (uint32_t)op->inputs[i];
      for (int k = 0; k < 4; k++) want[4 * i + k] = (uint8_t)(v >> (8 * k));
    }
    const uint8_t *hit = op->n_inputs == 24 ? memmem(lm->bytes, lm->size, want, sizeof want) : NULL;
    uint32_t f0 = tc__fb_field(&m->fb, &op->options, 0), f1 = tc__fb_field(&m->fb, &op->options, 1);
    if (hit && f0 && f1) {
      lm->inputs_pos = (size_t)(hit - lm->bytes);
      lm->act_pos = op->options.pos + f0;
      lm->clip_pos = op->options.pos + f1;
      ok = 1;
    }
  }
  tc_model_destroy(m);
  return ok;
}

/* Creates and prepares an interpreter on a copy of the model with input `slot` of the LSTM set
 * to tensor `tensor` (slot < 0: no change) and `n_patch` bytes at `pos` replaced. Returns the
 * status; the error message goes to msg. */
static tc_status lstm_try(const lstm_model *lm, int slot, int32_t tensor, size_t pos,
                          const void *patch, size_t n_patch, char *msg, size_t msg_size) {
  uint8_t *b = malloc(lm->size);
  memcpy(b, lm->bytes, lm->size);
  if (slot >= 0)
    for (int k = 0; k < 4; k++)
      b[lm->inputs_pos + 4 * (size_t)slot + k] = (uint8_t)((uint32_t)tensor >> (8 * k));
  if (n_patch) memcpy(b + pos, patch, n_patch);
  tc_model *m = NULL;
  tc_interp *it = NULL;
  tc_status s = tc_model_load_memory(b, lm->size, NULL, &m);
  snprintf(msg, msg_size, "%s", s ? tc_model_errmsg(m) : "");
  if (s == TC_OK) {
    s = tc_interp_create(m, NULL, &it);
    if (s == TC_OK) s = tc_interp_prepare(it);
    snprintf(msg, msg_size, "%s", s && it ? tc_interp_errmsg(it) : "");
  }
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(b);
  return s;
}

/* mnist_lstm_float's LSTM: n_input 28, n_cell 20, n_output 20, no CIFG, peephole, projection or
 * layer norm. Tensor 4 is a [20, 20] weight, 8 a [20] bias, 0 the [1, 28, 28] model input. */
TC_TEST(kernel_lstm_prepare_errors) {
  lstm_model lm;
  int ok = lstm_model_open(&lm);
  CHECK_MSG(ok, "could not open and index models/tflm/mnist_lstm_float.tflite");
  if (!ok) {
    free(lm.bytes);
    return;
  }
  char msg[512];
  CHECK_EQ(lstm_try(&lm, -1, 0, 0, NULL, 0, msg, sizeof msg), TC_OK);
  /* A [20, 20] projection makes a valid projection LSTM (n_output 20, n_cell 20). */
  CHECK_EQ(lstm_try(&lm, 16, 4, 0, NULL, 0, msg, sizeof msg), TC_OK);

  static const struct {
    int slot;
    int32_t tensor;
    tc_status want;
    const char *text;
  } cases[] = {
      {2, -1, TC_ERR_MODEL, "input 2 (input_to_forget_weights) is required"},
      {2, 4, TC_ERR_MODEL, "input_to_forget_weights) has shape [20, 20], expected [20, 28]"},
      {13, 0, TC_ERR_MODEL, "forget_gate_bias) has shape [1, 28, 28], expected [20]"},
      {5, -1, TC_ERR_MODEL, "must be both present or both absent (CIFG)"},
      {9, 8, TC_ERR_MODEL, "peephole weights (inputs 9-11) must be all present or all absent"},
      {17, 8, TC_ERR_MODEL, "projection_bias given without projection_weights"},
      {18, 8, TC_ERR_MODEL, "input 18 (output_state) must be a variable tensor"},
      {19, -1, TC_ERR_MODEL, "input 19 (cell_state) is required"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    tc_status s = lstm_try(&lm, cases[i].slot, cases[i].tensor, 0, NULL, 0, msg, sizeof msg);
    CHECK_MSG(s == cases[i].want, "case %zu: status %d (%s)", i, (int)s, msg);
    CHECK_STR_CONTAINS(msg, cases[i].text);
    CHECK_STR_CONTAINS(msg, "UNIDIRECTIONAL_SEQUENCE_LSTM");
  }

  /* Options: a negative cell_clip, an unknown activation. */
  const float neg = -1.0f;
  CHECK_EQ(lstm_try(&lm, -1, 0, lm.clip_pos, &neg, sizeof neg, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "cell_clip (-1) and proj_clip (0) must be >= 0");
  const uint8_t act = 9;
  CHECK_EQ(lstm_try(&lm, -1, 0, lm.act_pos, &act, 1, msg, sizeof msg), TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(msg, "fused activation 9 is not supported");
  free(lm.bytes);
}
