/* concat_split.c: CONCATENATION, SPLIT and SPLIT_V. All operands are viewed as
 * [outer, axis extent * inner]; the byte-moving kernels are in kernels/ref/shape_ops.c and
 * work for every fixed-size dtype. Float concatenation applies its fused activation; uint8
 * operands with a different quantization than the output are requantized as TFLite does. */
#include <math.h>

#include "kernels/ref/activations.h"
#include "kernels/ref/shape_ops.h"
#include "lite/ops/shape_common.h"

/* The most operands handled (inputs of CONCATENATION, outputs of SPLIT). */
#define MAX_PARTS 1024

typedef struct split_state {
  size_t outer;
  int n_parts;
  size_t chunk[]; /* bytes per outer step, one per operand */
} split_state;

static split_state *state_new(tc__ctx *c, int n_parts) {
  split_state *st = tc__persist_alloc(c, sizeof *st + sizeof(size_t) * (size_t)n_parts);
  if (st) st->n_parts = n_parts;
  return st;
}

/* Normalises an axis in [-rank, rank) to [0, rank). */
static tc_status norm_axis(tc__ctx *c, const tc__node *n, int64_t axis, int rank, int *out) {
  if (axis < -(int64_t)rank || axis >= rank)
    return tc__fail(c, n, TC_ERR_MODEL, "axis %lld is out of range for rank %d",
                    (long long)axis, rank);
  *out = (int)(axis < 0 ? axis + rank : axis);
  return TC_OK;
}

static size_t prod(const int32_t *dims, int from, int to) {
  size_t p = 1;
  for (int i = from; i < to; i++) p *= (size_t)dims[i];
  return p;
}

/* ---- CONCATENATION -------------------------------------------------------------------------- */

typedef struct concat_state {
  float act_lo, act_hi;
  int clamp;      /* float output with a fused activation */
  int requant;    /* some uint8 input needs requantization */
  split_state *parts;
} concat_state;

static tc_status concat_prepare(tc__ctx *c, tc__node *n) {
  tc__tensor *in0 = NULL, *out = NULL;
  size_t es = 0;
  tc_status s = tc__shp_join_io(c, n, MAX_PARTS, &in0, &out, &es);
  if (s) return s;
  const tc__fb *fb = tc__ctx_fb(c);
  int axis = 0, rank = in0->n_dims;
  if (rank == 0) return tc__fail(c, n, TC_ERR_MODEL, "cannot concatenate scalars");
  if ((s = norm_axis(c, n, tc__fb_i32(fb, &n->m->options, 0, 0), rank, &axis))) return s;
  int act = tc__fb_i8(fb, &n->m->options, 1, TC_ACT_NONE);

  concat_state *st = tc__persist_alloc(c, sizeof *st);
  if (!st || !(st->parts = state_new(c, (int)n->n_inputs)))
    return tc__fail(c, n, TC_ERR_NOMEM, "out of persistent memory");
  if (act != TC_ACT_NONE) {
    if (in0->dtype != TC_DTYPE_F32)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d on %s is not supported",
                      act, tc_dtype_name(in0->dtype));
    if (tc__act_range_f32(act, &st->act_lo, &st->act_hi))
      return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d is not supported", act);
    st->clamp = 1;
  }

  int32_t dims[TC_MAX_DIMS];
  memcpy(dims, in0->dims, sizeof dims);
  int64_t total = 0;
  size_t inner = prod(in0->dims, axis + 1, rank);
  for (int i = 0; i < n->n_inputs; i++) {
    tc__tensor *t = tc__in(c, n, i);
    char a[96], b[96];
    if (t->dtype != in0->dtype)
      return tc__fail(c, n, TC_ERR_MODEL, "input %d has dtype %s, input 0 has %s", i,
                      tc_dtype_name(t->dtype), tc_dtype_name(in0->dtype));
    if (t->n_dims != rank)
      return tc__fail(c, n, TC_ERR_MODEL, "input %d has rank %d, input 0 has rank %d", i,
                      (int)t->n_dims, rank);
    for (int d = 0; d < rank; d++)
      if (d != axis && t->dims[d] != in0->dims[d])
        return tc__fail(c, n, TC_ERR_MODEL, "input %d %s does not match input 0 %s outside "
                        "axis %d", i, tc__dims_str(t, a, sizeof a),
                        tc__dims_str(in0, b, sizeof b), axis);
    total += t->dims[axis];
    st->parts->chunk[i] = (size_t)t->dims[axis] * inner * es;
    if (!tc__shp_same_quant(t, out)) {
      if (t->dtype == TC_DTYPE_U8 && t->m && t->m->q.n_scales > 0 && out->m &&
          out->m->q.n_scales > 0) {
        st->requant = 1;
      } else if (t->dtype == TC_DTYPE_I8 || t->dtype == TC_DTYPE_I16 ||
                 t->dtype == TC_DTYPE_U8) {
        return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                        "input %d and the output have different quantization", i);
      }
    }
  }
  if (total > INT32_MAX) return tc__fail(c, n, TC_ERR_MODEL, "output is too large");
  dims[axis] = (int32_t)total;
  st->parts->outer = prod(in0->dims, 0, axis);
  n->state = st;
  return tc__set_shape(c, n, out, rank, dims);
}

