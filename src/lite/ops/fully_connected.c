/* fully_connected.c: FULLY_CONNECTED glue. The input is seen as [batch, K] with K the weights'
 * second dimension; the output is [batch, Nout], or the input's shape with its last dimension
 * replaced by Nout when keep_num_dims is set (TFLite's rules). Weights and bias may be
 * constant or computed. DEFAULT weights format only. Dtypes: float32; int8 (int8 weights per
 * tensor or per output feature, int32 bias); legacy uint8; 16x8 (int16 activations, int8
 * weights, int64 or int32 bias). The integer kernels (kernels/ref/fully_connected_q.c) are
 * bit-exact with TFLite Micro's reference kernels; multipliers are computed once per prepare.
 * Fast paths (unless the interpreter forces the reference kernels), when the weights (and, for
 * 8-bit, the bias) are constant: float through the float GEMM with the weights packed once at
 * prepare (TC_GEMM_B_NK), int8/uint8 through the 8-bit GEMM of kernels/qgemm.h (bit-exact). */
#include <math.h>

#include "kernels/gemm.h"
#include "kernels/qgemm.h"
#include "kernels/ref/fully_connected.h"
#include "kernels/ref/fully_connected_q.h"
#include "kernels/ref/qmath.h"
#include "kernels/select.h"
#include "lite/ops.h"
#include "lite/ops/conv_common.h"

enum { FC_F32 = TC__CK_F32, FC_S8 = TC__CK_S8, FC_U8 = TC__CK_U8, FC_S16 = TC__CK_S16,
       FC_S16_ACC32 = TC__CK_S16_ACC32 }; /* as tc__conv_pick_kind chooses them */

typedef struct fc_state {
  int kind; /* FC_* chosen in prepare */
  tc_fc_params p;
  tc_q_requant q; /* integer kinds; q.mult / q.shift live in prepare-time persistent memory */
  int fast;       /* FAST_*: chosen at prepare */
  tc_f32_gemm_kernel *fkr; /* FAST_F32: kernel and the weights packed for it */
  const float *packed;
  const tc_qgemm_packed *qpk; /* FAST_X8 */
  struct tc_threadpool *pool;
  int slot; /* scratch slot, -1 if none */
  int hybrid;            /* float input with constant int8 weights (dynamic-range models) */
  const float *w_f32;    /* hybrid: the dequantized weights (persistent) */
} fc_state;

enum { FAST_NONE = 0, FAST_F32, FAST_X8 };

/* Quantized kinds: one multiplier per output feature (weights per tensor, or per channel along
 * axis 0), offsets and the fused activation range, as TFLite Micro's
 * CalculateOpDataFullyConnected (conv_common.c). Per-tensor weights keep their zero point as an
 * offset; per-channel ones do not (TFLite's per-channel kernel has none). */
static tc_status quant_setup(tc__ctx *c, tc__node *n, fc_state *st, const tc__tensor *in,
                             const tc__tensor *w, const tc__tensor *out, int act) {
  const tc__conv_qspec spec = {st->p.out_n, 0, 1};
  return tc__q_conv_setup(c, n, in, w, out, act, &spec, &st->q);
}

/* Chooses the kernel kind from the dtypes (TFLite Micro's combinations: output dtype equals
 * input dtype). */
static tc_status pick_kind(tc__ctx *c, tc__node *n, fc_state *st, const tc__tensor *in,
                           const tc__tensor *w, const tc__tensor *bias, const tc__tensor *out) {
  /* Hybrid (dynamic-range) models: int8 weights are dequantized once at prepare and run
   * through the float kernels (within float rounding of TFLite's hybrid arithmetic). */
  int hybrid = in->dtype == TC_DTYPE_F32 && w->dtype == TC_DTYPE_I8;
  if (in->dtype == TC_DTYPE_F32) st->hybrid = hybrid;
  return tc__conv_pick_kind(c, n, in, w, bias, out, "weights",
                            hybrid ? TC_DTYPE_I8 : TC_DTYPE_F32, &st->kind);
}

