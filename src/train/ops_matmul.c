/* ops_matmul.c: matmul (with transposes) and dense (x*w + bias over the last axis) on top of the
 * packed gemm, plus the internal dense with a fused ReLU/ReLU6 (clamped in the gemm's store)
 * and the gradient mask its backward and conv2d's share. Backward reuses the same gemm with the
 * transposes swapped, writing straight into the gradient buffer on the first contribution and
 * accumulating afterwards. */
#include <math.h>
#include <string.h>

#include "train/train.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Gradients of C = op(A) op(B), with A stored [M,K] (or [K,M] when ta), B [K,N] (or [N,K]).
 *   dA = dC op(B)^T          (stored [M,K])   or  op(B) dC^T   (stored [K,M] when ta)
 *   dB = op(A)^T dC          (stored [K,N])   or  dC^T op(A)   (stored [N,K] when tb) */
static tc_status matmul_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  tc_tensor *a = nd->in[0], *b = nd->in[1];
  int ta = nd->i[0], tb = nd->i[1], M = nd->i[2], N = nd->i[3], K = nd->i[4];
  int lda = a->dims[1], ldb = b->dims[1];
  tc_status st = TC_OK;
  int fresh;
  if (tc__needs_grad(a)) {
    float *da = tc__tr_grad_raw(ctx, a, &fresh);
    if (!da) return TC_ERR_NOMEM;
    if (!ta)
      st = tc__tr_gemm(ctx, M, K, N, g, N, 0, tc__f(b), ldb, !tb, da, K, !fresh, NULL);
    else
      st = tc__tr_gemm(ctx, K, M, N, tc__f(b), ldb, tb, g, N, 1, da, M, !fresh, NULL);
    if (st) return st;
  }
  if (tc__needs_grad(b)) {
    float *db = tc__tr_grad_raw(ctx, b, &fresh);
    if (!db) return TC_ERR_NOMEM;
    if (!tb)
      st = tc__tr_gemm(ctx, K, N, M, tc__f(a), lda, !ta, g, N, 0, db, N, !fresh, NULL);
    else
      st = tc__tr_gemm(ctx, N, K, M, g, N, 1, tc__f(a), lda, ta, db, K, !fresh, NULL);
  }
  return st;
}

tc_status tc_matmul(tc_train_ctx *ctx, const tc_tensor *a, const tc_tensor *b, int transpose_a,
                    int transpose_b, tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  tc_status st;
  if ((st = tc__tr_check(ctx, "matmul", "a", a, TC_DTYPE_F32))) return st;
  if ((st = tc__tr_check(ctx, "matmul", "b", b, TC_DTYPE_F32))) return st;
  char sa[96], sb[96];
  if (a->rank != 2 || b->rank != 2)
    return tc__tr_err(ctx, TC_ERR_ARG, "matmul: operands must be rank 2, got a %s and b %s",
                   tc__tr_shape(a, sa, sizeof sa), tc__tr_shape(b, sb, sizeof sb));
  int ta = transpose_a != 0, tb = transpose_b != 0;
  int M = ta ? a->dims[1] : a->dims[0], K = ta ? a->dims[0] : a->dims[1];
  int Kb = tb ? b->dims[1] : b->dims[0], N = tb ? b->dims[0] : b->dims[1];
  if (K != Kb)
    return tc__tr_err(ctx, TC_ERR_ARG,
                   "matmul: inner dimensions differ: a %s%s has %d, b %s%s has %d",
                   tc__tr_shape(a, sa, sizeof sa), ta ? " (transposed)" : "", K,
                   tc__tr_shape(b, sb, sizeof sb), tb ? " (transposed)" : "", Kb);
  int32_t od[2] = {M, N};
  tc_tensor *c;
  if ((st = tc__tr_new(ctx, TC_DTYPE_F32, 2, od, 0, &c))) return st;
  st = tc__tr_gemm(ctx, M, N, K, tc__f(a), a->dims[1], ta, tc__f(b), b->dims[1], tb, tc__f(c), N, 0,
                NULL);
  if (st) return st;
  if (tc__want_node(ctx, a, b, NULL)) {
    const tc_tensor *in[2] = {a, b};
    tc__node *nd = tc__tr_record(ctx, "matmul", matmul_backward, c, 2, in);
    if (!nd) return TC_ERR_NOMEM;
    nd->i[0] = ta;
    nd->i[1] = tb;
    nd->i[2] = M;
    nd->i[3] = N;
    nd->i[4] = K;
  }
  *out = c;
  return TC_OK;
}

