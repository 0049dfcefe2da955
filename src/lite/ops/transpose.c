/* transpose.c: TRANSPOSE. The permutation (input 1, int32/int64, known at prepare) must be a
 * permutation of 0..rank-1; output dim i is input dim perm[i]. Byte-generic kernel in
 * kernels/ref/transpose.c. */
#include "kernels/ref/transpose.h"
#include "lite/ops/shape_common.h"

typedef struct transpose_state {
  tc_transpose_params p;
  size_t elem_size;
} transpose_state;

static tc_status transpose_prepare(tc__ctx *c, tc__node *n) {
  tc_status s = tc__expect_io(c, n, 2, 2, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *perm = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  size_t es = 0;
  if ((s = tc__shp_elem_size(c, n, in, "input", &es))) return s;
  if ((s = tc__shp_same_dtype(c, n, in, out))) return s;
  if ((s = tc__shp_const_int(c, n, perm, "perm (input 1)", 1))) return s;
  int rank = in->n_dims;
  if (perm->n_dims != 1 || perm->dims[0] != rank)
    return tc__fail(c, n, TC_ERR_MODEL, "perm must be a vector of %d values (the input rank)",
                    rank);
  transpose_state *st = tc__persist_alloc(c, sizeof *st);
  if (!st) return tc__fail(c, n, TC_ERR_NOMEM, "out of persistent memory");
  int seen[TC_MAX_DIMS] = {0};
  int32_t dims[TC_MAX_DIMS];
  st->p.n_dims = rank;
  st->elem_size = es;
  for (int d = 0; d < rank; d++) {
    int64_t v = tc__shp_ld(perm, (size_t)d);
    if (v < 0 || v >= rank || seen[v])
      return tc__fail(c, n, TC_ERR_MODEL, "perm[%d] = %lld: not a permutation of 0..%d", d,
                      (long long)v, rank - 1);
    seen[v] = 1;
    st->p.perm[d] = (int32_t)v;
    st->p.in_dims[d] = in->dims[d];
  }
  for (int d = 0; d < rank; d++) dims[d] = in->dims[st->p.perm[d]];
  n->state = st;
  return tc__set_shape(c, n, out, rank, dims);
}

static tc_status transpose_invoke(tc__ctx *c, tc__node *n) {
  transpose_state *st = n->state;
  tc_x_transpose__ref(tc__in(c, n, 0)->data, tc__out(c, n, 0)->data, st->elem_size, &st->p);
  return TC_OK;
}

const tc__opreg tc__reg_transpose = {TC_OP_TRANSPOSE, NULL, NULL, transpose_prepare,
                                     transpose_invoke, NULL};
