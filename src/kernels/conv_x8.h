/* conv_x8.h: int8 / uint8 CONV_2D on the 8-bit GEMM of qgemm.h without an im2col copy. A row of
 * the convolution's A matrix (one output pixel, K = k_h * k_w * C values in (ky, kx, ic) order,
 * the OHWI filter's order) is read as segments of contiguous input bytes: one per filter row
 * (k_w * C bytes of one image row) when dilation_w is 1, else one per tap (C bytes). The
 * weights are packed with that layout (tc_qgemm_weights.n_seg), each segment padded to whole
 * int16 pairs, so the GEMM's A packing reads the segments straight from the input. A
 * convolution with padding reads a copy of the input with the zero-point border (made once per
 * call in the scratch), so no window crosses an edge and every segment is read in place.
 * Padding with the input zero point cancels exactly as the reference kernels' skipped
 * taps, so outputs are bit-exact with tc_s8_conv2d__ref / tc_u8_conv2d__ref. 1x1 convolutions
 * read input pixels in place (one segment). Groups other than 1 are not handled. */
#ifndef TC_KERNELS_CONV_X8_H
#define TC_KERNELS_CONV_X8_H

#include <stddef.h>
#include <stdint.h>

#include "core/threadpool.h"
#include "kernels/qgemm.h"
#include "kernels/ref/conv2d.h"

/* The segment count to pack the filter with (tc_qgemm_weights.n_seg; K = k_h * k_w * C must
 * be split into that many equal segments, which it always is). */
int32_t tc_x8_conv2d_n_seg(const tc_conv2d_params *p);

/* Scratch bytes for tc_x8_conv2d on an int8 or uint8 (in_u8) input with a pool of n_threads
 * threads. */
size_t tc_x8_conv2d_scratch_size(const tc_qgemm_packed *pk, const tc_conv2d_params *p,
                                 int in_u8, int n_threads);

/* out = the requantized convolution of `in` (NHWC bytes, int8 or uint8 by in_u8, zero point
 * in_zp) with the filter packed by tc_qgemm_pack(n = out_c, k = K, filter rows of K bytes,
 * n_seg = tc_x8_conv2d_n_seg(p) or 1). groups must be 1. scratch: the size above for the
 * threads of `pool`. Deterministic for any pool. */
void tc_x8_conv2d(const tc_qgemm_packed *pk, tc_threadpool *pool, const tc_conv2d_params *p,
                  const void *in, int in_u8, int32_t in_zp, void *out, void *scratch);

#endif /* TC_KERNELS_CONV_X8_H */
