/* test_fit.c: compile/fit/evaluate/predict end to end: sine regression (TFLM hello_world's
 * 1-16-16-1 network) reaching a low MSE, a synthetic 4-class problem reaching high accuracy
 * with validation split and history, the progress output at verbose 1/2 (plain lines when the
 * stream is not a terminal), a batch-source fit, EarlyStopping (patience, restore best
 * weights), CSVLogger, LearningRateScheduler, and a step arena that stops growing. */
#include <stdlib.h>
#include <unistd.h>

#include "tc_test.h"
#include "tensorc_train.h"

static float urand(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return (float)(*s >> 8) / 16777216.0f;
}

TC_TEST(train_fit_sine_regression) {
  enum { N = 1000 };
  static float x[N], y[N];
  uint32_t s = 1;
  for (int i = 0; i < N; i++) {
    x[i] = urand(&s) * 6.2831853f;
    y[i] = sinf(x[i]);
  }
  tc_net *net;
  tc_net_create(&net);
  tc_net_set_seed(net, 1);
  tc_net_add(net, tc_layer_input(1, (int32_t[]){1}));
  tc_net_add(net, tc_layer_dense(16, TC_ACT_RELU));
  tc_net_add(net, tc_layer_dense(16, TC_ACT_RELU));
  tc_net_add(net, tc_layer_dense(1, TC_ACT_LINEAR));
  CHECK_EQ(tc_net_compile(net, tc_loss_make(TC_LOSS_MSE, 0), tc_optim_adam(0.01f), 1,
                          (tc_metric_kind[]){TC_METRIC_MAE}),
           TC_OK);
  tc_data d = {x, y, N, 0};
  tc_fit_options fo = tc_fit_defaults();
  fo.epochs = 60;
  fo.batch_size = 32;
  fo.verbose = 0;
  fo.validation_split = 0.2f;
  tc_history h;
  CHECK_EQ(tc_net_fit(net, &d, &fo, &h), TC_OK);
  CHECK_EQ(h.n_epochs, 60);
  const double *loss = tc_history_get(&h, "loss"), *vl = tc_history_get(&h, "val_loss");
  CHECK(loss && vl && tc_history_get(&h, "mae") && tc_history_get(&h, "val_mae"));
  CHECK(loss[59] < loss[0]);
  CHECK_MSG(vl[59] < 0.02, "final val MSE %g", vl[59]);
  tc_logs logs;
  CHECK_EQ(tc_net_evaluate(net, &d, 64, 0, &logs), TC_OK);
  double mse;
  CHECK(tc_logs_get(&logs, "loss", &mse));
  CHECK(mse < 0.02);
  /* predict agrees with a hand MSE on the first 100 samples. */
  float out[100];
  CHECK_EQ(tc_net_predict(net, x, 100, 7, out), TC_OK);
  double e = 0;
  for (int i = 0; i < 100; i++) e += (out[i] - y[i]) * (out[i] - y[i]);
  CHECK(e / 100 < 0.03);
  tc_history_free(&h);
  tc_net_destroy(net);
}

/* 4 Gaussian-ish clusters in 8 dimensions; label = cluster. */
static void make_blobs(float *x, float *y, int n, uint32_t seed) {
  uint32_t s = seed;
  for (int i = 0; i < n; i++) {
    int c = i % 4;
    y[i] = (float)c;
    for (int k = 0; k < 8; k++)
      x[i * 8 + k] = (k == 2 * c ? 2.0f : 0.0f) + (urand(&s) - 0.5f) * 1.5f;
  }
}

static tc_net *blob_net(int dropout) {
  tc_net *net;
  tc_net_create(&net);
  tc_net_set_seed(net, 5);
  tc_net_add(net, tc_layer_input(1, (int32_t[]){8}));
  tc_net_add(net, tc_layer_dense(16, TC_ACT_RELU));
  if (dropout) tc_net_add(net, tc_layer_dropout(0.2f));
  tc_net_add(net, tc_layer_dense(4, TC_ACT_LINEAR));
  tc_net_compile(net, tc_loss_make(TC_LOSS_SPARSE_CATEGORICAL_XENT, 1), tc_optim_adam(0.01f), 1,
                 (tc_metric_kind[]){TC_METRIC_ACCURACY});
  return net;
}

static size_t cap_seen[8];
static int n_cap;
static tc_status record_capacity(tc_callback *cb, tc_net *net, int epoch, const tc_logs *logs) {
  (void)cb, (void)epoch, (void)logs;
  if (n_cap < 8) cap_seen[n_cap++] = tc_train_ctx_capacity(tc_net_ctx(net));
  return TC_OK;
}

