/* test_writer.c: the FlatBuffers builder and the .tflite writer (src/export). The builder is
 * checked against the project's own bounds-checked reader; the writer by round trips: every
 * model of ../shared that tensorc runs is imported, written, re-loaded and run on its first
 * golden case, and must give bit-identical outputs to the original file; the written file must
 * carry the required fields (both op-code fields, 16-byte aligned buffers, signature,
 * metadata) and re-exporting it must reproduce the same bytes. */
#include <stdlib.h>

#include "export/fbb.h"
#include "lite/flatbuf.h"
#include "lite/model.h"
#include "tc_test.h"
#include "tensorc_export.h"
#include "tensorc_lite.h"

TC_TEST(export_writer_fbb_tables) {
  fbb b;
  fbb_init(&b);
  int32_t v[3] = {7, -8, 9};
  uint8_t bytes[5] = {1, 2, 3, 4, 5};
  uint32_t s = fbb_string(&b, "hello");
  uint32_t vi = fbb_vector(&b, v, 3, 4, 4);
  uint32_t vb = fbb_vector(&b, bytes, 5, 1, 16);
  fbb_table_start(&b);
  fbb_add_u8(&b, 0, 200);
  fbb_add_ref(&b, 1, s);
  fbb_add_u32(&b, 3, 0xdeadbeefu);
  fbb_add_ref(&b, 4, vi);
  fbb_add_f32(&b, 5, 2.5f);
  fbb_add_u64(&b, 6, 0x0102030405060708ull);
  fbb_add_ref(&b, 7, vb);
  uint32_t inner = fbb_table_end(&b);
  uint32_t list = fbb_vector_refs(&b, (uint32_t[]){inner, inner}, 2);
  fbb_table_start(&b);
  fbb_add_ref(&b, 0, list);
  uint32_t root = fbb_table_end(&b);
  const uint8_t *buf;
  size_t size;
  CHECK_EQ(fbb_finish(&b, root, "TEST", &buf, &size), 0);
  CHECK_EQ(size % 16, 0);
  tc__fb fb = {buf, size};
  tc__fbt rt, t;
  CHECK_EQ(tc__fb_root(&fb, "TEST", &rt), TC_FB_OK);
  tc__fbv lv;
  CHECK_EQ(tc__fb_vector(&fb, &rt, 0, 4, &lv), TC_FB_OK);
  CHECK_EQ(lv.n, 2);
  for (uint32_t k = 0; k < 2; k++) {
    CHECK_EQ(tc__fb_vtable_at(&fb, &lv, k, &t), TC_FB_OK);
    CHECK_EQ(tc__fb_u8(&fb, &t, 0, 0), 200);
    CHECK_EQ(tc__fb_u32(&fb, &t, 2, 77), 77); /* absent: default */
    CHECK_EQ(tc__fb_u32(&fb, &t, 3, 0), 0xdeadbeefu);
    CHECK_NEAR(tc__fb_f32(&fb, &t, 5, 0), 2.5, 0);
    CHECK(tc__fb_u64(&fb, &t, 6, 0) == 0x0102030405060708ull);
    CHECK_EQ(tc__fb_u32(&fb, &t, 9, 5), 5); /* beyond the vtable */
    const char *str;
    uint32_t len;
    CHECK_EQ(tc__fb_string(&fb, &t, 1, &str, &len), TC_FB_OK);
    CHECK_EQ(len, 5);
    CHECK(strcmp(str, "hello") == 0);
    tc__fbv iv, bv;
    CHECK_EQ(tc__fb_vector(&fb, &t, 4, 4, &iv), TC_FB_OK);
    CHECK_EQ(iv.n, 3);
    CHECK_EQ(tc__ld_i32(buf + iv.pos + 4), -8);
    CHECK_EQ(tc__fb_vector(&fb, &t, 7, 1, &bv), TC_FB_OK);
    CHECK_EQ(bv.n, 5);
    CHECK_EQ(bv.pos % 16, 0);
    CHECK_EQ(buf[bv.pos + 4], 5);
  }
  fbb_free(&b);
}

/* ---- building a model through the public API ---------------------------------------------- */

