/* bench_dw_shapes.c: kernel-level timing of DEPTHWISE_CONV_2D variants (vec_ops.h slots f32, s8
 * and u8) on the layer shapes of the issue-4 models (person_detect, vww_96, kws, MobileNet V1
 * and V2), one thread, no interpreter around them, each with the variant the op runs (the
 * dispatched one, or its narrow variant for few channels). Each entry is the median of `runs` timed calls (wall
 * clock) and the GOP/s of 2 * multiply-adds. Never run as a test.
 *
 *   cmake --build B --target bench_dw_shapes && B/bench_dw_shapes [runs (default 200)] [filter]
 * `filter` keeps the shapes whose name contains it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/ref/qmath.h"
#include "kernels/select.h"
#include "kernels/vec_ops.h"
#include "bench_clock.h"

typedef struct shape {
  const char *name;
  int32_t h, w, c, m, k, s; /* input h x w x c, multiplier, k x k filter, stride (SAME) */
} shape;

static const shape shapes[] = {
    {"pd/vww op0 96x96x1 m8 s2", 96, 96, 1, 8, 3, 2},
    {"pd/vww op1 48x48x8 s1", 48, 48, 8, 1, 3, 1},
    {"pd/vww op3 48x48x16 s2", 48, 48, 16, 1, 3, 2},
    {"pd/vww op5 24x24x32 s1", 24, 24, 32, 1, 3, 1},
    {"pd/vww op7 24x24x32 s2", 24, 24, 32, 1, 3, 2},
    {"pd/vww op9 12x12x64 s1", 12, 12, 64, 1, 3, 1},
    {"pd/vww op11 12x12x64 s2", 12, 12, 64, 1, 3, 2},
    {"pd/vww op13 6x6x128 s1", 6, 6, 128, 1, 3, 1},
    {"pd/vww op23 6x6x128 s2", 6, 6, 128, 1, 3, 2},
    {"pd/vww op25 3x3x256 s1", 3, 3, 256, 1, 3, 1},
    {"kws 25x5x64 s1", 25, 5, 64, 1, 3, 1},
    {"mnv2 op1 112x112x32 s1", 112, 112, 32, 1, 3, 1},
    {"mnv2 op4 112x112x96 s2", 112, 112, 96, 1, 3, 2},
    {"mnv2 op7 56x56x144 s1", 56, 56, 144, 1, 3, 1},
    {"mnv2 op22 28x28x192 s2", 28, 28, 192, 1, 3, 2},
    {"mnv2 op25 14x14x384 s1", 14, 14, 384, 1, 3, 1},
    {"mnv2 op59 7x7x960 s1", 7, 7, 960, 1, 3, 1},
    {"5x5 28x28x64 s1", 28, 28, 64, 1, 5, 1},
    {"mnv1 op1 112x112x8 s1", 112, 112, 8, 1, 3, 1},
    {"mnv1 op3 112x112x16 s2", 112, 112, 16, 1, 3, 2},
    {"mnv1 op5 56x56x32 s1", 56, 56, 32, 1, 3, 1},
    {"mnv1 op7 56x56x32 s2", 56, 56, 32, 1, 3, 2},
    {"mnv1 op9 28x28x64 s1", 28, 28, 64, 1, 3, 1},
    {"mnv1 op11 28x28x64 s2", 28, 28, 64, 1, 3, 2},
    {"mnv1 op13 14x14x128 s1", 14, 14, 128, 1, 3, 1},
    {"mnv1 op23 14x14x128 s2", 14, 14, 128, 1, 3, 2},
    {"mnv1 op25 7x7x256 s1", 7, 7, 256, 1, 3, 1},
};


static void *abuf(size_t n) { return aligned_alloc(64, (n + 63) / 64 * 64); }

static void geometry(const shape *sh, tc_dwconv2d_params *p) {
  memset(p, 0, sizeof *p);
  p->batch = 1;
  p->in_h = sh->h, p->in_w = sh->w, p->in_c = sh->c, p->depth_multiplier = sh->m;
  p->k_h = p->k_w = sh->k;
  p->stride_h = p->stride_w = sh->s;
  p->dilation_h = p->dilation_w = 1;
  p->out_h = (sh->h + sh->s - 1) / sh->s;
  p->out_w = (sh->w + sh->s - 1) / sh->s;
  int32_t ph = (p->out_h - 1) * sh->s + sh->k - sh->h, pw = (p->out_w - 1) * sh->s + sh->k - sh->w;
  p->pad_top = ph > 0 ? ph / 2 : 0;
  p->pad_left = pw > 0 ? pw / 2 : 0;
  p->act_min = 0.0f, p->act_max = 6.0f;
}

