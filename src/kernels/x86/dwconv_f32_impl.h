/* dwconv_f32_impl.h: the float32 depthwise kernel (slot f32_dwconv of vec_ops.h) as a template
 * on the vector width: DEPTHWISE_CONV_2D, NHWC, any filter size, stride, dilation and depth
 * multiplier, vectorised over channels, DWF_L per register. dwconv_avx2.c instantiates it with
 * ymm (8 lanes), dwconv_f32_avx512.c with zmm (16). Two paths:
 *  - ring (depth multiplier 1, stride 1, outputs at least 4 columns wide, finite weights):
 *    the input rows a filter needs are copied once into zero-padded ring rows laid out per
 *    DWF_L-channel group, so every output pixel runs the same FMA sequence with tap addresses
 *    as compile-time displacements (3x3 specialised, 4 pixels per step, weights in registers);
 *    short rows run in batches, several output rows as one pixel stream (dw_window.h);
 *  - direct (everything else): each output row is cut into a left border, an interior where
 *    every tap lies inside the image, and a right border; the interior of 3x3 filters keeps the
 *    9 weights in registers and computes 4 pixels at a time, other filters use a tap offset
 *    table; border pixels skip out-of-image taps as the reference does, and depth multipliers
 *    M > 1 gather the input channel of each output lane (a lane permute).
 * Taps are summed in (ky, kx) order with FMA from 0, then the bias is added and the result
 * clamped (the ring adds exact zeros for padding taps, which can only change the sign of a zero
 * sum), so both widths give the same values lane for lane.
 *
 * The including file defines FAI (static inline, always_inline), DWF_L, DWF_ISA (token: the
 * variant is tc_f32_dwconv__<DWF_ISA>) and DWF_NAME, DWF_VB (bytes per vector) and:
 *   dwf_v (vector of DWF_L floats), dwf_m (lane mask), dwf_i (lane index vector);
 *   vzero(), vzero_opaque() (a zero the compiler cannot see through), vset1(x), vld(p),
 *   vldm(p, m) (masked lanes read as 0, nothing read past them), vst(p, v), vstm(p, m, v),
 *   vfma(a, b, c) = a * b + c, vmul, vadd, vmin, vmax (x86 MINPS/MAXPS operand order: the
 *   second operand where either is NaN);
 *   vtail(n): lanes 0 .. n - 1 (n clamped to 0 .. DWF_L); vidx(ix): DWF_L int32 indices;
 *   vperm(v, idx): lane i = v[idx[i]]; dwf_finite(w, n): 1 if all n floats are finite;
 * and optionally DWF_NARROW_C and DWF_NARROW (the variant's narrow_c and narrow, vec_ops.h). */
#include "kernels/x86/dw_window.h"

#define DWF_CAT2(a, b) a##b
#define DWF_CAT(a, b) DWF_CAT2(a, b)
#define DWF_RUN DWF_CAT(f32_dw_, DWF_ISA)

/* ---- geometry ------------------------------------------------------------------------------ */

/* Output positions [lo, hi) whose whole filter window lies inside [0, in). */
static void interior(int32_t pad, int32_t stride, int32_t k, int32_t dil, int32_t in,
                     int32_t out, int32_t *lo, int32_t *hi) {
  int32_t l = pad > 0 ? (pad + stride - 1) / stride : 0;
  int64_t num = (int64_t)in - 1 - (int64_t)(k - 1) * dil + pad;
  int32_t h = num < 0 ? 0 : (int32_t)(num / stride + 1);
  if (l > out) l = out;
  if (h > out) h = out;
  if (h < l) h = l;
  *lo = l;
  *hi = h;
}

/* ---- float ---------------------------------------------------------------------------------- */

FAI dwf_v ldf(const float *p, int masked, dwf_m m) { return masked ? vldm(p, m) : vld(p); }
FAI void stf(float *p, dwf_v v, int masked, dwf_m m) {
  if (masked) vstm(p, m, v);
  else vst(p, v);
}
FAI dwf_v finish(dwf_v acc, dwf_v bv, dwf_v lo, dwf_v hi) {
  acc = vadd(acc, bv);
  return vmin(hi, vmax(lo, acc)); /* NaN passes, as the ref clamp (second operand on NaN) */
}

enum { MAX_TAPS = 256 };

/* One pixel, all output channels, taps outside the image skipped (border pixels, and every
 * pixel when the depth multiplier M > 1). The valid taps are listed first; with M == 1, 4 DWF_L
 * channels run as 4 independent FMA chains. Output channels oc read input channel oc / M: for
 * M > 1 the DWF_L lanes of a block are gathered from the input channels they need (vperm). */
