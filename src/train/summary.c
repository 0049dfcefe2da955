/* summary.c: Keras' model.summary() table. Sequential nets: Layer (type) / Output Shape /
 * Param # at 65 columns; functional nets add the Input rows and a "Connected to" column at 98
 * columns (tf.keras 2 layout). Totals give the counts and float32 sizes ("1.25 KB"). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "train/model.h"

typedef struct sbuf {
  char *buf;
  size_t size, len;
} sbuf;

static void put(sbuf *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void put(sbuf *s, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *dst = s->len < s->size ? s->buf + s->len : NULL;
  size_t room = s->len < s->size ? s->size - s->len : 0;
  int n = vsnprintf(dst, room, fmt, ap);
  va_end(ap);
  if (n > 0) s->len += (size_t)n;
}

static void rule(sbuf *s, char c, int n) {
  for (int i = 0; i < n; i++) put(s, "%c", c);
  put(s, "\n");
}

/* One row: each field starts at its column; a field too long for its column is cut, leaving
 * one space before the next (Keras print_row). */
static void row(sbuf *s, int n, const int *pos, const char *const *fields) {
  char line[256];
  size_t len = 0;
  for (int i = 0; i < n; i++) {
    if (i > 0 && len > 0) line[len - 1] = ' ';
    size_t start = len, fl = strlen(fields[i]);
    size_t end = (size_t)pos[i];
    for (size_t k = 0; k < fl && start + k < end && start + k < sizeof line - 1; k++)
      line[len++] = fields[i][k];
    while (len < end && len < sizeof line - 1) line[len++] = ' ';
  }
  while (len > 0 && line[len - 1] == ' ') len--;
  line[len] = 0;
  put(s, " %s\n", line);
}

static void mem_str(size_t params, char *buf, size_t size) {
  static const char *const units[] = {"Byte", "KB", "MB", "GB", "TB"};
  double v = (double)params * 4.0;
  int u = 0;
  while (v >= 1024.0 && u < 4) v /= 1024.0, u++;
  tc__fmt(buf, size, "%zu (%.2f %s)", params, v, units[u]);
}

size_t tc_net_summary(const tc_net *net, char *buf, size_t size) {
  sbuf s = {buf, size, 0};
  if (buf && size) buf[0] = 0;
  if (!net) return 0;
  int fn = net->functional;
  int width = fn ? 98 : 65;
  int pos_seq[3] = {28, 54, 64}, pos_fn[4] = {31, 52, 64, 97};
  const int *pos = fn ? pos_fn : pos_seq;
  const char *name = net->name[0] ? net->name : (fn ? "functional" : "sequential");
  put(&s, "Model: \"%s\"\n", name);
  rule(&s, '_', width);
  const char *hdr[4] = {"Layer (type)", "Output Shape", "Param #", "Connected to"};
  row(&s, fn ? 4 : 3, pos, hdr);
  rule(&s, '=', width);
  int first = 1;
  for (int i = 0; i < net->n_layers; i++) {
    const tc__layer *L = &net->layers[i];
    if (!fn && L->cfg.kind == TC_LAYER_INPUT) continue;
    char c0[112], c1[96], c2[32], c3[256] = "";
    tc__fmt(c0, sizeof c0, "%s (%s)", L->cfg.name, tc_layer_kind_class(L->cfg.kind));
    tc__shape_str(&L->out, c1, sizeof c1);
    size_t np = 0;
    for (int j = 0; j < L->n_w; j++) np += tc_tensor_size(L->w[j]);
    tc__fmt(c2, sizeof c2, "%zu", np);
    if (fn && L->n_in) {
      size_t p = 0;
      p += (size_t)snprintf(c3 + p, sizeof c3 - p, "[");
      for (int j = 0; j < L->n_in && p < sizeof c3; j++)
        p += (size_t)snprintf(c3 + p, sizeof c3 - p, "%s'%s[0][0]'", j ? ", " : "",
                              net->layers[L->in[j]].cfg.name);
      if (p < sizeof c3) snprintf(c3 + p, sizeof c3 - p, "]");
    }
    if (!first) put(&s, "\n");
    first = 0;
    const char *f[4] = {c0, c1, c2, c3};
    row(&s, fn ? 4 : 3, pos, f);
  }
  rule(&s, '=', width);
  size_t tr, ntr, tot = tc_net_count_params(net, &tr, &ntr);
  char m[64];
  mem_str(tot, m, sizeof m);
  put(&s, "Total params: %s\n", m);
  mem_str(tr, m, sizeof m);
  put(&s, "Trainable params: %s\n", m);
  mem_str(ntr, m, sizeof m);
  put(&s, "Non-trainable params: %s\n", m);
  rule(&s, '_', width);
  return s.len;
}

tc_status tc_net_summary_print(const tc_net *net, FILE *f) {
  if (!net || !f) return TC_ERR_ARG;
  if (!tc_net_built(net)) return TC_ERR_STATE;
  size_t n = tc_net_summary(net, NULL, 0);
  char *b = tc__malloc(n + 1);
  if (!b) return TC_ERR_NOMEM;
  tc_net_summary(net, b, n + 1);
  int ok = fputs(b, f) >= 0;
  tc__free(b);
  return ok ? TC_OK : TC_ERR_IO;
}
