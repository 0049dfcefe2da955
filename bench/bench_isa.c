/* bench_isa.c: single-core throughput of the 8-bit multiply-add instructions an int8 GEMM can
 * be built from on this x86 core (AVX2: vpmaddwd, vpmaddubsw, and the helpers around them), to
 * know the int8 peak the qgemm kernels are measured against. Each loop runs 12 independent
 * accumulator chains, so latency is hidden and the number is issue throughput. Reports
 * instructions per ns and GOP/s counting a multiply-add as 2 ops (useful 8-bit products only:
 * vpmaddwd ymm = 16 products, vpmaddubsw ymm = 32). Where the CPU has them (tc_cpu_features),
 * it also measures the peaks the profiles are quoted against: fp32 FMA on ymm and zmm
 * (GFLOP/s, 2 per lane) and vpdpbusd on ymm (AVX-VNNI) and zmm (AVX-512 VNNI). Never a test.
 *   bench_isa [--iters N]   (N in millions of loop iterations, default 20) */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_clock.h"
#include "kernels/cpu.h"


#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>

static long g_iters = 20000000;
static volatile int g_sink;

/* The loop bodies are inline assembly on fixed registers: ymm0-ymm11 are the 12 accumulators
 * (independent chains), ymm12 = a, ymm13 = b, ymm14 = int16 ones, ymm15 a temporary. Written
 * in asm so the compiler cannot spill or fold anything: one iteration is exactly the listed
 * instructions 12 times plus the loop counter. */
#define R12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
/* One timed loop: TARGET for the compiler, `init` (INIT_T INIT_DATA) as operand %1 of the SETUP
 * asm that loads registers 12-14 and the 12 accumulators, then BODY iters times. Returns steps
 * (one BODY chain step) per ns. */
#define BENCH_LOOP(fname, TARGET, INIT_T, INIT_DATA, SETUP, BODY)                             \
  __attribute__((target(TARGET), noinline)) static double fname(void) {                      \
    const long iters = g_iters;                                                              \
    long n = iters;                                                                          \
    static const INIT_T init[] = INIT_DATA;                                                  \
    double t = bench_now();                                                                  \
    __asm__ volatile(SETUP "1:\n\t" BODY "dec %0\n\t"                                       \
                     "jnz 1b\n\t"                                                            \
                     "vzeroupper\n\t"                                                        \
                     : "+r"(n)                                                               \
                     : "m"(init)                                                             \
                     : "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",        \
                       "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", \
                       "cc");                                                                \
    t = bench_now() - t;                                                                     \
    return (double)iters * 12 / t / 1e9;                                                     \
  }
#define I16_DATA {3, -2, 5, 7, -9, 1, 2, 4, 3, -2, 5, 7, -9, 1, 2, 4, \
                  3, -2, 5, 7, -9, 1, 2, 4, 3, -2, 5, 7, -9, 1, 2, 4}
/* ymm: a = the int16 pattern, b = |a|, ymm14 = int16 ones, accumulators = a */
#define BENCH(fname, BODY)                                                                    \
  BENCH_LOOP(fname, "avx2", short, I16_DATA,                                                 \
             "vmovdqu %1, %%ymm12\n\tvpabsw %%ymm12, %%ymm13\n\t"                              \
             "vpcmpeqw %%ymm14, %%ymm14, %%ymm14\n\tvpsrlw $15, %%ymm14, %%ymm14\n\t"           \
             R12(INIT_ACC), BODY)
#define INIT_ACC(i) "vmovdqa %%ymm12, %%ymm" #i "\n\t"

/* acc += vpmaddwd(acc, b): the current qgemm inner operation. */
#define MADDWD_ADD(i) \
  "vpmaddwd %%ymm13, %%ymm" #i ", %%ymm15\n\tvpaddd %%ymm15, %%ymm" #i ", %%ymm" #i "\n\t"
BENCH(b_maddwd_add, R12(MADDWD_ADD))
/* vpmaddwd alone (each chain feeds itself). */
#define MADDWD(i) "vpmaddwd %%ymm13, %%ymm" #i ", %%ymm" #i "\n\t"
BENCH(b_maddwd, R12(MADDWD))
/* vpmaddubsw alone. */
#define MADDUBSW(i) "vpmaddubsw %%ymm13, %%ymm" #i ", %%ymm" #i "\n\t"
BENCH(b_maddubsw, R12(MADDUBSW))
/* vpmaddubsw -> vpmaddwd(ones) -> vpaddd: 32 8-bit products summed into int32. */
#define UBS_WD_ADD(i)                                                     \
  "vpmaddubsw %%ymm13, %%ymm" #i ", %%ymm15\n\t"                           \
  "vpmaddwd %%ymm14, %%ymm15, %%ymm15\n\tvpaddd %%ymm15, %%ymm" #i ", %%ymm" #i "\n\t"
