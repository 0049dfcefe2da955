/* narrow_chain.h: the check that the float GEMM and the depthwise tests share for their
 * descriptors' `narrow` variants (gemm.h, vec_ops.h): every chain ends, and each link is a kernels.def line
 * whose features its parent's line requires too, so an op can switch to it at prepare on any CPU
 * that runs the parent. */
#ifndef TC_TESTS_NARROW_CHAIN_H
#define TC_TESTS_NARROW_CHAIN_H
#include <string.h>

#include "kernels/select.h"
#include "tc_test.h"

/* The narrow variant of descriptor `impl` (NULL: none) and its channel limit in *limit; may
 * CHECK descriptor-specific properties. */
typedef const void *narrow_of_fn(const void *impl, int32_t *limit);

/* Checks the chains of every `dtype` variant of `op`; returns the number of links seen. */
static inline int check_narrow_chains(const char *op, const char *dtype, narrow_of_fn *narrow_of) {
  size_t n = 0;
  const tc_kernel_variant *v = tc_kernel_variants(&n);
  int seen = 0;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(v[i].op, op) || strcmp(v[i].dtype, dtype)) continue;
    const void *k = v[i].impl, *nk;
    int depth = 0;
    int32_t limit = 0;
    for (; (nk = narrow_of(k, &limit)) != NULL && depth < 8; k = nk, depth++) {
      CHECK(limit > 0);
      size_t j = 0;
      while (j < n && v[j].impl != nk) j++;
      CHECK_MSG(j < n, "%s: its narrow variant is not in kernels.def", v[i].symbol);
      if (j < n)
        CHECK_MSG((v[j].required_features & ~v[i].required_features) == 0,
                  "%s needs features that %s does not require", v[j].symbol, v[i].symbol);
      seen++;
    }
    CHECK(depth < 8);
  }
  return seen;
}
#endif /* TC_TESTS_NARROW_CHAIN_H */
