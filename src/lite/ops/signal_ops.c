/* signal_ops.c: the TFLite Micro signal-library custom operators (SignalWindow,
 * SignalFftAutoScale, SignalRfft, SignalEnergy, SignalFilterBank, SignalFilterBankSquareRoot,
 * SignalFilterBankSpectralSubtraction, SignalPCAN, SignalFilterBankLog) used by audio front
 * ends. Options come from the custom_options FlexBuffer map (read at init); TFLM reads them by
 * position in the alphabetically sorted map, which is the same as reading them by key. The
 * spectral subtraction noise estimate is op state: zeroed at prepare (as TFLM does) and carried
 * from one invoke to the next. The math is in kernels/ref/signal_dsp.c and signal_rfft.c. */
#include <stdint.h>
#include <string.h>

#include "kernels/ref/signal_dsp.h"
#include "kernels/ref/signal_rfft.h"
#include "lite/flexbuf.h"
#include "lite/ops.h"

/* ---- options ------------------------------------------------------------------------------ */

static tc_status opts_open(tc__ctx *c, tc__node *n, tc__fx *fx, tc__fxref *root) {
  fx->buf = n->m->custom_options;
  fx->size = n->m->custom_options_size;
  fx->why = "";
  if (!fx->buf || fx->size == 0)
    return tc__fail(c, n, TC_ERR_MODEL, "custom options (a FlexBuffer map) are missing");
  if (tc__fx_root(fx, root) != TC_FX_OK || root->type != TC_FXT_MAP)
    return tc__fail(c, n, TC_ERR_MODEL, "custom options are not a FlexBuffer map (%s)",
                    fx->why[0] ? fx->why : "root is not a map");
  return TC_OK;
}

/* A required integer option within [lo, hi]. */
static tc_status opt_int(tc__ctx *c, tc__node *n, tc__fx *fx, const tc__fxref *root,
                         const char *key, int64_t lo, int64_t hi, int64_t *out) {
  tc__fxref v;
  tc__fx_res r = tc__fx_map_find(fx, root, key, &v);
  if (r == TC_FX_OK) r = tc__fx_int(fx, &v, out);
  if (r == TC_FX_ABSENT)
    return tc__fail(c, n, TC_ERR_MODEL, "custom option '%s' is missing", key);
  if (r != TC_FX_OK) return tc__fail(c, n, TC_ERR_MODEL, "custom option '%s': %s", key, fx->why);
  if (*out < lo || *out > hi)
    return tc__fail(c, n, TC_ERR_MODEL, "custom option '%s' = %lld is outside [%lld, %lld]", key,
                    (long long)*out, (long long)lo, (long long)hi);
  return TC_OK;
}

static tc_status opt_bool(tc__ctx *c, tc__node *n, tc__fx *fx, const tc__fxref *root,
                          const char *key, int *out) {
  tc__fxref v;
  tc__fx_res r = tc__fx_map_find(fx, root, key, &v);
  if (r == TC_FX_OK) r = tc__fx_bool(fx, &v, out);
  if (r == TC_FX_ABSENT)
    return tc__fail(c, n, TC_ERR_MODEL, "custom option '%s' is missing", key);
  if (r != TC_FX_OK) return tc__fail(c, n, TC_ERR_MODEL, "custom option '%s': %s", key, fx->why);
  return TC_OK;
}

/* ---- shared checks ------------------------------------------------------------------------ */

static tc_status expect_rank(tc__ctx *c, tc__node *n, const tc__tensor *t, const char *what,
                             int rank) {
  char b[64];
  if (t->n_dims == rank) return TC_OK;
  return tc__fail(c, n, TC_ERR_MODEL, "%s has shape %s, expected rank %d", what,
                  tc__dims_str(t, b, sizeof b), rank);
}

/* dtype and rank in one go */
static tc_status expect(tc__ctx *c, tc__node *n, const tc__tensor *t, const char *what,
                        tc_dtype dt, int rank) {
  tc_status s = tc__expect_dtype(c, n, t, what, dt);
  return s ? s : rank >= 0 ? expect_rank(c, n, t, what, rank) : TC_OK;
}

