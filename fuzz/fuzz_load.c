/* fuzz_load.c: libFuzzer target for the .tflite loader and the interpreter. Each input is copied
 * into a malloc'd buffer of exactly its size (so AddressSanitizer sees any over-read), loaded,
 * and if it loads, run through create -> prepare -> one invoke with a fixed 1 MiB caller arena
 * (bounded memory, no heap activations). Build: configure with CC=clang -DTC_FUZZ=ON; see
 * fuzz/README.md for the flags and a seed corpus. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tensorc_lite.h"

#define ARENA_SIZE (1u << 20)

static uint8_t g_arena[ARENA_SIZE] __attribute__((aligned(64)));

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  if (size) memcpy(copy, data, size);
  tc_model *m = NULL;
  if (tc_model_load_memory(copy, size, NULL, &m) != TC_OK) {
    /* Every failure must explain itself. */
    if (m && !tc_model_errmsg(m)[0]) abort();
    tc_model_destroy(m);
    free(copy);
    return 0;
  }
  tc_interp_options opts;
  memset(&opts, 0, sizeof opts);
  opts.arena = g_arena;
  opts.arena_size = sizeof g_arena;
  tc_interp *it = NULL;
  tc_status s = tc_interp_create(m, &opts, &it);
  if (s == TC_OK) s = tc_interp_prepare(it);
  if (s == TC_OK) {
    /* Deterministic inputs: every input set to zeros through the public API, then one run. */
    for (int i = 0; i < tc_interp_input_count(it); i++) {
      tc_tensor_info ti;
      if (tc_interp_tensor(it, tc_interp_input_index(it, i), &ti) != TC_OK) continue;
      if (ti.size > ARENA_SIZE) continue;
      void *zeros = calloc(1, ti.size ? ti.size : 1);
      if (!zeros) continue;
      if (tc_interp_set_input(it, i, zeros, ti.size) != TC_OK && !tc_interp_errmsg(it)[0]) abort();
      free(zeros);
    }
    s = tc_interp_invoke(it);
  }
  if (s != TC_OK && it && !tc_interp_errmsg(it)[0]) abort();
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(copy);
  return 0;
}
