/* bench_gemm.c: throughput of every float32 GEMM variant this CPU runs (kernels.def), on square
 * shapes, the FC shape XNNPACK was measured on in ../shared/TOOLCHAINS.md, the 1x1 convolutions
 * of MobileNet V1 0.25 and V2 1.0 (M = H*W, K = in channels, N = out channels) and the MNIST MLP
 * (forward and the weight-gradient product of training), with 1 and 2 threads. Each line gives
 * GFLOP/s (2*M*N*K per call; the fastest of 7 samples, since other load only slows a run down,
 * and the median in parentheses) and the percentage of this machine's peak for
 * the variant's ISA, measured first with an FMA loop of 12 independent accumulators (the method
 * of TOOLCHAINS.md). Never run as a test: timings depend on machine load.
 *   bench_gemm [--quick] [--ref] [--cpu-time] [--only VARIANT] [--shape TEXT]
 * --ref also times the portable variant; --shape keeps the shapes whose group or name contains TEXT;
 * --cpu-time times 1-thread runs by thread CPU time (2-thread runs stay on wall time). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/threadpool.h"
#include "kernels/gemm.h"
#include "kernels/select.h"
#include "bench_clock.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* --cpu-time: single-thread timings (and the peak) count this thread's CPU time instead of wall
 * time, so time the thread spent descheduled on a shared machine is not counted. */

/* ---- peak FLOP rate per ISA ------------------------------------------------------------------
 * 12 independent FMA chains: enough to cover latency x ports on current x86 cores. */
#if defined(__x86_64__) && defined(__GNUC__)
static volatile float g_sink;

__attribute__((target("avx2,fma"))) static double peak_avx2(long iters) {
  __m256 acc[12], x = _mm256_set1_ps(0.999999f), y = _mm256_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps((float)i);
  double t0 = bench_now();
  for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) acc[i] = _mm256_fmadd_ps(acc[i], x, y);
  }
  double t = bench_now() - t0;
  float s = 0;
  for (int i = 0; i < 12; i++) s += _mm256_cvtss_f32(acc[i]);
  g_sink = s;
  return (double)iters * 12 * 8 * 2 / t * 1e-9;
}

__attribute__((target("avx512f"))) static double peak_avx512(long iters) {
  __m512 acc[12], x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (int i = 0; i < 12; i++) acc[i] = _mm512_set1_ps((float)i);
  double t0 = bench_now();
  for (long it = 0; it < iters; it++) {
#pragma GCC unroll 12
    for (int i = 0; i < 12; i++) acc[i] = _mm512_fmadd_ps(acc[i], x, y);
  }
  double t = bench_now() - t0;
  float s = 0;
  for (int i = 0; i < 12; i++) s += _mm512_cvtss_f32(acc[i]);
  g_sink = s;
  return (double)iters * 12 * 16 * 2 / t * 1e-9;
}
/* Best of 5 runs of ~0.1 s: the peak is a ceiling, so noise only lowers it. */
static double measure_peak(double (*fn)(long)) {
  double best = 0;
  fn(1000000);
  for (int r = 0; r < 5; r++) {
    double g = fn(5000000);
    if (g > best) best = g;
  }
  return best;
}
#endif

/* ---- shapes ---------------------------------------------------------------------------------- */

typedef struct shape {
  const char *group, *name;
  int m, n, k;
} shape;

