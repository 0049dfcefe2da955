/* qgemm.c: the driver of the 8-bit GEMM of qgemm.h: packs the weights (int16 pairs, or byte
 * groups for kgroup 4 kernels, in column panels, K in the caller's segment layout) with the
 * folded bias and the requantization split
 * into per-column shift / mask / threshold arrays, cuts the output into row x column blocks for
 * the thread pool, and in each block packs A one mr-row strip at a time (rows or segments read
 * in place, or produced by a callback into per-thread scratch) and runs the microkernel across
 * the block's panels. Exact integer arithmetic, so any tiling and thread count give the same
 * bytes. */
#include "kernels/qgemm.h"

#include <string.h>

#include "core/core.h"
#include "kernels/ref/qmath.h"
#include "kernels/select.h"

enum {
  B_BLOCK_BYTES = 128 * 1024, /* packed B per task: stays in L2 */
  VIEW_BLOCK = 64,            /* rows per run_view call */
};
/* Below this many multiply-adds (whole tiles) a product runs on the calling thread. */
#define MIN_PARALLEL_MACS (256.0 * 1024)

tc_s8_qgemm_kernel *tc_s8_qgemm_default_kernel(void) { return tc_kernels()->s8_qgemm; }

static size_t panel_width(size_t nr, size_t n, size_t j0) {
  size_t rem = n - j0;
  return rem >= nr ? nr : (rem <= nr / 2 ? nr / 2 : nr);
}

/* Packed column count: full panels plus the last panel's width. */
static size_t packed_cols(size_t nr, size_t n) {
  size_t full = n / nr * nr;
  return full < n ? full + panel_width(nr, n, full) : full;
}

/* Per-column arrays: n_pad + 8 entries (kernels read whole vectors, and one column past). */
static size_t col_array_bytes(size_t n_pad) { return TC_ALIGN_UP((n_pad + 8) * 4, 64); }
/* bias, mult, lshift, rshift, rmask, rhalf, bias_a_s8, fscale, fq_sub */
enum { N_COL_ARRAYS = 9 };

/* k values per packed 32-bit word (qgemm.h): 2 (int16 pairs) or 4 (bytes). */
static size_t kgroup(tc_s8_qgemm_kernel *kr) { return kr->kgroup == 4 ? 4 : 2; }

/* Packed groups (qgemm.h): n_seg segments of kp_seg groups, rounded up to kr->kalign. */
static size_t packed_kp(tc_s8_qgemm_kernel *kr, size_t n_seg, size_t kp_seg) {
  const size_t al = kr->kalign > 1 ? (size_t)kr->kalign : 1;
  return (n_seg * kp_seg + al - 1) / al * al;
}

static int32_t wval(const tc_qgemm_weights *w, size_t j, size_t kk) {
  const char *row = (const char *)w->w + j * w->ldw;
  int32_t v = w->w_is_u8 ? (int32_t)((const uint8_t *)row)[kk] : (int32_t)((const int8_t *)row)[kk];
  return v + w->w_offset;
}

static size_t n_panels(size_t nr, size_t n) { return (n + nr - 1) / nr; }

/* Packed groups of a product of depth k in n_seg segments (0 or 1: one). */
static size_t kp_of(tc_s8_qgemm_kernel *kr, int32_t k, int32_t n_seg) {
  const size_t ns = n_seg > 1 ? (size_t)n_seg : 1, g = kgroup(kr);
  return packed_kp(kr, ns, ((size_t)k / ns + g - 1) / g);
}

int32_t tc_qgemm_fix_cap(tc_s8_qgemm_kernel *kr, int32_t n, int32_t k, int32_t n_seg) {
  if (!kr) kr = tc_s8_qgemm_default_kernel();
  if (!kr->pair_sat || n <= 0 || k <= 0) return 0;
  /* a correction costs about what 2 groups' worth of K loop saves on such a kernel (AVX2:
   * ~30 vector ops per 4-row strip, against 14 saved per group): at most one per 8 groups
   * and panel keeps them under a quarter of the gain */
  return (int32_t)(n_panels((size_t)kr->nr, (size_t)n) * kp_of(kr, k, n_seg) / 8);
}

