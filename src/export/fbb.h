/* fbb.h: a small FlatBuffers builder (internal), the writing counterpart of lite/flatbuf.h.
 *
 * Like the official builders it fills a buffer from the back to the front: every object is
 * finished before anything that points to it, and an object is named by its distance from the
 * end of the buffer ("ref"), which stays valid while the buffer grows at the front. Tables are
 * built between fbb_table_start/fbb_table_end: each field is written inline and remembered,
 * and table_end writes the table's vtable just in front of it (no vtable sharing). Allocation
 * failures are sticky: the builder records them and fbb_finish reports them once. */
#ifndef TC_EXPORT_FBB_H
#define TC_EXPORT_FBB_H

#include <stddef.h>
#include <stdint.h>

#define FBB_MAX_FIELDS 64

typedef struct fbb {
  uint8_t *buf;  /* data lives in [buf + cap - used, buf + cap) */
  size_t cap, used;
  size_t minalign; /* largest alignment requested so far */
  int failed;      /* an allocation failed or a limit was exceeded */
  /* the table being built */
  int in_table;
  size_t table_start;      /* `used` when the table was started */
  int n_fields_max;        /* 1 + the largest field id written */
  uint32_t field_ref[FBB_MAX_FIELDS]; /* ref of each field's value, 0 = absent */
} fbb;

void fbb_init(fbb *b);
void fbb_free(fbb *b);

/* Pads so that after writing `len` more bytes the write position is `align`-aligned. */
void fbb_prealign(fbb *b, size_t len, size_t align);

/* Objects outside tables; each returns its ref (0 on failure). */
uint32_t fbb_string(fbb *b, const char *s);
uint32_t fbb_string_n(fbb *b, const char *s, size_t n);
/* A vector of n elements of elem_size bytes each, copied from `data` (little-endian host),
 * with its first element aligned to `align` (>= elem_size) in the finished buffer. */
uint32_t fbb_vector(fbb *b, const void *data, size_t n, size_t elem_size, size_t align);
/* A vector of offsets to objects already written (refs). */
uint32_t fbb_vector_refs(fbb *b, const uint32_t *refs, size_t n);

/* Tables. Field ids are the schema's field order (0-based). Scalars equal to the schema default
 * may be skipped by the caller; the builder writes whatever it is given. */
void fbb_table_start(fbb *b);
void fbb_add_u8(fbb *b, int id, uint8_t v);
void fbb_add_u16(fbb *b, int id, uint16_t v);
void fbb_add_u32(fbb *b, int id, uint32_t v);
void fbb_add_u64(fbb *b, int id, uint64_t v);
void fbb_add_f32(fbb *b, int id, float v);
void fbb_add_ref(fbb *b, int id, uint32_t ref); /* ref 0: field left absent */
uint32_t fbb_table_end(fbb *b);

/* Writes the root offset and the 4-byte file identifier. On success *out points into the
 * builder's memory (valid until fbb_free) and *size is the file size; returns 0, or -1 if any
 * step failed. */
int fbb_finish(fbb *b, uint32_t root, const char ident[4], const uint8_t **out, size_t *size);

#endif /* TC_EXPORT_FBB_H */
