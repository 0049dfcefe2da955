/* layers_rnn.c: the LSTM and GRU layers (Keras gate order and formulas), unrolled over time
 * with the differentiable ops, so the tape gives exact gradients (correctness over speed).
 * The input projection x·W + b of all time steps is one dense op; each step adds h·U.
 *   LSTM (gates i, f, c, o): z = x_t W + h U + b; i = σ(z_i); f = σ(z_f); g = tanh(z_c);
 *        o = σ(z_o); c = f c + i g; h = o tanh(c).
 *   GRU reset_after (gates z, r, h): xz|xr|xh = x_t W + b_in, rz|rr|rh = h U + b_rec;
 *        z = σ(xz + rz); r = σ(xr + rr); hh = tanh(xh + r rh); h = z h + (1 - z) hh.
 *   GRU reset_after = 0: as above but hh = tanh(xh + (r h) U_h) and one bias [3U]. */
#include <string.h>

#include "train/model.h"

tc_status tc__layer_build_rnn(tc_net *net, tc__layer *L, const tc__shape *in) {
  const tc_layer_config *c = &L->cfg;
  int U = c->units, G = c->kind == TC_LAYER_LSTM ? 4 : 3;
  int32_t F = in->d[1];
  uint64_t seed = net->seed * 0x2545f4914f6cdd1dull + (uint64_t)(L - net->layers) * 977u + 13u;
  tc_status st;
  int32_t kd[2] = {F, G * U}, rd[2] = {U, G * U};
  if ((st = tc__layer_add_weight(L, "kernel", 2, kd, c->kernel_init, 1, c->kernel_l2, seed)) ||
      (st = tc__layer_add_weight(L, "recurrent_kernel", 2, rd, c->recurrent_init, 1,
                                 c->kernel_l2, seed)))
    return st;
  if (c->use_bias) {
    int gru2 = c->kind == TC_LAYER_GRU && c->reset_after;
    int32_t bd[2] = {2, G * U}, bd1[1] = {G * U};
    if ((st = tc__layer_add_weight(L, "bias", gru2 ? 2 : 1, gru2 ? bd : bd1, c->bias_init, 1,
                                   c->bias_l2, seed)))
      return st;
    if (c->kind == TC_LAYER_LSTM && c->unit_forget_bias) {
      float *b = tc_tensor_f32(L->w[2]);
      for (int i = 0; i < U; i++) b[U + i] = 1.0f;
    }
  }
  L->out.rank = c->return_sequences ? 2 : 1;
  L->out.d[0] = c->return_sequences ? in->d[0] : U;
  L->out.d[1] = U;
  return TC_OK;
}

/* Columns [g*U, (g+1)*U) of a [N, G*U] tensor. */
static tc_status gate(tc_train_ctx *ctx, const tc_tensor *z, int g, int U, tc_tensor **out) {
  int32_t b[2] = {0, g * U}, s[2] = {-1, U};
  return tc_slice(ctx, z, b, s, out);
}

static tc_status act(tc_train_ctx *ctx, tc_activation a, const tc_tensor *x, tc_tensor **y) {
  return tc_activation_apply(ctx, a, 0.3f, x, y);
}

