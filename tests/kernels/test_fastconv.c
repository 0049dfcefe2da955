/* test_fastconv.c: the GEMM paths of CONV_2D and FULLY_CONNECTED against the reference kernels:
 * the 8-bit GEMM (every qgemm variant this CPU runs) bit-exact with its plain oracle and with
 * tc_s8/u8_conv2d__ref and tc_s8/u8_fully_connected__ref, the float conv-as-GEMM (every f32
 * GEMM variant) within 1e-5 relative of tc_f32_conv2d__ref, on swept shapes (tile edges, odd
 * channels, strides, SAME/VALID, dilation, batch > 1, extreme zero points, per-channel scales),
 * and 2- and 3-thread runs byte-identical to 1-thread runs. */
#include <stdlib.h>

#include "core/threadpool.h"
#include "kernels/im2col.h"
#include "kernels/qgemm.h"
#include "kernels/ref/conv2d.h"
#include "kernels/ref/conv2d_q.h"
#include "kernels/ref/fully_connected_q.h"
#include "kernels/ref/qmath.h"
#include "kernels/select.h"
#include "tc_test.h"

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
  g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(g_rng >> 33);
}
static int32_t rnd_in(int32_t lo, int32_t hi) { return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1)); }
static float rnd_f(void) { return (float)rnd_in(-100000, 100000) / 50000.0f; }

/* The variants of one op this CPU can run. */
static size_t variants(const char *op, const char *dtype, const void **out, size_t cap) {
  size_t n, k = 0;
  const tc_kernel_variant *v = tc_kernel_variants(&n);
  for (size_t i = 0; i < n && k < cap; i++)
    if (!strcmp(v[i].op, op) && !strcmp(v[i].dtype, dtype) && tc_kernel_variant_supported(&v[i]))
      out[k++] = v[i].impl;
  return k;
}

/* Requantization parameters: per-channel multipliers from random scales (some > 1). */
typedef struct qparams {
  int32_t mult[80], shift[80], bias[80];
  int32_t zi, zo, zw, lo, hi;
  int u8;
} qparams;

static void make_q(qparams *q, int n, int u8, int zi, int zo, int big) {
  float ws[80];
  for (int j = 0; j < n; j++) ws[j] = (float)rnd_in(1, 1000) / 20000.0f;
  if (n > 2) ws[1] = 0.0f; /* an all-zero channel scale */
  float in_s = 0.02f, out_s = big ? 0.0001f : (float)rnd_in(5, 200) / 1000.0f;
  CHECK(tc_q_conv_multipliers(in_s, ws, n, out_s, n, q->mult, q->shift));
  for (int j = 0; j < n; j++) q->bias[j] = rnd_in(-40000, 40000);
  q->u8 = u8;
  q->zi = zi;
  q->zo = zo;
  q->zw = u8 ? rnd_in(0, 255) : 0;
  q->lo = u8 ? 0 : -128;
  q->hi = u8 ? 255 : 127;
  if (rnd() % 3 == 0) q->lo = zo; /* RELU-like */
}

static tc_qgemm_weights qweights(const qparams *q, const void *w, size_t ldw, int per_tensor_off,
                                 int with_bias) {
  tc_qgemm_weights qw = {w, ldw, q->u8, per_tensor_off ? -q->zw : 0, -q->zi,
                         with_bias ? q->bias : NULL, q->mult, q->shift, q->zo, q->lo, q->hi, q->u8};
  return qw;
}

static void fill8(void *p, size_t n, int u8, int extreme) {
  for (size_t i = 0; i < n; i++) {
    int32_t v = u8 ? rnd_in(0, 255) : rnd_in(-128, 127);
    if (extreme && rnd() % 2) v = u8 ? (rnd() % 2 ? 0 : 255) : (rnd() % 2 ? -128 : 127);
    ((uint8_t *)p)[i] = (uint8_t)v;
  }
}

/* ---- 8-bit GEMM vs its oracle --------------------------------------------------------------- */

