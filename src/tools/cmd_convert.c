/* cmd_convert.c: `tensorc convert CHECKPOINT -o MODEL.tflite`: rebuilds a trained net from its
 * checkpoint (tensorc_train.h), exports it as a float TFLite model (tc_net_export) and
 * optionally quantizes it (tc_quantize: int8, dynamic range, float16) on representative data
 * read here (MNIST IDX files, .npy / raw float32 .bin / image files, folders, random:N, or the
 * data section of a `tensorc train` spec).
 * --evaluate measures accuracy and tensorc latency of the checkpoint, the float model and the
 * written model on MNIST images; --save-io writes inputs and tensorc's outputs for comparisons
 * with other runtimes. cvt_set_input/cvt_get_output are shared with cmd_demo.c. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef TC_HAVE_CJSON
#include <cJSON.h>
#endif

#include "tensorc_data.h"
#include "tensorc_export.h"
#include "tensorc_train.h"
#include "repdata.h"
#include "util.h"

int cmd_convert(int argc, char **argv);
tc_status cvt_set_input(tc_interp *it, const float *x, size_t n);
tc_status cvt_get_output(tc_interp *it, float *y, size_t n);

static void help(FILE *f) {
  fprintf(f,
          "usage: tensorc convert CHECKPOINT -o MODEL.tflite [options]\n\n"
          "Exports a network trained with tensorc (a checkpoint from `tensorc train -o` or\n"
          "tc_net_save) as a TensorFlow Lite model, float or quantized.\n\n"
          "options:\n"
          "  -o, --output FILE         the .tflite file to write (required)\n"
          "  --quantize MODE           int8: int8 weights (per channel) and activations,\n"
          "                            calibrated on --representative; dynamic: int8 CONV_2D\n"
          "                            weights, float activations; float16: float16 weights\n"
          "  --representative LIST     comma-separated calibration data: mnist:IMAGES[:N] (the\n"
          "                            first N images of an IDX file, .gz or plain; default 200),\n"
          "                            .npy or raw float32 .bin files (one or more samples each),\n"
          "                            images (.png .jpg .bmp; see --norm), folders of those, or\n"
          "                            random:N (uniform [-1,1)), or a `tensorc train` SPEC.json\n"
          "                            (its mnist training images, or sine x values)\n"
          "  --norm MODE               image scaling: 0_1 (default, p/255), -1_1, raw\n"
          "  --max-samples N           use at most N calibration samples (default 500)\n"
          "  --inputs float|int8       int8: model inputs/outputs float32 (default, with\n"
          "                            QUANTIZE/DEQUANTIZE at the edges) or int8\n"
          "  --percentile P            int8: clip activation ranges to the central P%%\n"
          "  --report                  per-layer SQNR of the quantized model on the calibration data\n"
          "  --evaluate mnist:IMAGES[:FIRST[:COUNT]]\n"
          "                            accuracy and median latency of the checkpoint, the float\n"
          "                            model and the written model on COUNT images from FIRST\n"
          "                            (labels: the IDX file named like IMAGES with labels-idx1)\n"
          "  --save-io DIR[:N]         with --evaluate: write the written model's inputs\n"
          "                            DIR/input_<k>.bin and tensorc's outputs DIR/output_<k>.bin\n"
          "                            for the first N evaluation images (default 10)\n");
}

/* ---- float I/O on possibly quantized models -------------------------------------------- */