static void f32_pixel(const tc_dwconv2d_params *p, const float *img, const float *filter,
                      const float *bias, float *o, int32_t oy, int32_t ox) {
  const int32_t M = p->depth_multiplier, Cin = p->in_c, C = Cin * M;
  const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
  const dwf_v lo = vset1(p->act_min), hi = vset1(p->act_max);
  int64_t soff[MAX_TAPS], woff[MAX_TAPS];
  int32_t nt = 0;
  for (int32_t ky = 0; ky < p->k_h; ky++) {
    const int32_t y = y0 + ky * p->dilation_h;
    if (y < 0 || y >= p->in_h) continue;
    for (int32_t kx = 0; kx < p->k_w; kx++) {
      const int32_t x = x0 + kx * p->dilation_w;
      if (x < 0 || x >= p->in_w) continue;
      soff[nt] = ((int64_t)y * p->in_w + x) * Cin;
      woff[nt++] = ((int64_t)ky * p->k_w + kx) * C;
    }
  }
  int32_t cb = 0;
  if (M == 1) {
    for (; cb + 4 * DWF_L <= C; cb += 4 * DWF_L) {
      dwf_v a0 = vzero(), a1 = a0, a2 = a0, a3 = a0;
      for (int32_t t = 0; t < nt; t++) {
        const float *src = img + soff[t] + cb, *w = filter + woff[t] + cb;
        a0 = vfma(vld(src), vld(w), a0);
        a1 = vfma(vld(src + DWF_L), vld(w + DWF_L), a1);
        a2 = vfma(vld(src + 2 * DWF_L), vld(w + 2 * DWF_L), a2);
        a3 = vfma(vld(src + 3 * DWF_L), vld(w + 3 * DWF_L), a3);
      }
      const dwf_v z = vzero();
      vst(o + cb, finish(a0, bias ? vld(bias + cb) : z, lo, hi));
      vst(o + cb + DWF_L, finish(a1, bias ? vld(bias + cb + DWF_L) : z, lo, hi));
      vst(o + cb + 2 * DWF_L, finish(a2, bias ? vld(bias + cb + 2 * DWF_L) : z, lo, hi));
      vst(o + cb + 3 * DWF_L, finish(a3, bias ? vld(bias + cb + 3 * DWF_L) : z, lo, hi));
    }
  }
  if (M == 1) /* no gather (and no divisions) */
    for (; cb < C; cb += DWF_L) {
      const int masked = C - cb < DWF_L;
      const dwf_m m = vtail(C - cb);
      dwf_v acc = vzero();
      for (int32_t t = 0; t < nt; t++)
        acc = vfma(ldf(img + soff[t] + cb, masked, m), ldf(filter + woff[t] + cb, masked, m),
                   acc);
      dwf_v bv = bias ? ldf(bias + cb, masked, m) : vzero();
      stf(o + cb, finish(acc, bv, lo, hi), masked, m);
    }
  for (; cb < C; cb += DWF_L) {
    const int masked = C - cb < DWF_L;
    const dwf_m m = vtail(C - cb);
    const int32_t c0 = cb / M, n_in = (cb + (masked ? C - cb : DWF_L) - 1) / M - c0 + 1;
    const dwf_m min = vtail(n_in);
    int32_t ix[DWF_L];
    for (int32_t j = 0; j < DWF_L; j++) ix[j] = (cb + j) / M - c0 < n_in ? (cb + j) / M - c0 : 0;
    const dwf_i idx = vidx(ix);
    dwf_v acc = vzero();
    for (int32_t t = 0; t < nt; t++) {
      const float *src = img + soff[t] + c0, *w = filter + woff[t] + cb;
      dwf_v v;
      if (M == 1) v = masked ? vldm(src, m) : vld(src);
      else v = vperm(vldm(src, min), idx);
      acc = vfma(v, masked ? vldm(w, m) : vld(w), acc);
    }
    dwf_v bv = bias ? ldf(bias + cb, masked, m) : vzero();
    stf(o + cb, finish(acc, bv, lo, hi), masked, m);
  }
}

/* Interior span of a 3x3 dilation-1 filter: n_px pixels starting at input `x` (the top-left tap
 * of the first pixel at channel block cb) and output `o`. S: stride along x (1 or 2). */
