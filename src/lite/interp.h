/* interp.h: the interpreter's private state (internal; ops see it only through ops.h). */
#ifndef TC_LITE_INTERP_H
#define TC_LITE_INTERP_H

#include "core/threadpool.h"
#include "kernels/select.h"
#include "lite/ops.h"
#include "lite/planner.h"

typedef struct tc__scratch_buf {
  size_t size;
  int32_t op;
  void *data;
} tc__scratch_buf;

struct tc__ctx {
  struct tc_interp *it;
};

struct tc_interp {
  tc__ctx ctx;
  const tc_model *model;
  const tc__msubgraph *sg;
  tc__arena arena;  /* persistent: tables, op state, folded values, plan */
  int fixed;        /* caller's arena (no malloc) */
  int created, prepared;
  size_t prepare_mark; /* arena state after create; prepare resets to it */
  int32_t n_tensors, n_nodes;
  tc__tensor *tensors;
  tc__node *nodes;
  int32_t *input_dims; /* [n_inputs][TC_MAX_DIMS] current input shapes */
  int32_t *input_ndims;
  tc__scratch_buf *scratch;
  int32_t n_scratch, cap_scratch;
  tc__plan_buf *plan;
  size_t n_plan;
  uint8_t *act; /* planned activations */
  size_t act_size, act_cap;
  void *act_raw; /* heap mode: the allocation behind act */
  int n_threads, force_ref, profile;
  tc_threadpool *pool;     /* NULL with one thread */
  tc_kernel_table kernels; /* filled at create: best variants, or reference if forced */
  tc_status status;
  char errmsg[512];
};

#endif
