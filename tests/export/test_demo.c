/* test_demo.c: end-to-end tests of `tensorc demo` and `tensorc convert`. The demo must finish
 * quickly, write both files (the int8 one with int8 input and output) and print a table whose
 * errors against sin(x) are small and equal for the trained net and the float file. convert
 * turns checkpoints written here (tc_net_save) into float, int8, dynamic-range and float16
 * files that run like tc_net_predict, refuses bad usage with exit status 2 and unexportable
 * nets with a message; on a short-trained MNIST CNN, --evaluate reports the float and int8
 * accuracy, and official TFLite (tests/export/peer_tflite.sh; TC_SKIP_PEER=1 skips) reproduces
 * the int8 outputs saved by --save-io within 1 LSB and the float ones within 1e-5. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tc_test.h"
#include "tensorc_data.h"
#include "tensorc_lite.h"
#include "tensorc_train.h"

static char g_out[1 << 16];
static char g_dir[64];

static int cli(const char *args) { return tc_test_cli(args, g_out, sizeof g_out); }

static int setup(void) {
  snprintf(g_dir, sizeof g_dir, "/tmp/tc_export_cli_XXXXXX");
  return mkdtemp(g_dir) != NULL;
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (system(cmd) != 0) fprintf(stderr, "  (could not remove %s)\n", g_dir);
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Reads the numbers after the row label `name` in the demo table. */
static int table_row(const char *name, double *v, int n) {
  char key[80];
  snprintf(key, sizeof key, "\n%s ", name); /* a row starts a line */
  const char *p = strstr(g_out, key);
  if (!p) return 0;
  p += strlen(key);
  for (int i = 0; i < n; i++) {
    char *end;
    v[i] = strtod(p, &end);
    if (end == p) return 0;
    p = end;
  }
  return 1;
}

static tc_interp *open_model(const char *path, tc_model **m) {
  tc_interp *it = NULL;
  *m = NULL;
  if (tc_model_load_file(path, NULL, m) || tc_interp_create(*m, NULL, &it) ||
      tc_interp_prepare(it)) {
    CHECK_MSG(0, "%s: %s %s", path, *m ? tc_model_errmsg(*m) : "", it ? tc_interp_errmsg(it) : "");
    tc_interp_destroy(it);
    return NULL;
  }
  return it;
}

TC_TEST(export_demo_runs) {
  if (!setup()) {
    CHECK_MSG(0, "cannot create a temporary folder");
    return;
  }
  char args[1024], path[256];
  snprintf(args, sizeof args, "demo --out '%s/d'", g_dir);
  double t0 = now_s();
  int rc = cli(args);
  double secs = now_s() - t0;
  CHECK_MSG(rc == 0, "demo exit %d: %s", rc, g_out);
  CHECK_MSG(secs < 30, "demo took %.1f s", secs);
  CHECK_STR_CONTAINS(g_out, "Epoch 10/10");
  /* columns: bytes, weights, max |err|, mean |err|, latency */
  double tr[5], fl[5], q8[5];
  CHECK(table_row("trained net (sine.ckpt)", tr, 5));
  CHECK(table_row("sine_float.tflite", fl, 5));
  CHECK(table_row("sine_int8.tflite", q8, 5));
  CHECK_MSG(tr[2] < 0.2 && tr[3] < 0.05, "trained net error max %g mean %g", tr[2], tr[3]);
  CHECK_NEAR(fl[2], tr[2], 1e-4);
  CHECK_NEAR(fl[3], tr[3], 1e-4);
  CHECK_MSG(q8[2] < 0.25 && q8[3] < 0.06, "int8 error max %g mean %g", q8[2], q8[3]);
  CHECK_EQ((long)fl[1], 321 * 4);
  CHECK(q8[1] < fl[1] / 2 && q8[0] < fl[0]);
  /* The int8 file has int8 input and output. */
  tc_model *m;
  snprintf(path, sizeof path, "%s/d/sine_int8.tflite", g_dir);
  tc_interp *it = open_model(path, &m);
  if (it) {
    tc_tensor_info ti, to;
    tc_interp_tensor(it, tc_interp_input_index(it, 0), &ti);
    tc_interp_tensor(it, tc_interp_output_index(it, 0), &to);
    CHECK_EQ(ti.dtype, TC_DTYPE_I8);
    CHECK_EQ(to.dtype, TC_DTYPE_I8);
    CHECK_EQ(ti.n_scales, 1);
  }
  tc_interp_destroy(it);
  tc_model_destroy(m);
  snprintf(path, sizeof path, "%s/d/sine.ckpt", g_dir);
  CHECK(access(path, R_OK) == 0);
  snprintf(path, sizeof path, "%s/d/sine_float.tflite", g_dir);
  CHECK(access(path, R_OK) == 0);
  CHECK_EQ(cli("demo --bogus"), 2);
  /* convert the demo's checkpoint with a `tensorc train` spec as representative data. */
  char spec[160];
  snprintf(spec, sizeof spec, "%s/sine.json", g_dir);
  FILE *f = fopen(spec, "w");
  if (f) {
    fputs("{\"data\": {\"format\": \"sine\", \"train\": 100}}\n", f);
    fclose(f);
  }
  snprintf(args, sizeof args, "convert '%s/d/sine.ckpt' -o '%s/s8.tflite' --quantize int8 "
           "--representative '%s' --max-samples 64", g_dir, g_dir, spec);
  int rc2 = cli(args);
  if (!strstr(g_out, "without cJSON")) {
    CHECK_MSG(rc2 == 0, "exit %d: %s", rc2, g_out);
    CHECK_STR_CONTAINS(g_out, "64 calibration samples");
  }
  teardown();
}