static inline __attribute__((always_inline)) void f32_3x3_span(
    const float *x, float *o, int32_t n_px, size_t C, size_t rs, int S, const float *wp,
    const float *bp, dwf_v lo, dwf_v hi, int masked, dwf_m m) {
  const dwf_v w0 = ldf(wp, masked, m), w1 = ldf(wp + C, masked, m),
               w2 = ldf(wp + 2 * C, masked, m), w3 = ldf(wp + 3 * C, masked, m),
               w4 = ldf(wp + 4 * C, masked, m), w5 = ldf(wp + 5 * C, masked, m),
               w6 = ldf(wp + 6 * C, masked, m), w7 = ldf(wp + 7 * C, masked, m),
               w8 = ldf(wp + 8 * C, masked, m);
  const dwf_v bv = bp ? ldf(bp, masked, m) : vzero();
  const size_t xs = (size_t)S * C;
  int32_t i = 0;
#define TAP1(acc, src)                                                                       \
  acc = vfma(ldf((src), masked, m), w0, acc);                                     \
  acc = vfma(ldf((src) + C, masked, m), w1, acc);                                 \
  acc = vfma(ldf((src) + 2 * C, masked, m), w2, acc);                             \
  acc = vfma(ldf((src) + rs, masked, m), w3, acc);                                \
  acc = vfma(ldf((src) + rs + C, masked, m), w4, acc);                            \
  acc = vfma(ldf((src) + rs + 2 * C, masked, m), w5, acc);                        \
  acc = vfma(ldf((src) + 2 * rs, masked, m), w6, acc);                            \
  acc = vfma(ldf((src) + 2 * rs + C, masked, m), w7, acc);                        \
  acc = vfma(ldf((src) + 2 * rs + 2 * C, masked, m), w8, acc);
  for (; i + 4 <= n_px; i += 4) {
    const float *s0 = x + (size_t)i * xs;
    dwf_v a0 = vzero(), a1 = a0, a2 = a0, a3 = a0;
    /* interleave the four independent chains tap by tap */
    a0 = vfma(ldf(s0, masked, m), w0, a0);
    a1 = vfma(ldf(s0 + xs, masked, m), w0, a1);
    a2 = vfma(ldf(s0 + 2 * xs, masked, m), w0, a2);
    a3 = vfma(ldf(s0 + 3 * xs, masked, m), w0, a3);
#define TAP4(off, w)                                                                         \
  a0 = vfma(ldf(s0 + (off), masked, m), w, a0);                                   \
  a1 = vfma(ldf(s0 + xs + (off), masked, m), w, a1);                              \
  a2 = vfma(ldf(s0 + 2 * xs + (off), masked, m), w, a2);                          \
  a3 = vfma(ldf(s0 + 3 * xs + (off), masked, m), w, a3);
    TAP4(C, w1)
    TAP4(2 * C, w2)
    TAP4(rs, w3)
    TAP4(rs + C, w4)
    TAP4(rs + 2 * C, w5)
    TAP4(2 * rs, w6)
    TAP4(2 * rs + C, w7)
    TAP4(2 * rs + 2 * C, w8)
#undef TAP4
    float *d = o + (size_t)i * C;
    stf(d, finish(a0, bv, lo, hi), masked, m);
    stf(d + C, finish(a1, bv, lo, hi), masked, m);
    stf(d + 2 * C, finish(a2, bv, lo, hi), masked, m);
    stf(d + 3 * C, finish(a3, bv, lo, hi), masked, m);
  }
  for (; i < n_px; i++) {
    const float *s0 = x + (size_t)i * xs;
    dwf_v a0 = vzero();
    TAP1(a0, s0)
    stf(o + (size_t)i * C, finish(a0, bv, lo, hi), masked, m);
  }
#undef TAP1
}

static void f32_3x3_row(const float *x, float *o, int32_t n_px, int32_t C, int32_t in_w, int S,
                        const float *filter, const float *bias, dwf_v lo, dwf_v hi) {
  const size_t rs = (size_t)in_w * C;
  int32_t cb = 0;
  const dwf_m none = vtail(0);
  for (; cb + DWF_L <= C; cb += DWF_L) {
    const float *bp = bias ? bias + cb : NULL;
    if (S == 1) f32_3x3_span(x + cb, o + cb, n_px, C, rs, 1, filter + cb, bp, lo, hi, 0, none);
    else f32_3x3_span(x + cb, o + cb, n_px, C, rs, 2, filter + cb, bp, lo, hi, 0, none);
  }
  if (cb < C) {
    const dwf_m m = vtail(C - cb);
    const float *bp = bias ? bias + cb : NULL;
    f32_3x3_span(x + cb, o + cb, n_px, C, rs, S, filter + cb, bp, lo, hi, 1, m);
  }
}

