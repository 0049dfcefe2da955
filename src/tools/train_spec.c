/* train_spec.c: parses the JSON training spec of `tensorc train` (see train_spec.h) with cJSON.
 * Getters take the key path for messages, remember which members they read (so unused keys can
 * be listed) and note the defaults they applied. */
#ifdef TC_HAVE_CJSON
#include "train_spec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

static void mark_used(jctx *j, const cJSON *it) {
  if (j->n_used < (int)(sizeof j->used / sizeof j->used[0])) j->used[j->n_used++] = it;
}

static int is_used(const jctx *j, const cJSON *it) {
  for (int i = 0; i < j->n_used; i++)
    if (j->used[i] == it) return 1;
  return 0;
}

static void append(char *buf, size_t size, const char *s) {
  size_t n = strlen(buf);
  if (n + 4 >= size) return;
  snprintf(buf + n, size - n, "%s%s", n ? ", " : "", s);
  if (strlen(buf) + 4 >= size) strcpy(buf + size - 5, "...");
}

/* Adds "path.key=value" to the list of defaulted keys. */
static void note_default(jctx *j, const char *path, const char *key, const char *value) {
  char s[160];
  snprintf(s, sizeof s, "%s%s%s=%s", path, *path ? "." : "", key, value);
  append(j->defaulted, sizeof j->defaulted, s);
}

/* Lists the members of obj that no getter read as unused. */
static void note_unused(jctx *j, const cJSON *obj, const char *path) {
  for (const cJSON *it = obj ? obj->child : NULL; it; it = it->next)
    if (!is_used(j, it)) {
      char s[160];
      snprintf(s, sizeof s, "%s%s%s", path, *path ? "." : "", it->string ? it->string : "?");
      append(j->unused, sizeof j->unused, s);
    }
}

static int fail(jctx *j, const char *path, const char *key, const char *what) {
  snprintf(j->err, sizeof j->err, "spec: %s%s%s: %s", path, *path && key ? "." : "",
           key ? key : "", what);
  return 0;
}

static const cJSON *get(jctx *j, const cJSON *obj, const char *key) {
  const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
  if (it) mark_used(j, it);
  return it;
}

/* An integer in [lo, hi]; `def` (when !required) if the key is missing. Returns 0 on error. */
static int j_int(jctx *j, const cJSON *obj, const char *path, const char *key, int required,
                 long def, long lo, long hi, const char *what, long *out) {
  const cJSON *it = get(j, obj, key);
  if (!it) {
    if (required) {
      char m[128];
      snprintf(m, sizeof m, "missing (%s)", what);
      return fail(j, path, key, m);
    }
    char v[32];
    snprintf(v, sizeof v, "%ld", def);
    note_default(j, path, key, v);
    *out = def;
    return 1;
  }
  char m[128];
  snprintf(m, sizeof m, "expected %s", what);
  if (!cJSON_IsNumber(it) || it->valuedouble != floor(it->valuedouble) ||
      it->valuedouble < (double)lo || it->valuedouble > (double)hi)
    return fail(j, path, key, m);
  *out = (long)it->valuedouble;
  return 1;
}

static int j_num(jctx *j, const cJSON *obj, const char *path, const char *key, double def,
                 double lo, double hi, const char *what, double *out) {
  const cJSON *it = get(j, obj, key);
  if (!it) {
    char v[32];
    snprintf(v, sizeof v, "%g", def);
    note_default(j, path, key, v);
    *out = def;
    return 1;
  }
  char m[128];
  snprintf(m, sizeof m, "expected %s", what);
  if (!cJSON_IsNumber(it) || !(it->valuedouble >= lo && it->valuedouble <= hi))
    return fail(j, path, key, m);
  *out = it->valuedouble;
  return 1;
}

static int j_bool(jctx *j, const cJSON *obj, const char *path, const char *key, int def,
                  int *out) {
  const cJSON *it = get(j, obj, key);
  if (!it) {
    note_default(j, path, key, def ? "true" : "false");
    *out = def;
    return 1;
  }
  if (!cJSON_IsBool(it)) return fail(j, path, key, "expected true or false");
  *out = cJSON_IsTrue(it);
  return 1;
}

/* A string; *out NULL (and def noted) if missing and not required. */
static int j_str(jctx *j, const cJSON *obj, const char *path, const char *key, int required,
                 const char *def, const char **out) {
  const cJSON *it = get(j, obj, key);
  *out = NULL;
  if (!it) {
    if (required) return fail(j, path, key, "missing (a string)");
    if (def) note_default(j, path, key, def);
    *out = def;
    return 1;
  }
  if (!cJSON_IsString(it) || !it->valuestring) return fail(j, path, key, "expected a string");
  *out = it->valuestring;
  return 1;
}

