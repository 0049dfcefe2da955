/* tc_test.h: the tiny test harness. A test is `TC_TEST(area_name) { ... }`; it registers itself
 * once (at load time) and the single runner `tc-test [prefix...]` runs every test whose name
 * starts with one of the prefixes. Checks report file:line and keep going; a test fails if any
 * check failed. Test names start with their ctest area: core_, flatbuf_, model_, planner_,
 * interp_, kernel_, golden_, robust_, cli_, api_. */
#ifndef TC_TEST_H
#define TC_TEST_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*tc_test_fn)(void);
void tc_test_register(const char *name, tc_test_fn fn, const char *file);
void tc_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
extern int tc_test_checks;

#define TC_TEST(name)                                                                      \
  static void name(void);                                                                  \
  __attribute__((constructor)) static void name##__reg(void) {                             \
    tc_test_register(#name, name, __FILE__);                                               \
  }                                                                                        \
  static void name(void)

#define CHECK(cond)                                                                        \
  do {                                                                                     \
    tc_test_checks++;                                                                      \
    if (!(cond)) tc_test_fail(__FILE__, __LINE__, "CHECK(%s)", #cond);                     \
  } while (0)

#define CHECK_MSG(cond, ...)                                                               \
  do {                                                                                     \
    tc_test_checks++;                                                                      \
    if (!(cond)) tc_test_fail(__FILE__, __LINE__, __VA_ARGS__);                            \
  } while (0)

#define CHECK_EQ(a, b)                                                                     \
  do {                                                                                     \
    long long a_ = (long long)(a), b_ = (long long)(b);                                    \
    tc_test_checks++;                                                                      \
    if (a_ != b_) tc_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, a_, b_); \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                              \
  do {                                                                                     \
    double a_ = (double)(a), b_ = (double)(b);                                             \
    tc_test_checks++;                                                                      \
    if (!(fabs(a_ - b_) <= (tol)))                                                         \
      tc_test_fail(__FILE__, __LINE__, "%s ~= %s: %.9g vs %.9g (tol %g)", #a, #b, a_, b_,  \
                   (double)(tol));                                                         \
  } while (0)

#define CHECK_STR_CONTAINS(hay, needle)                                                    \
  do {                                                                                     \
    const char *h_ = (hay);                                                                \
    tc_test_checks++;                                                                      \
    if (!h_ || !strstr(h_, (needle)))                                                      \
      tc_test_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"", h_ ? h_ : "(null)", \
                   (needle));                                                              \
  } while (0)

/* Path under the shared models/data folder (../shared by default); static buffer rotation. */
const char *tc_test_shared(const char *rel);
/* Reads a whole file; returns NULL if missing. Caller frees. */
void *tc_test_read_file(const char *path, size_t *size);
/* Runs `tensorc <args>` (the built CLI, TC_CLI_PATH) through popen with stderr folded into
 * stdout; the first size - 1 bytes of the output go to out (NUL-terminated), the rest is read
 * and dropped. Returns the exit status, -1 if it did not exit normally. */
int tc_test_cli(const char *args, char *out, size_t size);

#endif
