/* dwconv_q8_avx2.c: AVX2 int8 / uint8 depthwise convolution (slots s8_dwconv and u8_dwconv of
 * vec_ops.h), any filter size, stride, dilation and depth multiplier, bit-exact with
 * tc_{s8,u8}_depthwise_conv2d__ref.
 *
 * Algorithm. Output channels are cut into groups of 8. Each input row that a filter row needs
 * is widened once into a small ring of int16 rows (on the stack) as *tap pairs*: element i of a
 * ring row holds, for the 8 channels of a group, the raw inputs (v[x], v[x + dil]) with x =
 * x_first + i * u, and the input zero point for positions outside the image (the input offset
 * is folded into the bias at pack, so padding contributes nothing and no output pixel is a
 * border case; edge positions read their outside taps from a row of zero-point bytes, through
 * the same code as the inside ones). A ring row stores group after group, so a pixel's taps
 * are fixed displacements. Taps (kx, kx + 1) of a filter row are one vpmaddwd of a ring
 * element against weights packed at prepare as int16 pairs (filter offset applied; the odd tap
 * of an odd-width row is paired with a 0 weight): a 3x3 filter is 6 vpmaddwd + 6 vpaddd per 8
 * outputs, 4 pixels per step with the weights in registers. With stride 2 (when 2 * dil is a
 * multiple of the stride: u = stride) only the pair positions that output pixels use are built.
 *   Depth multiplier M > 1: with one input channel (person_detect's first layer, 1 -> 8) a
 * ring element is a single pair, broadcast to the 8 lanes when loaded ("bc" rows, 4 bytes per
 * position); otherwise the builder gathers the input channel of every output lane (vpshufb).
 *   The ring holds the rows of a column tile and a block of channel groups: a row is built
 * when an output row first needs it and reused by the next output rows (3x3 stride 1 widens
 * each input row once per tile); tile and block are sized to keep KH rows near 20 KiB (L1).
 * Output pixels run as *streams* (4 pixels per step, every group of the block in turn): a
 * long row is one stream; short rows (<= BATCH_N pixels, the 3x3..7x7 layers) are batched, the
 * pixels of several output rows forming one stream through offset tables, so per-group and
 * per-row costs are paid once per batch (see q8_dw).
 *
 * Exactness: every value is an int16 in [-32767, 32767] (offsets are checked at pack), so
 * vpmaddwd is exact and the int32 lane sums are the reference's accumulator modulo 2^32 (the
 * reference wraps its int64 sum to int32 too). Requantization is tc_q_mul_double lane by lane:
 * the general form is vec_avx2.h's srdhm + rdivpot with per-group constants; groups whose
 * accumulators provably stay below 2^30 in magnitude (bias and weight bounds, computed at pack),
 * with no left shift, non-negative multipliers and right shifts >= 1, use a shorter equivalent
 * (the rounding half folded into the 64-bit product, ties away from zero from the accumulator's
 * sign, the output offset added before the final shift: see rq_plain). Otherwise the output
 * offset is a wrapping int32 add. Then saturating packs to 8 bits and the activation clamp on
 * bytes, equal to the reference's clamp because act_min .. act_max lies inside the 8-bit range
 * (checked at pack; otherwise the reference runs). */
#include "kernels/vec_ops.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <string.h>

#include "kernels/x86/dw_window.h"
#include "kernels/x86/vec_avx2.h"

