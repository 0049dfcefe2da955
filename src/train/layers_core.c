/* layers_core.c: build (output shape + weights) and call (forward with the ops of
 * tensorc_train.h, recorded on the tape like any op) for every non-recurrent layer kind:
 * Input, Dense, Conv2D, DepthwiseConv2D, pooling, Flatten, Reshape, Dropout,
 * BatchNormalization, Activation, Embedding, Add, Concatenate. LSTM/GRU are in layers_rnn.c. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "train/model.h"

static tc_status bad(tc_net *net, const tc__layer *L, const tc__shape *x, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static tc_status bad(tc_net *net, const tc__layer *L, const tc__shape *x, const char *fmt, ...) {
  char msg[256], sx[96] = "";
  va_list ap;
  va_start(ap, fmt);
  tc__vfmt(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (x) tc__shape_str(x, sx, sizeof sx);
  return tc__net_err(net, TC_ERR_ARG, "%s (%s): %s%s%s", L->cfg.name,
                     tc_layer_kind_class(L->cfg.kind), msg, x ? "; input shape " : "", sx);
}

static uint64_t layer_seed(uint64_t seed, int index) {
  uint64_t z = seed + 0x632be59bd9b4e019ull * (uint64_t)(index + 1);
  z = (z ^ (z >> 31)) * 0x9e3779b97f4a7c15ull;
  return z ^ (z >> 29);
}

static tc__shape same(const tc__shape *x) { return *x; }

tc_status tc__layer_build(tc_net *net, int index, const tc__shape *const *in) {
  tc__layer *L = &net->layers[index];
  tc_layer_config *c = &L->cfg;
  const tc__shape *x = L->n_in ? in[0] : NULL;
  uint64_t seed = layer_seed(net->seed, index);
  tc_status st = TC_OK;
  tc__shape o;
  memset(&o, 0, sizeof o);
  switch (c->kind) {
  case TC_LAYER_INPUT:
    o.rank = c->rank;
    for (int i = 0; i < c->rank; i++) {
      if (c->dims[i] < 1) return bad(net, L, NULL, "dimension %d is %d", i, (int)c->dims[i]);
      o.d[i] = c->dims[i];
    }
    break;
  case TC_LAYER_DENSE: {
    if (x->rank < 1) return bad(net, L, x, "needs an input of rank >= 1 (batch excluded)");
    int32_t k = x->d[x->rank - 1];
    o = same(x);
    o.d[o.rank - 1] = c->units;
    int32_t kd[2] = {k, c->units}, bd[1] = {c->units};
    if ((st = tc__layer_add_weight(L, "kernel", 2, kd, c->kernel_init, 1, c->kernel_l2, seed)))
      return st;
    if (c->use_bias &&
        (st = tc__layer_add_weight(L, "bias", 1, bd, c->bias_init, 1, c->bias_l2, seed)))
      return st;
    break;
  }
  case TC_LAYER_CONV2D:
  case TC_LAYER_DEPTHWISE_CONV2D:
  case TC_LAYER_MAX_POOL2D:
  case TC_LAYER_AVG_POOL2D: {
    if (x->rank != 3) return bad(net, L, x, "needs an input of shape [H, W, C]");
    int pool = c->kind == TC_LAYER_MAX_POOL2D || c->kind == TC_LAYER_AVG_POOL2D;
    int sh = c->stride_h ? c->stride_h : (pool ? c->kernel_h : 1);
    int sw = c->stride_w ? c->stride_w : (pool ? c->kernel_w : 1);
    int dh = pool || !c->dilation_h ? 1 : c->dilation_h, dw = pool || !c->dilation_w ? 1 : c->dilation_w;
    int oh, ow, ph, pw;
    if (!tc__tr_conv_out(x->d[0], c->kernel_h, sh, dh, c->padding, &oh, &ph) ||
        !tc__tr_conv_out(x->d[1], c->kernel_w, sw, dw, c->padding, &ow, &pw) || oh < 1 || ow < 1)
      return bad(net, L, x, "the %dx%d window does not fit (VALID padding)", c->kernel_h,
                 c->kernel_w);
    int32_t cin = x->d[2];
    o.rank = 3;
    o.d[0] = oh;
    o.d[1] = ow;
    o.d[2] = cin;
    if (c->kind == TC_LAYER_CONV2D) {
      o.d[2] = c->units;
      int32_t kd[4] = {c->kernel_h, c->kernel_w, cin, c->units}, bd[1] = {c->units};
      if ((st = tc__layer_add_weight(L, "kernel", 4, kd, c->kernel_init, 1, c->kernel_l2, seed)))
        return st;
      if (c->use_bias &&
          (st = tc__layer_add_weight(L, "bias", 1, bd, c->bias_init, 1, c->bias_l2, seed)))
        return st;
    } else if (c->kind == TC_LAYER_DEPTHWISE_CONV2D) {
      o.d[2] = cin * c->depth_multiplier;
      int32_t kd[4] = {c->kernel_h, c->kernel_w, cin, c->depth_multiplier}, bd[1] = {o.d[2]};
      if ((st = tc__layer_add_weight(L, "depthwise_kernel", 4, kd, c->kernel_init, 1,
                                     c->kernel_l2, seed)))
        return st;
      if (c->use_bias &&
          (st = tc__layer_add_weight(L, "bias", 1, bd, c->bias_init, 1, c->bias_l2, seed)))
        return st;
    }
    break;
  }
  case TC_LAYER_GLOBAL_AVG_POOL2D:
    if (x->rank != 3) return bad(net, L, x, "needs an input of shape [H, W, C]");
    o.rank = 1;
    o.d[0] = x->d[2];
    break;
  case TC_LAYER_FLATTEN: {
    int64_t n = 1;
    for (int i = 0; i < x->rank; i++) n *= x->d[i];
    if (n > INT32_MAX) return bad(net, L, x, "too many elements");
    o.rank = 1;
    o.d[0] = (int32_t)n;
    break;
  }
  case TC_LAYER_RESHAPE: {
    int64_t n = 1, m = 1;
    int infer = -1;
    for (int i = 0; i < x->rank; i++) n *= x->d[i];
    o.rank = c->rank;
    for (int i = 0; i < c->rank; i++) {
      o.d[i] = c->dims[i];
      if (c->dims[i] == -1 && infer < 0)
        infer = i;
      else if (c->dims[i] < 1)
        return bad(net, L, x, "target dimension %d is %d", i, (int)c->dims[i]);
      else
        m *= c->dims[i];
    }
    if (infer >= 0 && m > 0 && n % m == 0) o.d[infer] = (int32_t)(n / m), m = n;
    if (m != n) {
      char st_[96];
      tc__shape t = {c->rank, {0}};
      memcpy(t.d, c->dims, sizeof t.d);
      tc__shape_str(&t, st_, sizeof st_);
      return bad(net, L, x, "cannot reshape %lld elements into %s", (long long)n, st_);
    }
    break;
  }
  case TC_LAYER_DROPOUT:
  case TC_LAYER_ACTIVATION:
    o = same(x);
    break;
  case TC_LAYER_BATCH_NORM: {
    if (x->rank < 1) return bad(net, L, x, "needs an input of rank >= 1 (batch excluded)");
    o = same(x);
    int32_t cd[1] = {x->d[x->rank - 1]};
    tc_initializer ones = {TC_INIT_ONES, 0, 0}, zeros = {TC_INIT_ZEROS, 0, 0};
    if ((st = tc__layer_add_weight(L, "gamma", 1, cd, ones, 1, 0, seed)) ||
        (st = tc__layer_add_weight(L, "beta", 1, cd, zeros, 1, 0, seed)) ||
        (st = tc__layer_add_weight(L, "moving_mean", 1, cd, zeros, 0, 0, seed)) ||
        (st = tc__layer_add_weight(L, "moving_variance", 1, cd, ones, 0, 0, seed)))
      return st;
    break;
  }
  case TC_LAYER_EMBEDDING: {
    if (x->rank > TC_MAX_DIMS - 2) return bad(net, L, x, "input rank too large");
    o = same(x);
    o.d[o.rank++] = c->units;
    int32_t ed[2] = {c->input_dim, c->units};
    if ((st = tc__layer_add_weight(L, "embeddings", 2, ed, c->kernel_init, 1, c->kernel_l2,
                                   seed)))
      return st;
    break;
  }
  case TC_LAYER_ADD:
    if (L->n_in < 2) return bad(net, L, NULL, "needs at least 2 inputs, got %d", L->n_in);
    for (int j = 1; j < L->n_in; j++)
      if (in[j]->rank != x->rank || memcmp(in[j]->d, x->d, sizeof(int32_t) * (size_t)x->rank)) {
        char s1[96];
        tc__shape_str(in[j], s1, sizeof s1);
        return bad(net, L, x, "input %d has shape %s, expected the same as input 0", j, s1);
      }
    o = same(x);
    break;
  case TC_LAYER_CONCATENATE: {
    if (L->n_in < 2) return bad(net, L, NULL, "needs at least 2 inputs, got %d", L->n_in);
    int full = x->rank + 1, ax = c->axis < 0 ? c->axis + full : c->axis;
    if (ax < 1 || ax >= full)
      return bad(net, L, x, "axis %d is the batch axis or out of range", c->axis);
    o = same(x);
    for (int j = 1; j < L->n_in; j++) {
      int okk = in[j]->rank == x->rank;
      for (int i = 0; okk && i < x->rank; i++)
        if (i != ax - 1 && in[j]->d[i] != x->d[i]) okk = 0;
      if (!okk) {
        char s1[96];
        tc__shape_str(in[j], s1, sizeof s1);
        return bad(net, L, x, "input %d has shape %s, which differs outside axis %d", j, s1,
                   c->axis);
      }
      o.d[ax - 1] += in[j]->d[ax - 1];
    }
    break;
  }
  case TC_LAYER_LSTM:
  case TC_LAYER_GRU:
    if (x->rank != 2) return bad(net, L, x, "needs an input of shape [T, features]");
    if ((st = tc__layer_build_rnn(net, L, x))) return st;
    o = L->out;
    break;
  default:
    return bad(net, L, NULL, "unknown layer kind %d", (int)c->kind);
  }
  L->out = o;
  L->built = 1;
  return TC_OK;
}

/* ---- call ---- */

