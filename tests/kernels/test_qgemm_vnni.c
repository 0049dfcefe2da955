/* test_qgemm_vnni.c: every 8-bit GEMM variant this CPU runs (kernels.def slot qgemm; all of them
 * under tests/kernels/avx512_emu/run.sh, which includes the AVX-512 VNNI and AMX kernels) against
 * the plain oracle tc_s8_qgemm__ref, written for the byte-group (kgroup 4) packing: int8 and
 * uint8 inputs and weights, uint8 weights spanning the whole byte range (w' = w - zp outside
 * int8, so the kernel's B is w - 128 and the row sums carry the rest) and narrow ones, extreme
 * zero points, per-channel and per-tensor requantization with left shifts and the folded
 * (`plain`) form, biases that make the int32 accumulator wrap, K from 1 to past 256 (odd, not a
 * multiple of 4; AMX pads it to 64), rows and columns below, at and above the 32x32 (AMX), 8x32
 * and 4x16 tiles, K split into segments of odd lengths, and 2- and 3-thread runs byte-identical
 * to the oracle. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/threadpool.h"
#include "kernels/qgemm.h"
#include "kernels/ref/qmath.h"
#include "kernels/select.h"
#include "tc_test.h"

static uint64_t g_rng = 0x9e3779b97f4a7c15ull;
static int g_fq_runs; /* packings with the float output stage (tc_qgemm_cols.fq) */
static uint32_t rnd(void) {
  g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
  return (uint32_t)(g_rng >> 33);
}
static int32_t rnd_in(int32_t lo, int32_t hi) {
  return lo + (int32_t)(rnd() % (uint32_t)(hi - lo + 1));
}

static size_t variants(tc_s8_qgemm_kernel **out, size_t cap) {
  size_t n, k = 0;
  const tc_kernel_variant *v = tc_kernel_variants(&n);
  for (size_t i = 0; i < n && k < cap; i++)
    if (!strcmp(v[i].op, "qgemm") && tc_kernel_variant_supported(&v[i])) out[k++] = v[i].impl;
  return k;
}

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

enum { MAXN = 100 };

/* pair_sat kernels: packings run with corrections, packings refused for too many */
static int g_fix_runs, g_fix_skips;
static int have_pair_sat(tc_s8_qgemm_kernel *const *kv, size_t nk) {
  for (size_t i = 0; i < nk; i++)
    if (kv[i]->pair_sat) return 1;
  return 0;
}

typedef struct qcase {
  int m, n, k, n_seg, u8, wmode; /* wmode: 0 full range, 1 narrow around the zero point, 2
                                  * narrow around B's zero with a few extreme weights (a
                                  * pair_sat kernel's corrections) and half the inputs extreme */
  int ext;                       /* extreme zero points / values */
} qcase;

