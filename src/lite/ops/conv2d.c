/* conv2d.c: CONV_2D glue. Prepare reads Conv2DOptions, checks dtypes and shapes against TFLite's
 * rules (NHWC input, [out_c, kh, kw, in_c / groups] filter, optional bias) and computes the
 * output geometry once; invoke calls the reference kernels (kernels/ref/conv2d.c, conv2d_q.c).
 * Dtypes: float32; "hybrid" models (float activations, constant int8 filter from dynamic-range
 * quantization), whose filter is dequantized once at prepare and run through the float kernel
 * (within ~1e-5 of TFLite's on-the-fly hybrid arithmetic); int8 (per-channel int8 filter, int32
 * bias); legacy uint8 (per-tensor asymmetric); and 16x8 (int16 activations, int8 filter, int64
 * or int32 bias). Integer multipliers are computed once per prepare, as TFLite Micro does.
 * Fast paths (unless the interpreter forces the reference kernels): float and hybrid run as a
 * float GEMM (1x1 stride 1 directly, 3x3 stride 1 from enough channels by Winograd F(4x4, 3x3)
 * or F(2x2, 3x3), kernels/fwino.h, others through per-tile im2col, kernels/im2col.h), int8 and
 * uint8 as the 8-bit GEMM of kernels/qgemm.h reading the input in place (kernels/conv_x8.h), or
 * for 3x3 stride 1 by exact integer Winograd (kernels/qwino.h), bit-exact with the reference
 * kernels; the filter (and bias, for 8-bit) must be constant and is packed once at prepare. Grouped convolutions and int16 stay on the reference kernels. */
#include <math.h>

#include "kernels/conv_x8.h"
#include "kernels/fwino.h"
#include "kernels/im2col.h"
#include "kernels/qwino.h"
#include "kernels/ref/conv2d.h"
#include "kernels/ref/conv2d_q.h"
#include "kernels/ref/qmath.h"
#include "kernels/select.h"
#include "lite/ops.h"
#include "lite/ops/conv_common.h"

enum { CONV_F32 = 1, CONV_HYBRID_DEQUANT, CONV_S8, CONV_U8, CONV_S16, CONV_S16_ACC32 };
enum { FAST_NONE = 0, FAST_F32, FAST_F32_WINO, FAST_X8, FAST_X8_WINO }; /* the GEMM paths */

typedef struct conv_state {
  int kind; /* CONV_* chosen in prepare */
  tc_conv2d_params p;
  float *filter_f32; /* CONV_HYBRID_DEQUANT: the dequantized filter (persistent) */
  tc_q_requant q;    /* integer kinds; q.mult / q.shift live in prepare-time persistent memory */
  int fast;          /* FAST_*: chosen at prepare */
  tc_f32_gemm_kernel *fkr;       /* FAST_F32: kernel and the filter packed for it */
  const float *packed;
  const tc_f32_wino_packed *fwpk; /* FAST_F32_WINO: the transformed filter */
  const tc_qgemm_packed *qpk;    /* FAST_X8: packed filter + folded bias + requantization */
  const tc_qwino_packed *wpk;    /* FAST_X8_WINO: the transformed filter, the same stage */
  struct tc_threadpool *pool;
  int slot;                      /* scratch slot, -1 if none */
  int32_t in_zp;
} conv_state;

static tc_status conv_init(tc__ctx *c, tc__node *n) {
  n->state = tc__persist_alloc(c, sizeof(conv_state));
  if (!n->state) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  return TC_OK;
}

/* Hybrid filter: needs constant int8 data with one scale, or one per output channel along
 * axis 0; real = scale * (q - zero_point). */
