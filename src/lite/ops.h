/* ops.h: the contract between the interpreter (interp.c) and operators (src/lite/ops/).
 *
 * An operator is one tc__opreg: init (parse options, allocate persistent state), prepare (check
 * dtypes and shapes, set output shapes, request scratch), invoke (compute; no allocation, no
 * validation beyond asserts) and free. Op files only glue the interpreter to the math: the
 * loops live in src/kernels/ref (the reference kernels) and take plain arrays, so the training
 * side and the optimised variants reuse them.
 *
 * Every registration is listed once in src/lite/ops/ops.def. */
#ifndef TC_LITE_OPS_H
#define TC_LITE_OPS_H

#include "lite/model.h"

/* Where a tensor's bytes live. */
enum {
  TC__T_NONE = 0, /* not yet placed */
  TC__T_CONST,    /* constant buffer in the model file (read-only) */
  TC__T_ARENA,    /* planned activation region */
  TC__T_PERSIST   /* persistent region: variables, prepare-time computed values */
};

typedef struct tc__tensor {
  tc_dtype dtype;
  int32_t n_dims;
  int32_t dims[TC_MAX_DIMS];
  void *data;   /* valid during invoke; for CONST/PERSIST also during prepare */
  size_t bytes; /* product of dims times dtype size */
  uint8_t kind;  /* TC__T_* */
  uint8_t known; /* value available at prepare (constant, or computed at prepare) */
  uint8_t shaped; /* shape set during this prepare (interpreter bookkeeping) */
  const tc__mtensor *m; /* the file's description: name, quantization, signature */
  /* planner bookkeeping */
  int32_t first_op, last_op;
  size_t offset;
} tc__tensor;

#define TC__MAX_SCRATCH 4

typedef struct tc__node {
  const struct tc__opreg *reg;
  const tc__mop *m; /* options, custom options */
  int32_t index;    /* operator index in the subgraph */
  int32_t folded;   /* evaluated at prepare time (all inputs known); skipped by invoke */
  int32_t n_inputs, n_outputs;
  const int32_t *inputs, *outputs; /* tensor indices; inputs may hold -1 (optional absent) */
  void *state;                     /* op's own persistent data (from init) */
  const struct tc_custom_op *user_op; /* user custom op (tc_interp_options), else NULL */
  int32_t n_scratch;
  int32_t scratch[TC__MAX_SCRATCH]; /* planner ids of requested scratch buffers */
  const char *kernel_name;          /* variant chosen at prepare (profiles) */
  uint64_t prof_ticks, prof_count;  /* profile accumulators (interp.c's profile clock) */
} tc__node;

typedef struct tc__ctx tc__ctx; /* the interpreter seen from an op */

typedef struct tc__opreg {
  int32_t builtin;    /* TFLite builtin code, or TC_OP_CUSTOM */
  const char *custom; /* custom op name when builtin == TC_OP_CUSTOM */
  tc_status (*init)(tc__ctx *c, tc__node *n);    /* optional */
  tc_status (*prepare)(tc__ctx *c, tc__node *n); /* required */
  tc_status (*invoke)(tc__ctx *c, tc__node *n);  /* required */
  void (*free)(tc__ctx *c, tc__node *n);         /* optional */
  /* 1: invoke reads only its inputs' shapes, never their values (SHAPE). The interpreter may
   * then evaluate it at prepare even when the inputs are not known. */
  uint8_t shape_only;
  /* Optional: restores op state that carries over between invokes (a running noise estimate, say)
   * to its value after prepare. Called by tc_interp_reset_variables. */
  void (*reset)(tc__ctx *c, tc__node *n);
} tc__opreg;

struct tc_threadpool;
struct tc_kernel_table;
/* The interpreter's thread pool (NULL: run on the calling thread) and its kernel table (the
 * reference variants when the interpreter forces them). Read both at prepare. */
struct tc_threadpool *tc__ctx_pool(tc__ctx *c);
const struct tc_kernel_table *tc__ctx_kernels(tc__ctx *c);
/* Names the kernel variant the op chose (for profiles), e.g. "avx2_6x16". Static storage. */
void tc__set_kernel_name(tc__node *n, const char *name);
/* Arithmetic of one invoke of the node (multiply-add = 2), for profiles; 0 if not modelled. */
double tc__op_flops(tc__ctx *c, const tc__node *n);

