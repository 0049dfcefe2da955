/* quantize.c: post-training quantization of a float description (tc_quantize).
 *
 * INT8 (full integer), step by step:
 *  1. every operator must be one the int8 path knows (list below), every activation float32;
 *  2. calibrate activation ranges on the representative data (calib.c);
 *  3. tensors that TFLite requires to share quantization (outputs of RESHAPE, pooling, PAD,
 *     TRANSPOSE, slices, MAXIMUM/MINIMUM and every input and the output of CONCATENATION) are
 *     merged into groups whose range is the union of the members' ranges; SOFTMAX and LOGISTIC
 *     outputs get scale 1/256, zero point -128 and TANH 1/128, 0 (for their whole group);
 *  4. an activation range [lo, hi] (widened to contain 0) becomes scale (hi - lo) / 255 and zero
 *     point round(-128 - lo / scale);
 *  5. weights: CONV_2D filters per output channel (axis 0), DEPTHWISE filters per channel
 *     (axis 3), FULLY_CONNECTED weights per output row (axis 0, or per tensor), symmetric int8 in
 *     [-127, 127]; biases int32 with scale input_scale * weight_scale[c]; any other float
 *     constant per-tensor asymmetric int8 from its own min/max (or its group's parameters);
 *  6. the model's float inputs/outputs become int8, or stay float32 with QUANTIZE after each
 *     input and DEQUANTIZE before each output (the int8 tensors are then named "<name>_int8").
 * It does not fuse or fold anything: the float model is expected to be converter output already.
 *
 * DYNAMIC: CONV_2D filters (per output channel) and FULLY_CONNECTED weights (per tensor) with
 * at least dynamic_min_elements elements become int8; activations stay float (tensorc runs
 * such ops as "hybrid"). DEPTHWISE weights stay float (no hybrid depthwise kernel).
 *
 * FLOAT16: every float32 constant becomes float16, followed by a DEQUANTIZE to float32 that the
 * runtime folds at prepare. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "export/calib.h"

enum { OP_ADD = 0, OP_AVG_POOL = 1, OP_CONCAT = 2, OP_CONV = 3, OP_DW = 4, OP_DEQUANTIZE = 6,
       OP_FC = 9, OP_LOGISTIC = 14, OP_MAX_POOL = 17, OP_MUL = 18, OP_RELU = 19, OP_RELU6 = 21,
       OP_RESHAPE = 22, OP_SOFTMAX = 25, OP_TANH = 28, OP_PAD = 34, OP_TRANSPOSE = 39,
       OP_MEAN = 40, OP_SUB = 41, OP_SQUEEZE = 43, OP_STRIDED_SLICE = 45, OP_MAXIMUM = 55,
       OP_MINIMUM = 57, OP_PADV2 = 60, OP_SLICE = 65, OP_EXPAND_DIMS = 70, OP_LEAKY_RELU = 98,
       OP_QUANTIZE = 114, OP_HARD_SWISH = 117 };

/* Operators the int8 path rewrites. */
static int int8_supported(int32_t op) {
  switch (op) {
  case OP_ADD: case OP_AVG_POOL: case OP_CONCAT: case OP_CONV: case OP_DW: case OP_FC:
  case OP_LOGISTIC: case OP_MAX_POOL: case OP_MUL: case OP_RELU: case OP_RELU6: case OP_RESHAPE:
  case OP_SOFTMAX: case OP_TANH: case OP_PAD: case OP_TRANSPOSE: case OP_MEAN: case OP_SUB:
  case OP_SQUEEZE: case OP_STRIDED_SLICE: case OP_MAXIMUM: case OP_MINIMUM: case OP_PADV2:
  case OP_SLICE: case OP_EXPAND_DIMS: case OP_LEAKY_RELU: case OP_HARD_SWISH:
    return 1;
  default: return 0;
  }
}