/* A positive integer or a pair [h, w] of them (Keras kernel_size / strides / pool_size). */
static int j_pair(jctx *j, const cJSON *obj, const char *path, const char *key, int required,
                  int def, int *h, int *w) {
  const cJSON *it = get(j, obj, key);
  if (!it) {
    if (required) return fail(j, path, key, "missing (a positive integer or [h, w])");
    char v[32];
    snprintf(v, sizeof v, "%d", def);
    note_default(j, path, key, v);
    *h = *w = def;
    return 1;
  }
  const char *m = "expected a positive integer or a pair [h, w] of them";
  if (cJSON_IsNumber(it)) {
    if (it->valuedouble != floor(it->valuedouble) || it->valuedouble < 1 || it->valuedouble > 4096)
      return fail(j, path, key, m);
    *h = *w = (int)it->valuedouble;
    return 1;
  }
  if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) != 2) return fail(j, path, key, m);
  int v[2];
  for (int i = 0; i < 2; i++) {
    const cJSON *e = cJSON_GetArrayItem(it, i);
    if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble) || e->valuedouble < 1 ||
        e->valuedouble > 4096)
      return fail(j, path, key, m);
    v[i] = (int)e->valuedouble;
  }
  *h = v[0];
  *w = v[1];
  return 1;
}

/* A shape: array of 1..TC_MAX_DIMS positive integers (allow_minus1: one may be -1). */
static int j_shape(jctx *j, const cJSON *it, const char *path, const char *key, int allow_minus1,
                   int *rank, int32_t *dims) {
  const char *m = allow_minus1 ? "expected an array of positive integers (one may be -1)"
                               : "expected an array of positive integers";
  if (!cJSON_IsArray(it)) return fail(j, path, key, m);
  int n = cJSON_GetArraySize(it), minus = 0;
  if (n < 1 || n > TC_MAX_DIMS) return fail(j, path, key, m);
  for (int i = 0; i < n; i++) {
    const cJSON *e = cJSON_GetArrayItem(it, i);
    if (!cJSON_IsNumber(e) || e->valuedouble != floor(e->valuedouble)) return fail(j, path, key, m);
    double v = e->valuedouble;
    if (v == -1 && allow_minus1 && !minus++) {
      dims[i] = -1;
      continue;
    }
    if (v < 1 || v > 1 << 24) return fail(j, path, key, m);
    dims[i] = (int32_t)v;
  }
  *rank = n;
  return 1;
}

/* ---- parsing ----------------------------------------------------------------------------- */

/* Keras class or layer names, compared without case and underscores. */
static void squash(const char *s, char *out, size_t size) {
  size_t n = 0;
  for (; *s && n + 1 < size; s++)
    if (*s != '_' && *s != '-') out[n++] = (char)(*s >= 'A' && *s <= 'Z' ? *s + 32 : *s);
  out[n] = 0;
}

static const struct {
  const char *name;
  tc_layer_kind kind;
} g_layer_names[] = {
    {"input", TC_LAYER_INPUT},
    {"inputlayer", TC_LAYER_INPUT},
    {"dense", TC_LAYER_DENSE},
    {"conv2d", TC_LAYER_CONV2D},
    {"convolution2d", TC_LAYER_CONV2D},
    {"depthwiseconv2d", TC_LAYER_DEPTHWISE_CONV2D},
    {"maxpooling2d", TC_LAYER_MAX_POOL2D},
    {"maxpool2d", TC_LAYER_MAX_POOL2D},
    {"averagepooling2d", TC_LAYER_AVG_POOL2D},
    {"avgpool2d", TC_LAYER_AVG_POOL2D},
    {"globalaveragepooling2d", TC_LAYER_GLOBAL_AVG_POOL2D},
    {"globalavgpool2d", TC_LAYER_GLOBAL_AVG_POOL2D},
    {"flatten", TC_LAYER_FLATTEN},
    {"reshape", TC_LAYER_RESHAPE},
    {"dropout", TC_LAYER_DROPOUT},
    {"batchnormalization", TC_LAYER_BATCH_NORM},
    {"batchnorm", TC_LAYER_BATCH_NORM},
    {"activation", TC_LAYER_ACTIVATION},
    {"embedding", TC_LAYER_EMBEDDING},
    {"lstm", TC_LAYER_LSTM},
    {"gru", TC_LAYER_GRU},
};

static int parse_activation(jctx *j, const cJSON *obj, const char *path, const char *key,
                            int required, tc_activation def, tc_activation *out) {
  const char *s;
  if (!j_str(j, obj, path, key, required, required ? NULL : tc_activation_name(def), &s)) return 0;
  if (!s) {
    *out = def;
    return 1;
  }
  if (!strcmp(s, "linear") || !strcmp(s, "none")) {
    *out = TC_ACT_LINEAR;
    return 1;
  }
  if (tc_activation_parse(s, out) != 0)
    return fail(j, path, key,
                "expected an activation (linear, relu, relu6, sigmoid, tanh, softmax, gelu, "
                "leaky_relu)");
  return 1;
}

static int parse_padding(jctx *j, const cJSON *obj, const char *path, tc_padding *out) {
  const char *s;
  if (!j_str(j, obj, path, "padding", 0, "valid", &s)) return 0;
  if (!strcmp(s, "valid")) *out = TC_PADDING_VALID;
  else if (!strcmp(s, "same")) *out = TC_PADDING_SAME;
  else return fail(j, path, "padding", "expected \"valid\" or \"same\"");
  return 1;
}

