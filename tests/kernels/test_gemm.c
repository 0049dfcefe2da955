/* test_gemm.c: tests of the kernel foundation: CPU feature detection, the dispatch table built
 * from kernels.def, the thread pool, and every float32 GEMM variant this CPU can run, compared
 * with the plain-loop oracle tc_f32_gemm__ref on swept shapes (below, at and above the register
 * tile, odd sizes, K = 0 and 1, leading dimensions larger than the matrix, bias, clamps, NaN),
 * through the packed and the plain entry points, with 1, 2 and 3 threads. Float results may
 * differ from the oracle by rounding only: the bound used is 4 (K + 2) eps sum|a b|. */
#include <float.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/threadpool.h"
#include "kernels/cpu.h"
#include "kernels/gemm.h"
#include "kernels/ref/gemm.h"
#include "kernels/select.h"
#include "narrow_chain.h"
#include "tc_test.h"

/* ---- helpers ------------------------------------------------------------------------------- */

/* Deterministic values in [-1, 1) from a small LCG, so failures reproduce. */
static void fill(float *x, size_t n, uint32_t seed) {
  uint32_t s = seed * 2654435761u + 12345u;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    x[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
}

/* The GEMM variants of kernels.def that this CPU can run. */
static int gemm_variants(tc_f32_gemm_kernel **out, int max) {
  size_t n;
  const tc_kernel_variant *v = tc_kernel_variants(&n);
  int count = 0;
  for (size_t i = 0; i < n; i++)
    if (!strcmp(v[i].op, "gemm") && !strcmp(v[i].dtype, "f32") && tc_kernel_variant_supported(&v[i]) &&
        count < max)
      out[count++] = v[i].impl;
  return count;
}

/* One product compared with the oracle. A is m x k (or k x m with TRANS_A) with leading
 * dimension lda = (rows' length) + 3, B likewise with ldb, C m x n with ldc = n + 5 and guard
 * values around it. packed: go through pack_b + tc_f32_gemm (flags must be 0 or TRANS_B), else
 * through tc_f32_gemm_plain. Returns the number of failed elements (reported once). */
static int check_case(tc_f32_gemm_kernel *kr, tc_threadpool *pool, int packed, unsigned flags,
                      int m, int n, int k, int use_bias, float lo, float hi, uint32_t seed) {
  const size_t lda = (size_t)((flags & TC_GEMM_TRANS_A) ? m : k) + 3;
  const size_t ldb = (size_t)((flags & TC_GEMM_TRANS_B) ? k : n) + 3;
  const size_t ldc = (size_t)n + 5;
  const size_t a_rows = (flags & TC_GEMM_TRANS_A) ? (size_t)k : (size_t)m;
  const size_t b_rows = (flags & TC_GEMM_TRANS_B) ? (size_t)n : (size_t)k;
  float *a = malloc((a_rows * lda + 1) * sizeof(float));
  float *b = malloc((b_rows * ldb + 1) * sizeof(float));
  float *bias = malloc(((size_t)n + 1) * sizeof(float));
  float *c = malloc(((size_t)m * ldc + 1) * sizeof(float));
  float *want = malloc(((size_t)m * ldc + 1) * sizeof(float));
  fill(a, a_rows * lda + 1, seed);
  fill(b, b_rows * ldb + 1, seed + 1);
  fill(bias, (size_t)n + 1, seed + 2);
  fill(c, (size_t)m * ldc + 1, seed + 3); /* initial C: accumulated into, or guards */
  memcpy(want, c, ((size_t)m * ldc + 1) * sizeof(float));
  const float *biasp = use_bias ? bias : NULL;
  tc_f32_gemm__ref(flags, m, n, k, a, lda, b, ldb, biasp, lo, hi, want, ldc);

  if (packed) {
    size_t size = tc_f32_gemm_packed_b_size(kr, n, k);
    float *pb = malloc(size + sizeof(float));
    tc_f32_gemm_pack_b(kr, n, k, b, ldb, (flags & TC_GEMM_TRANS_B) ? TC_GEMM_B_NK : TC_GEMM_B_KN,
                       pb);
    tc_f32_gemm(kr, pool, m, n, k, a, lda, size ? pb : NULL, biasp, lo, hi, c, ldc);
    free(pb);
  } else {
    CHECK_EQ(tc_f32_gemm_plain(kr, pool, flags, m, n, k, a, lda, b, ldb, biasp, lo, hi, c, ldc,
                               NULL),
             0);
  }

  int bad = 0;
  for (int i = 0; i < m; i++) {
    for (size_t j = 0; j < ldc; j++) {
      const size_t at = (size_t)i * ldc + j;
      if (j >= (size_t)n) { /* outside C: must be untouched */
        if (memcmp(&c[at], &want[at], sizeof(float)) != 0) bad++;
        continue;
      }
      double mag = use_bias ? fabs(bias[j]) : 0.0;
      if (flags & TC_GEMM_ACCUMULATE) mag += fabs(want[at]) + 2.0; /* initial C is in [-1, 1) */
      for (int kk = 0; kk < k; kk++) {
        float av = (flags & TC_GEMM_TRANS_A) ? a[(size_t)kk * lda + i] : a[(size_t)i * lda + kk];
        float bv = (flags & TC_GEMM_TRANS_B) ? b[j * ldb + kk] : b[(size_t)kk * ldb + j];
        mag += fabs((double)av * bv);
      }
      const double tol = 4.0 * (k + 2) * FLT_EPSILON * mag + 1e-30;
      if (!(fabs((double)c[at] - want[at]) <= tol)) {
        if (!bad)
          CHECK_MSG(0, "%s m=%d n=%d k=%d flags=%u packed=%d bias=%d clamp=[%g,%g]: c[%d][%zu] = %.9g, "
                    "ref %.9g", kr->name, m, n, k, flags, packed, use_bias, lo, hi, i, j, c[at],
                    want[at]);
        bad++;
      }
    }
  }
  if (memcmp(&c[(size_t)m * ldc], &want[(size_t)m * ldc], sizeof(float)) != 0) bad++;
  free(a);
  free(b);
  free(bias);
  free(c);
  free(want);
  return bad;
}

/* ---- dispatch ------------------------------------------------------------------------------ */

TC_TEST(kernel_gemm_cpu_features) {
  uint32_t f = tc_cpu_features();
  char names[256];
  tc_cpu_feature_string(f, names, sizeof names);
  printf("  cpu features: %s%s\n", names[0] ? names : "(none)", tc_cpu_force_ref() ? " (ref forced)" : "");
#if defined(__x86_64__) && defined(__GNUC__)
  /* gcc's own cpuid reading as an independent check (it also honours XCR0 for AVX/AVX-512). */
  __builtin_cpu_init();
  CHECK_EQ(!!(f & TC_CPU_AVX2), !!__builtin_cpu_supports("avx2"));
  CHECK_EQ(!!(f & TC_CPU_FMA), !!__builtin_cpu_supports("fma"));
  CHECK_EQ(!!(f & TC_CPU_AVX512F), !!__builtin_cpu_supports("avx512f"));
  CHECK_EQ(!!(f & TC_CPU_AVX512BW), !!__builtin_cpu_supports("avx512bw"));
  CHECK_EQ(!!(f & TC_CPU_AVX512VNNI), !!__builtin_cpu_supports("avx512vnni"));
#endif
  /* dependent bits are never set without their base */
  if (f & TC_CPU_AVX512BW) CHECK(f & TC_CPU_AVX512F);
  if (f & TC_CPU_AMX_INT8) CHECK(f & TC_CPU_AMX_TILE);
  if (f & TC_CPU_DOTPROD) CHECK(f & TC_CPU_NEON);
  char small[8];
  tc_cpu_feature_string(TC_CPU_AVX2 | TC_CPU_FMA | TC_CPU_AVX512F, small, sizeof small);
  CHECK(strlen(small) < sizeof small);
  tc_cpu_feature_string(TC_CPU_AVX2 | TC_CPU_FMA, names, sizeof names);
  CHECK(!strcmp(names, "fma avx2"));
}

TC_TEST(kernel_gemm_dispatch_table) {
  size_t n;
  const tc_kernel_variant *v = tc_kernel_variants(&n);
  CHECK(n >= 1);
  /* Every op's list ends with a variant that needs nothing (so every slot is filled). */
  for (size_t i = 0; i < n; i++) {
    int last_of_op = i + 1 == n || strcmp(v[i + 1].op, v[i].op) || strcmp(v[i + 1].dtype, v[i].dtype);
    if (last_of_op) CHECK_MSG(v[i].required_features == 0, "%s has no portable fallback", v[i].symbol);
  }
  tc_kernel_table t;
  tc_kernels_fill(&t, 0);
  CHECK(t.f32_gemm == &tc_f32_gemm__ref_4x8);
  CHECK_EQ(t.features, 0);
#if defined(__x86_64__)
  tc_kernels_fill(&t, TC_CPU_AVX2_FMA);
  CHECK(t.f32_gemm == &tc_f32_gemm__avx2_6x16);
  tc_kernels_fill(&t, TC_CPU_AVX2_FMA | TC_CPU_AVX512_CORE);
  CHECK(t.f32_gemm == &tc_f32_gemm__avx512_8x32);
  tc_kernels_fill(&t, TC_CPU_AVX512F); /* incomplete AVX-512 set and no AVX2: ref */
  CHECK(t.f32_gemm == &tc_f32_gemm__ref_4x8);
#endif
  /* The live table picks the first supported variant; forcing ref switches it and back. */
  int was_forced = tc_cpu_force_ref();
  tc_kernels_force_ref(0);
  tc_f32_gemm_kernel *best = NULL;
  for (size_t i = 0; i < n && !best; i++)
    if (!strcmp(v[i].op, "gemm") && tc_kernel_variant_supported(&v[i])) best = v[i].impl;
  CHECK(tc_kernels()->f32_gemm == best);
  CHECK(tc_f32_gemm_default_kernel() == best);
  CHECK_EQ(tc_kernels()->features, tc_cpu_features());
  tc_kernels_force_ref(1);
  CHECK(tc_kernels()->f32_gemm == &tc_f32_gemm__ref_4x8);
  CHECK_EQ(tc_kernels()->features, 0);
  CHECK_EQ(tc_cpu_usable_features(), 0);
  tc_kernels_force_ref(was_forced);
  printf("  f32 gemm dispatch: %s\n", tc_f32_gemm_default_kernel()->name);
}

/* ---- thread pool --------------------------------------------------------------------------- */

typedef struct {
  atomic_int *hits;
  atomic_int bad_thread;
  int n_threads;
} pool_ctx;

static void count_task(void *ctx, size_t task, int thread) {
  pool_ctx *p = ctx;
  atomic_fetch_add(&p->hits[task], 1);
  if (thread < 0 || thread >= p->n_threads) atomic_store(&p->bad_thread, 1);
}

typedef struct {
  atomic_ullong sum, count;
} sum_ctx;

static void sum_task(void *ctx, size_t task, int thread) {
  sum_ctx *p = ctx;
  atomic_fetch_add(&p->sum, (unsigned long long)task);
  atomic_fetch_add(&p->count, 1);
}

TC_TEST(kernel_gemm_threadpool) {
  enum { MAX_TASKS = 1000 };
  static atomic_int hits[MAX_TASKS];
  const int thread_counts[] = {0, 1, 2, 4};
  for (size_t ti = 0; ti < sizeof thread_counts / sizeof thread_counts[0]; ti++) {
    tc_threadpool *pool = tc_threadpool_create(thread_counts[ti]);
    CHECK(pool != NULL);
    if (!pool) continue;
    int nt = tc_threadpool_n_threads(pool);
    CHECK_EQ(nt, thread_counts[ti] < 1 ? 1 : thread_counts[ti]);
    const size_t task_counts[] = {0, 1, 2, 3, 7, 64, MAX_TASKS};
    for (int rep = 0; rep < 30; rep++) {
      for (size_t ci = 0; ci < sizeof task_counts / sizeof task_counts[0]; ci++) {
        size_t n_tasks = task_counts[ci];
        for (size_t t = 0; t < MAX_TASKS; t++) atomic_store(&hits[t], 0);
        pool_ctx ctx = {hits, 0, nt};
        tc_threadpool_parallel_for(pool, n_tasks, count_task, &ctx);
        int wrong = 0;
        for (size_t t = 0; t < MAX_TASKS; t++) wrong += atomic_load(&hits[t]) != (t < n_tasks);
        CHECK_MSG(wrong == 0, "%d threads, %zu tasks: %d tasks not run exactly once", nt, n_tasks, wrong);
        CHECK(!atomic_load(&ctx.bad_thread));
      }
    }
    tc_threadpool_destroy(pool);
  }
  /* more tasks than one job holds (2^20 - 1): run as batches, every index exactly once */
  {
    tc_threadpool *pool = tc_threadpool_create(2);
    sum_ctx sc = {0, 0};
    const size_t n_big = ((size_t)1 << 20) + 77;
    tc_threadpool_parallel_for(pool, n_big, sum_task, &sc);
    CHECK_EQ(atomic_load(&sc.count), n_big);
    CHECK(atomic_load(&sc.sum) == (unsigned long long)n_big * (n_big - 1) / 2);
    tc_threadpool_destroy(pool);
  }
  CHECK_EQ(tc_threadpool_n_threads(NULL), 1);
  tc_threadpool_destroy(NULL);
  /* NULL pool: tasks run in order on the caller */
  for (size_t t = 0; t < 5; t++) atomic_store(&hits[t], 0);
  pool_ctx ctx = {hits, 0, 1};
  tc_threadpool_parallel_for(NULL, 5, count_task, &ctx);
  for (size_t t = 0; t < 5; t++) CHECK_EQ(atomic_load(&hits[t]), 1);
  /* create/destroy churn (workers asleep or spinning at destroy) */
  for (int i = 0; i < 20; i++) tc_threadpool_destroy(tc_threadpool_create(3));
}

/* ---- GEMM variants vs the oracle ----------------------------------------------------------- */

TC_TEST(kernel_gemm_packed_size) {
  tc_f32_gemm_kernel *ks[8];
  int nk = gemm_variants(ks, 8);
  CHECK(nk >= 1);
  for (int v = 0; v < nk; v++) {
    const int nr = ks[v]->nr;
    CHECK(nr % 2 == 0 && ks[v]->mr >= 1);
    CHECK_EQ(tc_f32_gemm_packed_b_size(ks[v], 0, 5), 0);
    CHECK_EQ(tc_f32_gemm_packed_b_size(ks[v], 5, 0), 0);
    CHECK_EQ(tc_f32_gemm_packed_b_size(ks[v], nr, 3), (size_t)nr * 3 * 4);
    CHECK_EQ(tc_f32_gemm_packed_b_size(ks[v], 1, 3), (size_t)nr / 2 * 3 * 4);
    CHECK_EQ(tc_f32_gemm_packed_b_size(ks[v], nr / 2, 3), (size_t)nr / 2 * 3 * 4);
    CHECK_EQ(tc_f32_gemm_packed_b_size(ks[v], nr / 2 + 1, 3), (size_t)nr * 3 * 4);
    CHECK_EQ(tc_f32_gemm_packed_b_size(ks[v], 2 * nr + 1, 7), (size_t)(2 * nr + nr / 2) * 7 * 4);
    /* layout: the half-width last panel holds B[kk][j] at kk * nr/2 + (j - j0) */
    const int n = nr + 3, k = 2;
    float b[2 * 64], packed[2 * 96];
    for (int i = 0; i < k * n; i++) b[i] = (float)(i + 1);
    tc_f32_gemm_pack_b(ks[v], n, k, b, (size_t)n, TC_GEMM_B_KN, packed);
    CHECK_EQ(packed[0], b[0]);
    CHECK_EQ(packed[nr], b[n]);                      /* row 1 of panel 0 */
    CHECK_EQ(packed[2 * nr + 0], b[nr]);             /* panel 1, row 0 */
    CHECK_EQ(packed[2 * nr + nr / 2], b[n + nr]);    /* panel 1, row 1 */
    CHECK_EQ(packed[2 * nr + 3], 0.0f);              /* zero padding past n */
  }
}

TC_TEST(kernel_gemm_variants_vs_ref) {
  tc_f32_gemm_kernel *ks[8];
  int nk = gemm_variants(ks, 8);
  for (int v = 0; v < nk; v++) {
    const int mr = ks[v]->mr, nr = ks[v]->nr;
    const int ms[] = {1, 2, mr - 1, mr, mr + 1, 2 * mr + 3, 37};
    const int ns[] = {1, 3, nr / 2 - 1, nr / 2, nr / 2 + 1, nr - 1, nr, nr + 1, 2 * nr + 5, 67};
    const int ks_[] = {0, 1, 2, 7, 16, 33};
    int bad = 0, cases = 0;
    uint32_t seed = 1;
    for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++)
      for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
        for (size_t ki = 0; ki < sizeof ks_ / sizeof ks_[0]; ki++) {
          int m = ms[mi], n = ns[ni], k = ks_[ki];
          if (m < 1 || n < 1) continue;
          int variant = (int)(seed % 4);
          int use_bias = variant & 1;
          float lo = (variant & 2) ? -0.25f : -INFINITY, hi = (variant & 2) ? 0.5f : INFINITY;
          unsigned flags = (seed % 3 == 0) ? TC_GEMM_TRANS_B : 0;
          bad += check_case(ks[v], NULL, 1, flags, m, n, k, use_bias, lo, hi, seed++) != 0;
          cases++;
        }
    CHECK_MSG(bad == 0, "%s: %d of %d cases differ from the oracle", ks[v]->name, bad, cases);
  }
}

