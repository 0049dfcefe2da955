/* gemm.c: the float32 GEMM driver of gemm.h: packs B into the panels of a microkernel, cuts C
 * into tasks for the thread pool and calls the microkernel on each register tile.
 *
 * Blocking: a task is a block of mb rows x nb columns of C. nb is chosen so that the block's
 * packed B (nb * k floats) stays within about 128 KiB, i.e. in L2 (512 KiB per core on Zen 3,
 * 2 MiB on Sapphire Rapids), while the task walks down its rows mr at a time; each microkernel
 * call then runs one mr-row strip of A (which stays in L1) across all of the block's panels.
 * Tasks are numbered row-block fastest, so consecutive tasks reuse the same B block. A kernel
 * with the segmented form takes a task's whole row block in one call (it walks the tiles
 * itself, a taller tile when n fits one narrow panel), which matters when K is small. With
 * several threads mb is shrunk (and, when there are few row tiles, nb too) until there are
 * about 8 tasks per thread for load balance (with one row tile there is no B reuse, and the
 * block is all of n). K longer than KC_MAX (for a strip of mr rows; up to mr * KC_MAX for one
 * row) is cut into equal chunks so that the A strip stays in L1; partial sums go through C. Neither the tiling nor the K chunks
 * change the sequence of float operations behind an output element, so results are identical
 * for any thread count (and to an unchunked run). */
#include "kernels/gemm.h"

#include <math.h>

#include "core/core.h"
#include "kernels/select.h"

enum {
  B_BLOCK_FLOATS = 32 * 1024, /* packed-B floats per task and K chunk: 128 KiB */
  KC_MAX = 512,               /* longest K chunk: an 8-row A strip is then 16 KiB, in L1 */
};
/* Below this much work (a few microseconds) a product runs on the calling thread: waking a
 * worker costs more than it saves. Work is counted in whole register tiles (m and n rounded up
 * to mr and nr), which tracks time better than M*N*K for thin shapes. Measured with bench_gemm
 * (AVX2, 2 threads): 64x10x128 (135 Ki tile MACs) ran 0.74x as fast, 64x64x64 (270 Ki) 1.4x
 * and batch-1 784->128 (602 Ki, a load-bound GEMV) 1.7x faster. */
#define MIN_PARALLEL_TILE_MACS (192.0 * 1024)

tc_f32_gemm_kernel *tc_f32_gemm_default_kernel(void) { return tc_kernels()->f32_gemm; }

/* Width of the panel that starts at column j0 of an n-column B packed for nr. */
static size_t panel_width(size_t nr, size_t n, size_t j0) {
  size_t rem = n - j0;
  return rem >= nr ? nr : (rem <= nr / 2 ? nr / 2 : nr);
}

size_t tc_f32_gemm_packed_b_size(tc_f32_gemm_kernel *kr, int32_t n, int32_t k) {
  if (!kr) kr = tc_f32_gemm_default_kernel();
  if (n <= 0 || k <= 0) return 0;
  size_t nr = (size_t)kr->nr, full = (size_t)n / nr * nr, cols = full;
  if (full < (size_t)n) cols += panel_width(nr, (size_t)n, full);
  return cols * (size_t)k * sizeof(float);
}

void tc_f32_gemm_pack_b(tc_f32_gemm_kernel *kr, int32_t n, int32_t k, const float *b, size_t ldb,
                        int b_layout, float *packed) {
  if (!kr) kr = tc_f32_gemm_default_kernel();
  if (n <= 0 || k <= 0) return;
  const size_t nr = (size_t)kr->nr, nn = (size_t)n, kk_n = (size_t)k;
  float *dst = packed;
  for (size_t j0 = 0; j0 < nn; j0 += nr) {
    const size_t width = panel_width(nr, nn, j0);
    for (size_t kk = 0; kk < kk_n; kk++) {
      for (size_t jj = 0; jj < width; jj++) {
        const size_t j = j0 + jj;
        float v = 0.0f;
        if (j < nn) v = b_layout == TC_GEMM_B_NK ? b[j * ldb + kk] : b[kk * ldb + j];
        *dst++ = v;
      }
    }
  }
}

