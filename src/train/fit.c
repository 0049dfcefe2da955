/* fit.c: compile, fit, evaluate and predict, the Keras Model training loop. One step resets
 * the context's step arena, gathers the (shuffled) batch into it, runs the forward pass with
 * the tape on, adds the L2 penalties to the loss, takes the gradients of the trainable
 * parameters and hands them straight to the optimizer; nothing is allocated after the first
 * step. Per-epoch logs go to the progress bar, the callbacks and the history. */
#include <math.h>
#include <string.h>

#include "train/model.h"

tc_status tc_net_compile(tc_net *net, tc_loss loss, tc_optim_config optim, int n_metrics,
                         const tc_metric_kind *metrics) {
  if (!net) return TC_ERR_ARG;
  if ((unsigned)loss.kind > TC_LOSS_SPARSE_CATEGORICAL_XENT)
    return tc__net_err(net, TC_ERR_ARG, "compile: unknown loss %d", (int)loss.kind);
  if (n_metrics < 0 || n_metrics > TC_NET_MAX_METRICS || (n_metrics && !metrics))
    return tc__net_err(net, TC_ERR_ARG, "compile: between 0 and %d metrics", TC_NET_MAX_METRICS);
  for (int i = 0; i < n_metrics; i++)
    if ((unsigned)metrics[i] > TC_METRIC_MSE)
      return tc__net_err(net, TC_ERR_ARG, "compile: unknown metric %d", (int)metrics[i]);
  tc_optim *opt;
  tc_status st = tc_optim_create(&optim, &opt);
  if (st) return tc__net_err(net, st, "compile: invalid optimizer settings");
  tc_optim_destroy(net->opt);
  net->opt = opt;
  net->optim_cfg = optim;
  net->loss = loss;
  net->n_metrics = n_metrics;
  for (int i = 0; i < n_metrics; i++) {
    net->metric_kinds[i] = metrics[i];
    tc_metric_init(&net->metrics[i], metrics[i], &net->loss);
  }
  net->compiled = 1;
  return TC_OK;
}

tc_fit_options tc_fit_defaults(void) {
  tc_fit_options o;
  memset(&o, 0, sizeof o);
  o.epochs = 1;
  o.batch_size = 32;
  o.shuffle = 1;
  o.verbose = 1;
  return o;
}

/* ---- history ---- */

const double *tc_history_get(const tc_history *h, const char *key) {
  if (!h || !key) return NULL;
  for (int i = 0; i < h->n_keys; i++)
    if (!strcmp(h->keys[i], key)) return h->values[i];
  return NULL;
}

void tc_history_free(tc_history *h) {
  if (!h) return;
  for (int i = 0; i < h->n_keys; i++) tc__free(h->values[i]);
  memset(h, 0, sizeof *h);
}

static tc_status history_add(tc_history *h, const tc_logs *logs) {
  if (h->n_epochs == h->cap) {
    int cap = h->cap ? h->cap * 2 : 16;
    for (int i = 0; i < TC_LOGS_MAX; i++) {
      if (!h->values[i]) continue;
      double *v = tc__realloc(h->values[i], (size_t)cap * sizeof(double));
      if (!v) return TC_ERR_NOMEM;
      h->values[i] = v;
    }
    h->cap = cap;
  }
  for (int k = 0; k < logs->n; k++) {
    int idx = -1;
    for (int i = 0; i < h->n_keys; i++)
      if (!strcmp(h->keys[i], logs->keys[k])) idx = i;
    if (idx < 0) {
      if (h->n_keys >= TC_LOGS_MAX) continue;
      idx = h->n_keys++;
      tc__fmt(h->keys[idx], sizeof h->keys[idx], "%s", logs->keys[k]);
      if (!h->values[idx]) {
        h->values[idx] = tc__calloc((size_t)h->cap, sizeof(double));
        if (!h->values[idx]) return TC_ERR_NOMEM;
      }
      for (int e = 0; e < h->n_epochs; e++) h->values[idx][e] = NAN;
    }
    h->values[idx][h->n_epochs] = logs->values[k];
  }
  h->n_epochs++;
  return TC_OK;
}

/* ---- batches ---- */

typedef struct sizes {
  size_t in, out, y; /* floats per sample */
  int y_rank;        /* without batch */
  int32_t y_dims[TC_MAX_DIMS];
} sizes;