/* The activation a Dense or Conv2D layer fuses into its product (ReLU, ReLU6), else none. */
static tc__fused_act fused_act(const tc_layer_config *c) {
  if (c->kind != TC_LAYER_DENSE && c->kind != TC_LAYER_CONV2D) return TC__ACT_NONE;
  return c->activation == TC_ACT_RELU ? TC__ACT_RELU
                                      : c->activation == TC_ACT_RELU6 ? TC__ACT_RELU6 : TC__ACT_NONE;
}

static tc_status dense_call(tc__layer *L, tc_train_ctx *ctx, const tc_tensor *x, tc_tensor **y) {
  tc_tensor *b = L->cfg.use_bias ? L->w[1] : NULL;
  tc__fused_act act = fused_act(&L->cfg);
  int r = tc_tensor_rank(x);
  if (r == 2) return tc__dense_act(ctx, x, L->w[0], b, act, y);
  /* Keras applies Dense over the last axis: fold the leading axes into rows. */
  int32_t flat[2] = {-1, tc_tensor_dim(x, -1)}, od[TC_MAX_DIMS];
  tc_tensor *x2, *y2;
  tc_status st;
  if ((st = tc_reshape(ctx, x, 2, flat, &x2)) || (st = tc__dense_act(ctx, x2, L->w[0], b, act, &y2)))
    return st;
  for (int i = 0; i < r; i++) od[i] = tc_tensor_dim(x, i);
  od[r - 1] = L->cfg.units;
  return tc_reshape(ctx, y2, r, od, y);
}

