/* binary_avx2.c: AVX2 broadcasting elementwise kernels: float ADD, SUB, MUL, DIV, MAXIMUM,
 * MINIMUM, SQUARED_DIFFERENCE and quantized (int8 / uint8) ADD, SUB and MUL. The broadcast is
 * walked as the reference does (flat when both operands have the output's shape or one is a
 * scalar, otherwise rows of the innermost axis), and every row is a vector loop whose operands
 * are either contiguous or one broadcast value: that covers same-shape, scalar and per-channel
 * ([..., C] with [C]) operands at full speed. Each lane does exactly the reference's scalar
 * operations (one IEEE operation per float op; vmaxps/vminps with the reference's operand
 * order; the quantized rescaling with the lane-wise tc_q_srdhm / tc_q_rdivpot / tc_q_mul of
 * vec_avx2.h), so the results are bit-exact with the reference kernels. 8-bit ADD/SUB given a
 * linear form (vec_ops.h tc_qadd_lin, proven on all byte pairs at prepare) use it instead: two
 * vpmaddwd per 8 outputs. */
#include "kernels/vec_ops.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#include <string.h>

#include "kernels/x86/vec_avx2.h"

/* Walks the broadcast: calls SPAN(a_ptr, a_step, b_ptr, b_step, out_ptr, n) with steps 0 or 1. */
#define WALK(bc, a, b, out, SPAN)                                                            \
  do {                                                                                       \
    const size_t n_out_ = (bc)->n_out;                                                       \
    if (n_out_ == 0) break;                                                                  \
    if ((bc)->n_a == n_out_ && (bc)->n_b == n_out_) {                                        \
      SPAN((a), 1, (b), 1, (out), n_out_);                                                   \
      break;                                                                                 \
    }                                                                                        \
    if ((bc)->n_a == 1) {                                                                    \
      SPAN((a), 0, (b), 1, (out), n_out_);                                                   \
      break;                                                                                 \
    }                                                                                        \
    if ((bc)->n_b == 1) {                                                                    \
      SPAN((a), 1, (b), 0, (out), n_out_);                                                   \
      break;                                                                                 \
    }                                                                                        \
    const int last_ = (bc)->n_dims - 1;                                                      \
    const size_t inner_ = (size_t)(bc)->dims[last_];                                         \
    const int sa_ = (bc)->a_stride[last_] != 0, sb_ = (bc)->b_stride[last_] != 0;            \
    int32_t idx_[TC_MAX_DIMS] = {0};                                                         \
    for (size_t o_ = 0; o_ < n_out_; o_ += inner_) {                                         \
      size_t ia_ = 0, ib_ = 0;                                                               \
      for (int d_ = 0; d_ < last_; d_++) {                                                   \
        ia_ += (size_t)idx_[d_] * (bc)->a_stride[d_];                                        \
        ib_ += (size_t)idx_[d_] * (bc)->b_stride[d_];                                        \
      }                                                                                      \
      SPAN((a) + ia_, sa_, (b) + ib_, sb_, (out) + o_, inner_);                              \
      for (int d_ = last_ - 1; d_ >= 0; d_--) {                                              \
        if (++idx_[d_] < (bc)->dims[d_]) break;                                              \
        idx_[d_] = 0;                                                                        \
      }                                                                                      \
    }                                                                                        \
  } while (0)

/* ---- float ---------------------------------------------------------------------------------- */

static inline __attribute__((always_inline)) __m256 f_op(tc_binop op, __m256 x, __m256 y) {
  switch (op) {
  case TC_BINOP_ADD: return _mm256_add_ps(x, y);
  case TC_BINOP_SUB: return _mm256_sub_ps(x, y);
  case TC_BINOP_MUL: return _mm256_mul_ps(x, y);
  case TC_BINOP_DIV: return _mm256_div_ps(x, y);
  case TC_BINOP_MAXIMUM: return _mm256_max_ps(x, y); /* x > y ? x : y */
  case TC_BINOP_MINIMUM: return _mm256_min_ps(x, y); /* x < y ? x : y */
  default: {
    __m256 d = _mm256_sub_ps(x, y);
    return _mm256_mul_ps(d, d);
  }
  }
}

