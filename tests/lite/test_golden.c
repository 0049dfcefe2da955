/* test_golden.c: model-level tests against the golden outputs of official TFLite / TFLM in
 * ../shared/models/golden (cases.tsv, expect.tsv; see the README there). Each case gets a
 * fresh interpreter, its input bytes, one invoke, and a comparison with the case's tolerance
 * and expected top-1. Only models that expect.tsv marks `custom` (they need custom ops outside
 * TFLite's builtins) may be skipped as unsupported; every other case must pass. */
#include <stdlib.h>

#include "tc_test.h"
#include "tensorc_lite.h"

#define MAX_COLS 12

typedef struct {
  char *col[MAX_COLS];
  int n;
} row;

static int split_row(char *line, row *r) {
  r->n = 0;
  char *p = line;
  while (r->n < MAX_COLS) {
    r->col[r->n++] = p;
    char *tab = strchr(p, '\t');
    if (!tab) break;
    *tab = '\0';
    p = tab + 1;
  }
  char *nl = strchr(r->col[r->n - 1], '\n');
  if (nl) *nl = '\0';
  return r->n;
}

/* Parses "dtype:1x2x3" into dims; returns rank or -1. */
static int parse_shape(const char *spec, int32_t *dims) {
  const char *c = strchr(spec, ':');
  if (!c) return -1;
  c++;
  int n = 0;
  if (*c == '\0' || *c == ';') return 0;
  while (*c && *c != ';' && n < TC_MAX_DIMS) {
    dims[n++] = (int32_t)strtol(c, (char **)&c, 10);
    if (*c == 'x') c++;
  }
  return n;
}

static double elem(const void *p, tc_dtype t, size_t i) {
  switch (t) {
  case TC_DTYPE_F32: return ((const float *)p)[i];
  case TC_DTYPE_I8: return ((const int8_t *)p)[i];
  case TC_DTYPE_U8: return ((const uint8_t *)p)[i];
  case TC_DTYPE_I16: return ((const int16_t *)p)[i];
  case TC_DTYPE_I32: return ((const int32_t *)p)[i];
  case TC_DTYPE_I64: return (double)((const int64_t *)p)[i];
  default: return 0;
  }
}

typedef struct {
  int pass, fail, skip;
} tally;

/* Models whose expect.tsv status is `custom` (they need custom ops beyond TFLite's builtins):
 * the only ones allowed to be skipped as unsupported. */
static char g_custom_models[4096];

static void load_custom_models(void) {
  size_t size = 0;
  char *tsv = tc_test_read_file(tc_test_shared("models/golden/expect.tsv"), &size);
  g_custom_models[0] = '\0';
  if (!tsv) return;
  char *text = realloc(tsv, size + 1);
  text[size] = '\0';
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    row r;
    if (split_row(line, &r) >= 2 && strcmp(r.col[1], "custom") == 0 &&
        strlen(g_custom_models) + strlen(r.col[0]) + 2 < sizeof g_custom_models) {
      strcat(g_custom_models, r.col[0]);
      strcat(g_custom_models, "|");
    }
  }
  free(text);
}

