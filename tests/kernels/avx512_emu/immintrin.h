/* immintrin.h (emulation): scalar stand-ins for the AVX-512 intrinsics that
 * src/kernels/x86/gemm_f32_avx512.c uses, so run.sh can check that kernel's logic (tiles, masks,
 * panel walk) against the oracle on a machine without AVX-512; then those of the 8-bit kernels
 * (VNNI and AMX GEMM, depthwise) and the float depthwise kernel. Not part of the build. */
#include <math.h>
#include <stdint.h>
#define TC_X86_EMU 1 /* (kernels skip inline asm on these struct vectors) */
typedef struct { float v[16]; } __m512;
typedef uint16_t __mmask16;
static inline __m512 _mm512_setzero_ps(void) { __m512 r; for (int i = 0; i < 16; i++) r.v[i] = 0; return r; }
static inline __m512 _mm512_set1_ps(float x) { __m512 r; for (int i = 0; i < 16; i++) r.v[i] = x; return r; }
static inline __m512 _mm512_loadu_ps(const void *p) { __m512 r; for (int i = 0; i < 16; i++) r.v[i] = ((const float *)p)[i]; return r; }
static inline __m512 _mm512_maskz_loadu_ps(__mmask16 m, const void *p) { __m512 r; for (int i = 0; i < 16; i++) r.v[i] = (m >> i & 1) ? ((const float *)p)[i] : 0.0f; return r; }
static inline void _mm512_storeu_ps(void *p, __m512 a) { for (int i = 0; i < 16; i++) ((float *)p)[i] = a.v[i]; }
static inline void _mm512_mask_storeu_ps(void *p, __mmask16 m, __m512 a) { for (int i = 0; i < 16; i++) if (m >> i & 1) ((float *)p)[i] = a.v[i]; }
static inline __m512 _mm512_add_ps(__m512 a, __m512 b) { for (int i = 0; i < 16; i++) a.v[i] += b.v[i]; return a; }
static inline __m512 _mm512_mul_ps(__m512 a, __m512 b) { for (int i = 0; i < 16; i++) a.v[i] *= b.v[i]; return a; }
static inline __m512 _mm512_fmadd_ps(__m512 a, __m512 b, __m512 c) { for (int i = 0; i < 16; i++) c.v[i] = fmaf(a.v[i], b.v[i], c.v[i]); return c; }
/* x86 MAXPS/MINPS: the second operand when either is NaN or both are equal */
static inline __m512 _mm512_max_ps(__m512 a, __m512 b) { for (int i = 0; i < 16; i++) a.v[i] = a.v[i] > b.v[i] ? a.v[i] : b.v[i]; return a; }
static inline __m512 _mm512_min_ps(__m512 a, __m512 b) { for (int i = 0; i < 16; i++) a.v[i] = a.v[i] < b.v[i] ? a.v[i] : b.v[i]; return a; }

