/* test_robust.c: the .tflite loader and the interpreter must never crash on bad input. Every real
 * model in ../shared/models is truncated at many lengths and randomly byte-flipped, small hostile
 * flatbuffers are built by hand (a tiny forward builder below) or patched into a real model, and
 * every failure must come with a message. Risky runs happen in a forked child so a crash is
 * reported (with a reproducer saved under /tmp) instead of killing the runner; set
 * TC_ROBUST_NOFORK=1 to run in-process under a debugger, TC_ROBUST_ITERS to scale the fuzzing. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lite/flatbuf.h"
#include "tc_test.h"
#include "tensorc_lite.h"

/* ---- small utilities ------------------------------------------------------------------------- */

static uint64_t rng_next(uint64_t *s) {
  uint64_t x = *s;
  x ^= x << 13;
  x ^= x >> 7;
  x ^= x << 17;
  return *s = x;
}

static int env_int(const char *name, int dflt) {
  const char *v = getenv(name);
  if (!v || !*v) return dflt;
  int n = atoi(v);
  return n > 0 ? n : dflt;
}

/* Failures counted here too, so a forked child can report them through its exit status. */
static int g_rfail;
#define RCHECK(cond, ...)                                                                  \
  do {                                                                                     \
    tc_test_checks++;                                                                      \
    if (!(cond)) {                                                                         \
      g_rfail++;                                                                           \
      tc_test_fail(__FILE__, __LINE__, __VA_ARGS__);                                       \
    }                                                                                      \
  } while (0)

/* Memory shared with a forked child: what it is working on, for the crash report. */
typedef struct crash_ctx {
  char label[256];
  int iter;
  size_t len;                  /* bytes of `data` that hold the current input */
  uint8_t data[256 * 1024];    /* the current input (if it fits) */
} crash_ctx;

static crash_ctx *g_ctx; /* shared mapping, or plain memory with TC_ROBUST_NOFORK */

static crash_ctx *ctx_get(void) {
  if (!g_ctx) {
    void *p = mmap(NULL, sizeof(crash_ctx), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                   -1, 0);
    g_ctx = p == MAP_FAILED ? calloc(1, sizeof(crash_ctx)) : p;
  }
  return g_ctx;
}

static void ctx_note(int iter, const void *data, size_t len) {
  crash_ctx *c = ctx_get();
  c->iter = iter;
  c->len = len <= sizeof c->data ? len : 0;
  if (c->len) memcpy(c->data, data, len);
}

/* Runs fn(arg) in a child process. Returns 1 if it exited 0; otherwise reports the crash or the
 * failed checks, saves the child's current input under /tmp, and returns 0. */
static int isolate(const char *label, void (*fn)(void *), void *arg) {
  crash_ctx *c = ctx_get();
  snprintf(c->label, sizeof c->label, "%s", label);
  c->iter = -1;
  c->len = 0;
  if (getenv("TC_ROBUST_NOFORK")) {
    int before = g_rfail;
    fn(arg);
    return g_rfail == before;
  }
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) { /* cannot fork: run in-process */
    int before = g_rfail;
    fn(arg);
    return g_rfail == before;
  }
  if (pid == 0) {
    g_rfail = 0;
    fn(arg);
    fflush(stderr);
    exit(g_rfail ? 3 : 0);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return 1;
  if (WIFEXITED(st) && WEXITSTATUS(st) == 3) {
    RCHECK(0, "%s: checks failed in the child (see above)", label);
    return 0;
  }
  char saved[320] = "";
  if (c->len) {
    static int n_saved;
    snprintf(saved, sizeof saved, "/tmp/tc-robust-crash-%d-%d.tflite", (int)getpid(), ++n_saved);
    FILE *f = fopen(saved, "wb");
    if (f) {
      fwrite(c->data, 1, c->len, f);
      fclose(f);
    } else {
      saved[0] = '\0';
    }
  }
  RCHECK(0, "%s: CRASH (%s %d) at iteration %d%s%s", label,
         WIFSIGNALED(st) ? "signal" : "exit status", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st),
         c->iter, saved[0] ? "; reproducer saved to " : "", saved);
  return 0;
}

/* ---- the pipeline every input goes through --------------------------------------------------- */

enum { ST_LOAD = 0, ST_CREATE, ST_PREPARE, ST_INVOKE, ST_DONE };

typedef struct run_opts {
  void *arena; /* NULL: heap mode */
  size_t arena_size;
  int invoke;
  uint64_t *rng; /* random inputs (NULL: zeros) */
  const char *label;
  int iter;
} run_opts;

static void fill_inputs(tc_interp *it, const run_opts *o) {
  for (int i = 0; i < tc_interp_input_count(it); i++) {
    tc_tensor_info ti;
    if (tc_interp_tensor(it, tc_interp_input_index(it, i), &ti) != TC_OK) continue;
    if (ti.size > (64u << 20)) continue;
    uint8_t *buf = calloc(1, ti.size ? ti.size : 1);
    if (!buf) continue;
    if (o->rng) {
      if (ti.dtype == TC_DTYPE_F32) {
        for (size_t k = 0; k + 4 <= ti.size; k += 4) {
          float v = (float)((int)(rng_next(o->rng) % 2001) - 1000) / 250.0f;
          memcpy(buf + k, &v, 4);
        }
      } else {
        for (size_t k = 0; k < ti.size; k++) buf[k] = (uint8_t)rng_next(o->rng);
      }
    }
    tc_status s = tc_interp_set_input(it, i, buf, ti.size);
    RCHECK(s == TC_OK || tc_interp_errmsg(it)[0], "%s #%d: set_input %d failed without a message",
           o->label, o->iter, i);
    free(buf);
  }
}

/* load -> create -> prepare -> (inputs) -> invoke. Returns the stage that failed (ST_DONE if
 * all passed). Every failure must carry a message. */
static int run_pipeline(const void *data, size_t size, const run_opts *o) {
  tc_model *m = NULL;
  tc_status s = tc_model_load_memory(data, size, NULL, &m);
  if (s != TC_OK) {
    RCHECK(m && tc_model_errmsg(m)[0], "%s #%d: load failed (%s) without a message", o->label,
           o->iter, tc_status_str(s));
    tc_model_destroy(m);
    return ST_LOAD;
  }
  (void)tc_model_subgraph_count(m);
  int stage = ST_CREATE;
  tc_interp *it = NULL;
  tc_interp_options io;
  memset(&io, 0, sizeof io);
  io.arena = o->arena;
  io.arena_size = o->arena_size;
  s = tc_interp_create(m, &io, &it);
  if (s != TC_OK) {
    RCHECK(!it || tc_interp_errmsg(it)[0], "%s #%d: create failed (%s) without a message",
           o->label, o->iter, tc_status_str(s));
    goto done;
  }
  stage = ST_PREPARE;
  s = tc_interp_prepare(it);
  if (s != TC_OK) {
    RCHECK(tc_interp_errmsg(it)[0], "%s #%d: prepare failed (%s) without a message", o->label,
           o->iter, tc_status_str(s));
    goto done;
  }
  stage = ST_INVOKE;
  if (o->invoke && (o->arena || tc_interp_arena_used(it) < (256u << 20))) {
    fill_inputs(it, o);
    s = tc_interp_invoke(it);
    if (s != TC_OK) {
      RCHECK(tc_interp_errmsg(it)[0], "%s #%d: invoke failed (%s) without a message", o->label,
             o->iter, tc_status_str(s));
      goto done;
    }
  }
  stage = ST_DONE;
done:
  tc_interp_destroy(it);
  tc_model_destroy(m);
  return stage;
}

/* ---- the model collection --------------------------------------------------------------------- */

#define MAX_MODELS 128

typedef struct model_list {
  int n;
  char path[MAX_MODELS][512];
} model_list;

static void walk(const char *dir, model_list *L) {
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    char p[512];
    if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
    struct stat st;
    if (stat(p, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      walk(p, L);
    } else if (S_ISREG(st.st_mode)) {
      size_t n = strlen(p);
      if (n > 7 && strcmp(p + n - 7, ".tflite") == 0 && L->n < MAX_MODELS)
        snprintf(L->path[L->n++], sizeof L->path[0], "%s", p);
    }
  }
  closedir(d);
}

static int cmp_str(const void *a, const void *b) { return strcmp((const char *)a, (const char *)b); }

static model_list *models(void) {
  static model_list L;
  static int done;
  if (!done) {
    walk(tc_test_shared("models"), &L);
    qsort(L.path, (size_t)L.n, sizeof L.path[0], cmp_str);
    done = 1;
  }
  return &L;
}

static const char *short_name(const char *path) {
  const char *p = strstr(path, "models/");
  return p ? p + 7 : path;
}

/* ---- 1. truncation ---------------------------------------------------------------------------- */

typedef struct trunc_arg {
  const uint8_t *data;
  size_t size;
  const char *name;
} trunc_arg;

static void trunc_one(const trunc_arg *a, size_t len) {
  uint8_t *copy = malloc(len ? len : 1);
  if (!copy) return;
  memcpy(copy, a->data, len);
  char label[300];
  snprintf(label, sizeof label, "%s truncated to %zu of %zu", a->name, len, a->size);
  run_opts o = {NULL, 0, 0, NULL, label, (int)len};
  ctx_get()->iter = (int)len;
  int stage = run_pipeline(copy, len, &o);
  if (len < 8 || len < a->size / 2)
    RCHECK(stage == ST_LOAD, "%s: a truncated file loaded", label);
  free(copy);
}

