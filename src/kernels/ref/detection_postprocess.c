/* detection_postprocess.c: reference box decoding and non-max suppression of TFLite's
 * TFLite_Detection_PostProcess (see detection_postprocess.h for the contract).
 *
 * Single-class NMS, the building block of both modes:
 *   1. keep the boxes whose score is >= score_threshold;
 *   2. order them by decreasing score (stable: ties keep the lower anchor index first);
 *   3. walk that order: an active box is selected (until max_out are selected), and every
 *      later active box whose IoU with it exceeds iou_threshold is deactivated.
 * Fast mode runs it once on each anchor's best class score and reports the anchor's top
 * max_classes_per_detection classes; regular mode runs it per class (at most
 * min(detections_per_class, max_detections) each) and keeps a merged best-max_detections list. */
#include <math.h>
#include <string.h>

#include "kernels/ref/detection_postprocess.h"

static int imin(int a, int b) { return a < b ? a : b; }

static int n_cat(const tc_detpp_params *p) {
  int k = imin(p->max_classes_per_detection, p->n_classes);
  return k < 0 ? 0 : k;
}

size_t tc_detpp_out_slots(const tc_detpp_params *p) {
  if (p->max_detections <= 0 || p->max_classes_per_detection <= 0) return 0;
  return (size_t)p->max_detections * (size_t)p->max_classes_per_detection;
}

void tc_f32_detpp_decode__ref(const tc_detpp_params *p, const float *enc, int enc_stride,
                              const float *anchors, float *decoded) {
  for (int i = 0; i < p->n_boxes; i++) {
    const float *e = enc + (size_t)i * (size_t)enc_stride, *a = anchors + (size_t)i * 4;
    double yc = (double)e[0] / (double)p->y_scale * (double)a[2] + (double)a[0];
    double xc = (double)e[1] / (double)p->x_scale * (double)a[3] + (double)a[1];
    float ycf = (float)yc, xcf = (float)xc;
    float half_h = (float)(0.5 * exp((double)e[2] / (double)p->h_scale) * (double)a[2]);
    float half_w = (float)(0.5 * exp((double)e[3] / (double)p->w_scale) * (double)a[3]);
    float *d = decoded + (size_t)i * 4;
    d[0] = ycf - half_h;
    d[1] = xcf - half_w;
    d[2] = ycf + half_h;
    d[3] = xcf + half_w;
  }
}

float tc_f32_detpp_iou__ref(const float *a, const float *b) {
  float area_a = (a[2] - a[0]) * (a[3] - a[1]);
  float area_b = (b[2] - b[0]) * (b[3] - b[1]);
  if (area_a <= 0 || area_b <= 0) return 0.0f;
  float ymin = a[0] > b[0] ? a[0] : b[0], xmin = a[1] > b[1] ? a[1] : b[1];
  float ymax = a[2] < b[2] ? a[2] : b[2], xmax = a[3] < b[3] ? a[3] : b[3];
  float ih = ymax - ymin, iw = xmax - xmin;
  float inter = (ih > 0 ? ih : 0.0f) * (iw > 0 ? iw : 0.0f);
  return inter / (area_a + area_b - inter);
}

/* Scratch, carved in 4-byte words. */
typedef struct {
  int *keep_idx, *order, *tmp, *selected;
  float *keep_score, *row_scores; /* row_scores: fast max_scores / regular class_scores */
  unsigned char *active;          /* n_boxes bytes, placed after the words */
  unsigned char *taken;           /* fast: n_classes bytes, the current row's chosen classes */
  int *cls;                       /* fast: [n_boxes, n_cat] */
  int *info_idx, *merge_idx;      /* regular: max_detections + per-class entries */
  float *info_score, *merge_score;
} work;

static size_t merge_cap(const tc_detpp_params *p) {
  int dpc = imin(p->detections_per_class, p->max_detections);
  return (size_t)(p->max_detections > 0 ? p->max_detections : 0) + (size_t)(dpc > 0 ? dpc : 0);
}