/* An initializer: a Keras name, or {"type": "random_uniform"|"random_normal"|"constant", ...}. */
static int parse_init(jctx *j, const cJSON *obj, const char *path, const char *key,
                      tc_initializer *out) {
  const cJSON *it = get(j, obj, key);
  if (!it) return 1; /* the constructor's default stays (not listed: it depends on the kind) */
  static const struct {
    const char *name;
    tc_init kind;
  } names[] = {{"zeros", TC_INIT_ZEROS},
               {"ones", TC_INIT_ONES},
               {"glorot_uniform", TC_INIT_GLOROT_UNIFORM},
               {"glorot_normal", TC_INIT_GLOROT_NORMAL},
               {"he_uniform", TC_INIT_HE_UNIFORM},
               {"he_normal", TC_INIT_HE_NORMAL},
               {"lecun_uniform", TC_INIT_LECUN_UNIFORM},
               {"lecun_normal", TC_INIT_LECUN_NORMAL},
               {"orthogonal", TC_INIT_ORTHOGONAL}};
  const char *m = "expected an initializer name (zeros, ones, glorot_uniform, glorot_normal, "
                  "he_uniform, he_normal, lecun_uniform, lecun_normal, orthogonal) or "
                  "{\"type\": \"random_uniform\"|\"random_normal\"|\"constant\", ...}";
  char sub[160];
  snprintf(sub, sizeof sub, "%s.%s", path, key);
  if (cJSON_IsString(it)) {
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
      if (!strcmp(it->valuestring, names[i].name)) {
        *out = (tc_initializer){names[i].kind, names[i].kind == TC_INIT_ORTHOGONAL ? 1.0f : 0.0f, 0};
        return 1;
      }
    return fail(j, path, key, m);
  }
  if (!cJSON_IsObject(it)) return fail(j, path, key, m);
  const char *type;
  double a = 0, b = 0;
  if (!j_str(j, it, sub, "type", 1, NULL, &type)) return 0;
  if (!strcmp(type, "random_uniform")) {
    if (!j_num(j, it, sub, "minval", -0.05, -1e30, 1e30, "a number", &a) ||
        !j_num(j, it, sub, "maxval", 0.05, -1e30, 1e30, "a number", &b))
      return 0;
    *out = (tc_initializer){TC_INIT_UNIFORM, (float)a, (float)b};
  } else if (!strcmp(type, "random_normal")) {
    if (!j_num(j, it, sub, "mean", 0, -1e30, 1e30, "a number", &a) ||
        !j_num(j, it, sub, "stddev", 0.05, 0, 1e30, "a number >= 0", &b))
      return 0;
    *out = (tc_initializer){TC_INIT_NORMAL, (float)a, (float)b};
  } else if (!strcmp(type, "constant")) {
    if (!j_num(j, it, sub, "value", 0, -1e30, 1e30, "a number", &a)) return 0;
    *out = (tc_initializer){TC_INIT_CONSTANT, (float)a, 0};
  } else {
    return fail(j, sub, "type", "expected \"random_uniform\", \"random_normal\" or \"constant\"");
  }
  note_unused(j, it, sub);
  return 1;
}

/* {"l2": factor} (Keras regularizers.l2) or a bare number. */
static int parse_l2(jctx *j, const cJSON *obj, const char *path, const char *key, float *out) {
  const cJSON *it = get(j, obj, key);
  if (!it) return 1;
  const char *m = "expected {\"l2\": factor} or a number >= 0";
  if (cJSON_IsNumber(it) && it->valuedouble >= 0) {
    *out = (float)it->valuedouble;
    return 1;
  }
  if (!cJSON_IsObject(it)) return fail(j, path, key, m);
  char sub[160];
  snprintf(sub, sizeof sub, "%s.%s", path, key);
  double v;
  if (!j_num(j, it, sub, "l2", 0.01, 0, 1e30, "a number >= 0", &v)) return 0;
  *out = (float)v;
  note_unused(j, it, sub);
  return 1;
}

