/* bench_conv.c: micro-benchmark of CONV_2D / FULLY_CONNECTED as GEMM (kernels/conv_f32.h,
 * kernels/im2col.h, kernels/qgemm.h) against the reference kernels, on the layer shapes of the
 * benchmark models (MobileNet V1/V2, VWW, ResNet8, FC heads). For float it also times, interleaved
 * with the driver, the lowering it replaced (every pixel's im2col row built in 64 KiB blocks,
 * then one plain microkernel call per register tile), so the two compare under the same load. Prints the fastest and the median time of each path, GFLOP/s (GOP/s for 8-bit:
 * multiply-add = 2) at the fastest and % of the 1-core peak measured here with independent FMA
 * chains (float) and vpmaddwd chains (8-bit, 2 ops per int16 pair product). Never a test.
 *   bench_conv [--threads N] [--runs N] [--no-ref] [--no-s8] [--cpu-time] [--shape TEXT]
 *              [--f32-kernel NAME]   (a supported f32 GEMM variant, e.g. avx2_6x16, instead of
 *              the one CONV_2D picks: the default, or its narrow variant for few channels)
 * Build: cc -O2 -Isrc -Iinclude bench/bench_conv.c BUILD/libtensorc.a -lpthread -lm */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/threadpool.h"
#include "kernels/im2col.h"
#include "kernels/qgemm.h"
#include "kernels/ref/conv2d.h"
#include "kernels/ref/conv2d_q.h"
#include "kernels/select.h"
#include "bench_clock.h"


#if defined(__x86_64__)
#include <immintrin.h>
/* 1-core peaks: 12 independent chains so latency is hidden. */
#define REP12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
__attribute__((target("avx2,fma"))) static double peak_fma(void) {
#define DECL(i) __m256 acc##i = _mm256_set1_ps((float)(i));
  REP12(DECL)
#undef DECL
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.001f);
  const long iters = 20000000;
  double t = bench_now();
  for (long it = 0; it < iters; it++) {
#define STEP(i) acc##i = _mm256_fmadd_ps(acc##i, a, b);
    REP12(STEP)
#undef STEP
  }
  t = bench_now() - t;
  float sink = 0;
#define SUM(i) sink += _mm256_cvtss_f32(acc##i);
  REP12(SUM)
#undef SUM
  if (sink == 12345.f) printf(" ");
  return (double)iters * 12 * 16 / t / 1e9;
}
__attribute__((target("avx2"))) static double peak_madd(void) {
#define DECL(i) __m256i acc##i = _mm256_set1_epi32(i);
  REP12(DECL)
#undef DECL
  const __m256i a = _mm256_set1_epi16(3);
  const long iters = 20000000;
  double t = bench_now();
  for (long it = 0; it < iters; it++) {
#define STEP(i) acc##i = _mm256_add_epi32(acc##i, _mm256_madd_epi16(a, acc##i));
    REP12(STEP)
#undef STEP
  }
  t = bench_now() - t;
  int sink = 0;
#define SUM(i) sink += _mm256_cvtsi256_si32(acc##i);
  REP12(SUM)
#undef SUM
  if (sink == 12345) printf(" ");
  return (double)iters * 12 * 32 / t / 1e9; /* 16 products + 16 adds per vpmaddwd */
}
#else
static double peak_fma(void) { return 0; }
static double peak_madd(void) { return 0; }
#endif

typedef struct shape {
  const char *name;
  int h, w, ic, oc, k, s, valid; /* valid: VALID padding, else SAME */
} shape;

