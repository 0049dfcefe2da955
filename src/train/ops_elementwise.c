/* ops_elementwise.c: differentiable elementwise ops: binary ops with numpy/TFLite broadcasting
 * (add, sub, mul, div, maximum, minimum), scalar ops, unary math and activations. Broadcasting
 * walks the output with a multi-index and per-operand strides (0 along broadcast dims); the
 * innermost dimension is a tight loop specialised for the stride patterns that occur (equal
 * shapes, a bias row, a scalar). Backward reduces the output gradient back onto each input's
 * shape (tc__tr_reduce_to). */
#include <math.h>
#include <string.h>

#include "train/train.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* ==== broadcasting helpers ==== */

int tc__tr_broadcast_shape(const tc_tensor *a, const tc_tensor *b, int32_t *out_dims,
                        int *out_rank) {
  int r = TC_MAX(a->rank, b->rank);
  for (int i = 0; i < r; i++) {
    int ia = i - (r - a->rank), ib = i - (r - b->rank);
    int32_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
    if (da != db && da != 1 && db != 1) return 0;
    out_dims[i] = da == 1 ? db : da;
  }
  *out_rank = r;
  return 1;
}

/* Element strides of t viewed in the r-dim output shape; 0 along broadcast or missing dims. */
static void bstrides(const tc_tensor *t, int r, size_t *st) {
  size_t s = 1;
  for (int i = r - 1; i >= 0; i--) {
    int ti = i - (r - t->rank);
    if (ti < 0 || t->dims[ti] == 1) {
      st[i] = 0;
    } else {
      st[i] = s;
    }
    if (ti >= 0) s *= (size_t)t->dims[ti];
  }
}

/* Advances a multi-index over dims [0, r-1) (the last dim is the inner loop) and the operand
 * offsets along with it. */
static inline void bnext(int r, const int32_t *od, int32_t *idx, size_t *oa, const size_t *sa,
                         size_t *ob, const size_t *sb) {
  for (int d = r - 2; d >= 0; d--) {
    idx[d]++;
    *oa += sa[d];
    if (ob) *ob += sb[d];
    if (idx[d] < od[d]) return;
    *oa -= sa[d] * (size_t)od[d];
    if (ob) *ob -= sb[d] * (size_t)od[d];
    idx[d] = 0;
  }
}

void tc__tr_reduce_to(const float *g, int out_rank, const int32_t *out_dims, const tc_tensor *t,
                   float *acc) {
  size_t total = 1;
  for (int i = 0; i < out_rank; i++) total *= (size_t)out_dims[i];
  if (total == t->size) {
    for (size_t i = 0; i < total; i++) acc[i] += g[i];
    return;
  }
  if (t->size == 1) {
    double s = 0;
    for (size_t i = 0; i < total; i++) s += g[i];
    acc[0] += (float)s;
    return;
  }
  size_t st[TC_MAX_DIMS];
  int32_t idx[TC_MAX_DIMS] = {0};
  bstrides(t, out_rank, st);
  size_t inner = (size_t)out_dims[out_rank - 1], outer = total / inner, off = 0;
  size_t si = st[out_rank - 1];
  for (size_t o = 0; o < outer; o++, g += inner) {
    if (si) {
      float *a = acc + off;
      for (size_t j = 0; j < inner; j++) a[j] += g[j];
    } else {
      float s = 0;
      for (size_t j = 0; j < inner; j++) s += g[j];
      acc[off] += s;
    }
    bnext(out_rank, out_dims, idx, &off, st, NULL, NULL);
  }
}

/* ==== binary ops ==== */

enum { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN };
static const char *const bin_names[] = {"add", "sub", "mul", "div", "maximum", "minimum"};

#define BIN_LOOP(EXPR)                                                                      \
  do {                                                                                      \
    if (sa == 1 && sb == 1)                                                                 \
      for (size_t j = 0; j < n; j++) { float x = a[j], y = b[j]; o[j] = (EXPR); }           \
    else if (sa == 1)                                                                       \
      for (size_t j = 0; j < n; j++) { float x = a[j], y = b[0]; o[j] = (EXPR); }           \
    else if (sb == 1)                                                                       \
      for (size_t j = 0; j < n; j++) { float x = a[0], y = b[j]; o[j] = (EXPR); }           \
    else                                                                                    \
      for (size_t j = 0; j < n; j++) { float x = a[0], y = b[0]; o[j] = (EXPR); }           \
  } while (0)