/* One case on every variant and 1-3 threads; returns mismatching runs. */
static int run_case(const qcase *c, tc_s8_qgemm_kernel *const *kv, size_t nk,
                    tc_threadpool *const *pools, int *ran, int *plain) {
  const int m = c->m, n = c->n, k = c->k, u8 = c->u8;
  uint8_t *a = malloc((size_t)m * k), *w = malloc((size_t)n * k);
  uint8_t *out = malloc((size_t)m * n), *ref = malloc((size_t)m * n);
  int32_t mult[MAXN], shift[MAXN], bias[MAXN];
  const int32_t zi = u8 ? (c->ext ? (rnd() % 2 ? 0 : 255) : rnd_in(0, 255))
                        : (c->ext ? (rnd() % 2 ? -128 : 127) : rnd_in(-128, 127));
  const int32_t zw = u8 ? (c->ext ? 255 * (int32_t)(rnd() % 2) : rnd_in(0, 255)) : 0;
  const int32_t zo = u8 ? rnd_in(0, 255) : rnd_in(-128, 127);
  int32_t lo = u8 ? 0 : -128, hi = u8 ? 255 : 127;
  if (rnd() % 3 == 0) lo = zo;
  if (rnd() % 4 == 0) hi = zo + 30 < hi ? zo + 30 : hi;
  for (size_t i = 0; i < (size_t)m * k; i++) {
    int32_t v = u8 ? rnd_in(0, 255) : rnd_in(-128, 127);
    if ((c->ext || c->wmode == 2) && rnd() % 2)
      v = u8 ? (rnd() % 2 ? 0 : 255) : (rnd() % 2 ? -128 : 127);
    a[i] = (uint8_t)v;
  }
  const int spread = rnd_in(1, 127);
  const int xrate = rnd() % 3 == 0 ? 50 : rnd() % 2 ? 300 : 2000; /* wmode 2: 1 in xrate */
  for (size_t i = 0; i < (size_t)n * k; i++) {
    int32_t v;
    if (c->wmode == 2) { /* B = w (int8) or w - 128 (uint8) near 0, a few extreme */
      v = rnd() % (uint32_t)xrate == 0 ? (rnd() % 2 ? -128 : 127) : rnd_in(-spread / 8, spread / 8);
      if (u8) v += 128;
    } else if (!u8)
      v = c->wmode ? rnd_in(-spread, spread) : rnd_in(-128, 127);
    else if (c->wmode) {
      v = zw + rnd_in(-spread, spread);
      v = v < 0 ? 0 : v > 255 ? 255 : v;
    } else
      v = rnd_in(0, 255);
    if (c->ext && rnd() % 3 == 0) v = u8 ? (rnd() % 2 ? 0 : 255) : (rnd() % 2 ? -128 : 127);
    w[i] = (uint8_t)v;
  }
  const int per_tensor = rnd() % 3 == 0, big_bias = rnd() % 6 == 0;
  for (int j = 0; j < n; j++) {
    if (per_tensor && j) {
      mult[j] = mult[0];
      shift[j] = shift[0];
    } else {
      mult[j] = rnd_in(1 << 30, 0x7fffffff);
      shift[j] = rnd() % 8 == 0 ? rnd_in(0, 4) : -rnd_in(6, 14);
    }
    bias[j] = big_bias ? (int32_t)(rnd() ^ (rnd() << 16)) : rnd_in(-40000, 40000);
  }
  const int with_bias = rnd() % 5 != 0;
  tc_qgemm_weights qw = {w, (size_t)k, u8, u8 ? -zw : 0, -zi, with_bias ? bias : NULL, mult, shift,
                         zo, lo, hi, u8, c->n_seg};
  tc_s8_qgemm__ref(m, n, k, a, (size_t)k, u8, &qw, ref, (size_t)n);
  int bad = 0;
  for (size_t v = 0; v < nk; v++) {
    tc_s8_qgemm_kernel *kr = kv[v];
    void *buf = malloc(tc_qgemm_packed_size_seg(kr, n, k, c->n_seg));
    const tc_qgemm_packed *pk = tc_qgemm_pack(kr, n, k, &qw, buf);
    const int32_t n_fix = tc_qgemm_fix_count(kr, n, k, &qw);
    if (!pk && kr->pair_sat) { /* more corrections than it takes: dispatch passes such weights on */
      CHECK(n_fix > tc_qgemm_fix_cap(kr, n, k, c->n_seg));
      CHECK(tc_qgemm_kernel_for(kr, 0, n, k, &qw) != kr);
      g_fix_skips++;
      free(buf);
      continue;
    }
    CHECK(pk != NULL);
    if (!pk) {
      free(buf);
      continue;
    }
    if (kr->pair_sat) {
      CHECK_EQ(pk->cols.fix_at[(n + kr->nr - 1) / kr->nr], n_fix);
      g_fix_runs += n_fix > 0;
    }
    *plain += pk->cols.plain;
    g_fq_runs += pk->cols.fq;
    void *scratch = malloc(tc_qgemm_scratch_size(pk, 3));
    segctx sc = {a, (size_t)k, (size_t)(c->n_seg > 1 ? c->n_seg : 1),
                 (size_t)k / (size_t)(c->n_seg > 1 ? c->n_seg : 1)};
    tc_qgemm_a plain_a = {u8, a, (size_t)k};
    tc_qgemm_a seg_a = {u8, NULL, 0, NULL, &sc, segs_of_matrix};
    for (int t = 0; t < 3; t++) {
      memset(out, 0x5a, (size_t)m * n);
      tc_qgemm(pk, t ? pools[t - 1] : NULL, m, c->n_seg > 1 || t == 2 ? &seg_a : &plain_a, out,
               (size_t)n, scratch);
      (*ran)++;
      if (memcmp(out, ref, (size_t)m * n) && bad++ < 2)
        CHECK_MSG(0, "%s threads=%d u8=%d wmode=%d ext=%d m=%d n=%d k=%d n_seg=%d differs", kr->name,
                  t + 1, u8, c->wmode, c->ext, m, n, k, c->n_seg);
    }
    free(scratch);
    free(buf);
  }
  free(a);
  free(w);
  free(out);
  free(ref);
  return bad;
}

