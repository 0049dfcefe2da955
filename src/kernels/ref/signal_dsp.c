/* signal_dsp.c: reference kernels of the TFLite Micro signal library (see signal_dsp.h). The
 * arithmetic follows TFLM's signal/src step by step; where TFLM relies on a value wrapping
 * (int16 stores, uint32 shifts and products), the code here wraps the same way through
 * explicit unsigned arithmetic, so no step depends on signed overflow. */
#include "kernels/ref/signal_dsp.h"

#include <math.h>

/* Number of significant bits of x, 32 for x == 0 (the __builtin_clz form TFLM is built with). */
static uint32_t msb32(uint32_t x) {
  uint32_t n = 0;
  if (x == 0) return 32;
  while (x) {
    x >>= 1;
    n++;
  }
  return n;
}

static uint32_t msb64(uint64_t x) {
  uint32_t n = 0;
  if (x == 0) return 64;
  while (x) {
    x >>= 1;
    n++;
  }
  return n;
}

void tc_s16_signal_window__ref(const int16_t *in, const int16_t *window, int n, int shift,
                               int16_t *out) {
  for (int i = 0; i < n; i++) {
    int32_t raw = ((int32_t)in[i] * window[i]) >> shift;
    out[i] = (int16_t)(raw < INT16_MIN ? INT16_MIN : raw > INT16_MAX ? INT16_MAX : raw);
  }
}

int tc_s16_signal_fft_auto_scale__ref(const int16_t *in, int n, int16_t *out) {
  /* The running maximum is an int16: |-32768| wraps to -32768, exactly as in TFLM. */
  int16_t max = 0;
  for (int i = 0; i < n; i++) {
    int32_t v = in[i];
    if (v > max)
      max = (int16_t)v;
    else if (-v > max)
      max = (int16_t)(uint16_t)(-v);
  }
  int bits = 16 - (int)msb32((uint32_t)(int32_t)max) - 1;
  if (bits < 0) bits = 0;
  for (int i = 0; i < n; i++) out[i] = (int16_t)(uint16_t)((uint32_t)(int32_t)in[i] << bits);
  return bits;
}

void tc_s16_signal_energy__ref(const int16_t *spec, int start, int end, uint32_t *out) {
  for (int i = start; i < end; i++) {
    int32_t re = spec[2 * i], im = spec[2 * i + 1];
    out[i] = (uint32_t)(re * re) + (uint32_t)(im * im);
  }
}

void tc_u32_signal_filter_bank__ref(const uint32_t *in, const int16_t *weights,
                                    const int16_t *unweights, const int16_t *freq_starts,
                                    const int16_t *weight_starts, const int16_t *widths,
                                    int n_channels, uint64_t *work) {
  /* Each frequency contributes weight * energy to its channel and (1 - weight) * energy, the
   * "unweight", to the next one; the unweighted sum is carried into the next channel. */
  uint64_t acc = 0, carry = 0;
  for (int c = 0; c <= n_channels; c++) {
    int f0 = freq_starts[c], w0 = weight_starts[c];
    for (int j = 0; j < widths[c]; j++) {
      uint64_t e = in[f0 + j];
      acc += (uint64_t)(int64_t)weights[w0 + j] * e;
      carry += (uint64_t)(int64_t)unweights[w0 + j] * e;
    }
    work[c] = acc;
    acc = carry;
    carry = 0;
  }
}

/* Bit-by-bit square root; `top` is the highest even bit position to start from. Rounds up when
 * the remainder exceeds the root (unless the root is already `cap`). */
