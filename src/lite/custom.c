/* custom.c: runs user-registered custom operators (tc_custom_op, public API) through the same
 * init/prepare/invoke/free contract as tensorc's own ops. tc_op_ctx is the (ctx, node) pair of
 * the callback in progress, so user code sees tensors only through tc_tensor_info. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "lite/interp.h"

struct tc_op_ctx {
  tc__ctx *c;
  tc__node *n;
};

static void info_of(tc_interp *it, const tc__tensor *t, tc_tensor_info *out) {
  int idx = (int)(t - it->tensors);
  tc_interp_tensor(it, idx, out);
  out->data = t->data; /* also during prepare for constants/folded values */
}

int tc_op_input_count(const tc_op_ctx *ctx) { return ctx ? ctx->n->n_inputs : 0; }
int tc_op_output_count(const tc_op_ctx *ctx) { return ctx ? ctx->n->n_outputs : 0; }

tc_status tc_op_input(tc_op_ctx *ctx, int i, tc_tensor_info *out) {
  tc__tensor *t = ctx && out ? tc__in(ctx->c, ctx->n, i) : NULL;
  if (!t) return TC_ERR_ARG;
  info_of(ctx->c->it, t, out);
  return TC_OK;
}

tc_status tc_op_output(tc_op_ctx *ctx, int i, tc_tensor_info *out) {
  tc__tensor *t = ctx && out ? tc__out(ctx->c, ctx->n, i) : NULL;
  if (!t) return TC_ERR_ARG;
  info_of(ctx->c->it, t, out);
  return TC_OK;
}

tc_status tc_op_set_output_shape(tc_op_ctx *ctx, int i, int n_dims, const int32_t *dims) {
  tc__tensor *t = ctx ? tc__out(ctx->c, ctx->n, i) : NULL;
  if (!t || (n_dims > 0 && !dims)) return TC_ERR_ARG;
  if (ctx->c->it->prepared) return TC_ERR_STATE;
  return tc__set_shape(ctx->c, ctx->n, t, n_dims, dims);
}

void *tc_op_user(const tc_op_ctx *ctx) { return ctx ? ctx->n->user_op->user : NULL; }

tc_status tc_op_error(tc_op_ctx *ctx, tc_status s, const char *fmt, ...) {
  char msg[384];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  return tc__fail(ctx->c, ctx->n, s, "%s", msg);
}

static tc_status user_init(tc__ctx *c, tc__node *n) {
  tc_op_ctx ctx = {c, n};
  void *state = NULL;
  if (!n->user_op->invoke)
    return tc__fail(c, n, TC_ERR_ARG, "custom op '%s' has no invoke callback", n->user_op->name);
  if (!n->user_op->init) return TC_OK;
  tc_status s = n->user_op->init(&ctx, n->m->custom_options, n->m->custom_options_size, &state);
  n->state = state;
  return s;
}

static tc_status user_prepare(tc__ctx *c, tc__node *n) {
  tc_op_ctx ctx = {c, n};
  return n->user_op->prepare ? n->user_op->prepare(&ctx, n->state) : TC_OK;
}

static tc_status user_invoke(tc__ctx *c, tc__node *n) {
  tc_op_ctx ctx = {c, n};
  return n->user_op->invoke(&ctx, n->state);
}

static void user_free(tc__ctx *c, tc__node *n) {
  (void)c;
  if (n->user_op->free) n->user_op->free(n->state);
  n->state = NULL;
}

static void user_reset(tc__ctx *c, tc__node *n) {
  tc_op_ctx ctx = {c, n};
  if (n->user_op->reset) n->user_op->reset(&ctx, n->state);
}

const tc__opreg tc__reg_user_custom = {TC_OP_CUSTOM, NULL, user_init, user_prepare, user_invoke,
                                       user_free, 0, user_reset};
