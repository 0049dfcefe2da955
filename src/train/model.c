/* model.c: tc_net, the Keras Model. A net is a DAG of layer nodes stored in creation order
 * (a topological order): Sequential nets append to the last node, functional ones name their
 * inbound nodes. Layers are built as soon as their input shapes are known (at once after an
 * Input, or lazily from the first batch like Keras), and the executor runs the nodes in order,
 * keeping each node's output (a step tensor) until the step ends. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "train/model.h"

tc_status tc__net_err(tc_net *net, tc_status st, const char *fmt, ...) {
  if (net) {
    va_list ap;
    va_start(ap, fmt);
    tc__vfmt(net->err, sizeof net->err, fmt, ap);
    va_end(ap);
  }
  return st;
}

tc_status tc_net_create(tc_net **out) {
  if (!out) return TC_ERR_ARG;
  *out = NULL;
  tc_net *net = tc__calloc(1, sizeof *net);
  if (!net) return TC_ERR_NOMEM;
  *out = net;
  return TC_OK;
}

void tc_net_destroy(tc_net *net) {
  if (!net) return;
  for (int i = 0; i < net->n_layers; i++)
    for (int j = 0; j < net->layers[i].n_w; j++) tc_tensor_destroy(net->layers[i].w[j]);
  tc__free(net->layers);
  tc__free(net->weights);
  tc__free(net->wnames);
  tc__free(net->trainable);
  tc__free(net->acts);
  tc_optim_destroy(net->opt);
  tc_train_ctx_destroy(net->ctx);
  tc__free(net);
}

const char *tc_net_errmsg(const tc_net *net) { return net ? net->err : ""; }

void tc_net_set_name(tc_net *net, const char *name) {
  if (net && name) tc__fmt(net->name, sizeof net->name, "%s", name);
}

void tc_net_set_seed(tc_net *net, uint64_t seed) {
  if (!net) return;
  net->seed = seed;
  if (net->ctx) tc_train_ctx_seed(net->ctx, seed);
}

tc_status tc__net_ensure_ctx(tc_net *net) {
  if (net->ctx) return TC_OK;
  tc_status st = tc_train_ctx_create(0, net->seed, &net->ctx);
  if (st) return tc__net_err(net, st, "cannot create the training context");
  return TC_OK;
}

tc_train_ctx *tc_net_ctx(tc_net *net) {
  if (!net || tc__net_ensure_ctx(net)) return NULL;
  return net->ctx;
}

int tc_net_built(const tc_net *net) {
  if (!net || !net->n_layers) return 0;
  for (int i = 0; i < net->n_layers; i++)
    if (!net->layers[i].built) return 0;
  return 1;
}

/* ---- weight index ---- */

tc_status tc__net_index_weights(tc_net *net) {
  size_t n = 0, nt = 0;
  for (int i = 0; i < net->n_layers; i++) {
    n += (size_t)net->layers[i].n_w;
    for (int j = 0; j < net->layers[i].n_w; j++) nt += (size_t)net->layers[i].w_trainable[j];
  }
  tc_tensor **w = tc__realloc(net->weights, (n ? n : 1) * sizeof *w);
  if (!w) return TC_ERR_NOMEM;
  net->weights = w;
  char(*names)[112] = tc__realloc(net->wnames, (n ? n : 1) * sizeof *names);
  if (!names) return TC_ERR_NOMEM;
  net->wnames = names;
  tc_tensor **t = tc__realloc(net->trainable, (nt ? nt : 1) * sizeof *t);
  if (!t) return TC_ERR_NOMEM;
  net->trainable = t;
  size_t k = 0, kt = 0;
  for (int i = 0; i < net->n_layers; i++) {
    const tc__layer *L = &net->layers[i];
    for (int j = 0; j < L->n_w; j++, k++) {
      w[k] = L->w[j];
      tc__fmt(names[k], sizeof names[k], "%s/%s", L->cfg.name, L->wname[j]);
      if (L->w_trainable[j]) t[kt++] = L->w[j];
    }
  }
  net->n_weights = n;
  net->n_trainable = nt;
  return TC_OK;
}

size_t tc_net_n_weights(const tc_net *net) { return net ? net->n_weights : 0; }

tc_tensor *tc_net_weight(const tc_net *net, size_t i, const char **name) {
  if (!net || i >= net->n_weights) return NULL;
  if (name) *name = net->wnames[i];
  return net->weights[i];
}

tc_tensor *tc_net_find_weight(const tc_net *net, const char *name) {
  if (!net || !name) return NULL;
  for (size_t i = 0; i < net->n_weights; i++)
    if (!strcmp(net->wnames[i], name)) return net->weights[i];
  return NULL;
}

