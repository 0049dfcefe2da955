/* detection_postprocess.h: reference kernels of TFLite's TFLite_Detection_PostProcess custom
 * operator (the SSD detector's last step): decode center-size box encodings against anchors,
 * then non-max suppression, either "fast" (class-agnostic: one NMS over each anchor's best
 * class score, keeping max_classes_per_detection classes per box) or "regular" (one NMS per
 * class, merged, best max_detections kept). Float arrays only; the op glue dequantizes. */
#ifndef TC_KERNELS_REF_DETECTION_POSTPROCESS_H
#define TC_KERNELS_REF_DETECTION_POSTPROCESS_H
#include <stddef.h>

typedef struct tc_detpp_params {
  int n_boxes;      /* anchors (rows of the encodings and score matrices) */
  int n_classes;    /* real classes (the num_classes option) */
  int n_classes_bg; /* columns of the score matrix; n_classes_bg - n_classes leading columns
                       (background) are skipped */
  int max_detections;
  int max_classes_per_detection; /* fast NMS */
  int detections_per_class;      /* regular NMS */
  int use_regular_nms;
  float score_threshold; /* boxes with score >= threshold take part */
  float iou_threshold;   /* a box is suppressed when IoU > threshold; in (0, 1] */
  float y_scale, x_scale, h_scale, w_scale;
} tc_detpp_params;

/* Output slots: max_detections * max_classes_per_detection (TFLite's output shape). */
size_t tc_detpp_out_slots(const tc_detpp_params *p);

/* Decodes n_boxes encodings (y, x, h, w first in each row of `enc_stride` floats; extra
 * columns such as keypoints are ignored) against anchors [n_boxes, 4] (y, x, h, w) into
 * corners [n_boxes, 4] (ymin, xmin, ymax, xmax):
 *   yc = y / y_scale * ah + ay,  half_h = 0.5 * exp(h / h_scale) * ah  (same for x / w),
 * in double precision as TFLite does. */
void tc_f32_detpp_decode__ref(const tc_detpp_params *p, const float *enc, int enc_stride,
                              const float *anchors, float *decoded);

/* Bytes of scratch tc_f32_detpp_nms__ref needs. */
size_t tc_detpp_scratch_size(const tc_detpp_params *p);

/* Non-max suppression over decoded boxes [n_boxes, 4] and scores [n_boxes, n_classes_bg].
 * Writes boxes [slots, 4], classes [slots] (class index without background, as float), scores
 * [slots] and *count (number of detections) with slots = tc_detpp_out_slots(p); unused slots
 * are zero. Order: decreasing score, ties by lower anchor index (fast) / TFLite's merge order
 * (regular). Returns 0, or -1 if a decoded box has ymin > ymax or xmin > xmax (TFLite rejects
 * those). `scratch` holds tc_detpp_scratch_size(p) bytes, aligned for float. */
int tc_f32_detpp_nms__ref(const tc_detpp_params *p, const float *decoded, const float *scores,
                          void *scratch, float *out_boxes, float *out_classes,
                          float *out_scores, float *count);

/* IoU of two corner boxes (0 when either has area <= 0), as TFLite computes it. */
float tc_f32_detpp_iou__ref(const float *a, const float *b);

#endif
