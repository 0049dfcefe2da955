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
 * (Added by the layers/model helper; see issue 5. Build on the tensor/tape/op API above.) */

#ifdef __cplusplus
}
#endif
#endif /* TENSORC_TRAIN_H */