TC_TEST(export_writer_build_and_run) {
  tc_graphdef *g;
  CHECK_EQ(tc_graphdef_create(&g), TC_OK);
  int32_t d_in[2] = {1, 3}, d_w[2] = {2, 3}, d_b[1] = {2}, d_out[2] = {1, 2};
  float w[6] = {1, 2, 3, -1, 0.5f, 0}, bias[2] = {0.25f, -4};
  int x = tc_graphdef_add_tensor(g, "x", TC_DTYPE_F32, 2, d_in, NULL, 0);
  int wt = tc_graphdef_add_tensor(g, "w", TC_DTYPE_F32, 2, d_w, w, sizeof w);
  int bt = tc_graphdef_add_tensor(g, "b", TC_DTYPE_F32, 1, d_b, bias, sizeof bias);
  int h = tc_graphdef_add_tensor(g, "h", TC_DTYPE_F32, 2, d_out, NULL, 0);
  int y = tc_graphdef_add_tensor(g, "probs", TC_DTYPE_F32, 2, d_out, NULL, 0);
  CHECK(x == 0 && wt == 1 && bt == 2 && h == 3 && y == 4);
  CHECK_EQ(tc_graphdef_add_tensor(g, "bad", TC_DTYPE_F32, 2, d_in, w, 8), -1);
  CHECK_STR_CONTAINS(tc_graphdef_errmsg(g), "data bytes");
  int32_t sig[2] = {-1, 3};
  CHECK_EQ(tc_graphdef_set_signature(g, x, sig), TC_OK);
  int fc = tc_graphdef_add_op(g, 9, 3, (int32_t[]){x, wt, bt}, 1, (int32_t[]){h});
  CHECK_EQ(tc_graphdef_op_set_int(g, fc, TC_OPT_FC_ACTIVATION, TC_TFL_ACT_RELU), TC_OK);
  CHECK(tc_graphdef_op_set_float(g, fc, TC_OPT_FC_ACTIVATION, 1.0f) != TC_OK); /* wrong type */
  int sm = tc_graphdef_add_op(g, 25, 1, (int32_t[]){h}, 1, (int32_t[]){y});
  CHECK_EQ(tc_graphdef_op_set_float(g, sm, TC_OPT_SOFTMAX_BETA, 1.0f), TC_OK);
  CHECK_EQ(tc_graphdef_set_io(g, 1, (int32_t[]){x}, 1, (int32_t[]){y}), TC_OK);
  void *data;
  size_t size;
  CHECK_EQ(tc_graphdef_write(g, &data, &size), TC_OK);
  tc_model *m = NULL;
  CHECK_EQ(tc_model_load_memory(data, size, NULL, &m), TC_OK);
  if (m && !m->status) {
    CHECK_EQ(m->n_opcodes, 2);
    CHECK_EQ(m->subgraphs[0].tensors[0].has_signature, 1);
    CHECK_EQ(m->subgraphs[0].tensors[0].sig[0], -1);
    CHECK_EQ(tc_model_signature_count(m), 1);
    CHECK(strcmp(tc_model_signature_key(m, 0), "serving_default") == 0);
    int found_producer = 0, found_mrv = 0;
    for (int i = 0; i < tc_model_metadata_count(m); i++) {
      const char *name;
      const void *md;
      size_t ms;
      tc_model_metadata(m, i, &name, &md, &ms);
      if (!strcmp(name, "producer")) found_producer = ms > 8 && !memcmp(md, "tensorc ", 8);
      if (!strcmp(name, "min_runtime_version")) found_mrv = ms == 16;
    }
    CHECK(found_producer && found_mrv);
    tc_interp *it = NULL;
    CHECK_EQ(tc_interp_create(m, NULL, &it), TC_OK);
    CHECK_EQ(tc_interp_prepare(it), TC_OK);
    CHECK_EQ(tc_interp_signature_input(it, NULL, "x"), 0);
    CHECK_EQ(tc_interp_signature_output(it, NULL, "probs"), 0);
    float in[3] = {1, 2, 3}, out[2];
    CHECK_EQ(tc_interp_set_input(it, 0, in, sizeof in), TC_OK);
    CHECK_EQ(tc_interp_invoke(it), TC_OK);
    CHECK_EQ(tc_interp_get_output(it, 0, out, sizeof out), TC_OK);
    /* h = relu([14.25, -4]) = [14.25, 0]; softmax */
    double e = exp(-14.25);
    CHECK_NEAR(out[0], 1 / (1 + e), 1e-6);
    CHECK_NEAR(out[1], e / (1 + e), 1e-9);
    tc_interp_destroy(it);
  }
  tc_model_destroy(m);
  tc_export_free(data);
  /* an out-of-range operator input is refused at write time */
  tc_graphdef_add_op(g, 22, 1, (int32_t[]){42}, 1, (int32_t[]){y});
  CHECK_EQ(tc_graphdef_write(g, &data, &size), TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_graphdef_errmsg(g), "out of range");
  tc_graphdef_destroy(g);
}

