/* test_model.c: the .tflite loader on the real models: every model in ../shared loads (loading
 * is verification; running may still be unsupported), opcode encodings, per-axis quantization,
 * constant data used in place, and inspection queries. */
#include <stdlib.h>

#include "tc_test.h"
#include "tensorc_lite.h"

static const char *g_all[] = {
    "coral/keras_lstm_mnist_ptq", "coral/mobilenet_v1_0.25_128_quant",
    "coral/mobilenet_v2_1.0_224_quant", "coral/model_invoking_error", "coral/split_concat",
    "mlperf_tiny/ad01_fp32", "mlperf_tiny/ad01_int8", "mlperf_tiny/ic_resnet8_float",
    "mlperf_tiny/ic_resnet8_int8", "mlperf_tiny/kws_ref_model_float32",
    "mlperf_tiny/kws_ref_model_int8", "mlperf_tiny/str_ww_ref_model", "mlperf_tiny/vww_96_float",
    "mlperf_tiny/vww_96_int8", "seanet_int16/add0", "seanet_int16/conv0", "seanet_int16/conv10",
    "seanet_int16/leaky_relu0", "seanet_int16/pad0", "seanet_int16/quantize0",
    "seanet_int16/quantize1", "seanet_int16/strided_slice0", "seanet_int16/sub0",
    "seanet_int16/transpose_conv4", "tflite_support/dilated_conv",
    "tflite_support/mobilenet_v1_0.25_224_float", "tflite_support/mobilenet_v1_0.25_224_quant",
    "tflite_support/movie_review", "tflite_support/ssd_mobilenet_v1_quant",
    "tflite_support/test_model_nl_classifier", "tflm/audio_preprocessor_float",
    "tflm/audio_preprocessor_int8", "tflm/dtln_noise_suppression", "tflm/hello_world_float",
    "tflm/hello_world_int8", "tflm/keyword_scrambled", "tflm/keyword_scrambled_8bit",
    "tflm/magic_wand", "tflm/micro_speech_lstm", "tflm/micro_speech_quantized",
    "tflm/mnist_lstm_float", "tflm/mnist_lstm_int8", "tflm/network_tester_model",
    "tflm/person_detect", "tflm/simple_add_model", "tflm/test_conv_model"};

TC_TEST(model_all_shared_models_load) {
  for (size_t i = 0; i < sizeof g_all / sizeof g_all[0]; i++) {
    char rel[256];
    snprintf(rel, sizeof rel, "models/%s.tflite", g_all[i]);
    tc_model *m = NULL;
    tc_status s = tc_model_load_file(tc_test_shared(rel), NULL, &m);
    CHECK_MSG(s == TC_OK, "%s: %s", g_all[i], tc_model_errmsg(m));
    CHECK(tc_model_subgraph_count(m) >= 1);
    CHECK_EQ(tc_model_schema_version(m), 3);
    tc_model_destroy(m);
  }
}

static int count_op(const tc_model *m, int32_t code) {
  tc_subgraph_info si;
  int n = 0;
  for (int g = 0; g < tc_model_subgraph_count(m); g++) {
    tc_model_subgraph_info(m, g, &si);
    for (int k = 0; k < si.n_operators; k++) {
      int32_t c;
      tc_model_operator(m, g, k, &c, NULL);
      n += c == code;
    }
  }
  return n;
}