/* Interior span of any filter through a table of tap offsets (in floats). */
static void f32_generic_span(const float *x, float *o, int32_t n_px, int32_t C, size_t xs,
                             const int64_t *toff, int32_t T, const float *filter,
                             const float *bias, dwf_v lo, dwf_v hi) {
  for (int32_t cb = 0; cb < C; cb += DWF_L) {
    const int masked = C - cb < DWF_L;
    const dwf_m m = vtail(C - cb);
    const dwf_v bv = bias ? ldf(bias + cb, masked, m) : vzero();
    int32_t i = 0;
    for (; i + 2 <= n_px; i += 2) {
      const float *s0 = x + (size_t)i * xs + cb;
      dwf_v a0 = vzero(), a1 = a0;
      for (int32_t t = 0; t < T; t++) {
        const dwf_v w = ldf(filter + (size_t)t * C + cb, masked, m);
        a0 = vfma(ldf(s0 + toff[t], masked, m), w, a0);
        a1 = vfma(ldf(s0 + xs + toff[t], masked, m), w, a1);
      }
      stf(o + (size_t)i * C + cb, finish(a0, bv, lo, hi), masked, m);
      stf(o + (size_t)(i + 1) * C + cb, finish(a1, bv, lo, hi), masked, m);
    }
    for (; i < n_px; i++) {
      const float *s0 = x + (size_t)i * xs + cb;
      dwf_v a0 = vzero();
      for (int32_t t = 0; t < T; t++)
        a0 = vfma(ldf(s0 + toff[t], masked, m), ldf(filter + (size_t)t * C + cb, masked, m), a0);
      stf(o + (size_t)i * C + cb, finish(a0, bv, lo, hi), masked, m);
    }
  }
}

/* ---- depth multiplier 1: zero-padded ring rows --------------------------------------------
 * The KH input rows an output row needs are copied into a ring (on the stack) as
 * ring[group of DWF_L channels][position i][DWF_L], position i <-> input x = x_first + i,
 * zeros outside the image: every output pixel then runs the same FMA sequence, and tap addresses are
 * compile-time displacements from one pointer per filter row. A row is copied when an output
 * row first needs it and reused by the next ones; column tiles and channel blocks keep KH ring
 * rows near 20 KiB, dw_window.h assigns the slots (short rows run in batches).
 * Adding the zero taps changes nothing but the sign of a zero sum, except with non-finite
 * weights (0 * inf): those layers run the per-pixel path, as M > 1 does. */

enum { FRING_FLOATS = 8192, FRING_TARGET = 5120, MAX_KH = 256 };

static int64_t fring_ni(const tc_dwconv2d_params *p, int64_t n) {
  return (n - 1) * p->stride_w + (int64_t)(p->k_w - 1) * p->dilation_w + 1;
}
static int64_t fring_floats(const tc_dwconv2d_params *p, int64_t n, int64_t cw) {
  return (int64_t)p->k_h * fring_ni(p, n) * cw;
}

/* Copies ni positions of image row `row` (NULL: padding, all zeros), channels [c0, c0 + DWF_L ng)
 * (the last group masked to C), into dst[g][i][8]: group by group along long rows, position
 * by position (a position's channels are contiguous in the image) when the groups outnumber
 * the positions. */
static void f32_build(float *dst, const float *row, int64_t x_first, int32_t ni, int32_t in_w,
                      int32_t C, int32_t c0, int32_t ng) {
  int64_t i_lo = x_first >= 0 ? 0 : -x_first, i_hi = (int64_t)in_w - x_first;
  if (!row) i_lo = i_hi = ni;
  if (i_lo > ni) i_lo = ni;
  if (i_hi > ni) i_hi = ni;
  if (i_hi < i_lo) i_hi = i_lo;
  const dwf_v z = vzero_opaque(); /* the few padding stores stay stores, not memset calls */
  const size_t gs = (size_t)ni * DWF_L;
  const int32_t nc_last = C - (c0 + DWF_L * (ng - 1)); /* channels of the last group */
  const int32_t nfull = nc_last >= DWF_L ? ng : ng - 1;
  const dwf_m m = vtail(nc_last);
  if (ng * 4 <= ni) {
    for (int32_t g = 0; g < ng; g++) {
      float *o = dst + g * gs;
      int64_t i = 0;
      for (; i < i_lo; i++) vst(o + i * DWF_L, z);
      const float *src = row ? row + (x_first + i) * C + c0 + DWF_L * g : NULL;
      if (g < nfull)
        for (; i < i_hi; i++, src += C) vst(o + i * DWF_L, vld(src));
      else
        for (; i < i_hi; i++, src += C) vst(o + i * DWF_L, vldm(src, m));
      for (; i < ni; i++) vst(o + i * DWF_L, z);
    }
    return;
  }
  for (int64_t i = 0; i < ni; i++) {
    float *o = dst + i * DWF_L;
    if (i < i_lo || i >= i_hi) {
      for (int32_t g = 0; g < ng; g++) vst(o + g * gs, z);
      continue;
    }
    const float *src = row + (x_first + i) * C + c0;
    int32_t g = 0;
    for (; g + 2 <= nfull; g += 2, src += 2 * DWF_L, o += 2 * gs) {
      const dwf_v a = vld(src), b = vld(src + DWF_L);
      vst(o, a);
      vst(o + gs, b);
    }
    if (g < nfull) vst(o, vld(src)), g++, src += DWF_L, o += gs;
    if (g < ng) vst(o, vldm(src, m));
  }
}