enum {
  MAX_KH = 256,        /* ring tags on the stack; taller filters run the reference */
  RING_BYTES = 32768,  /* the stack ring */
  RING_TARGET = 20480, /* what tiles aim for */
  ZROW_BYTES = RING_TARGET / 4 + 16, /* > the widest channel block (+ 8 for gathers) */
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
  int64_t c_even[4], c_odd[4]; /* rq_plain's constants of lanes 0,2,4,6 / 1,3,5,7 */
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
      /* rq_plain needs |acc| < 2^30 - 4, no left shift, mult >= 0, 1 <= rsh <= 31, and
       * |acc| + 2^(rsh - 1) + |output_offset| * 2^rsh + 1 < 2^31 */
      const int64_t e = gr->rsh[j], zo = iabs64(q->output_offset);
      if (bound >= ((int64_t)1 << 30) - 4 || gr->lsh[j] || gr->mult[j] < 0 || e < 1 || e > 31 ||
          zo > ((int64_t)1 << 31) >> e ||
          bound + ((int64_t)1 << (e - 1)) + (zo << e) + 1 >= ((int64_t)1 << 31))
        gr->plain = 0;
    }
    for (int32_t j = 0; j < 8; j++) { /* 2^30 + (2^(rsh - 1) + output_offset * 2^rsh) * 2^31 */
      const int32_t e = gr->rsh[j];
      int64_t c = 0;
      if (e >= 1 && e <= 31 && iabs64(q->output_offset) <= ((int64_t)1 << 31) >> e) {
        const int64_t t = ((int64_t)1 << (e - 1)) + (int64_t)q->output_offset * ((int64_t)1 << e);
        c = ((int64_t)1 << 30) + (int64_t)((uint64_t)t << 31);
      }
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

/* ---- ring rows ------------------------------------------------------------------------------
 * A ring row holds, group after group, the ni pair positions of one input row: group gl's
 * position i at dst + gl * gs + 16 i (gs = 16 ni int16), so the pixels of one group read
 * their taps at fixed displacements. bc rows hold one pair per position (dst + 2 i). */

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

/* Bytes a position reads past the block's first input channel (16-byte loads for two groups,
 * 8 for one; gathers 8 per group). */
static int64_t build_span(const q8_grp *grp, int32_t ng, int gather) {
  return gather ? grp[ng - 1].c0 - grp[0].c0 + 8 : (int64_t)ng * 8;
}

/* One position of every group: pairs (a[c], b[c]); a and b point at the block's first input
 * channel c_begin of taps x and x + d (in the image, or in the zero-point row zrow), and the
 * build_span bytes after them are readable. */
AI void build_pos(int16_t *o, size_t gs, const uint8_t *a, const uint8_t *b, const q8_grp *grp,
                  int32_t ng, int64_t c_begin, int gather, int is_u8) {
  if (!gather) {
    int32_t gl = 0;
    for (; gl + 2 <= ng; gl += 2) {
      const __m128i va = _mm_loadu_si128((const __m128i *)(a + gl * 8));
      const __m128i vb = _mm_loadu_si128((const __m128i *)(b + gl * 8));
      _mm256_storeu_si256((__m256i *)(o + gl * gs), widen(_mm_unpacklo_epi8(va, vb), is_u8));
      _mm256_storeu_si256((__m256i *)(o + (gl + 1) * gs), widen(_mm_unpackhi_epi8(va, vb), is_u8));
    }
    if (gl < ng) {
      const __m128i va = _mm_loadl_epi64((const __m128i *)(a + gl * 8));
      const __m128i vb = _mm_loadl_epi64((const __m128i *)(b + gl * 8));
      _mm256_storeu_si256((__m256i *)(o + gl * gs), widen(_mm_unpacklo_epi8(va, vb), is_u8));
    }
    return;
  }
  for (int32_t gl = 0; gl < ng; gl++) {
    const int64_t off = grp[gl].c0 - c_begin;
    const __m128i va = _mm_loadl_epi64((const __m128i *)(a + off));
    const __m128i vb = _mm_loadl_epi64((const __m128i *)(b + off));
    const __m128i v = _mm_shuffle_epi8(_mm_unpacklo_epi8(va, vb),
                                       _mm_loadu_si128((const __m128i *)grp[gl].shuf));
    _mm256_storeu_si256((__m256i *)(o + gl * gs), widen(v, is_u8));
  }
}

/* The same for a position whose loads may pass the end of the image (its last row): each
 * group's 8 bytes through ld8. a_off / b_off: offsets of a / b from the image row (avail bytes
 * readable there), or -1 for the zero-point row. */
static void build_pos_clip(int16_t *o, size_t gs, const uint8_t *a, const uint8_t *b,
                           int64_t a_off, int64_t b_off, int64_t avail, const q8_grp *grp,
                           int32_t ng, int64_t c_begin, int gather, int is_u8) {
  for (int32_t gl = 0; gl < ng; gl++) {
    const int64_t off = grp[gl].c0 - c_begin;
    const __m128i va = a_off < 0 ? _mm_loadl_epi64((const __m128i *)(a + off))
                                 : ld8(a + off, a_off + off, avail, grp[gl].n_in);
    const __m128i vb = b_off < 0 ? _mm_loadl_epi64((const __m128i *)(b + off))
                                 : ld8(b + off, b_off + off, avail, grp[gl].n_in);
    __m128i v = _mm_unpacklo_epi8(va, vb);
    if (gather) v = _mm_shuffle_epi8(v, _mm_loadu_si128((const __m128i *)grp[gl].shuf));
    _mm256_storeu_si256((__m256i *)(o + gl * gs), widen(v, is_u8));
  }
}

/* bc rows (one input channel): position i is the int16 pair (v[x], v[x + d]), x = x_first +
 * i u, the zero point z outside the image. Whole-register paths for (u, d) = (2, 1) (16 bytes
 * -> 8 pairs) and (1, 1) (two shifted loads) where both taps are inside. */
AI void build_bc(int16_t *dst, const uint8_t *row, int64_t avail, int64_t x_first, int64_t i_lo,
                 int64_t i_hi, int32_t ni, int32_t u, int32_t d, int32_t in_w, int16_t z,
                 int is_u8) {
  int64_t i = i_lo;
  if (u == 2 && d == 1)
    for (; i + 8 <= i_hi && x_first + i * 2 + 16 <= avail; i += 8) {
      const __m128i v = _mm_loadu_si128((const __m128i *)(row + x_first + i * 2));
      _mm256_storeu_si256((__m256i *)(dst + 2 * i), widen(v, is_u8));
    }
  if (u == 1 && d == 1)
    for (; i + 16 <= i_hi && x_first + i + 17 <= avail; i += 16) {
      const __m128i a = _mm_loadu_si128((const __m128i *)(row + x_first + i));
      const __m128i b = _mm_loadu_si128((const __m128i *)(row + x_first + i + 1));
      _mm256_storeu_si256((__m256i *)(dst + 2 * i), widen(_mm_unpacklo_epi8(a, b), is_u8));
      _mm256_storeu_si256((__m256i *)(dst + 2 * i + 16), widen(_mm_unpackhi_epi8(a, b), is_u8));
    }
  for (; i < i_hi; i++) {
    const int64_t x = x_first + i * u;
    dst[2 * i] = (int16_t)(is_u8 ? row[x] : (int8_t)row[x]);
    dst[2 * i + 1] = (int16_t)(is_u8 ? row[x + d] : (int8_t)row[x + d]);
  }
  for (i = 0; i < ni; i++) { /* a tap outside the image */
    if (i == i_lo) i = i_hi;
    if (i >= ni) break;
    const int64_t x = x_first + i * u;
    const int ia = x >= 0 && x < in_w, ib = x + d >= 0 && x + d < in_w;
    dst[2 * i] = ia ? (int16_t)(is_u8 ? row[x] : (int8_t)row[x]) : z;
    dst[2 * i + 1] = ib ? (int16_t)(is_u8 ? row[x + d] : (int8_t)row[x + d]) : z;
  }
}

enum { MAX_EDGE = 16 };

/* What the rows of one tile and channel block share. */
typedef struct q8_tile {
  const q8_grp *grp;
  const uint8_t *zrow; /* build_span bytes of the zero point: taps outside the image */
  int64_t x_first, c_begin, span, i_lo, i_hi; /* [i_lo, i_hi): both taps inside the image */
  int64_t need; /* bytes from a row's start that its loads read (all inside: no clipping) */
  int32_t ni, ng, u, d, in_w, Cin;
  int32_t n_edge; /* positions with a tap outside (-1: more than MAX_EDGE) */
  int32_t edge_i[MAX_EDGE];
  int64_t edge_a[MAX_EDGE], edge_b[MAX_EDGE]; /* tap offsets in a row, -1: zrow */
  int16_t z; /* the zero point */
} q8_tile;

static q8_tile tile_geom(const tc_dwconv2d_params *p, const q8_ring *rg, const q8_grp *grp,
                         int32_t ng, int64_t x_first, int32_t ni, const uint8_t *zrow,
                         int16_t z, int gather) {
  q8_tile t;
  t.z = z;
  t.grp = grp, t.zrow = zrow, t.x_first = x_first, t.ni = ni, t.ng = ng;
  t.u = rg->u, t.d = p->dilation_w, t.in_w = p->in_w, t.Cin = p->in_c;
  t.c_begin = grp[0].c0;
  t.span = build_span(grp, ng, gather);
  int64_t i_lo = x_first >= 0 ? 0 : (-x_first + t.u - 1) / t.u;
  const int64_t lim = (int64_t)t.in_w - 1 - t.d - x_first;
  int64_t i_hi = lim < 0 ? 0 : lim / t.u + 1;
  if (i_lo > ni) i_lo = ni;
  if (i_hi > ni) i_hi = ni;
  if (i_hi < i_lo) i_hi = i_lo;
  t.i_lo = i_lo, t.i_hi = i_hi;
  /* the last pixel any position reads, and the edge positions' sources */
  int64_t x_last = x_first + (int64_t)(ni - 1) * t.u + t.d;
  if (x_last > t.in_w - 1) x_last = t.in_w - 1;
  t.need = x_last * t.Cin + t.c_begin + t.span;
  t.n_edge = (int32_t)(i_lo + (ni - i_hi));
  if (t.n_edge > MAX_EDGE) t.n_edge = -1;
  for (int32_t i = 0, e = 0; t.n_edge > 0 && i < ni; i++) {
    if (i == i_lo) i = (int32_t)i_hi;
    if (i >= ni) break;
    const int64_t x = x_first + (int64_t)i * t.u;
    t.edge_i[e] = i;
    t.edge_a[e] = x >= 0 && x < t.in_w ? x * t.Cin + t.c_begin : -1;
    t.edge_b[e++] = x + t.d >= 0 && x + t.d < t.in_w ? (x + t.d) * t.Cin + t.c_begin : -1;
  }
  return t;
}

/* Builds one ring row of the tile from image row `row` (NULL: a padding row, the zero point
 * everywhere); `avail` bytes of the image follow `row`. */
AI void q8_build_t(int16_t *dst, const q8_tile *t, const uint8_t *row, int64_t avail,
                   int gather, int bc, int is_u8) {
  const int32_t ni = t->ni, ng = t->ng, u = t->u, d = t->d, Cin = t->Cin;
  const int64_t x_first = t->x_first, i_lo = t->i_lo, i_hi = t->i_hi;
  if (!row) {
    const size_t n = (size_t)ni * (bc ? 2 : (size_t)ng * 16);
    const __m256i zp = _mm256_set1_epi16(t->z);
    size_t k = 0;
    for (; k + 16 <= n; k += 16) _mm256_storeu_si256((__m256i *)(dst + k), zp);
    for (; k < n; k++) dst[k] = t->z;
    return;
  }
  if (bc) {
    build_bc(dst, row, avail, x_first, i_lo, i_hi, ni, u, d, t->in_w, t->z, is_u8);
    return;
  }
  const q8_grp *grp = t->grp;
  const size_t gs = (size_t)ni * 16;
  const int64_t c_begin = t->c_begin, span = t->span;
  const int64_t dC = (int64_t)d * Cin, step = (int64_t)u * Cin;
  /* [i_lo, i_safe): all loads inside the image (only the last few of its last row are not) */
  const int fast = avail >= t->need && t->n_edge >= 0; /* no clipping, edges listed */
  int64_t i_safe = i_hi;
  while (!fast && i_safe > i_lo &&
         (x_first + (i_safe - 1) * u) * Cin + c_begin + dC + span > avail)
    i_safe--;
  const uint8_t *a = row + (x_first + i_lo * u) * Cin + c_begin;
  if (!gather) { /* two groups at a time, position after position */
    int32_t gl = 0;
    for (; gl + 2 <= ng; gl += 2) {
      const uint8_t *ag = a + gl * 8;
      int16_t *o = dst + gl * gs + i_lo * 16;
      for (int64_t i = i_lo; i < i_safe; i++, ag += step, o += 16) {
        const __m128i va = _mm_loadu_si128((const __m128i *)ag);
        const __m128i vb = _mm_loadu_si128((const __m128i *)(ag + dC));
        _mm256_storeu_si256((__m256i *)o, widen(_mm_unpacklo_epi8(va, vb), is_u8));
        _mm256_storeu_si256((__m256i *)(o + gs), widen(_mm_unpackhi_epi8(va, vb), is_u8));
      }
    }
    if (gl < ng) {
      const uint8_t *ag = a + gl * 8;
      int16_t *o = dst + gl * gs + i_lo * 16;
      for (int64_t i = i_lo; i < i_safe; i++, ag += step, o += 16) {
        const __m128i va = _mm_loadl_epi64((const __m128i *)ag);
        const __m128i vb = _mm_loadl_epi64((const __m128i *)(ag + dC));
        _mm256_storeu_si256((__m256i *)o, widen(_mm_unpacklo_epi8(va, vb), is_u8));
      }
    }
  } else {
    int16_t *o = dst + i_lo * 16;
    for (int64_t i = i_lo; i < i_safe; i++, a += step, o += 16)
      build_pos(o, gs, a, a + dC, grp, ng, c_begin, gather, is_u8);
  }
  if (fast) {
    for (int32_t e = 0; e < t->n_edge; e++) {
      const int64_t ao = t->edge_a[e], bo = t->edge_b[e];
      build_pos(dst + (size_t)t->edge_i[e] * 16, gs, ao < 0 ? t->zrow : row + ao,
                bo < 0 ? t->zrow : row + bo, grp, ng, c_begin, gather, is_u8);
    }
    return;
  }
  for (int64_t i = 0; i < ni; i++) { /* a tap outside the image, or loads past its end */
    if (i == i_lo) i = i_safe;
    if (i >= ni) break;
    const int64_t x = x_first + i * u;
    const int64_t a_off = x >= 0 && x < t->in_w ? x * Cin + c_begin : -1;
    const int64_t b_off = x + d >= 0 && x + d < t->in_w ? (x + d) * Cin + c_begin : -1;
    const uint8_t *pa = a_off < 0 ? t->zrow : row + a_off;
    const uint8_t *pb = b_off < 0 ? t->zrow : row + b_off;
    if ((a_off < 0 || a_off + span <= avail) && (b_off < 0 || b_off + span <= avail))
      build_pos(dst + i * 16, gs, pa, pb, grp, ng, c_begin, gather, is_u8);
    else
      build_pos_clip(dst + i * 16, gs, pa, pb, a_off, b_off, avail, grp, ng, c_begin, gather,
                     is_u8);
  }
}

/* Not inlined into the row loop: its own registers (the flags select an instantiation). */
static __attribute__((noinline)) void q8_build(int16_t *dst, const q8_tile *t,
                                               const uint8_t *row, int64_t avail, int gather,
                                               int bc, int is_u8) {
#define B(GA, BC, U8) q8_build_t(dst, t, row, avail, GA, BC, U8)
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

/* The same for groups with gr->plain (q8_pack's conditions), h = 2^(e-1), e = rsh. With ab =
 * acc * mult, srdhm r = floor((ab + 2^30) / 2^31) (vec_avx2.h), |r| <= |acc|. rdivpot(r, e) is
 * floor((r + h - [r < 0]) / 2^e) when r + h cannot overflow, and [r < 0] may be replaced by
 * [acc < 0] because r <= 0 whenever acc < 0 (mult >= 0) and r = 0 rounds to 0 either way
 * (h - 1 < 2^e). Adding zo 2^e before the shift adds exactly zo after it, so c_even / c_odd
 * (2^30 + (h + zo 2^e) 2^31) give t = r + h + zo 2^e at once, no int32 overflow by the pack
 * bound, and the result is (t - [acc < 0]) >> e. */
AI __m256i rq_plain(__m256i x, const q8_grp *gr) {
  __m256i even = _mm256_mul_epi32(x, ld(gr->mult));
  __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(x, 32), ld(gr->mult_odd));
  even = _mm256_srli_epi64(_mm256_add_epi64(even, ld(gr->c_even)), 31);
  odd = _mm256_slli_epi64(_mm256_add_epi64(odd, ld(gr->c_odd)), 1);
  /* (the sign as a compare: any ALU pipe, where shifts share two with the shuffles) */
  const __m256i neg = _mm256_cmpgt_epi32(_mm256_setzero_si256(), x);
  __m256i r = _mm256_add_epi32(_mm256_blend_epi32(even, odd, 0xAA), neg);
  return _mm256_srav_epi32(r, ld(gr->rsh));
}

AI __m256i rq(__m256i x, const q8_grp *gr, __m256i zo, int plain) {
  return plain ? rq_plain(x, gr) : rq_exact(x, gr, zo);
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

/* Stores the first `lanes` (<= 8) bytes of the 4 pixels of v (pixel k at bytes 8k..) at
 * o + o0 .. o + o3. */
AI void store4(uint8_t *o, ptrdiff_t o0, ptrdiff_t o1, ptrdiff_t o2, ptrdiff_t o3, __m256i v,
               int32_t lanes) {
  if (lanes == 8) {
    const __m128i l = _mm256_castsi256_si128(v), h = _mm256_extracti128_si256(v, 1);
    _mm_storel_epi64((__m128i *)(o + o0), l);
    _mm_storeh_pi((__m64 *)(o + o1), _mm_castsi128_ps(l));
    _mm_storel_epi64((__m128i *)(o + o2), h);
    _mm_storeh_pi((__m64 *)(o + o3), _mm_castsi128_ps(h));
    return;
  }
  uint8_t buf[32];
  _mm256_storeu_si256((__m256i *)buf, v);
  memcpy(o + o0, buf, (size_t)lanes);
  memcpy(o + o1, buf + 8, (size_t)lanes);
  memcpy(o + o2, buf + 16, (size_t)lanes);
  memcpy(o + o3, buf + 24, (size_t)lanes);
}

/* ---- pixel streams -------------------------------------------------------------------------
 * A stream is npx output pixels of one tile and channel block that read the same ring rows:
 * pixel p's taps of filter row ky start at rows[ky] + roff[p] (plus the group's gs offset),
 * its output at orow + ooff[p]. A row of a tile is a stream with roff = p * pstep * E and
 * ooff = p * Cout (no tables); short rows are streamed several at a time through tables
 * (q8_dw's batches). Pixels go 4 at a time; the last 1-3 are padded with repeats of the last
 * one (same bytes stored again), so no pixel count needs a tail path. */

typedef struct q8_out {
  __m256i zo, lo, hi;
  int32_t Cout;
} q8_out;

typedef struct q8_stream {
  const int16_t *const *rows; /* KH ring rows, group 0 of the block */
  size_t gs;                  /* int16 from one group's ring data to the next */
  uint8_t *orow;              /* output of the stream's origin, block's first channel */
  const ptrdiff_t *roff, *ooff; /* bytes; NULL: a row (p * pstep * E * 2, p * Cout) */
  int32_t npx;
  int32_t olin; /* ooff[p] = p * Cout for p < npx (tiles as wide as the image) */
} q8_stream;

/* A ring element: 8 lanes of pairs, or (bc) one pair broadcast. */
AI __m256i ldp(const void *p, int bc) {
  if (!bc) return ld(p);
  int32_t v;
  memcpy(&v, p, sizeof v);
  return _mm256_set1_epi32(v);
}

/* Ring (bytes) and output offsets of pixels p .. p + 3 of a stream, relative to pixel p0
 * (tables: padded with repeats of the last pixel; rows: the last pixel repeated here). */
AI void px_offsets(const q8_stream *st, int32_t p, int32_t p0, size_t ps, size_t os,
                   ptrdiff_t q[4], ptrdiff_t o[4], int tab) {
  tc__dw_px_offsets(st->roff, st->ooff, st->npx, p, p0, (ptrdiff_t)ps * 2, (ptrdiff_t)os, q, o,
                    tab);
}

/* Requantizes 4 accumulators of one group and stores them (pixel k at og + o[k]). */
#define RQ_STORE4(a0, a1, a2, a3, STORE)                                                       \
  do {                                                                                         \
    const __m256i v = pack4(rq(a0, gr, qo->zo, plain), rq(a1, gr, qo->zo, plain),            \
                            rq(a2, gr, qo->zo, plain), rq(a3, gr, qo->zo, plain), qo->lo,    \
                            qo->hi, is_u8);                                                    \
    STORE;                                                                                     \
  } while (0)

/* One group's pixels of a stream, generic filter (KH rows of PW pairs, pair step js int16;
 * ps: int16 per pixel of a row stream). */
AI void q8_grp_generic(const q8_stream *st, size_t g_off, uint8_t *og, size_t os, int32_t lanes,
                       const q8_grp *gr, const int16_t *W, int32_t KH, int32_t PW, size_t ps,
                       size_t js, const q8_out *qo, int bc, int plain, int tab, int is_u8) {
  const __m256i bias = ld(gr->bias);
  const int32_t npx = st->npx;
  const int16_t *const *rows = st->rows;
  size_t r0 = g_off; /* row streams: the step's first pixel */
  for (int32_t p = 0; p < npx; p += 4) {
    ptrdiff_t q[4], o[4];
    if (!tab && p + 4 <= npx)
      for (int32_t k = 0; k < 4; k++) q[k] = (ptrdiff_t)(2 * k * ps), o[k] = (ptrdiff_t)(k * os);
    else px_offsets(st, p, tab ? 0 : p, ps, os, q, o, tab);
    __m256i a0 = bias, a1 = bias, a2 = bias, a3 = bias;
    for (int32_t ky = 0; ky < KH; ky++) {
      const int16_t *t = rows[ky] + r0;
      for (int32_t j = 0; j < PW; j++, t += js) {
        const __m256i w = ld(W + ((size_t)ky * PW + j) * 16);
        const char *tb = (const char *)t;
        a0 = _mm256_add_epi32(a0, _mm256_madd_epi16(ldp(tb + q[0], bc), w));
        a1 = _mm256_add_epi32(a1, _mm256_madd_epi16(ldp(tb + q[1], bc), w));
        a2 = _mm256_add_epi32(a2, _mm256_madd_epi16(ldp(tb + q[2], bc), w));
        a3 = _mm256_add_epi32(a3, _mm256_madd_epi16(ldp(tb + q[3], bc), w));
      }
    }
    RQ_STORE4(a0, a1, a2, a3, store4(og, o[0], o[1], o[2], o[3], v, lanes));
    if (!tab) r0 += 4 * ps, og += 4 * os;
  }
}

/* The same for a 3x3 filter with pixel step 1 (stride 1, or stride 2 with u = 2) and pair step
 * J (compile time: every tap is a fixed displacement from a pixel's offset): the six weight
 * pairs stay in registers; 4 pixels are accumulated, requantized, packed and stored at once,
 * the last 1-3 of a stream with as many accumulations. */
AI void q8_grp_3x3(const q8_stream *st, size_t g_off, uint8_t *og, size_t os, int32_t lanes_,
                   const q8_grp *gr, const int16_t *W, const q8_out *qo, int J, int bc,
                   int plain, int tab, int full, int is_u8) {
  const int32_t lanes = full ? 8 : lanes_; /* (full: the stores' lane test at compile time) */
  enum { E16 = 16, E2 = 2 };
  const size_t ps = bc ? E2 : E16, js = (size_t)J * ps;
  const __m256i w00 = ld(W), w01 = ld(W + 16), w10 = ld(W + 32), w11 = ld(W + 48),
                w20 = ld(W + 64), w21 = ld(W + 80);
  const __m256i bias = ld(gr->bias);
  /* tap rows 1 and 2 at d1, d2 bytes from row 0; pixel offsets q in bytes */
  const char *s0 = (const char *)(st->rows[0] + g_off);
  const ptrdiff_t d1 = (const char *)(st->rows[1] + g_off) - s0,
                  d2 = (const char *)(st->rows[2] + g_off) - s0, jb = 2 * (ptrdiff_t)js;
  const ptrdiff_t *ro = st->roff, *oo = st->ooff;
  const int32_t npx = st->npx;
#define TAPS(acc, q)                                                                           \
  do {                                                                                         \
    const char *t_ = s0 + (q);                                                                 \
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ldp(t_, bc), w00));                          \
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ldp(t_ + jb, bc), w01));                     \
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ldp(t_ + d1, bc), w10));                     \
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ldp(t_ + d1 + jb, bc), w11));                \
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ldp(t_ + d2, bc), w20));                     \
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(ldp(t_ + d2 + jb, bc), w21));                \
  } while (0);