static inline __attribute__((always_inline)) void f32_span(tc_binop op, const float *a, int sa,
                                                           const float *b, int sb, float *o,
                                                           size_t n, __m256 lo, __m256 hi) {
  const __m256 va0 = _mm256_broadcast_ss(a), vb0 = _mm256_broadcast_ss(b);
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    __m256 x0 = sa ? _mm256_loadu_ps(a + i) : va0, x1 = sa ? _mm256_loadu_ps(a + i + 8) : va0;
    __m256 y0 = sb ? _mm256_loadu_ps(b + i) : vb0, y1 = sb ? _mm256_loadu_ps(b + i + 8) : vb0;
    __m256 r0 = f_op(op, x0, y0), r1 = f_op(op, x1, y1);
    /* the reference clamp v < lo ? lo : (v > hi ? hi : v), NaN passing through */
    _mm256_storeu_ps(o + i, _mm256_min_ps(hi, _mm256_max_ps(lo, r0)));
    _mm256_storeu_ps(o + i + 8, _mm256_min_ps(hi, _mm256_max_ps(lo, r1)));
  }
  for (; i < n; i += 8) {
    const __m256i m = tc__avx2_tail_mask((int32_t)(n - i < 8 ? n - i : 8));
    __m256 x = sa ? _mm256_maskload_ps(a + i, m) : va0;
    __m256 y = sb ? _mm256_maskload_ps(b + i, m) : vb0;
    _mm256_maskstore_ps(o + i, m, _mm256_min_ps(hi, _mm256_max_ps(lo, f_op(op, x, y))));
  }
}

