/* dwconv_f32_impl.h: the float32 depthwise kernel (slot f32_dwconv of vec_ops.h) as a template
 * on the vector width: DEPTHWISE_CONV_2D, NHWC, any filter size, stride, dilation and depth
 * multiplier, vectorised over channels, DWF_L per register. dwconv_avx2.c instantiates it with
 * ymm (8 lanes), dwconv_f32_avx512.c with zmm (16). Three paths:
 *  - 3x3 in place (depth multiplier 1, stride 1 or 2 and dilation 1 along x: MobileNet's layers):
 *    taps read straight from the image rows, 4 pixels per step with the 9 weights in
 *    registers, edge pixels with their outside taps skipped (f32_dw3 below);
 *  - ring (other filters at depth multiplier 1, stride 1, outputs at least 4 columns wide,
 *    finite weights):
 *    the input rows a filter needs are copied once into zero-padded ring rows laid out per
 *    DWF_L-channel group, so every output pixel runs the same FMA sequence (4 pixels per
 *    step); short rows run in batches, several output rows as one pixel stream (dw_window.h);
 *  - direct (everything else): each output row is cut into a left border, an interior where
 *    every tap lies inside the image (tap offset table, 2 pixels at a time), and a right
 *    border; border pixels skip out-of-image taps as the reference does, and depth multipliers
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
 * stride ws floats), og the stream origin's output at the group, nc its channels. */
FAI void f32_grp(const f32_stream *st, size_t g_off, const float *w, size_t ws, dwf_v bv,
                 float *og, size_t C, int32_t nc, int32_t KH, int32_t KW, int32_t S, int32_t D,
                 dwf_v lo, dwf_v hi, int tab) {
  const int masked = nc < DWF_L;
  const dwf_m m = vtail(nc);
  const int32_t npx = st->npx;
  const ptrdiff_t pxb = (ptrdiff_t)S * DWF_VB; /* ring bytes per pixel of a row */
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
                      dwf_v hi, int tab) {
  for (int32_t g = 0; g < ng; g++) {
    const int32_t nc = c_left - DWF_L * g < DWF_L ? c_left - DWF_L * g : DWF_L;
    const dwf_m m = vtail(nc);
    const dwf_v bv = bias ? ldf(bias + DWF_L * g, nc < DWF_L, m) : vzero();
    f32_grp(st, (size_t)g * st->gs, filter + DWF_L * g, (size_t)C, bv, st->o + DWF_L * g,
            (size_t)C, nc, p->k_h, p->k_w, p->stride_w, p->dilation_w, lo, hi, tab);
  }
}

static __attribute__((noinline)) void f32_stream_run(const f32_stream *st, const float *filter,
                                                     const float *bias, int32_t C, int32_t ng,
                                                     int32_t c_left,
                                                     const tc_dwconv2d_params *p, dwf_v lo,
                                                     dwf_v hi) {
  if (st->roff) f32_stream_t(st, filter, bias, C, ng, c_left, p, lo, hi, 1);
  else f32_stream_t(st, filter, bias, C, ng, c_left, p, lo, hi, 0);
}

static void f32_dw_ring(const tc_dwconv2d_params *p, const float *in, const float *filter,
                        const float *bias, float *out, int32_t row_begin, int32_t row_end) {
  const int32_t C = p->in_c, KH = p->k_h;
  const int32_t G = (C + DWF_L - 1) / DWF_L;
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
                         C - gb * DWF_L, p, lo, hi);
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
      f32_generic_span(x, orow + (int64_t)a * C, e - a, C, (size_t)p->stride_w * C, toff, T,
                       filter, bias, lo, hi);
    }
    for (int32_t ox = e > a ? e : a; ox < p->out_w; ox++)
      f32_pixel(p, img, filter, bias, orow + (int64_t)ox * C, oy, ox);
  }
}

/* ---- 3x3, stride 1 or 2 and dilation 1 along x, depth multiplier 1: rows read in place -------
 * Each output pixel reads its taps straight from the image: no ring copy (copying a row cost
 * about a quarter of a ring layer's time on Zen 4, more than the loads it saved). Taps outside
 * the image are skipped, as the reference skips them, so any weights (inf, NaN) are fine:
 *  - rows: RM says which of the 3 filter rows lie inside the image; the common masks (all,
 *    top missing, bottom missing) are compiled in, others run d3_px_any pixel by pixel;
 *  - columns: interior pixels (all 3 columns inside) go 4 at a time, their taps at multiples
 *    of the position stride from 3 row pointers; the edge pixel of each padded side (left:
 *    column 0 outside, right: column 2 outside) runs with its compiled column mask; rows with
 *    more than one edge pixel a side (images narrower than the filter) go pixel by pixel.
 * Summation as everywhere in this file: valid taps in (ky, kx) order from 0 (the first one a
 * multiply), then the bias, then the clamp.
 * Loop order: channel blocks, column tiles, output rows, groups; at stride 1 blocks and tiles
 * keep the 3 input rows they read (D3_TARGET bytes at most) in L1 from one output row to the
 * next (f32_dw3_s). */

