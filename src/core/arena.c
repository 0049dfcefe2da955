/* arena.c: the persistent half of an arena. A fixed arena hands out blocks from the end of the
 * caller's buffer (growing down) so the planner can lay activations out from offset 0 up; a heap
 * arena allocates each block with the user's allocator and frees them all at release. */
#include <string.h>

#include "core/core.h"

void tc__arena_init_fixed(tc__arena *a, void *buf, size_t size) {
  memset(a, 0, sizeof *a);
  /* Align the usable region to 16 bytes. */
  uintptr_t p = (uintptr_t)buf, q = (p + 15) & ~(uintptr_t)15;
  size_t skip = (size_t)(q - p);
  a->base = (uint8_t *)q;
  a->size = size > skip ? ((size - skip) & ~(size_t)15) : 0;
  a->skip = skip;
}

void tc__arena_init_heap(tc__arena *a) {
  memset(a, 0, sizeof *a);
  a->heap = 1;
}

void *tc__arena_alloc(tc__arena *a, size_t size) {
  size_t need = TC_ALIGN_UP(size ? size : 1, 16);
  if (need < size) return NULL;
  if (a->heap) {
    if (a->n_blocks == a->cap_blocks) {
      size_t cap = a->cap_blocks ? a->cap_blocks * 2 : 32;
      void **nb = tc__realloc(a->blocks, cap * sizeof *nb);
      if (!nb) return NULL;
      a->blocks = nb;
      a->cap_blocks = cap;
    }
    /* A 16-byte header before each block remembers its size for reset/used accounting. */
    uint8_t *p = tc__calloc(1, need + 16);
    if (!p) return NULL;
    memcpy(p, &need, sizeof need);
    a->blocks[a->n_blocks++] = p;
    a->heap_used += need;
    return p + 16;
  }
  if (need > a->size - a->tail) return NULL;
  a->tail += need;
  uint8_t *p = a->base + a->size - a->tail;
  memset(p, 0, need);
  return p;
}

void tc__arena_release(tc__arena *a) {
  if (a->heap) {
    for (size_t i = 0; i < a->n_blocks; i++) tc__free(a->blocks[i]);
    tc__free(a->blocks);
  }
  memset(a, 0, sizeof *a);
}

size_t tc__arena_used(const tc__arena *a) { return a->heap ? a->heap_used : a->tail; }

size_t tc__arena_mark(const tc__arena *a) { return a->heap ? a->n_blocks : a->tail; }

void tc__arena_reset(tc__arena *a, size_t mark) {
  if (a->heap) {
    while (a->n_blocks > mark) {
      size_t need;
      void *p = a->blocks[--a->n_blocks];
      memcpy(&need, p, sizeof need);
      a->heap_used -= need;
      tc__free(p);
    }
  } else if (mark <= a->tail) {
    a->tail = mark;
  }
}
