/* binary.c: ADD, SUB, MUL, DIV, FLOOR_MOD, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE on float32 and
 * int32 with NumPy-style broadcasting, plus quantized ADD, SUB, MUL, MAXIMUM and MINIMUM on
 * int8, uint8 and int16 (MUL also int16 x int16 -> int8). The output takes the broadcast shape;
 * ADD/SUB/MUL/DIV apply their fused activation (clamped as integers for int32, in the output's
 * quantized range for quantized data). The loops are in kernels/ref/binary.c and binary_q.c;
 * the quantized multipliers are computed in prepare. Invoke reads only the tensors and the op
 * state, so the interpreter may run it at prepare time to fold constant shape arithmetic.
 * float32 and int8/uint8 ADD/SUB/MUL run the variants of the interpreter's kernel table
 * (kernels/vec_ops.h: AVX2 where the CPU has it), which are bit-exact with the reference. */
#include <math.h>

#include "kernels/ref/binary.h"
#include "kernels/ref/binary_q.h"
#include "kernels/ref/qmath.h"
#include "kernels/select.h"
#include "lite/ops.h"

/* Data path chosen in prepare. */
enum { KIND_NONE = 0, KIND_F32, KIND_I32, KIND_S8, KIND_U8, KIND_S16, KIND_S16S8 };

typedef struct binary_state {
  tc_binop op;
  int act;          /* fused activation code (TC_ACT_NONE for ops without one) */
  int act_ok;       /* 1 if act is a clamp this file supports */
  float lo, hi;     /* float32 clamp */
  int32_t ilo, ihi; /* int32 clamp */
  int kind;         /* KIND_*, set by prepare */
  tc_qadd_params qadd; /* quantized ADD/SUB */
  tc_qmul_params qmul; /* quantized MUL */
  /* variants from the kernel table, read at prepare */
  tc_f32_binary_kernel *kf;
  tc_q8_addsub_fn *kadd;
  tc_q8_mul_fn *kmul;
  int has_lin;         /* 8-bit ADD/SUB: lin holds the proven linear form */
  tc_qadd_lin lin;
} binary_state;

/* Reads the variants of the kernel table for the chosen kind and names the one that runs. */
static void pick_variants(tc__ctx *c, tc__node *n, binary_state *st) {
  const tc_kernel_table *kt = tc__ctx_kernels(c);
  st->kf = kt->f32_binary;
  st->kadd = st->kind == KIND_U8 ? kt->u8_addsub : kt->s8_addsub;
  st->kmul = st->kind == KIND_U8 ? kt->u8_qmul : kt->s8_qmul;
#ifdef TC_Q_SINGLE_ROUNDING /* the SIMD MUL requantization implements the double-rounding form */
  st->kmul = st->kind == KIND_U8 ? tc_u8_qmul__ref : tc_s8_qmul__ref;
#endif
  int fast = 0;
  st->has_lin = 0;
  if (st->kind == KIND_F32) fast = st->kf != tc_f32_binary__ref && st->op != TC_BINOP_FLOOR_MOD;
  if (st->kind == KIND_S8 || st->kind == KIND_U8) {
    if (st->op == TC_BINOP_MUL)
      fast = st->kmul != tc_s8_qmul__ref && st->kmul != tc_u8_qmul__ref;
    else if (st->op == TC_BINOP_ADD || st->op == TC_BINOP_SUB) {
      fast = st->kadd != tc_s8_addsub__ref && st->kadd != tc_u8_addsub__ref;
      /* the linear form costs ~0.1 ms to prove; only variants that use it ask for it */
      if (fast)
        st->has_lin = tc_qadd_lin_fit(&st->qadd, st->op == TC_BINOP_SUB, st->kind == KIND_U8,
                                      st->kadd, &st->lin);
    }
  }
  tc__set_kernel_name(n, st->has_lin ? "avx2_lin" : fast ? "avx2" : "ref");
}

static tc_binop binop_of(int32_t builtin) {
  switch (builtin) {
  case TC_OP_ADD: return TC_BINOP_ADD;
  case TC_OP_SUB: return TC_BINOP_SUB;
  case TC_OP_MUL: return TC_BINOP_MUL;
  case TC_OP_DIV: return TC_BINOP_DIV;
  case TC_OP_FLOOR_MOD: return TC_BINOP_FLOOR_MOD;
  case TC_OP_MAXIMUM: return TC_BINOP_MAXIMUM;
  case TC_OP_MINIMUM: return TC_BINOP_MINIMUM;
  default: return TC_BINOP_SQUARED_DIFFERENCE;
  }
}

