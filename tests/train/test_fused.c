/* test_fused.c: the internal dense / conv2d with a fused ReLU or ReLU6 (tc__dense_act,
 * tc__conv2d_act). Their outputs and tape gradients must equal, bit for bit, the plain op
 * followed by tc_relu / tc_relu6 (at 1 and 2 threads, with shapes that take the threaded, the
 * K-chunked and the pointwise paths), and their gradients must match central finite
 * differences where the biases put every pre-activation well inside one piece (off, linear,
 * or clipped at 6) so the differences are meaningful. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tc_test.h"
#include "tensorc_train.h"
#include "train/train.h"

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

static float rweight(size_t i) { return (float)sin((double)i * 1.37 + 0.4) + 0.1f; }

typedef struct fcase {
  int conv;            /* 0: dense, 1: conv2d */
  tc_conv_params p;    /* conv only */
  tc__fused_act act;
} fcase;

/* y = act(op(in)) fused (fused = 1) or as the op followed by tc_relu / tc_relu6. */
static tc_status run_op(tc_train_ctx *ctx, const fcase *c, tc_tensor **in, int fused,
                        tc_tensor **y) {
  tc_status st;
  if (fused)
    return c->conv ? tc__conv2d_act(ctx, in[0], in[1], in[2], &c->p, c->act, y)
                   : tc__dense_act(ctx, in[0], in[1], in[2], c->act, y);
  tc_tensor *z;
  st = c->conv ? tc_conv2d(ctx, in[0], in[1], in[2], &c->p, &z)
               : tc_dense(ctx, in[0], in[1], in[2], &z);
  if (st) return st;
  if (c->act == TC__ACT_NONE) {
    *y = z;
    return TC_OK;
  }
  return c->act == TC__ACT_RELU ? tc_relu(ctx, z, y) : tc_relu6(ctx, z, y);
}

/* Output and gradients of L = sum(y * R) into malloc'd buffers (out[0]: y, out[1..3]: grads). */
static int forward_backward(const fcase *c, tc_tensor **in, int fused, int threads,
                            float *out[4], size_t n_out[4]) {
  tc_train_ctx *ctx;
  if (tc_train_ctx_create(1 << 16, 1, &ctx) != TC_OK) return 0;
  int ok = tc_train_ctx_set_threads(ctx, threads) == TC_OK;
  tc_train_ctx_step_reset(ctx);
  tc_tape_start(ctx);
  tc_tensor *y = NULL, *r = NULL, *p = NULL, *loss = NULL, *grads[3] = {0};
  ok = ok && run_op(ctx, c, in, fused, &y) == TC_OK;
  ok = ok && tc_tensor_step(ctx, TC_DTYPE_F32, tc_tensor_rank(y), tc_tensor_dims(y), NULL, &r) ==
                 TC_OK;
  if (ok)
    for (size_t i = 0; i < tc_tensor_size(r); i++) tc_tensor_f32(r)[i] = rweight(i);
  ok = ok && tc_mul(ctx, y, r, &p) == TC_OK && tc_reduce_sum(ctx, p, 0, NULL, 0, &loss) == TC_OK;
  tc_tape_stop(ctx);
  ok = ok && tc_gradient(ctx, loss, 3, in, grads) == TC_OK;
  if (ok) {
    const tc_tensor *src[4] = {y, grads[0], grads[1], grads[2]};
    for (int k = 0; k < 4; k++) {
      n_out[k] = tc_tensor_size(src[k]);
      out[k] = malloc(n_out[k] * sizeof(float));
      memcpy(out[k], tc_tensor_f32_const(src[k]), n_out[k] * sizeof(float));
    }
  } else {
    CHECK_MSG(0, "forward/backward failed: %s", tc_train_ctx_errmsg(ctx));
  }
  tc_train_ctx_destroy(ctx);
  return ok;
}

/* Fused vs unfused, bitwise, at 1 and 2 threads. */
static void check_same(const char *name, const fcase *c, tc_tensor **in) {
  for (int threads = 1; threads <= 2; threads++) {
    float *a[4] = {0}, *b[4] = {0};
    size_t na[4], nb[4];
    if (forward_backward(c, in, 1, threads, a, na) && forward_backward(c, in, 0, threads, b, nb)) {
      static const char *const what[4] = {"output", "d input", "d kernel", "d bias"};
      for (int k = 0; k < 4; k++) {
        CHECK_EQ(na[k], nb[k]);
        size_t bad = 0;
        for (size_t i = 0; i < na[k] && i < nb[k]; i++) bad += a[k][i] != b[k][i];
        CHECK_MSG(bad == 0, "%s, %d threads: %s differs from the unfused op in %zu of %zu", name,
                  threads, what[k], bad, na[k]);
      }
      /* Some outputs are clipped and some pass: the case exercises the mask. */
      size_t zeros = 0;
      for (size_t i = 0; i < na[0]; i++) zeros += a[0][i] == 0.0f;
      if (c->act != TC__ACT_NONE) CHECK(zeros > 0 && zeros < na[0]);
    }
    for (int k = 0; k < 4; k++) {
      free(a[k]);
      free(b[k]);
    }
  }
}

