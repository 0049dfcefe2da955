/* test_qconv_fast.c: the 8-bit convolution driver of kernels/conv_x8.h (segments read in place,
 * every qgemm variant this CPU runs) bit-exact with tc_s8_conv2d__ref / tc_u8_conv2d__ref, with
 * the filter packed in the driver's segment layout and in one segment, on swept shapes: odd and
 * even channel counts (1, 2, 3, 5, 8, 16, 17, 24, 32, 33), kernels 1x1 .. 10x4, strides,
 * dilation, SAME / VALID padding (windows crossing every edge), batch > 1, outputs below, at and
 * above the 4x16 tile, int8 and uint8, extreme zero points (-128 / 127, 0 / 255), per-channel
 * and per-tensor multipliers including left shifts, fused activation ranges; and 2- and
 * 3-thread runs byte-identical to 1-thread runs. Also the segmented weight packing against the
 * plain oracle (tc_s8_qgemm__ref) through rows given as segments; first layers with 1-4 input
 * channels on their own sweep; the Winograd F(2x2, 3x3) path
 * (kernels/qwino.h, kernels with a wino function) against the reference convolution. */
#include <math.h>
#include <stdlib.h>

#include "core/threadpool.h"
#include "kernels/conv_x8.h"
#include "kernels/qgemm.h"
#include "kernels/qwino.h"
#include "kernels/ref/conv2d_q.h"
#include "kernels/ref/qmath.h"
#include "kernels/select.h"
#include "tc_test.h"