/* kgroup 4: what B holds is w' - this (w for int8 weights, w - 128 for uint8 ones). */
static int32_t g4_sub(const tc_qgemm_weights *w) { return w->w_offset + (w->w_is_u8 ? 128 : 0); }
/* ... so a stored weight byte xor this is its B byte, whatever the offset. */
static uint8_t g4_flip(const tc_qgemm_weights *w) { return w->w_is_u8 ? 0x80 : 0; }

/* The right shifts the short requantization (tc_qgemm_cols.plain) takes: at least 1, and at
 * most 22, so the output offset term of rconst (|out_zp| 2^(31 + 22) < 2^61) leaves
 * x m + rconst inside int64. */
static int plain_rshift(int32_t rsh) { return rsh >= 1 && rsh <= 22; }

/* pair_sat: the part of b1 to move into a correction so that no pair product of (b0, b1)
 * with uint8 inputs can leave int16 (same-sign magnitudes summing to at most 128); 0 if the
 * pair is safe. */
static int32_t pair_excess(int32_t b0, int32_t b1) {
  if ((b0 > 0 && b1 > 0 && b0 + b1 > 128)) return b0 + b1 - 128;
  if ((b0 < 0 && b1 < 0 && b0 + b1 < -128)) return b0 + b1 + 128;
  return 0;
}

int32_t tc_qgemm_fix_count(tc_s8_qgemm_kernel *kr, int32_t n, int32_t k,
                           const tc_qgemm_weights *w) {
  if (!kr) kr = tc_s8_qgemm_default_kernel();
  if (!kr->pair_sat || n <= 0 || k <= 0) return 0;
  const size_t n_seg = w->n_seg > 1 ? (size_t)w->n_seg : 1, seg_len = (size_t)k / n_seg;
  const uint8_t flip = g4_flip(w);
  int32_t count = 0;
  for (size_t j = 0; j < (size_t)n; j++) {
    const uint8_t *row = (const uint8_t *)w->w + j * w->ldw;
    for (size_t sg = 0; sg < n_seg; sg++, row += seg_len)
      for (size_t o = 0; o + 1 < seg_len; o += 2) /* pairs start at even offsets */
        count += pair_excess((int8_t)(row[o] ^ flip), (int8_t)(row[o + 1] ^ flip)) != 0;
  }
  return count;
}

tc_s8_qgemm_kernel *tc_qgemm_kernel_fit(tc_s8_qgemm_kernel *kr, int32_t n, int32_t k,
                                        const tc_qgemm_weights *w) {
  if (!kr) kr = tc_s8_qgemm_default_kernel();
  while (kr->pair_sat && kr->fallback &&
         tc_qgemm_fix_count(kr, n, k, w) > tc_qgemm_fix_cap(kr, n, k, w->n_seg))
    kr = kr->fallback;
  return kr;
}

tc_s8_qgemm_kernel *tc_qgemm_kernel_for(tc_s8_qgemm_kernel *kr, int32_t m, int32_t n, int32_t k,
                                        const tc_qgemm_weights *w) {
  if (!kr) kr = tc_s8_qgemm_default_kernel();
  for (;;) {
    while (kr->fallback && kr->suits && !kr->suits(m, n, k)) kr = kr->fallback;
    tc_s8_qgemm_kernel *fit = w ? tc_qgemm_kernel_fit(kr, n, k, w) : kr;
    if (fit == kr) return kr;
    kr = fit;
  }
}

/* pair_sat: the panel start table (panels + 1 entries) and room for the corrections. */
static size_t fix_bytes(tc_s8_qgemm_kernel *kr, int32_t n, int32_t k, int32_t n_seg) {
  if (!kr->pair_sat) return 0;
  return TC_ALIGN_UP((n_panels((size_t)kr->nr, (size_t)n) + 1) * 4, 64) +
         (size_t)tc_qgemm_fix_cap(kr, n, k, n_seg) * sizeof(tc_qgemm_fix);
}

size_t tc_qgemm_packed_size_seg(tc_s8_qgemm_kernel *kr, int32_t n, int32_t k, int32_t n_seg) {
  if (!kr) kr = tc_qgemm_kernel_for(NULL, 0, n, k, NULL);
  if (n <= 0 || k <= 0) return 0;
  if (n_seg < 1) n_seg = 1;
  const size_t nr = (size_t)kr->nr, kp = kp_of(kr, k, n_seg);
  const size_t n_pad = ((size_t)n + nr - 1) / nr * nr;
  return 64 + TC_ALIGN_UP(sizeof(tc_qgemm_packed), 64) +
         tc_qgemm_output_stage_size((int32_t)n_pad) + packed_cols(nr, (size_t)n) * kp * 4 +
         fix_bytes(kr, n, k, n_seg);
}