static tc_status embedding_call(tc__layer *L, tc_train_ctx *ctx, const tc_tensor *x,
                                tc_tensor **y) {
  const tc_tensor *idx = x;
  if (tc_tensor_dtype(x) == TC_DTYPE_F32) {
    /* Indices come as floats holding whole numbers; anything outside [0, input_dim) becomes -1
     * so that gather reports it. */
    tc_tensor *t;
    tc_status st = tc_tensor_step(ctx, TC_DTYPE_I32, tc_tensor_rank(x), tc_tensor_dims(x), NULL,
                                  &t);
    if (st) return st;
    const float *px = tc_tensor_f32_const(x);
    int32_t *pi = tc_tensor_i32(t);
    for (size_t i = 0; i < tc_tensor_size(x); i++)
      pi[i] = (px[i] >= 0.0f && px[i] < (float)L->cfg.input_dim) ? (int32_t)px[i] : -1;
    idx = t;
  }
  return tc_gather(ctx, L->w[0], idx, y);
}

static tc_status batch_norm_call(tc__layer *L, tc_train_ctx *ctx, const tc_tensor *x,
                                 int training, tc_tensor **y) {
  const tc_layer_config *c = &L->cfg;
  if (!training)
    return tc_batch_norm(ctx, x, L->w[0], L->w[1], L->w[2], L->w[3], c->epsilon, 0, y, NULL,
                         NULL);
  tc_tensor *bm, *bv;
  tc_status st = tc_batch_norm(ctx, x, L->w[0], L->w[1], NULL, NULL, c->epsilon, 1, y, &bm, &bv);
  if (st) return st;
  /* Keras: moving = moving * momentum + batch * (1 - momentum), with the biased batch
   * variance (Keras 3 ops.moments). The moving statistics are not on the tape. */
  float m = c->momentum, *mm = tc_tensor_f32(L->w[2]), *mv = tc_tensor_f32(L->w[3]);
  const float *pm = tc_tensor_f32_const(bm), *pv = tc_tensor_f32_const(bv);
  for (size_t i = 0; i < tc_tensor_size(bm); i++) {
    mm[i] = mm[i] * m + pm[i] * (1.0f - m);
    mv[i] = mv[i] * m + pv[i] * (1.0f - m);
  }
  return TC_OK;
}

