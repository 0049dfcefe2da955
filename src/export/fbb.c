/* fbb.c: the back-to-front FlatBuffers builder (see fbb.h).
 *
 * Positions are counted from the end of the buffer ("refs"). An offset stored at a field whose
 * own ref is `at` and that points to the object `ref` is `at - ref`, the forward distance in the
 * finished file. Alignment is relative to the end too: the finished size is padded to a multiple
 * of the largest alignment used, so an object whose ref is a multiple of k is k-aligned in the
 * file. */
#include <string.h>

#include "core/core.h"
#include "export/fbb.h"

void fbb_init(fbb *b) {
  memset(b, 0, sizeof *b);
  b->minalign = 16;
}

void fbb_free(fbb *b) {
  tc__free(b->buf);
  memset(b, 0, sizeof *b);
}

/* Makes room for n more bytes at the front. Returns 0 on failure (sticky). */
static int grow(fbb *b, size_t n) {
  if (b->failed) return 0;
  if (b->cap - b->used >= n) return 1;
  size_t need = b->used + n, cap = b->cap ? b->cap : 1024;
  while (cap < need) {
    if (cap > ((size_t)1 << 31)) { /* flatbuffers are limited to 2 GiB */
      b->failed = 1;
      return 0;
    }
    cap *= 2;
  }
  if (cap > ((size_t)1 << 31)) {
    b->failed = 1;
    return 0;
  }
  uint8_t *nb = tc__malloc(cap);
  if (!nb) {
    b->failed = 1;
    return 0;
  }
  if (b->used) memcpy(nb + cap - b->used, b->buf + b->cap - b->used, b->used);
  tc__free(b->buf);
  b->buf = nb;
  b->cap = cap;
  return 1;
}

static uint8_t *front(fbb *b, size_t n) {
  if (!grow(b, n)) return NULL;
  b->used += n;
  return b->buf + b->cap - b->used;
}

static void put_le(uint8_t *p, uint64_t v, size_t n) {
  for (size_t i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static void push_le(fbb *b, uint64_t v, size_t n) {
  uint8_t *p = front(b, n);
  if (p) put_le(p, v, n);
}

void fbb_prealign(fbb *b, size_t len, size_t align) {
  if (align > b->minalign) b->minalign = align;
  size_t pad = (align - ((b->used + len) & (align - 1))) & (align - 1);
  uint8_t *p = front(b, pad);
  if (p) memset(p, 0, pad);
}

uint32_t fbb_string_n(fbb *b, const char *s, size_t n) {
  fbb_prealign(b, n + 1, 4);
  uint8_t *p = front(b, n + 1);
  if (!p) return 0;
  if (n) memcpy(p, s, n);
  p[n] = 0;
  push_le(b, n, 4);
  return b->failed ? 0 : (uint32_t)b->used;
}

uint32_t fbb_string(fbb *b, const char *s) { return fbb_string_n(b, s ? s : "", s ? strlen(s) : 0); }

uint32_t fbb_vector(fbb *b, const void *data, size_t n, size_t elem_size, size_t align) {
  size_t bytes;
  if (!tc__mul_size(n, elem_size, &bytes) || bytes > ((size_t)1 << 31)) {
    b->failed = 1;
    return 0;
  }
  if (align < 4) align = 4;
  fbb_prealign(b, bytes, align);
  uint8_t *p = front(b, bytes);
  if (!p) return 0;
  if (bytes) memcpy(p, data, bytes);
  push_le(b, n, 4);
  return b->failed ? 0 : (uint32_t)b->used;
}

uint32_t fbb_vector_refs(fbb *b, const uint32_t *refs, size_t n) {
  fbb_prealign(b, 4 * n, 4);
  for (size_t i = n; i-- > 0;) push_le(b, (uint32_t)(b->used + 4 - refs[i]), 4);
  push_le(b, n, 4);
  return b->failed ? 0 : (uint32_t)b->used;
}

void fbb_table_start(fbb *b) {
  b->in_table = 1;
  b->table_start = b->used;
  b->n_fields_max = 0;
  memset(b->field_ref, 0, sizeof b->field_ref);
}

static void field(fbb *b, int id, uint64_t v, size_t n) {
  if (id < 0 || id >= FBB_MAX_FIELDS || !b->in_table) {
    b->failed = 1;
    return;
  }
  fbb_prealign(b, 0, n);
  push_le(b, v, n);
  b->field_ref[id] = (uint32_t)b->used;
  if (id + 1 > b->n_fields_max) b->n_fields_max = id + 1;
}

void fbb_add_u8(fbb *b, int id, uint8_t v) { field(b, id, v, 1); }
void fbb_add_u16(fbb *b, int id, uint16_t v) { field(b, id, v, 2); }
void fbb_add_u32(fbb *b, int id, uint32_t v) { field(b, id, v, 4); }
void fbb_add_u64(fbb *b, int id, uint64_t v) { field(b, id, v, 8); }
void fbb_add_f32(fbb *b, int id, float v) {
  uint32_t bits;
  memcpy(&bits, &v, 4);
  field(b, id, bits, 4);
}
void fbb_add_ref(fbb *b, int id, uint32_t ref) {
  if (!ref) return;
  fbb_prealign(b, 4, 4);
  field(b, id, (uint32_t)(b->used + 4 - ref), 4);
}

uint32_t fbb_table_end(fbb *b) {
  if (!b->in_table) {
    b->failed = 1;
    return 0;
  }
  b->in_table = 0;
  fbb_prealign(b, 4, 4);
  push_le(b, 0, 4); /* soffset to the vtable, patched below */
  if (b->failed) return 0;
  uint32_t table = (uint32_t)b->used;
  size_t obj_size = table - b->table_start;
  size_t vt_bytes = 4 + 2 * (size_t)b->n_fields_max;
  if (obj_size > 0xffff) {
    b->failed = 1;
    return 0;
  }
  uint8_t *vt = front(b, vt_bytes);
  if (!vt) return 0;
  put_le(vt, vt_bytes, 2);
  put_le(vt + 2, obj_size, 2);
  for (int i = 0; i < b->n_fields_max; i++)
    put_le(vt + 4 + 2 * i, b->field_ref[i] ? table - b->field_ref[i] : 0, 2);
  uint32_t vtable = (uint32_t)b->used;
  put_le(b->buf + b->cap - table, (uint32_t)(vtable - table), 4);
  return table;
}

int fbb_finish(fbb *b, uint32_t root, const char ident[4], const uint8_t **out, size_t *size) {
  fbb_prealign(b, 8, b->minalign);
  uint8_t *p = front(b, 4);
  if (p) memcpy(p, ident, 4);
  push_le(b, (uint32_t)(b->used + 4 - root), 4);
  if (b->failed || !root) return -1;
  *out = b->buf + b->cap - b->used;
  *size = b->used;
  return 0;
}
