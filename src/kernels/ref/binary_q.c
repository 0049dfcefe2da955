/* binary_q.c: reference quantized broadcasting binary ops (see binary_q.h). Each op is a scalar
 * function of two stored integers and a parameter block; one loop macro walks the broadcast
 * (a flat loop when neither operand is broadcast, otherwise an odometer over the outer axes
 * with the innermost axis as a strided loop), the same walk as binary.c. */
#include <math.h>

#include "kernels/ref/binary_q.h"
#include "kernels/ref/qmath.h"

static int scale_ok(float s) { return s > 0.0f && isfinite(s); }

/* QuantizeMultiplierSmallerThanOneExp: a multiplier in (0, 1) whose shift is <= 0 once rounded.
 * Returns 0 for anything else (TFLite aborts there). */
static int mult_lt1(double m, int32_t *q, int *shift) {
  if (!(m > 0.0 && m < 1.0)) return 0;
  tc_q_quantize_multiplier(m, q, shift);
  return *shift <= 0;
}

int tc_qadd_params_init(tc_qadd_params *p, int is_sub, int is_16, float in1_scale,
                        int32_t in1_zp, float in2_scale, int32_t in2_zp, float out_scale,
                        int32_t out_zp, int32_t act_min, int32_t act_max) {
  if (!scale_ok(in1_scale) || !scale_ok(in2_scale) || !scale_ok(out_scale)) return 0;
  p->in1_offset = -in1_zp;
  p->in2_offset = -in2_zp;
  p->out_offset = out_zp;
  p->left_shift = is_16 ? 15 : 20;
  p->act_min = act_min;
  p->act_max = act_max;
  double r1, r2, ro;
  float max_scale = in1_scale > in2_scale ? in1_scale : in2_scale;
  if (is_sub) {
    /* TFLite Micro's SUB does this part in float, then widens. */
    volatile float twice = 2.0f * max_scale; /* volatile: keep float rounding of each step */
    volatile float f1 = in1_scale / twice, f2 = in2_scale / twice;
    volatile float denom = (float)(1 << p->left_shift) * out_scale;
    volatile float fo = twice / denom;
    r1 = f1;
    r2 = f2;
    ro = fo;
  } else {
    double twice = 2.0 * (double)max_scale;
    r1 = (double)in1_scale / twice;
    r2 = (double)in2_scale / twice;
    ro = twice / ((double)(1 << p->left_shift) * (double)out_scale);
  }
  return mult_lt1(r1, &p->in1_mult, &p->in1_shift) && mult_lt1(r2, &p->in2_mult, &p->in2_shift) &&
         mult_lt1(ro, &p->out_mult, &p->out_shift);
}

int tc_qmul_params_init(tc_qmul_params *p, float in1_scale, int32_t in1_zp, float in2_scale,
                        int32_t in2_zp, float out_scale, int32_t out_zp, int32_t act_min,
                        int32_t act_max) {
  if (!scale_ok(in1_scale) || !scale_ok(in2_scale) || !scale_ok(out_scale)) return 0;
  p->in1_offset = -in1_zp;
  p->in2_offset = -in2_zp;
  p->out_offset = out_zp;
  p->act_min = act_min;
  p->act_max = act_max;
  double m = (double)in1_scale * (double)in2_scale / (double)out_scale;
  tc_q_quantize_multiplier(m, &p->out_mult, &p->out_shift);
  return 1;
}

/* ---- scalar functions -------------------------------------------------------------------- */

/* One input brought to the common scale: (x + offset) << left_shift, times a multiplier < 1.
 * The shift goes through uint32 so that a negative value shifts without undefined behaviour
 * (the result is the same as TFLite's multiplication by 1 << left_shift). */
static inline int32_t qadd_scale(int32_t x, int32_t offset, int left_shift, int32_t mult,
                                 int shift) {
  int32_t shifted = (int32_t)((uint32_t)(x + offset) << left_shift);
  return tc_q_mul_lt1(shifted, mult, shift);
}

static inline int32_t qadd(const tc_qadd_params *p, int32_t x, int32_t y, int sub) {
  int32_t sx = qadd_scale(x, p->in1_offset, p->left_shift, p->in1_mult, p->in1_shift);
  int32_t sy = qadd_scale(y, p->in2_offset, p->left_shift, p->in2_mult, p->in2_shift);
  int32_t raw = sub ? sx - sy : sx + sy;
  int32_t out = (int32_t)((uint32_t)tc_q_mul_lt1(raw, p->out_mult, p->out_shift) + (uint32_t)p->out_offset);
  return tc_q_clamp(out, p->act_min, p->act_max);
}
static inline int32_t f_add(const tc_qadd_params *p, int32_t x, int32_t y) {
  return qadd(p, x, y, 0);
}
static inline int32_t f_sub(const tc_qadd_params *p, int32_t x, int32_t y) {
  return qadd(p, x, y, 1);
}

static inline int32_t f_mul(const tc_qmul_params *p, int32_t x, int32_t y) {
  int32_t prod = (x + p->in1_offset) * (y + p->in2_offset);
  int32_t out = (int32_t)((uint32_t)tc_q_mul(prod, p->out_mult, p->out_shift) + (uint32_t)p->out_offset);
  return tc_q_clamp(out, p->act_min, p->act_max);
}

static inline int32_t f_maxmin(const int *is_max, int32_t x, int32_t y) {
  return *is_max ? (x > y ? x : y) : (x < y ? x : y);
}

/* ---- the loop ---------------------------------------------------------------------------- */

