/* bench_fwino.c: micro-benchmark of the float32 Winograd F(2x2, 3x3) and F(4x4, 3x3)
 * convolution (kernels/fwino.h) against the direct path (kernels/conv_f32.h) on 3x3 stride-1
 * layer shapes (the benchmark models' and others), interleaved run by run so all see the same
 * load. Prints the fastest and the median time of each path, GFLOP/s-equivalent (2 * 9 * in_c
 * multiply-adds per output, as the direct convolution) at the fastest, the speed-up of the
 * fastest times, the tile tc_f32_wino_tile picks, and the largest error of each path against
 * tc_f32_conv2d__ref relative to the sum of |products|. Never a test.
 *   bench_fwino [--threads N] [--runs N] [--cpu-time] [--shape TEXT] [--only dir|w2|w4]
 * (--only times one path alone, for profiling it; the others then run once, for the errors)
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
#include "bench_clock.h"


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
    {"13x13 16->16", 13, 13, 16, 16, 1},
    {"6x6 64->64", 6, 6, 64, 64, 1},
    {"4x4 128->128", 4, 4, 128, 128, 1},
    {"32x32 17->20", 32, 32, 17, 20, 1},
    {"14x14 128->128", 14, 14, 128, 128, 1},
};

static float rnd_f(void) { return (float)(rand() % 20001 - 10000) / 10000.0f; }

int main(int argc, char **argv) {
  int threads = 1, runs = 200, only = -1;
  const char *filter = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--cpu-time")) bench_cpu_time = 1;
    else if (!strcmp(argv[i], "--only") && i + 1 < argc) {
      const char *w = argv[++i];
      only = !strcmp(w, "dir") ? 0 : !strcmp(w, "w2") ? 1 : !strcmp(w, "w4") ? 2 : -2;
      if (only == -2) {
        fprintf(stderr, "bench_fwino: --only takes dir, w2 or w4\n");
        return 2;
      }
    }
    else if (!strcmp(argv[i], "--shape") && i + 1 < argc) filter = argv[++i];
    else {
      fprintf(stderr, "usage: bench_fwino [--threads N] [--runs N] [--cpu-time] [--shape TEXT] "
                      "[--only dir|w2|w4]\n");
      return 2;
    }
  }
  tc_threadpool *pool = threads > 1 ? tc_threadpool_create(threads) : NULL;
  tc_f32_gemm_kernel *kr = tc_f32_gemm_default_kernel();
  printf("kernel %s, %d thread(s), %d runs%s\n", kr->name, threads, runs,
         bench_cpu_time ? ", thread CPU time" : "");
  printf("%-22s %7s %7s %6s | %7s %7s %6s %5s | %7s %7s %6s %5s | %4s %8s %8s %8s\n", "layer",
         "dir min", "med", "GF/s", "w2 min", "med", "GF/s", "x", "w4 min", "med", "GF/s", "x",
         "pick", "dir err", "w2 err", "w4 err");
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
    float *ref = malloc(no * 4), *o1 = malloc(no * 4), *ow[2] = {malloc(no * 4), malloc(no * 4)};
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
    void *wbuf[2], *scr[2];
    const tc_f32_wino_packed *pk[2];
    double *t[3];
    for (int i = 0; i < 2; i++) {
      wbuf[i] = malloc(tc_f32_wino_packed_size(kr, 2 + 2 * i, &p));
      pk[i] = tc_f32_wino_pack(kr, tc_kernels()->f32_wino, 2 + 2 * i, &p, w, wbuf[i]);
      scr[i] = malloc(tc_f32_wino_scratch_size(pk[i], threads));
    }
    for (int i = 0; i < 3; i++) t[i] = malloc((size_t)runs * sizeof(double));
    for (int r = -5; r < runs; r++) {
      const double ta = bench_now();
      const int all = only < 0 || r < 0;
      if (all || only == 0) tc_f32_conv2d_gemm(kr, pool, &pr, in, packed, bias, o1, scr1);
      const double tb = bench_now();
      if (all || only == 1) tc_f32_wino_conv2d(pk[0], pool, &pr, in, bias, ow[0], scr[0]);
      const double tc = bench_now();
      if (all || only == 2) tc_f32_wino_conv2d(pk[1], pool, &pr, in, bias, ow[1], scr[1]);
      const double td = bench_now();
      if (r >= 0) {
        t[0][r] = tb - ta;
        t[1][r] = tc - tb;
        t[2][r] = td - tc;
      }
    }
    double err[3] = {0, 0, 0};
    for (size_t e = 0; e < no; e++) {
      const double sc = scale[e] + fabs(bias[e % (size_t)s->oc]) + 1e-30;
      err[0] = fmax(err[0], fabs((double)o1[e] - ref[e]) / sc);
      err[1] = fmax(err[1], fabs((double)ow[0][e] - ref[e]) / sc);
      err[2] = fmax(err[2], fabs((double)ow[1][e] - ref[e]) / sc);
    }
    for (int i = 0; i < 3; i++) qsort(t[i], (size_t)runs, sizeof(double), bench_cmp_d);
    const double flop = 2.0 * (double)no * (double)k;
    printf("%-22s %7.1f %7.1f %6.1f | %7.1f %7.1f %6.1f %5.2f | %7.1f %7.1f %6.1f %5.2f | %4d "
           "%8.1e %8.1e %8.1e\n", s->name, t[0][0] * 1e6, t[0][runs / 2] * 1e6,
           flop / t[0][0] / 1e9, t[1][0] * 1e6, t[1][runs / 2] * 1e6, flop / t[1][0] / 1e9,
           t[0][0] / t[1][0], t[2][0] * 1e6, t[2][runs / 2] * 1e6, flop / t[2][0] / 1e9,
           t[0][0] / t[2][0], tc_f32_wino_tile(kr, &p), err[0], err[1], err[2]);
    free(in); free(w); free(bias); free(ain); free(aw); free(scale); free(ref); free(o1);
    free(packed); free(scr1);
    for (int i = 0; i < 2; i++) { free(ow[i]); free(wbuf[i]); free(scr[i]); }
    for (int i = 0; i < 3; i++) free(t[i]);
  }
  tc_threadpool_destroy(pool);
  return 0;
}
