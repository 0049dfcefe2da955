/* test_dw_ring.c: the 8-bit depthwise variants (vec_ops.h slots s8_dwconv / u8_dwconv) on the
 * shapes test_fastdw.c's small sweep does not reach: images wide enough to cut rows into
 * several ring tiles, channel counts that split into several ring blocks (up to 960), one input
 * channel with multipliers 8 and 16 (the broadcast rows) at widths past the 16-byte build
 * paths, 5x5 / 7x1 / 1x7 filters with strides 1-3 and dilations 1-3, batches; and the
 * requantization edges: accumulators at the largest magnitude the inputs allow, biases on both
 * sides of the bound that selects the short requantization, every right shift, left shifts,
 * INT32_MIN multipliers, per-channel parameters. Every variant must equal the reference bit for
 * bit, for every split of the output rows. */
#include <math.h>
#include <stdlib.h>

#include "kernels/ref/depthwise_q.h"
#include "kernels/ref/qmath.h"
#include "kernels/select.h"
#include "kernels/vec_ops.h"
#include "lite/ops.h"
#include "tc_test.h"

static uint32_t rnd(uint32_t *s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}
static int32_t rrange(uint32_t *s, int32_t lo, int32_t hi) {
  return lo + (int32_t)(rnd(s) % (uint32_t)(hi - lo + 1));
}

static int variants(const char *dtype, const tc_kernel_variant **out, int max) {
  size_t n = 0;
  const tc_kernel_variant *v = tc_kernel_variants(&n);
  int k = 0;
  for (size_t i = 0; i < n && k < max; i++)
    if (!strcmp(v[i].op, "dwconv") && !strcmp(v[i].dtype, dtype) &&
        tc_kernel_variant_supported(&v[i]))
      out[k++] = &v[i];
  return k;
}

typedef struct dw_shape {
  int32_t batch, h, w, c, m, kh, kw, s, d, same;
} dw_shape;

/* Data modes: 0 random, 1 extreme inputs and weights (largest |accumulator|), 2 biases around
 * the short-requantization bound, 3 random requantization edge cases. */