static double loss_of(const fcase *c, tc_tensor **in, int *ok) {
  tc_train_ctx *ctx;
  if (tc_train_ctx_create(1 << 16, 1, &ctx) != TC_OK) {
    *ok = 0;
    return 0;
  }
  tc_tensor *y = NULL;
  double s = 0;
  if (run_op(ctx, c, in, 1, &y) != TC_OK) {
    *ok = 0;
  } else {
    const float *d = tc_tensor_f32_const(y);
    for (size_t i = 0; i < tc_tensor_size(y); i++) s += (double)d[i] * rweight(i);
  }
  tc_train_ctx_destroy(ctx);
  return s;
}

/* Tape gradients of the fused op against central differences. */
static void check_fd(const char *name, const fcase *c, tc_tensor **in) {
  float *g[4] = {0};
  size_t n[4];
  if (!forward_backward(c, in, 1, 1, g, n)) return;
  int fails = 0;
  const float eps = 1e-2f;
  for (int k = 0; k < 3; k++) {
    float *x = tc_tensor_f32(in[k]);
    size_t sz = tc_tensor_size(in[k]), step = sz > 60 ? sz / 60 : 1;
    for (size_t j = 0; j < sz; j += step) {
      float keep = x[j];
      int ok = 1;
      x[j] = keep + eps;
      double lp = loss_of(c, in, &ok);
      x[j] = keep - eps;
      double lm = loss_of(c, in, &ok);
      x[j] = keep;
      double num = (lp - lm) / (2.0 * (double)eps), a = g[k + 1][j];
      tc_test_checks++;
      if (!ok || !(fabs(num - a) <= 2e-3 + 1e-2 * fmax(fabs(num), fabs(a)))) {
        if (fails++ < 5)
          tc_test_fail(__FILE__, __LINE__, "%s: d/d in%d[%zu]: tape %.6g vs numeric %.6g", name,
                       k, j, a, num);
      }
    }
  }
  for (int k = 0; k < 4; k++) free(g[k]);
}

/* Biases cycling through strongly negative (ReLU off), inside (0, 6) and, for ReLU6, above 6:
 * with small inputs and weights every pre-activation stays inside its piece. */
static void set_bias(tc_tensor *b, tc__fused_act act) {
  float *d = tc_tensor_f32(b);
  for (size_t i = 0; i < tc_tensor_size(b); i++) {
    int r = (int)(i % 3);
    d[i] = r == 0 ? -3.0f : (r == 1 || act != TC__ACT_RELU6 ? 3.0f : 9.0f);
  }
}

static void destroy3(tc_tensor **t) {
  for (int i = 0; i < 3; i++) tc_tensor_destroy(t[i]);
}

TC_TEST(train_fused_dense_matches_unfused) {
  /* Small; larger than the threading threshold; and K > 512 (the clamp comes with the last K
   * chunk). */
  const int shapes[][3] = {{3, 5, 7}, {64, 300, 130}, {40, 700, 50}};
  for (int a = TC__ACT_NONE; a <= TC__ACT_RELU6; a++)
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
      int32_t dx[2] = {shapes[s][0], shapes[s][1]}, dw[2] = {shapes[s][1], shapes[s][2]},
              db[1] = {shapes[s][2]};
      /* Wide ranges so that ReLU6 clips at both ends. */
      tc_tensor *in[3] = {mk(2, dx, -1, 1, 1), mk(2, dw, -0.5f, 0.6f, 2), mk(1, db, -4, 7, 3)};
      fcase c = {0, {1, 1, 1, 1, TC_PADDING_VALID}, (tc__fused_act)a};
      char name[64];
      snprintf(name, sizeof name, "dense act %d shape %zu", a, s);
      check_same(name, &c, in);
      destroy3(in);
    }
}

