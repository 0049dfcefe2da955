/* metrics.c: streaming Keras metrics (mean over every sample since the last reset): accuracy
 * resolved from the loss like Keras ("accuracy" means sparse categorical, categorical or
 * binary accuracy), MAE and MSE. They read values only and are never on the tape. */
#include <math.h>
#include <string.h>

#include "train/model.h"

static const char *const k_metric[] = {"accuracy", "sparse_categorical_accuracy",
                                       "categorical_accuracy", "binary_accuracy", "mae", "mse"};
#define N_METRIC ((int)(sizeof k_metric / sizeof k_metric[0]))

const char *tc_metric_name(tc_metric_kind k) {
  return ((int)k >= 0 && (int)k < N_METRIC) ? k_metric[k] : "?";
}

int tc_metric_parse(const char *name, tc_metric_kind *out) {
  if (!name || !out) return -1;
  for (int i = 0; i < N_METRIC; i++)
    if (!strcmp(name, k_metric[i])) {
      *out = (tc_metric_kind)i;
      return 0;
    }
  if (!strcmp(name, "acc")) return *out = TC_METRIC_ACCURACY, 0;
  if (!strcmp(name, "mean_absolute_error")) return *out = TC_METRIC_MAE, 0;
  if (!strcmp(name, "mean_squared_error")) return *out = TC_METRIC_MSE, 0;
  return -1;
}

void tc_metric_init(tc_metric *m, tc_metric_kind kind, const tc_loss *loss) {
  if (!m) return;
  memset(m, 0, sizeof *m);
  if (kind == TC_METRIC_ACCURACY) {
    kind = TC_METRIC_CATEGORICAL_ACCURACY;
    if (loss && loss->kind == TC_LOSS_SPARSE_CATEGORICAL_XENT)
      kind = TC_METRIC_SPARSE_CATEGORICAL_ACCURACY;
    else if (loss && (loss->kind == TC_LOSS_BINARY_XENT || loss->kind == TC_LOSS_MSE ||
                      loss->kind == TC_LOSS_MAE))
      kind = TC_METRIC_BINARY_ACCURACY;
  }
  m->kind = kind;
  m->logits = loss && loss->from_logits;
}

void tc_metric_reset(tc_metric *m) {
  if (m) m->total = m->count = 0;
}

double tc_metric_result(const tc_metric *m) {
  return (m && m->count > 0) ? m->total / m->count : 0.0;
}

static size_t argmax(const float *p, size_t n) {
  size_t best = 0;
  for (size_t j = 1; j < n; j++)
    if (p[j] > p[best]) best = j;
  return best;
}

tc_status tc_metric_update(tc_metric *m, const tc_tensor *y_pred, const tc_tensor *y_true) {
  if (!m || !y_pred || !y_true || tc_tensor_dtype(y_pred) != TC_DTYPE_F32 ||
      tc_tensor_rank(y_pred) < 1)
    return TC_ERR_ARG;
  const float *p = tc_tensor_f32_const(y_pred);
  size_t np = tc_tensor_size(y_pred), nt = tc_tensor_size(y_true);
  size_t C = (size_t)tc_tensor_dim(y_pred, -1), rows = np / C;
  const float *tf = tc_tensor_f32_const(y_true);
  const int32_t *ti = tc_tensor_i32_const(y_true);
  switch (m->kind) {
  case TC_METRIC_SPARSE_CATEGORICAL_ACCURACY:
    if (nt != rows) return TC_ERR_ARG;
    for (size_t r = 0; r < rows; r++) {
      double lab = tf ? (double)tf[r] : (double)ti[r];
      m->total += (double)argmax(p + r * C, C) == lab;
    }
    m->count += (double)rows;
    return TC_OK;
  case TC_METRIC_CATEGORICAL_ACCURACY:
    if (nt != np || !tf) return TC_ERR_ARG;
    for (size_t r = 0; r < rows; r++) m->total += argmax(p + r * C, C) == argmax(tf + r * C, C);
    m->count += (double)rows;
    return TC_OK;
  case TC_METRIC_BINARY_ACCURACY: {
    if (nt != np || !tf) return TC_ERR_ARG;
    float thr = m->logits ? 0.0f : 0.5f;
    for (size_t i = 0; i < np; i++) m->total += (p[i] > thr) == (tf[i] > 0.5f);
    m->count += (double)np;
    return TC_OK;
  }
  case TC_METRIC_MAE:
  case TC_METRIC_MSE:
    if (nt != np || !tf) return TC_ERR_ARG;
    /* Keras averages per sample over the last axis, then over samples: the same as the mean
     * over all elements, which is what is accumulated here (count in elements). */
    for (size_t i = 0; i < np; i++) {
      double d = (double)p[i] - (double)tf[i];
      m->total += m->kind == TC_METRIC_MAE ? fabs(d) : d * d;
    }
    m->count += (double)np;
    return TC_OK;
  default: return TC_ERR_ARG;
  }
}