static void trunc_model(void *p) {
  const trunc_arg *a = p;
  size_t n = a->size;
  for (size_t len = 0; len < 64 && len < n; len++) trunc_one(a, len);
  for (size_t k = 1; k < 64; k++) {
    size_t len = n * k / 64;
    if (len >= 64 && len + 64 < n) trunc_one(a, len);
  }
  for (size_t len = n > 64 ? n - 64 : 64; len < n; len++)
    if (len >= 64) trunc_one(a, len);
}

TC_TEST(robust_truncated_models) {
  model_list *L = models();
  CHECK_MSG(L->n > 0, "no .tflite files under %s", tc_test_shared("models"));
  int n_ok = 0;
  for (int i = 0; i < L->n; i++) {
    size_t size = 0;
    uint8_t *data = tc_test_read_file(L->path[i], &size);
    CHECK_MSG(data != NULL, "cannot read %s", L->path[i]);
    if (!data) continue;
    trunc_arg a = {data, size, short_name(L->path[i])};
    n_ok += isolate(a.name, trunc_model, &a);
    free(data);
  }
  fprintf(stderr, "  robust_truncated_models: %d models, %d clean\n", L->n, n_ok);
}

/* ---- 2. random byte flips ---------------------------------------------------------------------- */

/* Mutations per model: about 8 s in a plain build; sanitizer builds run ~5x slower, so fewer. */
#if defined(__SANITIZE_ADDRESS__)
#define ROBUST_DEFAULT_ITERS 500
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ROBUST_DEFAULT_ITERS 500
#endif
#endif
#ifndef ROBUST_DEFAULT_ITERS
#define ROBUST_DEFAULT_ITERS 2000
#define ROBUST_DEFAULT_SECONDS 1
#else
#define ROBUST_DEFAULT_SECONDS 3
#endif

typedef struct flip_arg {
  const uint8_t *data;
  size_t size;
  const char *name;
  int iters;
  uint64_t seed;
  int stages[ST_DONE + 1];
} flip_arg;

static void flip_model(void *p) {
  flip_arg *a = p;
  uint64_t rng = a->seed;
  size_t arena_size = 8u << 20;
  void *arena = malloc(arena_size);
  uint8_t *buf = malloc(a->size);
  if (!arena || !buf) {
    free(arena);
    free(buf);
    return;
  }
  int stages[ST_DONE + 1] = {0};
  /* Per-model CPU budget (seconds, TC_ROBUST_SECONDS): models that run deep (big int8 convs)
   * stop early so the whole test stays around half a minute. */
  clock_t t0 = clock(), budget = (clock_t)env_int("TC_ROBUST_SECONDS", ROBUST_DEFAULT_SECONDS) * CLOCKS_PER_SEC;
  for (int it = 0; it < a->iters && clock() - t0 < budget; it++) {
    memcpy(buf, a->data, a->size);
    int n_flip = 1 + (int)(rng_next(&rng) % 4);
    for (int k = 0; k < n_flip; k++) {
      size_t pos = (size_t)(rng_next(&rng) % a->size);
      uint64_t r = rng_next(&rng);
      switch (r % 4) {
      case 0: buf[pos] ^= (uint8_t)(1u << ((r >> 8) % 8)); break; /* one bit */
      case 1: buf[pos] = (uint8_t)(r >> 16); break;               /* random byte */
      case 2: buf[pos] = (r >> 16) & 1 ? 0xff : 0x00; break;      /* extreme */
      default: buf[pos] = (uint8_t)(buf[pos] + ((r >> 16) & 1 ? 1 : -1)); break;
      }
    }
    ctx_note(it, buf, a->size);
    char label[300];
    snprintf(label, sizeof label, "%s flip", a->name);
    /* Mostly a fixed arena (bounded memory); every 8th run uses heap mode. */
    int heap = (it & 7) == 7;
    run_opts o = {heap ? NULL : arena, heap ? 0 : arena_size, 1, &rng, label, it};
    stages[run_pipeline(buf, a->size, &o)]++;
  }
  if (getenv("TC_ROBUST_VERBOSE"))
    fprintf(stderr, "  %-48s load %5d create %5d prepare %5d invoke %5d ok %5d (%.1f s)\n",
            a->name, stages[0], stages[1], stages[2], stages[3], stages[4],
            (double)(clock() - t0) / CLOCKS_PER_SEC);
  free(arena);
  free(buf);
}

TC_TEST(robust_byte_flips) {
  model_list *L = models();
  CHECK_MSG(L->n > 0, "no .tflite files under %s", tc_test_shared("models"));
  int iters = env_int("TC_ROBUST_ITERS", ROBUST_DEFAULT_ITERS);
  int n_models = 0;
  for (int i = 0; i < L->n; i++) {
    size_t size = 0;
    uint8_t *data = tc_test_read_file(L->path[i], &size);
    if (!data) continue;
    if (size >= 100 * 1024 || size == 0) {
      free(data);
      continue;
    }
    flip_arg a;
    memset(&a, 0, sizeof a);
    a.data = data;
    a.size = size;
    a.name = short_name(L->path[i]);
    a.iters = iters;
    a.seed = 0x9e3779b97f4a7c15ull ^ ((uint64_t)(i + 1) * 0x100000001b3ull);
    isolate(a.name, flip_model, &a);
    n_models++;
    free(data);
  }
  CHECK(n_models > 0);
  fprintf(stderr, "  robust_byte_flips: %d models x %d mutations\n", n_models, iters);
}

/* ---- 3. a tiny forward flatbuffer builder ------------------------------------------------------ */
/* Children are always written after their parents, so every uoffset points forward; vtables are
 * written just before their table (positive soffset). Nothing here checks anything: the point is
 * to produce hostile files. */

typedef struct fbb {
  uint8_t *b;
  size_t n, cap;
} fbb;

static void fbb_put(fbb *f, const void *p, size_t len) {
  if (f->n + len > f->cap) {
    size_t cap = f->cap ? f->cap : 256;
    while (cap < f->n + len) cap *= 2;
    f->b = realloc(f->b, cap);
    f->cap = cap;
  }
  if (p) memcpy(f->b + f->n, p, len);
  else memset(f->b + f->n, 0, len);
  f->n += len;
}
static size_t fbb_pad(fbb *f, size_t align) {
  while (f->n % align) fbb_put(f, NULL, 1);
  return f->n;
}
static void fbb_w32(fbb *f, size_t at, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  memcpy(f->b + at, b, 4);
}
static uint32_t fbb_r32(const fbb *f, size_t at) { return tc__ld_u32(f->b + at); }
/* Makes the uoffset at `at` point to `target`. */
static void fbb_link(fbb *f, size_t at, size_t target) { fbb_w32(f, at, (uint32_t)(target - at)); }

typedef struct fld {
  int id, width; /* width 1, 4 or 8; offsets are width 4 and linked later */
  uint64_t val;
  size_t pos; /* out: where the field was written */
} fld;

/* Writes a vtable and its table; returns the table position. */
static size_t fbb_table(fbb *f, fld *fl, int n) {
  int max_id = -1;
  for (int i = 0; i < n; i++)
    if (fl[i].id > max_id) max_id = fl[i].id;
  uint16_t off[32] = {0};
  size_t cur = 4;
  for (int i = 0; i < n; i++) {
    while (cur % (size_t)fl[i].width) cur++;
    off[i] = (uint16_t)cur;
    cur += (size_t)fl[i].width;
  }
  size_t t_size = (cur + 3) & ~(size_t)3;
  uint16_t vt_size = (uint16_t)(4 + 2 * (max_id + 1));
  uint16_t vt[36] = {0};
  vt[0] = vt_size;
  vt[1] = (uint16_t)t_size;
  for (int i = 0; i < n; i++) vt[2 + fl[i].id] = off[i];
  fbb_pad(f, 4);
  size_t vt_pos = f->n;
  for (int i = 0; i < vt_size / 2; i++) {
    uint8_t b[2] = {(uint8_t)vt[i], (uint8_t)(vt[i] >> 8)};
    fbb_put(f, b, 2);
  }
  /* Table 8-aligned so 8-byte fields are naturally aligned. */
  while ((f->n + 0) % 8) fbb_put(f, NULL, 1);
  size_t pos = f->n;
  fbb_put(f, NULL, t_size);
  fbb_w32(f, pos, (uint32_t)(pos - vt_pos));
  for (int i = 0; i < n; i++) {
    fl[i].pos = pos + off[i];
    for (int k = 0; k < fl[i].width; k++) f->b[fl[i].pos + (size_t)k] = (uint8_t)(fl[i].val >> (8 * k));
  }
  return pos;
}

