/* tensorc.h: the core public API shared by every area of tensorc (status codes, data types,
 * allocator hook, version). The .tflite runtime lives in tensorc_lite.h, which includes this file.
 *
 * Conventions: every call that can fail returns a tc_status and hands results back through an
 * `out` pointer. Handles keep a detailed message of their last failure (see each *_errmsg()).
 * The library never prints and never exits. */
#ifndef TENSORC_H
#define TENSORC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TC_VERSION_MAJOR 0
#define TC_VERSION_MINOR 1
#define TC_VERSION_PATCH 0

/* Status codes. TC_OK is 0; new codes are added at the end. */
typedef enum tc_status {
  TC_OK = 0,
  TC_ERR_ARG,         /* a caller argument is invalid (NULL, out of range, wrong size) */
  TC_ERR_NOMEM,       /* an allocation failed or the caller's arena is too small */
  TC_ERR_UNSUPPORTED, /* a valid model uses something tensorc does not implement */
  TC_ERR_MODEL,       /* the model file is malformed, truncated or inconsistent */
  TC_ERR_IO,          /* a file could not be opened, read or mapped */
  TC_ERR_STATE,       /* the call is not valid in the handle's current phase */
  TC_ERR_RUNTIME      /* an operator failed while running (e.g. index out of range in data) */
} tc_status;

/* Generic text for a status code ("ok", "invalid argument", ...). Never NULL; static storage. */
const char *tc_status_str(tc_status s);

/* Element types. The values are tensorc's own (not TFLite's TensorType numbers). */
typedef enum tc_dtype {
  TC_DTYPE_UNKNOWN = 0,
  TC_DTYPE_F32,
  TC_DTYPE_F16,
  TC_DTYPE_F64,
  TC_DTYPE_I8,
  TC_DTYPE_U8,
  TC_DTYPE_I16,
  TC_DTYPE_U16,
  TC_DTYPE_I32,
  TC_DTYPE_U32,
  TC_DTYPE_I64,
  TC_DTYPE_U64,
  TC_DTYPE_BOOL,
  TC_DTYPE_STRING,
  TC_DTYPE_I4,
  TC_DTYPE_BF16,
  TC_DTYPE_COMPLEX64,
  TC_DTYPE_COMPLEX128,
  TC_DTYPE_RESOURCE,
  TC_DTYPE_VARIANT,
  TC_DTYPE_COUNT
} tc_dtype;

/* Lower-case name of a dtype ("float32", "int8", ...). Never NULL. */
const char *tc_dtype_name(tc_dtype t);
/* Size in bytes of one element; 0 for types without a fixed size (string, int4, resource). */
size_t tc_dtype_size(tc_dtype t);

/* The most dimensions a tensor may have. */
#define TC_MAX_DIMS 8

/* Version string of the library, e.g. "0.1.0". Static storage. */
const char *tc_version(void);

/* Allocator hook for host builds. `fn(user, ptr, size)` behaves like realloc (size 0 frees and
 * returns NULL). Passing fn == NULL restores malloc/realloc/free. Set it before creating any
 * handle; memory must be freed by the allocator that gave it. Not thread-safe. */
typedef void *(*tc_realloc_fn)(void *user, void *ptr, size_t size);
void tc_set_allocator(tc_realloc_fn fn, void *user);

/* Called on an internal bug (a failed TC_ASSERT), never on bad user input. The default hook
 * calls abort(). The hook may longjmp out; it must not return. */
typedef void (*tc_abort_fn)(const char *file, int line, const char *msg);
void tc_set_abort_callback(tc_abort_fn fn);

#ifdef __cplusplus
}
#endif
#endif /* TENSORC_H */
