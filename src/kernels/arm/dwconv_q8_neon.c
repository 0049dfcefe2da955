/* dwconv_q8_neon.c: the AArch64 NEON int8 / uint8 DEPTHWISE_CONV_2D variants (slots s8_dwconv and
 * u8_dwconv of vec_ops.h), bit-exact with tc_{s8,u8}_depthwise_conv2d__ref.
 *
 * Algorithm. Per output pixel, the taps inside the image are listed once (border pixels skip
 * the outside taps, which is the reference's padding with the input zero point; along a row,
 * pixels with every column tap inside move the previous pixel's list by the stride), then the
 * channels run 16 at a time in 4 int32x4 accumulators starting at the bias: per tap, 16 input
 * bytes are widened to int16 with the input offset added in the same instruction (UADDW/SADDW
 * on a vector of the offset), and SMLAL / SMLAL2 multiply them with the tap's int16 weights
 * (filter offset applied at prepare). Then 8 channels at a time, and the last 1..7 from a
 * zero-filled copy of the bytes, so nothing past the tensor is read. Depth multiplier 1 reads
 * the channels in place; one input channel with any multiplier (person_detect's first layer,
 * 1 -> 8) broadcasts each tap's input value to every lane. Other multipliers, filters with more
 * than MAX_TAPS taps, and parameters the int16 path cannot take exactly run the reference
 * variant.
 *
 * Exactness: inputs plus offset and weights plus offset are int16 values (offsets checked at
 * pack), so every product is exact in int32 and the wrapping lane sums equal the reference's
 * int64 sum wrapped to int32. Requantization is q8_neon.h's tc_q_mul_double (shifts checked to
 * lie in [-31, 31] at pack), then the output offset (wrapping), the activation clamp (checked
 * to lie inside the 8-bit range) and saturating narrows that change nothing.
 *
 * Per 32 channels and tap: 2 loads of the tap's pointers, 2 loads of input bytes, 4 widening
 * adds, 4 loads of weights, 8 SMLAL, ~3 of address and loop: about 23 instructions for 32
 * multiply-adds (objdump of the loop; 15 for 16 channels before the 32-channel step). */
#include "kernels/vec_ops.h"

#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#include <string.h>

#include "kernels/arm/q8_neon.h"

enum { MAX_TAPS = 256, CB = 16 /* channel padding of the packed arrays */ };

#define AI static inline __attribute__((always_inline))

/* ---- packed weights -------------------------------------------------------------------------
 * [dwn_head][bias][mult][lshift][rshift] (int32, Cp each) [w: int16, T taps x Cp], with
 * Cp = Cout rounded up to CB (padding channels: zero weights and parameters, never stored). */
typedef struct dwn_head {
  int32_t usable; /* 0: offsets, shifts or activation range outside what this path handles */
  int32_t cp;
  int32_t pad_[14];
} dwn_head;

static int32_t padded_c(const tc_dwconv2d_params *p) {
  return (p->in_c * p->depth_multiplier + CB - 1) / CB * CB;
}

/* The fast path: depth multiplier 1, or one input channel (broadcast), at most MAX_TAPS taps. */
static int fits(const tc_dwconv2d_params *p) {
  if (p->k_h <= 0 || p->k_w <= 0 || p->in_c <= 0 || p->depth_multiplier <= 0) return 0;
  if ((int64_t)p->k_h * p->k_w > MAX_TAPS) return 0;
  if ((int64_t)p->in_c * p->depth_multiplier > (1 << 24)) return 0;
  return p->depth_multiplier == 1 || p->in_c == 1;
}

static size_t dwn_packed_size(const tc_dwconv2d_params *p) {
  if (!fits(p)) return 0;
  const size_t cp = (size_t)padded_c(p), taps = (size_t)p->k_h * (size_t)p->k_w;
  return sizeof(dwn_head) + 4 * cp * sizeof(int32_t) + taps * cp * sizeof(int16_t);
}

typedef struct dwn_view {
  const dwn_head *h;
  const int32_t *bias, *mult, *lsh, *rsh;
  const int16_t *w;
} dwn_view;

static dwn_view view(const void *packed) {
  dwn_view v;
  v.h = packed;
  const size_t cp = (size_t)v.h->cp;
  v.bias = (const int32_t *)(const void *)((const char *)packed + sizeof(dwn_head));
  v.mult = v.bias + cp;
  v.lsh = v.mult + cp;
  v.rsh = v.lsh + cp;
  v.w = (const int16_t *)(const void *)(v.rsh + cp);
  return v;
}

