/* test_shape.c: the data-movement operators (RESHAPE, SQUEEZE, EXPAND_DIMS, CONCATENATION,
 * SPLIT, SPLIT_V, PAD, PADV2, STRIDED_SLICE, SLICE, TRANSPOSE, GATHER, SHAPE, PACK, UNPACK,
 * SPACE_TO_BATCH_ND, BATCH_TO_SPACE_ND). The ref kernels are checked on hand-computed values,
 * and each op's prepare + invoke is driven through a minimal interpreter stand-in (one node,
 * tensors set up by hand, options as a hand-built flatbuffer table) so shape inference, option
 * parsing and the error paths are tested too. */
#include <stdlib.h>

#include "kernels/ref/gather.h"
#include "kernels/ref/pad.h"
#include "kernels/ref/slice.h"
#include "kernels/ref/space_batch.h"
#include "kernels/ref/transpose.h"
#include "lite/interp.h"
#include "lite/ops.h"
#include "tc_test.h"

extern const tc__opreg tc__reg_reshape, tc__reg_squeeze, tc__reg_expand_dims,
    tc__reg_concatenation, tc__reg_split, tc__reg_split_v, tc__reg_pad, tc__reg_padv2,
    tc__reg_strided_slice, tc__reg_slice, tc__reg_transpose, tc__reg_gather, tc__reg_shape,
    tc__reg_pack, tc__reg_unpack, tc__reg_space_to_batch_nd, tc__reg_batch_to_space_nd;

/* ---- a one-node interpreter stand-in -------------------------------------------------------- */

#define H_MAX_T 16
#define ABSENT INT32_MIN

typedef struct harness {
  uint8_t fbuf[1024];
  tc_model model;
  tc__mopcode opcode;
  tc_interp it;
  tc__tensor t[H_MAX_T];
  tc__mtensor mt[H_MAX_T];
  float scale[H_MAX_T];
  int64_t zp[H_MAX_T];
  int n_t;
  int32_t ins[H_MAX_T], outs[H_MAX_T];
  tc__mop mop;
  tc__node node;
  void *owned[H_MAX_T];
} harness;

static harness *h_new(int32_t builtin) {
  harness *h = calloc(1, sizeof *h);
  h->opcode.builtin = builtin;
  h->model.opcodes = &h->opcode;
  h->model.fb.buf = h->fbuf;
  h->model.fb.size = sizeof h->fbuf;
  h->it.model = &h->model;
  h->it.ctx.it = &h->it;
  tc__arena_init_heap(&h->it.arena);
  h->it.tensors = h->t;
  h->node.m = &h->mop;
  return h;
}

static void h_free(harness *h) {
  for (int i = 0; i < H_MAX_T; i++) free(h->owned[i]);
  tc__arena_release(&h->it.arena);
  free(h);
}

/* Builds an options table: int32 fields 0..n_fields-1 (ABSENT leaves one out) and, if vec_id
 * >= 0, field vec_id as a vector of vec_n int32 values. */
static void h_opts(harness *h, int n_fields, const int32_t *vals, int vec_id, const int32_t *vec,
                   int vec_n) {
  uint8_t *b = h->fbuf;
  memset(b, 0, sizeof h->fbuf);
  uint32_t vt = 4, nf = (uint32_t)n_fields;
  uint32_t tpos = (vt + 4 + 2 * nf + 3) & ~3u, vpos = tpos + 4 + 4 * nf;
  uint16_t vts = (uint16_t)(4 + 2 * nf), ts = (uint16_t)(4 + 4 * nf);
  memcpy(b + vt, &vts, 2);
  memcpy(b + vt + 2, &ts, 2);
  int32_t soff = (int32_t)(tpos - vt);
  memcpy(b + tpos, &soff, 4);
  for (uint32_t i = 0; i < nf; i++) {
    uint16_t off = 0;
    uint32_t fpos = tpos + 4 + 4 * i;
    if ((int)i == vec_id) {
      off = (uint16_t)(4 + 4 * i);
      uint32_t rel = vpos - fpos, n = (uint32_t)vec_n;
      memcpy(b + fpos, &rel, 4);
      memcpy(b + vpos, &n, 4);
      memcpy(b + vpos + 4, vec, 4 * (size_t)vec_n);
    } else if (vals && vals[i] != ABSENT) {
      off = (uint16_t)(4 + 4 * i);
      memcpy(b + fpos, &vals[i], 4);
    }
    memcpy(b + vt + 4 + 2 * i, &off, 2);
  }
  CHECK(tc__fb_open(&h->model.fb, tpos, &h->mop.options) == TC_FB_OK);
}

/* Adds a tensor; data != NULL makes it a known constant (borrowed), NULL an activation. */
static int h_tensor(harness *h, tc_dtype dt, int n_dims, const int32_t *dims, const void *data) {
  int i = h->n_t++;
  tc__tensor *t = &h->t[i];
  tc__mtensor *m = &h->mt[i];
  m->dtype = dt;
  m->name = "";
  m->n_dims = n_dims;
  t->m = m;
  t->dtype = dt;
  t->n_dims = n_dims;
  size_t bytes = tc_dtype_size(dt);
  for (int d = 0; d < n_dims; d++) {
    t->dims[d] = dims[d];
    m->dims[d] = dims[d];
    bytes *= (size_t)dims[d];
  }
  t->bytes = bytes;
  t->data = (void *)data;
  t->known = data != NULL;
  t->kind = data ? TC__T_CONST : TC__T_NONE;
  return i;
}

static void h_quant(harness *h, int i, float scale, int64_t zp) {
  h->scale[i] = scale;
  h->zp[i] = zp;
  h->mt[i].q.n_scales = 1;
  h->mt[i].q.scale = &h->scale[i];
  h->mt[i].q.zero_point = &h->zp[i];
}

static void h_io(harness *h, int n_in, const int32_t *ins, int n_out, const int32_t *outs) {
  memcpy(h->ins, ins, sizeof(int32_t) * (size_t)n_in);
  memcpy(h->outs, outs, sizeof(int32_t) * (size_t)n_out);
  h->node.n_inputs = h->mop.n_inputs = n_in;
  h->node.n_outputs = h->mop.n_outputs = n_out;
  h->node.inputs = h->ins;
  h->node.outputs = h->outs;
}

static tc_status h_prepare(harness *h, const tc__opreg *reg) {
  h->node.reg = reg;
  h->it.errmsg[0] = '\0';
  return reg->prepare(&h->it.ctx, &h->node);
}

/* Gives every output without storage a zeroed buffer of its prepared size, then invokes. */
static tc_status h_invoke(harness *h) {
  for (int i = 0; i < h->node.n_outputs; i++) {
    tc__tensor *t = &h->t[h->outs[i]];
    if (!t->data) t->data = h->owned[i] = calloc(1, t->bytes ? t->bytes : 1);
  }
  return h->node.reg->invoke(&h->it.ctx, &h->node);
}