BENCH(b_ubs_wd_add, R12(UBS_WD_ADD))
/* vpsignb(w, x) -> vpmaddubsw(|x|, .) -> vpmaddwd(ones) -> vpaddd (|x| packed beforehand). */
#define SIGN_UBS_WD_ADD(i)                                                \
  "vpsignb %%ymm" #i ", %%ymm13, %%ymm15\n\t"                             \
  "vpmaddubsw %%ymm15, %%ymm12, %%ymm15\n\t"                               \
  "vpmaddwd %%ymm14, %%ymm15, %%ymm15\n\tvpaddd %%ymm15, %%ymm" #i ", %%ymm" #i "\n\t"
BENCH(b_sign_ubs_wd_add, R12(SIGN_UBS_WD_ADD))
/* vpmaddubsw then the int16 pair sums widened with shifts (ALU pipes, no multiplier):
 * vpslld+vpsrad (low halves), vpsrad (high halves), two vpaddd. */
#define UBS_SHIFT_ADD(i)                                                  \
  "vpmaddubsw %%ymm13, %%ymm" #i ", %%ymm15\n\t"                           \
  "vpsrad $16, %%ymm15, %%ymm15\n\tvpaddd %%ymm15, %%ymm" #i ", %%ymm" #i "\n\t" \
  "vpslld $16, %%ymm13, %%ymm15\n\tvpsrad $16, %%ymm15, %%ymm15\n\t"      \
  "vpaddd %%ymm15, %%ymm" #i ", %%ymm" #i "\n\t"
BENCH(b_ubs_shift_add, R12(UBS_SHIFT_ADD))
/* Two vpmaddubsw summed in int16 then one vpmaddwd(ones): exact only for operands small
 * enough that four products fit int16 (e.g. 7-bit weights). */
#define UBS2_WD_ADD(i)                                                    \
  "vpmaddubsw %%ymm13, %%ymm" #i ", %%ymm15\n\t"                           \
  "vpaddw %%ymm13, %%ymm15, %%ymm15\n\t"                                   \
  "vpmaddubsw %%ymm12, %%ymm15, %%ymm15\n\t"                               \
  "vpmaddwd %%ymm14, %%ymm15, %%ymm15\n\tvpaddd %%ymm15, %%ymm" #i ", %%ymm" #i "\n\t"
BENCH(b_ubs2_wd_add, R12(UBS2_WD_ADD))
/* A tile step: vpbroadcastd from memory (L1) + vpmaddwd + vpaddd. */
#define BCAST_MADD(i)                                                     \
  "vpbroadcastd %1, %%ymm15\n\t"                                          \
  "vpmaddwd %%ymm13, %%ymm15, %%ymm15\n\tvpaddd %%ymm15, %%ymm" #i ", %%ymm" #i "\n\t"
BENCH(b_bcast_madd, R12(BCAST_MADD))
#define SIGN(i) "vpsignb %%ymm13, %%ymm" #i ", %%ymm" #i "\n\t"
BENCH(b_sign, R12(SIGN))
#define ADDD(i) "vpaddd %%ymm13, %%ymm" #i ", %%ymm" #i "\n\t"
BENCH(b_addd, R12(ADDD))
#define MULDQ(i) "vpmuldq %%ymm13, %%ymm" #i ", %%ymm" #i "\n\t"
BENCH(b_muldq, R12(MULDQ))
#define PMULLD(i) "vpmulld %%ymm13, %%ymm" #i ", %%ymm" #i "\n\t"
BENCH(b_mulld, R12(PMULLD))

/* AVX-VNNI vpdpbusd ymm (VEX): 32 u8 x s8 products summed into 8 int32 per instruction. */
#define DPB_Y(i) "%{vex%} vpdpbusd %%ymm13, %%ymm12, %%ymm" #i "\n\t"
BENCH(b_vnni_ymm, R12(DPB_Y))

/* The same on zmm registers (AVX-512 cores only). */
#define BENCH512(fname, BODY)                                                                 \
  BENCH_LOOP(fname, "avx512f,avx512bw", short, I16_DATA,                                     \
             "vmovdqu16 %1, %%zmm12\n\tvpabsw %%zmm12, %%zmm13\n\t" R12(INIT_ACC512), BODY)
#define INIT_ACC512(i) "vmovdqa64 %%zmm12, %%zmm" #i "\n\t"

/* fp32 FMA, acc += 1.0 * 1e-7 on 12 accumulators starting at 1.0: normal numbers throughout
 * (denormal operands take a slow microcode path on Intel cores). V is "y" or "z". */
#define BENCHF(fname, V, TARGET, INITS, BODY)                                                \
  BENCH_LOOP(fname, TARGET, float, F_DATA,                                                   \
             "vbroadcastss %1, %%" V "mm12\n\tvbroadcastss 4+%1, %%" V "mm13\n\t" INITS, BODY)