static int parse_layer(jctx *j, const cJSON *lo, int index, tc_layer_config *cfg) {
  char path[32];
  snprintf(path, sizeof path, "layers[%d]", index);
  if (!cJSON_IsObject(lo)) return fail(j, path, NULL, "expected an object {\"type\": ...}");
  const char *type;
  if (!j_str(j, lo, path, "type", 1, NULL, &type)) return 0;
  char sq[48];
  squash(type, sq, sizeof sq);
  int kind = -1;
  for (size_t i = 0; i < sizeof g_layer_names / sizeof g_layer_names[0]; i++)
    if (!strcmp(sq, g_layer_names[i].name)) kind = (int)g_layer_names[i].kind;
  if (kind < 0 || kind == TC_LAYER_INPUT || kind == TC_LAYER_ADD || kind == TC_LAYER_CONCATENATE) {
    char m[256];
    snprintf(m, sizeof m,
             "unknown layer type '%.40s' (dense, conv2d, depthwise_conv2d, max_pooling2d, "
             "average_pooling2d, global_average_pooling2d, flatten, reshape, dropout, "
             "batch_normalization, activation, embedding, lstm, gru)",
             type);
    return fail(j, path, "type", m);
  }
  long v = 0;
  double d = 0;
  int b = 0;
  switch ((tc_layer_kind)kind) {
    case TC_LAYER_DENSE:
      if (!j_int(j, lo, path, "units", 1, 0, 1, 1 << 24, "a positive integer", &v)) return 0;
      *cfg = tc_layer_dense((int)v, TC_ACT_LINEAR);
      break;
    case TC_LAYER_CONV2D: {
      int kh, kw, sh, sw, dh, dw;
      if (!j_int(j, lo, path, "filters", 1, 0, 1, 1 << 20, "a positive integer", &v) ||
          !j_pair(j, lo, path, "kernel_size", 1, 0, &kh, &kw) ||
          !j_pair(j, lo, path, "strides", 0, 1, &sh, &sw) ||
          !j_pair(j, lo, path, "dilation_rate", 0, 1, &dh, &dw))
        return 0;
      *cfg = tc_layer_conv2d((int)v, kh, sh, TC_PADDING_VALID, TC_ACT_LINEAR);
      cfg->kernel_h = kh, cfg->kernel_w = kw, cfg->stride_h = sh, cfg->stride_w = sw;
      cfg->dilation_h = dh, cfg->dilation_w = dw;
      if (!parse_padding(j, lo, path, &cfg->padding)) return 0;
      break;
    }
    case TC_LAYER_DEPTHWISE_CONV2D: {
      int kh, kw, sh, sw, dh, dw;
      if (!j_pair(j, lo, path, "kernel_size", 1, 0, &kh, &kw) ||
          !j_pair(j, lo, path, "strides", 0, 1, &sh, &sw) ||
          !j_pair(j, lo, path, "dilation_rate", 0, 1, &dh, &dw) ||
          !j_int(j, lo, path, "depth_multiplier", 0, 1, 1, 1 << 16, "a positive integer", &v))
        return 0;
      *cfg = tc_layer_depthwise_conv2d(kh, sh, (int)v, TC_PADDING_VALID, TC_ACT_LINEAR);
      cfg->kernel_h = kh, cfg->kernel_w = kw, cfg->stride_h = sh, cfg->stride_w = sw;
      cfg->dilation_h = dh, cfg->dilation_w = dw;
      if (!parse_padding(j, lo, path, &cfg->padding)) return 0;
      break;
    }
    case TC_LAYER_MAX_POOL2D:
    case TC_LAYER_AVG_POOL2D: {
      int ph, pw, sh = 0, sw = 0;
      if (!j_pair(j, lo, path, "pool_size", 0, 2, &ph, &pw)) return 0;
      const cJSON *s = cJSON_GetObjectItemCaseSensitive(lo, "strides");
      if (s && !cJSON_IsNull(s)) {
        if (!j_pair(j, lo, path, "strides", 1, 0, &sh, &sw)) return 0;
      } else {
        if (s) mark_used(j, s);
        note_default(j, path, "strides", "pool_size");
      }
      *cfg = kind == TC_LAYER_MAX_POOL2D ? tc_layer_max_pool2d(ph, sh, TC_PADDING_VALID)
                                         : tc_layer_avg_pool2d(ph, sh, TC_PADDING_VALID);
      cfg->kernel_h = ph, cfg->kernel_w = pw, cfg->stride_h = sh, cfg->stride_w = sw;
      if (!parse_padding(j, lo, path, &cfg->padding)) return 0;
      break;
    }
    case TC_LAYER_GLOBAL_AVG_POOL2D: *cfg = tc_layer_global_avg_pool2d(); break;
    case TC_LAYER_FLATTEN: *cfg = tc_layer_flatten(); break;
    case TC_LAYER_RESHAPE: {
      int rank = 0;
      int32_t dims[TC_MAX_DIMS];
      const cJSON *ts = get(j, lo, "target_shape");
      if (!ts) return fail(j, path, "target_shape", "missing (an array of positive integers)");
      if (!j_shape(j, ts, path, "target_shape", 1, &rank, dims)) return 0;
      *cfg = tc_layer_reshape(rank, dims);
      break;
    }
    case TC_LAYER_DROPOUT:
      if (!j_num(j, lo, path, "rate", 0.5, 0, 0.999999, "a number in [0, 1)", &d)) return 0;
      *cfg = tc_layer_dropout((float)d);
      break;
    case TC_LAYER_BATCH_NORM:
      *cfg = tc_layer_batch_norm();
      if (!j_num(j, lo, path, "momentum", cfg->momentum, 0, 1, "a number in [0, 1]", &d)) return 0;
      cfg->momentum = (float)d;
      if (!j_num(j, lo, path, "epsilon", cfg->epsilon, 1e-30, 1e30, "a positive number", &d))
        return 0;
      cfg->epsilon = (float)d;
      break;
    case TC_LAYER_ACTIVATION: {
      tc_activation a;
      if (!parse_activation(j, lo, path, "activation", 1, TC_ACT_LINEAR, &a)) return 0;
      *cfg = tc_layer_activation(a);
      break;
    }
    case TC_LAYER_EMBEDDING: {
      long od;
      if (!j_int(j, lo, path, "input_dim", 1, 0, 1, 1 << 26, "a positive integer", &v) ||
          !j_int(j, lo, path, "output_dim", 1, 0, 1, 1 << 20, "a positive integer", &od))
        return 0;
      *cfg = tc_layer_embedding((int)v, (int)od);
      break;
    }
    case TC_LAYER_LSTM:
    case TC_LAYER_GRU:
      if (!j_int(j, lo, path, "units", 1, 0, 1, 1 << 20, "a positive integer", &v) ||
          !j_bool(j, lo, path, "return_sequences", 0, &b))
        return 0;
      *cfg = kind == TC_LAYER_LSTM ? tc_layer_lstm((int)v, b) : tc_layer_gru((int)v, b);
      if (!parse_activation(j, lo, path, "recurrent_activation", 0, cfg->recurrent_activation,
                            &cfg->recurrent_activation))
        return 0;
      break;
    default: return fail(j, path, "type", "unsupported layer type");
  }
  /* Keys shared by several kinds. */
  if (kind == TC_LAYER_DENSE || kind == TC_LAYER_CONV2D || kind == TC_LAYER_DEPTHWISE_CONV2D ||
      kind == TC_LAYER_LSTM || kind == TC_LAYER_GRU) {
    if (!parse_activation(j, lo, path, "activation", 0, cfg->activation, &cfg->activation))
      return 0;
    if (!j_bool(j, lo, path, "use_bias", cfg->use_bias, &b)) return 0;
    cfg->use_bias = b;
    if (!parse_init(j, lo, path, "kernel_initializer", &cfg->kernel_init) ||
        !parse_init(j, lo, path, "bias_initializer", &cfg->bias_init) ||
        !parse_l2(j, lo, path, "kernel_regularizer", &cfg->kernel_l2) ||
        !parse_l2(j, lo, path, "bias_regularizer", &cfg->bias_l2))
      return 0;
    if (kind == TC_LAYER_LSTM || kind == TC_LAYER_GRU)
      if (!parse_init(j, lo, path, "recurrent_initializer", &cfg->recurrent_init)) return 0;
  }
  if (cfg->activation == TC_ACT_LEAKY_RELU || kind == TC_LAYER_ACTIVATION) {
    if (cJSON_GetObjectItemCaseSensitive(lo, "alpha")) {
      if (!j_num(j, lo, path, "alpha", 0.3, 0, 1e6, "a number >= 0", &d)) return 0;
      cfg->alpha = (float)d;
    }
  }
  const char *name;
  if (!j_str(j, lo, path, "name", 0, NULL, &name)) return 0;
  if (name) {
    if (strlen(name) >= sizeof cfg->name) return fail(j, path, "name", "longer than 47 characters");
    strcpy(cfg->name, name);
  }
  note_unused(j, lo, path);
  return 1;
}

