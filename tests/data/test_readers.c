/* test_readers.c: the dataset readers of tensorc_data.h on the shared MNIST and sklearn files
 * (known values: the first t10k label is 7, iris has 150 rows of 4 features in 3 classes) and on
 * hostile inputs written to a temporary folder: truncated gzip, wrong magic, huge dims, trailing
 * bytes, ragged CSV rows, non-numbers, bad labels. Also the shuffle and row-range helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tc_test.h"
#include "tensorc_data.h"

#define MNIST_IMG "data/datasets/mnist/t10k-images-idx3-ubyte.gz"
#define MNIST_LBL "data/datasets/mnist/t10k-labels-idx1-ubyte.gz"

static char g_err[512];

/* A fresh temporary folder for the hostile files (removed by rm_tmp). */
static const char *tmpdir(void) {
  static char dir[64];
  snprintf(dir, sizeof dir, "/tmp/tc_data_XXXXXX");
  return mkdtemp(dir);
}

static void rm_tmp(const char *dir) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "  (could not remove %s)\n", dir);
}

static const char *put(const char *dir, const char *name, const void *data, size_t size) {
  static char paths[8][256];
  static int k;
  char *p = paths[k++ & 7];
  snprintf(p, sizeof paths[0], "%s/%s", dir, name);
  FILE *f = fopen(p, "wb");
  if (f) {
    fwrite(data, 1, size, f);
    fclose(f);
  }
  return p;
}

static const char *put_str(const char *dir, const char *name, const char *text) {
  return put(dir, name, text, strlen(text));
}

static double sum_f32(const tc_tensor *t, size_t first, size_t n) {
  const float *v = tc_tensor_f32_const(t);
  double s = 0;
  for (size_t i = first; i < first + n; i++) s += v[i];
  return s;
}

