/* test_dw_qadd.c: the 8-bit ADD / SUB variants (vec_ops.h slots s8_addsub / u8_addsub) against
 * the reference on every pair of input bytes (65536 elements, so every vector path and every
 * rounding case of the input rescale is hit), for random scale sets spanning 2^-12 .. 2^4 with
 * extreme zero points, fused activation ranges, both broadcast forms (scalar operand, rows of a
 * [256] operand), and hand-made parameters outside the short exact form (large input shifts,
 * zero output shift, hostile offsets) that must take the general path. Bit-exact. */
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
    memset(got, 0x5a, bc.n_out);
    ((tc_q8_addsub_fn *)v[i].impl)(p, is_sub, &bc, a, b, got);
    size_t first = bc.n_out;
    for (size_t k = 0; k < bc.n_out && first == bc.n_out; k++)
      if (got[k] != want[k]) first = k;
    if (first != bc.n_out) bad++;
    CHECK_MSG(first == bc.n_out, "%s %s %s: out[%zu] = %d, ref %d (shifts %d %d %d)",
              v[i].symbol, is_sub ? "SUB" : "ADD", what, first,
              first < bc.n_out ? (int)got[first] : 0, first < bc.n_out ? (int)want[first] : 0,
              p->in1_shift, p->in2_shift, p->out_shift);
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
