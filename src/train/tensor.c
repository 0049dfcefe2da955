/* tensor.c: the training context (step arena, scratch buffers, RNG, error message) and eager
 * tensors: persistent ones on the heap, step ones bump-allocated from the arena, accessors and
 * the Keras initializers. The arena is a list of chunks; a reset rewinds to the first chunk and,
 * if a step spilled into more than one chunk, replaces them by one chunk big enough for the
 * whole step, so steady-state steps never call malloc. */
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "train/train.h"

#define TC__ALIGN 64
#define TC__CHUNK_HDR TC_ALIGN_UP(sizeof(tc__chunk), TC__ALIGN)

/* ---- errors ---- */

tc_status tc__tr_err(tc_train_ctx *ctx, tc_status st, const char *fmt, ...) {
  if (ctx) {
    va_list ap;
    va_start(ap, fmt);
    tc__vfmt(ctx->err, sizeof ctx->err, fmt, ap);
    va_end(ap);
  }
  return st;
}

const char *tc__tr_shape(const tc_tensor *t, char *buf, size_t size) {
  return tc_tensor_shape_str(t, buf, size);
}

tc_status tc__tr_check(tc_train_ctx *ctx, const char *op, const char *what, const tc_tensor *t,
                    tc_dtype dtype) {
  if (!t) return tc__tr_err(ctx, TC_ERR_ARG, "%s: %s is NULL", op, what);
  if (t->dtype != dtype)
    return tc__tr_err(ctx, TC_ERR_ARG, "%s: %s has dtype %s, expected %s", op, what,
                   tc_dtype_name(t->dtype), tc_dtype_name(dtype));
  return TC_OK;
}

/* ---- arena ---- */

static tc__chunk *chunk_new(size_t size) {
  size_t total;
  if (!tc__add_size(size, TC__CHUNK_HDR + TC__ALIGN, &total)) return NULL;
  uint8_t *raw = tc__malloc(total);
  if (!raw) return NULL;
  /* The chunk header sits at an aligned address inside the block; remember the raw pointer
   * right before it so it can be freed. */
  uintptr_t p = ((uintptr_t)raw + sizeof(void *) + TC__ALIGN - 1) & ~(uintptr_t)(TC__ALIGN - 1);
  tc__chunk *c = (tc__chunk *)p;
  ((void **)c)[-1] = raw;
  c->next = NULL;
  c->size = size;
  c->used = 0;
  return c;
}

static void chunk_free(tc__chunk *c) {
  if (c) tc__free(((void **)c)[-1]);
}

static void chunks_free(tc__chunk *c) {
  while (c) {
    tc__chunk *n = c->next;
    chunk_free(c);
    c = n;
  }
}

void *tc__tr_alloc(tc_train_ctx *ctx, size_t size) {
  size_t need = TC_ALIGN_UP(size ? size : 1, TC__ALIGN);
  if (need < size) {
    tc__tr_err(ctx, TC_ERR_NOMEM, "step arena: size overflow");
    return NULL;
  }
  tc__chunk *c = ctx->cur;
  while (c && c->size - c->used < need) {
    /* Move on to the next chunk (kept from earlier steps) or append a new one. */
    if (!c->next) {
      size_t sz = TC_MAX(need, TC_MAX(ctx->chunk_default, c->size));
      tc__chunk *n = chunk_new(sz);
      if (!n) {
        tc__tr_err(ctx, TC_ERR_NOMEM, "step arena: cannot allocate %zu bytes", sz);
        return NULL;
      }
      c->next = n;
    }
    c = c->next;
    c->used = 0;
    ctx->n_chunks_used++;
  }
  ctx->cur = c;
  uint8_t *p = (uint8_t *)c + TC__CHUNK_HDR + c->used;
  c->used += need;
  ctx->step_used += need;
  return p;
}

