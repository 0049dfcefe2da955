/* repdata.c: representative-data and quantization-option helpers shared by the convert and
 * quantize subcommands (see repdata.h). */
#include "repdata.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

int cli_has_ext(const char *p, const char *ext) {
  size_t n = strlen(p), e = strlen(ext);
  return n > e && !strcasecmp(p + n - e, ext);
}

long cli_file_size(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

int cli_read_file(const char *path, void **data, long *size) {
  *data = NULL;
  FILE *f = fopen(path, "rb");
  if (!f) return cli_err("cannot open %s", path), -1;
  fseek(f, 0, SEEK_END);
  *size = ftell(f);
  fseek(f, 0, SEEK_SET);
  void *v = *size > 0 ? malloc((size_t)*size) : NULL;
  int ok = v && fread(v, 1, (size_t)*size, f) == (size_t)*size;
  fclose(f);
  if (!ok) {
    free(v);
    return 0;
  }
  *data = v;
  return 1;
}

int cli_image_load_sized(const char *path, int w, int h, cli_image *out) {
  char err[256];
  cli_image img;
  if (image_load(path, &img, err, sizeof err)) return cli_err("%s: %s", path, err), 1;
  if (img.w == w && img.h == h) {
    *out = img;
    return 0;
  }
  int bad = image_resize(&img, w, h, out);
  free(img.rgb);
  if (bad) return cli_err("out of memory"), 1;
  return 0;
}

void cli_image_to_floats(const cli_image *img, int c, int norm, float *v) {
  for (size_t p = 0; p < (size_t)img->w * (size_t)img->h; p++)
    for (int k = 0; k < c; k++) {
      const uint8_t *px = img->rgb + 3 * p;
      float f = c == 3 ? px[k] : (px[0] * 0.299f + px[1] * 0.587f + px[2] * 0.114f);
      if (norm == CLI_NORM_PM1) f = (f - 127.5f) / 127.5f;
      else if (norm == CLI_NORM_01) f /= 255.0f;
      v[p * (size_t)c + (size_t)k] = f;
    }
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

int cli_list_sample_files(const char *path, char ***names_out, int *n_out) {
  DIR *dir = opendir(path);
  if (!dir) return cli_err("cannot open folder %s", path), 1;
  char **names = NULL;
  int n = 0;
  for (struct dirent *e; (e = readdir(dir));) {
    if (!image_is_path(e->d_name) && !cli_has_ext(e->d_name, ".npy") &&
        !cli_has_ext(e->d_name, ".bin"))
      continue;
    char **nn = realloc(names, (size_t)(n + 1) * sizeof *nn);
    if (!nn) break;
    names = nn;
    size_t len = strlen(path) + strlen(e->d_name) + 2;
    if (!(names[n] = malloc(len))) break;
    snprintf(names[n], len, "%s/%s", path, e->d_name);
    n++;
  }
  closedir(dir);
  if (n) qsort(names, (size_t)n, sizeof *names, cmp_str);
  *names_out = names;
  *n_out = n;
  return 0;
}

int cli_parse_quant_mode(const char *opt, const char *v, tc_quant_options *qo) {
  if (!strcmp(v, "int8")) qo->mode = TC_QUANT_INT8;
  else if (!strcmp(v, "dynamic")) qo->mode = TC_QUANT_DYNAMIC;
  else if (!strcmp(v, "float16")) qo->mode = TC_QUANT_FLOAT16;
  else return cli_err("%s: expected int8, dynamic or float16, got '%s'", opt, v), 0;
  return 1;
}

int cli_parse_quant_inputs(const char *v, tc_quant_options *qo) {
  if (!strcmp(v, "float")) qo->int8_io = 0;
  else if (!strcmp(v, "int8")) qo->int8_io = 1;
  else return cli_err("--inputs: expected float or int8, got '%s'", v), 0;
  return 1;
}

int cli_parse_quant_percentile(const char *v, tc_quant_options *qo) {
  char *end;
  qo->percentile = strtod(v, &end);
  if (*end || !(qo->percentile > 50 && qo->percentile <= 100))
    return cli_err("--percentile: expected a number in (50, 100], got '%s'", v), 0;
  return 1;
}

int cli_parse_calib_option(int argc, char **argv, int *i, cli_calib_opts *o, tc_quant_options *qo) {
  const char *a = argv[*i], *v;
  if (!strcmp(a, "--report")) {
    o->report = 1;
    return 1;
  }
  if (strcmp(a, "--representative") && strcmp(a, "--norm") && strcmp(a, "--max-samples") &&
      strcmp(a, "--inputs") && strcmp(a, "--percentile"))
    return 0;
  if (!(v = cli_opt_value(argc, argv, i))) return -1;
  if (!strcmp(a, "--representative")) {
    o->repr = v;
  } else if (!strcmp(a, "--norm")) {
    if (!strcmp(v, "0_1")) o->norm = CLI_NORM_01;
    else if (!strcmp(v, "-1_1")) o->norm = CLI_NORM_PM1;
    else if (!strcmp(v, "raw")) o->norm = CLI_NORM_RAW;
    else return cli_err("--norm: expected 0_1, -1_1 or raw, got '%s'", v), -1;
  } else if (!strcmp(a, "--max-samples")) {
    if (!cli_parse_long(v, 1, 1000000, "--max-samples", &o->max)) return -1;
  } else if (!strcmp(a, "--inputs")) {
    if (!cli_parse_quant_inputs(v, qo)) return -1;
  } else if (!cli_parse_quant_percentile(v, qo)) {
    return -1;
  }
  return 1;
}
