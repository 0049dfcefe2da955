/* threadpool.c: the pthread pool of threadpool.h.
 *
 * One job at a time. Its tasks are cut into one contiguous range per thread, in thread order,
 * and each thread runs its own range first, front to back; a thread that finishes its range
 * takes tasks from the back of the others' ranges. So the split is the same from one job to the
 * next (thread t runs about the t-th share of every op's tasks: output rows produced by a thread
 * are mostly read by the same thread in the next op, from its own cache), and a thread that is
 * late or descheduled still gets its tasks done by the others.
 * Each range is one 64-bit atomic word, on its own cache line: the job's generation, the next
 * task and the end of the range. A claim is one compare-and-swap (next + 1 from the front, end -
 * 1 from the back) that also checks the generation, so a worker that was descheduled through
 * the end of a job can never claim a task of the next one by mistake. The caller writes the
 * ranges, publishes the job (fn, ctx, then the job word with release order), wakes sleeping
 * workers, runs tasks itself and returns once `done` counts every task (acquire order, so the
 * tasks' writes are visible). Workers spin for about 50 µs after a job (ops follow each other
 * closely), then sleep on a condition variable. Jobs of more than 2^20 - 1 tasks run as several
 * batches. Nothing is allocated after create. */
#include "core/threadpool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "core/core.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define TC_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define TC_CPU_RELAX() __asm__ volatile("yield")
#else
#define TC_CPU_RELAX() ((void)0)
#endif

enum { SPIN_ITERS = 20000 }; /* pause-loop iterations before a worker sleeps (~50 µs) */

/* range word = generation (24 bits) | next task (20 bits) | end (20 bits) */
#define ST_BITS 20
#define ST_MASK ((UINT64_C(1) << ST_BITS) - 1)
#define ST_MAX_TASKS ((size_t)ST_MASK)
#define ST_GEN(s) ((s) >> (2 * ST_BITS))
#define ST_NEXT(s) (((s) >> ST_BITS) & ST_MASK)
#define ST_END(s) ((s) & ST_MASK)
#define GEN_MASK ((UINT64_C(1) << (64 - 2 * ST_BITS)) - 1)

typedef struct worker {
  tc_threadpool *pool;
  pthread_t thread;
  int index;
} worker;

typedef struct range_slot {
  _Alignas(64) _Atomic uint64_t w;
} range_slot;

struct tc_threadpool {
  int n_threads; /* caller included */
  worker *workers;
  range_slot *ranges; /* one per thread (inside ranges_mem, 64-aligned) */
  void *ranges_mem;

  /* the current job */
  tc_task_fn fn;
  void *ctx;
  _Atomic uint64_t job; /* its generation, published last */
  atomic_size_t done;   /* tasks finished */
  atomic_int stop;

  pthread_mutex_t mutex; /* guards n_sleeping and the condition variable */
  pthread_cond_t wake;
  int n_sleeping;
};

/* Claims one task of generation `gen` from range r: from the front (own range) or the back;
 * returns the task, or -1 when the range is empty or belongs to another job. */
static long claim(tc_threadpool *pool, int r, uint64_t gen, int front) {
  _Atomic uint64_t *w = &pool->ranges[r].w;
  uint64_t s = atomic_load_explicit(w, memory_order_acquire);
  for (;;) {
    if (ST_GEN(s) != gen || ST_NEXT(s) >= ST_END(s)) return -1;
    const uint64_t t = front ? s + (UINT64_C(1) << ST_BITS) : s - 1;
    if (atomic_compare_exchange_weak_explicit(w, &s, t, memory_order_acquire,
                                              memory_order_acquire))
      return front ? (long)ST_NEXT(s) : (long)ST_END(s) - 1;
  }
}

/* Runs the tasks of generation `gen` from this thread's range, then from the others' until
 * none is left; returns the number run. A claimed task keeps the job open, so fn and ctx are
 * still this job's. */