static void bin_row(int op, size_t n, const float *a, size_t sa, const float *b, size_t sb,
                    float *o) {
  switch (op) {
  case B_ADD: BIN_LOOP(x + y); break;
  case B_SUB: BIN_LOOP(x - y); break;
  case B_MUL: BIN_LOOP(x * y); break;
  case B_DIV: BIN_LOOP(x / y); break;
  case B_MAX: BIN_LOOP(x >= y ? x : y); break;
  default: BIN_LOOP(x <= y ? x : y); break;
  }
}

/* Runs a binary row function over the broadcast of a and b into out. */
static void bin_apply(int op, const tc_tensor *a, const tc_tensor *b, tc_tensor *out) {
  const float *pa = tc__f(a), *pb = tc__f(b);
  float *po = tc__f(out);
  int r = out->rank;
  if (a->size == out->size && b->size == out->size) {
    bin_row(op, out->size, pa, 1, pb, 1, po);
    return;
  }
  if (r == 0 || out->size == 1) {
    bin_row(op, 1, pa, 0, pb, 0, po);
    return;
  }
  size_t sa[TC_MAX_DIMS], sb[TC_MAX_DIMS], oa = 0, ob = 0;
  int32_t idx[TC_MAX_DIMS] = {0};
  bstrides(a, r, sa);
  bstrides(b, r, sb);
  size_t inner = (size_t)out->dims[r - 1], outer = out->size / inner;
  for (size_t o = 0; o < outer; o++, po += inner) {
    bin_row(op, inner, pa + oa, sa[r - 1], pb + ob, sb[r - 1], po);
    bnext(r, out->dims, idx, &oa, sa, &ob, sb);
  }
}

/* Gradient for one operand: ga (reduced onto `t`) += reduce(local(g, a, b)). For operands that
 * were not broadcast, no temporary is needed. */
static tc_status bin_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  int op = nd->i[0];
  tc_tensor *a = nd->in[0], *b = nd->in[1], *out = nd->out;
  size_t n = out->size;
  for (int side = 0; side < 2; side++) {
    tc_tensor *t = side ? b : a;
    if (!tc__needs_grad(t)) continue;
    float *acc = tc__tr_grad(ctx, t);
    if (!acc) return TC_ERR_NOMEM;
    if ((op == B_ADD) || (op == B_SUB && side == 0)) {
      tc__tr_reduce_to(g, out->rank, out->dims, t, acc);
      continue;
    }
    /* Local gradient into a full-size temporary, then reduce. */
    float *tmp = tc__tr_alloc(ctx, n * sizeof(float));
    if (!tmp) return TC_ERR_NOMEM;
    tc_tensor tt = *out; /* a view with the output's shape over tmp */
    tt.data = tmp;
    const float *y = tc__f(out);
    if (op == B_SUB) {
      for (size_t i = 0; i < n; i++) tmp[i] = -g[i];
    } else if (op == B_MUL) {
      /* d/da (a*b) = b: broadcast the other operand (max(o, o) == o), times g. */
      const tc_tensor *other = side ? a : b;
      bin_apply(B_MAX, other, other, &tt);
      for (size_t i = 0; i < n; i++) tmp[i] *= g[i];
    } else if (op == B_DIV) {
      /* d/da (a/b) = 1/b; d/db = -(a/b)/b = -y/b. */
      bin_apply(B_MAX, b, b, &tt);
      if (side == 0)
        for (size_t i = 0; i < n; i++) tmp[i] = g[i] / tmp[i];
      else
        for (size_t i = 0; i < n; i++) tmp[i] = -g[i] * y[i] / tmp[i];
    } else {
      /* maximum/minimum: the gradient goes to a where y == a (a wins ties), else to b. */
      bin_apply(B_MAX, a, a, &tt);
      for (size_t i = 0; i < n; i++) {
        int a_wins = tmp[i] == y[i];
        tmp[i] = (side == 0) == a_wins ? g[i] : 0.0f;
      }
    }
    tc__tr_reduce_to(tmp, out->rank, out->dims, t, acc);
  }
  return TC_OK;
}

