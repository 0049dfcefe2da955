/* lstm.c: UNIDIRECTIONAL_SEQUENCE_LSTM (builtin 44), float32 and integer (int8 activations and
 * weights, int32 bias, int16 cell state, as TFLite Micro). Prepare checks the 20 or 24 inputs
 * the way TFLite's full LSTM kernel does (CIFG, peephole, projection and layer-norm parts
 * all-or-none, every weight shape against n_input/n_cell/n_output, state tensors variable),
 * sets the output shape and asks for the gate scratch; the math is in kernels/ref/lstm.c and
 * kernels/ref/lstm_q.c. The state tensors (inputs 18 and 19) keep h and c across invokes.
 * The integer form is the standard LSTM only (as in TFLM); hybrid (float activations with
 * int8 weights) is not implemented. */
#include <string.h>

#include "kernels/ref/lstm.h"
#include "kernels/ref/lstm_q.h"
#include "lite/ops.h"
#include "lite/ops/conv_common.h"

/* Input tensor indices (TFLite lstm::full). */
enum {
  IN_INPUT = 0,
  IN_X_I = 1, IN_X_F = 2, IN_X_C = 3, IN_X_O = 4,       /* input-to-gate [n_cell, n_input] */
  IN_H_I = 5, IN_H_F = 6, IN_H_C = 7, IN_H_O = 8,       /* recurrent [n_cell, n_output] */
  IN_PEEP_I = 9, IN_PEEP_F = 10, IN_PEEP_O = 11,        /* peephole [n_cell] */
  IN_B_I = 12, IN_B_F = 13, IN_B_C = 14, IN_B_O = 15,   /* gate bias [n_cell] */
  IN_PROJ_W = 16, IN_PROJ_B = 17,                       /* [n_output, n_cell], [n_output] */
  IN_H_STATE = 18, IN_C_STATE = 19,                     /* variables */
  IN_LN_I = 20, IN_LN_F = 21, IN_LN_C = 22, IN_LN_O = 23 /* layer norm [n_cell] */
};

static const char *const g_in_names[24] = {
    "input", "input_to_input_weights", "input_to_forget_weights", "input_to_cell_weights",
    "input_to_output_weights", "recurrent_to_input_weights", "recurrent_to_forget_weights",
    "recurrent_to_cell_weights", "recurrent_to_output_weights", "cell_to_input_weights",
    "cell_to_forget_weights", "cell_to_output_weights", "input_gate_bias", "forget_gate_bias",
    "cell_gate_bias", "output_gate_bias", "projection_weights", "projection_bias",
    "output_state", "cell_state", "input_layer_norm_coefficients",
    "forget_layer_norm_coefficients", "cell_layer_norm_coefficients",
    "output_layer_norm_coefficients"};

typedef struct lstm_data {
  int integer; /* 1: int8 LSTM (q is used), 0: float32 (p is used) */
  tc_lstm_params p;
  tc_lstm_q_params q;
  int slot; /* scratch slot of the gate buffers */
} lstm_data;

/* dtype input i must have: float32 throughout a float LSTM; in an integer one int8 weights,
 * int32 biases and int16 peephole / layer-norm coefficients (TFLite's integer LSTM types). */
static tc_dtype want_dtype(int i, int integer) {
  if (!integer) return TC_DTYPE_F32;
  if ((i >= IN_X_I && i <= IN_H_O) || i == IN_PROJ_W) return TC_DTYPE_I8;
  if ((i >= IN_B_I && i <= IN_B_O) || i == IN_PROJ_B) return TC_DTYPE_I32;
  return TC_DTYPE_I16;
}

static tc_status lstm_init(tc__ctx *c, tc__node *n) {
  n->state = tc__persist_alloc(c, sizeof(lstm_data));
  if (!n->state) return tc__fail(c, n, TC_ERR_NOMEM, "no memory for the LSTM state");
  return TC_OK;
}

/* Input i, which must be present. */
static tc_status need(tc__ctx *c, tc__node *n, int i, tc__tensor **out) {
  *out = tc__in(c, n, i);
  if (!*out) return tc__fail(c, n, TC_ERR_MODEL, "input %d (%s) is required", i, g_in_names[i]);
  return TC_OK;
}

