/* test_qseq.c: tests of the integer sequence kernels: the int16 sigmoid/tanh of the integer
 * LSTM (hand values and the real functions), the int8 LSTM (a hand-computed step, against a
 * float LSTM on the dequantized weights, layout and state behaviour, the cell clip), SVDF
 * (float and both integer memories against naive per-filter implementations, hand cases,
 * saturation and wrap of the int8 memory) and prepare errors on the int8 LSTM model. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/ref/lstm.h"
#include "kernels/ref/lstm_q.h"
#include "kernels/ref/qmath.h"
#include "kernels/ref/svdf.h"
#include "lite/model.h"
#include "tc_test.h"
#include "tensorc_lite.h"

static uint32_t g_seed = 12345;
static uint32_t rnd_u32(void) {
  g_seed = g_seed * 1664525u + 1013904223u;
  return g_seed >> 8;
}
/* Uniform integer in [lo, hi]. */
static int32_t rnd_int(int32_t lo, int32_t hi) {
  return lo + (int32_t)(rnd_u32() % (uint32_t)(hi - lo + 1));
}

/* ---- int16 activations --------------------------------------------------------------------- */

TC_TEST(kernel_qseq_sigmoid16_hand) {
  /* 0 -> 0.5; +-1.0 (Q3.12 4096) hits table entry 24 exactly: (47911 * 512 + 512) >> 10. */
  const int16_t in[5] = {0, 4096, -4096, 2048, INT16_MIN};
  int16_t out[5];
  tc_s16_lstm_sigmoid__ref(in, out, 5);
  CHECK_EQ(out[0], 16384);
  CHECK_EQ(out[1], 23956);
  CHECK_EQ(out[2], 8812); /* ((1 << 25) - 47911 * 512 + 511) >> 10 */
  CHECK_EQ(out[3], 20397); /* entry 12: (40794 * 512 + 512) >> 10 */
  CHECK(out[4] >= 0 && out[4] < 20);
  /* In place. */
  int16_t v[2] = {4096, -4096};
  tc_s16_lstm_sigmoid__ref(v, v, 2);
  CHECK_EQ(v[0], 23956);
  CHECK_EQ(v[1], 8812);
}

TC_TEST(kernel_qseq_sigmoid16_sweep) {
  int16_t prev = -1;
  int worst = 0;
  for (int32_t x = INT16_MIN; x <= INT16_MAX; x += 7) {
    int16_t in = (int16_t)x, out;
    tc_s16_lstm_sigmoid__ref(&in, &out, 1);
    double want = 32768.0 / (1.0 + exp(-x / 4096.0));
    int err = (int)fabs(out - want);
    if (err > worst) worst = err;
    CHECK_MSG(out >= prev, "sigmoid16 not monotonic at %d", (int)x);
    prev = out;
    /* Symmetry: s(x) + s(-x) is one within a unit. */
    if (x > INT16_MIN) {
      int16_t neg = (int16_t)-x, o2;
      tc_s16_lstm_sigmoid__ref(&neg, &o2, 1);
      CHECK_MSG(abs(out + o2 - 32768) <= 1, "sigmoid16 asymmetric at %d", (int)x);
    }
  }
  CHECK_MSG(worst <= 2, "sigmoid16 max error %d LSB", worst);
}

TC_TEST(kernel_qseq_tanh16_hand) {
  /* Q3.12: 0 -> 0; 1.0 -> entry 48 (57724 * 256 - 2^23 + 128) >> 8 = 24956; 0.5 -> entry 24. */
  const int16_t in[4] = {0, 4096, 2048, -2048};
  int16_t out[4];
  tc_s16_lstm_tanh__ref(-12, in, out, 4);
  CHECK_EQ(out[0], 0);
  CHECK_EQ(out[1], 24956);
  CHECK_EQ(out[2], 15143);
  CHECK_EQ(out[3], -15143); /* (-47911 * 256 + 2^23 + 127) >> 8 = floor(-15142.5) */
  /* Saturation both ways with a coarse scale. */
  const int16_t big[2] = {INT16_MAX, INT16_MIN};
  tc_s16_lstm_tanh__ref(-8, big, out, 2);
  CHECK_EQ(out[0], 32767);
  CHECK_EQ(out[1], -32767);
}

TC_TEST(kernel_qseq_tanh16_scales) {
  /* Every cell-state scale a model may use: 2^-9 .. 2^-15 (the last ones shift right). */
  for (int power = -15; power <= -9; power++) {
    int worst = 0;
    int16_t prev = INT16_MIN;
    for (int32_t x = INT16_MIN; x <= INT16_MAX; x += 5) {
      int16_t in = (int16_t)x, out;
      tc_s16_lstm_tanh__ref(power, &in, &out, 1);
      double want = 32768.0 * tanh(ldexp((double)x, power));
      if (want > 32767.0) want = 32767.0;
      int err = (int)fabs(out - want);
      if (err > worst) worst = err;
      CHECK_MSG(out >= prev, "tanh16(2^%d) not monotonic at %d", power, (int)x);
      prev = out;
    }
    /* Right-shifted inputs (power < -12) lose up to 2^(-12-power) steps of 1/4096. */
    int tol = power < -12 ? 3 + (int)(32768.0 * ldexp(1.0, -12 - power) / 4096.0 / 2.0) : 3;
    CHECK_MSG(worst <= tol, "tanh16(2^%d) max error %d LSB (tol %d)", power, worst, tol);
  }
}