static size_t fbb_vec_i32(fbb *f, const int32_t *v, uint32_t n) {
  size_t pos = fbb_pad(f, 4);
  fbb_put(f, NULL, 4 + 4 * (size_t)n);
  fbb_w32(f, pos, n);
  for (uint32_t i = 0; i < n; i++) fbb_w32(f, pos + 4 + 4 * i, (uint32_t)v[i]);
  return pos;
}
static size_t fbb_vec_u8(fbb *f, const void *v, uint32_t n) {
  size_t pos = fbb_pad(f, 16) + 12; /* element data 16-aligned */
  fbb_put(f, NULL, 12);
  fbb_put(f, NULL, 4);
  fbb_w32(f, pos, n);
  fbb_put(f, v, n);
  return pos;
}
/* Vector of n offsets (elements linked later at pos + 4 + 4 * i). */
static size_t fbb_vec_off(fbb *f, uint32_t n) {
  size_t pos = fbb_pad(f, 4);
  fbb_put(f, NULL, 4 + 4 * (size_t)n);
  fbb_w32(f, pos, n);
  return pos;
}
static size_t fbb_str(fbb *f, const char *s) {
  size_t pos = fbb_pad(f, 4), n = strlen(s);
  fbb_put(f, NULL, 4);
  fbb_w32(f, pos, (uint32_t)n);
  fbb_put(f, s, n + 1);
  return pos;
}

/* ---- a .tflite model spec and its builder ------------------------------------------------------ */

typedef struct tspec {
  const char *name;
  int n_dims;
  int32_t dims[8];
  int type;        /* TFLite TensorType (0 = FLOAT32, 9 = INT8, 2 = INT32) */
  uint32_t buffer;
  int is_variable;
  int sparse; /* adds an (empty) sparsity table */
  int quant;   /* adds quantization {scale: [q_scale], zero_point: [q_zero]} */
  float q_scale;
  int64_t q_zero;
} tspec;

typedef struct ospec {
  uint32_t opcode;
  int n_in, n_out;
  int32_t in[8], out[8];
} ospec;

typedef struct mspec {
  uint32_t version;
  int n_codes;
  int32_t code[4];
  const char *custom[4];
  int n_bufs;
  uint32_t buf_size[4]; /* 0: empty buffer */
  const void *buf_data[4];
  int n_tensors;
  tspec t[8];
  int n_ops;
  ospec op[4];
  int n_in, n_out;
  int32_t in[4], out[4];
} mspec;

/* Where the builder put things, for patching. */
typedef struct mpos {
  size_t root, version, subgraph, tensor[8], t_buffer[8], t_name[8], t_shape[8], op_opcode[4],
      op_inputs[4], buf_data[4];
} mpos;

static uint8_t *build_model(const mspec *s, size_t *size, mpos *p) {
  fbb f = {0};
  mpos dummy;
  if (!p) p = &dummy;
  memset(p, 0, sizeof *p);
  fbb_put(&f, NULL, 8);
  memcpy(f.b + 4, "TFL3", 4);
  fld mf[] = {{0, 4, s->version, 0}, {1, 4, 0, 0}, {2, 4, 0, 0}, {4, 4, 0, 0}};
  p->root = fbb_table(&f, mf, 4);
  fbb_w32(&f, 0, (uint32_t)p->root);
  p->version = mf[0].pos;
  /* operator_codes */
  size_t codes = fbb_vec_off(&f, (uint32_t)s->n_codes);
  fbb_link(&f, mf[1].pos, codes);
  for (int i = 0; i < s->n_codes; i++) {
    int32_t c = s->code[i];
    fld cf[] = {{0, 1, (uint64_t)(c < 127 ? c : 127), 0}, {2, 4, 1, 0}, {3, 4, (uint64_t)(uint32_t)c, 0},
                {1, 4, 0, 0}};
    size_t t = fbb_table(&f, cf, s->custom[i] ? 4 : 3);
    fbb_link(&f, codes + 4 + 4 * (size_t)i, t);
    if (s->custom[i]) fbb_link(&f, cf[3].pos, fbb_str(&f, s->custom[i]));
  }
  /* subgraphs: one */
  size_t sgs = fbb_vec_off(&f, 1);
  fbb_link(&f, mf[2].pos, sgs);
  fld sf[] = {{0, 4, 0, 0}, {1, 4, 0, 0}, {2, 4, 0, 0}, {3, 4, 0, 0}, {4, 4, 0, 0}};
  p->subgraph = fbb_table(&f, sf, 5);
  fbb_link(&f, sgs + 4, p->subgraph);
  size_t tv = fbb_vec_off(&f, (uint32_t)s->n_tensors);
  fbb_link(&f, sf[0].pos, tv);
  for (int i = 0; i < s->n_tensors; i++) {
    const tspec *t = &s->t[i];
    fld tf[7] = {{0, 4, 0, 0}, {1, 1, (uint64_t)t->type, 0}, {2, 4, t->buffer, 0}, {3, 4, 0, 0},
                 {5, 1, (uint64_t)t->is_variable, 0}};
    int nf = 5, i_sp = -1, i_q = -1;
    if (t->sparse) {
      i_sp = nf;
      tf[nf++] = (fld){6, 4, 0, 0};
    }
    if (t->quant) {
      i_q = nf;
      tf[nf++] = (fld){4, 4, 0, 0};
    }
    p->tensor[i] = fbb_table(&f, tf, nf);
    fbb_link(&f, tv + 4 + 4 * (size_t)i, p->tensor[i]);
    p->t_buffer[i] = tf[2].pos;
    p->t_shape[i] = fbb_vec_i32(&f, t->dims, (uint32_t)t->n_dims);
    fbb_link(&f, tf[0].pos, p->t_shape[i]);
    p->t_name[i] = fbb_str(&f, t->name ? t->name : "");
    fbb_link(&f, tf[3].pos, p->t_name[i]);
    if (i_sp >= 0) {
      fld none[] = {{0, 4, 0, 0}};
      size_t sp = fbb_table(&f, none, 0);
      fbb_link(&f, tf[i_sp].pos, sp);
    }
    if (i_q >= 0) {
      fld qf[] = {{2, 4, 0, 0}, {3, 4, 0, 0}};
      size_t qt = fbb_table(&f, qf, 2);
      fbb_link(&f, tf[i_q].pos, qt);
      uint32_t bits;
      memcpy(&bits, &t->q_scale, 4);
      int32_t one = (int32_t)bits;
      fbb_link(&f, qf[0].pos, fbb_vec_i32(&f, &one, 1));
      int32_t zp[2] = {(int32_t)(uint32_t)(uint64_t)t->q_zero, (int32_t)((uint64_t)t->q_zero >> 32)};
      size_t zv = fbb_pad(&f, 8) + 4; /* int64 elements 8-aligned */
      fbb_put(&f, NULL, 4);
      fbb_put(&f, NULL, 12);
      fbb_w32(&f, zv, 1);
      fbb_w32(&f, zv + 4, (uint32_t)zp[0]);
      fbb_w32(&f, zv + 8, (uint32_t)zp[1]);
      fbb_link(&f, qf[1].pos, zv);
    }
  }
  fbb_link(&f, sf[1].pos, fbb_vec_i32(&f, s->in, (uint32_t)s->n_in));
  fbb_link(&f, sf[2].pos, fbb_vec_i32(&f, s->out, (uint32_t)s->n_out));
  size_t ov = fbb_vec_off(&f, (uint32_t)s->n_ops);
  fbb_link(&f, sf[3].pos, ov);
  for (int i = 0; i < s->n_ops; i++) {
    const ospec *o = &s->op[i];
    fld of[] = {{0, 4, o->opcode, 0}, {1, 4, 0, 0}, {2, 4, 0, 0}};
    size_t t = fbb_table(&f, of, 3);
    fbb_link(&f, ov + 4 + 4 * (size_t)i, t);
    p->op_opcode[i] = of[0].pos;
    p->op_inputs[i] = fbb_vec_i32(&f, o->in, (uint32_t)o->n_in);
    fbb_link(&f, of[1].pos, p->op_inputs[i]);
    fbb_link(&f, of[2].pos, fbb_vec_i32(&f, o->out, (uint32_t)o->n_out));
  }
  fbb_link(&f, sf[4].pos, fbb_str(&f, "main"));
  /* buffers */
  size_t bv = fbb_vec_off(&f, (uint32_t)s->n_bufs);
  fbb_link(&f, mf[3].pos, bv);
  for (int i = 0; i < s->n_bufs; i++) {
    fld bf[] = {{0, 4, 0, 0}};
    size_t t = fbb_table(&f, bf, s->buf_size[i] ? 1 : 0);
    fbb_link(&f, bv + 4 + 4 * (size_t)i, t);
    if (s->buf_size[i]) {
      p->buf_data[i] = fbb_vec_u8(&f, s->buf_data[i], s->buf_size[i]);
      fbb_link(&f, bf[0].pos, p->buf_data[i]);
    }
  }
  fbb_pad(&f, 16);
  *size = f.n;
  return f.b;
}

static const float k_w[8] = {1, 2, 3, 4, 5, 6, 7, 8};

/* in[1,4] + w[1,4] (constant, buffer 1) -> out[1,4]. */
static mspec add_spec(void) {
  mspec s;
  memset(&s, 0, sizeof s);
  s.version = 3;
  s.n_codes = 1;
  s.code[0] = 0; /* ADD */
  s.n_bufs = 2;
  s.buf_size[1] = 16;
  s.buf_data[1] = k_w;
  s.n_tensors = 3;
  s.t[0] = (tspec){"in", 2, {1, 4}, 0, 0, 0, 0, 0, 0, 0};
  s.t[1] = (tspec){"w", 2, {1, 4}, 0, 1, 0, 0, 0, 0, 0};
  s.t[2] = (tspec){"out", 2, {1, 4}, 0, 0, 0, 0, 0, 0, 0};
  s.n_ops = 1;
  s.op[0] = (ospec){0, 2, 1, {0, 1}, {2}};
  s.n_in = 1;
  s.in[0] = 0;
  s.n_out = 1;
  s.out[0] = 2;
  return s;
}

