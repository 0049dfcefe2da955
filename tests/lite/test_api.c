/* test_api.c: the public interpreter API: running entirely from caller memory with no malloc,
 * arena-too-small errors, resizing dynamic inputs (re-plans), signatures, phase errors, and
 * the memory planner's no-overlap guarantee on every float model. */
#include <stdlib.h>

#include "lite/planner.h"
#include "tc_test.h"
#include "tensorc_lite.h"

static int g_allocs;
static void *counting_realloc(void *user, void *ptr, size_t size) {
  (void)user;
  if (size == 0) {
    free(ptr);
    return NULL;
  }
  g_allocs++;
  return realloc(ptr, size);
}

static float *read_floats(const char *rel, size_t *n) {
  size_t size = 0;
  float *p = tc_test_read_file(tc_test_shared(rel), &size);
  *n = size / sizeof(float);
  return p;
}

/* hello_world_float with model index and interpreter both in caller buffers: zero mallocs. */
TC_TEST(api_no_malloc_arena) {
  size_t size = 0;
  void *bytes = tc_test_read_file(tc_test_shared("models/tflm/hello_world_float.tflite"), &size);
  CHECK(bytes != NULL);
  if (!bytes) return;
  size_t index_size = tc_model_index_size(bytes, size);
  CHECK(index_size > 0);
  static unsigned char model_mem[1 << 16], arena[1 << 16];
  CHECK(index_size <= sizeof model_mem);
  size_t n_in = 0, n_out = 0;
  float *in = read_floats("models/golden/tflm/hello_world_float/x1/input_0.bin", &n_in);
  float *gold = read_floats("models/golden/tflm/hello_world_float/x1/output_0.bin", &n_out);
  CHECK(in && gold && n_in == 1 && n_out == 1);

  g_allocs = 0;
  tc_set_allocator(counting_realloc, NULL);
  tc_model_options mo = {model_mem, sizeof model_mem};
  tc_interp_options io = {0};
  io.arena = arena;
  io.arena_size = sizeof arena;
  tc_model *m = NULL;
  tc_interp *it = NULL;
  float out = 0;
  CHECK_EQ(tc_model_load_memory(bytes, size, &mo, &m), TC_OK);
  CHECK_EQ(tc_interp_create(m, &io, &it), TC_OK);
  CHECK_EQ(tc_interp_prepare(it), TC_OK);
  CHECK_EQ(tc_interp_set_input(it, 0, in, sizeof(float)), TC_OK);
  CHECK_EQ(tc_interp_invoke(it), TC_OK);
  CHECK_EQ(tc_interp_get_output(it, 0, &out, sizeof out), TC_OK);
  size_t used = tc_interp_arena_used(it);
  tc_interp_destroy(it);
  tc_model_destroy(m);
  tc_set_allocator(NULL, NULL);
  CHECK_EQ(g_allocs, 0);
  CHECK_NEAR(out, gold[0], 1e-5);
  CHECK(used > 0 && used < sizeof arena);

  /* An arena one byte too small for the plan fails at prepare with a clear message. */
  CHECK_EQ(tc_model_load_memory(bytes, size, NULL, &m), TC_OK);
  io.arena_size = used - 64;
  tc_status s = tc_interp_create(m, &io, &it);
  if (s == TC_OK) s = tc_interp_prepare(it);
  CHECK_EQ(s, TC_ERR_NOMEM);
  CHECK_STR_CONTAINS(tc_interp_errmsg(it), "arena");
  tc_interp_destroy(it);
  io.arena_size = used;
  CHECK_EQ(tc_interp_create(m, &io, &it), TC_OK);
  CHECK_EQ(tc_interp_prepare(it), TC_OK);
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(bytes);
  free(in);
  free(gold);
}

