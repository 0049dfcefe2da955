/* test_optim.c: optimizer steps against the Keras formulas computed by hand here (Adam on a
 * quadratic, SGD momentum/Nesterov, RMSprop, AdamW), learning-rate schedules, loss values
 * against hand values, streaming metrics, and a custom training loop written with the tape
 * and an optimizer alone. */
#include "tc_test.h"
#include "tensorc_train.h"

static tc_tensor *param(int n, const float *v) {
  tc_tensor *t;
  tc_tensor_create_param(1, (int32_t[]){n}, &t);
  memcpy(tc_tensor_f32(t), v, sizeof(float) * (size_t)n);
  return t;
}

/* Gradient of f(p) = 0.5 * sum(c_i p_i^2) is c_i p_i. */
static void quad_grad(tc_train_ctx *ctx, tc_tensor *p, const float *c, tc_tensor **g) {
  tc_tensor_step(ctx, TC_DTYPE_F32, 1, tc_tensor_dims(p), NULL, g);
  for (size_t i = 0; i < tc_tensor_size(p); i++) tc_tensor_f32(*g)[i] = c[i] * tc_tensor_f32(p)[i];
}

TC_TEST(train_optim_adam_quadratic) {
  const float c[3] = {1.0f, -2.0f, 0.5f}, p0[3] = {1.0f, 0.5f, -2.0f};
  tc_train_ctx *ctx;
  tc_train_ctx_create(0, 1, &ctx);
  tc_tensor *p = param(3, p0);
  tc_optim *opt;
  tc_optim_config cfg = tc_optim_adam(0.1f);
  CHECK_NEAR(cfg.epsilon, 1e-7f, 0);
  CHECK_NEAR(cfg.beta_1, 0.9, 1e-7);
  CHECK_EQ(tc_optim_create(&cfg, &opt), TC_OK);
  double ref[3] = {1.0, 0.5, -2.0}, m[3] = {0}, v[3] = {0};
  for (int t = 1; t <= 4; t++) {
    tc_train_ctx_step_reset(ctx);
    tc_tensor *g;
    quad_grad(ctx, p, c, &g);
    CHECK_EQ(tc_optim_apply(opt, 1, &p, &g), TC_OK);
    double alpha = 0.1 * sqrt(1 - pow(0.999, t)) / (1 - pow(0.9, t));
    for (int i = 0; i < 3; i++) {
      double gi = c[i] * ref[i];
      m[i] += (gi - m[i]) * 0.1;
      v[i] += (gi * gi - v[i]) * 0.001;
      ref[i] -= m[i] * alpha / (sqrt(v[i]) + 1e-7);
    }
    for (int i = 0; i < 3; i++) CHECK_NEAR(tc_tensor_f32(p)[i], ref[i], 2e-6);
    if (t == 1) /* the first Adam step moves each weight by lr * sign(g) */
      for (int i = 0; i < 3; i++)
        CHECK_NEAR(tc_tensor_f32(p)[i], p0[i] - 0.1 * (c[i] * p0[i] > 0 ? 1 : -1), 1e-5);
  }
  CHECK_EQ(tc_optim_iterations(opt), 4);
  tc_optim_destroy(opt);
  tc_tensor_destroy(p);
  tc_train_ctx_destroy(ctx);
}

