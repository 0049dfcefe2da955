/* fwino.h: float32 CONV_2D with a 3x3 filter, stride 1, no dilation and one group by Winograd
 * F(m x m, 3x3), m = 2 or 4, on the packed f32 GEMM of kernels/gemm.h. Each m x m block of
 * outputs ("tile") reads an alpha x alpha input patch d (alpha = m + 2, zeros outside the
 * image); V = B^T d B per input channel, and the filter's U = G g G^T per (input, output)
 * channel pair, transformed once at pack (in double, rounded once) into P = alpha^2 GEMM B
 * operands [in_c x out_c], one per position xi of the transformed patch. Per block of tiles:
 * (1) the input transform writes V as P row-major matrices [tiles x in_c]; (2) P GEMMs
 * M_xi = V_xi U_xi by the GEMM microkernel; (3) the output transform A^T M A gives the tile's
 * outputs, plus the bias, clamped to the activation range. Multiply-adds per output and input
 * channel: 9 directly, 4 with F(2x2), 2.25 with F(4x4).
 *
 * Accuracy: not the reference's sums. The transforms add and subtract inputs with small
 * weights (F(4x4): up to 5 in B, 8 in A, 1/24 .. 1/4 in G), so each output carries a few
 * float roundings of terms that can exceed S, the sum of |input| * |tap| of its products:
 * measured within ~5e-7 * S for F(2x2) and ~2e-6 * S for F(4x4) (tests check 1e-5 * S).
 * Non-finite filters are refused at pack (0 * inf from the padding would be NaN); non-finite
 * inputs may give NaN where the reference gives +-inf (an inf input enters every output of
 * the tiles that read it, as x - x). */
#ifndef TC_KERNELS_FWINO_H
#define TC_KERNELS_FWINO_H

#include <stddef.h>
#include <stdint.h>

#include "core/threadpool.h"
#include "kernels/gemm.h"
#include "kernels/ref/conv2d.h"

struct tc__f32_wino_job;
/* Runs tiles [t0, t1) of a job (one block) with per-thread scratch (fwino_impl.h). */
typedef void tc__f32_wino_block_fn(const struct tc__f32_wino_job *job, size_t t0, size_t t1,
                                   float *scratch);

/* The transforms' variant: kernels.def slot (wino, f32), e.g. kernel table ->f32_wino. Every
 * variant gives the same bits (the transforms only add, subtract and scale by powers of two,
 * lane by lane). */
typedef const struct tc_f32_wino_kernel {
  const char *isa;                  /* "avx2", "ref" */
  tc__f32_wino_block_fn *run_block; /* one block of tiles */
} tc_f32_wino_kernel;

/* The filter transformed and packed for one GEMM kernel (persistent, from tc_f32_wino_pack). */
typedef struct tc_f32_wino_packed {
  tc_f32_gemm_kernel *kr; /* the microkernel the planes are packed for */
  tc__f32_wino_block_fn *run_block; /* from the transforms' variant (tc_f32_wino_kernel) */
  const char *name;       /* for profiles, e.g. "avx2_wino4x3f" */
  int m;                  /* output tile: 2 or 4 */
  int32_t c, oc;          /* input and output channels */
  int32_t block;          /* tiles per block (a multiple of the kernel's mr, or fewer) */
  size_t plane;           /* floats between consecutive packed U planes */
  const float *u; /* P planes: plane xi = alpha i + j is U[i][j] as packed B [c x oc] */
} tc_f32_wino_packed;

/* 1 if the convolution has the shape this path handles: 3x3 filter, stride 1, dilation 1,
 * filter_c == in_c (one group), non-empty output. */
int tc_f32_wino_applicable(const tc_conv2d_params *p);

/* The tile m (2 or 4) with which this path is expected to beat the direct convolution of
 * conv_f32.h with kernel kr (NULL: the default) for p, or 0 where it is not (or does not
 * apply): enough input and output channels for the transforms to pay off (measured, see
 * docs/kernels.md). */
int tc_f32_wino_tile(tc_f32_gemm_kernel *kr, const tc_conv2d_params *p);

/* Bytes for tc_f32_wino_pack with kernel kr (NULL: the default) and tile m; 0 if the shape
 * does not apply or m is not 2 or 4. Includes 64 bytes of alignment slack. */
size_t tc_f32_wino_packed_size(tc_f32_gemm_kernel *kr, int m, const tc_conv2d_params *p);

/* Transforms the OHWI filter [out_c, 3, 3, in_c] for F(m x m, 3x3) (m = 2 or 4) and packs it
 * for GEMM kernel kr (NULL: the default) into buf (tc_f32_wino_packed_size bytes, any
 * alignment); invokes run the transforms of wk (NULL: the portable ones; normally the kernel
 * table's f32_wino). Returns the packed filter inside buf, or NULL if the shape does not apply
 * or a filter value is not finite (the caller keeps another path). The filter is not
 * referenced afterwards. */
const tc_f32_wino_packed *tc_f32_wino_pack(tc_f32_gemm_kernel *kr, tc_f32_wino_kernel *wk, int m,
                                           const tc_conv2d_params *p, const float *filter,
                                           void *buf);

/* Scratch bytes tc_f32_wino_conv2d needs with up to n_threads threads. */
size_t tc_f32_wino_scratch_size(const tc_f32_wino_packed *pk, int n_threads);

/* out = clamp(conv(in, filter) + bias, p->act_min, p->act_max), NHWC, for the p the filter was
 * packed with. bias: out_c floats or NULL. scratch: tc_f32_wino_scratch_size bytes for the
 * threads of `pool` (any alignment). Blocks of tiles are split over `pool`; each tile's
 * arithmetic does not depend on the block it falls in, so the result is the same bits for any
 * pool. Allocates nothing. in and out must not overlap. */
void tc_f32_wino_conv2d(const tc_f32_wino_packed *pk, tc_threadpool *pool,
                        const tc_conv2d_params *p, const float *in, const float *bias,
                        float *out, void *scratch);

/* One call's geometry and scratch layout, for the block functions (internal). Tile t is
 * (batch b, tile row ty, tile column tx), t = (b * tiles_h + ty) * tiles_w + tx, outputs
 * (m ty + dy, m tx + dx). */
typedef struct tc__f32_wino_job {
  const tc_f32_wino_packed *pk;
  const tc_conv2d_params *p;
  const float *in, *bias, *zero; /* bias: oc floats (zeros when the op has none) */
  float *out;
  size_t tiles_h, tiles_w, n_tiles, block;
  size_t vp, mp, sink_floats; /* per-thread scratch: V and M planes, a row for lost outputs */
  size_t thread_floats;       /* per-thread scratch in all (fwino.c) */
  float *scratch;             /* thread i's region at scratch + i * thread_floats */
} tc__f32_wino_job;

/* The portable variant (fwino.c); the others are listed in kernels.def. */
extern tc_f32_wino_kernel tc_f32_wino__ref;

#endif /* TC_KERNELS_FWINO_H */