/* ---- int8 LSTM ------------------------------------------------------------------------------ */

/* A quantized LSTM with its float twin (dequantized weights). */
typedef struct qlstm {
  int n_in, n_cell;
  tc_lstm_q_scales sc;
  int8_t *wx[4], *wh[4];
  int32_t *bias[4];
  float *fwx[4], *fwh[4], *fbias[4];
} qlstm;

static void qlstm_make(qlstm *m, int n_in, int n_cell, float cell_scale) {
  memset(m, 0, sizeof *m);
  m->n_in = n_in;
  m->n_cell = n_cell;
  m->sc.input = 1.0f / 64.0f;
  m->sc.input_zp = -3;
  m->sc.hidden = 1.0f / 128.0f;
  m->sc.hidden_zp = 5;
  m->sc.cell = cell_scale;
  for (int g = 0; g < 4; g++) {
    m->sc.w_x[g] = 0.004f + 0.001f * g;
    m->sc.w_h[g] = 0.005f - 0.0007f * g;
    m->wx[g] = malloc((size_t)n_cell * n_in);
    m->wh[g] = malloc((size_t)n_cell * n_cell);
    m->bias[g] = malloc(sizeof(int32_t) * n_cell);
    m->fwx[g] = malloc(sizeof(float) * n_cell * n_in);
    m->fwh[g] = malloc(sizeof(float) * n_cell * n_cell);
    m->fbias[g] = malloc(sizeof(float) * n_cell);
    for (int i = 0; i < n_cell * n_in; i++) {
      m->wx[g][i] = (int8_t)rnd_int(-127, 127);
      m->fwx[g][i] = m->wx[g][i] * m->sc.w_x[g];
    }
    for (int i = 0; i < n_cell * n_cell; i++) {
      m->wh[g][i] = (int8_t)rnd_int(-127, 127);
      m->fwh[g][i] = m->wh[g][i] * m->sc.w_h[g];
    }
    float bscale = m->sc.input * m->sc.w_x[g];
    for (int i = 0; i < n_cell; i++) {
      m->bias[g][i] = rnd_int(-2000, 2000);
      m->fbias[g][i] = m->bias[g][i] * bscale;
    }
  }
}

static void qlstm_free(qlstm *m) {
  for (int g = 0; g < 4; g++) {
    free(m->wx[g]);
    free(m->wh[g]);
    free(m->bias[g]);
    free(m->fwx[g]);
    free(m->fwh[g]);
    free(m->fbias[g]);
  }
}

static void qlstm_weights(const qlstm *m, tc_lstm_s8_weights *w, tc_lstm_f32_weights *fw) {
  memset(fw, 0, sizeof *fw);
  for (int g = 0; g < 4; g++) {
    w->w_x[g] = m->wx[g];
    w->w_h[g] = m->wh[g];
    w->bias[g] = m->bias[g];
    fw->w_x[g] = m->fwx[g];
    fw->w_h[g] = m->fwh[g];
    fw->bias[g] = m->fbias[g];
  }
}

static tc_lstm_q_params qparams(const qlstm *m, int T, int B, int time_major) {
  tc_lstm_q_params p;
  memset(&p, 0, sizeof p);
  p.max_time = T;
  p.n_batch = B;
  p.n_input = m->n_in;
  p.n_cell = m->n_cell;
  p.time_major = time_major;
  CHECK(tc_s8_lstm_params_init(&p, &m->sc));
  return p;
}

