/* test_fastdw.c: the channel-vectorised kernels of kernels/vec_ops.h (depthwise convolution,
 * pooling, elementwise, softmax, mean). Every kernels.def variant this CPU can run is compared
 * with the reference kernel of src/kernels/ref on swept shapes: spatial sizes odd and even,
 * channel counts below, at and above the 8/16/32 vector widths, strides 1 and 2, SAME and VALID
 * padding, dilation 2, depth multipliers 1, 2, 3 and 8, extreme zero points. Integer results must be
 * bit-exact and float results within rounding (FMA / summation order) of the reference; every
 * result must also be identical whatever the row split (the thread pool's tasks). */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "kernels/cpu.h"
#include "kernels/ref/depthwise_q.h"
#include "kernels/ref/pool_q.h"
#include "kernels/ref/reduce.h"
#include "kernels/ref/softmax.h"
#include "kernels/ref/qmath.h"
#include "kernels/select.h"
#include "narrow_chain.h"
#include "kernels/vec_ops.h"
#include "lite/ops.h"
#include "tc_test.h"

/* ---- helpers ------------------------------------------------------------------------------- */

static uint32_t rng_next(uint32_t *s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}
static int32_t rng_range(uint32_t *s, int32_t lo, int32_t hi) { /* [lo, hi] */
  return lo + (int32_t)(rng_next(s) % (uint32_t)(hi - lo + 1));
}
static float rng_f(uint32_t *s) { return (float)((double)rng_next(s) / 4294967296.0 * 2.0 - 1.0); }

/* The supported variants of one slot, e.g. ("dwconv", "f32"); at most max. */
static int variants(const char *op, const char *dtype, const tc_kernel_variant **out, int max) {
  size_t n = 0;
  const tc_kernel_variant *v = tc_kernel_variants(&n);
  int k = 0;
  for (size_t i = 0; i < n && k < max; i++)
    if (!strcmp(v[i].op, op) && !strcmp(v[i].dtype, dtype) && tc_kernel_variant_supported(&v[i]))
      out[k++] = &v[i];
  return k;
}

static void *xalloc(size_t n) {
  size_t sz = (n + 63) / 64 * 64;
  return aligned_alloc(64, sz ? sz : 64);
}

/* ---- requantization primitive -------------------------------------------------------------- */

TC_TEST(kernel_fastdw_q_mul_exact) {
#if TC_ARCH_X86_64
  if (!(tc_cpu_features() & TC_CPU_AVX2)) return;
  enum { N = 1 << 16 };
  static int32_t x[N], m[N], sh[N], got[N];
  static const int32_t edge_x[] = {0, 1, -1, 2, -2, INT32_MAX, INT32_MIN, INT32_MIN + 1,
                                   1 << 30, -(1 << 30), (1 << 30) + 1, -(1 << 30) - 1, 12345, -12345};
  static const int32_t edge_m[] = {0, 1, INT32_MAX, INT32_MIN, 1 << 30, (1 << 30) + 1,
                                   1518500250, 2147483000};
  uint32_t seed = 0x1234567u;
  long bad = 0;
  for (int round = 0; round < 24; round++) {
    for (int i = 0; i < N; i++) {
      int kind = (int)(rng_next(&seed) % 8);
      x[i] = (int32_t)rng_next(&seed);
      if (kind == 0) x[i] = edge_x[rng_next(&seed) % (sizeof edge_x / sizeof edge_x[0])];
      if (kind == 1) x[i] = rng_range(&seed, -70000, 70000);
      if (kind == 2) x[i] >>= rng_next(&seed) % 31;
      m[i] = (int32_t)(rng_next(&seed) | 0x40000000u) & 0x7fffffff; /* [2^30, 2^31) */
      if (kind == 3 || kind == 4) m[i] = edge_m[rng_next(&seed) % (sizeof edge_m / sizeof edge_m[0])];
      if (kind == 5) m[i] = (int32_t)rng_next(&seed); /* any sign */
      sh[i] = rng_range(&seed, -31, 8);
      if (kind == 6) sh[i] = rng_range(&seed, -3, 1);
      /* positive shifts overflow the left shift on purpose: it wraps in both forms */
    }
    tc__avx2_q_mul_check(x, m, sh, got, N);
    for (int i = 0; i < N; i++) {
      int32_t want = tc_q_mul_double(x[i], m[i], sh[i]);
      if (got[i] != want && bad++ < 5)
        CHECK_MSG(0, "q_mul(%d, %d, %d): avx2 %d, scalar %d", (int)x[i], (int)m[i], (int)sh[i],
                  (int)got[i], (int)want);
    }
  }
  /* every exponent, with the saturating pair INT32_MIN * INT32_MIN in lane 0 */
  for (int e = -31; e <= 8; e++) {
    for (int i = 0; i < 8; i++) {
      x[i] = i == 0 ? INT32_MIN : (int32_t)rng_next(&seed);
      m[i] = i == 0 ? INT32_MIN : (int32_t)rng_next(&seed);
      sh[i] = e;
    }
    tc__avx2_q_mul_check(x, m, sh, got, 8);
    for (int i = 0; i < 8; i++)
      if (got[i] != tc_q_mul_double(x[i], m[i], sh[i])) bad++;
  }
  CHECK_EQ(bad, 0);
#endif
}

