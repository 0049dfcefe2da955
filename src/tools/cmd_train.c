/* cmd_train.c: `tensorc train SPEC`: trains a network described by a JSON spec file (layers,
 * loss, optimizer, metrics, data source, epochs, batch size, seed) through the public training
 * API (tensorc_train.h, tensorc_data.h), so a model can be trained without writing C. The spec
 * is parsed by train_spec.c into a plain struct first; this file loads the data, builds and
 * trains the network and prints the results. The last line printed is `test_<metric>=<value>`
 * for scripts. The spec format is documented in examples/specs/README.md. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "tensorc_data.h"
#include "train_spec.h"
#include "util.h"

int cmd_train(int argc, char **argv);

static void usage(FILE *f) {
  fputs("usage: tensorc train SPEC.json [options]\n"
        "Trains the network a JSON spec describes (layers, loss, optimizer, data, epochs), prints\n"
        "the summary, the progress, the final metrics and, as the last line,\n"
        "test_<first metric>=<value>.\n"
        "options:\n"
        "  --epochs N      override the spec's epoch count\n"
        "  --threads N     threads for matmul/conv (default 1)\n"
        "  --seed N        override the spec's seed (initialisation, shuffling, dropout)\n"
        "  -o FILE         write a checkpoint after training\n"
        "  --data DIR      look for the spec's data files in DIR (by file name)\n"
        "  --verbose 0|1|2 0 quiet, 1 progress bar (default), 2 one line per epoch\n"
        "The spec format is described in examples/specs/README.md.\n",
        f);
}

#ifndef TC_HAVE_CJSON

int cmd_train(int argc, char **argv) {
  if (argc > 1 && cli_is_help(argv[1])) {
    usage(stdout);
    return CLI_OK;
  }
  cli_err("train: this tensorc was built without cJSON, so it cannot read JSON specs "
          "(install libcjson-dev and rebuild)");
  return CLI_FAIL;
}

#else

/* ---- data ---------------------------------------------------------------------------------- */

typedef struct dataset {
  tc_tensor *x, *y;    /* train: features, labels (float32 for tc_data) */
  tc_tensor *tx, *ty;  /* test (may be NULL) */
} dataset;

static void dataset_free(dataset *d) {
  tc_tensor_destroy(d->x);
  tc_tensor_destroy(d->y);
  tc_tensor_destroy(d->tx);
  tc_tensor_destroy(d->ty);
  memset(d, 0, sizeof *d);
}

/* Replaces an int32 label tensor by its float32 copy (fit's tc_data holds floats). */
static tc_status to_f32(tc_tensor **t) {
  if (!*t || tc_tensor_dtype(*t) == TC_DTYPE_F32) return TC_OK;
  tc_tensor *f;
  tc_status st = tc_data_cast(*t, TC_DTYPE_F32, &f);
  if (st != TC_OK) return st;
  tc_tensor_destroy(*t);
  *t = f;
  return TC_OK;
}

static uint64_t rng_next(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

static double rng_uniform(uint64_t *s) { return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0); }

/* y = sin(x) + N(0, noise), x uniform in [0, 2 pi) (TFLM hello_world's data). */
static tc_status make_sine(int n, double noise, uint64_t *rng, tc_tensor **x, tc_tensor **y) {
  int32_t dims[2] = {n, 1};
  tc_status st = tc_tensor_create(TC_DTYPE_F32, 2, dims, x);
  if (st == TC_OK) st = tc_tensor_create(TC_DTYPE_F32, 2, dims, y);
  if (st != TC_OK) return st;
  for (int i = 0; i < n; i++) {
    double xv = rng_uniform(rng) * 6.283185307179586;
    double u1 = rng_uniform(rng) + 1e-12, u2 = rng_uniform(rng);
    double g = sqrt(-2 * log(u1)) * cos(6.283185307179586 * u2);
    tc_tensor_f32(*x)[i] = (float)xv;
    tc_tensor_f32(*y)[i] = (float)(sin(xv) + noise * g);
  }
  return TC_OK;
}

