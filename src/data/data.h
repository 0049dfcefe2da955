/* data.h: internals of the dataset readers (src/data): reading a whole, possibly gzip-compressed
 * file into memory, and error-message helpers. Not public; the API is include/tensorc_data.h. */
#ifndef TC_DATA_DATA_H
#define TC_DATA_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "tensorc_data.h"

/* The most bytes a reader loads from one file (after decompression): a guard against gzip
 * bombs and absurd inputs. */
#define TC__DATA_MAX_FILE ((size_t)1 << 31)

/* Reads the whole file at `path` into a new buffer (tc__malloc; the caller frees it with
 * tc__free) with one extra NUL byte after the data, so text parsers may stop at the NUL.
 * Gzip files are decompressed when zlib is available and rejected (TC_ERR_UNSUPPORTED)
 * otherwise. A truncated or corrupt gzip stream fails with TC_ERR_IO; a file larger than
 * `max_size` with TC_ERR_IO. Messages (naming the path) go into err. */
tc_status tc__data_read_file(const char *path, size_t max_size, uint8_t **out, size_t *size,
                             char *err, size_t err_size);

/* Writes a formatted message into err (if err is not NULL) and returns `s`. */
tc_status tc__data_fail(char *err, size_t err_size, tc_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

#endif