TC_TEST(kernel_qseq_lstm_hand_step) {
  /* One cell, one input; scales chosen so every gate multiplier is exactly 1 (input 2^-7 times
   * weight 2^-5 = 2^-12) and the products are exact powers of two. x = 0.5, all weights 1.0,
   * no bias, zero state: every gate sees 2048 (0.5 in Q3.12). */
  tc_lstm_q_scales sc;
  memset(&sc, 0, sizeof sc);
  sc.input = 1.0f / 128.0f;
  sc.hidden = 1.0f / 128.0f;
  sc.cell = 1.0f / 4096.0f;
  for (int g = 0; g < 4; g++) sc.w_x[g] = sc.w_h[g] = 1.0f / 32.0f;
  tc_lstm_q_params p;
  memset(&p, 0, sizeof p);
  p.max_time = 1;
  p.n_batch = 1;
  p.n_input = 1;
  p.n_cell = 1;
  p.time_major = 1;
  CHECK(tc_s8_lstm_params_init(&p, &sc));
  CHECK_EQ(p.x[0].mult, 1 << 30);
  CHECK_EQ(p.x[0].shift, 1);
  CHECK_EQ(p.cell_scale_power, -12);
  CHECK_EQ(p.input_cell.shift, -17); /* 2^-30 / 2^-12 = 2^-18 */
  CHECK_EQ(p.hidden.shift, -22);     /* 2^-30 / 2^-7 = 2^-23 */
  int8_t w1 = 32;
  int32_t b0 = 0;
  tc_lstm_s8_weights w;
  for (int g = 0; g < 4; g++) {
    w.w_x[g] = &w1;
    w.w_h[g] = &w1;
    w.bias[g] = &b0;
  }
  int8_t x = 64, h = 0, out = 0;
  int16_t c = 0, scratch[4];
  tc_s8_lstm__ref(&p, &w, &x, &h, &c, &out, scratch);
  /* f = i = o = sigmoid16(2048) = 20397, g = tanh16(2048) = 15143;
   * c = round(20397 * 15143 / 2^18) = 1178; tanh16(1178) = 9173 (entry 13, fraction 206);
   * h = round(9173 * 20397 / 2^23) = 22. */
  CHECK_EQ(c, 1178);
  CHECK_EQ(h, 22);
  CHECK_EQ(out, 22);
  /* Second step: gates see 2048 + 32 * 22 = 2752. */
  tc_s8_lstm__ref(&p, &w, &x, &h, &c, &out, scratch);
  int16_t pre = 2752, sg, tg;
  tc_s16_lstm_sigmoid__ref(&pre, &sg, 1);
  tc_s16_lstm_tanh__ref(-12, &pre, &tg, 1);
  int32_t fc = tc_q_mul((int32_t)sg * 1178, 1 << 30, -14);      /* * 2^-15 */
  int32_t ig = tc_q_mul((int32_t)sg * tg, 1 << 30, -17);        /* * 2^-18 */
  int16_t c2 = (int16_t)(fc + ig), tc2;
  tc_s16_lstm_tanh__ref(-12, &c2, &tc2, 1);
  int32_t h2 = tc_q_mul((int32_t)tc2 * sg, 1 << 30, -22);
  CHECK_EQ(c, c2);
  CHECK_EQ(h, h2);
  CHECK_EQ(out, h2);
}

/* Float LSTM on the dequantized weights and inputs, then the integer one: outputs agree to a
 * few hidden-state steps (the int16 activations are accurate to ~1e-4). */
static void lstm_vs_float(int T, int B, int n_in, int n_cell, int time_major, float cell_scale) {
  qlstm m;
  qlstm_make(&m, n_in, n_cell, cell_scale);
  tc_lstm_q_params p = qparams(&m, T, B, time_major);
  tc_lstm_s8_weights w;
  tc_lstm_f32_weights fw;
  qlstm_weights(&m, &w, &fw);
  const size_t n_x = (size_t)T * B * n_in, n_o = (size_t)T * B * n_cell;
  int8_t *x = malloc(n_x), *out = malloc(n_o), *h = malloc((size_t)B * n_cell);
  float *fx = malloc(sizeof(float) * n_x), *fout = malloc(sizeof(float) * n_o);
  float *fh = calloc((size_t)B * n_cell, sizeof(float)), *fc = calloc((size_t)B * n_cell, 4);
  int16_t *c = calloc((size_t)B * n_cell, sizeof(int16_t));
  for (size_t i = 0; i < n_x; i++) {
    x[i] = (int8_t)rnd_int(-128, 127);
    fx[i] = (x[i] - m.sc.input_zp) * m.sc.input;
  }
  for (int i = 0; i < B * n_cell; i++) h[i] = (int8_t)m.sc.hidden_zp; /* real 0 */
  int16_t *scratch = malloc(tc_s8_lstm_scratch_size(&p));
  float *fscratch = malloc(tc_f32_lstm_scratch_size(&(tc_lstm_params){T, B, n_in, n_cell,
                                                                      n_cell, time_major, 4,
                                                                      0.0f, 0.0f}));
  tc_lstm_params fp = {T, B, n_in, n_cell, n_cell, time_major, 4, 0.0f, 0.0f};
  tc_s8_lstm__ref(&p, &w, x, h, c, out, scratch);
  tc_f32_lstm__ref(&fp, &fw, fx, fh, fc, fout, fscratch);
  double worst = 0.0;
  for (size_t i = 0; i < n_o; i++) {
    double got = (out[i] - m.sc.hidden_zp) * (double)m.sc.hidden;
    double d = fabs(got - fout[i]);
    if (d > worst) worst = d;
  }
  CHECK_MSG(worst <= 3.0 * m.sc.hidden, "T%d B%d I%d C%d tm%d: max |int - float| %g (%g steps)",
            T, B, n_in, n_cell, time_major, worst, worst / m.sc.hidden);
  for (int i = 0; i < B * n_cell; i++)
    CHECK_NEAR(c[i] * (double)m.sc.cell, fc[i], 0.01 + 3.0 * m.sc.cell);
  free(x), free(out), free(h), free(fx), free(fout), free(fh), free(fc), free(c);
  free(scratch), free(fscratch);
  qlstm_free(&m);
}

TC_TEST(kernel_qseq_lstm_vs_float) {
  lstm_vs_float(1, 1, 3, 2, 1, 1.0f / 4096.0f);
  lstm_vs_float(5, 1, 7, 6, 1, 1.0f / 2048.0f);
  lstm_vs_float(4, 3, 5, 4, 0, 1.0f / 4096.0f);
  lstm_vs_float(6, 2, 9, 8, 1, 1.0f / 8192.0f); /* a finer cell scale (range +-4) */
}