size_t tc_qgemm_packed_size(tc_s8_qgemm_kernel *kr, int32_t n, int32_t k) {
  return tc_qgemm_packed_size_seg(kr, n, k, 1);
}


size_t tc_qgemm_output_stage_size(int32_t n_pad) {
  return (N_COL_ARRAYS + 2) * col_array_bytes(n_pad > 0 ? (size_t)n_pad : 0);
}

/* The output stage of n columns (K = k weights each) in `mem` (64-aligned,
 * tc_qgemm_output_stage_size(n_pad) bytes); g: the kernel's kgroup (the bias for int8 A read as
 * x + 128, *bias_s8). 0 when the weights cannot be handled exactly. */
static int fill_stage(const tc_qgemm_weights *w, size_t nn, size_t kk_n, size_t n_pad, size_t g,
                      int want_fq, char *p, tc_qgemm_cols *cols, const int32_t **bias_s8_out) {
  if (w->w_offset < -255 || w->w_offset > 255 || w->in_offset < -255 || w->in_offset > 255)
    return 0;
  for (size_t j = 0; j < nn; j++)
    if (w->mult[j] < 0 || w->shift[j] < -31 || w->shift[j] > 31) return 0;
  int32_t *arr[N_COL_ARRAYS];
  for (int i = 0; i < N_COL_ARRAYS; i++, p += col_array_bytes(n_pad)) arr[i] = (int32_t *)p;
  int32_t *bias = arr[0], *mult = arr[1], *lsh = arr[2], *rsh = arr[3], *rmask = arr[4];
  int32_t *rhalf = arr[5], *bias_s8 = arr[6], *fq_sub = arr[8];
  float *fscale = (float *)(void *)arr[7];
  int64_t *rconst = (int64_t *)p;
  int any_lshift = 0, plain = 1;
  int64_t bound_all = 0;
  for (size_t j = 0; j < n_pad + 8; j++) {
    bias[j] = mult[j] = lsh[j] = rsh[j] = rmask[j] = rhalf[j] = bias_s8[j] = fq_sub[j] = 0;
    fscale[j] = 0.0f;
    if (j >= nn) continue;
    uint32_t sum = 0;  /* sum of w' (wraps like the reference's int32 accumulator) */
    int64_t bound = 0; /* of |sum of w' x| for 8-bit x */
    for (size_t kk = 0; kk < kk_n; kk++) {
      const int32_t v = wval(w, j, kk);
      sum += (uint32_t)v;
      bound += (int64_t)(v < 0 ? -v : v) * 255;
    }
    bias[j] = (int32_t)((w->bias ? (uint32_t)w->bias[j] : 0u) + (uint32_t)w->in_offset * sum);
    bound += bias[j] < 0 ? -(int64_t)bias[j] : bias[j];
    /* int8 A read as x + 128 by kgroup 4 kernels */
    bias_s8[j] = g == 4 ? (int32_t)((uint32_t)bias[j] - 128u * sum) : bias[j];
    mult[j] = w->mult[j];
    lsh[j] = w->shift[j] > 0 ? w->shift[j] : 0;
    rsh[j] = w->shift[j] > 0 ? 0 : -w->shift[j];
    rmask[j] = (int32_t)(((int64_t)1 << rsh[j]) - 1);
    rhalf[j] = rmask[j] >> 1;
    any_lshift |= lsh[j] > 0;
    plain &= lsh[j] == 0 && plain_rshift(rsh[j]) && bound < ((int64_t)1 << 30) - 4;
    if (bound > bound_all) bound_all = bound;
  }
  const int32_t lo_t = w->out_u8 ? 0 : -128, hi_t = w->out_u8 ? 255 : 127;
  const int32_t act_lo = w->act_min > lo_t ? w->act_min : lo_t;
  const int32_t act_hi = w->act_max < hi_t ? w->act_max : hi_t;
  /* the float output stage (qgemm.h): every column proved, a column with the previous one's
   * multiplier and shift sharing its proof (a per-tensor layer is checked once) */
  int fq = want_fq && !any_lshift && nn > 0;
  for (size_t j = 0; fq && j < nn; j++) {
    if (j && mult[j] == mult[j - 1] && rsh[j] == rsh[j - 1]) {
      fscale[j] = fscale[j - 1];
      fq_sub[j] = fq_sub[j - 1];
      continue;
    }
    fq = tc_q_float_fit(mult[j], rsh[j], w->out_zp, act_lo, act_hi, bound_all, &fscale[j],
                        &fq_sub[j]);
  }
  for (size_t j = 0; j < n_pad + 8; j++) /* rconst: even columns of each 8, then odd ones */
    rconst[j / 8 * 8 + (j % 2) * 4 + (j % 8) / 2] =
        plain_rshift(rsh[j])
            ? ((int64_t)1 << 30) + ((int64_t)1 << (30 + rsh[j])) +
                  (int64_t)w->out_zp * ((int64_t)1 << (31 + rsh[j]))
            : 0;
  memset(cols, 0, sizeof *cols);
  cols->bias = bias;
  cols->mult = mult;
  cols->lshift = lsh;
  cols->rshift = rsh;
  cols->rmask = rmask;
  cols->rhalf = rhalf;
  cols->rconst = rconst;
  cols->plain = plain;
  cols->fq = fq;
  cols->fscale = fscale;
  cols->fq_sub = fq_sub;
  /* kgroup 4: B bytes are w' - a_sum_mult, within int8 (w for int8 weights, w - 128 for uint8) */
  cols->a_sum_mult = g == 4 ? g4_sub(w) : 0;
  cols->out_zp = w->out_zp;
  cols->act_min = w->act_min;
  cols->act_max = w->act_max;
  cols->out_u8 = w->out_u8;
  cols->any_lshift = any_lshift;
  cols->clamp = w->act_min > lo_t || w->act_max < hi_t;
  cols->neg_term = act_lo < w->out_zp;
  if (bias_s8_out) *bias_s8_out = bias_s8;
  return 1;
}

