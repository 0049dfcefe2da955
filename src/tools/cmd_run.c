/* cmd_run.c: `tensorc run MODEL [INPUT...]`: fills each model input from a raw .bin, a .npy or
 * an image file (or from seeded pseudo-random data when none is given), invokes once, prints a
 * summary of every output (dequantized too where quantized), writes them as .npy files on
 * request and prints the top-K classes of classifier outputs. Images and float .npy arrays are
 * quantized for quantized inputs by the rule documented in usage(). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util.h"

enum { NORM_PM1, NORM_01, NORM_RAW };

static void usage(FILE *f) {
  fputs("usage: tensorc run MODEL [INPUT...] [options]\n"
        "Runs the model once and prints its outputs.\n"
        "Each INPUT fills the model input of the same position and is one of:\n"
        "  FILE.bin                 raw tensor bytes, taken as they are (exactly the tensor's\n"
        "                           byte size)\n"
        "  FILE.npy                 NumPy array with the tensor's element count: of the\n"
        "                           tensor's dtype (copied), or float32/float64 for a quantized\n"
        "                           integer tensor (quantized as below)\n"
        "  FILE.png|.jpg|.jpeg|.bmp image: RGB or gray to match the channels, bilinear resize\n"
        "                           to the input's H,W, then pixel values p in 0..255 become:\n"
        "      float32 input: (p-127.5)/127.5, or see --norm\n"
        "      quantized integer input (scale s, zero point z, integer range qmin..qmax):\n"
        "        the pixels are mapped linearly onto the real range the tensor can represent,\n"
        "        lo = (qmin-z)*s .. hi = (qmax-z)*s, i.e. x = (p - mean)/std with\n"
        "        std = 255/(hi-lo) and mean = -lo*std, then quantized: q = round(x/s) + z,\n"
        "        saturated. For 8-bit tensors this is q = qmin + p whatever s and z are:\n"
        "        uint8 (e.g. s=1/128, z=128, real [-1,1)) gets the raw pixels, int8 (e.g.\n"
        "        s=1/255, z=-128, real [0,1]) gets p-128\n"
        "      uint8 / int8 input without quantization: p / p-128\n"
        "Quantized float .npy values v become q = round(v/s) + z (half away from zero),\n"
        "saturated to the dtype, as TFLite's QUANTIZE. Without INPUTs every input gets seeded\n"
        "pseudo-random data. Quantized outputs are also shown dequantized, (q - z) * s, and the\n"
        "top-K listing uses dequantized scores.\n"
        "options:\n"
        "  -o, --output DIR   write DIR/output_<i>.npy for every output (DIR is created)\n"
        "  --labels FILE      class names, one per line, for the top-K listing\n"
        "  --top K            how many classes to list for a classifier (default 5, 0: none)\n"
        "  --min-score S      object detectors (4 outputs: boxes, classes, scores, count):\n"
        "                     list detections scoring at least S (default 0.5); --labels\n"
        "                     line i names class i\n"
        "  --seed N           seed of the random input (default 1)\n"
        "  --norm MODE        float image inputs: -1_1 (default), 0_1 (p/255) or raw (0..255)\n"
        "  --pixels MODE      8-bit integer image inputs: scale (default: the rule above) or\n"
        "                     bytes (pixel bytes stored unchanged, i.e. reinterpreted as int8\n"
        "                     for int8 inputs: for images whose bytes already are the tensor's\n"
        "                     values, such as TFLM's person_detection test images)\n"
        "  --threads N        worker threads (default 1)\n",
        f);
}

/* Integer range of a dtype that can hold quantized values; 0 if it cannot. */
static int q_range(tc_dtype t, double *qmin, double *qmax) {
  switch (t) {
  case TC_DTYPE_U8: *qmin = 0, *qmax = 255; return 1;
  case TC_DTYPE_I8: *qmin = -128, *qmax = 127; return 1;
  case TC_DTYPE_I16: *qmin = -32768, *qmax = 32767; return 1;
  case TC_DTYPE_I32: *qmin = -2147483648.0, *qmax = 2147483647.0; return 1;
  default: return 0;
  }
}