/* Output pixels run as streams (dw_window.h): npx pixels of one tile and channel block that read
 * the same ring rows; pixel p's taps of filter row ky start at rows[ky] + roff[p] bytes (plus
 * the group's offset), its output at o + ooff[p] floats. A row is a stream without tables
 * (pixel p at p * S * DWF_L floats, p * C); short rows are batched through tables. Pixels go 4 at
 * a time, the last 1-3 padded with repeats of the last one (same values stored again). */
typedef struct f32_stream {
  const float *const *rows;     /* KH ring rows, group 0 of the block */
  size_t gs;                    /* floats from one group's ring data to the next */
  float *o;                     /* output of the stream's origin, block's first channel */
  const ptrdiff_t *roff, *ooff; /* NULL: a row */
  int32_t npx;
} f32_stream;

/* Ring (bytes) and output (floats) offsets of pixels p .. p + 3, relative to pixel p0. */
FAI void f32_offsets(const f32_stream *st, int32_t p, int32_t p0, ptrdiff_t px_bytes,
                     ptrdiff_t C, ptrdiff_t q[4], ptrdiff_t o[4], int tab) {
  tc__dw_px_offsets(st->roff, st->ooff, st->npx, p, p0, px_bytes, C, q, o, tab);
}

FAI dwf_v ldb(const char *p) { return vld((const float *)p); }

/* One DWF_L-channel group's pixels of a stream: w the group's weights [KH * KW][DWF_L] (weight
 * stride ws floats), og the stream origin's output at the group, nc its channels. 3x3 (dilation 1,
 * stride 1) keeps the 9 weights in registers with fixed tap displacements. */
FAI void f32_grp(const f32_stream *st, size_t g_off, const float *w, size_t ws, dwf_v bv,
                 float *og, size_t C, int32_t nc, int32_t KH, int32_t KW, int32_t S, int32_t D,
                 dwf_v lo, dwf_v hi, int is3, int tab) {
  const int masked = nc < DWF_L;
  const dwf_m m = vtail(nc);
  const int32_t npx = st->npx;
  const ptrdiff_t pxb = (ptrdiff_t)S * DWF_VB; /* ring bytes per pixel of a row */
  if (is3) {
    const dwf_v w0 = ldf(w, masked, m), w1 = ldf(w + ws, masked, m),
                 w2 = ldf(w + 2 * ws, masked, m), w3 = ldf(w + 3 * ws, masked, m),
                 w4 = ldf(w + 4 * ws, masked, m), w5 = ldf(w + 5 * ws, masked, m),
                 w6 = ldf(w + 6 * ws, masked, m), w7 = ldf(w + 7 * ws, masked, m),
                 w8 = ldf(w + 8 * ws, masked, m);
    const char *s0 = (const char *)(st->rows[0] + g_off);
    const ptrdiff_t d1 = (const char *)(st->rows[1] + g_off) - s0,
                    d2 = (const char *)(st->rows[2] + g_off) - s0;
#define PX(acc, q)                                                                             \
  do {                                                                                         \
    const char *t_ = s0 + (q);                                                                 \
    acc = vmul(ldb(t_), w0);                                                          \
    acc = vfma(ldb(t_ + DWF_VB), w1, acc);                                              \
    acc = vfma(ldb(t_ + 2 * DWF_VB), w2, acc);                                              \
    acc = vfma(ldb(t_ + d1), w3, acc);                                              \
    acc = vfma(ldb(t_ + d1 + DWF_VB), w4, acc);                                         \
    acc = vfma(ldb(t_ + d1 + 2 * DWF_VB), w5, acc);                                         \
    acc = vfma(ldb(t_ + d2), w6, acc);                                              \
    acc = vfma(ldb(t_ + d2 + DWF_VB), w7, acc);                                         \
    acc = vfma(ldb(t_ + d2 + 2 * DWF_VB), w8, acc);                                         \
  } while (0)
#define STEP4(q0, q1, q2, q3, o0, o1, o2, o3)                                                  \
  do {                                                                                         \
    dwf_v a0, a1, a2, a3;                                                                     \
    PX(a0, q0);                                                                                \
    PX(a1, q1);                                                                                \
    PX(a2, q2);                                                                                \
    PX(a3, q3);                                                                                \
    stf(og + (o0), finish(a0, bv, lo, hi), masked, m);                                         \
    stf(og + (o1), finish(a1, bv, lo, hi), masked, m);                                         \
    stf(og + (o2), finish(a2, bv, lo, hi), masked, m);                                         \
    stf(og + (o3), finish(a3, bv, lo, hi), masked, m);                                         \
  } while (0)
    int32_t p = 0;
    if (tab) {
      const ptrdiff_t *ro = st->roff, *oo = st->ooff;
      for (; p < npx; p += 4) /* (tables are padded to whole steps) */
        STEP4(ro[p], ro[p + 1], ro[p + 2], ro[p + 3], oo[p], oo[p + 1], oo[p + 2], oo[p + 3]);
      return;
    }
    const ptrdiff_t c = (ptrdiff_t)C;
    for (; p + 4 <= npx; p += 4, s0 += 4 * pxb, og += 4 * c)
      STEP4(0, pxb, 2 * pxb, 3 * pxb, 0, c, 2 * c, 3 * c);
    if (p < npx) { /* the last 1-3 pixels of a row */
      ptrdiff_t q[4], o[4];
      f32_offsets(st, p, p, pxb, c, q, o, 0);
      STEP4(q[0], q[1], q[2], q[3], o[0], o[1], o[2], o[3]);
    }
#undef STEP4
#undef PX
    return;
  }
  for (int32_t p = 0; p < npx; p += 4) {
    ptrdiff_t q[4], o[4];
    f32_offsets(st, p, 0, pxb, (ptrdiff_t)C, q, o, tab);
    dwf_v a0 = vzero(), a1 = a0, a2 = a0, a3 = a0;
    for (int32_t ky = 0; ky < KH; ky++) {
      const char *t = (const char *)(st->rows[ky] + g_off);
      for (int32_t kx = 0; kx < KW; kx++, t += DWF_VB * D) {
        const dwf_v wv = ldf(w + ((size_t)ky * KW + kx) * ws, masked, m);
        a0 = vfma(ldb(t + q[0]), wv, a0);
        a1 = vfma(ldb(t + q[1]), wv, a1);
        a2 = vfma(ldb(t + q[2]), wv, a2);
        a3 = vfma(ldb(t + q[3]), wv, a3);
      }
    }
    stf(og + o[0], finish(a0, bv, lo, hi), masked, m);
    stf(og + o[1], finish(a1, bv, lo, hi), masked, m);
    stf(og + o[2], finish(a2, bv, lo, hi), masked, m);
    stf(og + o[3], finish(a3, bv, lo, hi), masked, m);
  }
}