void tc_train_ctx_step_reset(tc_train_ctx *ctx) {
  if (!ctx) return;
  if (ctx->n_chunks_used > 1) {
    /* The last step spilled: replace every chunk by one that holds the whole step. */
    size_t total = 0;
    for (tc__chunk *c = ctx->first; c; c = c->next) total += c->size;
    tc__chunk *one = chunk_new(total);
    if (one) {
      chunks_free(ctx->first);
      ctx->first = one;
    }
  }
  ctx->first->used = 0;
  ctx->cur = ctx->first;
  ctx->n_chunks_used = 1;
  ctx->step_used = 0;
  ctx->recording = 0;
  ctx->n_nodes = 0;
  ctx->last = NULL;
}

void *tc__tr_scratch(tc_train_ctx *ctx, int slot, size_t size) {
  if (ctx->scratch_size[slot] >= size) return ctx->scratch[slot];
  size_t sz = TC_ALIGN_UP(TC_MAX(size, ctx->scratch_size[slot] + ctx->scratch_size[slot] / 2),
                          TC__ALIGN);
  /* Over-allocate by one alignment unit and keep the raw pointer in front of the buffer. */
  uint8_t *raw = tc__malloc(sz + TC__ALIGN + sizeof(void *));
  if (!raw) {
    tc__tr_err(ctx, TC_ERR_NOMEM, "scratch: cannot allocate %zu bytes", sz);
    return NULL;
  }
  uintptr_t p = ((uintptr_t)raw + sizeof(void *) + TC__ALIGN - 1) & ~(uintptr_t)(TC__ALIGN - 1);
  ((void **)p)[-1] = raw;
  if (ctx->scratch[slot]) tc__free(((void **)ctx->scratch[slot])[-1]);
  ctx->scratch[slot] = (void *)p;
  ctx->scratch_size[slot] = sz;
  return (void *)p;
}

tc_status tc_train_ctx_create(size_t arena_bytes, uint64_t seed, tc_train_ctx **out) {
  if (!out) return TC_ERR_ARG;
  *out = NULL;
  tc_train_ctx *ctx = tc__calloc(1, sizeof *ctx);
  if (!ctx) return TC_ERR_NOMEM;
  ctx->chunk_default = arena_bytes ? arena_bytes : ((size_t)4 << 20);
  ctx->first = chunk_new(ctx->chunk_default);
  if (!ctx->first) {
    tc__free(ctx);
    return TC_ERR_NOMEM;
  }
  ctx->cur = ctx->first;
  ctx->n_chunks_used = 1;
  ctx->n_threads = 1;
  /* Every context gets its own range of gradient epochs, so a persistent tensor used by two
   * contexts (one after the other, possibly at the same address) never sees a stale match. */
  static _Atomic uint64_t next_id = 1;
  ctx->grad_epoch = atomic_fetch_add(&next_id, 1) << 32;
  tc__tr_rng_seed(ctx->rng, seed);
  *out = ctx;
  return TC_OK;
}

tc_status tc_train_ctx_set_threads(tc_train_ctx *ctx, int n_threads) {
  if (!ctx || n_threads < 1) return TC_ERR_ARG;
  if (n_threads == ctx->n_threads) return TC_OK;
  tc_threadpool *pool = NULL;
  if (n_threads > 1 && !(pool = tc_threadpool_create(n_threads)))
    return tc__tr_err(ctx, TC_ERR_NOMEM, "set_threads: cannot start %d threads", n_threads);
  tc_threadpool_destroy(ctx->pool);
  ctx->pool = pool;
  ctx->n_threads = n_threads;
  return TC_OK;
}

int tc_train_ctx_threads(const tc_train_ctx *ctx) { return ctx ? ctx->n_threads : 1; }

void tc_train_ctx_destroy(tc_train_ctx *ctx) {
  if (!ctx) return;
  tc_threadpool_destroy(ctx->pool);
  chunks_free(ctx->first);
  for (int i = 0; i < TC__N_SCRATCH; i++)
    if (ctx->scratch[i]) tc__free(((void **)ctx->scratch[i])[-1]);
  tc__free(ctx);
}

const char *tc_train_ctx_errmsg(const tc_train_ctx *ctx) { return ctx ? ctx->err : ""; }

size_t tc_train_ctx_step_used(const tc_train_ctx *ctx) { return ctx ? ctx->step_used : 0; }

