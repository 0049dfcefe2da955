/* select.c: fills the dispatch table of select.h from kernels.def. For each op the variants
 * are walked in file order (most specific first) and the first one whose required features are
 * all present wins; the portable variant with no requirements ends every list, so every slot
 * is filled. The table is filled once, guarded by pthread_once, and refilled only by
 * tc_kernels_force_ref. */
#include "kernels/select.h"

#include <pthread.h>
#include <string.h>

static tc_kernel_table g_table;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

void tc_kernels_fill(tc_kernel_table *table, uint32_t features) {
  memset(table, 0, sizeof *table);
  table->features = features;
#define TC_KERNEL(op, dtype, isa, symbol, required_features)                    \
  if (!table->dtype##_##op && ((required_features) & ~features) == 0)          \
    table->dtype##_##op = &symbol;
#include "kernels/kernels.def"
}

static void fill_once(void) { tc_kernels_fill(&g_table, tc_cpu_usable_features()); }

const tc_kernel_table *tc_kernels(void) {
  pthread_once(&g_once, fill_once);
  return &g_table;
}

void tc_kernels_force_ref(int on) {
  pthread_once(&g_once, fill_once);
  tc_cpu_set_force_ref(on);
  tc_kernel_table fresh; /* filled aside so the shared table never holds a NULL slot */
  tc_kernels_fill(&fresh, tc_cpu_usable_features());
  g_table = fresh;
}

static const tc_kernel_variant g_variants[] = {
#define TC_KERNEL(op, dtype, isa, symbol, required_features) \
  {#op, #dtype, #isa, #symbol, (const void *)&symbol, (required_features)},
#include "kernels/kernels.def"
};

const tc_kernel_variant *tc_kernel_variants(size_t *n_variants) {
  *n_variants = sizeof g_variants / sizeof g_variants[0];
  return g_variants;
}

int tc_kernel_variant_supported(const tc_kernel_variant *v) {
  return (v->required_features & ~tc_cpu_features()) == 0;
}
