/* ops_pool.c: max, average and global average pooling on NHWC. Max pooling records the flat
 * input offset of each output's first maximum (only when the tape records), so backward is a
 * scatter-add. Average pooling divides by the number of in-bounds inputs of each window (the
 * TFLite/Keras SAME behaviour). The channel loop is innermost and contiguous. */
#include <float.h>
#include <string.h>

#include "train/train.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* ---- max pooling fast path: VALID windows that tile the input (stride == window, no padding),
 * the usual MaxPool2D(2). Work is split over output rows (n, oy) on the context's pool; each
 * output records the window-local index (ky * kw + kx) of its first maximum, and the backward
 * writes every element of a fresh input gradient once (g at the argmax, 0 elsewhere, 0 in the
 * rows/columns no window covers), so no zero-fill is needed. ---- */

static int pool_tiles(const pgeo *g) {
  return g->pt == 0 && g->pl == 0 && g->sh == g->kh && g->sw == g->kw && g->kh * g->kw <= 64;
}

typedef struct mp_job {
  const pgeo *g;
  const float *x, *gy;
  float *y;
  int32_t *arg;
  int rows_per_task, accumulate;
} mp_job;

/* Forward of output row r = n * oh + oy. */
static void mp_fwd_row(const mp_job *j, int r) {
  const pgeo *g = j->g;
  int n = r / g->oh, oy = r % g->oh, C = g->c, kw = g->kw, kh = g->kh;
  size_t rs = (size_t)g->w * C; /* input row stride */
  const float *xr = j->x + ((size_t)n * g->h + (size_t)oy * kh) * rs;
  float *yr = j->y + (size_t)r * g->ow * C;
  int32_t *ar = j->arg ? j->arg + (size_t)r * g->ow * C : NULL;
  for (int ox = 0; ox < g->ow; ox++) {
    const float *xw = xr + (size_t)ox * kw * C;
    float *o = yr + (size_t)ox * C;
    int32_t *a = ar ? ar + (size_t)ox * C : NULL;
    int c = 0;
#if defined(__SSE2__)
    for (; c + 4 <= C; c += 4) {
      __m128 m = _mm_loadu_ps(xw + c);
      __m128i ai = _mm_setzero_si128();
      for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++) {
          if (!ky && !kx) continue;
          __m128 v = _mm_loadu_ps(xw + ky * rs + (size_t)kx * C + c);
          __m128 gt = _mm_cmpgt_ps(v, m);
          m = _mm_or_ps(_mm_and_ps(gt, v), _mm_andnot_ps(gt, m));
          if (a) {
            __m128i gi = _mm_castps_si128(gt);
            ai = _mm_or_si128(_mm_and_si128(gi, _mm_set1_epi32(ky * kw + kx)),
                              _mm_andnot_si128(gi, ai));
          }
        }
      _mm_storeu_ps(o + c, m);
      if (a) _mm_storeu_si128((__m128i *)(a + c), ai);
    }
#endif
    for (; c < C; c++) {
      float m = xw[c];
      int32_t best = 0;
      for (int ky = 0; ky < kh; ky++)
        for (int kx = 0; kx < kw; kx++) {
          float v = xw[ky * rs + (size_t)kx * C + c];
          if (v > m) m = v, best = ky * kw + kx;
        }
      o[c] = m;
      if (a) a[c] = best;
    }
  }
}

/* Backward of output row r: writes (or adds into) input rows [oy*kh, oy*kh + kh), plus the
 * uncovered rows below the last window row when oy is the last output row. */