static uint64_t g_rng = 0x243f6a8885a308d3ull;
static uint32_t rnd(void) {
  g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(g_rng >> 33);
}
static int32_t rnd_in(int32_t lo, int32_t hi) {
  return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

static size_t variants(const void **out, size_t cap) {
  size_t n, k = 0;
  const tc_kernel_variant *v = tc_kernel_variants(&n);
  for (size_t i = 0; i < n && k < cap; i++)
    if (!strcmp(v[i].op, "qgemm") && tc_kernel_variant_supported(&v[i])) out[k++] = v[i].impl;
  return k;
}

static void fill8(uint8_t *p, size_t n, int u8, int extreme, int w127) {
  for (size_t i = 0; i < n; i++) {
    int32_t v = u8 ? rnd_in(0, 255) : rnd_in(w127 ? -127 : -128, 127);
    if (extreme && rnd() % 2) v = u8 ? (rnd() % 2 ? 0 : 255) : (rnd() % 2 ? -128 : 127);
    p[i] = (uint8_t)v;
  }
}

typedef struct qset {
  int32_t mult[80], shift[80], bias[80];
  int32_t zi, zo, zw, lo, hi;
} qset;

/* Multipliers from random scales (per channel, or one repeated), some > 1 (left shifts). */
static void make_qset(qset *q, int n, int u8, int ext, int per_tensor) {
  float ws[80], in_s = 0.02f, out_s = (float)rnd_in(5, 300) / 1000.0f;
  for (int j = 0; j < n; j++) ws[j] = per_tensor && j ? ws[0] : (float)rnd_in(1, 1000) / 20000.0f;
  if (rnd() % 5 == 0) out_s = 0.0002f; /* multipliers > 1 */
  CHECK(tc_q_conv_multipliers(in_s, ws, n, out_s, n, q->mult, q->shift));
  for (int j = 0; j < n; j++) q->bias[j] = rnd_in(-60000, 60000);
  q->zi = u8 ? (ext ? (rnd() % 2 ? 0 : 255) : rnd_in(0, 255))
             : (ext ? (rnd() % 2 ? -128 : 127) : rnd_in(-128, 127));
  q->zo = u8 ? rnd_in(0, 255) : (ext ? -128 : rnd_in(-128, 127));
  q->zw = u8 ? (ext ? 255 * (int32_t)(rnd() % 2) : rnd_in(0, 255)) : 0;
  q->lo = u8 ? 0 : -128;
  q->hi = u8 ? 255 : 127;
  switch (rnd() % 4) {
  case 0: q->lo = q->zo; break;                                   /* RELU */
  case 1: q->lo = q->zo; q->hi = q->zo + 40 < q->hi ? q->zo + 40 : q->hi; break; /* RELU6-like */
  default: break;
  }
}

typedef struct cshape {
  int batch, h, w, c, oc, kh, kw, sh, sw, dh, dw, same;
} cshape;

static int geometry(const cshape *s, tc_conv2d_params *p) {
  memset(p, 0, sizeof *p);
  p->batch = s->batch; p->in_h = s->h; p->in_w = s->w; p->in_c = s->c; p->filter_c = s->c;
  p->out_c = s->oc; p->k_h = s->kh; p->k_w = s->kw; p->stride_h = s->sh; p->stride_w = s->sw;
  p->dilation_h = s->dh; p->dilation_w = s->dw;
  const int ekh = (s->kh - 1) * s->dh + 1, ekw = (s->kw - 1) * s->dw + 1;
  if (s->same) {
    p->out_h = (s->h + s->sh - 1) / s->sh;
    p->out_w = (s->w + s->sw - 1) / s->sw;
    const int ph = (p->out_h - 1) * s->sh + ekh - s->h, pw = (p->out_w - 1) * s->sw + ekw - s->w;
    p->pad_top = ph > 0 ? ph / 2 : 0;
    p->pad_left = pw > 0 ? pw / 2 : 0;
  } else {
    if (s->h < ekh || s->w < ekw) return 0;
    p->out_h = (s->h - ekh) / s->sh + 1;
    p->out_w = (s->w - ekw) / s->sw + 1;
  }
  p->act_min = -INFINITY;
  p->act_max = INFINITY;
  return 1;
}

/* One case: every variant, both packings, 1/2/3 threads; returns the number of mismatches. */
static int run_case(const cshape *s, int u8, int ext, tc_threadpool *const *pools, int *ran) {
  tc_conv2d_params p;
  if (!geometry(s, &p)) return 0;
  const void *kv[8];
  const size_t nk = variants(kv, 8);
  const size_t k = (size_t)s->kh * s->kw * s->c;
  const size_t nin = (size_t)s->batch * s->h * s->w * s->c;
  const size_t nout = (size_t)p.batch * p.out_h * p.out_w * p.out_c;
  qset q;
  make_qset(&q, s->oc, u8, ext, rnd() % 3 == 0);
  uint8_t *in = malloc(nin), *w = malloc((size_t)s->oc * k), *ref = malloc(nout);
  uint8_t *out = malloc(nout);
  fill8(in, nin, u8, ext, 0);
  fill8(w, (size_t)s->oc * k, u8, ext, 0);
  const int with_bias = rnd() % 5 != 0;
  tc_q_requant rq = {-q.zi, -q.zw, q.zo, q.mult, q.shift, q.lo, q.hi};
  if (u8)
    tc_u8_conv2d__ref(&p, &rq, in, w, with_bias ? q.bias : NULL, ref);
  else
    tc_s8_conv2d__ref(&p, &rq, (const int8_t *)in, (const int8_t *)w, with_bias ? q.bias : NULL,
                      (int8_t *)ref);
  int bad = 0;
  for (size_t v = 0; v < nk; v++) {
    tc_s8_qgemm_kernel *kr = kv[v];
    for (int layout = 0; layout < 2; layout++) {
      const int32_t n_seg = layout ? tc_x8_conv2d_n_seg(&p) : 1;
      if (layout && n_seg == 1) continue;
      /* m_hint as CONV_2D packs it: one output pixel packs the weights as bytes for gemv */
      tc_qgemm_weights qw = {w, k, u8, u8 ? -q.zw : 0, -q.zi, with_bias ? q.bias : NULL, q.mult,
                             q.shift, q.zo, q.lo, q.hi, u8, n_seg,
                             p.batch * p.out_h * p.out_w};
      tc_s8_qgemm_kernel *kf = tc_qgemm_kernel_fit(kr, s->oc, (int32_t)k, &qw);
      void *buf = malloc(tc_qgemm_packed_size_seg(kf, s->oc, (int32_t)k, n_seg));
      const tc_qgemm_packed *pk = tc_qgemm_pack(kf, s->oc, (int32_t)k, &qw, buf);
      CHECK(pk != NULL);
      if (!pk) { free(buf); continue; }
      void *scratch = malloc(tc_x8_conv2d_scratch_size(pk, &p, u8, 3));
      for (int t = 0; t < 3; t++) {
        memset(out, 0x5a, nout);
        tc_x8_conv2d(pk, t ? pools[t - 1] : NULL, &p, in, u8, q.zi, out, scratch);
        (*ran)++;
        if (memcmp(out, ref, nout)) {
          if (bad++ < 3)
            CHECK_MSG(0, "%s n_seg=%d threads=%d u8=%d: %dx%dx%dx%d k%dx%d s%dx%d d%dx%d %s oc %d "
                      "differs",
                      kr->name, (int)n_seg, t + 1, u8, s->batch, s->h, s->w, s->c, s->kh, s->kw,
                      s->sh, s->sw, s->dh, s->dw, s->same ? "SAME" : "VALID", s->oc);
        }
      }
      free(scratch);
      free(buf);
    }
  }
  free(in); free(w); free(ref); free(out);
  return bad;
}

static void sweep(int u8) {
  tc_threadpool *pools[2] = {tc_threadpool_create(2), tc_threadpool_create(3)};
  static const int chans[] = {1, 2, 3, 5, 8, 16, 17, 24, 32, 33};
  static const int outs[] = {1, 3, 8, 9, 16, 17, 24, 32, 33, 64, 80};
  static const int kern[][2] = {{1, 1}, {3, 3}, {3, 3}, {5, 3}, {10, 4}, {1, 3}, {2, 2}, {7, 1}};
  int bad = 0, ran = 0;
  for (int i = 0; i < 220; i++) {
    cshape s;
    const int kk = i % 8;
    s.kh = kern[kk][0];
    s.kw = kern[kk][1];
    s.c = chans[rnd() % 10];
    s.oc = outs[rnd() % 11];
    s.batch = i % 9 == 0 ? 2 : 1;
    s.sh = 1 + (int)(rnd() % 2);
    s.sw = rnd() % 3 == 0 ? 3 - s.sh : s.sh;
    s.dh = s.dw = 1;
    if (i % 7 == 3) s.dh = 2;
    if (i % 11 == 5) s.dw = 2;
    s.same = (i / 2) % 2 == 0;
    s.h = rnd_in(1, 14);
    s.w = rnd_in(1, 13);
    if (kk == 4) { s.h = rnd_in(8, 20); s.w = rnd_in(4, 10); } /* kws-like 10x4 */
    bad += run_case(&s, u8, i % 4 == 1, pools, &ran);
  }
  /* Model-like layers: first layers with 3 channels, kws's 1-channel 10x4 stride 2, ResNet 3x3. */
  static const cshape model[] = {
      {1, 32, 32, 3, 16, 3, 3, 1, 1, 1, 1, 1},  {1, 40, 40, 3, 8, 3, 3, 2, 2, 1, 1, 1},
      {1, 49, 10, 1, 64, 10, 4, 2, 2, 1, 1, 1}, {1, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1},
      {1, 16, 16, 16, 32, 3, 3, 2, 2, 1, 1, 1}, {1, 9, 9, 64, 24, 3, 3, 1, 1, 1, 1, 0},
  };
  for (size_t i = 0; i < sizeof model / sizeof *model; i++)
    bad += run_case(&model[i], u8, (int)(i % 2), pools, &ran);
  CHECK_EQ(bad, 0);
  CHECK(ran > 1000);
  printf("  %d %s conv runs\n", ran, u8 ? "uint8" : "int8");
  tc_threadpool_destroy(pools[0]);
  tc_threadpool_destroy(pools[1]);
}

TC_TEST(kernel_qconv_fast_s8) { sweep(0); }
TC_TEST(kernel_qconv_fast_u8) { sweep(1); }

/* First layers: 1-4 input channels (segments of a few bytes, odd lengths whose last pair reads
 * one value past the segment), 3x3 / 10x4 / 5x5 / 2x2 / 1x3 / 7x1 filters, strides 1 and 2,
 * SAME / VALID, rows wider than a 64-row block, tiny images (one output pixel: the one-row
 * gemv packing), batch 2, dilation, extreme zero points; the padded (and, with run_i16,
 * widened) view of conv_x8.c. */
static void first_layer_sweep(int u8) {
  tc_threadpool *pools[2] = {tc_threadpool_create(2), tc_threadpool_create(3)};
  static const int kern[][2] = {{3, 3}, {10, 4}, {5, 5}, {2, 2}, {1, 3}, {7, 1}};
  static const int outs[] = {1, 8, 16, 17, 32, 64};
  int bad = 0, ran = 0;
  for (int i = 0; i < 96; i++) {
    cshape s;
    const int kk = i % 6;
    s.kh = kern[kk][0];
    s.kw = kern[kk][1];
    s.c = 1 + (i / 6) % 4;
    s.oc = outs[rnd() % 6];
    s.batch = i % 10 == 3 ? 2 : 1;
    s.sh = 1 + (int)(rnd() % 2);
    s.sw = rnd() % 4 == 0 ? 3 - s.sh : s.sh;
    s.dh = i % 9 == 4 ? 2 : 1;
    s.dw = i % 13 == 6 ? 2 : 1;
    s.same = (i / 3) % 2 == 0;
    s.h = rnd_in(1, 16);
    s.w = i % 8 == 0 ? rnd_in(60, 140) : rnd_in(1, 14); /* rows wider than a block */
    if (i % 8 == 5) s.h = s.w = rnd_in(1, 3); /* one output pixel (gemv packing) */
    if (kk == 1) { s.h = rnd_in(10, 49); s.w = rnd_in(4, 12); } /* kws-like */
    bad += run_case(&s, u8, i % 3 == 1, pools, &ran);
  }
  CHECK_EQ(bad, 0);
  printf("  %d %s first-layer conv runs\n", ran, u8 ? "uint8" : "int8");
  tc_threadpool_destroy(pools[0]);
  tc_threadpool_destroy(pools[1]);
}

TC_TEST(kernel_qconv_fast_first_s8) { first_layer_sweep(0); }
TC_TEST(kernel_qconv_fast_first_u8) { first_layer_sweep(1); }

/* Segmented packing through the plain GEMM interface: rows given as segs_fn segments of a
 * plain matrix, against the unpacked oracle, for odd and even segment lengths. */
typedef struct segctx {
  const uint8_t *a;
  size_t k, n_seg, seg_len;
} segctx;
static void segs_of_matrix(const void *ctx, size_t i, size_t n, char *buf, size_t stride,
                           const void **segs) {
  const segctx *c = ctx;
  (void)buf;
  (void)stride;
  for (size_t r = 0; r < n; r++)
    for (size_t s = 0; s < c->n_seg; s++)
      segs[r * c->n_seg + s] = c->a + (i + r) * c->k + s * c->seg_len;
}

/* One case of the GEMM tests on segments: random requantization (q), A (m x k) and weights
 * (n x k) of n_seg segments of seg_len, packed for kr or its fit (*buf: the packing, for the
 * caller to free); NULL (a failed check, nothing to free) if the packing fails. */
static const tc_qgemm_packed *seg_case(tc_s8_qgemm_kernel *kr, int u8, int m, int n, int n_seg,
                                       int seg_len, qset *q, uint8_t *a, uint8_t *w,
                                       tc_qgemm_weights *qw, void **buf) {
  const int k = n_seg * seg_len;
  make_qset(q, n, u8, (int)(rnd() % 2), rnd() % 3 == 0);
  fill8(a, (size_t)m * k, u8, 1, 0);
  fill8(w, (size_t)n * k, u8, 1, 0);
  const tc_qgemm_weights qv = {w,       (size_t)k, u8,   u8 ? -q->zw : 0, -q->zi, q->bias,
                               q->mult, q->shift,  q->zo, q->lo,          q->hi,  u8,
                               n_seg};
  *qw = qv;
  tc_s8_qgemm_kernel *kf = tc_qgemm_kernel_fit(kr, n, k, qw);
  *buf = malloc(tc_qgemm_packed_size_seg(kf, n, k, n_seg));
  const tc_qgemm_packed *pk = tc_qgemm_pack(kf, n, k, qw, *buf);
  CHECK(pk != NULL);
  if (!pk) free(*buf);
  return pk;
}

TC_TEST(kernel_qconv_fast_segments_vs_oracle) {
  const void *kv[8];
  const size_t nk = variants(kv, 8);
  static const int segs[][2] = {{1, 1}, {3, 1}, {2, 3}, {3, 9}, {4, 5}, {10, 4}, {2, 16}, {3, 17},
                                {2, 40}, {5, 7}, {1, 33}};
  static const int ms[] = {1, 3, 4, 7, 13};
  static const int ns[] = {1, 8, 9, 16, 31, 40};
  uint8_t a[13 * 80], w[40 * 80], out[13 * 40], ref[13 * 40];
  int bad = 0, ran = 0, plain = 0;
  for (size_t v = 0; v < nk; v++)
    for (int u8 = 0; u8 < 2; u8++)
      for (size_t si = 0; si < sizeof segs / sizeof *segs; si++)
        for (size_t mi = 0; mi < 5; mi++)
          for (size_t ni = 0; ni < 6; ni++) {
            tc_s8_qgemm_kernel *kr = kv[v];
            const int n_seg = segs[si][0], seg_len = segs[si][1], k = n_seg * seg_len;
            const int m = ms[mi], n = ns[ni];
            qset q;
            tc_qgemm_weights qw;
            void *buf;
            const tc_qgemm_packed *pk = seg_case(kr, u8, m, n, n_seg, seg_len, &q, a, w, &qw, &buf);
            if (!pk) continue;
            plain += pk->cols.plain;
            void *scratch = malloc(tc_qgemm_scratch_size(pk, 1));
            segctx sc = {a, (size_t)k, (size_t)n_seg, (size_t)seg_len};
            tc_qgemm_a src = {u8, NULL, 0, NULL, &sc, segs_of_matrix};
            memset(out, 0xa5, sizeof out);
            tc_qgemm(pk, NULL, m, &src, out, (size_t)n, scratch);
            tc_s8_qgemm__ref(m, n, k, a, (size_t)k, u8, &qw, ref, (size_t)n);
            ran++;
            if (memcmp(out, ref, (size_t)m * n) && bad++ < 3)
              CHECK_MSG(0, "%s u8=%d m=%d n=%d segments %dx%d differ", kr->name, u8, m, n, n_seg,
                        seg_len);
            free(scratch);
            free(buf);
          }
  CHECK_EQ(bad, 0);
  CHECK(plain > 0 && plain < ran); /* both requantization forms ran */
  printf("  %d segmented qgemm cases (%d with the short requantization)\n", ran, plain);
}

/* Rows read in place (qgemm.h run_view, kernels that have it) against the plain oracle: each
 * row's segments seg_step elements apart in a view buffer whose elements past every segment are
 * random (a segment's last group reads them; their weights are zero, and kgroup 4 row sums must
 * leave them out): int16 values for kgroup 2, bytes for kgroup 4 (int8 ones flipped). */
typedef struct viewctx {
  const char *v;
  size_t row_step, es;
} viewctx;
static void view_of_rows(const void *ctx, size_t i, size_t n, const void **rows) {
  const viewctx *c = ctx;
  for (size_t r = 0; r < n; r++) rows[r] = c->v + (i + r) * c->row_step * c->es;
}

TC_TEST(kernel_qconv_fast_view_vs_oracle) {
  const void *kv[8];
  const size_t nk = variants(kv, 8);
  /* (one segment of up to 32 bytes, or 3 of 9 into at most 16 columns: the VNNI kernel's
   * weights-stationary panels for float-stage layers, rows 4 at a time in blocks of 64) */
  static const int segs[][2] = {{1, 1}, {3, 1}, {2, 3}, {3, 9}, {4, 5}, {10, 4}, {2, 16}, {3, 17},
                                {2, 40}, {5, 7}, {1, 33}, {3, 48}, {1, 96}, {1, 3}, {1, 8},
                                {1, 16}, {1, 24}, {1, 29}, {1, 32}};
  static const int ms[] = {1, 3, 8, 13, 70};
  static const int ns[] = {1, 9, 16, 31, 40};
  enum { MAXM = 70, MAXK = 160, GAP = 5 };
  static uint8_t a[MAXM * MAXK], w[40 * MAXK], out[MAXM * 40], ref[MAXM * 40];
  static int16_t view[MAXM * (MAXK + 16 * GAP) + 16];
  int bad = 0, ran = 0, u8_sums = 0, with_view = 0, ws = 0, float_stage = 0;
  for (size_t v = 0; v < nk; v++) {
    tc_s8_qgemm_kernel *kr0 = kv[v];
    if (!kr0->run_view) continue;
    float_stage |= kr0->float_stage;
    with_view++;
    for (int u8 = 0; u8 < 2; u8++)
      for (size_t si = 0; si < sizeof segs / sizeof *segs; si++)
        for (size_t mi = 0; mi < 5; mi++)
          for (size_t ni = 0; ni < 5; ni++) {
            const int n_seg = segs[si][0], seg_len = segs[si][1], k = n_seg * seg_len;
            const int m = ms[mi], n = ns[ni];
            qset q;
            tc_qgemm_weights qw;
            void *buf;
            const tc_qgemm_packed *pk =
                seg_case(kr0, u8, m, n, n_seg, seg_len, &q, a, w, &qw, &buf);
            if (!pk) continue;
            tc_s8_qgemm_kernel *kr = pk->kr;
            if (!kr->run_view) {
              free(buf);
              continue;
            }
            /* the view: segment s of row i at (i * row_step + s * seg_step) elements */
            const size_t g = (size_t)(kr->kgroup == 4 ? 4 : 2), seg_step = (size_t)seg_len + GAP;
            const size_t row_step = (size_t)n_seg * seg_step, es = g == 4 ? 1 : 2;
            uint8_t *vb = (uint8_t *)view;
            for (size_t e = 0; e < (size_t)m * row_step + 16; e++) {
              if (es == 1) vb[e] = (uint8_t)rnd();
              else view[e] = (int16_t)rnd_in(-300, 300);
            }
            for (int i = 0; i < m; i++)
              for (int s = 0; s < n_seg; s++)
                for (int t = 0; t < seg_len; t++) {
                  const uint8_t x = a[(size_t)i * k + (size_t)s * seg_len + t];
                  const size_t e = (size_t)i * row_step + (size_t)s * seg_step + (size_t)t;
                  if (es == 1) vb[e] = u8 ? x : (uint8_t)(x ^ 0x80);
                  else view[e] = u8 ? (int16_t)x : (int16_t)(int8_t)x;
                }
            CHECK(pk->kp == n_seg * (int32_t)(((size_t)seg_len + g - 1) / g));
            void *scratch = malloc(tc_qgemm_scratch_size(pk, 1));
            viewctx vc = {(const char *)view, row_step, es};
            tc_qgemm_a src = {u8, NULL, 0, NULL, &vc, NULL, 0, view_of_rows, seg_step};
            memset(out, 0xa5, sizeof out);
            tc_qgemm(pk, NULL, m, &src, out, (size_t)n, scratch);
            tc_s8_qgemm__ref(m, n, k, a, (size_t)k, u8, &qw, ref, (size_t)n);
            ran++;
            u8_sums += pk->cols.a_sum_mult != 0;
            ws += kr->float_stage && pk->cols.fq &&
                  ((n_seg == 1 && seg_len <= 32) || (n_seg == 3 && seg_len == 9 && n <= 16));
            if (memcmp(out, ref, (size_t)m * n) && bad++ < 3)
              CHECK_MSG(0, "%s u8=%d m=%d n=%d view segments %dx%d fq=%d differ", kr->name, u8, m,
                        n, n_seg, seg_len, pk->cols.fq);
            free(scratch);
            free(buf);
          }
  }
  CHECK_EQ(bad, 0);
  CHECK(ran > 0 || !with_view); /* (no variant reads a view on Arm) */
  CHECK(ws >= 40 || !float_stage);
  printf("  %d in-place view qgemm cases (%d with kgroup 4 row sums, %d on weights-stationary "
         "panels) over %d variants\n",
         ran, u8_sums, ws, with_view);
}

/* The short requantization (tc_qgemm_cols.plain: no left shift, right shifts 1..22, |acc| <
 * 2^30; the output offset folded into its rounding constant) on accumulators that land in and
 * around the output range, at rounding ties and one off them: m = 1 row... 4 rows of A = (1, 0)
 * and zero weights, so column j's accumulator is its bias; multipliers with few bits (ties
 * happen) and random ones, every right shift 1..22 (plain) in even rounds, 1..31 in odd ones
 * (plain only if no column shifts by more than 22), output offsets over the whole range, with
 * the type's whole range or RELU. */
TC_TEST(kernel_qconv_fast_short_requant_ties) {
  const void *kv[8];
  const size_t nk = variants(kv, 8);
  enum { N = 64 };
  int8_t a[4 * 2] = {1, 0, 1, 0, 1, 0, 1, 0}, w[N * 2];
  memset(w, 0, sizeof w);
  int bad = 0, ran = 0, n_plain = 0;
  for (size_t v = 0; v < nk; v++)
    for (int round = 0; round < 200; round++) {
      tc_s8_qgemm_kernel *kr = kv[v];
      int32_t mult[N], shift[N], bias[N];
      const int u8 = round / 2 % 2, max_shift = round % 2 ? 31 : 22;
      int expect_plain = 1;
      const int32_t zo = u8 ? rnd_in(0, 255) : rnd_in(-128, 127);
      for (int j = 0; j < N; j++) {
        static const int32_t few_bits[] = {1 << 30, 3 << 28, 5 << 27, (1 << 30) + 1, 0x7fffffff,
                                           0x40000001, 1, 0};
        mult[j] = rnd() % 2 ? few_bits[rnd() % 8] : (int32_t)(rnd() & 0x7fffffff);
        shift[j] = -rnd_in(1, max_shift);
        expect_plain &= -shift[j] <= 22;
        /* an accumulator whose result is t (around the output range), rounded from a tie */
        /* (t - 1/2) * 2^s / m, exact where m is a power of two times a few bits */
        const int t = rnd_in(-400, 400), s = 31 - shift[j];
        long double b = mult[j] ? floorl(ldexpl((long double)(2 * t - 1), s - 1) / mult[j])
                                : (long double)rnd_in(-9, 9);
        b += rnd_in(-2, 2);
        if (b > (1 << 30) - 8) b = (1 << 30) - 8;
        if (b < -(1 << 30) + 8) b = -(1 << 30) + 8;
        bias[j] = (int32_t)b;
      }
      /* every third round RELU (the range starts at the output offset): the short form then
       * skips its x < 0 term (tc_qgemm_cols.neg_term); every third one starts just below it,
       * where skipping the term would store zo for some zo - 1 */
      const int32_t lo_t = u8 ? 0 : -128;
      const int32_t lo = round % 3 == 0 ? zo : round % 3 == 1 && zo > lo_t ? zo - 1 : lo_t;
      const int relu = lo >= zo;
      tc_qgemm_weights qw = {w, 2, 0, 0, 0, bias, mult, shift, zo, lo, u8 ? 255 : 127, u8, 1, 0};
      tc_s8_qgemm_kernel *kf = tc_qgemm_kernel_fit(kr, N, 2, &qw);
      void *buf = malloc(tc_qgemm_packed_size(kf, N, 2));
      const tc_qgemm_packed *pk = tc_qgemm_pack(kf, N, 2, &qw, buf);
      CHECK(pk != NULL);
      if (!pk) { free(buf); continue; }
      CHECK_EQ(pk->cols.plain, expect_plain);
      CHECK_EQ(pk->cols.neg_term, !relu);
      n_plain += pk->cols.plain;
      void *scratch = malloc(tc_qgemm_scratch_size(pk, 1));
      uint8_t out[4 * N], ref[4 * N];
      const int m = 1 + round % 4;
      tc_qgemm_a src = {0, a, 2, NULL, NULL};
      tc_qgemm(pk, NULL, m, &src, out, N, scratch);
      tc_s8_qgemm__ref(m, N, 2, a, 2, 0, &qw, ref, N);
      ran++;
      if (memcmp(out, ref, (size_t)m * N) && bad++ < 3)
        CHECK_MSG(0, "%s: short requantization differs (round %d)", kr->name, round);
      free(scratch);
      free(buf);
    }
  CHECK_EQ(bad, 0);
  CHECK(n_plain >= ran / 2); /* every even round, at least */
  printf("  %d requantization cases at ties (%d on the short form)\n", ran, n_plain);
}

/* Packing refuses a segment count that does not divide K. */
TC_TEST(kernel_qconv_fast_pack_refuses_bad_segments) {
  int8_t w[2 * 9] = {0};
  int32_t mult[2] = {1 << 30, 1 << 30}, shift[2] = {0, 0};
  tc_qgemm_weights qw = {w, 9, 0, 0, 0, NULL, mult, shift, 0, -128, 127, 0, 2};
  char buf[4096];
  CHECK(tc_qgemm_pack(NULL, 2, 9, &qw, buf) == NULL);
  qw.n_seg = 3;
  CHECK(tc_qgemm_packed_size_seg(NULL, 2, 9, 3) <= sizeof buf);
  CHECK(tc_qgemm_pack(NULL, 2, 9, &qw, buf) != NULL);
}

/* Weights packed for one row (m_hint 1: byte weights and kr->gemv where the kernel has one):
 * rows 1, 2 and 5 (more rows than hinted still work) against the oracle, odd and even K,
 * segments, int8 and uint8 with weight offsets, wrapping biases, 1 and 2 threads. */
TC_TEST(kernel_qconv_fast_gemv_vs_oracle) {
  const void *kv[8];
  const size_t nk = variants(kv, 8);
  tc_threadpool *pool = tc_threadpool_create(2);
  static const int ks[][2] = {{1, 1},  {1, 7}, {1, 16},  {1, 33},
                              {1, 64}, {3, 9}, {2, 250}, {1, 1280}};
  static const int ns[] = {1, 7, 8, 12, 16, 17, 40, 80};
  static const int ms[] = {1, 2, 5};
  uint8_t *a = malloc(5 * 1280), *w = malloc(80 * 1280), out[5 * 80], out2[5 * 80], ref[5 * 80];
  int bad = 0, ran = 0, byte_packed = 0;
  for (size_t v = 0; v < nk; v++)
    for (int u8 = 0; u8 < 2; u8++)
      for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++)
        for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++) {
          tc_s8_qgemm_kernel *kr = kv[v];
          const int n_seg = ks[ki][0], k = n_seg * ks[ki][1], n = ns[ni];
          const int m = ms[(ki + ni) % 3];
          qset q;
          make_qset(&q, n, u8, (int)(rnd() % 2), (int)(rnd() % 2));
          if (rnd() % 4 == 0) q.bias[0] = INT32_MAX - 5; /* wraps */
          const int32_t w_off = u8 ? -q.zw : (rnd() % 3 == 0 ? rnd_in(-20, 20) : 0);
          fill8(a, (size_t)m * k, u8, 1, 0);
          fill8(w, (size_t)n * k, u8, 1, 0);
          tc_qgemm_weights qw = {w, (size_t)k, u8, w_off, -q.zi, q.bias, q.mult, q.shift, q.zo,
                                 q.lo, q.hi, u8, n_seg, 1};
          tc_s8_qgemm_kernel *kf = tc_qgemm_kernel_fit(kr, n, k, &qw);
          void *buf = malloc(tc_qgemm_packed_size_seg(kf, n, k, n_seg));
          const tc_qgemm_packed *pk = tc_qgemm_pack(kf, n, k, &qw, buf);
          CHECK(pk != NULL);
          if (!pk) { free(buf); continue; }
          byte_packed += pk->b8 != NULL;
          void *scratch = malloc(tc_qgemm_scratch_size(pk, 2));
          tc_qgemm_a src = {u8, a, (size_t)k, NULL, NULL, NULL, 0};
          tc_qgemm(pk, NULL, m, &src, out, (size_t)n, scratch);
          tc_qgemm(pk, pool, m, &src, out2, (size_t)n, scratch);
          tc_s8_qgemm__ref(m, n, k, a, (size_t)k, u8, &qw, ref, (size_t)n);
          ran++;
          if ((memcmp(out, ref, (size_t)m * n) || memcmp(out2, ref, (size_t)m * n)) && bad++ < 3)
            CHECK_MSG(0, "%s u8=%d m=%d n=%d k=%dx%d w_off=%d differs", kr->name, u8, m, n,
                      n_seg, k / n_seg, (int)w_off);
          free(scratch);
          free(buf);
        }
  CHECK_EQ(bad, 0);