TC_TEST(kernel_qseq_lstm_layouts) {
  /* Batch-major with 2 sequences == each sequence alone; time-major B=2 == the interleaved
   * sequences. State carries across calls: two calls of T=2 == one call of T=4. */
  qlstm m;
  qlstm_make(&m, 4, 3, 1.0f / 2048.0f);
  tc_lstm_s8_weights w;
  tc_lstm_f32_weights fw;
  qlstm_weights(&m, &w, &fw);
  enum { T = 4, B = 2, I = 4, C = 3 };
  int8_t xb[B][T][I], xt[T][B][I];
  for (int b = 0; b < B; b++)
    for (int t = 0; t < T; t++)
      for (int k = 0; k < I; k++) xt[t][b][k] = xb[b][t][k] = (int8_t)rnd_int(-128, 127);
  int16_t scratch[4 * B * C];
  /* Batch-major, both rows at once. */
  tc_lstm_q_params pb = qparams(&m, T, B, 0);
  int8_t hb[B][C], outb[B][T][C];
  int16_t cb[B][C];
  memset(hb, 5, sizeof hb);
  memset(cb, 0, sizeof cb);
  tc_s8_lstm__ref(&pb, &w, &xb[0][0][0], &hb[0][0], &cb[0][0], &outb[0][0][0], scratch);
  /* Time-major, both rows at once. */
  tc_lstm_q_params pt = qparams(&m, T, B, 1);
  int8_t ht[B][C], outt[T][B][C];
  int16_t ct[B][C];
  memset(ht, 5, sizeof ht);
  memset(ct, 0, sizeof ct);
  tc_s8_lstm__ref(&pt, &w, &xt[0][0][0], &ht[0][0], &ct[0][0], &outt[0][0][0], scratch);
  /* One row at a time, two calls of two steps each. */
  tc_lstm_q_params p1 = qparams(&m, 2, 1, 1);
  for (int b = 0; b < B; b++) {
    int8_t h[C], out[T][C];
    int16_t c[C];
    memset(h, 5, sizeof h);
    memset(c, 0, sizeof c);
    tc_s8_lstm__ref(&p1, &w, &xb[b][0][0], h, c, &out[0][0], scratch);
    tc_s8_lstm__ref(&p1, &w, &xb[b][2][0], h, c, &out[2][0], scratch);
    for (int t = 0; t < T; t++)
      for (int k = 0; k < C; k++) {
        CHECK_EQ(out[t][k], outb[b][t][k]);
        CHECK_EQ(out[t][k], outt[t][b][k]);
      }
    for (int k = 0; k < C; k++) {
      CHECK_EQ(h[k], hb[b][k]);
      CHECK_EQ(h[k], ht[b][k]);
      CHECK_EQ(c[k], cb[b][k]);
      CHECK_EQ(c[k], ct[b][k]);
    }
  }
  qlstm_free(&m);
}

TC_TEST(kernel_qseq_lstm_cell_clip) {
  /* cell_clip 0.05 at cell scale 2^-12 quantizes to trunc(0.05 * 4096) = 204. */
  qlstm m;
  qlstm_make(&m, 3, 4, 1.0f / 4096.0f);
  m.sc.cell_clip = 0.05f;
  for (int g = 0; g < 4; g++)
    for (int i = 0; i < 4; i++) m.bias[g][i] = 100000; /* drive every gate up */
  tc_lstm_q_params p = qparams(&m, 3, 1, 1);
  CHECK_EQ(p.cell_clip, 204);
  tc_lstm_s8_weights w;
  tc_lstm_f32_weights fw;
  qlstm_weights(&m, &w, &fw);
  int8_t x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, h[4] = {5, 5, 5, 5}, out[12];
  int16_t c[4] = {0, 0, 0, 0}, scratch[16];
  tc_s8_lstm__ref(&p, &w, x, h, c, out, scratch);
  for (int i = 0; i < 4; i++) CHECK_EQ(c[i], 204);
  /* Without the clip the same cells grow far beyond it. */
  p.cell_clip = 0;
  int16_t c2[4] = {0, 0, 0, 0};
  int8_t h2[4] = {5, 5, 5, 5};
  tc_s8_lstm__ref(&p, &w, x, h2, c2, out, scratch);
  for (int i = 0; i < 4; i++) CHECK(c2[i] > 1000);
  qlstm_free(&m);
}

