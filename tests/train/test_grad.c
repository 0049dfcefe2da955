/* test_grad.c: every training op's gradient against central finite differences. The checked
 * function is L = sum(op(inputs) * R) for a fixed pseudo-random R (so every output element
 * matters with a different weight); the analytic gradient comes from the tape, the numeric one
 * from (L(x+eps) - L(x-eps)) / 2eps evaluated in double on the float outputs. Inputs are chosen
 * away from kinks (relu at 0, ties in max) so the finite difference is meaningful. */
#include <math.h>
#include <stdlib.h>

#include "tc_test.h"
#include "tensorc_train.h"

typedef tc_status (*op_fn)(tc_train_ctx *ctx, tc_tensor **in, const void *arg, tc_tensor **out);

static float rweight(size_t i) { return (float)sin((double)i * 1.37 + 0.4) + 0.1f; }

/* Fills with values in [lo, hi] from a small LCG; the values are distinct in practice. */
static void fill(tc_tensor *t, float lo, float hi, unsigned seed) {
  float *d = tc_tensor_f32(t);
  uint32_t s = seed * 2654435761u + 12345u;
  for (size_t i = 0; i < tc_tensor_size(t); i++) {
    s = s * 1664525u + 1013904223u;
    d[i] = lo + (hi - lo) * (float)(s >> 8) / 16777216.0f;
  }
}

static tc_tensor *mk(int rank, const int32_t *dims, float lo, float hi, unsigned seed) {
  tc_tensor *t = NULL;
  if (tc_tensor_create_param(rank, dims, &t) != TC_OK) return NULL;
  fill(t, lo, hi, seed);
  return t;
}

/* L in double, from a forward pass without recording. */
static double eval_loss(tc_train_ctx *ctx, op_fn fn, tc_tensor **in, const void *arg, int *ok) {
  tc_train_ctx_step_reset(ctx);
  tc_tensor *y = NULL;
  if (fn(ctx, in, arg, &y) != TC_OK) {
    *ok = 0;
    return 0;
  }
  const float *d = tc_tensor_f32_const(y);
  double s = 0;
  for (size_t i = 0; i < tc_tensor_size(y); i++) s += (double)d[i] * rweight(i);
  return s;
}

/* Checks d L / d in[k] for every input (at most max_checks elements each, spread evenly). */
static void check_grad(const char *name, op_fn fn, int n_in, tc_tensor **in, const void *arg,
                       float eps, double rtol, double atol, size_t max_checks) {
  tc_train_ctx *ctx;
  CHECK(tc_train_ctx_create(1 << 16, 1, &ctx) == TC_OK);
  tc_train_ctx_step_reset(ctx);
  tc_tape_start(ctx);
  tc_tensor *y = NULL, *r = NULL, *p = NULL, *loss = NULL, *grads[8] = {0};
  tc_status st = fn(ctx, in, arg, &y);
  CHECK_MSG(st == TC_OK, "%s forward: %s", name, tc_train_ctx_errmsg(ctx));
  if (st) goto done;
  CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, tc_tensor_rank(y), tc_tensor_dims(y), NULL, &r) ==
        TC_OK);
  for (size_t i = 0; i < tc_tensor_size(r); i++) tc_tensor_f32(r)[i] = rweight(i);
  CHECK(tc_mul(ctx, y, r, &p) == TC_OK);
  CHECK(tc_reduce_sum(ctx, p, 0, NULL, 0, &loss) == TC_OK);
  tc_tape_stop(ctx);
  st = tc_gradient(ctx, loss, (size_t)n_in, in, grads);
  CHECK_MSG(st == TC_OK, "%s gradient: %s", name, tc_train_ctx_errmsg(ctx));
  if (st) goto done;
  /* Copy the analytic gradients out before the step arena is reused. */
  float *ana[8];
  for (int k = 0; k < n_in; k++) {
    size_t n = tc_tensor_size(in[k]);
    ana[k] = malloc(n * sizeof(float));
    memcpy(ana[k], tc_tensor_f32(grads[k]), n * sizeof(float));
  }
  int fails = 0;
  for (int k = 0; k < n_in; k++) {
    size_t n = tc_tensor_size(in[k]), step = n > max_checks ? n / max_checks : 1;
    float *x = tc_tensor_f32(in[k]);
    for (size_t j = 0; j < n; j += step) {
      float keep = x[j];
      int ok = 1;
      x[j] = keep + eps;
      double lp = eval_loss(ctx, fn, in, arg, &ok);
      x[j] = keep - eps;
      double lm = eval_loss(ctx, fn, in, arg, &ok);
      x[j] = keep;
      double num = (lp - lm) / (2.0 * (double)eps), a = ana[k][j];
      double tol = atol + rtol * fmax(fabs(num), fabs(a));
      tc_test_checks++;
      if (!ok || !(fabs(num - a) <= tol)) {
        if (fails++ < 5)
          tc_test_fail(__FILE__, __LINE__, "%s: d/d in%d[%zu]: tape %.6g vs numeric %.6g", name,
                       k, j, a, num);
      }
    }
    free(ana[k]);
  }
