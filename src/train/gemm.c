/* gemm.c: the single-precision matrix product behind matmul, dense and conv2d (forward and
 * backward), on top of the dispatched float GEMM microkernel of kernels/gemm.h (AVX2 6x16 on
 * this kind of CPU, AVX-512 8x32 where present, the portable 4x8 otherwise). B is packed into
 * the microkernel's column panels (row copies for a [K,N] B, a strided walk for a transposed
 * one), a transposed A is copied row-major, and tasks over blocks of C run the microkernel,
 * which streams A rows directly, fuses the bias and a clamp (ReLU/ReLU6 of the fused dense and
 * conv2d layers, applied with the last K chunk) and can accumulate into C. Long K is cut into
 * chunks whose partial sums go through C (exact), so the tiling and the thread count never
 * change the bits of a result. The packers and the blocked driver are also used by conv2d's
 * own lowering (ops_conv.c) through train/gemm.h. */
#include "train/gemm.h"

#include <math.h>
#include <string.h>

enum {
  B_BLOCK_FLOATS = 32 * 1024, /* packed-B floats per task and K chunk: 128 KiB, in L2 */
  KC_MAX = 512,               /* longest K chunk: a 6-row A strip is then 12 KiB, in L1 */
};
/* Below this many tile multiply-adds a product stays on the calling thread. */
#define MIN_PARALLEL_TILE_MACS (192.0 * 1024)

tc_f32_gemm_kernel *tc__tr_gemm_kernel(void) {
  static tc_f32_gemm_kernel *kr;
  if (!kr) kr = tc_f32_gemm_default_kernel();
  return kr;
}

/* Width of the panel that starts at column j0 (the rule of gemm.h). */
static inline size_t panel_width(size_t nr, size_t n, size_t j0) {
  size_t rem = n - j0;
  return rem >= nr ? nr : (rem <= nr / 2 ? nr / 2 : nr);
}

size_t tc__tr_packed_size(tc_f32_gemm_kernel *kr, size_t n, size_t k) {
  return tc_f32_gemm_packed_b_size(kr, (int32_t)n, (int32_t)k);
}

void tc__tr_pack_b(tc_f32_gemm_kernel *kr, size_t n, size_t k, const float *b, size_t ldb,
                   int trans, float *dst) {
  const size_t nr = (size_t)kr->nr;
  for (size_t j0 = 0; j0 < n; j0 += nr) {
    const size_t w = panel_width(nr, n, j0), cols = TC_MIN(w, n - j0);
    if (!trans) {
      for (size_t kk = 0; kk < k; kk++, dst += w) {
        const float *s = b + kk * ldb + j0;
        if (cols == w) {
          memcpy(dst, s, w * sizeof(float));
        } else {
          size_t c = 0;
          for (; c < cols; c++) dst[c] = s[c];
          for (; c < w; c++) dst[c] = 0.0f;
        }
      }
    } else {
      /* B[kk][j] at b[j * ldb + kk]: walk the panel's source rows together. */
      for (size_t c = 0; c < w; c++) {
        if (c < cols) {
          const float *s = b + (j0 + c) * ldb;
          for (size_t kk = 0; kk < k; kk++) dst[kk * w + c] = s[kk];
        } else {
          for (size_t kk = 0; kk < k; kk++) dst[kk * w + c] = 0.0f;
        }
      }
      dst += w * k;
    }
  }
}

void tc__tr_transpose(const float *src, size_t rows, size_t cols, size_t lds, float *dst,
                      size_t ldd) {
  /* 8x8 blocks keep both sides within a few cache lines. */
  for (size_t i0 = 0; i0 < rows; i0 += 8)
    for (size_t j0 = 0; j0 < cols; j0 += 8) {
      size_t i1 = TC_MIN(rows, i0 + 8), j1 = TC_MIN(cols, j0 + 8);
      for (size_t j = j0; j < j1; j++)
        for (size_t i = i0; i < i1; i++) dst[j * ldd + i] = src[i * lds + j];
    }
}

typedef struct gemm_job {
  tc_f32_gemm_kernel *kr;
  size_t m, n, k;
  const float *a;
  size_t lda;
  const float *packed_b, *bias;
  float *c;
  size_t ldc;
  int accumulate;
  float act_min, act_max;   /* clamp of the stored result (-INF/INF: none) */
  size_t kc;                /* K chunk */
  size_t mb, nb, n_mblocks; /* block rows, block columns, row blocks */
} gemm_job;

static void gemm_task(void *arg, size_t task, int thread) {
  (void)thread;
  const gemm_job *j = arg;
  tc_f32_gemm_kernel *kr = j->kr;
  const size_t mr = (size_t)kr->mr, nr = (size_t)kr->nr, k = j->k, kc = j->kc;
  const size_t i0 = (task % j->n_mblocks) * j->mb, j0 = (task / j->n_mblocks) * j->nb;
  const size_t i1 = TC_MIN(j->m, i0 + j->mb), nc = TC_MIN(j->n - j0, j->nb);
  const float *w = j->packed_b + j0 * k; /* every panel before j0 is full */
  const float *bias = j->bias ? j->bias + j0 : NULL;
  for (size_t i = i0; i < i1; i += mr) {
    const size_t rows = TC_MIN(mr, i1 - i);
    const float *a = j->a + i * j->lda;
    float *c = j->c + i * j->ldc + j0;
    if (kc >= k) {
      kr->run(rows, nc, k, a, j->lda, w, bias, c, j->ldc, j->accumulate, j->act_min,
              j->act_max);
      continue;
    }
    for (size_t k0 = 0; k0 < k; k0 += kc) {
      const size_t kn = TC_MIN(kc, k - k0);
      const int first = k0 == 0, last = k0 + kn >= k;
      const float lo = last ? j->act_min : -INFINITY, hi = last ? j->act_max : INFINITY;
      const float *wp = w;
      for (size_t jj = 0; jj < nc; jj += nr) {
        const size_t width = panel_width(nr, j->n, j0 + jj), cols = TC_MIN(nr, nc - jj);
        kr->run(rows, cols, kn, a + k0, j->lda, wp + k0 * width, first && bias ? bias + jj : NULL,
                c + jj, j->ldc, first ? j->accumulate : 1, lo, hi);
        wp += width * k;
      }
    }
  }
}