/* Checks an optional input (NULL passes): dtype want_dtype(i) with shape [d0] (d1 < 0) or
 * [d0, d1]. */
static tc_status check_shape(tc__ctx *c, tc__node *n, int i, int32_t d0, int32_t d1,
                             int integer) {
  const tc__tensor *t = tc__in(c, n, i);
  if (!t) return TC_OK;
  tc_dtype want = want_dtype(i, integer);
  if (t->dtype != want)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "input %d (%s) has dtype %s, expected %s in a%s LSTM (hybrid LSTM, "
                    "float activations with integer weights, is not implemented)",
                    i, g_in_names[i], tc_dtype_name(t->dtype), tc_dtype_name(want),
                    integer ? "n int8" : " float32");
  int rank = d1 < 0 ? 1 : 2;
  if (t->n_dims != rank || t->dims[0] != d0 || (rank == 2 && t->dims[1] != d1)) {
    char got[96];
    if (rank == 1)
      return tc__fail(c, n, TC_ERR_MODEL, "input %d (%s) has shape %s, expected [%d]", i,
                      g_in_names[i], tc__dims_str(t, got, sizeof got), (int)d0);
    return tc__fail(c, n, TC_ERR_MODEL, "input %d (%s) has shape %s, expected [%d, %d]", i,
                    g_in_names[i], tc__dims_str(t, got, sizeof got), (int)d0, (int)d1);
  }
  return TC_OK;
}

/* The state inputs must be variables of dtype `dt` holding exactly `count` values. */
static tc_status check_state(tc__ctx *c, tc__node *n, int i, size_t count, tc_dtype dt) {
  tc__tensor *t;
  tc_status s = need(c, n, i, &t);
  if (s) return s;
  if (t->dtype != dt)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "input %d (%s) has dtype %s, expected %s", i,
                    g_in_names[i], tc_dtype_name(t->dtype), tc_dtype_name(dt));
  if ((t->m && !t->m->is_variable) || t->kind == TC__T_CONST)
    return tc__fail(c, n, TC_ERR_MODEL, "input %d (%s) must be a variable tensor", i,
                    g_in_names[i]);
  if (tc__numel(t) != count)
    return tc__fail(c, n, TC_ERR_MODEL, "input %d (%s) has %zu elements, expected %zu", i,
                    g_in_names[i], tc__numel(t), count);
  return TC_OK;
}

/* Per-tensor quantization of tensor t (named `what`), with a positive scale. */
static tc_status qparams(tc__ctx *c, tc__node *n, const tc__tensor *t, const char *what,
                         float *scale, int32_t *zp) {
  tc_status s = tc__q_per_tensor(c, n, t, what, scale, zp);
  if (!s && !(*scale > 0.0f))
    return tc__fail(c, n, TC_ERR_MODEL, "%s has scale %g, expected > 0", what, (double)*scale);
  return s;
}

/* Integer LSTM: collects the scales and computes TFLM's multipliers once. */
static tc_status prepare_integer(tc__ctx *c, tc__node *n, const tc__tensor *in, int max_time,
                                 int n_batch, int n_input, int n_cell, int time_major,
                                 float cell_clip) {
  lstm_data *d = n->state;
  tc_lstm_q_scales sc;
  memset(&sc, 0, sizeof sc);
  tc_status s;
  int32_t zp;
  if ((s = qparams(c, n, in, "input", &sc.input, &sc.input_zp))) return s;
  if ((s = qparams(c, n, tc__in(c, n, IN_H_STATE), "output_state", &sc.hidden, &sc.hidden_zp)))
    return s;
  if ((s = qparams(c, n, tc__in(c, n, IN_C_STATE), "cell_state", &sc.cell, &zp))) return s;
  for (int g = 0; g < 4; g++) {
    if ((s = qparams(c, n, tc__in(c, n, IN_X_I + g), g_in_names[IN_X_I + g], &sc.w_x[g], &zp)))
      return s;
    if ((s = qparams(c, n, tc__in(c, n, IN_H_I + g), g_in_names[IN_H_I + g], &sc.w_h[g], &zp)))
      return s;
  }
  sc.cell_clip = cell_clip;
  memset(&d->q, 0, sizeof d->q);
  d->q.max_time = max_time;
  d->q.n_batch = n_batch;
  d->q.n_input = n_input;
  d->q.n_cell = n_cell;
  d->q.time_major = time_major;
  if (!tc_s8_lstm_params_init(&d->q, &sc))
    return tc__fail(c, n, TC_ERR_MODEL,
                    "the LSTM's quantization scales are not usable (each must be positive and "
                    "finite, the cell state's within [2^-43, 2^2]; cell state scale %g)",
                    (double)sc.cell);
  return TC_OK;
}

