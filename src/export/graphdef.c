/* graphdef.c: the editable model description (tc_graphdef): construction calls, the builtin
 * options schema (which union type goes with which operator, and the field types of each
 * options table), and the importer that copies a loaded .tflite (lite/model.h index) into a
 * description so it can be re-written or quantized. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "export/export.h"
#include "lite/model.h"

/* ---- ownership --------------------------------------------------------------------------- */

void *tc__x_alloc(tc_graphdef *g, size_t size) {
  if (g->n_blocks == g->cap_blocks) {
    size_t nc = g->cap_blocks ? 2 * g->cap_blocks : 64;
    void **nb = tc__realloc(g->blocks, nc * sizeof *nb);
    if (!nb) return NULL;
    g->blocks = nb;
    g->cap_blocks = nc;
  }
  void *p = tc__calloc(1, size ? size : 1);
  if (p) g->blocks[g->n_blocks++] = p;
  return p;
}

void *tc__x_dup(tc_graphdef *g, const void *p, size_t size) {
  void *q = tc__x_alloc(g, size);
  if (q && size && p) memcpy(q, p, size);
  return q;
}

char *tc__x_strdup(tc_graphdef *g, const char *s) {
  if (!s) s = "";
  return tc__x_dup(g, s, strlen(s) + 1);
}

tc_status tc__x_fail(tc_graphdef *g, tc_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tc__vfmt(g->errmsg, sizeof g->errmsg, fmt, ap);
  va_end(ap);
  g->status = s;
  return s;
}

#define NOMEM(g) tc__x_fail((g), TC_ERR_NOMEM, "out of memory")

int64_t tc__x_numel(const xtensor *t) {
  int64_t n = 1;
  for (int i = 0; i < t->n_dims; i++) {
    if (t->dims[i] < 0) return -1;
    n *= t->dims[i];
  }
  return n;
}

/* ---- options schema ---------------------------------------------------------------------- */

/* Field kinds per BuiltinOptions union type (schema.fbs, union BuiltinOptions, 1-based):
 * b = byte/bool/enum, i = int, u = uint, l = long, f = float, V = [int], F = [float],
 * s = string. An empty string is a table without fields. */
