/* dwconv_q8_avx2.c: AVX2 int8 / uint8 depthwise convolution (slots s8_dwconv and u8_dwconv of
 * vec_ops.h), any filter size, stride, dilation and depth multiplier, bit-exact with
 * tc_{s8,u8}_depthwise_conv2d__ref.
 *
 * Algorithm. Output channels are cut into groups of 8. Each input row that a filter row needs
 * is widened once into a small ring of int16 rows (on the stack) as *tap pairs*: element i of a
 * ring row holds, for the 8 channels of a group, (v[x] + input_offset, v[x + dil] +
 * input_offset) with x = x_first + i * u, and 0 for positions outside the image (padding with
 * the input zero point contributes nothing), so no output pixel is a border case. Taps (kx,
 * kx + 1) of a filter row are then one vpmaddwd of a ring element against weights packed at
 * prepare as int16 pairs (filter offset applied; the odd tap of an odd-width row is paired with
 * a 0 weight): a 3x3 filter is 6 vpmaddwd + 6 vpaddd per 8 outputs, 4 pixels per iteration
 * with the weights in registers. With stride 2 (when 2 * dil is a multiple of the stride:
 * u = stride) only the pair positions that output pixels use are built.
 *   Depth multiplier M > 1: with one input channel (person_detect's first layer, 1 -> 8) a
 * ring element is a single pair, broadcast to the 8 lanes when loaded ("bc" rows, 4 bytes per
 * position); otherwise the builder gathers the input channel of every output lane (vpshufb).
 *   The ring holds KH rows of a column tile and a block of channel groups: a row is built when
 * an output row first needs it and reused by the next output rows (3x3 stride 1 widens each
 * input row once per tile); tile and block are sized to keep the ring near 20 KiB (L1).
 *
 * Exactness: every value is an int16 in [-32767, 32767] (offsets are checked at pack), so
 * vpmaddwd is exact and the int32 lane sums are the reference's accumulator modulo 2^32 (the
 * reference wraps its int64 sum to int32 too). Requantization is tc_q_mul_double lane by lane:
 * the general form is vec_avx2.h's srdhm + rdivpot with per-group constants; groups whose
 * accumulators provably stay below 2^30 in magnitude (bias and weight bounds, computed at pack),
 * with no left shift, non-negative multipliers and right shifts >= 1, use a shorter equivalent
 * (the rounding half folded into the 64-bit product, ties away from zero from the accumulator's
 * sign: see rq_plain). The output offset is a wrapping int32 add, then saturating packs to 8
 * bits and the activation clamp on bytes, equal to the reference's clamp because act_min ..
 * act_max lies inside the 8-bit range (checked at pack; otherwise the reference runs). */
#include "kernels/vec_ops.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <string.h>

#include "kernels/x86/vec_avx2.h"

enum {
  MAX_KH = 256,        /* ring tags on the stack; taller filters run the reference */
  RING_BYTES = 32768,  /* the stack ring */
  RING_TARGET = 20480, /* what tiles aim for */
};

#define AI static inline __attribute__((always_inline))

/* ---- packed weights -------------------------------------------------------------------------
 * [q8_head][q8_grp x G][int16 w[G][KH][PW][8 lanes][2]], every part 32-byte aligned. */
typedef struct q8_head {
  int32_t usable; /* 0: offsets or activation range outside what the int16 path handles */
  int32_t pad_[15];
} q8_head;

typedef struct q8_grp {
  int32_t bias[8], mult[8], mult_odd[8], lsh[8], rsh[8], mask[8], half[8];
  int64_t c_even[4], c_odd[4]; /* rq_plain: 2^30 + 2^(rsh - 1) * 2^31 of lanes 0,2,4,6 / 1,3,5,7 */
  uint8_t shuf[16]; /* gather (M > 1): pair lane j takes bytes 2 idx_j, 2 idx_j + 1 of a|b */
  int32_t c0, n_in; /* first input channel of the group, input bytes it reads (<= 8) */
  int32_t plain;    /* rq_plain is exact for every lane */
  int32_t pad_;
} q8_grp;

typedef struct q8_geom {
  int32_t G, KH, KW, PW, Cin, Cout, M;
  size_t grp_off, w_off, size;
} q8_geom;

static q8_geom geom(const tc_dwconv2d_params *p) {
  q8_geom g;
  g.KH = p->k_h;
  g.KW = p->k_w;
  g.PW = (p->k_w + 1) / 2;
  g.Cin = p->in_c;
  g.M = p->depth_multiplier;
  g.Cout = p->in_c * p->depth_multiplier;
  g.G = (g.Cout + 7) / 8;
  g.grp_off = sizeof(q8_head);
  g.w_off = g.grp_off + (size_t)g.G * sizeof(q8_grp);
  g.size = g.w_off + (size_t)g.G * g.KH * g.PW * 32;
  return g;
}

/* Ring geometry of a run: pair index i <-> input x = x_first + i * u; output pixel k of a tile
 * uses pairs k * pstep + j * jstep (j < PW). bc: one pair per position (one input channel). */
typedef struct q8_ring {
  int32_t u, pstep, jstep, bc;
} q8_ring;

static q8_ring ring_geom(const tc_dwconv2d_params *p) {
  q8_ring r;
  r.u = (2 * p->dilation_w) % p->stride_w == 0 ? p->stride_w : 1;
  r.pstep = p->stride_w / r.u;
  r.jstep = 2 * p->dilation_w / r.u;
  r.bc = p->in_c == 1 && p->depth_multiplier > 1;
  return r;
}

