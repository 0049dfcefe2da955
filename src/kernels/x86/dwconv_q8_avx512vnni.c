/* dwconv_q8_avx512vnni.c: the AVX-512 8-bit depthwise convolution of dwconv_q8_avx512.c with
 * its tap-pair multiply-add as one AVX-512 VNNI vpdpwssd instead of vpmaddwd + vpaddd: 6 instead
 * of 12 instructions per 3x3 filter and 16 outputs (89 instead of 113 per step of 4 pixels).
 * Same packing, rings, streams and requantization, so bit-exact like it; variants
 * tc_{s8,u8}_dwconv__avx512vnni, ahead of the avx512 ones where the CPU has VNNI (Cascade Lake
 * and later Xeons, Ice Lake, Zen 4). tests/kernels/avx512_emu/ runs it on a scalar immintrin.h. */
#define DWQ_VNNI 1
#define DWQ_ISA avx512vnni
#define DWQ_NAME "avx512vnni"
#include "dwconv_q8_avx512.c"
