/* strided_slice.c: STRIDED_SLICE and SLICE. Prepare turns the slice spec (begin / end /
 * strides tensors known at prepare, plus the five masks and `offset`) into one (start, step,
 * count) triple per input dim and the output shape, following TFLite: negative indices count
 * from the end, begin/end are clamped to [0, n] for positive strides and [-1, n - 1] for
 * negative ones, masks replace begin/end by the extremes, shrink_axis keeps one element and
 * drops the dim, new_axis inserts a dim of 1 and the ellipsis stands for every dim the spec
 * does not mention. The kernel (kernels/ref/slice.c) only walks positions. */
#include "kernels/ref/slice.h"
#include "lite/ops/shape_common.h"

typedef struct slice_state {
  tc_slice_params p;
  size_t elem_size;
} slice_state;

static tc_status slice_invoke(tc__ctx *c, tc__node *n) {
  slice_state *st = n->state;
  tc_x_strided_slice__ref(tc__in(c, n, 0)->data, tc__out(c, n, 0)->data, st->elem_size, &st->p);
  return TC_OK;
}

static tc_status common_io(tc__ctx *c, tc__node *n, int n_in, slice_state **st) {
  tc_status s = tc__expect_io(c, n, n_in, n_in, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  size_t es = 0;
  if ((s = tc__shp_elem_size(c, n, in, "input", &es))) return s;
  if ((s = tc__shp_same_dtype(c, n, in, out))) return s;
  *st = tc__persist_alloc(c, sizeof **st);
  if (!*st) return tc__fail(c, n, TC_ERR_NOMEM, "out of persistent memory");
  (*st)->elem_size = es;
  (*st)->p.n_dims = in->n_dims;
  memcpy((*st)->p.in_dims, in->dims, sizeof in->dims);
  return TC_OK;
}

/* ---- STRIDED_SLICE -------------------------------------------------------------------------- */

#define MAX_SPEC 32 /* masks are 32-bit, so a spec never has more entries */

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* First index along an axis of extent `size` (TFLite StartForAxis semantics). */
static int64_t axis_start(int64_t begin, int64_t stride, int masked, int64_t size) {
  if (begin < 0) begin += size;
  begin = stride > 0 ? clamp64(begin, 0, size) : clamp64(begin, -1, size - 1);
  if (masked) begin = stride > 0 ? 0 : size - 1;
  return begin;
}

/* One past the last index (exclusive stop) along the axis; `start` is the resolved start. */
static int64_t axis_stop(int64_t end, int64_t stride, int masked, int offset, int64_t start,
                         int64_t size) {
  if (offset) end += start;
  if (end < 0) end += size;
  if (stride > 0) return masked ? size : clamp64(end, 0, size);
  return masked ? -1 : clamp64(end, -1, size - 1);
}

static tc_status strided_slice_prepare(tc__ctx *c, tc__node *n) {
  slice_state *st = NULL;
  tc_status s = common_io(c, n, 4, &st);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  tc__tensor *tb = tc__in(c, n, 1), *te = tc__in(c, n, 2), *ts = tc__in(c, n, 3);
  if ((s = tc__shp_const_int(c, n, tb, "begin (input 1)", 1))) return s;
  if ((s = tc__shp_const_int(c, n, te, "end (input 2)", 1))) return s;
  if ((s = tc__shp_const_int(c, n, ts, "strides (input 3)", 1))) return s;
  int n_spec = tb->n_dims == 1 ? tb->dims[0] : -1;
  if (n_spec < 0 || te->n_dims != 1 || ts->n_dims != 1 || te->dims[0] != n_spec ||
      ts->dims[0] != n_spec)
    return tc__fail(c, n, TC_ERR_MODEL, "begin, end and strides must be vectors of one length");
  if (n_spec > MAX_SPEC)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "slice spec has %d entries, at most %d", n_spec,
                    MAX_SPEC);
  const tc__fb *fb = tc__ctx_fb(c);
  const tc__fbt *o = &n->m->options;
  uint32_t m_begin = (uint32_t)tc__fb_i32(fb, o, 0, 0), m_end = (uint32_t)tc__fb_i32(fb, o, 1, 0);
  uint32_t m_ell = (uint32_t)tc__fb_i32(fb, o, 2, 0), m_new = (uint32_t)tc__fb_i32(fb, o, 3, 0);
  uint32_t m_shrink = (uint32_t)tc__fb_i32(fb, o, 4, 0);
  int offset = tc__fb_u8(fb, o, 5, 0) != 0;
  int rank = in->n_dims;

  /* Step 1: classify the spec entries. An ellipsis bit wins over a new_axis bit. */
  int ellipsis = -1, n_regular = 0;
  for (int j = 0; j < n_spec; j++) {
    if (m_ell >> j & 1) {
      if (ellipsis >= 0)
        return tc__fail(c, n, TC_ERR_MODEL, "more than one ellipsis in the slice spec");
      ellipsis = j;
    } else if (!(m_new >> j & 1)) {
      n_regular++;
    }
  }
  if (n_regular > rank)
    return tc__fail(c, n, TC_ERR_MODEL, "slice spec indexes %d dims but the input has rank %d",
                    n_regular, rank);

  /* Step 2: walk the spec, mapping every entry to input dims (the ellipsis, or the implicit
   * tail when there is none, covers the dims the spec leaves out) and building the output. */
  int32_t out_dims[TC_MAX_DIMS];
  int out_rank = 0, d = 0; /* d: next input dim */
  int n_full = rank - n_regular;
  for (int j = 0; j <= n_spec; j++) {
    int is_full_run = (j == ellipsis) || (j == n_spec && ellipsis < 0);
    if (j == n_spec && !is_full_run) break;
    if (is_full_run) { /* whole extents of n_full dims */
      for (int k = 0; k < n_full; k++, d++) {
        st->p.begin[d] = 0;
        st->p.stride[d] = 1;
        st->p.count[d] = in->dims[d];
        if (out_rank >= TC_MAX_DIMS) goto too_many;
        out_dims[out_rank++] = in->dims[d];
      }
      continue;
    }
    if (m_new >> j & 1) { /* a new dim of extent 1; reads nothing */
      if (out_rank >= TC_MAX_DIMS) goto too_many;
      out_dims[out_rank++] = 1;
      continue;
    }
    int64_t size = in->dims[d];
    int64_t stride = tc__shp_ld(ts, (size_t)j);
    if (stride == 0) return tc__fail(c, n, TC_ERR_MODEL, "strides[%d] is 0", j);
    if (stride > INT32_MAX || stride < -(int64_t)INT32_MAX)
      return tc__fail(c, n, TC_ERR_MODEL, "strides[%d] is out of range", j);
    int64_t start = axis_start(tc__shp_ld(tb, (size_t)j), stride, m_begin >> j & 1, size);
    int64_t count;
    if (m_shrink >> j & 1) {
      /* Take element `start` only; the dim disappears from the output. */
      int64_t b = tc__shp_ld(tb, (size_t)j);
      int64_t idx = (m_begin >> j & 1) ? start : (b < 0 ? b + size : b);
      if (idx < 0 || idx >= size)
        return tc__fail(c, n, TC_ERR_MODEL, "shrink index %lld is out of range for dim %d of "
                        "extent %lld", (long long)b, d, (long long)size);
      start = idx;
      count = 1;
    } else {
      int64_t stop = axis_stop(tc__shp_ld(te, (size_t)j), stride, m_end >> j & 1, offset, start,
                               size);
      int64_t span = stop - start; /* ceil(span / stride), both signs */
      count = stride > 0 ? (span + stride - 1) / stride : (-span + (-stride) - 1) / (-stride);
      if (count < 0) count = 0;
      if (out_rank >= TC_MAX_DIMS) goto too_many;
      out_dims[out_rank++] = (int32_t)count;
    }
    st->p.begin[d] = count > 0 ? (int32_t)start : 0;
    st->p.stride[d] = (int32_t)stride;
    st->p.count[d] = (int32_t)count;
    d++;
  }
  n->state = st;
  return tc__set_shape(c, n, out, out_rank, out_dims);
too_many:
  return tc__fail(c, n, TC_ERR_UNSUPPORTED, "output would have more than %d dims", TC_MAX_DIMS);
}