static size_t run_tasks(tc_threadpool *pool, uint64_t gen, int thread) {
  size_t ran = 0;
  long t;
  while ((t = claim(pool, thread, gen, 1)) >= 0) {
    pool->fn(pool->ctx, (size_t)t, thread);
    ran++;
  }
  const int n = pool->n_threads;
  for (int found = 1; found;) {
    found = 0;
    for (int k = 1; k < n; k++) {
      const int v = (thread + k) % n;
      while ((t = claim(pool, v, gen, 0)) >= 0) {
        pool->fn(pool->ctx, (size_t)t, thread);
        ran++;
        found = 1;
      }
    }
  }
  return ran;
}

static void *worker_main(void *arg) {
  worker *self = arg;
  tc_threadpool *pool = self->pool;
  uint64_t seen = 0;
  for (;;) {
    uint64_t gen;
    int spins = 0;
    /* Spin for a new generation, then sleep. */
    while ((gen = atomic_load_explicit(&pool->job, memory_order_acquire)) == seen &&
           !atomic_load_explicit(&pool->stop, memory_order_acquire)) {
      if (++spins < SPIN_ITERS) {
        TC_CPU_RELAX();
        continue;
      }
      pthread_mutex_lock(&pool->mutex);
      pool->n_sleeping++;
      while (atomic_load_explicit(&pool->job, memory_order_acquire) == seen &&
             !atomic_load_explicit(&pool->stop, memory_order_acquire))
        pthread_cond_wait(&pool->wake, &pool->mutex);
      pool->n_sleeping--;
      pthread_mutex_unlock(&pool->mutex);
      spins = 0;
    }
    if (atomic_load_explicit(&pool->stop, memory_order_acquire)) break;
    seen = gen;
    size_t ran = run_tasks(pool, gen, self->index);
    if (ran) atomic_fetch_add_explicit(&pool->done, ran, memory_order_release);
  }
  return NULL;
}

tc_threadpool *tc_threadpool_create(int n_threads) {
  if (n_threads < 1) n_threads = 1;
  if (n_threads > 256) n_threads = 256;
  tc_threadpool *pool = tc__calloc(1, sizeof *pool);
  if (!pool) return NULL;
  pool->n_threads = 1;
  pool->ranges_mem = tc__calloc((size_t)n_threads + 1, sizeof(range_slot));
  if (!pool->ranges_mem) {
    tc__free(pool);
    return NULL;
  }
  pool->ranges = (range_slot *)(((uintptr_t)pool->ranges_mem + 63) & ~(uintptr_t)63);
  for (int i = 0; i < n_threads; i++) atomic_init(&pool->ranges[i].w, 0);
  atomic_init(&pool->job, 0);
  atomic_init(&pool->done, 0);
  atomic_init(&pool->stop, 0);
  if (pthread_mutex_init(&pool->mutex, NULL) != 0) {
    tc__free(pool->ranges_mem);
    tc__free(pool);
    return NULL;
  }
  if (pthread_cond_init(&pool->wake, NULL) != 0) {
    pthread_mutex_destroy(&pool->mutex);
    tc__free(pool->ranges_mem);
    tc__free(pool);
    return NULL;
  }
  if (n_threads > 1) {
    pool->workers = tc__calloc((size_t)n_threads - 1, sizeof *pool->workers);
    if (!pool->workers) {
      tc_threadpool_destroy(pool);
      return NULL;
    }
    for (int i = 1; i < n_threads; i++) {
      worker *w = &pool->workers[i - 1];
      w->pool = pool;
      w->index = i;
      if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        tc_threadpool_destroy(pool); /* joins the ones already started */
        return NULL;
      }
      pool->n_threads = i + 1;
    }
  }
  return pool;
}

void tc_threadpool_destroy(tc_threadpool *pool) {
  if (!pool) return;
  pthread_mutex_lock(&pool->mutex);
  atomic_store_explicit(&pool->stop, 1, memory_order_release);
  pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);
  for (int i = 1; i < pool->n_threads; i++) pthread_join(pool->workers[i - 1].thread, NULL);
  pthread_cond_destroy(&pool->wake);
  pthread_mutex_destroy(&pool->mutex);
  tc__free(pool->workers);
  tc__free(pool->ranges_mem);
  tc__free(pool);
}

