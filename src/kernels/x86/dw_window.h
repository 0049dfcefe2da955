/* dw_window.h: which ring slot holds which input row, for the AVX2 depthwise kernels
 * (dwconv_avx2.c float, dwconv_q8_avx2.c 8-bit). Both widen or copy each input row a filter row
 * needs once into a ring of rows (one column tile and channel block) and run output pixels as
 * streams; this file decides how the ring's slots are used:
 *  - row mode (long output rows, nb = 1): input row y in slot y mod S, S = the rows one output
 *    row reads ((KH - 1) dil + 1), or slot ky when even that does not fit (tall dilated
 *    filters: no reuse); each output row is a stream;
 *  - batch mode (rows of at most TC_DW_BATCH_N pixels, nb > 1): the ring is a window of S
 *    slots, input row y in slot y - base, so a batch of nb output rows reads its rows at fixed
 *    slot distances and its nb * n pixels are one stream through offset tables. When a batch
 *    would pass the window's end, the rows from its first one on move to the start.
 * Include only from files compiled with the same flags as their users (static inline). */
#ifndef TC_KERNELS_X86_DW_WINDOW_H
#define TC_KERNELS_X86_DW_WINDOW_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

enum {
  TC_DW_BATCH_N = 8,     /* rows of at most this many pixels are batched */
  TC_DW_BATCH_PX = 64,   /* a batch stops growing past this many pixels */
  TC_DW_MAX_TPX = 128,   /* table entries (pixels of a batch) */
  TC_DW_MAX_SLOTS = 512, /* ring slots */
};

typedef struct tc__dw_window {
  int32_t nb;   /* output rows per batch (1: row mode) */
  int32_t S;    /* slots in use */
  int32_t circ; /* row mode: slot y mod S (else slot ky) */
  int32_t KH, sh, dh;
  int64_t base; /* batch mode: the input row in slot 0 */
  int32_t tag[TC_DW_MAX_SLOTS]; /* the input row a slot holds (INT32_MIN: none) */
} tc__dw_window;

/* Plans the window for tiles of at most tw output pixels when at most n_slots rows of the
 * widest tile fit the ring. */
static inline void tc__dw_window_plan(tc__dw_window *w, int32_t KH, int32_t sh, int32_t dh,
                                      int64_t tw, int64_t n_slots) {
  if (n_slots > TC_DW_MAX_SLOTS) n_slots = TC_DW_MAX_SLOTS;
  const int64_t span1 = (int64_t)(KH - 1) * dh + 1;
  int32_t nb = 1;
  if (tw <= TC_DW_BATCH_N) /* (longer rows: a row's pointers cost less than the tables) */
    while ((nb + 1) * tw <= TC_DW_MAX_TPX && nb * tw < TC_DW_BATCH_PX &&
           span1 + (int64_t)nb * sh <= n_slots)
      nb++;
  for (int32_t k = nb; k > nb / 2 && k > 1; k--) /* whole steps of 4 pixels if possible */
    if (k * tw % 4 == 0) {
      nb = k;
      break;
    }
  w->nb = nb, w->KH = KH, w->sh = sh, w->dh = dh;
  w->circ = span1 <= n_slots;
  w->S = nb > 1 ? (int32_t)n_slots : w->circ ? (int32_t)span1 : KH;
}

/* Starts a tile whose first output row reads from input row y0 on: no slot holds a row. */
static inline void tc__dw_window_start(tc__dw_window *w, int64_t y0) {
  for (int32_t s = 0; s < w->S; s++) w->tag[s] = INT32_MIN;
  w->base = y0;
}

/* Before a batch of `rows` output rows whose first reads from input row ylo: slides the
 * window (ring: slots of slot_bytes) if the batch would pass its end. */
static inline void tc__dw_window_batch(tc__dw_window *w, void *ring, size_t slot_bytes,
                                       int64_t ylo, int32_t rows) {
  const int64_t span = (int64_t)(rows - 1) * w->sh + (int64_t)(w->KH - 1) * w->dh + 1;
  if (w->nb == 1 || ylo + span - w->base <= w->S) return;
  const int64_t d = ylo - w->base;
  int32_t s = 0;
  for (; s + d < w->S; s++) {
    w->tag[s] = w->tag[s + d];
    if (w->tag[s] != INT32_MIN)
      memcpy((char *)ring + s * slot_bytes, (char *)ring + (s + d) * slot_bytes, slot_bytes);
  }
  for (; s < w->S; s++) w->tag[s] = INT32_MIN;
  w->base = ylo;
}

/* The slot of input row y, filter row ky (inside the current batch). */
static inline int32_t tc__dw_window_slot(const tc__dw_window *w, int32_t y, int32_t ky) {
  if (w->nb > 1) return (int32_t)(y - w->base);
  return w->circ ? ((y % w->S) + w->S) % w->S : ky;
}

/* Offset tables of a batch stream: pixel c of output row k reads the ring at roff[k n + c] =
 * k row_step + c px_step and writes at ooff[k n + c] = k out_row + c out_px (any units).
 * Entries [npx, npx + 3) repeat pixel npx - 1 (tc__dw_tables_pad), so streams go 4 pixels at a
 * time; tables hold TC_DW_MAX_TPX + 3 entries. */
static inline void tc__dw_tables(ptrdiff_t *roff, ptrdiff_t *ooff, int32_t nb, int32_t n,
                                 ptrdiff_t row_step, ptrdiff_t px_step, ptrdiff_t out_row,
                                 ptrdiff_t out_px) {
  for (int32_t k = 0; k < nb; k++)
    for (int32_t c = 0; c < n; c++) {
      roff[k * n + c] = k * row_step + c * px_step;
      ooff[k * n + c] = k * out_row + c * out_px;
    }
}
static inline void tc__dw_tables_pad(ptrdiff_t *roff, ptrdiff_t *ooff, int32_t npx) {
  for (int32_t k = npx; k < npx + 3; k++) roff[k] = roff[npx - 1], ooff[k] = ooff[npx - 1];
}

/* Ring and output offsets of pixels p .. p + 3 of a stream of npx pixels, relative to pixel
 * p0: from the tables (tab; padded as above), or for a row i * px_step and i * out_px with the
 * last pixel repeated past npx. */
static inline __attribute__((always_inline)) void
tc__dw_px_offsets(const ptrdiff_t *roff, const ptrdiff_t *ooff, int32_t npx, int32_t p,
                  int32_t p0, ptrdiff_t px_step, ptrdiff_t out_px, ptrdiff_t q[4], ptrdiff_t o[4],
                  int tab) {
  for (int32_t k = 0; k < 4; k++) {
    if (tab) {
      q[k] = roff[p + k];
      o[k] = ooff[p + k];
    } else {
      const int32_t i = p + k < npx ? p + k : npx - 1;
      q[k] = (ptrdiff_t)(i - p0) * px_step;
      o[k] = (ptrdiff_t)(i - p0) * out_px;
    }
  }
}

#endif /* TC_KERNELS_X86_DW_WINDOW_H */
