/* conv_x8.c: the 8-bit convolution driver of conv_x8.h: chooses the segment layout, and hands
 * the 8-bit GEMM a callback that points each output pixel's segments into the input (or at the
 * zero-point row, or at a copy with edge padding). */
#include "kernels/conv_x8.h"

#include <string.h>

#include "core/core.h"
#include "kernels/im2col.h"

/* Segments per filter row (k_w * C contiguous bytes) need dilation_w 1; per tap otherwise, and
 * for an odd C one segment (whole im2col rows), as each segment is padded to whole pairs. */
int32_t tc_x8_conv2d_n_seg(const tc_conv2d_params *p) {
  if (p->k_h == 1 && p->k_w == 1) return 1;
  if (p->dilation_w == 1) return p->k_h;
  return p->in_c % 2 == 0 ? p->k_h * p->k_w : 1;
}


typedef struct x8c {
  const tc_conv2d_params *p;
  const uint8_t *in, *end; /* the input tensor's bytes */
  const uint8_t *pad;      /* seg_len bytes of the zero point (and 16 readable bytes more) */
  uint8_t zp;
  size_t n_seg, seg_len;
} x8c;

/* Segments are read up to 15 bytes past their end (TC_QGEMM_A_OVERREAD): one that lies in the
 * input that close to the tensor's end is copied to the row buffer instead. */
static inline int readable(const x8c *c, const uint8_t *seg_end) { return seg_end + 15 <= c->end; }

/* Short copies and fills with fixed-size moves (the edges of KWS's 1-channel layer copy a few
 * bytes, where a libc call costs more than the copy). */
static inline void copy_small(uint8_t *d, const uint8_t *s, size_t n) {
  if (n >= 64) {
    memcpy(d, s, n);
    return;
  }
  for (; n >= 8; n -= 8, d += 8, s += 8) __builtin_memcpy(d, s, 8);
  if (n >= 4) { __builtin_memcpy(d, s, 4); n -= 4; d += 4; s += 4; }
  for (; n > 0; n--) *d++ = *s++;
}
static inline void fill_small(uint8_t *d, uint8_t v, size_t n) {
  if (n >= 64) {
    memset(d, v, n);
    return;
  }
  for (; n > 0; n--) *d++ = v;
}

/* Segment = filter row ky: k_w * C bytes of input row y0 + ky * dilation_h from column x0. */
static void segs_rows(const void *ctx, size_t i, size_t n, char *buf, size_t stride,
                      const void **segs) {
  const x8c *c = ctx;
  const tc_conv2d_params *p = c->p;
  const size_t C = (size_t)p->in_c, W = (size_t)p->in_w, H = (size_t)p->in_h;
  const size_t n_seg = c->n_seg, seg_len = c->seg_len, row_step = (size_t)p->dilation_h * W * C;
  const int32_t y_span = (p->k_h - 1) * p->dilation_h;
  tc_conv_pix q = tc_conv_pixel(p, i);
  for (size_t r = 0; r < n; r++, tc_conv_pixel_next(p, &q), segs += n_seg) {
    const int32_t y0 = q.oy * p->stride_h - p->pad_top, x0 = q.ox * p->stride_w - p->pad_left;
    const uint8_t *img = c->in + (size_t)q.b * H * W * C;
    const int x_in = x0 >= 0 && x0 + p->k_w <= p->in_w;
    if (x_in && y0 >= 0 && y0 + y_span < p->in_h) { /* inside: pointers into the input */
      const uint8_t *s0 = img + ((size_t)y0 * W + (size_t)x0) * C;
      if (readable(c, s0 + (n_seg - 1) * row_step + seg_len)) {
        for (size_t ky = 0; ky < n_seg; ky++) segs[ky] = s0 + ky * row_step;
        continue;
      }
    }
    for (size_t ky = 0; ky < n_seg; ky++) {
      const int32_t y = y0 + (int32_t)ky * p->dilation_h;
      uint8_t *dst = (uint8_t *)buf + r * stride + ky * seg_len;
      if (y < 0 || y >= p->in_h) {
        segs[ky] = c->pad;
        continue;
      }
      const uint8_t *src = img + (size_t)y * W * C;
      if (x_in && readable(c, src + (size_t)x0 * C + seg_len)) {
        segs[ky] = src + (size_t)x0 * C;
        continue;
      }
      /* the window crosses the left or right edge, or the tensor's end is near: a copy,
       * zero points left of column xa and from column xb on */
      const int32_t xa = x0 < 0 ? 0 : x0, xb = x0 + p->k_w > p->in_w ? p->in_w : x0 + p->k_w;
      const size_t left = (size_t)(xa - x0) * C, mid = xb > xa ? (size_t)(xb - xa) * C : 0;
      fill_small(dst, c->zp, left);
      copy_small(dst + left, src + (size_t)xa * C, mid);
      fill_small(dst + left + mid, c->zp, seg_len - left - mid);
      segs[ky] = dst;
    }
  }
}