#if defined(__x86_64__)
  if (tc_s8_qgemm_default_kernel()->gemv) CHECK(byte_packed > 0);
#endif
  printf("  %d one-row cases (%d with byte weights)\n", ran, byte_packed);
  free(a);
  free(w);
  tc_threadpool_destroy(pool);
}

/* Winograd 3x3 stride 1 (every variant with a wino function) vs the reference convolution: odd
 * and even channel counts and output sizes (partial tiles), SAME and VALID, batch 2, several
 * blocks, int8 / uint8 with extreme zero points and weights, 1-3 threads. */
static void wino_sweep(int u8) {
  const void *kv[8];
  const size_t nk = variants(kv, 8);
  tc_threadpool *pools[2] = {tc_threadpool_create(2), tc_threadpool_create(3)};
  static const int chans[] = {1, 2, 3, 5, 8, 16, 17, 32, 33, 64};
  static const int outs[] = {1, 7, 8, 16, 17, 24, 33, 64};
  int bad = 0, ran = 0;
  for (int i = 0; i < 90; i++) {
    cshape s = {1 + (i % 7 == 0), rnd_in(1, 19), rnd_in(1, 18), chans[rnd() % 10],
                outs[rnd() % 8], 3, 3, 1, 1, 1, 1, (i / 2) % 2 == 0};
    if (i == 0) { s.h = 32; s.w = 32; s.c = 16; s.oc = 16; s.same = 1; } /* ResNet8-like */
    if (i == 1) { s.h = 8; s.w = 8; s.c = 64; s.oc = 64; s.same = 1; }
    tc_conv2d_params p;
    if (!geometry(&s, &p)) continue;
    const int ext = i % 4 == 1;
    const size_t k = 9 * (size_t)s.c, nin = (size_t)s.batch * s.h * s.w * s.c;
    const size_t nout = (size_t)p.batch * p.out_h * p.out_w * p.out_c;
    qset q;
    make_qset(&q, s.oc, u8, ext, rnd() % 3 == 0);
    uint8_t *in = malloc(nin), *w = malloc((size_t)s.oc * k), *ref = malloc(nout);
    uint8_t *out = malloc(nout);
    fill8(in, nin, u8, ext, 0);
    fill8(w, (size_t)s.oc * k, u8, ext, 0);
    const int with_bias = rnd() % 5 != 0;
    tc_q_requant rq = {-q.zi, -q.zw, q.zo, q.mult, q.shift, q.lo, q.hi};
    if (u8)
      tc_u8_conv2d__ref(&p, &rq, in, w, with_bias ? q.bias : NULL, ref);
    else
      tc_s8_conv2d__ref(&p, &rq, (const int8_t *)in, (const int8_t *)w, with_bias ? q.bias : NULL,
                        (int8_t *)ref);
    for (size_t v = 0; v < nk; v++) {
      tc_s8_qgemm_kernel *kr = kv[v];
      if (!kr->wino) continue;
      tc_qgemm_weights qw = {w, k, u8, u8 ? -q.zw : 0, -q.zi, with_bias ? q.bias : NULL, q.mult,
                             q.shift, q.zo, q.lo, q.hi, u8, 1, 0};
      void *buf = malloc(tc_qwino_packed_size(&p));
      const tc_qwino_packed *pk = tc_qwino_pack(kr, &p, &qw, buf);
      CHECK(pk != NULL);
      if (!pk) { free(buf); continue; }
      void *scratch = malloc(tc_qwino_scratch_size(pk, 3));
      for (int t = 0; t < 3; t++) {
        memset(out, 0x5a, nout);
        tc_qwino_conv2d(pk, t ? pools[t - 1] : NULL, &p, in, u8, q.zi, out, scratch);
        ran++;
        if (memcmp(out, ref, nout) && bad++ < 3)
          CHECK_MSG(0, "%s wino threads=%d u8=%d: %dx%dx%dx%d %s oc %d differs", kr->name, t + 1,
                    u8, s.batch, s.h, s.w, s.c, s.same ? "SAME" : "VALID", s.oc);
      }
      free(scratch);
      free(buf);
    }
    free(in); free(w); free(ref); free(out);
  }
  CHECK_EQ(bad, 0);
  printf("  %d %s Winograd runs\n", ran, u8 ? "uint8" : "int8");
  tc_threadpool_destroy(pools[0]);
  tc_threadpool_destroy(pools[1]);
}