TC_TEST(kernel_fastconv_qgemm_vs_oracle) {
  const void *kv[8];
  size_t nk = variants("qgemm", "s8", kv, 8);
  CHECK(nk >= 1);
  static const int ms[] = {1, 3, 4, 5, 9, 17};
  static const int ns[] = {1, 7, 8, 9, 16, 17, 24, 33, 80};
  static const int ks[] = {1, 2, 3, 15, 16, 17, 31, 33, 100};
  int8_t a[17 * 100 + 16], w[80 * 100];
  uint8_t out[17 * 80], ref[17 * 80];
  size_t mismatches = 0, runs = 0;
  for (size_t v = 0; v < nk; v++) {
    tc_s8_qgemm_kernel *kr = kv[v];
    for (int u8 = 0; u8 < 2; u8++)
      for (size_t mi = 0; mi < sizeof ms / sizeof *ms; mi++)
        for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
          for (size_t ki = 0; ki < sizeof ks / sizeof *ks; ki++) {
            const int m = ms[mi], n = ns[ni], k = ks[ki];
            const int ext = (int)(rnd() % 2);
            qparams q;
            int zi = u8 ? (ext ? 255 * (int)(rnd() % 2) : rnd_in(0, 255))
                        : (ext ? (rnd() % 2 ? -128 : 127) : rnd_in(-128, 127));
            make_q(&q, n, u8, zi, u8 ? rnd_in(0, 255) : rnd_in(-128, 127), rnd() % 4 == 0);
            fill8(a, (size_t)m * k, u8, ext);
            fill8(w, (size_t)n * k, u8, ext);
            tc_qgemm_weights qw = qweights(&q, w, (size_t)k, 1, (int)(rnd() % 4 != 0));
            tc_s8_qgemm_kernel *kf = tc_qgemm_kernel_fit(kr, n, k, &qw);
            void *buf = malloc(tc_qgemm_packed_size(kf, n, k));
            const tc_qgemm_packed *pk = tc_qgemm_pack(kf, n, k, &qw, buf);
            CHECK(pk != NULL);
            if (!pk) { free(buf); continue; }
            void *scratch = malloc(tc_qgemm_scratch_size(pk, 1));
            tc_qgemm_a src = {u8, a, (size_t)k, NULL, NULL};
            memset(out, 0xAA, sizeof out);
            tc_qgemm(pk, NULL, m, &src, out, (size_t)n, scratch);
            tc_s8_qgemm__ref(m, n, k, a, (size_t)k, u8, &qw, ref, (size_t)n);
            runs++;
            if (memcmp(out, ref, (size_t)m * n)) {
              if (mismatches++ < 5)
                CHECK_MSG(0, "%s u8=%d m=%d n=%d k=%d differs from the oracle", kr->name, u8, m, n,
                          k);
            }
            free(scratch);
            free(buf);
          }
  }
  CHECK_EQ(mismatches, 0);
  printf("  %zu qgemm cases, %zu variant(s)\n", runs, nk);
}

/* The requantization alone on hostile accumulators: every shift, INT32 extremes. */
TC_TEST(kernel_fastconv_qgemm_requant_extremes) {
  const void *kv[8];
  size_t nk = variants("qgemm", "s8", kv, 8);
  /* m=1, k=2: A = (1, 0), B' column j = (0, 0): the output is requant(bias'[j]) exactly. */
  enum { N = 64 };
  int8_t a[2] = {1, 0}, w[N * 2];
  memset(w, 0, sizeof w);
  for (size_t v = 0; v < nk; v++) {
    tc_s8_qgemm_kernel *kr = kv[v];
    for (int round = 0; round < 40; round++) {
      qparams q;
      make_q(&q, N, 0, 0, rnd_in(-128, 127), 0);
      for (int j = 0; j < N; j++) {
        q.shift[j] = rnd_in(-31, 31);
        q.mult[j] = rnd() % 5 == 0 ? INT32_MAX : (int32_t)(rnd() & 0x7fffffff);
        int32_t b = (int32_t)rnd();
        if (j % 7 == 0) b = INT32_MIN;
        if (j % 7 == 1) b = INT32_MAX;
        if (j % 7 == 2) b = -(int32_t)(rnd() % 4096);
        q.bias[j] = b;
      }
      tc_qgemm_weights qw = qweights(&q, w, 2, 0, 1);
      qw.act_min = -128;
      qw.act_max = 127;
      tc_s8_qgemm_kernel *kf = tc_qgemm_kernel_fit(kr, N, 2, &qw);
      void *buf = malloc(tc_qgemm_packed_size(kf, N, 2));
      const tc_qgemm_packed *pk = tc_qgemm_pack(kf, N, 2, &qw, buf);
      CHECK(pk != NULL);
      int8_t out[N], ref[N];
      void *scratch = malloc(tc_qgemm_scratch_size(pk, 1));
      tc_qgemm_a src = {0, a, 2, NULL, NULL};
      tc_qgemm(pk, NULL, 1, &src, out, N, scratch);
      tc_s8_qgemm__ref(1, N, 2, a, 2, 0, &qw, ref, N);
      CHECK_MSG(!memcmp(out, ref, N), "%s: requantization differs (round %d)", kr->name, round);
      free(scratch);
      free(buf);
    }
  }
}

