/* tc.c: entry point of the `tensorc` command-line tool. It dispatches to one subcommand per
 * verb (cmd_inspect.c, cmd_run.c, cmd_bench.c); each verb parses its own options and prints its
 * own --help. The tool uses only the public API (tensorc.h, tensorc_lite.h). */
#include <stdio.h>
#include <string.h>

#include "util.h"

int cmd_train(int argc, char **argv); /* cmd_train.c */

int cmd_quantize(int argc, char **argv); /* cmd_quantize.c */
int cmd_convert(int argc, char **argv);  /* cmd_convert.c */
int cmd_demo(int argc, char **argv);     /* cmd_demo.c */

typedef struct verb {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *summary;
} verb;

static const verb g_verbs[] = {
    {"inspect", cmd_inspect, "print a .tflite model's structure and planned memory"},
    {"run", cmd_run, "run a model once on files (.bin, .npy, images) or random input"},
    {"bench", cmd_bench, "time model initialisation and inference"},
    {"train", cmd_train, "train a network described by a JSON spec (layers, loss, data)"},
    {"quantize", cmd_quantize, "post-training quantization of a float .tflite (int8, dynamic, float16)"},
    {"convert", cmd_convert, "export a training checkpoint as .tflite (float, or quantized)"},
    {"demo", cmd_demo, "train sine, export float + int8 .tflite, run both (no files needed)"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: tensorc VERB [options]   (tensorc VERB --help for details)\n\nverbs:\n");
  for (size_t i = 0; i < sizeof g_verbs / sizeof g_verbs[0]; i++)
    fprintf(f, "  %-8s %s\n", g_verbs[i].name, g_verbs[i].summary);
  fprintf(f, "\noptions:\n  -h, --help     this text\n  --version      print the version\n");
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return CLI_USAGE;
  }
  if (cli_is_help(argv[1]) || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return CLI_OK;
  }
  if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
    printf("tensorc %s\n", tc_version());
    return CLI_OK;
  }
  for (size_t i = 0; i < sizeof g_verbs / sizeof g_verbs[0]; i++)
    if (strcmp(argv[1], g_verbs[i].name) == 0) return g_verbs[i].fn(argc - 1, argv + 1);
  cli_err("unknown verb '%s' (see tensorc --help)", argv[1]);
  return CLI_USAGE;
}
