/* reshape.c: RESHAPE, SQUEEZE and EXPAND_DIMS. All three keep the bytes and only change the
 * shape, so invoke is a copy (skipped when the planner let output and input share storage) and
 * works for every fixed-size dtype. The new shape must be known at prepare. */
#include "lite/ops/shape_common.h"

static tc_status copy_invoke(tc__ctx *c, tc__node *n) {
  tc__shp_copy(tc__in(c, n, 0), tc__out(c, n, 0));
  return TC_OK;
}

/* Common checks: one data input (+ optional extras), one output of the same dtype. */
static tc_status check_io(tc__ctx *c, tc__node *n, int n_in_min, int n_in_max) {
  tc_status s = tc__expect_io(c, n, n_in_min, n_in_max, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  size_t es = 0;
  if ((s = tc__shp_elem_size(c, n, in, "input", &es))) return s;
  return tc__shp_same_dtype(c, n, in, out);
}

/* ---- RESHAPE --------------------------------------------------------------------------------
 * Where the new shape comes from, in order: the int32 shape tensor (input 1) when it is a
 * vector; ReshapeOptions.new_shape when the tensor is absent, empty or not known; the output's
 * shape recorded in the file. A single -1 takes whatever the element count leaves. The legacy
 * option value [0] means a scalar. */
static tc_status reshape_prepare(tc__ctx *c, tc__node *n) {
  tc_status s = check_io(c, n, 1, 2);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  tc__tensor *shape = n->n_inputs > 1 ? tc__in(c, n, 1) : NULL;
  const tc__fb *fb = tc__ctx_fb(c);
  tc__fbv opt;
  int have_opt = tc__fb_vector(fb, &n->m->options, 0, 4, &opt) == TC_FB_OK && opt.n > 0;
  int64_t want[TC_MAX_DIMS];
  int nd = -1;

  int shape_vec = shape && shape->n_dims == 1 &&
                  (shape->dtype == TC_DTYPE_I32 || shape->dtype == TC_DTYPE_I64);
  if (shape_vec && !(shape->dims[0] == 0 && have_opt) && !(!shape->known && have_opt)) {
    if ((s = tc__shp_const_int(c, n, shape, "shape (input 1)", 1))) return s;
    if (shape->dims[0] > TC_MAX_DIMS)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED, "new shape has %d dims, at most %d supported",
                      (int)shape->dims[0], TC_MAX_DIMS);
    nd = shape->dims[0];
    for (int i = 0; i < nd; i++) want[i] = tc__shp_ld(shape, (size_t)i);
  } else if (have_opt) {
    if (opt.n > TC_MAX_DIMS)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED, "new_shape has %u dims, at most %d supported",
                      (unsigned)opt.n, TC_MAX_DIMS);
    nd = (int)opt.n;
    for (int i = 0; i < nd; i++) want[i] = tc__ld_i32(fb->buf + opt.pos + 4u * (uint32_t)i);
    if (nd == 1 && want[0] == 0) nd = 0; /* legacy encoding of a scalar */
  } else if (shape && shape->n_dims == 1 && !shape->known) {
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "shape (input 1) must be constant (dynamic shapes are not supported)");
  } else {
    /* Nothing usable: keep the output's shape from the file if the element count agrees. */
    if (tc__numel(out) != tc__numel(in)) {
      char a[96], b[96];
      return tc__fail(c, n, TC_ERR_MODEL,
                      "no new shape given and output %s does not match input %s",
                      tc__dims_str(out, a, sizeof a), tc__dims_str(in, b, sizeof b));
    }
    return tc__set_shape(c, n, out, out->n_dims, out->dims);
  }

  /* Resolve the -1 and check the element count. */
  int stretch = -1;
  int64_t known = 1;
  for (int i = 0; i < nd; i++) {
    if (want[i] == -1) {
      if (stretch >= 0)
        return tc__fail(c, n, TC_ERR_MODEL, "new shape has more than one -1");
      stretch = i;
    } else if (want[i] < 0 || want[i] > INT32_MAX) {
      return tc__fail(c, n, TC_ERR_MODEL, "new shape dim %d is %lld", i, (long long)want[i]);
    } else {
      known *= want[i];
      if (known > INT32_MAX * (int64_t)64)
        return tc__fail(c, n, TC_ERR_MODEL, "new shape is too large");
    }
  }
  int64_t numel = (int64_t)tc__numel(in);
  if (stretch >= 0) {
    if (known == 0 || numel % known != 0)
      return tc__fail(c, n, TC_ERR_MODEL, "cannot infer the -1 of the new shape: %lld elements "
                      "do not divide by %lld", (long long)numel, (long long)known);
    want[stretch] = numel / known;
    known = numel;
  }
  if (known != numel) {
    char b[96];
    return tc__fail(c, n, TC_ERR_MODEL, "new shape has %lld elements but input %s has %lld",
                    (long long)known, tc__dims_str(in, b, sizeof b), (long long)numel);
  }
  int32_t dims[TC_MAX_DIMS];
  for (int i = 0; i < nd; i++) dims[i] = (int32_t)want[i];
  return tc__set_shape(c, n, out, nd, dims);
}