/* ---- depthwise ----------------------------------------------------------------------------- */

typedef struct dw_case {
  tc_dwconv2d_params p;
  int has_bias;
} dw_case;

/* A random geometry from the sweep; returns 0 if the output would be empty. */
static int dw_make(uint32_t *seed, int i, dw_case *dc) {
  static const int32_t sizes[] = {1, 2, 3, 5, 6, 7, 8, 9, 12, 15};
  static const int32_t chans[] = {1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 48};
  tc_dwconv2d_params *p = &dc->p;
  memset(dc, 0, sizeof *dc);
  p->batch = 1 + (i % 5 == 0);
  p->in_h = sizes[rng_next(seed) % 10];
  p->in_w = sizes[rng_next(seed) % 10];
  p->in_c = chans[rng_next(seed) % 13];
  p->depth_multiplier = 1;
  if (i % 4 == 3) { /* multipliers 2, 3 and 8 (person_detect's first layer: 1 -> 8 channels) */
    static const int32_t mults[] = {2, 3, 8};
    p->depth_multiplier = mults[(i / 4) % 3];
    if (p->depth_multiplier == 8) p->in_c = 1 + (int32_t)(rng_next(seed) % 3);
  }
  int shape = (int)(rng_next(seed) % 8);
  p->k_h = p->k_w = 3;
  if (shape == 5) p->k_h = p->k_w = 5;
  if (shape == 6) p->k_h = 1, p->k_w = 1;
  if (shape == 7) p->k_h = 2, p->k_w = 3;
  p->stride_h = p->stride_w = 1 + (int32_t)(rng_next(seed) % 2);
  if (i % 7 == 0) p->stride_h = 1, p->stride_w = 2;
  p->dilation_h = p->dilation_w = i % 6 == 5 ? 2 : 1;
  int pad = (int)(rng_next(seed) % 2);
  dc->has_bias = i % 3 != 2;
  if (!tc__conv_out_size(pad, p->in_h, p->k_h, p->stride_h, p->dilation_h, &p->out_h,
                         &p->pad_top) ||
      !tc__conv_out_size(pad, p->in_w, p->k_w, p->stride_w, p->dilation_w, &p->out_w,
                         &p->pad_left))
    return 0;
  int act = (int)(rng_next(seed) % 3);
  p->act_min = act == 0 ? -FLT_MAX : (act == 1 ? 0.0f : -0.5f);
  p->act_max = act == 0 ? FLT_MAX : (act == 1 ? FLT_MAX : 0.75f);
  return 1;
}

TC_TEST(kernel_fastdw_f32_vs_ref) {
  const tc_kernel_variant *vs[8];
  int nv = variants("dwconv", "f32", vs, 8);
  CHECK(nv >= 1);
  uint32_t seed = 77;
  int n_cases = 0;
  for (int i = 0; i < 400; i++) {
    dw_case dc;
    if (!dw_make(&seed, i, &dc)) continue;
    const tc_dwconv2d_params *p = &dc.p;
    const int32_t oc = p->in_c * p->depth_multiplier, T = p->k_h * p->k_w;
    size_t n_in = (size_t)p->batch * p->in_h * p->in_w * p->in_c;
    size_t n_out = (size_t)p->batch * p->out_h * p->out_w * oc;
    float *in = xalloc(n_in * 4), *w = xalloc((size_t)T * oc * 4), *b = xalloc((size_t)oc * 4);
    float *want = xalloc(n_out * 4), *got = xalloc(n_out * 4), *got2 = xalloc(n_out * 4);
    for (size_t k = 0; k < n_in; k++) in[k] = rng_f(&seed);
    for (size_t k = 0; k < (size_t)T * oc; k++) w[k] = rng_f(&seed);
    for (int32_t k = 0; k < oc; k++) b[k] = rng_f(&seed);
    const float *bias = dc.has_bias ? b : NULL;
    tc_f32_depthwise_conv2d__ref(p, in, w, bias, want);
    const int32_t rows = p->batch * p->out_h;
    for (int v = 0; v < nv; v++) {
      tc_f32_dwconv_kernel *kr = vs[v]->impl;
      memset(got, 0xff, n_out * 4);
      kr->run(p, in, w, bias, got, 0, rows);
      int bad = 0;
      for (size_t k = 0; k < n_out && bad < 3; k++)
        if (!(fabsf(got[k] - want[k]) <= 2e-6f * (float)(T + 1))) {
          bad++;
          CHECK_MSG(0, "%s case %d: out[%zu] %.9g vs ref %.9g (in %dx%dx%d k %dx%d s %d d %d m %d)",
                    vs[v]->symbol, i, k, (double)got[k], (double)want[k], (int)p->in_h,
                    (int)p->in_w, (int)p->in_c, (int)p->k_h, (int)p->k_w, (int)p->stride_w,
                    (int)p->dilation_w, (int)p->depth_multiplier);
        }
      /* three uneven row chunks give the same bits */
      memset(got2, 0, n_out * 4);
      int32_t c1 = rows / 3, c2 = rows - rows / 4;
      kr->run(p, in, w, bias, got2, 0, c1);
      kr->run(p, in, w, bias, got2, c1, c2);
      kr->run(p, in, w, bias, got2, c2, rows);
      CHECK(memcmp(got, got2, n_out * 4) == 0);
    }
    n_cases++;
    free(in), free(w), free(b), free(want), free(got), free(got2);
  }
  CHECK(n_cases > 200);
}

