/* test_core.c: core helpers: status texts, dtype facts, the arena (alignment, exhaustion,
 * mark/reset) and checked size arithmetic. */
#include "core/core.h"
#include "tc_test.h"

TC_TEST(core_status_and_dtypes) {
  for (int s = TC_OK; s <= TC_ERR_RUNTIME; s++) CHECK(strlen(tc_status_str((tc_status)s)) > 1);
  CHECK(strcmp(tc_status_str(TC_OK), "ok") == 0);
  CHECK_EQ(tc_dtype_size(TC_DTYPE_F32), 4);
  CHECK_EQ(tc_dtype_size(TC_DTYPE_I8), 1);
  CHECK_EQ(tc_dtype_size(TC_DTYPE_I64), 8);
  CHECK_EQ(tc_dtype_size(TC_DTYPE_STRING), 0);
  CHECK(strcmp(tc_dtype_name(TC_DTYPE_I16), "int16") == 0);
  CHECK(strcmp(tc_dtype_name((tc_dtype)999), "invalid") == 0);
  CHECK(strcmp(tc_version(), "0.1.0") == 0);
}

TC_TEST(core_arena_fixed) {
  static unsigned char buf[1000];
  tc__arena a;
  tc__arena_init_fixed(&a, buf + 3, 997); /* misaligned on purpose */
  void *p = tc__arena_alloc(&a, 10), *q = tc__arena_alloc(&a, 33);
  CHECK(p && q);
  CHECK_EQ((uintptr_t)p % 16, 0);
  CHECK_EQ((uintptr_t)q % 16, 0);
  CHECK((unsigned char *)q + 48 <= (unsigned char *)p); /* grows down */
  CHECK_EQ(tc__arena_used(&a), 16 + 48);
  size_t mark = tc__arena_mark(&a);
  CHECK(tc__arena_alloc(&a, 100) != NULL);
  tc__arena_reset(&a, mark);
  CHECK_EQ(tc__arena_used(&a), 64);
  CHECK(tc__arena_alloc(&a, 5000) == NULL); /* exhaustion is an error, not a crash */
  CHECK(tc__arena_alloc(&a, SIZE_MAX) == NULL);
  tc__arena_release(&a);
}

TC_TEST(core_arena_heap) {
  tc__arena a;
  tc__arena_init_heap(&a);
  unsigned char *p = tc__arena_alloc(&a, 40);
  CHECK(p != NULL);
  for (int i = 0; i < 40; i++) CHECK_EQ(p[i], 0);
  size_t mark = tc__arena_mark(&a);
  for (int i = 0; i < 100; i++) CHECK(tc__arena_alloc(&a, 100) != NULL);
  CHECK_EQ(tc__arena_used(&a), 48 + 100 * 112);
  tc__arena_reset(&a, mark);
  CHECK_EQ(tc__arena_used(&a), 48);
  tc__arena_release(&a);
}

TC_TEST(core_checked_sizes) {
  size_t r;
  CHECK(tc__mul_size(1u << 20, 1u << 10, &r) && r == (size_t)1 << 30);
  CHECK(!tc__mul_size(SIZE_MAX / 2, 3, &r));
  CHECK(tc__add_size(1, 2, &r) && r == 3);
  CHECK(!tc__add_size(SIZE_MAX, 1, &r));
}
