/* test_cli.c: end-to-end tests of the `tensorc` command-line tool. Each test runs the built
 * binary (TC_CLI_PATH) through popen with stderr folded into stdout and checks the exit status
 * and the text, and for `run -o` the written .npy files against the golden outputs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tc_test.h"

static char g_out[1 << 16];

/* Runs `tensorc <args>` and returns its exit status (-1 if it did not exit normally). The
 * combined output is left in g_out. */
static int cli(const char *args) { return tc_test_cli(args, g_out, sizeof g_out); }

static char *make_tmpdir(void) {
  static char dir[64];
  snprintf(dir, sizeof dir, "/tmp/tc_cli_XXXXXX");
  return mkdtemp(dir);
}

static void remove_tmpdir(const char *dir) {
  char cmd[256];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) fprintf(stderr, "  (could not remove %s)\n", dir);
}

static int write_file(const char *path, const void *data, size_t size) {
  FILE *f = fopen(path, "wb");
  if (!f) return 0;
  size_t w = fwrite(data, 1, size, f);
  return fclose(f) == 0 && w == size;
}

/* Data bytes of a version 1 .npy file (NULL if not one); *size gets their count. */
static const unsigned char *npy_data(const unsigned char *p, size_t n, size_t *size) {
  if (n < 10 || memcmp(p, "\x93NUMPY", 6) != 0 || p[6] != 1) return NULL;
  size_t start = 10 + (size_t)(p[8] | p[9] << 8);
  if (start > n) return NULL;
  *size = n - start;
  return p + start;
}

#define HELLO "tflm/hello_world_float.tflite"

TC_TEST(cli_help_and_version) {
  CHECK_EQ(cli("--help"), 0);
  CHECK_STR_CONTAINS(g_out, "inspect");
  CHECK_STR_CONTAINS(g_out, "bench");
  CHECK_EQ(cli("--version"), 0);
  CHECK_STR_CONTAINS(g_out, "tensorc 0.");
  const char *verbs[] = {"inspect --help", "run --help", "bench --help"};
  for (int i = 0; i < 3; i++) {
    CHECK_EQ(cli(verbs[i]), 0);
    CHECK_STR_CONTAINS(g_out, "usage: tensorc");
  }
  CHECK(cli("") != 0); /* no verb */
}

TC_TEST(cli_unknown_verb_and_option) {
  CHECK(cli("frobnicate") != 0);
  CHECK_STR_CONTAINS(g_out, "unknown verb 'frobnicate'");
  char args[1024];
  snprintf(args, sizeof args, "run '%s' --bogus", tc_test_shared("models/" HELLO));
  CHECK(cli(args) != 0);
  CHECK_STR_CONTAINS(g_out, "--bogus");
  snprintf(args, sizeof args, "bench '%s' --runs zero", tc_test_shared("models/" HELLO));
  CHECK(cli(args) != 0);
  CHECK_STR_CONTAINS(g_out, "--runs");
}

TC_TEST(cli_inspect_hello_world) {
  char args[1024];
  snprintf(args, sizeof args, "inspect '%s'", tc_test_shared("models/" HELLO));
  CHECK_EQ(cli(args), 0);
  CHECK_STR_CONTAINS(g_out, "FULLY_CONNECTED");
  CHECK_STR_CONTAINS(g_out, "x3");
  CHECK_STR_CONTAINS(g_out, "float32");
  CHECK_STR_CONTAINS(g_out, "[1,1]");
  CHECK_STR_CONTAINS(g_out, "schema version: 3");
  CHECK_STR_CONTAINS(g_out, "arena: ");
}

TC_TEST(cli_inspect_quantized_and_failures) {
  char args[1024];
  snprintf(args, sizeof args, "inspect '%s'", tc_test_shared("models/tflm/hello_world_int8.tflite"));
  cli(args); /* the exit status depends on int8 FULLY_CONNECTED support; the listing does not */
  CHECK_STR_CONTAINS(g_out, "int8     [1,1]  sig [-1,1]  quant: scale 0.0244801");
  CHECK_STR_CONTAINS(g_out, "zero_point -128");
  /* A missing file fails with the path in the message. */
  CHECK(cli("inspect /nonexistent/model.tflite") != 0);
  CHECK_STR_CONTAINS(g_out, "/nonexistent/model.tflite");
  /* An unknown custom op: everything is printed, then the reason, and the exit is non-zero. */
  snprintf(args, sizeof args, "inspect '%s'", tc_test_shared("models/coral/model_invoking_error.tflite"));
  CHECK(cli(args) != 0);
  CHECK_STR_CONTAINS(g_out, "CUSTOM(fake-op-double)");
  CHECK_STR_CONTAINS(g_out, "weights:");
}

