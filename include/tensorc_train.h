/* tensorc_train.h: the training API of tensorc. Eager float32 tensors, a step arena that makes a
 * training step allocation-free after warm-up, a tape for reverse-mode automatic differentiation,
 * and the differentiable ops (elementwise with broadcasting, matmul, conv2d, pooling, reductions,
 * shape ops, activations, softmax, dropout, batch norm, fused softmax cross-entropy).
 * Layers, models, optimizers and fit() are declared in the section at the end of this file.
 *
 * A training step reads like this (darknet-short):
 *
 *     tc_train_ctx_step_reset(ctx);                    // frees every step tensor, O(1)
 *     tc_tape_start(ctx);
 *     tc_matmul(ctx, x, w, 0, 0, &h);  tc_add(ctx, h, b, &h);  tc_relu(ctx, h, &h);
 *     ...
 *     tc_softmax_xent_sparse(ctx, logits, labels, &loss);
 *     tc_tape_stop(ctx);
 *     tc_gradient(ctx, loss, n_params, params, grads);  // grads are step tensors
 *     ... update each params[i] from grads[i] ...
 *
 * Layouts: every tensor is dense, row-major (the last dimension is contiguous). Images are NHWC.
 * Convolution filters use the Keras layout HWIO [kh, kw, cin, cout]; depthwise filters use Keras'
 * [kh, kw, cin, multiplier]. (The TFLite exporter converts to OHWI / [1, kh, kw, cin*mult].)
 *
 * Threading: a tc_train_ctx and the tensors it creates must be used by one thread at a time.
 * Persistent tensors may be shared between contexts if nobody writes them concurrently. */
#ifndef TENSORC_TRAIN_H
#define TENSORC_TRAIN_H

#include <stdio.h>

#include "tensorc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ==== Context and step arena ================================================================ */

/* A training context: owns the step arena (every tensor an op returns is bump-allocated there),
 * the tape, the dropout RNG, reusable scratch buffers for matmul/conv packing, and the message of
 * the last failure. */
typedef struct tc_train_ctx tc_train_ctx;

/* An n-dimensional float32 (or int32) tensor. Opaque; read it through the accessors below.
 * Two lifetimes exist:
 *  - persistent tensors (parameters, datasets, optimizer slots): made by tc_tensor_create*,
 *    owned by the caller until tc_tensor_destroy; they never depend on a context;
 *  - step tensors: returned by ops and by tc_tensor_step*, owned by the context and freed all at
 *    once by tc_train_ctx_step_reset (or destroy). Never pass them to tc_tensor_destroy. */
typedef struct tc_tensor tc_tensor;

/* Creates a context. `arena_bytes` is the initial size of the step arena (0: 4 MiB); it grows
 * on demand and, after a step that needed more than one block, is rebuilt as one block at the
 * next reset, so steady-state steps do not call malloc. `seed` seeds the dropout RNG.
 * Returns TC_ERR_ARG (out NULL) or TC_ERR_NOMEM. */
tc_status tc_train_ctx_create(size_t arena_bytes, uint64_t seed, tc_train_ctx **out);
/* Frees the context, its step tensors and its tape. NULL does nothing. */
void tc_train_ctx_destroy(tc_train_ctx *ctx);
/* Detailed message of the last failed call on this context ("" if none). Owned by the context,
 * valid until the next call that fails. */
const char *tc_train_ctx_errmsg(const tc_train_ctx *ctx);
/* Frees every step tensor and the tape in O(1) and stops recording. Pointers to step tensors
 * from before the reset become invalid. */
void tc_train_ctx_step_reset(tc_train_ctx *ctx);
/* Bytes handed out from the step arena since the last reset. */
size_t tc_train_ctx_step_used(const tc_train_ctx *ctx);
/* Bytes the context holds (arena blocks plus scratch buffers); stable once warmed up. */
size_t tc_train_ctx_capacity(const tc_train_ctx *ctx);
/* Reseeds the RNG used by tc_dropout. */
void tc_train_ctx_seed(tc_train_ctx *ctx, uint64_t seed);
/* Number of threads the ops of this context use (the caller included); 1 (the default) runs
 * everything on the caller. Matmul, dense and conv2d split their work across the pool;
 * results do not depend on the thread count. Returns TC_ERR_ARG (n < 1) or TC_ERR_NOMEM. */
tc_status tc_train_ctx_set_threads(tc_train_ctx *ctx, int n_threads);
int tc_train_ctx_threads(const tc_train_ctx *ctx);

/* ==== Tensors =============================================================================== */

/* Persistent tensor of `rank` (0..TC_MAX_DIMS) dims, zero-filled. dtype: TC_DTYPE_F32 or
 * TC_DTYPE_I32. `dims` is copied; every dim must be >= 1. Returns TC_ERR_ARG, TC_ERR_NOMEM. */
tc_status tc_tensor_create(tc_dtype dtype, int rank, const int32_t *dims, tc_tensor **out);
/* Like tc_tensor_create, then copies size*elemsize bytes from `data`. */
tc_status tc_tensor_create_from(tc_dtype dtype, int rank, const int32_t *dims, const void *data,
                                tc_tensor **out);
/* A persistent float32 tensor marked trainable (see tc_tensor_set_trainable), zero-filled. */
tc_status tc_tensor_create_param(int rank, const int32_t *dims, tc_tensor **out);
/* Frees a persistent tensor. NULL does nothing. Must not be called on step tensors. */
void tc_tensor_destroy(tc_tensor *t);

/* Step tensor (freed at the next step reset), zero-filled. `data` may be NULL; otherwise it is
 * copied in. */
tc_status tc_tensor_step(tc_train_ctx *ctx, tc_dtype dtype, int rank, const int32_t *dims,
                         const void *data, tc_tensor **out);
/* Step tensor that borrows `data` without copying (e.g. a batch inside a dataset). The caller
 * keeps `data` alive and unchanged until the step reset. */
tc_status tc_tensor_wrap(tc_train_ctx *ctx, tc_dtype dtype, int rank, const int32_t *dims,
                         void *data, tc_tensor **out);

