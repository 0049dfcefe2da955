/* test_conv_f32.c: the float32 convolution driver (kernels/conv_f32.h) and the segmented
 * (implicit-GEMM) form of the f32 GEMM microkernels. The segmented microkernel is compared with
 * a double-precision oracle (NULL segments, row counts below, at and several times the tile
 * height, partial panels, accumulate, bias, clamps; a row alone gives the bits it gets in a
 * tile); the driver, for every f32 GEMM variant this CPU
 * runs (with and without the segmented form), is compared with tc_f32_conv2d__ref on swept
 * shapes (input channels 1..5 and wider, 1..20 and more output channels, odd sizes, SAME and
 * VALID, strides 1..3, dilation, batch 2, kernels wider than the image, more segments than the
 * driver takes directly), and runs on 2 and 3 threads must give the bits of 1 thread. */
#include <stdlib.h>

#include "core/threadpool.h"
#include "kernels/conv_f32.h"
#include "kernels/gemm.h"
#include "kernels/ref/conv2d.h"
#include "kernels/select.h"
#include "tc_test.h"

static uint64_t g_rng = 0x2545f4914f6cdd1dull;
static uint32_t rnd(void) {
  g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(g_rng >> 33);
}
static int rnd_in(int lo, int hi) { return lo + (int)(rnd() % (uint32_t)(hi - lo + 1)); }
static float rnd_f(void) { return (float)rnd_in(-100000, 100000) / 50000.0f; }

/* The f32 GEMM variants this CPU can run. */
static size_t f32_variants(tc_f32_gemm_kernel **out, size_t cap) {
  size_t n, k = 0;
  const tc_kernel_variant *v = tc_kernel_variants(&n);
  for (size_t i = 0; i < n && k < cap; i++)
    if (!strcmp(v[i].op, "gemm") && !strcmp(v[i].dtype, "f32") &&
        tc_kernel_variant_supported(&v[i]))
      out[k++] = v[i].impl;
  return k;
}

/* ---- the segmented microkernel ---------------------------------------------------------------- */