TC_TEST(data_mnist_t10k_values) {
  if (!tc_data_have_gzip()) {
    tc_tensor *x = NULL;
    CHECK_EQ(tc_data_read_idx_labels(tc_test_shared(MNIST_LBL), 0, -1, &x, g_err, sizeof g_err),
             TC_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(g_err, "without zlib");
    return;
  }
  tc_tensor *x = NULL, *y = NULL;
  tc_status st = tc_data_load_mnist(tc_test_shared(MNIST_IMG), tc_test_shared(MNIST_LBL), 0, -1,
                                    &x, &y, g_err, sizeof g_err);
  CHECK_MSG(st == TC_OK, "load_mnist: %s", g_err);
  if (st != TC_OK) return;
  CHECK_EQ(tc_tensor_rank(x), 4);
  CHECK_EQ(tc_tensor_dim(x, 0), 10000);
  CHECK_EQ(tc_tensor_dim(x, 1), 28);
  CHECK_EQ(tc_tensor_dim(x, 2), 28);
  CHECK_EQ(tc_tensor_dim(x, 3), 1);
  CHECK_EQ(tc_tensor_dtype(y), TC_DTYPE_I32);
  CHECK_EQ(tc_tensor_dim(y, 0), 10000);
  const int32_t want[10] = {7, 2, 1, 0, 4, 1, 4, 9, 5, 9};
  for (int i = 0; i < 10; i++) CHECK_EQ(tc_tensor_i32(y)[i], want[i]);
  /* Pixel sums (raw bytes) of images 0 and 9999, divided by 255. */
  CHECK_NEAR(sum_f32(x, 0, 784), 18454.0 / 255.0, 1e-3);
  CHECK_NEAR(sum_f32(x, 9999 * 784, 784), 41833.0 / 255.0, 1e-3);
  CHECK_NEAR(tc_tensor_f32(x)[355], 1.0, 0); /* the brightest pixel of image 0 is 255 */
  CHECK_EQ(tc_data_num_classes(y), 10);
  tc_tensor_destroy(x);
  tc_tensor_destroy(y);

  /* The benchmark's test split: images 8000..9999 (labels sum to 8800). */
  st = tc_data_load_mnist(tc_test_shared(MNIST_IMG), tc_test_shared(MNIST_LBL), 8000, 2000, &x,
                          &y, g_err, sizeof g_err);
  CHECK_EQ(st, TC_OK);
  if (st != TC_OK) return;
  CHECK_EQ(tc_tensor_dim(x, 0), 2000);
  CHECK_NEAR(sum_f32(x, 0, 784), 37689.0 / 255.0, 1e-3);
  long s = 0;
  for (int i = 0; i < 2000; i++) s += tc_tensor_i32(y)[i];
  CHECK_EQ(s, 8800);
  CHECK_EQ(tc_tensor_i32(y)[0], 4);
  tc_tensor_destroy(x);
  tc_tensor_destroy(y);

  /* Ranges outside the file. */
  CHECK_EQ(tc_data_read_idx_labels(tc_test_shared(MNIST_LBL), 9000, 1001, &y, g_err, sizeof g_err),
           TC_ERR_ARG);
  CHECK_STR_CONTAINS(g_err, "holds 10000");
  CHECK(y == NULL);
  CHECK_EQ(tc_data_read_idx_labels(tc_test_shared(MNIST_LBL), -1, 5, &y, g_err, sizeof g_err),
           TC_ERR_ARG);
  CHECK_EQ(tc_data_read_idx_labels(tc_test_shared(MNIST_LBL), 0, 0, &y, g_err, sizeof g_err),
           TC_ERR_ARG);
  /* The 60k training labels do not pair with the 10k test images. */
  st = tc_data_load_mnist(tc_test_shared(MNIST_IMG),
                          tc_test_shared("data/datasets/mnist/train-labels-idx1-ubyte.gz"), 0, 10,
                          &x, &y, g_err, sizeof g_err);
  CHECK_EQ(st, TC_ERR_MODEL);
  CHECK_STR_CONTAINS(g_err, "60000 labels");
  CHECK(x == NULL && y == NULL);
  /* Images and labels swapped: wrong kind of IDX file. */
  CHECK_EQ(tc_data_read_idx_images(tc_test_shared(MNIST_LBL), 0, -1, &x, g_err, sizeof g_err),
           TC_ERR_MODEL);
  CHECK_STR_CONTAINS(g_err, "expected an idx3 image file");
}

/* Plain (uncompressed) IDX files built by hand: values, ranges, and hostile headers. */
TC_TEST(data_idx_plain_and_hostile) {
  const char *dir = tmpdir();
  CHECK(dir != NULL);
  if (!dir) return;
  /* Two 2x3 images and their labels. */
  uint8_t img[16 + 12] = {0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 3};
  for (int i = 0; i < 12; i++) img[16 + i] = (uint8_t)(i * 20);
  uint8_t lbl[8 + 2] = {0, 0, 8, 1, 0, 0, 0, 2, 3, 9};
  const char *pi = put(dir, "img", img, sizeof img), *pl = put(dir, "lbl", lbl, sizeof lbl);
  tc_tensor *x = NULL, *y = NULL;
  CHECK_EQ(tc_data_load_mnist(pi, pl, 1, 1, &x, &y, g_err, sizeof g_err), TC_OK);
  if (x && y) {
    CHECK_EQ(tc_tensor_dim(x, 0), 1);
    CHECK_EQ(tc_tensor_dim(x, 1), 2);
    CHECK_EQ(tc_tensor_dim(x, 2), 3);
    CHECK_NEAR(tc_tensor_f32(x)[0], 120.0 / 255.0, 1e-7);
    CHECK_NEAR(tc_tensor_f32(x)[5], 220.0 / 255.0, 1e-7);
    CHECK_EQ(tc_tensor_i32(y)[0], 9);
  }
  tc_tensor_destroy(x);
  tc_tensor_destroy(y);
  x = NULL;

  /* Truncated: one pixel missing. */
  CHECK_EQ(tc_data_read_idx_images(put(dir, "t", img, sizeof img - 1), 0, -1, &x, g_err,
                                   sizeof g_err),
           TC_ERR_IO);
  CHECK_STR_CONTAINS(g_err, "truncated");
  CHECK_STR_CONTAINS(g_err, "1 complete images");
  CHECK(x == NULL);
  /* Truncated inside the header, and an empty file. */
  CHECK_EQ(tc_data_read_idx_images(put(dir, "h", img, 9), 0, -1, &x, g_err, sizeof g_err),
           TC_ERR_IO);
  CHECK_STR_CONTAINS(g_err, "header");
  CHECK_EQ(tc_data_read_idx_images(put(dir, "e", img, 0), 0, -1, &x, g_err, sizeof g_err),
           TC_ERR_IO);
  /* Trailing bytes. */
  uint8_t lbl2[11];
  memcpy(lbl2, lbl, sizeof lbl);
  lbl2[10] = 1;
  CHECK_EQ(tc_data_read_idx_labels(put(dir, "tr", lbl2, sizeof lbl2), 0, -1, &y, g_err,
                                   sizeof g_err),
           TC_ERR_MODEL);
  CHECK_STR_CONTAINS(g_err, "1 unexpected bytes");
  /* Wrong magic: not an IDX file at all, and an idx3 of float32. */
  CHECK_EQ(tc_data_read_idx_labels(put_str(dir, "txt", "hello world\n"), 0, -1, &y, g_err,
                                   sizeof g_err),
           TC_ERR_MODEL);
  CHECK_STR_CONTAINS(g_err, "not an IDX file");
  uint8_t f32[16] = {0, 0, 0x0D, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
  CHECK_EQ(tc_data_read_idx_images(put(dir, "f32", f32, sizeof f32), 0, -1, &x, g_err,
                                   sizeof g_err),
           TC_ERR_MODEL);
  CHECK_STR_CONTAINS(g_err, "float32");
  /* Huge dims in a tiny file: rejected without allocating. */
  uint8_t huge[16 + 4] = {0, 0, 8, 3, 0x7f, 0xff, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0, 28};
  CHECK_EQ(tc_data_read_idx_images(put(dir, "huge", huge, sizeof huge), 0, -1, &x, g_err,
                                   sizeof g_err),
           TC_ERR_IO);
  CHECK_STR_CONTAINS(g_err, "2147483647 images");
  uint8_t big[16 + 4] = {0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 28, 0, 0, 0, 28};
  CHECK_EQ(tc_data_read_idx_images(put(dir, "big", big, sizeof big), 0, -1, &x, g_err,
                                   sizeof g_err),
           TC_ERR_MODEL);
  CHECK_STR_CONTAINS(g_err, "dim 0 is 4294967295");
  uint8_t zero[16] = {0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28};
  CHECK_EQ(tc_data_read_idx_images(put(dir, "zero", zero, sizeof zero), 0, -1, &x, g_err,
                                   sizeof g_err),
           TC_ERR_MODEL);
  CHECK(x == NULL);
  /* Missing file. */
  CHECK_EQ(tc_data_read_idx_labels("/nonexistent/labels.idx", 0, -1, &y, g_err, sizeof g_err),
           TC_ERR_IO);
  CHECK_STR_CONTAINS(g_err, "/nonexistent/labels.idx: cannot open");
  CHECK(y == NULL);
  rm_tmp(dir);
}

TC_TEST(data_gzip_truncated) {
  size_t n = 0;
  uint8_t *gz = tc_test_read_file(tc_test_shared(MNIST_LBL), &n);
  CHECK(gz != NULL && n > 100);
  const char *dir = tmpdir();
  if (!gz || !dir) {
    free(gz);
    return;
  }
  tc_tensor *y = NULL;
  tc_status st = tc_data_read_idx_labels(put(dir, "cut.gz", gz, n / 2), 0, -1, &y, g_err,
                                         sizeof g_err);
  if (tc_data_have_gzip()) {
    CHECK_EQ(st, TC_ERR_IO);
    CHECK_STR_CONTAINS(g_err, "truncated gzip");
  } else {
    CHECK_EQ(st, TC_ERR_UNSUPPORTED);
  }
  CHECK(y == NULL);
  /* A corrupted byte in the middle of the deflate stream (or its CRC) is caught too. */
  gz[n / 2] ^= 0x55;
  gz[n / 2 + 1] ^= 0x55;
  st = tc_data_read_idx_labels(put(dir, "bad.gz", gz, n), 0, -1, &y, g_err, sizeof g_err);
  CHECK(st != TC_OK);
  CHECK(y == NULL);
  free(gz);
  rm_tmp(dir);
}

TC_TEST(data_csv_sklearn) {
  tc_tensor *x = NULL, *y = NULL;
  tc_csv_options o = TC_CSV_OPTIONS_DEFAULT;
  /* iris: sklearn header line "150,4,setosa,...", label = last column. */
  tc_status st = tc_data_read_csv(tc_test_shared("data/datasets/sklearn/iris.csv"), &o, &x, &y,
                                  g_err, sizeof g_err);
  CHECK_MSG(st == TC_OK, "iris: %s", g_err);
  if (st == TC_OK) {
    CHECK_EQ(tc_tensor_dim(x, 0), 150);
    CHECK_EQ(tc_tensor_dim(x, 1), 4);
    CHECK_EQ(tc_tensor_dim(y, 0), 150);
    CHECK_EQ(tc_data_num_classes(y), 3);
    CHECK_NEAR(tc_tensor_f32(x)[0], 5.1, 1e-6);
    CHECK_NEAR(tc_tensor_f32(x)[3], 0.2, 1e-6);
    CHECK_NEAR(tc_tensor_f32(x)[149 * 4 + 2], 5.1, 1e-6);
    CHECK_EQ(tc_tensor_i32(y)[149], 2);
    double s = 0;
    for (int r = 0; r < 150; r++) s += tc_tensor_f32(x)[r * 4];
    CHECK_NEAR(s, 876.5, 1e-3);
  }
  tc_tensor_destroy(x);
  tc_tensor_destroy(y);
  x = y = NULL;

  /* digits: gzip, no header, 64 features. */
  st = tc_data_read_csv(tc_test_shared("data/datasets/sklearn/digits.csv.gz"), &o, &x, &y, g_err,
                        sizeof g_err);
  if (tc_data_have_gzip()) {
    CHECK_MSG(st == TC_OK, "digits: %s", g_err);
    if (st == TC_OK) {
      CHECK_EQ(tc_tensor_dim(x, 0), 1797);
      CHECK_EQ(tc_tensor_dim(x, 1), 64);
      CHECK_EQ(tc_data_num_classes(y), 10);
      CHECK_EQ(tc_tensor_i32(y)[0], 0);
      CHECK_EQ(tc_tensor_i32(y)[1796], 8);
      CHECK_NEAR(sum_f32(x, 0, 64), 294.0, 1e-4);
    }
    tc_tensor_destroy(x);
    tc_tensor_destroy(y);
    x = y = NULL;
    /* diabetes: space separated, no label column. */
    tc_csv_options od = TC_CSV_OPTIONS_DEFAULT;
    od.label_index = TC_CSV_NO_LABEL;
    st = tc_data_read_csv(tc_test_shared("data/datasets/sklearn/diabetes_data_raw.csv.gz"), &od,
                          &x, &y, g_err, sizeof g_err);
    CHECK_MSG(st == TC_OK, "diabetes: %s", g_err);
    CHECK(y == NULL);
    if (st == TC_OK) {
      CHECK_EQ(tc_tensor_dim(x, 0), 442);
      CHECK_EQ(tc_tensor_dim(x, 1), 10);
      CHECK_NEAR(tc_tensor_f32(x)[2], 32.1, 1e-5);
    }
    tc_tensor_destroy(x);
    x = NULL;
  } else {
    CHECK_EQ(st, TC_ERR_UNSUPPORTED);
  }

  /* linnerud: header of names, label by name, float target. */
  tc_csv_options ol = TC_CSV_OPTIONS_DEFAULT;
  ol.label = "Situps";
  ol.label_dtype = TC_DTYPE_F32;
  st = tc_data_read_csv(tc_test_shared("data/datasets/sklearn/linnerud_exercise.csv"), &ol, &x,
                        &y, g_err, sizeof g_err);
  CHECK_MSG(st == TC_OK, "linnerud: %s", g_err);
  if (st == TC_OK) {
    CHECK_EQ(tc_tensor_dim(x, 0), 20);
    CHECK_EQ(tc_tensor_dim(x, 1), 2);
    CHECK_EQ(tc_tensor_rank(y), 2);
    CHECK_NEAR(tc_tensor_f32(y)[0], 162, 0);
    CHECK_NEAR(tc_tensor_f32(x)[1], 60, 0);
  }
  tc_tensor_destroy(x);
  tc_tensor_destroy(y);
  x = y = NULL;
  ol.label = "Pulse";
  CHECK_EQ(tc_data_read_csv(tc_test_shared("data/datasets/sklearn/linnerud_exercise.csv"), &ol,
                            &x, &y, g_err, sizeof g_err),
           TC_ERR_ARG);
  CHECK_STR_CONTAINS(g_err, "no column named 'Pulse'");
  CHECK_STR_CONTAINS(g_err, "'Chins', 'Situps', 'Jumps'");

  /* breast_cancer: a 4-field sklearn header over 31-field rows; fine by index, not by name. */
  st = tc_data_read_csv(tc_test_shared("data/datasets/sklearn/breast_cancer.csv"), &o, &x, &y,
                        g_err, sizeof g_err);
  CHECK_MSG(st == TC_OK, "breast_cancer: %s", g_err);
  if (st == TC_OK) {
    CHECK_EQ(tc_tensor_dim(x, 0), 569);
    CHECK_EQ(tc_tensor_dim(x, 1), 30);
    CHECK_EQ(tc_data_num_classes(y), 2);
  }
  tc_tensor_destroy(x);
  tc_tensor_destroy(y);
  x = y = NULL;
  tc_csv_options ob = TC_CSV_OPTIONS_DEFAULT;
  ob.label = "benign";
  CHECK_EQ(tc_data_read_csv(tc_test_shared("data/datasets/sklearn/breast_cancer.csv"), &ob, &x,
                            &y, g_err, sizeof g_err),
           TC_ERR_MODEL);
  CHECK_STR_CONTAINS(g_err, "the header has 4 fields but the rows have 31");
}

TC_TEST(data_csv_hostile) {
  const char *dir = tmpdir();
  CHECK(dir != NULL);
  if (!dir) return;
  tc_tensor *x = NULL, *y = NULL;
  tc_csv_options o = TC_CSV_OPTIONS_DEFAULT;
  const char *p;

  p = put_str(dir, "ragged.csv", "a,b,c\n1,2,0\n3,4,1\n\n5,6\n");
  CHECK_EQ(tc_data_read_csv(p, &o, &x, &y, g_err, sizeof g_err), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(g_err, "ragged.csv:5: 2 fields, expected 3 (as on line 2)");
  CHECK(x == NULL && y == NULL);

  p = put_str(dir, "nan.csv", "1,2,0\r\n3,x4,1\r\n");
  CHECK_EQ(tc_data_read_csv(p, &o, &x, &y, g_err, sizeof g_err), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(g_err, "nan.csv:2: column 2: 'x4' is not a number");

  p = put_str(dir, "empty_field.csv", "a;b;y\n1;;0\n");
  CHECK_EQ(tc_data_read_csv(p, &o, &x, &y, g_err, sizeof g_err), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(g_err, "empty_field.csv:2: column 2: empty field");

  p = put_str(dir, "label.csv", "1,2,0\n3,4,1.5\n");
  CHECK_EQ(tc_data_read_csv(p, &o, &x, &y, g_err, sizeof g_err), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(g_err, "label.csv:2: column 3: label 1.5 is not a class id");
  p = put_str(dir, "neg.csv", "1,2,-1\n");
  CHECK_EQ(tc_data_read_csv(p, &o, &x, &y, g_err, sizeof g_err), TC_ERR_MODEL);

  p = put_str(dir, "empty.csv", "\n  \n");
  CHECK_EQ(tc_data_read_csv(p, &o, &x, &y, g_err, sizeof g_err), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(g_err, "no data rows");
  p = put_str(dir, "header_only.csv", "a,b\n");
  CHECK_EQ(tc_data_read_csv(p, &o, &x, &y, g_err, sizeof g_err), TC_ERR_MODEL);

  p = put_str(dir, "onecol.csv", "3\n4\n");
  CHECK_EQ(tc_data_read_csv(p, &o, &x, &y, g_err, sizeof g_err), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(g_err, "no feature columns");

  p = put(dir, "bin.csv", "1,2\0,3\n", 7);
  CHECK_EQ(tc_data_read_csv(p, &o, &x, &y, g_err, sizeof g_err), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(g_err, "NUL");

  /* Named label without a header; index out of range. */
  tc_csv_options on = TC_CSV_OPTIONS_DEFAULT;
  on.label = "y";
  p = put_str(dir, "nohdr.csv", "1,2,0\n");
  CHECK_EQ(tc_data_read_csv(p, &on, &x, &y, g_err, sizeof g_err), TC_ERR_ARG);
  CHECK_STR_CONTAINS(g_err, "no header line");
  tc_csv_options oi = TC_CSV_OPTIONS_DEFAULT;
  oi.label_index = 3;
  CHECK_EQ(tc_data_read_csv(p, &oi, &x, &y, g_err, sizeof g_err), TC_ERR_ARG);
  CHECK_STR_CONTAINS(g_err, "label column index 3 is out of range");
  CHECK(x == NULL && y == NULL);

  /* Quoted header names, label in the middle by name, tabs around fields, explicit header. */
  p = put_str(dir, "quoted.csv", "\"x 1\",\"cls\",\"say \"\"hi\"\"\"\n 1.5 ,\t2, -3e1\n4,0,5\n");
  tc_csv_options oq = TC_CSV_OPTIONS_DEFAULT;
  oq.label = "cls";
  oq.header = 1;
  CHECK_EQ(tc_data_read_csv(p, &oq, &x, &y, g_err, sizeof g_err), TC_OK);
  if (x && y) {
    CHECK_EQ(tc_tensor_dim(x, 0), 2);
    CHECK_EQ(tc_tensor_dim(x, 1), 2);
    CHECK_NEAR(tc_tensor_f32(x)[0], 1.5, 0);
    CHECK_NEAR(tc_tensor_f32(x)[1], -30, 0);
    CHECK_NEAR(tc_tensor_f32(x)[3], 5, 0);
    CHECK_EQ(tc_tensor_i32(y)[0], 2);
    CHECK_EQ(tc_tensor_i32(y)[1], 0);
  }
  tc_tensor_destroy(x);
  tc_tensor_destroy(y);
  x = y = NULL;
  oq.label = "say \"hi\"";
  oq.label_dtype = TC_DTYPE_F32;
  CHECK_EQ(tc_data_read_csv(p, &oq, &x, NULL, g_err, sizeof g_err), TC_OK); /* labels not wanted */
  if (x) CHECK_EQ(tc_tensor_dim(x, 1), 2);
  tc_tensor_destroy(x);
  x = NULL;

  /* Truncated gzip CSV. */
  size_t n = 0;
  uint8_t *gz = tc_test_read_file(tc_test_shared("data/datasets/sklearn/digits.csv.gz"), &n);
  CHECK(gz != NULL);
  if (gz) {
    tc_status st = tc_data_read_csv(put(dir, "cut.csv.gz", gz, n - 20), &o, &x, &y, g_err,
                                    sizeof g_err);
    CHECK_EQ(st, tc_data_have_gzip() ? TC_ERR_IO : TC_ERR_UNSUPPORTED);
    CHECK(x == NULL && y == NULL);
    free(gz);
  }
  CHECK_EQ(tc_data_read_csv("/nonexistent.csv", &o, &x, &y, g_err, sizeof g_err), TC_ERR_IO);
  CHECK_EQ(tc_data_read_csv(NULL, &o, &x, &y, NULL, 0), TC_ERR_ARG);
  rm_tmp(dir);
}

TC_TEST(data_shuffle_and_rows) {
  int32_t xd[2] = {100, 3}, yd[1] = {100};
  tc_tensor *x = NULL, *y = NULL, *x2 = NULL, *y2 = NULL;
  CHECK_EQ(tc_tensor_create(TC_DTYPE_F32, 2, xd, &x), TC_OK);
  CHECK_EQ(tc_tensor_create(TC_DTYPE_I32, 1, yd, &y), TC_OK);
  CHECK_EQ(tc_tensor_create(TC_DTYPE_F32, 2, xd, &x2), TC_OK);
  CHECK_EQ(tc_tensor_create(TC_DTYPE_I32, 1, yd, &y2), TC_OK);
  if (!x || !y || !x2 || !y2) return;
  for (int i = 0; i < 100; i++) {
    for (int j = 0; j < 3; j++) tc_tensor_f32(x)[i * 3 + j] = tc_tensor_f32(x2)[i * 3 + j] = (float)(i * 10 + j);
    tc_tensor_i32(y)[i] = tc_tensor_i32(y2)[i] = i;
  }
  CHECK_EQ(tc_data_shuffle(x, y, 42), TC_OK);
  CHECK_EQ(tc_data_shuffle(x2, y2, 42), TC_OK);
  int seen[100] = {0}, moved = 0, same = 1;
  for (int i = 0; i < 100; i++) {
    int lab = tc_tensor_i32(y)[i];
    CHECK(lab >= 0 && lab < 100);
    if (lab < 0 || lab >= 100) continue;
    seen[lab]++;
    moved += lab != i;
    for (int j = 0; j < 3; j++) CHECK_NEAR(tc_tensor_f32(x)[i * 3 + j], lab * 10 + j, 0);
    same &= tc_tensor_i32(y2)[i] == lab;
  }
  for (int i = 0; i < 100; i++) CHECK_EQ(seen[i], 1);
  CHECK(moved > 80); /* a real permutation */
  CHECK(same);       /* same seed, same order */
  CHECK_EQ(tc_data_shuffle(x2, y2, 43), TC_OK);
  int diff = 0;
  for (int i = 0; i < 100; i++) diff += tc_tensor_i32(y2)[i] != tc_tensor_i32(y)[i];
  CHECK(diff > 50);
  CHECK_EQ(tc_data_shuffle(x, NULL, 1), TC_OK); /* labels are optional */

  tc_tensor *r = NULL;
  CHECK_EQ(tc_data_rows(y, 90, -1, &r), TC_OK);
  if (r) {
    CHECK_EQ(tc_tensor_dim(r, 0), 10);
    CHECK_EQ(tc_tensor_i32(r)[0], tc_tensor_i32(y)[90]);
  }
  tc_tensor_destroy(r);
  CHECK_EQ(tc_data_rows(x, 10, 5, &r), TC_OK);
  if (r) {
    CHECK_EQ(tc_tensor_dim(r, 1), 3);
    CHECK_NEAR(tc_tensor_f32(r)[4], tc_tensor_f32(x)[34], 0); /* row 11, column 1 */
  }
  tc_tensor_destroy(r);
  CHECK_EQ(tc_data_rows(x, 96, 5, &r), TC_ERR_ARG);
  CHECK(r == NULL);
  int32_t yd3[1] = {99};
  tc_tensor *y3 = NULL;
  CHECK_EQ(tc_tensor_create(TC_DTYPE_I32, 1, yd3, &y3), TC_OK);
  CHECK_EQ(tc_data_shuffle(x, y3, 1), TC_ERR_ARG);
  tc_tensor_destroy(y3);
  tc_tensor_destroy(x);
  tc_tensor_destroy(y);
  tc_tensor_destroy(x2);
  tc_tensor_destroy(y2);
}

TC_TEST(data_cast) {
  int32_t d[2] = {2, 2};
  const int32_t iv[4] = {0, 7, -3, 100000};
  tc_tensor *a = NULL, *f = NULL, *b = NULL;
  CHECK_EQ(tc_tensor_create_from(TC_DTYPE_I32, 2, d, iv, &a), TC_OK);
  if (!a) return;
  CHECK_EQ(tc_data_cast(a, TC_DTYPE_F32, &f), TC_OK);
  if (f) {
    CHECK_EQ(tc_tensor_rank(f), 2);
    CHECK_NEAR(tc_tensor_f32(f)[1], 7, 0);
    CHECK_NEAR(tc_tensor_f32(f)[2], -3, 0);
    tc_tensor_f32(f)[3] = 2.9f;
    CHECK_EQ(tc_data_cast(f, TC_DTYPE_I32, &b), TC_OK);
    if (b) CHECK_EQ(tc_tensor_i32(b)[3], 2); /* truncates toward zero */
    tc_tensor_destroy(b);
    b = NULL;
  }
  CHECK_EQ(tc_data_cast(a, TC_DTYPE_U8, &b), TC_ERR_ARG);
  CHECK(b == NULL);
  tc_tensor_destroy(a);
  tc_tensor_destroy(f);
}
