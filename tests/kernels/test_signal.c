/* test_signal.c: the TFLite Micro signal-library kernels (kernels/ref/signal_dsp.c,
 * signal_rfft.c) on hand-derived values and against naive formulas (square roots, the natural
 * log, a double-precision DFT), plus the op glue through the audio_preprocessor model: option
 * errors with its custom_options patched in memory, and the stateful noise estimate (a second
 * invoke differs, a new interpreter starts fresh). */
#include <stdlib.h>

#include "kernels/ref/signal_dsp.h"
#include "kernels/ref/signal_rfft.h"
#include "lite/flexbuf.h"
#include "lite/model.h"
#include "tc_test.h"
#include "tensorc_lite.h"

TC_TEST(kernel_signal_window) {
  const int16_t in[6] = {1000, -1000, 32767, -32768, 7, -1};
  const int16_t w[6] = {4096, 4096, 8192, 8192, 3, 1};
  int16_t out[6];
  tc_s16_signal_window__ref(in, w, 6, 12, out);
  CHECK_EQ(out[0], 1000);
  CHECK_EQ(out[1], -1000);
  CHECK_EQ(out[2], 32767);  /* 65534 saturates */
  CHECK_EQ(out[3], -32768); /* -65536 saturates */
  CHECK_EQ(out[4], 0);      /* 21 >> 12 */
  CHECK_EQ(out[5], -1);     /* arithmetic shift rounds toward -inf */
}

TC_TEST(kernel_signal_fft_auto_scale) {
  const int16_t a[2] = {100, -3};
  int16_t o[3];
  CHECK_EQ(tc_s16_signal_fft_auto_scale__ref(a, 2, o), 8); /* 100 has 7 bits: 16 - 7 - 1 */
  CHECK_EQ(o[0], 25600);
  CHECK_EQ(o[1], -768);
  const int16_t b[2] = {-200, 50};
  CHECK_EQ(tc_s16_signal_fft_auto_scale__ref(b, 2, o), 7); /* |-200| has 8 bits */
  CHECK_EQ(o[0], -25600);
  CHECK_EQ(o[1], 6400);
  const int16_t z[3] = {0, 0, 0};
  CHECK_EQ(tc_s16_signal_fft_auto_scale__ref(z, 3, o), 0);
  const int16_t big[1] = {16384};
  CHECK_EQ(tc_s16_signal_fft_auto_scale__ref(big, 1, o), 0);
  CHECK_EQ(o[0], 16384);
  /* TFLM's int16 running maximum wraps |-32768| to -32768; the next value then becomes the
   * maximum (5: 3 bits, shift 12) and -32768 * 4096 wraps to 0 in int16. */
  const int16_t q[2] = {-32768, 5};
  CHECK_EQ(tc_s16_signal_fft_auto_scale__ref(q, 2, o), 12);
  CHECK_EQ(o[0], 0);
  CHECK_EQ(o[1], 20480);
}

TC_TEST(kernel_signal_energy) {
  const int16_t spec[8] = {3, 4, -5, 12, 300, -400, -32768, -32768};
  uint32_t out[4] = {77, 77, 77, 77};
  tc_s16_signal_energy__ref(spec, 1, 4, out);
  CHECK_EQ(out[0], 77); /* outside [start, end): untouched */
  CHECK_EQ(out[1], 169);
  CHECK_EQ(out[2], 250000);
  CHECK_EQ(out[3], 2147483648u); /* 2^30 + 2^30 */
}

