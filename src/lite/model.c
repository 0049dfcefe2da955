/* model.c: loads a .tflite file and builds its verified index (model.h).
 *
 * Loading is a single pass over the flatbuffer through the checked reader: every table, vector
 * and string is bounds-checked when it is reached, every index (buffer, opcode, tensor,
 * subgraph) is range-checked, constant buffers must be at least as large as their tensor's
 * shape needs, and builtin options tables are opened (so later reads of their scalars are
 * safe). The first problem stops loading with a message naming the field, e.g.
 * "subgraphs[0].tensors[12].buffer: index 300 out of range (92 buffers)". */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lite/model.h"

/* TFLite schema field ids (schema v3). */
enum { M_VERSION = 0, M_OPCODES, M_SUBGRAPHS, M_DESCRIPTION, M_BUFFERS, M_METADATA_BUFFER,
       M_METADATA, M_SIGNATURES };
enum { OC_DEPRECATED = 0, OC_CUSTOM, OC_VERSION, OC_BUILTIN };
enum { SG_TENSORS = 0, SG_INPUTS, SG_OUTPUTS, SG_OPERATORS, SG_NAME };
enum { T_SHAPE = 0, T_TYPE, T_BUFFER, T_NAME, T_QUANT, T_IS_VARIABLE, T_SPARSITY, T_SIGNATURE };
enum { Q_MIN = 0, Q_MAX, Q_SCALE, Q_ZERO_POINT, Q_DETAILS_TYPE, Q_DETAILS, Q_DIM };
enum { OP_OPCODE = 0, OP_INPUTS, OP_OUTPUTS, OP_OPT_TYPE, OP_OPT, OP_CUSTOM_OPT, OP_CUSTOM_FMT,
       OP_MUTATING, OP_INTERMEDIATES, OP_LARGE_OFF, OP_LARGE_SIZE, OP_OPT2_TYPE, OP_OPT2 };
enum { B_DATA = 0, B_OFFSET, B_SIZE };
enum { MD_NAME = 0, MD_BUFFER };
enum { SD_INPUTS = 0, SD_OUTPUTS, SD_KEY, SD_TAG, SD_SUBGRAPH };
enum { TM_NAME = 0, TM_TENSOR };

typedef struct loader {
  tc_model *m;
  const tc__fb *fb;
  const uint8_t **buf_data; /* per buffer: data pointer (NULL if empty) */
  size_t *buf_size;
} loader;