/* ---- SLICE ------------------------------------------------------------------------------------
 * begin[i] in [0, n], size[i] >= 0 with begin + size <= n, or size -1 for "to the end". */
static tc_status slice_prepare(tc__ctx *c, tc__node *n) {
  slice_state *st = NULL;
  tc_status s = common_io(c, n, 3, &st);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *out = tc__out(c, n, 0);
  tc__tensor *tb = tc__in(c, n, 1), *tsz = tc__in(c, n, 2);
  if ((s = tc__shp_const_int(c, n, tb, "begin (input 1)", 1))) return s;
  if ((s = tc__shp_const_int(c, n, tsz, "size (input 2)", 1))) return s;
  int rank = in->n_dims;
  if (tb->n_dims != 1 || tb->dims[0] != rank || tsz->n_dims != 1 || tsz->dims[0] != rank)
    return tc__fail(c, n, TC_ERR_MODEL, "begin and size must be vectors of %d values (the rank)",
                    rank);
  int32_t dims[TC_MAX_DIMS];
  for (int d = 0; d < rank; d++) {
    int64_t b = tc__shp_ld(tb, (size_t)d), sz = tc__shp_ld(tsz, (size_t)d);
    if (b < 0 || b > in->dims[d])
      return tc__fail(c, n, TC_ERR_MODEL, "begin[%d] = %lld is out of range [0, %d]", d,
                      (long long)b, (int)in->dims[d]);
    if (sz == -1) sz = in->dims[d] - b;
    if (sz < 0 || b + sz > in->dims[d])
      return tc__fail(c, n, TC_ERR_MODEL, "size[%d] = %lld does not fit dim %d of extent %d", d,
                      (long long)sz, d, (int)in->dims[d]);
    st->p.begin[d] = (int32_t)b;
    st->p.stride[d] = 1;
    st->p.count[d] = (int32_t)sz;
    dims[d] = (int32_t)sz;
  }
  n->state = st;
  return tc__set_shape(c, n, out, rank, dims);
}

const tc__opreg tc__reg_strided_slice = {TC_OP_STRIDED_SLICE, NULL, NULL, strided_slice_prepare,
                                         slice_invoke, NULL};
const tc__opreg tc__reg_slice = {TC_OP_SLICE, NULL, NULL, slice_prepare, slice_invoke, NULL};
