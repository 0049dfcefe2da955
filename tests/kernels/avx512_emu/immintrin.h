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
/* VPMOVSDB / VPMOVUSDB to memory: signed (int32 -> int8) / unsigned (uint32 -> uint8) saturation */
static inline void _mm512_mask_cvtsepi32_storeu_epi8(void *p, __mmask16 m, __m512i a) { for (int i = 0; i < 16; i++) if (m >> i & 1) ((int8_t *)p)[i] = (int8_t)(a.d[i] < -128 ? -128 : a.d[i] > 127 ? 127 : a.d[i]); }
static inline void _mm512_mask_cvtusepi32_storeu_epi8(void *p, __mmask16 m, __m512i a) { for (int i = 0; i < 16; i++) if (m >> i & 1) ((uint8_t *)p)[i] = (uint8_t)(a.ud[i] > 255 ? 255 : a.ud[i]); }

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
