/* gemm.c: the packed single-precision matrix product behind matmul, dense and conv2d (forward
 * and backward). Classic Goto/BLIS blocking: B is packed in KCxNR column panels, A in MRxKC row
 * panels, and a 6x16 register-tile micro-kernel accumulates rank-1 updates over k. The kernel
 * is plain C with GCC/Clang vector extensions; on x86 an AVX2+FMA build of the same source is
 * picked at run time when the CPU has it. Transposes are absorbed by the packing, so callers
 * never materialise A^T or B^T. */
#include <string.h>

#include "train/train.h"

/* FMA contraction is what makes the kernel fast; -std=c11 turns it off by default in GCC. */
#if defined(__clang__)
#pragma clang fp contract(fast)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=fast")
#endif

#define MR 6
#define NR 16
#define KC 256
#define MC 120 /* multiple of MR; the packed A block (MC x KC floats) stays in L2 */
#define NC 2048

typedef float v8 __attribute__((vector_size(32)));
typedef float v8u __attribute__((vector_size(32), aligned(4)));

/* One 6x16 tile: acc = (load_c ? C : init broadcast to every row) + Ap * Bp over kc steps.
 * a: kc groups of MR floats; b: kc groups of NR floats (32-byte aligned). */
static inline __attribute__((always_inline)) void tile_body(int kc, const float *a,
                                                            const float *b, float *c, int ldc,
                                                            int load_c, const float *init) {
  v8 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
  if (load_c) {
#define LD(r) c##r##0 = *(const v8u *)(c + r * ldc); c##r##1 = *(const v8u *)(c + r * ldc + 8);
    LD(0) LD(1) LD(2) LD(3) LD(4) LD(5)
#undef LD
  } else {
    v8 i0 = *(const v8u *)init, i1 = *(const v8u *)(init + 8);
    c00 = c10 = c20 = c30 = c40 = c50 = i0;
    c01 = c11 = c21 = c31 = c41 = c51 = i1;
  }
  for (int p = 0; p < kc; p++) {
    v8 b0 = *(const v8 *)b, b1 = *(const v8 *)(b + 8);
    float s;
#define UP(r) s = a[r]; c##r##0 += s * b0; c##r##1 += s * b1;
    UP(0) UP(1) UP(2) UP(3) UP(4) UP(5)
#undef UP
    a += MR;
    b += NR;
  }
#define ST(r) *(v8u *)(c + r * ldc) = c##r##0; *(v8u *)(c + r * ldc + 8) = c##r##1;
  ST(0) ST(1) ST(2) ST(3) ST(4) ST(5)
#undef ST
}

typedef void (*tile_fn)(int, const float *, const float *, float *, int, int, const float *);

static void tile_generic(int kc, const float *a, const float *b, float *c, int ldc, int load_c,
                         const float *init) {
  tile_body(kc, a, b, c, ldc, load_c, init);
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define TC__HAVE_AVX2 1
__attribute__((target("avx2,fma"))) static void tile_avx2(int kc, const float *a,
                                                          const float *b, float *c, int ldc,
                                                          int load_c, const float *init) {
  tile_body(kc, a, b, c, ldc, load_c, init);
}
#endif

static tile_fn pick_tile(void) {
  static tile_fn fn;
  if (!fn) {
    fn = tile_generic;
#ifdef TC__HAVE_AVX2
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) fn = tile_avx2;
#endif
  }
  return fn;
}

