/* bench_train_ops.c: micro-benchmark of the training ops through the public API: matmul GFLOP/s
 * (256x784x128, the MNIST MLP's first layer at batch 256), dense forward+backward at the MLP's
 * batch 32, and conv2d forward/backward on the MNIST CNN's shapes. Each step resets the step
 * arena, as a training loop does. Build:
 *   cc -O2 -Iinclude bench/bench_train_ops.c -Lbuild-x -ltensorc -lm -lpthread
 * Run: ./a.out [seconds per case, default 1] [case] [threads]. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tensorc_train.h"

static int use_wall;

static double now(void) {
  struct timespec ts;
  clock_gettime(use_wall ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static tc_tensor *param(int rank, const int32_t *dims, uint64_t seed) {
  tc_tensor *t;
  if (tc_tensor_create_param(rank, dims, &t)) exit(1);
  tc_tensor_init(t, TC_INIT_GLOROT_UNIFORM, 0, 0, seed);
  return t;
}

static tc_tensor *data(int rank, const int32_t *dims, uint64_t seed) {
  tc_tensor *t;
  if (tc_tensor_create(TC_DTYPE_F32, rank, dims, &t)) exit(1);
  tc_tensor_init(t, TC_INIT_UNIFORM, 0, 1, seed);
  return t;
}

#define CHECK(x)                                                                           \
  do {                                                                                     \
    if ((x) != TC_OK) {                                                                    \
      fprintf(stderr, "%s failed: %s\n", #x, tc_train_ctx_errmsg(ctx));                   \
      exit(1);                                                                             \
    }                                                                                      \
  } while (0)

int main(int argc, char **argv) {
  double secs = argc > 1 ? atof(argv[1]) : 1.0;
  const char *only = argc > 2 ? argv[2] : ""; /* "matmul", "mlp", "conv1" or "conv2" */
  int threads = argc > 3 ? atoi(argv[3]) : 1;
  tc_train_ctx *ctx;
  if (tc_train_ctx_create(0, 1, &ctx)) return 1;
  if (tc_train_ctx_set_threads(ctx, threads > 0 ? threads : 1)) return 1;
  /* With threads the wall clock is what matters; single-threaded runs report CPU time (the
   * development machine is shared). */
  use_wall = threads > 1;

  /* 1. matmul forward only, 256x784 * 784x128. */
  if (!*only || !strcmp(only, "matmul")) {
    int32_t da[2] = {256, 784}, db[2] = {784, 128};
    tc_tensor *a = data(2, da, 1), *b = data(2, db, 2), *c;
    long it = 0;
    double t0 = now(), t;
    do {
      tc_train_ctx_step_reset(ctx);
      CHECK(tc_matmul(ctx, a, b, 0, 0, &c));
      it++;
    } while ((t = now() - t0) < secs);
    printf("matmul 256x784x128 fwd:        %7.2f GFLOP/s  (%.1f us/iter)\n",
           2.0 * 256 * 784 * 128 * it / t * 1e-9, t / it * 1e6);
    tc_tensor_destroy(a);
    tc_tensor_destroy(b);
  }
  /* 2. MLP step core: dense 784->128 relu dense 128->10 + softmax xent, fwd+bwd, batch 32. */
  if (!*only || !strcmp(only, "mlp")) {
    int32_t dx[2] = {32, 784}, dw1[2] = {784, 128}, db1[1] = {128}, dw2[2] = {128, 10},
            db2[1] = {10}, dl[1] = {32};
    tc_tensor *x = data(2, dx, 3), *w1 = param(2, dw1, 4), *b1 = param(1, db1, 5),
              *w2 = param(2, dw2, 6), *b2 = param(1, db2, 7), *lab;
    tc_tensor_create(TC_DTYPE_I32, 1, dl, &lab);
    for (int i = 0; i < 32; i++) tc_tensor_i32(lab)[i] = i % 10;
    tc_tensor *ps[4] = {w1, b1, w2, b2}, *gs[4], *h, *y, *loss;
    long it = 0;
    double t0 = now(), t;
    do {
      tc_train_ctx_step_reset(ctx);
      tc_tape_start(ctx);
      CHECK(tc_dense(ctx, x, w1, b1, &h));
      CHECK(tc_relu(ctx, h, &h));
      CHECK(tc_dense(ctx, h, w2, b2, &y));
      CHECK(tc_softmax_xent_sparse(ctx, y, lab, &loss, NULL));
      tc_tape_stop(ctx);
      CHECK(tc_gradient(ctx, loss, 4, ps, gs));
      it++;
    } while ((t = now() - t0) < secs);
    double flops = 3.0 * 2 * 32 * (784.0 * 128 + 128 * 10);
    printf("MLP fwd+bwd batch 32:          %7.2f GFLOP/s  (%.1f us/step, %.0f examples/s)\n",
           flops * it / t * 1e-9, t / it * 1e6, 32.0 * it / t);
    for (int i = 0; i < 4; i++) tc_tensor_destroy(ps[i]);
    tc_tensor_destroy(x);
    tc_tensor_destroy(lab);
  }
  /* 3. MNIST CNN convs at batch 64: conv1 1->32 on 28x28, conv2 32->64 on 13x13 (VALID 3x3). */
  {
    struct { int h, cin, cout; } cs[2] = {{28, 1, 32}, {13, 32, 64}};
    for (int k = 0; k < 2; k++) {
      if (*only && strcmp(only, k ? "conv2" : "conv1")) continue;
      int32_t dx[4] = {64, cs[k].h, cs[k].h, cs[k].cin}, dw[4] = {3, 3, cs[k].cin, cs[k].cout},
              dbias[1] = {cs[k].cout};
      tc_tensor *x = data(4, dx, 8), *w = param(4, dw, 9), *b = param(1, dbias, 10), *y, *s;
      if (k == 1) tc_tensor_set_trainable(x, 1); /* conv2 also needs dX */
      tc_conv_params p = {1, 1, 1, 1, TC_PADDING_VALID};
      int oh = cs[k].h - 2;
      double fl = 2.0 * 64 * oh * oh * cs[k].cout * 9 * cs[k].cin;
      long it = 0;
      double t0 = now(), t;
      do {
        tc_train_ctx_step_reset(ctx);
        CHECK(tc_conv2d(ctx, x, w, b, &p, &y));
        it++;
      } while ((t = now() - t0) < secs);
      printf("conv%d %dx%dx%d->%d fwd:         %7.2f GFLOP/s  (%.1f us)\n", k + 1, cs[k].h,
             cs[k].h, cs[k].cin, cs[k].cout, fl * it / t * 1e-9, t / it * 1e6);
      tc_tensor *ps[3] = {w, b, x}, *gs[3];
      int np = k == 1 ? 3 : 2;
      it = 0;
      t0 = now();
      do {
        tc_train_ctx_step_reset(ctx);
        tc_tape_start(ctx);
        CHECK(tc_conv2d(ctx, x, w, b, &p, &y));
        CHECK(tc_reduce_sum(ctx, y, 0, NULL, 0, &s));
        tc_tape_stop(ctx);
        CHECK(tc_gradient(ctx, s, (size_t)np, ps, gs));
        it++;
      } while ((t = now() - t0) < secs);
      double flb = fl * (k == 1 ? 3 : 2);
      printf("conv%d fwd+bwd%s:             %7.2f GFLOP/s  (%.1f us)\n", k + 1,
             k == 1 ? " (dW,dX)" : " (dW)   ", flb * it / t * 1e-9, t / it * 1e6);
      tc_tensor_destroy(x);
      tc_tensor_destroy(w);
      tc_tensor_destroy(b);
    }
  }
  printf("context capacity: %.1f MiB\n", tc_train_ctx_capacity(ctx) / 1048576.0);
  tc_train_ctx_destroy(ctx);
  return 0;
}
