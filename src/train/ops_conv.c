/* ops_conv.c: conv2d and depthwise conv2d on NHWC with Keras filter layouts (HWIO and
 * [kh,kw,C,mult]), stride, dilation and TFLite/Keras SAME/VALID padding. conv2d lowers to
 * im2col + the packed gemm, one block of output rows at a time so the column buffer stays in
 * cache; backward computes dW = col^T dY (same blocks) and dX by col2im of dY W^T. A 1x1,
 * stride-1 convolution skips im2col. Depthwise conv runs direct loops with the channel loop
 * innermost (contiguous in NHWC, so it vectorises). */
#include <string.h>

#include "train/train.h"

/* Output size and leading pad of one spatial dim (TFLite rules). Returns 0 if no output. */
int tc__tr_conv_out(int in, int k, int stride, int dil, tc_padding pad, int *out, int *pad_before) {
  int eff = (k - 1) * dil + 1;
  if (pad == TC_PADDING_SAME) {
    int o = (in + stride - 1) / stride;
    int total = (o - 1) * stride + eff - in;
    *out = o;
    *pad_before = total > 0 ? total / 2 : 0;
  } else {
    if (in < eff) return 0;
    *out = (in - eff) / stride + 1;
    *pad_before = 0;
  }
  return *out > 0;
}

/* Shared geometry of a conv node, kept in node->i. */
typedef struct geo {
  int n, h, w, cin, kh, kw, cout, sh, sw, dh, dw, oh, ow, pt, pl;
} geo;

static tc_status conv_geo(tc_train_ctx *ctx, const char *op, const tc_tensor *x,
                          const tc_tensor *f, const tc_tensor *bias, const tc_conv_params *p,
                          int depthwise, geo *g) {
  tc_status st;
  if ((st = tc__tr_check(ctx, op, "input", x, TC_DTYPE_F32))) return st;
  if ((st = tc__tr_check(ctx, op, "filter", f, TC_DTYPE_F32))) return st;
  if (bias && (st = tc__tr_check(ctx, op, "bias", bias, TC_DTYPE_F32))) return st;
  if (!p) return tc__tr_err(ctx, TC_ERR_ARG, "%s: params is NULL", op);
  char sx[96], sf[96];
  tc__tr_shape(x, sx, sizeof sx);
  tc__tr_shape(f, sf, sizeof sf);
  if (x->rank != 4 || f->rank != 4)
    return tc__tr_err(ctx, TC_ERR_ARG, "%s: input %s must be NHWC and filter %s rank 4", op, sx, sf);
  memset(g, 0, sizeof *g);
  g->n = x->dims[0], g->h = x->dims[1], g->w = x->dims[2], g->cin = x->dims[3];
  g->kh = f->dims[0], g->kw = f->dims[1];
  if (f->dims[2] != g->cin)
    return tc__tr_err(ctx, TC_ERR_ARG, "%s: input %s has %d channels but filter %s expects %d%s",
                   op, sx, g->cin, sf, f->dims[2],
                   depthwise ? " (filter is [kh,kw,C,mult])" : " (filter is HWIO)");
  g->cout = depthwise ? f->dims[2] * f->dims[3] : f->dims[3];
  if (bias && (bias->rank != 1 || bias->dims[0] != g->cout))
    return tc__tr_err(ctx, TC_ERR_ARG, "%s: bias %s does not match %d output channels of filter %s",
                   op, tc__tr_shape(bias, sx, sizeof sx), g->cout, sf);
  g->sh = p->stride_h > 0 ? p->stride_h : 1;
  g->sw = p->stride_w > 0 ? p->stride_w : 1;
  g->dh = p->dilation_h > 0 ? p->dilation_h : 1;
  g->dw = p->dilation_w > 0 ? p->dilation_w : 1;
  if (p->stride_h < 0 || p->stride_w < 0 || p->dilation_h < 0 || p->dilation_w < 0 ||
      (p->padding != TC_PADDING_SAME && p->padding != TC_PADDING_VALID))
    return tc__tr_err(ctx, TC_ERR_ARG, "%s: negative stride/dilation or unknown padding", op);
  if (!tc__tr_conv_out(g->h, g->kh, g->sh, g->dh, p->padding, &g->oh, &g->pt) ||
      !tc__tr_conv_out(g->w, g->kw, g->sw, g->dw, p->padding, &g->ow, &g->pl))
    return tc__tr_err(ctx, TC_ERR_ARG, "%s: input %s is smaller than filter %s (dilation %dx%d) "
                   "with VALID padding", op, sx, sf, g->dh, g->dw);
  return TC_OK;
}

