/* status.c: status texts, dtype facts, version string and the allocator / abort hooks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

const char *tc_status_str(tc_status s) {
  switch (s) {
  case TC_OK: return "ok";
  case TC_ERR_ARG: return "invalid argument";
  case TC_ERR_NOMEM: return "out of memory";
  case TC_ERR_UNSUPPORTED: return "unsupported";
  case TC_ERR_MODEL: return "malformed model";
  case TC_ERR_IO: return "i/o error";
  case TC_ERR_STATE: return "invalid state";
  case TC_ERR_RUNTIME: return "runtime error";
  }
  return "unknown status";
}

static const struct {
  const char *name;
  size_t size;
} dtype_facts[TC_DTYPE_COUNT] = {
    [TC_DTYPE_UNKNOWN] = {"unknown", 0},  [TC_DTYPE_F32] = {"float32", 4},
    [TC_DTYPE_F16] = {"float16", 2},      [TC_DTYPE_F64] = {"float64", 8},
    [TC_DTYPE_I8] = {"int8", 1},          [TC_DTYPE_U8] = {"uint8", 1},
    [TC_DTYPE_I16] = {"int16", 2},        [TC_DTYPE_U16] = {"uint16", 2},
    [TC_DTYPE_I32] = {"int32", 4},        [TC_DTYPE_U32] = {"uint32", 4},
    [TC_DTYPE_I64] = {"int64", 8},        [TC_DTYPE_U64] = {"uint64", 8},
    [TC_DTYPE_BOOL] = {"bool", 1},        [TC_DTYPE_STRING] = {"string", 0},
    [TC_DTYPE_I4] = {"int4", 0},          [TC_DTYPE_BF16] = {"bfloat16", 2},
    [TC_DTYPE_COMPLEX64] = {"complex64", 8}, [TC_DTYPE_COMPLEX128] = {"complex128", 16},
    [TC_DTYPE_RESOURCE] = {"resource", 0}, [TC_DTYPE_VARIANT] = {"variant", 0},
};

const char *tc_dtype_name(tc_dtype t) {
  return ((unsigned)t < TC_DTYPE_COUNT) ? dtype_facts[t].name : "invalid";
}
size_t tc_dtype_size(tc_dtype t) { return ((unsigned)t < TC_DTYPE_COUNT) ? dtype_facts[t].size : 0; }

const char *tc_version(void) {
#ifdef TC_VERSION_STRING
  return TC_VERSION_STRING;
#else
  return "0.1.0";
#endif
}

static tc_realloc_fn g_realloc;
static void *g_realloc_user;
static tc_abort_fn g_abort;

void tc_set_allocator(tc_realloc_fn fn, void *user) {
  g_realloc = fn;
  g_realloc_user = user;
}
void tc_set_abort_callback(tc_abort_fn fn) { g_abort = fn; }

void *tc__malloc(size_t size) {
  if (size == 0) size = 1;
  return g_realloc ? g_realloc(g_realloc_user, NULL, size) : malloc(size);
}
void *tc__calloc(size_t n, size_t size) {
  size_t total;
  if (!tc__mul_size(n, size, &total)) return NULL;
  void *p = tc__malloc(total);
  if (p) memset(p, 0, total);
  return p;
}
void *tc__realloc(void *ptr, size_t size) {
  if (size == 0) size = 1;
  return g_realloc ? g_realloc(g_realloc_user, ptr, size) : realloc(ptr, size);
}
void tc__free(void *ptr) {
  if (!ptr) return;
  if (g_realloc)
    g_realloc(g_realloc_user, ptr, 0);
  else
    free(ptr);
}

void tc__abort(const char *file, int line, const char *msg) {
  if (g_abort) g_abort(file, line, msg);
  fprintf(stderr, "tensorc: internal error at %s:%d: %s\n", file, line, msg);
  abort();
}

void tc__vfmt(char *buf, size_t size, const char *fmt, va_list ap) {
  if (!buf || size == 0) return;
  int n = vsnprintf(buf, size, fmt, ap);
  if (n < 0) buf[0] = '\0';
}
void tc__fmt(char *buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  tc__vfmt(buf, size, fmt, ap);
  va_end(ap);
}

int tc__mul_size(size_t a, size_t b, size_t *out) {
  if (a != 0 && b > SIZE_MAX / a) return 0;
  *out = a * b;
  return 1;
}
int tc__add_size(size_t a, size_t b, size_t *out) {
  if (b > SIZE_MAX - a) return 0;
  *out = a + b;
  return 1;
}
