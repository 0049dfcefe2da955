/* io_npy.c: reads and writes NumPy .npy files for `tensorc run` (inputs and output_<i>.npy).
 * The format is a magic string, a version, a header length and a Python dict literal with the
 * keys 'descr' (dtype such as '<f4'), 'fortran_order' and 'shape', followed by the raw array.
 * Only C-order arrays of fixed-size little-endian (or single-byte) dtypes are accepted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const struct {
  const char *code; /* kind + item size, after the byte-order character */
  tc_dtype dtype;
} g_descr[] = {
    {"f4", TC_DTYPE_F32}, {"f2", TC_DTYPE_F16},  {"f8", TC_DTYPE_F64},  {"i1", TC_DTYPE_I8},
    {"u1", TC_DTYPE_U8},  {"i2", TC_DTYPE_I16},  {"u2", TC_DTYPE_U16},  {"i4", TC_DTYPE_I32},
    {"u4", TC_DTYPE_U32}, {"i8", TC_DTYPE_I64},  {"u8", TC_DTYPE_U64},  {"b1", TC_DTYPE_BOOL},
    {"c8", TC_DTYPE_COMPLEX64}, {"c16", TC_DTYPE_COMPLEX128},
};

/* Finds the value text following 'key': in the header dict, or NULL. */
static const char *find_key(const char *hdr, const char *key) {
  char pat[32];
  snprintf(pat, sizeof pat, "'%s'", key);
  const char *p = strstr(hdr, pat);
  if (!p) return NULL;
  p += strlen(pat);
  while (*p == ' ') p++;
  if (*p != ':') return NULL;
  p++;
  while (*p == ' ') p++;
  return p;
}

static int parse_header(const char *hdr, cli_array *a, char *err, size_t err_size) {
  const char *d = find_key(hdr, "descr");
  if (!d || (*d != '\'' && *d != '"')) {
    snprintf(err, err_size, "header has no 'descr'");
    return 1;
  }
  char q = *d++, descr[16];
  size_t k = 0;
  while (*d && *d != q && k + 1 < sizeof descr) descr[k++] = *d++;
  descr[k] = 0;
  char order = descr[0];
  const char *code = descr + 1;
  a->dtype = TC_DTYPE_UNKNOWN;
  for (size_t i = 0; i < sizeof g_descr / sizeof g_descr[0]; i++)
    if (strcmp(code, g_descr[i].code) == 0) a->dtype = g_descr[i].dtype;
  if (a->dtype == TC_DTYPE_UNKNOWN || !strchr("<|=>", order)) {
    snprintf(err, err_size, "unsupported dtype '%s'", descr);
    return 1;
  }
  if (order == '>' && tc_dtype_size(a->dtype) > 1) {
    snprintf(err, err_size, "big-endian dtype '%s' is not supported", descr);
    return 1;
  }
  const char *f = find_key(hdr, "fortran_order");
  if (f && strncmp(f, "True", 4) == 0) {
    snprintf(err, err_size, "Fortran-order arrays are not supported (save with C order)");
    return 1;
  }
  const char *s = find_key(hdr, "shape");
  if (!s || *s != '(') {
    snprintf(err, err_size, "header has no 'shape'");
    return 1;
  }
  s++;
  a->n_dims = 0;
  a->n_elems = 1;
  for (;;) {
    while (*s == ' ' || *s == ',') s++;
    if (*s == ')') break;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (end == s || v < 0 || v > (1ll << 40) || a->n_dims >= TC_MAX_DIMS) {
      snprintf(err, err_size, "bad or too long shape in header");
      return 1;
    }
    a->dims[a->n_dims++] = v;
    a->n_elems *= (size_t)v;
    if (a->n_elems > ((size_t)1 << 40)) {
      snprintf(err, err_size, "array too large");
      return 1;
    }
    s = end;
  }
  a->size = a->n_elems * tc_dtype_size(a->dtype);
  return 0;
}

int npy_read(const char *path, cli_array *a, char *err, size_t err_size) {
  memset(a, 0, sizeof *a);
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    snprintf(err, err_size, "cannot open");
    return 1;
  }
  unsigned char pre[12];
  int rc = 1;
  char *hdr = NULL;
  size_t got = fread(pre, 1, sizeof pre, fp);
  if (got < 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
    snprintf(err, err_size, "not a .npy file (bad magic)");
    goto done;
  }
  int major = pre[6];
  size_t hlen, hstart;
  if (major == 1) {
    hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    hstart = 10;
  } else if ((major == 2 || major == 3) && got == 12) {
    hlen = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    hstart = 12;
  } else {
    snprintf(err, err_size, "unsupported .npy version %d", major);
    goto done;
  }
  if (hlen > (1u << 20) || !(hdr = calloc(1, hlen + 1))) {
    snprintf(err, err_size, "header too large");
    goto done;
  }
  if (fseek(fp, (long)hstart, SEEK_SET) != 0 || fread(hdr, 1, hlen, fp) != hlen) {
    snprintf(err, err_size, "truncated header");
    goto done;
  }
  if (parse_header(hdr, a, err, err_size)) goto done;
  a->data = malloc(a->size ? a->size : 1);
  if (!a->data) {
    snprintf(err, err_size, "out of memory");
    goto done;
  }
  if (fread(a->data, 1, a->size, fp) != a->size) {
    snprintf(err, err_size, "truncated data: expected %zu bytes after the header", a->size);
    free(a->data);
    a->data = NULL;
    goto done;
  }
  rc = 0;
done:
  free(hdr);
  fclose(fp);
  return rc;
}

int npy_write(const char *path, tc_dtype dtype, int n_dims, const int32_t *dims,
              const void *data, size_t size, char *err, size_t err_size) {
  const char *code = NULL;
  for (size_t i = 0; i < sizeof g_descr / sizeof g_descr[0]; i++)
    if (g_descr[i].dtype == dtype) code = g_descr[i].code;
  if (!code) {
    snprintf(err, err_size, "dtype %s cannot be written as .npy", tc_dtype_name(dtype));
    return 1;
  }
  char hdr[512];
  int k = snprintf(hdr, sizeof hdr, "{'descr': '%c%s', 'fortran_order': False, 'shape': (",
                   tc_dtype_size(dtype) == 1 ? '|' : '<', code);
  for (int d = 0; d < n_dims; d++)
    k += snprintf(hdr + k, sizeof hdr - (size_t)k, "%d%s", (int)dims[d],
                  n_dims == 1 ? "," : (d + 1 < n_dims ? ", " : ""));
  k += snprintf(hdr + k, sizeof hdr - (size_t)k, "), }");
  /* Pad with spaces so that the data starts at a multiple of 64 bytes; end with '\n'. */
  while ((10 + k + 1) % 64) hdr[k++] = ' ';
  hdr[k++] = '\n';
  FILE *fp = fopen(path, "wb");
  if (!fp) {
    snprintf(err, err_size, "cannot create %s", path);
    return 1;
  }
  unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)(k & 255),
                           (unsigned char)(k >> 8)};
  int bad = fwrite(pre, 1, 10, fp) != 10 || fwrite(hdr, 1, (size_t)k, fp) != (size_t)k ||
            (size && fwrite(data, 1, size, fp) != size);
  if (fclose(fp) != 0) bad = 1;
  if (bad) snprintf(err, err_size, "cannot write %s", path);
  return bad;
}
