/* fwino_impl.h: the block function of the float32 Winograd convolution (fwino.h) as a template:
 * a file defines FW_VEC (4, 8 or 16 floats per GNU C vector) and FW_BLOCK_FN (the function's
 * name) and includes this header once. fwino.c instantiates it with 4-float vectors (portable:
 * SSE2, NEON), x86/fwino_avx2.c with 8-float vectors compiled with -mavx2 -mfma,
 * x86/fwino_avx512.c with 16 (AVX-512); the arithmetic per lane is the same in all, so they give
 * the same bits. For a block of tiles: (1) the input
 * transform V = B^T d B into P row-major planes [tiles x c]; (2) the P GEMMs M = V U by the
 * microkernel the filter was packed for; (3) the output transform A^T M A, plus the bias,
 * clamped, stored to the m x m outputs of each tile. */
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "kernels/fwino.h"

#if FW_VEC == 16
typedef float fw_vf __attribute__((vector_size(64)));
typedef int32_t fw_vi __attribute__((vector_size(64)));
#elif FW_VEC == 8
typedef float fw_vf __attribute__((vector_size(32)));
typedef int32_t fw_vi __attribute__((vector_size(32)));
#elif FW_VEC == 4
typedef float fw_vf __attribute__((vector_size(16)));
typedef int32_t fw_vi __attribute__((vector_size(16)));
#else
#error "FW_VEC must be 4, 8 or 16 (fwino.c sizes the scratch for at most 16)"
#endif

#define FW_AI static inline __attribute__((always_inline))

FW_AI fw_vf fw_ld(const float *p) {
  fw_vf x;
  memcpy(&x, p, sizeof x);
  return x;
}
FW_AI void fw_st(float *p, fw_vf x) { memcpy(p, &x, sizeof x); }
FW_AI fw_vf fw_splat(float f) {
  fw_vf x;
  for (int i = 0; i < FW_VEC; i++) x[i] = f;
  return x;
}
/* max(lo, y) and min(hi, y) that return y when it is NaN, as the reference clamp does (an
 * instantiation may define FW_MAX / FW_MIN with the ISA's instruction of those semantics) */
#ifdef FW_MAX
#define fw_max FW_MAX
#define fw_min FW_MIN
#else
FW_AI fw_vf fw_max(fw_vf lo, fw_vf y) {
  const fw_vi c = y < lo;
  return (fw_vf)((c & (fw_vi)lo) | (~c & (fw_vi)y));
}
FW_AI fw_vf fw_min(fw_vf hi, fw_vf y) {
  const fw_vi c = y > hi;
  return (fw_vf)((c & (fw_vi)hi) | (~c & (fw_vi)y));
}
#endif

/* Walks tiles in order: (b, ty, tx) of tile t0, then step by step (no division per tile). */
typedef struct fw_pos {
  size_t b, ty, tx;
} fw_pos;
FW_AI fw_pos fw_pos_at(const tc__f32_wino_job *job, size_t t) {
  const size_t rest = t / job->tiles_w;
  const fw_pos q = {rest / job->tiles_h, rest % job->tiles_h, t % job->tiles_w};
  return q;
}
FW_AI void fw_pos_next(const tc__f32_wino_job *job, fw_pos *q) {
  if (++q->tx < job->tiles_w) return;
  q->tx = 0;
  if (++q->ty < job->tiles_h) return;
  q->ty = 0;
  q->b++;
}

/* ---- F(2x2, 3x3) ----------------------------------------------------------------------------- */

/* V = B^T d B on FW_VEC channels, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]: patch pixel
 * (a, e) at d[a] + e * cs; V[i][j] to v + (4 i + j) * vp. */