static const shape g_shapes[] = {
    {"square", "64^3", 64, 64, 64},
    {"square", "128^3", 128, 128, 128},
    {"square", "256^3", 256, 256, 256},
    {"square", "512^3", 512, 512, 512},
    {"square", "1024^3", 1024, 1024, 1024},
    {"fc", "FC 256x512x512", 256, 512, 512},
    /* MobileNet V1 0.25 at 224x224: the pointwise (1x1) convolutions */
    {"mbv1_0.25", "112x112 8->16", 12544, 16, 8},
    {"mbv1_0.25", "stem as GEMM 12544x8x27", 12544, 8, 27},
    {"mbv1_0.25", "stem transposed 8x12544x27", 8, 12544, 27},
    {"mbv1_0.25", "L2-sized 1568x16x8", 1568, 16, 8},
    {"mbv1_0.25", "56x56 16->32", 3136, 32, 16},
    {"mbv1_0.25", "56x56 32->32", 3136, 32, 32},
    {"mbv1_0.25", "28x28 32->64", 784, 64, 32},
    {"mbv1_0.25", "28x28 64->64", 784, 64, 64},
    {"mbv1_0.25", "14x14 64->128", 196, 128, 64},
    {"mbv1_0.25", "14x14 128->128", 196, 128, 128},
    {"mbv1_0.25", "7x7 128->256", 49, 256, 128},
    {"mbv1_0.25", "7x7 256->256", 49, 256, 256},
    /* MobileNet V2 1.0 at 224x224: some expand/project 1x1 convolutions */
    {"mbv2_1.0", "112x112 16->96", 12544, 96, 16},
    {"mbv2_1.0", "56x56 144->24", 3136, 24, 144},
    {"mbv2_1.0", "28x28 32->192", 784, 192, 32},
    {"mbv2_1.0", "14x14 384->64", 196, 64, 384},
    {"mbv2_1.0", "7x7 960->160", 49, 160, 960},
    {"mbv2_1.0", "7x7 320->1280", 49, 1280, 320},
    /* MNIST MLP 784-128-10: inference (batch 1), training batch 64 forward and dW = X^T dY */
    {"mnist", "b1 784->128", 1, 128, 784},
    {"mnist", "b1 128->10", 1, 10, 128},
    {"mnist", "b64 784->128", 64, 128, 784},
    {"mnist", "b64 128->10", 64, 10, 128},
    {"mnist", "dW 784x128 (K=64)", 784, 128, 64},
};

static void fill(float *x, size_t n, unsigned seed) {
  unsigned s = seed * 2654435761u + 1u;
  for (size_t i = 0; i < n; i++) {
    s = s * 1664525u + 1013904223u;
    x[i] = (float)((s >> 8) & 0xffff) / 32768.0f - 1.0f;
  }
}

/* GFLOP/s of the fastest and of the median of 7 samples; each sample repeats the call for
 * about budget_s / 7. */
static double time_gemm(tc_f32_gemm_kernel *kr, tc_threadpool *pool, const shape *s,
                        const float *a, const float *pb, const float *bias, float *c,
                        double budget_s, double *median) {
  const double flops = 2.0 * s->m * s->n * s->k;
  tc_f32_gemm(kr, pool, s->m, s->n, s->k, a, (size_t)s->k, pb, bias, 0.0f, 6.0f, c, (size_t)s->n);
  double t0 = bench_now();
  tc_f32_gemm(kr, pool, s->m, s->n, s->k, a, (size_t)s->k, pb, bias, 0.0f, 6.0f, c, (size_t)s->n);
  double one = bench_now() - t0;
  long reps = (long)(budget_s / 7 / (one > 1e-7 ? one : 1e-7));
  if (reps < 1) reps = 1;
  double samples[7];
  for (int r = 0; r < 7; r++) {
    t0 = bench_now();
    for (long i = 0; i < reps; i++)
      tc_f32_gemm(kr, pool, s->m, s->n, s->k, a, (size_t)s->k, pb, bias, 0.0f, 6.0f, c,
                  (size_t)s->n);
    samples[r] = (bench_now() - t0) / (double)reps;
  }
  for (int i = 1; i < 7; i++) /* insertion sort */
    for (int j = i; j > 0 && samples[j] < samples[j - 1]; j--) {
      double t = samples[j];
      samples[j] = samples[j - 1];
      samples[j - 1] = t;
    }
  *median = flops / samples[3] * 1e-9;
  return flops / samples[0] * 1e-9;
}

int main(int argc, char **argv) {
  int quick = 0, with_ref = 0, cpu_time = 0;
  const char *only = NULL, *shape_filter = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--quick"))
      quick = 1;
    else if (!strcmp(argv[i], "--ref"))
      with_ref = 1;
    else if (!strcmp(argv[i], "--cpu-time"))
      cpu_time = 1;
    else if (!strcmp(argv[i], "--only") && i + 1 < argc)
      only = argv[++i];
    else if (!strcmp(argv[i], "--shape") && i + 1 < argc)
      shape_filter = argv[++i];
    else {
      fprintf(stderr, "usage: bench_gemm [--quick] [--ref] [--cpu-time] [--only VARIANT] [--shape TEXT]\n");
      return 2;
    }
  }
  char feat[256];
  printf("cpu features: %s\n", tc_cpu_feature_string(tc_cpu_features(), feat, sizeof feat));
  double peak_avx2_1 = 0, peak_avx512_1 = 0;
  bench_cpu_time = cpu_time;
