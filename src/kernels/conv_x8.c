/* conv_x8.c: the 8-bit convolution driver of conv_x8.h: chooses the segment layout, makes the
 * zero-point padded copy of the input where the convolution pads (or the kernel reads a view:
 * int16, or flipped bytes), and hands the 8-bit GEMM a callback that points each output pixel's
 * segments into the input or that copy. */
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

/* The input as the segments see it ("the view"): images of hp x wp pixels, each pixel's window
 * starting at row oy * stride_h and column ox * stride_w. For kernels with run_view it is what
 * they read in place (qgemm.h): for kgroup 2 a copy widened to int16 with the zero-point
 * border, for kgroup 4 bytes as uint8 (int8 inputs flipped, x xor 0x80, in a copy with the
 * border; uint8 inputs in place where no window crosses an edge and no segment's last group
 * reads past it). Otherwise the input tensor itself when the convolution needs no padding, else
 * a byte copy with the border. So no window ever crosses an edge of the view. */
typedef struct x8c {
  const tc_conv2d_params *p;
  const uint8_t *img, *end; /* the view; end: where over-reads must stop (bytes) */
  size_t row_len, img_len;  /* elements (bytes or int16) per view row (wp * C) and image */
  size_t n_seg, seg_len;
  size_t es;         /* bytes per view element (run_view: 2 for int16, else 1) */
  const uint8_t *in; /* the input tensor (1x1 and im2col rows) */
  uint8_t zp;        /* the input zero point's byte */
} x8c;

/* Rows and columns the windows span: max(pad + input, the last window's end). */
static int32_t span(int32_t out, int32_t stride, int32_t k, int32_t dil) {
  return (out - 1) * stride + (k - 1) * dil + 1;
}
static int32_t view_h(const tc_conv2d_params *p) {
  const int32_t need = span(p->out_h, p->stride_h, p->k_h, p->dilation_h);
  return p->pad_top + p->in_h > need ? p->pad_top + p->in_h : need;
}
static int32_t view_w(const tc_conv2d_params *p) {
  const int32_t need = span(p->out_w, p->stride_w, p->k_w, p->dilation_w);
  return p->pad_left + p->in_w > need ? p->pad_left + p->in_w : need;
}
/* 1 if the segment paths read a padded copy (some window crosses an edge of the input). */
static int needs_copy(const tc_conv2d_params *p) {
  return p->pad_top > 0 || p->pad_left > 0 || view_h(p) > p->in_h || view_w(p) > p->in_w;
}
/* How kr->run_view reads the segments in place (not for weights packed as bytes for one output
 * pixel, which run kr->gemv on segments): VIEW_I16, a copy widened to int16 (kgroup 2, filters
 * of several rows); VIEW_U8, bytes (kgroup 4, any filter whose segments are its rows); else
 * VIEW_NONE (the kernel packs A). */
enum { VIEW_NONE, VIEW_U8, VIEW_I16 };
static int view_kind(const tc_qgemm_packed *pk, const tc_conv2d_params *p) {
  tc_s8_qgemm_kernel *kr = pk->kr;
  if (!kr->run_view || !pk->b || p->dilation_w != 1 || pk->n_seg != p->k_h) return VIEW_NONE;
  if (kr->kgroup == 4)
    return pk->kp == pk->n_seg * ((pk->seg_len + 3) / 4) ? VIEW_U8 : VIEW_NONE;
  return pk->n_seg > 1 ? VIEW_I16 : VIEW_NONE;
}
/* Elements of the view (the input with its border), and its bytes in the scratch (0: the
 * input is read in place), with 16 readable elements past it. */
static size_t view_elems(const tc_conv2d_params *p) {
  return (size_t)p->batch * (size_t)view_h(p) * (size_t)view_w(p) * (size_t)p->in_c;
}
/* 1 if the pixels' windows are read as segments of the view (else: a plain matrix, or im2col
 * rows for odd C with dilation_w > 1). */