tc_status tc__layer_call(tc_net *net, tc__layer *L, tc_train_ctx *ctx, tc_tensor *const *in,
                         int training, tc_tensor **out) {
  const tc_layer_config *c = &L->cfg;
  tc_tensor *x = in[0], *y = NULL;
  tc_status st = TC_OK;
  int32_t od[TC_MAX_DIMS];
  switch (c->kind) {
  case TC_LAYER_INPUT: y = x; break;
  case TC_LAYER_DENSE: st = dense_call(L, ctx, x, &y); break;
  case TC_LAYER_CONV2D:
  case TC_LAYER_DEPTHWISE_CONV2D: {
    tc_conv_params p = {c->stride_h, c->stride_w, c->dilation_h, c->dilation_w, c->padding};
    tc_tensor *b = c->use_bias ? L->w[1] : NULL;
    st = c->kind == TC_LAYER_CONV2D ? tc__conv2d_act(ctx, x, L->w[0], b, &p, fused_act(c), &y)
                                    : tc_depthwise_conv2d(ctx, x, L->w[0], b, &p, &y);
    break;
  }
  case TC_LAYER_MAX_POOL2D:
  case TC_LAYER_AVG_POOL2D: {
    tc_pool_params p = {c->kernel_h, c->kernel_w, c->stride_h, c->stride_w, c->padding};
    st = c->kind == TC_LAYER_MAX_POOL2D ? tc_max_pool2d(ctx, x, &p, &y)
                                        : tc_avg_pool2d(ctx, x, &p, &y);
    break;
  }
  case TC_LAYER_GLOBAL_AVG_POOL2D: st = tc_global_avg_pool2d(ctx, x, 0, &y); break;
  case TC_LAYER_FLATTEN:
  case TC_LAYER_RESHAPE:
    od[0] = tc_tensor_dim(x, 0);
    for (int i = 0; i < L->out.rank; i++) od[i + 1] = L->out.d[i];
    st = tc_reshape(ctx, x, L->out.rank + 1, od, &y);
    break;
  case TC_LAYER_DROPOUT: st = tc_dropout(ctx, x, c->rate, training, &y); break;
  case TC_LAYER_BATCH_NORM: st = batch_norm_call(L, ctx, x, training, &y); break;
  case TC_LAYER_ACTIVATION: y = x; break;
  case TC_LAYER_EMBEDDING: st = embedding_call(L, ctx, x, &y); break;
  case TC_LAYER_ADD:
    y = x;
    for (int j = 1; j < L->n_in && !st; j++) st = tc_add(ctx, y, in[j], &y);
    break;
  case TC_LAYER_CONCATENATE: {
    int full = L->out.rank + 1, ax = c->axis < 0 ? c->axis + full : c->axis;
    st = tc_concat(ctx, (size_t)L->n_in, (const tc_tensor *const *)in, ax, &y);
    break;
  }
  case TC_LAYER_LSTM:
  case TC_LAYER_GRU: return tc__layer_call_rnn(L, ctx, x, out);
  default: return tc__tr_err(ctx, TC_ERR_ARG, "unknown layer kind %d", (int)c->kind);
  }
  if (st) return st;
  /* The output activation of Dense, Conv2D, DepthwiseConv2D and Activation (ReLU and ReLU6 of
   * Dense and Conv2D are already fused into the product). */
  if ((c->kind == TC_LAYER_DENSE || c->kind == TC_LAYER_CONV2D ||
       c->kind == TC_LAYER_DEPTHWISE_CONV2D || c->kind == TC_LAYER_ACTIVATION) &&
      fused_act(c) == TC__ACT_NONE)
    st = tc_activation_apply(ctx, c->activation, c->alpha, y, &y);
  *out = y;
  (void)net;
  return st;
}