/* Pair positions a tile of n output pixels needs. */
static int64_t ring_ni(const q8_ring *r, int32_t PW, int64_t n) {
  return (n - 1) * r->pstep + (int64_t)(PW - 1) * r->jstep + 1;
}

/* Bytes of a KH-row ring for n pixels and cw channels. */
static int64_t ring_bytes(const q8_ring *r, int32_t KH, int32_t PW, int64_t n, int64_t cw) {
  return (int64_t)KH * ring_ni(r, PW, n) * (r->bc ? 4 : cw * 4);
}

/* The fast path needs a 1-pixel, 8-channel ring to fit the stack ring. */
static int fits(const tc_dwconv2d_params *p) {
  if (p->k_h > MAX_KH || p->k_h <= 0 || p->k_w <= 0 || p->in_c <= 0) return 0;
  if (p->stride_w <= 0 || p->dilation_w <= 0 || p->dilation_h <= 0) return 0;
  if (p->stride_w > (1 << 20) || p->dilation_w > (1 << 20)) return 0;
  const q8_ring r = ring_geom(p);
  return ring_bytes(&r, p->k_h, (p->k_w + 1) / 2, 1, 8) <= RING_BYTES;
}

static size_t q8_packed_size(const tc_dwconv2d_params *p) { return fits(p) ? geom(p).size : 0; }

static int64_t iabs64(int64_t v) { return v < 0 ? -v : v; }

static void q8_pack(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *filter,
                    const int32_t *bias, void *packed, int is_u8) {
  const q8_geom g = geom(p);
  memset(packed, 0, g.size);
  q8_head *h = packed;
  q8_grp *grp = (q8_grp *)((char *)packed + g.grp_off);
  int16_t *w = (int16_t *)((char *)packed + g.w_off);
  const int32_t lo = is_u8 ? 0 : -128, hi = is_u8 ? 255 : 127;
  const int32_t f_off = is_u8 ? q->filter_offset : 0;
  h->usable = q->input_offset >= -32000 && q->input_offset <= 32000 && f_off >= -32000 &&
              f_off <= 32000 && lo <= q->act_min && q->act_min <= q->act_max &&
              q->act_max <= hi;
  /* largest |input + input_offset| */
  const int64_t v_lo = iabs64((int64_t)lo + q->input_offset),
                v_hi = iabs64((int64_t)hi + q->input_offset);
  const int64_t vmax = v_lo > v_hi ? v_lo : v_hi;
  for (int32_t gi = 0; gi < g.G; gi++) {
    q8_grp *gr = &grp[gi];
    const int32_t lanes = g.Cout - gi * 8 < 8 ? g.Cout - gi * 8 : 8;
    gr->c0 = gi * 8 / g.M;
    gr->n_in = (gi * 8 + lanes - 1) / g.M - gr->c0 + 1;
    gr->plain = 1;
    for (int32_t j = 0; j < 8; j++) {
      const int32_t oc = gi * 8 + j;
      const int32_t idx = oc < g.Cout ? oc / g.M - gr->c0 : 0;
      gr->shuf[2 * j] = (uint8_t)(2 * idx);
      gr->shuf[2 * j + 1] = (uint8_t)(2 * idx + 1);
      if (oc >= g.Cout) { /* padding lanes: weights, bias, multiplier 0; never stored */
        gr->rsh[j] = 1;
        continue;
      }
      const int32_t sh = q->shift[oc];
      gr->bias[j] = bias ? bias[oc] : 0;
      gr->mult[j] = q->mult[oc];
      if (j % 2) gr->mult_odd[j - 1] = q->mult[oc];
      gr->lsh[j] = sh > 0 ? sh : 0;
      gr->rsh[j] = sh > 0 ? 0 : -sh;
      gr->mask[j] = (int32_t)(((int64_t)1 << gr->rsh[j]) - 1);
      gr->half[j] = gr->mask[j] >> 1;
      int64_t bound = iabs64(gr->bias[j]);
      uint32_t wsum = 0;
      for (int32_t ky = 0; ky < g.KH; ky++)
        for (int32_t kx = 0; kx < g.KW; kx++) {
          const size_t src = ((size_t)ky * g.KW + kx) * g.Cout + oc;
          const int32_t v = is_u8 ? ((const uint8_t *)filter)[src] + f_off
                                  : ((const int8_t *)filter)[src];
          w[(((size_t)gi * g.KH + ky) * g.PW + kx / 2) * 16 + 2 * j + kx % 2] = (int16_t)v;
          bound += iabs64(v) * vmax;
          wsum += (uint32_t)v;
        }
      /* the ring holds raw inputs (padding: the zero point): input_offset * sum(w) goes here */
      gr->bias[j] = (int32_t)((uint32_t)gr->bias[j] + (uint32_t)q->input_offset * wsum);
      /* rq_plain needs |acc| + 2^30 < 2^31, no left shift, mult >= 0, rsh >= 1 */
      if (bound >= ((int64_t)1 << 30) - 4 || gr->lsh[j] || gr->mult[j] < 0 || gr->rsh[j] < 1 ||
          gr->rsh[j] > 31)
        gr->plain = 0;
    }
    for (int32_t j = 0; j < 8; j++) {
      const int64_t c = ((int64_t)1 << 30) + ((int64_t)(gr->rsh[j] >= 1 && gr->rsh[j] <= 31
                                                           ? (int64_t)1 << (gr->rsh[j] - 1)
                                                           : 0)
                                              << 31);
      if (j % 2) gr->c_odd[j / 2] = c;
      else gr->c_even[j / 2] = c;
    }
  }
}