size_t tc_net_trainable(const tc_net *net, tc_tensor *const **params) {
  if (!net) return 0;
  if (params) *params = net->trainable;
  return net->n_trainable;
}

size_t tc_net_count_params(const tc_net *net, size_t *trainable, size_t *non_trainable) {
  size_t t = 0, nt = 0;
  for (int i = 0; net && i < net->n_layers; i++)
    for (int j = 0; j < net->layers[i].n_w; j++) {
      size_t n = tc_tensor_size(net->layers[i].w[j]);
      if (net->layers[i].w_trainable[j])
        t += n;
      else
        nt += n;
    }
  if (trainable) *trainable = t;
  if (non_trainable) *non_trainable = nt;
  return t + nt;
}

size_t tc__net_weights_floats(const tc_net *net) {
  size_t n = 0;
  for (size_t i = 0; i < net->n_weights; i++) n += tc_tensor_size(net->weights[i]);
  return n;
}

void tc__net_weights_get(const tc_net *net, float *buf) {
  for (size_t i = 0; i < net->n_weights; i++) {
    size_t n = tc_tensor_size(net->weights[i]);
    memcpy(buf, tc_tensor_f32_const(net->weights[i]), n * sizeof(float));
    buf += n;
  }
}

void tc__net_weights_set(tc_net *net, const float *buf) {
  for (size_t i = 0; i < net->n_weights; i++) {
    size_t n = tc_tensor_size(net->weights[i]);
    memcpy(tc_tensor_f32(net->weights[i]), buf, n * sizeof(float));
    buf += n;
  }
}

/* ---- graph construction ---- */

/* Builds every layer whose inputs are built (in order, so one pass suffices). */
static tc_status build_ready(tc_net *net) {
  int any = 0;
  for (int i = 0; i < net->n_layers; i++) {
    tc__layer *L = &net->layers[i];
    if (L->built) continue;
    if (L->cfg.kind == TC_LAYER_INPUT && L->cfg.rank < 0) continue;
    const tc__shape *in[TC__LAYER_MAX_IN];
    int ready = 1;
    for (int j = 0; j < L->n_in; j++) {
      const tc__layer *src = &net->layers[L->in[j]];
      if (!src->built) ready = 0;
      in[j] = &src->out;
    }
    if (!ready) continue;
    tc_status st = tc__layer_build(net, i, in);
    if (st) {
      /* Leave the layer unbuilt and without weights so a later attempt starts clean. */
      for (int j = 0; j < L->n_w; j++) tc_tensor_destroy(L->w[j]);
      L->n_w = 0;
      L->built = 0;
      return st;
    }
    any = 1;
  }
  if (any) {
    if (tc__net_index_weights(net)) return tc__net_err(net, TC_ERR_NOMEM, "out of memory");
    /* A new weight list invalidates the optimizer's view only by growing it; the slots are
     * keyed by tensor, so nothing else to do. */
  }
  return TC_OK;
}

static tc_status new_node(tc_net *net, tc_layer_config cfg, int n_in, const int *in, int *node) {
  char msg[200];
  if (!tc__layer_config_check(&cfg, msg, sizeof msg))
    return tc__net_err(net, TC_ERR_ARG, "%s", msg);
  int want_many = cfg.kind == TC_LAYER_ADD || cfg.kind == TC_LAYER_CONCATENATE;
  if (cfg.kind == TC_LAYER_INPUT ? n_in != 0
                                 : (n_in < 1 || n_in > TC__LAYER_MAX_IN || (!want_many && n_in != 1)))
    return tc__net_err(net, TC_ERR_ARG, "%s: wrong number of inputs (%d)",
                       tc_layer_kind_class(cfg.kind), n_in);
  for (int j = 0; j < n_in; j++)
    if (in[j] < 0 || in[j] >= net->n_layers)
      return tc__net_err(net, TC_ERR_ARG, "%s: input node %d does not exist",
                         tc_layer_kind_class(cfg.kind), in[j]);
  /* Names: Keras' "<prefix>", "<prefix>_1", ... unless given; given names must be unique. */
  if (!cfg.name[0]) {
    int k;
    do {
      k = net->name_counts[cfg.kind]++;
      if (k)
        tc__fmt(cfg.name, sizeof cfg.name, "%s_%d", tc_layer_kind_prefix(cfg.kind), k);
      else
        tc__fmt(cfg.name, sizeof cfg.name, "%s", tc_layer_kind_prefix(cfg.kind));
      int clash = 0;
      for (int i = 0; i < net->n_layers; i++)
        if (!strcmp(net->layers[i].cfg.name, cfg.name)) clash = 1;
      if (!clash) break;
    } while (1);
  } else {
    cfg.name[sizeof cfg.name - 1] = 0;
    for (int i = 0; i < net->n_layers; i++)
      if (!strcmp(net->layers[i].cfg.name, cfg.name))
        return tc__net_err(net, TC_ERR_ARG, "layer name \"%s\" is already used", cfg.name);
  }
  if (net->n_layers == net->cap_layers) {
    int cap = net->cap_layers ? net->cap_layers * 2 : 8;
    tc__layer *l = tc__realloc(net->layers, (size_t)cap * sizeof *l);
    if (!l) return tc__net_err(net, TC_ERR_NOMEM, "out of memory");
    net->layers = l;
    tc_tensor **a = tc__realloc(net->acts, (size_t)cap * sizeof *a);
    if (!a) return tc__net_err(net, TC_ERR_NOMEM, "out of memory");
    net->acts = a;
    net->cap_layers = cap;
  }
  tc__layer *L = &net->layers[net->n_layers];
  memset(L, 0, sizeof *L);
  L->cfg = cfg;
  L->n_in = n_in;
  for (int j = 0; j < n_in; j++) L->in[j] = in[j];
  L->out.rank = -1;
  int id = net->n_layers++;
  if (cfg.kind == TC_LAYER_INPUT) {
    if (net->n_inputs >= TC__NET_MAX_IO) {
      net->n_layers--;
      return tc__net_err(net, TC_ERR_ARG, "too many inputs (max %d)", TC__NET_MAX_IO);
    }
    net->inputs[net->n_inputs++] = id;
  }
  tc_status st = build_ready(net);
  if (st) {
    if (cfg.kind == TC_LAYER_INPUT) net->n_inputs--;
    net->n_layers--;
    return st;
  }
  if (!net->explicit_outputs) {
    net->n_outputs = 1;
    net->outputs[0] = id;
  }
  if (node) *node = id;
  return TC_OK;
}

