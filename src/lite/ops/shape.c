/* shape.c: SHAPE. The output ([rank], int32 or int64 per ShapeOptions.out_type) depends only on
 * the input's shape, never on its values: the registration says so (shape_only), so the
 * interpreter folds it at prepare and shape arithmetic downstream (STRIDED_SLICE, PACK, ...)
 * then folds too, giving dynamic-looking graphs concrete shapes. */
#include "lite/ops/shape_common.h"

static void write_dims(const tc__tensor *in, tc__tensor *out) {
  for (int d = 0; d < in->n_dims; d++) {
    if (out->dtype == TC_DTYPE_I64) {
      int64_t v = in->dims[d];
      memcpy((unsigned char *)out->data + (size_t)d * 8, &v, 8);
    } else {
      int32_t v = in->dims[d];
      memcpy((unsigned char *)out->data + (size_t)d * 4, &v, 4);
    }
  }
}

static tc_status shape_prepare(tc__ctx *c, tc__node *n) {
  tc_status s = tc__expect_io(c, n, 1, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  /* out_type uses TFLite TensorType numbers: INT32 = 2, INT64 = 4; absent means int32. */
  int32_t out_type = tc__fb_i32(tc__ctx_fb(c), &n->m->options, 0, 2);
  if (out->dtype != TC_DTYPE_I32 && out->dtype != TC_DTYPE_I64)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "output has dtype %s, expected int32 or int64",
                    tc_dtype_name(out->dtype));
  if ((out_type == 2 && out->dtype != TC_DTYPE_I32) ||
      (out_type == 4 && out->dtype != TC_DTYPE_I64))
    return tc__fail(c, n, TC_ERR_MODEL, "out_type %d does not match the output dtype %s",
                    (int)out_type, tc_dtype_name(out->dtype));
  int32_t dims[1] = {in->n_dims};
  return tc__set_shape(c, n, out, 1, dims);
}

static tc_status shape_invoke(tc__ctx *c, tc__node *n) {
  write_dims(tc__in(c, n, 0), tc__out(c, n, 0));
  return TC_OK;
}

const tc__opreg tc__reg_shape = {TC_OP_SHAPE, NULL, NULL, shape_prepare, shape_invoke, NULL,
                                 .shape_only = 1};