static void s8_pack(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *filter,
                    const int32_t *bias, void *packed) {
  q8_pack(p, q, filter, bias, packed, 0);
}
static void u8_pack(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *filter,
                    const int32_t *bias, void *packed) {
  q8_pack(p, q, filter, bias, packed, 1);
}

/* ---- ring rows ------------------------------------------------------------------------------ */

AI __m256i ld(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }

/* 8 bytes at s (n of them inside the image: a zero-filled copy near its end). */
AI __m128i ld8(const uint8_t *s, int64_t s_off, int64_t avail, int32_t n) {
  if (s_off + 8 <= avail) return _mm_loadl_epi64((const __m128i *)s);
  uint8_t buf[8] = {0};
  memcpy(buf, s, (size_t)n);
  return _mm_loadl_epi64((const __m128i *)buf);
}

AI __m256i widen(__m128i v, int is_u8) {
  return is_u8 ? _mm256_cvtepu8_epi16(v) : _mm256_cvtepi8_epi16(v);
}

/* One ring row of pair positions [i0, i1) (pairs (x, x + d), x = x_first + i * u), for rows
 * whose pairs are all inside the image: the callers clip. Layout dst[i][group][8 lanes][2]. */
AI void build_in(int16_t *dst, const uint8_t *row, int64_t avail, int64_t x_first, int64_t i0,
                 int64_t i1, int32_t u, int32_t d, int32_t Cin, const q8_grp *grp, int32_t ng,
                 __m256i zp, int gather, int is_u8) {
  const size_t n16 = (size_t)ng * 16;
  const int64_t dC = (int64_t)d * Cin, c_begin = grp[0].c0, step = (int64_t)u * Cin;
  /* bytes read past a pixel's first channel of the block (16-byte loads, gathers <= 8 each) */
  const int64_t span = gather ? grp[ng - 1].c0 - c_begin + 8 : (int64_t)ng * 8;
  /* [i0, i_safe): whole-register loads stay inside the image (only the last few are not) */
  int64_t i_safe = i1;
  while (i_safe > i0 && (x_first + (i_safe - 1) * u) * Cin + c_begin + dC + span > avail) i_safe--;
  const uint8_t *a = row + (x_first + i0 * u) * Cin + c_begin;
  int16_t *o = dst + (size_t)i0 * n16;
  if (!gather && ng == 1) { /* 8 channels */
    for (int64_t i = i0; i < i_safe; i++, a += step, o += 16) {
      const __m128i va = _mm_loadl_epi64((const __m128i *)a);
      const __m128i vb = _mm_loadl_epi64((const __m128i *)(a + dC));
      _mm256_storeu_si256((__m256i *)o, widen(_mm_unpacklo_epi8(va, vb), is_u8));
    }
  } else if (!gather) {
    for (int64_t i = i0; i < i_safe; i++, a += step, o += n16) {
      int32_t gl = 0;
      for (; gl + 2 <= ng; gl += 2) {
        const __m128i va = _mm_loadu_si128((const __m128i *)(a + gl * 8));
        const __m128i vb = _mm_loadu_si128((const __m128i *)(a + gl * 8 + dC));
        _mm256_storeu_si256((__m256i *)(o + gl * 16), widen(_mm_unpacklo_epi8(va, vb), is_u8));
        _mm256_storeu_si256((__m256i *)(o + gl * 16 + 16), widen(_mm_unpackhi_epi8(va, vb), is_u8));
      }
      if (gl < ng) {
        const __m128i va = _mm_loadl_epi64((const __m128i *)(a + gl * 8));
        const __m128i vb = _mm_loadl_epi64((const __m128i *)(a + gl * 8 + dC));
        _mm256_storeu_si256((__m256i *)(o + gl * 16), widen(_mm_unpacklo_epi8(va, vb), is_u8));
      }
    }
  } else {
    for (int64_t i = i0; i < i_safe; i++, a += step, o += n16)
      for (int32_t gl = 0; gl < ng; gl++) {
        const uint8_t *ag = a + (grp[gl].c0 - c_begin);
        const __m128i va = _mm_loadl_epi64((const __m128i *)ag);
        const __m128i vb = _mm_loadl_epi64((const __m128i *)(ag + dC));
        const __m128i v = _mm_shuffle_epi8(_mm_unpacklo_epi8(va, vb),
                                           _mm_loadu_si128((const __m128i *)grp[gl].shuf));
        _mm256_storeu_si256((__m256i *)(o + gl * 16), widen(v, is_u8));
      }
  }
  for (int64_t i = i_safe; i < i1; i++) { /* near the end of the image: clipped loads */
    const int64_t sa = (x_first + i * u) * Cin + c_begin;
    o = dst + (size_t)i * n16;
    for (int32_t gl = 0; gl < ng; gl++) {
      const int64_t ga = sa + (grp[gl].c0 - c_begin), gb = ga + dC;
      const __m128i va = ld8(row + ga, ga, avail, grp[gl].n_in);
      const __m128i vb = ld8(row + gb, gb, avail, grp[gl].n_in);
      __m128i v = _mm_unpacklo_epi8(va, vb);
      if (gather) v = _mm_shuffle_epi8(v, _mm_loadu_si128((const __m128i *)grp[gl].shuf));
      _mm256_storeu_si256((__m256i *)(o + gl * 16), widen(v, is_u8));
    }
  }
}

