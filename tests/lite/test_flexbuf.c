/* test_flexbuf.c: the FlexBuffers reader (src/lite/flexbuf.c) on maps built here byte by byte
 * at every element width, on the real custom_options of the SSD detector, and on hostile
 * input: every truncation and many byte flips of valid buffers, plus hand-made bad offsets,
 * widths, sizes and unterminated keys must return TC_FX_BAD or a value, never read outside. */
#include <stdlib.h>

#include "lite/flexbuf.h"
#include "lite/model.h"
#include "tc_test.h"

/* ---- a tiny FlexBuffers map writer ---------------------------------------------------------- */

typedef struct {
  const char *key;
  int type;      /* TC_FXT_*; INDIRECT_* values are stored 8 bytes wide before the map */
  uint64_t bits; /* the value's bytes (two's complement / IEEE) */
} ent;

static void put_le(uint8_t *p, uint64_t v, unsigned w) {
  for (unsigned i = 0; i < w; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static unsigned lg(unsigned w) { return w == 1 ? 0 : w == 2 ? 1 : w == 4 ? 2 : 3; }

/* Writes a map of n entries (keys sorted by the caller) with element width w; returns size. */
static size_t build_map(uint8_t *buf, const ent *e, int n, unsigned w) {
  size_t p = 0, kpos[16], ipos[16];
  for (int i = 0; i < n; i++) {
    kpos[i] = p;
    size_t l = strlen(e[i].key) + 1;
    memcpy(buf + p, e[i].key, l);
    p += l;
  }
  for (int i = 0; i < n; i++) {
    if (e[i].type < TC_FXT_INDIRECT_INT || e[i].type > TC_FXT_INDIRECT_FLOAT) continue;
    while (p % 8) buf[p++] = 0;
    ipos[i] = p;
    put_le(buf + p, e[i].bits, 8);
    p += 8;
  }
  while (p % w) buf[p++] = 0;
  put_le(buf + p, (uint64_t)n, w); /* keys vector length */
  p += w;
  size_t kvec = p;
  for (int i = 0; i < n; i++, p += w) put_le(buf + p, p - kpos[i], w);
  put_le(buf + p, p - kvec, w); /* offset to the keys vector */
  p += w;
  put_le(buf + p, w, w); /* its byte width */
  p += w;
  put_le(buf + p, (uint64_t)n, w);
  p += w;
  size_t data = p;
  for (int i = 0; i < n; i++, p += w) {
    int ind = e[i].type >= TC_FXT_INDIRECT_INT && e[i].type <= TC_FXT_INDIRECT_FLOAT;
    put_le(buf + p, ind ? p - ipos[i] : e[i].bits, w);
  }
  for (int i = 0; i < n; i++) {
    int ind = e[i].type >= TC_FXT_INDIRECT_INT && e[i].type <= TC_FXT_INDIRECT_FLOAT;
    buf[p++] = (uint8_t)(e[i].type << 2 | (ind ? 3 : lg(w)));
  }
  put_le(buf + p, p - data, w); /* root slot */
  p += w;
  buf[p++] = (uint8_t)(TC_FXT_MAP << 2 | lg(w));
  buf[p++] = (uint8_t)w;
  return p;
}

static uint64_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}
static uint64_t f64_bits(double d) {
  uint64_t u;
  memcpy(&u, &d, 8);
  return u;
}

static tc__fx_res find_int(tc__fx *fx, const char *key, int64_t *v) {
  tc__fxref root, r;
  tc__fx_res res = tc__fx_root(fx, &root);
  if (!res) res = tc__fx_map_find(fx, &root, key, &r);
  if (!res) res = tc__fx_int(fx, &r, v);
  return res;
}
static tc__fx_res find_double(tc__fx *fx, const char *key, double *v) {
  tc__fxref root, r;
  tc__fx_res res = tc__fx_root(fx, &root);
  if (!res) res = tc__fx_map_find(fx, &root, key, &r);
  if (!res) res = tc__fx_double(fx, &r, v);
  return res;
}

TC_TEST(model_flexbuf_int_widths) {
  static const unsigned widths[4] = {1, 2, 4, 8};
  for (int k = 0; k < 4; k++) {
    unsigned w = widths[k];
    uint8_t buf[512];
    int64_t neg = -5;
    ent e[] = {{"a", TC_FXT_INT, 7},
               {"b", TC_FXT_INT, (uint64_t)neg},
               {"c", TC_FXT_UINT, 200},
               {"flag", TC_FXT_BOOL, 1},
               {"zero", TC_FXT_BOOL, 0}};
    size_t n = build_map(buf, e, 5, w);
    tc__fx fx = {buf, n, ""};
    tc__fxref root, r;
    CHECK_EQ(tc__fx_root(&fx, &root), TC_FX_OK);
    CHECK_EQ(root.type, TC_FXT_MAP);
    size_t cnt = 0;
    CHECK_EQ(tc__fx_map_size(&fx, &root, &cnt), TC_FX_OK);
    CHECK_EQ(cnt, 5);
    int64_t v = 0;
    CHECK_EQ(find_int(&fx, "a", &v), TC_FX_OK);
    CHECK_EQ(v, 7);
    CHECK_EQ(find_int(&fx, "b", &v), TC_FX_OK);
    CHECK_EQ(v, -5); /* sign-extended from w bytes */
    if (w > 1) { /* 200 is a uint; at width 1 it is still 200 */
      CHECK_EQ(find_int(&fx, "c", &v), TC_FX_OK);
      CHECK_EQ(v, 200);
    }
    uint64_t u = 0;
    CHECK_EQ(tc__fx_map_find(&fx, &root, "c", &r), TC_FX_OK);
    CHECK_EQ(tc__fx_uint(&fx, &r, &u), TC_FX_OK);
    CHECK_EQ(u, 200);
    int b = -1;
    CHECK_EQ(tc__fx_map_find(&fx, &root, "flag", &r), TC_FX_OK);
    CHECK_EQ(tc__fx_bool(&fx, &r, &b), TC_FX_OK);
    CHECK_EQ(b, 1);
    CHECK_EQ(tc__fx_map_find(&fx, &root, "zero", &r), TC_FX_OK);
    CHECK_EQ(tc__fx_bool(&fx, &r, &b), TC_FX_OK);
    CHECK_EQ(b, 0);
    /* negative read as unsigned is an error, not a wrap-around */
    CHECK_EQ(tc__fx_map_find(&fx, &root, "b", &r), TC_FX_OK);
    CHECK_EQ(tc__fx_uint(&fx, &r, &u), TC_FX_BAD);
    /* absent keys, prefixes and extensions of present keys */
    CHECK_EQ(tc__fx_map_find(&fx, &root, "fla", &r), TC_FX_ABSENT);
    CHECK_EQ(tc__fx_map_find(&fx, &root, "flags", &r), TC_FX_ABSENT);
    CHECK_EQ(tc__fx_map_find(&fx, &root, "", &r), TC_FX_ABSENT);
    CHECK_EQ(tc__fx_map_find(&fx, &root, "zz", &r), TC_FX_ABSENT);
  }
}

TC_TEST(model_flexbuf_floats_and_indirect) {
  static const unsigned widths[2] = {4, 8};
  for (int k = 0; k < 2; k++) {
    unsigned w = widths[k];
    uint8_t buf[512];
    ent e[] = {{"f", TC_FXT_FLOAT, w == 4 ? f32_bits(0.6f) : f64_bits(0.6)},
               {"i", TC_FXT_INDIRECT_INT, (uint64_t)(int64_t)-123456789012LL},
               {"n", TC_FXT_NULL, 0},
               {"q", TC_FXT_INDIRECT_FLOAT, f64_bits(2.5)},
               {"s", TC_FXT_FLOAT, w == 4 ? f32_bits(-3.75f) : f64_bits(-3.75)},
               {"u", TC_FXT_INDIRECT_UINT, 0xFFFFFFFFFFFFFFFFull}};
    size_t n = build_map(buf, e, 6, w);
    tc__fx fx = {buf, n, ""};
    double d = 0;
    int64_t v = 0;
    CHECK_EQ(find_double(&fx, "f", &d), TC_FX_OK);
    CHECK_NEAR(d, 0.6, w == 4 ? 1e-7 : 0);
    CHECK_EQ(find_double(&fx, "q", &d), TC_FX_OK);
    CHECK_NEAR(d, 2.5, 0);
    CHECK_EQ(find_int(&fx, "q", &v), TC_FX_OK); /* float read as int truncates */
    CHECK_EQ(v, 2);
    CHECK_EQ(find_int(&fx, "s", &v), TC_FX_OK);
    CHECK_EQ(v, -3);
    CHECK_EQ(find_int(&fx, "i", &v), TC_FX_OK);
    CHECK_EQ(v, -123456789012LL);
    CHECK_EQ(find_double(&fx, "i", &d), TC_FX_OK);
    CHECK_NEAR(d, -123456789012.0, 0);
    CHECK_EQ(find_int(&fx, "u", &v), TC_FX_BAD); /* 2^64-1 does not fit int64 */
    CHECK_STR_CONTAINS(fx.why, "int64");
    CHECK_EQ(find_int(&fx, "n", &v), TC_FX_ABSENT); /* null reads as absent */
  }
}

TC_TEST(model_flexbuf_not_numbers) {
  uint8_t buf[256];
  ent e[] = {{"nan", TC_FXT_FLOAT, f32_bits(NAN)}, {"str", TC_FXT_STRING, 1}};
  size_t n = build_map(buf, e, 2, 4);
  tc__fx fx = {buf, n, ""};
  int64_t v;
  double d;
  CHECK_EQ(find_int(&fx, "nan", &v), TC_FX_BAD);
  CHECK_EQ(find_double(&fx, "nan", &d), TC_FX_OK);
  CHECK(isnan(d));
  CHECK_EQ(find_int(&fx, "str", &v), TC_FX_BAD);
  CHECK_STR_CONTAINS(fx.why, "not a number");
  /* a scalar root is not a map */
  const uint8_t scalar[3] = {42, TC_FXT_INT << 2, 1};
  tc__fx fs = {scalar, 3, ""};
  tc__fxref root, r;
  CHECK_EQ(tc__fx_root(&fs, &root), TC_FX_OK);
  CHECK_EQ(tc__fx_int(&fs, &root, &v), TC_FX_OK);
  CHECK_EQ(v, 42);
  CHECK_EQ(tc__fx_map_find(&fs, &root, "a", &r), TC_FX_BAD);
  CHECK_STR_CONTAINS(fs.why, "not a map");
}

/* custom_options of the first operator with this custom code in a model, or NULL. */
static const tc__mop *find_custom(const tc_model *m, const char *code) {
  const tc__msubgraph *sg = &m->subgraphs[0];
  for (int i = 0; i < sg->n_ops; i++) {
    const tc__mopcode *oc = &m->opcodes[sg->ops[i].opcode];
    if (oc->custom && strcmp(oc->custom, code) == 0) return &sg->ops[i];
  }
  return NULL;
}

TC_TEST(model_flexbuf_ssd_options) {
  tc_model *m = NULL;
  tc_status s = tc_model_load_file(
      tc_test_shared("models/tflite_support/ssd_mobilenet_v1_quant.tflite"), NULL, &m);
  CHECK_EQ(s, TC_OK);
  const tc__mop *op = s ? NULL : find_custom(m, "TFLite_Detection_PostProcess");
  CHECK(op != NULL);
  if (op) {
    tc__fx fx = {op->custom_options, op->custom_options_size, ""};
    int64_t v = 0;
    double d = 0;
    CHECK_EQ(find_int(&fx, "max_detections", &v), TC_FX_OK);
    CHECK_EQ(v, 10);
    CHECK_EQ(find_int(&fx, "max_classes_per_detection", &v), TC_FX_OK);
    CHECK_EQ(v, 1);
    CHECK_EQ(find_int(&fx, "num_classes", &v), TC_FX_OK);
    CHECK_EQ(v, 90);
    CHECK_EQ(find_double(&fx, "y_scale", &d), TC_FX_OK);
    CHECK_NEAR(d, 10.0, 0);
    CHECK_EQ(find_double(&fx, "h_scale", &d), TC_FX_OK);
    CHECK_NEAR(d, 5.0, 0);
    CHECK_EQ(find_double(&fx, "nms_iou_threshold", &d), TC_FX_OK);
    CHECK(d > 0 && d <= 1);
    CHECK_EQ(find_int(&fx, "no_such_option", &v), TC_FX_ABSENT);
  }
  tc_model_destroy(m);
}

/* ---- hostile input -------------------------------------------------------------------------- */

/* Reads everything a consumer might read; the bytes are in an exact-size heap block so any
 * out-of-bounds read is caught by sanitizers. Returns the number of OK reads. */
static int read_all(const uint8_t *bytes, size_t n) {
  static const char *keys[] = {"a", "b", "f", "i", "q", "u", "max_detections", "num_classes",
                               "y_scale", "use_regular_nms", "nms_score_threshold"};
  uint8_t *copy = malloc(n ? n : 1);
  memcpy(copy, bytes, n);
  tc__fx fx = {copy, n, ""};
  tc__fxref root, r;
  int ok = 0;
  if (tc__fx_root(&fx, &root) == TC_FX_OK) {
    size_t cnt;
    int64_t v;
    uint64_t u;
    double d;
    int b;
    ok += tc__fx_map_size(&fx, &root, &cnt) == TC_FX_OK;
    ok += tc__fx_int(&fx, &root, &v) == TC_FX_OK;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
      if (tc__fx_map_find(&fx, &root, keys[k], &r) != TC_FX_OK) continue;
      ok += tc__fx_int(&fx, &r, &v) == TC_FX_OK;
      ok += tc__fx_uint(&fx, &r, &u) == TC_FX_OK;
      ok += tc__fx_double(&fx, &r, &d) == TC_FX_OK;
      ok += tc__fx_bool(&fx, &r, &b) == TC_FX_OK;
    }
  }
  free(copy);
  return ok;
}

