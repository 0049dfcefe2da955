/* test_train_cli.c: end-to-end tests of `tensorc train`: spec errors name the key (wrong type,
 * unknown layer, missing loss, broken JSON, missing data file), unused keys are reported, a short
 * run on iris (CSV) reaches > 0.8 test accuracy and prints `test_accuracy=<value>` as its last
 * line, and --data redirects the spec's MNIST paths. Specs are written to a temporary folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tc_test.h"

static char g_out[1 << 16];

/* Runs `tensorc <args>` (stderr folded in); returns the exit status, output in g_out. */
static int cli(const char *args) { return tc_test_cli(args, g_out, sizeof g_out); }

/* 1 if this tensorc cannot read specs (built without cJSON): the tests then only check that. */
static int no_json(void) {
  cli("train /nonexistent.json");
  return strstr(g_out, "without cJSON") != NULL;
}

static char g_dir[64];

static const char *spec(const char *name, const char *text) {
  static char path[8][256];
  static int k;
  char *p = path[k++ & 7];
  snprintf(p, sizeof path[0], "%s/%s", g_dir, name);
  FILE *f = fopen(p, "w");
  if (f) {
    fputs(text, f);
    fclose(f);
  }
  return p;
}

static int setup(void) {
  snprintf(g_dir, sizeof g_dir, "/tmp/tc_train_cli_XXXXXX");
  return mkdtemp(g_dir) != NULL;
}

static void teardown(void) {
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  if (system(cmd) != 0) fprintf(stderr, "  (could not remove %s)\n", g_dir);
}

/* The last non-empty line of g_out. */
static const char *last_line(void) {
  size_t n = strlen(g_out);
  while (n && g_out[n - 1] == '\n') g_out[--n] = 0;
  char *nl = strrchr(g_out, '\n');
  return nl ? nl + 1 : g_out;
}

#define SINE_OK                                                                                  \
  "\"layers\": [{\"type\": \"dense\", \"units\": 4, \"activation\": \"relu\"}, {\"type\": "      \
  "\"dense\", \"units\": 1}], \"loss\": \"mse\", \"data\": {\"format\": \"sine\", \"train\": "   \
  "64, \"test\": 16}, \"epochs\": 1"

TC_TEST(cli_train_help_and_options) {
  CHECK_EQ(cli("train --help"), 0);
  CHECK_STR_CONTAINS(g_out, "usage: tensorc train");
  CHECK_EQ(cli("--help"), 0);
  CHECK_STR_CONTAINS(g_out, "train");
  if (no_json()) { /* a build without cJSON refuses every spec, and says why */
    CHECK_EQ(cli("train x.json --bogus"), 1);
    CHECK_STR_CONTAINS(g_out, "install libcjson-dev");
    return;
  }
  CHECK_EQ(cli("train"), 2);
  CHECK_EQ(cli("train x.json --bogus"), 2);
  CHECK_STR_CONTAINS(g_out, "unknown option '--bogus'");
  CHECK_EQ(cli("train x.json --threads 0"), 2);
  CHECK_EQ(cli("train x.json --verbose 3"), 2);
}