static void geo_save(tc__node *nd, const geo *g) { memcpy(nd->extra, g, sizeof *g); }

/* ---- im2col / col2im over output rows [m0, m1) (row m = (n, oy, ox)) ---- */

/* Copies n floats; short runs (a few channels) are cheaper as a loop than a libc call. */
static inline void copy_f(float *dst, const float *src, int n) {
  if (n >= 32) {
    memcpy(dst, src, (size_t)n * sizeof(float));
  } else {
    for (int i = 0; i < n; i++) dst[i] = src[i];
  }
}

static void im2col(const geo *g, const float *x, int m0, int m1, float *col) {
  int K = g->kh * g->kw * g->cin, ohw = g->oh * g->ow, C = g->cin, rowlen = g->kw * C;
  for (int m = m0; m < m1; m++) {
    int n = m / ohw, r = m % ohw, oy = r / g->ow, ox = r % g->ow;
    float *dst = col + (size_t)(m - m0) * K;
    int ix0 = ox * g->sw - g->pl;
    /* With dilation 1 and the window inside the row, a kernel row is one contiguous run. */
    int row_inside = g->dw == 1 && ix0 >= 0 && ix0 + g->kw <= g->w;
    for (int ky = 0; ky < g->kh; ky++, dst += rowlen) {
      int iy = oy * g->sh - g->pt + ky * g->dh;
      if (iy < 0 || iy >= g->h) {
        memset(dst, 0, (size_t)rowlen * sizeof(float));
        continue;
      }
      const float *src = x + ((size_t)n * g->h + iy) * g->w * C;
      if (row_inside) {
        copy_f(dst, src + (size_t)ix0 * C, rowlen);
        continue;
      }
      for (int kx = 0; kx < g->kw; kx++) {
        int ix = ix0 + kx * g->dw;
        if (ix < 0 || ix >= g->w)
          memset(dst + kx * C, 0, (size_t)C * sizeof(float));
        else
          copy_f(dst + kx * C, src + (size_t)ix * C, C);
      }
    }
  }
}

/* im2col over the context's thread pool: rows are split into contiguous chunks (a pure copy,
 * so the result does not depend on the split). */
typedef struct im2col_job {
  const geo *g;
  const float *x;
  float *col;
  int m0, m1, chunk;
} im2col_job;

static void im2col_task(void *arg, size_t task, int thread) {
  const im2col_job *j = arg;
  int a = j->m0 + (int)task * j->chunk, b = TC_MIN(j->m1, a + j->chunk);
  size_t K = (size_t)j->g->kh * j->g->kw * j->g->cin;
  if (a < b) im2col(j->g, j->x, a, b, j->col + (size_t)(a - j->m0) * K);
}

static void im2col_par(tc_train_ctx *ctx, const geo *g, const float *x, int m0, int m1,
                       float *col) {
  int nth = ctx->pool ? ctx->n_threads : 1;
  if (nth < 2 || m1 - m0 < 64) {
    im2col(g, x, m0, m1, col);
    return;
  }
  im2col_job j = {g, x, col, m0, m1, (m1 - m0 + 2 * nth - 1) / (2 * nth)};
  size_t n_tasks = (size_t)((m1 - m0 + j.chunk - 1) / j.chunk);
  tc_threadpool_parallel_for(ctx->pool, n_tasks, im2col_task, &j);
}

static void col2im_add(const geo *g, const float *col, int m0, int m1, float *dx) {
  int K = g->kh * g->kw * g->cin, ohw = g->oh * g->ow;
  for (int m = m0; m < m1; m++) {
    int n = m / ohw, r = m % ohw, oy = r / g->ow, ox = r % g->ow;
    const float *src = col + (size_t)(m - m0) * K;
    for (int ky = 0; ky < g->kh; ky++) {
      int iy = oy * g->sh - g->pt + ky * g->dh;
      for (int kx = 0; kx < g->kw; kx++, src += g->cin) {
        int ix = ox * g->sw - g->pl + kx * g->dw;
        if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
        float *d = dx + (((size_t)n * g->h + iy) * g->w + ix) * g->cin;
        for (int c = 0; c < g->cin; c++) d[c] += src[c];
      }
    }
  }
}

static int is_pointwise(const geo *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0;
}

/* Rows per im2col block: about 1 MiB of columns (fewer re-packs of the filter per call while
 * the block still sits in the last-level cache), at least a few gemm row tiles. */
static int block_rows(const geo *g, int M) {
  int K = g->kh * g->kw * g->cin;
  int rows = (int)((1024u * 1024u) / ((unsigned)K * 4u));
  rows = TC_MAX(rows, 48);
  return TC_MIN(rows, M);
}

