/* checkpoint.c: tc_net_save / tc_net_load / tc_net_load_weights in the format of
 * docs/checkpoint-format.md: a header, then tagged sections (ARCH, WGHT, COMP, OPTM, STAT,
 * END) each followed by the CRC32 of its tag, length and payload, little-endian throughout.
 * The file is built in memory and written atomically: a temporary file in the same directory,
 * fflush + fsync, rename over the target, fsync of the directory. */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "train/model.h"

#define MAGIC "TCCKPT\r\n"
#define VERSION 1u

/* ---- CRC32 (IEEE 802.3, reflected, as zlib), four bits at a time ---- */

uint32_t tc__crc32(uint32_t crc, const void *data, size_t n) {
  static const uint32_t t[16] = {0x00000000u, 0x1db71064u, 0x3b6e20c8u, 0x26d930acu,
                                 0x76dc4190u, 0x6b6b51f4u, 0x4db26158u, 0x5005713cu,
                                 0xedb88320u, 0xf00f9344u, 0xd6d6a3e8u, 0xcb61b38cu,
                                 0x9b64c2b0u, 0x86d3d2d4u, 0xa00ae278u, 0xbdbdf21cu};
  const uint8_t *p = data;
  crc = ~crc;
  for (size_t i = 0; i < n; i++) {
    crc ^= p[i];
    crc = (crc >> 4) ^ t[crc & 15];
    crc = (crc >> 4) ^ t[crc & 15];
  }
  return ~crc;
}

/* ---- writer ---- */

typedef struct wbuf {
  uint8_t *p;
  size_t n, cap;
  int oom;
} wbuf;

static void w_bytes(wbuf *w, const void *d, size_t n) {
  if (w->oom) return;
  if (w->n + n > w->cap) {
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->n + n) cap *= 2;
    uint8_t *p = tc__realloc(w->p, cap);
    if (!p) {
      w->oom = 1;
      return;
    }
    w->p = p;
    w->cap = cap;
  }
  memcpy(w->p + w->n, d, n);
  w->n += n;
}
static void w_u32(wbuf *w, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  w_bytes(w, b, 4);
}
static void w_u64(wbuf *w, uint64_t v) {
  w_u32(w, (uint32_t)v);
  w_u32(w, (uint32_t)(v >> 32));
}
static void w_i32(wbuf *w, int32_t v) { w_u32(w, (uint32_t)v); }
static void w_f32(wbuf *w, float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  w_u32(w, u);
}
static void w_str(wbuf *w, const char *s) {
  size_t n = strlen(s);
  w_u32(w, (uint32_t)n);
  w_bytes(w, s, n);
}
static void w_tensor(wbuf *w, const tc_tensor *t) {
  int r = tc_tensor_rank(t);
  w_u32(w, (uint32_t)r);
  for (int i = 0; i < r; i++) w_i32(w, tc_tensor_dim(t, i));
  const float *p = tc_tensor_f32_const(t);
  for (size_t i = 0; i < tc_tensor_size(t); i++) w_f32(w, p[i]);
}

/* Section: tag[4], u64 length, payload, u32 CRC32 of tag + length + payload. */
static size_t sec_begin(wbuf *w, const char *tag) {
  w_bytes(w, tag, 4);
  w_u64(w, 0);
  return w->n;
}
static void sec_end(wbuf *w, size_t start) {
  if (w->oom) return;
  uint64_t len = w->n - start;
  for (int i = 0; i < 8; i++) w->p[start - 8 + i] = (uint8_t)(len >> (8 * i));
  w_u32(w, tc__crc32(0, w->p + start - 12, (size_t)len + 12));
}