/* Runs every supported 8-bit variant (s8 or u8) on random data and compares it bit for bit. */
static void dw_q8_sweep(int is_u8) {
  const tc_kernel_variant *vs[8];
  int nv = variants("dwconv", is_u8 ? "u8" : "s8", vs, 8);
  CHECK(nv >= 1);
  uint32_t seed = is_u8 ? 991 : 313;
  int n_cases = 0;
  for (int i = 0; i < 500; i++) {
    dw_case dc;
    if (!dw_make(&seed, i, &dc)) continue;
    const tc_dwconv2d_params *p = &dc.p;
    const int32_t oc = p->in_c * p->depth_multiplier, T = p->k_h * p->k_w;
    size_t n_in = (size_t)p->batch * p->in_h * p->in_w * p->in_c;
    size_t n_out = (size_t)p->batch * p->out_h * p->out_w * oc;
    uint8_t *in = xalloc(n_in), *w = xalloc((size_t)T * oc);
    int32_t *b = xalloc((size_t)oc * 4), *mult = xalloc((size_t)oc * 4), *shift = xalloc((size_t)oc * 4);
    uint8_t *want = xalloc(n_out), *got = xalloc(n_out), *got2 = xalloc(n_out);
    for (size_t k = 0; k < n_in; k++) in[k] = (uint8_t)rng_next(&seed);
    for (size_t k = 0; k < (size_t)T * oc; k++) w[k] = (uint8_t)rng_next(&seed);
    if (!is_u8 && i % 9 == 4) /* extreme weights */
      for (size_t k = 0; k < (size_t)T * oc; k++) w[k] = (uint8_t)(k % 2 ? 0x80 : 0x7f);
    for (int32_t k = 0; k < oc; k++) {
      b[k] = rng_range(&seed, -40000, 40000);
      if (i % 11 == 1) b[k] = (int32_t)rng_next(&seed); /* wraps the accumulator */
      mult[k] = (int32_t)((rng_next(&seed) | 0x40000000u) & 0x7fffffffu);
      shift[k] = rng_range(&seed, -14, 1);
      if (i % 13 == 6) shift[k] = rng_range(&seed, -31, 6);
      if (i % 19 == 7 && k % 3 == 0) mult[k] = INT32_MIN; /* the saturating multiply */
      if (i % 5 == 3) { /* one multiplier per tensor, as uint8 MobileNets (rq_float's case) */
        mult[k] = k ? mult[0] : mult[k];
        shift[k] = k ? shift[0] : rng_range(&seed, -9, -4);
      }
    }
    static const int32_t zps8[] = {-128, 127, 0, -1, 5}, zpu8[] = {0, 255, 128, 1, 200};
    const int32_t *zps = is_u8 ? zpu8 : zps8;
    tc_q_requant q;
    q.input_offset = -zps[rng_next(&seed) % 5];
    q.filter_offset = is_u8 ? -zpu8[rng_next(&seed) % 5] : 0;
    q.output_offset = zps[rng_next(&seed) % 5];
    q.mult = mult;
    q.shift = shift;
    int32_t lo = is_u8 ? 0 : -128, hi = is_u8 ? 255 : 127;
    q.act_min = i % 4 == 1 ? lo + rng_range(&seed, 0, 100) : lo;
    /* RELU-like ranges from the output offset (rq_float) in every other case */
    if (i % 2 && q.act_min < q.output_offset) q.act_min = q.output_offset;
    q.act_max = i % 4 == 2 ? hi - rng_range(&seed, 0, 100) : hi;
    const int32_t *bias = dc.has_bias ? b : NULL;
    if (is_u8) tc_u8_depthwise_conv2d__ref(p, &q, in, w, bias, want);
    else tc_s8_depthwise_conv2d__ref(p, &q, (const int8_t *)in, (const int8_t *)w, bias, (int8_t *)want);
    const int32_t rows = p->batch * p->out_h;
    for (int v = 0; v < nv; v++) {
      const tc_q8_dwconv_ukernel *kr = vs[v]->impl;
      size_t size = kr->packed_size(p);
      void *packed = size ? xalloc(size) : NULL;
      if (size) kr->pack(p, &q, w, bias, packed);
      memset(got, 0x5a, n_out);
      kr->run(p, &q, in, w, bias, packed, got, 0, rows);
      size_t first = n_out;
      for (size_t k = 0; k < n_out; k++)
        if (got[k] != want[k]) {
          first = k;
          break;
        }
      CHECK_MSG(first == n_out,
                "%s case %d: out[%zu] %d vs ref %d (in %dx%dx%d k %dx%d s %d d %d m %d zp %d/%d/%d)",
                vs[v]->symbol, i, first, first < n_out ? (int)got[first] : 0,
                first < n_out ? (int)want[first] : 0, (int)p->in_h, (int)p->in_w, (int)p->in_c,
                (int)p->k_h, (int)p->k_w, (int)p->stride_w, (int)p->dilation_w,
                (int)p->depth_multiplier, (int)-q.input_offset, (int)-q.filter_offset,
                (int)q.output_offset);
      memset(got2, 0, n_out);
      int32_t c1 = rows / 2, c2 = rows - rows / 5;
      kr->run(p, &q, in, w, bias, packed, got2, 0, c1);
      kr->run(p, &q, in, w, bias, packed, got2, c1, c2);
      kr->run(p, &q, in, w, bias, packed, got2, c2, rows);
      CHECK(memcmp(got, got2, n_out) == 0);
      free(packed);
    }
    n_cases++;
    free(in), free(w), free(b), free(mult), free(shift), free(want), free(got), free(got2);
  }
  CHECK(n_cases > 250);
}

