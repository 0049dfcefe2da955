/* test_custom.c: the public custom-operator API (tc_custom_op in tc_interp_options) on
 * coral/model_invoking_error.tflite, whose only operator is the custom `fake-op-double`
 * (uint8 [1,3] in, float32 out with an empty stored shape). The user op implemented here gives
 * output = 2 * dequantized input, with the output shape set in prepare. Also: unregistered ops
 * fail naming themselves, errors from every callback propagate with the op name, user ops take
 * precedence over tensorc's own custom ops. */
#include <stdlib.h>

#include "tc_test.h"
#include "tensorc_lite.h"

static const char *g_model = "models/coral/model_invoking_error.tflite";

typedef struct {
  int n_init, n_prepare, n_invoke, n_free, n_reset;
  int fail_init, fail_prepare, fail_invoke, shape_in_invoke;
  tc_status shape_in_invoke_status;
  size_t options_size;
} counters;

static tc_status dbl_init(tc_op_ctx *ctx, const void *options, size_t options_size, void **state) {
  counters *cn = tc_op_user(ctx);
  (void)options;
  cn->n_init++;
  cn->options_size = options_size;
  if (cn->fail_init) return tc_op_error(ctx, TC_ERR_MODEL, "init refused (%d)", 7);
  *state = cn; /* handed back to the other callbacks and to free */
  return TC_OK;
}

static tc_status dbl_prepare(tc_op_ctx *ctx, void *state) {
  counters *cn = state;
  cn->n_prepare++;
  if (cn->fail_prepare) return tc_op_error(ctx, TC_ERR_ARG, "input scale %s", "not positive");
  if (tc_op_input_count(ctx) != 1 || tc_op_output_count(ctx) != 1)
    return tc_op_error(ctx, TC_ERR_MODEL, "expected 1 input and 1 output");
  tc_tensor_info in, out;
  if (tc_op_input(ctx, 0, &in) || tc_op_output(ctx, 0, &out))
    return tc_op_error(ctx, TC_ERR_MODEL, "missing tensor");
  if (in.dtype != TC_DTYPE_U8 && in.dtype != TC_DTYPE_F32)
    return tc_op_error(ctx, TC_ERR_UNSUPPORTED, "input dtype %s", tc_dtype_name(in.dtype));
  if (out.dtype != TC_DTYPE_F32)
    return tc_op_error(ctx, TC_ERR_UNSUPPORTED, "output dtype %s", tc_dtype_name(out.dtype));
  return tc_op_set_output_shape(ctx, 0, in.n_dims, in.dims);
}

static tc_status dbl_invoke(tc_op_ctx *ctx, void *state) {
  counters *cn = state;
  cn->n_invoke++;
  if (cn->fail_invoke) return tc_op_error(ctx, TC_ERR_RUNTIME, "value out of range");
  if (cn->shape_in_invoke) {
    int32_t d[2] = {1, 3};
    cn->shape_in_invoke_status = tc_op_set_output_shape(ctx, 0, 2, d);
  }
  tc_tensor_info in, out;
  tc_op_input(ctx, 0, &in);
  tc_op_output(ctx, 0, &out);
  size_t n = in.size / tc_dtype_size(in.dtype);
  float scale = in.n_scales ? in.scales[0] : 1.0f;
  float zp = in.n_scales ? (float)in.zero_points[0] : 0.0f;
  float *o = out.data;
  for (size_t i = 0; i < n; i++) {
    float x = in.dtype == TC_DTYPE_U8 ? ((float)((const uint8_t *)in.data)[i] - zp) * scale
                                      : ((const float *)in.data)[i];
    o[i] = 2.0f * x;
  }
  return TC_OK;
}

static void dbl_free(void *state) {
  counters *cn = state;
  if (cn) cn->n_free++;
}

static void dbl_reset(tc_op_ctx *ctx, void *state) {
  counters *cn = state;
  if (cn && tc_op_user(ctx) == cn) cn->n_reset++;
}

static tc_custom_op make_op(counters *cn) {
  tc_custom_op op = {"fake-op-double", dbl_init, dbl_prepare, dbl_invoke, dbl_free, cn, dbl_reset};
  return op;
}