static const char *const g_spec[] = {
    NULL,      /* 0 NONE */
    "biibiib", /* 1 Conv2DOptions */
    "biiibii", /* 2 DepthwiseConv2DOptions */
    "iVV",     /* 3 ConcatEmbeddingsOptions */
    "b",       /* 4 LSHProjectionOptions */
    "biiiib",  /* 5 Pool2DOptions */
    "ibb",     /* 6 SVDFOptions */
    "bb",      /* 7 RNNOptions */
    "bbbbb",   /* 8 FullyConnectedOptions */
    "f",       /* 9 SoftmaxOptions */
    "ib",      /* 10 ConcatenationOptions */
    "bb",      /* 11 AddOptions */
    "b",       /* 12 L2NormOptions */
    "ifff",    /* 13 LocalResponseNormalizationOptions */
    "bffbb",   /* 14 LSTMOptions */
    "iibb",    /* 15 ResizeBilinearOptions */
    "u",       /* 16 CallOptions */
    "V",       /* 17 ReshapeOptions */
    "iib",     /* 18 SkipGramOptions */
    "i",       /* 19 SpaceToDepthOptions */
    "b",       /* 20 EmbeddingLookupSparseOptions */
    "b",       /* 21 MulOptions */
    "",        /* 22 PadOptions */
    "ii",      /* 23 GatherOptions */
    "",        /* 24 BatchToSpaceNDOptions */
    "",        /* 25 SpaceToBatchNDOptions */
    "",        /* 26 TransposeOptions */
    "b",       /* 27 ReducerOptions */
    "bb",      /* 28 SubOptions */
    "b",       /* 29 DivOptions */
    "V",       /* 30 SqueezeOptions */
    "bbb",     /* 31 SequenceRNNOptions */
    "iiiiib",  /* 32 StridedSliceOptions */
    "",        /* 33 ExpOptions */
    "",        /* 34 TopKV2Options */
    "i",       /* 35 SplitOptions */
    "",        /* 36 LogSoftmaxOptions */
    "bb",      /* 37 CastOptions */
    "",        /* 38 DequantizeOptions */
    "",        /* 39 MaximumMinimumOptions */
    "b",       /* 40 ArgMaxOptions */
    "",        /* 41 LessOptions */
    "",        /* 42 NegOptions */
    "",        /* 43 PadV2Options */
    "",        /* 44 GreaterOptions */
    "",        /* 45 GreaterEqualOptions */
    "",        /* 46 LessEqualOptions */
    "",        /* 47 SelectOptions */
    "",        /* 48 SliceOptions */
    "biibb",   /* 49 TransposeConvOptions */
    "b",       /* 50 SparseToDenseOptions */
    "",        /* 51 TileOptions */
    "",        /* 52 ExpandDimsOptions */
    "",        /* 53 EqualOptions */
    "",        /* 54 NotEqualOptions */
    "b",       /* 55 ShapeOptions */
    "",        /* 56 PowOptions */
    "b",       /* 57 ArgMinOptions */
    "ffib",    /* 58 FakeQuantOptions */
    "ii",      /* 59 PackOptions */
    "",        /* 60 LogicalOrOptions */
    "i",       /* 61 OneHotOptions */
    "",        /* 62 LogicalAndOptions */
    "",        /* 63 LogicalNotOptions */
    "ii",      /* 64 UnpackOptions */
    "",        /* 65 FloorDivOptions */
    "",        /* 66 SquareOptions */
    "",        /* 67 ZerosLikeOptions */
    "",        /* 68 FillOptions */
    "bffbbb",  /* 69 BidirectionalSequenceLSTMOptions */
    "bbbb",    /* 70 BidirectionalSequenceRNNOptions */
    "bffbbb",  /* 71 UnidirectionalSequenceLSTMOptions */
    "",        /* 72 FloorModOptions */
    "",        /* 73 RangeOptions */
    "bb",      /* 74 ResizeNearestNeighborOptions */
    "f",       /* 75 LeakyReluOptions */
    "",        /* 76 SquaredDifferenceOptions */
    "b",       /* 77 MirrorPadOptions */
    "",        /* 78 AbsOptions */
    "i",       /* 79 SplitVOptions */
    "b",       /* 80 UniqueOptions */
    "",        /* 81 ReverseV2Options */
    "",        /* 82 AddNOptions */
    "",        /* 83 GatherNdOptions */
    "",        /* 84 CosOptions */
    "",        /* 85 WhereOptions */
    "",        /* 86 RankOptions */
    "ii",      /* 87 ReverseSequenceOptions */
    "",        /* 88 MatrixDiagOptions */
    "",        /* 89 QuantizeOptions */
    "",        /* 90 MatrixSetDiagOptions */
    "",        /* 91 HardSwishOptions */
    "ii",      /* 92 IfOptions */
    "ii",      /* 93 WhileOptions */
    "i",       /* 94 DepthToSpaceOptions */
    "",        /* 95 NonMaxSuppressionV4Options */
    "",        /* 96 NonMaxSuppressionV5Options */
    "",        /* 97 ScatterNdOptions */
    "",        /* 98 SelectV2Options */
    "",        /* 99 DensifyOptions */
    "",        /* 100 SegmentSumOptions */
    "bbb",     /* 101 BatchMatMulOptions */
    "bb",      /* 102 CumsumOptions */
    "i",       /* 103 CallOnceOptions */
    "",        /* 104 BroadcastToOptions */
    "",        /* 105 Rfft2dOptions */
    "biiiibiii", /* 106 Conv3DOptions */
    "ibb",     /* 107 HashtableOptions */
    "",        /* 108 HashtableFindOptions */
    "",        /* 109 HashtableImportOptions */
    "",        /* 110 HashtableSizeOptions */
    "ss",      /* 111 VarHandleOptions */
    "",        /* 112 ReadVariableOptions */
    "",        /* 113 AssignVariableOptions */
    "ll",      /* 114 RandomOptions */
    "F",       /* 115 BucketizeOptions */
    "b",       /* 116 GeluOptions */
    "",        /* 117 DynamicUpdateSliceOptions */
    "",        /* 118 UnsortedSegmentProdOptions */
    "",        /* 119 UnsortedSegmentMaxOptions */
    "",        /* 120 UnsortedSegmentMinOptions */
    "",        /* 121 UnsortedSegmentSumOptions */
    "",        /* 122 ATan2Options */
    "",        /* 123 SignOptions */
    "",        /* 124 BitcastOptions */
    "",        /* 125 BitwiseXorOptions */
    "",        /* 126 RightShiftOptions */
};

int tc__x_options_spec(uint8_t type, uint8_t kinds[XOPT_MAX_FIELDS]) {
  if (type == 0 || type >= sizeof g_spec / sizeof g_spec[0]) return -1;
  const char *s = g_spec[type];
  int n = 0;
  for (; s[n] && n < XOPT_MAX_FIELDS; n++) {
    switch (s[n]) {
    case 'b': kinds[n] = XF_BYTE; break;
    case 'i': kinds[n] = XF_INT; break;
    case 'u': kinds[n] = XF_UINT; break;
    case 'l': kinds[n] = XF_LONG; break;
    case 'f': kinds[n] = XF_FLOAT; break;
    case 'V': kinds[n] = XF_INTS; break;
    case 'F': kinds[n] = XF_FLOATS; break;
    default: kinds[n] = XF_STRING; break;
    }
  }
  return n;
}

