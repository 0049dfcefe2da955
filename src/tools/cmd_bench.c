/* cmd_bench.c: `tensorc bench MODEL`: measures a model the way TFLite's benchmark_model does:
 * initialisation (load + create + prepare), the first inference, a few warm-up runs, then N
 * timed invocations on seeded random input, reporting count/min/median/mean/max, the arena the
 * interpreter used and the peak resident set size. `--json` adds one machine-readable line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void usage(FILE *f) {
  fputs("usage: tensorc bench MODEL [options]\n"
        "Times model initialisation and inference on seeded random input.\n"
        "options:\n"
        "  --runs N      timed invocations (default 50)\n"
        "  --warmup N    untimed invocations after the first one (default 1)\n"
        "  --threads N   worker threads (default 1)\n"
        "  --seed N      seed of the random input (default 1)\n"
        "  --json        also print one JSON line with every number (times in microseconds)\n",
        f);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Prints a JSON string literal (the model path) with the characters JSON requires escaped. */
static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') printf("\\%c", c);
    else if (c < 0x20) printf("\\u%04x", c);
    else putchar(c);
  }
  putchar('"');
}

int cmd_bench(int argc, char **argv) {
  const char *path = NULL, *v;
  long runs = 50, warmup = 1, threads = 1, seed = 1;
  int json = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (cli_is_help(a)) {
      usage(stdout);
      return CLI_OK;
    } else if (!strcmp(a, "--runs")) {
      if (!(v = cli_opt_value(argc, argv, &i)) || !cli_parse_long(v, 1, 100000000, "--runs", &runs))
        return CLI_USAGE;
    } else if (!strcmp(a, "--warmup")) {
      if (!(v = cli_opt_value(argc, argv, &i)) || !cli_parse_long(v, 0, 100000000, "--warmup", &warmup))
        return CLI_USAGE;
    } else if (!strcmp(a, "--threads")) {
      if (!(v = cli_opt_value(argc, argv, &i)) || !cli_parse_long(v, 1, 1024, "--threads", &threads))
        return CLI_USAGE;
    } else if (!strcmp(a, "--seed")) {
      if (!(v = cli_opt_value(argc, argv, &i)) || !cli_parse_long(v, 0, 0x7fffffff, "--seed", &seed))
        return CLI_USAGE;
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else if (a[0] == '-' && a[1]) {
      cli_err("bench: unknown option '%s' (see tensorc bench --help)", a);
      return CLI_USAGE;
    } else if (path) {
      cli_err("bench: only one MODEL may be given");
      return CLI_USAGE;
    } else {
      path = a;
    }
  }
  if (!path) {
    usage(stderr);
    return CLI_USAGE;
  }

  tc_model *m;
  tc_interp *it;
  tc_interp_options opts = {0};
  opts.n_threads = (int)threads;
  double t_init[3] = {0, 0, 0};
  double *times = NULL;
  int rc = cli_open(path, &opts, &m, &it, t_init);
  if (rc != CLI_OK) goto out;
  rc = CLI_FAIL;
  uint64_t state = (uint64_t)seed;
  for (int i = 0; i < tc_interp_input_count(it); i++) {
    tc_tensor_info t;
    if (tc_interp_tensor(it, tc_interp_input_index(it, i), &t) != TC_OK) goto out;
    void *buf = calloc(1, t.size ? t.size : 1);
    if (!buf) goto out;
    cli_fill_random(buf, t.dtype, cli_elem_count(&t), &state);
    tc_status s = tc_interp_set_input(it, i, buf, t.size);
    free(buf);
    if (s != TC_OK) {
      cli_err("input %d: %s: %s", i, tc_status_str(s), tc_interp_errmsg(it));
      goto out;
    }
  }
  times = malloc(sizeof(double) * (size_t)runs);
  if (!times) goto out;
  double t0 = cli_now_us();
  tc_status s = tc_interp_invoke(it);
  double first = cli_now_us() - t0;
  for (long r = 0; s == TC_OK && r < warmup; r++) s = tc_interp_invoke(it);
  for (long r = 0; s == TC_OK && r < runs; r++) {
    t0 = cli_now_us();
    s = tc_interp_invoke(it);
    times[r] = cli_now_us() - t0;
  }
  if (s != TC_OK) {
    cli_err("invoke failed: %s: %s", tc_status_str(s), tc_interp_errmsg(it));
    goto out;
  }
  double sum = 0;
  for (long r = 0; r < runs; r++) sum += times[r];
  qsort(times, (size_t)runs, sizeof *times, cmp_double);
  double mn = times[0], mx = times[runs - 1], mean = sum / (double)runs;
  double med = runs % 2 ? times[runs / 2] : 0.5 * (times[runs / 2 - 1] + times[runs / 2]);
  double init = t_init[0] + t_init[1] + t_init[2];
  size_t arena = tc_interp_arena_used(it), act = tc_interp_activations_size(it);
  long rss = cli_peak_rss_kib();

  printf("model: %s\n", path);
  printf("threads: %ld\n", threads);
  printf("init: %.3f ms (load %.3f, create %.3f, prepare %.3f)\n", init / 1e3, t_init[0] / 1e3,
         t_init[1] / 1e3, t_init[2] / 1e3);
  printf("first inference: %.3f ms\n", first / 1e3);
  printf("warmup runs: %ld\n", warmup);
  printf("inference (ms): count=%ld min=%.3f median=%.3f mean=%.3f max=%.3f\n", runs, mn / 1e3,
         med / 1e3, mean / 1e3, mx / 1e3);
  printf("arena: %zu bytes (%.1f KiB), activations %zu bytes (%.1f KiB)\n", arena,
         (double)arena / 1024.0, act, (double)act / 1024.0);
  printf("peak RSS: %.1f MiB\n", (double)rss / 1024.0);
  if (json) {
    printf("{\"model\":");
    json_str(path);
    printf(",\"threads\":%ld,\"init_us\":%.1f,\"first_us\":%.1f,\"warmup\":%ld,\"count\":%ld,"
           "\"min_us\":%.1f,\"median_us\":%.1f,\"mean_us\":%.1f,\"max_us\":%.1f,"
           "\"arena_bytes\":%zu,\"activations_bytes\":%zu,\"peak_rss_kib\":%ld}\n",
           threads, init, first, warmup, runs, mn, med, mean, mx, arena, act, rss);
  }
  rc = CLI_OK;
out:
  free(times);
  tc_interp_destroy(it);
  tc_model_destroy(m);
  return rc;
}