static int run_case(const dw_shape *sh, int is_u8, int mode, uint32_t seed) {
  const tc_kernel_variant *vs[8];
  int nv = variants(is_u8 ? "u8" : "s8", vs, 8);
  tc_dwconv2d_params p;
  memset(&p, 0, sizeof p);
  p.batch = sh->batch, p.in_h = sh->h, p.in_w = sh->w, p.in_c = sh->c;
  p.depth_multiplier = sh->m, p.k_h = sh->kh, p.k_w = sh->kw;
  p.stride_h = p.stride_w = sh->s, p.dilation_h = p.dilation_w = sh->d;
  if (!tc__conv_out_size(sh->same ? TC_PAD_SAME : TC_PAD_VALID, p.in_h, p.k_h, p.stride_h,
                         p.dilation_h, &p.out_h, &p.pad_top) ||
      !tc__conv_out_size(sh->same ? TC_PAD_SAME : TC_PAD_VALID, p.in_w, p.k_w, p.stride_w,
                         p.dilation_w, &p.out_w, &p.pad_left))
    return 0;
  const int32_t oc = p.in_c * p.depth_multiplier, T = p.k_h * p.k_w;
  const size_t n_in = (size_t)p.batch * p.in_h * p.in_w * p.in_c;
  const size_t n_out = (size_t)p.batch * p.out_h * p.out_w * oc;
  uint8_t *in = malloc(n_in), *w = malloc((size_t)T * oc);
  uint8_t *want = malloc(n_out), *got = malloc(n_out);
  int32_t *b = malloc((size_t)oc * 4), *mult = malloc((size_t)oc * 4),
          *shift = malloc((size_t)oc * 4);
  const int32_t lo = is_u8 ? 0 : -128, hi = is_u8 ? 255 : 127;
  const int32_t zp_in = mode == 1 ? (rnd(&seed) % 2 ? lo : hi) : rrange(&seed, lo, hi);
  tc_q_requant q;
  q.input_offset = -zp_in;
  q.filter_offset = is_u8 ? -(mode == 1 ? (rnd(&seed) % 2 ? 0 : 255) : rrange(&seed, 0, 255)) : 0;
  q.output_offset = rrange(&seed, lo, hi);
  q.act_min = lo, q.act_max = hi;
  if (rnd(&seed) % 3 == 0)
    q.act_min = rrange(&seed, lo, (lo + hi) / 2), q.act_max = rrange(&seed, q.act_min, hi);
  /* inputs: mode 1 pushes |input + offset| to 255 with weights of one sign per channel */
  const int32_t far = zp_in - lo > hi - zp_in ? lo : hi;
  for (size_t k = 0; k < n_in; k++)
    in[k] = (uint8_t)(mode == 1 ? (rnd(&seed) % 8 ? far : rrange(&seed, lo, hi))
                                : rrange(&seed, lo, hi));
  int64_t *wabs_c = malloc((size_t)oc * sizeof(int64_t));
  for (int32_t c = 0; c < oc; c++) {
    const int sign = (int)(rnd(&seed) % 2);
    int64_t wabs = 0;
    for (int32_t t = 0; t < T; t++) {
      int32_t v;
      if (mode == 1) v = is_u8 ? (sign ? 255 : 0) : (sign ? 127 : -128);
      else v = rrange(&seed, lo, hi);
      w[(size_t)t * oc + c] = (uint8_t)v;
      const int32_t wv = is_u8 ? v + q.filter_offset : v;
      wabs += wv < 0 ? -wv : wv;
    }
    wabs_c[c] = wabs;
  }
  /* largest |input + input_offset| */
  const int64_t vmax = llabs((int64_t)lo + q.input_offset) > llabs((int64_t)hi + q.input_offset)
                           ? llabs((int64_t)lo + q.input_offset)
                           : llabs((int64_t)hi + q.input_offset);
  for (int32_t c = 0; c < oc; c++) {
    b[c] = rrange(&seed, -50000, 50000);
    tc_q_quantize_multiplier(0.00001 + (double)(rnd(&seed) % 1000) * 1e-5, &mult[c], &shift[c]);
    if (mode == 2) { /* the short form needs |bias| + sum |w| * vmax < 2^30 - 4 */
      const int64_t room = ((int64_t)1 << 30) - 4 - wabs_c[c] * vmax;
      b[c] = (int32_t)(room - 2 + rrange(&seed, 0, 4)) * (rnd(&seed) % 2 ? 1 : -1);
      tc_q_quantize_multiplier(
          ldexp(1.0, -rrange(&seed, 1, 31)) * (1.0 + (rnd(&seed) % 997) / 1000.0), &mult[c],
          &shift[c]);
    }
    if (mode == 3) {
      const int kind = (int)(rnd(&seed) % 6);
      mult[c] = (int32_t)((rnd(&seed) | 0x40000000u) & 0x7fffffffu);
      shift[c] = rrange(&seed, -31, 0);
      if (kind == 0) shift[c] = rrange(&seed, 1, 8);
      if (kind == 1) mult[c] = INT32_MIN;
      if (kind == 2) b[c] = (int32_t)rnd(&seed);
      if (kind == 3) shift[c] = 0;
      if (kind == 4) mult[c] = 0;
    }
  }
  q.mult = mult, q.shift = shift;
  const int32_t *bias = rnd(&seed) % 5 ? b : NULL;
  if (is_u8) tc_u8_depthwise_conv2d__ref(&p, &q, in, w, bias, want);
  else
    tc_s8_depthwise_conv2d__ref(&p, &q, (const int8_t *)in, (const int8_t *)w, bias,
                                (int8_t *)want);
  const int32_t rows = p.batch * p.out_h;
  int bad = 0;
  for (int v = 0; v < nv; v++) {
    const tc_q8_dwconv_ukernel *kr = vs[v]->impl;
    size_t size = kr->packed_size(&p);
    void *packed = size ? aligned_alloc(64, (size + 63) / 64 * 64) : NULL;
    if (size) kr->pack(&p, &q, w, bias, packed);
    for (int split = 0; split < 2; split++) {
      memset(got, 0x5a, n_out);
      if (!split) {
        kr->run(&p, &q, in, w, bias, packed, got, 0, rows);
      } else { /* uneven row ranges across image boundaries */
        int32_t r0 = 0;
        while (r0 < rows) {
          int32_t r1 = r0 + 1 + (int32_t)(rnd(&seed) % (uint32_t)(p.out_h + 2));
          if (r1 > rows) r1 = rows;
          kr->run(&p, &q, in, w, bias, packed, got, r0, r1);
          r0 = r1;
        }
      }
      size_t first = n_out;
      for (size_t k = 0; k < n_out; k++)
        if (got[k] != want[k]) {
          first = k;
          break;
        }
      if (first != n_out) bad++;
      CHECK_MSG(first == n_out,
                "%s mode %d split %d: out[%zu] = %d, ref %d (b%d %dx%dx%d m%d k%dx%d s%d d%d %s "
                "channel %d)",
                vs[v]->symbol, mode, split, first, first < n_out ? (int)got[first] : 0,
                first < n_out ? (int)want[first] : 0, (int)sh->batch, (int)sh->h, (int)sh->w,
                (int)sh->c, (int)sh->m, (int)sh->kh, (int)sh->kw, (int)sh->s, (int)sh->d,
                sh->same ? "SAME" : "VALID", first < n_out ? (int)(first % (size_t)oc) : -1);
    }
    free(packed);
  }
  free(in), free(w), free(want), free(got), free(b), free(mult), free(shift), free(wabs_c);
  return bad == 0;
}

