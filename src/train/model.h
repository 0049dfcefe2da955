/* model.h: internal structure of tc_net (the Keras-style model) and its layers, shared by the
 * layer, model, summary, fit and checkpoint code and readable by the TFLite exporter (issue 6):
 * a net is an array of layer nodes in topological order, each with its config, inbound node
 * ids, output shape (batch excluded) and weights. Not public; include/tensorc_train.h is. */
#ifndef TC_TRAIN_MODEL_H
#define TC_TRAIN_MODEL_H

#include "train/train.h"

#define TC__LAYER_MAX_IN 8
#define TC__LAYER_MAX_W 6
#define TC__NET_MAX_IO 8

/* A shape without the batch axis. rank -1: not known yet. */
typedef struct tc__shape {
  int rank;
  int32_t d[TC_MAX_DIMS];
} tc__shape;

/* One node of the DAG: a layer applied to earlier nodes.
 * Weights per kind, in this order (names as in Keras):
 *   Dense, Conv2D:          kernel [in,units] / HWIO [kh,kw,cin,filters], bias [units]
 *   DepthwiseConv2D:        depthwise_kernel [kh,kw,cin,mult], bias [cin*mult]
 *   BatchNormalization:     gamma, beta (trainable), moving_mean, moving_variance [C]
 *   Embedding:              embeddings [input_dim, units]
 *   LSTM:                   kernel [F,4U], recurrent_kernel [U,4U], bias [4U]   (gates i,f,c,o)
 *   GRU (reset_after):      kernel [F,3U], recurrent_kernel [U,3U], bias [2,3U] (gates z,r,h;
 *                           bias row 0 input side, row 1 recurrent side)
 * Other kinds have no weights. */
typedef struct tc__layer {
  tc_layer_config cfg; /* name always filled in */
  int n_in;
  int in[TC__LAYER_MAX_IN]; /* node ids */
  int built;
  tc__shape out;
  int n_w;
  tc_tensor *w[TC__LAYER_MAX_W];
  const char *wname[TC__LAYER_MAX_W]; /* static strings: "kernel", "bias", ... */
  int w_trainable[TC__LAYER_MAX_W];
  float w_l2[TC__LAYER_MAX_W];
} tc__layer;

struct tc_net {
  char name[48];
  int functional; /* built with tc_net_input / tc_net_call (summary shows inputs and links) */
  tc__layer *layers;
  int n_layers, cap_layers;
  int n_inputs, inputs[TC__NET_MAX_IO];
  int n_outputs, outputs[TC__NET_MAX_IO];
  int explicit_outputs;
  uint64_t seed;
  int name_counts[TC_LAYER__COUNT];
  /* Weight index (rebuilt after each layer build). */
  size_t n_weights;
  tc_tensor **weights;
  char (*wnames)[112];
  size_t n_trainable;
  tc_tensor **trainable;
  tc_tensor **acts; /* per node, during a forward pass (step tensors) */
  /* compile */
  int compiled;
  tc_loss loss;
  tc_optim_config optim_cfg;
  tc_optim *opt;
  int n_metrics;
  tc_metric_kind metric_kinds[TC_NET_MAX_METRICS];
  tc_metric metrics[TC_NET_MAX_METRICS];
  /* training state */
  tc_train_ctx *ctx;
  int epochs_done;
  int stop_training;
  char err[512];
};