#define CHECK_DIMS(t, ...)                                                                     \
  do {                                                                                         \
    const int32_t want_[] = {__VA_ARGS__};                                                     \
    int nw_ = (int)(sizeof want_ / sizeof want_[0]);                                           \
    CHECK_EQ((t)->n_dims, nw_);                                                                \
    for (int k_ = 0; k_ < nw_ && k_ < (t)->n_dims; k_++) CHECK_EQ((t)->dims[k_], want_[k_]);   \
  } while (0)

static float *iota_f(int n, float base) {
  float *x = malloc(sizeof(float) * (size_t)n);
  for (int i = 0; i < n; i++) x[i] = base + (float)i;
  return x;
}

/* ---- RESHAPE / SQUEEZE / EXPAND_DIMS -------------------------------------------------------- */

TC_TEST(kernel_shape_reshape_minus1) {
  float *x = iota_f(24, 0.0f);
  {
    harness *h = h_new(TC_OP_RESHAPE);
    static const int32_t shp[3] = {4, -1, 2};
    int in = h_tensor(h, TC_DTYPE_F32, 3, (int32_t[]){2, 3, 4}, x);
    int sh = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){3}, shp);
    int out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
    h_io(h, 2, (int32_t[]){in, sh}, 1, (int32_t[]){out});
    CHECK_EQ(h_prepare(h, &tc__reg_reshape), TC_OK);
    CHECK_DIMS(&h->t[out], 4, 3, 2);
    CHECK_EQ(h_invoke(h), TC_OK);
    CHECK(memcmp(h->t[out].data, x, sizeof(float) * 24) == 0);
    h_free(h);
  }
  { /* two -1, a count mismatch, and a shape that is not known */
    static const int32_t two[2] = {-1, -1}, bad[2] = {5, -1}, big[2] = {5, 5};
    const int32_t *cases[3] = {two, bad, big};
    const char *msg[3] = {"more than one -1", "cannot infer", "elements"};
    for (int k = 0; k < 3; k++) {
      harness *h = h_new(TC_OP_RESHAPE);
      int in = h_tensor(h, TC_DTYPE_F32, 3, (int32_t[]){2, 3, 4}, x);
      int sh = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){2}, cases[k]);
      int out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
      h_io(h, 2, (int32_t[]){in, sh}, 1, (int32_t[]){out});
      CHECK(h_prepare(h, &tc__reg_reshape) != TC_OK);
      CHECK_STR_CONTAINS(h->it.errmsg, msg[k]);
      h_free(h);
    }
    harness *h = h_new(TC_OP_RESHAPE);
    int in = h_tensor(h, TC_DTYPE_F32, 3, (int32_t[]){2, 3, 4}, x);
    int sh = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){2}, NULL);
    int out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
    h_io(h, 2, (int32_t[]){in, sh}, 1, (int32_t[]){out});
    CHECK_EQ(h_prepare(h, &tc__reg_reshape), TC_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(h->it.errmsg, "must be constant (dynamic shapes are not supported)");
    h_free(h);
  }
  { /* no shape tensor: ReshapeOptions.new_shape, on int8 */
    harness *h = h_new(TC_OP_RESHAPE);
    static const int8_t q[6] = {1, -2, 3, -4, 5, -6};
    h_opts(h, 1, NULL, 0, (int32_t[]){-1, 2}, 2);
    int in = h_tensor(h, TC_DTYPE_I8, 2, (int32_t[]){1, 6}, q);
    int out = h_tensor(h, TC_DTYPE_I8, 0, NULL, NULL);
    h_io(h, 1, (int32_t[]){in}, 1, (int32_t[]){out});
    CHECK_EQ(h_prepare(h, &tc__reg_reshape), TC_OK);
    CHECK_DIMS(&h->t[out], 3, 2);
    CHECK_EQ(h_invoke(h), TC_OK);
    CHECK(memcmp(h->t[out].data, q, 6) == 0);
    h_free(h);
  }
  free(x);
}

TC_TEST(kernel_shape_squeeze_expand) {
  float *x = iota_f(6, 1.0f);
  { /* all size-1 dims */
    harness *h = h_new(TC_OP_SQUEEZE);
    int in = h_tensor(h, TC_DTYPE_F32, 4, (int32_t[]){1, 3, 1, 2}, x);
    int out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
    h_io(h, 1, (int32_t[]){in}, 1, (int32_t[]){out});
    CHECK_EQ(h_prepare(h, &tc__reg_squeeze), TC_OK);
    CHECK_DIMS(&h->t[out], 3, 2);
    CHECK_EQ(h_invoke(h), TC_OK);
    CHECK_NEAR(((float *)h->t[out].data)[5], 6.0f, 0);
    h_free(h);
  }
  { /* a specific negative dim */
    harness *h = h_new(TC_OP_SQUEEZE);
    h_opts(h, 1, NULL, 0, (int32_t[]){-2}, 1);
    int in = h_tensor(h, TC_DTYPE_F32, 4, (int32_t[]){1, 3, 1, 2}, x);
    int out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
    h_io(h, 1, (int32_t[]){in}, 1, (int32_t[]){out});
    CHECK_EQ(h_prepare(h, &tc__reg_squeeze), TC_OK);
    CHECK_DIMS(&h->t[out], 1, 3, 2);
    h_free(h);
  }
  { /* squeezing a dim of extent 3 fails; so does an out-of-range dim */
    for (int k = 0; k < 2; k++) {
      harness *h = h_new(TC_OP_SQUEEZE);
      h_opts(h, 1, NULL, 0, (int32_t[]){k ? 4 : 1}, 1);
      int in = h_tensor(h, TC_DTYPE_F32, 4, (int32_t[]){1, 3, 1, 2}, x);
      int out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
      h_io(h, 1, (int32_t[]){in}, 1, (int32_t[]){out});
      CHECK_EQ(h_prepare(h, &tc__reg_squeeze), TC_ERR_MODEL);
      CHECK_STR_CONTAINS(h->it.errmsg, k ? "out of range" : "extent 3");
      h_free(h);
    }
  }
  { /* EXPAND_DIMS at -1 and at 0 */
    static const int32_t ax_neg = -1;
    static const int64_t ax0 = 0;
    for (int k = 0; k < 2; k++) {
      harness *h = h_new(TC_OP_EXPAND_DIMS);
      int in = h_tensor(h, TC_DTYPE_F32, 2, (int32_t[]){2, 3}, x);
      int ax = k ? h_tensor(h, TC_DTYPE_I64, 0, NULL, &ax0) : h_tensor(h, TC_DTYPE_I32, 0, NULL, &ax_neg);
      int out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
      h_io(h, 2, (int32_t[]){in, ax}, 1, (int32_t[]){out});
      CHECK_EQ(h_prepare(h, &tc__reg_expand_dims), TC_OK);
      if (k) CHECK_DIMS(&h->t[out], 1, 2, 3);
      else CHECK_DIMS(&h->t[out], 2, 3, 1);
      h_free(h);
    }
  }
  free(x);
}