TC_TEST(robust_flexbuf_truncation_and_flips) {
  uint8_t buf[512];
  ent e[] = {{"a", TC_FXT_INT, 7},
             {"f", TC_FXT_FLOAT, f32_bits(1.5f)},
             {"i", TC_FXT_INDIRECT_INT, 99},
             {"q", TC_FXT_INDIRECT_FLOAT, f64_bits(2.5)},
             {"u", TC_FXT_UINT, 3}};
  size_t n = build_map(buf, e, 5, 4);
  CHECK(read_all(buf, n) > 5);
  for (size_t len = 0; len < n; len++) read_all(buf, len);
  /* every byte set to each of a few interesting values */
  static const uint8_t vals[] = {0x00, 0x01, 0x03, 0x24, 0x7f, 0x80, 0xfe, 0xff};
  for (size_t pos = 0; pos < n; pos++)
    for (size_t k = 0; k < sizeof vals; k++) {
      uint8_t mut[512];
      memcpy(mut, buf, n);
      mut[pos] = vals[k];
      read_all(mut, n);
    }
  /* the same over the SSD detector's real options */
  tc_model *m = NULL;
  if (tc_model_load_file(tc_test_shared("models/tflite_support/ssd_mobilenet_v1_quant.tflite"),
                         NULL, &m) == TC_OK) {
    const tc__mop *op = find_custom(m, "TFLite_Detection_PostProcess");
    CHECK(op && op->custom_options_size > 16 && op->custom_options_size < 4096);
    if (op && op->custom_options_size < 4096) {
      size_t sz = op->custom_options_size;
      uint8_t *mut = malloc(sz);
      CHECK(read_all(op->custom_options, sz) >= 4 * 4);
      for (size_t len = 0; len < sz; len++) read_all(op->custom_options, len);
      for (size_t pos = 0; pos < sz; pos++)
        for (size_t k = 0; k < sizeof vals; k++) {
          memcpy(mut, op->custom_options, sz);
          mut[pos] = vals[k];
          read_all(mut, sz);
        }
      free(mut);
    }
  }
  tc_model_destroy(m);
}

