/* callbacks.c: the built-in Keras callbacks: ModelCheckpoint (every epoch or best only, "{epoch}"
 * in the path), EarlyStopping (patience, min_delta, restore_best_weights; Keras 3 logic),
 * CSVLogger (sorted keys like Keras) and LearningRateScheduler. Each is a tc_callback with its
 * state behind it; tc_callback_destroy frees it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/model.h"

void tc_callback_destroy(tc_callback *cb) {
  if (cb && cb->destroy) cb->destroy(cb);
}

static void plain_destroy(tc_callback *cb) { tc__free(cb); }

/* Keras "auto" mode: maximize accuracies, minimize everything else. */
static int maximize(const char *monitor) { return strstr(monitor, "acc") != NULL; }

static int improved(int max, double current, double best, double min_delta) {
  return max ? current > best + min_delta : current < best - min_delta;
}

/* ---- ModelCheckpoint ---- */

typedef struct ckpt_cb {
  tc_callback cb;
  char path[1024];
  char monitor[40];
  int best_only, have_best;
  double best;
} ckpt_cb;

/* Replaces "{epoch}" or "{epoch:0Nd}" by the 1-based epoch. */
static void format_path(const char *tmpl, int epoch, char *out, size_t size) {
  const char *p = strstr(tmpl, "{epoch");
  const char *q = p ? strchr(p, '}') : NULL;
  if (!p || !q) {
    tc__fmt(out, size, "%s", tmpl);
    return;
  }
  int width = 0;
  const char *colon = memchr(p, ':', (size_t)(q - p));
  if (colon && colon[1] == '0') width = (int)strtol(colon + 2, NULL, 10);
  tc__fmt(out, size, "%.*s%0*d%s", (int)(p - tmpl), tmpl, width, epoch + 1, q + 1);
}

static tc_status ckpt_train_begin(tc_callback *cb, tc_net *net) {
  ckpt_cb *c = (ckpt_cb *)cb;
  c->have_best = 0;
  (void)net;
  return TC_OK;
}

static tc_status ckpt_epoch_end(tc_callback *cb, tc_net *net, int epoch, const tc_logs *logs) {
  ckpt_cb *c = (ckpt_cb *)cb;
  if (c->best_only) {
    double v;
    if (!tc_logs_get(logs, c->monitor, &v) || isnan(v)) return TC_OK; /* Keras warns, skips */
    if (c->have_best && !improved(maximize(c->monitor), v, c->best, 0.0)) return TC_OK;
    c->best = v;
    c->have_best = 1;
  }
  char path[1100];
  format_path(c->path, epoch, path, sizeof path);
  return tc_net_save(net, path);
}

tc_status tc_callback_model_checkpoint(const char *path, const char *monitor, int save_best_only,
                                       tc_callback **out) {
  if (!path || !out) return TC_ERR_ARG;
  ckpt_cb *c = tc__calloc(1, sizeof *c);
  if (!c) return TC_ERR_NOMEM;
  tc__fmt(c->path, sizeof c->path, "%s", path);
  tc__fmt(c->monitor, sizeof c->monitor, "%s", monitor ? monitor : "val_loss");
  c->best_only = save_best_only;
  c->cb.on_train_begin = ckpt_train_begin;
  c->cb.on_epoch_end = ckpt_epoch_end;
  c->cb.destroy = plain_destroy;
  *out = &c->cb;
  return TC_OK;
}

/* ---- EarlyStopping ---- */

typedef struct es_cb {
  tc_callback cb;
  char monitor[40];
  int patience, restore, wait, stopped_epoch, have_best, have_weights;
  double min_delta, best;
  float *weights;
  size_t n_weights;
} es_cb;

static tc_status es_train_begin(tc_callback *cb, tc_net *net) {
  es_cb *e = (es_cb *)cb;
  e->wait = 0;
  e->stopped_epoch = -1;
  e->have_best = 0;
  e->have_weights = 0;
  if (e->restore) {
    size_t n = tc__net_weights_floats(net);
    if (n != e->n_weights) {
      tc__free(e->weights);
      e->weights = tc__malloc((n ? n : 1) * sizeof(float));
      if (!e->weights) return TC_ERR_NOMEM;
      e->n_weights = n;
    }
  }
  return TC_OK;
}

static tc_status es_epoch_end(tc_callback *cb, tc_net *net, int epoch, const tc_logs *logs) {
  es_cb *e = (es_cb *)cb;
  double v;
  if (!tc_logs_get(logs, e->monitor, &v) || isnan(v)) return TC_OK;
  if (e->restore && !e->have_weights) {
    tc__net_weights_get(net, e->weights);
    e->have_weights = 1;
  }
  e->wait++;
  if (!e->have_best || improved(maximize(e->monitor), v, e->best, e->min_delta)) {
    e->best = v;
    e->have_best = 1;
    if (e->restore) tc__net_weights_get(net, e->weights);
    e->wait = 0;
    return TC_OK;
  }
  if (e->wait >= e->patience && epoch > 0) {
    e->stopped_epoch = epoch;
    tc_net_stop_training(net);
    if (e->restore && e->have_weights) tc__net_weights_set(net, e->weights);
  }
  return TC_OK;
}

static void es_destroy(tc_callback *cb) {
  es_cb *e = (es_cb *)cb;
  tc__free(e->weights);
  tc__free(e);
}

