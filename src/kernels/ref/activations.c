/* activations.c: reference float activations (relu family as a clamp, logistic, tanh,
 * leaky relu). Plain loops; the ground truth for optimised variants. */
#include <math.h>

#include "kernels/ref/activations.h"

void tc_f32_clamp__ref(const float *in, float *out, size_t n, float lo, float hi) {
  for (size_t i = 0; i < n; i++) {
    float v = in[i];
    out[i] = v < lo ? lo : (v > hi ? hi : v);
  }
}

void tc_f32_logistic__ref(const float *in, float *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = 1.0f / (1.0f + expf(-in[i]));
}

void tc_f32_tanh__ref(const float *in, float *out, size_t n) {
  for (size_t i = 0; i < n; i++) out[i] = tanhf(in[i]);
}

void tc_f32_leaky_relu__ref(const float *in, float *out, size_t n, float alpha) {
  for (size_t i = 0; i < n; i++) out[i] = in[i] >= 0.0f ? in[i] : in[i] * alpha;
}