tc_status tc_net_add(tc_net *net, tc_layer_config cfg) {
  if (!net) return TC_ERR_ARG;
  if (cfg.kind == TC_LAYER_INPUT) {
    if (net->n_layers)
      return tc__net_err(net, TC_ERR_ARG, "an Input can only be the first layer of a Sequential");
    return new_node(net, cfg, 0, NULL, NULL);
  }
  if (!net->n_layers) {
    /* No Input: an unbuilt one, shaped by tc_net_build or the first batch. */
    tc_layer_config in = tc_layer_input(0, NULL);
    in.rank = -1;
    int id;
    tc_status st = new_node(net, in, 0, NULL, &id);
    if (st) return st;
  }
  int last = net->n_layers - 1;
  return new_node(net, cfg, 1, &last, NULL);
}

tc_status tc_net_input(tc_net *net, int rank, const int32_t *dims, int *node) {
  if (!net || (rank > 0 && !dims)) return TC_ERR_ARG;
  net->functional = 1;
  return new_node(net, tc_layer_input(rank, dims), 0, NULL, node);
}

tc_status tc_net_call(tc_net *net, tc_layer_config cfg, int n_in, const int *in, int *node) {
  if (!net || (n_in > 0 && !in)) return TC_ERR_ARG;
  net->functional = 1;
  return new_node(net, cfg, n_in, in, node);
}

tc_status tc_net_set_outputs(tc_net *net, int n, const int *nodes) {
  if (!net || !nodes || n < 1 || n > TC__NET_MAX_IO)
    return tc__net_err(net, TC_ERR_ARG, "set_outputs: between 1 and %d outputs", TC__NET_MAX_IO);
  for (int i = 0; i < n; i++)
    if (nodes[i] < 0 || nodes[i] >= net->n_layers)
      return tc__net_err(net, TC_ERR_ARG, "set_outputs: node %d does not exist", nodes[i]);
  for (int i = 0; i < n; i++) net->outputs[i] = nodes[i];
  net->n_outputs = n;
  net->explicit_outputs = 1;
  return TC_OK;
}

static void default_outputs(tc_net *net) {
  if (!net->explicit_outputs && net->n_layers) {
    net->n_outputs = 1;
    net->outputs[0] = net->n_layers - 1;
  }
}

tc_status tc_net_build(tc_net *net, int rank, const int32_t *dims) {
  if (!net) return TC_ERR_ARG;
  if (!net->n_layers) return tc__net_err(net, TC_ERR_STATE, "build: the net has no layers");
  if (tc_net_built(net)) {
    default_outputs(net);
    return TC_OK;
  }
  if (rank < 0 || rank >= TC_MAX_DIMS || (rank && !dims))
    return tc__net_err(net, TC_ERR_ARG, "build: invalid input rank %d", rank);
  for (int k = 0; k < net->n_inputs; k++) {
    tc__layer *L = &net->layers[net->inputs[k]];
    if (L->cfg.rank < 0) {
      L->cfg.rank = rank;
      for (int i = 0; i < rank; i++) L->cfg.dims[i] = dims[i];
    }
  }
  tc_status st = build_ready(net);
  if (st) return st;
  if (!tc_net_built(net)) return tc__net_err(net, TC_ERR_STATE, "build: some layers have no input");
  default_outputs(net);
  return TC_OK;
}