static tc_status same_shape_out(tc__ctx *c, tc__node *n, int out, const tc__tensor *like,
                                tc_dtype dt) {
  tc__tensor *o = tc__out(c, n, out);
  tc_status s = tc__expect_dtype(c, n, o, out ? "output 1" : "output", dt);
  return s ? s : tc__set_shape(c, n, o, like->n_dims, like->dims);
}

static tc_status vec_out(tc__ctx *c, tc__node *n, int out, int32_t len, tc_dtype dt) {
  tc__tensor *o = tc__out(c, n, out);
  tc_status s = tc__expect_dtype(c, n, o, out ? "output 1" : "output", dt);
  return s ? s : tc__set_shape(c, n, o, 1, &len);
}

/* ---- SignalWindow: int16 samples times an int16 window, shifted down --------------------- */

typedef struct {
  int shift;
} window_state;

static tc_status window_init(tc__ctx *c, tc__node *n) {
  tc__fx fx;
  tc__fxref root;
  int64_t v;
  tc_status s;
  window_state *st = tc__persist_alloc(c, sizeof *st);
  if (!st) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  n->state = st;
  if ((s = opts_open(c, n, &fx, &root)) || (s = opt_int(c, n, &fx, &root, "shift", 0, 31, &v)))
    return s;
  st->shift = (int)v;
  return TC_OK;
}

static tc_status window_prepare(tc__ctx *c, tc__node *n) {
  tc_status s = tc__expect_io(c, n, 2, 2, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *w = tc__in(c, n, 1);
  if ((s = expect(c, n, in, "input", TC_DTYPE_I16, -1)) ||
      (s = expect(c, n, w, "window", TC_DTYPE_I16, 1)))
    return s;
  if (in->n_dims < 1) return tc__fail(c, n, TC_ERR_MODEL, "input must have rank >= 1");
  size_t wl = tc__numel(w), total = tc__numel(in);
  if (wl == 0 || total % wl != 0)
    return tc__fail(c, n, TC_ERR_MODEL, "input has %zu values, not a multiple of the window "
                    "length %zu", total, wl);
  return same_shape_out(c, n, 0, in, TC_DTYPE_I16);
}

static tc_status window_invoke(tc__ctx *c, tc__node *n) {
  const window_state *st = n->state;
  const tc__tensor *in = tc__in(c, n, 0), *w = tc__in(c, n, 1);
  tc__tensor *out = tc__out(c, n, 0);
  size_t wl = tc__numel(w), total = tc__numel(in);
  for (size_t i = 0; i < total; i += wl)
    tc_s16_signal_window__ref((const int16_t *)in->data + i, w->data, (int)wl, st->shift,
                              (int16_t *)out->data + i);
  return TC_OK;
}

const tc__opreg tc__reg_signal_window = {TC_OP_CUSTOM, "SignalWindow", window_init,
                                         window_prepare, window_invoke, NULL, 0};

/* ---- SignalFftAutoScale: [N] int16 -> [N] int16 scaled up, scalar int32 shift ------------- */

static tc_status autoscale_prepare(tc__ctx *c, tc__node *n) {
  tc_status s = tc__expect_io(c, n, 1, 1, 2);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *bits = tc__out(c, n, 1);
  if ((s = expect(c, n, in, "input", TC_DTYPE_I16, 1)) ||
      (s = same_shape_out(c, n, 0, in, TC_DTYPE_I16)) ||
      (s = tc__expect_dtype(c, n, bits, "output 1 (scale bits)", TC_DTYPE_I32)))
    return s;
  return tc__set_shape(c, n, bits, 0, NULL);
}

static tc_status autoscale_invoke(tc__ctx *c, tc__node *n) {
  const tc__tensor *in = tc__in(c, n, 0);
  tc__tensor *out = tc__out(c, n, 0), *bits = tc__out(c, n, 1);
  *(int32_t *)bits->data =
      tc_s16_signal_fft_auto_scale__ref(in->data, (int)tc__numel(in), out->data);
  return TC_OK;
}

const tc__opreg tc__reg_signal_fft_auto_scale = {
    TC_OP_CUSTOM, "SignalFftAutoScale", NULL, autoscale_prepare, autoscale_invoke, NULL, 0};

/* ---- SignalRfft: rows of int16 samples (zero-padded to fft_length) -> complex int16 bins ---- */

typedef struct {
  int32_t fft_length;
  tc_rfft16_plan *plan;
  size_t rows, row_in;
  int slot;
} rfft_state;

enum { TFLITE_TYPE_FLOAT32 = 0, TFLITE_TYPE_INT32 = 2, TFLITE_TYPE_INT16 = 7 };

static tc_status rfft_init(tc__ctx *c, tc__node *n) {
  tc__fx fx;
  tc__fxref root;
  int64_t type, len;
  tc_status s;
  rfft_state *st = tc__persist_alloc(c, sizeof *st);
  if (!st) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  n->state = st;
  if ((s = opts_open(c, n, &fx, &root)) ||
      (s = opt_int(c, n, &fx, &root, "T", INT32_MIN, INT32_MAX, &type)) ||
      (s = opt_int(c, n, &fx, &root, "fft_length", 4, 65536, &len)))
    return s;
  if (type != TFLITE_TYPE_INT16)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "T = %lld: only the int16 (T = 7) real FFT is "
                    "implemented (float32 and int32 are not)", (long long)type);
  if (len & 1) return tc__fail(c, n, TC_ERR_MODEL, "fft_length %lld is odd", (long long)len);
  st->fft_length = (int32_t)len;
  size_t size = tc_s16_rfft_plan_size(st->fft_length);
  void *mem = tc__persist_alloc(c, size);
  if (!mem) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for the FFT plan");
  st->plan = tc_s16_rfft_plan_init(st->fft_length, mem, size);
  if (!st->plan)
    return tc__fail(c, n, TC_ERR_UNSUPPORTED, "fft_length %lld cannot be planned", (long long)len);
  return TC_OK;
}

