/* s8_qgemm_amx.c: the AMX 8-bit GEMM microkernel of qgemm.h (kgroup 4, kalign 16), a 32x32
 * block of int32 accumulators in four AMX tiles. The operands are the AVX-512 VNNI kernel's: A
 * uint8 in byte groups (int8 inputs read as x + 128, the bias carrying -128 * sum_k w'), B int8
 * w' - a_sum_mult with each row's a_sum_mult * (sum of its A bytes) added at the end, so the
 * accumulators are the reference's wrap32(exact sum) (TDPBUSD adds each group's 4 u8 x s8
 * products to the int32 lane with wrap-around, as VPDPBUSD does).
 *
 * Tiles: tmm0..3 accumulate rows 0-15 / 16-31 x columns 0-15 / 16-31; tmm4 and tmm5 hold 16
 * rows of A by 16 groups (64 bytes of K), tmm6 and tmm7 16 groups by 16 columns of B. B is read
 * straight from the packed panel (group-major, 16 or 32 columns of 4 bytes per group: a tile is
 * 16 consecutive groups at the panel's row stride), A from its packed strip (row r at r * kp
 * words, each row zero-padded to kp = a multiple of 16 groups, so no step needs a shorter
 * tile). A call configures the tiles for its row count (ldtilecfg: tiles of rows >= `rows` are
 * neither loaded nor used), runs every panel, and releases the tiles.
 * The output stage stores each accumulator tile to a 1 KiB buffer on the stack and requantizes
 * its rows 16 columns at a time with the VNNI kernel's arithmetic (q512.h), so outputs are
 * bit-exact with the reference kernels.
 * Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mamx-tile -mamx-int8; select.c
 * runs it only where cpuid, XCR0 and Linux's arch_prctl tile permission allow (cpu.c). Products
 * with K < 32 or fewer than 16 rows go to the VNNI kernel (tc_qgemm_kernel_for): the tile step
 * is 64 bytes of K and 16 rows whatever the product's size.
 * tests/kernels/avx512_emu/run.sh checks it on machines without AMX (scalar tile emulation). */
#include "kernels/qgemm.h"

/* gcc names the feature macro __AMX_INT8__, clang __AMXINT8__ */
#if defined(__x86_64__) && defined(__AVX512VNNI__) && \
    (defined(__AMX_INT8__) || defined(__AMXINT8__))
#include <string.h>

#include "kernels/select.h"
#include "kernels/x86/q512.h"

#define MR 32
#define NR 32
#define KSTEP 16 /* groups per tile step: 64 bytes of K */

/* The 64-byte tile configuration (palette 1): bytes per row and rows of each tile. */
typedef struct tilecfg {
  uint8_t palette, start_row, reserved[14];
  uint16_t colsb[16];
  uint8_t rows[16];
} tilecfg;

/* The VNNI kernel's strip layout with rows kp words apart, kp rounded up to KSTEP groups. */
static void amx_pack_a(size_t rows, size_t n_seg, size_t seg_len, const void *const *src,
                       int flags, int16_t *dst16) {
  const size_t kp = (n_seg * ((seg_len + 3) / 4) + KSTEP - 1) / KSTEP * KSTEP;
  q512_pack_rows(MR, kp * 4, rows, n_seg, seg_len, src, flags, dst16);
}

/* The output stage of 16 columns at j, of which `cols` are stored: their parameters, loaded
 * once for both row halves. */
typedef struct cols16 {
  q512_rq p;
  __m512i bias;
  __mmask16 m;
  size_t j;
} cols16;

static inline __attribute__((always_inline)) cols16 cols_load(const tc_qgemm_cols *q, size_t j,
                                                              size_t cols) {
  cols16 k;
  k.p = q512_rq_load(q, j);
  k.bias = q512_bias(q, j);
  k.m = q512_lane_mask(cols);
  k.j = j;
  return k;
}

/* One accumulator tile's rows [0, nrows) (strip rows r0 + i): bias, the row sums' term,
 * requantization, bytes. */
static inline __attribute__((always_inline)) void store_tile(
    const int32_t *t, size_t nrows, size_t r0, const cols16 *k, const int32_t *sums,
    const tc_qgemm_cols *q, __m512i zp, __m512i lo, __m512i hi, char *c, size_t ldc) {
  const uint32_t asm_ = (uint32_t)q->a_sum_mult;
  for (size_t i = 0; i < nrows; i++) {
    __m512i x = _mm512_add_epi32(_mm512_loadu_si512(t + 16 * i), k->bias);
    if (asm_) x = _mm512_add_epi32(x, _mm512_set1_epi32((int32_t)(asm_ * (uint32_t)sums[r0 + i])));
    q512_store16(c + (r0 + i) * ldc + k->j, k->m, q512_requant16(x, &k->p, q, zp), q, lo, hi);
  }
}