static int seg_path(const tc_qgemm_packed *pk, const tc_conv2d_params *p) {
  return !tc_conv2d_is_gemm(p) && (pk->n_seg > 1 || (p->k_h == 1 && p->k_w == 1));
}
/* 1 if a VIEW_U8 kernel reads the input in place: uint8 (no flip), no window crossing an edge,
 * whole groups (the last segment of the tensor is not read past). */
static int u8_in_place(const tc_qgemm_packed *pk, const tc_conv2d_params *p, int in_u8) {
  return in_u8 && !needs_copy(p) && pk->seg_len % 4 == 0;
}
static size_t copy_bytes(const tc_qgemm_packed *pk, const tc_conv2d_params *p, int in_u8) {
  switch (view_kind(pk, p)) {
  case VIEW_I16: return TC_ALIGN_UP((view_elems(p) + 16) * 2, 64);
  case VIEW_U8: return u8_in_place(pk, p, in_u8) ? 0 : TC_ALIGN_UP(view_elems(p) + 16, 64);
  default: break;
  }
  if (!seg_path(pk, p) || !needs_copy(p)) return 0;
  return TC_ALIGN_UP(view_elems(p) + 16, 64);
}

/* Making the view: the input with zero-point rows above and below and zero-point columns left
 * and right (row y of image b is view row b * hp + y), as bytes (each xor flip) or as int16
 * (in_u8: zero-extended, else sign-extended); split over the pool by rows where it is large. */
typedef struct viewjob {
  const tc_conv2d_params *p;
  const uint8_t *in;
  void *dst;
  int wide, in_u8;
  uint8_t zp, flip;
  size_t rows_per_task;
} viewjob;

static void view_rows(void *ctx, size_t task, int thread) {
  const viewjob *v = ctx;
  const tc_conv2d_params *p = v->p;
  const size_t C = (size_t)p->in_c, wp = (size_t)view_w(p), hp = (size_t)view_h(p);
  const size_t row = wp * C, left = (size_t)p->pad_left * C, mid = (size_t)p->in_w * C;
  const size_t n_rows = (size_t)p->batch * hp, r0 = task * v->rows_per_task;
  const size_t r1 = TC_MIN(n_rows, r0 + v->rows_per_task);
  const int16_t zp16 = v->in_u8 ? (int16_t)v->zp : (int16_t)(int8_t)v->zp;
  (void)thread;
  for (size_t r = r0; r < r1; r++) {
    const int32_t iy = (int32_t)(r % hp) - p->pad_top;
    const uint8_t *src = iy < 0 || iy >= p->in_h
                             ? NULL
                             : v->in + ((r / hp) * (size_t)p->in_h + (size_t)iy) * mid;
    if (!v->wide) {
      uint8_t *d = (uint8_t *)v->dst + r * row;
      const uint8_t zb = v->zp ^ v->flip;
      if (!src) {
        memset(d, zb, row);
        continue;
      }
      memset(d, zb, left);
      if (v->flip)
        for (size_t t = 0; t < mid; t++) d[left + t] = src[t] ^ 0x80;
      else
        memcpy(d + left, src, mid);
      memset(d + left + mid, zb, row - left - mid);
      continue;
    }
    int16_t *d = (int16_t *)v->dst + r * row;
    size_t x = 0;
    if (src) {
      for (; x < left; x++) d[x] = zp16;
      if (v->in_u8)
        for (size_t t = 0; t < mid; t++) d[left + t] = (int16_t)src[t];
      else
        for (size_t t = 0; t < mid; t++) d[left + t] = (int16_t)(int8_t)src[t];
      x = left + mid;
    }
    for (; x < row; x++) d[x] = zp16;
  }
}