/* 1 if t is an integer tensor with one (per-tensor) scale. */
static int is_quantized(const tc_tensor_info *t) {
  double lo, hi;
  return t->n_scales == 1 && t->scales[0] > 0 && q_range(t->dtype, &lo, &hi);
}

/* Element i of buf = real value x quantized with t's scale and zero point (TFLite QUANTIZE:
 * round half away from zero, add the zero point, saturate). */
static void put_quantized(void *buf, const tc_tensor_info *t, size_t i, double x) {
  double qmin = 0, qmax = 255;
  q_range(t->dtype, &qmin, &qmax);
  double q = round(x / (double)t->scales[0]) + (double)t->zero_points[0];
  if (!(q >= qmin)) q = qmin; /* also NaN */
  if (q > qmax) q = qmax;
  switch (t->dtype) {
  case TC_DTYPE_U8: ((uint8_t *)buf)[i] = (uint8_t)q; break;
  case TC_DTYPE_I8: ((int8_t *)buf)[i] = (int8_t)q; break;
  case TC_DTYPE_I16: ((int16_t *)buf)[i] = (int16_t)q; break;
  case TC_DTYPE_I32: ((int32_t *)buf)[i] = (int32_t)q; break;
  default: break;
  }
}

/* The real value pixel p (0..255) stands for in a quantized tensor: p mapped linearly onto
 * the representable range [(qmin - z) s, (qmax - z) s] (see usage()). */
static double pixel_real(const tc_tensor_info *t, int p) {
  double qmin = 0, qmax = 255, s = t->scales[0], z = (double)t->zero_points[0];
  q_range(t->dtype, &qmin, &qmax);
  double lo = (qmin - z) * s, hi = (qmax - z) * s;
  double std = 255.0 / (hi - lo), mean = -lo * std;
  return ((double)p - mean) / std;
}

/* mkdir -p */
static int make_dirs(const char *path) {
  char buf[4096];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof buf) return -1;
  memcpy(buf, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (buf[i] != '/' && buf[i] != 0) continue;
    char c = buf[i];
    buf[i] = 0;
    if (mkdir(buf, 0777) != 0 && errno != EEXIST) return -1;
    buf[i] = c;
  }
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

static int ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int read_bin(const char *path, const tc_tensor_info *t, void *buf, char *err, size_t en) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(err, en, "cannot open: %s", strerror(errno));
    return 1;
  }
  fseek(fp, 0, SEEK_END);
  long size = ftell(fp);
  fseek(fp, 0, SEEK_SET);
  int rc = 0;
  if (size < 0 || (size_t)size != t->size) {
    snprintf(err, en, "size mismatch: tensor '%s' needs %zu bytes, file has %ld bytes",
             t->name, t->size, size);
    rc = 1;
  } else if (t->size && fread(buf, 1, t->size, fp) != t->size) {
    snprintf(err, en, "read error");
    rc = 1;
  }
  fclose(fp);
  return rc;
}

static int read_npy(const char *path, const tc_tensor_info *t, void *buf, char *err, size_t en) {
  cli_array a;
  if (npy_read(path, &a, err, en)) return 1;
  int rc = 1;
  int quantize = a.dtype != t->dtype && is_quantized(t) &&
                 (a.dtype == TC_DTYPE_F32 || a.dtype == TC_DTYPE_F64);
  if (a.dtype != t->dtype && !quantize)
    snprintf(err, en, "dtype mismatch: tensor '%s' is %s, array is %s%s", t->name,
             tc_dtype_name(t->dtype), tc_dtype_name(a.dtype),
             is_quantized(t) ? " (quantized tensors also take float32/float64)" : "");
  else if (a.n_elems != cli_elem_count(t) || (!quantize && a.size != t->size))
    snprintf(err, en, "shape mismatch: tensor '%s' has %zu elements, array has %zu", t->name,
             cli_elem_count(t), a.n_elems);
  else if (quantize) {
    for (size_t i = 0; i < a.n_elems; i++) {
      double v;
      if (a.dtype == TC_DTYPE_F32) {
        float f;
        memcpy(&f, (const char *)a.data + 4 * i, 4);
        v = f;
      } else {
        memcpy(&v, (const char *)a.data + 8 * i, 8);
      }
      put_quantized(buf, t, i, v);
    }
    rc = 0;
  } else {
    memcpy(buf, a.data, a.size);
    rc = 0;
  }
  free(a.data);
  return rc;
}