/* Standardizes the columns of x (and tx) with the mean and stddev of x. */
static void standardize(tc_tensor *x, tc_tensor *tx) {
  int32_t n = tc_tensor_dim(x, 0), f = tc_tensor_dim(x, 1);
  float *v = tc_tensor_f32(x);
  for (int32_t c = 0; c < f; c++) {
    double s = 0, s2 = 0;
    for (int32_t r = 0; r < n; r++) s += v[(size_t)r * f + c];
    double mean = s / n;
    for (int32_t r = 0; r < n; r++) s2 += (v[(size_t)r * f + c] - mean) * (v[(size_t)r * f + c] - mean);
    double sd = sqrt(s2 / n);
    if (sd < 1e-12) sd = 1;
    for (int32_t r = 0; r < n; r++) v[(size_t)r * f + c] = (float)((v[(size_t)r * f + c] - mean) / sd);
    if (tx) {
      float *t = tc_tensor_f32(tx);
      for (int32_t r = 0; r < tc_tensor_dim(tx, 0); r++)
        t[(size_t)r * f + c] = (float)((t[(size_t)r * f + c] - mean) / sd);
    }
  }
}

static int load_data(const train_spec *s, dataset *d) {
  char err[1200];
  tc_status st = TC_OK;
  memset(d, 0, sizeof *d);
  if (s->format == DATA_MNIST) {
    st = tc_data_load_mnist(s->images, s->labels, s->train_first, s->train_count, &d->x, &d->y,
                            err, sizeof err);
    if (st == TC_OK && s->test_count > 0)
      st = tc_data_load_mnist(s->images, s->labels, s->test_first, s->test_count, &d->tx, &d->ty,
                              err, sizeof err);
  } else if (s->format == DATA_CSV) {
    tc_csv_options o = TC_CSV_OPTIONS_DEFAULT;
    o.delimiter = s->csv_delimiter;
    o.header = s->csv_header;
    o.label = s->csv_label[0] ? s->csv_label : NULL;
    o.label_index = s->csv_label_index;
    o.label_dtype = s->loss.kind == TC_LOSS_SPARSE_CATEGORICAL_XENT ? TC_DTYPE_I32 : TC_DTYPE_F32;
    tc_tensor *x = NULL, *y = NULL;
    st = tc_data_read_csv(s->csv, &o, &x, &y, err, sizeof err);
    if (st == TC_OK) {
      int32_t n = tc_tensor_dim(x, 0);
      int32_t n_test = (int32_t)floor(n * s->test_split);
      if (n_test > 0) {
        /* Shuffle before splitting: sklearn files are sorted by class. */
        st = tc_data_shuffle(x, y, s->seed ^ 0x5eed);
        if (st == TC_OK) st = tc_data_rows(x, 0, n - n_test, &d->x);
        if (st == TC_OK) st = tc_data_rows(y, 0, n - n_test, &d->y);
        if (st == TC_OK) st = tc_data_rows(x, n - n_test, n_test, &d->tx);
        if (st == TC_OK) st = tc_data_rows(y, n - n_test, n_test, &d->ty);
        tc_tensor_destroy(x);
        tc_tensor_destroy(y);
      } else {
        d->x = x, d->y = y;
      }
      if (st != TC_OK) snprintf(err, sizeof err, "%s: %s", s->csv, tc_status_str(st));
      else if (s->standardize) standardize(d->x, d->tx);
    }
  } else {
    uint64_t rng = s->seed * 0x9E3779B97F4A7C15ull + 1;
    st = make_sine(s->sine_train, s->sine_noise, &rng, &d->x, &d->y);
    if (st == TC_OK && s->sine_test > 0) st = make_sine(s->sine_test, 0, &rng, &d->tx, &d->ty);
    if (st != TC_OK) snprintf(err, sizeof err, "sine data: %s", tc_status_str(st));
  }
  if (st == TC_OK) st = to_f32(&d->y);
  if (st == TC_OK) st = to_f32(&d->ty);
  if (st != TC_OK) {
    cli_err("train: data: %s", err);
    dataset_free(d);
    return 0;
  }
  return 1;
}

