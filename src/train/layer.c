/* layer.c: layer configs with the Keras defaults, Keras class and name prefixes, activations,
 * the initializers used by layers (including orthogonal) and weight creation. The per-kind
 * build and call code lives in layers_core.c and layers_rnn.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "train/model.h"

static tc_layer_config base(tc_layer_kind kind) {
  tc_layer_config c;
  memset(&c, 0, sizeof c);
  c.kind = kind;
  c.stride_h = c.stride_w = 1;
  c.dilation_h = c.dilation_w = 1;
  c.depth_multiplier = 1;
  c.padding = TC_PADDING_VALID;
  c.activation = TC_ACT_LINEAR;
  c.recurrent_activation = TC_ACT_SIGMOID;
  c.alpha = 0.3f;
  c.use_bias = 1;
  c.kernel_init = (tc_initializer){TC_INIT_GLOROT_UNIFORM, 0, 0};
  c.bias_init = (tc_initializer){TC_INIT_ZEROS, 0, 0};
  c.recurrent_init = (tc_initializer){TC_INIT_ORTHOGONAL, 1.0f, 0};
  c.momentum = 0.99f;
  c.epsilon = 1e-3f;
  c.axis = -1;
  c.unit_forget_bias = 1;
  c.reset_after = 1;
  return c;
}

static void set_dims(tc_layer_config *c, int rank, const int32_t *dims) {
  c->rank = (rank >= 0 && rank <= TC_MAX_DIMS) ? rank : -1;
  for (int i = 0; i < rank && i < TC_MAX_DIMS && dims; i++) c->dims[i] = dims[i];
}

tc_layer_config tc_layer_input(int rank, const int32_t *dims) {
  tc_layer_config c = base(TC_LAYER_INPUT);
  set_dims(&c, rank, dims);
  return c;
}

tc_layer_config tc_layer_dense(int units, tc_activation act) {
  tc_layer_config c = base(TC_LAYER_DENSE);
  c.units = units;
  c.activation = act;
  return c;
}

tc_layer_config tc_layer_conv2d(int filters, int kernel, int stride, tc_padding pad,
                                tc_activation act) {
  tc_layer_config c = base(TC_LAYER_CONV2D);
  c.units = filters;
  c.kernel_h = c.kernel_w = kernel;
  c.stride_h = c.stride_w = stride > 0 ? stride : 1;
  c.padding = pad;
  c.activation = act;
  return c;
}

tc_layer_config tc_layer_depthwise_conv2d(int kernel, int stride, int depth_multiplier,
                                          tc_padding pad, tc_activation act) {
  tc_layer_config c = base(TC_LAYER_DEPTHWISE_CONV2D);
  c.kernel_h = c.kernel_w = kernel;
  c.stride_h = c.stride_w = stride > 0 ? stride : 1;
  c.depth_multiplier = depth_multiplier;
  c.padding = pad;
  c.activation = act;
  return c;
}

static tc_layer_config pool(tc_layer_kind kind, int size, int stride, tc_padding pad) {
  tc_layer_config c = base(kind);
  c.kernel_h = c.kernel_w = size;
  c.stride_h = c.stride_w = stride > 0 ? stride : size;
  c.padding = pad;
  return c;
}

tc_layer_config tc_layer_max_pool2d(int size, int stride, tc_padding pad) {
  return pool(TC_LAYER_MAX_POOL2D, size, stride, pad);
}
tc_layer_config tc_layer_avg_pool2d(int size, int stride, tc_padding pad) {
  return pool(TC_LAYER_AVG_POOL2D, size, stride, pad);
}
tc_layer_config tc_layer_global_avg_pool2d(void) { return base(TC_LAYER_GLOBAL_AVG_POOL2D); }
tc_layer_config tc_layer_flatten(void) { return base(TC_LAYER_FLATTEN); }

tc_layer_config tc_layer_reshape(int rank, const int32_t *dims) {
  tc_layer_config c = base(TC_LAYER_RESHAPE);
  set_dims(&c, rank, dims);
  return c;
}

tc_layer_config tc_layer_dropout(float rate) {
  tc_layer_config c = base(TC_LAYER_DROPOUT);
  c.rate = rate;
  return c;
}

tc_layer_config tc_layer_batch_norm(void) { return base(TC_LAYER_BATCH_NORM); }

tc_layer_config tc_layer_activation(tc_activation act) {
  tc_layer_config c = base(TC_LAYER_ACTIVATION);
  c.activation = act;
  return c;
}

tc_layer_config tc_layer_embedding(int input_dim, int output_dim) {
  tc_layer_config c = base(TC_LAYER_EMBEDDING);
  c.input_dim = input_dim;
  c.units = output_dim;
  c.kernel_init = (tc_initializer){TC_INIT_UNIFORM, -0.05f, 0.05f};
  return c;
}

tc_layer_config tc_layer_add(void) { return base(TC_LAYER_ADD); }

tc_layer_config tc_layer_concatenate(int axis) {
  tc_layer_config c = base(TC_LAYER_CONCATENATE);
  c.axis = axis;
  return c;
}

tc_layer_config tc_layer_lstm(int units, int return_sequences) {
  tc_layer_config c = base(TC_LAYER_LSTM);
  c.units = units;
  c.activation = TC_ACT_TANH;
  c.return_sequences = return_sequences;
  return c;
}

tc_layer_config tc_layer_gru(int units, int return_sequences) {
  tc_layer_config c = base(TC_LAYER_GRU);
  c.units = units;
  c.activation = TC_ACT_TANH;
  c.return_sequences = return_sequences;
  return c;
}

static const char *const k_class[TC_LAYER__COUNT] = {
    "InputLayer", "Dense", "Conv2D", "DepthwiseConv2D", "MaxPooling2D", "AveragePooling2D",
    "GlobalAveragePooling2D", "Flatten", "Reshape", "Dropout", "BatchNormalization", "Activation",
    "Embedding", "Add", "Concatenate", "LSTM", "GRU"};
static const char *const k_prefix[TC_LAYER__COUNT] = {
    "input_layer", "dense", "conv2d", "depthwise_conv2d", "max_pooling2d", "average_pooling2d",
    "global_average_pooling2d", "flatten", "reshape", "dropout", "batch_normalization",
    "activation", "embedding", "add", "concatenate", "lstm", "gru"};

const char *tc_layer_kind_class(tc_layer_kind k) {
  return ((unsigned)k < TC_LAYER__COUNT) ? k_class[k] : "?";
}
const char *tc_layer_kind_prefix(tc_layer_kind k) {
  return ((unsigned)k < TC_LAYER__COUNT) ? k_prefix[k] : "?";
}

static const char *const k_act[] = {"linear", "relu",    "relu6", "sigmoid",
                                    "tanh",   "softmax", "gelu",  "leaky_relu"};
#define N_ACT ((int)(sizeof k_act / sizeof k_act[0]))

const char *tc_activation_name(tc_activation a) {
  return ((int)a >= 0 && (int)a < N_ACT) ? k_act[a] : "?";
}

int tc_activation_parse(const char *name, tc_activation *out) {
  if (!name || !out) return -1;
  for (int i = 0; i < N_ACT; i++)
    if (!strcmp(name, k_act[i])) {
      *out = (tc_activation)i;
      return 0;
    }
  if (!strcmp(name, "none") || !strcmp(name, "")) {
    *out = TC_ACT_LINEAR;
    return 0;
  }
  return -1;
}

tc_status tc_activation_apply(tc_train_ctx *ctx, tc_activation act, float alpha,
                              const tc_tensor *x, tc_tensor **out) {
  if (!ctx || !x || !out) return TC_ERR_ARG;
  switch (act) {
  case TC_ACT_LINEAR: *out = (tc_tensor *)x; return TC_OK;
  case TC_ACT_RELU: return tc_relu(ctx, x, out);
  case TC_ACT_RELU6: return tc_relu6(ctx, x, out);
  case TC_ACT_SIGMOID: return tc_sigmoid(ctx, x, out);
  case TC_ACT_TANH: return tc_tanh(ctx, x, out);
  case TC_ACT_SOFTMAX: return tc_softmax(ctx, x, out);
  case TC_ACT_GELU: return tc_gelu(ctx, x, 0, out);
  case TC_ACT_LEAKY_RELU: return tc_leaky_relu(ctx, x, alpha, out);
  }
  return tc__tr_err(ctx, TC_ERR_ARG, "activation: unknown kind %d", (int)act);
}

/* ---- initializers ---- */