tc_status cvt_set_input(tc_interp *it, const float *x, size_t n) {
  tc_tensor_info t;
  tc_status s = tc_interp_tensor(it, tc_interp_input_index(it, 0), &t);
  if (s) return s;
  if (cli_elem_count(&t) != n) return TC_ERR_ARG;
  if (t.dtype == TC_DTYPE_F32) return tc_interp_set_input(it, 0, x, n * sizeof(float));
  if (t.dtype != TC_DTYPE_I8 || t.n_scales != 1) return TC_ERR_UNSUPPORTED;
  int8_t *q = t.data;
  float sc = t.scales[0];
  int64_t zp = t.zero_points ? t.zero_points[0] : 0;
  for (size_t i = 0; i < n; i++) {
    double v = round((double)x[i] / sc) + (double)zp;
    q[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
  }
  return TC_OK;
}

tc_status cvt_get_output(tc_interp *it, float *y, size_t n) {
  tc_tensor_info t;
  tc_status s = tc_interp_tensor(it, tc_interp_output_index(it, 0), &t);
  if (s) return s;
  if (cli_elem_count(&t) != n) return TC_ERR_ARG;
  if (t.dtype == TC_DTYPE_F32) return tc_interp_get_output(it, 0, y, n * sizeof(float));
  if (t.dtype != TC_DTYPE_I8 || t.n_scales != 1) return TC_ERR_UNSUPPORTED;
  const int8_t *q = t.data;
  int64_t zp = t.zero_points ? t.zero_points[0] : 0;
  for (size_t i = 0; i < n; i++) y[i] = (float)((double)(q[i] - zp) * t.scales[0]);
  return TC_OK;
}

/* ---- representative data ------------------------------------------------------------------ */

typedef struct samples {
  size_t numel; /* floats per sample */
  int n, max;
  float *data;  /* max * numel */
} samples;

static int push(samples *s, const float *v) {
  if (s->n >= s->max) return 0;
  memcpy(s->data + (size_t)s->n * s->numel, v, s->numel * sizeof(float));
  s->n++;
  return 0;
}

static int load_floats(const char *path, const float *v, size_t n, samples *s) {
  if (n == 0 || n % s->numel) {
    cli_err("%s: %zu floats is not a multiple of the input's %zu elements", path, n, s->numel);
    return 1;
  }
  for (size_t k = 0; k < n / s->numel; k++) push(s, v + k * s->numel);
  return 0;
}

static int load_image(const char *path, const tc_tensor_info *t, int norm, samples *s) {
  const int32_t *d = t->dims;
  int h = 0, w = 0, c = 0;
  if (t->n_dims == 4 && d[0] == 1) h = d[1], w = d[2], c = d[3];
  else if (t->n_dims == 3 && d[0] == 1) h = d[1], w = d[2], c = 1;
  if (h <= 0 || w <= 0 || (c != 1 && c != 3))
    return cli_err("%s: the model input is not an image ([1,H,W,C], C 1 or 3)", path), 1;
  cli_image sized;
  if (cli_image_load_sized(path, w, h, &sized)) return 1;
  float *v = malloc(s->numel * sizeof(float));
  if (!v) return free(sized.rgb), 1;
  cli_image_to_floats(&sized, c, norm, v);
  free(sized.rgb);
  push(s, v);
  free(v);
  return 0;
}

static int load_file(const char *path, const tc_tensor_info *t, int norm, samples *s) {
  if (image_is_path(path)) return load_image(path, t, norm, s);
  if (cli_has_ext(path, ".npy")) {
    cli_array a;
    char err[256];
    if (npy_read(path, &a, err, sizeof err)) return cli_err("%s: %s", path, err), 1;
    int rc = a.dtype == TC_DTYPE_F32 ? load_floats(path, a.data, a.n_elems, s)
                                     : (cli_err("%s: expected float32 data", path), 1);
    free(a.data);
    return rc;
  }
  void *v;
  long size;
  int got = cli_read_file(path, &v, &size), rc = 1;
  if (got < 0) return 1;
  if (got && size % 4 == 0)
    rc = load_floats(path, v, (size_t)size / 4, s);
  else
    cli_err("cannot read %s as raw float32 values", path);
  free(v);
  return rc;
}

/* mnist:PATH[:N]: the first N images (pixel / 255) of an IDX images file. */
static int load_mnist(const char *spec, samples *s) {
  char path[1024];
  snprintf(path, sizeof path, "%s", spec);
  long n = 200;
  char *colon = strrchr(path, ':');
  if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
    *colon = 0;
    if (!cli_parse_long(colon + 1, 1, 1000000, "mnist:PATH:N", &n)) return 1;
  }
  if (n > s->max - s->n) n = s->max - s->n;
  if (n <= 0) return 0;
  tc_tensor *x = NULL;
  char err[256];
  if (tc_data_read_idx_images(path, 0, n, &x, err, sizeof err))
    return cli_err("mnist:%s: %s", path, err), 1;
  int rc = load_floats(path, tc_tensor_f32_const(x), tc_tensor_size(x), s);
  tc_tensor_destroy(x);
  return rc;
}