/* ---- convolutions --------------------------------------------------------------------------- */

/* Geometry with TFLite's SAME / VALID rules. */
static int make_conv(tc_conv2d_params *p, int batch, int ih, int iw, int ic, int oc, int kh,
                     int kw, int sh, int sw, int dh, int dw, int same) {
  memset(p, 0, sizeof *p);
  p->batch = batch; p->in_h = ih; p->in_w = iw; p->in_c = ic; p->filter_c = ic; p->out_c = oc;
  p->k_h = kh; p->k_w = kw; p->stride_h = sh; p->stride_w = sw; p->dilation_h = dh;
  p->dilation_w = dw;
  const int ekh = (kh - 1) * dh + 1, ekw = (kw - 1) * dw + 1;
  if (same) {
    p->out_h = (ih + sh - 1) / sh;
    p->out_w = (iw + sw - 1) / sw;
    int ph = (p->out_h - 1) * sh + ekh - ih, pw = (p->out_w - 1) * sw + ekw - iw;
    p->pad_top = ph > 0 ? ph / 2 : 0;
    p->pad_left = pw > 0 ? pw / 2 : 0;
  } else {
    if (ih < ekh || iw < ekw) return 0;
    p->out_h = (ih - ekh) / sh + 1;
    p->out_w = (iw - ekw) / sw + 1;
  }
  p->act_min = -INFINITY;
  p->act_max = INFINITY;
  return p->out_h > 0 && p->out_w > 0;
}

/* A random convolution shape from a sweep index (covers the listed cases). */
static int conv_case(int i, tc_conv2d_params *p) {
  static const int chans[] = {1, 3, 4, 8, 16, 17, 32, 33};
  static const int outs[] = {1, 5, 8, 16, 17, 24, 33, 64};
  const int kshape = i % 5; /* 1x1, 3x3, 1x1 stride 2, 5x3, 3x3 dilated */
  int kh = 1, kw = 1, s = 1 + (i / 5) % 2, d = 1;
  if (kshape == 1) kh = kw = 3;
  if (kshape == 2) s = 2;
  if (kshape == 3) { kh = 5; kw = 3; }
  if (kshape == 4) { kh = kw = 3; d = 2; }
  if (kshape == 0 && i % 3 == 0) s = 1;
  return make_conv(p, 1 + (i % 7 == 0), rnd_in(1, 12), rnd_in(1, 13), chans[rnd() % 8],
                   outs[rnd() % 8], kh, kw, s, kshape == 3 ? 1 : s, d, d, (i / 2) % 2 == 0);
}

static size_t numel_in(const tc_conv2d_params *p) {
  return (size_t)p->batch * p->in_h * p->in_w * p->in_c;
}
static size_t numel_out(const tc_conv2d_params *p) {
  return (size_t)p->batch * p->out_h * p->out_w * p->out_c;
}
static size_t kdim(const tc_conv2d_params *p) { return (size_t)p->k_h * p->k_w * p->in_c; }