static tc_status data_sizes(tc_net *net, const tc_data *d, sizes *s) {
  if (!tc_net_built(net))
    return tc__net_err(net, TC_ERR_STATE,
                       "the net has no input shape: start it with an Input layer or call "
                       "tc_net_build before fitting on arrays");
  if (net->n_inputs != 1 || net->n_outputs != 1)
    return tc__net_err(net, TC_ERR_UNSUPPORTED,
                       "fit/evaluate/predict on arrays need one input and one output");
  const tc__shape *in = &net->layers[net->inputs[0]].out, *out = &net->layers[net->outputs[0]].out;
  s->in = s->out = 1;
  for (int i = 0; i < in->rank; i++) s->in *= (size_t)in->d[i];
  for (int i = 0; i < out->rank; i++) s->out *= (size_t)out->d[i];
  int sparse = net->loss.kind == TC_LOSS_SPARSE_CATEGORICAL_XENT;
  size_t want = sparse && out->rank ? s->out / (size_t)out->d[out->rank - 1] : s->out;
  s->y = d && d->y_size ? d->y_size : want;
  if (s->y == s->out) {
    s->y_rank = out->rank;
    memcpy(s->y_dims, out->d, sizeof s->y_dims);
  } else if (sparse && s->y == want) {
    s->y_rank = out->rank - 1;
    memcpy(s->y_dims, out->d, sizeof s->y_dims);
  } else {
    s->y_rank = 1;
    s->y_dims[0] = (int32_t)s->y;
  }
  return TC_OK;
}

/* Copies rows idx[0..B) (or first..first+B when idx is NULL) of the arrays into step tensors. */
static tc_status gather_batch(tc_net *net, const tc_data *d, const sizes *s, const size_t *idx,
                              size_t first, size_t B, tc_tensor **x, tc_tensor **y) {
  tc_train_ctx *ctx = net->ctx;
  const tc__shape *in = &net->layers[net->inputs[0]].out;
  int32_t xd[TC_MAX_DIMS], yd[TC_MAX_DIMS];
  xd[0] = yd[0] = (int32_t)B;
  for (int i = 0; i < in->rank; i++) xd[i + 1] = in->d[i];
  for (int i = 0; i < s->y_rank; i++) yd[i + 1] = s->y_dims[i];
  tc_status st;
  if ((st = tc__tr_new(ctx, TC_DTYPE_F32, in->rank + 1, xd, 0, x))) return st;
  float *px = tc_tensor_f32(*x), *py = NULL;
  if (y) {
    if ((st = tc__tr_new(ctx, TC_DTYPE_F32, s->y_rank + 1, yd, 0, y))) return st;
    py = tc_tensor_f32(*y);
  }
  for (size_t r = 0; r < B; r++) {
    size_t i = idx ? idx[first + r] : first + r;
    memcpy(px + r * s->in, d->x + i * s->in, s->in * sizeof(float));
    if (py) memcpy(py + r * s->y, d->y + i * s->y, s->y * sizeof(float));
  }
  return TC_OK;
}

static void metrics_reset(tc_net *net) {
  for (int i = 0; i < net->n_metrics; i++) tc_metric_reset(&net->metrics[i]);
}

static void metrics_logs(tc_net *net, const char *prefix, tc_logs *logs) {
  for (int i = 0; i < net->n_metrics; i++) {
    char k[48];
    tc__fmt(k, sizeof k, "%s%s", prefix, tc_metric_name(net->metric_kinds[i]));
    tc__logs_set(logs, k, tc_metric_result(&net->metrics[i]));
  }
}

/* Forward + loss on one batch (no tape unless the caller started it). */
static tc_status batch_loss(tc_net *net, tc_tensor *x, tc_tensor *y, int training,
                            tc_tensor **pred, tc_tensor **loss) {
  tc_train_ctx *ctx = net->ctx;
  tc_status st;
  tc_tensor *reg;
  if ((st = tc_net_forward(net, ctx, 1, &x, training, pred))) return st;
  if ((st = tc_loss_compute(ctx, &net->loss, *pred, y, loss)) ||
      (st = tc_net_regularization(net, ctx, &reg)) || (st = tc_add(ctx, *loss, reg, loss)))
    return tc__net_err(net, st, "loss: %s", tc_train_ctx_errmsg(ctx));
  for (int i = 0; i < net->n_metrics; i++)
    if ((st = tc_metric_update(&net->metrics[i], *pred, y)))
      return tc__net_err(net, st, "metric %s: y_true does not fit the predictions",
                         tc_metric_name(net->metric_kinds[i]));
  return TC_OK;
}

