/* test_dw_qadd.c: the 8-bit ADD / SUB variants (vec_ops.h slots s8_addsub / u8_addsub) against
 * the reference on every pair of input bytes (65536 elements, so every vector path and every
 * rounding case of the input rescale is hit), for random scale sets spanning 2^-12 .. 2^4 with
 * extreme zero points, fused activation ranges, both broadcast forms (scalar operand, rows of a
 * [256] operand), and hand-made parameters outside the short exact form (large input shifts,
 * zero output shift, hostile offsets) that must take the general path. Each variant runs with
 * lin NULL and, where tc_qadd_lin_fit finds one, with the linear form; the parameter sets of
 * the models' ADDs (ic_resnet8, MobileNet V2 uint8) must have one. Bit-exact. */
#include <math.h>
#include <stdlib.h>

#include "kernels/ref/binary_q.h"
#include "kernels/select.h"
#include "kernels/vec_ops.h"
#include "tc_test.h"

static uint32_t rnd(uint32_t *s) {
  uint32_t x = *s;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *s = x;
}

static float rscale(uint32_t *s, int lo_exp, int hi_exp) {
  const int e = lo_exp + (int)(rnd(s) % (uint32_t)(hi_exp - lo_exp + 1));
  return ldexpf(1.0f + (float)(rnd(s) % 1000) / 1000.0f, e);
}

static int n_lin_found; /* linear forms found by check() */

/* Runs every variant of the slot on a (na elements) and b (nb) broadcast to out dims. */
static int check(int is_u8, int is_sub, const tc_qadd_params *p, int na, const int32_t *da,
                 int nb, const int32_t *db, const uint8_t *a, const uint8_t *b, const char *what) {
  size_t n = 0;
  const tc_kernel_variant *v = tc_kernel_variants(&n);
  tc_bcast bc;
  if (!tc_bcast_init(&bc, na, da, nb, db)) return 0;
  uint8_t *want = malloc(bc.n_out), *got = malloc(bc.n_out);
  if (is_u8) (is_sub ? tc_u8_sub__ref : tc_u8_add__ref)(p, &bc, a, b, want);
  else
    (is_sub ? tc_s8_sub__ref : tc_s8_add__ref)(p, &bc, (const int8_t *)a, (const int8_t *)b,
                                               (int8_t *)want);
  int bad = 0;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(v[i].op, "addsub") || strcmp(v[i].dtype, is_u8 ? "u8" : "s8") ||
        !tc_kernel_variant_supported(&v[i]))
      continue;
    tc_q8_addsub_fn *fn = (tc_q8_addsub_fn *)v[i].impl;
    tc_qadd_lin lin;
    const int has_lin = tc_qadd_lin_fit(p, is_sub, is_u8, fn, &lin);
    if (has_lin) n_lin_found++;
    for (int use_lin = 0; use_lin <= has_lin; use_lin++) {
      memset(got, 0x5a, bc.n_out);
      fn(p, use_lin ? &lin : NULL, is_sub, &bc, a, b, got);
      size_t first = bc.n_out;
      for (size_t k = 0; k < bc.n_out && first == bc.n_out; k++)
        if (got[k] != want[k]) first = k;
      if (first != bc.n_out) bad++;
      CHECK_MSG(first == bc.n_out, "%s%s %s %s: out[%zu] = %d, ref %d (shifts %d %d %d)",
                v[i].symbol, use_lin ? " (linear form)" : "", is_sub ? "SUB" : "ADD", what,
                first, first < bc.n_out ? (int)got[first] : 0,
                first < bc.n_out ? (int)want[first] : 0, p->in1_shift, p->in2_shift,
                p->out_shift);
    }
  }
  free(want), free(got);
  return bad == 0;
}

TC_TEST(kernel_dw_qadd_exhaustive) {
  uint8_t *a = malloc(65536), *b = malloc(65536), *row = malloc(256);
  for (int i = 0; i < 65536; i++) a[i] = (uint8_t)(i >> 8), b[i] = (uint8_t)i;
  for (int i = 0; i < 256; i++) row[i] = (uint8_t)i;
  uint32_t seed = 2024;
  int ran = 0;
  for (int t = 0; t < 120; t++) {
    const int is_u8 = t % 2, is_sub = t / 2 % 2;
    static const int32_t zs[] = {-128, 127, 0, -1, 33}, zu[] = {0, 255, 128, 1, 200};
    const int32_t *z = is_u8 ? zu : zs;
    const int32_t tlo = is_u8 ? 0 : -128, thi = is_u8 ? 255 : 127;
    const float s1 = rscale(&seed, -12, 4), s2 = t % 7 == 0 ? s1 : rscale(&seed, -12, 4);
    const float smax = s1 > s2 ? s1 : s2;
    const float so = smax * rscale(&seed, -6, 3); /* output scale near the inputs' */
    const int32_t lo = t % 5 == 1 ? tlo + (int32_t)(rnd(&seed) % 100) : tlo;
    const int32_t hi = t % 5 == 2 ? thi - (int32_t)(rnd(&seed) % 100) : thi;
    tc_qadd_params p;
    if (!tc_qadd_params_init(&p, is_sub, 0, s1, z[rnd(&seed) % 5], s2, z[rnd(&seed) % 5], so,
                             z[rnd(&seed) % 5], lo, hi))
      continue;
    const int32_t d2[2] = {256, 256}, d1[1] = {256}, d0[1] = {1};
    check(is_u8, is_sub, &p, 2, d2, 2, d2, a, b, "same shape");
    check(is_u8, is_sub, &p, 2, d2, 1, d1, a, row, "row broadcast");
    check(is_u8, is_sub, &p, 1, d0, 2, d2, a + 200 * 256, b, "scalar a");
    ran++;
  }
  CHECK(ran > 80);
  CHECK(n_lin_found > ran * 3 * 9 / 10); /* three calls per set: nearly every set has one */
  /* parameters outside the short form: the general path, still exact */
  const int32_t d2[2] = {256, 256};
  for (int k = 0; k < 12; k++) {
    const int is_u8 = k / 6;
    tc_qadd_params p;
    CHECK(tc_qadd_params_init(&p, k % 2, 0, 0.02f, 3, 0.03f, is_u8 ? 7 : -7, 0.05f, 1,
                              is_u8 ? 0 : -128, is_u8 ? 255 : 127));
    if (k / 2 % 3 == 0) p.in1_shift = -24; /* tiny input multiplier */
    if (k / 2 % 3 == 1) p.out_shift = 0, p.out_mult = 1 << 30;
    if (k / 2 % 3 == 2) p.in2_offset = 300; /* outside the 8-bit range */
    check(is_u8, k % 2, &p, 2, d2, 2, d2, a, b, "general path");
  }
  free(a), free(b), free(row);
}

