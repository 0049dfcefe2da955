/* mnist_mlp.c: the MLP benchmark workload (784-128-ReLU-10, Adam 1e-3, batch 32, 5 epochs) on
 * the MNIST t10k set (images 0..7999 train, 8000..9999 test), written as a custom training loop:
 * a Sequential net gives the forward pass, the tape the gradients, an optimizer the update
 * (compare mnist_cnn.c, which calls fit()). usage: example_mnist_mlp [MNIST_DIR] [epochs] */
#include <stdio.h>
#include <stdlib.h>

#include "tensorc_data.h"

#define BATCH 32

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "../shared/data/datasets/mnist";
  int epochs = argc > 2 ? atoi(argv[2]) : 5;
  char img[512], lbl[512], err[512];
  snprintf(img, sizeof img, "%s/t10k-images-idx3-ubyte.gz", dir);
  snprintf(lbl, sizeof lbl, "%s/t10k-labels-idx1-ubyte.gz", dir);
  tc_tensor *x, *y, *tx, *ty;
  if (tc_data_load_mnist(img, lbl, 0, 8000, &x, &y, err, sizeof err) != TC_OK ||
      tc_data_load_mnist(img, lbl, 8000, 2000, &tx, &ty, err, sizeof err) != TC_OK) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  tc_net *net;
  tc_net_create(&net);
  tc_net_add(net, tc_layer_input(3, (int32_t[]){28, 28, 1}));
  tc_net_add(net, tc_layer_flatten());
  tc_net_add(net, tc_layer_dense(128, TC_ACT_RELU));
  tc_status st = tc_net_add(net, tc_layer_dense(10, TC_ACT_LINEAR));
  tc_net_summary_print(net, stdout);
  tc_loss loss = tc_loss_make(TC_LOSS_SPARSE_CATEGORICAL_XENT, 1);
  tc_optim_config oc = tc_optim_adam(1e-3f);
  tc_optim *opt = NULL;
  if (st == TC_OK) st = tc_optim_create(&oc, &opt);
  tc_train_ctx *ctx = tc_net_ctx(net);
  tc_tensor *const *params;
  size_t n_params = tc_net_trainable(net, &params);
  for (int e = 0; e < epochs && st == TC_OK; e++) {
    tc_data_shuffle(x, y, 1000 + (uint64_t)e); /* a new order every epoch */
    double sum = 0;
    for (int b = 0; b < 8000 / BATCH && st == TC_OK; b++) {
      tc_tensor *xb, *yb, *logits, *l, *grads[16];
      tc_train_ctx_step_reset(ctx);
      tc_tensor_wrap(ctx, TC_DTYPE_F32, 4, (int32_t[]){BATCH, 28, 28, 1},
                     tc_tensor_f32(x) + (size_t)b * BATCH * 784, &xb);
      tc_tensor_wrap(ctx, TC_DTYPE_I32, 1, (int32_t[]){BATCH}, tc_tensor_i32(y) + b * BATCH, &yb);
      tc_tape_start(ctx);
      st = tc_net_forward(net, ctx, 1, &xb, 1, &logits);                     /* forward */
      if (st == TC_OK) st = tc_loss_compute(ctx, &loss, logits, yb, &l);
      tc_tape_stop(ctx);
      if (st == TC_OK) st = tc_gradient(ctx, l, n_params, params, grads);    /* backward */
      if (st == TC_OK) st = tc_optim_apply(opt, n_params, params, grads);    /* update */
      if (st == TC_OK) sum += tc_tensor_item(l);
    }
    printf("epoch %d: loss %.4f\n", e + 1, sum / (8000 / BATCH));
  }
  /* Test accuracy, in batches of 500, inference mode. */
  tc_metric acc;
  tc_metric_init(&acc, TC_METRIC_ACCURACY, &loss);
  for (int b = 0; b < 4 && st == TC_OK; b++) {
    tc_tensor *xb, *yb, *logits;
    tc_train_ctx_step_reset(ctx);
    tc_tensor_wrap(ctx, TC_DTYPE_F32, 4, (int32_t[]){500, 28, 28, 1},
                   tc_tensor_f32(tx) + (size_t)b * 500 * 784, &xb);
    tc_tensor_wrap(ctx, TC_DTYPE_I32, 1, (int32_t[]){500}, tc_tensor_i32(ty) + b * 500, &yb);
    st = tc_net_forward(net, ctx, 1, &xb, 0, &logits);
    if (st == TC_OK) st = tc_metric_update(&acc, logits, yb);
  }
  if (st != TC_OK) fprintf(stderr, "error: %s: %s\n", tc_status_str(st), tc_net_errmsg(net));
  else printf("test_accuracy=%.4f\n", tc_metric_result(&acc));
  tc_optim_destroy(opt);
  tc_net_destroy(net);
  tc_tensor_destroy(x), tc_tensor_destroy(y), tc_tensor_destroy(tx), tc_tensor_destroy(ty);
  return st == TC_OK ? 0 : 1;
}