/* ---- CONCATENATION / SPLIT / SPLIT_V -------------------------------------------------------- */

/* Concatenates a [2, 1+? , 2]-style triple along `axis` and checks against a naive formula. */
TC_TEST(kernel_shape_concat_axes) {
  /* Three inputs of shapes that differ only along the concatenation axis. */
  for (int mode = 0; mode < 4; mode++) {
    int axis = mode == 0 ? 0 : mode == 1 ? 2 : 1; /* 0, last, middle (given as -2 below) */
    int32_t opt_axis = mode == 3 ? -2 : mode == 2 ? 1 : axis;
    if (mode == 3) axis = 1;
    int32_t base[3] = {2, 3, 2};
    int32_t dims[3][3];
    float *data[3];
    int ext[3] = {1, 2, 3};
    harness *h = h_new(TC_OP_CONCATENATION);
    h_opts(h, 2, (int32_t[]){opt_axis, 0}, -1, NULL, 0);
    int ids[3];
    for (int i = 0; i < 3; i++) {
      memcpy(dims[i], base, sizeof base);
      dims[i][axis] = ext[i];
      data[i] = iota_f(dims[i][0] * dims[i][1] * dims[i][2], 100.0f * (float)(i + 1));
      ids[i] = h_tensor(h, TC_DTYPE_F32, 3, dims[i], data[i]);
    }
    int out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
    h_io(h, 3, ids, 1, (int32_t[]){out});
    CHECK_EQ(h_prepare(h, &tc__reg_concatenation), TC_OK);
    int32_t od[3] = {base[0], base[1], base[2]};
    od[axis] = 6;
    CHECK_DIMS(&h->t[out], od[0], od[1], od[2]);
    CHECK_EQ(h_invoke(h), TC_OK);
    const float *o = h->t[out].data;
    for (int a = 0; a < od[0]; a++)
      for (int b = 0; b < od[1]; b++)
        for (int c = 0; c < od[2]; c++) {
          int idx[3] = {a, b, c}, src = 0;
          while (idx[axis] >= ext[src]) idx[axis] -= ext[src++];
          float want = data[src][(idx[0] * dims[src][1] + idx[1]) * dims[src][2] + idx[2]];
          CHECK_NEAR(o[(a * od[1] + b) * od[2] + c], want, 0);
        }
    for (int i = 0; i < 3; i++) free(data[i]);
    h_free(h);
  }
  { /* mismatching dims outside the axis are rejected; float RELU is applied */
    static const float a[2] = {-1, 2}, b[3] = {3, -4, 5};
    harness *h = h_new(TC_OP_CONCATENATION);
    h_opts(h, 2, (int32_t[]){0, TC_ACT_RELU}, -1, NULL, 0);
    int ia = h_tensor(h, TC_DTYPE_F32, 1, (int32_t[]){2}, a);
    int ib = h_tensor(h, TC_DTYPE_F32, 1, (int32_t[]){3}, b);
    int out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
    h_io(h, 2, (int32_t[]){ia, ib}, 1, (int32_t[]){out});
    CHECK_EQ(h_prepare(h, &tc__reg_concatenation), TC_OK);
    CHECK_EQ(h_invoke(h), TC_OK);
    const float want[5] = {0, 2, 3, 0, 5};
    for (int i = 0; i < 5; i++) CHECK_NEAR(((float *)h->t[out].data)[i], want[i], 0);
    h_free(h);
    h = h_new(TC_OP_CONCATENATION);
    h_opts(h, 2, (int32_t[]){1, 0}, -1, NULL, 0);
    ia = h_tensor(h, TC_DTYPE_F32, 2, (int32_t[]){1, 2}, a);
    ib = h_tensor(h, TC_DTYPE_F32, 2, (int32_t[]){3, 1}, b);
    out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
    h_io(h, 2, (int32_t[]){ia, ib}, 1, (int32_t[]){out});
    CHECK_EQ(h_prepare(h, &tc__reg_concatenation), TC_ERR_MODEL);
    CHECK_STR_CONTAINS(h->it.errmsg, "does not match");
    h_free(h);
  }
}

TC_TEST(kernel_shape_split) {
  int8_t x[12];
  for (int i = 0; i < 12; i++) x[i] = (int8_t)(i - 6);
  { /* SPLIT of [2, 6] int8 into 3 along axis 1 (axis given as -1) */
    static const int32_t axis = -1;
    harness *h = h_new(TC_OP_SPLIT);
    h_opts(h, 1, (int32_t[]){3}, -1, NULL, 0);
    int ax = h_tensor(h, TC_DTYPE_I32, 0, NULL, &axis);
    int in = h_tensor(h, TC_DTYPE_I8, 2, (int32_t[]){2, 6}, x);
    int o[3];
    for (int i = 0; i < 3; i++) o[i] = h_tensor(h, TC_DTYPE_I8, 0, NULL, NULL);
    h_io(h, 2, (int32_t[]){ax, in}, 3, o);
    CHECK_EQ(h_prepare(h, &tc__reg_split), TC_OK);
    CHECK_EQ(h_invoke(h), TC_OK);
    for (int i = 0; i < 3; i++) {
      CHECK_DIMS(&h->t[o[i]], 2, 2);
      const int8_t *d = h->t[o[i]].data;
      for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++) CHECK_EQ(d[r * 2 + c], x[r * 6 + i * 2 + c]);
    }
    h_free(h);
  }
  { /* 6 does not split into 4 */
    static const int32_t axis = 1;
    harness *h = h_new(TC_OP_SPLIT);
    h_opts(h, 1, (int32_t[]){4}, -1, NULL, 0);
    int ax = h_tensor(h, TC_DTYPE_I32, 0, NULL, &axis);
    int in = h_tensor(h, TC_DTYPE_I8, 2, (int32_t[]){2, 6}, x);
    int o[4];
    for (int i = 0; i < 4; i++) o[i] = h_tensor(h, TC_DTYPE_I8, 0, NULL, NULL);
    h_io(h, 2, (int32_t[]){ax, in}, 4, o);
    CHECK_EQ(h_prepare(h, &tc__reg_split), TC_ERR_MODEL);
    h_free(h);
  }
  { /* SPLIT_V [1, -1, 2] along axis 1 of [2, 6] */
    static const int32_t axis = 1, sizes[3] = {1, -1, 2};
    harness *h = h_new(TC_OP_SPLIT_V);
    int in = h_tensor(h, TC_DTYPE_I8, 2, (int32_t[]){2, 6}, x);
    int sz = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){3}, sizes);
    int ax = h_tensor(h, TC_DTYPE_I32, 0, NULL, &axis);
    int o[3];
    for (int i = 0; i < 3; i++) o[i] = h_tensor(h, TC_DTYPE_I8, 0, NULL, NULL);
    h_io(h, 3, (int32_t[]){in, sz, ax}, 3, o);
    CHECK_EQ(h_prepare(h, &tc__reg_split_v), TC_OK);
    CHECK_EQ(h_invoke(h), TC_OK);
    CHECK_DIMS(&h->t[o[1]], 2, 3);
    const int8_t *d = h->t[o[1]].data;
    CHECK_EQ(d[0], x[1]);
    CHECK_EQ(d[5], x[6 + 3]);
    CHECK_EQ(((int8_t *)h->t[o[2]].data)[3], x[11]);
    h_free(h);
  }
}

