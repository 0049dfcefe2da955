/* export.h: the internal layout of tc_graphdef (see tensorc_export.h) shared by the writer,
 * the model importer and the quantizer. Everything a graphdef points to is owned by it: blocks
 * come from xalloc and are freed together by tc_graphdef_destroy. */
#ifndef TC_EXPORT_EXPORT_H
#define TC_EXPORT_EXPORT_H

#include "core/core.h"
#include "tensorc_export.h"

#define XOPT_MAX_FIELDS 12

/* Kinds of options fields (the schema's scalar and vector types we need). */
enum { XF_NONE = 0, XF_BYTE, XF_INT, XF_UINT, XF_LONG, XF_FLOAT, XF_INTS, XF_FLOATS, XF_STRING };

typedef struct xfield {
  uint8_t set;
  int64_t i;
  float f;
  int32_t n;       /* vector length */
  void *vec;       /* int32 / float values, or the string */
} xfield;

typedef struct xtensor {
  char *name;
  tc_dtype dtype;
  int n_dims;
  int32_t dims[TC_MAX_DIMS];
  int has_sig;
  int32_t sig[TC_MAX_DIMS];
  uint8_t *data; /* constant bytes or NULL */
  size_t size;
  int n_scales;
  float *scale;
  int64_t *zp;
  int axis;
  uint8_t is_variable;
} xtensor;

typedef struct xop {
  int32_t builtin;
  char *custom; /* custom_code (builtin == 32) */
  int32_t version; /* 0: computed by the writer */
  int n_in, n_out, n_inter;
  int32_t *in, *out, *inter;
  uint8_t opt_type; /* BuiltinOptions union type (0: none) */
  xfield f[XOPT_MAX_FIELDS];
  uint8_t *custom_opts;
  size_t custom_size;
} xop;

typedef struct xsubgraph {
  char *name;
  xtensor *t;
  int n_t, cap_t;
  xop *op;
  int n_op, cap_op;
  int32_t *in, *out;
  int n_in, n_out;
} xsubgraph;

typedef struct xmeta {
  char *name;
  uint8_t *data;
  size_t size;
} xmeta;

typedef struct xsig {
  char *key;
  int subgraph;
  int n_in, n_out;
  char **in_names, **out_names;
  int32_t *in_t, *out_t;
} xsig;

struct tc_graphdef {
  tc_status status;
  char errmsg[256];
  char *description;
  xsubgraph *sg;
  int n_sg, cur;
  xmeta *meta;
  int n_meta;
  xsig *sigs;
  int n_sigs;
  void **blocks; /* every allocation owned by this graphdef */
  size_t n_blocks, cap_blocks;
};

/* Owned allocation (zeroed); NULL on failure. */
void *tc__x_alloc(tc_graphdef *g, size_t size);
void *tc__x_dup(tc_graphdef *g, const void *p, size_t size);
char *tc__x_strdup(tc_graphdef *g, const char *s);
tc_status tc__x_fail(tc_graphdef *g, tc_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* BuiltinOptions union type TFLite pairs with a builtin operator (0 = none). */
uint8_t tc__x_options_type(int32_t builtin);
/* Field kinds of options table `type`; returns the field count (kinds[i] = XF_*). */
int tc__x_options_spec(uint8_t type, uint8_t kinds[XOPT_MAX_FIELDS]);

/* Element count of a tensor (1 for scalars); -1 if a dimension is negative. */
int64_t tc__x_numel(const xtensor *t);

/* Copies subgraph `sg` of `src` (tensors, ops, io) into a fresh graphdef's subgraph 0, plus the
 * description and metadata (not signatures). Used by the quantizer and calibration. */
tc_status tc__x_clone_sg0(const tc_graphdef *src, tc_graphdef **out);

#endif /* TC_EXPORT_EXPORT_H */
