/* idx.c: the MNIST IDX reader. An IDX file is a big-endian header (two zero bytes, a type code,
 * the number of dims, then one uint32 per dim) followed by the items. MNIST uses unsigned bytes
 * (type 0x08): labels are idx1 [N], images idx3 [N, rows, cols]. The header is checked against
 * the actual data length before anything is allocated, so hostile dims cannot cause large
 * allocations. */
#include <string.h>

#include "core/core.h"
#include "data/data.h"

#define IDX_UBYTE 0x08

static uint32_t be32(const uint8_t *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *idx_type_name(int code) {
  switch (code) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    default: return "unknown";
  }
}

/* A validated IDX file in memory: dims[0] items of item_size bytes at data. */
typedef struct idx_file {
  uint8_t *buf;
  int rank;
  uint32_t dims[3];
  size_t item_size;
  const uint8_t *data;
} idx_file;

/* Loads `path` and checks that it is an unsigned-byte IDX file of `rank` dims whose size matches
 * its header exactly. */
static tc_status idx_open(const char *path, int rank, idx_file *f, char *err, size_t err_size) {
  memset(f, 0, sizeof *f);
  size_t n = 0;
  tc_status st = tc__data_read_file(path, TC__DATA_MAX_FILE, &f->buf, &n, err, err_size);
  if (st != TC_OK) return st;
  const uint8_t *p = f->buf;
  const char *what = rank == 1 ? "idx1 label" : "idx3 image";
  if (n < 4)
    st = tc__data_fail(err, err_size, TC_ERR_IO, "%s: truncated: %zu bytes, too short for an IDX header",
                       path, n);
  else if (p[0] != 0 || p[1] != 0)
    st = tc__data_fail(err, err_size, TC_ERR_MODEL,
                       "%s: not an IDX file (magic 0x%02x%02x%02x%02x; expected 0x000008%02x for an %s file)",
                       path, p[0], p[1], p[2], p[3], rank == 1 ? 1 : 3, what);
  else if (p[2] != IDX_UBYTE || p[3] != rank)
    st = tc__data_fail(err, err_size, TC_ERR_MODEL,
                       "%s: IDX file of %d dims of %s (magic 0x0000%02x%02x); expected an %s file "
                       "(magic 0x000008%02x)",
                       path, p[3], idx_type_name(p[2]), p[2], p[3], what, rank == 1 ? 1 : 3);
  else if (n < 4 + 4 * (size_t)rank)
    st = tc__data_fail(err, err_size, TC_ERR_IO, "%s: truncated inside the IDX header (%zu bytes)",
                       path, n);
  if (st != TC_OK) goto fail;
  f->rank = rank;
  size_t item = 1;
  for (int i = 0; i < rank; i++) {
    f->dims[i] = be32(p + 4 + 4 * i);
    if (f->dims[i] == 0 || f->dims[i] > INT32_MAX) {
      st = tc__data_fail(err, err_size, TC_ERR_MODEL, "%s: dim %d is %u (must be 1..%d)", path, i,
                         f->dims[i], INT32_MAX);
      goto fail;
    }
    if (i > 0 && !tc__mul_size(item, f->dims[i], &item)) item = SIZE_MAX;
  }
  f->item_size = item;
  size_t header = 4 + 4 * (size_t)rank, body = n - header, want;
  if (!tc__mul_size(item, f->dims[0], &want) || want > body) {
    if (rank == 1)
      st = tc__data_fail(err, err_size, TC_ERR_IO,
                         "%s: truncated: the header declares %u labels but only %zu bytes follow",
                         path, f->dims[0], body);
    else
      st = tc__data_fail(err, err_size, TC_ERR_IO,
                         "%s: truncated: the header declares %u images of %ux%u but only %zu "
                         "bytes follow (%zu complete images)",
                         path, f->dims[0], f->dims[1], f->dims[2], body,
                         item ? body / item : (size_t)0);
    goto fail;
  }
  if (want < body) {
    st = tc__data_fail(err, err_size, TC_ERR_MODEL,
                       "%s: %zu unexpected bytes after the %u items the header declares", path,
                       body - want, f->dims[0]);
    goto fail;
  }
  f->data = p + header;
  return TC_OK;
fail:
  tc__free(f->buf);
  f->buf = NULL;
  return st;
}

/* Resolves [first, first+count) against n items (count -1: to the end). */
static tc_status idx_range(const char *path, uint32_t n, int64_t first, int64_t *count, char *err,
                           size_t err_size) {
  if (*count == -1 && first >= 0 && first <= (int64_t)n) *count = (int64_t)n - first;
  if (first < 0 || *count < 1 || first > (int64_t)n || *count > (int64_t)n - first)
    return tc__data_fail(err, err_size, TC_ERR_ARG,
                         "%s: items %lld..%lld requested but the file holds %u (0..%u)", path,
                         (long long)first, (long long)(first + *count - 1), n, n - 1);
  return TC_OK;
}

