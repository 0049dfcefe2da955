/* fully_connected.h: reference float fully-connected layer (TFLite FULLY_CONNECTED with the
 * DEFAULT weights format): out[b][o] = clamp(sum_k in[b][k] * weights[o][k] + bias[o]). */
#ifndef TC_KERNELS_REF_FULLY_CONNECTED_H
#define TC_KERNELS_REF_FULLY_CONNECTED_H
#include <stdint.h>

typedef struct tc_fc_params {
  int32_t batch;  /* rows of the input */
  int32_t in_k;   /* input features (weights' second dim) */
  int32_t out_n;  /* output features (weights' first dim) */
  float act_min, act_max; /* fused clamp; -INFINITY / INFINITY for none */
} tc_fc_params;

/* Output shape of FULLY_CONNECTED (TFLite rules) for an input of shape in_dims[0..n_dims) and
 * weights [out_n, in_k]. The input is read as [batch, in_k] with batch = numel / in_k; the output
 * is [batch, out_n], or with keep_num_dims the input's shape with its last dimension replaced by
 * out_n (which then requires in_dims[n_dims - 1] == in_k). Writes out_dims (room for
 * max(n_dims, 2) entries) and *batch, and returns the output rank; returns -1 if in_k <= 0, the
 * element count is not a multiple of in_k, batch exceeds INT32_MAX, or keep_num_dims does not
 * fit the input. */
int tc_fc_out_shape(int n_dims, const int32_t *in_dims, int32_t in_k, int32_t out_n,
                    int keep_num_dims, int32_t *out_dims, int32_t *batch);

/* in [batch, in_k], weights [out_n, in_k] (row-major), bias [out_n] or NULL, out [batch, out_n].
 * Buffers must not overlap. Accumulates in a float in k order, then adds bias and clamps. */
void tc_f32_fully_connected__ref(const tc_fc_params *p, const float *in, const float *weights,
                                 const float *bias, float *out);

#endif