static const dw_shape shapes[] = {
    /* model layers */
    {1, 96, 96, 1, 8, 3, 3, 2, 1, 1},    {1, 48, 48, 8, 1, 3, 3, 1, 1, 1},
    {1, 48, 48, 16, 1, 3, 3, 2, 1, 1},   {1, 25, 5, 64, 1, 3, 3, 1, 1, 1},
    {1, 112, 112, 32, 1, 3, 3, 1, 1, 1}, {1, 112, 112, 96, 1, 3, 3, 2, 1, 1},
    {1, 14, 14, 384, 1, 3, 3, 1, 1, 1},  {1, 7, 7, 960, 1, 3, 3, 1, 1, 1},
    /* broadcast rows: one input channel, wide, both strides, multipliers 8 and 16 */
    {1, 9, 61, 1, 8, 3, 3, 1, 1, 1},     {2, 11, 77, 1, 16, 3, 3, 2, 1, 0},
    {1, 8, 40, 1, 8, 5, 5, 1, 2, 1},     {1, 10, 33, 1, 3, 3, 3, 2, 1, 1},
    /* gathers with several ring blocks */
    {1, 9, 50, 40, 3, 3, 3, 1, 1, 1},    {1, 7, 31, 33, 2, 3, 3, 2, 1, 0},
    /* tiles: wide rows, odd channels */
    {1, 6, 301, 24, 1, 3, 3, 1, 1, 1},   {2, 5, 250, 17, 1, 3, 3, 2, 1, 1},
    {1, 4, 200, 200, 1, 3, 3, 1, 1, 1},  {1, 5, 130, 7, 1, 3, 3, 3, 1, 1},
    /* other filters, dilations */
    {1, 20, 40, 16, 1, 5, 5, 1, 1, 1},   {1, 17, 45, 12, 1, 5, 5, 2, 3, 1},
    {1, 30, 9, 8, 1, 7, 1, 1, 2, 1},     {1, 9, 30, 8, 1, 1, 7, 1, 1, 0},
    {1, 12, 64, 40, 1, 3, 3, 1, 3, 1},   {1, 13, 37, 5, 2, 2, 3, 2, 2, 0},
};

static void sweep(int is_u8) {
  const tc_kernel_variant *vs[8];
  CHECK(variants(is_u8 ? "u8" : "s8", vs, 8) >= 1);
  uint32_t seed = is_u8 ? 0xbeef01u : 0x5eed02u;
  int ran = 0;
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
    for (int mode = 0; mode < 4; mode++) {
      run_case(&shapes[i], is_u8, mode, rnd(&seed));
      ran++;
    }
  CHECK(ran > 80);
}

TC_TEST(kernel_dw_ring_s8) { sweep(0); }
TC_TEST(kernel_dw_ring_u8) { sweep(1); }

/* Random small shapes in the four data modes (the sweep of test_fastdw.c covers geometry;
 * this one the requantization paths), channels 1..40, multipliers 1, 2, 8. */