/* Orthogonal (Keras): for a [rows, cols] view of the tensor (rows = all dims but the last), draw
 * a standard normal [max, min] matrix, orthonormalize its columns (modified Gram-Schmidt, in
 * double; the sign convention of QR's diag(R) > 0 is what Gram-Schmidt gives), and lay it out
 * so that the smaller side is orthonormal; scale by the gain a. */
static tc_status init_orthogonal(tc_tensor *t, float gain, uint64_t seed) {
  int rank = tc_tensor_rank(t);
  size_t cols = rank ? (size_t)tc_tensor_dim(t, -1) : 1, rows = tc_tensor_size(t) / cols;
  size_t big = rows > cols ? rows : cols, small = rows > cols ? cols : rows;
  int32_t d[1] = {(int32_t)(big * small)};
  tc_tensor *g;
  tc_status st = tc_tensor_create(TC_DTYPE_F32, 1, d, &g);
  if (st) return st;
  tc_tensor_init(g, TC_INIT_NORMAL, 0.0f, 1.0f, seed);
  double *q = tc__malloc(big * small * sizeof(double));
  if (!q) {
    tc_tensor_destroy(g);
    return TC_ERR_NOMEM;
  }
  const float *pg = tc_tensor_f32_const(g);
  for (size_t i = 0; i < big * small; i++) q[i] = pg[i]; /* column j = q[j*big .. ] */
  for (size_t j = 0; j < small; j++) {
    double *cj = q + j * big;
    for (size_t k = 0; k < j; k++) {
      const double *ck = q + k * big;
      double dot = 0;
      for (size_t i = 0; i < big; i++) dot += cj[i] * ck[i];
      for (size_t i = 0; i < big; i++) cj[i] -= dot * ck[i];
    }
    double nrm = 0;
    for (size_t i = 0; i < big; i++) nrm += cj[i] * cj[i];
    nrm = sqrt(nrm);
    for (size_t i = 0; i < big; i++) cj[i] = nrm > 0 ? cj[i] / nrm : 0;
  }
  float *pt = tc_tensor_f32(t);
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < cols; c++) {
      /* rows >= cols: element (r, c) is column c's entry r; else row r of the transpose. */
      double v = rows >= cols ? q[c * big + r] : q[r * big + c];
      pt[r * cols + c] = (float)(gain * v);
    }
  tc__free(q);
  tc_tensor_destroy(g);
  return TC_OK;
}