TC_TEST(kernel_signal_filter_bank) {
  const uint32_t e[5] = {10, 20, 30, 40, 50};
  const int16_t w[5] = {100, 200, 300, 400, 500}, uw[5] = {1, 2, 3, 4, 5};
  const int16_t fs[3] = {0, 1, 3}, ws[3] = {0, 1, 3}, wd[3] = {1, 2, 2};
  uint64_t work[3];
  tc_u32_signal_filter_bank__ref(e, w, uw, fs, ws, wd, 2, work);
  CHECK_EQ(work[0], 1000);          /* 100 * 10 */
  CHECK_EQ(work[1], 10 + 13000);    /* carried 1 * 10, then 200 * 20 + 300 * 30 */
  CHECK_EQ(work[2], 130 + 41000);   /* carried 2 * 20 + 3 * 30, then 400 * 40 + 500 * 50 */
  /* a negative weight wraps modulo 2^64 as in TFLM */
  const int16_t wn[5] = {-1, 0, 0, 0, 0};
  tc_u32_signal_filter_bank__ref(e, wn, uw, fs, ws, wd, 2, work);
  CHECK(work[0] == (uint64_t)0 - 10u);
}

/* round(sqrt(x)) by a slow but obvious method */
static uint64_t naive_sqrt_round(uint64_t x) {
  uint64_t r = (uint64_t)sqrtl((long double)x);
  while (r * r > x) r--;
  while ((r + 1) * (r + 1) <= x) r++;
  if (x - r * r > r) r++; /* x > (r + 1/2)^2 - 1/4 */
  return r;
}

TC_TEST(kernel_signal_sqrt) {
  CHECK_EQ(tc_signal_sqrt32(0), 0);
  CHECK_EQ(tc_signal_sqrt32(1), 1);
  CHECK_EQ(tc_signal_sqrt32(2), 1);
  CHECK_EQ(tc_signal_sqrt32(3), 2);
  CHECK_EQ(tc_signal_sqrt32(4), 2);
  CHECK_EQ(tc_signal_sqrt32(6), 2);
  CHECK_EQ(tc_signal_sqrt32(7), 3);
  CHECK_EQ(tc_signal_sqrt32(0xFFFFFFFFu), 0xFFFF); /* capped, would round to 65536 */
  int bad = 0;
  uint64_t s = 12345;
  for (int i = 0; i < 20000; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t x = (uint32_t)(s >> 32) >> (i % 32);
    uint64_t want = naive_sqrt_round(x);
    if (want > 0xFFFF) want = 0xFFFF;
    if (tc_signal_sqrt32(x) != want) bad++;
    uint64_t y = s >> (i % 31); /* upper word set */
    if ((y >> 32) == 0) continue;
    uint64_t want64 = naive_sqrt_round(y);
    if (want64 > 0xFFFFFFFFu) want64 = 0xFFFFFFFFu;
    if (tc_signal_sqrt64(y) != want64) bad++;
  }
  CHECK_EQ(bad, 0);
  const uint64_t in[3] = {0, 1000000, (uint64_t)1 << 40};
  uint32_t out[3];
  tc_u64_signal_filter_bank_sqrt__ref(in, 3, 2, out);
  CHECK_EQ(out[0], 0);
  CHECK_EQ(out[1], 250);     /* 1000 >> 2 */
  CHECK_EQ(out[2], 262144);  /* 2^20 >> 2 */
}

TC_TEST(kernel_signal_spectral_subtraction) {
  tc_signal_spectral_sub_params p = {2, 1024, 15360, 2048, 14336, 1638, 10, 14, 0};
  const uint32_t in[2] = {1000, 100};
  uint32_t out[2], noise[2] = {0, 0};
  tc_u32_signal_spectral_sub__ref(&p, in, out, noise);
  CHECK_EQ(noise[0], 64000); /* (1000 << 10) * 1024 >> 14 */
  CHECK_EQ(noise[1], 12800); /* odd channel: alternate smoothing 2048 */
  CHECK_EQ(out[0], 937);     /* (1024000 - 64000) >> 10 */
  CHECK_EQ(out[1], 87);      /* (102400 - 12800) >> 10 */
  tc_u32_signal_spectral_sub__ref(&p, in, out, noise);
  CHECK_EQ(noise[0], 124000); /* (1024000 * 1024 + 64000 * 15360) >> 14 */
  CHECK_EQ(noise[1], 24000);
  CHECK_EQ(out[0], 878);
  CHECK_EQ(out[1], 76);
  /* the signal drops to zero: the estimate exceeds it; only clamping pulls it down */
  const uint32_t quiet[2] = {0, 100};
  uint32_t n2[2] = {noise[0], noise[1]};
  tc_u32_signal_spectral_sub__ref(&p, quiet, out, n2);
  CHECK_EQ(n2[0], 116250); /* 124000 * 15360 >> 14 */
  CHECK_EQ(out[0], 0);
  p.clamping = 1;
  n2[0] = noise[0];
  n2[1] = noise[1];
  tc_u32_signal_spectral_sub__ref(&p, quiet, out, n2);
  CHECK_EQ(n2[0], 0);
  CHECK_EQ(out[0], 0);
  /* the floor: min_signal_remaining of the input */
  p.min_signal_remaining = 16384; /* 1.0: nothing may be subtracted */
  noise[0] = noise[1] = 0;
  tc_u32_signal_spectral_sub__ref(&p, in, out, noise);
  CHECK_EQ(out[0], 1000);
  CHECK_EQ(out[1], 100);
}

