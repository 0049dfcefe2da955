/* test_layers.c: every Keras-style layer through a tc_net: forward values against naive
 * loops written here (Dense, Conv2D, DepthwiseConv2D, pooling, BatchNormalization moving
 * statistics, Embedding, Add/Concatenate, LSTM and GRU in double precision), gradients of
 * L = sum(out * R) against central finite differences, auto names, the summary table and
 * shape errors naming the layer. */
#include <stdlib.h>

#include "tc_test.h"
#include "train/model.h"

static float frand(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return (float)((*s >> 8) & 0xffff) / 65536.0f * 2.0f - 1.0f;
}

static tc_tensor *rand_step(tc_train_ctx *ctx, int rank, const int32_t *dims, uint32_t seed) {
  tc_tensor *t;
  if (tc_tensor_step(ctx, TC_DTYPE_F32, rank, dims, NULL, &t)) return NULL;
  float *p = tc_tensor_f32(t);
  for (size_t i = 0; i < tc_tensor_size(t); i++) p[i] = frand(&seed);
  return t;
}

/* L = sum(forward(x) * R) with a fixed R (recomputed from the seed). */
static double loss_of(tc_net *net, tc_train_ctx *ctx, tc_tensor *x, int training, int tape,
                      tc_tensor **loss_t) {
  tc_tensor *y, *r, *m, *l;
  if (tape) tc_tape_start(ctx);
  if (tc_net_forward(net, ctx, 1, &x, training, &y)) return NAN;
  r = rand_step(ctx, tc_tensor_rank(y), tc_tensor_dims(y), 777);
  if (tc_mul(ctx, y, r, &m) || tc_reduce_sum(ctx, m, 0, NULL, 0, &l)) return NAN;
  if (tape) tc_tape_stop(ctx);
  if (loss_t) *loss_t = l;
  return tc_tensor_item(l);
}

/* Gradients of every trainable weight (a few entries each) and of the input against central
 * differences. The input x is a persistent tensor so it survives step resets. */
static void check_grads_x(tc_net *net, tc_tensor *x, int training, double tol, int with_x) {
  tc_train_ctx *ctx = tc_net_ctx(net);
  tc_tensor *const *params;
  size_t np = tc_net_trainable(net, &params);
  tc_tensor *wrt[16], *g[16];
  size_t n = 0;
  for (size_t i = 0; i < np && n < 15; i++) wrt[n++] = params[i];
  if (with_x) {
    tc_tensor_set_trainable(x, 1);
    wrt[n++] = x;
  }
  tc_train_ctx_step_reset(ctx);
  tc_tensor *loss = NULL;
  double l0 = loss_of(net, ctx, x, training, 1, &loss);
  CHECK(!isnan(l0));
  CHECK_EQ(tc_gradient(ctx, loss, n, wrt, g), TC_OK);
  /* Keep the analytic gradients: the next steps reset the arena. */
  float *keep = malloc(sizeof(float) * 4096 * n);
  for (size_t k = 0; k < n; k++)
    memcpy(keep + 4096 * k, tc_tensor_f32(g[k]), sizeof(float) * TC_MIN(tc_tensor_size(g[k]), 4096));
  for (size_t k = 0; k < n; k++) {
    float *p = tc_tensor_f32(wrt[k]);
    size_t sz = TC_MIN(tc_tensor_size(wrt[k]), 4096), step = sz > 12 ? sz / 7 : 1;
    for (size_t i = 0; i < sz; i += step) {
      const float h = 1e-2f;
      float old = p[i];
      p[i] = old + h;
      tc_train_ctx_step_reset(ctx);
      double lp = loss_of(net, ctx, x, training, 0, NULL);
      p[i] = old - h;
      tc_train_ctx_step_reset(ctx);
      double lm = loss_of(net, ctx, x, training, 0, NULL);
      p[i] = old;
      double fd = (lp - lm) / (2 * h), an = keep[4096 * k + i];
      CHECK_MSG(fabs(fd - an) <= tol * (1 + fabs(fd)), "wrt %zu [%zu]: analytic %g vs fd %g", k,
                i, an, fd);
    }
  }
  free(keep);
  tc_tensor_set_trainable(x, 0);
}