/* A small conv net with BN and dropout, saved as a checkpoint. */
static void write_ckpt(const char *path, int lstm) {
  tc_net *net;
  tc_net_create(&net);
  tc_net_set_seed(net, 2);
  if (lstm) {
    tc_net_add(net, tc_layer_input(2, (int32_t[]){4, 3}));
    tc_net_add(net, tc_layer_lstm(3, 0));
  } else {
    tc_net_add(net, tc_layer_input(3, (int32_t[]){6, 6, 1}));
    tc_net_add(net, tc_layer_conv2d(4, 3, 1, TC_PADDING_SAME, TC_ACT_LINEAR));
    tc_net_add(net, tc_layer_batch_norm());
    tc_net_add(net, tc_layer_activation(TC_ACT_RELU));
    tc_net_add(net, tc_layer_max_pool2d(2, 0, TC_PADDING_VALID));
    tc_net_add(net, tc_layer_flatten());
    tc_net_add(net, tc_layer_dropout(0.2f));
  }
  tc_net_add(net, tc_layer_dense(3, TC_ACT_SOFTMAX));
  tc_net_compile(net, tc_loss_make(TC_LOSS_MSE, 0), tc_optim_adam(1e-3f), 0, NULL);
  CHECK_EQ(tc_net_save(net, path), TC_OK);
  tc_net_destroy(net);
}

