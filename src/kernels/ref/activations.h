/* activations.h: reference kernels for elementwise float activations. `n` elements, in and out
 * may alias (in-place is allowed). */
#ifndef TC_KERNELS_REF_ACTIVATIONS_H
#define TC_KERNELS_REF_ACTIVATIONS_H
#include <stddef.h>
void tc_f32_clamp__ref(const float *in, float *out, size_t n, float lo, float hi);
void tc_f32_logistic__ref(const float *in, float *out, size_t n);
void tc_f32_tanh__ref(const float *in, float *out, size_t n);
void tc_f32_leaky_relu__ref(const float *in, float *out, size_t n, float alpha);
#endif
