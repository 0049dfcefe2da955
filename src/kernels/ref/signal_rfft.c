/* signal_rfft.c: int16 fixed-point real FFT, bit-exact with TFLM's SignalRfft (KISS FFT in
 * 16-bit fixed point), see signal_rfft.h. Values are held as int16 between steps and every
 * store wraps to int16 as the original's short fields do; products are Q15 with rounding
 * (x * y + 2^14) >> 15. */
#include "kernels/ref/signal_rfft.h"

#include <math.h>
#include <string.h>

/* Q15 product with rounding, truncated to int16. */
static int16_t q15(int32_t prod) { return (int16_t)(uint16_t)(uint32_t)((prod + (1 << 14)) >> 15); }
static int16_t s16(int32_t v) { return (int16_t)(uint16_t)(uint32_t)v; }

static tc_cpx16 cmul(tc_cpx16 a, tc_cpx16 b) {
  tc_cpx16 m;
  m.r = q15((int32_t)a.r * b.r - (int32_t)a.i * b.i);
  m.i = q15((int32_t)a.r * b.i + (int32_t)a.i * b.r);
  return m;
}

/* Divides by k as the fixed-point FFT does: multiply by floor(32767 / k) in Q15. */
static tc_cpx16 cdiv(tc_cpx16 c, int k) {
  int32_t f = 32767 / k;
  c.r = q15((int32_t)c.r * f);
  c.i = q15((int32_t)c.i * f);
  return c;
}

static tc_cpx16 cadd(tc_cpx16 a, tc_cpx16 b) {
  tc_cpx16 r = {s16(a.r + b.r), s16(a.i + b.i)};
  return r;
}

static tc_cpx16 csub(tc_cpx16 a, tc_cpx16 b) {
  tc_cpx16 r = {s16(a.r - b.r), s16(a.i - b.i)};
  return r;
}

static int16_t smul(int16_t a, int16_t b) { return q15((int32_t)a * b); }

/* Q15 unit vector at angle `phase`, rounded half up. */
static tc_cpx16 cexp_q15(double phase) {
  tc_cpx16 x;
  x.r = (int16_t)floor(0.5 + 32767.0 * cos(phase));
  x.i = (int16_t)floor(0.5 + 32767.0 * sin(phase));
  return x;
}

size_t tc_s16_rfft_plan_size(int32_t fft_length) {
  if (fft_length < 4 || fft_length > 65536 || (fft_length & 1)) return 0;
  int32_t n = fft_length / 2;
  return sizeof(tc_rfft16_plan) + sizeof(tc_cpx16) * ((size_t)n + (size_t)n / 2 + 1);
}

tc_rfft16_plan *tc_s16_rfft_plan_init(int32_t fft_length, void *mem, size_t size) {
  size_t need = tc_s16_rfft_plan_size(fft_length);
  if (need == 0 || !mem || size < need) return NULL;
  tc_rfft16_plan *p = mem;
  memset(p, 0, need);
  p->fft_length = fft_length;
  p->n = fft_length / 2;
  p->twiddles = (tc_cpx16 *)(p + 1);
  p->split = p->twiddles + p->n;
  const double pi = 3.14159265358979323846264338327950288;
  for (int32_t k = 0; k < p->n; k++) p->twiddles[k] = cexp_q15(-2 * pi * k / p->n);
  for (int32_t k = 0; k < p->n / 2; k++)
    p->split[k] = cexp_q15(-pi * ((double)(k + 1) / p->n + 0.5));
  /* Factorisation: powers of 4 first, then 2, then odd numbers up to sqrt(n); whatever is left
   * when the candidate passes floor(sqrt(n)) of the original n is one last factor. */
  int32_t rem = p->n, radix = 4, st = 0;
  double lim = floor(sqrt((double)p->n));
  do {
    while (rem % radix) {
      radix = radix == 4 ? 2 : radix == 2 ? 3 : radix + 2;
      if (radix > lim) radix = rem;
    }
    rem /= radix;
    if (st >= TC_RFFT_MAX_STAGES) return NULL;
    p->factors[2 * st] = radix;
    p->factors[2 * st + 1] = rem;
    st++;
  } while (rem > 1);
  p->n_stages = st;
  return p;
}

size_t tc_s16_rfft_scratch_size(const tc_rfft16_plan *plan) {
  /* packed input, complex FFT output, and the generic butterfly's (at most n) values */
  return sizeof(tc_cpx16) * (size_t)plan->n * 3;
}

