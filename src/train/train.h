/* train.h: internal definitions of the training side: the tensor and context structs, the step
 * arena, tape nodes, gradient buffers, error helpers, and the packed matmul (gemm.c) that
 * matmul, dense and conv2d share. Not public; include/tensorc_train.h is the API. */
#ifndef TC_TRAIN_INTERNAL_H
#define TC_TRAIN_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "core/threadpool.h"
#include "tensorc_train.h"

#define TC__T_PERSISTENT 1u /* allocated with tc__malloc, freed by tc_tensor_destroy */
#define TC__T_TRAINABLE 2u  /* watched by the tape */
#define TC__T_NEEDS_GRAD 4u /* trainable, or computed from a trainable tensor on the tape */

typedef struct tc__node tc__node;

struct tc_tensor {
  tc_dtype dtype;
  int rank;
  int32_t dims[TC_MAX_DIMS];
  size_t size;    /* elements */
  void *data;     /* 64-byte aligned unless wrapped */
  unsigned flags; /* TC__T_* */
  /* Backward bookkeeping, valid during tc_gradient only. */
  float *grad;
  uint64_t grad_epoch; /* grad is valid iff grad_epoch == ctx->grad_epoch */
};

/* Backward of one node: reads n->out's gradient and adds into the gradients of its inputs that
 * need one (tc__tr_grad / tc__needs_grad). Returns TC_OK or TC_ERR_NOMEM. */
typedef tc_status (*tc__backward_fn)(tc_train_ctx *ctx, tc__node *n, const float *dy);

#define TC__NODE_MAX_IN 4
struct tc__node {
  tc__backward_fn backward;
  const char *op;
  tc__node *prev;
  tc_tensor *out;
  int n_in;
  tc_tensor *in[TC__NODE_MAX_IN];
  tc_tensor *saved[2]; /* op-specific (e.g. the output, a mask, batch statistics) */
  float f[4];          /* op-specific scalars */
  int i[12];           /* op-specific ints (axes, strides, ...) */
  void *extra;         /* op-specific arena memory */
};

/* A chunk of the step arena. */
typedef struct tc__chunk {
  struct tc__chunk *next;
  size_t size, used;
  /* data follows, 64-byte aligned */
} tc__chunk;

#define TC__N_SCRATCH 4
enum { TC__SCRATCH_PACK_A = 0, TC__SCRATCH_PACK_B = 1, TC__SCRATCH_COL = 2, TC__SCRATCH_TMP = 3 };

struct tc_train_ctx {
  tc__chunk *first, *cur;
  size_t n_chunks_used; /* chunks touched since the last reset */
  size_t step_used;     /* bytes handed out since the last reset */
  size_t chunk_default;
  int recording;
  size_t n_nodes;
  tc__node *last;
  uint64_t grad_epoch;
  uint64_t rng[4]; /* xoshiro256** state for dropout */
  tc_threadpool *pool; /* NULL: single-threaded */
  int n_threads;
  void *scratch[TC__N_SCRATCH];
  size_t scratch_size[TC__N_SCRATCH];
  char err[512];
};

/* ---- memory ---- */
/* 64-byte aligned, NOT zeroed; NULL on out-of-memory (the message is set). */
void *tc__tr_alloc(tc_train_ctx *ctx, size_t size);
/* A reusable scratch buffer (slot TC__SCRATCH_*), grown on demand, never shrunk. */
void *tc__tr_scratch(tc_train_ctx *ctx, int slot, size_t size);

/* ---- tensors ---- */
/* A new step tensor with the given shape; data NOT zeroed unless `zero`. */
tc_status tc__tr_new(tc_train_ctx *ctx, tc_dtype dtype, int rank, const int32_t *dims, int zero,
                  tc_tensor **out);
/* Same shape as `like`, float32. */
tc_status tc__tr_new_like(tc_train_ctx *ctx, const tc_tensor *like, int zero, tc_tensor **out);
static inline float *tc__f(const tc_tensor *t) { return (float *)t->data; }
static inline int32_t *tc__i(const tc_tensor *t) { return (int32_t *)t->data; }

