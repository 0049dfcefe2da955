/* reduce.h: reference float reductions over a set of axes (TFLite MEAN, SUM, REDUCE_MAX,
 * REDUCE_MIN, REDUCE_PROD), plus the axis and shape rules they share so the op glue and the
 * training code agree on them. Axes are given as a bit mask over the input's dimensions. */
#ifndef TC_KERNELS_REF_REDUCE_H
#define TC_KERNELS_REF_REDUCE_H
#include <stdint.h>

typedef enum tc_reduce_kind {
  TC_REDUCE_SUM = 0,
  TC_REDUCE_MEAN,
  TC_REDUCE_MAX,
  TC_REDUCE_MIN,
  TC_REDUCE_PROD
} tc_reduce_kind;

/* Turns a list of axes into a bit mask over `n_dims` dimensions (n_dims <= 31). Negative axes
 * count from the end; duplicates are allowed and collapse. Returns -1 (mask untouched) if an
 * axis lies outside [-n_dims, n_dims), else 0. */
int tc_reduce_axes_mask(int n_dims, const int32_t *axes, int n_axes, uint32_t *mask);

/* Output shape of a reduction (TFLite rules): with keep_dims every reduced dimension becomes 1;
 * without, reduced dimensions are dropped (possibly down to rank 0). Writes out_dims (room for
 * n_dims entries) and returns the output rank. */
int tc_reduce_shape(int n_dims, const int32_t *dims, uint32_t mask, int keep_dims,
                    int32_t *out_dims);

/* Reduces `in` (shape dims[0..n_dims)) over the axes in `mask` into `out`, whose element count is
 * the product of the kept dimensions (the layout is the same with or without keep_dims).
 * Elements are combined in increasing input order into a float: SUM/MEAN start at 0, PROD at 1,
 * MAX at -FLT_MAX, MIN at FLT_MAX; MEAN then divides by the number of reduced elements
 * (0 reduced elements gives NaN, as TFLite).
 * in and out must not overlap. n_dims <= 8; n_dims == 0 copies the scalar. */
void tc_f32_reduce__ref(const float *in, int n_dims, const int32_t *dims, uint32_t mask,
                        tc_reduce_kind kind, float *out);

#endif