/* Requantizes one uint8 chunk: q_out = round((q_in - zp_in) * s_in / s_out) + zp_out. */
static void requant_u8(const uint8_t *src, uint8_t *dst, size_t count, const tc__tensor *in,
                       const tc__tensor *out) {
  float scale = in->m->q.scale[0] / out->m->q.scale[0];
  float bias = -(float)tc__shp_zero_point(in) * scale;
  int32_t zp = (int32_t)tc__shp_zero_point(out);
  for (size_t i = 0; i < count; i++) {
    float v = roundf((float)src[i] * scale + bias) + (float)zp; /* clamp before converting */
    dst[i] = (uint8_t)(v >= 0.0f ? (v <= 255.0f ? (int32_t)v : 255) : 0);
  }
}

static tc_status concat_invoke(tc__ctx *c, tc__node *n) {
  concat_state *st = n->state;
  tc__tensor *out = tc__out(c, n, 0);
  const void *srcs[MAX_PARTS];
  for (int i = 0; i < n->n_inputs; i++) srcs[i] = tc__in(c, n, i)->data;
  tc_x_concat__ref(st->parts->outer, (int)n->n_inputs, srcs, st->parts->chunk, out->data);
  if (st->requant) { /* fix up the chunks of inputs whose quantization differs */
    size_t row = 0;
    for (int i = 0; i < n->n_inputs; i++) row += st->parts->chunk[i];
    size_t at = 0;
    for (int i = 0; i < n->n_inputs; i++) {
      tc__tensor *t = tc__in(c, n, i);
      size_t ck = st->parts->chunk[i];
      if (!tc__shp_same_quant(t, out))
        for (size_t o = 0; o < st->parts->outer; o++)
          requant_u8((const uint8_t *)t->data + o * ck, (uint8_t *)out->data + o * row + at, ck,
                     t, out);
      at += ck;
    }
  }
  if (st->clamp) tc_f32_clamp__ref(out->data, out->data, tc__numel(out), st->act_lo, st->act_hi);
  return TC_OK;
}

/* ---- SPLIT / SPLIT_V ------------------------------------------------------------------------ */

/* Shared tail: sets every output's shape from `sizes` along `axis` and records the chunks. */
static tc_status split_finish(tc__ctx *c, tc__node *n, const tc__tensor *in, int axis,
                              const int64_t *sizes) {
  size_t es = 0;
  tc_status s = tc__shp_elem_size(c, n, in, "input", &es);
  if (s) return s;
  split_state *st = state_new(c, (int)n->n_outputs);
  if (!st) return tc__fail(c, n, TC_ERR_NOMEM, "out of persistent memory");
  st->outer = prod(in->dims, 0, axis);
  size_t inner = prod(in->dims, axis + 1, in->n_dims);
  for (int i = 0; i < n->n_outputs; i++) {
    tc__tensor *o = tc__out(c, n, i);
    if (!o) return tc__fail(c, n, TC_ERR_MODEL, "output %d is missing", i);
    if ((s = tc__shp_same_dtype(c, n, in, o))) return s;
    int32_t dims[TC_MAX_DIMS];
    memcpy(dims, in->dims, sizeof dims);
    dims[axis] = (int32_t)sizes[i];
    st->chunk[i] = (size_t)sizes[i] * inner * es;
    if ((s = tc__set_shape(c, n, o, in->n_dims, dims))) return s;
  }
  n->state = st;
  return TC_OK;
}

static tc_status read_axis(tc__ctx *c, const tc__node *n, const tc__tensor *t, int rank,
                           int *axis) {
  tc_status s = tc__shp_const_int(c, n, t, "axis", 1);
  if (s) return s;
  if (tc__numel(t) != 1)
    return tc__fail(c, n, TC_ERR_MODEL, "axis must hold one value, it holds %zu",
                    tc__numel(t));
  return norm_axis(c, n, tc__shp_ld(t, 0), rank, axis);
}

