/* space_batch.c: SPACE_TO_BATCH_ND and BATCH_TO_SPACE_ND on [N, H, W, C] (or [N, W, C], seen
 * as [N, W, 1, C] with block width 1). block_shape and paddings / crops must be known at
 * prepare (they often come from SHAPE -> ... -> PACK chains that the interpreter folds).
 * Padding uses the output zero point for quantized tensors, as TFLite does. */
#include "kernels/ref/space_batch.h"
#include "lite/ops/shape_common.h"

typedef struct sb_state {
  tc_space_batch_params p;
  size_t elem_size;
  unsigned char pad[16]; /* the fill element */
} sb_state;

/* Reads block_shape [M] and paddings/crops [M, 2] (M = rank - 2) into block[2], lead[2],
 * trail[2]; the missing width entries of a rank-3 input are 1 / 0 / 0. */
static tc_status read_spec(tc__ctx *c, const tc__node *n, const tc__tensor *in,
                           const char *pad_name, int64_t *block, int64_t *lead, int64_t *trail) {
  tc__tensor *bs = tc__in(c, n, 1), *pd = tc__in(c, n, 2);
  tc_status s;
  if (in->n_dims != 3 && in->n_dims != 4) {
    char b[96];
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "input %s must have rank 3 or 4",
                    tc__dims_str(in, b, sizeof b));
  }
  if ((s = tc__shp_const_int(c, n, bs, "block_shape (input 1)", 1))) return s;
  if ((s = tc__shp_const_int(c, n, pd, pad_name, 1))) return s;
  int m = in->n_dims - 2;
  if (bs->n_dims != 1 || bs->dims[0] != m)
    return tc__fail(c, n, TC_ERR_MODEL, "block_shape must be a vector of %d values", m);
  if (pd->n_dims != 2 || pd->dims[0] != m || pd->dims[1] != 2)
    return tc__fail(c, n, TC_ERR_MODEL, "%s must have shape [%d, 2]", pad_name, m);
  block[1] = 1;
  lead[1] = trail[1] = 0;
  for (int i = 0; i < m; i++) {
    block[i] = tc__shp_ld(bs, (size_t)i);
    lead[i] = tc__shp_ld(pd, (size_t)i * 2);
    trail[i] = tc__shp_ld(pd, (size_t)i * 2 + 1);
    if (block[i] < 1 || block[i] > INT32_MAX)
      return tc__fail(c, n, TC_ERR_MODEL, "block_shape[%d] is %lld, must be >= 1", i,
                      (long long)block[i]);
    if (lead[i] < 0 || trail[i] < 0 || lead[i] > INT32_MAX || trail[i] > INT32_MAX)
      return tc__fail(c, n, TC_ERR_MODEL, "%s of dim %d are invalid (%lld, %lld)", pad_name,
                      i + 1, (long long)lead[i], (long long)trail[i]);
  }
  return TC_OK;
}

