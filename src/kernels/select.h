/* select.h: the kernel dispatch table. It has one slot per TC_KERNEL_OP line of kernels.def,
 * filled once (on first use, thread-safe) with the most specific variant the CPU supports, or
 * the reference variant when TC_FORCE_REF is set. Ops read their slot at prepare and keep the
 * pointer, so a later change of the table does not affect an already prepared interpreter. */
#ifndef TC_KERNELS_SELECT_H
#define TC_KERNELS_SELECT_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/cpu.h"
#include "kernels/fwino.h"
#include "kernels/gemm.h"
#include "kernels/vec_ops.h" /* depthwise, pooling, elementwise, softmax, mean */
#include "kernels/qgemm.h"

/* Declarations of every variant in kernels.def. */
#define TC_KERNEL(op, dtype, isa, symbol, required_features) \
  extern tc_##dtype##_##op##_kernel symbol;
#include "kernels/kernels.def"

/* One pointer per op, e.g. table->f32_gemm. */
typedef struct tc_kernel_table {
#define TC_KERNEL_OP(op, dtype) tc_##dtype##_##op##_kernel *dtype##_##op;
#include "kernels/kernels.def"
  uint32_t features; /* the features the table was filled for (0: reference forced) */
} tc_kernel_table;

/* The table for this process; filled on the first call. Never NULL. */
const tc_kernel_table *tc_kernels(void);

/* Forces (on != 0) or releases the reference kernels and refills the table. Meant for tests,
 * debugging and the API option; not safe while other threads read the table (call it before
 * preparing interpreters). TC_FORCE_REF=1 in the environment sets the initial state. */
void tc_kernels_force_ref(int on);

/* Fills `table` for a given feature mask (e.g. to emulate a smaller CPU in tests). */
void tc_kernels_fill(tc_kernel_table *table, uint32_t features);

/* One kernels.def line, for tests and benchmarks that run every variant. */
typedef struct tc_kernel_variant {
  const char *op, *dtype, *isa, *symbol;
  const void *impl;            /* &symbol: a function or a descriptor, by op */
  uint32_t required_features;
} tc_kernel_variant;

/* All kernels.def lines of this build, in file order; *n_variants gets their number. */
const tc_kernel_variant *tc_kernel_variants(size_t *n_variants);

/* 1 if this CPU (ignoring TC_FORCE_REF) can run the variant. */
int tc_kernel_variant_supported(const tc_kernel_variant *v);

#endif /* TC_KERNELS_SELECT_H */