static tc_status lstm_prepare(tc__ctx *c, tc__node *n) {
  lstm_data *d = n->state;
  tc_status s;
  if (n->n_inputs != 20 && n->n_inputs != 24)
    return tc__fail(c, n, TC_ERR_MODEL, "expected 20 or 24 inputs, got %d", (int)n->n_inputs);
  if (n->n_outputs != 1)
    return tc__fail(c, n, TC_ERR_MODEL, "expected 1 output, got %d", (int)n->n_outputs);
  tc__tensor *out = tc__out(c, n, 0);
  if (!out) return tc__fail(c, n, TC_ERR_MODEL, "output 0 is missing");

  /* Options (UnidirectionalSequenceLSTMOptions); an absent table reads as the defaults. */
  const tc__fb *fb = tc__ctx_fb(c);
  const tc__fbt *o = &n->m->options;
  int act = tc__fb_i8(fb, o, 0, 0);
  float cell_clip = tc__fb_f32(fb, o, 1, 0.0f), proj_clip = tc__fb_f32(fb, o, 2, 0.0f);
  int time_major = tc__fb_u8(fb, o, 3, 0) != 0;
  int diagonal = tc__fb_u8(fb, o, 5, 0) != 0;
  if (act < TC_ACT_NONE || act > TC_ACT_SIGN_BIT)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fused activation %d is not supported", act);
  if (!(cell_clip >= 0.0f) || !(proj_clip >= 0.0f))
    return tc__fail(c, n, TC_ERR_MODEL, "cell_clip (%g) and proj_clip (%g) must be >= 0",
                    (double)cell_clip, (double)proj_clip);
  if (diagonal)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "diagonal_recurrent_tensors is not supported");

  /* Sizes: batch/time from the input, n_cell from input_to_output_weights, n_output from
   * recurrent_to_output_weights; every other tensor is checked against them. */
  tc__tensor *in, *x_o, *h_o;
  if ((s = need(c, n, IN_INPUT, &in))) return s;
  if (in->dtype != TC_DTYPE_F32 && in->dtype != TC_DTYPE_I8)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                    "input has dtype %s; float32 and int8 LSTMs are implemented",
                    tc_dtype_name(in->dtype));
  const int integer = in->dtype == TC_DTYPE_I8;
  if (in->n_dims != 3) {
    char got[96];
    return tc__fail(c, n, TC_ERR_MODEL, "input has shape %s, expected rank 3",
                    tc__dims_str(in, got, sizeof got));
  }
  if ((s = need(c, n, IN_X_O, &x_o)) || (s = need(c, n, IN_H_O, &h_o))) return s;
  if (x_o->n_dims != 2 || h_o->n_dims != 2) {
    char a[96], b[96];
    return tc__fail(c, n, TC_ERR_MODEL,
                    "input_to_output_weights %s and recurrent_to_output_weights %s must be 2-D",
                    tc__dims_str(x_o, a, sizeof a), tc__dims_str(h_o, b, sizeof b));
  }
  const int32_t max_time = time_major ? in->dims[0] : in->dims[1];
  const int32_t n_batch = time_major ? in->dims[1] : in->dims[0];
  const int32_t n_input = in->dims[2], n_cell = x_o->dims[0], n_output = h_o->dims[1];
  if (n_input <= 0 || n_cell <= 0 || n_output <= 0)
    return tc__fail(c, n, TC_ERR_MODEL, "n_input %d, n_cell %d, n_output %d must be positive",
                    (int)n_input, (int)n_cell, (int)n_output);

  tc__tensor *t;
  static const int required[] = {IN_X_F, IN_X_C, IN_H_F, IN_H_C, IN_B_F, IN_B_C, IN_B_O};
  for (size_t k = 0; k < sizeof required / sizeof required[0]; k++)
    if ((s = need(c, n, required[k], &t))) return s;
  for (int i = IN_X_I; i <= IN_X_O; i++)
    if ((s = check_shape(c, n, i, n_cell, n_input, integer))) return s;
  for (int i = IN_H_I; i <= IN_H_O; i++)
    if ((s = check_shape(c, n, i, n_cell, n_output, integer))) return s;
  for (int i = IN_PEEP_I; i <= IN_B_O; i++)
    if ((s = check_shape(c, n, i, n_cell, -1, integer))) return s;
  if ((s = check_shape(c, n, IN_PROJ_W, n_output, n_cell, integer))) return s;
  if ((s = check_shape(c, n, IN_PROJ_B, n_output, -1, integer))) return s;

  /* All-or-none groups, as TFLite requires. */
  const int cifg = tc__in(c, n, IN_X_I) == NULL;
  if (cifg != (tc__in(c, n, IN_H_I) == NULL))
    return tc__fail(c, n, TC_ERR_MODEL,
                    "input_to_input_weights and recurrent_to_input_weights must be both present "
                    "or both absent (CIFG)");
  if (cifg && tc__in(c, n, IN_B_I))
    return tc__fail(c, n, TC_ERR_MODEL, "input_gate_bias must be absent in a CIFG LSTM");
  if (!cifg && (s = need(c, n, IN_B_I, &t))) return s;
  const int peep_i = tc__in(c, n, IN_PEEP_I) != NULL, peep_f = tc__in(c, n, IN_PEEP_F) != NULL,
            peep_o = tc__in(c, n, IN_PEEP_O) != NULL;
  const int peep_all = (peep_i || cifg) && peep_f && peep_o;
  const int peep_none = !peep_i && !peep_f && !peep_o;
  if (!peep_all && !peep_none)
    return tc__fail(c, n, TC_ERR_MODEL,
                    "peephole weights (inputs 9-11) must be all present or all absent");
  if (!tc__in(c, n, IN_PROJ_W) && tc__in(c, n, IN_PROJ_B))
    return tc__fail(c, n, TC_ERR_MODEL, "projection_bias given without projection_weights");
  if (!tc__in(c, n, IN_PROJ_W) && n_output != n_cell)
    return tc__fail(c, n, TC_ERR_MODEL,
                    "without projection_weights n_output (%d) must equal n_cell (%d)",
                    (int)n_output, (int)n_cell);
  /* Layer norm: only with 24 inputs, switched on by the forget-gate coefficients. */
  const int layer_norm = n->n_inputs == 24 && tc__in(c, n, IN_LN_F) != NULL;
  if (layer_norm) {
    if (cifg && tc__in(c, n, IN_LN_I))
      return tc__fail(c, n, TC_ERR_MODEL,
                      "input_layer_norm_coefficients must be absent in a CIFG LSTM");
    if (!cifg && (s = need(c, n, IN_LN_I, &t))) return s;
    if ((s = need(c, n, IN_LN_C, &t)) || (s = need(c, n, IN_LN_O, &t))) return s;
  }
  if (n->n_inputs == 24) {
    for (int i = IN_LN_I; i <= IN_LN_O; i++) {
      if (!layer_norm && tc__in(c, n, i))
        return tc__fail(c, n, TC_ERR_MODEL,
                        "input %d (%s) given without forget_layer_norm_coefficients", i,
                        g_in_names[i]);
      if ((s = check_shape(c, n, i, n_cell, -1, integer))) return s;
    }
  }

  if ((s = check_state(c, n, IN_H_STATE, (size_t)n_batch * (size_t)n_output,
                       integer ? TC_DTYPE_I8 : TC_DTYPE_F32)))
    return s;
  if ((s = check_state(c, n, IN_C_STATE, (size_t)n_batch * (size_t)n_cell,
                       integer ? TC_DTYPE_I16 : TC_DTYPE_F32)))
    return s;

  if ((s = tc__expect_dtype(c, n, out, "output", integer ? TC_DTYPE_I8 : TC_DTYPE_F32)))
    return s;
  int32_t out_dims[3] = {in->dims[0], in->dims[1], n_output};
  if ((s = tc__set_shape(c, n, out, 3, out_dims))) return s;

  d->integer = integer;
  if (integer) {
    if (cifg || !peep_none || tc__in(c, n, IN_PROJ_W) || layer_norm)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                      "an int8 LSTM must be the standard form (no CIFG, peephole, projection "
                      "or layer norm), as TFLite Micro computes it");
    if (act != TC_ACT_TANH)
      return tc__fail(c, n, TC_ERR_UNSUPPORTED,
                      "an int8 LSTM needs fused activation TANH, got %d", act);
    if ((s = prepare_integer(c, n, in, max_time, n_batch, n_input, n_cell, time_major,
                             cell_clip)))
      return s;
    size_t scratch = tc_s8_lstm_scratch_size(&d->q);
    return tc__scratch_request(c, n, scratch ? scratch : sizeof(int16_t), &d->slot);
  }

  d->p.max_time = max_time;
  d->p.n_batch = n_batch;
  d->p.n_input = n_input;
  d->p.n_cell = n_cell;
  d->p.n_output = n_output;
  d->p.time_major = time_major;
  d->p.activation = act;
  d->p.cell_clip = cell_clip;
  d->p.proj_clip = proj_clip;
  size_t scratch = tc_f32_lstm_scratch_size(&d->p);
  return tc__scratch_request(c, n, scratch ? scratch : sizeof(float), &d->slot);
}