TC_TEST(kernel_fastdw_s8_vs_ref) { dw_q8_sweep(0); }
TC_TEST(kernel_fastdw_u8_vs_ref) { dw_q8_sweep(1); }

/* The dispatch table picks the AVX2 variants for AVX2 + FMA, the AVX-512 ones for the AVX-512
 * core set (8-bit: the VNNI form where VNNI is there too), whatever this CPU has (the table is
 * filled for given feature masks); on this CPU, the variants its features give. */
TC_TEST(kernel_fastdw_dispatch) {
  tc_kernel_table t;
  tc_kernels_fill(&t, 0);
  CHECK(t.f32_dwconv == &tc_f32_dwconv__ref);
  CHECK(t.s8_dwconv == &tc_s8_dwconv__ref);
  CHECK(t.u8_dwconv == &tc_u8_dwconv__ref);
  tc_kernels_fill(&t, tc_cpu_features());
  CHECK(t.f32_dwconv && t.s8_dwconv && t.u8_dwconv);
#if TC_ARCH_X86_64
  static const struct {
    uint32_t features;
    const char *f32, *q8;
  } want[] = {
      {TC_CPU_AVX2_FMA, "avx2", "avx2"},
      {TC_CPU_AVX2_FMA | TC_CPU_AVX512_CORE, "avx512", "avx512"},
      {TC_CPU_AVX2_FMA | TC_CPU_AVX512_CORE | TC_CPU_AVX512_VNNI_SET, "avx512", "avx512vnni"},
      {TC_CPU_AVX512_CORE, "ref", "ref"}, /* (avx512 needs AVX2 for its narrow variants) */
  };
  for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
    tc_kernels_fill(&t, want[i].features);
    CHECK_MSG(!strcmp(t.f32_dwconv->name, want[i].f32), "features %x: f32 %s, want %s",
              (unsigned)want[i].features, t.f32_dwconv->name, want[i].f32);
    CHECK(!strcmp(t.s8_dwconv->name, want[i].q8) && !strcmp(t.u8_dwconv->name, want[i].q8));
  }
#endif
}

/* A variant's narrow variant (vec_ops.h): see narrow_chain.h. */
static const void *dw_narrow_of(const void *impl, int32_t *limit) {
  tc_f32_dwconv_kernel *k = impl;
  *limit = k->narrow_c;
  return k->narrow;
}
static const void *dwq_narrow_of(const void *impl, int32_t *limit) {
  const tc_q8_dwconv_ukernel *k = impl;
  *limit = k->narrow_c;
  return k->narrow;
}

TC_TEST(kernel_fastdw_narrow) {
  const int seen = check_narrow_chains("dwconv", "f32", dw_narrow_of);
  const int seen_q = check_narrow_chains("dwconv", "s8", dwq_narrow_of) +
                     check_narrow_chains("dwconv", "u8", dwq_narrow_of);
#if TC_ARCH_X86_64
  CHECK(seen >= 1); /* avx512 -> avx2 */
  CHECK(tc_f32_dwconv__avx512.narrow == &tc_f32_dwconv__avx2 &&
        tc_f32_dwconv__avx512.narrow_c == 8);
  CHECK(seen_q >= 4); /* avx512 and avx512vnni -> avx2, int8 and uint8 */
  CHECK(tc_s8_dwconv__avx512vnni.narrow == &tc_s8_dwconv__avx2 &&
        tc_u8_dwconv__avx512.narrow == &tc_u8_dwconv__avx2 &&
        tc_s8_dwconv__avx512.narrow_c == 8);
#else
  (void)seen;
  (void)seen_q;
#endif
}