static void dwn_pack(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *filter,
                     const int32_t *bias, void *packed, int is_u8) {
  const size_t size = dwn_packed_size(p);
  memset(packed, 0, size);
  dwn_head *h = packed;
  const int32_t cout = p->in_c * p->depth_multiplier, cp = padded_c(p);
  const int32_t taps = p->k_h * p->k_w;
  h->cp = cp;
  const int32_t lo = is_u8 ? 0 : -128, hi = is_u8 ? 255 : 127;
  const int32_t f_off = is_u8 ? q->filter_offset : 0;
  /* (input + input_offset) and (weight + filter_offset) must be int16 values */
  int usable = q->input_offset >= -32000 && q->input_offset <= 32000 && f_off >= -32000 &&
               f_off <= 32000 && lo <= q->act_min && q->act_min <= q->act_max &&
               q->act_max <= hi;
  int32_t *b = (int32_t *)(void *)((char *)packed + sizeof(dwn_head));
  int32_t *mult = b + cp, *lsh = mult + cp, *rsh = lsh + cp;
  int16_t *w = (int16_t *)(void *)(rsh + cp);
  for (int32_t oc = 0; oc < cout; oc++) {
    const int32_t sh = q->shift[oc];
    usable &= sh >= -31 && sh <= 31;
    b[oc] = bias ? bias[oc] : 0;
    mult[oc] = q->mult[oc];
    lsh[oc] = sh > 0 ? sh : 0;
    rsh[oc] = sh > 0 ? 0 : -sh;
    for (int32_t t = 0; t < taps; t++) {
      const size_t src = (size_t)t * (size_t)cout + (size_t)oc;
      const int32_t v = is_u8 ? ((const uint8_t *)filter)[src] + f_off
                              : ((const int8_t *)filter)[src];
      w[(size_t)t * (size_t)cp + (size_t)oc] = (int16_t)v;
    }
  }
  h->usable = usable;
}

static void s8_pack(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *filter,
                    const int32_t *bias, void *packed) {
  dwn_pack(p, q, filter, bias, packed, 0);
}
static void u8_pack(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *filter,
                    const int32_t *bias, void *packed) {
  dwn_pack(p, q, filter, bias, packed, 1);
}

/* ---- the pixel ------------------------------------------------------------------------------ */

/* 8 input bytes widened to int16 plus the offset (off: the offset in every lane). */
AI int16x8_t widen_add8(uint8x8_t v, int16x8_t off, int is_u8) {
  return is_u8 ? vreinterpretq_s16_u16(vaddw_u8(vreinterpretq_u16_s16(off), v))
               : vaddw_s8(off, vreinterpret_s8_u8(v));
}
AI int16x8_t widen_add_hi(uint8x16_t v, int16x8_t off, int is_u8) {
  return is_u8 ? vreinterpretq_s16_u16(vaddw_high_u8(vreinterpretq_u16_s16(off), v))
               : vaddw_high_s8(off, vreinterpretq_s8_u8(v));
}

/* The first n (< 8) bytes at s, zero-filled. */
AI uint8x8_t load_part8(const uint8_t *s, size_t n) {
  uint8_t t[8] = {0};
  memcpy(t, s, n);
  return vld1_u8(t);
}

typedef struct dwn_px {
  const uint8_t *src[MAX_TAPS]; /* each tap's input pixel (channel 0) inside the image */
  const int16_t *w[MAX_TAPS];   /* each tap's packed weights (channel 0) */
  int16_t xb[MAX_TAPS];         /* broadcast rows: the tap's input value plus the input offset */
  int n;
} dwn_px;

/* Requantizes and stores n (<= 8) channels from channel c (acc0: c .. c+3, acc1: c+4 .. c+7). */
AI void out8(int32x4_t acc0, int32x4_t acc1, const dwn_view *v, size_t c, int32x4_t zp,
             int32x4_t lo, int32x4_t hi, int is_u8, uint8_t *o, size_t n) {
  const tc__q8n_par4 p0 = tc__q8n_par4_load(v->mult + c, v->lsh + c, v->rsh + c);
  const tc__q8n_par4 p1 = tc__q8n_par4_load(v->mult + c + 4, v->lsh + c + 4, v->rsh + c + 4);
  const int32x4_t r0 = tc__q8n_requant4(acc0, &p0, zp, lo, hi);
  const int32x4_t r1 = tc__q8n_requant4(acc1, &p1, zp, lo, hi);
  tc__q8n_store8(tc__q8n_narrow8(r0, r1, is_u8), o + c, n);
}