/* SPEC.json (the `tensorc train` spec format): calibration samples from its data section:
 * mnist -> the first images of the training range, sine -> x evenly spread over [0, 2 pi). */
static int load_spec(const char *path, samples *s) {
#ifdef TC_HAVE_CJSON
  FILE *f = fopen(path, "rb");
  if (!f) return cli_err("cannot open %s", path), 1;
  char *text = malloc(1 << 20);
  size_t n = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
  fclose(f);
  if (!text) return 1;
  text[n] = 0;
  cJSON *root = cJSON_Parse(text);
  free(text);
  const cJSON *d = root ? cJSON_GetObjectItemCaseSensitive(root, "data") : NULL;
  const cJSON *fmt = d ? cJSON_GetObjectItemCaseSensitive(d, "format") : NULL;
  int rc = 1;
  if (!cJSON_IsString(fmt)) {
    cli_err("%s: no data.format (expected a `tensorc train` spec)", path);
  } else if (!strcmp(fmt->valuestring, "mnist")) {
    const cJSON *img = cJSON_GetObjectItemCaseSensitive(d, "images");
    const cJSON *tr = cJSON_GetObjectItemCaseSensitive(d, "train");
    const cJSON *first = tr ? cJSON_GetObjectItemCaseSensitive(tr, "first") : NULL;
    if (!cJSON_IsString(img)) {
      cli_err("%s: data.images is missing", path);
    } else {
      char full[2048];
      const char *slash = strrchr(path, '/');
      if (img->valuestring[0] == '/' || !slash)
        snprintf(full, sizeof full, "%s", img->valuestring);
      else
        snprintf(full, sizeof full, "%.*s/%s", (int)(slash - path), path, img->valuestring);
      int64_t at = cJSON_IsNumber(first) ? (int64_t)first->valuedouble : 0;
      tc_tensor *x = NULL;
      char err[256];
      if (tc_data_read_idx_images(full, at, s->max - s->n, &x, err, sizeof err))
        cli_err("%s: %s", path, err);
      else
        rc = load_floats(full, tc_tensor_f32_const(x), tc_tensor_size(x), s);
      tc_tensor_destroy(x);
    }
  } else if (!strcmp(fmt->valuestring, "sine") && s->numel == 1) {
    for (int k = 0; s->n < s->max; k++) {
      float v = (float)(6.283185307179586 * (k + 0.5) / s->max);
      push(s, &v);
    }
    rc = 0;
  } else {
    cli_err("%s: data.format '%s' is not usable for calibration here (mnist and sine are; save "
            "samples as .npy or float32 .bin instead)", path, fmt->valuestring);
  }
  cJSON_Delete(root);
  return rc;
#else
  cli_err("%s: this tensorc was built without cJSON and cannot read specs", path);
  return 1;
#endif
}

