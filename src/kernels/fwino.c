/* fwino.c: the float32 Winograd F(2x2, 3x3) / F(4x4, 3x3) convolution of fwino.h: the filter
 * transform packed as 16 or 36 GEMM B operands, the choice of the block function (the transforms, portable or
 * AVX2, fwino_impl.h), and the driver that cuts the tiles into blocks for the thread pool. The
 * portable block function is instantiated here with 4-float GNU C vectors. */
#include "kernels/fwino.h"

#include <math.h>
#include <string.h>

#include "core/core.h"
#include "kernels/cpu.h"

enum {
  BLOCK_BYTES = 96 * 1024, /* V and M of one block (P x tiles x (c + oc) floats): in L2 */
  MAX_BLOCK = 256,         /* tiles per block at most */
};
/* Below this many multiply-adds (of the GEMMs) a convolution runs on the calling thread. */
#define MIN_PARALLEL_MACS (192.0 * 1024)

int tc_f32_wino_applicable(const tc_conv2d_params *p) {
  return p->k_h == 3 && p->k_w == 3 && p->stride_h == 1 && p->stride_w == 1 &&
         p->dilation_h == 1 && p->dilation_w == 1 && p->filter_c == p->in_c && p->in_c > 0 &&
         p->out_c > 0 && p->out_h > 0 && p->out_w > 0 && p->batch > 0;
}

/* Which F(m x m, 3x3) to use, 0 for none: see fwino.h. Measured with bench_fwino (AVX2, 1
 * thread, docs/kernels.md): F(4x4) beat the direct path from 8 input and output channels on
 * outputs from 8x8 (1.45x at 32x32 8 -> 8, 2.5x at 8x8 64 -> 64), F(2x2) beat F(4x4) below
 * 8x8 (6x6 64 -> 64: 1.6x the direct path, F(4x4) 1.5x; the 4x4 tiles waste outputs and
 * leave the GEMMs few rows). Below 8 channels (a vector) both lost (16x16 4 -> 16: 0.6x). */
int tc_f32_wino_tile(tc_f32_gemm_kernel *kr, const tc_conv2d_params *p) {
  (void)kr;
  if (!tc_f32_wino_applicable(p) || p->in_c < 8 || p->out_c < 8) return 0;
  if (p->out_h >= 8 && p->out_w >= 8) return 4;
  return p->in_c >= 16 && p->out_c >= 16 ? 2 : 0;
}

/* Profile names: the transforms' ISA and the tile (the portable transforms next to a NEON GEMM
 * are NEON code: 4-float vectors). */
static const char *wino_name(tc_f32_gemm_kernel *kr, tc_f32_wino_kernel *wk, int m) {
  const char *isa = strcmp(wk->isa, "ref") || strncmp(kr->name, "neon", 4) ? wk->isa : "neon";
  const int i = m == 4;
  if (!strncmp(isa, "avx512", 6)) return i ? "avx512_wino4x3f" : "avx512_wino2x3f";
  if (!strncmp(isa, "avx2", 4)) return i ? "avx2_wino4x3f" : "avx2_wino2x3f";
  if (!strncmp(isa, "neon", 4)) return i ? "neon_wino4x3f" : "neon_wino2x3f";
  return i ? "ref_wino4x3f" : "ref_wino2x3f";
}

static size_t n_pos(int m) { return (size_t)(m + 2) * (size_t)(m + 2); }

/* Stride of n floats between the planes of U, V and M: whole cache lines (64-byte aligned),
 * an odd number of them, so that the planes an element is spread over (36 for F(4x4)) fall in
 * different L1 sets. A multiple of 4 KiB put every plane of a 64 x 64 layer's U in one set:
 * its transform took 0.8 ms. */
static size_t plane_stride(size_t n) {
  const size_t lines = (n + 15) / 16;
  return (lines | 1) * 16;
}

static size_t plane_floats(tc_f32_gemm_kernel *kr, const tc_conv2d_params *p) {
  return plane_stride(tc_f32_gemm_packed_b_size(kr, p->out_c, p->in_c) / sizeof(float));
}

size_t tc_f32_wino_packed_size(tc_f32_gemm_kernel *kr, int m, const tc_conv2d_params *p) {
  if (!kr) kr = tc_f32_gemm_default_kernel();
  if (!tc_f32_wino_applicable(p) || (m != 2 && m != 4)) return 0;
  return 64 + TC_ALIGN_UP(sizeof(tc_f32_wino_packed), 64) + n_pos(m) * plane_floats(kr, p) * 4;
}

