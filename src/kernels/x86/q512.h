/* q512.h: the parts of the 8-bit GEMM that the byte-group (kgroup 4) AVX-512 kernels share
 * (s8_qgemm_avx512vnni.c, s8_qgemm_amx.c): packing A rows as uint8 byte groups with their row
 * sums, and the exact requantization of 16 int32 columns to bytes (tc_q_mul's double rounding
 * in 64-bit lanes, or the folded form for `plain` layers; see qgemm.h). Static inline: include
 * only from files compiled with at least -mavx512f -mavx512bw -mavx512vl -mavx512vnni.
 * tests/kernels/avx512_emu/ runs both kernels on a scalar immintrin.h. */
#ifndef TC_KERNELS_X86_Q512_H
#define TC_KERNELS_X86_Q512_H

#include <immintrin.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/qgemm.h"

/* bytes [0, n) on, n in 0..64 */
static inline __mmask64 q512_byte_mask(size_t n) {
  return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
}
/* lanes [0, n) on, n in 0..16 */
static inline __mmask16 q512_lane_mask(size_t n) {
  return n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

/* Rows of an mr-row strip one after the other, row_bytes apart: each segment's bytes (xor 0x80
 * for int8: x + 128 as uint8) followed by zeros up to a multiple of 4, then zeros up to
 * row_bytes (>= n_seg * the padded segment); masked loads read exactly the segments' bytes.
 * The row sums (of the uint8 bytes, wrapped to int32) follow the mr rows; rows >= `rows` are
 * not written (their sums are 0). */
static inline void q512_pack_rows(size_t mr, size_t row_bytes, size_t rows, size_t n_seg,
                                  size_t seg_len, const void *const *src, int flags,
                                  int16_t *dst16) {
  const size_t seg_pad = (seg_len + 3) / 4 * 4, used = n_seg * seg_pad;
  uint8_t *dst = (uint8_t *)dst16;
  int32_t *sums = (int32_t *)(dst + mr * row_bytes);
  const __m512i flip = _mm512_set1_epi32((flags & TC_QGEMM_A_U8) ? 0 : (int32_t)0x80808080u);
  const __m512i ones = _mm512_set1_epi8(1);
  for (size_t r = 0; r < mr; r++) {
    if (r >= rows) {
      sums[r] = 0;
      continue;
    }
    uint8_t *d = dst + r * row_bytes;
    __m512i sum = _mm512_setzero_si512();
    for (size_t sg = 0; sg < n_seg; sg++, d += seg_pad) {
      const uint8_t *s = src[r * n_seg + sg];
      for (size_t kk = 0; kk < seg_pad; kk += 64) { /* kk < seg_len here (see seg_pad) */
        const __mmask64 m = q512_byte_mask(seg_len - kk);
        __m512i v = _mm512_maskz_loadu_epi8(m, s + kk);
        v = _mm512_maskz_mov_epi8(m, _mm512_xor_si512(v, flip));
        sum = _mm512_dpbusd_epi32(sum, v, ones);
        _mm512_mask_storeu_epi8(d + kk, q512_byte_mask(seg_pad - kk), v);
      }
    }
    for (size_t kk = used; kk < row_bytes; kk += 64) /* the zero groups past the segments */
      _mm512_mask_storeu_epi8(dst + r * row_bytes + kk, q512_byte_mask(row_bytes - kk),
                              _mm512_setzero_si512());
    sums[r] = _mm512_reduce_add_epi32(sum);
  }
}

/* ---- the output stage ----------------------------------------------------------------------- */

/* The lower bound of the stored bytes: the activation minimum within the output type. */
static inline int32_t q512_lo(const tc_qgemm_cols *q) {
  const int32_t lo_t = q->out_u8 ? 0 : -128;
  return q->act_min > lo_t ? q->act_min : lo_t;
}
static inline int32_t q512_hi(const tc_qgemm_cols *q) {
  const int32_t hi_t = q->out_u8 ? 255 : 127;
  return q->act_max < hi_t ? q->act_max : hi_t;
}

/* What the accumulators of columns j .. j+15 start with: the bias, plus 2^31 (wrapping) for
 * `plain` layers, whose requantization reads u = x + 2^31 as an unsigned word (see
 * q512_requant16). */
static inline __attribute__((always_inline)) __m512i q512_bias(const tc_qgemm_cols *q, size_t j) {
  const __m512i b = _mm512_loadu_si512(q->bias + j);
  return q->plain && !q->fq ? _mm512_xor_si512(b, _mm512_set1_epi32((int32_t)0x80000000u)) : b;
}

/* Per-column requantization parameters of 16 columns, loaded once per panel. */
typedef struct q512_rq {
  __m512i m, m_odd, rsh, lsh, rmask, rhalf, rc_even, rc_odd;
  __m512 fs;    /* fq: the float scales */
  __m512i fsub; /* fq: fq_sub */
  int sign; /* plain: the x < 0 correction is needed (see q512_requant16) */
} q512_rq;

static inline __attribute__((always_inline)) q512_rq q512_rq_load(const tc_qgemm_cols *q, size_t j) {
  q512_rq p;
  p.rsh = _mm512_loadu_si512(q->rshift + j);
  if (q->fq) {
    p.fs = _mm512_loadu_ps(q->fscale + j);
    p.fsub = _mm512_loadu_si512(q->fq_sub + j);
    p.m = p.m_odd = p.lsh = p.rmask = p.rhalf = p.rc_even = p.rc_odd = p.rsh; /* (unused) */
    p.sign = 0;
    return p;
  }
  p.fs = _mm512_setzero_ps();
  p.fsub = _mm512_setzero_si512();
  if (q->plain) {
    /* 2m per column (< 2^32, read unsigned), and per 64-bit lane the constant
     * 2^31 + 2^(31 + rshift) + (out_zp 2^rshift - m - sign) 2^32: twice qgemm.h's rconst, less
     * the m 2^32 that the offset 2^31 of u adds to u 2m, less 2^32 where the x < 0 term follows
     * (rshift >= 1 for plain layers; see q512_requant16) */
    const __m512i m = _mm512_loadu_si512(q->mult + j), mo = _mm512_loadu_si512(q->mult + j + 1);
    p.m = _mm512_add_epi32(m, m);
    p.m_odd = _mm512_add_epi32(mo, mo);
    p.sign = q->neg_term; /* (qgemm.h) */
    const __m512i lo32 = _mm512_set1_epi64(0xffffffffll), b31 = _mm512_set1_epi64(1ll << 31);
    const __m512i zp = _mm512_set1_epi64((long long)q->out_zp);
    const __m512i sg = _mm512_set1_epi64(p.sign ? 1 : 0);
    const __m512i sh_e = _mm512_and_si512(p.rsh, lo32), sh_o = _mm512_srli_epi64(p.rsh, 32);
    const __m512i hi_e = _mm512_sub_epi64(
        _mm512_sub_epi64(_mm512_sllv_epi64(zp, sh_e), _mm512_and_si512(m, lo32)), sg);
    const __m512i hi_o = _mm512_sub_epi64(
        _mm512_sub_epi64(_mm512_sllv_epi64(zp, sh_o), _mm512_and_si512(mo, lo32)), sg);
    p.rc_even = _mm512_add_epi64(_mm512_add_epi64(b31, _mm512_sllv_epi64(b31, sh_e)),
                                 _mm512_slli_epi64(hi_e, 32));
    p.rc_odd = _mm512_add_epi64(_mm512_add_epi64(b31, _mm512_sllv_epi64(b31, sh_o)),
                                _mm512_slli_epi64(hi_o, 32));
    p.lsh = p.rmask = p.rhalf = p.rsh;
  } else {
    p.m = _mm512_loadu_si512(q->mult + j);
    p.m_odd = _mm512_loadu_si512(q->mult + j + 1);
    p.sign = 1;
    p.lsh = _mm512_loadu_si512(q->lshift + j);
    p.rmask = _mm512_loadu_si512(q->rmask + j);
    p.rhalf = _mm512_loadu_si512(q->rhalf + j);
    p.rc_even = p.rc_odd = p.rsh;
  }
  return p;
}

/* tc_q_mul_double(x, mult, shift) + out_zp (wrapping), not yet clamped, of the accumulators
 * `a`, which started at q512_bias: the AVX2 kernel's requant8 on 16 columns (see
 * s8_qgemm_avx2.c and qgemm.h for the two forms).
 * The plain form (|x| < 2^30) takes V = 2 x m + 2 rconst, whose high dword is
 * floor((x m + rconst) / 2^31), the folded rounding with out_zp inside: a reads u = x + 2^31 as
 * an unsigned word, and u 2m + rc (one vpmuludq and one add per 64-bit lane, the m 2^32 this
 * adds taken out of rc) is V - 2^32 sign, modulo 2^64; one vpermt2d gathers the 16 high dwords.
 * The - (x < 0) term is then - 1 - (u >> 31) arithmetic, the -1 in rc; it is skipped where the
 * stored bytes cannot go below out_zp (p->sign == 0), since for x < 0 both floors are at most
 * out_zp (2 x m <= 0 and 2^31 + 2^(31 + rshift) < 2^(32 + rshift)), clamped alike.
 * 7 operations per 16 columns (9 with the x < 0 term), against 12 with a shift per half, a
 * blend and an add. */
static inline __attribute__((always_inline)) __m512i q512_requant16(__m512i a, const q512_rq *p,
                                                                    const tc_qgemm_cols *q,
                                                                    __m512i zp) {
  if (q->fq) { /* qmath.h's tc_q_float_fit: 3 operations and an add (out_zp is in fq_sub), and
               * the x < 0 term where stores can go below out_zp */
    const __m512 y = _mm512_fmadd_ps(_mm512_cvtepi32_ps(a), p->fs, _mm512_set1_ps(12582912.0f));
    __m512i r = _mm512_sub_epi32(_mm512_castps_si512(y), p->fsub);
    if (q->neg_term) r = _mm512_add_epi32(r, _mm512_srai_epi32(a, 31));
    return _mm512_srav_epi32(r, p->rsh);
  }
  if (q->plain) {
    const __m512i even = _mm512_add_epi64(_mm512_mul_epu32(a, p->m), p->rc_even);
    const __m512i odd =
        _mm512_add_epi64(_mm512_mul_epu32(_mm512_srli_epi64(a, 32), p->m_odd), p->rc_odd);
    const __m512i hi = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
    __m512i s = _mm512_permutex2var_epi32(even, hi, odd);
    if (p->sign) s = _mm512_sub_epi32(s, _mm512_srai_epi32(a, 31));
    return _mm512_srav_epi32(s, p->rsh); /* (out_zp is in rc) */
  }
  __m512i x = a, r;
  if (q->any_lshift) x = _mm512_sllv_epi32(x, p->lsh);
  const __m512i nudge = _mm512_set1_epi64(1ll << 30);
  __m512i even = _mm512_mul_epi32(x, p->m);
  __m512i odd = _mm512_mul_epi32(_mm512_srli_epi64(x, 32), p->m_odd);
  even = _mm512_srli_epi64(_mm512_add_epi64(even, nudge), 31);
  odd = _mm512_slli_epi64(_mm512_add_epi64(odd, nudge), 1);
  const __m512i s = _mm512_mask_blend_epi32(0xAAAA, even, odd);
  const __m512i rem = _mm512_and_si512(s, p->rmask);
  const __m512i thr = _mm512_add_epi32(p->rhalf, _mm512_srli_epi32(s, 31));
  r = _mm512_srav_epi32(s, p->rsh);
  r = _mm512_mask_sub_epi32(r, _mm512_cmpgt_epi32_mask(rem, thr), r, _mm512_set1_epi32(-1));
  return _mm512_add_epi32(r, zp);
}

/* The bytes of four vectors of q512_requant16 (16 columns each), v0's 16 first: saturating
 * packs to int16 and to bytes, the activation clamp on the bytes where it is narrower than the
 * type (lo8 / hi8: q512_lo / q512_hi in every byte), then one dword permutation gathering each
 * vector's bytes (the packs interleave them by 128-bit lane). 4 to 6 operations per 64 bytes,
 * against 8 to 12 with a narrowing store per vector. */
static inline __attribute__((always_inline)) __m512i q512_pack64_as(__m512i v0, __m512i v1,
                                                                   __m512i v2, __m512i v3,
                                                                   int out_u8, int clamp,
                                                                   __m512i lo8, __m512i hi8) {
  const __m512i w0 = _mm512_packs_epi32(v0, v1), w1 = _mm512_packs_epi32(v2, v3);
  __m512i b;
  if (out_u8) {
    b = _mm512_packus_epi16(w0, w1);
    if (clamp) b = _mm512_min_epu8(_mm512_max_epu8(b, lo8), hi8);
  } else {
    b = _mm512_packs_epi16(w0, w1);
    if (clamp) b = _mm512_min_epi8(_mm512_max_epi8(b, lo8), hi8);
  }
  return _mm512_permutexvar_epi32(
      _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), b);
}
/* (the form and clamp read from q) */
static inline __attribute__((always_inline)) __m512i q512_pack64(__m512i v0, __m512i v1,
                                                                __m512i v2, __m512i v3,
                                                                const tc_qgemm_cols *q,
                                                                __m512i lo8, __m512i hi8) {
  return q512_pack64_as(v0, v1, v2, v3, q->out_u8, q->clamp, lo8, hi8);
}

/* Stores the lanes of m of q512_requant16's v as bytes clamped to [lo, hi], the activation range
 * within the output type. Where that is the type's whole range (!q->clamp), the narrowing store
 * saturates instead of a min and a max: vpmovsdb for int8, vpmovusdb after a max with 0 for
 * uint8 (it reads lanes as unsigned). */
static inline __attribute__((always_inline)) void q512_store16(void *dst, __mmask16 m, __m512i v,
                                                              const tc_qgemm_cols *q, __m512i lo,
                                                              __m512i hi) {
  if (q->clamp)
    _mm512_mask_cvtepi32_storeu_epi8(dst, m, _mm512_min_epi32(_mm512_max_epi32(v, lo), hi));
  else if (q->out_u8)
    _mm512_mask_cvtusepi32_storeu_epi8(dst, m, _mm512_max_epi32(v, _mm512_setzero_si512()));
  else
    _mm512_mask_cvtsepi32_storeu_epi8(dst, m, v);
}

#endif /* TC_KERNELS_X86_Q512_H */