/* Loads bytes expecting failure; returns a copy of the message in msg. */
static tc_status load_expect_fail(const uint8_t *b, size_t n, char *msg, size_t msg_size) {
  tc_model *m = NULL;
  uint8_t *copy = malloc(n ? n : 1);
  memcpy(copy, b, n);
  tc_status s = tc_model_load_memory(copy, n, NULL, &m);
  snprintf(msg, msg_size, "%s", m ? tc_model_errmsg(m) : "(no handle)");
  tc_model_destroy(m);
  free(copy);
  return s;
}

TC_TEST(robust_builder_baseline) {
  mspec s = add_spec();
  size_t n;
  uint8_t *b = build_model(&s, &n, NULL);
  tc_model *m = NULL;
  tc_status st = tc_model_load_memory(b, n, NULL, &m);
  CHECK_MSG(st == TC_OK, "hand-built ADD model does not load: %s", tc_model_errmsg(m));
  tc_interp *it = NULL;
  if (st == TC_OK) {
    CHECK_EQ(tc_interp_create(m, NULL, &it), TC_OK);
    CHECK_EQ(tc_interp_prepare(it), TC_OK);
    float in[4] = {10, 20, 30, 40}, out[4] = {0};
    CHECK_EQ(tc_interp_set_input(it, 0, in, sizeof in), TC_OK);
    CHECK_EQ(tc_interp_invoke(it), TC_OK);
    CHECK_EQ(tc_interp_get_output(it, 0, out, sizeof out), TC_OK);
    for (int i = 0; i < 4; i++) CHECK_NEAR(out[i], in[i] + k_w[i], 0);
  }
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(b);
}

TC_TEST(robust_hostile_header) {
  mspec s = add_spec();
  size_t n;
  char msg[512];
  uint8_t *b = build_model(&s, &n, NULL);
  memcpy(b + 4, "TFL2", 4);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "TFL3");
  free(b);
  /* Version 2. */
  mpos p;
  b = build_model(&s, &n, &p);
  fbb_w32(&(fbb){b, n, n}, p.version, 2);
  CHECK(load_expect_fail(b, n, msg, sizeof msg) != TC_OK);
  CHECK_STR_CONTAINS(msg, "version");
  /* Root offset beyond the file, and 0. */
  fbb_w32(&(fbb){b, n, n}, p.version, 3);
  uint32_t root = fbb_r32(&(fbb){b, n, n}, 0);
  fbb_w32(&(fbb){b, n, n}, 0, (uint32_t)n + 64);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK(msg[0]);
  fbb_w32(&(fbb){b, n, n}, 0, 0);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK(msg[0]);
  fbb_w32(&(fbb){b, n, n}, 0, 0xfffffffcu);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK(msg[0]);
  fbb_w32(&(fbb){b, n, n}, 0, root);
  /* Sizes below a header and NULL data. */
  for (size_t k = 0; k < 8; k++) CHECK_EQ(load_expect_fail(b, k, msg, sizeof msg), TC_ERR_MODEL);
  tc_model *m = NULL;
  CHECK_EQ(tc_model_load_memory(NULL, 100, NULL, &m), TC_ERR_ARG);
  tc_model_destroy(m);
  CHECK_EQ(tc_model_load_memory(b, n, NULL, NULL), TC_ERR_ARG);
  free(b);
}

TC_TEST(robust_hostile_indices) {
  mspec s = add_spec();
  size_t n;
  mpos p;
  char msg[512];
  uint8_t *b;
  fbb f;
  /* Tensor buffer index out of range. */
  b = build_model(&s, &n, &p);
  f = (fbb){b, n, n};
  fbb_w32(&f, p.t_buffer[0], 7);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "buffer");
  CHECK_STR_CONTAINS(msg, "out of range");
  fbb_w32(&f, p.t_buffer[0], 0xffffffffu);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "out of range");
  free(b);
  /* Operator input tensor index out of range (too big, and negative other than -1). */
  b = build_model(&s, &n, &p);
  f = (fbb){b, n, n};
  fbb_w32(&f, p.op_inputs[0] + 4, 3);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "out of range");
  CHECK_STR_CONTAINS(msg, "inputs");
  fbb_w32(&f, p.op_inputs[0] + 4, (uint32_t)-2);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "out of range");
  fbb_w32(&f, p.op_inputs[0] + 4, 0x80000000u);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  free(b);
  /* Opcode index out of range. */
  b = build_model(&s, &n, &p);
  f = (fbb){b, n, n};
  fbb_w32(&f, p.op_opcode[0], 1);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "opcode");
  CHECK_STR_CONTAINS(msg, "out of range");
  fbb_w32(&f, p.op_opcode[0], 0xffffffffu);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  free(b);
  /* Graph input / output index out of range. */
  s.in[0] = 5;
  b = build_model(&s, &n, NULL);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "out of range");
  free(b);
  s = add_spec();
  s.out[0] = -1;
  b = build_model(&s, &n, NULL);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "out of range");
  free(b);
}

TC_TEST(robust_hostile_offsets) {
  mspec s = add_spec();
  size_t n;
  mpos p;
  char msg[512];
  uint8_t *b = build_model(&s, &n, &p);
  fbb f = {b, n, n};
  /* vtable of the root table before the file start, then past its end. */
  uint32_t soff = fbb_r32(&f, p.root);
  fbb_w32(&f, p.root, 0x7ffffff0u);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "vtable");
  fbb_w32(&f, p.root, (uint32_t)-(int32_t)(n + 16));
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "vtable");
  fbb_w32(&f, p.root, soff);
  /* Same for a nested table (tensor 1), and its vtable's size field made huge. */
  soff = fbb_r32(&f, p.tensor[1]);
  fbb_w32(&f, p.tensor[1], (uint32_t)-(int32_t)(n - p.tensor[1] - 2));
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "tensors[1]");
  fbb_w32(&f, p.tensor[1], soff);
  size_t vt = p.tensor[1] - soff;
  uint8_t save[2] = {b[vt], b[vt + 1]};
  b[vt] = 0xfe;
  b[vt + 1] = 0xff;
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "tensors[1]");
  b[vt] = save[0];
  b[vt + 1] = save[1];
  /* A field offset in the vtable past the table (tensor 0, field 'buffer'). */
  size_t vt0 = p.tensor[0] - fbb_r32(&f, p.tensor[0]);
  b[vt0 + 4 + 2 * 2] = 0xf0;
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK(msg[0]);
  free(b);
  /* Vector length 0x7fffffff: a shape, then the tensors vector itself. */
  b = build_model(&s, &n, &p);
  f = (fbb){b, n, n};
  fbb_w32(&f, p.t_shape[0], 0x7fffffffu);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "vector");
  fbb_w32(&f, p.t_shape[0], 0xffffffffu);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  fbb_w32(&f, p.t_shape[0], 2);
  fbb_w32(&f, p.buf_data[1], 0x7fffffffu);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "buffers[1]");
  free(b);
  /* A string without its NUL terminator (tensor name), and one longer than the file. */
  b = build_model(&s, &n, &p);
  f = (fbb){b, n, n};
  b[p.t_name[0] + 4 + 2] = 'x'; /* "in" + NUL -> "inx" */
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "NUL");
  fbb_w32(&f, p.t_name[0], 0x7fffffffu);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK(msg[0]);
  free(b);
}

TC_TEST(robust_hostile_tensors) {
  size_t n;
  char msg[512];
  uint8_t *b;
  /* Constant buffer smaller than the shape needs. */
  mspec s = add_spec();
  s.buf_size[1] = 12;
  b = build_model(&s, &n, NULL);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "buffer");
  CHECK_STR_CONTAINS(msg, "12 bytes");
  CHECK_STR_CONTAINS(msg, "16");
  free(b);
  /* Shape that overflows size_t, negative dimension, rank above the maximum, unknown type. */
  s = add_spec();
  s.t[1].n_dims = 5;
  for (int i = 0; i < 5; i++) s.t[1].dims[i] = 0x7fffffff;
  b = build_model(&s, &n, NULL);
  CHECK(load_expect_fail(b, n, msg, sizeof msg) != TC_OK);
  CHECK(msg[0]);
  free(b);
  s = add_spec();
  s.t[0].dims[1] = -5;
  b = build_model(&s, &n, NULL);
  CHECK(load_expect_fail(b, n, msg, sizeof msg) != TC_OK);
  CHECK_STR_CONTAINS(msg, "negative");
  free(b);
  s = add_spec();
  s.t[0].n_dims = 8;
  for (int i = 0; i < 8; i++) s.t[0].dims[i] = 1;
  s.t[0].dims[7] = 4;
  b = build_model(&s, &n, NULL);
  {
    /* Rank 8 is the maximum: must load. */
    tc_model *m = NULL;
    CHECK_EQ(tc_model_load_memory(b, n, NULL, &m), TC_OK);
    tc_model_destroy(m);
  }
  free(b);
  s = add_spec();
  s.t[2].type = 99;
  b = build_model(&s, &n, NULL);
  CHECK(load_expect_fail(b, n, msg, sizeof msg) != TC_OK);
  CHECK_STR_CONTAINS(msg, "type");
  free(b);
  /* Rank 9 (one above the maximum): the shape vector's length grows over the name string. */
  s = add_spec();
  s.t[0].n_dims = 8;
  for (int i = 0; i < 8; i++) s.t[0].dims[i] = 1;
  {
    mpos p;
    b = build_model(&s, &n, &p);
    fbb_w32(&(fbb){b, n, n}, p.t_shape[0], 9);
    CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_UNSUPPORTED);
    CHECK_STR_CONTAINS(msg, "rank 9");
    free(b);
  }
  /* No subgraphs at all is an error, not a crash in create. */
  s = add_spec();
  b = build_model(&s, &n, NULL);
  {
    tc__fb fb = {b, n};
    tc__fbt root;
    tc__fbv sv;
    CHECK_EQ(tc__fb_root(&fb, "TFL3", &root), TC_FB_OK);
    CHECK_EQ(tc__fb_vector(&fb, &root, 2, 4, &sv), TC_FB_OK);
    fbb_w32(&(fbb){b, n, n}, sv.pos - 4, 0);
    CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
    CHECK_STR_CONTAINS(msg, "subgraph");
  }
  free(b);
}