TC_TEST(train_fit_classification_progress) {
  enum { N = 800 };
  static float x[N * 8], y[N];
  make_blobs(x, y, N, 3);
  tc_net *net = blob_net(1);
  tc_data d = {x, y, N, 0};
  tc_fit_options fo = tc_fit_defaults();
  fo.epochs = 5;
  fo.batch_size = 32;
  fo.seed = 9;
  fo.validation_split = 0.25f;
  fo.verbose = 1;
  FILE *f = tmpfile();
  fo.progress = f;
  tc_callback cap = {0};
  cap.on_epoch_end = record_capacity;
  tc_callback *cbs[1] = {&cap};
  fo.callbacks = cbs;
  fo.n_callbacks = 1;
  n_cap = 0;
  tc_history h;
  CHECK_EQ(tc_net_fit(net, &d, &fo, &h), TC_OK);
  const double *acc = tc_history_get(&h, "accuracy"), *va = tc_history_get(&h, "val_accuracy");
  CHECK(acc && va);
  CHECK_MSG(va && va[4] > 0.95, "val accuracy %g", va ? va[4] : -1);
  CHECK_EQ(tc_net_epochs_done(net), 5);
  /* The arena reached its steady size in the first epoch. */
  CHECK_EQ(n_cap, 5);
  CHECK_EQ(cap_seen[4], cap_seen[1]);
  /* Not a terminal: one plain line per epoch, Keras format. 600 training samples / 32 -> 19. */
  rewind(f);
  char text[4096] = "";
  size_t got = fread(text, 1, sizeof text - 1, f);
  text[got] = 0;
  fclose(f);
  CHECK_STR_CONTAINS(text, "Epoch 1/5\n19/19 [==============================] - ");
  CHECK_STR_CONTAINS(text, "/step - loss: ");
  CHECK_STR_CONTAINS(text, " - accuracy: ");
  CHECK_STR_CONTAINS(text, " - val_loss: ");
  CHECK_STR_CONTAINS(text, "Epoch 5/5\n");
  CHECK(strchr(text, '\r') == NULL);
  int lines = 0;
  for (char *p = text; *p; p++) lines += *p == '\n';
  CHECK_EQ(lines, 10);
  /* verbose 2: "19/19 - 0s - ..ms/step - loss: ..." */
  f = tmpfile();
  fo.progress = f;
  fo.verbose = 2;
  fo.epochs = 6;
  fo.initial_epoch = 5;
  fo.n_callbacks = 0;
  tc_history_free(&h);
  CHECK_EQ(tc_net_fit(net, &d, &fo, &h), TC_OK);
  CHECK_EQ(h.n_epochs, 1);
  rewind(f);
  got = fread(text, 1, sizeof text - 1, f);
  text[got] = 0;
  fclose(f);
  CHECK_STR_CONTAINS(text, "Epoch 6/6\n19/19 - ");
  /* verbose 0: silent. */
  f = tmpfile();
  fo.progress = f;
  fo.verbose = 0;
  fo.epochs = 7;
  fo.initial_epoch = 6;
  tc_history_free(&h);
  CHECK_EQ(tc_net_fit(net, &d, &fo, NULL), TC_OK);
  CHECK_EQ(ftell(f), 0);
  fclose(f);
  /* Errors: not compiled, no data. */
  CHECK_EQ(tc_net_fit(net, NULL, &fo, NULL), TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_net_errmsg(net), "no training data");
  tc_net_destroy(net);
}

typedef struct src {
  const float *x, *y;
} src;

static tc_status batch_source(void *user, int epoch, size_t index, tc_train_ctx *ctx,
                              tc_tensor **x, tc_tensor **y) {
  src *s = user;
  (void)epoch;
  tc_status st = tc_tensor_wrap(ctx, TC_DTYPE_F32, 2, (int32_t[]){40, 8},
                                (void *)(s->x + index * 40 * 8), x);
  if (st) return st;
  /* int32 labels work too. */
  int32_t lab[40];
  for (int i = 0; i < 40; i++) lab[i] = (int32_t)s->y[index * 40 + i];
  return tc_tensor_step(ctx, TC_DTYPE_I32, 1, (int32_t[]){40}, lab, y);
}