/* ---- pooling ------------------------------------------------------------------------------- */

static int pool_make(uint32_t *seed, int i, tc_pool2d_params *p) {
  static const int32_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 10, 13};
  static const int32_t chans[] = {1, 3, 8, 9, 16, 24, 31, 32, 33, 64, 65};
  memset(p, 0, sizeof *p);
  p->batch = 1 + (i % 6 == 0);
  p->in_h = sizes[rng_next(seed) % 9];
  p->in_w = sizes[rng_next(seed) % 9];
  p->channels = chans[rng_next(seed) % 11];
  p->filter_h = 1 + (int32_t)(rng_next(seed) % 3);
  p->filter_w = 1 + (int32_t)(rng_next(seed) % 3);
  if (i % 10 == 9) p->filter_h = p->in_h, p->filter_w = p->in_w; /* global pooling */
  p->stride_h = 1 + (int32_t)(rng_next(seed) % 2);
  p->stride_w = 1 + (int32_t)(rng_next(seed) % 2);
  int pad = (int)(rng_next(seed) % 2);
  int act = (int)(rng_next(seed) % 3);
  p->act_min = act == 0 ? -FLT_MAX : (act == 1 ? 0.0f : -0.25f);
  p->act_max = act == 2 ? 0.5f : FLT_MAX;
  return tc__conv_out_size(pad, p->in_h, p->filter_h, p->stride_h, 1, &p->out_h, &p->pad_top) &&
         tc__conv_out_size(pad, p->in_w, p->filter_w, p->stride_w, 1, &p->out_w, &p->pad_left);
}

TC_TEST(kernel_fastdw_pool_vs_ref) {
  const tc_kernel_variant *vf[8], *vs8[8], *vu8[8];
  int nf = variants("pool", "f32", vf, 8), ns = variants("pool", "s8", vs8, 8);
  int nu = variants("pool", "u8", vu8, 8);
  CHECK(nf >= 1 && ns >= 1 && nu >= 1);
  uint32_t seed = 4242;
  int n_cases = 0;
  for (int i = 0; i < 600; i++) {
    tc_pool2d_params p;
    if (!pool_make(&seed, i, &p)) continue;
    const int is_max = i % 2;
    size_t n_in = (size_t)p.batch * p.in_h * p.in_w * p.channels;
    size_t n_out = (size_t)p.batch * p.out_h * p.out_w * p.channels;
    float *fin = xalloc(n_in * 4), *fwant = xalloc(n_out * 4), *fgot = xalloc(n_out * 4);
    uint8_t *qin = xalloc(n_in), *qwant = xalloc(n_out), *qgot = xalloc(n_out);
    for (size_t k = 0; k < n_in; k++) fin[k] = rng_f(&seed), qin[k] = (uint8_t)rng_next(&seed);
    if (i % 17 == 3) memset(qin, 0x80, n_in); /* all at the int8 minimum */
    const int32_t rows = p.batch * p.out_h, split = rows / 2;
    if (is_max) tc_f32_max_pool2d__ref(&p, fin, fwant);
    else tc_f32_avg_pool2d__ref(&p, fin, fwant);
    for (int v = 0; v < nf; v++) {
      tc_f32_pool_kernel *k = (tc_f32_pool_kernel *)vf[v]->impl;
      memset(fgot, 0xff, n_out * 4);
      k(&p, is_max, fin, fgot, 0, split);
      k(&p, is_max, fin, fgot, split, rows);
      CHECK_MSG(memcmp(fgot, fwant, n_out * 4) == 0, "%s case %d (max %d)", vf[v]->symbol, i, is_max);
    }
    for (int u8 = 0; u8 < 2; u8++) {
      int32_t lo = u8 ? 0 : -128, hi = u8 ? 255 : 127;
      if (i % 3 == 1) lo += 40, hi -= 30;
      if (u8) {
        if (is_max) tc_u8_max_pool2d__ref(&p, lo, hi, qin, qwant);
        else tc_u8_avg_pool2d__ref(&p, lo, hi, qin, qwant);
      } else {
        if (is_max) tc_s8_max_pool2d__ref(&p, lo, hi, (const int8_t *)qin, (int8_t *)qwant);
        else tc_s8_avg_pool2d__ref(&p, lo, hi, (const int8_t *)qin, (int8_t *)qwant);
      }
      const tc_kernel_variant **vq = u8 ? vu8 : vs8;
      for (int v = 0; v < (u8 ? nu : ns); v++) {
        tc_q8_pool_fn *k = (tc_q8_pool_fn *)vq[v]->impl;
        memset(qgot, 0x5a, n_out);
        k(&p, is_max, lo, hi, qin, qgot, 0, split);
        k(&p, is_max, lo, hi, qin, qgot, split, rows);
        CHECK_MSG(memcmp(qgot, qwant, n_out) == 0, "%s case %d (max %d)", vq[v]->symbol, i, is_max);
      }
    }
    n_cases++;
    free(fin), free(fwant), free(fgot), free(qin), free(qwant), free(qgot);
  }
  CHECK(n_cases > 300);
}