/* Every config field, in file order. I: int-like, F: float. */
#define CFG_FIELDS(I, F)                                                                       \
  I(kind) I(units) I(kernel_h) I(kernel_w) I(stride_h) I(stride_w) I(dilation_h) I(dilation_w) \
  I(padding) I(depth_multiplier) I(activation) I(recurrent_activation) F(alpha) I(use_bias)    \
  I(kernel_init.kind) F(kernel_init.a) F(kernel_init.b) I(bias_init.kind) F(bias_init.a)       \
  F(bias_init.b) I(recurrent_init.kind) F(recurrent_init.a) F(recurrent_init.b) F(kernel_l2)   \
  F(bias_l2) F(rate) F(momentum) F(epsilon) I(input_dim) I(axis) I(return_sequences)           \
  I(unit_forget_bias) I(reset_after) I(rank)

static void w_config(wbuf *w, const tc_layer_config *c) {
#define WI(f) w_i32(w, (int32_t)c->f);
#define WF(f) w_f32(w, c->f);
  CFG_FIELDS(WI, WF)
#undef WI
#undef WF
  for (int i = 0; i < TC_MAX_DIMS; i++) w_i32(w, c->dims[i]);
  w_str(w, c->name);
}

static void w_optim_cfg(wbuf *w, const tc_optim_config *o) {
  w_u32(w, (uint32_t)o->kind);
  w_f32(w, o->learning_rate);
  const tc_schedule *s = &o->schedule;
  w_u32(w, (uint32_t)s->kind);
  w_f32(w, s->initial);
  w_u64(w, (uint64_t)s->decay_steps);
  w_f32(w, s->decay_rate);
  w_i32(w, s->staircase);
  w_f32(w, s->alpha);
  w_i32(w, s->n_boundaries);
  for (int i = 0; i < TC_SCHEDULE_MAX_BOUNDARIES; i++) w_u64(w, (uint64_t)s->boundaries[i]);
  for (int i = 0; i <= TC_SCHEDULE_MAX_BOUNDARIES; i++) w_f32(w, s->values[i]);
  w_f32(w, o->momentum);
  w_i32(w, o->nesterov);
  w_f32(w, o->beta_1);
  w_f32(w, o->beta_2);
  w_f32(w, o->epsilon);
  w_f32(w, o->rho);
  w_f32(w, o->weight_decay);
}

static const char *weight_name_of(const tc_net *net, const tc_tensor *t) {
  for (size_t i = 0; i < net->n_weights; i++)
    if (net->weights[i] == t) return net->wnames[i];
  return NULL;
}

static void serialize(tc_net *net, wbuf *w) {
  w_bytes(w, MAGIC, 8);
  w_u32(w, VERSION);
  w_u32(w, 0); /* flags, reserved */
  size_t s = sec_begin(w, "ARCH");
  w_str(w, net->name);
  w_u32(w, (uint32_t)net->functional);
  w_u64(w, net->seed);
  w_u32(w, (uint32_t)net->n_layers);
  for (int i = 0; i < net->n_layers; i++) {
    const tc__layer *L = &net->layers[i];
    w_config(w, &L->cfg);
    w_u32(w, (uint32_t)L->n_in);
    for (int j = 0; j < L->n_in; j++) w_u32(w, (uint32_t)L->in[j]);
  }
  w_u32(w, (uint32_t)net->n_outputs);
  for (int i = 0; i < net->n_outputs; i++) w_u32(w, (uint32_t)net->outputs[i]);
  w_u32(w, (uint32_t)net->explicit_outputs);
  sec_end(w, s);

  s = sec_begin(w, "WGHT");
  w_u32(w, (uint32_t)net->n_weights);
  for (size_t i = 0; i < net->n_weights; i++) {
    w_str(w, net->wnames[i]);
    w_tensor(w, net->weights[i]);
  }
  sec_end(w, s);

  if (net->compiled) {
    s = sec_begin(w, "COMP");
    w_u32(w, (uint32_t)net->loss.kind);
    w_u32(w, (uint32_t)net->loss.from_logits);
    w_optim_cfg(w, &net->optim_cfg);
    w_u32(w, (uint32_t)net->n_metrics);
    for (int i = 0; i < net->n_metrics; i++) w_u32(w, (uint32_t)net->metric_kinds[i]);
    sec_end(w, s);

    s = sec_begin(w, "OPTM");
    tc_optim *o = net->opt;
    int set;
    float lr = tc__optim_lr_override(o, &set);
    w_u64(w, (uint64_t)tc_optim_iterations(o));
    w_u32(w, (uint32_t)set);
    w_f32(w, lr);
    /* Only slots of the net's own weights can be restored by name. */
    size_t n = 0;
    for (size_t i = 0; i < tc__optim_n_entries(o); i++)
      n += weight_name_of(net, tc__optim_entry(o, i)->param) != NULL;
    w_u32(w, (uint32_t)n);
    for (size_t i = 0; i < tc__optim_n_entries(o); i++) {
      tc__optim_slot *e = tc__optim_entry(o, i);
      const char *name = weight_name_of(net, e->param);
      if (!name) continue;
      w_str(w, name);
      w_u32(w, (uint32_t)e->n);
      for (int k = 0; k < e->n; k++) w_tensor(w, e->s[k]);
    }
    sec_end(w, s);
  }

  s = sec_begin(w, "STAT");
  w_i32(w, net->epochs_done);
  w_u32(w, net->ctx != NULL);
  for (int i = 0; i < 4; i++) w_u64(w, net->ctx ? net->ctx->rng[i] : 0);
  sec_end(w, s);

  s = sec_begin(w, "END ");
  sec_end(w, s);
}