static void sweep(int u8) {
  tc_s8_qgemm_kernel *kv[8];
  const size_t nk = variants(kv, 8);
  tc_threadpool *pools[2] = {tc_threadpool_create(2), tc_threadpool_create(3)};
  static const int ms[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 65};
  static const int ns[] = {1, 2, 5, 8, 15, 16, 17, 24, 31, 32, 33, 48, 63, 64, 65, 100};
  static const int ks[] = {1, 2, 3, 4, 5, 7, 8, 12, 13, 27, 63, 64, 65, 72, 127, 128, 129, 300};
  int bad = 0, ran = 0, plain = 0;
  g_fix_runs = g_fix_skips = g_fq_runs = 0;
  for (int i = 0; i < 300; i++) {
    qcase c = {ms[rnd() % 16], ns[rnd() % 16], ks[rnd() % 18], 1, u8, i % 3, i % 4 == 1};
    bad += run_case(&c, kv, nk, pools, &ran, &plain);
  }
  /* deep products with a few extreme weights: pair_sat corrections in most panels */
  for (int i = 0; i < 60; i++) {
    qcase c = {ms[rnd() % 16], ns[rnd() % 16], ks[11 + rnd() % 7], 1, u8, 2, 0};
    bad += run_case(&c, kv, nk, pools, &ran, &plain);
  }
  /* K in segments of odd and even lengths (a convolution's receptive-field rows) */
  static const int segs[][2] = {{3, 1}, {2, 3}, {3, 5}, {4, 7}, {10, 4}, {3, 9}, {2, 65}, {5, 13}};
  for (int i = 0; i < 64; i++) {
    const int s = i % 8;
    qcase c = {ms[rnd() % 16], ns[rnd() % 16], segs[s][0] * segs[s][1], segs[s][0], u8, i % 3,
               i % 4 == 1};
    bad += run_case(&c, kv, nk, pools, &ran, &plain);
  }
  CHECK_EQ(bad, 0);
  CHECK(plain > 0 && plain < ran / 3);
  printf("  %d %s qgemm runs over %d variants (%d packings with the folded requantization, %d "
         "with the float one)\n",
         ran, u8 ? "uint8" : "int8", (int)nk, plain, g_fq_runs);
  int float_stage = 0;
  for (size_t v = 0; v < nk; v++) float_stage |= kv[v]->float_stage;
  CHECK(!float_stage || g_fq_runs >= 10);
  if (have_pair_sat(kv, nk)) {
    CHECK(g_fix_runs >= 25);
    printf("  pair_sat: %d packings with corrections, %d refused (too many)\n", g_fix_runs,
           g_fix_skips);
  }
  tc_threadpool_destroy(pools[0]);
  tc_threadpool_destroy(pools[1]);
}

TC_TEST(kernel_qgemm_vnni_s8) { sweep(0); }
TC_TEST(kernel_qgemm_vnni_u8) { sweep(1); }

/* Accumulator edges: all-extreme operands with K long enough that sum w' x leaves int16 and the
 * row sums of a uint8 row times (128 - zp) leave int32 (wrapping must cancel exactly). */