static const float *opt_f32(tc__ctx *c, const tc__node *n, int i) {
  const tc__tensor *t = tc__in(c, n, i);
  return t ? (const float *)t->data : NULL;
}

static tc_status lstm_invoke_integer(tc__ctx *c, tc__node *n) {
  const lstm_data *d = n->state;
  tc_lstm_s8_weights w;
  for (int g = 0; g < 4; g++) {
    w.w_x[g] = tc__in(c, n, IN_X_I + g)->data;
    w.w_h[g] = tc__in(c, n, IN_H_I + g)->data;
    w.bias[g] = tc__in(c, n, IN_B_I + g)->data;
  }
  tc__tensor *h = tc__in(c, n, IN_H_STATE), *cs = tc__in(c, n, IN_C_STATE);
  tc_s8_lstm__ref(&d->q, &w, tc__in(c, n, IN_INPUT)->data, h->data, cs->data,
                  tc__out(c, n, 0)->data, tc__scratch(c, n, d->slot));
  return TC_OK;
}

static tc_status lstm_invoke(tc__ctx *c, tc__node *n) {
  const lstm_data *d = n->state;
  if (d->integer) return lstm_invoke_integer(c, n);
  tc_lstm_f32_weights w;
  memset(&w, 0, sizeof w);
  for (int g = 0; g < 4; g++) {
    w.w_x[g] = opt_f32(c, n, IN_X_I + g);
    w.w_h[g] = opt_f32(c, n, IN_H_I + g);
    w.bias[g] = opt_f32(c, n, IN_B_I + g);
    w.ln[g] = n->n_inputs == 24 ? opt_f32(c, n, IN_LN_I + g) : NULL;
  }
  w.peep[TC_LSTM_GATE_INPUT] = opt_f32(c, n, IN_PEEP_I);
  w.peep[TC_LSTM_GATE_FORGET] = opt_f32(c, n, IN_PEEP_F);
  w.peep[TC_LSTM_GATE_OUTPUT] = opt_f32(c, n, IN_PEEP_O);
  w.proj_w = opt_f32(c, n, IN_PROJ_W);
  w.proj_b = opt_f32(c, n, IN_PROJ_B);
  tc__tensor *h = tc__in(c, n, IN_H_STATE), *cs = tc__in(c, n, IN_C_STATE);
  tc_f32_lstm__ref(&d->p, &w, tc__in(c, n, IN_INPUT)->data, h->data, cs->data,
                   tc__out(c, n, 0)->data, tc__scratch(c, n, d->slot));
  return TC_OK;
}

const tc__opreg tc__reg_unidirectional_sequence_lstm = {
    .builtin = TC_OP_UNIDIRECTIONAL_SEQUENCE_LSTM, .init = lstm_init, .prepare = lstm_prepare,
    .invoke = lstm_invoke};
