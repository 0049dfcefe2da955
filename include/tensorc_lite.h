/* tensorc_lite.h: load TensorFlow Lite flatbuffer models (.tflite, schema v3) and run them.
 *
 * Life cycle:
 *   tc_model_load_file / tc_model_load_memory   verify the file and index it (zero copy)
 *   tc_interp_create                            bind a model to an arena, resolve every operator
 *   tc_interp_prepare                           shapes, each op's prepare, memory plan
 *   tc_interp_invoke (any number of times)      runs the graph; allocates nothing
 *   tc_interp_destroy, tc_model_destroy         in that order
 * A model may be shared by several interpreters; it must outlive them. */
#ifndef TENSORC_LITE_H
#define TENSORC_LITE_H

#include "tensorc.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tc_model tc_model;   /* a verified, indexed .tflite file */
typedef struct tc_interp tc_interp; /* one executable instance of a model's subgraph 0 */

/* Options for loading. Zero-initialise, then set what you need. */
typedef struct tc_model_options {
  /* If non-NULL, the model's index (a few hundred bytes per tensor and operator) is placed in
   * this caller-owned buffer instead of the heap, and no malloc is ever called. The buffer must
   * stay valid until tc_model_destroy. tc_model_index_size() tells how much is needed. */
  void *mem;
  size_t mem_size;
} tc_model_options;

/* Maps (read-only) and verifies the file at `path`. Weights stay in the mapping (zero copy).
 * On success *out is a new model. On failure *out is set to a model handle in a failed state
 * (unless the failure is TC_ERR_NOMEM for the handle itself, then NULL): read the reason with
 * tc_model_errmsg(*out), then tc_model_destroy(*out).
 * Returns TC_ERR_IO (cannot open/map), TC_ERR_MODEL (malformed), TC_ERR_NOMEM, TC_ERR_ARG. */
tc_status tc_model_load_file(const char *path, const tc_model_options *opts, tc_model **out);

/* Verifies and indexes a model held in memory. The bytes are borrowed, not copied: they must
 * stay valid and unchanged until tc_model_destroy. Same failure contract as tc_model_load_file.
 * Buffers referenced by offset/size (large models) must lie inside [data, data + size). */
tc_status tc_model_load_memory(const void *data, size_t size, const tc_model_options *opts,
                               tc_model **out);

/* Bytes of index memory tc_model_load_memory would need for this file (for tc_model_options.mem),
 * or 0 if the file does not verify (load it to learn why). */
size_t tc_model_index_size(const void *data, size_t size);

/* Frees the index and unmaps a mapped file. NULL is a no-op. */
void tc_model_destroy(tc_model *m);

/* Message of the last failure on this model ("" if none). Owned by the model. */
const char *tc_model_errmsg(const tc_model *m);

/* ---- model introspection (all strings are owned by the model) ------------------------------ */
uint32_t tc_model_schema_version(const tc_model *m);
const char *tc_model_description(const tc_model *m); /* "" if absent */
int tc_model_subgraph_count(const tc_model *m);
/* Builtin operator name for a TFLite builtin code ("CONV_2D"), or NULL if unknown. */
const char *tc_builtin_name(int32_t code);

/* Metadata entries: name and the bytes of the buffer it points to (may be empty). */
int tc_model_metadata_count(const tc_model *m);
tc_status tc_model_metadata(const tc_model *m, int i, const char **name, const void **data,
                            size_t *size);

/* Signatures (SignatureDef): key, the subgraph it runs, and its named inputs/outputs. */
int tc_model_signature_count(const tc_model *m);
const char *tc_model_signature_key(const tc_model *m, int i);

/* Summary of one subgraph for tools (`tensorc inspect`). */
typedef struct tc_subgraph_info {
  const char *name;
  int n_tensors, n_operators, n_inputs, n_outputs;
} tc_subgraph_info;
tc_status tc_model_subgraph_info(const tc_model *m, int subgraph, tc_subgraph_info *out);

/* Operator `op` of `subgraph`: builtin code (32 = CUSTOM) and custom name (NULL for builtins). */
tc_status tc_model_operator(const tc_model *m, int subgraph, int op, int32_t *builtin_code,
                            const char **custom_name);

/* Total bytes of constant buffers (weights). */
size_t tc_model_weights_size(const tc_model *m);

/* ---- interpreter ---------------------------------------------------------------------------- */

