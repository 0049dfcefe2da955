/* dwconv_q8_pack.h: the scalar half of the 8-bit depthwise kernel template (see
 * dwconv_q8_impl.h): packed weights and requantization constants per group of DWQ_L output
 * channels (8: dwconv_q8_avx2.c, 16: dwconv_q8_avx512.c), and the ring and tile geometry.
 * A kernel file defines DWQ_L, includes this header, defines its vector primitives on the
 * types declared here, then includes dwconv_q8_impl.h. Include once per file. */
#if !defined(DWQ_L) || (DWQ_L != 8 && DWQ_L != 16)
#error "define DWQ_L (8 or 16) before including dwconv_q8_pack.h"
#endif

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "kernels/ref/qmath.h"
#include "kernels/vec_ops.h"

enum {
  MAX_KH = 256,        /* ring tags on the stack; taller filters run the reference */
  RING_BYTES = 32768,  /* the stack ring */
  RING_TARGET = 20480, /* what tiles aim for */
  ZROW_BYTES = RING_TARGET / 4 + 16, /* > the widest channel block (+ 8 for gathers) */
};

/* Forced inlining of the template's primitives, except where it makes compiling take minutes:
 * the AVX-512 emulation build defines AI without it, and so does clang with AddressSanitizer
 * (the fuzz build: over 8 minutes for dwconv_q8_avx512.c, 4 s without). */
#ifndef AI
#if defined(__clang__) && defined(__has_feature)
#if __has_feature(address_sanitizer)
#define AI static inline
#endif
#endif
#endif
#ifndef AI
#define AI static inline __attribute__((always_inline))
#endif

/* ---- packed weights -------------------------------------------------------------------------
 * [q8_head][q8_grp x G][int16 w[G][KH][PW][DWQ_L lanes][2]], every part 4 DWQ_L-byte aligned
 * (the vector size). */
typedef struct q8_head {
  int32_t usable; /* 0: offsets or activation range outside what the int16 path handles */
  int32_t pad_[15];
} q8_head;

typedef struct q8_grp {
  int32_t bias[DWQ_L], mult[DWQ_L], mult_odd[DWQ_L], lsh[DWQ_L], rsh[DWQ_L], mask[DWQ_L],
      half[DWQ_L];
  int64_t c_even[DWQ_L / 2], c_odd[DWQ_L / 2]; /* rq_plain's constants of even / odd lanes */
  uint8_t shuf[2 * DWQ_L]; /* gather (M > 1): pair lane j takes bytes 2 idx_j, 2 idx_j + 1 of
                              the interleaved a|b (idx_j < 8) */
  float fs[DWQ_L];     /* rq_float's scales (qmath.h's tc_q_float_fit) */
  int32_t fsub[DWQ_L]; /* and what it subtracts from the float's bits */
  int32_t c0, n_in; /* first input channel of the group, input bytes it reads (<= 8 with M > 1) */
  int32_t plain;    /* rq_plain is exact for every lane */
  int32_t fq;       /* rq_float is exact for every lane (proved at pack) */
  int32_t pad_[DWQ_L == 8 ? 8 : 4]; /* (sizeof: a multiple of the vector size) */
} q8_grp;
_Static_assert(sizeof(q8_grp) % (4 * DWQ_L) == 0, "q8_grp keeps the vectors aligned");

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
  g.G = (g.Cout + DWQ_L - 1) / DWQ_L;
  g.grp_off = sizeof(q8_head);
  g.w_off = g.grp_off + (size_t)g.G * sizeof(q8_grp);
  g.size = g.w_off + (size_t)g.G * g.KH * g.PW * 4 * DWQ_L;
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

/* The fast path needs a 1-pixel, one-group ring to fit the stack ring. */
static int fits(const tc_dwconv2d_params *p) {
  if (p->k_h > MAX_KH || p->k_h <= 0 || p->k_w <= 0 || p->in_c <= 0) return 0;
  if (p->stride_w <= 0 || p->dilation_w <= 0 || p->dilation_h <= 0) return 0;
  if (p->stride_w > (1 << 20) || p->dilation_w > (1 << 20)) return 0;
  const q8_ring r = ring_geom(p);
  return ring_bytes(&r, p->k_h, (p->k_w + 1) / 2, 1, DWQ_L) <= RING_BYTES;
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
  int64_t bound_all = 0; /* of every lane's accumulator */
  for (int32_t gi = 0; gi < g.G; gi++) {
    q8_grp *gr = &grp[gi];
    const int32_t lanes = g.Cout - gi * DWQ_L < DWQ_L ? g.Cout - gi * DWQ_L : DWQ_L;
    gr->c0 = gi * DWQ_L / g.M;
    gr->n_in = (gi * DWQ_L + lanes - 1) / g.M - gr->c0 + 1;
    gr->plain = 1;
    for (int32_t j = 0; j < DWQ_L; j++) {
      const int32_t oc = gi * DWQ_L + j;
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
          w[(((size_t)gi * g.KH + ky) * g.PW + kx / 2) * 2 * DWQ_L + 2 * j + kx % 2] = (int16_t)v;
          bound += iabs64(v) * vmax;
          wsum += (uint32_t)v;
        }
      if (bound > bound_all) bound_all = bound;
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
    for (int32_t j = 0; j < DWQ_L; j++) { /* 2^30 + (2^(rsh - 1) + output_offset * 2^rsh) * 2^31 */
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
  /* rq_float (AVX-512 only), where the stores cannot go below the output offset (RELU, RELU6)
   * and every lane is proved for every accumulator any layer input gives (a lane with the
   * previous lane's multiplier and shift shares its proof: a per-tensor layer is checked once).
   * On a Zen 4 core it took MobileNetV2's 17 depthwise layers from 0.79 to 0.70 ms with zmm
   * (AVX-512), but from 1.02 to 1.14 ms with the AVX2 kernel's ymm, which keeps rq_plain. */
  int32_t pm = -1, pr = -1, ok = 0;
  float pfs = 0;
  int32_t psub = 0;
  for (int32_t gi = 0; gi < g.G; gi++) {
    q8_grp *gr = &grp[gi];
    gr->fq = DWQ_L == 16 && h->usable && q->act_min >= q->output_offset;
    for (int32_t j = 0; j < DWQ_L && gr->fq; j++) {
      if (gi * DWQ_L + j >= g.Cout) { /* padding lanes (never stored) */
        gr->fs[j] = 0.0f;
        gr->fsub[j] = TC_Q_FLOAT_MAGIC_BITS;
        continue;
      }
      if (gr->lsh[j] || gr->mult[j] != pm || gr->rsh[j] != pr) {
        pm = gr->mult[j];
        pr = gr->lsh[j] ? -1 : gr->rsh[j];
        ok = !gr->lsh[j] && tc_q_float_fit(pm, gr->rsh[j], q->output_offset, q->act_min,
                                           q->act_max, bound_all, &pfs, &psub);
      }
      gr->fs[j] = pfs;
      gr->fsub[j] = psub;
      gr->fq = ok;
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

/* Bytes a position reads past the block's first input channel (16-byte loads per 16
 * channels, 8 for a last group of 8; gathers 8 per group). */
static int64_t build_span(const q8_grp *grp, int32_t ng, int gather) {
  return gather ? grp[ng - 1].c0 - grp[0].c0 + 8 : (int64_t)ng * DWQ_L;
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
