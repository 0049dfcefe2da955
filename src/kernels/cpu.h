/* cpu.h: run-time CPU feature detection for kernel dispatch. The features are detected once
 * (cpuid plus the OS checks that make them usable: XGETBV for the AVX and AVX-512 register
 * state, and the Linux arch_prctl permission for AMX tiles) and kept in a bitmask that
 * select.c matches against the required_features column of kernels.def. Setting the
 * environment variable TC_FORCE_REF=1 (or calling tc_cpu_set_force_ref) makes every
 * dispatch decision fall back to the portable reference kernels. */
#ifndef TC_KERNELS_CPU_H
#define TC_KERNELS_CPU_H

#include <stddef.h>
#include <stdint.h>

/* 1 when the x86-64 SIMD variants are compiled into this build. It must agree with the CMake
 * block that adds the files of src/kernels/x86, which does so exactly for x86-64 targets. */
#if defined(__x86_64__) || defined(_M_X64)
#define TC_ARCH_X86_64 1
#else
#define TC_ARCH_X86_64 0
#endif
#if defined(__aarch64__)
#define TC_ARCH_AARCH64 1
#else
#define TC_ARCH_AARCH64 0
#endif

/* One bit per feature. A bit is set only if the CPU has the feature AND the OS saves its
 * register state (AVX, AVX-512, AMX), so a kernel needing it can run. Add new bits at the end. */
enum {
  TC_CPU_SSE41 = 1u << 0,
  TC_CPU_AVX = 1u << 1,
  TC_CPU_FMA = 1u << 2,
  TC_CPU_F16C = 1u << 3,
  TC_CPU_AVX2 = 1u << 4,
  TC_CPU_AVX512F = 1u << 5,
  TC_CPU_AVX512BW = 1u << 6,
  TC_CPU_AVX512DQ = 1u << 7,
  TC_CPU_AVX512VL = 1u << 8,
  TC_CPU_AVX512VNNI = 1u << 9,
  TC_CPU_AVX512BF16 = 1u << 10,
  TC_CPU_AVX512FP16 = 1u << 11,
  TC_CPU_AVXVNNI = 1u << 12, /* VEX-encoded VNNI (ymm), Alder Lake / Sapphire Rapids */
  TC_CPU_AMX_TILE = 1u << 13,
  TC_CPU_AMX_INT8 = 1u << 14,
  TC_CPU_AMX_BF16 = 1u << 15,
  TC_CPU_NEON = 1u << 16,    /* aarch64 Advanced SIMD */
  TC_CPU_DOTPROD = 1u << 17, /* aarch64 SDOT/UDOT */
  TC_CPU_I8MM = 1u << 18,    /* aarch64 SMMLA/UMMLA/USMMLA and USDOT (FEAT_I8MM) */
};

/* The set that the *_avx512.c files are compiled for (-mavx512f -mavx512bw -mavx512dq
 * -mavx512vl -mfma): a variant built with those flags must require all of them. */
#define TC_CPU_AVX512_CORE \
  (TC_CPU_AVX512F | TC_CPU_AVX512BW | TC_CPU_AVX512DQ | TC_CPU_AVX512VL | TC_CPU_FMA)
/* The set that the *_avx512vnni.c files are compiled for (-mavx512f -mavx512bw -mavx512vl
 * -mavx512vnni). */
#define TC_CPU_AVX512_VNNI_SET \
  (TC_CPU_AVX512F | TC_CPU_AVX512BW | TC_CPU_AVX512VL | TC_CPU_AVX512VNNI)
/* The set that the *_amx.c files are compiled for (the VNNI set, -mamx-tile -mamx-int8). */
#define TC_CPU_AMX_INT8_SET (TC_CPU_AVX512_VNNI_SET | TC_CPU_AMX_TILE | TC_CPU_AMX_INT8)
/* The set that the *_avx2.c files are compiled for (-mavx2 -mfma). */
#define TC_CPU_AVX2_FMA (TC_CPU_AVX | TC_CPU_AVX2 | TC_CPU_FMA)

/* Features of this CPU, detected on the first call (thread-safe) and cached. Does not look at
 * TC_FORCE_REF. On x86-64 Linux, the first call with AMX present asks the kernel for AMX tile
 * permission (arch_prctl ARCH_REQ_XCOMP_PERM); AMX bits are set only if that succeeded. */
uint32_t tc_cpu_features(void);

/* The features dispatch may use: tc_cpu_features() less those named in the environment
 * variable TC_CPU_DISABLE (names as tc_cpu_feature_string writes them, separated by spaces or
 * commas, e.g. TC_CPU_DISABLE=avx512vnni to compare the next variant down), or 0 while
 * reference kernels are forced. */
uint32_t tc_cpu_usable_features(void);

/* Forces (on != 0) or stops forcing the reference kernels. The initial state comes from the
 * environment: TC_FORCE_REF set to a value other than "" or "0" forces them. The dispatch
 * table is not refilled by this call: use tc_kernels_force_ref() (select.h), which does both. */
void tc_cpu_set_force_ref(int on);
int tc_cpu_force_ref(void);

/* Writes the names of the bits set in `features`, space-separated (e.g. "avx2 fma"), into
 * buf (always NUL-terminated when size > 0); returns buf. */
const char *tc_cpu_feature_string(uint32_t features, char *buf, size_t size);

#endif /* TC_KERNELS_CPU_H */