TC_TEST(kernel_conv_f32_seg_ukernel_vs_oracle) {
  tc_f32_gemm_kernel *ks[8];
  const size_t nk = f32_variants(ks, 8);
  size_t runs = 0, bad = 0;
  enum { MAXR = 48, MAXN = 112, MAXSEG = 5, MAXLEN = 21, LDA = 64 };
  static float a[MAXSEG][MAXR * LDA], b[MAXSEG * MAXLEN * MAXN], bias[MAXN];
  static float c[MAXR * MAXN], c0[MAXR * MAXN], packed[MAXSEG * MAXLEN * (MAXN + 32)];
  for (size_t v = 0; v < nk; v++) {
    tc_f32_gemm_kernel *kr = ks[v];
    if (!kr->run_seg) continue;
    CHECK(kr->mr_narrow == 0 || kr->mr_narrow >= kr->mr);
    for (int it = 0; it < 600; it++) {
      const int nr = kr->nr;
      const int wide = nr * 6 + 5 < MAXN ? nr * 6 + 5 : MAXN;
      const int n = it % 3 == 0 ? rnd_in(1, nr / 2) : rnd_in(1, it % 3 == 1 ? nr * 2 + 3 : wide);
      const int tile = n <= nr / 2 && kr->mr_narrow ? kr->mr_narrow : kr->mr;
      /* a tile, less, or several tiles and a remainder */
      const int rows = it % 4 == 0 ? tile : it % 4 == 1 ? rnd_in(1, tile) : rnd_in(1, 3 * tile + 5);
      const int n_seg = rnd_in(0, MAXSEG), seg_len = rnd_in(1, MAXLEN);
      const int lda = rnd_in(seg_len, LDA), k = n_seg * seg_len;
      const int accumulate = it % 5 == 1, with_bias = it % 3 != 2;
      const float lo = it % 4 == 3 ? 0.0f : -INFINITY, hi = it % 8 == 3 ? 1.5f : INFINITY;
      if (rows > MAXR) continue;
      const float *seg[MAXSEG];
      for (int s = 0; s < n_seg; s++) {
        for (int e = 0; e < MAXR * LDA; e++) a[s][e] = rnd_f();
        seg[s] = rnd() % 4 == 0 ? NULL : a[s];
      }
      /* B as [K, n] (TC_GEMM_B_KN), packed for the kernel */
      for (int e = 0; e < k * n; e++) b[e] = rnd_f();
      for (int j = 0; j < n; j++) bias[j] = rnd_f();
      if (k > 0) tc_f32_gemm_pack_b(kr, n, k, b, (size_t)n, TC_GEMM_B_KN, packed);
      for (int e = 0; e < rows * n; e++) c[e] = c0[e] = rnd_f();
      kr->run_seg((size_t)rows, (size_t)n, (size_t)n_seg, (size_t)seg_len, seg, (size_t)lda,
                  packed, with_bias ? bias : NULL, c, (size_t)n, accumulate, lo, hi);
      runs++;
      /* A row's bits do not depend on how many rows share the call: the last row alone. */
      const float *seg1[MAXSEG];
      float c1[MAXN];
      for (int s = 0; s < n_seg; s++) seg1[s] = seg[s] ? seg[s] + (size_t)(rows - 1) * lda : NULL;
      memcpy(c1, c0 + (rows - 1) * n, (size_t)n * sizeof(float));
      kr->run_seg(1, (size_t)n, (size_t)n_seg, (size_t)seg_len, seg1, (size_t)lda, packed,
                  with_bias ? bias : NULL, c1, (size_t)n, accumulate, lo, hi);
      if (memcmp(c1, c + (rows - 1) * n, (size_t)n * sizeof(float)) && bad++ < 5)
        CHECK_MSG(0, "%s rows=%d n=%d: the last row alone gives other bits", kr->name, rows, n);
      for (int i = 0; i < rows; i++)
        for (int j = 0; j < n; j++) {
          double sum = (accumulate ? c0[i * n + j] : 0.0) + (with_bias ? bias[j] : 0.0);
          double scale = fabs(sum);
          for (int s = 0; s < n_seg; s++) {
            if (!seg[s]) continue;
            for (int t = 0; t < seg_len; t++) {
              const double x = (double)seg[s][i * lda + t] * b[(s * seg_len + t) * n + j];
              sum += x;
              scale += fabs(x);
            }
          }
          if (sum < lo) sum = lo;
          if (sum > hi) sum = hi;
          const double tol = 4.0 * (k + 2) * 1.2e-7 * scale + 1e-30;
          if (!(fabs(c[i * n + j] - sum) <= tol) && bad++ < 5)
            CHECK_MSG(0, "%s rows=%d n=%d segs=%dx%d acc=%d: c[%d][%d] = %.9g, expected %.9g",
                      kr->name, rows, n, n_seg, seg_len, accumulate, i, j, c[i * n + j], sum);
        }
    }
  }
  CHECK_EQ(bad, 0);
  printf("  %zu segmented microkernel runs\n", runs);
}

/* ---- the driver -------------------------------------------------------------------------------- */

/* Geometry with TFLite's SAME / VALID rules. Returns 0 for an empty output. */
static int make_conv(tc_conv2d_params *p, int batch, int h, int w, int ic, int oc, int kh, int kw,
                     int sh, int sw, int dh, int dw, int same) {
  memset(p, 0, sizeof *p);
  p->batch = batch; p->in_h = h; p->in_w = w; p->in_c = ic; p->filter_c = ic; p->out_c = oc;
  p->k_h = kh; p->k_w = kw; p->stride_h = sh; p->stride_w = sw;
  p->dilation_h = dh; p->dilation_w = dw;
  p->act_min = -INFINITY;
  p->act_max = INFINITY;
  const int ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1;
  if (same) {
    p->out_h = (h + sh - 1) / sh;
    p->out_w = (w + sw - 1) / sw;
    const int ph = (p->out_h - 1) * sh + ekh - h, pw = (p->out_w - 1) * sw + ekw - w;
    p->pad_top = ph > 0 ? ph / 2 : 0;
    p->pad_left = pw > 0 ? pw / 2 : 0;
  } else {
    if (h < ekh || w < ekw) return 0;
    p->out_h = (h - ekh) / sh + 1;
    p->out_w = (w - ekw) / sw + 1;
  }
  return p->out_h > 0 && p->out_w > 0;
}

