/* write.c: serializes a tc_graphdef as a TensorFlow Lite flatbuffer (schema v3) with the
 * builder in fbb.c.
 *
 * Steps: check every index; collect the distinct (builtin, custom name, version) operator codes,
 * computing versions the way TFLite's converter does for the ops tensorc emits; give each
 * constant tensor its own buffer (buffer 0 stays the empty sentinel); then write leaves before
 * the tables that point to them: weight data first (16-byte aligned), subgraphs, operator codes,
 * metadata (min_runtime_version and producer added unless present) and a serving_default
 * SignatureDef when the description has none. */
#include <stdio.h>
#include <string.h>

#include "export/export.h"
#include "export/fbb.h"

enum { M_VERSION = 0, M_OPCODES, M_SUBGRAPHS, M_DESCRIPTION, M_BUFFERS, M_METADATA_BUFFER,
       M_METADATA, M_SIGNATURES };
enum { OC_DEPRECATED = 0, OC_CUSTOM, OC_VERSION, OC_BUILTIN };
enum { SG_TENSORS = 0, SG_INPUTS, SG_OUTPUTS, SG_OPERATORS, SG_NAME };
enum { T_SHAPE = 0, T_TYPE, T_BUFFER, T_NAME, T_QUANT, T_IS_VARIABLE, T_SPARSITY, T_SIGNATURE };
enum { Q_MIN = 0, Q_MAX, Q_SCALE, Q_ZERO_POINT, Q_DETAILS_TYPE, Q_DETAILS, Q_DIM };
enum { OP_OPCODE = 0, OP_INPUTS, OP_OUTPUTS, OP_OPT_TYPE, OP_OPT, OP_CUSTOM_OPT, OP_CUSTOM_FMT,
       OP_MUTATING, OP_INTERMEDIATES };
enum { B_DATA = 0 };
enum { MD_NAME = 0, MD_BUFFER };
enum { SD_INPUTS = 0, SD_OUTPUTS, SD_KEY, SD_TAG, SD_SUBGRAPH };
enum { TM_NAME = 0, TM_TENSOR };

static int tflite_type(tc_dtype t) {
  switch (t) {
  case TC_DTYPE_F32: return 0;
  case TC_DTYPE_F16: return 1;
  case TC_DTYPE_I32: return 2;
  case TC_DTYPE_U8: return 3;
  case TC_DTYPE_I64: return 4;
  case TC_DTYPE_STRING: return 5;
  case TC_DTYPE_BOOL: return 6;
  case TC_DTYPE_I16: return 7;
  case TC_DTYPE_COMPLEX64: return 8;
  case TC_DTYPE_I8: return 9;
  case TC_DTYPE_F64: return 10;
  case TC_DTYPE_COMPLEX128: return 11;
  case TC_DTYPE_U64: return 12;
  case TC_DTYPE_RESOURCE: return 13;
  case TC_DTYPE_VARIANT: return 14;
  case TC_DTYPE_U32: return 15;
  case TC_DTYPE_U16: return 16;
  case TC_DTYPE_I4: return 17;
  case TC_DTYPE_BF16: return 18;
  default: return -1;
  }
}

static tc_dtype tdt(const xsubgraph *s, const xop *o, int i, int input) {
  int n = input ? o->n_in : o->n_out;
  const int32_t *idx = input ? o->in : o->out;
  if (i >= n || idx[i] < 0 || idx[i] >= s->n_t) return TC_DTYPE_UNKNOWN;
  return s->t[idx[i]].dtype;
}

/* Operator version from the tensor types, following the rules of TFLite's op_version for the
 * operators the quantizer and the exporter emit; everything else is version 1. */