static tc_status binary(tc_train_ctx *ctx, int op, const tc_tensor *a, const tc_tensor *b,
                        tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  const char *name = bin_names[op];
  tc_status st;
  if ((st = tc__tr_check(ctx, name, "a", a, TC_DTYPE_F32))) return st;
  if ((st = tc__tr_check(ctx, name, "b", b, TC_DTYPE_F32))) return st;
  int32_t od[TC_MAX_DIMS];
  int r;
  if (!tc__tr_broadcast_shape(a, b, od, &r)) {
    char sa[96], sb[96];
    return tc__tr_err(ctx, TC_ERR_ARG, "%s: shapes %s and %s do not broadcast", name,
                   tc__tr_shape(a, sa, sizeof sa), tc__tr_shape(b, sb, sizeof sb));
  }
  tc_tensor *o;
  if ((st = tc__tr_new(ctx, TC_DTYPE_F32, r, od, 0, &o))) return st;
  bin_apply(op, a, b, o);
  if (tc__want_node(ctx, a, b, NULL)) {
    const tc_tensor *in[2] = {a, b};
    tc__node *nd = tc__tr_record(ctx, name, bin_backward, o, 2, in);
    if (!nd) return TC_ERR_NOMEM;
    nd->i[0] = op;
  }
  *out = o;
  return TC_OK;
}

tc_status tc_add(tc_train_ctx *c, const tc_tensor *a, const tc_tensor *b, tc_tensor **o) {
  return binary(c, B_ADD, a, b, o);
}
tc_status tc_sub(tc_train_ctx *c, const tc_tensor *a, const tc_tensor *b, tc_tensor **o) {
  return binary(c, B_SUB, a, b, o);
}
tc_status tc_mul(tc_train_ctx *c, const tc_tensor *a, const tc_tensor *b, tc_tensor **o) {
  return binary(c, B_MUL, a, b, o);
}
tc_status tc_div(tc_train_ctx *c, const tc_tensor *a, const tc_tensor *b, tc_tensor **o) {
  return binary(c, B_DIV, a, b, o);
}
tc_status tc_maximum(tc_train_ctx *c, const tc_tensor *a, const tc_tensor *b, tc_tensor **o) {
  return binary(c, B_MAX, a, b, o);
}
tc_status tc_minimum(tc_train_ctx *c, const tc_tensor *a, const tc_tensor *b, tc_tensor **o) {
  return binary(c, B_MIN, a, b, o);
}

/* ==== unary ops ==== */

enum {
  U_NEG, U_ABS, U_EXP, U_LOG, U_SQRT, U_SQUARE, U_RELU, U_RELU6, U_LEAKY, U_SIGMOID, U_TANH,
  U_GELU, U_GELU_TANH, U_ADDS, U_MULS, U_POWS, U_CLIP
};
static const char *const un_names[] = {"neg",  "abs",     "exp",  "log",       "sqrt",
                                       "square", "relu",  "relu6", "leaky_relu", "sigmoid",
                                       "tanh", "gelu",    "gelu", "add_scalar", "mul_scalar",
                                       "pow_scalar", "clip"};

#define TC__SQRT_2_OVER_PI 0.7978845608028654f
#define TC__INV_SQRT_2PI 0.3989422804014327f

static inline float sigmoidf(float x) {
  if (x >= 0) return 1.0f / (1.0f + expf(-x));
  float e = expf(x);
  return e / (1.0f + e);
}

/* ---- relu fast path: SSE loops split over the context's thread pool (each element's result
 * is independent of the split). The forward is max(x, 0), which like the scalar x > 0 ? x : 0
 * gives +0 for NaN, -0 and negative x. The backward overwrites a fresh gradient buffer instead
 * of zero-filling it first. */

enum { RELU_CHUNK = 16384 }; /* elements per task */