#define STEP(q0, q1, q2, q3, left, STORE)                                                      \
  do {                                                                                         \
    __m256i a0 = bias, a1 = bias, a2 = bias, a3 = bias;                                        \
    TAPS(a0, q0)                                                                               \
    if (left > 1) { TAPS(a1, q1) } else a1 = a0;                                               \
    if (left > 2) { TAPS(a2, q2) } else a2 = a1;                                               \
    if (left > 3) { TAPS(a3, q3) } else a3 = a2;                                               \
    RQ_STORE4(a0, a1, a2, a3, STORE);                                                          \
  } while (0)
  int32_t p = 0;
  if (tab && st->olin) { /* outputs in a row: fixed offsets from a pointer */
    const ptrdiff_t o1 = (ptrdiff_t)os, o2 = 2 * o1, o3 = 3 * o1;
    uint8_t *ol = og;
    for (; p + 4 <= npx; p += 4, ol += 4 * os)
      STEP(ro[p], ro[p + 1], ro[p + 2], ro[p + 3], 4, store4(ol, 0, o1, o2, o3, v, lanes));
  } else if (tab) {
    for (; p + 4 <= npx; p += 4)
      STEP(ro[p], ro[p + 1], ro[p + 2], ro[p + 3], 4,
           store4(og, oo[p], oo[p + 1], oo[p + 2], oo[p + 3], v, lanes));
  } else {
    const ptrdiff_t o1 = (ptrdiff_t)os, o2 = 2 * o1, o3 = 3 * o1;
    const ptrdiff_t pb = 2 * (ptrdiff_t)ps;
    if (full && os == 8) /* 4 pixels of 8 channels: 32 contiguous bytes */
      for (; p + 4 <= npx; p += 4, s0 += 4 * pb, og += 32)
        STEP(0, pb, 2 * pb, 3 * pb, 4, _mm256_storeu_si256((__m256i *)og, v));
    else /* (the lane and os tests out of the loop: GCC kept them in it, read from the stack) */
      for (; p + 4 <= npx; p += 4, s0 += 4 * pb, og += 4 * os)
        STEP(0, pb, 2 * pb, 3 * pb, 4, store4(og, 0, o1, o2, o3, v, lanes));
  }
  if (p < npx) { /* the last 1-3 pixels */
    ptrdiff_t q[4], o[4];
    px_offsets(st, p, tab ? 0 : p, ps, os, q, o, tab);
    const int32_t left = npx - p;
    STEP(q[0], q[1], q[2], q[3], left, store4(og, o[0], o[1], o[2], o[3], v, lanes));
  }
