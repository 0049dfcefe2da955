/* cmd_bench.c: `tensorc bench MODEL`: measures a model the way TFLite's benchmark_model does:
 * initialisation (load + create + prepare), the first inference, a few warm-up runs, then N
 * timed invocations on seeded random input, reporting count/min/median/mean/max, the arena the
 * interpreter used and the peak resident set size. `--json` adds one machine-readable line.
 * `--profile` also times every operator (tc_interp_options.profile) and prints a per-op table:
 * kernel variant, median and mean time per invoke, share of the total, modelled FLOPs and the
 * achieved GFLOP/s (GOP/s for integer models). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void usage(FILE *f) {
  fputs("usage: tensorc bench MODEL [INPUT.bin...] [options]\n"
        "Times model initialisation and inference on seeded random input, or on the raw\n"
        "tensor bytes of INPUT.bin files (one per model input, in order, exactly the tensor's\n"
        "byte size; inputs without a file get random data).\n"
        "options:\n"
        "  --runs N      timed invocations (default 50)\n"
        "  --warmup N    untimed invocations after the first one (default 1)\n"
        "  --threads N   worker threads (default 1)\n"
        "  --seed N      seed of the random input (default 1)\n"
        "  --profile     also time every operator and print a table: op index, name, kernel\n"
        "                variant, median and mean time per invoke (us), % of the summed op\n"
        "                medians, modelled work per invoke (MFLOP, multiply-add = 2; MOP for\n"
        "                integer models) and the achieved GFLOP/s (GOP/s) at the median\n"
        "  --peak G      with --profile: add a column with each op's GFLOP/s as % of G\n"
        "  --json        also print one JSON line with every number (times in microseconds;\n"
        "                with --profile an \"ops\" array)\n",
        f);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median of n values (sorts them in place). */