tc_status tc_callback_early_stopping(const char *monitor, int patience, float min_delta,
                                     int restore_best_weights, tc_callback **out) {
  if (!out || patience < 0) return TC_ERR_ARG;
  es_cb *e = tc__calloc(1, sizeof *e);
  if (!e) return TC_ERR_NOMEM;
  tc__fmt(e->monitor, sizeof e->monitor, "%s", monitor ? monitor : "val_loss");
  e->patience = patience;
  e->min_delta = fabs((double)min_delta);
  e->restore = restore_best_weights;
  e->stopped_epoch = -1;
  e->cb.on_train_begin = es_train_begin;
  e->cb.on_epoch_end = es_epoch_end;
  e->cb.destroy = es_destroy;
  *out = &e->cb;
  return TC_OK;
}

int tc_callback_early_stopping_stopped_epoch(const tc_callback *cb) {
  if (!cb || cb->destroy != es_destroy) return -1;
  return ((const es_cb *)cb)->stopped_epoch;
}

/* ---- CSVLogger ---- */

typedef struct csv_cb {
  tc_callback cb;
  char path[1024];
  int append;
  FILE *f;
  int header_done;
} csv_cb;

static tc_status csv_train_begin(tc_callback *cb, tc_net *net) {
  csv_cb *c = (csv_cb *)cb;
  if (c->f) fclose(c->f);
  c->header_done = 0;
  if (c->append) {
    /* Keep an existing header. */
    FILE *r = fopen(c->path, "rb");
    if (r) {
      c->header_done = fgetc(r) != EOF;
      fclose(r);
    }
  }
  c->f = fopen(c->path, c->append ? "ab" : "wb");
  if (!c->f) return tc__net_err(net, TC_ERR_IO, "CSVLogger: cannot open %s", c->path);
  return TC_OK;
}

static tc_status csv_epoch_end(tc_callback *cb, tc_net *net, int epoch, const tc_logs *logs) {
  csv_cb *c = (csv_cb *)cb;
  if (!c->f) return TC_OK;
  int order[TC_LOGS_MAX];
  for (int i = 0; i < logs->n; i++) order[i] = i;
  for (int i = 1; i < logs->n; i++) /* insertion sort by key, as Keras sorts the keys */
    for (int j = i; j > 0 && strcmp(logs->keys[order[j - 1]], logs->keys[order[j]]) > 0; j--) {
      int t = order[j];
      order[j] = order[j - 1];
      order[j - 1] = t;
    }
  if (!c->header_done) {
    fprintf(c->f, "epoch");
    for (int i = 0; i < logs->n; i++) fprintf(c->f, ",%s", logs->keys[order[i]]);
    fprintf(c->f, "\n");
    c->header_done = 1;
  }
  fprintf(c->f, "%d", epoch);
  for (int i = 0; i < logs->n; i++) fprintf(c->f, ",%.10g", logs->values[order[i]]);
  fprintf(c->f, "\n");
  if (fflush(c->f)) return tc__net_err(net, TC_ERR_IO, "CSVLogger: cannot write %s", c->path);
  return TC_OK;
}

static tc_status csv_train_end(tc_callback *cb, tc_net *net, const tc_logs *logs) {
  csv_cb *c = (csv_cb *)cb;
  (void)net;
  (void)logs;
  int bad = c->f && fclose(c->f);
  c->f = NULL;
  return bad ? TC_ERR_IO : TC_OK;
}

static void csv_destroy(tc_callback *cb) {
  csv_cb *c = (csv_cb *)cb;
  if (c->f) fclose(c->f);
  tc__free(c);
}

tc_status tc_callback_csv_logger(const char *path, int append, tc_callback **out) {
  if (!path || !out) return TC_ERR_ARG;
  csv_cb *c = tc__calloc(1, sizeof *c);
  if (!c) return TC_ERR_NOMEM;
  tc__fmt(c->path, sizeof c->path, "%s", path);
  c->append = append;
  c->cb.on_train_begin = csv_train_begin;
  c->cb.on_epoch_end = csv_epoch_end;
  c->cb.on_train_end = csv_train_end;
  c->cb.destroy = csv_destroy;
  *out = &c->cb;
  return TC_OK;
}

/* ---- LearningRateScheduler ---- */

typedef struct lrs_cb {
  tc_callback cb;
  float (*fn)(int epoch, float lr, void *user);
  void *user;
} lrs_cb;

static tc_status lrs_epoch_begin(tc_callback *cb, tc_net *net, int epoch) {
  lrs_cb *l = (lrs_cb *)cb;
  tc_optim *o = tc_net_optim(net);
  if (!o) return TC_OK;
  float lr = l->fn(epoch, tc_optim_lr(o), l->user);
  if (!(lr >= 0.0f) || isinf(lr))
    return tc__net_err(net, TC_ERR_ARG, "LearningRateScheduler: invalid rate %g at epoch %d",
                       (double)lr, epoch);
  tc_optim_set_lr(o, lr);
  return TC_OK;
}

tc_status tc_callback_lr_scheduler(float (*fn)(int epoch, float lr, void *user), void *user,
                                   tc_callback **out) {
  if (!fn || !out) return TC_ERR_ARG;
  lrs_cb *l = tc__calloc(1, sizeof *l);
  if (!l) return TC_ERR_NOMEM;
  l->fn = fn;
  l->user = user;
  l->cb.on_epoch_begin = lrs_epoch_begin;
  l->cb.destroy = plain_destroy;
  *out = &l->cb;
  return TC_OK;
}
