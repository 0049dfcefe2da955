/* immintrin.h (emulation): scalar stand-ins for the AVX-512 intrinsics that
 * src/kernels/x86/gemm_f32_avx512.c uses, so run.sh can check that kernel's logic (tiles, masks,
 * panel walk) against the oracle on a machine without AVX-512. Not part of the build. */
#include <math.h>
#include <stdint.h>
typedef struct { float v[16]; } __m512;
typedef uint16_t __mmask16;
static inline __m512 _mm512_setzero_ps(void) { __m512 r; for (int i = 0; i < 16; i++) r.v[i] = 0; return r; }
static inline __m512 _mm512_set1_ps(float x) { __m512 r; for (int i = 0; i < 16; i++) r.v[i] = x; return r; }
static inline __m512 _mm512_loadu_ps(const void *p) { __m512 r; for (int i = 0; i < 16; i++) r.v[i] = ((const float *)p)[i]; return r; }
static inline __m512 _mm512_maskz_loadu_ps(__mmask16 m, const void *p) { __m512 r; for (int i = 0; i < 16; i++) r.v[i] = (m >> i & 1) ? ((const float *)p)[i] : 0.0f; return r; }
static inline void _mm512_storeu_ps(void *p, __m512 a) { for (int i = 0; i < 16; i++) ((float *)p)[i] = a.v[i]; }
static inline void _mm512_mask_storeu_ps(void *p, __mmask16 m, __m512 a) { for (int i = 0; i < 16; i++) if (m >> i & 1) ((float *)p)[i] = a.v[i]; }
static inline __m512 _mm512_add_ps(__m512 a, __m512 b) { for (int i = 0; i < 16; i++) a.v[i] += b.v[i]; return a; }
static inline __m512 _mm512_fmadd_ps(__m512 a, __m512 b, __m512 c) { for (int i = 0; i < 16; i++) c.v[i] = fmaf(a.v[i], b.v[i], c.v[i]); return c; }
/* x86 MAXPS/MINPS: the second operand when either is NaN or both are equal */
static inline __m512 _mm512_max_ps(__m512 a, __m512 b) { for (int i = 0; i < 16; i++) a.v[i] = a.v[i] > b.v[i] ? a.v[i] : b.v[i]; return a; }
static inline __m512 _mm512_min_ps(__m512 a, __m512 b) { for (int i = 0; i < 16; i++) a.v[i] = a.v[i] < b.v[i] ? a.v[i] : b.v[i]; return a; }

/* ---- integer intrinsics of src/kernels/x86/s8_qgemm_avx512vnni.c ---- */
#include <string.h>
typedef union { int8_t b[64]; uint8_t ub[64]; int32_t d[16]; uint32_t ud[16]; int64_t q[8]; uint64_t uq[8]; } __m512i;
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
