/* test_detpp.c: reference kernels of TFLite_Detection_PostProcess (box decoding, IoU, fast and
 * regular NMS) on small hand-worked cases, and the op's option checks through the real SSD
 * model with its custom_options patched in memory. */
#include <stdlib.h>

#include "kernels/ref/detection_postprocess.h"
#include "lite/model.h"
#include "tc_test.h"
#include "tensorc_lite.h"

static tc_detpp_params base_params(void) {
  tc_detpp_params p;
  memset(&p, 0, sizeof p);
  p.y_scale = p.x_scale = 10.0f;
  p.h_scale = p.w_scale = 5.0f;
  p.score_threshold = 0.3f;
  p.iou_threshold = 0.5f;
  p.detections_per_class = 100;
  p.max_classes_per_detection = 1;
  return p;
}

TC_TEST(kernel_detpp_decode) {
  tc_detpp_params p = base_params();
  p.n_boxes = 2;
  /* rows of 6: y, x, h, w and two ignored keypoint columns */
  const float enc[12] = {0, 0, 0, 0, 99, 99, 1, -2, (float)(5.0 * log(2.0)), 0, -99, -99};
  const float anchors[8] = {0.5f, 0.5f, 1, 1, 0.2f, 0.3f, 0.4f, 0.2f};
  float d[8];
  tc_f32_detpp_decode__ref(&p, enc, 6, anchors, d);
  /* box 0: centre (0.5, 0.5), size 1x1 */
  CHECK_NEAR(d[0], 0, 1e-7);
  CHECK_NEAR(d[1], 0, 1e-7);
  CHECK_NEAR(d[2], 1, 1e-7);
  CHECK_NEAR(d[3], 1, 1e-7);
  /* box 1: yc = 1/10*0.4 + 0.2 = 0.24, xc = -2/10*0.2 + 0.3 = 0.26,
   * half_h = 0.5*exp(ln 2)*0.4 = 0.4, half_w = 0.5*1*0.2 = 0.1 */
  CHECK_NEAR(d[4], -0.16, 1e-6);
  CHECK_NEAR(d[5], 0.16, 1e-6);
  CHECK_NEAR(d[6], 0.64, 1e-6);
  CHECK_NEAR(d[7], 0.36, 1e-6);
}

TC_TEST(kernel_detpp_iou) {
  const float a[4] = {0, 0, 1, 1}, b[4] = {0, 0.5f, 1, 1.5f}, big[4] = {0, 0, 2, 2};
  const float far[4] = {5, 5, 6, 6}, flat[4] = {0, 0, 0, 1};
  CHECK_NEAR(tc_f32_detpp_iou__ref(a, b), 1.0 / 3.0, 1e-6);
  CHECK_NEAR(tc_f32_detpp_iou__ref(a, a), 1.0, 0);
  CHECK_NEAR(tc_f32_detpp_iou__ref(a, big), 0.25, 0);
  CHECK_NEAR(tc_f32_detpp_iou__ref(a, far), 0.0, 0);
  CHECK_NEAR(tc_f32_detpp_iou__ref(a, flat), 0.0, 0); /* zero area */
  CHECK_NEAR(tc_f32_detpp_iou__ref(flat, flat), 0.0, 0);
}

/* Five boxes: b1 overlaps b0 (IoU 0.818), b3 touches b2 (IoU 1/3), b4 is far away.
 * Score columns: background, c0, c1, c2. */
static const float g_boxes[20] = {0, 0, 1, 1,   0, 0.1f, 1, 1.1f, 2, 2, 3, 3,
                                  2, 2.5f, 3, 3.5f, 5, 5, 6, 6};
static const float g_scores[20] = {0.99f, 0.7f,  0.2f, 0.1f,  0, 0.1f, 0.8f, 0.3f,
                                   0,     0.6f,  0.6f, 0.1f,  0, 0.05f, 0.1f, 0.65f,
                                   0,     0.2f,  0.1f, 0.05f};

typedef struct {
  float boxes[64 * 4], classes[64], scores[64], count;
} result;

static int run_nms(const tc_detpp_params *p, const float *scores, result *r) {
  void *scratch = malloc(tc_detpp_scratch_size(p));
  memset(r, 0x55, sizeof *r); /* the kernel must overwrite every slot */
  int rc = tc_f32_detpp_nms__ref(p, g_boxes, scores, scratch, r->boxes, r->classes, r->scores,
                                 &r->count);
  free(scratch);
  return rc;
}

static void check_det(const result *r, int slot, int box, int cls, float score) {
  for (int k = 0; k < 4; k++) CHECK_NEAR(r->boxes[slot * 4 + k], g_boxes[box * 4 + k], 0);
  CHECK_NEAR(r->classes[slot], cls, 0);
  CHECK_NEAR(r->scores[slot], score, 0);
}