/* Picks and prepares a GEMM path when one applies (st->fast stays FAST_NONE otherwise). */
static tc_status fast_setup(tc__ctx *c, tc__node *n, fc_state *st, const tc__tensor *w,
                            const tc__tensor *bias) {
  const tc_kernel_table *kt = tc__ctx_kernels(c);
  const tc_fc_params *p = &st->p;
  st->fast = FAST_NONE;
  st->slot = -1;
  if (!kt || kt->features == 0) return TC_OK; /* reference kernels forced */
  if (!w->known || !w->data || p->out_n <= 0 || p->in_k <= 0) return TC_OK;
  st->pool = tc__ctx_pool(c);
  if (st->kind == FC_F32) {
    tc_f32_gemm_kernel *kr = kt->f32_gemm;
    float *buf = tc__persist_alloc(c, tc_f32_gemm_packed_b_size(kr, p->out_n, p->in_k) + 64);
    if (!buf) return TC_OK; /* no room for packed weights: keep the reference kernel */
    float *packed = (float *)(((uintptr_t)buf + 63) & ~(uintptr_t)63);
    tc_f32_gemm_pack_b(kr, p->out_n, p->in_k, st->hybrid ? st->w_f32 : w->data, (size_t)p->in_k,
                       TC_GEMM_B_NK, packed);
    st->fkr = kr;
    st->packed = packed;
    st->fast = FAST_F32;
    tc__set_kernel_name(n, kr->name);
    return TC_OK;
  }
#ifndef TC_Q_SINGLE_ROUNDING /* the SIMD requantization is tc_q_mul_double */
  if (st->kind == FC_S8 || st->kind == FC_U8) {
    if (bias && (!bias->known || !bias->data)) return TC_OK;
    const int u8 = st->kind == FC_U8;
    tc_qgemm_weights qw = {w->data, (size_t)p->in_k, u8, st->q.filter_offset, st->q.input_offset,
                           bias ? bias->data : NULL, st->q.mult, st->q.shift,
                           st->q.output_offset, st->q.act_min, st->q.act_max, u8, 1,
                           p->batch}; /* batch 1: byte weights and the one-row kernel */
    tc_s8_qgemm_kernel *kr =
        tc_qgemm_kernel_for(kt->s8_qgemm, p->batch, p->out_n, p->in_k, &qw);
    void *buf = tc__persist_alloc(c, tc_qgemm_packed_size(kr, p->out_n, p->in_k));
    if (!buf) return TC_OK; /* no room for packed weights: keep the reference kernel */
    st->qpk = tc_qgemm_pack(kr, p->out_n, p->in_k, &qw, buf);
    if (!st->qpk) return TC_OK;
    st->fast = FAST_X8;
    tc__set_kernel_name(n, kr->name);
    return tc__scratch_request(c, n, tc_qgemm_scratch_size(st->qpk,
                                                            tc_threadpool_n_threads(st->pool)),
                               &st->slot);
  }
#else
  (void)bias;
#endif
  return TC_OK;
}

static tc_status fc_init(tc__ctx *c, tc__node *n) {
  n->state = tc__persist_alloc(c, sizeof(fc_state));
  if (!n->state) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  return TC_OK;
}

/* Hybrid weights: constant int8 with one scale or one per output unit (axis 0). */
static tc_status dequantize_weights(tc__ctx *c, tc__node *n, fc_state *st, const tc__tensor *w) {
  const tc__quant *q = w->m ? &w->m->q : NULL;
  int32_t units = w->dims[0];
  if (!w->known || !w->data)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "int8 weights with a float32 input (hybrid) "
                                              "must be constant");
  if (!q || !(q->n_scales == 1 || (q->n_scales == units && q->axis == 0)))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "hybrid int8 weights need per-tensor or per-unit (axis 0) quantization, "
                    "got %d scales on axis %d",
                    q ? (int)q->n_scales : 0, q ? (int)q->axis : 0);
  size_t total = tc__numel(w), per_unit = units > 0 ? total / (size_t)units : 0;
  float *f = tc__persist_alloc(c, total * sizeof(float) + 1);
  if (!f) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for the dequantized weights");
  const int8_t *qw = w->data;
  for (size_t i = 0; i < total; i++) {
    size_t ch = q->n_scales == 1 ? 0 : i / per_unit;
    f[i] = q->scale[ch] * (float)((int64_t)qw[i] - q->zero_point[ch]);
  }
  st->w_f32 = f;
  return TC_OK;
}