/* ---- errors ---- */
tc_status tc__net_err(tc_net *net, tc_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- layers (layer.c, layers_core.c, layers_rnn.c) ---- */
/* Computes L->out from the input shapes and creates L's weights (seeded by net->seed and the
 * layer index). Message on the net and TC_ERR_ARG on a shape that does not fit. */
tc_status tc__layer_build(tc_net *net, int index, const tc__shape *const *in);
tc_status tc__layer_build_rnn(tc_net *net, tc__layer *L, const tc__shape *in);
/* Forward of one layer in ctx (message on the ctx on failure). */
tc_status tc__layer_call(tc_net *net, tc__layer *L, tc_train_ctx *ctx, tc_tensor *const *in,
                         int training, tc_tensor **out);
tc_status tc__layer_call_rnn(tc__layer *L, tc_train_ctx *ctx, const tc_tensor *x,
                             tc_tensor **out);
/* Adds a weight to L: persistent, initialized with `init` and a seed derived from `seed`. */
tc_status tc__layer_add_weight(tc__layer *L, const char *name, int rank, const int32_t *dims,
                               tc_initializer init, int trainable, float l2, uint64_t seed);
/* Fills t with an initializer (tc_init kinds plus TC_INIT_ORTHOGONAL). */
tc_status tc__init_tensor(tc_tensor *t, tc_initializer init, uint64_t seed);
/* Checks a config's values (units >= 1, rates, ...); message into err. */
int tc__layer_config_check(const tc_layer_config *c, char *err, size_t err_size);
/* "(None, 28, 28, 32)" */
void tc__shape_str(const tc__shape *s, char *buf, size_t size);

/* ---- net internals (model.c) ---- */
/* Rebuilds the weight and trainable lists. */
tc_status tc__net_index_weights(tc_net *net);
/* Creates net->ctx if needed. */
tc_status tc__net_ensure_ctx(tc_net *net);
/* Copies every weight value of `from` (same architecture) into `to`-like buffers: used by
 * EarlyStopping. buf holds tc__net_weights_floats(net) floats. */
size_t tc__net_weights_floats(const tc_net *net);
void tc__net_weights_get(const tc_net *net, float *buf);
void tc__net_weights_set(tc_net *net, const float *buf);

/* ---- optimizer internals (optim.c), for checkpoints ---- */
typedef struct tc__optim_slot {
  const tc_tensor *param;
  int n; /* slots used by the kind */
  tc_tensor *s[2];
} tc__optim_slot;
int tc__optim_n_slots(const tc_optim_config *cfg);
/* Slot table access for checkpoints: the i-th slot entry (in creation order) or NULL. */
size_t tc__optim_n_entries(const tc_optim *opt);
tc__optim_slot *tc__optim_entry(tc_optim *opt, size_t i);
/* The slots of `param` (created zero-filled if missing); NULL on out-of-memory. */
tc__optim_slot *tc__optim_slots(tc_optim *opt, const tc_tensor *param);
void tc__optim_set_iterations(tc_optim *opt, int64_t it);
/* The overridden rate (*set = 0: none, the schedule applies). */
float tc__optim_lr_override(const tc_optim *opt, int *set);
/* The pool tc_optim_apply splits its elementwise update over (NULL: the calling thread); the
 * bits never depend on it. fit sets the net context's pool before each update. */
void tc__optim_set_pool(tc_optim *opt, tc_threadpool *pool);

/* ---- progress bar (progress.c) ---- */
typedef struct tc__progbar {
  FILE *f;
  int verbose, tty;
  size_t total; /* steps (0: unknown) */
  double start, last;
  size_t last_len;
} tc__progbar;
double tc__now(void);
void tc__progbar_epoch(FILE *f, int verbose, int epoch, int epochs);
void tc__progbar_start(tc__progbar *p, FILE *f, int verbose, size_t total);
/* Step `done` of total finished; redraws at most ~10 times per second on a terminal. */
void tc__progbar_update(tc__progbar *p, size_t done, const tc_logs *logs);
/* The final line with every log (validation included). */
void tc__progbar_finish(tc__progbar *p, size_t done, const tc_logs *logs);
void tc__logs_set(tc_logs *logs, const char *key, double value);

/* ---- CRC32 (checkpoint.c) ---- */
uint32_t tc__crc32(uint32_t crc, const void *data, size_t n);

#endif /* TC_TRAIN_MODEL_H */
