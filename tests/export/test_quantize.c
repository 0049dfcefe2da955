/* test_quantize.c: post-training quantization (src/export/quantize.c, calib.c). A small float
 * model built through the API checks the structure the int8 path must produce (per-channel
 * weights along the right axis, int32 biases with scale in*w, fixed SOFTMAX quantization, shared
 * quantization through RESHAPE, QUANTIZE/DEQUANTIZE at the edges or int8 I/O) and its accuracy
 * against the float model; shared models check dynamic range and float16 outputs, the SQNR
 * report, the percentile option and the error paths. */
#include <stdlib.h>

#include "export/export.h"
#include "tc_test.h"
#include "tensorc_export.h"

/* conv 3x3 (4 out ch) -> reshape -> fc (3) -> softmax, on a [1,4,4,2] input */
static tc_graphdef *tiny_model(void) {
  tc_graphdef *g;
  if (tc_graphdef_create(&g)) return NULL;
  float w[4 * 3 * 3 * 2], b[4] = {0.1f, -0.2f, 0.3f, 0.0f}, fw[3 * 64], fb[3] = {0.5f, -0.5f, 0};
  for (int i = 0; i < 72; i++) w[i] = (float)((i * 37) % 19 - 9) / (10.0f * (1 + i / 18));
  for (int i = 0; i < 192; i++) fw[i] = (float)((i * 11) % 23 - 11) / 40.0f;
  int x = tc_graphdef_add_tensor(g, "x", TC_DTYPE_F32, 4, (int32_t[]){1, 4, 4, 2}, NULL, 0);
  int wt = tc_graphdef_add_tensor(g, "w", TC_DTYPE_F32, 4, (int32_t[]){4, 3, 3, 2}, w, sizeof w);
  int bt = tc_graphdef_add_tensor(g, "b", TC_DTYPE_F32, 1, (int32_t[]){4}, b, sizeof b);
  int c = tc_graphdef_add_tensor(g, "conv", TC_DTYPE_F32, 4, (int32_t[]){1, 4, 4, 4}, NULL, 0);
  int shp = tc_graphdef_add_tensor(g, "shape", TC_DTYPE_I32, 1, (int32_t[]){2}, (int32_t[]){1, 64}, 8);
  int r = tc_graphdef_add_tensor(g, "flat", TC_DTYPE_F32, 2, (int32_t[]){1, 64}, NULL, 0);
  int fwt = tc_graphdef_add_tensor(g, "fw", TC_DTYPE_F32, 2, (int32_t[]){3, 64}, fw, sizeof fw);
  int fbt = tc_graphdef_add_tensor(g, "fb", TC_DTYPE_F32, 1, (int32_t[]){3}, fb, sizeof fb);
  int l = tc_graphdef_add_tensor(g, "logits", TC_DTYPE_F32, 2, (int32_t[]){1, 3}, NULL, 0);
  int y = tc_graphdef_add_tensor(g, "probs", TC_DTYPE_F32, 2, (int32_t[]){1, 3}, NULL, 0);
  int op = tc_graphdef_add_op(g, 3, 3, (int32_t[]){x, wt, bt}, 1, (int32_t[]){c});
  tc_graphdef_op_set_int(g, op, TC_OPT_CONV_PADDING, TC_TFL_PADDING_SAME);
  tc_graphdef_op_set_int(g, op, TC_OPT_CONV_STRIDE_W, 1);
  tc_graphdef_op_set_int(g, op, TC_OPT_CONV_STRIDE_H, 1);
  tc_graphdef_op_set_int(g, op, TC_OPT_CONV_ACTIVATION, TC_TFL_ACT_RELU);
  op = tc_graphdef_add_op(g, 22, 2, (int32_t[]){c, shp}, 1, (int32_t[]){r});
  tc_graphdef_op_set_ints(g, op, TC_OPT_RESHAPE_NEW_SHAPE, 2, (int32_t[]){1, 64});
  tc_graphdef_add_op(g, 9, 3, (int32_t[]){r, fwt, fbt}, 1, (int32_t[]){l});
  op = tc_graphdef_add_op(g, 25, 1, (int32_t[]){l}, 1, (int32_t[]){y});
  tc_graphdef_op_set_float(g, op, TC_OPT_SOFTMAX_BETA, 1.0f);
  tc_graphdef_set_io(g, 1, (int32_t[]){x}, 1, (int32_t[]){y});
  return g;
}