/* Trainable tensors are watched by the tape: ops record a node only when an input is trainable
 * or was computed from one. tc_tensor_create_param sets the flag; step tensors may set it too
 * (like tf.GradientTape.watch) to get gradients with respect to inputs. */
void tc_tensor_set_trainable(tc_tensor *t, int trainable);
int tc_tensor_trainable(const tc_tensor *t);

tc_dtype tc_tensor_dtype(const tc_tensor *t);
int tc_tensor_rank(const tc_tensor *t);
/* Dim i (negative counts from the end); 0 if out of range. */
int32_t tc_tensor_dim(const tc_tensor *t, int i);
/* Pointer to the rank dims (valid for the tensor's lifetime). */
const int32_t *tc_tensor_dims(const tc_tensor *t);
/* Number of elements (1 for a scalar). */
size_t tc_tensor_size(const tc_tensor *t);
/* The element buffer (dense row-major); NULL if the dtype does not match. Writing into a tensor
 * that the tape recorded in the current step makes its gradients wrong. */
float *tc_tensor_f32(tc_tensor *t);
int32_t *tc_tensor_i32(tc_tensor *t);
const float *tc_tensor_f32_const(const tc_tensor *t);
const int32_t *tc_tensor_i32_const(const tc_tensor *t);
/* Value of a one-element float tensor (NaN otherwise). */
float tc_tensor_item(const tc_tensor *t);
/* Writes "[2,3,4]" (or "[]" for a scalar) into buf; returns buf. */
char *tc_tensor_shape_str(const tc_tensor *t, char *buf, size_t size);

/* Initializers (Keras semantics), seeded: the same seed gives the same values. Fans follow
 * Keras: rank 2 [in, out] -> fan_in=in, fan_out=out; rank >= 3 (HWIO filters) -> receptive
 * field = product of all but the last two dims, fan_in = rf*dims[-2], fan_out = rf*dims[-1];
 * rank 1 -> fan_in = fan_out = dims[0]. The normal variants are truncated at 2 stddev like Keras
 * (stddev corrected by 0.87962566), except TC_INIT_NORMAL which is a plain normal. */
typedef enum tc_init {
  TC_INIT_ZEROS = 0,
  TC_INIT_ONES,
  TC_INIT_CONSTANT,       /* a = value */
  TC_INIT_UNIFORM,        /* U(a, b) */
  TC_INIT_NORMAL,         /* N(mean a, stddev b) */
  TC_INIT_GLOROT_UNIFORM, /* U(+-sqrt(6 / (fan_in + fan_out))) */
  TC_INIT_GLOROT_NORMAL,  /* truncated N(0, sqrt(2 / (fan_in + fan_out))) */
  TC_INIT_HE_UNIFORM,     /* U(+-sqrt(6 / fan_in)) */
  TC_INIT_HE_NORMAL,      /* truncated N(0, sqrt(2 / fan_in)) */
  TC_INIT_LECUN_UNIFORM,  /* U(+-sqrt(3 / fan_in)) */
  TC_INIT_LECUN_NORMAL    /* truncated N(0, sqrt(1 / fan_in)) */
} tc_init;
/* Fills a float32 tensor. `a`, `b` are used as documented per kind. TC_ERR_ARG on a bad kind. */
tc_status tc_tensor_init(tc_tensor *t, tc_init kind, float a, float b, uint64_t seed);

/* ==== Tape (reverse-mode autodiff) ========================================================== */

/* Starts/stops recording. While recording, each op with a trainable input pushes a node into
 * the step arena; when not recording an op costs one flag test. The tape is cleared by
 * tc_train_ctx_step_reset. */
void tc_tape_start(tc_train_ctx *ctx);
void tc_tape_stop(tc_train_ctx *ctx);
int tc_tape_recording(const tc_train_ctx *ctx);
/* Number of nodes recorded since the last reset. */
size_t tc_tape_size(const tc_train_ctx *ctx);

/* Reverse mode from `loss` (a one-element float tensor produced on the tape): grads_out[i]
 * receives d loss / d wrt[i] as a new step tensor of wrt[i]'s shape (zeros if wrt[i] does not
 * influence the loss). The tape is kept, so tc_gradient may be called again in the same step
 * (e.g. for another loss). Returns TC_ERR_ARG (NULL, non-scalar loss, non-float wrt),
 * TC_ERR_NOMEM. Second-order gradients are not supported (backward is not recorded). */
tc_status tc_gradient(tc_train_ctx *ctx, const tc_tensor *loss, size_t n, tc_tensor *const *wrt,
                      tc_tensor **grads_out);

/* ==== Ops ===================================================================================
 * Every op: inputs are borrowed, *out is a new step tensor, errors return a status and leave a
 * message naming the op and the shapes on the ctx. Ops accept float32 unless noted. */

/* Elementwise binary ops with numpy/TFLite broadcasting (dims aligned at the end; each pair
 * equal or one of them 1). TC_ERR_ARG naming both shapes when they do not broadcast. */
tc_status tc_add(tc_train_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor **out);
tc_status tc_sub(tc_train_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor **out);
tc_status tc_mul(tc_train_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor **out);
tc_status tc_div(tc_train_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor **out);
tc_status tc_maximum(tc_train_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor **out);
tc_status tc_minimum(tc_train_ctx *ctx, const tc_tensor *a, const tc_tensor *b, tc_tensor **out);

/* Scalar ops: x + s, x * s, x ^ p (x must be > 0 where p is not an integer). */
tc_status tc_add_scalar(tc_train_ctx *ctx, const tc_tensor *x, float s, tc_tensor **out);
tc_status tc_mul_scalar(tc_train_ctx *ctx, const tc_tensor *x, float s, tc_tensor **out);
tc_status tc_pow_scalar(tc_train_ctx *ctx, const tc_tensor *x, float p, tc_tensor **out);
/* Clamps into [lo, hi]; the gradient is passed where lo <= x <= hi. */
tc_status tc_clip(tc_train_ctx *ctx, const tc_tensor *x, float lo, float hi, tc_tensor **out);

/* Unary math and activations. gelu: approximate=0 is the exact erf form (Keras default),
 * 1 the tanh approximation. leaky_relu: x for x > 0, alpha*x otherwise. */