TC_TEST(kernel_qgemm_vnni_extremes) {
  tc_s8_qgemm_kernel *kv[8];
  const size_t nk = variants(kv, 8);
  tc_threadpool *pools[2] = {tc_threadpool_create(2), tc_threadpool_create(3)};
  int bad = 0, ran = 0, plain = 0;
  static const int ks[] = {4095, 4096, 20000};
  for (int u8 = 0; u8 < 2; u8++)
    for (int i = 0; i < 3; i++) {
      qcase c = {9, 33, ks[i], 1, u8, 0, 1};
      bad += run_case(&c, kv, nk, pools, &ran, &plain);
      qcase d = {9, 33, ks[i], 1, u8, 2, 0}; /* pair_sat corrections with extreme inputs */
      bad += run_case(&d, kv, nk, pools, &ran, &plain);
    }
  CHECK_EQ(bad, 0);
  tc_threadpool_destroy(pools[0]);
  tc_threadpool_destroy(pools[1]);
}

/* Kernel choice by shape: a kernel with a fallback hands products below its K or M limits to
 * it (M 0 = unknown counts as large); kernels without one take every shape. */
TC_TEST(kernel_qgemm_kernel_for) {
  size_t n;
  const tc_kernel_variant *v = tc_kernel_variants(&n);
  int with_fallback = 0;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(v[i].op, "qgemm")) continue;
    tc_s8_qgemm_kernel *kr = v[i].impl;
    if (!kr->fallback) {
      CHECK(tc_qgemm_kernel_for(kr, 1, 1, 1, NULL) == kr);
      CHECK(tc_qgemm_kernel_for(kr, 100000, 4096, 4096, NULL) == kr);
      continue;
    }
    with_fallback++;
    /* every kernel with a fallback takes a large square product, and hands one row of depth 1
     * down; kernel_for follows the chain to a kernel that suits */
    CHECK(kr->suits != NULL);
    CHECK(tc_qgemm_kernel_for(kr, 4096, 4096, 4096, NULL) == kr);
    CHECK(tc_qgemm_kernel_for(kr, 0, 4096, 4096, NULL) == kr);
    CHECK(tc_qgemm_kernel_for(kr, 1, 8, 1, NULL) != kr);
    tc_s8_qgemm_kernel *to = tc_qgemm_kernel_for(kr, 1, 8, 1, NULL);
    CHECK(!to->suits || to->suits(1, 8, 1) || !to->fallback);
    /* a fallback runs wherever its kernel was chosen: kernels.def must require its features */
    int listed = 0;
    for (size_t j = 0; j < n; j++) {
      if (v[j].impl != (const void *)kr->fallback) continue;
      listed = 1;
      CHECK_MSG((v[j].required_features & ~v[i].required_features) == 0,
                "fallback %s needs features that %s does not require", v[j].symbol, v[i].symbol);
    }
    CHECK_MSG(listed, "the fallback of %s is not in kernels.def", v[i].symbol);
  }