uint16_t tc_signal_sqrt32(uint32_t x) {
  if (x == 0) return 0;
  uint32_t res = 0;
  int lead = (32 - (int)msb32(x)) | 1;
  uint32_t bit = (uint32_t)1 << (31 - lead);
  for (int it = (31 - lead) / 2 + 1; it > 0; it--) {
    if (x >= res + bit) {
      x -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  if (x > res && res != 0xFFFF) res++;
  return (uint16_t)res;
}

uint32_t tc_signal_sqrt64(uint64_t x) {
  if ((x >> 32) == 0) return tc_signal_sqrt32((uint32_t)x);
  uint64_t res = 0;
  int lead = (64 - (int)msb64(x)) | 1;
  uint64_t bit = (uint64_t)1 << (63 - lead);
  for (int it = (63 - lead) / 2 + 1; it > 0; it--) {
    if (x >= res + bit) {
      x -= res + bit;
      res = (res >> 1) + bit;
    } else {
      res >>= 1;
    }
    bit >>= 2;
  }
  if (x > res && res != 0xFFFFFFFFu) res++;
  return (uint32_t)res;
}

void tc_u64_signal_filter_bank_sqrt__ref(const uint64_t *in, int n, int shift, uint32_t *out) {
  for (int i = 0; i < n; i++) out[i] = tc_signal_sqrt64(in[i]) >> shift;
}

void tc_u32_signal_spectral_sub__ref(const tc_signal_spectral_sub_params *p, const uint32_t *in,
                                     uint32_t *out, uint32_t *noise_estimate) {
  const uint32_t sb = p->smoothing_bits, ssb = p->spectral_subtraction_bits;
  for (int i = 0; i < p->n_channels; i++) {
    uint32_t sm = (i & 1) ? p->alternate_smoothing : p->smoothing;
    uint32_t oms = (i & 1) ? p->alternate_one_minus_smoothing : p->one_minus_smoothing;
    /* low-pass the signal (scaled up by smoothing_bits) into the noise estimate */
    uint32_t sig = in[i] << sb;
    noise_estimate[i] =
        (uint32_t)(((uint64_t)sig * sm + (uint64_t)noise_estimate[i] * oms) >> ssb);
    uint32_t est = noise_estimate[i];
    if (est > sig) {
      est = sig;
      if (p->clamping) noise_estimate[i] = est;
    }
    uint32_t floor_v = (uint32_t)(((uint64_t)in[i] * p->min_signal_remaining) >> ssb);
    uint32_t sub = (sig - est) >> sb;
    out[i] = sub > floor_v ? sub : floor_v;
  }
}

/* Gain for noise level x from the piecewise quadratic LUT: 4 entries per octave, the fraction
 * taken from the 10 bits below the leading one. */
static int16_t pcan_gain(uint32_t x, const int16_t *lut) {
  if (x <= 2) return lut[x];
  int interval = (int)msb32(x);
  const int16_t *seg = lut + 4 * interval - 6;
  int32_t frac =
      (int32_t)(((interval < 11) ? (x << (11 - interval)) : (x >> (interval - 11))) & 0x3FF);
  int32_t r = ((int32_t)seg[2] * frac) >> 5;
  r = (int32_t)((uint32_t)r + ((uint32_t)(int32_t)seg[1] << 5));
  r = (int32_t)((uint32_t)r * (uint32_t)frac);
  r = (int32_t)((uint32_t)r + (1u << 14)) >> 15;
  r += seg[0];
  return (int16_t)(uint16_t)(uint32_t)r;
}

enum { PCAN_SNR_BITS = 12, PCAN_OUT_BITS = 6 };

static uint32_t pcan_shrink(uint32_t x) {
  if (x < (2u << PCAN_SNR_BITS)) return (x * x) >> (2 + 2 * PCAN_SNR_BITS - PCAN_OUT_BITS);
  return (x >> (PCAN_SNR_BITS - PCAN_OUT_BITS)) - (1u << PCAN_OUT_BITS);
}

void tc_u32_signal_pcan__ref(const uint32_t *in, const uint32_t *noise, const int16_t *lut,
                             int snr_shift, int n, uint32_t *out) {
  for (int i = 0; i < n; i++) {
    uint32_t gain = (uint32_t)(int32_t)pcan_gain(noise[i], lut);
    uint32_t snr = (uint32_t)(((uint64_t)in[i] * gain) >> snr_shift);
    out[i] = pcan_shrink(snr);
  }
}

void tc_signal_log_lut_fill(uint16_t lut[TC_SIGNAL_LOG_LUT_SIZE]) {
  for (int i = 0; i <= 128; i++) {
    double x = i / 128.0;
    lut[i] = (uint16_t)lround(65536.0 * (log2(1.0 + x) - x));
  }
  lut[129] = 0;
}

enum { LOG_SCALE_BITS = 16, LOG_SEG_BITS = 7, LOG_COEFF = 45426 };

uint32_t tc_signal_log32(const uint16_t *lut, uint32_t x, uint32_t out_scale) {
  uint32_t ip = msb32(x) - 1; /* integer part of log2 */
  /* fraction: x's bits below the leading one, at 16 bits, plus the LUT correction
   * interpolated between the two nearest of 128 segments */
  int32_t frac = (int32_t)((int64_t)x - ((int64_t)1 << ip));
  if (ip < LOG_SCALE_BITS)
    frac = (int32_t)((uint32_t)frac << (LOG_SCALE_BITS - ip));
  else
    frac >>= ip - LOG_SCALE_BITS;
  uint32_t seg = (uint32_t)frac >> (LOG_SCALE_BITS - LOG_SEG_BITS);
  int32_t c0 = lut[seg], c1 = lut[seg + 1];
  int32_t seg_base = (int32_t)(seg << (LOG_SCALE_BITS - LOG_SEG_BITS));
  int32_t rel = ((c1 - c0) * (frac - seg_base)) >> LOG_SCALE_BITS;
  uint32_t fraction = (uint32_t)(frac + c0 + rel);
  uint32_t log2v = (ip << LOG_SCALE_BITS) + fraction;
  const uint32_t round = 1u << (LOG_SCALE_BITS - 1);
  uint32_t loge = (uint32_t)(((uint64_t)LOG_COEFF * log2v + round) >> LOG_SCALE_BITS);
  return (out_scale * loge + round) >> LOG_SCALE_BITS;
}

void tc_u32_signal_filter_bank_log__ref(const uint16_t *lut, const uint32_t *in, int n,
                                        uint32_t out_scale, int correction_bits, int16_t *out) {
  for (int i = 0; i < n; i++) {
    uint32_t v = in[i] << correction_bits;
    if (v > 1) {
      uint32_t l = tc_signal_log32(lut, v, out_scale);
      out[i] = (int16_t)(l < (uint32_t)INT16_MAX ? l : (uint32_t)INT16_MAX);
    } else {
      out[i] = 0;
    }
  }
}