#undef STEP
#undef TAPS
}

enum { SHAPE_GENERIC, SHAPE_3X3_J2, SHAPE_3X3_J1 };

/* A stream for the ng groups at grp (weights wts); c_left: the output channels from the
 * block's first one to the pixel's end. */
AI void q8_stream_t(const q8_stream *st, const q8_grp *grp, const int16_t *wts, int32_t ng,
                    int32_t KH, int32_t PW, const q8_ring *rg, int32_t c_left, const q8_out *qo,
                    int shape, int bc, int tab, int is_u8) {
  const size_t E = bc ? 2 : 16; /* int16 per ring position */
  const size_t os = (size_t)qo->Cout;
  const size_t gs = bc ? 0 : st->gs; /* the groups share the broadcast row */
  const size_t ps = (size_t)rg->pstep * E, js = (size_t)rg->jstep * E;
  for (int32_t gl = 0; gl < ng; gl++) {
    const q8_grp *gr = grp + gl;
    const int16_t *W = wts + (size_t)gl * KH * PW * 16;
    uint8_t *og = st->orow + (size_t)gl * 8;
    const int32_t lanes = c_left - gl * 8 < 8 ? c_left - gl * 8 : 8;
    const size_t g_off = (size_t)gl * gs;
    if (shape != SHAPE_GENERIC) {
      const int J = shape == SHAPE_3X3_J2 ? 2 : 1;
#define G3(PL, FULL) q8_grp_3x3(st, g_off, og, os, lanes, gr, W, qo, J, bc, PL, tab, FULL, is_u8)
      if (lanes == 8) {
        if (gr->plain) G3(1, 1);
        else G3(0, 1);
      } else {
        if (gr->plain) G3(1, 0);
        else G3(0, 0);
      }
#undef G3
    } else {
      if (gr->plain)
        q8_grp_generic(st, g_off, og, os, lanes, gr, W, KH, PW, ps, js, qo, bc, 1, tab, is_u8);
      else q8_grp_generic(st, g_off, og, os, lanes, gr, W, KH, PW, ps, js, qo, bc, 0, tab, is_u8);
    }
  }
}