#if defined(__x86_64__)
  {
    /* The AMX rule, from the per-layer measurements (docs/kernels.md): MobileNetV2's
     * 112x112x32 -> 16 and 28x28x32 -> 192, ResNet-8's 3x3x16 -> 16 and KWS's 64 -> 64 stay on
     * VNNI; its 14x14x64 -> 384, 14x14x576 -> 96 and 7x7x320 -> 1280 go to the tiles. */
    tc_s8_qgemm_kernel *amx = &tc_s8_qgemm__amx_32x32, *vnni = amx->fallback;
    CHECK(tc_qgemm_kernel_for(amx, 12544, 16, 32, NULL) == vnni);
    CHECK(tc_qgemm_kernel_for(amx, 784, 192, 32, NULL) == vnni);
    CHECK(tc_qgemm_kernel_for(amx, 1024, 16, 144, NULL) == vnni);
    CHECK(tc_qgemm_kernel_for(amx, 125, 64, 64, NULL) == vnni);
    CHECK(tc_qgemm_kernel_for(amx, 784, 32, 192, NULL) == vnni);
    CHECK(tc_qgemm_kernel_for(amx, 196, 384, 64, NULL) == amx);
    CHECK(tc_qgemm_kernel_for(amx, 196, 96, 576, NULL) == amx);
    CHECK(tc_qgemm_kernel_for(amx, 49, 1280, 320, NULL) == amx);
    CHECK(tc_qgemm_kernel_for(amx, 256, 32, 288, NULL) == amx);
    CHECK(tc_qgemm_kernel_for(amx, 15, 1280, 320, NULL) == vnni);
    /* VNNI hands shallow products of at most 8 columns (VWW's stem, K = 27) to AVX2 */
    CHECK(tc_qgemm_kernel_for(amx, 2304, 8, 27, NULL) == vnni->fallback);
    CHECK(tc_qgemm_kernel_for(vnni, 2304, 8, 27, NULL) == &tc_s8_qgemm__avx2_4x16);
    CHECK(tc_qgemm_kernel_for(vnni, 12544, 32, 27, NULL) == vnni);
    CHECK(tc_qgemm_kernel_for(vnni, 1024, 16, 27, NULL) == vnni);
    CHECK(tc_qgemm_kernel_for(vnni, 2304, 16, 8, NULL) == vnni);
    CHECK(tc_qgemm_kernel_for(vnni, 256, 32, 16, NULL) == vnni);
    CHECK(tc_qgemm_kernel_for(vnni, 12544, 96, 16, NULL) == vnni);
    CHECK(tc_qgemm_kernel_for(vnni, 1024, 16, 144, NULL) == vnni);
    tc_s8_qgemm_kernel *ub = &tc_s8_qgemm__avx2ub_4x16;
    CHECK(tc_qgemm_kernel_for(ub, 100, 64, 31, NULL) == ub->fallback);
    CHECK(tc_qgemm_kernel_for(ub, 1, 64, 64, NULL) == ub->fallback);
    CHECK(tc_qgemm_kernel_for(ub, 2, 64, 32, NULL) == ub);
  }
#endif
#if defined(__x86_64__)
  CHECK(with_fallback >= 1); /* the AMX kernel, compiled on every x86-64 build */
  CHECK(tc_s8_qgemm__amx_32x32.fallback == &tc_s8_qgemm__avx512vnni_8x32);
#else
  (void)with_fallback;
#endif
}

/* The float output stage's proof (tc_q_float_fit) against brute force: where it accepts a
 * column, the float form (written out here as q512.h computes it: fma to 1.5 * 2^23, the bits
 * less fq_sub, shifted) equals the reference requantization, clamped, at every accumulator of
 * the range (ranges up to 2^17 here, all of them tried), and on ranges up to 2^29 at every step
 * of the reference found by bisection and at random points. Multipliers with few bits (exact
 * ties in both roundings), random ones and the extremes, right shifts 0..22, RELU-like ranges
 * from the output offset and whole ranges (the form with the x < 0 term); also that it accepts most columns with right shifts 4..9 and ranges
 * under 2^23 (as in the benchmark models' shallow layers), so the fast stage is not silently
 * dead. */