static tc_status rand_sample(void *user, int k, int input, float *d, size_t n) {
  (void)user;
  uint32_t s = 2654435761u * (uint32_t)(k + 1);
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    d[i] = (float)(s >> 8) / 16777216.0f * 2 - 1;
  }
  return input == 0 ? TC_OK : TC_ERR_ARG;
}

/* Runs a written description on a float input (quantized if the input is int8); output 0 as
 * floats (dequantized). Returns the element count or -1. */
static int run_float(tc_graphdef *g, const float *in, size_t n_in, float *out, int cap) {
  void *bytes;
  size_t size;
  tc_model *m = NULL;
  tc_interp *it = NULL;
  int n = -1;
  if (tc_graphdef_write(g, &bytes, &size)) return -1;
  if (!tc_model_load_memory(bytes, size, NULL, &m) && !tc_interp_create(m, NULL, &it) &&
      !tc_interp_prepare(it)) {
    tc_tensor_info t;
    tc_interp_tensor(it, tc_interp_input_index(it, 0), &t);
    int8_t q[4096];
    if (t.dtype == TC_DTYPE_I8) {
      for (size_t i = 0; i < n_in; i++) {
        double v = round(in[i] / t.scales[0]) + (double)t.zero_points[0];
        q[i] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
      }
      tc_interp_set_input(it, 0, q, n_in);
    } else {
      tc_interp_set_input(it, 0, in, n_in * 4);
    }
    if (!tc_interp_invoke(it)) {
      tc_interp_tensor(it, tc_interp_output_index(it, 0), &t);
      n = (int)(t.size / tc_dtype_size(t.dtype));
      for (int i = 0; i < n && i < cap; i++)
        out[i] = t.dtype == TC_DTYPE_F32 ? ((float *)t.data)[i]
                                         : t.scales[0] * (float)(((int8_t *)t.data)[i] - t.zero_points[0]);
    }
  }
  tc_interp_destroy(it);
  tc_model_destroy(m);
  tc_export_free(bytes);
  return n;
}

static const xtensor *by_name(const tc_graphdef *g, const char *name) {
  for (int i = 0; i < g->sg[0].n_t; i++)
    if (!strcmp(g->sg[0].t[i].name, name)) return &g->sg[0].t[i];
  return NULL;
}

TC_TEST(export_quantize_int8_structure_and_accuracy) {
  tc_graphdef *g = tiny_model(), *q = NULL, *q2 = NULL;
  CHECK(g != NULL);
  tc_quant_options o;
  memset(&o, 0, sizeof o);
  o.mode = TC_QUANT_INT8;
  o.n_samples = 8;
  o.sample = rand_sample;
  CHECK_EQ(tc_quantize(g, &o, &q), TC_OK);
  const xsubgraph *s = &q->sg[0];
  /* edges: QUANTIZE first, DEQUANTIZE last; float model input/output keep their names */
  CHECK_EQ(s->op[0].builtin, 114);
  CHECK_EQ(s->op[s->n_op - 1].builtin, 6);
  CHECK(s->t[s->in[0]].dtype == TC_DTYPE_F32 && !strcmp(s->t[s->in[0]].name, "x"));
  CHECK(s->t[s->out[0]].dtype == TC_DTYPE_F32 && !strcmp(s->t[s->out[0]].name, "probs"));
  const xtensor *w = by_name(q, "w"), *b = by_name(q, "b"), *xi = by_name(q, "x_int8");
  const xtensor *fw = by_name(q, "fw"), *conv = by_name(q, "conv"), *flat = by_name(q, "flat");
  const xtensor *probs = by_name(q, "probs_int8");
  CHECK(w && b && xi && fw && conv && flat && probs);
  if (w && b && xi && fw && conv && flat && probs) {
    CHECK(w->dtype == TC_DTYPE_I8 && w->n_scales == 4 && w->axis == 0);
    CHECK(fw->dtype == TC_DTYPE_I8 && fw->n_scales == 3 && fw->axis == 0);
    /* symmetric weights: the largest |w| of channel 0 maps to 127 */
    int mx = 0;
    for (int i = 0; i < 18; i++) mx = abs(((int8_t *)w->data)[i]) > mx ? abs(((int8_t *)w->data)[i]) : mx;
    CHECK_EQ(mx, 127);
    CHECK(b->dtype == TC_DTYPE_I32 && b->n_scales == 4);
    for (int c = 0; c < 4; c++) CHECK_NEAR(b->scale[c], xi->scale[0] * w->scale[c], 1e-12);
    CHECK_EQ(((int32_t *)b->data)[1], (int32_t)lround(-0.2 / b->scale[1]));
    /* RESHAPE output shares the conv output's quantization; SOFTMAX output is fixed */
    CHECK(flat->scale[0] == conv->scale[0] && flat->zp[0] == conv->zp[0]);
    CHECK_NEAR(probs->scale[0], 1.0 / 256, 0);
    CHECK_EQ(probs->zp[0], -128);
    /* relu output range: zero point at -128 */
    CHECK_EQ(conv->zp[0], -128);
  }
  /* accuracy against float on a sample that was not in the calibration set */
  float in[32], fo[3], qo[3];
  rand_sample(NULL, 100, 0, in, 32);
  CHECK_EQ(run_float(g, in, 32, fo, 3), 3);
  CHECK_EQ(run_float(q, in, 32, qo, 3), 3);
  for (int i = 0; i < 3; i++) CHECK_NEAR(qo[i], fo[i], 0.03);
  /* int8 inputs and outputs */
  o.int8_io = 1;
  CHECK_EQ(tc_quantize(g, &o, &q2), TC_OK);
  CHECK(q2->sg[0].t[q2->sg[0].in[0]].dtype == TC_DTYPE_I8);
  CHECK(q2->sg[0].t[q2->sg[0].out[0]].dtype == TC_DTYPE_I8);
  CHECK(q2->sg[0].op[0].builtin == 3); /* no QUANTIZE */
  CHECK_EQ(run_float(q2, in, 32, qo, 3), 3);
  for (int i = 0; i < 3; i++) CHECK_NEAR(qo[i], fo[i], 0.03);
  /* the report covers conv, reshape, fc and softmax, with a finite SQNR above 20 dB */
  tc_quant_layer *layers = NULL;
  int n = 0;
  CHECK_EQ(tc_quant_report(g, q, &o, &layers, &n), TC_OK);
  CHECK_EQ(n, 4);
  for (int i = 0; i < n; i++) CHECK_MSG(layers[i].sqnr_db > 20, "%s: %.1f dB", layers[i].name, layers[i].sqnr_db);
  tc_export_free(layers);
  tc_graphdef_destroy(q);
  tc_graphdef_destroy(q2);
  tc_graphdef_destroy(g);
}

