/* test_tensor.c: the training tensors and ops in the forward direction: accessors,
 * initializers, the step arena (many steps must not grow memory), hand-computed op values,
 * matmul/conv against naive loops over odd sizes, error messages that name both shapes, and
 * the tape's bookkeeping (no recording when off, accumulation, unrelated parameters). */
#include <math.h>
#include <stdlib.h>

#include "tc_test.h"
#include "tensorc_train.h"

static tc_train_ctx *new_ctx(void) {
  tc_train_ctx *ctx = NULL;
  CHECK(tc_train_ctx_create(0, 1, &ctx) == TC_OK);
  return ctx;
}

static tc_tensor *step_from(tc_train_ctx *ctx, int rank, const int32_t *dims, const float *v) {
  tc_tensor *t = NULL;
  CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, rank, dims, v, &t) == TC_OK);
  return t;
}

static void check_vals(const tc_tensor *t, const float *want, size_t n, double tol) {
  CHECK_EQ(tc_tensor_size(t), n);
  const float *d = tc_tensor_f32_const(t);
  for (size_t i = 0; i < n && d; i++) CHECK_NEAR(d[i], want[i], tol);
}

TC_TEST(train_tensor_basics) {
  int32_t dims[3] = {2, 3, 4};
  tc_tensor *t = NULL;
  CHECK(tc_tensor_create(TC_DTYPE_F32, 3, dims, &t) == TC_OK);
  CHECK_EQ(tc_tensor_rank(t), 3);
  CHECK_EQ(tc_tensor_dim(t, -1), 4);
  CHECK_EQ(tc_tensor_dim(t, 5), 0);
  CHECK_EQ(tc_tensor_size(t), 24);
  CHECK(tc_tensor_i32(t) == NULL);
  CHECK(tc_tensor_f32(t)[23] == 0.0f);
  char buf[32];
  CHECK(strcmp(tc_tensor_shape_str(t, buf, sizeof buf), "[2,3,4]") == 0);
  CHECK(!tc_tensor_trainable(t));
  tc_tensor_destroy(t);
  tc_tensor_destroy(NULL);
  int32_t bad[2] = {2, 0};
  CHECK(tc_tensor_create(TC_DTYPE_F32, 2, bad, &t) == TC_ERR_ARG);
  CHECK(tc_tensor_create(TC_DTYPE_I8, 1, dims, &t) == TC_ERR_ARG);
  CHECK(tc_tensor_create_param(0, NULL, &t) == TC_OK);
  CHECK(tc_tensor_trainable(t));
  CHECK_EQ(tc_tensor_size(t), 1);
  CHECK(strcmp(tc_tensor_shape_str(t, buf, sizeof buf), "[]") == 0);
  tc_tensor_destroy(t);
  int32_t v[3] = {7, 8, 9}, d1[1] = {3};
  CHECK(tc_tensor_create_from(TC_DTYPE_I32, 1, d1, v, &t) == TC_OK);
  CHECK_EQ(tc_tensor_i32(t)[2], 9);
  tc_tensor_destroy(t);
}

TC_TEST(train_tensor_init) {
  int32_t dims[4] = {3, 3, 8, 16};
  tc_tensor *a, *b;
  CHECK(tc_tensor_create(TC_DTYPE_F32, 4, dims, &a) == TC_OK);
  CHECK(tc_tensor_create(TC_DTYPE_F32, 4, dims, &b) == TC_OK);
  CHECK(tc_tensor_init(a, TC_INIT_GLOROT_UNIFORM, 0, 0, 5) == TC_OK);
  CHECK(tc_tensor_init(b, TC_INIT_GLOROT_UNIFORM, 0, 0, 5) == TC_OK);
  CHECK(memcmp(tc_tensor_f32(a), tc_tensor_f32(b), tc_tensor_size(a) * 4) == 0);
  double lim = sqrt(6.0 / (9 * 8 + 9 * 16)), mx = 0, sum = 0;
  for (size_t i = 0; i < tc_tensor_size(a); i++) {
    mx = fmax(mx, fabs(tc_tensor_f32(a)[i]));
    sum += tc_tensor_f32(a)[i];
  }
  CHECK(mx <= lim && mx > 0.9 * lim);
  CHECK(fabs(sum / (double)tc_tensor_size(a)) < 0.05 * lim);
  /* He normal: truncated at 2 stddev, stddev sqrt(2/fan_in) overall. */
  CHECK(tc_tensor_init(a, TC_INIT_HE_NORMAL, 0, 0, 6) == TC_OK);
  double sd = sqrt(2.0 / 72), ss = 0;
  mx = 0;
  for (size_t i = 0; i < tc_tensor_size(a); i++) {
    double x = tc_tensor_f32(a)[i];
    ss += x * x;
    mx = fmax(mx, fabs(x));
  }
  CHECK(mx <= 2.0 * sd / 0.87962566 + 1e-6);
  CHECK_NEAR(sqrt(ss / (double)tc_tensor_size(a)), sd, 0.1 * sd);
  CHECK(tc_tensor_init(a, TC_INIT_CONSTANT, 2.5f, 0, 0) == TC_OK);
  CHECK(tc_tensor_f32(a)[17] == 2.5f);
  CHECK(tc_tensor_init(a, (tc_init)99, 0, 0, 0) == TC_ERR_ARG);
  tc_tensor_destroy(a);
  tc_tensor_destroy(b);
}