static tc_status write_atomic(tc_net *net, const char *path, const void *data, size_t n) {
  size_t pl = strlen(path);
  char *tmp = tc__malloc(pl + 16), *dir = tc__malloc(pl + 2);
  if (!tmp || !dir) {
    tc__free(tmp);
    tc__free(dir);
    return tc__net_err(net, TC_ERR_NOMEM, "save: out of memory");
  }
  memcpy(tmp, path, pl);
  memcpy(tmp + pl, ".tmp.XXXXXX", 12);
  tc_status st = TC_OK;
  int fd = mkstemp(tmp);
  if (fd < 0) {
    st = tc__net_err(net, TC_ERR_IO, "save: cannot create a temporary file next to %s", path);
    goto out;
  }
  fchmod(fd, 0644);
  FILE *f = fdopen(fd, "wb");
  if (!f) {
    close(fd);
    unlink(tmp);
    st = tc__net_err(net, TC_ERR_IO, "save: cannot open %s", tmp);
    goto out;
  }
  int ok = fwrite(data, 1, n, f) == n && fflush(f) == 0 && fsync(fileno(f)) == 0;
  ok = (fclose(f) == 0) && ok;
  if (!ok || rename(tmp, path) != 0) {
    unlink(tmp);
    st = tc__net_err(net, TC_ERR_IO, "save: cannot write %s", path);
    goto out;
  }
  /* Make the rename durable: fsync the directory that holds the file. */
  memcpy(dir, path, pl + 1);
  char *slash = strrchr(dir, '/');
  if (slash == dir)
    dir[1] = 0;
  else if (slash)
    *slash = 0;
  else
    memcpy(dir, ".", 2);
  int dfd = open(dir, O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
out:
  tc__free(tmp);
  tc__free(dir);
  return st;
}

tc_status tc_net_save(tc_net *net, const char *path) {
  if (!net || !path) return TC_ERR_ARG;
  if (!tc_net_built(net)) return tc__net_err(net, TC_ERR_STATE, "save: the net is not built");
  wbuf w = {0};
  serialize(net, &w);
  tc_status st = w.oom ? tc__net_err(net, TC_ERR_NOMEM, "save: out of memory")
                       : write_atomic(net, path, w.p, w.n);
  tc__free(w.p);
  return st;
}

/* ---- reader ---- */

typedef struct rbuf {
  const uint8_t *p;
  size_t n, pos;
  int bad;
} rbuf;

static int r_has(rbuf *r, size_t n) {
  if (r->bad || r->n - r->pos < n) {
    r->bad = 1;
    return 0;
  }
  return 1;
}
static uint32_t r_u32(rbuf *r) {
  if (!r_has(r, 4)) return 0;
  const uint8_t *b = r->p + r->pos;
  r->pos += 4;
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static uint64_t r_u64(rbuf *r) {
  uint64_t lo = r_u32(r);
  return lo | (uint64_t)r_u32(r) << 32;
}
static int32_t r_i32(rbuf *r) { return (int32_t)r_u32(r); }
static float r_f32(rbuf *r) {
  uint32_t u = r_u32(r);
  float f;
  memcpy(&f, &u, 4);
  return f;
}
static void r_str(rbuf *r, char *out, size_t size) {
  uint32_t n = r_u32(r);
  out[0] = 0;
  if (!r_has(r, n)) return;
  size_t k = n < size - 1 ? n : size - 1;
  memcpy(out, r->p + r->pos, k);
  out[k] = 0;
  r->pos += n;
}
/* A tensor's shape and a pointer to its little-endian floats (read with r_f32 later). */
typedef struct rtensor {
  int rank;
  int32_t dims[TC_MAX_DIMS];
  size_t size;
  size_t data_pos;
} rtensor;
static void r_tensor(rbuf *r, rtensor *t) {
  t->rank = (int)r_u32(r);
  t->size = 1;
  if (t->rank < 0 || t->rank > TC_MAX_DIMS) {
    r->bad = 1;
    return;
  }
  for (int i = 0; i < t->rank; i++) {
    t->dims[i] = r_i32(r);
    if (t->dims[i] < 1 || t->size > ((size_t)1 << 40)) {
      r->bad = 1;
      return;
    }
    t->size *= (size_t)t->dims[i];
  }
  t->data_pos = r->pos;
  if (t->size > r->n / 4 || !r_has(r, t->size * 4)) return;
  r->pos += t->size * 4;
}
static void load_floats(const rbuf *r, const rtensor *t, float *out) {
  const uint8_t *b = r->p + t->data_pos;
  for (size_t i = 0; i < t->size; i++, b += 4) {
    uint32_t u = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
    memcpy(&out[i], &u, 4);
  }
}

static void r_config(rbuf *r, tc_layer_config *c) {
  memset(c, 0, sizeof *c);
#define RI(f) c->f = r_i32(r);
#define RF(f) c->f = r_f32(r);
  CFG_FIELDS(RI, RF)
#undef RI
#undef RF
  for (int i = 0; i < TC_MAX_DIMS; i++) c->dims[i] = r_i32(r);
  r_str(r, c->name, sizeof c->name);
}

static void r_optim_cfg(rbuf *r, tc_optim_config *o) {
  memset(o, 0, sizeof *o);
  o->kind = r_u32(r);
  o->learning_rate = r_f32(r);
  tc_schedule *s = &o->schedule;
  s->kind = r_u32(r);
  s->initial = r_f32(r);
  s->decay_steps = (int64_t)r_u64(r);
  s->decay_rate = r_f32(r);
  s->staircase = r_i32(r);
  s->alpha = r_f32(r);
  s->n_boundaries = r_i32(r);
  for (int i = 0; i < TC_SCHEDULE_MAX_BOUNDARIES; i++) s->boundaries[i] = (int64_t)r_u64(r);
  for (int i = 0; i <= TC_SCHEDULE_MAX_BOUNDARIES; i++) s->values[i] = r_f32(r);
  if (s->n_boundaries < 0 || s->n_boundaries > TC_SCHEDULE_MAX_BOUNDARIES) r->bad = 1;
  o->momentum = r_f32(r);
  o->nesterov = r_i32(r);
  o->beta_1 = r_f32(r);
  o->beta_2 = r_f32(r);
  o->epsilon = r_f32(r);
  o->rho = r_f32(r);
  o->weight_decay = r_f32(r);
}

/* The sections of a verified file. */
typedef struct ckpt {
  uint8_t *file;
  size_t size;
  rbuf arch, wght, comp, optm, stat;
  int has_comp, has_optm, has_stat;
} ckpt;

static tc_status ckpt_err(char *err, size_t size, tc_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
static tc_status ckpt_err(char *err, size_t size, tc_status st, const char *fmt, ...) {
  if (err && size) {
    va_list ap;
    va_start(ap, fmt);
    tc__vfmt(err, size, fmt, ap);
    va_end(ap);
  }
  return st;
}

/* Reads the file and checks magic, version, every section's bounds and CRC, and the END
 * marker. Section payloads stay in k->file. */
static tc_status ckpt_open(const char *path, ckpt *k, char *err, size_t es) {
  memset(k, 0, sizeof *k);
  FILE *f = fopen(path, "rb");
  if (!f) return ckpt_err(err, es, TC_ERR_IO, "checkpoint %s: cannot open", path);
  long sz = -1;
  if (fseek(f, 0, SEEK_END) == 0) sz = ftell(f);
  if (sz < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return ckpt_err(err, es, TC_ERR_IO, "checkpoint %s: cannot read", path);
  }
  k->file = tc__malloc((size_t)sz + 1);
  if (!k->file) {
    fclose(f);
    return ckpt_err(err, es, TC_ERR_NOMEM, "checkpoint %s: out of memory", path);
  }
  k->size = fread(k->file, 1, (size_t)sz, f);
  fclose(f);
  if (k->size != (size_t)sz) return ckpt_err(err, es, TC_ERR_IO, "checkpoint %s: read error", path);
  if (k->size < 16 || memcmp(k->file, MAGIC, 8) != 0)
    return ckpt_err(err, es, TC_ERR_MODEL, "checkpoint %s: bad magic (not a tensorc checkpoint)",
                    path);
  rbuf r = {k->file, k->size, 8, 0};
  uint32_t ver = r_u32(&r);
  r_u32(&r);
  if (ver != VERSION)
    return ckpt_err(err, es, TC_ERR_MODEL, "checkpoint %s: unsupported version %u (expected %u)",
                    path, ver, VERSION);
  int ended = 0, has_arch = 0, has_wght = 0;
  while (!ended) {
    if (k->size - r.pos < 12)
      return ckpt_err(err, es, TC_ERR_MODEL,
                      "checkpoint %s: truncated (%zu bytes; no END section)", path, k->size);
    char tag[5];
    memcpy(tag, k->file + r.pos, 4);
    tag[4] = 0;
    size_t start = r.pos;
    r.pos += 4;
    uint64_t len = r_u64(&r);
    if (len > k->size - r.pos || k->size - r.pos - (size_t)len < 4)
      return ckpt_err(err, es, TC_ERR_MODEL,
                      "checkpoint %s: truncated in section %s (needs %llu bytes, %zu left)", path,
                      tag, (unsigned long long)len + 4, k->size - r.pos);
    uint32_t want = tc__crc32(0, k->file + start, (size_t)len + 12);
    rbuf body = {k->file + r.pos, (size_t)len, 0, 0};
    r.pos += (size_t)len;
    uint32_t got = r_u32(&r);
    if (got != want)
      return ckpt_err(err, es, TC_ERR_MODEL,
                      "checkpoint %s: CRC mismatch in section %s (stored %08x, computed %08x): "
                      "the file is corrupt", path, tag, got, want);
    if (!strcmp(tag, "ARCH")) k->arch = body, has_arch = 1;
    else if (!strcmp(tag, "WGHT")) k->wght = body, has_wght = 1;
    else if (!strcmp(tag, "COMP")) k->comp = body, k->has_comp = 1;
    else if (!strcmp(tag, "OPTM")) k->optm = body, k->has_optm = 1;
    else if (!strcmp(tag, "STAT")) k->stat = body, k->has_stat = 1;
    else if (!strcmp(tag, "END ")) ended = 1;
    /* Unknown sections are skipped (newer writers may add some). */
  }
  if (!has_arch || !has_wght)
    return ckpt_err(err, es, TC_ERR_MODEL, "checkpoint %s: missing the %s section", path,
                    has_arch ? "WGHT" : "ARCH");
  return TC_OK;
}

static void ckpt_close(ckpt *k) { tc__free(k->file); }

/* Checks every WGHT entry against the net (names and shapes) and, if apply, copies them. */
static tc_status apply_weights(tc_net *net, ckpt *k, int apply, char *err, size_t es) {
  rbuf r = k->wght;
  uint32_t n = r_u32(&r);
  if (n != net->n_weights && !r.bad)
    return ckpt_err(err, es, TC_ERR_MODEL, "checkpoint has %u weights, the net has %zu", n,
                    net->n_weights);
  for (uint32_t i = 0; i < n && !r.bad; i++) {
    char name[112], a[96], b[96];
    rtensor t;
    r_str(&r, name, sizeof name);
    r_tensor(&r, &t);
    if (r.bad) break;
    tc_tensor *w = tc_net_find_weight(net, name);
    if (!w)
      return ckpt_err(err, es, TC_ERR_MODEL, "checkpoint weight %s does not exist in the net",
                      name);
    int same = t.rank == tc_tensor_rank(w);
    for (int d = 0; same && d < t.rank; d++) same = t.dims[d] == tc_tensor_dim(w, d);
    if (!same) {
      tc_tensor_shape_str(w, b, sizeof b);
      size_t p = (size_t)snprintf(a, sizeof a, "[");
      for (int d = 0; d < t.rank && p < sizeof a; d++)
        p += (size_t)snprintf(a + p, sizeof a - p, d ? ",%d" : "%d", (int)t.dims[d]);
      if (p < sizeof a) snprintf(a + p, sizeof a - p, "]");
      return ckpt_err(err, es, TC_ERR_MODEL,
                      "weight %s: the checkpoint has shape %s, the net has %s", name, a, b);
    }
    if (apply) load_floats(&r, &t, tc_tensor_f32(w));
  }
  if (r.bad) return ckpt_err(err, es, TC_ERR_MODEL, "checkpoint: malformed WGHT section");
  return TC_OK;
}

/* Compares the ARCH section with the net layer by layer. */
static tc_status compare_arch(const tc_net *net, ckpt *k, char *err, size_t es) {
  rbuf r = k->arch;
  char name[64];
  r_str(&r, name, sizeof name);
  r_u32(&r);
  r_u64(&r);
  uint32_t n = r_u32(&r);
  if (!r.bad && n != (uint32_t)net->n_layers)
    return ckpt_err(err, es, TC_ERR_MODEL, "the checkpoint has %u layers, the net has %d", n,
                    net->n_layers);
  for (uint32_t i = 0; i < n && !r.bad; i++) {
    tc_layer_config c;
    r_config(&r, &c);
    uint32_t n_in = r_u32(&r);
    for (uint32_t j = 0; j < n_in && j < 64; j++) r_u32(&r);
    if (r.bad) break;
    const tc_layer_config *m = &net->layers[i].cfg;
    if (c.kind != m->kind || strcmp(c.name, m->name))
      return ckpt_err(err, es, TC_ERR_MODEL,
                      "layer %u: the checkpoint has %s (%s), the net has %s (%s)", i, c.name,
                      tc_layer_kind_class(c.kind), m->name, tc_layer_kind_class(m->kind));
    if (c.units != m->units || c.kernel_h != m->kernel_h || c.kernel_w != m->kernel_w ||
        c.activation != m->activation || c.use_bias != m->use_bias)
      return ckpt_err(err, es, TC_ERR_MODEL,
                      "layer %u (%s): the checkpoint's config differs (units %d vs %d, kernel "
                      "%dx%d vs %dx%d, activation %s vs %s, use_bias %d vs %d)", i, c.name,
                      c.units, m->units, c.kernel_h, c.kernel_w, m->kernel_h, m->kernel_w,
                      tc_activation_name(c.activation), tc_activation_name(m->activation),
                      c.use_bias, m->use_bias);
  }
  if (r.bad) return ckpt_err(err, es, TC_ERR_MODEL, "checkpoint: malformed ARCH section");
  return TC_OK;
}

/* Restores compile settings (when `compile`), optimizer state, epoch count and RNG. */
static tc_status apply_training_state(tc_net *net, ckpt *k, int compile, char *err, size_t es) {
  tc_status st;
  if (k->has_comp && compile) {
    rbuf r = k->comp;
    tc_loss loss;
    loss.kind = r_u32(&r);
    loss.from_logits = (int)r_u32(&r);
    tc_optim_config oc;
    r_optim_cfg(&r, &oc);
    uint32_t nm = r_u32(&r);
    tc_metric_kind mk[TC_NET_MAX_METRICS];
    if (nm > TC_NET_MAX_METRICS) r.bad = 1;
    for (uint32_t i = 0; i < nm && !r.bad; i++) mk[i] = r_u32(&r);
    if (r.bad) return ckpt_err(err, es, TC_ERR_MODEL, "checkpoint: malformed COMP section");
    if ((st = tc_net_compile(net, loss, oc, (int)nm, mk)))
      return ckpt_err(err, es, TC_ERR_MODEL, "checkpoint: invalid compile settings: %s",
                      tc_net_errmsg(net));
  }
  if (k->has_optm && net->opt) {
    rbuf r = k->optm;
    int64_t it = (int64_t)r_u64(&r);
    uint32_t set = r_u32(&r);
    float lr = r_f32(&r);
    uint32_t n = r_u32(&r);
    /* Slots are applied after a full parse so that a bad section changes nothing. */
    rbuf chk = r;
    for (uint32_t i = 0; i < n && !chk.bad; i++) {
      char name[112];
      r_str(&chk, name, sizeof name);
      uint32_t ns = r_u32(&chk);
      tc_tensor *w = tc_net_find_weight(net, name);
      if (!w || (int)ns != tc__optim_n_slots(tc_optim_get_config(net->opt)))
        return ckpt_err(err, es, TC_ERR_MODEL,
                        "checkpoint optimizer state for %s does not fit the net's optimizer",
                        name);
      for (uint32_t s = 0; s < ns && !chk.bad; s++) {
        rtensor t;
        r_tensor(&chk, &t);
        if (!chk.bad && t.size != tc_tensor_size(w))
          return ckpt_err(err, es, TC_ERR_MODEL, "checkpoint optimizer slot of %s: wrong size",
                          name);
      }
    }
    if (chk.bad) return ckpt_err(err, es, TC_ERR_MODEL, "checkpoint: malformed OPTM section");
    for (uint32_t i = 0; i < n; i++) {
      char name[112];
      r_str(&r, name, sizeof name);
      uint32_t ns = r_u32(&r);
      tc__optim_slot *slot = tc__optim_slots(net->opt, tc_net_find_weight(net, name));
      if (!slot) return ckpt_err(err, es, TC_ERR_NOMEM, "checkpoint: out of memory");
      for (uint32_t s = 0; s < ns; s++) {
        rtensor t;
        r_tensor(&r, &t);
        load_floats(&r, &t, tc_tensor_f32(slot->s[s]));
      }
    }
    tc__optim_set_iterations(net->opt, it);
    if (set) tc_optim_set_lr(net->opt, lr);
  }
  if (k->has_stat) {
    rbuf r = k->stat;
    int32_t ep = r_i32(&r);
    uint32_t has_rng = r_u32(&r);
    uint64_t rng[4];
    for (int i = 0; i < 4; i++) rng[i] = r_u64(&r);
    if (r.bad || ep < 0) return ckpt_err(err, es, TC_ERR_MODEL, "checkpoint: malformed STAT section");
    net->epochs_done = ep;
    if (has_rng) {
      if ((st = tc__net_ensure_ctx(net))) return st;
      memcpy(net->ctx->rng, rng, sizeof rng);
    }
  }
  return TC_OK;
}

tc_status tc_net_load(const char *path, tc_net **out, char *err, size_t es) {
  if (!path || !out) return TC_ERR_ARG;
  *out = NULL;
  if (err && es) err[0] = 0;
  ckpt k;
  tc_status st = ckpt_open(path, &k, err, es);
  tc_net *net = NULL;
  if (st) goto fail;
  if ((st = tc_net_create(&net))) goto fail;
  rbuf r = k.arch;
  r_str(&r, net->name, sizeof net->name);
  int functional = (int)r_u32(&r);
  net->seed = r_u64(&r);
  uint32_t n = r_u32(&r);
  for (uint32_t i = 0; i < n && !r.bad; i++) {
    tc_layer_config c;
    r_config(&r, &c);
    uint32_t n_in = r_u32(&r);
    int in[TC__LAYER_MAX_IN];
    if (n_in > TC__LAYER_MAX_IN) r.bad = 1;
    for (uint32_t j = 0; j < n_in && !r.bad; j++) in[j] = (int)r_u32(&r);
    if (r.bad) break;
    if (c.kind == TC_LAYER_INPUT) {
      if ((st = tc_net_input(net, c.rank, c.dims, NULL))) break;
      /* Keep the stored name (tc_net_input names it automatically). */
      tc__fmt(net->layers[net->n_layers - 1].cfg.name, sizeof c.name, "%s", c.name);
    } else if ((st = tc_net_call(net, c, (int)n_in, in, NULL))) {
      break;
    }
  }
  if (!st && !r.bad) {
    uint32_t no = r_u32(&r);
    int outs[TC__NET_MAX_IO];
    if (no > TC__NET_MAX_IO) r.bad = 1;
    for (uint32_t i = 0; i < no && !r.bad; i++) outs[i] = (int)r_u32(&r);
    uint32_t expl = r_u32(&r);
    if (!r.bad && expl && (st = tc_net_set_outputs(net, (int)no, outs))) r.bad = 1;
  }
  if (st || r.bad) {
    ckpt_err(err, es, TC_ERR_MODEL, "checkpoint %s: cannot rebuild the architecture: %s", path,
             r.bad ? "malformed ARCH section" : tc_net_errmsg(net));
    st = TC_ERR_MODEL;
    goto fail;
  }
  net->functional = functional;
  if (!tc_net_built(net)) {
    st = ckpt_err(err, es, TC_ERR_MODEL, "checkpoint %s: the architecture is incomplete", path);
    goto fail;
  }
  if ((st = tc_net_build(net, 0, NULL))) goto fail; /* sets the default outputs */
  if ((st = apply_weights(net, &k, 1, err, es)) ||
      (st = apply_training_state(net, &k, 1, err, es)))
    goto fail;
  ckpt_close(&k);
  *out = net;
  return TC_OK;
fail:
  ckpt_close(&k);
  tc_net_destroy(net);
  return st;
}

tc_status tc_net_load_weights(tc_net *net, const char *path) {
  if (!net || !path) return TC_ERR_ARG;
  if (!tc_net_built(net)) return tc__net_err(net, TC_ERR_STATE, "load_weights: build the net first");
  ckpt k;
  char err[400];
  tc_status st = ckpt_open(path, &k, err, sizeof err);
  if (!st && !(st = compare_arch(net, &k, err, sizeof err)) &&
      !(st = apply_weights(net, &k, 0, err, sizeof err)))
    st = apply_weights(net, &k, 1, err, sizeof err);
  if (!st && k.has_optm && net->opt) {
    /* The optimizer state is restored only into the same kind of optimizer (same slots);
     * otherwise the net keeps its own optimizer state and only the weights are loaded. */
    rbuf r = k.comp;
    tc_optim_config oc;
    r_u32(&r);
    r_u32(&r);
    r_optim_cfg(&r, &oc);
    if (!k.has_comp || r.bad || oc.kind != tc_optim_get_config(net->opt)->kind ||
        tc__optim_n_slots(&oc) != tc__optim_n_slots(tc_optim_get_config(net->opt)))
      k.has_optm = 0;
  }
  if (!st) st = apply_training_state(net, &k, 0, err, sizeof err);
  ckpt_close(&k);
  if (st) return tc__net_err(net, st, "%s", err);
  return TC_OK;
}
