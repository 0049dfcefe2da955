/* flatbuf.c: bounds-checked FlatBuffers access (see flatbuf.h). All positions are uint32 byte
 * offsets from the start of the buffer; all arithmetic is done in 64 bits so nothing wraps. */
#include "lite/flatbuf.h"

#include <string.h>

static _Thread_local const char *g_why = "";
const char *tc__fb_why(void) { return g_why; }

static tc__fb_res bad(const char *why) {
  g_why = why;
  return TC_FB_BAD;
}

static int in_bounds(const tc__fb *fb, uint64_t pos, uint64_t len) {
  return pos <= fb->size && len <= fb->size - pos;
}

tc__fb_res tc__fb_open(const tc__fb *fb, uint32_t pos, tc__fbt *out) {
  memset(out, 0, sizeof *out);
  if ((pos & 3) != 0) return bad("table is not 4-byte aligned");
  if (!in_bounds(fb, pos, 4)) return bad("table offset points outside the file");
  int32_t soff = tc__ld_i32(fb->buf + pos);
  int64_t vt = (int64_t)pos - (int64_t)soff;
  if (vt < 0 || (vt & 1) || !in_bounds(fb, (uint64_t)vt, 4)) return bad("vtable outside the file");
  uint16_t vt_size = tc__ld_u16(fb->buf + vt), t_size = tc__ld_u16(fb->buf + vt + 2);
  if (vt_size < 4 || (vt_size & 1)) return bad("vtable size is invalid");
  if (!in_bounds(fb, (uint64_t)vt, vt_size)) return bad("vtable extends past the end of the file");
  if (t_size < 4 || !in_bounds(fb, pos, t_size)) return bad("table extends past the end of the file");
  for (uint32_t i = 4; i < vt_size; i += 2) {
    uint16_t off = tc__ld_u16(fb->buf + vt + i);
    if (off != 0 && (off < 4 || off >= t_size)) return bad("field offset outside its table");
  }
  out->pos = pos;
  out->vt = (uint32_t)vt;
  out->vt_size = vt_size;
  out->t_size = t_size;
  return TC_FB_OK;
}

tc__fb_res tc__fb_root(const tc__fb *fb, const char *ident, tc__fbt *out) {
  memset(out, 0, sizeof *out);
  if (!fb->buf || fb->size < 8) return bad("file is shorter than a flatbuffer header (8 bytes)");
  if (fb->size > 0x7fffffffu) return bad("file is larger than 2 GiB (flatbuffer limit)");
  if (ident && memcmp(fb->buf + 4, ident, 4) != 0) return bad("wrong file identifier");
  uint32_t root = tc__ld_u32(fb->buf);
  if (root < 8) return bad("root table offset overlaps the header");
  return tc__fb_open(fb, root, out);
}

uint32_t tc__fb_field(const tc__fb *fb, const tc__fbt *t, int id) {
  if (!t->pos || id < 0) return 0;
  uint32_t slot = 4u + 2u * (uint32_t)id;
  if (slot + 2 > t->vt_size) return 0;
  return tc__ld_u16(fb->buf + t->vt + slot);
}

/* Position of a scalar field of `width` bytes, or 0 if absent or not inside the table. */
static uint32_t scalar_pos(const tc__fb *fb, const tc__fbt *t, int id, uint32_t width) {
  uint32_t off = tc__fb_field(fb, t, id);
  if (!off || off + width > t->t_size) return 0;
  return t->pos + off;
}

uint8_t tc__fb_u8(const tc__fb *fb, const tc__fbt *t, int id, uint8_t dflt) {
  uint32_t p = scalar_pos(fb, t, id, 1);
  return p ? fb->buf[p] : dflt;
}
int8_t tc__fb_i8(const tc__fb *fb, const tc__fbt *t, int id, int8_t dflt) {
  uint32_t p = scalar_pos(fb, t, id, 1);
  return p ? (int8_t)fb->buf[p] : dflt;
}
int32_t tc__fb_i32(const tc__fb *fb, const tc__fbt *t, int id, int32_t dflt) {
  uint32_t p = scalar_pos(fb, t, id, 4);
  return p ? tc__ld_i32(fb->buf + p) : dflt;
}
uint32_t tc__fb_u32(const tc__fb *fb, const tc__fbt *t, int id, uint32_t dflt) {
  uint32_t p = scalar_pos(fb, t, id, 4);
  return p ? tc__ld_u32(fb->buf + p) : dflt;
}
int64_t tc__fb_i64(const tc__fb *fb, const tc__fbt *t, int id, int64_t dflt) {
  uint32_t p = scalar_pos(fb, t, id, 8);
  return p ? (int64_t)tc__ld_u64(fb->buf + p) : dflt;
}
uint64_t tc__fb_u64(const tc__fb *fb, const tc__fbt *t, int id, uint64_t dflt) {
  uint32_t p = scalar_pos(fb, t, id, 8);
  return p ? tc__ld_u64(fb->buf + p) : dflt;
}
float tc__fb_f32(const tc__fb *fb, const tc__fbt *t, int id, float dflt) {
  uint32_t p = scalar_pos(fb, t, id, 4);
  if (!p) return dflt;
  uint32_t bits = tc__ld_u32(fb->buf + p);
  float f;
  memcpy(&f, &bits, 4);
  return f;
}