static void check_grads(tc_net *net, tc_tensor *x, int training, double tol) {
  check_grads_x(net, x, training, tol, 1);
}

static tc_tensor *rand_persistent(int rank, const int32_t *dims, uint32_t seed) {
  tc_tensor *t;
  if (tc_tensor_create(TC_DTYPE_F32, rank, dims, &t)) return NULL;
  float *p = tc_tensor_f32(t);
  for (size_t i = 0; i < tc_tensor_size(t); i++) p[i] = frand(&seed);
  return t;
}

TC_TEST(train_layers_dense_forward_grad) {
  tc_net *net;
  CHECK_EQ(tc_net_create(&net), TC_OK);
  CHECK_EQ(tc_net_add(net, tc_layer_input(1, (int32_t[]){5})), TC_OK);
  CHECK_EQ(tc_net_add(net, tc_layer_dense(3, TC_ACT_TANH)), TC_OK);
  tc_layer_config c = tc_layer_dense(2, TC_ACT_LINEAR);
  c.bias_init = (tc_initializer){TC_INIT_CONSTANT, 0.5f, 0};
  CHECK_EQ(tc_net_add(net, c), TC_OK);
  CHECK_EQ(tc_net_n_weights(net), 4);
  const char *name;
  tc_tensor *k0 = tc_net_weight(net, 0, &name);
  CHECK(!strcmp(name, "dense/kernel"));
  tc_net_weight(net, 3, &name);
  CHECK(!strcmp(name, "dense_1/bias"));
  CHECK_NEAR(tc_tensor_f32(tc_net_find_weight(net, "dense_1/bias"))[1], 0.5, 0);
  /* Glorot uniform limit sqrt(6 / (5 + 3)). */
  for (size_t i = 0; i < 15; i++) CHECK(fabsf(tc_tensor_f32(k0)[i]) <= sqrtf(6.0f / 8.0f));
  tc_tensor *x = rand_persistent(2, (int32_t[]){4, 5}, 1);
  tc_train_ctx *ctx = tc_net_ctx(net);
  tc_tensor *y;
  CHECK_EQ(tc_net_forward(net, ctx, 1, &x, 0, &y), TC_OK);
  CHECK_EQ(tc_tensor_dim(y, 0), 4);
  CHECK_EQ(tc_tensor_dim(y, 1), 2);
  const float *W0 = tc_tensor_f32(k0), *b0 = tc_tensor_f32(tc_net_weight(net, 1, NULL));
  const float *W1 = tc_tensor_f32(tc_net_weight(net, 2, NULL)), *b1 = tc_tensor_f32(tc_net_weight(net, 3, NULL));
  for (int n = 0; n < 4; n++) {
    double h[3];
    for (int j = 0; j < 3; j++) {
      double s = b0[j];
      for (int i = 0; i < 5; i++) s += (double)tc_tensor_f32(x)[n * 5 + i] * W0[i * 3 + j];
      h[j] = tanh(s);
    }
    for (int j = 0; j < 2; j++) {
      double s = b1[j];
      for (int i = 0; i < 3; i++) s += h[i] * W1[i * 2 + j];
      CHECK_NEAR(tc_tensor_f32(y)[n * 2 + j], s, 1e-5);
    }
  }
  check_grads(net, x, 1, 2e-2);
  tc_tensor_destroy(x);
  tc_net_destroy(net);
}