/* A stream for the ng groups of a block: filter / bias start at the block's first channel,
 * c_left channels remain from there to the end of the pixel. */
FAI void f32_stream_t(const f32_stream *st, const float *filter, const float *bias, int32_t C,
                      int32_t ng, int32_t c_left, const tc_dwconv2d_params *p, dwf_v lo,
                      dwf_v hi, int is3, int tab) {
  for (int32_t g = 0; g < ng; g++) {
    const int32_t nc = c_left - DWF_L * g < DWF_L ? c_left - DWF_L * g : DWF_L;
    const dwf_m m = vtail(nc);
    const dwf_v bv = bias ? ldf(bias + DWF_L * g, nc < DWF_L, m) : vzero();
    f32_grp(st, (size_t)g * st->gs, filter + DWF_L * g, (size_t)C, bv, st->o + DWF_L * g,
            (size_t)C, nc, p->k_h, p->k_w, p->stride_w, p->dilation_w, lo, hi, is3, tab);
  }
}

static __attribute__((noinline)) void f32_stream_run(const f32_stream *st, const float *filter,
                                                     const float *bias, int32_t C, int32_t ng,
                                                     int32_t c_left,
                                                     const tc_dwconv2d_params *p, int is3,
                                                     dwf_v lo, dwf_v hi) {
  const int tab = st->roff != NULL;
  if (is3) {
    if (tab) f32_stream_t(st, filter, bias, C, ng, c_left, p, lo, hi, 1, 1);
    else f32_stream_t(st, filter, bias, C, ng, c_left, p, lo, hi, 1, 0);
  } else {
    if (tab) f32_stream_t(st, filter, bias, C, ng, c_left, p, lo, hi, 0, 1);
    else f32_stream_t(st, filter, bias, C, ng, c_left, p, lo, hi, 0, 0);
  }
}