/* ---- custom operators ------------------------------------------------------------------------ */

/* An operator's view of the interpreter during one of its callbacks (valid only then). */
typedef struct tc_op_ctx tc_op_ctx;
typedef struct tc_tensor_info tc_tensor_info; /* defined below */

/* A user implementation of a CUSTOM operator, matched by `name` against the model's
 * custom_code. Only invoke is required. Callbacks run on the interpreter's thread. */
typedef struct tc_custom_op {
  const char *name;
  /* Called once at tc_interp_create with the operator's custom_options bytes (borrowed from
   * the model). May set *state; it is passed to the other callbacks and to free. */
  tc_status (*init)(tc_op_ctx *ctx, const void *options, size_t options_size, void **state);
  /* Called at every prepare: check inputs, set output shapes (tc_op_set_output_shape). Outputs
   * whose shape is not set keep the shape stored in the model. */
  tc_status (*prepare)(tc_op_ctx *ctx, void *state);
  /* Computes the outputs from the inputs. */
  tc_status (*invoke)(tc_op_ctx *ctx, void *state);
  void (*free)(void *state);
  void *user; /* returned by tc_op_user() */
  /* Optional: forget state carried between invokes (called by tc_interp_reset_variables). */
  void (*reset)(tc_op_ctx *ctx, void *state);
} tc_custom_op;

int tc_op_input_count(const tc_op_ctx *ctx);
int tc_op_output_count(const tc_op_ctx *ctx);
/* Describes input/output i (data is valid in invoke; for constant inputs also in prepare).
 * An absent optional input gives TC_ERR_ARG. */
