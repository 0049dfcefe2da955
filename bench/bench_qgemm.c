/* bench_qgemm.c: the 8-bit CONV_2D / FULLY_CONNECTED paths (kernels/qgemm.h, kernels/conv_x8.h)
 * on the int8/uint8 layer shapes of the benchmark models (ResNet8, VWW, KWS, MobileNet V2
 * quant), for every qgemm variant this CPU runs (n/a where a variant refuses the weights:
 * the pair_sat kernel with the int8 layers' full-range bytes). Prints the median time per layer, GOP/s
 * (multiply-add = 2) and % of the 1-core int8 peak of vpmaddwd + vpaddd (12 independent
 * chains, measured here; bench_isa lists the other instructions). MobileNet V2's expansion
 * layers (and its stem and last convolution) carry the model's RELU6 ("relu6" in the name:
 * the output stage clamps and skips its x < 0 term), the others the full output range (since
 * the eleventh session; before, every layer had the full range). Never a test.
 *   bench_qgemm [--runs N] [--threads N] [--filter SUBSTR] [--kernel NAME] [--all] [--min]
 *               [--no-peak] [--cpu-time] [--cold]
 * (--cold: 64 MiB written before each timed run, so weights and inputs come from memory, as for
 * a large layer inside a whole model; --min: the fastest run instead of the median, steadier on
 * a busy machine; --no-peak: skip the peak measurement, e.g. under perf record with many --runs;
 * --cpu-time: the thread's CPU time instead of wall time, for one thread)
 * (--all: also the portable ref_* microkernels, skipped by default because they are slow)
 * Build: cmake --build B --target bench_qgemm */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/threadpool.h"
#include "kernels/conv_x8.h"
#include "kernels/qgemm.h"
#include "kernels/qwino.h"
#include "kernels/select.h"
#include "bench_clock.h"


#if defined(__x86_64__)
/* vpmaddwd + vpaddd on 12 independent accumulators (asm, so nothing is spilled or folded). */
#define R12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define STEP(i) \
  "vpmaddwd %%ymm13, %%ymm" #i ", %%ymm15\n\tvpaddd %%ymm15, %%ymm" #i ", %%ymm" #i "\n\t"
__attribute__((target("avx2"), noinline)) static double peak_madd(void) {
  double best = 0;
  for (int rep = 0; rep < 3; rep++) {
    long n = 10000000;
    double t = bench_now();
    __asm__ volatile("vpcmpeqw %%ymm13, %%ymm13, %%ymm13\n\t"
                     "1:\n\t" R12(STEP) "dec %0\n\tjnz 1b\n\tvzeroupper"
                     : "+r"(n)
                     :
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
                       "xmm9", "xmm10", "xmm11", "xmm13", "xmm15", "cc");
    t = bench_now() - t;
    const double g = 1e7 * 12 * 32 / t / 1e9; /* 16 products per vpmaddwd */
    if (g > best) best = g;
  }
  return best;
}
#else
static double peak_madd(void) { return 0; }
#endif

typedef struct shape {
  const char *name;
  int h, w, ic, oc, kh, kw, s, same, u8;
  int relu6; /* uint8 layers only: the activation range starts at the output zero point, as in
              * MobileNetV2's expansions (the output stage then skips its x < 0 term) */
} shape;

