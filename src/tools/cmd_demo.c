/* cmd_demo.c: `tensorc demo [--out DIR]`: the train -> export -> quantize -> run loop in one
 * command that needs no files. It trains TensorFlow Lite Micro's hello_world network (1 -> 16
 * -> 16 -> 1, ReLU) on generated y = sin(x), x in [0, 2 pi), with fit's progress bar, saves the
 * checkpoint, exports DIR/sine_float.tflite, quantizes it to DIR/sine_int8.tflite (int8 inputs
 * and outputs, calibrated on generated x), runs both with tensorc's interpreter and prints
 * sizes, errors against sin(x) on a test grid and median latencies. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tensorc_export.h"
#include "tensorc_train.h"
#include "util.h"

int cmd_demo(int argc, char **argv);
/* cmd_convert.c: float values in and out of a model whose input/output may be int8. */
tc_status cvt_set_input(tc_interp *it, const float *x, size_t n);
tc_status cvt_get_output(tc_interp *it, float *y, size_t n);

#define TWO_PI 6.28318530717958647692
#define N_TRAIN 30000
#define N_CALIB 500
#define N_TEST 1000

static void help(FILE *f) {
  fprintf(f,
          "usage: tensorc demo [--out DIR] [--epochs N] [--seed N]\n\n"
          "Trains a small network on y = sin(x) (generated data, no files needed), exports it\n"
          "as DIR/sine_float.tflite, quantizes it to DIR/sine_int8.tflite (int8 inputs and\n"
          "outputs), runs both with tensorc and compares sizes, errors and latencies.\n\n"
          "options:\n"
          "  --out DIR    output folder (default ./tensorc-demo; created if needed)\n"
          "  --epochs N   training epochs over %d samples (default 10)\n"
          "  --seed N     seed of the data, the initial weights and the shuffling (default 1)\n",
          N_TRAIN);
}

static double urand(uint64_t *s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return (double)(*s >> 11) / 9007199254740992.0;
}

typedef struct row {
  const char *name;
  long size, weights; /* file bytes, constant-data bytes */
  double max_err, mean_err, lat_us;
} row;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static long file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void errors(const float *x, const float *y, int n, row *r) {
  r->max_err = r->mean_err = 0;
  for (int i = 0; i < n; i++) {
    double e = fabs((double)y[i] - sin((double)x[i]));
    if (e > r->max_err) r->max_err = e;
    r->mean_err += e / n;
  }
}

/* Runs a .tflite file on every test x (one sample per invoke) and fills the row. */
static int run_tflite(const char *path, const float *x, int n, row *r) {
  tc_model *m = NULL;
  tc_interp *it = NULL;
  float *y = malloc((size_t)n * sizeof(float));
  double *t = malloc((size_t)n * sizeof(double));
  int rc = CLI_FAIL;
  if (!y || !t || cli_open(path, NULL, &m, &it, NULL) != CLI_OK) goto done;
  for (int i = 0; i < n; i++) {
    if (cvt_set_input(it, &x[i], 1)) {
      cli_err("demo: %s: cannot set the input", path);
      goto done;
    }
    double t0 = cli_now_us();
    tc_status s = tc_interp_invoke(it);
    t[i] = cli_now_us() - t0;
    if (s || cvt_get_output(it, &y[i], 1)) {
      cli_err("demo: %s: %s", path, tc_interp_errmsg(it));
      goto done;
    }
  }
  errors(x, y, n, r);
  qsort(t, (size_t)n, sizeof *t, cmp_double);
  r->lat_us = t[n / 2];
  r->size = file_size(path);
  r->weights = (long)tc_model_weights_size(m);
  rc = CLI_OK;
done:
  free(y);
  free(t);
  tc_interp_destroy(it);
  tc_model_destroy(m);
  return rc;
}

