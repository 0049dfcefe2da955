/* from_model.c: float export of a trained tc_net (tensorc_train.h) to a tc_graphdef, ready for
 * tc_graphdef_write or tc_quantize. Each layer node becomes TFLite operators in the node order
 * (a topological order): Dense -> FULLY_CONNECTED, Conv2D -> CONV_2D (HWIO -> OHWI),
 * DepthwiseConv2D -> DEPTHWISE_CONV_2D, pooling, GlobalAveragePooling2D -> MEAN, Flatten/Reshape
 * -> RESHAPE, Add, Concatenate, Embedding -> CAST + GATHER, activations fused where TFLite allows
 * (relu, relu6) or standalone, BatchNormalization folded into the preceding conv/dense (or
 * MUL + ADD), Dropout and linear activations removed. LSTM/GRU are refused for now. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export/export.h"
#include "train/model.h"

/* TFLite builtin operator codes used here. */
enum {
  OP_ADD = 0, OP_AVERAGE_POOL_2D = 1, OP_CONCATENATION = 2, OP_CONV_2D = 3,
  OP_DEPTHWISE_CONV_2D = 4, OP_FULLY_CONNECTED = 9, OP_LOGISTIC = 14, OP_MAX_POOL_2D = 17,
  OP_MUL = 18, OP_RELU = 19, OP_RELU6 = 21, OP_RESHAPE = 22, OP_SOFTMAX = 25, OP_TANH = 28,
  OP_GATHER = 36, OP_MEAN = 40, OP_CAST = 53, OP_LEAKY_RELU = 98, OP_GELU = 150
};

typedef struct xp {
  tc_graphdef *g;
  const tc_net *net;
  int n;
  int *tens;      /* per node: graphdef tensor holding its output (-1: not emitted yet) */
  int *alias;     /* per node: the node whose value it forwards (itself for real ops) */
  int *uses;      /* per node: consumers among live nodes + appearances as a net output */
  int *consumer;  /* per node: its last consumer node (meaningful when uses == 1) */
  char *live;     /* per node: contributes to an output */
  char *absorbed; /* per node: emitted as part of an earlier node (folded BN, fused act) */
} xp;

static int root(const xp *x, int i) {
  while (x->alias[i] != i) i = x->alias[i];
  return i;
}

static const tc__layer *layer(const xp *x, int i) { return &x->net->layers[i]; }

/* Fills dims with [batch, out...] of node i; returns the rank. */
static int node_dims(const xp *x, int i, int32_t *dims) {
  const tc__shape *s = &layer(x, i)->out;
  dims[0] = 1;
  for (int k = 0; k < s->rank; k++) dims[k + 1] = s->d[k];
  return s->rank + 1;
}

/* An activation tensor named `name` of node i's shape with a dynamic batch signature. */
static int act_tensor(xp *x, const char *name, int node, tc_dtype dt) {
  int32_t dims[TC_MAX_DIMS], sig[TC_MAX_DIMS];
  int r = node_dims(x, node, dims);
  int t = tc_graphdef_add_tensor(x->g, name, dt, r, dims, NULL, 0);
  if (t < 0) return -1;
  memcpy(sig, dims, sizeof(int32_t) * (size_t)r);
  sig[0] = -1;
  if (tc_graphdef_set_signature(x->g, t, sig)) return -1;
  return t;
}

static int const_f32(xp *x, const char *name, int rank, const int32_t *dims, const float *v) {
  size_t n = 1;
  for (int k = 0; k < rank; k++) n *= (size_t)dims[k];
  return tc_graphdef_add_tensor(x->g, name, TC_DTYPE_F32, rank, dims, v, n * sizeof(float));
}

static int const_i32(xp *x, const char *name, int n, const int32_t *v) {
  int32_t d[1] = {n};
  return tc_graphdef_add_tensor(x->g, name, TC_DTYPE_I32, 1, d, v, (size_t)n * sizeof(int32_t));
}

static int add_op(xp *x, int32_t code, int n_in, const int32_t *in, int out) {
  return tc_graphdef_add_op(x->g, code, n_in, in, 1, (const int32_t[]){out});
}

static tc_status fail(xp *x, tc_status s, const char *fmt, const char *a, const char *b) {
  return tc__x_fail(x->g, s, fmt, a, b);
}

