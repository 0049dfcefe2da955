/* cmd_quantize.c: `tensorc quantize MODEL.tflite -o OUT.tflite --mode int8|dynamic|float16`:
 * post-training quantization of a float .tflite file through the public export API
 * (tensorc_export.h). The representative dataset (int8 mode, and --report) is read here: image
 * files (resized to the model's input, normalized like `tensorc run`), .npy or raw float32 .bin
 * files holding one or more samples, or `random:N`. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tensorc_export.h"
#include "repdata.h"
#include "util.h"

int cmd_quantize(int argc, char **argv);

static void help(FILE *f) {
  fprintf(f,
          "usage: tensorc quantize MODEL.tflite -o OUT.tflite [options]\n\n"
          "Post-training quantization of a float model.\n\n"
          "options:\n"
          "  -o, --output FILE        the quantized model (required)\n"
          "  --mode MODE              int8 (default): int8 weights (per channel) and activations,\n"
          "                           calibrated on --representative; dynamic: int8 CONV_2D\n"
          "                           weights, float activations; float16: float16 weights\n"
          "  --representative LIST    comma-separated files or folders: images (.png .jpg .bmp,\n"
          "                           resized to the input, see --norm), .npy or raw float32 .bin\n"
          "                           (one or more samples each), or random:N (uniform [-1,1))\n"
          "  --norm MODE              image scaling: -1_1 (default, (p-127.5)/127.5), 0_1, raw\n"
          "  --max-samples N          use at most N samples (default 200)\n"
          "  --inputs float|int8      int8 mode: model inputs/outputs stay float32 (default,\n"
          "                           QUANTIZE/DEQUANTIZE at the edges) or become int8\n"
          "  --percentile P           int8 mode: clip activation ranges to the central P%%\n"
          "                           (e.g. 99.99) instead of min/max\n"
          "  --fc-per-tensor          int8 mode: one scale for FULLY_CONNECTED weights\n"
          "  --report                 per-layer SQNR (dB) of the quantized model against the float\n"
          "                           one on the representative data\n");
}

typedef struct samples {
  int n, cap;
  size_t numel;
  float **data;
} samples;

static int push_sample(samples *s, const float *v) {
  if (s->n == s->cap) {
    int nc = s->cap ? 2 * s->cap : 16;
    float **nd = realloc(s->data, (size_t)nc * sizeof *nd);
    if (!nd) return 1;
    s->data = nd;
    s->cap = nc;
  }
  float *c = malloc(s->numel * sizeof(float));
  if (!c) return 1;
  memcpy(c, v, s->numel * sizeof(float));
  s->data[s->n++] = c;
  return 0;
}

static int load_image(const char *path, const tc_tensor_info *t, int norm, samples *s, int max) {
  int h, w, c;
  const int32_t *d = t->dims;
  if (t->n_dims == 4 && d[0] == 1) h = d[1], w = d[2], c = d[3];
  else if (t->n_dims == 3 && d[0] == 1) h = d[1], w = d[2], c = 1;
  else h = w = c = 0;
  if (h <= 0 || w <= 0 || (c != 1 && c != 3)) {
    cli_err("%s: input '%s' does not look like an image ([1,H,W,C] with C 1 or 3)", path, t->name);
    return 1;
  }
  cli_image sized;
  if (cli_image_load_sized(path, w, h, &sized)) return 1;
  float *v = malloc(s->numel * sizeof(float));
  if (!v) return free(sized.rgb), 1;
  cli_image_to_floats(&sized, c, norm, v);
  free(sized.rgb);
  int rc = s->n < max ? push_sample(s, v) : 0;
  free(v);
  return rc;
}

static int load_floats(const char *path, const float *v, size_t n, samples *s, int max) {
  if (n == 0 || n % s->numel) {
    cli_err("%s: %zu floats is not a multiple of the input's %zu elements", path, n, s->numel);
    return 1;
  }
  for (size_t k = 0; k < n / s->numel && s->n < max; k++)
    if (push_sample(s, v + k * s->numel)) return cli_err("out of memory"), 1;
  return 0;
}

static int load_file(const char *path, const tc_tensor_info *t, int norm, samples *s, int max) {
  if (image_is_path(path)) return load_image(path, t, norm, s, max);
  if (cli_has_ext(path, ".npy")) {
    cli_array a;
    char err[256];
    if (npy_read(path, &a, err, sizeof err)) return cli_err("%s: %s", path, err), 1;
    int rc;
    if (a.dtype != TC_DTYPE_F32) {
      cli_err("%s: expected float32 data, got %s", path, tc_dtype_name(a.dtype));
      rc = 1;
    } else {
      rc = load_floats(path, a.data, a.n_elems, s, max);
    }
    free(a.data);
    return rc;
  }
  void *v;
  long size;
  int got = cli_read_file(path, &v, &size), rc = 1;
  if (got < 0) return 1;
  if (got) {
    if (size % 4) cli_err("%s: %ld bytes is not a whole number of float32 values", path, size);
    else rc = load_floats(path, v, (size_t)size / 4, s, max);
  } else {
    cli_err("cannot read %s", path);
  }
  free(v);
  return rc;
}

static int load_path(const char *path, const tc_tensor_info *t, int norm, samples *s, int max) {
  struct stat st;
  if (!strncmp(path, "random:", 7)) {
    long n;
    if (!cli_parse_long(path + 7, 1, 100000, "random:N", &n)) return 1;
    uint64_t state = 12345;
    float *v = malloc(s->numel * sizeof(float));
    if (!v) return 1;
    for (long k = 0; k < n && s->n < max; k++) {
      cli_fill_random(v, TC_DTYPE_F32, s->numel, &state);
      if (push_sample(s, v)) return free(v), 1;
    }
    free(v);
    return 0;
  }
  if (stat(path, &st) != 0) return cli_err("cannot find %s", path), 1;
  if (!S_ISDIR(st.st_mode)) return load_file(path, t, norm, s, max);
  char **names;
  int n, rc = 0;
  if (cli_list_sample_files(path, &names, &n)) return 1;
  for (int i = 0; i < n; i++) {
    if (!rc && s->n < max) rc = load_file(names[i], t, norm, s, max);
    free(names[i]);
  }
  free(names);
  if (!rc && n == 0) return cli_err("%s holds no image, .npy or .bin file", path), 1;
  return rc;
}

static tc_status sample_cb(void *user, int k, int input, float *data, size_t n) {
  samples *s = user;
  if (input != 0 || k < 0 || k >= s->n || n != s->numel) return TC_ERR_ARG;
  memcpy(data, s->data[k], n * sizeof(float));
  return TC_OK;
}

int cmd_quantize(int argc, char **argv) {
  const char *model = NULL, *out = NULL;
  int r;
  cli_calib_opts cal = {NULL, CLI_NORM_PM1, 200, 0};
  tc_quant_options qo;
  memset(&qo, 0, sizeof qo);
  qo.mode = TC_QUANT_INT8;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (cli_is_help(a)) {
      help(stdout);
      return CLI_OK;
    } else if ((r = cli_parse_calib_option(argc, argv, &i, &cal, &qo)) != 0) {
      if (r < 0) return CLI_USAGE;
    } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
      if (!(out = cli_opt_value(argc, argv, &i))) return CLI_USAGE;
    } else if (!strcmp(a, "--mode")) {
      if (!(v = cli_opt_value(argc, argv, &i))) return CLI_USAGE;
      if (!cli_parse_quant_mode("--mode", v, &qo)) return CLI_USAGE;
    } else if (!strcmp(a, "--fc-per-tensor")) {
      qo.fc_per_tensor = 1;
    } else if (a[0] == '-') {
      cli_err("quantize: unknown option '%s' (see tensorc quantize --help)", a);
      return CLI_USAGE;
    } else if (!model) {
      model = a;
    } else {
      cli_err("quantize: more than one model given ('%s', '%s')", model, a);
      return CLI_USAGE;
    }
  }
  if (!model || !out) {
    help(stderr);
    return CLI_USAGE;
  }
  if ((qo.mode == TC_QUANT_INT8 || cal.report) && !cal.repr) {
    cli_err("quantize: %s needs --representative (images, .npy/.bin files or random:N)",
            qo.mode == TC_QUANT_INT8 ? "--mode int8" : "--report");
    return CLI_USAGE;
  }
  tc_model *m = NULL;
  tc_interp *it = NULL;
  tc_graphdef *fg = NULL, *qg = NULL;
  samples smp = {0, 0, 0, NULL};
  tc_quant_layer *layers = NULL;
  int n_layers = 0, rc = CLI_FAIL;
  if (cli_open(model, NULL, &m, &it, NULL) != CLI_OK) goto done;
  if (cal.repr) {
    if (tc_interp_input_count(it) != 1) {
      cli_err("quantize: --representative supports single-input models only (this one has %d)",
              tc_interp_input_count(it));
      goto done;
    }
    tc_tensor_info t;
    tc_interp_tensor(it, tc_interp_input_index(it, 0), &t);
    if (t.dtype != TC_DTYPE_F32) {
      cli_err("quantize: input '%s' is %s, expected a float32 model", t.name, tc_dtype_name(t.dtype));
      goto done;
    }
    smp.numel = cli_elem_count(&t);
    char *list = strdup(cal.repr), *save = NULL;
    int bad = !list;
    for (char *p = list ? strtok_r(list, ",", &save) : NULL; p && !bad; p = strtok_r(NULL, ",", &save))
      bad = load_path(p, &t, cal.norm, &smp, (int)cal.max);
    free(list);
    if (bad) goto done;
    if (smp.n == 0) {
      cli_err("quantize: no representative samples found in '%s'", cal.repr);
      goto done;
    }
    qo.n_samples = smp.n;
    qo.sample = sample_cb;
    qo.user = &smp;
  }
  tc_status s = tc_graphdef_from_model(m, &fg);
  if (s) {
    cli_err("quantize: %s: %s", model, fg ? tc_graphdef_errmsg(fg) : tc_status_str(s));
    goto done;
  }
  double t0 = cli_now_us();
  s = tc_quantize(fg, &qo, &qg);
  double t1 = cli_now_us();
  if (s) {
    cli_err("quantize: %s", qg ? tc_graphdef_errmsg(qg) : tc_status_str(s));
    goto done;
  }
  if ((s = tc_graphdef_write_file(qg, out))) {
    cli_err("quantize: %s", tc_graphdef_errmsg(qg));
    goto done;
  }
  long fs = cli_file_size(model), qs = cli_file_size(out);
  printf("%s: %s, %d calibration samples, %.1f s\n", out,
         qo.mode == TC_QUANT_INT8 ? "int8" : qo.mode == TC_QUANT_DYNAMIC ? "dynamic range" : "float16",
         qo.n_samples, (t1 - t0) / 1e6);
  printf("size: %ld -> %ld bytes (%.1f%%)\n", fs, qs, fs > 0 ? 100.0 * (double)qs / (double)fs : 0.0);
  if (cal.report) {
    if ((s = tc_quant_report(fg, qg, &qo, &layers, &n_layers))) {
      cli_err("quantize --report: %s", tc_graphdef_errmsg(qg));
      goto done;
    }
    printf("\n%-4s %-20s %10s %12s  %s\n", "#", "op", "SQNR dB", "max |err|", "tensor");
    for (int i = 0; i < n_layers; i++) {
      const char *op = tc_builtin_name(layers[i].builtin);
      printf("%-4d %-20s %10.2f %12.5g  %s\n", i, op ? op : "?", layers[i].sqnr_db,
             layers[i].max_abs_err, layers[i].name);
    }
  }
  rc = CLI_OK;
done:
  tc_export_free(layers);
  for (int i = 0; i < smp.n; i++) free(smp.data[i]);
  free(smp.data);
  tc_graphdef_destroy(qg);
  tc_graphdef_destroy(fg);
  tc_interp_destroy(it);
  tc_model_destroy(m);
  return rc;
}