TC_TEST(kernel_qconv_fast_wino_s8) { wino_sweep(0); }
TC_TEST(kernel_qconv_fast_wino_u8) { wino_sweep(1); }

/* The exactness bound: 4096 channels of extreme uint8 weights cannot be summed in int32 after
 * the transform, so pack refuses (the direct path runs); other shapes do not apply. */
TC_TEST(kernel_qconv_fast_wino_refuses) {
  tc_conv2d_params p;
  cshape s = {1, 4, 4, 4096, 1, 3, 3, 1, 1, 1, 1, 1};
  CHECK(geometry(&s, &p));
  CHECK(tc_qwino_applicable(&p));
  uint8_t *w = malloc(9 * 4096);
  memset(w, 255, 9 * 4096);
  int32_t mult = 1 << 30, shift = -8, bias = 0;
  tc_qgemm_weights qw = {w, 9 * 4096, 1, -0, -128, &bias, &mult, &shift, 0, 0, 255, 1, 1, 0};
  void *buf = malloc(tc_qwino_packed_size(&p));
  const tc_qgemm_packed *none = NULL;
  (void)none;
  CHECK(tc_qwino_pack(NULL, &p, &qw, buf) == NULL);
  free(buf);
  free(w);
  s.sh = 2;
  CHECK(geometry(&s, &p));
  CHECK(!tc_qwino_applicable(&p));
}
