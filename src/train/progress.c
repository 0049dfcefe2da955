/* progress.c: the Keras progress bar on a stream (stderr by default). verbose 1 on a terminal
 * redraws " 37/250 [====>....] - ETA: 3s - loss: 0.4012" in place with \r at most ~10 times a
 * second; verbose 1 elsewhere and verbose 2 print one plain line per epoch
 * ("250/250 [======] - 1s 4ms/step - loss: ..."); verbose 0 prints nothing. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "train/model.h"

double tc__now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void tc__logs_set(tc_logs *logs, const char *key, double value) {
  for (int i = 0; i < logs->n; i++)
    if (!strcmp(logs->keys[i], key)) {
      logs->values[i] = value;
      return;
    }
  if (logs->n >= TC_LOGS_MAX) return;
  tc__fmt(logs->keys[logs->n], sizeof logs->keys[0], "%s", key);
  logs->values[logs->n++] = value;
}

int tc_logs_get(const tc_logs *logs, const char *key, double *value) {
  if (!logs || !key) return 0;
  for (int i = 0; i < logs->n; i++)
    if (!strcmp(logs->keys[i], key)) {
      if (value) *value = logs->values[i];
      return 1;
    }
  return 0;
}

void tc__progbar_epoch(FILE *f, int verbose, int epoch, int epochs) {
  if (verbose <= 0 || !f) return;
  fprintf(f, "Epoch %d/%d\n", epoch + 1, epochs);
  fflush(f);
}

void tc__progbar_start(tc__progbar *p, FILE *f, int verbose, size_t total) {
  memset(p, 0, sizeof *p);
  p->f = f;
  p->verbose = f ? verbose : 0;
  p->tty = f && isatty(fileno(f));
  p->total = total;
  p->start = p->last = tc__now();
}

static int ndigits(size_t n) {
  int d = 1;
  while (n >= 10) n /= 10, d++;
  return d;
}

static size_t put_bar(char *b, size_t size, size_t done, size_t total) {
  size_t len = (size_t)snprintf(b, size, "%*zu/%zu [", ndigits(total), done, total);
  size_t w = total ? (size_t)(30.0 * (double)done / (double)total) : 0;
  if (w > 30) w = 30;
  for (size_t i = 0; i < 30 && len + 2 < size; i++)
    b[len++] = i + 1 < w ? '=' : i + 1 == w ? (done < total ? '>' : '=') : '.';
  if (len + 1 < size) b[len++] = ']';
  b[len] = 0;
  return len;
}

static size_t put_logs(char *b, size_t size, size_t len, const tc_logs *logs) {
  for (int i = 0; logs && i < logs->n && len < size; i++) {
    double v = logs->values[i];
    double a = v < 0 ? -v : v;
    len += (size_t)snprintf(b + len, size - len, a > 1e-3 || v == 0 ? " - %s: %.4f" : " - %s: %.4e",
                            logs->keys[i], v);
  }
  return len < size ? len : size - 1;
}

static size_t put_time_per_step(char *b, size_t size, size_t len, double per) {
  if (len >= size) return len;
  if (per >= 1.0)
    len += (size_t)snprintf(b + len, size - len, "%.0fs/step", per);
  else if (per >= 1e-3)
    len += (size_t)snprintf(b + len, size - len, "%.0fms/step", per * 1e3);
  else
    len += (size_t)snprintf(b + len, size - len, "%.0fus/step", per * 1e6);
  return len < size ? len : size - 1;
}

void tc__progbar_update(tc__progbar *p, size_t done, const tc_logs *logs) {
  if (p->verbose != 1 || !p->tty) return;
  double now = tc__now();
  if (done < p->total && now - p->last < 0.1) return;
  p->last = now;
  char b[1024];
  size_t len = put_bar(b, sizeof b, done, p->total);
  double eta = done ? (now - p->start) / (double)done * (double)(p->total - done) : 0.0;
  long e = (long)(eta + 0.5);
  if (e >= 3600)
    len += (size_t)snprintf(b + len, sizeof b - len, " - ETA: %ld:%02ld:%02ld", e / 3600,
                            (e % 3600) / 60, e % 60);
  else if (e >= 60)
    len += (size_t)snprintf(b + len, sizeof b - len, " - ETA: %ld:%02ld", e / 60, e % 60);
  else
    len += (size_t)snprintf(b + len, sizeof b - len, " - ETA: %lds", e);
  len = put_logs(b, sizeof b, len < sizeof b ? len : sizeof b - 1, logs);
  /* Blank out the rest of a longer previous line. */
  size_t prev = p->last_len;
  p->last_len = len;
  fprintf(p->f, "\r%s", b);
  for (size_t i = len; i < prev; i++) fputc(' ', p->f);
  fflush(p->f);
}

void tc__progbar_finish(tc__progbar *p, size_t done, const tc_logs *logs) {
  if (p->verbose <= 0) return;
  double el = tc__now() - p->start, per = done ? el / (double)done : 0.0;
  char b[1024];
  size_t len;
  if (p->verbose == 1) {
    len = put_bar(b, sizeof b, done, p->total ? p->total : done);
    len += (size_t)snprintf(b + len, sizeof b - len, " - %.0fs ", el);
  } else {
    len = (size_t)snprintf(b, sizeof b, "%zu/%zu - %.0fs - ", done, p->total ? p->total : done,
                           el);
  }
  len = put_time_per_step(b, sizeof b, len, per);
  len = put_logs(b, sizeof b, len, logs);
  if (p->verbose == 1 && p->tty) {
    fprintf(p->f, "\r%s", b);
    for (size_t i = len; i < p->last_len; i++) fputc(' ', p->f);
    fputc('\n', p->f);
  } else {
    fprintf(p->f, "%s\n", b);
  }
  fflush(p->f);
}
