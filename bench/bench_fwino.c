/* bench_fwino.c: micro-benchmark of the float32 Winograd F(2x2, 3x3) convolution
 * (kernels/fwino.h) against the direct path (kernels/conv_f32.h) on the 3x3 stride-1 layer
 * shapes of the benchmark models, interleaved run by run so both see the same load. Prints the
 * fastest and the median time of each path, GFLOP/s-equivalent (2 * 9 * in_c multiply-adds per
 * output, as the direct convolution) at the fastest, and the largest error of each path
 * against tc_f32_conv2d__ref relative to the sum of |products|. Never a test.
 *   bench_fwino [--threads N] [--runs N] [--cpu-time] [--shape TEXT] [--wino-only]
 * (--wino-only skips the direct path's runs, for profiling the Winograd path alone)
 * Build: cmake --build B --target bench_fwino */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/threadpool.h"
#include "kernels/conv_f32.h"
#include "kernels/fwino.h"
#include "kernels/ref/conv2d.h"
#include "kernels/select.h"

static int g_cpu_time;
static double now(void) {
  struct timespec ts;
  clock_gettime(g_cpu_time ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static int cmp_d(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

typedef struct shape {
  const char *name;
  int h, w, c, oc, same;
} shape;

static const shape g_shapes[] = {
    {"ResNet8 32x32 16->16", 32, 32, 16, 16, 1},
    {"ResNet8 16x16 32->32", 16, 16, 32, 32, 1},
    {"ResNet8 8x8 64->64", 8, 8, 64, 64, 1},
    {"32x32 8->8", 32, 32, 8, 8, 1},
    {"32x32 8->16", 32, 32, 8, 16, 1},
    {"32x32 16->8", 32, 32, 16, 8, 1},
    {"16x16 12->12", 16, 16, 12, 12, 1},
    {"16x16 4->16", 16, 16, 4, 16, 1},
    {"28x28 32->64 VALID", 28, 28, 32, 64, 0},
    {"14x14 128->128", 14, 14, 128, 128, 1},
};

static float rnd_f(void) { return (float)(rand() % 20001 - 10000) / 10000.0f; }

int main(int argc, char **argv) {
  int threads = 1, runs = 200, wino_only = 0;
  const char *filter = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--cpu-time")) g_cpu_time = 1;
    else if (!strcmp(argv[i], "--wino-only")) wino_only = 1;
    else if (!strcmp(argv[i], "--shape") && i + 1 < argc) filter = argv[++i];
    else {
      fprintf(stderr, "usage: bench_fwino [--threads N] [--runs N] [--cpu-time] [--shape TEXT] "
                      "[--wino-only]\n");
      return 2;
    }
  }
  tc_threadpool *pool = threads > 1 ? tc_threadpool_create(threads) : NULL;
  tc_f32_gemm_kernel *kr = tc_f32_gemm_default_kernel();
  printf("kernel %s, %d thread(s), %d runs%s\n", kr->name, threads, runs,
         g_cpu_time ? ", thread CPU time" : "");
  printf("%-24s %9s %9s %7s %9s %9s %7s %7s %9s %9s\n", "layer", "dir min", "dir med", "GF/s",
         "wino min", "wino med", "GF/s", "speed", "dir err", "wino err");
  for (size_t si = 0; si < sizeof g_shapes / sizeof g_shapes[0]; si++) {
    const shape *s = &g_shapes[si];
    if (filter && !strstr(s->name, filter)) continue;
    tc_conv2d_params p = {1, s->h, s->w, s->c, s->same ? s->h : s->h - 2,
                          s->same ? s->w : s->w - 2, s->oc, 3, 3, s->c, 1, 1, 1, 1,
                          s->same ? 1 : 0, s->same ? 1 : 0, 0.0f, INFINITY};
    const size_t ni = (size_t)s->h * s->w * s->c, nw = (size_t)s->oc * 9 * s->c;
    const size_t no = (size_t)p.out_h * p.out_w * s->oc, k = 9 * (size_t)s->c;
    float *in = malloc(ni * 4), *w = malloc(nw * 4), *bias = malloc((size_t)s->oc * 4);
    float *ain = malloc(ni * 4), *aw = malloc(nw * 4), *scale = malloc(no * 4);
    float *ref = malloc(no * 4), *o1 = malloc(no * 4), *o2 = malloc(no * 4);
    for (size_t e = 0; e < ni; e++) ain[e] = fabsf(in[e] = rnd_f());
    for (size_t e = 0; e < nw; e++) aw[e] = fabsf(w[e] = rnd_f() * 0.2f);
    for (int j = 0; j < s->oc; j++) bias[j] = rnd_f() * 0.1f;
    tc_conv2d_params pr = p;
    pr.act_min = -INFINITY;
    tc_f32_conv2d__ref(&pr, in, w, bias, ref);
    tc_f32_conv2d__ref(&pr, ain, aw, NULL, scale);
    float *packed = aligned_alloc(64, (tc_f32_gemm_packed_b_size(kr, s->oc, (int32_t)k) + 63) / 64 * 64);
    tc_f32_gemm_pack_b(kr, s->oc, (int32_t)k, w, k, TC_GEMM_B_NK, packed);
    void *scr1 = malloc(tc_f32_conv2d_gemm_scratch_size(kr, &p, threads) + 64);
    void *wbuf = malloc(tc_f32_wino_packed_size(kr, &p));
    const tc_f32_wino_packed *pk = tc_f32_wino_pack(kr, tc_kernels()->features, &p, w, wbuf);
    void *scr2 = malloc(tc_f32_wino_scratch_size(pk, threads));
    double *t1 = malloc((size_t)runs * sizeof(double)), *t2 = malloc((size_t)runs * sizeof(double));
    for (int r = -5; r < runs; r++) {
      double t = now();
      if (!wino_only || r < 0) tc_f32_conv2d_gemm(kr, pool, &pr, in, packed, bias, o1, scr1);
      double m = now();
      tc_f32_wino_conv2d(pk, pool, &pr, in, bias, o2, scr2);
      double e = now();
      if (r >= 0) {
        t1[r] = m - t;
        t2[r] = e - m;
      }
    }
    double err1 = 0, err2 = 0;
    for (size_t e = 0; e < no; e++) {
      const double sc = scale[e] + fabs(bias[e % (size_t)s->oc]) + 1e-30;
      err1 = fmax(err1, fabs((double)o1[e] - ref[e]) / sc);
      err2 = fmax(err2, fabs((double)o2[e] - ref[e]) / sc);
    }
    qsort(t1, (size_t)runs, sizeof(double), cmp_d);
    qsort(t2, (size_t)runs, sizeof(double), cmp_d);
    const double flop = 2.0 * (double)no * (double)k;
    printf("%-24s %9.1f %9.1f %7.1f %9.1f %9.1f %7.1f %7.2f %9.2e %9.2e\n", s->name, t1[0] * 1e6,
           t1[runs / 2] * 1e6, flop / t1[0] / 1e9, t2[0] * 1e6, t2[runs / 2] * 1e6,
           flop / t2[0] / 1e9, t1[0] / t2[0], err1, err2);
    free(in); free(w); free(bias); free(ain); free(aw); free(scale); free(ref); free(o1);
    free(o2); free(packed); free(scr1); free(wbuf); free(scr2); free(t1); free(t2);
  }
  tc_threadpool_destroy(pool);
  return 0;
}