typedef struct gemm_job {
  tc_f32_gemm_kernel *kr;
  size_t m, n, k;
  const float *a;
  size_t lda;
  const float *packed_b, *bias;
  float act_min, act_max;
  float *c;
  size_t ldc;
  int accumulate;
  size_t kc;                /* K chunk: k, or less for a long k (A strips then stay in L1) */
  size_t mb, nb, n_mblocks; /* block rows, block columns, row blocks */
} gemm_job;

static void gemm_task(void *ctx, size_t task, int thread) {
  const gemm_job *job = ctx;
  tc_f32_gemm_kernel *kr = job->kr;
  const size_t mr = (size_t)kr->mr, nr = (size_t)kr->nr, k = job->k, kc = job->kc;
  const size_t i0 = (task % job->n_mblocks) * job->mb, j0 = (task / job->n_mblocks) * job->nb;
  const size_t i1 = TC_MIN(job->m, i0 + job->mb), nc = TC_MIN(job->n - j0, job->nb);
  /* j0 is a multiple of nr, so every panel before it is full: it starts at j0 * k. */
  const float *w = job->packed_b ? job->packed_b + j0 * k : NULL;
  const float *bias = job->bias ? job->bias + j0 : NULL;
  if (kc >= k && kr->run_seg) { /* the whole block in one call: the kernel walks its tiles */
    const float *a = job->a + i0 * job->lda;
    kr->run_seg(i1 - i0, nc, 1, k, &a, job->lda, w, bias, job->c + i0 * job->ldc + j0, job->ldc,
                job->accumulate, job->act_min, job->act_max);
    return;
  }
  for (size_t i = i0; i < i1; i += mr) {
    const size_t rows = TC_MIN(mr, i1 - i);
    const float *a = job->a + i * job->lda;
    float *c = job->c + i * job->ldc + j0;
    if (kc >= k) { /* one pass over all of the block's panels */
      kr->run(rows, nc, k, a, job->lda, w, bias, c, job->ldc, job->accumulate, job->act_min,
              job->act_max);
      continue;
    }
    /* K in chunks of kc: the first adds bias (and C when accumulating), later ones accumulate
     * into C, the last one clamps. Storing and reloading the float accumulator is exact, so
     * this gives the same bits as one pass. Chunks of one panel are not consecutive in the
     * packed layout, so the microkernel is called panel by panel. */
    for (size_t k0 = 0; k0 < k; k0 += kc) {
      const size_t kn = TC_MIN(kc, k - k0);
      const int first = k0 == 0, last = k0 + kn == k;
      const float *wp = w;
      for (size_t j = 0; j < nc; j += nr) {
        const size_t width = panel_width(nr, job->n, j0 + j);
        const size_t cols = TC_MIN(nr, nc - j);
        kr->run(rows, cols, kn, a + k0, job->lda, wp + k0 * width,
                first && bias ? bias + j : NULL, c + j, job->ldc,
                first ? job->accumulate : 1, last ? job->act_min : -INFINITY,
                last ? job->act_max : INFINITY);
        wp += width * k;
      }
    }
  }
}