TC_TEST(kernel_qseq_lstm_params) {
  /* TFLM multipliers: the gate ones come from a float product of the scales. */
  tc_lstm_q_scales sc;
  memset(&sc, 0, sizeof sc);
  sc.input = 0.00392156886f;
  sc.hidden = 0.00781679247f;
  sc.cell = 0.000244140625f;
  for (int g = 0; g < 4; g++) sc.w_x[g] = sc.w_h[g] = 0.00898651499f;
  tc_lstm_q_params p;
  memset(&p, 0, sizeof p);
  CHECK(tc_s8_lstm_params_init(&p, &sc));
  float prod = sc.input * sc.w_x[0];
  int32_t q;
  int sh;
  tc_q_quantize_multiplier((double)prod * 4096.0, &q, &sh);
  CHECK_EQ(p.x[0].mult, q);
  CHECK_EQ(p.x[0].shift, sh);
  CHECK_EQ(p.forget_cell.mult, 1 << 30);
  CHECK_EQ(p.forget_cell.shift, -14);
  CHECK_EQ(p.cell_scale_power, -12);
  CHECK_EQ(p.hidden_zp, 0);
  sc.cell = 0.00048828125f;
  CHECK(tc_s8_lstm_params_init(&p, &sc));
  CHECK_EQ(p.cell_scale_power, -11);
  sc.hidden = 0.0f;
  CHECK(!tc_s8_lstm_params_init(&p, &sc));
}

/* ---- SVDF ------------------------------------------------------------------------------------ */

/* Naive float SVDF with an explicit per-filter memory [b][f][m] (oldest first). */
static void naive_svdf_f(const tc_svdf_params *p, const float *x, const float *wf,
                         const float *wt, const float *bias, double *mem, double *out) {
  const int F = p->n_filter, M = p->n_memory, U = F / p->n_rank;
  for (int b = 0; b < p->n_batch; b++) {
    for (int f = 0; f < F; f++) {
      double *mf = mem + ((size_t)b * F + f) * M;
      for (int m = 0; m + 1 < M; m++) mf[m] = mf[m + 1];
      double v = 0.0;
      for (int k = 0; k < p->n_input; k++) v += (double)wf[f * p->n_input + k] * x[b * p->n_input + k];
      mf[M - 1] = v;
    }
    for (int u = 0; u < U; u++) {
      double v = bias ? bias[u] : 0.0;
      for (int r = 0; r < p->n_rank; r++) {
        int f = u * p->n_rank + r;
        for (int m = 0; m < M; m++) v += mem[((size_t)b * F + f) * M + m] * wt[f * M + m];
      }
      if (p->activation == 1 && v < 0.0) v = 0.0;
      out[b * U + u] = v;
    }
  }
}

TC_TEST(kernel_qseq_svdf_f32_hand) {
  /* 1 batch, 2 inputs, 2 filters, rank 2 (1 unit), memory 2. */
  tc_svdf_params p;
  memset(&p, 0, sizeof p);
  p.n_batch = 1, p.n_input = 2, p.n_filter = 2, p.n_rank = 2, p.n_memory = 2;
  const float wf[4] = {1, 2, -1, 1}, wt[4] = {0.5f, 1, 2, -1}, bias[1] = {0.25f};
  float state[4] = {0, 0, 0, 0}, out[1], scratch[2];
  const float x1[2] = {1, 1}, x2[2] = {2, -1};
  /* Step 1: features 3, 0 -> memories [0,3], [0,0]; out = 0.25 + 3*1 + 0 = 3.25. */
  tc_f32_svdf__ref(&p, x1, wf, wt, bias, state, out, scratch);
  CHECK_NEAR(out[0], 3.25, 1e-6);
  CHECK_NEAR(state[1], 3.0, 0);
  /* Step 2: features 0, -3 -> [3,0], [0,-3]; out = 0.25 + 1.5 + 3 = 4.75. */
  tc_f32_svdf__ref(&p, x2, wf, wt, bias, state, out, scratch);
  CHECK_NEAR(out[0], 4.75, 1e-6);
  CHECK_NEAR(state[0], 3.0, 0);
  CHECK_NEAR(state[3], -3.0, 0);
}

TC_TEST(kernel_qseq_svdf_f32_vs_naive) {
  tc_svdf_params p;
  memset(&p, 0, sizeof p);
  p.n_batch = 2, p.n_input = 5, p.n_filter = 6, p.n_rank = 2, p.n_memory = 4, p.activation = 1;
  const int F = 6, M = 4, U = 3, I = 5, B = 2;
  float wf[6 * 5], wt[6 * 4], bias[3], state[2 * 6 * 4] = {0}, out[2 * 3], scratch[12], x[2 * 5];
  double mem[2 * 6 * 4] = {0}, want[6];
  for (int i = 0; i < F * I; i++) wf[i] = (float)rnd_int(-100, 100) / 64.0f;
  for (int i = 0; i < F * M; i++) wt[i] = (float)rnd_int(-100, 100) / 64.0f;
  for (int i = 0; i < U; i++) bias[i] = (float)rnd_int(-100, 100) / 32.0f;
  for (int step = 0; step < 7; step++) {
    for (int i = 0; i < B * I; i++) x[i] = (float)rnd_int(-100, 100) / 32.0f;
    tc_f32_svdf__ref(&p, x, wf, wt, step == 3 ? NULL : bias, state, out, scratch);
    naive_svdf_f(&p, x, wf, wt, step == 3 ? NULL : bias, mem, want);
    for (int i = 0; i < B * U; i++) CHECK_NEAR(out[i], want[i], 1e-3);
  }
}

