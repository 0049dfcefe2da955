/* quantize.c: QUANTIZE (builtin 114) and DEQUANTIZE (6) glue. QUANTIZE takes float32 to an
 * integer type, or requantizes between int8, uint8, int16 and int32 (scales and zero points
 * may differ); DEQUANTIZE takes a quantized integer tensor (per tensor or per channel) or a
 * float16 tensor to float32. Prepare picks the path and computes the multiplier once; the
 * loops are in kernels/ref/quantize.c. A DEQUANTIZE of a constant (the float16 and int8
 * weight export paths) is folded by the interpreter at prepare, since all its inputs are known. */
#include <math.h>

#include "kernels/ref/qmath.h"
#include "kernels/ref/quantize.h"
#include "lite/ops.h"

enum { PATH_NONE = 0, PATH_F32_TO_INT, PATH_REQUANT, PATH_DEQUANT, PATH_DEQUANT_CH, PATH_F16 };

typedef struct quant_state {
  int path;         /* PATH_*, set by prepare */
  tc_dtype from, to;
  float scale;      /* output scale (QUANTIZE from float) or input scale (DEQUANTIZE) */
  int32_t zp;       /* the matching zero point */
  int32_t mult;     /* requantization multiplier in_scale / out_scale */
  int shift;
  int32_t in_zp, out_zp;
  size_t inner, n_channels; /* per-channel DEQUANTIZE */
  const float *scales;
  const int64_t *zero_points;
} quant_state;

static tc_status quant_init(tc__ctx *c, tc__node *n) {
  n->state = tc__persist_alloc(c, sizeof(quant_state));
  if (!n->state) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for the op state");
  return TC_OK;
}

/* The tensor's single (per-tensor) scale and zero point; 0 if it has none or several. */
static int per_tensor(const tc__tensor *t, float *scale, int32_t *zp) {
  if (!t->m || t->m->q.n_scales != 1) return 0;
  *scale = t->m->q.scale[0];
  *zp = (int32_t)t->m->q.zero_point[0];
  return 1;
}

static int scale_ok(float s) { return s > 0.0f && isfinite(s); }

static tc_status quantize_prepare(tc__ctx *c, tc__node *n) {
  quant_state *st = n->state;
  st->path = PATH_NONE;
  tc_status s = tc__expect_io(c, n, 1, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  if (!tc_quantize_int_supported(out->dtype))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "output has dtype %s, expected int8, uint8, int16 or int32",
                    tc_dtype_name(out->dtype));
  float so, si;
  int32_t zo, zi;
  if (!per_tensor(out, &so, &zo))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "the output needs per-tensor quantization (it has %d scales)",
                    out->m ? (int)out->m->q.n_scales : 0);
  if (!scale_ok(so))
    return tc__fail(c, n, TC_ERR_MODEL, "output scale %g is not positive and finite", (double)so);
  st->to = out->dtype;
  st->from = in->dtype;
  if (in->dtype == TC_DTYPE_F32) {
    st->scale = so;
    st->zp = zo;
    st->path = PATH_F32_TO_INT;
  } else if (tc_quantize_int_supported(in->dtype)) {
    if (!per_tensor(in, &si, &zi))
      return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                      "%s input needs per-tensor quantization (it has %d scales)",
                      tc_dtype_name(in->dtype), in->m ? (int)in->m->q.n_scales : 0);
    if (!scale_ok(si))
      return tc__fail(c, n, TC_ERR_MODEL, "input scale %g is not positive and finite", (double)si);
    tc_q_quantize_multiplier((double)si / (double)so, &st->mult, &st->shift);
    st->in_zp = zi;
    st->out_zp = zo;
    st->path = PATH_REQUANT;
  } else {
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "input has dtype %s, expected float32, int8, uint8, int16 or int32",
                    tc_dtype_name(in->dtype));
  }
  return tc__set_shape(c, n, out, in->n_dims, in->dims);
}

static tc_status dequantize_prepare(tc__ctx *c, tc__node *n) {
  quant_state *st = n->state;
  st->path = PATH_NONE;
  tc_status s = tc__expect_io(c, n, 1, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  if ((s = tc__expect_dtype(c, n, out, "output", TC_DTYPE_F32))) return s;
  st->from = in->dtype;
  if (in->dtype == TC_DTYPE_F16) {
    st->path = PATH_F16;
  } else if (tc_quantize_int_supported(in->dtype)) {
    const tc__quant *q = in->m ? &in->m->q : NULL;
    if (!q || q->n_scales < 1)
      return tc__fail(c, n, TC_ERR_MODEL, "the %s input has no quantization parameters",
                      tc_dtype_name(in->dtype));
    for (int32_t i = 0; i < q->n_scales; i++)
      if (!(q->scale[i] >= 0.0f) || !isfinite(q->scale[i]))
        return tc__fail(c, n, TC_ERR_MODEL, "scale %d (%g) is not finite and non-negative",
                        (int)i, (double)q->scale[i]);
    if (q->n_scales == 1) {
      st->scale = q->scale[0];
      st->zp = (int32_t)q->zero_point[0];
      st->path = PATH_DEQUANT;
    } else {
      if (q->axis < 0 || q->axis >= in->n_dims || in->dims[q->axis] != q->n_scales)
        return tc__fail(c, n, TC_ERR_MODEL,
                        "%d per-channel scales do not match axis %d of the input",
                        (int)q->n_scales, (int)q->axis);
      size_t inner = 1;
      for (int d = q->axis + 1; d < in->n_dims; d++) inner *= (size_t)in->dims[d];
      st->inner = inner;
      st->n_channels = (size_t)q->n_scales;
      st->scales = q->scale;
      st->zero_points = q->zero_point;
      st->path = PATH_DEQUANT_CH;
    }
  } else {
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "input has dtype %s, expected int8, uint8, int16, int32 or float16",
                    tc_dtype_name(in->dtype));
  }
  return tc__set_shape(c, n, out, in->n_dims, in->dims);
}

static tc_status quant_invoke(tc__ctx *c, tc__node *n) {
  const quant_state *st = n->state;
  const tc__tensor *in = tc__in(c, n, 0);
  tc__tensor *out = tc__out(c, n, 0);
  size_t count = tc__numel(in);
  switch (st->path) {
  case PATH_F32_TO_INT:
    tc_quantize_f32__ref(in->data, st->to, out->data, count, st->scale, st->zp);
    return TC_OK;
  case PATH_REQUANT:
    tc_requantize__ref(st->from, in->data, st->to, out->data, count, st->mult, st->shift,
                       st->in_zp, st->out_zp);
    return TC_OK;
  case PATH_DEQUANT:
    tc_dequantize__ref(st->from, in->data, out->data, count, st->scale, st->zp);
    return TC_OK;
  case PATH_DEQUANT_CH:
    tc_dequantize_per_channel__ref(st->from, in->data, out->data, count, st->inner,
                                   st->n_channels, st->scales, st->zero_points);
    return TC_OK;
  case PATH_F16:
    tc_dequantize_f16__ref(in->data, out->data, count);
    return TC_OK;
  default:
    return tc__fail(c, n, TC_ERR_STATE, "invoked before a successful prepare");
  }
}

const tc__opreg tc__reg_quantize = {TC_OP_QUANTIZE, NULL, quant_init, quantize_prepare,
                                    quant_invoke, NULL};
const tc__opreg tc__reg_dequantize = {TC_OP_DEQUANTIZE, NULL, quant_init, dequantize_prepare,
                                      quant_invoke, NULL};
