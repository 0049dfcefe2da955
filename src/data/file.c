/* file.c: loads a whole data file into memory for the readers, decompressing gzip with zlib when
 * the build has it (TC_HAVE_ZLIB). zlib's gzread passes plain files through unchanged, so one
 * path serves both; without zlib, plain files are read with stdio and gzip files are refused with
 * a message that says why. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "data/data.h"

#ifdef TC_HAVE_ZLIB
#include <zlib.h>
#endif

tc_status tc__data_fail(char *err, size_t err_size, tc_status s, const char *fmt, ...) {
  if (err && err_size) {
    va_list ap;
    va_start(ap, fmt);
    tc__vfmt(err, err_size, fmt, ap);
    va_end(ap);
  }
  return s;
}

int tc_data_have_gzip(void) {
#ifdef TC_HAVE_ZLIB
  return 1;
#else
  return 0;
#endif
}

/* Grows *buf so that it holds at least `need` bytes plus the trailing NUL. */
static int grow(uint8_t **buf, size_t *cap, size_t need) {
  if (need + 1 <= *cap) return 1;
  size_t c = *cap ? *cap : 1 << 16;
  while (c < need + 1) c *= 2;
  uint8_t *p = tc__realloc(*buf, c);
  if (!p) return 0;
  *buf = p;
  *cap = c;
  return 1;
}

#ifdef TC_HAVE_ZLIB
/* Reads through zlib: gzip members are inflated (concatenated members too), anything else is
 * copied. A stream that ends early reports Z_BUF_ERROR ("unexpected end of file"). */
static tc_status read_all(const char *path, size_t max_size, uint8_t **out, size_t *size,
                          char *err, size_t err_size) {
  gzFile f = gzopen(path, "rb");
  if (!f)
    return tc__data_fail(err, err_size, TC_ERR_IO, "%s: cannot open (%s)", path,
                         errno ? strerror(errno) : "out of memory");
  gzbuffer(f, 1 << 17);
  uint8_t *buf = NULL;
  size_t cap = 0, n = 0;
  tc_status st = TC_OK;
  for (;;) {
    if (!grow(&buf, &cap, n + (1 << 16))) {
      st = tc__data_fail(err, err_size, TC_ERR_NOMEM, "%s: out of memory after %zu bytes", path, n);
      break;
    }
    size_t room = cap - 1 - n;
    if (room > (1u << 30)) room = 1u << 30;
    int got = gzread(f, buf + n, (unsigned)room);
    if (got < 0) break; /* reported by gzerror below */
    if (got == 0) break;
    n += (size_t)got;
    if (n > max_size) {
      st = tc__data_fail(err, err_size, TC_ERR_IO, "%s: more than %zu bytes of data", path,
                         max_size);
      break;
    }
  }
  if (st == TC_OK) {
    int zerr = Z_OK;
    const char *msg = gzerror(f, &zerr);
    if (zerr != Z_OK)
      st = tc__data_fail(err, err_size, TC_ERR_IO, "%s: %s after %zu bytes%s", path,
                         zerr == Z_ERRNO ? strerror(errno) : msg, n,
                         zerr == Z_BUF_ERROR ? " (truncated gzip file)" : "");
  }
  gzclose_r(f);
  if (st != TC_OK) {
    tc__free(buf);
    return st;
  }
  buf[n] = 0;
  *out = buf;
  *size = n;
  return TC_OK;
}
#else
/* Plain stdio read; a gzip header is refused since this build has no zlib. */
static tc_status read_all(const char *path, size_t max_size, uint8_t **out, size_t *size,
                          char *err, size_t err_size) {
  FILE *f = fopen(path, "rb");
  if (!f) return tc__data_fail(err, err_size, TC_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
  uint8_t *buf = NULL;
  size_t cap = 0, n = 0;
  tc_status st = TC_OK;
  for (;;) {
    if (!grow(&buf, &cap, n + (1 << 16))) {
      st = tc__data_fail(err, err_size, TC_ERR_NOMEM, "%s: out of memory after %zu bytes", path, n);
      break;
    }
    size_t got = fread(buf + n, 1, cap - 1 - n, f);
    n += got;
    if (n > max_size) {
      st = tc__data_fail(err, err_size, TC_ERR_IO, "%s: more than %zu bytes of data", path,
                         max_size);
      break;
    }
    if (got == 0) {
      if (ferror(f))
        st = tc__data_fail(err, err_size, TC_ERR_IO, "%s: read error after %zu bytes", path, n);
      break;
    }
  }
  fclose(f);
  if (st == TC_OK && n >= 2 && buf[0] == 0x1f && buf[1] == 0x8b)
    st = tc__data_fail(err, err_size, TC_ERR_UNSUPPORTED,
                       "%s: gzip-compressed, but this tensorc was built without zlib "
                       "(install zlib1g-dev and rebuild, or gunzip the file)",
                       path);
  if (st != TC_OK) {
    tc__free(buf);
    return st;
  }
  buf[n] = 0;
  *out = buf;
  *size = n;
  return TC_OK;
}
#endif

tc_status tc__data_read_file(const char *path, size_t max_size, uint8_t **out, size_t *size,
                             char *err, size_t err_size) {
  if (out) *out = NULL;
  if (size) *size = 0;
  if (!path || !out || !size) return tc__data_fail(err, err_size, TC_ERR_ARG, "NULL argument");
  errno = 0;
  return read_all(path, max_size, out, size, err, err_size);
}
