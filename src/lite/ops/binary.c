/* binary.c: ADD, SUB, MUL, DIV, FLOOR_MOD, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE on float32 and
 * int32 with NumPy-style broadcasting. The output takes the broadcast shape; ADD/SUB/MUL/DIV
 * apply their fused activation (clamped as integers for int32). The loops are in
 * kernels/ref/binary.c. Invoke reads only the tensors and the options parsed in init, so the
 * interpreter may run it at prepare time to fold constant shape arithmetic. */
#include <math.h>

#include "kernels/ref/binary.h"
#include "lite/ops.h"

typedef struct binary_state {
  tc_binop op;
  int act;          /* fused activation code (TC_ACT_NONE for ops without one) */
  int act_ok;       /* 1 if act is a clamp this file supports */
  float lo, hi;     /* float32 clamp */
  int32_t ilo, ihi; /* int32 clamp */
} binary_state;

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

static tc_status binary_prepare(tc__ctx *c, tc__node *n) {
  const binary_state *st = n->state;
  tc_status s = tc__expect_io(c, n, 2, 2, 1);
  if (s) return s;
  tc__tensor *a = tc__in(c, n, 0), *b = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  if (!st->act_ok)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d is not supported", st->act);
  if (a->dtype != TC_DTYPE_F32 && a->dtype != TC_DTYPE_I32)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "input 0 has dtype %s, expected float32 or int32",
                    tc_dtype_name(a->dtype));
  if ((s = tc__expect_dtype(c, n, b, "input 1", a->dtype))) return s;
  if ((s = tc__expect_dtype(c, n, out, "output", a->dtype))) return s;
  int n_dims = 0;
  int32_t dims[TC_MAX_DIMS];
  tc_bcast bc;
  if (!tc__broadcast_shape(a, b, &n_dims, dims) ||
      !tc_bcast_init(&bc, a->n_dims, a->dims, b->n_dims, b->dims)) {
    char sa[96], sb[96];
    return tc__fail(c, n, TC_ERR_MODEL, "input shapes %s and %s do not broadcast",
                    tc__dims_str(a, sa, sizeof sa), tc__dims_str(b, sb, sizeof sb));
  }
  return tc__set_shape(c, n, out, n_dims, dims);
}

static tc_status binary_invoke(tc__ctx *c, tc__node *n) {
  const binary_state *st = n->state;
  const tc__tensor *a = tc__in(c, n, 0), *b = tc__in(c, n, 1);
  tc__tensor *out = tc__out(c, n, 0);
  /* The broadcast is rebuilt from the current dims (a few multiplications), so invoke never
   * depends on state that a later prepare could have changed. */
  tc_bcast bc;
  if (!tc_bcast_init(&bc, a->n_dims, a->dims, b->n_dims, b->dims))
    return tc__fail(c, n, TC_ERR_RUNTIME, "input shapes changed after prepare");
  if (a->dtype == TC_DTYPE_F32) {
    tc_f32_binary__ref(st->op, &bc, a->data, b->data, out->data, st->lo, st->hi);
    return TC_OK;
  }
  size_t n_zero = tc_i32_binary__ref(st->op, &bc, a->data, b->data, out->data, st->ilo, st->ihi);
  if (n_zero)
    return tc__fail(c, n, TC_ERR_RUNTIME, "integer %s by zero (%zu zero divisors in input 1)",
                    st->op == TC_BINOP_DIV ? "division" : "modulo", n_zero);
  return TC_OK;
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