/* ---- PAD / PADV2 ----------------------------------------------------------------------------- */

TC_TEST(kernel_shape_pad_int8_zero_point) {
  static const int8_t x[4] = {1, 2, 3, 4};
  static const int32_t pads[8] = {0, 0, 1, 1, 0, 1, 0, 0};
  harness *h = h_new(TC_OP_PAD);
  int in = h_tensor(h, TC_DTYPE_I8, 4, (int32_t[]){1, 2, 2, 1}, x);
  int pd = h_tensor(h, TC_DTYPE_I32, 2, (int32_t[]){4, 2}, pads);
  int out = h_tensor(h, TC_DTYPE_I8, 0, NULL, NULL);
  h_quant(h, in, 0.5f, -5);
  h_quant(h, out, 0.5f, -5);
  h_io(h, 2, (int32_t[]){in, pd}, 1, (int32_t[]){out});
  CHECK_EQ(h_prepare(h, &tc__reg_pad), TC_OK);
  CHECK_DIMS(&h->t[out], 1, 4, 3, 1);
  CHECK_EQ(h_invoke(h), TC_OK);
  const int8_t want[12] = {-5, -5, -5, 1, 2, -5, 3, 4, -5, -5, -5, -5};
  for (int i = 0; i < 12; i++) CHECK_EQ(((int8_t *)h->t[out].data)[i], want[i]);
  h_free(h);

  /* PADV2 on float with a constant value; negative paddings fail. */
  static const float xf[3] = {1, 2, 3}, cval = 9.5f;
  static const int64_t p64[2] = {2, 1}, neg[2] = {-1, 0};
  h = h_new(TC_OP_PADV2);
  in = h_tensor(h, TC_DTYPE_F32, 1, (int32_t[]){3}, xf);
  pd = h_tensor(h, TC_DTYPE_I64, 2, (int32_t[]){1, 2}, p64);
  int cv = h_tensor(h, TC_DTYPE_F32, 0, NULL, &cval);
  out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
  h_io(h, 3, (int32_t[]){in, pd, cv}, 1, (int32_t[]){out});
  CHECK_EQ(h_prepare(h, &tc__reg_padv2), TC_OK);
  CHECK_DIMS(&h->t[out], 6);
  CHECK_EQ(h_invoke(h), TC_OK);
  const float wf[6] = {9.5f, 9.5f, 1, 2, 3, 9.5f};
  for (int i = 0; i < 6; i++) CHECK_NEAR(((float *)h->t[out].data)[i], wf[i], 0);
  h_free(h);
  h = h_new(TC_OP_PAD);
  in = h_tensor(h, TC_DTYPE_F32, 1, (int32_t[]){3}, xf);
  pd = h_tensor(h, TC_DTYPE_I64, 2, (int32_t[]){1, 2}, neg);
  out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
  h_io(h, 2, (int32_t[]){in, pd}, 1, (int32_t[]){out});
  CHECK_EQ(h_prepare(h, &tc__reg_pad), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(h->it.errmsg, "negative");
  h_free(h);
}

TC_TEST(kernel_shape_pad_ref_2d) {
  /* int16 [2, 3] padded by (1, 0) rows and (2, 1) cols with 7. */
  const int16_t x[6] = {1, 2, 3, 4, 5, 6}, seven = 7;
  int16_t out[3 * 6];
  tc_pad_params p = {2, {2, 3}, {1, 2}, {0, 1}};
  tc_x_pad__ref(x, out, 2, &p, &seven);
  const int16_t want[18] = {7, 7, 7, 7, 7, 7, 7, 7, 1, 2, 3, 7, 7, 7, 4, 5, 6, 7};
  for (int i = 0; i < 18; i++) CHECK_EQ(out[i], want[i]);
}

/* ---- STRIDED_SLICE / SLICE ------------------------------------------------------------------- */

/* Runs STRIDED_SLICE on a float input holding 0, 1, 2, ...; options: begin, end, ellipsis,
 * new_axis, shrink masks and offset. Returns the harness (prepared and invoked) or NULL. */
static harness *run_ss(int rank, const int32_t *dims, int n_spec, const int32_t *b,
                       const int32_t *e, const int32_t *s, const int32_t masks[6], tc_status want,
                       float **xs) {
  int total = 1;
  for (int d = 0; d < rank; d++) total *= dims[d];
  *xs = iota_f(total, 0.0f);
  harness *h = h_new(TC_OP_STRIDED_SLICE);
  h_opts(h, 6, masks, -1, NULL, 0);
  int in = h_tensor(h, TC_DTYPE_F32, rank, dims, *xs);
  int tb = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){n_spec}, b);
  int te = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){n_spec}, e);
  int ts = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){n_spec}, s);
  int out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
  h_io(h, 4, (int32_t[]){in, tb, te, ts}, 1, (int32_t[]){out});
  tc_status st = h_prepare(h, &tc__reg_strided_slice);
  CHECK_EQ(st, want);
  if (st == TC_OK) CHECK_EQ(h_invoke(h), TC_OK);
  return h;
}

static void check_vals(harness *h, const float *want, int n) {
  tc__tensor *o = &h->t[h->outs[0]];
  CHECK_EQ(tc__numel(o), n);
  for (int i = 0; i < n && i < (int)tc__numel(o); i++)
    CHECK_NEAR(((float *)o->data)[i], want[i], 0);
}

