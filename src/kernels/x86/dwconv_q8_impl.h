/* dwconv_q8_impl.h: the 8-bit depthwise kernel (slots s8_dwconv and u8_dwconv of vec_ops.h)
 * as a template on the vector width: any filter size, stride, dilation and depth multiplier,
 * bit-exact with tc_{s8,u8}_depthwise_conv2d__ref. dwconv_q8_avx2.c instantiates it with
 * groups of 8 output channels (ymm), dwconv_q8_avx512.c with groups of 16 (zmm).
 *
 * Algorithm. Output channels are cut into groups of DWQ_L. Each input row that a filter row
 * needs is widened once into a small ring of int16 rows (on the stack) as *tap pairs*: element
 * i of a ring row holds, for the DWQ_L channels of a group, the raw inputs (v[x], v[x + dil])
 * with x = x_first + i * u, and the input zero point for positions outside the image (the input
 * offset is folded into the bias at pack, so padding contributes nothing and no output pixel is
 * a border case; edge positions read their outside taps from a row of zero-point bytes, through
 * the same code as the inside ones). A ring row stores group after group, so a pixel's taps
 * are fixed displacements. Taps (kx, kx + 1) of a filter row are one vpmaddwd of a ring
 * element against weights packed at prepare as int16 pairs (filter offset applied; the odd tap
 * of an odd-width row is paired with a 0 weight): a 3x3 filter is 6 vpmaddwd + 6 vpaddd per
 * DWQ_L outputs, 4 pixels per step with the weights in registers. With stride 2 (when 2 * dil
 * is a multiple of the stride: u = stride) only the pair positions that output pixels use are
 * built.
 *   Depth multiplier M > 1: with one input channel (person_detect's first layer, 1 -> 8) a
 * ring element is a single pair, broadcast to the lanes when loaded ("bc" rows, 4 bytes per
 * position); otherwise the builder gathers the input channel of every output lane (vpshufb).
 *   The ring holds the rows of a column tile and a block of channel groups: a row is built
 * when an output row first needs it and reused by the next output rows (3x3 stride 1 widens
 * each input row once per tile); tile and block are sized to keep KH rows near 20 KiB (L1).
 * Output pixels run as *streams* (4 pixels per step, every group of the block in turn): a
 * long row is one stream; short rows (<= TC_DW_BATCH_N pixels, the 3x3..7x7 layers) are
 * batched, the pixels of several output rows forming one stream through offset tables, so
 * per-group and per-row costs are paid once per batch (see q8_dw; dw_window.h).
 *
 * Exactness: every value is an int16 in [-32767, 32767] (offsets are checked at pack), so
 * vpmaddwd is exact and the int32 lane sums are the reference's accumulator modulo 2^32 (the
 * reference wraps its int64 sum to int32 too). Requantization is tc_q_mul_double lane by lane
 * (the width file's rq: the general form, srdhm + rdivpot with per-group constants; groups
 * whose accumulators provably stay below 2^30 in magnitude (bias and weight bounds, computed at
 * pack), with no left shift, non-negative multipliers and right shifts >= 1, use a shorter
 * equivalent, rq_plain: the rounding half folded into the 64-bit product, ties away from zero
 * from the accumulator's sign, the output offset added before the final shift; and with
 * AVX-512, whole groups proved at pack by qmath.h's tc_q_float_fit use rq_float: a conversion,
 * an FMA, a subtract and a shift). Otherwise the output offset is a wrapping int32 add. Then saturating packs to 8 bits and the activation
 * clamp on bytes, equal to the reference's clamp because act_min .. act_max lies inside the
 * 8-bit range (checked at pack; otherwise the reference runs).
 *
 * The including file defines, after dwconv_q8_pack.h (DWQ_L lanes of int32 per vector):
 *   DWQ_ISA (token: avx2) and DWQ_NAME ("avx2"): the variants tc_{s8,u8}_dwconv__<DWQ_ISA>;
 *   dwq_v: the vector type (4 DWQ_L bytes); DWQ_BC2: pairs per step of bc_u2;
 *   ld(p), ldp(p, bc): a vector / a ring element (bc: one int32 pair broadcast);
 *   mac(acc, a, w): acc + vpmaddwd(a, w); vset1_32(x), vset1_8(x);
 *   rq(x, gr, zo, mode): requantized lanes (mode 0: the general form, zo: its output offset;
 *     1: rq_plain; 2, AVX-512 only: rq_float, qmath.h's float form, for groups with gr->fq);
 *   pack4(r0, r1, r2, r3, lo, hi, is_u8): four pixels' lanes as clamped bytes, pixel k at
 *     bytes k DWQ_L..; store4(o, o0, o1, o2, o3, v, lanes): their first `lanes` bytes at o + ok;
 *     store_px4(o, v): all 4 DWQ_L bytes at o;
 *   fill_z(dst, n, z): n int16 of z; build_row(dst, gs, a, dC, step, i_lo, i_hi, ng, is_u8):
 *     positions [i_lo, i_hi) of every group of a ring row, no gather (a: position i_lo's tap
 *     x, the block's first channel; step: bytes per position; dC: bytes to tap x + d);
 *     build_pos(o, gs, a, b, grp, ng, c_begin, gather, is_u8): one position of every group
 *     (see below); bc_u2(dst, src, is_u8): 2 DWQ_BC2 bytes to DWQ_BC2 pairs (v[2i], v[2i+1]);
 *     pairs16(dst, a, b, is_u8): 16 bytes of a and b interleaved as 16 int16 pairs;
 *   optionally DWQ_NARROW_C, DWQ_NARROW_S8 and DWQ_NARROW_U8 (the variants' narrow_c and
 *     narrow, vec_ops.h). */