TC_TEST(kernel_gemm_plain_flags) {
  tc_f32_gemm_kernel *ks[8];
  int nk = gemm_variants(ks, 8);
  for (int v = 0; v < nk; v++) {
    const int mr = ks[v]->mr, nr = ks[v]->nr;
    const int shapes[][3] = {{1, 1, 1}, {mr, nr, 5}, {mr + 1, nr + 1, 9}, {2 * mr - 1, nr / 2, 1},
                             {23, 45, 31}, {3, 2 * nr + 1, 0}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
      for (unsigned flags = 0; flags < 8; flags++) {
        int bias = (int)(flags + s) & 1;
        float lo = flags == 5 ? 0.0f : -INFINITY, hi = flags == 5 ? 6.0f : INFINITY;
        CHECK_EQ(check_case(ks[v], NULL, 0, flags, shapes[s][0], shapes[s][1], shapes[s][2], bias,
                            lo, hi, 100 + (uint32_t)(s * 8 + flags)),
                 0);
      }
  }
  /* caller-provided scratch of the advertised size */
  const int m = 9, n = 13, k = 11;
  float a[11 * 9], b[13 * 11], c[9 * 13], want[9 * 13];
  fill(a, sizeof a / sizeof a[0], 7);
  fill(b, sizeof b / sizeof b[0], 8);
  unsigned flags = TC_GEMM_TRANS_A | TC_GEMM_TRANS_B;
  size_t size = tc_f32_gemm_plain_scratch_size(NULL, m, n, k, flags);
  CHECK(size >= tc_f32_gemm_packed_b_size(NULL, n, k) + (size_t)m * k * 4);
  void *scratch = malloc(size);
  CHECK_EQ(tc_f32_gemm_plain(NULL, NULL, flags, m, n, k, a, m, b, k, NULL, -INFINITY, INFINITY, c,
                             n, scratch),
           0);
  tc_f32_gemm__ref(flags, m, n, k, a, m, b, k, NULL, -INFINITY, INFINITY, want, n);
  for (int i = 0; i < m * n; i++) CHECK_NEAR(c[i], want[i], 1e-5);
  free(scratch);
}

TC_TEST(kernel_gemm_threads_deterministic) {
  tc_f32_gemm_kernel *ks[8];
  int nk = gemm_variants(ks, 8);
  tc_threadpool *pools[3] = {NULL, tc_threadpool_create(2), tc_threadpool_create(3)};
  /* the last two have several column blocks (nb * k is capped at 32 Ki floats) */
  const int shapes[][3] = {{100, 77, 65}, {49, 256, 128}, {5, 1000, 3}, {20, 300, 700}, {13, 77, 3000}};
  for (int v = 0; v < nk; v++)
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
      const int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
      float *a = malloc((size_t)m * k * 4), *b = malloc((size_t)n * k * 4);
      float *bias = malloc((size_t)n * 4), *c[3];
      fill(a, (size_t)m * k, 11);
      fill(b, (size_t)n * k, 12);
      fill(bias, (size_t)n, 13);
      float *pb = malloc(tc_f32_gemm_packed_b_size(ks[v], n, k));
      tc_f32_gemm_pack_b(ks[v], n, k, b, (size_t)k, TC_GEMM_B_NK, pb);
      for (int p = 0; p < 3; p++) {
        c[p] = malloc((size_t)m * n * 4);
        tc_f32_gemm(ks[v], pools[p], m, n, k, a, (size_t)k, pb, bias, 0.0f, 6.0f, c[p], (size_t)n);
      }
      CHECK_MSG(!memcmp(c[0], c[1], (size_t)m * n * 4), "%s %dx%dx%d: 2 threads differ from 1",
                ks[v]->name, m, n, k);
      CHECK_MSG(!memcmp(c[0], c[2], (size_t)m * n * 4), "%s %dx%dx%d: 3 threads differ from 1",
                ks[v]->name, m, n, k);
      /* and the 2-thread result matches the oracle */
      CHECK_EQ(check_case(ks[v], pools[1], 1, TC_GEMM_TRANS_B, m, n, k, 1, 0.0f, 6.0f, 21), 0);
      for (int p = 0; p < 3; p++) free(c[p]);
      free(a);
      free(b);
      free(bias);
      free(pb);
    }
  tc_threadpool_destroy(pools[1]);
  tc_threadpool_destroy(pools[2]);
}