/* ---- integer intrinsics of src/kernels/x86/s8_qgemm_avx512vnni.c ---- */
#include <string.h>
typedef union { int8_t b[64]; uint8_t ub[64]; int16_t w[32]; int32_t d[16]; uint32_t ud[16]; int64_t q[8]; uint64_t uq[8]; } __m512i;
typedef unsigned long long __mmask64;
static inline __m512i _mm512_setzero_si512(void) { __m512i r; memset(&r, 0, sizeof r); return r; }
static inline __m512i _mm512_set1_epi8(char x) { __m512i r; for (int i = 0; i < 64; i++) r.b[i] = (int8_t)x; return r; }
static inline __m512i _mm512_set1_epi32(int x) { __m512i r; for (int i = 0; i < 16; i++) r.d[i] = x; return r; }
static inline __m512i _mm512_set1_epi64(long long x) { __m512i r; for (int i = 0; i < 8; i++) r.q[i] = x; return r; }
static inline __m512i _mm512_loadu_si512(const void *p) { __m512i r; memcpy(&r, p, 64); return r; }
static inline __m512i _mm512_maskz_loadu_epi8(__mmask64 m, const void *p) { __m512i r; for (int i = 0; i < 64; i++) r.ub[i] = (m >> i & 1) ? ((const uint8_t *)p)[i] : 0; return r; }
static inline void _mm512_mask_storeu_epi8(void *p, __mmask64 m, __m512i a) { for (int i = 0; i < 64; i++) if (m >> i & 1) ((uint8_t *)p)[i] = a.ub[i]; }
static inline __m512i _mm512_maskz_mov_epi8(__mmask64 m, __m512i a) { for (int i = 0; i < 64; i++) if (!(m >> i & 1)) a.ub[i] = 0; return a; }
static inline __m512i _mm512_xor_si512(__m512i a, __m512i b) { for (int i = 0; i < 8; i++) a.uq[i] ^= b.uq[i]; return a; }
static inline __m512i _mm512_and_si512(__m512i a, __m512i b) { for (int i = 0; i < 8; i++) a.uq[i] &= b.uq[i]; return a; }
/* VPDPBUSD: per lane, 4 products of unsigned bytes of a and signed bytes of b added (wrapping) */
static inline __m512i _mm512_dpbusd_epi32(__m512i s, __m512i a, __m512i b) {
  for (int i = 0; i < 16; i++) {
    int32_t t = 0;
    for (int h = 0; h < 4; h++) t += (int32_t)a.ub[4 * i + h] * (int32_t)b.b[4 * i + h];
    s.ud[i] += (uint32_t)t;
  }
  return s;
}
static inline int _mm512_reduce_add_epi32(__m512i a) { uint32_t s = 0; for (int i = 0; i < 16; i++) s += a.ud[i]; return (int)s; }
static inline __m512i _mm512_add_epi32(__m512i a, __m512i b) { for (int i = 0; i < 16; i++) a.ud[i] += b.ud[i]; return a; }
static inline __m512i _mm512_add_epi64(__m512i a, __m512i b) { for (int i = 0; i < 8; i++) a.uq[i] += b.uq[i]; return a; }
static inline __m512i _mm512_max_epi32(__m512i a, __m512i b) { for (int i = 0; i < 16; i++) a.d[i] = a.d[i] > b.d[i] ? a.d[i] : b.d[i]; return a; }
static inline __m512i _mm512_min_epi32(__m512i a, __m512i b) { for (int i = 0; i < 16; i++) a.d[i] = a.d[i] < b.d[i] ? a.d[i] : b.d[i]; return a; }
/* VPMULDQ: signed low dwords of each qword multiplied to 64 bits */
static inline __m512i _mm512_mul_epi32(__m512i a, __m512i b) { for (int i = 0; i < 8; i++) a.q[i] = (int64_t)a.d[2 * i] * (int64_t)b.d[2 * i]; return a; }
static inline __m512i _mm512_srli_epi64(__m512i a, unsigned n) { for (int i = 0; i < 8; i++) a.uq[i] = n > 63 ? 0 : a.uq[i] >> n; return a; }
static inline __m512i _mm512_slli_epi64(__m512i a, unsigned n) { for (int i = 0; i < 8; i++) a.uq[i] = n > 63 ? 0 : a.uq[i] << n; return a; }
static inline __m512i _mm512_sllv_epi64(__m512i a, __m512i n) { for (int i = 0; i < 8; i++) a.uq[i] = n.uq[i] > 63 ? 0 : a.uq[i] << n.uq[i]; return a; }
static inline __m512i _mm512_srli_epi32(__m512i a, unsigned n) { for (int i = 0; i < 16; i++) a.ud[i] = n > 31 ? 0 : a.ud[i] >> n; return a; }
static inline __m512i _mm512_srai_epi32(__m512i a, unsigned n) { for (int i = 0; i < 16; i++) a.d[i] = a.d[i] >> (n > 31 ? 31 : n); return a; }
static inline __m512i _mm512_srav_epi32(__m512i a, __m512i n) { for (int i = 0; i < 16; i++) a.d[i] = a.d[i] >> (n.ud[i] > 31 ? 31 : n.ud[i]); return a; }
static inline __m512i _mm512_sllv_epi32(__m512i a, __m512i n) { for (int i = 0; i < 16; i++) a.ud[i] = n.ud[i] > 31 ? 0 : a.ud[i] << n.ud[i]; return a; }
static inline __m512i _mm512_mask_blend_epi32(__mmask16 m, __m512i a, __m512i b) { for (int i = 0; i < 16; i++) if (m >> i & 1) a.d[i] = b.d[i]; return a; }
static inline __mmask16 _mm512_cmpgt_epi32_mask(__m512i a, __m512i b) { unsigned m = 0; for (int i = 0; i < 16; i++) m |= (unsigned)(a.d[i] > b.d[i]) << i; return (__mmask16)m; }
static inline __m512i _mm512_mask_sub_epi32(__m512i src, __mmask16 m, __m512i a, __m512i b) { for (int i = 0; i < 16; i++) if (m >> i & 1) src.ud[i] = a.ud[i] - b.ud[i]; return src; }
/* VPMOVDB to memory: low byte of each dword, masked */
static inline void _mm512_mask_cvtepi32_storeu_epi8(void *p, __mmask16 m, __m512i a) { for (int i = 0; i < 16; i++) if (m >> i & 1) ((uint8_t *)p)[i] = (uint8_t)a.ud[i]; }
/* VPMOVSDB / VPMOVUSDB to memory: signed (int32 -> int8) / unsigned (uint32 -> uint8) saturation */
static inline void _mm512_mask_cvtsepi32_storeu_epi8(void *p, __mmask16 m, __m512i a) { for (int i = 0; i < 16; i++) if (m >> i & 1) ((int8_t *)p)[i] = (int8_t)(a.d[i] < -128 ? -128 : a.d[i] > 127 ? 127 : a.d[i]); }
static inline void _mm512_mask_cvtusepi32_storeu_epi8(void *p, __mmask16 m, __m512i a) { for (int i = 0; i < 16; i++) if (m >> i & 1) ((uint8_t *)p)[i] = (uint8_t)(a.ud[i] > 255 ? 255 : a.ud[i]); }

