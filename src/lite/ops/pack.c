/* pack.c: PACK (stack N same-shaped tensors along a new axis) and UNPACK (the inverse). Both
 * are concatenation / split of contiguous chunks (kernels/ref/shape_ops.c), so every
 * fixed-size dtype works; quantized operands must share the output's quantization. */
#include "kernels/ref/shape_ops.h"
#include "lite/ops/shape_common.h"

#define MAX_PARTS 1024

typedef struct pack_state {
  size_t outer;
  size_t chunk[]; /* bytes per outer step for each operand (all equal) */
} pack_state;

static pack_state *state_new(tc__ctx *c, int n_parts) {
  return tc__persist_alloc(c, sizeof(pack_state) + sizeof(size_t) * (size_t)n_parts);
}

static tc_status pack_prepare(tc__ctx *c, tc__node *n) {
  tc__tensor *in0 = NULL, *out = NULL;
  size_t es = 0;
  tc_status s = tc__shp_join_io(c, n, MAX_PARTS, &in0, &out, &es);
  if (s) return s;
  const tc__fb *fb = tc__ctx_fb(c);
  int32_t count = tc__fb_i32(fb, &n->m->options, 0, (int32_t)n->n_inputs);
  int32_t axis = tc__fb_i32(fb, &n->m->options, 1, 0);
  int rank = in0->n_dims;
  if (count != n->n_inputs)
    return tc__fail(c, n, TC_ERR_MODEL, "values_count is %d but the op has %d inputs",
                    (int)count, (int)n->n_inputs);
  if (rank + 1 > TC_MAX_DIMS)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "output would have more than %d dims",
                    TC_MAX_DIMS);
  if (axis < -(rank + 1) || axis > rank)
    return tc__fail(c, n, TC_ERR_MODEL, "axis %d is out of range for rank %d inputs",
                    (int)axis, rank);
  if (axis < 0) axis += rank + 1;
  for (int i = 1; i < n->n_inputs; i++) {
    tc__tensor *t = tc__in(c, n, i);
    char a[96], b[96];
    if (t->dtype != in0->dtype)
      return tc__fail(c, n, TC_ERR_MODEL, "input %d has dtype %s, input 0 has %s", i,
                      tc_dtype_name(t->dtype), tc_dtype_name(in0->dtype));
    if (t->n_dims != rank || memcmp(t->dims, in0->dims, sizeof(int32_t) * (size_t)rank))
      return tc__fail(c, n, TC_ERR_MODEL, "input %d has shape %s, input 0 has %s", i,
                      tc__dims_str(t, a, sizeof a), tc__dims_str(in0, b, sizeof b));
  }
  for (int i = 0; i < n->n_inputs; i++)
    if (!tc__shp_same_quant(tc__in(c, n, i), out) && in0->dtype != TC_DTYPE_F32)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                      "input %d and the output have different quantization", i);
  pack_state *st = state_new(c, (int)n->n_inputs);
  if (!st) return tc__fail(c, n, TC_ERR_NOMEM, "out of persistent memory");
  size_t inner = 1;
  st->outer = 1;
  for (int d = 0; d < axis; d++) st->outer *= (size_t)in0->dims[d];
  for (int d = axis; d < rank; d++) inner *= (size_t)in0->dims[d];
  for (int i = 0; i < n->n_inputs; i++) st->chunk[i] = inner * es;
  int32_t dims[TC_MAX_DIMS];
  for (int d = 0, k = 0; d <= rank; d++) dims[d] = d == axis ? count : in0->dims[k++];
  n->state = st;
  return tc__set_shape(c, n, out, rank + 1, dims);
}

static tc_status pack_invoke(tc__ctx *c, tc__node *n) {
  pack_state *st = n->state;
  const void *srcs[MAX_PARTS];
  for (int i = 0; i < n->n_inputs; i++) srcs[i] = tc__in(c, n, i)->data;
  tc_x_concat__ref(st->outer, (int)n->n_inputs, srcs, st->chunk, tc__out(c, n, 0)->data);
  return TC_OK;
}

static tc_status unpack_prepare(tc__ctx *c, tc__node *n) {
  if (n->n_outputs < 1 || n->n_outputs > MAX_PARTS)
    return tc__fail(c, n, TC_ERR_MODEL, "expected 1..%d outputs, got %d", MAX_PARTS,
                    (int)n->n_outputs);
  tc_status s = tc__expect_io(c, n, 1, 1, n->n_outputs);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0);
  size_t es = 0;
  if ((s = tc__shp_elem_size(c, n, in, "input", &es))) return s;
  const tc__fb *fb = tc__ctx_fb(c);
  int rank = in->n_dims;
  int32_t axis = tc__fb_i32(fb, &n->m->options, 1, 0);
  if (rank == 0) return tc__fail(c, n, TC_ERR_MODEL, "cannot unpack a scalar");
  if (axis < -rank || axis >= rank)
    return tc__fail(c, n, TC_ERR_MODEL, "axis %d is out of range for rank %d", (int)axis, rank);
  if (axis < 0) axis += rank;
  int32_t num = tc__fb_i32(fb, &n->m->options, 0, in->dims[axis]);
  if (num != in->dims[axis] || num != n->n_outputs)
    return tc__fail(c, n, TC_ERR_MODEL, "num is %d, dim %d has extent %d, the op has %d outputs",
                    (int)num, (int)axis, (int)in->dims[axis], (int)n->n_outputs);
  pack_state *st = state_new(c, (int)n->n_outputs);
  if (!st) return tc__fail(c, n, TC_ERR_NOMEM, "out of persistent memory");
  size_t inner = 1;
  st->outer = 1;
  for (int d = 0; d < axis; d++) st->outer *= (size_t)in->dims[d];
  for (int d = axis + 1; d < rank; d++) inner *= (size_t)in->dims[d];
  int32_t dims[TC_MAX_DIMS];
  for (int d = 0, k = 0; d < rank; d++)
    if (d != axis) dims[k++] = in->dims[d];
  for (int i = 0; i < n->n_outputs; i++) {
    tc__tensor *o = tc__out(c, n, i);
    if ((s = tc__shp_same_dtype(c, n, in, o))) return s;
    if (!tc__shp_same_quant(in, o) && in->dtype != TC_DTYPE_F32)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                      "output %d and the input have different quantization", i);
    st->chunk[i] = inner * es;
    if ((s = tc__set_shape(c, n, o, rank - 1, dims))) return s;
  }
  n->state = st;
  return TC_OK;
}

static tc_status unpack_invoke(tc__ctx *c, tc__node *n) {
  pack_state *st = n->state;
  void *dsts[MAX_PARTS];
  for (int i = 0; i < n->n_outputs; i++) dsts[i] = tc__out(c, n, i)->data;
  tc_x_split__ref(st->outer, tc__in(c, n, 0)->data, (int)n->n_outputs, dsts, st->chunk);
  return TC_OK;
}

const tc__opreg tc__reg_pack = {TC_OP_PACK, NULL, NULL, pack_prepare, pack_invoke, NULL};
const tc__opreg tc__reg_unpack = {TC_OP_UNPACK, NULL, NULL, unpack_prepare, unpack_invoke, NULL};
