/* flexbuf.h: a small bounds-checked reader for FlexBuffers, the schemaless format TFLite uses
 * for the custom_options of custom operators (e.g. TFLite_Detection_PostProcess).
 *
 * Only what operator options need is supported: the root reference, lookup of a key in a map,
 * and scalars (int, uint, float, bool, also their indirect forms). Every read is checked
 * against [buf, buf + size): hostile or truncated bytes make a call return TC_FX_BAD with a
 * reason in fx->why, never read outside the buffer. Nothing is allocated. */
#ifndef TC_LITE_FLEXBUF_H
#define TC_LITE_FLEXBUF_H

#include <stddef.h>
#include <stdint.h>

/* FlexBuffers value types (the upper 6 bits of a packed type byte). */
enum {
  TC_FXT_NULL = 0, TC_FXT_INT = 1, TC_FXT_UINT = 2, TC_FXT_FLOAT = 3, TC_FXT_KEY = 4,
  TC_FXT_STRING = 5, TC_FXT_INDIRECT_INT = 6, TC_FXT_INDIRECT_UINT = 7,
  TC_FXT_INDIRECT_FLOAT = 8, TC_FXT_MAP = 9, TC_FXT_VECTOR = 10, TC_FXT_BOOL = 26
};

typedef enum { TC_FX_OK = 0, TC_FX_ABSENT, TC_FX_BAD } tc__fx_res;

/* The buffer being read. `why` is set (static text) whenever a call returns TC_FX_BAD. */
typedef struct tc__fx {
  const uint8_t *buf;
  size_t size;
  const char *why;
} tc__fx;

/* A reference to one value: the slot at `pos` is `parent_width` bytes wide and holds either the
 * value itself (scalars) or an offset back to it (everything else); `width` is the byte width
 * from the packed type (width of an indirect scalar or of a container's elements). */
typedef struct tc__fxref {
  size_t pos;
  uint8_t parent_width;
  uint8_t width;
  uint8_t type; /* TC_FXT_* */
} tc__fxref;

/* Root value of the buffer (the last two bytes give its packed type and width). */
tc__fx_res tc__fx_root(tc__fx *fx, tc__fxref *out);

/* Number of entries of a map. */
tc__fx_res tc__fx_map_size(tc__fx *fx, const tc__fxref *map, size_t *n);
/* Value stored under `key` in a map. TC_FX_ABSENT if the key is not there or its value is
 * null (as TFLite, which reads a missing key as a null reference). */
tc__fx_res tc__fx_map_find(tc__fx *fx, const tc__fxref *map, const char *key, tc__fxref *out);

/* Scalar conversions, as flexbuffers' AsInt64/AsUInt64/AsDouble/AsBool for numeric types:
 * an int read as a float converts, a float read as an int truncates toward zero (BAD if it
 * does not fit). Strings, vectors and maps are BAD ("not a number"); null is ABSENT. */
tc__fx_res tc__fx_int(tc__fx *fx, const tc__fxref *r, int64_t *out);
tc__fx_res tc__fx_uint(tc__fx *fx, const tc__fxref *r, uint64_t *out);
tc__fx_res tc__fx_double(tc__fx *fx, const tc__fxref *r, double *out);
tc__fx_res tc__fx_bool(tc__fx *fx, const tc__fxref *r, int *out);

#endif /* TC_LITE_FLEXBUF_H */