/* TFLite fused activation for a layer activation, or -1 when it needs its own operator. */
static int fused_code(tc_activation a) {
  switch (a) {
  case TC_ACT_LINEAR: return TC_TFL_ACT_NONE;
  case TC_ACT_RELU: return TC_TFL_ACT_RELU;
  case TC_ACT_RELU6: return TC_TFL_ACT_RELU6;
  default: return -1;
  }
}

/* The node that alone consumes node `end`'s value, if it is a live layer of `kind`; else -1. */
static int sole_consumer(const xp *x, int end, tc_layer_kind kind) {
  if (x->uses[end] != 1) return -1;
  int c = x->consumer[end];
  if (c < 0 || !x->live[c] || x->absorbed[c] || layer(x, c)->cfg.kind != kind) return -1;
  return c;
}

/* After an operator producing node `*end` with no activation yet, absorbs a following
 * Activation layer whose function TFLite can fuse. Returns the fused code. */
static int absorb_activation(xp *x, int *end) {
  int c = sole_consumer(x, *end, TC_LAYER_ACTIVATION);
  if (c < 0) return TC_TFL_ACT_NONE;
  int code = fused_code(layer(x, c)->cfg.activation);
  if (code <= 0) return TC_TFL_ACT_NONE;
  x->absorbed[c] = 1;
  *end = c;
  return code;
}

/* Standalone activation operator: in -> new tensor `name` shaped like node `node`. Returns the
 * output tensor (the input itself for linear) or -1. */
static int emit_activation(xp *x, tc_activation a, float alpha, int in, int node,
                           const char *name) {
  int32_t code;
  switch (a) {
  case TC_ACT_LINEAR: return in;
  case TC_ACT_RELU: code = OP_RELU; break;
  case TC_ACT_RELU6: code = OP_RELU6; break;
  case TC_ACT_SIGMOID: code = OP_LOGISTIC; break;
  case TC_ACT_TANH: code = OP_TANH; break;
  case TC_ACT_SOFTMAX: code = OP_SOFTMAX; break;
  case TC_ACT_GELU: code = OP_GELU; break;
  case TC_ACT_LEAKY_RELU: code = OP_LEAKY_RELU; break;
  default: tc__x_fail(x->g, TC_ERR_UNSUPPORTED, "%s: activation %d", name, (int)a); return -1;
  }
  int out = act_tensor(x, name, node, TC_DTYPE_F32);
  if (out < 0) return -1;
  int op = add_op(x, code, 1, (const int32_t[]){in}, out);
  if (op < 0) return -1;
  if (code == OP_SOFTMAX && tc_graphdef_op_set_float(x->g, op, TC_OPT_SOFTMAX_BETA, 1.0f))
    return -1;
  if (code == OP_LEAKY_RELU && tc_graphdef_op_set_float(x->g, op, TC_OPT_LEAKY_RELU_ALPHA, alpha))
    return -1;
  return out;
}

/* BatchNormalization as an affine map per channel: y = x * scale + shift. */
static void bn_affine(const tc__layer *bn, size_t c, float *scale, float *shift) {
  const float *gamma = tc_tensor_f32_const(bn->w[0]), *beta = tc_tensor_f32_const(bn->w[1]);
  const float *mean = tc_tensor_f32_const(bn->w[2]), *var = tc_tensor_f32_const(bn->w[3]);
  for (size_t i = 0; i < c; i++) {
    /* Computed in double so folding adds no more rounding than the training-side op. */
    double s = (double)gamma[i] / sqrt((double)var[i] + (double)bn->cfg.epsilon);
    scale[i] = (float)s;
    shift[i] = (float)((double)beta[i] - (double)mean[i] * s);
  }
}

/* Dense, Conv2D and DepthwiseConv2D: weights converted to the TFLite layout, a following
 * BatchNormalization folded in, the activation fused or emitted after. */
