/* tensorc_export.h: build TensorFlow Lite models in memory, write them as .tflite files, and
 * quantize float models (full integer int8, dynamic range, float16).
 *
 * A tc_graphdef is an editable description of a model: subgraphs of tensors (name, dtype, shape,
 * optional constant data and quantization) and operators (TFLite builtin code, inputs, outputs,
 * builtin options). It is filled either field by field (the exporter of trained models does
 * that) or from a loaded .tflite (tc_graphdef_from_model), and written with tc_graphdef_write.
 * Files written carry: schema version 3, operator codes with both the deprecated int8 code and
 * the int32 builtin_code, shape signatures, per-tensor and per-axis quantization, weights
 * 16-byte aligned, a "serving_default" SignatureDef, and metadata entries min_runtime_version
 * and "producer" ("tensorc <version>"). */
#ifndef TENSORC_EXPORT_H
#define TENSORC_EXPORT_H

#include "tensorc.h"
#include "tensorc_lite.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tc_graphdef tc_graphdef;

/* Creates an empty description with one empty subgraph (index 0, selected). On failure *out is
 * NULL and TC_ERR_NOMEM is returned. Destroy with tc_graphdef_destroy. */
tc_status tc_graphdef_create(tc_graphdef **out);

/* Copies every subgraph, tensor (data included), operator, signature and metadata entry of a
 * loaded model into a new description; the model may be destroyed afterwards. Sparse tensors
 * and builtin_options_2 are not supported (TC_ERR_UNSUPPORTED). On failure *out is a handle in a
 * failed state whose tc_graphdef_errmsg says why (NULL only for TC_ERR_NOMEM). */
tc_status tc_graphdef_from_model(const tc_model *m, tc_graphdef **out);

/* Frees the description and everything it owns. NULL is a no-op. */
void tc_graphdef_destroy(tc_graphdef *g);
/* Message of the last failure ("" if none); owned by the handle, valid until the next call. */
const char *tc_graphdef_errmsg(const tc_graphdef *g);

tc_status tc_graphdef_set_description(tc_graphdef *g, const char *text);

/* Adds a subgraph and returns its index (or -1). tc_graphdef_select makes subgraph `sg` the one
 * that the tensor/operator/io calls below act on. */
int tc_graphdef_add_subgraph(tc_graphdef *g, const char *name);
tc_status tc_graphdef_select(tc_graphdef *g, int sg);

/* Adds a tensor to the selected subgraph and returns its index, or -1 (see errmsg). `dims` has
 * n_dims entries (0..TC_MAX_DIMS) and is copied. `data` (size bytes, copied) makes the tensor a
 * constant; pass NULL for activations. size must equal the shape's byte size for fixed-size
 * dtypes. */
int tc_graphdef_add_tensor(tc_graphdef *g, const char *name, tc_dtype dtype, int n_dims,
                           const int32_t *dims, const void *data, size_t size);
/* shape_signature (-1 for dynamic dimensions); n_dims must equal the tensor's rank. */
tc_status tc_graphdef_set_signature(tc_graphdef *g, int tensor, const int32_t *sig);
/* Quantization: n_scales == 1 is per-tensor; n_scales > 1 is per-axis along `axis` and must equal
 * dims[axis]. zero_points may be NULL (all zero). Arrays are copied. */
tc_status tc_graphdef_set_quant(tc_graphdef *g, int tensor, int n_scales, const float *scales,
                                const int64_t *zero_points, int axis);
tc_status tc_graphdef_set_variable(tc_graphdef *g, int tensor, int is_variable);

/* Adds an operator (TFLite BuiltinOperator code, e.g. 3 = CONV_2D) and returns its index or -1.
 * Inputs may be -1 (optional input absent). Arrays are copied. The builtin options table type is
 * the one TFLite pairs with the operator; set its fields with tc_graphdef_op_set_*. The operator
 * version written is computed from the tensor dtypes unless tc_graphdef_op_set_version is used. */
int tc_graphdef_add_op(tc_graphdef *g, int32_t builtin, int n_inputs, const int32_t *inputs,
                       int n_outputs, const int32_t *outputs);
/* A CUSTOM operator with the given name and custom_options bytes (copied; may be NULL/0). */
int tc_graphdef_add_custom_op(tc_graphdef *g, const char *name, const void *options,
                              size_t options_size, int n_inputs, const int32_t *inputs,
                              int n_outputs, const int32_t *outputs);
/* Options fields, addressed by their index in the options table of the TFLite schema (the
 * TC_OPT_* constants below name the common ones). The field's type (byte/bool, int, float,
 * [int]) comes from the schema; a field of another type gives TC_ERR_ARG. */
tc_status tc_graphdef_op_set_int(tc_graphdef *g, int op, int field, int64_t value);
tc_status tc_graphdef_op_set_float(tc_graphdef *g, int op, int field, float value);
tc_status tc_graphdef_op_set_ints(tc_graphdef *g, int op, int field, int n, const int32_t *values);
tc_status tc_graphdef_op_set_version(tc_graphdef *g, int op, int version);