FW_AI void fw_in2(const float *const *d, size_t cs, float *v, size_t vp) {
  fw_vf h[4][4]; /* h = d B, row by row */
  for (int a = 0; a < 4; a++) {
    const fw_vf x0 = fw_ld(d[a]), x1 = fw_ld(d[a] + cs), x2 = fw_ld(d[a] + 2 * cs),
                x3 = fw_ld(d[a] + 3 * cs);
    h[a][0] = x0 - x2;
    h[a][1] = x1 + x2;
    h[a][2] = x2 - x1;
    h[a][3] = x1 - x3;
  }
  for (int j = 0; j < 4; j++) { /* V = B^T h, column by column */
    fw_st(v + (size_t)j * vp, h[0][j] - h[2][j]);
    fw_st(v + (size_t)(4 + j) * vp, h[1][j] + h[2][j]);
    fw_st(v + (size_t)(8 + j) * vp, h[2][j] - h[1][j]);
    fw_st(v + (size_t)(12 + j) * vp, h[1][j] - h[3][j]);
  }
}

/* Y = A^T M A + bias, clamped, A^T = [1 1 1 0; 0 1 -1 -1], on FW_VEC channels: M[i][j] at
 * m + (4 i + j) * mp; output (dy, dx) to o[2 dy + dx] + j. */
FW_AI void fw_out2(const float *m, size_t mp, const float *bias, fw_vf lo, fw_vf hi,
                   float *const *o, size_t j) {
  fw_vf s0[4], s1[4];
  for (int c = 0; c < 4; c++) { /* (A^T M)[0][c], [1][c] */
    const fw_vf m0 = fw_ld(m + (size_t)c * mp), m1 = fw_ld(m + (size_t)(4 + c) * mp);
    const fw_vf m2 = fw_ld(m + (size_t)(8 + c) * mp), m3 = fw_ld(m + (size_t)(12 + c) * mp);
    s0[c] = m0 + m1 + m2;
    s1[c] = m1 - m2 - m3;
  }
  const fw_vf b = fw_ld(bias);
  fw_st(o[0] + j, fw_min(hi, fw_max(lo, s0[0] + s0[1] + s0[2] + b)));
  fw_st(o[1] + j, fw_min(hi, fw_max(lo, s0[1] - s0[2] - s0[3] + b)));
  fw_st(o[2] + j, fw_min(hi, fw_max(lo, s1[0] + s1[1] + s1[2] + b)));
  fw_st(o[3] + j, fw_min(hi, fw_max(lo, s1[1] - s1[2] - s1[3] + b)));
}

/* ---- F(4x4, 3x3) -----------------------------------------------------------------------------
 * Interpolation points 0, +-1, +-2 and infinity. Every constant of B^T and A^T is written as a
 * power of two times a sum or difference: the product is exact, so a fused multiply-add rounds
 * as the separate multiply and add, and both instantiations give the same bits. */

/* a * k + b for k = +-2, +-4, +-8 (an instantiation may define FW_MADD as the ISA's fused
 * multiply-add) */
#ifdef FW_MADD
#define fw_madd FW_MADD
#else
FW_AI fw_vf fw_madd(fw_vf a, float k, fw_vf b) { return a * k + b; }
#endif

/* B^T x on six vectors, B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0;
 * 0 2 -1 -2 1 0; 0 4 0 -5 0 1]. */
#define FW_BT6(x, y)                                                    \
  do {                                                                  \
    const fw_vf t42 = x[4] - x[2], t31 = x[3] - x[1];                   \
    y[0] = fw_madd(x[0] - x[2], 4.0f, t42);                             \
    y[1] = fw_madd(x[1] + x[2], -4.0f, x[3] + x[4]);                    \
    y[2] = fw_madd(x[1] - x[2], 4.0f, x[4] - x[3]);                     \
    y[3] = fw_madd(t31, 2.0f, t42);                                     \
    y[4] = fw_madd(t31, -2.0f, t42);                                    \
    y[5] = fw_madd(t31, -4.0f, x[5] - x[3]);                            \
  } while (0)

