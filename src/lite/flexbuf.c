/* flexbuf.c: bounds-checked FlexBuffers reader (see flexbuf.h).
 *
 * Layout reminders (FlexBuffers, little-endian): the last byte of the buffer is the root's
 * byte width, the byte before it the root's packed type ((type << 2) | log2(width)), and the
 * root slot sits just before those. A slot of a non-inline value holds an unsigned offset that
 * is subtracted from the slot's own position. A map's data is preceded by three slots
 * (offset to its keys vector, that vector's byte width, element count), followed by the values
 * and then one packed type byte per value. Every position is checked before it is read. */
#include <math.h>
#include <string.h>

#include "lite/flexbuf.h"

static tc__fx_res bad(tc__fx *fx, const char *why) {
  fx->why = why;
  return TC_FX_BAD;
}

static int width_ok(unsigned w) { return w == 1 || w == 2 || w == 4 || w == 8; }

/* Unsigned integer of `w` bytes at pos. */
static tc__fx_res rd_uint(tc__fx *fx, size_t pos, unsigned w, uint64_t *out) {
  if (!width_ok(w)) return bad(fx, "invalid byte width");
  if (pos > fx->size || fx->size - pos < w) return bad(fx, "value out of bounds");
  uint64_t v = 0;
  for (unsigned i = 0; i < w; i++) v |= (uint64_t)fx->buf[pos + i] << (8 * i);
  *out = v;
  return TC_FX_OK;
}

static tc__fx_res rd_int(tc__fx *fx, size_t pos, unsigned w, int64_t *out) {
  uint64_t u;
  tc__fx_res r = rd_uint(fx, pos, w, &u);
  if (r) return r;
  if (w < 8 && (u >> (8 * w - 1)) & 1) u |= ~(uint64_t)0 << (8 * w); /* sign-extend */
  memcpy(out, &u, sizeof *out);
  return TC_FX_OK;
}

static tc__fx_res rd_double(tc__fx *fx, size_t pos, unsigned w, double *out) {
  uint64_t u;
  if (w != 4 && w != 8) return bad(fx, "float of unsupported width");
  tc__fx_res r = rd_uint(fx, pos, w, &u);
  if (r) return r;
  if (w == 4) {
    uint32_t u32 = (uint32_t)u;
    float f;
    memcpy(&f, &u32, 4);
    *out = f;
  } else {
    memcpy(out, &u, 8);
  }
  return TC_FX_OK;
}

/* Follows the offset stored in the slot of r. */
static tc__fx_res indirect(tc__fx *fx, const tc__fxref *r, size_t *target) {
  uint64_t off;
  tc__fx_res res = rd_uint(fx, r->pos, r->parent_width, &off);
  if (res) return res;
  if (off > r->pos) return bad(fx, "offset points before the buffer");
  *target = r->pos - (size_t)off;
  return TC_FX_OK;
}

static void unpack(uint8_t packed, tc__fxref *r) {
  r->type = (uint8_t)(packed >> 2);
  r->width = (uint8_t)(1u << (packed & 3));
}

tc__fx_res tc__fx_root(tc__fx *fx, tc__fxref *out) {
  fx->why = "";
  if (!fx->buf || fx->size < 3) return bad(fx, "buffer too small");
  unsigned rw = fx->buf[fx->size - 1];
  if (!width_ok(rw)) return bad(fx, "invalid root byte width");
  if (fx->size < 2 + (size_t)rw) return bad(fx, "buffer too small for its root");
  out->pos = fx->size - 2 - rw;
  out->parent_width = (uint8_t)rw;
  unpack(fx->buf[fx->size - 2], out);
  return TC_FX_OK;
}

/* Checked view of a map: data position, element width and count. */
typedef struct {
  size_t data, n;
  unsigned w;
} map_view;

static tc__fx_res open_map(tc__fx *fx, const tc__fxref *map, map_view *v) {
  if (map->type != TC_FXT_MAP) return bad(fx, "value is not a map");
  tc__fx_res r = indirect(fx, map, &v->data);
  if (r) return r;
  v->w = map->width;
  if (v->data < 3 * (size_t)v->w) return bad(fx, "map header out of bounds");
  uint64_t n;
  if ((r = rd_uint(fx, v->data - v->w, v->w, &n))) return r;
  /* values (n * w bytes) and their type bytes (n) must fit after data */
  if (v->data > fx->size || n > (fx->size - v->data) / ((uint64_t)v->w + 1))
    return bad(fx, "map elements out of bounds");
  v->n = (size_t)n;
  return TC_FX_OK;
}

tc__fx_res tc__fx_map_size(tc__fx *fx, const tc__fxref *map, size_t *n) {
  map_view v;
  tc__fx_res r = open_map(fx, map, &v);
  if (r == TC_FX_OK) *n = v.n;
  return r;
}

/* Compares the NUL-terminated string at pos with key; BAD if the string runs off the end. */
static tc__fx_res key_equals(tc__fx *fx, size_t pos, const char *key, int *eq) {
  size_t i = 0;
  for (;; i++) {
    if (pos + i >= fx->size) return bad(fx, "map key not terminated");
    uint8_t c = fx->buf[pos + i];
    if (c != (uint8_t)key[i]) {
      /* keep scanning to the NUL so unterminated keys are always reported */
      while (pos + i < fx->size && fx->buf[pos + i]) i++;
      if (pos + i >= fx->size) return bad(fx, "map key not terminated");
      *eq = 0;
      return TC_FX_OK;
    }
    if (c == 0) break;
  }
  *eq = 1;
  return TC_FX_OK;
}