tc_status tc_neg(tc_train_ctx *ctx, const tc_tensor *x, tc_tensor **out);
tc_status tc_abs(tc_train_ctx *ctx, const tc_tensor *x, tc_tensor **out);
tc_status tc_exp(tc_train_ctx *ctx, const tc_tensor *x, tc_tensor **out);
tc_status tc_log(tc_train_ctx *ctx, const tc_tensor *x, tc_tensor **out);
tc_status tc_sqrt(tc_train_ctx *ctx, const tc_tensor *x, tc_tensor **out);
tc_status tc_square(tc_train_ctx *ctx, const tc_tensor *x, tc_tensor **out);
tc_status tc_relu(tc_train_ctx *ctx, const tc_tensor *x, tc_tensor **out);
tc_status tc_relu6(tc_train_ctx *ctx, const tc_tensor *x, tc_tensor **out);
tc_status tc_leaky_relu(tc_train_ctx *ctx, const tc_tensor *x, float alpha, tc_tensor **out);
tc_status tc_sigmoid(tc_train_ctx *ctx, const tc_tensor *x, tc_tensor **out);
tc_status tc_tanh(tc_train_ctx *ctx, const tc_tensor *x, tc_tensor **out);
tc_status tc_gelu(tc_train_ctx *ctx, const tc_tensor *x, int approximate, tc_tensor **out);

/* Matrix product of rank-2 tensors: op(a) [M,K] x op(b) [K,N] -> [M,N], where op transposes
 * when the flag is set. */
tc_status tc_matmul(tc_train_ctx *ctx, const tc_tensor *a, const tc_tensor *b, int transpose_a,
                    int transpose_b, tc_tensor **out);
/* Dense layer core: x [N,K] x w [K,M] (+ bias [M] if not NULL), one node on the tape. */
tc_status tc_dense(tc_train_ctx *ctx, const tc_tensor *x, const tc_tensor *w,
                   const tc_tensor *bias, tc_tensor **out);

/* Convolution padding, as TFLite/Keras: VALID uses no padding; SAME gives ceil(in / stride)
 * outputs and pads (total) max((out-1)*stride + (k-1)*dilation + 1 - in, 0), the smaller half
 * before. */
typedef enum tc_padding { TC_PADDING_VALID = 0, TC_PADDING_SAME = 1 } tc_padding;

typedef struct tc_conv_params {
  int stride_h, stride_w;     /* >= 1 (0 is read as 1) */
  int dilation_h, dilation_w; /* >= 1 (0 is read as 1) */
  tc_padding padding;
} tc_conv_params;

/* conv2d: x [N,H,W,Cin] (NHWC), filter [kh,kw,Cin,Cout] (HWIO, Keras layout), bias [Cout] or
 * NULL -> [N,OH,OW,Cout]. Computed as im2col + the packed matmul, backward likewise. */
tc_status tc_conv2d(tc_train_ctx *ctx, const tc_tensor *x, const tc_tensor *filter,
                    const tc_tensor *bias, const tc_conv_params *p, tc_tensor **out);
/* depthwise conv2d: x [N,H,W,C], filter [kh,kw,C,mult], bias [C*mult] or NULL ->
 * [N,OH,OW,C*mult]; output channel c*mult+m reads input channel c. */
tc_status tc_depthwise_conv2d(tc_train_ctx *ctx, const tc_tensor *x, const tc_tensor *filter,
                              const tc_tensor *bias, const tc_conv_params *p, tc_tensor **out);

typedef struct tc_pool_params {
  int size_h, size_w;     /* window, >= 1 */
  int stride_h, stride_w; /* 0 is read as the window size (Keras default) */
  tc_padding padding;
} tc_pool_params;
/* 2-D pooling on NHWC. Average pooling with SAME padding divides by the number of valid inputs
 * in each window (TFLite/Keras behaviour). Max pooling sends the gradient to the first maximum. */
tc_status tc_max_pool2d(tc_train_ctx *ctx, const tc_tensor *x, const tc_pool_params *p,
                        tc_tensor **out);
tc_status tc_avg_pool2d(tc_train_ctx *ctx, const tc_tensor *x, const tc_pool_params *p,
                        tc_tensor **out);
/* [N,H,W,C] -> [N,C] (keepdims=0) or [N,1,1,C]. */
tc_status tc_global_avg_pool2d(tc_train_ctx *ctx, const tc_tensor *x, int keepdims,
                               tc_tensor **out);

/* Reductions over `axes` (n_axes entries, negative counts from the end, duplicates rejected);
 * n_axes == 0 reduces over every axis (tf axis=None). keepdims keeps reduced dims as 1.
 * reduce_max sends the gradient to the first maximum of each group. */
tc_status tc_reduce_sum(tc_train_ctx *ctx, const tc_tensor *x, int n_axes, const int *axes,
                        int keepdims, tc_tensor **out);
tc_status tc_reduce_mean(tc_train_ctx *ctx, const tc_tensor *x, int n_axes, const int *axes,
                         int keepdims, tc_tensor **out);
tc_status tc_reduce_max(tc_train_ctx *ctx, const tc_tensor *x, int n_axes, const int *axes,
                        int keepdims, tc_tensor **out);

/* Shape ops. reshape: one dim may be -1 (inferred); the result shares x's data. transpose:
 * perm is a permutation of 0..rank-1 (NULL reverses the dims). concat: n >= 1 tensors of equal
 * rank and dtype, equal except along `axis`. slice: begin[i] >= 0, size[i] = -1 means "to the
 * end". gather: rows of params [V, ...] picked by int32 indices [...] -> [..., ...]; an index
 * outside [0, V) fails with TC_ERR_RUNTIME. All work on float32; reshape, concat, slice and
 * transpose also on int32 (not differentiable). */
tc_status tc_reshape(tc_train_ctx *ctx, const tc_tensor *x, int rank, const int32_t *dims,
                     tc_tensor **out);