static void mp_bwd_row(const mp_job *j, int r) {
  const pgeo *g = j->g;
  int n = r / g->oh, oy = r % g->oh, C = g->c, kw = g->kw, kh = g->kh;
  size_t rs = (size_t)g->w * C;
  float *dr = (float *)j->y + ((size_t)n * g->h + (size_t)oy * kh) * rs; /* y holds dx here */
  const float *gr = j->gy + (size_t)r * g->ow * C;
  const int32_t *ar = j->arg + (size_t)r * g->ow * C;
  int acc = j->accumulate;
  for (int ky = 0; ky < kh; ky++) {
    float *d = dr + ky * rs;
    for (int ox = 0; ox < g->ow; ox++) {
      const float *go = gr + (size_t)ox * C;
      const int32_t *a = ar + (size_t)ox * C;
      for (int kx = 0; kx < kw; kx++) {
        float *dd = d + ((size_t)ox * kw + kx) * C;
        int32_t pos = ky * kw + kx;
        int c = 0;
#if defined(__SSE2__)
        __m128i vp = _mm_set1_epi32(pos);
        for (; c + 4 <= C; c += 4) {
          __m128 msk = _mm_castsi128_ps(_mm_cmpeq_epi32(_mm_loadu_si128((const __m128i *)(a + c)), vp));
          __m128 v = _mm_and_ps(msk, _mm_loadu_ps(go + c));
          if (acc) v = _mm_add_ps(_mm_loadu_ps(dd + c), v);
          _mm_storeu_ps(dd + c, v);
        }
#endif
        for (; c < C; c++) {
          float v = a[c] == pos ? go[c] : 0.0f;
          dd[c] = acc ? dd[c] + v : v;
        }
      }
    }
    if (!acc && g->ow * kw < g->w) /* columns past the last window */
      memset(d + (size_t)g->ow * kw * C, 0, (size_t)(g->w - g->ow * kw) * C * sizeof(float));
  }
  if (!acc && oy == g->oh - 1 && g->oh * kh < g->h) /* rows past the last window */
    memset(dr + kh * rs, 0, (size_t)(g->h - g->oh * kh) * rs * sizeof(float));
}

static void mp_fwd_task(void *arg, size_t task, int thread) {
  (void)thread;
  const mp_job *j = arg;
  int r0 = (int)task * j->rows_per_task, r1 = TC_MIN(j->g->n * j->g->oh, r0 + j->rows_per_task);
  for (int r = r0; r < r1; r++) mp_fwd_row(j, r);
}

static void mp_bwd_task(void *arg, size_t task, int thread) {
  (void)thread;
  const mp_job *j = arg;
  int r0 = (int)task * j->rows_per_task, r1 = TC_MIN(j->g->n * j->g->oh, r0 + j->rows_per_task);
  for (int r = r0; r < r1; r++) mp_bwd_row(j, r);
}

static void mp_run(tc_train_ctx *ctx, mp_job *j, tc_task_fn fn) {
  int rows = j->g->n * j->g->oh;
  size_t per_row = (size_t)j->g->ow * j->g->kw * j->g->kh * j->g->c;
  j->rows_per_task = TC_MAX(1, (int)(16384 / TC_MAX(per_row, 1)));
  size_t n_tasks = (size_t)((rows + j->rows_per_task - 1) / j->rows_per_task);
  if (ctx->pool && ctx->n_threads > 1 && n_tasks > 1)
    tc_threadpool_parallel_for(ctx->pool, n_tasks, fn, j);
  else
    for (size_t t = 0; t < n_tasks; t++) fn(j, t, 0);
}

static tc_status maxpool_fast_backward(tc_train_ctx *ctx, tc__node *nd, const float *gy) {
  int fresh;
  float *dx = tc__tr_grad_raw(ctx, nd->in[0], &fresh);
  if (!dx) return TC_ERR_NOMEM;
  const pgeo *g =
      (const pgeo *)((const char *)nd->extra + TC_ALIGN_UP(nd->out->size * sizeof(int32_t), 16));
  mp_job j = {g, NULL, gy, dx, nd->extra, 0, !fresh};
  mp_run(ctx, &j, mp_bwd_task);
  return TC_OK;
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
  if (pool_tiles(&g)) {
    /* arg (window-local indices) is followed by a copy of the geometry for the backward. */
    size_t asz = TC_ALIGN_UP(yt->size * sizeof(int32_t), 16);
    if (rec && !(arg = tc__tr_alloc(ctx, asz + sizeof g))) return TC_ERR_NOMEM;
    if (arg) memcpy((char *)arg + asz, &g, sizeof g);
    mp_job j = {&g, tc__f(xt), NULL, tc__f(yt), arg, 0, 0};
    mp_run(ctx, &j, mp_fwd_task);
    if (rec) {
      tc__node *nd = tc__tr_record(ctx, "max_pool2d", maxpool_fast_backward, yt, 1, &xt);
      if (!nd) return TC_ERR_NOMEM;
      nd->extra = arg;
    }
    *out = yt;
    return TC_OK;
  }
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