static const shape g_shapes[] = {
    {"mnv1 0.25 conv0 224x224x3 3x3/2 ->8", 224, 224, 3, 8, 3, 2, 0},
    {"mnv1 0.25 pw 112x112 8->16", 112, 112, 8, 16, 1, 1, 0},
    {"mnv1 0.25 pw 56x56 32->32", 56, 56, 32, 32, 1, 1, 0},
    {"mnv1 0.25 pw 7x7 256->256", 7, 7, 256, 256, 1, 1, 0},
    {"vww conv0 96x96x3 3x3/2 ->8", 96, 96, 3, 8, 3, 2, 0},
    {"mnv2 conv0 224x224x3 3x3/2 ->32", 224, 224, 3, 32, 3, 2, 0},
    {"mnv2 pw 112x112 16->96", 112, 112, 16, 96, 1, 1, 0},
    {"mnv2 pw 56x56 144->24", 56, 56, 144, 24, 1, 1, 0},
    {"mnv2 pw 14x14 384->64", 14, 14, 384, 64, 1, 1, 0},
    {"mnv2 pw 7x7 960->160", 7, 7, 960, 160, 1, 1, 0},
    {"mnv2 pw 7x7 320->1280", 7, 7, 320, 1280, 1, 1, 0},
    {"resnet8 conv0 32x32 3x3 3->16", 32, 32, 3, 16, 3, 1, 0},
    {"resnet8 32x32 3x3 16->16", 32, 32, 16, 16, 3, 1, 0},
    {"resnet8 32x32 3x3/2 16->32", 32, 32, 16, 32, 3, 2, 0},
    {"resnet8 16x16 3x3 32->32", 16, 16, 32, 32, 3, 1, 0},
    {"resnet8 32x32 1x1/2 16->32", 32, 32, 16, 32, 1, 2, 0},
    {"resnet8 16x16 3x3/2 32->64", 16, 16, 32, 64, 3, 2, 0},
    {"resnet8 8x8 3x3 64->64", 8, 8, 64, 64, 3, 1, 0},
    {"kws conv0 49x10x1 10x4/2 ->64 VALID", 49, 10, 1, 64, 0, 2, 1},
    {"vgg 28x28 3x3 256->256", 28, 28, 256, 256, 3, 1, 0},
    {"FC 1x1 1280->1001", 1, 1, 1280, 1001, 1, 1, 0},
};

/* Runs fn(ctx) `runs` times, the variants interleaved run by run so that they see the same
 * load; best[v] and median[v] get the fastest and the median time of variant v. */
static void time_interleaved(int runs, int n_fn, void (*const *fn)(void *), void *ctx,
                             double *best, double *median) {
  double t[4][64];
  if (runs > 64) runs = 64;
  for (int v = 0; v < n_fn; v++) fn[v](ctx);
  for (int r = 0; r < runs; r++)
    for (int v = 0; v < n_fn; v++) {
      double t0 = bench_now();
      fn[v](ctx);
      t[v][r] = bench_now() - t0;
    }
  for (int v = 0; v < n_fn; v++) {
    qsort(t[v], (size_t)runs, sizeof t[v][0], bench_cmp_d);
    best[v] = t[v][0];
    median[v] = t[v][runs / 2];
  }
}

typedef struct run_ctx {
  tc_conv2d_params p;
  tc_threadpool *pool;
  const float *fin, *fpacked, *fw, *fbias;
  float *fout;
  const int8_t *qin, *qw;
  const int32_t *qbias;
  tc_q_requant rq;
  const tc_qgemm_packed *pk;
  int8_t *qout;
  void *scratch;
  float *im2col; /* the baseline's row block */
  size_t im2col_rows;
  tc_f32_gemm_kernel *fkr; /* the layer's float kernel (the default's narrow one where it fits) */
} run_ctx;

static void run_f32(void *c) {
  run_ctx *r = c;
  tc_f32_conv2d_gemm(r->fkr, r->pool, &r->p, r->fin, r->fpacked, r->fbias, r->fout, r->scratch);
}
/* The baseline, the lowering before the direct path: im2col rows in blocks of im2col_rows
 * pixels (none for a 1x1 stride-1 conv, whose A is the input), multiplied one register tile of
 * mr rows at a time by the plain microkernel over all output channels (serial). */
static void run_f32_im2col(void *c) {
  run_ctx *r = c;
  const tc_conv2d_params *p = &r->p;
  tc_f32_gemm_kernel *kr = r->fkr;
  const size_t m = (size_t)p->batch * p->out_h * p->out_w, n = (size_t)p->out_c;
  const size_t k = (size_t)p->k_h * p->k_w * p->in_c, mr = (size_t)kr->mr;
  const int direct = tc_conv2d_is_gemm(p);
  for (size_t i0 = 0; i0 < m; i0 += r->im2col_rows) {
    const size_t rows = m - i0 < r->im2col_rows ? m - i0 : r->im2col_rows;
    const float *a = r->fin + i0 * k;
    if (!direct) {
      for (size_t i = 0; i < rows; i++) tc_f32_im2col_row(p, r->fin, i0 + i, r->im2col + i * k);
      a = r->im2col;
    }
    for (size_t i = 0; i < rows; i += mr)
      kr->run(rows - i < mr ? rows - i : mr, n, k, a + i * k, k, r->fpacked, r->fbias,
              r->fout + (i0 + i) * n, n, 0, p->act_min, p->act_max);
  }
}
static void run_f32_ref(void *c) {
  run_ctx *r = c;
  tc_f32_conv2d__ref(&r->p, r->fin, r->fw, r->fbias, r->fout);
}
static void run_s8(void *c) {
  run_ctx *r = c;
  tc_x8_conv2d_gemm(r->pk, r->pool, &r->p, r->qin, 0, -3, r->qout, r->scratch);
}
static void run_s8_ref(void *c) {
  run_ctx *r = c;
  tc_s8_conv2d__ref(&r->p, &r->rq, r->qin, r->qw, r->qbias, r->qout);
}

