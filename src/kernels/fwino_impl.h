/* fwino_impl.h: the block function of the float32 Winograd convolution (fwino.h) as a template:
 * a file defines FW_VEC (4 or 8 floats per GNU C vector) and FW_BLOCK_FN (the function's name)
 * and includes this header once. fwino.c instantiates it with 4-float vectors (portable: SSE2,
 * NEON), x86/fwino_avx2.c with 8-float vectors compiled with -mavx2 -mfma; the arithmetic per
 * lane is the same in both, so they give the same bits. For a block of tiles: (1) the input
 * transform V = B^T d B into 16 row-major planes [tiles x c]; (2) the 16 GEMMs M = V U by the
 * microkernel the filter was packed for; (3) the output transform A^T M A, plus the bias,
 * clamped, stored to the 2x2 outputs of each tile. */
#include <math.h>
#include <string.h>

#include "core/core.h"
#include "kernels/fwino.h"

#if FW_VEC == 8
typedef float fw_vf __attribute__((vector_size(32)));
typedef int32_t fw_vi __attribute__((vector_size(32)));
#elif FW_VEC == 4
typedef float fw_vf __attribute__((vector_size(16)));
typedef int32_t fw_vi __attribute__((vector_size(16)));
#else
#error "FW_VEC must be 4 or 8"
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

/* (1) V = B^T d B on FW_VEC channels, B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]: patch
 * pixel (a, e) at d[a] + e * cs; V[i][j] to v + (4 i + j) * vp. */