static tc_model *load(void) {
  tc_model *m = NULL;
  tc_status s = tc_model_load_file(tc_test_shared(g_model), NULL, &m);
  CHECK_MSG(s == TC_OK, "load %s: %s", g_model, tc_model_errmsg(m));
  if (s) {
    tc_model_destroy(m);
    return NULL;
  }
  return m;
}

TC_TEST(api_custom_fake_op_double_runs) {
  tc_model *m = load();
  if (!m) return;
  counters cn = {0};
  tc_custom_op op = make_op(&cn);
  tc_interp_options o = {0};
  o.custom_ops = &op;
  o.n_custom_ops = 1;
  tc_interp *it = NULL;
  tc_status s = tc_interp_create(m, &o, &it);
  CHECK_MSG(s == TC_OK, "create: %s", tc_interp_errmsg(it));
  CHECK_EQ(cn.n_init, 1);
  if (s == TC_OK) s = tc_interp_prepare(it);
  CHECK_MSG(s == TC_OK, "prepare: %s", tc_interp_errmsg(it));
  CHECK_EQ(cn.n_prepare, 1);
  tc_tensor_info out;
  if (s == TC_OK) {
    CHECK_EQ(tc_interp_tensor(it, tc_interp_output_index(it, 0), &out), TC_OK);
    CHECK_EQ(out.n_dims, 2); /* set by our prepare from the input's [1,3] */
    CHECK_EQ(out.dims[0], 1);
    CHECK_EQ(out.dims[1], 3);
    CHECK_EQ(out.size, 12);
    const uint8_t in[3] = {1, 2, 250};
    float got[3] = {0};
    CHECK_EQ(tc_interp_set_input(it, 0, in, 3), TC_OK);
    CHECK_EQ(tc_interp_invoke(it), TC_OK);
    CHECK_EQ(tc_interp_get_output(it, 0, got, sizeof got), TC_OK);
    /* the input is uint8 without quantization parameters: dequantized value = raw value */
    CHECK_NEAR(got[0], 2.0, 0);
    CHECK_NEAR(got[1], 4.0, 0);
    CHECK_NEAR(got[2], 500.0, 0);
    /* a second invoke with other data */
    const uint8_t in2[3] = {0, 128, 255};
    CHECK_EQ(tc_interp_set_input(it, 0, in2, 3), TC_OK);
    CHECK_EQ(tc_interp_invoke(it), TC_OK);
    CHECK_EQ(tc_interp_get_output(it, 0, got, sizeof got), TC_OK);
    CHECK_NEAR(got[0], 0.0, 0);
    CHECK_NEAR(got[1], 256.0, 0);
    CHECK_NEAR(got[2], 510.0, 0);
    CHECK_EQ(cn.n_invoke, 2);
    /* reset_variables reaches the op's reset callback with its state */
    CHECK_EQ(cn.n_reset, 0);
    CHECK_EQ(tc_interp_reset_variables(it), TC_OK);
    CHECK_EQ(cn.n_reset, 1);
  }
  CHECK_EQ(cn.n_free, 0);
  tc_interp_destroy(it);
  CHECK_EQ(cn.n_free, 1); /* free gets the state init set */
  tc_model_destroy(m);
}