/* Case i of the sweep: small input channel counts and output channel counts around the tile
 * widths, the first-layer shapes (3 channels, 3x3 stride 2), and odd extras. */
static int sweep_case(int i, tc_conv2d_params *p) {
  static const int ics[] = {1, 2, 3, 4, 5, 3, 8, 16, 17, 32};
  static const int ocs[] = {1, 2, 3, 5, 7, 8, 9, 12, 15, 16, 17, 20, 24, 32, 33, 40};
  const int ic = ics[rnd() % 10], oc = ocs[rnd() % 16], same = rnd() % 3 != 0;
  int kh = 3, kw = 3, sh = rnd_in(1, 2), sw = sh, dh = 1, dw = 1;
  switch (i % 8) {
  case 0: break;                                   /* 3x3, stride 1 or 2 */
  case 1: kh = kw = 1; sh = sw = 2; break;         /* 1x1 stride 2 (no im2col, no padding) */
  case 2: kh = 5; kw = 3; sw = rnd_in(1, 3); break; /* uneven filter and strides */
  case 3: dh = rnd_in(1, 3); dw = rnd_in(2, 3); break; /* dilated: one segment per tap */
  case 4: dh = 2; break;                            /* dilated rows only */
  case 5: kh = 1; kw = 7; break;                    /* wide filter */
  case 6: kh = kw = 9; dw = 2; break;               /* 81 segments: every pixel through im2col */
  default: kh = kw = rnd_in(2, 4); sh = rnd_in(1, 3); sw = rnd_in(1, 3); break;
  }
  const int batch = i % 9 == 0 ? 2 : 1;
  return make_conv(p, batch, rnd_in(1, 29), rnd_in(1, 37), ic, oc, kh, kw, sh, sw, dh, dw, same);
}

static size_t numel_in(const tc_conv2d_params *p) {
  return (size_t)p->batch * p->in_h * p->in_w * p->in_c;
}
static size_t numel_out(const tc_conv2d_params *p) {
  return (size_t)p->batch * p->out_h * p->out_w * p->out_c;
}

/* Runs the driver for `p` with every variant (1, 2 and 3 threads) against the reference; returns
 * the number of failures. */