static __attribute__((noinline)) void q8_stream_run(const q8_stream *st, const q8_grp *grp,
                                                    const int16_t *wts, int32_t ng, int32_t KH,
                                                    int32_t PW, const q8_ring *rg,
                                                    int32_t c_left, const q8_out *qo, int shape,
                                                    int bc, int is_u8) {
  const int tab = st->roff != NULL;
#define R(S, BC, U8)                                                                           \
  do {                                                                                         \
    if (tab) q8_stream_t(st, grp, wts, ng, KH, PW, rg, c_left, qo, S, BC, 1, U8);              \
    else q8_stream_t(st, grp, wts, ng, KH, PW, rg, c_left, qo, S, BC, 0, U8);                  \
  } while (0)
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

/* ---- driver ---------------------------------------------------------------------------------
 * Column tiles and channel blocks keep KH ring rows near RING_TARGET; dw_window.h decides which
 * slot holds which row (rows one by one, or batches of short rows as one stream). */

static void q8_dw(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in,
                  const void *packed, void *out, int32_t row_begin, int32_t row_end, int gather,
                  int bc, int shape, int is_u8) {
  const q8_geom g = geom(p);
  const q8_grp *grp = (const q8_grp *)((const char *)packed + g.grp_off);
  const int16_t *wts = (const int16_t *)((const char *)packed + g.w_off);
  const q8_ring rg = ring_geom(p);
  const int32_t KH = g.KH, PW = g.PW, Cin = g.Cin, Cout = g.Cout;
  const int32_t sh = p->stride_h, dh = p->dilation_h;

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
  /* several tiles: whole steps of 4 pixels (112 = 40 + 40 + 32, not 3 x 38 with a 2-pixel
   * step each) while the ring still fits */
  if (n_tiles > 1 && tw % 4 && ring_bytes(&rg, KH, PW, (tw + 3) / 4 * 4, cw) <= RING_BYTES)
    tw = (tw + 3) / 4 * 4;
  const int32_t ng_blk = (int32_t)(cw / 8);

  tc__dw_window win;
  tc__dw_window_plan(&win, KH, sh, dh, tw, RING_BYTES / ring_bytes(&rg, 1, PW, tw, cw));
  const int32_t nb = win.nb;

  int16_t ring[RING_BYTES / 2] __attribute__((aligned(32)));
  const int16_t *rowp[MAX_KH];
  ptrdiff_t roff[TC_DW_MAX_TPX + 3], ooff[TC_DW_MAX_TPX + 3];
  /* the source of taps outside the image: the zero point for every byte a position reads */
  uint8_t zrow[ZROW_BYTES];
  if (!bc) memset(zrow, -q->input_offset, (size_t)cw + 8);
  q8_out qo;
  qo.zo = _mm256_set1_epi32(q->output_offset);
  qo.lo = _mm256_set1_epi8((char)q->act_min);
  qo.hi = _mm256_set1_epi8((char)q->act_max);
  qo.Cout = Cout;
  const int64_t img_size = (int64_t)p->in_h * p->in_w * Cin;
  const int64_t row_size = (int64_t)p->in_w * Cin;
  const int64_t ors = (int64_t)p->out_w * Cout;
  const size_t E = bc ? 2 : 16;

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
        const q8_tile tl = tile_geom(p, &rg, grp + gb, ng, x_first, ni, zrow,
                                     (int16_t)-q->input_offset, gather);
        q8_stream st;
        st.rows = rowp;
        st.gs = (size_t)ni * 16;
        st.roff = nb > 1 ? roff : NULL;
        st.ooff = nb > 1 ? ooff : NULL;
        st.olin = n == p->out_w;
        if (nb > 1)
          tc__dw_tables(roff, ooff, nb, n, 2 * (ptrdiff_t)sh * (ptrdiff_t)slot,
                        2 * (ptrdiff_t)rg.pstep * (ptrdiff_t)E, (ptrdiff_t)ors, Cout);
        tc__dw_window_start(&win, (int64_t)oy0 * sh - p->pad_top);
        for (int32_t oy = oy0; oy < oy1;) {
          const int32_t rows_now = oy1 - oy < nb ? oy1 - oy : nb;
          const int64_t ylo = (int64_t)oy * sh - p->pad_top;
          tc__dw_window_batch(&win, ring, slot * 2, ylo, rows_now);
          for (int32_t k = 0; k < rows_now; k++)
            for (int32_t ky = 0; ky < KH; ky++) {
              const int32_t y = (int32_t)(ylo + (int64_t)k * sh + (int64_t)ky * dh);
              const int32_t s = tc__dw_window_slot(&win, y, ky);
              int16_t *dst = ring + (size_t)s * slot;
              if (win.tag[s] != y) {
                const int valid = y >= 0 && y < p->in_h;
                q8_build(dst, &tl, valid ? img + (int64_t)y * row_size : NULL,
                         valid ? img_size - (int64_t)y * row_size : 0, gather, bc, is_u8);
                win.tag[s] = y;
              }
              if (k == 0) rowp[ky] = dst;
            }
          st.orow = (uint8_t *)out + (((int64_t)b * p->out_h + oy) * p->out_w + ox0) * Cout +
                    (int64_t)gb * 8;
          st.npx = rows_now * n;
          if (nb > 1) tc__dw_tables_pad(roff, ooff, st.npx);
          q8_stream_run(&st, grp + gb, wts + (size_t)gb * KH * PW * 16, ng, KH, PW, &rg,
                        Cout - gb * 8, &qo, shape, bc, is_u8);
          oy += rows_now;
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
