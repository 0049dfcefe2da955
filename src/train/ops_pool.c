/* ops_pool.c: max, average and global average pooling on NHWC. Max pooling records the flat
 * input offset of each output's first maximum (only when the tape records), so backward is a
 * scatter-add. Average pooling divides by the number of in-bounds inputs of each window (the
 * TFLite/Keras SAME behaviour). The channel loop is innermost and contiguous. */
#include <float.h>
#include <string.h>

#include "train/train.h"

typedef struct pgeo {
  int n, h, w, c, kh, kw, sh, sw, oh, ow, pt, pl;
} pgeo;

static tc_status pool_geo(tc_train_ctx *ctx, const char *op, const tc_tensor *x,
                          const tc_pool_params *p, pgeo *g) {
  tc_status st = tc__tr_check(ctx, op, "input", x, TC_DTYPE_F32);
  if (st) return st;
  if (!p) return tc__tr_err(ctx, TC_ERR_ARG, "%s: params is NULL", op);
  char sx[96];
  tc__tr_shape(x, sx, sizeof sx);
  if (x->rank != 4) return tc__tr_err(ctx, TC_ERR_ARG, "%s: input %s must be NHWC", op, sx);
  if (p->size_h < 1 || p->size_w < 1 || p->stride_h < 0 || p->stride_w < 0 ||
      (p->padding != TC_PADDING_SAME && p->padding != TC_PADDING_VALID))
    return tc__tr_err(ctx, TC_ERR_ARG, "%s: invalid window %dx%d, stride %dx%d or padding", op,
                   p->size_h, p->size_w, p->stride_h, p->stride_w);
  g->n = x->dims[0], g->h = x->dims[1], g->w = x->dims[2], g->c = x->dims[3];
  g->kh = p->size_h, g->kw = p->size_w;
  g->sh = p->stride_h ? p->stride_h : p->size_h;
  g->sw = p->stride_w ? p->stride_w : p->size_w;
  if (!tc__tr_conv_out(g->h, g->kh, g->sh, 1, p->padding, &g->oh, &g->pt) ||
      !tc__tr_conv_out(g->w, g->kw, g->sw, 1, p->padding, &g->ow, &g->pl))
    return tc__tr_err(ctx, TC_ERR_ARG, "%s: input %s is smaller than the %dx%d window (VALID)", op,
                   sx, g->kh, g->kw);
  return TC_OK;
}

/* Window bounds clipped to the input. */
static inline void win(const pgeo *g, int oy, int ox, int *y0, int *y1, int *x0, int *x1) {
  int iy = oy * g->sh - g->pt, ix = ox * g->sw - g->pl;
  *y0 = TC_MAX(iy, 0), *y1 = TC_MIN(iy + g->kh, g->h);
  *x0 = TC_MAX(ix, 0), *x1 = TC_MIN(ix + g->kw, g->w);
}

static tc_status maxpool_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  float *dx = tc__tr_grad(ctx, nd->in[0]);
  if (!dx) return TC_ERR_NOMEM;
  const int32_t *arg = nd->extra;
  size_t n = nd->out->size;
  for (size_t i = 0; i < n; i++) dx[arg[i]] += g[i];
  return TC_OK;
}

tc_status tc_max_pool2d(tc_train_ctx *ctx, const tc_tensor *xt, const tc_pool_params *p,
                        tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  pgeo g;
  tc_status st = pool_geo(ctx, "max_pool2d", xt, p, &g);
  if (st) return st;
  int32_t od[4] = {g.n, g.oh, g.ow, g.c};
  tc_tensor *yt;
  if ((st = tc__tr_new(ctx, TC_DTYPE_F32, 4, od, 0, &yt))) return st;
  int rec = tc__want_node(ctx, xt, NULL, NULL);
  int32_t *arg = NULL;
  if (rec && !(arg = tc__tr_alloc(ctx, yt->size * sizeof(int32_t)))) return TC_ERR_NOMEM;
  const float *x = tc__f(xt);
  float *y = tc__f(yt);
  int C = g.c;
  for (int n = 0; n < g.n; n++)
    for (int oy = 0; oy < g.oh; oy++)
      for (int ox = 0; ox < g.ow; ox++) {
        size_t oo = (((size_t)n * g.oh + oy) * g.ow + ox) * C;
        float *o = y + oo;
        int y0, y1, x0, x1;
        win(&g, oy, ox, &y0, &y1, &x0, &x1);
        for (int c = 0; c < C; c++) o[c] = -FLT_MAX;
        if (arg) {
          int32_t *a = arg + oo;
          for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++) {
              int32_t base = (int32_t)((((size_t)n * g.h + iy) * g.w + ix) * C);
              const float *xi = x + base;
              for (int c = 0; c < C; c++)
                if (xi[c] > o[c] || (iy == y0 && ix == x0)) o[c] = xi[c], a[c] = base + c;
            }
        } else {
          for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++) {
              const float *xi = x + (((size_t)n * g.h + iy) * g.w + ix) * C;
              for (int c = 0; c < C; c++) o[c] = xi[c] > o[c] ? xi[c] : o[c];
            }
        }
      }
  if (rec) {
    tc__node *nd = tc__tr_record(ctx, "max_pool2d", maxpool_backward, yt, 1, &xt);
    if (!nd) return TC_ERR_NOMEM;
    nd->extra = arg;
  }
  *out = yt;
  return TC_OK;
}