static size_t check_conv(const tc_conv2d_params *p, int with_bias, tc_threadpool *const *pools,
                         const char *what) {
  tc_f32_gemm_kernel *ks[8];
  const size_t nk = f32_variants(ks, 8);
  const size_t k = (size_t)p->k_h * p->k_w * p->in_c, ni = numel_in(p), no = numel_out(p);
  float *in = malloc(ni * 4), *w = malloc((size_t)p->out_c * k * 4), *bias = malloc((size_t)p->out_c * 4);
  float *ref = malloc(no * 4), *out = malloc(no * 4), *out2 = malloc(no * 4);
  float *absin = malloc(ni * 4), *absw = malloc((size_t)p->out_c * k * 4), *absref = malloc(no * 4);
  for (size_t e = 0; e < ni; e++) absin[e] = fabsf(in[e] = rnd_f());
  for (size_t e = 0; e < (size_t)p->out_c * k; e++) absw[e] = fabsf(w[e] = rnd_f());
  for (int j = 0; j < p->out_c; j++) bias[j] = rnd_f();
  tc_f32_conv2d__ref(p, in, w, with_bias ? bias : NULL, ref);
  tc_conv2d_params pa = *p; /* scale of each sum: the conv of |in| and |w| */
  pa.act_min = -INFINITY;
  pa.act_max = INFINITY;
  tc_f32_conv2d__ref(&pa, absin, absw, NULL, absref);
  size_t bad = 0;
  for (size_t v = 0; v < nk; v++) {
    tc_f32_gemm_kernel *kr = ks[v];
    float *packed = aligned_alloc(64, (tc_f32_gemm_packed_b_size(kr, p->out_c, (int32_t)k) + 127) / 64 * 64);
    tc_f32_gemm_pack_b(kr, p->out_c, (int32_t)k, w, k, TC_GEMM_B_NK, packed);
    void *scratch = malloc(tc_f32_conv2d_gemm_scratch_size(kr, p, 3) + 1);
    for (size_t e = 0; e < no; e++) out[e] = NAN;
    tc_f32_conv2d_gemm(kr, NULL, p, in, packed, with_bias ? bias : NULL, out, scratch);
    for (size_t e = 0; e < no; e++) {
      const double tol = 1e-5 * ((double)absref[e] + (with_bias ? fabs(bias[e % p->out_c]) : 0) + 1e-6);
      if (!(fabs((double)out[e] - ref[e]) <= tol)) {
        if (bad++ < 5)
          CHECK_MSG(0, "%s %s: %dx%dx%dx%d -> %d, filter %dx%d, stride %dx%d, dilation %dx%d, pad "
                       "%d/%d: elem %zu = %.9g, expected %.9g", kr->name, what, p->batch,
                    p->in_h, p->in_w, p->in_c, p->out_c, p->k_h, p->k_w, p->stride_h,
                    p->stride_w, p->dilation_h, p->dilation_w, p->pad_top, p->pad_left, e,
                    out[e], ref[e]);
        break;
      }
    }
    for (int t = 0; t < 2; t++) {
      for (size_t e = 0; e < no; e++) out2[e] = NAN;
      tc_f32_conv2d_gemm(kr, pools[t], p, in, packed, with_bias ? bias : NULL, out2, scratch);
      if (memcmp(out, out2, no * 4) && bad++ < 5)
        CHECK_MSG(0, "%s %s: %d threads differ from 1", kr->name, what, t + 2);
    }
    free(scratch);
    free(packed);
  }
  free(in); free(w); free(bias); free(ref); free(out); free(out2); free(absin); free(absw);
  free(absref);
  return bad;
}

TC_TEST(kernel_conv_f32_sweep_vs_ref) {
  tc_threadpool *pools[2] = {tc_threadpool_create(2), tc_threadpool_create(3)};
  size_t bad = 0, cases = 0;
  for (int i = 0; i < 400; i++) {
    tc_conv2d_params p;
    if (!sweep_case(i, &p)) continue;
    if (i % 3 == 1) { p.act_min = 0.0f; p.act_max = i % 2 ? 6.0f : INFINITY; }
    bad += check_conv(&p, i % 4 != 1, pools, "sweep");
    cases++;
  }
  CHECK_EQ(bad, 0);
  CHECK(cases > 300);
  printf("  %zu swept convolutions\n", cases);
  tc_threadpool_destroy(pools[0]);
  tc_threadpool_destroy(pools[1]);
}

/* The benchmark models' layer shapes (first layers with 3 input channels, ResNet-8 blocks),
 * big enough to have many full strips, column blocks and threads. */
TC_TEST(kernel_conv_f32_model_shapes) {
  tc_threadpool *pools[2] = {tc_threadpool_create(2), tc_threadpool_create(3)};
  static const int s[][8] = {
      /* h, w, ic, oc, k, stride, same, batch */
      {224, 224, 3, 8, 3, 2, 1, 1},  {96, 96, 3, 8, 3, 2, 1, 1},   {32, 32, 3, 16, 3, 1, 1, 1},
      {32, 32, 16, 16, 3, 1, 1, 1},  {32, 32, 16, 32, 3, 2, 1, 1}, {16, 16, 32, 64, 3, 2, 1, 1},
      {8, 8, 64, 64, 3, 1, 1, 2},    {33, 31, 5, 20, 3, 2, 0, 1},  {20, 20, 96, 200, 3, 1, 1, 1},
  };
  size_t bad = 0;
  for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
    tc_conv2d_params p;
    CHECK(make_conv(&p, s[i][7], s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][4], s[i][5],
                    s[i][5], 1, 1, s[i][6]));
    p.act_min = 0.0f;
    p.act_max = 6.0f;
    bad += check_conv(&p, 1, pools, "model shape");
  }
  CHECK_EQ(bad, 0);
  tc_threadpool_destroy(pools[0]);
  tc_threadpool_destroy(pools[1]);
}