int tc_qgemm_output_stage(const tc_qgemm_weights *w, int32_t n, int32_t k, int32_t n_pad,
                          void *mem, tc_qgemm_cols *cols) {
  if (n <= 0 || k <= 0 || n_pad < n || ((uintptr_t)mem & 63)) return 0;
  return fill_stage(w, (size_t)n, (size_t)k, (size_t)n_pad, 2, 0, mem, cols, NULL);
}

/* kgroup 4 panels (see tc_qgemm_pack): B = w' - a_sum_mult as bytes, which is the weight byte
 * xor 0x80 for uint8 weights (w - 128) and the byte itself for int8 ones, then xor kr->b_xor;
 * zero past n, past a segment's end and in the pad groups. For pair_sat kernels (fix_at set)
 * every unsafe pair is split (pair_excess) and its correction listed per panel; returns the
 * number of corrections, or -1 if they would pass fix_cap. */
static int32_t pack_b_g4(tc_s8_qgemm_kernel *kr, const tc_qgemm_weights *w, size_t nn,
                         size_t n_seg, size_t seg_len, size_t kp_seg, size_t pad_groups,
                         uint8_t *dst, int32_t *fix_at, tc_qgemm_fix *fix, int32_t fix_cap) {
  const size_t nr = (size_t)kr->nr;
  const uint8_t flip = g4_flip(w), bx = (uint8_t)kr->b_xor;
  int32_t n_fix = 0;
  for (size_t j0 = 0; j0 < nn; j0 += nr) {
    const size_t width = panel_width(nr, nn, j0);
    if (fix_at) fix_at[j0 / nr] = n_fix;
    for (size_t sg = 0; sg < n_seg; sg++)
      for (size_t q = 0; q < kp_seg; q++) {
        const size_t nb = seg_len - 4 * q < 4 ? seg_len - 4 * q : 4; /* bytes in the segment */
        for (size_t jj = 0; jj < width; jj++, dst += 4) {
          uint8_t v[4] = {0, 0, 0, 0};
          if (j0 + jj < nn) {
            const uint8_t *src =
                (const uint8_t *)w->w + (j0 + jj) * w->ldw + sg * seg_len + 4 * q;
            for (size_t h = 0; h < 4; h++)
              if (h < nb) v[h] = src[h] ^ flip;
          }
          for (size_t h = 1; fix_at && h < 4; h += 2) {
            const int32_t e = pair_excess((int8_t)v[h - 1], (int8_t)v[h]);
            if (!e) continue;
            if (n_fix == fix_cap) return -1;
            v[h] = (uint8_t)((int8_t)v[h] - e);
            fix[n_fix++] = (tc_qgemm_fix){(int32_t)(4 * (sg * kp_seg + q) + h), (int32_t)jj, e, 0};
          }
          for (size_t h = 0; h < 4; h++) dst[h] = v[h] ^ bx;
        }
      }
    for (size_t i = 0; i < pad_groups * width * 4; i++) *dst++ = bx;
  }
  if (fix_at) fix_at[n_panels(nr, nn)] = n_fix;
  return n_fix;
}

