/* interp.c: the interpreter. create resolves every operator and runs each op's init; prepare
 * infers shapes op by op, evaluates small ops whose inputs are all known (so shape arithmetic
 * such as SHAPE -> STRIDED_SLICE -> PACK yields concrete shapes), then plans the activation
 * memory from tensor lifetimes (planner.c); invoke runs the ops in order and allocates nothing.
 *
 * Memory: with a caller arena, the interpreter struct, the tensor and node tables and all op
 * state are carved from the arena's tail and the planned activations from its head, so no
 * malloc happens at all. Without one, the same pieces come from the heap. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <pthread.h>
#include <x86intrin.h>
#endif

#include "lite/interp.h"
#include "lite/planner.h"
#include "lite/resolver.h"

/* ---- the per-op profile clock ----------------------------------------------------------------
 * Two reads per op, so the clock must cost far less than the smallest op. clock_gettime is a vDSO
 * call on a plain Linux kernel, but a full system call under a sandboxing kernel (gVisor), where
 * it was seen adding ~10 us per op. On x86-64 with an invariant TSC (the same rate in every core
 * and power state) the profile reads the TSC instead and converts ticks to ns with a rate taken
 * once against CLOCK_MONOTONIC over 2 ms. */
static uint64_t mono_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
#if defined(__x86_64__)
static double g_ns_per_tick = 1.0;
static int g_use_tsc;
static void calibrate_tsc(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(0x80000000u, &a, &b, &c, &d) || a < 0x80000007u) return;
  __get_cpuid(0x80000007u, &a, &b, &c, &d);
  if (!(d & (1u << 8))) return; /* no invariant TSC: keep CLOCK_MONOTONIC */
  const uint64_t t0 = mono_ns(), c0 = __rdtsc();
  uint64_t t1;
  while ((t1 = mono_ns()) - t0 < 2000000u) {
  }
  const uint64_t c1 = __rdtsc();
  if (c1 <= c0) return;
  g_ns_per_tick = (double)(t1 - t0) / (double)(c1 - c0);
  g_use_tsc = 1;
}
static pthread_once_t g_tsc_once = PTHREAD_ONCE_INIT;
static uint64_t prof_ticks(void) { return g_use_tsc ? __rdtsc() : mono_ns(); }
static double prof_ns_per_tick(void) { return g_use_tsc ? g_ns_per_tick : 1.0; }
static void prof_clock_init(void) { pthread_once(&g_tsc_once, calibrate_tsc); }
#else
static uint64_t prof_ticks(void) { return mono_ns(); }
static double prof_ns_per_tick(void) { return 1.0; }
static void prof_clock_init(void) {}
#endif

#define ACT_ALIGN 64

static tc_status set_err(tc_interp *it, tc_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static tc_status set_err(tc_interp *it, tc_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tc__vfmt(it->errmsg, sizeof it->errmsg, fmt, ap);
  va_end(ap);
  it->status = s;
  return s;
}

static const char *op_name(const tc_interp *it, const tc__node *n, char *buf, size_t size) {
  const tc__mopcode *oc = &it->model->opcodes[n->m->opcode];
  if (oc->builtin == TC_OP_CUSTOM)
    snprintf(buf, size, "CUSTOM '%s'", oc->custom ? oc->custom : "");
  else {
    const char *nm = tc_builtin_name(oc->builtin);
    if (nm) snprintf(buf, size, "%s", nm);
    else snprintf(buf, size, "builtin %d", (int)oc->builtin);
  }
  return buf;
}

/* ---- services for ops (ops.h) --------------------------------------------------------------- */

tc__tensor *tc__in(tc__ctx *c, const tc__node *n, int i) {
  if (i < 0 || i >= n->n_inputs || n->inputs[i] < 0) return NULL;
  return &c->it->tensors[n->inputs[i]];
}
tc__tensor *tc__out(tc__ctx *c, const tc__node *n, int i) {
  if (i < 0 || i >= n->n_outputs || n->outputs[i] < 0) return NULL;
  return &c->it->tensors[n->outputs[i]];
}
const tc__fb *tc__ctx_fb(tc__ctx *c) { return &c->it->model->fb; }
tc_threadpool *tc__ctx_pool(tc__ctx *c) { return c->it->pool; }
const tc_kernel_table *tc__ctx_kernels(tc__ctx *c) { return &c->it->kernels; }
void tc__set_kernel_name(tc__node *n, const char *name) { n->kernel_name = name; }

static int compute_bytes(tc__tensor *t) {
  size_t n = tc_dtype_size(t->dtype);
  for (int i = 0; i < t->n_dims; i++) {
    if (t->dims[i] < 0) return 0;
    if (!tc__mul_size(n, (size_t)t->dims[i], &n)) return 0;
  }
  if (n > ((size_t)1 << 40)) return 0;
  t->bytes = n;
  return 1;
}

tc_status tc__set_shape(tc__ctx *c, const tc__node *n, tc__tensor *t, int n_dims,
                        const int32_t *dims) {
  if (n_dims < 0 || n_dims > TC_MAX_DIMS)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "output rank %d exceeds %d", n_dims, TC_MAX_DIMS);
  if (t->m->is_variable && t->kind == TC__T_PERSIST) {
    /* Variables have fixed storage from create: an op may write them but not resize them. */
    tc__tensor tmp = *t;
    tmp.n_dims = n_dims;
    memcpy(tmp.dims, dims, sizeof(int32_t) * (size_t)n_dims);
    if (!compute_bytes(&tmp) || tmp.bytes != t->bytes)
      return tc__fail(c, n, TC_ERR_MODEL, "variable tensor '%s' (%zu bytes) cannot change shape",
                      t->m->name, t->bytes);
  }
  if (t->kind == TC__T_CONST) {
    /* An op writing into a constant: only allowed if shapes agree (never happens in valid
     * models; reject). */
    return tc__fail(c, n, TC_ERR_MODEL, "output tensor '%s' is a constant", t->m->name);
  }
  int32_t tmp[TC_MAX_DIMS];
  for (int i = 0; i < n_dims; i++) {
    if (dims[i] < 0) return tc__fail(c, n, TC_ERR_MODEL, "output dimension %d is negative", i);
    tmp[i] = dims[i];
  }
  t->n_dims = n_dims;
  memcpy(t->dims, tmp, sizeof(int32_t) * (size_t)n_dims);
  if (!compute_bytes(t)) return tc__fail(c, n, TC_ERR_MODEL, "output tensor is too large");
  t->shaped = 1;
  return TC_OK;
}