/* Integer clamp range of a fused activation, the integer twin of tc__act_range_f32. */
static int act_range_i32(int act, int32_t *lo, int32_t *hi) {
  switch (act) {
  case TC_ACT_NONE: *lo = INT32_MIN; *hi = INT32_MAX; return 1;
  case TC_ACT_RELU: *lo = 0; *hi = INT32_MAX; return 1;
  case TC_ACT_RELU_N1_TO_1: *lo = -1; *hi = 1; return 1;
  case TC_ACT_RELU6: *lo = 0; *hi = 6; return 1;
  default: return 0;
  }
}

/* Parses the options once. AddOptions, SubOptions, MulOptions and DivOptions all keep
 * fused_activation_function in field 0 (a byte, default NONE); the other ops have none. */
static tc_status binary_init(tc__ctx *c, tc__node *n) {
  binary_state *st = tc__persist_alloc(c, sizeof *st);
  if (!st) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for the op state");
  st->op = binop_of(n->reg->builtin);
  st->act = TC_ACT_NONE;
  if (st->op == TC_BINOP_ADD || st->op == TC_BINOP_SUB || st->op == TC_BINOP_MUL ||
      st->op == TC_BINOP_DIV)
    st->act = tc__fb_i8(tc__ctx_fb(c), &n->m->options, 0, TC_ACT_NONE);
  st->act_ok = tc__act_range_f32(st->act, &st->lo, &st->hi) == TC_OK &&
               act_range_i32(st->act, &st->ilo, &st->ihi);
  n->state = st;
  return TC_OK;
}

/* Per-tensor scale and zero point of t; 0 if t is not quantized or is per-channel. */
static int per_tensor_q(const tc__tensor *t, float *scale, int32_t *zp) {
  if (!t->m || t->m->q.n_scales != 1) return 0;
  *scale = t->m->q.scale[0];
  *zp = (int32_t)t->m->q.zero_point[0];
  return 1;
}

static void int_range(tc_dtype dt, int32_t *lo, int32_t *hi) {
  switch (dt) {
  case TC_DTYPE_I8: *lo = INT8_MIN; *hi = INT8_MAX; break;
  case TC_DTYPE_U8: *lo = 0; *hi = UINT8_MAX; break;
  default: *lo = INT16_MIN; *hi = INT16_MAX; break;
  }
}

/* Checks dtypes and computes the requantization parameters of the quantized path. */
static tc_status prepare_quantized(tc__ctx *c, tc__node *n, binary_state *st) {
  const tc__tensor *a = tc__in(c, n, 0), *b = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  tc_status s;
  if ((s = tc__expect_dtype(c, n, b, "input 1", a->dtype))) return s;
  int mixed = st->op == TC_BINOP_MUL && a->dtype == TC_DTYPE_I16 && out->dtype == TC_DTYPE_I8;
  if (!mixed && (s = tc__expect_dtype(c, n, out, "output", a->dtype))) return s;
  st->kind = mixed ? KIND_S16S8
                   : (a->dtype == TC_DTYPE_I8 ? KIND_S8 : a->dtype == TC_DTYPE_U8 ? KIND_U8 : KIND_S16);
  if (st->op == TC_BINOP_MAXIMUM || st->op == TC_BINOP_MINIMUM) return TC_OK;
  if (st->op != TC_BINOP_ADD && st->op != TC_BINOP_SUB && st->op != TC_BINOP_MUL)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "%s inputs are not supported by this operator",
                    tc_dtype_name(a->dtype));
  float sa, sb, so;
  int32_t za, zb, zo;
  if (!per_tensor_q(a, &sa, &za) || !per_tensor_q(b, &sb, &zb) || !per_tensor_q(out, &so, &zo))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "%s data needs per-tensor quantization (one scale and zero point) on both "
                    "inputs and the output", tc_dtype_name(a->dtype));
  if (!(sa > 0.0f && isfinite(sa)) || !(sb > 0.0f && isfinite(sb)) ||
      !(so > 0.0f && isfinite(so)))
    return tc__fail(c, n, TC_ERR_MODEL,
                    "quantization scales %g, %g -> %g must be positive and finite", (double)sa,
                    (double)sb, (double)so);
  int32_t qmin, qmax, lo, hi;
  int_range(out->dtype, &qmin, &qmax);
  if (!tc_q_act_range(st->act, so, zo, qmin, qmax, &lo, &hi))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d is not supported", st->act);
  if (st->op == TC_BINOP_MUL) {
    if (a->dtype == TC_DTYPE_I16 && (za != 0 || zb != 0 || (!mixed && zo != 0)))
      return tc__fail(c, n, TC_ERR_MODEL, "int16 MUL needs zero points of 0 (got %d, %d, %d)",
                      (int)za, (int)zb, (int)zo);
    if (!tc_qmul_params_init(&st->qmul, sa, za, sb, zb, so, zo, lo, hi))
      return tc__fail(c, n, TC_ERR_MODEL, "invalid quantization scales %g, %g -> %g",
                      (double)sa, (double)sb, (double)so);
    return TC_OK;
  }
  if (!tc_qadd_params_init(&st->qadd, st->op == TC_BINOP_SUB, a->dtype == TC_DTYPE_I16, sa, za,
                           sb, zb, so, zo, lo, hi))
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "quantization scales %g, %g -> %g are out of range (the output scale must "
                    "exceed max input scale / 2^%d)",
                    (double)sa, (double)sb, (double)so, a->dtype == TC_DTYPE_I16 ? 15 : 20);
  return TC_OK;
}