/* Tap t's 16 channels from c as int16 plus the input offset (xl: c .. c+7, xh: c+8 .. c+15). */
AI void in16(const dwn_px *px, int t, size_t c, int16x8_t off, const int is_u8, const int bc,
             int16x8_t *xl, int16x8_t *xh) {
  if (bc) {
    *xl = *xh = vdupq_n_s16(px->xb[t]);
  } else {
    const uint8x16_t b = vld1q_u8(px->src[t] + c);
    *xl = widen_add8(vget_low_u8(b), off, is_u8);
    *xh = widen_add_hi(b, off, is_u8);
  }
}

/* a[0..3] += 16 channels' products of the inputs xl, xh with the int16 weights at w. */
AI void mac16(int32x4_t *a, int16x8_t xl, int16x8_t xh, const int16_t *w) {
  const int16x8_t w0 = vld1q_s16(w), w1 = vld1q_s16(w + 8);
  a[0] = vmlal_s16(a[0], vget_low_s16(xl), vget_low_s16(w0));
  a[1] = vmlal_high_s16(a[1], xl, w0);
  a[2] = vmlal_s16(a[2], vget_low_s16(xh), vget_low_s16(w1));
  a[3] = vmlal_high_s16(a[3], xh, w1);
}

/* One output pixel, all C channels, o: its output. bc: one input channel broadcast (px->xb),
 * else channels read in place at px->src. 32 channels a step (8 accumulators; the tap's two
 * pointers are loaded once for them), then 16, 8 and the last 1..7. */
AI void pixel(const dwn_px *px, const dwn_view *v, size_t C, int16x8_t off,
              int32x4_t zp, int32x4_t lo, int32x4_t hi, uint8_t *o, const int is_u8,
              const int bc) {
  const int n = px->n;
  size_t c = 0;
  for (; c + 32 <= C; c += 32) {
    int32x4_t a[8];
    for (int k = 0; k < 8; k++) a[k] = vld1q_s32(v->bias + c + 4 * k);
    for (int t = 0; t < n; t++) {
      int16x8_t x0, x1, x2, x3;
      in16(px, t, c, off, is_u8, bc, &x0, &x1);
      in16(px, t, c + 16, off, is_u8, bc, &x2, &x3);
      const int16_t *w = px->w[t] + c;
      mac16(a, x0, x1, w);
      mac16(a + 4, x2, x3, w + 16);
    }
    for (int k = 0; k < 4; k++) out8(a[2 * k], a[2 * k + 1], v, c + 8 * k, zp, lo, hi, is_u8, o, 8);
  }
  for (; c + 16 <= C; c += 16) {
    int32x4_t a[4];
    for (int k = 0; k < 4; k++) a[k] = vld1q_s32(v->bias + c + 4 * k);
    for (int t = 0; t < n; t++) {
      int16x8_t x0, x1;
      in16(px, t, c, off, is_u8, bc, &x0, &x1);
      mac16(a, x0, x1, px->w[t] + c);
    }
    out8(a[0], a[1], v, c, zp, lo, hi, is_u8, o, 8);
    out8(a[2], a[3], v, c + 8, zp, lo, hi, is_u8, o, 8);
  }
  for (; c < C; c += 8) { /* 8 channels, or the last 1..7 */
    const size_t m = C - c < 8 ? C - c : 8;
    int32x4_t a0 = vld1q_s32(v->bias + c), a1 = vld1q_s32(v->bias + c + 4);
    for (int t = 0; t < n; t++) {
      int16x8_t xl;
      if (bc) {
        xl = vdupq_n_s16(px->xb[t]);
      } else {
        const uint8_t *s = px->src[t] + c;
        xl = widen_add8(m == 8 ? vld1_u8(s) : load_part8(s, m), off, is_u8);
      }
      const int16x8_t w0 = vld1q_s16(px->w[t] + c);
      a0 = vmlal_s16(a0, vget_low_s16(xl), vget_low_s16(w0));
      a1 = vmlal_high_s16(a1, xl, w0);
    }
    out8(a0, a1, v, c, zp, lo, hi, is_u8, o, m);
  }
}