/* Subgraph inputs and outputs (tensor indices, copied). */
tc_status tc_graphdef_set_io(tc_graphdef *g, int n_inputs, const int32_t *inputs, int n_outputs,
                             const int32_t *outputs);
/* A metadata entry (bytes copied). Entries named "min_runtime_version" or "producer" replace
 * the ones the writer generates. */
tc_status tc_graphdef_add_metadata(tc_graphdef *g, const char *name, const void *data,
                                   size_t size);

/* Counts and queries used by tools and tests. */
int tc_graphdef_tensor_count(const tc_graphdef *g);
int tc_graphdef_op_count(const tc_graphdef *g);

/* Writes the model. *data is allocated with the tensorc allocator; free it with tc_export_free.
 * Without signatures a "serving_default" SignatureDef naming every subgraph-0 input and output
 * by its tensor name is written. Returns TC_ERR_ARG for an inconsistent description (index out
 * of range, data size mismatch; see errmsg) or TC_ERR_NOMEM. */
tc_status tc_graphdef_write(tc_graphdef *g, void **data, size_t *size);
tc_status tc_graphdef_write_file(tc_graphdef *g, const char *path);
void tc_export_free(void *p);

/* ---- option field indices (schema field order) ------------------------------------------- */
enum {
  /* Conv2DOptions */
  TC_OPT_CONV_PADDING = 0, TC_OPT_CONV_STRIDE_W = 1, TC_OPT_CONV_STRIDE_H = 2,
  TC_OPT_CONV_ACTIVATION = 3, TC_OPT_CONV_DILATION_W = 4, TC_OPT_CONV_DILATION_H = 5,
  /* DepthwiseConv2DOptions */
  TC_OPT_DW_PADDING = 0, TC_OPT_DW_STRIDE_W = 1, TC_OPT_DW_STRIDE_H = 2,
  TC_OPT_DW_DEPTH_MULTIPLIER = 3, TC_OPT_DW_ACTIVATION = 4, TC_OPT_DW_DILATION_W = 5,
  TC_OPT_DW_DILATION_H = 6,
  /* Pool2DOptions */
  TC_OPT_POOL_PADDING = 0, TC_OPT_POOL_STRIDE_W = 1, TC_OPT_POOL_STRIDE_H = 2,
  TC_OPT_POOL_FILTER_W = 3, TC_OPT_POOL_FILTER_H = 4, TC_OPT_POOL_ACTIVATION = 5,
  /* FullyConnectedOptions */
  TC_OPT_FC_ACTIVATION = 0, TC_OPT_FC_KEEP_NUM_DIMS = 2,
  /* SoftmaxOptions */
  TC_OPT_SOFTMAX_BETA = 0,
  /* ConcatenationOptions */
  TC_OPT_CONCAT_AXIS = 0, TC_OPT_CONCAT_ACTIVATION = 1,
  /* AddOptions, SubOptions, MulOptions, DivOptions */
  TC_OPT_BINARY_ACTIVATION = 0,
  /* ReshapeOptions, SqueezeOptions */
  TC_OPT_RESHAPE_NEW_SHAPE = 0, TC_OPT_SQUEEZE_DIMS = 0,
  /* ReducerOptions (MEAN, SUM, ...) */
  TC_OPT_REDUCER_KEEP_DIMS = 0,
  /* LeakyReluOptions */
  TC_OPT_LEAKY_RELU_ALPHA = 0,
  /* StridedSliceOptions */
  TC_OPT_SLICE_BEGIN_MASK = 0, TC_OPT_SLICE_END_MASK = 1, TC_OPT_SLICE_ELLIPSIS_MASK = 2,
  TC_OPT_SLICE_NEW_AXIS_MASK = 3, TC_OPT_SLICE_SHRINK_AXIS_MASK = 4
};
/* Padding and fused activation values as in the schema. Prefixed TC_TFL_ so that this header
 * and tensorc_train.h (whose tc_padding / tc_activation enums use other values) can be included
 * together. */
enum { TC_TFL_PADDING_SAME = 0, TC_TFL_PADDING_VALID = 1 };
enum { TC_TFL_ACT_NONE = 0, TC_TFL_ACT_RELU = 1, TC_TFL_ACT_RELU_N1_TO_1 = 2,
       TC_TFL_ACT_RELU6 = 3, TC_TFL_ACT_TANH = 4 };

/* ---- post-training quantization ----------------------------------------------------------- */

typedef enum tc_quant_mode {
  TC_QUANT_INT8 = 1, /* int8 weights (per-channel) and activations, int32 biases */
  TC_QUANT_DYNAMIC,  /* int8 weights of the ops tensorc runs hybrid, float activations */
  TC_QUANT_FLOAT16   /* float16 constants, DEQUANTIZE to float32 at load */
} tc_quant_mode;

