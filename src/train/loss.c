/* loss.c: Keras losses as compositions of the differentiable ops (so the tape differentiates
 * them), each the mean over the batch ("sum_over_batch_size"): MSE, MAE, binary, categorical
 * and sparse categorical crossentropy, with from_logits. Probabilities are clipped to
 * [1e-7, 1 - 1e-7] like Keras; sparse crossentropy from logits uses the fused op. */
#include <math.h>
#include <string.h>

#include "train/model.h"

#define EPS 1e-7f

static const char *const k_loss[] = {"mse", "mae", "binary_crossentropy",
                                     "categorical_crossentropy",
                                     "sparse_categorical_crossentropy"};

tc_loss tc_loss_make(tc_loss_kind kind, int from_logits) {
  tc_loss l = {kind, from_logits};
  return l;
}

const char *tc_loss_name(tc_loss_kind k) {
  return ((unsigned)k < sizeof k_loss / sizeof k_loss[0]) ? k_loss[k] : "?";
}

int tc_loss_parse(const char *name, tc_loss_kind *out) {
  if (!name || !out) return -1;
  for (unsigned i = 0; i < sizeof k_loss / sizeof k_loss[0]; i++)
    if (!strcmp(name, k_loss[i])) {
      *out = (tc_loss_kind)i;
      return 0;
    }
  if (!strcmp(name, "mean_squared_error")) return *out = TC_LOSS_MSE, 0;
  if (!strcmp(name, "mean_absolute_error")) return *out = TC_LOSS_MAE, 0;
  return -1;
}

/* y_true viewed with y_pred's shape (same number of elements per sample). */
static tc_status as_pred(tc_train_ctx *ctx, const char *name, const tc_tensor *y_pred,
                         const tc_tensor *y_true, tc_tensor **out) {
  char a[96], b[96];
  if (tc_tensor_dtype(y_true) != TC_DTYPE_F32 || tc_tensor_size(y_true) != tc_tensor_size(y_pred) ||
      tc_tensor_dim(y_true, 0) != tc_tensor_dim(y_pred, 0))
    return tc__tr_err(ctx, TC_ERR_ARG, "%s: y_true %s does not match y_pred %s", name,
                      tc_tensor_shape_str(y_true, a, sizeof a),
                      tc_tensor_shape_str(y_pred, b, sizeof b));
  return tc_reshape(ctx, y_true, tc_tensor_rank(y_pred), tc_tensor_dims(y_pred), out);
}

/* Integer class ids [rows] from y_true (int32, or float holding whole numbers). */
static tc_status labels_of(tc_train_ctx *ctx, const tc_tensor *y_true, size_t rows, size_t C,
                           tc_tensor **out) {
  char a[96];
  if (tc_tensor_size(y_true) != rows)
    return tc__tr_err(ctx, TC_ERR_ARG,
                      "sparse_categorical_crossentropy: y_true %s must hold one class id per "
                      "prediction row (%zu)", tc_tensor_shape_str(y_true, a, sizeof a), rows);
  int32_t d[1] = {(int32_t)rows};
  tc_tensor *t;
  tc_status st = tc_tensor_step(ctx, TC_DTYPE_I32, 1, d, NULL, &t);
  if (st) return st;
  int32_t *pi = tc_tensor_i32(t);
  if (tc_tensor_dtype(y_true) == TC_DTYPE_I32) {
    memcpy(pi, tc_tensor_i32_const(y_true), rows * sizeof(int32_t));
  } else {
    const float *pf = tc_tensor_f32_const(y_true);
    for (size_t i = 0; i < rows; i++) {
      if (!(pf[i] >= 0.0f && pf[i] < (float)C))
        return tc__tr_err(ctx, TC_ERR_RUNTIME,
                          "sparse_categorical_crossentropy: label %g at row %zu is outside "
                          "[0, %zu)", (double)pf[i], i, C);
      pi[i] = (int32_t)pf[i];
    }
  }
  for (size_t i = 0; i < rows; i++)
    if (pi[i] < 0 || (size_t)pi[i] >= C)
      return tc__tr_err(ctx, TC_ERR_RUNTIME,
                        "sparse_categorical_crossentropy: label %d at row %zu is outside [0, %zu)",
                        (int)pi[i], i, C);
  *out = t;
  return TC_OK;
}

/* -sum(t * log(p)) / rows, for p already clipped. */
static tc_status neg_mean_dot_log(tc_train_ctx *ctx, const tc_tensor *t, const tc_tensor *p,
                                  size_t rows, tc_tensor **out) {
  tc_tensor *lp, *m, *s;
  tc_status st;
  if ((st = tc_log(ctx, p, &lp)) || (st = tc_mul(ctx, t, lp, &m)) ||
      (st = tc_reduce_sum(ctx, m, 0, NULL, 0, &s)))
    return st;
  return tc_mul_scalar(ctx, s, -1.0f / (float)rows, out);
}

