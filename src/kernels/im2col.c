/* im2col.c: CONV_2D through the float and 8-bit GEMMs (see im2col.h): im2col rows (the float
 * driver, kernels/conv_f32.c, uses them for the pixels it does not read in place), and the
 * 8-bit driver, which hands a row callback to the 8-bit GEMM (it packs A strip by strip). */
#include "kernels/im2col.h"

#include <string.h>

#include "core/core.h"

int tc_conv2d_is_gemm(const tc_conv2d_params *p) {
  return p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 &&
         p->filter_c == p->in_c && p->pad_top == 0 && p->pad_left == 0 && p->out_h == p->in_h &&
         p->out_w == p->in_w;
}

/* Copies n bytes with fixed-size moves: im2col copies are short (a few channels), where a libc
 * memcpy call costs more than the copy. */
static inline void copy_bytes(void *dst, const void *src, size_t n) {
  char *d = dst;
  const char *s = src;
  if (n >= 256) {
    memcpy(d, s, n);
    return;
  }
  for (; n >= 32; n -= 32, d += 32, s += 32) __builtin_memcpy(d, s, 32);
  if (n >= 16) { __builtin_memcpy(d, s, 16); n -= 16; d += 16; s += 16; }
  if (n >= 8) { __builtin_memcpy(d, s, 8); n -= 8; d += 8; s += 8; }
  if (n >= 4) { __builtin_memcpy(d, s, 4); n -= 4; d += 4; s += 4; }
  for (; n > 0; n--) *d++ = *s++;
}


/* One im2col row of output pixel q, elements of type T; PAD_STMT writes n_pad padding
 * elements at dst. */
#define IM2COL_ROW(T, PAD_STMT)                                                                \
  const int32_t y0 = q.oy * p->stride_h - p->pad_top, x0 = q.ox * p->stride_w - p->pad_left;  \
  const size_t C = (size_t)p->in_c, kw = (size_t)p->k_w;                                       \
  const int x_inside = p->dilation_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w;                \
  for (int32_t ky = 0; ky < p->k_h; ky++) {                                                    \
    const int32_t y = y0 + ky * p->dilation_h;                                                 \
    T *dst = row + (size_t)ky * kw * C;                                                        \
    if (y < 0 || y >= p->in_h) {                                                               \
      const size_t n_pad = kw * C;                                                             \
      PAD_STMT;                                                                                \
      continue;                                                                                \
    }                                                                                          \
    const T *src = in + (((size_t)q.b * (size_t)p->in_h + (size_t)y) * (size_t)p->in_w) * C; \
    if (x_inside) {                                                                            \
      copy_bytes(dst, src + (size_t)x0 * C, kw * C * sizeof(T));                               \
      continue;                                                                                \
    }                                                                                          \
    for (int32_t kx = 0; kx < p->k_w; kx++, dst += C) {                                        \
      const int32_t x = x0 + kx * p->dilation_w;                                               \
      if (x < 0 || x >= p->in_w) {                                                             \
        const size_t n_pad = C;                                                                \
        PAD_STMT;                                                                              \
      } else {                                                                                 \
        copy_bytes(dst, src + (size_t)x * C, C * sizeof(T));                                   \
      }                                                                                        \
    }                                                                                          \
  }

static inline void f32_row(const tc_conv2d_params *p, const float *in, tc_conv_pix q,
                           float *row) {
  IM2COL_ROW(float, for (size_t e = 0; e < n_pad; e++) dst[e] = 0.0f)
}

static inline void x8_row(const tc_conv2d_params *p, const uint8_t *in, uint8_t pad,
                          tc_conv_pix q, uint8_t *row) {
  IM2COL_ROW(uint8_t, memset(dst, pad, n_pad))
}

void tc_f32_im2col_row(const tc_conv2d_params *p, const float *in, size_t i, float *row) {
  f32_row(p, in, tc_conv_pixel(p, i), row);
}

void tc_x8_im2col_row(const tc_conv2d_params *p, const uint8_t *in, uint8_t pad, size_t i,
                      uint8_t *row) {
  x8_row(p, in, pad, tc_conv_pixel(p, i), row);
}

/* ---- 8-bit ---------------------------------------------------------------------------------- */

typedef struct x8_rows {
  const tc_conv2d_params *p;
  const uint8_t *in;
  uint8_t pad;
} x8_rows;

static void x8_rows_im2col(const void *ctx, size_t i, size_t n, char *buf, size_t stride,
                           const void **rows) {
  const x8_rows *r = ctx;
  tc_conv_pix q = tc_conv_pixel(r->p, i);
  for (size_t j = 0; j < n; j++, tc_conv_pixel_next(r->p, &q)) {
    x8_row(r->p, r->in, r->pad, q, (uint8_t *)buf + j * stride);
    rows[j] = buf + j * stride;
  }
}

/* 1x1 filter without padding: the row is one input pixel, read in place. */
static void x8_rows_pointwise(const void *ctx, size_t i, size_t n, char *buf, size_t stride,
                              const void **rows) {
  const x8_rows *r = ctx;
  const tc_conv2d_params *p = r->p;
  (void)buf;
  (void)stride;
  tc_conv_pix q = tc_conv_pixel(p, i);
  for (size_t j = 0; j < n; j++, tc_conv_pixel_next(p, &q)) {
    const size_t y = (size_t)(q.oy * p->stride_h), x = (size_t)(q.ox * p->stride_w);
    rows[j] = r->in + (((size_t)q.b * (size_t)p->in_h + y) * (size_t)p->in_w + x) * (size_t)p->in_c;
  }
}

size_t tc_x8_conv2d_gemm_scratch_size(const tc_qgemm_packed *pk, int n_threads) {
  return tc_qgemm_scratch_size(pk, n_threads);
}

void tc_x8_conv2d_gemm(const tc_qgemm_packed *pk, tc_threadpool *pool,
                       const tc_conv2d_params *p, const void *in, int in_u8, int32_t in_zp,
                       void *out, void *scratch) {
  const size_t m = (size_t)p->batch * (size_t)p->out_h * (size_t)p->out_w;
  if (m == 0) return;
  x8_rows rows = {p, in, (uint8_t)(in_u8 ? (uint32_t)in_zp : (uint32_t)(uint8_t)(int8_t)in_zp)};
  tc_qgemm_a a = {in_u8, in, (size_t)p->in_c, NULL, &rows};
  if (!tc_conv2d_is_gemm(p))
    a.rows_fn = p->k_h == 1 && p->k_w == 1 && p->pad_top == 0 && p->pad_left == 0
                    ? x8_rows_pointwise
                    : x8_rows_im2col;
  tc_qgemm(pk, pool, (int32_t)m, &a, out, (size_t)p->out_c, scratch);
}