static int32_t op_version(const xsubgraph *s, const xop *o) {
  tc_dtype in = tdt(s, o, 0, 1), w = tdt(s, o, 1, 1), out = tdt(s, o, 0, 0);
  int i8 = in == TC_DTYPE_I8, i16 = in == TC_DTYPE_I16;
  int hybrid = in == TC_DTYPE_F32 && (w == TC_DTYPE_I8 || w == TC_DTYPE_U8);
  const xtensor *wt = o->n_in > 1 && o->in[1] >= 0 && o->in[1] < s->n_t ? &s->t[o->in[1]] : NULL;
  switch (o->builtin) {
  case 3: /* CONV_2D */
    if (hybrid) return wt && wt->n_scales > 1 ? 5 : 2;
    if (i16) return 4;
    return i8 ? 3 : 1;
  case 4: /* DEPTHWISE_CONV_2D */
    if (hybrid) return 4;
    if (i16) return 5;
    if (i8) return 3;
    return (o->f[5].set && o->f[5].i != 1) || (o->f[6].set && o->f[6].i != 1) ? 2 : 1;
  case 9: /* FULLY_CONNECTED */
    if (o->f[2].set && o->f[2].i) return 5;
    if (i16) return 7;
    if (hybrid) return 3;
    return i8 ? 4 : 1;
  case 0: case 41: case 18: /* ADD SUB MUL */
    if (i16) return 3;
    return i8 ? 2 : 1;
  case 1: case 17: case 25: case 14: case 28: case 2: case 34: case 40: case 39: case 45:
  case 98: case 19: case 21: case 55: case 57: case 65: case 22: case 43:
    /* pools, softmax, logistic, tanh, concat, pad, mean, transpose, strided slice, leaky relu,
     * relu, relu6, maximum, minimum, slice: int8 is version 2; reshape and squeeze stay 1 */
    if (o->builtin == 22 || o->builtin == 43) return 1;
    return i8 || i16 ? 2 : 1;
  case 114: /* QUANTIZE */
    if (out == TC_DTYPE_I16) return 4;
    return in == TC_DTYPE_I8 || in == TC_DTYPE_U8 ? 2 : 1;
  case 6: /* DEQUANTIZE */
    if (in == TC_DTYPE_F16) return 3;
    {
      const xtensor *t = o->n_in && o->in[0] >= 0 && o->in[0] < s->n_t ? &s->t[o->in[0]] : NULL;
      if (t && t->n_scales > 1) return 4;
    }
    return in == TC_DTYPE_I8 ? 2 : 1;
  default: return 1;
  }
}

typedef struct opcode_key {
  int32_t builtin, version;
  const char *custom;
} opcode_key;

typedef struct wstate {
  tc_graphdef *g;
  fbb b;
  opcode_key *codes;
  int n_codes;
  uint32_t **op_code; /* per subgraph, per op: opcode index */
  uint32_t **tbuf;    /* per subgraph, per tensor: buffer index */
  int n_buffers;
} wstate;

static tc_status check(tc_graphdef *g) {
  for (int si = 0; si < g->n_sg; si++) {
    const xsubgraph *s = &g->sg[si];
    for (int i = 0; i < s->n_t; i++) {
      const xtensor *t = &s->t[i];
      if (tflite_type(t->dtype) < 0)
        return tc__x_fail(g, TC_ERR_ARG, "subgraph %d tensor %d ('%s'): dtype has no TFLite type", si,
                          i, t->name);
      size_t es = tc_dtype_size(t->dtype);
      int64_t n = tc__x_numel(t);
      if (t->data && es && n >= 0 && (uint64_t)n * es != t->size)
        return tc__x_fail(g, TC_ERR_ARG, "subgraph %d tensor %d ('%s'): %zu data bytes for %lld elements",
                          si, i, t->name, t->size, (long long)n);
    }
    for (int i = 0; i < s->n_op; i++) {
      const xop *o = &s->op[i];
      for (int k = 0; k < o->n_in + o->n_out + o->n_inter; k++) {
        int32_t x = k < o->n_in ? o->in[k] : k < o->n_in + o->n_out ? o->out[k - o->n_in]
                                                                      : o->inter[k - o->n_in - o->n_out];
        int is_out = k >= o->n_in && k < o->n_in + o->n_out;
        if (x >= s->n_t || x < -1 || (is_out && x < 0))
          return tc__x_fail(g, TC_ERR_ARG, "subgraph %d operator %d: tensor index %d out of range", si,
                            i, (int)x);
      }
    }
  }
  return TC_OK;
}

static int find_code(wstate *w, int32_t builtin, int32_t version, const char *custom) {
  for (int i = 0; i < w->n_codes; i++) {
    opcode_key *k = &w->codes[i];
    if (k->builtin == builtin && k->version == version &&
        (builtin != 32 || strcmp(k->custom ? k->custom : "", custom ? custom : "") == 0))
      return i;
  }
  opcode_key *nk = tc__realloc(w->codes, (size_t)(w->n_codes + 1) * sizeof *nk);
  if (!nk) return -1;
  w->codes = nk;
  nk[w->n_codes] = (opcode_key){builtin, version, custom};
  return w->n_codes++;
}