FW_AI void fw_input(const float *const d[4], size_t cs, float *v, size_t vp) {
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

/* The same for one tile's patch given as 16 pixel pointers (tiles at the image's edge: the
 * missing pixels point at zeros). */
FW_AI void fw_input_px(const float *const px[16], size_t c0, float *v, size_t vp) {
  fw_vf h[4][4];
  for (int a = 0; a < 4; a++) {
    const fw_vf x0 = fw_ld(px[4 * a] + c0), x1 = fw_ld(px[4 * a + 1] + c0),
                x2 = fw_ld(px[4 * a + 2] + c0), x3 = fw_ld(px[4 * a + 3] + c0);
    h[a][0] = x0 - x2;
    h[a][1] = x1 + x2;
    h[a][2] = x2 - x1;
    h[a][3] = x1 - x3;
  }
  for (int j = 0; j < 4; j++) {
    fw_st(v + (size_t)j * vp, h[0][j] - h[2][j]);
    fw_st(v + (size_t)(4 + j) * vp, h[1][j] + h[2][j]);
    fw_st(v + (size_t)(8 + j) * vp, h[2][j] - h[1][j]);
    fw_st(v + (size_t)(12 + j) * vp, h[1][j] - h[3][j]);
  }
}

/* (3) Y = A^T M A + bias, clamped, A^T = [1 1 1 0; 0 1 -1 -1], on FW_VEC channels: M[i][j] at
 * m + (4 i + j) * mp; output (dy, dx) to o[2 dy + dx]. */
FW_AI void fw_output(const float *m, size_t mp, const float *bias, fw_vf lo, fw_vf hi,
                     float *const o[4], size_t j) {
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

void FW_BLOCK_FN(const tc__f32_wino_job *job, size_t t0, size_t t1, float *scratch);

void FW_BLOCK_FN(const tc__f32_wino_job *job, size_t t0, size_t t1, float *scratch) {
  const tc_f32_wino_packed *pk = job->pk;
  const tc_conv2d_params *p = job->p;
  tc_f32_gemm_kernel *kr = pk->kr;
  const size_t C = (size_t)pk->c, OC = (size_t)pk->oc, nt = t1 - t0;
  const size_t vp = job->vp, mp = job->mp, H = (size_t)p->in_h, W = (size_t)p->in_w;
  const size_t cmain = C / FW_VEC * FW_VEC, omain = OC / FW_VEC * FW_VEC;
  float *V = scratch, *M = V + 16 * vp, *sink = M + 16 * mp;
  float *tail = sink + job->sink_floats; /* 20 vectors for channel tails */

  /* (1) row tl of plane xi at V + xi * vp + tl * C */
  fw_pos q = fw_pos_at(job, t0);
  for (size_t tl = 0; tl < nt; tl++, fw_pos_next(job, &q)) {
    const size_t ty = q.ty, tx = q.tx, b = q.b;
    const ptrdiff_t y0 = 2 * (ptrdiff_t)ty - p->pad_top, x0 = 2 * (ptrdiff_t)tx - p->pad_left;
    float *v = V + tl * C;
    const float *px[16];
    if (y0 >= 0 && x0 >= 0 && (size_t)y0 + 4 <= H && (size_t)x0 + 4 <= W) {
      const float *base = job->in + ((b * H + (size_t)y0) * W + (size_t)x0) * C;
      const float *d[4] = {base, base + W * C, base + 2 * W * C, base + 3 * W * C};
      for (size_t c0 = 0; c0 < cmain; c0 += FW_VEC) {
        const float *dc[4] = {d[0] + c0, d[1] + c0, d[2] + c0, d[3] + c0};
        fw_input(dc, C, v + c0, vp);
      }
      if (cmain == C) continue;
      for (int e = 0; e < 16; e++) px[e] = d[e / 4] + (size_t)(e % 4) * C;
    } else {
      for (int a = 0; a < 4; a++)
        for (int e = 0; e < 4; e++) {
          const ptrdiff_t y = y0 + a, x = x0 + e;
          px[4 * a + e] = y < 0 || y >= (ptrdiff_t)H || x < 0 || x >= (ptrdiff_t)W
                              ? job->zero
                              : job->in + ((b * H + (size_t)y) * W + (size_t)x) * C;
        }
      for (size_t c0 = 0; c0 < cmain; c0 += FW_VEC) fw_input_px(px, c0, v + c0, vp);
    }
    if (cmain < C) { /* the last channels through zero-padded copies (16 + 4 vectors) */
      const size_t n = C - cmain;
      float(*pt)[FW_VEC] = (float(*)[FW_VEC])tail;
      const float *pp[16];
      for (int e = 0; e < 16; e++) {
        memset(pt[e], 0, sizeof pt[e]);
        memcpy(pt[e], px[e] + cmain, n * sizeof(float));
        pp[e] = pt[e];
      }
      float vt[16][FW_VEC];
      fw_input_px(pp, 0, vt[0], FW_VEC);
      for (int e = 0; e < 16; e++) memcpy(v + (size_t)e * vp + cmain, vt[e], n * sizeof(float));
    }
  }

  /* (2) M_xi = V_xi U_xi: row tl of plane xi at M + xi * mp + tl * OC */
  for (size_t xi = 0; xi < 16; xi++) {
    const float *a = V + xi * vp, *u = pk->u + xi * pk->plane;
    float *m = M + xi * mp;
    if (kr->run_seg) {
      kr->run_seg(nt, OC, 1, C, &a, C, u, NULL, m, OC, 0, -INFINITY, INFINITY);
    } else {
      for (size_t i = 0; i < nt; i += (size_t)kr->mr) {
        const size_t rows = TC_MIN((size_t)kr->mr, nt - i);
        kr->run(rows, OC, C, a + i * C, C, u, NULL, m + i * OC, OC, 0, -INFINITY, INFINITY);
      }
    }
  }

  /* (3) */
  const fw_vf lo = fw_splat(p->act_min), hi = fw_splat(p->act_max);
  const size_t OH = (size_t)p->out_h, OW = (size_t)p->out_w;
  q = fw_pos_at(job, t0);
  for (size_t tl = 0; tl < nt; tl++, fw_pos_next(job, &q)) {
    const size_t ty = q.ty, tx = q.tx, b = q.b;
    const size_t oy = 2 * ty, ox = 2 * tx;
    const int has_x1 = ox + 1 < OW, has_y1 = oy + 1 < OH;
    float *o[4];
    o[0] = job->out + ((b * OH + oy) * OW + ox) * OC;
    o[1] = has_x1 ? o[0] + OC : sink;
    o[2] = has_y1 ? o[0] + OW * OC : sink;
    o[3] = has_x1 && has_y1 ? o[0] + (OW + 1) * OC : sink;
    const float *m = M + tl * OC;
    for (size_t j = 0; j < omain; j += FW_VEC) fw_output(m + j, mp, job->bias + j, lo, hi, o, j);
    if (omain < OC) { /* the last channels through zero-padded copies */
      const size_t n = OC - omain;
      float(*mt)[FW_VEC] = (float(*)[FW_VEC])tail;
      float bt[FW_VEC] = {0}, yt[4][FW_VEC];
      for (int e = 0; e < 16; e++) {
        memset(mt[e], 0, sizeof mt[e]);
        memcpy(mt[e], m + (size_t)e * mp + omain, n * sizeof(float));
      }
      memcpy(bt, job->bias + omain, n * sizeof(float));
      float *const ot[4] = {yt[0], yt[1], yt[2], yt[3]};
      fw_output(mt[0], FW_VEC, bt, lo, hi, ot, 0);
      for (int k = 0; k < 4; k++) memcpy(o[k] + omain, yt[k], n * sizeof(float));
    }
  }
}