TC_TEST(train_optim_sgd_rmsprop_adamw) {
  tc_train_ctx *ctx;
  tc_train_ctx_create(0, 1, &ctx);
  const float c[1] = {2.0f};
  /* SGD momentum 0.9, lr 0.1, p0 = 1, g = 2p:
   *  step 1: m = -0.2, p = 0.8; step 2: g = 1.6, m = -0.16 - 0.18 = -0.34, p = 0.46.
   * Nesterov: step 1: m = -0.2, p = 1 - 0.2 + 0.9*(-0.2) = 0.62;
   *           step 2: g = 1.24, m = -0.124 - 0.18 = -0.304, p = 0.62 - 0.124 - 0.2736 = 0.2224. */
  for (int nest = 0; nest < 2; nest++) {
    tc_tensor *p = param(1, (float[]){1.0f});
    tc_optim_config cfg = tc_optim_sgd(0.1f, 0.9f, nest);
    tc_optim *opt;
    tc_optim_create(&cfg, &opt);
    for (int s = 0; s < 2; s++) {
      tc_train_ctx_step_reset(ctx);
      tc_tensor *g;
      quad_grad(ctx, p, c, &g);
      tc_optim_apply(opt, 1, &p, &g);
      double want = nest ? (s ? 0.2224 : 0.62) : (s ? 0.46 : 0.8);
      CHECK_NEAR(tc_tensor_f32(p)[0], want, 1e-6);
    }
    tc_optim_destroy(opt);
    tc_tensor_destroy(p);
  }
  /* Plain SGD (default lr 0.01 in Keras; here 0.5): p = 1 - 0.5 * 2 = 0. */
  {
    tc_tensor *p = param(1, (float[]){1.0f});
    tc_optim_config cfg = tc_optim_sgd(0.5f, 0, 0);
    tc_optim *opt;
    tc_optim_create(&cfg, &opt);
    tc_train_ctx_step_reset(ctx);
    tc_tensor *g;
    quad_grad(ctx, p, c, &g);
    tc_optim_apply(opt, 1, &p, &g);
    CHECK_NEAR(tc_tensor_f32(p)[0], 0.0, 1e-7);
    tc_optim_destroy(opt);
    tc_tensor_destroy(p);
  }
  /* RMSprop lr 0.01, rho 0.9: v = 0.1 * 4 = 0.4, p = 1 - 0.01 * 2 / sqrt(0.4 + 1e-7). */
  {
    tc_tensor *p = param(1, (float[]){1.0f});
    tc_optim_config cfg = tc_optim_rmsprop(0.01f);
    tc_optim *opt;
    tc_optim_create(&cfg, &opt);
    tc_train_ctx_step_reset(ctx);
    tc_tensor *g;
    quad_grad(ctx, p, c, &g);
    tc_optim_apply(opt, 1, &p, &g);
    CHECK_NEAR(tc_tensor_f32(p)[0], 1 - 0.02 / sqrt(0.4 + 1e-7), 1e-6);
    tc_optim_destroy(opt);
    tc_tensor_destroy(p);
  }
  /* AdamW: p = p * (1 - lr * wd), then Adam's first step (lr * sign g). */
  {
    tc_tensor *p = param(1, (float[]){1.0f});
    tc_optim_config cfg = tc_optim_adamw(0.1f, 0.5f);
    tc_optim *opt;
    tc_optim_create(&cfg, &opt);
    tc_train_ctx_step_reset(ctx);
    tc_tensor *g;
    quad_grad(ctx, p, c, &g);
    tc_optim_apply(opt, 1, &p, &g);
    CHECK_NEAR(tc_tensor_f32(p)[0], 0.95 - 0.1, 1e-5);
    tc_optim_destroy(opt);
    tc_tensor_destroy(p);
  }
  tc_train_ctx_destroy(ctx);
}

TC_TEST(train_optim_schedules) {
  tc_schedule e = tc_schedule_exponential(0.1f, 10, 0.5f, 0);
  CHECK_NEAR(tc_schedule_lr(&e, 0), 0.1, 1e-7);
  CHECK_NEAR(tc_schedule_lr(&e, 5), 0.1 * pow(0.5, 0.5), 1e-7);
  CHECK_NEAR(tc_schedule_lr(&e, 20), 0.025, 1e-7);
  tc_schedule st = tc_schedule_exponential(0.1f, 10, 0.5f, 1);
  CHECK_NEAR(tc_schedule_lr(&st, 19), 0.05, 1e-7);
  tc_schedule c = tc_schedule_cosine(1.0f, 100, 0.1f);
  CHECK_NEAR(tc_schedule_lr(&c, 0), 1.0, 1e-6);
  CHECK_NEAR(tc_schedule_lr(&c, 50), 0.9 * 0.5 + 0.1, 1e-6);
  CHECK_NEAR(tc_schedule_lr(&c, 1000), 0.1, 1e-6);
  tc_schedule pw = tc_schedule_piecewise(2, (int64_t[]){10, 20}, (float[]){1.0f, 0.5f, 0.1f});
  CHECK_NEAR(tc_schedule_lr(&pw, 10), 1.0, 0);
  CHECK_NEAR(tc_schedule_lr(&pw, 11), 0.5, 0);
  CHECK_NEAR(tc_schedule_lr(&pw, 21), 0.1, 1e-8);
  /* An optimizer follows its schedule by step; set_lr overrides it. */
  tc_optim_config cfg = tc_optim_sgd(0.0f, 0, 0);
  cfg.schedule = pw;
  tc_optim *opt;
  tc_optim_create(&cfg, &opt);
  tc_train_ctx *ctx;
  tc_train_ctx_create(0, 1, &ctx);
  tc_tensor *p = param(1, (float[]){0.0f});
  for (int i = 0; i < 11; i++) {
    tc_train_ctx_step_reset(ctx);
    tc_tensor *g;
    tc_tensor_step(ctx, TC_DTYPE_F32, 1, (int32_t[]){1}, (float[]){-1.0f}, &g);
    tc_optim_apply(opt, 1, &p, &g);
  }
  /* 11 updates at rate 1.0 (steps 0..10), the 12th will use 0.5. */
  CHECK_NEAR(tc_tensor_f32(p)[0], 11.0, 1e-6);
  CHECK_NEAR(tc_optim_lr(opt), 0.5, 0);
  tc_optim_set_lr(opt, 0.25f);
  CHECK_NEAR(tc_optim_lr(opt), 0.25, 0);
  tc_tensor_destroy(p);
  tc_optim_destroy(opt);
  tc_train_ctx_destroy(ctx);
}