TC_TEST(cli_run_random_input) {
  char args[1024];
  snprintf(args, sizeof args, "run '%s' --seed 7", tc_test_shared("models/" HELLO));
  CHECK_EQ(cli(args), 0);
  CHECK_STR_CONTAINS(g_out, "output 0:");
  CHECK_STR_CONTAINS(g_out, "min ");
  /* The same seed gives the same output. */
  static char first[sizeof g_out];
  memcpy(first, g_out, sizeof g_out);
  CHECK_EQ(cli(args), 0);
  CHECK(strcmp(first, g_out) == 0);
}

TC_TEST(cli_run_golden_bin_inputs) {
  const char *cases[] = {"x0", "x1", "x3", "x5", "random"};
  char *dir = make_tmpdir();
  CHECK(dir != NULL);
  if (!dir) return;
  for (int c = 0; c < 5; c++) {
    char rel[256], args[2048], out_path[256];
    snprintf(rel, sizeof rel, "models/golden/tflm/hello_world_float/%s/input_0.bin", cases[c]);
    snprintf(args, sizeof args, "run '%s' '%s' -o '%s/%s'", tc_test_shared("models/" HELLO),
             tc_test_shared(rel), dir, cases[c]);
    CHECK_EQ(cli(args), 0);
    CHECK_STR_CONTAINS(g_out, "output_0.npy");
    snprintf(out_path, sizeof out_path, "%s/%s/output_0.npy", dir, cases[c]);
    snprintf(rel, sizeof rel, "models/golden/tflm/hello_world_float/%s/output_0.bin", cases[c]);
    size_t n_npy = 0, n_gold = 0, n_data = 0;
    unsigned char *npy = tc_test_read_file(out_path, &n_npy);
    unsigned char *gold = tc_test_read_file(tc_test_shared(rel), &n_gold);
    const unsigned char *data = npy ? npy_data(npy, n_npy, &n_data) : NULL;
    CHECK_MSG(data != NULL, "case %s: no valid %s", cases[c], out_path);
    if (data && gold) {
      CHECK_STR_CONTAINS((const char *)npy + 10, "'descr': '<f4'");
      CHECK_EQ(n_data, n_gold);
      for (size_t i = 0; i + 4 <= n_data && i + 4 <= n_gold; i += 4) {
        float a, b;
        memcpy(&a, data + i, 4);
        memcpy(&b, gold + i, 4);
        CHECK_NEAR(a, b, 1e-5);
      }
    }
    free(npy);
    free(gold);
  }
  remove_tmpdir(dir);
}

TC_TEST(cli_run_npy_input) {
  char *dir = make_tmpdir();
  CHECK(dir != NULL);
  if (!dir) return;
  /* Build a float32 [1,1] .npy holding x = 1.0 and expect the output of the golden case x1. */
  char hdr[118];
  memset(hdr, ' ', sizeof hdr);
  const char *dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }";
  memcpy(hdr, dict, strlen(dict));
  hdr[sizeof hdr - 1] = '\n';
  unsigned char file[10 + sizeof hdr + 4] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, sizeof hdr, 0};
  float x = 1.0f;
  memcpy(file + 10, hdr, sizeof hdr);
  memcpy(file + 10 + sizeof hdr, &x, 4);
  char path[128], args[2048];
  snprintf(path, sizeof path, "%s/x.npy", dir);
  CHECK(write_file(path, file, sizeof file));
  snprintf(args, sizeof args, "run '%s' '%s'", tc_test_shared("models/" HELLO), path);
  CHECK_EQ(cli(args), 0);
  CHECK_STR_CONTAINS(g_out, "0.86304"); /* golden x1/output_0.bin: the model's sin(1) */
  /* The same file declaring int32 is refused, naming both dtypes. */
  memcpy(file + 10 + 12, "i4", 2);
  CHECK(write_file(path, file, sizeof file));
  CHECK(cli(args) != 0);
  CHECK_STR_CONTAINS(g_out, "dtype mismatch");
  CHECK_STR_CONTAINS(g_out, "int32");
  remove_tmpdir(dir);
}

