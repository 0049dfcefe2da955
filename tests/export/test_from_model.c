/* test_from_model.c: float export of trained nets (tc_net_export). Small random nets of every
 * exportable layer kind (Dense, Conv2D, DepthwiseConv2D, pooling, global pooling, Flatten,
 * Reshape, Dropout, BatchNormalization folded and standalone, every activation, Embedding,
 * functional Add/Concatenate with two inputs and two outputs) are exported, written, loaded
 * and run by tensorc's interpreter; the outputs must match the training-side forward pass in
 * inference mode within 1e-5 relative to the output's largest magnitude. Also: the operator
 * count shows folding and fusion happened, the signature names the layers, the batch is
 * dynamic (resize to 3), LSTM is refused by name, and MNIST MLP/CNN after a short training. */
#include <math.h>
#include <stdlib.h>

#include "tc_test.h"
#include "tensorc_data.h"
#include "tensorc_export.h"
#include "tensorc_lite.h"
#include "tensorc_train.h"

static float urand(uint32_t *s) {
  *s = *s * 1664525u + 1013904223u;
  return (float)(*s >> 8) / 16777216.0f * 2.0f - 1.0f;
}

/* Random moving statistics and affine parameters for every BatchNormalization, so folding is
 * tested on something other than the identity. */
static void randomize_bn(tc_net *net, uint32_t seed) {
  for (size_t i = 0; i < tc_net_n_weights(net); i++) {
    const char *name;
    tc_tensor *t = tc_net_weight(net, i, &name);
    if (!strstr(name, "batch_normalization")) continue;
    float *v = tc_tensor_f32(t);
    int var = strstr(name, "moving_variance") != NULL, gam = strstr(name, "gamma") != NULL;
    for (size_t k = 0; k < tc_tensor_size(t); k++) {
      float r = urand(&seed);
      v[k] = var ? 0.5f + r * r * 2.0f : gam ? 1.0f + 0.5f * r : r;
    }
  }
}

/* Exports net and loads the result; returns the interpreter (prepared) and keeps the bytes
 * alive in *bytes. n_ops receives the operator count. */
static tc_interp *export_load(tc_net *net, void **bytes, tc_model **m, int *n_ops) {
  tc_graphdef *g = NULL;
  tc_status s = tc_net_export(net, &g);
  CHECK_MSG(s == TC_OK, "export: %s", g ? tc_graphdef_errmsg(g) : tc_status_str(s));
  if (s) {
    tc_graphdef_destroy(g);
    return NULL;
  }
  *n_ops = tc_graphdef_op_count(g);
  size_t size = 0;
  s = tc_graphdef_write(g, bytes, &size);
  CHECK_MSG(s == TC_OK, "write: %s", tc_graphdef_errmsg(g));
  tc_graphdef_destroy(g);
  if (s) return NULL;
  tc_interp *it = NULL;
  s = tc_model_load_memory(*bytes, size, NULL, m);
  CHECK_MSG(s == TC_OK, "load: %s", *m ? tc_model_errmsg(*m) : tc_status_str(s));
  if (s) return NULL;
  if ((s = tc_interp_create(*m, NULL, &it)) == TC_OK) s = tc_interp_prepare(it);
  CHECK_MSG(s == TC_OK, "prepare: %s", it ? tc_interp_errmsg(it) : tc_status_str(s));
  if (s) {
    tc_interp_destroy(it);
    return NULL;
  }
  return it;
}

static size_t numel(const tc_net *net, int node) {
  int32_t d[TC_MAX_DIMS];
  int r = tc_net_layer_shape(net, node, d);
  size_t n = 1;
  for (int i = 0; i < r; i++) n *= (size_t)d[i];
  return n;
}

/* Runs n_samples random samples (batch n_samples on the training side, one by one in tensorc)
 * and compares every output. in_nodes/out_nodes: the net's input and output node ids.
 * `ints` > 0 draws whole numbers in [0, ints) (Embedding indices). Returns the worst
 * relative error. */