/* The ADDs of the models in ../shared/models (scales and zero points from the files): every
 * one must get a linear form, the same from every variant (the fit sees only exact outputs),
 * and every variant must be exact with it; the same scales as SUB need not have one. */
TC_TEST(kernel_dw_qadd_model_params) {
  static const struct {
    float s1; int32_t z1; float s2; int32_t z2; float so; int32_t zo; int is_u8;
  } cases[] = {
      {0.0393935516f, -128, 0.104194961f, 4, 0.0509456731f, -128, 0},  /* ic_resnet8 op 3 */
      {0.0447614267f, -17, 0.113118842f, 4, 0.0532362163f, -128, 0},   /* ic_resnet8 op 7 */
      {0.0838583037f, 38, 0.217243642f, -2, 0.127069145f, -128, 0},    /* ic_resnet8 op 11 */
      {0.401492953f, 136, 0.275834352f, 119, 0.432168961f, 133, 1},    /* MobileNet V2 op 9 */
      {0.227941841f, 121, 0.218362421f, 127, 0.259689987f, 130, 1},    /* MobileNet V2 op 16 */
  };
  uint8_t *a = malloc(65536), *b = malloc(65536);
  for (int i = 0; i < 65536; i++) a[i] = (uint8_t)(i >> 8), b[i] = (uint8_t)i;
  const int32_t d2[2] = {256, 256};
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    for (int is_sub = 0; is_sub < 2; is_sub++) {
      const int is_u8 = cases[c].is_u8;
      tc_qadd_params p;
      CHECK(tc_qadd_params_init(&p, is_sub, 0, cases[c].s1, cases[c].z1, cases[c].s2,
                                cases[c].z2, cases[c].so, cases[c].zo, is_u8 ? 0 : -128,
                                is_u8 ? 255 : 127));
      tc_qadd_lin lin, lin_ref;
      const int has_lin = tc_qadd_lin_fit(
          &p, is_sub, is_u8, is_u8 ? tc_u8_addsub__ref : tc_s8_addsub__ref, &lin_ref);
      /* the models' ops are ADDs; as SUB the same scales need not have a linear form */
      CHECK_MSG(has_lin || is_sub, "case %zu: no linear form", c);
      size_t n = 0;
      const tc_kernel_variant *v = tc_kernel_variants(&n);
      for (size_t i = 0; i < n; i++) {
        if (strcmp(v[i].op, "addsub") || strcmp(v[i].dtype, is_u8 ? "u8" : "s8") ||
            !tc_kernel_variant_supported(&v[i]))
          continue;
        CHECK(tc_qadd_lin_fit(&p, is_sub, is_u8, (tc_q8_addsub_fn *)v[i].impl, &lin) == has_lin);
        CHECK(!has_lin || memcmp(&lin, &lin_ref, sizeof lin) == 0);
      }
      if (has_lin) { /* the portable definition, on every pair */
        int8_t want[256];
        const int32_t d1 = 1, d256 = 256;
        tc_bcast bc;
        CHECK(tc_bcast_init(&bc, 1, &d1, 1, &d256));
        int bad = 0;
        for (int x = 0; x < 256; x++) {
          const uint8_t xb = (uint8_t)x;
          (is_u8 ? tc_u8_addsub__ref : tc_s8_addsub__ref)(&p, NULL, is_sub, &bc, &xb, b, want);
          for (int y = 0; y < 256; y++) {
            const int32_t xv = is_u8 ? x : (int8_t)xb, yv = is_u8 ? y : (int8_t)(uint8_t)y;
            const int32_t wv = is_u8 ? (uint8_t)want[y] : want[y];
            bad += tc_qadd_lin_eval(&lin_ref, xv, yv) != wv;
          }
        }
        CHECK_MSG(bad == 0, "case %zu sub %d: tc_qadd_lin_eval differs on %d pairs", c, is_sub, bad);
      }
      n_lin_found = 0;
      check(is_u8, is_sub, &p, 2, d2, 2, d2, a, b, "model parameters");
    }
  }
  free(a), free(b);
}