/* 8-bit conv through the GEMM vs the reference conv, for each variant; also 2/3 threads. */
static void x8_conv_sweep(int u8) {
  const void *kv[8];
  size_t nk = variants("qgemm", "s8", kv, 8);
  tc_threadpool *pools[2] = {tc_threadpool_create(2), tc_threadpool_create(3)};
  size_t cases = 0, bad = 0;
  for (int i = 0; i < 160; i++) {
    tc_conv2d_params p;
    if (!conv_case(i, &p)) continue;
    const int ext = i % 4 == 1;
    int zi = u8 ? (ext ? 255 : rnd_in(0, 255)) : (ext ? (i % 8 == 1 ? -128 : 127) : rnd_in(-128, 127));
    int zo = u8 ? rnd_in(0, 255) : (ext ? -128 : rnd_in(-128, 127));
    qparams q;
    make_q(&q, p.out_c, u8, zi, zo, i % 9 == 0);
    if (!u8) q.zw = 0;
    const size_t k = kdim(&p);
    uint8_t *in = malloc(numel_in(&p)), *w = malloc((size_t)p.out_c * k);
    uint8_t *ref = malloc(numel_out(&p)), *out = malloc(numel_out(&p)), *out2 = malloc(numel_out(&p));
    fill8(in, numel_in(&p), u8, ext);
    fill8(w, (size_t)p.out_c * k, u8, ext);
    const int with_bias = i % 5 != 3;
    tc_q_requant rq = {-q.zi, -q.zw, q.zo, q.mult, q.shift, q.lo, q.hi};
    if (u8)
      tc_u8_conv2d__ref(&p, &rq, in, w, with_bias ? q.bias : NULL, ref);
    else
      tc_s8_conv2d__ref(&p, &rq, (const int8_t *)in, (const int8_t *)w, with_bias ? q.bias : NULL,
                        (int8_t *)ref);
    for (size_t v = 0; v < nk; v++) {
      tc_s8_qgemm_kernel *kr = kv[v];
      tc_qgemm_weights qw = qweights(&q, w, k, u8, with_bias);
      tc_s8_qgemm_kernel *kf = tc_qgemm_kernel_fit(kr, p.out_c, (int32_t)k, &qw);
      void *buf = malloc(tc_qgemm_packed_size(kf, p.out_c, (int32_t)k));
      const tc_qgemm_packed *pk = tc_qgemm_pack(kf, p.out_c, (int32_t)k, &qw, buf);
      CHECK(pk != NULL);
      void *scratch = malloc(tc_x8_conv2d_gemm_scratch_size(pk, 3));
      memset(out, 0x55, numel_out(&p));
      tc_x8_conv2d_gemm(pk, NULL, &p, in, u8, q.zi, out, scratch);
      cases++;
      if (memcmp(out, ref, numel_out(&p)) && bad++ < 5)
        CHECK_MSG(0, "%s u8=%d case %d: %dx%dx%dx%d k%dx%d s%dx%d d%d pad %d,%d oc %d differs",
                  kr->name, u8, i, p.batch, p.in_h, p.in_w, p.in_c, p.k_h, p.k_w, p.stride_h,
                  p.stride_w, p.dilation_h, p.pad_top, p.pad_left, p.out_c);
      for (int t = 0; t < 2; t++) {
        memset(out2, 0x33, numel_out(&p));
        tc_x8_conv2d_gemm(pk, pools[t], &p, in, u8, q.zi, out2, scratch);
        if (memcmp(out, out2, numel_out(&p)) && bad++ < 5)
          CHECK_MSG(0, "%s case %d: %d threads differ from 1", kr->name, i, t + 2);
      }
      free(scratch);
      free(buf);
    }
    free(in); free(w); free(ref); free(out); free(out2);
  }
  CHECK_EQ(bad, 0);
  CHECK(cases > 100);
  printf("  %zu %s conv cases\n", cases, u8 ? "uint8" : "int8");
  tc_threadpool_destroy(pools[0]);
  tc_threadpool_destroy(pools[1]);
}

TC_TEST(kernel_fastconv_s8_conv_vs_ref) { x8_conv_sweep(0); }
TC_TEST(kernel_fastconv_u8_conv_vs_ref) { x8_conv_sweep(1); }

/* A bigger int8 layer (several row and column blocks, threads split both ways). */
TC_TEST(kernel_fastconv_s8_conv_large) {
  const void *kv[8];
  size_t nk = variants("qgemm", "s8", kv, 8);
  tc_threadpool *pool = tc_threadpool_create(2);
  tc_conv2d_params p;
  CHECK(make_conv(&p, 1, 30, 29, 72, 130, 3, 3, 1, 1, 1, 1, 1));
  qparams q;
  make_q(&q, 80, 0, -128, 5, 0);
  /* 130 channels: repeat the 80-entry parameters */
  int32_t mult[130], shift[130], bias[130];
  for (int j = 0; j < 130; j++) { mult[j] = q.mult[j % 80]; shift[j] = q.shift[j % 80]; bias[j] = q.bias[j % 80]; }
  const size_t k = kdim(&p);
  int8_t *in = malloc(numel_in(&p)), *w = malloc(130 * k);
  int8_t *ref = malloc(numel_out(&p)), *out = malloc(numel_out(&p));
  fill8(in, numel_in(&p), 0, 0);
  fill8(w, 130 * k, 0, 0);
  tc_q_requant rq = {128, 0, 5, mult, shift, -128, 127};
  tc_s8_conv2d__ref(&p, &rq, in, w, bias, ref);
  for (size_t v = 0; v < nk; v++) {
    tc_s8_qgemm_kernel *kr = kv[v];
    tc_qgemm_weights qw = {w, k, 0, 0, 128, bias, mult, shift, 5, -128, 127, 0};
    tc_s8_qgemm_kernel *kf = tc_qgemm_kernel_fit(kr, 130, (int32_t)k, &qw);
    void *buf = malloc(tc_qgemm_packed_size(kf, 130, (int32_t)k));
    const tc_qgemm_packed *pk = tc_qgemm_pack(kf, 130, (int32_t)k, &qw, buf);
    void *scratch = malloc(tc_x8_conv2d_gemm_scratch_size(pk, 2));
    for (int t = 0; t < 2; t++) {
      memset(out, 0, numel_out(&p));
      tc_x8_conv2d_gemm(pk, t ? pool : NULL, &p, in, 0, -128, out, scratch);
      CHECK_MSG(!memcmp(out, ref, numel_out(&p)), "%s, %d thread(s)", kr->name, t + 1);
    }
    free(scratch);
    free(buf);
  }
  free(in); free(w); free(ref); free(out);
  tc_threadpool_destroy(pool);
}

