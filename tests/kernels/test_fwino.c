/* test_fwino.c: the float32 Winograd F(2x2, 3x3) and F(4x4, 3x3) convolution (kernels/fwino.h)
 * against tc_f32_conv2d__ref, for every f32 GEMM variant this CPU runs (with and without the
 * segmented form) and every block function it runs (portable, AVX2, AVX-512). Swept shapes: sizes
 * 1..13 and larger (below, at and above the 2x2 and 4x4 tiles, one and several blocks),
 * SAME and VALID, input / output channels 1..40 (below, at and above the 4 and 8 channel
 * vectors and the 8 / 16 column panels), batch 2, bias or none, activations none / RELU /
 * RELU6. Runs on 2 and 3 threads and with the other block function must give the same bits as
 * 1 thread; writes stay inside the output and the scratch.
 *
 * Tolerance: |out - ref| <= tol * (S + |bias|), S = sum of |input| * |tap| over the output's
 * products, tol = 1e-5 for F(2x2) and 2e-5 for F(4x4). Both results round the same sum
 * differently: the reference 9 * in_c times in order, Winograd through the transforms, whose
 * sums mix 16 (36) patch pixels with weights up to 1 (F(4x4): 5) and the taps with weights
 * 1/2 (1/24 .. 1/4) before the GEMM's in_c-long sums, and the products with weights up to 1
 * (8) after them: terms well above S, more so for F(4x4), each rounded a few times (2^-24).
 * Measured worst here: ~5e-7 * S for F(2x2) and ~6e-6 * S for F(4x4) (with 2 input channels,
 * where S has 18 products but the transforms mix 36 pixels; ~2e-6 from 16 channels), the
 * direct path ~1.5e-7. A wrong coefficient in a transform gives errors of the order of S. */
#include <stdlib.h>

#include "core/threadpool.h"
#include "kernels/cpu.h"
#include "kernels/fwino.h"
#include "kernels/gemm.h"
#include "kernels/ref/conv2d.h"
#include "kernels/select.h"
#include "tc_test.h"

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
  g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(g_rng >> 33);
}
static int rnd_in(int lo, int hi) { return lo + (int)(rnd() % (uint32_t)(hi - lo + 1)); }
static float rnd_f(void) { return (float)rnd_in(-100000, 100000) / 50000.0f; }

enum { GUARD = 64 }; /* floats of canary after the output and bytes after the scratch */
static const float CANARY = 12345.5f;

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

/* The Winograd block functions (transforms) this CPU can run, the portable one first. */
static size_t wino_variants(tc_f32_wino_kernel **out, size_t cap) {
  size_t n, k = 1;
  const tc_kernel_variant *v = tc_kernel_variants(&n);
  out[0] = &tc_f32_wino__ref;
  for (size_t i = 0; i < n && k < cap; i++)
    if (!strcmp(v[i].op, "wino") && !strcmp(v[i].dtype, "f32") && v[i].impl != out[0] &&
        tc_kernel_variant_supported(&v[i]))
      out[k++] = v[i].impl;
  return k;
}

/* 3x3 stride 1 geometry, TFLite's SAME / VALID. Returns 0 for an empty output. */
static int make_conv(tc_conv2d_params *p, int batch, int h, int w, int ic, int oc, int same) {
  memset(p, 0, sizeof *p);
  p->batch = batch; p->in_h = h; p->in_w = w; p->in_c = ic; p->filter_c = ic; p->out_c = oc;
  p->k_h = p->k_w = 3; p->stride_h = p->stride_w = 1; p->dilation_h = p->dilation_w = 1;
  p->act_min = -INFINITY;
  p->act_max = INFINITY;
  if (same) {
    p->out_h = h;
    p->out_w = w;
    p->pad_top = p->pad_left = 1;
  } else {
    p->out_h = h - 2;
    p->out_w = w - 2;
  }
  return p->out_h > 0 && p->out_w > 0;
}

/* Runs every variant and both tiles on p against the reference; returns the number of
 * failures. maxerr[0] / [1] get the largest |out - ref| / (S + |bias|) of F(2x2) / F(4x4). */