/* Conv layers of the models (first occurrence of each shape), FC heads as 1x1 images. */
static const shape g_shapes[] = {
    {"resnet8 op0 32x32x3 3x3 ->16", 32, 32, 3, 16, 3, 3, 1, 1, 0},
    {"resnet8 op1 32x32x16 3x3 ->16", 32, 32, 16, 16, 3, 3, 1, 1, 0},
    {"resnet8 op4 32x32x16 3x3/2 ->32", 32, 32, 16, 32, 3, 3, 2, 1, 0},
    {"resnet8 op5 16x16x32 3x3 ->32", 16, 16, 32, 32, 3, 3, 1, 1, 0},
    {"resnet8 op6 32x32x16 1x1/2 ->32", 32, 32, 16, 32, 1, 1, 2, 1, 0},
    {"resnet8 op8 16x16x32 3x3/2 ->64", 16, 16, 32, 64, 3, 3, 2, 1, 0},
    {"resnet8 op9 8x8x64 3x3 ->64", 8, 8, 64, 64, 3, 3, 1, 1, 0},
    {"vww op0 96x96x3 3x3/2 ->8", 96, 96, 3, 8, 3, 3, 2, 1, 0},
    {"vww op2 48x48x8 1x1 ->16", 48, 48, 8, 16, 1, 1, 1, 1, 0},
    {"vww op4 24x24x16 1x1 ->32", 24, 24, 16, 32, 1, 1, 1, 1, 0},
    {"vww op6 24x24x32 1x1 ->32", 24, 24, 32, 32, 1, 1, 1, 1, 0},
    {"vww op10 12x12x64 1x1 ->64", 12, 12, 64, 64, 1, 1, 1, 1, 0},
    {"vww op14 6x6x128 1x1 ->128", 6, 6, 128, 128, 1, 1, 1, 1, 0},
    {"vww op26 3x3x256 1x1 ->256", 3, 3, 256, 256, 1, 1, 1, 1, 0},
    {"kws op0 49x10x1 10x4/2 ->64", 49, 10, 1, 64, 10, 4, 2, 1, 0},
    {"kws op2 25x5x64 1x1 ->64", 25, 5, 64, 64, 1, 1, 1, 1, 0},
    {"kws FC 64 ->12", 1, 1, 64, 12, 1, 1, 1, 1, 0},
    {"mnv2 op0 224x224x3 3x3/2 ->32 u8 relu6", 224, 224, 3, 32, 3, 3, 2, 1, 1, 1},
    {"mnv2 op2 112x112x32 1x1 ->16 u8", 112, 112, 32, 16, 1, 1, 1, 1, 1},
    {"mnv2 op3 112x112x16 1x1 ->96 u8 relu6", 112, 112, 16, 96, 1, 1, 1, 1, 1, 1},
    {"mnv2 op5 56x56x96 1x1 ->24 u8", 56, 56, 96, 24, 1, 1, 1, 1, 1},
    {"mnv2 op6 56x56x24 1x1 ->144 u8 relu6", 56, 56, 24, 144, 1, 1, 1, 1, 1, 1},
    {"mnv2 op8 56x56x144 1x1 ->24 u8", 56, 56, 144, 24, 1, 1, 1, 1, 1},
    {"mnv2 28x28x32 1x1 ->192 u8 relu6", 28, 28, 32, 192, 1, 1, 1, 1, 1, 1},
    {"mnv2 28x28x192 1x1 ->32 u8", 28, 28, 192, 32, 1, 1, 1, 1, 1},
    {"mnv2 14x14x64 1x1 ->384 u8 relu6", 14, 14, 64, 384, 1, 1, 1, 1, 1, 1},
    {"mnv2 14x14x384 1x1 ->64 u8", 14, 14, 384, 64, 1, 1, 1, 1, 1},
    {"mnv2 14x14x576 1x1 ->96 u8", 14, 14, 576, 96, 1, 1, 1, 1, 1},
    {"mnv2 7x7x160 1x1 ->960 u8 relu6", 7, 7, 160, 960, 1, 1, 1, 1, 1, 1},
    {"mnv2 7x7x960 1x1 ->160 u8", 7, 7, 960, 160, 1, 1, 1, 1, 1},
    {"mnv2 7x7x320 1x1 ->1280 u8 relu6", 7, 7, 320, 1280, 1, 1, 1, 1, 1, 1},
    {"mnv2 1x1x1280 1x1 ->1001 u8 (GEMV)", 1, 1, 1280, 1001, 1, 1, 1, 1, 1},
};

typedef struct run_ctx {
  tc_conv2d_params p;
  tc_threadpool *pool;
  const uint8_t *in;
  const tc_qgemm_packed *pk;
  const tc_qwino_packed *wk; /* set: time the Winograd path instead */
  uint8_t *out;
  void *scratch;
  int u8;
} run_ctx;

static void run_conv(run_ctx *r) {
  if (r->wk) {
    tc_qwino_conv2d(r->wk, r->pool, &r->p, r->in, r->u8, r->u8 ? 120 : -5, r->out, r->scratch);
    return;
  }
  tc_x8_conv2d(r->pk, r->pool, &r->p, r->in, r->u8, r->u8 ? 120 : -5, r->out, r->scratch);
}