TC_TEST(kernel_signal_pcan) {
  int16_t lut[TC_SIGNAL_PCAN_LUT_MIN];
  for (int i = 0; i < TC_SIGNAL_PCAN_LUT_MIN; i++) lut[i] = (int16_t)(i * 10);
  /* noise 5: octave 3, LUT segment 6 (60, 70, 80), fraction 256/1024: gain 83;
   * snr = 1000 * 83 >> 4 = 5187 < 2^13: shrink x^2 >> 20 = 25.
   * noise 2: gain lut[2] = 20; snr = 12500 >= 2^13: (12500 >> 6) - 64 = 131.
   * noise 0: gain 0.
   * noise 3 << 19: octave 21, segment 78 (780, 790, 800), fraction 512: gain 1375. */
  const uint32_t in[4] = {1000, 10000, 5000, 64};
  const uint32_t noise[4] = {5, 2, 0, 3u << 19};
  uint32_t out[4];
  tc_u32_signal_pcan__ref(in, noise, lut, 4, 4, out);
  CHECK_EQ(out[0], 25);
  CHECK_EQ(out[1], 131);
  CHECK_EQ(out[2], 0);
  CHECK_EQ(out[3], 28); /* snr = 64 * 1375 >> 4 = 5500; 5500^2 >> 20 = 28 */
  /* in place */
  uint32_t io[1] = {1000};
  const uint32_t n1[1] = {5};
  tc_u32_signal_pcan__ref(io, n1, lut, 4, 1, io);
  CHECK_EQ(io[0], 25);
}

TC_TEST(kernel_signal_log) {
  uint16_t lut[TC_SIGNAL_LOG_LUT_SIZE];
  tc_signal_log_lut_fill(lut);
  CHECK_EQ(lut[0], 0);
  CHECK_EQ(lut[1], 224);
  CHECK_EQ(lut[64], 5568);
  CHECK_EQ(lut[57], 5641); /* the peak of log2(1 + x) - x */
  CHECK_EQ(lut[128], 0);
  CHECK_EQ(lut[129], 0);
  /* powers of two: log2 exact, ln = 45426 * k / 65536 */
  CHECK_EQ(tc_signal_log32(lut, 1024, 1600), (1600u * 454260u + 32768u) >> 16);
  CHECK_EQ(tc_signal_log32(lut, 2, 65536), 45426);
  /* everything else near out_scale * ln(x): TFLM's interpolation between LUT entries shifts by
   * 16 where the segment is 9 bits wide, so it adds at most ~224 / 65536 in log2 (about 3.8
   * units at scale 1600) */
  double worst = 0;
  uint64_t s = 99;
  for (int i = 0; i < 5000; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    uint32_t x = (uint32_t)(s >> 33) >> (i % 30);
    if (x < 2) continue;
    double want = 1600.0 * log((double)x);
    double err = fabs((double)tc_signal_log32(lut, x, 1600) - want);
    if (err > worst) worst = err;
  }
  CHECK(worst > 1.0); /* the coarse interpolation is visible ... */
  CHECK(worst <= 4.5); /* ... but bounded */
  const uint32_t in[4] = {0, 1, 128, 1u << 28};
  int16_t out[4];
  tc_u32_signal_filter_bank_log__ref(lut, in, 4, 3000, 3, out);
  CHECK_EQ(out[0], 0);
  CHECK_EQ(out[1], (int16_t)((3000u * 45426u * 3u + 32768u) >> 16)); /* 1 << 3 = 8 */
  CHECK_EQ(out[2], (int16_t)((3000u * 45426u * 10u + 32768u) >> 16)); /* 1024 */
  CHECK_EQ(out[3], 32767); /* 3000 ln(2^31) = 64463 saturates */
  tc_u32_signal_filter_bank_log__ref(lut, in, 2, 3000, 0, out);
  CHECK_EQ(out[1], 0); /* 1 is not > 1 */
}

