/* softmax.c: SOFTMAX glue. Softmax runs along the last axis of an input of any rank >= 1; the
 * output has the input's shape. beta comes from SoftmaxOptions: when the options table is
 * absent we use 1.0 (the only meaningful value), but a present table with the field left out
 * means the schema default 0.0, as TFLite reads it.
 *
 * Dtypes (input -> output), with the output quantization TFLite Micro / TFLite require:
 *   float32 -> float32;
 *   int8 -> int8 (scale 1/256, zero point -128) and int8 -> int16 (scale 1/65536, zero point
 *   -32768): fixed point, bit-exact with TFLite Micro;
 *   int16 -> int16 (scale 1/32768, zero point 0): TFLite Micro's interpolated tables;
 *   uint8 -> uint8 (scale 1/256, zero point 0): TFLite's float-table kernel.
 * float32 runs the variant of the interpreter's kernel table (kernels/vec_ops.h: an AVX2 one
 * with a polynomial exp, within 1e-6 of the reference); the quantized kinds run the reference. */
#include <math.h>

#include "kernels/ref/softmax.h"
#include "kernels/ref/softmax_q.h"
#include "kernels/select.h"
#include "lite/ops.h"

enum { SOFTMAX_F32 = 1, SOFTMAX_S8, SOFTMAX_S8_S16, SOFTMAX_S16, SOFTMAX_U8 };

typedef struct softmax_state {
  int kind; /* SOFTMAX_* chosen in prepare */
  float beta;
  size_t outer, depth;
  tc_softmax_q_params q;            /* SOFTMAX_S8, SOFTMAX_S8_S16 */
  tc_softmax_s16_params *s16;       /* SOFTMAX_S16 (prepare memory) */
  tc_softmax_table_params *table;   /* SOFTMAX_U8 (prepare memory) */
  tc_f32_softmax_kernel *kf;        /* SOFTMAX_F32: the variant chosen at prepare */
} softmax_state;

static tc_status softmax_init(tc__ctx *c, tc__node *n) {
  n->state = tc__persist_alloc(c, sizeof(softmax_state));
  if (!n->state) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  return TC_OK;
}

/* Per-tensor quantization of t (scale > 0), or an error naming `what`. */
static tc_status tensor_q(tc__ctx *c, const tc__node *n, const tc__tensor *t, const char *what,
                          float *scale, int32_t *zero_point) {
  if (!t->m || t->m->q.n_scales < 1)
    return tc__fail(c, n, TC_ERR_MODEL, "%s (%s) has no quantization parameters", what,
                    tc_dtype_name(t->dtype));
  if (t->m->q.n_scales > 1)
    return tc__fail(c, n, TC_ERR_MODEL, "%s must be quantized per tensor, has %d scales", what,
                    (int)t->m->q.n_scales);
  *scale = t->m->q.scale[0];
  *zero_point = (int32_t)t->m->q.zero_point[0];
  if (!(*scale > 0.0f) || isinf(*scale))
    return tc__fail(c, n, TC_ERR_MODEL, "%s has invalid scale %g", what, (double)*scale);
  return TC_OK;
}

/* Checks the fixed output quantization of a quantized softmax. `exact`: the scale must equal
 * `want_scale` exactly (TFLite Micro's int8 rule), else within 0.1% of it. */
static tc_status expect_out_q(tc__ctx *c, const tc__node *n, const tc__tensor *out,
                              float want_scale, int32_t want_zp, int exact) {
  float scale = 0.0f;
  int32_t zp = 0;
  tc_status s = tensor_q(c, n, out, "output", &scale, &zp);
  if (s) return s;
  int ok_scale = exact ? scale == want_scale : fabsf(scale - want_scale) <= 0.001f * want_scale;
  if (zp != want_zp || !ok_scale)
    return tc__fail(c, n, TC_ERR_MODEL,
                    "%s output must have scale %g and zero point %d, got scale %g zero point %d",
                    tc_dtype_name(out->dtype), (double)want_scale, (int)want_zp, (double)scale,
                    (int)zp);
  return TC_OK;
}

