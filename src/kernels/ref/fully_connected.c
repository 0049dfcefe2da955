/* fully_connected.c: reference float fully-connected layer (see fully_connected.h): one dot
 * product per output element. */
#include "kernels/ref/fully_connected.h"

int tc_fc_out_shape(int n_dims, const int32_t *in_dims, int32_t in_k, int32_t out_n,
                    int keep_num_dims, int32_t *out_dims, int32_t *batch) {
  if (in_k <= 0 || out_n < 0) return -1;
  uint64_t numel = 1;
  for (int i = 0; i < n_dims; i++) {
    if (in_dims[i] < 0) return -1;
    numel *= (uint64_t)in_dims[i];
    if (numel > ((uint64_t)1 << 62)) return -1;
  }
  if (numel % (uint64_t)in_k != 0 || numel / (uint64_t)in_k > 0x7fffffff) return -1;
  *batch = (int32_t)(numel / (uint64_t)in_k);
  if (keep_num_dims) {
    if (n_dims < 1 || in_dims[n_dims - 1] != in_k) return -1;
    for (int i = 0; i < n_dims - 1; i++) out_dims[i] = in_dims[i];
    out_dims[n_dims - 1] = out_n;
    return n_dims;
  }
  out_dims[0] = *batch;
  out_dims[1] = out_n;
  return 2;
}

void tc_f32_fully_connected__ref(const tc_fc_params *p, const float *in, const float *weights,
                                 const float *bias, float *out) {
  for (int32_t b = 0; b < p->batch; b++) {
    const float *x = in + (int64_t)b * p->in_k;
    for (int32_t o = 0; o < p->out_n; o++) {
      const float *w = weights + (int64_t)o * p->in_k;
      float acc = 0.0f;
      for (int32_t k = 0; k < p->in_k; k++) acc += x[k] * w[k];
      if (bias) acc += bias[o];
      out[(int64_t)b * p->out_n + o] =
          acc < p->act_min ? p->act_min : (acc > p->act_max ? p->act_max : acc);
    }
  }
}