static int read_image(const char *path, const tc_tensor_info *t, void *buf, int norm,
                      int pixel_bytes, char *err, size_t en) {
  const int32_t *d = t->dims;
  int h, w, c;
  if (t->n_dims == 4 && d[0] == 1) h = d[1], w = d[2], c = d[3];
  else if (t->n_dims == 3 && (d[2] == 1 || d[2] == 3)) h = d[0], w = d[1], c = d[2];
  else if (t->n_dims == 3 && d[0] == 1) h = d[1], w = d[2], c = 1;
  else if (t->n_dims == 2) h = d[0], w = d[1], c = 1;
  else h = w = c = 0;
  if (h <= 0 || w <= 0 || (c != 1 && c != 3)) {
    snprintf(err, en, "tensor '%s' does not look like an image ([1,H,W,C] with C 1 or 3)", t->name);
    return 1;
  }
  if (t->dtype != TC_DTYPE_F32 && t->dtype != TC_DTYPE_U8 && t->dtype != TC_DTYPE_I8 &&
      !is_quantized(t)) {
    snprintf(err, en, "image inputs need a float32, uint8, int8 or quantized tensor; '%s' is %s",
             t->name, tc_dtype_name(t->dtype));
    return 1;
  }
  cli_image img, sized;
  if (image_load(path, &img, err, en)) return 1;
  if (img.w == w && img.h == h) {
    sized = img;
  } else {
    int bad = image_resize(&img, w, h, &sized);
    free(img.rgb);
    if (bad) {
      snprintf(err, en, "out of memory");
      return 1;
    }
  }
  for (size_t p = 0; p < (size_t)w * (size_t)h; p++) {
    const uint8_t *px = sized.rgb + 3 * p;
    for (int k = 0; k < c; k++) {
      /* Gray from RGB with ITU-R 601 luma weights in 16-bit fixed point. */
      int v = c == 3 ? px[k] : (px[0] * 19595 + px[1] * 38470 + px[2] * 7471 + 0x8000) >> 16;
      size_t i = p * (size_t)c + (size_t)k;
      if (pixel_bytes && (t->dtype == TC_DTYPE_U8 || t->dtype == TC_DTYPE_I8))
        ((uint8_t *)buf)[i] = (uint8_t)v;
      else if (t->dtype != TC_DTYPE_F32 && is_quantized(t))
        put_quantized(buf, t, i, pixel_real(t, v));
      else if (t->dtype == TC_DTYPE_U8) ((uint8_t *)buf)[i] = (uint8_t)v;
      else if (t->dtype == TC_DTYPE_I8) ((int8_t *)buf)[i] = (int8_t)(v - 128);
      else {
        float f = (float)v;
        if (norm == NORM_PM1) f = (f - 127.5f) / 127.5f;
        else if (norm == NORM_01) f = f / 255.0f;
        memcpy((float *)buf + i, &f, 4);
      }
    }
  }
  free(sized.rgb);
  return 0;
}

static int fill_input(const char *path, const tc_tensor_info *t, void *buf, int norm,
                      int pixel_bytes, char *err, size_t en) {
  if (image_is_path(path)) return read_image(path, t, buf, norm, pixel_bytes, err, en);
  if (ends_with(path, ".npy")) return read_npy(path, t, buf, err, en);
  return read_bin(path, t, buf, err, en);
}