/* V = B^T d B on FW_VEC channels: patch pixel (a, e) at d[a] + e * cs; V[i][j] to
 * v + (6 i + j) * vp. */
FW_AI void fw_in4(const float *const *d, size_t cs, float *v, size_t vp) {
  fw_vf h[6][6]; /* h = d B, row by row */
  for (int a = 0; a < 6; a++) {
    fw_vf x[6];
    for (int e = 0; e < 6; e++) x[e] = fw_ld(d[a] + (size_t)e * cs);
    FW_BT6(x, h[a]);
  }
  for (int j = 0; j < 6; j++) { /* V = B^T h, column by column */
    fw_vf x[6], y[6];
    for (int a = 0; a < 6; a++) x[a] = h[a][j];
    FW_BT6(x, y);
    for (int i = 0; i < 6; i++) fw_st(v + (size_t)(6 * i + j) * vp, y[i]);
  }
}

/* A^T x on six vectors, A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]. */
#define FW_AT6(x, y)                                                    \
  do {                                                                  \
    const fw_vf p12 = x[1] + x[2], m12 = x[1] - x[2];                   \
    const fw_vf p34 = x[3] + x[4], m34 = x[3] - x[4];                   \
    y[0] = (x[0] + p12) + p34;                                          \
    y[1] = fw_madd(m34, 2.0f, m12);                                     \
    y[2] = fw_madd(p34, 4.0f, p12);                                     \
    y[3] = fw_madd(m34, 8.0f, m12) + x[5];                              \
  } while (0)

/* Y = A^T M A + bias, clamped, on FW_VEC channels: M[i][j] at m + (6 i + j) * mp; output
 * (dy, dx) to o[4 dy + dx] + j. */
FW_AI void fw_out4(const float *m, size_t mp, const float *bias, fw_vf lo, fw_vf hi,
                   float *const *o, size_t j) {
  fw_vf s[4][6]; /* s = A^T M, column by column */
  for (int c = 0; c < 6; c++) {
    fw_vf x[6], y[4];
    for (int i = 0; i < 6; i++) x[i] = fw_ld(m + (size_t)(6 * i + c) * mp);
    FW_AT6(x, y);
    for (int r = 0; r < 4; r++) s[r][c] = y[r];
  }
  const fw_vf b = fw_ld(bias);
  for (int r = 0; r < 4; r++) { /* Y = s A, row by row */
    fw_vf y[4];
    FW_AT6(s[r], y);
    for (int c = 0; c < 4; c++) fw_st(o[4 * r + c] + j, fw_min(hi, fw_max(lo, y[c] + b)));
  }
}

/* ---- the block ---------------------------------------------------------------------------------
 * F(m x m, 3x3) with m = pk->m (2 or 4), alpha = m + 2 patch rows and columns, P = alpha^2
 * transformed positions. The phases are inlined once per m so that alpha is a constant.
 * Channels go FW_VEC at a time; a count that is not a multiple of FW_VEC ends with a vector
 * that overlaps the previous one (the transforms work lane by lane, so the overlapped
 * channels get the same values again); fewer than FW_VEC channels go through zero-padded
 * copies. */

/* The next vector start after c0 covering n >= FW_VEC channels (0, FW_VEC, ..., n - FW_VEC
 * last), or n when c0 was the last. */
FW_AI size_t fw_next_chunk(size_t c0, size_t n) {
  if (c0 + FW_VEC >= n) return n;
  return c0 + 2 * FW_VEC <= n ? c0 + FW_VEC : n - FW_VEC;
}

/* dst[0, n) = src[0, n) (short rows: vectors rather than a memcpy call) */
FW_AI void fw_copy(float *dst, const float *src, size_t n) {
  if (n < FW_VEC) {
    memcpy(dst, src, n * sizeof(float));
    return;
  }
  for (size_t c0 = 0; c0 < n; c0 = fw_next_chunk(c0, n)) fw_st(dst + c0, fw_ld(src + c0));
}