static double compare_x(tc_net *net, int n_in, const int *in_nodes, int n_out,
                        const int *out_nodes, int n_samples, int ints, int expect_ops,
                        const float *given) {
  void *bytes = NULL;
  tc_model *m = NULL;
  int n_ops = 0;
  tc_interp *it = export_load(net, &bytes, &m, &n_ops);
  double worst = 0;
  if (!it) goto done;
  if (expect_ops) CHECK_MSG(n_ops == expect_ops, "%d operators, expected %d", n_ops, expect_ops);
  CHECK_EQ(tc_interp_input_count(it), n_in);
  CHECK_EQ(tc_interp_output_count(it), n_out);
  tc_train_ctx *ctx;
  CHECK_EQ(tc_train_ctx_create(0, 1, &ctx), TC_OK);
  tc_tensor *xs[8], *ys[8];
  float *xdata[8];
  uint32_t seed = 7;
  for (int k = 0; k < n_in; k++) {
    int32_t d[TC_MAX_DIMS + 1];
    d[0] = n_samples;
    int r = tc_net_layer_shape(net, in_nodes[k], d + 1);
    size_t ne = numel(net, in_nodes[k]) * (size_t)n_samples;
    xdata[k] = malloc(ne * sizeof(float));
    for (size_t e = 0; e < ne; e++)
      xdata[k][e] = given ? given[e]
                  : ints > 0 ? (float)(int)((urand(&seed) + 1.0f) * 0.5f * (float)ints * 0.999f)
                             : urand(&seed) * 2.0f;
    CHECK_EQ(tc_tensor_wrap(ctx, TC_DTYPE_F32, r + 1, d, xdata[k], &xs[k]), TC_OK);
  }
  tc_status s = tc_net_forward(net, ctx, n_in, xs, 0, ys);
  CHECK_MSG(s == TC_OK, "forward: %s", tc_net_errmsg(net));
  for (int sm = 0; sm < n_samples && s == TC_OK; sm++) {
    for (int k = 0; k < n_in; k++) {
      size_t ne = numel(net, in_nodes[k]);
      CHECK_EQ(tc_interp_set_input(it, k, xdata[k] + (size_t)sm * ne, ne * sizeof(float)), TC_OK);
    }
    CHECK_EQ(tc_interp_invoke(it), TC_OK);
    for (int o = 0; o < n_out; o++) {
      size_t ne = numel(net, out_nodes[o]);
      float *got = malloc(ne * sizeof(float));
      CHECK_EQ(tc_interp_get_output(it, o, got, ne * sizeof(float)), TC_OK);
      const float *ref = tc_tensor_f32_const(ys[o]) + (size_t)sm * ne;
      double mx = 1e-6, err = 0;
      for (size_t e = 0; e < ne; e++) {
        if (fabs(ref[e]) > mx) mx = fabs(ref[e]);
        if (fabs(ref[e] - got[e]) > err) err = fabs(ref[e] - got[e]);
      }
      if (err / mx > worst) worst = err / mx;
      free(got);
    }
  }
  CHECK_MSG(worst <= 1e-5, "worst relative error %g", worst);
  printf("  %d operators, worst relative difference %.2g\n", n_ops, worst);
  for (int k = 0; k < n_in; k++) free(xdata[k]);
  tc_train_ctx_destroy(ctx);
done:
  tc_interp_destroy(it);
  tc_model_destroy(m);
  tc_export_free(bytes);
  return worst;
}

static double compare(tc_net *net, int n_in, const int *in_nodes, int n_out, const int *out_nodes,
                      int n_samples, int ints, int expect_ops) {
  return compare_x(net, n_in, in_nodes, n_out, out_nodes, n_samples, ints, expect_ops, NULL);
}

static double compare_seq(tc_net *net, int n_samples, int expect_ops) {
  int in = 0, out = tc_net_n_layers(net) - 1;
  return compare(net, 1, &in, 1, &out, n_samples, 0, expect_ops);
}

TC_TEST(export_net_mlp_folds_and_fuses) {
  tc_net *net;
  tc_net_create(&net);
  tc_net_set_seed(net, 3);
  tc_net_add(net, tc_layer_input(1, (int32_t[]){8}));
  tc_net_add(net, tc_layer_dense(16, TC_ACT_RELU));
  tc_net_add(net, tc_layer_dropout(0.3f));
  tc_net_add(net, tc_layer_dense(12, TC_ACT_LINEAR));
  tc_net_add(net, tc_layer_batch_norm());
  tc_net_add(net, tc_layer_activation(TC_ACT_RELU6));
  tc_net_add(net, tc_layer_dense(5, TC_ACT_SOFTMAX));
  randomize_bn(net, 11);
  /* FC(relu), FC(+BN, relu6), FC, SOFTMAX */
  compare_seq(net, 6, 4);
  tc_net_destroy(net);
}