static uint32_t ints(fbb *b, const int32_t *v, int n) { return fbb_vector(b, v, (size_t)n, 4, 4); }

static uint32_t write_options(wstate *w, const xop *o) {
  fbb *b = &w->b;
  uint8_t kinds[XOPT_MAX_FIELDS];
  int n = tc__x_options_spec(o->opt_type, kinds);
  if (n < 0) return 0;
  uint32_t refs[XOPT_MAX_FIELDS] = {0};
  for (int i = 0; i < n; i++) {
    const xfield *f = &o->f[i];
    if (!f->set) continue;
    if (kinds[i] == XF_INTS || kinds[i] == XF_FLOATS)
      refs[i] = fbb_vector(b, f->vec, (size_t)f->n, 4, 4);
    else if (kinds[i] == XF_STRING)
      refs[i] = fbb_string(b, f->vec);
  }
  fbb_table_start(b);
  /* widest first: less padding */
  for (int i = 0; i < n; i++) {
    const xfield *f = &o->f[i];
    if (f->set && kinds[i] == XF_LONG) fbb_add_u64(b, i, (uint64_t)f->i);
  }
  for (int i = 0; i < n; i++) {
    const xfield *f = &o->f[i];
    if (!f->set) continue;
    switch (kinds[i]) {
    case XF_INT: case XF_UINT: fbb_add_u32(b, i, (uint32_t)f->i); break;
    case XF_FLOAT: fbb_add_f32(b, i, f->f); break;
    case XF_INTS: case XF_FLOATS: case XF_STRING: fbb_add_ref(b, i, refs[i]); break;
    default: break;
    }
  }
  for (int i = 0; i < n; i++) {
    const xfield *f = &o->f[i];
    if (f->set && kinds[i] == XF_BYTE) fbb_add_u8(b, i, (uint8_t)f->i);
  }
  return fbb_table_end(b);
}

static uint32_t write_tensor(wstate *w, int si, int ti) {
  fbb *b = &w->b;
  const xtensor *t = &w->g->sg[si].t[ti];
  uint32_t name = fbb_string(b, t->name);
  uint32_t shape = ints(b, t->dims, t->n_dims);
  uint32_t sig = t->has_sig ? ints(b, t->sig, t->n_dims) : 0;
  uint32_t quant = 0;
  if (t->n_scales) {
    uint32_t sc = fbb_vector(b, t->scale, (size_t)t->n_scales, 4, 4);
    uint32_t zp = fbb_vector(b, t->zp, (size_t)t->n_scales, 8, 8);
    fbb_table_start(b);
    fbb_add_ref(b, Q_SCALE, sc);
    fbb_add_ref(b, Q_ZERO_POINT, zp);
    if (t->axis) fbb_add_u32(b, Q_DIM, (uint32_t)t->axis);
    quant = fbb_table_end(b);
  }
  fbb_table_start(b);
  fbb_add_ref(b, T_SHAPE, shape);
  fbb_add_u32(b, T_BUFFER, w->tbuf[si][ti]);
  fbb_add_ref(b, T_NAME, name);
  fbb_add_ref(b, T_QUANT, quant);
  fbb_add_ref(b, T_SIGNATURE, sig);
  fbb_add_u8(b, T_TYPE, (uint8_t)tflite_type(t->dtype));
  if (t->is_variable) fbb_add_u8(b, T_IS_VARIABLE, 1);
  return fbb_table_end(b);
}

static uint32_t write_op(wstate *w, int si, int oi) {
  fbb *b = &w->b;
  const xop *o = &w->g->sg[si].op[oi];
  uint32_t in = ints(b, o->in, o->n_in), out = ints(b, o->out, o->n_out);
  uint32_t inter = o->n_inter ? ints(b, o->inter, o->n_inter) : 0;
  uint32_t copts = o->custom_size ? fbb_vector(b, o->custom_opts, o->custom_size, 1, 16) : 0;
  uint32_t opts = o->opt_type ? write_options(w, o) : 0;
  fbb_table_start(b);
  fbb_add_u32(b, OP_OPCODE, w->op_code[si][oi]);
  fbb_add_ref(b, OP_INPUTS, in);
  fbb_add_ref(b, OP_OUTPUTS, out);
  fbb_add_ref(b, OP_OPT, opts);
  fbb_add_ref(b, OP_CUSTOM_OPT, copts);
  fbb_add_ref(b, OP_INTERMEDIATES, inter);
  if (o->opt_type) fbb_add_u8(b, OP_OPT_TYPE, o->opt_type);
  return fbb_table_end(b);
}