#define DEFINE_F32(NAME)                                                                  \
  static void NAME(const tc_bcast *bc, const float *a, const float *b, float *out, __m256 lo,  \
                   __m256 hi) {                                                               \
    WALK(bc, a, b, out, SPAN_##NAME);                                                         \
  }

#define SPAN_f32_add(a, sa, b, sb, o, n) f32_span(TC_BINOP_ADD, a, sa, b, sb, o, n, lo, hi)
#define SPAN_f32_sub(a, sa, b, sb, o, n) f32_span(TC_BINOP_SUB, a, sa, b, sb, o, n, lo, hi)
#define SPAN_f32_mul(a, sa, b, sb, o, n) f32_span(TC_BINOP_MUL, a, sa, b, sb, o, n, lo, hi)
#define SPAN_f32_div(a, sa, b, sb, o, n) f32_span(TC_BINOP_DIV, a, sa, b, sb, o, n, lo, hi)
#define SPAN_f32_max(a, sa, b, sb, o, n) f32_span(TC_BINOP_MAXIMUM, a, sa, b, sb, o, n, lo, hi)
#define SPAN_f32_min(a, sa, b, sb, o, n) f32_span(TC_BINOP_MINIMUM, a, sa, b, sb, o, n, lo, hi)
#define SPAN_f32_sqd(a, sa, b, sb, o, n) \
  f32_span(TC_BINOP_SQUARED_DIFFERENCE, a, sa, b, sb, o, n, lo, hi)
DEFINE_F32(f32_add)
DEFINE_F32(f32_sub)
DEFINE_F32(f32_mul)
DEFINE_F32(f32_div)
DEFINE_F32(f32_max)
DEFINE_F32(f32_min)
DEFINE_F32(f32_sqd)

tc_f32_binary_kernel tc_f32_binary__avx2;
void tc_f32_binary__avx2(tc_binop op, const tc_bcast *bc, const float *a, const float *b,
                         float *out, float lo, float hi) {
  const __m256 vlo = _mm256_set1_ps(lo), vhi = _mm256_set1_ps(hi);
  switch (op) {
  case TC_BINOP_ADD: f32_add(bc, a, b, out, vlo, vhi); return;
  case TC_BINOP_SUB: f32_sub(bc, a, b, out, vlo, vhi); return;
  case TC_BINOP_MUL: f32_mul(bc, a, b, out, vlo, vhi); return;
  case TC_BINOP_DIV: f32_div(bc, a, b, out, vlo, vhi); return;
  case TC_BINOP_MAXIMUM: f32_max(bc, a, b, out, vlo, vhi); return;
  case TC_BINOP_MINIMUM: f32_min(bc, a, b, out, vlo, vhi); return;
  case TC_BINOP_SQUARED_DIFFERENCE: f32_sqd(bc, a, b, out, vlo, vhi); return;
  default: tc_f32_binary__ref(op, bc, a, b, out, lo, hi); return;
  }
}

/* ---- 8-bit ---------------------------------------------------------------------------------- */

/* n (<= 8) bytes widened to int32 lanes. */
static inline __attribute__((always_inline)) __m256i ld8(const uint8_t *s, size_t n, int is_u8) {
  __m128i v;
  if (n >= 8) v = _mm_loadl_epi64((const __m128i *)s);
  else {
    uint8_t buf[16] = {0};
    memcpy(buf, s, n);
    v = _mm_loadu_si128((const __m128i *)buf);
  }
  return is_u8 ? _mm256_cvtepu8_epi32(v) : _mm256_cvtepi8_epi32(v);
}

/* Stores n (<= 8) int32 lanes (already within the type's range) as bytes. */
static inline __attribute__((always_inline)) void st8(uint8_t *d, __m256i v, size_t n, int is_u8) {
  __m256i w16 = _mm256_packs_epi32(v, v);
  __m256i b8 = is_u8 ? _mm256_packus_epi16(w16, w16) : _mm256_packs_epi16(w16, w16);
  __m128i r = _mm_unpacklo_epi32(_mm256_castsi256_si128(b8), _mm256_extracti128_si256(b8, 1));
  if (n >= 8) _mm_storel_epi64((__m128i *)d, r);
  else {
    uint8_t buf[16];
    _mm_storeu_si128((__m128i *)buf, r);
    memcpy(d, buf, n);
  }
}

typedef struct qadd_vec {
  __m256i off1, off2, m1, m2, e1, e2, mo, eo, zo, lo, hi;
  int left;
} qadd_vec;

static inline __attribute__((always_inline)) __m256i qadd_lanes(const qadd_vec *k, __m256i x,
                                                                __m256i y, int is_sub) {
  __m256i sx = _mm256_sll_epi32(_mm256_add_epi32(x, k->off1), _mm_cvtsi32_si128(k->left));
  __m256i sy = _mm256_sll_epi32(_mm256_add_epi32(y, k->off2), _mm_cvtsi32_si128(k->left));
  sx = tc__avx2_rdivpot(tc__avx2_srdhm(sx, k->m1), k->e1);
  sy = tc__avx2_rdivpot(tc__avx2_srdhm(sy, k->m2), k->e2);
  __m256i raw = is_sub ? _mm256_sub_epi32(sx, sy) : _mm256_add_epi32(sx, sy);
  __m256i r = _mm256_add_epi32(tc__avx2_rdivpot(tc__avx2_srdhm(raw, k->mo), k->eo), k->zo);
  return _mm256_min_epi32(_mm256_max_epi32(r, k->lo), k->hi);
}

static inline __attribute__((always_inline)) void qadd_span(const qadd_vec *k, const uint8_t *a,
                                                            int sa, const uint8_t *b, int sb,
                                                            uint8_t *o, size_t n, int is_u8,
                                                            int is_sub) {
  const __m256i xa = _mm256_set1_epi32(is_u8 ? (int32_t)a[0] : (int32_t)(int8_t)a[0]);
  const __m256i xb = _mm256_set1_epi32(is_u8 ? (int32_t)b[0] : (int32_t)(int8_t)b[0]);
  for (size_t i = 0; i < n; i += 8) {
    const size_t m = n - i < 8 ? n - i : 8;
    __m256i x = sa ? ld8(a + i, m, is_u8) : xa, y = sb ? ld8(b + i, m, is_u8) : xb;
    st8(o + i, qadd_lanes(k, x, y, is_sub), m, is_u8);
  }
}

/* ---- 8-bit ADD / SUB, short exact form ------------------------------------------------------
 * For 8-bit data (left shift 20, offsets within +-255, multipliers in [0, 2^31), shifts <= 0,
 * which tc_qadd_params_init produces for every valid model) each step of the reference has a
 * cheaper exact equivalent:
 *  - input rescale: v = x + offset has |v| <= 510, and srdhm(v 2^20, m) = floor((v m + 2^10) /
 *    2^11) (vec_avx2.h: srdhm(a, b) = floor((a b + 2^30) / 2^31)); with m = mh 2^11 + ml that
 *    is v mh + floor((v ml + 2^10) / 2^11), two 32-bit products;
 *  - rdivpot(t, e), e >= 1: floor((t + 2^(e-1) - [t < 0]) / 2^e), no overflow as |t| < 2^29;
 *    t < 0 exactly when v < 0 (m >= 2^30 > 0), and the half is folded into the constant above;
 *  - output: srdhm(raw, mo) with the half of its rdivpot folded into the 64-bit rounding
 *    constant, and [srdhm < 0] replaced by [raw < 0] (mo >= 0; a zero product rounds to 0
 *    either way), then one arithmetic shift.
 * Outputs are bit-exact with the reference; other parameters take the general path below. */
typedef struct qadd_fast {
  __m256i off1, off2, mh1, ml1, mh2, ml2, c1, c2, mo, co, zo;
  __m128i e1, e2, eo;
  int r1, r2, ro;       /* the rounding shift is not 0 */
  int32_t lo32, hi32;   /* activation range */
} qadd_fast;

static int qadd_fast_ok(const tc_qadd_params *p) {
  return p->left_shift == 20 && p->in1_offset >= -255 && p->in1_offset <= 255 &&
         p->in2_offset >= -255 && p->in2_offset <= 255 && p->in1_mult >= 0 && p->in2_mult >= 0 &&
         p->out_mult >= 0 && p->in1_shift <= 0 && p->in1_shift >= -19 && p->in2_shift <= 0 &&
         p->in2_shift >= -19 && p->out_shift <= 0 && p->out_shift >= -31 &&
         p->act_min <= p->act_max;
}

static void qadd_fast_init(qadd_fast *k, const tc_qadd_params *p) {
  const int e1 = -p->in1_shift, e2 = -p->in2_shift, eo = -p->out_shift;
  k->off1 = _mm256_set1_epi32(p->in1_offset);
  k->off2 = _mm256_set1_epi32(p->in2_offset);
  k->mh1 = _mm256_set1_epi32(p->in1_mult >> 11);
  k->ml1 = _mm256_set1_epi32(p->in1_mult & 2047);
  k->mh2 = _mm256_set1_epi32(p->in2_mult >> 11);
  k->ml2 = _mm256_set1_epi32(p->in2_mult & 2047);
  k->c1 = _mm256_set1_epi32(1024 + (e1 ? (int32_t)2048 << (e1 - 1) : 0)); /* e1 <= 19 */
  k->c2 = _mm256_set1_epi32(1024 + (e2 ? (int32_t)2048 << (e2 - 1) : 0));
  k->mo = _mm256_set1_epi32(p->out_mult);
  k->co = _mm256_set1_epi64x(((int64_t)1 << 30) + (eo ? ((int64_t)1 << (eo - 1)) << 31 : 0));
  k->zo = _mm256_set1_epi32(p->out_offset);
  k->e1 = _mm_cvtsi32_si128(e1);
  k->e2 = _mm_cvtsi32_si128(e2);
  k->eo = _mm_cvtsi32_si128(eo);
  k->r1 = e1 != 0, k->r2 = e2 != 0, k->ro = eo != 0;
  k->lo32 = p->act_min, k->hi32 = p->act_max;
}

/* One input brought to the common scale (the reference's qadd_scale). */
static inline __attribute__((always_inline)) __m256i qf_in(__m256i x, __m256i off, __m256i mh,
                                                           __m256i ml, __m256i c, __m128i e,
                                                           int r) {
  const __m256i v = _mm256_add_epi32(x, off);
  __m256i t =
      _mm256_add_epi32(_mm256_mullo_epi32(v, mh),
                       _mm256_srai_epi32(_mm256_add_epi32(_mm256_mullo_epi32(v, ml), c), 11));
  if (r) t = _mm256_sra_epi32(_mm256_add_epi32(t, _mm256_srai_epi32(v, 31)), e);
  return t;
}

/* raw -> output value before the clamp. */
static inline __attribute__((always_inline)) __m256i qf_out(const qadd_fast *k, __m256i raw) {
  __m256i even = _mm256_mul_epi32(raw, k->mo);
  __m256i odd = _mm256_mul_epi32(_mm256_srli_epi64(raw, 32), k->mo);
  even = _mm256_srli_epi64(_mm256_add_epi64(even, k->co), 31);
  odd = _mm256_slli_epi64(_mm256_add_epi64(odd, k->co), 1);
  __m256i r = _mm256_blend_epi32(even, odd, 0xAA);
  if (k->ro) r = _mm256_sra_epi32(_mm256_add_epi32(r, _mm256_srai_epi32(raw, 31)), k->eo);
  return _mm256_add_epi32(r, k->zo);
}

static inline __attribute__((always_inline)) __m256i qf_lanes(const qadd_fast *k, __m256i x,
                                                              __m256i y, int is_sub) {
  const __m256i sx = qf_in(x, k->off1, k->mh1, k->ml1, k->c1, k->e1, k->r1);
  const __m256i sy = qf_in(y, k->off2, k->mh2, k->ml2, k->c2, k->e2, k->r2);
  return qf_out(k, is_sub ? _mm256_sub_epi32(sx, sy) : _mm256_add_epi32(sx, sy));
}

/* 8 bytes widened to int32. */
static inline __attribute__((always_inline)) __m256i ldb8(const uint8_t *s, int is_u8) {
  const __m128i v = _mm_loadl_epi64((const __m128i *)s);
  return is_u8 ? _mm256_cvtepu8_epi32(v) : _mm256_cvtepi8_epi32(v);
}

static inline __attribute__((always_inline)) void qf_span(const qadd_fast *k, __m256i lo8,
                                                          __m256i hi8, const uint8_t *a, int sa,
                                                          const uint8_t *b, int sb, uint8_t *o,
                                                          size_t n, int is_u8, int is_sub) {
  const __m256i xa = _mm256_set1_epi32(is_u8 ? (int32_t)a[0] : (int32_t)(int8_t)a[0]);
  const __m256i xb = _mm256_set1_epi32(is_u8 ? (int32_t)b[0] : (int32_t)(int8_t)b[0]);
  const __m256i perm = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m256i r[4];
    for (int j = 0; j < 4; j++) {
      const __m256i x = sa ? ldb8(a + i + 8 * j, is_u8) : xa;
      const __m256i y = sb ? ldb8(b + i + 8 * j, is_u8) : xb;
      r[j] = qf_lanes(k, x, y, is_sub);
    }
    const __m256i w01 = _mm256_packs_epi32(r[0], r[1]), w23 = _mm256_packs_epi32(r[2], r[3]);
    __m256i v = is_u8 ? _mm256_packus_epi16(w01, w23) : _mm256_packs_epi16(w01, w23);
    v = _mm256_permutevar8x32_epi32(v, perm);
    v = is_u8 ? _mm256_min_epu8(_mm256_max_epu8(v, lo8), hi8)
              : _mm256_min_epi8(_mm256_max_epi8(v, lo8), hi8);
    _mm256_storeu_si256((__m256i *)(o + i), v);
  }
  const __m256i lo = _mm256_set1_epi32(k->lo32), hi = _mm256_set1_epi32(k->hi32);
  for (; i < n; i += 8) {
    const size_t m = n - i < 8 ? n - i : 8;
    __m256i x = sa ? ld8(a + i, m, is_u8) : xa, y = sb ? ld8(b + i, m, is_u8) : xb;
    st8(o + i, _mm256_min_epi32(_mm256_max_epi32(qf_lanes(k, x, y, is_sub), lo), hi), m, is_u8);
  }
}