/* Float conv through the GEMM: within 1e-5 of the scale of the sum, per variant and threads. */
TC_TEST(kernel_fastconv_f32_conv_vs_ref) {
  const void *kv[8];
  size_t nk = variants("gemm", "f32", kv, 8);
  tc_threadpool *pool = tc_threadpool_create(2);
  size_t cases = 0, bad = 0;
  for (int i = 0; i < 150; i++) {
    tc_conv2d_params p;
    if (!conv_case(i, &p)) continue;
    if (i % 3 == 0) { p.act_min = 0.0f; p.act_max = i % 2 ? 6.0f : INFINITY; }
    const size_t k = kdim(&p), no = numel_out(&p);
    float *in = malloc(numel_in(&p) * 4), *w = malloc((size_t)p.out_c * k * 4);
    float *bias = malloc((size_t)p.out_c * 4), *ref = malloc(no * 4), *out = malloc(no * 4);
    float *out2 = malloc(no * 4), *absref = malloc(no * 4), *absin = malloc(numel_in(&p) * 4);
    float *absw = malloc((size_t)p.out_c * k * 4);
    for (size_t e = 0; e < numel_in(&p); e++) absin[e] = fabsf(in[e] = rnd_f());
    for (size_t e = 0; e < (size_t)p.out_c * k; e++) absw[e] = fabsf(w[e] = rnd_f());
    for (int j = 0; j < p.out_c; j++) bias[j] = rnd_f();
    const int with_bias = i % 4 != 1;
    tc_f32_conv2d__ref(&p, in, w, with_bias ? bias : NULL, ref);
    tc_conv2d_params pa = p; /* scale of each sum: the conv of |in| and |w| */
    pa.act_min = -INFINITY;
    pa.act_max = INFINITY;
    tc_f32_conv2d__ref(&pa, absin, absw, NULL, absref);
    for (size_t v = 0; v < nk; v++) {
      tc_f32_gemm_kernel *kr = kv[v];
      float *packed = malloc(tc_f32_gemm_packed_b_size(kr, p.out_c, (int32_t)k) + 64);
      tc_f32_gemm_pack_b(kr, p.out_c, (int32_t)k, w, k, TC_GEMM_B_NK, packed);
      void *scratch = malloc(tc_f32_conv2d_gemm_scratch_size(kr, &p, 2) + 1);
      tc_f32_conv2d_gemm(kr, NULL, &p, in, packed, with_bias ? bias : NULL, out, scratch);
      tc_f32_conv2d_gemm(kr, pool, &p, in, packed, with_bias ? bias : NULL, out2, scratch);
      cases++;
      for (size_t e = 0; e < no; e++) {
        const double tol = 1e-5 * ((double)absref[e] + (with_bias ? fabs(bias[e % p.out_c]) : 0) + 1e-6);
        if (!(fabs((double)out[e] - ref[e]) <= tol) && bad++ < 5)
          CHECK_MSG(0, "%s case %d elem %zu: %.9g vs %.9g", kr->name, i, e, out[e], ref[e]);
      }
      if (memcmp(out, out2, no * 4) && bad++ < 5)
        CHECK_MSG(0, "%s case %d: 2 threads differ from 1", kr->name, i);
      free(scratch);
      free(packed);
    }
    free(in); free(w); free(bias); free(ref); free(out); free(out2); free(absref); free(absin);
    free(absw);
  }
  CHECK_EQ(bad, 0);
  CHECK(cases > 100);
  tc_threadpool_destroy(pool);
}