static void f32_dw_ring(const tc_dwconv2d_params *p, const float *in, const float *filter,
                        const float *bias, float *out, int32_t row_begin, int32_t row_end) {
  const int32_t C = p->in_c, KH = p->k_h;
  const int32_t G = (C + DWF_L - 1) / DWF_L;
  const int is3 = KH == 3 && p->k_w == 3 && p->dilation_w == 1 && p->stride_w == 1;
  /* channel block (cw) and tile width (tw) of the ring */
  int64_t cw = (int64_t)G * DWF_L;
  /* channel blocks shrink before tiles get narrower than 32 pixels (per-group row overheads) */
  const int32_t twmin = p->out_w < 32 ? p->out_w : 32;
  while (cw > DWF_L && fring_floats(p, twmin, cw) > FRING_TARGET)
    cw = (cw / DWF_L + 1) / 2 * DWF_L;
  int64_t tw = p->out_w;
  if (fring_floats(p, tw, cw) > FRING_TARGET) {
    const int64_t base = fring_floats(p, 1, cw), per_px = (int64_t)KH * p->stride_w * cw;
    tw = base >= FRING_TARGET ? 1 : 1 + (FRING_TARGET - base) / per_px;
  }
  const int64_t n_tiles = (p->out_w + tw - 1) / tw;
  tw = n_tiles ? (p->out_w + n_tiles - 1) / n_tiles : 1;
  const int32_t ng_blk = (int32_t)(cw / DWF_L);
  tc__dw_window win;
  tc__dw_window_plan(&win, KH, p->stride_h, p->dilation_h, tw,
                     FRING_FLOATS / (fring_ni(p, tw) * cw));
  const int32_t nb = win.nb;

  float ring[FRING_FLOATS] __attribute__((aligned(DWF_VB)));
  const float *rows[MAX_KH];
  ptrdiff_t roff[TC_DW_MAX_TPX + 3], ooff[TC_DW_MAX_TPX + 3];
  const dwf_v lo = vset1(p->act_min), hi = vset1(p->act_max);
  const int64_t img_size = (int64_t)p->in_h * p->in_w * C, row_size = (int64_t)p->in_w * C;

  for (int32_t r = row_begin; r < row_end;) {
    const int32_t b = r / p->out_h, oy0 = r % p->out_h;
    const int32_t oy1 = row_end - r < p->out_h - oy0 ? oy0 + (row_end - r) : p->out_h;
    const float *img = in + b * img_size;
    for (int32_t gb = 0; gb < G; gb += ng_blk) {
      const int32_t ng = G - gb < ng_blk ? G - gb : ng_blk;
      for (int64_t ox0 = 0; ox0 < p->out_w; ox0 += tw) {
        const int32_t n = (int32_t)(p->out_w - ox0 < tw ? p->out_w - ox0 : tw);
        const int32_t ni = (int32_t)fring_ni(p, n);
        const size_t slot = (size_t)ni * ng * DWF_L;
        const int64_t x_first = ox0 * p->stride_w - p->pad_left;
        f32_stream st;
        st.rows = rows;
        st.gs = (size_t)ni * DWF_L;
        st.roff = nb > 1 ? roff : NULL;
        st.ooff = nb > 1 ? ooff : NULL;
        if (nb > 1)
          tc__dw_tables(roff, ooff, nb, n, (ptrdiff_t)p->stride_h * (ptrdiff_t)slot * 4,
                        (ptrdiff_t)p->stride_w * DWF_VB, (ptrdiff_t)p->out_w * C, C);
        tc__dw_window_start(&win, (int64_t)oy0 * p->stride_h - p->pad_top);
        for (int32_t oy = oy0; oy < oy1;) {
          const int32_t rows_now = oy1 - oy < nb ? oy1 - oy : nb;
          const int64_t ylo = (int64_t)oy * p->stride_h - p->pad_top;
          tc__dw_window_batch(&win, ring, slot * 4, ylo, rows_now);
          for (int32_t k = 0; k < rows_now; k++)
            for (int32_t ky = 0; ky < KH; ky++) {
              const int32_t y =
                  (int32_t)(ylo + (int64_t)k * p->stride_h + (int64_t)ky * p->dilation_h);
              const int32_t s = tc__dw_window_slot(&win, y, ky);
              float *dst = ring + (size_t)s * slot;
              if (win.tag[s] != y) {
                f32_build(dst, y >= 0 && y < p->in_h ? img + y * row_size : NULL, x_first, ni,
                          p->in_w, C, gb * DWF_L, ng);
                win.tag[s] = y;
              }
              if (k == 0) rows[ky] = dst;
            }
          st.o = out + (((int64_t)b * p->out_h + oy) * p->out_w + ox0) * C + gb * DWF_L;
          st.npx = rows_now * n;
          if (nb > 1) tc__dw_tables_pad(roff, ooff, st.npx);
          f32_stream_run(&st, filter + gb * DWF_L, bias ? bias + gb * DWF_L : NULL, C, ng,
                         C - gb * DWF_L,
                         p, is3, lo, hi);
          oy += rows_now;
        }
      }
    }
    r += oy1 - oy0;
  }
}