/* ---- 8-bit ADD / SUB, linear form (vec_ops.h tc_qadd_lin, proven by tc_qadd_lin_fit) ------
 * The input bytes are interleaved and widened to int16 (x, y) pairs, so one vpmaddwd gives
 * a_hi x + b_hi y and another a_lo x + b_lo y for 8 outputs; 32 outputs per iteration are
 * packed back with saturation (the clamp to the type's range) and clamped to the activation
 * range as bytes. About 40 instructions per 32 outputs against ~140 for the short exact form;
 * the 8 arithmetic shifts and 9 shuffles share two ports on Zen 3 and bound the loop. */
typedef struct qlin_vec {
  __m256i khi, klo, chi, clo, lo8, hi8;
  __m128i sh;
} qlin_vec;

static void qlin_init(qlin_vec *k, const tc_qadd_lin *l) {
  k->khi = _mm256_set1_epi32((int32_t)(((uint32_t)l->b_hi << 16) | ((uint32_t)l->a_hi & 0xFFFF)));
  k->klo = _mm256_set1_epi32((int32_t)(((uint32_t)l->b_lo << 16) | ((uint32_t)l->a_lo & 0xFFFF)));
  k->chi = _mm256_set1_epi32(l->c_hi);
  k->clo = _mm256_set1_epi32(l->c_lo);
  k->lo8 = _mm256_set1_epi8((char)l->act_min);
  k->hi8 = _mm256_set1_epi8((char)l->act_max);
  k->sh = _mm_cvtsi32_si128(l->shift);
}

