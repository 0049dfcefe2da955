/* test_detection.c: the SSD detector (TFLite_Detection_PostProcess) against its golden cases in
 * ../shared/models/golden, compared with the `det:T:B:S` rule of the golden README: equal
 * detection count, and every golden detection with score >= T matched by a distinct output
 * detection of the same class, all four box coordinates within B and score within S. Order is
 * not compared (scores come in 1/256 steps and tie order is implementation-defined). */
#include <stdlib.h>

#include "tc_test.h"
#include "tensorc_lite.h"

#define MAX_DET 64

typedef struct {
  int n; /* slots */
  float boxes[MAX_DET][4], classes[MAX_DET], scores[MAX_DET], count;
} dets;

/* Finds the case row in cases.tsv and returns its tolerance column (static buffer). */
static const char *case_tolerance(const char *case_dir) {
  static char tol[64];
  size_t size = 0;
  char *tsv = tc_test_read_file(tc_test_shared("models/golden/cases.tsv"), &size);
  tol[0] = '\0';
  if (!tsv) return tol;
  char *text = realloc(tsv, size + 1);
  text[size] = '\0';
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *c1 = strchr(line, '\t');
    if (!c1 || strncmp(c1 + 1, case_dir, strlen(case_dir)) || c1[1 + strlen(case_dir)] != '\t')
      continue;
    char *col = c1 + 1;
    for (int k = 1; k < 6 && col; k++) col = strchr(col, '\t') ? strchr(col, '\t') + 1 : NULL;
    if (col) {
      size_t l = strcspn(col, "\t");
      snprintf(tol, sizeof tol, "%.*s", (int)(l < sizeof tol ? l : sizeof tol - 1), col);
    }
    break;
  }
  free(text);
  return tol;
}

static int read_golden(const char *case_dir, int n_slots, dets *g) {
  char rel[512];
  size_t sizes[4], want[4] = {(size_t)n_slots * 16, (size_t)n_slots * 4, (size_t)n_slots * 4, 4};
  void *dst[4] = {g->boxes, g->classes, g->scores, &g->count};
  for (int o = 0; o < 4; o++) {
    snprintf(rel, sizeof rel, "models/golden/%s/output_%d.bin", case_dir, o);
    void *data = tc_test_read_file(tc_test_shared(rel), &sizes[o]);
    if (!data || sizes[o] != want[o]) {
      free(data);
      return 0;
    }
    memcpy(dst[o], data, sizes[o]);
    free(data);
  }
  g->n = n_slots;
  return 1;
}

static void print_dets(const char *what, const dets *d) {
  fprintf(stderr, "  %s: %d detections\n", what, (int)d->count);
  for (int k = 0; k < (int)d->count && k < d->n; k++)
    fprintf(stderr, "    class %2d score %.4f box [%.4f %.4f %.4f %.4f]\n", (int)d->classes[k],
            d->scores[k], d->boxes[k][0], d->boxes[k][1], d->boxes[k][2], d->boxes[k][3]);
}

/* Runs one golden SSD case; `expect_classes` (terminated by -1) must be among the matched
 * detections. */
