/* tape.c: reverse-mode automatic differentiation. While recording, every op whose inputs need a
 * gradient pushes a node (backward function, inputs, output, saved values) into the step arena,
 * linked to the previous node; tc_gradient walks that list backwards from the loss. Gradient
 * buffers live in the step arena and are tagged with an epoch so that starting a new gradient
 * pass invalidates all of them in O(1). */
#include <string.h>

#include "train/train.h"

void tc_tape_start(tc_train_ctx *ctx) {
  if (ctx) ctx->recording = 1;
}
void tc_tape_stop(tc_train_ctx *ctx) {
  if (ctx) ctx->recording = 0;
}
int tc_tape_recording(const tc_train_ctx *ctx) { return ctx ? ctx->recording : 0; }
size_t tc_tape_size(const tc_train_ctx *ctx) { return ctx ? ctx->n_nodes : 0; }

tc__node *tc__tr_record(tc_train_ctx *ctx, const char *op, tc__backward_fn bw, tc_tensor *out,
                     int n_in, const tc_tensor *const *in) {
  tc__node *n = tc__tr_alloc(ctx, sizeof *n);
  if (!n) return NULL;
  memset(n, 0, sizeof *n);
  n->backward = bw;
  n->op = op;
  n->out = out;
  n->n_in = n_in;
  /* The tape needs to write the inputs' gradient bookkeeping; the data stays untouched. */
  for (int i = 0; i < n_in; i++) n->in[i] = (tc_tensor *)in[i];
  n->prev = ctx->last;
  ctx->last = n;
  ctx->n_nodes++;
  out->flags |= TC__T_NEEDS_GRAD;
  return n;
}

float *tc__tr_grad_raw(tc_train_ctx *ctx, tc_tensor *t, int *fresh) {
  if (t->grad_epoch == ctx->grad_epoch) {
    *fresh = 0;
    return t->grad;
  }
  float *g = tc__tr_alloc(ctx, t->size * sizeof(float));
  if (!g) return NULL;
  t->grad = g;
  t->grad_epoch = ctx->grad_epoch;
  *fresh = 1;
  return g;
}

float *tc__tr_grad(tc_train_ctx *ctx, tc_tensor *t) {
  int fresh;
  float *g = tc__tr_grad_raw(ctx, t, &fresh);
  if (g && fresh) memset(g, 0, t->size * sizeof(float));
  return g;
}

/* Reverse pass:
 *  1. start a new epoch (every gradient buffer from before becomes invalid);
 *  2. seed d loss / d loss = 1;
 *  3. walk the nodes from the newest to the oldest; a node whose output got no gradient in this
 *     epoch does not influence the loss and is skipped; otherwise its backward adds into its
 *     inputs' gradients. Nodes are in forward order, so when a node is reached every consumer of
 *     its output (all recorded later) has already contributed: the gradient is complete;
 *  4. hand out the gradients of the requested tensors as step tensors (zeros when none). */
tc_status tc_gradient(tc_train_ctx *ctx, const tc_tensor *loss, size_t n, tc_tensor *const *wrt,
                      tc_tensor **grads_out) {
  if (!ctx) return TC_ERR_ARG;
  if (!loss || loss->dtype != TC_DTYPE_F32 || loss->size != 1)
    return tc__tr_err(ctx, TC_ERR_ARG, "gradient: the loss must be a one-element float32 tensor");
  if (n && (!wrt || !grads_out)) return tc__tr_err(ctx, TC_ERR_ARG, "gradient: wrt/grads_out NULL");
  for (size_t i = 0; i < n; i++) {
    grads_out[i] = NULL;
    if (!wrt[i] || wrt[i]->dtype != TC_DTYPE_F32)
      return tc__tr_err(ctx, TC_ERR_ARG, "gradient: wrt[%zu] is NULL or not float32", i);
  }
  ctx->grad_epoch++;
  tc_tensor *l = (tc_tensor *)loss;
  if (l->flags & TC__T_NEEDS_GRAD) {
    float *g = tc__tr_grad(ctx, l);
    if (!g) return TC_ERR_NOMEM;
    g[0] = 1.0f;
    for (tc__node *nd = ctx->last; nd; nd = nd->prev) {
      if (nd->out->grad_epoch != ctx->grad_epoch) continue;
      tc_status st = nd->backward(ctx, nd, nd->out->grad);
      if (st) return st;
    }
  }
  for (size_t i = 0; i < n; i++) {
    tc_tensor *w = wrt[i], *g;
    if (w->grad_epoch == ctx->grad_epoch) {
      tc_status st = tc_tensor_wrap(ctx, TC_DTYPE_F32, w->rank, w->dims, w->grad, &g);
      if (st) return st;
    } else {
      tc_status st = tc__tr_new_like(ctx, w, 1, &g);
      if (st) return st;
    }
    grads_out[i] = g;
  }
  return TC_OK;
}