int tc_net_n_layers(const tc_net *net) { return net ? net->n_layers : 0; }

const tc_layer_config *tc_net_layer_config(const tc_net *net, int i) {
  return (net && i >= 0 && i < net->n_layers) ? &net->layers[i].cfg : NULL;
}

int tc_net_layer_shape(const tc_net *net, int i, int32_t *dims) {
  if (!net || i < 0 || i >= net->n_layers || !net->layers[i].built) return -1;
  const tc__shape *s = &net->layers[i].out;
  if (dims)
    for (int k = 0; k < s->rank; k++) dims[k] = s->d[k];
  return s->rank;
}

/* ---- execution ---- */

tc_status tc_net_forward(tc_net *net, tc_train_ctx *ctx, int n_inputs, tc_tensor *const *x,
                         int training, tc_tensor **outputs) {
  if (!net || !ctx || !x || !outputs) return TC_ERR_ARG;
  if (n_inputs != net->n_inputs)
    return tc__net_err(net, TC_ERR_ARG, "forward: the net has %d inputs, got %d", net->n_inputs,
                       n_inputs);
  for (int k = 0; k < n_inputs; k++)
    if (!x[k] || tc_tensor_rank(x[k]) < 1)
      return tc__net_err(net, TC_ERR_ARG, "forward: input %d must have a batch axis", k);
  if (!tc_net_built(net)) {
    tc_status st = tc_net_build(net, tc_tensor_rank(x[0]) - 1, tc_tensor_dims(x[0]) + 1);
    if (st) return st;
  }
  default_outputs(net);
  /* Inputs must match the built shapes (the batch axis is free). */
  for (int k = 0; k < n_inputs; k++) {
    const tc__shape *s = &net->layers[net->inputs[k]].out;
    int ok = tc_tensor_rank(x[k]) == s->rank + 1;
    for (int i = 0; ok && i < s->rank; i++) ok = tc_tensor_dim(x[k], i + 1) == s->d[i];
    if (!ok) {
      char a[96], b[96];
      tc__shape_str(s, b, sizeof b);
      return tc__net_err(net, TC_ERR_ARG, "forward: input %d has shape %s, the net expects %s",
                         k, tc_tensor_shape_str(x[k], a, sizeof a), b);
    }
  }
  for (int k = 0; k < n_inputs; k++) net->acts[net->inputs[k]] = x[k];
  for (int i = 0; i < net->n_layers; i++) {
    tc__layer *L = &net->layers[i];
    if (L->cfg.kind == TC_LAYER_INPUT) continue;
    tc_tensor *in[TC__LAYER_MAX_IN];
    for (int j = 0; j < L->n_in; j++) in[j] = net->acts[L->in[j]];
    tc_status st = tc__layer_call(net, L, ctx, in, training, &net->acts[i]);
    if (st)
      return tc__net_err(net, st, "%s (%s): %s", L->cfg.name, tc_layer_kind_class(L->cfg.kind),
                         tc_train_ctx_errmsg(ctx));
  }
  for (int k = 0; k < net->n_outputs; k++) outputs[k] = net->acts[net->outputs[k]];
  return TC_OK;
}

tc_status tc_net_regularization(tc_net *net, tc_train_ctx *ctx, tc_tensor **out) {
  if (!net || !ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  tc_tensor *total = NULL;
  tc_status st;
  for (int i = 0; i < net->n_layers; i++) {
    const tc__layer *L = &net->layers[i];
    for (int j = 0; j < L->n_w; j++) {
      if (L->w_l2[j] == 0.0f) continue;
      tc_tensor *sq, *s;
      if ((st = tc_square(ctx, L->w[j], &sq)) || (st = tc_reduce_sum(ctx, sq, 0, NULL, 0, &s)) ||
          (st = tc_mul_scalar(ctx, s, L->w_l2[j], &s)))
        return st;
      if (total && (st = tc_add(ctx, total, s, &s))) return st;
      total = s;
    }
  }
  if (!total && (st = tc_tensor_step(ctx, TC_DTYPE_F32, 0, NULL, NULL, &total))) return st;
  *out = total;
  return TC_OK;
}

void tc_net_stop_training(tc_net *net) {
  if (net) net->stop_training = 1;
}

int tc_net_epochs_done(const tc_net *net) { return net ? net->epochs_done : 0; }

tc_optim *tc_net_optim(tc_net *net) { return net ? net->opt : NULL; }
