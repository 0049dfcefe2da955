/* pool.c: AVERAGE_POOL_2D and MAX_POOL_2D glue. Both read Pool2DOptions, need an NHWC input and
 * share the geometry (TFLite's output-size and padding rules with dilation 1); invoke calls
 * kernels/ref/pool.c (float32) or kernels/ref/pool_q.c (int8, uint8, int16: bit-exact with
 * TFLite Micro's reference kernels). Quantized pooling does not rescale, so the output must have
 * the input's zero point and scale (within 1e-6, the tolerance TFLite's debug check uses).
 * float32, int8 and uint8 run the variant of the interpreter's kernel table (kernels/vec_ops.h,
 * bit-exact with the reference), output rows split over the thread pool for large calls; int16
 * runs the reference kernels. */
#include <math.h>

#include "core/threadpool.h"
#include "kernels/ref/pool.h"
#include "kernels/ref/pool_q.h"
#include "kernels/ref/qmath.h"
#include "kernels/select.h"
#include "lite/ops.h"

enum {
  POOL_AVG_F32 = 1, POOL_MAX_F32, POOL_AVG_S8, POOL_MAX_S8, POOL_AVG_U8, POOL_MAX_U8,
  POOL_AVG_S16, POOL_MAX_S16
};

typedef struct pool_state {
  int kind; /* POOL_* chosen in prepare */
  tc_pool2d_params p;
  int32_t q_min, q_max; /* integer kinds: quantized fused-activation range */
  tc_f32_pool_kernel *kf; /* float32 variant, or NULL */
  tc_q8_pool_fn *kq;      /* int8 / uint8 variant, or NULL */
  struct tc_threadpool *pool;
} pool_state;

/* Row tasks of one invoke. */
typedef struct pool_job {
  const pool_state *st;
  int is_max;
  const void *in;
  void *out;
  int32_t rows, n_tasks;
} pool_job;

static void pool_rows(const pool_job *j, int32_t r0, int32_t r1) {
  const pool_state *st = j->st;
  if (st->kf) st->kf(&st->p, j->is_max, j->in, j->out, r0, r1);
  else st->kq(&st->p, j->is_max, st->q_min, st->q_max, j->in, j->out, r0, r1);
}

static void pool_task(void *ctx, size_t task, int thread) {
  const pool_job *j = ctx;
  (void)thread;
  int32_t r0 = (int32_t)((int64_t)j->rows * (int64_t)task / j->n_tasks);
  int32_t r1 = (int32_t)((int64_t)j->rows * (int64_t)(task + 1) / j->n_tasks);
  if (r1 > r0) pool_rows(j, r0, r1);
}

/* Runs the chosen variant, split over the pool when the windows hold about 256K elements. */
static void pool_run(const pool_state *st, int is_max, const void *in, void *out) {
  const tc_pool2d_params *p = &st->p;
  pool_job j = {st, is_max, in, out, p->batch * p->out_h, 1};
  int threads = tc_threadpool_n_threads(st->pool);
  double work = (double)j.rows * p->out_w * p->channels * p->filter_h * p->filter_w;
  if (threads > 1 && work >= 262144.0 && j.rows > 1) {
    int32_t t = threads * 4;
    j.n_tasks = t < j.rows ? t : j.rows;
    tc_threadpool_parallel_for(st->pool, (size_t)j.n_tasks, pool_task, &j);
  } else if (j.rows > 0) {
    pool_rows(&j, 0, j.rows);
  }
}

/* Integer kinds: input and output quantization must agree; the fused activation becomes a
 * quantized clamp on the output's scale and zero point. */