/* Runs one hand-built model through the whole pipeline in a child. */
typedef struct spec_arg {
  const mspec *s;
  int stage; /* out (only meaningful with TC_ROBUST_NOFORK) */
} spec_arg;

static void spec_child(void *p) {
  spec_arg *a = p;
  size_t n;
  uint8_t *b = build_model(a->s, &n, NULL);
  ctx_note(0, b, n);
  uint64_t rng = 42;
  run_opts o = {NULL, 0, 1, &rng, "hand-built", 0};
  a->stage = run_pipeline(b, n, &o);
  free(b);
}

/* A variable tensor written by an operator with a bigger shape than the file declares: the
 * interpreter must not write past the variable's storage (prepare should refuse). */
static void variable_child(void *p) {
  (void)p;
  mspec s = add_spec();
  s.t[2].n_dims = 1;
  s.t[2].dims[0] = 1;
  s.t[2].is_variable = 1;
  size_t n;
  uint8_t *b = build_model(&s, &n, NULL);
  ctx_note(0, b, n);
  tc_model *m = NULL;
  tc_interp *it = NULL;
  if (tc_model_load_memory(b, n, NULL, &m) == TC_OK && tc_interp_create(m, NULL, &it) == TC_OK &&
      tc_interp_prepare(it) == TC_OK) {
    tc_tensor_info ti;
    tc_interp_tensor(it, 2, &ti);
    RCHECK(ti.size <= 4, "variable tensor 'out' (4 bytes of storage) was reshaped to %zu bytes",
           ti.size);
    float in[4] = {1, 2, 3, 4};
    tc_interp_set_input(it, 0, in, sizeof in);
    tc_interp_invoke(it);
  }
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(b);
}

TC_TEST(robust_variable_output_overflow) {
  isolate("variable tensor as an operator output", variable_child, NULL);
}

/* A constant with a sparsity table: tensorc has no DENSIFY, and the loader skips the size check
 * for sparse tensors, so a dense kernel would read past the buffer. Must be rejected. */
TC_TEST(robust_sparse_tensor_rejected) {
  mspec s = add_spec();
  s.t[1].sparse = 1;
  s.buf_size[1] = 4;
  spec_arg a = {&s, -1};
  size_t n;
  uint8_t *b = build_model(&s, &n, NULL);
  /* In-process, stopping before invoke: must fail somewhere before it. */
  run_opts o = {NULL, 0, 0, NULL, "sparse constant with a 4-byte buffer", 0};
  int stage = run_pipeline(b, n, &o);
  CHECK_MSG(stage < ST_INVOKE,
            "a sparse constant tensor (4-byte buffer for shape [1,4] f32) loaded, created and "
            "prepared: invoke would read past its buffer");
  free(b);
  isolate("sparse constant (full pipeline)", spec_child, &a);
}

TC_TEST(robust_hostile_graphs) {
  /* Each case must not crash; most must fail with a message (checked in run_pipeline). */
  mspec cases[8];
  int n_cases = 0;
  mspec s;
  /* 1. An operator writing into a constant. */
  s = add_spec();
  s.op[0].out[0] = 1;
  s.out[0] = 1;
  cases[n_cases++] = s;
  /* 2. An operator whose output is its own input (a graph input). */
  s = add_spec();
  s.op[0].out[0] = 0;
  s.out[0] = 0;
  cases[n_cases++] = s;
  /* 3. Optional (-1) inputs where ADD needs real ones. */
  s = add_spec();
  s.op[0].in[0] = -1;
  s.op[0].in[1] = -1;
  cases[n_cases++] = s;
  /* 4. No inputs and no outputs. */
  s = add_spec();
  s.op[0].n_in = 0;
  s.op[0].n_out = 0;
  cases[n_cases++] = s;
  /* 5. A constant whose shape has a -1 (no size check possible). */
  s = add_spec();
  s.t[1].dims[0] = -1;
  cases[n_cases++] = s;
  /* 6. The graph input is the constant; output written twice. */
  s = add_spec();
  s.in[0] = 1;
  s.n_ops = 2;
  s.op[1] = s.op[0];
  cases[n_cases++] = s;
  /* 7. An unknown builtin code and an unknown custom op. */
  s = add_spec();
  s.code[0] = 100000;
  cases[n_cases++] = s;
  s = add_spec();
  s.code[0] = 32;
  s.custom[0] = "NoSuchOp";
  cases[n_cases++] = s;
  for (int i = 0; i < n_cases; i++) {
    char label[64];
    snprintf(label, sizeof label, "hostile graph case %d", i + 1);
    spec_arg a = {&cases[i], -1};
    isolate(label, spec_child, &a);
  }
}

/* Every builtin code with a few degenerate wirings: prepare must validate, never crash. */
typedef struct sweep_arg {
  int code;
} sweep_arg;