static tc_status conv_backward(tc_train_ctx *ctx, tc__node *nd, const float *dy) {
  const geo *g = nd->extra;
  tc_tensor *x = nd->in[0], *f = nd->in[1], *bias = nd->in[2];
  int M = g->n * g->oh * g->ow, K = g->kh * g->kw * g->cin, N = g->cout;
  tc_status st;
  if (tc__needs_grad(bias)) {
    float *db = tc__tr_grad(ctx, bias);
    if (!db) return TC_ERR_NOMEM;
    const float *r = dy;
    for (int m = 0; m < M; m++, r += N)
      for (int j = 0; j < N; j++) db[j] += r[j];
  }
  int need_w = tc__needs_grad(f), need_x = tc__needs_grad(x);
  if (!need_w && !need_x) return TC_OK;
  float *dw = NULL, *dx = NULL;
  int fresh_w = 0;
  if (need_w && !(dw = tc__tr_grad_raw(ctx, f, &fresh_w))) return TC_ERR_NOMEM;
  if (need_x && !(dx = tc__tr_grad(ctx, x))) return TC_ERR_NOMEM;
  if (is_pointwise(g)) {
    if (need_w &&
        (st = tc__tr_gemm(ctx, K, N, M, tc__f(x), K, 1, dy, N, 0, dw, N, !fresh_w, NULL)))
      return st;
    if (need_x && (st = tc__tr_gemm(ctx, M, K, N, dy, N, 0, tc__f(f), N, 1, dx, K, 1, NULL)))
      return st;
    return TC_OK;
  }
  int rb = block_rows(g, M);
  float *col = tc__tr_scratch(ctx, TC__SCRATCH_COL, (size_t)rb * K * sizeof(float));
  if (!col) return TC_ERR_NOMEM;
  for (int m0 = 0; m0 < M; m0 += rb) {
    int m1 = TC_MIN(M, m0 + rb), mb = m1 - m0;
    const float *dyb = dy + (size_t)m0 * N;
    if (need_w) {
      im2col_par(ctx, g, tc__f(x), m0, m1, col);
      int acc = m0 > 0 || !fresh_w;
      if ((st = tc__tr_gemm(ctx, K, N, mb, col, K, 1, dyb, N, 0, dw, N, acc, NULL))) return st;
    }
    if (need_x) {
      if ((st = tc__tr_gemm(ctx, mb, K, N, dyb, N, 0, tc__f(f), N, 1, col, K, 0, NULL))) return st;
      col2im_add(g, col, m0, m1, dx);
    }
  }
  return TC_OK;
}

tc_status tc_conv2d(tc_train_ctx *ctx, const tc_tensor *x, const tc_tensor *filter,
                    const tc_tensor *bias, const tc_conv_params *p, tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  geo g;
  tc_status st = conv_geo(ctx, "conv2d", x, filter, bias, p, 0, &g);
  if (st) return st;
  int32_t od[4] = {g.n, g.oh, g.ow, g.cout};
  tc_tensor *y;
  if ((st = tc__tr_new(ctx, TC_DTYPE_F32, 4, od, 0, &y))) return st;
  int M = g.n * g.oh * g.ow, K = g.kh * g.kw * g.cin, N = g.cout;
  const float *b = bias ? tc__f(bias) : NULL;
  if (is_pointwise(&g)) {
    st = tc__tr_gemm(ctx, M, N, K, tc__f(x), K, 0, tc__f(filter), N, 0, tc__f(y), N, 0, b);
    if (st) return st;
  } else {
    int rb = block_rows(&g, M);
    float *col = tc__tr_scratch(ctx, TC__SCRATCH_COL, (size_t)rb * K * sizeof(float));
    if (!col) return TC_ERR_NOMEM;
    for (int m0 = 0; m0 < M; m0 += rb) {
      int m1 = TC_MIN(M, m0 + rb);
      im2col_par(ctx, &g, tc__f(x), m0, m1, col);
      st = tc__tr_gemm(ctx, m1 - m0, N, K, col, K, 0, tc__f(filter), N, 0,
                    tc__f(y) + (size_t)m0 * N, N, 0, b);
      if (st) return st;
    }
  }
  if (tc__want_node(ctx, x, filter, bias)) {
    const tc_tensor *in[3] = {x, filter, bias};
    tc__node *nd = tc__tr_record(ctx, "conv2d", conv_backward, y, 3, in);
    if (!nd || !(nd->extra = tc__tr_alloc(ctx, sizeof g))) return TC_ERR_NOMEM;
    geo_save(nd, &g);
  }
  *out = y;
  return TC_OK;
}

/* ---- depthwise ---- */

