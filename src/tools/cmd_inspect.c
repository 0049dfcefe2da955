/* cmd_inspect.c: `tensorc inspect MODEL`: prints what a .tflite file holds (schema version,
 * description, subgraphs, the inputs and outputs of subgraph 0 with their quantization and
 * shape signature (every tensor with --tensors), the operators used, signatures, metadata,
 * weight bytes) and the arena an interpreter plans for it.
 * If the model cannot be prepared (an unsupported operator, say) everything else is still
 * printed, then the reason, and the exit status is non-zero. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static void usage(FILE *f) {
  fputs("usage: tensorc inspect MODEL [--tensors]\n"
        "Prints the structure of a .tflite model and the memory an interpreter plans for it.\n"
        "Inputs and outputs (and with --tensors every tensor of subgraph 0) are listed with\n"
        "dtype, shape, shape signature where it differs (sig [-1,...]: dynamic dimensions)\n"
        "and quantization (per-axis tensors: axis, number and range of scales).\n"
        "Exits non-zero if the model cannot be loaded or prepared (the reason is printed).\n",
        f);
}

/* " sig [-1,224,224,3]" when the shape signature differs from the shape, else "". */
static void fmt_signature(const tc_tensor_info *t, char *buf, size_t size) {
  buf[0] = '\0';
  if (!t->has_signature) return;
  if (memcmp(t->dims, t->dims_signature, sizeof(int32_t) * (size_t)t->n_dims) == 0) return;
  char d[128];
  cli_fmt_dims(t->dims_signature, t->n_dims, d, sizeof d);
  snprintf(buf, size, "  sig %s", d);
}

/* Quantization summary: one scale/zero point, or for per-axis tensors the axis, the count and
 * the ranges of scales and zero points. */
static void print_quant(const tc_tensor_info *t) {
  if (t->n_scales == 1) {
    printf("  quant: scale %.9g zero_point %lld", (double)t->scales[0],
           (long long)t->zero_points[0]);
  } else if (t->n_scales > 1) {
    float smin = t->scales[0], smax = t->scales[0];
    int64_t zmin = t->zero_points[0], zmax = t->zero_points[0];
    for (int k = 1; k < t->n_scales; k++) {
      smin = t->scales[k] < smin ? t->scales[k] : smin;
      smax = t->scales[k] > smax ? t->scales[k] : smax;
      zmin = t->zero_points[k] < zmin ? t->zero_points[k] : zmin;
      zmax = t->zero_points[k] > zmax ? t->zero_points[k] : zmax;
    }
    printf("  quant: per-axis(dim %d, %d scales %.6g..%.6g, zero_point ", t->quantized_dimension,
           t->n_scales, (double)smin, (double)smax);
    if (zmin == zmax) printf("%lld)", (long long)zmin);
    else printf("%lld..%lld)", (long long)zmin, (long long)zmax);
  }
}

static void print_tensor(const char *kind, int i, const tc_tensor_info *t) {
  char dims[128], sig[160];
  cli_fmt_dims(t->dims, t->n_dims, dims, sizeof dims);
  fmt_signature(t, sig, sizeof sig);
  printf("  %s %d: %-32s %-8s %s%s", kind, i, t->name ? t->name : "?", tc_dtype_name(t->dtype),
         dims, sig);
  print_quant(t);
  printf("\n");
}

/* Every tensor of subgraph 0 (--tensors). */
static void print_all_tensors(const tc_interp *it) {
  int n = tc_interp_tensor_count(it);
  printf("tensors (subgraph 0): %d\n", n);
  for (int i = 0; i < n; i++) {
    tc_tensor_info t;
    if (tc_interp_tensor(it, i, &t) != TC_OK) continue;
    print_tensor(t.is_constant ? "const " : "tensor", i, &t);
  }
}

/* Counts per operator name, in order of first use. */
typedef struct op_count {
  char name[96];
  int count;
} op_count;

static void print_operators(const tc_model *m, int subgraph, int n_ops) {
  op_count *ops = calloc((size_t)(n_ops > 0 ? n_ops : 1), sizeof *ops);
  int n_kinds = 0;
  if (!ops) return;
  for (int k = 0; k < n_ops; k++) {
    int32_t code = -1;
    const char *custom = NULL, *bn;
    char name[96];
    if (tc_model_operator(m, subgraph, k, &code, &custom) != TC_OK) continue;
    if (custom) snprintf(name, sizeof name, "CUSTOM(%s)", custom);
    else if ((bn = tc_builtin_name(code))) snprintf(name, sizeof name, "%s", bn);
    else snprintf(name, sizeof name, "BUILTIN_%d", (int)code);
    int j = 0;
    while (j < n_kinds && strcmp(ops[j].name, name) != 0) j++;
    if (j == n_kinds) memcpy(ops[n_kinds++].name, name, sizeof name);
    ops[j].count++;
  }
  printf("operators (subgraph %d): %d total, %d kinds\n", subgraph, n_ops, n_kinds);
  for (int j = 0; j < n_kinds; j++) printf("  %-40s x%d\n", ops[j].name, ops[j].count);
  free(ops);
}

