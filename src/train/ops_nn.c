/* ops_nn.c: the neural-network ops that are more than elementwise: softmax and log-softmax over
 * the last axis, inverted dropout (mask from the context's RNG, kept for backward), batch
 * normalization (training with batch statistics, inference with given ones) and the fused
 * softmax + sparse cross-entropy loss, whose backward is simply (softmax - onehot) / N. */
#include <math.h>
#include <string.h>

#include "train/train.h"

/* ---- softmax / log_softmax ---- */

static tc_status softmax_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  tc_tensor *xt = nd->in[0];
  float *dx = tc__tr_grad(ctx, xt);
  if (!dx) return TC_ERR_NOMEM;
  const float *y = tc__f(nd->out);
  size_t C = (size_t)xt->dims[xt->rank - 1], rows = xt->size / C;
  int logsm = nd->i[0];
  for (size_t r = 0; r < rows; r++, y += C, g += C, dx += C) {
    float s = 0;
    if (logsm) {
      for (size_t j = 0; j < C; j++) s += g[j];
      for (size_t j = 0; j < C; j++) dx[j] += g[j] - expf(y[j]) * s;
    } else {
      for (size_t j = 0; j < C; j++) s += g[j] * y[j];
      for (size_t j = 0; j < C; j++) dx[j] += y[j] * (g[j] - s);
    }
  }
  return TC_OK;
}

/* Row-wise softmax (or log-softmax) of rows x C. */
static void softmax_rows(const float *x, float *y, size_t rows, size_t C, int logsm) {
  for (size_t r = 0; r < rows; r++, x += C, y += C) {
    float m = x[0];
    for (size_t j = 1; j < C; j++) m = x[j] > m ? x[j] : m;
    float s = 0;
    for (size_t j = 0; j < C; j++) {
      y[j] = expf(x[j] - m);
      s += y[j];
    }
    if (logsm) {
      float ls = m + logf(s);
      for (size_t j = 0; j < C; j++) y[j] = x[j] - ls;
    } else {
      float inv = 1.0f / s;
      for (size_t j = 0; j < C; j++) y[j] *= inv;
    }
  }
}

static tc_status softmax_op(tc_train_ctx *ctx, const char *name, int logsm, const tc_tensor *x,
                            tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  tc_status st = tc__tr_check(ctx, name, "x", x, TC_DTYPE_F32);
  if (st) return st;
  if (x->rank < 1) return tc__tr_err(ctx, TC_ERR_ARG, "%s: x must have rank >= 1", name);
  tc_tensor *y;
  if ((st = tc__tr_new_like(ctx, x, 0, &y))) return st;
  size_t C = (size_t)x->dims[x->rank - 1];
  softmax_rows(tc__f(x), tc__f(y), x->size / C, C, logsm);
  if (tc__want_node(ctx, x, NULL, NULL)) {
    tc__node *nd = tc__tr_record(ctx, name, softmax_backward, y, 1, &x);
    if (!nd) return TC_ERR_NOMEM;
    nd->i[0] = logsm;
  }
  *out = y;
  return TC_OK;
}

tc_status tc_softmax(tc_train_ctx *ctx, const tc_tensor *x, tc_tensor **out) {
  return softmax_op(ctx, "softmax", 0, x, out);
}
tc_status tc_log_softmax(tc_train_ctx *ctx, const tc_tensor *x, tc_tensor **out) {
  return softmax_op(ctx, "log_softmax", 1, x, out);
}

/* ---- dropout ---- */

static tc_status dropout_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  float *dx = tc__tr_grad(ctx, nd->in[0]);
  if (!dx) return TC_ERR_NOMEM;
  const float *mask = nd->extra;
  for (size_t i = 0; i < nd->out->size; i++) dx[i] += g[i] * mask[i];
  return TC_OK;
}