/* A full MLP training-like step repeated many times: after warm-up, the context neither grows
 * nor uses more step memory. */
TC_TEST(train_tensor_step_arena_reuse) {
  tc_train_ctx *ctx;
  CHECK(tc_train_ctx_create(4096, 1, &ctx) == TC_OK); /* tiny: forces spills on step 1 */
  int32_t dx[2] = {16, 20}, dw[2] = {20, 10}, db[1] = {10}, dl[1] = {16};
  tc_tensor *x, *w, *b, *lab;
  CHECK(tc_tensor_create(TC_DTYPE_F32, 2, dx, &x) == TC_OK);
  CHECK(tc_tensor_create_param(2, dw, &w) == TC_OK);
  CHECK(tc_tensor_create_param(1, db, &b) == TC_OK);
  CHECK(tc_tensor_create(TC_DTYPE_I32, 1, dl, &lab) == TC_OK);
  tc_tensor_init(x, TC_INIT_UNIFORM, -1, 1, 1);
  tc_tensor_init(w, TC_INIT_GLOROT_UNIFORM, 0, 0, 2);
  for (int i = 0; i < 16; i++) tc_tensor_i32(lab)[i] = i % 10;
  size_t cap2 = 0, used2 = 0;
  float first = 0, last = 0;
  for (int step = 0; step < 300; step++) {
    tc_train_ctx_step_reset(ctx);
    tc_tape_start(ctx);
    tc_tensor *h, *loss, *ps[2] = {w, b}, *gs[2];
    CHECK(tc_dense(ctx, x, w, b, &h) == TC_OK);
    CHECK(tc_softmax_xent_sparse(ctx, h, lab, &loss, NULL) == TC_OK);
    tc_tape_stop(ctx);
    CHECK(tc_gradient(ctx, loss, 2, ps, gs) == TC_OK);
    /* plain SGD so the loss must go down */
    for (int k = 0; k < 2; k++)
      for (size_t i = 0; i < tc_tensor_size(ps[k]); i++)
        tc_tensor_f32(ps[k])[i] -= 0.5f * tc_tensor_f32(gs[k])[i];
    if (step == 0) first = tc_tensor_item(loss);
    last = tc_tensor_item(loss);
    if (step == 2) {
      cap2 = tc_train_ctx_capacity(ctx);
      used2 = tc_train_ctx_step_used(ctx);
    }
    if (step > 2) {
      CHECK_EQ(tc_train_ctx_capacity(ctx), cap2);
      CHECK_EQ(tc_train_ctx_step_used(ctx), used2);
    }
  }
  CHECK(last < 0.5f * first);
  tc_train_ctx_step_reset(ctx);
  CHECK_EQ(tc_train_ctx_step_used(ctx), 0);
  CHECK_EQ(tc_tape_size(ctx), 0);
  tc_tensor_destroy(x);
  tc_tensor_destroy(w);
  tc_tensor_destroy(b);
  tc_tensor_destroy(lab);
  tc_train_ctx_destroy(ctx);
}