/* Pair positions with a tap outside the image (that half is 0), any layout. */
AI void build_edge(int16_t *dst, const uint8_t *row, int64_t avail, int64_t x, int32_t d,
                   int32_t in_w, int32_t Cin, const q8_grp *grp, int32_t ng, __m256i zp,
                   int gather, int bc, int is_u8) {
  const int ia = x >= 0 && x < in_w, ib = x + d >= 0 && x + d < in_w;
  if (bc) {
    const int32_t z = (int16_t)_mm256_extract_epi16(zp, 0);
    const int32_t va = ia ? (is_u8 ? row[x] : (int8_t)row[x]) : z;
    const int32_t vb = ib ? (is_u8 ? row[x + d] : (int8_t)row[x + d]) : z;
    dst[0] = (int16_t)va;
    dst[1] = (int16_t)vb;
    return;
  }
  const __m256i keep = _mm256_set1_epi32((ia ? 0x0000FFFF : 0) | (ib ? (int32_t)0xFFFF0000 : 0));
  for (int32_t gl = 0; gl < ng; gl++) {
    const int64_t sa = x * Cin + grp[gl].c0, sb = sa + (int64_t)d * Cin;
    const __m128i va = ia ? ld8(row + sa, sa, avail, grp[gl].n_in) : _mm_setzero_si128();
    const __m128i vb = ib ? ld8(row + sb, sb, avail, grp[gl].n_in) : _mm_setzero_si128();
    __m128i v = _mm_unpacklo_epi8(va, vb);
    if (gather) v = _mm_shuffle_epi8(v, _mm_loadu_si128((const __m128i *)grp[gl].shuf));
    _mm256_storeu_si256((__m256i *)(dst + gl * 16), _mm256_blendv_epi8(zp, widen(v, is_u8), keep));
  }
}

/* bc rows (one input channel): position i is the int16 pair (v[x], v[x + d]). Whole-register
 * paths for (u, d) = (2, 1) (16 bytes -> 8 pairs) and (1, 1) (two shifted loads). */
AI void build_bc_in(int16_t *dst, const uint8_t *row, int64_t avail, int64_t x_first, int64_t i0,
                    int64_t i1, int32_t u, int32_t d, __m256i zp, int is_u8) {
  int64_t i = i0;
  if (u == 2 && d == 1)
    for (; i + 8 <= i1 && x_first + i * 2 + 16 <= avail; i += 8) {
      const __m128i v = _mm_loadu_si128((const __m128i *)(row + x_first + i * 2));
      _mm256_storeu_si256((__m256i *)(dst + 2 * i), widen(v, is_u8));
    }
  if (u == 1 && d == 1)
    for (; i + 16 <= i1 && x_first + i + 17 <= avail; i += 16) {
      const __m128i a = _mm_loadu_si128((const __m128i *)(row + x_first + i));
      const __m128i b = _mm_loadu_si128((const __m128i *)(row + x_first + i + 1));
      _mm256_storeu_si256((__m256i *)(dst + 2 * i), widen(_mm_unpacklo_epi8(a, b), is_u8));
      _mm256_storeu_si256((__m256i *)(dst + 2 * i + 16), widen(_mm_unpackhi_epi8(a, b), is_u8));
    }
  for (; i < i1; i++) {
    const int64_t x = x_first + i * u;
    dst[2 * i] = (int16_t)(is_u8 ? row[x] : (int8_t)row[x]);
    dst[2 * i + 1] = (int16_t)(is_u8 ? row[x + d] : (int8_t)row[x + d]);
  }
}

/* Builds one ring row: ni pair positions from image row `row` (NULL: a padding row, all zeros);
 * `avail` bytes of the image follow `row`. */
AI void q8_build_t(int16_t *dst, const uint8_t *row, int64_t avail, int64_t x_first, int32_t ni,
                 int32_t u, int32_t d, int32_t in_w, int32_t Cin, const q8_grp *grp,
                 int32_t ng, __m256i zp, int gather, int bc, int is_u8) {
  const size_t el = bc ? 2 : (size_t)ng * 16; /* int16 per position */
  if (!row) { /* the input zero point everywhere */
    const size_t n = (size_t)ni * el;
    size_t k = 0;
    for (; k + 16 <= n; k += 16) _mm256_storeu_si256((__m256i *)(dst + k), zp);
    for (; k < n; k++) dst[k] = (int16_t)_mm256_extract_epi16(zp, 0);
    return;
  }
  /* [i_lo, i_hi): both x and x + d inside the image */
  int64_t i_lo = x_first >= 0 ? 0 : (-x_first + u - 1) / u;
  const int64_t lim = (int64_t)in_w - 1 - d - x_first;
  int64_t i_hi = lim < 0 ? 0 : lim / u + 1;
  if (i_lo > ni) i_lo = ni;
  if (i_hi > ni) i_hi = ni;
  if (i_hi < i_lo) i_hi = i_lo;
  if (bc) build_bc_in(dst, row, avail, x_first, i_lo, i_hi, u, d, zp, is_u8);
  else build_in(dst, row, avail, x_first, i_lo, i_hi, u, d, Cin, grp, ng, zp, gather, is_u8);
  for (int64_t i = 0; i < i_lo; i++)
    build_edge(dst + i * el, row, avail, x_first + i * u, d, in_w, Cin, grp, ng, zp, gather, bc,
               is_u8);
  for (int64_t i = i_hi; i < ni; i++)
    build_edge(dst + i * el, row, avail, x_first + i * u, d, in_w, Cin, grp, ng, zp, gather, bc,
               is_u8);
}