#define F_DATA {1.0f, 1e-7f}
#define INIT_Y(i) "vmovaps %%ymm12, %%ymm" #i "\n\t"
#define INIT_Z(i) "vmovaps %%zmm12, %%zmm" #i "\n\t"
#define FMA_Y(i) "vfmadd231ps %%ymm13, %%ymm12, %%ymm" #i "\n\t"
#define FMA_Z(i) "vfmadd231ps %%zmm13, %%zmm12, %%zmm" #i "\n\t"
BENCHF(b_fma_ymm, "y", "avx2,fma", R12(INIT_Y), R12(FMA_Y))
BENCHF(b_fma_zmm, "z", "avx512f", R12(INIT_Z), R12(FMA_Z))
#define DPB_Z(i) "vpdpbusd %%zmm13, %%zmm12, %%zmm" #i "\n\t"
BENCH512(b_vnni_zmm, R12(DPB_Z))

/* Scalar dependent multiply chain, 8 imuls per iteration at 3 cycles each (Intel since Nehalem,
 * AMD since Zen), so it gives the clock. (A chain of `add $1` does not: Golden Cove folds
 * immediate adds at rename and ran 8 "GHz" of them.) */
__attribute__((noinline)) static double clock_ghz(void) {
  long x = 3, n = g_iters, one = 1;
  double t = bench_now();
  __asm__ volatile("1:\n\timul %2, %0\n\timul %2, %0\n\timul %2, %0\n\timul %2, %0\n\t"
                   "imul %2, %0\n\timul %2, %0\n\timul %2, %0\n\timul %2, %0\n\tdec %1\n\tjnz 1b"
                   : "+r"(x), "+r"(n)
                   : "r"(one)
                   : "cc");
  t = bench_now() - t;
  g_sink = (int)x;
  return (double)g_iters * 8 * 3 / t / 1e9;
}

typedef struct row {
  const char *name;
  double (*fn)(void);
  int products; /* useful 8-bit products per step */
  int insns;    /* vector instructions per step */
} row;

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++)
    if (!strcmp(argv[i], "--iters") && i + 1 < argc) g_iters = atol(argv[++i]) * 1000000;
  const uint32_t f = tc_cpu_features();
  char names[256];
  tc_cpu_feature_string(f, names, sizeof names);
  const double ghz = clock_ghz();
  printf("clock ~%.2f GHz (imul chain); cpu features: %s\n", ghz, names);
  typedef struct frow {
    const char *name;
    double (*fn)(void);
    uint32_t need;
    int ops; /* useful ops per instruction (a multiply-add counts 2) */
  } frow;
  static const frow peaks[] = {
      {"vfmadd231ps ymm (fp32, GFLOP/s)", b_fma_ymm, TC_CPU_AVX2_FMA, 16},
      {"vfmadd231ps zmm (fp32, GFLOP/s)", b_fma_zmm, TC_CPU_AVX512_CORE, 32},
      {"vpdpbusd ymm (AVX-VNNI, GOP/s)", b_vnni_ymm, TC_CPU_AVXVNNI, 64},
      {"vpdpbusd zmm (AVX-512 VNNI, GOP/s)", b_vnni_zmm, TC_CPU_AVX512_VNNI_SET, 128},
  };
  printf("%-42s %9s %9s\n", "peak (12 independent chains)", "insn/clk", "G/s");
  for (size_t i = 0; i < sizeof peaks / sizeof *peaks; i++) {
    if ((f & peaks[i].need) != peaks[i].need) {
      printf("%-42s %9s %9s\n", peaks[i].name, "-", "absent");
      continue;
    }
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
      double s = peaks[i].fn();
      if (s > best) best = s;
    }
    printf("%-42s %9.2f %9.1f\n", peaks[i].name, best / ghz, best * peaks[i].ops);
  }
  static const row rows[] = {
      {"vpmaddwd + vpaddd", b_maddwd_add, 16, 2},
      {"vpmaddwd", b_maddwd, 16, 1},
      {"vpmaddubsw", b_maddubsw, 32, 1},
      {"vpmaddubsw + vpmaddwd(1) + vpaddd", b_ubs_wd_add, 32, 3},
      {"vpsignb + vpmaddubsw + wd(1) + vpaddd", b_sign_ubs_wd_add, 32, 4},
      {"vpmaddubsw + shifts (ALU widen) + 2 vpaddd", b_ubs_shift_add, 32, 6},
      {"2x vpmaddubsw + vpaddw + wd(1) + vpaddd", b_ubs2_wd_add, 64, 5},
      {"vpbroadcastd m32 + vpmaddwd + vpaddd", b_bcast_madd, 16, 3},
      {"vpsignb", b_sign, 0, 1},
      {"vpaddd", b_addd, 0, 1},
      {"vpmuldq", b_muldq, 0, 1},
      {"vpmulld", b_mulld, 0, 1},
  };
  printf("%-42s %9s %9s %9s\n", "step (12 independent chains)", "steps/clk", "insn/clk",
         "GOP/s");
  for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) {
    double best = 0;
    for (int rep = 0; rep < 3; rep++) {
      double s = rows[i].fn();
      if (s > best) best = s;
    }
    printf("%-42s %9.2f %9.2f %9.1f\n", rows[i].name, best / ghz, best / ghz * rows[i].insns,
           best * rows[i].products * 2);
  }
  return 0;
}
#else
int main(void) {
  printf("bench_isa: x86-64 only\n");
  return 0;
}
#endif
