/* gemm_f32_tiles.h: what the x86 float GEMM kernels (gemm_f32_avx2.c, gemm_f32_avx512.c) share
 * around their row-count instantiations: the panel function type and the split of one panel's
 * rows into balanced tiles. Plain C (no intrinsics); include once per kernel file. */
#ifndef TC_KERNELS_X86_GEMM_F32_TILES_H
#define TC_KERNELS_X86_GEMM_F32_TILES_H

#include <stddef.h>

/* n_tiles tiles of one row count (the table index), rows from r0, one panel of B (w). */
typedef void panel_fn(size_t r0, size_t n_tiles, size_t cols, size_t n_seg, size_t seg_len,
                      const float *const *a_seg, size_t lda, const float *w, const float *bias,
                      float *c, size_t ldc, int accumulate, float act_min, float act_max);

/* rows of one panel as n = ceil(rows / mr) tiles of balanced heights: rows % n tiles of
 * h + 1 rows, then the others of h = rows / n (a remainder of a few rows would run as few FMA
 * chains: MobileNet V1's stem, 111 pixels a row, had 9 tiles of 12 and one of 3). table[r]
 * runs tiles of r rows (r <= mr). */
static inline void tile_split(size_t rows, size_t mr, panel_fn *const *table, size_t nc,
                              size_t n_seg, size_t seg_len, const float *const *a_seg,
                              size_t lda, const float *packed_b, const float *bias, float *c,
                              size_t ldc, int accumulate, float act_min, float act_max) {
  const size_t n = (rows + mr - 1) / mr, h = rows / n, taller = rows % n;
  if (taller)
    table[h + 1](0, taller, nc, n_seg, seg_len, a_seg, lda, packed_b, bias, c, ldc, accumulate,
                 act_min, act_max);
  table[h](taller * (h + 1), n - taller, nc, n_seg, seg_len, a_seg, lda, packed_b, bias,
           c + taller * (h + 1) * ldc, ldc, accumulate, act_min, act_max);
}

#endif /* TC_KERNELS_X86_GEMM_F32_TILES_H */