tc_status tc_dropout(tc_train_ctx *ctx, const tc_tensor *x, float rate, int training,
                     tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  tc_status st = tc__tr_check(ctx, "dropout", "x", x, TC_DTYPE_F32);
  if (st) return st;
  if (!(rate >= 0.0f && rate < 1.0f))
    return tc__tr_err(ctx, TC_ERR_ARG, "dropout: rate %g is outside [0, 1)", (double)rate);
  if (!training || rate == 0.0f) {
    *out = (tc_tensor *)x;
    return TC_OK;
  }
  tc_tensor *y;
  if ((st = tc__tr_new_like(ctx, x, 0, &y))) return st;
  int rec = tc__want_node(ctx, x, NULL, NULL);
  float *mask = NULL;
  if (rec && !(mask = tc__tr_alloc(ctx, x->size * sizeof(float)))) return TC_ERR_NOMEM;
  float scale = 1.0f / (1.0f - rate);
  const float *px = tc__f(x);
  float *py = tc__f(y);
  for (size_t i = 0; i < x->size; i++) {
    float m = tc__tr_rng_uniform(ctx->rng) < rate ? 0.0f : scale;
    py[i] = px[i] * m;
    if (mask) mask[i] = m;
  }
  if (rec) {
    tc__node *nd = tc__tr_record(ctx, "dropout", dropout_backward, y, 1, &x);
    if (!nd) return TC_ERR_NOMEM;
    nd->extra = mask;
  }
  *out = y;
  return TC_OK;
}

/* ---- batch norm ---- */

/* Saved per channel: mean, invstd (2*C floats in extra). */
static tc_status bn_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  tc_tensor *xt = nd->in[0], *gt = nd->in[1], *bt = nd->in[2];
  int training = nd->i[0];
  size_t C = (size_t)xt->dims[xt->rank - 1], R = xt->size / C;
  const float *mean = nd->extra, *invstd = mean + C, *x = tc__f(xt);
  const float *gamma = gt ? tc__f(gt) : NULL;
  /* Per-channel sums: sg = sum(g), sgx = sum(g * xhat). */
  float *sg = tc__tr_alloc(ctx, 2 * C * sizeof(float));
  if (!sg) return TC_ERR_NOMEM;
  float *sgx = sg + C;
  memset(sg, 0, 2 * C * sizeof(float));
  for (size_t r = 0; r < R; r++) {
    const float *xr = x + r * C, *gr = g + r * C;
    for (size_t c = 0; c < C; c++) {
      sg[c] += gr[c];
      sgx[c] += gr[c] * (xr[c] - mean[c]) * invstd[c];
    }
  }
  if (tc__needs_grad(gt)) {
    float *dg = tc__tr_grad(ctx, gt);
    if (!dg) return TC_ERR_NOMEM;
    for (size_t c = 0; c < C; c++) dg[c] += sgx[c];
  }
  if (tc__needs_grad(bt)) {
    float *db = tc__tr_grad(ctx, bt);
    if (!db) return TC_ERR_NOMEM;
    for (size_t c = 0; c < C; c++) db[c] += sg[c];
  }
  if (tc__needs_grad(xt)) {
    float *dx = tc__tr_grad(ctx, xt);
    if (!dx) return TC_ERR_NOMEM;
    float invR = 1.0f / (float)R;
    for (size_t r = 0; r < R; r++) {
      const float *xr = x + r * C, *gr = g + r * C;
      float *d = dx + r * C;
      for (size_t c = 0; c < C; c++) {
        float k = invstd[c] * (gamma ? gamma[c] : 1.0f);
        if (training) {
          /* dx = gamma*invstd * (g - mean(g) - xhat * mean(g*xhat)) */
          float xh = (xr[c] - mean[c]) * invstd[c];
          d[c] += k * (gr[c] - sg[c] * invR - xh * sgx[c] * invR);
        } else {
          d[c] += k * gr[c];
        }
      }
    }
  }
  return TC_OK;
}

static tc_status check_vec(tc_train_ctx *ctx, const char *what, const tc_tensor *v,
                           const tc_tensor *x, int C) {
  if (!v) return TC_OK;
  tc_status st = tc__tr_check(ctx, "batch_norm", what, v, TC_DTYPE_F32);
  if (st) return st;
  if (v->size != (size_t)C) {
    char sv[96], sx[96];
    return tc__tr_err(ctx, TC_ERR_ARG, "batch_norm: %s %s does not match the %d channels of x %s",
                   what, tc__tr_shape(v, sv, sizeof sv), C, tc__tr_shape(x, sx, sizeof sx));
  }
  return TC_OK;
}