static tc_status quant_setup(tc__ctx *c, tc__node *n, pool_state *st, const tc__tensor *in,
                             const tc__tensor *out, int act) {
  const tc__quant *qi = in->m ? &in->m->q : NULL, *qo = out->m ? &out->m->q : NULL;
  int32_t lo = INT8_MIN, hi = INT8_MAX;
  if (in->dtype == TC_DTYPE_U8) lo = 0, hi = 255;
  if (in->dtype == TC_DTYPE_I16) lo = INT16_MIN, hi = INT16_MAX;
  if (!qi || qi->n_scales < 1 || !qo || qo->n_scales < 1)
    return tc__fail(c, n, TC_ERR_MODEL, "%s input and output need quantization parameters",
                    tc_dtype_name(in->dtype));
  if (fabsf(qi->scale[0] - qo->scale[0]) > 1e-6f || qi->zero_point[0] != qo->zero_point[0])
    return tc__fail(c, n, TC_ERR_MODEL,
                    "input (scale %g, zero point %lld) and output (scale %g, zero point %lld) "
                    "quantization must match",
                    (double)qi->scale[0], (long long)qi->zero_point[0], (double)qo->scale[0],
                    (long long)qo->zero_point[0]);
  if (qo->zero_point[0] < lo || qo->zero_point[0] > hi || !(qo->scale[0] > 0.0f))
    return tc__fail(c, n, TC_ERR_MODEL, "invalid output quantization (scale %g, zero point %lld)",
                    (double)qo->scale[0], (long long)qo->zero_point[0]);
  if (!tc_q_act_range(act, qo->scale[0], (int32_t)qo->zero_point[0], lo, hi, &st->q_min,
                      &st->q_max))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d is not supported", act);
  return TC_OK;
}

static tc_status pool_init(tc__ctx *c, tc__node *n) {
  n->state = tc__persist_alloc(c, sizeof(pool_state));
  if (!n->state) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  return TC_OK;
}

