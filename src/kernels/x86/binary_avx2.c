/* binary_avx2.c: AVX2 broadcasting elementwise kernels: float ADD, SUB, MUL, DIV, MAXIMUM,
 * MINIMUM, SQUARED_DIFFERENCE and quantized (int8 / uint8) ADD, SUB and MUL. The broadcast is
 * walked as the reference does (flat when both operands have the output's shape or one is a
 * scalar, otherwise rows of the innermost axis), and every row is a vector loop whose operands
 * are either contiguous or one broadcast value: that covers same-shape, scalar and per-channel
 * ([..., C] with [C]) operands at full speed. Each lane does exactly the reference's scalar
 * operations (one IEEE operation per float op; vmaxps/vminps with the reference's operand
 * order; the quantized rescaling with the lane-wise tc_q_srdhm / tc_q_rdivpot / tc_q_mul of
 * vec_avx2.h), so the results are bit-exact with the reference kernels. */
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

static inline __attribute__((always_inline)) void q8_addsub(const tc_qadd_params *p, int is_sub,
                                                            const tc_bcast *bc, const uint8_t *a,
                                                            const uint8_t *b, uint8_t *out,
                                                            int is_u8) {
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

void tc_s8_addsub__avx2(const tc_qadd_params *p, int is_sub, const tc_bcast *bc, const void *a,
                        const void *b, void *out) {
  if (is_sub) q8_addsub(p, 1, bc, a, b, out, 0);
  else q8_addsub(p, 0, bc, a, b, out, 0);
}
void tc_u8_addsub__avx2(const tc_qadd_params *p, int is_sub, const tc_bcast *bc, const void *a,
                        const void *b, void *out) {
  if (is_sub) q8_addsub(p, 1, bc, a, b, out, 1);
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