TC_TEST(export_net_cnn_layers) {
  tc_net *net;
  tc_net_create(&net);
  tc_net_set_seed(net, 5);
  tc_net_add(net, tc_layer_input(3, (int32_t[]){10, 10, 3}));
  tc_net_add(net, tc_layer_conv2d(4, 3, 1, TC_PADDING_SAME, TC_ACT_LINEAR));
  tc_net_add(net, tc_layer_batch_norm());
  tc_net_add(net, tc_layer_activation(TC_ACT_RELU6));
  tc_net_add(net, tc_layer_depthwise_conv2d(3, 1, 2, TC_PADDING_VALID, TC_ACT_RELU));
  tc_net_add(net, tc_layer_max_pool2d(2, 0, TC_PADDING_VALID));
  tc_layer_config c = tc_layer_conv2d(5, 2, 1, TC_PADDING_SAME, TC_ACT_SIGMOID);
  c.stride_h = 2;
  c.kernel_w = 3;
  tc_net_add(net, c);
  tc_net_add(net, tc_layer_avg_pool2d(2, 1, TC_PADDING_SAME));
  tc_net_add(net, tc_layer_flatten());
  tc_net_add(net, tc_layer_dense(3, TC_ACT_TANH));
  randomize_bn(net, 12);
  /* CONV(+BN, relu6), DW(relu), MAXPOOL, CONV, LOGISTIC, AVGPOOL, RESHAPE, FC, TANH */
  compare_seq(net, 4, 9);
  tc_net_destroy(net);
}

TC_TEST(export_net_gap_reshape_gelu_leaky_bn) {
  tc_net *net;
  tc_net_create(&net);
  tc_net_set_seed(net, 9);
  tc_net_add(net, tc_layer_input(3, (int32_t[]){7, 6, 2}));
  tc_layer_config c = tc_layer_conv2d(6, 2, 1, TC_PADDING_VALID, TC_ACT_RELU);
  c.dilation_h = c.dilation_w = 2;
  tc_net_add(net, c);
  tc_net_add(net, tc_layer_batch_norm()); /* after a relu: standalone MUL + ADD */
  tc_net_add(net, tc_layer_global_avg_pool2d());
  tc_net_add(net, tc_layer_reshape(2, (int32_t[]){3, -1}));
  tc_net_add(net, tc_layer_dense(4, TC_ACT_GELU)); /* rank 3 with batch: keep_num_dims */
  tc_net_add(net, tc_layer_flatten());
  tc_layer_config l = tc_layer_dense(2, TC_ACT_LEAKY_RELU);
  l.alpha = 0.2f;
  tc_net_add(net, l);
  randomize_bn(net, 13);
  /* CONV, MUL, ADD, MEAN, RESHAPE, FC, GELU, RESHAPE, FC, LEAKY_RELU */
  compare_seq(net, 5, 10);
  tc_net_destroy(net);
}