static tc_status emit_weighted(xp *x, int i) {
  const tc__layer *L = layer(x, i);
  const tc_layer_config *c = &L->cfg;
  const tc_tensor *k = L->w[0];
  const float *kw = tc_tensor_f32_const(k);
  const float *kb = c->use_bias ? tc_tensor_f32_const(L->w[1]) : NULL;
  int32_t wd[4];
  int wrank;
  size_t n_out, inner; /* weights = n_out rows of `inner` (FC, conv) or interleaved (dw) */
  int out_last = 0;    /* depthwise: the output channel is the last axis */
  if (c->kind == TC_LAYER_DENSE) {
    int32_t in = tc_tensor_dim(k, 0), units = tc_tensor_dim(k, 1);
    wd[0] = units, wd[1] = in, wrank = 2;
    n_out = (size_t)units, inner = (size_t)in;
  } else if (c->kind == TC_LAYER_CONV2D) {
    int32_t kh = tc_tensor_dim(k, 0), kwid = tc_tensor_dim(k, 1), ci = tc_tensor_dim(k, 2),
            co = tc_tensor_dim(k, 3);
    wd[0] = co, wd[1] = kh, wd[2] = kwid, wd[3] = ci, wrank = 4;
    n_out = (size_t)co, inner = (size_t)kh * (size_t)kwid * (size_t)ci;
  } else {
    int32_t kh = tc_tensor_dim(k, 0), kwid = tc_tensor_dim(k, 1), ci = tc_tensor_dim(k, 2),
            mult = tc_tensor_dim(k, 3);
    wd[0] = 1, wd[1] = kh, wd[2] = kwid, wd[3] = ci * mult, wrank = 4;
    n_out = (size_t)ci * (size_t)mult, inner = (size_t)kh * (size_t)kwid;
    out_last = 1;
  }
  size_t nw = n_out * inner;
  float *w = malloc(nw * sizeof(float)), *b = malloc(n_out * sizeof(float) * 3);
  if (!w || !b) {
    free(w), free(b);
    return tc__x_fail(x->g, TC_ERR_NOMEM, "out of memory");
  }
  float *scale = b + n_out, *shift = b + 2 * n_out;
  if (c->kind == TC_LAYER_DENSE) {
    /* Keras [in, units] -> TFLite [units, in]. */
    for (size_t o = 0; o < n_out; o++)
      for (size_t j = 0; j < inner; j++) w[o * inner + j] = kw[j * n_out + o];
  } else if (c->kind == TC_LAYER_CONV2D) {
    /* HWIO [kh,kw,ci,co]: element (pos, ci, co) at (pos*ci + ci_)*co + co_ -> OHWI at
     * co_*inner + pos*ci + ci_, i.e. the same [inner, co] -> [co, inner] transpose. */
    for (size_t o = 0; o < n_out; o++)
      for (size_t j = 0; j < inner; j++) w[o * inner + j] = kw[j * n_out + o];
  } else {
    /* Keras [kh,kw,C,mult] is already TFLite's [1,kh,kw,C*mult] in memory: output channel
     * c*mult+m is read from input channel c in both. */
    memcpy(w, kw, nw * sizeof(float));
  }
  for (size_t o = 0; o < n_out; o++) b[o] = kb ? kb[o] : 0.0f;

  int end = i, fused = TC_TFL_ACT_NONE;
  tc_activation act = c->activation;
  if (act == TC_ACT_LINEAR) {
    int bn = sole_consumer(x, i, TC_LAYER_BATCH_NORM);
    if (bn >= 0 && layer(x, bn)->out.d[layer(x, bn)->out.rank - 1] == (int32_t)n_out) {
      bn_affine(layer(x, bn), n_out, scale, shift);
      for (size_t o = 0; o < n_out; o++) {
        for (size_t j = 0; j < inner; j++) {
          size_t e = out_last ? j * n_out + o : o * inner + j;
          w[e] *= scale[o];
        }
        b[o] = b[o] * scale[o] + shift[o];
      }
      x->absorbed[bn] = 1;
      end = bn;
    }
    fused = absorb_activation(x, &end);
  } else if (fused_code(act) >= 0) {
    fused = fused_code(act);
  }
  char nm[160];
  snprintf(nm, sizeof nm, "%s/%s", c->name, c->kind == TC_LAYER_DEPTHWISE_CONV2D
                                                 ? "depthwise_kernel" : "kernel");
  int wt = const_f32(x, nm, wrank, wd, w);
  snprintf(nm, sizeof nm, "%s/bias", c->name);
  int32_t bd[1] = {(int32_t)n_out};
  int bt = const_f32(x, nm, 1, bd, b);
  free(w), free(b);
  if (wt < 0 || bt < 0) return x->g->status;

  /* The operator's own output: named after the last absorbed layer, unless a standalone
   * activation follows (then that one carries the name). */
  int standalone = act != TC_ACT_LINEAR && fused_code(act) < 0;
  if (standalone) snprintf(nm, sizeof nm, "%s/preact", c->name);
  else snprintf(nm, sizeof nm, "%s", layer(x, end)->cfg.name);
  int out = act_tensor(x, nm, i, TC_DTYPE_F32);
  if (out < 0) return x->g->status;
  int in = x->tens[root(x, L->in[0])];
  int op;
  if (c->kind == TC_LAYER_DENSE) {
    op = add_op(x, OP_FULLY_CONNECTED, 3, (const int32_t[]){in, wt, bt}, out);
    if (op < 0 || tc_graphdef_op_set_int(x->g, op, TC_OPT_FC_ACTIVATION, fused)) return x->g->status;
    /* Dense over the last axis of a rank > 2 input keeps the leading dims. */
    if (layer(x, i)->out.rank > 1 && tc_graphdef_op_set_int(x->g, op, TC_OPT_FC_KEEP_NUM_DIMS, 1))
      return x->g->status;
  } else {
    int conv = c->kind == TC_LAYER_CONV2D;
    op = add_op(x, conv ? OP_CONV_2D : OP_DEPTHWISE_CONV_2D, 3, (const int32_t[]){in, wt, bt}, out);
    if (op < 0) return x->g->status;
    int pad = c->padding == TC_PADDING_SAME ? TC_TFL_PADDING_SAME : TC_TFL_PADDING_VALID;
    int sh = c->stride_h ? c->stride_h : 1, sw = c->stride_w ? c->stride_w : 1;
    int dh = c->dilation_h ? c->dilation_h : 1, dw = c->dilation_w ? c->dilation_w : 1;
    tc_status s;
    if (conv)
      s = tc_graphdef_op_set_int(x->g, op, TC_OPT_CONV_PADDING, pad) ||
                  tc_graphdef_op_set_int(x->g, op, TC_OPT_CONV_STRIDE_W, sw) ||
                  tc_graphdef_op_set_int(x->g, op, TC_OPT_CONV_STRIDE_H, sh) ||
                  tc_graphdef_op_set_int(x->g, op, TC_OPT_CONV_ACTIVATION, fused) ||
                  tc_graphdef_op_set_int(x->g, op, TC_OPT_CONV_DILATION_W, dw) ||
                  tc_graphdef_op_set_int(x->g, op, TC_OPT_CONV_DILATION_H, dh)
              ? TC_ERR_ARG : TC_OK;
    else
      s = tc_graphdef_op_set_int(x->g, op, TC_OPT_DW_PADDING, pad) ||
                  tc_graphdef_op_set_int(x->g, op, TC_OPT_DW_STRIDE_W, sw) ||
                  tc_graphdef_op_set_int(x->g, op, TC_OPT_DW_STRIDE_H, sh) ||
                  tc_graphdef_op_set_int(x->g, op, TC_OPT_DW_DEPTH_MULTIPLIER, c->depth_multiplier) ||
                  tc_graphdef_op_set_int(x->g, op, TC_OPT_DW_ACTIVATION, fused) ||
                  tc_graphdef_op_set_int(x->g, op, TC_OPT_DW_DILATION_W, dw) ||
                  tc_graphdef_op_set_int(x->g, op, TC_OPT_DW_DILATION_H, dh)
              ? TC_ERR_ARG : TC_OK;
    if (s) return x->g->status;
  }
  if (standalone) {
    out = emit_activation(x, act, c->alpha, out, i, c->name);
    if (out < 0) return x->g->status;
  }
  x->tens[end] = out;
  if (end != i) x->tens[i] = out;
  return TC_OK;
}