/* ---- training ------------------------------------------------------------------------------ */

/* Times each epoch (begin to end) for the examples/s figure. */
typedef struct epoch_timer {
  double start_us;
  double secs[4096];
  int n;
} epoch_timer;

static tc_status timer_begin(tc_callback *cb, tc_net *net, int epoch) {
  ((epoch_timer *)cb->user)->start_us = cli_now_us();
  return TC_OK;
}

static tc_status timer_end(tc_callback *cb, tc_net *net, int epoch, const tc_logs *logs) {
  epoch_timer *t = cb->user;
  if (t->n < 4096) t->secs[t->n++] = (cli_now_us() - t->start_us) / 1e6;
  return TC_OK;
}

/* User + system CPU time of this process (all threads), in seconds. On a busy machine the CPU
 * time of a 1-thread run is a steadier measure of the work than the wall time. */
static double cpu_seconds(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
         ((double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_usec) / 1e6;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void fmt_shape(const tc_tensor *t, char *buf, size_t size) {
  cli_fmt_dims(tc_tensor_dims(t) + 1, tc_tensor_rank(t) - 1, buf, size);
}

static int run(const train_spec *s, long threads, int verbose, const char *ckpt) {
  dataset d;
  if (!load_data(s, &d)) return CLI_FAIL;
  char shape[64];
  fmt_shape(d.x, shape, sizeof shape);
  printf("data: %d training samples of %s", tc_tensor_dim(d.x, 0), shape);
  if (d.tx) printf(", %d test samples", tc_tensor_dim(d.tx, 0));
  printf("\n");

  int rc = CLI_FAIL;
  tc_net *net = NULL;
  tc_status st = tc_net_create(&net);
  if (st != TC_OK) {
    cli_err("train: %s", tc_status_str(st));
    goto out;
  }
  tc_net_set_name(net, s->name);
  tc_net_set_seed(net, s->seed);
  int32_t in_dims[TC_MAX_DIMS];
  int in_rank = s->input_rank;
  if (in_rank) {
    memcpy(in_dims, s->input_dims, sizeof in_dims);
  } else {
    in_rank = tc_tensor_rank(d.x) - 1;
    memcpy(in_dims, tc_tensor_dims(d.x) + 1, (size_t)in_rank * sizeof in_dims[0]);
  }
  size_t in_size = 1, data_size = tc_tensor_size(d.x) / (size_t)tc_tensor_dim(d.x, 0);
  for (int i = 0; i < in_rank; i++) in_size *= (size_t)in_dims[i];
  if (in_size != data_size) {
    cli_err("train: spec: input_shape has %zu elements per sample but the data has %zu (%s)",
            in_size, data_size, shape);
    goto out;
  }
  st = tc_net_add(net, tc_layer_input(in_rank, in_dims));
  for (int i = 0; st == TC_OK && i < s->n_layers; i++) {
    st = tc_net_add(net, s->layers[i]);
    if (st != TC_OK) cli_err("train: spec: layers[%d]: %s", i, tc_net_errmsg(net));
  }
  /* Normally a no-op (the Input layer built the net); reports shape errors before training. */
  if (st == TC_OK && (st = tc_net_build(net, in_rank, in_dims)) != TC_OK)
    cli_err("train: spec: %s", tc_net_errmsg(net));
  if (st != TC_OK) goto out;
  st = tc_net_compile(net, s->loss, s->optim, s->n_metrics, s->metrics);
  if (st != TC_OK) {
    cli_err("train: compile: %s", tc_net_errmsg(net));
    goto out;
  }
  if (tc_train_ctx_set_threads(tc_net_ctx(net), (int)threads) != TC_OK) {
    cli_err("train: cannot start %ld threads", threads);
    goto out;
  }
  fflush(stdout);
  tc_net_summary_print(net, stdout);
  fflush(stdout);

  size_t n = (size_t)tc_tensor_dim(d.x, 0);
  /* y_size is given explicitly so that fit checks it against the net's output. */
  size_t y_size = tc_tensor_size(d.y) / n;
  tc_data train = {tc_tensor_f32(d.x), tc_tensor_f32(d.y), n, y_size};
  static epoch_timer timer;
  memset(&timer, 0, sizeof timer);
  tc_callback tcb = {0};
  tcb.user = &timer;
  tcb.on_epoch_begin = timer_begin;
  tcb.on_epoch_end = timer_end;
  tc_callback *cbs[1] = {&tcb};
  tc_fit_options fo = tc_fit_defaults();
  fo.epochs = s->epochs;
  fo.batch_size = (size_t)s->batch_size;
  fo.shuffle = s->shuffle;
  fo.seed = s->seed;
  fo.validation_split = (float)s->validation_split;
  fo.verbose = verbose;
  fo.n_callbacks = 1;
  fo.callbacks = cbs;
  tc_history hist;
  memset(&hist, 0, sizeof hist);
  double t0 = cli_now_us(), c0 = cpu_seconds();
  st = tc_net_fit(net, &train, &fo, &hist);
  double fit_s = (cli_now_us() - t0) / 1e6, fit_cpu = cpu_seconds() - c0;
  long peak_kib = cli_peak_rss_kib();
  if (st != TC_OK) {
    cli_err("train: fit: %s: %s", tc_status_str(st), tc_net_errmsg(net));
    tc_history_free(&hist);
    goto out;
  }
  /* Final training metrics (last epoch). */
  for (int k = 0; k < hist.n_keys; k++)
    if (hist.n_epochs > 0)
      printf("%s%s=%.6g\n", strncmp(hist.keys[k], "val_", 4) ? "train_" : "", hist.keys[k],
             hist.values[k][hist.n_epochs - 1]);
  tc_history_free(&hist);

  /* Examples/s like the PyTorch peer: the median epoch time over the epochs after the first. */
  size_t n_fit = n - (size_t)floor((double)n * s->validation_split);
  double med = 0;
  if (timer.n > 0) {
    int first = timer.n > 1 ? 1 : 0;
    qsort(timer.secs + first, (size_t)(timer.n - first), sizeof timer.secs[0], cmp_double);
    med = timer.secs[first + (timer.n - first) / 2];
    if ((timer.n - first) % 2 == 0) med = (med + timer.secs[first + (timer.n - first) / 2 - 1]) / 2;
  }

  const char *metric = s->n_metrics ? tc_metric_name(s->metrics[0]) : "loss";
  double final = NAN;
  int have_final = 0;
  if (d.tx) {
    tc_data test = {tc_tensor_f32(d.tx), tc_tensor_f32(d.ty), (size_t)tc_tensor_dim(d.tx, 0),
                    y_size};
    tc_logs logs;
    memset(&logs, 0, sizeof logs);
    st = tc_net_evaluate(net, &test, 500, 0, &logs);
    if (st != TC_OK) {
      cli_err("train: evaluate: %s: %s", tc_status_str(st), tc_net_errmsg(net));
      goto out;
    }
    for (int k = 0; k < logs.n; k++)
      if (strcmp(logs.keys[k], metric)) printf("test_%s=%.6g\n", logs.keys[k], logs.values[k]);
    have_final = tc_logs_get(&logs, metric, &final);
  }
  if (ckpt) {
    st = tc_net_save(net, ckpt);
    if (st != TC_OK) {
      cli_err("train: cannot write the checkpoint %s: %s", ckpt, tc_net_errmsg(net));
      goto out;
    }
    printf("checkpoint=%s\n", ckpt);
  }
  printf("train_seconds=%.3f\n", fit_s);
  printf("train_cpu_seconds=%.3f\n", fit_cpu);
  if (med > 0) printf("train_examples_per_sec=%.1f\n", (double)n_fit / med);
  printf("peak_rss_mb=%.1f\n", (double)peak_kib / 1024.0);
  if (have_final) printf("test_%s=%.6g\n", metric, final);
  else printf("test_%s=nan\n", metric); /* no test split in the spec */
  rc = CLI_OK;
out:
  fflush(stdout);
  tc_net_destroy(net);
  dataset_free(&d);
  return rc;
}

/* ---- command line -------------------------------------------------------------------------- */


int cmd_train(int argc, char **argv) {
  const char *spec_path = NULL, *ckpt = NULL, *data_dir = NULL, *v;
  long epochs = 0, threads = 1, verbose = 1, seed = -1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (cli_is_help(a)) {
      usage(stdout);
      return CLI_OK;
    } else if (!strcmp(a, "--epochs")) {
      if (!(v = cli_opt_value(argc, argv, &i)) || !cli_parse_long(v, 1, 1000000, "--epochs", &epochs))
        return CLI_USAGE;
    } else if (!strcmp(a, "--threads")) {
      if (!(v = cli_opt_value(argc, argv, &i)) || !cli_parse_long(v, 1, 1024, "--threads", &threads))
        return CLI_USAGE;
    } else if (!strcmp(a, "--seed")) {
      if (!(v = cli_opt_value(argc, argv, &i)) || !cli_parse_long(v, 0, 0x7fffffffL, "--seed", &seed))
        return CLI_USAGE;
    } else if (!strcmp(a, "--verbose")) {
      if (!(v = cli_opt_value(argc, argv, &i)) || !cli_parse_long(v, 0, 2, "--verbose", &verbose))
        return CLI_USAGE;
    } else if (!strcmp(a, "-o")) {
      if (!(ckpt = cli_opt_value(argc, argv, &i))) return CLI_USAGE;
    } else if (!strcmp(a, "--data")) {
      if (!(data_dir = cli_opt_value(argc, argv, &i))) return CLI_USAGE;
    } else if (a[0] == '-' && a[1]) {
      cli_err("train: unknown option '%s' (see tensorc train --help)", a);
      return CLI_USAGE;
    } else if (spec_path) {
      cli_err("train: only one SPEC may be given");
      return CLI_USAGE;
    } else {
      spec_path = a;
    }
  }
  if (!spec_path) {
    usage(stderr);
    return CLI_USAGE;
  }
  char *text = train_spec_read_text(spec_path);
  if (!text) {
    cli_err("train: cannot read the spec %s", spec_path);
    return CLI_FAIL;
  }
  char spec_dir[SPEC_PATH];
  snprintf(spec_dir, sizeof spec_dir, "%s", spec_path);
  char *slash = strrchr(spec_dir, '/');
  if (slash) *slash = 0;
  else spec_dir[0] = 0;

  static jctx j;
  static train_spec s;
  memset(&j, 0, sizeof j);
  int ok = train_spec_parse(&j, text, spec_dir, data_dir, &s);
  free(text);
  if (!ok) {
    cli_err("train: %s: %s", spec_path, j.err);
    return CLI_FAIL;
  }
  if (epochs) s.epochs = (int)epochs;
  if (seed >= 0) s.seed = (uint64_t)seed;
  if (verbose > 0 && j.defaulted[0]) fprintf(stderr, "spec: defaulted: %s\n", j.defaulted);
  if (j.unused[0]) fprintf(stderr, "spec: unused keys (ignored): %s\n", j.unused);
  return run(&s, threads, (int)verbose, ckpt);
}

#endif /* TC_HAVE_CJSON */