static tc_status evaluate_arrays(tc_net *net, const tc_data *d, size_t bs, int verbose,
                                 const char *prefix, tc_logs *logs) {
  sizes s;
  tc_status st = data_sizes(net, d, &s);
  if (st) return st;
  if (!bs) bs = 32;
  size_t steps = (d->n + bs - 1) / bs;
  tc__progbar pb;
  tc__progbar_start(&pb, stderr, verbose, steps);
  metrics_reset(net);
  double sum = 0;
  tc_logs l;
  memset(&l, 0, sizeof l);
  for (size_t b = 0; b < steps; b++) {
    size_t B = TC_MIN(bs, d->n - b * bs);
    tc_train_ctx_step_reset(net->ctx);
    tc_tensor *x, *y, *pred, *loss;
    if ((st = gather_batch(net, d, &s, NULL, b * bs, B, &x, &y)) ||
        (st = batch_loss(net, x, y, 0, &pred, &loss)))
      return st;
    sum += (double)tc_tensor_item(loss) * (double)B;
    l.n = 0;
    tc__logs_set(&l, "loss", sum / (double)((b * bs) + B));
    metrics_logs(net, "", &l);
    tc__progbar_update(&pb, b + 1, &l);
  }
  tc__progbar_finish(&pb, steps, &l);
  char k[48];
  tc__fmt(k, sizeof k, "%sloss", prefix);
  tc__logs_set(logs, k, d->n ? sum / (double)d->n : 0.0);
  metrics_logs(net, prefix, logs);
  return TC_OK;
}

tc_status tc_net_evaluate(tc_net *net, const tc_data *data, size_t batch_size, int verbose,
                          tc_logs *logs) {
  if (!net || !data || !logs || !data->x || !data->y) return TC_ERR_ARG;
  if (!net->compiled) return tc__net_err(net, TC_ERR_STATE, "evaluate: compile the net first");
  tc_status st = tc__net_ensure_ctx(net);
  if (st) return st;
  memset(logs, 0, sizeof *logs);
  return evaluate_arrays(net, data, batch_size, verbose, "", logs);
}

tc_status tc_net_predict(tc_net *net, const float *x, size_t n, size_t batch_size, float *out) {
  if (!net || (n && (!x || !out))) return TC_ERR_ARG;
  tc_status st = tc__net_ensure_ctx(net);
  if (st) return st;
  sizes s;
  tc_data d = {x, NULL, n, 0};
  if ((st = data_sizes(net, &d, &s))) return st;
  if (!batch_size) batch_size = 32;
  for (size_t first = 0; first < n; first += batch_size) {
    size_t B = TC_MIN(batch_size, n - first);
    tc_train_ctx_step_reset(net->ctx);
    tc_tensor *xb, *pred;
    if ((st = gather_batch(net, &d, &s, NULL, first, B, &xb, NULL)) ||
        (st = tc_net_forward(net, net->ctx, 1, &xb, 0, &pred)))
      return st;
    memcpy(out + first * s.out, tc_tensor_f32_const(pred), B * s.out * sizeof(float));
  }
  tc_train_ctx_step_reset(net->ctx);
  return TC_OK;
}

/* ---- fit ---- */

static void shuffle(size_t *perm, size_t n, uint64_t seed, int epoch) {
  uint64_t rng[4];
  tc__tr_rng_seed(rng, seed ^ (0xd1b54a32d192ed03ull * (uint64_t)(epoch + 1)));
  for (size_t i = 0; i < n; i++) perm[i] = i;
  for (size_t i = n; i > 1; i--) {
    size_t j = (size_t)(tc__tr_rng_next(rng) % (uint64_t)i);
    size_t t = perm[i - 1];
    perm[i - 1] = perm[j];
    perm[j] = t;
  }
}

#define CB_CALL(hook, ...)                                                                    \
  for (size_t c_ = 0; c_ < o.n_callbacks && !st; c_++)                                        \
    if (o.callbacks[c_] && o.callbacks[c_]->hook) st = o.callbacks[c_]->hook(o.callbacks[c_], __VA_ARGS__)

static tc_status train_step(tc_net *net, tc_tensor *x, tc_tensor *y, double *loss_out) {
  tc_train_ctx *ctx = net->ctx;
  tc_tensor *pred, *loss, **grads;
  tc_status st;
  tc_tape_start(ctx);
  st = batch_loss(net, x, y, 1, &pred, &loss);
  tc_tape_stop(ctx);
  if (st) return st;
  grads = tc__tr_alloc(ctx, (net->n_trainable + 1) * sizeof *grads);
  if (!grads) return tc__net_err(net, TC_ERR_NOMEM, "out of memory");
  if ((st = tc_gradient(ctx, loss, net->n_trainable, net->trainable, grads)))
    return tc__net_err(net, st, "gradient: %s", tc_train_ctx_errmsg(ctx));
  /* The update runs over the context's pool, which the optimizer only borrows for the call. */
  tc__optim_set_pool(net->opt, ctx->n_threads > 1 ? ctx->pool : NULL);
  st = tc_optim_apply(net->opt, net->n_trainable, net->trainable, grads);
  tc__optim_set_pool(net->opt, NULL);
  if (st) return tc__net_err(net, st, "optimizer: cannot apply the update");
  *loss_out = tc_tensor_item(loss);
  return TC_OK;
}