/* 8 outputs (int32) from 8 interleaved (x, y) int16 pairs. */
static inline __attribute__((always_inline)) __m256i qlin_eval(const qlin_vec *k, __m256i xy) {
  const __m256i h = _mm256_add_epi32(_mm256_madd_epi16(xy, k->khi), k->chi);
  const __m256i l = _mm256_srai_epi32(_mm256_add_epi32(_mm256_madd_epi16(xy, k->klo), k->clo), 16);
  return _mm256_sra_epi32(_mm256_add_epi32(h, l), k->sh);
}

/* 32 outputs from 32 bytes of each input. The bytes are interleaved as (x, y) pairs and
 * widened to int16 with their sign bytes (zero bytes for uint8); the 128-bit lanes of the
 * unpacks hold elements 0-3 | 16-19, 4-7 | 20-23, 8-11 | 24-27 and 12-15 | 28-31, which the
 * two packing steps put back in order. */
static inline __attribute__((always_inline)) __m256i qlin_32(const qlin_vec *k, __m256i x,
                                                             __m256i y, int is_u8) {
  const __m256i z = _mm256_setzero_si256();
  const __m256i p0 = _mm256_unpacklo_epi8(x, y), p1 = _mm256_unpackhi_epi8(x, y);
  const __m256i s0 = is_u8 ? z : _mm256_cmpgt_epi8(z, p0);
  const __m256i s1 = is_u8 ? z : _mm256_cmpgt_epi8(z, p1);
  const __m256i w0 = _mm256_packs_epi32(qlin_eval(k, _mm256_unpacklo_epi8(p0, s0)),
                                        qlin_eval(k, _mm256_unpackhi_epi8(p0, s0)));
  const __m256i w1 = _mm256_packs_epi32(qlin_eval(k, _mm256_unpacklo_epi8(p1, s1)),
                                        qlin_eval(k, _mm256_unpackhi_epi8(p1, s1)));
  const __m256i v = is_u8 ? _mm256_packus_epi16(w0, w1) : _mm256_packs_epi16(w0, w1);
  return is_u8 ? _mm256_min_epu8(_mm256_max_epu8(v, k->lo8), k->hi8)
               : _mm256_min_epi8(_mm256_max_epi8(v, k->lo8), k->hi8);
}