size_t tc_train_ctx_capacity(const tc_train_ctx *ctx) {
  if (!ctx) return 0;
  size_t total = 0;
  for (tc__chunk *c = ctx->first; c; c = c->next) total += c->size;
  for (int i = 0; i < TC__N_SCRATCH; i++) total += ctx->scratch_size[i];
  return total;
}

void tc_train_ctx_seed(tc_train_ctx *ctx, uint64_t seed) {
  if (ctx) tc__tr_rng_seed(ctx->rng, seed);
}

/* ---- RNG: xoshiro256** seeded through splitmix64 ---- */

static uint64_t splitmix(uint64_t *x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void tc__tr_rng_seed(uint64_t s[4], uint64_t seed) {
  for (int i = 0; i < 4; i++) s[i] = splitmix(&seed);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t tc__tr_rng_next(uint64_t s[4]) {
  uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return r;
}

/* ---- tensors ---- */

static tc_status shape_ok(tc_dtype dtype, int rank, const int32_t *dims, size_t *size) {
  if (dtype != TC_DTYPE_F32 && dtype != TC_DTYPE_I32) return TC_ERR_ARG;
  if (rank < 0 || rank > TC_MAX_DIMS || (rank > 0 && !dims)) return TC_ERR_ARG;
  size_t n = 1;
  for (int i = 0; i < rank; i++) {
    if (dims[i] < 1) return TC_ERR_ARG;
    if (!tc__mul_size(n, (size_t)dims[i], &n)) return TC_ERR_ARG;
  }
  if (n > (SIZE_MAX >> 3)) return TC_ERR_ARG;
  *size = n;
  return TC_OK;
}

static void set_shape(tc_tensor *t, tc_dtype dtype, int rank, const int32_t *dims, size_t size) {
  memset(t, 0, sizeof *t);
  t->dtype = dtype;
  t->rank = rank;
  for (int i = 0; i < rank; i++) t->dims[i] = dims[i];
  t->size = size;
}

tc_status tc_tensor_create(tc_dtype dtype, int rank, const int32_t *dims, tc_tensor **out) {
  if (!out) return TC_ERR_ARG;
  *out = NULL;
  size_t n;
  tc_status st = shape_ok(dtype, rank, dims, &n);
  if (st) return st;
  /* Header and data in one block; data 64-byte aligned after the raw pointer slot. */
  size_t hdr = TC_ALIGN_UP(sizeof(tc_tensor), TC__ALIGN);
  uint8_t *raw = tc__malloc(hdr + n * 4 + 2 * TC__ALIGN);
  if (!raw) return TC_ERR_NOMEM;
  uintptr_t p = ((uintptr_t)raw + sizeof(void *) + TC__ALIGN - 1) & ~(uintptr_t)(TC__ALIGN - 1);
  ((void **)p)[-1] = raw;
  tc_tensor *t = (tc_tensor *)p;
  set_shape(t, dtype, rank, dims, n);
  t->data = (uint8_t *)p + hdr;
  memset(t->data, 0, n * 4);
  t->flags = TC__T_PERSISTENT;
  *out = t;
  return TC_OK;
}

tc_status tc_tensor_create_from(tc_dtype dtype, int rank, const int32_t *dims, const void *data,
                                tc_tensor **out) {
  if (!data) return TC_ERR_ARG;
  tc_status st = tc_tensor_create(dtype, rank, dims, out);
  if (st) return st;
  memcpy((*out)->data, data, (*out)->size * 4);
  return TC_OK;
}

tc_status tc_tensor_create_param(int rank, const int32_t *dims, tc_tensor **out) {
  tc_status st = tc_tensor_create(TC_DTYPE_F32, rank, dims, out);
  if (st) return st;
  (*out)->flags |= TC__T_TRAINABLE | TC__T_NEEDS_GRAD;
  return TC_OK;
}

void tc_tensor_destroy(tc_tensor *t) {
  /* Step tensors belong to their context; ignoring them keeps a misuse harmless. */
  if (!t || !(t->flags & TC__T_PERSISTENT)) return;
  tc__free(((void **)t)[-1]);
}

tc_status tc__tr_new(tc_train_ctx *ctx, tc_dtype dtype, int rank, const int32_t *dims, int zero,
                  tc_tensor **out) {
  size_t n;
  if (shape_ok(dtype, rank, dims, &n))
    return tc__tr_err(ctx, TC_ERR_ARG, "tensor: invalid shape (rank %d) or dtype %s", rank,
                   tc_dtype_name(dtype));
  size_t hdr = TC_ALIGN_UP(sizeof(tc_tensor), TC__ALIGN);
  uint8_t *p = tc__tr_alloc(ctx, hdr + n * 4);
  if (!p) return TC_ERR_NOMEM;
  tc_tensor *t = (tc_tensor *)p;
  set_shape(t, dtype, rank, dims, n);
  t->data = p + hdr;
  if (zero) memset(t->data, 0, n * 4);
  *out = t;
  return TC_OK;
}

tc_status tc__tr_new_like(tc_train_ctx *ctx, const tc_tensor *like, int zero, tc_tensor **out) {
  return tc__tr_new(ctx, TC_DTYPE_F32, like->rank, like->dims, zero, out);
}

tc_status tc_tensor_step(tc_train_ctx *ctx, tc_dtype dtype, int rank, const int32_t *dims,
                         const void *data, tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  tc_status st = tc__tr_new(ctx, dtype, rank, dims, data == NULL, out);
  if (st) return st;
  if (data) memcpy((*out)->data, data, (*out)->size * 4);
  return TC_OK;
}

tc_status tc_tensor_wrap(tc_train_ctx *ctx, tc_dtype dtype, int rank, const int32_t *dims,
                         void *data, tc_tensor **out) {
  if (!ctx || !out) return TC_ERR_ARG;
  *out = NULL;
  if (!data) return tc__tr_err(ctx, TC_ERR_ARG, "tensor_wrap: data is NULL");
  size_t n;
  if (shape_ok(dtype, rank, dims, &n))
    return tc__tr_err(ctx, TC_ERR_ARG, "tensor_wrap: invalid shape (rank %d) or dtype %s", rank,
                   tc_dtype_name(dtype));
  tc_tensor *t = tc__tr_alloc(ctx, sizeof *t);
  if (!t) return TC_ERR_NOMEM;
  set_shape(t, dtype, rank, dims, n);
  t->data = data;
  *out = t;
  return TC_OK;
}

void tc_tensor_set_trainable(tc_tensor *t, int trainable) {
  if (!t) return;
  if (trainable)
    t->flags |= TC__T_TRAINABLE | TC__T_NEEDS_GRAD;
  else
    t->flags &= ~(TC__T_TRAINABLE | TC__T_NEEDS_GRAD);
}

int tc_tensor_trainable(const tc_tensor *t) { return t && (t->flags & TC__T_TRAINABLE) != 0; }
tc_dtype tc_tensor_dtype(const tc_tensor *t) { return t ? t->dtype : TC_DTYPE_UNKNOWN; }
int tc_tensor_rank(const tc_tensor *t) { return t ? t->rank : 0; }

int32_t tc_tensor_dim(const tc_tensor *t, int i) {
  if (!t) return 0;
  if (i < 0) i += t->rank;
  return (i >= 0 && i < t->rank) ? t->dims[i] : 0;
}

const int32_t *tc_tensor_dims(const tc_tensor *t) { return t ? t->dims : NULL; }
size_t tc_tensor_size(const tc_tensor *t) { return t ? t->size : 0; }

float *tc_tensor_f32(tc_tensor *t) {
  return (t && t->dtype == TC_DTYPE_F32) ? (float *)t->data : NULL;
}
int32_t *tc_tensor_i32(tc_tensor *t) {
  return (t && t->dtype == TC_DTYPE_I32) ? (int32_t *)t->data : NULL;
}
const float *tc_tensor_f32_const(const tc_tensor *t) {
  return (t && t->dtype == TC_DTYPE_F32) ? (const float *)t->data : NULL;
}
const int32_t *tc_tensor_i32_const(const tc_tensor *t) {
  return (t && t->dtype == TC_DTYPE_I32) ? (const int32_t *)t->data : NULL;
}

float tc_tensor_item(const tc_tensor *t) {
  if (!t || t->dtype != TC_DTYPE_F32 || t->size != 1) return NAN;
  return ((const float *)t->data)[0];
}

char *tc_tensor_shape_str(const tc_tensor *t, char *buf, size_t size) {
  if (!buf || !size) return buf;
  size_t pos = 0;
  buf[0] = 0;
  if (!t) {
    tc__fmt(buf, size, "(null)");
    return buf;
  }
  pos += (size_t)snprintf(buf + pos, size - pos, "[");
  for (int i = 0; i < t->rank && pos < size; i++)
    pos += (size_t)snprintf(buf + pos, size - pos, i ? ",%d" : "%d", (int)t->dims[i]);
  if (pos < size) snprintf(buf + pos, size - pos, "]");
  return buf;
}

/* ---- initializers ---- */

static double rng_u01(uint64_t s[4]) { return (double)(tc__tr_rng_next(s) >> 11) * 0x1.0p-53; }

/* Standard normal by Box-Muller (one value per call keeps it simple and reproducible). */
static double rng_normal(uint64_t s[4]) {
  double u1 = rng_u01(s), u2 = rng_u01(s);
  if (u1 < 1e-300) u1 = 1e-300;
  return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static double rng_truncnormal(uint64_t s[4]) {
  for (;;) {
    double z = rng_normal(s);
    if (z >= -2.0 && z <= 2.0) return z;
  }
}

static void fans(const tc_tensor *t, double *fan_in, double *fan_out) {
  if (t->rank == 0) {
    *fan_in = *fan_out = 1;
  } else if (t->rank == 1) {
    *fan_in = *fan_out = t->dims[0];
  } else if (t->rank == 2) {
    *fan_in = t->dims[0];
    *fan_out = t->dims[1];
  } else {
    double rf = 1;
    for (int i = 0; i < t->rank - 2; i++) rf *= t->dims[i];
    *fan_in = rf * t->dims[t->rank - 2];
    *fan_out = rf * t->dims[t->rank - 1];
  }
}

tc_status tc_tensor_init(tc_tensor *t, tc_init kind, float a, float b, uint64_t seed) {
  if (!t || t->dtype != TC_DTYPE_F32) return TC_ERR_ARG;
  float *d = t->data;
  uint64_t s[4];
  tc__tr_rng_seed(s, seed);
  double fi, fo, lim = 0, sd = 0;
  fans(t, &fi, &fo);
  int uniform = 1;
  switch (kind) {
  case TC_INIT_ZEROS: memset(d, 0, t->size * 4); return TC_OK;
  case TC_INIT_ONES: a = 1.0f; /* fall through */
  case TC_INIT_CONSTANT:
    for (size_t i = 0; i < t->size; i++) d[i] = a;
    return TC_OK;
  case TC_INIT_UNIFORM:
    for (size_t i = 0; i < t->size; i++) d[i] = (float)(a + (b - a) * rng_u01(s));
    return TC_OK;
  case TC_INIT_NORMAL:
    for (size_t i = 0; i < t->size; i++) d[i] = (float)(a + b * rng_normal(s));
    return TC_OK;
  case TC_INIT_GLOROT_UNIFORM: lim = sqrt(6.0 / (fi + fo)); break;
  case TC_INIT_HE_UNIFORM: lim = sqrt(6.0 / fi); break;
  case TC_INIT_LECUN_UNIFORM: lim = sqrt(3.0 / fi); break;
  case TC_INIT_GLOROT_NORMAL: uniform = 0; sd = sqrt(2.0 / (fi + fo)); break;
  case TC_INIT_HE_NORMAL: uniform = 0; sd = sqrt(2.0 / fi); break;
  case TC_INIT_LECUN_NORMAL: uniform = 0; sd = sqrt(1.0 / fi); break;
  default: return TC_ERR_ARG;
  }
  if (uniform) {
    for (size_t i = 0; i < t->size; i++) d[i] = (float)(lim * (2.0 * rng_u01(s) - 1.0));
  } else {
    sd /= 0.87962566103423978; /* stddev of a standard normal truncated at +-2 */
    for (size_t i = 0; i < t->size; i++) d[i] = (float)(sd * rng_truncnormal(s));
  }
  return TC_OK;
}