TC_TEST(kernel_gemm_nan_and_clamp) {
  tc_f32_gemm_kernel *ks[8];
  int nk = gemm_variants(ks, 8);
  for (int v = 0; v < nk; v++) {
    /* m = 3, n = 5, k = 2; row 1 of A holds a NaN: that row is NaN, clamps do not hide it
     * (TFLite's min(max(x, lo), hi) keeps NaN); other rows are clamped to [0, 1]. */
    const float a[3 * 2] = {1, 2, NAN, 1, -3, -4};
    const float b[2 * 5] = {1, 0.25f, -1, 0, 2, 0, 0.25f, 1, -1, 2};
    float pb[2 * 64], c[3 * 5];
    tc_f32_gemm_pack_b(ks[v], 5, 2, b, 5, TC_GEMM_B_KN, pb);
    tc_f32_gemm(ks[v], NULL, 3, 5, 2, a, 2, pb, NULL, 0.0f, 1.0f, c, 5);
    const float row0[5] = {1, 0.75f, 1, 0, 1}; /* 1, 0.75, 1, -2 -> 0, 6 -> 1 */
    for (int j = 0; j < 5; j++) {
      CHECK_NEAR(c[j], row0[j], 0);
      CHECK_MSG(isnan(c[5 + j]), "%s: NaN lost in column %d", ks[v]->name, j);
      CHECK_NEAR(c[10 + j], j == 3 ? 1.0f : 0.0f, 0); /* -3, -1.75, -1, 4 -> 1, -14 */
    }
  }
}

