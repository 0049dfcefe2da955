/* test_bench_cli.c: end-to-end tests of `tensorc bench --profile` and of the --threads option of
 * `tensorc run` / `tensorc bench`. The built binary (TC_CLI_PATH) runs through popen; the
 * per-op table is parsed row by row and checked against the model's operator count, and every
 * CONV_2D row must report modelled work and a nonzero achieved GFLOP/s. No timing is asserted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "tc_test.h"
#include "tensorc_lite.h"

static char g_bout[1 << 17];

/* Runs `tensorc <args>` with stderr folded into stdout; returns the exit status (-1 if it did not
 * exit normally). The output is left in g_bout. */
static int bench_cli(const char *args) { return tc_test_cli(args, g_bout, sizeof g_bout); }

#define RESNET_F "models/mlperf_tiny/ic_resnet8_float.tflite"
#define RESNET_Q "models/mlperf_tiny/ic_resnet8_int8.tflite"
#define HELLO_F "models/tflm/hello_world_float.tflite"

static int model_op_count(const char *rel) {
  tc_model *m = NULL;
  int n = -1;
  tc_subgraph_info info;
  if (tc_model_load_file(tc_test_shared(rel), NULL, &m) == TC_OK &&
      tc_model_subgraph_info(m, 0, &info) == TC_OK)
    n = info.n_operators;
  tc_model_destroy(m);
  return n;
}

/* Parses the rows of the per-op table in g_bout. For each row k (which must come in order
 * 0, 1, ...) stores the name and the last two numeric columns (work, G(FL)OP/s; -1 for "-").
 * Returns the number of rows. */
typedef struct prow {
  char name[64];
  double work, gops, median;
} prow;

static int parse_profile(prow *rows, int cap) {
  const char *p = strstr(g_bout, "per-op profile");
  if (!p) return 0;
  p = strchr(p, '\n'); /* title */
  if (p) p = strchr(p + 1, '\n'); /* header */
  int n = 0;
  while (p && *++p) {
    int idx;
    char name[64], kernel[64], med[32], mean[32], pct[32], work[32], gops[32];
    if (sscanf(p, "%d %63s %63s %31s %31s %31s %31s %31s", &idx, name, kernel, med, mean, pct,
               work, gops) != 8 ||
        idx != n || n >= cap)
      break;
    snprintf(rows[n].name, sizeof rows[n].name, "%s", name);
    rows[n].median = strcmp(med, "folded") ? atof(med) : -1;
    rows[n].work = strcmp(work, "-") ? atof(work) : -1;
    rows[n].gops = strcmp(gops, "-") ? atof(gops) : -1;
    n++;
    p = strchr(p, '\n');
  }
  return n;
}

TC_TEST(cli_bench_profile_resnet8_float) {
  int n_ops = model_op_count(RESNET_F);
  CHECK(n_ops > 10);
  char args[1024];
  snprintf(args, sizeof args, "bench '%s' --profile --runs 3 --warmup 0", tc_test_shared(RESNET_F));
  CHECK_EQ(bench_cli(args), 0);
  CHECK_STR_CONTAINS(g_bout, "per-op profile (float model");
  CHECK_STR_CONTAINS(g_bout, "GFLOP/s");
  CHECK_STR_CONTAINS(g_bout, "total (sum of ops)");
  CHECK_STR_CONTAINS(g_bout, "heaviest ops: op ");
  static prow rows[256];
  int n = parse_profile(rows, 256);
  CHECK_EQ(n, n_ops);
  int convs = 0;
  for (int k = 0; k < n; k++) {
    if (strcmp(rows[k].name, "CONV_2D") != 0) continue;
    convs++;
    CHECK_MSG(rows[k].median > 0, "op %d CONV_2D median %g", k, rows[k].median);
    /* ic_resnet8's convs do at least 0.26 MFLOP each (1x1 16->32 on 16x16... 8x8 outputs) */
    CHECK_MSG(rows[k].work >= 0.2, "op %d CONV_2D work %g MFLOP", k, rows[k].work);
    CHECK_MSG(rows[k].gops > 0, "op %d CONV_2D %g GFLOP/s", k, rows[k].gops);
  }
  CHECK_EQ(convs, 9);
  /* The first conv: 32x32x16 outputs of a 3x3x3 filter = 2 * 16384 * 27 FLOPs = 0.885 MFLOP. */
  CHECK_EQ(strcmp(rows[0].name, "CONV_2D"), 0);
  CHECK_NEAR(rows[0].work, 2.0 * 32 * 32 * 16 * 27 / 1e6, 0.001);
  /* Ops without a FLOP model (ADD, SOFTMAX) print "-". */
  CHECK_EQ(strcmp(rows[n - 1].name, "SOFTMAX"), 0);
  CHECK(rows[n - 1].gops < 0);
}