static void amx_run(size_t rows, size_t nc, size_t kp, const int16_t *pa, const int16_t *pb16,
                    const tc_qgemm_cols *qp, void *cv, size_t ldc) {
  /* A local copy: the byte stores may alias anything, this copy cannot be aliased. */
  const tc_qgemm_cols qc = *qp, *q = &qc;
  char *c = cv;
  const size_t r0 = rows < 16 ? rows : 16, r1 = rows > 16 ? rows - 16 : 0;
  tilecfg cfg;
  memset(&cfg, 0, sizeof cfg);
  cfg.palette = 1;
  for (int t = 0; t < 8; t++) cfg.colsb[t] = 64;
  cfg.rows[0] = cfg.rows[1] = cfg.rows[4] = (uint8_t)r0;
  cfg.rows[2] = cfg.rows[3] = cfg.rows[5] = (uint8_t)r1; /* 0: unused */
  if (!r1) cfg.colsb[2] = cfg.colsb[3] = cfg.colsb[5] = 0;
  cfg.rows[6] = cfg.rows[7] = KSTEP;
  __asm__ volatile("" ::: "memory"); /* ldtilecfg reads all 64 bytes */
  _tile_loadconfig(&cfg);

  const char *a0 = (const char *)pa, *a1 = a0 + 16 * kp * 4;
  const int32_t *sums = (const int32_t *)pa + MR * kp;
  const long sa = (long)(kp * 4);
  const __m512i zp = _mm512_set1_epi32(q->out_zp);
  const __m512i lo = _mm512_set1_epi32(q512_lo(q)), hi = _mm512_set1_epi32(q512_hi(q));
  int32_t buf[16 * 16] __attribute__((aligned(64)));
  const char *pb = (const char *)pb16;
  for (size_t j = 0; j < nc; j += NR) {
    const size_t cols = nc - j < NR ? nc - j : NR;
    const int w32 = cols > NR / 2;
    const long sb = w32 ? 4 * NR : 4 * NR / 2; /* bytes from one group of the panel to the next */
    _tile_zero(0); /* only configured tiles: rows 16-31 exist when r1 > 0 */
    if (w32) _tile_zero(1);
    if (r1) _tile_zero(2);
    if (r1 && w32) _tile_zero(3);
    /* The four shapes as separate loops (the tile numbers are part of the instructions). */
    if (w32 && r1) {
      for (size_t g = 0; g < kp; g += KSTEP) {
        _tile_loadd(4, a0 + g * 4, sa);
        _tile_loadd(6, pb + g * sb, sb);
        _tile_loadd(7, pb + g * sb + 64, sb);
        _tile_loadd(5, a1 + g * 4, sa);
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 4, 7);
        _tile_dpbusd(2, 5, 6);
        _tile_dpbusd(3, 5, 7);
      }
    } else if (w32) {
      for (size_t g = 0; g < kp; g += KSTEP) {
        _tile_loadd(4, a0 + g * 4, sa);
        _tile_loadd(6, pb + g * sb, sb);
        _tile_loadd(7, pb + g * sb + 64, sb);
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 4, 7);
      }
    } else if (r1) {
      for (size_t g = 0; g < kp; g += KSTEP) {
        _tile_loadd(4, a0 + g * 4, sa);
        _tile_loadd(6, pb + g * sb, sb);
        _tile_loadd(5, a1 + g * 4, sa);
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(2, 5, 6);
      }
    } else {
      for (size_t g = 0; g < kp; g += KSTEP) {
        _tile_loadd(4, a0 + g * 4, sa);
        _tile_loadd(6, pb + g * sb, sb);
        _tile_dpbusd(0, 4, 6);
      }
    }
    const size_t c0 = cols < 16 ? cols : 16;
    {
      const cols16 k = cols_load(q, j, c0);
      _tile_stored(0, buf, 64);
      store_tile(buf, r0, 0, &k, sums, q, zp, lo, hi, c, ldc);
      if (r1) {
        _tile_stored(2, buf, 64);
        store_tile(buf, r1, 16, &k, sums, q, zp, lo, hi, c, ldc);
      }
    }
    if (w32) {
      const cols16 k = cols_load(q, j + 16, cols - c0);
      _tile_stored(1, buf, 64);
      store_tile(buf, r0, 0, &k, sums, q, zp, lo, hi, c, ldc);
      if (r1) {
        _tile_stored(3, buf, 64);
        store_tile(buf, r1, 16, &k, sums, q, zp, lo, hi, c, ldc);
      }
    }
    pb += (size_t)sb * kp;
  }
  _tile_release();
}

/* Where the tiles beat the VNNI kernel, as measured per layer on a Sapphire Rapids VM
 * (docs/kernels.md, "AMX"): deep products (K >= 256), or K >= 192 with N >= 64, or K >= 64 with
 * N >= 256; and at least 16 rows. Below that the fixed cost of the tile stores and the
 * requantization of whole 32x32 blocks outweighs the faster multiplies. */
static int amx_suits(int32_t m, int32_t n, int32_t k) {
  if (m > 0 && m < 16) return 0;
  return k >= 256 || (k >= 192 && n >= 64) || (k >= 64 && n >= 256);
}

/* At 2 threads on the lent Sapphire Rapids VM the AMX layers of MobileNetV2 below 16M
 * multiply-adds (14x14 and 7x7 pixels, 2.4M to 15M) took 0.6x to 1.0x their 1-thread time, e.g.
 * 14x14x576 -> 96 19 us at 1 thread and 34 at 2; only 7x7x320 -> 1280 (20M) gained (43 -> 37
 * us). So the tiles stay on one thread below 16M (min_parallel_macs). */
const struct tc_s8_qgemm_ukernel tc_s8_qgemm__amx_32x32 = {
    .name = "amx_32x32", .mr = MR, .nr = NR, .pack_a = amx_pack_a, .run = amx_run, .kgroup = 4,
    .kalign = KSTEP, .fallback = &tc_s8_qgemm__avx512vnni_8x32, .suits = amx_suits,
    .min_parallel_macs = 16.0 * 1024 * 1024, .float_stage = 1};
#endif