/* Adapter that runs a user tc_custom_op (node->user_op); defined in lite/custom.c. */
extern const tc__opreg tc__reg_user_custom;

/* ---- services the interpreter gives to ops ------------------------------------------------- */

/* Input / output i of the node; NULL if i is out of range or the input is optional and absent. */
tc__tensor *tc__in(tc__ctx *c, const tc__node *n, int i);
tc__tensor *tc__out(tc__ctx *c, const tc__node *n, int i);

/* The model (flatbuffer) and the node's options table, for the tc__fb_* readers:
 *   int32_t stride = tc__fb_i32(tc__ctx_fb(c), &n->m->options, 1, 1); */
const tc__fb *tc__ctx_fb(tc__ctx *c);

/* Sets the shape of an output tensor during prepare (computes its byte size). Copies dims. */
tc_status tc__set_shape(tc__ctx *c, const tc__node *n, tc__tensor *t, int n_dims,
                        const int32_t *dims);

/* Zeroed persistent memory (lives until the interpreter is destroyed), in init or prepare.
 * Memory obtained in prepare is released and handed out again on the next prepare. */
void *tc__persist_alloc(tc__ctx *c, size_t size);

/* Asks for `size` bytes of scratch alive only while this node runs (prepare only). The id is
 * stored in n->scratch[*slot]; read the pointer in invoke with tc__scratch(c, n, slot). */
tc_status tc__scratch_request(tc__ctx *c, tc__node *n, size_t size, int *slot);
void *tc__scratch(tc__ctx *c, const tc__node *n, int slot);

/* Records an error message for this node on the interpreter ("CONV_2D (op 3): <message>") and
 * returns `s`. Use in init/prepare; in invoke only for data-dependent failures. */
tc_status tc__fail(tc__ctx *c, const tc__node *n, tc_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ---- small shared helpers for op files (ops/common.c) --------------------------------------- */

/* Number of elements (product of dims; 1 for a scalar). */
size_t tc__numel(const tc__tensor *t);
/* Checks count of inputs/outputs and that input i exists. */
tc_status tc__expect_io(tc__ctx *c, const tc__node *n, int n_in_min, int n_in_max, int n_out);
/* Checks that t has dtype `dt`, naming it ("input 1") on failure. */
tc_status tc__expect_dtype(tc__ctx *c, const tc__node *n, const tc__tensor *t, const char *what,
                           tc_dtype dt);
/* Formats dims as "[1, 224, 224, 3]" into buf. */
const char *tc__dims_str(const tc__tensor *t, char *buf, size_t size);

/* TFLite fused activation codes (ActivationFunctionType). */
enum { TC_ACT_NONE = 0, TC_ACT_RELU = 1, TC_ACT_RELU_N1_TO_1 = 2, TC_ACT_RELU6 = 3,
       TC_ACT_TANH = 4, TC_ACT_SIGN_BIT = 5 };
/* Float clamp range of an activation; TC_ERR_UNSUPPORTED for TANH/SIGN_BIT in fused position. */
tc_status tc__act_range_f32(int act, float *lo, float *hi);

/* TFLite Padding: SAME = 0, VALID = 1. Computes output size and the leading pad along one axis
 * exactly as TFLite does (dilated filter size = (filter - 1) * dilation + 1). Returns 0 if the
 * output would be empty, the arguments are invalid, or the dilated filter does not fit an
 * int32 (hostile dilations; the kernels compute their geometry in int32). */
enum { TC_PAD_SAME = 0, TC_PAD_VALID = 1 };
int tc__conv_out_size(int pad, int in, int filter, int stride, int dilation, int *out,
                      int *pad_before);

/* Broadcast helper: output shape of two operands (NumPy rules, right-aligned). 0 if they do
 * not broadcast. */
int tc__broadcast_shape(const tc__tensor *a, const tc__tensor *b, int *n_dims, int32_t *dims);

#endif /* TC_LITE_OPS_H */