TC_TEST(train_layers_conv_depthwise_pool) {
  tc_net *net;
  tc_net_create(&net);
  CHECK_EQ(tc_net_add(net, tc_layer_input(3, (int32_t[]){6, 5, 2})), TC_OK);
  tc_layer_config c = tc_layer_conv2d(3, 3, 1, TC_PADDING_SAME, TC_ACT_LINEAR);
  c.bias_init = (tc_initializer){TC_INIT_UNIFORM, -1, 1};
  CHECK_EQ(tc_net_add(net, c), TC_OK);
  CHECK_EQ(tc_net_add(net, tc_layer_depthwise_conv2d(2, 1, 2, TC_PADDING_VALID, TC_ACT_RELU)),
           TC_OK);
  CHECK_EQ(tc_net_add(net, tc_layer_avg_pool2d(2, 0, TC_PADDING_SAME)), TC_OK);
  CHECK_EQ(tc_net_add(net, tc_layer_max_pool2d(2, 1, TC_PADDING_VALID)), TC_OK);
  CHECK_EQ(tc_net_add(net, tc_layer_flatten()), TC_OK);
  int32_t d[8];
  CHECK_EQ(tc_net_layer_shape(net, 1, d), 3); /* conv SAME: 6x5x3 */
  CHECK(d[0] == 6 && d[1] == 5 && d[2] == 3);
  CHECK_EQ(tc_net_layer_shape(net, 2, d), 3); /* depthwise 2x2 valid, mult 2: 5x4x6 */
  CHECK(d[0] == 5 && d[1] == 4 && d[2] == 6);
  CHECK_EQ(tc_net_layer_shape(net, 3, d), 3); /* avg 2 SAME: 3x2x6 */
  CHECK(d[0] == 3 && d[1] == 2 && d[2] == 6);
  CHECK_EQ(tc_net_layer_shape(net, 5, d), 1); /* max 2 stride 1: 2x1x6 -> 12 */
  CHECK_EQ(d[0], 12);
  /* Forward of conv + depthwise against naive loops on a [2,6,5,2] input. */
  tc_tensor *x = rand_persistent(4, (int32_t[]){2, 6, 5, 2}, 5);
  tc_train_ctx *ctx = tc_net_ctx(net);
  tc_tensor *y;
  CHECK_EQ(tc_net_forward(net, ctx, 1, &x, 0, &y), TC_OK);
  const float *K = tc_tensor_f32(tc_net_find_weight(net, "conv2d/kernel"));
  const float *B = tc_tensor_f32(tc_net_find_weight(net, "conv2d/bias"));
  const float *DK = tc_tensor_f32(tc_net_find_weight(net, "depthwise_conv2d/depthwise_kernel"));
  const float *DB = tc_tensor_f32(tc_net_find_weight(net, "depthwise_conv2d/bias"));
  CHECK(K && B && DK && DB);
  const float *px = tc_tensor_f32(x);
  static double conv[2][6][5][3], dw[2][5][4][6];
  for (int n = 0; n < 2; n++)
    for (int i = 0; i < 6; i++)
      for (int j = 0; j < 5; j++)
        for (int o = 0; o < 3; o++) {
          double s = B[o];
          for (int a = 0; a < 3; a++)
            for (int b = 0; b < 3; b++)
              for (int ci = 0; ci < 2; ci++) {
                int yy = i + a - 1, xx = j + b - 1; /* SAME 3x3 pads 1 before */
                if (yy < 0 || yy >= 6 || xx < 0 || xx >= 5) continue;
                s += (double)px[((n * 6 + yy) * 5 + xx) * 2 + ci] * K[((a * 3 + b) * 2 + ci) * 3 + o];
              }
          conv[n][i][j][o] = s;
        }
  for (int n = 0; n < 2; n++)
    for (int i = 0; i < 5; i++)
      for (int j = 0; j < 4; j++)
        for (int ci = 0; ci < 3; ci++)
          for (int m = 0; m < 2; m++) {
            double s = DB[ci * 2 + m];
            for (int a = 0; a < 2; a++)
              for (int b = 0; b < 2; b++) s += conv[n][i + a][j + b][ci] * DK[((a * 2 + b) * 3 + ci) * 2 + m];
            dw[n][i][j][ci * 2 + m] = s > 0 ? s : 0;
          }
  /* avg 2x2 SAME on 5x4 -> 3x2 (last row window holds one row), then max 2x2 stride 1. */
  for (int n = 0; n < 2; n++)
    for (int c6 = 0; c6 < 6; c6++) {
      double av[3][2];
      for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++) {
          double s = 0;
          int cnt = 0;
          for (int a = 0; a < 2; a++)
            for (int b = 0; b < 2; b++)
              if (2 * i + a < 5) s += dw[n][2 * i + a][2 * j + b][c6], cnt++;
          av[i][j] = s / cnt;
        }
      for (int i = 0; i < 2; i++) {
        double m = fmax(fmax(av[i][0], av[i][1]), fmax(av[i + 1][0], av[i + 1][1]));
        CHECK_NEAR(tc_tensor_f32(y)[n * 12 + i * 6 + c6], m, 1e-4);
      }
    }
  tc_tensor_destroy(x);
  tc_net_destroy(net);
  /* Gradients on a smooth variant (no relu / max kinks for the finite differences). */
  tc_net_create(&net);
  tc_net_add(net, tc_layer_input(3, (int32_t[]){6, 5, 2}));
  tc_net_add(net, tc_layer_conv2d(3, 3, 2, TC_PADDING_SAME, TC_ACT_TANH));
  tc_layer_config dwc = tc_layer_depthwise_conv2d(2, 1, 2, TC_PADDING_SAME, TC_ACT_LINEAR);
  dwc.dilation_h = 2;
  CHECK_EQ(tc_net_add(net, dwc), TC_OK);
  tc_net_add(net, tc_layer_avg_pool2d(2, 1, TC_PADDING_VALID));
  tc_net_add(net, tc_layer_flatten());
  x = rand_persistent(4, (int32_t[]){2, 6, 5, 2}, 6);
  check_grads(net, x, 1, 2e-2);
  tc_tensor_destroy(x);
  tc_net_destroy(net);
}