static void sweep_child(void *p) {
  const sweep_arg *a = p;
  /* Values of the constant operand (int32): zeros, -1s, small, huge. */
  static const int32_t cvals[4][4] = {
      {0, 0, 0, 0}, {-1, -1, -1, -1}, {2, 4, 1, 1}, {0x7fffffff, -2147483647 - 1, 65536, 3}};
  static const float fvals[16] = {1.5f, -2.0f, 0.0f, 3.0e38f, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  /* TFLite types: FLOAT32, INT8, INT32, INT16, UINT8, BOOL, INT64, STRING. */
  static const int types[] = {0, 9, 2, 7, 3, 6, 4, 5};
  static const float scales[] = {0.5f, 0.0f, -1.0f, 1e-30f, 1e30f};
  int v = 0;
  for (int ti = 0; ti < 8; ti++) {
    for (int wiring = 0; wiring < 6; wiring++) {
      for (int ck = 0; ck < 5; ck++, v++) {
        int type = types[ti];
        int quant = (type == 9 || type == 7 || type == 3) && ck < 5;
        mspec s;
        memset(&s, 0, sizeof s);
        s.version = 3;
        s.n_codes = 1;
        s.code[0] = a->code;
        s.n_bufs = 2;
        s.n_tensors = 5;
        s.t[0] = (tspec){"x", 2, {2, 4}, type, 0, 0, 0, quant, scales[ck], 0};
        if (ck < 4) { /* int32 [4] constant */
          s.buf_size[1] = 16;
          s.buf_data[1] = cvals[ck];
          s.t[1] = (tspec){"c", 1, {4}, 2, 1, 0, 0, 0, 0, 0};
        } else { /* constant of x's type and shape [4], float payload */
          s.buf_size[1] = 64;
          s.buf_data[1] = fvals;
          s.t[1] = (tspec){"c", 1, {4}, type, 1, 0, 0, quant, 0.25f, 1};
        }
        s.t[2] = (tspec){"y", 2, {2, 4}, type, 0, 0, 0, quant, scales[(ck + 1) % 5], -3};
        s.t[3] = (tspec){"z", 0, {0}, type, 0, 0, 0, 0, 0, 0};
        s.t[4] = (tspec){"e", 2, {0, 4}, type, 0, 0, 0, 0, 0, 0}; /* empty */
        s.n_in = 2;
        s.in[0] = 0;
        s.in[1] = 4;
        s.n_out = 1;
        s.out[0] = 2;
        s.n_ops = 1;
        ospec *o = &s.op[0];
        switch (wiring) {
        case 0: *o = (ospec){0, 0, 0, {0}, {0}}; s.out[0] = 0; break;    /* nothing */
        case 1: *o = (ospec){0, 1, 1, {0}, {2}}; break;                  /* one input */
        case 2: *o = (ospec){0, 3, 1, {-1, -1, -1}, {2}}; break;         /* optional inputs */
        case 3: *o = (ospec){0, 8, 2, {0, 1, 0, 1, 0, 1, 0, 1}, {2, 3}}; break; /* many */
        case 4: *o = (ospec){0, 2, 1, {0, 1}, {3}}; s.out[0] = 3; break; /* scalar out */
        default: *o = (ospec){0, 2, 1, {4, 1}, {2}}; break;              /* empty input */
        }
        size_t n;
        uint8_t *b = build_model(&s, &n, NULL);
        ctx_note(v, b, n);
        char label[96];
        snprintf(label, sizeof label, "builtin %d type %d wiring %d const %d", a->code, type,
                 wiring, ck);
        uint64_t rng = 7;
        run_opts ro = {NULL, 0, 1, &rng, label, v};
        run_pipeline(b, n, &ro);
        free(b);
      }
    }
  }
}

TC_TEST(robust_op_sweep) {
  int n_bad = 0;
  for (int code = 0; code < 210; code++) {
    if (code == 32) continue;
    if (!tc_builtin_name(code)) break;
    sweep_arg a = {code};
    char label[96];
    snprintf(label, sizeof label, "op sweep: %s (builtin %d)", tc_builtin_name(code), code);
    n_bad += !isolate(label, sweep_child, &a);
  }
  if (n_bad) fprintf(stderr, "  robust_op_sweep: %d operators crashed or failed checks\n", n_bad);
}

/* A tensor written by two operators with different shapes: RELU(x[1,1000]) -> y, RELU(y) -> z,
 * then RELU(w[1,1]) -> y again. The last writer shrinks y to 4 bytes, so the plan gives y 4 bytes
 * while op 0 writes 4000 into it. TFLite graphs have one producer per tensor; prepare must
 * refuse a second writer (or a write into a graph input). */
static mspec written_twice_spec(void) {
  mspec s;
  memset(&s, 0, sizeof s);
  s.version = 3;
  s.n_codes = 1;
  s.code[0] = 19; /* RELU */
  s.n_bufs = 1;
  s.n_tensors = 4;
  s.t[0] = (tspec){"x", 2, {1, 1000}, 0, 0, 0, 0, 0, 0, 0};
  s.t[1] = (tspec){"y", 2, {1, 1000}, 0, 0, 0, 0, 0, 0, 0};
  s.t[2] = (tspec){"z", 2, {1, 1000}, 0, 0, 0, 0, 0, 0, 0};
  s.t[3] = (tspec){"w", 2, {1, 1}, 0, 0, 0, 0, 0, 0, 0};
  s.n_ops = 3;
  s.op[0] = (ospec){0, 1, 1, {0}, {1}};
  s.op[1] = (ospec){0, 1, 1, {1}, {2}};
  s.op[2] = (ospec){0, 1, 1, {3}, {1}};
  s.n_in = 2;
  s.in[0] = 0;
  s.in[1] = 3;
  s.n_out = 1;
  s.out[0] = 2;
  return s;
}

TC_TEST(robust_tensor_written_twice) {
  mspec s = written_twice_spec();
  size_t n;
  uint8_t *b = build_model(&s, &n, NULL);
  run_opts o = {NULL, 0, 0, NULL, "tensor written by two operators", 0};
  int stage = run_pipeline(b, n, &o);
  CHECK_MSG(stage < ST_INVOKE,
            "a tensor written by two operators (shapes [1,1000] then [1,1]) was accepted by "
            "prepare: op 0 writes 4000 bytes into a 4-byte slot");
  free(b);
  spec_arg a = {&s, -1};
  isolate("tensor written by two operators (full pipeline)", spec_child, &a);
  /* Same with an operator writing into a graph input. */
  s.op[2] = (ospec){0, 1, 1, {3}, {0}};
  b = build_model(&s, &n, NULL);
  o.label = "operator writes a graph input";
  stage = run_pipeline(b, n, &o);
  CHECK_MSG(stage < ST_INVOKE, "an operator writing into a graph input was accepted by prepare");
  free(b);
  isolate("operator writes a graph input (full pipeline)", spec_child, &a);
}

/* ---- 4. patches of a real model ---------------------------------------------------------------- */

TC_TEST(robust_patched_hello_world) {
  size_t n = 0;
  uint8_t *orig = tc_test_read_file(tc_test_shared("models/tflm/hello_world_float.tflite"), &n);
  CHECK_MSG(orig != NULL, "models/tflm/hello_world_float.tflite is missing");
  if (!orig) return;
  tc__fb fb = {orig, n};
  tc__fbt root, sg, t0, op0;
  tc__fbv sv, tv, ov;
  CHECK_EQ(tc__fb_root(&fb, "TFL3", &root), TC_FB_OK);
  CHECK_EQ(tc__fb_vector(&fb, &root, 2, 4, &sv), TC_FB_OK);
  CHECK_EQ(tc__fb_vtable_at(&fb, &sv, 0, &sg), TC_FB_OK);
  CHECK_EQ(tc__fb_vector(&fb, &sg, 0, 4, &tv), TC_FB_OK);
  CHECK_EQ(tc__fb_vector(&fb, &sg, 3, 4, &ov), TC_FB_OK);
  char msg[512];
  uint8_t *b = malloc(n);
  /* The first tensor that stores its buffer field: point it past the buffer list. */
  uint32_t buf_pos = 0;
  for (uint32_t i = 0; i < tv.n && !buf_pos; i++) {
    CHECK_EQ(tc__fb_vtable_at(&fb, &tv, i, &t0), TC_FB_OK);
    uint32_t off = tc__fb_field(&fb, &t0, 2);
    if (off) buf_pos = t0.pos + off;
  }
  CHECK(buf_pos != 0);
  if (buf_pos) {
    memcpy(b, orig, n);
    fbb_w32(&(fbb){b, n, n}, buf_pos, 5000);
    CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
    CHECK_STR_CONTAINS(msg, "buffer");
    CHECK_STR_CONTAINS(msg, "out of range");
  }
  /* Operator 0's first input. */
  CHECK_EQ(tc__fb_vtable_at(&fb, &ov, 0, &op0), TC_FB_OK);
  tc__fbv iv;
  CHECK_EQ(tc__fb_vector(&fb, &op0, 1, 4, &iv), TC_FB_OK);
  memcpy(b, orig, n);
  fbb_w32(&(fbb){b, n, n}, iv.pos, (uint32_t)tv.n);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "operators[0].inputs[0]");
  CHECK_STR_CONTAINS(msg, "out of range");
  /* Version field. */
  uint32_t voff = tc__fb_field(&fb, &root, 0);
  CHECK(voff != 0);
  if (voff) {
    memcpy(b, orig, n);
    fbb_w32(&(fbb){b, n, n}, root.pos + voff, 2);
    CHECK(load_expect_fail(b, n, msg, sizeof msg) != TC_OK);
    CHECK_STR_CONTAINS(msg, "version");
  }
  /* Identifier. */
  memcpy(b, orig, n);
  memcpy(b + 4, "ABCD", 4);
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "TFL3");
  /* Shrink a constant buffer's declared length below its tensor's needs: find a tensor with a
   * non-empty buffer, set that buffer's data length to 1. */
  tc__fbv bv;
  CHECK_EQ(tc__fb_vector(&fb, &root, 4, 4, &bv), TC_FB_OK);
  int patched = 0;
  for (uint32_t i = 0; i < tv.n && !patched; i++) {
    tc__fbt t, bt;
    tc__fbv dv;
    if (tc__fb_vtable_at(&fb, &tv, i, &t) != TC_FB_OK) continue;
    uint32_t bi = tc__fb_u32(&fb, &t, 2, 0);
    if (bi == 0 || bi >= bv.n || tc__fb_vtable_at(&fb, &bv, bi, &bt) != TC_FB_OK) continue;
    if (tc__fb_vector(&fb, &bt, 0, 1, &dv) != TC_FB_OK || dv.n < 8) continue;
    memcpy(b, orig, n);
    fbb_w32(&(fbb){b, n, n}, dv.pos - 4, 1);
    CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
    CHECK_STR_CONTAINS(msg, "buffer");
    CHECK_STR_CONTAINS(msg, "holds 1 bytes");
    patched = 1;
  }
  CHECK(patched);
  free(b);
  free(orig);
}

/* ---- 5. files, arguments, failed handles --------------------------------------------------------- */

TC_TEST(robust_invoking_error_model) {
  tc_model *m = NULL;
  tc_status s = tc_model_load_file(tc_test_shared("models/coral/model_invoking_error.tflite"), NULL, &m);
  CHECK_MSG(s == TC_OK, "model_invoking_error.tflite should load: %s", tc_model_errmsg(m));
  if (s == TC_OK) {
    tc_interp *it = NULL;
    s = tc_interp_create(m, NULL, &it);
    if (s == TC_OK) s = tc_interp_prepare(it);
    CHECK(s != TC_OK);
    CHECK_STR_CONTAINS(tc_interp_errmsg(it), "fake-op-double");
    tc_interp_destroy(it);
  }
  tc_model_destroy(m);
}