static tc_status binary_prepare(tc__ctx *c, tc__node *n) {
  binary_state *st = n->state;
  tc_status s = tc__expect_io(c, n, 2, 2, 1);
  if (s) return s;
  tc__tensor *a = tc__in(c, n, 0), *b = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  if (!st->act_ok)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d is not supported", st->act);
  st->kind = KIND_NONE;
  if (a->dtype == TC_DTYPE_F32 || a->dtype == TC_DTYPE_I32) {
    if ((s = tc__expect_dtype(c, n, b, "input 1", a->dtype))) return s;
    if ((s = tc__expect_dtype(c, n, out, "output", a->dtype))) return s;
    st->kind = a->dtype == TC_DTYPE_F32 ? KIND_F32 : KIND_I32;
  } else if (a->dtype == TC_DTYPE_I8 || a->dtype == TC_DTYPE_U8 || a->dtype == TC_DTYPE_I16) {
    if ((s = prepare_quantized(c, n, st))) {
      st->kind = KIND_NONE;
      return s;
    }
  } else {
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "input 0 has dtype %s, expected float32, int32, int8, uint8 or int16",
                    tc_dtype_name(a->dtype));
  }
  int n_dims = 0;
  int32_t dims[TC_MAX_DIMS];
  tc_bcast bc;
  if (!tc__broadcast_shape(a, b, &n_dims, dims) ||
      !tc_bcast_init(&bc, a->n_dims, a->dims, b->n_dims, b->dims)) {
    char sa[96], sb[96];
    return tc__fail(c, n, TC_ERR_MODEL, "input shapes %s and %s do not broadcast",
                    tc__dims_str(a, sa, sizeof sa), tc__dims_str(b, sb, sizeof sb));
  }
  pick_variants(c, n, st);
  return tc__set_shape(c, n, out, n_dims, dims);
}

/* The float and 8-bit kinds over one broadcast (the whole tensors, or a flat chunk of them). */
static void run_8_or_f32(const binary_state *st, const tc_bcast *bc, const void *a,
                         const void *b, void *out) {
  const int is_max = st->op == TC_BINOP_MAXIMUM;
  const int minmax = is_max || st->op == TC_BINOP_MINIMUM;
  if (st->kind == KIND_F32) st->kf(st->op, bc, a, b, out, st->lo, st->hi);
  else if (minmax && st->kind == KIND_S8) tc_s8_maxmin__ref(is_max, bc, a, b, out);
  else if (minmax) tc_u8_maxmin__ref(is_max, bc, a, b, out);
  else if (st->op == TC_BINOP_MUL) st->kmul(&st->qmul, bc, a, b, out);
  else st->kadd(&st->qadd, st->has_lin ? &st->lin : NULL, st->op == TC_BINOP_SUB, bc, a, b, out);
}

/* Operands of one shape, split into flat chunks over the pool. */
typedef struct flat_job {
  const binary_state *st;
  const char *a, *b;
  char *out;
  size_t n, elem, n_tasks;
} flat_job;