/* ad01_fp32 has a dynamic batch: run three golden windows as one batch of 3. */
TC_TEST(api_resize_input_batch) {
  const char *cases[3] = {"win0", "win100", "win195"};
  tc_model *m = NULL;
  tc_interp *it = NULL;
  CHECK_EQ(tc_model_load_file(tc_test_shared("models/mlperf_tiny/ad01_fp32.tflite"), NULL, &m), TC_OK);
  CHECK_EQ(tc_interp_create(m, NULL, &it), TC_OK);
  CHECK_EQ(tc_interp_prepare(it), TC_OK);
  size_t batch1 = tc_interp_activations_size(it);
  int32_t dims[2] = {3, 640};
  CHECK_EQ(tc_interp_resize_input(it, 0, 2, dims), TC_OK);
  CHECK_EQ(tc_interp_invoke(it), TC_ERR_STATE); /* must prepare again */
  CHECK_EQ(tc_interp_prepare(it), TC_OK);
  CHECK(tc_interp_activations_size(it) > batch1);
  CHECK_EQ(tc_interp_plan_check_overlap(it), 0);
  float *in = calloc(3 * 640, sizeof(float)), *out = calloc(3 * 640, sizeof(float));
  for (int b = 0; b < 3; b++) {
    char rel[256];
    size_t n = 0;
    snprintf(rel, sizeof rel, "models/golden/mlperf_tiny/ad01_fp32/%s/input_0.bin", cases[b]);
    float *x = read_floats(rel, &n);
    CHECK(x && n == 640);
    if (x) memcpy(in + b * 640, x, 640 * sizeof(float));
    free(x);
  }
  CHECK_EQ(tc_interp_set_input(it, 0, in, 3 * 640 * sizeof(float)), TC_OK);
  CHECK_EQ(tc_interp_invoke(it), TC_OK);
  CHECK_EQ(tc_interp_get_output(it, 0, out, 3 * 640 * sizeof(float)), TC_OK);
  for (int b = 0; b < 3; b++) {
    char rel[256];
    size_t n = 0;
    snprintf(rel, sizeof rel, "models/golden/mlperf_tiny/ad01_fp32/%s/output_0.bin", cases[b]);
    float *g = read_floats(rel, &n);
    double worst = 0;
    for (size_t k = 0; g && k < 640; k++) worst = fmax(worst, fabs(out[b * 640 + k] - g[k]));
    CHECK_MSG(g && worst <= 0.003, "batch row %d: max diff %g", b, worst);
    free(g);
  }
  /* A fixed dimension cannot change. */
  int32_t bad[2] = {3, 641};
  CHECK_EQ(tc_interp_resize_input(it, 0, 2, bad), TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_interp_errmsg(it), "shape_signature");
  free(in);
  free(out);
  tc_interp_destroy(it);
  tc_model_destroy(m);
}

TC_TEST(api_signatures_and_names) {
  tc_model *m = NULL;
  tc_interp *it = NULL;
  CHECK_EQ(tc_model_load_file(tc_test_shared("models/tflm/hello_world_float.tflite"), NULL, &m), TC_OK);
  CHECK_EQ(tc_model_signature_count(m), 1);
  CHECK(strcmp(tc_model_signature_key(m, 0), "serving_default") == 0);
  CHECK_EQ(tc_model_schema_version(m), 3);
  CHECK_STR_CONTAINS(tc_model_description(m), "MLIR");
  int found_runtime = 0;
  for (int i = 0; i < tc_model_metadata_count(m); i++) {
    const char *name;
    const void *data;
    size_t size;
    CHECK_EQ(tc_model_metadata(m, i, &name, &data, &size), TC_OK);
    if (strcmp(name, "min_runtime_version") == 0) found_runtime = size > 0;
  }
  CHECK(found_runtime);
  CHECK_EQ(tc_interp_create(m, NULL, &it), TC_OK);
  CHECK_EQ(tc_interp_invoke(it), TC_ERR_STATE);
  CHECK_STR_CONTAINS(tc_interp_errmsg(it), "prepare");
  CHECK_EQ(tc_interp_prepare(it), TC_OK);
  CHECK_EQ(tc_interp_signature_input(it, "serving_default", "dense_input"), 0);
  CHECK_EQ(tc_interp_signature_input(it, NULL, "dense_input"), 0);
  CHECK_EQ(tc_interp_signature_input(it, "serving_default", "nope"), -1);
  CHECK_EQ(tc_interp_signature_input(it, "other", "dense_input"), -1);
  CHECK(tc_interp_signature_output(it, NULL, "dense_2") == 0 ||
        tc_interp_signature_output(it, NULL, "dense_5") == 0 ||
        tc_interp_output_count(it) == 1);
  int idx = tc_interp_tensor_find(it, "serving_default_dense_input:0");
  CHECK_EQ(idx, tc_interp_input_index(it, 0));
  float x[2] = {0};
  CHECK_EQ(tc_interp_set_input(it, 0, x, sizeof x), TC_ERR_ARG);
  CHECK_STR_CONTAINS(tc_interp_errmsg(it), "takes 4 bytes");
  CHECK_EQ(tc_interp_set_input(it, 3, x, 4), TC_ERR_ARG);
  tc_interp_destroy(it);
  tc_model_destroy(m);
  tc_interp_destroy(NULL);
  tc_model_destroy(NULL);
}

