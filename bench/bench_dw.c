/* bench_dw.c: per-operator timing of the channel-vectorised ops (DEPTHWISE_CONV_2D, pooling,
 * ADD/MUL, SOFTMAX, MEAN) of a .tflite model, optimised kernels against the reference kernels
 * (tc_interp_options.force_reference) in the same run, 1 and 2 threads. Uses only the public
 * API: each invoke is profiled (tc_interp_op_profile) and the per-invoke time of an operator is
 * the growth of its total_ns, so the table shows true medians. Never run as a test.
 *
 *   cc -O2 -std=c11 bench/bench_dw.c -Iinclude BUILD/libtensorc.a -lpthread -lm -o bench_dw
 *   ./bench_dw MODEL.tflite [runs (default 30)] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensorc_lite.h"

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static int wanted(const char *name) {
  static const char *ops[] = {"DEPTHWISE_CONV_2D", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD", "MUL",
                              "SOFTMAX", "MEAN"};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (!strcmp(name, ops[i])) return 1;
  return 0;
}

/* Runs `runs` profiled invokes; med[op] gets each operator's median time (ns), *total the median
 * of the whole invoke (sum of the ops), kernel[op] the variant name. Returns 0 on success. */
static int measure(const tc_model *m, int threads, int force_ref, int runs, int n_ops,
                   uint64_t *med, uint64_t *total, const char **kernel) {
  tc_interp_options o;
  memset(&o, 0, sizeof o);
  o.n_threads = threads;
  o.force_reference = force_ref;
  o.profile = 1;
  tc_interp *it = NULL;
  if (tc_interp_create(m, &o, &it) != TC_OK || tc_interp_prepare(it) != TC_OK) {
    fprintf(stderr, "bench_dw: %s\n", it ? tc_interp_errmsg(it) : "out of memory");
    tc_interp_destroy(it);
    return 1;
  }
  for (int i = 0; i < tc_interp_input_count(it); i++) { /* deterministic pseudo-random input */
    tc_tensor_info ti;
    tc_interp_tensor(it, tc_interp_input_index(it, i), &ti);
    unsigned char *buf = malloc(ti.size ? ti.size : 1);
    uint32_t s = 12345u + (uint32_t)i;
    for (size_t k = 0; k < ti.size; k++) s = s * 1103515245u + 12345u, buf[k] = (unsigned char)(s >> 16);
    if (ti.dtype == TC_DTYPE_F32)
      for (size_t k = 0; k + 4 <= ti.size; k += 4) {
        float f = (float)(buf[k] % 200) / 100.0f - 1.0f;
        memcpy(buf + k, &f, 4);
      }
    tc_interp_set_input(it, i, buf, ti.size);
    free(buf);
  }
  uint64_t *prev = calloc((size_t)n_ops, sizeof *prev);
  uint64_t *samples = calloc((size_t)n_ops * (size_t)runs, sizeof *samples);
  uint64_t *tot = calloc((size_t)runs, sizeof *tot);
  tc_interp_invoke(it); /* warm-up */
  for (int op = 0; op < n_ops; op++) {
    tc_op_profile pr;
    tc_interp_op_profile(it, op, &pr);
    prev[op] = pr.total_ns;
    kernel[op] = pr.kernel;
  }
  for (int r = 0; r < runs; r++) {
    tc_interp_invoke(it);
    for (int op = 0; op < n_ops; op++) {
      tc_op_profile pr;
      tc_interp_op_profile(it, op, &pr);
      samples[(size_t)op * runs + r] = pr.total_ns - prev[op];
      tot[r] += pr.total_ns - prev[op];
      prev[op] = pr.total_ns;
    }
  }
  for (int op = 0; op < n_ops; op++) {
    qsort(samples + (size_t)op * runs, (size_t)runs, sizeof *samples, cmp_u64);
    med[op] = samples[(size_t)op * runs + runs / 2];
  }
  qsort(tot, (size_t)runs, sizeof *tot, cmp_u64);
  *total = tot[runs / 2];
  free(prev), free(samples), free(tot);
  /* kernel names are static strings of the library; the interpreter can go */
  tc_interp_destroy(it);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: bench_dw MODEL.tflite [runs]\n");
    return 2;
  }
  int runs = argc > 2 ? atoi(argv[2]) : 30;
  if (runs < 1) runs = 1;
  tc_model *m = NULL;
  if (tc_model_load_file(argv[1], NULL, &m) != TC_OK) {
    fprintf(stderr, "bench_dw: %s\n", m ? tc_model_errmsg(m) : "cannot load");
    tc_model_destroy(m);
    return 1;
  }
  tc_interp *probe = NULL;
  if (tc_interp_create(m, NULL, &probe) != TC_OK) {
    fprintf(stderr, "bench_dw: %s\n", probe ? tc_interp_errmsg(probe) : "out of memory");
    tc_interp_destroy(probe);
    tc_model_destroy(m);
    return 1;
  }
  int n_ops = tc_interp_op_count(probe);
  const char **names = calloc((size_t)n_ops, sizeof *names);
  for (int op = 0; op < n_ops; op++) {
    tc_op_profile pr;
    tc_interp_op_profile(probe, op, &pr);
    names[op] = pr.name;
  }
  /* configurations: ref 1T, fast 1T, ref 2T, fast 2T */
  uint64_t *med[4], total[4];
  const char **kern[4];
  for (int k = 0; k < 4; k++) {
    med[k] = calloc((size_t)n_ops, sizeof(uint64_t));
    kern[k] = calloc((size_t)n_ops, sizeof(char *));
    if (measure(m, 1 + k / 2, k % 2 == 0, runs, n_ops, med[k], &total[k], kern[k])) return 1;
  }
  printf("model: %s, %d runs, medians in us (ref = force_reference)\n", argv[1], runs);
  printf("%4s  %-18s %-8s %10s %10s %8s %10s %10s %8s\n", "op", "name", "kernel", "ref 1T",
         "fast 1T", "speedup", "ref 2T", "fast 2T", "2T/1T");
  uint64_t sum[4] = {0, 0, 0, 0};
  for (int op = 0; op < n_ops; op++) {
    if (!wanted(names[op])) continue;
    for (int k = 0; k < 4; k++) sum[k] += med[k][op];
    printf("%4d  %-18s %-8s %10.1f %10.1f %7.1fx %10.1f %10.1f %7.2fx\n", op, names[op],
           kern[1][op] && kern[1][op][0] ? kern[1][op] : "-", med[0][op] / 1e3, med[1][op] / 1e3,
           med[1][op] ? (double)med[0][op] / (double)med[1][op] : 0.0, med[2][op] / 1e3,
           med[3][op] / 1e3, med[3][op] ? (double)med[1][op] / (double)med[3][op] : 0.0);
  }
  printf("%4s  %-27s %10.1f %10.1f %7.1fx %10.1f %10.1f %7.2fx\n", "", "these ops (sum of medians)",
         sum[0] / 1e3, sum[1] / 1e3, sum[1] ? (double)sum[0] / (double)sum[1] : 0.0, sum[2] / 1e3,
         sum[3] / 1e3, sum[3] ? (double)sum[1] / (double)sum[3] : 0.0);
  printf("%4s  %-27s %10.1f %10.1f %7.1fx %10.1f %10.1f %7.2fx\n", "", "whole invoke (median)",
         total[0] / 1e3, total[1] / 1e3, total[1] ? (double)total[0] / (double)total[1] : 0.0,
         total[2] / 1e3, total[3] / 1e3, total[3] ? (double)total[1] / (double)total[3] : 0.0);
  for (int k = 0; k < 4; k++) free(med[k]), free(kern[k]);
  free(names);
  tc_interp_destroy(probe);
  tc_model_destroy(m);
  return 0;
}