/* Fixed-point real FFT against a double DFT scaled by 1 / fft_length (each butterfly stage
 * divides by its radix, the real split by 2). */
static void rfft_vs_dft(int len, int16_t amp, uint64_t seed, int tol, int expect_stages) {
  size_t psize = tc_s16_rfft_plan_size(len);
  CHECK(psize > 0);
  void *pm = malloc(psize);
  tc_rfft16_plan *plan = tc_s16_rfft_plan_init(len, pm, psize);
  CHECK(plan != NULL);
  if (!plan) {
    free(pm);
    return;
  }
  CHECK_EQ(plan->n_stages, expect_stages);
  int16_t *x = malloc(sizeof(int16_t) * (size_t)len);
  int16_t *y = malloc(sizeof(int16_t) * ((size_t)len + 2));
  void *scratch = malloc(tc_s16_rfft_scratch_size(plan));
  for (int i = 0; i < len; i++) {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    x[i] = (int16_t)((int32_t)((seed >> 33) % (2u * (uint32_t)amp + 1)) - amp);
  }
  tc_s16_rfft__ref(plan, x, y, scratch);
  const double pi = 3.14159265358979323846;
  double worst = 0;
  for (int k = 0; k <= len / 2; k++) {
    double re = 0, im = 0;
    for (int t = 0; t < len; t++) {
      re += x[t] * cos(2 * pi * k * t / len);
      im -= x[t] * sin(2 * pi * k * t / len);
    }
    double dr = fabs(re / len - y[2 * k]), di = fabs(im / len - y[2 * k + 1]);
    if (dr > worst) worst = dr;
    if (di > worst) worst = di;
  }
  CHECK_MSG(worst <= tol, "fft_length %d: max error %.2f > %d", len, worst, tol);
  CHECK_EQ(y[1], 0);
  CHECK_EQ(y[len + 1], 0);
  free(x);
  free(y);
  free(scratch);
  free(pm);
}

TC_TEST(kernel_signal_rfft) {
  rfft_vs_dft(8, 20000, 1, 2, 1);     /* n 4: one radix-4 stage */
  rfft_vs_dft(16, 20000, 2, 3, 2);    /* n 8: 4, 2 */
  rfft_vs_dft(64, 30000, 3, 3, 3);    /* n 32: 4, 4, 2 */
  rfft_vs_dft(512, 30000, 4, 4, 4);   /* n 256: 4, 4, 4, 4 (the audio front end) */
  rfft_vs_dft(24, 20000, 5, 3, 2);    /* n 12: 4, 3 */
  rfft_vs_dft(40, 20000, 6, 3, 2);    /* n 20: 4, 5 */
  rfft_vs_dft(14, 20000, 7, 3, 1);    /* n 7: generic radix 7 */
  rfft_vs_dft(12, 20000, 8, 3, 2);    /* n 6: 2, 3 */
  rfft_vs_dft(4, 20000, 9, 2, 1);     /* n 2: 2 */
  CHECK_EQ(tc_s16_rfft_plan_size(7), 0);
  CHECK_EQ(tc_s16_rfft_plan_size(2), 0);
  /* an impulse has a flat spectrum: A / fft_length in every bin */
  size_t psize = tc_s16_rfft_plan_size(16);
  void *pm = malloc(psize), *scratch = NULL;
  tc_rfft16_plan *plan = tc_s16_rfft_plan_init(16, pm, psize);
  CHECK(plan != NULL);
  if (plan) {
    int16_t x[16] = {16384}, y[18];
    scratch = malloc(tc_s16_rfft_scratch_size(plan));
    tc_s16_rfft__ref(plan, x, y, scratch);
    for (int k = 0; k <= 8; k++) {
      CHECK_NEAR(y[2 * k], 1024, 2);
      CHECK_NEAR(y[2 * k + 1], 0, 2);
    }
  }
  free(scratch);
  free(pm);
}