TC_TEST(robust_files_and_args) {
  tc_model *m = NULL;
  const char *path = "/nonexistent/dir/model-that-does-not-exist.tflite";
  CHECK_EQ(tc_model_load_file(path, NULL, &m), TC_ERR_IO);
  CHECK(m != NULL);
  CHECK_STR_CONTAINS(tc_model_errmsg(m), path);
  tc_model_destroy(m);
  m = NULL;
  tc_status s = tc_model_load_file(tc_test_shared("models"), NULL, &m);
  CHECK(s != TC_OK);
  CHECK(m != NULL && tc_model_errmsg(m)[0]);
  tc_model_destroy(m);
  m = NULL;
  /* An empty file. */
  char tmp[] = "/tmp/tc-robust-empty-XXXXXX";
  int fd = mkstemp(tmp);
  CHECK(fd >= 0);
  if (fd >= 0) {
    close(fd);
    s = tc_model_load_file(tmp, NULL, &m);
    CHECK(s != TC_OK);
    CHECK(m && tc_model_errmsg(m)[0]);
    tc_model_destroy(m);
    m = NULL;
    unlink(tmp);
  }
  CHECK_EQ(tc_model_load_file(NULL, NULL, &m), TC_ERR_ARG);
  tc_model_destroy(m);
  CHECK_EQ(tc_model_load_file(path, NULL, NULL), TC_ERR_ARG);
  CHECK_EQ(tc_model_load_memory(NULL, 0, NULL, NULL), TC_ERR_ARG);
  tc_interp *it = NULL;
  CHECK(tc_interp_create(NULL, NULL, &it) != TC_OK);
  CHECK(it == NULL || tc_interp_errmsg(it)[0]);
  CHECK(tc_interp_prepare(it) != TC_OK);
  CHECK(tc_interp_invoke(it) != TC_OK);
  tc_interp_destroy(it);
  CHECK_EQ(tc_interp_prepare(NULL), TC_ERR_ARG);
  CHECK_EQ(tc_interp_invoke(NULL), TC_ERR_ARG);
  CHECK(tc_interp_create(NULL, NULL, NULL) != TC_OK);
  tc_interp_destroy(NULL);
  tc_model_destroy(NULL);
  CHECK(tc_model_errmsg(NULL) != NULL);
  CHECK(tc_interp_errmsg(NULL) != NULL);
  /* A caller model-index buffer that is far too small. */
  mspec sp = add_spec();
  size_t n;
  uint8_t *b = build_model(&sp, &n, NULL);
  uint8_t small[64];
  tc_model_options mo = {small, sizeof small};
  m = NULL;
  s = tc_model_load_memory(b, n, &mo, &m);
  CHECK(s != TC_OK);
  CHECK(m == NULL || tc_model_errmsg(m)[0]);
  tc_model_destroy(m);
  /* A caller arena that is far too small for the interpreter. */
  m = NULL;
  CHECK_EQ(tc_model_load_memory(b, n, NULL, &m), TC_OK);
  for (size_t as = 0; as < 4096; as += as < 64 ? 8 : 256) {
    static uint8_t arena[4096];
    tc_interp_options io;
    memset(&io, 0, sizeof io);
    io.arena = arena;
    io.arena_size = as;
    it = NULL;
    s = tc_interp_create(m, &io, &it);
    if (s == TC_OK) s = tc_interp_prepare(it);
    if (s != TC_OK) CHECK(it == NULL || tc_interp_errmsg(it)[0]);
    tc_interp_destroy(it);
  }
  tc_model_destroy(m);
  free(b);
}

/* After a failed create (unsupported operator) every query on the handle must still be safe. */
static void failed_handle_child(void *p) {
  (void)p;
  mspec s = add_spec();
  s.code[0] = 32;
  s.custom[0] = "NoSuchOp";
  size_t n;
  uint8_t *b = build_model(&s, &n, NULL);
  tc_model *m = NULL;
  tc_interp *it = NULL;
  if (tc_model_load_memory(b, n, NULL, &m) == TC_OK) {
    tc_status st = tc_interp_create(m, NULL, &it);
    RCHECK(st == TC_ERR_UNSUPPORTED, "create of a model with an unknown custom op: %d", (int)st);
    RCHECK(it && strstr(tc_interp_errmsg(it), "NoSuchOp"), "message should name NoSuchOp");
    (void)tc_interp_input_count(it);
    (void)tc_interp_output_count(it);
    (void)tc_interp_tensor_count(it);
    tc_tensor_info ti;
    (void)tc_interp_tensor(it, 0, &ti);
    (void)tc_interp_tensor_find(it, "in");
    float x[4] = {0};
    RCHECK(tc_interp_set_input(it, 0, x, sizeof x) != TC_OK, "set_input on a failed handle");
    RCHECK(tc_interp_get_output(it, 0, x, sizeof x) != TC_OK, "get_output on a failed handle");
    int32_t dims[2] = {1, 4};
    (void)tc_interp_resize_input(it, 0, 2, dims);
    RCHECK(tc_interp_prepare(it) != TC_OK, "prepare on a failed handle");
    RCHECK(tc_interp_invoke(it) != TC_OK, "invoke on a failed handle");
    (void)tc_interp_arena_used(it);
    (void)tc_interp_plan_check_overlap(it);
    char buf[64];
    (void)tc_interp_plan_print(it, buf, sizeof buf);
    (void)tc_interp_signature_input(it, NULL, "in");
  }
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(b);
}

TC_TEST(robust_failed_create_queries) {
  isolate("queries on an interpreter whose create failed", failed_handle_child, NULL);
}

/* ---- 6. fuzzer finds, kept as regressions -------------------------------------------------------- */
/* Each case is a real model plus the few bytes the fuzzer changed (offset, old value, new value),
 * run exactly as fuzz/fuzz_load.c runs it (1 MiB caller arena, one invoke) in a child. The bugs
 * are undefined behaviour that only the sanitizer build (TC_SANITIZE / clang) turns into a
 * failure; a plain build passes them. */

typedef struct byte_patch {
  uint32_t offset;
  uint8_t old_value, new_value;
} byte_patch;

typedef struct regression {
  const char *model;
  int n_patches;
  byte_patch patch[8];
} regression;

static void regression_child(void *p) {
  const regression *r = p;
  size_t n = 0;
  uint8_t *b = tc_test_read_file(tc_test_shared(r->model), &n);
  RCHECK(b != NULL, "%s is missing", r->model);
  if (!b) return;
  for (int i = 0; i < r->n_patches; i++) {
    const byte_patch *bp = &r->patch[i];
    RCHECK(bp->offset < n && b[bp->offset] == bp->old_value,
           "%s changed: byte %u is not %u (the reproducer no longer applies)", r->model,
           (unsigned)bp->offset, (unsigned)bp->old_value);
    if (bp->offset < n) b[bp->offset] = bp->new_value;
  }
  ctx_note(0, b, n);
  uint8_t *copy = malloc(n); /* exact size, like the fuzzer */
  memcpy(copy, b, n);
  static uint8_t arena[1u << 20] __attribute__((aligned(64)));
  run_opts o = {arena, sizeof arena, 1, NULL, r->model, 0};
  run_pipeline(copy, n, &o);
  free(copy);
  free(b);
}

static void run_regression(const char *label, const regression *r) {
  isolate(label, regression_child, (void *)r);
}

/* Zero points are values of their tensor's type: the loader rejects one outside it, naming the
 * tensor (a fuzz run, ninth session, built an int8 ADD whose input zero point -2^31 the
 * quantized ADD negated: src/kernels/ref/binary_q.c, UBSan negation overflow). The bounds load. */
TC_TEST(robust_quant_zero_point_range) {
  static const struct {
    int type; /* TFLite TensorType */
    int64_t zp;
    int ok;
  } cases[] = {{9, -128, 1},      {9, 127, 1},     {9, INT32_MIN, 0}, {9, 128, 0},
               {3, 0, 1},         {3, 255, 1},     {3, -1, 0},        {3, 256, 0},
               {7, -32768, 1},    {7, 32768, 0},   {9, INT64_MIN, 0}, {0, 1000000, 1}};
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
    mspec s = add_spec();
    const int ty = cases[i].type;
    s.t[0] = (tspec){"in", 2, {1, 4}, ty, 0, 0, 0, 1, 0.5f, cases[i].zp};
    s.t[1] = (tspec){"b", 2, {1, 4}, ty, 0, 0, 0, 1, 0.5f, 0};
    s.t[2] = (tspec){"out", 2, {1, 4}, ty, 0, 0, 0, 1, 1.0f, 0};
    s.n_in = 2;
    s.in[1] = 1;
    size_t n = 0;
    uint8_t *b = build_model(&s, &n, NULL);
    char msg[256];
    tc_status st = load_expect_fail(b, n, msg, sizeof msg);
    if (cases[i].ok) {
      CHECK_MSG(st == TC_OK, "type %d zero point %lld: %s", ty, (long long)cases[i].zp, msg);
    } else {
      CHECK_MSG(st == TC_ERR_MODEL, "type %d zero point %lld loaded", ty, (long long)cases[i].zp);
      CHECK_STR_CONTAINS(msg, "tensors[0].quantization.zero_point[0]");
      CHECK_STR_CONTAINS(msg, "is outside the");
    }
    free(b);
  }
}

/* 1: coral/split_concat.tflite with one scale byte changed: CONCATENATION's uint8 requantize
 * (src/lite/ops/concat_split.c:123, requant_u8) converts an out-of-range float to int32
 * (UBSan float-cast-overflow): the input/output scale ratio is not validated in prepare. */
TC_TEST(robust_fuzz_regression_1) {
  static const regression r = {"models/coral/split_concat.tflite", 1, {{951, 0x00, 0x80}}};
  run_regression("fuzz regression 1 (concat requantize float->int overflow)", &r);
}