/* Runs one case on an interpreter with n_threads threads. Returns 1 pass, 0 fail, -1 skipped. */
static int run_case(row *r, int n_threads, char *why, size_t why_size) {
  const char *model_rel = r->col[0], *case_dir = r->col[1], *tol = r->col[6];
  int n_in = atoi(r->col[2]), n_out = atoi(r->col[3]);
  char path[512];
  snprintf(path, sizeof path, "models/%s", model_rel);
  tc_model *m = NULL;
  tc_interp *it = NULL;
  int result = 0;
  if (tc_model_load_file(tc_test_shared(path), NULL, &m) != TC_OK) {
    snprintf(why, why_size, "load: %s", tc_model_errmsg(m));
    tc_model_destroy(m);
    return 0;
  }
  tc_interp_options opt = {0};
  opt.n_threads = n_threads;
  tc_status s = tc_interp_create(m, &opt, &it);
  if (s == TC_OK) {
    /* Resize inputs whose golden shape differs from the file's. */
    const char *spec = r->col[9];
    for (int i = 0; i < n_in && spec; i++) {
      int32_t dims[TC_MAX_DIMS];
      int nd = parse_shape(spec, dims);
      tc_tensor_info ti;
      tc_interp_tensor(it, tc_interp_input_index(it, i), &ti);
      if (nd >= 0 && (nd != ti.n_dims || memcmp(dims, ti.dims, sizeof(int32_t) * (size_t)nd)))
        tc_interp_resize_input(it, i, nd, dims);
      spec = strchr(spec, ';');
      if (spec) spec++;
    }
    s = tc_interp_prepare(it);
  }
  if (s != TC_OK) {
    snprintf(why, why_size, "%s: %s", tc_status_str(s), tc_interp_errmsg(it));
    result = (s == TC_ERR_UNSUPPORTED && strstr(g_custom_models, model_rel)) ? -1 : 0;
    goto done;
  }
  for (int i = 0; i < n_in; i++) {
    char rel[512];
    size_t size = 0;
    snprintf(rel, sizeof rel, "models/golden/%s/input_%d.bin", case_dir, i);
    void *data = tc_test_read_file(tc_test_shared(rel), &size);
    s = data ? tc_interp_set_input(it, i, data, size) : TC_ERR_IO;
    free(data);
    if (s) {
      snprintf(why, why_size, "set input %d: %s", i, tc_interp_errmsg(it));
      goto done;
    }
  }
  s = tc_interp_invoke(it);
  if (s) {
    snprintf(why, why_size, "invoke: %s", tc_interp_errmsg(it));
    goto done;
  }
  if (strncmp(tol, "det:", 4) == 0) {
    snprintf(why, why_size, "detection tolerance: compared by golden_detection_* (test_detection.c)");
    result = -1;
    goto done;
  }
  double limit = strcmp(tol, "exact") == 0 ? 0.0 : atof(tol + 4);
  result = 1;
  for (int o = 0; o < n_out && result == 1; o++) {
    char rel[512];
    size_t size = 0;
    snprintf(rel, sizeof rel, "models/golden/%s/output_%d.bin", case_dir, o);
    void *gold = tc_test_read_file(tc_test_shared(rel), &size);
    tc_tensor_info ti;
    tc_interp_tensor(it, tc_interp_output_index(it, o), &ti);
    if (!gold || size != ti.size) {
      snprintf(why, why_size, "output %d: %zu bytes, golden %zu", o, ti.size, size);
      result = 0;
      free(gold);
      break;
    }
    size_t es = tc_dtype_size(ti.dtype), n = es ? size / es : 0, worst_i = 0;
    double worst = 0;
    for (size_t k = 0; k < n; k++) {
      double d = fabs(elem(ti.data, ti.dtype, k) - elem(gold, ti.dtype, k));
      if (!(d <= worst)) {
        worst = d;
        worst_i = k;
      }
    }
    if (!(worst <= limit)) {
      snprintf(why, why_size, "output %d: max |diff| %.3g at %zu (got %.6g, golden %.6g), tol %s",
               o, worst, worst_i, elem(ti.data, ti.dtype, worst_i), elem(gold, ti.dtype, worst_i), tol);
      result = 0;
    }
    if (o == 0 && result == 1 && strcmp(r->col[7], "-") != 0) {
      size_t best = 0;
      for (size_t k = 1; k < n; k++)
        if (elem(ti.data, ti.dtype, k) > elem(ti.data, ti.dtype, best)) best = k;
      if ((long)best != atol(r->col[7])) {
        snprintf(why, why_size, "top-1 %zu, expected %s", best, r->col[7]);
        result = 0;
      }
    }
    free(gold);
  }
done:
  tc_interp_destroy(it);
  tc_model_destroy(m);
  return result;
}

