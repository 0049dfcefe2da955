/* detection_postprocess.c: the TFLite_Detection_PostProcess custom operator (SSD detectors).
 * Options come from the custom_options FlexBuffer map (read with lite/flexbuf.h at init);
 * inputs are box encodings [1, N, >=4], class scores [1, N, num_classes (+ background)] and
 * anchors [N, 4], each float32 or per-tensor quantized uint8/int8 (dequantized at invoke into
 * scratch). Outputs, whose shapes are empty in the files, get their shapes here: boxes
 * [1, D, 4], classes [1, D], scores [1, D], count [1] with D = max_detections *
 * max_classes_per_detection. The math is in kernels/ref/detection_postprocess.c. */
#include <math.h>
#include <stdint.h>

#include "kernels/ref/detection_postprocess.h"
#include "lite/flexbuf.h"
#include "lite/ops.h"

typedef struct {
  tc_detpp_params p; /* n_boxes, n_classes_bg set in prepare */
  int enc_stride;
  int slot; /* scratch slot */
} detpp_state;

/* Reads one option; `required` options that are absent fail. */
static tc_status opt_num(tc__ctx *c, tc__node *n, tc__fx *fx, const tc__fxref *map,
                         const char *key, int required, double dflt, int is_int, double *out) {
  tc__fxref v;
  tc__fx_res r = tc__fx_map_find(fx, map, key, &v);
  if (r == TC_FX_ABSENT) {
    if (required)
      return tc__fail(c, n, TC_ERR_MODEL, "custom option '%s' is missing", key);
    *out = dflt;
    return TC_OK;
  }
  if (r == TC_FX_OK) {
    if (is_int) {
      int64_t i = 0;
      r = tc__fx_int(fx, &v, &i);
      if (r == TC_FX_OK && (i < INT32_MIN || i > INT32_MAX))
        return tc__fail(c, n, TC_ERR_MODEL, "custom option '%s' = %lld is out of range", key,
                        (long long)i);
      *out = (double)i;
    } else {
      r = tc__fx_double(fx, &v, out);
    }
  }
  if (r != TC_FX_OK)
    return tc__fail(c, n, TC_ERR_MODEL, "custom option '%s': %s", key,
                    r == TC_FX_BAD ? fx->why : "missing");
  return TC_OK;
}

