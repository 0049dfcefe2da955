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