static void print_summary(int i, const tc_tensor_info *t, const void *data) {
  char dims[128];
  cli_fmt_dims(t->dims, t->n_dims, dims, sizeof dims);
  printf("output %d: %s %s %s", i, t->name ? t->name : "?", tc_dtype_name(t->dtype), dims);
  size_t n = cli_elem_count(t);
  if (!cli_dtype_numeric(t->dtype) || n == 0) {
    printf(" (%zu bytes)\n", t->size);
    return;
  }
  double mn = cli_get(data, t->dtype, 0), mx = mn, sum = 0;
  for (size_t k = 0; k < n; k++) {
    double v = cli_get(data, t->dtype, k);
    mn = v < mn ? v : mn;
    mx = v > mx ? v : mx;
    sum += v;
  }
  printf("\n  values:");
  for (size_t k = 0; k < n && k < 8; k++) printf(" %.6g", cli_get(data, t->dtype, k));
  printf("%s\n  min %.6g  max %.6g  mean %.6g\n", n > 8 ? " ..." : "", mn, mx, sum / (double)n);
  if (t->n_scales == 1) {
    double s = t->scales[0], z = (double)t->zero_points[0];
    printf("  dequantized (scale %.9g, zero_point %lld):", s, (long long)t->zero_points[0]);
    for (size_t k = 0; k < n && k < 8; k++) printf(" %.6g", (cli_get(data, t->dtype, k) - z) * s);
    printf("%s\n  min %.6g  max %.6g  mean %.6g\n", n > 8 ? " ..." : "", (mn - z) * s,
           (mx - z) * s, (sum / (double)n - z) * s);
  }
}

static char **load_labels(const char *path, int *n_labels) {
  FILE *fp = fopen(path, "r");
  *n_labels = 0;
  if (!fp) return NULL;
  char **lab = NULL, line[1024];
  int cap = 0;
  while (fgets(line, sizeof line, fp)) {
    line[strcspn(line, "\r\n")] = 0;
    if (*n_labels == cap) {
      cap = cap ? cap * 2 : 256;
      char **nl = realloc(lab, sizeof *lab * (size_t)cap);
      if (!nl) break;
      lab = nl;
    }
    lab[(*n_labels)++] = strdup(line);
  }
  fclose(fp);
  return lab;
}

static void print_top(const tc_tensor_info *t, const void *data, int k, char **labels,
                      int n_labels) {
  int n = t->dims[t->n_dims - 1];
  const void *row = data; /* first batch entry */
  double *score = malloc(sizeof(double) * (size_t)n);
  char *used = calloc((size_t)n, 1);
  if (!score || !used) goto done;
  for (int c = 0; c < n; c++) {
    score[c] = cli_get(row, t->dtype, (size_t)c);
    if (t->n_scales == 1) score[c] = (score[c] - (double)t->zero_points[0]) * t->scales[0];
  }
  if (k > n) k = n;
  printf("top-%d:\n", k);
  for (int r = 0; r < k; r++) {
    int best = -1;
    for (int c = 0; c < n; c++)
      if (!used[c] && (best < 0 || score[c] > score[best])) best = c;
    used[best] = 1;
    printf("  %5d  %.6f  %s\n", best, score[best], best < n_labels ? labels[best] : "");
  }
done:
  free(score);
  free(used);
}

/* Object-detector outputs (TFLite_Detection_PostProcess: boxes [1,N,4], classes [1,N], scores
 * [1,N], count [1], all float32): lists the detections with score >= min_score. */