static uint32_t write_subgraph(wstate *w, int si) {
  fbb *b = &w->b;
  const xsubgraph *s = &w->g->sg[si];
  uint32_t *refs = tc__malloc((size_t)(s->n_t > s->n_op ? s->n_t : s->n_op) * 4 + 4);
  if (!refs) {
    b->failed = 1;
    return 0;
  }
  for (int i = 0; i < s->n_t; i++) refs[i] = write_tensor(w, si, i);
  uint32_t tensors = fbb_vector_refs(b, refs, (size_t)s->n_t);
  for (int i = 0; i < s->n_op; i++) refs[i] = write_op(w, si, i);
  uint32_t ops = fbb_vector_refs(b, refs, (size_t)s->n_op);
  tc__free(refs);
  uint32_t in = ints(b, s->in, s->n_in), out = ints(b, s->out, s->n_out);
  uint32_t name = fbb_string(b, s->name);
  fbb_table_start(b);
  fbb_add_ref(b, SG_TENSORS, tensors);
  fbb_add_ref(b, SG_INPUTS, in);
  fbb_add_ref(b, SG_OUTPUTS, out);
  fbb_add_ref(b, SG_OPERATORS, ops);
  fbb_add_ref(b, SG_NAME, name);
  return fbb_table_end(b);
}

static uint32_t tensor_maps(fbb *b, int n, char *const *names, const int32_t *idx,
                            const xsubgraph *s, const int32_t *io) {
  uint32_t *refs = tc__malloc((size_t)n * 4 + 4);
  if (!refs) {
    b->failed = 1;
    return 0;
  }
  for (int i = 0; i < n; i++) {
    int32_t t = idx ? idx[i] : io[i];
    uint32_t nm = fbb_string(b, names ? names[i] : s->t[t].name);
    fbb_table_start(b);
    fbb_add_ref(b, TM_NAME, nm);
    fbb_add_u32(b, TM_TENSOR, (uint32_t)t);
    refs[i] = fbb_table_end(b);
  }
  uint32_t v = fbb_vector_refs(b, refs, (size_t)n);
  tc__free(refs);
  return v;
}

static int has_quantized(const tc_graphdef *g) {
  for (int si = 0; si < g->n_sg; si++)
    for (int i = 0; i < g->sg[si].n_t; i++)
      if (g->sg[si].t[i].n_scales || g->sg[si].t[i].dtype == TC_DTYPE_F16) return 1;
  return 0;
}

static int meta_present(const tc_graphdef *g, const char *name) {
  for (int i = 0; i < g->n_meta; i++)
    if (!strcmp(g->meta[i].name, name)) return 1;
  return 0;
}