static tc_status fc_prepare(tc__ctx *c, tc__node *n) {
  fc_state *st = n->state;
  const tc__fb *fb = tc__ctx_fb(c);
  const tc__fbt *opt = &n->m->options;
  char b1[96], b2[96];
  tc__tensor *in = NULL, *w = NULL, *bias = NULL, *out = NULL;
  tc_status s = tc__conv_io(c, n, &in, &w, &bias, &out);
  if (s) return s;

  if ((s = pick_kind(c, n, st, in, w, bias, out))) return s;

  int act = tc__fb_u8(fb, opt, 0, 0);
  int format = tc__fb_u8(fb, opt, 1, 0);
  int keep_num_dims = tc__fb_u8(fb, opt, 2, 0) != 0;
  if (format != 0)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "weights format %d is not supported (only DEFAULT)", format);
  float lo, hi;
  if (tc__act_range_f32(act, &lo, &hi))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d is not supported", act);

  if (w->n_dims != 2)
    return tc__fail(c, n, TC_ERR_MODEL, "weights must have rank 2 [units, depth], got %s",
                    tc__dims_str(w, b1, sizeof b1));
  int32_t units = w->dims[0], depth = w->dims[1];
  if (depth <= 0)
    return tc__fail(c, n, TC_ERR_MODEL, "weights %s have an empty depth",
                    tc__dims_str(w, b1, sizeof b1));
  if (bias && tc__numel(bias) != (size_t)units)
    return tc__fail(c, n, TC_ERR_MODEL, "bias has shape %s, expected %d elements",
                    tc__dims_str(bias, b1, sizeof b1), (int)units);

  int32_t dims[TC_MAX_DIMS];
  int n_out = tc_fc_out_shape(in->n_dims, in->dims, depth, units, keep_num_dims, dims,
                              &st->p.batch);
  if (n_out < 0) {
    if (keep_num_dims && (in->n_dims < 1 || in->dims[in->n_dims - 1] != depth))
      return tc__fail(c, n, TC_ERR_MODEL,
                      "keep_num_dims needs the input's last dimension to equal the weights' "
                      "depth: input %s, weights %s",
                      tc__dims_str(in, b1, sizeof b1), tc__dims_str(w, b2, sizeof b2));
    return tc__fail(c, n, TC_ERR_MODEL,
                    "input %s does not split into rows of the weights' depth %d (weights %s)",
                    tc__dims_str(in, b1, sizeof b1), (int)depth, tc__dims_str(w, b2, sizeof b2));
  }
  st->p.in_k = depth;
  st->p.out_n = units;
  st->p.act_min = lo;
  st->p.act_max = hi;
  if (st->kind != FC_F32 && (s = quant_setup(c, n, st, in, w, out, act))) return s;
  st->w_f32 = NULL;
  if (st->hybrid && (s = dequantize_weights(c, n, st, w))) return s;
  if ((s = fast_setup(c, n, st, w, bias))) return s;
  return tc__set_shape(c, n, out, n_out, dims);
}

static tc_status fc_invoke(tc__ctx *c, tc__node *n) {
  const fc_state *st = n->state;
  tc__tensor *in = tc__in(c, n, 0), *w = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  tc__tensor *bias = n->n_inputs > 2 ? tc__in(c, n, 2) : NULL;
  if (st->fast == FAST_F32) {
    tc_f32_gemm(st->fkr, st->pool, st->p.batch, st->p.out_n, st->p.in_k, in->data,
                (size_t)st->p.in_k, st->packed, bias ? bias->data : NULL, st->p.act_min,
                st->p.act_max, out->data, (size_t)st->p.out_n);
    return TC_OK;
  }
  if (st->fast == FAST_X8) {
    tc_qgemm_a a = {st->kind == FC_U8, in->data, (size_t)st->p.in_k, NULL, NULL};
    tc_qgemm(st->qpk, st->pool, st->p.batch, &a, out->data, (size_t)st->p.out_n,
             tc__scratch(c, n, st->slot));
    return TC_OK;
  }
  switch (st->kind) {
  case FC_F32:
    /* Weights are read at invoke: they may be an activation (non-constant weights). */
    tc_f32_fully_connected__ref(&st->p, in->data, st->hybrid ? st->w_f32 : w->data,
                                bias ? bias->data : NULL, out->data);
    return TC_OK;
  case FC_S8:
    tc_s8_fully_connected__ref(&st->p, &st->q, in->data, w->data, bias ? bias->data : NULL,
                               out->data);
    return TC_OK;
  case FC_U8:
    tc_u8_fully_connected__ref(&st->p, &st->q, in->data, w->data, bias ? bias->data : NULL,
                               out->data);
    return TC_OK;
  case FC_S16:
    tc_s16_fully_connected__ref(&st->p, &st->q, in->data, w->data, bias ? bias->data : NULL,
                                out->data);
    return TC_OK;
  case FC_S16_ACC32:
    tc_s16_fully_connected_acc32__ref(&st->p, &st->q, in->data, w->data,
                                      bias ? bias->data : NULL, out->data);
    return TC_OK;
  default:
    return tc__fail(c, n, TC_ERR_STATE, "invoked before a successful prepare");
  }
}

const tc__opreg tc__reg_fully_connected = {TC_OP_FULLY_CONNECTED, NULL, fc_init, fc_prepare,
                                           fc_invoke, NULL};