static int load_path(const char *path, const tc_tensor_info *t, int norm, samples *s) {
  if (!strncmp(path, "mnist:", 6)) return load_mnist(path + 6, s);
  if (cli_has_ext(path, ".json")) return load_spec(path, s);
  if (!strncmp(path, "random:", 7)) {
    long n;
    if (!cli_parse_long(path + 7, 1, 1000000, "random:N", &n)) return 1;
    uint64_t state = 12345;
    float *v = malloc(s->numel * sizeof(float));
    if (!v) return 1;
    for (long k = 0; k < n; k++) {
      cli_fill_random(v, TC_DTYPE_F32, s->numel, &state);
      push(s, v);
    }
    free(v);
    return 0;
  }
  struct stat st;
  if (stat(path, &st) != 0) return cli_err("cannot find %s", path), 1;
  if (!S_ISDIR(st.st_mode)) return load_file(path, t, norm, s);
  char **names;
  int n, rc = 0;
  if (cli_list_sample_files(path, &names, &n)) return 1;
  for (int i = 0; i < n; i++) {
    if (!rc) rc = load_file(names[i], t, norm, s);
    free(names[i]);
  }
  free(names);
  if (!rc && n == 0) return cli_err("%s holds no image, .npy or .bin file", path), 1;
  return rc;
}

static tc_status sample_cb(void *user, int k, int input, float *data, size_t n) {
  samples *s = user;
  if (input != 0 || k < 0 || k >= s->n || n != s->numel) return TC_ERR_ARG;
  memcpy(data, s->data + (size_t)k * s->numel, n * sizeof(float));
  return TC_OK;
}

/* ---- evaluation -------------------------------------------------------------------------- */

typedef struct eval_set {
  tc_tensor *x, *y; /* images [n,28,28,1] float, labels int32 [n] */
  size_t n, numel;
} eval_set;

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static size_t argmax(const float *v, size_t n) {
  size_t b = 0;
  for (size_t i = 1; i < n; i++)
    if (v[i] > v[b]) b = i;
  return b;
}

/* Accuracy and median single-image latency (microseconds) of a .tflite model in tensorc. */
static int eval_interp(tc_interp *it, const eval_set *e, size_t n_classes, double *acc,
                       double *lat_us, const char *save_dir, int n_save) {
  double *times = malloc(e->n * sizeof(double));
  float *out = malloc(n_classes * sizeof(float));
  size_t hits = 0;
  int rc = 0;
  for (size_t i = 0; i < e->n && times && out; i++) {
    const float *x = tc_tensor_f32_const(e->x) + i * e->numel;
    if (cvt_set_input(it, x, e->numel)) {
      rc = 1;
      break;
    }
    double t0 = cli_now_us();
    tc_status s = tc_interp_invoke(it);
    times[i] = cli_now_us() - t0;
    if (s || cvt_get_output(it, out, n_classes)) {
      cli_err("evaluate: %s", tc_interp_errmsg(it));
      rc = 1;
      break;
    }
    hits += (int32_t)argmax(out, n_classes) == tc_tensor_i32_const(e->y)[i];
    if (save_dir && (int)i < n_save) {
      tc_tensor_info ti, to;
      tc_interp_tensor(it, tc_interp_input_index(it, 0), &ti);
      tc_interp_tensor(it, tc_interp_output_index(it, 0), &to);
      char p[1200];
      for (int k = 0; k < 2; k++) {
        snprintf(p, sizeof p, "%s/%s_%zu.bin", save_dir, k ? "output" : "input", i);
        FILE *f = fopen(p, "wb");
        const tc_tensor_info *t = k ? &to : &ti;
        if (!f || fwrite(t->data, 1, t->size, f) != t->size) rc = 1;
        if (f) fclose(f);
      }
    }
  }
  if (!rc && times && out) {
    qsort(times, e->n, sizeof *times, cmp_double);
    *lat_us = times[e->n / 2];
    *acc = (double)hits / (double)e->n;
  }
  if (!times || !out) rc = 1;
  free(times);
  free(out);
  return rc;
}