TC_TEST(cli_run_bad_inputs) {
  char *dir = make_tmpdir();
  CHECK(dir != NULL);
  if (!dir) return;
  char path[128], args[2048];
  /* A .bin of the wrong size names expected and actual sizes. */
  snprintf(path, sizeof path, "%s/short.bin", dir);
  CHECK(write_file(path, "abc", 3));
  snprintf(args, sizeof args, "run '%s' '%s'", tc_test_shared("models/" HELLO), path);
  CHECK(cli(args) != 0);
  CHECK_STR_CONTAINS(g_out, "4 bytes");
  CHECK_STR_CONTAINS(g_out, "3 bytes");
  /* Too many inputs. */
  snprintf(args, sizeof args, "run '%s' '%s' '%s'", tc_test_shared("models/" HELLO), path, path);
  CHECK(cli(args) != 0);
  CHECK_STR_CONTAINS(g_out, "has 1 input");
  /* A missing input file. */
  snprintf(args, sizeof args, "run '%s' /nonexistent/in.bin", tc_test_shared("models/" HELLO));
  CHECK(cli(args) != 0);
  CHECK_STR_CONTAINS(g_out, "/nonexistent/in.bin");
  /* A truncated BMP is refused by the bounds checks, not read past its end. */
  size_t n = 0;
  unsigned char *bmp = tc_test_read_file(tc_test_shared("data/coral/grace_hopper.bmp"), &n);
  CHECK(bmp != NULL && n > 4000);
  if (bmp) {
    snprintf(path, sizeof path, "%s/cut.bmp", dir);
    CHECK(write_file(path, bmp, 4000));
    snprintf(args, sizeof args, "run '%s' '%s'",
             tc_test_shared("models/tflite_support/mobilenet_v1_0.25_224_float.tflite"), path);
    CHECK(cli(args) != 0);
    CHECK_STR_CONTAINS(g_out, "truncated BMP");
    free(bmp);
  }
  remove_tmpdir(dir);
}

TC_TEST(cli_run_unknown_custom_op) {
  char args[1024];
  snprintf(args, sizeof args, "run '%s'", tc_test_shared("models/coral/model_invoking_error.tflite"));
  CHECK(cli(args) != 0);
  CHECK_STR_CONTAINS(g_out, "fake-op-double");
}

/* grace_hopper.bmp -> bilinear 224x224 -> (p-127.5)/127.5 reproduces the golden input bytes
 * exactly, so the float MobileNet must say 835 ('suit') as the golden case does. */
TC_TEST(cli_run_image_classifier) {
  char args[2048];
  snprintf(args, sizeof args, "run '%s' '%s' --labels '%s' --top 3",
           tc_test_shared("models/tflite_support/mobilenet_v1_0.25_224_float.tflite"),
           tc_test_shared("data/coral/grace_hopper.bmp"),
           tc_test_shared("data/tflite_support/imagenet_labels_1001.txt"));
  CHECK_EQ(cli(args), 0);
  CHECK_STR_CONTAINS(g_out, "top-3:");
  const char *top = strstr(g_out, "top-3:\n");
  int cls = -1;
  if (top) sscanf(top + 7, "%d", &cls);
  CHECK_EQ(cls, 835);
  CHECK_STR_CONTAINS(g_out, "suit");
}

TC_TEST(cli_bench_json) {
  char args[1024];
  snprintf(args, sizeof args, "bench '%s' --runs 5 --warmup 2 --json",
           tc_test_shared("models/" HELLO));
  CHECK_EQ(cli(args), 0);
  CHECK_STR_CONTAINS(g_out, "count=5");
  CHECK_STR_CONTAINS(g_out, "\"median_us\":");
  CHECK_STR_CONTAINS(g_out, "\"arena_bytes\":");
  CHECK_STR_CONTAINS(g_out, "peak RSS");
  CHECK(cli("bench /nonexistent/model.tflite") != 0);
}

/* ---- quantized models (issue 3) ------------------------------------------------------------ */

/* Column `col` (1-based, as in the golden README) of the cases.tsv row of `case_dir`, or "". */
static const char *case_column(const char *case_dir, int col) {
  static char val[256];
  size_t size = 0;
  char *tsv = tc_test_read_file(tc_test_shared("models/golden/cases.tsv"), &size);
  val[0] = '\0';
  if (!tsv) return val;
  char *text = realloc(tsv, size + 1);
  text[size] = '\0';
  char *save = NULL;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char *f[12];
    int n = 0;
    for (char *p = line; n < 12 && p; n++) {
      f[n] = p;
      p = strchr(p, '\t');
      if (p) *p++ = '\0';
    }
    if (n >= col && n >= 2 && strcmp(f[1], case_dir) == 0) {
      snprintf(val, sizeof val, "%s", f[col - 1]);
      break;
    }
  }
  free(text);
  return val;
}