/* 8-bit average pooling at the int16-sum limit (windows of 256 / 257 elements: the AVX2
 * variant sums in int16 up to 256 int8 or 257 uint8 values, in int32 beyond), with inputs at
 * the type's ends, and global pooling of kws's 25x5x64 and ic_resnet8's 8x8x64. */
TC_TEST(kernel_fastdw_pool_q8_sum_limits) {
  const tc_kernel_variant *vq[2][8];
  int nq[2] = {variants("pool", "s8", vq[0], 8), variants("pool", "u8", vq[1], 8)};
  static const int32_t hw[][2] = {{16, 16}, {1, 256}, {257, 1}, {1, 258}, {25, 5}, {8, 8}, {3, 2}};
  static const int32_t chans[] = {64, 128, 80, 65, 16, 3};
  uint32_t seed = 99;
  for (size_t g = 0; g < sizeof hw / sizeof hw[0]; g++)
    for (size_t ci = 0; ci < sizeof chans / sizeof chans[0]; ci++)
      for (int fill = 0; fill < 4; fill++) {
        tc_pool2d_params p;
        memset(&p, 0, sizeof p);
        p.batch = 1, p.in_h = hw[g][0], p.in_w = hw[g][1], p.channels = chans[ci];
        p.filter_h = p.in_h, p.filter_w = p.in_w, p.stride_h = p.stride_w = 1;
        p.out_h = p.out_w = 1;
        const size_t n_in = (size_t)p.in_h * p.in_w * p.channels, n_out = (size_t)p.channels;
        uint8_t *in = xalloc(n_in), *want = xalloc(n_out), *got = xalloc(n_out);
        for (size_t k = 0; k < n_in; k++) /* 0x80, 0x7f, 0xff, random */
          in[k] = fill == 0 ? 0x80 : fill == 1 ? 0x7f : fill == 2 ? 0xff : (uint8_t)rng_next(&seed);
        for (int u8 = 0; u8 < 2; u8++) {
          const int32_t lo = u8 ? 0 : -128, hi = u8 ? 255 : 127;
          if (u8) tc_u8_avg_pool2d__ref(&p, lo, hi, in, want);
          else tc_s8_avg_pool2d__ref(&p, lo, hi, (const int8_t *)in, (int8_t *)want);
          for (int v = 0; v < nq[u8]; v++) {
            memset(got, 0x5a, n_out);
            ((tc_q8_pool_fn *)vq[u8][v]->impl)(&p, 0, lo, hi, in, got, 0, 1);
            CHECK_MSG(memcmp(got, want, n_out) == 0, "%s %dx%dx%d fill %d", vq[u8][v]->symbol,
                      (int)p.in_h, (int)p.in_w, (int)p.channels, fill);
          }
        }
        free(in), free(want), free(got);
      }
}

/* ---- elementwise --------------------------------------------------------------------------- */

/* Random operand shapes that broadcast: same shape, scalar, per-channel [C], [N,1,1,C], a
 * column [N,H,W,1] and mixed broadcasts of both sides. */
static void bin_shapes(uint32_t *seed, int i, int *na, int32_t *da, int *nb, int32_t *db) {
  static const int32_t sz[] = {1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 33, 64};
  int32_t d[4] = {1 + (int32_t)(rng_next(seed) % 2), sz[rng_next(seed) % 12],
                  sz[rng_next(seed) % 12], sz[rng_next(seed) % 12]};
  *na = 4;
  memcpy(da, d, sizeof d);
  switch (i % 7) {
  case 0: *nb = 4; memcpy(db, d, sizeof d); break;
  case 1: *nb = 0; break;
  case 2: *nb = 1; db[0] = d[3]; break;
  case 3: *nb = 4; db[0] = d[0], db[1] = 1, db[2] = 1, db[3] = d[3]; break;
  case 4: *nb = 4; db[0] = d[0], db[1] = d[1], db[2] = d[2], db[3] = 1; break;
  case 5: *nb = 3; db[0] = d[1], db[1] = 1, db[2] = d[3]; da[3] = 1; break; /* both broadcast */
  default: *nb = 1; db[0] = 1; break;
  }
  if (i % 2) { /* swap the operands */
    int32_t t[4];
    int nt = *na;
    memcpy(t, da, sizeof t);
    *na = *nb;
    memcpy(da, db, sizeof t);
    *nb = nt;
    memcpy(db, t, sizeof t);
  }
}