/* Supplies calibration sample `sample` for subgraph input `input`: fill n_elems float32
 * values (the float model's input layout). Return TC_OK, or an error to abort quantization. */
typedef tc_status (*tc_quant_sample_fn)(void *user, int sample, int input, float *data,
                                        size_t n_elems);

typedef struct tc_quant_options {
  tc_quant_mode mode;
  /* INT8: 1 makes the model's float32 inputs and outputs int8 (with the calibrated
   * quantization); 0 keeps them float32 with QUANTIZE/DEQUANTIZE operators at the edges. */
  int int8_io;
  /* INT8 activation ranges: 0 (or >= 100) uses min/max over the calibration data; a value such
   * as 99.99 clips each tensor's range to that central percentile (two calibration passes). */
  double percentile;
  /* INT8: quantize FULLY_CONNECTED weights per output channel (1) or per tensor (0). */
  int fc_per_tensor;
  /* DYNAMIC: constants with fewer elements stay float (0: 1024, TFLite's default). */
  size_t dynamic_min_elements;
  /* Representative dataset (INT8 only; also used by tc_quant_report). */
  int n_samples;
  tc_quant_sample_fn sample;
  void *user;
} tc_quant_options;

/* Quantizes the float model `in` (subgraph 0; float32 activations). On success *out is a new
 * description ready for tc_graphdef_write; tensor names are kept, so a quantized tensor can be
 * matched with its float original. Unsupported operators for INT8 give TC_ERR_UNSUPPORTED
 * naming them. On failure *out is a failed handle (see errmsg) or NULL for TC_ERR_NOMEM. */
tc_status tc_quantize(const tc_graphdef *in, const tc_quant_options *opts, tc_graphdef **out);

/* One line of the quantization report: an operator output of the quantized model compared
 * with the same-named float tensor over all calibration samples. */
typedef struct tc_quant_layer {
  const char *name;  /* tensor name (owned by the quantized description) */
  int32_t builtin;   /* operator that produced it */
  double sqnr_db;    /* 10*log10(sum f^2 / sum (f - q)^2); INFINITY if identical */
  double max_abs_err;
} tc_quant_layer;

/* Runs both models on the calibration samples of `opts` and reports per layer. *layers is
 * allocated (free with tc_export_free). On failure the message goes to q's errmsg. */
tc_status tc_quant_report(const tc_graphdef *fl, tc_graphdef *q, const tc_quant_options *opts,
                          tc_quant_layer **layers, int *n_layers);

/* ==== export of trained networks (tc_net of tensorc_train.h) ================================
 * A net trained with tensorc_train.h becomes a float description that tc_graphdef_write turns
 * into a .tflite file, or that tc_quantize quantizes. Run by tensorc's interpreter, the file
 * computes what tc_net_predict computes (to float rounding). */

typedef struct tc_net tc_net; /* the same declaration as in tensorc_train.h */

/* Converts a built net (its Input shapes known) into a new description: one subgraph whose
 * inputs and outputs are the net's, named after their layers (these names key the
 * "serving_default" signature), with batch 1 in the shapes and -1 in shape_signature.
 * Layer mapping: Dense -> FULLY_CONNECTED (kernel transposed to [units, in]; keep_num_dims for
 * inputs of rank > 2), Conv2D -> CONV_2D (HWIO -> OHWI), DepthwiseConv2D -> DEPTHWISE_CONV_2D
 * ([1, kh, kw, C*mult]), pooling -> MAX_POOL_2D / AVERAGE_POOL_2D, GlobalAveragePooling2D ->
 * MEAN over axes 1,2, Flatten / Reshape -> RESHAPE (shape tensor, -1 batch), Add -> ADD
 * (chained), Concatenate -> CONCATENATION, Embedding -> CAST to int32 + GATHER. Activations
 * relu and relu6 are fused into the producing CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED /
 * pooling / ADD (also when they come as a separate Activation layer that alone reads it);
 * sigmoid, tanh, softmax, gelu and leaky_relu become LOGISTIC, TANH, SOFTMAX, GELU, LEAKY_RELU.
 * BatchNormalization (inference form) is folded into the weights and bias of a linear conv /
 * dense that it alone reads, else it becomes MUL + ADD. Dropout and linear activations vanish.
 * Weights are copied: the net may change or be destroyed afterwards.
 * Returns TC_ERR_STATE (net not built), TC_ERR_UNSUPPORTED (LSTM and GRU: not exportable yet,
 * naming the layer) or TC_ERR_NOMEM. On failure *out is a failed handle whose
 * tc_graphdef_errmsg says why (NULL only when no handle could be allocated). */
tc_status tc_net_export(const tc_net *net, tc_graphdef **out);

#ifdef __cplusplus
}
#endif
#endif /* TENSORC_EXPORT_H */