static void check_empty(const result *r, int slot) {
  for (int k = 0; k < 4; k++) CHECK_NEAR(r->boxes[slot * 4 + k], 0, 0);
  CHECK_NEAR(r->classes[slot], 0, 0);
  CHECK_NEAR(r->scores[slot], 0, 0);
}

TC_TEST(kernel_detpp_fast_nms) {
  tc_detpp_params p = base_params();
  p.n_boxes = 5;
  p.n_classes = 3;
  p.n_classes_bg = 4;
  p.max_detections = 4;
  result r;
  /* best class per box: b0 c0 .7, b1 c1 .8, b2 c0 .6 (tie with c1: first wins), b3 c2 .65,
   * b4 c0 .2 (< .3). Order b1, b0, b3, b2: b1 suppresses b0; b3 and b2 overlap by 1/3 only. */
  CHECK_EQ(run_nms(&p, g_scores, &r), 0);
  CHECK_NEAR(r.count, 3, 0);
  check_det(&r, 0, 1, 1, 0.8f);
  check_det(&r, 1, 3, 2, 0.65f);
  check_det(&r, 2, 2, 0, 0.6f);
  check_empty(&r, 3);
  CHECK_EQ(tc_detpp_out_slots(&p), 4);
  /* max_detections caps the count */
  p.max_detections = 2;
  CHECK_EQ(run_nms(&p, g_scores, &r), 0);
  CHECK_NEAR(r.count, 2, 0);
  check_det(&r, 0, 1, 1, 0.8f);
  check_det(&r, 1, 3, 2, 0.65f);
  /* a stricter IoU threshold (0.3) lets b3 suppress b2 */
  p.max_detections = 4;
  p.iou_threshold = 0.3f;
  CHECK_EQ(run_nms(&p, g_scores, &r), 0);
  CHECK_NEAR(r.count, 2, 0);
  check_empty(&r, 2);
  /* two classes per detection: slot = 2 * detection + rank */
  p.iou_threshold = 0.5f;
  p.max_classes_per_detection = 2;
  CHECK_EQ(tc_detpp_out_slots(&p), 8);
  CHECK_EQ(run_nms(&p, g_scores, &r), 0);
  CHECK_NEAR(r.count, 3, 0);
  check_det(&r, 0, 1, 1, 0.8f);
  check_det(&r, 1, 1, 2, 0.3f);
  check_det(&r, 2, 3, 2, 0.65f);
  check_det(&r, 3, 3, 1, 0.1f);
  check_det(&r, 4, 2, 0, 0.6f);
  check_det(&r, 5, 2, 1, 0.6f);
  check_empty(&r, 6);
  check_empty(&r, 7);
  /* everything below the threshold: nothing, all slots zero */
  p.score_threshold = 0.995f;
  CHECK_EQ(run_nms(&p, g_scores, &r), 0);
  CHECK_NEAR(r.count, 0, 0);
  for (int s = 0; s < 8; s++) check_empty(&r, s);
}

TC_TEST(kernel_detpp_fast_nms_no_background) {
  /* num_classes == score columns: no label offset, column 0 is a real class */
  tc_detpp_params p = base_params();
  p.n_boxes = 5;
  p.n_classes = 4;
  p.n_classes_bg = 4;
  p.max_detections = 1;
  result r;
  CHECK_EQ(run_nms(&p, g_scores, &r), 0);
  CHECK_NEAR(r.count, 1, 0);
  check_det(&r, 0, 0, 0, 0.99f);
}

TC_TEST(kernel_detpp_regular_nms) {
  tc_detpp_params p = base_params();
  p.n_boxes = 5;
  p.n_classes = 3;
  p.n_classes_bg = 4;
  p.max_detections = 4;
  p.detections_per_class = 2;
  p.use_regular_nms = 1;
  result r;
  /* c0: b0 .7, b2 .6   c1: b1 .8, b2 .6   c2: b3 .65, b1 .3 (== threshold: kept)
   * merged by score, a new class's entry before an equal old one, cut at 4:
   * b1c1 .8, b0c0 .7, b3c2 .65, b2c1 .6  (b0 survives: b1 suppresses it only within c1) */
  CHECK_EQ(run_nms(&p, g_scores, &r), 0);
  CHECK_NEAR(r.count, 4, 0);
  check_det(&r, 0, 1, 1, 0.8f);
  check_det(&r, 1, 0, 0, 0.7f);
  check_det(&r, 2, 3, 2, 0.65f);
  check_det(&r, 3, 2, 1, 0.6f);
  /* b0 scoring .75 in c1 is suppressed there by b1 (.8), so the result does not change */
  float s2[20];
  memcpy(s2, g_scores, sizeof s2);
  s2[2] = 0.75f;
  CHECK_EQ(run_nms(&p, s2, &r), 0);
  CHECK_NEAR(r.count, 4, 0);
  check_det(&r, 1, 0, 0, 0.7f);
  /* detections_per_class 1: c0 b0, c1 b1, c2 b3 */
  p.detections_per_class = 1;
  CHECK_EQ(run_nms(&p, g_scores, &r), 0);
  CHECK_NEAR(r.count, 3, 0);
  check_det(&r, 0, 1, 1, 0.8f);
  check_det(&r, 1, 0, 0, 0.7f);
  check_det(&r, 2, 3, 2, 0.65f);
  check_empty(&r, 3);
  /* output slots beyond max_detections (max_classes_per_detection 2) stay zero */
  p.max_classes_per_detection = 2;
  CHECK_EQ(run_nms(&p, g_scores, &r), 0);
  for (int s = 3; s < 8; s++) check_empty(&r, s);
}