TC_TEST(kernel_fastdw_binary_vs_ref) {
  const tc_kernel_variant *vf[8], *vadd[2][8], *vmul[2][8];
  int nf = variants("binary", "f32", vf, 8);
  int nadd[2] = {variants("addsub", "s8", vadd[0], 8), variants("addsub", "u8", vadd[1], 8)};
  int nmul[2] = {variants("qmul", "s8", vmul[0], 8), variants("qmul", "u8", vmul[1], 8)};
  CHECK(nf >= 1 && nadd[0] >= 1 && nadd[1] >= 1 && nmul[0] >= 1 && nmul[1] >= 1);
  uint32_t seed = 555;
  for (int i = 0; i < 280; i++) {
    int na, nb;
    int32_t da[4], db[4];
    bin_shapes(&seed, i, &na, da, &nb, db);
    tc_bcast bc;
    CHECK(tc_bcast_init(&bc, na, da, nb, db));
    size_t no = bc.n_out;
    float *fa = xalloc(bc.n_a * 4), *fb = xalloc(bc.n_b * 4);
    float *fw = xalloc(no * 4), *fg = xalloc(no * 4);
    uint8_t *qa = xalloc(bc.n_a), *qb = xalloc(bc.n_b), *qw = xalloc(no), *qg = xalloc(no);
    for (size_t k = 0; k < bc.n_a; k++) fa[k] = rng_f(&seed) * 3, qa[k] = (uint8_t)rng_next(&seed);
    for (size_t k = 0; k < bc.n_b; k++) fb[k] = rng_f(&seed) * 3, qb[k] = (uint8_t)rng_next(&seed);
    if (bc.n_b > 2) fb[1] = NAN, fb[2] = 0.0f; /* NaN and division by zero pass through */
    const tc_binop op = (tc_binop)(i % TC_BINOP_COUNT);
    float lo = i % 3 == 0 ? 0.0f : -INFINITY, hi = i % 3 == 0 ? 6.0f : INFINITY;
    tc_f32_binary__ref(op, &bc, fa, fb, fw, lo, hi);
    for (int v = 0; v < nf; v++) {
      memset(fg, 0, no * 4);
      ((tc_f32_binary_kernel *)vf[v]->impl)(op, &bc, fa, fb, fg, lo, hi);
      CHECK_MSG(memcmp(fg, fw, no * 4) == 0, "%s op %d case %d", vf[v]->symbol, (int)op, i);
    }
    for (int u8 = 0; u8 < 2; u8++) {
      static const int32_t zs[] = {-128, 127, 0, 3}, zu[] = {0, 255, 128, 7};
      const int32_t *z = u8 ? zu : zs;
      int32_t tlo = u8 ? 0 : -128, thi = u8 ? 255 : 127;
      float s1 = 0.01f + (float)(rng_next(&seed) % 1000) * 1e-4f;
      float s2 = 0.01f + (float)(rng_next(&seed) % 1000) * 1e-4f;
      float so = 0.02f + (float)(rng_next(&seed) % 1000) * 2e-4f;
      int32_t z1 = z[rng_next(&seed) % 4], z2 = z[rng_next(&seed) % 4], zo = z[rng_next(&seed) % 4];
      int32_t alo = i % 4 == 1 ? tlo + 20 : tlo, ahi = i % 4 == 2 ? thi - 20 : thi;
      int is_sub = i % 2;
      tc_qadd_params pa;
      tc_qmul_params pm;
      if (tc_qadd_params_init(&pa, is_sub, 0, s1, z1, s2, z2, so, zo, alo, ahi)) {
        if (u8) (is_sub ? tc_u8_sub__ref : tc_u8_add__ref)(&pa, &bc, qa, qb, qw);
        else (is_sub ? tc_s8_sub__ref : tc_s8_add__ref)(&pa, &bc, (const int8_t *)qa,
                                                        (const int8_t *)qb, (int8_t *)qw);
        for (int v = 0; v < nadd[u8]; v++) {
          tc_q8_addsub_fn *fn = (tc_q8_addsub_fn *)vadd[u8][v]->impl;
          tc_qadd_lin lin; /* the linear form where there is one (vec_ops.h) */
          const int has_lin = tc_qadd_lin_fit(&pa, is_sub, u8, fn, &lin);
          for (int use_lin = 0; use_lin <= has_lin; use_lin++) {
            memset(qg, 0x5a, no);
            fn(&pa, use_lin ? &lin : NULL, is_sub, &bc, qa, qb, qg);
            CHECK_MSG(memcmp(qg, qw, no) == 0, "%s sub %d lin %d case %d", vadd[u8][v]->symbol,
                      is_sub, use_lin, i);
          }
        }
      }
      CHECK(tc_qmul_params_init(&pm, s1 * 20, z1, s2 * 10, z2, so, zo, alo, ahi));
      if (i % 5 == 0) pm.out_shift = 2; /* a multiplier above one shifts left */
      if (u8) tc_u8_mul__ref(&pm, &bc, qa, qb, qw);
      else tc_s8_mul__ref(&pm, &bc, (const int8_t *)qa, (const int8_t *)qb, (int8_t *)qw);
      for (int v = 0; v < nmul[u8]; v++) {
        memset(qg, 0x5a, no);
        ((tc_q8_mul_fn *)vmul[u8][v]->impl)(&pm, &bc, qa, qb, qg);
        CHECK_MSG(memcmp(qg, qw, no) == 0, "%s case %d", vmul[u8][v]->symbol, i);
      }
    }
    free(fa), free(fb), free(fw), free(fg), free(qa), free(qb), free(qw), free(qg);
  }
}

