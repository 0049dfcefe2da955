/* ops_conv.c: conv2d and depthwise conv2d on NHWC with Keras filter layouts (HWIO and
 * [kh,kw,C,mult]), stride, dilation and TFLite/Keras SAME/VALID padding. conv2d lowers to
 * im2col + the packed gemm, one block of output rows at a time so the column buffer stays in
 * cache; backward computes dW = col^T dY (same blocks) and dX by col2im of dY W^T. A 1x1,
 * stride-1 convolution skips im2col. The internal tc__conv2d_act fuses ReLU/ReLU6 into the
 * gemm's store and masks the gradient by the saved output first in backward. Depthwise conv runs direct loops with the channel loop
 * innermost (contiguous in NHWC, so it vectorises). */
#include <math.h>
#include <string.h>

#include "train/gemm.h"
#include "train/train.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

/* d[i] += s[i] for i < n. */
static inline void add_f(float *d, const float *s, int n) {
  int i = 0;
#if defined(__SSE2__)
  for (; i + 4 <= n; i += 4) _mm_storeu_ps(d + i, _mm_add_ps(_mm_loadu_ps(d + i), _mm_loadu_ps(s + i)));
#endif
  for (; i < n; i++) d[i] += s[i];
}

static void col2im_add(const geo *g, const float *col, int m0, int m1, float *dx) {
  int K = g->kh * g->kw * g->cin, ohw = g->oh * g->ow, C = g->cin, rowlen = g->kw * C;
  for (int m = m0; m < m1; m++) {
    int n = m / ohw, r = m % ohw, oy = r / g->ow, ox = r % g->ow;
    const float *src = col + (size_t)(m - m0) * K;
    int ix0 = ox * g->sw - g->pl;
    int row_inside = g->dw == 1 && ix0 >= 0 && ix0 + g->kw <= g->w;
    for (int ky = 0; ky < g->kh; ky++, src += rowlen) {
      int iy = oy * g->sh - g->pt + ky * g->dh;
      if (iy < 0 || iy >= g->h) continue;
      float *drow = dx + ((size_t)n * g->h + iy) * g->w * C;
      if (row_inside) {
        add_f(drow + (size_t)ix0 * C, src, rowlen);
        continue;
      }
      for (int kx = 0; kx < g->kw; kx++) {
        int ix = ix0 + kx * g->dw;
        if (ix >= 0 && ix < g->w) add_f(drow + (size_t)ix * C, src + kx * C, C);
      }
    }
  }
}

static int is_pointwise(const geo *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0;
}

/* Rows per im2col block: about 96 KiB of columns (the block and the packed filter stay in L2),
 * a multiple of 6 (the AVX2 microkernel's rows). */
static int block_rows(const geo *g, int M) {
  int K = g->kh * g->kw * g->cin;
  int rows = (int)((96u * 1024u) / ((unsigned)K * 4u)) / 6 * 6;
  rows = TC_MAX(rows, 24);
  return TC_MIN(rows, M);
}

static int n_threads(const tc_train_ctx *ctx) { return ctx->pool ? ctx->n_threads : 1; }

/* ---- forward: tasks over blocks of output rows; each packs its rows with im2col into its
 * thread's buffer and runs the microkernel against the packed filter (bias fused). ---- */
typedef struct fwd_job {
  const geo *g;
  const float *x, *packed, *bias;
  float *y, *col;
  size_t col_stride;
  int M, rb;
  tc_f32_gemm_kernel *kr;
  float lo, hi; /* fused activation clamp */
} fwd_job;

static void fwd_task(void *arg, size_t task, int thread) {
  const fwd_job *j = arg;
  int m0 = (int)task * j->rb, m1 = TC_MIN(j->M, m0 + j->rb);
  int K = j->g->kh * j->g->kw * j->g->cin, N = j->g->cout;
  float *col = j->col + (size_t)thread * j->col_stride;
  im2col(j->g, j->x, m0, m1, col);
  tc__tr_gemm_packed_act(j->kr, NULL, (size_t)(m1 - m0), (size_t)N, (size_t)K, col, (size_t)K,
                         j->packed, j->bias, j->y + (size_t)m0 * N, (size_t)N, 0, j->lo, j->hi);
}

/* ---- dW = col^T dY over super-chunks of S output rows. The smaller of col (K wide) and dY
 * (N wide) is transposed into A' [X][S]; the other is packed into microkernel panels B' (k = S
 * rows). Phase 1 (parallel over 64-row pieces) fills A' and B', phase 2 is the blocked product
 * C += A' B' over the pool. C is dW [K][N] when col is transposed, else dW^T [N][K] (added
 * into dW at the end). Each element of C sums its chunks in order: bits independent of the
 * thread count. ---- */