/* Naive integer SVDF (either memory type, as int32 values) with a per-filter memory. */
static void naive_svdf_q(const tc_svdf_params *p, int is16, const int8_t *x, const int8_t *wf,
                         const int32_t *wt, const int32_t *bias, int32_t *mem, int8_t *out) {
  const int F = p->n_filter, M = p->n_memory, U = F / p->n_rank;
  const int32_t lo = is16 ? -32768 : -128, hi = is16 ? 32767 : 127;
  for (int b = 0; b < p->n_batch; b++) {
    for (int f = 0; f < F; f++) {
      int32_t *mf = mem + ((size_t)b * F + f) * M;
      for (int m = 0; m + 1 < M; m++) mf[m] = mf[m + 1];
      int64_t acc = 0;
      for (int k = 0; k < p->n_input; k++)
        acc += (int64_t)wf[f * p->n_input + k] * (x[b * p->n_input + k] - p->input_zp);
      int32_t v = tc_q_mul((int32_t)acc, p->mult1, p->shift1);
      v = v < lo ? lo : (v > hi ? hi : v);
      v += p->state_zp;
      /* Stored in the memory type with two's-complement wrap. */
      if (!is16) v = (int32_t)(int8_t)(uint8_t)(v & 0xFF);
      else v = (int32_t)(int16_t)(uint16_t)(v & 0xFFFF);
      mf[M - 1] = v;
    }
    for (int u = 0; u < U; u++) {
      int64_t acc = bias ? bias[u] : 0;
      for (int r = 0; r < p->n_rank; r++) {
        int f = u * p->n_rank + r;
        for (int m = 0; m < M; m++)
          acc += (int64_t)wt[f * M + m] * (mem[((size_t)b * F + f) * M + m] - p->state_zp);
      }
      int32_t v = tc_q_mul((int32_t)acc, p->mult2, p->shift2) + p->output_zp;
      out[b * U + u] = (int8_t)(v < -128 ? -128 : (v > 127 ? 127 : v));
    }
  }
}

static void svdf_q_case(int is16, int B, int I, int F, int rank, int M, int32_t state_zp,
                        float s_state, int with_bias) {
  tc_svdf_params p;
  memset(&p, 0, sizeof p);
  p.n_batch = B, p.n_input = I, p.n_filter = F, p.n_rank = rank, p.n_memory = M;
  p.input_zp = -7;
  p.state_zp = state_zp;
  p.output_zp = 3;
  CHECK(tc_svdf_q_params_init(&p, 0.05f, 0.009f, is16 ? 0.0015f : 0.02f, s_state, 0.1f));
  const int U = F / rank;
  int8_t *x = malloc((size_t)B * I), *wf = malloc((size_t)F * I), *out = malloc((size_t)B * U),
         *want = malloc((size_t)B * U), *st8 = malloc((size_t)B * F * M);
  int16_t *wt16 = malloc(sizeof(int16_t) * F * M), *st16 = malloc(sizeof(int16_t) * B * F * M);
  int8_t *wt8 = malloc((size_t)F * M);
  int32_t *wt32 = malloc(sizeof(int32_t) * F * M), *bias = malloc(sizeof(int32_t) * U);
  int32_t *mem = malloc(sizeof(int32_t) * B * F * M);
  int32_t *scratch = malloc(tc_s8_svdf_scratch_size(&p));
  for (int i = 0; i < F * I; i++) wf[i] = (int8_t)rnd_int(-127, 127);
  for (int i = 0; i < F * M; i++) {
    wt32[i] = is16 ? rnd_int(-3000, 3000) : rnd_int(-127, 127);
    wt16[i] = (int16_t)wt32[i];
    wt8[i] = (int8_t)(is16 ? 0 : wt32[i]);
  }
  for (int i = 0; i < U; i++) bias[i] = rnd_int(-20000, 20000);
  for (int i = 0; i < B * F * M; i++) {
    mem[i] = state_zp;
    st16[i] = (int16_t)state_zp;
    st8[i] = (int8_t)state_zp;
  }
  for (int step = 0; step < M + 3; step++) {
    for (int i = 0; i < B * I; i++) x[i] = (int8_t)rnd_int(-128, 127);
    const int32_t *b = with_bias ? bias : NULL;
    if (is16)
      tc_s8_svdf_s16__ref(&p, x, wf, wt16, b, st16, out, scratch);
    else
      tc_s8_svdf_s8__ref(&p, x, wf, wt8, b, st8, out, scratch);
    naive_svdf_q(&p, is16, x, wf, wt32, b, mem, want);
    for (int i = 0; i < B * U; i++)
      CHECK_MSG(out[i] == want[i], "svdf %s step %d out[%d]: %d != %d", is16 ? "s16" : "s8",
                step, i, out[i], want[i]);
    for (int i = 0; i < B * F * M; i++)
      CHECK_MSG((is16 ? st16[i] : st8[i]) == mem[i], "svdf %s step %d state[%d]",
                is16 ? "s16" : "s8", step, i);
  }
  free(x), free(wf), free(out), free(want), free(st8), free(wt16), free(st16), free(wt8);
  free(wt32), free(bias), free(mem), free(scratch);
}