/* Column j of B (n columns, k rows) packed for a kernel nr wide, in the layout of gemm.h
 * (panels of nr columns, the last one nr / 2 wide when its columns fit): B[kk][j] is at
 * *base + kk * *width. */
static void packed_column(size_t nr, size_t n, size_t k, size_t j, size_t *base, size_t *width) {
  const size_t j0 = j / nr * nr, rem = n - j0;
  *width = rem >= nr ? nr : (rem <= nr / 2 ? nr / 2 : nr);
  *base = j0 * k + (j - j0);
}

/* G of F(2x2, 3x3) and F(4x4, 3x3) (rows: the transformed positions, columns: the taps). */
static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
static const double G4[6][3] = {{1.0 / 4, 0, 0},
                                {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                {0, 0, 1}};

/* U = G g G^T, U[i][j] to u[(alpha i + j) * plane]; inlined per tile so that alpha and G are
 * constants (the zeros of G fold away). */
static inline __attribute__((always_inline)) void filter_transform(const double (*G)[3],
                                                                   const size_t alpha,
                                                                   const double g[3][3],
                                                                   float *u, size_t plane) {
  double t[6][3];
  for (size_t i = 0; i < alpha; i++) /* t = G g */
    for (int b = 0; b < 3; b++) t[i][b] = G[i][0] * g[0][b] + G[i][1] * g[1][b] + G[i][2] * g[2][b];
  for (size_t i = 0; i < alpha; i++)
    for (size_t j = 0; j < alpha; j++)
      u[(alpha * i + j) * plane] = (float)(t[i][0] * G[j][0] + t[i][1] * G[j][1] + t[i][2] * G[j][2]);
}

const tc_f32_wino_packed *tc_f32_wino_pack(tc_f32_gemm_kernel *kr, tc_f32_wino_kernel *wk, int m,
                                           const tc_conv2d_params *p, const float *filter,
                                           void *buf) {
  if (!kr) kr = tc_f32_gemm_default_kernel();
  if (!wk) wk = &tc_f32_wino__ref;
  if (!buf || !filter || !tc_f32_wino_applicable(p) || (m != 2 && m != 4)) return NULL;
  const size_t C = (size_t)p->in_c, OC = (size_t)p->out_c, alpha = (size_t)m + 2;
  const size_t P = alpha * alpha;
  for (size_t e = 0; e < OC * 9 * C; e++)
    if (!isfinite(filter[e])) return NULL;
  char *mem = (char *)TC_ALIGN_UP((uintptr_t)buf, 64);
  tc_f32_wino_packed *pk = (tc_f32_wino_packed *)mem;
  float *u = (float *)(mem + TC_ALIGN_UP(sizeof(tc_f32_wino_packed), 64));
  const size_t plane = plane_floats(kr, p), nr = (size_t)kr->nr;
  memset(u, 0, P * plane * sizeof(float));
  /* input channel outermost: consecutive output channels write consecutive floats of each
   * plane's packed row c (output channel outermost missed the cache on every write) */
  for (size_t c = 0; c < C; c++) {
    for (size_t o = 0; o < OC; o++) {
      size_t base, width;
      packed_column(nr, OC, C, o, &base, &width);
      double g[3][3];
      for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) g[a][b] = filter[(o * 9 + (size_t)(3 * a + b)) * C + c];
      if (m == 4)
        filter_transform(G4, 6, g, u + base + c * width, plane);
      else
        filter_transform(G2, 4, g, u + base + c * width, plane);
    }
  }
  /* Tiles per block: V and M within BLOCK_BYTES, a multiple of the register tile height the
   * kernel uses for oc columns, and no more than the convolution has. */
  const size_t mr = kr->run_seg && kr->mr_narrow > kr->mr && OC <= nr / 2 ? (size_t)kr->mr_narrow
                                                                         : (size_t)kr->mr;
  const size_t n_tiles = (size_t)p->batch * (((size_t)p->out_h + (size_t)m - 1) / (size_t)m) *
                         (((size_t)p->out_w + (size_t)m - 1) / (size_t)m);
  size_t block = BLOCK_BYTES / (P * (C + OC) * sizeof(float)) / mr * mr;
  if (block < mr) block = mr;
  if (block > MAX_BLOCK) block = MAX_BLOCK / mr * mr;
  if (block > n_tiles) block = n_tiles;
  pk->kr = kr;
  pk->run_block = wk->run_block;
  pk->name = wino_name(kr, wk, m);
  pk->m = m;
  pk->c = (int32_t)C;
  pk->oc = (int32_t)OC;
  pk->block = (int32_t)block;
  pk->plane = plane;
  pk->u = u;
  return pk;
}