tc_status tc_transpose(tc_train_ctx *ctx, const tc_tensor *x, const int *perm, tc_tensor **out);
tc_status tc_concat(tc_train_ctx *ctx, size_t n, const tc_tensor *const *xs, int axis,
                    tc_tensor **out);
tc_status tc_slice(tc_train_ctx *ctx, const tc_tensor *x, const int32_t *begin,
                   const int32_t *size, tc_tensor **out);
tc_status tc_gather(tc_train_ctx *ctx, const tc_tensor *params, const tc_tensor *indices,
                    tc_tensor **out);

/* softmax / log_softmax over the last axis. */
tc_status tc_softmax(tc_train_ctx *ctx, const tc_tensor *x, tc_tensor **out);
tc_status tc_log_softmax(tc_train_ctx *ctx, const tc_tensor *x, tc_tensor **out);
/* Inverted dropout: with training != 0, each element is zeroed with probability `rate` and the
 * others are scaled by 1/(1-rate), using the context's RNG; with training == 0 (or rate == 0)
 * *out is x itself. rate in [0, 1). */
tc_status tc_dropout(tc_train_ctx *ctx, const tc_tensor *x, float rate, int training,
                     tc_tensor **out);

/* Batch normalization over every axis but the last (channels, C). gamma/beta [C] or NULL
 * (scale 1 / offset 0).
 * Training (training != 0): normalizes with the batch statistics; if batch_mean/batch_var are
 * not NULL they receive new step tensors [C] with the mean and the biased variance (divide by
 * the count) so a layer can update its moving averages (count = size / C for a Bessel
 * correction). `mean`/`var` are ignored.
 * Inference (training == 0): uses `mean`/`var` [C] (required); the gradient flows to x, gamma,
 * beta only. */
tc_status tc_batch_norm(tc_train_ctx *ctx, const tc_tensor *x, const tc_tensor *gamma,
                        const tc_tensor *beta, const tc_tensor *mean, const tc_tensor *var,
                        float epsilon, int training, tc_tensor **out, tc_tensor **batch_mean,
                        tc_tensor **batch_var);

/* Fused softmax + sparse categorical cross-entropy, mean over the batch: logits [N,C] float32,
 * labels [N] int32 in [0, C) -> scalar loss (rank 0). More stable and faster than log_softmax +
 * gather. A label out of range fails with TC_ERR_RUNTIME. If `probs` is not NULL it receives
 * the softmax [N,C] (handy for accuracy). */
tc_status tc_softmax_xent_sparse(tc_train_ctx *ctx, const tc_tensor *logits,
                                 const tc_tensor *labels, tc_tensor **loss, tc_tensor **probs);

/* ==== Layers, models, optimizers, fit ======================================================
 * Keras-style networks on top of the ops above (docs/training.md, "Layers and models").
 *
 *     tc_net *net;  tc_net_create(&net);
 *     tc_net_add(net, tc_layer_input(1, (int32_t[]){784}));
 *     tc_net_add(net, tc_layer_dense(128, TC_ACT_RELU));
 *     tc_net_add(net, tc_layer_dense(10, TC_ACT_LINEAR));
 *     tc_net_compile(net, tc_loss_make(TC_LOSS_SPARSE_CATEGORICAL_XENT, 1), tc_optim_adam(1e-3f),
 *                    1, (tc_metric_kind[]){TC_METRIC_ACCURACY});
 *     tc_fit_options fo = tc_fit_defaults();  fo.epochs = 5;  fo.batch_size = 32;
 *     tc_net_fit(net, &train, &fo, &history);
 *
 * Shapes given to layers and nets exclude the batch dimension (like Keras' `shape=`). Model
 * inputs and targets are float32 arrays of samples; integer inputs (Embedding indices, sparse
 * labels) are passed as floats holding whole numbers. "net" is the Keras Model (tc_model is the
 * .tflite model of tensorc_lite.h). */

/* Activations a layer can apply to its output. */
typedef enum tc_activation {
  TC_ACT_LINEAR = 0,
  TC_ACT_RELU,
  TC_ACT_RELU6,
  TC_ACT_SIGMOID,
  TC_ACT_TANH,
  TC_ACT_SOFTMAX,    /* over the last axis */
  TC_ACT_GELU,       /* exact (erf) form, the Keras default */
  TC_ACT_LEAKY_RELU  /* slope tc_layer_config.alpha (Keras LeakyReLU default 0.3) */
} tc_activation;

/* Layer kinds. Values are stored in checkpoints: add new ones at the end. */
typedef enum tc_layer_kind {
  TC_LAYER_INPUT = 0,
  TC_LAYER_DENSE,
  TC_LAYER_CONV2D,
  TC_LAYER_DEPTHWISE_CONV2D,
  TC_LAYER_MAX_POOL2D,
  TC_LAYER_AVG_POOL2D,
  TC_LAYER_GLOBAL_AVG_POOL2D,
  TC_LAYER_FLATTEN,
  TC_LAYER_RESHAPE,
  TC_LAYER_DROPOUT,
  TC_LAYER_BATCH_NORM,
  TC_LAYER_ACTIVATION,
  TC_LAYER_EMBEDDING,
  TC_LAYER_ADD,
  TC_LAYER_CONCATENATE,
  TC_LAYER_LSTM,
  TC_LAYER_GRU,
  TC_LAYER__COUNT
} tc_layer_kind;

/* Orthogonal initializer (Keras' default recurrent initializer), usable in layer configs only
 * (tc_tensor_init does not know it): a = gain. */
#define TC_INIT_ORTHOGONAL ((tc_init)32)

/* An initializer: kind plus its two parameters (see tc_init). The seed comes from the net
 * (tc_net_set_seed) and the weight's position, so a net is initialized reproducibly. */
typedef struct tc_initializer {
  tc_init kind;
  float a, b;
} tc_initializer;

/* Everything that defines a layer. Get one from a tc_layer_<kind>() constructor (which sets
 * the Keras defaults), change fields if needed, and pass it to tc_net_add / tc_net_call.
 * Fields a kind does not use are ignored (and saved as they are). */