done:
  tc_train_ctx_destroy(ctx);
}

static void destroy_all(int n, tc_tensor **t) {
  for (int i = 0; i < n; i++) tc_tensor_destroy(t[i]);
}

/* ---- elementwise ---- */

typedef struct { int op; } bin_arg;
static tc_status f_bin(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  switch (((const bin_arg *)arg)->op) {
  case 0: return tc_add(c, in[0], in[1], out);
  case 1: return tc_sub(c, in[0], in[1], out);
  case 2: return tc_mul(c, in[0], in[1], out);
  case 3: return tc_div(c, in[0], in[1], out);
  case 4: return tc_maximum(c, in[0], in[1], out);
  default: return tc_minimum(c, in[0], in[1], out);
  }
}

TC_TEST(train_grad_binary_broadcast) {
  struct { int ra; int32_t da[3]; int rb; int32_t db[3]; } shapes[] = {
      {2, {2, 3}, 2, {2, 3}}, {2, {2, 3}, 1, {3}},       {3, {2, 1, 4}, 2, {3, 1}},
      {0, {0}, 2, {2, 2}},    {2, {4, 1}, 2, {1, 3}},    {1, {1}, 3, {2, 2, 2}},
  };
  const char *names[] = {"add", "sub", "mul", "div", "maximum", "minimum"};
  for (int op = 0; op < 6; op++)
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
      tc_tensor *in[2] = {mk(shapes[s].ra, shapes[s].da, -1, 1, 3 + (unsigned)s),
                          mk(shapes[s].rb, shapes[s].db, 0.5f, 2.0f, 11 + (unsigned)s)};
      if (op == 4 || op == 5) fill(in[1], -1, 1, 17 + (unsigned)s);
      bin_arg a = {op};
      char name[64];
      snprintf(name, sizeof name, "%s shape#%zu", names[op], s);
      check_grad(name, f_bin, 2, in, &a, 1e-3f, 2e-2, 2e-3, 64);
      destroy_all(2, in);
    }
}

typedef struct { int op; float p; } un_arg;
static tc_status f_un(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  const un_arg *a = arg;
  switch (a->op) {
  case 0: return tc_neg(c, in[0], out);
  case 1: return tc_abs(c, in[0], out);
  case 2: return tc_exp(c, in[0], out);
  case 3: return tc_log(c, in[0], out);
  case 4: return tc_sqrt(c, in[0], out);
  case 5: return tc_square(c, in[0], out);
  case 6: return tc_relu(c, in[0], out);
  case 7: return tc_relu6(c, in[0], out);
  case 8: return tc_leaky_relu(c, in[0], a->p, out);
  case 9: return tc_sigmoid(c, in[0], out);
  case 10: return tc_tanh(c, in[0], out);
  case 11: return tc_gelu(c, in[0], 0, out);
  case 12: return tc_gelu(c, in[0], 1, out);
  case 13: return tc_add_scalar(c, in[0], a->p, out);
  case 14: return tc_mul_scalar(c, in[0], a->p, out);
  case 15: return tc_pow_scalar(c, in[0], a->p, out);
  default: return tc_clip(c, in[0], -0.5f, 0.5f, out);
  }
}