static tc_status failv(tc_model *m, tc_status s, const char *fmt, va_list ap) {
  m->status = s;
  tc__vfmt(m->errmsg, sizeof m->errmsg, fmt, ap);
  return s;
}
static tc_status fail(tc_model *m, tc_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static tc_status fail(tc_model *m, tc_status s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  failv(m, s, fmt, ap);
  va_end(ap);
  return s;
}

static void *ialloc(loader *L, size_t n, size_t size) {
  size_t total;
  if (!tc__mul_size(n, size, &total)) return NULL;
  return tc__arena_alloc(&L->m->arena, total);
}
#define NOMEM(L) fail((L)->m, TC_ERR_NOMEM, "out of memory while indexing the model")

tc_dtype tc__dtype_from_tflite(int32_t t) {
  switch (t) {
  case 0: return TC_DTYPE_F32;
  case 1: return TC_DTYPE_F16;
  case 2: return TC_DTYPE_I32;
  case 3: return TC_DTYPE_U8;
  case 4: return TC_DTYPE_I64;
  case 5: return TC_DTYPE_STRING;
  case 6: return TC_DTYPE_BOOL;
  case 7: return TC_DTYPE_I16;
  case 8: return TC_DTYPE_COMPLEX64;
  case 9: return TC_DTYPE_I8;
  case 10: return TC_DTYPE_F64;
  case 11: return TC_DTYPE_COMPLEX128;
  case 12: return TC_DTYPE_U64;
  case 13: return TC_DTYPE_RESOURCE;
  case 14: return TC_DTYPE_VARIANT;
  case 15: return TC_DTYPE_U32;
  case 16: return TC_DTYPE_U16;
  case 17: return TC_DTYPE_I4;
  case 18: return TC_DTYPE_BF16;
  default: return TC_DTYPE_UNKNOWN;
  }
}

/* Reads an optional [int] vector into a fresh int32 array. */
static tc_status read_ints(loader *L, const tc__fbt *t, int id, const char *what, int32_t *n_out,
                           const int32_t **out) {
  tc__fbv v;
  tc__fb_res r = tc__fb_vector(L->fb, t, id, 4, &v);
  *n_out = 0;
  *out = NULL;
  if (r == TC_FB_ABSENT) return TC_OK;
  if (r == TC_FB_BAD) return fail(L->m, TC_ERR_MODEL, "%s: %s", what, tc__fb_why());
  if (v.n > (1u << 24)) return fail(L->m, TC_ERR_MODEL, "%s: %u entries is implausible", what, v.n);
  int32_t *a = ialloc(L, v.n ? v.n : 1, sizeof *a);
  if (!a) return NOMEM(L);
  for (uint32_t i = 0; i < v.n; i++) a[i] = tc__ld_i32(L->fb->buf + v.pos + 4 * i);
  *n_out = (int32_t)v.n;
  *out = a;
  return TC_OK;
}

static tc_status read_str(loader *L, const tc__fbt *t, int id, const char *what,
                          const char **out) {
  tc__fb_res r = tc__fb_string(L->fb, t, id, out, NULL);
  if (r == TC_FB_BAD) return fail(L->m, TC_ERR_MODEL, "%s: %s", what, tc__fb_why());
  if (r == TC_FB_ABSENT) *out = "";
  return TC_OK;
}

static tc_status load_buffers(loader *L, const tc__fbt *root) {
  tc__fbv v;
  tc__fb_res r = tc__fb_vector(L->fb, root, M_BUFFERS, 4, &v);
  if (r == TC_FB_BAD) return fail(L->m, TC_ERR_MODEL, "buffers: %s", tc__fb_why());
  L->m->n_buffers = (int32_t)v.n;
  L->buf_data = ialloc(L, v.n ? v.n : 1, sizeof *L->buf_data);
  L->buf_size = ialloc(L, v.n ? v.n : 1, sizeof *L->buf_size);
  if (!L->buf_data || !L->buf_size) return NOMEM(L);
  for (uint32_t i = 0; i < v.n; i++) {
    tc__fbt b;
    if (tc__fb_vtable_at(L->fb, &v, i, &b) != TC_FB_OK)
      return fail(L->m, TC_ERR_MODEL, "buffers[%u]: %s", i, tc__fb_why());
    tc__fbv d;
    r = tc__fb_vector(L->fb, &b, B_DATA, 1, &d);
    if (r == TC_FB_BAD) return fail(L->m, TC_ERR_MODEL, "buffers[%u].data: %s", i, tc__fb_why());
    if (r == TC_FB_OK && d.n > 0) {
      L->buf_data[i] = L->fb->buf + d.pos;
      L->buf_size[i] = d.n;
      continue;
    }
    uint64_t off = tc__fb_u64(L->fb, &b, B_OFFSET, 0), size = tc__fb_u64(L->fb, &b, B_SIZE, 0);
    if (off > 1 || size > 0) {
      /* Large-model form: bytes stored after the flatbuffer, offset from the file start. */
      if (off > L->fb->size || size > L->fb->size - off)
        return fail(L->m, TC_ERR_MODEL,
                    "buffers[%u]: offset %llu + size %llu is outside the file (%zu bytes)", i,
                    (unsigned long long)off, (unsigned long long)size, L->fb->size);
      L->buf_data[i] = size ? L->fb->buf + off : NULL;
      L->buf_size[i] = (size_t)size;
    }
  }
  return TC_OK;
}

static tc_status load_opcodes(loader *L, const tc__fbt *root) {
  tc__fbv v;
  tc__fb_res r = tc__fb_vector(L->fb, root, M_OPCODES, 4, &v);
  if (r == TC_FB_BAD) return fail(L->m, TC_ERR_MODEL, "operator_codes: %s", tc__fb_why());
  L->m->n_opcodes = (int32_t)v.n;
  L->m->opcodes = ialloc(L, v.n ? v.n : 1, sizeof *L->m->opcodes);
  if (!L->m->opcodes) return NOMEM(L);
  for (uint32_t i = 0; i < v.n; i++) {
    tc__fbt t;
    if (tc__fb_vtable_at(L->fb, &v, i, &t) != TC_FB_OK)
      return fail(L->m, TC_ERR_MODEL, "operator_codes[%u]: %s", i, tc__fb_why());
    tc__mopcode *oc = &L->m->opcodes[i];
    /* Old files set only the int8 deprecated code; new ones set builtin_code (and put
     * PLACEHOLDER_FOR_GREATER_OP_CODES = 127 in the deprecated field for codes >= 127). */
    int32_t dep = tc__fb_i8(L->fb, &t, OC_DEPRECATED, 0);
    int32_t cur = tc__fb_i32(L->fb, &t, OC_BUILTIN, 0);
    oc->builtin = cur > dep ? cur : dep;
    if (oc->builtin < 0)
      return fail(L->m, TC_ERR_MODEL, "operator_codes[%u]: negative builtin code %d", i,
                  (int)oc->builtin);
    oc->version = tc__fb_i32(L->fb, &t, OC_VERSION, 1);
    const char *custom = NULL;
    r = tc__fb_string(L->fb, &t, OC_CUSTOM, &custom, NULL);
    if (r == TC_FB_BAD)
      return fail(L->m, TC_ERR_MODEL, "operator_codes[%u].custom_code: %s", i, tc__fb_why());
    oc->custom = custom;
  }
  return TC_OK;
}

static tc_status load_quant(loader *L, const tc__fbt *t, const char *where, tc__mtensor *mt) {
  tc__fbt q;
  tc__fb_res r = tc__fb_table(L->fb, t, T_QUANT, &q);
  if (r == TC_FB_ABSENT) return TC_OK;
  if (r == TC_FB_BAD) return fail(L->m, TC_ERR_MODEL, "%s.quantization: %s", where, tc__fb_why());
  tc__fbv sv, zv, mnv, mxv;
  tc__fb_res rs = tc__fb_vector(L->fb, &q, Q_SCALE, 4, &sv);
  tc__fb_res rz = tc__fb_vector(L->fb, &q, Q_ZERO_POINT, 8, &zv);
  tc__fb_res rmn = tc__fb_vector(L->fb, &q, Q_MIN, 4, &mnv);
  tc__fb_res rmx = tc__fb_vector(L->fb, &q, Q_MAX, 4, &mxv);
  if (rs == TC_FB_BAD || rz == TC_FB_BAD || rmn == TC_FB_BAD || rmx == TC_FB_BAD)
    return fail(L->m, TC_ERR_MODEL, "%s.quantization: %s", where, tc__fb_why());
  if (rs == TC_FB_OK && sv.n > 0) {
    if (sv.n > (1u << 20))
      return fail(L->m, TC_ERR_MODEL, "%s.quantization.scale: %u entries", where, sv.n);
    float *sc = ialloc(L, sv.n, sizeof *sc);
    int64_t *zp = ialloc(L, sv.n, sizeof *zp);
    if (!sc || !zp) return NOMEM(L);
    for (uint32_t i = 0; i < sv.n; i++) {
      uint32_t bits = tc__ld_u32(L->fb->buf + sv.pos + 4 * i);
      memcpy(&sc[i], &bits, 4);
      zp[i] = 0;
      if (!(sc[i] >= 0.0f) || isinf(sc[i]))
        return fail(L->m, TC_ERR_MODEL, "%s.quantization.scale[%u] = %g is not a finite, non-negative number",
                    where, i, (double)sc[i]);
    }
    if (rz == TC_FB_OK) {
      if (zv.n != sv.n && zv.n != 1 && zv.n != 0)
        return fail(L->m, TC_ERR_MODEL, "%s.quantization: %u zero points for %u scales", where,
                    zv.n, sv.n);
      for (uint32_t i = 0; i < sv.n && zv.n; i++)
        zp[i] = (int64_t)tc__ld_u64(L->fb->buf + zv.pos + 8 * (zv.n == 1 ? 0 : i));
    }
    /* A zero point is a value of the tensor's type: ops negate it and add it in int32, so one
     * outside the type (a hostile file's -2^31) is rejected here, once for every op. */
    int64_t zlo = 0, zhi = -1;
    if (mt->dtype == TC_DTYPE_I8) zlo = INT8_MIN, zhi = INT8_MAX;
    else if (mt->dtype == TC_DTYPE_U8) zlo = 0, zhi = UINT8_MAX;
    else if (mt->dtype == TC_DTYPE_I16) zlo = INT16_MIN, zhi = INT16_MAX;
    for (uint32_t i = 0; i < sv.n && zlo <= zhi; i++)
      if (zp[i] < zlo || zp[i] > zhi)
        return fail(L->m, TC_ERR_MODEL,
                    "%s.quantization.zero_point[%u] = %lld is outside the %s range [%lld, %lld]",
                    where, i, (long long)zp[i], tc_dtype_name(mt->dtype), (long long)zlo,
                    (long long)zhi);
    mt->q.n_scales = (int32_t)sv.n;
    mt->q.scale = sc;
    mt->q.zero_point = zp;
  }
  mt->q.axis = tc__fb_i32(L->fb, &q, Q_DIM, 0);
  /* Per-axis scales must match the quantized dimension. TFLM also accepts a 1-D tensor whose
   * quantized_dimension is out of range (tflm/person_detect's biases say 3), so that case only
   * needs one scale per element. */
  int64_t numel = mt->n_dims == 1 ? mt->dims[0] : -1; /* only needed for rank 1 */
  if (mt->q.n_scales > 1 &&
      (mt->q.axis < 0 ||
       (mt->q.axis < mt->n_dims && mt->dims[mt->q.axis] != mt->q.n_scales) ||
       (mt->q.axis >= mt->n_dims && (mt->n_dims != 1 || numel != mt->q.n_scales))))
    return fail(L->m, TC_ERR_MODEL,
                "%s.quantization: %d scales along dimension %d do not match the shape", where,
                (int)mt->q.n_scales, (int)mt->q.axis);
  if (rmn == TC_FB_OK && rmx == TC_FB_OK && mnv.n == mxv.n && mnv.n > 0 && mnv.n < (1u << 20)) {
    float *mn = ialloc(L, mnv.n, sizeof *mn), *mx = ialloc(L, mnv.n, sizeof *mx);
    if (!mn || !mx) return NOMEM(L);
    for (uint32_t i = 0; i < mnv.n; i++) {
      uint32_t b0 = tc__ld_u32(L->fb->buf + mnv.pos + 4 * i), b1 = tc__ld_u32(L->fb->buf + mxv.pos + 4 * i);
      memcpy(&mn[i], &b0, 4);
      memcpy(&mx[i], &b1, 4);
    }
    mt->q.n_min_max = (int32_t)mnv.n;
    mt->q.min = mn;
    mt->q.max = mx;
  }
  return TC_OK;
}

static tc_status load_tensor(loader *L, const tc__fbt *t, int sg, uint32_t ti, tc__mtensor *mt) {
  char where[64];
  tc_status s;
  snprintf(where, sizeof where, "subgraphs[%d].tensors[%u]", sg, ti);
  const int32_t *shape, *sig;
  int32_t n_shape, n_sig;
  if ((s = read_str(L, t, T_NAME, where, &mt->name))) return s;
  if ((s = read_ints(L, t, T_SHAPE, where, &n_shape, &shape))) return s;
  if (n_shape > TC_MAX_DIMS)
    return fail(L->m, TC_ERR_UNSUPPORTED, "%s ('%s'): rank %d exceeds the maximum of %d", where,
                mt->name, (int)n_shape, TC_MAX_DIMS);
  mt->n_dims = n_shape;
  for (int i = 0; i < n_shape; i++) {
    if (shape[i] < 0 && shape[i] != -1)
      return fail(L->m, TC_ERR_MODEL, "%s ('%s').shape[%d] = %d is negative", where, mt->name, i,
                  (int)shape[i]);
    mt->dims[i] = shape[i];
    mt->sig[i] = shape[i];
  }
  if ((s = read_ints(L, t, T_SIGNATURE, where, &n_sig, &sig))) return s;
  if (n_sig > 0) {
    if (n_sig != n_shape)
      return fail(L->m, TC_ERR_MODEL, "%s ('%s'): shape_signature has rank %d but shape has %d",
                  where, mt->name, (int)n_sig, (int)n_shape);
    for (int i = 0; i < n_sig; i++) mt->sig[i] = sig[i];
    mt->has_signature = 1;
  }
  mt->tflite_type = tc__fb_i8(L->fb, t, T_TYPE, 0);
  mt->dtype = tc__dtype_from_tflite(mt->tflite_type);
  if (mt->dtype == TC_DTYPE_UNKNOWN)
    return fail(L->m, TC_ERR_MODEL, "%s ('%s'): unknown tensor type %d", where, mt->name,
                (int)mt->tflite_type);
  mt->is_variable = tc__fb_u8(L->fb, t, T_IS_VARIABLE, 0) != 0;
  mt->has_sparsity = tc__fb_field(L->fb, t, T_SPARSITY) != 0;
  mt->buffer = tc__fb_u32(L->fb, t, T_BUFFER, 0);
  if (mt->buffer >= (uint32_t)L->m->n_buffers && !(mt->buffer == 0 && L->m->n_buffers == 0))
    return fail(L->m, TC_ERR_MODEL, "%s ('%s').buffer: index %u out of range (%d buffers)", where,
                mt->name, mt->buffer, (int)L->m->n_buffers);
  if (L->m->n_buffers > 0 && L->buf_data[mt->buffer]) {
    mt->data = L->buf_data[mt->buffer];
    mt->data_size = L->buf_size[mt->buffer];
    size_t esize = tc_dtype_size(mt->dtype), need = esize;
    int fixed = esize > 0 && !mt->has_sparsity;
    for (int i = 0; i < mt->n_dims && fixed; i++) {
      if (mt->dims[i] < 0) fixed = 0;
      else if (!tc__mul_size(need, (size_t)mt->dims[i], &need))
        return fail(L->m, TC_ERR_MODEL, "%s ('%s'): shape overflows", where, mt->name);
    }
    if (fixed && mt->data_size < need)
      return fail(L->m, TC_ERR_MODEL,
                  "%s ('%s'): buffer %u holds %zu bytes but its shape needs %zu", where,
                  mt->name, mt->buffer, mt->data_size, need);
  }
  return load_quant(L, t, where, mt);
}

static tc_status check_index_list(loader *L, int sg, const char *what, uint32_t op, int32_t n,
                                  const int32_t *idx, int32_t n_tensors, int allow_neg) {
  for (int32_t i = 0; i < n; i++) {
    if ((idx[i] == -1 && allow_neg) || (idx[i] >= 0 && idx[i] < n_tensors)) continue;
    if (op == UINT32_MAX)
      return fail(L->m, TC_ERR_MODEL, "subgraphs[%d].%s[%d]: tensor index %d out of range (%d tensors)",
                  sg, what, (int)i, (int)idx[i], (int)n_tensors);
    return fail(L->m, TC_ERR_MODEL,
                "subgraphs[%d].operators[%u].%s[%d]: tensor index %d out of range (%d tensors)", sg,
                op, what, (int)i, (int)idx[i], (int)n_tensors);
  }
  return TC_OK;
}

static tc_status load_operator(loader *L, const tc__fbt *t, int sg, uint32_t oi, tc__mop *op,
                               int32_t n_tensors) {
  char where[64];
  tc_status s;
  snprintf(where, sizeof where, "subgraphs[%d].operators[%u]", sg, oi);
  op->opcode = tc__fb_u32(L->fb, t, OP_OPCODE, 0);
  if (op->opcode >= (uint32_t)L->m->n_opcodes)
    return fail(L->m, TC_ERR_MODEL, "%s.opcode_index: %u out of range (%d operator codes)", where,
                op->opcode, (int)L->m->n_opcodes);
  if ((s = read_ints(L, t, OP_INPUTS, where, &op->n_inputs, &op->inputs))) return s;
  if ((s = read_ints(L, t, OP_OUTPUTS, where, &op->n_outputs, &op->outputs))) return s;
  if ((s = read_ints(L, t, OP_INTERMEDIATES, where, &op->n_intermediates, &op->intermediates)))
    return s;
  if ((s = check_index_list(L, sg, "inputs", oi, op->n_inputs, op->inputs, n_tensors, 1))) return s;
  if ((s = check_index_list(L, sg, "outputs", oi, op->n_outputs, op->outputs, n_tensors, 0)))
    return s;
  if ((s = check_index_list(L, sg, "intermediates", oi, op->n_intermediates, op->intermediates,
                            n_tensors, 1)))
    return s;
  op->options_type = tc__fb_u8(L->fb, t, OP_OPT_TYPE, 0);
  tc__fb_res r = tc__fb_table(L->fb, t, OP_OPT, &op->options);
  if (r == TC_FB_BAD) return fail(L->m, TC_ERR_MODEL, "%s.builtin_options: %s", where, tc__fb_why());
  op->options2_type = tc__fb_u8(L->fb, t, OP_OPT2_TYPE, 0);
  r = tc__fb_table(L->fb, t, OP_OPT2, &op->options2);
  if (r == TC_FB_BAD)
    return fail(L->m, TC_ERR_MODEL, "%s.builtin_options_2: %s", where, tc__fb_why());
  tc__fbv cv;
  r = tc__fb_vector(L->fb, t, OP_CUSTOM_OPT, 1, &cv);
  if (r == TC_FB_BAD) return fail(L->m, TC_ERR_MODEL, "%s.custom_options: %s", where, tc__fb_why());
  if (r == TC_FB_OK) {
    op->custom_options = L->fb->buf + cv.pos;
    op->custom_options_size = cv.n;
  } else {
    uint64_t off = tc__fb_u64(L->fb, t, OP_LARGE_OFF, 0), size = tc__fb_u64(L->fb, t, OP_LARGE_SIZE, 0);
    if (size) {
      if (off > L->fb->size || size > L->fb->size - off)
        return fail(L->m, TC_ERR_MODEL, "%s.large_custom_options: outside the file", where);
      op->custom_options = L->fb->buf + off;
      op->custom_options_size = (size_t)size;
    }
  }
  return TC_OK;
}

static tc_status load_subgraphs(loader *L, const tc__fbt *root) {
  tc__fbv v;
  tc__fb_res r = tc__fb_vector(L->fb, root, M_SUBGRAPHS, 4, &v);
  if (r == TC_FB_BAD) return fail(L->m, TC_ERR_MODEL, "subgraphs: %s", tc__fb_why());
  if (r == TC_FB_ABSENT || v.n == 0) return fail(L->m, TC_ERR_MODEL, "model has no subgraphs");
  L->m->n_subgraphs = (int32_t)v.n;
  L->m->subgraphs = ialloc(L, v.n, sizeof *L->m->subgraphs);
  if (!L->m->subgraphs) return NOMEM(L);
  for (uint32_t g = 0; g < v.n; g++) {
    tc__fbt t;
    tc_status s;
    char where[48];
    snprintf(where, sizeof where, "subgraphs[%u]", g);
    if (tc__fb_vtable_at(L->fb, &v, g, &t) != TC_FB_OK)
      return fail(L->m, TC_ERR_MODEL, "%s: %s", where, tc__fb_why());
    tc__msubgraph *sg = &L->m->subgraphs[g];
    if ((s = read_str(L, &t, SG_NAME, where, &sg->name))) return s;
    tc__fbv tv, ov;
    r = tc__fb_vector(L->fb, &t, SG_TENSORS, 4, &tv);
    if (r == TC_FB_BAD) return fail(L->m, TC_ERR_MODEL, "%s.tensors: %s", where, tc__fb_why());
    if (tv.n > (1u << 22)) return fail(L->m, TC_ERR_MODEL, "%s.tensors: %u is implausible", where, tv.n);
    sg->n_tensors = (int32_t)tv.n;
    sg->tensors = ialloc(L, tv.n ? tv.n : 1, sizeof *sg->tensors);
    if (!sg->tensors) return NOMEM(L);
    for (uint32_t i = 0; i < tv.n; i++) {
      tc__fbt tt;
      if (tc__fb_vtable_at(L->fb, &tv, i, &tt) != TC_FB_OK)
        return fail(L->m, TC_ERR_MODEL, "%s.tensors[%u]: %s", where, i, tc__fb_why());
      if ((s = load_tensor(L, &tt, (int)g, i, &sg->tensors[i]))) return s;
    }
    if ((s = read_ints(L, &t, SG_INPUTS, where, &sg->n_inputs, &sg->inputs))) return s;
    if ((s = read_ints(L, &t, SG_OUTPUTS, where, &sg->n_outputs, &sg->outputs))) return s;
    if ((s = check_index_list(L, (int)g, "inputs", UINT32_MAX, sg->n_inputs, sg->inputs,
                              sg->n_tensors, 0)))
      return s;
    if ((s = check_index_list(L, (int)g, "outputs", UINT32_MAX, sg->n_outputs, sg->outputs,
                              sg->n_tensors, 0)))
      return s;
    r = tc__fb_vector(L->fb, &t, SG_OPERATORS, 4, &ov);
    if (r == TC_FB_BAD) return fail(L->m, TC_ERR_MODEL, "%s.operators: %s", where, tc__fb_why());
    if (ov.n > (1u << 22)) return fail(L->m, TC_ERR_MODEL, "%s.operators: %u is implausible", where, ov.n);
    sg->n_ops = (int32_t)ov.n;
    sg->ops = ialloc(L, ov.n ? ov.n : 1, sizeof *sg->ops);
    if (!sg->ops) return NOMEM(L);
    for (uint32_t i = 0; i < ov.n; i++) {
      tc__fbt ot;
      if (tc__fb_vtable_at(L->fb, &ov, i, &ot) != TC_FB_OK)
        return fail(L->m, TC_ERR_MODEL, "%s.operators[%u]: %s", where, i, tc__fb_why());
      if ((s = load_operator(L, &ot, (int)g, i, &sg->ops[i], sg->n_tensors))) return s;
    }
  }
  return TC_OK;
}

static tc_status load_metadata(loader *L, const tc__fbt *root) {
  tc__fbv v;
  tc__fb_res r = tc__fb_vector(L->fb, root, M_METADATA, 4, &v);
  if (r == TC_FB_BAD) return fail(L->m, TC_ERR_MODEL, "metadata: %s", tc__fb_why());
  L->m->n_metadata = (int32_t)v.n;
  L->m->metadata = ialloc(L, v.n ? v.n : 1, sizeof *L->m->metadata);
  if (!L->m->metadata) return NOMEM(L);
  for (uint32_t i = 0; i < v.n; i++) {
    tc__fbt t;
    char where[32];
    snprintf(where, sizeof where, "metadata[%u]", i);
    if (tc__fb_vtable_at(L->fb, &v, i, &t) != TC_FB_OK)
      return fail(L->m, TC_ERR_MODEL, "%s: %s", where, tc__fb_why());
    tc__mmeta *md = &L->m->metadata[i];
    tc_status s = read_str(L, &t, MD_NAME, where, &md->name);
    if (s) return s;
    uint32_t b = tc__fb_u32(L->fb, &t, MD_BUFFER, 0);
    if (b >= (uint32_t)L->m->n_buffers)
      return fail(L->m, TC_ERR_MODEL, "%s.buffer: index %u out of range (%d buffers)", where, b,
                  (int)L->m->n_buffers);
    md->data = L->buf_data[b];
    md->size = L->buf_size[b];
  }
  return TC_OK;
}

static tc_status load_tensor_maps(loader *L, const tc__fbt *t, int id, const char *where,
                                  int32_t n_tensors, int32_t *n_out, const char ***names,
                                  const uint32_t **idx) {
  tc__fbv v;
  tc__fb_res r = tc__fb_vector(L->fb, t, id, 4, &v);
  if (r == TC_FB_BAD) return fail(L->m, TC_ERR_MODEL, "%s: %s", where, tc__fb_why());
  const char **nm = ialloc(L, v.n ? v.n : 1, sizeof *nm);
  uint32_t *ix = ialloc(L, v.n ? v.n : 1, sizeof *ix);
  if (!nm || !ix) return NOMEM(L);
  for (uint32_t i = 0; i < v.n; i++) {
    tc__fbt tm;
    if (tc__fb_vtable_at(L->fb, &v, i, &tm) != TC_FB_OK)
      return fail(L->m, TC_ERR_MODEL, "%s[%u]: %s", where, i, tc__fb_why());
    tc_status s = read_str(L, &tm, TM_NAME, where, &nm[i]);
    if (s) return s;
    ix[i] = tc__fb_u32(L->fb, &tm, TM_TENSOR, 0);
    if (ix[i] >= (uint32_t)n_tensors)
      return fail(L->m, TC_ERR_MODEL, "%s[%u].tensor_index: %u out of range (%d tensors)", where,
                  i, ix[i], (int)n_tensors);
  }
  *n_out = (int32_t)v.n;
  *names = nm;
  *idx = ix;
  return TC_OK;
}

static tc_status load_signatures(loader *L, const tc__fbt *root) {
  tc__fbv v;
  tc__fb_res r = tc__fb_vector(L->fb, root, M_SIGNATURES, 4, &v);
  if (r == TC_FB_BAD) return fail(L->m, TC_ERR_MODEL, "signature_defs: %s", tc__fb_why());
  L->m->n_signatures = (int32_t)v.n;
  L->m->signatures = ialloc(L, v.n ? v.n : 1, sizeof *L->m->signatures);
  if (!L->m->signatures) return NOMEM(L);
  for (uint32_t i = 0; i < v.n; i++) {
    tc__fbt t;
    char where[48];
    tc_status s;
    snprintf(where, sizeof where, "signature_defs[%u]", i);
    if (tc__fb_vtable_at(L->fb, &v, i, &t) != TC_FB_OK)
      return fail(L->m, TC_ERR_MODEL, "%s: %s", where, tc__fb_why());
    tc__msig *sd = &L->m->signatures[i];
    if ((s = read_str(L, &t, SD_KEY, where, &sd->key))) return s;
    sd->subgraph = tc__fb_u32(L->fb, &t, SD_SUBGRAPH, 0);
    if (sd->subgraph >= (uint32_t)L->m->n_subgraphs)
      return fail(L->m, TC_ERR_MODEL, "%s.subgraph_index: %u out of range (%d subgraphs)", where,
                  sd->subgraph, (int)L->m->n_subgraphs);
    int32_t nt = L->m->subgraphs[sd->subgraph].n_tensors;
    char w2[64];
    snprintf(w2, sizeof w2, "%s.inputs", where);
    if ((s = load_tensor_maps(L, &t, SD_INPUTS, w2, nt, &sd->n_inputs, &sd->input_names,
                              &sd->input_tensors)))
      return s;
    snprintf(w2, sizeof w2, "%s.outputs", where);
    if ((s = load_tensor_maps(L, &t, SD_OUTPUTS, w2, nt, &sd->n_outputs, &sd->output_names,
                              &sd->output_tensors)))
      return s;
  }
  return TC_OK;
}

/* Walks the whole file. On success the model's index is complete. */
static tc_status load_index(tc_model *m) {
  loader L = {m, &m->fb, NULL, NULL};
  tc__fbt root;
  tc_status s;
  if (m->fb.size < 8)
    return fail(m, TC_ERR_MODEL, "file is truncated: %zu bytes is smaller than a flatbuffer header",
                m->fb.size);
  if (memcmp(m->fb.buf + 4, "TFL3", 4) != 0)
    return fail(m, TC_ERR_MODEL,
                "not a TensorFlow Lite model: file identifier is '%c%c%c%c', expected 'TFL3'",
                m->fb.buf[4] >= 32 && m->fb.buf[4] < 127 ? m->fb.buf[4] : '?',
                m->fb.buf[5] >= 32 && m->fb.buf[5] < 127 ? m->fb.buf[5] : '?',
                m->fb.buf[6] >= 32 && m->fb.buf[6] < 127 ? m->fb.buf[6] : '?',
                m->fb.buf[7] >= 32 && m->fb.buf[7] < 127 ? m->fb.buf[7] : '?');
  if (tc__fb_root(&m->fb, "TFL3", &root) != TC_FB_OK)
    return fail(m, TC_ERR_MODEL, "model root table: %s", tc__fb_why());
  m->version = tc__fb_u32(&m->fb, &root, M_VERSION, 0);
  if (m->version != 3)
    return fail(m, TC_ERR_UNSUPPORTED, "schema version %u is not supported (expected 3)",
                m->version);
  if ((s = read_str(&L, &root, M_DESCRIPTION, "description", &m->description))) return s;
  if ((s = load_buffers(&L, &root))) return s;
  if ((s = load_opcodes(&L, &root))) return s;
  if ((s = load_subgraphs(&L, &root))) return s;
  if ((s = load_metadata(&L, &root))) return s;
  if ((s = load_signatures(&L, &root))) return s;
  for (int32_t g = 0; g < m->n_subgraphs; g++)
    for (int32_t i = 0; i < m->subgraphs[g].n_tensors; i++)
      m->weights_size += m->subgraphs[g].tensors[i].data ? m->subgraphs[g].tensors[i].data_size : 0;
  return TC_OK;
}

/* Creates the handle (in the caller's memory or on the heap) and indexes the bytes. */
static tc_status model_init(const void *data, size_t size, const tc_model_options *opts,
                            tc_model **out) {
  tc_model *m;
  if (opts && opts->mem) {
    tc__arena a;
    tc__arena_init_fixed(&a, opts->mem, opts->mem_size);
    m = tc__arena_alloc(&a, sizeof *m);
    if (!m) return TC_ERR_NOMEM;
    m->arena = a;
  } else {
    m = tc__calloc(1, sizeof *m);
    if (!m) return TC_ERR_NOMEM;
    m->own_struct = 1;
    tc__arena_init_heap(&m->arena);
  }
  m->fb.buf = data;
  m->fb.size = size;
  m->description = "";
  *out = m;
  if (!data) return fail(m, TC_ERR_ARG, "model data is NULL");
  return load_index(m);
}

tc_status tc_model_load_memory(const void *data, size_t size, const tc_model_options *opts,
                               tc_model **out) {
  if (!out) return TC_ERR_ARG;
  *out = NULL;
  return model_init(data, size, opts, out);
}

tc_status tc_model_load_file(const char *path, const tc_model_options *opts, tc_model **out) {
  if (!out) return TC_ERR_ARG;
  *out = NULL;
  if (!path) return TC_ERR_ARG;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  void *map = NULL;
  size_t size = 0;
  int err = 0;
  if (fd < 0) {
    err = errno;
  } else {
    if (fstat(fd, &st) != 0) err = errno;
    else if (!S_ISREG(st.st_mode)) err = EISDIR;
    else {
      size = (size_t)st.st_size;
      if (size > 0) {
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
          err = errno;
          map = NULL;
        }
      }
    }
    close(fd);
  }
  static const uint8_t empty[1];
  tc_status s = model_init(map ? map : (const void *)empty, map ? size : 0, opts, out);
  if (!*out) {
    if (map) munmap(map, size);
    return s;
  }
  (*out)->map = map;
  (*out)->map_size = size;
  if (err) {
    (*out)->status = TC_ERR_IO;
    tc__fmt((*out)->errmsg, sizeof (*out)->errmsg, "cannot read '%s': %s", path, strerror(err));
    return TC_ERR_IO;
  }
  if (s != TC_OK) {
    char tmp[sizeof (*out)->errmsg];
    memcpy(tmp, (*out)->errmsg, sizeof tmp);
    size_t pl = strlen(path);
    if (pl > 120) pl = 120;
    memcpy((*out)->errmsg, path, pl);
    memcpy((*out)->errmsg + pl, ": ", 2);
    memcpy((*out)->errmsg + pl + 2, tmp, sizeof tmp - pl - 3);
    (*out)->errmsg[sizeof tmp - 1] = '\0';
  }
  return s;
}