/* Operators whose output must carry their input's quantization. */
static int shares_quant(int32_t op) {
  switch (op) {
  case OP_AVG_POOL: case OP_MAX_POOL: case OP_RESHAPE: case OP_PAD: case OP_PADV2:
  case OP_TRANSPOSE: case OP_SQUEEZE: case OP_STRIDED_SLICE: case OP_SLICE: case OP_EXPAND_DIMS:
  case OP_MAXIMUM: case OP_MINIMUM: case OP_CONCAT:
    return 1;
  default: return 0;
  }
}

static int find_root(int *parent, int i) {
  while (parent[i] != i) {
    parent[i] = parent[parent[i]];
    i = parent[i];
  }
  return i;
}

static void unite(int *parent, int a, int b) {
  a = find_root(parent, a);
  b = find_root(parent, b);
  if (a != b) parent[b] = a;
}

typedef struct qparam {
  float scale;
  int64_t zp;
  int fixed;
} qparam;

static qparam from_range(float lo, float hi) {
  if (lo > 0) lo = 0;
  if (hi < 0) hi = 0;
  if (hi - lo < 1e-8f) hi = lo + 1e-8f;
  qparam q;
  q.scale = (hi - lo) / 255.0f;
  double zp = round(-128.0 - (double)lo / q.scale);
  q.zp = zp < -128 ? -128 : zp > 127 ? 127 : (int64_t)zp;
  q.fixed = 0;
  return q;
}

static int8_t q8(double v) { return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v); }

/* Symmetric per-channel int8 of a float weight tensor along `axis`. */
static tc_status quant_weights(tc_graphdef *out, const xtensor *t, int axis, int per_channel,
                               int *new_index) {
  int64_t n = tc__x_numel(t);
  int nch = per_channel ? t->dims[axis] : 1;
  int64_t inner = 1;
  for (int d = axis + 1; d < t->n_dims; d++) inner *= t->dims[d];
  const float *w = (const float *)t->data;
  float *scale = tc__calloc((size_t)nch, sizeof *scale);
  int8_t *q = tc__malloc((size_t)n + 1);
  if (!scale || !q) {
    tc__free(scale);
    tc__free(q);
    return tc__x_fail(out, TC_ERR_NOMEM, "out of memory");
  }
  for (int64_t i = 0; i < n; i++) {
    int c = per_channel ? (int)((i / inner) % nch) : 0;
    float a = fabsf(w[i]);
    if (a > scale[c]) scale[c] = a;
  }
  for (int c = 0; c < nch; c++) scale[c] = scale[c] > 0 ? scale[c] / 127.0f : 1.0f;
  for (int64_t i = 0; i < n; i++) {
    int c = per_channel ? (int)((i / inner) % nch) : 0;
    double v = round((double)w[i] / scale[c]);
    q[i] = (int8_t)(v < -127 ? -127 : v > 127 ? 127 : v);
  }
  int ti = tc_graphdef_add_tensor(out, t->name, TC_DTYPE_I8, t->n_dims, t->dims, q, (size_t)n);
  tc_status s = ti < 0 ? out->status : TC_OK;
  if (!s) s = tc_graphdef_set_quant(out, ti, nch, scale, NULL, per_channel ? axis : 0);
  tc__free(scale);
  tc__free(q);
  *new_index = ti;
  return s;
}