static size_t check_conv(const tc_conv2d_params *p, int with_bias, tc_threadpool *const *pools,
                         double *maxerr) {
  tc_f32_gemm_kernel *ks[8];
  const size_t nk = f32_variants(ks, 8);
  const size_t k = 9 * (size_t)p->in_c, nw = (size_t)p->out_c * k;
  const size_t ni = (size_t)p->batch * p->in_h * p->in_w * p->in_c;
  const size_t no = (size_t)p->batch * p->out_h * p->out_w * p->out_c;
  float *in = malloc(ni * 4), *w = malloc(nw * 4), *bias = malloc((size_t)p->out_c * 4);
  float *ref = malloc(no * 4), *out = malloc((no + GUARD) * 4), *out2 = malloc((no + GUARD) * 4);
  float *absin = malloc(ni * 4), *absw = malloc(nw * 4), *absref = malloc(no * 4);
  for (size_t e = 0; e < ni; e++) absin[e] = fabsf(in[e] = rnd_f());
  for (size_t e = 0; e < nw; e++) absw[e] = fabsf(w[e] = rnd_f());
  for (int j = 0; j < p->out_c; j++) bias[j] = rnd_f();
  tc_f32_conv2d__ref(p, in, w, with_bias ? bias : NULL, ref);
  tc_conv2d_params pa = *p; /* S of each output: the conv of |in| and |w| */
  pa.act_min = -INFINITY;
  pa.act_max = INFINITY;
  tc_f32_conv2d__ref(&pa, absin, absw, NULL, absref);
  tc_f32_wino_kernel *wks[4];
  const size_t nwk = wino_variants(wks, 4);
  CHECK(nwk >= 1 && tc_kernels()->f32_wino != NULL);
  size_t bad = 0;
  for (size_t v = 0; v < 2 * nk; v++) {
    tc_f32_gemm_kernel *kr = ks[v / 2];
    const int m = v % 2 ? 4 : 2;
    const size_t psize = tc_f32_wino_packed_size(kr, m, p);
    CHECK(psize > 0);
    char *buf = malloc(psize + 1), *buf2 = malloc(psize + 1);
    const tc_f32_wino_packed *pk = tc_f32_wino_pack(kr, wks[0], m, p, w, buf + 1);
    CHECK(pk != NULL);
    if (!pk) { bad++; free(buf); free(buf2); continue; }
    /* (the scratch does not depend on the block function) */
    const size_t ssize = tc_f32_wino_scratch_size(pk, 3);
    unsigned char *scratch = malloc(ssize + GUARD + 1);
    memset(scratch + 1 + ssize, 0xA5, GUARD);
    for (size_t e = 0; e < no + GUARD; e++) out[e] = e < no ? NAN : CANARY;
    tc_f32_wino_conv2d(pk, NULL, p, in, with_bias ? bias : NULL, out, scratch + 1);
    for (size_t e = 0; e < no; e++) {
      const double sc = (double)absref[e] + (with_bias ? fabs(bias[e % p->out_c]) : 0) + 1e-30;
      const double err = fabs((double)out[e] - ref[e]);
      if (err / sc > maxerr[m == 4]) maxerr[m == 4] = err / sc;
      if (!(err <= (m == 4 ? 2e-5 : 1e-5) * sc)) {
        if (bad++ < 5)
          CHECK_MSG(0, "%s/%s: %dx%dx%dx%d -> %d, pad %d, act [%g, %g]: elem %zu = %.9g, "
                       "expected %.9g", kr->name, pk->name, p->batch, p->in_h, p->in_w,
                    p->in_c, p->out_c, p->pad_top, p->act_min, p->act_max, e, out[e], ref[e]);
        break;
      }
    }
    /* other thread counts and the other block functions: the same bits */
    for (size_t t = 0; t < 1 + nwk; t++) {
      const tc_f32_wino_packed *pk2 =
          t < 2 ? pk : tc_f32_wino_pack(kr, wks[t - 1], m, p, w, buf2 + 1);
      CHECK(pk2 != NULL);
      if (!pk2) { bad++; continue; }
      CHECK(tc_f32_wino_scratch_size(pk2, 3) == ssize);
      for (size_t e = 0; e < no + GUARD; e++) out2[e] = e < no ? NAN : CANARY;
      tc_f32_wino_conv2d(pk2, t < 2 ? pools[t] : NULL, p, in, with_bias ? bias : NULL, out2,
                         scratch + 1);
      if (memcmp(out, out2, no * 4) && bad++ < 5)
        CHECK_MSG(0, "%s/%s %dx%dx%dx%d -> %d: %s differs", kr->name, pk->name, p->batch,
                  p->in_h, p->in_w, p->in_c, p->out_c,
                  t == 0 ? "2 threads" : t == 1 ? "3 threads" : pk2->name);
      for (size_t e = no; e < no + GUARD; e++)
        if (out[e] != CANARY || out2[e] != CANARY) {
          if (bad++ < 5) CHECK_MSG(0, "%s: write past the output", kr->name);
          break;
        }
    }
    for (size_t e = 0; e < GUARD; e++)
      if (scratch[1 + ssize + e] != 0xA5) {
        if (bad++ < 5) CHECK_MSG(0, "%s: write past the scratch", kr->name);
        break;
      }
    free(scratch);
    free(buf);
    free(buf2);
  }
  free(in); free(w); free(bias); free(ref); free(out); free(out2); free(absin); free(absw);
  free(absref);
  return bad;
}