TC_TEST(export_net_functional_two_inputs_two_outputs) {
  tc_net *net;
  tc_net_create(&net);
  tc_net_set_seed(net, 21);
  int a, b, d1, d2, sum, act, cat, head;
  tc_net_input(net, 1, (int32_t[]){4}, &a);
  tc_net_input(net, 1, (int32_t[]){3}, &b);
  tc_net_call(net, tc_layer_dense(6, TC_ACT_LINEAR), 1, &a, &d1);
  tc_net_call(net, tc_layer_dense(6, TC_ACT_TANH), 1, &b, &d2);
  tc_net_call(net, tc_layer_add(), 2, (int[]){d1, d2}, &sum);
  tc_net_call(net, tc_layer_activation(TC_ACT_RELU), 1, &sum, &act);
  tc_net_call(net, tc_layer_concatenate(-1), 2, (int[]){act, d1}, &cat);
  tc_net_call(net, tc_layer_dense(3, TC_ACT_SIGMOID), 1, &cat, &head);
  tc_net_set_outputs(net, 2, (int[]){head, d2});
  /* FC, FC, TANH, ADD(relu), CONCATENATION, FC, LOGISTIC */
  compare(net, 2, (int[]){a, b}, 2, (int[]){head, d2}, 4, 0, 7);
  /* The signature names inputs and outputs after their layers. */
  tc_graphdef *g;
  CHECK_EQ(tc_net_export(net, &g), TC_OK);
  void *bytes;
  size_t size;
  CHECK_EQ(tc_graphdef_write(g, &bytes, &size), TC_OK);
  tc_model *m;
  tc_interp *it;
  CHECK_EQ(tc_model_load_memory(bytes, size, NULL, &m), TC_OK);
  CHECK_EQ(tc_interp_create(m, NULL, &it), TC_OK);
  CHECK_EQ(tc_interp_prepare(it), TC_OK);
  const tc_layer_config *ca = tc_net_layer_config(net, a), *ch = tc_net_layer_config(net, head);
  CHECK_EQ(tc_interp_signature_input(it, "serving_default", ca->name), 0);
  CHECK_EQ(tc_interp_signature_output(it, "serving_default", ch->name), 0);
  CHECK_EQ(tc_interp_signature_output(it, "serving_default",
                                      tc_net_layer_config(net, d2)->name), 1);
  tc_interp_destroy(it);
  tc_model_destroy(m);
  tc_export_free(bytes);
  tc_graphdef_destroy(g);
  tc_net_destroy(net);
}

TC_TEST(export_net_embedding_and_batch_resize) {
  tc_net *net;
  tc_net_create(&net);
  tc_net_set_seed(net, 4);
  tc_net_add(net, tc_layer_input(1, (int32_t[]){5}));
  tc_net_add(net, tc_layer_embedding(10, 3));
  tc_net_add(net, tc_layer_flatten());
  tc_net_add(net, tc_layer_dense(2, TC_ACT_LINEAR));
  int in = 0, out = 3;
  /* CAST, GATHER, RESHAPE, FC */
  compare(net, 1, &in, 1, &out, 5, 10, 4);
  tc_net_destroy(net);

  /* Batch is -1 in the signature: resizing the input to 3 runs three samples at once. */
  tc_net_create(&net);
  tc_net_set_seed(net, 8);
  tc_net_add(net, tc_layer_input(3, (int32_t[]){4, 4, 2}));
  tc_net_add(net, tc_layer_conv2d(3, 3, 1, TC_PADDING_VALID, TC_ACT_RELU));
  tc_net_add(net, tc_layer_flatten());
  tc_net_add(net, tc_layer_dense(2, TC_ACT_LINEAR));
  void *bytes = NULL;
  tc_model *m = NULL;
  int n_ops;
  tc_interp *it = export_load(net, &bytes, &m, &n_ops);
  CHECK(it != NULL);
  if (it) {
    float x[3 * 32], ref[6], got[6];
    uint32_t s = 3;
    for (int i = 0; i < 96; i++) x[i] = urand(&s);
    CHECK_EQ(tc_net_predict(net, x, 3, 3, ref), TC_OK);
    CHECK_EQ(tc_interp_resize_input(it, 0, 4, (int32_t[]){3, 4, 4, 2}), TC_OK);
    CHECK_EQ(tc_interp_prepare(it), TC_OK);
    CHECK_EQ(tc_interp_set_input(it, 0, x, sizeof x), TC_OK);
    CHECK_EQ(tc_interp_invoke(it), TC_OK);
    CHECK_EQ(tc_interp_get_output(it, 0, got, sizeof got), TC_OK);
    for (int i = 0; i < 6; i++) CHECK_NEAR(got[i], ref[i], 1e-5 * (1 + fabs(ref[i])));
  }
  tc_interp_destroy(it);
  tc_model_destroy(m);
  tc_export_free(bytes);
  tc_net_destroy(net);
}