size_t tc_detpp_scratch_size(const tc_detpp_params *p) {
  size_t n = (size_t)(p->n_boxes > 0 ? p->n_boxes : 0);
  size_t words = 6 * n + n * (size_t)n_cat(p) + 4 * merge_cap(p);
  return words * 4 + n + (size_t)(p->n_classes > 0 ? p->n_classes : 0) + 16;
}

static void carve(const tc_detpp_params *p, void *scratch, work *w) {
  size_t n = (size_t)(p->n_boxes > 0 ? p->n_boxes : 0), m = merge_cap(p);
  int *iw = scratch;
  w->keep_idx = iw;
  w->order = iw + n;
  w->tmp = iw + 2 * n;
  w->selected = iw + 3 * n;
  w->keep_score = (float *)(iw + 4 * n);
  w->row_scores = (float *)(iw + 5 * n);
  w->cls = iw + 6 * n;
  int *rest = w->cls + n * (size_t)n_cat(p);
  w->info_idx = rest;
  w->merge_idx = rest + m;
  w->info_score = (float *)(rest + 2 * m);
  w->merge_score = (float *)(rest + 3 * m);
  w->active = (unsigned char *)(rest + 4 * m);
  w->taken = w->active + n;
}

/* Stable argsort of v[0..n) by decreasing value (bottom-up merge sort through tmp). */
static void argsort_desc(const float *v, int *idx, int *tmp, int n) {
  for (int i = 0; i < n; i++) idx[i] = i;
  for (int width = 1; width < n; width *= 2) {
    for (int lo = 0; lo < n; lo += 2 * width) {
      int mid = imin(lo + width, n), hi = imin(lo + 2 * width, n), a = lo, b = mid, k = lo;
      while (a < mid && b < hi) tmp[k++] = v[idx[b]] > v[idx[a]] ? idx[b++] : idx[a++];
      while (a < mid) tmp[k++] = idx[a++];
      while (b < hi) tmp[k++] = idx[b++];
    }
    memcpy(idx, tmp, sizeof(int) * (size_t)n);
    if (width > n / 2) break; /* also avoids overflow of width * 2 */
  }
}

/* Single-class NMS over scores[0..n_boxes); selected anchors go to w->selected in selection
 * order. Returns how many were selected. */
static int nms_single(const tc_detpp_params *p, const float *decoded, const float *scores,
                      int max_out, work *w) {
  int kept = 0;
  for (int i = 0; i < p->n_boxes; i++)
    if (scores[i] >= p->score_threshold) {
      w->keep_idx[kept] = i;
      w->keep_score[kept++] = scores[i];
    }
  argsort_desc(w->keep_score, w->order, w->tmp, kept);
  int out_size = imin(kept, max_out), n_sel = 0, n_active = kept;
  if (kept > 0) memset(w->active, 1, (size_t)kept);
  for (int i = 0; i < kept; i++) {
    if (n_active == 0 || n_sel >= out_size) break;
    if (!w->active[i]) continue;
    int bi = w->keep_idx[w->order[i]];
    w->selected[n_sel++] = bi;
    w->active[i] = 0;
    n_active--;
    for (int j = i + 1; j < kept; j++) {
      if (!w->active[j]) continue;
      int bj = w->keep_idx[w->order[j]];
      if (tc_f32_detpp_iou__ref(decoded + (size_t)bi * 4, decoded + (size_t)bj * 4) >
          p->iou_threshold) {
        w->active[j] = 0;
        n_active--;
      }
    }
  }
  return n_sel;
}

static void put(float *out_boxes, float *out_classes, float *out_scores, size_t slot,
                const float *box, int cls, float score) {
  memcpy(out_boxes + slot * 4, box, 4 * sizeof(float));
  out_classes[slot] = (float)cls;
  out_scores[slot] = score;
}

