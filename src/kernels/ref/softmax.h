/* softmax.h: reference float softmax along the innermost axis (TFLite SOFTMAX):
 * out = exp(beta * (x - max)) / sum(exp(beta * (x - max))) over each row of `depth` values. */
#ifndef TC_KERNELS_REF_SOFTMAX_H
#define TC_KERNELS_REF_SOFTMAX_H
#include <stddef.h>

/* in and out hold `outer` rows of `depth` elements (depth 0: nothing to do) and may alias (in-place).
 * Subtracting the row maximum keeps exp() from overflowing for any beta >= 0. */
void tc_f32_softmax__ref(const float *in, float *out, size_t outer, size_t depth, float beta);

#endif