/* int32 bias with scale in_scale * w_scale[c]. */
static tc_status quant_bias(tc_graphdef *out, const xtensor *b, float in_scale, const xtensor *w,
                            const char *name, int *new_index) {
  int64_t n = tc__x_numel(b);
  if (b->dtype != TC_DTYPE_F32 || b->n_dims != 1 || (w->n_scales != 1 && w->n_scales != n))
    return tc__x_fail(out, TC_ERR_UNSUPPORTED, "bias '%s': expected a 1-D float32 bias matching "
                      "%d weight scales", b->name, w->n_scales);
  float *sc = tc__malloc((size_t)n * sizeof *sc + 4);
  int32_t *q = tc__malloc((size_t)n * 4 + 4);
  if (!sc || !q) {
    tc__free(sc);
    tc__free(q);
    return tc__x_fail(out, TC_ERR_NOMEM, "out of memory");
  }
  const float *bv = (const float *)b->data;
  for (int64_t i = 0; i < n; i++) {
    sc[i] = in_scale * w->scale[w->n_scales == 1 ? 0 : i];
    double v = round((double)bv[i] / sc[i]);
    q[i] = (int32_t)(v < -2147483647.0 ? -2147483647.0 : v > 2147483647.0 ? 2147483647.0 : v);
  }
  int nsc = w->n_scales == 1 ? 1 : (int)n;
  int ti = tc_graphdef_add_tensor(out, name, TC_DTYPE_I32, 1, b->dims, q, (size_t)n * 4);
  tc_status s = ti < 0 ? out->status : tc_graphdef_set_quant(out, ti, nsc, sc, NULL, 0);
  tc__free(sc);
  tc__free(q);
  *new_index = ti;
  return s;
}

/* Per-tensor int8 of any other float constant, with the given parameters. */
static tc_status quant_const(tc_graphdef *out, const xtensor *t, qparam p, int *new_index) {
  int64_t n = tc__x_numel(t);
  int8_t *q = tc__malloc((size_t)n + 1);
  if (!q) return tc__x_fail(out, TC_ERR_NOMEM, "out of memory");
  const float *v = (const float *)t->data;
  for (int64_t i = 0; i < n; i++) q[i] = q8(round((double)v[i] / p.scale) + (double)p.zp);
  int ti = tc_graphdef_add_tensor(out, t->name, TC_DTYPE_I8, t->n_dims, t->dims, q, (size_t)n);
  tc_status s = ti < 0 ? out->status : tc_graphdef_set_quant(out, ti, 1, &p.scale, &p.zp, 0);
  tc__free(q);
  *new_index = ti;
  return s;
}

/* Adds a copy of tensor t (same dtype, data, quantization) to out. */
static int copy_tensor(tc_graphdef *out, const xtensor *t, const char *name) {
  int ti = tc_graphdef_add_tensor(out, name ? name : t->name, t->dtype, t->n_dims, t->dims, t->data,
                                  t->data ? t->size : 0);
  if (ti < 0) return -1;
  xtensor *n = &out->sg[0].t[ti];
  n->has_sig = t->has_sig;
  memcpy(n->sig, t->sig, sizeof n->sig);
  n->is_variable = t->is_variable;
  if (t->n_scales && tc_graphdef_set_quant(out, ti, t->n_scales, t->scale, t->zp, t->axis)) return -1;
  return ti;
}

/* Copies operator o of the source into out with remapped tensors (options kept). */
static int copy_op(tc_graphdef *out, const xop *o, const int32_t *in, const int32_t *outs,
                   int keep_version) {
  int oi = o->builtin == 32 ? tc_graphdef_add_custom_op(out, o->custom, o->custom_opts, o->custom_size,
                                                        o->n_in, in, o->n_out, outs)
                            : tc_graphdef_add_op(out, o->builtin, o->n_in, in, o->n_out, outs);
  if (oi < 0) return -1;
  xop *n = &out->sg[0].op[oi];
  n->opt_type = o->opt_type;
  for (int k = 0; k < XOPT_MAX_FIELDS; k++) {
    n->f[k] = o->f[k];
    if (o->f[k].vec) {
      uint8_t kinds[XOPT_MAX_FIELDS];
      int nk = tc__x_options_spec(o->opt_type, kinds);
      size_t bytes = k < nk && kinds[k] == XF_STRING ? strlen(o->f[k].vec) + 1 : (size_t)o->f[k].n * 4;
      n->f[k].vec = tc__x_dup(out, o->f[k].vec, bytes);
      if (!n->f[k].vec) return -1;
    }
  }
  n->version = keep_version ? o->version : 0;
  return oi;
}

/* ---- float16 and dynamic range ----------------------------------------------------------- */