tc_status tc__init_tensor(tc_tensor *t, tc_initializer init, uint64_t seed) {
  if (init.kind == TC_INIT_ORTHOGONAL) return init_orthogonal(t, init.a ? init.a : 1.0f, seed);
  return tc_tensor_init(t, init.kind, init.a, init.b, seed);
}

tc_status tc__layer_add_weight(tc__layer *L, const char *name, int rank, const int32_t *dims,
                               tc_initializer init, int trainable, float l2, uint64_t seed) {
  if (L->n_w >= TC__LAYER_MAX_W) return TC_ERR_ARG;
  tc_tensor *t;
  tc_status st = trainable ? tc_tensor_create_param(rank, dims, &t)
                           : tc_tensor_create(TC_DTYPE_F32, rank, dims, &t);
  if (st) return st;
  /* Each weight gets its own stream: mix the layer seed with the weight's position. */
  uint64_t s = seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(L->n_w + 1));
  if ((st = tc__init_tensor(t, init, s))) {
    tc_tensor_destroy(t);
    return st;
  }
  L->w[L->n_w] = t;
  L->wname[L->n_w] = name;
  L->w_trainable[L->n_w] = trainable;
  L->w_l2[L->n_w] = l2;
  L->n_w++;
  return TC_OK;
}

int tc__layer_config_check(const tc_layer_config *c, char *err, size_t n) {
  const char *cls = tc_layer_kind_class(c->kind);
  if ((unsigned)c->kind >= TC_LAYER__COUNT) {
    tc__fmt(err, n, "unknown layer kind %d", (int)c->kind);
    return 0;
  }
  if ((int)c->activation < 0 || (int)c->activation >= N_ACT ||
      (int)c->recurrent_activation < 0 || (int)c->recurrent_activation >= N_ACT) {
    tc__fmt(err, n, "%s: unknown activation", cls);
    return 0;
  }
  switch (c->kind) {
  case TC_LAYER_DENSE: case TC_LAYER_CONV2D: case TC_LAYER_LSTM: case TC_LAYER_GRU:
    if (c->units < 1) {
      tc__fmt(err, n, "%s: units/filters must be >= 1 (got %d)", cls, c->units);
      return 0;
    }
    break;
  case TC_LAYER_EMBEDDING:
    if (c->units < 1 || c->input_dim < 1) {
      tc__fmt(err, n, "Embedding: input_dim (%d) and output_dim (%d) must be >= 1", c->input_dim,
              c->units);
      return 0;
    }
    break;
  case TC_LAYER_DROPOUT:
    if (!(c->rate >= 0.0f && c->rate < 1.0f)) {
      tc__fmt(err, n, "Dropout: rate %g is outside [0, 1)", (double)c->rate);
      return 0;
    }
    break;
  case TC_LAYER_BATCH_NORM:
    if (!(c->momentum >= 0.0f && c->momentum <= 1.0f) || !(c->epsilon >= 0.0f)) {
      tc__fmt(err, n, "BatchNormalization: momentum %g must be in [0,1] and epsilon %g >= 0",
              (double)c->momentum, (double)c->epsilon);
      return 0;
    }
    break;
  case TC_LAYER_INPUT: case TC_LAYER_RESHAPE:
    /* rank -1: an Input whose shape comes later (Sequential without Input). */
    if (c->rank < (c->kind == TC_LAYER_INPUT ? -1 : 0) || c->rank > TC_MAX_DIMS - 1) {
      tc__fmt(err, n, "%s: rank %d is outside [0, %d]", cls, c->rank, TC_MAX_DIMS - 1);
      return 0;
    }
    break;
  default: break;
  }
  if (c->kind == TC_LAYER_CONV2D || c->kind == TC_LAYER_DEPTHWISE_CONV2D ||
      c->kind == TC_LAYER_MAX_POOL2D || c->kind == TC_LAYER_AVG_POOL2D) {
    if (c->kernel_h < 1 || c->kernel_w < 1 || c->stride_h < 0 || c->stride_w < 0 ||
        c->dilation_h < 0 || c->dilation_w < 0 || c->depth_multiplier < 1 ||
        (c->padding != TC_PADDING_VALID && c->padding != TC_PADDING_SAME)) {
      tc__fmt(err, n, "%s: invalid kernel %dx%d / strides %dx%d / dilation / padding", cls,
              c->kernel_h, c->kernel_w, c->stride_h, c->stride_w);
      return 0;
    }
  }
  return 1;
}

void tc__shape_str(const tc__shape *s, char *buf, size_t size) {
  if (s->rank < 0) {
    tc__fmt(buf, size, "?");
    return;
  }
  size_t pos = (size_t)snprintf(buf, size, "(None");
  for (int i = 0; i < s->rank && pos < size; i++)
    pos += (size_t)snprintf(buf + pos, size - pos, ", %d", (int)s->d[i]);
  if (pos < size) snprintf(buf + pos, size - pos, ")");
}