static int parse_schedule(jctx *j, const cJSON *it, const char *path, float lr, tc_schedule *out) {
  if (!cJSON_IsObject(it))
    return fail(j, path, NULL, "expected an object {\"type\": \"exponential\"|\"cosine\"|\"piecewise\", ...}");
  const char *type;
  if (!j_str(j, it, path, "type", 1, NULL, &type)) return 0;
  long steps;
  double rate, alpha;
  int stair;
  if (!strcmp(type, "exponential") || !strcmp(type, "step")) {
    if (!j_int(j, it, path, "decay_steps", 1, 0, 1, 1L << 40, "a positive integer", &steps) ||
        !j_num(j, it, path, "decay_rate", 0.96, 0, 1e6, "a number >= 0", &rate) ||
        !j_bool(j, it, path, "staircase", !strcmp(type, "step"), &stair))
      return 0;
    *out = tc_schedule_exponential(lr, steps, (float)rate, stair);
  } else if (!strcmp(type, "cosine")) {
    if (!j_int(j, it, path, "decay_steps", 1, 0, 1, 1L << 40, "a positive integer", &steps) ||
        !j_num(j, it, path, "alpha", 0, 0, 1, "a number in [0, 1]", &alpha))
      return 0;
    *out = tc_schedule_cosine(lr, steps, (float)alpha);
  } else if (!strcmp(type, "piecewise")) {
    const cJSON *bo = get(j, it, "boundaries"), *va = get(j, it, "values");
    int nb = cJSON_IsArray(bo) ? cJSON_GetArraySize(bo) : -1;
    if (nb < 1 || nb > TC_SCHEDULE_MAX_BOUNDARIES)
      return fail(j, path, "boundaries", "expected an array of 1..8 step numbers");
    if (!cJSON_IsArray(va) || cJSON_GetArraySize(va) != nb + 1)
      return fail(j, path, "values", "expected an array of one more rate than boundaries");
    int64_t bv[TC_SCHEDULE_MAX_BOUNDARIES];
    float vv[TC_SCHEDULE_MAX_BOUNDARIES + 1];
    for (int i = 0; i <= nb; i++) {
      const cJSON *e = cJSON_GetArrayItem(va, i);
      if (!cJSON_IsNumber(e) || e->valuedouble < 0) return fail(j, path, "values", "expected rates >= 0");
      vv[i] = (float)e->valuedouble;
      if (i == nb) break;
      e = cJSON_GetArrayItem(bo, i);
      if (!cJSON_IsNumber(e) || e->valuedouble < 0 || e->valuedouble != floor(e->valuedouble) ||
          (i && (int64_t)e->valuedouble <= bv[i - 1]))
        return fail(j, path, "boundaries", "expected increasing step numbers >= 0");
      bv[i] = (int64_t)e->valuedouble;
    }
    *out = tc_schedule_piecewise(nb, bv, vv);
  } else {
    return fail(j, path, "type", "expected \"exponential\", \"step\", \"cosine\" or \"piecewise\"");
  }
  note_unused(j, it, path);
  return 1;
}

