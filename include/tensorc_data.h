/* tensorc_data.h: dataset readers for training (issue 5). MNIST IDX files and numeric CSV files,
 * plain or gzip-compressed, are read into persistent tensors of tensorc_train.h (float32
 * features, int32 class labels), plus small helpers to shuffle and split them.
 *
 *     tc_tensor *x, *y;  char err[256];
 *     if (tc_data_load_mnist("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
 *                            0, 8000, &x, &y, err, sizeof err) != TC_OK) puts(err);
 *
 * Gzip support needs zlib at build time (TC_HAVE_ZLIB); without it a gzip file is rejected with
 * a message saying so. Errors are reported as a status plus a message written into a caller
 * buffer `err` of `err_size` bytes (both may be NULL/0); the message names the file and, for
 * CSV, the line and column. The readers keep no state and are thread-safe. */
#ifndef TENSORC_DATA_H
#define TENSORC_DATA_H

#include "tensorc_train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if this build reads gzip files (it was built with zlib). */
int tc_data_have_gzip(void);

/* ==== MNIST IDX ============================================================================
 * IDX files (big-endian header: magic 0x00000801 for labels [N], 0x00000803 for images
 * [N, rows, cols]; unsigned bytes). The header is validated against the file size: a truncated
 * file, trailing bytes, a wrong magic or a dim of 0 fail naming the file; nothing is allocated
 * from header values before they are checked against the data length. Rows [first, first + count) are returned; count == -1 means "to the end". A range
 * outside [0, N] fails with TC_ERR_ARG. */

/* Images as float32 [count, rows, cols, 1] (NHWC) with values pixel / 255 in [0, 1]. The
 * caller owns *out (tc_tensor_destroy). Returns TC_OK, TC_ERR_ARG, TC_ERR_IO (cannot open,
 * truncated file or gzip stream), TC_ERR_UNSUPPORTED (a gzip file in a build without zlib),
 * TC_ERR_MODEL (not an idx3 unsigned-byte file, trailing bytes, a dim of 0), TC_ERR_NOMEM. */
tc_status tc_data_read_idx_images(const char *path, int64_t first, int64_t count, tc_tensor **out,
                                  char *err, size_t err_size);
/* Labels as int32 [count] (values 0..255 as stored). Same rules as above (idx1 file). */
tc_status tc_data_read_idx_labels(const char *path, int64_t first, int64_t count, tc_tensor **out,
                                  char *err, size_t err_size);
/* Both of the above for the same range; also fails (TC_ERR_MODEL) when the two files hold a
 * different number of items. On failure *images and *labels are NULL. */
tc_status tc_data_load_mnist(const char *images_path, const char *labels_path, int64_t first,
                             int64_t count, tc_tensor **images, tc_tensor **labels, char *err,
                             size_t err_size);

/* ==== CSV ==================================================================================
 * A numeric table: one row per line, fields separated by `delimiter`. Every field of every data
 * row must be a number (C strtod syntax: 1, -2.5e3, nan, inf); blank lines are skipped; every
 * row must have as many fields as the first. Errors name the file, line and column, e.g.
 * "iris.csv:7: column 3: 'abc' is not a number" or "x.csv:9: 4 fields, expected 5". */
typedef struct tc_csv_options {
  /* Field separator; 0 picks one from the first line: ',' if present, then ';', then tab,
   * otherwise runs of spaces (the sklearn diabetes/linnerud files). */
  char delimiter;
  /* -1: auto (the first line is a header if any of its fields is not a number), 0: no header,
   * 1: the first line is a header (its fields name the columns). */
  int header;
  /* The label column by name (needs a header), or NULL to use label_index. */
  const char *label;
  /* The label column by index when label is NULL: 0-based, negative counts from the end
   * (-1 = last column). TC_CSV_NO_LABEL reads every column as a feature. */
  int label_index;
  /* TC_DTYPE_I32 (class ids: the values must be integers in [0, 2^24]) or TC_DTYPE_F32
   * (regression targets, shape [N, 1]). 0 means TC_DTYPE_I32. */
  tc_dtype label_dtype;
} tc_csv_options;

#define TC_CSV_NO_LABEL (-1000000)
/* Options for a comma-or-auto separated file, auto header, label = last column, int32 labels. */
#define TC_CSV_OPTIONS_DEFAULT {0, -1, NULL, -1, TC_DTYPE_I32}

/* Reads a CSV file (plain or gzip). *features receives float32 [rows, n_features] with the
 * columns in file order minus the label column; *labels (may be NULL when not wanted, and is
 * NULL with TC_CSV_NO_LABEL) int32 [rows] or float32 [rows, 1]. The caller owns both.
 * Returns TC_OK, TC_ERR_ARG (bad options, label column not found), TC_ERR_IO (cannot open /
 * read), TC_ERR_MODEL (ragged rows, non-numbers, no data rows, bad label values), TC_ERR_NOMEM. */
tc_status tc_data_read_csv(const char *path, const tc_csv_options *opts, tc_tensor **features,
                           tc_tensor **labels, char *err, size_t err_size);

/* ==== Dataset helpers ====================================================================== */

/* Number of classes of int32 labels: max + 1 (0 for an empty or non-int32 tensor). */
int32_t tc_data_num_classes(const tc_tensor *labels);

/* Shuffles the rows (first dim) of x and, if not NULL, of y with the same permutation, in place,
 * deterministically from `seed` (Fisher-Yates on a splitmix64 stream). x and y must have the
 * same number of rows. Returns TC_ERR_ARG (mismatch), TC_ERR_NOMEM. */
tc_status tc_data_shuffle(tc_tensor *x, tc_tensor *y, uint64_t seed);

/* A new persistent tensor holding rows [first, first + count) of src (count -1: to the end).
 * The caller owns *out. Returns TC_ERR_ARG (range outside src), TC_ERR_NOMEM. */
tc_status tc_data_rows(const tc_tensor *src, int64_t first, int64_t count, tc_tensor **out);

/* A new persistent tensor with src's values converted to `dtype` (TC_DTYPE_F32 or TC_DTYPE_I32;
 * float to int truncates toward zero). Handy for fit(), whose tc_data holds labels as floats:
 * tc_data_cast(labels, TC_DTYPE_F32, &y). Returns TC_ERR_ARG, TC_ERR_NOMEM. */
tc_status tc_data_cast(const tc_tensor *src, tc_dtype dtype, tc_tensor **out);

#ifdef __cplusplus
}
#endif
#endif /* TENSORC_DATA_H */