/* Packs op(A)[i0:i0+mc, p0:p0+kc] into ceil(mc/MR) panels of kc x MR (zero rows past M). */
static void pack_a(const float *A, int lda, int trans, int i0, int mc, int p0, int kc,
                   float *dst) {
  for (int ir = 0; ir < mc; ir += MR) {
    int mr = TC_MIN(MR, mc - ir);
    float *d = dst + (size_t)ir * kc;
    if (!trans) {
      /* Six row pointers walked together so the stores are contiguous; rows past M read row
       * 0 and are then zeroed (their products land in the discarded part of an edge tile). */
      const float *s[MR];
      for (int r = 0; r < MR; r++) s[r] = A + (size_t)(i0 + ir + (r < mr ? r : 0)) * lda + p0;
      for (int p = 0; p < kc; p++, d += MR) {
        d[0] = s[0][p], d[1] = s[1][p], d[2] = s[2][p];
        d[3] = s[3][p], d[4] = s[4][p], d[5] = s[5][p];
      }
      if (mr < MR) {
        d = dst + (size_t)ir * kc;
        for (int p = 0; p < kc; p++)
          for (int r = mr; r < MR; r++) d[p * MR + r] = 0.0f;
      }
    } else {
      /* A is stored [K, M]: row p of the panel is contiguous in memory. */
      for (int p = 0; p < kc; p++) {
        const float *src = A + (size_t)(p0 + p) * lda + i0 + ir;
        int r = 0;
        for (; r < mr; r++) d[p * MR + r] = src[r];
        for (; r < MR; r++) d[p * MR + r] = 0.0f;
      }
    }
  }
}

/* Packs op(B)[p0:p0+kc, j0:j0+nc] into ceil(nc/NR) panels of kc x NR (zero columns past N). */
static void pack_b(const float *B, int ldb, int trans, int p0, int kc, int j0, int nc,
                   float *dst) {
  for (int jr = 0; jr < nc; jr += NR) {
    int nr = TC_MIN(NR, nc - jr);
    float *d = dst + (size_t)jr * kc;
    if (!trans) {
      for (int p = 0; p < kc; p++) {
        const float *src = B + (size_t)(p0 + p) * ldb + j0 + jr;
        float *o = d + (size_t)p * NR;
        if (nr == NR) {
          memcpy(o, src, NR * sizeof(float));
        } else {
          int c = 0;
          for (; c < nr; c++) o[c] = src[c];
          for (; c < NR; c++) o[c] = 0.0f;
        }
      }
    } else {
      /* B is stored [N, K]: walk the NR source rows together so the stores are contiguous;
       * rows past N read row 0 and are zeroed afterwards. */
      const float *s[NR];
      for (int c = 0; c < NR; c++) s[c] = B + (size_t)(j0 + jr + (c < nr ? c : 0)) * ldb + p0;
      for (int p = 0; p < kc; p++) {
        float *o = d + (size_t)p * NR;
        for (int c = 0; c < NR; c++) o[c] = s[c][p];
      }
      if (nr < NR)
        for (int p = 0; p < kc; p++)
          for (int c = nr; c < NR; c++) d[(size_t)p * NR + c] = 0.0f;
    }
  }
}

/* Shared state of one packed (jc, pc) block, handed to the tasks. */
typedef struct gemm_job {
  tile_fn tile;
  const float *A, *bp, *bias;
  float *C, *ap;
  size_t ap_stride; /* floats of packed A per thread */
  int lda, trans_a, ldc, M, jc, nc, pc, kc, load_c, n_ic, panels_per_task;
} gemm_job;

/* One task: row block ic (MC rows), NR panels [jr0, jr1) of the packed B block. Packs its
 * own A block into the calling thread's buffer. Tasks write disjoint tiles of C. */
static void gemm_task(void *arg, size_t task, int thread) {
  const gemm_job *j = arg;
  int icb = (int)(task % (size_t)j->n_ic), jg = (int)(task / (size_t)j->n_ic);
  int ic = icb * MC, mc = TC_MIN(MC, j->M - ic);
  int jr0 = jg * j->panels_per_task * NR, jr1 = TC_MIN(j->nc, jr0 + j->panels_per_task * NR);
  if (jr0 >= jr1) return;
  float *ap = j->ap + (size_t)thread * j->ap_stride;
  pack_a(j->A, j->lda, j->trans_a, ic, mc, j->pc, j->kc, ap);
  float edge[MR * NR] __attribute__((aligned(32)));
  float init[NR] __attribute__((aligned(32)));
  int kc = j->kc, ldc = j->ldc, load_c = j->load_c;
  for (int jr = jr0; jr < jr1; jr += NR) {
    int nr = TC_MIN(NR, j->nc - jr);
    const float *bpanel = j->bp + (size_t)jr * kc;
    if (!load_c) {
      for (int c = 0; c < NR; c++)
        init[c] = (j->bias && c < nr) ? j->bias[j->jc + jr + c] : 0.0f;
    }
    for (int ir = 0; ir < mc; ir += MR) {
      int mr = TC_MIN(MR, mc - ir);
      const float *apanel = ap + (size_t)ir * kc;
      float *ct = j->C + (size_t)(ic + ir) * ldc + j->jc + jr;
      if (mr == MR && nr == NR) {
        j->tile(kc, apanel, bpanel, ct, ldc, load_c, init);
        continue;
      }
      /* Partial tile: run the full kernel on a local tile and copy the valid part. */
      if (load_c) {
        memset(edge, 0, sizeof edge);
        for (int r = 0; r < mr; r++) memcpy(edge + r * NR, ct + (size_t)r * ldc, nr * 4);
      }
      j->tile(kc, apanel, bpanel, edge, NR, load_c, init);
      for (int r = 0; r < mr; r++) memcpy(ct + (size_t)r * ldc, edge + r * NR, nr * 4);
    }
  }
}