static void print_detections(const tc_interp *it, double min_score, char **labels,
                             int n_labels) {
  tc_tensor_info o[4];
  for (int i = 0; i < 4; i++)
    if (tc_interp_tensor(it, tc_interp_output_index(it, i), &o[i]) != TC_OK ||
        o[i].dtype != TC_DTYPE_F32 || !o[i].data)
      return;
  if (o[0].n_dims != 3 || o[0].dims[0] != 1 || o[0].dims[2] != 4 || o[1].n_dims != 2 ||
      o[2].n_dims != 2 || o[1].dims[1] != o[0].dims[1] || o[2].dims[1] != o[0].dims[1] ||
      o[3].n_dims != 1 || o[3].dims[0] != 1)
    return;
  const float *box = o[0].data, *cls = o[1].data, *score = o[2].data;
  int slots = o[0].dims[1], count = (int)*(const float *)o[3].data;
  if (count > slots) count = slots;
  printf("detections (score >= %g): %d of %d\n", min_score, count, slots);
  for (int k = 0; k < count; k++) {
    if (score[k] < min_score) continue;
    int c = (int)cls[k];
    printf("  class %3d  score %.4f  box [%.3f %.3f %.3f %.3f] (ymin xmin ymax xmax)  %s\n", c,
           (double)score[k], (double)box[4 * k], (double)box[4 * k + 1], (double)box[4 * k + 2],
           (double)box[4 * k + 3], c >= 0 && c < n_labels ? labels[c] : "");
  }
}