/* BatchNormalization that follows no conv/dense: MUL by the scale, ADD the shift (with any
 * following relu/relu6 fused into the ADD). */
static tc_status emit_batch_norm(xp *x, int i) {
  const tc__layer *L = layer(x, i);
  int32_t cdim = L->out.d[L->out.rank - 1];
  float *v = malloc(2 * (size_t)cdim * sizeof(float));
  if (!v) return tc__x_fail(x->g, TC_ERR_NOMEM, "out of memory");
  bn_affine(L, (size_t)cdim, v, v + cdim);
  char nm[160];
  int32_t d[1] = {cdim};
  snprintf(nm, sizeof nm, "%s/scale", L->cfg.name);
  int st = const_f32(x, nm, 1, d, v);
  snprintf(nm, sizeof nm, "%s/shift", L->cfg.name);
  int sh = const_f32(x, nm, 1, d, v + cdim);
  free(v);
  if (st < 0 || sh < 0) return x->g->status;
  int end = i, fused = absorb_activation(x, &end);
  snprintf(nm, sizeof nm, "%s/mul", L->cfg.name);
  int mid = act_tensor(x, nm, i, TC_DTYPE_F32);
  int out = act_tensor(x, layer(x, end)->cfg.name, i, TC_DTYPE_F32);
  if (mid < 0 || out < 0) return x->g->status;
  int in = x->tens[root(x, L->in[0])];
  if (add_op(x, OP_MUL, 2, (const int32_t[]){in, st}, mid) < 0) return x->g->status;
  int op = add_op(x, OP_ADD, 2, (const int32_t[]){mid, sh}, out);
  if (op < 0 || tc_graphdef_op_set_int(x->g, op, TC_OPT_BINARY_ACTIVATION, fused))
    return x->g->status;
  x->tens[i] = x->tens[end] = out;
  return TC_OK;
}