TC_TEST(train_grad_unary) {
  int32_t d[2] = {3, 5};
  for (int op = 0; op <= 16; op++) {
    int positive = op == 3 || op == 4 || op == 15;
    tc_tensor *in[1] = {mk(2, d, positive ? 0.3f : -3.0f, positive ? 2.0f : 8.0f, 5)};
    /* Keep inputs off the kinks of abs/relu/relu6/leaky/clip (|x - kink| > eps). */
    float *x = tc_tensor_f32(in[0]);
    for (int i = 0; i < 15; i++) {
      if (fabsf(x[i]) < 0.05f) x[i] = 0.3f;
      if (fabsf(x[i] - 6.0f) < 0.05f) x[i] = 5.5f;
      if (fabsf(fabsf(x[i]) - 0.5f) < 0.05f) x[i] *= 1.3f;
    }
    un_arg a = {op, op == 15 ? 2.5f : 0.3f};
    char name[32];
    snprintf(name, sizeof name, "unary#%d", op);
    check_grad(name, f_un, 1, in, &a, 1e-3f, 2e-2, 2e-3, 64);
    destroy_all(1, in);
  }
}

/* ---- matmul / dense ---- */

typedef struct { int ta, tb; } mm_arg;
static tc_status f_mm(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  const mm_arg *a = arg;
  return tc_matmul(c, in[0], in[1], a->ta, a->tb, out);
}

TC_TEST(train_grad_matmul) {
  int M = 7, K = 9, N = 18; /* N spans two 16-wide panels, M two 6-tall tiles */
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) {
      int32_t da[2] = {ta ? K : M, ta ? M : K}, db[2] = {tb ? N : K, tb ? K : N};
      tc_tensor *in[2] = {mk(2, da, -1, 1, 1), mk(2, db, -1, 1, 2)};
      mm_arg a = {ta, tb};
      check_grad(ta ? (tb ? "matmul TT" : "matmul TN") : (tb ? "matmul NT" : "matmul NN"), f_mm,
                 2, in, &a, 1e-2f, 1e-2, 2e-3, 200);
      destroy_all(2, in);
    }
}

static tc_status f_dense(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  return tc_dense(c, in[0], in[1], in[2], out);
}

TC_TEST(train_grad_dense) {
  int32_t dx[3] = {2, 3, 5}, dw[2] = {5, 4}, db[1] = {4};
  tc_tensor *in[3] = {mk(3, dx, -1, 1, 1), mk(2, dw, -1, 1, 2), mk(1, db, -1, 1, 3)};
  check_grad("dense", f_dense, 3, in, NULL, 1e-2f, 1e-2, 2e-3, 100);
  destroy_all(3, in);
}

/* ---- convolution ---- */

typedef struct { tc_conv_params p; int bias; } conv_arg;
static tc_status f_conv(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  const conv_arg *a = arg;
  return tc_conv2d(c, in[0], in[1], a->bias ? in[2] : NULL, &a->p, out);
}
static tc_status f_dw(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  const conv_arg *a = arg;
  return tc_depthwise_conv2d(c, in[0], in[1], a->bias ? in[2] : NULL, &a->p, out);
}

