/* schedule.c: Keras learning-rate schedules evaluated at the optimizer's step count:
 * constant, PiecewiseConstantDecay, ExponentialDecay (staircase = step decay) and CosineDecay
 * (without warm-up). */
#include <math.h>
#include <string.h>

#include "train/model.h"

tc_schedule tc_schedule_exponential(float initial, int64_t decay_steps, float decay_rate,
                                    int staircase) {
  tc_schedule s;
  memset(&s, 0, sizeof s);
  s.kind = TC_SCHEDULE_EXPONENTIAL;
  s.initial = initial;
  s.decay_steps = decay_steps;
  s.decay_rate = decay_rate;
  s.staircase = staircase;
  return s;
}

tc_schedule tc_schedule_cosine(float initial, int64_t decay_steps, float alpha) {
  tc_schedule s;
  memset(&s, 0, sizeof s);
  s.kind = TC_SCHEDULE_COSINE;
  s.initial = initial;
  s.decay_steps = decay_steps;
  s.alpha = alpha;
  return s;
}

tc_schedule tc_schedule_piecewise(int n, const int64_t *boundaries, const float *values) {
  tc_schedule s;
  memset(&s, 0, sizeof s);
  s.kind = TC_SCHEDULE_PIECEWISE;
  if (n < 0) n = 0;
  if (n > TC_SCHEDULE_MAX_BOUNDARIES) n = TC_SCHEDULE_MAX_BOUNDARIES;
  s.n_boundaries = n;
  for (int i = 0; i < n && boundaries; i++) s.boundaries[i] = boundaries[i];
  for (int i = 0; i <= n && values; i++) s.values[i] = values[i];
  s.initial = values ? values[0] : 0.0f;
  return s;
}

float tc_schedule_lr(const tc_schedule *s, int64_t step) {
  if (!s) return 0.0f;
  switch (s->kind) {
  case TC_SCHEDULE_CONSTANT: return s->initial;
  case TC_SCHEDULE_PIECEWISE: {
    /* values[0] while step <= boundaries[0], values[i] while boundaries[i-1] < step <=
     * boundaries[i], values[n] after the last boundary. */
    int i = 0;
    while (i < s->n_boundaries && step > s->boundaries[i]) i++;
    return s->values[i];
  }
  case TC_SCHEDULE_EXPONENTIAL: {
    double p = s->decay_steps > 0 ? (double)step / (double)s->decay_steps : 0.0;
    if (s->staircase) p = floor(p);
    return (float)((double)s->initial * pow((double)s->decay_rate, p));
  }
  case TC_SCHEDULE_COSINE: {
    if (s->decay_steps <= 0) return s->initial;
    double t = (double)(step < s->decay_steps ? step : s->decay_steps) / (double)s->decay_steps;
    double cosine = 0.5 * (1.0 + cos(3.14159265358979323846 * t));
    return (float)((double)s->initial * ((1.0 - s->alpha) * cosine + s->alpha));
  }
  }
  return s->initial;
}
