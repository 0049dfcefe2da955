/* depthwise_conv2d.c: DEPTHWISE_CONV_2D glue. Prepare reads DepthwiseConv2DOptions, checks
 * dtypes and shapes ([1, kh, kw, out_c] filter, optional bias) and computes the geometry; invoke
 * calls kernels/ref/depthwise_conv2d.c. Like TFLite, the depth multiplier is derived from the
 * shapes (out_c / in_c) because the option is 0 or stale in some real files. Dtypes: float32,
 * int8 (per-channel int8 filter along axis 3, int32 bias), legacy uint8 and 16x8 (int16
 * activations, int8 filter, int64 or int32 bias), the integer ones bit-exact with TFLite Micro
 * (kernels/ref/depthwise_q.c). float32, int8 and uint8 run the variant of the interpreter's
 * kernel table (kernels/vec_ops.h: AVX2 where the CPU has it, else the reference), with the 8-bit
 * weights repacked once at prepare, and output rows split across the thread pool; int16 runs
 * the reference kernels. */
#include <math.h>

#include "core/threadpool.h"
#include "kernels/ref/depthwise_conv2d.h"
#include "kernels/ref/depthwise_q.h"
#include "kernels/ref/qmath.h"
#include "kernels/select.h"
#include "lite/ops.h"
#include "lite/ops/conv_common.h"

enum { DW_F32 = TC__CK_F32, DW_S8 = TC__CK_S8, DW_U8 = TC__CK_U8, DW_S16 = TC__CK_S16,
       DW_S16_ACC32 = TC__CK_S16_ACC32 }; /* as tc__conv_pick_kind chooses them */

typedef struct dw_state {
  int kind; /* DW_* chosen in prepare */
  tc_dwconv2d_params p;
  tc_q_requant q; /* integer kinds; q.mult / q.shift live in prepare-time persistent memory */
  /* DW_F32 / DW_S8 / DW_U8: the chosen variant, its packed weights (prepare memory, NULL if
   * the variant packs nothing) and the pool to split rows over (NULL: one thread). */
  const tc_f32_dwconv_ukernel *kf;
  const tc_q8_dwconv_ukernel *kq;
  void *packed;
  struct tc_threadpool *pool;
} dw_state;

/* Quantized kinds: per-output-channel multipliers (filter per tensor or per channel along
 * axis 3), offsets and fused activation range (conv_common.c). */
static tc_status quant_setup(tc__ctx *c, tc__node *n, dw_state *st, const tc__tensor *in,
                             const tc__tensor *filter, const tc__tensor *out, int act,
                             int32_t out_c) {
  const tc__conv_qspec spec = {out_c, 3, 0};
  return tc__q_conv_setup(c, n, in, filter, out, act, &spec, &st->q);
}

/* Chooses the kernel kind from the dtypes (TFLite's supported combinations). */
static tc_status pick_kind(tc__ctx *c, tc__node *n, dw_state *st, const tc__tensor *in,
                           const tc__tensor *filter, const tc__tensor *bias,
                           const tc__tensor *out) {
  return tc__conv_pick_kind(c, n, in, filter, bias, out, "filter", TC_DTYPE_F32, &st->kind);
}

/* Reads the kernel table (the reference variants when the interpreter forces them) and packs
 * the 8-bit weights for the chosen variant. The filter and bias must be constant to be packed;
 * otherwise the reference variant runs. */
