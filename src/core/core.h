/* core.h: internal helpers shared by every area: allocation through the user hook, the bump
 * arena used for no-malloc operation, assertions and error-message formatting. Not public. */
#ifndef TC_CORE_H
#define TC_CORE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "tensorc.h"

/* Heap allocation through the hook set by tc_set_allocator. */
void *tc__malloc(size_t size);
void *tc__calloc(size_t n, size_t size);
void *tc__realloc(void *ptr, size_t size);
void tc__free(void *ptr);

/* Internal bug check; calls the abort hook. Never used for user input. */
void tc__abort(const char *file, int line, const char *msg);
#define TC_ASSERT(x) ((x) ? (void)0 : tc__abort(__FILE__, __LINE__, #x))

#define TC_MIN(a, b) ((a) < (b) ? (a) : (b))
#define TC_MAX(a, b) ((a) > (b) ? (a) : (b))
#define TC_ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((size_t)(a)-1))

/* A linear region: allocations come from the tail (persistent, growing down) while the head
 * [0, head) is reserved for the planned activations. When `heap` is set and the buffer is NULL,
 * persistent allocations fall back to the heap and are freed with the arena. */
typedef struct tc__arena {
  uint8_t *base;
  size_t size;
  size_t tail; /* bytes used at the end of the buffer */
  int heap;    /* 1: no fixed buffer; allocate each block on the heap */
  void **blocks;
  size_t n_blocks, cap_blocks;
  size_t heap_used; /* bytes handed out in heap mode (for reporting) */
  size_t skip;      /* fixed mode: bytes skipped at the buffer's start to align it to 16 */
} tc__arena;

void tc__arena_init_fixed(tc__arena *a, void *buf, size_t size);
void tc__arena_init_heap(tc__arena *a);
/* Zeroed, 16-byte aligned block; NULL if out of space. */
void *tc__arena_alloc(tc__arena *a, size_t size);
void tc__arena_release(tc__arena *a);
size_t tc__arena_used(const tc__arena *a);
/* A mark of the current allocation state; reset frees everything allocated after it. */
size_t tc__arena_mark(const tc__arena *a);
void tc__arena_reset(tc__arena *a, size_t mark);

/* Bounded formatting helpers for error messages (always NUL-terminated). */
void tc__vfmt(char *buf, size_t size, const char *fmt, va_list ap);
void tc__fmt(char *buf, size_t size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Checked size arithmetic: returns 0 on overflow, 1 otherwise. */
int tc__mul_size(size_t a, size_t b, size_t *out);
int tc__add_size(size_t a, size_t b, size_t *out);

#endif /* TC_CORE_H */