static tc_status dequantize_filter(tc__ctx *c, tc__node *n, conv_state *st,
                                   const tc__tensor *filter) {
  const tc__quant *q = filter->m ? &filter->m->q : NULL;
  int32_t out_c = filter->dims[0];
  if (!filter->known || !filter->data)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "an int8 filter with a float32 input (hybrid) "
                                              "must be constant");
  if (!q || !(q->n_scales == 1 || (q->n_scales == out_c && q->axis == 0)))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "hybrid int8 filter needs per-tensor or per-output-channel (axis 0) "
                    "quantization, got %d scales on axis %d",
                    q ? (int)q->n_scales : 0, q ? (int)q->axis : 0);
  size_t total = tc__numel(filter), per_oc = out_c > 0 ? total / (size_t)out_c : 0;
  st->filter_f32 = tc__persist_alloc(c, total * sizeof(float) + 1);
  if (!st->filter_f32) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for the filter");
  const int8_t *w = filter->data;
  for (size_t i = 0; i < total; i++) {
    size_t ch = q->n_scales == 1 ? 0 : i / per_oc;
    st->filter_f32[i] = q->scale[ch] * (float)((int64_t)w[i] - q->zero_point[ch]);
  }
  return TC_OK;
}

/* Quantized kinds: per-output-channel multipliers (filter quantized per tensor or per channel
 * along axis 0), zero-point offsets and the fused activation range (conv_common.c). */
static tc_status quant_setup(tc__ctx *c, tc__node *n, conv_state *st, const tc__tensor *in,
                             const tc__tensor *filter, const tc__tensor *out, int act) {
  const tc__conv_qspec spec = {st->p.out_c, 0, 0};
  return tc__q_conv_setup(c, n, in, filter, out, act, &spec, &st->q);
}

/* Chooses the kernel kind from the dtypes (TFLite's supported combinations). */
static tc_status pick_kind(tc__ctx *c, tc__node *n, conv_state *st, const tc__tensor *in,
                           const tc__tensor *filter, const tc__tensor *bias,
                           const tc__tensor *out) {
  if (in->dtype == TC_DTYPE_F32 && filter->dtype != TC_DTYPE_F32 && filter->dtype != TC_DTYPE_I8)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "filter has dtype %s with a float32 input",
                    tc_dtype_name(filter->dtype));
  int k = 0;
  tc_status s = tc__conv_pick_kind(c, n, in, filter, bias, out, "filter", filter->dtype, &k);
  switch (k) {
  case TC__CK_F32:
    st->kind = filter->dtype == TC_DTYPE_F32 ? CONV_F32 : CONV_HYBRID_DEQUANT;
    break;
  case TC__CK_S8: st->kind = CONV_S8; break;
  case TC__CK_U8: st->kind = CONV_U8; break;
  case TC__CK_S16: st->kind = CONV_S16; break;
  case TC__CK_S16_ACC32: st->kind = CONV_S16_ACC32; break;
  default: break;
  }
  return s;
}

