/* bench_train_steps.c: full training steps of the two issue-5 workloads through the public API
 * (tc_net + tc_net_fit, Adam, verbose 0) on random data of MNIST shape, at each requested
 * thread count: MLP 784-128-ReLU-10 at batch 32 and the CNN (Conv32 3x3 relu, MaxPool2, Conv64
 * 3x3 relu, MaxPool2, Flatten, Dense128 relu, Dense10) at batch 64. Each repetition is one
 * epoch (one tc_net_fit call); it prints the median examples/s by wall clock and by the
 * process CPU time (user + system of all threads; on a shared machine the 1-thread CPU figure
 * is the stable one). Build (from the repository root, after building the library):
 *   cc -O2 -Iinclude bench/bench_train_steps.c build-x/libtensorc.a -lm -lpthread -lz \
 *      -o bench_train_steps
 * Run: ./bench_train_steps [mlp|cnn|all] [threads, e.g. 1,2] [repetitions] [examples/epoch] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tensorc_train.h"
#include "bench_clock.h"

static double clk(clockid_t id) {
  struct timespec ts;
  clock_gettime(id, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}


static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, bench_cmp_d);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

#define CK(x)                                                                                \
  do {                                                                                       \
    if ((x) != TC_OK) {                                                                      \
      fprintf(stderr, "%s failed: %s\n", #x, net ? tc_net_errmsg(net) : "");                \
      exit(1);                                                                               \
    }                                                                                        \
  } while (0)

static tc_net *make_net(int cnn) {
  tc_net *net = NULL;
  CK(tc_net_create(&net));
  tc_net_set_seed(net, 1);
  if (cnn) {
    int32_t in[3] = {28, 28, 1};
    CK(tc_net_add(net, tc_layer_input(3, in)));
    CK(tc_net_add(net, tc_layer_conv2d(32, 3, 1, TC_PADDING_VALID, TC_ACT_RELU)));
    CK(tc_net_add(net, tc_layer_max_pool2d(2, 0, TC_PADDING_VALID)));
    CK(tc_net_add(net, tc_layer_conv2d(64, 3, 1, TC_PADDING_VALID, TC_ACT_RELU)));
    CK(tc_net_add(net, tc_layer_max_pool2d(2, 0, TC_PADDING_VALID)));
    CK(tc_net_add(net, tc_layer_flatten()));
  } else {
    int32_t in[1] = {784};
    CK(tc_net_add(net, tc_layer_input(1, in)));
  }
  CK(tc_net_add(net, tc_layer_dense(128, TC_ACT_RELU)));
  CK(tc_net_add(net, tc_layer_dense(10, TC_ACT_LINEAR)));
  tc_metric_kind acc = TC_METRIC_ACCURACY;
  CK(tc_net_compile(net, tc_loss_make(TC_LOSS_SPARSE_CATEGORICAL_XENT, 1), tc_optim_adam(1e-3f),
                    1, &acc));
  return net;
}

static void run(int cnn, int threads, int reps, size_t n) {
  size_t in = cnn ? 28 * 28 : 784;
  float *x = malloc(n * in * sizeof(float)), *y = malloc(n * sizeof(float));
  if (!x || !y) exit(1);
  uint64_t s = 12345;
  for (size_t i = 0; i < n * in; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x[i] = (float)(s >> 40) * (1.0f / 16777216.0f);
  }
  for (size_t i = 0; i < n; i++) y[i] = (float)(i % 10);
  tc_net *net = make_net(cnn);
  CK(tc_train_ctx_set_threads(tc_net_ctx(net), threads));
  tc_data d = {x, y, n, 1};
  tc_fit_options fo = tc_fit_defaults();
  fo.batch_size = cnn ? 64 : 32;
  fo.verbose = 0;
  double wall[64], cpu[64];
  if (reps > 64) reps = 64;
  for (int r = -1; r < reps; r++) { /* r = -1: warm-up epoch */
    fo.initial_epoch = r + 1;
    fo.epochs = r + 2;
    double w0 = clk(CLOCK_MONOTONIC), c0 = clk(CLOCK_PROCESS_CPUTIME_ID);
    CK(tc_net_fit(net, &d, &fo, NULL));
    double w1 = clk(CLOCK_MONOTONIC), c1 = clk(CLOCK_PROCESS_CPUTIME_ID);
    if (r >= 0) {
      wall[r] = (double)n / (w1 - w0);
      cpu[r] = (double)n / (c1 - c0);
    }
  }
  double mw = median(wall, reps), mc = median(cpu, reps);
  printf("%s threads=%d: %8.0f examples/s (wall, median of %d epochs of %zu)  %8.0f examples/s "
         "per CPU-second  (%.1f us/step wall)\n",
         cnn ? "cnn" : "mlp", threads, mw, reps, n, mc, 1e6 * (double)fo.batch_size / mw);
  fflush(stdout);
  tc_net_destroy(net);
  free(x);
  free(y);
}

int main(int argc, char **argv) {
  const char *which = argc > 1 ? argv[1] : "all";
  const char *th = argc > 2 ? argv[2] : "1,2";
  int reps = argc > 3 ? atoi(argv[3]) : 5;
  long n_arg = argc > 4 ? atol(argv[4]) : 0;
  if (reps < 1) reps = 1;
  for (int cnn = 0; cnn < 2; cnn++) {
    if (strcmp(which, "all") && strcmp(which, cnn ? "cnn" : "mlp")) continue;
    size_t n = n_arg > 0 ? (size_t)n_arg : (cnn ? 1024 : 4096);
    char buf[64];
    snprintf(buf, sizeof buf, "%s", th);
    for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) run(cnn, atoi(t), reps, n);
  }
  return 0;
}