const tc_qgemm_packed *tc_qgemm_pack(tc_s8_qgemm_kernel *kr, int32_t n, int32_t k,
                                     const tc_qgemm_weights *w, void *buf) {
  if (!kr) kr = tc_qgemm_kernel_for(NULL, 0, n, k, NULL);
  if (n <= 0 || k <= 0 || !buf) return NULL;
  const int32_t n_seg = w->n_seg > 1 ? w->n_seg : 1;
  if (k % n_seg != 0) return NULL;
  const size_t nr = (size_t)kr->nr, nn = (size_t)n, kk_n = (size_t)k;
  const size_t g = kgroup(kr), seg_len = kk_n / (size_t)n_seg, kp_seg = (seg_len + g - 1) / g;
  const size_t kp = packed_kp(kr, (size_t)n_seg, kp_seg), n_pad = (nn + nr - 1) / nr * nr;
  char *p = (char *)TC_ALIGN_UP((uintptr_t)buf, 64);
  tc_qgemm_packed *pk = (tc_qgemm_packed *)p;
  p += TC_ALIGN_UP(sizeof(tc_qgemm_packed), 64);
  if (!fill_stage(w, nn, kk_n, n_pad, g, kr->float_stage, p, &pk->cols, &pk->bias_a_s8))
    return NULL;
  p += tc_qgemm_output_stage_size((int32_t)n_pad);
  int16_t *b = (int16_t *)p;
  /* Panels: group q of segment sg holds k = sg * seg_len + g q + h (h < g, inside the segment),
   * as int16 values (g = 2) or int8 bytes (g = 4), or for gemv the weight bytes as given; the
   * kalign groups past the last segment are zero (written as one more segment, all past its
   * end). */
  const size_t pad_groups = kp - (size_t)n_seg * kp_seg;
  if (g == 4) {
    int32_t *fix_at = NULL;
    tc_qgemm_fix *fix = NULL;
    if (kr->pair_sat) { /* the panel table and the corrections after B */
      fix_at = (int32_t *)(p + packed_cols(nr, nn) * kp * 4);
      fix = (tc_qgemm_fix *)((char *)fix_at + TC_ALIGN_UP((n_panels(nr, nn) + 1) * 4, 64));
    }
    if (pack_b_g4(kr, w, nn, (size_t)n_seg, seg_len, kp_seg, pad_groups, (uint8_t *)p, fix_at,
                  fix, tc_qgemm_fix_cap(kr, n, k, n_seg)) < 0)
      return NULL; /* more corrections than this kernel takes */
    pk->cols.fix_at = fix_at;
    pk->cols.fix = fix;
  } else {
    const int gemv = kr->gemv && w->m_hint == 1;
    int16_t *dst = b;
    int8_t *dst8 = (int8_t *)b;
    for (size_t j0 = 0; j0 < nn; j0 += nr) {
      const size_t width = panel_width(nr, nn, j0);
      for (size_t sg = 0; sg <= (size_t)n_seg; sg++)
        for (size_t q = 0; q < (sg < (size_t)n_seg ? kp_seg : pad_groups); q++)
          for (size_t jj = 0; jj < width; jj++)
            for (size_t h = 0; h < 2; h++) {
              const size_t j = j0 + jj, off = sg < (size_t)n_seg ? 2 * q + h : seg_len;
              if (gemv)
                *dst8++ = (int8_t)(j < nn && off < seg_len
                                       ? ((const int8_t *)w->w)[j * w->ldw + sg * seg_len + off]
                                       : 0);
              else
                *dst++ = (int16_t)(j < nn && off < seg_len ? wval(w, j, sg * seg_len + off) : 0);
            }
    }
  }
  pk->kr = kr;
  pk->n = n;
  pk->k = k;
  pk->kp = (int32_t)kp;
  pk->n_pad = (int32_t)n_pad;
  pk->n_seg = n_seg;
  pk->seg_len = (int32_t)seg_len;
  const int gemv = g == 2 && kr->gemv && w->m_hint == 1;
  pk->b = gemv ? NULL : b;
  pk->b8 = gemv ? (const int8_t *)b : NULL;
  pk->w_u8 = w->w_is_u8;
  pk->w_offset = w->w_offset;
  return pk;
}