static int parse_optimizer(jctx *j, const cJSON *root, train_spec *s) {
  const cJSON *it = get(j, root, "optimizer");
  const char *type = "adam";
  if (!it) {
    note_default(j, "", "optimizer", "adam");
  } else if (cJSON_IsString(it)) {
    type = it->valuestring;
  } else if (cJSON_IsObject(it)) {
    if (!j_str(j, it, "optimizer", "type", 1, NULL, &type)) return 0;
  } else {
    return fail(j, "", "optimizer", "expected a name or {\"type\": ..., \"learning_rate\": ...}");
  }
  tc_optim_kind k;
  if (tc_optim_parse(type, &k) != 0)
    return fail(j, it && cJSON_IsObject(it) ? "optimizer" : "", it && cJSON_IsObject(it) ? "type" : "optimizer",
                "expected \"sgd\", \"adam\", \"adamw\" or \"rmsprop\"");
  s->optim = k == TC_OPTIM_SGD ? tc_optim_sgd(0.01f, 0, 0)
             : k == TC_OPTIM_ADAMW ? tc_optim_adamw(0.001f, 0.004f)
             : k == TC_OPTIM_RMSPROP ? tc_optim_rmsprop(0.001f)
                                     : tc_optim_adam(0.001f);
  if (!cJSON_IsObject(it)) return 1;
  const char *p = "optimizer";
  tc_optim_config *o = &s->optim;
  double v;
  int b;
  if (!j_num(j, it, p, "learning_rate", o->learning_rate, 0, 1e6, "a number >= 0", &v)) return 0;
  o->learning_rate = (float)v;
  if (k == TC_OPTIM_SGD || k == TC_OPTIM_RMSPROP) {
    if (!j_num(j, it, p, "momentum", o->momentum, 0, 1, "a number in [0, 1]", &v)) return 0;
    o->momentum = (float)v;
  }
  if (k == TC_OPTIM_SGD) {
    if (!j_bool(j, it, p, "nesterov", 0, &b)) return 0;
    o->nesterov = b;
  }
  if (k == TC_OPTIM_ADAM || k == TC_OPTIM_ADAMW) {
    if (!j_num(j, it, p, "beta_1", o->beta_1, 0, 1, "a number in [0, 1)", &v)) return 0;
    o->beta_1 = (float)v;
    if (!j_num(j, it, p, "beta_2", o->beta_2, 0, 1, "a number in [0, 1)", &v)) return 0;
    o->beta_2 = (float)v;
  }
  if (k != TC_OPTIM_SGD) {
    if (!j_num(j, it, p, "epsilon", o->epsilon, 0, 1, "a number in [0, 1]", &v)) return 0;
    o->epsilon = (float)v;
  }
  if (k == TC_OPTIM_RMSPROP) {
    if (!j_num(j, it, p, "rho", o->rho, 0, 1, "a number in [0, 1]", &v)) return 0;
    o->rho = (float)v;
  }
  if (k == TC_OPTIM_ADAMW) {
    if (!j_num(j, it, p, "weight_decay", o->weight_decay, 0, 1e6, "a number >= 0", &v)) return 0;
    o->weight_decay = (float)v;
  }
  const cJSON *sc = get(j, it, "schedule");
  if (sc && !parse_schedule(j, sc, "optimizer.schedule", o->learning_rate, &o->schedule)) return 0;
  note_unused(j, it, p);
  return 1;
}

static int parse_loss(jctx *j, const cJSON *root, train_spec *s) {
  const cJSON *it = get(j, root, "loss");
  const char *type = NULL;
  int from_logits = -1;
  if (!it) return fail(j, "", "loss", "missing (e.g. \"sparse_categorical_crossentropy\")");
  if (cJSON_IsString(it)) {
    type = it->valuestring;
  } else if (cJSON_IsObject(it)) {
    if (!j_str(j, it, "loss", "type", 1, NULL, &type)) return 0;
    const cJSON *fl = cJSON_GetObjectItemCaseSensitive(it, "from_logits");
    if (fl && !j_bool(j, it, "loss", "from_logits", 0, &from_logits)) return 0;
    note_unused(j, it, "loss");
  } else {
    return fail(j, "", "loss", "expected a name or {\"type\": ..., \"from_logits\": ...}");
  }
  tc_loss_kind k;
  if (tc_loss_parse(type, &k) != 0)
    return fail(j, cJSON_IsObject(it) ? "loss" : "", cJSON_IsObject(it) ? "type" : "loss",
                "expected mse, mae, binary_crossentropy, categorical_crossentropy or "
                "sparse_categorical_crossentropy");
  /* from_logits defaults from the last layer: logits unless it ends in softmax/sigmoid. */
  if (from_logits < 0) {
    tc_activation last = s->n_layers ? s->layers[s->n_layers - 1].activation : TC_ACT_LINEAR;
    from_logits = k >= TC_LOSS_BINARY_XENT && last != TC_ACT_SOFTMAX && last != TC_ACT_SIGMOID;
    if (k >= TC_LOSS_BINARY_XENT)
      note_default(j, "loss", "from_logits", from_logits ? "true (no softmax/sigmoid at the end)"
                                                         : "false (the net ends in softmax/sigmoid)");
  }
  s->loss = tc_loss_make(k, from_logits);
  return 1;
}