static tc_status serialize(wstate *w, void **data, size_t *size) {
  tc_graphdef *g = w->g;
  fbb *b = &w->b;
  /* operator codes and buffers */
  w->op_code = tc__calloc((size_t)g->n_sg, sizeof *w->op_code);
  w->tbuf = tc__calloc((size_t)g->n_sg, sizeof *w->tbuf);
  if (!w->op_code || !w->tbuf) return tc__x_fail(g, TC_ERR_NOMEM, "out of memory");
  int n_buffers = 1;
  for (int si = 0; si < g->n_sg; si++) {
    xsubgraph *s = &g->sg[si];
    w->op_code[si] = tc__calloc((size_t)s->n_op + 1, 4);
    w->tbuf[si] = tc__calloc((size_t)s->n_t + 1, 4);
    if (!w->op_code[si] || !w->tbuf[si]) return tc__x_fail(g, TC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < s->n_op; i++) {
      xop *o = &s->op[i];
      int32_t v = o->version > 0 ? o->version : op_version(s, o);
      int c = find_code(w, o->builtin, v, o->custom);
      if (c < 0) return tc__x_fail(g, TC_ERR_NOMEM, "out of memory");
      w->op_code[si][i] = (uint32_t)c;
    }
    for (int i = 0; i < s->n_t; i++)
      if (s->t[i].data) w->tbuf[si][i] = (uint32_t)n_buffers++;
  }
  /* metadata entries: the description's own plus the generated ones */
  const char *gen_names[2] = {"min_runtime_version", "producer"};
  char mrv[16] = {0}, producer[64];
  snprintf(mrv, sizeof mrv, "%s", has_quantized(g) ? "1.14.0" : "1.5.0");
  snprintf(producer, sizeof producer, "tensorc %s", tc_version());
  const void *gen_data[2] = {mrv, producer};
  size_t gen_size[2] = {sizeof mrv, strlen(producer)};
  int gen_on[2] = {!meta_present(g, gen_names[0]), !meta_present(g, gen_names[1])};
  int n_meta = g->n_meta + gen_on[0] + gen_on[1];
  int first_meta_buf = n_buffers;
  n_buffers += n_meta;
  w->n_buffers = n_buffers;

  size_t n_refs = (size_t)n_buffers + (size_t)g->n_sg + (size_t)n_meta + (size_t)w->n_codes +
                  (size_t)g->n_sigs + 4;
  uint32_t *refs = tc__calloc(n_refs, 4);
  if (!refs) return tc__x_fail(g, TC_ERR_NOMEM, "out of memory");
  /* buffers: data vectors first (they end up at the end of the file) */
  uint32_t *bdata = tc__calloc((size_t)n_buffers + 1, 4);
  if (!bdata) {
    tc__free(refs);
    return tc__x_fail(g, TC_ERR_NOMEM, "out of memory");
  }
  for (int si = g->n_sg; si-- > 0;) {
    xsubgraph *s = &g->sg[si];
    for (int i = s->n_t; i-- > 0;)
      if (s->t[i].data)
        bdata[w->tbuf[si][i]] = s->t[i].size ? fbb_vector(b, s->t[i].data, s->t[i].size, 1, 16) : 0;
  }
  int mb = first_meta_buf;
  for (int i = 0; i < g->n_meta; i++, mb++)
    bdata[mb] = fbb_vector(b, g->meta[i].data, g->meta[i].size, 1, 16);
  for (int k = 0; k < 2; k++)
    if (gen_on[k]) bdata[mb++] = fbb_vector(b, gen_data[k], gen_size[k], 1, 16);
  for (int i = 0; i < n_buffers; i++) {
    fbb_table_start(b);
    fbb_add_ref(b, B_DATA, bdata[i]);
    refs[i] = fbb_table_end(b);
  }
  tc__free(bdata);
  uint32_t buffers = fbb_vector_refs(b, refs, (size_t)n_buffers);
  /* subgraphs */
  for (int si = 0; si < g->n_sg; si++) refs[si] = write_subgraph(w, si);
  uint32_t subgraphs = fbb_vector_refs(b, refs, (size_t)g->n_sg);
  /* operator codes */
  for (int i = 0; i < w->n_codes; i++) {
    opcode_key *k = &w->codes[i];
    uint32_t custom = k->builtin == 32 ? fbb_string(b, k->custom ? k->custom : "") : 0;
    fbb_table_start(b);
    fbb_add_ref(b, OC_CUSTOM, custom);
    fbb_add_u32(b, OC_VERSION, (uint32_t)k->version);
    fbb_add_u32(b, OC_BUILTIN, (uint32_t)k->builtin);
    fbb_add_u8(b, OC_DEPRECATED, (uint8_t)(k->builtin < 127 ? k->builtin : 127));
    refs[i] = fbb_table_end(b);
  }
  uint32_t opcodes = fbb_vector_refs(b, refs, (size_t)w->n_codes);
  uint32_t desc = fbb_string(b, g->description);
  /* metadata tables */
  mb = first_meta_buf;
  int mi = 0;
  for (int i = 0; i < g->n_meta; i++, mb++) {
    uint32_t nm = fbb_string(b, g->meta[i].name);
    fbb_table_start(b);
    fbb_add_ref(b, MD_NAME, nm);
    fbb_add_u32(b, MD_BUFFER, (uint32_t)mb);
    refs[mi++] = fbb_table_end(b);
  }
  for (int k = 0; k < 2; k++) {
    if (!gen_on[k]) continue;
    uint32_t nm = fbb_string(b, gen_names[k]);
    fbb_table_start(b);
    fbb_add_ref(b, MD_NAME, nm);
    fbb_add_u32(b, MD_BUFFER, (uint32_t)mb++);
    refs[mi++] = fbb_table_end(b);
  }
  uint32_t metadata = fbb_vector_refs(b, refs, (size_t)mi);
  /* signature defs */
  int n_sigs = g->n_sigs ? g->n_sigs : 1;
  for (int i = 0; i < n_sigs; i++) {
    uint32_t in, out, key;
    uint32_t sgi = 0;
    if (g->n_sigs) {
      const xsig *x = &g->sigs[i];
      in = tensor_maps(b, x->n_in, x->in_names, x->in_t, NULL, NULL);
      out = tensor_maps(b, x->n_out, x->out_names, x->out_t, NULL, NULL);
      key = fbb_string(b, x->key);
      sgi = (uint32_t)x->subgraph;
    } else {
      const xsubgraph *s = &g->sg[0];
      in = tensor_maps(b, s->n_in, NULL, NULL, s, s->in);
      out = tensor_maps(b, s->n_out, NULL, NULL, s, s->out);
      key = fbb_string(b, "serving_default");
    }
    fbb_table_start(b);
    fbb_add_ref(b, SD_INPUTS, in);
    fbb_add_ref(b, SD_OUTPUTS, out);
    fbb_add_ref(b, SD_KEY, key);
    fbb_add_u32(b, SD_SUBGRAPH, sgi);
    refs[i] = fbb_table_end(b);
  }
  uint32_t sigs = fbb_vector_refs(b, refs, (size_t)n_sigs);
  tc__free(refs);
  fbb_table_start(b);
  fbb_add_u32(b, M_VERSION, 3);
  fbb_add_ref(b, M_OPCODES, opcodes);
  fbb_add_ref(b, M_SUBGRAPHS, subgraphs);
  fbb_add_ref(b, M_DESCRIPTION, desc);
  fbb_add_ref(b, M_BUFFERS, buffers);
  fbb_add_ref(b, M_METADATA, metadata);
  fbb_add_ref(b, M_SIGNATURES, sigs);
  uint32_t root = fbb_table_end(b);
  const uint8_t *bytes;
  size_t n;
  if (fbb_finish(b, root, "TFL3", &bytes, &n))
    return tc__x_fail(g, TC_ERR_NOMEM, "out of memory (or model over 2 GiB) while writing");
  void *copy = tc__malloc(n);
  if (!copy) return tc__x_fail(g, TC_ERR_NOMEM, "out of memory");
  memcpy(copy, bytes, n);
  *data = copy;
  *size = n;
  return TC_OK;
}

