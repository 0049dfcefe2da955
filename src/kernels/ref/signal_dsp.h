/* signal_dsp.h: reference kernels of the TFLite Micro signal library (audio front end):
 * window, FFT auto-scaling, spectrum energy, mel filter bank, its square root, spectral
 * subtraction, PCAN gain control and the fixed-point filter-bank log. All integer arithmetic
 * reproduces TFLM's signal/src exactly (including where values wrap), so outputs are
 * bit-identical. The fixed-point real FFT lives in signal_rfft.h. */
#ifndef TC_KERNELS_REF_SIGNAL_DSP_H
#define TC_KERNELS_REF_SIGNAL_DSP_H

#include <stddef.h>
#include <stdint.h>

/* out[i] = saturate_int16((in[i] * window[i]) >> shift) for i < n (arithmetic shift). */
void tc_s16_signal_window__ref(const int16_t *in, const int16_t *window, int n, int shift,
                               int16_t *out);

/* Scales n values up by the largest power of two that keeps the maximum magnitude within
 * int16 (TFLM FftAutoScale, including its int16 wrap of |-32768|). Returns the shift used. */
int tc_s16_signal_fft_auto_scale__ref(const int16_t *in, int n, int16_t *out);

/* out[i] = re^2 + im^2 (uint32, wrapping like TFLM) of complex int16 pairs spec[2i], spec[2i+1],
 * for start <= i < end; other entries of out are not touched. */
void tc_s16_signal_energy__ref(const int16_t *spec, int start, int end, uint32_t *out);

/* Mel filter bank: accumulates weighted and unweighted energies of n_channels + 1 channels
 * (channel 0 is scratch) into work[0..n_channels]; every index must already be validated by the
 * caller: freq_starts[c] + widths[c] <= input length and weight_starts[c] + widths[c] <= weight
 * length for c <= n_channels. The sums wrap modulo 2^64 as in TFLM. */
void tc_u32_signal_filter_bank__ref(const uint32_t *in, const int16_t *weights,
                                    const int16_t *unweights, const int16_t *freq_starts,
                                    const int16_t *weight_starts, const int16_t *widths,
                                    int n_channels, uint64_t *work);

/* Integer square roots, rounded to nearest, as TFLM Sqrt32 / Sqrt64 (Sqrt64 takes the 32-bit
 * path when the upper word is zero). */
uint16_t tc_signal_sqrt32(uint32_t x);
uint32_t tc_signal_sqrt64(uint64_t x);

/* out[i] = sqrt64(in[i]) >> shift. shift must be in [0, 31]. */
void tc_u64_signal_filter_bank_sqrt__ref(const uint64_t *in, int n, int shift, uint32_t *out);

typedef struct tc_signal_spectral_sub_params {
  int32_t n_channels;
  uint32_t smoothing, one_minus_smoothing;             /* even channels */
  uint32_t alternate_smoothing, alternate_one_minus_smoothing; /* odd channels */
  uint32_t min_signal_remaining;
  uint32_t smoothing_bits;            /* in [0, 31] */
  uint32_t spectral_subtraction_bits; /* in [0, 63] */
  int clamping;
} tc_signal_spectral_sub_params;

/* Spectral subtraction with a running noise estimate (state, n_channels values, updated). */
void tc_u32_signal_spectral_sub__ref(const tc_signal_spectral_sub_params *p, const uint32_t *in,
                                     uint32_t *out, uint32_t *noise_estimate);

/* Number of int16 entries the PCAN gain LUT must have (it is indexed up to 4 * 32 - 4). */
#define TC_SIGNAL_PCAN_LUT_MIN 125

/* PCAN auto gain control: out[i] = shrink((in[i] * gain(noise[i])) >> snr_shift) with the
 * piecewise-polynomial gain LUT (at least TC_SIGNAL_PCAN_LUT_MIN entries). in and out may be the
 * same array. snr_shift must be in [0, 63]. */
void tc_u32_signal_pcan__ref(const uint32_t *in, const uint32_t *noise, const int16_t *lut,
                             int snr_shift, int n, uint32_t *out);

/* The 129 (+1 padding) entry correction table of the fixed-point log2: entry i is
 * round(65536 * (log2(1 + i/128) - i/128)). */
#define TC_SIGNAL_LOG_LUT_SIZE 130
void tc_signal_log_lut_fill(uint16_t lut[TC_SIGNAL_LOG_LUT_SIZE]);

/* Fixed-point natural log of x (x >= 1) scaled by out_scale / 65536, as TFLM Log32. */
uint32_t tc_signal_log32(const uint16_t *lut, uint32_t x, uint32_t out_scale);

/* out[i] = min(log32(in[i] << correction_bits), 32767), or 0 where the shifted value is <= 1.
 * correction_bits must be in [0, 31]. */
void tc_u32_signal_filter_bank_log__ref(const uint16_t *lut, const uint32_t *in, int n,
                                        uint32_t out_scale, int correction_bits, int16_t *out);

#endif /* TC_KERNELS_REF_SIGNAL_DSP_H */