/* ---- round trips of the shared models ----------------------------------------------------- */

typedef struct {
  char model[176];
  char case_dir[200];
  int n_in;
} mcase;

/* First golden case of every model the golden tests run (expect.tsv status `run`). */
static int list_cases(mcase *out, int max) {
  size_t size = 0;
  char *exp = tc_test_read_file(tc_test_shared("models/golden/expect.tsv"), &size);
  char *cases = NULL;
  if (!exp) return 0;
  exp = realloc(exp, size + 1);
  exp[size] = 0;
  cases = tc_test_read_file(tc_test_shared("models/golden/cases.tsv"), &size);
  if (!cases) {
    free(exp);
    return 0;
  }
  cases = realloc(cases, size + 1);
  cases[size] = 0;
  int n = 0;
  char *save = NULL;
  for (char *line = strtok_r(cases, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save)) {
    char model[160], dir[200];
    int n_in;
    if (sscanf(line, "%159[^\t]\t%199[^\t]\t%d", model, dir, &n_in) != 3) continue;
    if (n && !strcmp(out[n - 1].model + 7, model)) continue;
    char key[200];
    snprintf(key, sizeof key, "\n%s\trun\t", model);
    if (!strstr(exp, key)) continue;
    snprintf(out[n].model, sizeof out[n].model, "models/%s", model);
    snprintf(out[n].case_dir, sizeof out[n].case_dir, "%s", dir);
    out[n].n_in = n_in;
    n++;
  }
  free(exp);
  free(cases);
  return n;
}

/* Runs a model on the case's inputs; returns the concatenated output bytes (malloc'ed) or NULL. */
static uint8_t *run_case(tc_model *m, const mcase *c, size_t *out_size, char *err, size_t en) {
  tc_interp *it = NULL;
  uint8_t *res = NULL;
  *out_size = 0;
  if (tc_interp_create(m, NULL, &it) != TC_OK || tc_interp_prepare(it) != TC_OK) {
    snprintf(err, en, "%s", tc_interp_errmsg(it));
    tc_interp_destroy(it);
    return NULL;
  }
  for (int i = 0; i < c->n_in; i++) {
    char rel[300];
    snprintf(rel, sizeof rel, "models/golden/%s/input_%d.bin", c->case_dir, i);
    size_t n;
    void *d = tc_test_read_file(tc_test_shared(rel), &n);
    tc_status s = d ? tc_interp_set_input(it, i, d, n) : TC_ERR_IO;
    free(d);
    if (s) {
      snprintf(err, en, "input %d: %s", i, d ? tc_interp_errmsg(it) : "missing");
      tc_interp_destroy(it);
      return NULL;
    }
  }
  if (tc_interp_invoke(it) != TC_OK) {
    snprintf(err, en, "invoke: %s", tc_interp_errmsg(it));
    tc_interp_destroy(it);
    return NULL;
  }
  size_t total = 0;
  for (int i = 0; i < tc_interp_output_count(it); i++) {
    tc_tensor_info t;
    tc_interp_tensor(it, tc_interp_output_index(it, i), &t);
    uint8_t *nr = realloc(res, total + t.size + 1);
    if (!nr) break;
    res = nr;
    memcpy(res + total, t.data, t.size);
    total += t.size;
  }
  *out_size = total;
  tc_interp_destroy(it);
  return res;
}