#if defined(__x86_64__) && defined(__GNUC__)
  if ((tc_cpu_features() & TC_CPU_AVX2_FMA) == TC_CPU_AVX2_FMA) peak_avx2_1 = measure_peak(peak_avx2);
  if (tc_cpu_features() & TC_CPU_AVX512F) peak_avx512_1 = measure_peak(peak_avx512);
#endif
  printf("measured 1-core FMA peak: avx2 %.1f GFLOP/s, avx512 %.1f GFLOP/s (%s; TOOLCHAINS.md, "
         "Sapphire Rapids: avx2 115-130, avx512 220-239)\n",
         peak_avx2_1, peak_avx512_1, cpu_time ? "thread CPU time" : "wall time");

  tc_threadpool *pool2 = tc_threadpool_create(2);
  size_t n_var;
  const tc_kernel_variant *vars = tc_kernel_variants(&n_var);
  printf("\n| shape | M x N x K | variant | 1T GFLOP/s | %% peak | 2T GFLOP/s | %% peak (2 cores) | "
         "2T/1T |\n|---|---|---|---|---|---|---|---|\n");
  for (size_t si = 0; si < sizeof g_shapes / sizeof g_shapes[0]; si++) {
    const shape *s = &g_shapes[si];
    if (quick && s->m * (double)s->n * s->k > 3e7 && strcmp(s->name, "512^3") != 0) continue;
    if (shape_filter && !strstr(s->name, shape_filter) && !strstr(s->group, shape_filter)) continue;
    float *a = malloc((size_t)s->m * s->k * 4), *b = malloc((size_t)s->n * s->k * 4);
    float *bias = malloc((size_t)s->n * 4), *c = malloc((size_t)s->m * s->n * 4);
    fill(a, (size_t)s->m * s->k, 1);
    fill(b, (size_t)s->n * s->k, 2);
    fill(bias, (size_t)s->n, 3);
    for (size_t vi = 0; vi < n_var; vi++) {
      const tc_kernel_variant *v = &vars[vi];
      if (strcmp(v->op, "gemm") || strcmp(v->dtype, "f32") || !tc_kernel_variant_supported(v))
        continue;
      tc_f32_gemm_kernel *kr = v->impl;
      if (only && strcmp(only, kr->name)) continue;
      if (!only && !with_ref && !strcmp(v->isa, "ref")) continue;
      float *pb = aligned_alloc(64, (tc_f32_gemm_packed_b_size(kr, s->n, s->k) + 127) / 64 * 64);
      tc_f32_gemm_pack_b(kr, s->n, s->k, b, (size_t)s->k, TC_GEMM_B_NK, pb);
      const double budget = quick ? 0.1 : 0.3;
      double med1, med2;
      bench_cpu_time = cpu_time;
      double g1 = time_gemm(kr, NULL, s, a, pb, bias, c, budget, &med1);
      bench_cpu_time = 0;
      double g2 = time_gemm(kr, pool2, s, a, pb, bias, c, budget, &med2);
      double peak = !strcmp(v->isa, "avx512") ? peak_avx512_1 : !strcmp(v->isa, "avx2") ? peak_avx2_1 : 0;
      char p1[16] = "-", p2[16] = "-";
      if (peak > 0) {
        snprintf(p1, sizeof p1, "%.0f%%", 100 * g1 / peak);
        snprintf(p2, sizeof p2, "%.0f%%", 100 * g2 / (2 * peak));
      }
      printf("| %s %s | %dx%dx%d | %s | %.1f (%.1f) | %s | %.1f (%.1f) | %s | %.2f |\n", s->group,
             s->name, s->m, s->n, s->k, kr->name, g1, med1, p1, g2, med2, p2, g2 / g1);
      fflush(stdout);
      free(pb);
    }
    free(a);
    free(b);
    free(bias);
    free(c);
  }
  tc_threadpool_destroy(pool2);
  return 0;
}