/* Adds the column sums of g [rows, n] into acc [n]. */
static void col_sums(const float *g, size_t rows, size_t n, float *acc) {
  for (size_t r = 0; r < rows; r++, g += n)
    for (size_t j = 0; j < n; j++) acc[j] += g[j];
}

/* ---- fused activation mask ---- */
typedef struct mask_job {
  const float *y, *g;
  float *out;
  size_t n;
  int relu6;
} mask_job;

enum { MASK_CHUNK = 16 * 1024 };

static void mask_range(const mask_job *j, size_t a, size_t b) {
  const float *y = j->y, *g = j->g;
  float *o = j->out;
  size_t i = a;
#if defined(__SSE2__)
  const __m128 zero = _mm_setzero_ps(), six = _mm_set1_ps(6.0f);
  if (j->relu6) {
    for (; i + 4 <= b; i += 4) {
      __m128 yv = _mm_loadu_ps(y + i);
      __m128 m = _mm_and_ps(_mm_cmpgt_ps(yv, zero), _mm_cmplt_ps(yv, six));
      _mm_storeu_ps(o + i, _mm_and_ps(m, _mm_loadu_ps(g + i)));
    }
  } else {
    for (; i + 4 <= b; i += 4)
      _mm_storeu_ps(o + i, _mm_and_ps(_mm_cmpgt_ps(_mm_loadu_ps(y + i), zero),
                                      _mm_loadu_ps(g + i)));
  }
#endif
  if (j->relu6)
    for (; i < b; i++) o[i] = (y[i] > 0 && y[i] < 6) ? g[i] : 0.0f;
  else
    for (; i < b; i++) o[i] = y[i] > 0 ? g[i] : 0.0f;
}

static void mask_task(void *arg, size_t task, int thread) {
  (void)thread;
  const mask_job *j = arg;
  size_t a = task * MASK_CHUNK;
  mask_range(j, a, TC_MIN(j->n, a + MASK_CHUNK));
}

const float *tc__tr_act_mask(tc_train_ctx *ctx, tc__fused_act act, const float *y,
                             const float *g, size_t n) {
  if (act == TC__ACT_NONE || n == 0) return g;
  float *o = tc__tr_alloc(ctx, n * sizeof(float));
  if (!o) return NULL;
  mask_job j = {y, g, o, n, act == TC__ACT_RELU6};
  size_t n_tasks = (n + MASK_CHUNK - 1) / MASK_CHUNK;
  if (ctx->pool && ctx->n_threads > 1 && n_tasks > 2)
    tc_threadpool_parallel_for(ctx->pool, n_tasks, mask_task, &j);
  else
    mask_range(&j, 0, n);
  return o;
}

static void act_bounds(tc__fused_act act, float *lo, float *hi) {
  *lo = act == TC__ACT_NONE ? -INFINITY : 0.0f;
  *hi = act == TC__ACT_RELU6 ? 6.0f : INFINITY;
}