TC_TEST(export_writer_roundtrip_shared_models) {
  static mcase cases[64];
  int n = list_cases(cases, 64);
  CHECK_MSG(n >= 30, "only %d models found under %s", n, tc_test_shared("models"));
  int passed = 0;
  for (int k = 0; k < n; k++) {
    const mcase *c = &cases[k];
    tc_model *m = NULL, *m2 = NULL, *m3 = NULL;
    tc_graphdef *g = NULL, *g2 = NULL;
    void *bytes = NULL, *bytes2 = NULL;
    size_t size = 0, size2 = 0, o1n = 0, o2n = 0;
    uint8_t *o1 = NULL, *o2 = NULL;
    char err[300] = "";
    if (tc_model_load_file(tc_test_shared(c->model), NULL, &m) != TC_OK) {
      CHECK_MSG(0, "%s: %s", c->model, tc_model_errmsg(m));
      goto next;
    }
    o1 = run_case(m, c, &o1n, err, sizeof err);
    if (!o1) {
      CHECK_MSG(0, "%s (original): %s", c->model, err);
      goto next;
    }
    if (tc_graphdef_from_model(m, &g) != TC_OK || tc_graphdef_write(g, &bytes, &size) != TC_OK) {
      CHECK_MSG(0, "%s: export: %s", c->model, tc_graphdef_errmsg(g));
      goto next;
    }
    if (tc_model_load_memory(bytes, size, NULL, &m2) != TC_OK) {
      CHECK_MSG(0, "%s: re-load: %s", c->model, tc_model_errmsg(m2));
      goto next;
    }
    o2 = run_case(m2, c, &o2n, err, sizeof err);
    CHECK_MSG(o2 && o1n == o2n && !memcmp(o1, o2, o1n), "%s: outputs differ after re-export (%s)",
              c->model, err);
    /* structure: same counts, op codes with both fields, aligned buffers */
    CHECK_EQ(m2->n_subgraphs, m->n_subgraphs);
    CHECK_EQ(m2->subgraphs[0].n_ops, m->subgraphs[0].n_ops);
    CHECK_EQ(m2->subgraphs[0].n_tensors, m->subgraphs[0].n_tensors);
    for (int i = 0; i < m2->subgraphs[0].n_tensors; i++) {
      const tc__mtensor *t = &m2->subgraphs[0].tensors[i];
      if (t->data) CHECK_MSG(((t->data - (const uint8_t *)bytes) & 15) == 0, "%s: tensor %d unaligned", c->model, i);
    }
    for (int i = 0; i < m2->n_opcodes; i++) {
      tc__fbt root, oc;
      tc__fbv v;
      tc__fb_root(&m2->fb, "TFL3", &root);
      tc__fb_vector(&m2->fb, &root, 1, 4, &v);
      tc__fb_vtable_at(&m2->fb, &v, (uint32_t)i, &oc);
      int32_t code = tc__fb_i32(&m2->fb, &oc, 3, -1), dep = tc__fb_i8(&m2->fb, &oc, 0, -1);
      CHECK_EQ(code, m2->opcodes[i].builtin);
      CHECK_EQ(dep, code < 127 ? code : 127);
    }
    for (int i = 0; i < m2->subgraphs[0].n_ops; i++)
      CHECK_EQ(m2->opcodes[m2->subgraphs[0].ops[i].opcode].builtin,
               m->opcodes[m->subgraphs[0].ops[i].opcode].builtin);
    /* exporting the exported file again gives the same bytes */
    if (tc_graphdef_from_model(m2, &g2) == TC_OK && tc_graphdef_write(g2, &bytes2, &size2) == TC_OK)
      CHECK_MSG(size2 == size && !memcmp(bytes, bytes2, size), "%s: second export differs", c->model);
    else
      CHECK_MSG(0, "%s: second export: %s", c->model, tc_graphdef_errmsg(g2));
    passed++;
  next:
    free(o1);
    free(o2);
    tc_graphdef_destroy(g);
    tc_graphdef_destroy(g2);
    tc_model_destroy(m3);
    tc_model_destroy(m2);
    tc_model_destroy(m);
    tc_export_free(bytes);
    tc_export_free(bytes2);
  }
  printf("  export round trip: %d/%d models identical\n", passed, n);
}