typedef struct relu_job {
  const float *x, *g;
  float *y;
  size_t n;
  int mode; /* 0: y = relu(x); 1: y = x > 0 ? g : 0; 2: y += x > 0 ? g : 0 */
} relu_job;

static void relu_range(const relu_job *j, size_t a, size_t b) {
  const float *x = j->x, *g = j->g;
  float *y = j->y;
  size_t i = a;
#if defined(__SSE2__)
  const __m128 z = _mm_setzero_ps();
  if (j->mode == 0) {
    for (; i + 8 <= b; i += 8) {
      _mm_storeu_ps(y + i, _mm_max_ps(_mm_loadu_ps(x + i), z));
      _mm_storeu_ps(y + i + 4, _mm_max_ps(_mm_loadu_ps(x + i + 4), z));
    }
  } else if (j->mode == 1) {
    for (; i + 4 <= b; i += 4)
      _mm_storeu_ps(y + i, _mm_and_ps(_mm_cmpgt_ps(_mm_loadu_ps(x + i), z), _mm_loadu_ps(g + i)));
  } else {
    for (; i + 4 <= b; i += 4) {
      __m128 d = _mm_and_ps(_mm_cmpgt_ps(_mm_loadu_ps(x + i), z), _mm_loadu_ps(g + i));
      _mm_storeu_ps(y + i, _mm_add_ps(_mm_loadu_ps(y + i), d));
    }
  }
#endif
  for (; i < b; i++) {
    float d = x[i] > 0 ? (j->mode ? g[i] : x[i]) : 0.0f;
    y[i] = j->mode == 2 ? y[i] + d : d;
  }
}

static void relu_task(void *arg, size_t task, int thread) {
  (void)thread;
  const relu_job *j = arg;
  size_t a = task * RELU_CHUNK, b = TC_MIN(j->n, a + RELU_CHUNK);
  relu_range(j, a, b);
}

static void relu_run(tc_train_ctx *ctx, relu_job *j) {
  size_t n_tasks = (j->n + RELU_CHUNK - 1) / RELU_CHUNK;
  if (ctx->pool && ctx->n_threads > 1 && n_tasks > 1)
    tc_threadpool_parallel_for(ctx->pool, n_tasks, relu_task, j);
  else
    relu_range(j, 0, j->n);
}

static void un_forward(int op, float p0, float p1, size_t n, const float *x, float *y) {
  switch (op) {
  case U_NEG: for (size_t i = 0; i < n; i++) y[i] = -x[i]; break;
  case U_ABS: for (size_t i = 0; i < n; i++) y[i] = fabsf(x[i]); break;
  case U_EXP: for (size_t i = 0; i < n; i++) y[i] = expf(x[i]); break;
  case U_LOG: for (size_t i = 0; i < n; i++) y[i] = logf(x[i]); break;
  case U_SQRT: for (size_t i = 0; i < n; i++) y[i] = sqrtf(x[i]); break;
  case U_SQUARE: for (size_t i = 0; i < n; i++) y[i] = x[i] * x[i]; break;
  case U_RELU: for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : 0.0f; break;
  case U_RELU6:
    for (size_t i = 0; i < n; i++) y[i] = x[i] < 0 ? 0.0f : (x[i] > 6 ? 6.0f : x[i]);
    break;
  case U_LEAKY: for (size_t i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : p0 * x[i]; break;
  case U_SIGMOID: for (size_t i = 0; i < n; i++) y[i] = sigmoidf(x[i]); break;
  case U_TANH: for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]); break;
  case U_GELU:
    for (size_t i = 0; i < n; i++) y[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678f));
    break;
  case U_GELU_TANH:
    for (size_t i = 0; i < n; i++) {
      float v = x[i], u = TC__SQRT_2_OVER_PI * (v + 0.044715f * v * v * v);
      y[i] = 0.5f * v * (1.0f + tanhf(u));
    }
    break;
  case U_ADDS: for (size_t i = 0; i < n; i++) y[i] = x[i] + p0; break;
  case U_MULS: for (size_t i = 0; i < n; i++) y[i] = x[i] * p0; break;
  case U_POWS: for (size_t i = 0; i < n; i++) y[i] = powf(x[i], p0); break;
  default:
    for (size_t i = 0; i < n; i++) y[i] = x[i] < p0 ? p0 : (x[i] > p1 ? p1 : x[i]);
    break;
  }
}