static tc_status prepare_quantized(tc__ctx *c, tc__node *n, softmax_state *st,
                                   const tc__tensor *in, const tc__tensor *out) {
  float in_scale = 0.0f;
  int32_t in_zp = 0;
  tc_status s = tensor_q(c, n, in, "input", &in_scale, &in_zp);
  if (s) return s;
  if (in->dtype == TC_DTYPE_I8 && out->dtype == TC_DTYPE_I8) {
    if ((s = expect_out_q(c, n, out, 1.0f / 256, -128, 1))) return s;
    st->kind = SOFTMAX_S8;
  } else if (in->dtype == TC_DTYPE_I8 && out->dtype == TC_DTYPE_I16) {
    if ((s = expect_out_q(c, n, out, 1.0f / 65536, -32768, 0))) return s;
    st->kind = SOFTMAX_S8_S16;
  } else if (in->dtype == TC_DTYPE_I16 && out->dtype == TC_DTYPE_I16) {
    if ((s = expect_out_q(c, n, out, 1.0f / 32768, 0, 0))) return s;
    st->kind = SOFTMAX_S16;
  } else if (in->dtype == TC_DTYPE_U8 && out->dtype == TC_DTYPE_U8) {
    if ((s = expect_out_q(c, n, out, 1.0f / 256, 0, 0))) return s;
    st->kind = SOFTMAX_U8;
  } else {
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "input %s with output %s is not supported (int8->int8, int8->int16, "
                    "int16->int16, uint8->uint8 or float32->float32)",
                    tc_dtype_name(in->dtype), tc_dtype_name(out->dtype));
  }

  switch (st->kind) {
  case SOFTMAX_S8:
  case SOFTMAX_S8_S16:
    if (!tc_softmax_q_params_init((double)st->beta, (double)in_scale, &st->q))
      return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                      "beta %g times input scale %g is too small for the fixed-point softmax",
                      (double)st->beta, (double)in_scale);
    return TC_OK;
  case SOFTMAX_S16:
    st->s16 = tc__persist_alloc(c, sizeof(*st->s16));
    if (!st->s16) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for softmax tables");
    if (!tc_softmax_s16_params_init((double)st->beta, (double)in_scale, st->s16))
      return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                      "beta %g times input scale %g cannot be represented", (double)st->beta,
                      (double)in_scale);
    return TC_OK;
  default: /* SOFTMAX_U8 */
    st->table = tc__persist_alloc(c, sizeof(*st->table));
    if (!st->table) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for softmax table");
    tc_softmax_table_params_init(in_scale, st->beta, out->m->q.scale[0], st->table);
    return TC_OK;
  }
}

static tc_status softmax_prepare(tc__ctx *c, tc__node *n) {
  softmax_state *st = n->state;
  const tc__fbt *opt = &n->m->options;
  tc_status s = tc__expect_io(c, n, 1, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  st->kind = 0;
  if (in->n_dims < 1) return tc__fail(c, n, TC_ERR_MODEL, "input must have rank >= 1, got 0");
  st->beta = opt->pos ? tc__fb_f32(tc__ctx_fb(c), opt, 0, 0.0f) : 1.0f;
  st->depth = (size_t)(in->dims[in->n_dims - 1] < 0 ? 0 : in->dims[in->n_dims - 1]);
  st->outer = st->depth ? tc__numel(in) / st->depth : 0;
  if (in->dtype == TC_DTYPE_F32) {
    if ((s = tc__expect_dtype(c, n, out, "output", TC_DTYPE_F32))) return s;
    st->kind = SOFTMAX_F32;
    st->kf = tc__ctx_kernels(c)->f32_softmax;
    tc__set_kernel_name(n, st->kf == tc_f32_softmax__ref ? "ref" : "avx2");
  } else if (in->dtype == TC_DTYPE_I8 || in->dtype == TC_DTYPE_I16 || in->dtype == TC_DTYPE_U8) {
    if ((s = prepare_quantized(c, n, st, in, out))) {
      st->kind = 0;
      return s;
    }
  } else {
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "input has dtype %s; float32, int8, int16 and uint8 are supported",
                    tc_dtype_name(in->dtype));
  }
  return tc__set_shape(c, n, out, in->n_dims, in->dims);
}

static tc_status softmax_invoke(tc__ctx *c, tc__node *n) {
  const softmax_state *st = n->state;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  switch (st->kind) {
  case SOFTMAX_F32:
    st->kf(in->data, out->data, st->outer, st->depth, st->beta);
    return TC_OK;
  case SOFTMAX_S8:
    tc_s8_softmax__ref(in->data, out->data, st->outer, st->depth, &st->q);
    return TC_OK;
  case SOFTMAX_S8_S16:
    tc_s8_s16_softmax__ref(in->data, out->data, st->outer, st->depth, &st->q);
    return TC_OK;
  case SOFTMAX_S16:
    tc_s16_softmax__ref(in->data, out->data, st->outer, st->depth, st->s16);
    return TC_OK;
  case SOFTMAX_U8:
    tc_u8_softmax__ref(in->data, out->data, st->outer, st->depth, st->table);
    return TC_OK;
  default:
    return tc__fail(c, n, TC_ERR_STATE, "invoked before a successful prepare");
  }
}

const tc__opreg tc__reg_softmax = {TC_OP_SOFTMAX, NULL, softmax_init, softmax_prepare,
                                   softmax_invoke, NULL};