typedef struct tc_layer_config {
  tc_layer_kind kind;
  char name[48];              /* "" : auto ("dense", "dense_1", ... per net, like Keras) */
  int units;                  /* Dense/LSTM/GRU units, Conv2D filters, Embedding output_dim */
  int kernel_h, kernel_w;     /* conv kernel or pool window */
  int stride_h, stride_w;     /* conv default 1; pooling 0 = the window (Keras default) */
  int dilation_h, dilation_w; /* conv, default 1 */
  tc_padding padding;         /* default VALID */
  int depth_multiplier;       /* DepthwiseConv2D, default 1 */
  tc_activation activation;   /* Dense/Conv/Activation/LSTM/GRU output activation */
  tc_activation recurrent_activation; /* LSTM/GRU gates, default sigmoid */
  float alpha;                /* leaky relu slope */
  int use_bias;               /* default 1 */
  tc_initializer kernel_init; /* default glorot_uniform (Embedding: uniform(-0.05, 0.05)) */
  tc_initializer bias_init;   /* default zeros */
  tc_initializer recurrent_init; /* LSTM/GRU, default orthogonal */
  float kernel_l2;            /* L2 factor: adds kernel_l2 * sum(kernel^2) to the loss */
  float bias_l2;
  float rate;                 /* Dropout rate in [0, 1) */
  float momentum, epsilon;    /* BatchNormalization, default 0.99 and 1e-3 */
  int input_dim;              /* Embedding vocabulary size */
  int axis;                   /* Concatenate axis incl. the batch axis, default -1 */
  int return_sequences;       /* LSTM/GRU: [N,T,units] instead of the last step [N,units] */
  int unit_forget_bias;       /* LSTM, default 1: forget-gate bias starts at 1 */
  int reset_after;            /* GRU, default 1 (Keras 2/3): bias [2, 3*units] */
  int rank;                   /* Input / Reshape target shape (without the batch axis); */
  int32_t dims[TC_MAX_DIMS];  /* Reshape may use one -1 */
} tc_layer_config;

/* Constructors with the Keras defaults. Sizes are in elements. */
tc_layer_config tc_layer_input(int rank, const int32_t *dims);
tc_layer_config tc_layer_dense(int units, tc_activation act);
tc_layer_config tc_layer_conv2d(int filters, int kernel, int stride, tc_padding pad,
                                tc_activation act);
tc_layer_config tc_layer_depthwise_conv2d(int kernel, int stride, int depth_multiplier,
                                          tc_padding pad, tc_activation act);
tc_layer_config tc_layer_max_pool2d(int pool, int stride, tc_padding pad); /* stride 0: = pool */
tc_layer_config tc_layer_avg_pool2d(int pool, int stride, tc_padding pad);
tc_layer_config tc_layer_global_avg_pool2d(void);
tc_layer_config tc_layer_flatten(void);
tc_layer_config tc_layer_reshape(int rank, const int32_t *dims);
tc_layer_config tc_layer_dropout(float rate);
tc_layer_config tc_layer_batch_norm(void);
tc_layer_config tc_layer_activation(tc_activation act);
tc_layer_config tc_layer_embedding(int input_dim, int output_dim);
tc_layer_config tc_layer_add(void);
tc_layer_config tc_layer_concatenate(int axis);
tc_layer_config tc_layer_lstm(int units, int return_sequences);
tc_layer_config tc_layer_gru(int units, int return_sequences);
/* Keras names: "Dense", "Conv2D", ... (class) and "dense", "conv2d", ... (name prefix). */
const char *tc_layer_kind_class(tc_layer_kind kind);
const char *tc_layer_kind_prefix(tc_layer_kind kind);
/* "relu", "softmax", ...; tc_activation_parse returns 0 and sets *out, or -1 if unknown. */
const char *tc_activation_name(tc_activation act);
int tc_activation_parse(const char *name, tc_activation *out);
/* Applies an activation as ops (on the tape like any op). */
tc_status tc_activation_apply(tc_train_ctx *ctx, tc_activation act, float alpha,
                              const tc_tensor *x, tc_tensor **out);

/* ---- nets (Keras Model: Sequential or functional) ---- */

/* A net is a DAG of layer nodes; node ids are ints (Keras' symbolic tensors). Each node is
 * one layer applied to earlier nodes, so creation order is a topological order.
 * Sequential:  tc_net_add appends a layer applied to the last node; the first layer may be an
 *              Input (else the net is built lazily from the first data it sees, like Keras).
 * Functional:  tc_net_input gives input nodes, tc_net_call applies a layer to nodes, and
 *              tc_net_set_outputs picks the outputs (default: the last node). */
typedef struct tc_net tc_net;

/* An empty net. Returns TC_ERR_ARG / TC_ERR_NOMEM. */
tc_status tc_net_create(tc_net **out);
/* Frees the net, its weights, optimizer and context. NULL does nothing. */
void tc_net_destroy(tc_net *net);
/* Message of the last failure on this net ("" if none), valid until the next failing call. */
const char *tc_net_errmsg(const tc_net *net);
/* Name shown by summary (default "sequential" or "functional"). */
void tc_net_set_name(tc_net *net, const char *name);
/* Seed of the weight initializers (default 0) and of the dropout RNG; call before layers are
 * built to take effect for them. */
void tc_net_set_seed(tc_net *net, uint64_t seed);

/* Sequential: appends a layer fed by the previous node. If the layer can be built (the input
 * shape is known) it is built now and shape errors are reported here. */
tc_status tc_net_add(tc_net *net, tc_layer_config cfg);
/* Functional: a new Input node of shape `dims` (without batch); *node receives its id. */
tc_status tc_net_input(tc_net *net, int rank, const int32_t *dims, int *node);
/* Functional: applies a new layer to n_in existing nodes (Add/Concatenate take >= 2, others
 * exactly 1, at most 8); *node receives the new node's id. */
tc_status tc_net_call(tc_net *net, tc_layer_config cfg, int n_in, const int *in, int *node);
/* Sets the output nodes (1..8). By default the output is the last node. */
tc_status tc_net_set_outputs(tc_net *net, int n, const int *nodes);
/* Builds every layer for a batchless input shape (the Sequential lazy build); no-op when
 * already built. TC_ERR_ARG naming the layer when a shape does not fit. */
