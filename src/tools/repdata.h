/* repdata.h: pieces of representative-data reading and quantization option parsing shared by
 * `tensorc convert` (cmd_convert.c) and `tensorc quantize` (cmd_quantize.c): file-name and
 * folder helpers, image-to-float conversion with the CLI's normalizations, and the parsers of
 * the quantization mode, --inputs and --percentile values. */
#ifndef TC_TOOLS_REPDATA_H
#define TC_TOOLS_REPDATA_H

#include "tensorc_export.h"
#include "util.h"

/* How image pixels become floats: p / 255, (p - 127.5) / 127.5, or p unchanged. */
enum { CLI_NORM_01, CLI_NORM_PM1, CLI_NORM_RAW };

/* 1 if the file name p ends in ext (any case) and is longer than it. */
int cli_has_ext(const char *p, const char *ext);
/* Size of a file in bytes, or -1 if it cannot be stat'ed. */
long cli_file_size(const char *path);

/* Reads a whole file into *data (malloc'ed; the caller frees it) and its byte count into *size.
 * Returns -1 with "cannot open PATH" printed when it cannot be opened, 0 (nothing printed,
 * *data NULL) when it is empty or cannot be read, else 1. */
int cli_read_file(const char *path, void **data, long *size);

/* Loads an image file and resizes it to w x h (kept as is when it already has that size).
 * Prints the reason on failure and returns 1; else 0 with out->rgb malloc'ed. */
int cli_image_load_sized(const char *path, int w, int h, cli_image *out);
/* Writes the img->w * img->h pixels of img as c floats each (c 3: RGB; c 1: luma
 * 0.299 R + 0.587 G + 0.114 B), normalized by norm (CLI_NORM_*), into v. */
void cli_image_to_floats(const cli_image *img, int c, int norm, float *v);

/* The sorted full paths ("path/name", malloc'ed, as is the array) of the image, .npy and .bin
 * files in folder path; the caller frees each name and the array. Prints a message and returns
 * 1 if the folder cannot be opened; else 0 (a failed allocation ends the list early). */
int cli_list_sample_files(const char *path, char ***names, int *n);

/* Option values; each prints "<opt>: expected ..., got 'v'" and returns 0 when v is not valid,
 * else sets its field of *qo and returns 1. Mode: int8, dynamic or float16. */
int cli_parse_quant_mode(const char *opt, const char *v, tc_quant_options *qo);
/* --inputs: float or int8 (sets qo->int8_io). */
int cli_parse_quant_inputs(const char *v, tc_quant_options *qo);
/* --percentile: a number in (50, 100]. */
int cli_parse_quant_percentile(const char *v, tc_quant_options *qo);

/* The calibration options both commands take: --representative SRC, --norm 0_1|-1_1|raw,
 * --max-samples N, --inputs, --percentile, --report. The caller sets the defaults. */
typedef struct cli_calib_opts {
  const char *repr; /* --representative, or NULL */
  int norm;         /* CLI_NORM_* */
  long max;         /* --max-samples */
  int report;       /* --report given */
} cli_calib_opts;
/* If argv[*i] is one of those options, consumes it (and its value, advancing *i) and returns 1,
 * or prints the problem and returns -1 for a missing or invalid value; returns 0 for any other
 * argument. */
int cli_parse_calib_option(int argc, char **argv, int *i, cli_calib_opts *o, tc_quant_options *qo);

#endif