/* ---- src/kernels/x86/dwconv_q8_avx512.c: 128/256-bit helpers, int16 pairs, byte packing ----
 * (pack / shuffle / unpack semantics per 128-bit lane, as on the CPU) */
typedef union { int8_t b[16]; uint8_t ub[16]; int32_t d[4]; } __m128i;
typedef union { int8_t b[32]; uint8_t ub[32]; int32_t d[8]; } __m256i;
typedef uint32_t __mmask32;
static inline int16_t emu_sat16(int32_t v) { return (int16_t)(v < -32768 ? -32768 : v > 32767 ? 32767 : v); }
static inline int8_t emu_sat8(int16_t v) { return (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v); }
static inline uint8_t emu_satu8(int16_t v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v); }
static inline __m128i _mm_loadu_si128(const void *p) { __m128i r; memcpy(&r, p, 16); return r; }
static inline __m128i _mm_loadl_epi64(const void *p) { __m128i r; memset(&r, 0, 16); memcpy(&r, p, 8); return r; }
static inline void _mm_storeu_si128(void *p, __m128i a) { memcpy(p, &a, 16); }
static inline void _mm_mask_storeu_epi8(void *p, __mmask16 m, __m128i a) { for (int i = 0; i < 16; i++) if (m >> i & 1) ((uint8_t *)p)[i] = a.ub[i]; }
static inline __m128i _mm_unpacklo_epi8(__m128i a, __m128i b) { __m128i r; for (int i = 0; i < 8; i++) r.ub[2 * i] = a.ub[i], r.ub[2 * i + 1] = b.ub[i]; return r; }
static inline __m128i _mm_unpackhi_epi8(__m128i a, __m128i b) { __m128i r; for (int i = 0; i < 8; i++) r.ub[2 * i] = a.ub[8 + i], r.ub[2 * i + 1] = b.ub[8 + i]; return r; }
static inline __m256i _mm256_loadu_si256(const void *p) { __m256i r; memcpy(&r, p, 32); return r; }
static inline __m256i _mm256_set_m128i(__m128i hi, __m128i lo) { __m256i r; memcpy(r.ub, &lo, 16); memcpy(r.ub + 16, &hi, 16); return r; }
static inline __m256i _mm256_broadcastsi128_si256(__m128i a) { return _mm256_set_m128i(a, a); }
/* VPSHUFB: per 128-bit lane, byte i = a[lane][b[i] & 15], or 0 where b[i] has bit 7 */
static inline __m256i _mm256_shuffle_epi8(__m256i a, __m256i b) { __m256i r; for (int i = 0; i < 32; i++) r.ub[i] = (b.ub[i] & 0x80) ? 0 : a.ub[(i & 16) + (b.ub[i] & 15)]; return r; }
static inline __m512i _mm512_cvtepi8_epi16(__m256i a) { __m512i r; for (int i = 0; i < 32; i++) r.w[i] = a.b[i]; return r; }
static inline __m512i _mm512_cvtepu8_epi16(__m256i a) { __m512i r; for (int i = 0; i < 32; i++) r.w[i] = a.ub[i]; return r; }
static inline __m512i _mm512_set1_epi16(short x) { __m512i r; for (int i = 0; i < 32; i++) r.w[i] = x; return r; }
static inline __m512i _mm512_setr_epi32(int e0, int e1, int e2, int e3, int e4, int e5, int e6, int e7, int e8, int e9, int e10, int e11, int e12, int e13, int e14, int e15) { const int e[16] = {e0, e1, e2, e3, e4, e5, e6, e7, e8, e9, e10, e11, e12, e13, e14, e15}; __m512i r; for (int i = 0; i < 16; i++) r.d[i] = e[i]; return r; }
static inline void _mm512_storeu_si512(void *p, __m512i a) { memcpy(p, &a, 64); }
static inline void _mm512_mask_storeu_epi16(void *p, __mmask32 m, __m512i a) { for (int i = 0; i < 32; i++) if (m >> i & 1) memcpy((char *)p + 2 * i, &a.w[i], 2); }
static inline __m128i _mm512_castsi512_si128(__m512i a) { __m128i r; memcpy(&r, a.ub, 16); return r; }
static inline __m128i _mm512_extracti32x4_epi32(__m512i a, int l) { __m128i r; memcpy(&r, a.ub + 16 * (l & 3), 16); return r; }
/* VPMADDWD: adjacent int16 products added (wrapping only for two -32768 * -32768) */
static inline __m512i _mm512_madd_epi16(__m512i a, __m512i b) { for (int i = 0; i < 16; i++) a.ud[i] = (uint32_t)((int64_t)a.w[2 * i] * b.w[2 * i] + (int64_t)a.w[2 * i + 1] * b.w[2 * i + 1]); return a; }
/* VPDPWSSD: per lane, the two int16 products of a and b added to s (wrapping) */
static inline __m512i _mm512_dpwssd_epi32(__m512i s, __m512i a, __m512i b) { for (int i = 0; i < 16; i++) s.ud[i] += (uint32_t)((int64_t)a.w[2 * i] * b.w[2 * i] + (int64_t)a.w[2 * i + 1] * b.w[2 * i + 1]); return s; }
static inline __mmask16 _mm512_cmpeq_epi32_mask(__m512i a, __m512i b) { unsigned m = 0; for (int i = 0; i < 16; i++) m |= (unsigned)(a.d[i] == b.d[i]) << i; return (__mmask16)m; }
static inline __mmask16 _mm512_mask_cmpeq_epi32_mask(__mmask16 k, __m512i a, __m512i b) { return (__mmask16)(k & _mm512_cmpeq_epi32_mask(a, b)); }
static inline __m512i _mm512_mask_mov_epi32(__m512i src, __mmask16 m, __m512i a) { for (int i = 0; i < 16; i++) if (m >> i & 1) src.d[i] = a.d[i]; return src; }
/* VPACKSSDW / VPACKSSWB / VPACKUSWB: per 128-bit lane, a's saturated elements then b's */
static inline __m512i _mm512_packs_epi32(__m512i a, __m512i b) { __m512i r; for (int l = 0; l < 4; l++) for (int i = 0; i < 4; i++) r.w[8 * l + i] = emu_sat16(a.d[4 * l + i]), r.w[8 * l + 4 + i] = emu_sat16(b.d[4 * l + i]); return r; }
static inline __m512i _mm512_packs_epi16(__m512i a, __m512i b) { __m512i r; for (int l = 0; l < 4; l++) for (int i = 0; i < 8; i++) r.b[16 * l + i] = emu_sat8(a.w[8 * l + i]), r.b[16 * l + 8 + i] = emu_sat8(b.w[8 * l + i]); return r; }
static inline __m512i _mm512_packus_epi16(__m512i a, __m512i b) { __m512i r; for (int l = 0; l < 4; l++) for (int i = 0; i < 8; i++) r.ub[16 * l + i] = emu_satu8(a.w[8 * l + i]), r.ub[16 * l + 8 + i] = emu_satu8(b.w[8 * l + i]); return r; }
static inline __m512i _mm512_permutexvar_epi32(__m512i idx, __m512i a) { __m512i r; for (int i = 0; i < 16; i++) r.d[i] = a.d[idx.d[i] & 15]; return r; }
static inline __m512i _mm512_permutex2var_epi32(__m512i a, __m512i idx, __m512i b) { __m512i r; for (int i = 0; i < 16; i++) r.d[i] = (idx.d[i] & 16 ? b : a).d[idx.d[i] & 15]; return r; }
static inline __m512 _mm512_permutexvar_ps(__m512i idx, __m512 a) { __m512 r; for (int i = 0; i < 16; i++) r.v[i] = a.v[idx.d[i] & 15]; return r; }
static inline __m512i _mm512_max_epi8(__m512i a, __m512i b) { for (int i = 0; i < 64; i++) a.b[i] = a.b[i] > b.b[i] ? a.b[i] : b.b[i]; return a; }
static inline __m512i _mm512_min_epi8(__m512i a, __m512i b) { for (int i = 0; i < 64; i++) a.b[i] = a.b[i] < b.b[i] ? a.b[i] : b.b[i]; return a; }
static inline __m512i _mm512_max_epu8(__m512i a, __m512i b) { for (int i = 0; i < 64; i++) a.ub[i] = a.ub[i] > b.ub[i] ? a.ub[i] : b.ub[i]; return a; }
static inline __m512i _mm512_min_epu8(__m512i a, __m512i b) { for (int i = 0; i < 64; i++) a.ub[i] = a.ub[i] < b.ub[i] ? a.ub[i] : b.ub[i]; return a; }