TC_TEST(train_tensor_elementwise_values) {
  tc_train_ctx *ctx = new_ctx();
  int32_t d23[2] = {2, 3}, d3[1] = {3}, d21[2] = {2, 1};
  float a[6] = {1, 2, 3, 4, 5, 6}, b[3] = {10, 20, 30}, c[2] = {2, 4};
  tc_tensor *ta = step_from(ctx, 2, d23, a), *tb = step_from(ctx, 1, d3, b),
            *tcol = step_from(ctx, 2, d21, c), *y;
  CHECK(tc_add(ctx, ta, tb, &y) == TC_OK);
  check_vals(y, (float[]){11, 22, 33, 14, 25, 36}, 6, 0);
  CHECK(tc_sub(ctx, tb, ta, &y) == TC_OK);
  check_vals(y, (float[]){9, 18, 27, 6, 15, 24}, 6, 0);
  CHECK(tc_div(ctx, ta, tcol, &y) == TC_OK);
  check_vals(y, (float[]){0.5f, 1, 1.5f, 1, 1.25f, 1.5f}, 6, 1e-7);
  CHECK(tc_mul(ctx, tcol, tb, &y) == TC_OK); /* [2,1] x [3] -> [2,3] */
  CHECK_EQ(tc_tensor_dim(y, 0), 2);
  check_vals(y, (float[]){20, 40, 60, 40, 80, 120}, 6, 0);
  CHECK(tc_maximum(ctx, ta, tcol, &y) == TC_OK);
  check_vals(y, (float[]){2, 2, 3, 4, 5, 6}, 6, 0);
  float v[6] = {-2, -0.5f, 0, 0.5f, 3, 7};
  tc_tensor *tv = step_from(ctx, 2, d23, v);
  CHECK(tc_relu6(ctx, tv, &y) == TC_OK);
  check_vals(y, (float[]){0, 0, 0, 0.5f, 3, 6}, 6, 0);
  CHECK(tc_leaky_relu(ctx, tv, 0.1f, &y) == TC_OK);
  check_vals(y, (float[]){-0.2f, -0.05f, 0, 0.5f, 3, 7}, 6, 1e-7);
  CHECK(tc_sigmoid(ctx, tv, &y) == TC_OK);
  CHECK_NEAR(tc_tensor_f32(y)[2], 0.5, 1e-7);
  CHECK_NEAR(tc_tensor_f32(y)[0], 1.0 / (1.0 + exp(2.0)), 1e-6);
  CHECK(tc_gelu(ctx, tv, 0, &y) == TC_OK);
  CHECK_NEAR(tc_tensor_f32(y)[4], 3.0 * 0.5 * (1.0 + erf(3.0 / sqrt(2.0))), 1e-5);
  CHECK(tc_gelu(ctx, tv, 1, &y) == TC_OK);
  CHECK_NEAR(tc_tensor_f32(y)[3], 0.345714, 1e-5);
  CHECK(tc_pow_scalar(ctx, tcol, 3, &y) == TC_OK);
  check_vals(y, (float[]){8, 64}, 2, 1e-5);
  CHECK(tc_clip(ctx, tv, -1, 1, &y) == TC_OK);
  check_vals(y, (float[]){-1, -0.5f, 0, 0.5f, 1, 1}, 6, 0);
  tc_train_ctx_destroy(ctx);
}

static void naive_mm(int M, int N, int K, const float *a, int ta, const float *b, int tb,
                     float *c) {
  for (int i = 0; i < M; i++)
    for (int j = 0; j < N; j++) {
      double s = 0;
      for (int p = 0; p < K; p++)
        s += (double)(ta ? a[p * M + i] : a[i * K + p]) * (tb ? b[j * K + p] : b[p * N + j]);
      c[i * N + j] = (float)s;
    }
}

TC_TEST(train_tensor_matmul_values) {
  tc_train_ctx *ctx = new_ctx();
  int32_t d22[2] = {2, 2};
  tc_tensor *a = step_from(ctx, 2, d22, (float[]){1, 2, 3, 4}),
            *b = step_from(ctx, 2, d22, (float[]){5, 6, 7, 8}), *c;
  CHECK(tc_matmul(ctx, a, b, 0, 0, &c) == TC_OK);
  check_vals(c, (float[]){19, 22, 43, 50}, 4, 0);
  CHECK(tc_matmul(ctx, a, b, 1, 0, &c) == TC_OK);
  check_vals(c, (float[]){26, 30, 38, 44}, 4, 0);
  CHECK(tc_matmul(ctx, a, b, 0, 1, &c) == TC_OK);
  check_vals(c, (float[]){17, 23, 39, 53}, 4, 0);
  /* Odd sizes across tile edges and several k blocks, every transpose combination. */
  int sizes[][3] = {{1, 1, 1}, {7, 17, 5}, {37, 45, 300}, {6, 16, 256}, {130, 33, 513}};
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
    int M = sizes[s][0], N = sizes[s][1], K = sizes[s][2];
    for (int ta = 0; ta < 2; ta++)
      for (int tb = 0; tb < 2; tb++) {
        tc_train_ctx_step_reset(ctx);
        int32_t da[2] = {ta ? K : M, ta ? M : K}, db[2] = {tb ? N : K, tb ? K : N};
        tc_tensor *x, *y;
        CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, 2, da, NULL, &x) == TC_OK);
        CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, 2, db, NULL, &y) == TC_OK);
        for (size_t i = 0; i < tc_tensor_size(x); i++)
          tc_tensor_f32(x)[i] = (float)((i * 7) % 13) / 13.0f - 0.5f;
        for (size_t i = 0; i < tc_tensor_size(y); i++)
          tc_tensor_f32(y)[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
        CHECK(tc_matmul(ctx, x, y, ta, tb, &c) == TC_OK);
        float *want = malloc((size_t)M * N * sizeof(float));
        naive_mm(M, N, K, tc_tensor_f32(x), ta, tc_tensor_f32(y), tb, want);
        double maxerr = 0;
        for (int i = 0; i < M * N; i++)
          maxerr = fmax(maxerr, fabs(tc_tensor_f32(c)[i] - want[i]));
        CHECK_MSG(maxerr < 1e-4 * K, "matmul %dx%dx%d ta=%d tb=%d: max error %g", M, N, K, ta,
                  tb, maxerr);
        free(want);
      }
  }
  tc_train_ctx_destroy(ctx);
}