static tc_status common_io(tc__ctx *c, tc__node *n, sb_state **st) {
  tc_status s = tc__expect_io(c, n, 3, 3, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  size_t es = 0;
  if ((s = tc__shp_elem_size(c, n, in, "input", &es))) return s;
  if (es > 16) return tc__fail(c, n, TC_ERR_UNSUPPORTED, "dtype %s is not supported",
                               tc_dtype_name(in->dtype));
  if ((s = tc__shp_same_dtype(c, n, in, out))) return s;
  *st = tc__persist_alloc(c, sizeof **st);
  if (!*st) return tc__fail(c, n, TC_ERR_NOMEM, "out of persistent memory");
  (*st)->elem_size = es;
  return TC_OK;
}

static tc_status s2b_prepare(tc__ctx *c, tc__node *n) {
  sb_state *st = NULL;
  tc_status s = common_io(c, n, &st);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  int64_t block[2], lead[2], trail[2];
  if ((s = read_spec(c, n, in, "paddings (input 2)", block, lead, trail))) return s;
  int rank = in->n_dims;
  int64_t sp[2] = {in->dims[1], rank == 4 ? in->dims[2] : 1}, osp[2];
  for (int i = 0; i < 2; i++) {
    int64_t padded = sp[i] + lead[i] + trail[i];
    if (padded % block[i] != 0)
      return tc__fail(c, n, TC_ERR_MODEL, "padded dim %d (%lld) is not a multiple of block %lld",
                      i + 1, (long long)padded, (long long)block[i]);
    osp[i] = padded / block[i];
  }
  int64_t ob = (int64_t)in->dims[0] * block[0] * block[1];
  if (ob > INT32_MAX || osp[0] > INT32_MAX)
    return tc__fail(c, n, TC_ERR_MODEL, "output is too large");
  st->p = (tc_space_batch_params){in->dims[0], (int32_t)sp[0], (int32_t)sp[1],
                                  in->dims[rank - 1], (int32_t)block[0], (int32_t)block[1],
                                  (int32_t)lead[0], (int32_t)lead[1], (int32_t)osp[0],
                                  (int32_t)osp[1]};
  /* Fill with the output zero point (0 for float and unquantized types). */
  int64_t zp = tc__shp_zero_point(out);
  memset(st->pad, 0, sizeof st->pad);
  if (in->dtype == TC_DTYPE_I8 || in->dtype == TC_DTYPE_U8) st->pad[0] = (unsigned char)zp;
  else if (in->dtype == TC_DTYPE_I16) { int16_t v = (int16_t)zp; memcpy(st->pad, &v, 2); }
  n->state = st;
  int32_t dims[4] = {(int32_t)ob, (int32_t)osp[0], (int32_t)osp[1], in->dims[rank - 1]};
  if (rank == 3) dims[2] = in->dims[2];
  return tc__set_shape(c, n, out, rank, dims);
}

static tc_status s2b_invoke(tc__ctx *c, tc__node *n) {
  sb_state *st = n->state;
  tc_x_space_to_batch__ref(tc__in(c, n, 0)->data, tc__out(c, n, 0)->data, st->elem_size, &st->p,
                           st->pad);
  return TC_OK;
}

static tc_status b2s_prepare(tc__ctx *c, tc__node *n) {
  sb_state *st = NULL;
  tc_status s = common_io(c, n, &st);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  int64_t block[2], lead[2], trail[2];
  if ((s = read_spec(c, n, in, "crops (input 2)", block, lead, trail))) return s;
  int rank = in->n_dims;
  int64_t nb = block[0] * block[1];
  if (in->dims[0] % nb != 0)
    return tc__fail(c, n, TC_ERR_MODEL, "input batch %d is not a multiple of the block size %lld",
                    (int)in->dims[0], (long long)nb);
  int64_t sp[2] = {in->dims[1], rank == 4 ? in->dims[2] : 1}, osp[2];
  for (int i = 0; i < 2; i++) {
    osp[i] = sp[i] * block[i] - lead[i] - trail[i];
    if (osp[i] < 0 || osp[i] > INT32_MAX)
      return tc__fail(c, n, TC_ERR_MODEL, "crops of dim %d leave %lld elements", i + 1,
                      (long long)osp[i]);
  }
  st->p = (tc_space_batch_params){(int32_t)(in->dims[0] / nb), (int32_t)sp[0], (int32_t)sp[1],
                                  in->dims[rank - 1], (int32_t)block[0], (int32_t)block[1],
                                  (int32_t)lead[0], (int32_t)lead[1], (int32_t)osp[0],
                                  (int32_t)osp[1]};
  n->state = st;
  int32_t dims[4] = {st->p.batch, (int32_t)osp[0], (int32_t)osp[1], in->dims[rank - 1]};
  if (rank == 3) dims[2] = in->dims[2];
  return tc__set_shape(c, n, out, rank, dims);
}

static tc_status b2s_invoke(tc__ctx *c, tc__node *n) {
  sb_state *st = n->state;
  tc_x_batch_to_space__ref(tc__in(c, n, 0)->data, tc__out(c, n, 0)->data, st->elem_size, &st->p);
  return TC_OK;
}

const tc__opreg tc__reg_space_to_batch_nd = {TC_OP_SPACE_TO_BATCH_ND, NULL, NULL, s2b_prepare,
                                             s2b_invoke, NULL};
const tc__opreg tc__reg_batch_to_space_nd = {TC_OP_BATCH_TO_SPACE_ND, NULL, NULL, b2s_prepare,
                                             b2s_invoke, NULL};