static double loss_val(tc_train_ctx *ctx, tc_loss_kind k, int logits, int rank,
                       const int32_t *dims, const float *pred, int trank, const int32_t *tdims,
                       const float *truth) {
  tc_tensor *p, *t, *l;
  tc_tensor_step(ctx, TC_DTYPE_F32, rank, dims, pred, &p);
  tc_tensor_step(ctx, TC_DTYPE_F32, trank, tdims, truth, &t);
  tc_loss loss = tc_loss_make(k, logits);
  if (tc_loss_compute(ctx, &loss, p, t, &l)) return NAN;
  return tc_tensor_item(l);
}

TC_TEST(train_optim_losses) {
  tc_train_ctx *ctx;
  tc_train_ctx_create(0, 1, &ctx);
  int32_t d22[2] = {2, 2}, d2[1] = {2}, d21[2] = {2, 1};
  float pred[4] = {0.7f, 0.3f, 0.2f, 0.8f}, truth[4] = {1, 0, 0, 1};
  /* MSE: (0.09 + 0.09 + 0.04 + 0.04) / 4 = 0.065; MAE: (0.3+0.3+0.2+0.2)/4 = 0.25. */
  CHECK_NEAR(loss_val(ctx, TC_LOSS_MSE, 0, 2, d22, pred, 2, d22, truth), 0.065, 1e-7);
  CHECK_NEAR(loss_val(ctx, TC_LOSS_MAE, 0, 2, d22, pred, 2, d22, truth), 0.25, 1e-7);
  /* Categorical: -(log 0.7 + log 0.8) / 2. */
  double cce = -(log(0.7) + log(0.8)) / 2;
  CHECK_NEAR(loss_val(ctx, TC_LOSS_CATEGORICAL_XENT, 0, 2, d22, pred, 2, d22, truth), cce, 1e-6);
  float labels[2] = {0, 1};
  CHECK_NEAR(loss_val(ctx, TC_LOSS_SPARSE_CATEGORICAL_XENT, 0, 2, d22, pred, 1, d2, labels), cce,
             1e-6);
  CHECK_NEAR(loss_val(ctx, TC_LOSS_SPARSE_CATEGORICAL_XENT, 0, 2, d22, pred, 2, d21, labels), cce,
             1e-6);
  /* From logits: log-softmax of [2, 0] at 0 is -log(1 + e^-2). */
  float logits[4] = {2, 0, 0, 1};
  double lx = (log(1 + exp(-2.0)) + log(1 + exp(-1.0))) / 2;
  CHECK_NEAR(loss_val(ctx, TC_LOSS_CATEGORICAL_XENT, 1, 2, d22, logits, 2, d22, truth), lx, 1e-6);
  CHECK_NEAR(loss_val(ctx, TC_LOSS_SPARSE_CATEGORICAL_XENT, 1, 2, d22, logits, 1, d2, labels), lx,
             1e-6);
  /* Binary: -(log 0.7 + log 0.7 + log 0.8 + log 0.8) / 4 = cce. */
  CHECK_NEAR(loss_val(ctx, TC_LOSS_BINARY_XENT, 0, 2, d22, pred, 2, d22, truth), cce, 1e-6);
  /* Binary from logits x = 2, z = 1: log(1 + e^-2); x = 0, z = 0: log 2. */
  float bl[2] = {2, 0}, bt[2] = {1, 0};
  CHECK_NEAR(loss_val(ctx, TC_LOSS_BINARY_XENT, 1, 1, d2, bl, 1, d2, bt),
             (log(1 + exp(-2.0)) + log(2.0)) / 2, 1e-6);
  /* Clipping: p = 0 with target 1 gives -log(1e-7). */
  float p0[2] = {0, 1};
  CHECK_NEAR(loss_val(ctx, TC_LOSS_BINARY_XENT, 0, 1, d2, p0, 1, d2, (float[]){1, 1}),
             -log(1e-7) / 2, 1e-3);
  /* Errors: shape mismatch names both shapes; bad label. */
  CHECK(isnan(loss_val(ctx, TC_LOSS_MSE, 0, 2, d22, pred, 1, d2, labels)));
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "[2]");
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "[2,2]");
  CHECK(isnan(loss_val(ctx, TC_LOSS_SPARSE_CATEGORICAL_XENT, 1, 2, d22, logits, 1, d2,
                       (float[]){0, 5})));
  CHECK_STR_CONTAINS(tc_train_ctx_errmsg(ctx), "label 5");
  tc_loss_kind k;
  CHECK_EQ(tc_loss_parse("sparse_categorical_crossentropy", &k), 0);
  CHECK_EQ(k, TC_LOSS_SPARSE_CATEGORICAL_XENT);
  CHECK_EQ(tc_loss_parse("nope", &k), -1);
  tc_train_ctx_destroy(ctx);
}