tc__fx_res tc__fx_map_find(tc__fx *fx, const tc__fxref *map, const char *key, tc__fxref *out) {
  map_view v;
  tc__fx_res r = open_map(fx, map, &v);
  if (r) return r;
  /* keys vector: offset slot at data - 3w, its element width at data - 2w */
  tc__fxref kref = {v.data - 3 * (size_t)v.w, (uint8_t)v.w, 1, TC_FXT_VECTOR};
  size_t keys;
  uint64_t kw, kn;
  if ((r = indirect(fx, &kref, &keys))) return r;
  if ((r = rd_uint(fx, v.data - 2 * (size_t)v.w, v.w, &kw))) return r;
  if (kw > 8 || !width_ok((unsigned)kw)) return bad(fx, "invalid key vector width");
  if (keys < kw) return bad(fx, "key vector out of bounds");
  if ((r = rd_uint(fx, keys - (size_t)kw, (unsigned)kw, &kn))) return r;
  if (kn != v.n) return bad(fx, "map has different numbers of keys and values");
  if (keys > fx->size || v.n > (fx->size - keys) / kw) return bad(fx, "key vector out of bounds");
  /* Keys are sorted in valid buffers; a linear scan also behaves on unsorted hostile ones. */
  for (size_t i = 0; i < v.n; i++) {
    tc__fxref ke = {keys + i * (size_t)kw, (uint8_t)kw, 1, TC_FXT_KEY};
    size_t kpos;
    int eq = 0;
    if ((r = indirect(fx, &ke, &kpos))) return r;
    if ((r = key_equals(fx, kpos, key, &eq))) return r;
    if (!eq) continue;
    out->pos = v.data + i * v.w;
    out->parent_width = (uint8_t)v.w;
    unpack(fx->buf[v.data + v.n * v.w + i], out);
    return out->type == TC_FXT_NULL ? TC_FX_ABSENT : TC_FX_OK;
  }
  return TC_FX_ABSENT;
}

/* A numeric scalar as read: signed, unsigned or floating point. */
typedef struct {
  int kind; /* 0 signed, 1 unsigned, 2 float */
  int64_t i;
  uint64_t u;
  double d;
} number;

static tc__fx_res read_number(tc__fx *fx, const tc__fxref *r, number *num) {
  size_t target;
  tc__fx_res res;
  switch (r->type) {
  case TC_FXT_NULL: return TC_FX_ABSENT;
  case TC_FXT_INT:
  case TC_FXT_BOOL: num->kind = 0; return rd_int(fx, r->pos, r->parent_width, &num->i);
  case TC_FXT_UINT: num->kind = 1; return rd_uint(fx, r->pos, r->parent_width, &num->u);
  case TC_FXT_FLOAT: num->kind = 2; return rd_double(fx, r->pos, r->parent_width, &num->d);
  case TC_FXT_INDIRECT_INT:
    if ((res = indirect(fx, r, &target))) return res;
    num->kind = 0;
    return rd_int(fx, target, r->width, &num->i);
  case TC_FXT_INDIRECT_UINT:
    if ((res = indirect(fx, r, &target))) return res;
    num->kind = 1;
    return rd_uint(fx, target, r->width, &num->u);
  case TC_FXT_INDIRECT_FLOAT:
    if ((res = indirect(fx, r, &target))) return res;
    num->kind = 2;
    return rd_double(fx, target, r->width, &num->d);
  default: return bad(fx, "value is not a number");
  }
}

tc__fx_res tc__fx_int(tc__fx *fx, const tc__fxref *r, int64_t *out) {
  number num;
  tc__fx_res res = read_number(fx, r, &num);
  if (res) return res;
  if (num.kind == 0) *out = num.i;
  else if (num.kind == 1) {
    if (num.u > (uint64_t)INT64_MAX) return bad(fx, "unsigned value does not fit an int64");
    *out = (int64_t)num.u;
  } else {
    /* -2^63 <= d < 2^63, NaN fails both comparisons */
    if (!(num.d >= -9223372036854775808.0 && num.d < 9223372036854775808.0))
      return bad(fx, "float value does not fit an int64");
    *out = (int64_t)num.d;
  }
  return TC_FX_OK;
}

tc__fx_res tc__fx_uint(tc__fx *fx, const tc__fxref *r, uint64_t *out) {
  number num;
  tc__fx_res res = read_number(fx, r, &num);
  if (res) return res;
  if (num.kind == 0) {
    if (num.i < 0) return bad(fx, "negative value read as unsigned");
    *out = (uint64_t)num.i;
  } else if (num.kind == 1) {
    *out = num.u;
  } else {
    if (!(num.d > -1.0 && num.d < 18446744073709551616.0))
      return bad(fx, "float value does not fit a uint64");
    *out = (uint64_t)num.d;
  }
  return TC_FX_OK;
}

tc__fx_res tc__fx_double(tc__fx *fx, const tc__fxref *r, double *out) {
  number num;
  tc__fx_res res = read_number(fx, r, &num);
  if (res) return res;
  *out = num.kind == 0 ? (double)num.i : num.kind == 1 ? (double)num.u : num.d;
  return TC_FX_OK;
}

tc__fx_res tc__fx_bool(tc__fx *fx, const tc__fxref *r, int *out) {
  number num;
  tc__fx_res res = read_number(fx, r, &num);
  if (res) return res;
  *out = num.kind == 0 ? num.i != 0 : num.kind == 1 ? num.u != 0 : num.d != 0.0;
  return TC_FX_OK;
}