TC_TEST(kernel_qseq_svdf_int_vs_naive) {
  /* int16 memory: keyword_scrambled-like (rank 1) and rank 2, batch 2, no bias. */
  svdf_q_case(1, 1, 12, 8, 1, 4, 0, 0.004f, 1);
  svdf_q_case(1, 2, 7, 6, 2, 3, 0, 0.01f, 0);
  /* Tiny state scale: the feature values saturate at the int16 bounds. */
  svdf_q_case(1, 1, 9, 4, 1, 5, 0, 0.00002f, 1);
  /* int8 memory with a zero point: saturation, and the zero point added after the clamp
   * wraps around (TFLM stores it with an implicit narrowing conversion). */
  svdf_q_case(0, 1, 12, 8, 1, 4, -50, 0.8f, 1);
  svdf_q_case(0, 2, 6, 6, 3, 2, 20, 0.02f, 1);
}

TC_TEST(kernel_qseq_svdf_int_hand) {
  /* int16 memory, every multiplier a power of two: feature scale 1 (0.5 * 0.5 / 0.25), output
   * scale 2^-3 (0.25 * 0.5 / 1). One input of 3 (zp 1 -> 2), weight 4 -> feature 8. */
  tc_svdf_params p;
  memset(&p, 0, sizeof p);
  p.n_batch = 1, p.n_input = 1, p.n_filter = 1, p.n_rank = 1, p.n_memory = 2;
  p.input_zp = 1;
  p.output_zp = -2;
  CHECK(tc_svdf_q_params_init(&p, 0.5f, 0.5f, 0.5f, 0.25f, 1.0f));
  const int8_t x = 3, wf = 4;
  const int16_t wt[2] = {5, 6};
  const int32_t bias = 10;
  int16_t st[2] = {0, 0};
  int8_t out;
  int32_t scratch[2];
  tc_s8_svdf_s16__ref(&p, &x, &wf, wt, &bias, st, &out, scratch);
  /* memory [0, 8]; acc = 10 + 6 * 8 = 58; 58 / 8 = 7.25 -> 7; - 2 = 5. */
  CHECK_EQ(st[0], 0);
  CHECK_EQ(st[1], 8);
  CHECK_EQ(out, 5);
  tc_s8_svdf_s16__ref(&p, &x, &wf, wt, &bias, st, &out, scratch);
  /* memory [8, 8]; acc = 10 + 40 + 48 = 98 -> 12.25 -> 12; - 2 = 10. */
  CHECK_EQ(st[0], 8);
  CHECK_EQ(out, 10);
}

/* ---- prepare on the int8 LSTM model ----------------------------------------------------------- */

typedef struct qmodel {
  uint8_t *bytes;
  size_t size;
  size_t inputs_pos, act_pos;
} qmodel;

static int qmodel_open(qmodel *lm, const char *rel) {
  memset(lm, 0, sizeof *lm);
  lm->bytes = tc_test_read_file(tc_test_shared(rel), &lm->size);
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
    uint32_t f0 = tc__fb_field(&m->fb, &op->options, 0);
    if (hit && f0) {
      lm->inputs_pos = (size_t)(hit - lm->bytes);
      lm->act_pos = op->options.pos + f0;
      ok = 1;
    }
  }
  tc_model_destroy(m);
  return ok;
}

/* Prepares a copy with LSTM input `slot` set to `tensor` (slot < 0: none) and one byte at pos
 * replaced (pos 0: none). Preparation may still fail later on other ops: the message tells. */