static int nms_fast(const tc_detpp_params *p, const float *decoded, const float *scores, work *w,
                    float *out_boxes, float *out_classes, float *out_scores) {
  int ncat = n_cat(p), off = p->n_classes_bg - p->n_classes;
  if (ncat <= 0) return 0;
  for (int row = 0; row < p->n_boxes; row++) {
    const float *sc = scores + (size_t)row * (size_t)p->n_classes_bg + off;
    int *cls = w->cls + (size_t)row * (size_t)ncat;
    /* top ncat classes; first index wins ties (TFLite's ArgMax for ncat == 1). A byte per
     * class marks those chosen, so a row costs ncat * n_classes steps, not ncat^2 * n_classes. */
    memset(w->taken, 0, (size_t)p->n_classes);
    for (int k = 0; k < ncat; k++) {
      int best = -1;
      for (int c = 0; c < p->n_classes; c++)
        if (!w->taken[c] && (best < 0 || sc[c] > sc[best])) best = c;
      cls[k] = best;
      w->taken[best] = 1;
    }
    w->row_scores[row] = sc[cls[0]];
  }
  int n_sel = nms_single(p, decoded, w->row_scores, p->max_detections, w);
  for (int k = 0; k < n_sel; k++) {
    int a = w->selected[k];
    const float *sc = scores + (size_t)a * (size_t)p->n_classes_bg + off;
    const int *cls = w->cls + (size_t)a * (size_t)ncat;
    for (int col = 0; col < ncat; col++)
      put(out_boxes, out_classes, out_scores,
          (size_t)p->max_classes_per_detection * (size_t)k + (size_t)col,
          decoded + (size_t)a * 4, cls[col], sc[cls[col]]);
  }
  return n_sel;
}

static int nms_regular(const tc_detpp_params *p, const float *decoded, const float *scores,
                       work *w, float *out_boxes, float *out_classes, float *out_scores) {
  int off = p->n_classes_bg - p->n_classes, size = 0;
  int dpc = imin(p->detections_per_class, p->max_detections);
  if (dpc <= 0) return 0;
  for (int col = 0; col < p->n_classes; col++) {
    for (int row = 0; row < p->n_boxes; row++)
      w->row_scores[row] = scores[(size_t)row * (size_t)p->n_classes_bg + (size_t)(col + off)];
    int n_sel = nms_single(p, decoded, w->row_scores, dpc, w);
    if (n_sel == 0) continue;
    /* Merge the kept list with this class's (both by decreasing score). As TFLite's
     * inplace_merge with `>=`, a new entry goes before an equal-scored old one. */
    int a = 0, b = 0, k = 0;
    while (a < size || b < n_sel) {
      int take_new = a >= size ||
                     (b < n_sel && w->row_scores[w->selected[b]] >= w->info_score[a]);
      if (take_new) {
        int s = w->selected[b++];
        w->merge_idx[k] = s * p->n_classes_bg + col + off;
        w->merge_score[k++] = w->row_scores[s];
      } else {
        w->merge_idx[k] = w->info_idx[a];
        w->merge_score[k++] = w->info_score[a++];
      }
    }
    size = imin(k, p->max_detections);
    memcpy(w->info_idx, w->merge_idx, sizeof(int) * (size_t)size);
    memcpy(w->info_score, w->merge_score, sizeof(float) * (size_t)size);
  }
  for (int k = 0; k < size; k++) {
    int anchor = w->info_idx[k] / p->n_classes_bg;
    int cls = w->info_idx[k] - anchor * p->n_classes_bg - off;
    put(out_boxes, out_classes, out_scores, (size_t)k, decoded + (size_t)anchor * 4, cls,
        w->info_score[k]);
  }
  return size;
}

int tc_f32_detpp_nms__ref(const tc_detpp_params *p, const float *decoded, const float *scores,
                          void *scratch, float *out_boxes, float *out_classes,
                          float *out_scores, float *count) {
  size_t slots = tc_detpp_out_slots(p);
  memset(out_boxes, 0, slots * 4 * sizeof(float));
  memset(out_classes, 0, slots * sizeof(float));
  memset(out_scores, 0, slots * sizeof(float));
  *count = 0;
  for (int i = 0; i < p->n_boxes; i++) {
    const float *d = decoded + (size_t)i * 4;
    if (d[0] > d[2] || d[1] > d[3]) return -1;
  }
  work w;
  carve(p, scratch, &w);
  int n = p->use_regular_nms ? nms_regular(p, decoded, scores, &w, out_boxes, out_classes,
                                           out_scores)
                             : nms_fast(p, decoded, scores, &w, out_boxes, out_classes, out_scores);
  *count = (float)n;
  return 0;
}
