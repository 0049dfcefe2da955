/* conv_f32.c: the float32 CONV_2D driver of conv_f32.h.
 *
 * Work is cut into tasks of (a group of output rows) x (a block of nb output channels), row
 * groups fastest, so consecutive tasks share one block of packed B (nb * K floats, about
 * 128 KiB: it stays in L2 while the task walks its rows). In each output row (batch b, row oy):
 *   1. the segment pointers of the filter rows are computed once (NULL for a row in the
 *      vertical padding);
 *   2. the interior [xa, xb) (every tap inside the image horizontally) is one call of the
 *      microkernel's segmented form, which walks it in tiles of `mr` consecutive pixels (the
 *      last one shorter, if at least mr / 2 remain) and reads pixel r at segment + r *
 *      stride_w * in_c, straight from the input;
 *   3. the pixels left over (borders and a short remainder) are queued: their im2col rows
 *      are built in the thread's scratch, and each time mr rows are queued they run as one
 *      tile. Queued pixels that are consecutive output pixels write C in place; otherwise the
 *      tile goes through a small buffer and is scattered.
 * With no segmented form (or too many segments) every pixel takes the queue. Each output value
 * depends only on its pixel's path (fixed by ox, xa, xb and mr, never by the task cut) and a
 * microkernel row's sum does not depend on the other rows, so any thread count gives the same
 * bits. */
#include "kernels/conv_f32.h"

#include <string.h>

#include "core/core.h"
#include "kernels/im2col.h"

enum {
  B_BLOCK_FLOATS = 32 * 1024, /* packed-B floats per column block: 128 KiB */
  MAX_SEG = 64,               /* more segments than this: every pixel takes the im2col queue */
  MAX_MR = 32,                /* largest tile height handled (queue bookkeeping on the stack) */
};

/* Geometry shared by every task. */
typedef struct conv_geo {
  size_t k, n, nb;     /* K, output channels, column block (a multiple of nr, or n) */
  size_t mr;           /* strip / tile rows */
  int direct;          /* segmented strips in use */
  size_t n_seg, seg_len, lda;
  int32_t xa, xb;      /* interior output columns [xa, xb) */
} conv_geo;

static size_t conv_k(const tc_conv2d_params *p) {
  return (size_t)p->k_h * (size_t)p->k_w * (size_t)p->filter_c;
}

static conv_geo geometry(tc_f32_gemm_kernel *kr, const tc_conv2d_params *p) {
  conv_geo g;
  memset(&g, 0, sizeof g);
  const size_t nr = (size_t)kr->nr;
  g.k = conv_k(p);
  g.n = (size_t)(p->out_c > 0 ? p->out_c : 0);
  g.nb = B_BLOCK_FLOATS / (g.k ? g.k : 1) / nr * nr;
  if (g.nb < nr) g.nb = nr;
  if (g.nb >= g.n) g.nb = g.n;
  g.mr = (size_t)kr->mr;
  if (kr->run_seg && kr->mr_narrow > kr->mr && g.n <= nr / 2) g.mr = (size_t)kr->mr_narrow;
  if (g.mr > MAX_MR) g.mr = MAX_MR;
  if (p->dilation_w == 1) {
    g.n_seg = (size_t)p->k_h;
    g.seg_len = (size_t)p->k_w * (size_t)p->in_c;
  } else {
    g.n_seg = (size_t)p->k_h * (size_t)p->k_w;
    g.seg_len = (size_t)p->in_c;
  }
  g.lda = (size_t)p->stride_w * (size_t)p->in_c;
  g.direct = kr->run_seg != NULL && g.n_seg <= MAX_SEG;
  /* Interior: x0 = ox * stride_w - pad_left >= 0 and x0 + (k_w - 1) * dilation_w < in_w. */
  const int64_t sw = p->stride_w;
  int64_t xa = p->pad_left > 0 ? ((int64_t)p->pad_left + sw - 1) / sw : 0;
  int64_t last = (int64_t)p->in_w - 1 - (int64_t)(p->k_w - 1) * p->dilation_w + p->pad_left;
  int64_t xb = last < 0 ? 0 : last / sw + 1;
  if (xa > p->out_w) xa = p->out_w;
  if (xb > p->out_w) xb = p->out_w;
  if (xb < xa) xb = xa;
  g.xa = (int32_t)xa;
  g.xb = (int32_t)xb;
  return g;
}