static int eval_net(tc_net *net, const eval_set *e, size_t n_classes, double *acc,
                    double *lat_us) {
  float *out = malloc(e->n * n_classes * sizeof(float));
  if (!out) return 1;
  const float *x = tc_tensor_f32_const(e->x);
  if (tc_net_predict(net, x, e->n, 256, out)) {
    cli_err("evaluate: %s", tc_net_errmsg(net));
    free(out);
    return 1;
  }
  size_t hits = 0;
  for (size_t i = 0; i < e->n; i++)
    hits += (int32_t)argmax(out + i * n_classes, n_classes) == tc_tensor_i32_const(e->y)[i];
  *acc = (double)hits / (double)e->n;
  /* Latency: one image per call, like the interpreter runs. */
  size_t reps = e->n < 200 ? e->n : 200;
  double times[200];
  for (size_t i = 0; i < reps; i++) {
    double t0 = cli_now_us();
    tc_net_predict(net, x + i * e->numel, 1, 1, out);
    times[i] = cli_now_us() - t0;
  }
  qsort(times, reps, sizeof *times, cmp_double);
  *lat_us = times[reps / 2];
  free(out);
  return 0;
}

/* mnist:IMAGES[:FIRST[:COUNT]] with the labels file found by name. */
static int load_eval(const char *spec, eval_set *e) {
  if (strncmp(spec, "mnist:", 6))
    return cli_err("--evaluate: expected mnist:IMAGES[:FIRST[:COUNT]], got '%s'", spec), 1;
  char path[1024], labels[1100];
  snprintf(path, sizeof path, "%s", spec + 6);
  long nums[2];
  int n_nums = 0;
  while (n_nums < 2) {
    char *colon = strrchr(path, ':');
    if (!colon || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1)) break;
    nums[n_nums++] = strtol(colon + 1, NULL, 10);
    *colon = 0;
  }
  /* Parsed from the end: one number is FIRST, two are FIRST:COUNT. */
  long first = n_nums == 2 ? nums[1] : n_nums == 1 ? nums[0] : 0;
  long count = n_nums == 2 ? nums[0] : -1;
  char *at = strstr(path, "images-idx3");
  if (!at) return cli_err("--evaluate: cannot derive the labels file from '%s' (expected a name "
                          "containing images-idx3)", path), 1;
  snprintf(labels, sizeof labels, "%.*slabels-idx1%s", (int)(at - path), path, at + 11);
  char err[256];
  if (tc_data_load_mnist(path, labels, first, count, &e->x, &e->y, err, sizeof err))
    return cli_err("--evaluate: %s", err), 1;
  e->n = (size_t)tc_tensor_dim(e->x, 0);
  e->numel = tc_tensor_size(e->x) / (e->n ? e->n : 1);
  return e->n == 0;
}