TC_TEST(train_layers_batch_norm) {
  tc_net *net;
  tc_net_create(&net);
  tc_net_add(net, tc_layer_input(1, (int32_t[]){2}));
  CHECK_EQ(tc_net_add(net, tc_layer_batch_norm()), TC_OK);
  size_t tr, ntr;
  CHECK_EQ(tc_net_count_params(net, &tr, &ntr), 8);
  CHECK_EQ(tr, 4);
  CHECK_EQ(ntr, 4);
  float xv[8] = {1, 10, 2, 20, 3, 30, 6, 40};
  tc_tensor *x;
  tc_tensor_create_from(TC_DTYPE_F32, 2, (int32_t[]){4, 2}, xv, &x);
  tc_train_ctx *ctx = tc_net_ctx(net);
  tc_tensor *y;
  CHECK_EQ(tc_net_forward(net, ctx, 1, &x, 1, &y), TC_OK);
  /* Channel 0: mean 3, biased var (4+1+0+9)/4 = 3.5; y = (x - 3) / sqrt(3.5 + 1e-3). */
  CHECK_NEAR(tc_tensor_f32(y)[0], (1 - 3) / sqrt(3.5 + 1e-3), 1e-5);
  CHECK_NEAR(tc_tensor_f32(y)[6], (6 - 3) / sqrt(3.5 + 1e-3), 1e-5);
  /* Moving stats: 0.99 * init + 0.01 * batch. */
  const float *mm = tc_tensor_f32(tc_net_find_weight(net, "batch_normalization/moving_mean"));
  const float *mv = tc_tensor_f32(tc_net_find_weight(net, "batch_normalization/moving_variance"));
  CHECK_NEAR(mm[0], 0.03, 1e-6);
  CHECK_NEAR(mm[1], 0.25, 1e-6);
  CHECK_NEAR(mv[0], 0.99 + 0.035, 1e-6);
  /* Inference uses the moving statistics. */
  tc_train_ctx_step_reset(ctx);
  CHECK_EQ(tc_net_forward(net, ctx, 1, &x, 0, &y), TC_OK);
  CHECK_NEAR(tc_tensor_f32(y)[0], (1 - mm[0]) / sqrt(mv[0] + 1e-3), 1e-5);
  check_grads(net, x, 1, 3e-2);
  tc_tensor_destroy(x);
  tc_net_destroy(net);
}

