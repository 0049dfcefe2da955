/* softmax.c: reference float softmax (see softmax.h): per row, find the maximum, exponentiate
 * the scaled differences, then divide by their sum. */
#include <math.h>

#include "kernels/ref/softmax.h"

void tc_f32_softmax__ref(const float *in, float *out, size_t outer, size_t depth, float beta) {
  if (depth == 0) return;
  for (size_t r = 0; r < outer; r++) {
    const float *x = in + r * depth;
    float *y = out + r * depth;
    float max = x[0];
    for (size_t i = 1; i < depth; i++) max = x[i] > max ? x[i] : max;
    float sum = 0.0f;
    for (size_t i = 0; i < depth; i++) {
      float e = expf((x[i] - max) * beta);
      y[i] = e;
      sum += e;
    }
    for (size_t i = 0; i < depth; i++) y[i] = y[i] / sum;
  }
}