/* Output rows [row_begin, row_end) of the flattened [batch * out_h] rows. */
AI void dw_rows(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in,
                const dwn_view *v, void *out, int32_t row_begin, int32_t row_end,
                const int is_u8, const int bc) {
  const size_t C = (size_t)p->in_c * (size_t)p->depth_multiplier, cp = (size_t)v->h->cp;
  const int64_t img_size = (int64_t)p->in_h * p->in_w * p->in_c;
  const int16x8_t off = vdupq_n_s16((int16_t)q->input_offset);
  const int32x4_t zp = vdupq_n_s32(q->output_offset);
  const int32x4_t lo = vdupq_n_s32(q->act_min), hi = vdupq_n_s32(q->act_max);
  const int64_t step = (int64_t)p->stride_w * p->in_c, span = (int64_t)(p->k_w - 1) * p->dilation_w;
  dwn_px px;
  for (int32_t r = row_begin; r < row_end; r++) {
    const int32_t b = r / p->out_h, oy = r % p->out_h;
    const uint8_t *img = (const uint8_t *)in + b * img_size;
    uint8_t *orow = (uint8_t *)out + (int64_t)r * p->out_w * (int64_t)C;
    const int64_t y0 = (int64_t)oy * p->stride_h - p->pad_top;
    int prev_full = 0;
    for (int32_t ox = 0; ox < p->out_w; ox++) {
      const int64_t x0 = (int64_t)ox * p->stride_w - p->pad_left;
      /* every column tap inside the image, like the previous pixel's: the same taps, moved */
      const int full = !bc && x0 >= 0 && x0 + span < p->in_w;
      if (full && prev_full) {
        for (int t = 0; t < px.n; t++) px.src[t] += step;
        pixel(&px, v, C, off, zp, lo, hi, orow + (int64_t)ox * (int64_t)C, is_u8, bc);
        continue;
      }
      prev_full = full;
      int n = 0;
      for (int32_t ky = 0; ky < p->k_h; ky++) {
        const int64_t y = y0 + (int64_t)ky * p->dilation_h;
        if (y < 0 || y >= p->in_h) continue;
        for (int32_t kx = 0; kx < p->k_w; kx++) {
          const int64_t xx = x0 + (int64_t)kx * p->dilation_w;
          if (xx < 0 || xx >= p->in_w) continue;
          const uint8_t *s = img + (y * p->in_w + xx) * p->in_c;
          px.src[n] = s;
          px.w[n] = v->w + (size_t)(ky * p->k_w + kx) * cp;
          if (bc) {
            const int32_t xv = is_u8 ? (int32_t)*s : (int32_t)(int8_t)*s;
            px.xb[n] = (int16_t)(xv + q->input_offset);
          }
          n++;
        }
      }
      px.n = n;
      pixel(&px, v, C, off, zp, lo, hi, orow + (int64_t)ox * (int64_t)C, is_u8, bc);
    }
  }
}

static __attribute__((noinline)) void s8_rows(const tc_dwconv2d_params *p, const tc_q_requant *q,
                                              const void *in, const dwn_view *v, void *out,
                                              int32_t r0, int32_t r1, int bc) {
  if (bc) dw_rows(p, q, in, v, out, r0, r1, 0, 1);
  else dw_rows(p, q, in, v, out, r0, r1, 0, 0);
}
static __attribute__((noinline)) void u8_rows(const tc_dwconv2d_params *p, const tc_q_requant *q,
                                              const void *in, const dwn_view *v, void *out,
                                              int32_t r0, int32_t r1, int bc) {
  if (bc) dw_rows(p, q, in, v, out, r0, r1, 1, 1);
  else dw_rows(p, q, in, v, out, r0, r1, 1, 0);
}

static int usable(const tc_dwconv2d_params *p, const void *packed) {
  return packed && fits(p) && ((const dwn_head *)packed)->usable &&
         ((const dwn_head *)packed)->cp == padded_c(p);
}

static void s8_dw_neon(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in,
                       const void *filter, const int32_t *bias, const void *packed, void *out,
                       int32_t row_begin, int32_t row_end) {
  if (!usable(p, packed)) {
    tc_s8_dwconv__ref.run(p, q, in, filter, bias, NULL, out, row_begin, row_end);
    return;
  }
  const dwn_view v = view(packed);
  s8_rows(p, q, in, &v, out, row_begin, row_end, p->depth_multiplier != 1);
}

static void u8_dw_neon(const tc_dwconv2d_params *p, const tc_q_requant *q, const void *in,
                       const void *filter, const int32_t *bias, const void *packed, void *out,
                       int32_t row_begin, int32_t row_end) {
  if (!usable(p, packed)) {
    tc_u8_dwconv__ref.run(p, q, in, filter, bias, NULL, out, row_begin, row_end);
    return;
  }
  const dwn_view v = view(packed);
  u8_rows(p, q, in, &v, out, row_begin, row_end, p->depth_multiplier != 1);
}

tc_s8_dwconv_kernel tc_s8_dwconv__neon = {"neon", dwn_packed_size, s8_pack, s8_dw_neon};
tc_u8_dwconv_kernel tc_u8_dwconv__neon = {"neon", dwn_packed_size, u8_pack, u8_dw_neon};
#endif
