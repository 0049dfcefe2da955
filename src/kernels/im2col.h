/* im2col.h: CONV_2D as a GEMM. The convolution's A matrix has one row per output pixel
 * (b, oy, ox) and K = k_h * k_w * filter_c columns in (ky, kx, ic) order, which is the order of
 * the OHWI filter read as [out_c, K] (TC_GEMM_B_NK). A 1x1 stride-1 convolution's A is the input
 * itself ([N*H*W, C_in]); otherwise rows are built by im2col (taps outside the image read as the
 * padding value: 0 for float, the input zero point for 8-bit, which cancels exactly as the
 * reference kernels' skipped taps). The drivers split the rows over the thread pool and build
 * each task's im2col rows in per-thread scratch, so im2col is parallel and cache-sized (the
 * float driver, kernels/conv_f32.h, reads most pixels in place instead).
 * Groups other than 1 are not handled (callers keep the reference kernel). */
#ifndef TC_KERNELS_IM2COL_H
#define TC_KERNELS_IM2COL_H

#include <stddef.h>
#include <stdint.h>

#include "core/threadpool.h"
#include "kernels/conv_f32.h"
#include "kernels/gemm.h"
#include "kernels/qgemm.h"
#include "kernels/ref/conv2d.h"

/* Output pixel i of a convolution (row-major over batch, output row, column) -> its batch,
 * output row and column; tc_conv_pixel_next steps to pixel i + 1. */
typedef struct tc_conv_pix {
  int32_t b, oy, ox;
} tc_conv_pix;
static inline tc_conv_pix tc_conv_pixel(const tc_conv2d_params *p, size_t i) {
  tc_conv_pix q;
  q.ox = (int32_t)(i % (size_t)p->out_w);
  const size_t t = i / (size_t)p->out_w;
  q.oy = (int32_t)(t % (size_t)p->out_h);
  q.b = (int32_t)(t / (size_t)p->out_h);
  return q;
}
static inline void tc_conv_pixel_next(const tc_conv2d_params *p, tc_conv_pix *q) {
  if (++q->ox == p->out_w) {
    q->ox = 0;
    if (++q->oy == p->out_h) {
      q->oy = 0;
      q->b++;
    }
  }
}

/* Row i (output pixel index, (b * out_h + oy) * out_w + ox) of the im2col matrix: K values. */
void tc_f32_im2col_row(const tc_conv2d_params *p, const float *in, size_t i, float *row);
/* The same for 8-bit data (int8 or uint8: only bytes are copied), padding with `pad`. */
void tc_x8_im2col_row(const tc_conv2d_params *p, const uint8_t *in, uint8_t pad, size_t i,
                      uint8_t *row);

/* 1 if the convolution is a plain GEMM on the input (1x1 filter, stride 1, one group). */
int tc_conv2d_is_gemm(const tc_conv2d_params *p);

/* Float: the driver is in kernels/conv_f32.h (direct where it can, im2col rows otherwise). */

/* 8-bit: the requantized conv with the filter packed by tc_qgemm_pack(n = out_c, k = K, filter
 * rows of K bytes), input bytes int8 or uint8 (in_u8), padding with the input zero point
 * in_zp. groups must be 1. */
size_t tc_x8_conv2d_gemm_scratch_size(const tc_qgemm_packed *pk, int n_threads);
void tc_x8_conv2d_gemm(const tc_qgemm_packed *pk, tc_threadpool *pool,
                       const tc_conv2d_params *p, const void *in, int in_u8, int32_t in_zp,
                       void *out, void *scratch);

#endif /* TC_KERNELS_IM2COL_H */