/* SPLIT: inputs (axis, value); SplitOptions.num_splits equal parts. */
static tc_status split_prepare(tc__ctx *c, tc__node *n) {
  if (n->n_outputs < 1 || n->n_outputs > MAX_PARTS)
    return tc__fail(c, n, TC_ERR_MODEL, "expected 1..%d outputs, got %d", MAX_PARTS,
                    (int)n->n_outputs);
  tc_status s = tc__expect_io(c, n, 2, 2, n->n_outputs);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 1);
  int axis = 0;
  if ((s = read_axis(c, n, tc__in(c, n, 0), in->n_dims, &axis))) return s;
  int32_t num = tc__fb_i32(tc__ctx_fb(c), &n->m->options, 0, (int32_t)n->n_outputs);
  if (num <= 0 || num != n->n_outputs)
    return tc__fail(c, n, TC_ERR_MODEL, "num_splits is %d but the op has %d outputs",
                    (int)num, (int)n->n_outputs);
  if (in->dims[axis] % num != 0)
    return tc__fail(c, n, TC_ERR_MODEL, "dim %d of extent %d does not split into %d equal parts",
                    axis, (int)in->dims[axis], (int)num);
  int64_t sizes[MAX_PARTS];
  for (int i = 0; i < num; i++) sizes[i] = in->dims[axis] / num;
  return split_finish(c, n, in, axis, sizes);
}

/* SPLIT_V: inputs (value, size_splits, axis); one size may be -1 (the rest). */
static tc_status split_v_prepare(tc__ctx *c, tc__node *n) {
  if (n->n_outputs < 1 || n->n_outputs > MAX_PARTS)
    return tc__fail(c, n, TC_ERR_MODEL, "expected 1..%d outputs, got %d", MAX_PARTS,
                    (int)n->n_outputs);
  tc_status s = tc__expect_io(c, n, 3, 3, n->n_outputs);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *sz = tc__in(c, n, 1);
  int axis = 0;
  if ((s = read_axis(c, n, tc__in(c, n, 2), in->n_dims, &axis))) return s;
  if ((s = tc__shp_const_int(c, n, sz, "size_splits (input 1)", 1))) return s;
  if (sz->n_dims != 1 || sz->dims[0] != n->n_outputs)
    return tc__fail(c, n, TC_ERR_MODEL, "size_splits must be a vector of %d values",
                    (int)n->n_outputs);
  int64_t sizes[MAX_PARTS], sum = 0;
  int minus = -1;
  for (int i = 0; i < n->n_outputs; i++) {
    sizes[i] = tc__shp_ld(sz, (size_t)i);
    if (sizes[i] == -1 && minus < 0) {
      minus = i;
    } else if (sizes[i] < 0) {
      return tc__fail(c, n, TC_ERR_MODEL, "size_splits[%d] is %lld", i, (long long)sizes[i]);
    } else {
      sum += sizes[i];
    }
  }
  if (minus >= 0) {
    if (sum > in->dims[axis])
      return tc__fail(c, n, TC_ERR_MODEL, "size_splits add up to %lld, more than %d",
                      (long long)sum, (int)in->dims[axis]);
    sizes[minus] = in->dims[axis] - sum;
  } else if (sum != in->dims[axis]) {
    return tc__fail(c, n, TC_ERR_MODEL, "size_splits add up to %lld, dim %d has extent %d",
                    (long long)sum, axis, (int)in->dims[axis]);
  }
  return split_finish(c, n, in, axis, sizes);
}

static tc_status split_run(tc__ctx *c, tc__node *n, const tc__tensor *in) {
  split_state *st = n->state;
  void *dsts[MAX_PARTS];
  for (int i = 0; i < n->n_outputs; i++) dsts[i] = tc__out(c, n, i)->data;
  tc_x_split__ref(st->outer, in->data, (int)n->n_outputs, dsts, st->chunk);
  return TC_OK;
}

static tc_status split_invoke(tc__ctx *c, tc__node *n) { return split_run(c, n, tc__in(c, n, 1)); }
static tc_status split_v_invoke(tc__ctx *c, tc__node *n) {
  return split_run(c, n, tc__in(c, n, 0));
}

const tc__opreg tc__reg_concatenation = {TC_OP_CONCATENATION, NULL, NULL, concat_prepare,
                                         concat_invoke, NULL};
const tc__opreg tc__reg_split = {TC_OP_SPLIT, NULL, NULL, split_prepare, split_invoke, NULL};
const tc__opreg tc__reg_split_v = {TC_OP_SPLIT_V, NULL, NULL, split_v_prepare, split_v_invoke,
                                   NULL};