TC_TEST(kernel_dw_ring_requant) {
  uint32_t seed = 77;
  for (int i = 0; i < 400; i++) {
    dw_shape sh;
    sh.batch = 1 + (i % 7 == 0);
    sh.h = rrange(&seed, 1, 12);
    sh.w = rrange(&seed, 1, 20);
    sh.c = rrange(&seed, 1, 40);
    static const int32_t ms[] = {1, 1, 2, 8};
    sh.m = ms[rnd(&seed) % 4];
    if (sh.m == 8) sh.c = rrange(&seed, 1, 3);
    sh.kh = sh.kw = 3;
    if (i % 5 == 4) sh.kh = rrange(&seed, 1, 4), sh.kw = rrange(&seed, 1, 4);
    sh.s = rrange(&seed, 1, 2);
    sh.d = i % 6 == 5 ? 2 : 1;
    sh.same = (int)(rnd(&seed) % 2);
    run_case(&sh, (int)(i % 2), (int)(i / 2 % 4), rnd(&seed));
  }
}

/* Small images, where output rows are short and run in batches (several rows as one stream
 * through offset tables, the ring a sliding window): every width 1..9 and height 1..4, both
 * strides, SAME (both sides padded on the narrowest) and VALID, channels 8..72 with odd
 * counts, multipliers 2, 3 and 8, other filters and dilation 2 now and then; then tall images
 * of short rows (the window slides, rows move), several channel blocks and batches. */
static const dw_shape tall_short[] = {
    {1, 61, 5, 64, 1, 3, 3, 1, 1, 1},  {1, 40, 7, 200, 1, 3, 3, 1, 1, 1},
    {1, 33, 3, 520, 1, 3, 3, 1, 1, 1}, {1, 50, 9, 24, 1, 3, 3, 2, 1, 1},
    {1, 30, 6, 16, 1, 3, 3, 1, 2, 1},  {2, 29, 4, 33, 1, 5, 5, 1, 1, 1},
    {1, 45, 8, 40, 2, 3, 3, 2, 1, 0},  {1, 37, 6, 1, 8, 3, 3, 1, 1, 1},
    {3, 17, 5, 72, 1, 3, 3, 1, 1, 1},  {1, 26, 2, 960, 1, 3, 3, 1, 1, 1},
    {1, 70, 1, 9, 1, 7, 1, 1, 1, 1},   {1, 25, 5, 64, 1, 3, 3, 2, 1, 1},
};

static void small_shape(uint32_t *seed, int32_t w, int32_t h, int32_t st, int32_t same,
                        dw_shape *sh) {
  static const int32_t chans[] = {8, 9, 15, 16, 17, 24, 31, 33, 40, 47, 64, 71, 72};
  memset(sh, 0, sizeof *sh);
  sh->batch = rnd(seed) % 6 == 0 ? 2 : 1;
  sh->h = h, sh->w = w, sh->s = st, sh->same = same, sh->d = 1;
  sh->c = chans[rnd(seed) % (sizeof chans / sizeof chans[0])];
  sh->m = 1;
  const uint32_t mk = rnd(seed) % 8;
  if (mk == 0) sh->m = 2, sh->c = rrange(seed, 4, 36);
  if (mk == 1) sh->m = 3, sh->c = rrange(seed, 3, 24);
  if (mk == 2) sh->m = 8, sh->c = rrange(seed, 1, 3);
  sh->kh = sh->kw = 3;
  const uint32_t fk = rnd(seed) % 10;
  if (fk == 0) sh->kh = sh->kw = 5;
  if (fk == 1) sh->kh = 1, sh->kw = 1;
  if (fk == 2) sh->kh = 2, sh->kw = 3;
  if (fk == 3) sh->d = 2;
}

/* Every small image (width 1..9, height 1..4, stride 1/2, VALID/SAME) in a fixed order: shape i
 * drawn by small_shape, then run by fn (which may draw from the same seed). */
typedef void small_fn(const dw_shape *sh, int i, uint32_t *seed);
static void each_small_shape(uint32_t *seed, small_fn *fn) {
  int i = 0;
  for (int32_t w = 1; w <= 9; w++)
    for (int32_t h = 1; h <= 4; h++)
      for (int32_t st = 1; st <= 2; st++)
        for (int32_t same = 0; same <= 1; same++, i++) {
          dw_shape sh;
          small_shape(seed, w, h, st, same, &sh);
          fn(&sh, i, seed);
        }
}

static void small_q8(const dw_shape *sh, int i, uint32_t *seed) {
  run_case(sh, i % 2, i / 2 % 4, rnd(seed));
}

TC_TEST(kernel_dw_ring_small_q8) {
  uint32_t seed = 0x5a11u;
  each_small_shape(&seed, small_q8);
  for (size_t k = 0; k < sizeof tall_short / sizeof tall_short[0]; k++)
    for (int is_u8 = 0; is_u8 < 2; is_u8++)
      run_case(&tall_short[k], is_u8, (int)(k + (size_t)is_u8) % 4, rnd(&seed));
}