/* ---- fully connected ------------------------------------------------------------------------ */

TC_TEST(kernel_fastconv_fc_vs_ref) {
  const void *kv[8];
  size_t nk = variants("qgemm", "s8", kv, 8);
  tc_threadpool *pool = tc_threadpool_create(2);
  static const int bs[] = {1, 2, 5, 13};
  static const int ks[] = {1, 7, 16, 33, 250};
  static const int ns[] = {1, 10, 16, 31, 80};
  size_t bad = 0;
  for (int u8 = 0; u8 < 2; u8++)
    for (size_t bi = 0; bi < 4; bi++)
      for (size_t ki = 0; ki < 5; ki++)
        for (size_t ni = 0; ni < 5; ni++) {
          const int b = bs[bi], k = ks[ki], n = ns[ni];
          const int per_tensor = (int)(rnd() % 2) || u8;
          qparams q;
          make_q(&q, n, u8, u8 ? rnd_in(0, 255) : (rnd() % 2 ? -128 : 127),
                 u8 ? rnd_in(0, 255) : rnd_in(-128, 127), 0);
          if (!u8) q.zw = per_tensor ? rnd_in(-20, 20) : 0;
          uint8_t *in = malloc((size_t)b * k), *w = malloc((size_t)n * k);
          uint8_t *ref = malloc((size_t)b * n), *out = malloc((size_t)b * n);
          fill8(in, (size_t)b * k, u8, 1);
          fill8(w, (size_t)n * k, u8, 1);
          tc_fc_params fp = {b, k, n, -INFINITY, INFINITY};
          tc_q_requant rq = {-q.zi, -q.zw, q.zo, q.mult, q.shift, q.lo, q.hi};
          if (u8)
            tc_u8_fully_connected__ref(&fp, &rq, in, w, q.bias, ref);
          else
            tc_s8_fully_connected__ref(&fp, &rq, (const int8_t *)in, (const int8_t *)w, q.bias,
                                       (int8_t *)ref);
          for (size_t v = 0; v < nk; v++) {
            tc_s8_qgemm_kernel *kr = kv[v];
            tc_qgemm_weights qw = qweights(&q, w, (size_t)k, 1, 1);
            tc_s8_qgemm_kernel *kf = tc_qgemm_kernel_fit(kr, n, k, &qw);
            void *buf = malloc(tc_qgemm_packed_size(kf, n, k));
            const tc_qgemm_packed *pk = tc_qgemm_pack(kf, n, k, &qw, buf);
            void *scratch = malloc(tc_qgemm_scratch_size(pk, 2));
            tc_qgemm_a src = {u8, in, (size_t)k, NULL, NULL};
            for (int t = 0; t < 2; t++) {
              memset(out, 0x11, (size_t)b * n);
              tc_qgemm(pk, t ? pool : NULL, b, &src, out, (size_t)n, scratch);
              if (memcmp(out, ref, (size_t)b * n) && bad++ < 5)
                CHECK_MSG(0, "%s u8=%d b=%d k=%d n=%d threads=%d differs", kr->name, u8, b, k, n,
                          t + 1);
            }
            free(scratch);
            free(buf);
          }
          free(in); free(w); free(ref); free(out);
        }
  CHECK_EQ(bad, 0);
  tc_threadpool_destroy(pool);
}

/* Shapes the packer refuses are refused (callers then keep the reference kernel). */
TC_TEST(kernel_fastconv_pack_refuses) {
  int8_t w[4] = {1, 2, 3, 4};
  int32_t mult[2] = {1 << 30, 1 << 30}, shift[2] = {0, 40};
  tc_qgemm_weights qw = {w, 2, 0, 0, 0, NULL, mult, shift, 0, -128, 127, 0};
  char buf[4096];
  CHECK(tc_qgemm_pack(NULL, 2, 2, &qw, buf) == NULL); /* shift out of range */
  shift[1] = -3;
  CHECK(tc_qgemm_pack(NULL, 2, 2, &qw, buf) != NULL);
  mult[0] = -5;
  CHECK(tc_qgemm_pack(NULL, 2, 2, &qw, buf) == NULL); /* negative multiplier */
  mult[0] = 1 << 30;
  CHECK(tc_qgemm_pack(NULL, 0, 2, &qw, buf) == NULL);
  CHECK_EQ(tc_qgemm_packed_size(NULL, 0, 5), 0);
}