/* Segment = tap (ky, kx): C bytes. */
static void segs_taps(const void *ctx, size_t i, size_t n, char *buf, size_t stride,
                      const void **segs) {
  const x8c *c = ctx;
  const tc_conv2d_params *p = c->p;
  const size_t C = (size_t)p->in_c, W = (size_t)p->in_w, H = (size_t)p->in_h;
  tc_conv_pix q = tc_conv_pixel(p, i);
  for (size_t r = 0; r < n; r++, tc_conv_pixel_next(p, &q)) {
    const int32_t y0 = q.oy * p->stride_h - p->pad_top, x0 = q.ox * p->stride_w - p->pad_left;
    const uint8_t *img = c->in + (size_t)q.b * H * W * C;
    uint8_t *dst = (uint8_t *)buf + r * stride;
    for (int32_t ky = 0; ky < p->k_h; ky++) {
      const int32_t y = y0 + ky * p->dilation_h;
      for (int32_t kx = 0; kx < p->k_w; kx++, dst += C) {
        const int32_t x = x0 + kx * p->dilation_w;
        if (y < 0 || y >= p->in_h || x < 0 || x >= p->in_w) {
          *segs++ = c->pad;
          continue;
        }
        const uint8_t *src = img + ((size_t)y * W + (size_t)x) * C;
        if (!readable(c, src + C)) {
          memcpy(dst, src, C);
          src = dst;
        }
        *segs++ = src;
      }
    }
  }
}

/* One segment, 1x1 without padding: the pixel in place (copied near the tensor's end). */
static void rows_pointwise(const void *ctx, size_t i, size_t n, char *buf, size_t stride,
                           const void **rows) {
  const x8c *c = ctx;
  const tc_conv2d_params *p = c->p;
  const size_t C = (size_t)p->in_c;
  tc_conv_pix q = tc_conv_pixel(p, i);
  for (size_t r = 0; r < n; r++, tc_conv_pixel_next(p, &q)) {
    const size_t y = (size_t)(q.oy * p->stride_h), x = (size_t)(q.ox * p->stride_w);
    const uint8_t *src = c->in + (((size_t)q.b * (size_t)p->in_h + y) * (size_t)p->in_w + x) * C;
    if (!readable(c, src + C)) {
      memcpy(buf + r * stride, src, C);
      src = (const uint8_t *)buf + r * stride;
    }
    rows[r] = src;
  }
}

/* One segment otherwise (odd C with dilation_w > 1): an im2col row in the row buffer. */
static void rows_im2col(const void *ctx, size_t i, size_t n, char *buf, size_t stride,
                        const void **rows) {
  const x8c *c = ctx;
  for (size_t r = 0; r < n; r++) {
    tc_x8_im2col_row(c->p, c->in, c->zp, i + r, (uint8_t *)buf + r * stride);
    rows[r] = buf + r * stride;
  }
}

static size_t pad_bytes(const tc_qgemm_packed *pk) {
  return TC_ALIGN_UP((size_t)pk->seg_len + 16, 64);
}

size_t tc_x8_conv2d_scratch_size(const tc_qgemm_packed *pk, const tc_conv2d_params *p,
                                 int n_threads) {
  (void)p;
  if (!pk) return 0;
  return 64 + pad_bytes(pk) + tc_qgemm_scratch_size(pk, n_threads);
}

void tc_x8_conv2d(const tc_qgemm_packed *pk, tc_threadpool *pool, const tc_conv2d_params *p,
                  const void *in, int in_u8, int32_t in_zp, void *out, void *scratch) {
  const size_t m = (size_t)p->batch * (size_t)p->out_h * (size_t)p->out_w;
  if (m == 0 || !pk) return;
  uint8_t *pad = (uint8_t *)TC_ALIGN_UP((uintptr_t)scratch, 64);
  const size_t in_bytes = (size_t)p->batch * p->in_h * p->in_w * p->in_c;
  x8c c = {p, in, (const uint8_t *)in + in_bytes, pad,
           (uint8_t)(in_u8 ? (uint32_t)in_zp : (uint32_t)(uint8_t)(int8_t)in_zp),
           (size_t)pk->n_seg, (size_t)pk->seg_len};
  memset(pad, c.zp, (size_t)pk->seg_len);
  tc_qgemm_a a = {in_u8, in, (size_t)p->in_c, NULL, &c, NULL, 1};
  if (pk->n_seg > 1)
    a.segs_fn = p->dilation_w == 1 && pk->n_seg == p->k_h ? segs_rows : segs_taps;
  else if (tc_conv2d_is_gemm(p))
    a.overread = 0; /* the input matrix in place (qgemm over-reads rows that have successors) */
  else if (p->k_h == 1 && p->k_w == 1 && p->pad_top == 0 && p->pad_left == 0)
    a.rows_fn = rows_pointwise;
  else
    a.rows_fn = rows_im2col;
  tc_qgemm(pk, pool, (int32_t)m, &a, out, (size_t)p->out_c, pad + pad_bytes(pk));
}