#include "kernels/x86/dw_window.h"

#define DWQ_CAT2(a, b) a##b
#define DWQ_CAT(a, b) DWQ_CAT2(a, b)

/* ---- ring rows ------------------------------------------------------------------------------
 * A ring row holds, group after group, the ni pair positions of one input row: group gl's
 * position i at dst + gl * gs + 2 DWQ_L i (gs = 2 DWQ_L ni int16), so the pixels of one group
 * read their taps at fixed displacements. bc rows hold one pair per position (dst + 2 i).
 * build_pos(o, gs, a, b, ...): one position of every group, pairs (a[c], b[c]); a and b point at
 * the block's first input channel c_begin of taps x and x + d (in the image, or in the
 * zero-point row zrow), and the build_span bytes after them are readable. */

/* The same for a position whose loads may pass the end of the image (its last row): each
 * group through a zero-filled copy of the bytes it reads. a_off / b_off: offsets of a / b from
 * the image row (avail bytes readable there), or -1 for the zero-point row. */
static __attribute__((noinline)) void build_pos_clip(int16_t *o, size_t gs, const uint8_t *a, const uint8_t *b,
                           int64_t a_off, int64_t b_off, int64_t avail, const q8_grp *grp,
                           int32_t ng, int64_t c_begin, int gather, int is_u8) {
  for (int32_t gl = 0; gl < ng; gl++) {
    const int64_t off = grp[gl].c0 - c_begin;
    const int64_t nr = gather ? 8 : DWQ_L; /* bytes one group's loads read */
    uint8_t ba[DWQ_L] = {0}, bb[DWQ_L] = {0};
    const uint8_t *pa = a + off, *pb = b + off;
    if (a_off >= 0 && a_off + off + nr > avail) pa = memcpy(ba, pa, (size_t)grp[gl].n_in);
    if (b_off >= 0 && b_off + off + nr > avail) pb = memcpy(bb, pb, (size_t)grp[gl].n_in);
    build_pos(o + gl * gs, gs, pa, pb, grp + gl, 1, grp[gl].c0, gather, is_u8);
  }
}

/* bc rows (one input channel): position i is the int16 pair (v[x], v[x + d]), x = x_first +
 * i u, the zero point z outside the image. Whole-register paths for (u, d) = (2, 1) (2 DWQ_BC2
 * bytes -> DWQ_BC2 pairs) and (1, 1) (two shifted loads) where both taps are inside. */