static tc_status calib_sample(void *user, int k, int input, float *data, size_t n) {
  (void)user;
  if (input != 0 || n != 1 || k < 0 || k >= N_CALIB) return TC_ERR_ARG;
  data[0] = (float)(TWO_PI * (k + 0.5) / N_CALIB);
  return TC_OK;
}

int cmd_demo(int argc, char **argv) {
  const char *dir = "tensorc-demo";
  long epochs = 10, seed = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (cli_is_help(a)) {
      help(stdout);
      return CLI_OK;
    } else if (!strcmp(a, "--out") || !strcmp(a, "-o")) {
      if (!(dir = cli_opt_value(argc, argv, &i))) return CLI_USAGE;
    } else if (!strcmp(a, "--epochs")) {
      if (!(v = cli_opt_value(argc, argv, &i)) || !cli_parse_long(v, 1, 10000, "--epochs", &epochs))
        return CLI_USAGE;
    } else if (!strcmp(a, "--seed")) {
      if (!(v = cli_opt_value(argc, argv, &i)) || !cli_parse_long(v, 0, 1L << 30, "--seed", &seed))
        return CLI_USAGE;
    } else {
      cli_err("demo: unknown argument '%s' (see tensorc demo --help)", a);
      return CLI_USAGE;
    }
  }
  if (mkdir(dir, 0777) != 0) {
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
      cli_err("demo: cannot create the folder %s", dir);
      return CLI_FAIL;
    }
  }
  char ckpt[1100], fpath[1100], qpath[1100];
  snprintf(ckpt, sizeof ckpt, "%s/sine.ckpt", dir);
  snprintf(fpath, sizeof fpath, "%s/sine_float.tflite", dir);
  snprintf(qpath, sizeof qpath, "%s/sine_int8.tflite", dir);

  static float xs[N_TRAIN], ys[N_TRAIN], xt[N_TEST], yt[N_TEST];
  uint64_t rng = (uint64_t)seed * 2654435761u + 1;
  for (int i = 0; i < N_TRAIN; i++) {
    xs[i] = (float)(urand(&rng) * TWO_PI);
    ys[i] = (float)sin((double)xs[i]);
  }
  for (int i = 0; i < N_TEST; i++) xt[i] = (float)(TWO_PI * (i + 0.5) / N_TEST);

  tc_net *net = NULL;
  tc_graphdef *fg = NULL, *qg = NULL;
  int rc = CLI_FAIL;
  double t_start = cli_now_us();
  /* Adam with a cosine decay of the rate over the whole run: fast at first, then settling. */
  tc_optim_config optim = tc_optim_adam(0.01f);
  optim.schedule = tc_schedule_cosine(0.01f, (int64_t)epochs * ((N_TRAIN + 31) / 32), 0.01f);
  tc_status s = tc_net_create(&net);
  if (s) goto fail;
  tc_net_set_name(net, "sine");
  tc_net_set_seed(net, (uint64_t)seed);
  if ((s = tc_net_add(net, tc_layer_input(1, (const int32_t[]){1}))) ||
      (s = tc_net_add(net, tc_layer_dense(16, TC_ACT_RELU))) ||
      (s = tc_net_add(net, tc_layer_dense(16, TC_ACT_RELU))) ||
      (s = tc_net_add(net, tc_layer_dense(1, TC_ACT_LINEAR))) ||
      (s = tc_net_compile(net, tc_loss_make(TC_LOSS_MSE, 0), optim, 1,
                          (const tc_metric_kind[]){TC_METRIC_MAE})))
    goto fail;
  printf("1. train y = sin(x) on %d generated samples, x in [0, 2 pi)\n\n", N_TRAIN);
  fflush(stdout);
  tc_net_summary_print(net, stdout);
  fflush(stdout);
  tc_data data = {xs, ys, N_TRAIN, 0};
  tc_fit_options fo = tc_fit_defaults();
  fo.epochs = (int)epochs;
  fo.batch_size = 32;
  fo.seed = (uint64_t)seed;
  fo.verbose = 1;
  fo.progress = stdout;
  if ((s = tc_net_fit(net, &data, &fo, NULL))) goto fail;
  if ((s = tc_net_save(net, ckpt))) goto fail;

  printf("\n2. export %s, quantize %s (int8 inputs and outputs, %d calibration x)\n", fpath,
         qpath, N_CALIB);
  if ((s = tc_net_export(net, &fg))) {
    cli_err("demo: export: %s", fg ? tc_graphdef_errmsg(fg) : tc_status_str(s));
    goto done;
  }
  if ((s = tc_graphdef_write_file(fg, fpath))) {
    cli_err("demo: %s", tc_graphdef_errmsg(fg));
    goto done;
  }
  tc_quant_options qo;
  memset(&qo, 0, sizeof qo);
  qo.mode = TC_QUANT_INT8;
  qo.int8_io = 1;
  qo.fc_per_tensor = 1; /* like TFLM hello_world: one scale per weight tensor */
  qo.n_samples = N_CALIB;
  qo.sample = calib_sample;
  if ((s = tc_quantize(fg, &qo, &qg)) || (s = tc_graphdef_write_file(qg, qpath))) {
    cli_err("demo: quantize: %s", qg ? tc_graphdef_errmsg(qg) : tc_status_str(s));
    goto done;
  }

  printf("\n3. run on %d test x (an even grid) and compare with sin(x)\n\n", N_TEST);
  size_t n_params = tc_net_count_params(net, NULL, NULL);
  row rows[3] = {{"trained net (sine.ckpt)", file_size(ckpt), (long)(n_params * 4), 0, 0, 0},
                 {"sine_float.tflite", 0, 0, 0, 0, 0},
                 {"sine_int8.tflite", 0, 0, 0, 0, 0}};
  if ((s = tc_net_predict(net, xt, N_TEST, 256, yt))) goto fail;
  errors(xt, yt, N_TEST, &rows[0]);
  double tt[N_TEST];
  for (int i = 0; i < N_TEST; i++) {
    double t0 = cli_now_us();
    tc_net_predict(net, &xt[i], 1, 1, &yt[i]);
    tt[i] = cli_now_us() - t0;
  }
  qsort(tt, N_TEST, sizeof *tt, cmp_double);
  rows[0].lat_us = tt[N_TEST / 2];
  if (run_tflite(fpath, xt, N_TEST, &rows[1]) || run_tflite(qpath, xt, N_TEST, &rows[2]))
    goto done;
  printf("%-24s %8s %8s %11s %11s %13s\n", "model", "bytes", "weights", "max |err|",
         "mean |err|", "latency (us)");
  for (int i = 0; i < 3; i++)
    printf("%-24s %8ld %8ld %11.4f %11.4f %13.2f\n", rows[i].name, rows[i].size, rows[i].weights,
           rows[i].max_err, rows[i].mean_err, rows[i].lat_us);
  printf("\n(|err| against sin(x); latency: median of %d single-sample calls, tc_net_predict for\n"
         "the trained net, tc_interp_invoke for the files; weights: bytes of constant data. A\n"
         "%zu-parameter net is mostly file structure: the int8 weights are about 1/4 of the\n"
         "float ones, the int32 biases and quantization parameters take the rest.)\n",
         N_TEST, n_params);
  printf("done in %.1f s. Next: tensorc inspect %s, tensorc run %s,\n"
         "or export the checkpoint yourself: tensorc convert %s -o sine.tflite\n",
         (cli_now_us() - t_start) / 1e6, qpath, qpath, ckpt);
  rc = CLI_OK;
  goto done;
fail:
  cli_err("demo: %s: %s", tc_status_str(s), net ? tc_net_errmsg(net) : "");
done:
  tc_graphdef_destroy(qg);
  tc_graphdef_destroy(fg);
  tc_net_destroy(net);
  return rc;
}
