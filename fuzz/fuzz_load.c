/* fuzz_load.c: libFuzzer target for the .tflite loader and the interpreter. Each input is copied
 * into a malloc'd buffer of exactly its size (so AddressSanitizer sees any over-read), loaded,
 * and if it loads, run through create -> prepare -> one invoke with a fixed 1 MiB caller arena
 * (bounded memory). If that prepares, the same model runs once more in heap mode: its activation
 * region is then a malloc of the planned size, so ASan also sees writes past the plan, which the
 * static arena would hide. Build and run: see fuzz/README.md. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tensorc_lite.h"

#define ARENA_SIZE (1u << 20)

static uint8_t g_arena[ARENA_SIZE] __attribute__((aligned(64)));

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every failure must explain itself: a silent failure is a finding too. */
static void check_msg(tc_status s, const tc_interp *it) {
  if (s != TC_OK && it && !tc_interp_errmsg(it)[0]) abort();
}

/* create -> prepare -> zero inputs -> invoke. Returns 1 if prepare succeeded. */
static int run(const tc_model *m, void *arena, size_t arena_size) {
  tc_interp_options opts;
  memset(&opts, 0, sizeof opts);
  opts.arena = arena;
  opts.arena_size = arena_size;
  tc_interp *it = NULL;
  int prepared = 0;
  tc_status s = tc_interp_create(m, &opts, &it);
  if (s == TC_OK) s = tc_interp_prepare(it);
  if (s == TC_OK) {
    prepared = 1;
    for (int i = 0; i < tc_interp_input_count(it); i++) {
      tc_tensor_info ti;
      if (tc_interp_tensor(it, tc_interp_input_index(it, i), &ti) != TC_OK) continue;
      if (ti.size > ARENA_SIZE) continue;
      void *zeros = calloc(1, ti.size ? ti.size : 1);
      if (!zeros) continue;
      check_msg(tc_interp_set_input(it, i, zeros, ti.size), it);
      free(zeros);
    }
    s = tc_interp_invoke(it);
  }
  check_msg(s, it);
  tc_interp_destroy(it);
  return prepared;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  if (size) memcpy(copy, data, size);
  tc_model *m = NULL;
  if (tc_model_load_memory(copy, size, NULL, &m) != TC_OK) {
    if (m && !tc_model_errmsg(m)[0]) abort();
    tc_model_destroy(m);
    free(copy);
    return 0;
  }
  /* Heap mode only for models that fit the fixed arena, so memory stays bounded. */
  if (run(m, g_arena, sizeof g_arena)) run(m, NULL, 0);
  tc_model_destroy(m);
  free(copy);
  return 0;
}
