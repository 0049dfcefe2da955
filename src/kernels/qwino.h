/* qwino.h: int8 / uint8 CONV_2D with a 3x3 filter, stride 1 and no dilation by Winograd
 * F(2x2, 3x3), in exact integer arithmetic, for the 8-bit GEMM kernels that provide a `wino`
 * function (qgemm.h). Each 2x2 block of outputs ("tile") reads a 4x4 input patch d (the input
 * zero point outside the image); V = B^T d B and U = G' g G'^T (G' = 2 G, so U has integer
 * entries: 4 times the usual transformed filter) give, per tile, 16 products of U and V summed
 * over the input channels: 16 independent GEMMs of (tiles x C) by (C x out_c), 16 multiplies
 * per 4 outputs and input channel instead of 36. The output transform A^T M A is then 4 times
 * the convolution's exact sum of raw inputs times w' (no rounding anywhere); shifted right by 2
 * and added to the GEMM's folded bias it is the accumulator of the direct kernels, so the
 * requantization and outputs are bit-exact with tc_s8_conv2d__ref / tc_u8_conv2d__ref.
 * Exactness needs every intermediate within int32 and int16: |V| <= 4 * 255 always, |U| <=
 * 9 * 383, and pack refuses filters whose bound 1020 * sum |U| over positions and channels
 * reaches 2^31 (then the direct path runs). Groups other than 1 are not handled. */
#ifndef TC_KERNELS_QWINO_H
#define TC_KERNELS_QWINO_H

#include <stddef.h>
#include <stdint.h>

#include "core/threadpool.h"
#include "kernels/qgemm.h"
#include "kernels/ref/conv2d.h"

/* The filter transformed and packed for one kernel. */
typedef struct tc_qwino_packed {
  tc_s8_qgemm_kernel *kr; /* its wino function runs the tiles */
  int32_t c, cp;          /* input channels; cp rounded up to even (pairs) */
  int32_t oc, oc_pad;     /* output channels; oc_pad rounded up to 16 */
  int32_t block;          /* tiles per wino call (a multiple of 4) */
  /* U: 16 planes (position xi = 4 i + j) of oc_pad / 16 panels, each cp / 2 pairs of 16
   * columns (int16 pairs, as the GEMM's packed B), plane xi at u + xi * oc_pad * cp */
  const int16_t *u;
  tc_qgemm_cols cols; /* the output stage: bias with the input offset folded, requantization */
} tc_qwino_packed;

/* One call's geometry, for the kernel's wino function. Tile t is (batch b, tile row ty, tile
 * column tx), t = (b * tiles_h + ty) * tiles_w + tx, outputs (2 ty + dy, 2 tx + dx). */
typedef struct tc_qwino_job {
  const tc_qwino_packed *pk;
  const tc_conv2d_params *p;
  const uint8_t *in;  /* NHWC bytes */
  const uint8_t *pad; /* cp + 16 bytes of the input zero point */
  int in_u8;
  int32_t tiles_h, tiles_w;
  uint8_t *out;
} tc_qwino_job;

/* 1 if the convolution has the shape this path handles (3x3, stride 1, dilation 1, groups 1). */
int tc_qwino_applicable(const tc_conv2d_params *p);

/* 1 if the shape applies and the filter w (as for tc_qwino_pack) keeps every intermediate sum
 * within int32 (the bound of the header comment); check before allocating for tc_qwino_pack. */
int tc_qwino_fits(const tc_conv2d_params *p, const tc_qgemm_weights *w);

/* Bytes for tc_qwino_pack (64 bytes of alignment slack included). */
size_t tc_qwino_packed_size(const tc_conv2d_params *p);

/* Transforms and packs the filter (w as for tc_qgemm_pack with n = out_c, k = 9 * in_c) for kr
 * into buf. NULL if kr has no wino function, the shape does not apply, or the exactness bound
 * or the output stage refuse: the caller keeps the direct path. */
const tc_qwino_packed *tc_qwino_pack(tc_s8_qgemm_kernel *kr, const tc_conv2d_params *p,
                                     const tc_qgemm_weights *w, void *buf);

/* Scratch bytes of one wino call (block tiles), and of tc_qwino_conv2d with n_threads. */
size_t tc_qwino_run_scratch(const tc_qwino_packed *pk);
size_t tc_qwino_scratch_size(const tc_qwino_packed *pk, int n_threads);

/* out = the requantized convolution (input bytes int8 or uint8 by in_u8, zero point in_zp).
 * Work is split over `pool` by blocks of tiles; deterministic for any pool. */
void tc_qwino_conv2d(const tc_qwino_packed *pk, tc_threadpool *pool, const tc_conv2d_params *p,
                     const void *in, int in_u8, int32_t in_zp, void *out, void *scratch);

/* The AVX2 block kernel (x86/qwino_avx2.c): the `wino` of the AVX2 8-bit GEMM kernels. */
void tc__s8_qwino_avx2(const struct tc_qwino_job *job, size_t t0, size_t t1, void *scratch);

#endif /* TC_KERNELS_QWINO_H */