size_t tc_model_index_size(const void *data, size_t size) {
  tc_model *m = NULL;
  size_t need = 0;
  if (tc_model_load_memory(data, size, NULL, &m) == TC_OK)
    need = tc__arena_used(&m->arena) + TC_ALIGN_UP(sizeof *m, 16) + 16;
  tc_model_destroy(m);
  return need;
}

void tc_model_destroy(tc_model *m) {
  if (!m) return;
  void *map = m->map;
  size_t map_size = m->map_size;
  int own = m->own_struct;
  tc__arena a = m->arena;
  if (own) {
    tc__arena_release(&a);
    tc__free(m);
  }
  if (map) munmap(map, map_size);
}

const char *tc_model_errmsg(const tc_model *m) { return m ? m->errmsg : "model is NULL"; }
uint32_t tc_model_schema_version(const tc_model *m) { return m ? m->version : 0; }
const char *tc_model_description(const tc_model *m) {
  return m && m->description ? m->description : "";
}
int tc_model_subgraph_count(const tc_model *m) { return m && !m->status ? m->n_subgraphs : 0; }
int tc_model_metadata_count(const tc_model *m) { return m && !m->status ? m->n_metadata : 0; }
int tc_model_signature_count(const tc_model *m) { return m && !m->status ? m->n_signatures : 0; }
size_t tc_model_weights_size(const tc_model *m) { return m ? m->weights_size : 0; }

