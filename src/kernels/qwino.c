/* qwino.c: the Winograd F(2x2, 3x3) driver of qwino.h: the filter transform U = G' g G'^T with
 * its exactness bound, packed as 16 GEMM B operands, the output stage from qgemm.c, and the
 * split of the tiles into blocks over the thread pool. The kernel's wino function does the
 * input transform, the 16 products and the output transform of a block. */
#include "kernels/qwino.h"

#include <string.h>

#include "core/core.h"

enum {
  BLOCK_BYTES = 24 * 1024, /* V and M of one block: about this much (L1 and L2) */
};
/* Below this many multiply-adds a convolution runs on the calling thread. */
#define MIN_PARALLEL_MACS (256.0 * 1024)

int tc_qwino_applicable(const tc_conv2d_params *p) {
  return p->k_h == 3 && p->k_w == 3 && p->stride_h == 1 && p->stride_w == 1 &&
         p->dilation_h == 1 && p->dilation_w == 1 && p->filter_c == p->in_c && p->in_c > 0 &&
         p->in_c <= 4096 && p->out_c > 0 && p->out_h > 0 && p->out_w > 0 && p->batch > 0;
}

static size_t round_even(int32_t c) { return ((size_t)c + 1) & ~(size_t)1; }
static size_t round16(int32_t n) { return ((size_t)n + 15) & ~(size_t)15; }

size_t tc_qwino_packed_size(const tc_conv2d_params *p) {
  if (!tc_qwino_applicable(p)) return 0;
  const size_t cp = round_even(p->in_c), ocp = round16(p->out_c);
  return 64 + TC_ALIGN_UP(sizeof(tc_qwino_packed), 64) +
         TC_ALIGN_UP(tc_qgemm_output_stage_size((int32_t)ocp), 64) + 16 * ocp * cp * 2;
}

/* 2 G (rows: the 4 transformed positions, columns: the 3 taps). */
static const int32_t G2[4][3] = {{2, 0, 0}, {1, 1, 1}, {1, -1, 1}, {0, 0, 2}};

/* g = w' of output o, input channel c (3x3). */
static void filter_taps(const tc_qgemm_weights *w, int32_t C, int32_t o, int32_t c,
                        int32_t g[3][3]) {
  const char *row = (const char *)w->w + (size_t)o * w->ldw;
  for (int a = 0; a < 3; a++)
    for (int b = 0; b < 3; b++) {
      const size_t kk = ((size_t)a * 3 + (size_t)b) * (size_t)C + (size_t)c;
      g[a][b] = (w->w_is_u8 ? (int32_t)((const uint8_t *)row)[kk]
                            : (int32_t)((const int8_t *)row)[kk]) +
                w->w_offset;
    }
}

/* U = G' g G'^T. */
static void transform(const int32_t g[3][3], int32_t u[4][4]) {
  int32_t t[4][3];
  for (int i = 0; i < 4; i++) /* t = G' g */
    for (int b = 0; b < 3; b++)
      t[i][b] = G2[i][0] * g[0][b] + G2[i][1] * g[1][b] + G2[i][2] * g[2][b];
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < 4; j++)
      u[i][j] = t[i][0] * G2[j][0] + t[i][1] * G2[j][1] + t[i][2] * G2[j][2];
}

int tc_qwino_fits(const tc_conv2d_params *p, const tc_qgemm_weights *w) {
  if (!tc_qwino_applicable(p)) return 0;
  for (int32_t o = 0; o < p->out_c; o++) {
    int64_t bound = 0; /* sum of |U| over positions and channels of this output */
    for (int32_t c = 0; c < p->in_c; c++) {
      int32_t g[3][3], u[4][4];
      filter_taps(w, p->in_c, o, c, g);
      transform(g, u);
      for (int e = 0; e < 16; e++) {
        const int32_t v = u[e / 4][e % 4];
        bound += v < 0 ? -v : v;
      }
    }
    if (bound * 1020 >= ((int64_t)1 << 31)) return 0; /* see qwino.h */
  }
  return 1;
}