/* Direct-loop conv2d reference (HWIO filter, TFLite padding). */
static void naive_conv(const float *x, int n, int h, int w, int cin, const float *f, int kh,
                       int kw, int cout, const float *bias, int sh, int sw, int dh, int dw,
                       int same, float *y, int *oh_out, int *ow_out) {
  int oh, ow, pt = 0, pl = 0;
  if (same) {
    oh = (h + sh - 1) / sh, ow = (w + sw - 1) / sw;
    int th = (oh - 1) * sh + (kh - 1) * dh + 1 - h, tw = (ow - 1) * sw + (kw - 1) * dw + 1 - w;
    pt = th > 0 ? th / 2 : 0, pl = tw > 0 ? tw / 2 : 0;
  } else {
    oh = (h - (kh - 1) * dh - 1) / sh + 1, ow = (w - (kw - 1) * dw - 1) / sw + 1;
  }
  *oh_out = oh, *ow_out = ow;
  for (int b = 0; b < n; b++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++)
        for (int co = 0; co < cout; co++) {
          double s = bias ? bias[co] : 0;
          for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++) {
              int iy = oy * sh - pt + ky * dh, ix = ox * sw - pl + kx * dw;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              for (int ci = 0; ci < cin; ci++)
                s += (double)x[((b * h + iy) * w + ix) * cin + ci] *
                     f[((ky * kw + kx) * cin + ci) * cout + co];
            }
          y[((b * oh + oy) * ow + ox) * cout + co] = (float)s;
        }
}

TC_TEST(train_tensor_conv_values) {
  tc_train_ctx *ctx = new_ctx();
  /* Hand case: 3x3 input, 2x2 filter of ones, VALID -> sums of 2x2 windows. */
  int32_t dx[4] = {1, 3, 3, 1}, df[4] = {2, 2, 1, 1};
  tc_tensor *x = step_from(ctx, 4, dx, (float[]){1, 2, 3, 4, 5, 6, 7, 8, 9}),
            *f = step_from(ctx, 4, df, (float[]){1, 1, 1, 1}), *y;
  tc_conv_params valid = {1, 1, 1, 1, TC_PADDING_VALID}, same2 = {2, 2, 1, 1, TC_PADDING_SAME};
  CHECK(tc_conv2d(ctx, x, f, NULL, &valid, &y) == TC_OK);
  check_vals(y, (float[]){12, 16, 24, 28}, 4, 0);
  /* SAME stride 2 on 3x3 with 2x2: out 2x2, total pad 1 -> 0 before, 1 after. */
  CHECK(tc_conv2d(ctx, x, f, NULL, &same2, &y) == TC_OK);
  check_vals(y, (float[]){12, 9, 15, 9}, 4, 0);
  /* Random cases against the naive loop, including multi-block im2col (cin 32). */
  struct { int n, h, w, cin, cout, kh, kw, sh, sw, dh, dw, same; } cs[] = {
      {2, 9, 8, 3, 5, 3, 3, 1, 1, 1, 1, 0}, {1, 10, 9, 2, 17, 3, 2, 2, 3, 1, 1, 1},
      {2, 8, 8, 4, 6, 3, 3, 1, 1, 2, 2, 1}, {3, 16, 16, 32, 20, 3, 3, 1, 1, 1, 1, 0},
      {2, 5, 5, 7, 9, 1, 1, 1, 1, 1, 1, 0}, {1, 7, 7, 2, 3, 5, 5, 2, 2, 1, 1, 1},
  };
  for (size_t i = 0; i < sizeof cs / sizeof *cs; i++) {
    tc_train_ctx_step_reset(ctx);
    int32_t xd[4] = {cs[i].n, cs[i].h, cs[i].w, cs[i].cin};
    int32_t fd[4] = {cs[i].kh, cs[i].kw, cs[i].cin, cs[i].cout}, bd[1] = {cs[i].cout};
    tc_tensor *tx, *tf, *tb;
    CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, 4, xd, NULL, &tx) == TC_OK);
    CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, 4, fd, NULL, &tf) == TC_OK);
    CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, 1, bd, NULL, &tb) == TC_OK);
    for (size_t j = 0; j < tc_tensor_size(tx); j++)
      tc_tensor_f32(tx)[j] = (float)((j * 7) % 17) / 17.0f - 0.5f;
    for (size_t j = 0; j < tc_tensor_size(tf); j++)
      tc_tensor_f32(tf)[j] = (float)((j * 3) % 19) / 19.0f - 0.5f;
    for (size_t j = 0; j < tc_tensor_size(tb); j++) tc_tensor_f32(tb)[j] = (float)j * 0.1f;
    tc_conv_params p = {cs[i].sh, cs[i].sw, cs[i].dh, cs[i].dw,
                        cs[i].same ? TC_PADDING_SAME : TC_PADDING_VALID};
    CHECK(tc_conv2d(ctx, tx, tf, tb, &p, &y) == TC_OK);
    size_t cap = (size_t)cs[i].n * cs[i].h * cs[i].w * cs[i].cout;
    float *want = malloc(cap * sizeof(float));
    int oh, ow;
    naive_conv(tc_tensor_f32(tx), cs[i].n, cs[i].h, cs[i].w, cs[i].cin, tc_tensor_f32(tf),
               cs[i].kh, cs[i].kw, cs[i].cout, tc_tensor_f32(tb), cs[i].sh, cs[i].sw, cs[i].dh,
               cs[i].dw, cs[i].same, want, &oh, &ow);
    CHECK_EQ(tc_tensor_dim(y, 1), oh);
    CHECK_EQ(tc_tensor_dim(y, 2), ow);
    double maxerr = 0;
    for (size_t j = 0; j < tc_tensor_size(y); j++)
      maxerr = fmax(maxerr, fabs(tc_tensor_f32(y)[j] - want[j]));
    CHECK_MSG(maxerr < 1e-4, "conv case %zu: max error %g", i, maxerr);
    free(want);
  }
  /* Depthwise with multiplier 2: channel c*2+m reads input channel c. */
  tc_train_ctx_step_reset(ctx);
  int32_t dxd[4] = {1, 2, 2, 2}, dfd[4] = {1, 1, 2, 2};
  tc_tensor *xd2 = step_from(ctx, 4, dxd, (float[]){1, 2, 3, 4, 5, 6, 7, 8}),
            *fd2 = step_from(ctx, 4, dfd, (float[]){1, 10, 100, 1000});
  CHECK(tc_depthwise_conv2d(ctx, xd2, fd2, NULL, &valid, &y) == TC_OK);
  CHECK_EQ(tc_tensor_dim(y, 3), 4);
  check_vals(y, (float[]){1, 10, 200, 2000, 3, 30, 400, 4000, 5, 50, 600, 6000, 7, 70, 800,
                          8000}, 16, 0);
  tc_train_ctx_destroy(ctx);
}