tc_status tc_net_build(tc_net *net, int rank, const int32_t *dims);
int tc_net_built(const tc_net *net);

int tc_net_n_layers(const tc_net *net); /* nodes, Input nodes included */
const tc_layer_config *tc_net_layer_config(const tc_net *net, int i);
/* Output shape of node i without batch; returns the rank (-1 if not built). */
int tc_net_layer_shape(const tc_net *net, int i, int32_t *dims);
/* Parameter counts (moving statistics of BatchNormalization are non-trainable). */
size_t tc_net_count_params(const tc_net *net, size_t *trainable, size_t *non_trainable);
/* Weights: every persistent tensor of the net in a fixed order (layer order, then kernel,
 * recurrent kernel, bias, gamma, beta, moving mean, moving variance...), named
 * "<layer>/<weight>" (e.g. "dense_1/kernel"). Returns NULL for an index out of range. */
size_t tc_net_n_weights(const tc_net *net);
tc_tensor *tc_net_weight(const tc_net *net, size_t i, const char **name);
tc_tensor *tc_net_find_weight(const tc_net *net, const char *name);

/* Writes the Keras summary table (layer name and type, output shape, parameter count and, for
 * functional nets, the inbound layers; then total/trainable/non-trainable parameters) into buf
 * (always NUL-terminated, truncated to size) and returns the full length, like snprintf.
 * The net must be built. */
size_t tc_net_summary(const tc_net *net, char *buf, size_t size);
/* Same into a stream. Returns TC_ERR_STATE if not built, TC_ERR_IO on a write error. */
tc_status tc_net_summary_print(const tc_net *net, FILE *f);

/* Forward pass in ctx: inputs x[0..n_inputs) [N, ...] (step or persistent tensors) -> outputs
 * (step tensors, one per output node). training != 0 enables dropout and batch statistics (and
 * updates BatchNormalization's moving averages). Builds the net from x's shapes if needed. Ops
 * are recorded when the tape is on, so a custom training loop is: step_reset, tape_start,
 * forward, loss, tape_stop, tc_gradient over tc_net_trainable(), tc_optim_apply. */
tc_status tc_net_forward(tc_net *net, tc_train_ctx *ctx, int n_inputs, tc_tensor *const *x,
                         int training, tc_tensor **outputs);
/* The trainable parameters (persistent, in weight order), valid until the net changes. */
size_t tc_net_trainable(const tc_net *net, tc_tensor *const **params);
/* Sum of the layers' L2 penalties as a scalar step tensor (0 if none), on the tape. */
tc_status tc_net_regularization(tc_net *net, tc_train_ctx *ctx, tc_tensor **out);
/* The net's own context (created on first use; fit/evaluate/predict use it). */
tc_train_ctx *tc_net_ctx(tc_net *net);

/* ---- losses ---- */

typedef enum tc_loss_kind {
  TC_LOSS_MSE = 0,
  TC_LOSS_MAE,
  TC_LOSS_BINARY_XENT,           /* targets in [0,1]; predictions probabilities or logits */
  TC_LOSS_CATEGORICAL_XENT,      /* one-hot (or soft) targets [N,C] */
  TC_LOSS_SPARSE_CATEGORICAL_XENT /* integer targets [N] (or [N,1]) in [0, C) */
} tc_loss_kind;

typedef struct tc_loss {
  tc_loss_kind kind;
  int from_logits; /* crossentropies: predictions are logits (no clipping; fused and stable) */
} tc_loss;
tc_loss tc_loss_make(tc_loss_kind kind, int from_logits);
const char *tc_loss_name(tc_loss_kind kind); /* "mse", "sparse_categorical_crossentropy", ... */
int tc_loss_parse(const char *name, tc_loss_kind *out);

/* Mean loss over the batch (Keras "sum_over_batch_size") as a scalar step tensor, on the tape.
 * y_true: float32 of y_pred's shape (sparse: [N] or [N,1] holding class indices, or int32).
 * Probabilities are clipped to [1e-7, 1 - 1e-7] like Keras when from_logits is 0.
 * TC_ERR_ARG naming both shapes when they do not fit; TC_ERR_RUNTIME for a bad class index. */
tc_status tc_loss_compute(tc_train_ctx *ctx, const tc_loss *loss, const tc_tensor *y_pred,
                          const tc_tensor *y_true, tc_tensor **out);

/* ---- learning-rate schedules ---- */

typedef enum tc_schedule_kind {
  TC_SCHEDULE_CONSTANT = 0,
  TC_SCHEDULE_PIECEWISE,   /* Keras PiecewiseConstantDecay: values[i] while step <= boundaries[i] */
  TC_SCHEDULE_EXPONENTIAL, /* lr * decay_rate ^ (step / decay_steps); staircase floors it
                              (staircase = step decay) */
  TC_SCHEDULE_COSINE       /* lr * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decay_steps)
                              / decay_steps)) + alpha) */
} tc_schedule_kind;

#define TC_SCHEDULE_MAX_BOUNDARIES 8
typedef struct tc_schedule {
  tc_schedule_kind kind;
  float initial;  /* exponential / cosine initial rate (constant: the rate) */
  int64_t decay_steps;
  float decay_rate;
  int staircase;
  float alpha;    /* cosine: final fraction of the initial rate */
  int n_boundaries;
  int64_t boundaries[TC_SCHEDULE_MAX_BOUNDARIES];
  float values[TC_SCHEDULE_MAX_BOUNDARIES + 1];
} tc_schedule;
tc_schedule tc_schedule_exponential(float initial, int64_t decay_steps, float decay_rate,
                                    int staircase);
tc_schedule tc_schedule_cosine(float initial, int64_t decay_steps, float alpha);
/* n boundaries and n+1 values (copied); n <= TC_SCHEDULE_MAX_BOUNDARIES. */
tc_schedule tc_schedule_piecewise(int n, const int64_t *boundaries, const float *values);
/* The rate at optimizer step `step` (0 for the first update). */
float tc_schedule_lr(const tc_schedule *s, int64_t step);

/* ---- optimizers ---- */