TC_TEST(train_grad_conv2d) {
  struct { int h, w, cin, cout, kh, kw; conv_arg a; } cases[] = {
      {5, 5, 2, 3, 3, 3, {{1, 1, 1, 1, TC_PADDING_VALID}, 1}},
      {6, 5, 2, 3, 3, 2, {{2, 2, 1, 1, TC_PADDING_SAME}, 1}},
      {7, 7, 1, 2, 3, 3, {{1, 1, 2, 2, TC_PADDING_SAME}, 0}},
      {4, 4, 3, 5, 1, 1, {{1, 1, 1, 1, TC_PADDING_VALID}, 1}}, /* pointwise path */
      {6, 7, 2, 2, 2, 3, {{2, 1, 1, 2, TC_PADDING_VALID}, 1}},
      {5, 5, 4, 17, 3, 3, {{2, 2, 1, 1, TC_PADDING_SAME}, 1}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int32_t dx[4] = {2, cases[i].h, cases[i].w, cases[i].cin};
    int32_t df[4] = {cases[i].kh, cases[i].kw, cases[i].cin, cases[i].cout}, db[1] = {cases[i].cout};
    tc_tensor *in[3] = {mk(4, dx, -1, 1, 1), mk(4, df, -1, 1, 2), mk(1, db, -1, 1, 3)};
    char name[32];
    snprintf(name, sizeof name, "conv2d case %zu", i);
    check_grad(name, f_conv, cases[i].a.bias ? 3 : 2, in, &cases[i].a, 1e-2f, 1e-2, 3e-3, 80);
    destroy_all(3, in);
  }
}

TC_TEST(train_grad_depthwise_conv2d) {
  struct { int h, w, c, mult, kh, kw; conv_arg a; } cases[] = {
      {5, 5, 3, 1, 3, 3, {{1, 1, 1, 1, TC_PADDING_VALID}, 1}},
      {6, 5, 2, 2, 3, 3, {{2, 2, 1, 1, TC_PADDING_SAME}, 1}},
      {7, 6, 2, 3, 2, 2, {{1, 2, 2, 1, TC_PADDING_SAME}, 0}},
  };
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    int32_t dx[4] = {2, cases[i].h, cases[i].w, cases[i].c};
    int32_t df[4] = {cases[i].kh, cases[i].kw, cases[i].c, cases[i].mult};
    int32_t db[1] = {cases[i].c * cases[i].mult};
    tc_tensor *in[3] = {mk(4, dx, -1, 1, 1), mk(4, df, -1, 1, 2), mk(1, db, -1, 1, 3)};
    char name[40];
    snprintf(name, sizeof name, "depthwise case %zu", i);
    check_grad(name, f_dw, cases[i].a.bias ? 3 : 2, in, &cases[i].a, 1e-2f, 1e-2, 3e-3, 80);
    destroy_all(3, in);
  }
}

/* ---- pooling ---- */

typedef struct { tc_pool_params p; int kind; } pool_arg;
static tc_status f_pool(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  const pool_arg *a = arg;
  if (a->kind == 0) return tc_max_pool2d(c, in[0], &a->p, out);
  if (a->kind == 1) return tc_avg_pool2d(c, in[0], &a->p, out);
  return tc_global_avg_pool2d(c, in[0], a->kind == 3, out);
}

TC_TEST(train_grad_pool) {
  pool_arg cases[] = {
      {{2, 2, 0, 0, TC_PADDING_VALID}, 0}, {{3, 3, 2, 2, TC_PADDING_SAME}, 0},
      {{2, 3, 1, 2, TC_PADDING_VALID}, 0}, {{2, 2, 0, 0, TC_PADDING_VALID}, 1},
      {{3, 3, 2, 2, TC_PADDING_SAME}, 1},  {{3, 2, 1, 1, TC_PADDING_SAME}, 1},
      {{1, 1, 0, 0, TC_PADDING_VALID}, 2}, {{1, 1, 0, 0, TC_PADDING_VALID}, 3},
  };
  int32_t dx[4] = {2, 5, 6, 3};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    /* Distinct values spaced well above eps so max pooling has no near-ties. */
    tc_tensor *in[1] = {mk(4, dx, 0, 1, 9)};
    float *x = tc_tensor_f32(in[0]);
    for (size_t j = 0; j < tc_tensor_size(in[0]); j++) x[j] = (float)((j * 37) % 180) * 0.01f;
    char name[32];
    snprintf(name, sizeof name, "pool case %zu", i);
    check_grad(name, f_pool, 1, in, &cases[i], 1e-3f, 2e-2, 2e-3, 180);
    destroy_all(1, in);
  }
}

/* ---- reductions ---- */