TC_TEST(train_tensor_pool_reduce_values) {
  tc_train_ctx *ctx = new_ctx();
  int32_t dx[4] = {1, 4, 4, 1};
  float v[16];
  for (int i = 0; i < 16; i++) v[i] = (float)i;
  tc_tensor *x = step_from(ctx, 4, dx, v), *y;
  tc_pool_params p2 = {2, 2, 0, 0, TC_PADDING_VALID}, p3s = {3, 3, 2, 2, TC_PADDING_SAME};
  CHECK(tc_max_pool2d(ctx, x, &p2, &y) == TC_OK);
  check_vals(y, (float[]){5, 7, 13, 15}, 4, 0);
  CHECK(tc_avg_pool2d(ctx, x, &p2, &y) == TC_OK);
  check_vals(y, (float[]){2.5f, 4.5f, 10.5f, 12.5f}, 4, 0);
  /* SAME 3x3/2 on 4x4: pad total 1 (0 before): windows rows {0..2},{2,3}; the divisor counts
   * only the in-bounds inputs. */
  CHECK(tc_avg_pool2d(ctx, x, &p3s, &y) == TC_OK);
  check_vals(y, (float[]){5, 6.5f, 11, 12.5f}, 4, 1e-6);
  CHECK(tc_global_avg_pool2d(ctx, x, 1, &y) == TC_OK);
  CHECK_EQ(tc_tensor_rank(y), 4);
  check_vals(y, (float[]){7.5f}, 1, 1e-6);
  int32_t d3[3] = {2, 3, 2};
  float w[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  tc_tensor *t = step_from(ctx, 3, d3, w);
  int ax1[1] = {1}, ax02[2] = {0, 2}, axm1[1] = {-1};
  CHECK(tc_reduce_sum(ctx, t, 1, ax1, 0, &y) == TC_OK);
  check_vals(y, (float[]){9, 12, 27, 30}, 4, 0);
  CHECK(tc_reduce_mean(ctx, t, 2, ax02, 1, &y) == TC_OK);
  CHECK_EQ(tc_tensor_rank(y), 3);
  check_vals(y, (float[]){4.5f, 6.5f, 8.5f}, 3, 1e-6);
  CHECK(tc_reduce_max(ctx, t, 1, axm1, 0, &y) == TC_OK);
  check_vals(y, (float[]){2, 4, 6, 8, 10, 12}, 6, 0);
  CHECK(tc_reduce_sum(ctx, t, 0, NULL, 0, &y) == TC_OK);
  CHECK_EQ(tc_tensor_rank(y), 0);
  CHECK_NEAR(tc_tensor_item(y), 78, 0);
  int rep[2] = {1, -2};
  CHECK(tc_reduce_sum(ctx, t, 2, rep, 0, &y) == TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "[2,3,2]");
  tc_train_ctx_destroy(ctx);
}

TC_TEST(train_tensor_shape_nn_values) {
  tc_train_ctx *ctx = new_ctx();
  int32_t d23[2] = {2, 3};
  tc_tensor *x = step_from(ctx, 2, d23, (float[]){1, 2, 3, 4, 5, 6}), *y;
  CHECK(tc_transpose(ctx, x, NULL, &y) == TC_OK);
  check_vals(y, (float[]){1, 4, 2, 5, 3, 6}, 6, 0);
  int32_t b[2] = {0, 1}, s[2] = {2, -1};
  CHECK(tc_slice(ctx, x, b, s, &y) == TC_OK);
  check_vals(y, (float[]){2, 3, 5, 6}, 4, 0);
  const tc_tensor *xs[2] = {x, x};
  CHECK(tc_concat(ctx, 2, xs, 1, &y) == TC_OK);
  check_vals(y, (float[]){1, 2, 3, 1, 2, 3, 4, 5, 6, 4, 5, 6}, 12, 0);
  int32_t di[1] = {3}, idx[3] = {1, 1, 0};
  tc_tensor *ti;
  CHECK(tc_tensor_step(ctx, TC_DTYPE_I32, 1, di, idx, &ti) == TC_OK);
  CHECK(tc_gather(ctx, x, ti, &y) == TC_OK);
  check_vals(y, (float[]){4, 5, 6, 4, 5, 6, 1, 2, 3}, 9, 0);
  int32_t r[1] = {-1};
  CHECK(tc_reshape(ctx, x, 1, r, &y) == TC_OK);
  CHECK_EQ(tc_tensor_dim(y, 0), 6);
  /* softmax rows and the fused loss against hand values */
  int32_t d2[2] = {2, 2};
  tc_tensor *l = step_from(ctx, 2, d2, (float[]){0, 0, 1, 3}), *loss, *probs;
  CHECK(tc_softmax(ctx, l, &y) == TC_OK);
  check_vals(y, (float[]){0.5f, 0.5f, (float)(1 / (1 + exp(2.0))), (float)(1 / (1 + exp(-2.0)))},
             4, 1e-6);
  int32_t dl[1] = {2}, lab[2] = {0, 1};
  tc_tensor *tl;
  CHECK(tc_tensor_step(ctx, TC_DTYPE_I32, 1, dl, lab, &tl) == TC_OK);
  CHECK(tc_softmax_xent_sparse(ctx, l, tl, &loss, &probs) == TC_OK);
  CHECK_NEAR(tc_tensor_item(loss), (log(2.0) + log(1 + exp(-2.0))) / 2, 1e-6);
  CHECK_NEAR(tc_tensor_f32(probs)[3], 1 / (1 + exp(-2.0)), 1e-6);
  CHECK(tc_log_softmax(ctx, l, &y) == TC_OK);
  CHECK_NEAR(tc_tensor_f32(y)[0], -log(2.0), 1e-6);
  /* batch norm training: per-channel mean 0, var 1 after normalising; stats returned */
  int32_t dbn[2] = {4, 2};
  tc_tensor *bx = step_from(ctx, 2, dbn, (float[]){1, 10, 2, 20, 3, 30, 4, 40}), *bm, *bv;
  CHECK(tc_batch_norm(ctx, bx, NULL, NULL, NULL, NULL, 0, 1, &y, &bm, &bv) == TC_OK);
  check_vals(bm, (float[]){2.5f, 25}, 2, 1e-5);
  check_vals(bv, (float[]){1.25f, 125}, 2, 1e-4);
  CHECK_NEAR(tc_tensor_f32(y)[0], -1.5 / sqrt(1.25), 1e-5);
  CHECK_NEAR(tc_tensor_f32(y)[7], 15 / sqrt(125.0), 1e-5);
  CHECK(tc_batch_norm(ctx, bx, NULL, NULL, bm, bv, 0, 0, &y, NULL, NULL) == TC_OK);
  CHECK_NEAR(tc_tensor_f32(y)[1], -15 / sqrt(125.0), 1e-5);
  CHECK(tc_batch_norm(ctx, bx, NULL, NULL, NULL, NULL, 0, 0, &y, NULL, NULL) == TC_ERR_ARG);
  /* dropout: identity at inference; at training about rate zeros and 1/(1-rate) scaling */
  int32_t dd[1] = {4000};
  tc_tensor *ones;
  CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, 1, dd, NULL, &ones) == TC_OK);
  for (int i = 0; i < 4000; i++) tc_tensor_f32(ones)[i] = 1;
  CHECK(tc_dropout(ctx, ones, 0.25f, 0, &y) == TC_OK);
  CHECK(y == ones);
  CHECK(tc_dropout(ctx, ones, 0.25f, 1, &y) == TC_OK);
  int zeros = 0;
  for (int i = 0; i < 4000; i++) {
    float v = tc_tensor_f32(y)[i];
    zeros += v == 0;
    CHECK(v == 0 || fabsf(v - 4.0f / 3.0f) < 1e-6f);
  }
  CHECK(zeros > 850 && zeros < 1150);
  CHECK(tc_dropout(ctx, ones, 1.0f, 1, &y) == TC_ERR_ARG);
  tc_train_ctx_destroy(ctx);
}