static int32_t fq_expect(int32_t x, int32_t mult, int32_t rsh, int32_t zp, int32_t lo, int32_t hi) {
  int32_t v = (int32_t)((uint32_t)tc_q_mul_double(x, mult, -rsh) + (uint32_t)zp);
  return v < lo ? lo : v > hi ? hi : v;
}
static int32_t fq_form(int32_t x, float fs, int32_t sub, int32_t rsh, int32_t zp, int32_t lo,
                       int32_t hi) {
  const float y = fmaf((float)x, fs, 12582912.0f);
  uint32_t b;
  memcpy(&b, &y, 4);
  if (lo < zp && x < 0) b -= 1; /* the x < 0 term where stores can go below zp */
  const int32_t v = (int32_t)(b - (uint32_t)sub) >> rsh;
  return v < lo ? lo : v > hi ? hi : v;
}
TC_TEST(kernel_qgemm_float_stage_proof) {
  static const int32_t few_bits[] = {1 << 30, 3 << 28, 5 << 27, (1 << 30) + 1, 0x7fffffff,
                                     0x40000001, 1, 0};
  int accepted = 0, tried = 0, acc_low = 0, tried_low = 0, bad = 0;
  for (int round = 0; round < 600; round++) {
    const int32_t mult = round % 3 == 0 ? few_bits[rnd() % 8] : rnd_in(1 << 30, 0x7fffffff);
    const int32_t rsh = round % 4 == 0 ? rnd_in(0, 22) : rnd_in(4, 12);
    const int u8 = rnd() % 2;
    const int32_t zp = u8 ? rnd_in(0, 255) : rnd_in(-128, 127), hi_t = u8 ? 255 : 127;
    const int32_t lo_t = u8 ? 0 : -128;
    /* from the output offset (RELU), above it, or the type's whole range (the x < 0 term) */
    const int32_t lo = round % 3 == 2 ? lo_t
                       : rnd() % 4 ? zp
                                   : (zp + rnd_in(0, 20) < hi_t ? zp + rnd_in(0, 20) : zp);
    const int32_t hi = rnd() % 4 ? hi_t : (lo + rnd_in(0, 40) < hi_t ? lo + rnd_in(0, 40) : hi_t);
    const int small = round % 2 == 0;
    const int64_t bound =
        small ? rnd_in(0, 1 << 17) : round % 8 == 1 ? rnd_in(1 << 24, 1 << 29) : rnd_in(1 << 18, 1 << 23);
    float fs = -1;
    int32_t sub = 0;
    const int ok = tc_q_float_fit(mult, rsh, zp, lo, hi, bound, &fs, &sub);
    tried++;
    /* (2^23 / M: past it y < 0 for x = -bound, not ordered like its bits) */
    const int typical = mult >= (1 << 30) && rsh >= 4 && rsh <= 9 && round % 3 == 1 &&
                        bound < 1 << 23;
    tried_low += typical;
    if (!ok) continue;
    accepted++;
    acc_low += typical;
    const int32_t b = (int32_t)bound;
    if (small) {
      for (int32_t x = -b; x <= b; x++)
        if (fq_expect(x, mult, rsh, zp, lo, hi) != fq_form(x, fs, sub, rsh, zp, lo, hi) && bad++ < 3)
          CHECK_MSG(0, "mult %d rsh %d zp %d [%d, %d] bound %d: x %d gives %d, expected %d",
                    mult, rsh, zp, lo, hi, b, x, fq_form(x, fs, sub, rsh, zp, lo, hi),
                    fq_expect(x, mult, rsh, zp, lo, hi));
      continue;
    }
    /* every step of the reference (bisection), then random accumulators */
    for (int32_t n = lo + 1; n <= hi; n++) {
      int32_t l = -b, r = b; /* least x in [-b, b] with expect >= n, or b + 1 */
      if (fq_expect(b, mult, rsh, zp, lo, hi) < n) break;
      while (l < r) {
        const int32_t mid = l + (r - l) / 2;
        if (fq_expect(mid, mult, rsh, zp, lo, hi) >= n) r = mid;
        else l = mid + 1;
      }
      for (int32_t x = l - 2; x <= l + 2; x++)
        if (x >= -b && x <= b &&
            fq_expect(x, mult, rsh, zp, lo, hi) != fq_form(x, fs, sub, rsh, zp, lo, hi) && bad++ < 3)
          CHECK_MSG(0, "mult %d rsh %d zp %d bound %d: step %d at x %d differs", mult, rsh, zp, b,
                    n, x);
    }
    for (int i = 0; i < 2000; i++) {
      const int32_t x = rnd_in(-b, b);
      if (fq_expect(x, mult, rsh, zp, lo, hi) != fq_form(x, fs, sub, rsh, zp, lo, hi) && bad++ < 3)
        CHECK_MSG(0, "mult %d rsh %d zp %d bound %d: x %d differs", mult, rsh, zp, b, x);
    }
  }
  CHECK_EQ(bad, 0);
  CHECK(acc_low * 10 >= tried_low * 7); /* most typical columns take the fast stage */
  /* out of reach: a left shift of the accumulator is not taken (rshift < 0), nor bounds that
   * could wrap */
  float fs;
  int32_t sub;
  CHECK(!tc_q_float_fit(1 << 30, -1, 0, 0, 255, 1000, &fs, &sub));
  CHECK(!tc_q_float_fit(1 << 30, 8, 0, 0, 255, (int64_t)1 << 30, &fs, &sub));
  printf("  float output stage: %d of %d columns proved (%d of %d with right shifts 4..9)\n",
         accepted, tried, acc_low, tried_low);
}