tc_status tc_op_input(tc_op_ctx *ctx, int i, tc_tensor_info *out);
tc_status tc_op_output(tc_op_ctx *ctx, int i, tc_tensor_info *out);
/* Sets output i's shape (prepare only). */
tc_status tc_op_set_output_shape(tc_op_ctx *ctx, int i, int n_dims, const int32_t *dims);
void *tc_op_user(const tc_op_ctx *ctx);
/* Records a message on the interpreter ("CUSTOM 'name' (op 3): <message>") and returns s. */
tc_status tc_op_error(tc_op_ctx *ctx, tc_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

typedef struct tc_interp_options {
  /* Caller-owned arena. If non-NULL, everything the interpreter needs (its own struct, tensor
   * table, operator state, activations and scratch) is carved from it and malloc is never
   * called; it must stay valid until tc_interp_destroy. If NULL the interpreter allocates one
   * arena of the planned size itself. tc_interp_arena_used() reports what was needed. */
  void *arena;
  size_t arena_size;
  /* Worker threads for invoke (0 or 1: the calling thread only). */
  int n_threads;
  /* Non-zero: use the portable reference kernels only (also forced by TC_FORCE_REF=1). */
  int force_reference;
  /* Non-zero: record each operator's time during invoke (see tc_interp_op_profile). */
  int profile;
  /* User custom operators, looked up by name before tensorc's own. The array and the structs
   * it points to are borrowed: they must stay valid until tc_interp_destroy. */
  const tc_custom_op *custom_ops;
  int n_custom_ops;
} tc_interp_options;

/* Creates an interpreter for subgraph 0 of `m` and resolves every operator: an unsupported
 * builtin or unknown custom operator fails here, naming it. The model must outlive the
 * interpreter. On failure *out is a handle in failed state as for tc_model_load_file (NULL only
 * if the handle itself could not be allocated). opts may be NULL. */
tc_status tc_interp_create(const tc_model *m, const tc_interp_options *opts, tc_interp **out);

/* Shape inference, each operator's prepare and the memory plan. Called again after
 * tc_interp_resize_input. Must succeed before invoke. */
tc_status tc_interp_prepare(tc_interp *it);

/* Runs the graph on the current inputs. Allocates nothing. */
tc_status tc_interp_invoke(tc_interp *it);

/* Restores every variable tensor (recurrent state of LSTM/SVDF) to its initial value, as
 * TFLite's ResetVariableTensors, and resets operators that keep state between invokes (the
 * noise estimate of SignalFilterBankSpectralSubtraction, user ops with a reset callback). */
tc_status tc_interp_reset_variables(tc_interp *it);

/* Destroys the interpreter. NULL is a no-op. After a failed create, the handle still answers
 * tc_interp_errmsg, the tensor queries (tc_interp_tensor, counts, indices) when the failure was
 * an unsupported operator, and destroy; everything else returns TC_ERR_STATE. */
void tc_interp_destroy(tc_interp *it);
const char *tc_interp_errmsg(const tc_interp *it);

/* Bytes of the arena in use after prepare (tables + state + planned activations + scratch,
 * plus, for a caller arena, the bytes skipped to align its start to 16). An arena of this size
 * at the same address suffices; a buffer aligned differently may need up to 15 bytes more. */
size_t tc_interp_arena_used(const tc_interp *it);
/* Bytes of the planned activation region alone. */
size_t tc_interp_activations_size(const tc_interp *it);

/* Changes the shape of input `i` (dimensions that are -1 in shape_signature, or all of them if
 * the model has no signature). Invalidates the plan: call tc_interp_prepare again. */
tc_status tc_interp_resize_input(tc_interp *it, int i, int n_dims, const int32_t *dims);

/* ---- tensors -------------------------------------------------------------------------------- */

/* Read-only description of a tensor. Pointers are owned by the interpreter and stay valid until
 * the next prepare/resize or destroy. `data` is NULL before prepare for activations. */
typedef struct tc_tensor_info {
  const char *name;
  tc_dtype dtype;
  int n_dims;
  int32_t dims[TC_MAX_DIMS];
  size_t size; /* bytes */
  void *data;
  /* Quantization: n_scales == 0 means not quantized; 1 is per-tensor; more is per-axis along
   * quantized_dimension. Arrays are owned by the model. */
  int n_scales;
  const float *scales;
  const int64_t *zero_points;
  int quantized_dimension;
  int is_constant;
  /* shape_signature from the file (-1 = dynamic); equals dims when the file has none. */
  int has_signature;
  int32_t dims_signature[TC_MAX_DIMS];
} tc_tensor_info;

int tc_interp_input_count(const tc_interp *it);
int tc_interp_output_count(const tc_interp *it);
/* Index into the subgraph's tensor table of input/output i, or -1. */
int tc_interp_input_index(const tc_interp *it, int i);
int tc_interp_output_index(const tc_interp *it, int i);
int tc_interp_tensor_count(const tc_interp *it);
/* Tensor index by name, or -1. */
int tc_interp_tensor_find(const tc_interp *it, const char *name);
tc_status tc_interp_tensor(const tc_interp *it, int tensor_index, tc_tensor_info *out);

/* Copies `size` bytes into input i; size must equal the tensor's byte size. */
tc_status tc_interp_set_input(tc_interp *it, int i, const void *data, size_t size);
/* Copies output i (after invoke) into `data`, which must hold exactly its byte size. */
tc_status tc_interp_get_output(const tc_interp *it, int i, void *data, size_t size);

/* Signature lookup: index among the interpreter's inputs/outputs of the tensor named `name` in
 * signature `key` (NULL key: the first signature). -1 if not found. */
int tc_interp_signature_input(const tc_interp *it, const char *key, const char *name);
int tc_interp_signature_output(const tc_interp *it, const char *key, const char *name);

/* ---- profiling (tc_interp_options.profile) --------------------------------------------------- */
typedef struct tc_op_profile {
  const char *name;   /* builtin name ("CONV_2D") or custom name */
  int32_t builtin;    /* TFLite builtin code */
  uint64_t total_ns;  /* time spent in this operator over all profiled invokes */
  uint64_t count;     /* invokes counted */
  double flops;       /* arithmetic per invoke (multiply-add = 2), 0 if not modelled */
  const char *kernel; /* which kernel variant prepare chose ("ref", "avx2", ...), or "" */
} tc_op_profile;
/* Profile of operator `op` (0 .. operator count - 1) of the interpreter's subgraph. */
tc_status tc_interp_op_profile(const tc_interp *it, int op, tc_op_profile *out);
int tc_interp_op_count(const tc_interp *it);

/* ---- memory plan debug aids (also used by the tests) ----------------------------------------- */
/* Returns 1 if two tensors that are alive at the same operator share arena bytes, else 0. */
int tc_interp_plan_check_overlap(const tc_interp *it);
/* Writes an ASCII map of the plan into buf (truncated to buf_size). Returns chars needed. */
size_t tc_interp_plan_print(const tc_interp *it, char *buf, size_t buf_size);

#ifdef __cplusplus
}
#endif
#endif /* TENSORC_LITE_H */