tc_status tc_loss_compute(tc_train_ctx *ctx, const tc_loss *loss, const tc_tensor *y_pred,
                          const tc_tensor *y_true, tc_tensor **out) {
  if (!ctx || !loss || !out) return TC_ERR_ARG;
  *out = NULL;
  const char *name = tc_loss_name(loss->kind);
  tc_status st = tc__tr_check(ctx, name, "y_pred", y_pred, TC_DTYPE_F32);
  if (st) return st;
  if (!y_true) return tc__tr_err(ctx, TC_ERR_ARG, "%s: y_true is NULL", name);
  if (tc_tensor_rank(y_pred) < 1)
    return tc__tr_err(ctx, TC_ERR_ARG, "%s: y_pred needs a batch axis", name);
  tc_tensor *t, *a, *b, *c;
  switch (loss->kind) {
  case TC_LOSS_MSE:
  case TC_LOSS_MAE:
    if ((st = as_pred(ctx, name, y_pred, y_true, &t)) || (st = tc_sub(ctx, y_pred, t, &a)))
      return st;
    st = loss->kind == TC_LOSS_MSE ? tc_square(ctx, a, &a) : tc_abs(ctx, a, &a);
    if (st) return st;
    return tc_reduce_mean(ctx, a, 0, NULL, 0, out);
  case TC_LOSS_BINARY_XENT:
    if ((st = as_pred(ctx, name, y_pred, y_true, &t))) return st;
    if (loss->from_logits) {
      /* Stable form: max(x, 0) - x z + log(1 + exp(-|x|)). */
      if ((st = tc_relu(ctx, y_pred, &a)) || (st = tc_mul(ctx, y_pred, t, &b)) ||
          (st = tc_sub(ctx, a, b, &a)) || (st = tc_abs(ctx, y_pred, &c)) ||
          (st = tc_neg(ctx, c, &c)) || (st = tc_exp(ctx, c, &c)) ||
          (st = tc_add_scalar(ctx, c, 1.0f, &c)) || (st = tc_log(ctx, c, &c)) ||
          (st = tc_add(ctx, a, c, &a)))
        return st;
      return tc_reduce_mean(ctx, a, 0, NULL, 0, out);
    } else {
      /* -(z log p + (1 - z) log(1 - p)) with p clipped. */
      tc_tensor *p, *q, *omt, *lp, *lq;
      if ((st = tc_clip(ctx, y_pred, EPS, 1.0f - EPS, &p)) ||
          (st = tc_mul_scalar(ctx, p, -1.0f, &q)) || (st = tc_add_scalar(ctx, q, 1.0f, &q)) ||
          (st = tc_mul_scalar(ctx, t, -1.0f, &omt)) ||
          (st = tc_add_scalar(ctx, omt, 1.0f, &omt)) || (st = tc_log(ctx, p, &lp)) ||
          (st = tc_log(ctx, q, &lq)) || (st = tc_mul(ctx, t, lp, &a)) ||
          (st = tc_mul(ctx, omt, lq, &b)) || (st = tc_add(ctx, a, b, &a)) ||
          (st = tc_reduce_mean(ctx, a, 0, NULL, 0, &a)))
        return st;
      return tc_neg(ctx, a, out);
    }
  case TC_LOSS_CATEGORICAL_XENT: {
    if ((st = as_pred(ctx, name, y_pred, y_true, &t))) return st;
    size_t rows = tc_tensor_size(y_pred) / (size_t)tc_tensor_dim(y_pred, -1);
    if (loss->from_logits) {
      tc_tensor *ls, *m, *s;
      if ((st = tc_log_softmax(ctx, y_pred, &ls)) || (st = tc_mul(ctx, t, ls, &m)) ||
          (st = tc_reduce_sum(ctx, m, 0, NULL, 0, &s)))
        return st;
      return tc_mul_scalar(ctx, s, -1.0f / (float)rows, out);
    }
    tc_tensor *sum, *p;
    int ax = -1;
    if ((st = tc_reduce_sum(ctx, y_pred, 1, &ax, 1, &sum)) || (st = tc_div(ctx, y_pred, sum, &p)) ||
        (st = tc_clip(ctx, p, EPS, 1.0f - EPS, &p)))
      return st;
    return neg_mean_dot_log(ctx, t, p, rows, out);
  }
  case TC_LOSS_SPARSE_CATEGORICAL_XENT: {
    size_t C = (size_t)tc_tensor_dim(y_pred, -1), rows = tc_tensor_size(y_pred) / C;
    tc_tensor *lab = NULL, *x2 = (tc_tensor *)y_pred;
    if (tc_tensor_rank(y_pred) < 2)
      return tc__tr_err(ctx, TC_ERR_ARG, "%s: y_pred must be [N, classes]", name);
    if ((st = labels_of(ctx, y_true, rows, C, &lab))) return st;
    if (tc_tensor_rank(y_pred) != 2) {
      int32_t d[2] = {(int32_t)rows, (int32_t)C};
      if ((st = tc_reshape(ctx, y_pred, 2, d, &x2))) return st;
    }
    if (loss->from_logits) return tc_softmax_xent_sparse(ctx, x2, lab, out, NULL);
    tc_tensor *oh, *p;
    if ((st = tc_tensor_step(ctx, TC_DTYPE_F32, 2, tc_tensor_dims(x2), NULL, &oh))) return st;
    float *po = tc_tensor_f32(oh);
    const int32_t *pl = tc_tensor_i32_const(lab);
    for (size_t r = 0; r < rows; r++) po[r * C + (size_t)pl[r]] = 1.0f;
    if ((st = tc_clip(ctx, x2, EPS, 1.0f - EPS, &p))) return st;
    return neg_mean_dot_log(ctx, oh, p, rows, out);
  }
  }
  return tc__tr_err(ctx, TC_ERR_ARG, "loss: unknown kind %d", (int)loss->kind);
}