enum { DW_S = 2048, DW_PIECE = 64 };

typedef struct dw_job {
  const geo *g;
  const float *x, *dy;
  float *ap, *bp, *col;
  size_t col_stride;
  int m0, rows, trans_col; /* trans_col: A' = col^T (K <= N), else A' = dY^T */
  tc_f32_gemm_kernel *kr;
} dw_job;

/* Packs rows [r0, r1) of a [rows][n] block (src row r at src + r * lds) as rows r0.. of the
 * panels of an n-column B with k = total rows. */
static void pack_rows(tc_f32_gemm_kernel *kr, const float *src, size_t lds, size_t n, size_t r0,
                      size_t r1, size_t total, float *dst) {
  const size_t nr = (size_t)kr->nr;
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    size_t rem = n - j0, w = rem >= nr ? nr : (rem <= nr / 2 ? nr / 2 : nr), cols = TC_MIN(w, rem);
    float *d = dst + j0 * total;
    for (size_t r = r0; r < r1; r++) {
      const float *sr = src + (r - r0) * lds + j0;
      float *dr = d + r * w;
      if (cols == w) {
        memcpy(dr, sr, w * sizeof(float));
      } else {
        size_t c = 0;
        for (; c < cols; c++) dr[c] = sr[c];
        for (; c < w; c++) dr[c] = 0.0f;
      }
    }
  }
}

static void dw_task(void *arg, size_t task, int thread) {
  const dw_job *j = arg;
  const geo *g = j->g;
  int K = g->kh * g->kw * g->cin, N = g->cout;
  int r0 = (int)task * DW_PIECE, r1 = TC_MIN(j->rows, r0 + DW_PIECE);
  if (r0 >= r1) return;
  float *col = j->col + (size_t)thread * j->col_stride;
  im2col(g, j->x, j->m0 + r0, j->m0 + r1, col);
  const float *dyr = j->dy + (size_t)(j->m0 + r0) * N;
  if (j->trans_col) {
    tc__tr_transpose(col, (size_t)(r1 - r0), (size_t)K, (size_t)K, j->ap + r0, DW_S);
    pack_rows(j->kr, dyr, (size_t)N, (size_t)N, (size_t)r0, (size_t)r1, (size_t)j->rows, j->bp);
  } else {
    tc__tr_transpose(dyr, (size_t)(r1 - r0), (size_t)N, (size_t)N, j->ap + r0, DW_S);
    pack_rows(j->kr, col, (size_t)K, (size_t)K, (size_t)r0, (size_t)r1, (size_t)j->rows, j->bp);
  }
}

static tc_status conv_grad_w(tc_train_ctx *ctx, const geo *g, const float *x, const float *dy,
                             float *dw, int fresh) {
  int M = g->n * g->oh * g->ow, K = g->kh * g->kw * g->cin, N = g->cout, nth = n_threads(ctx);
  tc_f32_gemm_kernel *kr = tc__tr_gemm_kernel();
  int trans_col = K <= N;
  size_t X = (size_t)(trans_col ? K : N), Y = (size_t)(trans_col ? N : K);
  size_t col_stride = TC_ALIGN_UP((size_t)DW_PIECE * K, 16);
  float *col = tc__tr_scratch(ctx, TC__SCRATCH_COL, col_stride * nth * sizeof(float));
  float *ap = tc__tr_scratch(ctx, TC__SCRATCH_PACK_A,
                             (X * DW_S + (trans_col ? 0 : X * Y)) * sizeof(float));
  float *bp = tc__tr_scratch(ctx, TC__SCRATCH_PACK_B, tc__tr_packed_size(kr, Y, DW_S));
  if (!col || !ap || !bp) return TC_ERR_NOMEM;
  float *c = trans_col ? dw : ap + X * DW_S; /* dW^T [N][K] after A' when not transposing col */
  tc_threadpool *pool = nth > 1 ? ctx->pool : NULL;
  for (int m0 = 0; m0 < M; m0 += DW_S) {
    dw_job j = {g, x, dy, ap, bp, col, col_stride, m0, TC_MIN(DW_S, M - m0), trans_col, kr};
    size_t pieces = (size_t)((j.rows + DW_PIECE - 1) / DW_PIECE);
    if (pool && pieces > 1)
      tc_threadpool_parallel_for(pool, pieces, dw_task, &j);
    else
      for (size_t t = 0; t < pieces; t++) dw_task(&j, t, 0);
    int acc = m0 > 0 || (trans_col && !fresh);
    tc__tr_gemm_packed(kr, pool, X, Y, (size_t)j.rows, ap, DW_S, bp, NULL, c, Y, acc);
  }
  if (!trans_col) { /* dW[k][n] (+)= dW^T[n][k] */
    for (int k = 0; k < K; k++)
      for (int n = 0; n < N; n++) {
        float v = c[(size_t)n * K + k];
        dw[(size_t)k * N + n] = fresh ? v : dw[(size_t)k * N + n] + v;
      }
  }
  return TC_OK;
}