TC_TEST(kernel_fwino_sweep_vs_ref) {
  tc_threadpool *pools[2] = {tc_threadpool_create(2), tc_threadpool_create(3)};
  static const int chans[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 33, 40};
  size_t bad = 0, cases = 0;
  double maxerr[2] = {0, 0};
  for (int i = 0; i < 300; i++) {
    tc_conv2d_params p;
    const int big = i % 5 == 0;
    const int h = big ? rnd_in(10, 40) : rnd_in(1, 13), w = big ? rnd_in(10, 40) : rnd_in(1, 13);
    const int ic = chans[rnd() % 16], oc = chans[rnd() % 16], same = i % 3 != 0;
    if (!make_conv(&p, i % 7 == 0 ? 2 : 1, h, w, ic, oc, same)) continue;
    if (i % 3 == 1) { p.act_min = 0.0f; p.act_max = i % 2 ? 6.0f : INFINITY; }
    bad += check_conv(&p, i % 4 != 1, pools, maxerr);
    cases++;
  }
  CHECK_EQ(bad, 0);
  CHECK(cases > 200);
  printf("  %zu swept convolutions, max error of the sum of |products|: F(2x2) %.2e, "
         "F(4x4) %.2e\n", cases, maxerr[0], maxerr[1]);
  tc_threadpool_destroy(pools[0]);
  tc_threadpool_destroy(pools[1]);
}

/* The benchmark models' 3x3 stride-1 layers (ResNet-8) and wider ones: several blocks per
 * thread, channels past the blocking. */
TC_TEST(kernel_fwino_model_shapes) {
  tc_threadpool *pools[2] = {tc_threadpool_create(2), tc_threadpool_create(3)};
  static const int s[][6] = {
      /* h, w, ic, oc, same, batch */
      {32, 32, 16, 16, 1, 1}, {16, 16, 32, 32, 1, 1}, {8, 8, 64, 64, 1, 2},
      {20, 20, 96, 200, 1, 1}, {15, 17, 130, 7, 0, 1}, {6, 6, 256, 24, 1, 1},
  };
  size_t bad = 0;
  double maxerr[2] = {0, 0};
  for (size_t i = 0; i < sizeof s / sizeof s[0]; i++) {
    tc_conv2d_params p;
    CHECK(make_conv(&p, s[i][5], s[i][0], s[i][1], s[i][2], s[i][3], s[i][4]));
    p.act_min = 0.0f;
    p.act_max = 6.0f;
    bad += check_conv(&p, 1, pools, maxerr);
  }
  CHECK_EQ(bad, 0);
  printf("  max error of the sum of |products|: F(2x2) %.2e, F(4x4) %.2e\n", maxerr[0],
         maxerr[1]);
  tc_threadpool_destroy(pools[0]);
  tc_threadpool_destroy(pools[1]);
}

/* Shapes the path does not take, and non-finite filters (0 * inf from the padding). */
TC_TEST(kernel_fwino_refuses) {
  tc_conv2d_params p;
  CHECK(make_conv(&p, 1, 8, 8, 4, 4, 1));
  CHECK(tc_f32_wino_applicable(&p));
  tc_conv2d_params q = p;
  q.stride_w = 2;
  CHECK(!tc_f32_wino_applicable(&q) && tc_f32_wino_packed_size(NULL, 2, &q) == 0);
  CHECK(tc_f32_wino_tile(NULL, &q) == 0);
  CHECK(tc_f32_wino_packed_size(NULL, 3, &p) == 0);
  q = p;
  q.dilation_h = 2;
  CHECK(!tc_f32_wino_applicable(&q));
  q = p;
  q.k_w = 5;
  CHECK(!tc_f32_wino_applicable(&q));
  q = p;
  q.filter_c = 2; /* grouped */
  CHECK(!tc_f32_wino_applicable(&q));
  float w[4 * 9 * 4];
  for (size_t e = 0; e < sizeof w / sizeof w[0]; e++) w[e] = rnd_f();
  void *buf = malloc(tc_f32_wino_packed_size(NULL, 4, &p));
  CHECK(tc_f32_wino_pack(NULL, NULL, 4, &p, w, buf) != NULL);
  CHECK(tc_f32_wino_pack(NULL, NULL, 3, &p, w, buf) == NULL);
  w[17] = INFINITY;
  CHECK(tc_f32_wino_pack(NULL, NULL, 4, &p, w, buf) == NULL);
  w[17] = NAN;
  CHECK(tc_f32_wino_pack(NULL, NULL, 2, &p, w, buf) == NULL);
  free(buf);
}