static inline __attribute__((always_inline)) void qlin_span(const qlin_vec *k, const uint8_t *a,
                                                            int sa, const uint8_t *b, int sb,
                                                            uint8_t *o, size_t n, int is_u8) {
  const __m256i xa = _mm256_set1_epi8((char)a[0]), yb = _mm256_set1_epi8((char)b[0]);
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i x = sa ? _mm256_loadu_si256((const __m256i *)(a + i)) : xa;
    const __m256i y = sb ? _mm256_loadu_si256((const __m256i *)(b + i)) : yb;
    _mm256_storeu_si256((__m256i *)(o + i), qlin_32(k, x, y, is_u8));
  }
  if (i < n) { /* tail: through 32-byte buffers */
    uint8_t ta[32] = {0}, tb[32] = {0}, to[32];
    if (sa) memcpy(ta, a + i, n - i);
    if (sb) memcpy(tb, b + i, n - i);
    const __m256i x = sa ? _mm256_loadu_si256((const __m256i *)ta) : xa;
    const __m256i y = sb ? _mm256_loadu_si256((const __m256i *)tb) : yb;
    _mm256_storeu_si256((__m256i *)to, qlin_32(k, x, y, is_u8));
    memcpy(o + i, to, n - i);
  }
}

static inline __attribute__((always_inline)) void q8_lin(const tc_qadd_lin *lin,
                                                         const tc_bcast *bc, const uint8_t *a,
                                                         const uint8_t *b, uint8_t *out,
                                                         int is_u8) {
  qlin_vec kl;
  qlin_init(&kl, lin);
#define SPAN_QL(A, SA, B, SB, O, N) qlin_span(&kl, A, SA, B, SB, O, N, is_u8)
  WALK(bc, a, b, out, SPAN_QL);
#undef SPAN_QL
}