/* ---- op glue through the audio_preprocessor model ---------------------------------------- */

static const char *g_audio = "models/tflm/audio_preprocessor_int8.tflite";

typedef void (*opts_patch)(uint8_t *opts, size_t n);

/* Loads the model from memory, patches the custom_options of the op named `op`, creates and
 * prepares an interpreter; returns the status and copies the message. */
static tc_status create_patched(const char *op, opts_patch patch, char *msg, size_t msz) {
  size_t size = 0;
  uint8_t *bytes = tc_test_read_file(tc_test_shared(g_audio), &size);
  tc_model *m = NULL;
  tc_interp *it = NULL;
  msg[0] = '\0';
  if (!bytes) return TC_ERR_IO;
  tc_status s = tc_model_load_memory(bytes, size, NULL, &m);
  if (s == TC_OK) {
    const tc__msubgraph *sg = &m->subgraphs[0];
    for (int i = 0; i < sg->n_ops; i++) {
      const tc__mopcode *oc = &m->opcodes[sg->ops[i].opcode];
      if (oc->custom && strcmp(oc->custom, op) == 0)
        patch((uint8_t *)sg->ops[i].custom_options, sg->ops[i].custom_options_size);
    }
    s = tc_interp_create(m, NULL, &it);
    if (s == TC_OK) s = tc_interp_prepare(it);
    snprintf(msg, msz, "%s", tc_interp_errmsg(it));
  }
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(bytes);
  return s;
}

static void rename_key(uint8_t *o, size_t n, const char *key) {
  size_t kl = strlen(key);
  for (size_t i = 0; i + kl < n; i++)
    if (memcmp(o + i, key, kl + 1) == 0) o[i + kl - 1] = 'X';
}

/* Overwrites the inline integer stored under `key` (little endian, its slot's width). */
static void set_value(uint8_t *o, size_t n, const char *key, int64_t v) {
  tc__fx fx = {o, n, ""};
  tc__fxref root, ref;
  if (tc__fx_root(&fx, &root) != TC_FX_OK) return;
  if (tc__fx_map_find(&fx, &root, key, &ref) != TC_FX_OK) return;
  for (unsigned b = 0; b < ref.parent_width; b++) o[ref.pos + b] = (uint8_t)((uint64_t)v >> (8 * b));
}

static void p_none(uint8_t *o, size_t n) { (void)o, (void)n; }
static void p_shift(uint8_t *o, size_t n) { rename_key(o, n, "shift"); }
static void p_fft_len(uint8_t *o, size_t n) { rename_key(o, n, "fft_length"); }
static void p_fft_odd(uint8_t *o, size_t n) { set_value(o, n, "fft_length", 511); }
static void p_fft_float(uint8_t *o, size_t n) { set_value(o, n, "T", 0); }
static void p_fft_short(uint8_t *o, size_t n) { set_value(o, n, "fft_length", 256); }
static void p_end(uint8_t *o, size_t n) { set_value(o, n, "end_index", 300); }
static void p_clamping(uint8_t *o, size_t n) { rename_key(o, n, "clamping"); }
static void p_ss_bits(uint8_t *o, size_t n) { set_value(o, n, "spectral_subtraction_bits", 64); }
static void p_channels(uint8_t *o, size_t n) { set_value(o, n, "num_channels", 41); }
static void p_snr(uint8_t *o, size_t n) { set_value(o, n, "snr_shift", 70); }
static void p_root(uint8_t *o, size_t n) { o[n - 2] = 1 << 2; /* root type INT */ }