static tc_status rfft_prepare(tc__ctx *c, tc__node *n) {
  rfft_state *st = n->state;
  tc_status s = tc__expect_io(c, n, 1, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0);
  if ((s = expect(c, n, in, "input", TC_DTYPE_I16, -1))) return s;
  if (in->n_dims < 1) return tc__fail(c, n, TC_ERR_MODEL, "input must have rank >= 1");
  int32_t last = in->dims[in->n_dims - 1];
  if (last <= 0 || last > st->fft_length)
    return tc__fail(c, n, TC_ERR_MODEL, "input rows of %d samples do not fit fft_length %d",
                    (int)last, (int)st->fft_length);
  int32_t dims[TC_MAX_DIMS];
  memcpy(dims, in->dims, sizeof(int32_t) * (size_t)in->n_dims);
  dims[in->n_dims - 1] = st->fft_length + 2;
  tc__tensor *out = tc__out(c, n, 0);
  if ((s = tc__expect_dtype(c, n, out, "output", TC_DTYPE_I16)) ||
      (s = tc__set_shape(c, n, out, in->n_dims, dims)))
    return s;
  st->row_in = (size_t)last;
  st->rows = tc__numel(in) / (size_t)last;
  return tc__scratch_request(c, n,
                             sizeof(int16_t) * (size_t)st->fft_length +
                                 tc_s16_rfft_scratch_size(st->plan),
                             &st->slot);
}

static tc_status rfft_invoke(tc__ctx *c, tc__node *n) {
  const rfft_state *st = n->state;
  const int16_t *in = tc__in(c, n, 0)->data;
  int16_t *out = tc__out(c, n, 0)->data;
  int16_t *work = tc__scratch(c, n, st->slot);
  void *fft_scratch = work + st->fft_length;
  for (size_t r = 0; r < st->rows; r++) {
    memcpy(work, in + r * st->row_in, sizeof(int16_t) * st->row_in);
    memset(work + st->row_in, 0, sizeof(int16_t) * ((size_t)st->fft_length - st->row_in));
    tc_s16_rfft__ref(st->plan, work, out + r * ((size_t)st->fft_length + 2), fft_scratch);
  }
  return TC_OK;
}

const tc__opreg tc__reg_signal_rfft = {TC_OP_CUSTOM, "SignalRfft", rfft_init, rfft_prepare,
                                       rfft_invoke, NULL, 0};

/* ---- SignalEnergy: |bin|^2 for bins [start_index, end_index), others 0 -------------------- */