static tc_status avgpool_backward(tc_train_ctx *ctx, tc__node *nd, const float *gy) {
  float *dx = tc__tr_grad(ctx, nd->in[0]);
  if (!dx) return TC_ERR_NOMEM;
  const pgeo *g = nd->extra;
  int C = g->c;
  for (int n = 0; n < g->n; n++)
    for (int oy = 0; oy < g->oh; oy++)
      for (int ox = 0; ox < g->ow; ox++) {
        const float *go = gy + (((size_t)n * g->oh + oy) * g->ow + ox) * C;
        int y0, y1, x0, x1;
        win(g, oy, ox, &y0, &y1, &x0, &x1);
        float inv = 1.0f / (float)((y1 - y0) * (x1 - x0));
        for (int iy = y0; iy < y1; iy++)
          for (int ix = x0; ix < x1; ix++) {
            float *d = dx + (((size_t)n * g->h + iy) * g->w + ix) * C;
            for (int c = 0; c < C; c++) d[c] += go[c] * inv;
          }
      }
  return TC_OK;
}

tc_status tc_avg_pool2d(tc_train_ctx *ctx, const tc_tensor *xt, const tc_pool_params *p,
                        tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  pgeo g;
  tc_status st = pool_geo(ctx, "avg_pool2d", xt, p, &g);
  if (st) return st;
  int32_t od[4] = {g.n, g.oh, g.ow, g.c};
  tc_tensor *yt;
  if ((st = tc__tr_new(ctx, TC_DTYPE_F32, 4, od, 1, &yt))) return st;
  const float *x = tc__f(xt);
  float *y = tc__f(yt);
  int C = g.c;
  for (int n = 0; n < g.n; n++)
    for (int oy = 0; oy < g.oh; oy++)
      for (int ox = 0; ox < g.ow; ox++) {
        float *o = y + (((size_t)n * g.oh + oy) * g.ow + ox) * C;
        int y0, y1, x0, x1;
        win(&g, oy, ox, &y0, &y1, &x0, &x1);
        for (int iy = y0; iy < y1; iy++)
          for (int ix = x0; ix < x1; ix++) {
            const float *xi = x + (((size_t)n * g.h + iy) * g.w + ix) * C;
            for (int c = 0; c < C; c++) o[c] += xi[c];
          }
        float inv = 1.0f / (float)((y1 - y0) * (x1 - x0));
        for (int c = 0; c < C; c++) o[c] *= inv;
      }
  if (tc__want_node(ctx, xt, NULL, NULL)) {
    tc__node *nd = tc__tr_record(ctx, "avg_pool2d", avgpool_backward, yt, 1, &xt);
    if (!nd || !(nd->extra = tc__tr_alloc(ctx, sizeof g))) return TC_ERR_NOMEM;
    memcpy(nd->extra, &g, sizeof g);
  }
  *out = yt;
  return TC_OK;
}

static tc_status gap_backward(tc_train_ctx *ctx, tc__node *nd, const float *gy) {
  tc_tensor *xt = nd->in[0];
  float *dx = tc__tr_grad(ctx, xt);
  if (!dx) return TC_ERR_NOMEM;
  int N = xt->dims[0], HW = xt->dims[1] * xt->dims[2], C = xt->dims[3];
  float inv = 1.0f / (float)HW;
  for (int n = 0; n < N; n++)
    for (int i = 0; i < HW; i++) {
      float *d = dx + ((size_t)n * HW + i) * C;
      const float *go = gy + (size_t)n * C;
      for (int c = 0; c < C; c++) d[c] += go[c] * inv;
    }
  return TC_OK;
}

tc_status tc_global_avg_pool2d(tc_train_ctx *ctx, const tc_tensor *xt, int keepdims,
                               tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  tc_status st = tc__tr_check(ctx, "global_avg_pool2d", "input", xt, TC_DTYPE_F32);
  if (st) return st;
  char sx[96];
  if (xt->rank != 4)
    return tc__tr_err(ctx, TC_ERR_ARG, "global_avg_pool2d: input %s must be NHWC",
                   tc__tr_shape(xt, sx, sizeof sx));
  int N = xt->dims[0], HW = xt->dims[1] * xt->dims[2], C = xt->dims[3];
  int32_t od4[4] = {N, 1, 1, C}, od2[2] = {N, C};
  tc_tensor *yt;
  if ((st = tc__tr_new(ctx, TC_DTYPE_F32, keepdims ? 4 : 2, keepdims ? od4 : od2, 1, &yt)))
    return st;
  const float *x = tc__f(xt);
  float *y = tc__f(yt), inv = 1.0f / (float)HW;
  for (int n = 0; n < N; n++) {
    float *o = y + (size_t)n * C;
    for (int i = 0; i < HW; i++) {
      const float *xi = x + ((size_t)n * HW + i) * C;
      for (int c = 0; c < C; c++) o[c] += xi[c];
    }
    for (int c = 0; c < C; c++) o[c] *= inv;
  }
  if (tc__want_node(ctx, xt, NULL, NULL) &&
      !tc__tr_record(ctx, "global_avg_pool2d", gap_backward, yt, 1, &xt))
    return TC_ERR_NOMEM;
  *out = yt;
  return TC_OK;
}