/* Follows the uoffset stored at `at` (already known to be in bounds). */
static tc__fb_res follow(const tc__fb *fb, uint32_t at, uint32_t *target) {
  uint64_t tgt = (uint64_t)at + tc__ld_u32(fb->buf + at);
  if (tgt >= fb->size) return bad("offset points past the end of the file");
  *target = (uint32_t)tgt;
  return TC_FB_OK;
}

tc__fb_res tc__fb_table(const tc__fb *fb, const tc__fbt *t, int id, tc__fbt *out) {
  memset(out, 0, sizeof *out);
  uint32_t p = scalar_pos(fb, t, id, 4), tgt;
  if (!p) return tc__fb_field(fb, t, id) ? bad("offset field does not fit its table") : TC_FB_ABSENT;
  if (follow(fb, p, &tgt) != TC_FB_OK) return TC_FB_BAD;
  return tc__fb_open(fb, tgt, out);
}

static tc__fb_res vector_at(const tc__fb *fb, uint32_t vpos, uint32_t elem_size, tc__fbv *out) {
  if ((vpos & 3) != 0) return bad("vector is not 4-byte aligned");
  if (!in_bounds(fb, vpos, 4)) return bad("vector length outside the file");
  uint32_t n = tc__ld_u32(fb->buf + vpos);
  if (!in_bounds(fb, (uint64_t)vpos + 4, (uint64_t)n * elem_size))
    return bad("vector extends past the end of the file");
  out->pos = vpos + 4;
  out->n = n;
  return TC_FB_OK;
}

tc__fb_res tc__fb_vector(const tc__fb *fb, const tc__fbt *t, int id, uint32_t elem_size,
                         tc__fbv *out) {
  memset(out, 0, sizeof *out);
  uint32_t p = scalar_pos(fb, t, id, 4), tgt;
  if (!p) return tc__fb_field(fb, t, id) ? bad("offset field does not fit its table") : TC_FB_ABSENT;
  if (follow(fb, p, &tgt) != TC_FB_OK) return TC_FB_BAD;
  return vector_at(fb, tgt, elem_size, out);
}

static tc__fb_res string_at(const tc__fb *fb, uint32_t spos, const char **out, uint32_t *len) {
  if (!in_bounds(fb, spos, 4)) return bad("string length outside the file");
  uint32_t n = tc__ld_u32(fb->buf + spos);
  if (!in_bounds(fb, (uint64_t)spos + 4, (uint64_t)n + 1))
    return bad("string extends past the end of the file");
  if (fb->buf[(uint64_t)spos + 4 + n] != 0) return bad("string is not NUL-terminated");
  *out = (const char *)fb->buf + spos + 4;
  if (len) *len = n;
  return TC_FB_OK;
}

tc__fb_res tc__fb_string(const tc__fb *fb, const tc__fbt *t, int id, const char **out,
                         uint32_t *len) {
  *out = NULL;
  if (len) *len = 0;
  uint32_t p = scalar_pos(fb, t, id, 4), tgt;
  if (!p) return tc__fb_field(fb, t, id) ? bad("offset field does not fit its table") : TC_FB_ABSENT;
  if (follow(fb, p, &tgt) != TC_FB_OK) return TC_FB_BAD;
  return string_at(fb, tgt, out, len);
}

tc__fb_res tc__fb_vtable_at(const tc__fb *fb, const tc__fbv *v, uint32_t i, tc__fbt *out) {
  uint32_t tgt;
  memset(out, 0, sizeof *out);
  if (i >= v->n) return bad("vector index out of range");
  if (follow(fb, v->pos + 4 * i, &tgt) != TC_FB_OK) return TC_FB_BAD;
  return tc__fb_open(fb, tgt, out);
}

tc__fb_res tc__fb_vstring_at(const tc__fb *fb, const tc__fbv *v, uint32_t i, const char **out,
                             uint32_t *len) {
  uint32_t tgt;
  if (i >= v->n) return bad("vector index out of range");
  if (follow(fb, v->pos + 4 * i, &tgt) != TC_FB_OK) return TC_FB_BAD;
  return string_at(fb, tgt, out, len);
}