static tc_status dense_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  tc_tensor *x = nd->in[0], *w = nd->in[1], *bias = nd->in[2];
  int R = nd->i[0], K = nd->i[1], M = nd->i[2];
  int fresh;
  tc_status st;
  g = tc__tr_act_mask(ctx, (tc__fused_act)nd->i[3], tc__f(nd->out), g, (size_t)R * M);
  if (!g) return TC_ERR_NOMEM;
  if (tc__needs_grad(x)) {
    float *dx = tc__tr_grad_raw(ctx, x, &fresh);
    if (!dx) return TC_ERR_NOMEM;
    if ((st = tc__tr_gemm(ctx, R, K, M, g, M, 0, tc__f(w), M, 1, dx, K, !fresh, NULL))) return st;
  }
  if (tc__needs_grad(w)) {
    float *dw = tc__tr_grad_raw(ctx, w, &fresh);
    if (!dw) return TC_ERR_NOMEM;
    if ((st = tc__tr_gemm(ctx, K, M, R, tc__f(x), K, 1, g, M, 0, dw, M, !fresh, NULL))) return st;
  }
  if (tc__needs_grad(bias)) {
    float *db = tc__tr_grad(ctx, bias);
    if (!db) return TC_ERR_NOMEM;
    col_sums(g, (size_t)R, (size_t)M, db);
  }
  return TC_OK;
}

tc_status tc_dense(tc_train_ctx *ctx, const tc_tensor *x, const tc_tensor *w,
                   const tc_tensor *bias, tc_tensor **out) {
  return tc__dense_act(ctx, x, w, bias, TC__ACT_NONE, out);
}

tc_status tc__dense_act(tc_train_ctx *ctx, const tc_tensor *x, const tc_tensor *w,
                        const tc_tensor *bias, tc__fused_act act, tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  if ((unsigned)act > TC__ACT_RELU6)
    return tc__tr_err(ctx, TC_ERR_ARG, "dense: unknown fused activation %d", (int)act);
  *out = NULL;
  tc_status st;
  if ((st = tc__tr_check(ctx, "dense", "x", x, TC_DTYPE_F32))) return st;
  if ((st = tc__tr_check(ctx, "dense", "kernel", w, TC_DTYPE_F32))) return st;
  if (bias && (st = tc__tr_check(ctx, "dense", "bias", bias, TC_DTYPE_F32))) return st;
  char sx[96], sw[96];
  if (x->rank < 1 || w->rank != 2 || x->dims[x->rank - 1] != w->dims[0])
    return tc__tr_err(ctx, TC_ERR_ARG,
                   "dense: input %s does not match kernel %s (want x [..., K], kernel [K, M])",
                   tc__tr_shape(x, sx, sizeof sx), tc__tr_shape(w, sw, sizeof sw));
  int K = w->dims[0], M = w->dims[1];
  if (bias && (bias->rank != 1 || bias->dims[0] != M))
    return tc__tr_err(ctx, TC_ERR_ARG, "dense: bias %s does not match kernel %s (want [%d])",
                   tc__tr_shape(bias, sx, sizeof sx), tc__tr_shape(w, sw, sizeof sw), M);
  int32_t od[TC_MAX_DIMS];
  memcpy(od, x->dims, sizeof od);
  od[x->rank - 1] = M;
  int R = (int)(x->size / (size_t)K);
  tc_tensor *y;
  if ((st = tc__tr_new(ctx, TC_DTYPE_F32, x->rank, od, 0, &y))) return st;
  float lo, hi;
  act_bounds(act, &lo, &hi);
  st = tc__tr_gemm_act(ctx, R, M, K, tc__f(x), K, 0, tc__f(w), M, 0, tc__f(y), M, 0,
                       bias ? tc__f(bias) : NULL, lo, hi);
  if (st) return st;
  if (tc__want_node(ctx, x, w, bias)) {
    const tc_tensor *in[3] = {x, w, bias};
    static const char *const names[] = {"dense", "dense_relu", "dense_relu6"};
    tc__node *nd = tc__tr_record(ctx, names[act], dense_backward, y, 3, in);
    if (!nd) return TC_ERR_NOMEM;
    nd->i[0] = R;
    nd->i[1] = K;
    nd->i[2] = M;
    nd->i[3] = (int)act;
  }
  *out = y;
  return TC_OK;
}
