/* planner.h: lays out buffers with known lifetimes in one region (internal). */
#ifndef TC_LITE_PLANNER_H
#define TC_LITE_PLANNER_H
#include <stddef.h>
#include <stdint.h>

typedef struct tc__plan_buf {
  size_t size;      /* bytes (0: not placed) */
  int32_t first_op; /* first operator during which the buffer must hold its data */
  int32_t last_op;  /* last such operator (inclusive) */
  size_t offset;    /* result */
} tc__plan_buf;

/* Greedy first-fit by decreasing size (the TFLM scheme):
 *   1. order the buffers by size, largest first (ties: earlier first_op first);
 *   2. for each, collect the already placed buffers whose lifetimes intersect its own, sorted
 *      by offset, and take the lowest gap between them (or after the last) that fits it;
 *   3. the plan's size is the highest end offset.
 * Offsets are multiples of `align` (a power of two). `order` is caller scratch of n entries.
 * It does not guarantee the optimal size (the problem is NP-hard), only that buffers alive at
 * the same time never share bytes. Returns the total size. */
size_t tc__plan(tc__plan_buf *bufs, size_t n, size_t align, int32_t *order);

/* 1 if two buffers with intersecting lifetimes share bytes. */
int tc__plan_overlaps(const tc__plan_buf *bufs, size_t n);
#endif