/* Not inlined into the row loop: its own registers (the flags select an instantiation). */
static __attribute__((noinline)) void q8_build(int16_t *dst, const uint8_t *row, int64_t avail,
                                               int64_t x_first, int32_t ni, int32_t u, int32_t d,
                                               int32_t in_w, int32_t Cin, const q8_grp *grp,
                                               int32_t ng, __m256i zp, int gather, int bc,
                                               int is_u8) {
#define B(GA, BC, U8) \
  q8_build_t(dst, row, avail, x_first, ni, u, d, in_w, Cin, grp, ng, zp, GA, BC, U8)
  if (is_u8) {
    if (bc) B(0, 1, 1);
    else if (gather) B(1, 0, 1);
    else B(0, 0, 1);
  } else {
    if (bc) B(0, 1, 0);
    else if (gather) B(1, 0, 0);
    else B(0, 0, 0);
  }
#undef B
}

/* ---- requantization and stores -------------------------------------------------------------- */

/* tc_q_mul_double(acc, mult, shift) + output_offset (wrapping), lane by lane, any values. */
AI __m256i rq_exact(__m256i x, const q8_grp *gr, __m256i zo) {
  const __m256i nudge = _mm256_set1_epi64x((int64_t)1 << 30);
  const __m256i m = ld(gr->mult);
  x = _mm256_sllv_epi32(x, ld(gr->lsh));
  __m256i even = _mm256_mul_epi32(x, m);
  __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), ld(gr->mult_odd));
  even = _mm256_srli_epi64(_mm256_add_epi64(even, nudge), 31);
  odd = _mm256_slli_epi64(_mm256_add_epi64(odd, nudge), 1);
  __m256i r = _mm256_blend_epi32(even, odd, 0xAA);
  const __m256i mn = _mm256_set1_epi32(INT32_MIN);
  r = _mm256_xor_si256(r, _mm256_and_si256(_mm256_cmpeq_epi32(x, mn), _mm256_cmpeq_epi32(m, mn)));
  const __m256i rem = _mm256_and_si256(r, ld(gr->mask));
  const __m256i thr = _mm256_sub_epi32(ld(gr->half), _mm256_cmpgt_epi32(_mm256_setzero_si256(), r));
  r = _mm256_sub_epi32(_mm256_srav_epi32(r, ld(gr->rsh)), _mm256_cmpgt_epi32(rem, thr));
  return _mm256_add_epi32(r, zo);
}

/* The same for groups with gr->plain: |acc| < 2^30 - 4, no left shift, mult >= 0, 1 <= e =
 * rsh <= 31, h = 2^(e-1). With ab = acc * mult, srdhm = floor((ab + 2^30) / 2^31) (vec_avx2.h),
 * so r + h = floor((ab + 2^30 + h 2^31) / 2^31): c_even / c_odd add both at once. rdivpot(r, e)
 * is floor((r + h - [r < 0]) / 2^e) when r + h cannot overflow (|r| <= |acc| + 1); and [r < 0]
 * may be replaced by [acc < 0] because r <= 0 whenever acc < 0 (mult >= 0) and r = 0 rounds to
 * 0 either way (h - 1 < 2^e). */
AI __m256i rq_plain(__m256i x, const q8_grp *gr, __m256i zo) {
  __m256i even = _mm256_mul_epi32(x, ld(gr->mult));
  __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), ld(gr->mult_odd));
  even = _mm256_srli_epi64(_mm256_add_epi64(even, ld(gr->c_even)), 31);
  odd = _mm256_slli_epi64(_mm256_add_epi64(odd, ld(gr->c_odd)), 1);
  __m256i r = _mm256_add_epi32(_mm256_blend_epi32(even, odd, 0xAA), _mm256_srai_epi32(x, 31));
  return _mm256_add_epi32(_mm256_srav_epi32(r, ld(gr->rsh)), zo);
}

AI __m256i rq(__m256i x, const q8_grp *gr, __m256i zo, int plain) {
  return plain ? rq_plain(x, gr, zo) : rq_exact(x, gr, zo);
}

