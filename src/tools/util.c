/* util.c: small helpers shared by the tensorc subcommands: messages, option values, timing,
 * opening a model with an interpreter, reading tensor elements of any numeric dtype and the
 * deterministic pseudo-random input fill used by `run` and `bench`. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "util.h"

void cli_err(const char *fmt, ...) {
  va_list ap;
  fputs("tensorc: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

int cli_is_help(const char *s) { return strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0; }

int cli_parse_long(const char *s, long lo, long hi, const char *what, long *out) {
  char *end = NULL;
  errno = 0;
  long v = strtol(s, &end, 10);
  if (errno || end == s || *end || v < lo || v > hi) {
    cli_err("%s: expected an integer in [%ld, %ld], got '%s'", what, lo, hi, s);
    return 0;
  }
  *out = v;
  return 1;
}

const char *cli_opt_value(int argc, char **argv, int *i) {
  if (*i + 1 >= argc) {
    cli_err("option %s needs a value", argv[*i]);
    return NULL;
  }
  return argv[++*i];
}

double cli_now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

long cli_peak_rss_kib(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0) return 0;
  return ru.ru_maxrss; /* Linux reports KiB */
}

int cli_open(const char *path, const tc_interp_options *opts, tc_model **m, tc_interp **it,
             double t_us[3]) {
  double t0 = cli_now_us();
  *m = NULL;
  *it = NULL;
  tc_status s = tc_model_load_file(path, NULL, m);
  double t1 = cli_now_us();
  if (s != TC_OK) {
    const char *msg = *m ? tc_model_errmsg(*m) : "";
    cli_err("cannot load %s: %s%s%s", path, tc_status_str(s), *msg ? ": " : "", msg);
    return CLI_FAIL;
  }
  s = tc_interp_create(*m, opts, it);
  double t2 = cli_now_us();
  if (s != TC_OK) {
    const char *msg = *it ? tc_interp_errmsg(*it) : "";
    cli_err("cannot create an interpreter for %s: %s%s%s", path, tc_status_str(s),
            *msg ? ": " : "", msg);
    return CLI_FAIL;
  }
  s = tc_interp_prepare(*it);
  double t3 = cli_now_us();
  if (t_us) {
    t_us[0] = t1 - t0;
    t_us[1] = t2 - t1;
    t_us[2] = t3 - t2;
  }
  if (s != TC_OK) {
    const char *msg = tc_interp_errmsg(*it);
    cli_err("cannot prepare %s: %s%s%s", path, tc_status_str(s), *msg ? ": " : "", msg);
    return CLI_FAIL;
  }
  return CLI_OK;
}

void cli_fmt_dims(const int32_t *dims, int n_dims, char *buf, size_t buf_size) {
  size_t k = 0;
  if (buf_size == 0) return;
  buf[0] = 0;
  k += (size_t)snprintf(buf + k, buf_size - k, "[");
  for (int d = 0; d < n_dims && k < buf_size; d++)
    k += (size_t)snprintf(buf + k, buf_size - k, "%s%d", d ? "," : "", (int)dims[d]);
  if (k < buf_size) snprintf(buf + k, buf_size - k, "]");
}

size_t cli_elem_count(const tc_tensor_info *t) {
  size_t n = 1;
  for (int d = 0; d < t->n_dims; d++) n *= t->dims[d] > 0 ? (size_t)t->dims[d] : 0;
  return n;
}

int cli_dtype_numeric(tc_dtype t) {
  switch (t) {
  case TC_DTYPE_F32: case TC_DTYPE_F16: case TC_DTYPE_F64: case TC_DTYPE_BF16:
  case TC_DTYPE_I8: case TC_DTYPE_U8: case TC_DTYPE_I16: case TC_DTYPE_U16:
  case TC_DTYPE_I32: case TC_DTYPE_U32: case TC_DTYPE_I64: case TC_DTYPE_U64:
  case TC_DTYPE_BOOL:
    return 1;
  default:
    return 0;
  }
}

