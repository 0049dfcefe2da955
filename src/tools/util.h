/* util.h: helpers shared by the `tensorc` subcommands (messages, option parsing, timing, model
 * opening, element access, random fill) and the .npy / image readers. The CLI includes only the
 * public headers of the library; nothing here reaches into src/. */
#ifndef TC_TOOLS_UTIL_H
#define TC_TOOLS_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "tensorc_lite.h"

/* Exit codes of every verb. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

/* Prints "tensorc: <message>\n" on stderr. */
void cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* 1 if s is "-h" or "--help". */
int cli_is_help(const char *s);
/* Parses a decimal integer in [lo, hi]; on error prints a message naming `what` and returns 0. */
int cli_parse_long(const char *s, long lo, long hi, const char *what, long *out);
/* For an option that takes a value: returns argv[*i + 1] and advances *i, or prints an error and
 * returns NULL if the value is missing. */
const char *cli_opt_value(int argc, char **argv, int *i);

/* Monotonic clock in microseconds. */
double cli_now_us(void);
/* Peak resident set size of this process in KiB (getrusage). */
long cli_peak_rss_kib(void);

/* Loads a model and creates + prepares an interpreter. Prints the reason of any failure on
 * stderr. On failure of create/prepare, *m stays loaded (and *it may be a failed handle) so the
 * caller can still report on the model; the caller destroys both either way. `t_us` (optional)
 * receives load, create and prepare times. Returns CLI_OK or CLI_FAIL. */
int cli_open(const char *path, const tc_interp_options *opts, tc_model **m, tc_interp **it,
             double t_us[3]);

/* Writes "[1,224,224,3]" into buf. */
void cli_fmt_dims(const int32_t *dims, int n_dims, char *buf, size_t buf_size);
/* Number of elements of a tensor (1 for a scalar). */
size_t cli_elem_count(const tc_tensor_info *t);
/* 1 if the dtype is one cli_get/cli_set can handle (numbers and bool). */
int cli_dtype_numeric(tc_dtype t);
/* Element i of an array of dtype t as a double (0 for dtypes that are not numeric). */
double cli_get(const void *data, tc_dtype t, size_t i);

/* Fills n elements of dtype t deterministically from *state: floats uniform in [-1, 1), 8- and
 * 16-bit integers over their whole range, wider integers in [0, 100) (index-like inputs such as
 * token ids stay valid, as in TFLite's benchmark tool), bool 0/1. */
void cli_fill_random(void *data, tc_dtype t, size_t n, uint64_t *state);

/* ---- .npy files (io_npy.c) ---------------------------------------------------------------- */
typedef struct cli_array {
  tc_dtype dtype;
  int n_dims;
  int64_t dims[TC_MAX_DIMS];
  size_t n_elems;
  void *data; /* malloc'ed, little-endian */
  size_t size;
} cli_array;

/* Reads a version 1/2/3 .npy file (C order, little-endian or single-byte dtypes). On failure
 * writes a message into err and returns non-zero. Free with free(a->data). */
int npy_read(const char *path, cli_array *a, char *err, size_t err_size);
/* Writes data as a version 1 .npy file. Returns non-zero (message in err) on failure. */
int npy_write(const char *path, tc_dtype dtype, int n_dims, const int32_t *dims,
              const void *data, size_t size, char *err, size_t err_size);

/* ---- images (io_image.c) ------------------------------------------------------------------ */
typedef struct cli_image {
  int w, h;
  uint8_t *rgb; /* w*h*3 bytes, row-major, malloc'ed */
} cli_image;

/* 1 if the file name ends in .png, .jpg, .jpeg or .bmp (any case). */
int image_is_path(const char *path);
/* Decodes a BMP (24-bit or 8-bit palette, uncompressed), PNG or JPEG file into RGB. */
int image_load(const char *path, cli_image *img, char *err, size_t err_size);
/* Decodes a BMP held in memory (exposed for tests of the bounds checks). */
int image_decode_bmp(const uint8_t *p, size_t n, cli_image *img, char *err, size_t err_size);
/* Bilinear (triangle filter) resize to w x h; when shrinking the filter is widened by the scale
 * factor so every source pixel contributes (like PIL's BILINEAR). Returns non-zero on OOM. */
int image_resize(const cli_image *src, int w, int h, cli_image *dst);

/* ---- subcommands ------------------------------------------------------------------------- */
int cmd_inspect(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_bench(int argc, char **argv);

#endif