static void flat_task(void *ctx, size_t task, int thread) {
  (void)thread;
  const flat_job *j = ctx;
  const size_t i0 = j->n * task / j->n_tasks, i1 = j->n * (task + 1) / j->n_tasks;
  if (i1 <= i0) return;
  const int32_t len = (int32_t)(i1 - i0);
  tc_bcast bc;
  if (!tc_bcast_init(&bc, 1, &len, 1, &len)) return; /* cannot fail for one dim >= 0 */
  run_8_or_f32(j->st, &bc, j->a + i0 * j->elem, j->b + i0 * j->elem, j->out + i0 * j->elem);
}

/* Elements below which a same-shape op runs on the caller alone. Splitting even these pays
 * where the threads' caches are far apart: after a parallel convolution each thread holds its
 * part of the output, and on a lent Sapphire Rapids VM an unsplit ADD of 14x14x64 int8 took
 * 2.3 us at 1 thread and 5.1 us at 2 (its inputs pulled from the other core). */
enum { FLAT_PAR_MIN = 4096 };

static tc_status binary_invoke(tc__ctx *c, tc__node *n) {
  const binary_state *st = n->state;
  const tc__tensor *a = tc__in(c, n, 0), *b = tc__in(c, n, 1);
  tc__tensor *out = tc__out(c, n, 0);
  /* The broadcast is rebuilt from the current dims (a few multiplications), so invoke never
   * depends on state that a later prepare could have changed. */
  tc_bcast bc;
  if (!tc_bcast_init(&bc, a->n_dims, a->dims, b->n_dims, b->dims))
    return tc__fail(c, n, TC_ERR_RUNTIME, "input shapes changed after prepare");
  int is_max = st->op == TC_BINOP_MAXIMUM;
  int minmax = is_max || st->op == TC_BINOP_MINIMUM;
  if ((st->kind == KIND_F32 || st->kind == KIND_S8 || st->kind == KIND_U8) &&
      bc.n_a == bc.n_out && bc.n_b == bc.n_out && bc.n_out >= FLAT_PAR_MIN &&
      bc.n_out <= INT32_MAX) {
    tc_threadpool *pool = tc__ctx_pool(c);
    const int threads = tc_threadpool_n_threads(pool);
    if (threads > 1) {
      flat_job j = {st, a->data, b->data, out->data, bc.n_out, st->kind == KIND_F32 ? 4 : 1,
                    (size_t)threads};
      tc_threadpool_parallel_for(pool, j.n_tasks, flat_task, &j);
      return TC_OK;
    }
  }
  switch (st->kind) {
  case KIND_F32:
  case KIND_S8:
  case KIND_U8:
    run_8_or_f32(st, &bc, a->data, b->data, out->data);
    return TC_OK;
  case KIND_I32: {
    size_t n_zero = tc_i32_binary__ref(st->op, &bc, a->data, b->data, out->data, st->ilo, st->ihi);
    if (n_zero)
      return tc__fail(c, n, TC_ERR_RUNTIME, "integer %s by zero (%zu zero divisors in input 1)",
                      st->op == TC_BINOP_DIV ? "division" : "modulo", n_zero);
    return TC_OK;
  }
  case KIND_S16:
    if (minmax) tc_s16_maxmin__ref(is_max, &bc, a->data, b->data, out->data);
    else if (st->op == TC_BINOP_MUL) tc_s16_mul__ref(&st->qmul, &bc, a->data, b->data, out->data);
    else if (st->op == TC_BINOP_SUB) tc_s16_sub__ref(&st->qadd, &bc, a->data, b->data, out->data);
    else tc_s16_add__ref(&st->qadd, &bc, a->data, b->data, out->data);
    return TC_OK;
  case KIND_S16S8:
    tc_s16s8_mul__ref(&st->qmul, &bc, a->data, b->data, out->data);
    return TC_OK;
  default:
    return tc__fail(c, n, TC_ERR_STATE, "invoked before a successful prepare");
  }
}

#define BINARY_REG(sym, code) \
  const tc__opreg sym = {code, NULL, binary_init, binary_prepare, binary_invoke, NULL};
BINARY_REG(tc__reg_add, TC_OP_ADD)
BINARY_REG(tc__reg_sub, TC_OP_SUB)
BINARY_REG(tc__reg_mul, TC_OP_MUL)
BINARY_REG(tc__reg_div, TC_OP_DIV)
BINARY_REG(tc__reg_floor_mod, TC_OP_FLOOR_MOD)
BINARY_REG(tc__reg_maximum, TC_OP_MAXIMUM)
BINARY_REG(tc__reg_minimum, TC_OP_MINIMUM)
BINARY_REG(tc__reg_squared_difference, TC_OP_SQUARED_DIFFERENCE)