static void f32_dw_direct(const tc_dwconv2d_params *p, const float *in, const float *filter,
                          const float *bias, float *out, int32_t row_begin, int32_t row_end) {
  const int32_t T = p->k_h * p->k_w;
  if (T > MAX_TAPS) {
    tc_f32_dwconv__ref.run(p, in, filter, bias, out, row_begin, row_end);
    return;
  }
  if (p->depth_multiplier != 1) { /* every pixel through the gathering per-pixel path */
    const int64_t oc = (int64_t)p->in_c * p->depth_multiplier;
    for (int32_t r = row_begin; r < row_end; r++) {
      const int32_t b = r / p->out_h, oy = r % p->out_h;
      const float *img = in + (int64_t)b * p->in_h * p->in_w * p->in_c;
      for (int32_t ox = 0; ox < p->out_w; ox++)
        f32_pixel(p, img, filter, bias, out + ((int64_t)r * p->out_w + ox) * oc, oy, ox);
    }
    return;
  }
  const int32_t C = p->in_c;
  int32_t ox_lo, ox_hi, oy_lo, oy_hi;
  interior(p->pad_left, p->stride_w, p->k_w, p->dilation_w, p->in_w, p->out_w, &ox_lo, &ox_hi);
  interior(p->pad_top, p->stride_h, p->k_h, p->dilation_h, p->in_h, p->out_h, &oy_lo, &oy_hi);
  const int is3x3 = p->k_h == 3 && p->k_w == 3 && p->dilation_h == 1 && p->dilation_w == 1 &&
                    (p->stride_w == 1 || p->stride_w == 2);
  int64_t toff[MAX_TAPS];
  for (int32_t ky = 0, t = 0; ky < p->k_h; ky++)
    for (int32_t kx = 0; kx < p->k_w; kx++, t++)
      toff[t] = ((int64_t)ky * p->dilation_h * p->in_w + (int64_t)kx * p->dilation_w) * C;
  const dwf_v lo = vset1(p->act_min), hi = vset1(p->act_max);
  const int64_t img_size = (int64_t)p->in_h * p->in_w * C;
  for (int32_t r = row_begin; r < row_end; r++) {
    const int32_t b = r / p->out_h, oy = r % p->out_h;
    const float *img = in + b * img_size;
    float *orow = out + (int64_t)r * p->out_w * C;
    int32_t a = 0, e = 0; /* interior pixels [a, e) of this row */
    if (oy >= oy_lo && oy < oy_hi) a = ox_lo, e = ox_hi;
    for (int32_t ox = 0; ox < a; ox++)
      f32_pixel(p, img, filter, bias, orow + (int64_t)ox * C, oy, ox);
    if (e > a) {
      const int32_t y0 = oy * p->stride_h - p->pad_top, x0 = a * p->stride_w - p->pad_left;
      const float *x = img + ((int64_t)y0 * p->in_w + x0) * C;
      if (is3x3)
        f32_3x3_row(x, orow + (int64_t)a * C, e - a, C, p->in_w, p->stride_w, filter, bias, lo,
                    hi);
      else
        f32_generic_span(x, orow + (int64_t)a * C, e - a, C, (size_t)p->stride_w * C, toff, T,
                         filter, bias, lo, hi);
    }
    for (int32_t ox = e > a ? e : a; ox < p->out_w; ox++)
      f32_pixel(p, img, filter, bias, orow + (int64_t)ox * C, oy, ox);
  }
}

static void DWF_RUN(const tc_dwconv2d_params *p, const float *in, const float *filter,
                    const float *bias, float *out, int32_t row_begin, int32_t row_end) {
  const size_t T = (size_t)p->k_h * p->k_w;
  /* the ring pays its row copies back at stride 1 from 4 output columns on (short rows run
   * in batches); on 3x3 images and smaller the padded rows are ~3x the input, and the direct
   * path's 4-group border pixels win; with stride 2 the ring copies twice the input per
   * output and measured slower on MobileNet (0.8x), so strided layers read the input directly */
  if (p->depth_multiplier == 1 && p->stride_w == 1 && p->out_w >= 4 && T <= MAX_TAPS &&
      p->k_h <= MAX_KH && fring_floats(p, 1, DWF_L) <= FRING_FLOATS &&
      dwf_finite(filter, T * (size_t)p->in_c))
    f32_dw_ring(p, in, filter, bias, out, row_begin, row_end);
  else
    f32_dw_direct(p, in, filter, bias, out, row_begin, row_end);
}

#ifndef DWF_NARROW
#define DWF_NARROW_C 0
#define DWF_NARROW NULL
#endif
tc_f32_dwconv_kernel DWF_CAT(tc_f32_dwconv__, DWF_ISA) = {DWF_NAME, DWF_RUN, DWF_NARROW_C,
                                                          DWF_NARROW};