uint8_t tc__x_options_type(int32_t op) {
  /* The options table TFLite's converter writes for each builtin (0: none). */
  static const struct { int16_t op; uint8_t type; } map[] = {
      {0, 11},   {1, 5},    {2, 10},   {3, 1},    {4, 2},    {5, 94},   {9, 8},    {11, 12},
      {12, 5},   {13, 13},  {15, 4},   {16, 14},  {17, 5},   {18, 21},  {22, 17},  {23, 15},
      {24, 7},   {25, 9},   {26, 19},  {27, 6},   {29, 3},   {30, 18},  {31, 16},  {33, 20},
      {34, 22},  {35, 31},  {36, 23},  {37, 24},  {38, 25},  {39, 26},  {40, 27},  {41, 28},
      {42, 29},  {43, 30},  {44, 71},  {45, 32},  {46, 70},  {47, 33},  {48, 34},  {49, 35},
      {50, 36},  {52, 69},  {53, 37},  {55, 39},  {56, 40},  {57, 39},  {58, 41},  {59, 42},
      {60, 43},  {61, 44},  {62, 45},  {63, 46},  {64, 47},  {65, 48},  {67, 49},  {68, 50},
      {69, 51},  {70, 52},  {71, 53},  {72, 54},  {74, 27},  {77, 55},  {78, 56},  {79, 57},
      {80, 58},  {81, 27},  {82, 27},  {83, 59},  {84, 60},  {85, 61},  {86, 62},  {87, 63},
      {88, 64},  {89, 27},  {90, 65},  {91, 27},  {92, 66},  {93, 67},  {94, 68},  {95, 72},
      {96, 73},  {97, 74},  {98, 75},  {99, 76},  {100, 77}, {101, 78}, {102, 79}, {103, 80},
      {105, 81}, {106, 82}, {107, 83}, {108, 84}, {109, 85}, {110, 86}, {112, 87}, {113, 88},
      {115, 90}, {118, 92}, {119, 93}, {120, 95}, {121, 96}, {122, 97}, {123, 98}, {124, 99},
      {125, 100}, {126, 101}, {128, 102}, {129, 103}, {130, 104}, {131, 105}, {132, 106},
      {140, 27}, {141, 106}, {147, 115}, {150, 116}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (map[i].op == op) return map[i].type;
  return 0;
}

/* ---- construction ------------------------------------------------------------------------ */

tc_status tc_graphdef_create(tc_graphdef **out) {
  if (!out) return TC_ERR_ARG;
  tc_graphdef *g = tc__calloc(1, sizeof *g);
  *out = g;
  if (!g) return TC_ERR_NOMEM;
  g->description = "";
  if (tc_graphdef_add_subgraph(g, "main") < 0) {
    tc_graphdef_destroy(g);
    *out = NULL;
    return TC_ERR_NOMEM;
  }
  return TC_OK;
}

void tc_graphdef_destroy(tc_graphdef *g) {
  if (!g) return;
  for (size_t i = 0; i < g->n_blocks; i++) tc__free(g->blocks[i]);
  tc__free(g->blocks);
  for (int i = 0; i < g->n_sg; i++) {
    tc__free(g->sg[i].t);
    tc__free(g->sg[i].op);
  }
  tc__free(g->sg);
  tc__free(g->meta);
  tc__free(g->sigs);
  tc__free(g);
}

const char *tc_graphdef_errmsg(const tc_graphdef *g) { return g ? g->errmsg : "graphdef is NULL"; }

tc_status tc_graphdef_set_description(tc_graphdef *g, const char *text) {
  if (!g) return TC_ERR_ARG;
  char *d = tc__x_strdup(g, text);
  if (!d) return NOMEM(g);
  g->description = d;
  return TC_OK;
}

int tc_graphdef_add_subgraph(tc_graphdef *g, const char *name) {
  if (!g) return -1;
  xsubgraph *ns = tc__realloc(g->sg, (size_t)(g->n_sg + 1) * sizeof *ns);
  if (!ns) return NOMEM(g), -1;
  g->sg = ns;
  xsubgraph *s = &g->sg[g->n_sg];
  memset(s, 0, sizeof *s);
  s->name = tc__x_strdup(g, name);
  if (!s->name) return NOMEM(g), -1;
  return g->n_sg++;
}

tc_status tc_graphdef_select(tc_graphdef *g, int sg) {
  if (!g) return TC_ERR_ARG;
  if (sg < 0 || sg >= g->n_sg)
    return tc__x_fail(g, TC_ERR_ARG, "subgraph %d out of range (%d subgraphs)", sg, g->n_sg);
  g->cur = sg;
  return TC_OK;
}

static size_t dtype_bytes(tc_dtype t) { return tc_dtype_size(t); }

int tc_graphdef_add_tensor(tc_graphdef *g, const char *name, tc_dtype dtype, int n_dims,
                           const int32_t *dims, const void *data, size_t size) {
  if (!g) return -1;
  xsubgraph *s = &g->sg[g->cur];
  if (n_dims < 0 || n_dims > TC_MAX_DIMS || (n_dims && !dims))
    return tc__x_fail(g, TC_ERR_ARG, "tensor '%s': rank %d is invalid", name ? name : "", n_dims), -1;
  if (dtype <= TC_DTYPE_UNKNOWN || dtype >= TC_DTYPE_COUNT)
    return tc__x_fail(g, TC_ERR_ARG, "tensor '%s': invalid dtype", name ? name : ""), -1;
  if (s->n_t == s->cap_t) {
    int nc = s->cap_t ? 2 * s->cap_t : 32;
    xtensor *nt = tc__realloc(s->t, (size_t)nc * sizeof *nt);
    if (!nt) return NOMEM(g), -1;
    s->t = nt;
    s->cap_t = nc;
  }
  xtensor *t = &s->t[s->n_t];
  memset(t, 0, sizeof *t);
  t->name = tc__x_strdup(g, name);
  if (!t->name) return NOMEM(g), -1;
  t->dtype = dtype;
  t->n_dims = n_dims;
  for (int i = 0; i < n_dims; i++) t->dims[i] = t->sig[i] = dims[i];
  if (data) {
    int64_t n = tc__x_numel(t);
    size_t es = dtype_bytes(dtype);
    if (es && n >= 0 && (uint64_t)n * es != size)
      return tc__x_fail(g, TC_ERR_ARG, "tensor '%s': %zu data bytes but its shape needs %llu",
                        t->name, size, (unsigned long long)((uint64_t)n * es)), -1;
    t->data = tc__x_dup(g, data, size);
    if (!t->data) return NOMEM(g), -1;
    t->size = size;
  }
  return s->n_t++;
}

static xtensor *get_tensor(tc_graphdef *g, int t) {
  xsubgraph *s = &g->sg[g->cur];
  if (t < 0 || t >= s->n_t) {
    tc__x_fail(g, TC_ERR_ARG, "tensor %d out of range (%d tensors)", t, s->n_t);
    return NULL;
  }
  return &s->t[t];
}

tc_status tc_graphdef_set_signature(tc_graphdef *g, int tensor, const int32_t *sig) {
  if (!g || !sig) return TC_ERR_ARG;
  xtensor *t = get_tensor(g, tensor);
  if (!t) return TC_ERR_ARG;
  t->has_sig = 1;
  for (int i = 0; i < t->n_dims; i++) t->sig[i] = sig[i];
  return TC_OK;
}

tc_status tc_graphdef_set_quant(tc_graphdef *g, int tensor, int n_scales, const float *scales,
                                const int64_t *zero_points, int axis) {
  if (!g) return TC_ERR_ARG;
  xtensor *t = get_tensor(g, tensor);
  if (!t) return TC_ERR_ARG;
  if (n_scales < 0 || (n_scales && !scales)) return tc__x_fail(g, TC_ERR_ARG, "bad scales");
  if (n_scales > 1 && (axis < 0 || axis >= t->n_dims || t->dims[axis] != n_scales))
    return tc__x_fail(g, TC_ERR_ARG, "tensor '%s': %d scales do not match dimension %d",
                      t->name, n_scales, axis);
  t->n_scales = n_scales;
  t->axis = axis;
  t->scale = NULL;
  t->zp = NULL;
  if (!n_scales) return TC_OK;
  t->scale = tc__x_dup(g, scales, (size_t)n_scales * sizeof(float));
  t->zp = tc__x_alloc(g, (size_t)n_scales * sizeof(int64_t));
  if (!t->scale || !t->zp) return NOMEM(g);
  if (zero_points) memcpy(t->zp, zero_points, (size_t)n_scales * sizeof(int64_t));
  return TC_OK;
}

tc_status tc_graphdef_set_variable(tc_graphdef *g, int tensor, int is_variable) {
  if (!g) return TC_ERR_ARG;
  xtensor *t = get_tensor(g, tensor);
  if (!t) return TC_ERR_ARG;
  t->is_variable = is_variable != 0;
  return TC_OK;
}

static int add_op(tc_graphdef *g, int32_t builtin, int n_in, const int32_t *in, int n_out,
                  const int32_t *out) {
  xsubgraph *s = &g->sg[g->cur];
  if (n_in < 0 || n_out < 0 || (n_in && !in) || (n_out && !out))
    return tc__x_fail(g, TC_ERR_ARG, "operator: bad input/output lists"), -1;
  if (s->n_op == s->cap_op) {
    int nc = s->cap_op ? 2 * s->cap_op : 32;
    xop *no = tc__realloc(s->op, (size_t)nc * sizeof *no);
    if (!no) return NOMEM(g), -1;
    s->op = no;
    s->cap_op = nc;
  }
  xop *o = &s->op[s->n_op];
  memset(o, 0, sizeof *o);
  o->builtin = builtin;
  o->n_in = n_in;
  o->n_out = n_out;
  o->in = tc__x_dup(g, in, (size_t)n_in * 4);
  o->out = tc__x_dup(g, out, (size_t)n_out * 4);
  if (!o->in || !o->out) return NOMEM(g), -1;
  o->opt_type = tc__x_options_type(builtin);
  return s->n_op++;
}

int tc_graphdef_add_op(tc_graphdef *g, int32_t builtin, int n_inputs, const int32_t *inputs,
                       int n_outputs, const int32_t *outputs) {
  if (!g) return -1;
  if (builtin < 0 || builtin == 32)
    return tc__x_fail(g, TC_ERR_ARG, "builtin code %d: use tc_graphdef_add_custom_op for CUSTOM",
                      (int)builtin), -1;
  return add_op(g, builtin, n_inputs, inputs, n_outputs, outputs);
}

int tc_graphdef_add_custom_op(tc_graphdef *g, const char *name, const void *options,
                              size_t options_size, int n_inputs, const int32_t *inputs,
                              int n_outputs, const int32_t *outputs) {
  if (!g) return -1;
  int i = add_op(g, 32, n_inputs, inputs, n_outputs, outputs);
  if (i < 0) return -1;
  xop *o = &g->sg[g->cur].op[i];
  o->custom = tc__x_strdup(g, name);
  if (!o->custom) return NOMEM(g), -1;
  if (options_size) {
    o->custom_opts = tc__x_dup(g, options, options_size);
    if (!o->custom_opts) return NOMEM(g), -1;
    o->custom_size = options_size;
  }
  return i;
}

static xfield *op_field(tc_graphdef *g, int op, int field, int kind_a, int kind_b) {
  xsubgraph *s = &g->sg[g->cur];
  if (op < 0 || op >= s->n_op) {
    tc__x_fail(g, TC_ERR_ARG, "operator %d out of range (%d operators)", op, s->n_op);
    return NULL;
  }
  xop *o = &s->op[op];
  uint8_t kinds[XOPT_MAX_FIELDS];
  int n = tc__x_options_spec(o->opt_type, kinds);
  if (field < 0 || field >= n || (kinds[field] != kind_a && kinds[field] != kind_b)) {
    tc__x_fail(g, TC_ERR_ARG, "operator %d (builtin %d): options field %d does not exist or has "
               "another type", op, (int)o->builtin, field);
    return NULL;
  }
  return &o->f[field];
}

tc_status tc_graphdef_op_set_int(tc_graphdef *g, int op, int field, int64_t value) {
  if (!g) return TC_ERR_ARG;
  xsubgraph *s = &g->sg[g->cur];
  xfield *f = op_field(g, op, field, XF_BYTE, XF_INT);
  if (!f) {
    /* also accept uint/long fields */
    if (op >= 0 && op < s->n_op) {
      uint8_t kinds[XOPT_MAX_FIELDS];
      int n = tc__x_options_spec(s->op[op].opt_type, kinds);
      if (field >= 0 && field < n && (kinds[field] == XF_UINT || kinds[field] == XF_LONG)) {
        f = &s->op[op].f[field];
        g->status = TC_OK;
        g->errmsg[0] = 0;
      }
    }
    if (!f) return TC_ERR_ARG;
  }
  f->set = 1;
  f->i = value;
  return TC_OK;
}

tc_status tc_graphdef_op_set_float(tc_graphdef *g, int op, int field, float value) {
  if (!g) return TC_ERR_ARG;
  xfield *f = op_field(g, op, field, XF_FLOAT, XF_FLOAT);
  if (!f) return TC_ERR_ARG;
  f->set = 1;
  f->f = value;
  return TC_OK;
}

tc_status tc_graphdef_op_set_ints(tc_graphdef *g, int op, int field, int n, const int32_t *values) {
  if (!g || n < 0 || (n && !values)) return TC_ERR_ARG;
  xfield *f = op_field(g, op, field, XF_INTS, XF_INTS);
  if (!f) return TC_ERR_ARG;
  f->vec = tc__x_dup(g, values, (size_t)n * 4);
  if (!f->vec) return NOMEM(g);
  f->n = n;
  f->set = 1;
  return TC_OK;
}

tc_status tc_graphdef_op_set_version(tc_graphdef *g, int op, int version) {
  if (!g) return TC_ERR_ARG;
  xsubgraph *s = &g->sg[g->cur];
  if (op < 0 || op >= s->n_op || version < 0) return tc__x_fail(g, TC_ERR_ARG, "bad operator/version");
  s->op[op].version = version;
  return TC_OK;
}

tc_status tc_graphdef_set_io(tc_graphdef *g, int n_inputs, const int32_t *inputs, int n_outputs,
                             const int32_t *outputs) {
  if (!g || n_inputs < 0 || n_outputs < 0) return TC_ERR_ARG;
  xsubgraph *s = &g->sg[g->cur];
  for (int i = 0; i < n_inputs + n_outputs; i++) {
    int32_t t = i < n_inputs ? inputs[i] : outputs[i - n_inputs];
    if (t < 0 || t >= s->n_t)
      return tc__x_fail(g, TC_ERR_ARG, "subgraph io: tensor %d out of range", (int)t);
  }
  s->in = tc__x_dup(g, inputs, (size_t)n_inputs * 4);
  s->out = tc__x_dup(g, outputs, (size_t)n_outputs * 4);
  if (!s->in || !s->out) return NOMEM(g);
  s->n_in = n_inputs;
  s->n_out = n_outputs;
  return TC_OK;
}

tc_status tc_graphdef_add_metadata(tc_graphdef *g, const char *name, const void *data,
                                   size_t size) {
  if (!g || !name || (size && !data)) return TC_ERR_ARG;
  xmeta *nm = tc__realloc(g->meta, (size_t)(g->n_meta + 1) * sizeof *nm);
  if (!nm) return NOMEM(g);
  g->meta = nm;
  xmeta *m = &g->meta[g->n_meta];
  m->name = tc__x_strdup(g, name);
  m->data = tc__x_dup(g, data, size);
  m->size = size;
  if (!m->name || !m->data) return NOMEM(g);
  g->n_meta++;
  return TC_OK;
}

int tc_graphdef_tensor_count(const tc_graphdef *g) { return g ? g->sg[g->cur].n_t : 0; }
int tc_graphdef_op_count(const tc_graphdef *g) { return g ? g->sg[g->cur].n_op : 0; }

/* ---- import from a loaded model ---------------------------------------------------------- */

static tc_status import_options(tc_graphdef *g, const tc_model *m, const tc__mop *mo, xop *o,
                                const char *where) {
  o->opt_type = mo->options_type;
  if (mo->options2_type)
    return tc__x_fail(g, TC_ERR_UNSUPPORTED, "%s: builtin_options_2 (type %d) cannot be exported",
                      where, (int)mo->options2_type);
  if (!mo->options_type) return TC_OK;
  uint8_t kinds[XOPT_MAX_FIELDS];
  int n = tc__x_options_spec(mo->options_type, kinds);
  if (n < 0)
    return tc__x_fail(g, TC_ERR_UNSUPPORTED, "%s: builtin options type %d is unknown", where,
                      (int)mo->options_type);
  if (!mo->options.pos) return TC_OK;
  const tc__fb *fb = &m->fb;
  const tc__fbt *t = &mo->options;
  for (int i = 0; i < n; i++) {
    if (!tc__fb_field(fb, t, i)) continue;
    xfield *f = &o->f[i];
    f->set = 1;
    switch (kinds[i]) {
    case XF_BYTE: f->i = tc__fb_u8(fb, t, i, 0); break;
    case XF_INT: f->i = tc__fb_i32(fb, t, i, 0); break;
    case XF_UINT: f->i = tc__fb_u32(fb, t, i, 0); break;
    case XF_LONG: f->i = tc__fb_i64(fb, t, i, 0); break;
    case XF_FLOAT: f->f = tc__fb_f32(fb, t, i, 0); break;
    case XF_INTS:
    case XF_FLOATS: {
      tc__fbv v;
      if (tc__fb_vector(fb, t, i, 4, &v) != TC_FB_OK) {
        f->set = 0;
        break;
      }
      f->n = (int32_t)v.n;
      f->vec = tc__x_dup(g, fb->buf + v.pos, (size_t)v.n * 4);
      if (!f->vec) return NOMEM(g);
      break;
    }
    default: {
      const char *str;
      uint32_t len;
      if (tc__fb_string(fb, t, i, &str, &len) != TC_FB_OK) {
        f->set = 0;
        break;
      }
      f->vec = tc__x_strdup(g, str);
      if (!f->vec) return NOMEM(g);
      break;
    }
    }
  }
  return TC_OK;
}

static tc_status import_subgraph(tc_graphdef *g, const tc_model *m, int gi) {
  const tc__msubgraph *ms = &m->subgraphs[gi];
  int sgi = gi == 0 ? 0 : tc_graphdef_add_subgraph(g, ms->name);
  if (sgi < 0) return g->status;
  xsubgraph *s = &g->sg[sgi];
  s->name = tc__x_strdup(g, ms->name);
  if (!s->name) return NOMEM(g);
  g->cur = sgi;
  for (int i = 0; i < ms->n_tensors; i++) {
    const tc__mtensor *mt = &ms->tensors[i];
    if (mt->has_sparsity)
      return tc__x_fail(g, TC_ERR_UNSUPPORTED, "subgraphs[%d].tensors[%d] ('%s') is sparse", gi, i,
                        mt->name);
    int ti = tc_graphdef_add_tensor(g, mt->name, mt->dtype, mt->n_dims, mt->dims, NULL, 0);
    if (ti < 0) return g->status;
    xtensor *t = &g->sg[sgi].t[ti];
    if (mt->data) {
      t->data = tc__x_dup(g, mt->data, mt->data_size);
      if (!t->data) return NOMEM(g);
      t->size = mt->data_size;
    }
    if (mt->has_signature) {
      t->has_sig = 1;
      memcpy(t->sig, mt->sig, sizeof t->sig);
    }
    t->is_variable = mt->is_variable;
    if (mt->q.n_scales) {
      t->n_scales = mt->q.n_scales;
      t->axis = mt->q.axis;
      t->scale = tc__x_dup(g, mt->q.scale, (size_t)t->n_scales * sizeof(float));
      t->zp = tc__x_dup(g, mt->q.zero_point, (size_t)t->n_scales * sizeof(int64_t));
      if (!t->scale || !t->zp) return NOMEM(g);
    } else {
      t->axis = mt->q.axis;
    }
  }
  s = &g->sg[sgi];
  for (int i = 0; i < ms->n_ops; i++) {
    const tc__mop *mo = &ms->ops[i];
    const tc__mopcode *oc = &m->opcodes[mo->opcode];
    int oi = add_op(g, oc->builtin, mo->n_inputs, mo->inputs, mo->n_outputs, mo->outputs);
    if (oi < 0) return g->status;
    xop *o = &g->sg[sgi].op[oi];
    o->version = oc->version;
    if (oc->builtin == 32) {
      o->custom = tc__x_strdup(g, oc->custom);
      if (!o->custom) return NOMEM(g);
    }
    if (mo->n_intermediates) {
      o->inter = tc__x_dup(g, mo->intermediates, (size_t)mo->n_intermediates * 4);
      if (!o->inter) return NOMEM(g);
      o->n_inter = mo->n_intermediates;
    }
    if (mo->custom_options_size) {
      o->custom_opts = tc__x_dup(g, mo->custom_options, mo->custom_options_size);
      if (!o->custom_opts) return NOMEM(g);
      o->custom_size = mo->custom_options_size;
    }
    char where[64];
    snprintf(where, sizeof where, "subgraphs[%d].operators[%d]", gi, i);
    tc_status st = import_options(g, m, mo, o, where);
    if (st) return st;
  }
  return tc_graphdef_set_io(g, ms->n_inputs, ms->inputs, ms->n_outputs, ms->outputs);
}

tc_status tc_graphdef_from_model(const tc_model *m, tc_graphdef **out) {
  if (!out) return TC_ERR_ARG;
  tc_status s = tc_graphdef_create(out);
  if (s) return s;
  tc_graphdef *g = *out;
  if (!m || m->status) return tc__x_fail(g, TC_ERR_ARG, "model is NULL or failed to load");
  if ((s = tc_graphdef_set_description(g, m->description))) return s;
  for (int i = 0; i < m->n_subgraphs; i++)
    if ((s = import_subgraph(g, m, i))) return s;
  g->cur = 0;
  for (int i = 0; i < m->n_metadata; i++)
    if ((s = tc_graphdef_add_metadata(g, m->metadata[i].name, m->metadata[i].data,
                                      m->metadata[i].size)))
      return s;
  if (m->n_signatures) {
    g->sigs = tc__calloc((size_t)m->n_signatures, sizeof *g->sigs);
    if (!g->sigs) return NOMEM(g);
    g->n_sigs = m->n_signatures;
    for (int i = 0; i < m->n_signatures; i++) {
      const tc__msig *ms = &m->signatures[i];
      xsig *x = &g->sigs[i];
      x->key = tc__x_strdup(g, ms->key);
      x->subgraph = (int)ms->subgraph;
      x->n_in = ms->n_inputs;
      x->n_out = ms->n_outputs;
      x->in_names = tc__x_alloc(g, (size_t)(x->n_in + 1) * sizeof(char *));
      x->out_names = tc__x_alloc(g, (size_t)(x->n_out + 1) * sizeof(char *));
      x->in_t = tc__x_alloc(g, (size_t)(x->n_in + 1) * 4);
      x->out_t = tc__x_alloc(g, (size_t)(x->n_out + 1) * 4);
      if (!x->key || !x->in_names || !x->out_names || !x->in_t || !x->out_t) return NOMEM(g);
      for (int k = 0; k < x->n_in; k++) {
        x->in_names[k] = tc__x_strdup(g, ms->input_names[k]);
        x->in_t[k] = (int32_t)ms->input_tensors[k];
        if (!x->in_names[k]) return NOMEM(g);
      }
      for (int k = 0; k < x->n_out; k++) {
        x->out_names[k] = tc__x_strdup(g, ms->output_names[k]);
        x->out_t[k] = (int32_t)ms->output_tensors[k];
        if (!x->out_names[k]) return NOMEM(g);
      }
    }
  }
  return TC_OK;
}

/* ---- cloning (for the quantizer) --------------------------------------------------------- */

tc_status tc__x_clone_sg0(const tc_graphdef *src, tc_graphdef **out) {
  tc_status s = tc_graphdef_create(out);
  if (s) return s;
  tc_graphdef *g = *out;
  const xsubgraph *ss = &src->sg[0];
  if ((s = tc_graphdef_set_description(g, src->description))) return s;
  for (int i = 0; i < ss->n_t; i++) {
    const xtensor *st = &ss->t[i];
    int ti = tc_graphdef_add_tensor(g, st->name, st->dtype, st->n_dims, st->dims, NULL, 0);
    if (ti < 0) return g->status;
    xtensor *t = &g->sg[0].t[ti];
    t->has_sig = st->has_sig;
    memcpy(t->sig, st->sig, sizeof t->sig);
    t->is_variable = st->is_variable;
    t->axis = st->axis;
    if (st->data) {
      t->data = tc__x_dup(g, st->data, st->size);
      if (!t->data) return NOMEM(g);
      t->size = st->size;
    }
    if (st->n_scales && (s = tc_graphdef_set_quant(g, ti, st->n_scales, st->scale, st->zp, st->axis)))
      return s;
  }
  for (int i = 0; i < ss->n_op; i++) {
    const xop *so = &ss->op[i];
    int oi = add_op(g, so->builtin, so->n_in, so->in, so->n_out, so->out);
    if (oi < 0) return g->status;
    xop *o = &g->sg[0].op[oi];
    o->version = so->version;
    o->opt_type = so->opt_type;
    memcpy(o->f, so->f, sizeof o->f); /* vectors stay owned by src: duplicate them */
    for (int k = 0; k < XOPT_MAX_FIELDS; k++) {
      if (!so->f[k].vec) continue;
      uint8_t kinds[XOPT_MAX_FIELDS];
      int n = tc__x_options_spec(so->opt_type, kinds);
      size_t bytes = k < n && kinds[k] == XF_STRING ? strlen(so->f[k].vec) + 1 : (size_t)so->f[k].n * 4;
      o->f[k].vec = tc__x_dup(g, so->f[k].vec, bytes);
      if (!o->f[k].vec) return NOMEM(g);
    }
    if (so->custom && !(o->custom = tc__x_strdup(g, so->custom))) return NOMEM(g);
    if (so->n_inter) {
      o->inter = tc__x_dup(g, so->inter, (size_t)so->n_inter * 4);
      if (!o->inter) return NOMEM(g);
      o->n_inter = so->n_inter;
    }
    if (so->custom_size) {
      o->custom_opts = tc__x_dup(g, so->custom_opts, so->custom_size);
      if (!o->custom_opts) return NOMEM(g);
      o->custom_size = so->custom_size;
    }
  }
  if ((s = tc_graphdef_set_io(g, ss->n_in, ss->in, ss->n_out, ss->out))) return s;
  for (int i = 0; i < src->n_meta; i++)
    if ((s = tc_graphdef_add_metadata(g, src->meta[i].name, src->meta[i].data, src->meta[i].size)))
      return s;
  return TC_OK;
}