int main(int argc, char **argv) {
  int threads = 1, runs = 15, with_ref = 1, with_s8 = 1;
  const char *filter = NULL;
  tc_f32_gemm_kernel *f32_kernel = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--no-ref")) with_ref = 0;
    else if (!strcmp(argv[i], "--no-s8")) with_s8 = 0;
    else if (!strcmp(argv[i], "--cpu-time")) bench_cpu_time = 1;
    else if (!strcmp(argv[i], "--shape") && i + 1 < argc) filter = argv[++i];
    else if (!strcmp(argv[i], "--f32-kernel") && i + 1 < argc) {
      const char *want = argv[++i];
      size_t nv = 0;
      const tc_kernel_variant *v = tc_kernel_variants(&nv);
      for (size_t j = 0; j < nv; j++)
        if (!strcmp(v[j].op, "gemm") && !strcmp(v[j].dtype, "f32") &&
            tc_kernel_variant_supported(&v[j]) &&
            !strcmp(((tc_f32_gemm_kernel *)v[j].impl)->name, want))
          f32_kernel = v[j].impl;
      if (!f32_kernel) {
        fprintf(stderr, "no supported f32 GEMM kernel named %s\n", want);
        return 2;
      }
    }
    else {
      fprintf(stderr, "usage: bench_conv [--threads N] [--runs N] [--no-ref] [--no-s8] "
                      "[--cpu-time] [--shape TEXT] [--f32-kernel NAME]\n");
      return 2;
    }
  }
  const double pf = peak_fma(), pq = with_s8 ? peak_madd() : 0;
  printf("f32 gemm: %s, s8 qgemm: %s, threads %d; 1-core peak: %.1f GFLOP/s (FMA), %.1f GOP/s "
         "(vpmaddwd)\n",
         tc_f32_gemm_default_kernel()->name, tc_s8_qgemm_default_kernel()->name, threads, pf, pq);
  printf("times in us, fastest (median) of %d interleaved runs; GFLOP/s and %%peak at the fastest\n",
         runs);
  printf("%-38s %15s %15s %7s %6s %5s %9s |%15s %9s %7s %6s\n", "layer", "f32 us", "im2col us",
         "GFLOP/s", "%peak", "gain", "ref us", "s8 us", "ref us", "GOP/s", "%peak");
  tc_threadpool *pool = threads > 1 ? tc_threadpool_create(threads) : NULL;
  for (size_t si = 0; si < sizeof g_shapes / sizeof *g_shapes; si++) {
    const shape *sh = &g_shapes[si];
    if (filter && !strstr(sh->name, filter)) continue;
    run_ctx r;
    memset(&r, 0, sizeof r);
    tc_conv2d_params *p = &r.p;
    const int kh = sh->k ? sh->k : 10, kw = sh->k ? sh->k : 4; /* k 0: the KWS 10x4 filter */
    p->batch = 1; p->in_h = sh->h; p->in_w = sh->w; p->in_c = sh->ic; p->filter_c = sh->ic;
    p->out_c = sh->oc; p->k_h = kh; p->k_w = kw; p->stride_h = p->stride_w = sh->s;
    p->dilation_h = p->dilation_w = 1;
    if (sh->valid) {
      p->out_h = (sh->h - kh) / sh->s + 1;
      p->out_w = (sh->w - kw) / sh->s + 1;
    } else {
      p->out_h = (sh->h + sh->s - 1) / sh->s;
      p->out_w = (sh->w + sh->s - 1) / sh->s;
      int ph = (p->out_h - 1) * sh->s + kh - sh->h, pw = (p->out_w - 1) * sh->s + kw - sh->w;
      p->pad_top = ph > 0 ? ph / 2 : 0;
      p->pad_left = pw > 0 ? pw / 2 : 0;
    }
    p->act_min = 0.0f;
    p->act_max = 6.0f;
    const size_t k = (size_t)kh * kw * sh->ic, nin = (size_t)sh->h * sh->w * sh->ic;
    const size_t m = (size_t)p->out_h * p->out_w, nout = m * sh->oc;
    const double flops = 2.0 * (double)m * sh->oc * (double)k;
    float *fin = malloc(nin * 4), *fw = malloc(k * sh->oc * 4), *fb = malloc(sh->oc * 4);
    float *fout = malloc(nout * 4);
    int8_t *qin = malloc(nin), *qw = malloc(k * sh->oc), *qout = malloc(nout);
    int32_t *qb = malloc(sh->oc * 4), *mult = malloc(sh->oc * 4), *shift = malloc(sh->oc * 4);
    for (size_t i = 0; i < nin; i++) { fin[i] = (float)(i % 13) * 0.1f; qin[i] = (int8_t)(i * 7); }
    for (size_t i = 0; i < k * sh->oc; i++) { fw[i] = (float)(i % 7) * 0.01f; qw[i] = (int8_t)(i * 5); }
    for (int j = 0; j < sh->oc; j++) { fb[j] = 0.1f; qb[j] = j * 10; mult[j] = 1234567890; shift[j] = -9; }
    /* the kernel CONV_2D takes: the default's narrow variant for few output channels */
    tc_f32_gemm_kernel *fkr = tc_f32_gemm_default_kernel();
    while (fkr->narrow && sh->oc <= fkr->narrow_n) fkr = fkr->narrow;
    if (f32_kernel) fkr = f32_kernel;
    r.fkr = fkr;
    float *packed = aligned_alloc(64, (tc_f32_gemm_packed_b_size(fkr, sh->oc, (int32_t)k) + 127) / 64 * 64);
    tc_f32_gemm_pack_b(fkr, sh->oc, (int32_t)k, fw, k, TC_GEMM_B_NK, packed);
    tc_qgemm_weights qwt = {qw, k, 0, 0, 3, qb, mult, shift, -1, -128, 127, 0};
    tc_s8_qgemm_kernel *qk = tc_qgemm_kernel_for(NULL, 0, sh->oc, (int32_t)k, &qwt);
    void *pkbuf = malloc(tc_qgemm_packed_size(qk, sh->oc, (int32_t)k));
    r.pk = tc_qgemm_pack(qk, sh->oc, (int32_t)k, &qwt, pkbuf);
    size_t ss = tc_f32_conv2d_gemm_scratch_size(fkr, p, threads);
    size_t qs = tc_x8_conv2d_gemm_scratch_size(r.pk, threads);
    r.scratch = malloc((ss > qs ? ss : qs) + 1);
    r.im2col_rows = 64 * 1024 / (k * 4) / 6 * 6;
    if (r.im2col_rows < 6) r.im2col_rows = 6;
    r.im2col = malloc(r.im2col_rows * k * 4);
    r.pool = pool;
    r.fin = fin; r.fpacked = packed; r.fw = fw; r.fbias = fb; r.fout = fout;
    r.qin = qin; r.qw = qw; r.qbias = qb; r.qout = qout;
    tc_q_requant rq = {3, 0, -1, mult, shift, -128, 127};
    r.rq = rq;
    void (*const ff[2])(void *) = {run_f32, run_f32_im2col};
    double best[2], med[2], tq = 0, tqm = 0;
    time_interleaved(runs, 2, ff, &r, best, med);
    if (with_s8) {
      void (*const fq[1])(void *) = {run_s8};
      time_interleaved(runs, 1, fq, &r, &tq, &tqm);
    }
    const int ref_runs = runs > 5 ? 5 : runs;
    double tfr = 0, tqr = 0, dummy;
    void (*const fr[1])(void *) = {run_f32_ref};
    void (*const fqr[1])(void *) = {run_s8_ref};
    if (with_ref) time_interleaved(ref_runs, 1, fr, &r, &tfr, &dummy);
    if (with_ref && with_s8) time_interleaved(ref_runs, 1, fqr, &r, &tqr, &dummy);
    char a[32], b[32], c[32];
    snprintf(a, sizeof a, "%.1f (%.1f)", best[0] * 1e6, med[0] * 1e6);
    snprintf(b, sizeof b, "%.1f (%.1f)", best[1] * 1e6, med[1] * 1e6);
    snprintf(c, sizeof c, "%.1f (%.1f)", tq * 1e6, tqm * 1e6);
    printf("%-38s %15s %15s %7.1f %5.0f%% %4.2fx %9.1f |%15s %9.1f %7.1f %5.0f%%\n", sh->name, a,
           b, flops / best[0] / 1e9, 100.0 * flops / best[0] / 1e9 / (pf * threads),
           best[1] / best[0], tfr * 1e6, c, tqr * 1e6, tq > 0 ? flops / tq / 1e9 : 0,
           tq > 0 && pq > 0 ? 100.0 * flops / tq / 1e9 / (pq * threads) : 0);
    fflush(stdout);
    free(fin); free(fw); free(fb); free(fout); free(qin); free(qw); free(qout); free(qb);
    free(mult); free(shift); free(packed); free(pkbuf); free(r.scratch); free(r.im2col);
  }
  tc_threadpool_destroy(pool);
  return 0;
}