/* Converts items [first, first+count) of an open idx3 file to float32 [count, rows, cols, 1]. */
static tc_status make_images(const char *path, const idx_file *f, int64_t first, int64_t count,
                             tc_tensor **out, char *err, size_t err_size) {
  tc_status st = idx_range(path, f->dims[0], first, &count, err, err_size);
  if (st != TC_OK) return st;
  int32_t dims[4] = {(int32_t)count, (int32_t)f->dims[1], (int32_t)f->dims[2], 1};
  size_t total;
  if (!tc__mul_size((size_t)count, f->item_size, &total) || total > (size_t)INT32_MAX)
    return tc__data_fail(err, err_size, TC_ERR_ARG, "%s: %lld images of %ux%u are too many", path,
                         (long long)count, f->dims[1], f->dims[2]);
  if ((st = tc_tensor_create(TC_DTYPE_F32, 4, dims, out)) != TC_OK)
    return tc__data_fail(err, err_size, st, "%s: cannot allocate %lld images (%s)", path,
                         (long long)count, tc_status_str(st));
  float *dst = tc_tensor_f32(*out);
  const uint8_t *src = f->data + (size_t)first * f->item_size;
  for (size_t i = 0; i < total; i++) dst[i] = (float)src[i] / 255.0f;
  return TC_OK;
}

/* Converts items [first, first+count) of an open idx1 file to int32 [count]. */
static tc_status make_labels(const char *path, const idx_file *f, int64_t first, int64_t count,
                             tc_tensor **out, char *err, size_t err_size) {
  tc_status st = idx_range(path, f->dims[0], first, &count, err, err_size);
  if (st != TC_OK) return st;
  int32_t dims[1] = {(int32_t)count};
  if ((st = tc_tensor_create(TC_DTYPE_I32, 1, dims, out)) != TC_OK)
    return tc__data_fail(err, err_size, st, "%s: cannot allocate %lld labels (%s)", path,
                         (long long)count, tc_status_str(st));
  int32_t *dst = tc_tensor_i32(*out);
  for (int64_t i = 0; i < count; i++) dst[i] = f->data[first + i];
  return TC_OK;
}

tc_status tc_data_read_idx_images(const char *path, int64_t first, int64_t count, tc_tensor **out,
                                  char *err, size_t err_size) {
  if (out) *out = NULL;
  if (!path || !out) return tc__data_fail(err, err_size, TC_ERR_ARG, "NULL argument");
  idx_file f;
  tc_status st = idx_open(path, 3, &f, err, err_size);
  if (st != TC_OK) return st;
  st = make_images(path, &f, first, count, out, err, err_size);
  tc__free(f.buf);
  return st;
}

tc_status tc_data_read_idx_labels(const char *path, int64_t first, int64_t count, tc_tensor **out,
                                  char *err, size_t err_size) {
  if (out) *out = NULL;
  if (!path || !out) return tc__data_fail(err, err_size, TC_ERR_ARG, "NULL argument");
  idx_file f;
  tc_status st = idx_open(path, 1, &f, err, err_size);
  if (st != TC_OK) return st;
  st = make_labels(path, &f, first, count, out, err, err_size);
  tc__free(f.buf);
  return st;
}

tc_status tc_data_load_mnist(const char *images_path, const char *labels_path, int64_t first,
                             int64_t count, tc_tensor **images, tc_tensor **labels, char *err,
                             size_t err_size) {
  if (images) *images = NULL;
  if (labels) *labels = NULL;
  if (!images_path || !labels_path || !images || !labels)
    return tc__data_fail(err, err_size, TC_ERR_ARG, "NULL argument");
  idx_file fi, fl;
  tc_status st = idx_open(images_path, 3, &fi, err, err_size);
  if (st != TC_OK) return st;
  st = idx_open(labels_path, 1, &fl, err, err_size);
  if (st != TC_OK) {
    tc__free(fi.buf);
    return st;
  }
  if (fi.dims[0] != fl.dims[0])
    st = tc__data_fail(err, err_size, TC_ERR_MODEL, "%s holds %u images but %s holds %u labels",
                       images_path, fi.dims[0], labels_path, fl.dims[0]);
  if (st == TC_OK) st = make_images(images_path, &fi, first, count, images, err, err_size);
  if (st == TC_OK) st = make_labels(labels_path, &fl, first, count, labels, err, err_size);
  tc__free(fi.buf);
  tc__free(fl.buf);
  if (st != TC_OK) {
    tc_tensor_destroy(*images);
    tc_tensor_destroy(*labels);
    *images = *labels = NULL;
  }
  return st;
}