static double median(double *v, long n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Prints a JSON string literal with the characters JSON requires escaped. */
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

/* Reads a raw tensor file of exactly t->size bytes into buf; prints the reason and returns
 * non-zero otherwise. */
static int read_raw(const char *path, const tc_tensor_info *t, void *buf) {
  FILE *fp = fopen(path, "rb");
  if (!fp) {
    cli_err("bench: cannot open input '%s'", path);
    return 1;
  }
  size_t n = t->size ? fread(buf, 1, t->size, fp) : 0;
  int extra = fgetc(fp) != EOF;
  fclose(fp);
  if (n != t->size || extra) {
    cli_err("bench: input '%s': tensor '%s' needs exactly %zu bytes", path, t->name, t->size);
    return 1;
  }
  return 0;
}

/* 1 if the model computes in integers: some activation (non-constant) tensor is a quantized
 * 8- or 16-bit integer. Its FLOP counts are then integer operations (GOP/s). */
static int integer_model(const tc_interp *it) {
  int n = tc_interp_tensor_count(it);
  for (int i = 0; i < n; i++) {
    tc_tensor_info t;
    if (tc_interp_tensor(it, i, &t) != TC_OK || t.is_constant || t.n_scales == 0) continue;
    if (t.dtype == TC_DTYPE_I8 || t.dtype == TC_DTYPE_U8 || t.dtype == TC_DTYPE_I16) return 1;
  }
  return 0;
}

/* Per-operator results of a profiled benchmark. */
typedef struct op_row {
  tc_op_profile p;
  double med_us, mean_us; /* per invoke; < 0: the op never ran (folded at prepare) */
} op_row;

/* Reads each op's cumulative time after one invoke and stores the difference to the previous
 * reading in samples[op * runs + r]. */
static int profile_sample(const tc_interp *it, int n_ops, uint64_t *last, double *samples,
                          long runs, long r) {
  for (int k = 0; k < n_ops; k++) {
    tc_op_profile p;
    if (tc_interp_op_profile(it, k, &p) != TC_OK) return 0;
    samples[(size_t)k * (size_t)runs + (size_t)r] = (double)(p.total_ns - last[k]) / 1e3;
    last[k] = p.total_ns;
  }
  return 1;
}

static void print_profile(const op_row *rows, int n_ops, int integer, double peak) {
  const char *unit = integer ? "GOP/s" : "GFLOP/s", *work = integer ? "MOP" : "MFLOP";
  double total = 0, total_flops = 0;
  size_t wk = 6;
  for (int k = 0; k < n_ops; k++) {
    if (rows[k].med_us > 0) total += rows[k].med_us;
    total_flops += rows[k].p.flops;
    size_t l = strlen(rows[k].p.kernel);
    if (l > wk) wk = l;
  }
  printf("\nper-op profile (%s; times per invoke):\n", integer ? "integer model" : "float model");
  printf("%4s  %-24s %-*s %10s %10s %6s %9s %8s", "op", "name", (int)wk, "kernel", "median us",
         "mean us", "%", work, unit);
  if (peak > 0) printf(" %6s", "%peak");
  putchar('\n');
  for (int k = 0; k < n_ops; k++) {
    const op_row *o = &rows[k];
    printf("%4d  %-24s %-*s ", k, o->p.name, (int)wk, o->p.kernel[0] ? o->p.kernel : "-");
    if (o->med_us < 0) {
      printf("%10s %10s %6s %9s %8s\n", "folded", "-", "-", "-", "-");
      continue;
    }
    printf("%10.1f %10.1f %6.1f ", o->med_us, o->mean_us, total > 0 ? 100.0 * o->med_us / total : 0);
    if (o->p.flops > 0) {
      double g = o->med_us > 0 ? o->p.flops / (o->med_us * 1e3) : 0;
      printf("%9.3f %8.2f", o->p.flops / 1e6, g);
      if (peak > 0) printf(" %6.1f", 100.0 * g / peak);
    } else {
      printf("%9s %8s", "-", "-");
    }
    putchar('\n');
  }
  printf("%4s  %-24s %-*s %10.1f %10s %6s %9.3f %8.2f\n", "", "total (sum of ops)", (int)wk, "",
         total, "", "100.0", total_flops / 1e6, total > 0 ? total_flops / (total * 1e3) : 0);
  /* The heaviest three, where the time goes. */
  int top[3] = {-1, -1, -1};
  for (int k = 0; k < n_ops; k++) {
    double t = rows[k].med_us;
    for (int j = 0; j < 3; j++) {
      if (top[j] < 0 || t > rows[top[j]].med_us) {
        for (int m = 2; m > j; m--) top[m] = top[m - 1];
        top[j] = k;
        break;
      }
    }
  }
  printf("heaviest ops:");
  for (int j = 0; j < 3 && top[j] >= 0 && rows[top[j]].med_us > 0; j++) {
    const op_row *o = &rows[top[j]];
    printf("%s op %d %s %.1f us (%.1f%%)", j ? "," : "", top[j], o->p.name, o->med_us,
           total > 0 ? 100.0 * o->med_us / total : 0);
    if (o->p.flops > 0) printf(" %.2f %s", o->p.flops / (o->med_us * 1e3), unit);
  }
  putchar('\n');
}

int cmd_bench(int argc, char **argv) {
  const char *path = NULL, *v;
  long runs = 50, warmup = 1, threads = 1, seed = 1, peak = 0;
  int json = 0, profile = 0, n_files = 0;
  const char *files[64];
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
    } else if (!strcmp(a, "--peak")) {
      if (!(v = cli_opt_value(argc, argv, &i)) || !cli_parse_long(v, 1, 1000000, "--peak", &peak))
        return CLI_USAGE;
    } else if (!strcmp(a, "--profile")) {
      profile = 1;
    } else if (!strcmp(a, "--json")) {
      json = 1;
    } else if (a[0] == '-' && a[1]) {
      cli_err("bench: unknown option '%s' (see tensorc bench --help)", a);
      return CLI_USAGE;
    } else if (!path) {
      path = a;
    } else if (n_files < (int)(sizeof files / sizeof *files)) {
      files[n_files++] = a;
    } else {
      cli_err("bench: too many INPUT files");
      return CLI_USAGE;
    }
  }
  if (!path) {
    usage(stderr);
    return CLI_USAGE;
  }
  if (peak && !profile) {
    cli_err("bench: --peak needs --profile");
    return CLI_USAGE;
  }

  tc_model *m;
  tc_interp *it;
  tc_interp_options opts = {0};
  opts.n_threads = (int)threads;
  opts.profile = profile;
  double t_init[3] = {0, 0, 0};
  double *times = NULL, *samples = NULL;
  uint64_t *last = NULL;
  op_row *rows = NULL;
  int n_ops = 0;
  int rc = cli_open(path, &opts, &m, &it, t_init);
  if (rc != CLI_OK) goto out;
  rc = CLI_FAIL;
  if (n_files > tc_interp_input_count(it)) {
    cli_err("bench: %d INPUT files given, the model has %d inputs", n_files,
            tc_interp_input_count(it));
    rc = CLI_USAGE;
    goto out;
  }
  uint64_t state = (uint64_t)seed;
  for (int i = 0; i < tc_interp_input_count(it); i++) {
    tc_tensor_info t;
    if (tc_interp_tensor(it, tc_interp_input_index(it, i), &t) != TC_OK) goto out;
    void *buf = calloc(1, t.size ? t.size : 1);
    if (!buf) goto out;
    if (i < n_files) {
      if (read_raw(files[i], &t, buf)) {
        free(buf);
        goto out;
      }
    } else {
      cli_fill_random(buf, t.dtype, cli_elem_count(&t), &state);
    }
    tc_status s = tc_interp_set_input(it, i, buf, t.size);
    free(buf);
    if (s != TC_OK) {
      cli_err("input %d: %s: %s", i, tc_status_str(s), tc_interp_errmsg(it));
      goto out;
    }
  }
  times = malloc(sizeof(double) * (size_t)runs);
  if (!times) goto out;
  if (profile) {
    n_ops = tc_interp_op_count(it);
    if ((double)n_ops * (double)runs > 1e8) {
      cli_err("bench: --profile keeps every op's time of every run: use fewer --runs");
      rc = CLI_USAGE;
      goto out;
    }
    samples = malloc(sizeof(double) * (size_t)(n_ops ? n_ops : 1) * (size_t)runs);
    last = calloc((size_t)(n_ops ? n_ops : 1), sizeof *last);
    rows = calloc((size_t)(n_ops ? n_ops : 1), sizeof *rows);
    if (!samples || !last || !rows) {
      cli_err("bench: out of memory for the profile");
      goto out;
    }
  }
  double t0 = cli_now_us();
  tc_status s = tc_interp_invoke(it);
  double first = cli_now_us() - t0;
  for (long r = 0; s == TC_OK && r < warmup; r++) s = tc_interp_invoke(it);
  if (profile && s == TC_OK && !profile_sample(it, n_ops, last, samples, runs, 0)) goto out;
  for (long r = 0; s == TC_OK && r < runs; r++) {
    t0 = cli_now_us();
    s = tc_interp_invoke(it);
    times[r] = cli_now_us() - t0;
    if (profile && s == TC_OK && !profile_sample(it, n_ops, last, samples, runs, r)) goto out;
  }
  if (s != TC_OK) {
    cli_err("invoke failed: %s: %s", tc_status_str(s), tc_interp_errmsg(it));
    goto out;
  }
  double sum = 0;
  for (long r = 0; r < runs; r++) sum += times[r];
  qsort(times, (size_t)runs, sizeof *times, cmp_double);
  double mn = times[0], mx = times[runs - 1], mean = sum / (double)runs;
  double med = median(times, runs);
  double init = t_init[0] + t_init[1] + t_init[2];
  size_t arena = tc_interp_arena_used(it), act = tc_interp_activations_size(it);
  long rss = cli_peak_rss_kib();
  int integer = profile ? integer_model(it) : 0;
  for (int k = 0; k < n_ops; k++) {
    op_row *o = &rows[k];
    if (tc_interp_op_profile(it, k, &o->p) != TC_OK) goto out;
    if (!o->p.kernel) o->p.kernel = "";
    if (o->p.count == 0) {
      o->med_us = o->mean_us = -1;
      continue;
    }
    double *vals = samples + (size_t)k * (size_t)runs, ssum = 0;
    for (long r = 0; r < runs; r++) ssum += vals[r];
    o->mean_us = ssum / (double)runs;
    o->med_us = median(vals, runs);
  }

  printf("model: %s\n", path);
  printf("threads: %ld\n", threads);
  printf("init: %.3f ms (load %.3f, create %.3f, prepare %.3f)\n", init / 1e3, t_init[0] / 1e3,
         t_init[1] / 1e3, t_init[2] / 1e3);
  printf("first inference: %.3f ms\n", first / 1e3);
  printf("warmup runs: %ld\n", warmup);
  printf("inference (ms): count=%ld min=%.3f median=%.3f mean=%.3f max=%.3f%s\n", runs, mn / 1e3,
         med / 1e3, mean / 1e3, mx / 1e3, profile ? " (profiled: includes the per-op clock reads)" : "");
  printf("arena: %zu bytes (%.1f KiB), activations %zu bytes (%.1f KiB)\n", arena,
         (double)arena / 1024.0, act, (double)act / 1024.0);
  printf("peak RSS: %.1f MiB\n", (double)rss / 1024.0);
  if (profile) print_profile(rows, n_ops, integer, (double)peak);
  if (json) {
    printf("{\"model\":");
    json_str(path);
    printf(",\"threads\":%ld,\"init_us\":%.1f,\"first_us\":%.1f,\"warmup\":%ld,\"count\":%ld,"
           "\"min_us\":%.1f,\"median_us\":%.1f,\"mean_us\":%.1f,\"max_us\":%.1f,"
           "\"arena_bytes\":%zu,\"activations_bytes\":%zu,\"peak_rss_kib\":%ld",
           threads, init, first, warmup, runs, mn, med, mean, mx, arena, act, rss);
    if (profile) {
      printf(",\"integer\":%d,\"ops\":[", integer);
      for (int k = 0; k < n_ops; k++) {
        const op_row *o = &rows[k];
        printf("%s{\"op\":%d,\"name\":", k ? "," : "", k);
        json_str(o->p.name);
        printf(",\"kernel\":");
        json_str(o->p.kernel);
        if (o->med_us < 0) printf(",\"folded\":true");
        else printf(",\"median_us\":%.2f,\"mean_us\":%.2f", o->med_us, o->mean_us);
        printf(",\"flops\":%.0f}", o->p.flops);
      }
      putchar(']');
    }
    printf("}\n");
  }
  rc = CLI_OK;
out:
  free(times);
  free(samples);
  free(last);
  free(rows);
  tc_interp_destroy(it);
  tc_model_destroy(m);
  return rc;
}
