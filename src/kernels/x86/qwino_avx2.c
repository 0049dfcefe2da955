/* qwino_avx2.c: the AVX2 block function of the Winograd F(2x2, 3x3) 8-bit convolution
 * (kernels/qwino.h), the `wino` of the avx2_4x16 qgemm kernel. For a block of tiles: (1) the
 * input transform V = B^T d B on 16 channels at a time in int16 lanes (|V| <= 1020), stored as
 * 16 planes of row-major channel pairs (the 4x16 tile's packed A layout); (2) per position, the
 * product with the transformed filter by the same vpmaddwd 4x16 tile, accumulators stored raw as
 * int32; (3) the output transform A^T M A on 8 output channels at a time, shifted right by 2
 * (exact: the sums are 4 times the convolution), plus the folded bias, then the qgemm output
 * stage (q8_avx2.h). Integer arithmetic only, within int16 / int32 by qwino.h's bound, so the
 * outputs are bit-exact with the reference kernels. Compiled with -mavx2 -mfma. */
#include "kernels/qwino.h"

#if defined(__x86_64__) && defined(__AVX2__)
#include <immintrin.h>
#include <string.h>

#include "core/core.h"
#include "kernels/x86/q8_avx2.h"

#define AI static inline __attribute__((always_inline))

/* ---- (1) input transform -------------------------------------------------------------------- */

/* B^T x on four vectors (one per patch row or column). */
#define BT4(x0, x1, x2, x3, y0, y1, y2, y3) \
  do {                                       \
    y0 = _mm256_sub_epi16(x0, x2);           \
    y1 = _mm256_add_epi16(x1, x2);           \
    y2 = _mm256_sub_epi16(x2, x1);           \
    y3 = _mm256_sub_epi16(x1, x3);           \
  } while (0)

/* One tile's V on channels c0 .. c0 + n - 1 (n <= 16): src[4 a + b] points at the input pixel of
 * patch position (a, b) (or the zero-point row); stores 16 int16 at v + xi * vplane. */
AI void input_tile(const uint8_t *const *src, size_t c0, size_t n, int u8, int16_t *v,
                   size_t vplane) {
  __m256i d[16], r[16];
  for (int e = 0; e < 16; e++)
    d[e] = tc__q8_widen(n == 16 ? _mm_loadu_si128((const __m128i *)(src[e] + c0))
                                : tc__q8_load_part(src[e] + c0, n),
                        u8);
  for (int b = 0; b < 4; b++) /* rows: r[4 i + b] = (B^T d)[i][b] */
    BT4(d[b], d[4 + b], d[8 + b], d[12 + b], r[b], r[4 + b], r[8 + b], r[12 + b]);
  for (int i = 0; i < 4; i++) { /* columns: V[i][j] = (B^T d B)[i][j] */
    __m256i y0, y1, y2, y3;
    BT4(r[4 * i], r[4 * i + 1], r[4 * i + 2], r[4 * i + 3], y0, y1, y2, y3);
    _mm256_storeu_si256((__m256i *)(v + (4 * i + 0) * vplane), y0);
    _mm256_storeu_si256((__m256i *)(v + (4 * i + 1) * vplane), y1);
    _mm256_storeu_si256((__m256i *)(v + (4 * i + 2) * vplane), y2);
    _mm256_storeu_si256((__m256i *)(v + (4 * i + 3) * vplane), y3);
  }
}

/* ---- (2) the 16 products: the 4x16 tile with raw int32 stores ------------------------------ */

#define REP4(X) X(0) X(1) X(2) X(3)

/* Rows [0, R) of tiles a (row r's kp pairs at a + r * kp), all panels of B (16 wide, kp pairs
 * each), accumulators from 0 stored at m + r * ldm; for the 16 positions in one call (plane xi
 * of A, B and M at xi * a_plane, xi * b_plane, xi * m_plane). */