typedef enum tc_optim_kind {
  TC_OPTIM_SGD = 0, /* m = momentum*m - lr*g; p += m (nesterov: p += momentum*m - lr*g) */
  TC_OPTIM_ADAM,    /* Keras: m += (g-m)(1-b1); v += (g^2-v)(1-b2);
                       p -= lr*sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps) */
  TC_OPTIM_ADAMW,   /* p -= lr*weight_decay*p, then the Adam update */
  TC_OPTIM_RMSPROP  /* v = rho*v + (1-rho)g^2; inc = lr*g/sqrt(v+eps);
                       momentum: m = momentum*m + inc, p -= m; else p -= inc */
} tc_optim_kind;

typedef struct tc_optim_config {
  tc_optim_kind kind;
  float learning_rate;   /* used when schedule.kind == TC_SCHEDULE_CONSTANT */
  tc_schedule schedule;  /* CONSTANT: learning_rate */
  float momentum;        /* SGD (default 0), RMSprop (default 0) */
  int nesterov;          /* SGD */
  float beta_1, beta_2;  /* Adam/AdamW: 0.9, 0.999 */
  float epsilon;         /* Adam/AdamW/RMSprop: 1e-7 (Keras) */
  float rho;             /* RMSprop: 0.9 */
  float weight_decay;    /* AdamW: 0.004 (Keras) */
} tc_optim_config;
/* Keras defaults: SGD lr 0.01; Adam lr 0.001; AdamW lr 0.001 wd 0.004; RMSprop lr 0.001. */
tc_optim_config tc_optim_sgd(float lr, float momentum, int nesterov);
tc_optim_config tc_optim_adam(float lr);
tc_optim_config tc_optim_adamw(float lr, float weight_decay);
tc_optim_config tc_optim_rmsprop(float lr);
const char *tc_optim_name(tc_optim_kind kind); /* "sgd", "adam", "adamw", "rmsprop" */
int tc_optim_parse(const char *name, tc_optim_kind *out);

/* An optimizer with per-parameter slots (momentum, m, v...) created on first use of each
 * parameter (by pointer), so it works for nets and hand-written parameter lists alike. */
typedef struct tc_optim tc_optim;
tc_status tc_optim_create(const tc_optim_config *cfg, tc_optim **out);
void tc_optim_destroy(tc_optim *opt);
/* One update: params[i] -= f(grads[i]) with the rate of the current step, then the step count
 * grows by one. grads may be step tensors (e.g. from tc_gradient). After the first call with a
 * given parameter list no memory is allocated. TC_ERR_ARG on shape mismatches. */
tc_status tc_optim_apply(tc_optim *opt, size_t n, tc_tensor *const *params,
                         tc_tensor *const *grads);
/* Updates done so far (Keras optimizer.iterations). */
int64_t tc_optim_iterations(const tc_optim *opt);
/* The rate the next update will use (schedule at the current step, or the overridden rate). */
float tc_optim_lr(const tc_optim *opt);
/* Overrides the rate (replaces any schedule), as LearningRateScheduler does. */
void tc_optim_set_lr(tc_optim *opt, float lr);
const tc_optim_config *tc_optim_get_config(const tc_optim *opt);

/* ---- metrics ---- */

typedef enum tc_metric_kind {
  TC_METRIC_ACCURACY = 0, /* resolved from the loss like Keras: sparse/categorical/binary */
  TC_METRIC_SPARSE_CATEGORICAL_ACCURACY,
  TC_METRIC_CATEGORICAL_ACCURACY,
  TC_METRIC_BINARY_ACCURACY, /* threshold 0.5 (0 for from_logits losses) */
  TC_METRIC_MAE,
  TC_METRIC_MSE
} tc_metric_kind;
/* "accuracy", "sparse_categorical_accuracy", ..., "mae", "mse". */
const char *tc_metric_name(tc_metric_kind kind);
int tc_metric_parse(const char *name, tc_metric_kind *out);

/* A streaming metric: mean over every sample seen since the last reset. */
typedef struct tc_metric {
  tc_metric_kind kind; /* resolved (never TC_METRIC_ACCURACY after tc_metric_init) */
  int logits;          /* binary accuracy threshold at 0 */
  double total, count;
} tc_metric;
/* Resolves TC_METRIC_ACCURACY against `loss` (may be NULL: categorical). */
void tc_metric_init(tc_metric *m, tc_metric_kind kind, const tc_loss *loss);
void tc_metric_reset(tc_metric *m);
/* Adds a batch: y_pred [N,...], y_true as for tc_loss_compute. TC_ERR_ARG on shapes. */
tc_status tc_metric_update(tc_metric *m, const tc_tensor *y_pred, const tc_tensor *y_true);
double tc_metric_result(const tc_metric *m);

/* ---- compile, fit, evaluate, predict ---- */

#define TC_NET_MAX_METRICS 4
/* Sets loss, optimizer and metrics (at most TC_NET_MAX_METRICS). May be called again (the
 * optimizer state is then reset). */
tc_status tc_net_compile(tc_net *net, tc_loss loss, tc_optim_config optim, int n_metrics,
                         const tc_metric_kind *metrics);
tc_optim *tc_net_optim(tc_net *net);

/* A dataset in memory: n samples; x holds n * (input size) floats, y holds n * y_size floats.
 * y_size 0 means: 1 for sparse categorical losses, else the output size. Borrowed. */
typedef struct tc_data {
  const float *x;
  const float *y;
  size_t n;
  size_t y_size;
} tc_data;

/* A batch source (instead of tc_data): fills x [B, ...] and y for batch `index` of `epoch`
 * as step tensors of ctx (or wraps its own memory, e.g. with tc_tensor_wrap). */
typedef tc_status (*tc_batch_fn)(void *user, int epoch, size_t index, tc_train_ctx *ctx,
                                 tc_tensor **x, tc_tensor **y);

/* Named scalars of one epoch or batch: "loss", metric names, "val_..." (Keras logs). */
#define TC_LOGS_MAX 16
typedef struct tc_logs {
  int n;
  char keys[TC_LOGS_MAX][40];
  double values[TC_LOGS_MAX];
} tc_logs;
/* Returns 1 and sets *value if the key exists, else 0. */
int tc_logs_get(const tc_logs *logs, const char *key, double *value);

