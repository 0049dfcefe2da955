/* binary.h: reference kernels for two-operand elementwise ops with NumPy-style broadcasting
 * (ADD, SUB, MUL, DIV, FLOOR_MOD, MAXIMUM, MINIMUM, SQUARED_DIFFERENCE) on float32 and int32.
 * A tc_bcast describes the broadcast once (output dims plus per-operand element strides, 0 on
 * broadcast axes); the kernels then walk the output in row-major order. Plain arrays in, so the
 * interpreter, the training side and optimised variants share them. */
#ifndef TC_KERNELS_REF_BINARY_H
#define TC_KERNELS_REF_BINARY_H

#include <stddef.h>
#include <stdint.h>

#include "tensorc.h" /* TC_MAX_DIMS */

typedef enum tc_binop {
  TC_BINOP_ADD = 0,
  TC_BINOP_SUB,
  TC_BINOP_MUL,
  TC_BINOP_DIV,
  TC_BINOP_FLOOR_MOD, /* result has the sign of the divisor (Python %) */
  TC_BINOP_MAXIMUM,
  TC_BINOP_MINIMUM,
  TC_BINOP_SQUARED_DIFFERENCE,
  TC_BINOP_COUNT
} tc_binop;

/* A broadcast of operand a (dims a_dims) against operand b, both right-aligned. */
typedef struct tc_bcast {
  int n_dims;                   /* output rank, 0..TC_MAX_DIMS */
  int32_t dims[TC_MAX_DIMS];    /* output dims */
  size_t a_stride[TC_MAX_DIMS]; /* element strides of a along each output axis, 0 if broadcast */
  size_t b_stride[TC_MAX_DIMS];
  size_t n_out, n_a, n_b; /* element counts */
} tc_bcast;

/* Fills *bc for operands of rank a_n_dims / b_n_dims (each 0..TC_MAX_DIMS, dims >= 0).
 * Returns 1 on success, 0 if the shapes do not broadcast or an argument is out of range.
 * The dims arrays are copied. */
int tc_bcast_init(tc_bcast *bc, int a_n_dims, const int32_t *a_dims, int b_n_dims,
                  const int32_t *b_dims);

/* out = clamp(a <op> b, lo, hi) over the broadcast bc. a has bc->n_a elements, b has bc->n_b,
 * out has bc->n_out. out may alias a or b only when that operand is not broadcast (same element
 * count as out). Pass lo = -INFINITY, hi = INFINITY for no clamp; NaN passes through the clamp.
 * MAXIMUM is (a > b ? a : b) and MINIMUM (a < b ? a : b), so a NaN in b is dropped, as TFLite. */
void tc_f32_binary__ref(tc_binop op, const tc_bcast *bc, const float *a, const float *b,
                        float *out, float lo, float hi);

/* int32 version. ADD/SUB/MUL/SQUARED_DIFFERENCE wrap around on overflow (two's complement),
 * DIV truncates toward zero (INT32_MIN / -1 wraps to INT32_MIN), FLOOR_MOD takes the divisor's
 * sign. Returns the number of zero divisors in b for DIV and FLOOR_MOD; when that is non-zero
 * (and out is not empty) nothing is written and the caller must report the error. Returns 0
 * for the other ops. */
size_t tc_i32_binary__ref(tc_binop op, const tc_bcast *bc, const int32_t *a, const int32_t *b,
                          int32_t *out, int32_t lo, int32_t hi);

#endif /* TC_KERNELS_REF_BINARY_H */