TC_TEST(robust_flexbuf_hand_made) {
  tc__fx fx;
  tc__fxref root, r;
  /* too small, bad root widths */
  fx = (tc__fx){(const uint8_t *)"", 0, ""};
  CHECK_EQ(tc__fx_root(&fx, &root), TC_FX_BAD);
  fx = (tc__fx){NULL, 10, ""};
  CHECK_EQ(tc__fx_root(&fx, &root), TC_FX_BAD);
  const uint8_t w3[4] = {0, 0, TC_FXT_MAP << 2, 3};
  fx = (tc__fx){w3, 4, ""};
  CHECK_EQ(tc__fx_root(&fx, &root), TC_FX_BAD);
  const uint8_t w8[4] = {0, 0, TC_FXT_MAP << 2, 8}; /* root slot would start before byte 0 */
  fx = (tc__fx){w8, 4, ""};
  CHECK_EQ(tc__fx_root(&fx, &root), TC_FX_BAD);
  /* root map offset pointing before the buffer */
  const uint8_t before[3] = {200, TC_FXT_MAP << 2, 1};
  fx = (tc__fx){before, 3, ""};
  CHECK_EQ(tc__fx_root(&fx, &root), TC_FX_OK);
  CHECK_EQ(tc__fx_map_find(&fx, &root, "a", &r), TC_FX_BAD);
  CHECK_STR_CONTAINS(fx.why, "before the buffer");
  /* a valid map, then its pieces broken one by one */
  uint8_t buf[256], mut[256];
  ent e[] = {{"ab", TC_FXT_INT, 5}, {"cd", TC_FXT_INT, 6}};
  size_t n = build_map(buf, e, 2, 1);
  /* layout (w = 1): "ab\0cd\0" [2] [k0][k1] [koff][kw][size=2] [5][6] [t][t] [root] [type][1] */
  size_t size_pos = n - 8, kw_pos = n - 9, koff_pos = n - 10, keylen_pos = 6;
  fx = (tc__fx){buf, n, ""};
  int64_t v = 0;
  CHECK_EQ(find_int(&fx, "cd", &v), TC_FX_OK);
  CHECK_EQ(v, 6);
  memcpy(mut, buf, n);
  mut[size_pos] = 250; /* element count far beyond the end */
  fx = (tc__fx){mut, n, ""};
  CHECK_EQ(find_int(&fx, "cd", &v), TC_FX_BAD);
  memcpy(mut, buf, n);
  mut[kw_pos] = 3; /* invalid key width */
  fx = (tc__fx){mut, n, ""};
  CHECK_EQ(find_int(&fx, "cd", &v), TC_FX_BAD);
  memcpy(mut, buf, n);
  mut[koff_pos] = 250; /* keys vector before the buffer */
  fx = (tc__fx){mut, n, ""};
  CHECK_EQ(find_int(&fx, "cd", &v), TC_FX_BAD);
  memcpy(mut, buf, n);
  mut[keylen_pos] = 9; /* keys vector claims 9 keys for 2 values */
  fx = (tc__fx){mut, n, ""};
  CHECK_EQ(find_int(&fx, "cd", &v), TC_FX_BAD);
  uint8_t tail[64];
  memcpy(tail, buf, n);
  tail[0] = 'a';
  tail[1] = 'b';
  tail[2] = 'x'; /* "abx" then "cd": key 0 now reads "abxcd" */
  fx = (tc__fx){tail, n, ""};
  CHECK_EQ(find_int(&fx, "ab", &v), TC_FX_ABSENT);
  /* key strings that run to the end of the buffer without their NUL */
  memcpy(mut, buf, n);
  for (size_t i = 0; i < n; i++)
    if (mut[i] == 0) mut[i] = 'z'; /* no NUL anywhere: every key runs off the end */
  fx = (tc__fx){mut, n, ""};
  CHECK(find_int(&fx, "ab", &v) != TC_FX_OK);
}