/* ---- softmax and mean ---------------------------------------------------------------------- */

TC_TEST(kernel_fastdw_softmax_vs_ref) {
  const tc_kernel_variant *vs[8];
  int nv = variants("softmax", "f32", vs, 8);
  CHECK(nv >= 1);
  uint32_t seed = 99;
  static const size_t depths[] = {1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 1001};
  float worst = 0.0f;
  for (int i = 0; i < 120; i++) {
    size_t depth = depths[i % 13], outer = 1 + rng_next(&seed) % 4, n = outer * depth;
    float beta = i % 3 == 0 ? 1.0f : (i % 3 == 1 ? 0.5f : 3.0f);
    float scale = i % 4 == 0 ? 30.0f : 4.0f; /* wide inputs: many exps underflow */
    float *x = xalloc(n * 4), *want = xalloc(n * 4), *got = xalloc(n * 4);
    for (size_t k = 0; k < n; k++) x[k] = rng_f(&seed) * scale;
    tc_f32_softmax__ref(x, want, outer, depth, beta);
    for (int v = 0; v < nv; v++) {
      ((tc_f32_softmax_kernel *)vs[v]->impl)(x, got, outer, depth, beta);
      for (size_t k = 0; k < n; k++) {
        float d = fabsf(got[k] - want[k]);
        if (d > worst) worst = d;
        if (!(d <= 1e-6f))
          CHECK_MSG(0, "%s depth %zu: y[%zu] %.9g vs ref %.9g", vs[v]->symbol, depth, k,
                    (double)got[k], (double)want[k]);
      }
      /* in place */
      memcpy(got, x, n * 4);
      ((tc_f32_softmax_kernel *)vs[v]->impl)(got, got, outer, depth, beta);
      for (size_t k = 0; k < n; k++) CHECK(fabsf(got[k] - want[k]) <= 1e-6f);
    }
    free(x), free(want), free(got);
  }
  CHECK(worst <= 1e-6f);
  /* NaN propagates as in the reference */
  float x[9] = {1, 2, NAN, 4, 5, 6, 7, 8, 9}, y[9];
  for (int v = 0; v < nv; v++) {
    ((tc_f32_softmax_kernel *)vs[v]->impl)(x, y, 1, 9, 1.0f);
    CHECK(isnan(y[2]));
  }
}

TC_TEST(kernel_fastdw_mean_vs_ref) {
  const tc_kernel_variant *vs[8];
  int nv = variants("mean", "f32", vs, 8);
  CHECK(nv >= 1);
  uint32_t seed = 7;
  static const size_t inners[] = {1, 3, 8, 9, 31, 32, 33, 64, 100, 1024};
  for (int i = 0; i < 60; i++) {
    size_t outer = 1 + rng_next(&seed) % 3, mid = (size_t)(i % 7 == 6 ? 0 : 1 + rng_next(&seed) % 60);
    size_t inner = inners[i % 10];
    size_t n_in = outer * mid * inner, n_out = outer * inner;
    float *x = xalloc(n_in * 4), *want = xalloc(n_out * 4), *got = xalloc(n_out * 4);
    for (size_t k = 0; k < n_in; k++) x[k] = rng_f(&seed);
    int32_t dims[3] = {(int32_t)outer, (int32_t)mid, (int32_t)inner};
    int is_mean = i % 2 == 0;
    tc_f32_reduce__ref(x, 3, dims, 2u, is_mean ? TC_REDUCE_MEAN : TC_REDUCE_SUM, want);
    for (int v = 0; v < nv; v++) {
      memset(got, 0, n_out * 4);
      ((tc_f32_mean_kernel *)vs[v]->impl)(x, outer, mid, inner, is_mean, got);
      CHECK_MSG(memcmp(got, want, n_out * 4) == 0, "%s %zux%zux%zu mean %d", vs[v]->symbol,
                outer, mid, inner, is_mean);
    }
    free(x), free(want), free(got);
  }
}