tc_status tc__layer_call_rnn(tc__layer *L, tc_train_ctx *ctx, const tc_tensor *x,
                             tc_tensor **out) {
  const tc_layer_config *c = &L->cfg;
  int lstm = c->kind == TC_LAYER_LSTM, G = lstm ? 4 : 3, U = c->units;
  int32_t N = tc_tensor_dim(x, 0), T = tc_tensor_dim(x, 1), F = tc_tensor_dim(x, 2);
  tc_tensor *W = L->w[0], *R = L->w[1], *B = c->use_bias ? L->w[2] : NULL;
  tc_tensor *b_in = B, *b_rec = NULL, *R_zr = NULL, *R_h = NULL;
  tc_status st;
  if (tc_tensor_rank(x) != 3)
    return tc__tr_err(ctx, TC_ERR_ARG, "%s: input must be [N, T, features]", c->name);
  if (!lstm && c->reset_after && B) {
    int32_t b0[2] = {0, 0}, b1[2] = {1, 0}, s[2] = {1, G * U}, v[1] = {G * U};
    if ((st = tc_slice(ctx, B, b0, s, &b_in)) || (st = tc_reshape(ctx, b_in, 1, v, &b_in)) ||
        (st = tc_slice(ctx, B, b1, s, &b_rec)) || (st = tc_reshape(ctx, b_rec, 1, v, &b_rec)))
      return st;
  }
  if (!lstm && !c->reset_after) {
    int32_t b0[2] = {0, 0}, s0[2] = {U, 2 * U}, b1[2] = {0, 2 * U}, s1[2] = {U, U};
    if ((st = tc_slice(ctx, R, b0, s0, &R_zr)) || (st = tc_slice(ctx, R, b1, s1, &R_h)))
      return st;
  }
  /* Input projection for every step at once: [N*T, F] · W + b -> [N, T, G*U]. */
  tc_tensor *xf, *xw;
  int32_t fd[2] = {N * T, F}, wd[3] = {N, T, G * U};
  if ((st = tc_reshape(ctx, x, 2, fd, &xf)) || (st = tc_dense(ctx, xf, W, b_in, &xw)) ||
      (st = tc_reshape(ctx, xw, 3, wd, &xw)))
    return st;
  tc_tensor **hs = NULL;
  if (c->return_sequences) {
    hs = tc__tr_alloc(ctx, sizeof(tc_tensor *) * (size_t)T);
    if (!hs) return TC_ERR_NOMEM;
  }
  int32_t hd[2] = {N, U};
  tc_tensor *h, *cs = NULL;
  if ((st = tc_tensor_step(ctx, TC_DTYPE_F32, 2, hd, NULL, &h))) return st;
  for (int32_t t = 0; t < T; t++) {
    tc_tensor *zt;
    int32_t sb[3] = {0, t, 0}, ss[3] = {N, 1, G * U}, zd[2] = {N, G * U};
    if ((st = tc_slice(ctx, xw, sb, ss, &zt)) || (st = tc_reshape(ctx, zt, 2, zd, &zt)))
      return st;
    if (lstm) {
      tc_tensor *z = zt, *hu, *zi, *zf, *zc, *zo, *i, *f, *g, *o, *tmp, *ct;
      if (t > 0 && ((st = tc_matmul(ctx, h, R, 0, 0, &hu)) || (st = tc_add(ctx, zt, hu, &z))))
        return st;
      if ((st = gate(ctx, z, 0, U, &zi)) || (st = gate(ctx, z, 1, U, &zf)) ||
          (st = gate(ctx, z, 2, U, &zc)) || (st = gate(ctx, z, 3, U, &zo)) ||
          (st = act(ctx, c->recurrent_activation, zi, &i)) ||
          (st = act(ctx, c->recurrent_activation, zf, &f)) ||
          (st = act(ctx, c->activation, zc, &g)) ||
          (st = act(ctx, c->recurrent_activation, zo, &o)) || (st = tc_mul(ctx, i, g, &tmp)))
        return st;
      if (t > 0) {
        tc_tensor *fc;
        if ((st = tc_mul(ctx, f, cs, &fc)) || (st = tc_add(ctx, fc, tmp, &tmp))) return st;
      }
      cs = tmp;
      if ((st = act(ctx, c->activation, cs, &ct)) || (st = tc_mul(ctx, o, ct, &h))) return st;
    } else {
      tc_tensor *xz, *xr, *xh, *rz, *rr, *zg, *rg, *hh, *t1, *t2, *omz;
      if ((st = gate(ctx, zt, 0, U, &xz)) || (st = gate(ctx, zt, 1, U, &xr)) ||
          (st = gate(ctx, zt, 2, U, &xh)))
        return st;
      if (c->reset_after) {
        tc_tensor *hu, *rh;
        if ((st = tc_dense(ctx, h, R, b_rec, &hu)) || (st = gate(ctx, hu, 0, U, &rz)) ||
            (st = gate(ctx, hu, 1, U, &rr)) || (st = gate(ctx, hu, 2, U, &rh)) ||
            (st = tc_add(ctx, xz, rz, &zg)) || (st = tc_add(ctx, xr, rr, &rg)) ||
            (st = act(ctx, c->recurrent_activation, zg, &zg)) ||
            (st = act(ctx, c->recurrent_activation, rg, &rg)) || (st = tc_mul(ctx, rg, rh, &t1)) ||
            (st = tc_add(ctx, xh, t1, &hh)) || (st = act(ctx, c->activation, hh, &hh)))
          return st;
      } else {
        tc_tensor *hzr, *rhh;
        if ((st = tc_matmul(ctx, h, R_zr, 0, 0, &hzr)) || (st = gate(ctx, hzr, 0, U, &rz)) ||
            (st = gate(ctx, hzr, 1, U, &rr)) || (st = tc_add(ctx, xz, rz, &zg)) ||
            (st = tc_add(ctx, xr, rr, &rg)) || (st = act(ctx, c->recurrent_activation, zg, &zg)) ||
            (st = act(ctx, c->recurrent_activation, rg, &rg)) || (st = tc_mul(ctx, rg, h, &rhh)) ||
            (st = tc_matmul(ctx, rhh, R_h, 0, 0, &t1)) || (st = tc_add(ctx, xh, t1, &hh)) ||
            (st = act(ctx, c->activation, hh, &hh)))
          return st;
      }
      if ((st = tc_mul_scalar(ctx, zg, -1.0f, &omz)) || (st = tc_add_scalar(ctx, omz, 1.0f, &omz)) ||
          (st = tc_mul(ctx, zg, h, &t1)) || (st = tc_mul(ctx, omz, hh, &t2)) ||
          (st = tc_add(ctx, t1, t2, &h)))
        return st;
    }
    if (hs) {
      int32_t d3[3] = {N, 1, U};
      if ((st = tc_reshape(ctx, h, 3, d3, &hs[t]))) return st;
    }
  }
  if (hs) return tc_concat(ctx, (size_t)T, (const tc_tensor *const *)hs, 1, out);
  *out = h;
  return TC_OK;
}