void tc__tr_gemm_packed(tc_f32_gemm_kernel *kr, tc_threadpool *pool, size_t m, size_t n,
                        size_t k, const float *a, size_t lda, const float *packed_b,
                        const float *bias, float *c, size_t ldc, int accumulate) {
  tc__tr_gemm_packed_act(kr, pool, m, n, k, a, lda, packed_b, bias, c, ldc, accumulate,
                         -INFINITY, INFINITY);
}

void tc__tr_gemm_packed_act(tc_f32_gemm_kernel *kr, tc_threadpool *pool, size_t m, size_t n,
                            size_t k, const float *a, size_t lda, const float *packed_b,
                            const float *bias, float *c, size_t ldc, int accumulate,
                            float act_min, float act_max) {
  if (m == 0 || n == 0) return;
  const size_t mr = (size_t)kr->mr, nr = (size_t)kr->nr;
  gemm_job job = {kr,  m,          n,       k,       a,       lda, packed_b, bias, c,
                  ldc, accumulate, act_min, act_max, k,       0,   0,        0};
  if (k > KC_MAX) {
    const size_t n_chunks = (k + KC_MAX - 1) / KC_MAX;
    job.kc = (k + n_chunks - 1) / n_chunks;
  }
  size_t nb = B_BLOCK_FLOATS / (job.kc ? job.kc : 1) / nr * nr;
  if (nb < nr) nb = nr;
  if (nb >= n) nb = n;
  const size_t m_tiles = (m + mr - 1) / mr;
  if ((double)(m_tiles * mr) * (double)((n + nr - 1) / nr * nr) * (double)k <
      MIN_PARALLEL_TILE_MACS)
    pool = NULL;
  const size_t n_threads = (size_t)tc_threadpool_n_threads(pool);
  const size_t target = 4 * n_threads;
  tc_split_blocks(m_tiles, mr, n, nr, n_threads, target, &nb, &job.mb);
  const size_t n_nblocks = (n + nb - 1) / nb;
  job.nb = nb;
  job.n_mblocks = (m + job.mb - 1) / job.mb;
  size_t n_tasks = job.n_mblocks * n_nblocks;
  if (n_threads > 1 && n_tasks > 1)
    tc_threadpool_parallel_for(pool, n_tasks, gemm_task, &job);
  else
    for (size_t t = 0; t < n_tasks; t++) gemm_task(&job, t, 0);
}

tc_status tc__tr_gemm(tc_train_ctx *ctx, int M, int N, int K, const float *A, int lda,
                      int trans_a, const float *B, int ldb, int trans_b, float *C, int ldc,
                      int accumulate, const float *bias) {
  return tc__tr_gemm_act(ctx, M, N, K, A, lda, trans_a, B, ldb, trans_b, C, ldc, accumulate,
                         bias, -INFINITY, INFINITY);
}

tc_status tc__tr_gemm_act(tc_train_ctx *ctx, int M, int N, int K, const float *A, int lda,
                          int trans_a, const float *B, int ldb, int trans_b, float *C, int ldc,
                          int accumulate, const float *bias, float act_min, float act_max) {
  if (M <= 0 || N <= 0) return TC_OK;
  if (K <= 0) {
    for (int i = 0; i < M; i++)
      for (int j = 0; j < N; j++) {
        float v = (accumulate ? C[(size_t)i * ldc + j] : 0.0f) + (bias && !accumulate ? bias[j] : 0.0f);
        C[(size_t)i * ldc + j] = v < act_min ? act_min : (v > act_max ? act_max : v);
      }
    return TC_OK;
  }
  tc_f32_gemm_kernel *kr = tc__tr_gemm_kernel();
  float *bp = tc__tr_scratch(ctx, TC__SCRATCH_PACK_B, tc__tr_packed_size(kr, (size_t)N, (size_t)K));
  if (!bp) return TC_ERR_NOMEM;
  tc__tr_pack_b(kr, (size_t)N, (size_t)K, B, (size_t)ldb, trans_b, bp);
  if (trans_a) {
    float *at = tc__tr_scratch(ctx, TC__SCRATCH_PACK_A, (size_t)M * K * sizeof(float));
    if (!at) return TC_ERR_NOMEM;
    tc__tr_transpose(A, (size_t)K, (size_t)M, (size_t)lda, at, (size_t)K);
    A = at;
    lda = K;
  }
  tc_threadpool *pool = ctx->n_threads > 1 ? ctx->pool : NULL;
  tc__tr_gemm_packed_act(kr, pool, (size_t)M, (size_t)N, (size_t)K, A, (size_t)lda, bp,
                         accumulate ? NULL : bias, C, (size_t)ldc, accumulate, act_min, act_max);
  return TC_OK;
}