static void resolve_path(const char *spec_dir, const char *data_dir, const char *rel, char *out) {
  if (data_dir) {
    const char *base = strrchr(rel, '/');
    snprintf(out, SPEC_PATH, "%s/%s", data_dir, base ? base + 1 : rel);
  } else if (rel[0] == '/' || !spec_dir[0]) {
    snprintf(out, SPEC_PATH, "%s", rel);
  } else {
    snprintf(out, SPEC_PATH, "%s/%s", spec_dir, rel);
  }
}

/* {"first": i, "count": n} */
static int parse_range(jctx *j, const cJSON *d, const char *key, int64_t *first, int64_t *count) {
  const cJSON *it = get(j, d, key);
  if (!it) return 1;
  char sub[64];
  snprintf(sub, sizeof sub, "data.%s", key);
  if (!cJSON_IsObject(it)) return fail(j, "data", key, "expected {\"first\": i, \"count\": n}");
  long f, c;
  if (!j_int(j, it, sub, "first", 0, 0, 0, 1L << 31, "an integer >= 0", &f) ||
      !j_int(j, it, sub, "count", 1, 0, 1, 1L << 31, "a positive integer", &c))
    return 0;
  *first = f;
  *count = c;
  note_unused(j, it, sub);
  return 1;
}

static int parse_data(jctx *j, const cJSON *root, const char *spec_dir, const char *data_dir,
                      train_spec *s) {
  const cJSON *d = get(j, root, "data");
  if (!d) return fail(j, "", "data", "missing (an object with \"format\": \"mnist\"|\"csv\"|\"sine\")");
  if (!cJSON_IsObject(d)) return fail(j, "", "data", "expected an object");
  const char *fmt, *p;
  if (!j_str(j, d, "data", "format", 1, NULL, &fmt)) return 0;
  if (!strcmp(fmt, "mnist")) {
    s->format = DATA_MNIST;
    if (!j_str(j, d, "data", "images", 1, NULL, &p)) return 0;
    resolve_path(spec_dir, data_dir, p, s->images);
    if (!j_str(j, d, "data", "labels", 1, NULL, &p)) return 0;
    resolve_path(spec_dir, data_dir, p, s->labels);
    s->train_first = 0, s->train_count = -1, s->test_count = 0;
    if (!parse_range(j, d, "train", &s->train_first, &s->train_count) ||
        !parse_range(j, d, "test", &s->test_first, &s->test_count))
      return 0;
  } else if (!strcmp(fmt, "csv")) {
    s->format = DATA_CSV;
    if (!j_str(j, d, "data", "path", 1, NULL, &p)) return 0;
    resolve_path(spec_dir, data_dir, p, s->csv);
    const cJSON *lb = get(j, d, "label");
    s->csv_label_index = -1;
    if (!lb) {
      note_default(j, "data", "label", "-1 (the last column)");
    } else if (cJSON_IsString(lb)) {
      if (strlen(lb->valuestring) >= sizeof s->csv_label)
        return fail(j, "data", "label", "column name longer than 63 characters");
      strcpy(s->csv_label, lb->valuestring);
    } else if (cJSON_IsNumber(lb) && lb->valuedouble == floor(lb->valuedouble) &&
               fabs(lb->valuedouble) < 1e6) {
      s->csv_label_index = (int)lb->valuedouble;
    } else {
      return fail(j, "data", "label", "expected a column name or index (negative: from the end)");
    }
    const cJSON *h = get(j, d, "header");
    s->csv_header = -1;
    if (!h) note_default(j, "data", "header", "auto");
    else if (cJSON_IsBool(h)) s->csv_header = cJSON_IsTrue(h);
    else if (!cJSON_IsString(h) || strcmp(h->valuestring, "auto"))
      return fail(j, "data", "header", "expected true, false or \"auto\"");
    if (!j_str(j, d, "data", "delimiter", 0, "auto", &p)) return 0;
    if (strcmp(p, "auto")) {
      if (strlen(p) != 1 || p[0] == '"') return fail(j, "data", "delimiter", "expected one character or \"auto\"");
      s->csv_delimiter = p[0];
    }
    if (!j_num(j, d, "data", "test_split", 0, 0, 0.99, "a number in [0, 1)", &s->test_split) ||
        !j_bool(j, d, "data", "standardize", 0, &s->standardize))
      return 0;
  } else if (!strcmp(fmt, "sine")) {
    s->format = DATA_SINE;
    long a, b;
    if (!j_int(j, d, "data", "train", 0, 1000, 1, 1 << 24, "a positive integer", &a) ||
        !j_int(j, d, "data", "test", 0, 200, 0, 1 << 24, "an integer >= 0", &b) ||
        !j_num(j, d, "data", "noise", 0.1, 0, 100, "a number >= 0", &s->sine_noise))
      return 0;
    s->sine_train = (int)a, s->sine_test = (int)b;
  } else {
    return fail(j, "data", "format", "expected \"mnist\", \"csv\" or \"sine\"");
  }
  note_unused(j, d, "data");
  return 1;
}