/* Picks and prepares a GEMM path when one applies (st->fast stays FAST_NONE otherwise). */
static tc_status fast_setup(tc__ctx *c, tc__node *n, conv_state *st, const tc__tensor *in,
                            const tc__tensor *filter, const tc__tensor *bias) {
  const tc_kernel_table *kt = tc__ctx_kernels(c);
  const tc_conv2d_params *p = &st->p;
  st->fast = FAST_NONE;
  st->slot = -1;
  if (!kt || kt->features == 0) return TC_OK; /* reference kernels forced */
  if (p->filter_c != p->in_c || !filter->known || !filter->data) return TC_OK;
  const int64_t k64 = (int64_t)p->k_h * p->k_w * p->filter_c;
  if (k64 <= 0 || k64 > (1 << 24) || p->out_c <= 0) return TC_OK;
  /* the GEMM row count (output pixels) is an int32 */
  if ((int64_t)p->batch * p->out_h * p->out_w > INT32_MAX) return TC_OK;
  const int32_t k = (int32_t)k64;
  st->pool = tc__ctx_pool(c);
  const int threads = tc_threadpool_n_threads(st->pool);
  size_t scratch = 0;
  if (st->kind == CONV_F32 || st->kind == CONV_HYBRID_DEQUANT) {
    tc_f32_gemm_kernel *kr = kt->f32_gemm;
    const float *w = st->kind == CONV_F32 ? (const float *)filter->data : st->filter_f32;
    /* 3x3 stride 1: Winograd F(4x4, 3x3) or F(2x2, 3x3) (kernels/fwino.h) where it beat the
     * direct path */
    const int wino_m = tc_f32_wino_tile(kr, p);
    if (wino_m) {
      void *wbuf = tc__persist_alloc(c, tc_f32_wino_packed_size(kr, wino_m, p));
      st->fwpk = wbuf ? tc_f32_wino_pack(kr, kt->f32_wino, wino_m, p, w, wbuf) : NULL;
      if (st->fwpk) {
        tc_status s = tc__scratch_request(c, n, tc_f32_wino_scratch_size(st->fwpk, threads),
                                          &st->slot);
        if (s) return s;
        st->fast = FAST_F32_WINO;
        tc__set_kernel_name(n, st->fwpk->name);
        return TC_OK;
      }
    }
    while (kr->narrow && p->out_c <= kr->narrow_n) kr = kr->narrow;
    float *buf = tc__persist_alloc(c, tc_f32_gemm_packed_b_size(kr, p->out_c, k) + 64);
    if (!buf) return TC_OK; /* no room for packed weights: keep the reference kernel */
    float *packed = (float *)(((uintptr_t)buf + 63) & ~(uintptr_t)63);
    tc_f32_gemm_pack_b(kr, p->out_c, k, w, (size_t)k, TC_GEMM_B_NK, packed);
    st->fkr = kr;
    st->packed = packed;
    scratch = tc_f32_conv2d_gemm_scratch_size(kr, p, threads);
    st->fast = FAST_F32;
    tc__set_kernel_name(n, kr->name);
  } else if (st->kind == CONV_S8 || st->kind == CONV_U8) {
#ifndef TC_Q_SINGLE_ROUNDING /* the SIMD requantization is tc_q_mul_double */
    if (bias && (!bias->known || !bias->data)) return TC_OK;
    const tc__quant *qi = in->m ? &in->m->q : NULL;
    const int32_t n_seg = tc_x8_conv2d_n_seg(p); /* the input read in place (conv_x8.h) */
    const int u8 = st->kind == CONV_U8;
    tc_qgemm_weights w = {filter->data, (size_t)k, u8, u8 ? st->q.filter_offset : 0,
                          st->q.input_offset, bias ? bias->data : NULL, st->q.mult, st->q.shift,
                          st->q.output_offset, st->q.act_min, st->q.act_max, u8, n_seg,
                          p->batch * p->out_h * p->out_w};
    tc_s8_qgemm_kernel *kr =
        tc_qgemm_kernel_for(kt->s8_qgemm, p->batch * p->out_h * p->out_w, p->out_c, k, &w);
    st->in_zp = qi ? (int32_t)qi->zero_point[0] : 0;
    /* 3x3 stride 1 from 16 input channels: Winograd F(2x2, 3x3) where the kernel has it
     * (kernels/qwino.h; 1.4-1.9x the direct GEMM on ResNet8's layers, slower on 3 channels) */
    if (kr->wino && p->in_c >= 16 && tc_qwino_fits(p, &w)) {
      void *wbuf = tc__persist_alloc(c, tc_qwino_packed_size(p));
      st->wpk = wbuf ? tc_qwino_pack(kr, p, &w, wbuf) : NULL;
      if (st->wpk) {
        scratch = tc_qwino_scratch_size(st->wpk, threads);
        st->fast = FAST_X8_WINO;
        tc__set_kernel_name(n, "avx2_wino2x3");
      }
    }
    if (st->fast == FAST_NONE) {
      void *buf = tc__persist_alloc(c, tc_qgemm_packed_size_seg(kr, p->out_c, k, n_seg));
      if (!buf) return TC_OK; /* no room for packed weights: keep the reference kernel */
      st->qpk = tc_qgemm_pack(kr, p->out_c, k, &w, buf);
      if (!st->qpk) return TC_OK;
      scratch = tc_x8_conv2d_scratch_size(st->qpk, p, st->kind == CONV_U8, threads);
      st->fast = FAST_X8;
      tc__set_kernel_name(n, kr->name);
    }
#else
    (void)in;
    (void)bias;
#endif
  }
  if (st->fast != FAST_NONE && scratch > 0) {
    tc_status s = tc__scratch_request(c, n, scratch, &st->slot);
    if (s) return s;
  }
  return TC_OK;
}