#define DEFINE_QLOOP(name, PT, TI, TO, fn)                                                    \
  static void name(const PT *p, const tc_bcast *bc, const TI *a, const TI *b, TO *out) {      \
    size_t n_out = bc->n_out;                                                                 \
    if (n_out == 0) return;                                                                   \
    if (bc->n_a == n_out && bc->n_b == n_out) {                                               \
      for (size_t i = 0; i < n_out; i++) out[i] = (TO)fn(p, a[i], b[i]);                      \
      return;                                                                                 \
    }                                                                                         \
    /* Broadcast: rank >= 1 here (a rank-0 output has one element, so took the flat path). */ \
    int last = bc->n_dims - 1;                                                                \
    size_t inner = (size_t)bc->dims[last];                                                    \
    size_t sa = bc->a_stride[last], sb = bc->b_stride[last];                                  \
    int32_t idx[TC_MAX_DIMS] = {0};                                                           \
    for (size_t o = 0; o < n_out; o += inner) {                                               \
      size_t ia = 0, ib = 0;                                                                  \
      for (int d = 0; d < last; d++) {                                                        \
        ia += (size_t)idx[d] * bc->a_stride[d];                                               \
        ib += (size_t)idx[d] * bc->b_stride[d];                                               \
      }                                                                                       \
      for (size_t j = 0; j < inner; j++) out[o + j] = (TO)fn(p, a[ia + j * sa], b[ib + j * sb]); \
      for (int d = last - 1; d >= 0; d--) {                                                   \
        if (++idx[d] < bc->dims[d]) break;                                                    \
        idx[d] = 0;                                                                           \
      }                                                                                       \
    }                                                                                         \
  }

DEFINE_QLOOP(s8_add, tc_qadd_params, int8_t, int8_t, f_add)
DEFINE_QLOOP(u8_add, tc_qadd_params, uint8_t, uint8_t, f_add)
DEFINE_QLOOP(s16_add, tc_qadd_params, int16_t, int16_t, f_add)
DEFINE_QLOOP(s8_sub, tc_qadd_params, int8_t, int8_t, f_sub)
DEFINE_QLOOP(u8_sub, tc_qadd_params, uint8_t, uint8_t, f_sub)
DEFINE_QLOOP(s16_sub, tc_qadd_params, int16_t, int16_t, f_sub)
DEFINE_QLOOP(s8_mul, tc_qmul_params, int8_t, int8_t, f_mul)
DEFINE_QLOOP(u8_mul, tc_qmul_params, uint8_t, uint8_t, f_mul)
DEFINE_QLOOP(s16_mul, tc_qmul_params, int16_t, int16_t, f_mul)
DEFINE_QLOOP(s16s8_mul, tc_qmul_params, int16_t, int8_t, f_mul)
DEFINE_QLOOP(s8_maxmin, int, int8_t, int8_t, f_maxmin)
DEFINE_QLOOP(u8_maxmin, int, uint8_t, uint8_t, f_maxmin)
DEFINE_QLOOP(s16_maxmin, int, int16_t, int16_t, f_maxmin)

void tc_s8_add__ref(const tc_qadd_params *p, const tc_bcast *bc, const int8_t *a,
                    const int8_t *b, int8_t *out) {
  s8_add(p, bc, a, b, out);
}
void tc_u8_add__ref(const tc_qadd_params *p, const tc_bcast *bc, const uint8_t *a,
                    const uint8_t *b, uint8_t *out) {
  u8_add(p, bc, a, b, out);
}
void tc_s16_add__ref(const tc_qadd_params *p, const tc_bcast *bc, const int16_t *a,
                     const int16_t *b, int16_t *out) {
  s16_add(p, bc, a, b, out);
}
void tc_s8_sub__ref(const tc_qadd_params *p, const tc_bcast *bc, const int8_t *a,
                    const int8_t *b, int8_t *out) {
  s8_sub(p, bc, a, b, out);
}
void tc_u8_sub__ref(const tc_qadd_params *p, const tc_bcast *bc, const uint8_t *a,
                    const uint8_t *b, uint8_t *out) {
  u8_sub(p, bc, a, b, out);
}
void tc_s16_sub__ref(const tc_qadd_params *p, const tc_bcast *bc, const int16_t *a,
                     const int16_t *b, int16_t *out) {
  s16_sub(p, bc, a, b, out);
}
void tc_s8_mul__ref(const tc_qmul_params *p, const tc_bcast *bc, const int8_t *a,
                    const int8_t *b, int8_t *out) {
  s8_mul(p, bc, a, b, out);
}
void tc_u8_mul__ref(const tc_qmul_params *p, const tc_bcast *bc, const uint8_t *a,
                    const uint8_t *b, uint8_t *out) {
  u8_mul(p, bc, a, b, out);
}
void tc_s16_mul__ref(const tc_qmul_params *p, const tc_bcast *bc, const int16_t *a,
                     const int16_t *b, int16_t *out) {
  s16_mul(p, bc, a, b, out);
}
void tc_s16s8_mul__ref(const tc_qmul_params *p, const tc_bcast *bc, const int16_t *a,
                       const int16_t *b, int8_t *out) {
  s16s8_mul(p, bc, a, b, out);
}
void tc_s8_maxmin__ref(int is_max, const tc_bcast *bc, const int8_t *a, const int8_t *b,
                       int8_t *out) {
  s8_maxmin(&is_max, bc, a, b, out);
}
void tc_u8_maxmin__ref(int is_max, const tc_bcast *bc, const uint8_t *a, const uint8_t *b,
                       uint8_t *out) {
  u8_maxmin(&is_max, bc, a, b, out);
}
void tc_s16_maxmin__ref(int is_max, const tc_bcast *bc, const int16_t *a, const int16_t *b,
                        int16_t *out) {
  s16_maxmin(&is_max, bc, a, b, out);
}
