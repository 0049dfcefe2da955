/* classify.c: the smallest complete use of the tensorc runtime. It loads a classifier .tflite,
 * fills input 0 from a raw .bin file (the tensor's exact bytes) or with random data, runs the
 * model and prints the five best classes of output 0, dequantizing quantized scores.
 * usage: example_classify MODEL [INPUT.bin] */
#include <stdio.h>
#include <stdlib.h>

#include "tensorc_lite.h"

static double score_at(const tc_tensor_info *t, const void *data, int i) {
  double v;
  switch (t->dtype) {
  case TC_DTYPE_F32: return ((const float *)data)[i];
  case TC_DTYPE_U8: v = ((const uint8_t *)data)[i]; break;
  case TC_DTYPE_I8: v = ((const int8_t *)data)[i]; break;
  default: return 0.0;
  }
  return t->n_scales ? (v - (double)t->zero_points[0]) * t->scales[0] : v;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s MODEL [INPUT.bin]\n", argv[0]);
    return 2;
  }
  tc_model *model = NULL;
  tc_interp *interp = NULL;
  tc_tensor_info in, out;
  unsigned char *in_buf = NULL, *out_buf = NULL;
  int rc = 1;

  /* 1. Load the model, create an interpreter and plan its memory. */
  if (tc_model_load_file(argv[1], NULL, &model) != TC_OK) {
    fprintf(stderr, "load: %s\n", model ? tc_model_errmsg(model) : "out of memory");
    goto done;
  }
  if (tc_interp_create(model, NULL, &interp) != TC_OK || tc_interp_prepare(interp) != TC_OK) {
    fprintf(stderr, "prepare: %s\n", interp ? tc_interp_errmsg(interp) : "out of memory");
    goto done;
  }

  /* 2. Fill input 0: from the file if given, else random bytes (any dtype accepts them). */
  tc_interp_tensor(interp, tc_interp_input_index(interp, 0), &in);
  in_buf = malloc(in.size);
  if (!in_buf) goto done;
  if (argc > 2) {
    FILE *f = fopen(argv[2], "rb");
    size_t got = f ? fread(in_buf, 1, in.size, f) : 0;
    int extra = f ? fgetc(f) != EOF : 0; /* the file must hold exactly the tensor */
    if (f) fclose(f);
    if (got != in.size || extra) {
      fprintf(stderr, "%s: need %zu bytes for input '%s'\n", argv[2], in.size, in.name);
      goto done;
    }
  } else if (in.dtype == TC_DTYPE_F32) {
    for (size_t i = 0; i < in.size / 4; i++) ((float *)in_buf)[i] = (float)((double)rand() / RAND_MAX);
  } else {
    for (size_t i = 0; i < in.size; i++) in_buf[i] = (unsigned char)rand();
  }
  tc_interp_set_input(interp, 0, in_buf, in.size);

  /* 3. Run, then copy output 0 out. */
  if (tc_interp_invoke(interp) != TC_OK) {
    fprintf(stderr, "invoke: %s\n", tc_interp_errmsg(interp));
    goto done;
  }
  tc_interp_tensor(interp, tc_interp_output_index(interp, 0), &out);
  out_buf = malloc(out.size);
  if (!out_buf || tc_interp_get_output(interp, 0, out_buf, out.size) != TC_OK) goto done;

  /* 4. Print the top 5 classes (a simple selection: n is small). */
  int n = out.n_dims ? out.dims[out.n_dims - 1] : 1;
  char *taken = calloc((size_t)n, 1);
  if (!taken) goto done;
  for (int r = 0; r < 5 && r < n; r++) {
    int best = -1;
    for (int c = 0; c < n; c++)
      if (!taken[c] && (best < 0 || score_at(&out, out_buf, c) > score_at(&out, out_buf, best)))
        best = c;
    taken[best] = 1;
    printf("%d: class %d score %.5f\n", r + 1, best, score_at(&out, out_buf, best));
  }
  free(taken);
  rc = 0;
done:
  free(in_buf);
  free(out_buf);
  tc_interp_destroy(interp);
  tc_model_destroy(model);
  return rc;
}