int cmd_run(int argc, char **argv) {
  const char *model = NULL, *out_dir = NULL, *labels_path = NULL, *inputs[64];
  int n_given = 0, norm = NORM_PM1, pixel_bytes = 0;
  long top = 5, seed = 1, threads = 1;
  double min_score = 0.5;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (cli_is_help(a)) {
      usage(stdout);
      return CLI_OK;
    } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
      if (!(out_dir = cli_opt_value(argc, argv, &i))) return CLI_USAGE;
    } else if (!strcmp(a, "--labels")) {
      if (!(labels_path = cli_opt_value(argc, argv, &i))) return CLI_USAGE;
    } else if (!strcmp(a, "--top")) {
      if (!(v = cli_opt_value(argc, argv, &i)) || !cli_parse_long(v, 0, 100000, "--top", &top))
        return CLI_USAGE;
    } else if (!strcmp(a, "--seed")) {
      if (!(v = cli_opt_value(argc, argv, &i)) || !cli_parse_long(v, 0, 0x7fffffff, "--seed", &seed))
        return CLI_USAGE;
    } else if (!strcmp(a, "--threads")) {
      if (!(v = cli_opt_value(argc, argv, &i)) || !cli_parse_long(v, 1, 1024, "--threads", &threads))
        return CLI_USAGE;
    } else if (!strcmp(a, "--min-score")) {
      char *end = NULL;
      if (!(v = cli_opt_value(argc, argv, &i))) return CLI_USAGE;
      min_score = strtod(v, &end);
      if (!end || *end || end == v) {
        cli_err("--min-score: expected a number, got '%s'", v);
        return CLI_USAGE;
      }
    } else if (!strcmp(a, "--pixels")) {
      if (!(v = cli_opt_value(argc, argv, &i))) return CLI_USAGE;
      if (!strcmp(v, "scale")) pixel_bytes = 0;
      else if (!strcmp(v, "bytes")) pixel_bytes = 1;
      else {
        cli_err("--pixels: expected scale or bytes, got '%s'", v);
        return CLI_USAGE;
      }
    } else if (!strcmp(a, "--norm")) {
      if (!(v = cli_opt_value(argc, argv, &i))) return CLI_USAGE;
      if (!strcmp(v, "-1_1")) norm = NORM_PM1;
      else if (!strcmp(v, "0_1")) norm = NORM_01;
      else if (!strcmp(v, "raw")) norm = NORM_RAW;
      else {
        cli_err("--norm: expected -1_1, 0_1 or raw, got '%s'", v);
        return CLI_USAGE;
      }
    } else if (a[0] == '-' && a[1]) {
      cli_err("run: unknown option '%s' (see tensorc run --help)", a);
      return CLI_USAGE;
    } else if (!model) {
      model = a;
    } else if (n_given < 64) {
      inputs[n_given++] = a;
    } else {
      cli_err("run: too many inputs");
      return CLI_USAGE;
    }
  }
  if (!model) {
    usage(stderr);
    return CLI_USAGE;
  }

  tc_model *m;
  tc_interp *it;
  tc_interp_options opts = {0};
  opts.n_threads = (int)threads;
  int rc = cli_open(model, &opts, &m, &it, NULL);
  char **labels = NULL;
  int n_labels = 0;
  if (rc != CLI_OK) goto out;
  rc = CLI_FAIL;
  int n_in = tc_interp_input_count(it), n_out = tc_interp_output_count(it);
  if (n_given && n_given != n_in) {
    cli_err("%s has %d input%s but %d INPUT file%s given", model, n_in, n_in == 1 ? "" : "s",
            n_given, n_given == 1 ? " was" : "s were");
    goto out;
  }
  if (labels_path && !(labels = load_labels(labels_path, &n_labels))) {
    cli_err("cannot read labels file %s", labels_path);
    goto out;
  }
  uint64_t state = (uint64_t)seed;
  for (int i = 0; i < n_in; i++) {
    tc_tensor_info t;
    char err[512];
    if (tc_interp_tensor(it, tc_interp_input_index(it, i), &t) != TC_OK) goto out;
    void *buf = calloc(1, t.size ? t.size : 1);
    if (!buf) goto out;
    if (n_given && fill_input(inputs[i], &t, buf, norm, pixel_bytes, err, sizeof err)) {
      cli_err("input %d (%s): %s", i, inputs[i], err);
      free(buf);
      goto out;
    }
    if (!n_given) cli_fill_random(buf, t.dtype, cli_elem_count(&t), &state);
    tc_status s = tc_interp_set_input(it, i, buf, t.size);
    free(buf);
    if (s != TC_OK) {
      cli_err("input %d: %s: %s", i, tc_status_str(s), tc_interp_errmsg(it));
      goto out;
    }
  }
  tc_status s = tc_interp_invoke(it);
  if (s != TC_OK) {
    cli_err("invoke failed: %s: %s", tc_status_str(s), tc_interp_errmsg(it));
    goto out;
  }
  if (out_dir && make_dirs(out_dir) != 0) {
    cli_err("cannot create output directory %s: %s", out_dir, strerror(errno));
    goto out;
  }
  rc = CLI_OK;
  for (int i = 0; i < n_out; i++) {
    tc_tensor_info t;
    if (tc_interp_tensor(it, tc_interp_output_index(it, i), &t) != TC_OK) {
      rc = CLI_FAIL;
      continue;
    }
    void *buf = malloc(t.size ? t.size : 1);
    if (!buf || tc_interp_get_output(it, i, buf, t.size) != TC_OK) {
      cli_err("cannot read output %d: %s", i, tc_interp_errmsg(it));
      free(buf);
      rc = CLI_FAIL;
      continue;
    }
    print_summary(i, &t, buf);
    if (out_dir) {
      char path[4200], err[512];
      snprintf(path, sizeof path, "%s/output_%d.npy", out_dir, i);
      if (npy_write(path, t.dtype, t.n_dims, t.dims, buf, t.size, err, sizeof err)) {
        cli_err("%s", err);
        rc = CLI_FAIL;
      } else {
        printf("  wrote %s\n", path);
      }
    }
    if (n_out == 1 && top > 0 && t.n_dims >= 1 && t.dims[t.n_dims - 1] >= 2 &&
        cli_dtype_numeric(t.dtype))
      print_top(&t, buf, (int)top, labels, n_labels);
    free(buf);
  }
  if (rc == CLI_OK && n_out == 4) print_detections(it, min_score, labels, n_labels);
out:
  for (int i = 0; i < n_labels; i++) free(labels[i]);
  free(labels);
  tc_interp_destroy(it);
  tc_model_destroy(m);
  return rc;
}