/* The class index on the first line after "top-K:" in g_out, or -1. */
static int top1(void) {
  const char *t = strstr(g_out, "top-");
  int cls = -1;
  if (t && (t = strchr(t, '\n'))) sscanf(t + 1, "%d", &cls);
  return cls;
}

/* 1 if the last run failed because the model needs an operator tensorc lacks (yet). */
static int unsupported(int rc, const char *what) {
  if (rc == 0 || !strstr(g_out, "unsupported")) return 0;
  const char *why = strstr(g_out, "unsupported");
  fprintf(stderr, "  skip %s: %.160s", what, why);
  return 1;
}

TC_TEST(cli_run_help_documents_quantization) {
  CHECK_EQ(cli("run --help"), 0);
  CHECK_STR_CONTAINS(g_out, "quantized integer input");
  CHECK_STR_CONTAINS(g_out, "q = qmin + p");
  CHECK_STR_CONTAINS(g_out, "p-128");
  CHECK_STR_CONTAINS(g_out, "raw tensor bytes, taken as they are");
  CHECK_STR_CONTAINS(g_out, "dequantized");
}

TC_TEST(cli_inspect_signature_and_per_axis) {
  char args[1024];
  snprintf(args, sizeof args, "inspect '%s' --tensors",
           tc_test_shared("models/mlperf_tiny/vww_96_int8.tflite"));
  cli(args); /* exit status depends on int8 op coverage; the listing does not */
  CHECK_STR_CONTAINS(g_out, "int8     [1,96,96,3]  sig [-1,96,96,3]  quant: scale 0.00392156886");
  CHECK_STR_CONTAINS(g_out, "tensors (subgraph 0): 89");
  CHECK_STR_CONTAINS(g_out, "quant: per-axis(dim 3, 8 scales");
  CHECK_STR_CONTAINS(g_out, "per-axis(dim 0, 8 scales");
  CHECK_STR_CONTAINS(g_out, "const  2: model/flatten/Const");
  /* a static shape prints no signature */
  snprintf(args, sizeof args, "inspect '%s'",
           tc_test_shared("models/tflite_support/mobilenet_v1_0.25_224_quant.tflite"));
  cli(args);
  CHECK_STR_CONTAINS(g_out, "uint8    [1,224,224,3]  quant: scale 0.0078125 zero_point 128");
  CHECK(strstr(g_out, "sig [") == NULL);
}

/* A float .npy for the int8 hello_world input is quantized with the input's scale
 * (0.0244801) and zero point (-128): 0.7834 -> round(32.0015) - 128 = -96, so the output must
 * be TFLM's golden for q = -96 byte for byte. A float array for a float-less, unquantized
 * integer tensor is refused. */
TC_TEST(cli_run_quantized_npy_input) {
  char *dir = make_tmpdir();
  CHECK(dir != NULL);
  if (!dir) return;
  char npy[256], out[256], args[2048];
  snprintf(npy, sizeof npy, "%s/x.npy", dir);
  /* version 1 .npy: 10-byte preamble, header text padded with spaces to end at byte 128 */
  static const char hdr[] = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }";
  unsigned char file[132];
  const size_t hl = 118;
  memset(file, ' ', sizeof file);
  memcpy(file, "\x93NUMPY\x01\x00", 8);
  file[8] = (unsigned char)hl;
  file[9] = 0;
  memcpy(file + 10, hdr, sizeof hdr - 1);
  file[10 + hl - 1] = '\n';
  float x = 0.7834f;
  memcpy(file + 10 + hl, &x, 4);
  CHECK(write_file(npy, file, 10 + hl + 4));
  snprintf(args, sizeof args, "run '%s' '%s' -o '%s'",
           tc_test_shared("models/tflm/hello_world_int8.tflite"), npy, dir);
  int rc = cli(args);
  if (!unsupported(rc, "hello_world_int8")) {
    CHECK_EQ(rc, 0);
    CHECK_STR_CONTAINS(g_out, "dequantized (scale");
    snprintf(out, sizeof out, "%s/output_0.npy", dir);
    size_t n = 0, gn = 0, dn = 0;
    unsigned char *got = tc_test_read_file(out, &n);
    unsigned char *gold =
        tc_test_read_file(tc_test_shared("models/golden/tflm/hello_world_int8/qm96/output_0.bin"), &gn);
    const unsigned char *d = got ? npy_data(got, n, &dn) : NULL;
    CHECK(d && gold && dn == gn && gn == 1);
    if (d && gold && dn == gn) CHECK_EQ((signed char)d[0], (signed char)gold[0]);
    free(got);
    free(gold);
  }
  /* float array into an unquantized int32 input: refused with the reason */
  snprintf(args, sizeof args, "run '%s' '%s'",
           tc_test_shared("models/tflite_support/movie_review.tflite"), npy);
  CHECK(cli(args) != 0);
  CHECK_STR_CONTAINS(g_out, "dtype mismatch");
  remove_tmpdir(dir);
}

