/* optim.c: Keras optimizers (SGD with momentum/Nesterov, Adam, AdamW, RMSprop) with the Keras 3
 * update formulas and default epsilons. Slots (momentum, first/second moments) are persistent
 * tensors keyed by the parameter they belong to and created on its first update, so the same
 * optimizer serves nets and hand-written training loops and allocates nothing afterwards. An
 * update is elementwise: with a thread pool set (tc__optim_set_pool, by fit each step) the
 * elements of all parameters together are cut into fixed chunks that run over the pool, which
 * cannot change any bit. */
#include <math.h>
#include <string.h>

#include "train/model.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

struct tc_optim {
  tc_optim_config cfg;
  int64_t iterations;
  int lr_set;
  float lr_override;
  tc__optim_slot *slots;
  size_t n_slots, cap_slots;
  tc_threadpool *pool; /* NULL: the calling thread */
  /* Per-apply work list (grown on demand): parameter i covers [off[i], off[i + 1]) of the
   * concatenated elements. */
  struct upd_item *items;
  size_t cap_items;
};

typedef struct upd_item {
  float *p, *s0, *s1;
  const float *g;
  size_t off;
} upd_item;

void tc__optim_set_pool(tc_optim *o, tc_threadpool *pool) {
  if (o) o->pool = pool;
}

static tc_optim_config base(tc_optim_kind kind, float lr) {
  tc_optim_config c;
  memset(&c, 0, sizeof c);
  c.kind = kind;
  c.learning_rate = lr;
  c.schedule.kind = TC_SCHEDULE_CONSTANT;
  c.schedule.initial = lr;
  c.beta_1 = 0.9f;
  c.beta_2 = 0.999f;
  c.epsilon = 1e-7f;
  c.rho = 0.9f;
  return c;
}

tc_optim_config tc_optim_sgd(float lr, float momentum, int nesterov) {
  tc_optim_config c = base(TC_OPTIM_SGD, lr);
  c.momentum = momentum;
  c.nesterov = nesterov;
  return c;
}
tc_optim_config tc_optim_adam(float lr) { return base(TC_OPTIM_ADAM, lr); }
tc_optim_config tc_optim_adamw(float lr, float weight_decay) {
  tc_optim_config c = base(TC_OPTIM_ADAMW, lr);
  c.weight_decay = weight_decay;
  return c;
}
tc_optim_config tc_optim_rmsprop(float lr) { return base(TC_OPTIM_RMSPROP, lr); }

static const char *const k_opt[] = {"sgd", "adam", "adamw", "rmsprop"};

const char *tc_optim_name(tc_optim_kind k) {
  return ((unsigned)k < sizeof k_opt / sizeof k_opt[0]) ? k_opt[k] : "?";
}

int tc_optim_parse(const char *name, tc_optim_kind *out) {
  if (!name || !out) return -1;
  for (unsigned i = 0; i < sizeof k_opt / sizeof k_opt[0]; i++)
    if (!strcmp(name, k_opt[i])) {
      *out = (tc_optim_kind)i;
      return 0;
    }
  return -1;
}

int tc__optim_n_slots(const tc_optim_config *c) {
  switch (c->kind) {
  case TC_OPTIM_SGD: return c->momentum != 0.0f;
  case TC_OPTIM_ADAM:
  case TC_OPTIM_ADAMW: return 2;
  case TC_OPTIM_RMSPROP: return 1 + (c->momentum != 0.0f);
  }
  return 0;
}

tc_status tc_optim_create(const tc_optim_config *cfg, tc_optim **out) {
  if (!cfg || !out) return TC_ERR_ARG;
  *out = NULL;
  if ((unsigned)cfg->kind > TC_OPTIM_RMSPROP || !(cfg->learning_rate >= 0.0f) ||
      !(cfg->epsilon >= 0.0f) || !(cfg->momentum >= 0.0f))
    return TC_ERR_ARG;
  tc_optim *o = tc__calloc(1, sizeof *o);
  if (!o) return TC_ERR_NOMEM;
  o->cfg = *cfg;
  if (o->cfg.schedule.kind == TC_SCHEDULE_CONSTANT) o->cfg.schedule.initial = cfg->learning_rate;
  *out = o;
  return TC_OK;
}

void tc_optim_destroy(tc_optim *o) {
  if (!o) return;
  for (size_t i = 0; i < o->n_slots; i++)
    for (int k = 0; k < o->slots[i].n; k++) tc_tensor_destroy(o->slots[i].s[k]);
  tc__free(o->slots);
  tc__free(o->items);
  tc__free(o);
}