TC_TEST(train_layers_embedding_add_concat) {
  tc_net *net;
  tc_net_create(&net);
  int in, e, a, b, s, cc, out;
  CHECK_EQ(tc_net_input(net, 1, (int32_t[]){3}, &in), TC_OK);
  CHECK_EQ(tc_net_call(net, tc_layer_embedding(5, 4), 1, &in, &e), TC_OK);
  CHECK_EQ(tc_net_call(net, tc_layer_dense(4, TC_ACT_SIGMOID), 1, &e, &a), TC_OK);
  CHECK_EQ(tc_net_call(net, tc_layer_dense(4, TC_ACT_LINEAR), 1, &e, &b), TC_OK);
  CHECK_EQ(tc_net_call(net, tc_layer_add(), 2, (int[]){a, b}, &s), TC_OK);
  CHECK_EQ(tc_net_call(net, tc_layer_concatenate(-1), 2, (int[]){s, e}, &cc), TC_OK);
  CHECK_EQ(tc_net_call(net, tc_layer_flatten(), 1, &cc, &out), TC_OK);
  int32_t d[8];
  CHECK_EQ(tc_net_layer_shape(net, cc, d), 2);
  CHECK(d[0] == 3 && d[1] == 8);
  /* Concatenate along the batch axis is rejected, naming the layer. */
  CHECK_EQ(tc_net_call(net, tc_layer_concatenate(0), 2, (int[]){s, e}, NULL), TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_net_errmsg(net), "concatenate_1 (Concatenate)");
  float xv[6] = {0, 4, 2, 1, 1, 3};
  tc_tensor *x;
  tc_tensor_create_from(TC_DTYPE_F32, 2, (int32_t[]){2, 3}, xv, &x);
  tc_train_ctx *ctx = tc_net_ctx(net);
  tc_tensor *y;
  CHECK_EQ(tc_net_forward(net, ctx, 1, &x, 0, &y), TC_OK);
  CHECK_EQ(tc_tensor_dim(y, 1), 24);
  const float *E = tc_tensor_f32(tc_net_find_weight(net, "embedding/embeddings"));
  for (int k = 0; k < 4; k++) CHECK(fabsf(E[k]) <= 0.05f);
  /* The second half of each time step is the embedding row itself. */
  for (int t = 0; t < 3; t++)
    for (int k = 0; k < 4; k++)
      CHECK_NEAR(tc_tensor_f32(y)[t * 8 + 4 + k], E[(int)xv[t] * 4 + k], 0);
  /* Out-of-range index -> runtime error naming the layer. */
  tc_tensor_f32(x)[2] = 7;
  tc_train_ctx_step_reset(ctx);
  CHECK(tc_net_forward(net, ctx, 1, &x, 0, &y) != TC_OK);
  CHECK_STR_CONTAINS(tc_net_errmsg(net), "embedding");
  tc_tensor_f32(x)[2] = 2;
  /* Gradients w.r.t. the weights (the integer input is not differentiable). */
  check_grads_x(net, x, 1, 2e-2, 0);
  char buf[4096];
  tc_net_summary(net, buf, sizeof buf);
  CHECK_STR_CONTAINS(buf, "Model: \"functional\"");
  CHECK_STR_CONTAINS(buf, "Connected to");
  CHECK_STR_CONTAINS(buf, "['dense[0][0]', 'dense_1[0][0]']");
  CHECK_STR_CONTAINS(buf, "input_layer (InputLayer)");
  tc_tensor_destroy(x);
  tc_net_destroy(net);
}