/* Loop nest (outer to inner): column blocks of NC, k blocks of KC (pack B once per pair), then
 * tasks over (row block of MC, group of NR panels); a task packs its A block and runs the
 * MR x NR tiles. The first k block writes C (from the bias or zero) unless accumulating; later
 * k blocks add into C. With a thread pool the tasks of one (jc, pc) block run in parallel;
 * when there are few row blocks, the panels are split into groups so every thread gets work.
 * The split never changes the arithmetic of any output element, so results do not depend on
 * the thread count. */
tc_status tc__tr_gemm(tc_train_ctx *ctx, int M, int N, int K, const float *A, int lda,
                      int trans_a, const float *B, int ldb, int trans_b, float *C, int ldc,
                      int accumulate, const float *bias) {
  if (M <= 0 || N <= 0) return TC_OK;
  if (K <= 0) {
    if (!accumulate)
      for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) C[(size_t)i * ldc + j] = bias ? bias[j] : 0.0f;
    return TC_OK;
  }
  int nth = ctx->pool ? ctx->n_threads : 1;
  if ((double)M * N * K < 2e5) nth = 1; /* not worth waking the workers */
  int ncap = TC_MIN(NC, (N + NR - 1) / NR * NR), mcap = TC_MIN(MC, (M + MR - 1) / MR * MR);
  int kcap = TC_MIN(KC, K);
  size_t ap_stride = TC_ALIGN_UP((size_t)mcap * kcap, 16);
  float *bp = tc__tr_scratch(ctx, TC__SCRATCH_PACK_B, (size_t)ncap * kcap * sizeof(float));
  float *ap = tc__tr_scratch(ctx, TC__SCRATCH_PACK_A, ap_stride * nth * sizeof(float));
  if (!bp || !ap) return TC_ERR_NOMEM;
  gemm_job j = {pick_tile(), A, bp, bias, C, ap, ap_stride, lda, trans_a, ldc, M};
  j.n_ic = (M + MC - 1) / MC;
  for (int jc = 0; jc < N; jc += NC) {
    int nc = TC_MIN(NC, N - jc), panels = (nc + NR - 1) / NR, groups = 1;
    if (nth > 1 && j.n_ic < 2 * nth) groups = TC_MIN(panels, (2 * nth + j.n_ic - 1) / j.n_ic);
    j.jc = jc;
    j.nc = nc;
    j.panels_per_task = (panels + groups - 1) / groups;
    groups = (panels + j.panels_per_task - 1) / j.panels_per_task;
    for (int pc = 0; pc < K; pc += KC) {
      j.pc = pc;
      j.kc = TC_MIN(KC, K - pc);
      j.load_c = accumulate || pc > 0;
      pack_b(B, ldb, trans_b, pc, j.kc, jc, nc, bp);
      size_t n_tasks = (size_t)j.n_ic * (size_t)groups;
      if (nth > 1)
        tc_threadpool_parallel_for(ctx->pool, n_tasks, gemm_task, &j);
      else
        for (size_t t = 0; t < n_tasks; t++) gemm_task(&j, t, 0);
    }
  }
  return TC_OK;
}