int64_t tc_optim_iterations(const tc_optim *o) { return o ? o->iterations : 0; }
void tc__optim_set_iterations(tc_optim *o, int64_t it) {
  if (o) o->iterations = it;
}
const tc_optim_config *tc_optim_get_config(const tc_optim *o) { return o ? &o->cfg : NULL; }

float tc_optim_lr(const tc_optim *o) {
  if (!o) return 0.0f;
  return o->lr_set ? o->lr_override : tc_schedule_lr(&o->cfg.schedule, o->iterations);
}

void tc_optim_set_lr(tc_optim *o, float lr) {
  if (!o) return;
  o->lr_set = 1;
  o->lr_override = lr;
}

float tc__optim_lr_override(const tc_optim *o, int *set) {
  *set = o->lr_set;
  return o->lr_override;
}

size_t tc__optim_n_entries(const tc_optim *o) { return o ? o->n_slots : 0; }
tc__optim_slot *tc__optim_entry(tc_optim *o, size_t i) {
  return (o && i < o->n_slots) ? &o->slots[i] : NULL;
}

tc__optim_slot *tc__optim_slots(tc_optim *o, const tc_tensor *param) {
  for (size_t i = 0; i < o->n_slots; i++)
    if (o->slots[i].param == param) return &o->slots[i];
  if (o->n_slots == o->cap_slots) {
    size_t cap = o->cap_slots ? o->cap_slots * 2 : 16;
    tc__optim_slot *s = tc__realloc(o->slots, cap * sizeof *s);
    if (!s) return NULL;
    o->slots = s;
    o->cap_slots = cap;
  }
  tc__optim_slot *s = &o->slots[o->n_slots];
  memset(s, 0, sizeof *s);
  s->param = param;
  int n = tc__optim_n_slots(&o->cfg);
  for (int k = 0; k < n; k++) {
    if (tc_tensor_create(TC_DTYPE_F32, tc_tensor_rank(param), tc_tensor_dims(param), &s->s[k])) {
      for (int j = 0; j < k; j++) tc_tensor_destroy(s->s[j]);
      return NULL;
    }
  }
  s->n = n;
  o->n_slots++;
  return s;
}

/* One Adam step over sz elements: m += (g - m) a1; v += (g^2 - v) a2;
 * p -= (m alpha) / (sqrt(v) + eps). The SSE loop performs exactly the scalar operations in the
 * same order (no FMA contraction; sqrt and division are correctly rounded), so both paths give
 * the same bits. */
static void adam_update(float *p, float *m, float *v, const float *g, size_t sz, float a1,
                        float a2, float alpha, float eps) {
  size_t k = 0;
#if defined(__SSE2__)
  const __m128 va1 = _mm_set1_ps(a1), va2 = _mm_set1_ps(a2), val = _mm_set1_ps(alpha),
               vep = _mm_set1_ps(eps);
  for (; k + 4 <= sz; k += 4) {
    __m128 gk = _mm_loadu_ps(g + k), mk = _mm_loadu_ps(m + k), vk = _mm_loadu_ps(v + k);
    mk = _mm_add_ps(mk, _mm_mul_ps(_mm_sub_ps(gk, mk), va1));
    vk = _mm_add_ps(vk, _mm_mul_ps(_mm_sub_ps(_mm_mul_ps(gk, gk), vk), va2));
    __m128 upd = _mm_div_ps(_mm_mul_ps(mk, val), _mm_add_ps(_mm_sqrt_ps(vk), vep));
    _mm_storeu_ps(m + k, mk);
    _mm_storeu_ps(v + k, vk);
    _mm_storeu_ps(p + k, _mm_sub_ps(_mm_loadu_ps(p + k), upd));
  }
#endif
  for (; k < sz; k++) {
    m[k] += (g[k] - m[k]) * a1;
    v[k] += (g[k] * g[k] - v[k]) * a2;
    p[k] -= (m[k] * alpha) / (sqrtf(v[k]) + eps);
  }
}

/* The update's constants, shared by every chunk. */
typedef struct upd_job {
  const tc_optim_config *c;
  const upd_item *items;
  size_t n_items, total;
  float lr, alpha;
} upd_job;

/* Elements per task: 16K floats (64 KiB per operand stream). */
enum { UPD_CHUNK = 16 * 1024 };
/* Below this many elements in all, the update stays on the calling thread. */
#define UPD_MIN_PARALLEL ((size_t)48 * 1024)