/* Naive LSTM/GRU forward in double with the layer's weights; returns the last h or all. */
static void rnn_ref(int lstm, const float *x, int N, int T, int F, int U, const float *W,
                    const float *R, const float *B, int seq, double *out) {
  int G = lstm ? 4 : 3;
  for (int n = 0; n < N; n++) {
    double h[16] = {0}, c[16] = {0};
    for (int t = 0; t < T; t++) {
      double zx[64], zh[64];
      for (int j = 0; j < G * U; j++) {
        zx[j] = B ? B[j] : 0;
        zh[j] = (!lstm && B) ? B[G * U + j] : 0;
        for (int i = 0; i < F; i++) zx[j] += (double)x[(n * T + t) * F + i] * W[i * G * U + j];
        for (int i = 0; i < U; i++) zh[j] += h[i] * R[i * G * U + j];
      }
      double hn[16];
      for (int u = 0; u < U; u++) {
        if (lstm) {
          double z[4];
          for (int g = 0; g < 4; g++) z[g] = zx[g * U + u] + zh[g * U + u];
          double i_ = 1 / (1 + exp(-z[0])), f = 1 / (1 + exp(-z[1])), g_ = tanh(z[2]),
                 o = 1 / (1 + exp(-z[3]));
          c[u] = f * c[u] + i_ * g_;
          hn[u] = o * tanh(c[u]);
        } else {
          double z = 1 / (1 + exp(-(zx[u] + zh[u]))), r = 1 / (1 + exp(-(zx[U + u] + zh[U + u])));
          double hh = tanh(zx[2 * U + u] + r * zh[2 * U + u]);
          hn[u] = z * h[u] + (1 - z) * hh;
        }
      }
      for (int u = 0; u < U; u++) {
        h[u] = hn[u];
        if (seq) out[((size_t)n * T + t) * U + u] = h[u];
      }
    }
    if (!seq)
      for (int u = 0; u < U; u++) out[n * U + u] = h[u];
  }
}

static void rnn_case(int lstm, int seq) {
  tc_net *net;
  tc_net_create(&net);
  tc_net_set_seed(net, 3);
  tc_net_add(net, tc_layer_input(2, (int32_t[]){4, 3}));
  tc_layer_config c = lstm ? tc_layer_lstm(5, seq) : tc_layer_gru(5, seq);
  c.bias_init = (tc_initializer){TC_INIT_UNIFORM, -0.5f, 0.5f};
  CHECK_EQ(tc_net_add(net, c), TC_OK);
  const float *W = tc_tensor_f32(tc_net_weight(net, 0, NULL));
  const float *R = tc_tensor_f32(tc_net_weight(net, 1, NULL));
  tc_tensor *Bt = tc_net_weight(net, 2, NULL);
  CHECK_EQ(tc_tensor_size(Bt), lstm ? 20 : 30);
  /* Orthogonal recurrent kernel: rows of [U, G*U] are orthonormal. */
  double dot = 0, nrm = 0;
  for (int j = 0; j < (lstm ? 20 : 15); j++) dot += (double)R[j] * R[(lstm ? 20 : 15) + j], nrm += (double)R[j] * R[j];
  CHECK_NEAR(dot, 0, 1e-5);
  CHECK_NEAR(nrm, 1, 1e-5);
  tc_tensor *x = rand_persistent(3, (int32_t[]){2, 4, 3}, 9);
  tc_train_ctx *ctx = tc_net_ctx(net);
  tc_tensor *y;
  CHECK_EQ(tc_net_forward(net, ctx, 1, &x, 0, &y), TC_OK);
  double ref[2 * 4 * 5];
  rnn_ref(lstm, tc_tensor_f32(x), 2, 4, 3, 5, W, R, tc_tensor_f32(Bt), seq, ref);
  CHECK_EQ(tc_tensor_size(y), seq ? 40 : 10);
  for (size_t i = 0; i < tc_tensor_size(y); i++) CHECK_NEAR(tc_tensor_f32(y)[i], ref[i], 1e-5);
  check_grads(net, x, 1, 2e-2);
  tc_tensor_destroy(x);
  tc_net_destroy(net);
}