/* Per-thread scratch (fwino_impl.h): V (P planes of block x c), M (P planes of block x oc), a
 * row of oc floats where the outputs of a tile past the image's edge go, a patch of P pixels
 * (edge tiles), and P x 8 floats (channel counts below the vector). All in floats; multiples
 * of 16 keep every part 64-byte aligned. */
static size_t v_plane(const tc_f32_wino_packed *pk) {
  return plane_stride((size_t)pk->block * (size_t)pk->c);
}
static size_t m_plane(const tc_f32_wino_packed *pk) {
  return plane_stride((size_t)pk->block * (size_t)pk->oc);
}
static size_t sink_floats(const tc_f32_wino_packed *pk) {
  return TC_ALIGN_UP((size_t)pk->oc, 16);
}
static size_t thread_floats(const tc_f32_wino_packed *pk) {
  const size_t P = n_pos(pk->m);
  return P * (v_plane(pk) + m_plane(pk)) + sink_floats(pk) +
         TC_ALIGN_UP(P * (size_t)pk->c, 16) + P * 16; /* (P vectors of the widest FW_VEC) */
}
/* Zeros: a patch row of the input outside the image, and the bias when there is none. */
static size_t zero_floats(const tc_f32_wino_packed *pk) {
  const size_t row = (size_t)(pk->m + 2) * (size_t)pk->c;
  return TC_ALIGN_UP(row > (size_t)pk->oc ? row : (size_t)pk->oc, 16);
}

size_t tc_f32_wino_scratch_size(const tc_f32_wino_packed *pk, int n_threads) {
  if (!pk) return 0;
  if (n_threads < 1) n_threads = 1;
  return 64 + (zero_floats(pk) + (size_t)n_threads * thread_floats(pk)) * sizeof(float);
}

/* The portable block function: the template with 4-float vectors. */
#define FW_VEC 4
#define FW_BLOCK_FN tc__f32_wino_block_ref
#include "kernels/fwino_impl.h"

tc_f32_wino_kernel tc_f32_wino__ref = {"ref", tc__f32_wino_block_ref};

static void wino_task(void *ctx, size_t task, int thread) {
  const tc__f32_wino_job *job = ctx;
  const size_t t0 = task * job->block, t1 = TC_MIN(job->n_tiles, t0 + job->block);
  job->pk->run_block(job, t0, t1, job->scratch + (size_t)thread * job->thread_floats);
}

void tc_f32_wino_conv2d(const tc_f32_wino_packed *pk, tc_threadpool *pool,
                        const tc_conv2d_params *p, const float *in, const float *bias,
                        float *out, void *scratch) {
  if (!pk) return;
  const size_t m = (size_t)pk->m;
  const size_t th = ((size_t)p->out_h + m - 1) / m, tw = ((size_t)p->out_w + m - 1) / m;
  const size_t n_tiles = (size_t)p->batch * th * tw;
  float *zero = (float *)TC_ALIGN_UP((uintptr_t)scratch, 64);
  memset(zero, 0, zero_floats(pk) * sizeof(float));
  tc__f32_wino_job job = {pk, p, in, bias ? bias : zero, zero, out, th, tw, n_tiles,
                          (size_t)pk->block, v_plane(pk), m_plane(pk), sink_floats(pk),
                          thread_floats(pk), zero + zero_floats(pk)};
  if ((double)n_tiles * (double)n_pos(pk->m) * pk->c * pk->oc < MIN_PARALLEL_MACS) pool = NULL;
  /* With several threads, smaller blocks (whole register tiles) until there are about 4 per
   * thread; a tile's arithmetic does not depend on its block. */
  const size_t n_threads = (size_t)tc_threadpool_n_threads(pool);
  if (n_threads > 1) {
    const size_t mr = (size_t)pk->kr->mr, target = 4 * n_threads;
    const size_t want = ((n_tiles + target - 1) / target + mr - 1) / mr * mr;
    if (want < job.block) job.block = want;
  }
  tc_threadpool_parallel_for(pool, (n_tiles + job.block - 1) / job.block, wino_task, &job);
}