/* Rows packed and run per call: one strip, or for multi kernels a block of strips whose packed A
 * and row buffers take about 32 KiB (at most 64 rows). */
static size_t block_rows(const tc_qgemm_packed *pk) {
  const size_t mr = (size_t)pk->kr->mr;
  if (!pk->kr->multi) return mr;
  const size_t per_row = (size_t)pk->kp * 4 + (size_t)pk->k + 16 + (size_t)pk->n_seg * 8;
  size_t rows = 32768 / per_row / mr * mr;
  return rows < mr ? mr : rows > 64 ? 64 : rows;
}

/* Per thread: the packed A strips of a block, a row buffer of k + 16 bytes per row (for
 * rows_fn / segs_fn), and the block's segment pointer table (rows * n_seg). */
static size_t strips_bytes(const tc_qgemm_packed *pk) {
  const size_t mr = (size_t)pk->kr->mr;
  return block_rows(pk) / mr * tc_qgemm_strip_bytes(mr, (size_t)pk->kp);
}
static size_t rowbuf_stride(const tc_qgemm_packed *pk) {
  return TC_ALIGN_UP((size_t)pk->k + 16, 64);
}
static size_t thread_scratch(const tc_qgemm_packed *pk) {
  const size_t rows = block_rows(pk);
  return strips_bytes(pk) + rows * rowbuf_stride(pk) +
         TC_ALIGN_UP(rows * (size_t)pk->n_seg * sizeof(void *), 64);
}

size_t tc_qgemm_scratch_size(const tc_qgemm_packed *pk, int n_threads) {
  if (!pk) return 0;
  if (n_threads < 1) n_threads = 1;
  return 64 + (size_t)n_threads * thread_scratch(pk);
}

typedef struct qjob {
  const tc_qgemm_packed *pk;
  size_t m;
  const tc_qgemm_a *a;
  char *out;
  size_t ldc;
  char *scratch;
  size_t mb, nb, n_mblocks;
} qjob;

/* Segment pointers of rows i .. i + rows - 1 into segs[r * n_seg + s]. */
static void strip_segs(const tc_qgemm_packed *pk, const tc_qgemm_a *a, size_t i, size_t rows,
                       char *rowbuf, size_t stride, const void **segs) {
  const size_t n_seg = (size_t)pk->n_seg, seg_len = (size_t)pk->seg_len;
  if (a->segs_fn) {
    a->segs_fn(a->ctx, i, rows, rowbuf, stride, segs);
    return;
  }
  const void *rp[64]; /* row pointers (<= 64 rows), then spread to segments */
  if (a->rows_fn)
    a->rows_fn(a->ctx, i, rows, rowbuf, stride, rp);
  else
    for (size_t r = 0; r < rows; r++) rp[r] = (const char *)a->base + (i + r) * a->lda;
  for (size_t r = 0; r < rows; r++) {
    const char *row = rp[r];
    for (size_t sg = 0; sg < n_seg; sg++) segs[r * n_seg + sg] = row + sg * seg_len;
  }
}

/* The output stage from column j0 on, with the bias for A's type. */
static tc_qgemm_cols cols_at(const tc_qgemm_packed *pk, int a_is_u8, size_t j0) {
  tc_qgemm_cols cols = pk->cols;
  cols.bias = (a_is_u8 ? pk->cols.bias : pk->bias_a_s8) + j0;
  cols.mult += j0;
  cols.lshift += j0;
  cols.rshift += j0;
  cols.rmask += j0;
  cols.rhalf += j0;
  cols.rconst += j0;
  cols.fscale += j0;
  cols.fq_sub += j0;
  if (cols.fix_at) cols.fix_at += j0 / (size_t)pk->kr->nr;
  return cols;
}