/* (1) V for tiles [t0, t0 + nt): row tl of plane xi at V + xi * vp + tl * C. */
FW_AI void fw_phase_in(const tc__f32_wino_job *job, size_t t0, size_t nt, float *V,
                       float *patch, float *tail, const size_t m) {
  const tc_conv2d_params *p = job->p;
  const size_t alpha = m + 2, P = alpha * alpha, C = (size_t)job->pk->c, vp = job->vp;
  const size_t H = (size_t)p->in_h, W = (size_t)p->in_w;
  fw_pos q = fw_pos_at(job, t0);
  for (size_t tl = 0; tl < nt; tl++, fw_pos_next(job, &q)) {
    const ptrdiff_t y0 = (ptrdiff_t)(m * q.ty) - p->pad_top;
    const ptrdiff_t x0 = (ptrdiff_t)(m * q.tx) - p->pad_left;
    const int x_inside = x0 >= 0 && (size_t)x0 + alpha <= W;
    float *v = V + tl * C;
    /* patch row a: the input row in place, zeros, or a copy with zeros past the edges */
    const float *d[6];
    for (size_t a = 0; a < alpha; a++) {
      const ptrdiff_t y = y0 + (ptrdiff_t)a;
      if (y < 0 || y >= (ptrdiff_t)H) {
        d[a] = job->zero;
        continue;
      }
      const float *row = job->in + (q.b * H + (size_t)y) * W * C;
      if (x_inside) {
        d[a] = row + (size_t)x0 * C;
        continue;
      }
      float *pr = patch + a * alpha * C;
      for (size_t e = 0; e < alpha; e++) {
        const ptrdiff_t x = x0 + (ptrdiff_t)e;
        fw_copy(pr + e * C, x < 0 || x >= (ptrdiff_t)W ? job->zero : row + (size_t)x * C, C);
      }
      d[a] = pr;
    }
    if (C >= FW_VEC) {
      for (size_t c0 = 0; c0 < C; c0 = fw_next_chunk(c0, C)) {
        const float *dc[6];
        for (size_t a = 0; a < alpha; a++) dc[a] = d[a] + c0;
        if (m == 4)
          fw_in4(dc, C, v + c0, vp);
        else
          fw_in2(dc, C, v + c0, vp);
      }
      continue;
    }
    const float *dc[6]; /* C < FW_VEC: a zero-padded copy of the patch */
    for (size_t a = 0; a < alpha; a++) {
      for (size_t e = 0; e < alpha; e++) {
        float *t = tail + (a * alpha + e) * FW_VEC;
        memset(t, 0, FW_VEC * sizeof(float));
        memcpy(t, d[a] + e * C, C * sizeof(float));
      }
      dc[a] = tail + a * alpha * FW_VEC;
    }
    float vt[36][FW_VEC];
    if (m == 4)
      fw_in4(dc, FW_VEC, vt[0], FW_VEC);
    else
      fw_in2(dc, FW_VEC, vt[0], FW_VEC);
    for (size_t e = 0; e < P; e++) memcpy(v + e * vp, vt[e], C * sizeof(float));
  }
}