/* ---- butterflies: combine p sub-transforms of length m (stride fstride in the twiddles) ---- */

static void bfly2(tc_cpx16 *f, int fstride, const tc_rfft16_plan *p, int m) {
  const tc_cpx16 *tw = p->twiddles;
  for (int k = 0; k < m; k++) {
    tc_cpx16 a = cdiv(f[k], 2), b = cdiv(f[k + m], 2);
    tc_cpx16 t = cmul(b, tw[k * fstride]);
    f[k + m] = csub(a, t);
    f[k] = cadd(a, t);
  }
}

static void bfly4(tc_cpx16 *f, int fstride, const tc_rfft16_plan *p, int m) {
  const tc_cpx16 *tw = p->twiddles;
  for (int k = 0; k < m; k++) {
    tc_cpx16 a0 = cdiv(f[k], 4), a1 = cdiv(f[k + m], 4), a2 = cdiv(f[k + 2 * m], 4),
             a3 = cdiv(f[k + 3 * m], 4);
    tc_cpx16 s0 = cmul(a1, tw[k * fstride]);
    tc_cpx16 s1 = cmul(a2, tw[2 * k * fstride]);
    tc_cpx16 s2 = cmul(a3, tw[3 * k * fstride]);
    tc_cpx16 s5 = csub(a0, s1);
    a0 = cadd(a0, s1);
    tc_cpx16 s3 = cadd(s0, s2), s4 = csub(s0, s2);
    f[k + 2 * m] = csub(a0, s3);
    f[k] = cadd(a0, s3);
    f[k + m].r = s16(s5.r + s4.i);
    f[k + m].i = s16(s5.i - s4.r);
    f[k + 3 * m].r = s16(s5.r - s4.i);
    f[k + 3 * m].i = s16(s5.i + s4.r);
  }
}

static void bfly3(tc_cpx16 *f, int fstride, const tc_rfft16_plan *p, int m) {
  const tc_cpx16 *tw = p->twiddles;
  int16_t e3i = tw[fstride * m].i;
  for (int k = 0; k < m; k++) {
    tc_cpx16 a0 = cdiv(f[k], 3), a1 = cdiv(f[k + m], 3), a2 = cdiv(f[k + 2 * m], 3);
    tc_cpx16 s1 = cmul(a1, tw[k * fstride]);
    tc_cpx16 s2 = cmul(a2, tw[2 * k * fstride]);
    tc_cpx16 s3 = cadd(s1, s2), s0 = csub(s1, s2);
    tc_cpx16 o1;
    o1.r = s16(a0.r - (s3.r >> 1));
    o1.i = s16(a0.i - (s3.i >> 1));
    s0.r = smul(s0.r, e3i);
    s0.i = smul(s0.i, e3i);
    f[k] = cadd(a0, s3);
    f[k + 2 * m].r = s16(o1.r + s0.i);
    f[k + 2 * m].i = s16(o1.i - s0.r);
    f[k + m].r = s16(o1.r - s0.i);
    f[k + m].i = s16(o1.i + s0.r);
  }
}

static void bfly5(tc_cpx16 *f, int fstride, const tc_rfft16_plan *p, int m) {
  const tc_cpx16 *tw = p->twiddles;
  tc_cpx16 ya = tw[fstride * m], yb = tw[fstride * 2 * m];
  for (int k = 0; k < m; k++) {
    tc_cpx16 a[5];
    for (int q = 0; q < 5; q++) a[q] = cdiv(f[k + q * m], 5);
    tc_cpx16 s1 = cmul(a[1], tw[k * fstride]), s2 = cmul(a[2], tw[2 * k * fstride]),
             s3 = cmul(a[3], tw[3 * k * fstride]), s4 = cmul(a[4], tw[4 * k * fstride]);
    tc_cpx16 s7 = cadd(s1, s4), s10 = csub(s1, s4), s8 = cadd(s2, s3), s9 = csub(s2, s3);
    tc_cpx16 o0;
    o0.r = s16(a[0].r + s7.r + s8.r);
    o0.i = s16(a[0].i + s7.i + s8.i);
    tc_cpx16 s5, s6, s11, s12;
    s5.r = s16(a[0].r + smul(s7.r, ya.r) + smul(s8.r, yb.r));
    s5.i = s16(a[0].i + smul(s7.i, ya.r) + smul(s8.i, yb.r));
    s6.r = s16(smul(s10.i, ya.i) + smul(s9.i, yb.i));
    s6.i = s16(-smul(s10.r, ya.i) - smul(s9.r, yb.i));
    s11.r = s16(a[0].r + smul(s7.r, yb.r) + smul(s8.r, ya.r));
    s11.i = s16(a[0].i + smul(s7.i, yb.r) + smul(s8.i, ya.r));
    s12.r = s16(-smul(s10.i, yb.i) + smul(s9.i, ya.i));
    s12.i = s16(smul(s10.r, yb.i) - smul(s9.r, ya.i));
    f[k] = o0;
    f[k + m] = csub(s5, s6);
    f[k + 4 * m] = cadd(s5, s6);
    f[k + 2 * m] = cadd(s11, s12);
    f[k + 3 * m] = csub(s11, s12);
  }
}

