/* sine.c: TensorFlow Lite Micro's hello_world network (1 -> 16 -> 16 -> 1, ReLU) trained to
 * approximate y = sin(x) on x in [0, 2 pi) from 1000 noisy samples. It uses the lowest level of
 * the training API: parameters are plain tensors, the forward pass is three tc_dense calls, the
 * tape gives the gradients and an Adam optimizer updates them, a custom loop with no net and no
 * fit(). Prints the loss now and then and the final MSE against the exact sine.
 * usage: example_sine [epochs] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tensorc_train.h"

#define N 1000
#define BATCH 50
#define TWO_PI 6.28318530717958647692f

static float frand(unsigned *s) { return (float)((*s = *s * 1103515245u + 12345u) >> 8) / 16777216.0f; }

/* The network: x [B,1] -> relu(x W1 + b1) -> relu(. W2 + b2) -> . W3 + b3 -> [B,1]. */
static tc_status forward(tc_train_ctx *ctx, tc_tensor *const *p, tc_tensor *x, tc_tensor **y) {
  tc_tensor *h;
  tc_status st = tc_dense(ctx, x, p[0], p[1], &h);
  if (st == TC_OK) st = tc_relu(ctx, h, &h);
  if (st == TC_OK) st = tc_dense(ctx, h, p[2], p[3], &h);
  if (st == TC_OK) st = tc_relu(ctx, h, &h);
  if (st == TC_OK) st = tc_dense(ctx, h, p[4], p[5], y);
  return st;
}

/* Mean squared error of the net on n samples (no tape). */
static tc_status mse(tc_train_ctx *ctx, tc_tensor *const *p, float *xs, float *ys, int n, float *out) {
  tc_tensor *x, *t, *y, *d;
  int32_t dims[2] = {n, 1};
  tc_train_ctx_step_reset(ctx);
  tc_status st = tc_tensor_wrap(ctx, TC_DTYPE_F32, 2, dims, xs, &x);
  if (st == TC_OK) st = tc_tensor_wrap(ctx, TC_DTYPE_F32, 2, dims, ys, &t);
  if (st == TC_OK) st = forward(ctx, p, x, &y);
  if (st == TC_OK) st = tc_sub(ctx, y, t, &d);
  if (st == TC_OK) st = tc_square(ctx, d, &d);
  if (st == TC_OK) st = tc_reduce_mean(ctx, d, 0, NULL, 0, &d);
  if (st == TC_OK) *out = tc_tensor_item(d);
  return st;
}

int main(int argc, char **argv) {
  int epochs = argc > 1 ? atoi(argv[1]) : 300;
  static float xs[N], ys[N], xt[N], yt[N];
  unsigned seed = 1;
  for (int i = 0; i < N; i++) {
    xs[i] = frand(&seed) * TWO_PI;
    ys[i] = sinf(xs[i]) + 0.1f * (frand(&seed) + frand(&seed) + frand(&seed) - 1.5f);
    xt[i] = TWO_PI * (float)i / N; /* the test set: an even grid, exact sine */
    yt[i] = sinf(xt[i]);
  }
  const int32_t shapes[6][2] = {{1, 16}, {16, 1}, {16, 16}, {16, 1}, {16, 1}, {1, 1}};
  tc_tensor *p[6];
  tc_train_ctx *ctx = NULL;
  tc_optim *opt = NULL;
  tc_optim_config oc = tc_optim_adam(0.01f);
  if (tc_train_ctx_create(0, 1, &ctx) != TC_OK || tc_optim_create(&oc, &opt) != TC_OK) return 1;
  for (int i = 0; i < 6; i++) { /* kernels: Glorot uniform (Keras); biases: zeros */
    int rank = i % 2 ? 1 : 2;
    if (tc_tensor_create_param(rank, shapes[i], &p[i]) != TC_OK) return 1;
    if (rank == 2) tc_tensor_init(p[i], TC_INIT_GLOROT_UNIFORM, 0, 0, 100 + (uint64_t)i);
  }
  tc_status st = TC_OK;
  float loss = 0;
  for (int e = 0; e < epochs && st == TC_OK; e++) {
    for (int b = 0; b + BATCH <= N && st == TC_OK; b += BATCH) {
      tc_tensor *x, *t, *y, *d, *l, *g[6];
      int32_t dims[2] = {BATCH, 1};
      tc_train_ctx_step_reset(ctx);                        /* frees last step's tensors */
      st = tc_tensor_wrap(ctx, TC_DTYPE_F32, 2, dims, xs + b, &x);
      if (st == TC_OK) st = tc_tensor_wrap(ctx, TC_DTYPE_F32, 2, dims, ys + b, &t);
      tc_tape_start(ctx);
      if (st == TC_OK) st = forward(ctx, p, x, &y);      /* forward */
      if (st == TC_OK) st = tc_sub(ctx, y, t, &d);
      if (st == TC_OK) st = tc_square(ctx, d, &d);
      if (st == TC_OK) st = tc_reduce_mean(ctx, d, 0, NULL, 0, &l);
      tc_tape_stop(ctx);
      if (st == TC_OK) st = tc_gradient(ctx, l, 6, p, g); /* backward */
      if (st == TC_OK) st = tc_optim_apply(opt, 6, p, g); /* update */
      if (st == TC_OK) loss = tc_tensor_item(l);
    }
    if (st == TC_OK && (e + 1) % 50 == 0) printf("epoch %d: loss %.5f\n", e + 1, loss);
  }
  float test_mse = NAN;
  if (st == TC_OK) st = mse(ctx, p, xt, yt, N, &test_mse);
  if (st != TC_OK) fprintf(stderr, "error: %s: %s\n", tc_status_str(st), tc_train_ctx_errmsg(ctx));
  else printf("final MSE against sin(x): %.5f\n", test_mse);
  for (int i = 0; i < 6; i++) tc_tensor_destroy(p[i]);
  tc_optim_destroy(opt);
  tc_train_ctx_destroy(ctx);
  return st == TC_OK && test_mse < 0.05f ? 0 : 1;
}