int cmd_inspect(int argc, char **argv) {
  const char *path = NULL;
  int all_tensors = 0;
  for (int i = 1; i < argc; i++) {
    if (cli_is_help(argv[i])) {
      usage(stdout);
      return CLI_OK;
    } else if (!strcmp(argv[i], "--tensors")) {
      all_tensors = 1;
      continue;
    } else if (argv[i][0] == '-' && argv[i][1]) {
      cli_err("inspect: unknown option '%s' (see tensorc inspect --help)", argv[i]);
      return CLI_USAGE;
    } else if (path) {
      cli_err("inspect: only one MODEL may be given");
      return CLI_USAGE;
    }
    path = argv[i];
  }
  if (!path) {
    usage(stderr);
    return CLI_USAGE;
  }
  tc_model *m = NULL;
  tc_status s = tc_model_load_file(path, NULL, &m);
  if (s != TC_OK) {
    const char *msg = m ? tc_model_errmsg(m) : "";
    cli_err("cannot load %s: %s%s%s", path, tc_status_str(s), *msg ? ": " : "", msg);
    tc_model_destroy(m);
    return CLI_FAIL;
  }
  printf("model: %s\n", path);
  printf("schema version: %u\n", (unsigned)tc_model_schema_version(m));
  const char *desc = tc_model_description(m);
  printf("description: %s\n", desc && *desc ? desc : "(none)");
  int n_sg = tc_model_subgraph_count(m);
  printf("subgraphs: %d\n", n_sg);
  int n_ops0 = 0;
  for (int g = 0; g < n_sg; g++) {
    tc_subgraph_info info;
    if (tc_model_subgraph_info(m, g, &info) != TC_OK) continue;
    printf("  subgraph %d: %s: %d tensors, %d operators, %d inputs, %d outputs\n", g,
           info.name && *info.name ? info.name : "(unnamed)", info.n_tensors, info.n_operators,
           info.n_inputs, info.n_outputs);
    if (g == 0) n_ops0 = info.n_operators;
  }

  /* Tensor details come from an interpreter; create and prepare one, keeping the failure. */
  tc_interp *it = NULL;
  char why[1024] = "";
  s = tc_interp_create(m, NULL, &it);
  int created = s == TC_OK;
  if (!created)
    snprintf(why, sizeof why, "cannot create an interpreter: %s: %s", tc_status_str(s),
             it ? tc_interp_errmsg(it) : "");
  else if ((s = tc_interp_prepare(it)) != TC_OK)
    snprintf(why, sizeof why, "cannot prepare: %s: %s", tc_status_str(s), tc_interp_errmsg(it));
  /* After an unsupported operator the handle still describes its tensors (it fails while
   * resolving operators, after reading the tensor table), so the listing stays useful. */
  int have_tensors = created || (it && s == TC_ERR_UNSUPPORTED && tc_interp_input_count(it) > 0);
  if (have_tensors) {
    int n_in = tc_interp_input_count(it), n_out = tc_interp_output_count(it);
    printf("inputs (subgraph 0): %d\n", n_in);
    for (int i = 0; i < n_in; i++) {
      tc_tensor_info t;
      if (tc_interp_tensor(it, tc_interp_input_index(it, i), &t) == TC_OK)
        print_tensor("input", i, &t);
    }
    printf("outputs (subgraph 0): %d\n", n_out);
    for (int i = 0; i < n_out; i++) {
      tc_tensor_info t;
      if (tc_interp_tensor(it, tc_interp_output_index(it, i), &t) == TC_OK)
        print_tensor("output", i, &t);
    }
    if (all_tensors) print_all_tensors(it);
  } else {
    printf("inputs/outputs: (not available, no interpreter)\n");
  }
  print_operators(m, 0, n_ops0);
  for (int g = 1; g < n_sg; g++) {
    tc_subgraph_info info;
    if (tc_model_subgraph_info(m, g, &info) == TC_OK) print_operators(m, g, info.n_operators);
  }

  int n_sig = tc_model_signature_count(m);
  printf("signatures: %d\n", n_sig);
  for (int i = 0; i < n_sig; i++) printf("  %s\n", tc_model_signature_key(m, i));
  int n_meta = tc_model_metadata_count(m);
  printf("metadata: %d\n", n_meta);
  for (int i = 0; i < n_meta; i++) {
    const char *name = NULL;
    const void *data = NULL;
    size_t size = 0;
    if (tc_model_metadata(m, i, &name, &data, &size) == TC_OK)
      printf("  %s (%zu bytes)\n", name ? name : "?", size);
  }
  size_t wb = tc_model_weights_size(m);
  printf("weights: %zu bytes (%.1f KiB)\n", wb, (double)wb / 1024.0);
  int rc = CLI_OK;
  if (s == TC_OK) {
    size_t used = tc_interp_arena_used(it), act = tc_interp_activations_size(it);
    printf("arena: %zu bytes (%.1f KiB), activations %zu bytes (%.1f KiB)\n", used,
           (double)used / 1024.0, act, (double)act / 1024.0);
  } else {
    printf("arena: (not planned)\n");
    fflush(stdout);
    cli_err("%s: %s", path, why);
    rc = CLI_FAIL;
  }
  tc_interp_destroy(it);
  tc_model_destroy(m);
  return rc;
}