static tc_status quantize_f16(const tc_graphdef *in, tc_graphdef *out) {
  const xsubgraph *s = &in->sg[0];
  int32_t *map = tc__malloc((size_t)s->n_t * 4 + 4);
  tc_status st = TC_OK;
  if (!map) return tc__x_fail(out, TC_ERR_NOMEM, "out of memory");
  /* constants first: float16 tensor + DEQUANTIZE into a float32 tensor with the original name */
  for (int i = 0; i < s->n_t && !st; i++) {
    const xtensor *t = &s->t[i];
    if (t->data && t->dtype == TC_DTYPE_F32 && !t->n_scales) {
      int64_t n = tc__x_numel(t);
      uint16_t *h = tc__malloc((size_t)n * 2 + 2);
      if (!h) {
        st = tc__x_fail(out, TC_ERR_NOMEM, "out of memory");
        break;
      }
      for (int64_t k = 0; k < n; k++) {
        /* round-to-nearest-even float32 -> float16 */
        float f = ((const float *)t->data)[k];
        uint32_t x;
        memcpy(&x, &f, 4);
        uint32_t sign = (x >> 16) & 0x8000, mant = x & 0x7fffff;
        int32_t e = (int32_t)((x >> 23) & 0xff) - 127 + 15;
        uint16_t r;
        if (((x >> 23) & 0xff) == 0xff) r = (uint16_t)(sign | 0x7c00 | (mant ? 0x200 : 0));
        else if (e >= 31) r = (uint16_t)(sign | 0x7c00);
        else if (e <= 0) {
          if (e < -10) r = (uint16_t)sign;
          else {
            mant |= 0x800000;
            int shift = 14 - e;
            uint32_t half = mant >> shift, rem = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
            if (rem > mid || (rem == mid && (half & 1))) half++;
            r = (uint16_t)(sign | half);
          }
        } else {
          uint32_t half = ((uint32_t)e << 10) | (mant >> 13), rem = mant & 0x1fff;
          if (rem > 0x1000 || (rem == 0x1000 && (half & 1))) half++;
          r = (uint16_t)(sign | half);
        }
        h[k] = r;
      }
      char name[300];
      snprintf(name, sizeof name, "%s_fp16", t->name);
      int ht = tc_graphdef_add_tensor(out, name, TC_DTYPE_F16, t->n_dims, t->dims, h, (size_t)n * 2);
      tc__free(h);
      int ft = ht < 0 ? -1 : tc_graphdef_add_tensor(out, t->name, TC_DTYPE_F32, t->n_dims, t->dims,
                                                    NULL, 0);
      if (ht < 0 || ft < 0 || tc_graphdef_add_op(out, OP_DEQUANTIZE, 1, &ht, 1, &ft) < 0) {
        st = out->status ? out->status : TC_ERR_NOMEM;
        break;
      }
      map[i] = ft;
    } else {
      map[i] = -2;
    }
  }
  for (int i = 0; i < s->n_t && !st; i++)
    if (map[i] == -2 && (map[i] = copy_tensor(out, &s->t[i], NULL)) < 0) st = out->status;
  for (int i = 0; i < s->n_op && !st; i++) {
    const xop *o = &s->op[i];
    int32_t ins[64], outs[64];
    if (o->n_in > 64 || o->n_out > 64) {
      st = tc__x_fail(out, TC_ERR_UNSUPPORTED, "operator %d has too many inputs", i);
      break;
    }
    for (int k = 0; k < o->n_in; k++) ins[k] = o->in[k] < 0 ? -1 : map[o->in[k]];
    for (int k = 0; k < o->n_out; k++) outs[k] = map[o->out[k]];
    if (copy_op(out, o, ins, outs, 1) < 0) st = out->status ? out->status : TC_ERR_NOMEM;
  }
  if (!st) {
    int32_t io[128];
    if (s->n_in + s->n_out > 128) st = tc__x_fail(out, TC_ERR_UNSUPPORTED, "too many inputs/outputs");
    for (int k = 0; k < s->n_in && !st; k++) io[k] = map[s->in[k]];
    for (int k = 0; k < s->n_out && !st; k++) io[s->n_in + k] = map[s->out[k]];
    if (!st) st = tc_graphdef_set_io(out, s->n_in, io, s->n_out, io + s->n_in);
  }
  tc__free(map);
  return st;
}