TC_TEST(kernel_shape_strided_slice) {
  float *x;
  harness *h;
  static const int32_t none[6] = {0, 0, 0, 0, 0, 0};
  /* Negative stride: [5][-1:-6:-2] -> start 4, stop -1 -> 4, 2, 0. */
  h = run_ss(1, (int32_t[]){5}, 1, (int32_t[]){-1}, (int32_t[]){-6}, (int32_t[]){-2}, none,
             TC_OK, &x);
  CHECK_DIMS(&h->t[h->outs[0]], 3);
  check_vals(h, (float[]){4, 2, 0}, 3);
  h_free(h);
  free(x);
  /* Negative stride, clamped end past the front: [5][3:-100:-1] -> 3, 2, 1, 0. */
  h = run_ss(1, (int32_t[]){5}, 1, (int32_t[]){3}, (int32_t[]){-100}, (int32_t[]){-1}, none,
             TC_OK, &x);
  check_vals(h, (float[]){3, 2, 1, 0}, 4);
  h_free(h);
  free(x);
  /* Masks on [3, 4]: begin_mask on dim 0 (begin 2 ignored), end_mask on dim 1 (end 0 ignored),
   * i.e. x[:2, 1::2] -> rows 0, 1; cols 1, 3. */
  h = run_ss(2, (int32_t[]){3, 4}, 2, (int32_t[]){2, 1}, (int32_t[]){2, 0}, (int32_t[]){1, 2},
             (int32_t[]){1, 2, 0, 0, 0, 0}, TC_OK, &x);
  CHECK_DIMS(&h->t[h->outs[0]], 2, 2);
  check_vals(h, (float[]){1, 3, 5, 7}, 4);
  h_free(h);
  free(x);
  /* Reversal with masks on both ends: x[::-1] over dim 0 of [3, 2]. */
  h = run_ss(2, (int32_t[]){3, 2}, 1, (int32_t[]){0}, (int32_t[]){0}, (int32_t[]){-1},
             (int32_t[]){1, 1, 0, 0, 0, 0}, TC_OK, &x);
  CHECK_DIMS(&h->t[h->outs[0]], 3, 2);
  check_vals(h, (float[]){4, 5, 2, 3, 0, 1}, 6);
  h_free(h);
  free(x);
  /* shrink_axis on dim 0 with a negative index: x[-2, 1:3] of [3, 4] -> rank 1, {5, 6}. */
  h = run_ss(2, (int32_t[]){3, 4}, 2, (int32_t[]){-2, 1}, (int32_t[]){0, 3}, (int32_t[]){1, 1},
             (int32_t[]){0, 0, 0, 0, 1, 0}, TC_OK, &x);
  CHECK_DIMS(&h->t[h->outs[0]], 2);
  check_vals(h, (float[]){5, 6}, 2);
  h_free(h);
  free(x);
  /* shrink both dims -> scalar x[2, 3] = 11. */
  h = run_ss(2, (int32_t[]){3, 4}, 2, (int32_t[]){2, 3}, (int32_t[]){3, 4}, (int32_t[]){1, 1},
             (int32_t[]){0, 0, 0, 0, 3, 0}, TC_OK, &x);
  CHECK_EQ(h->t[h->outs[0]].n_dims, 0);
  check_vals(h, (float[]){11}, 1);
  h_free(h);
  free(x);
  /* Shorter spec than rank: x[1:] of [3, 2] keeps dim 1 whole. */
  h = run_ss(2, (int32_t[]){3, 2}, 1, (int32_t[]){1}, (int32_t[]){3}, (int32_t[]){1}, none,
             TC_OK, &x);
  CHECK_DIMS(&h->t[h->outs[0]], 2, 2);
  check_vals(h, (float[]){2, 3, 4, 5}, 4);
  h_free(h);
  free(x);
  /* Ellipsis + new axis + shrink: x[..., None, 1] of [2, 3, 4] -> [2, 3, 1]. */
  h = run_ss(3, (int32_t[]){2, 3, 4}, 3, (int32_t[]){0, 0, 1}, (int32_t[]){0, 0, 2},
             (int32_t[]){1, 1, 1}, (int32_t[]){0, 0, 1, 2, 4, 0}, TC_OK, &x);
  CHECK_DIMS(&h->t[h->outs[0]], 2, 3, 1);
  check_vals(h, (float[]){1, 5, 9, 13, 17, 21}, 6);
  h_free(h);
  free(x);
  /* offset: end = begin + end -> x[1:1+2] of [5]. */
  h = run_ss(1, (int32_t[]){5}, 1, (int32_t[]){1}, (int32_t[]){2}, (int32_t[]){1},
             (int32_t[]){0, 0, 0, 0, 0, 1}, TC_OK, &x);
  check_vals(h, (float[]){1, 2}, 2);
  h_free(h);
  free(x);
  /* Empty result when begin is past end for a positive stride. */
  h = run_ss(1, (int32_t[]){5}, 1, (int32_t[]){4}, (int32_t[]){1}, (int32_t[]){1}, none, TC_OK,
             &x);
  CHECK_DIMS(&h->t[h->outs[0]], 0);
  h_free(h);
  free(x);
  /* Errors: zero stride; shrink index out of range. */
  h = run_ss(1, (int32_t[]){5}, 1, (int32_t[]){0}, (int32_t[]){5}, (int32_t[]){0}, none,
             TC_ERR_MODEL, &x);
  CHECK_STR_CONTAINS(h->it.errmsg, "strides[0] is 0");
  h_free(h);
  free(x);
  h = run_ss(1, (int32_t[]){5}, 1, (int32_t[]){5}, (int32_t[]){6}, (int32_t[]){1},
             (int32_t[]){0, 0, 0, 0, 1, 0}, TC_ERR_MODEL, &x);
  h_free(h);
  free(x);
}

TC_TEST(kernel_shape_slice) {
  float *x = iota_f(12, 0.0f);
  static const int32_t begin[2] = {1, 1}, size[2] = {-1, 2}, bad[2] = {2, 4};
  harness *h = h_new(TC_OP_SLICE);
  int in = h_tensor(h, TC_DTYPE_F32, 2, (int32_t[]){3, 4}, x);
  int tb = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){2}, begin);
  int tsz = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){2}, size);
  int out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
  h_io(h, 3, (int32_t[]){in, tb, tsz}, 1, (int32_t[]){out});
  CHECK_EQ(h_prepare(h, &tc__reg_slice), TC_OK);
  CHECK_DIMS(&h->t[out], 2, 2);
  CHECK_EQ(h_invoke(h), TC_OK);
  check_vals(h, (float[]){5, 6, 9, 10}, 4);
  h_free(h);
  h = h_new(TC_OP_SLICE);
  in = h_tensor(h, TC_DTYPE_F32, 2, (int32_t[]){3, 4}, x);
  tb = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){2}, begin);
  tsz = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){2}, bad);
  out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
  h_io(h, 3, (int32_t[]){in, tb, tsz}, 1, (int32_t[]){out});
  CHECK_EQ(h_prepare(h, &tc__reg_slice), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(h->it.errmsg, "does not fit");
  h_free(h);
  /* The kernel directly: rows 2, 0 (stride -2) of a [3, 2] uint8 array, both columns. */
  const uint8_t u[6] = {10, 11, 12, 13, 14, 15};
  uint8_t o[4];
  tc_slice_params p = {2, {3, 2}, {2, 0}, {-2, 1}, {2, 2}};
  tc_x_strided_slice__ref(u, o, 1, &p);
  CHECK_EQ(o[0], 14);
  CHECK_EQ(o[1], 15);
  CHECK_EQ(o[2], 10);
  CHECK_EQ(o[3], 11);
  free(x);
}