TC_TEST(kernel_detpp_invalid_box) {
  tc_detpp_params p = base_params();
  p.n_boxes = 1;
  p.n_classes = 1;
  p.n_classes_bg = 1;
  p.max_detections = 1;
  const float box[4] = {1, 0, 0, 1}, score[1] = {0.9f};
  float ob[4], oc[1], os[1], cnt = -1;
  void *scratch = malloc(tc_detpp_scratch_size(&p));
  CHECK_EQ(tc_f32_detpp_nms__ref(&p, box, score, scratch, ob, oc, os, &cnt), -1);
  CHECK_NEAR(cnt, 0, 0);
  free(scratch);
}

/* ---- option checks through the SSD model, its custom_options patched in memory ---------- */

static const char *g_ssd = "models/tflite_support/ssd_mobilenet_v1_quant.tflite";

/* Loads the SSD from memory, applies `patch` to its custom_options, creates an interpreter;
 * returns the create status and copies the message. */
static tc_status create_patched(void (*patch)(uint8_t *opts, size_t n), char *msg, size_t msz) {
  size_t size = 0;
  uint8_t *bytes = tc_test_read_file(tc_test_shared(g_ssd), &size);
  tc_model *m = NULL;
  tc_interp *it = NULL;
  msg[0] = '\0';
  if (!bytes) return TC_ERR_IO;
  tc_status s = tc_model_load_memory(bytes, size, NULL, &m);
  if (s == TC_OK) {
    const tc__msubgraph *sg = &m->subgraphs[0];
    for (int i = 0; i < sg->n_ops; i++) {
      const tc__mopcode *oc = &m->opcodes[sg->ops[i].opcode];
      if (oc->custom && strcmp(oc->custom, "TFLite_Detection_PostProcess") == 0)
        patch((uint8_t *)sg->ops[i].custom_options, sg->ops[i].custom_options_size);
    }
    s = tc_interp_create(m, NULL, &it);
    snprintf(msg, msz, "%s", tc_interp_errmsg(it));
  }
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(bytes);
  return s;
}

static void rename_key(uint8_t *o, size_t n, const char *key, char last) {
  size_t kl = strlen(key);
  for (size_t i = 0; i + kl < n; i++)
    if (memcmp(o + i, key, kl + 1) == 0) o[i + kl - 1] = (uint8_t)last;
}
static void patch_none(uint8_t *o, size_t n) { (void)o, (void)n; }
static void patch_num_classes(uint8_t *o, size_t n) { rename_key(o, n, "num_classes", 'X'); }
static void patch_y_scale(uint8_t *o, size_t n) { rename_key(o, n, "y_scale", 'X'); }
static void patch_root_width(uint8_t *o, size_t n) { o[n - 1] = 3; }
static void patch_root_type(uint8_t *o, size_t n) { o[n - 2] = 1 << 2; /* INT */ }

TC_TEST(kernel_detpp_op_options) {
  char msg[512];
  tc_status s = create_patched(patch_none, msg, sizeof msg);
  CHECK_MSG(s == TC_OK, "unpatched SSD: %s", msg);
  s = create_patched(patch_num_classes, msg, sizeof msg);
  CHECK(s != TC_OK);
  CHECK_STR_CONTAINS(msg, "num_classes");
  CHECK_STR_CONTAINS(msg, "TFLite_Detection_PostProcess");
  s = create_patched(patch_y_scale, msg, sizeof msg);
  CHECK(s != TC_OK);
  CHECK_STR_CONTAINS(msg, "y_scale");
  s = create_patched(patch_root_width, msg, sizeof msg);
  CHECK(s != TC_OK);
  CHECK_STR_CONTAINS(msg, "FlexBuffer");
  s = create_patched(patch_root_type, msg, sizeof msg);
  CHECK(s != TC_OK);
  CHECK_STR_CONTAINS(msg, "FlexBuffer");
}