tc_status tc_batch_norm(tc_train_ctx *ctx, const tc_tensor *x, const tc_tensor *gamma,
                        const tc_tensor *beta, const tc_tensor *mean_in, const tc_tensor *var_in,
                        float epsilon, int training, tc_tensor **out, tc_tensor **batch_mean,
                        tc_tensor **batch_var) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  if (batch_mean) *batch_mean = NULL;
  if (batch_var) *batch_var = NULL;
  tc_status st = tc__tr_check(ctx, "batch_norm", "x", x, TC_DTYPE_F32);
  if (st) return st;
  if (x->rank < 1) return tc__tr_err(ctx, TC_ERR_ARG, "batch_norm: x must have rank >= 1");
  int C = x->dims[x->rank - 1];
  if (C <= 0) /* tensors have no zero dims today; the statistics divide the element count by C */
    return tc__tr_err(ctx, TC_ERR_ARG, "batch_norm: x has no channels (last dim %d)", C);
  if ((st = check_vec(ctx, "gamma", gamma, x, C)) || (st = check_vec(ctx, "beta", beta, x, C)))
    return st;
  if (!training) {
    if (!mean_in || !var_in)
      return tc__tr_err(ctx, TC_ERR_ARG, "batch_norm: inference needs mean and var");
    if ((st = check_vec(ctx, "mean", mean_in, x, C)) ||
        (st = check_vec(ctx, "var", var_in, x, C)))
      return st;
  }
  if (!(epsilon >= 0.0f)) return tc__tr_err(ctx, TC_ERR_ARG, "batch_norm: epsilon < 0");
  size_t R = x->size / (size_t)C;
  float *stats = tc__tr_alloc(ctx, 2 * (size_t)C * sizeof(float));
  if (!stats) return TC_ERR_NOMEM;
  float *mean = stats, *invstd = stats + C;
  const float *px = tc__f(x);
  int32_t dc[1] = {C};
  tc_tensor *bm = NULL, *bv = NULL;
  if (training) {
    /* Two passes in double: the mean, then the biased variance around it. */
    double *acc = tc__tr_alloc(ctx, (size_t)C * sizeof(double));
    if (!acc) return TC_ERR_NOMEM;
    memset(acc, 0, (size_t)C * sizeof(double));
    for (size_t r = 0; r < R; r++)
      for (int c = 0; c < C; c++) acc[c] += px[r * C + c];
    for (int c = 0; c < C; c++) mean[c] = (float)(acc[c] / (double)R);
    memset(acc, 0, (size_t)C * sizeof(double));
    for (size_t r = 0; r < R; r++)
      for (int c = 0; c < C; c++) {
        double d = px[r * C + c] - mean[c];
        acc[c] += d * d;
      }
    if ((batch_mean && (st = tc__tr_new(ctx, TC_DTYPE_F32, 1, dc, 0, &bm))) ||
        (batch_var && (st = tc__tr_new(ctx, TC_DTYPE_F32, 1, dc, 0, &bv))))
      return st;
    for (int c = 0; c < C; c++) {
      float var = (float)(acc[c] / (double)R);
      invstd[c] = 1.0f / sqrtf(var + epsilon);
      if (bm) tc__f(bm)[c] = mean[c];
      if (bv) tc__f(bv)[c] = var;
    }
  } else {
    for (int c = 0; c < C; c++) {
      mean[c] = tc__f(mean_in)[c];
      invstd[c] = 1.0f / sqrtf(tc__f(var_in)[c] + epsilon);
    }
  }
  tc_tensor *y;
  if ((st = tc__tr_new_like(ctx, x, 0, &y))) return st;
  float *py = tc__f(y);
  const float *pg = gamma ? tc__f(gamma) : NULL, *pb = beta ? tc__f(beta) : NULL;
  /* y = x * k + o with per-channel k = gamma*invstd, o = beta - mean*k. */
  float *k = tc__tr_alloc(ctx, 2 * (size_t)C * sizeof(float));
  if (!k) return TC_ERR_NOMEM;
  float *o = k + C;
  for (int c = 0; c < C; c++) {
    k[c] = invstd[c] * (pg ? pg[c] : 1.0f);
    o[c] = (pb ? pb[c] : 0.0f) - mean[c] * k[c];
  }
  for (size_t r = 0; r < R; r++)
    for (int c = 0; c < C; c++) py[r * C + c] = px[r * C + c] * k[c] + o[c];
  if (tc__want_node(ctx, x, gamma, beta)) {
    const tc_tensor *in[3] = {x, gamma, beta};
    tc__node *nd = tc__tr_record(ctx, "batch_norm", bn_backward, y, 3, in);
    if (!nd) return TC_ERR_NOMEM;
    nd->extra = stats;
    nd->i[0] = training != 0;
  }
  if (batch_mean) *batch_mean = bm;
  if (batch_var) *batch_var = bv;
  *out = y;
  return TC_OK;
}