/* ---- TRANSPOSE ------------------------------------------------------------------------------- */

TC_TEST(kernel_shape_transpose_4d) {
  enum { A = 2, B = 3, C = 4, D = 5 };
  int16_t x[A * B * C * D];
  for (int i = 0; i < A * B * C * D; i++) x[i] = (int16_t)(i * 7 - 300);
  static const int32_t perm[4] = {0, 3, 1, 2};
  harness *h = h_new(TC_OP_TRANSPOSE);
  int in = h_tensor(h, TC_DTYPE_I16, 4, (int32_t[]){A, B, C, D}, x);
  int tp = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){4}, perm);
  int out = h_tensor(h, TC_DTYPE_I16, 0, NULL, NULL);
  h_io(h, 2, (int32_t[]){in, tp}, 1, (int32_t[]){out});
  CHECK_EQ(h_prepare(h, &tc__reg_transpose), TC_OK);
  CHECK_DIMS(&h->t[out], A, D, B, C);
  CHECK_EQ(h_invoke(h), TC_OK);
  const int16_t *o = h->t[out].data;
  int bad = 0;
  for (int a = 0; a < A; a++)
    for (int d = 0; d < D; d++)
      for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
          bad += o[((a * D + d) * B + b) * C + c] != x[((a * B + b) * C + c) * D + d];
  CHECK_EQ(bad, 0);
  h_free(h);
  /* perm not a permutation, and perm not known at prepare */
  static const int32_t dup[4] = {0, 1, 1, 2};
  for (int k = 0; k < 2; k++) {
    h = h_new(TC_OP_TRANSPOSE);
    in = h_tensor(h, TC_DTYPE_I16, 4, (int32_t[]){A, B, C, D}, x);
    tp = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){4}, k ? NULL : dup);
    out = h_tensor(h, TC_DTYPE_I16, 0, NULL, NULL);
    h_io(h, 2, (int32_t[]){in, tp}, 1, (int32_t[]){out});
    CHECK(h_prepare(h, &tc__reg_transpose) != TC_OK);
    CHECK_STR_CONTAINS(h->it.errmsg, k ? "must be constant" : "not a permutation");
    h_free(h);
  }
  /* kernel: 2-D transpose of int64 */
  const int64_t m[6] = {1, 2, 3, 4, 5, 6};
  int64_t mt[6];
  tc_transpose_params p = {2, {2, 3}, {1, 0}};
  tc_x_transpose__ref(m, mt, 8, &p);
  const int64_t want[6] = {1, 4, 2, 5, 3, 6};
  for (int i = 0; i < 6; i++) CHECK_EQ(mt[i], want[i]);
}

/* ---- GATHER ---------------------------------------------------------------------------------- */

TC_TEST(kernel_shape_gather_axis1) {
  float *x = iota_f(2 * 4 * 3, 0.0f); /* params [2, 4, 3] */
  static const int32_t idx[3] = {3, 0, 3}, bad_idx[3] = {1, 4, 0};
  harness *h = h_new(TC_OP_GATHER);
  h_opts(h, 2, (int32_t[]){1, 0}, -1, NULL, 0);
  int par = h_tensor(h, TC_DTYPE_F32, 3, (int32_t[]){2, 4, 3}, x);
  int ix = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){3}, idx);
  int out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
  h_io(h, 2, (int32_t[]){par, ix}, 1, (int32_t[]){out});
  CHECK_EQ(h_prepare(h, &tc__reg_gather), TC_OK);
  CHECK_DIMS(&h->t[out], 2, 3, 3);
  CHECK_EQ(h_invoke(h), TC_OK);
  const float *o = h->t[out].data;
  for (int a = 0; a < 2; a++)
    for (int i = 0; i < 3; i++)
      for (int c = 0; c < 3; c++) CHECK_NEAR(o[(a * 3 + i) * 3 + c], x[(a * 4 + idx[i]) * 3 + c], 0);
  /* Same op, an out-of-range index at invoke. */
  h->t[ix].data = (void *)bad_idx;
  CHECK_EQ(h_invoke(h), TC_ERR_RUNTIME);
  CHECK_STR_CONTAINS(h->it.errmsg, "index 4 (indices[1])");
  h_free(h);
  /* batch_dims != 0 is rejected; negative axis works (-3 == 0) with int64 indices. */
  h = h_new(TC_OP_GATHER);
  h_opts(h, 2, (int32_t[]){1, 1}, -1, NULL, 0);
  par = h_tensor(h, TC_DTYPE_F32, 3, (int32_t[]){2, 4, 3}, x);
  ix = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){3}, idx);
  out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
  h_io(h, 2, (int32_t[]){par, ix}, 1, (int32_t[]){out});
  CHECK_EQ(h_prepare(h, &tc__reg_gather), TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(h->it.errmsg, "batch_dims");
  h_free(h);
  static const int64_t idx64[2] = {1, -1};
  h = h_new(TC_OP_GATHER);
  h_opts(h, 2, (int32_t[]){-3, 0}, -1, NULL, 0);
  par = h_tensor(h, TC_DTYPE_F32, 3, (int32_t[]){2, 4, 3}, x);
  ix = h_tensor(h, TC_DTYPE_I64, 2, (int32_t[]){1, 1}, idx64);
  out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
  h_io(h, 2, (int32_t[]){par, ix}, 1, (int32_t[]){out});
  CHECK_EQ(h_prepare(h, &tc__reg_gather), TC_OK);
  CHECK_DIMS(&h->t[out], 1, 1, 4, 3);
  CHECK_EQ(h_invoke(h), TC_OK);
  CHECK_NEAR(((float *)h->t[out].data)[11], 23.0f, 0);
  h_free(h);
  /* kernel: a negative index is reported and nothing is written */
  uint8_t dst[2] = {77, 77};
  size_t pos = 99;
  const uint8_t src[3] = {1, 2, 3};
  CHECK_EQ(tc_x_gather_i64__ref(src, 1, 1, 3, 1, idx64, 2, dst, &pos), 0);
  CHECK_EQ(pos, 1);
  CHECK_EQ(dst[0], 77);
  free(x);
}

/* ---- SHAPE ----------------------------------------------------------------------------------- */