TC_TEST(cli_bench_profile_json_and_integer) {
  char args[1024];
  snprintf(args, sizeof args, "bench '%s' --profile --json --runs 2 --warmup 0 --peak 100",
           tc_test_shared(RESNET_F));
  CHECK_EQ(bench_cli(args), 0);
  CHECK_STR_CONTAINS(g_bout, "%peak");
  CHECK_STR_CONTAINS(g_bout, "\"integer\":0,\"ops\":[{\"op\":0,\"name\":\"CONV_2D\",\"kernel\":");
  CHECK_STR_CONTAINS(g_bout, "\"flops\":884736}");
  /* An int8 model counts integer operations. */
  snprintf(args, sizeof args, "bench '%s' --profile --runs 2 --warmup 0", tc_test_shared(RESNET_Q));
  CHECK_EQ(bench_cli(args), 0);
  CHECK_STR_CONTAINS(g_bout, "per-op profile (integer model");
  CHECK_STR_CONTAINS(g_bout, "GOP/s");
  static prow rows[256];
  int n = parse_profile(rows, 256);
  CHECK_EQ(n, model_op_count(RESNET_Q));
  for (int k = 0; k < n; k++)
    if (!strcmp(rows[k].name, "CONV_2D")) CHECK_MSG(rows[k].gops > 0, "int8 op %d", k);
  /* --peak only makes sense with --profile. */
  snprintf(args, sizeof args, "bench '%s' --peak 100", tc_test_shared(HELLO_F));
  CHECK_EQ(bench_cli(args), 2);
  CHECK_STR_CONTAINS(g_bout, "--peak needs --profile");
}

TC_TEST(cli_bench_threads_option) {
  char args[1024];
  snprintf(args, sizeof args, "bench '%s' --threads 2 --runs 2 --json", tc_test_shared(RESNET_F));
  CHECK_EQ(bench_cli(args), 0);
  CHECK_STR_CONTAINS(g_bout, "threads: 2\n");
  CHECK_STR_CONTAINS(g_bout, "\"threads\":2,");
  snprintf(args, sizeof args, "run '%s' --threads 2 --seed 3", tc_test_shared(RESNET_F));
  CHECK_EQ(bench_cli(args), 0);
  CHECK_STR_CONTAINS(g_bout, "output 0:");
  /* 2 threads give the same outputs as 1 (the seeded input is the same). */
  static char two[sizeof g_bout];
  memcpy(two, g_bout, sizeof g_bout);
  snprintf(args, sizeof args, "run '%s' --threads 1 --seed 3", tc_test_shared(RESNET_F));
  CHECK_EQ(bench_cli(args), 0);
  CHECK(strstr(two, "output 0:") && strcmp(strstr(two, "output 0:"), strstr(g_bout, "output 0:")) == 0);
  /* Bad values are rejected with a usage error naming the option. */
  const char *bad[] = {"0", "-1", "abc", "2x", "100000"};
  const char *verbs[] = {"bench", "run"};
  for (int v = 0; v < 2; v++) {
    for (int i = 0; i < 5; i++) {
      snprintf(args, sizeof args, "%s '%s' --threads %s", verbs[v], tc_test_shared(HELLO_F), bad[i]);
      CHECK_MSG(bench_cli(args) == 2, "%s --threads %s accepted", verbs[v], bad[i]);
      CHECK_STR_CONTAINS(g_bout, "--threads");
    }
    snprintf(args, sizeof args, "%s '%s' --threads", verbs[v], tc_test_shared(HELLO_F));
    CHECK_EQ(bench_cli(args), 2);
    CHECK_STR_CONTAINS(g_bout, "needs a value");
  }
}