typedef struct {
  int32_t start, end;
} energy_state;

static tc_status energy_init(tc__ctx *c, tc__node *n) {
  tc__fx fx;
  tc__fxref root;
  int64_t a, b;
  tc_status s;
  energy_state *st = tc__persist_alloc(c, sizeof *st);
  if (!st) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  n->state = st;
  if ((s = opts_open(c, n, &fx, &root)) ||
      (s = opt_int(c, n, &fx, &root, "start_index", 0, INT32_MAX, &a)) ||
      (s = opt_int(c, n, &fx, &root, "end_index", 0, INT32_MAX, &b)))
    return s;
  st->start = (int32_t)a;
  st->end = (int32_t)b;
  return TC_OK;
}

static tc_status energy_prepare(tc__ctx *c, tc__node *n) {
  const energy_state *st = n->state;
  tc_status s = tc__expect_io(c, n, 1, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0);
  if ((s = expect(c, n, in, "input", TC_DTYPE_I16, 1))) return s;
  if (in->dims[0] % 2)
    return tc__fail(c, n, TC_ERR_MODEL, "input has %d values, expected complex pairs",
                    (int)in->dims[0]);
  int32_t bins = in->dims[0] / 2;
  if (st->start > st->end || st->end > bins)
    return tc__fail(c, n, TC_ERR_MODEL, "start_index %d / end_index %d do not fit %d bins",
                    (int)st->start, (int)st->end, (int)bins);
  return vec_out(c, n, 0, bins, TC_DTYPE_U32);
}

static tc_status energy_invoke(tc__ctx *c, tc__node *n) {
  const energy_state *st = n->state;
  tc__tensor *out = tc__out(c, n, 0);
  /* TFLM leaves the bins outside the range unwritten; they are zeroed here instead so the
   * output never shows stale memory. */
  memset(out->data, 0, out->bytes);
  tc_s16_signal_energy__ref(tc__in(c, n, 0)->data, st->start, st->end, out->data);
  return TC_OK;
}

const tc__opreg tc__reg_signal_energy = {TC_OP_CUSTOM, "SignalEnergy", energy_init,
                                         energy_prepare, energy_invoke, NULL, 0};

/* ---- SignalFilterBank: uint32 energies -> num_channels uint64 mel channels ---------------- */

typedef struct {
  int32_t n_channels;
  uint64_t *work; /* n_channels + 1 */
  int checked;    /* index tensors were constant and validated at prepare */
} fbank_state;

static tc_status fbank_init(tc__ctx *c, tc__node *n) {
  tc__fx fx;
  tc__fxref root;
  int64_t v;
  tc_status s;
  fbank_state *st = tc__persist_alloc(c, sizeof *st);
  if (!st) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  n->state = st;
  if ((s = opts_open(c, n, &fx, &root)) ||
      (s = opt_int(c, n, &fx, &root, "num_channels", 1, 1 << 20, &v)))
    return s;
  st->n_channels = (int32_t)v;
  st->work = tc__persist_alloc(c, sizeof(uint64_t) * ((size_t)v + 1));
  if (!st->work) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  return TC_OK;
}

/* Every channel's frequency and weight ranges must lie inside their arrays. */
static tc_status fbank_check_ranges(tc__ctx *c, tc__node *n, const fbank_state *st) {
  const tc__tensor *in = tc__in(c, n, 0), *w = tc__in(c, n, 1);
  const int16_t *fs = tc__in(c, n, 3)->data, *ws = tc__in(c, n, 4)->data,
                *wd = tc__in(c, n, 5)->data;
  int64_t n_in = (int64_t)tc__numel(in), n_w = (int64_t)tc__numel(w);
  for (int32_t i = 0; i <= st->n_channels; i++) {
    if (fs[i] < 0 || ws[i] < 0 || wd[i] < 0 || fs[i] + (int64_t)wd[i] > n_in ||
        ws[i] + (int64_t)wd[i] > n_w)
      return tc__fail(c, n, TC_ERR_MODEL,
                      "channel %d (frequency start %d, weight start %d, width %d) is outside "
                      "the %lld energies / %lld weights", (int)i, fs[i], ws[i], wd[i],
                      (long long)n_in, (long long)n_w);
  }
  return TC_OK;
}