static tc_status detpp_init(tc__ctx *c, tc__node *n) {
  detpp_state *st = tc__persist_alloc(c, sizeof *st);
  if (!st) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  n->state = st;
  tc__fx fx = {n->m->custom_options, n->m->custom_options_size, ""};
  tc__fxref root;
  if (!fx.buf || fx.size == 0)
    return tc__fail(c, n, TC_ERR_MODEL, "custom options (a FlexBuffer map) are missing");
  if (tc__fx_root(&fx, &root) != TC_FX_OK || root.type != TC_FXT_MAP)
    return tc__fail(c, n, TC_ERR_MODEL, "custom options are not a FlexBuffer map (%s)",
                    fx.why[0] ? fx.why : "root is not a map");
  static const struct {
    const char *key;
    int required, is_int;
    double dflt;
  } keys[] = {{"max_detections", 1, 1, 0},      {"max_classes_per_detection", 1, 1, 0},
              {"detections_per_class", 0, 1, 100}, {"use_regular_nms", 0, 1, 0},
              {"nms_score_threshold", 1, 0, 0},  {"nms_iou_threshold", 1, 0, 0},
              {"num_classes", 1, 1, 0},          {"y_scale", 1, 0, 0},
              {"x_scale", 1, 0, 0},              {"h_scale", 1, 0, 0},
              {"w_scale", 1, 0, 0}};
  double v[sizeof keys / sizeof keys[0]];
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
    tc_status s;
    if (i == 3) { /* use_regular_nms: a bool */
      tc__fxref ref;
      int b = 0;
      tc__fx_res r = tc__fx_map_find(&fx, &root, keys[i].key, &ref);
      if (r == TC_FX_OK) r = tc__fx_bool(&fx, &ref, &b);
      if (r == TC_FX_BAD)
        return tc__fail(c, n, TC_ERR_MODEL, "custom option 'use_regular_nms': %s", fx.why);
      v[i] = b;
      continue;
    }
    if ((s = opt_num(c, n, &fx, &root, keys[i].key, keys[i].required, keys[i].dflt,
                     keys[i].is_int, &v[i])))
      return s;
  }
  tc_detpp_params *p = &st->p;
  p->max_detections = (int)v[0];
  p->max_classes_per_detection = (int)v[1];
  p->detections_per_class = (int)v[2];
  p->use_regular_nms = v[3] != 0;
  p->score_threshold = (float)v[4];
  p->iou_threshold = (float)v[5];
  p->n_classes = (int)v[6];
  p->y_scale = (float)v[7];
  p->x_scale = (float)v[8];
  p->h_scale = (float)v[9];
  p->w_scale = (float)v[10];
  if (p->max_detections < 0)
    return tc__fail(c, n, TC_ERR_MODEL, "max_detections %d is negative", p->max_detections);
  if (p->max_classes_per_detection <= 0)
    return tc__fail(c, n, TC_ERR_MODEL, "max_classes_per_detection %d must be positive",
                    p->max_classes_per_detection);
  if ((int64_t)p->max_detections * p->max_classes_per_detection > (1 << 24))
    return tc__fail(c, n, TC_ERR_MODEL, "max_detections x max_classes_per_detection is too large");
  if (p->use_regular_nms && (p->max_detections <= 0 || p->detections_per_class <= 0))
    return tc__fail(c, n, TC_ERR_MODEL,
                    "regular NMS needs max_detections and detections_per_class > 0 (got %d, %d)",
                    p->max_detections, p->detections_per_class);
  if (p->n_classes <= 0)
    return tc__fail(c, n, TC_ERR_MODEL, "num_classes %d must be positive", p->n_classes);
  if (!(p->iou_threshold > 0.0f && p->iou_threshold <= 1.0f))
    return tc__fail(c, n, TC_ERR_MODEL, "nms_iou_threshold %g is not in (0, 1]",
                    (double)p->iou_threshold);
  const float sc[4] = {p->y_scale, p->x_scale, p->h_scale, p->w_scale};
  for (int i = 0; i < 4; i++)
    if (!(sc[i] != 0.0f) || !isfinite(sc[i]))
      return tc__fail(c, n, TC_ERR_MODEL, "%s %g must be finite and non-zero", keys[7 + i].key,
                      (double)sc[i]);
  if (isnan(p->score_threshold))
    return tc__fail(c, n, TC_ERR_MODEL, "nms_score_threshold is NaN");
  return TC_OK;
}

/* float32, or uint8/int8 with one scale. */
static tc_status check_input(tc__ctx *c, tc__node *n, const tc__tensor *t, const char *what) {
  if (t->dtype == TC_DTYPE_F32) return TC_OK;
  if (t->dtype != TC_DTYPE_U8 && t->dtype != TC_DTYPE_I8)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "%s has dtype %s, expected float32, uint8 or int8",
                    what, tc_dtype_name(t->dtype));
  if (t->m->q.n_scales != 1)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "%s is %s without per-tensor quantization", what,
                    tc_dtype_name(t->dtype));
  if (!(t->m->q.scale[0] > 0.0f) || !isfinite(t->m->q.scale[0]))
    return tc__fail(c, n, TC_ERR_MODEL, "%s has an invalid scale", what);
  return TC_OK;
}