/* ---- the 8-bit GEMM's short requantization, byte stores and row sums (x86/q512.h, VNNI) ---- */
/* VPMULUDQ: unsigned low dwords of each qword multiplied to 64 bits */
static inline __m512i _mm512_mul_epu32(__m512i a, __m512i b) { for (int i = 0; i < 8; i++) a.uq[i] = (uint64_t)a.ud[2 * i] * (uint64_t)b.ud[2 * i]; return a; }
static inline __m512i _mm512_sub_epi32(__m512i a, __m512i b) { for (int i = 0; i < 16; i++) a.ud[i] -= b.ud[i]; return a; }
static inline __m512i _mm512_sub_epi64(__m512i a, __m512i b) { for (int i = 0; i < 8; i++) a.uq[i] -= b.uq[i]; return a; }
static inline __m512i _mm512_mullo_epi32(__m512i a, __m512i b) { for (int i = 0; i < 16; i++) a.ud[i] *= b.ud[i]; return a; }
/* VPUNPCK[LH]DQ / [LH]QDQ: per 128-bit lane, the low (high) halves of a and b interleaved */
static inline __m512i _mm512_unpacklo_epi32(__m512i a, __m512i b) { __m512i r; for (int l = 0; l < 4; l++) for (int i = 0; i < 2; i++) r.d[4 * l + 2 * i] = a.d[4 * l + i], r.d[4 * l + 2 * i + 1] = b.d[4 * l + i]; return r; }
static inline __m512i _mm512_unpackhi_epi32(__m512i a, __m512i b) { __m512i r; for (int l = 0; l < 4; l++) for (int i = 0; i < 2; i++) r.d[4 * l + 2 * i] = a.d[4 * l + 2 + i], r.d[4 * l + 2 * i + 1] = b.d[4 * l + 2 + i]; return r; }
static inline __m512i _mm512_unpacklo_epi64(__m512i a, __m512i b) { __m512i r; for (int l = 0; l < 4; l++) r.q[2 * l] = a.q[2 * l], r.q[2 * l + 1] = b.q[2 * l]; return r; }
static inline __m512i _mm512_unpackhi_epi64(__m512i a, __m512i b) { __m512i r; for (int l = 0; l < 4; l++) r.q[2 * l] = a.q[2 * l + 1], r.q[2 * l + 1] = b.q[2 * l + 1]; return r; }
/* VSHUFI32X4: result lanes 0, 1 from a and 2, 3 from b, each picked by two bits of imm */
static inline __m512i _mm512_shuffle_i32x4(__m512i a, __m512i b, int imm) { __m512i r; for (int l = 0; l < 4; l++) memcpy(r.ub + 16 * l, (l < 2 ? a : b).ub + 16 * ((imm >> (2 * l)) & 3), 16); return r; }
/* (vcvtdq2ps rounds to nearest even, as the default rounding mode does for (float)) */
static inline __m512 _mm512_cvtepi32_ps(__m512i a) { __m512 r; for (int i = 0; i < 16; i++) r.v[i] = (float)a.d[i]; return r; }
static inline __m512i _mm512_castps_si512(__m512 a) { __m512i r; memcpy(r.ub, a.v, 64); return r; }
typedef uint8_t __mmask8;
typedef int _MM_PERM_ENUM;
static inline __m512i _mm512_castsi128_si512(__m128i a) { __m512i r; memset(&r, 0, 64); memcpy(r.ub, a.ub, 16); return r; }
static inline __m512i _mm512_inserti32x4(__m512i a, __m128i b, int l) { memcpy(a.ub + 16 * (l & 3), b.ub, 16); return a; }
static inline __m128i _mm_maskz_loadu_epi8(uint16_t m, const void *p) { __m128i r; for (int i = 0; i < 16; i++) r.ub[i] = (m >> i & 1) ? ((const uint8_t *)p)[i] : 0; return r; }
static inline void _mm_mask_storeu_epi32(void *p, __mmask8 m, __m128i a) { for (int i = 0; i < 4; i++) if (m >> i & 1) memcpy((char *)p + 4 * i, &a.d[i], 4); }
/* per 128-bit lane, dword i takes dword (imm >> 2i) & 3 of the same lane */
static inline __m512i _mm512_shuffle_epi32(__m512i a, _MM_PERM_ENUM imm) { __m512i r; for (int i = 0; i < 16; i++) r.d[i] = a.d[i / 4 * 4 + ((imm >> (2 * (i % 4))) & 3)]; return r; }
static inline __m256i _mm512_castsi512_si256(__m512i a) { __m256i r; memcpy(&r, a.ub, 32); return r; }
static inline __m256i _mm512_extracti64x4_epi64(__m512i a, int h) { __m256i r; memcpy(&r, a.ub + 32 * (h & 1), 32); return r; }
static inline void _mm256_storeu_si256(void *p, __m256i a) { memcpy(p, &a, 32); }