typedef struct { int kind, n, axes[3], keep; } red_arg;
static tc_status f_red(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  const red_arg *a = arg;
  if (a->kind == 0) return tc_reduce_sum(c, in[0], a->n, a->axes, a->keep, out);
  if (a->kind == 1) return tc_reduce_mean(c, in[0], a->n, a->axes, a->keep, out);
  return tc_reduce_max(c, in[0], a->n, a->axes, a->keep, out);
}

TC_TEST(train_grad_reduce) {
  red_arg cases[] = {
      {0, 1, {1}, 0},     {0, 2, {0, 2}, 1}, {0, 0, {0}, 0},  {0, 1, {-1}, 1}, {0, 2, {0, 1}, 0},
      {1, 1, {1}, 1},     {1, 2, {2, 0}, 0}, {1, 0, {0}, 1},  {2, 1, {1}, 0},  {2, 2, {0, 2}, 1},
      {2, 0, {0}, 0},
  };
  int32_t dx[3] = {3, 4, 5};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    tc_tensor *in[1] = {mk(3, dx, 0, 1, 4)};
    float *x = tc_tensor_f32(in[0]);
    for (size_t j = 0; j < 60; j++) x[j] = (float)((j * 23) % 60) * 0.05f - 1.0f;
    char name[32];
    snprintf(name, sizeof name, "reduce case %zu", i);
    check_grad(name, f_red, 1, in, &cases[i], 1e-3f, 2e-2, 2e-3, 60);
    destroy_all(1, in);
  }
}

/* ---- shape ops ---- */

static tc_status f_reshape(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  int32_t d[2] = {-1, 6};
  tc_tensor *t;
  tc_status st = tc_reshape(c, in[0], 2, d, &t);
  return st ? st : tc_square(c, t, out); /* something non-linear after the view */
}
static tc_status f_transpose(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  int perm[3] = {2, 0, 1};
  return tc_transpose(c, in[0], perm, out);
}
static tc_status f_concat(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  const tc_tensor *xs[3] = {in[0], in[1], in[2]};
  return tc_concat(c, 3, xs, *(const int *)arg, out);
}
static tc_status f_slice(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  int32_t b[3] = {1, 0, 1}, s[3] = {2, -1, 1};
  return tc_slice(c, in[0], b, s, out);
}
static tc_status f_gather(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  int32_t di[2] = {2, 3}, idx[6] = {4, 0, 4, 2, 1, 4};
  tc_tensor *ti;
  tc_status st = tc_tensor_step(c, TC_DTYPE_I32, 2, di, idx, &ti);
  return st ? st : tc_gather(c, in[0], ti, out);
}

TC_TEST(train_grad_shape_ops) {
  int32_t d3[3] = {3, 4, 2};
  tc_tensor *a[1] = {mk(3, d3, -1, 1, 1)};
  check_grad("reshape", f_reshape, 1, a, NULL, 1e-2f, 1e-2, 2e-3, 100);
  check_grad("transpose", f_transpose, 1, a, NULL, 1e-2f, 1e-2, 2e-3, 100);
  check_grad("slice", f_slice, 1, a, NULL, 1e-2f, 1e-2, 2e-3, 100);
  destroy_all(1, a);
  int32_t c0[3] = {2, 3, 2}, c1[3] = {2, 1, 2}, c2[3] = {2, 2, 2};
  tc_tensor *cs[3] = {mk(3, c0, -1, 1, 1), mk(3, c1, -1, 1, 2), mk(3, c2, -1, 1, 3)};
  int axis = 1;
  check_grad("concat axis 1", f_concat, 3, cs, &axis, 1e-2f, 1e-2, 2e-3, 100);
  destroy_all(3, cs);
  int32_t e0[2] = {2, 3}, e1[2] = {1, 3}, e2[2] = {2, 3};
  tc_tensor *es[3] = {mk(2, e0, -1, 1, 1), mk(2, e1, -1, 1, 2), mk(2, e2, -1, 1, 3)};
  axis = -2;
  check_grad("concat axis -2", f_concat, 3, es, &axis, 1e-2f, 1e-2, 2e-3, 100);
  destroy_all(3, es);
  int32_t dp[2] = {5, 3};
  tc_tensor *p[1] = {mk(2, dp, -1, 1, 4)};
  check_grad("gather", f_gather, 1, p, NULL, 1e-2f, 1e-2, 2e-3, 100);
  destroy_all(1, p);
}