tc_status tc_model_metadata(const tc_model *m, int i, const char **name, const void **data,
                            size_t *size) {
  if (!m || m->status || i < 0 || i >= m->n_metadata) return TC_ERR_ARG;
  if (name) *name = m->metadata[i].name;
  if (data) *data = m->metadata[i].data;
  if (size) *size = m->metadata[i].size;
  return TC_OK;
}

const char *tc_model_signature_key(const tc_model *m, int i) {
  if (!m || m->status || i < 0 || i >= m->n_signatures) return NULL;
  return m->signatures[i].key;
}

tc_status tc_model_subgraph_info(const tc_model *m, int g, tc_subgraph_info *out) {
  if (!m || m->status || !out || g < 0 || g >= m->n_subgraphs) return TC_ERR_ARG;
  const tc__msubgraph *sg = &m->subgraphs[g];
  out->name = sg->name;
  out->n_tensors = sg->n_tensors;
  out->n_operators = sg->n_ops;
  out->n_inputs = sg->n_inputs;
  out->n_outputs = sg->n_outputs;
  return TC_OK;
}

tc_status tc_model_operator(const tc_model *m, int g, int op, int32_t *builtin_code,
                            const char **custom_name) {
  if (!m || m->status || g < 0 || g >= m->n_subgraphs || op < 0 || op >= m->subgraphs[g].n_ops)
    return TC_ERR_ARG;
  const tc__mopcode *oc = &m->opcodes[m->subgraphs[g].ops[op].opcode];
  if (builtin_code) *builtin_code = oc->builtin;
  if (custom_name) *custom_name = oc->builtin == TC_OP_CUSTOM ? oc->custom : NULL;
  return TC_OK;
}