static int g_min;
static unsigned char *g_evict; /* --cold: written before each run, so its data comes from DRAM */
enum { EVICT_BYTES = 64 << 20 };

static double time_median(int runs, run_ctx *r) {
  if (runs < 1) runs = 1;
  double *t = malloc((size_t)runs * sizeof *t);
  run_conv(r);
  for (int i = 0; i < runs; i++) {
    if (g_evict)
      for (size_t o = 0; o < EVICT_BYTES; o += 64) g_evict[o] = (unsigned char)(g_evict[o] + i);
    double t0 = bench_now();
    run_conv(r);
    t[i] = bench_now() - t0;
  }
  qsort(t, (size_t)runs, sizeof *t, bench_cmp_d);
  const double res = g_min ? t[0] : t[runs / 2];
  free(t);
  return res;
}

static void make_params(const shape *sh, tc_conv2d_params *p) {
  memset(p, 0, sizeof *p);
  p->batch = 1; p->in_h = sh->h; p->in_w = sh->w; p->in_c = sh->ic; p->filter_c = sh->ic;
  p->out_c = sh->oc; p->k_h = sh->kh; p->k_w = sh->kw; p->stride_h = p->stride_w = sh->s;
  p->dilation_h = p->dilation_w = 1;
  p->out_h = (sh->h + sh->s - 1) / sh->s;
  p->out_w = (sh->w + sh->s - 1) / sh->s;
  const int ph = (p->out_h - 1) * sh->s + sh->kh - sh->h;
  const int pw = (p->out_w - 1) * sh->s + sh->kw - sh->w;
  p->pad_top = ph > 0 ? ph / 2 : 0;
  p->pad_left = pw > 0 ? pw / 2 : 0;
}

