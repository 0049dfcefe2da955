/* reduce.h: reference float reductions over a set of axes (TFLite MEAN, SUM, REDUCE_MAX,
 * REDUCE_MIN, REDUCE_PROD), quantized MEAN, SUM, REDUCE_MAX and REDUCE_MIN on int8, uint8 and
 * int16 (TFLite Micro's arithmetic), plus the axis and shape rules they share so the op glue and
 * the training code agree on them. Axes are given as a bit mask over the input's dimensions. */
#ifndef TC_KERNELS_REF_REDUCE_H
#define TC_KERNELS_REF_REDUCE_H
#include <stddef.h>
#include <stdint.h>

#include "tensorc.h" /* tc_dtype */

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

/* Quantized reductions. For MEAN and SUM, (mult, shift) is in_scale / out_scale as
 * tc_q_quantize_multiplier makes it. */
typedef struct tc_qreduce_params {
  int32_t in_zp, out_zp;
  int32_t mult;
  int shift;
  int same_quant; /* MEAN: input and output share scale and zero point */
} tc_qreduce_params;

/* Reduces `in` (dtype int8, uint8 or int16, shape dims[0..n_dims), n_dims <= 8) over `mask`
 * into `out` (same dtype, the kept elements). `acc` is scratch for one int32 per output
 * element (tc_q_reduce_scratch_size). Integer sums wrap around in int32. As TFLite Micro:
 *  - SUM: s = sum(q) - in_zp * n (n = reduced element count, in int64 then narrowed to int32),
 *    out = out_zp + M * s (double-rounding multiply), saturated;
 *  - MEAN with same_quant: out = sum(q) / n, an int32 division truncating toward zero;
 *  - MEAN otherwise: the SUM formula with M divided by n: with k = min(floor(log2 n), 32,
 *    31 + shift), mult' = (mult << k) / n (int64 division) and shift' = shift - k;
 *  - MAX / MIN: the largest / smallest stored value (out of the type's lowest / highest start);
 *    the caller checks that input and output share one quantization.
 * If a dimension of the input is 0, MEAN and SUM write zeros (the stored value 0, not the zero
 * point) and MAX / MIN the start values. Returns 0 (writing nothing) for an unsupported dtype
 * or PROD. */
int tc_q_reduce__ref(tc_dtype dtype, const void *in, int n_dims, const int32_t *dims,
                     uint32_t mask, tc_reduce_kind kind, const tc_qreduce_params *p, int32_t *acc,
                     void *out);

/* Bytes of scratch tc_q_reduce__ref needs: 4 per output element (the product of the kept
 * dimensions). */
size_t tc_q_reduce_scratch_size(int n_dims, const int32_t *dims, uint32_t mask);

#endif