static tc_status conv_prepare(tc__ctx *c, tc__node *n) {
  conv_state *st = n->state;
  const tc__fb *fb = tc__ctx_fb(c);
  const tc__fbt *opt = &n->m->options;
  char b1[96], b2[96];
  tc__tensor *in = NULL, *filter = NULL, *bias = NULL, *out = NULL;
  tc_status s = tc__conv_io(c, n, &in, &filter, &bias, &out);
  if (s) return s;

  if ((s = pick_kind(c, n, st, in, filter, bias, out))) return s;

  /* Shapes. */
  if (in->n_dims != 4)
    return tc__fail(c, n, TC_ERR_MODEL, "input must have rank 4 (NHWC), got %s",
                    tc__dims_str(in, b1, sizeof b1));
  if (filter->n_dims != 4)
    return tc__fail(c, n, TC_ERR_MODEL, "filter must have rank 4 (OHWI), got %s",
                    tc__dims_str(filter, b1, sizeof b1));
  int32_t in_c = in->dims[3], filter_c = filter->dims[3], out_c = filter->dims[0];
  if (in_c <= 0 || filter_c <= 0 || in_c % filter_c != 0)
    return tc__fail(c, n, TC_ERR_MODEL,
                    "input channels (%d) must be a multiple of the filter's channels (%d): "
                    "input %s, filter %s",
                    (int)in_c, (int)filter_c, tc__dims_str(in, b1, sizeof b1),
                    tc__dims_str(filter, b2, sizeof b2));
  int32_t groups = in_c / filter_c;
  if (out_c % groups != 0)
    return tc__fail(c, n, TC_ERR_MODEL,
                    "output channels (%d) must be a multiple of the group count (%d)", (int)out_c,
                    (int)groups);
  if (bias && tc__numel(bias) != (size_t)out_c)
    return tc__fail(c, n, TC_ERR_MODEL, "bias has shape %s, expected %d elements",
                    tc__dims_str(bias, b1, sizeof b1), (int)out_c);

  /* Options. */
  int pad = tc__fb_u8(fb, opt, 0, 0);
  int32_t stride_w = tc__fb_i32(fb, opt, 1, 0), stride_h = tc__fb_i32(fb, opt, 2, 0);
  int act = tc__fb_u8(fb, opt, 3, 0);
  int32_t dil_w = tc__fb_i32(fb, opt, 4, 1), dil_h = tc__fb_i32(fb, opt, 5, 1);
  float lo, hi;
  if ((s = tc__conv_check_options(c, n, pad, stride_w, stride_h, dil_w, dil_h, act, &lo, &hi)))
    return s;

  /* Geometry. */
  tc_conv2d_params *p = &st->p;
  p->batch = in->dims[0];
  p->in_h = in->dims[1];
  p->in_w = in->dims[2];
  p->in_c = in_c;
  p->out_c = out_c;
  p->k_h = filter->dims[1];
  p->k_w = filter->dims[2];
  p->filter_c = filter_c;
  p->stride_h = stride_h;
  p->stride_w = stride_w;
  p->dilation_h = dil_h;
  p->dilation_w = dil_w;
  p->act_min = lo;
  p->act_max = hi;
  if (!tc__conv_out_size(pad, p->in_h, p->k_h, stride_h, dil_h, &p->out_h, &p->pad_top) ||
      !tc__conv_out_size(pad, p->in_w, p->k_w, stride_w, dil_w, &p->out_w, &p->pad_left))
    return tc__fail(c, n, TC_ERR_MODEL,
                    "empty output: input %s, filter %s, stride %dx%d, dilation %dx%d, %s padding",
                    tc__dims_str(in, b1, sizeof b1), tc__dims_str(filter, b2, sizeof b2),
                    (int)stride_h, (int)stride_w, (int)dil_h, (int)dil_w,
                    pad == TC_PAD_SAME ? "SAME" : "VALID");
  if (st->kind == CONV_HYBRID_DEQUANT && (s = dequantize_filter(c, n, st, filter))) return s;
  if (st->kind >= CONV_S8 && (s = quant_setup(c, n, st, in, filter, out, act))) return s;
  if ((s = fast_setup(c, n, st, in, filter, bias))) return s;
  int32_t dims[4] = {p->batch, p->out_h, p->out_w, out_c};
  return tc__set_shape(c, n, out, 4, dims);
}

