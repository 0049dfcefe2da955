/* conv_f32.h: float32 CONV_2D on the packed GEMM of kernels/gemm.h. The convolution is the
 * product of A (one row per output pixel, K = k_h * k_w * filter_c values in (ky, kx, ic) order)
 * and the OHWI filter read as [out_c, K] (TC_GEMM_B_NK). A 1x1 stride-1 convolution's A is the
 * input itself and runs as one GEMM. Otherwise, with a microkernel that has the segmented form
 * (tc_f32_gemm_seg_fn), the output pixels whose taps are all inside the image horizontally run
 * as a direct (implicit-GEMM) convolution: a strip of consecutive output pixels of one output row
 * reads each filter row's taps straight from the input (one segment per filter row, or per tap
 * when dilated; rows in the vertical padding are skipped), so no im2col copy is made. The other
 * pixels (the left/right borders) are gathered by im2col (kernels/im2col.h) into per-thread
 * scratch, a full tile at a time. Kernels without the
 * segmented form run every pixel through im2col. Groups other than 1 are not handled (callers
 * keep the reference kernel). */
#ifndef TC_KERNELS_CONV_F32_H
#define TC_KERNELS_CONV_F32_H

#include <stddef.h>

#include "core/threadpool.h"
#include "kernels/gemm.h"
#include "kernels/ref/conv2d.h"

/* Scratch bytes tc_f32_conv2d_gemm needs for kernel kr (NULL: the default) with up to n_threads
 * threads (0 for a plain GEMM). */
size_t tc_f32_conv2d_gemm_scratch_size(tc_f32_gemm_kernel *kr, const tc_conv2d_params *p,
                                       int n_threads);

/* out = clamp(conv(in, filter) + bias) with the filter packed by tc_f32_gemm_pack_b(kr, out_c,
 * K, filter, K, TC_GEMM_B_NK, packed). groups must be 1. scratch: the size above for the threads
 * of `pool`. Allocates nothing; deterministic for any pool (for a given kernel). */
void tc_f32_conv2d_gemm(tc_f32_gemm_kernel *kr, tc_threadpool *pool, const tc_conv2d_params *p,
                        const float *in, const float *packed, const float *bias, float *out,
                        void *scratch);

#endif /* TC_KERNELS_CONV_F32_H */