/* Four requantized pixels (8 lanes each) to 32 bytes, pixel k at bytes 8k.., clamped. */
AI __m256i pack4(__m256i r0, __m256i r1, __m256i r2, __m256i r3, __m256i lo, __m256i hi,
                 int is_u8) {
  const __m256i a = _mm256_packs_epi32(r0, r1), b = _mm256_packs_epi32(r2, r3);
  __m256i v = is_u8 ? _mm256_packus_epi16(a, b) : _mm256_packs_epi16(a, b);
  v = _mm256_permutevar8x32_epi32(v, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
  return is_u8 ? _mm256_min_epu8(_mm256_max_epu8(v, lo), hi)
               : _mm256_min_epi8(_mm256_max_epi8(v, lo), hi);
}

/* Stores the first `rem` (<= 8) bytes of the npx (<= 4) pixels of v, pixel k at o + k * os. */
AI void store_px(uint8_t *o, size_t os, __m256i v, int32_t npx, int32_t rem) {
  if (rem == 8 && npx == 4) {
    if (os == 8) {
      _mm256_storeu_si256((__m256i *)o, v);
      return;
    }
    const __m128i l = _mm256_castsi256_si128(v), h = _mm256_extracti128_si256(v, 1);
    _mm_storel_epi64((__m128i *)o, l);
    _mm_storel_epi64((__m128i *)(o + os), _mm_unpackhi_epi64(l, l));
    _mm_storel_epi64((__m128i *)(o + 2 * os), h);
    _mm_storel_epi64((__m128i *)(o + 3 * os), _mm_unpackhi_epi64(h, h));
    return;
  }
  if (rem == 8) { /* 1-3 pixels */
    const __m128i l = _mm256_castsi256_si128(v);
    _mm_storel_epi64((__m128i *)o, l);
    if (npx > 1) _mm_storel_epi64((__m128i *)(o + os), _mm_unpackhi_epi64(l, l));
    if (npx > 2) _mm_storel_epi64((__m128i *)(o + 2 * os), _mm256_extracti128_si256(v, 1));
    return;
  }
  uint8_t buf[32];
  _mm256_storeu_si256((__m256i *)buf, v);
  for (int32_t k = 0; k < npx; k++) memcpy(o + k * os, buf + 8 * k, (size_t)rem);
}

/* ---- one output row of a tile --------------------------------------------------------------- */

typedef struct q8_out {
  __m256i zo, lo, hi;
  int32_t Cout;
} q8_out;

/* A ring element: 8 lanes of pairs, or (bc) one pair broadcast. */
AI __m256i ldp(const int16_t *p, int bc) {
  if (!bc) return ld(p);
  int32_t v;
  memcpy(&v, p, sizeof v);
  return _mm256_set1_epi32(v);
}

/* Pixels [k0, n) of one group, generic filter (KH rows of PW pairs; pixel k reads pairs
 * k * pstep + j * jstep; ps / js in int16). s[ky]: ring row ky at the group's lanes. */
AI void q8_px_generic(const int16_t *const *s, uint8_t *o, size_t os, int32_t n, int32_t lanes,
                      const q8_grp *gr, const int16_t *W, int32_t KH, int32_t PW, size_t ps,
                      size_t js, const q8_out *qo, int bc, int plain, int is_u8) {
  const __m256i bias = ld(gr->bias);
  int32_t k = 0;
  for (; k + 4 <= n; k += 4) {
    __m256i a0 = bias, a1 = bias, a2 = bias, a3 = bias;
    for (int32_t ky = 0; ky < KH; ky++) {
      const int16_t *t = s[ky] + (size_t)k * ps;
      for (int32_t j = 0; j < PW; j++, t += js) {
        const __m256i w = ld(W + ((size_t)ky * PW + j) * 16);
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(ldp(t, bc), w));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(ldp(t + ps, bc), w));
        a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(ldp(t + 2 * ps, bc), w));
        a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(ldp(t + 3 * ps, bc), w));
      }
    }
    const __m256i v = pack4(rq(a0, gr, qo->zo, plain), rq(a1, gr, qo->zo, plain),
                            rq(a2, gr, qo->zo, plain), rq(a3, gr, qo->zo, plain), qo->lo,
                            qo->hi, is_u8);
    store_px(o + k * os, os, v, 4, lanes);
  }
  for (; k < n; k++) {
    __m256i a0 = bias;
    for (int32_t ky = 0; ky < KH; ky++) {
      const int16_t *t = s[ky] + (size_t)k * ps;
      for (int32_t j = 0; j < PW; j++, t += js)
        a0 =
            _mm256_add_epi32(a0, _mm256_madd_epi16(ldp(t, bc), ld(W + ((size_t)ky * PW + j) * 16)));
    }
    const __m256i r = rq(a0, gr, qo->zo, plain);
    store_px(o + k * os, os, pack4(r, r, r, r, qo->lo, qo->hi, is_u8), 1, lanes);
  }
}

/* Pixels of one group, 3x3 filter with pixel step 1 (stride 1, or stride 2 with u = 2) and
 * pair step J: the six weight pairs stay in registers. */
AI void q8_px_3x3(const int16_t *s0, const int16_t *s1, const int16_t *s2, uint8_t *o, size_t os,
                  int32_t n, int32_t lanes, const q8_grp *gr, const int16_t *W, size_t ps,
                  size_t js, const q8_out *qo, int bc, int plain, int is_u8) {
  const __m256i w00 = ld(W), w01 = ld(W + 16), w10 = ld(W + 32), w11 = ld(W + 48),
                w20 = ld(W + 64), w21 = ld(W + 80);
  const __m256i bias = ld(gr->bias);
#define TAPS(acc, q)                                                                           \
  acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ldp(s0 + (q), bc), w00));                      \
  acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ldp(s0 + (q) + js, bc), w01));                 \
  acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ldp(s1 + (q), bc), w10));                      \
  acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ldp(s1 + (q) + js, bc), w11));                 \
  acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ldp(s2 + (q), bc), w20));                      \
  acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ldp(s2 + (q) + js, bc), w21));
  if (n <= 4) { /* tiny rows: one pass in registers, one pack */
    __m256i a0 = bias, a1 = bias, a2 = bias, a3 = bias;
    TAPS(a0, 0)
    if (n > 1) { TAPS(a1, ps) }
    if (n > 2) { TAPS(a2, 2 * ps) }
    if (n > 3) { TAPS(a3, 3 * ps) }
    const __m256i r0 = rq(a0, gr, qo->zo, plain);
    const __m256i r1 = n > 1 ? rq(a1, gr, qo->zo, plain) : r0;
    const __m256i r2 = n > 2 ? rq(a2, gr, qo->zo, plain) : r1;
    const __m256i r3 = n > 3 ? rq(a3, gr, qo->zo, plain) : r2;
    store_px(o, os, pack4(r0, r1, r2, r3, qo->lo, qo->hi, is_u8), n, lanes);
    return;
  }
  /* two phases per chunk of pixels: accumulators to a stack buffer, then requantization, so
   * each loop's iterations are independent and short */
  __m256i accb[64];
  for (int32_t k0 = 0; k0 < n; k0 += 64) {
    const int32_t kn = n - k0 < 64 ? n - k0 : 64;
    int32_t k = 0;
    for (; k + 2 <= kn; k += 2) {
      const size_t q0 = (size_t)(k0 + k) * ps;
      __m256i a0 = bias, a1 = bias;
      TAPS(a0, q0)
      TAPS(a1, q0 + ps)
      accb[k] = a0;
      accb[k + 1] = a1;
    }
    if (k < kn) {
      __m256i a0 = bias;
      TAPS(a0, (size_t)(k0 + k) * ps)
      accb[k] = a0;
    }
    uint8_t *ok = o + (size_t)k0 * os;
    for (k = 0; k + 4 <= kn; k += 4) {
      const __m256i v = pack4(rq(accb[k], gr, qo->zo, plain), rq(accb[k + 1], gr, qo->zo, plain),
                              rq(accb[k + 2], gr, qo->zo, plain),
                              rq(accb[k + 3], gr, qo->zo, plain), qo->lo, qo->hi, is_u8);
      store_px(ok + k * os, os, v, 4, lanes);
    }
    if (k < kn) { /* 1-3 pixels left: one pack */
      const int32_t left = kn - k;
      const __m256i r0 = rq(accb[k], gr, qo->zo, plain);
      const __m256i r1 = left > 1 ? rq(accb[k + 1], gr, qo->zo, plain) : r0;
      const __m256i r2 = left > 2 ? rq(accb[k + 2], gr, qo->zo, plain) : r1;
      store_px(ok + k * os, os, pack4(r0, r1, r2, r2, qo->lo, qo->hi, is_u8), left, lanes);
    }
  }