/* (3) the outputs of tiles [t0, t0 + nt) from M; those past the image's edge go to the sink. */
FW_AI void fw_phase_out(const tc__f32_wino_job *job, size_t t0, size_t nt, const float *M,
                        float *sink, float *tail, const size_t m) {
  const tc_conv2d_params *p = job->p;
  const size_t P = (m + 2) * (m + 2), OC = (size_t)job->pk->oc, mp = job->mp;
  const size_t OH = (size_t)p->out_h, OW = (size_t)p->out_w;
  const fw_vf lo = fw_splat(p->act_min), hi = fw_splat(p->act_max);
  fw_pos q = fw_pos_at(job, t0);
  for (size_t tl = 0; tl < nt; tl++, fw_pos_next(job, &q)) {
    const size_t oy = m * q.ty, ox = m * q.tx;
    float *o[16];
    float *const o00 = job->out + ((q.b * OH + oy) * OW + ox) * OC;
    const size_t ny = OH - oy < m ? OH - oy : m, nx = OW - ox < m ? OW - ox : m;
    for (size_t dy = 0; dy < m; dy++)
      for (size_t dx = 0; dx < m; dx++)
        o[dy * m + dx] = dy < ny && dx < nx ? o00 + (dy * OW + dx) * OC : sink;
    const float *mt = M + tl * OC;
    if (OC >= FW_VEC) {
      for (size_t j = 0; j < OC; j = fw_next_chunk(j, OC)) {
        if (m == 4)
          fw_out4(mt + j, mp, job->bias + j, lo, hi, o, j);
        else
          fw_out2(mt + j, mp, job->bias + j, lo, hi, o, j);
      }
      continue;
    }
    float(*mtail)[FW_VEC] = (float(*)[FW_VEC])tail; /* OC < FW_VEC: zero-padded copies */
    float bt[FW_VEC] = {0}, yt[16][FW_VEC];
    for (size_t e = 0; e < P; e++) {
      memset(mtail[e], 0, sizeof mtail[e]);
      memcpy(mtail[e], mt + e * mp, OC * sizeof(float));
    }
    memcpy(bt, job->bias, OC * sizeof(float));
    float *ot[16];
    for (int k = 0; k < 16; k++) ot[k] = yt[k];
    if (m == 4)
      fw_out4(mtail[0], FW_VEC, bt, lo, hi, ot, 0);
    else
      fw_out2(mtail[0], FW_VEC, bt, lo, hi, ot, 0);
    for (size_t k = 0; k < m * m; k++) memcpy(o[k], yt[k], OC * sizeof(float));
  }
}

void FW_BLOCK_FN(const tc__f32_wino_job *job, size_t t0, size_t t1, float *scratch);

void FW_BLOCK_FN(const tc__f32_wino_job *job, size_t t0, size_t t1, float *scratch) {
  const tc_f32_wino_packed *pk = job->pk;
  tc_f32_gemm_kernel *kr = pk->kr;
  const size_t m = (size_t)pk->m, P = (m + 2) * (m + 2);
  const size_t C = (size_t)pk->c, OC = (size_t)pk->oc, nt = t1 - t0;
  const size_t vp = job->vp, mp = job->mp;
  float *V = scratch, *M = V + P * vp, *sink = M + P * mp;
  float *patch = sink + job->sink_floats; /* alpha rows of alpha pixels (edge tiles) */
  float *tail = patch + TC_ALIGN_UP(P * C, 16); /* P vectors (channel counts below FW_VEC) */

  if (m == 4)
    fw_phase_in(job, t0, nt, V, patch, tail, 4);
  else
    fw_phase_in(job, t0, nt, V, patch, tail, 2);

  /* (2) M_xi = V_xi U_xi: row tl of plane xi at M + xi * mp + tl * OC */
  for (size_t xi = 0; xi < P; xi++) {
    const float *a = V + xi * vp, *u = pk->u + xi * pk->plane;
    float *mx = M + xi * mp;
    if (kr->run_seg) {
      kr->run_seg(nt, OC, 1, C, &a, C, u, NULL, mx, OC, 0, -INFINITY, INFINITY);
    } else {
      for (size_t i = 0; i < nt; i += (size_t)kr->mr) {
        const size_t rows = TC_MIN((size_t)kr->mr, nt - i);
        kr->run(rows, OC, C, a + i * C, C, u, NULL, mx + i * OC, OC, 0, -INFINITY, INFINITY);
      }
    }
  }

  if (m == 4)
    fw_phase_out(job, t0, nt, M, sink, tail, 4);
  else
    fw_phase_out(job, t0, nt, M, sink, tail, 2);
}