int main(int argc, char **argv) {
  int threads = 1, runs = 51;
  const char *filter = NULL, *kname = NULL;
  int all = 0, no_peak = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--filter") && i + 1 < argc) filter = argv[++i];
    else if (!strcmp(argv[i], "--kernel") && i + 1 < argc) kname = argv[++i];
    else if (!strcmp(argv[i], "--all")) all = 1;
    else if (!strcmp(argv[i], "--min")) g_min = 1;
    else if (!strcmp(argv[i], "--no-peak")) no_peak = 1;
    else if (!strcmp(argv[i], "--cpu-time")) bench_cpu_time = 1;
    else if (!strcmp(argv[i], "--cold")) g_evict = calloc(EVICT_BYTES, 1);
  }
  size_t nv;
  const tc_kernel_variant *v = tc_kernel_variants(&nv);
  tc_s8_qgemm_kernel *kernels[8];
  size_t nk = 0;
  for (size_t i = 0; i < nv && nk < 8; i++) {
    if (strcmp(v[i].op, "qgemm") || !tc_kernel_variant_supported(&v[i])) continue;
    tc_s8_qgemm_kernel *kr = v[i].impl;
    if (kname ? strcmp(kr->name, kname) != 0 : !all && !strncmp(kr->name, "ref", 3)) continue;
    kernels[nk++] = kr;
  }
  const double peak = no_peak ? 135.0 : peak_madd();
  printf("1-core int8 peak (vpmaddwd + vpaddd): %.1f GOP/s%s; threads %d, %s of %d runs%s\n",
         peak, no_peak ? " (assumed)" : "", threads, g_min ? "fastest" : "median", runs,
         g_evict ? ", caches evicted before each run (--cold)" : "");
  printf("%-38s", "layer");
  for (size_t k = 0; k < nk; k++) printf(" | %-12s %7s %5s", kernels[k]->name, "GOP/s", "%pk");
  printf("\n");
  tc_threadpool *pool = threads > 1 ? tc_threadpool_create(threads) : NULL;
  for (size_t si = 0; si < sizeof g_shapes / sizeof *g_shapes; si++) {
    const shape *sh = &g_shapes[si];
    if (filter && !strstr(sh->name, filter)) continue;
    run_ctx r;
    memset(&r, 0, sizeof r);
    make_params(sh, &r.p);
    const tc_conv2d_params *p = &r.p;
    const size_t k = (size_t)sh->kh * sh->kw * sh->ic, nin = (size_t)sh->h * sh->w * sh->ic;
    const size_t nout = (size_t)p->out_h * p->out_w * sh->oc;
    const double ops = 2.0 * (double)p->out_h * p->out_w * sh->oc * (double)k;
    uint8_t *in = malloc(nin), *w = malloc(k * sh->oc), *out = malloc(nout);
    int32_t *bias = malloc(sh->oc * 4), *mult = malloc(sh->oc * 4), *shift = malloc(sh->oc * 4);
    for (size_t i = 0; i < nin; i++) in[i] = (uint8_t)(i * 7 + (i >> 5));
    for (size_t i = 0; i < k * sh->oc; i++) {
      w[i] = (uint8_t)(i * 5 + (i >> 7));
      if (!sh->u8 && w[i] == 0x80) w[i] = 0x81; /* int8 weights in [-127, 127] (TFLite spec) */
      /* uint8 weights centred on 128 within +-30, like MobileNet V2's (the pair_sat kernel
       * takes them; full-range bytes would need a correction for most pairs) */
      if (sh->u8) w[i] = (uint8_t)(98 + (i * 5 + (i >> 7)) % 61);
    }
    for (int j = 0; j < sh->oc; j++) { /* per channel for int8, per tensor for uint8 (as the
                                        * models: MobileNet V2 quant has one scale per tensor) */
      bias[j] = j * 10 - 300;
      mult[j] = sh->u8 ? 1234567890 : 1234567890 + j;
      shift[j] = sh->u8 ? -8 : -9 + j % 3;
    }
    r.u8 = sh->u8;
    r.in = in;
    r.out = out;
    r.pool = pool;
    printf("%-38s", sh->name);
    for (size_t kk = 0; kk < nk; kk++) {
      const int32_t n_seg = tc_x8_conv2d_n_seg(&r.p); /* as CONV_2D packs it */
      /* output zero point and activation range (RELU6: from the zero point) */
      const int32_t zo = sh->u8 ? 3 : -1;
      const int32_t act_lo = sh->u8 ? (sh->relu6 ? zo : 0) : -128;
      const int32_t act_hi = sh->u8 ? (sh->relu6 ? 203 : 255) : 127;
      tc_qgemm_weights qw = {w, k, sh->u8, sh->u8 ? -118 : 0, sh->u8 ? -120 : 5, bias, mult,
                             shift, zo, act_lo, act_hi, sh->u8, n_seg, r.p.out_h * r.p.out_w};
      void *buf = malloc(tc_qgemm_packed_size_seg(kernels[kk], sh->oc, (int32_t)k, n_seg));
      r.pk = tc_qgemm_pack(kernels[kk], sh->oc, (int32_t)k, &qw, buf);
      if (!r.pk) { printf(" | %-12s %7s %5s", kernels[kk]->name, "n/a", ""); free(buf); continue; }
      r.scratch = malloc(tc_x8_conv2d_scratch_size(r.pk, &r.p, r.u8, threads));
      const double t = time_median(runs, &r);
      printf(" | %8.1f us %7.1f %4.0f%%", t * 1e6, ops / t / 1e9,
             100.0 * ops / t / 1e9 / (peak * threads));
      free(r.scratch);
      free(buf);
      if (kernels[kk]->wino && tc_qwino_applicable(&r.p)) { /* Winograd, GOP/s of the direct sum */
        void *wbuf = malloc(tc_qwino_packed_size(&r.p));
        r.wk = tc_qwino_pack(kernels[kk], &r.p, &qw, wbuf);
        if (r.wk) {
          r.scratch = malloc(tc_qwino_scratch_size(r.wk, threads));
          const double tw = time_median(runs, &r);
          printf(" | wino %8.1f us %7.1f", tw * 1e6, ops / tw / 1e9);
          free(r.scratch);
        }
        r.wk = NULL;
        free(wbuf);
      }
    }
    printf("\n");
    free(in); free(w); free(out); free(bias); free(mult); free(shift);
  }
  tc_threadpool_destroy(pool);
  return 0;
}