static void qgemm_task(void *ctx, size_t task, int thread) {
  const qjob *job = ctx;
  const tc_qgemm_packed *pk = job->pk;
  tc_s8_qgemm_kernel *kr = pk->kr;
  const size_t kp = (size_t)pk->kp, n = (size_t)pk->n, blk = block_rows(pk);
  const size_t i0 = (task % job->n_mblocks) * job->mb, j0 = (task / job->n_mblocks) * job->nb;
  const size_t i1 = TC_MIN(job->m, i0 + job->mb), nc = TC_MIN(n - j0, job->nb);
  char *ts = job->scratch + (size_t)thread * thread_scratch(pk);
  int16_t *pa = (int16_t *)ts;
  char *rowbuf = ts + strips_bytes(pk);
  const size_t stride = rowbuf_stride(pk);
  const void **segs = (const void **)(rowbuf + blk * stride);
  const tc_qgemm_a *a = job->a;
  const tc_qgemm_cols cols = cols_at(pk, a->is_u8, j0);
  const int16_t *b = pk->b + j0 * kp * 2; /* panels before j0 are full */
  const int flags = (a->is_u8 ? TC_QGEMM_A_U8 : 0) | (a->overread ? TC_QGEMM_A_OVERREAD : 0);
  /* A plain matrix in one segment: rows in place, over-readable by 15 bytes past a row that
   * has later rows to run into. */
  const int matrix = !a->segs_fn && !a->rows_fn && pk->n_seg == 1;
  const size_t lda = a->lda;
  if (a->view_fn && kr->run_view) { /* rows in place in the caller's view: no packing */
    const void *rp[VIEW_BLOCK];
    for (size_t i = i0; i < i1; i += VIEW_BLOCK) {
      const size_t rows = TC_MIN(VIEW_BLOCK, i1 - i);
      a->view_fn(a->ctx, i, rows, rp);
      kr->run_view(rows, nc, (size_t)pk->n_seg, (size_t)pk->seg_len, rp, a->seg_step, b, &cols,
                   job->out + i * job->ldc + j0, job->ldc);
    }
    return;
  }
  for (size_t i = i0; i < i1; i += blk) {
    const size_t rows = TC_MIN(blk, i1 - i);
    int f = flags;
    if (matrix) {
      const char *row = (const char *)a->base + i * lda;
      for (size_t r = 0; r < rows; r++, row += lda) segs[r] = row;
      if ((i + rows) * lda + 15 <= job->m * lda) f |= TC_QGEMM_A_OVERREAD;
    } else {
      strip_segs(pk, a, i, rows, rowbuf, stride, segs);
    }
    kr->pack_a(rows, (size_t)pk->n_seg, (size_t)pk->seg_len, segs, f, pa);
    kr->run(rows, nc, kp, pa, b, &cols, job->out + i * job->ldc + j0, job->ldc);
  }
}

/* ---- few rows: kr->gemv on byte weights --------------------------------------------------- */

typedef struct gjob {
  const tc_qgemm_packed *pk;
  const int32_t *pairs, *row_add; /* rows x kp pairs, per-row additions */
  size_t rows, nb;
  int a_is_u8;
  char *out;
  size_t ldc;
} gjob;

static void gemv_task(void *ctx, size_t task, int thread) {
  const gjob *g = ctx;
  const tc_qgemm_packed *pk = g->pk;
  const size_t kp = (size_t)pk->kp, j0 = task * g->nb, nc = TC_MIN((size_t)pk->n - j0, g->nb);
  const tc_qgemm_cols cols = cols_at(pk, g->a_is_u8, j0);
  (void)thread;
  for (size_t r = 0; r < g->rows; r++)
    pk->kr->gemv(nc, kp, g->pairs + r * kp, g->row_add[r], pk->b8 + j0 * kp * 2, pk->w_u8, &cols,
                 g->out + r * g->ldc + j0);
}

/* Up to mr rows at a time: their pairs and sums on this thread (in the first thread's A strip),
 * then the columns split over the pool. */