TC_TEST(kernel_gemm_k_chunks_exact) {
  /* A long K is summed in chunks through C by the driver; the result must have the same bits
   * as one microkernel pass over all of K (which is what every short-K call does). */
  tc_f32_gemm_kernel *ks[8];
  int nk = gemm_variants(ks, 8);
  tc_threadpool *pool = tc_threadpool_create(2);
  for (int v = 0; v < nk; v++) {
    const int m = ks[v]->mr, n = 2 * ks[v]->nr + 3, k = 1500;
    float *a = malloc((size_t)m * k * 4), *b = malloc((size_t)n * k * 4), *bias = malloc((size_t)n * 4);
    float *c1 = malloc((size_t)m * n * 4), *c2 = malloc((size_t)m * n * 4);
    float *pb = malloc(tc_f32_gemm_packed_b_size(ks[v], n, k));
    fill(a, (size_t)m * k, 31);
    fill(b, (size_t)n * k, 32);
    fill(bias, (size_t)n, 33);
    tc_f32_gemm_pack_b(ks[v], n, k, b, (size_t)k, TC_GEMM_B_NK, pb);
    tc_f32_gemm(ks[v], pool, m, n, k, a, (size_t)k, pb, bias, -2.0f, 2.0f, c1, (size_t)n);
    ks[v]->run((size_t)m, (size_t)n, (size_t)k, a, (size_t)k, pb, bias, c2, (size_t)n, 0, -2.0f, 2.0f);
    CHECK_MSG(!memcmp(c1, c2, (size_t)m * n * 4), "%s: chunked K differs from one pass", ks[v]->name);
    CHECK_EQ(check_case(ks[v], pool, 0, TC_GEMM_ACCUMULATE | TC_GEMM_TRANS_A, m + 3, n, k, 1, -1.0f, 1.0f, 34), 0);
    free(a);
    free(b);
    free(bias);
    free(c1);
    free(c2);
    free(pb);
  }
  tc_threadpool_destroy(pool);
}

/* A GEMM variant's narrow variant (gemm.h): see narrow_chain.h; it is narrower than its parent's
 * tile and has the segmented form CONV_2D calls. */
static const void *gemm_narrow_of(const void *impl, int32_t *limit) {
  tc_f32_gemm_kernel *k = impl;
  if (!k->narrow) return NULL;
  CHECK(k->narrow_n < k->nr && k->narrow->run_seg != NULL);
  *limit = k->narrow_n;
  return k->narrow;
}

TC_TEST(kernel_gemm_narrow) {
  const int seen = check_narrow_chains("gemm", "f32", gemm_narrow_of);
#if TC_ARCH_X86_64
  CHECK(seen >= 1); /* avx512 -> avx2 for 8 channels or fewer */
  CHECK(tc_f32_gemm__avx512_8x32.narrow == &tc_f32_gemm__avx2_6x16 &&
        tc_f32_gemm__avx512_8x32.narrow_n == 8);
#else
  (void)seen;
#endif
}