/* ---- SQUEEZE --------------------------------------------------------------------------------
 * SqueezeOptions.squeeze_dims (may be negative); empty means every dim of extent 1. */
static tc_status squeeze_prepare(tc__ctx *c, tc__node *n) {
  tc_status s = check_io(c, n, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  const tc__fb *fb = tc__ctx_fb(c);
  tc__fbv v;
  int drop[TC_MAX_DIMS] = {0};
  if (tc__fb_vector(fb, &n->m->options, 0, 4, &v) == TC_FB_OK && v.n > 0) {
    for (uint32_t i = 0; i < v.n; i++) {
      int32_t d = tc__ld_i32(fb->buf + v.pos + 4u * i);
      if (d < -in->n_dims || d >= in->n_dims)
        return tc__fail(c, n, TC_ERR_MODEL, "squeeze dim %d is out of range for rank %d",
                        (int)d, (int)in->n_dims);
      if (d < 0) d += in->n_dims;
      if (in->dims[d] != 1)
        return tc__fail(c, n, TC_ERR_MODEL, "cannot squeeze dim %d of extent %d", (int)d,
                        (int)in->dims[d]);
      drop[d] = 1;
    }
  } else {
    for (int d = 0; d < in->n_dims; d++) drop[d] = in->dims[d] == 1;
  }
  int32_t dims[TC_MAX_DIMS];
  int nd = 0;
  for (int d = 0; d < in->n_dims; d++)
    if (!drop[d]) dims[nd++] = in->dims[d];
  return tc__set_shape(c, n, out, nd, dims);
}

/* ---- EXPAND_DIMS ----------------------------------------------------------------------------
 * Inserts a dim of extent 1 at `axis` (input 1, in [-rank - 1, rank]). */
static tc_status expand_dims_prepare(tc__ctx *c, tc__node *n) {
  tc_status s = check_io(c, n, 2, 2);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0), *ax = tc__in(c, n, 1);
  if ((s = tc__shp_const_int(c, n, ax, "axis (input 1)", 1))) return s;
  if (tc__numel(ax) != 1)
    return tc__fail(c, n, TC_ERR_MODEL, "axis must hold one value, it holds %zu",
                    tc__numel(ax));
  int64_t axis = tc__shp_ld(ax, 0);
  if (axis < -(int64_t)in->n_dims - 1 || axis > in->n_dims)
    return tc__fail(c, n, TC_ERR_MODEL, "axis %lld is out of range for rank %d",
                    (long long)axis, (int)in->n_dims);
  if (axis < 0) axis += in->n_dims + 1;
  if (in->n_dims >= TC_MAX_DIMS)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "output would have more than %d dims",
                    TC_MAX_DIMS);
  int32_t dims[TC_MAX_DIMS];
  for (int d = 0, o = 0; o <= in->n_dims; o++) dims[o] = o == axis ? 1 : in->dims[d++];
  return tc__set_shape(c, n, out, in->n_dims + 1, dims);
}

const tc__opreg tc__reg_reshape = {TC_OP_RESHAPE, NULL, NULL, reshape_prepare, copy_invoke,
                                   NULL};
const tc__opreg tc__reg_squeeze = {TC_OP_SQUEEZE, NULL, NULL, squeeze_prepare, copy_invoke,
                                   NULL};
const tc__opreg tc__reg_expand_dims = {TC_OP_EXPAND_DIMS, NULL, NULL, expand_dims_prepare,
                                       copy_invoke, NULL};