#undef TAPS
}

enum { SHAPE_GENERIC, SHAPE_3X3_J2, SHAPE_3X3_J1 };

/* One output row of a tile for the ng groups at grp (weights wts): orow is the tile's first
 * pixel at the block's first channel, c_left the output channels from there to the pixel's
 * end. */
AI void q8_row_t(const int16_t *const *rows, uint8_t *orow, int32_t n, const q8_grp *grp,
               const int16_t *wts, int32_t ng, int32_t KH, int32_t PW, const q8_ring *rg,
               int32_t c_left, const q8_out *qo, int shape, int bc, int is_u8) {
  const size_t el = bc ? 2 : (size_t)ng * 16; /* int16 per ring position */
  const size_t ps = (size_t)rg->pstep * el, js = (size_t)rg->jstep * el;
  const size_t os = (size_t)qo->Cout;
  for (int32_t gl = 0; gl < ng; gl++) {
    const q8_grp *gr = grp + gl;
    const int16_t *W = wts + (size_t)gl * KH * PW * 16;
    uint8_t *o = orow + (size_t)gl * 8;
    const int32_t lanes = c_left - gl * 8 < 8 ? c_left - gl * 8 : 8;
    const size_t lane_off = bc ? 0 : (size_t)gl * 16;
    if (shape != SHAPE_GENERIC) {
      const size_t J = shape == SHAPE_3X3_J2 ? 2 * el : el;
      const int16_t *s0 = rows[0] + lane_off, *s1 = rows[1] + lane_off, *s2 = rows[2] + lane_off;
      if (gr->plain) q8_px_3x3(s0, s1, s2, o, os, n, lanes, gr, W, el, J, qo, bc, 1, is_u8);
      else q8_px_3x3(s0, s1, s2, o, os, n, lanes, gr, W, el, J, qo, bc, 0, is_u8);
    } else {
      const int16_t *s[MAX_KH];
      for (int32_t ky = 0; ky < KH; ky++) s[ky] = rows[ky] + lane_off;
      if (gr->plain) q8_px_generic(s, o, os, n, lanes, gr, W, KH, PW, ps, js, qo, bc, 1, is_u8);
      else q8_px_generic(s, o, os, n, lanes, gr, W, KH, PW, ps, js, qo, bc, 0, is_u8);
    }
  }
}

static __attribute__((noinline)) void q8_row(const int16_t *const *rows, uint8_t *orow,
                                             int32_t n, const q8_grp *grp, const int16_t *wts,
                                             int32_t ng, int32_t KH, int32_t PW,
                                             const q8_ring *rg, int32_t c_left, const q8_out *qo,
                                             int shape, int bc, int is_u8) {
#define R(S, BC, U8) q8_row_t(rows, orow, n, grp, wts, ng, KH, PW, rg, c_left, qo, S, BC, U8)
#define R3(BC, U8)                                                                             \
  do {                                                                                         \
    if (shape == SHAPE_3X3_J2) R(SHAPE_3X3_J2, BC, U8);                                        \
    else if (shape == SHAPE_3X3_J1) R(SHAPE_3X3_J1, BC, U8);                                   \
    else R(SHAPE_GENERIC, BC, U8);                                                             \
  } while (0)
  if (is_u8) {
    if (bc) R3(1, 1);
    else R3(0, 1);
  } else {
    if (bc) R3(1, 0);
    else R3(0, 0);
  }
#undef R3
#undef R
}

/* ---- driver --------------------------------------------------------------------------------- */

