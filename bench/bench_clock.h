/* bench_clock.h: the clock and sort helper the benchmark programs share (header only, one
 * copy per program). bench_cpu_time = 1 makes bench_now() read the calling thread's CPU time,
 * which discounts time stolen by other jobs on a shared machine (meaningful for one thread
 * only); otherwise it is CLOCK_MONOTONIC wall time. */
#ifndef TC_BENCH_CLOCK_H
#define TC_BENCH_CLOCK_H

#include <time.h>

static int bench_cpu_time;

/* Seconds on the chosen clock. */
static inline double bench_now(void) {
  struct timespec ts;
  clock_gettime(bench_cpu_time ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* qsort comparator for doubles, ascending. */
static inline int bench_cmp_d(const void *a, const void *b) {
  const double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

#endif /* TC_BENCH_CLOCK_H */