static tc_status fbank_prepare(tc__ctx *c, tc__node *n) {
  fbank_state *st = n->state;
  tc_status s = tc__expect_io(c, n, 6, 6, 1);
  if (s) return s;
  static const char *names[6] = {"input", "weights", "unweights", "channel frequency starts",
                                 "channel weight starts", "channel widths"};
  if ((s = expect(c, n, tc__in(c, n, 0), names[0], TC_DTYPE_U32, 1))) return s;
  for (int i = 1; i < 6; i++)
    if ((s = expect(c, n, tc__in(c, n, i), names[i], TC_DTYPE_I16, 1))) return s;
  if (tc__numel(tc__in(c, n, 1)) != tc__numel(tc__in(c, n, 2)))
    return tc__fail(c, n, TC_ERR_MODEL, "weights and unweights differ in length");
  for (int i = 3; i < 6; i++)
    if (tc__numel(tc__in(c, n, i)) < (size_t)st->n_channels + 1)
      return tc__fail(c, n, TC_ERR_MODEL, "%s has %zu entries, expected num_channels + 1 = %d",
                      names[i], tc__numel(tc__in(c, n, i)), (int)st->n_channels + 1);
  st->checked = tc__in(c, n, 3)->known && tc__in(c, n, 4)->known && tc__in(c, n, 5)->known;
  if (st->checked && (s = fbank_check_ranges(c, n, st))) return s;
  return vec_out(c, n, 0, st->n_channels, TC_DTYPE_U64);
}

static tc_status fbank_invoke(tc__ctx *c, tc__node *n) {
  const fbank_state *st = n->state;
  tc_status s;
  if (!st->checked && (s = fbank_check_ranges(c, n, st))) return s;
  tc_u32_signal_filter_bank__ref(tc__in(c, n, 0)->data, tc__in(c, n, 1)->data,
                                 tc__in(c, n, 2)->data, tc__in(c, n, 3)->data,
                                 tc__in(c, n, 4)->data, tc__in(c, n, 5)->data, st->n_channels,
                                 st->work);
  /* channel 0 only collects the unweighted part of the first channel: dropped */
  memcpy(tc__out(c, n, 0)->data, st->work + 1, sizeof(uint64_t) * (size_t)st->n_channels);
  return TC_OK;
}

const tc__opreg tc__reg_signal_filter_bank = {TC_OP_CUSTOM, "SignalFilterBank", fbank_init,
                                              fbank_prepare, fbank_invoke, NULL, 0};

/* ---- SignalFilterBankSquareRoot: uint64 -> uint32 sqrt, shifted down by a scalar ---------- */