TC_TEST(cli_train_spec_errors) {
  if (no_json()) {
    CHECK_STR_CONTAINS(g_out, "without cJSON");
    return;
  }
  CHECK(setup());
  char args[512];
  struct {
    const char *text, *want;
  } cases[] = {
      {"{\"layers\": [{\"type\": \"dense\", \"units\": 8}, {\"type\": \"conv2d\", \"filters\": "
       "\"32\", \"kernel_size\": 3}], \"loss\": \"mse\", \"data\": {\"format\": \"sine\"}}",
       "spec: layers[1].filters: expected a positive integer"},
      {"{\"layers\": [{\"type\": \"conv2d\", \"filters\": 8}], \"loss\": \"mse\", \"data\": "
       "{\"format\": \"sine\"}}",
       "spec: layers[0].kernel_size: missing"},
      {"{\"layers\": [{\"type\": \"dens\", \"units\": 8}], \"loss\": \"mse\", \"data\": "
       "{\"format\": \"sine\"}}",
       "spec: layers[0].type: unknown layer type 'dens'"},
      {"{\"layers\": [{\"type\": \"dense\", \"units\": 8}], \"data\": {\"format\": \"sine\"}}",
       "spec: loss: missing"},
      {"{\"layers\": [{\"type\": \"dense\", \"units\": 8}], \"loss\": \"mse\", \"epochs\": -1, "
       "\"data\": {\"format\": \"sine\"}}",
       "spec: epochs: expected a positive integer"},
      {"{\"layers\": [{\"type\": \"dense\", \"units\": 8}], \"loss\": \"mse\", \"optimizer\": "
       "{\"type\": \"adam\", \"learning_rate\": \"fast\"}, \"data\": {\"format\": \"sine\"}}",
       "spec: optimizer.learning_rate: expected a number"},
      {"{\"layers\": [{\"type\": \"dense\", \"units\": 8, \"activation\": \"swish2\"}], \"loss\": "
       "\"mse\", \"data\": {\"format\": \"sine\"}}",
       "spec: layers[0].activation: expected an activation"},
      {"{\"layers\": [{\"type\": \"dense\", \"units\": 8}], \"loss\": \"mse\", \"data\": "
       "{\"format\": \"parquet\"}}",
       "spec: data.format: expected"},
      {"{\"layers\": [{\"type\": \"dense\", \"units\": 8}], \"loss\": \"mse\", \"data\": "
       "{\"format\": \"mnist\", \"images\": \"x\"}}",
       "spec: data.labels: missing"},
      {"{\"layers\": [\n  {\"type\": \"dense\" \"units\": 8}]}", "invalid JSON at line 2"},
      {"[1, 2]", "expected an object"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    snprintf(args, sizeof args, "train '%s'", spec("bad.json", cases[i].text));
    CHECK_EQ(cli(args), 1);
    CHECK_STR_CONTAINS(g_out, cases[i].want);
  }
  /* A data file that does not exist (paths are relative to the spec's folder). */
  snprintf(args, sizeof args, "train '%s'",
           spec("nodata.json", "{\"layers\": [{\"type\": \"dense\", \"units\": 3}], \"loss\": "
                               "\"sparse_categorical_crossentropy\", \"data\": {\"format\": "
                               "\"csv\", \"path\": \"missing.csv\"}}"));
  CHECK_EQ(cli(args), 1);
  CHECK_STR_CONTAINS(g_out, "/missing.csv: cannot open");
  /* The last layer does not fit the targets: fit reports both shapes (no out-of-bounds read). */
  snprintf(args, sizeof args, "train '%s' --verbose 0",
           spec("mismatch.json", "{\"layers\": [{\"type\": \"dense\", \"units\": 8}], "
                                 "\"loss\": \"mse\", \"data\": {\"format\": \"sine\", "
                                 "\"train\": 10, \"test\": 5}}"));
  CHECK_EQ(cli(args), 1);
  CHECK_STR_CONTAINS(g_out, "y_true [10,1] does not match y_pred [10,8]");
  CHECK_EQ(cli("train /nonexistent/spec.json"), 1);
  CHECK_STR_CONTAINS(g_out, "cannot read the spec");
  /* Unused keys are reported (and training goes on); defaulted keys are listed. */
  snprintf(args, sizeof args, "train '%s'",
           spec("unused.json", "{" SINE_OK ", \"epocs\": 3, \"optimizer\": {\"type\": \"sgd\", "
                               "\"lr\": 0.1}}"));
  CHECK_EQ(cli(args), 0);
  CHECK_STR_CONTAINS(g_out, "unused keys (ignored): optimizer.lr, epocs");
  CHECK_STR_CONTAINS(g_out, "spec: defaulted:");
  CHECK_STR_CONTAINS(g_out, "batch_size=32");
  CHECK_STR_CONTAINS(last_line(), "test_loss=");
  teardown();
}

TC_TEST(cli_train_iris_csv) {
  if (no_json()) return;
  CHECK(setup());
  char text[2048], args[1024], ckpt[128];
  snprintf(text, sizeof text,
           "{\"name\": \"iris\", \"layers\": [{\"type\": \"dense\", \"units\": 16, "
           "\"activation\": \"relu\"}, {\"type\": \"dense\", \"units\": 3}],"
           " \"loss\": {\"type\": \"sparse_categorical_crossentropy\", \"from_logits\": true},"
           " \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.02}, \"metrics\": "
           "[\"accuracy\"], \"data\": {\"format\": \"csv\", \"path\": \"%s\", \"label\": -1, "
           "\"test_split\": 0.2, \"standardize\": true}, \"epochs\": 30, \"batch_size\": 16, "
           "\"seed\": 3}",
           tc_test_shared("data/datasets/sklearn/iris.csv"));
  snprintf(ckpt, sizeof ckpt, "%s/iris.tcc", g_dir);
  snprintf(args, sizeof args, "train '%s' --verbose 2 -o '%s'", spec("iris.json", text), ckpt);
  int rc = cli(args);
  CHECK_EQ(rc, 0);
  CHECK_STR_CONTAINS(g_out, "data: 120 training samples of [4], 30 test samples");
  CHECK_STR_CONTAINS(g_out, "Total params: 131");
  CHECK_STR_CONTAINS(g_out, "train_examples_per_sec=");
  CHECK_STR_CONTAINS(g_out, "peak_rss_mb=");
  const char *last = last_line();
  double acc = -1;
  CHECK_MSG(sscanf(last, "test_accuracy=%lf", &acc) == 1, "last line: '%s'", last);
  CHECK_MSG(acc > 0.8 && acc <= 1.0, "iris test accuracy %g", acc);
  CHECK(access(ckpt, F_OK) == 0);
  /* --epochs overrides the spec; the last line keeps its format. */
  snprintf(args, sizeof args, "train '%s' --verbose 0 --epochs 1 --threads 2",
           spec("iris.json", text));
  CHECK_EQ(cli(args), 0);
  CHECK(strncmp(last_line(), "test_accuracy=", 14) == 0);
  /* --seed overrides the spec's seed: the spec's own seed 3 and `--seed 3` on a spec saying 5
   * train identically; seed 4 trains differently. */
  char loss3[64], loss3b[64], loss4[64];
  const char *runs[3] = {"iris.json", "iris5.json", "iris.json"};
  const char *seeds[3] = {"", " --seed 3", " --seed 4"};
  char *outs[3] = {loss3, loss3b, loss4};
  char text5[2048];
  snprintf(text5, sizeof text5, "%s", text);
  char *sp = strstr(text5, "\"seed\": 3");
  CHECK(sp != NULL);
  if (sp) sp[8] = '5';
  spec("iris5.json", text5);
  for (int r = 0; r < 3; r++) {
    snprintf(args, sizeof args, "train '%s/%s' --verbose 0 --epochs 2%s", g_dir, runs[r], seeds[r]);
    CHECK_EQ(cli(args), 0);
    const char *tl = strstr(g_out, "train_loss=");
    CHECK(tl != NULL);
    snprintf(outs[r], 64, "%.30s", tl ? tl : "");
    char *nl = strchr(outs[r], '\n');
    if (nl) *nl = 0;
  }
  CHECK_MSG(strcmp(loss3, loss3b) == 0, "spec seed 3: '%s', --seed 3: '%s'", loss3, loss3b);
  CHECK_MSG(strcmp(loss3, loss4) != 0, "seed 3 and seed 4 both gave '%s'", loss3);
  snprintf(args, sizeof args, "train '%s' --seed -1", spec("iris.json", text));
  CHECK(cli(args) != 0);
  CHECK_STR_CONTAINS(g_out, "--seed");
  teardown();
}

TC_TEST(cli_train_mnist_data_override) {
  if (no_json()) return;
  CHECK(setup());
  char args[1024];
  const char *p = spec(
      "mnist.json",
      "{\"input_shape\": [28, 28, 1], \"layers\": [{\"type\": \"flatten\"}, {\"type\": "
      "\"dense\", \"units\": 10}], \"loss\": {\"type\": \"sparse_categorical_crossentropy\", "
      "\"from_logits\": true}, \"data\": {\"format\": \"mnist\", \"images\": "
      "\"nowhere/t10k-images-idx3-ubyte.gz\", \"labels\": \"nowhere/t10k-labels-idx1-ubyte.gz\", "
      "\"train\": {\"first\": 0, \"count\": 1000}, \"test\": {\"first\": 9000, \"count\": 500}}, "
      "\"epochs\": 2}");
  snprintf(args, sizeof args, "train '%s' --verbose 0", p);
  CHECK_EQ(cli(args), 1);
  CHECK_STR_CONTAINS(g_out, "nowhere/t10k-images-idx3-ubyte.gz: cannot open");
  snprintf(args, sizeof args, "train '%s' --verbose 0 --data '%s'", p,
           tc_test_shared("data/datasets/mnist"));
  CHECK_EQ(cli(args), 0);
  CHECK_STR_CONTAINS(g_out, "data: 1000 training samples of [28,28,1], 500 test samples");
  double acc = -1;
  CHECK(sscanf(last_line(), "test_accuracy=%lf", &acc) == 1);
  CHECK_MSG(acc > 0.7, "softmax regression on 1000 MNIST images: test accuracy %g", acc);
  teardown();
}