static tc_status conv_invoke(tc__ctx *c, tc__node *n) {
  const conv_state *st = n->state;
  tc__tensor *in = tc__in(c, n, 0), *filter = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  tc__tensor *bias = n->n_inputs > 2 ? tc__in(c, n, 2) : NULL;
  void *scratch = st->slot >= 0 ? tc__scratch(c, n, st->slot) : NULL;
  if (st->fast == FAST_F32) {
    tc_f32_conv2d_gemm(st->fkr, st->pool, &st->p, in->data, st->packed, bias ? bias->data : NULL,
                       out->data, scratch);
    return TC_OK;
  }
  if (st->fast == FAST_F32_WINO) {
    tc_f32_wino_conv2d(st->fwpk, st->pool, &st->p, in->data, bias ? bias->data : NULL, out->data,
                       scratch);
    return TC_OK;
  }
  if (st->fast == FAST_X8_WINO) {
    tc_qwino_conv2d(st->wpk, st->pool, &st->p, in->data, st->kind == CONV_U8, st->in_zp,
                    out->data, scratch);
    return TC_OK;
  }
  if (st->fast == FAST_X8) {
    tc_x8_conv2d(st->qpk, st->pool, &st->p, in->data, st->kind == CONV_U8, st->in_zp, out->data,
                 scratch);
    return TC_OK;
  }
  switch (st->kind) {
  case CONV_F32:
    tc_f32_conv2d__ref(&st->p, in->data, filter->data, bias ? bias->data : NULL, out->data);
    return TC_OK;
  case CONV_HYBRID_DEQUANT:
    tc_f32_conv2d__ref(&st->p, in->data, st->filter_f32, bias ? bias->data : NULL, out->data);
    return TC_OK;
  case CONV_S8:
    tc_s8_conv2d__ref(&st->p, &st->q, in->data, filter->data, bias ? bias->data : NULL,
                      out->data);
    return TC_OK;
  case CONV_U8:
    tc_u8_conv2d__ref(&st->p, &st->q, in->data, filter->data, bias ? bias->data : NULL,
                      out->data);
    return TC_OK;
  case CONV_S16:
    tc_s16_conv2d__ref(&st->p, &st->q, in->data, filter->data, bias ? bias->data : NULL,
                       out->data);
    return TC_OK;
  case CONV_S16_ACC32:
    tc_s16_conv2d_acc32__ref(&st->p, &st->q, in->data, filter->data, bias ? bias->data : NULL,
                             out->data);
    return TC_OK;
  default:
    return tc__fail(c, n, TC_ERR_STATE, "invoked before a successful prepare");
  }
}

const tc__opreg tc__reg_conv2d = {TC_OP_CONV_2D, NULL, conv_init, conv_prepare, conv_invoke,
                                  NULL};