static tc_status pick_variant(tc__ctx *c, tc__node *n, dw_state *st, const tc__tensor *filter,
                              const tc__tensor *bias) {
  const tc_kernel_table *kt = tc__ctx_kernels(c);
  st->kf = NULL;
  st->kq = NULL;
  st->packed = NULL;
  st->pool = tc__ctx_pool(c);
  switch (st->kind) {
  case DW_F32:
    st->kf = kt->f32_dwconv;
    while (st->kf->narrow && (int64_t)st->p.in_c * st->p.depth_multiplier <= st->kf->narrow_c)
      st->kf = st->kf->narrow;
    tc__set_kernel_name(n, st->kf->name);
    return TC_OK;
  case DW_S8:
  case DW_U8: {
    st->kq = st->kind == DW_S8 ? kt->s8_dwconv : kt->u8_dwconv;
    while (st->kq->narrow && (int64_t)st->p.in_c * st->p.depth_multiplier <= st->kq->narrow_c)
      st->kq = st->kq->narrow;
#ifdef TC_Q_SINGLE_ROUNDING /* the SIMD requantization implements the double-rounding form */
    st->kq = st->kind == DW_S8 ? &tc_s8_dwconv__ref : &tc_u8_dwconv__ref;
#endif
    size_t size = st->kq->packed_size(&st->p);
    if (size) {
      int consts = filter->known && filter->data && (!bias || (bias->known && bias->data));
      if (!consts) {
        st->kq = st->kind == DW_S8 ? &tc_s8_dwconv__ref : &tc_u8_dwconv__ref;
      } else {
        char *raw = tc__persist_alloc(c, size + 63);
        if (!raw) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for packed weights");
        st->packed = (void *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
        st->kq->pack(&st->p, &st->q, filter->data, bias ? bias->data : NULL, st->packed);
      }
    }
    tc__set_kernel_name(n, st->kq->name);
    return TC_OK;
  }
  default:
    tc__set_kernel_name(n, "ref");
    return TC_OK;
  }
}

/* Row tasks: the work of one invoke split into n_tasks ranges of output rows. */
typedef struct dw_job {
  const dw_state *st;
  const void *in, *filter, *bias;
  void *out;
  int32_t rows, n_tasks;
} dw_job;

static void dw_rows(const dw_job *j, int32_t r0, int32_t r1) {
  const dw_state *st = j->st;
  if (st->kf) st->kf->run(&st->p, j->in, j->filter, j->bias, j->out, r0, r1);
  else st->kq->run(&st->p, &st->q, j->in, j->filter, j->bias, st->packed, j->out, r0, r1);
}

static void dw_task(void *ctx, size_t task, int thread) {
  const dw_job *j = ctx;
  (void)thread;
  int32_t r0 = (int32_t)((int64_t)j->rows * (int64_t)task / j->n_tasks);
  int32_t r1 = (int32_t)((int64_t)j->rows * (int64_t)(task + 1) / j->n_tasks);
  if (r1 > r0) dw_rows(j, r0, r1);
}

/* Splits the rows over the pool when the call has enough work to pay for a job (16K
 * multiply-adds: 3-8 us on one AVX2 core, against about 1 us to hand a job to workers that spin
 * between ops; MobileNet V1's 7x7x128 stride-2 layer, 56K, ran on one thread at 64K); every
 * output is computed the same way whatever the split. */
static void dw_run(const dw_state *st, const void *in, const void *filter, const void *bias,
                   void *out) {
  const tc_dwconv2d_params *p = &st->p;
  dw_job j = {st, in, filter, bias, out, p->batch * p->out_h, 1};
  int threads = tc_threadpool_n_threads(st->pool);
  double macs = (double)j.rows * p->out_w * p->in_c * p->depth_multiplier * p->k_h * p->k_w;
  if (threads > 1 && macs >= 16384.0 && j.rows > 1) {
    /* Up to 4 tasks per thread, but at least ~4 output rows per task: each task builds its
     * own window of input rows (k_h - 1 rows more than it outputs at stride 1), which costs
     * more than it balances on short images; a multiple of the thread count. */
    int32_t t = j.rows / 4 < threads * 4 ? j.rows / 4 : threads * 4;
    t = t / threads * threads;
    if (t < threads) t = threads;
    j.n_tasks = t < j.rows ? t : j.rows;
    tc_threadpool_parallel_for(st->pool, (size_t)j.n_tasks, dw_task, &j);
  } else if (j.rows > 0) {
    dw_rows(&j, 0, j.rows);
  }
}

static tc_status dw_init(tc__ctx *c, tc__node *n) {
  n->state = tc__persist_alloc(c, sizeof(dw_state));
  if (!n->state) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  return TC_OK;
}

static tc_status dw_prepare(tc__ctx *c, tc__node *n) {
  dw_state *st = n->state;
  const tc__fb *fb = tc__ctx_fb(c);
  const tc__fbt *opt = &n->m->options;
  char b1[96], b2[96];
  tc__tensor *in = NULL, *filter = NULL, *bias = NULL, *out = NULL;
  tc_status s = tc__conv_io(c, n, &in, &filter, &bias, &out);
  if (s) return s;

  if ((s = pick_kind(c, n, st, in, filter, bias, out))) return s;

  if (in->n_dims != 4)
    return tc__fail(c, n, TC_ERR_MODEL, "input must have rank 4 (NHWC), got %s",
                    tc__dims_str(in, b1, sizeof b1));
  if (filter->n_dims != 4 || filter->dims[0] != 1)
    return tc__fail(c, n, TC_ERR_MODEL, "filter must have shape [1, kh, kw, channels], got %s",
                    tc__dims_str(filter, b1, sizeof b1));
  int32_t in_c = in->dims[3], out_c = filter->dims[3];
  if (in_c <= 0 || out_c % in_c != 0)
    return tc__fail(c, n, TC_ERR_MODEL,
                    "filter channels (%d) must be a multiple of input channels (%d): input %s, "
                    "filter %s",
                    (int)out_c, (int)in_c, tc__dims_str(in, b1, sizeof b1),
                    tc__dims_str(filter, b2, sizeof b2));
  if (bias && tc__numel(bias) != (size_t)out_c)
    return tc__fail(c, n, TC_ERR_MODEL, "bias has shape %s, expected %d elements",
                    tc__dims_str(bias, b1, sizeof b1), (int)out_c);

  /* Options (field 3, depth_multiplier, is deliberately ignored: see the file comment). */
  int pad = tc__fb_u8(fb, opt, 0, 0);
  int32_t stride_w = tc__fb_i32(fb, opt, 1, 0), stride_h = tc__fb_i32(fb, opt, 2, 0);
  int act = tc__fb_u8(fb, opt, 4, 0);
  int32_t dil_w = tc__fb_i32(fb, opt, 5, 1), dil_h = tc__fb_i32(fb, opt, 6, 1);
  float lo, hi;
  if ((s = tc__conv_check_options(c, n, pad, stride_w, stride_h, dil_w, dil_h, act, &lo, &hi)))
    return s;

  tc_dwconv2d_params *p = &st->p;
  p->batch = in->dims[0];
  p->in_h = in->dims[1];
  p->in_w = in->dims[2];
  p->in_c = in_c;
  p->depth_multiplier = out_c / in_c;
  p->k_h = filter->dims[1];
  p->k_w = filter->dims[2];
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
  if ((int64_t)p->batch * p->out_h > INT32_MAX) /* the kernels' row ranges are int32 */
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "output of %lld rows (batch x height) is too large",
                    (long long)p->batch * p->out_h);
  if (st->kind != DW_F32 && (s = quant_setup(c, n, st, in, filter, out, act, out_c))) return s;
  if ((s = pick_variant(c, n, st, filter, bias))) return s;
  int32_t dims[4] = {p->batch, p->out_h, p->out_w, out_c};
  return tc__set_shape(c, n, out, 4, dims);
}

static tc_status dw_invoke(tc__ctx *c, tc__node *n) {
  const dw_state *st = n->state;
  tc__tensor *in = tc__in(c, n, 0), *filter = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  tc__tensor *bias = n->n_inputs > 2 ? tc__in(c, n, 2) : NULL;
  switch (st->kind) {
  case DW_F32:
  case DW_S8:
  case DW_U8:
    dw_run(st, in->data, filter->data, bias ? bias->data : NULL, out->data);
    return TC_OK;
  case DW_S16:
    tc_s16_depthwise_conv2d__ref(&st->p, &st->q, in->data, filter->data,
                                 bias ? bias->data : NULL, out->data);
    return TC_OK;
  case DW_S16_ACC32:
    tc_s16_depthwise_conv2d_acc32__ref(&st->p, &st->q, in->data, filter->data,
                                       bias ? bias->data : NULL, out->data);
    return TC_OK;
  default:
    return tc__fail(c, n, TC_ERR_STATE, "invoked before a successful prepare");
  }
}

const tc__opreg tc__reg_depthwise_conv2d = {TC_OP_DEPTHWISE_CONV_2D, NULL, dw_init, dw_prepare,
                                            dw_invoke, NULL};
