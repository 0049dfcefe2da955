/* threadpool.c: the pthread pool of threadpool.h.
 *
 * One job at a time: parallel_for publishes (fn, ctx, n_tasks), resets the task counter and
 * bumps a generation number. Workers notice the new generation either while spinning (the
 * first ~50 µs after their last job) or by being woken from the condition variable. Every
 * participant, the caller included, then takes task indices from the shared atomic counter
 * until it runs past n_tasks, and a worker reports completion by decrementing `pending`. The
 * caller spins until `pending` is zero, so it returns only after every task's writes are
 * visible (release/acquire on `pending`). Nothing is allocated after create. */
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

typedef struct worker {
  tc_threadpool *pool;
  pthread_t thread;
  int index;
} worker;

struct tc_threadpool {
  int n_threads; /* caller included */
  worker *workers;

  /* the current job */
  tc_task_fn fn;
  void *ctx;
  size_t n_tasks;
  atomic_size_t next_task;
  atomic_int pending;        /* workers that have not finished the current generation */
  atomic_uint generation;    /* bumped once per job */
  atomic_int stop;

  pthread_mutex_t mutex;     /* guards sleeping workers and the condition variable */
  pthread_cond_t wake;
  int n_sleeping;
};

static void run_tasks(tc_threadpool *pool, int thread) {
  const size_t n = pool->n_tasks;
  for (;;) {
    size_t t = atomic_fetch_add_explicit(&pool->next_task, 1, memory_order_relaxed);
    if (t >= n) break;
    pool->fn(pool->ctx, t, thread);
  }
}

static void *worker_main(void *arg) {
  worker *self = arg;
  tc_threadpool *pool = self->pool;
  unsigned seen = 0;
  for (;;) {
    unsigned gen;
    int spins = 0;
    /* Spin for a new generation, then sleep. */
    while ((gen = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen &&
           !atomic_load_explicit(&pool->stop, memory_order_acquire)) {
      if (++spins < SPIN_ITERS) {
        TC_CPU_RELAX();
        continue;
      }
      pthread_mutex_lock(&pool->mutex);
      pool->n_sleeping++;
      while (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen &&
             !atomic_load_explicit(&pool->stop, memory_order_acquire))
        pthread_cond_wait(&pool->wake, &pool->mutex);
      pool->n_sleeping--;
      pthread_mutex_unlock(&pool->mutex);
      spins = 0;
    }
    if (atomic_load_explicit(&pool->stop, memory_order_acquire)) break;
    seen = gen;
    run_tasks(pool, self->index);
    atomic_fetch_sub_explicit(&pool->pending, 1, memory_order_release);
  }
  return NULL;
}

tc_threadpool *tc_threadpool_create(int n_threads) {
  if (n_threads < 1) n_threads = 1;
  if (n_threads > 256) n_threads = 256;
  tc_threadpool *pool = tc__calloc(1, sizeof *pool);
  if (!pool) return NULL;
  pool->n_threads = 1;
  atomic_init(&pool->next_task, 0);
  atomic_init(&pool->pending, 0);
  atomic_init(&pool->generation, 0);
  atomic_init(&pool->stop, 0);
  if (pthread_mutex_init(&pool->mutex, NULL) != 0) {
    tc__free(pool);
    return NULL;
  }
  if (pthread_cond_init(&pool->wake, NULL) != 0) {
    pthread_mutex_destroy(&pool->mutex);
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
  tc__free(pool);
}

int tc_threadpool_n_threads(const tc_threadpool *pool) { return pool ? pool->n_threads : 1; }

void tc_threadpool_parallel_for(tc_threadpool *pool, size_t n_tasks, tc_task_fn fn, void *ctx) {
  if (n_tasks == 0) return;
  if (!pool || pool->n_threads <= 1 || n_tasks == 1) {
    for (size_t t = 0; t < n_tasks; t++) fn(ctx, t, 0);
    return;
  }
  pool->fn = fn;
  pool->ctx = ctx;
  pool->n_tasks = n_tasks;
  atomic_store_explicit(&pool->next_task, 0, memory_order_relaxed);
  atomic_store_explicit(&pool->pending, pool->n_threads - 1, memory_order_relaxed);
  /* The release publishes the job fields to workers that acquire the new generation. */
  atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
  pthread_mutex_lock(&pool->mutex);
  if (pool->n_sleeping > 0) pthread_cond_broadcast(&pool->wake);
  pthread_mutex_unlock(&pool->mutex);

  run_tasks(pool, 0);
  /* Wait for the workers' last tasks; yield now and then in case a worker was descheduled
   * (more runnable threads than cores). */
  for (unsigned spins = 1; atomic_load_explicit(&pool->pending, memory_order_acquire) > 0; spins++) {
    if (spins % 1024 == 0)
      sched_yield();
    else
      TC_CPU_RELAX();
  }
}