/* Quantized uint8 MobileNet on grace_hopper.bmp: the image rule gives the raw pixels (scale
 * 1/128, zero point 128), i.e. the golden input, so top-1 is cases.tsv's expected 835. */
TC_TEST(cli_run_quantized_image_classifier) {
  const char *case_dir = "tflite_support/mobilenet_v1_0.25_224_quant/grace_hopper";
  int expect = atoi(case_column(case_dir, 8));
  CHECK(expect > 0);
  char args[2048];
  snprintf(args, sizeof args, "run '%s' '%s' --labels '%s' --top 3",
           tc_test_shared("models/tflite_support/mobilenet_v1_0.25_224_quant.tflite"),
           tc_test_shared("data/coral/grace_hopper.bmp"),
           tc_test_shared("data/tflite_support/imagenet_labels_1001.txt"));
  int rc = cli(args);
  if (unsupported(rc, "mobilenet_v1_0.25_224_quant")) return;
  CHECK_EQ(rc, 0);
  CHECK_EQ(top1(), expect);
  CHECK_STR_CONTAINS(g_out, "dequantized (scale 0.00390625, zero_point 0)");
}

/* TFLM person_detect (int8, scale 2/255, zero point -1) on its two test images. Their pixel
 * bytes already are the int8 input values (data/MANIFEST.md: "pixel bytes reinterpreted as
 * int8, no offset"; the golden inputs are those bytes), so they are read with --pixels bytes;
 * the default rule (pixel-128) would feed other values. Top-1 of output 0 must be 1 'person' /
 * 0 'notperson' (labels [notperson, person]; expected values from cases.tsv). */
TC_TEST(cli_run_person_detect) {
  static const char *const img[2] = {"person", "no_person"};
  for (int k = 0; k < 2; k++) {
    char case_dir[128], args[2048], data[256];
    snprintf(case_dir, sizeof case_dir, "tflm/person_detect/%s", img[k]);
    const char *e = case_column(case_dir, 8);
    CHECK(*e && *e != '-');
    int expect = atoi(e);
    snprintf(data, sizeof data, "data/tflm/person_detection/%s.bmp", img[k]);
    snprintf(args, sizeof args, "run '%s' '%s' --top 2 --pixels bytes",
             tc_test_shared("models/tflm/person_detect.tflite"), tc_test_shared(data));
    int rc = cli(args);
    if (unsupported(rc, "person_detect")) return;
    CHECK_EQ(rc, 0);
    CHECK_MSG(top1() == expect, "%s: top-1 %d, expected %d\n%s", img[k], top1(), expect, g_out);
  }
  CHECK(cli("run x.tflite --pixels wrong") != 0);
  CHECK_STR_CONTAINS(g_out, "--pixels: expected scale or bytes");
}

/* The SSD detector (its TFLite_Detection_PostProcess is tensorc's own) on multi_objects.jpg:
 * the detections above 0.5 are the golden case's traffic light, chairs and clock. */
TC_TEST(cli_run_ssd_detections) {
  char args[2048];
  snprintf(args, sizeof args, "run '%s' '%s' --labels '%s' --min-score 0.5",
           tc_test_shared("models/tflite_support/ssd_mobilenet_v1_quant.tflite"),
           tc_test_shared("data/tflite_support/multi_objects.jpg"),
           tc_test_shared("data/coral/coco_labels.txt"));
  int rc = cli(args);
  if (unsupported(rc, "ssd_mobilenet_v1_quant")) return;
  CHECK_EQ(rc, 0);
  CHECK_STR_CONTAINS(g_out, "detections (score >= 0.5): 10 of 10");
  CHECK_STR_CONTAINS(g_out, "traffic light");
  CHECK_STR_CONTAINS(g_out, "chair");
  CHECK_STR_CONTAINS(g_out, "clock");
  CHECK(strstr(g_out, "refrigerator") == NULL);
  CHECK(cli("run x.tflite --min-score abc") != 0);
  CHECK_STR_CONTAINS(g_out, "--min-score");
}
