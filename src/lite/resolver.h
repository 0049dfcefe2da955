/* resolver.h: operator lookup (internal). */
#ifndef TC_LITE_RESOLVER_H
#define TC_LITE_RESOLVER_H
#include "lite/ops.h"
/* Registration for a builtin code (or TC_OP_CUSTOM + name); NULL if not supported. */
const tc__opreg *tc__resolve(int32_t builtin, const char *custom);
/* Fills out[] with up to max registrations; returns the total count. */
size_t tc__registered_ops(const tc__opreg **out, size_t max);
#endif
