/* threadpool.h: a small pthread pool for splitting one kernel call into tiles. The caller of
 * tc_threadpool_parallel_for takes part in the work, so a pool of n threads starts n - 1
 * workers. Workers spin briefly between calls (ops follow each other closely) and then sleep
 * on a condition variable. A call allocates nothing. Thread t starts on the t-th contiguous
 * share of the tasks (the same share in every call, so consecutive ops that split their rows the
 * same way find their inputs in the same core's cache) and threads that finish early take tasks
 * from the others' shares: every task runs exactly once but on a thread chosen at run time, so
 * kernels must make each task's result independent of which thread runs it. */
#ifndef TC_CORE_THREADPOOL_H
#define TC_CORE_THREADPOOL_H

#include <stddef.h>

typedef struct tc_threadpool tc_threadpool;

/* One task: `task` in [0, n_tasks), `thread` in [0, n_threads) (0 is the calling thread),
 * usable to index per-thread scratch. */
typedef void (*tc_task_fn)(void *ctx, size_t task, int thread);

/* Creates a pool of n_threads threads in all, the caller included (so n_threads - 1 pthreads).
 * n_threads <= 1 gives a pool that runs everything on the caller; values above 256 are
 * clamped. Returns NULL if memory or thread creation failed (nothing is leaked then). */
tc_threadpool *tc_threadpool_create(int n_threads);

/* Stops and joins the workers and frees the pool. NULL is a no-op. Must not be called while a
 * parallel_for on the same pool is running. */
void tc_threadpool_destroy(tc_threadpool *pool);

/* Threads in the pool, caller included; 1 for a NULL pool. */
int tc_threadpool_n_threads(const tc_threadpool *pool);

/* Runs fn(ctx, t, thread) for every t in [0, n_tasks) and returns when all have finished.
 * A NULL pool, a one-thread pool or n_tasks == 1 runs the tasks in order on the caller. One
 * parallel_for at a time per pool: calls on the same pool from several threads at once, or
 * from inside a task, are not supported (use a second pool). Memory written by the tasks is
 * visible to the caller after the return. Allocates nothing. */
void tc_threadpool_parallel_for(tc_threadpool *pool, size_t n_tasks, tc_task_fn fn, void *ctx);

/* Block split of a product of m_tiles row tiles (mr rows each) by n columns (panels of nr) for
 * n_threads threads, as the GEMM drivers use it. *nb comes in as the widest column block (a
 * multiple of nr, or n); with several threads and fewer than `target` tasks from the row tiles
 * alone it is narrowed, then *mb (a multiple of mr) is chosen so that about `target` tasks result
 * (all rows in one block on one thread). */
void tc_split_blocks(size_t m_tiles, size_t mr, size_t n, size_t nr, size_t n_threads,
                     size_t target, size_t *nb, size_t *mb);

#endif /* TC_CORE_THREADPOOL_H */