/* ---- dX: tasks over images; each computes dcol = dY W^T for blocks of the image's rows into
 * its thread's buffer and scatters it into that image of dX with col2im (images do not
 * overlap, so the order of the adds is fixed). A fresh dX image is zeroed by its task. ---- */
typedef struct dx_job {
  const geo *g;
  const float *dy, *packed_wt;
  float *dx, *col;
  size_t col_stride;
  int rb, fresh;
  tc_f32_gemm_kernel *kr;
} dx_job;

static void dx_task(void *arg, size_t task, int thread) {
  const dx_job *j = arg;
  const geo *g = j->g;
  int K = g->kh * g->kw * g->cin, N = g->cout, ohw = g->oh * g->ow, n = (int)task;
  float *col = j->col + (size_t)thread * j->col_stride;
  size_t img = (size_t)g->h * g->w * g->cin;
  if (j->fresh) memset(j->dx + (size_t)n * img, 0, img * sizeof(float));
  for (int m0 = n * ohw; m0 < (n + 1) * ohw; m0 += j->rb) {
    int m1 = TC_MIN((n + 1) * ohw, m0 + j->rb);
    tc__tr_gemm_packed(j->kr, NULL, (size_t)(m1 - m0), (size_t)K, (size_t)N,
                       j->dy + (size_t)m0 * N, (size_t)N, j->packed_wt, NULL, col, (size_t)K, 0);
    col2im_add(g, col, m0, m1, j->dx);
  }
}

/* db[j] (+)= sum over rows of dy[r][j], rows in order (db stays in L1). */
static void bias_grad(const float *dy, size_t M, size_t N, float *db) {
  for (size_t m = 0; m < M; m++, dy += N) {
    size_t j = 0;
#if defined(__SSE2__)
    for (; j + 4 <= N; j += 4) _mm_storeu_ps(db + j, _mm_add_ps(_mm_loadu_ps(db + j), _mm_loadu_ps(dy + j)));
#endif
    for (; j < N; j++) db[j] += dy[j];
  }
}

static tc_status conv_backward(tc_train_ctx *ctx, tc__node *nd, const float *dy) {
  const geo *g = nd->extra;
  tc_tensor *x = nd->in[0], *f = nd->in[1], *bias = nd->in[2];
  int M = g->n * g->oh * g->ow, K = g->kh * g->kw * g->cin, N = g->cout;
  tc_status st;
  dy = tc__tr_act_mask(ctx, (tc__fused_act)nd->i[0], tc__f(nd->out), dy, (size_t)M * N);
  if (!dy) return TC_ERR_NOMEM;
  if (tc__needs_grad(bias)) {
    float *db = tc__tr_grad(ctx, bias);
    if (!db) return TC_ERR_NOMEM;
    bias_grad(dy, (size_t)M, (size_t)N, db);
  }
  int need_w = tc__needs_grad(f), need_x = tc__needs_grad(x);
  if (!need_w && !need_x) return TC_OK;
  float *dw = NULL, *dx = NULL;
  int fresh_w = 0, fresh_x = 0;
  if (need_w && !(dw = tc__tr_grad_raw(ctx, f, &fresh_w))) return TC_ERR_NOMEM;
  if (need_x && !(dx = tc__tr_grad_raw(ctx, x, &fresh_x))) return TC_ERR_NOMEM;
  if (is_pointwise(g)) {
    if (need_w &&
        (st = tc__tr_gemm(ctx, K, N, M, tc__f(x), K, 1, dy, N, 0, dw, N, !fresh_w, NULL)))
      return st;
    if (need_x &&
        (st = tc__tr_gemm(ctx, M, K, N, dy, N, 0, tc__f(f), N, 1, dx, K, !fresh_x, NULL)))
      return st;
    return TC_OK;
  }
  if (need_w && (st = conv_grad_w(ctx, g, tc__f(x), dy, dw, fresh_w))) return st;
  if (need_x) {
    tc_f32_gemm_kernel *kr = tc__tr_gemm_kernel();
    int nth = n_threads(ctx), rb = block_rows(g, g->oh * g->ow);
    size_t col_stride = TC_ALIGN_UP((size_t)rb * K, 16);
    float *wt = tc__tr_scratch(ctx, TC__SCRATCH_PACK_B, tc__tr_packed_size(kr, (size_t)K, (size_t)N));
    float *col = tc__tr_scratch(ctx, TC__SCRATCH_COL, col_stride * nth * sizeof(float));
    if (!wt || !col) return TC_ERR_NOMEM;
    tc__tr_pack_b(kr, (size_t)K, (size_t)N, tc__f(f), (size_t)N, 1, wt);
    dx_job j = {g, dy, wt, dx, col, col_stride, rb, fresh_x, kr};
    if (nth > 1 && g->n > 1)
      tc_threadpool_parallel_for(ctx->pool, (size_t)g->n, dx_task, &j);
    else
      for (int n = 0; n < g->n; n++) dx_task(&j, (size_t)n, 0);
  }
  return TC_OK;
}

