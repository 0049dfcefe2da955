/* signal_rfft.h: the int16 fixed-point real FFT of the TFLite Micro signal library (SignalRfft
 * with T = int16). TFLM runs KISS FFT (FIXED_POINT = 16) for it; bit-exact output needs the
 * same algorithm: a mixed-radix (4, 2, 3, 5, generic) decimation-in-time complex FFT of half
 * the length with every butterfly input divided by its radix (Q15 multiply, rounded), twiddles
 * rounded to Q15, then the real-FFT split with its own twiddles. This is a fresh
 * implementation of that arithmetic. */
#ifndef TC_KERNELS_REF_SIGNAL_RFFT_H
#define TC_KERNELS_REF_SIGNAL_RFFT_H

#include <stddef.h>
#include <stdint.h>

#define TC_RFFT_MAX_STAGES 32

typedef struct tc_cpx16 {
  int16_t r, i;
} tc_cpx16;

/* A planned transform; lives in caller memory of tc_s16_rfft_plan_size(fft_length) bytes. */
typedef struct tc_rfft16_plan {
  int32_t fft_length; /* real length (even) */
  int32_t n;          /* complex length fft_length / 2 */
  int32_t n_stages;
  int32_t factors[2 * TC_RFFT_MAX_STAGES]; /* radix p, remaining length m, per stage */
  tc_cpx16 *twiddles; /* n entries: exp(-2 pi i k / n) in Q15 */
  tc_cpx16 *split;    /* n / 2 entries: real-split twiddles */
} tc_rfft16_plan;

/* Lengths accepted: even, 4 <= fft_length <= 65536. 0 for others. */
size_t tc_s16_rfft_plan_size(int32_t fft_length);
/* Builds the plan in mem (tc_s16_rfft_plan_size bytes, suitably aligned). NULL if the length is
 * not accepted. */
tc_rfft16_plan *tc_s16_rfft_plan_init(int32_t fft_length, void *mem, size_t size);

/* Scratch bytes tc_s16_rfft__ref needs. */
size_t tc_s16_rfft_scratch_size(const tc_rfft16_plan *plan);

/* Real FFT of fft_length int16 samples into fft_length / 2 + 1 complex bins (out holds
 * fft_length + 2 int16: re, im pairs). in and out must not overlap. */
void tc_s16_rfft__ref(const tc_rfft16_plan *plan, const int16_t *in, int16_t *out,
                      void *scratch);

#endif /* TC_KERNELS_REF_SIGNAL_RFFT_H */