tc_status tc_net_fit(tc_net *net, const tc_data *data, const tc_fit_options *opts,
                     tc_history *history) {
  if (!net) return TC_ERR_ARG;
  tc_fit_options o = opts ? *opts : tc_fit_defaults();
  if (history) memset(history, 0, sizeof *history);
  if (!net->compiled) return tc__net_err(net, TC_ERR_STATE, "fit: compile the net first");
  if (!o.batch_size) o.batch_size = 32;
  if (!o.progress) o.progress = stderr;
  if (o.n_callbacks && !o.callbacks) return tc__net_err(net, TC_ERR_ARG, "fit: callbacks NULL");
  tc_status st = tc__net_ensure_ctx(net);
  if (st) return st;
  sizes s;
  memset(&s, 0, sizeof s);
  size_t n_train = 0, steps;
  tc_data val;
  const tc_data *valp = o.validation_data;
  if (o.batches) {
    if (!o.steps_per_epoch)
      return tc__net_err(net, TC_ERR_ARG, "fit: a batch source needs steps_per_epoch");
    steps = o.steps_per_epoch;
  } else {
    if (!data || !data->x || !data->y || !data->n)
      return tc__net_err(net, TC_ERR_ARG, "fit: no training data");
    if ((st = data_sizes(net, data, &s))) return st;
    if (!(o.validation_split >= 0.0f && o.validation_split < 1.0f))
      return tc__net_err(net, TC_ERR_ARG, "fit: validation_split %g is outside [0, 1)",
                         (double)o.validation_split);
    /* Keras: the last fraction of the samples, taken before shuffling. */
    n_train = (size_t)floor((double)data->n * (1.0 - (double)o.validation_split));
    if (o.validation_split > 0.0f && !valp) {
      val = *data;
      val.x = data->x + n_train * s.in;
      val.y = data->y + n_train * s.y;
      val.n = data->n - n_train;
      valp = val.n ? &val : NULL;
    }
    if (!n_train) return tc__net_err(net, TC_ERR_ARG, "fit: no samples left for training");
    steps = (n_train + o.batch_size - 1) / o.batch_size;
  }
  size_t *perm = NULL;
  if (!o.batches && (perm = tc__malloc(n_train * sizeof *perm)) == NULL)
    return tc__net_err(net, TC_ERR_NOMEM, "out of memory");
  net->stop_training = 0;
  tc_logs logs;
  memset(&logs, 0, sizeof logs);
  CB_CALL(on_train_begin, net);
  for (int epoch = o.initial_epoch; !st && epoch < o.epochs && !net->stop_training; epoch++) {
    CB_CALL(on_epoch_begin, net, epoch);
    if (st) break;
    tc__progbar_epoch(o.progress, o.verbose, epoch, o.epochs);
    tc__progbar pb;
    tc__progbar_start(&pb, o.progress, o.verbose, steps);
    if (perm) {
      if (o.shuffle)
        shuffle(perm, n_train, o.seed, epoch);
      else
        for (size_t i = 0; i < n_train; i++) perm[i] = i;
    }
    metrics_reset(net);
    double sum = 0, count = 0;
    for (size_t b = 0; b < steps && !st; b++) {
      tc_train_ctx_step_reset(net->ctx);
      tc_tensor *x, *y;
      size_t B;
      if (o.batches) {
        if ((st = o.batches(o.batches_user, epoch, b, net->ctx, &x, &y))) {
          tc__net_err(net, st, "fit: the batch source failed at batch %zu: %s", b,
                      tc_train_ctx_errmsg(net->ctx));
          break;
        }
        B = (size_t)tc_tensor_dim(x, 0);
      } else {
        B = TC_MIN(o.batch_size, n_train - b * o.batch_size);
        if ((st = gather_batch(net, data, &s, perm, b * o.batch_size, B, &x, &y))) break;
      }
      double l = 0;
      if ((st = train_step(net, x, y, &l))) break;
      sum += l * (double)B;
      count += (double)B;
      logs.n = 0;
      tc__logs_set(&logs, "loss", sum / count);
      metrics_logs(net, "", &logs);
      CB_CALL(on_batch_end, net, b, &logs);
      tc__progbar_update(&pb, b + 1, &logs);
    }
    if (st) break;
    if (valp && (st = evaluate_arrays(net, valp, o.batch_size, 0, "val_", &logs))) break;
    tc_train_ctx_step_reset(net->ctx);
    tc__progbar_finish(&pb, steps, &logs);
    net->epochs_done = epoch + 1;
    if (history && (st = history_add(history, &logs))) {
      tc__net_err(net, st, "out of memory");
      break;
    }
    CB_CALL(on_epoch_end, net, epoch, &logs);
  }
  if (!st) CB_CALL(on_train_end, net, &logs);
  tc__free(perm);
  return st;
}