int cmd_convert(int argc, char **argv) {
  const char *ckpt = NULL, *out = NULL, *eval = NULL;
  char save_dir[1024] = "";
  int quant = 0, r;
  long n_save = 10;
  cli_calib_opts cal = {NULL, CLI_NORM_01, 500, 0};
  tc_quant_options qo;
  memset(&qo, 0, sizeof qo);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (cli_is_help(a)) {
      help(stdout);
      return CLI_OK;
    } else if ((r = cli_parse_calib_option(argc, argv, &i, &cal, &qo)) != 0) {
      if (r < 0) return CLI_USAGE;
    } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
      if (!(out = cli_opt_value(argc, argv, &i))) return CLI_USAGE;
    } else if (!strcmp(a, "--quantize")) {
      if (!(v = cli_opt_value(argc, argv, &i))) return CLI_USAGE;
      quant = 1;
      if (!cli_parse_quant_mode("--quantize", v, &qo)) return CLI_USAGE;
    } else if (!strcmp(a, "--evaluate")) {
      if (!(eval = cli_opt_value(argc, argv, &i))) return CLI_USAGE;
    } else if (!strcmp(a, "--save-io")) {
      if (!(v = cli_opt_value(argc, argv, &i))) return CLI_USAGE;
      snprintf(save_dir, sizeof save_dir, "%s", v);
      char *colon = strrchr(save_dir, ':');
      if (colon && colon[1] && strspn(colon + 1, "0123456789") == strlen(colon + 1)) {
        *colon = 0;
        if (!cli_parse_long(colon + 1, 1, 100000, "--save-io DIR:N", &n_save)) return CLI_USAGE;
      }
    } else if (a[0] == '-') {
      cli_err("convert: unknown option '%s' (see tensorc convert --help)", a);
      return CLI_USAGE;
    } else if (!ckpt) {
      ckpt = a;
    } else {
      cli_err("convert: more than one checkpoint given ('%s', '%s')", ckpt, a);
      return CLI_USAGE;
    }
  }
  if (!ckpt || !out) {
    help(stderr);
    return CLI_USAGE;
  }
  if (((quant && qo.mode == TC_QUANT_INT8) || cal.report) && !cal.repr) {
    cli_err("convert: %s needs --representative (mnist:IMAGES[:N], .npy/.bin/image files or "
            "random:N)", cal.report ? "--report" : "--quantize int8");
    return CLI_USAGE;
  }
  if (cal.report && !quant) return cli_err("convert: --report needs --quantize"), CLI_USAGE;
  if (save_dir[0] && !eval) return cli_err("convert: --save-io needs --evaluate"), CLI_USAGE;

  tc_net *net = NULL;
  tc_graphdef *fg = NULL, *qg = NULL;
  void *fbytes = NULL;
  size_t fsize = 0;
  tc_model *fm = NULL, *om = NULL;
  tc_interp *fit = NULL, *oit = NULL;
  samples smp = {0, 0, 0, NULL};
  tc_quant_layer *layers = NULL;
  eval_set ev = {NULL, NULL, 0, 0};
  int n_layers = 0, rc = CLI_FAIL;
  char err[512];
  tc_status s = tc_net_load(ckpt, &net, err, sizeof err);
  if (s) {
    cli_err("convert: %s: %s", ckpt, err);
    goto done;
  }
  if ((s = tc_net_export(net, &fg))) {
    cli_err("convert: %s", fg ? tc_graphdef_errmsg(fg) : tc_status_str(s));
    goto done;
  }
  /* The float model in memory: written once, loaded to read the input's shape (for the
   * representative data) and for --evaluate. */
  if ((s = tc_graphdef_write(fg, &fbytes, &fsize)) ||
      (s = tc_model_load_memory(fbytes, fsize, NULL, &fm)) ||
      (s = tc_interp_create(fm, NULL, &fit)) || (s = tc_interp_prepare(fit))) {
    cli_err("convert: the exported float model: %s",
            fit ? tc_interp_errmsg(fit) : fm ? tc_model_errmsg(fm) : tc_graphdef_errmsg(fg));
    goto done;
  }
  tc_tensor_info tin;
  tc_interp_tensor(fit, tc_interp_input_index(fit, 0), &tin);
  if (cal.repr) {
    if (tc_interp_input_count(fit) != 1) {
      cli_err("convert: --representative supports single-input nets only (this one has %d)",
              tc_interp_input_count(fit));
      goto done;
    }
    smp.numel = cli_elem_count(&tin);
    smp.max = (int)cal.max;
    if (!(smp.data = malloc((size_t)cal.max * smp.numel * sizeof(float)))) {
      cli_err("out of memory");
      goto done;
    }
    char *list = strdup(cal.repr), *save = NULL;
    int bad = !list;
    for (char *p = list ? strtok_r(list, ",", &save) : NULL; p && !bad;
         p = strtok_r(NULL, ",", &save))
      bad = load_path(p, &tin, cal.norm, &smp);
    free(list);
    if (bad) goto done;
    if (smp.n == 0) {
      cli_err("convert: no representative samples in '%s'", cal.repr);
      goto done;
    }
    qo.n_samples = smp.n;
    qo.sample = sample_cb;
    qo.user = &smp;
  }
  double t0 = cli_now_us();
  if (quant) {
    if ((s = tc_quantize(fg, &qo, &qg))) {
      cli_err("convert: %s", qg ? tc_graphdef_errmsg(qg) : tc_status_str(s));
      goto done;
    }
    s = tc_graphdef_write_file(qg, out);
  } else {
    s = tc_graphdef_write_file(fg, out);
  }
  if (s) {
    cli_err("convert: %s", tc_graphdef_errmsg(quant ? qg : fg));
    goto done;
  }
  double t1 = cli_now_us();
  long os = cli_file_size(out);
  const char *mode = !quant ? "float32" : qo.mode == TC_QUANT_INT8 ? (qo.int8_io ? "int8 (int8 I/O)" : "int8")
                     : qo.mode == TC_QUANT_DYNAMIC ? "dynamic range" : "float16";
  printf("%s: %s, %d operators, %ld bytes", out, mode,
         tc_graphdef_op_count(quant ? qg : fg), os);
  if (quant)
    printf(" (float: %zu bytes, %.1f%%), %d calibration samples, %.1f s", fsize,
           100.0 * (double)os / (double)fsize, qo.n_samples, (t1 - t0) / 1e6);
  printf("\n");
  if (cal.report) {
    if ((s = tc_quant_report(fg, qg, &qo, &layers, &n_layers))) {
      cli_err("convert --report: %s", tc_graphdef_errmsg(qg));
      goto done;
    }
    printf("\n%-4s %-20s %10s %12s  %s\n", "#", "op", "SQNR dB", "max |err|", "tensor");
    for (int i = 0; i < n_layers; i++) {
      const char *op = tc_builtin_name(layers[i].builtin);
      printf("%-4d %-20s %10.2f %12.5g  %s\n", i, op ? op : "?", layers[i].sqnr_db,
             layers[i].max_abs_err, layers[i].name);
    }
  }
  if (eval) {
    if (load_eval(eval, &ev)) goto done;
    if (ev.numel != cli_elem_count(&tin)) {
      cli_err("--evaluate: images of %zu values, the model input has %zu", ev.numel,
              cli_elem_count(&tin));
      goto done;
    }
    if (save_dir[0]) mkdir(save_dir, 0777);
    tc_tensor_info tout;
    tc_interp_tensor(fit, tc_interp_output_index(fit, 0), &tout);
    size_t n_classes = cli_elem_count(&tout);
    double acc[3], lat[3];
    if (eval_net(net, &ev, n_classes, &acc[0], &lat[0]) ||
        eval_interp(fit, &ev, n_classes, &acc[1], &lat[1], NULL, 0))
      goto done;
    if (cli_open(out, NULL, &om, &oit, NULL) != CLI_OK ||
        eval_interp(oit, &ev, n_classes, &acc[2], &lat[2], save_dir[0] ? save_dir : NULL,
                    (int)n_save))
      goto done;
    printf("\nevaluation on %zu images (%s)\n", ev.n, eval + 6);
    printf("%-26s %12s %10s %16s\n", "model", "size (bytes)", "accuracy", "latency (us)");
    printf("%-26s %12ld %9.2f%% %16.1f\n", "checkpoint (tc_net)", cli_file_size(ckpt), 100 * acc[0],
           lat[0]);
    printf("%-26s %12zu %9.2f%% %16.1f\n", "float .tflite", fsize, 100 * acc[1], lat[1]);
    if (quant) {
      const char *base = strrchr(out, '/');
      printf("%-26s %12ld %9.2f%% %16.1f\n", base ? base + 1 : out, os, 100 * acc[2], lat[2]);
    }
    printf("accuracy_checkpoint=%.4f accuracy_float=%.4f accuracy_out=%.4f size_float=%zu "
           "size_out=%ld latency_float_us=%.1f latency_out_us=%.1f\n",
           acc[0], acc[1], acc[2], fsize, os, lat[1], lat[2]);
  }
  rc = CLI_OK;
done:
  tc_export_free(layers);
  free(smp.data);
  tc_tensor_destroy(ev.x);
  tc_tensor_destroy(ev.y);
  tc_interp_destroy(oit);
  tc_model_destroy(om);
  tc_interp_destroy(fit);
  tc_model_destroy(fm);
  tc_export_free(fbytes);
  tc_graphdef_destroy(qg);
  tc_graphdef_destroy(fg);
  tc_net_destroy(net);
  return rc;
}