int main(int argc, char **argv) {
  int runs = argc > 1 ? atoi(argv[1]) : 200;
  const char *filter = argc > 2 ? argv[2] : NULL;
  if (runs < 1) runs = 1;
  const tc_kernel_table *kt = tc_kernels();
  double *t = malloc(sizeof(double) * (size_t)runs);
  printf("%-28s %10s %8s %10s %8s %10s %8s\n", "shape (1 thread, median)", "f32 us", "GFLOP/s",
         "s8 us", "GOP/s", "u8 us", "GOP/s");
  for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++) {
    const shape *sh = &shapes[si];
    if (filter && !strstr(sh->name, filter)) continue;
    tc_dwconv2d_params p;
    geometry(sh, &p);
    const int32_t oc = p.in_c * p.depth_multiplier;
    const size_t n_in = (size_t)p.in_h * p.in_w * p.in_c, n_out = (size_t)p.out_h * p.out_w * oc;
    const size_t n_w = (size_t)p.k_h * p.k_w * oc;
    const double ops = 2.0 * (double)n_out * p.k_h * p.k_w;
    /* 64-byte aligned, as the interpreter's arena (unaligned rows split most zmm loads) */
    float *fi = abuf(n_in * 4), *fw = malloc(n_w * 4), *fb = malloc((size_t)oc * 4),
          *fo = abuf(n_out * 4);
    uint8_t *qi = abuf(n_in), *qw = malloc(n_w), *qo = abuf(n_out);
    int32_t *qb = malloc((size_t)oc * 4), *mult = malloc((size_t)oc * 4),
            *shift = malloc((size_t)oc * 4);
    uint32_t s = 7;
    for (size_t i = 0; i < n_in; i++)
      s = s * 1103515245u + 12345u, qi[i] = (uint8_t)(s >> 16),
      fi[i] = (float)(s >> 16 & 255) / 128.0f - 1.0f;
    for (size_t i = 0; i < n_w; i++)
      s = s * 1103515245u + 12345u, qw[i] = (uint8_t)(s >> 16),
      fw[i] = (float)(s >> 16 & 255) / 256.0f - 0.5f;
    for (int32_t i = 0; i < oc; i++) {
      s = s * 1103515245u + 12345u;
      qb[i] = (int32_t)(s >> 16) - 32768, fb[i] = 0.1f;
      tc_q_quantize_multiplier(0.0002 + 0.0001 * (i % 7), &mult[i], &shift[i]);
    }
    const tc_f32_dwconv_ukernel *kf = kt->f32_dwconv;
    while (kf->narrow && oc <= kf->narrow_c) kf = kf->narrow;
    double res[3];
    for (int v = 0; v < 3; v++) {
      tc_q_requant q = {
          -3, v == 2 ? -120 : 0, 5, mult, shift, v == 2 ? 0 : -128, v == 2 ? 255 : 127};
      const tc_q8_dwconv_ukernel *kq = v == 1 ? kt->s8_dwconv : kt->u8_dwconv;
      while (kq->narrow && oc <= kq->narrow_c) kq = kq->narrow;
      void *packed = NULL;
      if (v > 0) {
        size_t size = kq->packed_size(&p);
        if (size) {
          packed = aligned_alloc(64, (size + 63) / 64 * 64);
          kq->pack(&p, &q, qw, qb, packed);
        }
      }
      for (int r = 0; r < runs + 3; r++) {
        double t0 = bench_now();
        if (v == 0) kf->run(&p, fi, fw, fb, fo, 0, p.out_h);
        else kq->run(&p, &q, qi, qw, qb, packed, qo, 0, p.out_h);
        if (r >= 3) t[r - 3] = bench_now() - t0;
      }
      qsort(t, (size_t)runs, sizeof *t, bench_cmp_d);
      res[v] = t[runs / 2];
      free(packed);
    }
    printf("%-28s %10.2f %8.2f %10.2f %8.2f %10.2f %8.2f\n", sh->name, res[0] * 1e6,
           ops / res[0] * 1e-9, res[1] * 1e6, ops / res[1] * 1e-9, res[2] * 1e6,
           ops / res[2] * 1e-9);
    free(fi), free(fw), free(fb), free(fo), free(qi), free(qw), free(qo), free(qb), free(mult),
        free(shift);
  }
  free(t);
  return 0;
}