/* ---- float32 ------------------------------------------------------------------------------- */

/* Every float variant against the reference on wide shapes (ring tiles and channel blocks),
 * within FMA rounding: |got - want| <= 1e-5 * (sum |x w| + |b|). */
static void f32_check(tc_dwconv2d_params p, uint32_t seed, int nonfinite);

static void f32_case(const dw_shape *sh, uint32_t seed, int nonfinite) {
  tc_dwconv2d_params p;
  memset(&p, 0, sizeof p);
  p.batch = sh->batch, p.in_h = sh->h, p.in_w = sh->w, p.in_c = sh->c;
  p.depth_multiplier = sh->m, p.k_h = sh->kh, p.k_w = sh->kw;
  p.stride_h = p.stride_w = sh->s, p.dilation_h = p.dilation_w = sh->d;
  if (!tc__conv_out_size(sh->same ? TC_PAD_SAME : TC_PAD_VALID, p.in_h, p.k_h, p.stride_h,
                         p.dilation_h, &p.out_h, &p.pad_top) ||
      !tc__conv_out_size(sh->same ? TC_PAD_SAME : TC_PAD_VALID, p.in_w, p.k_w, p.stride_w,
                         p.dilation_w, &p.out_w, &p.pad_left))
    return;
  f32_check(p, seed, nonfinite);
}

static void f32_check(tc_dwconv2d_params p, uint32_t seed, int nonfinite) {
  const tc_kernel_variant *vs[8];
  size_t nvar = 0;
  const tc_kernel_variant *all = tc_kernel_variants(&nvar);
  int nv = 0;
  for (size_t i = 0; i < nvar && nv < 8; i++)
    if (!strcmp(all[i].op, "dwconv") && !strcmp(all[i].dtype, "f32") &&
        tc_kernel_variant_supported(&all[i]))
      vs[nv++] = &all[i];
  p.act_min = rnd(&seed) % 2 ? -INFINITY : 0.0f;
  p.act_max = rnd(&seed) % 2 ? INFINITY : 6.0f;
  const int32_t oc = p.in_c * p.depth_multiplier, T = p.k_h * p.k_w;
  const size_t n_in = (size_t)p.batch * p.in_h * p.in_w * p.in_c;
  const size_t n_out = (size_t)p.batch * p.out_h * p.out_w * oc;
  float *in = malloc(n_in * 4), *w = malloc((size_t)T * oc * 4), *b = malloc((size_t)oc * 4);
  float *want = malloc(n_out * 4), *got = malloc(n_out * 4), *mag = malloc(n_out * 4);
  float *absin = malloc(n_in * 4), *absw = malloc((size_t)T * oc * 4);
  for (size_t k = 0; k < n_in; k++) in[k] = (float)rrange(&seed, -1000, 1000) / 256.0f;
  for (size_t k = 0; k < (size_t)T * oc; k++) w[k] = (float)rrange(&seed, -1000, 1000) / 512.0f;
  for (int32_t c = 0; c < oc; c++) b[c] = (float)rrange(&seed, -100, 100) / 64.0f;
  if (nonfinite) { /* top-left tap of channel 0 infinite, of channel 1 NaN: border pixels differ */
    w[0] = INFINITY;
    if (oc > 1) w[1] = NAN;
  }
  for (size_t k = 0; k < n_in; k++) absin[k] = fabsf(in[k]);
  for (size_t k = 0; k < (size_t)T * oc; k++) absw[k] = fabsf(w[k]);
  tc_dwconv2d_params pm = p;
  pm.act_min = -INFINITY, pm.act_max = INFINITY;
  tc_f32_depthwise_conv2d__ref(&pm, absin, absw, NULL, mag);
  tc_f32_depthwise_conv2d__ref(&p, in, w, b, want);
  for (int v = 0; v < nv; v++) {
    const tc_f32_dwconv_ukernel *kr = vs[v]->impl;
    memset(got, 0, n_out * 4);
    int32_t r0 = 0, rows = p.batch * p.out_h;
    while (r0 < rows) {
      int32_t r1 = r0 + 1 + (int32_t)(rnd(&seed) % (uint32_t)(p.out_h + 1));
      if (r1 > rows) r1 = rows;
      kr->run(&p, in, w, b, got, r0, r1);
      r0 = r1;
    }
    size_t bad = n_out;
    for (size_t k = 0; k < n_out && bad == n_out; k++) {
      const float tol = 1e-5f * (mag[k] + fabsf(b[k % (size_t)oc])) + 1e-30f;
      if (isnan(want[k]) != isnan(got[k]) || (!isnan(want[k]) && isinf(want[k]) && got[k] != want[k]) ||
          (isfinite(want[k]) && !(fabsf(got[k] - want[k]) <= tol)))
        bad = k;
    }
    CHECK_MSG(bad == n_out, "%s: out[%zu] = %g, ref %g (%dx%dx%d k%dx%d s%dx%d d%dx%d pad %d,%d%s)",
              vs[v]->symbol, bad, bad < n_out ? (double)got[bad] : 0.0,
              bad < n_out ? (double)want[bad] : 0.0, (int)p.in_h, (int)p.in_w, (int)p.in_c,
              (int)p.k_h, (int)p.k_w, (int)p.stride_h, (int)p.stride_w, (int)p.dilation_h,
              (int)p.dilation_w, (int)p.pad_top, (int)p.pad_left,
              nonfinite ? " non-finite weights" : "");
  }
  free(in), free(w), free(b), free(want), free(got), free(mag), free(absin), free(absw);
}