static tc_status emit_node(xp *x, int i) {
  const tc__layer *L = layer(x, i);
  const tc_layer_config *c = &L->cfg;
  int in = L->n_in ? x->tens[root(x, L->in[0])] : -1;
  char nm[160];
  int out = -1, op;
  switch (c->kind) {
  case TC_LAYER_DENSE:
  case TC_LAYER_CONV2D:
  case TC_LAYER_DEPTHWISE_CONV2D: return emit_weighted(x, i);
  case TC_LAYER_BATCH_NORM: return emit_batch_norm(x, i);
  case TC_LAYER_MAX_POOL2D:
  case TC_LAYER_AVG_POOL2D: {
    int end = i, fused = absorb_activation(x, &end);
    if ((out = act_tensor(x, layer(x, end)->cfg.name, i, TC_DTYPE_F32)) < 0) return x->g->status;
    op = add_op(x, c->kind == TC_LAYER_MAX_POOL2D ? OP_MAX_POOL_2D : OP_AVERAGE_POOL_2D, 1,
                (const int32_t[]){in}, out);
    int sh = c->stride_h ? c->stride_h : c->kernel_h, sw = c->stride_w ? c->stride_w : c->kernel_w;
    int pad = c->padding == TC_PADDING_SAME ? TC_TFL_PADDING_SAME : TC_TFL_PADDING_VALID;
    if (op < 0 || tc_graphdef_op_set_int(x->g, op, TC_OPT_POOL_PADDING, pad) ||
        tc_graphdef_op_set_int(x->g, op, TC_OPT_POOL_STRIDE_W, sw) ||
        tc_graphdef_op_set_int(x->g, op, TC_OPT_POOL_STRIDE_H, sh) ||
        tc_graphdef_op_set_int(x->g, op, TC_OPT_POOL_FILTER_W, c->kernel_w) ||
        tc_graphdef_op_set_int(x->g, op, TC_OPT_POOL_FILTER_H, c->kernel_h) ||
        tc_graphdef_op_set_int(x->g, op, TC_OPT_POOL_ACTIVATION, fused))
      return x->g->status;
    x->tens[i] = x->tens[end] = out;
    return TC_OK;
  }
  case TC_LAYER_GLOBAL_AVG_POOL2D: {
    snprintf(nm, sizeof nm, "%s/axes", c->name);
    int axes = const_i32(x, nm, 2, (const int32_t[]){1, 2});
    if (axes < 0 || (out = act_tensor(x, c->name, i, TC_DTYPE_F32)) < 0) return x->g->status;
    op = add_op(x, OP_MEAN, 2, (const int32_t[]){in, axes}, out);
    if (op < 0 || tc_graphdef_op_set_int(x->g, op, TC_OPT_REDUCER_KEEP_DIMS, 0))
      return x->g->status;
    break;
  }
  case TC_LAYER_FLATTEN:
  case TC_LAYER_RESHAPE: {
    int32_t shape[TC_MAX_DIMS];
    shape[0] = -1; /* the batch: any size */
    for (int k = 0; k < L->out.rank; k++) shape[k + 1] = L->out.d[k];
    snprintf(nm, sizeof nm, "%s/shape", c->name);
    int st = const_i32(x, nm, L->out.rank + 1, shape);
    if (st < 0 || (out = act_tensor(x, c->name, i, TC_DTYPE_F32)) < 0) return x->g->status;
    if (add_op(x, OP_RESHAPE, 2, (const int32_t[]){in, st}, out) < 0) return x->g->status;
    break;
  }
  case TC_LAYER_ACTIVATION:
    if ((out = emit_activation(x, c->activation, c->alpha, in, i, c->name)) < 0)
      return x->g->status;
    break;
  case TC_LAYER_ADD: {
    int end = i, fused = absorb_activation(x, &end);
    int acc = in;
    for (int j = 1; j < L->n_in; j++) {
      int last = j == L->n_in - 1;
      if (last) snprintf(nm, sizeof nm, "%s", layer(x, end)->cfg.name);
      else snprintf(nm, sizeof nm, "%s/partial_%d", c->name, j);
      int t = act_tensor(x, nm, i, TC_DTYPE_F32);
      if (t < 0) return x->g->status;
      op = add_op(x, OP_ADD, 2, (const int32_t[]){acc, x->tens[root(x, L->in[j])]}, t);
      if (op < 0 || (last && tc_graphdef_op_set_int(x->g, op, TC_OPT_BINARY_ACTIVATION, fused)))
        return x->g->status;
      acc = t;
    }
    x->tens[i] = x->tens[end] = acc;
    return TC_OK;
  }
  case TC_LAYER_CONCATENATE: {
    int32_t ins[TC__LAYER_MAX_IN];
    for (int j = 0; j < L->n_in; j++) ins[j] = x->tens[root(x, L->in[j])];
    int full = L->out.rank + 1, ax = c->axis < 0 ? c->axis + full : c->axis;
    if ((out = act_tensor(x, c->name, i, TC_DTYPE_F32)) < 0) return x->g->status;
    op = add_op(x, OP_CONCATENATION, L->n_in, ins, out);
    if (op < 0 || tc_graphdef_op_set_int(x->g, op, TC_OPT_CONCAT_AXIS, ax)) return x->g->status;
    break;
  }
  case TC_LAYER_EMBEDDING: {
    /* Indices arrive as floats holding whole numbers (like the training side): CAST them to
     * int32 (truncation, as the training side's conversion) and GATHER rows. */
    const tc_tensor *e = L->w[0];
    int32_t ed[2] = {tc_tensor_dim(e, 0), tc_tensor_dim(e, 1)};
    snprintf(nm, sizeof nm, "%s/embeddings", c->name);
    int et = const_f32(x, nm, 2, ed, tc_tensor_f32_const(e));
    snprintf(nm, sizeof nm, "%s/indices", c->name);
    int idx = act_tensor(x, nm, L->in[0], TC_DTYPE_I32);
    if (et < 0 || idx < 0 || (out = act_tensor(x, c->name, i, TC_DTYPE_F32)) < 0)
      return x->g->status;
    if (add_op(x, OP_CAST, 1, (const int32_t[]){in}, idx) < 0 ||
        add_op(x, OP_GATHER, 2, (const int32_t[]){et, idx}, out) < 0)
      return x->g->status;
    break;
  }
  case TC_LAYER_LSTM:
  case TC_LAYER_GRU:
    return fail(x, TC_ERR_UNSUPPORTED, "%s (%s): not exportable yet (recurrent layers are not "
                "converted to TFLite operators by tensorc)", c->name, tc_layer_kind_class(c->kind));
  default:
    return fail(x, TC_ERR_UNSUPPORTED, "%s (%s): layer kind not exportable", c->name,
                tc_layer_kind_class(c->kind));
  }
  x->tens[i] = out;
  return TC_OK;
}