static inline __attribute__((always_inline)) void q8_addsub(const tc_qadd_params *p, int is_sub,
                                                            const tc_bcast *bc, const uint8_t *a,
                                                            const uint8_t *b, uint8_t *out,
                                                            int is_u8) {
  const int32_t tlo = is_u8 ? 0 : -128, thi = is_u8 ? 255 : 127;
  if (qadd_fast_ok(p) && p->act_min >= tlo && p->act_max <= thi) {
    qadd_fast kf;
    qadd_fast_init(&kf, p);
    const __m256i lo8 = _mm256_set1_epi8((char)p->act_min),
                  hi8 = _mm256_set1_epi8((char)p->act_max);
#define SPAN_QF(A, SA, B, SB, O, N) qf_span(&kf, lo8, hi8, A, SA, B, SB, O, N, is_u8, is_sub)
    WALK(bc, a, b, out, SPAN_QF);
#undef SPAN_QF
    return;
  }
  qadd_vec k;
  k.off1 = _mm256_set1_epi32(p->in1_offset);
  k.off2 = _mm256_set1_epi32(p->in2_offset);
  k.m1 = _mm256_set1_epi32(p->in1_mult);
  k.m2 = _mm256_set1_epi32(p->in2_mult);
  k.e1 = _mm256_set1_epi32(-p->in1_shift);
  k.e2 = _mm256_set1_epi32(-p->in2_shift);
  k.mo = _mm256_set1_epi32(p->out_mult);
  k.eo = _mm256_set1_epi32(-p->out_shift);
  k.zo = _mm256_set1_epi32(p->out_offset);
  k.lo = _mm256_set1_epi32(p->act_min);
  k.hi = _mm256_set1_epi32(p->act_max);
  k.left = p->left_shift;
#define SPAN_QADD(A, SA, B, SB, O, N) qadd_span(&k, A, SA, B, SB, O, N, is_u8, is_sub)
  WALK(bc, a, b, out, SPAN_QADD);
#undef SPAN_QADD
}