TC_TEST(train_fused_conv2d_matches_unfused) {
  struct { int n, h, w, cin, cout, kh, kw; tc_conv_params p; } cs[] = {
      {2, 6, 6, 2, 5, 3, 3, {1, 1, 1, 1, TC_PADDING_SAME}},
      {2, 7, 6, 3, 4, 3, 2, {2, 1, 1, 1, TC_PADDING_VALID}},
      {2, 5, 5, 6, 9, 1, 1, {1, 1, 1, 1, TC_PADDING_VALID}}, /* pointwise */
      {4, 28, 28, 1, 32, 3, 3, {1, 1, 1, 1, TC_PADDING_VALID}}, /* threaded, many blocks */
      {2, 13, 13, 32, 64, 3, 3, {1, 1, 1, 1, TC_PADDING_VALID}},  /* K = 288 */
  };
  for (int a = TC__ACT_RELU; a <= TC__ACT_RELU6; a++)
    for (size_t s = 0; s < sizeof cs / sizeof *cs; s++) {
      int32_t dx[4] = {cs[s].n, cs[s].h, cs[s].w, cs[s].cin};
      int32_t df[4] = {cs[s].kh, cs[s].kw, cs[s].cin, cs[s].cout}, db[1] = {cs[s].cout};
      float wr = 2.0f / sqrtf((float)(cs[s].kh * cs[s].kw * cs[s].cin));
      tc_tensor *in[3] = {mk(4, dx, -2, 2, 4), mk(4, df, -wr, wr, 5), mk(1, db, -3, 7, 6)};
      fcase c = {1, cs[s].p, (tc__fused_act)a};
      char name[64];
      snprintf(name, sizeof name, "conv2d act %d case %zu", a, s);
      check_same(name, &c, in);
      destroy3(in);
    }
}

TC_TEST(train_fused_dense_grad_fd) {
  for (int a = TC__ACT_RELU; a <= TC__ACT_RELU6; a++) {
    int32_t dx[2] = {4, 12}, dw[2] = {12, 9}, db[1] = {9};
    tc_tensor *in[3] = {mk(2, dx, -0.3f, 0.3f, 7), mk(2, dw, -0.3f, 0.3f, 8), mk(1, db, 0, 0, 9)};
    set_bias(in[2], (tc__fused_act)a);
    fcase c = {0, {1, 1, 1, 1, TC_PADDING_VALID}, (tc__fused_act)a};
    check_fd(a == TC__ACT_RELU ? "dense relu" : "dense relu6", &c, in);
    destroy3(in);
  }
}

TC_TEST(train_fused_conv2d_grad_fd) {
  struct { int h, w, cin, cout, kh, kw; tc_conv_params p; } cs[] = {
      {5, 5, 2, 6, 3, 3, {1, 1, 1, 1, TC_PADDING_SAME}},
      {6, 5, 2, 3, 3, 2, {2, 2, 1, 1, TC_PADDING_VALID}},
      {4, 4, 3, 6, 1, 1, {1, 1, 1, 1, TC_PADDING_VALID}}, /* pointwise */
  };
  for (int a = TC__ACT_RELU; a <= TC__ACT_RELU6; a++)
    for (size_t s = 0; s < sizeof cs / sizeof *cs; s++) {
      int32_t dx[4] = {2, cs[s].h, cs[s].w, cs[s].cin};
      int32_t df[4] = {cs[s].kh, cs[s].kw, cs[s].cin, cs[s].cout}, db[1] = {cs[s].cout};
      tc_tensor *in[3] = {mk(4, dx, -0.2f, 0.2f, 10), mk(4, df, -0.2f, 0.2f, 11),
                          mk(1, db, 0, 0, 12)};
      set_bias(in[2], (tc__fused_act)a);
      fcase c = {1, cs[s].p, (tc__fused_act)a};
      char name[64];
      snprintf(name, sizeof name, "conv2d act %d case %zu", a, s);
      check_fd(name, &c, in);
      destroy3(in);
    }
}

TC_TEST(train_fused_bad_act) {
  tc_train_ctx *ctx;
  CHECK(tc_train_ctx_create(1 << 12, 1, &ctx) == TC_OK);
  int32_t dx[2] = {2, 3}, dw[2] = {3, 4};
  tc_tensor *x = mk(2, dx, -1, 1, 1), *w = mk(2, dw, -1, 1, 2), *y = NULL;
  CHECK(tc__dense_act(ctx, x, w, NULL, (tc__fused_act)7, &y) == TC_ERR_ARG);
  CHECK(y == NULL);
  CHECK(strstr(tc_train_ctx_errmsg(ctx), "fused activation") != NULL);
  tc_tensor_destroy(x);
  tc_tensor_destroy(w);
  tc_train_ctx_destroy(ctx);
}