/* Liveness, aliases and consumer counts (the fusion decisions need to know when a value has a
 * single reader). */
static tc_status analyse(xp *x) {
  const tc_net *net = x->net;
  for (int k = 0; k < net->n_outputs; k++) x->live[net->outputs[k]] = 1;
  for (int i = x->n - 1; i >= 0; i--)
    if (x->live[i])
      for (int j = 0; j < layer(x, i)->n_in; j++) x->live[layer(x, i)->in[j]] = 1;
  for (int i = 0; i < x->n; i++) {
    const tc_layer_config *c = &layer(x, i)->cfg;
    x->alias[i] = i;
    x->consumer[i] = -1;
    x->tens[i] = -1;
    if (c->kind == TC_LAYER_DROPOUT ||
        (c->kind == TC_LAYER_ACTIVATION && c->activation == TC_ACT_LINEAR))
      x->alias[i] = layer(x, i)->in[0];
  }
  for (int i = 0; i < x->n; i++) {
    if (!x->live[i] || x->alias[i] != i) continue;
    for (int j = 0; j < layer(x, i)->n_in; j++) {
      int r = root(x, layer(x, i)->in[j]);
      x->uses[r]++;
      x->consumer[r] = i;
    }
  }
  for (int k = 0; k < net->n_outputs; k++) x->uses[root(x, net->outputs[k])]++;
  return TC_OK;
}