TC_TEST(train_tensor_errors_name_shapes) {
  tc_train_ctx *ctx = new_ctx();
  int32_t d23[2] = {2, 3}, d45[2] = {4, 5}, d4[1] = {4};
  tc_tensor *a, *b, *v, *y = (tc_tensor *)1;
  CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, 2, d23, NULL, &a) == TC_OK);
  CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, 2, d45, NULL, &b) == TC_OK);
  CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, 1, d4, NULL, &v) == TC_OK);
  CHECK(tc_matmul(ctx, a, b, 0, 0, &y) == TC_ERR_ARG);
  CHECK(y == NULL);
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "matmul");
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "[2,3]");
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "[4,5]");
  CHECK(tc_add(ctx, a, v, &y) == TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "[2,3]");
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "[4]");
  CHECK(tc_dense(ctx, a, b, NULL, &y) == TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "[4,5]");
  int32_t r[2] = {4, 2};
  CHECK(tc_reshape(ctx, a, 2, r, &y) == TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "[2,3]");
  int32_t dx[4] = {1, 5, 5, 3}, df[4] = {3, 3, 2, 4};
  tc_tensor *x, *f;
  CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, 4, dx, NULL, &x) == TC_OK);
  CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, 4, df, NULL, &f) == TC_OK);
  tc_conv_params p = {1, 1, 1, 1, TC_PADDING_VALID};
  CHECK(tc_conv2d(ctx, x, f, NULL, &p, &y) == TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "[1,5,5,3]");
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "[3,3,2,4]");
  int32_t dsmall[4] = {1, 2, 2, 2};
  tc_tensor *xs;
  CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, 4, dsmall, NULL, &xs) == TC_OK);
  CHECK(tc_conv2d(ctx, xs, f, NULL, &p, &y) == TC_ERR_ARG);
  const tc_tensor *cs[2] = {a, b};
  CHECK(tc_concat(ctx, 2, cs, 0, &y) == TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "[4,5]");
  int32_t di[1] = {2}, idx[2] = {0, 2};
  tc_tensor *ti;
  CHECK(tc_tensor_step(ctx, TC_DTYPE_I32, 1, di, idx, &ti) == TC_OK);
  CHECK(tc_gather(ctx, a, ti, &y) == TC_ERR_RUNTIME);
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "index 2");
  int32_t badlab[2] = {0, 3};
  tc_tensor *tbl;
  CHECK(tc_tensor_step(ctx, TC_DTYPE_I32, 1, di, badlab, &tbl) == TC_OK);
  CHECK(tc_softmax_xent_sparse(ctx, a, tbl, &y, NULL) == TC_ERR_RUNTIME);
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "label 3");
  CHECK(tc_softmax_xent_sparse(ctx, a, a, &y, NULL) == TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "int32");
  CHECK(tc_relu(ctx, NULL, &y) == TC_ERR_ARG);
  CHECK(tc_gradient(ctx, a, 0, NULL, NULL) == TC_ERR_ARG); /* not a scalar */
  tc_train_ctx_destroy(ctx);
}