static tc_status quantize_dynamic(const tc_graphdef *in, const tc_quant_options *o,
                                  tc_graphdef *out) {
  tc_graphdef *c = NULL;
  tc_status st = tc__x_clone_sg0(in, &c);
  if (st) {
    tc_graphdef_destroy(c);
    return tc__x_fail(out, st, "out of memory");
  }
  /* Quantize in the clone, then move the clone's content into `out` by swapping. */
  xsubgraph *s = &c->sg[0];
  size_t min_el = o->dynamic_min_elements ? o->dynamic_min_elements : 1024;
  for (int i = 0; i < s->n_op; i++) {
    xop *op = &s->op[i];
    /* CONV_2D filters [O,H,W,I] and FULLY_CONNECTED weights [units, depth], per output
     * channel (axis 0): tensorc's runtime and TFLite run both as hybrid ops. */
    if ((op->builtin != OP_CONV && op->builtin != OP_FC) || op->n_in < 2 || op->in[1] < 0)
      continue;
    xtensor *w = &s->t[op->in[1]];
    int want_rank = op->builtin == OP_CONV ? 4 : 2;
    if (!w->data || w->dtype != TC_DTYPE_F32 || w->n_dims != want_rank ||
        tc__x_numel(w) < (int64_t)min_el)
      continue;
    int only_weights = 1; /* the tensor is used only as this kind of op's weights */
    for (int k = 0; k < s->n_op; k++)
      for (int j = 0; j < s->op[k].n_in; j++)
        if (s->op[k].in[j] == op->in[1] && !(s->op[k].builtin == op->builtin && j == 1))
          only_weights = 0;
    if (!only_weights) continue;
    int ti;
    /* FC weights per tensor (symmetric), as TFLite's dynamic-range converter writes them. */
    if ((st = quant_weights(c, w, 0, op->builtin == OP_CONV, &ti))) break;
    /* swap the new int8 tensor into the filter's slot */
    s = &c->sg[0];
    xtensor tmp = s->t[op->in[1]];
    s->t[op->in[1]] = s->t[ti];
    s->t[ti] = tmp;
    s->n_t--; /* the float copy (now last) is dropped */
    (void)tmp;
  }
  for (int i = 0; i < s->n_op; i++) s->op[i].version = 0;
  if (st) {
    tc__x_fail(out, st, "%s", c->errmsg);
    tc_graphdef_destroy(c);
    return st;
  }
  /* hand the clone's storage to `out` */
  tc_graphdef tmp = *out;
  *out = *c;
  *c = tmp;
  tc_graphdef_destroy(c);
  return TC_OK;
}

/* ---- full integer ------------------------------------------------------------------------ */

typedef struct qstate {
  const tc_graphdef *in;
  const xsubgraph *s;
  tc_graphdef *out;
  const tc_quant_options *o;
  xrange *r;
  int *parent;
  qparam *grp;    /* per group root */
  int32_t *map;   /* activation tensor -> new index */
  int32_t *wmap;  /* weight constant -> new index */
} qstate;

static qparam param_of(qstate *q, int t) { return q->grp[find_root(q->parent, t)]; }