TC_TEST(golden_cases) {
  size_t size = 0;
  char *tsv = tc_test_read_file(tc_test_shared("models/golden/cases.tsv"), &size);
  CHECK_MSG(tsv != NULL, "cannot read %s", tc_test_shared("models/golden/cases.tsv"));
  if (!tsv) return;
  char *text = realloc(tsv, size + 1);
  text[size] = '\0';
  tally t = {0, 0, 0};
  char *save = NULL;
  load_custom_models();
  /* TC_GOLDEN_FILTER=substring runs only the matching cases (for kernel work); each case runs
   * on 1 thread, then on 2 (the kernels split their work over the pool's tasks: rows, column
   * blocks, tiles, and every split must give the golden output); TC_GOLDEN_THREADS=1 (or 2)
   * runs one of the two (the reference re-run under qemu). */
  const char *filter = getenv("TC_GOLDEN_FILTER"), *only = getenv("TC_GOLDEN_THREADS");
  int first = 1;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    if (first) { /* header */
      first = 0;
      continue;
    }
    row r;
    if (split_row(line, &r) < 10) continue;
    if (filter && *filter && !strstr(r.col[1], filter)) continue;
    for (int threads = 1; threads <= 2; threads++) {
      if (only && *only && atoi(only) != threads) continue;
      char why[600] = "";
      int res = run_case(&r, threads, why, sizeof why);
      if (res == 1) t.pass++;
      else if (res < 0) {
        t.skip++;
        fprintf(stderr, "  skip %s (%d thread%s): %s\n", r.col[1], threads, threads > 1 ? "s" : "",
                why);
      } else {
        t.fail++;
        tc_test_fail(__FILE__, __LINE__, "%s (%d thread%s): %s", r.col[1], threads,
                     threads > 1 ? "s" : "", why);
      }
    }
  }
  fprintf(stderr, "  golden (threads: %s): %d passed, %d failed, %d skipped (unsupported)\n",
          only && *only ? only : "1, 2", t.pass, t.fail, t.skip);
  CHECK(t.pass > 0);
  free(text);
}

/* Models marked reject/custom must fail cleanly with a message naming the problem. */
TC_TEST(golden_expect_rejects) {
  size_t size = 0;
  char *tsv = tc_test_read_file(tc_test_shared("models/golden/expect.tsv"), &size);
  CHECK(tsv != NULL);
  if (!tsv) return;
  char *text = realloc(tsv, size + 1);
  text[size] = '\0';
  char *save = NULL;
  int n_checked = 0;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    row r;
    if (split_row(line, &r) < 5) continue;
    if (strcmp(r.col[1], "reject") != 0 && strcmp(r.col[1], "custom") != 0) continue;
    char path[512];
    snprintf(path, sizeof path, "models/%s", r.col[0]);
    tc_model *m = NULL;
    tc_interp *it = NULL;
    tc_status s = tc_model_load_file(tc_test_shared(path), NULL, &m);
    const char *msg = tc_model_errmsg(m);
    if (s == TC_OK) {
      s = tc_interp_create(m, NULL, &it);
      if (s == TC_OK) s = tc_interp_prepare(it);
      if (s == TC_OK) s = tc_interp_invoke(it);
      msg = tc_interp_errmsg(it);
    }
    if (strcmp(r.col[1], "reject") == 0 || s != TC_OK) {
      CHECK_MSG(s != TC_OK, "%s should be rejected", r.col[0]);
      /* The message names the first unsupported custom op of the model. */
      char first_custom[128];
      snprintf(first_custom, sizeof first_custom, "%s", r.col[4]);
      char *colon = strchr(first_custom, ':');
      if (colon) *colon = '\0';
      if (strcmp(first_custom, "-") != 0 && s == TC_ERR_UNSUPPORTED)
        CHECK_MSG(strstr(msg, "custom operator") != NULL, "%s: message '%s'", r.col[0], msg);
      CHECK_MSG(msg && strlen(msg) > 10, "%s: no message", r.col[0]);
      n_checked++;
    }
    tc_interp_destroy(it);
    tc_model_destroy(m);
  }
  CHECK(n_checked >= 2);
  free(text);
}