/* Updates elements [k0, k1) of one parameter. */
static void update_range(const upd_job *j, const upd_item *it, size_t k0, size_t k1) {
  const tc_optim_config *c = j->c;
  const float lr = j->lr;
  float *p = it->p + k0;
  const float *g = it->g + k0;
  const size_t sz = k1 - k0;
  switch (c->kind) {
  case TC_OPTIM_SGD:
    if (it->s0) {
      float *m = it->s0 + k0, mu = c->momentum;
      for (size_t k = 0; k < sz; k++) {
        m[k] = -g[k] * lr + m[k] * mu;
        p[k] += c->nesterov ? -g[k] * lr + m[k] * mu : m[k];
      }
    } else {
      for (size_t k = 0; k < sz; k++) p[k] -= g[k] * lr;
    }
    break;
  case TC_OPTIM_ADAMW:
  case TC_OPTIM_ADAM: {
    if (c->kind == TC_OPTIM_ADAMW) {
      float wd = c->weight_decay * lr;
      for (size_t k = 0; k < sz; k++) p[k] -= p[k] * wd;
    }
    adam_update(p, it->s0 + k0, it->s1 + k0, g, sz, 1.0f - c->beta_1, 1.0f - c->beta_2,
                j->alpha, c->epsilon);
    break;
  }
  case TC_OPTIM_RMSPROP: {
    float *v = it->s0 + k0, rho = c->rho;
    float *m = it->s1 ? it->s1 + k0 : NULL;
    for (size_t k = 0; k < sz; k++) {
      v[k] = rho * v[k] + (1.0f - rho) * g[k] * g[k];
      float inc = lr * g[k] / sqrtf(v[k] + c->epsilon);
      if (m) {
        m[k] = c->momentum * m[k] + inc;
        p[k] -= m[k];
      } else {
        p[k] -= inc;
      }
    }
    break;
  }
  }
}

/* Elements [a, b) of the concatenation of all parameters. */
static void update_span(const upd_job *j, size_t a, size_t b) {
  size_t i = 0;
  while (i + 1 < j->n_items && j->items[i + 1].off <= a) i++;
  for (; i < j->n_items && a < b; i++) {
    const upd_item *it = &j->items[i];
    size_t end = i + 1 < j->n_items ? j->items[i + 1].off : j->total;
    if (end <= a) continue;
    size_t e = TC_MIN(end, b);
    update_range(j, it, a - it->off, e - it->off);
    a = e;
  }
}

static void update_task(void *arg, size_t task, int thread) {
  (void)thread;
  const upd_job *j = arg;
  size_t a = task * UPD_CHUNK;
  update_span(j, a, TC_MIN(j->total, a + UPD_CHUNK));
}

tc_status tc_optim_apply(tc_optim *o, size_t n, tc_tensor *const *params,
                         tc_tensor *const *grads) {
  if (!o || (n && (!params || !grads))) return TC_ERR_ARG;
  for (size_t i = 0; i < n; i++)
    if (!params[i] || !grads[i] || tc_tensor_dtype(params[i]) != TC_DTYPE_F32 ||
        tc_tensor_dtype(grads[i]) != TC_DTYPE_F32 ||
        tc_tensor_size(params[i]) != tc_tensor_size(grads[i]))
      return TC_ERR_ARG;
  const tc_optim_config *c = &o->cfg;
  float lr = tc_optim_lr(o);
  /* Keras computes the bias corrections in float32 at local_step = iterations + 1. */
  float t = (float)(o->iterations + 1);
  float b1p = powf(c->beta_1, t), b2p = powf(c->beta_2, t);
  float alpha = lr * sqrtf(1.0f - b2p) / (1.0f - b1p);
  if (n > o->cap_items) {
    upd_item *it = tc__realloc(o->items, n * sizeof *it);
    if (!it) return TC_ERR_NOMEM;
    o->items = it;
    o->cap_items = n;
  }
  size_t total = 0;
  for (size_t i = 0; i < n; i++) {
    /* Fast path: the i-th entry usually belongs to params[i]. */
    tc__optim_slot *s = (i < o->n_slots && o->slots[i].param == params[i])
                            ? &o->slots[i]
                            : tc__optim_slots(o, params[i]);
    if (!s) return TC_ERR_NOMEM;
    upd_item *it = &o->items[i];
    it->p = tc_tensor_f32(params[i]);
    it->g = tc_tensor_f32_const(grads[i]);
    it->s0 = s->n > 0 ? tc_tensor_f32(s->s[0]) : NULL;
    it->s1 = s->n > 1 ? tc_tensor_f32(s->s[1]) : NULL;
    it->off = total;
    total += tc_tensor_size(params[i]);
  }
  upd_job job = {c, o->items, n, total, lr, alpha};
  size_t n_tasks = (total + UPD_CHUNK - 1) / UPD_CHUNK;
  if (o->pool && tc_threadpool_n_threads(o->pool) > 1 && total >= UPD_MIN_PARALLEL)
    tc_threadpool_parallel_for(o->pool, n_tasks, update_task, &job);
  else
    update_span(&job, 0, total);
  o->iterations++;
  return TC_OK;
}
