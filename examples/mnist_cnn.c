/* mnist_cnn.c: the CNN benchmark workload on the MNIST t10k set (images 0..7999 train,
 * 8000..9999 test): Conv 32 3x3 + ReLU, MaxPool 2, Conv 64 3x3 + ReLU, MaxPool 2, Flatten,
 * Dense 128 + ReLU, Dense 10; Adam 1e-3, batch 64, 3 epochs; trained with fit() like Keras'
 * model.fit, then evaluated and saved as a checkpoint (compare mnist_mlp.c, a custom loop).
 * usage: example_mnist_cnn [MNIST_DIR] [epochs] [CHECKPOINT] */
#include <stdio.h>
#include <stdlib.h>

#include "tensorc_data.h"

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "../shared/data/datasets/mnist";
  int epochs = argc > 2 ? atoi(argv[2]) : 3;
  char img[512], lbl[512], err[512];
  snprintf(img, sizeof img, "%s/t10k-images-idx3-ubyte.gz", dir);
  snprintf(lbl, sizeof lbl, "%s/t10k-labels-idx1-ubyte.gz", dir);
  tc_tensor *x, *yi, *tx, *tyi, *y, *ty;
  if (tc_data_load_mnist(img, lbl, 0, 8000, &x, &yi, err, sizeof err) != TC_OK ||
      tc_data_load_mnist(img, lbl, 8000, 2000, &tx, &tyi, err, sizeof err) != TC_OK) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  tc_data_cast(yi, TC_DTYPE_F32, &y); /* tc_data holds class ids as floats */
  tc_data_cast(tyi, TC_DTYPE_F32, &ty);

  tc_net *net;
  tc_net_create(&net);
  tc_net_add(net, tc_layer_input(3, (int32_t[]){28, 28, 1}));
  tc_net_add(net, tc_layer_conv2d(32, 3, 1, TC_PADDING_VALID, TC_ACT_RELU));
  tc_net_add(net, tc_layer_max_pool2d(2, 0, TC_PADDING_VALID));
  tc_net_add(net, tc_layer_conv2d(64, 3, 1, TC_PADDING_VALID, TC_ACT_RELU));
  tc_net_add(net, tc_layer_max_pool2d(2, 0, TC_PADDING_VALID));
  tc_net_add(net, tc_layer_flatten());
  tc_net_add(net, tc_layer_dense(128, TC_ACT_RELU));
  tc_status st = tc_net_add(net, tc_layer_dense(10, TC_ACT_LINEAR));
  tc_metric_kind metrics[1] = {TC_METRIC_ACCURACY};
  if (st == TC_OK)
    st = tc_net_compile(net, tc_loss_make(TC_LOSS_SPARSE_CATEGORICAL_XENT, 1), tc_optim_adam(1e-3f),
                        1, metrics);
  if (st == TC_OK) tc_net_summary_print(net, stdout);

  tc_data train = {tc_tensor_f32(x), tc_tensor_f32(y), 8000, 0};
  tc_data test = {tc_tensor_f32(tx), tc_tensor_f32(ty), 2000, 0};
  tc_fit_options fo = tc_fit_defaults();
  fo.epochs = epochs;
  fo.batch_size = 64;
  tc_history history = {0};
  if (st == TC_OK) st = tc_net_fit(net, &train, &fo, &history);
  tc_logs logs = {0};
  double acc = 0;
  if (st == TC_OK) st = tc_net_evaluate(net, &test, 500, 0, &logs);
  if (st == TC_OK && tc_logs_get(&logs, "accuracy", &acc))
    printf("final training loss %.4f, test_accuracy=%.4f\n",
           tc_history_get(&history, "loss")[history.n_epochs - 1], acc);
  if (st == TC_OK && argc > 3) {
    st = tc_net_save(net, argv[3]);
    if (st == TC_OK) printf("saved %s\n", argv[3]);
  }
  if (st != TC_OK) fprintf(stderr, "error: %s: %s\n", tc_status_str(st), tc_net_errmsg(net));
  tc_history_free(&history);
  tc_net_destroy(net);
  tc_tensor_destroy(x), tc_tensor_destroy(yi), tc_tensor_destroy(y);
  tc_tensor_destroy(tx), tc_tensor_destroy(tyi), tc_tensor_destroy(ty);
  return st == TC_OK ? 0 : 1;
}