/* ---- AMX tile intrinsics of src/kernels/x86/s8_qgemm_amx.c ----
 * Eight tiles of up to 16 rows x 64 bytes, shaped by _tile_loadconfig (palette 1). Using a tile
 * that the configuration leaves empty, a row or byte count past 16 x 64, or a TDPBUSD whose tile
 * shapes do not match (C rows = A rows, C bytes per row = B bytes per row, A groups = B rows)
 * would fault on the real CPU (#UD); here it aborts with a message. */
#include <stdio.h>
#include <stdlib.h>
static _Thread_local struct { int on; int rows[8], colsb[8]; uint8_t d[8][16][64]; } emu_amx; /* per thread, like the tiles */
static inline void emu_amx_fail(const char *what, int t) {
  fprintf(stderr, "AMX emulation: %s (tmm%d)\n", what, t);
  abort();
}
static inline void emu_amx_check(int t) {
  if (!emu_amx.on) emu_amx_fail("tile used without a configuration", t);
  if (emu_amx.rows[t] <= 0 || emu_amx.colsb[t] <= 0) emu_amx_fail("tile not configured", t);
}
static inline void emu_tile_loadconfig(const void *cfg) {
  const uint8_t *b = cfg;
  if (b[0] != 1) emu_amx_fail("palette is not 1", -1);
  for (int i = 2; i < 16; i++) if (b[i]) emu_amx_fail("reserved config bytes set", -1);
  for (int t = 0; t < 8; t++) {
    const int colsb = b[16 + 2 * t] | b[17 + 2 * t] << 8, rows = b[48 + t];
    if (rows > 16 || colsb > 64 || colsb % 4) emu_amx_fail("tile shape past 16 x 64 bytes", t);
    if ((rows == 0) != (colsb == 0)) emu_amx_fail("tile with rows or bytes 0 but not both", t);
    emu_amx.rows[t] = rows;
    emu_amx.colsb[t] = colsb;
  }
  memset(emu_amx.d, 0xA5, sizeof emu_amx.d); /* tiles start undefined */
  emu_amx.on = 1;
}
static inline void emu_tile_release(void) { emu_amx.on = 0; }
static inline void emu_tile_loadd(int t, const void *base, long stride) {
  emu_amx_check(t);
  for (int r = 0; r < emu_amx.rows[t]; r++)
    memcpy(emu_amx.d[t][r], (const char *)base + r * stride, (size_t)emu_amx.colsb[t]);
}
static inline void emu_tile_stored(int t, void *base, long stride) {
  emu_amx_check(t);
  for (int r = 0; r < emu_amx.rows[t]; r++)
    memcpy((char *)base + r * stride, emu_amx.d[t][r], (size_t)emu_amx.colsb[t]);
}
static inline void emu_tile_zero(int t) { emu_amx_check(t); memset(emu_amx.d[t], 0, sizeof emu_amx.d[t]); }
/* TDPBUSD: C[m][n] += sum over groups k and h < 4 of u8 A[m][4k + h] * s8 B[k][4n + h], in
 * int32 with wrap-around */