static void gemv_rows(const tc_qgemm_packed *pk, tc_threadpool *pool, size_t m,
                      const tc_qgemm_a *a, char *out, size_t ldc, char *scratch) {
  const size_t mr = (size_t)pk->kr->mr, nr = (size_t)pk->kr->nr, kp = (size_t)pk->kp;
  const size_t n = (size_t)pk->n, n_seg = (size_t)pk->n_seg, seg_len = (size_t)pk->seg_len;
  int32_t *pairs = (int32_t *)scratch; /* mr * kp words fit the first strip */
  char *rowbuf = scratch + strips_bytes(pk);
  const size_t stride = rowbuf_stride(pk);
  const void **segs = (const void **)(rowbuf + block_rows(pk) * stride);
  int32_t row_add[16];
  size_t nb = 32 * 1024 / (kp * 2) / nr * nr; /* about 32 KiB of weights per task */
  if (nb < nr) nb = nr;
  if ((double)n * (double)pk->k < MIN_PARALLEL_MACS) pool = NULL;
  const size_t n_threads = (size_t)tc_threadpool_n_threads(pool);
  if (n_threads > 1 && (n + nb - 1) / nb < 4 * n_threads) {
    nb = ((n + 4 * n_threads - 1) / (4 * n_threads) + nr - 1) / nr * nr;
    if (nb < nr) nb = nr;
  }
  for (size_t i = 0; i < m; i += mr) {
    const size_t rows = TC_MIN(mr, m - i);
    strip_segs(pk, a, i, rows, rowbuf, stride, segs);
    for (size_t r = 0; r < rows; r++) {
      int32_t *dst = pairs + r * kp;
      uint32_t sum = 0;
      for (size_t sg = 0; sg < n_seg; sg++) {
        const uint8_t *s = segs[r * n_seg + sg];
        for (size_t off = 0; off < seg_len; off += 2) {
          const int32_t x0 = a->is_u8 ? (int32_t)s[off] : (int32_t)(int8_t)s[off];
          const int32_t x1 = off + 1 >= seg_len ? 0
                             : a->is_u8        ? (int32_t)s[off + 1]
                                               : (int32_t)(int8_t)s[off + 1];
          sum += (uint32_t)(x0 + x1);
          *dst++ = (int32_t)((uint32_t)(uint16_t)x0 | (uint32_t)(uint16_t)x1 << 16);
        }
      }
      row_add[r] = (int32_t)(sum * (uint32_t)pk->w_offset);
    }
    gjob g = {pk, pairs, row_add, rows, nb, a->is_u8, out + i * ldc, ldc};
    tc_threadpool_parallel_for(pool, (n + nb - 1) / nb, gemv_task, &g);
  }
}

void tc_qgemm(const tc_qgemm_packed *pk, tc_threadpool *pool, int32_t m, const tc_qgemm_a *a,
              void *out, size_t ldc, void *scratch) {
  if (!pk || m <= 0) return;
  if (pk->b8) {
    gemv_rows(pk, pool, (size_t)m, a, out, ldc, (char *)TC_ALIGN_UP((uintptr_t)scratch, 64));
    return;
  }
  tc_s8_qgemm_kernel *kr = pk->kr;
  const size_t mr = (size_t)kr->mr, nr = (size_t)kr->nr, n = (size_t)pk->n;
  const size_t kp = (size_t)pk->kp, mm = (size_t)m;
  qjob job = {pk, mm, a, out, ldc, (char *)TC_ALIGN_UP((uintptr_t)scratch, 64), 0, 0, 0};
  size_t nb = B_BLOCK_BYTES / (kp * 4) / nr * nr;
  if (nb < nr) nb = nr;
  if (nb >= n) nb = n;
  const size_t m_tiles = (mm + mr - 1) / mr;
  const double min_par = kr->min_parallel_macs > 0 ? kr->min_parallel_macs : MIN_PARALLEL_MACS;
  if ((double)(m_tiles * mr) * (double)pk->n_pad * (double)pk->k < min_par) pool = NULL;
  const size_t n_threads = (size_t)tc_threadpool_n_threads(pool);
  const size_t target = 8 * n_threads;
  tc_split_blocks(m_tiles, mr, n, nr, n_threads, target, &nb, &job.mb);
  const size_t n_nblocks = (n + nb - 1) / nb;
  job.nb = nb;
  job.n_mblocks = (mm + job.mb - 1) / job.mb;
  tc_threadpool_parallel_for(pool, job.n_mblocks * n_nblocks, qgemm_task, &job);
}