AI void build_bc(int16_t *dst, const uint8_t *row, int64_t avail, int64_t x_first, int64_t i_lo,
                 int64_t i_hi, int32_t ni, int32_t u, int32_t d, int32_t in_w, int16_t z,
                 int is_u8) {
  int64_t i = i_lo;
  if (u == 2 && d == 1)
    for (; i + DWQ_BC2 <= i_hi && x_first + i * 2 + 2 * DWQ_BC2 <= avail; i += DWQ_BC2)
      bc_u2(dst + 2 * i, row + x_first + i * 2, is_u8);
  if (u == 1 && d == 1)
    for (; i + 16 <= i_hi && x_first + i + 17 <= avail; i += 16)
      pairs16(dst + 2 * i, row + x_first + i, row + x_first + i + 1, is_u8);
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

/* Builds one ring row of the tile from image row `row` (NULL: a padding row, the zero point
 * everywhere); `avail` bytes of the image follow `row`. */
AI void q8_build_t(int16_t *dst, const q8_tile *t, const uint8_t *row, int64_t avail,
                   int gather, int bc, int is_u8) {
  const int32_t ni = t->ni, ng = t->ng, u = t->u, d = t->d, Cin = t->Cin;
  const int64_t x_first = t->x_first, i_lo = t->i_lo, i_hi = t->i_hi;
  if (!row) {
    fill_z(dst, (size_t)ni * (bc ? 2 : (size_t)ng * 2 * DWQ_L), t->z);
    return;
  }
  if (bc) {
    build_bc(dst, row, avail, x_first, i_lo, i_hi, ni, u, d, t->in_w, t->z, is_u8);
    return;
  }
  const q8_grp *grp = t->grp;
  const size_t gs = (size_t)ni * 2 * DWQ_L;
  const int64_t c_begin = t->c_begin, span = t->span;
  const int64_t dC = (int64_t)d * Cin, step = (int64_t)u * Cin;
  /* [i_lo, i_safe): all loads inside the image (only the last few of its last row are not) */
  const int fast = avail >= t->need && t->n_edge >= 0; /* no clipping, edges listed */
  int64_t i_safe = i_hi;
  while (!fast && i_safe > i_lo &&
         (x_first + (i_safe - 1) * u) * Cin + c_begin + dC + span > avail)
    i_safe--;
  const uint8_t *a = row + (x_first + i_lo * u) * Cin + c_begin;
  if (!gather) build_row(dst, gs, a, dC, step, i_lo, i_safe, ng, is_u8);
  else {
    int16_t *o = dst + i_lo * 2 * DWQ_L;
    for (int64_t i = i_lo; i < i_safe; i++, a += step, o += 2 * DWQ_L)
      build_pos(o, gs, a, a + dC, grp, ng, c_begin, gather, is_u8);
  }
  if (fast) {
    for (int32_t e = 0; e < t->n_edge; e++) {
      const int64_t ao = t->edge_a[e], bo = t->edge_b[e];
      build_pos(dst + (size_t)t->edge_i[e] * 2 * DWQ_L, gs, ao < 0 ? t->zrow : row + ao,
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
      build_pos(dst + i * 2 * DWQ_L, gs, pa, pb, grp, ng, c_begin, gather, is_u8);
    else
      build_pos_clip(dst + i * 2 * DWQ_L, gs, pa, pb, a_off, b_off, avail, grp, ng, c_begin, gather,
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

/* ---- pixel streams -------------------------------------------------------------------------
 * A stream is npx output pixels of one tile and channel block that read the same ring rows:
 * pixel p's taps of filter row ky start at rows[ky] + roff[p] (plus the group's gs offset),
 * its output at orow + ooff[p]. A row of a tile is a stream with roff = p * pstep * E and
 * ooff = p * Cout (no tables); short rows are streamed several at a time through tables
 * (q8_dw's batches). Pixels go 4 at a time; the last 1-3 are padded with repeats of the last
 * one (same bytes stored again), so no pixel count needs a tail path. */

typedef struct q8_out {
  dwq_v zo, lo, hi;
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
    const dwq_v v = pack4(rq(a0, gr, qo->zo, plain), rq(a1, gr, qo->zo, plain),            \
                            rq(a2, gr, qo->zo, plain), rq(a3, gr, qo->zo, plain), qo->lo,    \
                            qo->hi, is_u8);                                                    \
    STORE;                                                                                     \
  } while (0)

/* One group's pixels of a stream, generic filter (KH rows of PW pairs, pair step js int16;
 * ps: int16 per pixel of a row stream). */
AI void q8_grp_generic(const q8_stream *st, size_t g_off, uint8_t *og, size_t os, int32_t lanes,
                       const q8_grp *gr, const int16_t *W, int32_t KH, int32_t PW, size_t ps,
                       size_t js, const q8_out *qo, int bc, int plain, int tab, int is_u8) {
  const dwq_v bias = ld(gr->bias);
  const int32_t npx = st->npx;
  const int16_t *const *rows = st->rows;
  size_t r0 = g_off; /* row streams: the step's first pixel */
  for (int32_t p = 0; p < npx; p += 4) {
    ptrdiff_t q[4], o[4];
    if (!tab && p + 4 <= npx)
      for (int32_t k = 0; k < 4; k++) q[k] = (ptrdiff_t)(2 * k * ps), o[k] = (ptrdiff_t)(k * os);
    else px_offsets(st, p, tab ? 0 : p, ps, os, q, o, tab);
    dwq_v a0 = bias, a1 = bias, a2 = bias, a3 = bias;
    for (int32_t ky = 0; ky < KH; ky++) {
      const int16_t *t = rows[ky] + r0;
      for (int32_t j = 0; j < PW; j++, t += js) {
        const dwq_v w = ld(W + ((size_t)ky * PW + j) * 2 * DWQ_L);
        const char *tb = (const char *)t;
        a0 = mac(a0, ldp(tb + q[0], bc), w);
        a1 = mac(a1, ldp(tb + q[1], bc), w);
        a2 = mac(a2, ldp(tb + q[2], bc), w);
        a3 = mac(a3, ldp(tb + q[3], bc), w);
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
  const int32_t lanes = full ? DWQ_L : lanes_; /* (full: the stores' lane test at compile time) */
  enum { EL = 2 * DWQ_L, E2 = 2 };
  const size_t ps = bc ? E2 : EL, js = (size_t)J * ps;
  const dwq_v w00 = ld(W), w01 = ld(W + 2 * DWQ_L), w10 = ld(W + 4 * DWQ_L),
              w11 = ld(W + 6 * DWQ_L), w20 = ld(W + 8 * DWQ_L), w21 = ld(W + 10 * DWQ_L);
  const dwq_v bias = ld(gr->bias);
  /* tap rows 1 and 2 at d1, d2 bytes from row 0; pixel offsets q in bytes */
  const char *s0 = (const char *)(st->rows[0] + g_off);
  const ptrdiff_t d1 = (const char *)(st->rows[1] + g_off) - s0,
                  d2 = (const char *)(st->rows[2] + g_off) - s0, jb = 2 * (ptrdiff_t)js;
  const ptrdiff_t *ro = st->roff, *oo = st->ooff;
  const int32_t npx = st->npx;
#define TAPS(acc, q)                                                                           \
  do {                                                                                         \
    const char *t_ = s0 + (q);                                                                 \
    acc = mac(acc, ldp(t_, bc), w00);                          \
    acc = mac(acc, ldp(t_ + jb, bc), w01);                     \
    acc = mac(acc, ldp(t_ + d1, bc), w10);                     \
    acc = mac(acc, ldp(t_ + d1 + jb, bc), w11);                \
    acc = mac(acc, ldp(t_ + d2, bc), w20);                     \
    acc = mac(acc, ldp(t_ + d2 + jb, bc), w21);                \
  } while (0);
#define STEP(q0, q1, q2, q3, left, STORE)                                                      \
  do {                                                                                         \
    dwq_v a0 = bias, a1 = bias, a2 = bias, a3 = bias;                                        \
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
    if (full && os == DWQ_L) /* 4 pixels of one group: 4 DWQ_L contiguous bytes */
      for (; p + 4 <= npx; p += 4, s0 += 4 * pb, og += 4 * DWQ_L)
        STEP(0, pb, 2 * pb, 3 * pb, 4, store_px4(og, v));
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
  const size_t E = bc ? 2 : 2 * DWQ_L; /* int16 per ring position */
  const size_t os = (size_t)qo->Cout;
  const size_t gs = bc ? 0 : st->gs; /* the groups share the broadcast row */
  const size_t ps = (size_t)rg->pstep * E, js = (size_t)rg->jstep * E;
  for (int32_t gl = 0; gl < ng; gl++) {
    const q8_grp *gr = grp + gl;
    const int16_t *W = wts + (size_t)gl * KH * PW * 2 * DWQ_L;
    uint8_t *og = st->orow + (size_t)gl * DWQ_L;
    const int32_t lanes = c_left - gl * DWQ_L < DWQ_L ? c_left - gl * DWQ_L : DWQ_L;
    const size_t g_off = (size_t)gl * gs;
    if (shape != SHAPE_GENERIC) {
      const int J = shape == SHAPE_3X3_J2 ? 2 : 1;
#define G3(PL, FULL) q8_grp_3x3(st, g_off, og, os, lanes, gr, W, qo, J, bc, PL, tab, FULL, is_u8)
      if (lanes == DWQ_L) { /* (rq_float on whole groups only, zmm only: see q8_pack) */
        if (DWQ_L == 16 && gr->fq) G3(2, 1);
        else if (gr->plain) G3(1, 1);
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
  int64_t cw = (int64_t)g.G * DWQ_L;
  /* channel blocks shrink before tiles get narrower than 32 pixels (per-group row overheads) */
  const int32_t twmin = p->out_w < 32 ? p->out_w : 32;
  while (cw > DWQ_L && ring_bytes(&rg, KH, PW, twmin, cw) > RING_TARGET)
    cw = (cw / DWQ_L + 1) / 2 * DWQ_L;
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
  const int32_t ng_blk = (int32_t)(cw / DWQ_L);

  tc__dw_window win;
  tc__dw_window_plan(&win, KH, sh, dh, tw, RING_BYTES / ring_bytes(&rg, 1, PW, tw, cw));
  const int32_t nb = win.nb;

  int16_t ring[RING_BYTES / 2] __attribute__((aligned(4 * DWQ_L)));
  const int16_t *rowp[MAX_KH];
  ptrdiff_t roff[TC_DW_MAX_TPX + 3], ooff[TC_DW_MAX_TPX + 3];
  /* the source of taps outside the image: the zero point for every byte a position reads */
  uint8_t zrow[ZROW_BYTES];
  if (!bc) memset(zrow, -q->input_offset, (size_t)cw + 8);
  q8_out qo;
  qo.zo = vset1_32(q->output_offset);
  qo.lo = vset1_8((char)q->act_min);
  qo.hi = vset1_8((char)q->act_max);
  qo.Cout = Cout;
  const int64_t img_size = (int64_t)p->in_h * p->in_w * Cin;
  const int64_t row_size = (int64_t)p->in_w * Cin;
  const int64_t ors = (int64_t)p->out_w * Cout;
  const size_t E = bc ? 2 : 2 * DWQ_L;

  for (int32_t r = row_begin; r < row_end;) {
    const int32_t b = r / p->out_h, oy0 = r % p->out_h;
    const int32_t oy1 = row_end - r < p->out_h - oy0 ? oy0 + (row_end - r) : p->out_h;
    const uint8_t *img = (const uint8_t *)in + b * img_size;
    for (int32_t gb = 0; gb < g.G; gb += ng_blk) {
      const int32_t ng = g.G - gb < ng_blk ? g.G - gb : ng_blk;
      for (int64_t ox0 = 0; ox0 < p->out_w; ox0 += tw) {
        const int32_t n = (int32_t)(p->out_w - ox0 < tw ? p->out_w - ox0 : tw);
        const int32_t ni = (int32_t)ring_ni(&rg, PW, n);
        const size_t slot = (size_t)ni * (bc ? 2 : (size_t)ng * 2 * DWQ_L);
        const int64_t x_first = ox0 * p->stride_w - p->pad_left;
        const q8_tile tl = tile_geom(p, &rg, grp + gb, ng, x_first, ni, zrow,
                                     (int16_t)-q->input_offset, gather);
        q8_stream st;
        st.rows = rowp;
        st.gs = (size_t)ni * 2 * DWQ_L;
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
                    (int64_t)gb * DWQ_L;
          st.npx = rows_now * n;
          if (nb > 1) tc__dw_tables_pad(roff, ooff, st.npx);
          q8_stream_run(&st, grp + gb, wts + (size_t)gb * KH * PW * 2 * DWQ_L, ng, KH, PW,
                        &rg, Cout - gb * DWQ_L, &qo, shape, bc, is_u8);
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

#define DWQ_S8_RUN DWQ_CAT(s8_dw_, DWQ_ISA)
#define DWQ_U8_RUN DWQ_CAT(u8_dw_, DWQ_ISA)

static void DWQ_S8_RUN(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in,
                       const void *filter, const int32_t *bias, const void *packed, void *out,
                       int32_t row_begin, int32_t row_end) {
  if (!usable(packed)) tc_s8_dwconv__ref.run(p, q, in, filter, bias, NULL, out, row_begin, row_end);
  else q8_dispatch(p, q, in, packed, out, row_begin, row_end, 0);
}

static void DWQ_U8_RUN(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in,
                       const void *filter, const int32_t *bias, const void *packed, void *out,
                       int32_t row_begin, int32_t row_end) {
  if (!usable(packed)) tc_u8_dwconv__ref.run(p, q, in, filter, bias, NULL, out, row_begin, row_end);
  else q8_dispatch(p, q, in, packed, out, row_begin, row_end, 1);
}

#ifndef DWQ_NARROW_C
#define DWQ_NARROW_C 0
#define DWQ_NARROW_S8 NULL
#define DWQ_NARROW_U8 NULL
#endif
tc_s8_dwconv_kernel DWQ_CAT(tc_s8_dwconv__, DWQ_ISA) = {
    DWQ_NAME, q8_packed_size, s8_pack, DWQ_S8_RUN, DWQ_NARROW_C, DWQ_NARROW_S8};
tc_u8_dwconv_kernel DWQ_CAT(tc_u8_dwconv__, DWQ_ISA) = {
    DWQ_NAME, q8_packed_size, u8_pack, DWQ_U8_RUN, DWQ_NARROW_C, DWQ_NARROW_U8};