/* dx += dy * f'(x) with y = f(x) available. */
static tc_status un_backward(tc_train_ctx *ctx, tc__node *nd, const float *g) {
  tc_tensor *xt = nd->in[0];
  if (nd->i[0] == U_RELU) {
    int fresh;
    float *d = tc__tr_grad_raw(ctx, xt, &fresh);
    if (!d) return TC_ERR_NOMEM;
    relu_job j = {tc__f(xt), g, d, xt->size, fresh ? 1 : 2};
    relu_run(ctx, &j);
    return TC_OK;
  }
  float *dx = tc__tr_grad(ctx, xt);
  if (!dx) return TC_ERR_NOMEM;
  const float *x = tc__f(xt), *y = tc__f(nd->out);
  float p0 = nd->f[0], p1 = nd->f[1];
  size_t n = xt->size;
  switch (nd->i[0]) {
  case U_NEG: for (size_t i = 0; i < n; i++) dx[i] -= g[i]; break;
  case U_ABS:
    for (size_t i = 0; i < n; i++) dx[i] += x[i] > 0 ? g[i] : (x[i] < 0 ? -g[i] : 0.0f);
    break;
  case U_EXP: for (size_t i = 0; i < n; i++) dx[i] += g[i] * y[i]; break;
  case U_LOG: for (size_t i = 0; i < n; i++) dx[i] += g[i] / x[i]; break;
  case U_SQRT: for (size_t i = 0; i < n; i++) dx[i] += g[i] * 0.5f / y[i]; break;
  case U_SQUARE: for (size_t i = 0; i < n; i++) dx[i] += 2.0f * g[i] * x[i]; break;
  case U_RELU: for (size_t i = 0; i < n; i++) dx[i] += x[i] > 0 ? g[i] : 0.0f; break;
  case U_RELU6:
    for (size_t i = 0; i < n; i++) dx[i] += (x[i] > 0 && x[i] < 6) ? g[i] : 0.0f;
    break;
  case U_LEAKY: for (size_t i = 0; i < n; i++) dx[i] += x[i] > 0 ? g[i] : p0 * g[i]; break;
  case U_SIGMOID: for (size_t i = 0; i < n; i++) dx[i] += g[i] * y[i] * (1.0f - y[i]); break;
  case U_TANH: for (size_t i = 0; i < n; i++) dx[i] += g[i] * (1.0f - y[i] * y[i]); break;
  case U_GELU:
    for (size_t i = 0; i < n; i++) {
      float v = x[i];
      float cdf = 0.5f * (1.0f + erff(v * 0.70710678f));
      dx[i] += g[i] * (cdf + v * TC__INV_SQRT_2PI * expf(-0.5f * v * v));
    }
    break;
  case U_GELU_TANH:
    for (size_t i = 0; i < n; i++) {
      float v = x[i], u = TC__SQRT_2_OVER_PI * (v + 0.044715f * v * v * v), t = tanhf(u);
      float du = TC__SQRT_2_OVER_PI * (1.0f + 3.0f * 0.044715f * v * v);
      dx[i] += g[i] * (0.5f * (1.0f + t) + 0.5f * v * (1.0f - t * t) * du);
    }
    break;
  case U_ADDS: for (size_t i = 0; i < n; i++) dx[i] += g[i]; break;
  case U_MULS: for (size_t i = 0; i < n; i++) dx[i] += g[i] * p0; break;
  case U_POWS:
    for (size_t i = 0; i < n; i++) dx[i] += g[i] * p0 * powf(x[i], p0 - 1.0f);
    break;
  default:
    for (size_t i = 0; i < n; i++) dx[i] += (x[i] >= p0 && x[i] <= p1) ? g[i] : 0.0f;
    break;
  }
  return TC_OK;
}