tc_status tc_net_export(const tc_net *net, tc_graphdef **out) {
  if (!out) return TC_ERR_ARG;
  *out = NULL;
  tc_graphdef *g;
  tc_status s = tc_graphdef_create(&g);
  if (s) return s;
  *out = g;
  if (!net) return tc__x_fail(g, TC_ERR_ARG, "export: no net");
  if (!net->n_layers || !tc_net_built(net))
    return tc__x_fail(g, TC_ERR_STATE, "export: the net is not built (give it an Input or call "
                                       "tc_net_build / fit first)");
  xp x;
  memset(&x, 0, sizeof x);
  x.g = g;
  x.net = net;
  x.n = net->n_layers;
  size_t n = (size_t)x.n;
  x.tens = calloc(n, sizeof(int));
  x.alias = calloc(n, sizeof(int));
  x.uses = calloc(n, sizeof(int));
  x.consumer = calloc(n, sizeof(int));
  x.live = calloc(n, 1);
  x.absorbed = calloc(n, 1);
  if (!x.tens || !x.alias || !x.uses || !x.consumer || !x.live || !x.absorbed) {
    s = tc__x_fail(g, TC_ERR_NOMEM, "out of memory");
    goto done;
  }
  char desc[96];
  snprintf(desc, sizeof desc, "%s, exported by tensorc", net->name[0] ? net->name : "net");
  if ((s = tc_graphdef_set_description(g, desc))) goto done;
  analyse(&x);
  int32_t ins[TC__NET_MAX_IO], outs[TC__NET_MAX_IO];
  for (int k = 0; k < net->n_inputs; k++) {
    int id = net->inputs[k];
    if ((ins[k] = act_tensor(&x, layer(&x, id)->cfg.name, id, TC_DTYPE_F32)) < 0) {
      s = g->status;
      goto done;
    }
    x.tens[id] = ins[k];
  }
  for (int i = 0; i < x.n; i++) {
    const tc__layer *L = layer(&x, i);
    if (!x.live[i] || x.absorbed[i] || x.alias[i] != i || L->cfg.kind == TC_LAYER_INPUT) continue;
    if ((s = emit_node(&x, i))) goto done;
  }
  if (tc_graphdef_op_count(g) == 0) {
    s = tc__x_fail(g, TC_ERR_UNSUPPORTED, "export: the net computes nothing (no operator left "
                                          "after removing Dropout and linear activations)");
    goto done;
  }
  for (int k = 0; k < net->n_outputs; k++) {
    outs[k] = x.tens[root(&x, net->outputs[k])];
    for (int j = 0; j < net->n_inputs; j++)
      if (outs[k] == ins[j]) {
        s = tc__x_fail(g, TC_ERR_UNSUPPORTED, "export: output %d is the input '%s' itself", k,
                       layer(&x, net->inputs[j])->cfg.name);
        goto done;
      }
  }
  s = tc_graphdef_set_io(g, net->n_inputs, ins, net->n_outputs, outs);
done:
  free(x.tens), free(x.alias), free(x.uses), free(x.consumer), free(x.live), free(x.absorbed);
  return s;
}