/* Per-thread scratch: the queue's im2col rows (mr x K) and its C tile (mr x nb). */
static size_t per_thread_bytes(const conv_geo *g) {
  return TC_ALIGN_UP(g->mr * g->k * sizeof(float), 64) +
         TC_ALIGN_UP(g->mr * g->nb * sizeof(float), 64);
}

size_t tc_f32_conv2d_gemm_scratch_size(tc_f32_gemm_kernel *kr, const tc_conv2d_params *p,
                                       int n_threads) {
  if (!kr) kr = tc_f32_gemm_default_kernel();
  if (tc_conv2d_is_gemm(p)) return 0;
  if (n_threads < 1) n_threads = 1;
  const conv_geo g = geometry(kr, p);
  return 64 + (size_t)n_threads * per_thread_bytes(&g);
}

typedef struct conv_job {
  tc_f32_gemm_kernel *kr;
  const tc_conv2d_params *p;
  const float *in, *packed, *bias;
  float *out;
  char *scratch;
  size_t per_thread;
  conv_geo g;
  size_t rows_per_task, n_rgroups;
} conv_job;

/* The im2col queue of one task and column block. */
typedef struct queue {
  float *a, *ctile;        /* mr rows of K floats; mr x nc C tile */
  size_t count, pix[MAX_MR];
  int contiguous;          /* pix[] are consecutive output pixels */
} queue;

static void queue_flush(const conv_job *job, queue *q, size_t j0, size_t nc) {
  if (q->count == 0) return;
  tc_f32_gemm_kernel *kr = job->kr;
  const conv_geo *g = &job->g;
  const tc_conv2d_params *p = job->p;
  const float *w = job->packed + j0 * g->k, *bias = job->bias ? job->bias + j0 : NULL;
  float *c = q->contiguous ? job->out + q->pix[0] * g->n + j0 : q->ctile;
  const size_t ldc = q->contiguous ? g->n : nc;
  if (kr->run_seg) {
    const float *a = q->a;
    kr->run_seg(q->count, nc, 1, g->k, &a, g->k, w, bias, c, ldc, 0, p->act_min, p->act_max);
  } else {
    kr->run(q->count, nc, g->k, q->a, g->k, w, bias, c, ldc, 0, p->act_min, p->act_max);
  }
  if (!q->contiguous)
    for (size_t r = 0; r < q->count; r++)
      memcpy(job->out + q->pix[r] * g->n + j0, q->ctile + r * nc, nc * sizeof(float));
  q->count = 0;
}

static void queue_push(const conv_job *job, queue *q, size_t pixel, size_t j0, size_t nc) {
  if (q->count == 0) q->contiguous = 1;
  else if (pixel != q->pix[q->count - 1] + 1) q->contiguous = 0;
  tc_f32_im2col_row(job->p, job->in, pixel, q->a + q->count * job->g.k);
  q->pix[q->count++] = pixel;
  if (q->count == job->g.mr) queue_flush(job, q, j0, nc);
}