static void make_view(const tc_conv2d_params *p, tc_threadpool *pool, const uint8_t *in,
                      int in_u8, uint8_t zp, int wide, uint8_t flip, void *dst) {
  const size_t n_rows = (size_t)p->batch * (size_t)view_h(p);
  const size_t bytes = view_elems(p) << wide;
  size_t tasks = bytes < 64 * 1024 ? 1 : 4 * (size_t)tc_threadpool_n_threads(pool);
  if (tasks > n_rows) tasks = n_rows;
  viewjob v = {p, in, dst, wide, in_u8, zp, flip, (n_rows + tasks - 1) / tasks};
  tc_threadpool_parallel_for(tasks > 1 ? pool : NULL, (n_rows + v.rows_per_task - 1) /
                                                          v.rows_per_task, view_rows, &v);
  if (wide) /* the slack past the last row */
    for (size_t t = 0; t < 16; t++)
      ((int16_t *)dst)[view_elems(p) + t] = in_u8 ? (int16_t)zp : (int16_t)(int8_t)zp;
  else
    memset((uint8_t *)dst + view_elems(p), zp ^ flip, 16);
}

/* Segments are read up to 15 bytes past their end (TC_QGEMM_A_OVERREAD): one that lies in the
 * input that close to the tensor's end is copied to the row buffer instead (the padded copy
 * has 16 bytes of slack, so this happens only on the input in place). */
static inline int readable(const x8c *c, const uint8_t *seg_end) { return seg_end + 15 <= c->end; }

/* The windows of pixels [i, i + n) (n <= 64): pointers to their first elements in the view
 * (elements of es bytes), walking each output row's pixels in a tight loop. */
static void windows(const x8c *c, size_t i, size_t n, size_t es, const char **w) {
  const tc_conv2d_params *p = c->p;
  const size_t sw = (size_t)p->stride_w * (size_t)p->in_c * es, out_w = (size_t)p->out_w;
  const size_t sh = (size_t)p->stride_h * c->row_len * es, img = c->img_len * es;
  const char *base = (const char *)c->img;
  tc_conv_pix q = tc_conv_pixel(p, i);
  const char *row = base + (size_t)q.b * img + (size_t)q.oy * sh;
  size_t ox = (size_t)q.ox;
  for (size_t r = 0; r < n;) {
    const size_t end = TC_MIN(out_w, ox + (n - r));
    for (const char *o = row + ox * sw; ox < end; ox++, o += sw) w[r++] = o;
    ox = 0; /* the next output row, or the next image */
    row += sh;
    if (++q.oy == p->out_h) {
      q.oy = 0;
      q.b++;
      row = base + (size_t)q.b * img;
    }
  }
}

/* Segment = filter row ky: k_w * C bytes, one view row (times dilation_h) below the last
 * (1x1: the pixel). */
static void segs_rows(const void *ctx, size_t i, size_t n, char *buf, size_t stride,
                      const void **segs) {
  const x8c *c = ctx;
  const size_t n_seg = c->n_seg, seg_len = c->seg_len;
  const size_t row_step = (size_t)c->p->dilation_h * c->row_len;
  const char *w[64];
  windows(c, i, n, 1, w);
  for (size_t r = 0; r < n; r++, segs += n_seg) {
    const uint8_t *s0 = (const uint8_t *)w[r];
    if (readable(c, s0 + (n_seg - 1) * row_step + seg_len)) {
      for (size_t ky = 0; ky < n_seg; ky++) segs[ky] = s0 + ky * row_step;
      continue;
    }
    uint8_t *dst = (uint8_t *)buf + r * stride; /* near the input's end: copies */
    for (size_t ky = 0; ky < n_seg; ky++, dst += seg_len) {
      memcpy(dst, s0 + ky * row_step, seg_len);
      segs[ky] = dst;
    }
  }
}

/* The same on the view of run_view: each pixel's first segment; the others follow at
 * dilation_h rows (tc_qgemm_a.seg_step). */