TC_TEST(export_net_errors) {
  tc_graphdef *g = NULL;
  tc_net *net;
  tc_net_create(&net);
  tc_net_add(net, tc_layer_input(2, (int32_t[]){5, 3}));
  tc_net_add(net, tc_layer_lstm(4, 0));
  tc_net_add(net, tc_layer_dense(1, TC_ACT_LINEAR));
  CHECK_EQ(tc_net_export(net, &g), TC_ERR_UNSUPPORTED);
  CHECK(g != NULL);
  CHECK_STR_CONTAINS(tc_graphdef_errmsg(g), "lstm");
  CHECK_STR_CONTAINS(tc_graphdef_errmsg(g), "not exportable yet");
  tc_graphdef_destroy(g);
  tc_net_destroy(net);

  /* A Sequential without Input that never saw data is not built. */
  tc_net_create(&net);
  tc_net_add(net, tc_layer_dense(3, TC_ACT_LINEAR));
  CHECK_EQ(tc_net_export(net, &g), TC_ERR_STATE);
  CHECK_STR_CONTAINS(tc_graphdef_errmsg(g), "not built");
  tc_graphdef_destroy(g);
  tc_net_destroy(net);

  /* Nothing but Dropout: no operator to write. */
  tc_net_create(&net);
  tc_net_add(net, tc_layer_input(1, (int32_t[]){3}));
  tc_net_add(net, tc_layer_dropout(0.5f));
  CHECK_EQ(tc_net_export(net, &g), TC_ERR_UNSUPPORTED);
  tc_graphdef_destroy(g);
  tc_net_destroy(net);
  CHECK_EQ(tc_net_export(NULL, NULL), TC_ERR_ARG);
}

/* MNIST MLP and CNN of the training issue after a short training on 1,000 images. */
static void mnist_case(int cnn) {
  const char *img = tc_test_shared("data/datasets/mnist/t10k-images-idx3-ubyte.gz");
  const char *lab = tc_test_shared("data/datasets/mnist/t10k-labels-idx1-ubyte.gz");
  tc_tensor *x = NULL, *y = NULL, *yf = NULL;
  tc_status s = tc_data_load_mnist(img, lab, 0, 1000, &x, &y, NULL, 0);
  CHECK_MSG(s == TC_OK, "mnist: %s", tc_status_str(s));
  if (s) return;
  CHECK_EQ(tc_data_cast(y, TC_DTYPE_F32, &yf), TC_OK);
  tc_net *net;
  tc_net_create(&net);
  tc_net_set_seed(net, 1);
  if (cnn) {
    tc_net_add(net, tc_layer_input(3, (int32_t[]){28, 28, 1}));
    tc_net_add(net, tc_layer_conv2d(8, 3, 1, TC_PADDING_VALID, TC_ACT_RELU));
    tc_net_add(net, tc_layer_max_pool2d(2, 0, TC_PADDING_VALID));
    tc_net_add(net, tc_layer_conv2d(16, 3, 1, TC_PADDING_VALID, TC_ACT_RELU));
    tc_net_add(net, tc_layer_max_pool2d(2, 0, TC_PADDING_VALID));
    tc_net_add(net, tc_layer_flatten());
    tc_net_add(net, tc_layer_dense(32, TC_ACT_RELU));
  } else {
    tc_net_add(net, tc_layer_input(3, (int32_t[]){28, 28, 1}));
    tc_net_add(net, tc_layer_flatten());
    tc_net_add(net, tc_layer_dense(128, TC_ACT_RELU));
  }
  tc_net_add(net, tc_layer_dense(10, TC_ACT_LINEAR));
  CHECK_EQ(tc_net_compile(net, tc_loss_make(TC_LOSS_SPARSE_CATEGORICAL_XENT, 1),
                          tc_optim_adam(1e-3f), 0, NULL),
           TC_OK);
  tc_data d = {tc_tensor_f32_const(x), tc_tensor_f32_const(yf), 1000, 0};
  tc_fit_options fo = tc_fit_defaults();
  fo.epochs = 1;
  fo.batch_size = 64;
  fo.verbose = 0;
  CHECK_EQ(tc_net_fit(net, &d, &fo, NULL), TC_OK);
  /* Real test images (the first 8 of the training range). */
  int in = 0, out = tc_net_n_layers(net) - 1;
  compare_x(net, 1, &in, 1, &out, 8, 0, cnn ? 7 : 3, tc_tensor_f32_const(x));
  tc_net_destroy(net);
  tc_tensor_destroy(x);
  tc_tensor_destroy(y);
  tc_tensor_destroy(yf);
}

TC_TEST(export_net_mnist_mlp) { mnist_case(0); }
TC_TEST(export_net_mnist_cnn) { mnist_case(1); }