/* IEEE half (binary16) bits to float, including subnormals, infinities and NaN. */
static float half_to_float(uint16_t h) {
  int sign = h >> 15, e = (h >> 10) & 31, mant = h & 1023;
  float v;
  if (e == 0) v = (float)mant / 1024.0f / 16384.0f; /* 2^-14 * mant/1024 */
  else if (e == 31) v = mant ? NAN : INFINITY;
  else {
    v = 1.0f + (float)mant / 1024.0f;
    for (int k = 15; k < e; k++) v *= 2.0f;
    for (int k = e; k < 15; k++) v *= 0.5f;
  }
  return sign ? -v : v;
}

/* Float in [-1, 1) to half bits by truncation (normal range only; tiny values become 0). */
static uint16_t float_to_half(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  uint16_t sign = (uint16_t)((u >> 16) & 0x8000);
  int e = (int)((u >> 23) & 255) - 127 + 15;
  if (e <= 0) return sign;
  if (e >= 31) return (uint16_t)(sign | 0x7c00);
  return (uint16_t)(sign | (e << 10) | ((u >> 13) & 1023));
}

double cli_get(const void *data, tc_dtype t, size_t i) {
  const unsigned char *p = data;
  switch (t) {
  case TC_DTYPE_F32: { float v; memcpy(&v, p + 4 * i, 4); return v; }
  case TC_DTYPE_F64: { double v; memcpy(&v, p + 8 * i, 8); return v; }
  case TC_DTYPE_F16: { uint16_t v; memcpy(&v, p + 2 * i, 2); return half_to_float(v); }
  case TC_DTYPE_BF16: {
    uint16_t v; memcpy(&v, p + 2 * i, 2);
    uint32_t u = (uint32_t)v << 16; float f; memcpy(&f, &u, 4); return f;
  }
  case TC_DTYPE_I8: return ((const int8_t *)data)[i];
  case TC_DTYPE_U8: return p[i];
  case TC_DTYPE_BOOL: return p[i] != 0;
  case TC_DTYPE_I16: { int16_t v; memcpy(&v, p + 2 * i, 2); return v; }
  case TC_DTYPE_U16: { uint16_t v; memcpy(&v, p + 2 * i, 2); return v; }
  case TC_DTYPE_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); return v; }
  case TC_DTYPE_U32: { uint32_t v; memcpy(&v, p + 4 * i, 4); return v; }
  case TC_DTYPE_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); return (double)v; }
  case TC_DTYPE_U64: { uint64_t v; memcpy(&v, p + 8 * i, 8); return (double)v; }
  default: return 0.0;
  }
}

/* splitmix64: a tiny, well-mixed generator; good enough for test inputs. */
static uint64_t next_u64(uint64_t *s) {
  uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

void cli_fill_random(void *data, tc_dtype t, size_t n, uint64_t *state) {
  unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    uint64_t r = next_u64(state);
    float f = (float)((double)(r >> 40) / 16777216.0 * 2.0 - 1.0); /* 24 bits: [-1, 1) */
    switch (t) {
    case TC_DTYPE_F32: memcpy(p + 4 * i, &f, 4); break;
    case TC_DTYPE_F64: { double d = f; memcpy(p + 8 * i, &d, 8); break; }
    case TC_DTYPE_F16: { uint16_t h = float_to_half(f); memcpy(p + 2 * i, &h, 2); break; }
    case TC_DTYPE_BF16: {
      uint32_t u; memcpy(&u, &f, 4); uint16_t h = (uint16_t)(u >> 16); memcpy(p + 2 * i, &h, 2);
      break;
    }
    case TC_DTYPE_I8: case TC_DTYPE_U8: p[i] = (unsigned char)r; break;
    case TC_DTYPE_BOOL: p[i] = (unsigned char)(r & 1); break;
    case TC_DTYPE_I16: case TC_DTYPE_U16: { uint16_t v = (uint16_t)r; memcpy(p + 2 * i, &v, 2); break; }
    case TC_DTYPE_I32: case TC_DTYPE_U32: { uint32_t v = (uint32_t)(r % 100); memcpy(p + 4 * i, &v, 4); break; }
    case TC_DTYPE_I64: case TC_DTYPE_U64: { uint64_t v = r % 100; memcpy(p + 8 * i, &v, 8); break; }
    default: break; /* non-numeric tensors stay zero */
    }
  }
}