static void bfly_generic(tc_cpx16 *f, int fstride, const tc_rfft16_plan *p, int m, int radix,
                         tc_cpx16 *tmp) {
  const tc_cpx16 *tw = p->twiddles;
  for (int u = 0; u < m; u++) {
    for (int q = 0; q < radix; q++) tmp[q] = cdiv(f[u + q * m], radix);
    for (int q1 = 0, k = u; q1 < radix; q1++, k += m) {
      int idx = 0;
      tc_cpx16 acc = tmp[0];
      for (int q = 1; q < radix; q++) {
        idx += fstride * k;
        if (idx >= p->n) idx -= p->n;
        acc = cadd(acc, cmul(tmp[q], tw[idx]));
      }
      f[k] = acc;
    }
  }
}

/* Decimation in time: out[q*m .. q*m+m) is the length-m transform of the inputs q, q+p, ...
 * (stride fstride * p), then one butterfly pass combines them. */
static void fft_stage(tc_cpx16 *out, const tc_cpx16 *in, int fstride, const int32_t *fac,
                      const tc_rfft16_plan *p, tc_cpx16 *tmp) {
  int radix = fac[0], m = fac[1];
  if (m == 1) {
    for (int q = 0; q < radix; q++) out[q] = in[q * fstride];
  } else {
    for (int q = 0; q < radix; q++)
      fft_stage(out + q * m, in + q * fstride, fstride * radix, fac + 2, p, tmp);
  }
  switch (radix) {
    case 2: bfly2(out, fstride, p, m); break;
    case 3: bfly3(out, fstride, p, m); break;
    case 4: bfly4(out, fstride, p, m); break;
    case 5: bfly5(out, fstride, p, m); break;
    default: bfly_generic(out, fstride, p, m, radix, tmp); break;
  }
}

void tc_s16_rfft__ref(const tc_rfft16_plan *plan, const int16_t *in, int16_t *out,
                      void *scratch) {
  const int n = plan->n;
  tc_cpx16 *z = scratch, *cin = z + n, *tmp = cin + n;
  /* The real input viewed as n complex values (even samples real, odd imaginary). */
  for (int k = 0; k < n; k++) {
    cin[k].r = in[2 * k];
    cin[k].i = in[2 * k + 1];
  }
  fft_stage(z, cin, 1, plan->factors, plan, tmp);
  /* Split into the spectrum of the real sequence. */
  tc_cpx16 dc = cdiv(z[0], 2);
  out[0] = s16(dc.r + dc.i);
  out[1] = 0;
  out[2 * n] = s16(dc.r - dc.i);
  out[2 * n + 1] = 0;
  for (int k = 1; k <= n / 2; k++) {
    tc_cpx16 fk = z[k], fnk = {z[n - k].r, s16(-z[n - k].i)};
    fk = cdiv(fk, 2);
    fnk = cdiv(fnk, 2);
    tc_cpx16 f1 = cadd(fk, fnk), f2 = csub(fk, fnk);
    tc_cpx16 t = cmul(f2, plan->split[k - 1]);
    out[2 * k] = s16((f1.r + t.r) >> 1);
    out[2 * k + 1] = s16((f1.i + t.i) >> 1);
    out[2 * (n - k)] = s16((f1.r - t.r) >> 1);
    out[2 * (n - k) + 1] = s16((t.i - f1.i) >> 1);
  }
}
