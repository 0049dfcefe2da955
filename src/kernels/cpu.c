/* cpu.c: CPU feature detection (see cpu.h). On x86-64: cpuid leaves 1 and 7 (subleaves 0 and
 * 1) for what the CPU implements, XGETBV(0) for what the OS saves on context switches (XCR0),
 * and on Linux arch_prctl(ARCH_REQ_XCOMP_PERM, XTILEDATA) before AMX tiles may be used. On
 * aarch64 Linux: getauxval(AT_HWCAP) and AT_HWCAP2. Anything else reports no features
 * (reference only). */
#include "kernels/cpu.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if TC_ARCH_X86_64 && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#if defined(__linux__)
#include <sys/syscall.h>
#include <unistd.h>
#endif
#endif
#if TC_ARCH_AARCH64 && defined(__linux__)
#include <sys/auxv.h>
#endif

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static uint32_t g_features;
static atomic_int g_force_ref;

#if TC_ARCH_X86_64 && (defined(__GNUC__) || defined(__clang__))
/* XGETBV with ECX=0 reads XCR0; written as inline asm so this file needs no -mxsave. */
static uint64_t read_xcr0(void) {
  uint32_t lo, hi;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return ((uint64_t)hi << 32) | lo;
}

/* Linux: the AMX tile data state is off by default per process; request it. */
static int amx_permission(void) {
#if defined(__linux__)
  const long arch_req_xcomp_perm = 0x1023, xfeature_xtiledata = 18;
  return syscall(SYS_arch_prctl, arch_req_xcomp_perm, xfeature_xtiledata) == 0;
#else
  return 0;
#endif
}

static uint32_t detect(void) {
  unsigned a, b, c, d;
  uint32_t f = 0;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return 0;
  unsigned c1 = c;
  if (c1 & (1u << 19)) f |= TC_CPU_SSE41;
  /* OSXSAVE (ecx bit 27) must be set before XGETBV may execute. */
  uint64_t xcr0 = (c1 & (1u << 27)) ? read_xcr0() : 0;
  int os_avx = (xcr0 & 0x6) == 0x6;          /* XMM and YMM state */
  int os_avx512 = (xcr0 & 0xe6) == 0xe6;     /* plus opmask, ZMM_Hi256, Hi16_ZMM */
  int os_amx = (xcr0 & 0x60000) == 0x60000;  /* XTILECFG and XTILEDATA */
  if (os_avx) {
    if (c1 & (1u << 28)) f |= TC_CPU_AVX;
    if (c1 & (1u << 12)) f |= TC_CPU_FMA;
    if (c1 & (1u << 29)) f |= TC_CPU_F16C;
  }
  unsigned max_leaf = __get_cpuid_max(0, NULL);
  if (max_leaf < 7) return f;
  unsigned b7, c7, d7, a7_1 = 0, dummy;
  __cpuid_count(7, 0, a, b7, c7, d7);
  unsigned max_sub7 = a;
  if (max_sub7 >= 1) __cpuid_count(7, 1, a7_1, dummy, dummy, dummy);
  if (os_avx) {
    if (b7 & (1u << 5)) f |= TC_CPU_AVX2;
    if (a7_1 & (1u << 4)) f |= TC_CPU_AVXVNNI;
  }
  if (os_avx512 && (b7 & (1u << 16))) {
    f |= TC_CPU_AVX512F;
    if (b7 & (1u << 30)) f |= TC_CPU_AVX512BW;
    if (b7 & (1u << 17)) f |= TC_CPU_AVX512DQ;
    if (b7 & (1u << 31)) f |= TC_CPU_AVX512VL;
    if (c7 & (1u << 11)) f |= TC_CPU_AVX512VNNI;
    if (a7_1 & (1u << 5)) f |= TC_CPU_AVX512BF16;
    if (d7 & (1u << 23)) f |= TC_CPU_AVX512FP16;
  }
  if (os_amx && (d7 & (1u << 24)) && amx_permission()) {
    f |= TC_CPU_AMX_TILE;
    if (d7 & (1u << 25)) f |= TC_CPU_AMX_INT8;
    if (d7 & (1u << 22)) f |= TC_CPU_AMX_BF16;
  }
  return f;
}
#elif TC_ARCH_AARCH64
static uint32_t detect(void) {
#if defined(__linux__)
  /* Bit numbers from the Linux uapi <asm/hwcap.h>, spelled out so old headers build. */
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  if (!(hw & (1ul << 1))) return 0; /* HWCAP_ASIMD */
  uint32_t f = TC_CPU_NEON;
  if (hw & (1ul << 20)) f |= TC_CPU_DOTPROD;                     /* HWCAP_ASIMDDP */
  if ((f & TC_CPU_DOTPROD) && (hw2 & (1ul << 13))) f |= TC_CPU_I8MM; /* HWCAP2_I8MM */
  return f;
#else
  return TC_CPU_NEON; /* Advanced SIMD is part of every AArch64 A-profile CPU */
#endif
}
#else
static uint32_t detect(void) { return 0; }
#endif

static uint32_t g_disabled; /* TC_CPU_DISABLE */
static uint32_t feature_bits(const char *list); /* names of tc_cpu_feature_string -> bits */

static void init_once(void) {
  g_features = detect();
  const char *env = getenv("TC_FORCE_REF");
  if (env && env[0] && strcmp(env, "0") != 0) atomic_store(&g_force_ref, 1);
  env = getenv("TC_CPU_DISABLE");
  if (env) g_disabled = feature_bits(env);
}

uint32_t tc_cpu_features(void) {
  pthread_once(&g_once, init_once);
  return g_features;
}

uint32_t tc_cpu_usable_features(void) {
  pthread_once(&g_once, init_once);
  return atomic_load(&g_force_ref) ? 0 : g_features & ~g_disabled;
}

void tc_cpu_set_force_ref(int on) {
  pthread_once(&g_once, init_once);
  atomic_store(&g_force_ref, on != 0);
}

int tc_cpu_force_ref(void) {
  pthread_once(&g_once, init_once);
  return atomic_load(&g_force_ref);
}

static const char *const names[] = {
    "sse4.1",     "avx",        "fma",         "f16c",       "avx2",     "avx512f",
    "avx512bw",   "avx512dq",   "avx512vl",    "avx512vnni", "avx512bf16", "avx512fp16",
    "avxvnni",    "amx-tile",   "amx-int8",    "amx-bf16",   "neon",     "dotprod",
    "i8mm"};

static uint32_t feature_bits(const char *list) {
  uint32_t f = 0;
  while (*list) {
    size_t len = strcspn(list, " ,");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
      if (len && strlen(names[i]) == len && !strncmp(names[i], list, len)) f |= 1u << i;
    list += len;
    if (*list) list++;
  }
  return f;
}

const char *tc_cpu_feature_string(uint32_t features, char *buf, size_t size) {
  size_t used = 0;
  if (size == 0) return buf;
  buf[0] = '\0';
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (!(features & (1u << i))) continue;
    size_t len = strlen(names[i]);
    if (used + len + 2 > size) break;
    if (used) buf[used++] = ' ';
    memcpy(buf + used, names[i], len + 1);
    used += len;
  }
  return buf;
}