TC_TEST(export_convert_cli) {
  if (!setup()) {
    CHECK_MSG(0, "cannot create a temporary folder");
    return;
  }
  char ck[128], lk[128], args[1024], path[160];
  snprintf(ck, sizeof ck, "%s/net.ckpt", g_dir);
  snprintf(lk, sizeof lk, "%s/lstm.ckpt", g_dir);
  write_ckpt(ck, 0);
  write_ckpt(lk, 1);
  /* Reference outputs from the checkpoint itself. */
  tc_net *net = NULL;
  char err[256];
  CHECK_EQ(tc_net_load(ck, &net, err, sizeof err), TC_OK);
  float x[36], ref[3];
  for (int i = 0; i < 36; i++) x[i] = (float)((i * 7) % 11) / 11.0f;
  if (net) CHECK_EQ(tc_net_predict(net, x, 1, 1, ref), TC_OK);
  tc_net_destroy(net);
  const char *modes[4] = {"", "--quantize int8 --representative random:30",
                          "--quantize dynamic", "--quantize float16"};
  const double tol[4] = {1e-6, 0.05, 1e-5, 2e-3};
  for (int k = 0; k < 4; k++) {
    snprintf(path, sizeof path, "%s/out_%d.tflite", g_dir, k);
    snprintf(args, sizeof args, "convert '%s' -o '%s' %s", ck, path, modes[k]);
    int rc = cli(args);
    CHECK_MSG(rc == 0, "%s: exit %d: %s", args, rc, g_out);
    CHECK_STR_CONTAINS(g_out, "operators");
    tc_model *m;
    tc_interp *it = open_model(path, &m);
    if (it) {
      float y[3];
      CHECK_EQ(tc_interp_set_input(it, 0, x, sizeof x), TC_OK);
      CHECK_EQ(tc_interp_invoke(it), TC_OK);
      CHECK_EQ(tc_interp_get_output(it, 0, y, sizeof y), TC_OK);
      for (int i = 0; i < 3; i++)
        CHECK_MSG(fabs(y[i] - ref[i]) <= tol[k], "mode %d: output %d %g vs %g", k, i, y[i], ref[i]);
    }
    tc_interp_destroy(it);
    tc_model_destroy(m);
  }
  /* Errors. */
  snprintf(args, sizeof args, "convert '%s'", ck);
  CHECK_EQ(cli(args), 2); /* no -o */
  snprintf(args, sizeof args, "convert '%s' -o '%s/x.tflite' --quantize int8", ck, g_dir);
  CHECK_EQ(cli(args), 2);
  CHECK_STR_CONTAINS(g_out, "--representative");
  snprintf(args, sizeof args, "convert '%s' -o '%s/x.tflite' --quantize int4", ck, g_dir);
  CHECK_EQ(cli(args), 2);
  snprintf(args, sizeof args, "convert '%s/missing.ckpt' -o '%s/x.tflite'", g_dir, g_dir);
  CHECK_EQ(cli(args), 1);
  snprintf(args, sizeof args, "convert '%s' -o '%s/x.tflite'", lk, g_dir);
  CHECK_EQ(cli(args), 1);
  CHECK_STR_CONTAINS(g_out, "not exportable yet");
  snprintf(args, sizeof args, "convert '%s' -o '%s/x.tflite' --evaluate iris:foo", ck, g_dir);
  CHECK_EQ(cli(args), 1);
  CHECK_STR_CONTAINS(g_out, "mnist:");
  teardown();
}

static int peer_skipped(void) {
  const char *s = getenv("TC_SKIP_PEER");
  return s && !strcmp(s, "1");
}

static const char *peer_script(void) {
  static char p[512];
  snprintf(p, sizeof p, "%s", __FILE__);
  char *slash = strrchr(p, '/');
  if (slash) snprintf(slash + 1, sizeof p - (size_t)(slash + 1 - p), "peer_tflite.sh");
  return p;
}

/* A CNN trained briefly on 1,000 MNIST images, converted to int8 with --evaluate on 500 test
 * images; official TFLite then runs 5 saved inputs. */