TC_TEST(export_quantize_percentile_and_errors) {
  tc_graphdef *g = tiny_model(), *q = NULL, *qp = NULL;
  tc_quant_options o;
  memset(&o, 0, sizeof o);
  o.mode = TC_QUANT_INT8;
  /* no representative data */
  CHECK_EQ(tc_quantize(g, &o, &q), TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_graphdef_errmsg(q), "representative");
  tc_graphdef_destroy(q);
  o.n_samples = 8;
  o.sample = rand_sample;
  CHECK_EQ(tc_quantize(g, &o, &q), TC_OK);
  o.percentile = 90;
  CHECK_EQ(tc_quantize(g, &o, &qp), TC_OK);
  const xtensor *a = by_name(q, "x_int8"), *b = by_name(qp, "x_int8");
  CHECK(a && b && b->scale[0] < a->scale[0] * 0.95); /* clipped tails: a finer scale */
  tc_graphdef_destroy(q);
  tc_graphdef_destroy(qp);
  /* an operator without an int8 path is named */
  int t0 = tc_graphdef_add_tensor(g, "e", TC_DTYPE_F32, 2, (int32_t[]){1, 3}, NULL, 0);
  tc_graphdef_add_op(g, 47, 1, (int32_t[]){by_name(g, "probs") - g->sg[0].t}, 1, (int32_t[]){t0});
  tc_graphdef_set_io(g, 1, (int32_t[]){0}, 1, (int32_t[]){t0});
  o.percentile = 0;
  CHECK_EQ(tc_quantize(g, &o, &q), TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(tc_graphdef_errmsg(q), "EXP");
  tc_graphdef_destroy(q);
  tc_graphdef_destroy(g);
}

/* dynamic range and float16 on a shared model: close to float, smaller files */
TC_TEST(export_quantize_dynamic_and_float16_shared) {
  tc_model *m = NULL;
  tc_graphdef *g = NULL;
  if (tc_model_load_file(tc_test_shared("models/mlperf_tiny/vww_96_float.tflite"), NULL, &m) ||
      tc_graphdef_from_model(m, &g)) {
    CHECK_MSG(0, "vww_96_float: %s", tc_model_errmsg(m));
    tc_model_destroy(m);
    return;
  }
  size_t n_in = 96 * 96 * 3;
  float *in = malloc(n_in * 4), fo[2], qo[2];
  rand_sample(NULL, 3, 0, in, n_in);
  for (size_t i = 0; i < n_in; i++) in[i] = (in[i] + 1) / 2;
  CHECK_EQ(run_float(g, in, n_in, fo, 2), 2);
  void *fb;
  size_t fsize;
  CHECK_EQ(tc_graphdef_write(g, &fb, &fsize), TC_OK);
  tc_export_free(fb);
  for (int mode = TC_QUANT_DYNAMIC; mode <= TC_QUANT_FLOAT16; mode++) {
    tc_graphdef *q = NULL;
    tc_quant_options o;
    memset(&o, 0, sizeof o);
    o.mode = (tc_quant_mode)mode;
    CHECK_EQ(tc_quantize(g, &o, &q), TC_OK);
    void *qb;
    size_t qsize;
    CHECK_EQ(tc_graphdef_write(q, &qb, &qsize), TC_OK);
    tc_export_free(qb);
    int n_f16 = 0, n_i8 = 0;
    for (int i = 0; i < q->sg[0].n_t; i++) {
      n_f16 += q->sg[0].t[i].dtype == TC_DTYPE_F16;
      n_i8 += q->sg[0].t[i].dtype == TC_DTYPE_I8 && q->sg[0].t[i].data != NULL;
    }
    if (mode == TC_QUANT_FLOAT16) {
      CHECK(n_f16 > 20 && n_i8 == 0);
      CHECK(qsize < fsize * 0.55);
    } else {
      CHECK(n_i8 > 5 && n_f16 == 0);
      CHECK(qsize < fsize * 0.75);
    }
    CHECK_EQ(run_float(q, in, n_in, qo, 2), 2);
    double tol = mode == TC_QUANT_FLOAT16 ? 2e-3 : 2e-2;
    for (int i = 0; i < 2; i++) CHECK_NEAR(qo[i], fo[i], tol);
    printf("  vww_96 %s: %zu -> %zu bytes, outputs %.5f %.5f (float %.5f %.5f)\n",
           mode == TC_QUANT_FLOAT16 ? "float16" : "dynamic", fsize, qsize, qo[0], qo[1], fo[0], fo[1]);
    tc_graphdef_destroy(q);
  }
  free(in);
  tc_graphdef_destroy(g);
  tc_model_destroy(m);
}

/* Dynamic range on a dense model: ad01_fp32's FULLY_CONNECTED weights become int8 (per tensor)
 * and tensorc runs them as hybrid FC; outputs stay close to float. */
TC_TEST(export_quantize_dynamic_fully_connected) {
  tc_model *m = NULL;
  tc_graphdef *g = NULL;
  if (tc_model_load_file(tc_test_shared("models/mlperf_tiny/ad01_fp32.tflite"), NULL, &m) ||
      tc_graphdef_from_model(m, &g)) {
    CHECK_MSG(0, "ad01_fp32: %s", tc_model_errmsg(m));
    tc_model_destroy(m);
    return;
  }
  size_t n = 0;
  float *in = tc_test_read_file(tc_test_shared("models/golden/mlperf_tiny/ad01_fp32/win100/input_0.bin"), &n);
  CHECK(in && n == 640 * 4);
  float fo[640], qo[640];
  CHECK_EQ(run_float(g, in, 640, fo, 640), 640);
  tc_quant_options o;
  memset(&o, 0, sizeof o);
  o.mode = TC_QUANT_DYNAMIC;
  tc_graphdef *q = NULL;
  CHECK_EQ(tc_quantize(g, &o, &q), TC_OK);
  int n_i8 = 0;
  for (int i = 0; q && i < q->sg[0].n_t; i++)
    n_i8 += q->sg[0].t[i].dtype == TC_DTYPE_I8 && q->sg[0].t[i].data != NULL;
  CHECK(n_i8 >= 8); /* the large FC weights (640x128, 128x128, ...) */
  CHECK_EQ(run_float(q, in, 640, qo, 640), 640);
  double worst = 0, scale = 0;
  for (int i = 0; i < 640; i++) {
    worst = fmax(worst, fabs(qo[i] - fo[i]));
    scale = fmax(scale, fabs(fo[i]));
  }
  CHECK_MSG(worst < 0.05 * scale, "hybrid FC differs from float by %g (outputs up to %g)", worst, scale);
  tc_graphdef_destroy(q);
  tc_graphdef_destroy(g);
  tc_model_destroy(m);
  free(in);
}