static tc_status plan_params(qstate *q) {
  const xsubgraph *s = q->s;
  for (int i = 0; i < s->n_t; i++) q->parent[i] = i;
  for (int i = 0; i < s->n_op; i++) {
    const xop *o = &s->op[i];
    if (!shares_quant(o->builtin) || o->n_out < 1 || o->n_in < 1) continue;
    if (o->builtin == OP_CONCAT) {
      for (int k = 0; k < o->n_in; k++)
        if (o->in[k] >= 0) unite(q->parent, o->out[0], o->in[k]);
    } else if (o->in[0] >= 0 && !s->t[o->in[0]].data) {
      unite(q->parent, o->out[0], o->in[0]);
    }
  }
  /* union of ranges per group; constants contribute their values */
  xrange *g = tc__calloc((size_t)s->n_t, sizeof *g);
  if (!g) return tc__x_fail(q->out, TC_ERR_NOMEM, "out of memory");
  for (int i = 0; i < s->n_t; i++) {
    const xtensor *t = &s->t[i];
    xrange x = q->r[i];
    if (t->data && t->dtype == TC_DTYPE_F32) {
      int64_t n = tc__x_numel(t);
      const float *v = (const float *)t->data;
      for (int64_t k = 0; k < n; k++) {
        if (!x.seen) x.lo = x.hi = v[k], x.seen = 1;
        x.lo = fminf(x.lo, v[k]);
        x.hi = fmaxf(x.hi, v[k]);
      }
    }
    if (!x.seen) continue;
    xrange *gr = &g[find_root(q->parent, i)];
    if (!gr->seen) *gr = x;
    gr->lo = fminf(gr->lo, x.lo);
    gr->hi = fmaxf(gr->hi, x.hi);
  }
  for (int i = 0; i < s->n_t; i++)
    if (find_root(q->parent, i) == i) q->grp[i] = from_range(g[i].lo, g[i].hi);
  tc__free(g);
  for (int i = 0; i < s->n_op; i++) {
    const xop *o = &s->op[i];
    qparam fx = {0, 0, 1};
    if (o->builtin == OP_SOFTMAX || o->builtin == OP_LOGISTIC) fx.scale = 1.0f / 256, fx.zp = -128;
    else if (o->builtin == OP_TANH) fx.scale = 1.0f / 128, fx.zp = 0;
    else continue;
    qparam *p = &q->grp[find_root(q->parent, o->out[0])];
    if (p->fixed && (p->scale != fx.scale || p->zp != fx.zp))
      return tc__x_fail(q->out, TC_ERR_UNSUPPORTED, "tensor '%s' would need two fixed quantizations",
                        s->t[o->out[0]].name);
    *p = fx;
  }
  return TC_OK;
}

static tc_status activation_tensor(qstate *q, int t, const char *name) {
  const xtensor *src = &q->s->t[t];
  qparam p = param_of(q, t);
  int ti = tc_graphdef_add_tensor(q->out, name ? name : src->name, TC_DTYPE_I8, src->n_dims,
                                  src->dims, NULL, 0);
  if (ti < 0) return q->out->status;
  xtensor *n = &q->out->sg[0].t[ti];
  n->has_sig = src->has_sig;
  memcpy(n->sig, src->sig, sizeof n->sig);
  q->map[t] = ti;
  return tc_graphdef_set_quant(q->out, ti, 1, &p.scale, &p.zp, 0);
}

