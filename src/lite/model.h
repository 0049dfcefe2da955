/* model.h: the verified index of a .tflite file (internal). tc_model_load_* walks the whole
 * flatbuffer once through the checked reader (flatbuf.h), rejects anything out of bounds or out
 * of range, and records what the interpreter needs here. Nothing else reads the raw bytes except
 * operator options, whose tables were opened (verified) during loading. Constant tensor data
 * points into the caller's bytes (zero copy). */
#ifndef TC_LITE_MODEL_H
#define TC_LITE_MODEL_H

#include "core/core.h"
#include "lite/flatbuf.h"
#include "tensorc_lite.h"

/* Quantization of one tensor (arrays copied into the index). n_scales == 0: not quantized. */
typedef struct tc__quant {
  int32_t n_scales;
  const float *scale;        /* n_scales entries */
  const int64_t *zero_point; /* n_scales entries (0 where the file has fewer) */
  int32_t axis;              /* quantized_dimension */
  int32_t n_min_max;         /* legacy min/max present (count) */
  const float *min, *max;
} tc__quant;

typedef struct tc__mtensor {
  const char *name; /* "" if absent */
  tc_dtype dtype;
  int32_t tflite_type; /* the file's TensorType value */
  int32_t n_dims;
  int32_t dims[TC_MAX_DIMS];
  int32_t has_signature;
  int32_t sig[TC_MAX_DIMS]; /* shape_signature (-1 = dynamic); == dims if absent */
  uint32_t buffer;
  const uint8_t *data; /* constant bytes, or NULL */
  size_t data_size;
  tc__quant q;
  uint8_t is_variable;
  uint8_t has_sparsity;
} tc__mtensor;

typedef struct tc__mop {
  uint32_t opcode; /* index into model->opcodes */
  int32_t n_inputs, n_outputs, n_intermediates;
  const int32_t *inputs, *outputs, *intermediates; /* tensor indices; -1 = optional absent */
  uint8_t options_type;
  tc__fbt options; /* opened builtin options table (pos 0 if absent) */
  uint8_t options2_type;
  tc__fbt options2;
  const uint8_t *custom_options;
  size_t custom_options_size;
} tc__mop;

typedef struct tc__mopcode {
  int32_t builtin;    /* max(deprecated_builtin_code, builtin_code) */
  const char *custom; /* custom_code, or NULL */
  int32_t version;
} tc__mopcode;

typedef struct tc__msubgraph {
  const char *name;
  int32_t n_tensors, n_ops, n_inputs, n_outputs;
  tc__mtensor *tensors;
  tc__mop *ops;
  const int32_t *inputs, *outputs;
} tc__msubgraph;

typedef struct tc__msig {
  const char *key;
  uint32_t subgraph;
  int32_t n_inputs, n_outputs;
  const char **input_names, **output_names;
  const uint32_t *input_tensors, *output_tensors;
} tc__msig;

typedef struct tc__mmeta {
  const char *name;
  const uint8_t *data;
  size_t size;
} tc__mmeta;

struct tc_model {
  tc__fb fb;
  tc__arena arena; /* holds this index */
  int own_struct;  /* 1: the struct itself was malloc'd */
  void *map;       /* mmap'd file (tc_model_load_file), or NULL */
  size_t map_size;
  tc_status status;
  char errmsg[256];
  uint32_t version;
  const char *description;
  int32_t n_subgraphs, n_opcodes, n_buffers, n_signatures, n_metadata;
  tc__msubgraph *subgraphs;
  tc__mopcode *opcodes;
  tc__mmeta *metadata;
  tc__msig *signatures;
  size_t weights_size;
};

/* Maps a TFLite TensorType number to tc_dtype (TC_DTYPE_UNKNOWN if unknown). */
tc_dtype tc__dtype_from_tflite(int32_t t);

/* TFLite BuiltinOperator codes used by name in the code. */
enum {
  TC_OP_ADD = 0, TC_OP_AVERAGE_POOL_2D = 1, TC_OP_CONCATENATION = 2, TC_OP_CONV_2D = 3,
  TC_OP_DEPTHWISE_CONV_2D = 4, TC_OP_DEQUANTIZE = 6, TC_OP_FLOOR = 8, TC_OP_FULLY_CONNECTED = 9,
  TC_OP_LOGISTIC = 14, TC_OP_MAX_POOL_2D = 17, TC_OP_MUL = 18, TC_OP_RELU = 19,
  TC_OP_RELU_N1_TO_1 = 20, TC_OP_RELU6 = 21, TC_OP_RESHAPE = 22, TC_OP_SOFTMAX = 25,
  TC_OP_SVDF = 27, TC_OP_TANH = 28, TC_OP_CUSTOM = 32, TC_OP_PAD = 34, TC_OP_GATHER = 36,
  TC_OP_BATCH_TO_SPACE_ND = 37, TC_OP_SPACE_TO_BATCH_ND = 38, TC_OP_TRANSPOSE = 39,
  TC_OP_MEAN = 40, TC_OP_SUB = 41, TC_OP_DIV = 42, TC_OP_SQUEEZE = 43,
  TC_OP_UNIDIRECTIONAL_SEQUENCE_LSTM = 44, TC_OP_STRIDED_SLICE = 45, TC_OP_EXP = 47,
  TC_OP_SPLIT = 49, TC_OP_LOG_SOFTMAX = 50, TC_OP_CAST = 53, TC_OP_PRELU = 54,
  TC_OP_MAXIMUM = 55, TC_OP_ARG_MAX = 56, TC_OP_MINIMUM = 57, TC_OP_PADV2 = 60, TC_OP_SLICE = 65,
  TC_OP_TRANSPOSE_CONV = 67, TC_OP_EXPAND_DIMS = 70, TC_OP_SUM = 74, TC_OP_SQRT = 75,
  TC_OP_RSQRT = 76, TC_OP_SHAPE = 77, TC_OP_PACK = 83, TC_OP_UNPACK = 88, TC_OP_SQUARE = 92,
  TC_OP_FLOOR_MOD = 95, TC_OP_LEAKY_RELU = 98, TC_OP_SQUARED_DIFFERENCE = 99, TC_OP_ABS = 101,
  TC_OP_SPLIT_V = 102, TC_OP_QUANTIZE = 114, TC_OP_HARD_SWISH = 117, TC_OP_BATCH_MATMUL = 126,
  TC_OP_CUMSUM = 128, TC_OP_GELU = 150
};

#endif /* TC_LITE_MODEL_H */