tc_status tc_graphdef_write(tc_graphdef *g, void **data, size_t *size) {
  if (!g || !data || !size) return TC_ERR_ARG;
  *data = NULL;
  *size = 0;
  g->status = TC_OK;
  g->errmsg[0] = 0;
  tc_status s = check(g);
  if (s) return s;
  wstate w;
  memset(&w, 0, sizeof w);
  w.g = g;
  fbb_init(&w.b);
  s = serialize(&w, data, size);
  for (int si = 0; si < g->n_sg; si++) {
    if (w.op_code) tc__free(w.op_code[si]);
    if (w.tbuf) tc__free(w.tbuf[si]);
  }
  tc__free(w.op_code);
  tc__free(w.tbuf);
  tc__free(w.codes);
  fbb_free(&w.b);
  return s;
}

tc_status tc_graphdef_write_file(tc_graphdef *g, const char *path) {
  if (!g || !path) return TC_ERR_ARG;
  void *data;
  size_t size;
  tc_status s = tc_graphdef_write(g, &data, &size);
  if (s) return s;
  FILE *f = fopen(path, "wb");
  int ok = f && fwrite(data, 1, size, f) == size;
  if (f && fclose(f) != 0) ok = 0;
  tc__free(data);
  if (!ok) return tc__x_fail(g, TC_ERR_IO, "cannot write '%s'", path);
  return TC_OK;
}

void tc_export_free(void *p) { tc__free(p); }