static tc_status quantize_int8(const tc_graphdef *in, const tc_quant_options *o, tc_graphdef *out) {
  const xsubgraph *s = &in->sg[0];
  /* 1. checks */
  for (int i = 0; i < s->n_op; i++) {
    const xop *op = &s->op[i];
    if (!int8_supported(op->builtin)) {
      const char *nm = op->builtin == 32 ? op->custom : tc_builtin_name(op->builtin);
      return tc__x_fail(out, TC_ERR_UNSUPPORTED, "operator %d (%s) has no int8 quantization in "
                        "tensorc; use --mode dynamic or float16", i, nm ? nm : "?");
    }
    for (int k = 0; k < op->n_in + op->n_out; k++) {
      int32_t t = k < op->n_in ? op->in[k] : op->out[k - op->n_in];
      if (t < 0) continue;
      const xtensor *x = &s->t[t];
      if (!x->data && x->dtype != TC_DTYPE_F32)
        return tc__x_fail(out, TC_ERR_UNSUPPORTED, "tensor '%s' is %s: only float32 models can be "
                          "quantized", x->name, tc_dtype_name(x->dtype));
      if (x->n_scales)
        return tc__x_fail(out, TC_ERR_UNSUPPORTED, "tensor '%s' is already quantized", x->name);
    }
  }
  qstate q = {in, s, out, o, NULL, NULL, NULL, NULL, NULL};
  q.r = tc__calloc((size_t)s->n_t + 1, sizeof *q.r);
  q.parent = tc__calloc((size_t)s->n_t + 1, sizeof *q.parent);
  q.grp = tc__calloc((size_t)s->n_t + 1, sizeof *q.grp);
  q.map = tc__calloc((size_t)s->n_t + 1, sizeof *q.map);
  q.wmap = tc__calloc((size_t)s->n_t + 1, sizeof *q.wmap);
  tc_status st = TC_OK;
  if (!q.r || !q.parent || !q.grp || !q.map || !q.wmap) {
    st = tc__x_fail(out, TC_ERR_NOMEM, "out of memory");
    goto done;
  }
  /* 2.-4. */
  if ((st = tc__calibrate(in, o, q.r, out))) goto done;
  if ((st = plan_params(&q))) goto done;
  for (int i = 0; i < s->n_t; i++) q.map[i] = q.wmap[i] = -1;
  int32_t new_in[64], new_out[64];
  if (s->n_in > 64 || s->n_out > 64) {
    st = tc__x_fail(out, TC_ERR_UNSUPPORTED, "too many model inputs/outputs");
    goto done;
  }
  /* 6. inputs */
  for (int k = 0; k < s->n_in; k++) {
    int t = s->in[k];
    if (o->int8_io) {
      if ((st = activation_tensor(&q, t, NULL))) goto done;
      new_in[k] = q.map[t];
    } else {
      int ft = copy_tensor(out, &s->t[t], NULL);
      char name[300];
      snprintf(name, sizeof name, "%s_int8", s->t[t].name);
      if (ft < 0 || (st = activation_tensor(&q, t, name))) {
        st = st ? st : out->status;
        goto done;
      }
      if (tc_graphdef_add_op(out, OP_QUANTIZE, 1, &ft, 1, &q.map[t]) < 0) {
        st = out->status;
        goto done;
      }
      new_in[k] = ft;
    }
  }
  /* activations produced by operators (outputs of the model named "<name>_int8" when float io) */
  for (int i = 0; i < s->n_op; i++)
    for (int k = 0; k < s->op[i].n_out; k++) {
      int t = s->op[i].out[k];
      if (q.map[t] >= 0) continue;
      int is_model_out = 0;
      for (int j = 0; j < s->n_out; j++) is_model_out |= s->out[j] == t;
      char name[300];
      snprintf(name, sizeof name, "%s_int8", s->t[t].name);
      if ((st = activation_tensor(&q, t, is_model_out && !o->int8_io ? name : NULL))) goto done;
    }
  /* 5. operators with their constants */
  for (int i = 0; i < s->n_op; i++) {
    const xop *op = &s->op[i];
    int32_t ins[64], outs[64];
    if (op->n_in > 64 || op->n_out > 64) {
      st = tc__x_fail(out, TC_ERR_UNSUPPORTED, "operator %d has too many inputs", i);
      goto done;
    }
    int has_w = op->builtin == OP_CONV || op->builtin == OP_DW || op->builtin == OP_FC;
    for (int k = 0; k < op->n_in; k++) {
      int t = op->in[k];
      if (t < 0) {
        ins[k] = -1;
        continue;
      }
      const xtensor *x = &s->t[t];
      if (!x->data) {
        if (q.map[t] < 0) {
          st = tc__x_fail(out, TC_ERR_MODEL, "tensor '%s' is read before it is written", x->name);
          goto done;
        }
        ins[k] = q.map[t];
      } else if (x->dtype != TC_DTYPE_F32) {
        if (q.wmap[t] < 0 && (q.wmap[t] = copy_tensor(out, x, NULL)) < 0) {
          st = out->status;
          goto done;
        }
        ins[k] = q.wmap[t];
      } else if (has_w && k == 1) {
        if (q.wmap[t] < 0) {
          int axis = op->builtin == OP_DW ? 3 : 0;
          int per_ch = !(op->builtin == OP_FC && o->fc_per_tensor);
          if (x->n_dims <= axis) {
            st = tc__x_fail(out, TC_ERR_UNSUPPORTED, "weights '%s' have rank %d", x->name, x->n_dims);
            goto done;
          }
          if ((st = quant_weights(out, x, axis, per_ch, &q.wmap[t]))) goto done;
        }
        ins[k] = q.wmap[t];
      } else if (has_w && k == 2) {
        int w = op->in[1] >= 0 ? q.wmap[op->in[1]] : -1;
        if (w < 0 || op->in[0] < 0) {
          st = tc__x_fail(out, TC_ERR_UNSUPPORTED, "operator %d: bias without quantized weights", i);
          goto done;
        }
        qparam pin = param_of(&q, op->in[0]);
        char name[300];
        snprintf(name, sizeof name, "%s", x->name);
        int nb = -1;
        if ((st = quant_bias(out, x, pin.scale, &out->sg[0].t[w], name, &nb))) goto done;
        ins[k] = nb;
      } else {
        /* other float constants: their group's parameters (own range unless shared) */
        if (q.wmap[t] < 0 && (st = quant_const(out, x, param_of(&q, t), &q.wmap[t]))) goto done;
        ins[k] = q.wmap[t];
      }
    }
    for (int k = 0; k < op->n_out; k++) outs[k] = q.map[op->out[k]];
    if (copy_op(out, op, ins, outs, 0) < 0) {
      st = out->status ? out->status : TC_ERR_NOMEM;
      goto done;
    }
  }
  /* 6. outputs */
  for (int k = 0; k < s->n_out; k++) {
    int t = s->out[k];
    if (q.map[t] < 0) {
      st = tc__x_fail(out, TC_ERR_UNSUPPORTED, "model output '%s' is not an operator output",
                      s->t[t].name);
      goto done;
    }
    if (o->int8_io) {
      new_out[k] = q.map[t];
    } else {
      int ft = copy_tensor(out, &s->t[t], NULL);
      if (ft < 0 || tc_graphdef_add_op(out, OP_DEQUANTIZE, 1, &q.map[t], 1, &ft) < 0) {
        st = out->status;
        goto done;
      }
      new_out[k] = ft;
    }
  }
  st = tc_graphdef_set_io(out, s->n_in, new_in, s->n_out, new_out);
done:
  tc__free(q.r);
  tc__free(q.parent);
  tc__free(q.grp);
  tc__free(q.map);
  tc__free(q.wmap);
  return st;
}