TC_TEST(kernel_shape_shape_op) {
  for (int k = 0; k < 2; k++) {
    harness *h = h_new(TC_OP_SHAPE);
    h_opts(h, 1, (int32_t[]){k ? 4 : 2}, -1, NULL, 0);
    int in = h_tensor(h, TC_DTYPE_U8, 3, (int32_t[]){2, 3, 5}, NULL);
    int out = h_tensor(h, k ? TC_DTYPE_I64 : TC_DTYPE_I32, 0, NULL, NULL);
    h_io(h, 1, (int32_t[]){in}, 1, (int32_t[]){out});
    CHECK_EQ(h_prepare(h, &tc__reg_shape), TC_OK);
    CHECK_DIMS(&h->t[out], 3);
    CHECK(tc__reg_shape.shape_only); /* so the interpreter folds it at prepare */
    CHECK_EQ(h_invoke(h), TC_OK);
    for (int d = 0; d < 3; d++) {
      int64_t v = k ? ((int64_t *)h->t[out].data)[d] : ((int32_t *)h->t[out].data)[d];
      CHECK_EQ(v, h->t[in].dims[d]);
    }
    h_free(h);
  }
}

/* ---- PACK / UNPACK --------------------------------------------------------------------------- */

TC_TEST(kernel_shape_pack) {
  static const int32_t a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {11, 12, 13, 14, 15, 16};
  for (int axis = 0; axis < 2; axis++) {
    harness *h = h_new(TC_OP_PACK);
    h_opts(h, 2, (int32_t[]){2, axis}, -1, NULL, 0);
    int ia = h_tensor(h, TC_DTYPE_I32, 2, (int32_t[]){2, 3}, a);
    int ib = h_tensor(h, TC_DTYPE_I32, 2, (int32_t[]){2, 3}, b);
    int out = h_tensor(h, TC_DTYPE_I32, 0, NULL, NULL);
    h_io(h, 2, (int32_t[]){ia, ib}, 1, (int32_t[]){out});
    CHECK_EQ(h_prepare(h, &tc__reg_pack), TC_OK);
    CHECK_DIMS(&h->t[out], 2, 2, 3);
    CHECK_EQ(h_invoke(h), TC_OK);
    const int32_t *o = h->t[out].data;
    const int32_t w0[12] = {1, 2, 3, 4, 5, 6, 11, 12, 13, 14, 15, 16};
    const int32_t w1[12] = {1, 2, 3, 11, 12, 13, 4, 5, 6, 14, 15, 16};
    for (int i = 0; i < 12; i++) CHECK_EQ(o[i], axis ? w1[i] : w0[i]);
    h_free(h);
  }
  { /* PACK of scalars (the shape-arithmetic case), axis -1 */
    static const int32_t s1 = 7, s2 = 9;
    harness *h = h_new(TC_OP_PACK);
    h_opts(h, 2, (int32_t[]){2, -1}, -1, NULL, 0);
    int ia = h_tensor(h, TC_DTYPE_I32, 0, NULL, &s1);
    int ib = h_tensor(h, TC_DTYPE_I32, 0, NULL, &s2);
    int out = h_tensor(h, TC_DTYPE_I32, 0, NULL, NULL);
    h_io(h, 2, (int32_t[]){ia, ib}, 1, (int32_t[]){out});
    CHECK_EQ(h_prepare(h, &tc__reg_pack), TC_OK);
    CHECK_DIMS(&h->t[out], 2);
    CHECK_EQ(h_invoke(h), TC_OK);
    CHECK_EQ(((int32_t *)h->t[out].data)[1], 9);
    h_free(h);
  }
  { /* UNPACK [2, 3] along axis 1 -> three [2] */
    harness *h = h_new(TC_OP_UNPACK);
    h_opts(h, 2, (int32_t[]){3, 1}, -1, NULL, 0);
    int in = h_tensor(h, TC_DTYPE_I32, 2, (int32_t[]){2, 3}, a);
    int o[3];
    for (int i = 0; i < 3; i++) o[i] = h_tensor(h, TC_DTYPE_I32, 0, NULL, NULL);
    h_io(h, 1, (int32_t[]){in}, 3, o);
    CHECK_EQ(h_prepare(h, &tc__reg_unpack), TC_OK);
    CHECK_EQ(h_invoke(h), TC_OK);
    for (int i = 0; i < 3; i++) {
      CHECK_DIMS(&h->t[o[i]], 2);
      CHECK_EQ(((int32_t *)h->t[o[i]].data)[0], a[i]);
      CHECK_EQ(((int32_t *)h->t[o[i]].data)[1], a[3 + i]);
    }
    h_free(h);
  }
}

/* ---- SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND --------------------------------------------------- */

static harness *run_sb(const tc__opreg *reg, tc_dtype dt, int rank, const int32_t *dims,
                       const void *x, int m, const int32_t *block, const int32_t *pads,
                       int64_t zp) {
  harness *h = h_new(reg->builtin);
  int in = h_tensor(h, dt, rank, dims, x);
  int bs = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){m}, block);
  int pd = h_tensor(h, TC_DTYPE_I32, 2, (int32_t[]){m, 2}, pads);
  int out = h_tensor(h, dt, 0, NULL, NULL);
  if (zp) {
    h_quant(h, in, 0.1f, zp);
    h_quant(h, out, 0.1f, zp);
  }
  h_io(h, 3, (int32_t[]){in, bs, pd}, 1, (int32_t[]){out});
  CHECK_EQ(h_prepare(h, reg), TC_OK);
  CHECK_EQ(h_invoke(h), TC_OK);
  return h;
}