enum { D3_TARGET = 24576 };

/* NP pixels of one group: pixel j's tap (ky, kx) at r[ky] + (kx - KX0 + j * S) * cb bytes, KX0
 * the first column in the column mask CM (r[ky] is only read where row ky is in RM). RM and CM
 * are never 0 here (d3_px_any takes the other masks). */
FAI void d3_px(dwf_v *a, const int NP, const char *const r[3], const int S, ptrdiff_t cb,
               const dwf_v *w, const int RM, const int CM, const int MASKED, dwf_m m) {
  const int KX0 = CM & 1 ? 0 : CM & 2 ? 1 : 2;
  int first = 1;
#pragma GCC unroll 3
  for (int ky = 0; ky < 3; ky++)
#pragma GCC unroll 3
    for (int kx = 0; kx < 3; kx++) {
      if (!(RM >> ky & 1) || !(CM >> kx & 1)) continue;
#pragma GCC unroll 4
      for (int j = 0; j < NP; j++) {
        const dwf_v x = ldf((const float *)(r[ky] + (kx - KX0 + j * S) * cb), MASKED, m);
        a[j] = first ? vmul(x, w[3 * ky + kx]) : vfma(x, w[3 * ky + kx], a[j]);
      }
      first = 0;
    }
}

/* One pixel of one group with any row and column masks (weights from memory, stride ws). */
static dwf_v d3_px_any(const char *t, const ptrdiff_t d[3], ptrdiff_t cb, const float *w,
                       size_t ws, unsigned rm, unsigned cm, int masked, dwf_m m) {
  dwf_v a = vzero();
  int first = 1;
  for (int ky = 0; ky < 3; ky++)
    for (int kx = 0; kx < 3; kx++) {
      if (!(rm >> ky & 1) || !(cm >> kx & 1)) continue;
      const dwf_v x = ldf((const float *)(t + (d[ky] + kx * cb)), masked, m);
      const dwf_v wv = ldf(w + (size_t)(3 * ky + kx) * ws, masked, m);
      a = first ? vmul(x, wv) : vfma(x, wv, a);
      first = 0;
    }
  return a;
}

typedef struct d3_geo {
  int32_t in_w, pad_left, xa, xe; /* xa, xe: interior output columns */
  ptrdiff_t cb;                    /* bytes per input position (C floats) */
} d3_geo;

/* Column mask of output column x: bit kx set where input column x * S - pad + kx exists. */
FAI unsigned d3_cm(const d3_geo *g, int32_t x, int S) {
  const int32_t x0 = x * S - g->pad_left;
  unsigned cm = 0;
  for (int kx = 0; kx < 3; kx++)
    if (x0 + kx >= 0 && x0 + kx < g->in_w) cm |= 1u << kx;
  return cm;
}

/* Output columns [x0, x1) of one group: rows (bytes, at the group's first channel) r0 with row
 * deltas d, output o at column 0 of the group. */
