/* main.c: the single test runner. `tc-test` runs everything; `tc-test model_ golden_` runs the
 * tests whose names start with any of the given prefixes. Exit status 0 only if all passed and
 * at least one test ran. */
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

#include "tc_test.h"

typedef struct {
  const char *name, *file;
  tc_test_fn fn;
} test_entry;

static test_entry g_tests[1024];
static int g_n_tests;
static int g_failed_checks;
int tc_test_checks;

void tc_test_register(const char *name, tc_test_fn fn, const char *file) {
  if (g_n_tests < (int)(sizeof g_tests / sizeof g_tests[0]))
    g_tests[g_n_tests++] = (test_entry){name, file, fn};
}

void tc_test_fail(const char *file, int line, const char *fmt, ...) {
  va_list ap;
  if (++g_failed_checks > 50) return; /* keep logs readable */
  fprintf(stderr, "  FAIL %s:%d: ", file, line);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

const char *tc_test_shared(const char *rel) {
  static char bufs[8][1024];
  static int k;
  const char *root = getenv("TC_SHARED_DIR");
  if (!root) root = TC_SHARED_DIR;
  char *b = bufs[k++ & 7];
  snprintf(b, sizeof bufs[0], "%s/%s", root, rel);
  return b;
}

#ifndef TC_CLI_PATH
#define TC_CLI_PATH "tensorc"
#endif

int tc_test_cli(const char *args, char *out, size_t size) {
  char cmd[4096];
  snprintf(cmd, sizeof cmd, "'%s' %s 2>&1", TC_CLI_PATH, args);
  FILE *p = popen(cmd, "r");
  out[0] = 0;
  if (!p) return -1;
  size_t n = fread(out, 1, size - 1, p);
  out[n] = 0;
  while (fread(cmd, 1, sizeof cmd, p) > 0) {
  }
  int st = pclose(p);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void *tc_test_read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *p = malloc(n > 0 ? (size_t)n : 1);
  if (p && n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) {
    free(p);
    p = NULL;
  }
  fclose(f);
  if (p && size) *size = (size_t)n;
  return p;
}

static int cmp_entry(const void *a, const void *b) {
  return strcmp(((const test_entry *)a)->name, ((const test_entry *)b)->name);
}

int main(int argc, char **argv) {
  int ran = 0, failed = 0;
  qsort(g_tests, (size_t)g_n_tests, sizeof g_tests[0], cmp_entry);
  for (int i = 0; i < g_n_tests; i++) {
    int match = argc < 2;
    for (int a = 1; a < argc && !match; a++)
      match = strncmp(g_tests[i].name, argv[a], strlen(argv[a])) == 0;
    if (!match) continue;
    int before = g_failed_checks;
    clock_t t0 = clock();
    g_tests[i].fn();
    double ms = (double)(clock() - t0) * 1000.0 / CLOCKS_PER_SEC;
    ran++;
    if (g_failed_checks != before) {
      failed++;
      fprintf(stderr, "[FAIL] %s (%s)\n", g_tests[i].name, g_tests[i].file);
    } else {
      fprintf(stderr, "[ ok ] %s (%.0f ms)\n", g_tests[i].name, ms);
    }
  }
  fprintf(stderr, "%d tests, %d failed, %d checks\n", ran, failed, tc_test_checks);
  return (ran == 0 || failed) ? 1 : 0;
}