/* ---- nn ops ---- */

static tc_status f_softmax(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  return *(const int *)arg ? tc_log_softmax(c, in[0], out) : tc_softmax(c, in[0], out);
}
static tc_status f_dropout(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  tc_train_ctx_seed(c, 42); /* the same mask on every evaluation */
  return tc_dropout(c, in[0], 0.4f, 1, out);
}
static tc_status f_bn(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  int training = *(const int *)arg;
  return tc_batch_norm(c, in[0], in[1], in[2], in[3], in[4], 1e-3f, training, out, NULL, NULL);
}
static tc_status f_xent(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  int32_t dl[1] = {4}, lab[4] = {2, 0, 4, 2};
  tc_tensor *tl;
  tc_status st = tc_tensor_step(c, TC_DTYPE_I32, 1, dl, lab, &tl);
  return st ? st : tc_softmax_xent_sparse(c, in[0], tl, out, NULL);
}

TC_TEST(train_grad_nn_ops) {
  int32_t d[2] = {3, 5};
  tc_tensor *a[1] = {mk(2, d, -2, 2, 1)};
  int logsm = 0;
  check_grad("softmax", f_softmax, 1, a, &logsm, 1e-2f, 1e-2, 2e-3, 100);
  logsm = 1;
  check_grad("log_softmax", f_softmax, 1, a, &logsm, 1e-2f, 1e-2, 2e-3, 100);
  check_grad("dropout", f_dropout, 1, a, NULL, 1e-2f, 1e-2, 2e-3, 100);
  destroy_all(1, a);

  int32_t dx[4] = {2, 3, 2, 3}, dc[1] = {3};
  tc_tensor *bn[5] = {mk(4, dx, -1, 2, 1), mk(1, dc, 0.5f, 1.5f, 2), mk(1, dc, -1, 1, 3),
                      mk(1, dc, -0.5f, 0.5f, 4), mk(1, dc, 0.5f, 2, 5)};
  int training = 1;
  check_grad("batch_norm training", f_bn, 3, bn, &training, 1e-2f, 2e-2, 3e-3, 100);
  training = 0;
  check_grad("batch_norm inference", f_bn, 3, bn, &training, 1e-2f, 1e-2, 2e-3, 100);
  destroy_all(5, bn);

  int32_t dl[2] = {4, 5};
  tc_tensor *l[1] = {mk(2, dl, -2, 2, 6)};
  check_grad("softmax_xent_sparse", f_xent, 1, l, NULL, 1e-2f, 1e-2, 1e-3, 100);
  destroy_all(1, l);
}

/* A small network end to end: dense -> relu -> dense -> xent, all parameters at once. */
static tc_status f_net(tc_train_ctx *c, tc_tensor **in, const void *arg, tc_tensor **out) {
  int32_t dl[1] = {3}, lab[3] = {1, 0, 1};
  tc_tensor *h, *r, *y, *tl;
  tc_status st;
  if ((st = tc_dense(c, in[0], in[1], in[2], &h)) || (st = tc_tanh(c, h, &r)) ||
      (st = tc_dense(c, r, in[3], in[4], &y)) ||
      (st = tc_tensor_step(c, TC_DTYPE_I32, 1, dl, lab, &tl)))
    return st;
  return tc_softmax_xent_sparse(c, y, tl, out, NULL);
}

TC_TEST(train_grad_network) {
  int32_t dx[2] = {3, 4}, dw1[2] = {4, 6}, db1[1] = {6}, dw2[2] = {6, 2}, db2[1] = {2};
  tc_tensor *in[5] = {mk(2, dx, -1, 1, 1), mk(2, dw1, -1, 1, 2), mk(1, db1, -1, 1, 3),
                      mk(2, dw2, -1, 1, 4), mk(1, db2, -1, 1, 5)};
  check_grad("network", f_net, 5, in, NULL, 1e-2f, 1e-2, 1e-3, 100);
  destroy_all(5, in);
}