/* Fills *s from the JSON text. Returns 0 with j->err set on the first error. */
int train_spec_parse(jctx *j, const char *text, const char *spec_dir, const char *data_dir,
                     train_spec *s) {
  memset(s, 0, sizeof *s);
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
  if (!root) {
    const char *at = cJSON_GetErrorPtr();
    int line = 1, col = 1;
    for (const char *q = text; at && q < at && *q; q++) {
      if (*q == '\n') line++, col = 1;
      else col++;
    }
    snprintf(j->err, sizeof j->err, "spec: invalid JSON at line %d, column %d", line, col);
    return 0;
  }
  int ok = 0;
  long v;
  const char *name;
  if (!cJSON_IsObject(root)) {
    fail(j, "", "(top level)", "expected an object");
    goto done;
  }
  if (!j_str(j, root, "", "name", 0, "model", &name)) goto done;
  snprintf(s->name, sizeof s->name, "%s", name);
  const cJSON *is = get(j, root, "input_shape");
  if (is && !j_shape(j, is, "", "input_shape", 0, &s->input_rank, s->input_dims)) goto done;
  if (!is) note_default(j, "", "input_shape", "from the data");
  const cJSON *layers = get(j, root, "layers");
  if (!layers) {
    fail(j, "", "layers", "missing (an array of layer objects)");
    goto done;
  }
  if (!cJSON_IsArray(layers) || cJSON_GetArraySize(layers) < 1 ||
      cJSON_GetArraySize(layers) > SPEC_MAX_LAYERS) {
    fail(j, "", "layers", "expected an array of 1..64 layer objects");
    goto done;
  }
  for (const cJSON *lo = layers->child; lo; lo = lo->next) {
    if (!parse_layer(j, lo, s->n_layers, &s->layers[s->n_layers])) goto done;
    s->n_layers++;
  }
  if (!parse_loss(j, root, s) || !parse_optimizer(j, root, s)) goto done;
  const cJSON *m = get(j, root, "metrics");
  if (!m) {
    if (s->loss.kind >= TC_LOSS_BINARY_XENT) {
      s->metrics[s->n_metrics++] = TC_METRIC_ACCURACY;
      note_default(j, "", "metrics", "[\"accuracy\"]");
    } else {
      note_default(j, "", "metrics", "[]");
    }
  } else {
    if (!cJSON_IsArray(m) || cJSON_GetArraySize(m) > TC_NET_MAX_METRICS) {
      fail(j, "", "metrics", "expected an array of at most 4 metric names");
      goto done;
    }
    int i = 0;
    for (const cJSON *e = m->child; e; e = e->next, i++) {
      char p[32];
      snprintf(p, sizeof p, "metrics[%d]", i);
      if (!cJSON_IsString(e) || tc_metric_parse(e->valuestring, &s->metrics[s->n_metrics]) != 0) {
        fail(j, p, NULL, "expected accuracy, sparse_categorical_accuracy, categorical_accuracy, "
                         "binary_accuracy, mae or mse");
        goto done;
      }
      s->n_metrics++;
    }
  }
  if (!j_int(j, root, "", "epochs", 0, 1, 1, 1000000, "a positive integer", &v)) goto done;
  s->epochs = (int)v;
  if (!j_int(j, root, "", "batch_size", 0, 32, 1, 1 << 20, "a positive integer", &v)) goto done;
  s->batch_size = (int)v;
  if (!j_int(j, root, "", "seed", 0, 0, 0, 0x7fffffffL, "an integer >= 0", &v)) goto done;
  s->seed = (uint64_t)v;
  if (!j_num(j, root, "", "validation_split", 0, 0, 0.99, "a number in [0, 1)", &s->validation_split) ||
      !j_bool(j, root, "", "shuffle", 1, &s->shuffle) ||
      !parse_data(j, root, spec_dir, data_dir, s))
    goto done;
  note_unused(j, root, "");
  ok = 1;
done:
  cJSON_Delete(root);
  return ok;
}

char *train_spec_read_text(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 14, n = 0;
  char *buf = malloc(cap);
  while (buf) {
    n += fread(buf + n, 1, cap - 1 - n, f);
    if (n < cap - 1 || ferror(f)) break;
    if (cap > (1 << 24)) {
      free(buf);
      buf = NULL;
      break;
    }
    char *nb = realloc(buf, cap *= 2);
    if (!nb) free(buf);
    buf = nb;
  }
  fclose(f);
  if (buf) buf[n] = 0;
  return buf;
}

#else
typedef int train_spec_unused; /* ISO C: no empty translation unit */
#endif /* TC_HAVE_CJSON */