static tc_status fbsqrt_prepare(tc__ctx *c, tc__node *n) {
  tc_status s = tc__expect_io(c, n, 2, 2, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *bits = tc__in(c, n, 1);
  if ((s = expect(c, n, in, "input", TC_DTYPE_U64, 1)) ||
      (s = expect(c, n, bits, "scale bits", TC_DTYPE_I32, 0)))
    return s;
  return same_shape_out(c, n, 0, in, TC_DTYPE_U32);
}

static tc_status fbsqrt_invoke(tc__ctx *c, tc__node *n) {
  const tc__tensor *in = tc__in(c, n, 0);
  int32_t shift = *(const int32_t *)tc__in(c, n, 1)->data;
  if (shift < 0 || shift > 31)
    return tc__fail(c, n, TC_ERR_ARG, "scale bits %d are outside [0, 31]", (int)shift);
  tc_u64_signal_filter_bank_sqrt__ref(in->data, (int)tc__numel(in), shift,
                                      tc__out(c, n, 0)->data);
  return TC_OK;
}

const tc__opreg tc__reg_signal_filter_bank_square_root = {
    TC_OP_CUSTOM, "SignalFilterBankSquareRoot", NULL, fbsqrt_prepare, fbsqrt_invoke, NULL, 0};

/* ---- SignalFilterBankSpectralSubtraction: stateful noise estimate ------------------------- */

typedef struct {
  tc_signal_spectral_sub_params p;
  uint32_t *noise; /* n_channels, persists across invokes */
} specsub_state;

static tc_status specsub_init(tc__ctx *c, tc__node *n) {
  tc__fx fx;
  tc__fxref root;
  int64_t v[8];
  int clamp = 0;
  tc_status s;
  specsub_state *st = tc__persist_alloc(c, sizeof *st);
  if (!st) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  n->state = st;
  static const struct {
    const char *key;
    int64_t lo, hi;
  } k[8] = {{"alternate_one_minus_smoothing", INT32_MIN, UINT32_MAX},
            {"alternate_smoothing", INT32_MIN, UINT32_MAX},
            {"min_signal_remaining", INT32_MIN, UINT32_MAX},
            {"num_channels", 1, 1 << 20},
            {"one_minus_smoothing", INT32_MIN, UINT32_MAX},
            {"smoothing", INT32_MIN, UINT32_MAX},
            {"smoothing_bits", 0, 31},
            {"spectral_subtraction_bits", 0, 63}};
  if ((s = opts_open(c, n, &fx, &root))) return s;
  for (int i = 0; i < 8; i++)
    if ((s = opt_int(c, n, &fx, &root, k[i].key, k[i].lo, k[i].hi, &v[i]))) return s;
  if ((s = opt_bool(c, n, &fx, &root, "clamping", &clamp))) return s;
  /* TFLM reads these as int32 and stores them as uint32 */
  st->p.alternate_one_minus_smoothing = (uint32_t)v[0];
  st->p.alternate_smoothing = (uint32_t)v[1];
  st->p.min_signal_remaining = (uint32_t)v[2];
  st->p.n_channels = (int32_t)v[3];
  st->p.one_minus_smoothing = (uint32_t)v[4];
  st->p.smoothing = (uint32_t)v[5];
  st->p.smoothing_bits = (uint32_t)v[6];
  st->p.spectral_subtraction_bits = (uint32_t)v[7];
  st->p.clamping = clamp;
  st->noise = tc__persist_alloc(c, sizeof(uint32_t) * (size_t)v[3]);
  if (!st->noise) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for the noise estimate");
  return TC_OK;
}

static tc_status specsub_prepare(tc__ctx *c, tc__node *n) {
  specsub_state *st = n->state;
  tc_status s = tc__expect_io(c, n, 1, 1, 2);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0);
  if ((s = expect(c, n, in, "input", TC_DTYPE_U32, 1))) return s;
  if (in->dims[0] != st->p.n_channels)
    return tc__fail(c, n, TC_ERR_MODEL, "input has %d channels, num_channels is %d",
                    (int)in->dims[0], (int)st->p.n_channels);
  if ((s = same_shape_out(c, n, 0, in, TC_DTYPE_U32)) ||
      (s = same_shape_out(c, n, 1, in, TC_DTYPE_U32)))
    return s;
  memset(st->noise, 0, sizeof(uint32_t) * (size_t)st->p.n_channels); /* TFLM resets here */
  return TC_OK;
}

static void specsub_reset(tc__ctx *c, tc__node *n) {
  specsub_state *st = n->state;
  (void)c;
  if (st && st->noise) memset(st->noise, 0, sizeof(uint32_t) * (size_t)st->p.n_channels);
}

static tc_status specsub_invoke(tc__ctx *c, tc__node *n) {
  specsub_state *st = n->state;
  tc_u32_signal_spectral_sub__ref(&st->p, tc__in(c, n, 0)->data, tc__out(c, n, 0)->data,
                                  st->noise);
  memcpy(tc__out(c, n, 1)->data, st->noise, sizeof(uint32_t) * (size_t)st->p.n_channels);
  return TC_OK;
}

const tc__opreg tc__reg_signal_filter_bank_spectral_subtraction = {
    TC_OP_CUSTOM, "SignalFilterBankSpectralSubtraction", specsub_init, specsub_prepare,
    specsub_invoke, NULL, 0, specsub_reset};

/* ---- SignalPCAN: per-channel automatic gain from the noise estimate ----------------------- */

typedef struct {
  int snr_shift;
} pcan_state;