TC_TEST(train_layers_lstm) {
  rnn_case(1, 0);
  rnn_case(1, 1);
}

TC_TEST(train_layers_gru) {
  rnn_case(0, 0);
  rnn_case(0, 1);
}

TC_TEST(train_layers_lstm_forget_bias) {
  tc_net *net;
  tc_net_create(&net);
  tc_net_add(net, tc_layer_input(2, (int32_t[]){2, 2}));
  tc_net_add(net, tc_layer_lstm(3, 0));
  const float *b = tc_tensor_f32(tc_net_find_weight(net, "lstm/bias"));
  for (int i = 0; i < 12; i++) CHECK_NEAR(b[i], (i >= 3 && i < 6) ? 1.0 : 0.0, 0);
  tc_net_destroy(net);
}

TC_TEST(train_layers_sequential_names_summary_errors) {
  tc_net *net;
  tc_net_create(&net);
  /* No Input: built lazily. */
  CHECK_EQ(tc_net_add(net, tc_layer_dense(16, TC_ACT_RELU)), TC_OK);
  CHECK_EQ(tc_net_add(net, tc_layer_dense(16, TC_ACT_RELU)), TC_OK);
  CHECK_EQ(tc_net_add(net, tc_layer_dropout(0.5f)), TC_OK);
  CHECK_EQ(tc_net_add(net, tc_layer_dense(1, TC_ACT_LINEAR)), TC_OK);
  CHECK(!tc_net_built(net));
  CHECK_EQ(tc_net_summary_print(net, stderr), TC_ERR_STATE);
  CHECK_EQ(tc_net_build(net, 1, (int32_t[]){1}), TC_OK);
  CHECK(!strcmp(tc_net_layer_config(net, 2)->name, "dense_1"));
  CHECK(!strcmp(tc_net_layer_config(net, 4)->name, "dense_2"));
  char buf[4096];
  size_t n = tc_net_summary(net, buf, sizeof buf);
  CHECK_EQ(n, strlen(buf));
  /* TFLM hello_world: 32 + 272 + 17 = 321 params, 1.25 KB. */
  CHECK_STR_CONTAINS(buf, "Model: \"sequential\"");
  CHECK_STR_CONTAINS(buf, " Layer (type)                Output Shape              Param #\n");
  CHECK_STR_CONTAINS(buf, " dense (Dense)               (None, 16)                32\n");
  CHECK_STR_CONTAINS(buf, " dense_1 (Dense)             (None, 16)                272\n");
  CHECK_STR_CONTAINS(buf, " dropout (Dropout)           (None, 16)                0\n");
  CHECK_STR_CONTAINS(buf, "Total params: 321 (1.25 KB)\n");
  CHECK_STR_CONTAINS(buf, "Trainable params: 321 (1.25 KB)\n");
  CHECK_STR_CONTAINS(buf, "Non-trainable params: 0 (0.00 Byte)\n");
  CHECK(strstr(buf, "InputLayer") == NULL);
  /* Truncated output stays terminated and reports the full length. */
  char small[20];
  CHECK_EQ(tc_net_summary(net, small, sizeof small), n);
  CHECK_EQ(strlen(small), 19);
  /* Wrong input shape at forward names both shapes. */
  tc_train_ctx *ctx = tc_net_ctx(net);
  tc_tensor *x, *y;
  tc_tensor_step(ctx, TC_DTYPE_F32, 2, (int32_t[]){3, 2}, NULL, &x);
  CHECK_EQ(tc_net_forward(net, ctx, 1, &x, 0, &y), TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_net_errmsg(net), "[3,2]");
  CHECK_STR_CONTAINS(tc_net_errmsg(net), "(None, 1)");
  tc_net_destroy(net);

  /* A layer that cannot take its input is reported at add time, naming it. */
  tc_net_create(&net);
  tc_net_add(net, tc_layer_input(1, (int32_t[]){8}));
  CHECK_EQ(tc_net_add(net, tc_layer_conv2d(4, 3, 1, TC_PADDING_VALID, TC_ACT_RELU)), TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_net_errmsg(net), "conv2d (Conv2D)");
  CHECK_STR_CONTAINS(tc_net_errmsg(net), "(None, 8)");
  CHECK_EQ(tc_net_add(net, tc_layer_reshape(2, (int32_t[]){3, -1})), TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_net_errmsg(net), "cannot reshape 8 elements");
  CHECK_EQ(tc_net_add(net, tc_layer_reshape(2, (int32_t[]){2, -1})), TC_OK);
  CHECK_EQ(tc_net_add(net, tc_layer_dropout(1.5f)), TC_ERR_ARG);
  CHECK_EQ(tc_net_add(net, tc_layer_dense(0, TC_ACT_RELU)), TC_ERR_ARG);
  tc_layer_config named = tc_layer_dense(2, TC_ACT_RELU);
  strcpy(named.name, tc_net_layer_config(net, 1)->name);
  CHECK_EQ(tc_net_add(net, named), TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_net_errmsg(net), "already used");
  /* Dense on [2, 4] acts on the last axis. */
  CHECK_EQ(tc_net_add(net, tc_layer_dense(3, TC_ACT_LINEAR)), TC_OK);
  int32_t d[8];
  CHECK_EQ(tc_net_layer_shape(net, 2, d), 2);
  CHECK(d[0] == 2 && d[1] == 3);
  tc_net_destroy(net);
}