static void run_ssd_case(const char *case_dir, const int *expect_classes) {
  const char *tol = case_tolerance(case_dir);
  double t_score, t_box, t_sc;
  CHECK_MSG(sscanf(tol, "det:%lf:%lf:%lf", &t_score, &t_box, &t_sc) == 3,
            "%s: tolerance '%s' is not det:T:B:S", case_dir, tol);
  if (sscanf(tol, "det:%lf:%lf:%lf", &t_score, &t_box, &t_sc) != 3) return;
  tc_model *m = NULL;
  tc_interp *it = NULL;
  tc_status s = tc_model_load_file(
      tc_test_shared("models/tflite_support/ssd_mobilenet_v1_quant.tflite"), NULL, &m);
  CHECK_MSG(s == TC_OK, "load: %s", tc_model_errmsg(m));
  if (s == TC_OK) s = tc_interp_create(m, NULL, &it);
  if (s == TC_OK) s = tc_interp_prepare(it);
  if (s == TC_ERR_UNSUPPORTED) {
    /* another operator of the model is not there yet (uint8 conv...): report, do not fail */
    fprintf(stderr, "  skip %s: %s\n", case_dir, tc_interp_errmsg(it));
    goto done;
  }
  CHECK_MSG(s == TC_OK, "%s: %s", case_dir, tc_interp_errmsg(it));
  if (s) goto done;
  /* outputs get their shapes at prepare: [1,D,4] [1,D] [1,D] [1] */
  tc_tensor_info ti[4];
  for (int o = 0; o < 4; o++) tc_interp_tensor(it, tc_interp_output_index(it, o), &ti[o]);
  CHECK_EQ(ti[0].n_dims, 3);
  CHECK_EQ(ti[0].dims[2], 4);
  CHECK_EQ(ti[1].n_dims, 2);
  CHECK_EQ(ti[3].n_dims, 1);
  CHECK_EQ(ti[3].dims[0], 1);
  int n_slots = ti[0].dims[1];
  CHECK(n_slots > 0 && n_slots <= MAX_DET);
  if (n_slots <= 0 || n_slots > MAX_DET) goto done;
  char rel[512];
  size_t size = 0;
  snprintf(rel, sizeof rel, "models/golden/%s/input_0.bin", case_dir);
  void *in = tc_test_read_file(tc_test_shared(rel), &size);
  CHECK(in != NULL);
  s = in ? tc_interp_set_input(it, 0, in, size) : TC_ERR_IO;
  free(in);
  if (s == TC_OK) s = tc_interp_invoke(it);
  CHECK_MSG(s == TC_OK, "%s: %s", case_dir, tc_interp_errmsg(it));
  if (s) goto done;
  dets got, gold;
  got.n = n_slots;
  memcpy(got.boxes, ti[0].data, (size_t)n_slots * 16);
  tc_interp_tensor(it, tc_interp_output_index(it, 1), &ti[1]);
  memcpy(got.classes, ti[1].data, (size_t)n_slots * 4);
  memcpy(got.scores, ti[2].data, (size_t)n_slots * 4);
  memcpy(&got.count, ti[3].data, 4);
  CHECK_MSG(read_golden(case_dir, n_slots, &gold), "%s: golden outputs missing or mis-sized",
            case_dir);
  if (!gold.n) goto done;
  CHECK_NEAR(got.count, gold.count, 0);
  /* match each thresholded golden detection to the closest unused output detection */
  int used[MAX_DET] = {0}, found[128] = {0}, n_got = (int)got.count, failed = 0;
  if (n_got > n_slots) n_got = n_slots;
  for (int k = 0; k < (int)gold.count && k < n_slots; k++) {
    if (gold.scores[k] < t_score) continue;
    int best = -1;
    double best_d = 0;
    for (int j = 0; j < n_got; j++) {
      if (used[j] || got.classes[j] != gold.classes[k]) continue;
      if (fabs(got.scores[j] - gold.scores[k]) > t_sc) continue;
      double d = 0;
      for (int c = 0; c < 4; c++) {
        double e = fabs(got.boxes[j][c] - gold.boxes[k][c]);
        d = e > d ? e : d;
      }
      if (d <= t_box && (best < 0 || d < best_d)) best = j, best_d = d;
    }
    CHECK_MSG(best >= 0, "%s: golden detection %d (class %d, score %.4f) not matched", case_dir,
              k, (int)gold.classes[k], gold.scores[k]);
    if (best < 0) failed = 1;
    else {
      used[best] = 1;
      int cls = (int)gold.classes[k];
      if (cls >= 0 && cls < 128) found[cls]++;
    }
  }
  for (int e = 0; expect_classes[e] >= 0; e++)
    CHECK_MSG(found[expect_classes[e]] > 0, "%s: expected object class %d not found", case_dir,
              expect_classes[e]);
  if (failed || got.count != gold.count) {
    print_dets("tensorc", &got);
    print_dets("golden", &gold);
  }
done:
  tc_interp_destroy(it);
  tc_model_destroy(m);
}

/* multi_objects.jpg: traffic light (9), two chairs (61) and a clock (84) above 0.5 */
TC_TEST(golden_detection_ssd_multi_objects) {
  static const int expect[] = {9, 61, 84, -1};
  run_ssd_case("tflite_support/ssd_mobilenet_v1_quant/multi_objects", expect);
}

/* seeded random image: one clearly separated refrigerator (81) above 0.2 */
TC_TEST(golden_detection_ssd_random) {
  static const int expect[] = {81, -1};
  run_ssd_case("tflite_support/ssd_mobilenet_v1_quant/random", expect);
}