/* ---- errors ---- */
tc_status tc__tr_err(tc_train_ctx *ctx, tc_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* "[2,3]" into buf. */
const char *tc__tr_shape(const tc_tensor *t, char *buf, size_t size);
/* Checks t != NULL and its dtype; sets a message "<op>: <what> ..." and returns TC_ERR_ARG. */
tc_status tc__tr_check(tc_train_ctx *ctx, const char *op, const char *what, const tc_tensor *t,
                    tc_dtype dtype);

/* ---- tape ---- */
/* 1 if the op should record a node: recording is on and some input needs a gradient. */
static inline int tc__want_node(const tc_train_ctx *ctx, const tc_tensor *a, const tc_tensor *b,
                                const tc_tensor *c) {
  return ctx->recording && ((a && (a->flags & TC__T_NEEDS_GRAD)) ||
                            (b && (b->flags & TC__T_NEEDS_GRAD)) ||
                            (c && (c->flags & TC__T_NEEDS_GRAD)));
}
/* Pushes a node for `out` with up to 4 inputs (NULLs allowed) and marks out as needing a
 * gradient. Returns NULL on out-of-memory (message set). */
tc__node *tc__tr_record(tc_train_ctx *ctx, const char *op, tc__backward_fn bw, tc_tensor *out,
                     int n_in, const tc_tensor *const *in);
static inline int tc__needs_grad(const tc_tensor *t) {
  return t && (t->flags & TC__T_NEEDS_GRAD);
}
/* The gradient buffer of t, zero-filled on first use in this tc_gradient call. NULL on OOM. */
float *tc__tr_grad(tc_train_ctx *ctx, tc_tensor *t);
/* The gradient buffer of t without zero-fill: *fresh is 1 when the caller must overwrite
 * (first contribution) and 0 when it must accumulate. */
float *tc__tr_grad_raw(tc_train_ctx *ctx, tc_tensor *t, int *fresh);

/* ---- RNG ---- */
uint64_t tc__tr_rng_next(uint64_t s[4]);
void tc__tr_rng_seed(uint64_t s[4], uint64_t seed);
/* Uniform in [0, 1). */
static inline float tc__tr_rng_uniform(uint64_t s[4]) {
  return (float)(tc__tr_rng_next(s) >> 40) * (1.0f / 16777216.0f);
}

/* ---- packed matmul (gemm.c) ---- */
/* C[M,N] = op(A)[M,K] * op(B)[K,N] (+ C when accumulate), row-major with leading dims lda, ldb,
 * ldc (in elements). op(A) = A^T when trans_a (A is then stored [K,M]); same for B. Packs
 * panels into the ctx scratch buffers and runs a 6x16 register-tile micro-kernel (AVX2+FMA when
 * the CPU has it, portable vector code otherwise). bias (length N) is added to every row when
 * not NULL and accumulate == 0. Returns TC_ERR_NOMEM if scratch cannot grow. */
tc_status tc__tr_gemm(tc_train_ctx *ctx, int M, int N, int K, const float *A, int lda, int trans_a,
                   const float *B, int ldb, int trans_b, float *C, int ldc, int accumulate,
                   const float *bias);
/* The same with every stored element clamped to [act_min, act_max] (-INFINITY/INFINITY: none;
 * the fused ReLU is 0/INFINITY, ReLU6 0/6). */
tc_status tc__tr_gemm_act(tc_train_ctx *ctx, int M, int N, int K, const float *A, int lda,
                          int trans_a, const float *B, int ldb, int trans_b, float *C, int ldc,
                          int accumulate, const float *bias, float act_min, float act_max);

/* ---- fused activations (ops_matmul.c, ops_conv.c) ----
 * Internal variants of tc_dense and tc_conv2d that apply ReLU or ReLU6 in the GEMM's store
 * (one pass instead of two) and record one tape node whose backward masks the incoming
 * gradient by the saved output (0 < y, and y < 6 for ReLU6) before the usual backward. Same
 * values as the op followed by tc_relu / tc_relu6. */
typedef enum { TC__ACT_NONE = 0, TC__ACT_RELU = 1, TC__ACT_RELU6 = 2 } tc__fused_act;
tc_status tc__dense_act(tc_train_ctx *ctx, const tc_tensor *x, const tc_tensor *w,
                        const tc_tensor *bias, tc__fused_act act, tc_tensor **out);
tc_status tc__conv2d_act(tc_train_ctx *ctx, const tc_tensor *x, const tc_tensor *filter,
                         const tc_tensor *bias, const tc_conv_params *p, tc__fused_act act,
                         tc_tensor **out);
/* g' = g where the fused output y lets the gradient through (see above), else 0; n floats,
 * split over the context's pool. Returns g itself for TC__ACT_NONE, NULL on out-of-memory. */
const float *tc__tr_act_mask(tc_train_ctx *ctx, tc__fused_act act, const float *y,
                             const float *g, size_t n);

/* ---- shapes ---- */
/* Output size and leading pad of one spatial dim under TFLite SAME/VALID rules (ops_conv.c).
 * Returns 0 when there is no output (VALID with input smaller than the dilated kernel). */
int tc__tr_conv_out(int in, int k, int stride, int dil, tc_padding pad, int *out, int *pad_before);
/* Broadcast output shape of a and b into out_dims/out_rank; 0 if incompatible. */
int tc__tr_broadcast_shape(const tc_tensor *a, const tc_tensor *b, int32_t *out_dims,
                        int *out_rank);
/* Adds g (shape out_dims/out_rank) into acc (shape of t, which broadcasts to out) summing over
 * the broadcast dims. */
void tc__tr_reduce_to(const float *g, int out_rank, const int32_t *out_dims, const tc_tensor *t,
                   float *acc);

#endif /* TC_TRAIN_INTERNAL_H */