FAI void d3_grp(const d3_geo *g, const char *r0, const ptrdiff_t d[3], float *o, size_t C,
                int32_t x0, int32_t x1, const float *w, dwf_v bv, dwf_v lo, dwf_v hi,
                const int S, const int RM, const int MASKED, dwf_m m, unsigned rm) {
  const ptrdiff_t cb = g->cb;
  const int32_t xa = g->xa < x0 ? x0 : g->xa > x1 ? x1 : g->xa;
  const int32_t xe = g->xe > x1 ? x1 : g->xe < xa ? xa : g->xe;
  if (RM == 0 || xe <= xa || xa - x0 > 1 || x1 - xe > 1) {
    /* images narrower than the filter, unusual masks: pixel by pixel */
    for (int32_t x = x0; x < x1; x++) {
      const ptrdiff_t off = ((ptrdiff_t)x * S - g->pad_left) * cb;
      const ptrdiff_t dd[3] = {d[0] + off, d[1] + off, d[2] + off};
      const dwf_v a =
          d3_px_any(r0, dd, cb, w, C, RM ? (unsigned)RM : rm, d3_cm(g, x, S), MASKED, m);
      stf(o + (size_t)x * C, finish(a, bv, lo, hi), MASKED, m);
    }
    return;
  }
  dwf_v wr[9];
#pragma GCC unroll 9
  for (int k = 0; k < 9; k++) wr[k] = ldf(w + (size_t)k * C, MASKED, m);
  /* the row's rows at input column c (c >= 0) */
#define D3_AT(rr, c)                                                                          \
  const ptrdiff_t rr##_o = (ptrdiff_t)(c) * cb;                                               \
  const char *rr[3] = {RM & 1 ? r0 + (d[0] + rr##_o) : r0, RM & 2 ? r0 + (d[1] + rr##_o) : r0, \
                       RM & 4 ? r0 + (d[2] + rr##_o) : r0}
  /* edge pixels (at most one each side): column 0 outside on the left, column 2 on the right */
  for (int32_t x = x0; x < x1; x++) {
    if (x == xa) x = xe; /* (the interior runs below) */
    if (x >= x1) break;
    const unsigned cm = d3_cm(g, x, S);
    dwf_v a[1];
    if (cm == 6) {
      D3_AT(r, (ptrdiff_t)x * S - g->pad_left + 1);
      d3_px(a, 1, r, S, cb, wr, RM, 6, MASKED, m);
    } else if (cm == 3) {
      D3_AT(r, (ptrdiff_t)x * S - g->pad_left);
      d3_px(a, 1, r, S, cb, wr, RM, 3, MASKED, m);
    } else {
      const ptrdiff_t off = ((ptrdiff_t)x * S - g->pad_left) * cb;
      const ptrdiff_t dd[3] = {d[0] + off, d[1] + off, d[2] + off};
      a[0] = d3_px_any(r0, dd, cb, w, C, (unsigned)RM, cm, MASKED, m);
    }
    stf(o + (size_t)x * C, finish(a[0], bv, lo, hi), MASKED, m);
  }
  /* interior: 4 pixels per step, the last step ending at xe (overlapping the one before it
   * where the count is not a multiple of 4: those pixels are stored again, same values);
   * rows of 1-3 interior pixels in one step of that many */
  if (xe - xa < 4) {
    D3_AT(r, (ptrdiff_t)xa * S - g->pad_left);
    dwf_v a[3];
    const int32_t n = xe - xa;
    if (n == 3) d3_px(a, 3, r, S, cb, wr, RM, 7, MASKED, m);
    else if (n == 2) d3_px(a, 2, r, S, cb, wr, RM, 7, MASKED, m);
    else d3_px(a, 1, r, S, cb, wr, RM, 7, MASKED, m);
    for (int32_t j = 0; j < n; j++)
      stf(o + (size_t)(xa + j) * C, finish(a[j], bv, lo, hi), MASKED, m);
    return;
  }
  for (int32_t x = xa;; x += 4) {
    if (x > xe - 4) x = xe - 4;
    D3_AT(r, (ptrdiff_t)x * S - g->pad_left);
    dwf_v a[4];
    d3_px(a, 4, r, S, cb, wr, RM, 7, MASKED, m);
    float *ox = o + (size_t)x * C;
#pragma GCC unroll 4
    for (int j = 0; j < 4; j++) stf(ox + (size_t)j * C, finish(a[j], bv, lo, hi), MASKED, m);
    if (x == xe - 4) break;
  }
#undef D3_AT
}

/* One group of one output row: the row mask and the group's masking as compile-time cases. */
FAI void d3_rows(const d3_geo *g, const char *r0, const ptrdiff_t d[3], float *o, size_t C,
                 int32_t x0, int32_t x1, const float *w, dwf_v bv, dwf_v lo, dwf_v hi,
                 const int S, const int MASKED, dwf_m m, unsigned rm) {
  if (rm == 7) d3_grp(g, r0, d, o, C, x0, x1, w, bv, lo, hi, S, 7, MASKED, m, rm);
  else if (rm == 6) d3_grp(g, r0, d, o, C, x0, x1, w, bv, lo, hi, S, 6, MASKED, m, rm);
  else if (rm == 3) d3_grp(g, r0, d, o, C, x0, x1, w, bv, lo, hi, S, 3, MASKED, m, rm);
  else d3_grp(g, r0, d, o, C, x0, x1, w, bv, lo, hi, S, 0, MASKED, m, rm);
}

FAI void f32_dw3_s(const tc_dwconv2d_params *p, const float *in, const float *filter,
                   const float *bias, float *out, int32_t row_begin, int32_t row_end,
                   const int S) {
  const int32_t C = p->in_c, G = (C + DWF_L - 1) / DWF_L;
  d3_geo g;
  g.in_w = p->in_w, g.pad_left = p->pad_left, g.cb = (ptrdiff_t)C * (ptrdiff_t)sizeof(float);
  interior(p->pad_left, S, 3, 1, p->in_w, p->out_w, &g.xa, &g.xe);
  /* Stride 1: the next output row reads two of these three input rows again, so they should
   * stay in L1: channel blocks shrink first (down to one group), then rows are cut into column
   * tiles. Stride 2 shares one row of three: rows run whole, all groups (blocks and tiles
   * measured slower there, 112x112x96: 104 against 94 us). */
  int32_t ngb = G;
  int64_t tw = p->out_w;
  if (S == 1) {
    while (ngb > 1 && 3 * (tw + 2) * ngb * DWF_VB > D3_TARGET) ngb = (ngb + 1) / 2;
    if (3 * (tw + 2) * ngb * DWF_VB > D3_TARGET) {
      tw = (int64_t)D3_TARGET / (3 * (int64_t)ngb * DWF_VB) - 2;
      if (tw < 4) tw = 4;
      const int64_t n_tiles = (p->out_w + tw - 1) / tw;
      tw = (p->out_w + n_tiles - 1) / n_tiles;
    }
  }
  const dwf_v lo = vset1(p->act_min), hi = vset1(p->act_max);
  const int64_t img_size = (int64_t)p->in_h * p->in_w * C;
  const ptrdiff_t row_bytes = (ptrdiff_t)p->in_w * g.cb;
  for (int32_t gb = 0; gb < G; gb += ngb) {
    const int32_t ge = G - gb < ngb ? G : gb + ngb;
    for (int64_t x0 = 0; x0 < p->out_w; x0 += tw) {
      const int32_t x1 = (int32_t)(p->out_w - x0 < tw ? p->out_w : x0 + tw);
      for (int32_t r = row_begin; r < row_end; r++) {
        const int32_t b = r / p->out_h, oy = r % p->out_h;
        const char *img = (const char *)(in + b * img_size);
        const int32_t y0 = oy * p->stride_h - p->pad_top;
        unsigned rm = 0;
        ptrdiff_t d[3];
        for (int ky = 0; ky < 3; ky++) {
          const int32_t y = y0 + ky * p->dilation_h;
          d[ky] = 0;
          if (y >= 0 && y < p->in_h) d[ky] = (ptrdiff_t)y * row_bytes, rm |= 1u << ky;
        }
        float *orow = out + (int64_t)r * p->out_w * C;
        for (int32_t gi = gb; gi < ge; gi++) {
          const int32_t c = gi * DWF_L, nc = C - c < DWF_L ? C - c : DWF_L;
          const char *r0 = img + (size_t)c * sizeof(float);
          if (nc == DWF_L) {
            const dwf_m none = vtail(0);
            const dwf_v bv = bias ? vld(bias + c) : vzero();
            d3_rows(&g, r0, d, orow + c, (size_t)C, (int32_t)x0, x1, filter + c, bv, lo, hi,
                    S, 0, none, rm);
          } else {
            const dwf_m m = vtail(nc);
            const dwf_v bv = bias ? vldm(bias + c, m) : vzero();
            d3_rows(&g, r0, d, orow + c, (size_t)C, (int32_t)x0, x1, filter + c, bv, lo, hi,
                    S, 1, m, rm);
          }
        }
      }
    }
  }
}

static void f32_dw3(const tc_dwconv2d_params *p, const float *in, const float *filter,
                    const float *bias, float *out, int32_t row_begin, int32_t row_end) {
  if (p->stride_w == 1) f32_dw3_s(p, in, filter, bias, out, row_begin, row_end, 1);
  else f32_dw3_s(p, in, filter, bias, out, row_begin, row_end, 2);
}

static void DWF_RUN(const tc_dwconv2d_params *p, const float *in, const float *filter,
                    const float *bias, float *out, int32_t row_begin, int32_t row_end) {
  const size_t T = (size_t)p->k_h * p->k_w;
  if (p->depth_multiplier == 1 && p->k_h == 3 && p->k_w == 3 && p->dilation_w == 1 &&
      (p->stride_w == 1 || p->stride_w == 2)) {
    f32_dw3(p, in, filter, bias, out, row_begin, row_end);
    return;
  }
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