/* Callbacks: every hook may be NULL. A hook returning non-TC_OK stops fit with that status.
 * tc_net_stop_training (from a hook) ends fit after the current epoch, cleanly. */
typedef struct tc_callback tc_callback;
struct tc_callback {
  void *user;
  tc_status (*on_train_begin)(tc_callback *cb, tc_net *net);
  tc_status (*on_epoch_begin)(tc_callback *cb, tc_net *net, int epoch);
  tc_status (*on_batch_end)(tc_callback *cb, tc_net *net, size_t batch, const tc_logs *logs);
  tc_status (*on_epoch_end)(tc_callback *cb, tc_net *net, int epoch, const tc_logs *logs);
  tc_status (*on_train_end)(tc_callback *cb, tc_net *net, const tc_logs *logs);
  void (*destroy)(tc_callback *cb); /* frees the callback (built-in ones set it) */
};
void tc_callback_destroy(tc_callback *cb); /* calls cb->destroy; NULL does nothing */
void tc_net_stop_training(tc_net *net);

/* Built-ins. `monitor` like Keras ("val_loss", "loss", "val_accuracy"...); the direction is
 * max for names containing "acc", min otherwise. Strings are copied. */
/* Saves a checkpoint (tc_net_save) after each epoch, or only when `monitor` improved; the path
 * may contain "{epoch}" (1-based, like Keras). */
tc_status tc_callback_model_checkpoint(const char *path, const char *monitor,
                                       int save_best_only, tc_callback **out);
/* Stops when `monitor` has not improved by more than min_delta for `patience` epochs;
 * restore_best_weights copies the best epoch's weights back at the end. */
tc_status tc_callback_early_stopping(const char *monitor, int patience, float min_delta,
                                     int restore_best_weights, tc_callback **out);
/* Writes "epoch,<keys...>" then one row per epoch (Keras CSVLogger; epoch 0-based). */
tc_status tc_callback_csv_logger(const char *path, int append, tc_callback **out);
/* Sets the rate at each epoch begin to fn(epoch, current rate, user). */
tc_status tc_callback_lr_scheduler(float (*fn)(int epoch, float lr, void *user), void *user,
                                   tc_callback **out);
/* Epoch (0-based) at which EarlyStopping stopped training, or -1. */
int tc_callback_early_stopping_stopped_epoch(const tc_callback *cb);

/* Per-epoch history: values[k][epoch] for every key (loss, metrics, val_...). */
typedef struct tc_history {
  int n_epochs;
  int n_keys;
  char keys[TC_LOGS_MAX][40];
  double *values[TC_LOGS_MAX];
  int cap;
} tc_history;
/* The series of `key` (n_epochs values) or NULL. */
const double *tc_history_get(const tc_history *h, const char *key);
/* Frees the series (the struct itself is the caller's); safe on a zeroed history. */
void tc_history_free(tc_history *h);

typedef struct tc_fit_options {
  int epochs;               /* train until this epoch count (Keras epochs), default 1 */
  int initial_epoch;        /* start epoch (for resuming; see tc_net_epochs_done) */
  size_t batch_size;        /* default 32 */
  int shuffle;              /* default 1: a new permutation every epoch */
  uint64_t seed;            /* shuffle seed: epoch e uses a permutation derived from (seed, e) */
  float validation_split;   /* the last fraction of the data (before shuffling), like Keras */
  const tc_data *validation_data; /* or explicit validation data */
  int verbose;              /* 0 silent, 1 progress bar, 2 one line per epoch */
  FILE *progress;           /* default stderr */
  size_t n_callbacks;
  tc_callback *const *callbacks;
  tc_batch_fn batches;      /* if set, the training data comes from here (data may be NULL) */
  void *batches_user;
  size_t steps_per_epoch;   /* required with `batches` */
} tc_fit_options;
tc_fit_options tc_fit_defaults(void);

/* Trains (compile first). Each step resets the context's step arena and allocates nothing.
 * history may be NULL; otherwise it is filled (free with tc_history_free). */
tc_status tc_net_fit(tc_net *net, const tc_data *data, const tc_fit_options *opts,
                     tc_history *history);
/* Loss and metrics over data (inference mode) in batches into logs ("loss", metric names).
 * verbose 1 shows a progress bar. */
tc_status tc_net_evaluate(tc_net *net, const tc_data *data, size_t batch_size, int verbose,
                          tc_logs *logs);
/* Writes the output (n * output size floats) for n samples of x. */
tc_status tc_net_predict(tc_net *net, const float *x, size_t n, size_t batch_size, float *out);
/* Epochs completed by fit (restored by tc_net_load). */
int tc_net_epochs_done(const tc_net *net);

/* ---- checkpoints (docs/checkpoint-format.md) ---- */

/* Writes architecture, weights, compile settings, optimizer state (step count and slots), the
 * epoch count and the RNG state to `path` atomically: a temporary file in the same directory,
 * fsync, rename, fsync of the directory. TC_ERR_IO (message on the net) on failure; the old
 * file is then untouched. */
tc_status tc_net_save(tc_net *net, const char *path);
/* Rebuilds a net from a checkpoint alone (compiled, optimizer state restored: fit can resume
 * with initial_epoch = tc_net_epochs_done). On failure *out is NULL and err (if not NULL)
 * receives the reason: TC_ERR_IO (cannot read), TC_ERR_MODEL (bad magic, unsupported version,
 * CRC mismatch naming the section, truncated). */
tc_status tc_net_load(const char *path, tc_net **out, char *err, size_t err_size);
/* Loads the weights (and optimizer state, epoch and RNG when compiled) of a checkpoint into an
 * existing net of the same architecture. TC_ERR_MODEL naming the first difference (layer
 * count, kind, name, weight shape) on a mismatch; the net is unchanged on any failure. */
tc_status tc_net_load_weights(tc_net *net, const char *path);

#ifdef __cplusplus
}
#endif
#endif /* TENSORC_TRAIN_H */