/* Planner on hand-made lifetimes: chain a(0-1) b(1-2) c(2-3) of sizes 100, 200, 100: a and c can
 * share bytes, b cannot overlap either; the optimum is 300 (with 16-byte alignment 304+). */
TC_TEST(planner_greedy_first_fit) {
  tc__plan_buf b[4] = {{100, 0, 1, 0}, {200, 1, 2, 0}, {100, 2, 3, 0}, {0, 0, 3, 0}};
  int32_t order[4];
  size_t total = tc__plan(b, 4, 16, order);
  CHECK_EQ(tc__plan_overlaps(b, 4), 0);
  CHECK_EQ(total, 112 + 208);
  CHECK_EQ(b[1].offset, 0);                 /* largest first */
  CHECK_EQ(b[0].offset, b[2].offset);       /* disjoint lifetimes share */
  /* Deliberate overlap is detected. */
  b[2].offset = b[1].offset;
  CHECK_EQ(tc__plan_overlaps(b, 4), 1);
}

TC_TEST(planner_no_overlap_on_models) {
  const char *models[] = {"tflite_support/mobilenet_v1_0.25_224_float.tflite",
                          "mlperf_tiny/ic_resnet8_float.tflite", "mlperf_tiny/vww_96_float.tflite",
                          "tflm/magic_wand.tflite", "tflm/mnist_lstm_float.tflite",
                          "tflite_support/movie_review.tflite"};
  for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/%s", models[i]);
    tc_model *m = NULL;
    tc_interp *it = NULL;
    CHECK_EQ(tc_model_load_file(tc_test_shared(rel), NULL, &m), TC_OK);
    CHECK_EQ(tc_interp_create(m, NULL, &it), TC_OK);
    tc_status s = tc_interp_prepare(it);
    CHECK_MSG(s == TC_OK, "%s: %s", models[i], tc_interp_errmsg(it));
    CHECK_EQ(tc_interp_plan_check_overlap(it), 0);
    char map[8192];
    size_t need = tc_interp_plan_print(it, map, sizeof map);
    CHECK(need > 10 && strchr(map, '\n') != NULL);
    tc_interp_destroy(it);
    tc_model_destroy(m);
  }
}

/* Profiling counts every operator once per invoke and models conv arithmetic; a 2-thread
 * interpreter gives the same outputs as a 1-thread one. */
TC_TEST(api_profile_and_threads) {
  tc_model *m = NULL;
  CHECK_EQ(tc_model_load_file(tc_test_shared("models/mlperf_tiny/ic_resnet8_float.tflite"), NULL, &m), TC_OK);
  float out[2][10];
  for (int threads = 1; threads <= 2; threads++) {
    tc_interp_options o = {0};
    o.profile = 1;
    o.n_threads = threads;
    tc_interp *it = NULL;
    CHECK_EQ(tc_interp_create(m, &o, &it), TC_OK);
    CHECK_EQ(tc_interp_prepare(it), TC_OK);
    size_t n = 0;
    float *x = read_floats("models/golden/mlperf_tiny/ic_resnet8_float/cat/input_0.bin", &n);
    CHECK(x && n == 32 * 32 * 3);
    CHECK_EQ(tc_interp_set_input(it, 0, x, n * sizeof(float)), TC_OK);
    CHECK_EQ(tc_interp_invoke(it), TC_OK);
    CHECK_EQ(tc_interp_invoke(it), TC_OK);
    CHECK_EQ(tc_interp_get_output(it, 0, out[threads - 1], sizeof out[0]), TC_OK);
    double conv_flops = 0;
    for (int k = 0; k < tc_interp_op_count(it); k++) {
      tc_op_profile p;
      CHECK_EQ(tc_interp_op_profile(it, k, &p), TC_OK);
      CHECK_EQ(p.count, 2);
      if (p.builtin == 3) conv_flops += p.flops;
    }
    /* ResNet-8 (MLPerf Tiny): about 12.5 M multiply-adds in its convolutions. */
    CHECK(conv_flops > 2 * 10e6 && conv_flops < 2 * 15e6);
    tc_op_profile bad;
    CHECK_EQ(tc_interp_op_profile(it, 999, &bad), TC_ERR_ARG);
    free(x);
    tc_interp_destroy(it);
  }
  for (int i = 0; i < 10; i++) CHECK_NEAR(out[0][i], out[1][i], 1e-6);
  tc_model_destroy(m);
}