tc_status tc_conv2d(tc_train_ctx *ctx, const tc_tensor *x, const tc_tensor *filter,
                    const tc_tensor *bias, const tc_conv_params *p, tc_tensor **out) {
  return tc__conv2d_act(ctx, x, filter, bias, p, TC__ACT_NONE, out);
}

tc_status tc__conv2d_act(tc_train_ctx *ctx, const tc_tensor *x, const tc_tensor *filter,
                         const tc_tensor *bias, const tc_conv_params *p, tc__fused_act act,
                         tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  if ((unsigned)act > TC__ACT_RELU6)
    return tc__tr_err(ctx, TC_ERR_ARG, "conv2d: unknown fused activation %d", (int)act);
  const float lo = act == TC__ACT_NONE ? -INFINITY : 0.0f;
  const float hi = act == TC__ACT_RELU6 ? 6.0f : INFINITY;
  geo g;
  tc_status st = conv_geo(ctx, "conv2d", x, filter, bias, p, 0, &g);
  if (st) return st;
  int32_t od[4] = {g.n, g.oh, g.ow, g.cout};
  tc_tensor *y;
  if ((st = tc__tr_new(ctx, TC_DTYPE_F32, 4, od, 0, &y))) return st;
  int M = g.n * g.oh * g.ow, K = g.kh * g.kw * g.cin, N = g.cout;
  const float *b = bias ? tc__f(bias) : NULL;
  if (is_pointwise(&g)) {
    st = tc__tr_gemm_act(ctx, M, N, K, tc__f(x), K, 0, tc__f(filter), N, 0, tc__f(y), N, 0, b,
                         lo, hi);
    if (st) return st;
  } else {
    tc_f32_gemm_kernel *kr = tc__tr_gemm_kernel();
    int nth = n_threads(ctx), rb = block_rows(&g, M);
    size_t col_stride = TC_ALIGN_UP((size_t)rb * K, 16);
    float *packed = tc__tr_scratch(ctx, TC__SCRATCH_PACK_B, tc__tr_packed_size(kr, (size_t)N, (size_t)K));
    float *col = tc__tr_scratch(ctx, TC__SCRATCH_COL, col_stride * nth * sizeof(float));
    if (!packed || !col) return TC_ERR_NOMEM;
    tc__tr_pack_b(kr, (size_t)N, (size_t)K, tc__f(filter), (size_t)N, 0, packed);
    fwd_job j = {&g, tc__f(x), packed, b, tc__f(y), col, col_stride, M, rb, kr, lo, hi};
    size_t n_tasks = (size_t)((M + rb - 1) / rb);
    if (nth > 1 && n_tasks > 1)
      tc_threadpool_parallel_for(ctx->pool, n_tasks, fwd_task, &j);
    else
      for (size_t t = 0; t < n_tasks; t++) fwd_task(&j, t, 0);
  }
  if (tc__want_node(ctx, x, filter, bias)) {
    const tc_tensor *in[3] = {x, filter, bias};
    static const char *const names[] = {"conv2d", "conv2d_relu", "conv2d_relu6"};
    tc__node *nd = tc__tr_record(ctx, names[act], conv_backward, y, 3, in);
    if (!nd || !(nd->extra = tc__tr_alloc(ctx, sizeof g))) return TC_ERR_NOMEM;
    geo_save(nd, &g);
    nd->i[0] = (int)act;
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