TC_TEST(train_layers_gap_activation_seeded_init) {
  tc_net *a, *b;
  tc_net_create(&a);
  tc_net_create(&b);
  tc_net *nets[2] = {a, b};
  for (int k = 0; k < 2; k++) {
    tc_net_set_seed(nets[k], 11);
    tc_net_add(nets[k], tc_layer_input(3, (int32_t[]){4, 4, 3}));
    tc_layer_config c = tc_layer_conv2d(2, 1, 1, TC_PADDING_VALID, TC_ACT_LINEAR);
    c.kernel_init = (tc_initializer){TC_INIT_HE_NORMAL, 0, 0};
    tc_net_add(nets[k], c);
    tc_net_add(nets[k], tc_layer_global_avg_pool2d());
    tc_net_add(nets[k], tc_layer_activation(TC_ACT_SOFTMAX));
  }
  /* Same seed, same weights. */
  CHECK(!memcmp(tc_tensor_f32(tc_net_weight(a, 0, NULL)), tc_tensor_f32(tc_net_weight(b, 0, NULL)),
                6 * sizeof(float)));
  tc_tensor *x = rand_persistent(4, (int32_t[]){2, 4, 4, 3}, 4);
  tc_train_ctx *ctx = tc_net_ctx(a);
  tc_tensor *y;
  CHECK_EQ(tc_net_forward(a, ctx, 1, &x, 0, &y), TC_OK);
  CHECK_EQ(tc_tensor_rank(y), 2);
  CHECK_NEAR(tc_tensor_f32(y)[0] + tc_tensor_f32(y)[1], 1.0, 1e-6);
  check_grads(a, x, 1, 2e-2);
  tc_tensor_destroy(x);
  tc_net_destroy(a);
  tc_net_destroy(b);
}