int tc_threadpool_n_threads(const tc_threadpool *pool) { return pool ? pool->n_threads : 1; }

/* Tasks [first, first + n) as one job; n <= ST_MAX_TASKS. fn gets first + index. */
typedef struct batch_ctx {
  tc_task_fn fn;
  void *ctx;
  size_t first;
} batch_ctx;

static void batch_task(void *ctx, size_t task, int thread) {
  const batch_ctx *b = ctx;
  b->fn(b->ctx, b->first + task, thread);
}

static void run_job(tc_threadpool *pool, size_t n_tasks, tc_task_fn fn, void *ctx) {
  pool->fn = fn;
  pool->ctx = ctx;
  atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
  const uint64_t gen = (atomic_load_explicit(&pool->job, memory_order_relaxed) + 1) & GEN_MASK;
  const size_t n = (size_t)pool->n_threads;
  for (size_t t = 0; t < n; t++) /* thread t: tasks [n_tasks t / n, n_tasks (t + 1) / n) */
    atomic_store_explicit(&pool->ranges[t].w,
                          gen << (2 * ST_BITS) | (uint64_t)(n_tasks * t / n) << ST_BITS |
                              (uint64_t)(n_tasks * (t + 1) / n),
                          memory_order_relaxed);
  /* The release publishes fn, ctx, done and the ranges to threads that acquire the job. */
  atomic_store_explicit(&pool->job, gen, memory_order_release);
  pthread_mutex_lock(&pool->mutex);
  if (pool->n_sleeping > 0) pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);

  size_t ran = run_tasks(pool, gen, 0);
  if (ran) atomic_fetch_add_explicit(&pool->done, ran, memory_order_relaxed);
  /* Wait for tasks still running on workers; yield now and then in case one was descheduled
   * (more runnable threads than cores). */
  for (unsigned spins = 1; atomic_load_explicit(&pool->done, memory_order_acquire) < n_tasks;
       spins++) {
    if (spins % 256 == 0)
      sched_yield();
    else
      TC_CPU_RELAX();
  }
}

void tc_threadpool_parallel_for(tc_threadpool *pool, size_t n_tasks, tc_task_fn fn, void *ctx) {
  if (n_tasks == 0) return;
  if (!pool || pool->n_threads <= 1 || n_tasks == 1) {
    for (size_t t = 0; t < n_tasks; t++) fn(ctx, t, 0);
    return;
  }
  if (n_tasks <= ST_MAX_TASKS) {
    run_job(pool, n_tasks, fn, ctx);
    return;
  }
  for (size_t first = 0; first < n_tasks; first += ST_MAX_TASKS) {
    batch_ctx b = {fn, ctx, first};
    run_job(pool, TC_MIN(ST_MAX_TASKS, n_tasks - first), batch_task, &b);
  }
}

void tc_split_blocks(size_t m_tiles, size_t mr, size_t n, size_t nr, size_t n_threads,
                     size_t target, size_t *nb, size_t *mb) {
  /* Few row tiles (e.g. batch-1 FULLY_CONNECTED): cut the columns finer instead. */
  if (n_threads > 1 && m_tiles * ((n + *nb - 1) / *nb) < target) {
    size_t want = (target + m_tiles - 1) / m_tiles;
    size_t nb2 = ((n + want - 1) / want + nr - 1) / nr * nr;
    if (nb2 < *nb) *nb = nb2;
  }
  const size_t n_nblocks = (n + *nb - 1) / *nb;
  size_t want_mblocks = 1;
  if (n_threads > 1) {
    want_mblocks = n_nblocks >= target ? 1 : (target + n_nblocks - 1) / n_nblocks;
    if (want_mblocks > m_tiles) want_mblocks = m_tiles;
  }
  *mb = (m_tiles + want_mblocks - 1) / want_mblocks * mr;
}
