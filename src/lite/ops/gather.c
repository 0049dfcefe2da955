/* gather.c: GATHER with batch_dims 0. Output shape is params.dims[:axis] + indices.dims +
 * params.dims[axis+1:]. Indices (int32 or int64) are data, so an out-of-range index is found
 * at invoke and fails the run with TC_ERR_RUNTIME naming it; nothing is read out of bounds. */
#include "kernels/ref/gather.h"
#include "lite/ops/shape_common.h"

typedef struct gather_state {
  size_t elem_size, outer, axis_size, inner;
} gather_state;

static tc_status gather_prepare(tc__ctx *c, tc__node *n) {
  tc_status s = tc__expect_io(c, n, 2, 2, 1);
  if (s) return s;
  tc__tensor *par = tc__in(c, n, 0), *idx = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  size_t es = 0;
  if ((s = tc__shp_elem_size(c, n, par, "params", &es))) return s;
  if ((s = tc__shp_same_dtype(c, n, par, out))) return s;
  if (idx->dtype != TC_DTYPE_I32 && idx->dtype != TC_DTYPE_I64)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "indices have dtype %s, expected int32 or int64",
                    tc_dtype_name(idx->dtype));
  const tc__fb *fb = tc__ctx_fb(c);
  int32_t axis = tc__fb_i32(fb, &n->m->options, 0, 0);
  int32_t batch_dims = tc__fb_i32(fb, &n->m->options, 1, 0);
  if (batch_dims != 0)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "batch_dims %d is not supported (only 0)",
                    (int)batch_dims);
  int rank = par->n_dims;
  if (rank == 0) return tc__fail(c, n, TC_ERR_MODEL, "params must have at least one dim");
  if (axis < -rank || axis >= rank)
    return tc__fail(c, n, TC_ERR_MODEL, "axis %d is out of range for rank %d", (int)axis, rank);
  if (axis < 0) axis += rank;
  int out_rank = rank - 1 + idx->n_dims;
  if (out_rank > TC_MAX_DIMS)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "output would have %d dims, at most %d", out_rank,
                    TC_MAX_DIMS);
  gather_state *st = tc__persist_alloc(c, sizeof *st);
  if (!st) return tc__fail(c, n, TC_ERR_NOMEM, "out of persistent memory");
  st->elem_size = es;
  st->outer = 1;
  st->inner = 1;
  for (int d = 0; d < axis; d++) st->outer *= (size_t)par->dims[d];
  for (int d = axis + 1; d < rank; d++) st->inner *= (size_t)par->dims[d];
  st->axis_size = (size_t)par->dims[axis];
  int32_t dims[TC_MAX_DIMS];
  int k = 0;
  for (int d = 0; d < axis; d++) dims[k++] = par->dims[d];
  for (int d = 0; d < idx->n_dims; d++) dims[k++] = idx->dims[d];
  for (int d = axis + 1; d < rank; d++) dims[k++] = par->dims[d];
  n->state = st;
  return tc__set_shape(c, n, out, out_rank, dims);
}

static tc_status gather_invoke(tc__ctx *c, tc__node *n) {
  gather_state *st = n->state;
  tc__tensor *par = tc__in(c, n, 0), *idx = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  size_t n_idx = tc__numel(idx), bad = 0;
  int ok = idx->dtype == TC_DTYPE_I64
               ? tc_x_gather_i64__ref(par->data, st->elem_size, st->outer, st->axis_size,
                                      st->inner, idx->data, n_idx, out->data, &bad)
               : tc_x_gather_i32__ref(par->data, st->elem_size, st->outer, st->axis_size,
                                      st->inner, idx->data, n_idx, out->data, &bad);
  if (!ok)
    return tc__fail(c, n, TC_ERR_RUNTIME, "index %lld (indices[%zu]) is out of range [0, %zu)",
                    (long long)tc__shp_ld(idx, bad), bad, st->axis_size);
  return TC_OK;
}

const tc__opreg tc__reg_gather = {TC_OP_GATHER, NULL, NULL, gather_prepare, gather_invoke, NULL};