TC_TEST(kernel_signal_op_options) {
  static const struct {
    const char *op;
    opts_patch patch;
    const char *want;
  } cases[] = {
      {"SignalWindow", p_shift, "'shift' is missing"},
      {"SignalRfft", p_fft_len, "'fft_length' is missing"},
      {"SignalRfft", p_fft_odd, "odd"},
      {"SignalRfft", p_fft_float, "only the int16"},
      {"SignalRfft", p_fft_short, "do not fit fft_length 256"},
      {"SignalEnergy", p_end, "end_index"},
      {"SignalFilterBankSpectralSubtraction", p_clamping, "'clamping' is missing"},
      {"SignalFilterBankSpectralSubtraction", p_ss_bits, "spectral_subtraction_bits"},
      {"SignalFilterBank", p_channels, "num_channels + 1"},
      {"SignalPCAN", p_snr, "snr_shift"},
      {"SignalFilterBankLog", p_root, "FlexBuffer map"},
  };
  char msg[512];
  tc_status s = create_patched("SignalWindow", p_none, msg, sizeof msg);
  CHECK_MSG(s == TC_OK, "unpatched model: %s", msg);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    s = create_patched(cases[i].op, cases[i].patch, msg, sizeof msg);
    CHECK_MSG(s != TC_OK, "%s patch %zu accepted", cases[i].op, i);
    CHECK_STR_CONTAINS(msg, cases[i].want);
    CHECK_STR_CONTAINS(msg, cases[i].op);
  }
}

/* Runs `it` on the yes_30ms input and copies the 40 int8 outputs. */
static tc_status run_once(tc_interp *it, const void *input, size_t in_size, int8_t out[40]) {
  tc_status s = tc_interp_set_input(it, 0, input, in_size);
  if (s == TC_OK) s = tc_interp_invoke(it);
  if (s == TC_OK) s = tc_interp_get_output(it, 0, out, 40);
  return s;
}

TC_TEST(kernel_signal_state_persists) {
  size_t in_size = 0, g_size = 0;
  void *input = tc_test_read_file(
      tc_test_shared("models/golden/tflm/audio_preprocessor_int8/yes_30ms/input_0.bin"), &in_size);
  int8_t *golden = tc_test_read_file(
      tc_test_shared("models/golden/tflm/audio_preprocessor_int8/yes_30ms/output_0.bin"), &g_size);
  tc_model *m = NULL;
  CHECK(input && golden && in_size == 960 && g_size == 40);
  if (!input || !golden || tc_model_load_file(tc_test_shared(g_audio), NULL, &m) != TC_OK) {
    CHECK(0);
    free(input);
    free(golden);
    tc_model_destroy(m);
    return;
  }
  int8_t a[40], b[40], c[40];
  tc_interp *it = NULL, *it2 = NULL;
  CHECK_EQ(tc_interp_create(m, NULL, &it), TC_OK);
  CHECK_EQ(tc_interp_prepare(it), TC_OK);
  CHECK_EQ(run_once(it, input, in_size, a), TC_OK);
  CHECK(memcmp(a, golden, 40) == 0); /* first invoke: the golden */
  CHECK_EQ(run_once(it, input, in_size, b), TC_OK);
  CHECK(memcmp(a, b, 40) != 0); /* the noise estimate moved on */
  CHECK_EQ(tc_interp_reset_variables(it), TC_OK);
  CHECK_EQ(run_once(it, input, in_size, b), TC_OK);
  CHECK(memcmp(b, golden, 40) == 0); /* reset: zero noise again, so the first result again */
  CHECK_EQ(tc_interp_create(m, NULL, &it2), TC_OK);
  CHECK_EQ(tc_interp_prepare(it2), TC_OK);
  CHECK_EQ(run_once(it2, input, in_size, c), TC_OK);
  CHECK(memcmp(c, golden, 40) == 0); /* a new interpreter starts from zero noise */
  tc_interp_destroy(it2);
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(input);
  free(golden);
}