static tc_status pool_prepare(tc__ctx *c, tc__node *n, int is_max) {
  pool_state *st = n->state;
  const tc__fb *fb = tc__ctx_fb(c);
  const tc__fbt *opt = &n->m->options;
  char b1[96];
  tc_status s = tc__expect_io(c, n, 1, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);

  switch (in->dtype) {
  case TC_DTYPE_F32: st->kind = is_max ? POOL_MAX_F32 : POOL_AVG_F32; break;
  case TC_DTYPE_I8: st->kind = is_max ? POOL_MAX_S8 : POOL_AVG_S8; break;
  case TC_DTYPE_U8: st->kind = is_max ? POOL_MAX_U8 : POOL_AVG_U8; break;
  case TC_DTYPE_I16: st->kind = is_max ? POOL_MAX_S16 : POOL_AVG_S16; break;
  default:
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "input has dtype %s; float32, int8, uint8 and int16 are implemented",
                    tc_dtype_name(in->dtype));
  }
  if ((s = tc__expect_dtype(c, n, out, "output", in->dtype))) return s;
  if (in->n_dims != 4)
    return tc__fail(c, n, TC_ERR_MODEL, "input must have rank 4 (NHWC), got %s",
                    tc__dims_str(in, b1, sizeof b1));

  int pad = tc__fb_u8(fb, opt, 0, 0);
  int32_t stride_w = tc__fb_i32(fb, opt, 1, 0), stride_h = tc__fb_i32(fb, opt, 2, 0);
  int32_t filter_w = tc__fb_i32(fb, opt, 3, 0), filter_h = tc__fb_i32(fb, opt, 4, 0);
  int act = tc__fb_u8(fb, opt, 5, 0);
  if (pad != TC_PAD_SAME && pad != TC_PAD_VALID)
    return tc__fail(c, n, TC_ERR_MODEL, "unknown padding %d", pad);
  if (stride_w <= 0 || stride_h <= 0)
    return tc__fail(c, n, TC_ERR_MODEL, "strides must be positive, got w=%d h=%d",
                    (int)stride_w, (int)stride_h);
  if (filter_w <= 0 || filter_h <= 0)
    return tc__fail(c, n, TC_ERR_MODEL, "filter size must be positive, got w=%d h=%d",
                    (int)filter_w, (int)filter_h);
  float lo, hi;
  if (tc__act_range_f32(act, &lo, &hi))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d is not supported", act);

  tc_pool2d_params *p = &st->p;
  p->batch = in->dims[0];
  p->in_h = in->dims[1];
  p->in_w = in->dims[2];
  p->channels = in->dims[3];
  p->filter_h = filter_h;
  p->filter_w = filter_w;
  p->stride_h = stride_h;
  p->stride_w = stride_w;
  p->act_min = lo;
  p->act_max = hi;
  if (!tc__conv_out_size(pad, p->in_h, filter_h, stride_h, 1, &p->out_h, &p->pad_top) ||
      !tc__conv_out_size(pad, p->in_w, filter_w, stride_w, 1, &p->out_w, &p->pad_left))
    return tc__fail(c, n, TC_ERR_MODEL,
                    "empty output: input %s, filter %dx%d, stride %dx%d, %s padding",
                    tc__dims_str(in, b1, sizeof b1), (int)filter_h, (int)filter_w,
                    (int)stride_h, (int)stride_w, pad == TC_PAD_SAME ? "SAME" : "VALID");
  if ((int64_t)p->batch * p->out_h > INT32_MAX) /* the kernels' row ranges are int32 */
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "output of %lld rows (batch x height) is too large",
                    (long long)p->batch * p->out_h);
  if (in->dtype != TC_DTYPE_F32 && (s = quant_setup(c, n, st, in, out, act))) return s;
  const tc_kernel_table *kt = tc__ctx_kernels(c);
  st->pool = tc__ctx_pool(c);
  st->kf = in->dtype == TC_DTYPE_F32 ? kt->f32_pool : NULL;
  st->kq = in->dtype == TC_DTYPE_I8 ? kt->s8_pool : (in->dtype == TC_DTYPE_U8 ? kt->u8_pool : NULL);
  const char *name = "ref";
  if (st->kf) name = st->kf == tc_f32_pool__ref ? "ref" : "avx2";
  if (st->kq) name = (st->kq == tc_s8_pool__ref || st->kq == tc_u8_pool__ref) ? "ref" : "avx2";
  tc__set_kernel_name(n, name);
  int32_t dims[4] = {p->batch, p->out_h, p->out_w, p->channels};
  return tc__set_shape(c, n, out, 4, dims);
}

static tc_status avg_prepare(tc__ctx *c, tc__node *n) { return pool_prepare(c, n, 0); }
static tc_status max_prepare(tc__ctx *c, tc__node *n) { return pool_prepare(c, n, 1); }

static tc_status pool_invoke(tc__ctx *c, tc__node *n) {
  const pool_state *st = n->state;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  switch (st->kind) {
  case POOL_AVG_F32:
  case POOL_AVG_S8:
  case POOL_AVG_U8:
    pool_run(st, 0, in->data, out->data);
    return TC_OK;
  case POOL_MAX_F32:
  case POOL_MAX_S8:
  case POOL_MAX_U8:
    pool_run(st, 1, in->data, out->data);
    return TC_OK;
  case POOL_AVG_S16:
    tc_s16_avg_pool2d__ref(&st->p, st->q_min, st->q_max, in->data, out->data);
    return TC_OK;
  case POOL_MAX_S16:
    tc_s16_max_pool2d__ref(&st->p, st->q_min, st->q_max, in->data, out->data);
    return TC_OK;
  default: return tc__fail(c, n, TC_ERR_STATE, "invoked before a successful prepare");
  }
}

const tc__opreg tc__reg_average_pool2d = {TC_OP_AVERAGE_POOL_2D, NULL, pool_init, avg_prepare,
                                          pool_invoke, NULL};
const tc__opreg tc__reg_max_pool2d = {TC_OP_MAX_POOL_2D, NULL, pool_init, max_prepare,
                                      pool_invoke, NULL};