TC_TEST(train_tensor_tape_bookkeeping) {
  tc_train_ctx *ctx = new_ctx();
  int32_t d3[1] = {3};
  tc_tensor *w, *unused, *s, *y, *g[2];
  CHECK(tc_tensor_create_param(1, d3, &w) == TC_OK);
  CHECK(tc_tensor_create_param(1, d3, &unused) == TC_OK);
  for (int i = 0; i < 3; i++) tc_tensor_f32(w)[i] = (float)(i + 1);
  /* Not recording: no nodes. */
  CHECK(tc_mul(ctx, w, w, &y) == TC_OK);
  CHECK_EQ(tc_tape_size(ctx), 0);
  /* Constants only: no nodes even while recording. */
  tc_tape_start(ctx);
  tc_tensor *c;
  CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, 1, d3, NULL, &c) == TC_OK);
  CHECK(tc_exp(ctx, c, &y) == TC_OK);
  CHECK_EQ(tc_tape_size(ctx), 0);
  /* w used twice: d sum(w*w + w) / dw = 2w + 1. */
  tc_tensor *sq;
  CHECK(tc_mul(ctx, w, w, &sq) == TC_OK);
  CHECK(tc_add(ctx, sq, w, &y) == TC_OK);
  CHECK(tc_reduce_sum(ctx, y, 0, NULL, 0, &s) == TC_OK);
  tc_tape_stop(ctx);
  CHECK_EQ(tc_tape_size(ctx), 3);
  tc_tensor *both[2] = {w, unused};
  CHECK(tc_gradient(ctx, s, 2, both, g) == TC_OK);
  check_vals(g[0], (float[]){3, 5, 7}, 3, 0);
  check_vals(g[1], (float[]){0, 0, 0}, 3, 0);
  /* A second gradient call in the same step gives the same result (no double counting). */
  CHECK(tc_gradient(ctx, s, 1, both, g) == TC_OK);
  check_vals(g[0], (float[]){3, 5, 7}, 3, 0);
  /* Watching a step tensor gives its gradient, like GradientTape.watch. */
  tc_train_ctx_step_reset(ctx);
  CHECK(!tc_tape_recording(ctx));
  tc_tensor *in;
  CHECK(tc_tensor_step(ctx, TC_DTYPE_F32, 1, d3, (float[]){1, 2, 3}, &in) == TC_OK);
  tc_tensor_set_trainable(in, 1);
  tc_tape_start(ctx);
  CHECK(tc_square(ctx, in, &y) == TC_OK);
  CHECK(tc_reduce_mean(ctx, y, 0, NULL, 0, &s) == TC_OK);
  tc_tape_stop(ctx);
  CHECK(tc_gradient(ctx, s, 1, &in, g) == TC_OK);
  check_vals(g[0], (float[]){2.0f / 3, 4.0f / 3, 2}, 3, 1e-6);
  tc_tensor_destroy(w);
  tc_tensor_destroy(unused);
  tc_train_ctx_destroy(ctx);
}