static void q8_dw(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in,
              const void *packed, void *out, int32_t row_begin, int32_t row_end, int gather,
              int bc, int shape, int is_u8) {
  const q8_geom g = geom(p);
  const q8_grp *grp = (const q8_grp *)((const char *)packed + g.grp_off);
  const int16_t *wts = (const int16_t *)((const char *)packed + g.w_off);
  const q8_ring rg = ring_geom(p);
  const int32_t KH = g.KH, PW = g.PW, Cin = g.Cin, Cout = g.Cout;

  /* Channel block (cw channels) and tile width (tw pixels) of the ring. */
  int64_t cw = (int64_t)g.G * 8;
  /* channel blocks shrink before tiles get narrower than 32 pixels (per-group row overheads) */
  const int32_t twmin = p->out_w < 32 ? p->out_w : 32;
  while (cw > 8 && ring_bytes(&rg, KH, PW, twmin, cw) > RING_TARGET) cw = (cw / 8 + 1) / 2 * 8;
  int64_t tw = p->out_w;
  if (ring_bytes(&rg, KH, PW, tw, cw) > RING_TARGET) {
    const int64_t base = ring_bytes(&rg, KH, PW, 1, cw);
    const int64_t per_px = ring_bytes(&rg, KH, PW, 2, cw) - base;
    tw = base >= RING_TARGET || per_px <= 0 ? 1 : 1 + (RING_TARGET - base) / per_px;
  }
  const int64_t n_tiles = (p->out_w + tw - 1) / tw;
  tw = n_tiles ? (p->out_w + n_tiles - 1) / n_tiles : 1;
  const int32_t ng_blk = (int32_t)(cw / 8);

  int16_t ring[RING_BYTES / 2] __attribute__((aligned(32)));
  int32_t tag[MAX_KH];
  const int16_t *rows[MAX_KH];
  const __m256i zp = _mm256_set1_epi16((int16_t)-q->input_offset); /* raw zero point */
  q8_out qo;
  qo.zo = _mm256_set1_epi32(q->output_offset);
  qo.lo = _mm256_set1_epi8((char)q->act_min);
  qo.hi = _mm256_set1_epi8((char)q->act_max);
  qo.Cout = Cout;
  const int64_t img_size = (int64_t)p->in_h * p->in_w * Cin;
  const int64_t row_size = (int64_t)p->in_w * Cin;

  for (int32_t r = row_begin; r < row_end;) {
    const int32_t b = r / p->out_h, oy0 = r % p->out_h;
    const int32_t oy1 = row_end - r < p->out_h - oy0 ? oy0 + (row_end - r) : p->out_h;
    const uint8_t *img = (const uint8_t *)in + b * img_size;
    for (int32_t gb = 0; gb < g.G; gb += ng_blk) {
      const int32_t ng = g.G - gb < ng_blk ? g.G - gb : ng_blk;
      for (int64_t ox0 = 0; ox0 < p->out_w; ox0 += tw) {
        const int32_t n = (int32_t)(p->out_w - ox0 < tw ? p->out_w - ox0 : tw);
        const int32_t ni = (int32_t)ring_ni(&rg, PW, n);
        const size_t slot = (size_t)ni * (bc ? 2 : (size_t)ng * 16);
        const int64_t x_first = ox0 * p->stride_w - p->pad_left;
        for (int32_t s = 0; s < KH; s++) tag[s] = INT32_MIN;
        for (int32_t oy = oy0; oy < oy1; oy++) {
          const int32_t y0 = oy * p->stride_h - p->pad_top;
          int32_t s = p->dilation_h == 1 ? ((y0 % KH) + KH) % KH : 0; /* slot of ky = 0 */
          for (int32_t ky = 0; ky < KH; ky++, s = s + 1 == KH ? 0 : s + 1) {
            const int32_t y = y0 + ky * p->dilation_h;
            int16_t *dst = ring + (size_t)s * slot;
            if (tag[s] != y) {
              const int valid = y >= 0 && y < p->in_h;
              q8_build(dst, valid ? img + y * row_size : NULL,
                       valid ? img_size - y * row_size : 0, x_first, ni, rg.u,
                       p->dilation_w, p->in_w, Cin, grp + gb, ng, zp, gather, bc, is_u8);
              tag[s] = y;
            }
            rows[ky] = dst;
          }
          uint8_t *orow = (uint8_t *)out + (((int64_t)b * p->out_h + oy) * p->out_w + ox0) * Cout +
                          (int64_t)gb * 8;
          q8_row(rows, orow, n, grp + gb, wts + (size_t)gb * KH * PW * 16, ng, KH, PW, &rg,
                 Cout - gb * 8, &qo, shape, bc, is_u8);
        }
      }
    }
    r += oy1 - oy0;
  }
}

static void q8_dispatch(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in,
                        const void *packed, void *out, int32_t row_begin, int32_t row_end,
                        int is_u8) {
  const q8_ring rg = ring_geom(p);
  int shape = SHAPE_GENERIC;
  if (p->k_h == 3 && p->k_w == 3 && rg.pstep == 1 && (rg.jstep == 1 || rg.jstep == 2))
    shape = rg.jstep == 2 ? SHAPE_3X3_J2 : SHAPE_3X3_J1;
  q8_dw(p, q, in, packed, out, row_begin, row_end, !rg.bc && p->depth_multiplier != 1, rg.bc,
        shape, is_u8);
}

static int usable(const void *packed) { return packed && ((const q8_head *)packed)->usable; }

static void s8_dw_avx2(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in,
                       const void *filter, const int32_t *bias, const void *packed, void *out,
                       int32_t row_begin, int32_t row_end) {
  if (!usable(packed)) tc_s8_dwconv__ref.run(p, q, in, filter, bias, NULL, out, row_begin, row_end);
  else q8_dispatch(p, q, in, packed, out, row_begin, row_end, 0);
}

static void u8_dw_avx2(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in,
                       const void *filter, const int32_t *bias, const void *packed, void *out,
                       int32_t row_begin, int32_t row_end) {
  if (!usable(packed)) tc_u8_dwconv__ref.run(p, q, in, filter, bias, NULL, out, row_begin, row_end);
  else q8_dispatch(p, q, in, packed, out, row_begin, row_end, 1);
}

tc_s8_dwconv_kernel tc_s8_dwconv__avx2 = {"avx2", q8_packed_size, s8_pack, s8_dw_avx2};
tc_u8_dwconv_kernel tc_u8_dwconv__avx2 = {"avx2", q8_packed_size, u8_pack, u8_dw_avx2};

#endif /* x86-64 */
