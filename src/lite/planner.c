/* planner.c: the activation memory planner (see planner.h for the algorithm). O(n^2) in the
 * number of buffers, which is fine for the few hundred tensors of real models. No allocation:
 * the caller passes the order array so the micro profile can run it from its arena. */
#include "lite/planner.h"

#include "core/core.h"

static int lifetimes_meet(const tc__plan_buf *a, const tc__plan_buf *b) {
  return a->first_op <= b->last_op && b->first_op <= a->last_op;
}

size_t tc__plan(tc__plan_buf *bufs, size_t n, size_t align, int32_t *order) {
  size_t n_order = 0, total = 0;
  for (size_t i = 0; i < n; i++)
    if (bufs[i].size > 0) order[n_order++] = (int32_t)i;
  /* Insertion sort: largest first, then earliest first_op, then index (deterministic). */
  for (size_t i = 1; i < n_order; i++) {
    int32_t k = order[i];
    size_t j = i;
    while (j > 0) {
      const tc__plan_buf *p = &bufs[order[j - 1]], *q = &bufs[k];
      int before = q->size > p->size || (q->size == p->size && (q->first_op < p->first_op ||
                                         (q->first_op == p->first_op && k < order[j - 1])));
      if (!before) break;
      order[j] = order[j - 1];
      j--;
    }
    order[j] = k;
  }
  for (size_t i = 0; i < n_order; i++) {
    tc__plan_buf *b = &bufs[order[i]];
    size_t size = TC_ALIGN_UP(b->size, align);
    size_t candidate = 0;
    /* Repeatedly bump the candidate past any placed, live-at-the-same-time buffer that
     * intersects [candidate, candidate + size); stops at the lowest fitting offset. */
    for (;;) {
      int moved = 0;
      for (size_t j = 0; j < i; j++) {
        const tc__plan_buf *o = &bufs[order[j]];
        if (!lifetimes_meet(b, o)) continue;
        size_t o_end = o->offset + TC_ALIGN_UP(o->size, align);
        if (o->offset < candidate + size && candidate < o_end) {
          candidate = o_end;
          moved = 1;
        }
      }
      if (!moved) break;
    }
    b->offset = candidate;
    if (candidate + size > total) total = candidate + size;
  }
  return total;
}

int tc__plan_overlaps(const tc__plan_buf *bufs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (!bufs[i].size) continue;
    for (size_t j = i + 1; j < n; j++) {
      if (!bufs[j].size || !lifetimes_meet(&bufs[i], &bufs[j])) continue;
      if (bufs[i].offset < bufs[j].offset + bufs[j].size &&
          bufs[j].offset < bufs[i].offset + bufs[i].size)
        return 1;
    }
  }
  return 0;
}