tc_status tc_quantize(const tc_graphdef *in, const tc_quant_options *o, tc_graphdef **out) {
  if (!out) return TC_ERR_ARG;
  tc_status s = tc_graphdef_create(out);
  if (s) return s;
  tc_graphdef *g = *out;
  if (!in || !o) return tc__x_fail(g, TC_ERR_ARG, "NULL model or options");
  if (in->n_sg != 1)
    return tc__x_fail(g, TC_ERR_UNSUPPORTED, "only single-subgraph models can be quantized "
                      "(this one has %d)", in->n_sg);
  if ((s = tc_graphdef_set_description(g, in->description))) return s;
  switch (o->mode) {
  case TC_QUANT_INT8: s = quantize_int8(in, o, g); break;
  case TC_QUANT_DYNAMIC: return quantize_dynamic(in, o, g);
  case TC_QUANT_FLOAT16: s = quantize_f16(in, g); break;
  default: return tc__x_fail(g, TC_ERR_ARG, "unknown quantization mode %d", (int)o->mode);
  }
  if (s) return s;
  for (int i = 0; i < in->n_meta && !s; i++)
    if (strcmp(in->meta[i].name, "min_runtime_version") && strcmp(in->meta[i].name, "producer"))
      s = tc_graphdef_add_metadata(g, in->meta[i].name, in->meta[i].data, in->meta[i].size);
  return s;
}