TC_TEST(train_optim_metrics) {
  tc_train_ctx *ctx;
  tc_train_ctx_create(0, 1, &ctx);
  tc_tensor *p, *t, *ts;
  tc_tensor_step(ctx, TC_DTYPE_F32, 2, (int32_t[]){3, 2}, (float[]){0.9f, 0.1f, 0.4f, 0.6f, 0.7f, 0.3f}, &p);
  tc_tensor_step(ctx, TC_DTYPE_F32, 1, (int32_t[]){3}, (float[]){0, 0, 1}, &ts);
  tc_tensor_step(ctx, TC_DTYPE_F32, 2, (int32_t[]){3, 2}, (float[]){1, 0, 1, 0, 1, 0}, &t);
  tc_loss sparse = tc_loss_make(TC_LOSS_SPARSE_CATEGORICAL_XENT, 1);
  tc_metric m;
  tc_metric_init(&m, TC_METRIC_ACCURACY, &sparse);
  CHECK_EQ(m.kind, TC_METRIC_SPARSE_CATEGORICAL_ACCURACY);
  CHECK_EQ(tc_metric_update(&m, p, ts), TC_OK);
  CHECK_NEAR(tc_metric_result(&m), 1.0 / 3, 1e-12);
  CHECK_EQ(tc_metric_update(&m, p, ts), TC_OK); /* streaming: still 2/6 */
  CHECK_NEAR(tc_metric_result(&m), 1.0 / 3, 1e-12);
  tc_metric_init(&m, TC_METRIC_ACCURACY, NULL);
  CHECK_EQ(m.kind, TC_METRIC_CATEGORICAL_ACCURACY);
  tc_metric_update(&m, p, t);
  CHECK_NEAR(tc_metric_result(&m), 2.0 / 3, 1e-12);
  tc_metric_init(&m, TC_METRIC_MAE, NULL);
  tc_metric_update(&m, p, t);
  CHECK_NEAR(tc_metric_result(&m), (0.1 + 0.1 + 0.6 + 0.6 + 0.3 + 0.3) / 6, 1e-6);
  tc_metric_reset(&m);
  CHECK_NEAR(tc_metric_result(&m), 0, 0);
  CHECK_EQ(tc_metric_update(&m, p, ts), TC_ERR_ARG);
  tc_train_ctx_destroy(ctx);
}

/* A custom training loop: linear regression y = 3x - 1 with the tape and Adam alone. */
TC_TEST(train_optim_custom_loop) {
  tc_train_ctx *ctx;
  tc_train_ctx_create(0, 7, &ctx);
  tc_tensor *w, *b;
  tc_tensor_create_param(2, (int32_t[]){1, 1}, &w);
  tc_tensor_create_param(1, (int32_t[]){1}, &b);
  tc_tensor *params[2] = {w, b}, *grads[2];
  tc_optim_config cfg = tc_optim_adam(0.05f);
  tc_optim *opt;
  tc_optim_create(&cfg, &opt);
  tc_loss mse = tc_loss_make(TC_LOSS_MSE, 0);
  float xs[8], ys[8];
  for (int i = 0; i < 8; i++) xs[i] = (float)i / 4 - 1, ys[i] = 3 * xs[i] - 1;
  double loss_v = 0;
  for (int step = 0; step < 600; step++) {
    tc_tensor *x, *y, *pred, *loss;
    tc_train_ctx_step_reset(ctx);
    tc_tensor_wrap(ctx, TC_DTYPE_F32, 2, (int32_t[]){8, 1}, xs, &x);
    tc_tensor_wrap(ctx, TC_DTYPE_F32, 2, (int32_t[]){8, 1}, ys, &y);
    tc_tape_start(ctx);
    tc_dense(ctx, x, w, b, &pred);
    tc_loss_compute(ctx, &mse, pred, y, &loss);
    tc_tape_stop(ctx);
    tc_gradient(ctx, loss, 2, params, grads);
    tc_optim_apply(opt, 2, params, grads);
    loss_v = tc_tensor_item(loss);
  }
  CHECK(loss_v < 1e-4);
  CHECK_NEAR(tc_tensor_f32(w)[0], 3.0, 1e-2);
  CHECK_NEAR(tc_tensor_f32(b)[0], -1.0, 1e-2);
  tc_optim_destroy(opt);
  tc_tensor_destroy(w);
  tc_tensor_destroy(b);
  tc_train_ctx_destroy(ctx);
}