static void rows_view(const void *ctx, size_t i, size_t n, const void **rows) {
  const x8c *c = ctx;
  const char *w[64];
  windows(c, i, n, c->es, w);
  for (size_t r = 0; r < n; r++) rows[r] = w[r];
}

/* Segment = tap (ky, kx): C bytes. */
static void segs_taps(const void *ctx, size_t i, size_t n, char *buf, size_t stride,
                      const void **segs) {
  const x8c *c = ctx;
  const tc_conv2d_params *p = c->p;
  const size_t C = (size_t)p->in_c, row_step = (size_t)p->dilation_h * c->row_len;
  const size_t tap_step = (size_t)p->dilation_w * C;
  const char *w[64];
  windows(c, i, n, 1, w);
  for (size_t r = 0; r < n; r++) {
    const uint8_t *s0 = (const uint8_t *)w[r];
    uint8_t *dst = (uint8_t *)buf + r * stride;
    for (int32_t ky = 0; ky < p->k_h; ky++)
      for (int32_t kx = 0; kx < p->k_w; kx++, dst += C) {
        const uint8_t *src = s0 + (size_t)ky * row_step + (size_t)kx * tap_step;
        if (!readable(c, src + C)) {
          memcpy(dst, src, C);
          src = dst;
        }
        *segs++ = src;
      }
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

size_t tc_x8_conv2d_scratch_size(const tc_qgemm_packed *pk, const tc_conv2d_params *p,
                                 int in_u8, int n_threads) {
  if (!pk) return 0;
  return 64 + copy_bytes(pk, p, in_u8) + tc_qgemm_scratch_size(pk, n_threads);
}

void tc_x8_conv2d(const tc_qgemm_packed *pk, tc_threadpool *pool, const tc_conv2d_params *p,
                  const void *in, int in_u8, int32_t in_zp, void *out, void *scratch) {
  const size_t m = (size_t)p->batch * (size_t)p->out_h * (size_t)p->out_w;
  if (m == 0 || !pk) return;
  uint8_t *ws = (uint8_t *)TC_ALIGN_UP((uintptr_t)scratch, 64);
  const size_t C = (size_t)p->in_c, in_bytes = (size_t)p->batch * p->in_h * p->in_w * C;
  const uint8_t zp = (uint8_t)(in_u8 ? (uint32_t)in_zp : (uint32_t)(uint8_t)(int8_t)in_zp);
  const int view = view_kind(pk, p), wide = view == VIEW_I16;
  x8c c = {p, in, (const uint8_t *)in + in_bytes, (size_t)p->in_w * C,
           (size_t)p->in_h * p->in_w * C, (size_t)pk->n_seg, (size_t)pk->seg_len,
           wide ? 2 : 1, in, zp};
  const size_t copy = copy_bytes(pk, p, in_u8);
  tc_qgemm_a a = {in_u8, in, C, NULL, &c, NULL, 1, NULL, 0};
  if (copy) { /* the view: strides in elements (bytes, or int16 values) */
    make_view(p, pool, in, in_u8, zp, wide, view == VIEW_U8 && !in_u8 ? 0x80 : 0, ws);
    c.img = ws;
    c.row_len = (size_t)view_w(p) * C;
    c.img_len = (size_t)view_h(p) * c.row_len;
    c.end = ws + (size_t)p->batch * c.img_len + 16;
  }
  if (view != VIEW_NONE) {
    a.view_fn = rows_view;
    a.seg_step = (size_t)p->dilation_h * c.row_len;
  } else if (seg_path(pk, p)) {
    a.segs_fn = p->dilation_w == 1 && pk->n_seg == p->k_h ? segs_rows : segs_taps;
  } else if (tc_conv2d_is_gemm(p)) {
    a.overread = 0; /* the input matrix in place (qgemm over-reads rows that have successors) */
  } else {
    a.rows_fn = rows_im2col;
  }
  tc_qgemm(pk, pool, (int32_t)m, &a, out, (size_t)p->out_c, ws + copy);
}