static void conv_task(void *ctx, size_t task, int thread) {
  const conv_job *job = ctx;
  const conv_geo *g = &job->g;
  const tc_conv2d_params *p = job->p;
  const size_t r0 = (task % job->n_rgroups) * job->rows_per_task;
  const size_t rows_total = (size_t)p->batch * (size_t)p->out_h;
  const size_t r1 = TC_MIN(rows_total, r0 + job->rows_per_task);
  const size_t j0 = (task / job->n_rgroups) * g->nb, nc = TC_MIN(g->n - j0, g->nb);
  char *mine = job->scratch + (size_t)thread * job->per_thread;
  queue q;
  q.a = (float *)mine;
  q.ctile = (float *)(mine + TC_ALIGN_UP(g->mr * g->k * sizeof(float), 64));
  q.count = 0;
  q.contiguous = 1;
  const float *w = job->packed + j0 * g->k, *bias = job->bias ? job->bias + j0 : NULL;
  const size_t out_w = (size_t)p->out_w, in_c = (size_t)p->in_c;
  const float *rowp[MAX_SEG]; /* per segment: the input row, or NULL (vertical padding) */
  size_t xoff[MAX_SEG];       /* per segment: the column offset of its first tap, in floats */
  const float *seg[MAX_SEG];
  for (size_t r = r0; r < r1; r++) {
    const size_t pix0 = r * out_w;
    size_t ox = 0;
    if (g->direct && g->xb > g->xa) {
      const size_t b = r / (size_t)p->out_h, oy = r % (size_t)p->out_h;
      const int32_t y0 = (int32_t)oy * p->stride_h - p->pad_top;
      for (size_t s = 0; s < g->n_seg; s++) {
        const int32_t ky = (int32_t)(p->dilation_w == 1 ? s : s / (size_t)p->k_w);
        const int32_t kx = (int32_t)(p->dilation_w == 1 ? 0 : s % (size_t)p->k_w);
        const int32_t y = y0 + ky * p->dilation_h;
        rowp[s] = y < 0 || y >= p->in_h
                      ? NULL
                      : job->in + ((b * (size_t)p->in_h + (size_t)y) * (size_t)p->in_w) * in_c;
        xoff[s] = (size_t)kx * (size_t)p->dilation_w * in_c;
      }
      for (; ox < (size_t)g->xa; ox++) queue_push(job, &q, pix0 + ox, j0, nc);
      /* The interior in one call: the kernel walks it mr pixels at a time, the last tile
       * shorter. (Queuing a remainder shorter than mr / 2 for im2col instead cost MobileNet
       * V1's 8-channel stem 3 of its 75 us, 4 pixels of each output row: twelfth session.) */
      const size_t run = (size_t)g->xb - ox;
      if (run > 0) {
        const size_t x0 = (ox * (size_t)p->stride_w - (size_t)p->pad_left) * in_c;
        for (size_t s = 0; s < g->n_seg; s++) seg[s] = rowp[s] ? rowp[s] + x0 + xoff[s] : NULL;
        job->kr->run_seg(run, nc, g->n_seg, g->seg_len, seg, g->lda, w, bias,
                         job->out + (pix0 + ox) * g->n + j0, g->n, 0, p->act_min, p->act_max);
        ox += run;
      }
    }
    for (; ox < out_w; ox++) queue_push(job, &q, pix0 + ox, j0, nc);
  }
  queue_flush(job, &q, j0, nc);
}

void tc_f32_conv2d_gemm(tc_f32_gemm_kernel *kr, tc_threadpool *pool, const tc_conv2d_params *p,
                        const float *in, const float *packed, const float *bias, float *out,
                        void *scratch) {
  if (!kr) kr = tc_f32_gemm_default_kernel();
  const size_t m = (size_t)p->batch * (size_t)p->out_h * (size_t)p->out_w, k = conv_k(p);
  if (m == 0 || p->out_c <= 0) return;
  if (tc_conv2d_is_gemm(p)) {
    tc_f32_gemm(kr, pool, (int32_t)m, p->out_c, (int32_t)k, in, k, packed, bias, p->act_min,
                p->act_max, out, (size_t)p->out_c);
    return;
  }
  conv_job job;
  job.kr = kr;
  job.p = p;
  job.in = in;
  job.packed = packed;
  job.bias = bias;
  job.out = out;
  job.scratch = (char *)TC_ALIGN_UP((uintptr_t)scratch, 64);
  job.g = geometry(kr, p);
  job.per_thread = per_thread_bytes(&job.g);
  /* Small convolutions stay on this thread (waking a worker costs more). */
  if ((double)m * (double)p->out_c * (double)k < 128.0 * 1024) pool = NULL;
  const size_t n_threads = (size_t)tc_threadpool_n_threads(pool);
  const size_t rows_total = (size_t)p->batch * (size_t)p->out_h;
  const size_t n_cblocks = (job.g.n + job.g.nb - 1) / job.g.nb;
  size_t want = 1; /* row groups: one on one thread, about 4 tasks per thread otherwise */
  if (n_threads > 1) {
    const size_t target = 4 * n_threads;
    want = n_cblocks >= target ? 1 : (target + n_cblocks - 1) / n_cblocks;
    if (want > rows_total) want = rows_total;
  }
  job.rows_per_task = (rows_total + want - 1) / want;
  job.n_rgroups = (rows_total + job.rows_per_task - 1) / job.rows_per_task;
  tc_threadpool_parallel_for(pool, job.n_rgroups * n_cblocks, conv_task, &job);
}