void *tc__persist_alloc(tc__ctx *c, size_t size) { return tc__arena_alloc(&c->it->arena, size); }

tc_status tc__scratch_request(tc__ctx *c, tc__node *n, size_t size, int *slot) {
  tc_interp *it = c->it;
  if (n->n_scratch >= TC__MAX_SCRATCH)
    return tc__fail(c, n, TC_ERR_STATE, "too many scratch buffers requested");
  if (it->n_scratch >= it->cap_scratch)
    return tc__fail(c, n, TC_ERR_STATE, "scratch table full");
  int32_t id = it->n_scratch++;
  it->scratch[id].size = size;
  it->scratch[id].op = n->index;
  it->scratch[id].data = NULL;
  *slot = n->n_scratch;
  n->scratch[n->n_scratch++] = id;
  return TC_OK;
}

void *tc__scratch(tc__ctx *c, const tc__node *n, int slot) {
  TC_ASSERT(slot >= 0 && slot < n->n_scratch);
  return c->it->scratch[n->scratch[slot]].data;
}

tc_status tc__fail(tc__ctx *c, const tc__node *n, tc_status s, const char *fmt, ...) {
  char msg[384], nm[64];
  va_list ap;
  va_start(ap, fmt);
  tc__vfmt(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return set_err(c->it, s, "%s (op %d): %s", op_name(c->it, n, nm, sizeof nm), (int)n->index, msg);
}

/* ---- create ---------------------------------------------------------------------------------- */

/* A variable tensor's initial value: its buffer if it has one, else the quantized zero (the
 * zero point for int8/uint8, as TFLite Micro fills them), else zeros. */
static void init_variable(tc__tensor *t) {
  const tc__mtensor *mt = t->m;
  memset(t->data, 0, t->bytes);
  if ((mt->dtype == TC_DTYPE_I8 || mt->dtype == TC_DTYPE_U8) && mt->q.n_scales > 0)
    memset(t->data, (int)mt->q.zero_point[0], t->bytes);
  if (mt->data) memcpy(t->data, mt->data, TC_MIN(mt->data_size, t->bytes));
}

static void init_tensor_from_model(tc__tensor *t, const tc__mtensor *mt) {
  t->m = mt;
  t->dtype = mt->dtype;
  t->n_dims = mt->n_dims;
  memcpy(t->dims, mt->dims, sizeof t->dims);
}

tc_status tc_interp_create(const tc_model *m, const tc_interp_options *opts, tc_interp **out) {
  tc__arena a;
  tc_interp *it;
  if (!out) return TC_ERR_ARG;
  *out = NULL;
  if (opts && opts->arena) {
    tc__arena_init_fixed(&a, opts->arena, opts->arena_size);
    it = tc__arena_alloc(&a, sizeof *it);
    if (!it) return TC_ERR_NOMEM;
    it->fixed = 1;
  } else {
    tc__arena_init_heap(&a);
    it = tc__calloc(1, sizeof *it);
    if (!it) return TC_ERR_NOMEM;
  }
  it->arena = a;
  it->ctx.it = it;
  *out = it;
  if (!m) return set_err(it, TC_ERR_ARG, "model is NULL");
  if (m->status) return set_err(it, TC_ERR_STATE, "model failed to load: %s", m->errmsg);
  it->model = m;
  if (opts) {
    it->n_threads = opts->n_threads;
    it->force_ref = opts->force_reference;
  }
  if (opts) it->profile = opts->profile;
  if (it->profile) prof_clock_init();
  const char *env = getenv("TC_FORCE_REF");
  if (env && env[0] == '1') it->force_ref = 1;
  tc_kernels_fill(&it->kernels, it->force_ref ? 0 : tc_cpu_usable_features());
  if (it->n_threads > 1) {
    if (it->fixed)
      return set_err(it, TC_ERR_ARG, "n_threads > 1 needs the heap (a caller arena means no malloc)");
    it->pool = tc_threadpool_create(it->n_threads);
    if (!it->pool) return set_err(it, TC_ERR_NOMEM, "cannot start %d threads", it->n_threads);
  }
  const tc__msubgraph *sg = &m->subgraphs[0];
  it->sg = sg;
  it->n_tensors = sg->n_tensors;
  it->n_nodes = sg->n_ops;
  it->tensors = tc__arena_alloc(&it->arena, sizeof(tc__tensor) * (size_t)(sg->n_tensors + 1));
  it->nodes = tc__arena_alloc(&it->arena, sizeof(tc__node) * (size_t)(sg->n_ops + 1));
  it->input_dims = tc__arena_alloc(&it->arena, sizeof(int32_t) * TC_MAX_DIMS * (size_t)(sg->n_inputs + 1));
  it->input_ndims = tc__arena_alloc(&it->arena, sizeof(int32_t) * (size_t)(sg->n_inputs + 1));
  it->cap_scratch = sg->n_ops * TC__MAX_SCRATCH;
  it->scratch = tc__arena_alloc(&it->arena, sizeof(tc__scratch_buf) * (size_t)(it->cap_scratch + 1));
  if (!it->tensors || !it->nodes || !it->input_dims || !it->input_ndims || !it->scratch)
    return set_err(it, TC_ERR_NOMEM, "arena too small for the interpreter's tables");
  for (int32_t i = 0; i < sg->n_inputs; i++) {
    const tc__mtensor *mt = &sg->tensors[sg->inputs[i]];
    it->input_ndims[i] = mt->n_dims;
    memcpy(&it->input_dims[i * TC_MAX_DIMS], mt->dims, sizeof(int32_t) * TC_MAX_DIMS);
  }

  for (int32_t i = 0; i < sg->n_tensors; i++) init_tensor_from_model(&it->tensors[i], &sg->tensors[i]);

  /* Resolve every operator first so the message lists what is missing. */
  int n_missing = 0;
  char missing[400] = "";
  size_t used = 0;
  for (int32_t i = 0; i < sg->n_ops; i++) {
    tc__node *n = &it->nodes[i];
    const tc__mop *mop = &sg->ops[i];
    const tc__mopcode *oc = &m->opcodes[mop->opcode];
    n->m = mop;
    n->index = i;
    n->n_inputs = mop->n_inputs;
    n->inputs = mop->inputs;
    n->n_outputs = mop->n_outputs;
    n->outputs = mop->outputs;
    if (oc->builtin == TC_OP_CUSTOM && opts && opts->custom_ops && oc->custom) {
      for (int k = 0; k < opts->n_custom_ops && !n->user_op; k++)
        if (opts->custom_ops[k].name && strcmp(opts->custom_ops[k].name, oc->custom) == 0)
          n->user_op = &opts->custom_ops[k];
      if (n->user_op) {
        n->reg = &tc__reg_user_custom;
        continue;
      }
    }
    n->reg = tc__resolve(oc->builtin, oc->custom);
    if (n->reg) continue;
    if (n_missing++ < 3 && used < sizeof missing) {
      const char *nm = tc_builtin_name(oc->builtin);
      int k;
      if (oc->builtin == TC_OP_CUSTOM)
        k = snprintf(missing + used, sizeof missing - used,
                     "%scustom operator '%s' at subgraph 0, op %d is not supported (no registration)",
                     used ? "; " : "", oc->custom ? oc->custom : "", (int)i);
      else
        k = snprintf(missing + used, sizeof missing - used,
                     "%soperator %s (builtin %d) at subgraph 0, op %d is not supported",
                     used ? "; " : "", nm ? nm : "UNKNOWN", (int)oc->builtin, (int)i);
      if (k > 0) used += (size_t)k;
    }
  }
  if (n_missing) {
    if (n_missing > 3)
      return set_err(it, TC_ERR_UNSUPPORTED, "%s; and %d more unsupported operators", missing,
                     n_missing - 3);
    return set_err(it, TC_ERR_UNSUPPORTED, "%s", missing);
  }

  /* Structure: each tensor has at most one producer, and no operator writes a constant or a
   * graph input (the planner relies on single assignment). Sparse tensors are not supported. */
  {
    int32_t *producer = tc__arena_alloc(&it->arena, sizeof(int32_t) * (size_t)(sg->n_tensors + 1));
    if (!producer) return set_err(it, TC_ERR_NOMEM, "arena too small for the interpreter's tables");
    for (int32_t i = 0; i < sg->n_tensors; i++) producer[i] = -1;
    for (int32_t i = 0; i < sg->n_inputs; i++) producer[sg->inputs[i]] = INT32_MAX;
    for (int32_t k = 0; k < sg->n_ops; k++) {
      for (int32_t j = 0; j < sg->ops[k].n_outputs; j++) {
        int32_t t = sg->ops[k].outputs[j];
        const tc__mtensor *mt = &sg->tensors[t];
        if (producer[t] == INT32_MAX)
          return set_err(it, TC_ERR_MODEL, "op %d writes tensor %d ('%s'), which is a graph input",
                         (int)k, (int)t, mt->name);
        if (producer[t] >= 0)
          return set_err(it, TC_ERR_MODEL, "tensor %d ('%s') is written by op %d and op %d",
                         (int)t, mt->name, (int)producer[t], (int)k);
        if (mt->data && !mt->is_variable)
          return set_err(it, TC_ERR_MODEL, "op %d writes tensor %d ('%s'), which is a constant",
                         (int)k, (int)t, mt->name);
        producer[t] = k;
      }
    }
    for (int32_t i = 0; i < sg->n_tensors; i++)
      if (sg->tensors[i].has_sparsity)
        return set_err(it, TC_ERR_UNSUPPORTED, "tensor %d ('%s') uses sparse storage, which is not supported",
                       (int)i, sg->tensors[i].name);
  }

  /* Tensors: constants point into the model (copied only if misaligned), variables get zeroed
   * persistent storage. */
  for (int32_t i = 0; i < sg->n_tensors; i++) {
    tc__tensor *t = &it->tensors[i];
    const tc__mtensor *mt = &sg->tensors[i];
    if (mt->data && !mt->is_variable) {
      size_t es = tc_dtype_size(mt->dtype);
      t->kind = TC__T_CONST;
      t->known = 1;
      t->data = (void *)mt->data;
      t->bytes = mt->data_size;
      if (es > 1 && ((uintptr_t)mt->data % es) != 0) {
        void *copy = tc__arena_alloc(&it->arena, mt->data_size);
        if (!copy) return set_err(it, TC_ERR_NOMEM, "arena too small for constant '%s'", mt->name);
        memcpy(copy, mt->data, mt->data_size);
        t->data = copy;
      }
      if (compute_bytes(t) && t->bytes > mt->data_size) t->bytes = mt->data_size;
    } else if (mt->is_variable) {
      if (!compute_bytes(t))
        return set_err(it, TC_ERR_UNSUPPORTED, "variable tensor '%s' has no static shape", mt->name);
      t->kind = TC__T_PERSIST;
      t->data = tc__arena_alloc(&it->arena, t->bytes);
      if (!t->data) return set_err(it, TC_ERR_NOMEM, "arena too small for variable '%s'", mt->name);
      init_variable(t);
    }
  }
  for (int32_t i = 0; i < sg->n_ops; i++) {
    tc__node *n = &it->nodes[i];
    if (n->reg->init) {
      tc_status s = n->reg->init(&it->ctx, n);
      if (s) return it->status ? it->status : set_err(it, s, "op %d: init failed", (int)i);
    }
  }
  it->prepare_mark = tc__arena_mark(&it->arena);
  it->created = 1;
  return TC_OK;
}

/* ---- prepare --------------------------------------------------------------------------------- */

static int is_graph_output(const tc_interp *it, int32_t t) {
  for (int32_t i = 0; i < it->sg->n_outputs; i++)
    if (it->sg->outputs[i] == t) return 1;
  return 0;
}

/* A node whose outputs all hold zero elements writes nothing, so invoke skips it. Its other
 * dims may still be huge (a [2^20, 2^20, 0] tensor is 0 bytes), and a kernel looping over them
 * would run for hours doing nothing. */
static int all_outputs_empty(const tc_interp *it, const tc__node *n) {
  if (n->n_outputs == 0) return 0;
  for (int32_t i = 0; i < n->n_outputs; i++) {
    const tc__tensor *t = &it->tensors[n->outputs[i]];
    int empty = 0;
    for (int32_t d = 0; d < t->n_dims; d++) empty |= t->dims[d] == 0;
    if (!empty || t->m->is_variable) return 0;
  }
  return 1;
}

/* Runs a node at prepare time when all its inputs are known and its outputs are small, so
 * that shape-computing subgraphs produce concrete values before planning. */
static tc_status try_fold(tc_interp *it, tc__node *n) {
  if (n->n_scratch > 0 || n->n_outputs == 0) return TC_OK;
  for (int32_t i = 0; i < n->n_inputs && !n->reg->shape_only; i++) {
    if (n->inputs[i] < 0) continue;
    if (!it->tensors[n->inputs[i]].known) return TC_OK;
  }
  size_t total = 0;
  for (int32_t i = 0; i < n->n_outputs; i++) {
    tc__tensor *t = &it->tensors[n->outputs[i]];
    if (t->kind != TC__T_NONE || is_graph_output(it, n->outputs[i])) return TC_OK;
    total += t->bytes;
  }
  if (total > 4096) return TC_OK;
  for (int32_t i = 0; i < n->n_outputs; i++) {
    tc__tensor *t = &it->tensors[n->outputs[i]];
    t->data = tc__arena_alloc(&it->arena, t->bytes);
    if (!t->data) return set_err(it, TC_ERR_NOMEM, "arena too small for folded constants");
    t->kind = TC__T_PERSIST;
    t->known = 1;
  }
  tc_status s = n->reg->invoke(&it->ctx, n);
  if (s) return it->status ? it->status : set_err(it, s, "op %d failed at prepare", (int)n->index);
  n->folded = 1;
  return TC_OK;
}

static tc_status plan_memory(tc_interp *it) {
  int32_t n_t = it->n_tensors, n_ops = it->n_nodes;
  size_t n_bufs = (size_t)n_t + (size_t)it->n_scratch;
  tc__plan_buf *bufs = tc__arena_alloc(&it->arena, sizeof *bufs * (n_bufs + 1));
  int32_t *order = tc__arena_alloc(&it->arena, sizeof *order * (n_bufs + 1));
  if (!bufs || !order) return set_err(it, TC_ERR_NOMEM, "arena too small for the memory planner");
  for (int32_t i = 0; i < n_t; i++) {
    it->tensors[i].first_op = INT32_MAX;
    it->tensors[i].last_op = -1;
  }
  /* Graph inputs and outputs live for the whole invoke (inputs keep their values across
   * invokes, outputs stay readable after). */
  for (int32_t i = 0; i < it->sg->n_inputs; i++) {
    tc__tensor *t = &it->tensors[it->sg->inputs[i]];
    t->first_op = 0;
    t->last_op = n_ops;
  }
  for (int32_t k = 0; k < n_ops; k++) {
    tc__node *n = &it->nodes[k];
    if (n->folded) continue;
    for (int32_t i = 0; i < n->n_inputs; i++) {
      if (n->inputs[i] < 0) continue;
      tc__tensor *t = &it->tensors[n->inputs[i]];
      if (t->first_op > k) t->first_op = k;
      if (t->last_op < k) t->last_op = k;
    }
    for (int32_t i = 0; i < n->n_outputs; i++) {
      tc__tensor *t = &it->tensors[n->outputs[i]];
      if (t->first_op > k) t->first_op = k;
      if (t->last_op < k) t->last_op = k;
    }
  }
  for (int32_t i = 0; i < it->sg->n_outputs; i++) {
    tc__tensor *t = &it->tensors[it->sg->outputs[i]];
    if (t->first_op == INT32_MAX) t->first_op = 0;
    t->last_op = n_ops;
  }
  for (int32_t i = 0; i < n_t; i++) {
    tc__tensor *t = &it->tensors[i];
    bufs[i].size = (t->kind == TC__T_NONE && t->last_op >= 0) ? (t->bytes ? t->bytes : 1) : 0;
    bufs[i].first_op = t->first_op;
    bufs[i].last_op = t->last_op;
  }
  for (int32_t j = 0; j < it->n_scratch; j++) {
    tc__plan_buf *b = &bufs[n_t + j];
    b->size = it->scratch[j].size ? it->scratch[j].size : 1;
    b->first_op = b->last_op = it->scratch[j].op;
  }
  size_t total = tc__plan(bufs, n_bufs, ACT_ALIGN, order);
  it->plan = bufs;
  it->n_plan = n_bufs;
  /* Place the region. */
  if (it->fixed) {
    size_t persist = tc__arena_used(&it->arena);
    if (total + persist > it->arena.size)
      return set_err(it, TC_ERR_NOMEM,
                     "arena too small: activations need %zu bytes and persistent data %zu, "
                     "the arena has %zu",
                     total, persist, it->arena.size);
    it->act = it->arena.base;
  } else if (total > it->act_cap) {
    tc__free(it->act_raw);
    it->act_raw = tc__malloc(total + ACT_ALIGN);
    it->act_cap = it->act_raw ? total : 0;
    if (!it->act_raw) return set_err(it, TC_ERR_NOMEM, "cannot allocate %zu bytes of activations", total);
    it->act = (uint8_t *)TC_ALIGN_UP((uintptr_t)it->act_raw, ACT_ALIGN);
  }
  it->act_size = total;
  for (int32_t i = 0; i < n_t; i++) {
    tc__tensor *t = &it->tensors[i];
    if (bufs[i].size) {
      t->kind = TC__T_ARENA;
      t->offset = bufs[i].offset;
      t->data = it->act + bufs[i].offset;
    }
  }
  for (int32_t j = 0; j < it->n_scratch; j++) it->scratch[j].data = it->act + bufs[n_t + j].offset;
  return TC_OK;
}

tc_status tc_interp_prepare(tc_interp *it) {
  if (!it) return TC_ERR_ARG;
  if (!it->model) return it->status ? it->status : TC_ERR_STATE;
  if (!it->created) return it->status ? it->status : TC_ERR_STATE; /* create failed */
  it->status = TC_OK;
  it->errmsg[0] = '\0';
  it->prepared = 0;
  tc__arena_reset(&it->arena, it->prepare_mark);
  it->n_scratch = 0;
  const tc__msubgraph *sg = it->sg;
  /* Reset non-constant tensors to the file's shapes; inputs take their (resized) shapes. */
  for (int32_t i = 0; i < it->n_tensors; i++) {
    tc__tensor *t = &it->tensors[i];
    t->shaped = 0;
    if (t->kind == TC__T_CONST || (t->kind == TC__T_PERSIST && t->m->is_variable)) continue;
    init_tensor_from_model(t, t->m);
    t->kind = TC__T_NONE;
    t->known = 0;
    t->data = NULL;
    t->bytes = 0;
  }
  for (int32_t i = 0; i < sg->n_inputs; i++) {
    tc__tensor *t = &it->tensors[sg->inputs[i]];
    if (t->kind == TC__T_CONST) continue;
    t->n_dims = it->input_ndims[i];
    memcpy(t->dims, &it->input_dims[i * TC_MAX_DIMS], sizeof t->dims);
    if (!compute_bytes(t))
      return set_err(it, TC_ERR_MODEL, "input %d ('%s') has no concrete shape", (int)i, t->m->name);
    t->shaped = 1;
  }
  for (int32_t k = 0; k < it->n_nodes; k++) {
    tc__node *n = &it->nodes[k];
    n->n_scratch = 0;
    n->folded = 0;
    for (int32_t i = 0; i < n->n_inputs; i++) {
      if (n->inputs[i] < 0) continue;
      tc__tensor *t = &it->tensors[n->inputs[i]];
      if (t->kind == TC__T_NONE && !t->shaped) {
        char nm[64];
        return set_err(it, TC_ERR_MODEL, "%s (op %d): input %d (tensor %d '%s') is read before any operator writes it",
                       op_name(it, n, nm, sizeof nm), (int)k, (int)i, (int)n->inputs[i], t->m->name);
      }
    }
    tc_status s = n->reg->prepare(&it->ctx, n);
    if (s) {
      if (!it->status) {
        char nm[64];
        set_err(it, s, "%s (op %d): prepare failed", op_name(it, n, nm, sizeof nm), (int)k);
      }
      return it->status;
    }
    for (int32_t i = 0; i < n->n_outputs; i++) {
      tc__tensor *t = &it->tensors[n->outputs[i]];
      if (t->kind != TC__T_NONE) continue;
      if (!t->shaped && !compute_bytes(t)) {
        char nm[64];
        return set_err(it, TC_ERR_MODEL, "%s (op %d): output %d has no concrete shape",
                       op_name(it, n, nm, sizeof nm), (int)k, (int)i);
      }
      t->shaped = 1;
    }
    if (all_outputs_empty(it, n)) {
      n->folded = 1; /* nothing to compute, and its loops over the other dims could be endless */
      continue;
    }
    if ((s = try_fold(it, n))) return s;
  }
  tc_status s = plan_memory(it);
  if (s) return s;
  it->prepared = 1;
  return TC_OK;
}

/* ---- invoke ---------------------------------------------------------------------------------- */

tc_status tc_interp_invoke(tc_interp *it) {
  if (!it) return TC_ERR_ARG;
  if (!it->prepared) {
    if (it->status) return it->status;
    return set_err(it, TC_ERR_STATE, "invoke called before a successful prepare");
  }
  for (int32_t k = 0; k < it->n_nodes; k++) {
    tc__node *n = &it->nodes[k];
    if (n->folded) continue;
    const uint64_t t0 = it->profile ? prof_ticks() : 0;
    tc_status s = n->reg->invoke(&it->ctx, n);
    if (it->profile) {
      n->prof_ticks += prof_ticks() - t0;
      n->prof_count++;
    }
    if (s) {
      if (!it->status) {
        char nm[64];
        set_err(it, s, "%s (op %d): invoke failed", op_name(it, n, nm, sizeof nm), (int)k);
      }
      s = it->status;
      it->status = TC_OK; /* a data-dependent failure does not poison the interpreter */
      return s;
    }
  }
  return TC_OK;
}

tc_status tc_interp_reset_variables(tc_interp *it) {
  if (!it || !it->created) return TC_ERR_STATE;
  for (int32_t i = 0; i < it->n_tensors; i++) {
    tc__tensor *t = &it->tensors[i];
    if (!t->m->is_variable || t->kind != TC__T_PERSIST) continue;
    init_variable(t);
  }
  for (int32_t k = 0; k < it->n_nodes; k++) {
    tc__node *n = &it->nodes[k];
    if (n->reg && n->reg->reset) n->reg->reset(&it->ctx, n);
  }
  return TC_OK;
}

void tc_interp_destroy(tc_interp *it) {
  if (!it) return;
  if (it->model)
    for (int32_t k = 0; k < it->n_nodes; k++)
      if (it->nodes && it->nodes[k].reg && it->nodes[k].reg->free)
        it->nodes[k].reg->free(&it->ctx, &it->nodes[k]);
  tc__free(it->act_raw);
  tc_threadpool_destroy(it->pool);
  if (!it->fixed) {
    tc__arena_release(&it->arena);
    tc__free(it);
  }
}

const char *tc_interp_errmsg(const tc_interp *it) { return it ? it->errmsg : "interpreter is NULL"; }

size_t tc_interp_arena_used(const tc_interp *it) {
  if (!it) return 0;
  /* A caller arena also counts the bytes skipped to align its start. */
  return tc__arena_used(&it->arena) + it->act_size + (it->fixed ? it->arena.skip : 0);
}
size_t tc_interp_activations_size(const tc_interp *it) { return it ? it->act_size : 0; }

tc_status tc_interp_resize_input(tc_interp *it, int i, int n_dims, const int32_t *dims) {
  if (!it || !it->model) return TC_ERR_ARG;
  if (i < 0 || i >= it->sg->n_inputs)
    return set_err(it, TC_ERR_ARG, "input %d out of range (%d inputs)", i, (int)it->sg->n_inputs);
  if (n_dims < 0 || n_dims > TC_MAX_DIMS || (n_dims && !dims))
    return set_err(it, TC_ERR_ARG, "invalid rank %d", n_dims);
  const tc__mtensor *mt = &it->sg->tensors[it->sg->inputs[i]];
  if (n_dims != mt->n_dims)
    return set_err(it, TC_ERR_ARG, "input %d ('%s') has rank %d, cannot resize to rank %d", i,
                   mt->name, (int)mt->n_dims, n_dims);
  for (int d = 0; d < n_dims; d++) {
    if (dims[d] <= 0)
      return set_err(it, TC_ERR_ARG, "input %d: dimension %d must be positive, got %d", i, d,
                     (int)dims[d]);
    if (mt->has_signature && mt->sig[d] != -1 && mt->sig[d] != dims[d])
      return set_err(it, TC_ERR_ARG,
                     "input %d ('%s'): dimension %d is fixed at %d by shape_signature, got %d", i,
                     mt->name, d, (int)mt->sig[d], (int)dims[d]);
  }
  it->input_ndims[i] = n_dims;
  memcpy(&it->input_dims[i * TC_MAX_DIMS], dims, sizeof(int32_t) * (size_t)n_dims);
  it->prepared = 0;
  return TC_OK;
}

/* ---- tensors --------------------------------------------------------------------------------- */

int tc_interp_input_count(const tc_interp *it) { return it && it->sg ? it->sg->n_inputs : 0; }
int tc_interp_output_count(const tc_interp *it) { return it && it->sg ? it->sg->n_outputs : 0; }
int tc_interp_input_index(const tc_interp *it, int i) {
  return it && it->sg && i >= 0 && i < it->sg->n_inputs ? it->sg->inputs[i] : -1;
}
int tc_interp_output_index(const tc_interp *it, int i) {
  return it && it->sg && i >= 0 && i < it->sg->n_outputs ? it->sg->outputs[i] : -1;
}
int tc_interp_tensor_count(const tc_interp *it) { return it && it->sg ? it->n_tensors : 0; }

int tc_interp_tensor_find(const tc_interp *it, const char *name) {
  if (!it || !it->sg || !name) return -1;
  for (int32_t i = 0; i < it->n_tensors; i++)
    if (strcmp(it->tensors[i].m->name, name) == 0) return i;
  return -1;
}

tc_status tc_interp_tensor(const tc_interp *it, int idx, tc_tensor_info *out) {
  if (!it || !it->sg || !it->tensors || !out || idx < 0 || idx >= it->n_tensors) return TC_ERR_ARG;
  if (!it->tensors[idx].m) return TC_ERR_STATE;
  const tc__tensor *t = &it->tensors[idx];
  memset(out, 0, sizeof *out);
  out->name = t->m->name;
  out->dtype = t->dtype;
  out->n_dims = t->n_dims;
  memcpy(out->dims, t->dims, sizeof out->dims);
  tc__tensor tmp = *t;
  out->size = compute_bytes(&tmp) ? tmp.bytes : 0;
  out->data = (it->prepared || t->kind == TC__T_CONST) ? t->data : NULL;
  out->n_scales = t->m->q.n_scales;
  out->scales = t->m->q.scale;
  out->zero_points = t->m->q.zero_point;
  out->quantized_dimension = t->m->q.axis;
  out->is_constant = t->kind == TC__T_CONST;
  out->has_signature = t->m->has_signature;
  memcpy(out->dims_signature, t->m->sig, sizeof out->dims_signature);
  return TC_OK;
}

tc_status tc_interp_set_input(tc_interp *it, int i, const void *data, size_t size) {
  if (!it || !it->sg) return TC_ERR_ARG;
  if (i < 0 || i >= it->sg->n_inputs)
    return set_err(it, TC_ERR_ARG, "input %d out of range (%d inputs)", i, (int)it->sg->n_inputs);
  if (!it->prepared) return set_err(it, TC_ERR_STATE, "set_input before prepare");
  tc__tensor *t = &it->tensors[it->sg->inputs[i]];
  if (size != t->bytes || (size && !data))
    return set_err(it, TC_ERR_ARG, "input %d ('%s') takes %zu bytes, got %zu", i, t->m->name,
                   t->bytes, size);
  if (t->kind == TC__T_CONST) return set_err(it, TC_ERR_ARG, "input %d is a constant", i);
  if (size) memcpy(t->data, data, size);
  return TC_OK;
}

tc_status tc_interp_get_output(const tc_interp *it, int i, void *data, size_t size) {
  if (!it || !it->sg || i < 0 || i >= it->sg->n_outputs || !it->prepared) return TC_ERR_ARG;
  const tc__tensor *t = &it->tensors[it->sg->outputs[i]];
  if (size != t->bytes || (size && !data)) return TC_ERR_ARG;
  if (size) memcpy(data, t->data, size);
  return TC_OK;
}

static const tc__msig *find_sig(const tc_interp *it, const char *key) {
  const tc_model *m = it->model;
  for (int32_t s = 0; s < m->n_signatures; s++) {
    if (m->signatures[s].subgraph != 0) continue;
    if (!key || strcmp(m->signatures[s].key, key) == 0) return &m->signatures[s];
  }
  return NULL;
}

int tc_interp_signature_input(const tc_interp *it, const char *key, const char *name) {
  if (!it || !it->model || !name) return -1;
  const tc__msig *sd = find_sig(it, key);
  if (!sd) return -1;
  for (int32_t j = 0; j < sd->n_inputs; j++) {
    if (strcmp(sd->input_names[j], name) != 0) continue;
    for (int32_t i = 0; i < it->sg->n_inputs; i++)
      if ((uint32_t)it->sg->inputs[i] == sd->input_tensors[j]) return i;
  }
  return -1;
}

int tc_interp_signature_output(const tc_interp *it, const char *key, const char *name) {
  if (!it || !it->model || !name) return -1;
  const tc__msig *sd = find_sig(it, key);
  if (!sd) return -1;
  for (int32_t j = 0; j < sd->n_outputs; j++) {
    if (strcmp(sd->output_names[j], name) != 0) continue;
    for (int32_t i = 0; i < it->sg->n_outputs; i++)
      if ((uint32_t)it->sg->outputs[i] == sd->output_tensors[j]) return i;
  }
  return -1;
}

/* ---- profiling ------------------------------------------------------------------------------ */

int tc_interp_op_count(const tc_interp *it) { return it && it->sg ? it->n_nodes : 0; }

tc_status tc_interp_op_profile(const tc_interp *it, int op, tc_op_profile *out) {
  if (!it || !it->created || !out || op < 0 || op >= it->n_nodes) return TC_ERR_ARG;
  tc__node *n = &it->nodes[op];
  const tc__mopcode *oc = &it->model->opcodes[n->m->opcode];
  memset(out, 0, sizeof *out);
  out->builtin = oc->builtin;
  out->name = oc->builtin == TC_OP_CUSTOM ? (oc->custom ? oc->custom : "CUSTOM")
                                          : (tc_builtin_name(oc->builtin) ? tc_builtin_name(oc->builtin) : "?");
  out->total_ns = (uint64_t)((double)n->prof_ticks * prof_ns_per_tick() + 0.5);
  out->count = n->prof_count;
  out->kernel = n->kernel_name ? n->kernel_name : "";
  out->flops = it->prepared ? tc__op_flops((tc__ctx *)&it->ctx, n) : 0;
  return TC_OK;
}

/* ---- plan debug aids ------------------------------------------------------------------------- */

int tc_interp_plan_check_overlap(const tc_interp *it) {
  if (!it || !it->prepared) return 0;
  return tc__plan_overlaps(it->plan, it->n_plan);
}

size_t tc_interp_plan_print(const tc_interp *it, char *buf, size_t buf_size) {
  size_t used = 0;
  if (!it || !it->prepared) return 0;
  /* One line per operator: a 64-column bar of the arena, each live buffer drawn with its own
   * letter (a-z by buffer id modulo 26), '.' where free. */
  const size_t cols = 64;
  for (int32_t k = 0; k <= it->n_nodes; k++) {
    char line[128];
    size_t n = (size_t)snprintf(line, sizeof line, "%4d ", (int)k);
    for (size_t c = 0; c < cols; c++) {
      size_t lo = it->act_size * c / cols, hi = it->act_size * (c + 1) / cols;
      char ch = '.';
      for (size_t b = 0; b < it->n_plan; b++) {
        const tc__plan_buf *p = &it->plan[b];
        if (!p->size || p->first_op > k || p->last_op < k) continue;
        if (p->offset < hi && lo < p->offset + p->size) {
          ch = (char)('a' + b % 26);
          break;
        }
      }
      line[n++] = ch;
    }
    line[n++] = '\n';
    for (size_t j = 0; j < n; j++, used++)
      if (buf && used + 1 < buf_size) buf[used] = line[j];
  }
  if (buf && buf_size) buf[used < buf_size ? used : buf_size - 1] = '\0';
  return used + 1;
}
