/* train_spec.h: the JSON training spec of `tensorc train` (format: examples/specs/README.md),
 * parsed with cJSON into a plain struct. Every malformed value is reported with its key path
 * ("layers[2].filters: expected a positive integer"); defaulted and unused keys are listed. */
#ifndef TC_TOOLS_TRAIN_SPEC_H
#define TC_TOOLS_TRAIN_SPEC_H

#include <stddef.h>
#include <stdint.h>

#include "tensorc_train.h"

struct cJSON;

#define SPEC_MAX_LAYERS 64
#define SPEC_PATH 1024

/* ---- the parsed spec --------------------------------------------------------------------- */

typedef enum { DATA_MNIST, DATA_CSV, DATA_SINE } data_format;

typedef struct train_spec {
  char name[64];
  int input_rank; /* 0: from the data */
  int32_t input_dims[TC_MAX_DIMS];
  int n_layers;
  tc_layer_config layers[SPEC_MAX_LAYERS];
  tc_loss loss;
  tc_optim_config optim;
  int n_metrics;
  tc_metric_kind metrics[TC_NET_MAX_METRICS];
  int epochs;
  int batch_size;
  uint64_t seed;
  double validation_split;
  int shuffle;
  /* data */
  data_format format;
  char images[SPEC_PATH], labels[SPEC_PATH]; /* mnist */
  int64_t train_first, train_count, test_first, test_count; /* mnist; test_count 0: none */
  char csv[SPEC_PATH];
  char csv_label[64]; /* "" : by index */
  int csv_label_index, csv_header;
  char csv_delimiter;
  double test_split;  /* csv */
  int standardize;    /* csv */
  int sine_train, sine_test; /* sine */
  double sine_noise;
} train_spec;

/* ---- JSON access with key paths, defaulted and unused keys ------------------------------- */

typedef struct jctx {
  char err[512];
  char defaulted[2048];
  size_t n_def;
  char unused[1024];
  const struct cJSON *used[4096]; /* every member a getter read (specs are small) */
  int n_used;
} jctx;


/* Parses `text` into *s. Relative data paths are resolved against spec_dir, or looked up by file
 * name in data_dir when it is not NULL. Returns 1, or 0 with the message in j->err. */
int train_spec_parse(jctx *j, const char *text, const char *spec_dir, const char *data_dir,
                     train_spec *s);

/* The whole file as a NUL-terminated string (malloc'd; at most 16 MiB), or NULL. */
char *train_spec_read_text(const char *path);

#endif