/* ---- fused softmax cross-entropy ---- */

static tc_status xent_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  tc_tensor *lt = nd->in[0];
  float *dl = tc__tr_grad(ctx, lt);
  if (!dl) return TC_ERR_NOMEM;
  const float *p = nd->extra;
  const int32_t *lab = tc__i(nd->saved[0]);
  size_t N = (size_t)lt->dims[0], C = (size_t)lt->dims[1];
  float s = g[0] / (float)N;
  for (size_t n = 0; n < N; n++) {
    const float *pr = p + n * C;
    float *d = dl + n * C;
    for (size_t j = 0; j < C; j++) d[j] += pr[j] * s;
    d[lab[n]] -= s;
  }
  return TC_OK;
}

tc_status tc_softmax_xent_sparse(tc_train_ctx *ctx, const tc_tensor *logits,
                                 const tc_tensor *labels, tc_tensor **loss, tc_tensor **probs) {
  if (!ctx || !loss) return TC_ERR_ARG;
  *loss = NULL;
  if (probs) *probs = NULL;
  tc_status st;
  const char *name = "softmax_xent_sparse";
  if ((st = tc__tr_check(ctx, name, "logits", logits, TC_DTYPE_F32))) return st;
  if ((st = tc__tr_check(ctx, name, "labels", labels, TC_DTYPE_I32))) return st;
  char sl[96], sy[96];
  if (logits->rank != 2 || labels->size != (size_t)logits->dims[0])
    return tc__tr_err(ctx, TC_ERR_ARG, "%s: logits %s must be [N,C] and labels %s have N elements",
                   name, tc__tr_shape(logits, sl, sizeof sl), tc__tr_shape(labels, sy, sizeof sy));
  size_t N = (size_t)logits->dims[0], C = (size_t)logits->dims[1];
  const int32_t *lab = tc__i(labels);
  for (size_t n = 0; n < N; n++)
    if (lab[n] < 0 || (size_t)lab[n] >= C)
      return tc__tr_err(ctx, TC_ERR_RUNTIME, "%s: label %d at row %zu is outside [0, %zu)", name,
                     (int)lab[n], n, C);
  tc_tensor *pt, *lt;
  if ((st = tc__tr_new_like(ctx, logits, 0, &pt))) return st;
  if ((st = tc__tr_new(ctx, TC_DTYPE_F32, 0, NULL, 0, &lt))) return st;
  const float *x = tc__f(logits);
  float *p = tc__f(pt);
  double total = 0;
  for (size_t n = 0; n < N; n++) {
    const float *xr = x + n * C;
    float *pr = p + n * C;
    float m = xr[0];
    for (size_t j = 1; j < C; j++) m = xr[j] > m ? xr[j] : m;
    float s = 0;
    for (size_t j = 0; j < C; j++) {
      pr[j] = expf(xr[j] - m);
      s += pr[j];
    }
    float inv = 1.0f / s;
    for (size_t j = 0; j < C; j++) pr[j] *= inv;
    total += (double)(m + logf(s) - xr[lab[n]]);
  }
  tc__f(lt)[0] = (float)(total / (double)N);
  if (tc__want_node(ctx, logits, NULL, NULL)) {
    tc__node *nd = tc__tr_record(ctx, name, xent_backward, lt, 1, &logits);
    if (!nd) return TC_ERR_NOMEM;
    nd->extra = p;
    nd->saved[0] = (tc_tensor *)labels;
  }
  if (probs) *probs = pt;
  *loss = lt;
  return TC_OK;
}