static tc_status pcan_init(tc__ctx *c, tc__node *n) {
  tc__fx fx;
  tc__fxref root;
  int64_t v;
  tc_status s;
  pcan_state *st = tc__persist_alloc(c, sizeof *st);
  if (!st) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  n->state = st;
  if ((s = opts_open(c, n, &fx, &root)) ||
      (s = opt_int(c, n, &fx, &root, "snr_shift", 0, 63, &v)))
    return s;
  st->snr_shift = (int)v;
  return TC_OK;
}

static tc_status pcan_prepare(tc__ctx *c, tc__node *n) {
  tc_status s = tc__expect_io(c, n, 3, 3, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0), *noise = tc__in(c, n, 1), *lut = tc__in(c, n, 2);
  if ((s = expect(c, n, in, "input", TC_DTYPE_U32, 1)) ||
      (s = expect(c, n, noise, "noise estimate", TC_DTYPE_U32, 1)) ||
      (s = expect(c, n, lut, "gain LUT", TC_DTYPE_I16, 1)))
    return s;
  if (in->dims[0] <= 0 || noise->dims[0] != in->dims[0])
    return tc__fail(c, n, TC_ERR_MODEL, "input (%d) and noise estimate (%d) lengths differ",
                    (int)in->dims[0], (int)noise->dims[0]);
  if (lut->dims[0] < TC_SIGNAL_PCAN_LUT_MIN)
    return tc__fail(c, n, TC_ERR_MODEL, "gain LUT has %d entries, expected at least %d",
                    (int)lut->dims[0], TC_SIGNAL_PCAN_LUT_MIN);
  return same_shape_out(c, n, 0, in, TC_DTYPE_U32);
}

static tc_status pcan_invoke(tc__ctx *c, tc__node *n) {
  const pcan_state *st = n->state;
  const tc__tensor *in = tc__in(c, n, 0);
  tc_u32_signal_pcan__ref(in->data, tc__in(c, n, 1)->data, tc__in(c, n, 2)->data, st->snr_shift,
                          in->dims[0], tc__out(c, n, 0)->data);
  return TC_OK;
}

const tc__opreg tc__reg_signal_pcan = {TC_OP_CUSTOM, "SignalPCAN", pcan_init, pcan_prepare,
                                       pcan_invoke, NULL, 0};

/* ---- SignalFilterBankLog: uint32 -> int16 scaled natural log ------------------------------ */

typedef struct {
  int correction_bits;
  uint32_t out_scale;
  uint16_t lut[TC_SIGNAL_LOG_LUT_SIZE];
} fblog_state;

static tc_status fblog_init(tc__ctx *c, tc__node *n) {
  tc__fx fx;
  tc__fxref root;
  int64_t bits, scale;
  tc_status s;
  fblog_state *st = tc__persist_alloc(c, sizeof *st);
  if (!st) return tc__fail(c, n, TC_ERR_NOMEM, "out of memory for op state");
  n->state = st;
  if ((s = opts_open(c, n, &fx, &root)) ||
      (s = opt_int(c, n, &fx, &root, "input_correction_bits", 0, 31, &bits)) ||
      (s = opt_int(c, n, &fx, &root, "output_scale", INT32_MIN, INT32_MAX, &scale)))
    return s;
  st->correction_bits = (int)bits;
  st->out_scale = (uint32_t)(int32_t)scale;
  tc_signal_log_lut_fill(st->lut);
  return TC_OK;
}

static tc_status fblog_prepare(tc__ctx *c, tc__node *n) {
  tc_status s = tc__expect_io(c, n, 1, 1, 1);
  if (s) return s;
  tc__tensor *in = tc__in(c, n, 0);
  if ((s = expect(c, n, in, "input", TC_DTYPE_U32, 1))) return s;
  return same_shape_out(c, n, 0, in, TC_DTYPE_I16);
}

static tc_status fblog_invoke(tc__ctx *c, tc__node *n) {
  const fblog_state *st = n->state;
  const tc__tensor *in = tc__in(c, n, 0);
  tc_u32_signal_filter_bank_log__ref(st->lut, in->data, in->dims[0], st->out_scale,
                                     st->correction_bits, tc__out(c, n, 0)->data);
  return TC_OK;
}

const tc__opreg tc__reg_signal_filter_bank_log = {TC_OP_CUSTOM, "SignalFilterBankLog",
                                                  fblog_init, fblog_prepare, fblog_invoke, NULL,
                                                  0};