/* Counts from ../shared/models/MANIFEST.md. */
TC_TEST(model_operator_counts) {
  tc_model *m = NULL;
  CHECK_EQ(tc_model_load_file(tc_test_shared("models/coral/mobilenet_v2_1.0_224_quant.tflite"), NULL, &m), TC_OK);
  CHECK_EQ(count_op(m, 3), 36); /* CONV_2D */
  CHECK_EQ(count_op(m, 4), 17); /* DEPTHWISE_CONV_2D */
  CHECK_EQ(count_op(m, 0), 10); /* ADD */
  CHECK_EQ(tc_model_weights_size(m) > 3000000, 1);
  tc_model_destroy(m);
  CHECK_EQ(tc_model_load_file(tc_test_shared("models/tflite_support/dilated_conv.tflite"), NULL, &m), TC_OK);
  CHECK_EQ(count_op(m, 45), 8); /* STRIDED_SLICE */
  CHECK_EQ(count_op(m, 83), 7); /* PACK */
  CHECK_EQ(count_op(m, 95), 2); /* FLOOR_MOD */
  tc_model_destroy(m);
  CHECK_EQ(tc_model_load_file(tc_test_shared("models/tflite_support/ssd_mobilenet_v1_quant.tflite"), NULL, &m), TC_OK);
  const char *custom = NULL;
  int found = 0;
  tc_subgraph_info si;
  tc_model_subgraph_info(m, 0, &si);
  for (int k = 0; k < si.n_operators; k++) {
    int32_t c;
    tc_model_operator(m, 0, k, &c, &custom);
    if (c == 32 && custom && strcmp(custom, "TFLite_Detection_PostProcess") == 0) found++;
  }
  CHECK_EQ(found, 1);
  tc_model_destroy(m);
}

/* vww_96_int8: per-channel filters (one scale per output channel along dimension 0) and
 * constant data pointing into the mapped file. */
TC_TEST(model_per_axis_quantization) {
  tc_model *m = NULL;
  tc_interp *it = NULL;
  CHECK_EQ(tc_model_load_file(tc_test_shared("models/mlperf_tiny/vww_96_int8.tflite"), NULL, &m), TC_OK);
  tc_interp_create(m, NULL, &it); /* int8 kernels may not exist yet: tensors are still readable */
  int per_axis = 0, per_tensor = 0;
  for (int i = 0; i < tc_interp_tensor_count(it); i++) {
    tc_tensor_info ti;
    CHECK_EQ(tc_interp_tensor(it, i, &ti), TC_OK);
    if (ti.n_scales > 1) {
      per_axis++;
      CHECK_EQ(ti.dims[ti.quantized_dimension], ti.n_scales);
      CHECK(ti.is_constant && ti.data != NULL);
      for (int k = 0; k < ti.n_scales; k++) CHECK(ti.scales[k] > 0);
    } else if (ti.n_scales == 1) {
      per_tensor++;
    }
  }
  CHECK(per_axis >= 20);
  CHECK(per_tensor >= 20);
  tc_tensor_info in;
  tc_interp_tensor(it, tc_interp_input_index(it, 0), &in);
  CHECK_EQ(in.dtype, TC_DTYPE_I8);
  CHECK_NEAR(in.scales[0], 0.00392156886, 1e-9);
  CHECK_EQ(in.zero_points[0], -128);
  tc_interp_destroy(it);
  tc_model_destroy(m);
}

/* Loading from memory borrows the bytes: constant tensor data points inside them. */
TC_TEST(model_zero_copy_weights) {
  size_t size = 0;
  unsigned char *bytes = tc_test_read_file(tc_test_shared("models/tflm/magic_wand.tflite"), &size);
  CHECK(bytes != NULL);
  tc_model *m = NULL;
  tc_interp *it = NULL;
  CHECK_EQ(tc_model_load_memory(bytes, size, NULL, &m), TC_OK);
  CHECK_EQ(tc_interp_create(m, NULL, &it), TC_OK);
  int inside = 0, consts = 0;
  for (int i = 0; i < tc_interp_tensor_count(it); i++) {
    tc_tensor_info ti;
    tc_interp_tensor(it, i, &ti);
    if (!ti.is_constant) continue;
    consts++;
    inside += (unsigned char *)ti.data >= bytes && (unsigned char *)ti.data < bytes + size;
  }
  CHECK(consts > 0);
  CHECK_EQ(inside, consts);
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(bytes);
}