static inline void emu_tile_dpbusd(int c, int a, int b) {
  emu_amx_check(c); emu_amx_check(a); emu_amx_check(b);
  if (emu_amx.rows[c] != emu_amx.rows[a] || emu_amx.colsb[c] != emu_amx.colsb[b] ||
      emu_amx.colsb[a] != 4 * emu_amx.rows[b])
    emu_amx_fail("TDPBUSD tile shapes do not match", c);
  for (int m = 0; m < emu_amx.rows[c]; m++)
    for (int n = 0; n < emu_amx.colsb[c] / 4; n++) {
      uint32_t acc;
      memcpy(&acc, &emu_amx.d[c][m][4 * n], 4);
      for (int k = 0; k < emu_amx.colsb[a] / 4; k++)
        for (int h = 0; h < 4; h++)
          acc += (uint32_t)((int32_t)emu_amx.d[a][m][4 * k + h] *
                            (int32_t)(int8_t)emu_amx.d[b][k][4 * n + h]);
      memcpy(&emu_amx.d[c][m][4 * n], &acc, 4);
    }
}
#define _tile_loadconfig(cfg) emu_tile_loadconfig(cfg)
#define _tile_release() emu_tile_release()
#define _tile_loadd(t, base, stride) emu_tile_loadd(t, base, stride)
#define _tile_stored(t, base, stride) emu_tile_stored(t, base, stride)
#define _tile_zero(t) emu_tile_zero(t)
#define _tile_dpbusd(c, a, b) emu_tile_dpbusd(c, a, b)