TC_TEST(kernel_shape_space_batch_round_trip) {
  static const int32_t block[2] = {2, 2}, pads[4] = {1, 1, 1, 1}, zero[4] = {0, 0, 0, 0};
  { /* [1, 2, 2, 1] = 1..4 padded by 1 all round, block 2x2 (hand-computed) */
    static const float x[4] = {1, 2, 3, 4};
    harness *h = run_sb(&tc__reg_space_to_batch_nd, TC_DTYPE_F32, 4, (int32_t[]){1, 2, 2, 1}, x,
                        2, block, pads, 0);
    tc__tensor *o = &h->t[h->outs[0]];
    CHECK_DIMS(o, 4, 2, 2, 1);
    const float want[16] = {0, 0, 0, 4, 0, 0, 3, 0, 0, 2, 0, 0, 1, 0, 0, 0};
    for (int i = 0; i < 16; i++) CHECK_NEAR(((float *)o->data)[i], want[i], 0);
    /* back, cropping the padding */
    harness *h2 = run_sb(&tc__reg_batch_to_space_nd, TC_DTYPE_F32, 4, (int32_t[]){4, 2, 2, 1},
                         o->data, 2, block, pads, 0);
    tc__tensor *r = &h2->t[h2->outs[0]];
    CHECK_DIMS(r, 1, 2, 2, 1);
    for (int i = 0; i < 4; i++) CHECK_NEAR(((float *)r->data)[i], x[i], 0);
    h_free(h2);
    h_free(h);
  }
  { /* batch 2: output batch = block offset * N + batch */
    static const int8_t x[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    harness *h = run_sb(&tc__reg_space_to_batch_nd, TC_DTYPE_I8, 4, (int32_t[]){2, 2, 2, 1}, x,
                        2, block, zero, 0);
    CHECK_DIMS(&h->t[h->outs[0]], 8, 1, 1, 1);
    const int8_t want[8] = {1, 5, 2, 6, 3, 7, 4, 8};
    for (int i = 0; i < 8; i++) CHECK_EQ(((int8_t *)h->t[h->outs[0]].data)[i], want[i]);
    h_free(h);
  }
  { /* int8 [2, 3, 3, 2] with asymmetric padding (pad value = zero point -3), round trip */
    int8_t x[36];
    for (int i = 0; i < 36; i++) x[i] = (int8_t)(i + 1);
    static const int32_t p2[4] = {1, 0, 0, 1};
    harness *h = run_sb(&tc__reg_space_to_batch_nd, TC_DTYPE_I8, 4, (int32_t[]){2, 3, 3, 2}, x,
                        2, block, p2, -3);
    tc__tensor *o = &h->t[h->outs[0]];
    CHECK_DIMS(o, 8, 2, 2, 2);
    const int8_t *od = o->data;
    /* out batch 0 (block 0,0; batch 0), pixel (0,0) reads padded row 0 -> pad */
    CHECK_EQ(od[0], -3);
    CHECK_EQ(od[1], -3);
    /* out batch 0 pixel (1,0): padded (2, 0) = input (1, 0) of batch 0 = elems 6, 7 -> 7, 8 */
    CHECK_EQ(od[4], 7);
    CHECK_EQ(od[5], 8);
    /* out batch 7 (block 1,1; batch 1) pixel (0,1): padded (1, 3) -> width pad */
    CHECK_EQ(od[7 * 8 + 2], -3);
    /* out batch 7 pixel (0,0): padded (1, 1) = input (0, 1) of batch 1 -> 18 + 2 + 1 */
    CHECK_EQ(od[7 * 8 + 0], 21);
    harness *h2 = run_sb(&tc__reg_batch_to_space_nd, TC_DTYPE_I8, 4, (int32_t[]){8, 2, 2, 2},
                         o->data, 2, block, p2, -3);
    CHECK_DIMS(&h2->t[h2->outs[0]], 2, 3, 3, 2);
    CHECK(memcmp(h2->t[h2->outs[0]].data, x, 36) == 0);
    h_free(h2);
    h_free(h);
  }
  { /* rank 3 [1, 4, 1], block [2] -> [2, 2, 1] = {x0, x2, x1, x3} */
    static const float x[4] = {10, 11, 12, 13};
    static const int32_t b1[1] = {2}, p1[2] = {0, 0};
    harness *h = run_sb(&tc__reg_space_to_batch_nd, TC_DTYPE_F32, 3, (int32_t[]){1, 4, 1}, x, 1,
                        b1, p1, 0);
    CHECK_DIMS(&h->t[h->outs[0]], 2, 2, 1);
    const float want[4] = {10, 12, 11, 13};
    for (int i = 0; i < 4; i++) CHECK_NEAR(((float *)h->t[h->outs[0]].data)[i], want[i], 0);
    h_free(h);
  }
  { /* padded size not divisible by the block */
    static const float x[3] = {1, 2, 3};
    static const int32_t b1[1] = {2}, p1[2] = {0, 0};
    harness *h = h_new(TC_OP_SPACE_TO_BATCH_ND);
    int in = h_tensor(h, TC_DTYPE_F32, 3, (int32_t[]){1, 3, 1}, x);
    int bs = h_tensor(h, TC_DTYPE_I32, 1, (int32_t[]){1}, b1);
    int pd = h_tensor(h, TC_DTYPE_I32, 2, (int32_t[]){1, 2}, p1);
    int out = h_tensor(h, TC_DTYPE_F32, 0, NULL, NULL);
    h_io(h, 3, (int32_t[]){in, bs, pd}, 1, (int32_t[]){out});
    CHECK_EQ(h_prepare(h, &tc__reg_space_to_batch_nd), TC_ERR_MODEL);
    CHECK_STR_CONTAINS(h->it.errmsg, "not a multiple");
    h_free(h);
  }
  { /* kernel directly: batch_to_space with crops on uint16 */
    const uint16_t in[4] = {1, 2, 3, 4}; /* [4, 1, 1, 1] */
    uint16_t out[2];
    tc_space_batch_params p = {1, 1, 1, 1, 2, 2, 1, 0, 1, 2}; /* crop top 1 -> rows 1 */
    tc_x_batch_to_space__ref(in, out, 2, &p);
    CHECK_EQ(out[0], 3);
    CHECK_EQ(out[1], 4);
  }
}

/* tc__conv_out_size: TensorFlow's SAME / VALID sizes, and hostile dilations refused instead of
 * overflowing the kernels' int32 window geometry. */
TC_TEST(kernel_shape_conv_out_size) {
  int o = 0, pad = -1;
  CHECK(tc__conv_out_size(TC_PAD_SAME, 10, 3, 1, 1, &o, &pad) && o == 10 && pad == 1);
  CHECK(tc__conv_out_size(TC_PAD_SAME, 10, 3, 2, 1, &o, &pad) && o == 5 && pad == 0);
  CHECK(tc__conv_out_size(TC_PAD_VALID, 10, 3, 2, 2, &o, &pad) && o == 3 && pad == 0);
  CHECK(!tc__conv_out_size(TC_PAD_VALID, 4, 3, 1, 2, &o, &pad)); /* dilated filter 5 > 4 */
  /* dilated filter 2^30 + 1 still fits: padding 2^29 */
  CHECK(tc__conv_out_size(TC_PAD_SAME, 10, 2, 1, 1 << 30, &o, &pad) && o == 10 &&
        pad == 1 << 29);
  /* 2 * (2^31 - 1) + 1 and 2^32 + 1 do not */
  CHECK(!tc__conv_out_size(TC_PAD_SAME, 10, 3, 1, 0x7fffffff, &o, &pad));
  CHECK(!tc__conv_out_size(TC_PAD_SAME, 10, 5, 1, 1 << 30, &o, &pad));
  CHECK(!tc__conv_out_size(TC_PAD_SAME, 10, 3, 0, 1, &o, &pad));
  CHECK(!tc__conv_out_size(2, 10, 3, 1, 1, &o, &pad));
}