static tc_status qmodel_try(const qmodel *lm, int slot, int32_t tensor, size_t pos, uint8_t byte,
                            char *msg, size_t msg_size) {
  uint8_t *b = malloc(lm->size);
  memcpy(b, lm->bytes, lm->size);
  if (slot >= 0)
    for (int k = 0; k < 4; k++)
      b[lm->inputs_pos + 4 * (size_t)slot + k] = (uint8_t)((uint32_t)tensor >> (8 * k));
  if (pos) b[pos] = byte;
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

/* mnist_lstm_int8's LSTM (op 0): tensors 8..15 int8 weights, 4..7 int32 biases, 16 the int8
 * hidden state, 17 the int16 cell state, 0 the int8 model input. */
TC_TEST(kernel_qseq_lstm_prepare_errors) {
  qmodel lm;
  int ok = qmodel_open(&lm, "models/tflm/mnist_lstm_int8.tflite");
  CHECK_MSG(ok, "could not open and index models/tflm/mnist_lstm_int8.tflite");
  if (!ok) {
    free(lm.bytes);
    return;
  }
  char msg[512];
  /* The unpatched model: the LSTM prepares (a later op may not exist yet). */
  tc_status s = qmodel_try(&lm, -1, 0, 0, 0, msg, sizeof msg);
  CHECK_MSG(s == TC_OK || !strstr(msg, "UNIDIRECTIONAL_SEQUENCE_LSTM"), "%s", msg);
  static const struct {
    int slot;
    int32_t tensor;
    tc_status want;
    const char *text;
  } cases[] = {
      {19, 16, TC_ERR_UNSUPPORTED, "input 19 (cell_state) has dtype int8, expected int16"},
      {13, 8, TC_ERR_UNSUPPORTED, "forget_gate_bias) has dtype int8, expected int32"},
      {16, 8, TC_ERR_UNSUPPORTED, "must be the standard form"},
      {1, -1, TC_ERR_MODEL, "must be both present or both absent (CIFG)"},
      {18, 17, TC_ERR_UNSUPPORTED, "input 18 (output_state) has dtype int16, expected int8"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    s = qmodel_try(&lm, cases[i].slot, cases[i].tensor, 0, 0, msg, sizeof msg);
    CHECK_MSG(s == cases[i].want, "case %zu: status %d (%s)", i, (int)s, msg);
    CHECK_STR_CONTAINS(msg, cases[i].text);
    CHECK_STR_CONTAINS(msg, "UNIDIRECTIONAL_SEQUENCE_LSTM");
  }
  /* A fused RELU instead of TANH. */
  CHECK_EQ(qmodel_try(&lm, -1, 0, lm.act_pos, 1, msg, sizeof msg), TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(msg, "needs fused activation TANH, got 1");
  free(lm.bytes);
}

/* ---- prepare on the SVDF model ---------------------------------------------------------------- */

/* keyword_scrambled's first SVDF (op 1): inputs t0 int8 [1, 96], t1 int8 [64, 96], t2 int16
 * [64, 8], t3 int32 [64], t4 int16 variable [1, 512]; rank 1. Patches one input index or the
 * rank and prepares. */
static tc_status svdf_try(const uint8_t *bytes, size_t size, size_t inputs_pos, int slot,
                          int32_t tensor, size_t rank_pos, int32_t rank, char *msg, size_t n) {
  uint8_t *b = malloc(size);
  memcpy(b, bytes, size);
  if (slot >= 0)
    for (int k = 0; k < 4; k++)
      b[inputs_pos + 4 * (size_t)slot + k] = (uint8_t)((uint32_t)tensor >> (8 * k));
  if (rank_pos)
    for (int k = 0; k < 4; k++) b[rank_pos + k] = (uint8_t)((uint32_t)rank >> (8 * k));
  tc_model *m = NULL;
  tc_interp *it = NULL;
  tc_status s = tc_model_load_memory(b, size, NULL, &m);
  snprintf(msg, n, "%s", s ? tc_model_errmsg(m) : "");
  if (s == TC_OK) {
    s = tc_interp_create(m, NULL, &it);
    if (s == TC_OK) s = tc_interp_prepare(it);
    snprintf(msg, n, "%s", s && it ? tc_interp_errmsg(it) : "");
  }
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(b);
  return s;
}

TC_TEST(kernel_qseq_svdf_prepare_errors) {
  size_t size = 0;
  uint8_t *bytes = tc_test_read_file(tc_test_shared("models/tflm/keyword_scrambled.tflite"), &size);
  CHECK_MSG(bytes != NULL, "cannot read models/tflm/keyword_scrambled.tflite");
  if (!bytes) return;
  size_t inputs_pos = 0, rank_pos = 0;
  tc_model *m = NULL;
  if (tc_model_load_memory(bytes, size, NULL, &m) == TC_OK) {
    const tc__mop *op = &m->subgraphs[0].ops[1];
    const uint8_t want[24] = {5, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4};
    const uint8_t *hit = op->n_inputs == 5 ? memmem(bytes, size, want, sizeof want) : NULL;
    uint32_t f0 = tc__fb_field(&m->fb, &op->options, 0);
    if (hit) inputs_pos = (size_t)(hit - bytes) + 4;
    if (f0) rank_pos = op->options.pos + f0;
  }
  tc_model_destroy(m);
  CHECK(inputs_pos && rank_pos);
  char msg[512];
  tc_status s = svdf_try(bytes, size, inputs_pos, -1, 0, 0, 0, msg, sizeof msg);
  /* Other ops of the model (QUANTIZE, FULLY_CONNECTED, SOFTMAX) may be missing from a partial
   * build; the SVDF itself must never be the problem. */
  CHECK_MSG(s == TC_OK || !strstr(msg, "SVDF"), "%s", msg);
  if (s == TC_OK && inputs_pos && rank_pos) {
    static const struct {
      int slot;
      int32_t tensor, rank;
      const char *text;
    } cases[] = {
        {2, 1, 0, "activation_state has shape [1, 512], expected [1, 6144]"},
        {3, 2, 0, "bias has shape [64, 8], expected [64]"},
        {4, 3, 0, "activation_state has shape [64], expected rank 2"},
        {4, 2, 0, "activation_state has shape [64, 8], expected [1, 512]"},
        {-1, 0, 3, "64 filters are not a multiple of rank 3"},
        {-1, 0, -2, "rank is -2, expected > 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
      s = svdf_try(bytes, size, inputs_pos, cases[i].slot, cases[i].tensor,
                   cases[i].rank ? rank_pos : 0, cases[i].rank, msg, sizeof msg);
      CHECK_MSG(s == TC_ERR_MODEL, "case %zu: status %d (%s)", i, (int)s, msg);
      CHECK_STR_CONTAINS(msg, cases[i].text);
      CHECK_STR_CONTAINS(msg, "SVDF");
    }
    /* The bias is optional. */
    CHECK_EQ(svdf_try(bytes, size, inputs_pos, 3, -1, 0, 0, msg, sizeof msg), TC_OK);
  }
  free(bytes);
}