static tc_status dw_backward(tc_train_ctx *ctx, tc__node *nd, const float *dy) {
  const geo *g = nd->extra;
  tc_tensor *xt = nd->in[0], *ft = nd->in[1], *bt = nd->in[2];
  int C = g->cin, mult = g->cout / g->cin, CO = g->cout;
  float *dx = NULL, *dw = NULL, *db = NULL;
  if (tc__needs_grad(xt) && !(dx = tc__tr_grad(ctx, xt))) return TC_ERR_NOMEM;
  if (tc__needs_grad(ft) && !(dw = tc__tr_grad(ctx, ft))) return TC_ERR_NOMEM;
  if (tc__needs_grad(bt) && !(db = tc__tr_grad(ctx, bt))) return TC_ERR_NOMEM;
  const float *x = tc__f(xt), *f = tc__f(ft);
  for (int n = 0; n < g->n; n++)
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++) {
        const float *go = dy + (((size_t)n * g->oh + oy) * g->ow + ox) * CO;
        if (db)
          for (int c = 0; c < CO; c++) db[c] += go[c];
        for (int ky = 0; ky < g->kh; ky++) {
          int iy = oy * g->sh - g->pt + ky * g->dh;
          if (iy < 0 || iy >= g->h) continue;
          for (int kx = 0; kx < g->kw; kx++) {
            int ix = ox * g->sw - g->pl + kx * g->dw;
            if (ix < 0 || ix >= g->w) continue;
            size_t xo = (((size_t)n * g->h + iy) * g->w + ix) * C;
            size_t wo = ((size_t)ky * g->kw + kx) * CO;
            if (mult == 1) {
              if (dx)
                for (int c = 0; c < C; c++) dx[xo + c] += go[c] * f[wo + c];
              if (dw)
                for (int c = 0; c < C; c++) dw[wo + c] += go[c] * x[xo + c];
            } else {
              for (int c = 0; c < C; c++)
                for (int m = 0; m < mult; m++) {
                  int oc = c * mult + m;
                  if (dx) dx[xo + c] += go[oc] * f[wo + oc];
                  if (dw) dw[wo + oc] += go[oc] * x[xo + c];
                }
            }
          }
        }
      }
  return TC_OK;
}

tc_status tc_depthwise_conv2d(tc_train_ctx *ctx, const tc_tensor *xt, const tc_tensor *ft,
                              const tc_tensor *bt, const tc_conv_params *p, tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  geo g;
  tc_status st = conv_geo(ctx, "depthwise_conv2d", xt, ft, bt, p, 1, &g);
  if (st) return st;
  int32_t od[4] = {g.n, g.oh, g.ow, g.cout};
  tc_tensor *yt;
  if ((st = tc__tr_new(ctx, TC_DTYPE_F32, 4, od, 0, &yt))) return st;
  int C = g.cin, mult = g.cout / g.cin, CO = g.cout;
  const float *x = tc__f(xt), *f = tc__f(ft), *b = bt ? tc__f(bt) : NULL;
  float *y = tc__f(yt);
  for (int n = 0; n < g.n; n++)
    for (int oy = 0; oy < g.oh; oy++)
      for (int ox = 0; ox < g.ow; ox++) {
        float *o = y + (((size_t)n * g.oh + oy) * g.ow + ox) * CO;
        for (int c = 0; c < CO; c++) o[c] = b ? b[c] : 0.0f;
        for (int ky = 0; ky < g.kh; ky++) {
          int iy = oy * g.sh - g.pt + ky * g.dh;
          if (iy < 0 || iy >= g.h) continue;
          for (int kx = 0; kx < g.kw; kx++) {
            int ix = ox * g.sw - g.pl + kx * g.dw;
            if (ix < 0 || ix >= g.w) continue;
            const float *xi = x + (((size_t)n * g.h + iy) * g.w + ix) * C;
            const float *w = f + ((size_t)ky * g.kw + kx) * CO;
            if (mult == 1) {
              for (int c = 0; c < C; c++) o[c] += xi[c] * w[c];
            } else {
              for (int c = 0; c < C; c++)
                for (int m = 0; m < mult; m++) o[c * mult + m] += xi[c] * w[c * mult + m];
            }
          }
        }
      }
  if (tc__want_node(ctx, xt, ft, bt)) {
    const tc_tensor *in[3] = {xt, ft, bt};
    tc__node *nd = tc__tr_record(ctx, "depthwise_conv2d", dw_backward, yt, 3, in);
    if (!nd || !(nd->extra = tc__tr_alloc(ctx, sizeof g))) return TC_ERR_NOMEM;
    geo_save(nd, &g);
  }
  *out = yt;
  return TC_OK;
}