const tc_qwino_packed *tc_qwino_pack(tc_s8_qgemm_kernel *kr, const tc_conv2d_params *p,
                                     const tc_qgemm_weights *w, void *buf) {
  if (!kr) kr = tc_s8_qgemm_default_kernel();
  if (!kr->wino || !buf || !tc_qwino_fits(p, w)) return NULL;
  const int32_t C = p->in_c, OC = p->out_c;
  const size_t cp = round_even(C), ocp = round16(OC);
  char *mem = (char *)TC_ALIGN_UP((uintptr_t)buf, 64);
  tc_qwino_packed *pk = (tc_qwino_packed *)mem;
  mem += TC_ALIGN_UP(sizeof(tc_qwino_packed), 64);
  if (!tc_qgemm_output_stage(w, OC, 9 * C, (int32_t)ocp, mem, &pk->cols)) return NULL;
  mem += TC_ALIGN_UP(tc_qgemm_output_stage_size((int32_t)ocp), 64);
  int16_t *u = (int16_t *)mem;
  memset(u, 0, 16 * ocp * cp * 2);
  for (int32_t o = 0; o < OC; o++)
    for (int32_t c = 0; c < C; c++) {
      int32_t g[3][3], v[4][4];
      filter_taps(w, C, o, c, g);
      transform(g, v);
      for (int e = 0; e < 16; e++) /* plane e = 4i + j, panel o / 16, pair c / 2; |v| <= 9 * 383 */
        u[(size_t)e * ocp * cp + (size_t)(o / 16) * 16 * cp + (size_t)(c / 2) * 32 +
          (size_t)(o % 16) * 2 + (size_t)(c % 2)] = (int16_t)v[e / 4][e % 4];
    }
  /* V (16 planes of block tiles x cp int16, plus slack) and M (16 x block x ocp int32) */
  size_t block = BLOCK_BYTES / (16 * (cp * 2 + ocp * 4)) / 4 * 4;
  pk->block = (int32_t)(block < 4 ? 4 : block > 64 ? 64 : block);
  pk->kr = kr;
  pk->c = C;
  pk->cp = (int32_t)cp;
  pk->oc = OC;
  pk->oc_pad = (int32_t)ocp;
  pk->u = u;
  return pk;
}

size_t tc_qwino_run_scratch(const tc_qwino_packed *pk) {
  const size_t block = (size_t)pk->block, cp = (size_t)pk->cp, ocp = (size_t)pk->oc_pad;
  const size_t vplane = TC_ALIGN_UP(block * cp * 2 + 64, 64); /* bytes; 32 bytes of slack */
  return 16 * vplane + 16 * block * ocp * 4 + 64;
}

static size_t pad_bytes(const tc_qwino_packed *pk) {
  return TC_ALIGN_UP((size_t)pk->cp + 16, 64);
}

size_t tc_qwino_scratch_size(const tc_qwino_packed *pk, int n_threads) {
  if (!pk) return 0;
  if (n_threads < 1) n_threads = 1;
  return 64 + pad_bytes(pk) + (size_t)n_threads * TC_ALIGN_UP(tc_qwino_run_scratch(pk), 64);
}

typedef struct wjob {
  tc_qwino_job job;
  size_t n_tiles;
  char *scratch; /* per-thread regions */
  size_t per_thread;
} wjob;

static void wino_task(void *ctx, size_t task, int thread) {
  const wjob *w = ctx;
  const size_t block = (size_t)w->job.pk->block, t0 = task * block;
  const size_t t1 = TC_MIN(w->n_tiles, t0 + block);
  w->job.pk->kr->wino(&w->job, t0, t1, w->scratch + (size_t)thread * w->per_thread);
}

void tc_qwino_conv2d(const tc_qwino_packed *pk, tc_threadpool *pool, const tc_conv2d_params *p,
                     const void *in, int in_u8, int32_t in_zp, void *out, void *scratch) {
  if (!pk) return;
  const int32_t th = (p->out_h + 1) / 2, tw = (p->out_w + 1) / 2;
  const size_t n_tiles = (size_t)p->batch * (size_t)th * (size_t)tw;
  uint8_t *pad = (uint8_t *)TC_ALIGN_UP((uintptr_t)scratch, 64);
  memset(pad, (int)(in_u8 ? (uint32_t)in_zp : (uint32_t)(uint8_t)(int8_t)in_zp), pad_bytes(pk));
  wjob w = {{pk, p, in, pad, in_u8, th, tw, out}, n_tiles, (char *)pad + pad_bytes(pk),
            TC_ALIGN_UP(tc_qwino_run_scratch(pk), 64)};
  if ((double)n_tiles * 4.0 * (double)pk->oc * 9.0 * (double)pk->c < MIN_PARALLEL_MACS) pool = NULL;
  const size_t block = (size_t)pk->block;
  tc_threadpool_parallel_for(pool, (n_tiles + block - 1) / block, wino_task, &w);
}