static tc_status unary(tc_train_ctx *ctx, int op, const tc_tensor *x, float p0, float p1,
                       tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  tc_status st = tc__tr_check(ctx, un_names[op], "x", x, TC_DTYPE_F32);
  if (st) return st;
  tc_tensor *y;
  if ((st = tc__tr_new_like(ctx, x, 0, &y))) return st;
  if (op == U_RELU) {
    relu_job j = {tc__f(x), NULL, tc__f(y), x->size, 0};
    relu_run(ctx, &j);
  } else {
    un_forward(op, p0, p1, x->size, tc__f(x), tc__f(y));
  }
  if (tc__want_node(ctx, x, NULL, NULL)) {
    tc__node *nd = tc__tr_record(ctx, un_names[op], un_backward, y, 1, &x);
    if (!nd) return TC_ERR_NOMEM;
    nd->i[0] = op;
    nd->f[0] = p0;
    nd->f[1] = p1;
  }
  *out = y;
  return TC_OK;
}

tc_status tc_neg(tc_train_ctx *c, const tc_tensor *x, tc_tensor **o) {
  return unary(c, U_NEG, x, 0, 0, o);
}
tc_status tc_abs(tc_train_ctx *c, const tc_tensor *x, tc_tensor **o) {
  return unary(c, U_ABS, x, 0, 0, o);
}
tc_status tc_exp(tc_train_ctx *c, const tc_tensor *x, tc_tensor **o) {
  return unary(c, U_EXP, x, 0, 0, o);
}
tc_status tc_log(tc_train_ctx *c, const tc_tensor *x, tc_tensor **o) {
  return unary(c, U_LOG, x, 0, 0, o);
}
tc_status tc_sqrt(tc_train_ctx *c, const tc_tensor *x, tc_tensor **o) {
  return unary(c, U_SQRT, x, 0, 0, o);
}
tc_status tc_square(tc_train_ctx *c, const tc_tensor *x, tc_tensor **o) {
  return unary(c, U_SQUARE, x, 0, 0, o);
}
tc_status tc_relu(tc_train_ctx *c, const tc_tensor *x, tc_tensor **o) {
  return unary(c, U_RELU, x, 0, 0, o);
}
tc_status tc_relu6(tc_train_ctx *c, const tc_tensor *x, tc_tensor **o) {
  return unary(c, U_RELU6, x, 0, 0, o);
}
tc_status tc_leaky_relu(tc_train_ctx *c, const tc_tensor *x, float alpha, tc_tensor **o) {
  return unary(c, U_LEAKY, x, alpha, 0, o);
}
tc_status tc_sigmoid(tc_train_ctx *c, const tc_tensor *x, tc_tensor **o) {
  return unary(c, U_SIGMOID, x, 0, 0, o);
}
tc_status tc_tanh(tc_train_ctx *c, const tc_tensor *x, tc_tensor **o) {
  return unary(c, U_TANH, x, 0, 0, o);
}
tc_status tc_gelu(tc_train_ctx *c, const tc_tensor *x, int approximate, tc_tensor **o) {
  return unary(c, approximate ? U_GELU_TANH : U_GELU, x, 0, 0, o);
}
tc_status tc_add_scalar(tc_train_ctx *c, const tc_tensor *x, float s, tc_tensor **o) {
  return unary(c, U_ADDS, x, s, 0, o);
}
tc_status tc_mul_scalar(tc_train_ctx *c, const tc_tensor *x, float s, tc_tensor **o) {
  return unary(c, U_MULS, x, s, 0, o);
}
tc_status tc_pow_scalar(tc_train_ctx *c, const tc_tensor *x, float p, tc_tensor **o) {
  return unary(c, U_POWS, x, p, 0, o);
}
tc_status tc_clip(tc_train_ctx *c, const tc_tensor *x, float lo, float hi, tc_tensor **o) {
  if (c && !(lo <= hi)) {
    if (o) *o = NULL;
    return tc__tr_err(c, TC_ERR_ARG, "clip: lo %g > hi %g", (double)lo, (double)hi);
  }
  return unary(c, U_CLIP, x, lo, hi, o);
}