static void gemm_run(tc_f32_gemm_kernel *kr, tc_threadpool *pool, size_t m, size_t n, size_t k,
                     const float *a, size_t lda, const float *packed_b, const float *bias,
                     float act_min, float act_max, float *c, size_t ldc, int accumulate) {
  if (m == 0 || n == 0) return;
  const size_t nr = (size_t)kr->nr;
  /* register tile height: the segmented form's taller tile for one narrow panel */
  const size_t mr = kr->run_seg && kr->mr_narrow > kr->mr && n <= nr / 2 ? (size_t)kr->mr_narrow
                                                                          : (size_t)kr->mr;
  gemm_job job = {kr, m, n, k, a, lda, packed_b, bias, act_min, act_max, c, ldc, accumulate,
                  k, 0, 0, 0};
  /* K chunks: equal chunks of at most KC_MAX, when the A strip (min(m, mr) rows) would not
   * fit in L1 otherwise (a batch-1 product keeps K whole up to mr * KC_MAX). */
  const size_t strip_rows = m < mr ? m : mr;
  if (strip_rows * k > mr * KC_MAX) {
    const size_t n_chunks = (k + KC_MAX - 1) / KC_MAX;
    job.kc = (k + n_chunks - 1) / n_chunks;
  }
  /* Column blocks: a multiple of nr whose packed B chunk fits the budget, or all of n. */
  size_t nb = B_BLOCK_FLOATS / (job.kc ? job.kc : 1) / nr * nr;
  if (nb < nr) nb = nr;
  const size_t m_tiles = (m + mr - 1) / mr;
  /* One row tile (batch-1 FULLY_CONNECTED) reuses no B block: all columns in one call, where
   * the kernel runs several panels side by side. */
  if (nb >= n || m_tiles == 1) nb = n;
  if ((double)(m_tiles * mr) * (double)((n + nr - 1) / nr * nr) * (double)k <
      MIN_PARALLEL_TILE_MACS)
    pool = NULL;
  const size_t n_threads = (size_t)tc_threadpool_n_threads(pool);
  const size_t target = 8 * n_threads; /* tasks wanted for load balance */
  tc_split_blocks(m_tiles, mr, n, nr, n_threads, target, &nb, &job.mb);
  const size_t n_nblocks = (n + nb - 1) / nb;
  job.nb = nb;
  job.n_mblocks = (m + job.mb - 1) / job.mb;
  tc_threadpool_parallel_for(pool, job.n_mblocks * n_nblocks, gemm_task, &job);
}

void tc_f32_gemm(tc_f32_gemm_kernel *kr, tc_threadpool *pool, int32_t m, int32_t n, int32_t k,
                 const float *a, size_t lda, const float *packed_b, const float *bias,
                 float act_min, float act_max, float *c, size_t ldc) {
  if (!kr) kr = tc_f32_gemm_default_kernel();
  if (m <= 0 || n <= 0 || k < 0) return;
  gemm_run(kr, pool, (size_t)m, (size_t)n, (size_t)k, a, lda, packed_b, bias, act_min, act_max,
           c, ldc, 0);
}

size_t tc_f32_gemm_plain_scratch_size(tc_f32_gemm_kernel *kr, int32_t m, int32_t n, int32_t k,
                                      unsigned flags) {
  /* 64 bytes of slack to align the packed panels to a cache line inside any buffer */
  size_t size = 64 + TC_ALIGN_UP(tc_f32_gemm_packed_b_size(kr, n, k), 64);
  if ((flags & TC_GEMM_TRANS_A) && m > 0 && k > 0) size += (size_t)m * (size_t)k * sizeof(float);
  return size;
}

int tc_f32_gemm_plain(tc_f32_gemm_kernel *kr, tc_threadpool *pool, unsigned flags, int32_t m,
                      int32_t n, int32_t k, const float *a, size_t lda, const float *b, size_t ldb,
                      const float *bias, float act_min, float act_max, float *c, size_t ldc,
                      void *scratch) {
  if (m <= 0 || n <= 0 || k < 0) return 0;
  if (!kr) kr = tc_f32_gemm_default_kernel();
  void *owned = NULL;
  if (!scratch) {
    size_t size = tc_f32_gemm_plain_scratch_size(kr, m, n, k, flags);
    owned = scratch = tc__malloc(size ? size : 1);
    if (!owned) return -1;
  }
  float *packed = (float *)TC_ALIGN_UP((uintptr_t)scratch, 64);
  tc_f32_gemm_pack_b(kr, n, k, b, ldb, (flags & TC_GEMM_TRANS_B) ? TC_GEMM_B_NK : TC_GEMM_B_KN,
                     packed);
  if ((flags & TC_GEMM_TRANS_A) && k > 0) {
    /* Row-major copy of A so the microkernel can stream its rows. */
    float *at = (float *)((char *)packed + TC_ALIGN_UP(tc_f32_gemm_packed_b_size(kr, n, k), 64));
    for (size_t kk = 0; kk < (size_t)k; kk++)
      for (size_t i = 0; i < (size_t)m; i++) at[i * (size_t)k + kk] = a[kk * lda + i];
    a = at;
    lda = (size_t)k;
  }
  gemm_run(kr, pool, (size_t)m, (size_t)n, (size_t)k, a, lda, packed, bias, act_min, act_max, c,
           ldc, (flags & TC_GEMM_ACCUMULATE) != 0);
  tc__free(owned);
  return 0;
}