TC_TEST(export_convert_mnist_int8_peer) {
  if (!setup()) {
    CHECK_MSG(0, "cannot create a temporary folder");
    return;
  }
  const char *img = tc_test_shared("data/datasets/mnist/t10k-images-idx3-ubyte.gz");
  const char *lab = tc_test_shared("data/datasets/mnist/t10k-labels-idx1-ubyte.gz");
  tc_tensor *x = NULL, *y = NULL, *yf = NULL;
  if (tc_data_load_mnist(img, lab, 0, 1000, &x, &y, NULL, 0) != TC_OK) {
    CHECK_MSG(0, "cannot read %s", img);
    teardown();
    return;
  }
  tc_data_cast(y, TC_DTYPE_F32, &yf);
  tc_net *net;
  tc_net_create(&net);
  tc_net_set_seed(net, 1);
  tc_net_add(net, tc_layer_input(3, (int32_t[]){28, 28, 1}));
  tc_net_add(net, tc_layer_conv2d(8, 3, 1, TC_PADDING_VALID, TC_ACT_RELU));
  tc_net_add(net, tc_layer_max_pool2d(2, 0, TC_PADDING_VALID));
  tc_net_add(net, tc_layer_flatten());
  tc_net_add(net, tc_layer_dense(10, TC_ACT_LINEAR));
  tc_net_compile(net, tc_loss_make(TC_LOSS_SPARSE_CATEGORICAL_XENT, 1), tc_optim_adam(2e-3f), 0,
                 NULL);
  tc_data d = {tc_tensor_f32_const(x), tc_tensor_f32_const(yf), 1000, 0};
  tc_fit_options fo = tc_fit_defaults();
  fo.epochs = 2;
  fo.verbose = 0;
  CHECK_EQ(tc_net_fit(net, &d, &fo, NULL), TC_OK);
  char ck[128], args[2048];
  snprintf(ck, sizeof ck, "%s/cnn.ckpt", g_dir);
  CHECK_EQ(tc_net_save(net, ck), TC_OK);
  tc_net_destroy(net);
  tc_tensor_destroy(x);
  tc_tensor_destroy(y);
  tc_tensor_destroy(yf);
  snprintf(args, sizeof args,
           "convert '%s' -o '%s/cnn_int8.tflite' --quantize int8 --inputs int8 "
           "--representative 'mnist:%s:200' --evaluate 'mnist:%s:8000:500' --save-io '%s/io:5'",
           ck, g_dir, img, img, g_dir);
  int rc = cli(args);
  CHECK_MSG(rc == 0, "exit %d: %s", rc, g_out);
  const char *p = strstr(g_out, "accuracy_float=");
  const char *q = strstr(g_out, "accuracy_out=");
  CHECK(p && q);
  if (p && q) {
    double af = strtod(p + 15, NULL), aq = strtod(q + 13, NULL);
    CHECK_MSG(af > 0.7, "float accuracy %g", af);
    CHECK_MSG(aq > af - 0.02, "int8 accuracy %g vs float %g", aq, af);
  }
  if (peer_skipped()) {
    printf("  TC_SKIP_PEER=1: official TFLite comparison skipped\n");
    teardown();
    return;
  }
  int worst = 0;
  for (int k = 0; k < 5; k++) {
    char cmd[2048], po[256], to[256];
    snprintf(cmd, sizeof cmd, "TC_SHARED_DIR='%s' sh '%s' '%s/cnn_int8.tflite' '%s/peer' "
             "'%s/io/input_%d.bin' > '%s/peer.log' 2>&1",
             TC_SHARED_DIR, peer_script(), g_dir, g_dir, g_dir, k, g_dir);
    int st = system(cmd);
    CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "official TFLite failed (exit %d; see %s)",
              WIFEXITED(st) ? WEXITSTATUS(st) : -1, "peer.log");
    snprintf(po, sizeof po, "%s/peer/output_0.bin", g_dir);
    snprintf(to, sizeof to, "%s/io/output_%d.bin", g_dir, k);
    size_t np = 0, nt = 0;
    signed char *a = tc_test_read_file(po, &np), *b = tc_test_read_file(to, &nt);
    CHECK(a && b && np == 10 && nt == 10);
    for (size_t i = 0; a && b && i < np && i < nt; i++)
      if (abs(a[i] - b[i]) > worst) worst = abs(a[i] - b[i]);
    free(a);
    free(b);
  }
  printf("  official TFLite vs tensorc int8 CNN logits: max %d LSB over 5 images\n", worst);
  CHECK_MSG(worst <= 1, "official TFLite differs by %d LSB", worst);
  /* The float export too: within 1e-5 of the largest logit. */
  snprintf(args, sizeof args,
           "convert '%s' -o '%s/cnn_float.tflite' --evaluate 'mnist:%s:8000:2' --save-io '%s/fio:1'",
           ck, g_dir, img, g_dir);
  CHECK_EQ(cli(args), 0);
  char cmd[2048], po[256], to[256];
  snprintf(cmd, sizeof cmd, "TC_SHARED_DIR='%s' sh '%s' '%s/cnn_float.tflite' '%s/fpeer' "
           "'%s/fio/input_0.bin' > '%s/peer.log' 2>&1",
           TC_SHARED_DIR, peer_script(), g_dir, g_dir, g_dir, g_dir);
  int st = system(cmd);
  CHECK_MSG(WIFEXITED(st) && WEXITSTATUS(st) == 0, "official TFLite failed on the float model");
  snprintf(po, sizeof po, "%s/fpeer/output_0.bin", g_dir);
  snprintf(to, sizeof to, "%s/fio/output_0.bin", g_dir);
  size_t np = 0, nt = 0;
  float *a = tc_test_read_file(po, &np), *b = tc_test_read_file(to, &nt);
  CHECK(a && b && np == 40 && nt == 40);
  if (a && b && np == 40 && nt == 40) {
    double mx = 1e-6, err = 0;
    for (int i = 0; i < 10; i++) {
      if (fabs(b[i]) > mx) mx = fabs(b[i]);
      if (fabs(a[i] - b[i]) > err) err = fabs(a[i] - b[i]);
    }
    printf("  official TFLite vs tensorc float CNN logits: %.2g relative\n", err / mx);
    CHECK_MSG(err / mx <= 1e-5, "float logits differ by %g relative", err / mx);
  }
  free(a);
  free(b);
  teardown();
}