/* The thread count must not change any result bit (tasks write disjoint tiles with the same
 * arithmetic), for matmul with every transpose and for conv2d forward and backward. */
TC_TEST(train_tensor_threads_deterministic) {
  tc_train_ctx *c1 = new_ctx(), *c3 = new_ctx();
  CHECK(tc_train_ctx_set_threads(c3, 3) == TC_OK);
  CHECK_EQ(tc_train_ctx_threads(c3), 3);
  CHECK(tc_train_ctx_set_threads(c3, 0) == TC_ERR_ARG);
  int32_t da[2] = {150, 300}, db[2] = {300, 70};
  tc_tensor *a, *b;
  CHECK(tc_tensor_create_param(2, da, &a) == TC_OK);
  CHECK(tc_tensor_create_param(2, db, &b) == TC_OK);
  tc_tensor_init(a, TC_INIT_UNIFORM, -1, 1, 1);
  tc_tensor_init(b, TC_INIT_UNIFORM, -1, 1, 2);
  tc_tensor *y1, *y3, *s1, *s3, *g1[2], *g3[2], *ab[2] = {a, b};
  tc_tape_start(c1);
  tc_tape_start(c3);
  CHECK(tc_matmul(c1, a, b, 0, 0, &y1) == TC_OK);
  CHECK(tc_matmul(c3, a, b, 0, 0, &y3) == TC_OK);
  CHECK(memcmp(tc_tensor_f32(y1), tc_tensor_f32(y3), tc_tensor_size(y1) * 4) == 0);
  CHECK(tc_reduce_sum(c1, y1, 0, NULL, 0, &s1) == TC_OK);
  CHECK(tc_reduce_sum(c3, y3, 0, NULL, 0, &s3) == TC_OK);
  CHECK(tc_gradient(c1, s1, 2, ab, g1) == TC_OK);
  CHECK(tc_gradient(c3, s3, 2, ab, g3) == TC_OK);
  for (int k = 0; k < 2; k++)
    CHECK(memcmp(tc_tensor_f32(g1[k]), tc_tensor_f32(g3[k]), tc_tensor_size(ab[k]) * 4) == 0);
  tc_train_ctx_step_reset(c1);
  tc_train_ctx_step_reset(c3);
  int32_t dx[4] = {4, 12, 12, 8}, df[4] = {3, 3, 8, 24};
  tc_tensor *x, *f;
  CHECK(tc_tensor_create_param(4, dx, &x) == TC_OK);
  CHECK(tc_tensor_create_param(4, df, &f) == TC_OK);
  tc_tensor_init(x, TC_INIT_UNIFORM, -1, 1, 3);
  tc_tensor_init(f, TC_INIT_UNIFORM, -1, 1, 4);
  tc_conv_params p = {1, 1, 1, 1, TC_PADDING_SAME};
  tc_tensor *xf[2] = {x, f};
  tc_tape_start(c1);
  tc_tape_start(c3);
  CHECK(tc_conv2d(c1, x, f, NULL, &p, &y1) == TC_OK);
  CHECK(tc_conv2d(c3, x, f, NULL, &p, &y3) == TC_OK);
  CHECK(memcmp(tc_tensor_f32(y1), tc_tensor_f32(y3), tc_tensor_size(y1) * 4) == 0);
  CHECK(tc_reduce_sum(c1, y1, 0, NULL, 0, &s1) == TC_OK);
  CHECK(tc_reduce_sum(c3, y3, 0, NULL, 0, &s3) == TC_OK);
  CHECK(tc_gradient(c1, s1, 2, xf, g1) == TC_OK);
  CHECK(tc_gradient(c3, s3, 2, xf, g3) == TC_OK);
  for (int k = 0; k < 2; k++)
    CHECK(memcmp(tc_tensor_f32(g1[k]), tc_tensor_f32(g3[k]), tc_tensor_size(xf[k]) * 4) == 0);
  tc_tensor_destroy(a);
  tc_tensor_destroy(b);
  tc_tensor_destroy(x);
  tc_tensor_destroy(f);
  tc_train_ctx_destroy(c1);
  tc_train_ctx_destroy(c3);
}