TC_TEST(train_fit_batch_source) {
  enum { N = 800 };
  static float x[N * 8], y[N];
  make_blobs(x, y, N, 4);
  tc_net *net = blob_net(0);
  src s = {x, y};
  tc_fit_options fo = tc_fit_defaults();
  fo.epochs = 4;
  fo.verbose = 0;
  fo.batches = batch_source;
  fo.batches_user = &s;
  fo.steps_per_epoch = N / 40;
  tc_history h;
  CHECK_EQ(tc_net_fit(net, NULL, &fo, &h), TC_OK);
  CHECK(tc_history_get(&h, "accuracy")[3] > 0.9);
  tc_history_free(&h);
  fo.steps_per_epoch = 0;
  CHECK_EQ(tc_net_fit(net, NULL, &fo, NULL), TC_ERR_ARG);
  tc_net_destroy(net);
}

/* From epoch 2 on, scramble the weights at each epoch start (lr is 0, so nothing else moves):
 * the loss gets worse and EarlyStopping must stop and restore epoch 0's weights. */
static tc_status scramble(tc_callback *cb, tc_net *net, int epoch) {
  (void)cb;
  if (epoch < 2) return TC_OK;
  tc_tensor *w = tc_net_weight(net, 0, NULL);
  for (size_t i = 0; i < tc_tensor_size(w); i++) tc_tensor_f32(w)[i] += (i % 2 ? 0.7f : -0.9f);
  return TC_OK;
}

static float halve(int epoch, float lr, void *user) {
  (void)user;
  return epoch == 0 ? lr : lr * 0.5f;
}

TC_TEST(train_fit_callbacks) {
  enum { N = 200 };
  static float x[N * 8], y[N];
  make_blobs(x, y, N, 5);
  tc_net *net = blob_net(0);
  tc_net_compile(net, tc_loss_make(TC_LOSS_SPARSE_CATEGORICAL_XENT, 1), tc_optim_sgd(0, 0, 0), 1,
                 (tc_metric_kind[]){TC_METRIC_ACCURACY});
  tc_tensor *w0 = tc_net_weight(net, 0, NULL);
  float before[8 * 16];
  memcpy(before, tc_tensor_f32(w0), sizeof before);
  tc_callback *es, *csv;
  char dir[] = "/tmp/tc_fit_XXXXXX", path[256];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/log.csv", dir);
  CHECK_EQ(tc_callback_early_stopping("loss", 2, 0.0f, 1, &es), TC_OK);
  CHECK_EQ(tc_callback_csv_logger(path, 0, &csv), TC_OK);
  tc_callback scr = {0};
  scr.on_epoch_begin = scramble;
  tc_callback *cbs[3] = {&scr, es, csv};
  tc_data d = {x, y, N, 0};
  tc_fit_options fo = tc_fit_defaults();
  fo.epochs = 20;
  fo.verbose = 0;
  fo.shuffle = 0; /* same batch order: epochs 0 and 1 give bit-identical losses */
  fo.callbacks = cbs;
  fo.n_callbacks = 3;
  tc_history h;
  CHECK_EQ(tc_net_fit(net, &d, &fo, &h), TC_OK);
  /* Epoch 0 best, epoch 1 equal (no improvement), epoch 2 worse: wait reaches 2 at epoch 2. */
  CHECK_EQ(tc_callback_early_stopping_stopped_epoch(es), 2);
  CHECK_EQ(h.n_epochs, 3);
  CHECK(!memcmp(before, tc_tensor_f32(w0), sizeof before));
  FILE *f = fopen(path, "r");
  CHECK(f != NULL);
  char line[256];
  CHECK(fgets(line, sizeof line, f) != NULL);
  CHECK(!strcmp(line, "epoch,accuracy,loss\n"));
  int rows = 0;
  while (fgets(line, sizeof line, f)) rows++;
  fclose(f);
  CHECK_EQ(rows, 3);
  unlink(path);
  rmdir(dir);
  tc_history_free(&h);
  tc_callback_destroy(es);
  tc_callback_destroy(csv);
  /* LearningRateScheduler: 0.01 at epoch 0, halved at each later epoch begin. */
  tc_callback *lrs;
  CHECK_EQ(tc_callback_lr_scheduler(halve, NULL, &lrs), TC_OK);
  tc_net_compile(net, tc_loss_make(TC_LOSS_SPARSE_CATEGORICAL_XENT, 1), tc_optim_sgd(0.01f, 0, 0),
                 0, NULL);
  fo.callbacks = &lrs;
  fo.n_callbacks = 1;
  fo.epochs = 3;
  CHECK_EQ(tc_net_fit(net, &d, &fo, NULL), TC_OK);
  CHECK_NEAR(tc_optim_lr(tc_net_optim(net)), 0.0025, 1e-9);
  tc_callback_destroy(lrs);
  tc_net_destroy(net);
}