AI void raw_rows(const size_t R, size_t kp, const int32_t *a, size_t a_plane, const int16_t *b16,
                 size_t b_plane, size_t panels, int32_t *m, size_t m_plane, size_t ldm) {
  for (size_t xi = 0; xi < 16; xi++, a += a_plane, b16 += b_plane, m += m_plane) {
    const int32_t *a0 = a, *a1 = a0 + kp, *a2 = a1 + kp, *a3 = a2 + kp;
    const int16_t *pb = b16;
    int32_t *mq = m;
    for (size_t q = 0; q < panels; q++, pb += 32 * kp, mq += 16) {
#define INIT(i) __m256i acc##i##0 = _mm256_setzero_si256(), acc##i##1 = acc##i##0;
      REP4(INIT)
#undef INIT
      const int16_t *b = pb;
      for (size_t p = 0; p < kp; p++, b += 32) {
        const __m256i w0 = _mm256_loadu_si256((const __m256i *)b);
        const __m256i w1 = _mm256_loadu_si256((const __m256i *)b + 1);
#define STEP(i)                                                             \
  if ((i) < R) {                                                            \
    const __m256i av = _mm256_set1_epi32(a##i[p]);                          \
    acc##i##0 = _mm256_add_epi32(acc##i##0, _mm256_madd_epi16(av, w0));     \
    acc##i##1 = _mm256_add_epi32(acc##i##1, _mm256_madd_epi16(av, w1));     \
  }
        REP4(STEP)
#undef STEP
      }
#define STORE(i)                                                            \
  if ((i) < R) {                                                            \
    _mm256_storeu_si256((__m256i *)(mq + (i) * ldm), acc##i##0);            \
    _mm256_storeu_si256((__m256i *)(mq + (i) * ldm + 8), acc##i##1);        \
  }
      REP4(STORE)
#undef STORE
    }
  }
}

#define RAW_FN(R)                                                                             \
  static __attribute__((noinline)) void raw##R(size_t kp, const int32_t *a, size_t a_plane,  \
                                               const int16_t *b, size_t b_plane,             \
                                               size_t panels, int32_t *m, size_t m_plane,    \
                                               size_t ldm) {                                 \
    raw_rows(R, kp, a, a_plane, b, b_plane, panels, m, m_plane, ldm);                       \
  }
RAW_FN(1)
RAW_FN(2)
RAW_FN(3)
RAW_FN(4)

/* ---- (3) output transform ------------------------------------------------------------------- */

/* A^T x on four vectors: y0 = x0 + x1 + x2, y1 = x1 - x2 - x3. */
AI __m256i at0(__m256i x0, __m256i x1, __m256i x2) {
  return _mm256_add_epi32(_mm256_add_epi32(x0, x1), x2);
}
AI __m256i at1(__m256i x1, __m256i x2, __m256i x3) {
  return _mm256_sub_epi32(_mm256_sub_epi32(x1, x2), x3);
}

/* ---- the block ------------------------------------------------------------------------------ */

void tc__s8_qwino_avx2(const struct tc_qwino_job *job, size_t t0, size_t t1, void *scratch) {
  const tc_qwino_packed *pk = job->pk;
  const tc_conv2d_params *p = job->p;
  const size_t C = (size_t)pk->c, cp = (size_t)pk->cp, ocp = (size_t)pk->oc_pad;
  const size_t OC = (size_t)pk->oc, block = (size_t)pk->block, nt = t1 - t0, kp = cp / 2;
  const size_t W = (size_t)p->in_w, H = (size_t)p->in_h;
  const size_t vplane = TC_ALIGN_UP(block * cp * 2 + 64, 64) / 2; /* int16 per plane */
  int16_t *V = (int16_t *)TC_ALIGN_UP((uintptr_t)scratch, 64);
  int32_t *M = (int32_t *)(V + 16 * vplane);
  const tc_qgemm_cols qc = pk->cols, *q = &qc; /* not aliased by the byte stores */

  /* (1) */
  for (size_t tl = 0; tl < nt; tl++) {
    const size_t t = t0 + tl, tx = t % (size_t)job->tiles_w, rest = t / (size_t)job->tiles_w;
    const size_t ty = rest % (size_t)job->tiles_h, b = rest / (size_t)job->tiles_h;
    const int32_t y0 = (int32_t)(2 * ty) - p->pad_top, x0 = (int32_t)(2 * tx) - p->pad_left;
    const uint8_t *src[16];
    for (int a = 0; a < 4; a++)
      for (int e = 0; e < 4; e++) {
        const int32_t y = y0 + a, x = x0 + e;
        src[4 * a + e] = y < 0 || y >= p->in_h || x < 0 || x >= p->in_w
                             ? job->pad
                             : job->in + ((b * H + (size_t)y) * W + (size_t)x) * C;
      }
    /* 16 channels at a time; a tail's stores past cp are overwritten by the next tile or fall
     * in the plane's slack */
    for (size_t c0 = 0; c0 < C; c0 += 16)
      input_tile(src, c0, C - c0 < 16 ? C - c0 : 16, job->in_u8, V + tl * cp + c0, vplane);
  }

  /* (2) */
  {
    const int32_t *a = (const int32_t *)V;
    const size_t a_plane = vplane / 2, b_plane = ocp * cp, m_plane = block * ocp;
    size_t tl = 0;
    for (; tl + 4 <= nt; tl += 4)
      raw4(kp, a + tl * kp, a_plane, pk->u, b_plane, ocp / 16, M + tl * ocp, m_plane, ocp);
    const int32_t *at = a + tl * kp;
    int32_t *mt = M + tl * ocp;
    switch (nt - tl) {
    case 1: raw1(kp, at, a_plane, pk->u, b_plane, ocp / 16, mt, m_plane, ocp); break;
    case 2: raw2(kp, at, a_plane, pk->u, b_plane, ocp / 16, mt, m_plane, ocp); break;
    case 3: raw3(kp, at, a_plane, pk->u, b_plane, ocp / 16, mt, m_plane, ocp); break;
    default: break;
    }
  }

  /* (3) */
  const __m256i zp = _mm256_set1_epi32(q->out_zp);
  for (size_t tl = 0; tl < nt; tl++) {
    const size_t t = t0 + tl, tx = t % (size_t)job->tiles_w, rest = t / (size_t)job->tiles_w;
    const size_t ty = rest % (size_t)job->tiles_h, b = rest / (size_t)job->tiles_h;
    const size_t oy = 2 * ty, ox = 2 * tx;
    const int has_x1 = ox + 1 < (size_t)p->out_w, has_y1 = oy + 1 < (size_t)p->out_h;
    uint8_t *o00 = job->out + ((b * (size_t)p->out_h + oy) * (size_t)p->out_w + ox) * OC;
    uint8_t *o01 = has_x1 ? o00 + OC : NULL;
    uint8_t *o10 = has_y1 ? o00 + (size_t)p->out_w * OC : NULL;
    uint8_t *o11 = has_x1 && has_y1 ? o00 + ((size_t)p->out_w + 1) * OC : NULL;
    const int32_t *mt = M + tl * ocp;
    for (size_t j = 0; j < OC; j += 8) {
      __m256i m[16];
      for (int e = 0; e < 16; e++)
        m[e] = _mm256_loadu_si256((const __m256i *)(mt + (size_t)e * block * ocp + j));
      __m256i s0[4], s1[4]; /* s_dy[j'] = (A^T M)[dy][j'] */
      for (int e = 0; e < 4; e++) {
        s0[e] = at0(m[e], m[4 + e], m[8 + e]);
        s1[e] = at1(m[4 + e], m[8 + e], m[12 + e]);
      }
      const __m256i bias = _mm256_loadu_si256((const __m256i *)(q->bias + j));
#define OUT(v) _mm256_add_epi32(_mm256_srai_epi32(v, 2), bias)
      const __m256i y00 = OUT(at0(s0[0], s0[1], s0[2])), y01 = OUT(at1(s0[1], s0[2], s0[3]));
      const __m256i y10 = OUT(at0(s1[0], s1[1], s1[2])), y11 = OUT(at1(s1[1], s1[2], s1[3]));
#undef OUT
      tc__q8_store_4x8(tc__q8_requant8(y00, q, j, zp), tc__q8_requant8(y01, q, j, zp),
                       tc__q8_requant8(y10, q, j, zp), tc__q8_requant8(y11, q, j, zp), q,
                       (char *)o00 + j, o01 ? (char *)o01 + j : NULL,
                       o10 ? (char *)o10 + j : NULL, o11 ? (char *)o11 + j : NULL,
                       OC - j < 8 ? OC - j : 8);
    }
  }
}
#endif
