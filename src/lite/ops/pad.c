/* pad.c: PAD and PADV2 (constant padding). The paddings tensor ([rank, 2] int32/int64) must be
 * known at prepare. PAD fills with zero, or with the output zero point for quantized tensors;
 * PADV2 takes the fill value from its third input (a scalar of the input's dtype). The kernel
 * (kernels/ref/pad.c) moves bytes, so every fixed-size dtype works. */
#include "kernels/ref/pad.h"
#include "lite/ops/shape_common.h"

typedef struct pad_state {
  tc_pad_params p;
  size_t elem_size;
  unsigned char value[16]; /* the fill element (PAD, or PADV2 without input 2) */
} pad_state;

/* Stores integer `v` as one element of dtype dt into dst. */
static void store_int(unsigned char *dst, tc_dtype dt, int64_t v) {
  switch (dt) {
  case TC_DTYPE_I8: { int8_t x = (int8_t)v; memcpy(dst, &x, 1); break; }
  case TC_DTYPE_U8: { uint8_t x = (uint8_t)v; memcpy(dst, &x, 1); break; }
  case TC_DTYPE_I16: { int16_t x = (int16_t)v; memcpy(dst, &x, 2); break; }
  case TC_DTYPE_U16: { uint16_t x = (uint16_t)v; memcpy(dst, &x, 2); break; }
  case TC_DTYPE_I32: { int32_t x = (int32_t)v; memcpy(dst, &x, 4); break; }
  case TC_DTYPE_I64: memcpy(dst, &v, 8); break;
  default: break; /* float types: zero point is meaningless, keep 0 */
  }
}

static tc_status pad_prepare(tc__ctx *c, tc__node *n) {
  tc_status s = tc__expect_io(c, n, 2, 3, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *pads = tc__in(c, n, 1), *out = tc__out(c, n, 0);
  tc__tensor *cval = n->n_inputs > 2 ? tc__in(c, n, 2) : NULL;
  size_t es = 0;
  if ((s = tc__shp_elem_size(c, n, in, "input", &es))) return s;
  if (es > 16) return tc__fail(c, n, TC_ERR_UNSUPPORTED, "dtype %s is not supported",
                               tc_dtype_name(in->dtype));
  if ((s = tc__shp_same_dtype(c, n, in, out))) return s;
  if ((s = tc__shp_const_int(c, n, pads, "paddings (input 1)", 1))) return s;
  int rank = in->n_dims;
  if (pads->n_dims != 2 || pads->dims[0] != rank || pads->dims[1] != 2) {
    char b[96];
    return tc__fail(c, n, TC_ERR_MODEL, "paddings has shape %s, expected [%d, 2]",
                    tc__dims_str(pads, b, sizeof b), rank);
  }
  if (cval) {
    if (cval->dtype != in->dtype)
      return tc__fail(c, n, TC_ERR_MODEL, "constant value has dtype %s, input has %s",
                      tc_dtype_name(cval->dtype), tc_dtype_name(in->dtype));
    if (tc__numel(cval) != 1)
      return tc__fail(c, n, TC_ERR_MODEL, "constant value must hold one element, it holds %zu",
                      tc__numel(cval));
  }
  pad_state *st = tc__persist_alloc(c, sizeof *st);
  if (!st) return tc__fail(c, n, TC_ERR_NOMEM, "out of persistent memory");
  st->elem_size = es;
  st->p.n_dims = rank;
  int32_t dims[TC_MAX_DIMS];
  for (int d = 0; d < rank; d++) {
    int64_t before = tc__shp_ld(pads, (size_t)d * 2), after = tc__shp_ld(pads, (size_t)d * 2 + 1);
    if (before < 0 || after < 0)
      return tc__fail(c, n, TC_ERR_MODEL, "paddings of dim %d are negative (%lld, %lld)", d,
                      (long long)before, (long long)after);
    int64_t ext = in->dims[d] + before + after;
    if (ext > INT32_MAX) return tc__fail(c, n, TC_ERR_MODEL, "padded dim %d is too large", d);
    st->p.in_dims[d] = in->dims[d];
    st->p.before[d] = (int32_t)before;
    st->p.after[d] = (int32_t)after;
    dims[d] = (int32_t)ext;
  }
  store_int(st->value, in->dtype, tc__shp_zero_point(out));
  n->state = st;
  return tc__set_shape(c, n, out, rank, dims);
}

static tc_status pad_invoke(tc__ctx *c, tc__node *n) {
  pad_state *st = n->state;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  tc__tensor *cval = n->n_inputs > 2 ? tc__in(c, n, 2) : NULL;
  tc_x_pad__ref(in->data, out->data, st->elem_size, &st->p, cval ? cval->data : st->value);
  return TC_OK;
}

static tc_status pad1_prepare(tc__ctx *c, tc__node *n) {
  if (n->n_inputs > 2)
    return tc__fail(c, n, TC_ERR_MODEL, "PAD takes 2 inputs, got %d", (int)n->n_inputs);
  return pad_prepare(c, n);
}

const tc__opreg tc__reg_pad = {TC_OP_PAD, NULL, NULL, pad1_prepare, pad_invoke, NULL};
const tc__opreg tc__reg_padv2 = {TC_OP_PADV2, NULL, NULL, pad_prepare, pad_invoke, NULL};