/* 2: seanet_int16/quantize0.tflite with two shape bytes changed: load_quant
 * (src/lite/model.c:217) multiplies the dims into an int64 'numel' without an overflow check
 * (UBSan signed-integer-overflow) before the shape is validated. */
TC_TEST(robust_fuzz_regression_2) {
  static const regression r = {"models/seanet_int16/quantize0.tflite", 2,
                               {{363, 0x00, 0x01}, {375, 0x00, 0x68}}};
  run_regression("fuzz regression 2 (quantization numel overflow)", &r);
}

/* 3: seanet_int16/conv10.tflite with four bytes of a constant changed: the int16 CONV_2D
 * requantizes its int64 accumulator with tc_q_mul64 (src/kernels/ref/qmath.h:68, from
 * requant64 in conv2d_q.c:39), whose x * reduced_multiplier overflows int64 (UBSan
 * signed-integer-overflow). TFLite limits the accumulator to +-2^47 there. */
TC_TEST(robust_fuzz_regression_3) {
  static const regression r = {"models/seanet_int16/conv10.tflite", 4,
                               {{147, 0x00, 0xfa}, {148, 0x00, 0xff}, {149, 0x00, 0xff},
                                {150, 0x00, 0xff}}};
  run_regression("fuzz regression 3 (int16 conv int64 requantize overflow)", &r);
}

/* 4: tflite_support/dilated_conv.tflite with the input shape's bytes changed (found by the CI
 * fuzz smoke run): a CONV_2D input with 0 channels made the group count 0 and
 * `out_c % groups` divided by zero (SIGFPE) in conv_prepare. */
TC_TEST(robust_fuzz_regression_4) {
  static const regression r = {"models/tflite_support/dilated_conv.tflite", 3,
                               {{9096, 0x01, 0x00}, {9098, 0x00, 0x54}, {9100, 0x03, 0x00}}};
  run_regression("fuzz regression 4 (conv with zero input channels)", &r);
}

/* 5: an operator whose outputs hold no elements has nothing to compute, whatever its other dims
 * (a hang of the kind that stopped a CI fuzz run for 20 minutes). SPACE_TO_BATCH_ND of a
 * [1, 2^20, 2^20, 0] input by 1024x1024 blocks writes a [2^20, 1024, 1024, 0] output: 0 bytes,
 * but 2^40 empty pixel steps if the kernel ran. The child has 30 s before SIGALRM fails it. */
static void empty_output_child(void *p) {
  (void)p;
  alarm(30);
  static const int32_t blk[2] = {1024, 1024}, pads[4] = {0, 0, 0, 0};
  mspec s = add_spec();
  s.code[0] = 38; /* SPACE_TO_BATCH_ND */
  s.n_bufs = 3;
  s.buf_size[1] = sizeof blk;
  s.buf_data[1] = blk;
  s.buf_size[2] = sizeof pads;
  s.buf_data[2] = pads;
  s.n_tensors = 4;
  s.t[0] = (tspec){"in", 4, {1, 1 << 20, 1 << 20, 0}, 0, 0, 0, 0, 0, 0, 0};
  s.t[1] = (tspec){"block", 1, {2}, 2, 1, 0, 0, 0, 0, 0};
  s.t[2] = (tspec){"pads", 2, {2, 2}, 2, 2, 0, 0, 0, 0, 0};
  s.t[3] = (tspec){"out", 4, {1, 1, 1, 1}, 0, 0, 0, 0, 0, 0, 0};
  s.op[0] = (ospec){0, 3, 1, {0, 1, 2}, {3}};
  s.out[0] = 3;
  size_t n;
  uint8_t *b = build_model(&s, &n, NULL);
  tc_model *m = NULL;
  tc_interp *it = NULL;
  tc_status st = tc_model_load_memory(b, n, NULL, &m);
  RCHECK(st == TC_OK, "load: %s", m ? tc_model_errmsg(m) : "(no handle)");
  if (st == TC_OK) st = tc_interp_create(m, NULL, &it);
  if (st == TC_OK) st = tc_interp_prepare(it);
  if (st == TC_OK) st = tc_interp_invoke(it);
  RCHECK(st == TC_OK, "empty SPACE_TO_BATCH_ND: %s", it ? tc_interp_errmsg(it) : "load failed");
  tc_tensor_info ti;
  if (st == TC_OK && tc_interp_tensor(it, tc_interp_output_index(it, 0), &ti) == TC_OK) {
    RCHECK(ti.size == 0 && ti.n_dims == 4 && ti.dims[0] == 1 << 20 && ti.dims[1] == 1024 &&
               ti.dims[2] == 1024 && ti.dims[3] == 0,
           "output: %zu bytes, rank %d, dims [%d, %d, %d, %d]", ti.size, (int)ti.n_dims,
           (int)ti.dims[0], (int)ti.dims[1], (int)ti.dims[2], (int)ti.dims[3]);
  } else {
    RCHECK(0, "no output tensor info");
  }
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(b);
}

TC_TEST(robust_fuzz_regression_5) {
  isolate("fuzz regression 5 (an empty output over huge dims is not computed)", empty_output_child,
          NULL);
}

/* 6: coral/keras_lstm_mnist_ptq.tflite with two bytes of the LSTM input's zero point changed
 * (found by a loader fuzz run, eighth session): the int8 LSTM took the zero point -1929379841
 * into its products (src/kernels/ref/lstm_q.c, fc16: UBSan signed-integer-overflow). The loader
 * now rejects zero points outside the tensor type's range (ninth session; before, the LSTM's
 * prepare did), and fc16 sums in int64 wrapped to int32 (TFLM's wrap-around without the undefined
 * overflow). */
TC_TEST(robust_fuzz_regression_6) {
  static const regression r = {"models/coral/keras_lstm_mnist_ptq.tflite", 2,
                               {{12320, 0x80, 0xff}, {12323, 0xff, 0x8c}}};
  run_regression("fuzz regression 6 (int8 LSTM zero point out of range)", &r);
  size_t n = 0;
  uint8_t *b = tc_test_read_file(tc_test_shared(r.model), &n);
  CHECK_MSG(b != NULL, "%s is missing", r.model);
  if (!b || n <= 12323) {
    free(b);
    return;
  }
  tc_model *m = NULL;
  tc_interp *it = NULL;
  CHECK_EQ(tc_model_load_memory(b, n, NULL, &m), TC_OK);
  if (m && tc_interp_create(m, NULL, &it) == TC_OK) /* unpatched: prepares */
    CHECK_EQ(tc_interp_prepare(it), TC_OK);
  tc_interp_destroy(it);
  tc_model_destroy(m);
  it = NULL;
  m = NULL;
  b[12320] = 0xff;
  b[12323] = 0x8c;
  char msg[256];
  CHECK_EQ(load_expect_fail(b, n, msg, sizeof msg), TC_ERR_MODEL);
  CHECK_STR_CONTAINS(msg, "tensors[16].quantization.zero_point[0] = -1929379841 is outside the "
                          "int8 range [-128, 127]");
  free(b);
}

/* 7: mlperf_tiny/kws_ref_model_int8.tflite with one shape byte changed (found by the CI fuzz
 * smoke run once UBSan findings became fatal, eighth session): CONV_2D's prepare multiplied
 * batch x out_h x out_w in int32 for the GEMM's row count (src/lite/ops/conv2d.c, fast_setup:
 * UBSan signed-integer-overflow). Products past INT32_MAX now keep the reference kernel. */
TC_TEST(robust_fuzz_regression_7) {
  static const regression r = {"models/mlperf_tiny/kws_ref_model_int8.tflite", 1,
                               {{53803, 0x00, 0x3c}}};
  run_regression("fuzz regression 7 (conv output pixel count overflow)", &r);
}

/* 8: coral/keras_lstm_mnist_ptq.tflite with one byte of the cell state's scale changed (2^-12
 * becomes 1.3e-23; found by a 10-minute loader fuzz run, ninth session): the int8 LSTM's cell
 * tanh shifted by 63 (src/kernels/ref/lstm_q.c, tc_s16_lstm_tanh__ref: UBSan shift exponent).
 * The LSTM's prepare now rejects cell state scales outside [2^-43, 2^2]. */
TC_TEST(robust_fuzz_regression_8) {
  static const regression r = {"models/coral/keras_lstm_mnist_ptq.tflite", 1,
                               {{12131, 0x39, 0x19}}};
  run_regression("fuzz regression 8 (int8 LSTM cell state scale out of range)", &r);
  size_t n = 0;
  uint8_t *b = tc_test_read_file(tc_test_shared(r.model), &n);
  if (!b || n <= 12131) {
    free(b);
    return;
  }
  b[12131] = 0x19;
  tc_model *m = NULL;
  tc_interp *it = NULL;
  CHECK_EQ(tc_model_load_memory(b, n, NULL, &m), TC_OK);
  if (m && tc_interp_create(m, NULL, &it) == TC_OK) {
    CHECK_EQ(tc_interp_prepare(it), TC_ERR_MODEL);
    CHECK_STR_CONTAINS(tc_interp_errmsg(it), "UNIDIRECTIONAL_SEQUENCE_LSTM");
    CHECK_STR_CONTAINS(tc_interp_errmsg(it), "the cell state's within [2^-43, 2^2]");
  }
  tc_interp_destroy(it);
  tc_model_destroy(m);
  free(b);
}