typedef struct qmul_vec {
  __m256i off1, off2, m, ls, rs, zo, lo, hi;
} qmul_vec;

static inline __attribute__((always_inline)) void qmul_span(const qmul_vec *k, const uint8_t *a,
                                                            int sa, const uint8_t *b, int sb,
                                                            uint8_t *o, size_t n, int is_u8) {
  const __m256i xa = _mm256_set1_epi32(is_u8 ? (int32_t)a[0] : (int32_t)(int8_t)a[0]);
  const __m256i xb = _mm256_set1_epi32(is_u8 ? (int32_t)b[0] : (int32_t)(int8_t)b[0]);
  for (size_t i = 0; i < n; i += 8) {
    const size_t m = n - i < 8 ? n - i : 8;
    __m256i x = sa ? ld8(a + i, m, is_u8) : xa, y = sb ? ld8(b + i, m, is_u8) : xb;
    __m256i prod = _mm256_mullo_epi32(_mm256_add_epi32(x, k->off1), _mm256_add_epi32(y, k->off2));
    __m256i r = _mm256_add_epi32(tc__avx2_q_mul(prod, k->m, k->ls, k->rs), k->zo);
    st8(o + i, _mm256_min_epi32(_mm256_max_epi32(r, k->lo), k->hi), m, is_u8);
  }
}

static inline __attribute__((always_inline)) void q8_mul(const tc_qmul_params *p,
                                                         const tc_bcast *bc, const uint8_t *a,
                                                         const uint8_t *b, uint8_t *out,
                                                         int is_u8) {
  qmul_vec k;
  k.off1 = _mm256_set1_epi32(p->in1_offset);
  k.off2 = _mm256_set1_epi32(p->in2_offset);
  k.m = _mm256_set1_epi32(p->out_mult);
  k.ls = _mm256_set1_epi32(p->out_shift > 0 ? p->out_shift : 0);
  k.rs = _mm256_set1_epi32(p->out_shift > 0 ? 0 : -p->out_shift);
  k.zo = _mm256_set1_epi32(p->out_offset);
  k.lo = _mm256_set1_epi32(p->act_min);
  k.hi = _mm256_set1_epi32(p->act_max);
#define SPAN_QMUL(A, SA, B, SB, O, N) qmul_span(&k, A, SA, B, SB, O, N, is_u8)
  WALK(bc, a, b, out, SPAN_QMUL);
#undef SPAN_QMUL
}

tc_s8_addsub_kernel tc_s8_addsub__avx2;
tc_u8_addsub_kernel tc_u8_addsub__avx2;
tc_s8_qmul_kernel tc_s8_qmul__avx2;
tc_u8_qmul_kernel tc_u8_qmul__avx2;

void tc_s8_addsub__avx2(const tc_qadd_params *p, const tc_qadd_lin *lin, int is_sub,
                        const tc_bcast *bc, const void *a, const void *b, void *out) {
  if (lin) q8_lin(lin, bc, a, b, out, 0);
  else if (is_sub) q8_addsub(p, 1, bc, a, b, out, 0);
  else q8_addsub(p, 0, bc, a, b, out, 0);
}
void tc_u8_addsub__avx2(const tc_qadd_params *p, const tc_qadd_lin *lin, int is_sub,
                        const tc_bcast *bc, const void *a, const void *b, void *out) {
  if (lin) q8_lin(lin, bc, a, b, out, 1);
  else if (is_sub) q8_addsub(p, 1, bc, a, b, out, 1);
  else q8_addsub(p, 0, bc, a, b, out, 1);
}
void tc_s8_qmul__avx2(const tc_qmul_params *p, const tc_bcast *bc, const void *a, const void *b,
                      void *out) {
  q8_mul(p, bc, a, b, out, 0);
}
void tc_u8_qmul__avx2(const tc_qmul_params *p, const tc_bcast *bc, const void *a, const void *b,
                      void *out) {
  q8_mul(p, bc, a, b, out, 1);
}

#endif /* x86-64 */