TC_TEST(api_custom_unregistered_fails_naming_op) {
  tc_model *m = load();
  if (!m) return;
  tc_interp *it = NULL;
  tc_status s = tc_interp_create(m, NULL, &it);
  CHECK_EQ(s, TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(tc_interp_errmsg(it), "fake-op-double");
  tc_interp_destroy(it);
  /* a user op under another name does not match */
  counters cn = {0};
  tc_custom_op op = make_op(&cn);
  op.name = "fake-op-triple";
  tc_interp_options o = {0};
  o.custom_ops = &op;
  o.n_custom_ops = 1;
  s = tc_interp_create(m, &o, &it);
  CHECK_EQ(s, TC_ERR_UNSUPPORTED);
  CHECK_STR_CONTAINS(tc_interp_errmsg(it), "fake-op-double");
  CHECK_EQ(cn.n_init, 0);
  tc_interp_destroy(it);
  tc_model_destroy(m);
}

/* Creates (and prepares, invokes) with `cn` configured to fail somewhere; returns the first
 * failing status and copies the message. */
static tc_status run_with(tc_model *m, counters *cn, char *msg, size_t msz) {
  tc_custom_op op = make_op(cn);
  tc_interp_options o = {0};
  o.custom_ops = &op;
  o.n_custom_ops = 1;
  tc_interp *it = NULL;
  tc_status s = tc_interp_create(m, &o, &it);
  if (s == TC_OK) s = tc_interp_prepare(it);
  if (s == TC_OK) {
    const uint8_t in[3] = {1, 2, 3};
    s = tc_interp_set_input(it, 0, in, 3);
  }
  if (s == TC_OK) s = tc_interp_invoke(it);
  snprintf(msg, msz, "%s", tc_interp_errmsg(it));
  tc_interp_destroy(it);
  return s;
}

TC_TEST(api_custom_errors_propagate) {
  tc_model *m = load();
  if (!m) return;
  char msg[512];
  counters cn = {0};
  cn.fail_prepare = 1;
  CHECK_EQ(run_with(m, &cn, msg, sizeof msg), TC_ERR_ARG);
  CHECK_STR_CONTAINS(msg, "fake-op-double");
  CHECK_STR_CONTAINS(msg, "input scale not positive");
  CHECK_EQ(cn.n_invoke, 0);
  memset(&cn, 0, sizeof cn);
  cn.fail_init = 1;
  CHECK_EQ(run_with(m, &cn, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "fake-op-double");
  CHECK_STR_CONTAINS(msg, "init refused (7)");
  CHECK_EQ(cn.n_prepare, 0);
  memset(&cn, 0, sizeof cn);
  cn.fail_invoke = 1;
  CHECK_EQ(run_with(m, &cn, msg, sizeof msg), TC_ERR_RUNTIME);
  CHECK_STR_CONTAINS(msg, "fake-op-double");
  CHECK_STR_CONTAINS(msg, "value out of range");
  /* shapes are fixed after prepare */
  memset(&cn, 0, sizeof cn);
  cn.shape_in_invoke = 1;
  CHECK_EQ(run_with(m, &cn, msg, sizeof msg), TC_OK);
  CHECK_EQ(cn.shape_in_invoke_status, TC_ERR_STATE);
  /* an op without invoke is refused at create, naming it */
  memset(&cn, 0, sizeof cn);
  tc_custom_op op = make_op(&cn);
  op.invoke = NULL;
  tc_interp_options o = {0};
  o.custom_ops = &op;
  o.n_custom_ops = 1;
  tc_interp *it = NULL;
  CHECK(tc_interp_create(m, &o, &it) != TC_OK);
  CHECK_STR_CONTAINS(tc_interp_errmsg(it), "fake-op-double");
  tc_interp_destroy(it);
  tc_model_destroy(m);
}

static int g_user_detpp_inits;
static tc_status user_detpp_init(tc_op_ctx *ctx, const void *o, size_t n, void **state) {
  (void)ctx, (void)o, (void)n, (void)state;
  g_user_detpp_inits++;
  return TC_OK;
}
static tc_status user_detpp_invoke(tc_op_ctx *ctx, void *state) {
  (void)ctx, (void)state;
  return TC_OK;
}

/* A user op named like one of tensorc's own custom ops replaces it. */
TC_TEST(api_custom_user_op_overrides_builtin_custom) {
  tc_model *m = NULL;
  if (tc_model_load_file(tc_test_shared("models/tflite_support/ssd_mobilenet_v1_quant.tflite"),
                         NULL, &m) != TC_OK) {
    CHECK_MSG(0, "cannot load the SSD model");
    tc_model_destroy(m);
    return;
  }
  tc_custom_op op = {"TFLite_Detection_PostProcess", user_detpp_init, NULL, user_detpp_invoke,
                     NULL, NULL};
  tc_interp_options o = {0};
  o.custom_ops = &op;
  o.n_custom_ops = 1;
  tc_interp *it = NULL;
  g_user_detpp_inits = 0;
  tc_status s = tc_interp_create(m, &o, &it);
  CHECK_MSG(s == TC_OK, "create: %s", tc_interp_errmsg(it));
  CHECK_EQ(g_user_detpp_inits, 1);
  tc_interp_destroy(it);
  /* without it, tensorc's own implementation resolves */
  s = tc_interp_create(m, NULL, &it);
  CHECK_MSG(s == TC_OK, "create: %s", tc_interp_errmsg(it));
  CHECK_EQ(g_user_detpp_inits, 1);
  tc_interp_destroy(it);
  tc_model_destroy(m);
}