static tc_status detpp_prepare(tc__ctx *c, tc__node *n) {
  detpp_state *st = n->state;
  tc_detpp_params *p = &st->p;
  tc_status s = tc__expect_io(c, n, 3, 3, 4);
  if (s) return s;
  tc__tensor *enc = tc__in(c, n, 0), *cls = tc__in(c, n, 1), *anc = tc__in(c, n, 2);
  char b[64];
  if ((s = check_input(c, n, enc, "box encodings")) || (s = check_input(c, n, cls, "scores")) ||
      (s = check_input(c, n, anc, "anchors")))
    return s;
  if (enc->n_dims != 3 || enc->dims[0] != 1 || enc->dims[2] < 4)
    return tc__fail(c, n, TC_ERR_MODEL, "box encodings have shape %s, expected [1, N, >=4]",
                    tc__dims_str(enc, b, sizeof b));
  int nb = enc->dims[1];
  if (cls->n_dims != 3 || cls->dims[0] != 1 || cls->dims[1] != nb)
    return tc__fail(c, n, TC_ERR_MODEL, "scores have shape %s, expected [1, %d, classes]",
                    tc__dims_str(cls, b, sizeof b), nb);
  if (cls->dims[2] < p->n_classes)
    return tc__fail(c, n, TC_ERR_MODEL, "scores have %d columns, fewer than num_classes %d",
                    (int)cls->dims[2], p->n_classes);
  if (anc->n_dims != 2 || anc->dims[0] != nb || anc->dims[1] != 4)
    return tc__fail(c, n, TC_ERR_MODEL, "anchors have shape %s, expected [%d, 4]",
                    tc__dims_str(anc, b, sizeof b), nb);
  if ((int64_t)nb * cls->dims[2] > INT32_MAX || (int64_t)nb * enc->dims[2] > INT32_MAX)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "%d boxes x %d scores is too large", nb,
                    (int)cls->dims[2]);
  p->n_boxes = nb;
  p->n_classes_bg = cls->dims[2];
  st->enc_stride = enc->dims[2];
  for (int i = 0; i < 4; i++)
    if ((s = tc__expect_dtype(c, n, tc__out(c, n, i), "output", TC_DTYPE_F32))) return s;
  int32_t d = (int32_t)tc_detpp_out_slots(p);
  int32_t box_dims[3] = {1, d, 4}, vec_dims[2] = {1, d}, one = 1;
  if ((s = tc__set_shape(c, n, tc__out(c, n, 0), 3, box_dims)) ||
      (s = tc__set_shape(c, n, tc__out(c, n, 1), 2, vec_dims)) ||
      (s = tc__set_shape(c, n, tc__out(c, n, 2), 2, vec_dims)) ||
      (s = tc__set_shape(c, n, tc__out(c, n, 3), 1, &one)))
    return s;
  /* scratch: dequantized inputs (if quantized), decoded boxes, the kernel's work arrays */
  size_t floats = (size_t)nb * 4;
  if (enc->dtype != TC_DTYPE_F32) floats += tc__numel(enc);
  if (cls->dtype != TC_DTYPE_F32) floats += tc__numel(cls);
  if (anc->dtype != TC_DTYPE_F32) floats += tc__numel(anc);
  return tc__scratch_request(c, n, floats * sizeof(float) + tc_detpp_scratch_size(p), &st->slot);
}

/* Returns t's values as floats: the data itself, or dequantized into *spare (advanced). */
static const float *as_float(const tc__tensor *t, float **spare) {
  if (t->dtype == TC_DTYPE_F32) return t->data;
  size_t cnt = tc__numel(t);
  float *out = *spare, scale = t->m->q.scale[0], zp = (float)t->m->q.zero_point[0];
  if (t->dtype == TC_DTYPE_U8)
    for (size_t i = 0; i < cnt; i++) out[i] = ((float)((const uint8_t *)t->data)[i] - zp) * scale;
  else
    for (size_t i = 0; i < cnt; i++) out[i] = ((float)((const int8_t *)t->data)[i] - zp) * scale;
  *spare += cnt;
  return out;
}

static tc_status detpp_invoke(tc__ctx *c, tc__node *n) {
  detpp_state *st = n->state;
  float *spare = tc__scratch(c, n, st->slot);
  const float *enc = as_float(tc__in(c, n, 0), &spare);
  const float *cls = as_float(tc__in(c, n, 1), &spare);
  const float *anc = as_float(tc__in(c, n, 2), &spare);
  float *decoded = spare, *work = spare + (size_t)st->p.n_boxes * 4;
  tc_f32_detpp_decode__ref(&st->p, enc, st->enc_stride, anc, decoded);
  if (tc_f32_detpp_nms__ref(&st->p, decoded, cls, work, tc__out(c, n, 0)->data,
                            tc__out(c, n, 1)->data, tc__out(c, n, 2)->data,
                            tc__out(c, n, 3)->data) != 0)
    return tc__fail(c, n, TC_ERR_RUNTIME, "a decoded box has ymin > ymax or xmin > xmax");
  return TC_OK;
}

const tc__opreg tc__reg_detection_postprocess = {TC_OP_CUSTOM, "TFLite_Detection_PostProcess",
                                                 detpp_init, detpp_prepare, detpp_invoke, NULL};