TC_TEST(kernel_dw_ring_f32) {
  uint32_t seed = 4242;
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) f32_case(&shapes[i], rnd(&seed), 0);
  static const dw_shape nf[] = {{1, 20, 20, 8, 1, 3, 3, 1, 1, 1}, {1, 40, 40, 16, 1, 3, 3, 2, 1, 1},
                                {1, 9, 30, 3, 1, 5, 5, 1, 1, 1}};
  for (size_t i = 0; i < sizeof nf / sizeof nf[0]; i++) f32_case(&nf[i], rnd(&seed), 1);
}

/* The small images of kernel_dw_ring_small_q8, float32 (finite and non-finite weights). */
static void small_f32(const dw_shape *sh, int i, uint32_t *seed) {
  f32_case(sh, rnd(seed), i % 17 == 3);
}

TC_TEST(kernel_dw_ring_small_f32) {
  uint32_t seed = 0xf5a11u;
  each_small_shape(&seed, small_f32);
  for (size_t k = 0; k < sizeof tall_short / sizeof tall_short[0]; k++)
    f32_case(&tall_short[k], rnd(&seed), k % 5 == 2);
}

/* Height and width with different strides, dilations and paddings (the 3x3 in-place path takes
 * any row stride and dilation; column stride 2 and row stride 1, explicit paddings of 0-2 rows
 * or columns), with finite and non-finite weights. */
TC_TEST(kernel_dw_ring_f32_mixed_axes) {
  uint32_t seed = 0x3a7e5u;
  static const int32_t dims[][3] = {{9, 14, 16}, {12, 7, 33}, {5, 23, 8}, {16, 16, 48}};
  int ran = 0;
  for (size_t i = 0; i < sizeof dims / sizeof dims[0]; i++)
    for (int sh = 1; sh <= 2; sh++)
      for (int sw = 1; sw <= 2; sw++)
        for (int dh = 1; dh <= 3; dh++)
          for (int pad = 0; pad < 3; pad++) {
            tc_dwconv2d_params p;
            memset(&p, 0, sizeof p);
            p.batch = 1 + (int32_t)(i % 2), p.in_h = dims[i][0], p.in_w = dims[i][1];
            p.in_c = dims[i][2], p.depth_multiplier = 1, p.k_h = p.k_w = 3;
            p.stride_h = sh, p.stride_w = sw, p.dilation_h = dh, p.dilation_w = 1;
            p.pad_top = pad == 2 ? 2 : pad, p.pad_left = pad == 2 ? 0 : pad;
            if (pad == 2 && dh == 1) p.pad_left = 2; /* two outside columns on the left */
            p.out_h = (p.in_h + 2 * p.pad_top - (2 * dh + 1)) / sh + 1;
            p.out_w = (p.in_w + 2 * p.pad_left - 3) / sw + 1;
            if (p.out_h < 1 || p.out_w < 1) continue;
            f32_check(p, rnd(&seed), (int)(rnd(&seed) % 4 == 0));
            ran++;
          }
  CHECK(ran > 120);
}
