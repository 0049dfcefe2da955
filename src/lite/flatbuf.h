/* flatbuf.h: a small bounds-checked reader for FlatBuffers, enough for the TFLite schema.
 *
 * Every function that follows an offset checks it against the buffer before reading, so a
 * hostile file can make a call fail but never read outside [buf, buf + size). Tables are
 * "opened" once (their vtable is checked) and then their fields can be read freely; a scalar
 * field that does not fit in its table reads as the default value. */
#ifndef TC_LITE_FLATBUF_H
#define TC_LITE_FLATBUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct tc__fb {
  const uint8_t *buf;
  size_t size;
} tc__fb;

/* An opened table. pos == 0 means "absent" (no table at offset 0 can exist: the root offset is
 * there). */
typedef struct tc__fbt {
  uint32_t pos;     /* table start */
  uint32_t vt;      /* vtable start */
  uint16_t vt_size; /* vtable bytes */
  uint16_t t_size;  /* table bytes (inline part) */
} tc__fbt;

typedef struct tc__fbv {
  uint32_t pos; /* position of the first element (just after the length) */
  uint32_t n;   /* element count */
} tc__fbv;

/* Result of a checked read. */
typedef enum { TC_FB_OK = 0, TC_FB_ABSENT, TC_FB_BAD } tc__fb_res;

/* Reason text for the last TC_FB_BAD result (static storage). */
const char *tc__fb_why(void);

/* Root table of the buffer; checks the size prefix and the 4-byte file identifier `ident`
 * (NULL: no check). */
tc__fb_res tc__fb_root(const tc__fb *fb, const char *ident, tc__fbt *out);
/* Opens the table that starts at `pos`. */
tc__fb_res tc__fb_open(const tc__fb *fb, uint32_t pos, tc__fbt *out);

/* Offset of field `id` inside its table, or 0 if absent. */
uint32_t tc__fb_field(const tc__fb *fb, const tc__fbt *t, int id);

/* Scalars with defaults. */
uint8_t tc__fb_u8(const tc__fb *fb, const tc__fbt *t, int id, uint8_t dflt);
int8_t tc__fb_i8(const tc__fb *fb, const tc__fbt *t, int id, int8_t dflt);
int32_t tc__fb_i32(const tc__fb *fb, const tc__fbt *t, int id, int32_t dflt);
uint32_t tc__fb_u32(const tc__fb *fb, const tc__fbt *t, int id, uint32_t dflt);
int64_t tc__fb_i64(const tc__fb *fb, const tc__fbt *t, int id, int64_t dflt);
uint64_t tc__fb_u64(const tc__fb *fb, const tc__fbt *t, int id, uint64_t dflt);
float tc__fb_f32(const tc__fb *fb, const tc__fbt *t, int id, float dflt);

/* Offset-valued fields. ABSENT when the field is not set. */
tc__fb_res tc__fb_table(const tc__fb *fb, const tc__fbt *t, int id, tc__fbt *out);
/* Vector of elements of `elem_size` bytes; the whole vector must lie inside the buffer. */
tc__fb_res tc__fb_vector(const tc__fb *fb, const tc__fbt *t, int id, uint32_t elem_size,
                         tc__fbv *out);
/* NUL-terminated string; *len excludes the NUL. */
tc__fb_res tc__fb_string(const tc__fb *fb, const tc__fbt *t, int id, const char **out,
                         uint32_t *len);
/* Element i of a vector of tables / strings. */
tc__fb_res tc__fb_vtable_at(const tc__fb *fb, const tc__fbv *v, uint32_t i, tc__fbt *out);
tc__fb_res tc__fb_vstring_at(const tc__fb *fb, const tc__fbv *v, uint32_t i, const char **out,
                             uint32_t *len);

/* Little-endian loads from verified positions (alignment-free). */
static inline uint32_t tc__ld_u32(const uint8_t *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline int32_t tc__ld_i32(const uint8_t *p) { return (int32_t)tc__ld_u32(p); }
static inline uint16_t tc__ld_u16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint64_t tc__ld_u64(const uint8_t *p) {
  return (uint64_t)tc__ld_u32(p) | (uint64_t)tc__ld_u32(p + 4) << 32;
}

#endif /* TC_LITE_FLATBUF_H */
